#!/bin/sh
# The corpus-full ctest test (tests/CMakeLists.txt): walks the whole real-world corpus with the
# "corpus-full: ..." doctest cases when the folder exists; exits 77, which ctest reports as skipped,
# when it does not. Usage: run_full_corpus.sh CORPUS_DIR TESTS_EXECUTABLE
set -eu
corpus=$1
tests=$2
if [ ! -d "$corpus" ]; then
  echo "corpus-full: skipped: no corpus at $corpus (CI provides it beside the checkout; tests/data/README.md)"
  exit 77
fi
# Never pass by running nothing: the filter must select the four cases.
count=$("$tests" --no-skip "--test-case=corpus-full: *" --count | sed -n 's/.*current filters: *\([0-9][0-9]*\).*/\1/p')
if [ "${count:-0}" -ne 4 ]; then
  echo "corpus-full: expected 4 \"corpus-full: ...\" test cases, found ${count:-none}"
  exit 1
fi
exec "$tests" --no-skip "--test-case=corpus-full: *"
