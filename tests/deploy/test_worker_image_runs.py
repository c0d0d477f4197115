"""The worker image, built and run: every production task runs it, so it gets the code's proof.

The image is built by `make image`'s script (worker_image/build.sh: podman here, with a local
stand-in for the base image where no registry is reachable) and run as a container's process
would be (tests/deploy/image.py). Inside it, as its non-root user and through its ENTRYPOINT:
an example product renders and verifies, SIGTERM mid-render gives exit 143 with every stored
output checkpointed, and the renderer's fonts and libraries are there.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pytest

from renderfarm_dagster.catalog.manifest import Manifest
from renderfarm_dagster.catalog.verify import manifest_problems, stored_output_problems
from renderfarm_dagster.render.typeset import TextStyle, font_set, set_text
from renderfarm_dagster.render.variant import renderer_versions
from renderfarm_dagster.spec import parse_spec
from renderfarm_dagster.storage.local import LocalObjectStore
from tests.conftest import EXAMPLES, spec_bytes
from tests.deploy.image import (
    ROOT,
    TEST_IMAGE,
    MountedImage,
    build_image,
    inspect,
    layer_files,
    missing_tools,
    mounted_container,
)
from tests.polling import eventually

# The local deployment inside the container: no cloud, a folder and SQLite, as in `make demo`.
DATA_DIR = "/tmp/renderfarm-data"
DAGSTER_HOME = "/tmp/dagster-home"
LOCAL = {
    "RENDERFARM_DEPLOYMENT": "local",
    "RENDERFARM_DATA_DIR": DATA_DIR,
    "DAGSTER_HOME": DAGSTER_HOME,
}
EXAMPLE = "trail-runner-2"


@pytest.fixture(scope="session")
def built_image(request) -> str:
    missing = missing_tools()
    if missing:
        reason = (
            f"{', '.join(missing)} not installed; `make test` installs podman and debootstrap "
            "when run as root (tests/install-test-packages.sh)"
        )
        # CI must run every test: there a missing builder is a failure, not a skip.
        if os.environ.get("RENDERFARM_REQUIRE_TEST_SERVICES"):
            pytest.fail(reason)
        pytest.skip(reason)
    seconds = build_image(TEST_IMAGE)
    size = inspect(TEST_IMAGE)["Size"]
    report = {"build_seconds": round(seconds, 1), "size_bytes": size}
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "worker-image.json").write_text(json.dumps(report, indent=2) + "\n")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            f"worker image {TEST_IMAGE}: built in {seconds:.0f} s, {size / 1e6:.0f} MB"
        )
    return TEST_IMAGE


@pytest.fixture
def container(built_image):
    with mounted_container(built_image) as mounted:
        home = mounted.make_writable_dir(DAGSTER_HOME)
        # SQLite under DAGSTER_HOME (the local default); telemetry off, as in production.
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        mounted.make_writable_dir("/tmp/specs")
        yield mounted


def copy_in(container: MountedImage, data: bytes, name: str) -> str:
    """Put a spec file into the container; its path there."""
    path = container.host_path(f"/tmp/specs/{name}")
    path.write_bytes(data)
    os.chown(path, container.uid, container.gid)
    return f"/tmp/specs/{name}"


def run_worker_argv(container: MountedImage, product_id: str, run_config: str | None = None):
    """What EcsRunLauncher starts: the image's ENTRYPOINT with a Dagster command."""
    argv = [*container.config.entrypoint, "dagster", "job", "execute"]
    argv += ["-m", "renderfarm_dagster.definitions", "-j", "render_catalog"]
    if run_config:
        argv += ["-c", run_config]
    return [*argv, "--tags", json.dumps({"dagster/partition": product_id})]


def submit(container: MountedImage, spec_path: str) -> None:
    result = container.run(["renderfarm", "submit", spec_path], LOCAL)
    assert result.returncode == 0, result.stdout + result.stderr


def checkpointed(container: MountedImage, product_id: str) -> dict[str, str]:
    """key -> sha256 of every output checkpointed for the product (read from the host)."""
    database = container.host_path(f"{DATA_DIR}/checkpoints.sqlite3")
    if not database.exists():
        return {}
    # Not mode=ro: a read-only connection may not see what is still in the WAL file.
    with closing(sqlite3.connect(database, timeout=10)) as connection:
        try:
            rows = connection.execute(
                "SELECT key, sha256 FROM output_checkpoints WHERE product_id = ?", (product_id,)
            ).fetchall()
        except sqlite3.OperationalError:  # the table is not created yet
            return {}
    return dict(rows)


def test_the_image_runs_as_its_non_root_user_with_the_entrypoint_the_launcher_relies_on(
    container,
):
    assert container.config.user == "10001" and container.uid == 10001
    assert container.config.entrypoint == ["renderfarm-worker"]
    result = container.run(["id", "-u"], LOCAL)
    assert result.stdout.strip() == "10001", result.stderr
    # HOME comes from the passwd entry; libraries write there (Dagster's telemetry id).
    home = container.run(["sh", "-c", 'test -d "$HOME" && test -w "$HOME" && echo "$HOME"'])
    assert home.stdout.strip() == "/home/renderfarm", home.stdout + home.stderr


