"""Walking legs: access from origins, transfers between stops, egress to destinations.

Two models share one interface (:class:`StraightLineWalking`, :class:`NetworkWalking`):

- *Straight line*: distance between the two points in the router's projected CRS (EPSG:25832 in
  Bavaria) × ``detour_factor``; only legs up to ``max_walk_m`` (after the detour factor) exist.
- *OSM network*: shortest path on the footway network; each point is snapped to the nearest edge
  (not node) and the distance from the point to the network counts as walking. Points farther
  than ``max_snap_m`` from any edge are not snapped: they are reported, never silently moved, and
  their legs (to any point, and from any point to them) are straight lines × ``detour_factor``,
  so that a stop outside a clipped extract is still reached from a home next to it.

Walking times are whole seconds, rounded up: ``ceil(metres / (speed_kmh / 3.6))``.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from kurszugang.crs import ANALYSIS_CRS, transformer
from kurszugang.errors import RoutingError
from kurszugang.words import de_number

if TYPE_CHECKING:
    from kurszugang.io.osm import WalkNetwork

log = logging.getLogger(__name__)


def walk_seconds(metres: np.ndarray, speed_kmh: float) -> np.ndarray:
    """Walking time in whole seconds (rounded up) for distances in metres."""
    return np.ceil(np.asarray(metres, dtype=np.float64) / (speed_kmh / 3.6) - 1e-9).astype(np.int64)


@dataclass(frozen=True)
class Legs:
    """Walking legs from a set of points to another as a CSR matrix (rows = from).

    ``indptr``, ``indices`` and ``seconds`` follow scipy's CSR layout; ``metres`` holds the walking
    distance of each leg.
    """

    indptr: np.ndarray
    indices: np.ndarray
    seconds: np.ndarray
    metres: np.ndarray
    n_to: int

    @classmethod
    def from_coo(cls, rows: np.ndarray, cols: np.ndarray, metres: np.ndarray, n_from: int,
                 n_to: int, speed_kmh: float) -> Legs:
        """Build from (row, col, metres) triples; duplicates keep the shortest."""
        order = np.lexsort((metres, cols, rows))
        rows, cols, metres = rows[order], cols[order], metres[order]
        if len(rows):
            keep = np.ones(len(rows), dtype=bool)
            keep[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
            rows, cols, metres = rows[keep], cols[keep], metres[keep]
        indptr = np.searchsorted(rows, np.arange(n_from + 1)).astype(np.int64)
        return cls(indptr, cols.astype(np.int64), walk_seconds(metres, speed_kmh),
                   metres.astype(np.float64), n_to)

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(destination indices, seconds) of the legs from point ``i``."""
        a, b = self.indptr[i], self.indptr[i + 1]
        return self.indices[a:b], self.seconds[a:b]

    def transpose(self) -> Legs:
        """The same legs, walked the other way (walking is symmetric)."""
        n_from = len(self.indptr) - 1
        m = sp.csr_matrix((np.arange(len(self.indices)) + 1, self.indices, self.indptr),
                          shape=(n_from, self.n_to)).tocsc()
        order = m.data - 1
        return Legs(m.indptr.astype(np.int64), m.indices.astype(np.int64),
                    self.seconds[order], self.metres[order], n_from)


def _pairs_within(a: cKDTree, b: cKDTree, radius: float) -> tuple[np.ndarray, np.ndarray,
                                                                   np.ndarray]:
    """Index pairs and straight-line distances of the points of ``a`` and ``b`` at most
    ``radius`` apart, coincident points included."""
    m = a.sparse_distance_matrix(b, radius, output_type="coo_matrix")
    # sparse_distance_matrix leaves out zero distances: add coincident points (the tree query
    # visits only their neighbourhood; the lists are flattened by C iterators).
    same = a.query_ball_tree(b, r=0.0)
    counts = np.fromiter(map(len, same), dtype=np.int64, count=len(same))
    cols = np.fromiter(chain.from_iterable(same), dtype=np.int64, count=int(counts.sum()))
    return (np.concatenate([m.row, np.repeat(np.arange(len(same)), counts)]).astype(np.int64),
            np.concatenate([m.col, cols]).astype(np.int64),
            np.concatenate([m.data, np.zeros(len(cols))]))


