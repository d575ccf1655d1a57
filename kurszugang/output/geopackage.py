"""GeoPackage (EPSG:25832) with embedded QGIS styles, and GeoTIFF travel-time surfaces.

:func:`write_results_geopackage` writes a run's layers (:class:`~kurszugang.results.Results`)
with their German field aliases; :func:`write_geopackage` writes them (or any layers) to one
GeoPackage in
EPSG:25832 and embeds a QGIS style per standard layer in the ``layer_styles`` table, the table
QGIS itself uses when a style is saved "in the database" (columns ``f_table_catalog``,
``f_table_schema``, ``f_table_name``, ``f_geometry_column``, ``styleName``, ``styleQML``,
``styleSLD``, ``useAsDefault``, ``description``, ``owner``, ``ui``, ``update_time``). QGIS
applies a layer's default style from that table when the layer is added.

:func:`write_surfaces` writes travel-time surfaces as GeoTIFFs (EPSG:3035) with a QGIS style
file of the same name beside each (QGIS loads ``name.qml`` beside ``name.tif`` automatically).

Output is deterministic: layers are written in the order given, rows in a fixed order, and the
timestamps GDAL and QGIS record are fixed (``timestamp``), so the same results give the same
bytes.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from kurszugang.crs import ANALYSIS_CRS
from kurszugang.errors import ConfigError, InputError
from kurszugang.files import atomic_path
from kurszugang.output.style import (
    COURSE_TYPE_STYLES,
    COVERAGE_CLASSES,
    DATENLAGE_HATCH_COLOUR,
    OTHER_TYPE_COLOUR,
    PROPOSAL_AREA_COLOUR,
    PROPOSAL_COLOUR,
    TRAVEL_TIME_CLASSES,
    class_ranges,
)
from kurszugang.results import Surface
from kurszugang.schema import COURSE_TYPE_LABELS
from kurszugang.words import de_number, plural

if TYPE_CHECKING:
    from kurszugang.results import Results

__all__ = [
    "COURSE_TYPE_COLOURS",
    "GPKG_CRS",
    "REPRODUCIBLE_TIMESTAMP",
    "standard_style",
    "surface_style",
    "write_geopackage",
    "write_results_geopackage",
    "write_surfaces",
]

log = logging.getLogger(__name__)

#: CRS of every layer written.
GPKG_CRS = ANALYSIS_CRS
#: File names a run writes.
GPKG_NAME = "kurszugang.gpkg"
SURFACES_DIR = "reisezeitflaechen"
#: Time written as ``gpkg_contents.last_change`` and ``layer_styles.update_time`` by default,
#: so that the same results give the same file.
REPRODUCIBLE_TIMESTAMP = dt.datetime(2025, 12, 14, tzinfo=dt.UTC)
#: Colour (hex) of each course type on maps (:data:`kurszugang.output.style.COURSE_TYPE_STYLES`);
#: other types are grey.
COURSE_TYPE_COLOURS: dict[str, str] = {k: v.colour for k, v in COURSE_TYPE_STYLES.items()}
_OTHER_COLOUR = OTHER_TYPE_COLOUR

_GEOMETRY_COLUMN = "geom"
_GPKG_VERSION = "1.2"
_QGIS_VERSION = "3.34.0-Prizren"
_RESERVED = re.compile(r"^(gpkg_|rtree_|sqlite_)|^layer_styles$", re.IGNORECASE)
_STYLE_DESCRIPTIONS = {
    "gemeinden": "Anteil der potenziellen Teilnehmenden, die mindestens einen Kurs besuchen "
                 "können (kurszugang)",
    "raster": "Reisezeit zum besten besuchbaren Kurs je Rasterzelle (kurszugang)",
    "kursorte": "Kursorte, mit und ohne Kinderbetreuung (kurszugang)",
    "kurse": "Kurse nach Kursart (kurszugang)",
    "einzugsbereiche": "Einzugsbereiche der Kursorte nach Reisezeit (kurszugang)",
    "haltestellen": "Haltestellen (kurszugang)",
    "kreis": "Kreisgrenze (kurszugang)",
    "plan_vorschlaege": "Vorgeschlagene Standorte (kurszugang plan)",
    "plan_einzugsbereiche": "Einzugsbereiche der vorgeschlagenen Standorte (kurszugang plan)",
    "landkreise": "Anteil der potenziellen Teilnehmenden mit besuchbarem Kurs je Landkreis "
                  "(kurszugang)",
}
_LAYER_DESCRIPTIONS = {
    "gemeinden": "Gemeinden mit Kursbesuch zu Kurszeiten (Zahlen, Anteile in %, Lücken)",
    "raster": "Bewohnte Rasterzellen: besuchbare Kurse und Reisezeit zum besten Kurs",
    "kursorte": "Kursorte mit Kursarten und potenziellen Teilnehmenden in Reichweite",
    "kurse": "Kurse am Ort ihres Kursorts mit Teilnehmenden in Reichweite und Mindestgröße",
    "einzugsbereiche": "Einzugsbereiche der Kursorte (Reisezeitzonen in Minuten)",
    "haltestellen": "Haltestellen mit Abfahrten am Analysetag",
    "kreis": "Umriss des Landkreises",
    "plan_vorschlaege": "Vorgeschlagene Standorte je Kursformat (Planung)",
    "plan_einzugsbereiche": "Wer die vorgeschlagenen Standorte besuchen kann (Planung)",
    "landkreise": "Landkreise mit Kennzahl und Datenlage (Lauf über mehrere Kreise)",
}
# Shares (0-100 %) of the Gemeinde choropleth and minutes of the grid and of surfaces: the
# classes of every map (kurszugang.output.style).
_SHARE_CLASSES = tuple(class_ranges(COVERAGE_CLASSES))
_MINUTE_CLASSES = tuple(class_ranges(TRAVEL_TIME_CLASSES))
_NO_VALUE = 1.0e6  # what the styles' coalesce() gives NULL values (no course, no participants)
_BLUES = ("#08306b", "#08519c", "#2171b5", "#4292c6", "#6baed6", "#9ecae1", "#c6dbef",
          "#deebf7")


# --- QML (QGIS style XML) ------------------------------------------------------------------


def _rgba(hex_colour: str, alpha: int = 255) -> str:
    h = hex_colour.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha}"


def _fill_props(colour: str, *, alpha: int = 255, outline: str = "#646464",
                outline_width: float = 0.26, outline_style: str = "solid") -> dict[str, str]:
    return {
        "border_width_map_unit_scale": "3x:0,0,0,0,0,0", "color": _rgba(colour, alpha),
        "joinstyle": "bevel", "offset": "0,0", "offset_map_unit_scale": "3x:0,0,0,0,0,0",
        "offset_unit": "MM", "outline_color": _rgba(outline), "outline_style": outline_style,
        "outline_width": f"{outline_width:g}", "outline_width_unit": "MM", "style": "solid",
    }


def _marker_props(colour: str, *, size: float, shape: str = "circle",
                  outline: str = "#232323", outline_width: float = 0.2) -> dict[str, str]:
    return {
        "angle": "0", "color": _rgba(colour), "horizontal_anchor_point": "1",
        "joinstyle": "bevel", "name": shape, "offset": "0,0",
        "offset_map_unit_scale": "3x:0,0,0,0,0,0", "offset_unit": "MM",
        "outline_color": _rgba(outline), "outline_style": "solid",
        "outline_width": f"{outline_width:g}", "outline_width_unit": "MM",
        "scale_method": "diameter", "size": f"{size:g}", "size_map_unit_scale": "3x:0,0,0,0,0,0",
        "size_unit": "MM", "vertical_anchor_point": "1",
    }


def _symbol(parent: ET.Element, name: str, kind: str, props: Mapping[str, str]) -> None:
    """A one-layer symbol; properties both as an Option map (QGIS >= 3.26) and as the
    ``prop`` list older QGIS 3 versions read."""
    symbol = ET.SubElement(parent, "symbol", {"type": kind, "name": name, "alpha": "1",
                                              "clip_to_extent": "1", "force_rhr": "0"})
    cls = {"fill": "SimpleFill", "marker": "SimpleMarker", "line": "SimpleLine"}[kind]
    layer = ET.SubElement(symbol, "layer", {"class": cls, "enabled": "1", "locked": "0",
                                            "pass": "0"})
    _options(layer, props)


def _options(parent: ET.Element, props: Mapping[str, str]) -> None:
    """Properties both as an Option map (QGIS >= 3.26) and as the older ``prop`` list."""
    options = ET.SubElement(parent, "Option", {"type": "Map"})
    for k, v in props.items():
        ET.SubElement(options, "Option", {"type": "QString", "name": k, "value": v})
    for k, v in props.items():
        ET.SubElement(parent, "prop", {"k": k, "v": v})


def _add_datenlage_hatch(renderer: ET.Element) -> None:
    """Hatch every fill symbol of ``renderer`` where the feature has a Datenlage note.

    A second symbol layer (diagonal lines in :data:`DATENLAGE_HATCH_COLOUR`) is drawn over the
    class colour, switched on per feature by a data-defined "enabled" property: only where the
    field ``datenlage`` is not empty, as on the web map and the A4 maps.
    """
    expression = "length(trim(coalesce(\"datenlage\", ''))) > 0"
    for symbol in list(renderer.iterfind("symbols/symbol")):
        layer = ET.SubElement(symbol, "layer", {"class": "LinePatternFill", "enabled": "1",
                                                "locked": "0", "pass": "0"})
        _options(layer, {"angle": "45", "color": _rgba(DATENLAGE_HATCH_COLOUR),
                         "distance": "1.6", "distance_unit": "MM",
                         "distance_map_unit_scale": "3x:0,0,0,0,0,0", "line_width": "0.35",
                         "line_width_unit": "MM", "offset": "0", "offset_unit": "MM",
                         "outline_width_unit": "MM"})
        dd = ET.SubElement(ET.SubElement(layer, "data_defined_properties"), "Option",
                           {"type": "Map"})
        ET.SubElement(dd, "Option", {"type": "QString", "name": "name", "value": ""})
        props = ET.SubElement(dd, "Option", {"type": "Map", "name": "properties"})
        enabled = ET.SubElement(props, "Option", {"type": "Map", "name": "enabled"})
        ET.SubElement(enabled, "Option", {"type": "bool", "name": "active", "value": "true"})
        ET.SubElement(enabled, "Option", {"type": "QString", "name": "expression",
                                          "value": expression})
        ET.SubElement(enabled, "Option", {"type": "int", "name": "type", "value": "3"})
        ET.SubElement(dd, "Option", {"type": "QString", "name": "type", "value": "collection"})
        line = ET.SubElement(layer, "symbol", {"type": "line", "name": "@0@1", "alpha": "1",
                                               "clip_to_extent": "1", "force_rhr": "0"})
        simple = ET.SubElement(line, "layer", {"class": "SimpleLine", "enabled": "1",
                                               "locked": "0", "pass": "0"})
        _options(simple, {"line_color": _rgba(DATENLAGE_HATCH_COLOUR), "line_style": "solid",
                          "line_width": "0.35", "line_width_unit": "MM",
                          "capstyle": "square", "joinstyle": "bevel", "offset": "0",
                          "offset_unit": "MM"})


def _renderer(kind: str, attrs: Mapping[str, str]) -> ET.Element:
    base = {"type": kind, "symbollevels": "0", "forceraster": "0", "enableorderby": "0",
            "referencescale": "-1"}
    return ET.Element("renderer-v2", {**base, **attrs})


def _graduated(attr: str, kind: str,
               ranges: Sequence[tuple[float, float, str, Mapping[str, str]]]) -> ET.Element:
    r = _renderer("graduatedSymbol", {"attr": attr, "graduatedMethod": "GraduatedColor"})
    rng = ET.SubElement(r, "ranges")
    symbols = ET.SubElement(r, "symbols")
    for i, (lo, hi, label, props) in enumerate(ranges):
        ET.SubElement(rng, "range", {"lower": f"{lo:.6f}", "upper": f"{hi:.6f}",
                                     "symbol": str(i), "label": label, "render": "true"})
        _symbol(symbols, str(i), kind, props)
    ET.SubElement(r, "mode", {"name": "manual"})
    return r


def _categorized(attr: str, kind: str,
                 categories: Sequence[tuple[str, str, Mapping[str, str]]]) -> ET.Element:
    r = _renderer("categorizedSymbol", {"attr": attr})
    cats = ET.SubElement(r, "categories")
    symbols = ET.SubElement(r, "symbols")
    for i, (value, label, props) in enumerate(categories):
        ET.SubElement(cats, "category", {"value": value, "label": label, "symbol": str(i),
                                         "render": "true", "type": "string"})
        _symbol(symbols, str(i), kind, props)
    return r


def _single(kind: str, props: Mapping[str, str]) -> ET.Element:
    r = _renderer("singleSymbol", {})
    _symbol(ET.SubElement(r, "symbols"), "0", kind, props)
    return r


def _document(root: ET.Element) -> str:
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"


def _check_language(language: str) -> None:
    if language not in ("de", "en"):
        raise ConfigError(f"unknown language {language!r}: use 'de' (German) or 'en' (English)")


def _qml(renderer: ET.Element, geometry: int, fields: Sequence[str],
         labels: Mapping[str, str]) -> str:
    root = ET.Element("qgis", {"version": _QGIS_VERSION, "styleCategories": "Symbology|Fields"})
    root.append(renderer)
    aliases = ET.SubElement(root, "aliases")
    for i, f in enumerate(fields):  # per field; QGIS counts the fid column as field 0
        if f in labels:
            ET.SubElement(aliases, "alias", {"field": f, "index": str(i + 1), "name": labels[f]})
    ET.SubElement(root, "layerGeometryType").text = str(geometry)
    return _document(root)


def _geometry_code(gdf: gpd.GeoDataFrame) -> int | None:
    types = set(gdf.geom_type.dropna().unique())
    if types <= {"Point", "MultiPoint"} and types:
        return 0
    if types <= {"LineString", "MultiLineString"} and types:
        return 1
    if types <= {"Polygon", "MultiPolygon"} and types:
        return 2
    return None


def _minute_label(lo: float, hi: float) -> str:
    return f"{lo:g}–{hi:g} min"


def standard_style(name: str, layer: gpd.GeoDataFrame, *, language: str = "de",
                   aliases: Mapping[str, str] | None = None) -> str | None:
    """The QGIS style (QML text) kurszugang uses for one of its standard layers.

    ===================  =========================================================================
    layer                style
    ===================  =========================================================================
    ``gemeinden``        graduated on ``share_part_any`` (share of potential participants who can
                         attend a course, %): 0–25 red, 25–50, 50–75, 75–90, 90–100 blue;
                         light grey where there are no potential participants (NULL);
                         hatched dark red where ``datenlage`` holds a note
    ``raster``           graduated on ``best_min`` (minutes to the best course, longer leg):
                         0–15 green … 60–90 red, beyond 90 or no course grey, no outlines
    ``kursorte``         categorized: with childcare (purple star) / without (white circle)
    ``kurse``            categorized by ``course_type``, one colour per type
                         (:data:`COURSE_TYPE_COLOURS`)
    ``einzugsbereiche``  categorized by band (``label``), dark blue (near) to light blue, 60 %
                         opaque
    ``haltestellen``     small dark-grey points
    ===================  =========================================================================

    Field aliases (``aliases``: field to label, e.g. from a run's table) are part of each style.

    Parameters
    ----------
    name
        Layer name (one of :data:`LAYER_NAMES`' values).
    layer
        The layer's data (categories and fields are taken from it).
    language
        ``"de"`` (default) or ``"en"`` for legend labels.
    aliases
        Field name to its label (German or English), written as QGIS field aliases.

    Returns
    -------
    str or None
        The QML document, or None if ``name`` is no standard layer or the layer lacks the
        column its style needs (logged).

    Raises
    ------
    ConfigError
        If ``language`` is unknown.

    Examples
    --------
    >>> from kurszugang.analysis.layers import result_layers
    >>> layers = result_layers(access, gemeinden, courses=courses)
    >>> qml = standard_style("gemeinden", layers["gemeinden"])
    >>> Path("gemeinden.qml").write_text(qml, encoding="utf-8")
    10636
    >>> qml.splitlines()[0]
    "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
    >>> standard_style("gemeinden", layers["gemeinden"][["ags", "geometry"]]) is None
    True
    """
    _check_language(language)
    de = language == "de"
    fields = [str(c) for c in layer.columns if c != layer.geometry.name]
    needs = {"gemeinden": "share_part_any", "raster": "best_min", "kursorte": "has_childcare",
             "kurse": "course_type", "einzugsbereiche": "label", "haltestellen": None,
             "kreis": None, "plan_vorschlaege": None, "plan_einzugsbereiche": None,
             "landkreise": "share_pct"}
    if name not in needs:
        return None
    need = needs[name]
    if need is not None and need not in layer.columns:
        log.info("die Ebene %s hat keine Spalte %s: ohne Stil geschrieben", name, need)
        return None
    renderer: ET.Element
    if name in ("gemeinden", "landkreise"):
        ranges = [(lo, hi, f"{lo:g}–{hi:g} %",
                   _fill_props(c, outline="#505050", outline_width=0.3))
                  for lo, hi, c in _SHARE_CLASSES]
        none = (("keine potenziellen Teilnehmenden", "no potential participants")
                if name == "gemeinden" else ("nicht gerechnet", "not computed"))
        ranges.append((100.0, _NO_VALUE, none[0] if de else none[1],
                       _fill_props("#e0e0e0", outline="#505050", outline_width=0.3)))
        renderer = _graduated(f'coalesce("{need}", {_NO_VALUE:g})', "fill", ranges)
        if name == "gemeinden" and "datenlage" in layer.columns:
            _add_datenlage_hatch(renderer)
        geometry = 2
    elif name == "raster":
        ranges = [(lo, hi, _minute_label(lo, hi),
                   _fill_props(c, alpha=200, outline_style="no", outline_width=0))
                  for lo, hi, c in _MINUTE_CLASSES]
        ranges.append((90.0, _NO_VALUE, "über 90 min oder kein Kurs" if de
                       else "over 90 min or no course",
                       _fill_props("#bdbdbd", alpha=160, outline_style="no", outline_width=0)))
        renderer = _graduated(f'coalesce("best_min", {_NO_VALUE:g})', "fill", ranges)
        geometry = 2
    elif name == "kursorte":
        yes, no = (("mit Kinderbetreuung", "ohne Kinderbetreuung") if de
                   else ("with childcare", "without childcare"))
        renderer = _categorized(f"if(\"has_childcare\", '{yes}', '{no}')", "marker", [
            (yes, yes, _marker_props("#7b3294", size=5.0, shape="star")),
            (no, no, _marker_props("#ffffff", size=3.6, outline_width=0.6)),
        ])
        geometry = 0
    elif name == "kurse":
        present = sorted(pd.unique(layer["course_type"].dropna().astype(str)))
        names = COURSE_TYPE_LABELS["de" if de else "en"]
        renderer = _categorized("course_type", "marker", [
            (t, names.get(t, t), _marker_props(COURSE_TYPE_COLOURS.get(t, _OTHER_COLOUR),
                                               size=3.0))
            for t in present])
        geometry = 0
    elif name == "einzugsbereiche":
        order = layer[["label", "band_max"]].dropna().drop_duplicates("label") \
            if "band_max" in layer.columns else layer[["label"]].dropna().drop_duplicates()
        if "band_max" in order.columns:
            order = order.sort_values("band_max", kind="stable")
        labels = order["label"].astype(str).tolist()
        renderer = _categorized("label", "fill", [
            (lab, lab, _fill_props(_BLUES[min(i, len(_BLUES) - 1)], alpha=153,
                                   outline_style="no", outline_width=0))
            for i, lab in enumerate(labels)])
        geometry = 2
    elif name == "plan_vorschlaege":
        renderer = _single("marker", _marker_props(PROPOSAL_COLOUR, size=6.0, shape="star",
                                                   outline="#000000", outline_width=0.4))
        geometry = 0
    elif name == "plan_einzugsbereiche":
        renderer = _single("fill", _fill_props(PROPOSAL_AREA_COLOUR, alpha=90,
                                               outline=PROPOSAL_COLOUR, outline_width=0.4))
        geometry = 2
    elif name == "kreis":
        renderer = _single("fill", {"color": "0,0,0,0", "style": "no",
                                    "outline_color": "0,0,0,255", "outline_style": "solid",
                                    "outline_width": "0.8", "outline_width_unit": "MM"})
        geometry = 2
    else:  # haltestellen
        renderer = _single("marker", _marker_props("#424242", size=1.6, outline="#ffffff",
                                                   outline_width=0.2))
        geometry = 0
    return _qml(renderer, geometry, fields, aliases or {})


def surface_style(*, max_time_min: float = 90.0, language: str = "de") -> str:
    """QGIS raster style (QML) for a travel-time GeoTIFF: classes of minutes, green to red.

    Parameters
    ----------
    max_time_min
        The surface's maximum travel time; classes above it are left out.
    language
        ``"de"`` (default) or ``"en"`` (only ``min`` appears in labels).

    Returns
    -------
    str
        The QML document (singleband pseudocolour, discrete classes 0–15, 15–30, 30–45,
        45–60, 60–90 min; nodata transparent; 80 % opaque).

    Raises
    ------
    ConfigError
        If ``language`` is unknown.

    Examples
    --------
    >>> Path("reisezeit_KS01.qml").write_text(surface_style())
    1521
    >>> "singlebandpseudocolor" in surface_style(max_time_min=45, language="en")
    True
    """
    _check_language(language)
    classes = [(lo, hi, c) for lo, hi, c in _MINUTE_CLASSES if lo < max_time_min]
    top = max(max_time_min, 1.0)
    root = ET.Element("qgis", {"version": _QGIS_VERSION, "styleCategories": "Symbology"})
    pipe = ET.SubElement(root, "pipe")
    rr = ET.SubElement(pipe, "rasterrenderer", {
        "type": "singlebandpseudocolor", "band": "1", "opacity": "0.8", "alphaBand": "-1",
        "classificationMin": "0", "classificationMax": f"{top:g}", "nodataColor": ""})
    ET.SubElement(rr, "rasterTransparency")
    mm = ET.SubElement(rr, "minMaxOrigin")
    for tag, text in (("limits", "None"), ("extent", "WholeRaster"),
                      ("statAccuracy", "Estimated"), ("cumulativeCutLower", "0.02"),
                      ("cumulativeCutUpper", "0.98"), ("stdDevFactor", "2")):
        ET.SubElement(mm, tag).text = text
    shader = ET.SubElement(ET.SubElement(rr, "rastershader"), "colorrampshader", {
        "colorRampType": "DISCRETE", "classificationMode": "1", "clip": "0",
        "minimumValue": "0", "maximumValue": f"{top:g}", "labelPrecision": "0"})
    for lo, hi, colour in classes:
        upper = min(hi, top)
        ET.SubElement(shader, "item", {"value": f"{upper:g}", "color": colour, "alpha": "255",
                                       "label": _minute_label(lo, upper)})
    ET.SubElement(pipe, "brightnesscontrast", {"brightness": "0", "contrast": "0",
                                               "gamma": "1"})
    ET.SubElement(pipe, "huesaturation", {"saturation": "0", "grayscaleMode": "0",
                                          "colorizeOn": "0", "colorizeRed": "255",
                                          "colorizeGreen": "128", "colorizeBlue": "128",
                                          "colorizeStrength": "100"})
    ET.SubElement(pipe, "rasterresampler", {"maxOversampling": "2"})
    ET.SubElement(root, "blendMode").text = "0"
    return _document(root)


# --- writing -------------------------------------------------------------------------------


@contextmanager
def _gdal_date(stamp: dt.datetime) -> Iterator[None]:
    """Make GDAL record ``stamp`` as "now" (``OGR_CURRENT_DATE``), restoring the old value."""
    import pyogrio

    text = stamp.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": text})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


def _prepare_layer(name: str, gdf: object) -> gpd.GeoDataFrame:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"layer {name!r} is a {type(gdf).__name__}, not a GeoDataFrame")
    if gdf.crs is None:
        raise InputError(f"layer {name!r} has no CRS: set the CRS its coordinates are in with "
                         ".set_crs(...) before writing (the GeoPackage is in EPSG:25832)")
    out = gdf.to_crs(GPKG_CRS) if gdf.crs != GPKG_CRS else gdf.copy()
    out = out.reset_index(drop=True)
    geom = out.geometry.name
    for c in out.columns:  # per column: dates and mixed objects become text
        if c == geom:
            continue
        s = out[c]
        if s.dtype == object:
            present = s.notna().to_numpy()
            out[c] = s.map(lambda v: v.isoformat() if isinstance(v, dt.date) else v) \
                .astype("str").where(present, None)
    return out


def _style_rows(styles: Mapping[str, str], stamp: dt.datetime,
                descriptions: Mapping[str, str]) -> pd.DataFrame:
    names = list(styles)
    n = len(names)
    return pd.DataFrame({
        "f_table_catalog": pd.array([""] * n, dtype="str"),
        "f_table_schema": pd.array([""] * n, dtype="str"),
        "f_table_name": pd.array(names, dtype="str"),
        "f_geometry_column": pd.array([_GEOMETRY_COLUMN] * n, dtype="str"),
        "styleName": pd.array(names, dtype="str"),
        "styleQML": pd.array([styles[k] for k in names], dtype="str"),
        "styleSLD": pd.array([""] * n, dtype="str"),
        "useAsDefault": np.ones(n, dtype=bool),
        "description": pd.array([descriptions.get(k, "kurszugang") for k in names],
                                dtype="str"),
        "owner": pd.array([""] * n, dtype="str"),
        "ui": pd.array([None] * n, dtype="str"),
        "update_time": pd.Series([pd.Timestamp(stamp)] * n, dtype="datetime64[ms, UTC]"),
    })


def write_geopackage(
    path: str | Path,
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    styles: bool | Mapping[str, str] = True,
    descriptions: Mapping[str, str] | None = None,
    language: str = "de",
    timestamp: dt.datetime | None = None,
    aliases: Mapping[str, Mapping[str, str]] | None = None,
) -> Path:
    """Write layers to a GeoPackage in EPSG:25832, with QGIS styles embedded.

    Every layer is reprojected to EPSG:25832 and written with pyogrio under its name (geometry
    column ``geom``), in the order given. Styles go into the ``layer_styles`` table as each
    layer's default style, so QGIS draws the layers styled as soon as they are added.

    Parameters
    ----------
    path
        The ``.gpkg`` file (its folder must exist); replaced if present.
    layers
        Layer name to GeoDataFrame (any CRS, but one must be set), e.g. from
        :func:`result_layers`.
    styles
        True (default): the standard style (:func:`standard_style`) for each standard layer
        name; False: none; a mapping: layer name to QML text of your own.
    descriptions
        Layer name to a description (``gpkg_contents.description``); standard layers have a
        German one by default.
    language
        ``"de"`` (default) or ``"en"``: legend labels and field aliases of the standard styles.
    timestamp
        Recorded as the layers' last change and the styles' update time. Default
        :data:`REPRODUCIBLE_TIMESTAMP` (fixed, so that the file is reproducible); pass
        ``datetime.datetime.now(datetime.UTC)`` to record the real time.
    aliases
        Layer name to (field to label): the field aliases of the standard styles.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InputError
        If a layer is not a GeoDataFrame or has no CRS, or the folder does not exist.
    ConfigError
        If there are no layers, a layer name is reserved (``layer_styles``, ``gpkg_*``,
        ``rtree_*``) or empty, a style names an unknown layer or is not valid XML, or the
        language is unknown.

    Examples
    --------
    >>> from kurszugang.analysis.layers import result_layers
    >>> layers = result_layers(access, gemeinden, courses=courses, stops=feed)
    >>> write_geopackage("ergebnisse.gpkg", layers)
    PosixPath('ergebnisse.gpkg')
    >>> import pyogrio
    >>> pyogrio.list_layers("ergebnisse.gpkg").tolist()
    [['gemeinden', 'MultiPolygon'], ['raster', 'Polygon'], ['kursorte', 'Point'],
     ['kurse', 'Point'], ['haltestellen', 'Point'], ['layer_styles', None]]
    """
    import pyogrio

    _check_language(language)
    out_path = Path(path)
    if not out_path.parent.exists():
        raise InputError(f"folder {out_path.parent} does not exist", path=out_path)
    if not layers:
        raise ConfigError("write_geopackage needs at least one layer")
    for name in layers:
        if not str(name) or _RESERVED.search(str(name)):
            raise ConfigError(f"layer name {name!r} is reserved in a GeoPackage (layer_styles, "
                              "gpkg_*, rtree_*, sqlite_*) or empty: choose another")
    prepared = {str(k): _prepare_layer(str(k), v) for k, v in layers.items()}
    qml: dict[str, str] = {}
    if isinstance(styles, Mapping):
        for name, text in styles.items():
            if name not in prepared:
                raise ConfigError(f"a style is given for layer {name!r}, which is not among the "
                                  f"layers ({', '.join(prepared)})")
            try:
                ET.fromstring(text)
            except ET.ParseError as exc:
                raise ConfigError(f"the style of layer {name!r} is not valid XML: {exc}") \
                    from None
            qml[name] = text
    elif styles:
        for name, gdf in prepared.items():
            standard = standard_style(name, gdf, language=language,
                                      aliases=(aliases or {}).get(name))
            if standard is not None:
                qml[name] = standard
    desc = {**_LAYER_DESCRIPTIONS, **(descriptions or {})}
    stamp = timestamp or REPRODUCIBLE_TIMESTAMP
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    with atomic_path(out_path) as tmp, _gdal_date(stamp):
        _write_layers(tmp, prepared, desc)
        if qml:
            pyogrio.write_dataframe(_style_rows(qml, stamp, _STYLE_DESCRIPTIONS), tmp,
                                    layer="layer_styles", driver="GPKG",
                                    layer_options={"FID": "id"})
            # the GeoPackage DATETIME form has milliseconds; GDAL writes them only if non-zero
            with closing(sqlite3.connect(tmp)) as con, con:
                con.execute("UPDATE layer_styles SET update_time = ?",
                            (stamp.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),))
    log.info("GeoPackage %s geschrieben: %s Ebenen (%s), %s mit QGIS-Stil", out_path.name,
             de_number(len(prepared)),
             ", ".join(f"{k} {de_number(len(v))}" for k, v in prepared.items()),
             de_number(len(qml)))
    return out_path


def _write_layers(path: Path, prepared: Mapping[str, gpd.GeoDataFrame],
                  desc: Mapping[str, str]) -> None:
    import pyogrio

    for i, (name, gdf) in enumerate(prepared.items()):  # one write per layer
        pyogrio.write_dataframe(
            gdf, path, layer=name, driver="GPKG",
            # GeoPackage 1.2: read without complaint by the GDAL of older QGIS releases
            dataset_options={"VERSION": _GPKG_VERSION} if i == 0 else None,
            layer_options={"GEOMETRY_NAME": _GEOMETRY_COLUMN,
                           "DESCRIPTION": desc.get(name, "")})


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or "site"


def write_surfaces(
    surfaces: Mapping[str, Any] | Iterable[Any],
    folder: str | Path,
    *,
    prefix: str = "reisezeit_",
    style: bool = True,
) -> list[Path]:
    """Write travel-time surfaces as GeoTIFFs, each with a QGIS style file beside it.

    Each surface (a run's :class:`~kurszugang.results.Surface`, or anything with
    ``to_surface()``) becomes ``{prefix}{site_id}.tif`` (float32 minutes, EPSG:3035, nodata
    NaN) and, with
    ``style``, ``{prefix}{site_id}.qml`` (:func:`surface_style`), which QGIS applies when the
    GeoTIFF is opened. Characters other than letters, digits, ``_``, ``-`` and ``.`` in site
    ids become ``_``.

    Parameters
    ----------
    surfaces
        Surfaces (e.g. from :func:`~kurszugang.analysis.catchments.site_surfaces`), as a
        mapping or any iterable.
    folder
        Where to write (created if missing).
    prefix
        Start of every file name.
    style
        Also write the QGIS style file.

    Returns
    -------
    list of pathlib.Path
        The GeoTIFFs written, in the order given.

    Raises
    ------
    ConfigError
        If two surfaces would get the same file name.

    Examples
    --------
    >>> from kurszugang.analysis.catchments import site_surfaces
    >>> router = pool.get(SCHOOL_DAY)
    >>> write_surfaces(site_surfaces(router, cells, courses, arrive_by="08:30"),
    ...                "out/reisezeiten")
    [PosixPath('out/reisezeiten/reisezeit_KS01.tif'), ...]
    >>> sorted(p.name for p in Path("out/reisezeiten").iterdir())[:4]
    ['reisezeit_KS01.qml', 'reisezeit_KS01.tif', 'reisezeit_KS02.qml', 'reisezeit_KS02.tif']
    """
    raw = list(surfaces.values()) if isinstance(surfaces, Mapping) else list(surfaces)
    items: list[Surface] = [s if isinstance(s, Surface) else s.to_surface() for s in raw]
    out_dir = Path(folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    stems = [f"{prefix}{_safe_name(s.site_id)}" for s in items]
    dupes = pd.Index(stems)[pd.Index(stems).duplicated()]
    if len(dupes):
        raise ConfigError(f"two surfaces would both be written as {dupes[0]}.tif: give the sites "
                          "distinct ids")
    paths = []
    for s, stem in zip(items, stems, strict=True):  # one file per site
        tif = out_dir / f"{stem}.tif"
        with atomic_path(tif) as tmp:
            s.write_geotiff(tmp)
        if style:
            qml = surface_style(max_time_min=float(s.tags.get("max_time_min", 90)))
            with atomic_path(out_dir / f"{stem}.qml") as tmp:
                tmp.write_text(qml, encoding="utf-8")
        paths.append(tif)
    log.info("%s nach %s geschrieben", plural(len(paths), "Reisezeitfläche", "Reisezeitflächen"),
             out_dir)
    return paths


def write_results_geopackage(results: Results, path: Path) -> Path:
    """Write a run's layers with their standard styles and the labels of the run's language."""
    lang = results.info.language
    layers = {n: t.frame for n, t in results.layers.items()}
    aliases = {n: t.labels(lang) for n, t in results.layers.items()}
    return write_geopackage(path, layers, language=lang, aliases=aliases)
