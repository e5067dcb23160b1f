#!/usr/bin/python3
"""Checks a JUnit XML report the way CI servers read it, and prints what it found.

usage: check_junit.py FILE
Parses the file with an XML parser (well-formed or exit 1), checks that every count attribute of
<testsuites> and <testsuite> equals the elements it counts and that every <testcase> has a
classname and a name, then prints one JSON object: the totals and, per test case,
classname/name/outcome/message.
"""
import json
import sys
import xml.etree.ElementTree as ET


def outcome(case):
    for tag in ("failure", "error", "skipped"):
        element = case.find(tag)
        if element is not None:
            return tag, element.get("message", ""), element.get("type", ""), element.text or ""
    return "passed", "", "", ""


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        root = ET.parse(sys.argv[1]).getroot()
    except ET.ParseError as error:
        print(f"not well-formed XML: {error}", file=sys.stderr)
        return 1
    problems = []
    if root.tag != "testsuites":
        problems.append(f"root element is <{root.tag}>, expected <testsuites>")
    cases = []
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in root.findall("testsuite"):
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for case in suite.findall("testcase"):
            if not case.get("classname") or not case.get("name"):
                problems.append(f"testcase without classname or name in suite {suite.get('name')}")
            kind, message, type_, text = outcome(case)
            counts["tests"] += 1
            if kind == "failure":
                counts["failures"] += 1
            elif kind == "error":
                counts["errors"] += 1
            elif kind == "skipped":
                counts["skipped"] += 1
            cases.append({"suite": suite.get("name"), "classname": case.get("classname"), "name": case.get("name"),
                          "outcome": kind, "message": message, "type": type_, "text": text})
        for key, value in counts.items():
            if suite.get(key) != str(value):
                problems.append(f"suite {suite.get('name')}: {key}={suite.get(key)} but counted {value}")
            totals[key] += value
    for key, value in totals.items():
        if root.get(key) != str(value):
            problems.append(f"testsuites: {key}={root.get(key)} but counted {value}")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(json.dumps({"totals": totals, "cases": cases}))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
