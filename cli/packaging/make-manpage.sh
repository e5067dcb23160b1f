#!/bin/sh
# Writes tenantscan(1) from the program's own --help, with help2man: the program's help as the
# synopsis and options, then one COMMANDS subsection per subcommand with that subcommand's --help.
# Usage: make-manpage.sh PROGRAM OUTPUT
set -eu
program=$1
output=$1.1
[ $# -ge 2 ] && output=$2
include=$(mktemp)
trap 'rm -f "$include"' EXIT

# roff: a backslash is written \e; a line that starts with . or ' is protected with \&.
roff_text() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }

{
  echo '[COMMANDS]'
  "$program" --help | sed -n '/^Subcommands:/,/^$/p' | sed -n -E 's/^  ([a-z][a-z0-9-]*).*/\1/p' |
  while read -r command; do
    echo ".SS \"tenantscan $command\""
    echo '.nf'
    "$program" "$command" --help | roff_text
    echo '.fi'
  done
  echo '[FILES]'
  echo '.TP'
  echo '.I tenantscan.json'
  echo 'Configuration read from beside the snapshot (rules, parameters, gate, waivers), unless --config or --no-config.'
  echo '[SEE ALSO]'
  echo 'The documentation in the source repository: README.md and docs/ (snapshot format, collect, rules, reports).'
} > "$include"

help2man --no-info --no-discard-stderr --section 1 \
  --name 'will mail submission keep working when Exchange Online retires Basic SMTP AUTH?' \
  --include "$include" --output "$output" "$program"
