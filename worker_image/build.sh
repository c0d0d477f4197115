#!/usr/bin/env bash
# `make image`: builds worker_image/Dockerfile from the repository root, for PLATFORM:
# linux/amd64 (the default), linux/arm64 (Graviton), or both, comma-separated, which makes a
# multi-arch manifest list under IMAGE_TAG (each architecture also as IMAGE_TAG-<arch>).
# With a Docker engine: docker buildx build. Without one: Debian's podman, with chroot isolation
# (no OCI runtime is needed to build), on the official base image of each platform, or on a
# local stand-in for it (worker_image/standin-base.sh) when no container registry is reachable.
# A platform of another architecture than the machine's runs its RUN steps under
# qemu-user-static, registered in binfmt_misc (tools/install-image-packages.sh).
# Usage: PLATFORM=linux/arm64 worker_image/build.sh [IMAGE_TAG]
set -euo pipefail
cd "$(dirname "$0")/.."

tag=${1:-renderfarm-dagster:dev}
platforms=${PLATFORM:-linux/amd64}
dockerfile=worker_image/Dockerfile
base=$(awk 'toupper($1) == "FROM" { print $2; exit }' "$dockerfile")
started=$SECONDS

for platform in ${platforms//,/ }; do
    case "$platform" in
        linux/amd64 | linux/arm64) ;;
        *) echo "PLATFORM: $platform is not linux/amd64 or linux/arm64" >&2; exit 2 ;;
    esac
done

# The architecture (Debian's name) of a platform, and whether this machine runs its programs:
# natively, or through an emulator registered in binfmt_misc.
arch_of() { echo "${1#linux/}"; }
machine_arch() {
    dpkg --print-architecture 2>/dev/null || uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/'
}
can_run() {
    local arch=$1
    [ "$arch" = "$(machine_arch)" ] && return 0
    case "$arch" in arm64) emulator=qemu-aarch64 ;; amd64) emulator=qemu-x86_64 ;; esac
    grep -qs '^enabled' "/proc/sys/fs/binfmt_misc/$emulator"
}

if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    # buildx: one platform, or several into a manifest list (which needs --push or the
    # containerd image store: docs/deploy.md, "Graviton").
    docker buildx build --platform "$platforms" -f "$dockerfile" -t "$tag" --load .
elif command -v podman >/dev/null; then
    case "$base" in */*) qualified=$base ;; *) qualified=docker.io/library/$base ;; esac
    built=()
    for platform in ${platforms//,/ }; do
        arch=$(arch_of "$platform")
        if ! can_run "$arch"; then
            echo "make image PLATFORM=$platform: this machine cannot run $arch programs; install" \
                 "and register qemu-user-static (as root: tools/install-image-packages.sh" \
                 "--emulation)" >&2
            exit 1
        fi
        # The base of each architecture under a name of its own: one local name cannot hold
        # two platforms' images.
        local_base=localhost/renderfarm-base:${base##*:}-$arch
        if ! podman image exists "$local_base"; then
            # A registry that cannot be reached answers at once here; the timeout bounds a slow one.
            if pulled=$(timeout 300 podman pull --quiet --platform "$platform" "$qualified"); then
                podman tag "$pulled" "$local_base"
            else
                bash worker_image/standin-base.sh "$local_base" "$arch"
            fi
        fi
        stand_in=$(podman image inspect \
            --format '{{index .Config.Labels "org.renderfarm.stand-in"}}' "$local_base")
        if [ "$stand_in" = true ]; then
            echo "note: $local_base is a local stand-in (worker_image/standin-base.sh) for" \
                 "$qualified, not the official image; a build with registry access pulls it"
        fi
        target=$tag
        [ "$platforms" = "$platform" ] || target=$tag-$arch
        podman build --isolation chroot --network host --pull=never --platform "$platform" \
            --from "$local_base" -f "$dockerfile" -t "$target" .
        built+=("$target")
    done
    if [ ${#built[@]} -gt 1 ]; then
        podman manifest exists "$tag" && podman manifest rm "$tag" >/dev/null
        podman image exists "$tag" && podman rmi "$tag" >/dev/null
        podman manifest create "$tag" >/dev/null
        for image in "${built[@]}"; do
            # By image id: a tag may name a registry (an ECR URI) or none (localhost).
            id=$(podman image inspect --format '{{.Id}}' "$image")
            podman manifest add "$tag" "containers-storage:$id" >/dev/null
        done
        echo "manifest list $tag: ${built[*]}"
    fi
else
    echo "make image needs a Docker engine or podman (Debian: apt-get install podman" \
         "debootstrap)" >&2
    exit 1
fi
echo "built $tag ($platforms) in $((SECONDS - started)) s"
