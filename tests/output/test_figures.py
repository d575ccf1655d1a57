"""Static maps for reports (kurszugang.output.figures): A4 landscape PNG and PDF."""

from __future__ import annotations

import re

import numpy as np
import pytest

from kurszugang.analysis.coverage import course_access, coverage_summary
from kurszugang.demo import SCHOOL_DAY
from kurszugang.errors import ConfigError, InputError
from kurszugang.output.figures import _nice_length, static_map
from kurszugang.output.webmap import (
    COURSE_TYPE_STYLES,
    COVERAGE_CLASSES,
    DEMO_ATTRIBUTION,
    coverage_share,
)

PIL = pytest.importorskip("PIL.Image", reason="Pillow (a matplotlib dependency) is missing")


@pytest.fixture(scope="module")
def fig(demo):
    cells = demo.cells(participant_factor=0.05)
    access = course_access(demo.pool(osm=False), cells, demo.courses, SCHOOL_DAY,
                           on_demand=False)
    return {"gemeinden": demo.gemeinden, "kreis": demo.kreis, "courses": demo.courses,
            "coverage": coverage_summary(access)}


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def test_png_is_a4_landscape_with_the_coverage_classes(fig, tmp_path):
    path = static_map(**fig, path=tmp_path / "karte.png", analysis_date=SCHOOL_DAY,
                      attribution=DEMO_ATTRIBUTION, parameters={"Reisezeit je Weg": "45 min"},
                      dpi=100)
    with PIL.open(path) as im:
        # A4 landscape at 100 dpi: 297 x 210 mm = 1169.3 x 826.8 px (whole pixels, rounded down)
        assert im.size == (1169, 826)
        rgb = np.asarray(im.convert("RGB"))
    colours = {tuple(c) for c in np.unique(rgb.reshape(-1, 3), axis=0)}
    assert len(colours) > 100  # not blank: fills, lines, text, symbols
    # Every class that some Gemeinde falls in is drawn as a filled area (not just its legend
    # patch): count the pixels of each class colour.
    share = coverage_share(fig["coverage"])["share_pct"].to_numpy()
    limits = np.array([c[0] for c in COVERAGE_CLASSES])
    used = np.unique(np.searchsorted(limits, share, side="left"))
    counts = {i: int(np.all(rgb == _rgb(COVERAGE_CLASSES[i][1]), axis=2).sum())
              for i in range(len(COVERAGE_CLASSES))}
    for i in used:
        assert counts[i] > 5000, (COVERAGE_CLASSES[i], counts)
    for i in set(range(len(COVERAGE_CLASSES))) - set(used):
        assert counts[i] < 1500  # only the legend patch
    # The course-type symbols appear in their colours.
    for code in fig["courses"].courses["course_type"].unique():
        colour = _rgb(COURSE_TYPE_STYLES[code].colour)
        assert np.all(rgb == colour, axis=2).sum() > 10, code


def test_pdf_page_is_a4_landscape(fig, tmp_path):
    path = static_map(**fig, path=tmp_path / "karte.pdf", analysis_date=SCHOOL_DAY,
                      attribution=DEMO_ATTRIBUTION, language="en")
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    boxes = re.findall(rb"/MediaBox\s*\[\s*([\d.\s]+)\]", data)
    assert len(boxes) == 1
    x0, y0, w, h = (float(v) for v in boxes[0].split())
    assert (x0, y0) == (0.0, 0.0)
    assert w == pytest.approx(297 / 25.4 * 72, abs=0.01)  # 841.89 pt
    assert h == pytest.approx(210 / 25.4 * 72, abs=0.01)  # 595.28 pt
    assert b"/Creator (kurszugang)" in data


def test_format_from_option_overrides_the_suffix(fig, tmp_path):
    path = static_map(**fig, path=tmp_path / "karte.bild", format="png",
                      analysis_date=SCHOOL_DAY, dpi=60)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_format_is_rejected(fig, tmp_path):
    with pytest.raises(ConfigError, match=r"static maps are written as png or pdf, got 'jpg' "
                                          r"for karte.jpg"):
        static_map(**fig, path=tmp_path / "karte.jpg", analysis_date=SCHOOL_DAY)


