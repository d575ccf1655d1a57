"""Tests of kurszugang.io.osm: the walking network from OpenStreetMap extracts."""

from __future__ import annotations

import bz2
import gzip
import logging
from pathlib import Path

import networkx as nx
import numpy as np
import osmium
import osmnx as ox
import pandas as pd
import pytest
from pyproj import Geod, Transformer
from scipy.sparse.csgraph import dijkstra

from kurszugang.errors import InputError, InputFormatError
from kurszugang.io.detect import validate
from kurszugang.io.osm import (
    WalkNetwork,
    download_walk_network,
    read_walk_network,
    validate_walk_network,
    walk_network_from_graph,
    walkable_ways,
)
from tests.conftest import shared_file

GEOD = Geod(ellps="WGS84")

# ------------------------------------------------------------------------------------------------
# a tiny hand-written extract
# ------------------------------------------------------------------------------------------------

NODES = {
    1: (11.5700, 49.9400),
    2: (11.5700, 49.9410),
    3: (11.5715, 49.9410),
    4: (11.5715, 49.9420),
    5: (11.5730, 49.9420),
    6: (11.5730, 49.9430),
    7: (11.5745, 49.9430),
    8: (11.5745, 49.9440),
    9: (11.5760, 49.9440),
}
# way id -> (node refs, tags); node 999 is referenced but not in the file (a clipped extract)
WAYS = {
    100: ([1, 2, 3], {"highway": "footway"}),
    101: ([3, 4], {"highway": "motorway", "ref": "A 9"}),
    102: ([4, 5], {"highway": "residential", "foot": "no"}),
    103: ([5, 6], {"highway": "service", "access": "private"}),
    104: ([3, 4, 999, 5, 6], {"highway": "path"}),
    105: ([6, 7], {"highway": "cycleway", "foot": "designated"}),
    106: ([7, 8], {"highway": "cycleway"}),
    107: ([8, 9], {"highway": "trunk", "motorroad": "yes"}),
    108: ([2, 1], {"highway": "footway"}),  # the same segment as in way 100
    109: ([7, 8, 9, 7], {"highway": "pedestrian", "area": "yes"}),
    110: ([1, 2, 3, 1], {"building": "yes"}),
}
# what must come out: (OSM node pair) -> way id
EXPECTED_EDGES = {(1, 2): 100, (2, 3): 100, (3, 4): 104, (5, 6): 104, (6, 7): 105}


def _osm_xml(nodes: dict[int, tuple[float, float]], ways: dict[int, tuple[list[int], dict]]) -> str:
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", '<osm version="0.6" generator="test">']
    for nid, (lon, lat) in nodes.items():
        lines.append(f'  <node id="{nid}" version="1" lat="{lat}" lon="{lon}"/>')
    for wid, (refs, tags) in ways.items():
        lines.append(f'  <way id="{wid}" version="1">')
        lines += [f'    <nd ref="{r}"/>' for r in refs]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> Path:
    data = text.encode("utf-8")
    if path.name.lower().endswith(".gz"):
        data = gzip.compress(data)
    elif path.name.lower().endswith(".bz2"):
        data = bz2.compress(data)
    path.write_bytes(data)
    return path


@pytest.fixture
def tiny_path(tmp_path: Path) -> Path:
    return _write(tmp_path / "tiny.osm", _osm_xml(NODES, WAYS))


def _edge_table(net: WalkNetwork) -> dict[tuple[int, int], tuple[int, str, float]]:
    u = net.node_osm_id[net.edge_u]
    v = net.node_osm_id[net.edge_v]
    return {
        (int(min(a, b)), int(max(a, b))): (int(w), str(h), float(length))
        for a, b, w, h, length in zip(
            u, v, net.edge_way_id, net.edge_highway, net.edge_length, strict=True
        )
    }


def _assert_same_edges(got: WalkNetwork, expected: WalkNetwork) -> None:
    a, b = _edge_table(got), _edge_table(expected)
    assert a.keys() == b.keys()
    assert {k: v[:2] for k, v in a.items()} == {k: v[:2] for k, v in b.items()}
    for key, (_, _, length) in a.items():
        assert length == pytest.approx(b[key][2], rel=1e-9, abs=1e-9)


