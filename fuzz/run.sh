#!/bin/sh
# Runs one fuzz target for a while, in one process, on its seed corpus (docs/fuzzing.md).
#   fuzz/run.sh TARGET [SECONDS] [BUILD_DIR] [-- extra libFuzzer flags]
# TARGET: snapshot | ca_decoders | device_filter | cidr. SECONDS defaults to 900, BUILD_DIR to
# build-fuzz. Seeds come from BUILD_DIR/fuzz-corpus/TARGET (made by fuzz/seed-corpus.py when
# missing); what libFuzzer finds goes to BUILD_DIR/findings/TARGET/, its log to
# BUILD_DIR/findings/TARGET.log.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
target=${1:?usage: fuzz/run.sh TARGET [SECONDS] [BUILD_DIR] [-- libFuzzer flags]}
seconds=${2:-900}
build=${3:-$here/../build-fuzz}
[ $# -ge 3 ] && shift 3 || shift $#
[ "${1:-}" = "--" ] && shift
case $target in
  snapshot|ca_decoders) dict="-dict=$here/json.dict"; maxlen=65536 ;;
  device_filter) dict="-dict=$here/device_filter.dict"; maxlen=4096 ;;
  cidr) dict=""; maxlen=256 ;;
  *) echo "fuzz/run.sh: unknown target '$target' (snapshot, ca_decoders, device_filter, cidr)" >&2; exit 2 ;;
esac
binary=$build/fuzz/fuzz_$target
[ -x "$binary" ] || { echo "fuzz/run.sh: $binary not built (cmake --build $build --target fuzz)" >&2; exit 2; }
[ -d "$build/fuzz-corpus/$target" ] || /usr/bin/python3 "$here/seed-corpus.py" "$build/fuzz-corpus"
mkdir -p "$build/findings/$target"
log=$build/findings/$target.log
echo "fuzz/run.sh: fuzz_$target for $seconds s; log in $log"
status=0
# shellcheck disable=SC2086  # $dict is one flag or none
"$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=$maxlen -print_final_stats=1 \
  $dict -artifact_prefix="$build/findings/$target/" "$@" "$build/fuzz-corpus/$target" >"$log" 2>&1 || status=$?
grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::|==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)' "$log" || true
exit $status
