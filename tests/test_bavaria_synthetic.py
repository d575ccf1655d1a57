"""The Bavaria-size synthetic set (benchmarks/bavaria_synthetic.py) on a small tiling of 3 Kreise.

The three tiles lie 300 km apart (the default set's tiles are 60 km apart on a 720 km wide grid)
so that the difference between EPSG:3035 and EPSG:25832 shifts matters: the test checks that a
district cut from the set behaves like the demo district all the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely

from kurszugang.analysis.grid import analysis_grid
from kurszugang.crs import ANALYSIS_CRS, GRID_CRS, WEB_CRS, transformer
from kurszugang.demo import HOLIDAY_WEEKDAY, SCHOOL_DAY
from kurszugang.io.boundaries import read_boundaries
from kurszugang.io.courses import GERMANY_BBOX, read_courses
from kurszugang.io.gtfs import read_gtfs
from kurszugang.io.population import read_population_grid
from tests.conftest import load_bavaria_script

KEYS = ["09101", "09102", "09103"]


bs = load_bavaria_script()


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Three tiles in one row, 300 km apart."""
    return bs.generate_bavaria(tmp_path_factory.mktemp("bayern3"), n=3, columns=3,
                               spacing_km=300)


def _utm(lon: Any, lat: Any) -> np.ndarray:
    x, y = transformer(WEB_CRS, ANALYSIS_CRS).transform(np.asarray(lon, float),
                                                        np.asarray(lat, float))
    return np.column_stack([x, y])


def test_layout_of_the_default_set(demo: Any) -> None:
    centroid = demo.kreis.geometry.iloc[0].centroid
    tiles = bs.tile_layout(96, columns=12, spacing_km=60, centre_utm=(centroid.x, centroid.y))
    assert [t.key for t in tiles[:2]] + [tiles[-1].key] == ["09101", "09102", "09196"]
    assert len({t.key for t in tiles}) == 96
    assert tiles[6].prefix == "t07:" and tiles[6].name == "Landkreis Beispiel 7 (fiktiv)"
    assert (tiles[13].column, tiles[13].row) == (1, 1)
    grid = np.array([t.shift_grid for t in tiles])
    assert (grid % 1000 == 0).all()
    assert (grid[-1] - grid[0]).tolist() == [660_000, -420_000]
    assert (np.diff(grid[:12, 0]) == 60_000).all() and (grid[:12, 1] == grid[0, 1]).all()
    # the middle of the grid lands within 1 km of GRID_CENTRE (EPSG:3035)
    cx, cy = transformer(ANALYSIS_CRS, GRID_CRS).transform(centroid.x, centroid.y)
    middle = (grid[0] + grid[-1]) / 2 + (cx, cy)
    assert np.abs(middle - bs.GRID_CENTRE).max() <= 1000
    # the EPSG:25832 shifts follow within the projections' difference (less than 2 %)
    utm = np.array([t.shift_utm for t in tiles])
    steps = np.hypot(*np.diff(utm[:12], axis=0).T)
    assert steps.min() > 59_000 and steps.max() < 61_000
    # every stop and course site of the default set lies where the course reader takes Germany
    west, south, east, north = GERMANY_BBOX
    for points in (_utm(demo.feed.stops["stop_lon"], demo.feed.stops["stop_lat"]),
                   np.column_stack([demo.courses.sites.geometry.x, demo.courses.sites.geometry.y])):
        moved = (points[None, :, :] + utm[:, None, :]).reshape(-1, 2)
        lon, lat = transformer(ANALYSIS_CRS, WEB_CRS).transform(moved[:, 0], moved[:, 1])
        assert west < lon.min() and lon.max() < east and south < lat.min() and lat.max() < north


def test_gemeinden_and_kreise(three: Any, demo: Any) -> None:
    path = three.paths["boundaries"]
    krs = read_boundaries(path, layer="vg250_krs")
    assert krs["ags"].tolist() == KEYS
    assert krs["gen"].tolist() == [f"Landkreis Beispiel {i} (fiktiv)" for i in (1, 2, 3)]
    gem = read_boundaries(path, kreis="09103", layer="vg250_gem")
    assert len(gem) == 20
    assert gem["ags"].str.startswith("09103").all() and gem["ars"].str.startswith("09103").all()
    assert gem["ags"].str[5:].tolist() == demo.gemeinden["ags"].str[5:].tolist()
    assert gem["ars"].str[5:].tolist() == demo.gemeinden["ars"].str[5:].tolist()
    assert gem["gen"].tolist() == demo.gemeinden["gen"].tolist()
    assert gem["ewz"].tolist() == demo.gemeinden["ewz"].tolist()
    np.testing.assert_allclose(gem.area, demo.gemeinden.area, rtol=1e-9)
    shift = three.tiles[2].shift_utm
    moved = shapely.transform(np.asarray(demo.gemeinden.geometry.values), lambda c: c + shift)
    assert shapely.equals_exact(np.asarray(gem.geometry.values), moved, tolerance=0.01).all()


