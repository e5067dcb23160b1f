// Hostile input in the normal suite (issue 6 §3–4): the fuzz targets' bodies (fuzz/fuzz_targets.hpp)
// run over every input the fuzzers ever failed on (tests/regressions/<target>/) and over the seed
// corpus (the vendored tests/data/corpus, examples/); every corpus file and example snapshot, truncated at ten
// points and with bytes flipped, is either loaded and scanned or rejected with an InputError naming
// the file; 100 000-deep nesting fails fast. Each target throws on anything else, which fails the
// case (a crash fails the whole binary).
#include <doctest/doctest.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <tenantscan/errors.hpp>
#include <tenantscan/json_input.hpp>
#include <tenantscan/snapshot_loader.hpp>
#include <tenantscan/detail/text.hpp>

#include "fuzz_targets.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using tenantscan::fuzz::Verdict;

namespace {

using Target = std::function<Verdict(std::string_view bytes, const std::string& name)>;

// Every target, by the name of its folder under tests/regressions/ and of its fuzz_* executable.
const std::map<std::string, Target>& targets() {
    static const std::map<std::string, Target> all = {
        {"snapshot", [](std::string_view b, const std::string& n) { return tenantscan::fuzz::snapshot_target(b, n); }},
        {"ca_decoders",
         [](std::string_view b, const std::string& n) { return tenantscan::fuzz::ca_decoders_target(b, n); }},
        {"device_filter", [](std::string_view b, const std::string&) { return tenantscan::fuzz::device_filter_target(b); }},
        {"cidr", [](std::string_view b, const std::string&) { return tenantscan::fuzz::cidr_target(b); }},
    };
    return all;
}

struct InputFile {
    std::string name;   // relative to its root, for messages
    std::string bytes;
};

std::vector<InputFile> files_under(const fs::path& root, bool jsonOnly) {
    std::vector<InputFile> files;
    if (!fs::is_directory(root)) return files;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
        if (!entry.is_regular_file()) continue;
        std::string extension = tenantscan::to_lower(entry.path().extension().string());
        if (jsonOnly && extension != ".json") continue;
        if (!jsonOnly && entry.path().filename() == "README.md") continue;
        files.push_back({fs::relative(entry.path(), root).generic_string(), testsupport::read_file(entry.path().string())});
    }
    std::sort(files.begin(), files.end(), [](const InputFile& a, const InputFile& b) { return a.name < b.name; });
    return files;
}

// The vendored corpus's .json files (tests/data/README.md): counted, so that no case passes by reading nothing.
const std::vector<InputFile>& corpus_files() {
    static const std::vector<InputFile> files = files_under(testsupport::corpus_dir(), true);
    REQUIRE_MESSAGE(files.size() == 50, "expected the 50 .json files of " << testsupport::corpus_dir() << ", read " << files.size());
    return files;
}

const std::vector<InputFile>& example_snapshots() {
    static const std::vector<InputFile> files = [] {
        std::vector<InputFile> found;
        for (const char* name : {"contoso-ready", "fabrikam-broken", "northwind-defaults"}) {
            found.push_back({std::string("examples/") + name + "/snapshot.json",
                             testsupport::read_file(testsupport::example_snapshot(name))});
        }
        return found;
    }();
    return files;
}

// Strings held under `key` (any casing) anywhere in a document the loader can parse.
void collect_strings(const nlohmann::json& value, std::string_view key, std::set<std::string>& out) {
    if (value.is_object()) {
        for (const auto& member : value.items()) {
            if (tenantscan::iequals(member.key(), key) && member.value().is_string()) out.insert(member.value().get<std::string>());
            collect_strings(member.value(), key, out);
        }
    } else if (value.is_array()) {
        for (const auto& element : value) collect_strings(element, key, out);
    }
}

