"""The web map (kurszugang.output.webmap): inputs, a self-contained page, and the demo map in a
real headless Chromium, offline."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import folium
import numpy as np
import pandas as pd
import pytest
from folium import plugins

from kurszugang.analysis.catchments import isochrones, site_surfaces
from kurszugang.analysis.coverage import course_access, coverage_summary
from kurszugang.analysis.grid import analysis_grid
from kurszugang.analysis.layers import stop_departures, travel_time_to_nearest
from kurszugang.demo import COURSES_AS_OF, SCHOOL_DAY, demo_files
from kurszugang.errors import ConfigError, InputError
from kurszugang.io.boundaries import read_boundaries
from kurszugang.output import webmap
from kurszugang.output.webmap import (
    DEMO_ATTRIBUTION,
    UNCLUSTER_ZOOM,
    build_webmap,
    coverage_share,
    render_webmap,
    write_webmap,
)
from tests.output.conftest import open_map as _open
from tests.output.conftest import settle_view, wait_still

SURFACE_SITES = ("KS01", "KS06")
PARAMETERS = {"Reisezeit je Weg": "höchstens 45 min", "Ankunft": "frühestens 30 min vor Beginn"}


@pytest.fixture(scope="module")
def wm(demo):
    """The demo district's results: coverage at course times (straight-line walking, to be
    quick), catchments of two sites on the 1 km grid, stops with departures."""
    gem, krs, feed, courses = demo.gemeinden, demo.kreis, demo.feed, demo.courses
    cells = demo.cells(participant_factor=0.05)
    pool = demo.pool(osm=False)
    access = course_access(pool, cells, courses, SCHOOL_DAY, max_threshold_min=60,
                           on_demand=False)
    coverage = coverage_summary(access).merge(travel_time_to_nearest(access), on="ags",
                                              how="left")
    grid = analysis_grid(gem, None, resolution_m=1000)
    surfaces = site_surfaces(pool.get(SCHOOL_DAY), grid, courses, arrive_by="08:30",
                             max_time_min=90, site_ids=list(SURFACE_SITES))
    iso = pd.concat([isochrones(s) for s in surfaces.values()], ignore_index=True)
    stops = stop_departures(feed, SCHOOL_DAY)
    return {"gem": gem, "krs": krs, "courses": courses, "access": access,
            "coverage": coverage, "iso": iso, "surfaces": surfaces, "stops": stops,
            "feed": feed}


def _build(wm, **options):
    kwargs = {"gemeinden": wm["gem"], "kreis": wm["krs"], "courses": wm["courses"],
              "coverage": wm["coverage"], "analysis_date": SCHOOL_DAY,
              "parameters": PARAMETERS, "isochrones": wm["iso"],
              "surface": wm["surfaces"], "stops": wm["stops"],
              "attribution": DEMO_ATTRIBUTION}
    kwargs.update(options)
    return build_webmap(**kwargs)


@pytest.fixture(scope="module")
def demo_page(wm, tmp_path_factory):
    path = tmp_path_factory.mktemp("webmap") / "karte.html"
    write_webmap(_build(wm), path)
    return path


def _expected_markers(courses) -> int:
    """One marker per site and (course type, schedule) offered there."""
    return len(courses.courses[["site_id", "course_type", "schedule"]].drop_duplicates())


def _expected_overlays(wm) -> int:
    """Inputs of the layer control: a checkbox per course type and schedule, three course
    filters, the Gemeinde choice (none or one of 2 choropleths), one choice per site's catchment
    and per surface (each with "none"), stops and the two boundaries."""
    c = wm["courses"].courses
    combos = len(c[["course_type", "schedule"]].drop_duplicates())
    sites = wm["iso"]["site_id"].nunique()
    return combos + 3 + (1 + 2) + (1 + sites) + (1 + len(wm["surfaces"])) + 1 + 2


# --- inputs ---------------------------------------------------------------------------------------

def test_coverage_share_is_participants_who_can_attend_over_all(wm):
    cov = wm["coverage"]
    share = coverage_share(cov)
    want = 100 * cov["part_any"] / cov["participants"]
    assert np.allclose(share["share_pct"].to_numpy(), want.to_numpy())
    assert share["ags"].tolist() == cov["ags"].tolist()
    alpha = coverage_share(cov, course_type="alpha")
    assert (alpha["can_attend"] <= share["can_attend"] + 1e-9).all()
    assert np.allclose(alpha["share_pct"], 100 * cov["part_type_alpha"] / cov["participants"])
    empty = coverage_share(pd.DataFrame({"ags": ["09999001"], "participants": [0.0],
                                         "part_any": [0.0]}))
    assert np.isnan(empty["share_pct"].iloc[0])


def test_unknown_course_type_names_the_known_ones(wm):
    with pytest.raises(ConfigError, match=r"'zweitschrift' is not in the coverage table; it has "
                                          r"allgemein, alpha, eltern"):
        coverage_share(wm["coverage"], course_type="zweitschrift")


def test_nearest_travel_time_agrees_with_coverage(wm):
    """The weighted median is within 45 min exactly where at least half the participants can
    attend within 45 min (the rule of coverage_summary)."""
    cov = wm["coverage"].set_index("ags")
    share45 = cov["part_any"] / cov["participants"]
    median = cov["minutes_nearest"]
    within = median.fillna(np.inf) <= 45
    assert (within == (share45 >= 0.5)).all()
    assert within.any() and (~within).any()
    # One Gemeinde by hand: sort its cells by their time and take the participant median.
    access = wm["access"]
    cells = access.cells.reset_index(drop=True)
    ags = median.dropna().index[0]
    rows = np.flatnonzero((cells["ags"] == ags).to_numpy())
    t = np.maximum(np.nan_to_num(access.time_there[rows], nan=np.inf),
                   np.nan_to_num(access.time_back[rows], nan=np.inf)).min(axis=1) / 60
    w = cells["participants"].to_numpy()[rows]
    order = np.argsort(t, kind="stable")
    cum = np.cumsum(w[order]) / w.sum()
    assert median[ags] == pytest.approx(t[order][np.searchsorted(cum, 0.5 - 1e-12)])


def test_stop_departures_count_boardings_per_hour(wm):
    feed, stops = wm["feed"], wm["stops"]
    st = feed.stop_times
    running = st[st["trip_id"].isin(feed.trips_on(SCHOOL_DAY)["trip_id"])].copy()
    running["left"] = running.groupby("trip_id").cumcount(ascending=False)
    boarding = running[(running["left"] > 0) & (running["pickup_type"].fillna(0) != 1)]
    want = boarding.groupby("stop_id").size()
    got = stops.set_index("stop_id")["departures"]
    assert got.sum() == len(boarding) > 500
    assert (got[want.index.astype(str)].to_numpy() == want.to_numpy()).all()
    hours = [c for c in stops.columns if c.startswith("dep_h")]
    assert hours[:24] == [f"dep_h{h:02d}" for h in range(24)]
    assert (stops[hours].sum(axis=1) == stops["departures"]).all()
    busiest = got.idxmax()
    hour7 = (boarding[(boarding["stop_id"] == busiest)]["departure_time"] // 3600 == 7).sum()
    assert stops.set_index("stop_id").loc[busiest, "dep_h07"] == hour7
    assert stops.crs.to_epsg() == 25832


def test_gemeinden_without_name_column_are_rejected(wm):
    with pytest.raises(InputError, match=r"the Gemeinden lacks the column\(s\) gen"):
        _build(wm, gemeinden=wm["gem"].drop(columns=["gen"]))


def test_isochrones_without_band_limits_are_rejected(wm):
    with pytest.raises(InputError, match=r"the isochrones lacks the column\(s\) band_max"):
        _build(wm, isochrones=wm["iso"].drop(columns=["band_max"]))


def test_unknown_language_is_rejected(wm):
    with pytest.raises(ConfigError, match="language must be one of de, en, got 'fr'"):
        _build(wm, language="fr")


def test_writing_into_a_missing_folder_names_it(wm, tmp_path):
    m = _build(wm, isochrones=None, surface=None, stops=None)
    with pytest.raises(InputError, match="does not exist"):
        write_webmap(m, tmp_path / "nicht_da" / "karte.html")


def test_offline_page_refuses_icons_that_need_the_internet(wm, tmp_path):
    m = _build(wm, isochrones=None, surface=None, stops=None)
    folium.Marker([49.3, 12.45], icon=folium.Icon(color="red")).add_to(m)
    with pytest.raises(ConfigError, match="folium.Icon markers need Font Awesome"):
        write_webmap(m, tmp_path / "karte.html")
    # Online, folium's CDN links stay.
    page = write_webmap(m, tmp_path / "karte_online.html", offline=False).read_text("utf-8")
    assert 'src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"' in page


# --- the page -------------------------------------------------------------------------------------

def test_folium_asks_for_the_vendored_versions():
    """The vendored files are the versions folium links; a folium upgrade that changes them
    fails here (fetch the new versions, see kurszugang/output/assets/README.md)."""
    wanted = {
        "leaflet": "leaflet@1.9.3", "leaflet_css": "leaflet@1.9.3",
        "markerclusterjs": "markercluster/1.1.0", "markerclustercss": "markercluster/1.1.0",
        "markerclusterdefaultcss": "markercluster/1.1.0",
        "featuregroupsubgroupjs": "subgroup@1.0.2",
        "Control.Fullscreen.js": "fullscreen@3.0.0", "Control.FullScreen.css": "fullscreen@3.0.0",
        "Leaflet.Search.js": "search@2.9.7", "Leaflet.Search.css": "search@2.9.7",
    }
    links = dict(folium.Map.default_js + folium.Map.default_css
                 + plugins.MarkerCluster.default_js + plugins.MarkerCluster.default_css
                 + plugins.FeatureGroupSubGroup.default_js + plugins.Fullscreen.default_js
                 + plugins.Fullscreen.default_css + plugins.Search.default_js
                 + plugins.Search.default_css)
    assert set(wanted) == set(webmap._ASSETS)
    for name, version in wanted.items():
        assert version in links[name], (name, links[name])
        assert (webmap.ASSETS_DIR / webmap._ASSETS[name]).is_file()
    licences = sorted(p.parent.name for p in webmap.ASSETS_DIR.rglob("*")
                      if p.name.lower().startswith(("license", "mit-licence")))
    assert licences == sorted(["leaflet", "leaflet-search", "leaflet.featuregroup.subgroup",
                               "leaflet.fullscreen", "leaflet.markercluster"])
    assert "Leaflet 1.9.3," in (webmap.ASSETS_DIR / "leaflet/leaflet.js").read_text("utf-8")[:200]


def test_page_is_one_self_contained_file(demo_page):
    page = demo_page.read_text(encoding="utf-8")
    external = re.findall(r"<(?:script|link|img)\b[^>]*(?:src|href)\s*=\s*[\"']?(?:https?:)?//",
                          page)
    assert external == []
    assert re.findall(r"url\(\s*[\"']?(?:https?:)?//", page) == []
    # Every library is inline: Leaflet, MarkerCluster, SubGroup, Fullscreen, Search.
    for rel in webmap._ASSETS.values():
        assert f"/* {rel} (kurszugang/output/assets) */" in page
    assert "jquery" not in page.lower() and "bootstrap" not in page.lower()
    # The base map is the only address on the internet, in the tile layer's URL template.
    hosts = set(re.findall(r"https?://([a-z0-9.-]+)/\{z\}", page))
    assert hosts == {"tile.openstreetmap.org"}
    assert page.startswith("<!DOCTYPE html>") and '<html lang="de">' in page
    assert 1e5 < demo_page.stat().st_size < 3e6


def test_english_page(wm, tmp_path):
    page = write_webmap(_build(wm, language="en", stops=None), tmp_path / "map.html")
    text = page.read_text(encoding="utf-8")
    assert '<html lang="en">' in text
    assert "Municipality boundaries" in text and "Gemeindegrenzen" not in text
    assert "Course list as of" in text and "Map data: \\u00a9 OpenStreetMap contributors" in text
    assert "2026-11-02" in text  # the course list's date, ISO in English


# --- the page in a real browser -------------------------------------------------------------------

def _offline_page(browser, path: Path):
    """Open the page with every http(s) request aborted (no internet); collect errors."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    log: dict[str, list] = {"errors": [], "console": [], "requests": []}
    page.on("pageerror", lambda e: log["errors"].append(str(e)))
    page.on("console", lambda m: log["console"].append((m.type, m.text, m.location.get("url"))))

    def route(r):
        log["requests"].append(r.request.url)
        if r.request.url.startswith(("http:", "https:")):
            r.abort()
        else:
            r.continue_()

    page.route("**/*", route)
    page.goto(path.as_uri())
    page.wait_for_function("() => window.kurszugangKarte !== undefined")
    page.wait_for_timeout(300)
    return page, log


