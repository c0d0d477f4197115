"""The worker image, built by `make image`'s script and run without a container runtime.

Where no Docker engine runs, Debian's podman builds the image with chroot isolation, but no
container can be started: the OCI runtime's setrlimit is refused inside this sandbox (no
CAP_SYS_RESOURCE). So a command runs as a container's process would, by hand: the container's
filesystem (`podman create`, `podman mount`), `/dev`, `/proc` and a tmpfs at `/dev/shm` (Python's
multiprocessing needs it) mounted in a private mount namespace (nothing leaks to the host, and
it all goes when the process ends), then `chroot` as the image's USER, with the image's ENV and
WORKDIR and through its ENTRYPOINT. What that leaves out of a container (cgroups, a network
namespace, capabilities dropped) the render path does not depend on.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = ROOT / "worker_image" / "build.sh"
# Its own tag, so the tests never replace an image a developer built with `make image`.
TEST_IMAGE = "renderfarm-dagster:test"
BUILD_TIMEOUT_S = 1800

# Mounts what a container runtime would, then becomes the command (exec: signals sent to the
# process reach the entrypoint itself, as ECS's SIGTERM reaches PID 1 of a task).
_ENTER = """
set -e
root=$1; shift
mount --rbind /dev "$root/dev"
mount -t proc proc "$root/proc"
mount -t tmpfs -o mode=1777,size=1g tmpfs "$root/dev/shm"
exec chroot "$@"
"""


def missing_tools() -> list[str]:
    return [tool for tool in ("podman", "unshare", "chroot") if shutil.which(tool) is None]


def build_image(tag: str = TEST_IMAGE, platform: str = "linux/amd64") -> float:
    """Build worker_image/Dockerfile as `make image` does; the seconds it took."""
    started = time.monotonic()
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT), tag],
        cwd=ROOT,
        env={**os.environ, "PLATFORM": platform},
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"worker_image/build.sh failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return time.monotonic() - started


def emulation_missing(arch: str) -> str | None:
    """Why this machine cannot run `arch` (Debian's name) programs, or None when it can: its
    own architecture, or qemu-user-static registered in binfmt_misc."""
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
    if arch == machine:
        return None
    emulator = {"arm64": "qemu-aarch64", "amd64": "qemu-x86_64"}[arch]
    entry = Path("/proc/sys/fs/binfmt_misc") / emulator
    if not entry.exists():
        return (
            f"this {machine} machine cannot run {arch} programs: {emulator} is not registered in "
            "binfmt_misc (as root, `make test` installs and registers Debian's qemu-user-static; "
            "a container may not allow mounting binfmt_misc)"
        )
    if not entry.read_text().startswith("enabled"):
        return f"{emulator} is registered in binfmt_misc but disabled"
    return None


def inspect(tag: str) -> dict:
    output = subprocess.run(
        ["podman", "image", "inspect", tag], check=True, capture_output=True, text=True
    ).stdout
    (image,) = json.loads(output)
    return image


@dataclass(frozen=True)
class ImageProcessSpec:
    """How the image's processes start: what its Dockerfile says, read from the built image."""

    env: dict[str, str]
    user: str
    workdir: str
    entrypoint: list[str]


@dataclass(frozen=True)
class MountedImage:
    """A container's filesystem on the host, and how to run the image's processes in it."""

    root: Path
    config: ImageProcessSpec
    uid: int
    gid: int
    home: str

    def host_path(self, path_in_image: str) -> Path:
        return self.root / path_in_image.lstrip("/")

    def command(self, argv: Sequence[str], env: dict[str, str] | None = None) -> list[str]:
        """The host command that runs `argv` in the image as its USER (no entrypoint added)."""
        # A container runtime sets HOME from the user's passwd entry, and the image's ENV.
        environment = {"HOME": self.home, **self.config.env, **(env or {})}
        return [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            _ENTER,
            "sh",
            str(self.root),
            f"--userspec={self.uid}:{self.gid}",
            str(self.root),
            "/usr/bin/env",
            "-i",
            f"--chdir={self.config.workdir}",
            *(f"{name}={value}" for name, value in environment.items()),
            *argv,
        ]

    def run(
        self, argv: Sequence[str], env: dict[str, str] | None = None, timeout: float = 600
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.command(argv, env), capture_output=True, text=True, timeout=timeout
        )

    def start(
        self, argv: Sequence[str], log: Path, env: dict[str, str] | None = None
    ) -> subprocess.Popen:
        """Start `argv` in the image; its output goes to `log` (nobody reads a pipe meanwhile)."""
        with log.open("w") as output:
            return subprocess.Popen(
                self.command(argv, env), stdout=output, stderr=subprocess.STDOUT
            )

    def make_writable_dir(self, path_in_image: str) -> Path:
        """A directory in the container owned by the image's user (as a volume would be)."""
        path = self.host_path(path_in_image)
        path.mkdir(parents=True, exist_ok=True)
        os.chown(path, self.uid, self.gid)
        return path


@contextmanager
def mounted_container(tag: str = TEST_IMAGE) -> Iterator[MountedImage]:
    """A new container of `tag`, its filesystem mounted; removed afterwards."""
    config = inspect(tag)["Config"]
    spec = ImageProcessSpec(
        env=dict(item.split("=", 1) for item in config.get("Env") or []),
        user=config.get("User") or "root",
        workdir=config.get("WorkingDir") or "/",
        entrypoint=list(config.get("Entrypoint") or []),
    )
    container = subprocess.run(
        ["podman", "create", tag], check=True, capture_output=True, text=True
    ).stdout.strip()
    try:
        root = Path(
            subprocess.run(
                ["podman", "mount", container], check=True, capture_output=True, text=True
            ).stdout.strip()
        )
        uid, gid, home = _passwd_entry(root, spec.user)
        yield MountedImage(root=root, config=spec, uid=uid, gid=gid, home=home)
    finally:
        subprocess.run(["podman", "umount", container], capture_output=True)
        subprocess.run(["podman", "rm", "--force", container], capture_output=True)


def _passwd_entry(root: Path, user: str) -> tuple[int, int, str]:
    """uid, gid and home of the image's USER (a name or a uid), from the image's /etc/passwd."""
    for line in (root / "etc" / "passwd").read_text().splitlines():
        name, _, uid, gid, _, home, _ = line.split(":")
        if user in (name, uid):
            return int(uid), int(gid), home
    raise AssertionError(f"the image's USER {user!r} is not in its /etc/passwd")


def layer_files(tag: str, workdir: Path) -> dict[str, list[str]]:
    """Every file of every layer of the image, by layer (from `podman save`'s archive)."""
    archive = workdir / "image"
    subprocess.run(
        ["podman", "save", "--format", "docker-dir", "-o", str(archive), tag],
        check=True,
        capture_output=True,
    )
    manifest = json.loads((archive / "manifest.json").read_text())
    layers = {}
    for layer in manifest["layers"]:
        digest = layer["digest"].split(":", 1)[1]
        listing = subprocess.run(
            ["tar", "-tf", str(archive / digest)], check=True, capture_output=True, text=True
        ).stdout
        layers[digest[:12]] = listing.splitlines()
    return layers
