"""Travel-time surfaces and isochrones (catchments) of course sites.

A *surface* holds, for every cell of the analysis grid, the shortest public-transport journey
(walking included) that arrives at one course site within the arrival window before a given time:
no later than ``arrive_by`` and no earlier than ``early_arrival_min`` before it, exactly as
:mod:`kurszugang.analysis.coverage` judges the way to a course (reverse RAPTOR over every arrival
second of the window). It is a raster aligned with the grid's cells (EPSG:3035) and can be
written as a GeoTIFF.

*Isochrones* are polygons contoured from a surface for thresholds (default 15/30/45/60/90 min):
the union of the cells whose time falls in each band. They are built from the cell squares
(``rasterio.features.shapes`` on a band-class raster), so every cell centre lies in the band its
time says, bands never overlap, and places that cannot be reached are holes.

The columns are documented in ``docs/analysis.md`` ("Reisezeitflächen und Einzugsbereiche").
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine

from kurszugang.analysis import coverage
from kurszugang.crs import ANALYSIS_CRS, GRID_CRS
from kurszugang.errors import ConfigError, InputError
from kurszugang.routing.router import Points, Router, parse_clock
from kurszugang.routing.walking import de_g
from kurszugang.words import de_number

if TYPE_CHECKING:
    from kurszugang.io.courses import CourseList
    from kurszugang.results import Surface

__all__ = [
    "DEFAULT_THRESHOLDS_MIN",
    "SURFACE_CRS",
    "TravelTimeSurface",
    "isochrones",
    "site_surfaces",
    "travel_time_surface",
]

log = logging.getLogger(__name__)

#: CRS of surfaces and of the isochrones as computed (the Zensus grid's, equal-area).
SURFACE_CRS = GRID_CRS
#: Default isochrone thresholds in minutes.
DEFAULT_THRESHOLDS_MIN: tuple[float, ...] = (15.0, 30.0, 45.0, 60.0, 90.0)
#: Value written for cells without a travel time in the GeoTIFF (a float32 NaN).
GEOTIFF_NODATA = float("nan")

_GRID_NEEDS = ("cell_id", "x", "y", "x_utm", "y_utm")


@dataclass(frozen=True, eq=False)
class TravelTimeSurface:
    """Shortest travel time from every grid cell to one course site, as a raster.

    Attributes
    ----------
    site_id
        The course site.
    minutes
        ``float64`` ``(n_rows, n_cols)``, rows from north to south: minutes (not rounded) of the
        shortest journey arriving in the window; NaN where not reachable within
        ``max_time_min`` and outside the grid.
    transform
        The raster's affine transform (EPSG:3035 metres; cells aligned with the grid's cells).
    crs
        ``"EPSG:3035"``.
    cell_ids
        The grid's ``cell_id`` per grid row (the order of the grid given).
    cell_minutes
        ``float64`` per grid row: the same minutes as ``minutes`` (NaN: not reachable).
    cell_row, cell_col
        ``int64`` per grid row: the raster row and column of the cell.
    site_xy
        The site's position (x, y) in EPSG:25832 metres.
    date
        The service date routed.
    arrive_by
        Latest arrival, seconds after midnight (e.g. the course start).
    early_arrival_min
        Arrivals more than this many minutes before ``arrive_by`` do not count.
    max_time_min
        Journeys longer than this (minutes) count as unreachable.
    """

    site_id: str
    minutes: np.ndarray
    transform: Affine
    crs: str
    cell_ids: np.ndarray
    cell_minutes: np.ndarray
    cell_row: np.ndarray
    cell_col: np.ndarray
    site_xy: tuple[float, float]
    date: dt.date
    arrive_by: int
    early_arrival_min: float
    max_time_min: float

    @property
    def resolution_m(self) -> float:
        """Cell size in metres."""
        return float(self.transform.a)

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_rows, n_cols)`` of the raster."""
        return (int(self.minutes.shape[0]), int(self.minutes.shape[1]))

    def tags(self) -> dict[str, str]:
        """The metadata written into the GeoTIFF (all values are text)."""
        return {
            "site_id": self.site_id,
            "date": self.date.isoformat(),
            "arrive_by": _hhmm(self.arrive_by),
            "early_arrival_min": f"{self.early_arrival_min:g}",
            "max_time_min": f"{self.max_time_min:g}",
            "site_x_25832": f"{self.site_xy[0]:.1f}",
            "site_y_25832": f"{self.site_xy[1]:.1f}",
            "units": "minutes",
            "nodata": "NaN: not reachable within max_time_min, or outside the analysis grid",
            "producer": "kurszugang",
        }

    def to_surface(self) -> Surface:
        """The raster and its metadata as kept in a run's Results."""
        from kurszugang.results import Surface

        t = self.transform
        return Surface(self.site_id, self.minutes.astype(np.float32),
                       (t.a, t.b, t.c, t.d, t.e, t.f), self.crs, self.tags())

    def to_geotiff(self, path: str | Path) -> Path:
        """Write the surface as a one-band float32 GeoTIFF in EPSG:3035.

        Cells without a travel time (not reachable, or outside the grid) hold the nodata value
        NaN. The band description names the site; the dataset tags (:meth:`tags`) record the
        site id, date, arrival time and parameters.

        Parameters
        ----------
        path
            The file to write (its folder must exist); overwritten if present.

        Returns
        -------
        pathlib.Path
            The path written.

        Raises
        ------
        InputError
            If the folder does not exist.

        Examples
        --------
        >>> surface.to_geotiff("reisezeit_KS01.tif")
        PosixPath('reisezeit_KS01.tif')
        >>> import rasterio
        >>> with rasterio.open("reisezeit_KS01.tif") as tif:
        ...     print(tif.crs, tif.dtypes[0], tif.descriptions[0])
        EPSG:3035 float32 Reisezeit zum Kursort KS01 in Minuten / travel time to course site KS01 in minutes
        """
        import rasterio

        out = Path(path)
        if not out.parent.exists():
            raise InputError(f"folder {out.parent} does not exist", path=out)
        n_rows, n_cols = self.shape
        with rasterio.open(
            out, "w", driver="GTiff", height=n_rows, width=n_cols, count=1, dtype="float32",
            crs=self.crs, transform=self.transform, nodata=GEOTIFF_NODATA, compress="deflate",
        ) as dst:
            dst.write(self.minutes.astype(np.float32), 1)
            dst.set_band_description(
                1, f"Reisezeit zum Kursort {self.site_id} in Minuten / "
                   f"travel time to course site {self.site_id} in minutes")
            dst.update_tags(**self.tags())
            dst.update_tags(1, units="minutes")
        log.info("Reisezeitfläche des Kursorts %s (%s × %s Zellen) nach %s geschrieben",
                 self.site_id, de_number(n_rows), de_number(n_cols), out)
        return out


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _check_grid(grid: gpd.GeoDataFrame) -> float:
    """Validate the grid's columns and return its cell size in metres."""
    missing = [c for c in _GRID_NEEDS if c not in grid.columns]
    if missing:
        raise InputError(f"the analysis grid lacks the columns {', '.join(missing)}: build it "
                         "with kurszugang.analysis.grid.analysis_grid")
    if len(grid) == 0:
        raise InputError("the analysis grid has no cells")
    if grid.crs is None or grid.crs.to_epsg() != 3035:
        raise InputError(f"the analysis grid must be in EPSG:3035 (its cell squares), got "
                         f"{grid.crs}")
    bounds = shapely.bounds(np.asarray(grid.geometry.values))
    widths = bounds[:, 2] - bounds[:, 0]
    heights = bounds[:, 3] - bounds[:, 1]
    res = float(np.median(widths))
    if not (res > 0 and np.allclose(widths, res) and np.allclose(heights, res)):
        raise InputError("the analysis grid's cells are not squares of one size")
    return res


