"""The walking network from OpenStreetMap: every way a pedestrian may use, as straight segments.

A local extract (``.osm``, ``.osm.gz``, ``.osm.bz2``, ``.osm.pbf``) is read with pyosmium without
any network access; :func:`download_walk_network` fetches the same from the Overpass API through
osmnx when the user asks for it. Either way the result is a :class:`WalkNetwork`: flat numpy arrays
of nodes (OSM node id, lon/lat and EPSG:25832 metres) and undirected edges (one per pair of
consecutive OSM nodes of a walkable way, each pair once, with its length in metres). The network is
not simplified, so that points can be snapped to the nearest straight segment.

Which ways count as walkable is described in ``docs/walking-network.md`` and in
:func:`walkable_ways`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from pyproj import CRS, Geod
from scipy import sparse
from scipy.sparse import csgraph

from kurszugang.crs import ANALYSIS_CRS, WEB_CRS, transformer
from kurszugang.errors import InputError, InputFormatError
from kurszugang.io._report import ValidationReport, german_number

if TYPE_CHECKING:
    import geopandas as gpd
    import networkx as nx
    from shapely.geometry.base import BaseGeometry

__all__ = [
    "ACCESS_FORBIDDEN",
    "EXCLUDED_HIGHWAY",
    "FOOT_ALLOWED",
    "FOOT_FORBIDDEN",
    "OSM_SUFFIXES",
    "WALK_CRS",
    "WalkNetwork",
    "download_walk_network",
    "read_walk_network",
    "validate_walk_network",
    "walk_network_from_graph",
    "walkable_ways",
]

logger = logging.getLogger(__name__)

#: The projected CRS of :attr:`WalkNetwork.x` / :attr:`WalkNetwork.y` as read (ETRS89 / UTM
#: zone 32N); :meth:`WalkNetwork.to_crs` gives the network in another projected CRS in metres.
WALK_CRS = ANALYSIS_CRS

#: File name endings read as OpenStreetMap extracts (pyosmium picks the format from the ending).
OSM_SUFFIXES = (".osm", ".osm.gz", ".osm.bz2", ".osm.pbf", ".pbf", ".o5m")

#: ``highway`` values that are never walkable: motorways, lifecycle states of roads that are not
#: (or no longer) built, race tracks, guided busways and ``highway=no``.
EXCLUDED_HIGHWAY = frozenset(
    {
        "motorway",
        "motorway_link",
        "construction",
        "proposed",
        "planned",
        "abandoned",
        "disused",
        "razed",
        "raceway",
        "bus_guideway",
        "no",
    }
)

#: ``foot`` values that allow walking even where ``access`` forbids it (and on cycleways).
#: ``official`` is the older spelling of ``designated``.
FOOT_ALLOWED = frozenset({"yes", "designated", "permissive", "official"})

#: ``foot`` values that forbid walking.
FOOT_FORBIDDEN = frozenset({"no", "private"})

#: ``access`` values that forbid walking unless ``foot`` is one of :data:`FOOT_ALLOWED`.
ACCESS_FORBIDDEN = frozenset({"no", "private"})

_KIND = "walking network (OpenStreetMap)"
_FORMATS = "einen OpenStreetMap-Auszug (.osm, .osm.gz, .osm.bz2 oder .osm.pbf)"
# the tags read from every highway way, in the column order of the way table
_TAG_KEYS = ("highway", "foot", "access", "area", "service", "motorroad")
# pyosmium's marker of a node reference without a location (node missing from the file)
_UNDEFINED_COORDINATE = 2147483647
# below this share of nodes in the largest component a warning is recorded
_FRAGMENTED_SHARE = 0.5
_MAX_EXAMPLES = 5


_GEOD = Geod(ellps="WGS84")


@lru_cache(maxsize=16)
def _is_metric(crs: str) -> bool:
    """Whether ``crs`` is a projected CRS with axes in metres."""
    try:
        c = CRS.from_user_input(crs)
    except Exception:  # pyproj raises CRSError and others for text it cannot read
        return False
    return bool(c.is_projected and all(a.unit_name in ("metre", "meter") for a in c.axis_info))


def _readonly(values: np.ndarray, dtype: Any) -> np.ndarray:
    out = np.array(values, dtype=dtype, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False, repr=False)
class WalkNetwork:
    """An undirected, unsimplified walking network in flat numpy arrays.

    Every OSM node of a walkable way is a node and every pair of consecutive nodes of a way is an
    edge (a straight segment), stored once per node pair (the shortest if several ways join the
    same pair). Walking is bidirectional, so ``oneway`` tags are ignored.

    Attributes
    ----------
    node_osm_id
        ``int64`` (n,): the OSM node id of each node, ascending (negative ids are vertices of
        simplified osmnx edges without an OSM node, see :func:`walk_network_from_graph`).
    x, y
        ``float64`` (n,): node coordinates in metres in ``crs`` (EPSG:25832 as read).
    lon, lat
        ``float64`` (n,): node coordinates in degrees, EPSG:4326.
    edge_u, edge_v
        ``int32`` (m,): node indices (rows of the node arrays) of each edge's ends; ``u != v``.
    edge_length
        ``float64`` (m,): geodesic length of the segment on the WGS84 ellipsoid, in metres (true
        metres anywhere on Earth, whatever the CRS of ``x`` and ``y``).
    edge_highway
        ``str`` (m,): the ``highway`` tag of the way the segment belongs to.
    edge_way_id
        ``int64`` (m,): the OSM id of that way.
    crs
        The projected CRS (in metres) of ``x`` and ``y``: ``"EPSG:25832"`` as read,
        another one after :meth:`to_crs`.
    source
        Where the network came from (a file path or a description of the download).
    report
        What was read, dropped and repaired (counts, warnings, notes).
    """

    node_osm_id: np.ndarray
    x: np.ndarray
    y: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length: np.ndarray
    edge_highway: np.ndarray
    edge_way_id: np.ndarray
    crs: str = WALK_CRS
    source: str = ""
    report: ValidationReport = field(
        default_factory=lambda: ValidationReport(source="", kind=_KIND)
    )

    def __post_init__(self) -> None:
        n = len(self.node_osm_id)
        m = len(self.edge_u)
        for name, dtype, size in (
            ("node_osm_id", np.int64, n),
            ("x", np.float64, n),
            ("y", np.float64, n),
            ("lon", np.float64, n),
            ("lat", np.float64, n),
            ("edge_u", np.int32, m),
            ("edge_v", np.int32, m),
            ("edge_length", np.float64, m),
            ("edge_highway", np.str_, m),
            ("edge_way_id", np.int64, m),
        ):
            values = getattr(self, name)
            if len(values) != size:
                raise ValueError(f"WalkNetwork.{name} has {len(values)} values, expected {size}")
            object.__setattr__(self, name, _readonly(values, dtype))
        if not _is_metric(self.crs):
            raise ValueError(f"WalkNetwork.crs must be a projected CRS in metres (such as "
                             f"{WALK_CRS!r}), got {self.crs!r}")
        if m and (
            min(self.edge_u.min(), self.edge_v.min()) < 0
            or max(self.edge_u.max(), self.edge_v.max()) >= n
        ):
            raise ValueError("WalkNetwork edge_u/edge_v must be node indices in [0, n_nodes)")

    def __repr__(self) -> str:
        return (
            f"WalkNetwork({self.n_nodes:,} nodes, {self.n_edges:,} edges, crs={self.crs!r}, "
            f"source={self.source!r})"
        )

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_osm_id)

    @property
    def n_edges(self) -> int:
        """Number of undirected edges (segments)."""
        return len(self.edge_u)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the nodes in metres in ``crs`` (NaN when empty)."""
        if self.n_nodes == 0:
            return (np.nan, np.nan, np.nan, np.nan)
        return (
            float(self.x.min()),
            float(self.y.min()),
            float(self.x.max()),
            float(self.y.max()),
        )

    def to_crs(self, crs: str) -> WalkNetwork:
        """The same network with ``x``/``y`` in another projected CRS in metres.

        Node coordinates are projected anew from ``lon``/``lat``; edges and their geodesic
        lengths stay as they are.

        Parameters
        ----------
        crs
            A projected CRS in metres, e.g. from :func:`kurszugang.crs.metric_crs_for`.

        Returns
        -------
        WalkNetwork
            ``self`` if it is already in ``crs``.

        Raises
        ------
        ValueError
            If ``crs`` is not a projected CRS in metres.

        Examples
        --------
        >>> from kurszugang.crs import metric_crs_for
        >>> net.crs
        'EPSG:25832'
        >>> net.to_crs(metric_crs_for(13.5, 49.0)).crs
        'EPSG:25833'
        """
        if crs == self.crs:
            return self
        x, y = transformer(WEB_CRS, crs).transform(self.lon, self.lat)
        return WalkNetwork(
            node_osm_id=self.node_osm_id, x=np.asarray(x, dtype=np.float64),
            y=np.asarray(y, dtype=np.float64), lon=self.lon, lat=self.lat, edge_u=self.edge_u,
            edge_v=self.edge_v, edge_length=self.edge_length, edge_highway=self.edge_highway,
            edge_way_id=self.edge_way_id, crs=crs, source=self.source, report=self.report,
        )

    def to_csr(self) -> sparse.csr_matrix:
        """The symmetric n×n adjacency matrix, weights = edge length in metres.

        Returns
        -------
        scipy.sparse.csr_matrix
            Entry ``[u, v]`` and ``[v, u]`` hold the length of edge ``u``–``v``. Zero-length
            segments (two OSM nodes at the same place) are stored as explicit zeros, which
            :mod:`scipy.sparse.csgraph` treats as edges.

        Examples
        --------
        >>> from scipy.sparse.csgraph import dijkstra
        >>> metres = dijkstra(net.to_csr(), indices=0)
        >>> metres.shape, round(float(metres[1]), 1)
        ((2372,), 136.6)
        """
        n = self.n_nodes
        rows = np.concatenate([self.edge_u, self.edge_v])
        cols = np.concatenate([self.edge_v, self.edge_u])
        data = np.concatenate([self.edge_length, self.edge_length])
        return sparse.coo_matrix((data, (rows, cols)), shape=(n, n)).tocsr()

    def component_labels(self) -> np.ndarray:
        """Connected component label of each node (``int32`` (n,), 0 = first component found).

        Examples
        --------
        >>> labels = net.component_labels()
        >>> labels.dtype, len(labels) == net.n_nodes, int(labels.max()) + 1
        (dtype('int32'), True, 1)
        """
        if self.n_nodes == 0:
            return np.zeros(0, dtype=np.int32)
        _, labels = csgraph.connected_components(self.to_csr(), directed=False)
        return labels.astype(np.int32)

    def subset(self, node_mask: np.ndarray, *, note: str = "") -> WalkNetwork:
        """The network restricted to the nodes where ``node_mask`` is True (and their edges).

        Parameters
        ----------
        node_mask
            Boolean array (n,).
        note
            A sentence added to the copied report's notes.

        Returns
        -------
        WalkNetwork
            Nodes keep their order; edges with an end outside the mask are dropped.

        Raises
        ------
        ValueError
            If ``node_mask`` does not have one value per node.

        Examples
        --------
        >>> small = net.subset(net.x < 750_000, note="west part only")
        >>> small.n_nodes, small.n_edges, small.report.notes[-1]
        (1227, 1620, 'west part only')
        """
        node_mask = np.asarray(node_mask, dtype=bool)
        if node_mask.shape != (self.n_nodes,):
            raise ValueError(f"node_mask must have shape ({self.n_nodes},)")
        new_index = np.cumsum(node_mask) - 1
        keep = node_mask[self.edge_u] & node_mask[self.edge_v]
        report = ValidationReport(
            source=self.report.source,
            kind=self.report.kind,
            counts=dict(self.report.counts),
            problems=list(self.report.problems),
            notes=list(self.report.notes) + ([note] if note else []),
        )
        result = WalkNetwork(
            node_osm_id=self.node_osm_id[node_mask],
            x=self.x[node_mask],
            y=self.y[node_mask],
            lon=self.lon[node_mask],
            lat=self.lat[node_mask],
            edge_u=new_index[self.edge_u[keep]],
            edge_v=new_index[self.edge_v[keep]],
            edge_length=self.edge_length[keep],
            edge_highway=self.edge_highway[keep],
            edge_way_id=self.edge_way_id[keep],
            crs=self.crs,
            source=self.source,
            report=report,
        )
        report.counts["nodes"] = result.n_nodes
        report.counts["edges"] = result.n_edges
        report.counts["total length (km)"] = f"{result.edge_length.sum() / 1000:,.1f}"
        _count_components(result, report)
        return result

    def largest_component(self) -> WalkNetwork:
        """The largest connected component (most nodes) as a network of its own.

        Returns
        -------
        WalkNetwork
            A copy holding only that component; its report notes how many nodes were left out.

        Examples
        --------
        >>> main = net.largest_component()
        >>> main.report.counts["connected components"]
        1
        >>> main.n_nodes
        2372
        """
        labels = self.component_labels()
        if self.n_nodes == 0:
            return self
        largest = int(np.bincount(labels).argmax())
        mask = labels == largest
        dropped = int(self.n_nodes - mask.sum())
        note = (
            f"die größte zusammenhängende Komponente behalten: {german_number(int(mask.sum()))} "
            f"von {german_number(self.n_nodes)} Knoten ({german_number(dropped)} Knoten in "
            f"anderen Komponenten weggelassen)"
        )
        logger.info("%s: %s", Path(self.source).name or self.source, note)
        return self.subset(mask, note=note)

    def to_networkx(self) -> nx.MultiDiGraph:
        """An osmnx-style graph: both directions of every edge, lon/lat node coordinates.

        Returns
        -------
        networkx.MultiDiGraph
            Nodes are OSM node ids with attributes ``x`` (lon), ``y`` (lat) and
            ``street_count``; ``G.graph["crs"] == "EPSG:4326"`` and ``G.graph["simplified"]`` is
            False, so osmnx functions (``graph_to_gdfs``, ``project_graph``, ``simplify_graph``,
            ``routing.shortest_path``) accept it. Each edge is added as ``u→v`` and ``v→u`` with
            key 0 and attributes ``osmid`` (way id), ``highway``, ``length`` (metres),
            ``oneway`` (False) and ``reversed``.

        Examples
        --------
        >>> import osmnx as ox
        >>> G = net.to_networkx()
        >>> nodes, edges = ox.graph_to_gdfs(G)
        >>> len(nodes) == net.n_nodes, len(edges) == 2 * net.n_edges
        (True, True)
        """
        import networkx as nx

        from kurszugang import __version__

        G = nx.MultiDiGraph(
            crs=WEB_CRS,
            simplified=False,
            created_with=f"kurszugang {__version__}",
            source=self.source,
        )
        degree = np.bincount(np.concatenate([self.edge_u, self.edge_v]), minlength=self.n_nodes)
        ids = self.node_osm_id.tolist()
        G.add_nodes_from(
            (i, {"y": la, "x": lo, "street_count": d})
            for i, la, lo, d in zip(
                ids, self.lat.tolist(), self.lon.tolist(), degree.tolist(), strict=True
            )
        )
        u_ids = self.node_osm_id[self.edge_u].tolist()
        v_ids = self.node_osm_id[self.edge_v].tolist()
        attrs = zip(
            self.edge_way_id.tolist(),
            self.edge_highway.tolist(),
            self.edge_length.tolist(),
            strict=True,
        )
        edges: list[tuple[int, int, int, dict[str, Any]]] = []
        for u, v, (way, hw, length) in zip(u_ids, v_ids, attrs, strict=True):
            data = {"osmid": way, "highway": hw, "oneway": False, "length": length}
            edges.append((u, v, 0, {**data, "reversed": False}))
            edges.append((v, u, 0, {**data, "reversed": True}))
        G.add_edges_from(edges)
        return G

    def nodes_gdf(self) -> gpd.GeoDataFrame:
        """The nodes as points in the network's CRS (EPSG:25832 as read).

        Returns
        -------
        geopandas.GeoDataFrame
            Indexed by node index; columns ``osmid`` (int64), ``lon``, ``lat`` (degrees) and
            ``geometry`` (Point, metres).

        Examples
        --------
        >>> net.nodes_gdf().to_file("nodes.gpkg")
        >>> Path("nodes.gpkg").exists()
        True
        """
        import geopandas as gpd
        import shapely

        return gpd.GeoDataFrame(
            {"osmid": self.node_osm_id, "lon": self.lon, "lat": self.lat},
            geometry=shapely.points(self.x, self.y),
            crs=self.crs,
        )

    def edges_gdf(self) -> gpd.GeoDataFrame:
        """The edges as straight two-point LineStrings in the network's CRS (EPSG:25832 as read).

        Returns
        -------
        geopandas.GeoDataFrame
            Indexed by edge index; columns ``u``, ``v`` (node indices), ``osmid_u``,
            ``osmid_v`` (OSM node ids), ``way_id``, ``highway``, ``length`` (metres, geodesic)
            and ``geometry``.

        Examples
        --------
        >>> net.edges_gdf().plot(column="highway")
        <Axes: xlabel='Easting [metre]', ylabel='Northing [metre]'>
        """
        import geopandas as gpd
        import shapely

        coords = np.stack(
            [
                np.column_stack([self.x[self.edge_u], self.y[self.edge_u]]),
                np.column_stack([self.x[self.edge_v], self.y[self.edge_v]]),
            ],
            axis=1,
        )
        geometry = shapely.linestrings(coords) if self.n_edges else np.empty(0, dtype=object)
        return gpd.GeoDataFrame(
            {
                "u": self.edge_u,
                "v": self.edge_v,
                "osmid_u": self.node_osm_id[self.edge_u],
                "osmid_v": self.node_osm_id[self.edge_v],
                "way_id": self.edge_way_id,
                "highway": pd.array(self.edge_highway, dtype="str"),
                "length": self.edge_length,
            },
            geometry=geometry,
            crs=self.crs,
        )


