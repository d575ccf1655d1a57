"""Arrive-by (reverse RAPTOR) against the forward reference: the latest departure that arrives in time."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from kurszugang.io.gtfs import read_gtfs
from kurszugang.routing.router import Points, Router
from tests.routing.reference import ReferenceRouter
from tests.routing.test_router import _points_near_stops
from tests.routing.test_router_random import random_feed, router_and_reference, write_feed


def _reference_latest_minute(ref: ReferenceRouter, origin_xy, target_xy, deadline: int,
                             max_time_min: int) -> float:
    """The latest whole minute one can leave and arrive by ``deadline`` (NaN: none)."""
    for t in range(deadline, deadline - max_time_min * 60 - 1, -60):
        tt = ref.arrivals(tuple(origin_xy), target_xy[None, :], t, max_time_min * 60)[0]
        if t + tt <= deadline:
            return float(t)
    return math.nan


def _router_latest_minute(latest: np.ndarray) -> np.ndarray:
    return np.floor(latest / 60) * 60


def test_zug_latest_departures_equal_reference(zug_feed_path):
    feed = read_gtfs(zug_feed_path)
    date = dt.date(2021, 3, 2)
    router = Router(feed, date)
    ref = ReferenceRouter(feed, date)
    origins = _points_near_stops(router, (8.515, 47.17), 10_000, 3, seed=11, prefix="o")
    target = _points_near_stops(router, (8.515, 47.17), 3_000, 1, seed=12, prefix="site")
    deadline = 8 * 3600 + 30 * 60
    res = router.arrive_by(origins, target, arrive_by=deadline, window=8, step_s=60 * 7,
                           max_time_min=60)
    got = _router_latest_minute(res.latest_departure)
    checked = 0
    for o in range(len(origins)):
        for j, tau in enumerate(res.deadlines[[0, 3, 7]]):
            want = _reference_latest_minute(ref, origins.xy[o], target.xy[0], int(tau), 60)
            have = got[o, [0, 3, 7][j]]
            assert (math.isnan(want) and math.isnan(have)) or want == have, (o, tau, want, have)
            checked += not math.isnan(want)
    assert checked >= 4
    # The shortest time needed equals the minimum over the dense matrix, also without it.
    need = res.time_needed
    dense_min = np.where(np.isnan(need).all(axis=1), np.nan,
                         np.nanmin(np.where(np.isnan(need), np.inf, need), axis=1))
    assert np.array_equal(res.shortest(), dense_min, equal_nan=True)
    sparse = router.arrive_by(origins, target, arrive_by=deadline, window=8, step_s=60 * 7,
                              max_time_min=60, dense=False)
    assert sparse.latest_departure is None
    assert np.array_equal(sparse.shortest(), dense_min, equal_nan=True)
    # Later deadlines never force an earlier departure.
    for row in res.latest_departure:
        ok = row[~np.isnan(row)]
        assert (np.diff(ok) >= 0).all()


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(random_feed())
def test_random_feeds_latest_departures_equal_reference(tmp_path_factory, case):
    files, p = case
    built = router_and_reference(tmp_path_factory.mktemp("feed"), files, p)
    if built is None:
        return
    router, ref = built
    pts = Points(np.asarray(router.timetable.stop_ids, dtype=object), router.stop_xy)
    deadline = p["departure"] + 50 * 60
    for target in range(len(pts)):
        res = router.arrive_by(pts, Points(pts.ids[target:target + 1], pts.xy[target:target + 1]),
                               arrive_by=deadline, max_time_min=60)
        got = _router_latest_minute(res.latest_departure[:, 0])
        for o in range(len(pts)):
            want = _reference_latest_minute(ref, pts.xy[o], pts.xy[target], deadline, 60)
            assert (math.isnan(want) and math.isnan(got[o])) or want == got[o], (o, target)


def test_earliest_arrival_bound(tmp_path):
    """A fast early bus (arrives 07:50) and a slow later one (arrives 08:25) to a course at 08:30."""
    folder = write_feed(tmp_path / "feed", {
        "agency.txt": [["agency_id", "agency_name", "agency_url", "agency_timezone"],
                       ["A", "Test", "https://example.org", "Europe/Berlin"]],
        "stops.txt": [["stop_id", "stop_name", "stop_lat", "stop_lon"],
                      ["DORF", "Dorf", "49.000000", "11.000000"],
                      ["KURS", "Kursort", "49.100000", "11.000000"]],
        "routes.txt": [["route_id", "agency_id", "route_short_name", "route_type"],
                       ["R", "A", "1", 3]],
        "trips.txt": [["route_id", "service_id", "trip_id"], ["R", "WD", "EARLY"],
                      ["R", "WD", "LATE"]],
        "stop_times.txt": [["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"],
                           ["EARLY", "07:30:00", "07:30:00", "DORF", 1],
                           ["EARLY", "07:50:00", "07:50:00", "KURS", 2],
                           ["LATE", "07:40:00", "07:40:00", "DORF", 1],
                           ["LATE", "08:25:00", "08:25:00", "KURS", 2]],
        "calendar.txt": [["service_id", "monday", "tuesday", "wednesday", "thursday", "friday",
                          "saturday", "sunday", "start_date", "end_date"],
                         ["WD", 1, 1, 1, 1, 1, 0, 0, "20260101", "20261231"]],
    })
    router = Router(read_gtfs(folder), "2026-03-10", board_slack_s=0)
    dorf = Points(np.array(["dorf"], dtype=object), router.stop_xy[[0]])
    kurs = Points(np.array(["kurs"], dtype=object), router.stop_xy[[1]])
    free = router.arrive_by(dorf, kurs, arrive_by="08:30")
    assert free.latest_departure[0, 0] == 7 * 3600 + 40 * 60  # LATE leaves later
    # Not more than 10 minutes before the start: only LATE (arrives 08:25) counts.
    near = router.arrive_by(dorf, kurs, arrive_by="08:30", earliest_arrival="08:20")
    assert near.latest_departure[0, 0] == 7 * 3600 + 40 * 60
    # Arriving by 08:00 but not before 07:45: only EARLY (07:50) fits.
    early = router.arrive_by(dorf, kurs, arrive_by="08:00", earliest_arrival="07:45")
    assert early.latest_departure[0, 0] == 7 * 3600 + 30 * 60
    # Arriving by 08:00 but not before 07:55: nothing fits.
    none = router.arrive_by(dorf, kurs, arrive_by="08:00", earliest_arrival="07:55")
    assert np.isnan(none.latest_departure[0, 0])
    assert none.shortest()[0] != none.shortest()[0]  # NaN
    assert early.shortest()[0] == pytest.approx(30 * 60)
