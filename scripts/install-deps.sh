#!/bin/sh
# Installs, from Debian 12's own packages, whatever tenantscan needs to build and test that is
# not installed yet. Runs apt only when something is missing; uses sudo when not root.
# With --build-only (CI jobs that only run the scanner, see docs/ci.md), skips what only the test
# suite needs (doctest, the Python test servers and validators, Chromium for the HTML report test,
# the openssl command that makes the test certificates).
set -eu
packages="make cmake g++ pkg-config git ca-certificates ccache
  nlohmann-json3-dev libfmt-dev libcli11-dev
  libcpprest-dev libssl-dev libboost-system-dev libre2-dev"
if [ "${1:-}" != "--build-only" ]; then
  packages="$packages doctest-dev python3 python3-aiosmtpd python3-jsonschema chromium openssl"
fi
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "install-deps: all packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