# ---------------------------------------------------------------------------------------------
# walkability
# ---------------------------------------------------------------------------------------------


def walkable_ways(tags: pd.DataFrame) -> tuple[np.ndarray, pd.Series]:
    """Decide for each way whether a pedestrian may use it.

    A way is walkable when it has a ``highway`` tag and none of these applies (checked in this
    order; the first that applies is the reason given):

    1. ``highway`` is one of :data:`EXCLUDED_HIGHWAY` (motorway, motorway_link, construction,
       proposed, planned, abandoned, disused, razed, raceway, bus_guideway, no);
    2. ``motorroad=yes`` (a Kraftfahrstraße, closed to pedestrians, whatever its highway class);
    3. ``area=yes`` (the outline of a square, not a path);
    4. ``foot=no`` or ``foot=private``;
    5. ``access=no`` or ``access=private`` without ``foot=yes|designated|permissive|official``;
    6. ``service=private`` without such a ``foot`` tag;
    7. ``highway=cycleway`` without such a ``foot`` tag (a German Radweg, sign 237, is closed to
       pedestrians; shared paths, sign 240, are tagged ``foot=designated``).

    Platforms, steps, tracks, paths, trunk roads without ``motorroad=yes`` and every other
    highway value are walkable. ``oneway`` is ignored.

    Parameters
    ----------
    tags
        One row per way with string (or missing) columns ``highway``, ``foot``, ``access``,
        ``area``, ``service`` and ``motorroad``; absent columns count as untagged.

    Returns
    -------
    walkable : numpy.ndarray
        Boolean (n,).
    reason : pandas.Series
        Why each way is excluded (e.g. ``"highway=motorway"``, ``"foot=no"``); missing where it
        is walkable.

    Raises
    ------
    Nothing
        Unknown tag values are treated like any other value.

    Examples
    --------
    >>> import pandas as pd
    >>> ok, why = walkable_ways(pd.DataFrame({"highway": ["footway", "motorway"]}))
    >>> ok.tolist(), why.tolist()
    ([True, False], [None, 'highway=motorway'])
    """
    n = len(tags)

    def col(key: str) -> pd.Series:
        if key in tags.columns:
            return tags[key].astype(object).where(tags[key].notna(), None)
        return pd.Series([None] * n, index=tags.index, dtype=object)

    highway, foot, access = col("highway"), col("foot"), col("access")
    area, service, motorroad = col("area"), col("service"), col("motorroad")
    foot_ok = foot.isin(FOOT_ALLOWED)
    rules: list[tuple[pd.Series, pd.Series | str]] = [
        (highway.isna(), "no highway tag"),
        (highway.isin(EXCLUDED_HIGHWAY), "highway=" + highway.astype(str)),
        (motorroad == "yes", "motorroad=yes"),
        (area == "yes", "area=yes"),
        (foot.isin(FOOT_FORBIDDEN), "foot=" + foot.astype(str)),
        (access.isin(ACCESS_FORBIDDEN) & ~foot_ok, "access=" + access.astype(str)),
        ((service == "private") & ~foot_ok, "service=private"),
        ((highway == "cycleway") & ~foot_ok, "cycleway without foot=yes/designated"),
    ]
    reason = pd.Series([None] * n, index=tags.index, dtype=object)
    for applies, why in reversed(rules):  # the first rule that applies wins
        reason = reason.mask(applies.to_numpy(dtype=bool), why)
    walkable = reason.isna().to_numpy()
    return walkable, reason


