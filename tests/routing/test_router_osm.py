"""The router with OSM footways equals the reference with brute-force network distances.

Uses the bundled demo district (timetable and OSM walking network of a rural district), so it
needs no external data.
"""

from __future__ import annotations

import numpy as np
import pytest

from kurszugang.demo import SCHOOL_DAY, demo_files
from kurszugang.io.gtfs import read_gtfs
from kurszugang.io.osm import read_walk_network
from kurszugang.routing.router import Points, Router
from tests.routing.reference import NetworkDistance, ReferenceRouter


@pytest.fixture(scope="module")
def demo():
    files = demo_files()
    return read_gtfs(files.gtfs), read_walk_network(files.osm)


def test_demo_with_osm_walking_equals_reference(demo):
    feed, net = demo
    kwargs = dict(walk_speed_kmh=4.5, max_walk_m=1200, board_slack_s=60, max_rides=4)
    router = Router(feed, SCHOOL_DAY, walk_network=net, max_snap_m=400, **kwargs)
    ref = ReferenceRouter(feed, SCHOOL_DAY, distance=NetworkDistance(net, 400), **kwargs)
    rng = np.random.default_rng(5)
    # Origins and destinations scattered around stops (homes, course sites) and one far away.
    pick = rng.choice(len(router.stop_xy), 5, replace=False)
    orig = Points(np.array([f"o{i}" for i in range(5)], dtype=object),
                  router.stop_xy[pick] + rng.uniform(-250, 250, size=(5, 2)))
    dpick = rng.choice(len(router.stop_xy), 12, replace=False)
    dest_xy = router.stop_xy[dpick] + rng.uniform(-250, 250, size=(12, 2))
    dest_xy[-1] += 5_000  # far from any footway and from every stop: never reachable
    dest = Points(np.array([f"d{i}" for i in range(12)], dtype=object), dest_xy)
    t0 = 6 * 3600 + 45 * 60
    got = router.per_minute(orig, dest, departure=t0, window=30, max_time_min=120)
    reached = 0
    for o in range(len(orig)):
        for m in range(0, 30, 2):
            want = ref.arrivals(tuple(orig.xy[o]), dest.xy, t0 + 60 * m, 120 * 60)
            have = got[o, m].astype(float)
            have[np.isnan(have)] = np.inf
            assert np.array_equal(have, want), (o, m, have, want)
            reached += int(np.isfinite(want[:-1]).sum())
    assert reached > 100
    assert np.isnan(got[:, :, -1]).all()


def test_one_to_all_to_every_walking_network_node(demo):
    feed, net = demo
    router = Router(feed, SCHOOL_DAY, walk_network=net)
    nodes = router.network_nodes()
    assert len(nodes) == net.n_nodes
    origin = Points(np.array(["home"], dtype=object), nodes.xy[[100]] + np.array([[3.0, 4.0]]))
    res = router.travel_times(origin, nodes, departure="07:00", window=30, percentiles=(50,))
    minutes = res.minutes(50)[0]
    assert minutes[100] == 0  # the node next to the origin: 5 m away
    reached = np.isfinite(minutes)
    assert reached.sum() > 0.3 * net.n_nodes
    # Farther nodes need more time on average (walking and riding take time).
    d = np.hypot(*(nodes.xy - origin.xy).T)
    near, far = reached & (d < 1000), reached & (d > 5000)
    assert minutes[near].mean() < minutes[far].mean()
