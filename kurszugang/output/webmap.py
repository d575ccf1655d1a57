"""The web map: one self-contained HTML page in the style of the BAMF WebGIS, German or English.

:func:`build_webmap` assembles a :class:`folium.Map` from :class:`MapInputs` (a run's Results via
:func:`map_inputs`, or a user's own analysis):

- course sites as markers with a symbol and colour per course type and a badge per schedule,
  clustered when zoomed out (cluster colours apart from every class colour), one switch per
  course type and schedule, filters (childcare, free places, start before a date); a popup per
  marker lists the provider, address, phone, e-mail and web links and every course of the site;
- the Gemeinden coloured by the share of potential participants who can attend a course or by the
  travel time to the nearest course; a click opens the Gemeinde's figures (participants, shares
  per format, nearest course and time, its Datenlage note); Gemeinden with a note are hatched and
  a box lists the run's Datenlage findings that are not ok;
- each site's catchment and travel-time surface as one choice; stops with their departures;
  Kreis and Gemeinde boundaries;
- "von hier aus": a click in a populated cell (or an address found by the search) lists the
  courses that can be attended from there at their times, there and back, with the journeys leg
  by leg (computed in the run, :mod:`kurszugang.analysis.from_here`);
- the planning's proposed sites (``kurszugang plan``) as stars with their catchments, a popup
  per site with its course format, source, participants and weeks to a class start;
- a grouped layer control (collapsed at start), legend, info box, scale, fullscreen, a search of
  Gemeinden, places, streets and addresses, the attribution of every data source.

Every text from an input is escaped (or set as text) before it reaches the page: folium writes a
layer's data and a macro's output into scripts it reads again as templates, so GeoJSON features
travel in a JSON data block and every string literal has its markup and braces escaped.

:func:`write_webmap` writes it as ONE HTML file that works offline: Leaflet and every plugin are
inlined from the unmodified copies vendored in ``kurszugang/output/assets/`` (see the README
there); folium's random element ids are replaced by numbers, so the same inputs give the same
bytes. The only address on the internet the page refers to is the base map's tile server.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kurszugang.crs import ANALYSIS_CRS, WEB_CRS, transformer
from kurszugang.errors import ConfigError, InputError
from kurszugang.files import atomic_path
from kurszugang.output._webmap_script import PAGE_SCRIPT
from kurszugang.output.style import (
    CLUSTER_COLOURS,
    COURSE_TYPE_STYLES,
    COVERAGE_CLASSES,
    DATENLAGE_HATCH_COLOUR,
    NO_DATA_COLOUR,
    OTHER_TYPE_COLOUR,
    PROPOSAL_AREA_COLOUR,
    PROPOSAL_COLOUR,
    SCHEDULE_STYLES,
    TRAVEL_TIME_CLASSES,
    CourseTypeStyle,
)
from kurszugang.words import de_number, plural

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
    "MapInputs",
    "build_webmap",
    "coverage_share",
    "map_inputs",
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
        "search": "Ort, Straße oder Adresse …",
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
        "layers": "Ebenen",
        "close": "schließen",
        "none": "keine",
        "no_base": "ohne Hintergrundkarte",
        "group_courses": "Kurse (Kursart · Zeitform)",
        "group_gemeinden": "Gemeinden",
        "group_catchments": "Einzugsbereich je Kursort",
        "group_surfaces": "Reisezeitfläche je Kursort",
        "group_more": "Grundlagen",
        "filter": "Kurse filtern",
        "filter_care": "nur mit Kinderbetreuung",
        "filter_free": "nur mit freien Plätzen (Angabe vorhanden)",
        "filter_before": "Start bis",
        "cells_layer": "Rasterzellen: Reisezeit zum besten Kurs",
        "hatch_layer": "Gemeinden mit Hinweis zur Datenlage",
        "here_title": "Von hier aus",
        "here_n": "{n} Kurse zu ihren Zeiten erreichbar (hin und zurück):",
        "here_none": "Von hier aus ist kein Kurs zu seinen Zeiten erreichbar.",
        "no_cell": "Hier liegt keine bewohnte Rasterzelle: für diese Stelle gibt es keine Ergebnisse.",
        "no_here": "Diese Karte enthält keine Verbindungen (von hier aus).",
        "there": "Hin",
        "back": "Zurück",
        "dep": "ab",
        "arr": "an",
        "journey": "Verbindung",
        "walk": "zu Fuß",
        "to_stop": "zur Haltestelle",
        "to_site": "zum Kursort",
        "to_home": "nach Hause",
        "line": "Linie",
        "from": "ab",
        "on_demand": "Rufbus, vorher anmelden",
        "only_on_demand": "nur mit dem Rufbus erreichbar",
        "not_shown": "Verbindung im Einzelnen nicht darstellbar",
        "arrive_between": "Ankunft zwischen",
        "and": "und",
        "analysed": "gerechnet am",
        "datenlage": "Datenlage",
        "datenlage_ok": "Datenlage: keine Einschränkung",
        "datenlage_n": "Datenlage: {n} Hinweise",
        "datenlage_1": "Datenlage: 1 Hinweis",
        "share_any": "Anteil mit erreichbarem Kurs",
        "per_type": "nach Kursart",
        "per_schedule": "nach Zeitform",
        "with_childcare": "Kurs mit Kinderbetreuung",
        "nearest_course": "Nächster Kurs",
        "median": "Median",
        "no_note": "keine Einschränkung",
        "phone": "Telefon",
        "email": "E-Mail",
        "web": "Internet",
        "legend_cluster": "Kursorte, zusammengefasst (Anzahl)",
        "legend_hatch": "Hinweis zur Datenlage",
        "here_hint": "Klick in eine bewohnte Rasterzelle oder Adresssuche: welche Kurse von dort erreichbar sind",
        "here_stats": "Von hier aus: {n} von {m} Wegen ohne Einzelheiten der Verbindung",
        "min_short": "min",
        "group_plan": "Planung",
        "plan_layer": "Vorschläge der Planung",
        "plan_format": "Kursformat",
        "plan_source": "Herkunft",
        "plan_reached": "Potenzielle Teilnehmende in Reichweite",
        "plan_assigned": "davon diesem Standort zugeordnet",
        "plan_weeks": "Wochen bis Kursstart",
        "plan_k": "Standorte im Vorschlag",
        "plan_care": "mit Kinderbetreuung",
        "plan_tip": "Vorschlag",
        "legend_plan": "Vorgeschlagener Standort (Planung)",
        "legend_plan_area": "Einzugsbereich eines Vorschlags",
        "source_bestehend": "bestehender Kursort",
        "source_Haltestelle": "Haltestelle",
        "source_Liste": "eigene Liste",
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
        "search": "Place, street or address …",
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
        "layers": "Layers",
        "close": "close",
        "none": "none",
        "no_base": "no base map",
        "group_courses": "Courses (type · schedule)",
        "group_gemeinden": "Municipalities",
        "group_catchments": "Catchment per site",
        "group_surfaces": "Travel-time surface per site",
        "group_more": "Background",
        "filter": "Filter courses",
        "filter_care": "with childcare only",
        "filter_free": "with free places only (where stated)",
        "filter_before": "Starting by",
        "cells_layer": "Grid cells: travel time to the best course",
        "hatch_layer": "Municipalities with a data coverage note",
        "here_title": "From here",
        "here_n": "{n} courses within reach at their times (there and back):",
        "here_none": "No course can be attended from here at its times.",
        "no_cell": "No populated grid cell here: there are no results for this place.",
        "no_here": "This map holds no journeys (from here).",
        "there": "There",
        "back": "Back",
        "dep": "departs",
        "arr": "arrives",
        "journey": "Journey",
        "walk": "walk",
        "to_stop": "to stop",
        "to_site": "to the course site",
        "to_home": "home",
        "line": "line",
        "from": "from",
        "on_demand": "on-demand bus, book ahead",
        "only_on_demand": "only with the on-demand bus",
        "not_shown": "journey details cannot be shown",
        "arrive_between": "arriving between",
        "and": "and",
        "analysed": "analysed on",
        "datenlage": "Data coverage",
        "datenlage_ok": "Data coverage: no limitation",
        "datenlage_n": "Data coverage: {n} notes",
        "datenlage_1": "Data coverage: 1 note",
        "share_any": "Share who can attend a course",
        "per_type": "by course type",
        "per_schedule": "by schedule",
        "with_childcare": "course with childcare",
        "nearest_course": "Nearest course",
        "median": "median",
        "no_note": "no limitation",
        "phone": "Phone",
        "email": "E-mail",
        "web": "Web",
        "legend_cluster": "Course sites, grouped (count)",
        "legend_hatch": "Data coverage note",
        "here_hint": "Click a populated grid cell or search an address: which courses can be reached from there",
        "here_stats": "From here: {n} of {m} ways without journey details",
        "min_short": "min",
        "group_plan": "Planning",
        "plan_layer": "Planning proposals",
        "plan_format": "Course format",
        "plan_source": "Source",
        "plan_reached": "Potential participants within reach",
        "plan_assigned": "of them assigned to this site",
        "plan_weeks": "Weeks to a class start",
        "plan_k": "Sites in the proposal",
        "plan_care": "with childcare",
        "plan_tip": "Proposal",
        "legend_plan": "Proposed site (planning)",
        "legend_plan_area": "Catchment of a proposal",
        "source_bestehend": "existing course site",
        "source_Haltestelle": "stop",
        "source_Liste": "own list",
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
.leaflet-control-layers label{margin:1px 0;display:block}
.kz-layers .leaflet-control-layers-list{max-height:calc(100vh - 140px);overflow:auto;
 max-width:320px;padding:4px 6px}
.kz-layers-head{display:flex;justify-content:space-between;align-items:center;gap:8px;
 margin-bottom:3px}
.kz-close{font:bold 16px/16px Arial,sans-serif;color:#333;text-decoration:none;padding:0 3px}
.kz-group{margin:3px 0;border-top:1px solid #ddd;padding-top:2px}
.kz-group summary{cursor:pointer;font-weight:bold}
.kz-group-items{padding-left:4px}
.kz-filters{margin:3px 0 2px 4px;padding:3px 4px;background:#f4f4f4;border-radius:3px}
.kz-filter-head{font-weight:bold;margin-bottom:2px}
.kz-box.kz-legend{max-height:40vh;max-width:260px}
.kz-box.kz-legend div{white-space:normal}
.leaflet-control-attribution{max-width:55vw;white-space:normal;line-height:1.25}
.kz-box.kz-info{max-width:280px;max-height:34vh}
.kz-box.kz-info div{white-space:normal}
.kz-box.kz-datenlage{max-width:300px;max-height:22vh}
.kz-box.kz-datenlage ul{margin:2px 0 0 14px;padding:0}
.kz-box.kz-datenlage li{white-space:normal}
.kz-box.kz-here{max-width:340px;max-height:calc(100vh - 260px);font-size:11px}
.kz-box.kz-here div{white-space:normal}
.kz-course{border-top:1px solid #ddd;padding:3px 0}
.kz-course-head{display:flex;align-items:center}
.kz-legs{margin:2px 0 2px 14px;padding:0}
.kz-od,.kz-warn{color:#8a1c00}
.kz-note{margin:2px 0}
.kz-where{font-style:italic;margin-bottom:2px}
.kz-hint{color:#444;margin-top:3px}
path.kz-hatch{fill:url(#kz-hatch)!important}
.kz-hatch-swatch{background:repeating-linear-gradient(45deg,rgba(109,10,10,.55) 0 2px,
 transparent 2px 6px);border:2px dashed #6d0a0a}
.kz-popup td{white-space:nowrap}
"""


