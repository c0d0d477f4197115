"""Shared fixtures: a small valid spec, a temporary local deployment, a test Dagster instance."""

from __future__ import annotations

import copy
import json
import logging
import os
from fractions import Fraction
from pathlib import Path

import dagster as dg
import pytest

from renderfarm_dagster.deployment.local import LocalMessagingResource, LocalStorageResource

# As the deployments set it (Makefile, infra): a batch run logs one planned event per asset.
os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "true")

EXAMPLES = Path(__file__).resolve().parent.parent / "renderfarm_dagster" / "examples"
# The example catalog as it was before spec version 2 (the bundled examples now show photos).
V1_EXAMPLES = Path(__file__).resolve().parent / "render" / "v1_examples"

SMALL_SPEC = {
    "spec_version": 1,
    "product_id": "test-shoe",
    "template": "product-card",
    "title": "Test Shoe",
    "subtitle": "A small spec for fast tests",
    "price": {"amount": "10.00", "currency": "EUR"},
    "badge": "New",
    "variants": [
        {
            "variant_id": "red",
            "label": "Red",
            "colors": {"primary": "#d62828", "accent": "#003049"},
        },
        {
            "variant_id": "blue",
            "label": "Blue",
            "colors": {"primary": "#1d4e89", "accent": "#f4a259"},
        },
        {
            "variant_id": "green",
            "label": "Green",
            "colors": {"primary": "#2d6a4f", "accent": "#d8f3dc"},
        },
    ],
    "outputs": [
        {"name": "hero", "width": 160, "height": 160, "format": "png"},
        {"name": "listing", "width": 96, "height": 96, "format": "webp", "quality": 80},
        {"name": "thumb", "width": 48, "height": 48, "format": "jpeg"},
    ],
}


@pytest.fixture
def spec_doc() -> dict:
    """A fresh deep copy of a small valid spec, to modify freely."""
    return copy.deepcopy(SMALL_SPEC)


def spec_bytes(doc: dict) -> bytes:
    return json.dumps(doc).encode("utf-8")


def layout_of(spec, variant_id: str, aspect: Fraction = Fraction(1)):
    """The layout (SVG document and set text) a variant of a spec on a bundled template is
    drawn from."""
    from renderfarm_dagster.catalog.templates import bundled_template
    from renderfarm_dagster.render.layout import layout

    return layout(
        bundled_template(spec.template).template,
        spec.layer_values(variant_id),
        aspect,
        language=spec.locale_of(variant_id),
    )


def svg_of(spec, variant_id: str, aspect: Fraction = Fraction(1)) -> bytes:
    """The SVG document a variant of a spec on a bundled template is drawn from."""
    return layout_of(spec, variant_id, aspect).svg


def bundled_job(spec, variant_id: str, wanted: tuple[str, ...] | None = None):
    """The render job of a variant of a spec on a bundled template, without photos."""
    from renderfarm_dagster.catalog.product_inputs import ProductInputs
    from renderfarm_dagster.catalog.rendering import variant_job
    from renderfarm_dagster.catalog.templates import bundled_template

    return variant_job(
        ProductInputs(spec, bundled_template(spec.template), {}), variant_id, {}, wanted
    )


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh local deployment, selected for everything this test loads."""
    directory = tmp_path / "renderfarm-data"
    monkeypatch.setenv("RENDERFARM_DATA_DIR", str(directory))
    monkeypatch.delenv("RENDERFARM_DEPLOYMENT", raising=False)
    return directory


@pytest.fixture
def storage(data_dir: Path) -> LocalStorageResource:
    return LocalStorageResource(data_dir=str(data_dir))


@pytest.fixture
def messaging(data_dir: Path) -> LocalMessagingResource:
    return LocalMessagingResource(data_dir=str(data_dir))


@pytest.fixture
def instance():
    with dg.instance_for_test() as test_instance:
        yield test_instance


@pytest.fixture(scope="session")
def moto_endpoint():
    """A moto server on a free loopback port for the whole session, reached over real HTTP."""
    from moto.server import ThreadedMotoServer

    # One access-log line per request would bury every test's own output.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_endpoint, monkeypatch):
    """A fresh aws deployment on the moto server, selected for everything this test loads."""
    from devkit.aws import CREDENTIALS, provision

    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    deployment = provision(moto_endpoint)
    for name, value in deployment.environment().items():
        monkeypatch.setenv(name, value)
    return deployment


@pytest.fixture(scope="session")
def postgres():
    """A private PostgreSQL server for the session (Debian's binaries; see devkit/postgres.py)."""
    from devkit.postgres import running_postgres, server_binaries

    binaries = server_binaries()
    if binaries is None:
        reason = (
            "PostgreSQL's server is not installed; `make test` installs it when run as root "
            "(tests/install-test-packages.sh)"
        )
        # CI must run every test: there a missing server is a failure, not a skip.
        if os.environ.get("RENDERFARM_REQUIRE_TEST_SERVICES"):
            pytest.fail(reason)
        pytest.skip(reason)
    with running_postgres(binaries) as server:
        yield server
