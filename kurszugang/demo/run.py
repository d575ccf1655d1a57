"""``kurszugang demo``: the whole analysis, as far as it exists, on the fictional demo district.

The run reads every bundled input through the package's readers, checks it, and writes to the
output folder (default ``data/processed/demo/``):

=============================  ====================================================================
file                           content
=============================  ====================================================================
``pruefbericht.txt``           validation report of every input (counts, errors, warnings)
``gemeinden_uebersicht.csv``   one row per Gemeinde and a total row for the Kreis, for German Excel
                               (UTF-8 with BOM, ``;``, decimal comma, AGS and names quoted as
                               text): AGS, Name, Einwohner, Einwohner im Raster, Ausländer im
                               Raster, Ausländeranteil im Raster (%), Haltestellen, Abfahrten am
                               Schultag, Abfahrten in den Ferien, Kursorte, Kurse
``beispiel_eingaben.gpkg``     layers ``gemeinden``, ``kursorte``, ``haltestellen`` in EPSG:25832
``reisezeiten_gemeinden.csv``  per Gemeinde and for the Kreis (German Excel format as above):
                               inhabitants whose grid cell reaches a course site by bus, train and
                               on foot within 45 minutes (median over departures 07:00-07:59, OSM
                               footways), on the school day and on the holiday, and the median
                               travel time to the nearest site
=============================  ====================================================================

and then the whole analysis run (:func:`kurszugang.pipeline.run_analysis` with
:func:`kurszugang.pipeline.demo_config`) into the same folder: coverage at course times on the
school day and the holiday, gaps, class sizes, waiting times, travel subsidy, catchments, as
tables, GeoPackage, GeoTIFFs and maps, plus ``einstellungen.toml`` to repeat the run.

A departure is a stop_time where a passenger can board (``pickup_type`` not 1) and that is not the
last stop of its trip; on-demand departures (``pickup_type`` 2) count. Points (stops, course
sites, grid cell centres) belong to the Gemeinde their point lies in. Later issues extend the run
with coverage at course times and maps.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kurszugang.demo import (
    DISTRICT_AGS,
    FICTIONAL_NOTE,
    HOLIDAY_WEEKDAY,
    SCHOOL_DAY,
    demo_files,
)

__all__ = ["DEFAULT_OUT_DIR", "OUTPUT_FILES", "run_demo"]

#: Where ``kurszugang demo`` writes by default (relative to the current working directory).
DEFAULT_OUT_DIR = Path("data") / "processed" / "demo"
#: The files a demo run writes, in order.
OUTPUT_FILES = ("pruefbericht.txt", "gemeinden_uebersicht.csv", "beispiel_eingaben.gpkg",
                "reisezeiten_gemeinden.csv")
#: Travel-time threshold (minutes) and departure window of the demo's accessibility table.
THRESHOLD_MIN = 45
DEPARTURE = "07:00"
WINDOW_MIN = 60

_OVERVIEW_COLUMNS = (
    "AGS", "Name", "Einwohner", "Einwohner im Raster", "Ausländer im Raster",
    "Ausländeranteil im Raster (%)", "Haltestellen", "Abfahrten am Schultag",
    "Abfahrten in den Ferien", "Kursorte", "Kurse",
)


@dataclass(frozen=True)
class _Inputs:
    gemeinden: Any  # GeoDataFrame, EPSG:25832
    kreis: Any  # GeoDataFrame, EPSG:25832
    feed: Any  # kurszugang.io.gtfs.Feed
    courses: Any  # kurszugang.io.courses.CourseList
    walk: Any  # kurszugang.io.osm.WalkNetwork
    grid: Any  # GeoDataFrame, EPSG:3035


def _validate_all(files: Any) -> tuple[str, int, int]:
    """The validation report text of every input, with the totals of errors and warnings."""
    from kurszugang.io.boundaries import validate_boundaries
    from kurszugang.io.courses import validate_courses
    from kurszugang.io.gtfs import validate_gtfs
    from kurszugang.io.osm import validate_walk_network
    from kurszugang.io.population import validate_population_grid

    checks: list[tuple[Callable[[Path], Any], Path]] = [
        (validate_boundaries, files.boundaries),
        (validate_gtfs, files.gtfs),
        (validate_courses, files.courses),
        (validate_walk_network, files.osm),
        (validate_population_grid, files.population),
    ]
    from kurszugang import __version__

    parts = [
        "Prüfbericht der Eingaben / validation report of the inputs",
        f"Landkreis Beispiel: {FICTIONAL_NOTE}",
        f"kurszugang {__version__}",
        "",
    ]
    n_err = n_warn = 0
    for check, path in checks:
        report = check(path)
        n_err += len(report.errors)
        n_warn += len(report.warnings)
        parts += [report.format(max_per_code=10), ""]
    return "\n".join(parts), n_err, n_warn


def _read_all(files: Any) -> _Inputs:
    from kurszugang.io.boundaries import read_boundaries
    from kurszugang.io.courses import read_courses
    from kurszugang.io.gtfs import read_gtfs
    from kurszugang.io.osm import read_walk_network
    from kurszugang.io.population import read_population_grid

    return _Inputs(
        gemeinden=read_boundaries(files.boundaries, layer="vg250_gem"),
        kreis=read_boundaries(files.boundaries, layer="vg250_krs"),
        feed=read_gtfs(files.gtfs),
        courses=read_courses(files.courses),
        walk=read_walk_network(files.osm),
        grid=read_population_grid(files.population),
    )


def _gemeinde_of(points: Any, gemeinden: Any) -> np.ndarray:
    """The AGS of the Gemeinde each point (GeoSeries, EPSG:25832) lies in, or None."""
    import shapely

    geoms = np.asarray(gemeinden.geometry.values)
    tree = shapely.STRtree(geoms)
    pt_idx, poly_idx = tree.query(np.asarray(points.values), predicate="within")
    out = np.full(len(points), None, dtype=object)
    out[pt_idx] = gemeinden["ags"].to_numpy(dtype=object)[poly_idx]
    return out


def _departures(feed: Any, day: dt.date) -> pd.Series:
    """Number of departures per stop_id on ``day``."""
    st = feed.stop_times  # sorted by trip_id, stop_sequence
    trip = st["trip_id"].to_numpy(dtype=object)
    last = np.append(trip[1:] != trip[:-1], True)
    pickup = st["pickup_type"].fillna(0).to_numpy(dtype=np.int64)
    running = st["trip_id"].isin(feed.trips_on(day)["trip_id"]).to_numpy(dtype=bool)
    mask = running & ~last & (pickup != 1)
    return st.loc[mask].groupby("stop_id").size()


def _stops_table(inputs: _Inputs) -> Any:
    """Stops with their Gemeinde, departures on the key days, lines and on-demand flag."""
    import geopandas as gpd

    feed = inputs.feed
    stops = feed.stops
    if "location_type" in stops.columns:
        stops = stops.loc[stops["location_type"].fillna(0).to_numpy(dtype=np.int64) == 0]
    pts = gpd.GeoSeries(
        gpd.points_from_xy(stops["stop_lon"], stops["stop_lat"]), crs="EPSG:4326"
    ).to_crs("EPSG:25832")
    school = _departures(feed, SCHOOL_DAY)
    holiday = _departures(feed, HOLIDAY_WEEKDAY)
    st = feed.stop_times[["trip_id", "stop_id"]].merge(
        feed.trips[["trip_id", "route_id"]], on="trip_id"
    ).merge(feed.routes[["route_id", "route_short_name"]], on="route_id")
    lines = (
        st.drop_duplicates(["stop_id", "route_short_name"])
        .sort_values(["stop_id", "route_short_name"])
        .groupby("stop_id")["route_short_name"]
        .agg(", ".join)
    )
    on_demand = sorted(feed.on_demand_route_ids())
    demand_stops = set(st.loc[st["route_id"].isin(on_demand), "stop_id"])
    ids = stops["stop_id"].astype(str)
    return gpd.GeoDataFrame(
        {
            "stop_id": ids.to_numpy(),
            "stop_name": stops["stop_name"].astype(str).to_numpy(),
            "ags": _gemeinde_of(pts, inputs.gemeinden),
            "linien": ids.map(lines).fillna("").to_numpy(),
            "rufbus": ids.isin(demand_stops).to_numpy(),
            "abfahrten_schultag": ids.map(school).fillna(0).astype(np.int64).to_numpy(),
            "abfahrten_ferien": ids.map(holiday).fillna(0).astype(np.int64).to_numpy(),
        },
        geometry=pts.to_numpy(),
        crs="EPSG:25832",
    )


def _sites_table(inputs: _Inputs) -> Any:
    """Course sites with their Gemeinde and a summary of their courses."""
    import geopandas as gpd

    sites = inputs.courses.sites
    courses = inputs.courses.courses
    per_site = courses.groupby("site_id").agg(
        kurse=("course_id", "size"),
        kursarten=("course_type", lambda s: ", ".join(sorted(set(s)))),
        freie_plaetze=("free_places", "sum"),
        naechster_start=("next_start", "min"),
    )
    sid = sites["site_id"].astype(str)
    start = sid.map(per_site["naechster_start"])
    return gpd.GeoDataFrame(
        {
            "site_id": sid.to_numpy(),
            "traeger": sites["provider"].astype(str).to_numpy(),
            "name": sites["site_name"].fillna("").astype(str).to_numpy(),
            "adresse": sites["address"].fillna("").astype(str).to_numpy(),
            "ags": _gemeinde_of(sites.geometry, inputs.gemeinden),
            "kurse": sid.map(per_site["kurse"]).fillna(0).astype(np.int64).to_numpy(),
            "kursarten": sid.map(per_site["kursarten"]).fillna("").to_numpy(),
            "kinderbetreuung": sites["has_childcare"].to_numpy(dtype=bool),
            "freie_plaetze": sid.map(per_site["freie_plaetze"]).fillna(0).astype(np.int64)
            .to_numpy(),
            "naechster_start": pd.to_datetime(start).dt.strftime("%Y-%m-%d").fillna("").to_numpy(),
        },
        geometry=sites.geometry.to_numpy(),
        crs="EPSG:25832",
    )


def _overview(inputs: _Inputs, stops: Any, sites: Any) -> pd.DataFrame:
    """One row per Gemeinde (AGS order) and a total row for the Kreis."""
    import geopandas as gpd

    gem = inputs.gemeinden.sort_values("ags").reset_index(drop=True)
    grid = inputs.grid
    centres = gpd.GeoSeries(
        gpd.points_from_xy(grid["x"], grid["y"]), crs=grid.crs
    ).to_crs("EPSG:25832")
    cell_ags = pd.Series(_gemeinde_of(centres, gem), index=grid.index)
    inh = grid["inhabitants"].groupby(cell_ags).sum()
    foreign = grid["foreigners"].groupby(cell_ags).sum()
    per_stop = stops.groupby("ags")
    course_count = sites.groupby("ags")["kurse"].sum()
    ags = gem["ags"]
    table = pd.DataFrame(
        {
            "AGS": ags,
            "Name": gem["gen"],
            "Einwohner": gem["ewz"].fillna(0).astype(np.int64),
            "Einwohner im Raster": ags.map(inh).fillna(0).round().astype(np.int64),
            "Ausländer im Raster": ags.map(foreign).fillna(0).round().astype(np.int64),
            "Haltestellen": ags.map(per_stop.size()).fillna(0).astype(np.int64),
            "Abfahrten am Schultag": ags.map(per_stop["abfahrten_schultag"].sum())
            .fillna(0).astype(np.int64),
            "Abfahrten in den Ferien": ags.map(per_stop["abfahrten_ferien"].sum())
            .fillna(0).astype(np.int64),
            "Kursorte": ags.map(sites.groupby("ags").size()).fillna(0).astype(np.int64),
            "Kurse": ags.map(course_count).fillna(0).astype(np.int64),
        }
    )
    kreis = inputs.kreis
    total = table.drop(columns=["AGS", "Name"]).sum()
    total_row = pd.DataFrame(
        [{"AGS": str(kreis["ags"].iloc[0]) if len(kreis) else DISTRICT_AGS,
          "Name": str(kreis["gen"].iloc[0]) if len(kreis) else "Landkreis",
          **{k: int(v) for k, v in total.items()}}]
    )
    table = pd.concat([table, total_row], ignore_index=True)
    share = 100.0 * table["Ausländer im Raster"] / table["Einwohner im Raster"].where(
        table["Einwohner im Raster"] > 0
    )
    table.insert(5, "Ausländeranteil im Raster (%)", share.round(1))
    return table[list(_OVERVIEW_COLUMNS)]


def _nearest_site_minutes(inputs: _Inputs, day: dt.date) -> np.ndarray:
    """Per grid cell: median travel time (minutes) to the nearest course site, NaN if none."""
    import geopandas as gpd

    from kurszugang.analysis.nearest import nearest_site_minutes
    from kurszugang.routing.router import Points, Router

    grid = inputs.grid
    centres = gpd.GeoSeries(gpd.points_from_xy(grid["x"], grid["y"]), crs=grid.crs).to_crs(
        "EPSG:25832")
    cells = Points(grid["cell_id"].astype(str).to_numpy(dtype=object),
                   np.column_stack([centres.x.to_numpy(), centres.y.to_numpy()]))
    sites = inputs.courses.sites
    targets = Points(sites["site_id"].astype(str).to_numpy(dtype=object),
                     np.column_stack([sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()]))
    return nearest_site_minutes(Router(inputs.feed, day, walk_network=inputs.walk), cells, targets,
                                departure=DEPARTURE, window=WINDOW_MIN, max_time_min=120)


def _accessibility(inputs: _Inputs) -> pd.DataFrame:
    """Per Gemeinde and the Kreis: inhabitants reaching a course site within the threshold."""
    import geopandas as gpd

    from kurszugang.analysis.nearest import weighted_median_by

    gem = inputs.gemeinden.sort_values("ags").reset_index(drop=True)
    grid = inputs.grid
    centres = gpd.GeoSeries(gpd.points_from_xy(grid["x"], grid["y"]), crs=grid.crs).to_crs(
        "EPSG:25832")
    cell_ags = pd.Series(_gemeinde_of(centres, gem), index=grid.index)
    inh = grid["inhabitants"].fillna(0).to_numpy(dtype=np.float64)
    cols: dict[str, Any] = {"AGS": gem["ags"], "Name": gem["gen"]}
    per_ags = {"Einwohner im Raster": pd.Series(inh).groupby(cell_ags.to_numpy()).sum()}
    for label, day in (("Schultag", SCHOOL_DAY), ("Ferientag", HOLIDAY_WEEKDAY)):
        best = _nearest_site_minutes(inputs, day)
        ok = np.nan_to_num(best, nan=np.inf) <= THRESHOLD_MIN
        per_ags[f"Einwohner mit Kursort in {THRESHOLD_MIN} min ({label})"] = (
            pd.Series(inh * ok).groupby(cell_ags.to_numpy()).sum())
        if label == "Schultag":  # population-weighted median (unreachable = infinite)
            per_ags["Median Reisezeit zum nächsten Kursort (min, Schultag)"] = (
                weighted_median_by(cell_ags.to_numpy(), best, inh))
    for name, series in per_ags.items():
        cols[name] = gem["ags"].map(series)
    table = pd.DataFrame(cols)
    counts = [c for c in table.columns if c.startswith("Einwohner")]
    table[counts] = table[counts].fillna(0).round().astype(np.int64)
    total = {"AGS": DISTRICT_AGS, "Name": "Landkreis Beispiel (fiktiv)",
             **{c: int(table[c].sum()) for c in counts}}
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    base = table["Einwohner im Raster"].where(table["Einwohner im Raster"] > 0)
    for label in ("Schultag", "Ferientag"):
        col = f"Einwohner mit Kursort in {THRESHOLD_MIN} min ({label})"
        table.insert(int(list(table.columns).index(col)) + 1, f"Anteil ({label}, %)",
                     (100.0 * table[col] / base).round(1))
    med_col = "Median Reisezeit zum nächsten Kursort (min, Schultag)"
    table[med_col] = table[med_col].replace(np.inf, np.nan)
    return table


def _write_overview(table: pd.DataFrame, path: Path, text_columns: tuple[str, ...] = ("AGS", "Name")
                    ) -> Path:
    """CSV for German Excel: UTF-8 with BOM, ``;``, decimal comma, text fields quoted."""
    out = table.copy()
    for col in text_columns:
        out[col] = '"' + out[col].astype(str).str.replace('"', '""', regex=False) + '"'
    text = out.to_csv(
        index=False, sep=";", decimal=",", lineterminator="\r\n", quoting=csv.QUOTE_NONE,
        float_format="%.1f",
    )
    path.write_bytes(("\ufeff" + text).encode("utf-8"))
    return path


def run_demo(
    out_dir: str | Path = DEFAULT_OUT_DIR,
    *,
    quiet: bool = False,
    inputs: str | Path | None = None,
) -> list[Path]:
    """Run the analysis on the demo district and write its outputs.

    Parameters
    ----------
    out_dir
        Folder for the outputs (created if missing); default ``data/processed/demo`` relative
        to the current working directory.
    quiet
        If True, print nothing; otherwise print the files written and headline counts.
    inputs
        A folder written by :func:`kurszugang.demo.generate.generate` to use instead of the
        bundled files (e.g. another seed).

    Returns
    -------
    list of pathlib.Path
        The files written: those of :data:`OUTPUT_FILES`, then those of the analysis run.

    Raises
    ------
    kurszugang.errors.InputError
        If an input cannot be read (only possible with a damaged ``inputs`` folder).

    Examples
    --------
    >>> from kurszugang.demo.run import run_demo
    >>> paths = run_demo("/tmp/demo", quiet=True)  # doctest: +SKIP
    >>> [p.name for p in paths]  # doctest: +SKIP
    ['pruefbericht.txt', 'gemeinden_uebersicht.csv', 'beispiel_eingaben.gpkg']
    """
    from kurszugang.demo._files import write_gpkg

    files = demo_files(inputs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report_text, n_err, n_warn = _validate_all(files)
    data = _read_all(files)
    stops = _stops_table(data)
    sites = _sites_table(data)
    overview = _overview(data, stops, sites)

    access = _accessibility(data)

    paths = [out / name for name in OUTPUT_FILES]
    paths[0].write_bytes(report_text.encode("utf-8"))
    _write_overview(overview, paths[1])
    _write_overview(access, paths[3])
    from kurszugang.pipeline import demo_config, headline_text, run_analysis

    run = run_analysis(demo_config(out), progress=False)
    gem = data.gemeinden.sort_values("ags").reset_index(drop=True)
    by_ags = overview.set_index("AGS")
    gem_layer = gem[["ags", "ars", "gen", "bez", "geometry"]].rename(columns={"gen": "name"})
    for src, dst in (
        ("Einwohner", "einwohner"), ("Einwohner im Raster", "einwohner_raster"),
        ("Ausländer im Raster", "auslaender_raster"), ("Haltestellen", "haltestellen"),
        ("Abfahrten am Schultag", "abfahrten_schultag"),
        ("Abfahrten in den Ferien", "abfahrten_ferien"), ("Kursorte", "kursorte"),
        ("Kurse", "kurse"),
    ):
        gem_layer[dst] = gem["ags"].map(by_ags[src]).to_numpy(dtype=np.int64)
    note = f"Landkreis Beispiel, {FICTIONAL_NOTE}"
    write_gpkg(
        paths[2],
        {"gemeinden": gem_layer, "kursorte": sites, "haltestellen": stops},
        descriptions={
            "gemeinden": f"Gemeinden mit Kennzahlen. {note}",
            "kursorte": f"Kursorte mit ihren Kursen. {note}",
            "haltestellen": f"Haltestellen mit Abfahrten am Schultag {SCHOOL_DAY} und "
            f"Ferientag {HOLIDAY_WEEKDAY}. {note}",
        },
    )
    if not quiet:
        feed = data.feed
        total = overview.iloc[-1]
        print(f"{total['Name']}: Demo-Lauf / demo run ({FICTIONAL_NOTE})")
        print(
            f"  Eingaben geprüft / inputs checked: 5 Dateien, {n_err} Fehler / errors, "
            f"{n_warn} Warnungen / warnings"
        )
        print(
            f"  {len(gem)} Gemeinden, {int(total['Einwohner']):,} Einwohner; "
            f"{len(stops)} Haltestellen, {len(feed.trips):,} Fahrten "
            f"({int(total['Abfahrten am Schultag']):,} Abfahrten am Schultag {SCHOOL_DAY}, "
            f"{int(total['Abfahrten in den Ferien']):,} am Ferientag {HOLIDAY_WEEKDAY}); "
            f"{len(sites)} Kursorte, {int(total['Kurse'])} Kurse; "
            f"{len(data.grid):,} Rasterzellen; Fußwegenetz {data.walk.n_nodes:,} Knoten, "
            f"{data.walk.n_edges:,} Kanten"
        )
        acc = access.iloc[-1]
        print(
            f"  Kursort in {THRESHOLD_MIN} min erreichbar (Median der Abfahrten {DEPARTURE}-"
            f"07:59, Bus, Bahn, zu Fuß): Schultag {acc['Anteil (Schultag, %)']:.1f} % der "
            f"Einwohner, Ferientag {acc['Anteil (Ferientag, %)']:.1f} %"
        )
        print(headline_text(run))
        print("  Geschrieben / written:")
        for p in [*paths, *run.files]:
            print(f"    {p}")
    return [*paths, *run.files]