def test_an_example_product_renders_inside_the_image_and_every_output_verifies(container):
    # Its photos (cut-out PNGs) are stored as uploads: decoding them is part of the proof.
    stored = container.run(["renderfarm", "examples"], LOCAL)
    assert stored.returncode == 0, stored.stdout + stored.stderr
    spec_data = (EXAMPLES / f"{EXAMPLE}.json").read_bytes()
    submit(container, copy_in(container, spec_data, f"{EXAMPLE}.json"))
    result = container.run(run_worker_argv(container, EXAMPLE), LOCAL)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]

    objects = LocalObjectStore(container.host_path(f"{DATA_DIR}/bucket"))
    spec = parse_spec(spec_data, EXAMPLE).spec
    manifest = Manifest.from_bytes(objects.get(f"manifests/{EXAMPLE}.json"))
    assert manifest_problems(manifest, spec) == []
    integrity, image = stored_output_problems(manifest, objects)
    assert integrity == [] and image == []
    outputs = [entry.model_dump() for _, entry in manifest.outputs()]
    assert len(outputs) == len(spec.variants) * len(spec.outputs)
    # Every output was stored by the image's user, none left writable by others.
    for entry in outputs:
        stat = objects.root.joinpath(entry["key"]).stat()
        assert (stat.st_uid, stat.st_mode & 0o002) == (container.uid, 0), entry["key"]
    assert set(checkpointed(container, EXAMPLE).items()) == {
        (entry["key"], entry["sha256"]) for entry in outputs
    }


def spot_spec(spec_doc: dict, variants: int) -> dict:
    """A product long enough that SIGTERM lands mid-render even on a loaded CI machine."""
    palette = [("#d62828", "#003049"), ("#1d4e89", "#f4a259"), ("#2d6a4f", "#d8f3dc")]
    spec_doc["product_id"] = "spot-shoe"
    spec_doc["variants"] = [
        {
            "variant_id": f"colour-{index:03d}",
            "label": f"Colour {index}",
            "colors": dict(zip(("primary", "accent"), palette[index % 3], strict=True)),
        }
        for index in range(variants)
    ]
    spec_doc["outputs"] = [
        {"name": "hero", "width": 1000, "height": 1000, "format": "png"},
        {"name": "listing", "width": 400, "height": 400, "format": "webp", "quality": 80},
        {"name": "thumb", "width": 160, "height": 160, "format": "jpeg"},
    ]
    return spec_doc


def test_sigterm_mid_render_exits_143_with_every_stored_output_checkpointed(
    container, spec_doc, tmp_path
):
    # 320 variants on one render process: about 13 s of rendering, so that SIGTERM lands
    # mid-render with a wide margin even on a loaded machine.
    total = 320 * 3
    spec_path = copy_in(container, spec_bytes(spot_spec(spec_doc, 320)), "spot-shoe.json")
    submit(container, spec_path)
    config = container.host_path("/tmp/specs/one-worker.json")
    config.write_text(json.dumps({"ops": {"render_products": {"config": {"workers": 1}}}}))
    log = tmp_path / "worker.log"
    worker = container.start(
        run_worker_argv(container, "spot-shoe", "/tmp/specs/one-worker.json"), log, LOCAL
    )
    try:
        landed = eventually(
            lambda: worker.poll() is not None or len(checkpointed(container, "spot-shoe")) >= 6,
            bool,
            deadline_s=300,
        )
        assert landed and worker.poll() is None, f"no renders landed, or exited:\n{log.read_text()}"
        stored_at_signal = len(checkpointed(container, "spot-shoe"))
    finally:
        # The Fargate Spot warning: SIGTERM to the task's process, the image's ENTRYPOINT.
        worker.send_signal(signal.SIGTERM)
    signalled_at = time.monotonic()
    worker.wait(timeout=120)
    output = log.read_text()
    assert worker.returncode == 143, output[-4000:]
    assert time.monotonic() - signalled_at < 60, "the worker took too long to stop"

    done = checkpointed(container, "spot-shoe")
    assert 6 <= len(done) < total, (
        f"SIGTERM did not land mid-render: sent at {stored_at_signal} stored outputs, "
        f"{len(done)} stored when the worker exited:\n{output[-3000:]}"
    )
    renders = container.host_path(f"{DATA_DIR}/bucket/renders/spot-shoe")
    stored = {
        str(path.relative_to(container.host_path(f"{DATA_DIR}/bucket"))): path
        for path in renders.rglob("*")
        if path.is_file()
    }
    assert not [key for key in stored if ".partial" in key], "a partial file was left"
    # What landed is checkpointed, each checkpoint names the bytes stored under its key.
    assert set(stored) == set(done)
    for key, sha256 in done.items():
        assert hashlib.sha256(stored[key].read_bytes()).hexdigest() == sha256, key