# --------------------------------------------------------------------------------------------
# Small formatting helpers (German number format: decimal comma, point as thousands separator)
# --------------------------------------------------------------------------------------------
def _t(language: str, key: str) -> str:
    return _TEXT[language][key]


_TEMPLATE_CHARACTERS = str.maketrans({"{": "&#123;", "}": "&#125;", "`": "&#96;", "$": "&#36;",
                                       "\\": "&#92;"})


def _esc(value: object) -> str:
    """Text as HTML: markup characters, the braces of templates and what would end or
    interpolate a JavaScript template literal (folium puts popups and tooltips in them) as
    entities."""
    return html.escape(str(value), quote=True).translate(_TEMPLATE_CHARACTERS)


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
@dataclass(frozen=True)
class MapInputs:
    """Everything the web map draws, each from a run's Results or a user's own analysis.

    Attributes
    ----------
    gemeinden
        Gemeinden (any CRS) with ``ags`` and ``gen``.
    kreis
        The Kreis (or Kreise) to outline, any CRS.
    courses
        The course list (:func:`kurszugang.io.courses.read_courses`) or the run's
        :class:`~kurszugang.output.render.CourseView` (sites may carry ``phone``, ``email``,
        ``web``).
    coverage
        Per Gemeinde (:func:`kurszugang.analysis.coverage.coverage_summary`, ``by="ags"``):
        ``ags``, ``participants``, ``part_any`` and ``part_type_<type>``, ``part_sched_<s>``,
        ``part_childcare``; optionally ``minutes_nearest`` and ``datenlage`` (a note per
        Gemeinde; not empty: the Gemeinde is hatched).
    analysis_date
        The analysis date, shown in the info box and the stops' popups.
    parameters
        Parameters to show in the info box (shown as given: write them in the map's language).
    isochrones
        Catchment bands with ``site_id``, ``band_min``, ``band_max`` (any CRS); one choice per
        site.
    surface
        A travel-time surface or a mapping of names to surfaces; one choice per surface.
    stops
        Stops with ``stop_id``, ``stop_name``, ``departures`` and ``dep_hNN``; optionally
        ``lines`` and ``on_demand``.
    attribution
        Credits of the data shown, one string per source (the base map's is added).
    datenlage
        The run's Datenlage findings (``label``, ``rating``, ``text``); those not ``ok`` are
        listed in a box.
    from_here
        ``(pairs, legs, cells)``: the tables ``von_hier`` and ``verbindungen`` and the
        populated cells (layer ``raster``) for "von hier aus".
    addresses
        The search index (table ``adressen``: ``label``, ``kind``, ``x``, ``y`` in EPSG:25832);
        None: the Gemeinden only.
    nearest
        Per Gemeinde the course behind its median time (table ``naechster_kurs``).
    early_arrival_min
        The coverage's earliest arrival before the start (minutes).
    proposals
        The planning's proposed sites (layer ``plan_vorschlaege``: ``format``, ``candidate_id``,
        ``name``; optionally ``source``, ``k``, ``participants_assigned``, ``weeks_to_start``;
        points, any CRS); None or empty: no proposals overlay.
    proposal_catchments
        Their catchments (layer ``plan_einzugsbereiche``: ``format``, ``candidate_id``;
        optionally ``participants``; polygons, any CRS), drawn with the proposals.
    """

    gemeinden: gpd.GeoDataFrame
    kreis: gpd.GeoDataFrame
    courses: CourseList | CourseView
    coverage: pd.DataFrame
    analysis_date: dt.date
    parameters: Mapping[str, object]
    isochrones: gpd.GeoDataFrame | None = None
    surface: TravelTimeSurface | Mapping[str, TravelTimeSurface] | None = None
    stops: gpd.GeoDataFrame | None = None
    attribution: str | Sequence[str] = ()
    datenlage: pd.DataFrame | None = None
    from_here: tuple[pd.DataFrame, pd.DataFrame, gpd.GeoDataFrame] | None = None
    addresses: pd.DataFrame | None = None
    nearest: pd.DataFrame | None = None
    early_arrival_min: float = 30.0
    proposals: gpd.GeoDataFrame | None = None
    proposal_catchments: gpd.GeoDataFrame | None = None


@dataclass
class _Page:
    """What the builder collects while it adds layers: the layer registry and the page data."""

    language: str
    refs: dict[str, Any] = field(default_factory=dict)  # key -> folium layer
    overlays: dict[str, Any] = field(default_factory=dict)  # plain name -> layer (hook)
    groups: list[dict[str, Any]] = field(default_factory=list)
    markers: list[tuple[Any, Any, str]] = field(default_factory=list)
    geo: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def t(self, key: str) -> str:
        return _TEXT[self.language][key]

    def add(self, group: dict[str, Any], name: str, layer: Any, *, show: bool,
            **extra: Any) -> None:
        key = f"l{len(self.refs)}"
        self.refs[key] = layer
        self.overlays[name] = layer
        group["items"].append({"name": name, "id": key, "show": show, **extra})

    def group(self, key: str, name: str, kind: str = "check", *, open_: bool = False
              ) -> dict[str, Any]:
        g = {"key": key, "name": name, "type": kind, "open": open_, "items": []}
        self.groups.append(g)
        return g


def _check_inputs(inputs: MapInputs, language: str) -> None:
    if language not in _LANGUAGES:
        raise ConfigError(f"language must be one of {', '.join(_LANGUAGES)}, got {language!r}")
    _need_columns(inputs.gemeinden, ("ags", "gen"), "the Gemeinden")
    _need_crs(inputs.gemeinden, "the Gemeinden")
    _need_crs(inputs.kreis, "the Kreis")
    if inputs.isochrones is not None:
        _need_columns(inputs.isochrones, ("site_id", "band_min", "band_max"), "the isochrones")
        _need_crs(inputs.isochrones, "the isochrones")
    if inputs.stops is not None:
        _need_columns(inputs.stops, ("stop_id", "stop_name", "departures"), "the stops")
        _need_crs(inputs.stops, "the stops")
    for frame, what in ((inputs.proposals, "the proposals"),
                        (inputs.proposal_catchments, "the proposals' catchments")):
        if frame is not None:
            _need_columns(frame, ("format", "candidate_id", *(
                ("name",) if frame is inputs.proposals else ())), what)
            _need_crs(frame, what)