def test_missing_folder_is_named(fig, tmp_path):
    with pytest.raises(InputError, match=r"folder .*fehlt does not exist"):
        static_map(**fig, path=tmp_path / "fehlt" / "karte.png", analysis_date=SCHOOL_DAY)


def test_gemeinden_without_crs_are_rejected(fig, tmp_path):
    gem = fig["gemeinden"].copy()
    gem = gem.set_crs(None, allow_override=True)
    with pytest.raises(InputError, match="the Gemeinden has no CRS"):
        static_map(**{**fig, "gemeinden": gem}, path=tmp_path / "karte.png",
                   analysis_date=SCHOOL_DAY)


@pytest.mark.parametrize(("span", "bar"), [(36_000.0, 5000.0), (9_000.0, 1000.0),
                                            (120_000.0, 20_000.0), (700.0, 100.0)])
def test_scale_bar_length_is_round(span, bar):
    assert _nice_length(span) == bar


def test_the_run_renders_its_a4_maps_from_its_results_alone(demo_results, tmp_path):
    from kurszugang.output.figures import render_static_map

    png = render_static_map(demo_results, tmp_path / "karte.png", "png")
    pdf = render_static_map(demo_results, tmp_path / "karte.pdf", "pdf")
    with PIL.open(png) as im:
        assert im.size == (2338, 1653)
    assert pdf.read_bytes().startswith(b"%PDF")
    again = render_static_map(demo_results, tmp_path / "noch.png", "png")
    assert again.read_bytes() == png.read_bytes()  # no clock on the page


def _hatch_pixels(path) -> int:
    """Pixels in the hatching colour of the Datenlage (within a few units, for antialiasing)."""
    from kurszugang.output.style import DATENLAGE_HATCH_COLOUR

    with PIL.open(path) as im:
        rgb = np.asarray(im.convert("RGB")).astype(int)
    return int((np.abs(rgb - np.array(_rgb(DATENLAGE_HATCH_COLOUR))).max(axis=2) <= 12).sum())


def test_gemeinden_with_a_datenlage_note_are_hatched(fig, tmp_path, caplog):
    cov = fig["coverage"]
    largest = fig["gemeinden"].assign(area=fig["gemeinden"].area) \
        .sort_values("area", ascending=False)["ags"].astype(str).tolist()
    note = {a: "kein Fußwegenetz: 80 % der Zellen fehlen" for a in largest[:2]}
    plain = static_map(**fig, path=tmp_path / "ohne.png", analysis_date=SCHOOL_DAY, dpi=120)
    two = {**fig, "coverage": cov.assign(datenlage=cov["ags"].astype(str).map(note))}
    with caplog.at_level("INFO", logger="kurszugang.output.figures"):
        marked = static_map(**two, path=tmp_path / "zwei.png", analysis_date=SCHOOL_DAY,
                            dpi=120)
    assert "2 mit Hinweis zur Datenlage" in caplog.text
    every = {**fig, "coverage": cov.assign(datenlage="Fahrplan deckt die Gemeinde nicht ab")}
    all_marked = static_map(**every, path=tmp_path / "alle.png", analysis_date=SCHOOL_DAY,
                            dpi=120)
    empty = {**fig, "coverage": cov.assign(datenlage="")}
    none = static_map(**empty, path=tmp_path / "leer.png", analysis_date=SCHOOL_DAY, dpi=120)
    n_plain, n_two, n_all = (_hatch_pixels(p) for p in (plain, marked, all_marked))
    assert n_plain < 400  # no hatching: antialiased edges of text on red fills at most
    assert _hatch_pixels(none) == n_plain  # empty notes mark nothing
    assert none.read_bytes() == plain.read_bytes()
    assert n_two > n_plain + 3000  # two Gemeinden hatched, and the legend's patch
    assert n_all > 3 * n_two  # all 20 Gemeinden hatched