// splitmix64: a fixed, portable sequence, so every run flips the same bytes.
struct Random {
    std::uint64_t state;
    std::uint64_t next() {
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
};

std::uint64_t fnv1a(const std::string& text) {
    std::uint64_t hash = 0xCBF29CE484222325ULL;
    for (char c : text) hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001B3ULL;
    return hash;
}

// The ten truncation points of a file: 0 (empty) to 90% of its length in tenths, each moved by a
// few bytes so that UTF-16 files are cut at odd and even offsets alike.
std::vector<std::size_t> truncation_points(const InputFile& file) {
    std::vector<std::size_t> points;
    if (file.bytes.empty()) return points;
    Random random{fnv1a(file.name)};
    for (std::size_t k = 0; k < 10; ++k) {
        std::size_t point = file.bytes.size() * k / 10 + static_cast<std::size_t>(random.next() % 3);
        points.push_back(std::min(point, file.bytes.size() - 1));
    }
    return points;
}

// `variant` of the file with 1-4 bits flipped, at positions drawn from a seed made of the file
// name and the variant number. Variants 0-2 flip one of the low seven bits (ASCII stays ASCII, so
// most flips change a name, a value, a digit or a bracket and the document often still parses);
// variant 3 flips any bit (a high bit in UTF-8 or UTF-16 text is mostly an encoding error).
std::string flipped(const InputFile& file, int variant) {
    std::string bytes = file.bytes;
    if (bytes.empty()) return bytes;
    Random random{fnv1a(file.name) ^ static_cast<std::uint64_t>(variant + 1) * 0x2545F4914F6CDD1DULL};
    const int flips = 1 + static_cast<int>(random.next() % 4);
    const unsigned bits = variant == 3 ? 8 : 7;
    for (int i = 0; i < flips; ++i) {
        std::size_t at = random.next() % bytes.size();
        bytes[at] = static_cast<char>(static_cast<unsigned char>(bytes[at]) ^ (1u << (random.next() % bits)));
    }
    return bytes;
}

struct Tally {
    int accepted = 0;
    int rejected = 0;
};

// Runs a target; anything but a verdict (a ContractViolation, another exception) fails the check.
void run(const std::string& target, std::string_view bytes, const std::string& name, Tally& tally) {
    CAPTURE(target);
    CAPTURE(name);
    Verdict verdict = Verdict::Rejected;
    CHECK_NOTHROW(verdict = targets().at(target)(bytes, name));
    (verdict == Verdict::Accepted ? tally.accepted : tally.rejected)++;
}

long peak_rss_kib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

}  // namespace

TEST_CASE("hostile input: every input a fuzzer failed on runs clean through its target") {
    const fs::path root = fs::path(testsupport::source_dir()) / "tests" / "regressions";
    // Where the fix is a verdict, not only the absence of a crash (undefined behaviour inside
    // libstdc++ shows only under a sanitizer): the verdict each such input must get.
    const std::map<std::string, Verdict> expected = {
        {"device_filter/regex-repeat-count-overflows-libstdcxx", Verdict::Rejected},
        {"device_filter/regex-backreference-number-overflows-libstdcxx", Verdict::Rejected},
        {"device_filter/to-string-value-ending-in-backslash", Verdict::Accepted},
        {"device_filter/to-string-value-ending-in-backtick", Verdict::Accepted},
        {"device_filter/regex-match-backtracking-timeout", Verdict::Rejected},
    };
    int files = 0, checked = 0;
    for (const auto& [target, body] : targets()) {
        Tally tally;
        for (const InputFile& file : files_under(root / target, false)) {
            run(target, file.bytes, file.name, tally);
            ++files;
            if (auto it = expected.find(target + "/" + file.name); it != expected.end()) {
                CAPTURE(it->first);
                CHECK(body(file.bytes, file.name) == it->second);
                ++checked;
            }
        }
        MESSAGE(target << ": " << tally.accepted << " accepted, " << tally.rejected << " rejected");
    }
    CHECK(checked == static_cast<int>(expected.size()));
    // Every folder holds what its fuzzer found (tests/regressions/README.md lists each input).
    CHECK(files >= 1);
}

TEST_CASE("hostile input: the seed corpus runs clean through every target") {
    Tally snapshots;
    for (const InputFile& example : example_snapshots()) run("snapshot", example.bytes, example.name, snapshots);
    CHECK(snapshots.accepted == 3);  // the examples load and scan

    Tally corpusSnapshots, decoded, rules, ranges;
    std::set<std::string> ruleTexts, cidrTexts;
    for (const InputFile& file : corpus_files()) {
        run("snapshot", file.bytes, file.name, corpusSnapshots);
        run("ca_decoders", file.bytes, file.name, decoded);
        try {
            nlohmann::json document = tenantscan::parse_json_text(file.bytes, file.name);
            collect_strings(document, "rule", ruleTexts);
            collect_strings(document, "cidrAddress", cidrTexts);
        } catch (const tenantscan::InputError&) {
            // the corpus's invalid files: rejected above
        }
    }
    for (const std::string& rule : ruleTexts) run("device_filter", rule, rule, rules);
    for (const std::string& cidr : cidrTexts) run("cidr", cidr, cidr, ranges);
    // Corpus files are policies and locations, not snapshots (no snapshotVersion): all rejected.
    CHECK(corpusSnapshots.accepted == 0);
    CHECK(corpusSnapshots.rejected == static_cast<int>(corpus_files().size()));
    // Every file that is valid JSON holds policies or locations; 2 of the .json files are invalid
    // (tests/data/corpus/*/PROVENANCE.md), the PowerShell templates are .txt.
    CHECK(decoded.accepted >= static_cast<int>(corpus_files().size()) - 6 - 2);
    CHECK(rules.accepted >= 5);     // 7 distinct device filter rules in the vendored corpus
    CHECK(ranges.accepted >= 80);   // 85 distinct CIDR ranges, one of them redacted
    CHECK(ranges.rejected >= 1);  // the redacted "xx.xx.xxx.xx/32"
}