def _geodesic(a: int, b: int) -> float:
    (lon1, lat1), (lon2, lat2) = NODES[a], NODES[b]
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])


@pytest.mark.parametrize("name", ["tiny.osm", "tiny.osm.gz", "tiny.osm.bz2", "TINY.OSM.BZ2"])
def test_tiny_extract_gives_exactly_the_walkable_segments(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path / name, _osm_xml(NODES, WAYS))
    net = read_walk_network(path)

    edges = _edge_table(net)
    assert {pair: way for pair, (way, _, _) in edges.items()} == EXPECTED_EDGES
    assert edges[(1, 2)][1] == "footway"
    assert edges[(3, 4)][1] == "path"
    assert edges[(6, 7)][1] == "cycleway"
    for (a, b), (_, _, length) in edges.items():
        assert length == pytest.approx(_geodesic(a, b), abs=1e-6)
    assert edges[(1, 2)][2] == pytest.approx(111.2, abs=0.3)  # 0.001° of latitude
    assert edges[(2, 3)][2] == pytest.approx(107.5, abs=0.5)  # 0.0015° of longitude at 49.94°N

    assert net.node_osm_id.tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert net.node_osm_id.dtype == np.int64
    assert net.edge_u.dtype == np.int32 and net.edge_v.dtype == np.int32
    assert net.edge_way_id.dtype == np.int64
    assert np.all(net.edge_u != net.edge_v)
    assert net.lon.tolist() == [NODES[i][0] for i in range(1, 8)]
    assert net.lat.tolist() == [NODES[i][1] for i in range(1, 8)]
    x, y = Transformer.from_crs(4326, 25832, always_xy=True).transform(net.lon, net.lat)
    np.testing.assert_allclose(net.x, x)
    np.testing.assert_allclose(net.y, y)
    assert net.crs == "EPSG:25832"
    assert net.source == str(path)
    assert (net.n_nodes, net.n_edges) == (7, 5)
    assert repr(net) == f"WalkNetwork(7 nodes, 5 edges, crs='EPSG:25832', source={str(path)!r})"

    counts = net.report.counts
    assert counts["ways with a highway tag"] == 10
    assert counts["walkable ways"] == 4
    assert counts["ways excluded (highway=motorway)"] == 1
    assert counts["ways excluded (foot=no)"] == 1
    assert counts["ways excluded (access=private)"] == 1
    assert counts["ways excluded (cycleway without foot=yes/designated)"] == 1
    assert counts["ways excluded (motorroad=yes)"] == 1
    assert counts["ways excluded (area=yes)"] == 1
    assert counts["node references missing from the file"] == 1
    assert counts["duplicate segments dropped"] == 1
    assert counts["connected components"] == 2
    assert counts["nodes in the largest component"] == 4
    assert counts["largest component share"] == "57.1 %"
    assert net.report.ok


def test_missing_node_is_reported_and_logged(
    tiny_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="kurszugang.io.osm"):
        net = read_walk_network(tiny_path)
    [warning] = [p for p in net.report.warnings if p.code == "missing_node"]
    assert warning.file == "tiny.osm"
    assert warning.message == (
        "way 104 references 1 node(s) missing from the file (999); the way is split there"
    )
    assert "1 Knotenverweise in 1 Wegen fehlen in der Datei" in caplog.text
    assert "(Wege 104)" in caplog.text


def test_largest_component_keeps_the_bigger_piece(tiny_path: Path) -> None:
    main = read_walk_network(tiny_path).largest_component()
    assert main.node_osm_id.tolist() == [1, 2, 3, 4]
    assert set(_edge_table(main)) == {(1, 2), (2, 3), (3, 4)}
    assert main.report.counts["connected components"] == 1
    assert main.report.counts["nodes"] == 4
    assert main.report.notes[-1] == (
        "die größte zusammenhängende Komponente behalten: 4 von 7 Knoten (3 Knoten in anderen "
        "Komponenten weggelassen)"
    )


def test_csr_is_symmetric_with_lengths(tiny_path: Path) -> None:
    net = read_walk_network(tiny_path)
    csr = net.to_csr()
    assert csr.shape == (7, 7)
    assert csr.nnz == 10
    assert abs(csr - csr.T).max() == 0
    i, j = 0, 3  # OSM nodes 1 and 4
    expected = _geodesic(1, 2) + _geodesic(2, 3) + _geodesic(3, 4)
    assert dijkstra(csr, indices=i)[j] == pytest.approx(expected)
    assert np.isinf(dijkstra(csr, indices=0)[4])  # node 5 is in the other component