def build_webmap(inputs: MapInputs | None = None, /, *, course_type: str | None = None,
                 language: str = "de", tiles: bool = True, **fields: Any) -> folium.Map:
    """The web map of an analysis: course sites, coverage, catchments, stops, "von hier aus".

    Parameters
    ----------
    inputs
        What to draw (:class:`MapInputs`); or give its fields as keywords
        (``build_webmap(gemeinden=..., kreis=..., ...)``).
    course_type
        Course type of the coverage choropleth (None: any course).
    language
        ``"de"`` (default) or ``"en"``.
    tiles
        Add the OpenStreetMap base map (loaded only when online).
    **fields
        The fields of :class:`MapInputs` when ``inputs`` is not given.

    Returns
    -------
    folium.Map
        Write it with :func:`write_webmap` (which makes it work offline and gives the same
        bytes for the same inputs).

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

    inp = inputs if inputs is not None else MapInputs(**fields)
    _check_inputs(inp, language)
    share = coverage_share(inp.coverage, course_type=course_type)
    kreis_wgs = _to_wgs84(inp.kreis, simplify_m=10.0)
    west, south, east, north = (float(v) for v in kreis_wgs.total_bounds)
    m = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=10,
                   tiles=None, control_scale=False, prefer_canvas=False)
    m.fit_bounds([[south, west], [north, east]])
    setattr(m, "_kz_language", language)  # noqa: B010 - the page's lang, read by write_webmap
    page = _Page(language)
    _page_head(m, page)
    base: list[dict[str, Any]] = []
    if tiles:
        osm = folium.TileLayer(OSM_TILES, attr=_esc(page.t("osm")), name=page.t("base_osm"),
                               max_zoom=19, overlay=False, control=False)
        osm.add_to(m)
        page.refs["base"] = osm
        base.append({"name": page.t("base_osm"), "id": "base"})
    base.append({"name": page.t("no_base"), "id": None})
    page.data["base"] = base
    for name, z in (("kz-fill", 380), ("kz-raster", 390), ("kz-hatch", 395), ("kz-lines", 420),
                    ("kz-stops", 450)):
        folium.map.CustomPane(name, z_index=z, pointer_events=name in ("kz-fill", "kz-stops")
                              ).add_to(m)
    cluster = _sites(m, page, inp.courses)
    if _has_proposals(inp):
        _proposals(m, page, inp)
    gem_wgs = _to_wgs84(inp.gemeinden[["ags", "gen", inp.gemeinden.geometry.name]],
                        simplify_m=10.0)
    gem_wgs["ags"] = gem_wgs["ags"].astype("string")
    _choropleths(m, page, gem_wgs, share, inp, course_type)
    if inp.isochrones is not None and len(inp.isochrones):
        _catchments(m, page, inp.isochrones, inp.courses)
    if inp.surface is not None:
        _surfaces(m, page, inp.surface)
    more = page.group("more", page.t("group_more"))
    if inp.stops is not None and len(inp.stops):
        _stops(m, page, more, inp.stops, inp.analysis_date)
    _boundaries(m, page, more, gem_wgs, kreis_wgs, inp.coverage)
    _boxes(m, page, inp, course_type)
    from folium import plugins

    plugins.Fullscreen(position="topleft", title=page.t("fullscreen"),
                       title_cancel=page.t("fullscreen_off")).add_to(m)
    m.add_child(_script_element(
        f"L.control.scale({{imperial: false, maxWidth: 150}}).addTo({m.get_name()});"))
    _page_data(page, inp)
    m.add_child(_script_element(_attribution_script(m, _credits(inp.attribution, page))))
    m.add_child(_search_assets())
    root: Any = m.get_root()
    root.html.add_child(folium.Element(_data_block(page.data)), name="kz_data")
    m.add_child(_script_element(_hook_script(m, cluster, page)))
    m.add_child(_script_element(PAGE_SCRIPT))
    log.info("Webkarte: %s Kursmarker, %s Ebenen in %s Gruppen", de_number(len(page.markers)),
             de_number(len(page.refs)), de_number(len(page.groups)))
    return m


def _geo_layer(page: _Page, data: dict[str, Any], *, name: str, **options: Any) -> Any:
    """A folium GeoJson layer whose features come from the page's data block.

    folium writes a layer's data into a script that is read again as a template, so text in the
    data such as ``{{ ... }}`` would be evaluated; the page script adds the features instead.
    """
    import folium

    layer = folium.GeoJson({"type": "FeatureCollection", "features": []}, name="kz", **options)
    page.geo.append((layer, data))
    return layer


def _credits(attribution: str | Sequence[str], page: _Page) -> list[str]:
    return [attribution] if isinstance(attribution, str) else list(attribution)


def _page_head(m: folium.Map, page: _Page) -> None:
    import folium

    root: Any = m.get_root()
    root.header.add_child(folium.Element(f"<title>{_esc(page.t('title'))}</title>"),
                          name="kz_title")
    root.header.add_child(folium.Element(f"<style>{_CSS}{_cluster_css()}</style>"),
                          name="kz_css")
    root.html.add_child(folium.Element(_HATCH_SVG), name="kz_hatch")


def _cluster_css() -> str:
    """Cluster colours that are no class colour (MarkerCluster's default is green/yellow)."""
    out = []
    for size, colour in zip(("small", "medium", "large"), CLUSTER_COLOURS, strict=True):
        out.append(f".marker-cluster-{size},.marker-cluster-{size} div{{background-color:"
                   f"{colour}!important;color:#fff!important}}")
    out.append(".marker-cluster{box-shadow:0 0 0 2px #fff,0 1px 4px rgba(0,0,0,.6)}"
               ".marker-cluster div{font-weight:bold}")
    return "".join(out)


_HATCH_SVG = ('<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
              '<pattern id="kz-hatch" width="8" height="8" patternUnits="userSpaceOnUse" '
              'patternTransform="rotate(45)"><rect width="3" height="8" '
              f'fill="{DATENLAGE_HATCH_COLOUR}" fill-opacity="0.55"/></pattern></defs></svg>')


def _feature_js(popup_width: int = 360) -> Any:
    """onEachFeature: the feature's prepared (escaped) ``tip`` and ``popup`` HTML."""
    import folium

    return folium.JsCode(
        "function(feature, layer) {var p = feature.properties;"
        "if (p.tip) layer.bindTooltip(p.tip, {sticky: true});"
        f"if (p.popup) layer.bindPopup(p.popup, {{maxWidth: {int(popup_width)}}});}}")


def _tip(pairs: Sequence[tuple[str, str]]) -> str:
    """A tooltip: label/value lines, both escaped."""
    return "<br>".join(f"<b>{_esc(k)}:</b> {_esc(v)}" for k, v in pairs)


def _choropleths(m: folium.Map, page: _Page, gem: gpd.GeoDataFrame, share: pd.DataFrame,
                 inp: MapInputs, course_type: str | None) -> None:

    frame = gem.merge(share, on="ags", how="left")
    missing = frame["participants"].isna()
    if missing.any():
        log.warning("%s ohne Ergebnis der Erreichbarkeit, grau gezeichnet (z. B. %s)",
                    plural(int(missing.sum()), "Gemeinde", "Gemeinden"),
                    ", ".join(frame.loc[missing, "ags"].astype(str)[:3]))
    extra = set(share["ags"]) - set(gem["ags"])
    if extra:
        log.warning("%s der Erreichbarkeit ohne Gemeindefläche, nicht gezeichnet (z. B. %s)",
                    plural(len(extra), "Zeile", "Zeilen"), ", ".join(sorted(extra)[:3]))
    cov = inp.coverage.astype({"ags": "string"}).drop_duplicates("ags").set_index("ags")
    near = cov["minutes_nearest"].reindex(frame["ags"]).to_numpy(float) \
        if "minutes_nearest" in cov.columns else None
    frame["tip"] = _gemeinde_tips(frame, near, page.language)
    frame["popup"] = _gemeinde_popups(frame, cov, inp, page.language)
    type_label = (page.t("coverage_any") if course_type is None
                  else _type_name(course_type, page.language))
    g = page.group("gemeinden", page.t("group_gemeinden"), "radio", open_=True)
    colours = _classify(frame["share_pct"].to_numpy(float), COVERAGE_CLASSES)
    layers = [(f"{page.t('coverage_layer')} ({type_label})", colours, True)]
    if near is not None:
        layers.append((page.t("nearest_layer"), _classify(near, TRAVEL_TIME_CLASSES), False))
    for name, col, show in layers:
        frame["style"] = [{"fillColor": c, "color": "#555555", "weight": 0.5,
                           "fillOpacity": 0.65} for c in col]
        layer = _geo_layer(page, _geojson(frame, ["ags", "tip", "popup", "style"]), name=name,
                               show=show, pane="kz-fill", on_each_feature=_feature_js())
        layer.add_to(m)
        page.add(g, name, layer, show=show)


def _gemeinde_tips(frame: pd.DataFrame, near: np.ndarray | None, language: str) -> list[str]:
    t = _TEXT[language]
    part = _number(frame["participants"], language, 1).fillna("–")
    can = _number(frame["can_attend"], language, 1).fillna("–")
    shr = (_number(frame["share_pct"], language, 1) + " %").fillna(t["unknown"])
    mins = (_number(pd.Series(near), language, 0) + " " + t["min"]).fillna(t["beyond"]) \
        if near is not None else None
    out = []
    for i in range(len(frame)):  # one short text per Gemeinde (a few dozen to a few hundred)
        rows = [(t["gemeinde"], f"{frame['gen'].iloc[i]} ({frame['ags'].iloc[i]})"),
                (t["participants"], part.iloc[i]), (t["can_attend"], can.iloc[i]),
                (t["share"], shr.iloc[i])]
        if mins is not None:
            rows.append((t["minutes"], mins.iloc[i]))
        out.append(_tip(rows))
    return out


def _shares(cov: pd.DataFrame, prefix: str) -> dict[str, pd.Series]:
    """``part_<prefix>_<code>`` / participants in %, per code present."""
    part = pd.to_numeric(cov["participants"], errors="coerce")
    out = {}
    for c in cov.columns:
        if str(c).startswith(f"part_{prefix}_"):
            num = pd.to_numeric(cov[c], errors="coerce")
            out[str(c)[len(prefix) + 6:]] = (100 * num / part).where(part > 0)
    return out


def _gemeinde_popups(frame: pd.DataFrame, cov: pd.DataFrame, inp: MapInputs,
                     language: str) -> list[str]:
    """Per Gemeinde: participants, share per format, nearest course and time, Datenlage."""
    t = _TEXT[language]
    cov = cov.reindex(frame["ags"])
    types = _shares(cov, "type")
    scheds = _shares(cov, "sched")
    care = (100 * pd.to_numeric(cov["part_childcare"], errors="coerce")
            / pd.to_numeric(cov["participants"], errors="coerce")) \
        if "part_childcare" in cov.columns else None
    note = cov["datenlage"].fillna("").astype(str) if "datenlage" in cov.columns \
        else pd.Series("", index=cov.index)
    nearest = _nearest_text(cov, inp, language)
    out = []
    for i in range(len(frame)):  # one popup per Gemeinde
        rows = [f"<h4>{_esc(frame['gen'].iloc[i])} ({_esc(frame['ags'].iloc[i])})</h4>",
                f"{t['participants']}: <b>{_esc(_one_number(frame['participants'].iloc[i], language, 1) or '–')}</b><br>",
                f"{t['share_any']}: <b>{_pct(frame['share_pct'].iloc[i], language)}</b>",
                f"<table><tr><th colspan='2'>{t['per_type']}</th></tr>"]
        rows += [f"<tr><td>{_symbol_html(c, language)}{_esc(_type_name(c, language))}</td>"
                 f"<td>{_pct(v.iloc[i], language)}</td></tr>" for c, v in _ordered(types)]
        rows.append(f"<tr><th colspan='2'>{t['per_schedule']}</th></tr>")
        rows += [f"<tr><td>{_esc(_schedule_name(c, language))}</td>"
                 f"<td>{_pct(v.iloc[i], language)}</td></tr>" for c, v in _ordered(scheds)]
        if care is not None:
            rows.append(f"<tr><td>{t['with_childcare']}</td>"
                        f"<td>{_pct(care.iloc[i], language)}</td></tr>")
        rows.append("</table>")
        rows.append(f"<div>{t['nearest_course']}: {nearest[i]}</div>")
        text = note.iloc[i].strip()
        rows.append(f"<div class='kz-note{' kz-warn' if text else ''}'>{t['datenlage']}: "
                    f"{_esc(text) if text else t['no_note']}</div>")
        out.append(f"<div class='kz-popup'>{''.join(rows)}</div>")
    return out


def _ordered(values: Mapping[str, pd.Series]) -> list[tuple[str, pd.Series]]:
    order = {k: i for i, k in enumerate([*COURSE_TYPE_STYLES, *SCHEDULE_STYLES])}
    return sorted(values.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))


