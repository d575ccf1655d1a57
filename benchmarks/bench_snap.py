"""Snapping points to the walking network: the R-tree query against the former midpoint search.

Usage (from the project root, with ../shared/data beside it)::

    .venv/bin/python benchmarks/bench_snap.py

Snaps every point of a 40 m grid over the north-bayreuth extract (and 200 m beyond it) within
500 m, one core, with :meth:`kurszugang.routing.walking.NetworkWalking.snap` (shapely's STRtree
``query_nearest`` over the segments) and with the former method, reimplemented here: candidates
by the 16 nearest segment midpoints, then the exact distance to those. Prints the times (wall
clock and CPU) and how many points the former method put on a segment that is not the nearest.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kurszugang.io.osm import read_walk_network  # noqa: E402
from kurszugang.routing.walking import NetworkWalking  # noqa: E402

EXTRACT = ROOT.parent / "shared" / "data" / "osm-bayreuth" / "north-bayreuth.osm.gz"
MAX_SNAP = 500.0


def _midpoint_snap(net, xy: np.ndarray) -> np.ndarray:
    """Distance to the nearest of the segments with the 16 nearest midpoints (the former way)."""
    mid = np.column_stack([(net.x[net.edge_u] + net.x[net.edge_v]) / 2,
                           (net.y[net.edge_u] + net.y[net.edge_v]) / 2])
    half = float(net.edge_length.max()) / 2
    _, cand = cKDTree(mid).query(xy, k=16, distance_upper_bound=MAX_SNAP + half)
    valid = cand < net.n_edges
    cand = np.where(valid, cand, 0)
    ux, uy = net.x[net.edge_u[cand]], net.y[net.edge_u[cand]]
    dx, dy = net.x[net.edge_v[cand]] - ux, net.y[net.edge_v[cand]] - uy
    seg2 = dx * dx + dy * dy
    px, py = xy[:, 0:1], xy[:, 1:2]
    frac = np.clip(np.where(seg2 > 0, ((px - ux) * dx + (py - uy) * dy)
                            / np.where(seg2 > 0, seg2, 1), 0.0), 0.0, 1.0)
    d = np.where(valid, np.hypot(px - (ux + frac * dx), py - (uy + frac * dy)), np.inf)
    return d.min(axis=1)


def _timed(fn, *args) -> tuple[float, float, object]:
    c, t = time.process_time(), time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, time.process_time() - c, out


def main() -> None:
    net = read_walk_network(EXTRACT)
    x0, y0, x1, y1 = net.bounds
    gx, gy = np.meshgrid(np.arange(x0 - 200, x1 + 200, 40.0), np.arange(y0 - 200, y1 + 200, 40.0))
    xy = np.column_stack([gx.ravel(), gy.ravel()])
    load = os.getloadavg()[0]
    walking = NetworkWalking(net, max_snap_m=MAX_SNAP)
    w_new, c_new, snapped = _timed(walking._snap, xy)
    w_old, c_old, old = _timed(_midpoint_snap, net, xy)
    ok = snapped.ok
    worse = ok & (old > snapped.offset_m + 1e-6)
    print(f"{len(xy):,} points, {net.n_edges:,} segments, load average {load:.1f}")
    print("| method | time (CPU) | points snapped | not to the nearest segment |")
    print("|---|---|---|---|")
    print(f"| STRtree query_nearest (now) | {w_new:.2f} s ({c_new:.2f}) | {int(ok.sum()):,} | 0 |")
    print(f"| 16 nearest midpoints (before) | {w_old:.2f} s ({c_old:.2f}) | "
          f"{int((old <= MAX_SNAP).sum()):,} | {int(worse.sum()):,} (up to "
          f"{float((old[worse] - snapped.offset_m[worse]).max()):.1f} m farther) |")


if __name__ == "__main__":
    main()
