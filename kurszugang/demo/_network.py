"""The walking network of Landkreis Beispiel: streets in the places, roads and tracks between them.

Every place gets a slightly rotated and jittered street grid clipped to its built-up radius (sized
by its population), the grid lines become named ways (``residential``, ``living_street``, a
``tertiary`` through road in the larger places) with a few diagonal ``footway`` shortcuts. Places
are joined by roads along the relative-neighbourhood graph of the place centres (made connected
where it is not): ``secondary`` on the shortest routes between the towns, ``tertiary`` on those
between other Gemeinde main places, ``unclassified`` elsewhere; some ``track`` and ``path`` ways
follow further Delaunay edges. No way crosses a place it does not serve. Written as
OpenStreetMap XML with ids in generation order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, shortest_path
from scipy.spatial import Delaunay

from kurszugang.crs import ANALYSIS_CRS, WEB_CRS, transformer
from kurszugang.demo import FICTIONAL_NOTE
from kurszugang.demo._district import District

_STREET_NAMES = (
    "Bahnhofstraße", "Schulstraße", "Lindenstraße", "Gartenstraße", "Bergstraße", "Ringstraße",
    "Am Anger", "Wiesenweg", "Feldstraße", "Mühlweg", "Birkenweg", "Ahornweg", "Sonnenstraße",
    "Waldstraße", "Kirchplatz", "Pfarrgasse", "Brunnenweg", "Am Bach", "Eichenstraße",
    "Jahnstraße", "Raiffeisenstraße", "Blumenstraße", "Rosenweg", "Fliederweg", "Kapellenweg",
    "Am Sportplatz", "Hofmarkstraße", "Weiherweg", "Ulmenweg", "Tannenweg", "Gewerbering",
    "Industriestraße", "Lerchenweg", "Amselweg", "Finkenweg", "Drosselweg", "Meisenweg",
    "Falkenstraße", "Am Hang", "Steinweg",
)
_NODE_SPACING_ROAD = 250.0  # metres between the nodes of a road between places
_TO_LONLAT = transformer(ANALYSIS_CRS, WEB_CRS)


@dataclass(frozen=True)
class Network:
    """The walking network: nodes, ways and the nodes of each way.

    Attributes
    ----------
    nodes
        DataFrame, one row per node in id order: ``node_id`` (OSM id), ``x``, ``y``
        (EPSG:25832, metres), ``lon``, ``lat`` (degrees, rounded to 7 decimals), ``place_id``
        (the place of a street node, -1 on roads between places).
    ways
        DataFrame, one row per way in id order: ``way_id``, ``highway``, ``name`` ("" if none),
        ``tracktype`` ("" if none).
    way_nodes
        DataFrame ``way_id``, ``seq``, ``node_id``: the node list of every way, in order.
    place_nodes
        DataFrame of the tagged place nodes (not part of any way): ``node_id``, ``lon``, ``lat``,
        ``place`` (town, village, hamlet), ``name``, ``population``.
    """

    nodes: pd.DataFrame
    ways: pd.DataFrame
    way_nodes: pd.DataFrame
    place_nodes: pd.DataFrame

    def nearest_node(
        self, place_id: int, x: float, y: float, *, exclude: set[int] | None = None
    ) -> int:
        """Row index of the street node of ``place_id`` nearest to ``(x, y)`` (EPSG:25832)."""
        nodes = self.nodes
        cand = np.flatnonzero(nodes["place_id"].to_numpy() == place_id)
        if exclude:
            cand = np.array([c for c in cand if int(c) not in exclude], dtype=np.int64)
        if len(cand) == 0:
            raise RuntimeError(f"demo generator: no free street node in place {place_id}")
        d = np.hypot(nodes["x"].to_numpy()[cand] - x, nodes["y"].to_numpy()[cand] - y)
        return int(cand[int(np.argmin(d))])


def _grid(
    rng: np.random.Generator, x0: float, y0: float, radius: float, pop: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Grid indices (i, j) and coordinates of a place's street nodes."""
    s = 130.0 if pop >= 2000 else 110.0 if pop >= 300 else 90.0
    n = max(1, int(radius // s))
    ii, jj = np.meshgrid(np.arange(-n, n + 1), np.arange(-n, n + 1), indexing="ij")
    keep = ii**2 + jj**2 <= (radius / s) ** 2 + 0.5
    ii, jj = ii[keep], jj[keep]
    theta = rng.uniform(0.0, np.pi / 2.0)
    jitter = rng.normal(0.0, 0.08 * s, size=(len(ii), 2))
    jitter[(ii == 0) & (jj == 0)] = 0.0
    lx, ly = ii * s, jj * s
    x = x0 + lx * np.cos(theta) - ly * np.sin(theta) + jitter[:, 0]
    y = y0 + lx * np.sin(theta) + ly * np.cos(theta) + jitter[:, 1]
    return ii, jj, x, y


def _lines(ii: np.ndarray, jj: np.ndarray) -> list[tuple[str, int, np.ndarray]]:
    """Grid lines as (axis, index, node positions in order): rows (``j`` fixed) then columns."""
    lines: list[tuple[str, int, np.ndarray]] = []
    for axis, fixed, along in (("row", jj, ii), ("col", ii, jj)):
        for value in np.unique(fixed):
            members = np.flatnonzero(fixed == value)
            members = members[np.argsort(along[members], kind="stable")]
            if len(members) >= 2:
                lines.append((axis, int(value), members))
    return lines


def _relative_neighbourhood(x: np.ndarray, y: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Mask of the Delaunay ``edges`` that belong to the relative neighbourhood graph."""
    d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    a, b = edges[:, 0], edges[:, 1]
    lune = np.maximum(d[a], d[b]) < d[a, b][:, None]
    lune[np.arange(len(edges)), a] = False
    lune[np.arange(len(edges)), b] = False
    return ~lune.any(axis=1)


def _clear_of_places(
    x: np.ndarray, y: np.ndarray, radius: np.ndarray, edges: np.ndarray
) -> np.ndarray:
    """Mask of edges whose straight line keeps 80 m away from every other place's built-up area."""
    ax, ay = x[edges[:, 0]][:, None], y[edges[:, 0]][:, None]
    bx, by = x[edges[:, 1]][:, None], y[edges[:, 1]][:, None]
    vx, vy = bx - ax, by - ay
    t = np.clip(((x[None, :] - ax) * vx + (y[None, :] - ay) * vy) / (vx**2 + vy**2), 0.0, 1.0)
    dist = np.hypot(ax + t * vx - x[None, :], ay + t * vy - y[None, :])
    blocked = dist < radius[None, :] + 80.0
    blocked[np.arange(len(edges)), edges[:, 0]] = False
    blocked[np.arange(len(edges)), edges[:, 1]] = False
    return ~blocked.any(axis=1)


def _road_classes(
    pairs: np.ndarray, length: np.ndarray, road: np.ndarray, main: np.ndarray, town: np.ndarray
) -> np.ndarray:
    """Class of each road: ``secondary`` on shortest routes between towns (and the Mittelzentrum),
    ``tertiary`` on shortest routes between other Gemeinde main places, else ``unclassified``."""
    n = int(max(pairs.max(), main.max())) + 1
    idx = np.flatnonzero(road)
    graph = coo_matrix((length[idx], (pairs[idx, 0], pairs[idx, 1])), shape=(n, n)).tocsr()
    _, pred = shortest_path(graph, directed=False, indices=main, return_predecessors=True)
    edge_of = {(int(a), int(b)): int(k) for k, (a, b) in zip(idx, pairs[idx], strict=True)}
    rank = np.zeros(len(pairs), dtype=np.int64)  # 0 unclassified, 1 tertiary, 2 secondary
    for si, s in enumerate(main):
        for t in main[main > s]:
            level = 2 if town[s] and town[t] else 1
            v = int(t)
            while v != s:
                u = int(pred[si, v])
                k = edge_of[(min(u, v), max(u, v))]
                rank[k] = max(rank[k], level)
                v = u
    return np.array(["unclassified", "tertiary", "secondary"])[rank]


def build_network(rng: np.random.Generator, district: District) -> Network:
    """Generate the walking network of ``district``.

    Parameters
    ----------
    rng
        The random generator of this part of the generation.
    district
        The district's places.

    Returns
    -------
    Network
        Nodes, ways and way node lists with deterministic ids.
    """
    places = district.places
    node_x: list[np.ndarray] = []
    node_y: list[np.ndarray] = []
    node_place: list[np.ndarray] = []
    way_rows: list[tuple[str, str, str]] = []
    way_members: list[np.ndarray] = []
    n_nodes = 0
    boundary_nodes: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    for p in places.to_dict("records"):
        pid = int(p["place_id"])
        ii, jj, x, y = _grid(rng, float(p["x"]), float(p["y"]), float(p["radius"]), int(p["pop"]))
        ids = n_nodes + np.arange(len(ii))
        node_x.append(x)
        node_y.append(y)
        node_place.append(np.full(len(ii), pid))
        big = p["kind"] == "main" and int(p["pop"]) >= 1500
        names = iter(_STREET_NAMES)
        for axis, value, members in _lines(ii, jj):
            if value == 0:
                highway = "tertiary" if big else "residential"
                name = "Hauptstraße" if axis == "row" else "Kirchstraße"
            else:
                highway = "living_street" if big and rng.random() < 0.15 else "residential"
                name = next(names, "")
            way_rows.append((highway, name, ""))
            way_members.append(ids[members])
        # a few diagonal footways through complete grid cells
        lookup = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(ii, jj, strict=True))}
        for (a, b), corner in sorted(lookup.items()):
            far = lookup.get((a + 1, b + 1))
            if far is not None and (a + 1, b) in lookup and (a, b + 1) in lookup:
                if rng.random() < 0.08:
                    way_rows.append(("footway", "", ""))
                    way_members.append(np.array([ids[corner], ids[far]]))
        ring = ii**2 + jj**2 >= (max(1, int(np.max(np.abs(ii)))) - 1) ** 2
        boundary_nodes[pid] = (ids[ring], x[ring], y[ring])
        n_nodes += len(ii)

    # roads, tracks and paths between places
    px, py = places["x"].to_numpy(), places["y"].to_numpy()
    radius = places["radius"].to_numpy()
    tri = Delaunay(np.column_stack([px, py]))
    simplices = tri.simplices
    pairs = np.vstack([simplices[:, [0, 1]], simplices[:, [1, 2]], simplices[:, [0, 2]]])
    pairs = np.unique(np.sort(pairs, axis=1), axis=0)
    clear = _clear_of_places(px, py, radius, pairs)
    rn = _relative_neighbourhood(px, py, pairs)
    length = np.hypot(px[pairs[:, 0]] - px[pairs[:, 1]], py[pairs[:, 0]] - py[pairs[:, 1]])
    road = clear & rn
    # join what the relative neighbourhood graph left apart, shortest clear edge first
    n_places = len(places)

    def components(mask: np.ndarray) -> tuple[int, np.ndarray]:
        graph = coo_matrix(
            (np.ones(int(mask.sum())), (pairs[mask, 0], pairs[mask, 1])),
            shape=(n_places, n_places),
        )
        n_comp, labels = connected_components(graph, directed=False)
        return int(n_comp), labels

    for k in np.argsort(length, kind="stable"):
        n_comp, labels = components(road)
        if n_comp == 1:
            break
        a, b = pairs[k]
        if clear[k] and not road[k] and labels[a] != labels[b]:
            road[k] = True
    if components(road)[0] != 1:
        raise RuntimeError("demo generator: the places cannot be joined by roads")
    extra = clear & ~road & (length < 5_000.0)
    draw = rng.random(len(pairs))
    track = extra & (draw < 0.5)
    path = extra & (draw >= 0.5) & (draw < 0.65)

    kind = places["kind"].to_numpy()
    role = places["role"].to_numpy()
    town = (kind == "main") & (role != "dorf")
    road_class = _road_classes(pairs, length, road, np.flatnonzero(kind == "main"), town)
    for k in np.flatnonzero(road | track | path):
        a, b = (int(v) for v in pairs[k])
        if track[k]:
            highway, tracktype = "track", "grade2"
        elif path[k]:
            highway, tracktype = "path", ""
        else:
            highway, tracktype = road_class[k], ""
        ends = []
        for here, there in ((a, b), (b, a)):
            ids, bx, by = boundary_nodes[here]
            d = np.hypot(px[there] - px[here], py[there] - py[here])
            tx = px[here] + (px[there] - px[here]) * radius[here] / d
            ty = py[here] + (py[there] - py[here]) * radius[here] / d
            m = int(np.argmin(np.hypot(bx - tx, by - ty)))
            ends.append((int(ids[m]), float(bx[m]), float(by[m])))
        (ia, xa, ya), (ib, xb, yb) = ends
        seg = float(np.hypot(xb - xa, yb - ya))
        n_mid = max(1, round(seg / _NODE_SPACING_ROAD)) - 1
        t = np.arange(1, n_mid + 1) / (n_mid + 1)
        bend = rng.uniform(-0.04, 0.04) * seg * np.sin(np.pi * t)
        bend += rng.uniform(-0.01, 0.01) * seg * np.sin(3 * np.pi * t)
        nx_, ny_ = -(yb - ya) / seg, (xb - xa) / seg
        mx = xa + t * (xb - xa) + bend * nx_
        my = ya + t * (yb - ya) + bend * ny_
        mid_ids = n_nodes + np.arange(n_mid)
        node_x.append(mx)
        node_y.append(my)
        node_place.append(np.full(n_mid, -1))
        n_nodes += n_mid
        way_rows.append((highway, "", tracktype))
        way_members.append(np.concatenate([[ia], mid_ids, [ib]]).astype(np.int64))

    x = np.concatenate(node_x)
    y = np.concatenate(node_y)
    lon, lat = _TO_LONLAT.transform(x, y)
    nodes = pd.DataFrame(
        {
            "node_id": np.arange(1, len(x) + 1, dtype=np.int64),
            "x": x, "y": y,
            "lon": np.round(lon, 7), "lat": np.round(lat, 7),
            "place_id": np.concatenate(node_place).astype(np.int64),
        }
    )
    ways = pd.DataFrame(way_rows, columns=["highway", "name", "tracktype"])
    ways.insert(0, "way_id", np.arange(1, len(ways) + 1, dtype=np.int64))
    sizes = np.array([len(m) for m in way_members])
    way_nodes = pd.DataFrame(
        {
            "way_id": np.repeat(ways["way_id"].to_numpy(), sizes),
            "seq": np.concatenate([np.arange(s) for s in sizes]),
            "node_id": np.concatenate(way_members).astype(np.int64) + 1,
        }
    )
    plon, plat = _TO_LONLAT.transform(px + 12.0, py + 12.0)
    place_tag = np.where(kind == "hamlet", "hamlet", np.where(town, "town", "village"))
    place_nodes = pd.DataFrame(
        {
            "node_id": len(x) + 1 + np.arange(len(places), dtype=np.int64),
            "lon": np.round(plon, 7), "lat": np.round(plat, 7),
            "place": place_tag, "name": places["name"].to_numpy(),
            "population": places["pop"].to_numpy(),
        }
    )
    return Network(nodes=nodes, ways=ways, way_nodes=way_nodes, place_nodes=place_nodes)


def _escape(values: pd.Series) -> pd.Series:
    """XML attribute escaping."""
    return (
        values.astype(str)
        .str.replace("&", "&amp;", regex=False)
        .str.replace("<", "&lt;", regex=False)
        .str.replace(">", "&gt;", regex=False)
        .str.replace('"', "&quot;", regex=False)
    )


def _fmt7(values: pd.Series | np.ndarray) -> np.ndarray:
    """Degrees with exactly 7 decimals."""
    return np.char.mod("%.7f", np.asarray(values, dtype=float))


def osm_xml(network: Network, *, seed: int,
            extent: tuple[float, float, float, float] | None = None) -> str:
    """The network as OpenStreetMap XML (API 0.6 format), ids and order deterministic.

    Parameters
    ----------
    network
        The generated network.
    seed
        The generator seed, named in the file's header comment.
    extent
        ``(minlon, minlat, maxlon, maxlat)`` the extract is cut to (its ``<bounds>``, widened
        to every node), as a real extract covers its whole area, not just its ways.

    Returns
    -------
    str
        The XML document.
    """
    nodes, ways, wn, pn = network.nodes, network.ways, network.way_nodes, network.place_nodes
    lat_all = np.concatenate([nodes["lat"].to_numpy(), pn["lat"].to_numpy()])
    lon_all = np.concatenate([nodes["lon"].to_numpy(), pn["lon"].to_numpy()])
    if extent is not None:
        lon_all = np.concatenate([lon_all, [extent[0], extent[2]]])
        lat_all = np.concatenate([lat_all, [extent[1], extent[3]]])
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<osm version="0.6" generator="kurszugang demo generator (fiktiv / fictional)">',
        f"  <!-- {FICTIONAL_NOTE}. Generated with seed {seed}; not OpenStreetMap data. -->",
        f'  <bounds minlat="{lat_all.min():.7f}" minlon="{lon_all.min():.7f}" '
        f'maxlat="{lat_all.max():.7f}" maxlon="{lon_all.max():.7f}"/>',
    ]
    node_lines = pd.Series(
        '  <node id="' + nodes["node_id"].astype(str).to_numpy().astype(object)
        + '" version="1" lat="' + _fmt7(nodes["lat"]).astype(object)
        + '" lon="' + _fmt7(nodes["lon"]).astype(object) + '"/>'
    )
    # tagged place nodes: opening line, tags, closing line, ordered by (node, part)
    popen = (
        '  <node id="' + pn["node_id"].astype(str).to_numpy().astype(object)
        + '" version="1" lat="' + _fmt7(pn["lat"]).astype(object)
        + '" lon="' + _fmt7(pn["lon"]).astype(object) + '">'
    )
    ptags = pd.concat(
        [
            pd.DataFrame({"id": pn["node_id"], "part": 1, "k": "name", "v": pn["name"]}),
            pd.DataFrame({"id": pn["node_id"], "part": 2, "k": "place", "v": pn["place"]}),
            pd.DataFrame(
                {"id": pn["node_id"], "part": 3, "k": "population",
                 "v": pn["population"].astype(str)}
            ),
        ]
    )
    ptags["line"] = '    <tag k="' + ptags["k"] + '" v="' + _escape(ptags["v"]) + '"/>'
    place_parts = pd.concat(
        [
            pd.DataFrame({"id": pn["node_id"], "part": 0, "line": popen}),
            ptags[["id", "part", "line"]],
            pd.DataFrame({"id": pn["node_id"], "part": 9, "line": "  </node>"}),
        ]
    ).sort_values(["id", "part"], kind="stable")

    wtags = []
    for part, key in ((1, "highway"), (2, "name"), (3, "tracktype")):
        sub = ways.loc[ways[key] != "", ["way_id", key]]
        wtags.append(
            pd.DataFrame(
                {"id": sub["way_id"], "part": part, "seq": 0,
                 "line": '    <tag k="' + key + '" v="' + _escape(sub[key]) + '"/>'}
            )
        )
    way_parts = pd.concat(
        [
            pd.DataFrame(
                {"id": ways["way_id"], "part": -1, "seq": 0,
                 "line": '  <way id="' + ways["way_id"].astype(str) + '" version="1">'}
            ),
            pd.DataFrame(
                {"id": wn["way_id"], "part": 0, "seq": wn["seq"],
                 "line": '    <nd ref="' + wn["node_id"].astype(str) + '"/>'}
            ),
            *wtags,
            pd.DataFrame({"id": ways["way_id"], "part": 9, "seq": 0, "line": "  </way>"}),
        ]
    ).sort_values(["id", "part", "seq"], kind="stable")
    body = [
        *head,
        *node_lines.tolist(),
        *place_parts["line"].tolist(),
        *way_parts["line"].tolist(),
        "</osm>",
    ]
    return "\n".join(body) + "\n"