def _pct(value: object, language: str) -> str:
    num = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    text = _one_number(float(num), language, 1) if pd.notna(num) else ""
    return f"{text} %" if text else _TEXT[language]["unknown"]


def _nearest_text(cov: pd.DataFrame, inp: MapInputs, language: str) -> list[str]:
    """'KS02-1 Site (course type), 23 min (Median)' per Gemeinde (escaped)."""
    t = _TEXT[language]
    minutes = pd.to_numeric(cov["minutes_nearest"], errors="coerce") \
        if "minutes_nearest" in cov.columns else pd.Series(np.nan, index=cov.index)
    course = pd.Series(None, index=cov.index, dtype=object)
    if inp.nearest is not None and len(inp.nearest):
        course = inp.nearest.astype({"ags": str}).set_index("ags")["course_id"].reindex(
            cov.index.astype(str))
    c = inp.courses.courses.astype({"course_id": str}).set_index("course_id")
    sites = inp.courses.sites.astype({"site_id": str}).set_index("site_id")
    out = []
    for i in range(len(cov)):  # one line per Gemeinde
        mins = minutes.iloc[i]
        if pd.isna(mins):
            out.append(_esc(t["beyond"]))
            continue
        text = f"{_one_number(float(mins), language)} {t['min']} ({t['median']})"
        cid = course.iloc[i]
        if isinstance(cid, str) and cid in c.index:
            row = c.loc[cid]
            site = sites["site_name"].get(str(row["site_id"])) if "site_name" in sites else None
            where = site if isinstance(site, str) and site else str(row["site_id"])
            text = (f"{_esc(where)} ({_esc(_type_name(str(row['course_type']), language))}, "
                    f"{_esc(_schedule_name(str(row['schedule']), language))}), {text}")
        out.append(text)
    return out


def _catchments(m: folium.Map, page: _Page, iso: gpd.GeoDataFrame,
                courses: CourseList | CourseView) -> None:
    """One choice per site: all its bands (the site's own course time)."""

    frame = _to_wgs84(iso, simplify_m=25.0)
    frame = frame[~frame.geometry.is_empty].copy()
    sites = courses.sites[["site_id", "site_name", "provider"]].astype("string")
    frame["site_id"] = frame["site_id"].astype("string")
    frame = frame.merge(sites, on="site_id", how="left")
    name_txt = frame["site_name"].fillna(frame["site_id"])
    lo = frame["band_min"].to_numpy(float)
    hi = frame["band_max"].to_numpy(float)
    mn = page.t("min")
    band = [f"{a:g}–{b:g} {mn}" for a, b in zip(lo, hi, strict=True)]
    arrive = frame["arrive_by"].astype(str) if "arrive_by" in frame.columns else None
    frame["tip"] = [_tip([(page.t("site"), f"{n} ({p})" if isinstance(p, str) else str(n)),
                          (page.t("band_layer"), b)]
                         + ([(page.t("arrive_by"), str(arrive.iloc[i]))] if arrive is not None
                            else []))
                    for i, (n, p, b) in enumerate(zip(name_txt, frame["provider"], band,
                                                      strict=True))]
    colours = _classify(hi, TRAVEL_TIME_CLASSES)
    frame["style"] = [{"fillColor": c, "color": c, "weight": 1, "fillOpacity": 0.35}
                      for c in colours]
    g = page.group("catchments", page.t("group_catchments"), "radio")
    for sid, part in frame.groupby("site_id", sort=False):  # one choice per site
        label = part["site_name"].iloc[0]
        name = f"{page.t('band_layer')} {sid}" + (f" – {label}" if isinstance(label, str) else "")
        if arrive is not None:
            name += f" ({page.t('arrive_by')} {part['arrive_by'].iloc[0]})"
        layer = _geo_layer(page, _geojson(part, ["site_id", "tip", "style"]), name=name,
                               show=False, on_each_feature=_feature_js())
        layer.add_to(m)
        page.add(g, name, layer, show=False)


def _surfaces(m: folium.Map, page: _Page,
              surface: TravelTimeSurface | Mapping[str, TravelTimeSurface]) -> None:
    import folium

    items = (surface.items() if isinstance(surface, Mapping) else [(None, surface)])
    g = page.group("surfaces", page.t("group_surfaces"), "radio")
    for label, surf in items:  # one image per surface
        rgba, bounds = _surface_image(surf)
        site_txt = label if label is not None else surf.site_id
        name = (f"{page.t('surface_layer')} {site_txt} "
                f"({page.t('arrive_by')} {surf.arrive_by // 3600:02d}:"
                f"{surf.arrive_by % 3600 // 60:02d})")
        layer = folium.raster_layers.ImageOverlay(rgba, bounds=bounds, name=name, show=False,
                                                  opacity=0.6, pane="kz-raster",
                                                  pixelated=True)
        layer.add_to(m)
        page.add(g, name, layer, show=False)


def _surface_image(surf: TravelTimeSurface) -> tuple[np.ndarray, list[list[float]]]:
    """The surface as an RGBA image in Web Mercator and its bounds (lat/lon)."""
    from affine import Affine
    from rasterio.warp import Resampling, reproject

    rows, cols = surf.shape
    src_transform = surf.transform if isinstance(surf.transform, Affine) \
        else Affine(*surf.transform)
    left, top = src_transform.c, src_transform.f
    right = left + cols * src_transform.a
    bottom = top + rows * src_transform.e
    # The target grid in Web Mercator, built directly: the source's cell size times the
    # Mercator scale at the centre, so that one pixel is about one cell.
    mx0, my0, mx1, my1 = transformer(surf.crs, _MERCATOR).transform_bounds(
        left, bottom, right, top, densify_pts=21)
    lat = transformer(_MERCATOR, WEB_CRS).transform((mx0 + mx1) / 2, (my0 + my1) / 2)[1]
    px = surf.resolution_m / math.cos(math.radians(lat))
    width = max(1, math.ceil((mx1 - mx0) / px))
    height = max(1, math.ceil((my1 - my0) / px))
    dst_transform = Affine(px, 0.0, mx0, 0.0, -px, my1)
    dst = np.full((height, width), np.nan, dtype=np.float64)
    reproject(surf.minutes.astype(np.float64), dst, src_transform=src_transform,
              src_crs=surf.crs, dst_transform=dst_transform, dst_crs=_MERCATOR,
              resampling=Resampling.nearest, src_nodata=np.nan, dst_nodata=np.nan)
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    limits = np.array([c[0] for c in TRAVEL_TIME_CLASSES])
    palette = np.array([[int(c[1][i:i + 2], 16) for i in (1, 3, 5)]
                        for c in TRAVEL_TIME_CLASSES], dtype=np.uint8)
    ok = np.isfinite(dst) & (dst <= limits[-1])
    idx = np.searchsorted(limits, dst[ok], side="left")
    rgba[ok, :3] = palette[idx]
    rgba[ok, 3] = 255
    to_wgs = transformer(_MERCATOR, WEB_CRS)
    x0, y0 = dst_transform.c, dst_transform.f
    x1, y1 = x0 + width * dst_transform.a, y0 + height * dst_transform.e
    lon0, lat0 = to_wgs.transform(x0, y1)
    lon1, lat1 = to_wgs.transform(x1, y0)
    return rgba, [[lat0, lon0], [lat1, lon1]]


def _stops(m: folium.Map, page: _Page, group: dict[str, Any], stops: gpd.GeoDataFrame,
           date: dt.date) -> None:
    """Stops as circles sized by their departures; the popup's hourly bar chart is drawn in
    the browser from the counts (``h``), which keeps the page small for thousands of stops."""
    import folium

    lang = page.language
    hours = sorted(c for c in stops.columns if re.fullmatch(r"dep_h\d\d", str(c)))
    extra = [c for c in ("lines", "on_demand") if c in stops.columns]
    frame = _to_wgs84(stops[["stop_id", "stop_name", "departures", *hours, *extra,
                             stops.geometry.name]])
    dep = pd.to_numeric(frame["departures"], errors="coerce").fillna(0).to_numpy(float)
    radius = np.clip(2.5 + np.sqrt(dep) / 2.0, 2.5, 12.0)
    frame["style"] = [
        {"radius": float(r), "color": "#1f4e79" if d > 0 else "#888888", "weight": 1,
         "fillColor": "#9ecae1" if d > 0 else "#ffffff", "fillOpacity": 0.9}
        for r, d in zip(radius, dep, strict=True)]
    frame["stop_name"] = frame["stop_name"].astype("string").fillna(
        frame["stop_id"].astype("string"))
    frame["dep_txt"] = _number(frame["departures"], lang, 0).fillna("0")
    lines = frame["lines"].fillna("").astype(str) if "lines" in frame else pd.Series(
        "", index=frame.index)
    od = frame["on_demand"].fillna(False).astype(bool) if "on_demand" in frame else pd.Series(
        False, index=frame.index)
    frame["lines_txt"] = lines.where(~od, lines + " (" + page.t("on_demand") + ")")
    day = f"{page.t('departures_on')} {_date_text(date, lang)}"
    frame["tip"] = [_tip([(page.t("stop"), n), (day, d)])
                    for n, d in zip(frame["stop_name"], frame["dep_txt"], strict=True)]
    counts = frame[hours].to_numpy(np.int64) if hours else np.zeros((len(frame), 0), np.int64)
    frame["h"] = list(counts.tolist())
    first_hour = int(hours[0][-2:]) if hours else 0
    name = page.t("stops_layer")
    layer = _geo_layer(
        page, _geojson(frame, ["stop_id", "stop_name", "dep_txt", "lines_txt", "tip", "h",
                               "style"]),
        name=name, show=False, marker=folium.CircleMarker(radius=3),
        on_each_feature=folium.JsCode(_stop_popup_js(first_hour, date, lang)))
    layer.add_to(m)
    page.add(group, name, layer, show=False)


