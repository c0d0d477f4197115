#!/usr/bin/env bash
# Debian packages `make image` needs where no Docker engine runs: podman builds the worker image
# (chroot isolation, no OCI runtime needed) and debootstrap makes the stand-in base image where no
# container registry is reachable (worker_image/standin-base.sh). Run by `make image` and by
# tests/install-test-packages.sh; installs only what is absent, as root.
# With --emulation, also Debian's qemu-user-static, registered in binfmt_misc, so that this
# machine runs the other architecture's programs: `make image PLATFORM=linux/arm64` on x86_64,
# and the test that renders the examples in the arm64 image.
# With --optional, a machine that cannot install them gets a note instead of an error (the tests
# that need them skip, or fail under CI).
set -euo pipefail

optional=false
emulation=false
for option in "$@"; do
    case "$option" in
        --optional) optional=true ;;
        --emulation) emulation=true ;;
        *) echo "usage: $0 [--optional] [--emulation]" >&2; exit 2 ;;
    esac
done

# qemu-user-static registers its emulators (with the F flag: they work inside a chroot) where
# binfmt_misc is mounted; a container or a sandbox may not have it mounted yet.
register_emulators() {
    if ! mountpoint -q /proc/sys/fs/binfmt_misc; then
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || return 0
    fi
    for emulator in qemu-aarch64 qemu-x86_64; do
        [ -e "/proc/sys/fs/binfmt_misc/$emulator" ] || update-binfmts --enable "$emulator" \
            >/dev/null 2>&1 || true
    done
}

if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    exit 0  # a Docker engine builds the image itself
fi
missing=()
command -v podman >/dev/null || missing+=(podman)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if $emulation; then
    command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static binfmt-support)
fi
if [ ${#missing[@]} -eq 0 ]; then
    if $emulation && [ "$(id -u)" -eq 0 ]; then register_emulators; fi
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
if $emulation; then register_emulators; fi