def _paths(page, pane: str) -> int:
    return page.evaluate(f"() => document.querySelectorAll('.leaflet-{pane} path').length")


@pytest.mark.browser
def test_demo_map_in_headless_chromium_offline(wm, demo_page, browser, tmp_path):
    page, log = _offline_page(browser, demo_page)
    try:
        # No JavaScript errors; the only failures are the base map's tiles (no internet).
        assert log["errors"] == []
        bad = [c for c in log["console"] if c[0] == "error"
               and not (c[2] or "").startswith("https://tile.openstreetmap.org/")]
        assert bad == []
        for _ in range(150):  # tile requests reach the route handler one by one, later
            tiles = [u for u in log["requests"]
                     if u.startswith("https://tile.openstreetmap.org/")]
            if len(tiles) >= 4:
                break
            page.wait_for_timeout(200)
        assert len(tiles) >= 4  # online, the base map would appear
        assert [u for u in log["requests"] if u.startswith("http")
                and not u.startswith("https://tile.openstreetmap.org/")] == []

        # Every data source is credited, the base map's too.
        credits = page.locator(".leaflet-control-attribution").inner_text()
        assert "Kartendaten: © OpenStreetMap-Mitwirkende (ODbL)" in credits
        assert "Landkreis Beispiel (fiktiv): Grenzen, Fahrplan" in credits
        info = page.locator(".kz-box", has_text="Stichtag").inner_text()
        assert "Stichtag: Dienstag, 10.03.2026" in info
        assert "Reisezeit je Weg: höchstens 45 min" in info

        # Every course marker is in the cluster; every overlay is in the layer control.
        n_markers = _expected_markers(wm["courses"])
        assert page.evaluate("() => window.kurszugangKarte.cluster.getLayers().length") \
            == n_markers == 13
        inputs = page.locator(".leaflet-control-layers-overlays input")
        assert inputs.count() == _expected_overlays(wm)
        # The base map, or none (a plain background, e.g. on a projector offline).
        assert page.locator(".leaflet-control-layers-base input").count() == 2
        # Drawn without internet: 20 Gemeinde fills with tooltips, clusters or markers.
        assert _paths(page, "kz-fill-pane") == len(wm["gem"])
        assert _paths(page, "kz-lines-pane") == len(wm["gem"]) + 1
        assert page.locator(".marker-cluster, .kz-site").count() >= 3

        # The layer control starts collapsed; opened, choosing a site's catchment draws its
        # bands (one polygon per band that is not empty).
        page.locator(".leaflet-control-layers-toggle").click()
        page.locator(".kz-group summary", has_text="Einzugsbereich je Kursort").click()
        band = page.locator(".leaflet-control-layers-overlays label",
                            has_text="Einzugsbereich KS01").locator("input")
        before = _paths(page, "overlay-pane")
        band.check()
        iso = wm["iso"]
        n_band = int(((iso["site_id"] == "KS01") & ~iso.geometry.is_empty).sum())
        assert _paths(page, "overlay-pane") - before == n_band == 5
        # Switching a course layer off removes its markers from the map.
        layer = page.locator(".leaflet-control-layers-overlays label",
                             has_text="Allgemeiner Integrationskurs · Vollzeit").locator("input")
        layer.uncheck()
        c = wm["courses"].courses
        n_full = c[(c["course_type"] == "allgemein") & (c["schedule"] == "vollzeit")][
            "site_id"].nunique()
        assert page.evaluate("() => window.kurszugangKarte.cluster.getLayers().length") \
            == n_markers - n_full
        layer.check()
        # Stops and the travel-time surface draw circles and an image.
        page.locator(".kz-group summary", has_text="Grundlagen").click()
        page.locator(".leaflet-control-layers-overlays label",
                     has_text="Haltestellen").locator("input").check()
        assert _paths(page, "kz-stops-pane") == len(wm["stops"])
        # A stop's popup: its departures on the day and a bar per hour of the service day.
        busiest = wm["stops"].loc[wm["stops"]["departures"].idxmax()]
        page.evaluate("(id) => window.kurszugangKarte.overlays['Haltestellen (Abfahrten)']"
                      ".eachLayer(l => { if (l.feature.properties.stop_id === id) l.openPopup(); })",
                      busiest["stop_id"])
        stop_popup = page.locator(".leaflet-popup-content")
        assert f"Abfahrten am Dienstag, 10.03.2026: {busiest['departures']}" in \
            stop_popup.inner_text()
        n_hours = len([c for c in wm["stops"].columns if c.startswith("dep_h")])
        assert page.locator(".leaflet-popup-content .kz-bars span").count() == n_hours
        page.evaluate("() => window.kurszugangKarte.map.closePopup()")
        page.locator(".kz-group summary", has_text="Reisezeitfläche je Kursort").click()
        page.locator(".leaflet-control-layers-overlays label",
                     has_text="Reisezeitfläche KS01").locator("input").check()
        assert page.locator(".leaflet-kz-raster-pane img.leaflet-image-layer").count() == 1

        # Zoomed in on a site: no clustering, its markers side by side; the popup lists every
        # course of the site and the date of the course list.
        site = wm["courses"].sites.to_crs(4326).set_index("site_id").loc["KS01"]
        settle_view(page, site.geometry.y, site.geometry.x, UNCLUSTER_ZOOM + 1)
        icons = page.locator('.kz-site[data-kz="allgemein|abend"]')
        assert icons.count() == 1
        icons.first.click()
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        text = popup.inner_text()
        assert "VHS Beispiel (fiktiv)" in text and "Marktplatz 4, Beispielstadt" in text
        assert "18:00–21:15" in text and "08:30–12:45" in text
        assert f"Stand der Kursliste: {COURSES_AS_OF:%d.%m.%Y}" in text
        assert "8 von 17" in text  # free places of the evening course

        shot = tmp_path / "karte.png"
        page.evaluate("() => window.kurszugangKarte.map.closePopup()")
        page.locator(".kz-layers .kz-close").click()
        x0, y0, x1, y1 = wm["krs"].to_crs(4326).total_bounds
        page.evaluate(f"() => window.kurszugangKarte.map.fitBounds([[{y0}, {x0}], [{y1}, {x1}]],"
                      " {animate: false})")
        page.wait_for_timeout(300)
        page.screenshot(path=str(shot))
        assert log["errors"] == []
    finally:
        page.close()
    _assert_not_blank(shot, size=(1400, 900))