def _stop_popup_js(first_hour: int, date: dt.date, lang: str) -> str:
    t = _TEXT[lang]
    return (
        "function(feature, layer) {"
        # folium drops a marker's pane option: set it before the layer is added
        "layer.options.pane = 'kz-stops';"
        "layer.bindTooltip(feature.properties.tip);"
        "layer.bindPopup(function() {"
        "var p = feature.properties, h = p.h || [], peak = Math.max(1, Math.max.apply(null, h));"
        "var esc = window.kurszugangKarte.esc;"
        "var bars = '', ticks = '';"
        "for (var i = 0; i < h.length; i++) {var hh = ('0' + (i + " + str(first_hour)
        + ")).slice(-2);"
        " bars += '<span style=\"height:' + Math.round(40 * h[i] / peak) + 'px\" title=\"'"
        " + hh + ' " + t["hour"] + ": ' + h[i] + '\"></span>';"
        " ticks += '<span>' + ((i + " + str(first_hour) + ") % 3 === 0 ? hh : '') + '</span>';}"
        "return '<div class=\"kz-popup\"><h4>' + esc(p.stop_name) + '</h4>' + "
        "(p.lines_txt ? '<div>' + esc(p.lines_txt) + '</div>' : '') + "
        + _js_string(f"{t['departures_on']} {_date_text(date, lang, weekday=True)}: ")
        + " + '<b>' + esc(p.dep_txt) + '</b>' + (h.length ? '<br>' + "
        + _js_string(t["per_hour"])
        + " + '<div class=\"kz-bars\">' + bars + '</div><div class=\"kz-hours\">' + ticks"
        " + '</div>' : '') + '</div>';"
        "}, {maxWidth: 320});}")


def _boundaries(m: folium.Map, page: _Page, group: dict[str, Any], gem: gpd.GeoDataFrame,
                kreis: gpd.GeoDataFrame, coverage: pd.DataFrame) -> None:

    if "datenlage" in coverage.columns:
        notes = coverage.astype({"ags": "string"}).set_index("ags")["datenlage"].fillna("")
        noted = gem[gem["ags"].map(notes).fillna("").astype(str).str.strip() != ""]
        if len(noted):
            h = noted[["ags", noted.geometry.name]].copy()
            h["style"] = [{"color": "#6d0a0a", "weight": 2, "dashArray": "4 3",
                           "fillOpacity": 1, "className": "kz-hatch"}] * len(h)
            layer = _geo_layer(page, _geojson(h, ["ags", "style"]), name=page.t("hatch_layer"),
                                   show=True, pane="kz-hatch", interactive=False)
            layer.add_to(m)
            page.add(group, page.t("hatch_layer"), layer, show=True)
    g = gem[["ags", gem.geometry.name]].copy()
    g["style"] = [{"color": "#333333", "weight": 1.2, "fill": False}] * len(g)
    gem_layer = _geo_layer(page, _geojson(g, ["ags", "style"]), name=page.t("gemeinden_layer"),
                               show=True, pane="kz-lines", interactive=False)
    gem_layer.add_to(m)
    page.add(group, page.t("gemeinden_layer"), gem_layer, show=True)
    k = kreis[[kreis.geometry.name]].copy()
    k["style"] = [{"color": "#000000", "weight": 3, "fill": False}] * len(k)
    kreis_layer = _geo_layer(page, _geojson(k, ["style"]), name=page.t("kreis_layer"),
                                 show=True, pane="kz-lines", interactive=False)
    kreis_layer.add_to(m)
    page.add(group, page.t("kreis_layer"), kreis_layer, show=True)


def _site_popups(courses: CourseList | CourseView, language: str) -> pd.DataFrame:
    """Per course: the formatted (escaped) row of the popup table."""
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
    c["key"] = c["course_type"].astype(str) + "|" + c["schedule"].astype(str)
    c["row"] = ("<tr data-kz=\"" + c["key"].map(_esc) + "\"><td>" + c["type_txt"] + "</td><td>"
                + c["sched_txt"] + "</td><td>" + c["days_txt"] + "</td><td>" + c["time_txt"]
                + "</td><td>" + c["care_txt"] + "</td><td>" + c["free_txt"] + "</td><td>"
                + c["start_txt"] + "</td></tr>")
    filt: list[Any] = [[bool(a), int(f) if pd.notna(f) else -1,
                       s.date().isoformat() if pd.notna(s) else ""]
                        for a, f, s in zip(c["childcare"].to_numpy(bool),
                                           pd.to_numeric(c["free_places"], errors="coerce"),
                                           start, strict=True)]
    c["filter"] = pd.Series(filt, index=c.index, dtype=object)
    return c


def _link(value: object, kind: str) -> str:
    """Contact as a link: mailto for e-mail, http(s) only for the web (anything else as text)."""
    if not isinstance(value, str) or not value.strip():
        return ""
    text = value.strip()
    if kind == "email" and re.fullmatch(r"[^@\s<>\"']+@[^@\s<>\"']+", text):
        return f"<a href=\"mailto:{_esc(text)}\">{_esc(text)}</a>"
    if kind == "web":
        url = text if re.match(r"https?://", text, re.I) else (
            "https://" + text if re.fullmatch(r"[\w.-]+\.[a-z]{2,}(/\S*)?", text, re.I) else "")
        if url:
            return f"<a href=\"{_esc(url)}\" target=\"_blank\" rel=\"noopener\">{_esc(text)}</a>"
    if kind == "phone":
        digits = re.sub(r"[^\d+]", "", text)
        if len(digits) >= 5:
            return f"<a href=\"tel:{_esc(digits)}\">{_esc(text)}</a>"
    return _esc(text)


def _site_heads(courses: CourseList | CourseView, language: str) -> tuple[pd.Series, pd.Series]:
    """Per site: its title (escaped) and the head of its popup (provider, address, contact)."""
    t = _TEXT[language]
    sites = courses.sites.assign(site_id=courses.sites["site_id"].astype(str)).set_index(
        "site_id")
    title = sites["site_name"].astype("string").fillna(sites.index.to_series()).astype(str)
    heads = {}
    for sid, row in sites.iterrows():  # one popup head per site
        lines = [f"<h4>{_esc(title[sid])}</h4>",
                 f"{t['provider']}: {_esc(row.get('provider') or '')}<br>",
                 f"{t['address']}: {_esc(row.get('address') or t['unknown'])}"]
        for kind in ("phone", "email", "web"):
            link = _link(row.get(kind), kind)
            if link:
                lines.append(f"<br>{t[kind]}: {link}")
        heads[sid] = "<div class='kz-popup'>" + "".join(lines)
    return title, pd.Series(heads, dtype=object)


def _sites(m: folium.Map, page: _Page, courses: CourseList | CourseView) -> Any:
    """Markers per site and course type/schedule in clustered sub-groups, one choice each."""
    from folium import plugins

    lang = page.language
    t = _TEXT[lang]
    rows = _site_popups(courses, lang)
    sites = courses.sites.to_crs(WEB_CRS)
    sites = sites.assign(site_id=sites["site_id"].astype(str), lat=sites.geometry.y.to_numpy(),
                         lon=sites.geometry.x.to_numpy()).set_index("site_id")
    title, heads = _site_heads(courses, lang)
    as_of = (f"<div class='kz-asof'>{t['as_of']}: "
             f"{_date_text(courses.as_of, lang) if courses.as_of else t['unknown']}</div>")
    head = ("<table><tr><th>" + "</th><th>".join(
        t[k] for k in ("type", "schedule", "days", "times", "childcare", "free", "next_start"))
        + "</th></tr>")
    table = rows.groupby("site_id", sort=False)["row"].agg("".join)
    cluster = plugins.MarkerCluster(control=False, options={
        "maxClusterRadius": 40, "spiderfyOnMaxZoom": True, "showCoverageOnHover": False,
        "disableClusteringAtZoom": UNCLUSTER_ZOOM})
    cluster.add_to(m)
    combos = (rows[["course_type", "schedule"]].drop_duplicates()
              .sort_values(["course_type", "schedule"], key=_type_order))
    shift = _marker_shift(rows, combos)
    g = page.group("kurse", page.t("group_courses"), open_=True)
    filters: dict[str, list[list[Any]]] = {}
    for code, sched in combos.itertuples(index=False):  # one layer per type and schedule
        at = rows.loc[(rows["course_type"] == code) & (rows["schedule"] == sched)]
        ids = at["site_id"].astype(str).drop_duplicates()
        name = (f"{_type_name(code, lang)} · {_schedule_name(sched, lang)} ({len(ids)})")
        group = plugins.FeatureGroupSubGroup(cluster, name=name, show=True)
        group.add_to(m)
        style = _type_style(code)
        page.add(g, name, group, show=True,
                 symbol=[style.symbol_de if lang == "de" else style.symbol_en, style.colour])
        key = f"{code}|{sched}"
        for sid in ids:  # one marker per site offering this type and schedule
            body = heads[sid] + head + table[sid].replace(
                f"<tr data-kz=\"{_esc(key)}\">", f"<tr class='kz-hl' data-kz=\"{_esc(key)}\">"
            ) + "</table>" + as_of + "</div>"
            marker = _marker(sites.loc[sid], code, sched, lang, int(shift[(sid, code, sched)]))
            marker.add_to(group)
            marker.add_child(_popup_element(body, 520))
            marker.add_child(_tooltip_element(f"{title[sid]} – {_type_name(code, lang)}, "
                                              f"{_schedule_name(sched, lang)}"))
            fkey = f"{sid}|{key}"
            filters[fkey] = at.loc[at["site_id"].astype(str) == sid, "filter"].tolist()
            page.markers.append((marker, group, fkey))
    page.data["marker_courses"] = filters
    return cluster


def _marker_shift(rows: pd.DataFrame, combos: pd.DataFrame) -> pd.Series:
    """Markers of one site stand side by side around its point (seen when not clustered)."""
    at_site = (rows[["site_id", "course_type", "schedule"]].drop_duplicates()
               .merge(combos.reset_index(drop=True).reset_index(names="combo"),
                      on=["course_type", "schedule"]).sort_values(["site_id", "combo"]))
    at_site["site_id"] = at_site["site_id"].astype(str)
    at_site["k"] = at_site.groupby("site_id").cumcount()
    at_site["n"] = at_site.groupby("site_id")["k"].transform("size")
    at_site["dx"] = ((at_site["k"] - (at_site["n"] - 1) / 2.0) * 32.0).round().astype(int)
    return at_site.set_index(["site_id", "course_type", "schedule"])["dx"]


