"""The RAPTOR router against the brute-force reference, per pair and per departure minute."""

from __future__ import annotations

import datetime as dt
import logging
import math
import re

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from kurszugang.dates import parse_clock, parse_date
from kurszugang.errors import RoutingError, ServiceDateError
from kurszugang.io.gtfs import read_gtfs
from kurszugang.routing.router import Points, Router
from tests.routing.reference import ReferenceRouter, nearest_rank

_TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)
ZUG_DATE = dt.date(2021, 3, 2)


def _as_inf(a: np.ndarray) -> np.ndarray:
    """Router results (NaN = not reachable) with inf for unreachable, as the reference has."""
    out = a.astype(float)
    out[np.isnan(out)] = np.inf
    return out


def _points_near_stops(router: Router, centre_lonlat: tuple[float, float], radius_m: float,
                       n: int, seed: int, prefix: str) -> Points:
    """``n`` points scattered up to 300 m around stops within ``radius_m`` of a centre."""
    rng = np.random.default_rng(seed)
    cx, cy = _TO_UTM.transform(*centre_lonlat)
    xy = router.stop_xy
    near = np.flatnonzero(np.hypot(xy[:, 0] - cx, xy[:, 1] - cy) < radius_m)
    pick = rng.choice(near, n, replace=len(near) < n)
    pts = xy[pick] + rng.uniform(-300, 300, size=(n, 2))
    return Points(np.array([f"{prefix}{i}" for i in range(n)], dtype=object), pts)


def _compare_with_reference(router: Router, ref: ReferenceRouter, orig: Points, dest: Points,
                            departure: int, window: int, max_time_min: int) -> int:
    """Assert per-minute equality; returns the number of (pair, minute) values compared."""
    got = router.per_minute(orig, dest, departure=departure, window=window,
                            max_time_min=max_time_min)
    n = 0
    for o in range(len(orig)):
        for m in range(window):
            want = ref.arrivals(tuple(orig.xy[o]), dest.xy, departure + 60 * m, max_time_min * 60)
            have = _as_inf(got[o, m])
            bad = np.flatnonzero(have != want)
            assert not len(bad), (
                f"origin {orig.ids[o]} minute {m}: destinations {dest.ids[bad][:5]} "
                f"router {have[bad][:5]} reference {want[bad][:5]}")
            n += len(want)
    return n


@pytest.fixture(scope="module")
def zug(zug_feed_path):
    feed = read_gtfs(zug_feed_path)
    return feed, Router(feed, ZUG_DATE)


def test_zug_equals_reference_per_minute(zug):
    feed, router = zug
    ref = ReferenceRouter(feed, ZUG_DATE)
    orig = _points_near_stops(router, (8.515, 47.17), 12_000, 6, seed=1, prefix="o")
    dest = _points_near_stops(router, (8.515, 47.17), 12_000, 50, seed=2, prefix="d")
    n = _compare_with_reference(router, ref, orig, dest, departure=7 * 3600, window=15,
                                max_time_min=90)
    assert n == 6 * 50 * 15
    # The comparison is not vacuous: most pairs are reachable by transit within 90 minutes.
    got = router.per_minute(orig, dest, departure=7 * 3600, window=15, max_time_min=90)
    assert (got >= 0).mean() > 0.5


def test_zug_percentiles_are_nearest_rank_of_the_minutes(zug):
    feed, router = zug
    orig = _points_near_stops(router, (8.515, 47.17), 10_000, 3, seed=3, prefix="o")
    dest = _points_near_stops(router, (8.515, 47.17), 10_000, 40, seed=4, prefix="d")
    res = router.travel_times(orig, dest, departure="07:00", window=60,
                              percentiles=(5, 50, 95), max_time_min=120)
    per_min = _as_inf(router.per_minute(orig, dest, departure="07:00", window=60,
                                        max_time_min=120))
    for j, p in enumerate((5, 50, 95)):
        for o in range(3):
            for d in range(40):
                want = nearest_rank(per_min[o, :, d], p)
                have = res.seconds[o, d, j]
                assert (np.isnan(have) and want == math.inf) or have == want
    # best and mean follow the same minutes
    assert np.array_equal(_as_inf(res.best), np.min(per_min, axis=1))
    finite = np.isfinite(per_min)
    n_ok = finite.sum(axis=1)
    reached = n_ok > 0
    want_mean = np.where(finite, per_min, 0).sum(axis=1)[reached] / n_ok[reached]
    assert reached.sum() > 50
    assert np.allclose(res.mean[reached], want_mean, atol=0.01)
    assert np.isnan(res.mean[~reached]).all()
    assert np.allclose(res.share_reached, n_ok / 60)
    # Percentiles are ordered.
    s = _as_inf(res.seconds)
    assert (s[:, :, 0] <= s[:, :, 1]).all() and (s[:, :, 1] <= s[:, :, 2]).all()


