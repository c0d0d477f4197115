"""One worker image for both architectures Fargate runs (docs/deploy.md, "Graviton").

The pinned dependency set must install on aarch64 from wheels alone: a source build in the
image would need compilers and would change with whatever the build machine has. And the
arm64 image, built under emulation where this machine has it, must render the example catalog
to the very bytes the amd64 image renders: an output's sha256 is its identity, and a product
rendered once on x86_64 and re-rendered on Graviton must not look changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys

import pytest

from tests.deploy.image import (
    ROOT,
    TEST_IMAGE,
    build_image,
    emulation_missing,
    inspect,
    missing_tools,
    mounted_container,
)

CONSTRAINTS = ROOT / "worker_image" / "constraints.txt"
ARM64_IMAGE = "renderfarm-dagster:test-arm64"
MULTI_ARCH_IMAGE = "renderfarm-dagster:test-multi-arch"
# What pip prints when the package registry cannot be reached at all (not a missing wheel).
UNREACHABLE = re.compile(
    r"NewConnectionError|Failed to establish a new connection|Temporary failure in name "
    r"resolution|Name or service not known|ConnectTimeout|ProxyError|Network is unreachable"
)
# Debian bookworm's glibc is 2.36; Fargate's arm64 platform is manylinux_2_28 or newer.
AARCH64_PLATFORMS = [
    "manylinux_2_28_aarch64",
    *(f"manylinux_2_{minor}_aarch64" for minor in range(27, 16, -1)),
    "manylinux2014_aarch64",
]
# Tags a wheel for manylinux_2_28 aarch64 may carry: pure Python, or aarch64 Linux at most 2.28.
AARCH64_TAG = re.compile(r"-(?:any|(?:manylinux_2_(\d+)|manylinux2014)_aarch64(?:\.\S+)?)\.whl$")


# Pins published as source alone, for every platform: each must build into a pure-Python
# wheel (py3-none-any), so it needs no compiler in the image either.
SOURCE_ONLY = {
    # Its compiled part is pyvips-binary's (an aarch64 wheel); without libvips' headers, as in
    # the image, pyvips itself is Python calling it.
    "pyvips": "publishes only an sdist",
}


def pins() -> dict[str, str]:
    found = {}
    for line in CONSTRAINTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            found[re.sub(r"[-_.]+", "-", name).lower()] = version
    return found


def pip(*argv: str) -> subprocess.CompletedProcess:
    """pip, skipped (failed under CI) when the package registry cannot be reached at all."""
    completed = subprocess.run(
        [sys.executable, "-m", "pip", *argv], capture_output=True, text=True, timeout=1200
    )
    if completed.returncode and UNREACHABLE.search(completed.stderr):
        reason = f"the package registry cannot be reached: {completed.stderr.strip()[-300:]}"
        if os.environ.get("RENDERFARM_REQUIRE_TEST_SERVICES"):
            pytest.fail(reason)
        pytest.skip(reason)
    return completed


def test_the_pinned_dependency_set_installs_on_aarch64_from_wheels_only(tmp_path):
    wheels_only = tmp_path / "requirements.txt"
    wheels_only.write_text(
        "".join(
            f"{name}=={version}\n" for name, version in pins().items() if name not in SOURCE_ONLY
        )
    )
    downloaded = pip(
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        # glibc 2.28 runs wheels built for any older manylinux too, as pip on an aarch64
        # machine would accept them; an explicit --platform is taken literally.
        *(option for tag in AARCH64_PLATFORMS for option in ("--platform", tag)),
        "--python-version",
        "3.11",
        "--implementation",
        "cp",
        *("--abi", "cp311", "--abi", "abi3", "--abi", "none"),
        "--requirement",
        str(wheels_only),
        "--dest",
        str(tmp_path / "wheels"),
    )
    # A pin with no aarch64 wheel fails here, naming it ("No matching distribution").
    assert downloaded.returncode == 0, downloaded.stderr[-3000:]
    wheels = {path.name for path in (tmp_path / "wheels").iterdir()}
    assert all(name.endswith(".whl") for name in wheels), wheels  # nothing to compile
    for name in wheels:
        match = AARCH64_TAG.search(name)
        assert match, f"{name} is not a wheel for aarch64 Linux"
        assert match[1] is None or int(match[1]) <= 28, f"{name} needs a newer glibc than 2.28"
    named = {re.sub(r"[-_.]+", "-", name.split("-")[0]).lower() for name in wheels}
    assert named == set(pins()) - set(SOURCE_ONLY)
    for name in SOURCE_ONLY:
        built = pip("wheel", "--quiet", "--no-deps", f"{name}=={pins()[name]}", "-w", str(tmp_path))
        assert built.returncode == 0, built.stderr[-3000:]
        (wheel,) = tmp_path.glob(f"{name}-*.whl")
        assert wheel.name.endswith("-py3-none-any.whl"), f"{wheel.name} compiled something"


def example_catalog_manifests(tag: str) -> tuple[dict[str, str], str]:
    """`renderfarm demo` (the example catalog through Dagster, local deployment) run inside the
    image `tag`: the sha256 of each manifest it wrote, and the machine the image's Python saw."""
    with mounted_container(tag) as container:
        home = container.make_writable_dir("/tmp/dagster-home")
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        container.make_writable_dir("/tmp/renderfarm-data")
        env = {
            "RENDERFARM_DEPLOYMENT": "local",
            "RENDERFARM_DATA_DIR": "/tmp/renderfarm-data",
            "DAGSTER_HOME": "/tmp/dagster-home",
        }
        machine = container.run(["python", "-c", "import platform; print(platform.machine())"])
        demo = container.run([*container.config.entrypoint, "renderfarm", "demo"], env, 1800)
        assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
        folder = container.host_path("/tmp/renderfarm-data/bucket/manifests")
        manifests = {
            path.name: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.glob("*.json"))
        }
        return manifests, machine.stdout.strip()


def test_the_arm64_image_renders_the_example_catalog_to_the_same_bytes_as_amd64(request):
    missing = missing_tools()
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed: no image can be built here")
    why = emulation_missing("arm64")
    if why:
        pytest.skip(why)
    build_image(TEST_IMAGE)
    seconds = build_image(ARM64_IMAGE, "linux/arm64")
    assert inspect(ARM64_IMAGE)["Architecture"] == "arm64"
    assert inspect(TEST_IMAGE)["Architecture"] == "amd64"
    amd64, amd64_machine = example_catalog_manifests(TEST_IMAGE)
    arm64, arm64_machine = example_catalog_manifests(ARM64_IMAGE)
    assert (amd64_machine, arm64_machine) == ("x86_64", "aarch64")
    assert len(amd64) == 4  # every example product published
    # Each manifest lists every output's sha256: equal manifests are equal outputs.
    assert arm64 == amd64
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"arm64 worker image built under emulation in {seconds:.0f} s")

    # Both at once: a manifest list whose entries are the two images (the layers are cached).
    build_image(MULTI_ARCH_IMAGE, "linux/amd64,linux/arm64")
    listed = json.loads(
        subprocess.run(
            ["podman", "manifest", "inspect", MULTI_ARCH_IMAGE],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    platforms = {entry["platform"]["architecture"] for entry in listed["manifests"]}
    assert platforms == {"amd64", "arm64"}


def test_make_image_refuses_a_platform_it_does_not_build():
    refused = subprocess.run(
        ["bash", str(ROOT / "worker_image" / "build.sh"), "renderfarm-dagster:never"],
        env={**os.environ, "PLATFORM": "linux/s390x"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "PLATFORM: linux/s390x is not linux/amd64 or linux/arm64" in refused.stderr
