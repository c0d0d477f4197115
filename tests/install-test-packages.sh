#!/usr/bin/env bash
# Debian packages the test suite needs beyond the virtual environment: PostgreSQL's server for
# the production launch-path test (tests/deploy/test_launch_path.py starts its own throwaway
# cluster; nothing is configured system-wide), chromium for the browser test
# (tests/ui/test_browser.py), and what `make image` needs to build and run the worker image
# (tests/deploy/test_worker_image_runs.py; tools/install-image-packages.sh). Run by `make test`;
# installs only what is absent.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-image-packages.sh --optional --emulation

missing=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
# The throwaway server gets a self-signed certificate (TLS is required, as on RDS).
command -v openssl >/dev/null || missing+=(openssl)
command -v chromium >/dev/null || missing+=(chromium)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "note: ${missing[*]} not installed and cannot be installed here (needs root and apt-get);" \
         "the tests that need it will be skipped" >&2
    exit 0
fi
echo "installing test packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update --quiet=2
# policy-rc.d keeps the package from starting a system-wide server the tests do not use.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install --yes --quiet=2 --no-install-recommends "${missing[@]}" >/dev/null
