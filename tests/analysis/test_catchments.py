"""Travel-time surfaces and isochrones on the demo district (kurszugang.analysis.catchments)."""

from __future__ import annotations

import datetime as dt
import itertools
import logging

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from rasterio.transform import rowcol

from kurszugang.analysis.catchments import (
    TravelTimeSurface,
    isochrones,
    site_surfaces,
    travel_time_surface,
)
from kurszugang.analysis.coverage import RouterPool
from kurszugang.analysis.grid import analysis_grid
from kurszugang.demo import SCHOOL_DAY, demo_files
from kurszugang.errors import ConfigError, InputError
from kurszugang.io.boundaries import read_boundaries
from kurszugang.io.courses import read_courses
from kurszugang.io.gtfs import read_gtfs
from kurszugang.io.osm import read_walk_network
from kurszugang.routing.router import Points

THRESHOLDS = (15.0, 30.0, 45.0, 60.0, 90.0)


@pytest.fixture(scope="module")
def demo():
    files = demo_files()
    gemeinden = read_boundaries(files.boundaries, layer="vg250_gem")
    courses = read_courses(files.courses)
    pool = RouterPool(read_gtfs(files.gtfs), read_walk_network(files.osm))
    # The whole district, every cell (populated or not), as the surfaces need.
    grid = analysis_grid(gemeinden, None, buffer_m=500)
    return grid, courses, pool.get(SCHOOL_DAY)


@pytest.fixture(scope="module")
def surface(demo):
    grid, courses, router = demo
    return site_surfaces(router, grid, courses, arrive_by="08:30", site_ids=["KS01"])["KS01"]


def _band_masks(minutes: np.ndarray, thresholds: tuple[float, ...]) -> list[np.ndarray]:
    """Expected band membership per cell, written out independently of the module."""
    masks = []
    lower = -np.inf
    for th in thresholds:
        with np.errstate(invalid="ignore"):
            masks.append(np.isfinite(minutes) & (minutes > lower) & (minutes <= th))
        lower = th
    return masks


def test_surface_covers_every_cell_and_matches_the_raster(demo, surface):
    grid, courses, _ = demo
    assert surface.crs == "EPSG:3035"
    assert len(surface.cell_minutes) == len(grid)
    # Each cell centre maps to its (row, col) through the transform, and the raster holds the
    # cell's value there.
    t = surface.transform
    col_f = (grid["x"].to_numpy() - t.c) / t.a
    row_f = (grid["y"].to_numpy() - t.f) / t.e
    np.testing.assert_allclose(col_f, surface.cell_col + 0.5)
    np.testing.assert_allclose(row_f, surface.cell_row + 0.5)
    np.testing.assert_array_equal(surface.minutes[surface.cell_row, surface.cell_col],
                                  surface.cell_minutes)
    # Raster cells that are no grid cell hold NaN; the count of values equals the reached cells.
    reached = np.isfinite(surface.cell_minutes)
    assert np.isfinite(surface.minutes).sum() == reached.sum()
    assert 1000 < reached.sum() < len(grid)  # a rural district: far from all stops is unreached
    assert np.nanmax(surface.cell_minutes) <= 90
    # The cell holding the site is among the quickest: a short walk.
    site = courses.sites.set_index("site_id").to_crs("EPSG:3035").geometry["KS01"]
    at_site = shapely.contains_xy(np.asarray(grid.geometry.values), site.x, site.y)
    assert at_site.sum() == 1
    assert surface.cell_minutes[at_site][0] < 5
    assert surface.cell_minutes[at_site][0] == np.nanmin(surface.cell_minutes)


def test_surface_from_coordinates_equals_surface_from_points(demo, surface):
    grid, _, router = demo
    part = grid.iloc[::50]
    by_pair = travel_time_surface(router, part, surface.site_xy, arrive_by=8 * 3600 + 1800,
                                  site_id="KS01")
    by_points = travel_time_surface(
        router, part, Points(np.array(["KS01"], dtype=object), np.array([surface.site_xy])),
        arrive_by="08:30")
    np.testing.assert_array_equal(by_pair.cell_minutes, by_points.cell_minutes)
    # A sub-grid gets the same times as the whole grid (cells are independent origins).
    np.testing.assert_array_equal(by_pair.cell_minutes, surface.cell_minutes[::50])
    assert by_pair.arrive_by == 30600 and by_pair.date == SCHOOL_DAY


