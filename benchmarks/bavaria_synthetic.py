"""Generate a Bavaria-size synthetic data set: the demo district tiled under 96 Kreis keys.

The benchmark of the all-districts run (``[district] keys = "alle"``) needs a statewide input that
can be built offline. This script copies the fictional demo district "Landkreis Beispiel" ``n``
times (default 96, as many as Bavaria has Kreise) onto a grid of tiles ``spacing_km`` apart and
writes one statewide file of each kind::

    .venv/bin/python benchmarks/bavaria_synthetic.py              # into benchmarks/.data/bayern/
    .venv/bin/python benchmarks/bavaria_synthetic.py --n 3 --columns 2 --out /tmp/bayern3

Layout: tile ``k`` (1-based) lies in column ``(k - 1) % columns`` and row ``(k - 1) // columns``
(row 0 in the north) of a grid centred at about 10.5° E, 49.2° N (:data:`GRID_CENTRE`, so that
the default grid lies within the extent the course reader takes for Germany). It is the Kreis
``09`` + ``100 + k`` (``09101`` ... ``09196``), named "Landkreis Beispiel k (fiktiv)". Its GTFS
ids are prefixed ``t<k>:`` (``t07:401-0-full-MOFR-0608``) except the stop ids, whose DELFI-style
Kreis part is rewritten (``de:09999:1001`` becomes ``de:09107:1001``); services (calendar.txt,
calendar_dates.txt) are shared by all tiles, so the school-day and holiday semantics of the demo
hold in every tile.

Projections: each tile is shifted by whole kilometres in EPSG:3035 (``spacing_km`` apart), so the
copied Zensus cells stay on the INSPIRE 100 m and 1 km grids. Boundaries, stops and course sites
are shifted by one translation per tile in EPSG:25832: the one that moves the demo Kreis's
centroid exactly like the EPSG:3035 shift (rounded to whole metres). The two projections differ
slightly (scale and grid north), so away from the centroid a cell moves by up to about 60 m more
or less than the boundaries (at the edge of a tile of the default set); a copied cell whose
centre would leave its Gemeinde is moved by whole 100 m steps to the nearest cell centre at least
1 m inside it (merged with a cell already there). Every Gemeinde and every Kreis of the set thus
holds exactly the inhabitants of the demo's; the moves are counted in the README and in the
returned :class:`BavariaSet`.

Only the demo's boundaries, timetable, courses and population grid are tiled, not its walking
network (``beispiel.osm``). Keep the output in ``benchmarks/.data/`` (git-ignored) or a
temporary folder, never in the repository.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kurszugang.crs import ANALYSIS_CRS, GRID_CRS, WEB_CRS, transformer
from kurszugang.demo import DEFAULT_SEED, DISTRICT_AGS, FICTIONAL_NOTE, demo_files
from kurszugang.io.courses import GERMANY_BBOX

__all__ = [
    "DEFAULT_OUT",
    "FILE_NAMES",
    "GRID_CENTRE",
    "MAX_TILES",
    "BavariaSet",
    "Tile",
    "generate_bavaria",
    "main",
    "tile_layout",
    "write_config",
]

ROOT = Path(__file__).resolve().parents[1]
#: Where the set goes by default (git-ignored).
DEFAULT_OUT = ROOT / "benchmarks" / ".data" / "bayern"
#: The files written (kind -> name).
FILE_NAMES = {
    "boundaries": "vg250_bayern_synthetisch.gpkg",
    "gtfs": "gtfs_bayern_synthetisch.zip",
    "population": "zensus_bayern_synthetisch_100m.csv",
    "courses": "kursorte_bayern_synthetisch.csv",
    "readme": "README.md",
}
#: Where the middle of the grid lies, EPSG:3035 metres (about 10.5° E, 49.2° N): chosen so that
#: the default grid of 12 x 8 tiles 60 km apart lies within the extent the course reader accepts
#: as Germany (:data:`kurszugang.io.courses.GERMANY_BBOX`, 5.5-15.5° E, 47-55.5° N).
GRID_CENTRE = (4_357_000, 2_899_000)
#: Largest number of tiles: the Kreis keys 09101 ... 09999 have three digits after ``09``.
MAX_TILES = 899

_CELL = 100
# Key fields of the VG250 schema that start with the Kreis key (rewritten per tile).
_KEY_FIELDS = ("ARS", "AGS", "SDV_ARS", "ARS_0", "AGS_0")
# GTFS id columns that get the tile prefix, per file (stop ids are rekeyed instead).
_PREFIXED = {
    "agency.txt": ("agency_id",),
    "routes.txt": ("route_id", "agency_id"),
    "trips.txt": ("route_id", "trip_id", "block_id", "shape_id"),
    "stop_times.txt": ("trip_id",),
    "transfers.txt": ("from_route_id", "to_route_id", "from_trip_id", "to_trip_id"),
    "frequencies.txt": ("trip_id",),
    "shapes.txt": ("shape_id",),
}
_STOP_ID_COLUMNS = ("stop_id", "parent_station", "from_stop_id", "to_stop_id")
# Files written once for all tiles.
_SHARED = ("calendar.txt", "calendar_dates.txt", "feed_info.txt")
# Cell steps tried when a copied cell left its Gemeinde: up to 5 cells (500 m) each way.
_NUDGE_STEPS = 5
# A cell centre must lie this far inside its Gemeinde (metres), so that the centre-in-polygon
# test gives the same Gemeinde in EPSG:25832 and EPSG:3035.
_INSIDE_MARGIN_M = 1.0

_UTM_TO_GRID = transformer(ANALYSIS_CRS, GRID_CRS)
_GRID_TO_UTM = transformer(GRID_CRS, ANALYSIS_CRS)
_WEB_TO_UTM = transformer(WEB_CRS, ANALYSIS_CRS)
_UTM_TO_WEB = transformer(ANALYSIS_CRS, WEB_CRS)


@dataclass(frozen=True)
class Tile:
    """One copy of the demo district.

    Attributes
    ----------
    number
        1-based tile number.
    key
        Its Kreis key (5 digits, ``"09107"`` for tile 7).
    name
        Its Kreis name (``"Landkreis Beispiel 7 (fiktiv)"``).
    prefix
        Prefix of its GTFS, site and course ids (``"t07:"``).
    column, row
        Position in the grid (row 0 in the north).
    shift_grid
        Shift of its population cells in EPSG:3035, metres (whole kilometres).
    shift_utm
        Shift of its boundaries, stops and sites in EPSG:25832, metres (whole metres).
    """

    number: int
    key: str
    name: str
    prefix: str
    column: int
    row: int
    shift_grid: tuple[int, int]
    shift_utm: tuple[float, float]


@dataclass(frozen=True)
class BavariaSet:
    """What :func:`generate_bavaria` wrote.

    Attributes
    ----------
    out_dir
        The folder.
    paths
        The files written (kind -> path; kinds as in :data:`FILE_NAMES`).
    tiles
        The tiles in key order.
    counts
        Sizes: ``gemeinden``, ``kreise`` (features), ``agencies``, ``stops``, ``routes``,
        ``trips``, ``stop_times``, ``calendar_dates`` (records), ``cells``, ``inhabitants``,
        ``foreigners``, ``sites``, ``courses``; ``stop_times_bytes`` (uncompressed).
    moved_cells
        ``projection_m``: the largest distance between a copied cell's centre and the point
        where the EPSG:25832 shift of its tile puts the demo cell's centre (metres; the two
        projections' difference). Copied cells moved back into their Gemeinde (see the module
        docstring), their
        ``inhabitants``, the largest move ``max_m`` (metres), the cells ``merged`` with a cell
        already there and the cells of the demo that lie in no Gemeinde (``outside``, kept
        unmoved).
    seconds
        Time to generate, per file kind and ``total``.
    """

    out_dir: Path
    paths: dict[str, Path]
    tiles: tuple[Tile, ...]
    counts: dict[str, int]
    moved_cells: dict[str, float]
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Source:
    """The demo district's files, read as they are (text columns kept as text)."""

    gem: gpd.GeoDataFrame
    krs: gpd.GeoDataFrame
    gtfs: dict[str, pd.DataFrame]
    courses: pd.DataFrame
    grid: pd.DataFrame


