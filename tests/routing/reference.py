"""An independent, obviously-correct reference router for checking the RAPTOR router.

Written for clarity, not speed: for each departure minute separately, a connection scan over the
day's trips (label-correcting, repeated until nothing changes), with labels per number of rides.
It shares no code with ``kurszugang.routing``: trips of the date, frequency expansion, the
previous day's trips past midnight and all walking legs are computed here again from the feed's
tables, with plain Python loops and brute-force distances.

Semantics (the routing contract): walk from the origin to a stop, ride, transfer by one walking
leg between two rides, walk from the last stop; or walk directly. Walking legs are straight lines
× detour factor in EPSG:25832 at the walking speed, whole seconds rounded up, and exist only up to
the maximum walk (the direct walk up to its own maximum, by default the same). Boarding needs arrival + slack <= departure; pickup_type 1 forbids boarding,
drop_off_type 1 forbids alighting.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from pyproj import Transformer

INF = math.inf
_TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)


def straight_line(detour: float):
    """Walking distance as the straight line × detour (EPSG:25832 metres)."""
    def distance(x: float, y: float, b_xy: np.ndarray) -> np.ndarray:
        return np.hypot(b_xy[:, 0] - x, b_xy[:, 1] - y) * detour
    return distance


class NetworkDistance:
    """Walking distance on a footway network, by brute force: shapely snapping, networkx search.

    A point is snapped to the nearest segment (if within ``max_snap``); the distance from the point
    to the segment counts as walking. Where either point lies farther than ``max_snap`` from
    every segment, the walk is the straight line × ``detour``. Independent of
    ``kurszugang.routing.walking``.
    """

    def __init__(self, net, max_snap: float, detour: float = 1.3) -> None:
        import networkx as nx
        import shapely

        self.net, self.max_snap, self.detour = net, max_snap, detour
        self.segs = shapely.linestrings(np.stack(
            [np.column_stack([net.x[net.edge_u], net.y[net.edge_u]]),
             np.column_stack([net.x[net.edge_v], net.y[net.edge_v]])], axis=1))
        self.graph = nx.Graph()
        for u, v, length in zip(net.edge_u, net.edge_v, net.edge_length, strict=True):
            self.graph.add_edge(int(u), int(v), weight=float(length))

    def snap(self, x: float, y: float):
        import shapely

        point = shapely.Point(x, y)
        dist = shapely.distance(self.segs, point)
        e = int(np.argmin(dist))
        if dist[e] > self.max_snap:
            return None
        # Positions along an edge are a fraction of the edge's network (geodesic) length.
        planar = float(self.segs[e].length)
        length = float(self.net.edge_length[e])
        along = self.segs[e].project(point) / planar * length if planar > 0 else 0.0
        return e, float(dist[e]), along, length

    def __call__(self, x: float, y: float, b_xy: np.ndarray) -> np.ndarray:
        import networkx as nx

        straight = np.hypot(b_xy[:, 0] - x, b_xy[:, 1] - y) * self.detour
        a = self.snap(x, y)
        if a is None:
            return straight
        out = np.full(len(b_xy), np.inf)
        ea, oa, la, lena = a
        g = self.graph.copy()
        g.add_edge("P", int(self.net.edge_u[ea]), weight=oa + la)
        g.add_edge("P", int(self.net.edge_v[ea]), weight=oa + lena - la)
        dist = nx.single_source_dijkstra_path_length(g, "P", weight="weight")
        for j, (bx, by) in enumerate(b_xy):
            b = self.snap(bx, by)
            if b is None:
                out[j] = straight[j]
                continue
            eb, ob, lb, lenb = b
            best = min(dist.get(int(self.net.edge_u[eb]), math.inf) + ob + lb,
                       dist.get(int(self.net.edge_v[eb]), math.inf) + ob + lenb - lb)
            if ea == eb:
                best = min(best, abs(la - lb) + oa + ob)
            out[j] = best
        return out


def _walk_legs(a_xy: np.ndarray, b_xy: np.ndarray, speed_kmh: float, distance,
               max_walk: float) -> list[dict[int, int]]:
    """For each point of ``a``: {index in b: seconds} of the legs up to max_walk."""
    out = []
    for x, y in a_xy:
        d = distance(x, y, b_xy)
        legs = {}
        for j in np.flatnonzero(d <= max_walk + 1e-9):
            legs[int(j)] = math.ceil(d[j] / (speed_kmh / 3.6) - 1e-9)
        out.append(legs)
    return out


def day_trips(feed, date: dt.date) -> list[tuple[list[int], list[int], list[int], list[bool], list[bool]]]:
    """Every trip running on ``date``: (stop indices, arrivals, departures, may board, may alight).

    Times in seconds after midnight of ``date``; previous-day trips shifted by -24 h.
    """
    stop_index = {sid: i for i, sid in enumerate(feed.stops["stop_id"])}
    by_trip: dict[str, list[tuple]] = {}
    for row in feed.stop_times.itertuples(index=False):
        by_trip.setdefault(row.trip_id, []).append(
            (row.stop_sequence, stop_index[row.stop_id], int(row.arrival_time),
             int(row.departure_time), int(row.pickup_type) != 1, int(row.drop_off_type) != 1))
    freqs: dict[str, list[tuple[int, int, int]]] = {}
    for row in feed.frequencies.itertuples(index=False):
        freqs.setdefault(row.trip_id, []).append(
            (int(row.start_time), int(row.end_time), int(row.headway_secs)))

    def instances(trip_id: str, shift: int) -> list:
        rows = sorted(by_trip.get(trip_id, []))
        if not rows:
            return []
        stops = [r[1] for r in rows]
        arrs = [r[2] for r in rows]
        deps = [r[3] for r in rows]
        board = [r[4] for r in rows]
        alight = [r[5] for r in rows]
        if trip_id not in freqs:
            starts = [None]
        else:
            starts = []
            for start, end, head in freqs[trip_id]:
                t = start
                while t < end:
                    starts.append(t)
                    t += head
        out = []
        for s in starts:
            off = 0 if s is None else s - deps[0]
            a = [v + off + shift for v in arrs]
            d = [v + off + shift for v in deps]
            out.append((stops, a, d, board, alight))
        return out

    today = feed.active_service_ids(date)
    yesterday = feed.active_service_ids(date - dt.timedelta(days=1))
    result = []
    for row in feed.trips.itertuples(index=False):
        if row.service_id in today:
            result.extend(instances(row.trip_id, 0))
        if row.service_id in yesterday:
            for inst in instances(row.trip_id, -86400):
                if max(inst[1]) >= 0:  # runs past midnight into ``date``
                    result.append(inst)
    return result


class ReferenceRouter:
    """Brute-force router for one feed and date.

    Walking is the straight line × ``detour_factor``, or, with ``distance``, any function
    ``distance(x, y, b_xy) -> metres`` such as :class:`NetworkDistance`.
    """

    def __init__(self, feed, date: dt.date, *, walk_speed_kmh: float = 4.5, max_walk_m: float = 1000,
                 detour_factor: float = 1.3, board_slack_s: int = 60, max_rides: int = 5,
                 distance=None, max_direct_walk_m: float | None = None) -> None:
        self.speed, self.max_walk = walk_speed_kmh, max_walk_m
        self.max_direct = max_walk_m if max_direct_walk_m is None else max_direct_walk_m
        self.distance = distance or straight_line(detour_factor)
        self.slack, self.max_rides = board_slack_s, max_rides
        x, y = _TO_UTM.transform(feed.stops["stop_lon"].to_numpy(float), feed.stops["stop_lat"].to_numpy(float))
        self.stop_xy = np.column_stack([x, y])
        self.n_stops = len(self.stop_xy)
        self.transfers = _walk_legs(self.stop_xy, self.stop_xy, walk_speed_kmh, self.distance,
                                    max_walk_m)
        for i, legs in enumerate(self.transfers):
            legs.pop(i, None)
        # Connections between consecutive stops of each trip:
        # (dep, arr, trip, position, from stop, to stop, may board at from, may alight at to)
        conns = []
        for k, (stops, arrs, deps, board, alight) in enumerate(day_trips(feed, date)):
            for i in range(len(stops) - 1):
                conns.append((deps[i], arrs[i + 1], k, i, stops[i], stops[i + 1], board[i],
                              alight[i + 1]))
        conns.sort()
        self.conns = conns
        self.n_trips = len({c[2] for c in conns})

    def arrivals(self, origin_xy: tuple[float, float], dest_xy: np.ndarray, t: int,
                 max_time: int) -> np.ndarray:
        """Travel time in seconds to each destination leaving at ``t`` (inf if unreachable)."""
        o = np.array([origin_xy])
        okey = (o.tobytes(), dest_xy.tobytes())
        if getattr(self, "_origin_key", None) != okey:  # the same origin for every minute
            self._access = _walk_legs(o, self.stop_xy, self.speed, self.distance, self.max_walk)[0]
            self._direct = _walk_legs(o, dest_xy, self.speed, self.distance, self.max_direct)[0]
            self._origin_key = okey
        access, direct = self._access, self._direct
        key = dest_xy.tobytes()
        if getattr(self, "_egress_key", None) != key:  # the same destinations for every minute
            self._egress = _walk_legs(self.stop_xy, dest_xy, self.speed, self.distance, self.max_walk)
            self._egress_key = key
        egress = self._egress
        K = self.max_rides
        # ready[r][s]: earliest time at s, ready to board after r rides (before slack)
        ready = [[INF] * self.n_stops for _ in range(K + 1)]
        # rode[r][s]: earliest arrival at s alighting from the r-th ride
        rode = [[INF] * self.n_stops for _ in range(K + 1)]
        for s, sec in access.items():
            ready[0][s] = t + sec
        limit = t + max_time
        changed = True
        while changed:  # repeat the scan until no label improves (ties in departure order)
            changed = False
            on_board: dict[int, int] = {}  # trip -> fewest rides with which we sit in it
            for dep, arr, trip, _pos, s_from, s_to, board, alight in self.conns:
                if dep < t or dep > limit:
                    continue
                if board:
                    for r in range(K):
                        if ready[r][s_from] + self.slack <= dep:
                            if r + 1 < on_board.get(trip, K + 1):
                                on_board[trip] = r + 1
                            break  # fewer rides dominate: the same trip, more rides left
                rides = on_board.get(trip)
                if rides is None or not alight or arr > limit or arr >= rode[rides][s_to]:
                    continue
                rode[rides][s_to] = arr
                changed = True
                if arr < ready[rides][s_to]:
                    ready[rides][s_to] = arr
                for q, w in self.transfers[s_to].items():
                    if arr + w < ready[rides][q]:
                        ready[rides][q] = arr + w
        out = np.full(len(dest_xy), INF)
        for d, sec in direct.items():
            out[d] = sec
        for s in range(self.n_stops):
            best = min(rode[r][s] for r in range(1, K + 1))
            if best == INF:
                continue
            for d, sec in egress[s].items():
                out[d] = min(out[d], best + sec - t)
        out[out > max_time] = INF
        return out


def nearest_rank(values: np.ndarray, p: float) -> float:
    """The p-th percentile by nearest rank (inf counts as the largest value)."""
    v = np.sort(np.asarray(values, dtype=float))
    return float(v[max(1, math.ceil(p / 100 * len(v))) - 1])