def test_feed_stops_of_a_tile_are_the_demo_stops_shifted(three: Any, demo: Any) -> None:
    feed = read_gtfs(three.paths["gtfs"])
    assert (len(feed.stops), len(feed.trips), len(feed.stop_times), len(feed.agency)) == (
        3 * len(demo.feed.stops), 3 * len(demo.feed.trips), 3 * len(demo.feed.stop_times),
        3 * len(demo.feed.agency))
    assert three.counts["stop_times"] == 3 * len(demo.feed.stop_times)
    kreis = read_boundaries(three.paths["boundaries"], kreis="09103", layer="vg250_krs")
    xy = _utm(feed.stops["stop_lon"], feed.stops["stop_lat"])
    inside = shapely.contains_xy(kreis.geometry.iloc[0], xy[:, 0], xy[:, 1])
    demo_xy = _utm(demo.feed.stops["stop_lon"], demo.feed.stops["stop_lat"])
    demo_inside = shapely.contains_xy(demo.kreis.geometry.iloc[0], demo_xy[:, 0], demo_xy[:, 1])
    assert inside.sum() == demo_inside.sum() == 41
    got = pd.DataFrame(xy[inside], index=feed.stops["stop_id"].to_numpy()[inside])
    want = demo.feed.stops["stop_id"].str.replace("de:09999:", "de:09103:", regex=False)
    assert sorted(got.index) == sorted(want)
    dist = np.hypot(*(got.loc[want].to_numpy() - demo_xy - three.tiles[2].shift_utm).T)
    assert dist.max() < 1.0


def test_feed_keeps_the_school_and_holiday_services(three: Any, demo: Any) -> None:
    feed = read_gtfs(three.paths["gtfs"])
    school, holiday = feed.trips_on(SCHOOL_DAY), feed.trips_on(HOLIDAY_WEEKDAY)
    assert len(school) == 3 * len(demo.feed.trips_on(SCHOOL_DAY))
    assert len(holiday) == 3 * len(demo.feed.trips_on(HOLIDAY_WEEKDAY))
    assert len(school) > len(holiday)
    assert set(feed.calendar["service_id"]) == set(demo.feed.calendar["service_id"])
    tile2 = feed.trips[feed.trips["trip_id"].str.startswith("t02:")]
    assert tile2["service_id"].value_counts().to_dict() == (
        demo.feed.trips["service_id"].value_counts().to_dict())
    assert tile2["route_id"].str.startswith("t02:").all()


def test_grid_cells_of_a_tile_sum_to_the_demo_inhabitants(three: Any, demo: Any) -> None:
    pop = read_population_grid(three.paths["population"])
    assert pop["inhabitants"].sum() == 3 * demo.population["inhabitants"].sum()
    assert ((pop["x"] - 50) % 100 == 0).all() and ((pop["y"] - 50) % 100 == 0).all()
    cells = demo.cells()
    want = cells[cells["in_district"]].groupby(cells["ags"].str[5:])["inhabitants"].sum()
    assert want.sum() == 46_092
    for key in KEYS:
        gem = read_boundaries(three.paths["boundaries"], kreis=key, layer="vg250_gem")
        grid = analysis_grid(gem, pop, populated_only=True)
        grid = grid[grid["in_district"]]
        got = grid.groupby(grid["ags"].str[5:])["inhabitants"].sum()
        pd.testing.assert_series_equal(got, want, check_names=False)
        assert grid["foreigners"].sum() == demo.population["foreigners"].sum()
    # the projections' difference moved some cells (counted), yet every Gemeinde kept its people
    assert three.moved_cells["cells"] >= 1 and three.moved_cells["max_m"] == 100.0
    assert 0 < three.moved_cells["projection_m"] < 100


def test_course_sites_lie_in_their_tiles_kreis(three: Any, demo: Any) -> None:
    courses = read_courses(three.paths["courses"])
    assert len(courses.courses) == 3 * len(demo.courses.courses)
    assert len(courses.sites) == 3 * len(demo.courses.sites) == 24
    assert [str(w) for w in courses.report.warnings] == []
    assert courses.courses["course_id"].str[:4].value_counts().to_dict() == {
        "t01:": 13, "t02:": 13, "t03:": 13}
    krs = read_boundaries(three.paths["boundaries"], layer="vg250_krs").set_index("ags")
    key = "091" + courses.sites["site_id"].str[1:3]
    inside = shapely.within(np.asarray(courses.sites.geometry.values),
                            np.asarray(krs.geometry.loc[key].values))
    assert inside.all()
    tile3 = courses.sites[courses.sites["site_id"].str.startswith("t03:")].set_index("site_id")
    want = demo.courses.sites.set_index("t03:" + demo.courses.sites["site_id"])
    dx = tile3.geometry.x.loc[want.index] - want.geometry.x - three.tiles[2].shift_utm[0]
    dy = tile3.geometry.y.loc[want.index] - want.geometry.y - three.tiles[2].shift_utm[1]
    assert np.hypot(dx, dy).max() < 1.0


def test_readme_marks_the_set_fictional(three: Any) -> None:
    text = three.paths["readme"].read_text(encoding="utf-8")
    assert "erfundener Landkreis" in text and "09101 bis 09103" in text
    assert "| 09103 | Landkreis Beispiel 3 (fiktiv) | `t03:` |" in text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "n must be between 1 and 899 (Kreis keys 09101 to 09999), got 0"),
        ({"columns": 0}, "columns must be at least 1, got 0"),
        ({"spacing_km": 60.5}, "spacing_km must be a whole number of kilometres"),
        ({"spacing_km": 30}, "spacing_km 30 is too small: the demo district is 39.9 km across"),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        bs.generate_bavaria(tmp_path, **kwargs)
    assert not list(tmp_path.iterdir())


def test_command_line_refuses_a_bad_count(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        bs.main(["--n", "1000", "--out", str(tmp_path)])
    assert exc.value.code == 2
    assert "n must be between 1 and 899" in capsys.readouterr().err