def _check_arguments(n: int, columns: int, spacing_km: float) -> None:
    """Refuse a tile count, column count or spacing the layout cannot take."""
    if not 1 <= n <= MAX_TILES:
        raise ValueError(f"n must be between 1 and {MAX_TILES} (Kreis keys 09101 to 09999), "
                         f"got {n}")
    if columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns}")
    if not (math.isfinite(spacing_km) and float(spacing_km).is_integer()):
        raise ValueError(f"spacing_km must be a whole number of kilometres (so that the Zensus "
                         f"cells stay on the 1 km grid), got {spacing_km}")


def tile_layout(
    n: int, *, columns: int, spacing_km: int, centre_utm: tuple[float, float],
    grid_centre: tuple[int, int] = GRID_CENTRE,
) -> tuple[Tile, ...]:
    """The tiles of a grid centred on ``grid_centre``.

    Parameters
    ----------
    n
        Number of tiles (1 to :data:`MAX_TILES`).
    columns
        Tiles per row.
    spacing_km
        Distance between neighbouring tiles in EPSG:3035, whole kilometres.
    centre_utm
        The point of the source district that is moved exactly (its Kreis centroid), EPSG:25832
        metres.
    grid_centre
        Where that point goes for the middle of the grid, EPSG:3035 metres (default
        :data:`GRID_CENTRE`); rounded so that every tile's shift is whole kilometres.

    Returns
    -------
    tuple of Tile
        In tile order (keys ``09101``, ``09102``, ...).

    Raises
    ------
    ValueError
        For ``n``, ``columns`` or ``spacing_km`` out of range.

    Examples
    --------
    >>> tiles = tile_layout(3, columns=2, spacing_km=60, centre_utm=(749_000.0, 5_467_000.0))
    >>> [(t.key, t.prefix, t.column, t.row) for t in tiles]  # doctest: +NORMALIZE_WHITESPACE
    [('09101', 't01:', 0, 0), ('09102', 't02:', 1, 0), ('09103', 't03:', 0, 1)]
    >>> tiles[1].shift_grid[0] - tiles[0].shift_grid[0]
    60000
    """
    _check_arguments(n, columns, spacing_km)
    step = int(spacing_km)
    cols = min(n, columns)
    rows = -(-n // columns)
    k = np.arange(n)
    row, col = np.divmod(k, columns)
    # offsets in whole km: (2 c - (cols - 1)) * step / 2, floored where it is odd
    dx_km = np.floor((2 * col - (cols - 1)) * step / 2).astype(np.int64)
    dy_km = np.floor(((rows - 1) - 2 * row) * step / 2).astype(np.int64)
    cx, cy = _UTM_TO_GRID.transform(*centre_utm)
    dx_km += round((grid_centre[0] - cx) / 1000.0)
    dy_km += round((grid_centre[1] - cy) / 1000.0)
    ex, ey = _GRID_TO_UTM.transform(cx + 1000.0 * dx_km, cy + 1000.0 * dy_km)
    ux = np.round(np.asarray(ex) - centre_utm[0])
    uy = np.round(np.asarray(ey) - centre_utm[1])
    width = max(2, len(str(n)))
    return tuple(
        Tile(number=i + 1, key=f"09{101 + i:03d}", name=f"Landkreis Beispiel {i + 1} (fiktiv)",
             prefix=f"t{i + 1:0{width}d}:", column=int(col[i]), row=int(row[i]),
             shift_grid=(int(dx_km[i]) * 1000, int(dy_km[i]) * 1000),
             shift_utm=(float(ux[i]), float(uy[i])))
        for i in range(n)
    )


# --- reading the source ----------------------------------------------------------------------


def _read_text_csv(fh: IO[bytes] | Path, sep: str = ",") -> pd.DataFrame:
    """A CSV with every column as text, blank fields as empty strings (nothing reinterpreted)."""
    return pd.read_csv(fh, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _read_source(folder: Path) -> _Source:
    """The demo files in ``folder`` (as written by :mod:`kurszugang.demo.generate`)."""
    files = demo_files(folder)
    gem = gpd.read_file(files.boundaries, layer="vg250_gem", engine="pyogrio")
    krs = gpd.read_file(files.boundaries, layer="vg250_krs", engine="pyogrio")
    with zipfile.ZipFile(files.gtfs) as zf:
        gtfs = {}
        for name in zf.namelist():
            with zf.open(name) as fh:
                gtfs[name] = _read_text_csv(fh)
    courses = _read_text_csv(files.courses, sep=";")
    grid = pd.read_csv(files.population, sep=";", dtype={"Gitter_ID_100m": str})
    for label, frame in (("vg250_gem", gem), ("vg250_krs", krs)):
        if not frame["AGS"].str.startswith(DISTRICT_AGS).all():
            raise ValueError(f"{files.boundaries} layer {label}: every AGS must start with the "
                             f"demo's Kreis key {DISTRICT_AGS}")
    values = grid.drop(columns=["Gitter_ID_100m", "x_mp_100m", "y_mp_100m"])
    if (values < 0).to_numpy().any() or values.isna().to_numpy().any():
        raise ValueError(f"{files.population}: the tiling sums cell values, so blank or "
                         "negative (no value) fields are not supported")
    return _Source(gem=gem, krs=krs, gtfs=gtfs, courses=courses, grid=grid)


def _load_source(seed: int) -> _Source:
    """The demo district of ``seed``: the bundled files for the default seed, else generated."""
    if seed == DEFAULT_SEED:
        return _read_source(demo_files().boundaries.parent)
    from kurszugang.demo.generate import generate

    with tempfile.TemporaryDirectory(prefix="beispiel-") as tmp:
        generate(tmp, seed=seed)
        return _read_source(Path(tmp))


# --- boundaries ------------------------------------------------------------------------------


def _shifted(geoms: gpd.GeoSeries, shift: tuple[float, float]) -> np.ndarray:
    """Geometries translated by ``shift`` (metres in their CRS)."""
    offset = np.asarray(shift, dtype=float)
    return np.asarray(shapely.transform(np.asarray(geoms.values), lambda c: c + offset))


def _rekeyed(layer: gpd.GeoDataFrame, tile: Tile) -> gpd.GeoDataFrame:
    """One tile's copy of a VG250 layer: keys rewritten to the tile's Kreis, geometry shifted."""
    out = layer.copy()
    for name in _KEY_FIELDS:
        if name in out.columns:
            out[name] = tile.key + out[name].str[len(DISTRICT_AGS):]
    if "SN_R" in out.columns:
        out["SN_R"] = tile.key[2]
    if "SN_K" in out.columns:
        out["SN_K"] = tile.key[3:5]
    out["geometry"] = _shifted(layer.geometry, tile.shift_utm)
    return out


def _tile_boundaries(src: _Source, tiles: Sequence[Tile]) -> dict[str, gpd.GeoDataFrame]:
    """The Gemeinden and Kreise of every tile, in tile order."""
    gem = pd.concat([_rekeyed(src.gem, t) for t in tiles], ignore_index=True)
    krs = []
    for t in tiles:
        one = _rekeyed(src.krs, t)
        one["GEN"] = t.name
        krs.append(one)
    return {"vg250_gem": gpd.GeoDataFrame(gem, crs=src.gem.crs),
            "vg250_krs": _apart(gpd.GeoDataFrame(pd.concat(krs, ignore_index=True),
                                                 crs=src.krs.crs))}


def _apart(krs: gpd.GeoDataFrame, gap_m: float = 1000.0) -> gpd.GeoDataFrame:
    """The Kreise, checked to lie at least ``gap_m`` apart (tiles must not overlap)."""
    geoms = np.asarray(krs.geometry.values)
    i, j = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=gap_m)
    close = i < j
    if close.any():
        a, b = krs["AGS"].iloc[i[close][0]], krs["AGS"].iloc[j[close][0]]
        raise ValueError(f"the tiles {a} and {b} lie less than {gap_m:.0f} m apart: use a "
                         "larger spacing_km")
    return krs


def _write_boundaries(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    """Both layers into a new GeoPackage (an existing file is replaced)."""
    path.unlink(missing_ok=True)
    descriptions = {"vg250_gem": "Gemeinden", "vg250_krs": "Kreise"}
    for i, (name, gdf) in enumerate(layers.items()):
        gdf.to_file(path, layer=name, driver="GPKG", engine="pyogrio", mode="a" if i else "w",
                    layer_options={"DESCRIPTION": f"{descriptions[name]}, Bayern synthetisch, "
                                                  f"{FICTIONAL_NOTE}"})


# --- the timetable ---------------------------------------------------------------------------


def _tile_stop_ids(values: pd.Series, tile: Tile) -> pd.Series:
    """Stop ids of a tile: ``de:09999:`` becomes ``de:<key>:``, other ids get the prefix."""
    own = f"de:{DISTRICT_AGS}:"
    rekeyed = f"de:{tile.key}:" + values.str[len(own):]
    out = values.where(~values.str.startswith(own), rekeyed)
    other = (values != "") & ~values.str.startswith(own)
    return out.where(~other, tile.prefix + values)


def _tile_table(table: pd.DataFrame, name: str, tile: Tile,
                stops_utm: tuple[np.ndarray, np.ndarray] | None) -> pd.DataFrame:
    """One tile's copy of a GTFS table: ids prefixed or rekeyed, stops moved."""
    out = table.copy()
    for col in _PREFIXED.get(name, ()):
        if col in out.columns:
            out[col] = out[col].where(out[col] == "", tile.prefix + out[col])
    for col in _STOP_ID_COLUMNS:
        if col in out.columns:
            out[col] = _tile_stop_ids(out[col], tile)
    if name == "stops.txt" and stops_utm is not None:
        x, y = stops_utm
        lon, lat = _UTM_TO_WEB.transform(x + tile.shift_utm[0], y + tile.shift_utm[1])
        out["stop_lon"] = np.char.mod("%.7f", np.round(lon, 7))
        out["stop_lat"] = np.char.mod("%.7f", np.round(lat, 7))
    return out


def _feed_info(table: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """feed_info.txt of the statewide feed (one record)."""
    out = table.copy()
    if "feed_publisher_name" in out.columns:
        out["feed_publisher_name"] = ("kurszugang Benchmark: Bayern synthetisch, "
                                      f"{n}-mal Landkreis Beispiel (fiktiv / fictional)")
    if "feed_version" in out.columns:
        out["feed_version"] = f"bayern-synthetisch-n{n}-seed{seed}"
    return out


def _csv_bytes(table: pd.DataFrame, *, header: bool) -> bytes:
    return table.to_csv(index=False, header=header, lineterminator="\n").encode("utf-8")


def _write_feed(path: Path, src: _Source, tiles: Sequence[Tile], seed: int) -> dict[str, int]:
    """The statewide feed, written member by member and tile by tile (one tile's copy of a
    table in memory at a time); returns the records per file and the size of stop_times.txt."""
    stops = src.gtfs["stops.txt"]
    stops_utm = _WEB_TO_UTM.transform(stops["stop_lon"].astype(float).to_numpy(),
                                      stops["stop_lat"].astype(float).to_numpy())
    counts: dict[str, int] = {}
    part = path.with_name(path.name + ".part")
    with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, table in src.gtfs.items():
            with zf.open(name, "w", force_zip64=True) as fh:
                written = fh.write(_csv_bytes(table.iloc[:0], header=True))
                if name in _SHARED:
                    one = _feed_info(table, len(tiles), seed) if name == "feed_info.txt" else table
                    written += fh.write(_csv_bytes(one, header=False))
                    counts[name] = len(one)
                else:
                    written += sum(fh.write(_csv_bytes(_tile_table(table, name, t, stops_utm),
                                                       header=False)) for t in tiles)
                    counts[name] = len(table) * len(tiles)
            if name == "stop_times.txt":
                counts["stop_times_bytes"] = written
    part.replace(path)
    return counts


# --- the population grid ---------------------------------------------------------------------


def _gemeinde_of(points_utm: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    """Index of the polygon each point lies in, -1 for none."""
    tree = shapely.STRtree(polygons)
    pt, poly = tree.query(shapely.points(points_utm), predicate="within")
    out = np.full(len(points_utm), -1, dtype=np.int64)
    out[pt] = poly
    return out


def _in_own(x: np.ndarray, y: np.ndarray, shift: np.ndarray, own: np.ndarray,
            inner: np.ndarray) -> np.ndarray:
    """Whether EPSG:3035 centres ``x, y`` of a tile (its EPSG:25832 ``shift`` per point) lie at
    least the margin inside their own Gemeinde ``own`` (indices into ``inner``)."""
    ux, uy = _GRID_TO_UTM.transform(x, y)
    found = _gemeinde_of(np.column_stack([ux - shift[:, 0], uy - shift[:, 1]]), inner)
    return found == own


def _nudge(x: np.ndarray, y: np.ndarray, shift: np.ndarray, own: np.ndarray,
           inner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """New centres for cells that left their Gemeinde: the nearest cell centre (whole 100 m
    steps) at least the margin inside it, up to :data:`_NUDGE_STEPS` cells away."""
    r = np.arange(-_NUDGE_STEPS, _NUDGE_STEPS + 1)
    sx, sy = (a.ravel() for a in np.meshgrid(r, r))
    order = np.lexsort((sx, sy, np.hypot(sx, sy)))[1:]  # nearest first, without (0, 0)
    sx, sy = sx[order] * _CELL, sy[order] * _CELL
    m, k = len(x), len(sx)
    cx = (x[:, None] + sx[None, :]).ravel()
    cy = (y[:, None] + sy[None, :]).ravel()
    ok = _in_own(cx, cy, np.repeat(shift, k, axis=0), np.repeat(own, k), inner).reshape(m, k)
    if not ok.any(axis=1).all():
        bad = int(np.flatnonzero(~ok.any(axis=1))[0])
        raise RuntimeError(f"no cell centre within {_NUDGE_STEPS * _CELL} m of "
                           f"{x[bad]:.0f}, {y[bad]:.0f} (EPSG:3035) lies inside its Gemeinde")
    first = ok.argmax(axis=1)
    return x + sx[first], y + sy[first]


def _tile_grid(src: _Source, tiles: Sequence[Tile]) -> tuple[pd.DataFrame, dict[str, float]]:
    """The population cells of every tile (sorted by cell id) and what was moved."""
    g = src.grid
    x0 = g["x_mp_100m"].to_numpy(np.int64)
    y0 = g["y_mp_100m"].to_numpy(np.int64)
    plain = np.asarray(src.gem.geometry.values)
    inner = np.asarray(shapely.buffer(plain, -_INSIDE_MARGIN_M))
    # the Gemeinde of each demo cell as the analysis sees it: its centre in the polygon
    ux, uy = _GRID_TO_UTM.transform(x0.astype(float), y0.astype(float))
    own = _gemeinde_of(np.column_stack([ux, uy]), plain)
    grid_shift = np.array([t.shift_grid for t in tiles], dtype=np.int64)
    utm_shift = np.array([t.shift_utm for t in tiles], dtype=float)
    n, m = len(tiles), len(g)
    x = (x0[None, :] + grid_shift[:, 0:1]).ravel()
    y = (y0[None, :] + grid_shift[:, 1:2]).ravel()
    shift = np.repeat(utm_shift, m, axis=0)
    owns = np.tile(own, n)
    checked = owns >= 0
    ok = np.ones(n * m, dtype=bool)
    ok[checked] = _in_own(x[checked].astype(float), y[checked].astype(float), shift[checked],
                          owns[checked], inner)
    bad = np.flatnonzero(~ok)
    nx, ny = x.astype(float), y.astype(float)
    if len(bad):
        nx[bad], ny[bad] = _nudge(nx[bad], ny[bad], shift[bad], owns[bad], inner)
    values = [c for c in g.columns if c not in ("Gitter_ID_100m", "x_mp_100m", "y_mp_100m")]
    cells = pd.DataFrame({"x": nx.astype(np.int64), "y": ny.astype(np.int64)})
    for col in values:
        cells[col] = np.tile(g[col].to_numpy(), n)
    merged = cells.groupby(["y", "x"], as_index=False, sort=True)[values].sum()
    ll_x, ll_y = merged["x"] - _CELL // 2, merged["y"] - _CELL // 2
    out = pd.DataFrame({"Gitter_ID_100m": "CRS3035RES100mN" + ll_y.astype(str) + "E"
                        + ll_x.astype(str),
                        "x_mp_100m": merged["x"], "y_mp_100m": merged["y"]})
    for col in values:
        out[col] = merged[col].to_numpy()
    moves = np.hypot(nx[bad] - x[bad], ny[bad] - y[bad])
    # how far the EPSG:3035 shift puts a cell from where the EPSG:25832 shift would
    tx, ty = _GRID_TO_UTM.transform(x.astype(float), y.astype(float))
    apart = np.hypot(tx - shift[:, 0] - np.tile(ux, n), ty - shift[:, 1] - np.tile(uy, n))
    report = {"projection_m": float(apart.max()), "cells": float(len(bad)),
              "inhabitants": float(np.tile(g["Einwohner"].to_numpy(), n)[bad].sum())
              if "Einwohner" in g.columns else 0.0,
              "max_m": float(moves.max()) if len(bad) else 0.0,
              "merged": float(n * m - len(out)), "outside": float((~checked).sum())}
    return out.sort_values("Gitter_ID_100m", kind="stable", ignore_index=True), report


# --- the course list -------------------------------------------------------------------------


def _tile_courses(courses: pd.DataFrame, tiles: Sequence[Tile]) -> pd.DataFrame:
    """The course list of every tile: site and course ids prefixed, sites moved."""
    x, y = _WEB_TO_UTM.transform(courses["lon"].astype(float).to_numpy(),
                                 courses["lat"].astype(float).to_numpy())
    parts = []
    for t in tiles:
        one = courses.copy()
        one["site_id"] = t.prefix + one["site_id"]
        one["course_id"] = t.prefix + one["course_id"]
        lon, lat = _UTM_TO_WEB.transform(x + t.shift_utm[0], y + t.shift_utm[1])
        one["lon"] = np.char.mod("%.7f", np.round(lon, 7))
        one["lat"] = np.char.mod("%.7f", np.round(lat, 7))
        parts.append(one)
    return pd.concat(parts, ignore_index=True)


def _outside_germany(x: np.ndarray, y: np.ndarray, tiles: Sequence[Tile]) -> int:
    """How many copies of the EPSG:25832 points ``x, y`` fall outside :data:`GERMANY_BBOX`."""
    shift = np.array([t.shift_utm for t in tiles], dtype=float)
    lon, lat = _UTM_TO_WEB.transform((x[None, :] + shift[:, 0:1]).ravel(),
                                     (y[None, :] + shift[:, 1:2]).ravel())
    west, south, east, north = GERMANY_BBOX
    lon, lat = np.asarray(lon), np.asarray(lat)
    return int(((lon < west) | (lon > east) | (lat < south) | (lat > north)).sum())


# --- README ----------------------------------------------------------------------------------


def _tile_rows(tiles: Sequence[Tile]) -> list[str]:
    """The README's table of tiles."""
    rows = ["| Kreis | Name | Präfix / prefix | Spalte, Zeile / column, row | "
            "Verschiebung EPSG:3035 (m) | Verschiebung EPSG:25832 (m) |",
            "|---|---|---|---|---|---|"]
    rows += [f"| {t.key} | {t.name} | `{t.prefix}` | {t.column}, {t.row} | "
             f"{t.shift_grid[0]}, {t.shift_grid[1]} | {t.shift_utm[0]:.0f}, "
             f"{t.shift_utm[1]:.0f} |" for t in tiles]
    return rows


def _readme(tiles: Sequence[Tile], counts: dict[str, int], moved: dict[str, float], *,
            seed: int, spacing_km: int, columns: int) -> str:
    """The README of the set (German and English), marked fictional."""
    n = len(tiles)
    return "\n".join([
        "# Bayern synthetisch: Landkreis Beispiel (fiktiv), "
        f"{n}-mal / {n} times",
        "",
        f"**{FICTIONAL_NOTE}. Alle {n} Landkreise dieses Ordners sind Kopien davon / all {n} "
        "districts in this folder are copies of it.**",
        "",
        f"Eingabedaten für Benchmarks: der erfundene Demo-Landkreis, {n}-mal auf einem Raster "
        f"von {columns} Spalten im Abstand von {spacing_km} km kopiert, unter den "
        f"Kreisschlüsseln {tiles[0].key} bis {tiles[-1].key}. Nicht von Hand ändern, nicht ins "
        "Repository legen. / Benchmark input: the made-up demo district copied "
        f"{n} times on a grid of {columns} columns {spacing_km} km apart, under the Kreis keys "
        f"{tiles[0].key} to {tiles[-1].key}. Do not edit, do not put into the repository.",
        "",
        "Erzeugt mit / generated with `python benchmarks/bavaria_synthetic.py "
        f"--n {n} --columns {columns} --spacing-km {spacing_km} --seed {seed}`.",
        "",
        "| Datei / file | Inhalt / content |",
        "|---|---|",
        f"| `{FILE_NAMES['boundaries']}` | {counts['gemeinden']} Gemeinden (Layer `vg250_gem`), "
        f"{counts['kreise']} Kreise (`vg250_krs`), VG250-Schema, EPSG:25832 |",
        f"| `{FILE_NAMES['gtfs']}` | GTFS: {counts['agencies']} Betreiber, {counts['routes']} "
        f"Linien, {counts['stops']} Haltestellen, {counts['trips']} Fahrten, "
        f"{counts['stop_times']} stop_times; Verkehrstage gemeinsam / shared services |",
        f"| `{FILE_NAMES['population']}` | 100-m-Raster (EPSG:3035), {counts['cells']} bewohnte "
        f"Zellen, {counts['inhabitants']} Einwohner, {counts['foreigners']} Ausländer |",
        f"| `{FILE_NAMES['courses']}` | {counts['sites']} Kursorte, {counts['courses']} Kurse |",
        "",
        "Ids: GTFS-Ids tragen das Präfix der Kachel (`t07:`), Haltestellen den Kreisschlüssel "
        "(`de:09107:1001`), Kursorte und Kurse das Präfix (`t07:KS01`, `t07:KS01-1`). / GTFS ids "
        "carry the tile prefix, stop ids the Kreis key, sites and courses the prefix.",
        "",
        "Projektionen / projections: Jede Kachel ist in EPSG:3035 um ganze Kilometer verschoben "
        "(die Rasterzellen bleiben auf dem INSPIRE-Raster), Grenzen, Haltestellen und Kursorte "
        "in EPSG:25832 um ganze Meter (exakt am Schwerpunkt des Kreises). Die beiden "
        f"Projektionen weichen leicht voneinander ab (hier bis {moved['projection_m']:.0f} m "
        "am Rand einer Kachel); eine Zelle, deren Mittelpunkt dadurch ihre "
        "Gemeinde verlassen hätte, ist in 100-m-Schritten auf die nächste Zelle mindestens "
        f"1 m innerhalb verschoben: {moved['cells']:.0f} Zellen mit "
        f"{moved['inhabitants']:.0f} Einwohnern, höchstens {moved['max_m']:.0f} m, "
        f"{moved['merged']:.0f} mit einer vorhandenen Zelle zusammengelegt. Jede Gemeinde hat "
        "so genau die Einwohner ihres Vorbilds. / Tiles are shifted by whole kilometres in "
        "EPSG:3035 and by whole metres in EPSG:25832 (exact at the Kreis centroid; the "
        "projections differ by up to the figure above at a tile's edge); a cell "
        "whose centre would have left its Gemeinde was moved by 100 m steps to the nearest "
        "cell at least 1 m inside it (counts above), so every Gemeinde keeps its inhabitants.",
        "",
        f"Außerhalb / outside {GERMANY_BBOX} (lon, lat; der Kursleser warnt dort / the course "
        f"reader warns there): {counts['stops_outside_germany']} Haltestellen / stops, "
        f"{counts['courses_outside_germany']} Kurse / courses.",
        "",
        "Nicht enthalten / not included: das Fußwegenetz (`beispiel.osm`) / the walking network.",
        "",
        *_tile_rows(tiles),
        "",
    ])


# --- the whole set ---------------------------------------------------------------------------


def _say(quiet: bool, text: str) -> None:
    if not quiet:
        print(text, flush=True)


def _layout_for(src: _Source, n: int, *, columns: int, spacing_km: int) -> tuple[Tile, ...]:
    """The tiles for the source district, refusing a spacing at which they would overlap."""
    x0, y0, x1, y1 = src.krs.total_bounds
    extent = max(x1 - x0, y1 - y0)
    if spacing_km * 1000 < extent + 2 * _NUDGE_STEPS * _CELL:
        raise ValueError(f"spacing_km {spacing_km} is too small: the demo district is "
                         f"{extent / 1000:.1f} km across, so tiles would overlap; use at least "
                         f"{math.ceil(extent / 1000 + 1)}")
    centroid = src.krs.geometry.iloc[0].centroid
    return tile_layout(n, columns=columns, spacing_km=spacing_km,
                       centre_utm=(float(centroid.x), float(centroid.y)))


def _outside(src: _Source, tiles: Sequence[Tile]) -> dict[str, int]:
    """Copies of stops and courses outside :data:`GERMANY_BBOX`."""
    stops, courses = src.gtfs["stops.txt"], src.courses
    return {
        "stops_outside_germany": _outside_germany(*_WEB_TO_UTM.transform(
            stops["stop_lon"].astype(float).to_numpy(),
            stops["stop_lat"].astype(float).to_numpy()), tiles),
        "courses_outside_germany": _outside_germany(*_WEB_TO_UTM.transform(
            courses["lon"].astype(float).to_numpy(),
            courses["lat"].astype(float).to_numpy()), tiles),
    }


def _write_set(src: _Source, tiles: Sequence[Tile], paths: dict[str, Path], *, seed: int,
               quiet: bool, seconds: dict[str, float]) -> tuple[dict[str, int], dict[str, float]]:
    """Write the four data files (timed into ``seconds``); returns the sizes and the moves."""
    def timed(kind: str, t0: float) -> None:
        seconds[kind] = time.perf_counter() - t0
        _say(quiet, f"  {paths[kind].name}: {seconds[kind]:.1f} s, "
                    f"{paths[kind].stat().st_size / 2**20:.1f} MiB")

    t0 = time.perf_counter()
    layers = _tile_boundaries(src, tiles)
    _write_boundaries(paths["boundaries"], layers)
    timed("boundaries", t0)
    t0 = time.perf_counter()
    feed = _write_feed(paths["gtfs"], src, tiles, seed)
    timed("gtfs", t0)
    t0 = time.perf_counter()
    grid, moved = _tile_grid(src, tiles)
    grid.to_csv(paths["population"], sep=";", index=False, lineterminator="\n")
    timed("population", t0)
    t0 = time.perf_counter()
    courses = _tile_courses(src.courses, tiles)
    courses.to_csv(paths["courses"], sep=";", index=False, lineterminator="\n",
                   encoding="utf-8-sig")
    timed("courses", t0)
    counts = {
        "gemeinden": len(layers["vg250_gem"]), "kreise": len(layers["vg250_krs"]),
        "agencies": feed.get("agency.txt", 0), "stops": feed["stops.txt"],
        "routes": feed["routes.txt"], "trips": feed["trips.txt"],
        "stop_times": feed["stop_times.txt"], "calendar_dates": feed.get("calendar_dates.txt", 0),
        "stop_times_bytes": feed["stop_times_bytes"],
        "cells": len(grid), "inhabitants": int(grid["Einwohner"].sum()),
        "foreigners": int(grid["Auslaender"].sum()),
        "sites": int(courses["site_id"].nunique()), "courses": len(courses),
        **_outside(src, tiles),
    }
    return counts, moved


def generate_bavaria(
    out_dir: str | Path = DEFAULT_OUT,
    *,
    n: int = 96,
    columns: int = 12,
    spacing_km: int = 60,
    seed: int = DEFAULT_SEED,
    quiet: bool = True,
) -> BavariaSet:
    """Write the demo district tiled ``n`` times into ``out_dir`` (see the module docstring).

    Parameters
    ----------
    out_dir
        The folder (created if missing; files of the same name are replaced). Default
        ``benchmarks/.data/bayern/`` (git-ignored).
    n
        Number of tiles (Kreise), 1 to :data:`MAX_TILES`; 96 as in Bavaria.
    columns
        Tiles per row of the grid.
    spacing_km
        Distance between neighbouring tiles, whole kilometres; more than the demo district's
        extent (about 40 km), so that tiles do not overlap.
    seed
        Seed of the demo district copied (:data:`kurszugang.demo.DEFAULT_SEED`: the bundled
        files; another seed generates the demo afresh).
    quiet
        Print no progress.

    Returns
    -------
    BavariaSet
        The files, the tiles, the sizes, the cells moved and the times.

    Raises
    ------
    ValueError
        For ``n``, ``columns`` or ``spacing_km`` out of range, or tiles that would overlap.

    Examples
    --------
    >>> s = generate_bavaria("/tmp/bayern3", n=3, columns=2)  # doctest: +SKIP
    >>> s.tiles[1].key, s.counts["stops"]  # doctest: +SKIP
    ('09102', 123)
    """
    _check_arguments(n, columns, spacing_km)
    if int(seed) < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    started = time.perf_counter()
    src = _load_source(int(seed))
    tiles = _layout_for(src, n, columns=columns, spacing_km=int(spacing_km))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {kind: out / name for kind, name in FILE_NAMES.items()}
    seconds = {"read": time.perf_counter() - started}
    _say(quiet, f"writing {n} tiles of Landkreis Beispiel into {out}")
    counts, moved = _write_set(src, tiles, paths, seed=int(seed), quiet=quiet, seconds=seconds)
    if counts["stops_outside_germany"] or counts["courses_outside_germany"]:
        _say(False, f"warning: {counts['stops_outside_germany']} stops and "
                    f"{counts['courses_outside_germany']} courses lie outside "
                    f"{GERMANY_BBOX} (lon/lat), where the course reader warns")
    paths["readme"].write_text(_readme(tiles, counts, moved, seed=int(seed),
                                       spacing_km=int(spacing_km), columns=columns),
                               encoding="utf-8")
    seconds["total"] = time.perf_counter() - started
    _say(quiet, f"done in {seconds['total']:.1f} s")
    return BavariaSet(out_dir=out, paths=paths, tiles=tiles, counts=counts, moved_cells=moved,
                      seconds=seconds)


def write_config(path: Path, paths: dict[str, Path], out: Path, *,
                 district: str = 'keys = "alle"', population: Path | None = None,
                 formats: Sequence[str] | None = None) -> Path:
    """A run config over the set (``district`` is the body of its [district] section): the
    demo's school day and holiday, participant factor 0.05, output to ``out``."""
    from kurszugang.demo import HOLIDAY_WEEKDAY, SCHOOL_DAY

    listed = "" if formats is None else \
        "formats = [" + ", ".join(f'"{f}"' for f in formats) + "]\n"
    path.write_text(f"""[district]
{district}

[inputs]
boundaries = "{paths['boundaries']}"
gtfs = "{paths['gtfs']}"
courses = "{paths['courses']}"
population = "{population or paths['population']}"

[dates]
school_day = {SCHOOL_DAY.isoformat()}
holiday = {HOLIDAY_WEEKDAY.isoformat()}

[grid]
participant_factor = 0.05

[output]
dir = "{out}"
{listed}""", encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python benchmarks/bavaria_synthetic.py [--out DIR] [--n 96] ...``.

    Parameters
    ----------
    argv
        The arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0; prints the files with their sizes, the record counts and the cells moved.

    Examples
    --------
    >>> main(["--n", "3", "--columns", "2", "--out", "/tmp/bayern3"])  # doctest: +SKIP
    0
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"folder to write to (default {DEFAULT_OUT})")
    parser.add_argument("--n", type=int, default=96, help="number of tiles (default 96)")
    parser.add_argument("--columns", type=int, default=12, help="tiles per row (default 12)")
    parser.add_argument("--spacing-km", type=int, default=60,
                        help="distance between tiles in km (default 60)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"seed of the demo district (default {DEFAULT_SEED}: the bundled one)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    args = parser.parse_args(argv)
    try:
        result = generate_bavaria(args.out, n=args.n, columns=args.columns,
                                  spacing_km=args.spacing_km, seed=args.seed, quiet=args.quiet)
    except ValueError as exc:
        parser.error(str(exc))
    for path in result.paths.values():
        print(f"{path}  ({path.stat().st_size:,} bytes)")
    print(", ".join(f"{k} {v:,}" for k, v in result.counts.items()))
    m = result.moved_cells
    print(f"EPSG:3035 and EPSG:25832 shifts differ by up to {m['projection_m']:.0f} m; "
          f"cells moved into their Gemeinde: {m['cells']:.0f} ({m['inhabitants']:.0f} "
          f"inhabitants, at most {m['max_m']:.0f} m, {m['merged']:.0f} merged)")
    print(f"time: {result.seconds['total']:.1f} s")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
