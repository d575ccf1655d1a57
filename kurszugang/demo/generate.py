"""Generate the input files of the fictional demo district "Landkreis Beispiel (fiktiv)".

Deterministic: the same seed gives byte-identical files (fixed ids and order, a fixed GeoPackage
timestamp, fixed zip entry times, no dependence on dict or set order), and the default seed
:data:`kurszugang.demo.DEFAULT_SEED` gives the files bundled in ``kurszugang/demo/data/``.
Regenerate them with::

    python -m kurszugang.demo.generate --out kurszugang/demo/data

Each part of the district draws from its own random stream (spawned from the seed), so changing
one part does not reshuffle the others.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from kurszugang.crs import WEB_CRS
from kurszugang.demo import (
    DEFAULT_SEED,
    DISTRICT_AGS,
    DISTRICT_NAME,
    FEED_END,
    FEED_START,
    FICTIONAL_NOTE,
    HOLIDAY_WEEKDAY,
    SATURDAY,
    SCHOOL_DAY,
    SUNDAY,
    config_text,
    demo_files,
)
from kurszugang.demo._courses import build_courses
from kurszugang.demo._district import CRS, VERWALTUNGSGEMEINSCHAFTEN, District, build_district
from kurszugang.demo._files import csv_text, write_gpkg, write_text, write_zip
from kurszugang.demo._grid import GRID_COLUMNS, build_grid
from kurszugang.demo._gtfs import build_timetable
from kurszugang.demo._network import build_network, osm_xml

__all__ = ["generate", "main"]

logger = logging.getLogger(__name__)

_VG250_COLUMNS = (
    "ADE", "GF", "BSG", "ARS", "AGS", "SDV_ARS", "GEN", "BEZ", "IBZ", "BEM", "NBD", "SN_L",
    "SN_R", "SN_K", "SN_V1", "SN_V2", "SN_G", "ARS_0", "AGS_0", "EWZ", "KFL",
)
_BEM = "fiktiv / fictional"


def _vg250_layers(district: District) -> dict[str, gpd.GeoDataFrame]:
    """The Gemeinden and the Kreis in the BKG VG250 schema (upper-case field names)."""
    gem = district.gemeinden
    ars = gem["ars"]
    # seat of the administration: the VG's seat Gemeinde for members, else the Gemeinde itself
    seats = {"5501": "Probstried", "5502": "Skizzenau", "5503": "Vorlaging"}
    ars_by_name = dict(zip(gem["name"], ars, strict=True))
    sdv = [ars_by_name[seats[v]] if v else a for v, a in zip(gem["vg"], ars, strict=True)]
    area = np.round(gem.geometry.area.to_numpy() / 1e6, 2)
    gem_layer = gpd.GeoDataFrame(
        {
            "ADE": np.full(len(gem), 6, dtype=np.int32),
            "GF": np.full(len(gem), 4, dtype=np.int32),
            "BSG": np.ones(len(gem), dtype=np.int32),
            "ARS": ars,
            "AGS": gem["ags"],
            "SDV_ARS": sdv,
            "GEN": gem["name"],
            "BEZ": gem["bez"],
            "IBZ": gem["ibz"].astype(np.int32),
            "BEM": _BEM,
            "NBD": "ja",
            "SN_L": ars.str[0:2],
            "SN_R": ars.str[2:3],
            "SN_K": ars.str[3:5],
            "SN_V1": ars.str[5:7],
            "SN_V2": ars.str[7:9],
            "SN_G": ars.str[9:12],
            "ARS_0": ars,
            "AGS_0": gem["ags"],
            "EWZ": gem["ewz"].astype(np.int32),
            "KFL": area,
        },
        geometry=gem.geometry.values,
        crs=CRS,
    )
    kreis = district.kreis
    krs_layer = gpd.GeoDataFrame(
        {
            "ADE": np.array([4], dtype=np.int32),
            "GF": np.array([4], dtype=np.int32),
            "BSG": np.array([1], dtype=np.int32),
            "ARS": [DISTRICT_AGS],
            "AGS": [DISTRICT_AGS],
            "SDV_ARS": [ars_by_name["Beispielstadt"]],
            "GEN": [DISTRICT_NAME],
            "BEZ": ["Landkreis"],
            "IBZ": np.array([43], dtype=np.int32),
            "BEM": [_BEM],
            "NBD": ["ja"],
            "SN_L": ["09"],
            "SN_R": ["9"],
            "SN_K": ["99"],
            "SN_V1": ["00"],
            "SN_V2": ["00"],
            "SN_G": ["000"],
            "ARS_0": [DISTRICT_AGS + "0000000"],
            "AGS_0": [DISTRICT_AGS + "000"],
            "EWZ": np.array([int(gem["ewz"].sum())], dtype=np.int32),
            "KFL": [round(float(kreis.geometry.area.iloc[0]) / 1e6, 2)],
        },
        geometry=kreis.geometry.values,
        crs=CRS,
    )
    return {"vg250_gem": gem_layer[[*_VG250_COLUMNS, "geometry"]],
            "vg250_krs": krs_layer[[*_VG250_COLUMNS, "geometry"]]}


def _readme(
    seed: int, district: District, n_nodes: int, n_ways: int, tables: dict[str, pd.DataFrame],
    courses: pd.DataFrame, grid: pd.DataFrame,
) -> str:
    """The README of the generated folder (German and English), marked fictional."""
    gem = district.gemeinden
    vgs = "; ".join(
        f"{name} ({key}: {', '.join(gem.loc[gem['vg'] == key, 'name'])})"
        for key, name in sorted(VERWALTUNGSGEMEINSCHAFTEN.items())
    )
    n_sites = courses["site_id"].nunique()
    n_providers = courses["provider"].nunique()
    lines = [
        f"# {DISTRICT_NAME}: Demo-Daten / demo data",
        "",
        f"**{FICTIONAL_NOTE}.**",
        "",
        "Diese Dateien beschreiben einen erfundenen ländlichen Landkreis in Bayern (Kreisschlüssel "
        f"{DISTRICT_AGS}). Orte, Einwohner, Straßen, Fahrpläne, Kursträger und Kurse sind "
        "erfunden; Ähnlichkeiten mit echten Orten sind zufällig. Sie dienen dazu, "
        "`kurszugang demo` ohne Netzzugang auszuführen.",
        "",
        "These files describe a made-up rural district in Bavaria (Kreis key "
        f"{DISTRICT_AGS}). Places, inhabitants, streets, timetables, course providers and courses "
        "are invented; any resemblance to real places is coincidental. They let `kurszugang demo` "
        "run without network access.",
        "",
        "Erzeugt mit / generated with "
        f"`python -m kurszugang.demo.generate --out DIR --seed {seed}`. Nicht von Hand ändern: "
        "ein Test prüft, dass sie einer frischen Erzeugung gleichen. / Do not edit by hand: a "
        "test checks that they equal a fresh generation.",
        "",
        "| Datei / file | Inhalt / content |",
        "|---|---|",
        f"| `vg250_beispiel.gpkg` | {len(gem)} Gemeinden (Layer `vg250_gem`) und der Kreis "
        f"(`vg250_krs`) im VG250-Schema, EPSG:25832, {int(gem['ewz'].sum()):} Einwohner |",
        f"| `beispiel.osm` | Fußwegenetz, OpenStreetMap-XML: {n_nodes:} Knoten, {n_ways:} Wege |",
        f"| `gtfs_beispiel.zip` | GTFS {FEED_START.isoformat()} bis {FEED_END.isoformat()}: "
        f"{len(tables['routes.txt'])} Linien, {len(tables['stops.txt'])} Haltestellen, "
        f"{len(tables['trips.txt'])} Fahrten |",
        f"| `kursorte_beispiel.csv` | {n_sites} Kursorte von {n_providers} Trägern, "
        f"{len(courses)} Kurse |",
        f"| `zensus_beispiel_100m.csv` | 100-m-Raster (EPSG:3035), {len(grid):} bewohnte Zellen, "
        f"{int(grid['Einwohner'].sum()):} Einwohner, {int(grid['Auslaender'].sum()):} "
        "Ausländer |",
        "",
        f"Verwaltungsgemeinschaften: {vgs}.",
        "",
        "Stichtage / key dates: Schultag / school day "
        f"{SCHOOL_DAY.isoformat()}, Ferientag / holiday weekday {HOLIDAY_WEEKDAY.isoformat()}, "
        f"Samstag {SATURDAY.isoformat()}, Sonntag {SUNDAY.isoformat()}.",
        "",
        "Konventionen / conventions: Fahrten nur an Schultagen haben `service_id` SCHULE; der "
        "Rufbus (Linie 490) hat `route_type` 715, `pickup_type`/`drop_off_type` 2 und "
        "\"Rufbus\" im Namen. Das Raster listet nur bewohnte Zellen und verzichtet auf die "
        "Geheimhaltung des Zensus (keine leeren Felder, kein -1). / School-day trips have "
        "service_id SCHULE; the Rufbus (line 490) has route_type 715, pickup/drop_off_type 2 "
        "and \"Rufbus\" in its name. The grid lists inhabited cells only and has no Zensus "
        "secrecy (no blanks, no -1).",
        "",
        "Mehr / more: `docs/demo-district.md`.",
        "",
    ]
    return "\n".join(lines)


def generate(out_dir: str | Path, *, seed: int = DEFAULT_SEED) -> list[Path]:
    """Generate every file of the demo district into ``out_dir``.

    Parameters
    ----------
    out_dir
        The folder to write to (created if missing; files of the same name are replaced).
    seed
        The random seed; :data:`kurszugang.demo.DEFAULT_SEED` gives the bundled files.

    Returns
    -------
    list of pathlib.Path
        The files written: boundaries, OSM, GTFS, courses, population grid, README and the run
        configuration (as :meth:`kurszugang.demo.DemoFiles.all`).

    Raises
    ------
    ValueError
        If ``seed`` is negative.

    Examples
    --------
    >>> from kurszugang.demo.generate import generate
    >>> paths = generate("beispiel")
    >>> [p.name for p in paths]
    ['vg250_beispiel.gpkg', 'beispiel.osm', 'gtfs_beispiel.zip', 'kursorte_beispiel.csv',
     'zensus_beispiel_100m.csv', 'README.md', 'kurszugang_beispiel.toml']
    >>> from kurszugang.demo import demo_files
    >>> paths[2].read_bytes() == demo_files().gtfs.read_bytes()  # the bundled files
    True
    """
    if int(seed) < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    seed = int(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = demo_files(out)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)]
    rng_district, rng_network, rng_courses, rng_grid, _reserve = streams

    district = build_district(rng_district)
    network = build_network(rng_network, district)
    timetable = build_timetable(district, network, seed=seed)
    courses = build_courses(rng_courses, district, network)
    grid = build_grid(rng_grid, district, network)

    layers = _vg250_layers(district)
    write_gpkg(
        files.boundaries, layers,
        descriptions={
            "vg250_gem": f"Gemeinden, {FICTIONAL_NOTE}",
            "vg250_krs": f"Kreis, {FICTIONAL_NOTE}",
        },
    )
    x0, y0, x1, y1 = (float(round(v, 7)) for v in
                      layers["vg250_krs"].buffer(5000.0).to_crs(WEB_CRS).total_bounds)
    write_text(files.osm, osm_xml(network, seed=seed, extent=(x0, y0, x1, y1)))
    write_zip(files.gtfs, {name: csv_text(t) for name, t in timetable.tables.items()})
    write_text(files.courses, csv_text(courses, sep=";"), bom=True)
    write_text(files.population, csv_text(grid[list(GRID_COLUMNS)], sep=";"))
    write_text(
        files.readme,
        _readme(seed, district, len(network.nodes) + len(network.place_nodes), len(network.ways),
                timetable.tables, courses, grid),
    )
    write_text(files.config, config_text())
    logger.info("Landkreis Beispiel (Seed %d) in %s erzeugt", seed, out)
    return files.all()


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m kurszugang.demo.generate --out DIR [--seed N]``.

    Parameters
    ----------
    argv
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code, 0; prints every file written with its size.

    Raises
    ------
    SystemExit
        With code 2 for bad arguments (e.g. a negative seed), as argparse does.

    Examples
    --------
    >>> main(["--out", "beispiel", "--seed", "7"])
    beispiel/vg250_beispiel.gpkg  (229376 bytes)
    beispiel/beispiel.osm  (318644 bytes)
    beispiel/gtfs_beispiel.zip  (13770 bytes)
    beispiel/kursorte_beispiel.csv  (3360 bytes)
    beispiel/zensus_beispiel_100m.csv  (123392 bytes)
    beispiel/README.md  (2448 bytes)
    beispiel/kurszugang_beispiel.toml  (541 bytes)
    0
    """
    parser = argparse.ArgumentParser(
        prog="python -m kurszugang.demo.generate",
        description="Generate the files of the fictional demo district Landkreis Beispiel.",
    )
    parser.add_argument("--out", required=True, type=Path, help="folder to write the files to")
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED,
        help=f"random seed (default {DEFAULT_SEED}, which gives the bundled files)",
    )
    args = parser.parse_args(argv)
    if args.seed < 0:
        parser.error("--seed must be a non-negative integer")
    for path in generate(args.out, seed=args.seed):
        print(f"{path}  ({path.stat().st_size:} bytes)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