def _marker(site: pd.Series, code: str, sched: str, language: str, dx: int) -> Any:
    import folium

    style = _type_style(code)
    badge = SCHEDULE_STYLES.get(sched, {}).get(f"badge_{language}", sched[:1].upper())
    sym = style.symbol_de if language == "de" else style.symbol_en
    icon_html = (f'<div class="kz-site" data-kz="{_esc(code)}|{_esc(sched)}" '
                 f'style="background:{style.colour}">{_esc(sym)}'
                 f'<span class="kz-badge">{_esc(badge)}</span></div>')
    return folium.Marker([float(site["lat"]), float(site["lon"])],
                         icon=folium.DivIcon(html=icon_html, icon_size=(30, 30),
                                             icon_anchor=(15 - dx, 15),
                                             class_name="kz-site-icon"))


# --------------------------------------------------------------------------------------------
# The planning's proposals (kurszugang plan): a star per proposed site, its catchment
# --------------------------------------------------------------------------------------------
_PLAN_CSS = """
.kz-plan{position:relative;width:30px;height:44px;
 filter:drop-shadow(0 0 1px #fff) drop-shadow(0 1px 2px rgba(0,0,0,.6))}
.kz-plan svg{display:block;overflow:visible}
.kz-plan .kz-plan-badge{position:absolute;left:21px;top:-4px;min-width:15px;height:14px;
 padding:0 2px;border-radius:3px;border:1px solid #fff;color:#fff;box-sizing:border-box;
 font:bold 8px/12px Arial,sans-serif;text-align:center}
.kz-plan-sym{display:inline-block;vertical-align:middle;margin-right:3px}
.kz-popup.kz-plan-popup{min-width:330px}
.kz-popup.kz-plan-popup td{white-space:normal}
"""
_STAR = "M15 1.5l3.9 8.2 9 1.1-6.6 6.2 1.7 8.9L15 21.5l-8 4.4 1.7-8.9-6.6-6.2 9-1.1z"


def _has_proposals(inp: MapInputs) -> bool:
    return inp.proposals is not None and len(inp.proposals) > 0


def _star_svg(width: int, height: int, foot_dx: int = 0) -> str:
    """A star, or (taller than wide) a star on a stem whose foot, ``foot_dx`` units beside
    the star, is the site (30 x 44 units: the star on top)."""
    foot = 15 + foot_dx
    stem = (f'<path d="M15 26L{foot} 41" stroke="#000" stroke-width="2"/>'
            f'<circle cx="{foot}" cy="41" r="2.6" fill="#000" stroke="#fff" stroke-width="1"/>'
            if height > width else "")
    box = "0 0 30 44" if height > width else "0 0 30 28"
    return (f'<svg width="{width}" height="{height}" viewBox="{box}" aria-hidden="true">'
            f'{stem}<path d="{_STAR}" fill="{PROPOSAL_COLOUR}" stroke="#000" '
            'stroke-width="1.3" stroke-linejoin="round"/></svg>')


def _format_words(label: str, language: str) -> tuple[str, str]:
    """The course type of a planned format and the format in words (not escaped):
    ``"alpha Mo,Di,Mi,Do,Fr 08:30-12:45"`` -> ``"Alphabetisierungskurs (Mo–Fr 08:30–12:45)"``;
    a label of another form is returned as it is."""
    parts = str(label).split(" ", 3)
    days = parts[1].split(",") if len(parts) >= 3 else []
    if not days or not set(days) <= set(_WEEKDAYS["de"]):
        return "", str(label)
    pattern = "".join("1" if d in days else "0" for d in _WEEKDAYS["de"])
    day_text = _weekday_text(pd.Series([pattern]), language).iloc[0]
    rest = parts[3] if len(parts) > 3 else ""
    if rest == "mit Kinderbetreuung":
        rest = _t(language, "plan_care")
    extra = f", {rest}" if rest else ""
    return parts[0], (f"{_type_name(parts[0], language)} ({day_text} "
                      f"{parts[2].replace('-', '–')}{extra})")


def _proposal_frame(inp: MapInputs) -> pd.DataFrame:
    """The proposals in lat/lon with their catchment's participants (``reached``) and the
    horizontal shift of formats proposed at the same site (side by side)."""
    assert inp.proposals is not None
    frame = inp.proposals.to_crs(WEB_CRS)
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]
    frame = frame.assign(lat=frame.geometry.y.to_numpy(), lon=frame.geometry.x.to_numpy(),
                         format=frame["format"].astype(str),
                         candidate_id=frame["candidate_id"].astype(str))
    areas = inp.proposal_catchments
    if areas is not None and "participants" in areas.columns:
        reached = pd.DataFrame(areas.drop(columns=areas.geometry.name)).astype(
            {"format": str, "candidate_id": str}).drop_duplicates(["format", "candidate_id"])
        frame = frame.merge(reached[["format", "candidate_id", "participants"]].rename(
            columns={"participants": "reached"}), on=["format", "candidate_id"], how="left")
    else:
        frame = frame.assign(reached=np.nan)
    pos = frame.groupby("candidate_id", sort=False).cumcount()
    n = frame.groupby("candidate_id", sort=False)["candidate_id"].transform("size")
    return frame.assign(dx=((pos - (n - 1) / 2.0) * 32.0).round().astype(int))


def _figure(value: object, language: str, decimals: int = 1) -> str:
    num = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    ok = pd.notna(num) and math.isfinite(float(num))
    return _one_number(float(num), language, decimals) if ok else _t(language, "unknown")


def _proposal_popup(row: pd.Series, language: str) -> tuple[str, str]:
    """A proposal's popup (escaped HTML) and its tooltip (plain text)."""
    t = _TEXT[language]
    code, words = _format_words(row["format"], language)
    name = row["name"] if isinstance(row.get("name"), str) and row["name"] else row[
        "candidate_id"]
    source = row.get("source") if isinstance(row.get("source"), str) else ""
    rows = [(t["plan_format"], words),
            (t["plan_source"], t.get(f"source_{source}", source) or t["unknown"]),
            (t["plan_reached"], _figure(row.get("reached"), language)),
            (t["plan_assigned"], _figure(row.get("participants_assigned"), language)),
            (t["plan_weeks"], _figure(row.get("weeks_to_start"), language)),
            (t["plan_k"], _figure(row.get("k"), language, 0))]
    sym = _symbol_html(code, language) if code else ""
    body = "".join(f"<tr><td>{_esc(k)}</td><td>{sym if i == 0 else ''}{_esc(v)}</td></tr>"
                   for i, (k, v) in enumerate(rows))
    popup = (f"<div class='kz-popup kz-plan-popup'><h4>{_plan_sym(16)}{_esc(name)}</h4>"
             f"<table>{body}</table></div>")
    return popup, f"{t['plan_tip']}: {name} – {words}"


def _plan_sym(size: int) -> str:
    return f'<span class="kz-plan-sym">{_star_svg(size, size)}</span>'


def _proposal_marker(row: pd.Series, language: str) -> Any:
    import folium

    code, _ = _format_words(row["format"], language)
    style = _type_style(code) if code else None
    badge = "" if style is None else (
        f'<span class="kz-plan-badge" style="background:{style.colour}">'
        f"{_esc(style.symbol_de if language == 'de' else style.symbol_en)}</span>")
    icon_html = (f'<div class="kz-plan" data-kz="{_esc(row["candidate_id"])}">'
                 f"{_star_svg(30, 44, -int(row['dx']))}{badge}</div>")
    return folium.Marker([float(row["lat"]), float(row["lon"])], z_index_offset=1000,
                         icon=folium.DivIcon(html=icon_html, icon_size=(30, 44),
                                             icon_anchor=(15 - int(row["dx"]), 41),
                                             class_name="kz-plan-icon"))


def _proposals(m: folium.Map, page: _Page, inp: MapInputs) -> None:
    """One overlay (on at start): a star per proposed site and format with its popup, and the
    catchments below them (not clickable: clicks reach the Gemeinden and "von hier aus")."""
    import folium

    root: Any = m.get_root()
    root.header.add_child(folium.Element(f"<style>{_PLAN_CSS}</style>"), name="kz_plan_css")
    folium.map.CustomPane("kz-plan", z_index=398, pointer_events=False).add_to(m)
    name = page.t("plan_layer")
    group = folium.FeatureGroup(name=name, show=True)
    group.add_to(m)
    areas = inp.proposal_catchments
    if areas is not None and len(areas):
        frame = _to_wgs84(areas[[areas.geometry.name]], simplify_m=25.0)
        frame = frame[~frame.geometry.is_empty].copy()
        frame["style"] = [{"fillColor": PROPOSAL_AREA_COLOUR, "color": PROPOSAL_COLOUR,
                           "weight": 1.5, "fillOpacity": 0.35}] * len(frame)
        layer = _geo_layer(page, _geojson(frame, ["style"]), name=name, pane="kz-plan",
                           interactive=False)
        layer.add_to(group)
        page.refs["plan_areas"] = layer
    for _, row in _proposal_frame(inp).iterrows():  # one marker per format and site
        popup, tip = _proposal_popup(row, page.language)
        marker = _proposal_marker(row, page.language)
        marker.add_to(group)
        marker.add_child(_popup_element(popup, 380))
        marker.add_child(_tooltip_element(tip))
    g = page.group("plan", page.t("group_plan"), open_=True)
    page.add(g, name, group, show=True, symbol=["★", PROPOSAL_COLOUR])


def _plan_legend(language: str) -> list[str]:
    t = _TEXT[language]
    return [f"<div><b>{t['group_plan']}</b></div>",
            f"<div>{_plan_sym(18)}{t['legend_plan']}</div>",
            f'<div><span class="kz-swatch" style="background:{PROPOSAL_AREA_COLOUR};'
            f'border-color:{PROPOSAL_COLOUR}"></span>{t["legend_plan_area"]}</div>']


def _type_order(values: pd.Series) -> pd.Series:
    """Sort key: course types in the order of COURSE_TYPE_STYLES, schedules as listed."""
    if values.name == "course_type":
        order = {k: i for i, k in enumerate(COURSE_TYPE_STYLES)}
    else:
        order = {k: i for i, k in enumerate(SCHEDULE_STYLES)}
    return values.map(lambda v: (order.get(v, len(order)), v)).map(str)