# ---------------------------------------------------------------------------------------------
# building a network from segments (shared by the file reader and the graph converter)
# ---------------------------------------------------------------------------------------------


def _examples(values: np.ndarray | Sequence[Any]) -> str:
    shown = ", ".join(str(v) for v in list(values[:_MAX_EXAMPLES]))
    return shown + (", ..." if len(values) > _MAX_EXAMPLES else "")


def _count_components(net: WalkNetwork, report: ValidationReport) -> None:
    """Write component counts (and a warning when fragmented) into ``report``."""
    labels = net.component_labels()
    n_components = int(labels.max()) + 1 if net.n_nodes else 0
    largest = int(np.bincount(labels).max()) if net.n_nodes else 0
    share = largest / net.n_nodes if net.n_nodes else 0.0
    report.counts["connected components"] = n_components
    report.counts["nodes in the largest component"] = largest
    report.counts["largest component share"] = f"{100 * share:.1f} %"
    if net.n_nodes and share < _FRAGMENTED_SHARE:
        report.warning(
            Path(report.source).name or report.source,
            None,
            None,
            f"the walking network falls apart into {n_components:,} pieces; the largest holds "
            f"only {100 * share:.1f} % of the nodes (a small or badly clipped extract?)",
            code="fragmented",
        )


def _network_from_segments(
    *,
    seg_u: np.ndarray,
    seg_v: np.ndarray,
    seg_way_id: np.ndarray,
    seg_highway: np.ndarray,
    node_id: np.ndarray,
    node_lon: np.ndarray,
    node_lat: np.ndarray,
    report: ValidationReport,
    source: str,
) -> WalkNetwork:
    """Nodes, lengths, de-duplication and projection for candidate segments given by node ids.

    ``node_id``/``node_lon``/``node_lat`` may repeat ids (the same id always has the same place);
    every id in ``seg_u``/``seg_v`` must be among them.
    """
    name = Path(source).name or source
    loops = seg_u == seg_v
    n_loops = int(loops.sum())
    report.counts["repeated consecutive nodes dropped"] = n_loops
    if n_loops:
        logger.info(
            "%s: %s Abschnitte der Länge null weggelassen, an einem im Weg wiederholten Knoten "
            "(Wege %s)",
            name,
            german_number(n_loops),
            _examples(np.unique(seg_way_id[loops])),
        )
    keep = ~loops
    seg_u, seg_v = seg_u[keep], seg_v[keep]
    seg_way_id, seg_highway = seg_way_id[keep], seg_highway[keep]

    # nodes: the ids used by segments, ascending; their place from the first occurrence
    ids, first = np.unique(node_id, return_index=True)
    used = np.unique(np.concatenate([seg_u, seg_v]))
    pos = np.searchsorted(ids, used)
    lon = np.asarray(node_lon, dtype=np.float64)[first[pos]]
    lat = np.asarray(node_lat, dtype=np.float64)[first[pos]]
    u = np.searchsorted(used, seg_u)
    v = np.searchsorted(used, seg_v)

    _, _, length = _GEOD.inv(lon[u], lat[u], lon[v], lat[v])
    length = np.asarray(length, dtype=np.float64)

    # one edge per unordered node pair: the shortest, ties to the first in file order
    lo = np.minimum(u, v).astype(np.int64)
    hi = np.maximum(u, v).astype(np.int64)
    key = lo * max(len(used), 1) + hi
    order = np.lexsort((np.arange(len(key)), length, key))
    first_of_pair = np.ones(len(order), dtype=bool)
    first_of_pair[1:] = key[order][1:] != key[order][:-1]
    kept = np.sort(order[first_of_pair])
    n_dup = len(key) - len(kept)
    report.counts["duplicate segments dropped"] = n_dup
    if n_dup:
        logger.info(
            "%s: %s Abschnitte zwischen schon verbundenen Knoten weggelassen (der kürzeste "
            "bleibt)",
            name,
            german_number(n_dup),
        )

    x, y = transformer(WEB_CRS, WALK_CRS).transform(lon, lat)
    net = WalkNetwork(
        node_osm_id=used,
        x=np.asarray(x, dtype=np.float64),
        y=np.asarray(y, dtype=np.float64),
        lon=lon,
        lat=lat,
        edge_u=u[kept],
        edge_v=v[kept],
        edge_length=length[kept],
        edge_highway=seg_highway[kept],
        edge_way_id=seg_way_id[kept],
        source=source,
        report=report,
    )
    report.counts["nodes"] = net.n_nodes
    report.counts["edges"] = net.n_edges
    report.counts["total length (km)"] = f"{net.edge_length.sum() / 1000:,.1f}"
    _count_components(net, report)
    return net


