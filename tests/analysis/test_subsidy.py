"""Travel-subsidy distances on the demo district (kurszugang.analysis.subsidy)."""

from __future__ import annotations

import logging

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from kurszugang.analysis.grid import analysis_grid
from kurszugang.analysis.subsidy import SUBSIDY_COLUMNS, subsidy_distances, subsidy_summary
from kurszugang.demo import demo_files
from kurszugang.errors import ConfigError
from kurszugang.io.boundaries import read_boundaries
from kurszugang.io.courses import read_courses
from kurszugang.io.osm import read_walk_network
from kurszugang.io.population import read_population_grid


@pytest.fixture(scope="module")
def demo():
    files = demo_files()
    gemeinden = read_boundaries(files.boundaries, layer="vg250_gem")
    grid = analysis_grid(gemeinden, read_population_grid(files.population), populated_only=True)
    return grid, read_courses(files.courses), read_walk_network(files.osm)


@pytest.fixture(scope="module")
def on_network(demo):
    grid, courses, net = demo
    return subsidy_distances(grid, courses, walk_network=net)


def _reference_distance(net, edges, tree, xy_from, sites_xy):
    """Walking metres from one point to the nearest site, with networkx and shapely only."""
    graph = nx.Graph()
    graph.add_weighted_edges_from(zip(edges["u"], edges["v"], edges["length"], strict=True),
                                  weight="length")

    def attach(name, x, y):
        point = shapely.Point(x, y)
        e = int(tree.query_nearest(point)[0])
        line = edges.geometry.iloc[e]
        offset = line.distance(point)
        frac = line.project(point, normalized=True)
        length = float(edges["length"].iloc[e])
        graph.add_edge(name, int(edges["u"].iloc[e]), length=offset + frac * length)
        graph.add_edge(name, int(edges["v"].iloc[e]), length=offset + (1 - frac) * length)
        return e, frac, offset, length

    cell = attach("cell", *xy_from)
    best = np.inf
    for i, (x, y) in enumerate(sites_xy):
        site = attach(f"site{i}", x, y)
        if site[0] == cell[0]:  # same edge: straight along it
            best = min(best, abs(site[1] - cell[1]) * cell[3] + site[2] + cell[2])
    lengths = nx.single_source_dijkstra_path_length(graph, "cell", weight="length")
    return min(best, *(lengths.get(f"site{i}", np.inf) for i in range(len(sites_xy))))


def test_network_distances_match_networkx(demo, on_network):
    grid, courses, net = demo
    assert list(on_network.columns) == list(SUBSIDY_COLUMNS)
    assert len(on_network) == (grid["inhabitants"] > 0).sum()
    edges = net.edges_gdf()
    tree = shapely.STRtree(np.asarray(edges.geometry.values))
    sites_xy = np.column_stack([courses.sites.geometry.x, courses.sites.geometry.y])
    have = on_network[on_network["distance_m"].notna()]
    # A spread of cells: near a site, in the middle, far away.
    pick = have.sort_values("distance_m").index[np.linspace(0, len(have) - 1, 7).astype(int)]
    for i in pick:
        xy = grid.loc[grid["cell_id"] == on_network.at[i, "cell_id"], ["x_utm", "y_utm"]]
        ref = _reference_distance(net, edges, tree, xy.to_numpy()[0], sites_xy)
        assert on_network.at[i, "distance_m"] == pytest.approx(ref, abs=0.01)


def test_network_distance_is_never_shorter_than_the_straight_line(demo, on_network):
    grid, courses, _ = demo
    sites_xy = np.column_stack([courses.sites.geometry.x, courses.sites.geometry.y])
    cells = grid.set_index("cell_id").loc[on_network["cell_id"].to_numpy()]
    straight = np.hypot(cells["x_utm"].to_numpy()[:, None] - sites_xy[None, :, 0],
                        cells["y_utm"].to_numpy()[:, None] - sites_xy[None, :, 1]).min(axis=1)
    d = on_network["distance_m"].to_numpy()
    ok = np.isfinite(d)
    # Edge lengths are geodesic, coordinates UTM: allow the projection's scale (< 0.1 %).
    assert (d[ok] >= straight[ok] * 0.999).all()
    # The nearest site id names a site whose straight-line distance is within the walk.
    site_at = dict(zip(courses.sites["site_id"], sites_xy.tolist(), strict=True))
    nxy = np.array([site_at[s] for s in on_network["nearest_site_id"][ok]])
    to_nearest = np.hypot(cells["x_utm"].to_numpy()[ok] - nxy[:, 0],
                          cells["y_utm"].to_numpy()[ok] - nxy[:, 1])
    assert (d[ok] >= to_nearest * 0.999).all()


