#!/usr/bin/env bash
# Debian packages the renderer needs on this machine, as in the worker image
# (worker_image/Dockerfile installs the same list): cairo, Pango with HarfBuzz, FriBiDi,
# fontconfig and FreeType for text, and the bundled fonts (renderfarm_dagster/render/fonts.py).
# Run by `make demo`, `make test` and the other targets that render; installs only what is
# absent, as root.
set -euo pipefail

PACKAGES=(libcairo2 libpangocairo-1.0-0 fonts-dejavu-core fonts-noto-core fonts-noto-cjk)

missing=()
for package in "${PACKAGES[@]}"; do
    if ! dpkg-query --show --showformat='${db:Status-Status}' "$package" 2>/dev/null \
        | grep -qx installed; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "error: the renderer needs Debian's ${missing[*]} (apt-get install, as root)" >&2
    exit 1
fi
echo "installing render packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update --quiet=2
apt-get install --yes --quiet=2 --no-install-recommends "${missing[@]}" >/dev/null
