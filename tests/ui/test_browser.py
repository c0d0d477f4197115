"""What a person sees in the Dagster UI after the backfills, in a real browser.

Debian's chromium, driven headless by Playwright (the browser is the system's; Playwright's
own download is never used). Screenshots go to test-artifacts/ui/, or to the folder named by
RENDERFARM_SCREENSHOTS_DIR (`make screenshots` refreshes the README's from here).
"""

import os
import shutil
from pathlib import Path

import pytest

from tests.ui.dagster_ui import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As root, without a display, on a machine whose network reaches only package registries.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 60_000


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


def screenshots() -> Path:
    folder = Path(os.environ.get("RENDERFARM_SCREENSHOTS_DIR", ROOT / "test-artifacts" / "ui"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_page(page, url: str) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(url)
    # Dagster's first-visit community dialog: a person skips it.
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=5_000)
    except PlaywrightTimeout:
        return  # not shown: the instance remembers it was skipped
    skip.click()


def test_partitions_page_shows_every_product_and_a_materialisation_preview(backfills, page):
    open_page(page, f"{backfills.ui.url}/assets/rendered_variants?view=partitions")
    page.get_by_text("4 Partitions Selected").wait_for()
    assert page.get_by_text("Materialized (4)").is_visible()
    assert page.get_by_text("Failed (0)").is_visible()
    page.get_by_text("summit-jacket", exact=True).first.click()
    page.get_by_text("Latest materialization").wait_for()
    # The partition's own metadata, not its batch's: its own contact sheet.
    page.get_by_text("contact_sheet_key", exact=True).wait_for()
    page.get_by_text("previews/summit-jacket.jpg", exact=True).wait_for()
    page.screenshot(path=screenshots() / "partitions.png")
    page.get_by_text("Show Markdown").click()
    preview = page.locator('img[alt="summit-jacket contact sheet"]')
    preview.wait_for()
    loaded = preview.evaluate("image => image.complete && image.naturalWidth")
    assert loaded == 640, "the contact sheet preview did not load"
    page.screenshot(path=screenshots() / "preview.png")


def test_checks_page_shows_the_latest_results(backfills, page):
    open_page(page, f"{backfills.ui.url}/assets/product_manifest?view=checks")
    for name in ("manifest_matches_spec", "outputs_match_manifest", "outputs_are_valid_images"):
        page.get_by_text(name, exact=True).first.wait_for()
    page.get_by_text("Latest execution").wait_for()
    page.get_by_text("Passed", exact=True).first.wait_for()
    page.screenshot(path=screenshots() / "checks.png")
