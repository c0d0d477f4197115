"""One real webserver and daemon for the UI tests, with the backfills they look at.

Four example products, two per run (RENDERFARM_PARTITIONS_PER_RUN=2). One product's spec is
missing at first, so the run holding it fails; the backfill of the failed partitions, launched
after the spec is back, re-runs only those products.
"""

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.ui import graphql
from tests.ui.browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS
from tests.ui.dagster_ui import start_ui

PRODUCTS = ["city-commuter-bag", "nordlicht-thermobecher", "summit-jacket", "trail-runner-2"]
MISSING = "summit-jacket"


@pytest.fixture(scope="package")
def dagster_ui(tmp_path_factory):
    """The webserver over the example catalog (submitted: specs stored, partitions registered)."""
    ui = start_ui(tmp_path_factory.mktemp("dagster-ui"))
    try:
        yield ui
    finally:
        ui.stop()


@pytest.fixture(scope="package")
def backfills(dagster_ui):
    ui = dagster_ui
    # The spec sensor would request a run for every submitted spec by itself; here the
    # backfills are what renders, as when a team re-renders its catalog from the UI.
    graphql.stop_sensor(ui, "spec_inbox_sensor")
    spec = ui.bucket / "specs" / f"{MISSING}.json"
    aside = ui.folder / spec.name
    spec.rename(aside)
    ui.start_daemon()
    first_id = graphql.launch_backfill(ui, PRODUCTS)
    first = graphql.wait_for_backfill(ui, first_id)
    after_first = graphql.partition_statuses(ui, "rendered_variants")
    aside.rename(spec)
    second_id = graphql.launch_backfill(ui, after_first["failed"])
    second = graphql.wait_for_backfill(ui, second_id)
    return SimpleNamespace(
        ui=ui,
        first=first,
        after_first=after_first,
        second=second,
        after_second={
            asset: graphql.partition_statuses(ui, asset)
            for asset in ("rendered_variants", "product_manifest")
        },
    )


@pytest.fixture(scope="module")
def browser():
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "Playwright is not installed (it is in the project's dev dependencies)"
    if reason is None and not Path(CHROMIUM).exists():
        reason = (
            "chromium is not installed; `make test` installs Debian's chromium when run as root "
            "(tests/install-test-packages.sh)"
        )
    if reason:
        # CI must run every test: there a missing browser is a failure, not a skip.
        if os.environ.get("RENDERFARM_REQUIRE_TEST_SERVICES"):
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    page.close()
