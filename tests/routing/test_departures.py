"""Departures per stop from the compiled timetable, against a brute-force count from the feed."""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, event, given, settings

from kurszugang.io.gtfs import read_gtfs
from kurszugang.routing.router import Router
from tests.routing.reference import day_trips
from tests.routing.test_router_random import DATE, random_feed, write_feed

HOURS = [f"dep_h{h:02d}" for h in range(24)]


def brute_force(feed, date: dt.date) -> pd.DataFrame:
    """Boardable departures per stop and clock hour on ``date``, counted trip by trip.

    Independent of the router: the reference's trip instances of the date (frequencies
    expanded, the previous day's trips shifted by -24 h), each stop but the last where boarding
    is allowed, at a time from 00:00 to 23:59 of the date.
    """
    stops = feed.stops["stop_id"].tolist()
    counts = np.zeros((len(stops), 24), dtype=np.int64)
    for stop_idx, _arr, deps, board, _alight in day_trips(feed, date):
        for i in range(len(stop_idx) - 1):
            if board[i] and 0 <= deps[i] < 86_400:
                counts[stop_idx[i], deps[i] // 3600] += 1
    platform = feed.stops["location_type"].fillna(0).to_numpy() == 0
    return pd.DataFrame(counts, columns=HOURS, index=stops)[platform]


def _compare(router: Router, feed) -> pd.DataFrame:
    got = router.timetable.departures_per_stop()
    want = brute_force(feed, router.date)
    assert got["stop_id"].tolist() == want.index.tolist()
    np.testing.assert_array_equal(got[HOURS].to_numpy(), want.to_numpy())
    np.testing.assert_array_equal(got["departures"].to_numpy(), want.sum(axis=1).to_numpy())
    return got


def test_zug_departures_equal_a_brute_force_count(zug_feed_path):
    feed = read_gtfs(zug_feed_path)
    router = Router(feed, dt.date(2021, 3, 2))
    got = _compare(router, feed)
    assert list(got.columns[:7]) == ["stop_id", "stop_name", "lon", "lat", "x", "y",
                                     "departures"]
    assert list(got.columns[7:]) == HOURS
    assert len(got) == int((feed.stops["location_type"] == 0).sum())
    assert got["departures"].sum() > 40_000
    # After midnight: Monday's trips past 24:00 depart on Tuesday in hour 0; a count by service
    # day (all of Tuesday's trips at their GTFS times) has none there and hours 24+ instead.
    monday = feed.trips_on(dt.date(2021, 3, 1))["trip_id"]
    st = feed.stop_times
    late = st[st["trip_id"].isin(monday) & (st["departure_time"] >= 86_400)
              & (st["departure_time"] < 90_000)]
    assert len(late) > 0
    assert got["dep_h00"].sum() > 0
    zug = got.set_index("stop_id")
    assert (zug.loc[:, HOURS].sum(axis=1) == zug["departures"]).all()
    assert zug.loc[zug["departures"].idxmax(), "stop_name"].startswith("Zug")


def test_frequency_trips_count_every_departure(tmp_path):
    """A line every 10 minutes from 06:00 to before 08:00 (frequencies.txt): 12 departures at
    the first two stops, none at the last; the station S around A is no row of its own."""
    folder = write_feed(tmp_path / "feed", {
        "stops.txt": [["stop_id", "stop_name", "stop_lat", "stop_lon", "location_type",
                       "parent_station"],
                      ["S", "Bahnhof", "49.00", "11.00", 1, ""],
                      ["A", "A", "49.00", "11.00", 0, "S"], ["B", "B", "49.01", "11.00", 0, ""],
                      ["C", "C", "49.02", "11.00", 0, ""]],
        "routes.txt": [["route_id", "route_short_name", "route_type"], ["R", "1", 3]],
        "trips.txt": [["route_id", "service_id", "trip_id"], ["R", "WD", "T"]],
        "stop_times.txt": [["trip_id", "arrival_time", "departure_time", "stop_id",
                            "stop_sequence"],
                           ["T", "06:00:00", "06:00:00", "A", 1],
                           ["T", "06:55:00", "06:56:00", "B", 2],
                           ["T", "07:10:00", "07:10:00", "C", 3]],
        "frequencies.txt": [["trip_id", "start_time", "end_time", "headway_secs"],
                            ["T", "06:00:00", "08:00:00", 600]],
        "calendar.txt": [["service_id", "monday", "tuesday", "wednesday", "thursday", "friday",
                          "saturday", "sunday", "start_date", "end_date"],
                         ["WD", 1, 1, 1, 1, 1, 0, 0, "20240101", "20241231"]],
    })
    feed = read_gtfs(folder)
    got = _compare(Router(feed, DATE), feed).set_index("stop_id")
    assert got["departures"].tolist() == [12, 12, 0]
    assert got.loc["A", ["dep_h06", "dep_h07"]].tolist() == [6, 6]
    # B: 06:56, 07:06, ..., 07:46, 07:56, ..., 08:46 (the 07:50 instance leaves B at 08:46)
    assert got.loc["B", ["dep_h06", "dep_h07", "dep_h08"]].tolist() == [1, 6, 5]


def test_date_without_service_has_no_departures(malente_feed_path):
    feed = read_gtfs(malente_feed_path)
    logging.getLogger("kurszugang").setLevel(logging.ERROR)
    got = Router(feed, dt.date(2019, 5, 1)).timetable.departures_per_stop()
    assert len(got) == len(feed.stops) and got["departures"].sum() == 0


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(random_feed())
def test_random_feeds_departures_equal_a_brute_force_count(tmp_path_factory, case):
    files, _ = case
    folder = write_feed(tmp_path_factory.mktemp("feed"), files)
    logging.getLogger("kurszugang").setLevel(logging.ERROR)
    feed = read_gtfs(folder, strict=False)
    router = Router(feed, DATE)
    got = _compare(router, feed)
    event(f"frequencies: {'frequencies.txt' in files}")
    event(f"departures after midnight from the day before: "
          f"{router.timetable.counts['trips_from_previous_day'] > 0}")
    event(f"any departure: {got['departures'].sum() > 0}")
