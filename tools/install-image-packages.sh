#!/usr/bin/env bash
# Debian packages `make image` needs where no Docker engine runs: podman builds the worker image
# (chroot isolation, no OCI runtime needed) and debootstrap makes the stand-in base image where no
# container registry is reachable (worker_image/standin-base.sh). Run by `make image` and by
# tests/install-test-packages.sh; installs only what is absent, as root.
# With --optional, a machine that cannot install them gets a note instead of an error (the tests
# that need them skip, or fail under CI).
set -euo pipefail

optional=false
[ "${1:-}" = "--optional" ] && optional=true

if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    exit 0  # a Docker engine builds the image itself
fi
missing=()
command -v podman >/dev/null || missing+=(podman)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    message="${missing[*]} not installed and cannot be installed here (needs root and apt-get)"
    if $optional; then
        echo "note: $message; the tests that build the worker image will be skipped" >&2
        exit 0
    fi
    echo "error: make image needs a Docker engine or Debian's podman and debootstrap: $message" >&2
    exit 1
fi
echo "installing image build packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update --quiet=2
apt-get install --yes --quiet=2 --no-install-recommends "${missing[@]}" >/dev/null