def _assert_not_blank(path: Path, *, size: tuple[int, int]) -> None:
    from PIL import Image

    with Image.open(path) as im:
        assert im.size == size
        rgb = np.asarray(im.convert("RGB")).reshape(-1, 3)
    colours = np.unique(rgb, axis=0)
    assert len(colours) > 50
    # The coloured Gemeinde fills cover a good part of the page (the background, the panels and
    # the lines are grey, white or black).
    saturated = (rgb.max(axis=1).astype(int) - rgb.min(axis=1)) > 40
    assert saturated.mean() > 0.15


@pytest.mark.browser
def test_search_finds_a_gemeinde(demo_page, browser):
    page, log = _offline_page(browser, demo_page)
    try:
        box = page.locator(".leaflet-control-search input.search-input")
        box.press_sequentially("Probin", delay=20)  # the control reacts to key strokes
        page.locator(".search-tooltip .search-tip", has_text="Probing").first.click(
            timeout=30000)
        wait_still(page)  # the map flies to the Gemeinde
        centre = page.evaluate("() => window.kurszugangKarte.map.getCenter()")
        zoom = page.evaluate("() => window.kurszugangKarte.map.getZoom()")
        assert log["errors"] == []
    finally:
        page.close()
    gem = read_boundaries(demo_files().boundaries, layer="vg250_gem").to_crs(4326)
    x0, y0, x1, y1 = gem.loc[gem["gen"] == "Probing"].total_bounds
    assert x0 <= centre["lng"] <= x1 and y0 <= centre["lat"] <= y1
    assert zoom >= 11


