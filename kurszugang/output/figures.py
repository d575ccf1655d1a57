"""Static maps of the district for reports: PNG and PDF, A4 landscape, German or English.

:func:`static_map` draws the Gemeinden coloured by the share of potential participants who can
attend a course (the classes of the web map, :data:`kurszugang.output.style.COVERAGE_CLASSES`),
the Kreis outline, the course sites with a symbol per course type, a legend, a scale bar, a north
arrow, the parameters, the attribution of every data source and the analysis date. It uses
matplotlib only (no map tiles, nothing from the internet). The documentation is in
``docs/outputs.md`` ("Druckkarten").
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kurszugang.crs import ANALYSIS_CRS
from kurszugang.errors import ConfigError, InputError
from kurszugang.files import atomic_path
from kurszugang.output.style import (
    COURSE_TYPE_STYLES,
    COVERAGE_CLASSES,
    DATENLAGE_HATCH_COLOUR,
    NO_DATA_COLOUR,
    SCHEDULE_STYLES,
)
from kurszugang.output.webmap import (
    _classify,
    _date_text,
    _need_columns,
    _need_crs,
    _one_number,
    _schedule_name,
    _type_name,
    _type_style,
    coverage_share,
)
from kurszugang.words import de_number

if TYPE_CHECKING:
    import geopandas as gpd

    from kurszugang.io.courses import CourseList
    from kurszugang.output.render import CourseView
    from kurszugang.results import Results

__all__ = ["A4_LANDSCAPE_MM", "MAP_CRS", "render_static_map", "static_map"]

log = logging.getLogger(__name__)

#: Page size (width, height) in millimetres.
A4_LANDSCAPE_MM: tuple[float, float] = (297.0, 210.0)
#: CRS the map is drawn in (metres, so that the scale bar is exact along the grid).
MAP_CRS = ANALYSIS_CRS
_FORMATS = ("png", "pdf")
#: Position of the map frame on the page (left, bottom, width, height as fractions).
MAP_FRAME = (0.02, 0.09, 0.66, 0.80)

_TEXT = {
    "de": {
        "title": "Erreichbarkeit der Integrationskurse",
        "subtitle": "Anteil potenzieller Teilnehmender, die einen Kurs besuchen können",
        "any": "irgendein Kurs",
        "no_data": "keine potenziellen Teilnehmenden / keine Daten",
        "hatch": "Hinweis zur Datenlage (Ergebnis beruht auf fehlenden Daten)",
        "sites": "Kursorte (je Kursart ein Symbol)",
        "gemeinde": "Gemeindegrenze",
        "kreis": "Kreisgrenze",
        "date": "Stichtag",
        "as_of": "Stand der Kursliste",
        "made": "Erstellt mit kurszugang am",
        "schedules": "Zeitformen",
        "parameters": "Parameter",
        "legend": "Legende",
    },
    "en": {
        "title": "Access to integration courses",
        "subtitle": "Share of potential participants who can attend a course",
        "any": "any course",
        "no_data": "no potential participants / no data",
        "hatch": "data coverage note (the result rests on missing data)",
        "sites": "Course sites (one symbol per course type)",
        "gemeinde": "Municipality boundary",
        "kreis": "District boundary",
        "date": "Date",
        "as_of": "Course list as of",
        "made": "Made with kurszugang on",
        "schedules": "Schedules",
        "parameters": "Parameters",
        "legend": "Legend",
    },
}


def _format_of(path: Path, fmt: str | None) -> str:
    chosen = (fmt or path.suffix.lstrip(".")).lower()
    if chosen not in _FORMATS:
        raise ConfigError(f"static maps are written as png or pdf, got {chosen or 'no format'!r} "
                          f"for {path.name} (give format='png' or 'pdf' or a .png/.pdf name)")
    return chosen


def _nice_length(span_m: float) -> float:
    """A round scale-bar length (1, 2 or 5 times a power of ten metres) near a fifth of span."""
    target = max(span_m / 5.0, 1.0)
    power = 10.0 ** math.floor(math.log10(target))
    return float(max(f * power for f in (1.0, 2.0, 5.0) if f * power <= target))


def _scale_bar(ax: Any, language: str) -> None:
    """A two-segment black/white bar in metres at the lower left of the map."""
    from matplotlib.patches import Rectangle

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length(x1 - x0)
    height = (y1 - y0) * 0.008
    left, bottom = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.04
    for i, colour in enumerate(("black", "white")):
        ax.add_patch(Rectangle((left + i * length / 2, bottom), length / 2, height,
                               facecolor=colour, edgecolor="black", linewidth=0.6, zorder=20))
    km = length >= 1000
    unit = "km" if km else "m"
    scale = 1000.0 if km else 1.0
    for x, value in ((left, 0.0), (left + length / 2, length / 2), (left + length, length)):
        label = _one_number(value / scale, language, 1 if (value / scale) % 1 else 0)
        ax.text(x, bottom + height * 1.8, label, ha="center", va="bottom", fontsize=6.5,
                zorder=20)
    ax.text(left + length + (x1 - x0) * 0.01, bottom, unit, ha="left", va="bottom",
            fontsize=6.5, zorder=20)


def _north_arrow(ax: Any) -> None:
    ax.annotate("N", xy=(0.96, 0.95), xytext=(0.96, 0.87), xycoords="axes fraction",
                ha="center", va="center", fontsize=9, fontweight="bold",
                arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.2},
                zorder=20)


def static_map(
    *,
    gemeinden: gpd.GeoDataFrame,
    kreis: gpd.GeoDataFrame,
    courses: CourseList | CourseView,
    coverage: pd.DataFrame,
    path: str | Path,
    analysis_date: dt.date,
    format: str | None = None,
    course_type: str | None = None,
    parameters: Mapping[str, object] | None = None,
    attribution: str | Sequence[str] = (),
    language: str = "de",
    title: str | None = None,
    dpi: int = 200,
    north_arrow: bool = True,
) -> Path:
    """Draw the district's coverage map on an A4 landscape page (PNG or PDF).

    Parameters
    ----------
    gemeinden
        Gemeinden with ``ags`` and ``gen`` (any CRS; drawn in EPSG:25832).
    kreis
        The Kreis to outline (any CRS).
    courses
        The course list (:func:`kurszugang.io.courses.read_courses`); one symbol per site and
        course type.
    coverage
        Per Gemeinde (:func:`kurszugang.analysis.coverage.coverage_summary`): ``ags``,
        ``participants`` and ``part_any``/``part_type_<type>``; optionally ``datenlage`` (a
        note per Gemeinde, as in a run's Gemeinde layer: where it is not empty, the Gemeinde
        is hatched, because its result rests on missing data).
    path
        The file to write (its folder must exist).
    analysis_date
        The analysis date, printed under the map.
    format
        ``"png"`` or ``"pdf"``; default from the suffix of ``path``.
    course_type
        Course type of the coverage classes (None: any course).
    parameters
        Parameters to print beside the map (shown as given).
    attribution
        Credits of the data shown, one string per source.
    language
        ``"de"`` (default) or ``"en"``.
    title
        The title (default: "Erreichbarkeit der Integrationskurse – <Kreis name>").
    dpi
        Resolution of a PNG (default 200: 2338 × 1653 pixels); a PDF is vector graphics.
    north_arrow
        Draw a north arrow.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InputError
        If an input lacks a column or a CRS, or the folder does not exist.
    ConfigError
        For a format other than png/pdf, a language other than de/en, a ``dpi`` below 50, or
        a course type not in ``coverage``.

    Examples
    --------
    >>> from kurszugang.analysis.coverage import coverage_summary
    >>> summary = coverage_summary(access)
    >>> static_map(gemeinden=gemeinden, kreis=kreis, courses=courses, coverage=summary,
    ...            path="karte.pdf", analysis_date=SCHOOL_DAY)
    PosixPath('karte.pdf')
    >>> Path("karte.pdf").read_bytes()[:5]
    b'%PDF-'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.transforms import offset_copy

    out = Path(path)
    fmt = _format_of(out, format)
    if language not in _TEXT:
        raise ConfigError(f"language must be one of de, en, got {language!r}")
    if dpi < 50:
        raise ConfigError(f"dpi must be at least 50, got {dpi}")
    if not out.parent.is_dir():
        raise InputError(f"folder {out.parent} does not exist", path=out)
    _need_columns(gemeinden, ("ags", "gen"), "the Gemeinden")
    _need_crs(gemeinden, "the Gemeinden")
    _need_crs(kreis, "the Kreis")
    t = _TEXT[language]
    share = coverage_share(coverage, course_type=course_type)

    gem = gemeinden[["ags", "gen", gemeinden.geometry.name]].to_crs(MAP_CRS)
    gem = gem.assign(ags=gem["ags"].astype("string")).merge(
        share.assign(ags=share["ags"].astype("string")), on="ags", how="left")
    colours = _classify(gem["share_pct"].to_numpy(float), COVERAGE_CLASSES)
    krs = kreis.to_crs(MAP_CRS)
    sites = courses.sites.to_crs(MAP_CRS).assign(site_id=lambda f: f["site_id"].astype(str))

    width_in, height_in = (v / 25.4 for v in A4_LANDSCAPE_MM)
    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes(MAP_FRAME)
    ax.set_axis_off()
    gem.plot(ax=ax, color=list(colours), edgecolor="#555555", linewidth=0.4)
    marked = gem["ags"].isin(_noted(coverage))
    if marked.any():
        gem[marked.to_numpy()].plot(ax=ax, facecolor="none", edgecolor=DATENLAGE_HATCH_COLOUR,
                                    hatch="////", linewidth=0.0)
    krs.boundary.plot(ax=ax, color="black", linewidth=1.6)
    reps = gem.geometry.representative_point()
    for x, y, name in zip(reps.x, reps.y, gem["gen"].astype(str), strict=True):
        ax.text(x, y, name, fontsize=5.5, ha="center", va="center", color="#222222",
                zorder=5)

    # Sites: one symbol per course type, side by side around the site's point.
    per_site = (courses.courses[["site_id", "course_type"]].astype(str).drop_duplicates()
                .merge(sites[["site_id"]].assign(x=sites.geometry.x, y=sites.geometry.y),
                       on="site_id", how="inner"))
    order = {k: i for i, k in enumerate(COURSE_TYPE_STYLES)}
    per_site["o"] = per_site["course_type"].map(lambda c: order.get(c, len(order)))
    per_site = per_site.sort_values(["site_id", "o", "course_type"])
    per_site["k"] = per_site.groupby("site_id").cumcount()
    per_site["n"] = per_site.groupby("site_id")["k"].transform("size")
    per_site["dx"] = (per_site["k"] - (per_site["n"] - 1) / 2.0) * 9.0  # points
    for dx in np.unique(per_site["dx"].to_numpy(float)):  # one draw per offset (a handful)
        group = per_site[per_site["dx"].to_numpy(float) == dx]
        trans = offset_copy(ax.transData, fig=fig, x=float(dx), y=0.0, units="points")
        cols = [_type_style(c).colour for c in group["course_type"]]
        ax.scatter(group["x"], group["y"], s=60, c=cols, edgecolors="white", linewidths=0.8,
                   transform=trans, zorder=10)
        for x, y, code in zip(group["x"], group["y"], group["course_type"], strict=True):
            style = _type_style(code)
            ax.text(x, y, style.symbol_de if language == "de" else style.symbol_en,
                    transform=trans, fontsize=3.8, color="white", ha="center", va="center",
                    fontweight="bold", zorder=11)
    # Limits: the Kreis with a margin, widened to the map frame's shape (metres equal in x
    # and y), so that the frame is filled.
    x0, y0, x1, y1 = krs.total_bounds
    pad = 0.04 * max(x1 - x0, y1 - y0)
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    frame_ratio = (MAP_FRAME[2] * width_in) / (MAP_FRAME[3] * height_in)
    if (x1 - x0) / (y1 - y0) < frame_ratio:
        grow = (frame_ratio * (y1 - y0) - (x1 - x0)) / 2
        x0, x1 = x0 - grow, x1 + grow
    else:
        grow = ((x1 - x0) / frame_ratio - (y1 - y0)) / 2
        y0, y1 = y0 - grow, y1 + grow
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    _scale_bar(ax, language)
    if north_arrow:
        _north_arrow(ax)

    # Title, legend, parameters, footer.
    kreis_name = str(kreis["gen"].iloc[0]) if "gen" in kreis.columns and len(kreis) else ""
    heading = title or (f"{t['title']} – {kreis_name}" if kreis_name else t["title"])
    type_label = t["any"] if course_type is None else _type_name(course_type, language)
    fig.text(0.02, 0.955, heading, fontsize=14, fontweight="bold", va="top")
    fig.text(0.02, 0.915, f"{t['subtitle']} ({type_label})", fontsize=9.5, va="top")
    handles: list[Any] = []
    lo = 0.0
    for hi, colour in COVERAGE_CLASSES:
        handles.append(Patch(facecolor=colour, edgecolor="#555555", linewidth=0.4,
                             label=f"{_one_number(lo, language)}–{_one_number(hi, language)} %"))
        lo = hi
    handles.append(Patch(facecolor=NO_DATA_COLOUR, edgecolor="#555555", linewidth=0.4,
                         label=t["no_data"]))
    if marked.any():
        handles.append(Patch(facecolor="white", edgecolor=DATENLAGE_HATCH_COLOUR, hatch="////",
                             linewidth=0.0, label=t["hatch"]))
    handles.append(Line2D([], [], color="#555555", linewidth=0.6, label=t["gemeinde"]))
    handles.append(Line2D([], [], color="black", linewidth=1.6, label=t["kreis"]))
    types = sorted(courses.courses["course_type"].astype(str).unique(),
                   key=lambda c: (order.get(c, len(order)), c))
    for code in types:
        style = _type_style(code)
        sym = style.symbol_de if language == "de" else style.symbol_en
        handles.append(Line2D([], [], marker="o", linestyle="", markersize=7,
                              markerfacecolor=style.colour, markeredgecolor="white",
                              label=f"{sym}  {_type_name(code, language)}"))
    legend_ax = fig.add_axes((0.70, 0.30, 0.28, 0.59))
    legend_ax.set_axis_off()
    legend_ax.legend(handles=handles, loc="upper left", fontsize=7, frameon=False,
                     title=f"{t['legend']} · {t['sites'] if types else ''}".rstrip(" ·"),
                     title_fontsize=7.5, alignment="left")
    lines = [f"{t['date']}: {_date_text(analysis_date, language, weekday=True)}"]
    if courses.as_of:
        lines.append(f"{t['as_of']}: {_date_text(courses.as_of, language)}")
    scheds = [s for s in SCHEDULE_STYLES if s in set(courses.courses["schedule"])]
    if scheds:
        lines.append(f"{t['schedules']}: " + ", ".join(_schedule_name(s, language)
                                                       for s in scheds))
    if parameters:
        lines.append(f"{t['parameters']}:")
        lines += [f"  {k}: {v}" for k, v in parameters.items()]
    fig.text(0.70, 0.28, "\n".join(lines), fontsize=7, va="top", linespacing=1.4, wrap=True)
    credits = [attribution] if isinstance(attribution, str) else list(attribution)
    footer = " · ".join(credits)
    fig.text(0.02, 0.045, footer, fontsize=6, va="bottom", color="#333333", wrap=True)
    fig.text(0.02, 0.02, f"{t['date']}: {_date_text(analysis_date, language)}", fontsize=6,
             va="bottom", color="#333333")

    with atomic_path(out) as tmp:
        if fmt == "pdf":
            fig.savefig(tmp, format="pdf", metadata={"Creator": "kurszugang",
                                                      "CreationDate": None})
        else:
            fig.savefig(tmp, format="png", dpi=dpi, metadata={"Software": "kurszugang"})
    n_no = int(np.sum(colours == NO_DATA_COLOUR))
    log.info("Karte %s geschrieben (%s, A4 quer, %s Gemeinden, %s ohne Ergebnis, %s mit "
             "Hinweis zur Datenlage, %s Kursorte)", out, fmt.upper(), de_number(len(gem)),
             de_number(n_no), de_number(int(marked.sum())), de_number(len(sites)))
    return out


