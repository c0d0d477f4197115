"""Debian's chromium, driven headless by Playwright, for the UI tests (the browser is the
system's; Playwright's own download is never used). Screenshots go to test-artifacts/ui/, or to
the folder named by RENDERFARM_SCREENSHOTS_DIR (`make screenshots` refreshes docs/images/)."""

import os
import shutil
from pathlib import Path

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
