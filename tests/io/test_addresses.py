"""The address index (kurszugang.io.addresses) on real OpenStreetMap extracts and the demo."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import osmium
import pytest
from shapely.geometry import box

from kurszugang.crs import ANALYSIS_CRS, WEB_CRS
from kurszugang.demo import demo_files
from kurszugang.errors import InputError, InputFormatError
from kurszugang.io.addresses import address_index, read_addresses
from tests.conftest import shared_file


def _count(path, want):
    """An independent count with pyosmium's plain handler."""

    class Count(osmium.SimpleHandler):
        def __init__(self):
            super().__init__()
            self.n = 0

        def node(self, n):
            self.n += want(n.tags)

        def way(self, w):
            self.n += want(w.tags)

    h = Count()
    h.apply_file(str(path))
    return h.n


def test_every_address_with_a_street_is_read_from_a_real_extract():
    path = shared_file("osm-bayreuth/harsdorf.osm.pbf")
    found = read_addresses(path)
    want = _count(path, lambda t: "addr:housenumber" in t and (
        "addr:street" in t or "addr:place" in t))
    assert len(found.addresses) == want == 161
    first = found.addresses.iloc[0]
    assert (first["street"], first["housenumber"], first["postcode"], first["city"]) == (
        "Wiesenstraße", "2", "95463", "Bindlach")
    assert found.addresses["lon"].between(11.5, 11.7).all()
    assert found.addresses["lat"].between(49.9, 50.1).all()
    named = _count(path, lambda t: "highway" in t and "name" in t)
    assert len(found.streets) == named


def test_the_index_has_unique_labels_and_points_in_the_area(demo):
    path = shared_file("osm-bayreuth/north-bayreuth.osm.gz")
    found = read_addresses(path)
    # A made-up Gemeinde over the extract's south-west quarter (EPSG:25832).
    area = gpd.GeoDataFrame({"ags": ["09472999"], "gen": ["Testgemeinde"]},
                            geometry=[box(11.45, 49.95, 11.53, 50.0)], crs=WEB_CRS)
    index = address_index(found, area, buffer_m=0)
    assert index["label"].is_unique
    assert index["kind"].iloc[0] == "gemeinde" and index["label"].iloc[0] == "Testgemeinde"
    inside = area.to_crs(ANALYSIS_CRS).geometry.iloc[0]
    pts = gpd.points_from_xy(index["x"], index["y"], crs=ANALYSIS_CRS)
    assert np.all(pts.within(inside.buffer(1e-6)))
    adr = index[index["kind"] == "adresse"]
    lon, lat = found.addresses["lon"], found.addresses["lat"]
    n_inside = int(((lon > 11.45) & (lon < 11.53) & (lat > 49.95) & (lat < 50.0)).sum())
    assert len(adr) == n_inside > 50
    assert adr["label"].str.fullmatch(r".+ \S+, \d{5} .+").mean() > 0.9  # "Straße 2, 95444 Ort"
    assert set(index["kind"]) == {"gemeinde", "ort", "strasse", "adresse"}


def test_demo_streets_are_entries_with_their_place(demo):
    found = read_addresses(demo_files().osm)
    index = address_index(found, demo.gemeinden, buffer_m=2000)
    streets = index[index["kind"] == "strasse"]
    assert len(found.addresses) == 0 and len(streets) > 100
    assert "Bahnhofstraße, Beispielstadt" in set(streets["label"])
    assert set(index.loc[index["kind"] == "gemeinde", "label"]) == set(demo.gemeinden["gen"])
    assert index["label"].is_unique


def test_a_missing_or_foreign_file_is_named(tmp_path):
    with pytest.raises(InputError, match="gibt es nicht") as err:
        read_addresses(tmp_path / "fehlt.osm.pbf")
    assert "fehlt.osm.pbf" in str(err.value)
    other = tmp_path / "adressen.csv"
    other.write_text("a;b\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"ist kein OpenStreetMap-Auszug \(erwartet .osm"):
        read_addresses(other)
    broken = tmp_path / "kaputt.osm.pbf"
    broken.write_bytes(b"\x00\x01 not a pbf")
    with pytest.raises(InputFormatError, match="lässt sich nicht als OpenStreetMap lesen"):
        read_addresses(broken)