def test_analysis_date_and_parameters_are_in_the_info_box(demo_page):
    page = demo_page.read_text(encoding="utf-8")
    assert "Dienstag, 10.03.2026" in page
    assert "höchstens 45 min" in page and "frühestens 30 min vor Beginn" in page
    assert dt.date(2026, 3, 10) == SCHOOL_DAY


def test_the_run_renders_its_map_from_its_results_alone(demo_results, tmp_path):
    page = render_webmap(demo_results, tmp_path / "karte.html").read_text("utf-8")
    view = demo_results.layer("kurse")
    combos = len(view[["site_id", "course_type", "schedule"]].drop_duplicates())
    assert page.count('kz-site-icon"') == combos
    assert demo_results.info.district_name in page or "Beispiel" in page


# --- the run's page: no script from the data, same bytes, 1366x768, von hier aus, filters ------

PAYLOAD = '<img src=x onerror="window.__xss=1">'
PAYLOADS = (PAYLOAD, "`${window.__xss=2}`", "</script><script>window.__xss=3</script>",
            "{{ 7*7 }}{% raw %}", "javascript:window.__xss=4")


def _with_payloads(results):
    """The demo's Results with markup in every text that comes from an input."""
    import dataclasses

    def table(t, **columns):
        frame = t.frame.copy()
        for col, fn in columns.items():
            frame[col] = [fn(i, v) for i, v in enumerate(frame[col])]
        return dataclasses.replace(t, frame=frame)

    def mark(i, v):
        return f"{PAYLOADS[i % 4]} {v}"

    layers = dict(results.layers)
    tables = dict(results.tables)
    layers["kursorte"] = table(layers["kursorte"], site_name=mark, provider=mark, address=mark,
                               phone=lambda i, v: PAYLOAD, email=lambda i, v: PAYLOAD,
                               web=lambda i, v: PAYLOADS[4])
    layers["kurse"] = table(layers["kurse"], provider=mark)
    layers["haltestellen"] = table(layers["haltestellen"], stop_name=mark, lines=mark)
    layers["gemeinden"] = table(layers["gemeinden"], gen=mark,
                                datenlage=lambda i, v: PAYLOADS[i % 4] if i < 3 else v)
    tables["verbindungen"] = table(tables["verbindungen"], from_stop_name=mark,
                                   to_stop_name=mark, route_name=mark)
    tables["datenlage"] = table(tables["datenlage"], text=mark,
                                rating=lambda i, v: "Warnung" if i == 0 else v)
    tables["adressen"] = table(tables["adressen"], label=mark)
    info = dataclasses.replace(results.info, attribution=(PAYLOAD, *results.info.attribution),
                               district_name=PAYLOAD)
    return dataclasses.replace(results, info=info, layers=layers, tables=tables)


