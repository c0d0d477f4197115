#!/usr/bin/env bash
# `make image`: builds worker_image/Dockerfile from the repository root.
# With a Docker engine: docker build. Without one: Debian's podman, with chroot isolation (no
# OCI runtime is needed to build), on the official base image, or on a local stand-in for it
# (worker_image/standin-base.sh) when no container registry is reachable.
# Usage: worker_image/build.sh [IMAGE_TAG]
set -euo pipefail
cd "$(dirname "$0")/.."

tag=${1:-renderfarm-dagster:dev}
dockerfile=worker_image/Dockerfile
base=$(awk 'toupper($1) == "FROM" { print $2; exit }' "$dockerfile")
started=$SECONDS

if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    # linux/amd64: Fargate Spot runs x86_64 tasks only.
    docker build --platform linux/amd64 -f "$dockerfile" -t "$tag" .
elif command -v podman >/dev/null; then
    case "$base" in */*) qualified=$base ;; *) qualified=docker.io/library/$base ;; esac
    if ! podman image exists "$qualified"; then
        # A registry that cannot be reached answers at once here; the timeout bounds a slow one.
        if ! timeout 300 podman pull --quiet "$qualified" >/dev/null; then
            bash worker_image/standin-base.sh "$qualified"
        fi
    fi
    stand_in=$(podman image inspect --format '{{index .Config.Labels "org.renderfarm.stand-in"}}' \
        "$qualified")
    if [ "$stand_in" = true ]; then
        echo "note: $qualified is a local stand-in (worker_image/standin-base.sh), not the" \
             "official image; a build with registry access pulls the official one"
    fi
    podman build --isolation chroot --network host --pull=never \
        -f "$dockerfile" -t "$tag" .
else
    echo "make image needs a Docker engine or podman (Debian: apt-get install podman" \
         "debootstrap)" >&2
    exit 1
fi
echo "built $tag in $((SECONDS - started)) s"