def _boxes(m: folium.Map, page: _Page, inp: MapInputs, course_type: str | None) -> None:
    """Legend (bottom left), info box (bottom right), Datenlage box (top right)."""
    lang = page.language
    m.add_child(_control_element("topright", _datenlage_html(inp.datenlage, lang),
                                 "kz-datenlage"))
    m.add_child(_control_element("bottomright",
                                 _info_html(inp.analysis_date, inp.parameters, inp.courses,
                                            lang, inp.from_here), "kz-info"))
    travel = (inp.isochrones is not None or inp.surface is not None
              or "minutes_nearest" in inp.coverage.columns)
    m.add_child(_control_element("bottomleft", _legend_html(inp.courses, lang, course_type,
                                                            travel, _has_proposals(inp)),
                                 "kz-legend"))


def _datenlage_html(table: pd.DataFrame | None, language: str) -> str:
    t = _TEXT[language]
    if table is None or not len(table):
        return f"<b>{t['datenlage']}</b>: {t['unknown']}"
    bad = table[table["rating"].astype(str) != "ok"]
    if not len(bad):
        return f"<b>{t['datenlage_ok']}</b>"
    head = t["datenlage_1"] if len(bad) == 1 else t["datenlage_n"].format(n=len(bad))
    items = "".join(f"<li><b>{_esc(r)}</b>: {_esc(x)}</li>"
                    for r, x in zip(bad["rating"].astype(str), bad["text"].astype(str),
                                    strict=True))
    return f"<details open><summary><b>{_esc(head)}</b></summary><ul>{items}</ul></details>"


def _info_html(date: dt.date, parameters: Mapping[str, object], courses: CourseList | CourseView,
               language: str, from_here: Any = None) -> str:
    t = _TEXT[language]
    lines = [f"<details open><summary><b>{_esc(t['title'])}</b></summary>",
             f"<div><b>{t['date']}:</b> {_date_text(date, language, weekday=True)}</div>"]
    if courses.as_of:
        lines.append(f"<div><b>{t['as_of']}:</b> {_date_text(courses.as_of, language)}</div>")
    lines += [f"<div><b>{_esc(k)}:</b> {_esc(v)}</div>" for k, v in parameters.items()]
    if from_here is not None:
        pairs = from_here[0]
        n = int((pairs["there_via"].fillna("") == "").sum()
                + (pairs["back_via"].fillna("") == "").sum())
        lines.append(f"<div class='kz-hint'>{_esc(t['here_hint'])}</div>")
        if n:
            lines.append(f"<div>{_esc(t['here_stats'].format(n=_one_number(n, language), m=_one_number(2 * len(pairs), language)))}</div>")
    lines.append("</details>")
    return "".join(lines)


def _legend_html(courses: CourseList | CourseView, language: str, course_type: str | None,
                 travel_times: bool, proposals: bool = False) -> str:
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
    parts.append(f'<div><span class="kz-swatch kz-hatch-swatch"></span>{t["legend_hatch"]}</div>')
    if travel_times:
        parts.append(f"<div><b>{t['legend_time']}</b></div>")
        lo = 0.0
        for hi, colour in TRAVEL_TIME_CLASSES:
            parts.append(f'<div><span class="kz-swatch" style="background:{colour}"></span>'
                         f"{_one_number(lo, language)}–{_one_number(hi, language)}</div>")
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
    parts.append(f'<div><span class="kz-sym" style="background:{CLUSTER_COLOURS[1]}">3</span>'
                 f"{t['legend_cluster']}</div>")
    if proposals:
        parts += _plan_legend(language)
    parts.append("</details>")
    return "".join(parts)


# --------------------------------------------------------------------------------------------
# The page's data: courses, "von hier aus", search
# --------------------------------------------------------------------------------------------
_MERCATOR = "EPSG:3857"
_KINDS = {"gemeinde": 0, "ort": 1, "strasse": 2, "adresse": 3}
_PAGE_TEXT_KEYS = (
    "layers", "close", "none", "filter", "filter_care", "filter_free", "filter_before",
    "here_title", "here_n", "here_none", "no_cell", "no_here", "there", "back", "dep", "arr",
    "journey", "walk", "to_stop", "to_site", "to_home", "line", "from", "on_demand",
    "only_on_demand", "not_shown", "arrive_between", "and", "analysed", "search", "not_found",
    "cancel", "min")


def _page_data(page: _Page, inp: MapInputs) -> None:
    lang = page.language
    page.data.update(t={k: _TEXT[lang][k] for k in _PAGE_TEXT_KEYS}, groups=page.groups,
                     locale="de-DE" if lang == "de" else "en-GB",
                     early_s=int(round(inp.early_arrival_min * 60)))
    page.data["courses"], index = _course_list(inp, lang)
    page.data["here"] = None
    page.data["stops"], page.data["routes"] = [], []
    if inp.from_here is not None:
        page.data["here"] = _here_data(page, inp.from_here, index)
    page.data["search"] = _search_data(inp)
    keys = {id(v): k for k, v in page.refs.items()}
    page.data["geo"] = {keys[id(layer)]: data for layer, data in page.geo}


def _course_list(inp: MapInputs, language: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The courses as the panel shows them (texts, times), and their index by id."""
    c = inp.courses.courses.reset_index(drop=True)
    sites = inp.courses.sites.astype({"site_id": str}).set_index("site_id")
    names = sites["site_name"].astype("string").fillna(sites.index.to_series())
    days = _weekday_text(c["weekdays"], language) if "weekdays" in c.columns else pd.Series(
        "", index=c.index)
    out = []
    for i, row in c.iterrows():  # one entry per course (a few dozen)
        style = _type_style(str(row["course_type"]))
        day = row.get("analysis_day")
        other = isinstance(day, dt.date) and day != inp.analysis_date
        out.append({"id": str(row["course_id"]), "type": _type_name(str(row["course_type"]),
                                                                   language),
                    "sched": _schedule_name(str(row["schedule"]), language),
                    "sym": style.symbol_de if language == "de" else style.symbol_en,
                    "colour": style.colour, "site": str(names.get(str(row["site_id"]),
                                                                  row["site_id"])),
                    "days": str(days.iloc[int(i)]), "start": int(row["start_time"]),  # type: ignore[call-overload]
                    "end": int(row["end_time"]),
                    "day": _date_text(day, language, weekday=True)  # type: ignore[arg-type]
                    if other else ""})
    return out, {str(d["id"]): k for k, d in enumerate(out)}


def _cell_frame(cells: gpd.GeoDataFrame) -> tuple[pd.DataFrame, list[float], list[float]]:
    """Cell centres (lat/lon) and the two edge vectors of a cell in degrees."""
    wgs = cells.to_crs(WEB_CRS)
    centre = cells.geometry.centroid.to_crs(WEB_CRS)
    frame = pd.DataFrame({"cell_id": cells["cell_id"].astype(str).to_numpy(),
                          "lat": np.round(centre.y.to_numpy(), 6),
                          "lon": np.round(centre.x.to_numpy(), 6)})
    mid = int(np.argmin(np.hypot(frame["lat"] - frame["lat"].median(),
                                 frame["lon"] - frame["lon"].median()))) if len(frame) else 0
    if not len(frame):
        return frame, [0.0, 0.0], [0.0, 0.0]
    ring = np.asarray(wgs.geometry.iloc[mid].exterior.coords)  # (lon, lat), 5 points
    e1 = ring[1] - ring[0]
    e2 = ring[3] - ring[0]
    return frame, [float(e1[1]), float(e1[0])], [float(e2[1]), float(e2[0])]


def _ints(values: pd.Series) -> list[int | None]:
    """Whole numbers for the page's JSON, None where missing (vectorised)."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(float, na_value=np.nan)
    ok = np.isfinite(v)
    out = np.full(len(v), None, dtype=object)
    out[ok] = np.round(v[ok]).astype(np.int64).tolist()
    return list(out.tolist())


def _here_data(page: _Page, from_here: tuple[pd.DataFrame, pd.DataFrame, gpd.GeoDataFrame],
               course_index: Mapping[str, int]) -> dict[str, Any]:
    """Columnar arrays per (cell, course) pair, cells in CSR order, shared journeys (what the
    page can derive, such as leaving home or arriving home, is left out)."""
    pairs, legs, cells = from_here
    frame, e1, e2 = _cell_frame(cells)
    pos = pd.Series(np.arange(len(frame)), index=frame["cell_id"])
    p = pairs[pairs["cell_id"].astype(str).isin(pos.index)
              & pairs["course_id"].astype(str).isin(course_index)].copy()
    p["c"] = pos.reindex(p["cell_id"].astype(str)).to_numpy()
    p = p.sort_values(["c", "course_id"], kind="stable")
    first = np.searchsorted(p["c"].to_numpy(), np.arange(len(frame) + 1)).tolist()
    stops, routes, journeys, jpos = _journey_lists(legs)
    via = {"zu Fuß": "walk", "ÖPNV": "pt"}

    def jref(col: str) -> list[int]:
        ids = pd.to_numeric(p[col], errors="coerce").astype("Int64")
        return list(ids.map(jpos).fillna(-1).astype(np.int64).tolist())

    page.data["stops"], page.data["routes"] = stops, routes
    return {"ids": frame["cell_id"].tolist(), "lat": frame["lat"].tolist(),
            "lon": frame["lon"].tolist(), "e1": e1, "e2": e2, "first": first,
            "course": p["course_id"].astype(str).map(course_index).astype(int).tolist(),
            "tt": _ints(p["time_there_s"]), "bt": _ints(p["time_back_s"]),
            "tv": p["there_via"].astype(object).map(via).fillna("").tolist(),
            "bv": p["back_via"].astype(object).map(via).fillna("").tolist(),
            "as": _ints(p["arrive_site"]),  # leaving home = arrival - time there
            "tm": _ints(p["there_walk_m"]), "ts": _ints(p["there_walk_s"]),
            "tj": jref("there_journey"),  # leaving the site = the course's end
            "bm": _ints(p["back_walk_m"]),
            "bs": _ints(p["back_walk_s"]), "bj": jref("back_journey"),
            "od": p["on_demand"].fillna(False).astype(bool).astype(int).tolist(),
            "journeys": journeys}


def _journey_lists(legs: pd.DataFrame) -> tuple[list[str], list[str], list[list[Any]],
                                                dict[int, int]]:
    """Stop names, line names and per journey its legs [mode, from, to, line, dep, arr, m, od]
    with stops and lines as indexes into the two lists."""
    if not len(legs):
        return [], [], [], {}
    lg = legs.sort_values(["journey_id", "leg"]).reset_index(drop=True)
    names = pd.concat([lg["from_stop_name"], lg["to_stop_name"]]).dropna().astype(str)
    stops = sorted(set(names))
    spos = {s: i for i, s in enumerate(stops)}
    routes = sorted(set(lg["route_name"].dropna().astype(str)))
    rpos = {r: i for i, r in enumerate(routes)}

    def idx(values: pd.Series, where: Mapping[str, int]) -> list[int]:
        return [where.get(str(v), -1) if isinstance(v, str) else -1 for v in values]

    rows = pd.DataFrame({"j": lg["journey_id"].astype(int), "mode": lg["mode"].astype(str),
                         "f": idx(lg["from_stop_name"], spos), "t": idx(lg["to_stop_name"], spos),
                         "r": idx(lg["route_name"], rpos), "d": _ints(lg["departure"]),
                         "a": _ints(lg["arrival"]), "m": _ints(lg["metres"].fillna(0)),
                         "od": lg["on_demand"].fillna(False).astype(bool).astype(int)})
    journeys: list[list[Any]] = []
    jpos: dict[int, int] = {}
    for jid, part in rows.groupby("j", sort=True):  # one entry per shared journey
        jpos[int(jid)] = len(journeys)  # type: ignore[arg-type]
        journeys.append(part.drop(columns="j").to_numpy(dtype=object).tolist())
    return stops, routes, journeys, jpos


def _search_data(inp: MapInputs) -> dict[str, list[Any]]:
    """The search entries: the run's index, or the Gemeinden alone."""
    if inp.addresses is not None and len(inp.addresses):
        a = inp.addresses
        lon, lat = transformer(ANALYSIS_CRS, WEB_CRS).transform(a["x"].to_numpy(float),
                                                                a["y"].to_numpy(float))
        labels, kinds = a["label"].astype(str).tolist(), [
            _KINDS.get(str(k), 3) for k in a["kind"]]
    else:
        gem = inp.gemeinden.to_crs(ANALYSIS_CRS)
        rep = gem.geometry.representative_point()
        lon, lat = transformer(ANALYSIS_CRS, WEB_CRS).transform(rep.x.to_numpy(),
                                                                rep.y.to_numpy())
        labels, kinds = gem["gen"].astype(str).tolist(), [0] * len(gem)
    return {"label": labels, "kind": kinds, "lat": np.round(np.asarray(lat), 6).tolist(),
            "lon": np.round(np.asarray(lon), 6).tolist()}


def _data_block(data: Mapping[str, Any]) -> str:
    """The page's data as a JSON block that no text in it can end or turn into markup."""
    text = _safe_json(json.dumps(data, ensure_ascii=False, separators=(",", ":"),
                                 allow_nan=False))
    return ('{% raw %}<script type="application/json" id="kz-data">' + text
            + "</script>{% endraw %}")


def _search_assets() -> Any:
    """An element that brings leaflet-search's files into the page (inlined offline)."""
    from branca.element import MacroElement
    from folium import plugins
    from folium.elements import JSCSSMixin

    class SearchAssets(JSCSSMixin, MacroElement):
        default_js = plugins.Search.default_js
        default_css = plugins.Search.default_css

    el = SearchAssets()
    el._name = "KurszugangSearch"
    return el


def _js_string(text: str, *, ascii_only: bool = False) -> str:
    """A JavaScript string literal that is safe inside an inline ``<script>``."""
    return _js_braces(_safe_json(json.dumps(text, ensure_ascii=ascii_only)))


def _safe_json(text: str) -> str:
    """JSON text that cannot end a ``<script>``, start markup, or be read as a template."""
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("%", "\\u0025").replace("\u2028", "\\u2028")
            .replace("\u2029", "\\u2029"))


