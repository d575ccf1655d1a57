"""The planning's proposals on the web map: the overlay of a ``kurszugang plan`` run on the demo
district, its markers, popups and catchments in a real headless Chromium (offline), the page of a
run without planning, and input text with markup and template syntax shown as text."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from kurszugang.output.webmap import map_inputs, render_webmap
from tests.output.conftest import open_map as _open
from tests.output.conftest import settle_view

FORMATS = ("alpha Mo-Fr 08:30-12:45", "allgemein Di,Do 09:00-12:15")
LAYER = "Vorschläge der Planung"
PAYLOADS = ('<img src=x onerror="window.__xss=1">', "`${window.__xss=2}`", "{{ 7*7 }}{% raw %}",
            "</script><script>window.__xss=3</script>")


@pytest.fixture(scope="module")
def plan_run(tmp_path_factory):
    """``kurszugang plan`` of the demo district for two formats (only the web map written)."""
    from kurszugang.pipeline import demo_config, run_analysis

    cfg = demo_config(tmp_path_factory.mktemp("plan_map"))
    cfg = dataclasses.replace(
        cfg, plan=dataclasses.replace(cfg.plan, formats=FORMATS, k_max=3),
        output=dataclasses.replace(cfg.output, formats=("html",)))
    return run_analysis(cfg, progress=False, plan=True)


def _de(value: float) -> str:
    """A figure with one decimal in German format (decimal comma, point for thousands)."""
    return f"{value:,.1f}".replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def _click_proposal(page, i: int) -> str:
    """Zoom to the i-th proposal marker, click it, and return its popup's text."""
    at = page.evaluate("([name, i]) => window.kurszugangKarte.overlays[name].getLayers()"
                       ".filter(l => l instanceof L.Marker)[i].getLatLng()", [LAYER, i])
    settle_view(page, at["lat"], at["lng"], 15)
    page.locator(".kz-plan-icon").nth(i).click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=30000)
    text = popup.inner_text()
    page.evaluate("() => window.kurszugangKarte.map.closePopup()")
    return text


def test_plan_results_fill_the_maps_proposals(plan_run, demo_results):
    inp = map_inputs(plan_run.results)
    assert inp.proposals is not None and len(inp.proposals) == len(
        plan_run.results.layer("plan_vorschlaege"))
    assert inp.proposal_catchments is not None
    plain = map_inputs(demo_results)
    assert plain.proposals is None and plain.proposal_catchments is None


@pytest.mark.browser
def test_the_plan_runs_map_shows_its_proposals(plan_run, browser):
    proposals = plan_run.results.layer("plan_vorschlaege").reset_index(drop=True)
    areas = plan_run.results.layer("plan_einzugsbereiche")
    assert len(proposals) >= 2
    page, errors = _open(browser, plan_run.out_dir / "karte.html")
    try:
        assert page.evaluate(f"() => {LAYER!r} in window.kurszugangKarte.overlays")
        page.locator(".leaflet-control-layers-toggle").click()
        control = page.locator(".kz-layers").inner_text()
        checked = page.locator(f'.kz-layers label[data-kz-layer="{LAYER}"] input').is_checked()
        markers = page.evaluate("() => document.querySelectorAll('.kz-plan-icon').length")
        drawn = page.evaluate("() => document.querySelectorAll('.leaflet-kz-plan-pane path')"
                              ".length")
        legend = page.locator(".kz-legend").inner_text()
        page.locator(".kz-close").click()
        first = _click_proposal(page, 0)
        last = _click_proposal(page, len(proposals) - 1)
        assert errors == []
    finally:
        page.close()
    assert "Planung" in control and LAYER in control and checked  # on at start
    assert markers == len(proposals)
    assert drawn == int((~areas.geometry.is_empty).sum()) > 0
    assert "Vorgeschlagener Standort (Planung)" in legend
    for text, row in ((first, proposals.iloc[0]), (last, proposals.iloc[-1])):
        reached = areas.loc[(areas["format"] == row["format"])
                            & (areas["candidate_id"] == row["candidate_id"]), "participants"]
        assert row["name"] in text, text
        assert _de(float(reached.iloc[0])) in text and _de(row["participants_assigned"]) in text
        assert _de(row["weeks_to_start"]) in text
        assert {"bestehend": "bestehender Kursort", "Haltestelle": "Haltestelle"}[
            row["source"]] in text
    assert "Alphabetisierungskurs (Mo–Fr 08:30–12:45)" in first
    assert "Allgemeiner Integrationskurs (Di, Do 09:00–12:15)" in last