def _raster_index(x: np.ndarray, y: np.ndarray, res: float
                  ) -> tuple[np.ndarray, np.ndarray, Affine, tuple[int, int]]:
    """Raster row/column of each cell centre, the transform and the raster shape."""
    x0, y1 = float(x.min()), float(y.max())
    col = np.rint((x - x0) / res).astype(np.int64)
    row = np.rint((y1 - y) / res).astype(np.int64)
    off = np.abs(x - (x0 + col * res)) + np.abs(y - (y1 - row * res))
    if (off > res * 1e-6).any():
        bad = int(np.flatnonzero(off > res * 1e-6)[0])
        raise InputError(f"grid cell {bad} (centre {x[bad]:.1f}, {y[bad]:.1f}) is not on the "
                         f"{res:g} m lattice of the other cells")
    shape = (int(row.max()) + 1, int(col.max()) + 1)
    flat = row * shape[1] + col
    if np.bincount(flat, minlength=shape[0] * shape[1]).max() > 1:
        raise InputError("the analysis grid holds the same cell more than once")
    # Upper-left corner: half a cell left of and above the first centre. (Built directly:
    # rasterio's from_origin goes through a deprecated affine call.)
    transform = Affine(res, 0.0, x0 - res / 2, 0.0, -res, y1 + res / 2)
    return row, col, transform, shape


