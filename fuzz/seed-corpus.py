#!/usr/bin/python3
"""Assembles the fuzz targets' seed corpora from the real-world corpus and examples/ into a build dir.

    fuzz/seed-corpus.py [OUT_DIR]        (default: build-fuzz/fuzz-corpus)

Writes OUT_DIR/<target>/<sha1> files for the targets snapshot, ca_decoders, device_filter and cidr
(see docs/fuzzing.md). The corpus is the whole one beside the checkout (../shared/corpus) when it
exists, else the curated part vendored in tests/data/corpus, which every clone has. Nothing is written
into the source tree. Deterministic: the same inputs give the same files.
"""
import codecs
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
FULL_CORPUS = os.path.normpath(os.path.join(SOURCE, "..", "shared", "corpus"))
VENDORED_CORPUS = os.path.join(SOURCE, "tests", "data", "corpus")
CORPUS = FULL_CORPUS if os.path.isdir(FULL_CORPUS) else VENDORED_CORPUS
EXAMPLES = os.path.join(SOURCE, "examples")

# Seeds beyond this size slow libFuzzer down (every mutation re-parses the whole input) and
# libFuzzer would truncate them at -max_len anyway; bigger lists are cut to their first elements.
MAX_SEED = 64 * 1024

# Rules and ranges written by hand beside what the files hold: every operator, quoting style,
# nesting and address form the parsers know.
DEVICE_FILTER_SEEDS = [
    'device.trustType -eq "ServerAD"',
    'device.trustType -ne "AzureAD" -and device.isCompliant -eq True',
    '-not (device.operatingSystem -startsWith "Win" -or device.model -endsWith \'X\')',
    'device.displayName -contains "MFP" -and device.deviceId -in ["a", "b", \'c\']',
    'device.extensionAttribute1 -notIn ["printer"] -or device.model -notContains "scan"',
    'device.displayName -match "^mfp-[0-9]+$" -and device.model -notMatch "(a|b)*c"',
    'device.trustType -notStartsWith \\"Server\\" -and device.mdmAppId -notEndsWith "`"x"',
    '((device.isCompliant -eq False))',
]
CIDR_SEEDS = ["192.0.2.0/24", "10.0.0.1", "0.0.0.0/0", "2001:db8::/32", "::/0", "::1", "::ffff:10.1.2.3/120",
              "fe80::1:2:3:4/64", "1:2:3:4:5:6:7:8/128", "1:2:3:4:5:6:1.2.3.4", "255.255.255.255/32"]


def read_document(path):
    """The file's JSON, or None when it is not valid JSON in a known encoding."""
    with open(path, "rb") as f:
        raw = f.read()
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            break
    else:
        encoding = "utf-8"
    try:
        return json.loads(raw.decode(encoding))
    except (ValueError, UnicodeDecodeError):
        return None


def corpus_files():
    found = []
    for root, dirs, files in os.walk(CORPUS):
        dirs.sort()
        for name in sorted(files):
            if name.lower().endswith(".json"):
                found.append(os.path.join(root, name))
    return found


def elements(document):
    if isinstance(document, list):
        return document
    if isinstance(document, dict) and isinstance(document.get("value"), list):
        return document["value"]
    return [document]


def is_policy(value):
    return isinstance(value, dict) and any(k.lower() in ("conditions", "details") for k in value)


def is_location(value):
    return isinstance(value, dict) and any(k.lower() in ("ipranges", "countriesandregions") for k in value)


def walk(value):
    yield value
    if isinstance(value, dict):
        for member in value.values():
            yield from walk(member)
    elif isinstance(value, list):
        for member in value:
            yield from walk(member)


def harvest(document, rules, ranges):
    """Adds the device filter rules and CIDR ranges found anywhere in the document."""
    for value in walk(document):
        if isinstance(value, dict):
            for key, member in value.items():
                if key.lower() == "rule" and isinstance(member, str):
                    rules.add(member)
                if key.lower() == "cidraddress" and isinstance(member, str):
                    ranges.add(member)


class Writer:
    def __init__(self, out):
        self.out = out
        self.counts = {}

    def add(self, target, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        folder = os.path.join(self.out, target)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, hashlib.sha1(data).hexdigest())
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
            self.counts[target] = self.counts.get(target, 0) + 1


def snapshot_bytes(graph, encoding="utf-8"):
    text = json.dumps({"snapshotVersion": 1, "tenantId": "seed", "graph": graph}, ensure_ascii=False)
    if encoding == "utf-16-le-bom":
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    if encoding == "utf-16-be-bom":
        return codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    if encoding == "utf-8-bom":
        return codecs.BOM_UTF8 + text.encode("utf-8")
    return text.encode("utf-8")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(SOURCE, "build-fuzz", "fuzz-corpus")
    if not os.path.isdir(CORPUS):
        sys.exit(f"seed-corpus: {CORPUS} not found (neither ../shared/corpus nor tests/data/corpus)")
    print(f"seed-corpus: real-world files from {CORPUS}")
    w = Writer(out)
    rules, ranges = set(DEVICE_FILTER_SEEDS), set(CIDR_SEEDS)

    # Snapshots: the examples as written, and re-encoded in every encoding the loader reads.
    for name in sorted(os.listdir(EXAMPLES)):
        path = os.path.join(EXAMPLES, name, "snapshot.json")
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            raw = f.read()
        w.add("snapshot", raw)
        text = raw.decode("utf-8")
        if len(raw) <= MAX_SEED // 2:
            w.add("snapshot", codecs.BOM_UTF8 + raw)
            w.add("snapshot", codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
            w.add("snapshot", codecs.BOM_UTF16_BE + text.encode("utf-16-be"))
            w.add("snapshot", text.encode("utf-16-le"))  # without a BOM
        harvest(json.loads(text), rules, ranges)

    encodings = ["utf-8", "utf-16-le-bom", "utf-8-bom", "utf-16-be-bom"]
    for index, path in enumerate(corpus_files()):
        with open(path, "rb") as f:
            raw = f.read()
        if len(raw) <= MAX_SEED:
            w.add("ca_decoders", raw)  # byte for byte: UTF-16, BOMs, invalid JSON included
        document = read_document(path)
        if document is None:
            continue
        harvest(document, rules, ranges)
        # The policies and locations of the file inside a snapshot, so the snapshot target (and
        # the rules behind it) sees real Conditional Access data; big lists keep their first items.
        items = elements(document)
        policies = [v for v in items if is_policy(v)]
        locations = [v for v in items if is_location(v)]
        graph = {}
        if policies:
            graph["conditionalAccessPolicies"] = [dict(p, state=p.get("state") or "enabled") for p in policies[:8]]
        if locations:
            graph["namedLocations"] = locations[:8]
        if graph:
            w.add("snapshot", snapshot_bytes(graph, encodings[index % len(encodings)]))
            if len(raw) > MAX_SEED:
                w.add("ca_decoders", json.dumps(policies[:8] or locations[:8], ensure_ascii=False))

    for rule in sorted(rules):
        w.add("device_filter", rule)
    for text in sorted(ranges):
        w.add("cidr", text)
    for target in sorted(w.counts):
        print(f"{target}: {w.counts[target]} new seed files in {os.path.join(out, target)}")


if __name__ == "__main__":
    main()
