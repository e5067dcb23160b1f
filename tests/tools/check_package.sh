#!/bin/sh
# The Debian packages of `make package`, as a user gets them (issue 14, "Something a user can
# install"): cpack builds them from this build tree; they are unpacked into a temporary root with
# dpkg-deb -x (no root rights, nothing installed on the machine); the unpacked command scans both
# bundled examples with their documented exit codes, its man page and bash completion work, and the
# installed-package consumer (tests/consumer) builds and runs against the unpacked library package.
# Usage: check_package.sh SOURCE_DIR BINARY_DIR WORK_DIR
# Exit 77 (ctest: skipped) only when this is not a Debian system (no dpkg-deb).
set -eu
source_dir=$1 binary_dir=$2 work=$3
command -v dpkg-deb >/dev/null 2>&1 || { echo "check_package: dpkg-deb not found: not a Debian system, skipped"; exit 77; }
fail() { echo "check_package: FAILED: $*" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work/packages" "$work/root"
cpack --config "$binary_dir/CPackConfig.cmake" -B "$work/packages" >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fail "cpack"; }
version=$(sed -n -E 's/^set\(CPACK_PACKAGE_VERSION "([^"]*)"\)/\1/p' "$binary_dir/CPackConfig.cmake")
[ -n "$version" ] || fail "no CPACK_PACKAGE_VERSION in CPackConfig.cmake"

cli=$(ls "$work/packages"/tenantscan_"$version"_*.deb 2>/dev/null) || fail "no tenantscan_${version}_*.deb"
dev=$(ls "$work/packages"/libtenantscan-dev_"$version"_*.deb 2>/dev/null) || fail "no libtenantscan-dev_${version}_*.deb"
echo "check_package: built $(basename "$cli") ($(wc -c <"$cli") bytes), $(basename "$dev") ($(wc -c <"$dev") bytes)"

# Control fields: the command's run-time dependencies come from dpkg-shlibdeps (cpprestsdk, OpenSSL,
# RE2, fmt are shared libraries); the library package names what find_package(tenantscan) needs.
depends=$(dpkg-deb -f "$cli" Depends)
echo "check_package: tenantscan Depends: $depends"
for lib in libcpprest libssl libre2 libc6; do
  echo "$depends" | grep -q "$lib" || fail "tenantscan does not depend on $lib"
done
dpkg-deb -f "$dev" Depends | grep -q nlohmann-json3-dev || fail "libtenantscan-dev does not depend on nlohmann-json3-dev"

dpkg-deb -x "$cli" "$work/root"
dpkg-deb -x "$dev" "$work/root"
usr=$work/root/usr
for f in bin/tenantscan share/man/man1/tenantscan.1.gz share/bash-completion/completions/tenantscan \
         share/tenantscan/devices.json include/tenantscan/scan.hpp; do
  [ -f "$usr/$f" ] || fail "/usr/$f is not in the packages"
done
ls "$usr"/lib/cmake/tenantscan/tenantscanConfig.cmake "$usr"/lib/*/cmake/tenantscan/tenantscanConfig.cmake 2>/dev/null | grep -q . ||
  fail "no tenantscanConfig.cmake in the library package"
# Nothing of the one package in the other: the command's package holds no header or library.
dpkg-deb -c "$cli" | grep -E '\.(a|hpp|cmake)$' && fail "the tenantscan package holds development files"

# The unpacked command: its version, and the demo scans (exit 0: ready tenant; exit 1: broken tenant).
[ "$("$usr/bin/tenantscan" --version)" = "tenantscan $version" ] || fail "--version is not 'tenantscan $version'"
"$usr/bin/tenantscan" scan "$source_dir/examples/contoso-ready/snapshot.json" >"$work/ready.txt" || fail "the ready example did not pass (exit $?)"
rc=0; "$usr/bin/tenantscan" scan "$source_dir/examples/fabrikam-broken/snapshot.json" >"$work/broken.txt" || rc=$?
[ "$rc" -eq 1 ] || fail "the broken example gave exit $rc, not 1"
grep -q "fail" "$work/broken.txt" || fail "the broken example's report names no failure"

# The man page: a COMMANDS section with each subcommand's own help.
gzip -dc "$usr/share/man/man1/tenantscan.1.gz" >"$work/tenantscan.1"
grep -q '^\.SH COMMANDS' "$work/tenantscan.1" || fail "the man page has no COMMANDS section"
grep -q 'tenantscan scan \[OPTIONS\]' "$work/tenantscan.1" || fail "the man page lacks scan's usage"
grep -q -- '--fail-on' "$work/tenantscan.1" || fail "the man page lacks scan's options"

# Bash completion, sourced from the package, completing with the unpacked command.
if command -v bash >/dev/null 2>&1; then
  got=$(PATH="$usr/bin:$PATH" bash -c '. "$1"; COMP_WORDS=(tenantscan sc); COMP_CWORD=1; _tenantscan; echo "${COMPREPLY[*]}"' _ \
        "$usr/share/bash-completion/completions/tenantscan")
  [ "$got" = "scan" ] || fail "completing 'tenantscan sc' gave '$got', not 'scan'"
fi

# The installed-package consumer, against the unpacked library package only.
cmake -DSOURCE_DIR="$source_dir" -DBINARY_DIR="$binary_dir" -DWORK_DIR="$work/consumer" -DPREFIX="$usr" \
  -P "$source_dir/tests/consumer/run.cmake" >"$work/consumer.log" 2>&1 || { cat "$work/consumer.log"; fail "the consumer"; }
echo "check_package: packages built, unpacked, scanned, man page and completion checked, consumer built and run"
