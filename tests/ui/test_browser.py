"""What a person sees in the Dagster UI after the backfills, in a real browser.

Debian's chromium, driven headless by Playwright (the browser is the system's; Playwright's
own download is never used). Screenshots go to test-artifacts/ui/, or to the folder named by
RENDERFARM_SCREENSHOTS_DIR (`make screenshots` refreshes docs/images/ from here).
"""

from tests.ui.browser import open_page, screenshots


def test_partitions_page_shows_every_product_and_a_link_to_its_contact_sheet(backfills, page):
    open_page(page, f"{backfills.ui.url}/assets/rendered_variants?view=partitions")
    page.get_by_text("4 Partitions Selected").wait_for()
    assert page.get_by_text("Materialized (4)").is_visible()
    assert page.get_by_text("Failed (0)").is_visible()
    page.get_by_text("summit-jacket", exact=True).first.click()
    page.get_by_text("Latest materialization").wait_for()
    # The partition's own metadata, not its batch's: a link to its own contact sheet (the
    # sheet's bytes stay out of the event log).
    page.get_by_text("contact_sheet", exact=True).wait_for()
    link = page.locator('a[href$="/previews/summit-jacket.jpg"]').first
    link.wait_for()
    assert link.get_attribute("href").startswith("file:///")
    page.screenshot(path=screenshots() / "partitions.png")


def test_checks_page_shows_the_latest_results(backfills, page):
    open_page(page, f"{backfills.ui.url}/assets/product_manifest?view=checks")
    page.get_by_text("product_verified", exact=True).first.wait_for()
    page.get_by_text("Latest execution").wait_for()
    page.get_by_text("Passed", exact=True).first.wait_for()
    page.screenshot(path=screenshots() / "checks.png")
