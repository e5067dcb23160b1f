#!/usr/bin/python3
"""Validates a SARIF file against the official SARIF 2.1.0 JSON schema.

usage: validate_sarif.py SCHEMA SARIF
Exit 0 when valid; 1 with every violation (path and message) on stderr otherwise; 2 on usage errors.
Run with Debian's /usr/bin/python3 (python3-jsonschema).
"""
import json
import sys

import jsonschema


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        document = json.load(f)
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    for error in errors:
        path = "/".join(str(p) for p in error.absolute_path)
        print(f"/{path}: {error.message}", file=sys.stderr)
    if errors:
        print(f"{len(errors)} schema violation(s)", file=sys.stderr)
        return 1
    print("valid SARIF 2.1.0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