def _time_there(router: Router, home: Points, site: Points, arrive_by: int,
                early_arrival_min: float, max_time_min: float) -> np.ndarray:
    """Seconds of the shortest journey per origin arriving in the window (NaN: none).

    The same rule as the coverage's way there (:func:`kurszugang.analysis.coverage.time_there`),
    so that surfaces and coverage judge the way to a course identically.
    """
    there = coverage.time_there(router, home, site, arrive_by, early_arrival_min, max_time_min)
    return np.asarray(there, dtype=np.float64)


def travel_time_surface(
    router: Router,
    grid: gpd.GeoDataFrame,
    site_xy: Points | tuple[float, float] | Sequence[float],
    *,
    arrive_by: str | int,
    early_arrival_min: float = coverage.DEFAULT_EARLY_ARRIVAL_MIN,
    max_time_min: float = 90.0,
    site_id: str = "site",
) -> TravelTimeSurface:
    """Shortest travel time from every grid cell to a course site, arriving in a window.

    For each cell (all cells of ``grid``, populated or not) the shortest journey by public
    transport and on foot that reaches the site no later than ``arrive_by`` and no earlier than
    ``early_arrival_min`` before it (exact to the second, as in
    :func:`kurszugang.analysis.coverage.course_access`).

    Parameters
    ----------
    router
        A :class:`~kurszugang.routing.router.Router` for the analysis date.
    grid
        The analysis grid (:func:`kurszugang.analysis.grid.analysis_grid`, EPSG:3035) with
        ``cell_id``, ``x``, ``y`` (centres, EPSG:3035) and ``x_utm``, ``y_utm`` (centres,
        EPSG:25832), usually with ``populated_only=False``.
    site_xy
        The site: one :class:`~kurszugang.routing.router.Points` (its id becomes the site id) or
        an ``(x, y)`` pair in EPSG:25832 metres.
    arrive_by
        Latest arrival, ``"HH:MM"`` or seconds after midnight (e.g. the course start).
    early_arrival_min
        Arriving more than this before ``arrive_by`` does not count (minutes, default 30).
    max_time_min
        Longer journeys count as unreachable (minutes, default 90).
    site_id
        The site's id when ``site_xy`` is a coordinate pair.

    Returns
    -------
    TravelTimeSurface
        The raster (rows north to south) and the minutes per grid row.

    Raises
    ------
    InputError
        If the grid lacks columns, is not in EPSG:3035 or its cells are not on one lattice.
    ConfigError
        If ``early_arrival_min`` is negative, ``max_time_min`` not positive or ``site_xy`` is not
        one point.
    RoutingError
        If ``arrive_by`` is not a clock time, or no cell lies near the walking network.

    Examples
    --------
    >>> router = pool.get(SCHOOL_DAY)
    >>> s = travel_time_surface(router, grid, (750638.4, 5466567.3), arrive_by="08:30",
    ...                         site_id="KS01")
    >>> s.to_geotiff("reisezeit_KS01.tif")
    PosixPath('reisezeit_KS01.tif')
    >>> int((s.minutes <= 30).sum()), int((s.minutes <= 60).sum())  # cells within 30, 60 min
    (844, 4874)
    """
    _check_window(early_arrival_min, max_time_min)
    site = _as_site(site_xy, site_id)
    return _surface(router, _prepare_grid(grid), site, parse_clock(arrive_by),
                    float(early_arrival_min), float(max_time_min))


