"""The analysis grid: Zensus-aligned cells over a district, with inhabitants and participants."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kurszugang.errors import ConfigError, InputError
from kurszugang.words import de_number, plural

log = logging.getLogger(__name__)

from kurszugang.crs import ANALYSIS_CRS as WORK_CRS  # noqa: E402
from kurszugang.crs import GRID_CRS  # noqa: E402

PARTICIPANT_SOURCES = ("foreigners", "gemeinde", "both")

#: Columns of the analysis grid, in order.
GRID_COLUMNS = ("cell_id", "x", "y", "x_utm", "y_utm", "ags", "gen", "vg", "in_district",
                "inhabitants", "foreigners", "participants", "geometry")


def _cell_ids(x_ll: np.ndarray, y_ll: np.ndarray, res: int) -> np.ndarray:
    """INSPIRE cell ids ``CRS3035RES{res}mN{north}E{east}`` of lower-left corners."""
    n = y_ll.astype(np.int64).astype(str)
    e = x_ll.astype(np.int64).astype(str)
    return np.char.add(np.char.add(np.char.add(f"CRS3035RES{res}mN", n), "E"), e).astype(object)


def _vg_key(ars: pd.Series) -> pd.Series:
    """Verwaltungsgemeinschaft key (first 9 digits of the ARS) where the Verband part marks one.

    In Bavaria the Verband part (ARS digits 6-9) of a Verwaltungsgemeinschaft starts with 5;
    Einheitsgemeinden carry ``0`` + their own number there and form no VG.
    """
    text = ars.astype("string")
    is_vg = text.str.len().eq(12) & text.str.slice(5, 6).eq("5")
    return text.str.slice(0, 9).where(is_vg.fillna(False))


def analysis_grid(
    gemeinden: gpd.GeoDataFrame,
    population: gpd.GeoDataFrame | None = None,
    *,
    resolution_m: int = 100,
    buffer_m: float = 2000.0,
    participant_source: str = "foreigners",
    participants_per_gemeinde: Mapping[str, float] | pd.Series | None = None,
    participant_factor: float = 1.0,
    populated_only: bool = False,
) -> gpd.GeoDataFrame:
    """Grid cells aligned with the Zensus INSPIRE grid over the Gemeinden plus a buffer.

    Parameters
    ----------
    gemeinden
        Gemeinden of the district (:func:`kurszugang.io.boundaries.read_boundaries`), any CRS;
        columns ``ags``, ``gen`` and, for Verwaltungsgemeinschaften, ``ars``.
    population
        A Zensus grid (:func:`kurszugang.io.population.read_population_grid`) in EPSG:3035 with
        ``x, y, inhabitants, foreigners`` at the same resolution; cells absent from it have no
        inhabitants. ``None``: every cell has 0.
    resolution_m
        Cell size in metres: 100 (default) or 1000.
    buffer_m
        Cells whose centre lies within this distance of the district are included (metres).
    participant_source
        Where potential participants come from: ``"foreigners"`` (the grid's foreign citizens),
        ``"gemeinde"`` (``participants_per_gemeinde`` spread over each Gemeinde's cells in
        proportion to inhabitants) or ``"both"`` (the Gemeinde totals spread in proportion to
        the grid's foreign citizens, falling back to inhabitants where a Gemeinde has none).
    participants_per_gemeinde
        Counts per AGS (mapping or Series), e.g. from the immigration office.
    participant_factor
        Multiplies the participants (e.g. 0.1 when one in ten foreign citizens is a potential
        participant). Documented in docs/analysis.md.
    populated_only
        Keep only cells with inhabitants > 0 (coverage needs only these; surfaces need all).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:3035, one row per cell with the columns of :data:`GRID_COLUMNS`: ``cell_id``
        (INSPIRE id), ``x, y`` (centre, EPSG:3035 m), ``x_utm, y_utm`` (centre, EPSG:25832 m),
        ``ags``/``gen`` (Gemeinde the centre lies in; NA in the buffer), ``vg`` (key of the
        Verwaltungsgemeinschaft, NA if none), ``in_district``, ``inhabitants``, ``foreigners``,
        ``participants`` (float), ``geometry`` (the cell square).

    Raises
    ------
    ConfigError
        For a resolution other than 100 or 1000, a negative buffer or factor, an unknown
        participant source, or ``"gemeinde"``/``"both"`` without counts.
    InputError
        If ``gemeinden`` is empty or has no CRS.

    Examples
    --------
    >>> grid = analysis_grid(gemeinden, population, participant_factor=0.1,
    ...                      populated_only=True)
    >>> grid.groupby("ags")["participants"].sum().round(1).head()
    ags
    09999111    227.5
    09999112     10.1
    09999113      5.5
    09999114     14.8
    09999115     19.6
    Name: participants, dtype: float64
    """
    if resolution_m not in (100, 1000):
        raise ConfigError(f"die Rastergröße muss 100 oder 1000 m sein, nicht {resolution_m}")
    if buffer_m < 0 or participant_factor < 0:
        raise ConfigError("Puffer und Teilnehmerfaktor dürfen nicht negativ sein")
    if participant_source not in PARTICIPANT_SOURCES:
        raise ConfigError(f"die Teilnehmerquelle {participant_source!r} ist unbekannt; erwartet "
                          f"eine von {', '.join(PARTICIPANT_SOURCES)}")
    if participant_source != "foreigners" and participants_per_gemeinde is None:
        raise ConfigError(f"die Teilnehmerquelle {participant_source!r} braucht "
                          "participants_per_gemeinde (Anzahlen je AGS)")
    if gemeinden is None or len(gemeinden) == 0:
        raise InputError("keine Gemeinden für das Analyseraster angegeben")
    if gemeinden.crs is None:
        raise InputError("die Gemeinden haben kein Koordinatensystem")

    gem = gemeinden.to_crs(GRID_CRS).reset_index(drop=True)
    district = shapely.union_all(np.asarray(gem.geometry.values))
    area = district.buffer(buffer_m) if buffer_m > 0 else district
    res = resolution_m
    minx, miny, maxx, maxy = area.bounds
    xs = np.arange(np.floor(minx / res) * res, maxx, res) + res / 2
    ys = np.arange(np.floor(miny / res) * res, maxy, res) + res / 2
    cx, cy = (a.ravel() for a in np.meshgrid(xs, ys))
    shapely.prepare(area)
    inside = shapely.contains_xy(area, cx, cy)
    cx, cy = cx[inside], cy[inside]
    centres = shapely.points(cx, cy)

    gidx, moved = _gemeinde_index(gem, centres)
    valid = gidx >= 0
    safe = np.maximum(gidx, 0)
    def of_gemeinde(values: pd.Series) -> pd.Series:
        return pd.Series(values.to_numpy(dtype=object)[safe], dtype="string").where(valid)

    ags = of_gemeinde(gem["ags"])
    gen = of_gemeinde(gem["gen"])
    vg = of_gemeinde(_vg_key(gem["ars"]) if "ars" in gem.columns
                     else pd.Series([None] * len(gem), dtype="string"))

    inhabitants = np.zeros(len(cx))
    foreigners = np.zeros(len(cx))
    if population is not None and len(population):
        pop = population.to_crs(GRID_CRS) if population.crs and population.crs != GRID_CRS else population
        key = pd.Index(np.round(cx).astype(np.int64) * 10**8 + np.round(cy).astype(np.int64))
        pkey = (np.round(pop["x"].to_numpy(float)).astype(np.int64) * 10**8
                + np.round(pop["y"].to_numpy(float)).astype(np.int64))
        pos = key.get_indexer(pkey)
        hit = pos >= 0
        off_grid = (~hit) & shapely.contains_xy(area, pop["x"].to_numpy(float), pop["y"].to_numpy(float))
        if off_grid.any():
            raise InputError(
                f"{de_number(int(off_grid.sum()))} Bevölkerungszellen im Gebiet liegen nicht auf "
                f"dem {res}-m-Analyseraster (z. B. {pop['cell_id'].to_numpy()[off_grid][0]}): ein "
                f"Raster derselben Auflösung lesen")
        inhabitants[pos[hit]] = pop["inhabitants"].fillna(0).to_numpy(float)[hit]
        foreigners[pos[hit]] = pop["foreigners"].fillna(0).to_numpy(float)[hit]

    participants = _participants(participant_source, ags, inhabitants, foreigners,
                                 participants_per_gemeinde) * participant_factor
    utm = gpd.GeoSeries(centres, crs=GRID_CRS).to_crs(WORK_CRS)
    half = res / 2
    grid = gpd.GeoDataFrame(
        {
            "cell_id": pd.array(_cell_ids(cx - half, cy - half, res), dtype="string"),
            "x": cx,
            "y": cy,
            "x_utm": utm.x.to_numpy(),
            "y_utm": utm.y.to_numpy(),
            "ags": ags.to_numpy(),
            "gen": gen.to_numpy(),
            "vg": vg.to_numpy(),
            "in_district": gidx >= 0,
            "inhabitants": inhabitants,
            "foreigners": foreigners,
            "participants": participants,
        },
        geometry=shapely.box(cx - half, cy - half, cx + half, cy + half),
        crs=GRID_CRS,
    )
    grid.attrs["gemeindefrei"] = _moved_report(gem, moved, inhabitants, participants)
    if populated_only:
        grid = grid[grid["inhabitants"] > 0].reset_index(drop=True)
    log.info("Analyseraster: %s Zellen zu %s m (%s im Landkreis, %s bewohnt), %s Einwohner, "
             "%s mögliche Teilnehmende", de_number(len(grid)), de_number(res),
             de_number(int(grid["in_district"].sum())),
             de_number(int((grid["inhabitants"] > 0).sum())), de_number(grid["inhabitants"].sum()),
             de_number(grid["participants"].sum()))
    return grid


def _gemeinde_index(gem: gpd.GeoDataFrame, centres: np.ndarray) -> tuple[np.ndarray,
                                                                          np.ndarray]:
    """The row of the Gemeinde each centre lies in (-1 outside), and which centres lay in an
    unincorporated area (column ``gemeindefrei``) and were given to the nearest Gemeinde."""
    tree = shapely.STRtree(np.asarray(gem.geometry.values))
    pt, poly = tree.query(centres, predicate="within")
    gidx = np.full(len(centres), -1, dtype=np.int64)
    gidx[pt] = poly
    moved = np.zeros(len(centres), dtype=bool)
    if "gemeindefrei" not in gem.columns:
        return gidx, moved
    free = gem["gemeindefrei"].fillna(False).to_numpy(bool)
    if not free.any() or free.all():
        return gidx, moved
    moved = (gidx >= 0) & free[np.maximum(gidx, 0)]
    own = np.flatnonzero(~free)
    near = shapely.STRtree(np.asarray(gem.geometry.values)[own])
    hit, nearest = near.query_nearest(centres[moved], all_matches=False)
    target = np.full(int(moved.sum()), -1, dtype=np.int64)
    target[hit] = own[nearest]
    gidx[moved] = target
    return gidx, moved


def _moved_report(gem: gpd.GeoDataFrame, moved: np.ndarray, inhabitants: np.ndarray,
                  participants: np.ndarray) -> dict[str, object]:
    """What was done with the cells of unincorporated areas (for the data-coverage table)."""
    n_free = int(gem["gemeindefrei"].fillna(False).astype(bool).sum()) \
        if "gemeindefrei" in gem.columns else 0
    people = float(inhabitants[moved].sum())
    cells = int((moved & (inhabitants > 0)).sum())
    number = f"{people:,.0f}".replace(",", ".")
    text = (f"{n_free} gemeindefreie Gebiete (Staatsforsten, Seen) sind keine Gemeinden und "
            f"stehen in keiner Tabelle; {cells} bewohnte Rasterzellen mit {number} Einwohnern "
            "lagen nach den Grenzdaten in ihnen und zählen zur nächsten Gemeinde.")
    if cells:
        log.warning("%s bewohnte Rasterzellen (%s Einwohner) liegen nach den Grenzdaten in "
                    "gemeindefreien Gebieten; sie zählen zur nächsten Gemeinde", de_number(cells),
                    de_number(people))
    return {"areas": n_free, "cells": cells, "people": people,
            "participants": float(participants[moved].sum()), "text": text}


def _participants(source: str, ags: pd.Series, inhabitants: np.ndarray,
                  foreigners: np.ndarray,
                  per_gemeinde: Mapping[str, float] | pd.Series | None) -> np.ndarray:
    if source == "foreigners":
        return foreigners.copy()
    counts = pd.Series(per_gemeinde, dtype="float64")
    counts.index = counts.index.astype(str)
    weight = inhabitants.copy() if source == "gemeinde" else foreigners.copy()
    frame = pd.DataFrame({"ags": ags, "w": weight, "inh": inhabitants})
    total_w = frame.groupby("ags")["w"].transform("sum").to_numpy(float)
    if source == "both":  # Gemeinden without foreign citizens in the grid: spread by inhabitants
        fallback = total_w <= 0
        weight = np.where(fallback, inhabitants, weight)
        frame["w"] = weight
        total_w = frame.groupby("ags")["w"].transform("sum").to_numpy(float)
    share = np.divide(weight, total_w, out=np.zeros_like(weight), where=total_w > 0)
    out = share * frame["ags"].map(counts).fillna(0).to_numpy(float)
    known = set(frame["ags"].dropna())
    lost = {str(k): float(v) for k, v in counts.items() if k not in known or
            frame.loc[frame["ags"] == k, "w"].sum() <= 0}
    if lost:
        log.warning("die Teilnehmenden von %s (%s Personen) ließen sich nicht verorten: keine "
                    "bewohnte Rasterzelle darin (AGS %s)",
                    plural(len(lost), "Gemeinde", "Gemeinden"), de_number(sum(lost.values())),
                    ", ".join(sorted(lost)[:5]))
    return out
