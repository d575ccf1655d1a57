"""Walking legs: straight lines and the OSM footway network, against brute force."""

from __future__ import annotations

import logging
import math

import networkx as nx
import numpy as np
import pytest
import shapely

from kurszugang.errors import RoutingError
from kurszugang.io.osm import read_walk_network
from kurszugang.routing.walking import (
    NetworkWalking,
    StraightLineWalking,
    check_snapped,
    walk_seconds,
)
from tests.conftest import shared_file


def test_walk_seconds_round_up():
    assert walk_seconds(np.array([0.0, 1.25, 1000.0]), 4.5).tolist() == [0, 1, 800]
    assert walk_seconds(np.array([1001.0]), 4.5).tolist() == [801]


def test_straight_line_legs_equal_brute_force():
    rng = np.random.default_rng(7)
    a = rng.uniform(0, 3000, size=(40, 2))
    b = rng.uniform(0, 3000, size=(60, 2))
    b[0] = a[0]  # a coincident point: distance 0 is a leg too
    w = StraightLineWalking(speed_kmh=5.0, max_walk_m=900, detour_factor=1.25)
    legs = w.legs(a, b)
    d = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1]) * 1.25
    for i in range(len(a)):
        idx, sec = legs.row(i)
        want = np.flatnonzero(d[i] <= 900)
        assert sorted(idx.tolist()) == want.tolist()
        for j, s in zip(idx, sec, strict=True):
            assert s == math.ceil(d[i, j] / (5.0 / 3.6) - 1e-9)
    assert 0 in legs.row(0)[0]
    t = legs.transpose()
    assert sorted(t.row(0)[0].tolist()) == sorted(np.flatnonzero(d[:, 0] <= 900).tolist())


@pytest.fixture(scope="module")
def bayreuth():
    return read_walk_network(shared_file("osm-bayreuth/north-bayreuth.osm.gz"))


def _reference_network_distances(net, graph: nx.Graph, p: np.ndarray, qs: np.ndarray) -> np.ndarray:
    """Snap with shapely to the nearest segment and search with networkx (brute force)."""
    segs = shapely.linestrings(np.stack([np.column_stack([net.x[net.edge_u], net.y[net.edge_u]]),
                                         np.column_stack([net.x[net.edge_v], net.y[net.edge_v]])],
                                        axis=1))

    def snap(pt):
        point = shapely.Point(pt)
        dist = shapely.distance(segs, point)
        e = int(np.argmin(dist))
        along = segs[e].project(point)
        return e, float(dist[e]), along, float(segs[e].length)

    ea, oa, la, lena = snap(p)
    g = graph.copy()
    g.add_edge("P", int(net.edge_u[ea]), weight=oa + la)
    g.add_edge("P", int(net.edge_v[ea]), weight=oa + lena - la)
    dist = nx.single_source_dijkstra_path_length(g, "P", weight="weight")
    out = []
    for q in qs:
        eb, ob, lb, lenb = snap(q)
        best = min(dist.get(int(net.edge_u[eb]), math.inf) + ob + lb,
                   dist.get(int(net.edge_v[eb]), math.inf) + ob + lenb - lb)
        if ea == eb:
            best = min(best, abs(la - lb) + oa + ob)
        out.append(best)
    return np.array(out)


def test_network_legs_equal_networkx(bayreuth):
    net = bayreuth
    # Segment lengths in the network are geodesic; the reference uses planar EPSG:25832 lengths,
    # which differ by < 0.1 %: compare with that tolerance.
    graph = nx.Graph()
    for u, v, length in zip(net.edge_u, net.edge_v, net.edge_length, strict=True):
        graph.add_edge(int(u), int(v), weight=float(length))
    rng = np.random.default_rng(3)
    centre = np.array([net.x.mean(), net.y.mean()])
    a = centre + rng.uniform(-700, 700, size=(8, 2))
    b = centre + rng.uniform(-700, 700, size=(25, 2))
    walking = NetworkWalking(net, speed_kmh=4.8, max_walk_m=1200, max_snap_m=300)
    legs = walking.legs(a, b)
    found = 0
    for i in range(len(a)):
        idx, sec = legs.row(i)
        got = dict(zip(idx.tolist(), legs.metres[legs.indptr[i]:legs.indptr[i + 1]].tolist(),
                       strict=True))
        wants = _reference_network_distances(net, graph, a[i], b)
        for j in range(len(b)):
            want = wants[j]
            if want <= 1200 * 0.999:
                assert j in got, (i, j, want)
                assert got[j] == pytest.approx(want, rel=2e-3, abs=0.5)
                found += 1
            elif want > 1200 * 1.001:
                assert j not in got
    assert found > 20
    # Network distances are never shorter than the straight line.
    for i in range(len(a)):
        idx = legs.indices[legs.indptr[i]:legs.indptr[i + 1]]
        straight = np.hypot(*(b[idx] - a[i]).T)
        assert (legs.metres[legs.indptr[i]:legs.indptr[i + 1]] >= straight - 1e-6).all()