def test_zug_results_do_not_depend_on_batches_or_workers(zug):
    _, router = zug
    orig = _points_near_stops(router, (8.515, 47.17), 10_000, 20, seed=5, prefix="o")
    a = router.travel_times(orig, departure="07:00", window=30, percentiles=(5, 50, 95),
                            workers=1, batch_size=64)
    b = router.travel_times(orig, departure="07:00", window=30, percentiles=(5, 50, 95),
                            workers=2, batch_size=3)
    assert np.array_equal(a.seconds, b.seconds, equal_nan=True)
    assert np.array_equal(a.best, b.best, equal_nan=True)
    assert (a.seconds >= 0).any()


def test_malente_school_day_equals_reference(malente_feed_path):
    feed = read_gtfs(malente_feed_path)
    date = dt.date(2019, 3, 12)  # a Tuesday in term time in Schleswig-Holstein
    router = Router(feed, date)
    assert router.timetable.n_trips > 0
    ref = ReferenceRouter(feed, date)
    orig = Points(np.array(["s0", "s1", "s2"], dtype=object), router.stop_xy[[0, 20, 40]])
    dest = Points(np.asarray(router.timetable.stop_ids, dtype=object), router.stop_xy)
    first = int(router.timetable.trip_start.min())
    n = _compare_with_reference(router, ref, orig, dest, departure=first - 600, window=60,
                                max_time_min=90)
    assert n == 3 * len(dest) * 60


def test_date_without_service_is_an_error_naming_the_period(zug_feed_path):
    feed = read_gtfs(zug_feed_path)
    with pytest.raises(ServiceDateError, match=r"2022-06-01.*Gültigkeitszeitraum ist 2020-12-13 bis 2021-12-1"):
        Router(feed, dt.date(2022, 6, 1))


def test_bad_parameters_are_errors(zug):
    _, router = zug
    o = router.stops()
    with pytest.raises(RoutingError, match="Perzentile müssen zwischen 1 und 100 liegen"):
        router.travel_times(o, percentiles=(0,))
    with pytest.raises(ValueError) as parser:  # the message of the one clock-time parser
        parse_clock("7 Uhr")
    assert "'7 Uhr'" in str(parser.value) and "HH:MM" in str(parser.value)
    with pytest.raises(RoutingError, match=re.escape(str(parser.value))):
        router.travel_times(o, departure="7 Uhr")
    bad = pd.DataFrame({"id": ["a", "a"], "lon": [8.5, 8.5], "lat": [47.1, 47.1]})
    with pytest.raises(RoutingError, match="'a' kommt mehr als einmal vor"):
        router.travel_times(bad)


def test_thin_service_date_is_warned(tmp_path, caplog):
    """Ten trips on weekdays, one on Saturdays: a Saturday is warned about, a Tuesday not."""
    from tests.routing.test_router_random import write_feed

    trips = [["route_id", "service_id", "trip_id"]]
    times = [["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"]]
    for i in range(11):
        service = "SA" if i == 10 else "WD"
        trips.append(["R", service, f"T{i}"])
        times += [[f"T{i}", f"{7 + i:02d}:00:00", f"{7 + i:02d}:00:00", "A", 1],
                  [f"T{i}", f"{7 + i:02d}:20:00", f"{7 + i:02d}:20:00", "B", 2]]
    folder = write_feed(tmp_path / "feed", {
        "stops.txt": [["stop_id", "stop_name", "stop_lat", "stop_lon"],
                      ["A", "A", "49.0", "11.0"], ["B", "B", "49.05", "11.0"]],
        "routes.txt": [["route_id", "route_short_name", "route_type"], ["R", "1", 3]],
        "trips.txt": trips,
        "stop_times.txt": times,
        "calendar.txt": [["service_id", "monday", "tuesday", "wednesday", "thursday", "friday",
                          "saturday", "sunday", "start_date", "end_date"],
                         ["WD", 1, 1, 1, 1, 1, 0, 0, "20260101", "20261231"],
                         ["SA", 0, 0, 0, 0, 0, 1, 0, "20260101", "20261231"]],
    })
    feed = read_gtfs(folder)
    with caplog.at_level(logging.WARNING, logger="kurszugang.routing.timetable"):
        Router(feed, dt.date(2026, 3, 10))
    assert "under a fifth" not in caplog.text
    with caplog.at_level(logging.WARNING, logger="kurszugang.routing.timetable"):
        router = Router(feed, dt.date(2026, 3, 14))
    assert "Am 2026-03-14 fahren nur 1 Fahrten, weniger als ein Fünftel der 10 eines üblichen Werktags" in caplog.text
    assert router.timetable.n_trips == 1