def test_straight_line_distance_is_nearest_site_times_detour(demo):
    grid, courses, _ = demo
    out = subsidy_distances(grid, courses, detour_factor=1.25)
    sites_xy = np.column_stack([courses.sites.geometry.x, courses.sites.geometry.y])
    d = np.hypot(grid["x_utm"].to_numpy()[:, None] - sites_xy[None, :, 0],
                 grid["y_utm"].to_numpy()[:, None] - sites_xy[None, :, 1])
    np.testing.assert_allclose(out["distance_m"], d.min(axis=1) * 1.25)
    expected_ids = courses.sites["site_id"].to_numpy()[d.argmin(axis=1)]
    assert (out["nearest_site_id"].to_numpy() == expected_ids).all()
    assert out["eligible"].notna().all()


def test_eligibility_flips_between_3_and_5_km(demo, on_network):
    grid, courses, net = demo
    at3 = subsidy_distances(grid, courses, walk_network=net, distance_km=3)
    d = on_network["distance_m"].to_numpy()
    between = (d >= 3000) & (d < 5000)
    assert between.sum() > 50
    e5 = on_network["eligible"]
    e3 = at3["eligible"]
    assert not e5[between].any() and e3[between].all()
    assert (e5[d >= 5000]).all() and (e3[d >= 5000]).all()
    assert not e3[d < 3000].any()
    # Without a distance, eligibility is unknown under both rules.
    assert e5[np.isnan(d)].isna().all() and e3[np.isnan(d)].isna().all()


def test_summary_sums_the_cells_per_gemeinde(on_network):
    s = subsidy_summary(on_network)
    row = s.set_index("ags").loc["09999122"]  # Probing
    cells = on_network[on_network["ags"] == "09999122"]
    d = cells["distance_m"]
    assert row["gen"] == "Probing"
    assert row["inhabitants"] == cells["inhabitants"].sum()
    assert row["inh_ge_5km"] == cells.loc[d >= 5000, "inhabitants"].sum()
    assert row["part_ge_3km"] == cells.loc[d >= 3000, "participants"].sum()
    assert row["inh_unknown"] == cells.loc[d.isna(), "inhabitants"].sum()
    assert row["share_part_ge_5km"] == pytest.approx(100 * row["part_ge_5km"] / row["participants"])
    district = subsidy_summary(on_network, by="district", distances_km=(5,))
    assert list(district.columns) == ["district", "inhabitants", "participants", "inh_ge_5km",
                                      "part_ge_5km", "share_part_ge_5km", "inh_unknown",
                                      "part_unknown"]
    assert district["inh_ge_5km"].iloc[0] == s["inh_ge_5km"].sum()
    assert district["inhabitants"].iloc[0] == on_network["inhabitants"].sum()


def test_filter_by_site_ids_and_mask(demo, on_network):
    grid, courses, net = demo
    by_ids = subsidy_distances(grid, courses, walk_network=net, course_filter=["KS04", "KS08"])
    mask = courses.sites["site_id"].isin(["KS04", "KS08"]).to_numpy()
    by_mask = subsidy_distances(grid, courses, walk_network=net, course_filter=mask)
    pd.testing.assert_frame_equal(by_ids, by_mask)
    assert set(by_ids["nearest_site_id"].dropna()) == {"KS04", "KS08"}
    # Fewer sites: never nearer.
    d_all = on_network["distance_m"].to_numpy()
    d_two = by_ids["distance_m"].to_numpy()
    ok = np.isfinite(d_all)
    assert (d_two[ok] >= d_all[ok] - 1e-9).all()


def test_cell_far_from_the_network_is_reported_not_snapped(demo, on_network, caplog):
    grid, courses, net = demo
    snapped = on_network.loc[on_network["distance_m"].notna(), "cell_id"].iloc[:3]
    cells = grid[grid["cell_id"].isin(snapped)].copy()
    cells.loc[cells.index[1], "x_utm"] += 50_000.0  # 50 km east of every footway
    far_id = cells["cell_id"].iloc[1]
    with caplog.at_level(logging.WARNING, logger="kurszugang.analysis.subsidy"):
        out = subsidy_distances(cells, courses, walk_network=net)
    assert np.isnan(out["distance_m"].iloc[1])
    assert out["nearest_site_id"].isna().iloc[1] and out["eligible"].isna().iloc[1]
    assert out["distance_m"].notna().sum() == 2
    assert (f"1 von 3 bewohnten Zellen liegen mehr als 500 m vom Fußwegenetz entfernt und "
            f"bekommen keine Entfernung für den Zuschuss (z. B. {far_id})") in caplog.text


def test_unknown_site_id_in_the_filter(demo):
    grid, courses, net = demo
    with pytest.raises(ConfigError, match=r"unknown site id\(s\) in the filter: 'KS99'; the "
                                          r"course sites are KS01, KS02, "):
        subsidy_distances(grid, courses, walk_network=net, course_filter=["KS01", "KS99"])


def test_filter_mask_of_the_wrong_length(demo):
    grid, courses, _ = demo
    with pytest.raises(ConfigError, match="the site filter mask has 3 values for 8 sites"):
        subsidy_distances(grid, courses, course_filter=np.array([True, False, True]))


def test_distance_must_be_positive(demo):
    grid, courses, _ = demo
    with pytest.raises(ConfigError, match="subsidy distance must be a positive number of km, "
                                          "got 0"):
        subsidy_distances(grid, courses, distance_km=0)
