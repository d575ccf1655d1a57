"""Straight-line walking is measured in a projection suited to the data, anywhere on Earth."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from kurszugang.crs import ANALYSIS_CRS, transformer
from kurszugang.io.gtfs import read_gtfs
from kurszugang.routing.router import Points, Router
from kurszugang.routing.timetable import working_crs
from tests.routing.test_router_random import write_feed

GEOD = Geod(ellps="WGS84")


def _oregon_feed(tmp_path):
    """Five stops within about 1.5 km near Bend, Oregon (121.3° W, 44.06° N), one bus line."""
    lon0, lat0 = -121.31, 44.058
    offsets = [(0, 0), (0.004, 0.001), (0.009, -0.002), (0.002, 0.006), (-0.005, 0.004)]
    stops = [["stop_id", "stop_name", "stop_lat", "stop_lon"]]
    stops += [[f"S{i}", f"Stop {i}", f"{lat0 + b:.6f}", f"{lon0 + a:.6f}"]
              for i, (a, b) in enumerate(offsets)]
    return read_gtfs(write_feed(tmp_path / "feed", {
        "stops.txt": stops,
        "routes.txt": [["route_id", "route_short_name", "route_type"], ["R", "1", 3]],
        "trips.txt": [["route_id", "service_id", "trip_id"], ["R", "WD", "T1"]],
        "stop_times.txt": [["trip_id", "arrival_time", "departure_time", "stop_id",
                            "stop_sequence"],
                           ["T1", "09:00:00", "09:00:00", "S0", 1],
                           ["T1", "09:10:00", "09:10:00", "S2", 2]],
        "calendar.txt": [["service_id", "monday", "tuesday", "wednesday", "thursday", "friday",
                          "saturday", "sunday", "start_date", "end_date"],
                         ["WD", 1, 1, 1, 1, 1, 0, 0, "20260101", "20261231"]],
    })), np.array([lon0 + a for a, _ in offsets]), np.array([lat0 + b for _, b in offsets])


def test_far_from_bavaria_straight_lines_are_geodesic_within_half_a_percent(tmp_path):
    feed, lon, lat = _oregon_feed(tmp_path)
    router = Router(feed, "2026-03-10", max_walk_m=3000)
    assert router.crs == "EPSG:32610"  # UTM zone 10 N
    geodesic = np.array([[GEOD.inv(lon[i], lat[i], lon[j], lat[j])[2] for j in range(5)]
                         for i in range(5)])
    # Walking transfers: straight line × 1.3 in the suited projection.
    tr = router.transfers
    n_legs = 0
    for i in range(5):
        for k in range(tr.indptr[i], tr.indptr[i + 1]):
            j = tr.indices[k]
            assert tr.metres[k] / 1.3 == pytest.approx(geodesic[i, j], rel=0.005)
            n_legs += 1
    assert n_legs == 20  # every pair is within 3 km / 1.3
    # In EPSG:25832 (the analysis CRS of Bavaria) the same distances are far too long.
    to_utm32 = transformer("EPSG:4326", ANALYSIS_CRS)
    x, y = to_utm32.transform(lon, lat)
    assert math.hypot(x[2] - x[0], y[2] - y[0]) / geodesic[0, 2] > 1.15
    # Origins and destinations given as lon/lat: the direct walk (no bus before 09:00).
    pts = pd.DataFrame({"id": [f"p{i}" for i in range(5)], "lon": lon, "lat": lat})
    got = router.per_minute(pts, pts, departure="07:00", window=1, max_time_min=60)[:, 0, :]
    want = np.ceil(geodesic * 1.3 / (4.5 / 3.6))
    assert np.allclose(got, want, rtol=0.005)
    # Points in another CRS are transformed into the router's.
    in_25832 = Points(pts["id"].to_numpy(dtype=object), np.column_stack([x, y]), ANALYSIS_CRS)
    again = router.per_minute(in_25832, in_25832, departure="07:00", window=1,
                              max_time_min=60)[:, 0, :]
    np.testing.assert_allclose(again, got, atol=1)
    assert router.stops().crs == "EPSG:32610"


def test_bavaria_and_zug_keep_the_analysis_crs(zug_feed_path, malente_feed_path):
    for path in (zug_feed_path, malente_feed_path):
        stops = read_gtfs(path).stops
        assert working_crs(stops["stop_lon"].to_numpy(float),
                           stops["stop_lat"].to_numpy(float)) == ANALYSIS_CRS
    # The east of Bavaria too (metric_crs_for would give zone 33 there): Passau, the demo
    # district (12.44° E), the Bavarian Forest.
    for lon, lat in [(13.46, 48.57), (12.44, 49.29), (13.84, 48.77), (9.0, 49.8)]:
        assert working_crs(np.array([lon]), np.array([lat])) == ANALYSIS_CRS
    assert working_crs(np.array([16.37]), np.array([48.21])) == "EPSG:25833"  # Vienna
    router = Router(read_gtfs(zug_feed_path), dt.date(2021, 3, 2))
    assert router.crs == ANALYSIS_CRS
    x, y = transformer("EPSG:4326", ANALYSIS_CRS).transform(router.timetable.stop_lon,
                                                            router.timetable.stop_lat)
    np.testing.assert_array_equal(router.stop_xy, np.column_stack([x, y]))


def test_walking_network_far_from_bavaria_is_measured_in_true_metres(tmp_path):
    from kurszugang.io.osm import walk_network_from_graph
    from tests.io.test_osm import _oregon_graph

    feed, _, _ = _oregon_feed(tmp_path)
    net = walk_network_from_graph(_oregon_graph())  # read in EPSG:25832
    router = Router(feed, "2026-03-10", walk_network=net, max_snap_m=200)
    walk_net = router.walking.network
    assert walk_net.crs == router.crs == "EPSG:32610"
    nodes = router.network_nodes()
    assert nodes.crs == "EPSG:32610"
    # From node 1 to node 4: the three segments of the first row, geodesic lengths.
    a = Points(np.array(["a"], dtype=object), nodes.xy[[0]], "EPSG:32610")
    b = Points(np.array(["b"], dtype=object), nodes.xy[[3]], "EPSG:32610")
    row = [GEOD.inv(walk_net.lon[i], walk_net.lat[i], walk_net.lon[i + 1],
                    walk_net.lat[i + 1])[2] for i in range(3)]
    got = router.per_minute(a, b, departure="07:00", window=1)[0, 0, 0]
    assert got == math.ceil(sum(row) / (4.5 / 3.6) - 1e-9)
    assert 320 < sum(row) < 345  # 3 x 0.0014° of longitude at 44° N