def test_journey_explains_the_per_minute_travel_time(zug):
    _, router = zug
    orig = _points_near_stops(router, (8.515, 47.17), 12_000, 12, seed=21, prefix="o")
    dest = _points_near_stops(router, (8.515, 47.17), 12_000, 12, seed=22, prefix="d")
    per_min = router.per_minute(orig, dest, departure="07:05", window=1)
    n_rides = n_same_stop = 0
    for o in range(len(orig)):
        for d in range(len(dest)):
            j = router.journey(Points(orig.ids[o:o + 1], orig.xy[o:o + 1]),
                               Points(dest.ids[d:d + 1], dest.xy[d:d + 1]), departure="07:05")
            want = per_min[o, 0, d]
            if np.isnan(want):
                assert j.arrival is None and j.legs.empty
                continue
            assert j.travel_time == want
            legs = j.legs
            assert legs["departure"].iloc[0] == 7 * 3600 + 5 * 60
            assert legs["arrival"].iloc[-1] == j.arrival
            assert (legs["arrival"] >= legs["departure"]).all()
            # Each leg starts after the previous one ends; boarding leaves the slack.
            for prev, leg in zip(legs.iloc[:-1].itertuples(), legs.iloc[1:].itertuples(), strict=True):
                gap = router.board_slack_s if leg.mode == "ride" else 0
                assert leg.departure >= prev.arrival + gap
                if leg.mode == "ride" and prev.mode == "ride":
                    assert leg.from_stop_id == prev.to_stop_id
            assert (legs["mode"] == "walk").sum() >= 1
            rides = legs[legs["mode"] == "ride"]
            n_rides += len(rides)
            n_same_stop += int((rides["from_stop_id"].to_numpy()[1:]
                                == rides["to_stop_id"].to_numpy()[:-1]).sum())
            assert str(j).endswith(f"{j.travel_time / 60:.0f} min after leaving at 07:05")
    assert n_rides >= 4
    assert n_same_stop >= 1  # journeys that change vehicles at the same stop are explained too


def _two_stop_feed(tmp_path):
    """Stops A and B 5 km apart; one trip A 07:10 -> B 07:30 on weekdays of 2026."""
    from tests.routing.test_router_random import write_feed

    return read_gtfs(write_feed(tmp_path / "feed", {
        "stops.txt": [["stop_id", "stop_name", "stop_lat", "stop_lon"],
                      ["A", "Dorf", "49.000000", "11.000000"],
                      ["B", "Stadt", "49.045000", "11.000000"]],
        "routes.txt": [["route_id", "route_short_name", "route_type"], ["R", "1", 3]],
        "trips.txt": [["route_id", "service_id", "trip_id"], ["R", "WD", "T1"]],
        "stop_times.txt": [["trip_id", "arrival_time", "departure_time", "stop_id",
                            "stop_sequence"],
                           ["T1", "07:10:00", "07:10:00", "A", 1],
                           ["T1", "07:30:00", "07:30:00", "B", 2]],
        "calendar.txt": [["service_id", "monday", "tuesday", "wednesday", "thursday", "friday",
                          "saturday", "sunday", "start_date", "end_date"],
                         ["WD", 1, 1, 1, 1, 1, 0, 0, "20260101", "20261231"]],
    }))