@pytest.fixture(scope="module")
def run_page(demo_results, tmp_path_factory):
    return render_webmap(demo_results, tmp_path_factory.mktemp("karte") / "karte.html")


_EVERY_FEATURE = """() => {
  const K = window.kurszugangKarte, texts = [];
  document.querySelectorAll('.kz-layers input[type=checkbox]').forEach(i => { if (!i.checked) i.click(); });
  for (const [name, layer] of Object.entries(K.refs)) {
    if (!K.map.hasLayer(layer)) K.map.addLayer(layer);
    const each = layer.eachLayer ? (f => layer.eachLayer(f)) : (f => f(layer));
    each(l => {
      (l.eachLayer ? l.getLayers() : [l]).forEach(x => {
        x.fire('mouseover', {latlng: K.map.getCenter()}); if (x.openTooltip) x.openTooltip();
        const t = x.getTooltip && x.getTooltip(); if (t) texts.push(t.getElement ? (t.getElement() || {}).innerText : '');
        if (x.openPopup && x.getPopup && x.getPopup()) { x.openPopup(); const p = x.getPopup().getElement(); if (p) texts.push(p.innerText); x.closePopup(); }
      });
    });
  }
  return texts.join('\\n');
}"""


@pytest.mark.browser
def test_no_script_runs_from_the_data_and_markup_shows_as_text(demo_results, browser, tmp_path):
    path = render_webmap(_with_payloads(demo_results), tmp_path / "karte.html")
    page, errors = _open(browser, path)
    try:
        texts = page.evaluate(_EVERY_FEATURE)
        # The von hier aus panel of a cell with journeys, and the search.
        page.evaluate("() => { const V = window.kurszugangKarte.data.here;"
                      " const c = V.first.findIndex((f, i) => V.first[i + 1] - f >= 4);"
                      " window.kurszugangKarte.showHere(V.lat[c], V.lon[c], '');"
                      " document.querySelectorAll('.kz-here details').forEach(d => d.open = true); }")
        panel = page.locator(".kz-here").inner_text()
        box = page.locator(".leaflet-control-search input.search-input")
        box.press_sequentially("img src", delay=20)
        page.locator(".search-tooltip .search-tip").first.wait_for(timeout=30000)
        tips = page.locator(".search-tooltip").inner_text()
        page.locator(".leaflet-control-layers-toggle").click()
        page.evaluate("() => document.querySelectorAll('.kz-layers details')"
                      ".forEach(d => d.open = true)")
        control = page.locator(".kz-layers").inner_text()
        boxes = " ".join(page.locator(".kz-box").all_inner_texts())
        credits = page.locator(".leaflet-control-attribution").inner_text()
        assert page.evaluate("() => window.__xss") is None
        assert page.evaluate("() => document.querySelectorAll('img[src=x]').length") == 0
        assert errors == []
    finally:
        page.close()
    for where in (texts, tips, boxes, credits):
        assert PAYLOAD in where, where[:300]
    assert any(p in panel for p in PAYLOADS[:4]), panel[:300]  # site and stop names
    assert "`${window.__xss=2}`" in texts and "{{ 7*7 }}{% raw %}" in texts
    assert "</script><script>window.__xss=3</script>" in texts
    assert PAYLOAD in control  # site names in the catchment choices
    assert 'href="javascript:' not in path.read_text("utf-8")


