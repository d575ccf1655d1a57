"""Coverage at course times on the demo district and on the real Zug feed."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from kurszugang.analysis.coverage import (
    RouterPool,
    compare_days,
    course_access,
    course_day,
    coverage_summary,
    gaps,
)
from kurszugang.analysis.demand import class_sizes, infeasible_formats
from kurszugang.analysis.grid import analysis_grid
from kurszugang.demo import (
    EVENING_GAP_GEMEINDE,
    HOLIDAY_WEEKDAY,
    MITTELZENTRUM_AGS,
    SCHOOL_DAY,
    demo_files,
)
from kurszugang.errors import ConfigError
from kurszugang.io.boundaries import read_boundaries
from kurszugang.io.courses import CourseList, read_courses
from kurszugang.io.gtfs import read_gtfs
from kurszugang.io.osm import read_walk_network
from kurszugang.io.population import read_population_grid
from kurszugang.routing.router import Points
from tests.routing.reference import ReferenceRouter


@pytest.fixture(scope="module")
def demo():
    f = demo_files()
    gem = read_boundaries(f.boundaries, layer="vg250_gem")
    cells = analysis_grid(gem, read_population_grid(f.population), populated_only=True,
                          participant_factor=0.03)
    feed = read_gtfs(f.gtfs)
    pool = RouterPool(feed, read_walk_network(f.osm))
    courses = read_courses(f.courses)
    school = course_access(pool, cells, courses, SCHOOL_DAY, max_threshold_min=90)
    holiday = course_access(pool, cells, courses, HOLIDAY_WEEKDAY, max_threshold_min=90)
    return cells, courses, school, holiday


def _course(access, course_id: str) -> int:
    return int(np.flatnonzero(access.courses["course_id"].to_numpy() == course_id)[0])


def test_course_day_is_in_the_same_week():
    tuesday = dt.date(2026, 3, 10)
    assert course_day(tuesday, 0b0011111) == tuesday  # Mon-Fri
    assert course_day(tuesday, 0b0000101) == dt.date(2026, 3, 9)  # Mon + Wed -> Monday
    assert course_day(tuesday, 0b0010000) == dt.date(2026, 3, 13)  # Friday only
    assert course_day(tuesday, 0) is None


def test_village_whose_last_bus_leaves_before_the_evening_course_ends(demo):
    """Probing's last bus home leaves Beispielstadt at 17:08: the 18:00-21:15 course there is out
    of reach although people get there, while the morning course at the same site works."""
    _, _, school, _ = demo
    probing = (school.cells["ags"] == EVENING_GAP_GEMEINDE).to_numpy()
    evening, morning = _course(school, "KS01-2"), _course(school, "KS01-1")
    assert school.courses.loc[evening, "schedule"] == "abend"
    assert school.courses.loc[evening, "site_id"] == school.courses.loc[morning, "site_id"]
    assert np.isfinite(school.time_there[probing, evening]).sum() > 10  # they can get there
    assert np.isnan(school.time_back[probing, evening]).all()  # but not home
    assert not school.attend(90)[probing, evening].any()
    assert school.attend(90)[probing, morning].sum() > 10
    # The same rule everywhere: attend means both legs within the threshold.
    for th in (45, 90):
        lim = th * 60
        want = (np.nan_to_num(school.time_there, nan=np.inf) <= lim) & (
            np.nan_to_num(school.time_back, nan=np.inf) <= lim)
        assert np.array_equal(school.attend(th), want)


def test_school_day_trips_make_a_difference(demo):
    _, _, school, holiday = demo
    diff = compare_days(school, holiday)
    # Annahmsdorf is served by school buses (and the Rufbus) only.
    village = diff[diff["gen"] == "Annahmsdorf"].iloc[0]
    assert village["inh_any_2026-03-10"] > 500 and village["inh_any_2026-08-11"] == 0
    assert (diff["inh_any_diff"] >= 0).all()
    assert diff["inh_any_diff"].sum() > 0
    town = diff[diff["ags"] == MITTELZENTRUM_AGS].iloc[0]
    assert town["inh_any_2026-03-10"] > 0.9 * school.cells.loc[
        school.cells["ags"] == MITTELZENTRUM_AGS, "inhabitants"].sum()


def test_childcare_site_shows_up_where_it_should(demo):
    _, courses, school, _ = demo
    site = courses.sites[courses.sites["has_childcare"]]
    assert len(site) == 1
    pt = site.geometry.iloc[0]
    gem = read_boundaries(demo_files().boundaries, layer="vg250_gem")
    home_ags = gem[gem.contains(pt)]["ags"].iloc[0]
    g = gaps(school).set_index("ags")
    assert not g.loc[home_ags, "no_childcare"]  # people in the site's own Gemeinde can go
    summary = coverage_summary(school).set_index("ags")
    assert summary.loc[home_ags, "inh_childcare"] > 0
    # Childcare coverage never exceeds the coverage of the parents' course with childcare.
    k = _course(school, courses.courses.loc[courses.courses["childcare"], "course_id"].iloc[0])
    inh = school.cells["inhabitants"].to_numpy()
    assert summary["inh_childcare"].sum() == pytest.approx(inh[school.attend()[:, k]].sum())
    # Gemeinden far away (Probing) have no childcare course within 45 minutes.
    assert g.loc[EVENING_GAP_GEMEINDE, "no_childcare"]


def test_summaries_add_up(demo):
    cells, _, school, _ = demo
    by_ags = coverage_summary(school)
    district = coverage_summary(school, by="district").iloc[0]
    inside = cells["in_district"].to_numpy()
    assert district["inhabitants"] == pytest.approx(cells.loc[inside, "inhabitants"].sum())
    assert district["inh_any"] + district["inh_none"] == pytest.approx(district["inhabitants"])
    assert by_ags["inh_any"].sum() == pytest.approx(district["inh_any"])
    assert (by_ags["inh_type_allgemein"] <= by_ags["inh_any"] + 1e-9).all()
    vg = coverage_summary(school, by="vg")
    assert len(vg) == 3 and vg["vg"].str.startswith("099995").all()
    assert set(gaps(school).columns) >= {"missing_types", "missing_schedules", "no_childcare",
                                         "only_on_demand"}
    with pytest.raises(ConfigError, match="'kreis'"):
        coverage_summary(school, by="kreis")


def test_class_size_flags_flip_as_the_threshold_grows(demo):
    _, _, school, _ = demo
    sizes = class_sizes(school, thresholds=(30, 45, 60))
    flipped = sizes[~sizes["feasible_30"] & sizes["feasible_60"]]
    assert len(flipped) >= 1
    # More time never means fewer participants.
    assert (sizes["participants_30"] <= sizes["participants_45"]).all()
    assert (sizes["participants_45"] <= sizes["participants_60"]).all()
    formats = infeasible_formats(sizes)
    assert set(formats.columns) >= {"course_type", "schedule", "feasible_anywhere_30"}
    assert (formats["feasible_anywhere_30"] <= formats["feasible_anywhere_60"]).all()
    with pytest.raises(ConfigError, match="above the 90 min"):
        class_sizes(school, thresholds=(45, 120))
    with pytest.raises(ConfigError, match="positive and increasing"):
        class_sizes(school, thresholds=(60, 30))


# --- the real Zug feed: coverage against brute-force router calls --------------------------------

ZUG_DATE = dt.date(2021, 3, 2)


def _zug_case(feed):
    """A square 'district' around Zug, Zensus-like 100 m cells, three synthetic course sites."""
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)
    cx, cy = to_utm.transform(8.515, 47.17)
    district = gpd.GeoDataFrame({"ags": ["99999001"], "gen": ["Zug (Test)"]},
                                geometry=[shapely.box(cx - 6000, cy - 6000, cx + 6000, cy + 6000)],
                                crs="EPSG:25832")
    grid = analysis_grid(district, None, buffer_m=0)
    rng = np.random.default_rng(4)
    sample = grid.iloc[rng.choice(len(grid), 40, replace=False)].copy()
    sample["inhabitants"] = rng.integers(1, 200, len(sample)).astype(float)
    sample["participants"] = sample["inhabitants"] * 0.1
    stops = feed.stops
    sx, sy = to_utm.transform(stops["stop_lon"].to_numpy(float), stops["stop_lat"].to_numpy(float))
    near = np.flatnonzero(np.hypot(sx - cx, sy - cy) < 4000)
    pick = near[rng.choice(len(near), 3, replace=False)]
    sites = gpd.GeoDataFrame({"site_id": ["A", "B", "C"], "provider": ["P1", "P2", "P1"],
                              "has_childcare": [True, False, False]},
                             geometry=gpd.points_from_xy(sx[pick] + 40, sy[pick] - 30),
                             crs="EPSG:25832")
    courses = pd.DataFrame({
        "course_id": ["A-1", "B-1", "C-1", "A-2"],
        "site_id": ["A", "B", "C", "A"],
        "provider": ["P1", "P2", "P1", "P1"],
        "course_type": ["allgemein", "alpha", "allgemein", "eltern"],
        "schedule": ["vollzeit", "vollzeit", "abend", "teilzeit"],
        "weekday_mask": [31, 31, 2, 10],
        "start_time": [8 * 3600 + 30 * 60, 8 * 3600, 18 * 3600 + 30 * 60, 9 * 3600],
        "end_time": [12 * 3600 + 45 * 60, 12 * 3600, 21 * 3600, 11 * 3600 + 15 * 60],
        "childcare": [False, False, False, True],
        "capacity": [20, 16, 20, 15],
        "free_places": [3, 0, 5, 2],
        "next_start": pd.to_datetime(["2021-04-12", "2021-03-15", "2021-05-03", "2021-04-06"]),
    })
    cl = CourseList(sites=sites, courses=courses, as_of=dt.date(2021, 3, 1), source="test",
                    report=None)  # type: ignore[arg-type]
    return sample, cl


def test_zug_coverage_matches_brute_force_router_calls(zug_feed_path):
    feed = read_gtfs(zug_feed_path)
    cells, courses = _zug_case(feed)
    pool = RouterPool(feed)
    access = course_access(pool, cells, courses, ZUG_DATE, threshold_min=45, early_arrival_min=30,
                           max_threshold_min=60)
    ref = ReferenceRouter(feed, ZUG_DATE)
    home = np.column_stack([cells["x_utm"].to_numpy(), cells["y_utm"].to_numpy()])
    checked_back = checked_there = 0
    for k, course in enumerate(access.courses.itertuples(index=False)):
        site = np.array([course.site_x, course.site_y])
        # Back: leaving the site at the end, the reference's arrival home, per cell, exactly.
        want_back = ref.arrivals(tuple(site), home, int(course.end_time), 60 * 60)
        have_back = np.nan_to_num(access.time_back[:, k], nan=np.inf)
        assert np.array_equal(have_back, want_back), course.course_id
        checked_back += int(np.isfinite(want_back).sum())
        # There: forward routing from every cell for every departure minute of the hour before
        # the window (the router per minute, itself checked against the reference): leaving at
        # minute t and taking the fastest way, arrive in [start - 30 min, start] within 60 min.
        # The coverage must find such a journey, at most a minute faster (the per-minute search
        # leaves only at whole minutes).
        lo, hi = int(course.start_time) - 1800, int(course.start_time)
        router = pool.get(ZUG_DATE)
        per_min = router.per_minute(
            Points(cells["cell_id"].astype(str).to_numpy(dtype=object), home),
            Points(np.array([course.site_id], dtype=object), site[None, :]),
            departure=lo - 3600, window=91, max_time_min=60)[:, :, 0].astype(float)
        per_min[per_min < 0] = np.inf
        t = (lo - 3600 + 60 * np.arange(91))[None, :]
        ok = (t + per_min >= lo) & (t + per_min <= hi)
        best = np.where(ok, per_min, np.inf).min(axis=1)
        have_there = np.nan_to_num(access.time_there[:, k], nan=np.inf)
        found = np.isfinite(best)
        assert (have_there[found] <= best[found]).all(), course.course_id
        assert (have_there[found] > best[found] - 60).all(), course.course_id
        checked_there += int(found.sum())
    assert checked_back > 20 and checked_there > 5
    # Attend is the combination of both legs; on-demand lines: Zug has none.
    assert not access.needs_on_demand.any()
    s = coverage_summary(access, by="district").iloc[0]
    assert s["inh_any"] + s["inh_none"] == pytest.approx(cells["inhabitants"].sum())