PROBE = """
import io, json, os
import cairocffi, cairosvg, PIL, PIL.features, pyvips
from PIL import Image
from renderfarm_dagster.formats import FORMATS
from renderfarm_dagster.render.typeset import TextStyle, font_set, set_text
from renderfarm_dagster.render.variant import renderer_versions
typeset = set_text(SAMPLE, TextStyle(("Noto Sans",), language="de"), font_set(), 900, 2, 40, 40)
SWATCH = Image.new("RGB", (32, 24), (200, 40, 30))
print(json.dumps({
    "cairo": cairocffi.cairo_version_string(),
    "cairosvg": cairosvg.__version__,
    "pillow": PIL.__version__,
    "pillow_features": {f: PIL.features.check(f) for f in ("jpg", "webp", "zlib", "avif")},
    "vips": [pyvips.version(i) for i in range(3)],
    "vips_savers": {
        s: pyvips.type_find("VipsOperation", s) != 0 for s in ("pngsave_buffer", "heifsave_buffer")
    },
    # Every output format encodes in the image, and Pillow (the checks) reads it back.
    "formats": {
        name: Image.open(io.BytesIO(f.encode(SWATCH, f.default_quality))).size == (32, 24)
        for name, f in FORMATS.items()
    },
    "runs": [[os.path.basename(r.font), list(r.glyphs), list(r.x)] for r in typeset.runs],
    "uncovered": typeset.uncovered,
    "renderer": renderer_versions(),
}))
"""
# Every bundled script, with bidi and a fallback: the glyphs set in the image must be the
# ones set here, from the same fonts at the same positions.
SAMPLE = (
    "Trail Runner 2 — Größe 42 · Ελληνικά · Русский · سعر 89 · שלום · हिन्दी · ไทย · தமிழ் · 日本語"
)


def runs_here():
    typeset = set_text(SAMPLE, TextStyle(("Noto Sans",), language="de"), font_set(), 900, 2, 40, 40)
    return [[os.path.basename(r.font), list(r.glyphs), list(r.x)] for r in typeset.runs]


def test_the_renderers_fonts_and_libraries_are_present_and_pip_check_is_clean(container):
    probe = container.run(["python", "-c", f"SAMPLE = {SAMPLE!r}\n{PROBE}"], LOCAL)
    assert probe.returncode == 0, probe.stderr[-4000:]
    found = json.loads(probe.stdout)
    # The same shaping stack and bundled fonts as the machine whose renders the tests check:
    # the same glyphs at the same positions, every character covered.
    assert found["uncovered"] == ""
    assert found["runs"] == runs_here()
    assert found["renderer"] == renderer_versions()
    assert all(found["pillow_features"].values()), found["pillow_features"]
    assert all(found["vips_savers"].values()), found["vips_savers"]
    assert all(found["formats"].values()), found["formats"]
    assert re.fullmatch(r"1\.\d+\.\d+", found["cairo"]), found["cairo"]

    pip_check = container.run(["python", "-m", "pip", "check"], LOCAL)
    assert pip_check.returncode == 0, pip_check.stdout + pip_check.stderr
    assert "No broken requirements found" in pip_check.stdout


# A package manager's cache or lists: useless at run time, and a layer keeps them for good even
# when a later layer deletes them.
CACHE_PATH = re.compile(
    r"(^|/)(var/lib/apt/lists/[^/]+[^/]$|var/cache/apt/archives/.+\.deb$|root/\.cache/pip/.+"
    r"|var/cache/apt/[^/]+\.bin$|tmp/pip-.+)"
)


def test_no_layer_keeps_a_package_cache(built_image, tmp_path):
    cached = {
        layer: [path for path in paths if CACHE_PATH.search(path) and not path.endswith("/lock")]
        for layer, paths in layer_files(built_image, tmp_path).items()
    }
    assert {layer: paths for layer, paths in cached.items() if paths} == {}


def test_the_image_holds_the_projects_code_and_nothing_of_the_repository_beside_it(
    container,
):
    workdir = container.host_path(container.config.workdir)
    assert sorted(path.name for path in workdir.iterdir()) == ["worker_image"]
    assert [p.name for p in (workdir / "worker_image").iterdir()] == ["constraints.txt"]
    assert not list(workdir.rglob("__pycache__"))
    assert not Path(container.host_path("/tmp/renderfarm-src")).exists()
    # What runs is the installed package, with its package data, from the working directory.
    found = container.run(
        ["python", "-c", "import renderfarm_dagster; print(renderfarm_dagster.__file__)"], LOCAL
    )
    assert found.stdout.strip().startswith("/usr/local/lib/python3.11/site-packages/"), (
        found.stdout + found.stderr
    )
    assert Path(container.host_path("/opt/dagster/home/dagster.yaml")).exists()