def _check_window(early_arrival_min: float, max_time_min: float) -> None:
    if not early_arrival_min >= 0 or not math.isfinite(early_arrival_min):
        raise ConfigError(f"early arrival must be a non-negative number of minutes, got "
                          f"{early_arrival_min}")
    if not max_time_min > 0 or not math.isfinite(max_time_min):
        raise ConfigError(f"maximum travel time must be positive, got {max_time_min} min")


@dataclass(frozen=True)
class _GridRaster:
    """The grid's cells as routing origins and their place in the raster."""

    home: Points
    row: np.ndarray
    col: np.ndarray
    transform: Affine
    shape: tuple[int, int]


def _prepare_grid(grid: gpd.GeoDataFrame) -> _GridRaster:
    res = _check_grid(grid)
    row, col, transform, shape = _raster_index(grid["x"].to_numpy(np.float64),
                                               grid["y"].to_numpy(np.float64), res)
    ids = grid["cell_id"].astype(str).to_numpy(dtype=object)
    home = Points(ids, np.column_stack([grid["x_utm"].to_numpy(np.float64),
                                        grid["y_utm"].to_numpy(np.float64)]))
    return _GridRaster(home, row, col, transform, shape)


def _surface(router: Router, cells: _GridRaster, site: Points, deadline: int,
             early_arrival_min: float, max_time_min: float) -> TravelTimeSurface:
    seconds = _time_there(router, cells.home, site, deadline, early_arrival_min, max_time_min)
    minutes = seconds / 60.0
    raster = np.full(cells.shape, np.nan)
    raster[cells.row, cells.col] = minutes  # vectorised scatter into the raster
    reached = int(np.isfinite(minutes).sum())
    log.info("Reisezeitfläche des Kursorts %s mit Ankunft bis %s am %s: %s von %s Zellen "
             "erreichen ihn in %s min", site.ids[0], _hhmm(deadline), router.date,
             de_number(reached), de_number(len(minutes)), de_g(max_time_min))
    return TravelTimeSurface(
        site_id=str(site.ids[0]), minutes=raster, transform=cells.transform, crs=SURFACE_CRS,
        cell_ids=cells.home.ids, cell_minutes=minutes, cell_row=cells.row, cell_col=cells.col,
        site_xy=(float(site.xy[0, 0]), float(site.xy[0, 1])), date=router.date,
        arrive_by=deadline, early_arrival_min=early_arrival_min, max_time_min=max_time_min)


def _as_site(site_xy: Points | tuple[float, float] | Sequence[float], site_id: str) -> Points:
    if isinstance(site_xy, Points):
        if len(site_xy) != 1:
            raise ConfigError(f"a surface is computed for one site, got {len(site_xy)} points")
        return Points(np.asarray(site_xy.ids, dtype=object).astype(str).astype(object),
                      np.asarray(site_xy.xy, dtype=np.float64).reshape(1, 2))
    xy = np.asarray(site_xy, dtype=np.float64).ravel()
    if xy.shape != (2,) or not np.isfinite(xy).all():
        raise ConfigError(f"site_xy must be one (x, y) pair in EPSG:25832 metres, got {site_xy!r}")
    return Points(np.array([str(site_id)], dtype=object), xy.reshape(1, 2))


