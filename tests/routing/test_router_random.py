"""The router equals the reference on random small feeds (hypothesis).

Feeds have a handful of stops close enough for walking transfers, trips that overtake each other,
trips of the previous day running past midnight, frequency-based trips, calendar exceptions and
stops where boarding or alighting is forbidden.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kurszugang.io.gtfs import read_gtfs
from kurszugang.routing.router import Points, Router
from tests.routing.reference import ReferenceRouter

DATE = dt.date(2024, 3, 5)  # a Tuesday; the previous day is a Monday


def _hms(sec: int) -> str:
    return f"{sec // 3600:02d}:{sec % 3600 // 60:02d}:{sec % 60:02d}"


def write_feed(folder: Path, files: dict[str, list[list[object]]]) -> Path:
    """Write GTFS files given as {name: [header, row, ...]} into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in files.items():
        text = "\n".join(",".join(str(v) for v in row) for row in rows) + "\n"
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@st.composite
def random_feed(draw):
    n_stops = draw(st.integers(3, 7))
    # Stops within about 3 km, so that some walking transfers exist and some do not.
    lons = draw(st.lists(st.floats(11.00, 11.04), min_size=n_stops, max_size=n_stops))
    lats = draw(st.lists(st.floats(49.00, 49.025), min_size=n_stops, max_size=n_stops))
    stops = [["stop_id", "stop_name", "stop_lat", "stop_lon"]]
    stops += [[f"S{i}", f"Stop {i}", f"{lats[i]:.6f}", f"{lons[i]:.6f}"] for i in range(n_stops)]
    trips = [["route_id", "service_id", "trip_id"]]
    stop_times = [["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence",
                   "pickup_type", "drop_off_type"]]
    frequencies = [["trip_id", "start_time", "end_time", "headway_secs"]]
    n_trips = draw(st.integers(1, 12))
    for k in range(n_trips):
        length = draw(st.integers(2, min(5, n_stops)))
        seq = draw(st.permutations(range(n_stops)))[:length]
        service = draw(st.sampled_from(["DAILY", "WEEKDAY", "MONDAY_ONLY", "ADDED", "REMOVED"]))
        # Most trips around 07:00-08:30, some late in the evening (past midnight for Monday).
        start = draw(st.one_of(st.integers(6 * 3600 + 40 * 60, 8 * 3600 + 30 * 60),
                               st.integers(23 * 3600, 24 * 3600 + 40 * 60)))
        t = start
        trip_id = f"T{k}"
        trips.append([f"R{k % 3}", service, trip_id])
        for i, s in enumerate(seq):
            arr = t
            dep = arr + draw(st.sampled_from([0, 0, 60, 120]))
            pickup = draw(st.sampled_from([0, 0, 0, 1, 2]))
            drop = draw(st.sampled_from([0, 0, 0, 1, 3]))
            stop_times.append([trip_id, _hms(arr), _hms(dep), f"S{s}", i + 1, pickup, drop])
            t = dep + draw(st.integers(1, 12)) * 60 + draw(st.sampled_from([0, 30]))
        if draw(st.integers(0, 4)) == 0:
            f_start = draw(st.integers(6 * 3600 + 30 * 60, 7 * 3600 + 30 * 60))
            frequencies.append([trip_id, _hms(f_start), _hms(f_start + draw(st.integers(5, 60)) * 60),
                                draw(st.sampled_from([300, 600, 900, 1200]))])
    calendar = [["service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                 "sunday", "start_date", "end_date"],
                ["DAILY", 1, 1, 1, 1, 1, 1, 1, "20240101", "20241231"],
                ["WEEKDAY", 1, 1, 1, 1, 1, 0, 0, "20240101", "20241231"],
                ["MONDAY_ONLY", 1, 0, 0, 0, 0, 0, 0, "20240101", "20241231"],
                ["REMOVED", 1, 1, 1, 1, 1, 1, 1, "20240101", "20241231"]]
    calendar_dates = [["service_id", "date", "exception_type"],
                      ["ADDED", "20240305", 1],
                      ["REMOVED", "20240305", 2]]
    files = {
        "agency.txt": [["agency_id", "agency_name", "agency_url", "agency_timezone"],
                       ["A", "Test", "https://example.org", "Europe/Berlin"]],
        "routes.txt": [["route_id", "agency_id", "route_short_name", "route_type"],
                       ["R0", "A", "1", 3], ["R1", "A", "2", 3], ["R2", "A", "3", 2]],
        "stops.txt": stops,
        "trips.txt": trips,
        "stop_times.txt": stop_times,
        "calendar.txt": calendar,
        "calendar_dates.txt": calendar_dates,
    }
    if len(frequencies) > 1:
        files["frequencies.txt"] = frequencies
    params = {
        "departure": draw(st.sampled_from([0, 10 * 60, 6 * 3600 + 50 * 60, 7 * 3600 + 20 * 60])),
        "slack": draw(st.sampled_from([0, 60, 120])),
        "max_rides": draw(st.integers(1, 4)),
        "max_walk": draw(st.sampled_from([0.0, 400.0, 1200.0])),
        "max_direct_walk": draw(st.sampled_from([None, 0.0, 800.0, 3000.0])),
    }
    return files, params


def router_and_reference(folder: Path, files: dict, p: dict) -> tuple[Router, ReferenceRouter]:
    """The router and the reference for a drawn feed (walking only if no trip runs on the date:
    the date lies inside every drawn calendar, so the router answers it)."""
    write_feed(folder, files)
    logging.getLogger("kurszugang").setLevel(logging.ERROR)
    feed = read_gtfs(folder, strict=False)
    kwargs = dict(walk_speed_kmh=4.5, max_walk_m=p["max_walk"], detour_factor=1.2,
                  board_slack_s=p["slack"], max_rides=p["max_rides"],
                  max_direct_walk_m=p.get("max_direct_walk"))
    return Router(feed, DATE, **kwargs), ReferenceRouter(feed, DATE, **kwargs)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(random_feed())
def test_random_feeds_equal_reference(tmp_path_factory, case):
    files, p = case
    router, ref = router_and_reference(tmp_path_factory.mktemp("feed"), files, p)
    event(f"no trip on the date (walking only): {router.timetable.n_trips == 0}")
    pts = Points(np.asarray(router.timetable.stop_ids, dtype=object), router.stop_xy)
    window = 40
    got = router.per_minute(pts, pts, departure=p["departure"], window=window, max_time_min=150)
    event(f"trips from the previous day: {router.timetable.counts['trips_from_previous_day'] > 0}")
    event(f"frequencies: {'frequencies.txt' in files}")
    event(f"direct walk limit: {p['max_direct_walk']} (walks {p['max_walk']})")
    event(f"pairs reached by transit or walking: {(got >= 0).mean() > 1 / len(pts)}")
    for o in range(len(pts)):
        for m in range(0, window, 3):
            want = ref.arrivals(tuple(pts.xy[o]), pts.xy, p["departure"] + 60 * m, 150 * 60)
            have = got[o, m].astype(float)
            have[np.isnan(have)] = np.inf
            assert np.array_equal(have, want), (o, m, have, want)