# ---------------------------------------------------------------------------------------------
# reading an extract
# ---------------------------------------------------------------------------------------------


def _check_bbox(bbox: Sequence[float] | None) -> tuple[float, float, float, float] | None:
    if bbox is None:
        return None
    expected = "(west, south, east, north) in Grad (EPSG:4326)"
    try:
        values = tuple(float(b) for b in bbox)
    except (TypeError, ValueError):
        raise InputError(
            f"{bbox!r} ist kein Rechteck; erwartet {expected}", column="bbox"
        ) from None
    if len(values) != 4 or not all(np.isfinite(values)):
        raise InputError(f"{bbox!r} ist kein Rechteck; erwartet {expected}", column="bbox")
    west, south, east, north = values
    if not (
        west < east
        and south < north
        and -180 <= west
        and east <= 180
        and -90 <= south
        and north <= 90
    ):
        raise InputError(
            f"{bbox!r} ist leer oder außerhalb des Wertebereichs; erwartet {expected} mit "
            "west < east und south < north",
            column="bbox",
        )
    return west, south, east, north


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputFormatError(f"gibt es nicht; erwartet {_FORMATS}", path=path)
    if path.is_dir():
        raise InputFormatError(f"ist ein Ordner; erwartet {_FORMATS}", path=path)
    if not path.name.lower().endswith(OSM_SUFFIXES):
        raise InputFormatError(
            f"hat eine Endung, die kein OpenStreetMap-Format ist; erwartet {_FORMATS}", path=path
        )
    if path.stat().st_size == 0:
        raise InputFormatError(f"ist leer (0 Bytes); erwartet {_FORMATS}", path=path)