def test_far_points_are_not_snapped_and_reported(bayreuth, caplog):
    walking = NetworkWalking(bayreuth, max_snap_m=200)
    centre = np.array([bayreuth.x.mean(), bayreuth.y.mean()])
    far = centre + np.array([50_000.0, 0.0])
    xy = np.vstack([centre, far])
    with caplog.at_level(logging.WARNING, logger="kurszugang.routing.walking"):
        ok = check_snapped(walking, xy, np.array(["near", "far"], dtype=object), "origins")
    assert ok.tolist() == [True, False]
    assert "1 von 2 Startpunkte liegen mehr als 200 m vom Fußwegenetz entfernt" in caplog.text
    assert "far" in caplog.text
    with pytest.raises(RoutingError, match="keiner der 1 Ziele liegt näher als 200 m"):
        check_snapped(walking, far[None, :], np.array(["far"], dtype=object), "destinations")


@pytest.mark.parametrize(("name", "n_points"), [("osm-bayreuth/neudrossenfeld.osm.pbf", 4000),
                                                 ("osm-bayreuth/harsdorf.osm.pbf", 3000),
                                                 ("osm-bayreuth/north-bayreuth.osm.gz", 1500)])
def test_snapping_finds_the_truly_nearest_segment(name, n_points):
    """Against the distance to every segment (shapely), for random points over the extract.

    Candidates by the 16 nearest segment midpoints (as before) missed long segments: on
    neudrossenfeld a point went to a segment 35.64 m away instead of one 34.54 m away.
    """
    net = read_walk_network(shared_file(name))
    walking = NetworkWalking(net, max_snap_m=150)
    segs = shapely.linestrings(np.stack([np.column_stack([net.x[net.edge_u], net.y[net.edge_u]]),
                                         np.column_stack([net.x[net.edge_v], net.y[net.edge_v]])],
                                        axis=1))
    rng = np.random.default_rng(11)
    x0, y0, x1, y1 = net.bounds
    xy = np.column_stack([rng.uniform(x0 - 200, x1 + 200, n_points),
                          rng.uniform(y0 - 200, y1 + 200, n_points)])
    snapped = walking.snap(xy)
    near = np.empty(n_points)
    nearest = np.empty(n_points, dtype=np.int64)
    for i in range(0, n_points, 100):
        d = shapely.distance(segs[None, :], shapely.points(xy[i:i + 100])[:, None])
        near[i:i + 100] = d.min(axis=1)
        nearest[i:i + 100] = d.argmin(axis=1)  # the lowest index among equally near ones
    ok = near <= 150
    assert snapped.ok.tolist() == ok.tolist()
    np.testing.assert_allclose(snapped.offset_m[ok], near[ok], atol=1e-6)
    assert (snapped.edge[ok] == nearest[ok]).mean() > 0.999  # ties within rounding aside
    assert np.isinf(snapped.offset_m[~ok]).all()
    assert 0.1 < ok.mean() < 0.95  # points on and off the network
    # Where the old candidates (16 nearest midpoints) would have missed the nearest segment.
    mid = np.column_stack([(net.x[net.edge_u] + net.x[net.edge_v]) / 2,
                           (net.y[net.edge_u] + net.y[net.edge_v]) / 2])
    from scipy.spatial import cKDTree

    _, cand = cKDTree(mid).query(xy, k=16)
    missed = ok & ~(cand == nearest[:, None]).any(axis=1)
    if name.endswith("neudrossenfeld.osm.pbf") or name.endswith("north-bayreuth.osm.gz"):
        assert missed.sum() >= 1
    # Positions along the edge: the walk to both ends adds up to the edge's length.
    length = net.edge_length[snapped.edge[ok]]
    np.testing.assert_allclose(snapped.to_u_m[ok] + snapped.to_v_m[ok],
                               length + 2 * snapped.offset_m[ok], rtol=1e-9)