def test_geotiff_reads_back_as_the_cell_values(demo, surface, tmp_path):
    grid, _, _ = demo
    path = surface.to_geotiff(tmp_path / "ks01.tif")
    with rasterio.open(path) as src:
        band = src.read(1)
        assert src.count == 1 and band.dtype == np.float32
        assert src.crs.to_epsg() == 3035
        assert src.transform == surface.transform
        assert np.isnan(src.nodata)
        assert "KS01" in src.descriptions[0]
        tags = src.tags()
        assert (tags["site_id"], tags["arrive_by"], tags["early_arrival_min"],
                tags["max_time_min"], tags["date"]) == ("KS01", "08:30", "30", "90",
                                                        "2026-03-10")
        rows, cols = rowcol(src.transform, grid["x"].to_numpy(), grid["y"].to_numpy())
    rows, cols = np.asarray(rows), np.asarray(cols)
    np.testing.assert_array_equal(rows, surface.cell_row)
    np.testing.assert_array_equal(cols, surface.cell_col)
    np.testing.assert_array_equal(band[rows, cols], surface.cell_minutes.astype(np.float32))
    np.testing.assert_array_equal(np.isnan(band), np.isnan(surface.minutes))


def test_isochrone_bands_are_valid_disjoint_and_hold_their_cells(demo, surface):
    grid, _, _ = demo
    iso = isochrones(surface, THRESHOLDS)
    assert list(iso["label"]) == ["0-15 min", "15-30 min", "30-45 min", "45-60 min", "60-90 min"]
    assert list(iso["band_min"]) == [0, 15, 30, 45, 60]
    assert list(iso["band_max"]) == list(THRESHOLDS)
    assert iso.crs.to_epsg() == 3035
    geoms = np.asarray(iso.geometry.values)
    assert shapely.is_valid(geoms).all()
    assert (shapely.get_type_id(geoms) == 6).all()  # MultiPolygon
    for a, b in itertools.combinations(range(len(iso)), 2):
        assert shapely.area(shapely.intersection(geoms[a], geoms[b])) == pytest.approx(0, abs=1e-6)
    x, y = grid["x"].to_numpy(), grid["y"].to_numpy()
    masks = _band_masks(surface.cell_minutes, THRESHOLDS)
    for k, expected in enumerate(masks):
        inside = shapely.contains_xy(geoms[k], x, y)
        np.testing.assert_array_equal(inside, expected)
        assert iso["n_cells"].iloc[k] == expected.sum()
        assert iso["area_km2"].iloc[k] == pytest.approx(expected.sum() * 0.01)
    # Unreachable cells (and those beyond the last threshold) lie in no band.
    in_any = np.zeros(len(x), dtype=bool)
    for g in geoms:
        in_any |= shapely.contains_xy(g, x, y)
    assert not in_any[~np.isfinite(surface.cell_minutes)].any()
    assert in_any.sum() == sum(m.sum() for m in masks)


def test_cumulative_isochrones_nest(demo, surface):
    grid, _, _ = demo
    bands = isochrones(surface, THRESHOLDS)
    cum = isochrones(surface, THRESHOLDS, cumulative=True)
    geoms = np.asarray(cum.geometry.values)
    assert shapely.is_valid(geoms).all()
    assert list(cum["band_min"]) == [0] * 5
    assert list(cum["label"])[-1] == "0-90 min"
    for k in range(1, len(cum)):
        # The smaller area lies wholly inside the larger one.
        assert shapely.area(shapely.difference(geoms[k - 1], geoms[k])) == pytest.approx(0, abs=1e-6)
        assert cum["area_km2"].iloc[k] == pytest.approx(bands["area_km2"].iloc[:k + 1].sum())
    x, y = grid["x"].to_numpy(), grid["y"].to_numpy()
    t = surface.cell_minutes
    for k, th in enumerate(THRESHOLDS):
        with np.errstate(invalid="ignore"):
            expected = np.isfinite(t) & (t <= th)
        np.testing.assert_array_equal(shapely.contains_xy(geoms[k], x, y), expected)