def test_geodataframes(tiny_path: Path) -> None:
    net = read_walk_network(tiny_path)
    nodes, edges = net.nodes_gdf(), net.edges_gdf()
    assert nodes.crs == "EPSG:25832" and edges.crs == "EPSG:25832"
    assert nodes["osmid"].tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert nodes.geometry.x.tolist() == pytest.approx(net.x.tolist())
    assert list(edges.columns) == [
        "u", "v", "osmid_u", "osmid_v", "way_id", "highway", "length", "geometry"
    ]  # fmt: skip
    assert (edges.geometry.geom_type == "LineString").all()
    assert edges.geometry.count_coordinates().tolist() == [2] * 5
    assert edges["way_id"].tolist() == [100, 100, 104, 104, 105]  # file order
    # planar length in UTM 32N differs from the geodesic length by the scale factor (< 0.1 %)
    np.testing.assert_allclose(edges.geometry.length, edges["length"], rtol=1e-3)


def test_arrays_are_read_only(tiny_path: Path) -> None:
    net = read_walk_network(tiny_path)
    with pytest.raises(ValueError, match="read-only"):
        net.edge_length[0] = 0.0


def test_to_networkx_is_osmnx_compatible_and_round_trips(tiny_path: Path) -> None:
    net = read_walk_network(tiny_path)
    G = net.to_networkx()
    assert isinstance(G, nx.MultiDiGraph)
    assert G.graph["crs"] == "EPSG:4326"
    assert G.number_of_nodes() == 7 and G.number_of_edges() == 10
    assert G.nodes[3] == {"x": 11.5715, "y": 49.9410, "street_count": 2}
    forward = G.edges[1, 2, 0]
    assert forward["osmid"] == 100 and forward["highway"] == "footway"
    assert forward["length"] == pytest.approx(_geodesic(1, 2))
    assert G.edges[2, 1, 0]["length"] == forward["length"]
    assert forward["oneway"] is False

    assert ox.routing.shortest_path(G, 1, 4, weight="length") == [1, 2, 3, 4]
    gdf_nodes, gdf_edges = ox.graph_to_gdfs(G)
    assert len(gdf_nodes) == 7 and len(gdf_edges) == 10
    assert gdf_edges.loc[(6, 7, 0), "highway"] == "cycleway"

    back = walk_network_from_graph(G)
    assert back.node_osm_id.tolist() == net.node_osm_id.tolist()
    np.testing.assert_array_equal(back.x, net.x)
    _assert_same_edges(back, net)
    assert back.report.counts["duplicate segments dropped"] == 5  # the reverse directions


def test_converter_splits_simplified_and_projected_graphs() -> None:
    net = read_walk_network(shared_file("osm-bayreuth/harsdorf.osm.pbf"))
    G = net.to_networkx()

    simplified = ox.simplify_graph(G)
    assert simplified.number_of_nodes() < net.n_nodes
    back = walk_network_from_graph(simplified)
    assert (back.n_nodes, back.n_edges) == (net.n_nodes, net.n_edges)
    assert back.edge_length.sum() == pytest.approx(net.edge_length.sum(), rel=1e-12)
    assert (back.node_osm_id < 0).sum() == back.n_nodes - simplified.number_of_nodes()

    projected = ox.project_graph(G, to_crs="EPSG:25832")
    back = walk_network_from_graph(projected)
    np.testing.assert_allclose(back.lon, net.lon, atol=1e-9)
    assert back.node_osm_id.tolist() == net.node_osm_id.tolist()
    _assert_same_edges(back, net)


def test_converter_rejects_graph_without_edges() -> None:
    G = nx.MultiDiGraph(crs="EPSG:4326")
    G.add_node(1, x=11.5, y=49.9)
    with pytest.raises(InputError, match="der Graph hat keine Kanten; erwartet ein Fußwegenetz"):
        walk_network_from_graph(G)


