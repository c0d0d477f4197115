"""worker_image/Dockerfile, read: the instructions the deployment relies on.

The reading checks the instructions (entry point, stop signal, user, default command, what is
copied), and that the Python packages it installs are exactly the project's own runtime
dependency set at the versions these tests run against. The image is also built and run:
tests/deploy/test_worker_image_runs.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import distribution, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from renderfarm_dagster.render.fonts import BUNDLED_FILES

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "worker_image" / "Dockerfile"
CONSTRAINTS = ROOT / "worker_image" / "constraints.txt"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = canonicalize_name(PYPROJECT["project"]["name"])


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            result.append((keyword.upper(), " ".join(arguments.split())))
    return result


def only(keyword: str) -> str:
    found = [arguments for name, arguments in instructions() if name == keyword]
    assert len(found) == 1, f"expected one {keyword} in {DOCKERFILE.name}, found {found}"
    return found[0]


def shell_commands(starting_with: str) -> list[str]:
    """The `&&`-joined commands of every RUN that start with `starting_with`, in order."""
    return [
        command.strip()
        for name, arguments in instructions()
        if name == "RUN"
        for command in arguments.split("&&")
        if command.strip().startswith(starting_with)
    ]


def constraint_pins() -> dict[str, str]:
    pins = {}
    for line in CONSTRAINTS.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, pinned = line.partition("==")
            pins[canonicalize_name(name)] = pinned
    return pins


def runtime_dependency_closure(project: str) -> set[str]:
    """Every distribution the installed project needs at run time (no extras), transitively."""
    names: set[str] = set()
    visited: set[tuple[str, frozenset[str]]] = set()
    pending = [(project, frozenset[str]())]
    while pending:
        name, extras = pending.pop()
        if (name, extras) in visited:
            continue
        visited.add((name, extras))
        for text in distribution(name).requires or []:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker and not any(marker.evaluate({"extra": e}) for e in extras | {""}):
                continue
            names.add(canonicalize_name(requirement.name))
            pending.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    return names


def test_hadolint_passes():
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run(
        [str(hadolint), "--config", str(ROOT / "worker_image" / ".hadolint.yaml"), str(DOCKERFILE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_base_image_is_a_slim_python_the_project_supports():
    image = only("FROM")
    match = re.fullmatch(r"python:(\d+\.\d+)-slim-\w+", image)
    assert match, f"base image {image!r} is not an official slim Python image"
    assert SpecifierSet(PYPROJECT["project"]["requires-python"]).contains(f"{match[1]}.0")


def test_entry_point_is_the_worker_wrapper_and_the_default_command_the_code_server():
    entry_point = json.loads(only("ENTRYPOINT"))
    assert entry_point == ["renderfarm-worker"]
    assert PYPROJECT["project"]["scripts"]["renderfarm-worker"] == "renderfarm_dagster.worker:main"

    command = json.loads(only("CMD"))
    assert command[:3] == ["dagster", "code-server", "start"]
    option = dict(zip(command[3::2], command[4::2], strict=True))
    assert option["--module-name"] == PYPROJECT["tool"]["dagster"]["module_name"]
    assert option["--location-name"] == PYPROJECT["tool"]["dagster"]["code_location_name"]
    workspace = (ROOT / "deploy" / "workspace.yaml").read_text()
    assert f"port: {option['--port']}" in workspace
    assert f"location_name: {option['--location-name']}" in workspace


def test_stops_with_sigterm_and_runs_as_a_non_root_user():
    assert only("STOPSIGNAL") == "SIGTERM"
    user = only("USER")
    assert user not in {"0", "root"}
    names = [name for name, _ in instructions()]
    assert names.index("USER") > max(i for i, name in enumerate(names) if name == "RUN"), (
        "every RUN should come before USER, so nothing runs as root afterwards"
    )


def test_system_packages_are_the_renderers_as_on_a_developers_machine():
    commands = shell_commands("apt-get install")
    assert len(commands) == 1
    packages = {word for word in commands[0].split()[2:] if not word.startswith("-")}
    script = (ROOT / "tools" / "install-render-packages.sh").read_text()
    listed = re.search(r"^PACKAGES=\((.*)\)$", script, re.MULTILINE)
    assert listed is not None
    assert packages == set(listed.group(1).split())
    assert {"libpangocairo-1.0-0", "fonts-noto-core", "fonts-noto-cjk"} <= packages


def test_of_the_noto_packages_the_image_keeps_exactly_the_bundled_files():
    filters = (ROOT / "worker_image" / "dpkg-bundled-fonts.cfg").read_text().splitlines()
    included = {line.removeprefix("path-include=") for line in filters if "include=" in line}
    bundled = {str(path) for files in BUNDLED_FILES.values() for path in files}
    assert included == {path for path in bundled if "/noto/" in path}
    # Copied into dpkg's configuration before the install it filters.
    steps = instructions()
    copy = (
        "COPY",
        "worker_image/dpkg-bundled-fonts.cfg /etc/dpkg/dpkg.cfg.d/renderfarm-bundled-fonts",
    )
    install = next(i for i, (_, arguments) in enumerate(steps) if "apt-get install" in arguments)
    assert copy in steps and steps.index(copy) < install


def test_python_packages_installed_are_the_projects_own_pinned_dependency_set():
    assert shell_commands("pip ") == [
        "pip install --requirement worker_image/constraints.txt",
        "pip install --no-deps /tmp/renderfarm-src",
        "pip check",
    ]
    pins = constraint_pins()
    assert set(pins) == runtime_dependency_closure(PROJECT), (
        "worker_image/constraints.txt is not the project's dependency set: run `make lock`"
    )
    stale = {
        name: (pinned, version(name)) for name, pinned in pins.items() if version(name) != pinned
    }
    assert not stale, f"the tests run other versions than the image ships: {stale}"


def test_everything_copied_exists_and_is_in_the_build_context():
    allowed = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    for name, arguments in instructions():
        if name != "COPY":
            continue
        *sources, _destination = arguments.split()
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such file"
            assert source in allowed, f"{source} is copied but .dockerignore leaves it out"


def test_make_image_installs_podman_where_it_can_and_says_why_where_it_cannot(tmp_path):
    # A machine with neither Docker nor podman, nor apt-get to install them: `make image` stops
    # saying what it needs, and the test packages' installer only notes it.
    bare = tmp_path / "bin"
    bare.mkdir()
    for tool in ("bash", "id"):
        (bare / tool).symlink_to(shutil.which(tool))
    script = ROOT / "tools" / "install-image-packages.sh"
    refused = subprocess.run(
        ["bash", str(script)], env={"PATH": str(bare)}, capture_output=True, text=True
    )
    assert refused.returncode == 1
    assert "make image needs a Docker engine or Debian's podman and debootstrap" in refused.stderr
    noted = subprocess.run(
        ["bash", str(script), "--optional"], env={"PATH": str(bare)}, capture_output=True, text=True
    )
    assert noted.returncode == 0 and noted.stderr.startswith("note: podman debootstrap")
    # Building for another architecture also needs the emulator, named likewise.
    emulated = subprocess.run(
        ["bash", str(script), "--optional", "--emulation"],
        env={"PATH": str(bare)},
        capture_output=True,
        text=True,
    )
    assert emulated.returncode == 0
    assert emulated.stderr.startswith("note: podman debootstrap qemu-user-static binfmt-support")
    makefile = (ROOT / "Makefile").read_text()
    assert "image:\n\tbash tools/install-image-packages.sh \\\n" in makefile