TEST_CASE("hostile input: truncated corpus files and snapshots are scanned or rejected naming the file") {
    Tally snapshots, decoded;
    auto each = [&](const InputFile& file, bool snapshot) {
        for (std::size_t point : truncation_points(file)) {
            const std::string name = file.name + "#truncated-at-" + std::to_string(point);
            const std::string_view bytes(file.bytes.data(), point);
            run("snapshot", bytes, name, snapshots);
            if (!snapshot) run("ca_decoders", bytes, name, decoded);
        }
    };
    for (const InputFile& example : example_snapshots()) each(example, true);
    for (const InputFile& file : corpus_files()) each(file, false);
    // A JSON document cut short never parses: every truncation is rejected.
    CHECK(snapshots.accepted == 0);
    CHECK(snapshots.rejected == 10 * static_cast<int>(example_snapshots().size() + corpus_files().size()));
}

TEST_CASE("hostile input: corpus files and snapshots with flipped bytes are scanned or rejected naming the file") {
    Tally snapshots, decoded;
    for (int variant = 0; variant < 4; ++variant) {
        for (const InputFile& example : example_snapshots()) {
            run("snapshot", flipped(example, variant), example.name + "#flipped-" + std::to_string(variant), snapshots);
        }
        for (const InputFile& file : corpus_files()) {
            const std::string bytes = flipped(file, variant);
            const std::string name = file.name + "#flipped-" + std::to_string(variant);
            run("snapshot", bytes, name, snapshots);
            run("ca_decoders", bytes, name, decoded);
        }
    }
    MESSAGE("snapshots: " << snapshots.accepted << " scanned, " << snapshots.rejected << " rejected; policy files: "
                          << decoded.accepted << " decoded and evaluated, " << decoded.rejected << " rejected");
    // Most flips land inside strings and keep the document valid: both outcomes occur.
    CHECK(snapshots.accepted > 0);
    CHECK(decoded.accepted > 0);
    CHECK(decoded.rejected > 0);
}

TEST_CASE("hostile input: 100 000-deep nesting fails fast with a clear error and bounded memory") {
    const long before = peak_rss_kib();
    const auto start = std::chrono::steady_clock::now();
    const std::string arrays = std::string(100000, '[') + std::string(100000, ']');
    std::string objects;
    for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
    objects += "1" + std::string(100000, '}');
    // Inside a snapshot, where a policy's conditions would be.
    const std::string inSnapshot = "{\"snapshotVersion\":1,\"graph\":{\"conditionalAccessPolicies\":[" + objects + "]}}";
    for (const std::string& text : {arrays, objects, inSnapshot}) {
        for (const auto& [target, body] : targets()) {
            Tally tally;
            run(target, text, "deep.json", tally);
            CHECK(tally.rejected == 1);
        }
        try {
            tenantscan::load_snapshot_from_memory(text, "deep.json");
            FAIL("a 100 000-deep document loaded");
        } catch (const tenantscan::InputError& error) {
            CHECK(std::string(error.what()).find("deep.json: line 1, column ") == 0);
            CHECK(std::string(error.what()).find("nested more than 256 levels deep") != std::string::npos);
        }
    }
    // Device filter rules nest through parentheses and -not.
    std::string notChain;
    for (int i = 0; i < 100000; ++i) notChain += "-not ";
    for (const std::string& rule : {std::string(100000, '(') + "device.trustType -eq \"x\"" + std::string(100000, ')'),
                                    notChain + "device.trustType -eq \"x\""}) {
        Tally tally;
        run("device_filter", rule, "rule", tally);
        CHECK(tally.rejected == 1);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    MESSAGE("deep nesting rejected in " << seconds << " s; peak RSS grew by " << (peak_rss_kib() - before) << " KiB");
    // Rejected before anything is built: the peak grows by the inputs (~2 MB) at most, not by a tree.
    CHECK(peak_rss_kib() - before < 64 * 1024);
}

TEST_CASE("hostile input: the CLI exits 2 naming the file for a truncated snapshot and for deep nesting") {
    testsupport::TempDir dir;
    const std::string truncated = dir.file("truncated.json");
    const std::string& example = example_snapshots().front().bytes;
    testsupport::write_file(truncated, example.substr(0, example.size() / 2));
    const std::string deep = dir.file("deep.json");
    testsupport::write_file(deep, std::string(100000, '[') + std::string(100000, ']'));
    for (const std::string& path : {truncated, deep}) {
        CAPTURE(path);
        auto result = testsupport::run_cli({"scan", path, "--no-config"});
        CHECK(result.exitCode == 2);
        CHECK(result.err.find(path + ": line ") != std::string::npos);
    }
}
