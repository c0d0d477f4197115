"""What a person sees in the Dagster UI after the backfills, in a real browser.

Debian's chromium, driven headless by Playwright (the browser is the system's; Playwright's
own download is never used). Screenshots go to test-artifacts/ui/, or to the folder named by
RENDERFARM_SCREENSHOTS_DIR (`make screenshots` refreshes docs/images/ from here).
"""

from tests.ui.browser import open_page, screenshots


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