def site_surfaces(
    router: Router,
    grid: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame | CourseList,
    *,
    arrive_by: str | int,
    early_arrival_min: float = coverage.DEFAULT_EARLY_ARRIVAL_MIN,
    max_time_min: float = 90.0,
    site_ids: Sequence[str] | None = None,
) -> dict[str, TravelTimeSurface]:
    """Travel-time surfaces of several course sites for one arrival time.

    Parameters
    ----------
    router, grid, arrive_by, early_arrival_min, max_time_min
        As in :func:`travel_time_surface`.
    sites
        Course sites with ``site_id`` and point geometries (any CRS), e.g. ``courses.sites``, or
        a :class:`~kurszugang.io.courses.CourseList`.
    site_ids
        Only these sites (default: all).

    Returns
    -------
    dict of str to TravelTimeSurface
        One surface per site id, in the order of ``sites``.

    Raises
    ------
    InputError
        If ``sites`` has no ``site_id`` column or no CRS.
    ConfigError
        If ``site_ids`` names a site that is not in ``sites``.

    Examples
    --------
    >>> router = pool.get(SCHOOL_DAY)
    >>> surfaces = site_surfaces(router, cells, courses, arrive_by="08:30",
    ...                          site_ids=["KS01", "KS04", "KS08"])
    >>> iso = pd.concat([isochrones(s) for s in surfaces.values()])
    >>> iso.pivot(index="site_id", columns="label", values="n_cells")
    label    0-15 min  15-30 min  30-45 min  45-60 min  60-90 min
    site_id
    KS01          356        257        599        350        226
    KS04          173        224        523        340        464
    KS08           91          0          0          0          0
    """
    table = sites if isinstance(sites, gpd.GeoDataFrame) else getattr(sites, "sites", None)
    if not isinstance(table, gpd.GeoDataFrame):
        raise InputError("the course sites must be a GeoDataFrame of points or a CourseList")
    if "site_id" not in table.columns:
        raise InputError("the course sites need a 'site_id' column")
    if table.crs is None:
        raise InputError("the course sites have no CRS: set one with .set_crs(...)")
    pts = table.to_crs(ANALYSIS_CRS)
    ids = pts["site_id"].astype(str).to_numpy(dtype=object)
    keep = np.ones(len(ids), dtype=bool)
    if site_ids is not None:
        wanted = pd.Index([str(s) for s in site_ids])
        unknown = wanted.difference(pd.Index(ids))
        if len(unknown):
            raise ConfigError(f"unknown site id(s) {', '.join(map(repr, unknown))}; the sites "
                              f"are {', '.join(ids)}")
        keep = np.isin(ids, wanted.to_numpy())
    _check_window(early_arrival_min, max_time_min)
    deadline = parse_clock(arrive_by)
    cells = _prepare_grid(grid)
    geom = pts.geometry.representative_point()
    xy = np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()])
    return {  # one routing per site
        str(sid): _surface(router, cells, Points(np.array([sid], dtype=object), xy[i:i + 1]),
                           deadline, float(early_arrival_min), float(max_time_min))
        for i, sid in enumerate(ids) if keep[i]
    }


def _check_thresholds(thresholds: Sequence[float], max_time_min: float) -> np.ndarray:
    try:
        th = np.asarray([float(t) for t in thresholds], dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"isochrone thresholds must be numbers of minutes, got "
                          f"{list(thresholds)!r}") from None
    if len(th) == 0:
        raise ConfigError("give at least one isochrone threshold (minutes)")
    if not np.isfinite(th).all() or (th <= 0).any():
        raise ConfigError(f"isochrone thresholds must be positive minutes, got "
                          f"{', '.join(f'{t:g}' for t in th)}")
    steps = np.diff(th)
    if (steps <= 0).any():
        i = int(np.flatnonzero(steps <= 0)[0])
        raise ConfigError(f"isochrone thresholds must increase strictly: got "
                          f"{', '.join(f'{t:g}' for t in th)} ({th[i + 1]:g} follows {th[i]:g})")
    if th[-1] > max_time_min + 1e-9:
        raise ConfigError(f"isochrone threshold {th[-1]:g} min is above the {max_time_min:g} min "
                          "the surface was computed for: compute it with a larger max_time_min")
    return th


def _as_multipolygon(geom: shapely.Geometry | None) -> shapely.MultiPolygon:
    """A valid MultiPolygon (possibly empty) from a polygonal union result."""
    if geom is None or geom.is_empty:
        return shapely.MultiPolygon()
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = shapely.get_parts(geom)
    polys: list[shapely.Polygon] = []
    for p in parts:  # per part of one band (a handful), never per cell
        if isinstance(p, shapely.Polygon):
            polys.append(p)
        elif isinstance(p, shapely.MultiPolygon):
            polys.extend(shapely.get_parts(p))
    return shapely.MultiPolygon(polys) if polys else shapely.MultiPolygon()


