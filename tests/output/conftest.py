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


_SETTLE = """async ([lat, lon, zoom]) => {
  const m = window.kurszugangKarte.map, pause = ms => new Promise(r => setTimeout(r, ms));
  for (let k = 0; k < 100; k++) {
    m.closePopup(); m.stop();
    // a zoom animation still running (the opening fit) ends on a timer and would move the
    // map back to its own target: wait for it before the view is set
    if (m._animatingZoom) { await pause(100); continue; }
    m.setView([lat, lon], zoom, {animate: false});
    await pause(150);
    const c = m.getCenter();
    if (!m._animatingZoom && m.getZoom() === zoom && Math.abs(c.lat - lat) < 1e-6
        && Math.abs(c.lng - lon) < 1e-6) return m.latLngToContainerPoint([lat, lon]);
  }
  throw new Error('the map did not settle on the view');
}"""


def settle_view(page, lat: float, lon: float, zoom: int) -> dict:
    """Centre the map on (lat, lon) at zoom once no animation can move it any more; returns
    the point's position in the page, for a click there."""
    return page.evaluate(_SETTLE, [float(lat), float(lon), int(zoom)])


_STILL = """async () => {
  const m = window.kurszugangKarte.map, pause = ms => new Promise(r => setTimeout(r, ms));
  let last = null;
  for (let k = 0; k < 150; k++) {
    const c = m.getCenter(), now = [c.lat, c.lng, m.getZoom()].join();
    const moving = m._animatingZoom || (m._panAnim && m._panAnim._inProgress);
    if (now === last && !moving) return;
    last = now;
    await pause(200);
  }
  throw new Error('the map kept moving');
}"""


def wait_still(page) -> None:
    """Wait until the map has come to rest (a fly or pan animation ended): its view unchanged
    over 200 ms and no animation running."""
    page.evaluate(_STILL)