def _noted(coverage: pd.DataFrame) -> set[str]:
    """Keys of the Gemeinden with a Datenlage note (a non-empty ``datenlage``)."""
    if "datenlage" not in coverage.columns:
        return set()
    note = coverage["datenlage"].fillna("").astype(str).str.strip()
    return set(coverage.loc[note.ne("").to_numpy(), "ags"].astype(str))


def render_static_map(results: Results, path: Path, fmt: str) -> Path:
    """Write the A4 map of a run (PNG or PDF) from its Results alone."""
    from kurszugang.output.render import course_view, map_parameters

    gem = results.layer("gemeinden")
    return static_map(gemeinden=gem[["ags", "gen", gem.geometry.name]],
                      kreis=results.layer("kreis").rename(columns={"name": "gen"}),
                      courses=course_view(results), coverage=pd.DataFrame(gem), path=path,
                      analysis_date=results.info.school_day, format=fmt,
                      parameters=map_parameters(results),
                      attribution=list(results.info.attribution),
                      language=results.info.language, title=None)


def _plan_figure(width_mm: float, height_mm: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_mm / 25.4, height_mm / 25.4), dpi=150)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": "kurszugang"})
    return path


def render_plan_plots(results: Results, folder: Path) -> list[Path]:
    """The planning plots of a run (PNG, German): coverage and weeks to start against the
    number of sites, and participants against the start time, per format."""
    from kurszugang.output.summary import _format_name

    if "plan_standorte" not in results.tables:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    per_k = results.table("plan_standorte")
    fig = _plan_figure(250, 120)
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for label, g in per_k.groupby("format", sort=False):
        ok = g[g["status"] == "optimal"]
        name = _format_name(str(label))
        ax1.plot(ok["k"], ok["share_covered"], marker="o", label=name)
        ax2.plot(ok["k"], ok["weeks_to_start_mean"], marker="o", label=name)
    ax1.set(xlabel="Standorte", ylabel="Anteil versorgt (%)",
            title="Versorgung je Zahl der Standorte")
    ax2.set(xlabel="Standorte", ylabel="Wochen bis Kursstart (Mittel)",
            title="Wartezeit je Zahl der Standorte")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_ylim(bottom=0)  # an axis from 0: a gain looks as large as it is
    ax1.set_ylim(top=100)
    ax1.legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    out = [_save(fig, folder / "versorgung_nach_standorten.png")]
    sweep = results.table("plan_startzeiten")
    formats = list(dict.fromkeys(sweep["format"].astype(str)))
    if formats:
        n = len(formats)
        cols = min(n, 3)
        rows = -(-n // cols)
        fig = _plan_figure(90 * cols, 65 * rows)
        for i, label in enumerate(formats):
            ax = fig.add_subplot(rows, cols, i + 1)
            part = sweep[sweep["format"] == label]
            for site, g in part.groupby("candidate_id", sort=False):
                ax.plot(g["start"], g["participants"], label=str(site))
                cur = g[g["current"].astype(bool)]
                ax.scatter(cur["start"], cur["participants"], color="black", s=12, zorder=3)
            ax.set_title(_format_name(label), fontsize=7)
            ax.set_xlabel("Beginn", fontsize=6)
            ax.set_ylabel("Teilnehmende in Reichweite", fontsize=6)
            ticks = list(part["start"].drop_duplicates())
            ax.set_xticks(range(0, len(ticks), 4), ticks[::4], fontsize=5, rotation=90)
            ax.tick_params(axis="y", labelsize=5)
            ax.legend(fontsize=5)
            ax.grid(alpha=0.3)
        fig.tight_layout()
        out.append(_save(fig, folder / "teilnehmende_nach_beginnzeit.png"))
    return out


#: Classes of a difference map (upper limit in percentage points, colour): red (fewer can
#: attend) to blue (more), grey: about the same.
DIFFERENCE_CLASSES: tuple[tuple[float, str], ...] = (
    (-10.0, "#b2182b"), (-2.0, "#ef8a62"), (2.0, "#e0e0e0"), (10.0, "#67a9cf"),
    (float("inf"), "#2166ac"))


def render_difference_map(results: Results, path: Path) -> Path:
    """A4 map of a comparison (``kurszugang compare``): the change B − A of the share of
    potential participants who can attend a course, per Gemeinde, in percentage points."""
    from matplotlib.patches import Patch

    layer = results.layer("vergleich").to_crs(MAP_CRS)
    diff = layer["share_diff"].to_numpy(float)
    limits = np.array([c[0] for c in DIFFERENCE_CLASSES])
    idx = np.searchsorted(limits, np.nan_to_num(diff, nan=0.0), side="left")
    colours = np.where(np.isfinite(diff), np.array([c[1] for c in DIFFERENCE_CLASSES],
                                                   dtype=object)[idx], NO_DATA_COLOUR)
    fig = _plan_figure(*A4_LANDSCAPE_MM)
    ax = fig.add_axes(MAP_FRAME)
    ax.set_axis_off()
    layer.plot(ax=ax, color=list(colours), edgecolor="#555555", linewidth=0.4)
    reps = layer.geometry.representative_point()
    for x, y, name, d in zip(reps.x, reps.y, layer["gen"].astype(str), diff, strict=True):
        txt = f"{name}\n{d:+.1f}".replace(".", ",") if np.isfinite(d) else name
        ax.text(x, y, txt, fontsize=5, ha="center", va="center")
    ax.set_aspect("equal")
    fig.text(0.02, 0.955, f"Veränderung gegenüber heute – {results.info.district_name}",
             fontsize=14, fontweight="bold", va="top")
    fig.text(0.02, 0.915, "Anteil der potenziellen Teilnehmenden mit besuchbarem Kurs, "
             "Szenario B minus heute A (Prozentpunkte)", fontsize=9.5, va="top")
    labels = ["weniger als −10", "−10 bis −2", "etwa gleich (±2)", "+2 bis +10", "mehr als +10"]
    handles = [Patch(facecolor=c, edgecolor="#555555", label=lab)
               for (_lim, c), lab in zip(DIFFERENCE_CLASSES, labels, strict=True)]
    legend_ax = fig.add_axes((0.70, 0.30, 0.28, 0.59))
    legend_ax.set_axis_off()
    legend_ax.legend(handles=handles, loc="upper left", fontsize=8, frameon=False,
                     title="Prozentpunkte")
    fig.text(0.70, 0.28, "\n".join(results.info.notes), fontsize=7, va="top", wrap=True)
    return _save(fig, path)