def isochrones(
    surface: TravelTimeSurface,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS_MIN,
    *,
    cumulative: bool = False,
    crs: str = SURFACE_CRS,
) -> gpd.GeoDataFrame:
    """Isochrone polygons of a travel-time surface, one (Multi)Polygon per band.

    Band ``k`` holds the cells whose time ``t`` satisfies ``th[k-1] < t <= th[k]`` (the first band
    ``0 <= t <= th[0]``). Polygons are unions of whole cell squares, so every cell centre lies in
    the band its time says; bands do not overlap; cells not reachable within the last threshold
    lie in no band (holes).

    Parameters
    ----------
    surface
        From :func:`travel_time_surface`.
    thresholds
        Band limits in minutes, strictly increasing, at most the surface's ``max_time_min``
        (default 15, 30, 45, 60, 90).
    cumulative
        Instead of disjoint bands, nested areas "within ``th[k]``" (``band_min`` is 0 for all).
    crs
        CRS of the result: ``"EPSG:3035"`` (default, the grid's; exact cell squares) or another,
        e.g. ``"EPSG:25832"`` for QGIS layers alongside the other results.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per threshold: ``site_id``, ``band_min`` and ``band_max`` (minutes), ``label``
        (``"0-15 min"``, ``"15-30 min"``, …), ``n_cells`` (grid cells in the band), ``area_km2``
        (computed in EPSG:3035, equal-area) and ``geometry`` (MultiPolygon, empty when no cell
        falls in the band).

    Raises
    ------
    ConfigError
        If the thresholds are empty, not positive, not strictly increasing or above the
        surface's ``max_time_min``.

    Examples
    --------
    >>> iso = isochrones(surface, (15, 30, 45))
    >>> iso[["label", "area_km2"]]
           label  area_km2
    0   0-15 min      3.68
    1  15-30 min      4.76
    2  30-45 min     19.64
    >>> isochrones(surface, cumulative=True, crs="EPSG:25832").to_file("iso.gpkg")
    """
    from rasterio.features import shapes

    th = _check_thresholds(thresholds, surface.max_time_min)
    t = surface.minutes
    classes = np.zeros(t.shape, dtype=np.int32)
    ok = np.isfinite(t) & (t <= th[-1])
    classes[ok] = np.searchsorted(th, t[ok], side="left").astype(np.int32) + 1
    geoms: list[shapely.Geometry] = []
    values: list[int] = []
    for g, v in shapes(classes, mask=classes > 0, connectivity=4, transform=surface.transform):
        geoms.append(shapely.geometry.shape(g))  # one per connected region, not per cell
        values.append(int(v))
    geom_arr = np.empty(len(geoms), dtype=object)
    geom_arr[:] = geoms
    val_arr = np.asarray(values, dtype=np.int64)
    invalid = ~shapely.is_valid(geom_arr)
    if invalid.any():
        geom_arr[invalid] = shapely.make_valid(geom_arr[invalid])
    n_cells = np.bincount(classes[ok], minlength=len(th) + 1)[1:]
    bands = [_as_multipolygon(shapely.union_all(geom_arr[val_arr == k + 1]))
             for k in range(len(th))]
    lower = np.concatenate([[0.0], th[:-1]])
    if cumulative:
        acc: list[shapely.MultiPolygon] = []
        for k, band in enumerate(bands):  # one union per threshold
            acc.append(band if k == 0 else _as_multipolygon(shapely.union(acc[-1], band)))
        bands = acc
        n_cells = np.cumsum(n_cells)
        lower = np.zeros(len(th))
    out = gpd.GeoDataFrame(
        {
            "site_id": pd.array([surface.site_id] * len(th), dtype="string"),
            "band_min": lower,
            "band_max": th,
            "label": pd.array([f"{lo:g}-{hi:g} min" for lo, hi in zip(lower, th, strict=True)],
                              dtype="string"),
            "n_cells": n_cells.astype(np.int64),
            "area_km2": shapely.area(np.asarray(bands, dtype=object)) / 1e6,
        },
        geometry=bands, crs=SURFACE_CRS,
    )
    if crs != SURFACE_CRS:
        out = out.to_crs(crs)
        geo = np.array(out.geometry.values, dtype=object)
        bad = ~shapely.is_valid(geo)
        if bad.any():  # reprojected corners can pinch: repair, never drop
            geo[bad] = [_as_multipolygon(g) for g in geo[bad]]
            out = out.set_geometry(gpd.GeoSeries(geo, index=out.index, crs=out.crs))
    return out
