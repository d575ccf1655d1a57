"""Render a run's Results: every output file, from the Results alone.

:func:`render` writes the tables (CSV, XLSX), the GeoPackage, the GeoTIFF surfaces, the web map,
the A4 maps, the validation report, the settings and the summary. It needs no input file, no
routing and no analysis: ``kurszugang map OUTDIR`` and ``kurszugang report OUTDIR`` call it on
Results loaded from an output folder.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from kurszugang.dates import parse_clock
from kurszugang.files import atomic_path
from kurszugang.results import Results

log = logging.getLogger(__name__)

__all__ = ["CourseView", "course_view", "map_parameters", "render"]

#: The files a run writes besides the tables, by format.
FILES = {"html": "karte.html", "png": "karte.png", "pdf": "karte.pdf",
         "report": "pruefbericht.txt", "settings": "einstellungen.toml"}


@dataclass(frozen=True)
class CourseView:
    """The course list as the maps draw it: sites (EPSG:25832), courses, the list's date."""

    sites: gpd.GeoDataFrame
    courses: pd.DataFrame
    as_of: Any


def course_view(results: Results) -> CourseView:
    """Sites and courses from a run's layers ``kursorte`` and ``kurse``."""
    sites = results.layer("kursorte").copy()
    courses = pd.DataFrame(results.layer("kurse").drop(columns="geometry")).copy()
    courses["start_time"] = courses["start"].map(parse_clock).astype(np.int32)
    courses["end_time"] = courses["end"].map(parse_clock).astype(np.int32)
    courses["next_start"] = pd.to_datetime(courses["next_start"])
    return CourseView(sites, courses, results.info.courses_as_of)


def _value(results: Results, key: str) -> Any:
    for row in results.info.parameters:
        if row[0] == key:
            return row[3]
    return None


def _de(x: object) -> str:
    return f"{x:g}".replace(".", ",") if isinstance(x, float | int) else str(x)


def map_parameters(results: Results) -> dict[str, str]:
    """The few settings the maps show, with units, in the run's language."""
    info = results.info
    de = info.language == "de"
    v = {k: _value(results, k) for k in ("routing.walk_speed_kmh", "routing.max_walk_m",
                                          "routing.detour_factor", "routing.board_slack_s",
                                          "grid.participant_source", "grid.participant_factor",
                                          "inputs.osm")}
    num = _de if de else (lambda x: f"{x:g}" if isinstance(x, float | int) else str(x))
    walk = (f"{num(v['routing.walk_speed_kmh'])} km/h, "
            f"{'höchstens' if de else 'at most'} {num(v['routing.max_walk_m'])} m")
    walk += ((" auf OSM-Wegen" if de else " on OSM footways") if v["inputs.osm"] else
             (f", {'Luftlinie' if de else 'straight line'} × {num(v['routing.detour_factor'])}"))
    source = {"foreigners": ("Ausländer im Zensus-Raster", "foreign citizens in the grid"),
              "gemeinde": ("Zahlen je Gemeinde", "counts per Gemeinde"),
              "both": ("Zahlen je Gemeinde, verteilt nach Ausländern im Raster",
                       "counts per Gemeinde, spread by foreign citizens")}
    src = source.get(str(v["grid.participant_source"]), ("", ""))[0 if de else 1]
    holiday = f"{info.holiday:%d.%m.%Y}" if de else info.holiday.isoformat()
    if de:
        return {"Höchstdauer je Weg": f"{_de(info.threshold_min)} min",
                "Ankunft frühestens": f"{_de(info.early_arrival_min)} min vor Kursbeginn",
                "Ferientag zum Vergleich": holiday, "Fußwege": walk,
                "Umsteigezeit": f"{v['routing.board_slack_s']} s",
                "Potenzielle Teilnehmende": f"{src} × {num(v['grid.participant_factor'])}"}
    return {"Longest journey each way": f"{info.threshold_min:g} min",
            "Earliest arrival": f"{info.early_arrival_min:g} min before the start",
            "Holiday compared": holiday, "Walking": walk,
            "Boarding slack": f"{v['routing.board_slack_s']} s",
            "Potential participants": f"{src} × {num(v['grid.participant_factor'])}"}


def _write_text(path: Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def _maps(results: Results, out_dir: Path, formats: Sequence[str]) -> list[Path]:
    written: list[Path] = []
    if "html" in formats:
        from kurszugang.output.webmap import render_webmap

        written.append(render_webmap(results, out_dir / FILES["html"]))
    for fmt in ("png", "pdf"):
        if fmt in formats:
            from kurszugang.output.figures import render_static_map

            written.append(render_static_map(results, out_dir / FILES[fmt], fmt))
    return written


def render(results: Results, out_dir: str | Path, formats: Sequence[str], *,
           suppress_below: int | None = None, full: bool = True) -> list[Path]:
    """Write every output of ``formats`` into ``out_dir`` from ``results``; returns the files.

    ``full`` also writes the validation report and the settings (a run does; ``kurszugang map``
    and ``kurszugang report`` write only what they are asked for).
    """
    from kurszugang.output.geopackage import (
        GPKG_NAME,
        SURFACES_DIR,
        write_results_geopackage,
        write_surfaces,
    )
    from kurszugang.output.tables import write_tables

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [_write_text(out / FILES["report"], _report_text(results))] if full else []
    written += write_tables(results, out, formats, suppress_below=suppress_below)
    if "gpkg" in formats:
        written.append(write_results_geopackage(results, out / GPKG_NAME))
    if "geotiff" in formats and results.surfaces:
        tifs = write_surfaces(results.surfaces, out / SURFACES_DIR)
        written += [p for t in tifs for p in (t, t.with_suffix(".qml")) if p.exists()]
    written += _maps(results, out, formats)
    if "png" in formats and "plan_standorte" in results.tables:
        from kurszugang.output.figures import render_plan_plots

        written += render_plan_plots(results, out / "plan")
    if "qgis" in formats:
        written += _qgis_project(results, out)
    if full and results.info.settings_toml:
        written.append(_write_text(out / FILES["settings"], results.info.settings_toml))
    if "summary" in formats:
        from kurszugang.output.summary import write_summary

        written += write_summary(results, out, [p.relative_to(out) for p in written])
    return written


def _qgis_project(results: Results, out: Path) -> list[Path]:
    """The QGIS project over the GeoPackage and the surfaces just written."""
    from kurszugang.output.geopackage import GPKG_NAME
    from kurszugang.output.qgis_project import write_run_project

    if not (out / GPKG_NAME).exists():
        return []
    info = results.info
    title = (f"Erreichbarkeit der Integrationskurse – {info.district_name}" if info.language
             == "de" else f"Access to integration courses – {info.district_name}")
    return [write_run_project(out, language=info.language, title=title)]


def _report_text(results: Results) -> str:
    info = results.info
    head = [f"Prüfbericht der Eingaben – {info.district_name}",
            f"kurszugang {info.versions.get('kurszugang', '')}", ""]
    return "\n".join(head + [part + "\n" for part in info.validation])