@dataclass(frozen=True)
class StraightLineWalking:
    """Walking as the straight line × ``detour_factor`` at ``speed_kmh``, up to ``max_walk_m``.

    Parameters
    ----------
    speed_kmh
        Walking speed in km/h.
    max_walk_m
        Longest walking leg in metres, measured after the detour factor.
    detour_factor
        Ratio of walked to straight-line distance.
    """

    speed_kmh: float = 4.5
    max_walk_m: float = 1000.0
    detour_factor: float = 1.3
    _trees: dict[bytes, cKDTree] = field(default_factory=dict, init=False, repr=False,
                                         compare=False)

    def _tree(self, xy: np.ndarray) -> cKDTree:
        """A k-d tree of the points, kept for the last few point sets (stops, grids)."""
        key = hashlib.blake2b(np.ascontiguousarray(xy, dtype=np.float64).tobytes(),
                              digest_size=16).digest()
        tree = self._trees.get(key)
        if tree is None:
            tree = cKDTree(xy)
            if len(self._trees) >= 8:
                self._trees.pop(next(iter(self._trees)))
            self._trees[key] = tree
        return tree

    def legs(self, from_xy: np.ndarray, to_xy: np.ndarray, *, exclude_self: bool = False,
             max_m: float | None = None, crs: str = ANALYSIS_CRS) -> Legs:
        """Every leg up to ``max_m`` (default ``max_walk_m``) metres between two point sets.

        Both point sets are in the same projected CRS in metres, ``crs`` (straight lines are
        measured in it, so it should suit the data: see
        :func:`kurszugang.routing.timetable.working_crs`)."""
        limit = self.max_walk_m if max_m is None else float(max_m)
        a = cKDTree(from_xy) if len(from_xy) < 64 else self._tree(from_xy)
        b = a if to_xy is from_xy else (cKDTree(to_xy) if len(to_xy) < 64 else self._tree(to_xy))
        rows, cols, dist = _pairs_within(a, b, limit / self.detour_factor)
        dist = dist * self.detour_factor
        ok = dist <= limit + 1e-9
        if exclude_self:
            ok &= rows != cols
        return Legs.from_coo(rows[ok], cols[ok], dist[ok], len(from_xy), len(to_xy), self.speed_kmh)

    def describe(self) -> str:
        return (f"Luftlinie × {de_g(self.detour_factor)} mit "
                f"{de_g(self.speed_kmh)} km/h, Wege bis {de_g(self.max_walk_m)} m")


@dataclass(frozen=True)
class Snapped:
    """Points snapped to the nearest edge of a walking network.

    ``edge`` is the index of the nearest edge (-1 where none lies within ``max_snap_m``),
    ``offset_m`` the distance from the point to it (inf where not snapped), ``to_u_m``/``to_v_m``
    the walking distance from the point to the edge's end nodes (including ``offset_m``).
    """

    edge: np.ndarray
    offset_m: np.ndarray
    to_u_m: np.ndarray
    to_v_m: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        """Points within ``max_snap_m`` of the network (network walking)."""
        return self.edge >= 0

    @property
    def n_off_network(self) -> int:
        """Number of points farther than ``max_snap_m`` from the network: they walk by
        straight line × detour factor."""
        return int((self.edge < 0).sum())


