"""GeoPackage for QGIS and GeoTIFF surfaces, read back and checked against the analysis."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely

from kurszugang.analysis.catchments import isochrones, site_surfaces
from kurszugang.analysis.coverage import course_access, coverage_summary, gaps
from kurszugang.analysis.demand import class_sizes
from kurszugang.analysis.layers import result_layers
from kurszugang.demo import SCHOOL_DAY
from kurszugang.errors import ConfigError, InputError
from kurszugang.output.geopackage import (
    write_geopackage,
    write_results_geopackage,
    write_surfaces,
)

QGIS_STYLE_COLUMNS = ["f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column",
                      "styleName", "styleQML", "styleSLD", "useAsDefault", "description",
                      "owner", "ui", "update_time"]
LAYERS = ["gemeinden", "raster", "kursorte", "kurse", "einzugsbereiche", "haltestellen"]


@pytest.fixture(scope="module")
def gpkg(demo, tmp_path_factory):
    gem, feed, courses = demo.gemeinden, demo.feed, demo.courses
    cells = demo.cells(participant_factor=0.03)
    pool = demo.pool()
    access = course_access(pool, cells, courses, SCHOOL_DAY, max_threshold_min=60)
    # surfaces over the inhabited cells (a sparse raster of the same lattice) keep this fast
    surfaces = site_surfaces(pool.get(SCHOOL_DAY), cells, courses, arrive_by="08:30",
                             max_time_min=90, site_ids=["KS01", "KS03"])
    layers = result_layers(access, gem, courses=courses, catchments=surfaces, stops=feed)
    path = write_geopackage(tmp_path_factory.mktemp("gpkg") / "ergebnisse.gpkg", layers)
    return {"gem": gem, "feed": feed, "courses": courses, "access": access,
            "surfaces": surfaces, "layers": layers, "path": path}


def test_layers_are_in_epsg_25832_and_read_back(gpkg):
    path = gpkg["path"]
    listed = dict(pyogrio.list_layers(path).tolist())
    assert list(listed) == [*LAYERS, "layer_styles"]
    assert listed["gemeinden"] == "MultiPolygon" and listed["raster"] == "Polygon"
    assert listed["kursorte"] == listed["kurse"] == listed["haltestellen"] == "Point"
    assert listed["layer_styles"] is None  # a plain table
    for name in LAYERS:
        info = pyogrio.read_info(path, layer=name)
        assert info["crs"] == "EPSG:25832", name
        assert info["features"] == len(gpkg["layers"][name]), name
        assert info["geometry_name"] == "geom"


def test_gemeinden_values_equal_coverage_summary_and_gaps(gpkg):
    access = gpkg["access"]
    back = pyogrio.read_dataframe(gpkg["path"], layer="gemeinden")
    assert back["ags"].tolist() == sorted(gpkg["gem"]["ags"])
    assert "09999111" in set(back["ags"])  # leading zero intact
    summary = coverage_summary(access).set_index("ags")
    got = back.set_index("ags")
    for col in ("inhabitants", "participants", "inh_any", "part_any", "part_type_alpha",
                "inh_childcare", "part_only_on_demand"):
        want = summary[col].reindex(got.index).fillna(0.0)
        np.testing.assert_array_equal(got[col].to_numpy(float), want.to_numpy(float), col)
    ok = got["participants"] > 0
    np.testing.assert_allclose(got.loc[ok, "share_part_any"],
                               100 * got.loc[ok, "part_any"] / got.loc[ok, "participants"])
    assert got.loc[~ok, "share_part_any"].isna().all()
    g = gaps(access).set_index("ags")
    assert got.loc[g.index, "missing_types"].fillna("").tolist() == g["missing_types"].tolist()
    assert got.loc[g.index, "no_childcare"].astype(bool).tolist() == g["no_childcare"].tolist()
    # boundaries are the Gemeinden's own, reprojected only if needed
    gem = gpkg["gem"].to_crs(25832).set_index("ags")
    assert shapely.equals_exact(np.asarray(back.geometry.values),
                                np.asarray(gem.geometry.reindex(back["ags"]).values),
                                tolerance=1e-6).all()


def test_grid_cells_carry_the_attend_flags_of_the_analysis(gpkg):
    access = gpkg["access"]
    back = pyogrio.read_dataframe(gpkg["path"], layer="raster")
    att = access.attend()
    assert back["cell_id"].tolist() == access.cells["cell_id"].astype(str).tolist()
    np.testing.assert_array_equal(back["n_courses"].to_numpy(), att.sum(axis=1))
    np.testing.assert_array_equal(back["attend_any"].to_numpy(bool), att.any(axis=1))
    alpha = (access.courses["course_type"] == "alpha").to_numpy()
    np.testing.assert_array_equal(back["type_alpha"].to_numpy(bool), att[:, alpha].any(axis=1))
    # best_min within the threshold exactly where some course can be attended
    best = back["best_min"].to_numpy(float)
    within = np.nan_to_num(best, nan=np.inf) <= access.threshold_min
    np.testing.assert_array_equal(within, att.any(axis=1))
    k = int(np.flatnonzero(att.any(axis=1))[0])
    legs = np.fmax(access.time_there[k], access.time_back[k])
    assert best[k] == pytest.approx(np.nanmin(legs) / 60)
    # 100 m cells, reprojected: still about one hectare each
    assert back.geometry.area.between(9_900, 10_100).all()


def test_sites_and_courses_match_class_sizes(gpkg):
    access = gpkg["access"]
    courses = pyogrio.read_dataframe(gpkg["path"], layer="kurse")
    sizes = class_sizes(access, thresholds=(access.threshold_min,))
    assert courses["course_id"].tolist() == sizes["course_id"].tolist()
    np.testing.assert_array_equal(courses["participants_reach"].to_numpy(float),
                                  sizes["participants_45"].to_numpy(float))
    assert courses["feasible"].tolist() == sizes["feasible_45"].tolist()
    assert courses.loc[0, "start"] == f"{access.courses['start_time'].iloc[0] // 3600:02d}:" \
                                      f"{access.courses['start_time'].iloc[0] % 3600 // 60:02d}"
    sites = pyogrio.read_dataframe(gpkg["path"], layer="kursorte").set_index("site_id")
    assert sites.loc["KS01", "site_name"] == gpkg["courses"].sites.set_index("site_id").loc[
        "KS01", "site_name"]
    ks01 = (access.courses["site_id"] == "KS01").to_numpy()
    cells = access.cells
    reach = access.attend()[:, ks01].any(axis=1) & cells["in_district"].to_numpy(bool)
    assert sites.loc["KS01", "part_any"] == pytest.approx(
        cells["participants"].to_numpy(float)[reach].sum())
    point = gpkg["courses"].sites.set_index("site_id").geometry["KS01"]
    assert sites.geometry["KS01"].distance(point) < 1e-6


def test_catchment_bands_and_stops(gpkg):
    bands = pyogrio.read_dataframe(gpkg["path"], layer="einzugsbereiche")
    assert sorted(set(bands["site_id"])) == ["KS01", "KS03"]
    want = isochrones(gpkg["surfaces"]["KS03"], crs="EPSG:25832")
    got = bands[bands["site_id"] == "KS03"].reset_index(drop=True)
    assert got["label"].tolist() == want["label"].tolist()
    np.testing.assert_array_equal(got["n_cells"], want["n_cells"])
    np.testing.assert_allclose(got["area_km2"], want["area_km2"])
    assert got.geometry.area.sum() == pytest.approx(want.geometry.area.sum(), rel=1e-9)
    stops = pyogrio.read_dataframe(gpkg["path"], layer="haltestellen").set_index("stop_id")
    feed = gpkg["feed"]
    st = feed.stop_times.merge(feed.trips_on(SCHOOL_DAY)[["trip_id"]], on="trip_id")
    last = st.groupby("trip_id")["stop_sequence"].transform("max") == st["stop_sequence"]
    boarding = st[~last & (st["pickup_type"] != 1)]
    want = boarding.groupby("stop_id").size()
    np.testing.assert_array_equal(stops["departures"].to_numpy(),
                                  want.reindex(stops.index).fillna(0).to_numpy())
    assert stops["departures"].sum() > 100


def test_qgis_styles_are_embedded_as_default_styles(gpkg):
    path = gpkg["path"]
    with sqlite3.connect(path) as con:
        cols = [r[1] for r in con.execute("PRAGMA table_info(layer_styles)")]
        rows = pd.read_sql("SELECT * FROM layer_styles ORDER BY id", con)
        kind = con.execute("SELECT data_type FROM gpkg_contents WHERE table_name = "
                           "'layer_styles'").fetchone()[0]
    assert cols == ["id", *QGIS_STYLE_COLUMNS]
    assert kind == "attributes"
    assert rows["f_table_name"].tolist() == LAYERS
    assert (rows["f_geometry_column"] == "geom").all()
    assert (rows["useAsDefault"] == 1).all()
    assert (rows["f_table_schema"] == "").all() and (rows["styleName"] == rows["f_table_name"]).all()
    qml = {r.f_table_name: ET.fromstring(r.styleQML) for r in rows.itertuples()}
    assert all(root.tag == "qgis" for root in qml.values())
    gem = qml["gemeinden"].find("renderer-v2")
    assert gem.get("type") == "graduatedSymbol" and "share_part_any" in gem.get("attr")
    assert [r.get("upper") for r in gem.iter("range")][:5] == [
        "25.000000", "50.000000", "75.000000", "90.000000", "100.000000"]
    kurse = qml["kurse"].find("renderer-v2")
    assert kurse.get("type") == "categorizedSymbol" and kurse.get("attr") == "course_type"
    assert sorted(c.get("value") for c in kurse.iter("category")) == sorted(
        gpkg["access"].courses["course_type"].unique())
    bands = [c.get("value") for c in qml["einzugsbereiche"].iter("category")]
    assert bands == ["0-15 min", "15-30 min", "30-45 min", "45-60 min", "60-90 min"]
    assert qml["haltestellen"].find("renderer-v2").get("type") == "singleSymbol"


def test_a_runs_geopackage_carries_the_schema_labels_as_aliases(demo_results, tmp_path):
    path = write_results_geopackage(demo_results, tmp_path / "lauf.gpkg")
    with sqlite3.connect(path) as con:
        rows = pd.read_sql("SELECT f_table_name, styleQML FROM layer_styles", con)
    qml = {r.f_table_name: ET.fromstring(r.styleQML) for r in rows.itertuples()}
    aliases = {a.get("field"): a.get("name") for a in qml["gemeinden"].iter("alias")}
    assert aliases["part_any"] == "Teilnehmende: mindestens ein Kurs besuchbar"
    assert aliases["share_part_type_alpha"] == "Anteil Teilnehmende: Alphabetisierungskurs (%)"
    layers = dict(pyogrio.list_layers(path).tolist())
    assert set(demo_results.layers) <= set(layers)


def test_same_results_give_the_same_file(gpkg, tmp_path):
    again = write_geopackage(tmp_path / "noch_einmal.gpkg", gpkg["layers"])
    assert again.read_bytes() == gpkg["path"].read_bytes()


def test_geotiff_surfaces_read_back_with_rasterio(gpkg, tmp_path):
    paths = write_surfaces(gpkg["surfaces"], tmp_path / "reisezeiten")
    assert [p.name for p in paths] == ["reisezeit_KS01.tif", "reisezeit_KS03.tif"]
    surface = gpkg["surfaces"]["KS03"]
    with rasterio.open(paths[1]) as src:
        assert src.crs.to_epsg() == 3035
        assert np.isnan(src.nodata)
        assert src.transform == surface.transform
        band = src.read(1)
    values = band[surface.cell_row, surface.cell_col]
    np.testing.assert_array_equal(values, surface.cell_minutes.astype(np.float32))
    assert np.isfinite(values).sum() > 100 and np.isnan(values).any()
    style = ET.parse(paths[1].with_suffix(".qml")).getroot()
    assert style.find("pipe/rasterrenderer").get("type") == "singlebandpseudocolor"
    assert [i.get("value") for i in style.iter("item")] == ["15", "30", "45", "60", "90"]


def test_layer_without_crs_is_refused(tmp_path):
    layer = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(750000, 5466000)])
    with pytest.raises(InputError, match="layer 'kursorte' has no CRS: set the CRS its "
                                         "coordinates are in with .set_crs"):
        write_geopackage(tmp_path / "x.gpkg", {"kursorte": layer})


def test_reserved_layer_name_is_refused(tmp_path):
    layer = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs=25832)
    with pytest.raises(ConfigError, match="layer name 'layer_styles' is reserved"):
        write_geopackage(tmp_path / "x.gpkg", {"layer_styles": layer})


def test_style_that_is_not_xml_is_refused(tmp_path):
    layer = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs=25832)
    with pytest.raises(ConfigError, match="the style of layer 'punkte' is not valid XML"):
        write_geopackage(tmp_path / "x.gpkg", {"punkte": layer}, styles={"punkte": "<qgis>"})


def test_gemeinden_without_ags_are_refused(gpkg):
    gem = gpkg["gem"].drop(columns=["ags"])
    with pytest.raises(InputError, match="the Gemeinden need an 'ags' column"):
        result_layers(gpkg["access"], gem)


def test_surfaces_with_the_same_file_name_are_refused(gpkg, tmp_path):
    s = gpkg["surfaces"]["KS01"]
    with pytest.raises(ConfigError, match="two surfaces would both be written as "
                                          "reisezeit_KS01.tif"):
        write_surfaces([s, s], tmp_path)


def test_unknown_style_language_is_refused(tmp_path):
    layer = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs=25832)
    with pytest.raises(ConfigError, match="unknown language 'fr'"):
        write_geopackage(tmp_path / "x.gpkg", {"p": layer}, language="fr")


_QGIS_SCRIPT = """
import json, os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
out = {}
for name in sys.argv[2:]:
    layer = QgsVectorLayer(sys.argv[1] + "|layername=" + name, name, "ogr")
    r = layer.renderer()
    out[name] = [layer.isValid(), r.type(), getattr(r, "classAttribute", lambda: "")(),
                 layer.fields().field("ags").alias() if name == "gemeinden" else ""]