def _render_in_subprocess(out_dir: Path, target: Path, seed: str) -> bytes:
    import os
    import subprocess
    import sys

    code = ("import sys; from kurszugang.results import Results; "
            "from kurszugang.output.webmap import render_webmap; "
            "render_webmap(Results.load(sys.argv[1]), sys.argv[2])")
    env = {**os.environ, "PYTHONHASHSEED": seed}
    subprocess.run([sys.executable, "-c", code, str(out_dir), str(target)], check=True, env=env)
    return target.read_bytes()


def test_the_same_results_give_the_same_bytes(demo_run, tmp_path):
    first = _render_in_subprocess(demo_run.out_dir, tmp_path / "a.html", "1")
    second = _render_in_subprocess(demo_run.out_dir, tmp_path / "b.html", "2")
    assert first == second
    assert re.search(rb"[0-9a-f]{32}", first) is None  # no random element id is left
    assert b"kz0000" in first


@pytest.mark.browser
def test_the_page_fits_1366x768(run_page, demo_results, browser):
    page, errors = _open(browser, run_page)
    try:
        size = page.evaluate("() => { const r = document.querySelector('.folium-map')"
                             ".getBoundingClientRect(); return [r.width, r.height]; }")
        box = page.locator(".kz-layers").bounding_box()
        assert box["width"] * box["height"] <= 0.1 * size[0] * size[1]
        assert page.locator(".kz-layers .leaflet-control-layers-list").is_hidden()
        legend = page.locator(".kz-legend").bounding_box()
        assert legend["x"] >= 0 and legend["y"] >= 0
        assert legend["x"] + legend["width"] <= 1366 and legend["y"] + legend["height"] <= 768
        assert page.locator(".kz-datenlage").inner_text() == "Datenlage: keine Einschränkung"
        # A click on a Gemeinde opens its figures.
        gem = demo_results.layer("gemeinden").to_crs(4326)
        row = gem.loc[gem["participants"].idxmax()]
        pt = row.geometry.representative_point()
        xy = settle_view(page, pt.y, pt.x, 13)
        page.mouse.click(xy["x"], xy["y"])
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        text = popup.inner_text()
        assert errors == []
    finally:
        page.close()
    assert f"{row['gen']} ({row['ags']})" in text
    assert f"Potenzielle Teilnehmende: {row['participants']:.1f}".replace(".", ",") in text
    share = f"{row['share_part_any']:.1f}".replace(".", ",")
    assert f"Anteil mit erreichbarem Kurs: {share} %" in text
    alpha = f"{row['share_part_type_alpha']:.1f}".replace(".", ",")
    assert f"Alphabetisierungskurs\t{alpha} %" in text or f"Alphabetisierungskurs {alpha} %" in text
    near = demo_results.table("naechster_kurs").set_index("ags").loc[row["ags"]]
    assert f"{near['minutes']:.0f} min (Median)" in text
    assert "Datenlage: keine Einschränkung" in text


@pytest.mark.browser
def test_hatched_gemeinden_and_findings_that_are_not_ok(demo_results, browser, tmp_path):
    import dataclasses

    gem = demo_results.layers["gemeinden"]
    frame = gem.frame.copy()
    frame.loc[:1, "datenlage"] = "Haltestellen fehlen im Fahrplan"
    data = demo_results.tables["datenlage"]
    findings = data.frame.copy()
    findings.loc[0, ["rating", "text"]] = ["kritisch", "Nur 40 % der Haltestellen im Landkreis."]
    results = dataclasses.replace(
        demo_results, layers={**demo_results.layers, "gemeinden": dataclasses.replace(
            gem, frame=frame)},
        tables={**demo_results.tables, "datenlage": dataclasses.replace(data, frame=findings)})
    page, errors = _open(browser, render_webmap(results, tmp_path / "karte.html"))
    try:
        hatched = page.evaluate("() => [...document.querySelectorAll('path.kz-hatch')].map("
                                "p => getComputedStyle(p).fill)")
        box = page.locator(".kz-datenlage").inner_text()
        assert errors == []
    finally:
        page.close()
    assert len(hatched) == 2 and all("kz-hatch" in f for f in hatched)
    assert "Datenlage: 1 Hinweis" in box and "kritisch: Nur 40 % der Haltestellen" in box


def _access(demo):
    pool = demo.pool()
    return course_access(pool, demo.cells(), demo.courses, SCHOOL_DAY, max_threshold_min=60)


