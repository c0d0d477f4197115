#!/usr/bin/env bash
# A local stand-in for the Dockerfile's base image (python:3.11-slim-bookworm), for machines
# that reach Debian's package mirror but no container registry. A real build pulls the official
# image; this one is made so the image can still be built and tested here:
#   Debian bookworm (minbase) with python3 and a venv at /usr/local, so that `python` and `pip`
#   are at /usr/local/bin as in the official image.
# The machine's CA bundle and pip configuration are copied in: where the package registries are
# reached through an intercepting proxy, pip inside the build needs both.
# Another architecture than the machine's (ARCH arm64 on x86_64) runs debootstrap's second stage
# through qemu-user-static registered in binfmt_misc (tools/install-image-packages.sh).
# Usage: worker_image/standin-base.sh IMAGE_NAME [ARCH]
#   (about a minute for the machine's architecture, three under emulation; once per machine)
set -euo pipefail

name=${1:?usage: standin-base.sh IMAGE_NAME [ARCH]}
arch=${2:-$(dpkg --print-architecture)}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
root=$(mktemp -d /var/tmp/renderfarm-base.XXXXXX)
trap 'rm -rf "$root"' EXIT

echo "making a stand-in for $name (no registry reachable): debootstrap bookworm $arch from $mirror"
debootstrap --arch="$arch" --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$root" "$mirror" >"$root.log" 2>&1 || { cat "$root.log" >&2; exit 1; }
rm -f "$root.log"
chroot "$root" python3 -m venv /usr/local
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
# Only the settings that reach the registry: local wheel folders of this machine do not exist
# inside the image, and the machine's pip constraints are not the project's.
{
    echo "[global]"
    cat /etc/pip.conf /etc/xdg/pip/pip.conf "$HOME/.config/pip/pip.conf" 2>/dev/null \
        | grep -E '^\s*(cert|index-url|extra-index-url|trusted-host|timeout)\s*=' \
        | grep -v 'file://' || true
} >"$root/etc/pip.conf"
# What the official slim image leaves out too: no package lists or caches in the layer.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb

tar -C "$root" -c . | podman import --os linux --arch "$arch" \
    --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'LABEL org.renderfarm.stand-in=true' \
    --change 'CMD ["python3"]' \
    - "$name" >/dev/null
echo "stand-in base $name imported"
