"""Points and stops off a clipped OSM extract walk by straight line × detour, and are counted."""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pytest
import shapely

from kurszugang.crs import ANALYSIS_CRS, transformer
from kurszugang.errors import RoutingError
from kurszugang.io.gtfs import read_gtfs
from kurszugang.io.osm import read_walk_network
from kurszugang.routing.router import Points, Router
from tests.conftest import shared_file
from tests.routing.reference import NetworkDistance, ReferenceRouter
from tests.routing.test_router_random import write_feed

EXTRACT = "osm-bayreuth/north-bayreuth.osm.gz"
WEST = (11.45, 49.95, 11.53, 50.07)  # the western part of the extract (lon 11.453-11.610)
DATE = dt.date(2026, 3, 10)
# Stops at OSM nodes: two east of the clipped part (about 3 km outside), two inside it.
STOPS = {"OST": (11.5733218, 50.0057286), "OST2": (11.5788857, 50.0058028),
         "WEST": (11.4903541, 50.0053661), "WEST2": (11.4950, 50.0120)}


@pytest.fixture(scope="module")
def clipped():
    return read_walk_network(shared_file(EXTRACT), bbox=WEST)


def _feed(folder):
    stops = [["stop_id", "stop_name", "stop_lat", "stop_lon"]]
    stops += [[sid, sid.title(), f"{lat:.7f}", f"{lon:.7f}"] for sid, (lon, lat) in STOPS.items()]
    return read_gtfs(write_feed(folder, {
        "stops.txt": stops,
        "routes.txt": [["route_id", "route_short_name", "route_type"], ["R", "7", 3]],
        "trips.txt": [["route_id", "service_id", "trip_id"], ["R", "WD", "IN"], ["R", "WD", "OUT"]],
        "stop_times.txt": [["trip_id", "arrival_time", "departure_time", "stop_id",
                            "stop_sequence"],
                           ["IN", "08:10:00", "08:10:00", "OST", 1],
                           ["IN", "08:30:00", "08:30:00", "WEST", 2],
                           ["OUT", "08:15:00", "08:15:00", "WEST2", 1],
                           ["OUT", "08:35:00", "08:35:00", "OST2", 2]],
        "calendar.txt": [["service_id", "monday", "tuesday", "wednesday", "thursday", "friday",
                          "saturday", "sunday", "start_date", "end_date"],
                         ["WD", 1, 1, 1, 1, 1, 0, 0, "20260101", "20261231"]],
    }))


def _off(net, xy: np.ndarray, max_snap: float) -> np.ndarray:
    """Brute force: farther than max_snap from every segment of the network."""
    segs = shapely.linestrings(np.stack([np.column_stack([net.x[net.edge_u], net.y[net.edge_u]]),
                                         np.column_stack([net.x[net.edge_v], net.y[net.edge_v]])],
                                        axis=1))
    return np.array([shapely.distance(segs, shapely.Point(p)).min() > max_snap for p in xy])


def test_a_home_next_to_a_station_outside_the_extract_is_connected(clipped, tmp_path, caplog):
    feed = _feed(tmp_path / "feed")
    with caplog.at_level(logging.WARNING, logger="kurszugang.routing.router"):
        router = Router(feed, DATE, walk_network=clipped, max_snap_m=300)
    assert ("2 von 4 Haltestellen liegen mehr als 300 m vom Fußwegenetz entfernt: ihre Fußwege "
            "sind Luftlinie × 1,3 (z. B. OST, OST2)") in caplog.text
    assert router.off_network == {"stops": 2}
    ost = router.stop_xy[0]
    home = Points(np.array(["home"], dtype=object), ost[None, :] + [12.0, 0.0])
    west = router.stop_xy[2]
    site = Points(np.array(["kurs"], dtype=object), west[None, :] + [0.0, 20.0])
    j = router.journey(home, site, departure="08:00")
    # 12 m x 1.3 to the stop outside the extract, the bus, then the network to the course.
    assert j.arrival is not None
    assert j.legs["mode"].tolist() == ["walk", "ride", "walk"]
    assert j.legs["metres"].iloc[0] == pytest.approx(12.0 * 1.3)
    assert j.legs["to_stop_id"].iloc[0] == "OST" and j.legs["trip_id"].iloc[1] == "IN"
    assert j.legs["departure"].iloc[1] == 8 * 3600 + 10 * 60
    assert router.off_network == {"stops": 2, "origins": 1}
    # The two stops outside are linked by a straight-line transfer (399 m x 1.3).
    tr = router.transfers
    legs = dict(zip(tr.indices[tr.indptr[0]:tr.indptr[1]].tolist(),
                    tr.metres[tr.indptr[0]:tr.indptr[1]].tolist(), strict=True))
    assert legs[1] == pytest.approx(np.hypot(*(router.stop_xy[1] - ost)) * 1.3)
    # The same trip with the whole extract: the home is on the network there.
    full = Router(feed, DATE, walk_network=read_walk_network(shared_file(EXTRACT)),
                  max_snap_m=300)
    assert full.off_network == {}
    assert full.journey(home, site, departure="08:00").arrival is not None


def test_clipped_extract_equals_the_reference_with_straight_line_fallback(clipped, tmp_path):
    feed = _feed(tmp_path / "feed")
    kwargs = dict(walk_speed_kmh=4.5, max_walk_m=1200, board_slack_s=60, max_rides=3)
    router = Router(feed, DATE, walk_network=clipped, max_snap_m=300, **kwargs)
    ref = ReferenceRouter(feed, DATE, distance=NetworkDistance(clipped, 300, 1.3), **kwargs)
    rng = np.random.default_rng(4)
    around = router.stop_xy[rng.integers(0, 4, 24)] + rng.uniform(-700, 700, size=(24, 2))
    orig = Points(np.array([f"o{i}" for i in range(12)], dtype=object), around[:12])
    dest = Points(np.array([f"d{i}" for i in range(12)], dtype=object), around[12:])
    off_o, off_d = _off(clipped, orig.xy, 300), _off(clipped, dest.xy, 300)
    assert off_o.any() and (~off_o).any() and off_d.any() and (~off_d).any()
    t0 = 8 * 3600
    got = router.per_minute(orig, dest, departure=t0, window=20, max_time_min=90)
    reached = 0
    for o in range(len(orig)):
        for m in range(0, 20, 2):
            want = ref.arrivals(tuple(orig.xy[o]), dest.xy, t0 + 60 * m, 90 * 60)
            have = got[o, m].astype(float)
            have[np.isnan(have)] = np.inf
            assert np.array_equal(have, want), (o, m, have, want)
            reached += int(np.isfinite(want).sum())
    assert reached > 20
    assert router.off_network == {"stops": 2, "origins": int(off_o.sum()),
                                  "destinations": int(off_d.sum())}


def test_points_far_from_network_and_stops_are_an_error(clipped, tmp_path):
    """Latitude and longitude swapped: nowhere near the network or a stop, so not a fallback."""
    router = Router(_feed(tmp_path / "feed"), DATE, walk_network=clipped, max_snap_m=300)
    x, y = transformer("EPSG:4326", ANALYSIS_CRS).transform(50.0057, 11.5733)  # swapped
    swapped = Points(np.array(["a"], dtype=object), np.array([[x, y]]))
    with pytest.raises(RoutingError, match=r"keiner der 1 Startpunkte liegt näher als 300 m am "
                                        r"Fußwegenetz und keiner näher als 1\.000 m an einer "
                                        r"Haltestelle: die Koordinaten prüfen "
                                        r"\(lon/lat vertauscht\?\)"):
        router.travel_times(swapped, router.stops())