@pytest.mark.browser
def test_a_click_on_a_cell_shows_the_courses_it_can_attend_with_legs(run_page, demo, browser):
    access = _access(demo)
    att = access.attend()
    cells = access.cells.reset_index(drop=True)
    # A cell far from the course sites, with several courses, reached by bus.
    n = att.sum(axis=1)
    pick = int(np.flatnonzero(n >= 3)[0])
    want = set(access.courses["course_id"].to_numpy()[att[pick]])
    page, errors = _open(browser, run_page)
    try:
        centre = page.evaluate(f"() => {{ const V = window.kurszugangKarte.data.here; "
                               f"const i = V.ids.indexOf({cells['cell_id'].iloc[pick]!r}); "
                               "return [V.lat[i], V.lon[i]]; }")
        xy = settle_view(page, centre[0], centre[1], 16)
        page.mouse.click(xy["x"] + 10, xy["y"] - 10)  # inside the 100 m cell, off its centre
        panel = page.locator(".kz-here")
        panel.wait_for()
        shown = set(panel.locator(".kz-course").evaluate_all(
            "els => els.map(e => e.getAttribute('data-course'))"))
        cell = panel.get_attribute("data-cell")
        panel.locator("details").evaluate_all("ds => ds.forEach(d => d.open = true)")
        legs = panel.locator(".kz-leg").all_inner_texts()
        text = panel.inner_text()
        assert errors == []
    finally:
        page.close()
    assert cell == cells["cell_id"].iloc[pick]
    assert shown == want and len(want) >= 3
    assert f"{len(want)} Kurse zu ihren Zeiten erreichbar" in text
    assert any(" Linie " in leg for leg in legs) and any("zu Fuß" in leg for leg in legs)
    k = int(np.flatnonzero(att[pick])[0])
    there = access.time_there[pick, k]
    assert f"({there / 60:.0f} min)" in text


@pytest.mark.browser
def test_typing_a_street_offers_it_and_zooms_there(run_page, demo_results, browser):
    entries = demo_results.table("adressen").set_index("label")
    target = entries.loc["Bahnhofstraße, Beispielstadt"]
    page, errors = _open(browser, run_page)
    try:
        box = page.locator(".leaflet-control-search input.search-input")
        box.press_sequentially("bahnhofstrasse beisp", delay=20)  # ss for ß, lower case
        tip = page.locator(".search-tooltip .search-tip", has_text="Bahnhofstraße, Beispielstadt")
        tip.first.click(timeout=30000)
        wait_still(page)
        centre = page.evaluate("() => window.kurszugangKarte.map.getCenter()")
        zoom = page.evaluate("() => window.kurszugangKarte.map.getZoom()")
        panel = page.locator(".kz-here").inner_text()
        umlaut = page.evaluate("() => window.kurszugangKarte.find('Ubungsd').map(h => h.title)")
        assert errors == []
    finally:
        page.close()
    from kurszugang.crs import transformer

    lon, lat = transformer("EPSG:25832", "EPSG:4326").transform(target["x"], target["y"])
    assert centre["lat"] == pytest.approx(lat, abs=1e-5)
    assert centre["lng"] == pytest.approx(lon, abs=1e-5)
    assert zoom >= 15
    assert "Bahnhofstraße, Beispielstadt" in panel and "Von hier aus" in panel
    assert umlaut[0] == "Übungsdorf"


@pytest.mark.browser
def test_filters_hide_and_show_the_course_markers(run_page, demo_results, browser):
    courses = demo_results.layer("kurse")
    keys = courses[["site_id", "course_type", "schedule"]].drop_duplicates()

    def markers_with(mask):
        hit = courses[mask][["site_id", "course_type", "schedule"]].drop_duplicates()
        return len(hit)

    page, errors = _open(browser, run_page)
    count = "() => window.kurszugangKarte.cluster.getLayers().length"
    try:
        page.locator(".leaflet-control-layers-toggle").click()
        all_ = page.evaluate(count)
        page.locator("input[data-kz-filter=care]").check()
        care = page.evaluate(count)
        page.locator("input[data-kz-filter=care]").uncheck()
        page.locator("input[data-kz-filter=before]").fill("2026-11-30")
        before = page.evaluate(count)
        page.locator("input[data-kz-filter=free]").check()
        both = page.evaluate(count)
        page.locator("input[data-kz-filter=before]").fill("")
        page.locator("input[data-kz-filter=free]").uncheck()
        again = page.evaluate(count)
        assert errors == []
    finally:
        page.close()
    start = pd.to_datetime(courses["next_start"])
    free = pd.to_numeric(courses["free_places"]).fillna(0) > 0
    assert all_ == again == len(keys) == 13
    assert care == markers_with(courses["childcare"].astype(bool)) < all_
    assert before == markers_with(start <= "2026-11-30") < all_
    assert both == markers_with((start <= "2026-11-30") & free)


@pytest.mark.browser
def test_site_popups_have_the_providers_contact(demo_results, browser, tmp_path):
    import dataclasses

    sites = demo_results.layers["kursorte"]
    frame = sites.frame.copy()
    frame.loc[0, ["phone", "email", "web"]] = ["09999 123-45", "kurse@vhs-beispiel.de",
                                               "www.vhs-beispiel.de"]
    results = dataclasses.replace(demo_results, layers={
        **demo_results.layers, "kursorte": dataclasses.replace(sites, frame=frame)})
    page, errors = _open(browser, render_webmap(results, tmp_path / "karte.html"))
    sid = frame["site_id"].iloc[0]
    try:
        links = page.evaluate(
            "(sid) => { const K = window.kurszugangKarte; const m = K.markers.find("
            "x => x[2].startsWith(sid + '|'))[0];"
            " const d = document.createElement('div'); d.innerHTML = m.getPopup().getContent();"
            " return [...d.querySelectorAll('a[href]')]"
            ".map(a => [a.getAttribute('href'), a.textContent]); }", sid)
        assert errors == []
    finally:
        page.close()
    assert ["tel:0999912345", "09999 123-45"] in links
    assert ["mailto:kurse@vhs-beispiel.de", "kurse@vhs-beispiel.de"] in links
    assert ["https://www.vhs-beispiel.de", "www.vhs-beispiel.de"] in links


