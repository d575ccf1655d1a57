"""The web map: one self-contained HTML page in the style of the BAMF WebGIS, German or English.

:func:`build_webmap` assembles a :class:`folium.Map` from the results of an analysis:

- course sites as markers with a symbol and colour per course type and a badge per schedule,
  clustered when zoomed out, one overlay per combination of course type and schedule; a popup per
  marker lists the site's provider, address and every course (type, days, times, childcare, free
  places, next start) and the date the course list is as of;
- a Gemeinde choropleth of the share of potential participants who can attend a course (of a
  chosen type), and one of the travel time to the nearest course, with tooltips (AGS, name,
  figures) and a legend;
- catchment bands (one overlay per band, e.g. 0-15 min) and travel-time surfaces (image
  overlays);
- stops with their departures per hour on the analysis date; Kreis and Gemeinde boundaries;
- a scale bar, a fullscreen button, a search by Gemeinde name, the attribution of every data
  source and a box with the analysis date and parameters.

:func:`write_webmap` writes it as ONE HTML file that works offline: Leaflet and every plugin are
inlined from the unmodified copies vendored in ``kurszugang/output/assets/`` (see the README
there), so without internet every overlay still shows on a plain grey background; with internet
the OpenStreetMap base map appears as well. The only address on the internet the page refers to
is the base map's tile server.

The page's texts are German by default and English with ``language="en"``. The documentation is
in ``docs/outputs.md`` ("Webkarte").
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kurszugang.errors import ConfigError, InputError
from kurszugang.files import atomic_path
from kurszugang.output.style import (
    COURSE_TYPE_STYLES,
    COVERAGE_CLASSES,
    NO_DATA_COLOUR,
    OTHER_TYPE_COLOUR,
    SCHEDULE_STYLES,
    TRAVEL_TIME_CLASSES,
    CourseTypeStyle,
)

if TYPE_CHECKING:
    import folium
    import geopandas as gpd

    from kurszugang.io.courses import CourseList
    from kurszugang.output.render import CourseView
    from kurszugang.results import Results, Surface

    TravelTimeSurface = Surface

__all__ = [
    "ASSETS_DIR",
    "COURSE_TYPE_STYLES",
    "COVERAGE_CLASSES",
    "DEMO_ATTRIBUTION",
    "NO_DATA_COLOUR",
    "OSM_TILES",
    "SCHEDULE_STYLES",
    "TRAVEL_TIME_CLASSES",
    "UNCLUSTER_ZOOM",
    "CourseTypeStyle",
    "build_webmap",
    "coverage_share",
    "render_webmap",
    "write_webmap",
]

log = logging.getLogger(__name__)

#: Folder of the vendored JavaScript/CSS libraries (unmodified, with their licences).
ASSETS_DIR = Path(__file__).resolve().parent / "assets"
#: The base map: OpenStreetMap's standard tiles (loaded only when the page is online).
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
#: Attribution of the fictional demo district (plus the base map's, which is always added).
DEMO_ATTRIBUTION: tuple[str, ...] = (
    "Landkreis Beispiel (fiktiv): Grenzen, Fahrplan, Wegenetz, Bevölkerung und Kurse sind "
    "erfunden / made-up data",
)  # the same as kurszugang.demo.DEMO_ATTRIBUTION

_LANGUAGES = ("de", "en")
#: From this zoom level on, course markers are never clustered: the markers of one site then
#: stand side by side.
UNCLUSTER_ZOOM = 15


_WEEKDAYS = {"de": ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"),
             "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}
_WEEKDAY_NAMES = {"de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag",
                         "Sonntag"),
                  "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                         "Sunday")}

_TEXT: dict[str, dict[str, str]] = {
    "de": {
        "title": "Erreichbarkeit der Integrationskurse",
        "courses": "Kurse",
        "provider": "Träger",
        "address": "Adresse",
        "type": "Kursart",
        "schedule": "Zeitform",
        "days": "Tage",
        "times": "Uhrzeit",
        "childcare": "Kinderbetreuung",
        "free": "Freie Plätze",
        "next_start": "Nächster Start",
        "as_of": "Stand der Kursliste",
        "unknown": "k. A.",
        "yes": "ja",
        "no": "nein",
        "of": "von",
        "coverage_layer": "Anteil Teilnehmender mit erreichbarem Kurs",
        "coverage_any": "irgendein Kurs",
        "nearest_layer": "Reisezeit zum nächsten Kurs",
        "ags": "AGS",
        "gemeinde": "Gemeinde",
        "participants": "Potenzielle Teilnehmende",
        "can_attend": "davon mit erreichbarem Kurs",
        "share": "Anteil",
        "minutes": "Reisezeit (Median)",
        "no_participants": "keine potenziellen Teilnehmenden / keine Daten",
        "beyond": "länger / nicht erreichbar",
        "band_layer": "Einzugsbereich",
        "site": "Kursort",
        "surface_layer": "Reisezeitfläche",
        "arrive_by": "Ankunft bis",
        "stops_layer": "Haltestellen (Abfahrten)",
        "departures_on": "Abfahrten am",
        "per_hour": "je Stunde (Betriebstag)",
        "hour": "Uhr",
        "gemeinden_layer": "Gemeindegrenzen",
        "kreis_layer": "Kreisgrenze",
        "base_osm": "OpenStreetMap",
        "search": "Gemeinde suchen …",
        "not_found": "Nicht gefunden",
        "cancel": "Abbrechen",
        "fullscreen": "Vollbild",
        "fullscreen_off": "Vollbild beenden",
        "analysis": "Analyse",
        "date": "Stichtag",
        "legend": "Legende",
        "legend_share": "Anteil potenzieller Teilnehmender, die einen Kurs besuchen können",
        "legend_time": "Reisezeit (min)",
        "legend_types": "Kursarten",
        "legend_schedules": "Zeitformen (Abzeichen)",
        "osm": "Kartendaten: © OpenStreetMap-Mitwirkende (ODbL)",
        "min": "min",
        "stop": "Haltestelle",
    },
    "en": {
        "title": "Access to integration courses",
        "courses": "Courses",
        "provider": "Provider",
        "address": "Address",
        "type": "Course type",
        "schedule": "Schedule",
        "days": "Days",
        "times": "Times",
        "childcare": "Childcare",
        "free": "Free places",
        "next_start": "Next start",
        "as_of": "Course list as of",
        "unknown": "n/a",
        "yes": "yes",
        "no": "no",
        "of": "of",
        "coverage_layer": "Share of participants who can attend a course",
        "coverage_any": "any course",
        "nearest_layer": "Travel time to the nearest course",
        "ags": "AGS",
        "gemeinde": "Municipality",
        "participants": "Potential participants",
        "can_attend": "who can attend a course",
        "share": "Share",
        "minutes": "Travel time (median)",
        "no_participants": "no potential participants / no data",
        "beyond": "longer / not reachable",
        "band_layer": "Catchment",
        "site": "Course site",
        "surface_layer": "Travel-time surface",
        "arrive_by": "arriving by",
        "stops_layer": "Stops (departures)",
        "departures_on": "Departures on",
        "per_hour": "per hour (service day)",
        "hour": "h",
        "gemeinden_layer": "Municipality boundaries",
        "kreis_layer": "District boundary",
        "base_osm": "OpenStreetMap",
        "search": "Find a municipality …",
        "not_found": "Not found",
        "cancel": "Cancel",
        "fullscreen": "Full screen",
        "fullscreen_off": "Exit full screen",
        "analysis": "Analysis",
        "date": "Date",
        "legend": "Legend",
        "legend_share": "Share of potential participants who can attend a course",
        "legend_time": "Travel time (min)",
        "legend_types": "Course types",
        "legend_schedules": "Schedules (badge)",
        "osm": "Map data: © OpenStreetMap contributors (ODbL)",
        "min": "min",
        "stop": "Stop",
    },
}

# --------------------------------------------------------------------------------------------
# Vendored libraries: folium's resource name -> file in ASSETS_DIR. folium's own CDN links are
# replaced by these files' contents when the page is written. The names and versions follow
# folium's `default_js`/`default_css` (checked by tests/output/test_webmap.py).
# --------------------------------------------------------------------------------------------
_ASSETS: dict[str, str] = {
    "leaflet": "leaflet/leaflet.js",
    "leaflet_css": "leaflet/leaflet.css",
    "markerclusterjs": "leaflet.markercluster/leaflet.markercluster.js",
    "markerclustercss": "leaflet.markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "leaflet.markercluster/MarkerCluster.Default.css",
    "featuregroupsubgroupjs": "leaflet.featuregroup.subgroup/leaflet.featuregroup.subgroup.js",
    "Control.Fullscreen.js": "leaflet.fullscreen/Control.FullScreen.js",
    "Control.FullScreen.css": "leaflet.fullscreen/Control.FullScreen.css",
    "Leaflet.Search.js": "leaflet-search/dist/leaflet-search.min.js",
    "Leaflet.Search.css": "leaflet-search/dist/leaflet-search.min.css",
}
# folium.Map loads these for its Font Awesome/Bootstrap marker icons, which this map does not use
# (its markers are plain HTML): they are left out of the page.
_UNUSED = frozenset({"jquery", "bootstrap", "awesome_markers", "bootstrap_css", "glyphicons_css",
                     "awesome_markers_font_css", "awesome_markers_css", "awesome_rotate_css"})
_MIME = {".png": "image/png", ".gif": "image/gif", ".svg": "image/svg+xml",
         ".jpg": "image/jpeg"}

_CSS = """
.kz-site{width:30px;height:30px;border-radius:50%;border:2px solid #fff;color:#fff;
 font:bold 11px/26px Arial,Helvetica,sans-serif;text-align:center;box-sizing:border-box;
 box-shadow:0 1px 4px rgba(0,0,0,.6);position:relative}