def test_bbox_keeps_only_nodes_inside(tiny_path: Path) -> None:
    net = read_walk_network(tiny_path, bbox=(11.5690, 49.9395, 11.5720, 49.9415))
    assert net.node_osm_id.tolist() == [1, 2, 3]
    assert set(_edge_table(net)) == {(1, 2), (2, 3)}
    assert net.report.counts["node references outside the bbox"] == 5  # 4, 5, 6 and 6, 7


def test_bbox_must_be_west_south_east_north(tiny_path: Path) -> None:
    with pytest.raises(InputError) as info:
        read_walk_network(tiny_path, bbox=(11.58, 49.94, 11.57, 49.95))
    assert str(info.value) == (
        "bbox (11.58, 49.94, 11.57, 49.95) ist leer oder außerhalb des Wertebereichs; erwartet "
        "(west, south, east, north) in Grad (EPSG:4326) mit west < east und south < north"
    )


def test_bbox_outside_the_extract(tiny_path: Path) -> None:
    with pytest.raises(InputError) as info:
        read_walk_network(tiny_path, bbox=(49.94, 11.57, 49.95, 11.58))  # lat/lon swapped
    assert str(info.value) == (
        "tiny.osm: enthält keinen begehbaren Abschnitt: 4 begehbare Wege, aber keiner hat zwei "
        "aufeinanderfolgende Knoten in der Datei und in der bbox (49.94, 11.57, 49.95, 11.58); "
        "erwartet (west, south, east, north) in Grad (EPSG:4326)"
    )


# ------------------------------------------------------------------------------------------------
# which ways are walkable
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "reason"),
    [
        ({"highway": "footway"}, None),
        ({"highway": "platform"}, None),
        ({"highway": "steps"}, None),
        ({"highway": "trunk"}, None),
        ({"highway": "track", "access": "private", "foot": "yes"}, None),
        ({"highway": "service", "access": "no", "foot": "permissive"}, None),
        ({"highway": "cycleway", "foot": "designated"}, None),
        ({"highway": "cycleway", "foot": "official"}, None),
        ({"highway": "cycleway"}, "cycleway without foot=yes/designated"),
        ({"highway": "motorway_link"}, "highway=motorway_link"),
        ({"highway": "construction"}, "highway=construction"),
        ({"highway": "trunk", "motorroad": "yes"}, "motorroad=yes"),
        ({"highway": "primary", "motorroad": "yes", "foot": "yes"}, "motorroad=yes"),
        ({"highway": "pedestrian", "area": "yes"}, "area=yes"),
        ({"highway": "path", "foot": "no", "access": "yes"}, "foot=no"),
        ({"highway": "residential", "access": "no"}, "access=no"),
        ({"highway": "service", "service": "private"}, "service=private"),
        ({"building": "yes"}, "no highway tag"),
    ],
)
def test_walkable_ways_rules(tags: dict[str, str], reason: str | None) -> None:
    ok, why = walkable_ways(pd.DataFrame([tags]))
    assert ok.tolist() == [reason is None]
    assert why.tolist() == [reason]


# ------------------------------------------------------------------------------------------------
# bad input, one case per test
# ------------------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFormatError) as info:
        read_walk_network(tmp_path / "nowhere.osm.pbf")
    assert str(info.value) == (
        "nowhere.osm.pbf: gibt es nicht; erwartet einen OpenStreetMap-Auszug "
        "(.osm, .osm.gz, .osm.bz2 oder .osm.pbf)"
    )


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.osm"
    path.write_bytes(b"")
    with pytest.raises(InputFormatError) as info:
        read_walk_network(path)
    assert str(info.value) == (
        "empty.osm: ist leer (0 Bytes); erwartet einen OpenStreetMap-Auszug "
        "(.osm, .osm.gz, .osm.bz2 oder .osm.pbf)"
    )


def test_text_file_named_osm(tmp_path: Path) -> None:
    path = tmp_path / "notes.osm"
    path.write_text("Haltestellen in Bayreuth\nnoch zu klären\n", encoding="utf-8")
    with pytest.raises(InputFormatError) as info:
        read_walk_network(path)
    message = str(info.value)
    assert message.startswith("notes.osm: lässt sich nicht als OpenStreetMap-XML lesen (XML "
                              "parsing error")
    assert message.endswith(
        "erwartet einen OpenStreetMap-Auszug (.osm, .osm.gz, .osm.bz2 oder .osm.pbf)"
    )