def _format_of(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".pbf"):
        return "PBF"
    if name.endswith(".o5m"):
        return "O5M"
    return "XML"


def _osmium_file(path: Path) -> Any:
    """An ``osmium.io.File`` with the format named explicitly (so ``MAP.OSM.PBF`` works too)."""
    import osmium

    name = path.name.lower()
    fmt = next(
        (s.lstrip(".") for s in (".osm.gz", ".osm.bz2", ".osm.pbf", ".pbf", ".o5m", ".osm")
         if name.endswith(s)),
        "osm",
    )  # fmt: skip
    if fmt == "osm.pbf":
        fmt = "pbf"
    return osmium.io.File(str(path), fmt)


def _scan_highway_ways(path: Path) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Read every way with a highway tag: its tags, and its node refs with their locations.

    Returns the way table (columns ``way_id``, ``n_refs`` and the tags of ``_TAG_KEYS``) and flat
    arrays of node ids and pyosmium integer coordinates (1e-7 degrees, ``_UNDEFINED_COORDINATE``
    where the node is missing from the file), all ways' references one after another.
    """
    import osmium

    processor = (
        osmium.FileProcessor(_osmium_file(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    rows: list[tuple[Any, ...]] = []
    # (ref, x, y) of every node reference; x, y in 1e-7 degrees as pyosmium stores them
    locs: list[tuple[int, int, int]] = []
    try:
        # pyosmium hands over one way at a time; only the per-way tag look-up and the copy of
        # its node list happen in Python, everything else is vectorised below.
        for obj in processor:
            way = cast("osmium.osm.Way", obj)  # the entity filter lets only ways through
            tags = way.tags
            nodes = way.nodes
            rows.append((way.id, len(nodes), *(tags.get(k) for k in _TAG_KEYS)))
            locs.extend([(nd.ref, nd.x, nd.y) for nd in nodes])
    except RuntimeError as exc:
        raise InputFormatError(
            f"lässt sich nicht als OpenStreetMap-{_format_of(path)} lesen ({exc}); erwartet "
            f"{_FORMATS}",
            path=path,
        ) from exc
    table = pd.DataFrame.from_records(rows, columns=["way_id", "n_refs", *_TAG_KEYS]).astype(
        {"way_id": np.int64, "n_refs": np.int64}
    )
    flat = np.array(locs, dtype=np.int64).reshape(-1, 3)
    return table, flat[:, 0].copy(), flat[:, 1].copy(), flat[:, 2].copy()


def _count_all_ways(path: Path) -> int:
    """Number of ways of any kind in the file (only needed to explain an empty result)."""
    import osmium

    return sum(1 for _ in osmium.FileProcessor(_osmium_file(path), osmium.osm.WAY))


def _read(
    path: Path, bbox: tuple[float, float, float, float] | None, report: ValidationReport
) -> WalkNetwork:
    """Read ``path`` into a network, filling ``report`` on the way; raises InputError."""
    name = path.name
    _check_file(path)
    ways, refs, xs, ys = _scan_highway_ways(path)

    walkable, reason = walkable_ways(ways)
    report.counts["ways with a highway tag"] = len(ways)
    report.counts["walkable ways"] = int(walkable.sum())
    excluded = reason[~walkable].value_counts()
    for why, count in excluded.items():
        report.counts[f"ways excluded ({why})"] = int(count)
    if len(excluded):
        logger.info(
            "%s: %s von %s Wegen mit highway-Tag sind nicht begehbar: %s",
            name,
            german_number(int((~walkable).sum())),
            german_number(len(ways)),
            ", ".join(f"{why} {count}" for why, count in excluded.items()),
        )
    if not walkable.any():
        n_all = _count_all_ways(path)
        detail = ", ".join(f"{why}: {count}" for why, count in excluded.items())
        raise InputError(
            f"enthält keine begehbaren Wege: {german_number(n_all)} Wege gelesen, "
            f"{german_number(len(ways))} mit highway-Tag"
            + (f", alle ausgeschlossen ({detail})" if detail else "")
            + "; erwartet Fußwege, Pfade oder für Fußgänger offene Straßen",
            path=path,
        )

    # flat per-reference arrays of the walkable ways
    way_of_ref = np.repeat(np.arange(len(ways)), ways["n_refs"].to_numpy())
    ref_keep = walkable[way_of_ref]
    way_of_ref, refs = way_of_ref[ref_keep], refs[ref_keep]
    xs, ys = xs[ref_keep], ys[ref_keep]
    present = (xs != _UNDEFINED_COORDINATE) & (ys != _UNDEFINED_COORDINATE)
    lon = xs / 1e7
    lat = ys / 1e7
    report.counts["node references"] = len(refs)

    missing = ~present
    n_missing = int(missing.sum())
    report.counts["node references missing from the file"] = n_missing
    if n_missing:
        way_ids = ways["way_id"].to_numpy()
        miss_way = way_ids[way_of_ref[missing]]
        miss_ref = refs[missing]
        per_way = pd.DataFrame({"way": miss_way, "ref": miss_ref}).groupby("way", sort=False)["ref"]
        for way_id, ids in per_way:
            ids_list = ids.to_numpy()
            report.warning(
                name,
                None,
                None,
                f"way {way_id} references {len(ids_list)} node(s) missing from the file "
                f"({_examples(ids_list)}); the way is split there",
                code="missing_node",
            )
        logger.warning(
            "%s: %s Knotenverweise in %s Wegen fehlen in der Datei (ein beschnittener Auszug?); "
            "die Wege werden dort geteilt (Wege %s)",
            name,
            german_number(int(n_missing)),
            german_number(int(per_way.ngroups)),
            _examples(pd.unique(miss_way)),
        )

    usable = present.copy()
    if bbox is not None:
        west, south, east, north = bbox
        inside = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
        outside = present & ~inside
        report.counts["node references outside the bbox"] = int(outside.sum())
        report.notes.append(
            f"clipped to bbox west={west}, south={south}, east={east}, north={north} "
            "(EPSG:4326); segments leaving it were dropped"
        )
        usable &= inside

    # segments between consecutive usable references of the same way
    same_way = way_of_ref[:-1] == way_of_ref[1:]
    seg = np.flatnonzero(same_way & usable[:-1] & usable[1:])
    seg_way = way_of_ref[seg]
    has_segment = np.zeros(len(ways), dtype=bool)
    has_segment[seg_way] = True
    no_segment = walkable & ~has_segment
    n_no_segment = int(no_segment.sum())
    report.counts["walkable ways without a usable segment"] = n_no_segment
    if n_no_segment:
        example_ids = ways["way_id"].to_numpy()[no_segment]
        report.warning(
            name,
            None,
            None,
            f"{n_no_segment} walkable way(s) have fewer than two consecutive nodes in the file"
            f"{' and the bbox' if bbox is not None else ''} (cut at the border of the extract?)"
            f" and were dropped (ways {_examples(example_ids)})",
            code="way_without_segment",
        )
        logger.warning(
            "%s: %s begehbare Wege ohne zwei aufeinanderfolgende brauchbare Knoten weggelassen "
            "(Wege %s)",
            name,
            german_number(n_no_segment),
            _examples(example_ids),
        )
    if len(seg) == 0:
        raise InputError(
            f"enthält keinen begehbaren Abschnitt: {german_number(int(walkable.sum()))} "
            "begehbare Wege, aber keiner hat zwei aufeinanderfolgende Knoten in der Datei"
            + (
                f" und in der bbox {bbox}; erwartet (west, south, east, north) in Grad "
                "(EPSG:4326)"
                if bbox is not None
                else ""
            ),
            path=path,
        )

    highway = ways["highway"].to_numpy(dtype=str)
    way_ids = ways["way_id"].to_numpy()
    return _network_from_segments(
        seg_u=refs[seg],
        seg_v=refs[seg + 1],
        seg_way_id=way_ids[seg_way],
        seg_highway=highway[seg_way],
        node_id=refs[usable],
        node_lon=lon[usable],
        node_lat=lat[usable],
        report=report,
        source=str(path),
    )


def read_walk_network(path: str | Path, *, bbox: Sequence[float] | None = None) -> WalkNetwork:
    """Read the walking network of a local OpenStreetMap extract.

    Reads ``.osm`` (XML), ``.osm.gz``, ``.osm.bz2`` and ``.osm.pbf`` files with pyosmium, keeps
    the ways a pedestrian may use (see :func:`walkable_ways`) and returns every pair of
    consecutive nodes as an edge. Clipped extracts work: a reference to a node missing from the
    file is dropped and the way split there (counted in the report and logged).

    Parameters
    ----------
    path
        The extract.
    bbox
        ``(west, south, east, north)`` in degrees (EPSG:4326, the order osmnx uses); when given,
        only nodes inside it are kept and segments leaving it are dropped.

    Returns
    -------
    WalkNetwork
        Nodes in EPSG:25832 and lon/lat, undirected edges with geodesic lengths in metres, and
        a report of what was read, excluded and repaired.

    Raises
    ------
    InputFormatError
        If the file does not exist, is empty, has an ending other than an OSM format, or cannot
        be parsed as OSM data.
    InputError
        If it contains no walkable way (the message gives the counts of ways read), or ``bbox``
        is malformed.

    Examples
    --------
    >>> net = read_walk_network(demo.osm)
    >>> net.n_nodes, net.n_edges
    (2372, 3278)
    >>> print(net.report.format())
    Fußwegenetz (OpenStreetMap): beispiel.osm
      Wege mit highway-Merkmal: 734
      begehbare Wege: 734
      Knotenverweise: 4.012
      Knotenverweise ohne Knoten in der Datei: 0
      begehbare Wege ohne nutzbaren Abschnitt: 0
      wiederholte Knoten entfernt: 0
      doppelte Abschnitte entfernt: 0
      Knoten: 2.372
      Kanten: 3.278
      Gesamtlänge (km): 539.1
      zusammenhängende Teilnetze: 1
      Knoten im größten Teilnetz: 2.372
      Anteil des größten Teilnetzes: 100.0 %
      0 Fehler
      0 Warnungen
    """
    p = Path(path)
    box = _check_bbox(bbox)
    report = ValidationReport(source=str(p), kind=_KIND)
    net = _read(p, box, report)
    logger.info(
        "Fußwegenetz aus %s gelesen: %s Knoten, %s Kanten, %s Komponenten",
        p.name,
        german_number(net.n_nodes),
        german_number(net.n_edges),
        german_number(int(report.counts["connected components"])),
    )
    return net


def validate_walk_network(path: str | Path) -> ValidationReport:
    """Check an OpenStreetMap extract as a walking network without raising for bad data.

    Parameters
    ----------
    path
        The extract (``.osm``, ``.osm.gz``, ``.osm.bz2``, ``.osm.pbf``).

    Returns
    -------
    ValidationReport
        Counts (ways read and excluded per reason, nodes, edges, missing node references,
        connected components), warnings (``missing_node``, ``way_without_segment``,
        ``fragmented``) and, if the file cannot be used, one error saying why.

    Raises
    ------
    Nothing for bad data
        Unreadable, empty or non-OSM files and files without walkable ways become an error in
        the report.

    Examples
    --------
    >>> report = validate_walk_network(demo.osm)
    >>> report.ok
    True
    """
    p = Path(path)
    report = ValidationReport(source=str(p), kind=_KIND)
    try:
        _read(p, None, report)
    except InputFormatError as exc:
        report.error(p.name, None, None, exc.message, code="unreadable")
    except InputError as exc:
        report.error(p.name, None, None, exc.message, code="no_walkable_ways")
    return report


# ---------------------------------------------------------------------------------------------
# osmnx graphs and downloads
# ---------------------------------------------------------------------------------------------


def _first(value: Any) -> Any:
    """osmnx merges attributes of simplified edges into lists: take the first element."""
    if isinstance(value, list | tuple):
        return value[0] if value else None
    return value


def _way_id(value: Any) -> int:
    """The (first) OSM way id of an osmnx edge, -1 when absent."""
    value = _first(value)
    return -1 if value is None else int(value)


def walk_network_from_graph(G: nx.MultiDiGraph, *, source: str | None = None) -> WalkNetwork:
    """Convert an osmnx-style graph into a :class:`WalkNetwork`.

    Works with unsimplified graphs (each edge a straight segment) and simplified ones (an edge's
    ``geometry`` is split into its straight segments; its inner vertices become nodes with
    negative ids, shared by all edges through the same coordinates). Projected graphs are
    transformed back to lon/lat using ``G.graph["crs"]``. Edge directions, parallel edges and
    ``oneway`` are ignored; each node pair is kept once (the shortest). Lengths are recomputed
    geodesically, so they equal those of :func:`read_walk_network`.

    Parameters
    ----------
    G
        A networkx (Multi)(Di)Graph with node attributes ``x``, ``y`` and integer node ids, such
        as osmnx returns; edge attributes ``osmid`` and ``highway`` are used when present.
    source
        Description stored in ``WalkNetwork.source``; default ``G.graph.get("source")`` or
        ``"networkx graph"``.

    Returns
    -------
    WalkNetwork

    Raises
    ------
    InputError
        If the graph has no edges, node ids are not integers or nodes lack ``x``/``y``.

    Examples
    --------
    >>> import osmnx as ox
    >>> G = ox.graph_from_xml(demo.osm, simplify=False)
    >>> net = walk_network_from_graph(G)
    >>> net.n_nodes, net.n_edges
    (2372, 3278)
    """
    import shapely

    src = source or str(G.graph.get("source") or "networkx graph")
    report = ValidationReport(source=src, kind=_KIND)
    if G.number_of_edges() == 0:
        raise InputError("der Graph hat keine Kanten; erwartet ein Fußwegenetz", path=src)
    try:
        node_ids = np.fromiter(G.nodes, dtype=np.int64, count=G.number_of_nodes())
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputError(
            f"die Knotenkennungen des Graphen sind keine ganzen Zahlen ({exc}); erwartet "
            f"OSM-Knotenkennungen", path=src
        ) from exc
    try:
        nx_ = np.fromiter((d["x"] for _, d in G.nodes(data=True)), dtype=np.float64)
        ny_ = np.fromiter((d["y"] for _, d in G.nodes(data=True)), dtype=np.float64)
    except KeyError as exc:
        raise InputError(
            f"den Knoten des Graphen fehlt das Attribut {exc}; erwartet x und y (wie osmnx)",
            path=src
        ) from exc

    crs = CRS.from_user_input(G.graph.get("crs", WEB_CRS))
    to_lonlat = (
        None if crs.equals(CRS.from_user_input(WEB_CRS)) else transformer(crs.to_string(), WEB_CRS)
    )
    if to_lonlat is not None:
        nx_, ny_ = (np.asarray(a, dtype=np.float64) for a in to_lonlat.transform(nx_, ny_))

    edge_rows = list(G.edges(data=True))
    n_e = len(edge_rows)
    e_u = np.fromiter((r[0] for r in edge_rows), dtype=np.int64, count=n_e)
    e_v = np.fromiter((r[1] for r in edge_rows), dtype=np.int64, count=n_e)
    e_way = np.fromiter((_way_id(r[2].get("osmid")) for r in edge_rows), dtype=np.int64, count=n_e)
    e_hw = np.array([str(_first(r[2].get("highway")) or "unknown") for r in edge_rows], dtype=str)
    geoms: list[BaseGeometry | None] = [r[2].get("geometry") for r in edge_rows]
    has_geom = np.array([g is not None for g in geoms], dtype=bool)
    report.counts["graph nodes"] = G.number_of_nodes()
    report.counts["graph edges"] = n_e

    seg_u = [e_u[~has_geom]]
    seg_v = [e_v[~has_geom]]
    seg_way = [e_way[~has_geom]]
    seg_hw = [e_hw[~has_geom]]
    extra_id = np.zeros(0, dtype=np.int64)
    extra_lon = np.zeros(0, dtype=np.float64)
    extra_lat = np.zeros(0, dtype=np.float64)
    if has_geom.any():
        edge_idx = np.flatnonzero(has_geom)
        coords, which = shapely.get_coordinates(
            np.array([geoms[i] for i in edge_idx], dtype=object), return_index=True
        )
        if to_lonlat is not None:
            cx, cy = to_lonlat.transform(coords[:, 0], coords[:, 1])
            coords = np.column_stack([cx, cy])
        start = np.r_[True, which[1:] != which[:-1]]
        end = np.r_[which[1:] != which[:-1], True]
        inner = ~start & ~end
        # the ends of a geometry are the edge's nodes; inner vertices get negative ids, one per
        # distinct coordinate
        vid = np.empty(len(which), dtype=np.int64)
        vid[start] = e_u[edge_idx[which[start]]]
        vid[end] = e_v[edge_idx[which[end]]]
        uniq, inv = np.unique(coords[inner], axis=0, return_inverse=True)
        vid[inner] = -1 - inv.reshape(-1)
        extra_id = -1 - np.arange(len(uniq), dtype=np.int64)
        extra_lon, extra_lat = uniq[:, 0], uniq[:, 1]
        pair = np.flatnonzero(which[:-1] == which[1:])
        seg_u.append(vid[pair])
        seg_v.append(vid[pair + 1])
        seg_way.append(e_way[edge_idx[which[pair]]])
        seg_hw.append(e_hw[edge_idx[which[pair]]])
        report.notes.append(
            f"{len(edge_idx):,} simplified edges split into straight segments; "
            f"{len(uniq):,} inner vertices became nodes with negative ids"
        )

    return _network_from_segments(
        seg_u=np.concatenate(seg_u),
        seg_v=np.concatenate(seg_v),
        seg_way_id=np.concatenate(seg_way),
        seg_highway=np.concatenate(seg_hw),
        node_id=np.concatenate([node_ids, extra_id]),
        node_lon=np.concatenate([nx_, extra_lon]),
        node_lat=np.concatenate([ny_, extra_lat]),
        report=report,
        source=src,
    )


def download_walk_network(
    *, bbox: Sequence[float] | None = None, polygon: BaseGeometry | None = None
) -> WalkNetwork:
    """Download the walking network of an area from OpenStreetMap (Overpass API, via osmnx).

    This is the only function of the module that uses the network. It calls
    ``osmnx.graph_from_bbox`` or ``osmnx.graph_from_polygon`` with ``network_type="walk"``,
    ``simplify=False`` and ``retain_all=True`` and converts the result with
    :func:`walk_network_from_graph`. osmnx's own walk filter applies, which differs slightly
    from :func:`walkable_ways` (it drops all cycleways and platforms).

    Parameters
    ----------
    bbox
        ``(west, south, east, north)`` in degrees (EPSG:4326).
    polygon
        A shapely (Multi)Polygon in EPSG:4326. Give exactly one of ``bbox`` and ``polygon``.

    Returns
    -------
    WalkNetwork

    Raises
    ------
    InputError
        If neither or both of ``bbox`` and ``polygon`` are given, the bbox is malformed or the
        area has no walkable ways.

    Examples
    --------
    >>> # needs the internet (Overpass API)
    >>> net = download_walk_network(bbox=(11.56, 49.93, 11.60, 49.96))  # doctest: +SKIP

    The area is checked before anything is downloaded:

    >>> download_walk_network()
    Traceback (most recent call last):
    ...
    kurszugang.errors.InputError: download_walk_network braucht genau eines von bbox und polygon ...
    """
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    if (bbox is None) == (polygon is None):
        raise InputError(
            "download_walk_network braucht genau eines von bbox und polygon (das Gebiet zum "
            "Herunterladen)"
        )
    box = _check_bbox(bbox)
    try:
        if box is not None:
            G = ox.graph_from_bbox(box, network_type="walk", simplify=False, retain_all=True)
            source = f"OpenStreetMap via Overpass API, bbox {box}"
        else:
            G = ox.graph_from_polygon(polygon, network_type="walk", simplify=False, retain_all=True)
            source = "OpenStreetMap via Overpass API, polygon"
    except InsufficientResponseError as exc:
        raise InputError(f"keine begehbaren Wege im angefragten Gebiet gefunden ({exc})") from exc
    return walk_network_from_graph(G, source=source)
