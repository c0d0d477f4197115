"""`make dev`, as the README tells a newcomer to run it: the example catalog shows up by itself."""

import time

from tests.ui.dagster_ui import DagsterUI
from tests.ui.graphql import LOCATION, REPOSITORY

# The acceptance bar: the example catalog in the UI within a minute of `make dev`.
WITHIN_S = 60
EXAMPLES = ["city-commuter-bag", "nordlicht-thermobecher", "summit-jacket", "trail-runner-2"]


def catalog_shown(ui: DagsterUI) -> dict | None:
    data = ui.graphql(
        """query Catalog($key: AssetKeyInput!, $sensor: SensorSelector!) {
             assetNodeOrError(assetKey: $key) { ... on AssetNode {
               partitionKeysByDimension { partitionKeys }
               assetChecksOrError { ... on AssetChecks { checks { name } } } } }
             sensorOrError(sensorSelector: $sensor) { ... on Sensor {
               sensorState { status } } } }""",
        key={"path": ["rendered_variants"]},
        sensor={
            "repositoryLocationName": LOCATION,
            "repositoryName": REPOSITORY,
            "sensorName": "spec_inbox_sensor",
        },
    )
    (dimension,) = data["assetNodeOrError"]["partitionKeysByDimension"]
    if sorted(dimension["partitionKeys"]) != EXAMPLES:
        return None
    return data


def test_make_dev_shows_the_example_catalog_within_a_minute(tmp_path):
    ui = DagsterUI(tmp_path)
    started = time.monotonic()
    ui.start("dev", "make", "--no-print-directory", "dev", f"DEV_PORT={ui.port}")
    try:
        ui.wait_for(ui.serving, "the webserver of `make dev`", timeout_s=WITHIN_S)
        shown = ui.wait_for(
            lambda: catalog_shown(ui), "the example products as partitions", timeout_s=WITHIN_S
        )
        elapsed = time.monotonic() - started
    finally:
        ui.stop()
    assert elapsed < WITHIN_S, f"the catalog took {elapsed:.0f}s to appear"
    assert shown["sensorOrError"]["sensorState"]["status"] == "RUNNING"
    # The rendered_variants asset has no checks of its own; the manifest's are the product's.
    assert shown["assetNodeOrError"]["assetChecksOrError"]["checks"] == []
    log = (tmp_path / "dev.log").read_text()
    assert "stored specs/summit-jacket.json" in log