@dataclass(frozen=True, eq=False)
class NetworkWalking:
    """Walking on an OSM footway network (:class:`kurszugang.io.osm.WalkNetwork`).

    Parameters
    ----------
    network
        The walking network (in any projected CRS in metres; points are given in ``crs``).
    speed_kmh
        Walking speed in km/h.
    max_walk_m
        Longest walking leg in metres (network distance, including the way to the network).
    max_snap_m
        Points farther than this from the nearest edge are not snapped (and reported); their
        walking legs are straight lines × ``detour_factor``.
    detour_factor
        Walked / straight-line distance for legs from or to points off the network.
    """

    network: WalkNetwork
    speed_kmh: float = 4.5
    max_walk_m: float = 1000.0
    max_snap_m: float = 500.0
    detour_factor: float = 1.3
    _graph: sp.csr_matrix = field(init=False, repr=False)
    _tree: shapely.STRtree = field(init=False, repr=False)
    _snaps: dict[bytes, Snapped] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_graph", self.network.to_csr())
        object.__setattr__(self, "_snaps", {})
        # An R-tree over the segments themselves: its nearest-geometry query finds the truly
        # nearest segment, however long (candidates by segment midpoints can miss a long one).
        net = self.network
        ends = np.stack([np.column_stack([net.x[net.edge_u], net.y[net.edge_u]]),
                         np.column_stack([net.x[net.edge_v], net.y[net.edge_v]])], axis=1)
        object.__setattr__(self, "_tree", shapely.STRtree(shapely.linestrings(ends)))

    def snap(self, xy: np.ndarray, *, crs: str = ANALYSIS_CRS) -> Snapped:
        """Snap points (coordinates in ``crs``, default EPSG:25832) to their nearest edge within
        ``max_snap_m``.

        Results are kept for the last few point sets (grids are snapped once per analysis).
        """
        xy = self._own(xy, crs)
        key = hashlib.blake2b(np.ascontiguousarray(xy, dtype=np.float64).tobytes(),
                              digest_size=16).digest()
        hit = self._snaps.get(key)
        if hit is None:
            hit = self._snap(xy)
            if len(self._snaps) >= 8:
                self._snaps.pop(next(iter(self._snaps)))
            self._snaps[key] = hit
        return hit

    def _own(self, xy: np.ndarray, crs: str) -> np.ndarray:
        """Points in ``crs`` as coordinates in the network's CRS."""
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        if crs == self.network.crs or len(xy) == 0:
            return xy
        x, y = transformer(crs, self.network.crs).transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    def _snap(self, xy: np.ndarray) -> Snapped:
        net = self.network
        n = len(xy)
        edge = np.full(n, -1, dtype=np.int64)
        off = np.full(n, np.inf)
        to_u = np.full(n, np.inf)
        to_v = np.full(n, np.inf)
        if n == 0 or net.n_edges == 0:
            return Snapped(edge, off, to_u, to_v)
        pairs = self._tree.query_nearest(shapely.points(xy), max_distance=self.max_snap_m,
                                         all_matches=True)
        # Equally near segments (a point nearest to a shared node): the lowest edge index.
        order = np.lexsort((pairs[1], pairs[0]))
        first = np.ones(len(order), dtype=bool)
        first[1:] = pairs[0][order][1:] != pairs[0][order][:-1]
        pt, e = pairs[0][order][first], pairs[1][order][first]
        ux, uy = net.x[net.edge_u[e]], net.y[net.edge_u[e]]
        dx, dy = net.x[net.edge_v[e]] - ux, net.y[net.edge_v[e]] - uy
        seg2 = dx * dx + dy * dy
        frac = np.where(seg2 > 0, ((xy[pt, 0] - ux) * dx + (xy[pt, 1] - uy) * dy)
                        / np.where(seg2 > 0, seg2, 1), 0.0).clip(0.0, 1.0)
        d = np.hypot(xy[pt, 0] - (ux + frac * dx), xy[pt, 1] - (uy + frac * dy))
        length = net.edge_length[e]  # geodesic: positions along it in proportion
        edge[pt], off[pt] = e, d
        to_u[pt] = d + frac * length
        to_v[pt] = d + (1 - frac) * length
        return Snapped(edge, off, to_u, to_v)

    def legs(self, from_xy: np.ndarray, to_xy: np.ndarray, *, exclude_self: bool = False,
             max_m: float | None = None, crs: str = ANALYSIS_CRS, batch: int = 64) -> Legs:
        """Walking legs up to ``max_m`` (default ``max_walk_m``) metres between two point sets
        (coordinates in ``crs``, default EPSG:25832).

        Between two points on the network (within ``max_snap_m`` of an edge) the shortest path
        on it; where either point lies farther from the network (outside a clipped extract, in
        a field) the straight line × ``detour_factor``.
        """
        limit = self.max_walk_m if max_m is None else float(max_m)
        a, b = self._own(from_xy, crs), self._own(to_xy, crs)
        s_from = self.snap(a, crs=self.network.crs)
        s_to = self.snap(b, crs=self.network.crs)
        net_r, net_c, net_d = self._network_pairs(s_from, s_to, limit, batch)
        off_r, off_c, off_d = self._straight_pairs(a, b, s_from.ok, s_to.ok, limit)
        rows = np.concatenate([net_r, off_r]).astype(np.int64)
        cols = np.concatenate([net_c, off_c]).astype(np.int64)
        dist = np.concatenate([net_d, off_d])
        if exclude_self:
            keep = rows != cols
            rows, cols, dist = rows[keep], cols[keep], dist[keep]
        return Legs.from_coo(rows, cols, dist, len(a), len(b), self.speed_kmh)

    def _network_pairs(self, s_from: Snapped, s_to: Snapped, limit: float,
                       batch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(from, to, metres) of the network legs between snapped points up to ``limit``."""
        net = self.network
        src = np.flatnonzero(s_from.ok)
        to_idx = np.flatnonzero(s_to.ok)
        u_to = net.edge_u[s_to.edge[to_idx]]
        v_to = net.edge_v[s_to.edge[to_idx]]
        rows_out, cols_out, dist_out = [np.empty(0, np.int64)], [np.empty(0, np.int64)], [
            np.empty(0)]
        for b0 in range(0, len(src), batch):
            pts = src[b0:b0 + batch]
            e = s_from.edge[pts]
            nodes = np.concatenate([net.edge_u[e], net.edge_v[e]])
            # Multi-source shortest paths from both end nodes of each origin's edge.
            d_nodes = dijkstra(self._graph, directed=False, indices=nodes, limit=limit)
            m = len(pts)
            du = d_nodes[:m] + s_from.to_u_m[pts][:, None]
            dv = d_nodes[m:] + s_from.to_v_m[pts][:, None]
            d_node = np.minimum(du, dv)  # from the point to every node
            d = np.minimum(d_node[:, u_to] + s_to.to_u_m[to_idx][None, :],
                           d_node[:, v_to] + s_to.to_v_m[to_idx][None, :])
            d = self._along_same_edge(d, s_from, pts, s_to, to_idx)
            r, c = np.nonzero(d <= limit)
            rows_out.append(pts[r])
            cols_out.append(to_idx[c])
            dist_out.append(d[r, c])
        return np.concatenate(rows_out), np.concatenate(cols_out), np.concatenate(dist_out)

    def _along_same_edge(self, d: np.ndarray, s_from: Snapped, pts: np.ndarray, s_to: Snapped,
                         to_idx: np.ndarray) -> np.ndarray:
        """Distances ``d`` where both points lie on the same edge: walk along it directly."""
        same = s_from.edge[pts][:, None] == s_to.edge[to_idx][None, :]
        if not same.any():
            return d
        length = self.network.edge_length[s_from.edge[pts]]
        length_to = self.network.edge_length[s_to.edge[to_idx]]
        fa = (s_from.to_u_m[pts] - s_from.offset_m[pts]) / np.where(length > 0, length, 1)
        fb = (s_to.to_u_m[to_idx] - s_to.offset_m[to_idx]) / np.where(length_to > 0, length_to, 1)
        along = (np.abs(fa[:, None] - fb[None, :]) * length[:, None]
                 + s_from.offset_m[pts][:, None] + s_to.offset_m[to_idx][None, :])
        return np.where(same, np.minimum(d, along), d)

    def _straight_pairs(self, a: np.ndarray, b: np.ndarray, a_on: np.ndarray, b_on: np.ndarray,
                        limit: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(from, to, metres) of straight-line × detour legs up to ``limit`` for the pairs where
        either point is off the network."""
        radius = limit / self.detour_factor
        parts = [(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))]
        fa, tb = np.flatnonzero(~a_on), np.arange(len(b))  # off-network origins: to every point
        fb, ta = np.flatnonzero(a_on), np.flatnonzero(~b_on)  # on-network: to those off it
        for f, t in ((fa, tb), (fb, ta)):
            if len(f) and len(t):
                r, c, d = _pairs_within(cKDTree(a[f]), cKDTree(b[t]), radius)
                parts.append((f[r], t[c], d * self.detour_factor))
        rows, cols, dist = (np.concatenate(x) for x in zip(*parts, strict=True))
        ok = dist <= limit + 1e-9
        return rows[ok], cols[ok], dist[ok]

    def describe(self) -> str:
        return (f"OSM-Fußwegenetz ({de_number(self.network.n_nodes)} Knoten) mit "
                f"{de_g(self.speed_kmh)} km/h, Wege bis {de_g(self.max_walk_m)} m, "
                f"Anbindung bis {de_g(self.max_snap_m)} m, darüber hinaus Luftlinie × "
                f"{de_g(self.detour_factor)}")