.kz-site .kz-badge{position:absolute;right:-7px;top:-7px;width:15px;height:15px;
 border-radius:50%;background:#222;color:#fff;font:bold 9px/15px Arial,sans-serif;
 border:1px solid #fff}
.kz-sym{display:inline-block;width:20px;height:20px;border-radius:50%;color:#fff;
 font:bold 9px/20px Arial,sans-serif;text-align:center;vertical-align:middle;margin-right:3px}
.kz-swatch{display:inline-block;width:14px;height:12px;border:1px solid #777;
 vertical-align:middle;margin-right:4px}
.kz-popup{font:12px/1.35 Arial,Helvetica,sans-serif}
.kz-popup h4{margin:0 0 2px;font-size:13px}
.kz-popup table{border-collapse:collapse;margin-top:4px}
.kz-popup th,.kz-popup td{border-bottom:1px solid #ddd;padding:2px 4px;text-align:left;
 vertical-align:top}
.kz-popup tr.kz-hl td{background:#fff3c4}
.kz-popup .kz-asof{color:#555;margin-top:4px}
.kz-bars{display:flex;align-items:flex-end;height:42px;gap:1px;margin-top:4px}
.kz-bars span{display:inline-block;width:7px;background:#1f4e79;min-height:1px}
.kz-hours{display:flex;gap:1px;font-size:8px;color:#555}
.kz-hours span{display:inline-block;width:7px;text-align:center}
.kz-box{background:rgba(255,255,255,.92);padding:6px 8px;border-radius:4px;
 box-shadow:0 1px 5px rgba(0,0,0,.4);font:11px/1.35 Arial,Helvetica,sans-serif;
 max-width:300px;max-height:45vh;overflow:auto}
.kz-box h4{margin:2px 0 3px;font-size:12px}
.kz-box div{white-space:nowrap}
.kz-box summary{cursor:pointer}
.leaflet-control-layers{font:12px/1.3 Arial,Helvetica,sans-serif}
.leaflet-control-layers label{margin:1px 0}
"""


# --------------------------------------------------------------------------------------------
# Small formatting helpers (German number format: decimal comma, point as thousands separator)
# --------------------------------------------------------------------------------------------
def _t(language: str, key: str) -> str:
    return _TEXT[language][key]


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _number(values: pd.Series, language: str, decimals: int) -> pd.Series:
    """Numbers as text in the language's format; NA stays NA."""
    num = pd.to_numeric(values, errors="coerce").astype("Float64")
    text = num.map(lambda v: f"{v:,.{decimals}f}", na_action="ignore")
    if language == "de":
        text = text.str.replace(",", "\x00", regex=False).str.replace(".", ",", regex=False)
        text = text.str.replace("\x00", ".", regex=False)
    return text.astype("string")


def _one_number(value: float, language: str, decimals: int = 0) -> str:
    out = _number(pd.Series([value]), language, decimals).iloc[0]
    return "" if pd.isna(out) else str(out)


def _date_text(day: dt.date, language: str, *, weekday: bool = False) -> str:
    text = f"{day:%d.%m.%Y}" if language == "de" else day.isoformat()
    if weekday:
        text = f"{_WEEKDAY_NAMES[language][day.weekday()]}, {text}"
    return text


def _weekday_text(weekdays: pd.Series, language: str) -> pd.Series:
    """``"1111100"`` -> ``"Mo–Fr"``, ``"1010100"`` -> ``"Mo, Mi, Fr"`` (one format per pattern)."""
    names = _WEEKDAYS[language]
    patterns = pd.unique(weekdays.astype(str))
    out: dict[str, str] = {}
    for pat in patterns:  # at most 128 distinct patterns, never per course
        days = [i for i, c in enumerate(pat[:7]) if c == "1"]
        if len(days) >= 3 and days == list(range(days[0], days[-1] + 1)):
            out[pat] = f"{names[days[0]]}–{names[days[-1]]}"
        else:
            out[pat] = ", ".join(names[i] for i in days)
    return weekdays.astype(str).map(out)


def _clock(seconds: pd.Series) -> pd.Series:
    s = pd.to_numeric(seconds, errors="coerce").astype("Int64")
    hh = (s // 3600).astype("string").str.zfill(2)
    mm = (s % 3600 // 60).astype("string").str.zfill(2)
    return (hh + ":" + mm).astype("string")


def _classify(values: np.ndarray, classes: Sequence[tuple[float, str]]) -> np.ndarray:
    """Colour per value: the first class whose upper limit is >= the value; NaN/beyond: grey."""
    limits = np.array([c[0] for c in classes], dtype=float)
    colours = np.array([c[1] for c in classes] + [NO_DATA_COLOUR], dtype=object)
    v = np.asarray(values, dtype=float)
    idx = np.searchsorted(limits, np.nan_to_num(v, nan=np.inf), side="left")
    return colours[np.minimum(idx, len(limits))]


def _type_style(code: str) -> CourseTypeStyle:
    style = COURSE_TYPE_STYLES.get(code)
    if style is None:
        sym = code[:2].upper()
        style = CourseTypeStyle(OTHER_TYPE_COLOUR, sym, sym, code, code)
    return style


def _type_name(code: str, language: str) -> str:
    s = _type_style(code)
    return s.name_de if language == "de" else s.name_en


def _schedule_name(code: str, language: str) -> str:
    return SCHEDULE_STYLES.get(code, {}).get(language, code)


def _symbol_html(code: str, language: str, css: str = "kz-sym") -> str:
    s = _type_style(code)
    sym = s.symbol_de if language == "de" else s.symbol_en
    return f'<span class="{css}" style="background:{s.colour}">{_esc(sym)}</span>'


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------
def _need_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{what} lacks the column(s) {', '.join(missing)} (it has "
                         f"{', '.join(map(str, frame.columns))})", column=missing[0])


def _need_crs(frame: gpd.GeoDataFrame, what: str) -> None:
    if getattr(frame, "crs", None) is None:
        raise InputError(f"{what} has no CRS: set one with .set_crs(...)")


def _to_wgs84(frame: gpd.GeoDataFrame, *, simplify_m: float = 0.0) -> gpd.GeoDataFrame:
    """Reproject to EPSG:4326 for the web map, simplifying in metres (EPSG:25832) first and
    rounding coordinates to about 1 m (1e-5 degrees) to keep the page small."""
    import shapely

    out = frame
    if simplify_m > 0:
        out = out.to_crs("EPSG:25832")
        out = out.set_geometry(out.geometry.simplify(simplify_m, preserve_topology=True))
    out = out.to_crs("EPSG:4326")
    geoms = shapely.set_precision(np.asarray(out.geometry.values, dtype=object), 1e-5)
    return out.set_geometry(pd.Series(geoms, index=out.index), crs="EPSG:4326")


def _geojson(frame: gpd.GeoDataFrame, columns: Sequence[str]) -> dict[str, Any]:
    return json.loads(frame[[*columns, frame.geometry.name]].to_json(drop_id=True))


# --------------------------------------------------------------------------------------------
# Public helpers for the map's inputs
# --------------------------------------------------------------------------------------------
def coverage_share(coverage: pd.DataFrame, *, course_type: str | None = None) -> pd.DataFrame:
    """Share of potential participants per Gemeinde who can attend a course (of one type).

    Parameters
    ----------
    coverage
        Per Gemeinde, from :func:`kurszugang.analysis.coverage.coverage_summary` (``by="ags"``):
        ``ags``, ``participants`` and ``part_any`` or ``part_type_<course_type>``.
    course_type
        A course type code (e.g. ``"alpha"``); None: any course.

    Returns
    -------
    pandas.DataFrame
        ``ags`` (str), ``participants``, ``can_attend`` (potential participants who can attend)
        and ``share_pct`` (percent; NaN where a Gemeinde has no potential participants).

    Raises
    ------
    InputError
        If ``coverage`` lacks ``ags`` or ``participants``.
    ConfigError
        If ``course_type`` is not among the types in ``coverage``.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"ags": ["09999111"], "participants": [40.0], "part_any": [30.0]})
    >>> coverage_share(frame)["share_pct"].tolist()
    [75.0]
    """
    _need_columns(coverage, ("ags", "participants"), "the coverage table")
    col = "part_any" if course_type is None else f"part_type_{course_type}"
    if col not in coverage.columns:
        known = sorted(c.removeprefix("part_type_") for c in coverage.columns
                       if c.startswith("part_type_"))
        if course_type is None:
            raise InputError("the coverage table lacks the column part_any "
                             "(from kurszugang.analysis.coverage.coverage_summary)",
                             column="part_any")
        raise ConfigError(f"course type {course_type!r} is not in the coverage table; it has "
                          f"{', '.join(known) or 'no course types'}")
    part = pd.to_numeric(coverage["participants"], errors="coerce").to_numpy(float)
    can = pd.to_numeric(coverage[col], errors="coerce").to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(part > 0, 100.0 * can / np.where(part > 0, part, 1.0), np.nan)
    return pd.DataFrame({"ags": coverage["ags"].astype("string").to_numpy(),
                         "participants": part, "can_attend": can, "share_pct": share})


# --------------------------------------------------------------------------------------------
# The map
# --------------------------------------------------------------------------------------------
def build_webmap(
    *,
    gemeinden: gpd.GeoDataFrame,
    kreis: gpd.GeoDataFrame,
    courses: CourseList | CourseView,
    coverage: pd.DataFrame,
    analysis_date: dt.date,
    parameters: Mapping[str, object],
    isochrones: gpd.GeoDataFrame | None = None,
    surface: TravelTimeSurface | Mapping[str, TravelTimeSurface] | None = None,
    stops: gpd.GeoDataFrame | None = None,
    course_type: str | None = None,
    language: str = "de",
    attribution: str | Sequence[str] = (),
    tiles: bool = True,
) -> folium.Map:
    """The web map of an analysis: course sites, coverage, catchments, stops and boundaries.

    Parameters
    ----------
    gemeinden
        Gemeinden (:func:`kurszugang.io.boundaries.read_boundaries`, any CRS) with ``ags`` and
        ``gen``.
    kreis
        The Kreis (or Kreise) to outline, any CRS.
    courses
        The course list (:func:`kurszugang.io.courses.read_courses`).
    coverage
        Per Gemeinde (:func:`kurszugang.analysis.coverage.coverage_summary`, ``by="ags"``):
        ``ags``, ``participants``, ``part_any`` and ``part_type_<type>``; optionally
        ``minutes_nearest`` (:func:`kurszugang.analysis.layers.travel_time_to_nearest`) for a
        second choropleth.
    analysis_date
        The analysis date, shown in the info box and the stops' popups.
    parameters
        Parameters to show in the info box, e.g. ``{"Reisezeit je Weg": "45 min"}`` (shown as
        given: write them in the map's language).
    isochrones
        Catchment bands (:func:`kurszugang.analysis.catchments.isochrones` of one or more sites,
        concatenated), any CRS, with ``site_id``, ``band_min``, ``band_max``; one overlay per
        band.
    surface
        A travel-time surface (:func:`kurszugang.analysis.catchments.travel_time_surface`) or a
        mapping of names to surfaces; each becomes an image overlay.
    stops
        Stops with departures per hour (:func:`kurszugang.analysis.layers.stop_departures`).
    course_type
        Course type of the coverage choropleth (None: any course).
    language
        ``"de"`` (default) or ``"en"``.
    attribution
        Credits of the data shown (boundaries, timetable, population, course list), one string
        per source; the base map's OpenStreetMap credit is added.
    tiles
        Add the OpenStreetMap base map (loaded only when online).

    Returns
    -------
    folium.Map
        Write it with :func:`write_webmap` (which makes it work offline).

    Raises
    ------
    InputError
        If an input lacks a required column or a CRS.
    ConfigError
        If ``language`` is not ``"de"``/``"en"`` or ``course_type`` is not in ``coverage``.

    Examples
    --------
    >>> m = build_webmap(gemeinden=gem, kreis=krs, courses=courses,
    ...                  coverage=coverage_summary(access), analysis_date=SCHOOL_DAY,
    ...                  parameters={"Reisezeit je Weg": "45 min"})  # doctest: +SKIP
    >>> write_webmap(m, "karte.html")  # doctest: +SKIP
    PosixPath('karte.html')
    """
    import folium
    from folium import plugins

    if language not in _LANGUAGES:
        raise ConfigError(f"language must be one of {', '.join(_LANGUAGES)}, got {language!r}")
    _need_columns(gemeinden, ("ags", "gen"), "the Gemeinden")
    _need_crs(gemeinden, "the Gemeinden")
    _need_crs(kreis, "the Kreis")
    share = coverage_share(coverage, course_type=course_type)
    if isochrones is not None:
        _need_columns(isochrones, ("site_id", "band_min", "band_max"), "the isochrones")
        _need_crs(isochrones, "the isochrones")
    if stops is not None:
        _need_columns(stops, ("stop_id", "stop_name", "departures"), "the stops")
        _need_crs(stops, "the stops")
    credits = [attribution] if isinstance(attribution, str) else list(attribution)

    kreis_wgs = _to_wgs84(kreis, simplify_m=10.0)
    west, south, east, north = (float(v) for v in kreis_wgs.total_bounds)
    m = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=10,
                   tiles=None, control_scale=False, prefer_canvas=False)
    m.fit_bounds([[south, west], [north, east]])
    setattr(m, "_kz_language", language)  # noqa: B010 - the page's lang, read by write_webmap
    root: Any = m.get_root()
    root.header.add_child(folium.Element(f"<title>{_esc(_t(language, 'title'))}</title>"),
                          name="kz_title")
    root.header.add_child(folium.Element(f"<style>{_CSS}</style>"), name="kz_css")
    if tiles:
        folium.TileLayer(OSM_TILES, attr=_esc(_t(language, "osm")), name=_t(language, "base_osm"),
                         max_zoom=19, overlay=False, control=True).add_to(m)
    # Panes: fills, then surfaces, catchments (overlay pane, 400), boundaries, stops; markers on
    # top.
    folium.map.CustomPane("kz-fill", z_index=380, pointer_events=True).add_to(m)
    folium.map.CustomPane("kz-raster", z_index=390).add_to(m)
    folium.map.CustomPane("kz-lines", z_index=420).add_to(m)
    folium.map.CustomPane("kz-stops", z_index=450, pointer_events=True).add_to(m)

    cluster, site_layers = _sites(m, courses, language)  # first: listed first in the control
    overlays: dict[str, Any] = dict(site_layers)
    gem_wgs = _to_wgs84(gemeinden[["ags", "gen", gemeinden.geometry.name]], simplify_m=10.0)
    gem_wgs["ags"] = gem_wgs["ags"].astype("string")
    overlays.update(_choropleths(m, gem_wgs, share, coverage, course_type, language))
    if isochrones is not None and len(isochrones):
        overlays.update(_catchments(m, isochrones, courses, language))
    if surface is not None:
        overlays.update(_surfaces(m, surface, language))
    if stops is not None and len(stops):
        overlays.update(_stops(m, stops, analysis_date, language))
    overlays.update(_boundaries(m, gem_wgs, kreis_wgs, language))

    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    plugins.Fullscreen(position="topleft", title=_t(language, "fullscreen"),
                       title_cancel=_t(language, "fullscreen_off")).add_to(m)
    search_layer = overlays[_t(language, "gemeinden_layer")]
    plugins.Search(search_layer, search_label="gen", geom_type="Polygon",
                   placeholder=_t(language, "search"), collapsed=False,
                   position="topleft", color="#000000", weight=4).add_to(m)
    m.add_child(_script_element(
        f"L.control.scale({{imperial: false, maxWidth: 150}}).addTo({m.get_name()});"))
    m.add_child(_script_element(_texts_script(m, language)))
    m.add_child(_control_element("bottomleft",
                                 _info_html(analysis_date, parameters, courses, language)))
    m.add_child(_control_element("bottomleft", _legend_html(courses, language, course_type,
                                                     isochrones is not None or surface is not None
                                                     or "minutes_nearest" in coverage.columns)))
    m.add_child(_script_element(_attribution_script(m, credits)))
    m.add_child(_script_element(_hook_script(m, cluster, overlays)))
    log.info("web map: %d course markers in %d layers, %d overlays in all",
             sum(len(v._children) for v in site_layers.values()), len(site_layers),
             len(overlays))
    return m


def _choropleths(m: folium.Map, gem: gpd.GeoDataFrame, share: pd.DataFrame,
                 coverage: pd.DataFrame, course_type: str | None, language: str
                 ) -> dict[str, Any]:
    import folium

    frame = gem.merge(share, on="ags", how="left")
    missing = frame["participants"].isna()
    if missing.any():
        log.warning("%d Gemeinden have no coverage result and are drawn grey (e.g. %s)",
                    int(missing.sum()), ", ".join(frame.loc[missing, "ags"].astype(str)[:3]))
    extra = set(share["ags"]) - set(gem["ags"])
    if extra:
        log.warning("%d coverage rows have no Gemeinde polygon and are not drawn (e.g. %s)",
                    len(extra), ", ".join(sorted(extra)[:3]))
    frame["participants_txt"] = _number(frame["participants"], language, 1).fillna("–")
    frame["can_attend_txt"] = _number(frame["can_attend"], language, 1).fillna("–")
    frame["share_txt"] = (_number(frame["share_pct"], language, 1) + " %").fillna(
        _t(language, "unknown"))
    colours = _classify(frame["share_pct"].to_numpy(float), COVERAGE_CLASSES)
    type_label = (_t(language, "coverage_any") if course_type is None
                  else _type_name(course_type, language))
    fields = ["ags", "gen", "participants_txt", "can_attend_txt", "share_txt"]
    aliases = [_t(language, k) for k in ("ags", "gemeinde", "participants", "can_attend",
                                         "share")]
    has_nearest = "minutes_nearest" in coverage.columns
    if has_nearest:
        near = coverage[["ags", "minutes_nearest"]].astype({"ags": "string"})
        frame = frame.merge(near, on="ags", how="left")
        frame["minutes_txt"] = (_number(frame["minutes_nearest"], language, 0) + " "
                                + _t(language, "min")).fillna(_t(language, "beyond"))
        fields.append("minutes_txt")
        aliases.append(_t(language, "minutes"))
    out: dict[str, Any] = {}
    name = f"{_t(language, 'coverage_layer')} ({_esc(type_label)})"
    frame["style"] = [{"fillColor": c, "color": "#555555", "weight": 0.5, "fillOpacity": 0.65}
                      for c in colours]
    layer = folium.GeoJson(
        _geojson(frame, [*fields, "style"]), name=name, show=True, pane="kz-fill",
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
    )
    layer.add_to(m)
    out[name] = layer
    if has_nearest:
        name = _t(language, "nearest_layer")
        near_col = _classify(frame["minutes_nearest"].to_numpy(float), TRAVEL_TIME_CLASSES)
        frame["style"] = [{"fillColor": c, "color": "#555555", "weight": 0.5,
                           "fillOpacity": 0.65} for c in near_col]
        layer = folium.GeoJson(
            _geojson(frame, [*fields, "style"]), name=name, show=False, pane="kz-fill",
            tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, sticky=True),
        )
        layer.add_to(m)
        out[name] = layer
    return out


def _catchments(m: folium.Map, iso: gpd.GeoDataFrame, courses: CourseList | CourseView, language: str
                ) -> dict[str, Any]:
    import folium

    frame = _to_wgs84(iso, simplify_m=25.0)
    frame = frame[~frame.geometry.is_empty].copy()
    sites = courses.sites[["site_id", "site_name", "provider"]].astype("string")
    frame["site_id"] = frame["site_id"].astype("string")
    frame = frame.merge(sites, on="site_id", how="left")
    name_txt = frame["site_name"].fillna(frame["site_id"])
    frame["site_txt"] = (name_txt + " (" + frame["provider"].fillna("") + ")").astype("string")
    lo = frame["band_min"].to_numpy(float)
    hi = frame["band_max"].to_numpy(float)
    frame["band_txt"] = [f"{a:g}–{b:g} {_t(language, 'min')}" for a, b in zip(lo, hi, strict=True)]
    colours = _classify(hi, TRAVEL_TIME_CLASSES)
    frame["style"] = [{"fillColor": c, "color": c, "weight": 1, "fillOpacity": 0.35}
                      for c in colours]
    out: dict[str, Any] = {}
    bands = frame[["band_min", "band_max"]].drop_duplicates().sort_values("band_max")
    for b_lo, b_hi in bands.itertuples(index=False):  # one overlay per band (a handful)
        part = frame[(frame["band_min"] == b_lo) & (frame["band_max"] == b_hi)]
        colour = _classify(np.array([b_hi]), TRAVEL_TIME_CLASSES)[0]
        name = (f'<span class="kz-swatch" style="background:{colour}"></span>'
                f"{_t(language, 'band_layer')} {b_lo:g}–{b_hi:g} {_t(language, 'min')}")
        layer = folium.GeoJson(
            _geojson(part, ["site_id", "site_txt", "band_txt", "style"]), name=name, show=False,
            tooltip=folium.GeoJsonTooltip(fields=["site_txt", "band_txt"],
                                          aliases=[_t(language, "site"),
                                                   _t(language, "band_layer")]),
        )
        layer.add_to(m)
        out[name] = layer
    return out


def _surfaces(m: folium.Map, surface: TravelTimeSurface | Mapping[str, TravelTimeSurface],
              language: str) -> dict[str, Any]:
    import folium
    from affine import Affine
    from pyproj import Transformer
    from rasterio.warp import Resampling, reproject

    items = (surface.items() if isinstance(surface, Mapping)
             else [(None, surface)])
    out: dict[str, Any] = {}
    for label, surf in items:  # one image per surface
        rows, cols = surf.shape
        src_transform = surf.transform if isinstance(surf.transform, Affine) \
            else Affine(*surf.transform)
        left, top = src_transform.c, src_transform.f
        right = left + cols * src_transform.a
        bottom = top + rows * src_transform.e
        # The target grid in Web Mercator, built directly (rasterio's calculate_default_transform
        # goes through a deprecated affine operator): the source's cell size times the Mercator
        # scale at the centre, so that one pixel is about one cell.
        merc = Transformer.from_crs(surf.crs, "EPSG:3857", always_xy=True)
        mx0, my0, mx1, my1 = merc.transform_bounds(left, bottom, right, top, densify_pts=21)
        lat = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True).transform(
            (mx0 + mx1) / 2, (my0 + my1) / 2)[1]
        px = surf.resolution_m / math.cos(math.radians(lat))
        width = max(1, math.ceil((mx1 - mx0) / px))
        height = max(1, math.ceil((my1 - my0) / px))
        dst_transform = Affine(px, 0.0, mx0, 0.0, -px, my1)
        dst = np.full((height, width), np.nan, dtype=np.float64)
        reproject(surf.minutes.astype(np.float64), dst, src_transform=src_transform,
                  src_crs=surf.crs, dst_transform=dst_transform, dst_crs="EPSG:3857",
                  resampling=Resampling.nearest, src_nodata=np.nan, dst_nodata=np.nan)
        rgba = np.zeros((height, width, 4), dtype=np.uint8)
        limits = np.array([c[0] for c in TRAVEL_TIME_CLASSES])
        palette = np.array([[int(c[1][i:i + 2], 16) for i in (1, 3, 5)]
                            for c in TRAVEL_TIME_CLASSES], dtype=np.uint8)
        ok = np.isfinite(dst) & (dst <= limits[-1])
        idx = np.searchsorted(limits, dst[ok], side="left")
        rgba[ok, :3] = palette[idx]
        rgba[ok, 3] = 255
        to_wgs = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
        x0, y0 = dst_transform.c, dst_transform.f
        x1, y1 = x0 + width * dst_transform.a, y0 + height * dst_transform.e
        lon0, lat0 = to_wgs.transform(x0, y1)
        lon1, lat1 = to_wgs.transform(x1, y0)
        site_txt = label if label is not None else surf.site_id
        name = (f"{_t(language, 'surface_layer')} {_esc(site_txt)} "
                f"({_t(language, 'arrive_by')} {surf.arrive_by // 3600:02d}:"
                f"{surf.arrive_by % 3600 // 60:02d})")
        layer = folium.raster_layers.ImageOverlay(
            rgba, bounds=[[lat0, lon0], [lat1, lon1]], name=name, show=False, opacity=0.6,
            pane="kz-raster", pixelated=True)
        layer.add_to(m)
        out[name] = layer
    return out


def _stops(m: folium.Map, stops: gpd.GeoDataFrame, date: dt.date, language: str
           ) -> dict[str, Any]:
    """Stops as circles sized by their departures; the popup's hourly bar chart is drawn in
    the browser from the counts (``h``), which keeps the page small for thousands of stops."""
    import folium

    hours = sorted(c for c in stops.columns if re.fullmatch(r"dep_h\d\d", str(c)))
    frame = _to_wgs84(stops[["stop_id", "stop_name", "departures", *hours,
                             stops.geometry.name]])
    dep = pd.to_numeric(frame["departures"], errors="coerce").fillna(0).to_numpy(float)
    radius = np.clip(2.5 + np.sqrt(dep) / 2.0, 2.5, 12.0)
    frame["style"] = [
        {"radius": float(r), "color": "#1f4e79" if d > 0 else "#888888", "weight": 1,
         "fillColor": "#9ecae1" if d > 0 else "#ffffff", "fillOpacity": 0.9}
        for r, d in zip(radius, dep, strict=True)]
    frame["stop_name"] = frame["stop_name"].astype("string").fillna(
        frame["stop_id"].astype("string"))
    frame["dep_txt"] = _number(frame["departures"], language, 0).fillna("0")
    counts = frame[hours].to_numpy(np.int64) if hours else np.zeros((len(frame), 0), np.int64)
    frame["h"] = list(counts.tolist())
    first_hour = int(hours[0][-2:]) if hours else 0
    name = _t(language, "stops_layer")
    day = f"{_t(language, 'departures_on')} {_date_text(date, language)}"
    popup_js = (
        "function(feature, layer) {"
        # folium drops a marker's pane option: set it before the layer is added
        "layer.options.pane = 'kz-stops';"
        "layer.bindPopup(function() {"
        "var p = feature.properties, h = p.h || [], peak = Math.max(1, Math.max.apply(null, h));"
        "var esc = function(t) {var d = document.createElement('div'); d.textContent = t;"
        " return d.innerHTML;};"
        "var bars = '', ticks = '';"
        "for (var i = 0; i < h.length; i++) {var hh = ('0' + (i + " + str(first_hour) + ")).slice(-2);"
        " bars += '<span style=\"height:' + Math.round(40 * h[i] / peak) + 'px\" title=\"'"
        " + hh + ' " + _t(language, "hour") + ": ' + h[i] + '\"></span>';"
        " ticks += '<span>' + ((i + " + str(first_hour) + ") % 3 === 0 ? hh : '') + '</span>';}"
        "return '<div class=\"kz-popup\"><h4>' + esc(p.stop_name) + '</h4>' + "
        + _js_string(f"{_t(language, 'departures_on')} "
                     f"{_date_text(date, language, weekday=True)}: ")
        + " + '<b>' + p.dep_txt + '</b>' + (h.length ? '<br>' + "
        + _js_string(_t(language, "per_hour"))
        + " + '<div class=\"kz-bars\">' + bars + '</div><div class=\"kz-hours\">' + ticks"
        " + '</div>' : '') + '</div>';"
        "}, {maxWidth: 320});}")
    layer = folium.GeoJson(
        _geojson(frame, ["stop_id", "stop_name", "dep_txt", "h", "style"]), name=name,
        show=False, marker=folium.CircleMarker(radius=3),
        tooltip=folium.GeoJsonTooltip(fields=["stop_name", "dep_txt"],
                                      aliases=[_t(language, "stop"), day]),
        on_each_feature=folium.JsCode(popup_js),
    )
    layer.add_to(m)
    return {name: layer}


def _boundaries(m: folium.Map, gem: gpd.GeoDataFrame, kreis: gpd.GeoDataFrame, language: str
                ) -> dict[str, Any]:
    import folium

    g = gem[["ags", "gen", gem.geometry.name]].copy()
    g["style"] = [{"color": "#333333", "weight": 1.2, "fill": False}] * len(g)
    gem_layer = folium.GeoJson(_geojson(g, ["ags", "gen", "style"]),
                               name=_t(language, "gemeinden_layer"), show=True,
                               pane="kz-lines", interactive=False)
    gem_layer.add_to(m)
    k = kreis[[kreis.geometry.name]].copy()
    k["style"] = [{"color": "#000000", "weight": 3, "fill": False}] * len(k)
    kreis_layer = folium.GeoJson(_geojson(k, ["style"]), name=_t(language, "kreis_layer"),
                                 show=True, pane="kz-lines", interactive=False)
    kreis_layer.add_to(m)
    return {_t(language, "gemeinden_layer"): gem_layer, _t(language, "kreis_layer"): kreis_layer}


def _site_popups(courses: CourseList | CourseView, language: str) -> pd.DataFrame:
    """Per course: the formatted row of the popup table; per site: the popup head."""
    c = courses.courses.copy()
    t = _TEXT[language]
    c["type_txt"] = c["course_type"].map(lambda code: _symbol_html(code, language)
                                         + _esc(_type_name(code, language)))
    c["sched_txt"] = c["schedule"].map(lambda s: _esc(_schedule_name(s, language)))
    c["days_txt"] = _weekday_text(c["weekdays"], language)
    c["time_txt"] = _clock(c["start_time"]) + "–" + _clock(c["end_time"])
    c["care_txt"] = np.where(c["childcare"].to_numpy(bool), t["yes"], t["no"])
    free = pd.to_numeric(c["free_places"], errors="coerce").astype("Int64").astype("string")
    cap = pd.to_numeric(c["capacity"], errors="coerce").astype("Int64").astype("string")
    c["free_txt"] = (free.fillna(t["unknown"]) + (" " + t["of"] + " " + cap).fillna(""))
    start = pd.to_datetime(c["next_start"], errors="coerce")
    fmt = "%d.%m.%Y" if language == "de" else "%Y-%m-%d"
    c["start_txt"] = start.dt.strftime(fmt).astype("string").fillna(t["unknown"])
    c["row"] = ("<tr data-kz='" + c["course_type"].astype(str) + "|" + c["schedule"].astype(str)
                + "'><td>" + c["type_txt"] + "</td><td>" + c["sched_txt"] + "</td><td>"
                + c["days_txt"] + "</td><td>" + c["time_txt"] + "</td><td>" + c["care_txt"]
                + "</td><td>" + c["free_txt"] + "</td><td>" + c["start_txt"] + "</td></tr>")
    return c


def _sites(m: folium.Map, courses: CourseList | CourseView, language: str
           ) -> tuple[Any, dict[str, Any]]:
    """Markers per site and course type/schedule in clustered sub-groups, one overlay each."""
    import folium
    from folium import plugins

    t = _TEXT[language]
    rows = _site_popups(courses, language)
    sites = courses.sites.to_crs("EPSG:4326")
    sites = sites.assign(site_id=sites["site_id"].astype(str),
                         lat=sites.geometry.y.to_numpy(), lon=sites.geometry.x.to_numpy())
    as_of = (f"<div class='kz-asof'>{t['as_of']}: "
             f"{_date_text(courses.as_of, language) if courses.as_of else t['unknown']}</div>")
    head = ("<tr><th>" + "</th><th>".join(
        t[k] for k in ("type", "schedule", "days", "times", "childcare", "free", "next_start"))
        + "</th></tr>")
    table = rows.groupby("site_id", sort=False)["row"].agg("".join)
    site_txt = sites.set_index("site_id")
    title = site_txt["site_name"].astype("string").fillna(site_txt.index.to_series())
    popup_head = ("<div class='kz-popup'><h4>" + title.map(_esc) + "</h4>" + t["provider"] + ": "
                  + site_txt["provider"].astype("string").fillna("").map(_esc) + "<br>"
                  + t["address"] + ": "
                  + site_txt["address"].astype("string").fillna(t["unknown"]).map(_esc)
                  + "<table>" + head)
    cluster = plugins.MarkerCluster(control=False, options={
        "maxClusterRadius": 40, "spiderfyOnMaxZoom": True, "showCoverageOnHover": False,
        "disableClusteringAtZoom": UNCLUSTER_ZOOM})
    cluster.add_to(m)
    combos = (rows[["course_type", "schedule"]].drop_duplicates()
              .sort_values(["course_type", "schedule"], key=_type_order))
    # Markers of one site stand side by side around its point (seen when not clustered).
    at_site = (rows[["site_id", "course_type", "schedule"]].drop_duplicates()
               .merge(combos.reset_index(drop=True).reset_index(names="combo"),
                      on=["course_type", "schedule"]).sort_values(["site_id", "combo"]))
    at_site["k"] = at_site.groupby("site_id").cumcount()
    at_site["n"] = at_site.groupby("site_id")["k"].transform("size")
    at_site["dx"] = ((at_site["k"] - (at_site["n"] - 1) / 2.0) * 32.0).round().astype(int)
    shift = at_site.set_index(["site_id", "course_type", "schedule"])["dx"]
    layers: dict[str, Any] = {}
    for code, sched in combos.itertuples(index=False):  # one layer per type and schedule
        style = _type_style(code)
        badge = SCHEDULE_STYLES.get(sched, {}).get(f"badge_{language}", sched[:1].upper())
        sym = style.symbol_de if language == "de" else style.symbol_en
        at = rows.loc[(rows["course_type"] == code) & (rows["schedule"] == sched),
                      "site_id"].astype(str).drop_duplicates()
        name = (_symbol_html(code, language) + f"{_esc(_type_name(code, language))} · "
                f"{_esc(_schedule_name(sched, language))} ({len(at)})")
        group = plugins.FeatureGroupSubGroup(cluster, name=name, show=True)
        group.add_to(m)
        icon_html = (f'<div class="kz-site" data-kz="{_esc(code)}|{_esc(sched)}" '
                     f'style="background:{style.colour}">{_esc(sym)}'
                     f'<span class="kz-badge">{_esc(badge)}</span></div>')
        key = f"{code}|{sched}"
        for sid in at:  # one marker per site offering this type and schedule
            body = popup_head[sid] + table[sid].replace(
                f"<tr data-kz='{key}'>", f"<tr class='kz-hl' data-kz='{key}'>") + "</table>"
            folium.Marker(
                [float(site_txt.at[sid, "lat"]), float(site_txt.at[sid, "lon"])],
                icon=folium.DivIcon(html=icon_html, icon_size=(30, 30),
                                    icon_anchor=(15 - int(shift[(sid, code, sched)]), 15),
                                    class_name="kz-site-icon"),
                tooltip=_esc(f"{title[sid]} – {_type_name(code, language)}, "
                             f"{_schedule_name(sched, language)}"),
            ).add_to(group).add_child(_popup_element(body + as_of + "</div>", 520))
        layers[name] = group
    return cluster, layers


def _type_order(values: pd.Series) -> pd.Series:
    """Sort key: course types in the order of COURSE_TYPE_STYLES, schedules as listed."""
    if values.name == "course_type":
        order = {k: i for i, k in enumerate(COURSE_TYPE_STYLES)}
    else:
        order = {k: i for i, k in enumerate(SCHEDULE_STYLES)}
    return values.map(lambda v: (order.get(v, len(order)), v)).map(str)


def _info_html(date: dt.date, parameters: Mapping[str, object], courses: CourseList | CourseView,
               language: str) -> str:
    t = _TEXT[language]
    lines = [f"<h4>{_esc(t['title'])}</h4>",
             f"<div><b>{t['date']}:</b> {_date_text(date, language, weekday=True)}</div>"]
    if courses.as_of:
        lines.append(f"<div><b>{t['as_of']}:</b> {_date_text(courses.as_of, language)}</div>")
    lines += [f"<div><b>{_esc(k)}:</b> {_esc(v)}</div>" for k, v in parameters.items()]
    return "".join(lines)


def _legend_html(courses: CourseList | CourseView, language: str, course_type: str | None,
                 travel_times: bool) -> str:
    t = _TEXT[language]
    type_label = (t["coverage_any"] if course_type is None
                  else _type_name(course_type, language))
    parts = [f"<details open><summary><b>{t['legend']}</b></summary>"
             f"<div><b>{_esc(t['legend_share'])}</b></div>",
             f"<div>({_esc(type_label)})</div>"]
    lo = 0.0
    for hi, colour in COVERAGE_CLASSES:
        parts.append(f'<div><span class="kz-swatch" style="background:{colour}"></span>'
                     f"{_one_number(lo, language)}–{_one_number(hi, language)} %</div>")
        lo = hi
    parts.append(f'<div><span class="kz-swatch" style="background:{NO_DATA_COLOUR}"></span>'
                 f"{t['no_participants']}</div>")
    if travel_times:
        parts.append(f"<div><b>{t['legend_time']}</b></div>")
        lo = 0.0
        for hi, colour in TRAVEL_TIME_CLASSES:
            parts.append(f'<div><span class="kz-swatch" style="background:{colour}"></span>'
                         f"{lo:g}–{hi:g}</div>")
            lo = hi
        parts.append(f'<div><span class="kz-swatch" style="background:{NO_DATA_COLOUR}">'
                     f"</span>{t['beyond']}</div>")
    parts.append(f"<div><b>{t['legend_types']}</b></div>")
    for code in sorted(courses.courses["course_type"].unique(),
                       key=lambda c: (list(COURSE_TYPE_STYLES).index(c)
                                      if c in COURSE_TYPE_STYLES else 99, c)):
        parts.append(f"<div>{_symbol_html(code, language)}{_esc(_type_name(code, language))}"
                     "</div>")
    parts.append(f"<div><b>{t['legend_schedules']}</b></div>")
    for code in courses.courses["schedule"].unique():
        s = SCHEDULE_STYLES.get(code, {})
        parts.append(f"<div><b>{_esc(s.get(f'badge_{language}', code[:1].upper()))}</b> "
                     f"{_esc(_schedule_name(code, language))}</div>")
    parts.append("</details>")
    return "".join(parts)


def _js_string(text: str) -> str:
    """A JavaScript string literal that is safe inside an inline ``<script>``."""
    return json.dumps(text, ensure_ascii=False).replace("</", "<\\/")


def _script_element(code: str) -> Any:
    """A folium element running ``code`` after the map's layers are created."""
    from branca.element import MacroElement
    from folium.template import Template

    el = MacroElement()
    el._name = "KurszugangScript"
    el._template = Template("{% macro script(this, kwargs) %}" + code + "{% endmacro %}")
    return el


def _control_element(position: str, content: str) -> Any:
    """A Leaflet control holding HTML (legend, info box)."""
    from branca.element import MacroElement
    from folium.template import Template

    el = MacroElement()
    el._name = "KurszugangControl"
    el._template = Template(
        "{% macro script(this, kwargs) %}"
        "(function(){var c = L.control({position: " + json.dumps(position) + "});"
        "c.onAdd = function() {var d = L.DomUtil.create('div', 'kz-box');"
        "d.innerHTML = " + _js_string(content) + ";"
        "L.DomEvent.disableClickPropagation(d); L.DomEvent.disableScrollPropagation(d);"
        "return d;};"
        "c.addTo({{ this._parent.get_name() }});})();"
        "{% endmacro %}")
    return el


def _popup_element(content: str, max_width: int) -> Any:
    """A popup bound to the parent layer, from an HTML string (folium's own Popup needs
    jQuery, which the offline page does not load)."""
    from branca.element import MacroElement
    from folium.template import Template

    el = MacroElement()
    el._name = "KurszugangPopup"
    el._template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this._parent.get_name() }}.bindPopup(" + _js_string(content) + ", {maxWidth: "
        + str(int(max_width)) + "});"
        "{% endmacro %}")
    return el


def _texts_script(m: folium.Map, language: str) -> str:
    """Translate the search control's remaining texts (set before it is created)."""
    t = _TEXT[language]
    return (f"if (L.Control.Search) {{L.Control.Search.mergeOptions("
            f"{{textErr: {json.dumps(t['not_found'])}, "
            f"textCancel: {json.dumps(t['cancel'])}}});}}")


def _attribution_script(m: folium.Map, credits: Sequence[str]) -> str:
    lines = [f"{m.get_name()}.attributionControl.addAttribution({json.dumps(_esc(c))});"
             for c in credits]
    return "".join(lines)


def _plain(name: str) -> str:
    """A layer name without its HTML symbol: the text shown beside the checkbox."""
    return html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<span[^>]*>[^<]*</span>", "", name)))


def _hook_script(m: folium.Map, cluster: Any, overlays: Mapping[str, Any]) -> str:
    """``window.kurszugangKarte``: the map, the cluster and the overlays by name (for tests and
    for users who want to script the page)."""
    entries = ", ".join(f"{json.dumps(_plain(k))}: {v.get_name()}"
                        for k, v in overlays.items())
    return (f"window.kurszugangKarte = {{map: {m.get_name()}, cluster: {cluster.get_name()}, "
            f"overlays: {{{entries}}}}};")


# --------------------------------------------------------------------------------------------
# Writing: one self-contained HTML file
# --------------------------------------------------------------------------------------------
def _elements(el: Any) -> list[Any]:
    out = [el]
    stack = list(getattr(el, "_children", {}).values())
    while stack:
        cur = stack.pop(0)
        out.append(cur)
        stack[0:0] = list(getattr(cur, "_children", {}).values())
    return out


def _inline_css(path: Path) -> str:
    """A vendored stylesheet with its relative ``url(...)`` images as data URIs."""
    text = path.read_text(encoding="utf-8")

    def embed(match: re.Match[str]) -> str:
        ref = match.group(2)
        if ref.startswith(("data:", "#", "http:", "https:", "//")):
            return match.group(0)
        file = (path.parent / ref).resolve()
        mime = _MIME.get(file.suffix.lower())
        if mime is None or not file.is_file():
            return match.group(0)
        data = base64.b64encode(file.read_bytes()).decode("ascii")
        return f"url({match.group(1)}data:{mime};base64,{data}{match.group(1)})"

    return re.sub(r"url\((['\"]?)([^)'\"]+)\1\)", embed, text)


def _asset_tag(name: str, kind: str) -> str:
    rel = _ASSETS[name]
    path = ASSETS_DIR / rel
    if not path.is_file():
        raise ConfigError(f"the vendored library file {path} is missing: reinstall kurszugang")
    if kind == "js":
        code = path.read_text(encoding="utf-8")
        if "</script" in code.lower():
            raise ConfigError(f"{path} cannot be inlined (it contains '</script')")
        return f"<script>/* {rel} (kurszugang/output/assets) */\n{code}\n</script>"
    return f"<style>/* {rel} (kurszugang/output/assets) */\n{_inline_css(path)}\n</style>"


def _constant(text: str) -> Any:
    """A re.sub replacement function returning ``text`` as is (no backslash processing)."""
    return lambda _match: text


def write_webmap(m: folium.Map, path: str | Path, *, offline: bool = True) -> Path:
    """Write the map as one HTML file; with ``offline`` every library is inlined.

    With ``offline=True`` (default) the links folium makes to Leaflet and its plugins on CDNs
    are replaced by the vendored copies in :data:`ASSETS_DIR` (stylesheet images as data URIs),
    and the Font Awesome/Bootstrap files folium adds for icons this map does not use are left
    out. The page then needs no internet except for the base map's tiles.

    Parameters
    ----------
    m
        A map from :func:`build_webmap` (or any folium map whose plugins are vendored).
    path
        The HTML file to write (its folder must exist); overwritten if present.
    offline
        Inline the libraries (default). False keeps folium's CDN links (a smaller file that
        needs internet).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InputError
        If the folder does not exist.
    ConfigError
        If ``offline`` and the map uses a library that has no vendored copy (e.g. a folium
        plugin not used by :func:`build_webmap`, or ``folium.Icon``).

    Examples
    --------
    >>> write_webmap(build_webmap(...), "data/processed/karte.html")  # doctest: +SKIP
    PosixPath('data/processed/karte.html')
    """
    import folium

    out = Path(path)
    if not out.parent.is_dir():
        raise InputError(f"folder {out.parent} does not exist", path=out)
    root: Any = m.get_root()
    elements = _elements(root)
    if offline and any(isinstance(e, folium.Icon) for e in elements):
        raise ConfigError("folium.Icon markers need Font Awesome and Bootstrap from the "
                          "internet: use folium.DivIcon for an offline map")
    links: list[tuple[str, str, str]] = []  # (name, url, kind) in order of first use
    seen: set[str] = set()
    for el in elements:
        for kind, attr in (("js", "default_js"), ("css", "default_css")):
            for name, url in getattr(el, attr, []) or []:
                if name not in seen:
                    seen.add(name)
                    links.append((name, url, kind))
    page = root.render()
    if offline:
        unknown = [f"{name} ({url})" for name, url, _ in links
                   if name not in _ASSETS and name not in _UNUSED]
        if unknown:
            raise ConfigError("these libraries have no offline copy in kurszugang/output/assets: "
                              + ", ".join(unknown) + "; write with offline=False")
        for name, url, kind in links:
            if kind == "js":
                pattern = r"<script\s+src=\"" + re.escape(url) + r"\"\s*>\s*</script>"
            else:
                pattern = r"<link\s+rel=\"stylesheet\"\s+href=\"" + re.escape(url) + r"\"\s*/?>"
            tag = "" if name in _UNUSED else _asset_tag(name, kind)
            page, n = re.subn(pattern, _constant(tag), page, count=1)
            if n == 0:
                log.debug("library %s was not linked in the page", name)
        left = re.findall(r"<(?:script|link)\b[^>]*(?:src|href)\s*=\s*[\"']?(?:https?:)?//[^\"'>\s]+",
                          page)
        if left:
            raise ConfigError("the page still refers to files on the internet: "
                              + "; ".join(left[:5]))
    page = page.replace("<html>", f"<html lang=\"{getattr(m, '_kz_language', 'de')}\">", 1)
    with atomic_path(out) as tmp:
        tmp.write_text(page, encoding="utf-8")
    log.info("wrote web map to %s (%.1f MB%s)", out, out.stat().st_size / 1e6,
             ", self-contained" if offline else "")
    return out


def render_webmap(results: Results, path: str | Path) -> Path:
    """Write the web map of a run (``karte.html``) from its Results alone."""
    from kurszugang.output.render import course_view, map_parameters

    lang = results.info.language
    kreis = results.layer("kreis").rename(columns={"name": "gen"})
    gem = results.layer("gemeinden")
    m = build_webmap(gemeinden=gem[["ags", "gen", gem.geometry.name]], kreis=kreis,
                     courses=course_view(results), coverage=pd.DataFrame(gem),
                     analysis_date=results.info.school_day,
                     parameters=map_parameters(results),
                     isochrones=results.layer("einzugsbereiche")
                     if "einzugsbereiche" in results.layers else None,
                     surface=results.surfaces or None, stops=results.layer("haltestellen"),
                     language=lang, attribution=list(results.info.attribution))
    return write_webmap(m, path)