def test_png_named_pbf(tmp_path: Path) -> None:
    path = tmp_path / "map.osm.pbf"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(InputFormatError) as info:
        read_walk_network(path)
    assert str(info.value).startswith("map.osm.pbf: lässt sich nicht als OpenStreetMap-PBF lesen "
                                      "(PBF error")


def test_unknown_extension(tmp_path: Path) -> None:
    path = _write(tmp_path / "tiny.xml", _osm_xml(NODES, WAYS))
    with pytest.raises(InputFormatError, match=r"^tiny.xml: hat eine Endung, die kein OpenS"):
        read_walk_network(path)


def test_no_walkable_ways(tmp_path: Path) -> None:
    ways = {101: WAYS[101], 110: WAYS[110]}
    path = _write(tmp_path / "motorway.osm", _osm_xml(NODES, ways))
    with pytest.raises(InputError) as info:
        read_walk_network(path)
    assert not isinstance(info.value, InputFormatError)
    assert str(info.value) == (
        "motorway.osm: enthält keine begehbaren Wege: 2 Wege gelesen, 1 mit highway-Tag, alle "
        "ausgeschlossen (highway=motorway: 1); erwartet Fußwege, Pfade oder für Fußgänger offene "
        "Straßen"
    )


def test_no_ways_at_all(tmp_path: Path) -> None:
    path = _write(tmp_path / "nodes.osm.gz", _osm_xml(NODES, {}))
    with pytest.raises(InputError) as info:
        read_walk_network(path)
    assert str(info.value) == (
        "nodes.osm.gz: enthält keine begehbaren Wege: 0 Wege gelesen, 0 mit highway-Tag; "
        "erwartet Fußwege, Pfade oder für Fußgänger offene Straßen"
    )


def test_only_clipped_single_node_ways(tmp_path: Path) -> None:
    ways = {200: ([1, 998], {"highway": "footway"})}
    path = _write(tmp_path / "clipped.osm", _osm_xml(NODES, ways))
    with pytest.raises(InputError) as info:
        read_walk_network(path)
    assert str(info.value) == (
        "clipped.osm: enthält keinen begehbaren Abschnitt: 1 begehbare Wege, aber keiner hat "
        "zwei aufeinanderfolgende Knoten in der Datei"
    )


# ------------------------------------------------------------------------------------------------
# validation reports
# ------------------------------------------------------------------------------------------------


def test_validate_reports_unreadable_file_instead_of_raising(tmp_path: Path) -> None:
    path = tmp_path / "empty.osm.pbf"
    path.write_bytes(b"")
    report = validate_walk_network(path)
    assert not report.ok
    [error] = report.errors
    assert (error.file, error.code) == ("empty.osm.pbf", "unreadable")
    assert error.message.startswith("ist leer (0 Bytes)")


def test_validate_reports_no_walkable_ways_with_counts(tmp_path: Path) -> None:
    path = _write(tmp_path / "motorway.osm", _osm_xml(NODES, {101: WAYS[101]}))
    report = validate(path)  # through the generic entry point of `kurszugang validate`
    assert not report.ok
    assert report.counts["ways with a highway tag"] == 1
    assert report.counts["ways excluded (highway=motorway)"] == 1
    assert report.errors[0].code == "no_walkable_ways"
    assert "enthält keine begehbaren Wege: 1 Wege gelesen" in report.errors[0].message


# ------------------------------------------------------------------------------------------------
# real extracts (Bayreuth 2014 XML, two clipped village PBFs)
# ------------------------------------------------------------------------------------------------

A9_WAY_IDS = [8081560, 10959888, 10959893, 10959894, 152111624, 184420573, 239192816]


@pytest.fixture(scope="module")
def bayreuth() -> WalkNetwork:
    return read_walk_network(shared_file("osm-bayreuth/north-bayreuth.osm.gz"))