#: German plural nouns for the point sets the router names (its keys stay English).
_WHAT_DE = {"points": "Punkte", "stops": "Haltestellen", "origins": "Startpunkte",
            "destinations": "Ziele", "destination": "Ziele", "cells": "Rasterzellen"}


def de_g(x: float) -> str:
    """``x`` like ``%g`` in German notation (``1.3`` -> ``"1,3"``, ``1000.0`` -> ``"1.000"``)."""
    return f"{x:,.6g}".replace(",", "\0").replace(".", ",").replace("\0", ".")


def what_de(what: str) -> str:
    """The German noun for a point set named in English by the router (else ``what``)."""
    return _WHAT_DE.get(what, what)


def check_snapped(walking: StraightLineWalking | NetworkWalking, xy: np.ndarray,
                  ids: np.ndarray, what: str, *, crs: str = ANALYSIS_CRS,
                  stops_xy: np.ndarray | None = None) -> np.ndarray:
    """Snap check for user points: returns the mask of snapped points, logs the others.

    Points off the network walk by straight line × detour factor. If no point at all lies
    near the network, that is taken for wrong coordinates (or the wrong extract) unless, with
    ``stops_xy`` (in ``crs``), some point is within a walk of a stop (a home next to a station
    outside a clipped extract).

    Raises
    ------
    RoutingError
        If no point lies within ``max_snap_m`` of the network (nor within a walk of a stop).
    """
    if not isinstance(walking, NetworkWalking):
        return np.ones(len(xy), dtype=bool)
    s = walking.snap(xy, crs=crs)
    bad = ~s.ok
    if bad.all() and len(xy) and not _near_stops(walking, xy, stops_xy):
        near = (f" und keiner näher als {de_g(walking.max_walk_m)} m an einer Haltestelle"
                if stops_xy is not None else "")
        raise RoutingError(
            f"keiner der {de_number(len(xy))} {what_de(what)} liegt näher als "
            f"{de_g(walking.max_snap_m)} m am Fußwegenetz{near}: die Koordinaten prüfen "
            f"(lon/lat vertauscht?) und das Gebiet des OSM-Auszugs")
    if bad.any():
        examples = ", ".join(str(i) for i in ids[bad][:5])
        log.warning("%s von %s %s liegen mehr als %s m vom Fußwegenetz entfernt: ihre Fußwege "
                    "sind Luftlinie × %s (z. B. %s)", de_number(int(bad.sum())),
                    de_number(len(xy)), what_de(what), de_g(walking.max_snap_m),
                    de_g(walking.detour_factor), examples)
    return ~bad


def _near_stops(walking: NetworkWalking, xy: np.ndarray, stops_xy: np.ndarray | None) -> bool:
    """Whether any point is within a straight-line walk (× detour) of a stop."""
    if stops_xy is None or len(stops_xy) == 0:
        return False
    d, _ = cKDTree(stops_xy).query(xy, k=1,
                                   distance_upper_bound=walking.max_walk_m / walking.detour_factor)
    return bool(np.isfinite(d).any())