def _js_braces(text: str) -> str:
    """A JSON string literal with its braces escaped (no ``{{`` for a template to find)."""
    return text.replace("{", "\\u007b").replace("}", "\\u007d")


def _script_element(code: str) -> Any:
    """A folium element running ``code`` after the map's layers are created."""
    from branca.element import MacroElement
    from folium.template import Template

    el = MacroElement()
    el._name = "KurszugangScript"
    el._template = Template("{% macro script(this, kwargs) %}{% raw %}" + code
                            + "{% endraw %}{% endmacro %}")
    return el


def _control_element(position: str, content: str, css: str = "") -> Any:
    """A Leaflet control holding HTML (legend, info box)."""
    from branca.element import MacroElement
    from folium.template import Template

    el = MacroElement()
    el._name = "KurszugangControl"
    el._template = Template(
        "{% macro script(this, kwargs) %}"
        "(function(){var c = L.control({position: " + json.dumps(position) + "});"
        "c.onAdd = function() {var d = L.DomUtil.create('div', " + json.dumps(
            f"kz-box {css}".strip()) + ");"
        "d.innerHTML = {% raw %}" + _js_string(content) + "{% endraw %};"
        "L.DomEvent.disableClickPropagation(d); L.DomEvent.disableScrollPropagation(d);"
        "return d;};"
        "c.addTo({{ this._parent.get_name() }});})();"
        "{% endmacro %}")
    return el


def _popup_element(content: str, max_width: int) -> Any:
    """A popup bound to the parent layer, from an (escaped) HTML string (folium's own Popup
    needs jQuery, which the offline page does not load)."""
    from branca.element import MacroElement
    from folium.template import Template

    el = MacroElement()
    el._name = "KurszugangPopup"
    el._template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this._parent.get_name() }}.bindPopup({% raw %}" + _js_string(content)
        + "{% endraw %}, {maxWidth: " + str(int(max_width)) + "});"
        "{% endmacro %}")
    return el


def _tooltip_element(text: str) -> Any:
    """A tooltip with plain text (escaped): folium's Tooltip puts its text into a JavaScript
    template literal, where a backtick or ``${`` from the data would run."""
    from branca.element import MacroElement
    from folium.template import Template

    el = MacroElement()
    el._name = "KurszugangTooltip"
    el._template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this._parent.get_name() }}.bindTooltip({% raw %}" + _js_string(_esc(text))
        + "{% endraw %});{% endmacro %}")
    return el


def _attribution_script(m: folium.Map, credits: Sequence[str]) -> str:
    return "".join(f"{m.get_name()}.attributionControl.addAttribution("
                   f"{_js_string(_esc(c), ascii_only=True)});"
                   for c in credits)


def _hook_script(m: folium.Map, cluster: Any, page: _Page) -> str:
    """``window.kurszugangKarte``: the map, the cluster, the overlays by name and the layers
    and markers the page script uses (for tests and for users who script the page)."""
    overlays = ", ".join(f"{_js_string(k)}: {v.get_name()}" for k, v in page.overlays.items())
    refs = ", ".join(f"{json.dumps(k)}: {v.get_name()}" for k, v in page.refs.items())
    markers = ", ".join(f"[{mk.get_name()}, {g.get_name()}, {_js_string(key)}]"
                        for mk, g, key in page.markers)
    return (f"window.kurszugangKarte = {{map: {m.get_name()}, cluster: {cluster.get_name()}, "
            f"overlays: {{{overlays}}}, refs: {{{refs}}}, markers: [{markers}]}};")


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


def _stable_ids(page: str, root: Any) -> str:
    """The page with folium's random element ids replaced by numbers in order of appearance,
    so that the same inputs give the same bytes."""
    ids = {str(e._id) for e in _elements(root) if isinstance(getattr(e, "_id", None), str)}
    order: dict[str, str] = {}
    for match in re.finditer(r"[0-9a-f]{32}", page):
        token = match.group(0)
        if token in ids and token not in order:
            order[token] = f"kz{len(order):04d}"
    if not order:
        return page
    pattern = re.compile("|".join(map(re.escape, order)))
    return pattern.sub(lambda mt: order[mt.group(0)], page)


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
    page = _stable_ids(root.render(), root)
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
    log.info("Webkarte nach %s geschrieben (%s MB%s)", out, de_number(out.stat().st_size / 1e6, 1),
             ", ohne Internet lesbar" if offline else "")
    return out


def map_inputs(results: Results) -> MapInputs:
    """What :func:`build_webmap` draws, from a run's Results alone (older Results without the
    tables of "von hier aus" give a map without it; the proposals of ``kurszugang plan`` where
    the Results have its layers)."""
    from kurszugang.output.render import course_view, map_parameters

    kreis = results.layer("kreis").rename(columns={"name": "gen"})
    gem = results.layer("gemeinden")
    tables = results.tables

    def table(name: str) -> pd.DataFrame | None:
        return results.table(name) if name in tables else None

    def layer(name: str) -> gpd.GeoDataFrame | None:
        return results.layer(name) if name in results.layers else None

    here = None
    if "von_hier" in tables and "verbindungen" in tables and "raster" in results.layers:
        here = (results.table("von_hier"), results.table("verbindungen"),
                results.layer("raster"))
    return MapInputs(
        gemeinden=gem[["ags", "gen", gem.geometry.name]], kreis=kreis,
        courses=course_view(results), coverage=pd.DataFrame(gem.drop(columns=gem.geometry.name)),
        analysis_date=results.info.school_day, parameters=map_parameters(results),
        isochrones=results.layer("einzugsbereiche") if "einzugsbereiche" in results.layers
        else None,
        surface=results.surfaces or None, stops=results.layer("haltestellen")
        if "haltestellen" in results.layers else None,
        attribution=list(results.info.attribution), datenlage=table("datenlage"),
        from_here=here, addresses=table("adressen"), nearest=table("naechster_kurs"),
        early_arrival_min=results.info.early_arrival_min, proposals=layer("plan_vorschlaege"),
        proposal_catchments=layer("plan_einzugsbereiche"))


def render_webmap(results: Results, path: str | Path) -> Path:
    """Write the web map of a run (``karte.html``) from its Results alone."""
    return write_webmap(build_webmap(map_inputs(results), language=results.info.language), path)