def test_bayreuth_size_and_connectivity(bayreuth: WalkNetwork) -> None:
    net = bayreuth
    assert 12_000 <= net.n_nodes <= 14_500
    assert 12_500 <= net.n_edges <= 15_500
    counts = net.report.counts
    assert counts["ways with a highway tag"] == 2056
    assert counts["node references missing from the file"] == 0
    assert counts["nodes in the largest component"] / net.n_nodes > 0.95
    assert 500 <= net.edge_length.sum() / 1000 <= 600  # km of walkable segments
    assert net.edge_length.max() < 2_000
    xmin, ymin, xmax, ymax = net.bounds
    assert 675_000 < xmin < xmax < 688_000 and 5_537_000 < ymin < ymax < 5_549_000
    pairs = np.sort(np.column_stack([net.edge_u, net.edge_v]), axis=1)
    assert len(np.unique(pairs, axis=0)) == net.n_edges


def test_bayreuth_excludes_motorways_keeps_footways(bayreuth: WalkNetwork) -> None:
    net = bayreuth
    assert not np.isin(A9_WAY_IDS, net.edge_way_id).any()
    assert not np.isin(net.edge_highway, ["motorway", "motorway_link"]).any()
    assert net.report.counts["ways excluded (highway=motorway)"] == 64
    assert net.report.counts["ways excluded (highway=motorway_link)"] == 33
    assert (net.edge_highway == "footway").sum() > 100
    assert (net.edge_highway == "path").sum() > 1000
    assert (net.edge_highway == "steps").sum() > 0


def test_bayreuth_walking_distance_is_plausible(bayreuth: WalkNetwork) -> None:
    net = bayreuth
    labels = net.component_labels()
    main = np.flatnonzero(labels == np.bincount(labels).argmax())
    to_utm = Transformer.from_crs(4326, 25832, always_xy=True)
    ends = []
    for lon, lat in [(11.50, 50.03), (11.58, 49.99)]:
        px, py = to_utm.transform(lon, lat)
        ends.append(main[np.argmin(np.hypot(net.x[main] - px, net.y[main] - py))])
    a, b = ends
    walked = dijkstra(net.to_csr(), indices=a)[b]
    straight = np.hypot(net.x[a] - net.x[b], net.y[a] - net.y[b])
    assert straight > 5_000
    assert straight < walked < 2 * straight


def test_bayreuth_bbox(bayreuth: WalkNetwork) -> None:
    bbox = (11.55, 49.97, 11.59, 50.00)
    net = read_walk_network(shared_file("osm-bayreuth/north-bayreuth.osm.gz"), bbox=bbox)
    assert net.lon.min() >= 11.55 and net.lon.max() <= 11.59
    assert net.lat.min() >= 49.97 and net.lat.max() <= 50.00
    inside = (
        (bayreuth.lon >= 11.55) & (bayreuth.lon <= 11.59)
        & (bayreuth.lat >= 49.97) & (bayreuth.lat <= 50.00)
    )  # fmt: skip
    # every node inside the box with a segment to another node inside is kept
    both = inside[bayreuth.edge_u] & inside[bayreuth.edge_v]
    assert net.n_edges == both.sum()
    assert net.report.counts["node references outside the bbox"] > 0


@pytest.mark.parametrize(
    ("name", "nodes", "edges", "excluded_motorway"),
    [
        ("harsdorf.osm.pbf", (550, 750), (580, 780), 6),
        ("neudrossenfeld.osm.pbf", (1_000, 1_250), (1_050, 1_300), 0),
    ],
)
def test_village_pbf_extracts(
    name: str, nodes: tuple[int, int], edges: tuple[int, int], excluded_motorway: int
) -> None:
    path = shared_file(f"osm-bayreuth/{name}")
    net = read_walk_network(path)
    assert nodes[0] <= net.n_nodes <= nodes[1]
    assert edges[0] <= net.n_edges <= edges[1]
    counts = net.report.counts
    assert counts.get("ways excluded (highway=motorway)", 0) == excluded_motorway
    assert counts["nodes in the largest component"] / net.n_nodes > 0.9
    assert (net.edge_highway == "footway").sum() > 0
    # the extracts are clipped: ways cut at the border keep a single node and are reported
    assert counts["walkable ways without a usable segment"] > 0
    assert [p.code for p in net.report.warnings] == ["way_without_segment"]
    # the walking network of the village matches what osmium sees as walkable highway nodes
    refs = set()
    for way in osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter("highway")
    ):
        if way.tags["highway"] == "footway":
            refs.update(n.ref for n in way.nodes)
    footway_nodes = np.unique(
        np.concatenate(
            [net.node_osm_id[net.edge_u[net.edge_highway == "footway"]],
             net.node_osm_id[net.edge_v[net.edge_highway == "footway"]]]
        )
    )  # fmt: skip
    assert set(footway_nodes.tolist()) <= refs


