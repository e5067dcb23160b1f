#!/bin/sh
# Builds what the scale benchmark needs in BUILD_DIR (Release) and prints the table (docs/performance.md).
#   bench/scan_benchmark.sh [BUILD_DIR] [scan_benchmark options: --sizes S,M,L --runs 3 --seed 1 --work DIR]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$here/build-bench"}
[ $# -gt 0 ] && shift
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target tenantscan_cli generate_tenant scan_benchmark -j"$(nproc)"
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo)"
echo "# commit: $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
exec "$build/bench/scan_benchmark" --tenantscan "$build/cli/tenantscan" --generator "$build/bench/generate_tenant" \
    --work "$build/bench-work" "$@"