def test_isochrones_in_utm_keep_areas_and_validity(surface):
    iso = isochrones(surface, (15, 30), crs="EPSG:25832")
    assert iso.crs.to_epsg() == 25832
    assert shapely.is_valid(np.asarray(iso.geometry.values)).all()
    plain = isochrones(surface, (15, 30))
    np.testing.assert_allclose(iso["area_km2"], plain["area_km2"])
    # Areas measured in UTM differ from the equal-area ones only by the projection's scale.
    np.testing.assert_allclose(iso.geometry.area / 1e6, plain["area_km2"], rtol=0.01)


def _synthetic(minutes: np.ndarray, res: float = 100.0) -> TravelTimeSurface:
    n_rows, n_cols = minutes.shape
    rows, cols = np.indices(minutes.shape)
    return TravelTimeSurface(
        site_id="S", minutes=minutes, transform=Affine(res, 0, 4000000, 0, -res, 3000000),
        crs="EPSG:3035", cell_ids=np.arange(minutes.size).astype(str).astype(object),
        cell_minutes=minutes.ravel(), cell_row=rows.ravel(), cell_col=cols.ravel(),
        site_xy=(0.0, 0.0), date=dt.date(2026, 3, 10), arrive_by=30600,
        early_arrival_min=30.0, max_time_min=90.0)


def test_unreachable_cells_become_holes_and_diagonal_cells_stay_valid():
    t = np.full((5, 5), 10.0)
    t[2, 2] = np.nan  # an unreachable cell in the middle: a hole
    t[0, 0] = 40.0    # another band in a corner
    t[4, 3] = 20.0
    t[3, 4] = 20.0    # touches the (4, 3) cell at a corner only
    s = _synthetic(t)
    iso = isochrones(s, (15, 30, 45))
    geoms = np.asarray(iso.geometry.values)
    assert shapely.is_valid(geoms).all()
    assert list(iso["n_cells"]) == [21, 2, 1]
    assert shapely.get_num_interior_rings(shapely.get_parts(geoms[0])).sum() == 1
    # Centre of the unreachable cell: in no band.
    cx, cy = 4000000 + 250.0, 3000000 - 250.0
    assert not shapely.contains_xy(geoms, cx, cy).any()
    assert iso["area_km2"].tolist() == pytest.approx([0.21, 0.02, 0.01])
    # A band without cells is an empty MultiPolygon, not a missing row.
    empty = isochrones(s, (5, 15, 30, 45))
    assert empty["geometry"].iloc[0].is_empty and empty["n_cells"].iloc[0] == 0


def test_thresholds_must_increase(surface):
    with pytest.raises(ConfigError, match=r"isochrone thresholds must increase strictly: got "
                                          r"15, 30, 30, 60 \(30 follows 30\)"):
        isochrones(surface, (15, 30, 30, 60))


def test_thresholds_above_the_surface_max_time(surface):
    with pytest.raises(ConfigError, match="isochrone threshold 120 min is above the 90 min the "
                                          "surface was computed for"):
        isochrones(surface, (30, 60, 120))


def test_unknown_site_id_for_surfaces(demo):
    grid, courses, router = demo
    with pytest.raises(ConfigError, match=r"unknown site id\(s\) 'KS99'; the sites are KS01, "):
        site_surfaces(router, grid, courses, arrive_by="08:30", site_ids=["KS01", "KS99"])


def test_grid_without_utm_centres(demo, surface):
    grid, _, router = demo
    with pytest.raises(InputError, match="the analysis grid lacks the columns x_utm, y_utm"):
        travel_time_surface(router, grid.drop(columns=["x_utm", "y_utm"]), surface.site_xy,
                            arrive_by="08:30")


def test_surface_logs_its_reach(demo, surface, caplog):
    grid, _, router = demo
    near = grid[np.hypot(grid["x_utm"] - surface.site_xy[0],
                         grid["y_utm"] - surface.site_xy[1]).to_numpy() < 3000]
    with caplog.at_level(logging.INFO, logger="kurszugang.analysis.catchments"):
        s = travel_time_surface(router, near, surface.site_xy, arrive_by="08:30",
                                site_id="KS01", max_time_min=45)
    n = int(np.isfinite(s.cell_minutes).sum())
    assert 0 < n < len(near)
    assert (f"{n:,} von {len(near):,} Zellen erreichen ihn in 45 min".replace(",", ".")
            in caplog.text)