print(json.dumps(out))
sys.stdout.flush()
os._exit(0)  # QGIS may crash while tearing down; the answer is out
"""


def test_qgis_applies_the_embedded_styles(demo_results, tmp_path):
    """With QGIS' Python bindings on the system (Debian's python3-qgis), open the layers the
    way QGIS does and check that each gets its embedded default style."""
    import json
    import shutil
    import subprocess

    python = shutil.which("python3", path="/usr/bin")
    if python is None or subprocess.run([python, "-c", "import qgis.core"],
                                        capture_output=True).returncode != 0:
        pytest.skip("QGIS Python bindings not installed (apt-get install python3-qgis)")
    script = tmp_path / "check.py"
    script.write_text(_QGIS_SCRIPT, encoding="utf-8")
    path = write_results_geopackage(demo_results, tmp_path / "lauf.gpkg")
    run = subprocess.run([python, str(script), str(path), *LAYERS], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert got["gemeinden"] == [True, "graduatedSymbol", 'coalesce("share_part_any", 1e+06)',
                                "AGS"]
    assert got["raster"][:2] == [True, "graduatedSymbol"]
    assert got["kurse"] == [True, "categorizedSymbol", "course_type", ""]
    assert got["einzugsbereiche"] == [True, "categorizedSymbol", "label", ""]
    assert got["kursorte"][1] == "categorizedSymbol"
    assert got["haltestellen"][:2] == [True, "singleSymbol"]