@pytest.mark.browser
def test_the_page_is_english_with_the_runs_language(demo_results, browser, tmp_path):
    import dataclasses

    results = dataclasses.replace(demo_results, info=dataclasses.replace(
        demo_results.info, language="en"))
    path = render_webmap(results, tmp_path / "map.html")
    page, errors = _open(browser, path)
    try:
        page.evaluate("() => { const V = window.kurszugangKarte.data.here;"
                      " const c = V.first.findIndex((f, i) => V.first[i + 1] - f >= 2);"
                      " window.kurszugangKarte.showHere(V.lat[c], V.lon[c], ''); }")
        panel = page.locator(".kz-here").inner_text()
        page.locator(".leaflet-control-layers-toggle").click()
        control = page.locator(".kz-layers").inner_text()
        legend = page.locator(".kz-legend").inner_text()
        placeholder = page.locator(".leaflet-control-search input").get_attribute("placeholder")
        assert errors == []
    finally:
        page.close()
    assert "From here" in panel and "courses within reach at their times" in panel
    assert "Back: departs" in panel and "Von hier aus" not in panel
    assert "Courses (type · schedule)" in control and "Filter courses" in control
    assert "Legend" in legend and "Course types" in legend
    assert placeholder == "Place, street or address …"
    assert '<html lang="en">' in path.read_text("utf-8")


def _state_results(tmp_path: Path, payloads: bool):
    """The Results of a run over three square Kreise, one failed; names and the error message
    carry markup and template syntax when ``payloads``."""
    import geopandas as gpd
    import shapely

    from kurszugang.config import config_from_dict
    from kurszugang.state import DistrictOutcome, combined_results

    keys = ["09101", "09102", "09103"]
    cfg = config_from_dict({"district": {"keys": keys},
                            "dates": {"school_day": "2026-11-24", "holiday": "2026-12-29"},
                            "output": {"dir": str(tmp_path)}}, base_dir=tmp_path)

    def name(i: int) -> str:
        return f"{PAYLOADS[i]} Kreis {i}" if payloads else f"Kreis {i}"

    outcomes = [DistrictOutcome(
        key=k, name=name(i), type="Landkreis", folder=str(tmp_path / k),
        headline={"share_pct": 40.0 + 30 * i, "participants": 100.0 + i,
                  "participants_any": 50.0, "gemeinden": 10, "gemeinden_without_course": i},
        datenlage="gut", datenlage_text=PAYLOADS[3] if payloads else "")
        for i, k in enumerate(keys[:2])]
    outcomes.append(DistrictOutcome(key=keys[2], name=name(2), type="Landkreis",
                                    folder=str(tmp_path / keys[2]), headline={},
                                    error=(f"{PAYLOADS[1]} {PAYLOADS[2]}" if payloads
                                           else "Zensus fehlt")))
    squares = [shapely.box(600_000 + 30_000 * i, 5_450_000, 625_000 + 30_000 * i, 5_475_000)
               for i in range(3)]
    outlines = gpd.GeoDataFrame({"key": keys}, geometry=squares, crs="EPSG:25832"
                                ).set_index("key")
    return combined_results(cfg, outcomes, outlines, {}, ())


_STATE_TEXTS = """() => {
  const texts = [];
  document.querySelectorAll('.leaflet-interactive').forEach(p => {
    p.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
    p.dispatchEvent(new MouseEvent('click', {bubbles: true}));
    document.querySelectorAll('.leaflet-tooltip, .leaflet-popup-content').forEach(
      e => texts.push(e.innerText));
  });
  return {texts: texts.join('\\n'), colours: [...document.querySelectorAll('.leaflet-interactive')]
          .map(p => p.getAttribute('fill'))};
}"""


def test_state_map_shows_every_kreis_and_runs_no_script_from_names(browser, tmp_path):
    from kurszugang.output.state import render_state_map

    path = render_state_map(_state_results(tmp_path, payloads=True), tmp_path / "karte.html")
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/*", lambda r: r.abort() if r.request.url.startswith(("http:", "https:"))
               else r.continue_())
    try:
        page.goto(path.as_uri())
        page.wait_for_selector(".leaflet-interactive")
        got = page.evaluate(_STATE_TEXTS)
        xss = page.evaluate("() => window.__xss || 0")
    finally:
        page.close()
    assert errors == [] and xss == 0
    # every name, the failed Kreis's error and the Datenlage are shown as the text they are
    for i in range(3):
        assert f"{PAYLOADS[i]} Kreis {i}" in got["texts"], got["texts"][:400]
    assert f"{PAYLOADS[1]} {PAYLOADS[2]}" in got["texts"]
    assert PAYLOADS[3] in got["texts"]
    assert "70 %" in got["texts"] and "Nicht gerechnet" in got["texts"]
    # 40 % orange, 70 % light yellow, the failed Kreis grey
    assert sorted(got["colours"]) == sorted(["#fdae61", "#ffffbf", "#bdbdbd"])
    assert "<img src=x" not in page_html(path)


def page_html(path: Path) -> str:
    """The page's own text outside the inlined libraries (where input text would land)."""
    text = path.read_text("utf-8")
    return text[text.find("L.map("):] if "L.map(" in text else text
