#!/bin/sh
# Installs, from Debian 12's own packages, whatever tenantscan needs to build and test that is
# not installed yet. Runs apt only when something is missing; uses sudo when not root.
# With --build-only (CI jobs that only run the scanner, see docs/ci.md), skips what only the test
# suite needs (doctest, the Python test servers and validators, Chromium for the HTML report test,
# the openssl command that makes the test certificates, Node.js and the PowerShell grammar, and
# help2man and dpkg-dev for the Debian packages that `make package` builds and the suite checks).
# The test suite's PowerShell grammar (tree-sitter-powershell, with the tree-sitter Node.js bindings,
# built natively by node-gyp) is installed with `npm ci` from tests/tools/powershell-grammar's
# package-lock.json into that folder's node_modules (ignored by git), again only when missing.
set -eu
cd "$(dirname "$0")/.."
build_only=false
[ "${1:-}" = "--build-only" ] && build_only=true

packages="make cmake g++ pkg-config git ca-certificates ccache
  nlohmann-json3-dev libfmt-dev libcli11-dev
  libcpprest-dev libssl-dev libboost-system-dev libre2-dev"
if ! $build_only; then
  packages="$packages doctest-dev python3 python3-aiosmtpd python3-jsonschema chromium openssl help2man dpkg-dev"
fi
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# Node.js and npm may come from Debian (nodejs, npm) or elsewhere: only the commands count.
if ! $build_only; then
  command -v node >/dev/null 2>&1 || missing="$missing nodejs"
  command -v npm >/dev/null 2>&1 || missing="$missing npm"
fi
if [ -z "$missing" ]; then
  echo "install-deps: all packages present"
else
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "install-deps: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -q --no-install-recommends $missing
fi

if ! $build_only; then
  grammar=tests/tools/powershell-grammar
  stamp=$grammar/node_modules/.installed-package-lock.json
  if cmp -s "$grammar/package-lock.json" "$stamp" &&
     node -e "require('./$grammar/node_modules/tree-sitter'); require('./$grammar/node_modules/tree-sitter-powershell')" 2>/dev/null; then
    echo "install-deps: PowerShell grammar present"
  else
    echo "install-deps: installing the PowerShell grammar (npm ci in $grammar)"
    npm ci --prefix "$grammar" --no-audit --no-fund
    cp "$grammar/package-lock.json" "$stamp"
  fi
fi
