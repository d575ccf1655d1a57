"""The overview of a run over several Kreise, from its Results alone.

:func:`render_state` writes the table ``landkreise`` (CSV, and the workbook with the parameter
sheet), the GeoPackage layer ``landkreise`` with its style, the map of the Kreise
(``karte.html``: one area per Kreis coloured by the share of potential participants who can
attend a course, a Kreis without result grey and hatched, a popup per Kreis with its figures,
its Datenlage and a link to its own map) and the summary ``zusammenfassung.md``.

Every text from the inputs (names, error messages) is escaped before it becomes markup, also
for the JavaScript template literals folium puts popups and tooltips in.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from kurszugang.files import atomic_path
from kurszugang.output.webmap import _esc
from kurszugang.results import Results
from kurszugang.words import de_number

__all__ = ["render_state", "state_summary"]

MAP_NAME = "karte.html"
SUMMARY_NAME = "zusammenfassung.md"
#: Shares (0-100 %) of the choropleth: red (few) to blue (most), as on the Kreis maps.
_CLASSES = ((0.0, 25.0, "#d7191c"), (25.0, 50.0, "#fdae61"), (50.0, 75.0, "#ffffbf"),
            (75.0, 90.0, "#abd9e9"), (90.0, 100.0, "#2c7bb6"))
_NONE = "#bdbdbd"


def _colour(share: float) -> str:
    if share is None or not math.isfinite(share):
        return _NONE
    for lo, hi, colour in _CLASSES:
        if lo <= share < hi or (hi == 100.0 and share >= 100.0):
            return colour
    return _NONE


def _pct(x: Any) -> str:
    return "–" if x is None or pd.isna(x) else f"{de_number(float(x), 0)} %"


def _count(x: Any) -> str:
    return "–" if x is None or pd.isna(x) else de_number(float(x), 0)


def _popup(row: pd.Series) -> str:
    e = _esc
    head = f"<b>{e(str(row['name']))}</b> ({e(str(row['key']))})"
    if row["status"] != "fertig":
        return f"{head}<br>Nicht gerechnet: {e(str(row['error']))}"
    lines = [head,
             f"Anteil mit besuchbarem Kurs: <b>{_pct(row['share_pct'])}</b>",
             f"Potenzielle Teilnehmende: {_count(row['participants'])}, davon mit besuchbarem "
             f"Kurs {_count(row['participants_any'])}",
             f"Gemeinden ohne besuchbaren Kurs: {_count(row['gemeinden_without_course'])} von "
             f"{_count(row['gemeinden'])}",
             f"Datenlage: {e(str(row['datenlage']))}"]
    if not pd.isna(row["datenlage_text"]):
        lines.append(f"<small>{e(str(row['datenlage_text']))}</small>")
    link = f"{row['folder']}/{MAP_NAME}"
    lines.append(f'<a href="{e(link)}" target="_blank" rel="noopener">Karte des '
                 "Kreises öffnen</a>")
    return "<br>".join(lines)


def _legend() -> str:
    items = "".join(
        f'<div><span style="background:{c};display:inline-block;width:14px;height:14px;'
        f'margin-right:6px;border:1px solid #555"></span>{de_number(lo, 0)}–{de_number(hi, 0)} %'
        "</div>" for lo, hi, c in _CLASSES)
    items += (f'<div><span style="background:{_NONE};display:inline-block;width:14px;'
              'height:14px;margin-right:6px;border:1px solid #555"></span>nicht gerechnet</div>')
    return ('<div style="position:fixed;bottom:24px;left:12px;z-index:1000;background:white;'
            'padding:8px 10px;border:1px solid #999;font:14px sans-serif">'
            "<b>Anteil der potenziellen Teilnehmenden<br>mit besuchbarem Kurs</b>"
            f"{items}</div>")


#: Binds each Kreis's tooltip and popup from its feature's properties (text, not a template):
#: folium's own Popup needs jQuery, which the offline page does not carry.
_BIND = """{% macro script(this, kwargs) %}
    {{ this.layer }}.eachLayer(function (shape) {
        var p = shape.feature.properties;
        shape.bindTooltip(p.tooltip, {sticky: true});
        shape.bindPopup(p.popup, {maxWidth: 360});
    });
{% endmacro %}"""


def _features(wgs: Any) -> dict[str, Any]:
    features = []
    for _, row in wgs.iterrows():
        features.append({
            "type": "Feature", "geometry": json.loads(gpd_to_json(row.geometry)),
            "properties": {
                "fill": _colour(row["share_pct"]), "done": row["status"] == "fertig",
                "tooltip": _esc(f"{row['name']} ({row['key']}): {_pct(row['share_pct'])}"),
                "popup": _popup(row)}})
    return {"type": "FeatureCollection", "features": features}


def _style(feature: dict[str, Any]) -> dict[str, Any]:
    p = feature["properties"]
    return {"fillColor": p["fill"], "color": "#333333", "weight": 1, "fillOpacity": 0.7,
            "dashArray": None if p["done"] else "4 4"}


def render_state_map(results: Results, path: Path) -> Path:
    """The map of the Kreise as one HTML file (libraries inlined, works offline)."""
    import folium
    from branca.element import MacroElement, Template

    from kurszugang.output.webmap import write_webmap

    layer = results.layer("landkreise")
    wgs = layer[~layer.geometry.is_empty & layer.geometry.notna()].to_crs("EPSG:4326")
    wgs = wgs.assign(geometry=wgs.geometry.simplify(0.0005, preserve_topology=True))
    west, south, east, north = wgs.total_bounds if len(wgs) else (8.9, 47.2, 13.9, 50.6)
    m = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=7,
                   tiles="OpenStreetMap", control_scale=True)
    shapes = folium.GeoJson(_features(wgs), name="Landkreise", style_function=_style)
    shapes.add_to(m)
    bind = MacroElement()
    bind._template = Template(_BIND)
    bind.layer = shapes.get_name()  # type: ignore[attr-defined]
    m.add_child(bind)
    if len(wgs):
        m.fit_bounds([[south, west], [north, east]])
    root: Any = m.get_root()
    root.html.add_child(folium.Element(_legend()))
    title = _esc(f"Erreichbarkeit der Integrationskurse – {results.info.district_name}")
    root.header.add_child(folium.Element(f"<title>{title}</title>"))
    return write_webmap(m, path)


def gpd_to_json(geom: Any) -> str:
    import shapely

    return str(shapely.to_geojson(geom))


def state_summary(results: Results) -> str:
    """The summary of the run over several Kreise (German Markdown)."""
    info = results.info
    frame = results.table("landkreise_uebersicht")
    h = info.headline
    done = frame[frame["status"] == "fertig"]
    failed = frame[frame["status"] != "fertig"]
    lines = [f"# Erreichbarkeit der Integrationskurse – {info.district_name}", "",
             f"Schultag {info.school_day:%d.%m.%Y}, höchstens "
             f"{de_number(info.threshold_min, 0)} min je Weg; "
             f"{h['districts_done']} von {h['districts']} Kreisen gerechnet.", ""]
    if len(failed):
        lines += ["## Nicht gerechnet", ""]
        lines += [f"- {r['key']} {_md(r['name'])}: {_md(str(r['error']))}"
                  for _, r in failed.iterrows()]
        lines.append("")
    lines += ["## Kennzahl", "",
              f"In den gerechneten Kreisen können {_count(h['participants_any'])} von "
              f"{_count(h['participants'])} potenziellen Teilnehmenden "
              f"({_pct(h['share_pct'])}) mindestens einen Kurs zu seinen Zeiten besuchen.", ""]
    warn = done[done["datenlage"].astype(str) != "ok"]
    if len(warn):
        lines += ["## Datenlage", "", "Kreise, deren Eingaben nicht alles abdecken:", ""]
        lines += [f"- {r['key']} {_md(r['name'])} ({r['datenlage']}): "
                  f"{_md(str(r['datenlage_text']))}" for _, r in warn.iterrows()]
        lines.append("")
    lines += ["## Kreise", "", "| Kreis | Name | Anteil | Teilnehmende | Datenlage |",
              "|---|---|---|---|---|"]
    for _, r in frame.sort_values("share_pct", na_position="first", kind="stable").iterrows():
        lines.append(f"| {r['key']} | {_md(r['name'])} | {_pct(r['share_pct'])} | "
                     f"{_count(r['participants'])} | {_md(str(r['datenlage']))} |"
                     if r["status"] == "fertig" else
                     f"| {r['key']} | {_md(r['name'])} | – | – | nicht gerechnet |")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    """Input text as plain Markdown text: no markup, no links, no table breaks."""
    out = html.escape(str(text), quote=False)
    for ch in "\\`*_[]|#<>!":
        out = out.replace(ch, "\\" + ch)
    return " ".join(out.split())


def render_state(results: Results, out_dir: str | Path, formats: Sequence[str]) -> list[Path]:
    """Write the overview of a run over several Kreise; returns the files written."""
    from kurszugang.output.geopackage import GPKG_NAME, write_results_geopackage
    from kurszugang.output.tables import write_tables

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = write_tables(results, out, formats)
    if "gpkg" in formats:
        written.append(write_results_geopackage(results, out / GPKG_NAME))
    if "html" in formats:
        written.append(render_state_map(results, out / MAP_NAME))
    if "summary" in formats:
        with atomic_path(out / SUMMARY_NAME) as tmp:
            tmp.write_text(state_summary(results), encoding="utf-8")
        written.append(out / SUMMARY_NAME)
    if results.info.settings_toml:
        with atomic_path(out / "einstellungen.toml") as tmp:
            tmp.write_text(results.info.settings_toml, encoding="utf-8")
        written.append(out / "einstellungen.toml")
    return written
