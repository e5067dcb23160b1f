#!/bin/bash
# The bash completion (cli/packaging/tenantscan.bash) against the built command: subcommands,
# options per subcommand, the listed values of an option, file names where a file is expected.
# Usage: check_completion.sh COMPLETION_SCRIPT CLI_DIR SOURCE_DIR
set -u
. "$1"
PATH=$2:$PATH
cd "$3" || exit 1
failures=0
expect() {  # expected words (space-separated, sorted), then the command line being completed
  local want=$1
  shift
  COMP_WORDS=("$@")
  COMP_CWORD=$(($# - 1))
  _tenantscan
  local got
  got=$(printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')
  if [ "$got" != "$want" ]; then
    echo "completing '$*': got '$got', want '$want'"
    failures=$((failures + 1))
  fi
}
# Subcommands (tenantscan --help lists them); a prefix narrows them.
expect "scan" tenantscan sc
expect "smtp-test" tenantscan sm
expect "--help --version" tenantscan --
# Options of the subcommand being completed, not of another.
expect "--format" tenantscan scan --for
expect "--probe" tenantscan smtp-test --pro
expect "--fail-on --fail-on-review" tenantscan scan --fail
expect "" tenantscan rules --fail
# The values an option lists ({text,json,...} in its help), after a flag too.
expect "html json junit markdown sarif text" tenantscan scan --format ""
expect "json junit" tenantscan scan --quiet --format j
expect "critical high info low medium" tenantscan scan --fail-on ""
# A flag takes no value: options are completed after it.
expect "--save-snapshot" tenantscan scan --live --sa
# Files where a file is expected: the positional snapshot and an option's FILE value.
expect "examples/contoso-ready" tenantscan scan examples/contoso
expect "examples/config" tenantscan scan --config examples/conf
[ "$failures" -eq 0 ] || { echo "$failures completion(s) wrong"; exit 1; }
echo "bash completion: all cases complete as expected"
