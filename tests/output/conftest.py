"""Shared by the map tests: a real headless Chromium (Debian's), and pages opened offline."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y "
                    "chromium; .ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def open_map(browser, path: Path, size=(1366, 768)):
    """The run's map with every http(s) request aborted (no internet), once its script is
    ready, and the list its script errors are collected in."""
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/*", lambda r: r.abort() if r.request.url.startswith(("http:", "https:"))
               else r.continue_())
    page.goto(path.as_uri())
    page.wait_for_function("() => window.kurszugangKarte && window.kurszugangKarte.ready")
    return page, errors