def test_not_reachable_is_nan_in_every_result(tmp_path):
    router = Router(_two_stop_feed(tmp_path), "2026-03-10", board_slack_s=0)
    origins = pd.DataFrame({"id": ["dorf", "weit"], "lon": [11.0, 11.5], "lat": [49.0, 49.0]})
    stadt = pd.DataFrame({"id": ["stadt"], "lon": [11.0], "lat": [49.045]})
    tt = router.travel_times(origins, stadt, departure="07:00", window=10, percentiles=(50,))
    # dorf: leaving 07:00..07:09 for the 07:10 bus arriving 07:30: 30 .. 21 min, rank 5 = 25 min
    assert tt.seconds[0, 0, 0] == 25 * 60 and tt.best[0, 0] == 21 * 60
    assert tt.seconds.dtype == np.float32
    # weit (37 km away): NaN, and a threshold comparison is False, not True as -1 would be
    assert np.isnan(tt.seconds[1, 0, 0]) and np.isnan(tt.best[1, 0]) and np.isnan(tt.mean[1, 0])
    assert tt.share_reached[1, 0] == 0
    assert not (tt.seconds[1, 0, 0] <= 45 * 60)
    assert tt.to_frame()["travel_time_p50"].tolist()[0] == 25
    assert tt.to_frame()["travel_time_p50"].isna().tolist() == [False, True]
    per_min = router.per_minute(origins, stadt, departure="07:00", window=10)
    assert per_min[0, :, 0].tolist() == [60.0 * m for m in range(30, 20, -1)]
    assert np.isnan(per_min[1]).all()
    res = router.arrive_by(origins, stadt, arrive_by="07:40")
    assert res.latest_departure[0, 0] == 7 * 3600 + 10 * 60
    assert np.isnan(res.latest_departure[1, 0]) and np.isnan(res.shortest()[1])
    assert res.shortest()[0] == 30 * 60  # from leaving at 07:10 to the deadline 07:40
    far = router.journey(origins.iloc[[1]], stadt, departure="07:00")
    assert far.arrival is None and far.travel_time is None


def test_direct_walk_has_its_own_limit(malente_feed_path):
    """Malente Jägerberg and Hafkamp, 1,844 m apart; before 09:00 no Bürgerbus runs.

    With the default (direct walks up to max_walk_m = 1,000 m) the pair is unreachable; with
    max_direct_walk_m = 3,375 m (45 min at 4.5 km/h) it is reached on foot, in the straight-line
    distance × 1.3 / 4.5 km/h, in every result.
    """
    feed = read_gtfs(malente_feed_path)
    date = dt.date(2019, 3, 12)
    stops = feed.stops.set_index("stop_id").loc[["36", "70"]]
    assert stops["stop_name"].tolist() == ["Malente Jägerberg", "Hafkamp"]
    x, y = _TO_UTM.transform(stops["stop_lon"].to_numpy(float), stops["stop_lat"].to_numpy(float))
    straight = math.hypot(x[1] - x[0], y[1] - y[0])
    assert 1843 < straight < 1846
    want = math.ceil(straight * 1.3 / (4.5 / 3.6) - 1e-9)  # 1,918 s: 32 min
    home = pd.DataFrame({"id": ["jaegerberg"], "lon": [stops["stop_lon"].iloc[0]],
                         "lat": [stops["stop_lat"].iloc[0]]})
    site = pd.DataFrame({"id": ["hafkamp"], "lon": [stops["stop_lon"].iloc[1]],
                         "lat": [stops["stop_lat"].iloc[1]]})
    default = Router(feed, date)
    walker = Router(feed, date, max_direct_walk_m=3375)
    assert int(default.timetable.trip_start.min()) > 9 * 3600  # no useful bus before 09:00
    assert default.max_direct_walk_m == 1000 and walker.max_direct_walk_m == 3375
    kw = dict(departure="05:00", window=10, max_time_min=45)
    assert np.isnan(default.per_minute(home, site, **kw)).all()
    assert (walker.per_minute(home, site, **kw) == want).all()
    assert np.isnan(default.travel_times(home, site, **kw).seconds).all()
    tt = walker.travel_times(home, site, percentiles=(5, 50, 95), **kw)
    assert tt.seconds[0, 0].tolist() == [want] * 3 and tt.best[0, 0] == want
    assert tt.to_frame()["travel_time_p50"].tolist() == [want // 60]
    # arrive by 05:45: leave at 05:45 minus the walk
    assert np.isnan(default.arrive_by(home, site, arrive_by="05:45", max_time_min=45)
                    .latest_departure[0, 0])
    ab = walker.arrive_by(home, site, arrive_by="05:45", max_time_min=45)
    assert ab.latest_departure[0, 0] == 5 * 3600 + 45 * 60 - want
    j = walker.journey(home, site, departure="05:00", max_time_min=45)
    assert j.travel_time == want
    assert j.legs["mode"].tolist() == ["walk"]
    assert j.legs["metres"].iloc[0] == pytest.approx(straight * 1.3)
    assert default.journey(home, site, departure="05:00", max_time_min=45).arrival is None
    # The other walking legs keep max_walk_m: no stop is reached by a longer access walk.
    assert walker.transfers.metres.max() <= 1000


def test_negative_direct_walk_is_an_error(zug):
    feed, _ = zug
    with pytest.raises(RoutingError, match="der längste direkte Fußweg darf nicht negativ sein, nicht -1"):
        Router(feed, ZUG_DATE, max_direct_walk_m=-1)


def test_date_without_service_inside_the_period_is_walking_only(malente_feed_path, caplog):
    """Malente, Wednesday 2019-05-01 (Tag der Arbeit): the weekday service is removed by a
    calendar_dates exception, so no Bürgerbus runs; the router answers with walks only."""
    feed = read_gtfs(malente_feed_path)
    date = dt.date(2019, 5, 1)
    assert feed.service_period() == (dt.date(2018, 11, 1), dt.date(2020, 12, 31))
    with caplog.at_level(logging.WARNING, logger="kurszugang.routing.timetable"):
        router = Router(feed, date)
    assert router.timetable.n_trips == 0 and router.timetable.n_patterns == 0
    assert ("Am 2019-05-01 (Mittwoch) fährt laut Fahrplan keine Fahrt, obwohl der Tag im "
            "Gültigkeitszeitraum 2018-11-01 bis 2020-12-31 liegt") in caplog.text
    assert Router(feed, dt.date(2019, 4, 30)).timetable.n_trips > 0  # the day before: service
    stops = router.stops()
    got = router.per_minute(stops, stops, departure="08:00", window=5, max_time_min=60)
    # Walking only: straight line x 1.3 at 4.5 km/h, up to 1,000 m, the same every minute.
    x, y = _TO_UTM.transform(feed.stops["stop_lon"].to_numpy(float),
                             feed.stops["stop_lat"].to_numpy(float))
    metres = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :]) * 1.3
    want = np.where(metres <= 1000, np.ceil(metres / (4.5 / 3.6) - 1e-9), np.nan)
    for m in range(5):
        np.testing.assert_array_equal(got[:, m, :], want)
    assert np.isfinite(want).sum() > len(stops)  # not only each stop to itself
    tt = router.travel_times(stops, stops, departure="08:00", window=5)
    np.testing.assert_array_equal(tt.seconds[:, :, 0], want)