def test_validate_village_extract() -> None:
    report = validate_walk_network(shared_file("osm-bayreuth/neudrossenfeld.osm.pbf"))
    assert report.ok
    assert report.counts["walkable ways"] == 195
    assert report.kind == "walking network (OpenStreetMap)"
    assert "begehbare Wege: 195" in report.format()


def test_download_needs_exactly_one_area() -> None:
    # checked before anything is fetched, so this runs offline
    with pytest.raises(InputError) as info:
        download_walk_network()
    assert str(info.value) == (
        "download_walk_network braucht genau eines von bbox und polygon (das Gebiet zum "
        "Herunterladen)"
    )


def test_walk_network_rejects_edges_to_unknown_nodes() -> None:
    with pytest.raises(ValueError, match=r"edge_u/edge_v must be node indices in \[0, n_nodes\)"):
        WalkNetwork(
            node_osm_id=np.array([1, 2]),
            x=np.zeros(2),
            y=np.zeros(2),
            lon=np.zeros(2),
            lat=np.zeros(2),
            edge_u=np.array([0]),
            edge_v=np.array([2]),
            edge_length=np.array([1.0]),
            edge_highway=np.array(["footway"]),
            edge_way_id=np.array([7]),
        )


# ------------------------------------------------------------------------------------------------
# networks far from Bavaria: geodesic lengths, projection into a suited CRS
# ------------------------------------------------------------------------------------------------


def _oregon_graph() -> nx.MultiDiGraph:
    """A footway grid of 4 x 4 nodes, about 110 m apart, near Bend, Oregon (121.3° W)."""
    G = nx.MultiDiGraph(crs="EPSG:4326")
    for i in range(4):
        for j in range(4):
            G.add_node(1 + 4 * i + j, x=-121.31 + 0.0014 * j, y=44.058 + 0.001 * i)
    for i in range(4):
        for j in range(4):
            n = 1 + 4 * i + j
            if j < 3:
                G.add_edge(n, n + 1, osmid=100 + n, highway="footway")
            if i < 3:
                G.add_edge(n, n + 4, osmid=200 + n, highway="residential")
    return G


def test_edge_lengths_are_geodesic_far_from_bavaria_and_to_crs_keeps_them() -> None:
    net = walk_network_from_graph(_oregon_graph())
    assert net.crs == "EPSG:25832" and net.n_edges == 24
    want = np.array([GEOD.inv(net.lon[u], net.lat[u], net.lon[v], net.lat[v])[2]
                     for u, v in zip(net.edge_u, net.edge_v, strict=True)])
    np.testing.assert_allclose(net.edge_length, want, rtol=1e-12)
    # x/y in EPSG:25832 are about 20 % too long here; in UTM zone 10 they are right.
    planar_32 = net.edges_gdf().geometry.length.to_numpy()
    assert (planar_32 / want > 1.15).all()
    utm10 = net.to_crs("EPSG:32610")
    assert utm10.crs == "EPSG:32610" and utm10.edges_gdf().crs == "EPSG:32610"
    assert utm10.nodes_gdf().crs == "EPSG:32610"
    np.testing.assert_allclose(utm10.edges_gdf().geometry.length, want, rtol=1e-3)
    np.testing.assert_array_equal(utm10.edge_length, net.edge_length)
    np.testing.assert_array_equal(utm10.lon, net.lon)
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32610", always_xy=True).transform(net.lon,
                                                                                      net.lat)
    np.testing.assert_allclose(utm10.x, x)
    np.testing.assert_allclose(utm10.y, y)
    assert net.to_crs("EPSG:25832") is net
    # a subset keeps the CRS
    assert utm10.subset(np.arange(16) < 8).crs == "EPSG:32610"


def test_walk_network_needs_a_metric_crs() -> None:
    net = walk_network_from_graph(_oregon_graph())
    with pytest.raises(ValueError, match=r"WalkNetwork.crs must be a projected CRS in metres "
                                         r"\(such as 'EPSG:25832'\), got 'EPSG:4326'"):
        net.to_crs("EPSG:4326")