def test_a_run_without_planning_has_no_proposals(demo_results, tmp_path):
    page = render_webmap(demo_results, tmp_path / "karte.html").read_bytes()
    assert LAYER.encode() not in page and b"kz-plan" not in page
    assert b"Vorgeschlagener Standort" not in page


def test_the_english_map_names_the_proposals_in_english(plan_run, tmp_path):
    results = dataclasses.replace(plan_run.results, info=dataclasses.replace(
        plan_run.results.info, language="en"))
    page = render_webmap(results, tmp_path / "map.html").read_text("utf-8")
    assert "Planning proposals" in page and LAYER not in page
    assert "Proposed site (planning)" in page and "Literacy course (Mon–Fri 08:30–12:45)" in page
    assert "Weeks to a class start" in page


def _with_payloads(results):
    """The plan's Results with markup and template syntax in every text of its proposals:
    names, formats (also after a valid format) and a source from a user's list."""

    def mark(i: int, text: str) -> str:
        return f"{PAYLOADS[i % len(PAYLOADS)]} {text}"

    def fmt(text: str) -> str:
        return f"{PAYLOADS[0]} {text}" if text.startswith("alpha") else f"{text} {PAYLOADS[1]}"

    layers = dict(results.layers)
    for name in ("plan_vorschlaege", "plan_einzugsbereiche"):
        frame = layers[name].frame.copy()
        frame["name"] = [mark(i, v) for i, v in enumerate(frame["name"])]
        frame["format"] = frame["format"].map(fmt)
        if "source" in frame.columns:
            frame.loc[frame.index[0], "source"] = "Liste"
        layers[name] = dataclasses.replace(layers[name], frame=frame)
    return dataclasses.replace(results, layers=layers)


_PROPOSAL_TEXTS = """name => {
  const K = window.kurszugangKarte, texts = [];
  K.overlays[name].getLayers().filter(l => l instanceof L.Marker).forEach(m => {
    m.openTooltip(); texts.push(m.getTooltip().getElement().innerText); m.closeTooltip();
    m.openPopup(); texts.push(m.getPopup().getElement().innerText); m.closePopup();
  });
  return texts;
}"""


@pytest.mark.browser
def test_proposal_texts_with_markup_show_as_text(plan_run, browser, tmp_path):
    results = _with_payloads(plan_run.results)
    path = render_webmap(results, tmp_path / "karte.html")
    page, errors = _open(browser, path)
    try:
        texts = page.evaluate(_PROPOSAL_TEXTS, LAYER)
        clicked = _click_proposal(page, 0)
        page.locator(".leaflet-control-layers-toggle").click()
        control = page.locator(".kz-layers").inner_text()
        assert page.evaluate("() => window.__xss") is None
        assert page.evaluate("() => document.querySelectorAll('img[src=x]').length") == 0
        markers = page.evaluate("() => document.querySelectorAll('.kz-plan-icon').length")
        assert errors == []
    finally:
        page.close()
    proposals = results.layer("plan_vorschlaege")
    assert markers == len(proposals) and LAYER in control
    joined = "\n".join(texts)
    for name in proposals["name"]:
        assert name in joined, name
    assert all(p in joined for p in PAYLOADS)
    assert PAYLOADS[0] in clicked and "eigene Liste" in clicked
    assert f"(Di, Do 09:00–12:15, {PAYLOADS[1]})" in joined  # after a valid format
    assert pd.Series(texts).str.contains("{{ 7*7 }}{% raw %}", regex=False).any()