def test_date_with_only_trips_from_the_day_before(tmp_path):
    """A night trip leaves on Monday 23:50 and arrives 24:20: on Tuesday it is the only trip."""
    from tests.routing.test_router_random import write_feed

    folder = write_feed(tmp_path / "feed", {
        "stops.txt": [["stop_id", "stop_name", "stop_lat", "stop_lon"],
                      ["A", "A", "49.000000", "11.000000"], ["B", "B", "49.050000", "11.000000"]],
        "routes.txt": [["route_id", "route_short_name", "route_type"], ["R", "N1", 3]],
        "trips.txt": [["route_id", "service_id", "trip_id"], ["R", "MO", "NIGHT"]],
        "stop_times.txt": [["trip_id", "arrival_time", "departure_time", "stop_id",
                            "stop_sequence"],
                           ["NIGHT", "23:50:00", "23:50:00", "A", 1],
                           ["NIGHT", "24:20:00", "24:20:00", "B", 2]],
        "calendar.txt": [["service_id", "monday", "tuesday", "wednesday", "thursday", "friday",
                          "saturday", "sunday", "start_date", "end_date"],
                         ["MO", 1, 0, 0, 0, 0, 0, 0, "20260101", "20261231"]],
    })
    router = Router(read_gtfs(folder), "10.03.2026", board_slack_s=0)  # a Tuesday, German form
    assert router.date == dt.date(2026, 3, 10)
    assert router.timetable.n_trips == 1
    assert router.timetable.counts["trips_from_previous_day"] == 1
    a, b = (Points(np.array([s], dtype=object), router.stop_xy[[i]]) for i, s in enumerate("AB"))
    # On Tuesday the trip leaves A at -00:10 (Monday 23:50) and reaches B at 00:20.
    assert router.timetable.dep.min() == -10 * 60 and router.timetable.arr.max() == 20 * 60
    assert router.arrive_by(a, b, arrive_by="00:30").latest_departure[0, 0] == -10 * 60
    assert np.isnan(router.per_minute(a, b, departure="00:00", window=1)).all()  # gone by 00:00


def test_bad_service_date_is_an_error_naming_the_forms(zug):
    feed, _ = zug
    with pytest.raises(ValueError) as parser:  # the message of the one date parser
        parse_date("2021-13-02")
    assert "'2021-13-02'" in str(parser.value) and "JJJJ-MM-TT oder TT.MM.JJJJ" in str(parser.value)
    with pytest.raises(RoutingError, match=re.escape(str(parser.value))):
        Router(feed, "2021-13-02")
