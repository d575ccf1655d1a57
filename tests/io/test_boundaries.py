"""Tests of kurszugang.io.boundaries: VG5000/VG250 and LDBV boundaries into one standard frame."""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from kurszugang.errors import InputError, InputFormatError
from kurszugang.io.boundaries import BOUNDARY_COLUMNS, read_boundaries, validate_boundaries
from kurszugang.io.detect import validate
from tests.conftest import shared_file

VG5000 = "vg5000-2021-bkg"
LDBV = "ldbv-gemeinden-bayern-excerpts"
LDBV_FILES = [
    "invert2__invert2.geojson",
    "invert4__invert4.geojson",
    "invert__invert5at98.geojson",
    "island_intersect__island_intersect.geojson",
    "lost__lost.geojson",
    "lost__lost2.geojson",
    "lost__lost3.geojson",
    "lost__lost4.geojson",
    "self_intersection__self_intersection.geojson",
    "sliver2__sliver2.geojson",
    "sliver3__sliver3.geojson",
    "too_few_points__too_few_points.geojson",
    "untrasried__untrasried.geojson",
]


@pytest.fixture(scope="module")
def gem_path() -> Path:
    return shared_file(f"{VG5000}/VG5000_GEM.shp")


@pytest.fixture(scope="module")
def germany(gem_path: Path) -> gpd.GeoDataFrame:
    return read_boundaries(gem_path)


def _bayreuth_subset(gem_path: Path, n: int = 5) -> gpd.GeoDataFrame:
    """A few real Gemeinden of Landkreis Bayreuth with lower-case field names (as in some VG250
    GeoPackages)."""
    raw = pyogrio.read_dataframe(gem_path, where="AGS LIKE '09472%'")
    sub = raw[["AGS", "ARS", "GEN", "BEZ", "GF", "geometry"]].head(n).copy()
    return sub.rename(columns={c: c.lower() for c in sub.columns if c != "geometry"})


# ---------------------------------------------------------------------------------------------
# real data: VG5000


def test_vg5000_gem_all_of_germany(germany: gpd.GeoDataFrame) -> None:
    assert list(germany.columns) == list(BOUNDARY_COLUMNS)
    assert len(germany) == 10_997
    assert germany.crs == "EPSG:25832"
    assert (germany["ags"].str.len() == 8).all()
    assert (germany["ars"].str.len() == 12).all()
    assert int(germany["ags"].str.startswith("09").sum()) == 2_230
    assert str(germany["ewz"].dtype) == "Int64" and germany["ewz"].isna().all()
    assert str(germany["gf"].dtype) == "Int8" and (germany["gf"] == 9).all()
    assert (germany["kreis"] == germany["ags"].str[:5]).all()
    assert germany.is_valid.all()
    assert set(shapely.get_type_id(germany.geometry.values)) <= {3, 6}
    flensburg = germany.loc[germany["ags"] == "01001000"].iloc[0]
    assert (flensburg["gen"], flensburg["bez"]) == ("Flensburg", "Stadt")


def test_vg5000_gem_repairs_the_three_invalid_geometries(
    gem_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="kurszugang.io.boundaries"):
        gdf = read_boundaries(gem_path)
    assert gdf.is_valid.all()
    repaired = [r.getMessage() for r in caplog.records if "repariert" in r.getMessage()]
    assert len(repaired) == 1
    assert "3 ungültige Geometrien repariert" in repaired[0]
    assert "09677452" in repaired[0]  # Burgjoß, one of the three
    report = validate_boundaries(gem_path)
    assert report.ok
    assert report.counts["geometries repaired"] == 3
    assert report.counts["features"] == 10_997
    assert sorted(p.row or 0 for p in report.warnings if p.code == "invalid_geometry") == [
        8083, 10728, 10967,
    ]


def test_vg5000_krs_gives_the_96_bavarian_kreise() -> None:
    krs = read_boundaries(shared_file(f"{VG5000}/VG5000_KRS.shp"))
    assert len(krs) == 401
    assert (krs["ags"].str.len() == 5).all()
    bavaria = krs[krs["ags"].str.startswith("09")]
    assert len(bavaria) == 96
    assert bavaria["bez"].value_counts().to_dict() == {"Landkreis": 71, "Kreisfreie Stadt": 25}
    assert (bavaria["kreis"] == bavaria["ags"]).all()
    assert krs.crs == "EPSG:25832"


def test_read_one_kreis_of_gemeinden(gem_path: Path) -> None:
    gdf = read_boundaries(gem_path, kreis="09472")
    in_file = pyogrio.read_dataframe(gem_path, columns=["AGS"], read_geometry=False)
    expected = sorted(in_file.loc[in_file["AGS"].str.startswith("09472"), "AGS"])
    assert len(expected) == 43  # 33 Gemeinden + 10 unincorporated areas
    assert sorted(gdf["ags"]) == expected
    assert all(isinstance(a, str) and len(a) == 8 and a.startswith("09472") for a in gdf["ags"])
    assert {"Pegnitz", "Bindlach", "Bischofsgrün"} <= set(gdf["gen"])
    assert gdf.loc[gdf["ags"] == "09472175", "bez"].item() == "Stadt"  # Pegnitz
    assert int((gdf["bez"] == "Gemeindefreies Gebiet").sum()) == 10
    assert gdf.crs == "EPSG:25832"
    assert gdf.is_valid.all()
    assert (gdf["kreis"] == "09472").all()


def test_read_one_kreis_from_a_kreis_layer() -> None:
    gdf = read_boundaries(shared_file(f"{VG5000}/VG5000_KRS.shp"), kreis="09472")
    assert gdf[["ags", "gen", "bez"]].values.tolist() == [["09472", "Bayreuth", "Landkreis"]]


def test_select_a_list_of_ags(gem_path: Path) -> None:
    gdf = read_boundaries(gem_path, ags=["09472175", "09163000"])
    assert sorted(zip(gdf["ags"], gdf["gen"], strict=True)) == [
        ("09163000", "Rosenheim"), ("09472175", "Pegnitz")]


def test_folder_of_shapefiles_reads_the_gemeinde_layer() -> None:
    folder = shared_file(f"{VG5000}/VG5000_GEM.shp").parent
    gdf = read_boundaries(folder, kreis="09472")
    assert len(gdf) == 43


def test_land_layer_drops_sea_and_bodensee_areas() -> None:
    lan = shared_file(f"{VG5000}/VG5000_LAN.shp")
    gdf = read_boundaries(lan)
    assert len(gdf) == 16
    assert gdf["ags"].is_unique and (gdf["ags"].str.len() == 2).all()
    assert gdf["kreis"].isna().all()
    with_water = read_boundaries(lan, include_water=True)
    assert len(with_water) == 25
    assert "Bayern (Bodensee)" in set(with_water["gen"])


def test_verwaltungsgemeinschaften_have_no_ags_but_a_9_digit_ars() -> None:
    vwg = read_boundaries(shared_file(f"{VG5000}/VG5000_VWG.shp"), kreis="09472")
    assert vwg["ags"].isna().all()
    assert (vwg["ars"].str.len() == 9).all()
    assert (vwg["ars"].str[:5] == "09472").all()
    assert vwg.is_valid.all()


def test_validate_dispatches_boundaries(gem_path: Path) -> None:
    report = validate(gem_path)
    assert report.kind == "boundaries"
    assert report.counts["features read"] == 10_997


# ---------------------------------------------------------------------------------------------
# real data: LDBV excerpts


@pytest.mark.parametrize("name", LDBV_FILES)
def test_every_ldbv_excerpt_reads(name: str) -> None:
    path = shared_file(f"{LDBV}/{name}")
    gdf = read_boundaries(path)
    assert len(gdf) == pyogrio.read_info(path)["features"]
    assert gdf.crs == "EPSG:25832"
    assert gdf.is_valid.all()
    assert (gdf["ags"].str.len() == 8).all() and gdf["ags"].str.startswith("09").all()
    assert (gdf["ars"].str.len() == 12).all()
    assert (gdf["ags"] == gdf["ars"].str[:5] + gdf["ars"].str[9:]).all()
    assert gdf["gen"].notna().all()


def test_untrasried_reads_with_german_long_field_names() -> None:
    gdf = read_boundaries(shared_file(f"{LDBV}/untrasried__untrasried.geojson"))
    row = gdf.loc[gdf["gen"] == "Untrasried"].iloc[0]
    assert row["ags"] == "09777176"
    assert row["ars"] == "097775754176"
    assert row["bez"] == "Gemeinde"
    assert row["gf"] == 9
    assert row["kreis"] == "09777"
    assert len(gdf) == 10


def test_ldbv_excerpt_keeps_name_and_type() -> None:
    gdf = read_boundaries(shared_file(f"{LDBV}/sliver3__sliver3.geojson"))
    assert dict(zip(gdf["ags"], gdf["gen"], strict=True)) == {
        "09472451": "Bischofsgrüner Forst",
        "09472463": "Neubauer Forst-Nord",
        "09472121": "Bischofsgrün",
    }
    assert (gdf["bez"] == "Gemeinde").all()


def test_layer_without_attributes_gives_a_clear_error() -> None:
    with pytest.raises(InputError) as info:
        read_boundaries(shared_file(f"{LDBV}/invert__invert.geojson"))
    text = str(info.value)
    assert text.startswith("invert__invert.geojson: keine Schlüsselspalte: erwartet eine von AGS")
    assert "RS" in text and "Gemeindesc" in text and "(gefunden: id)" in text
    assert "key_column=" in text


# ---------------------------------------------------------------------------------------------
# written in tmp_path


def test_geopackage_with_lower_case_fields_and_a_water_feature(
    gem_path: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    land = _bayreuth_subset(gem_path)
    water = land.iloc[[0]].copy()
    water["gf"] = 2
    water["gen"] = "Fichtelsee (Wasser)"
    gem = pd.concat([land, water], ignore_index=True)
    gem["ewz"] = [1_000, 2_000, 3_000, 4_000, 5_000, 0]
    path = tmp_path / "vg250.gpkg"
    gem.to_file(path, layer="vg250_gem")
    krs = pyogrio.read_dataframe(shared_file(f"{VG5000}/VG5000_KRS.shp"), where="AGS = '09472'")
    krs.to_file(path, layer="vg250_krs")

    with caplog.at_level(logging.INFO, logger="kurszugang.io.boundaries"):
        gdf = read_boundaries(path)
    assert list(gdf["ags"]) == ["09472111", "09472116", "09472119", "09472121", "09472131"]
    assert "Fichtelsee (Wasser)" not in set(gdf["gen"])
    assert gdf["ewz"].tolist() == [1_000, 2_000, 3_000, 4_000, 5_000]
    assert str(gdf["ewz"].dtype) == "Int64"
    assert any("1 Wasserflächen weggelassen" in r.getMessage() for r in caplog.records)

    report = validate_boundaries(path)
    assert report.counts["layer"] == "vg250_gem"
    assert report.counts["water features dropped"] == 1
    assert report.counts["features"] == 5
    assert report.ok and not report.warnings

    assert len(read_boundaries(path, include_water=True)) == 6
    kreis = read_boundaries(path, layer="VG250_KRS")
    assert kreis["ags"].tolist() == ["09472"]


def test_ags_stored_as_a_number_is_zero_padded_with_a_warning(
    gem_path: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sub = _bayreuth_subset(gem_path, 3).drop(columns=["ars"])
    sub["ags"] = sub["ags"].astype("int64")
    path = tmp_path / "numeric.shp"
    sub.to_file(path)
    assert pyogrio.read_info(path)["dtypes"][0] == "int64"
    with caplog.at_level(logging.WARNING, logger="kurszugang.io.boundaries"):
        gdf = read_boundaries(path)
    assert gdf["ags"].tolist() == ["09472111", "09472116", "09472119"]
    assert any("als Zahl gespeichert: bei 3 AGS-Werten die führende Null ergänzt (auf 8 Stellen)"
               in r.getMessage() for r in caplog.records)
    report = validate_boundaries(path)
    assert [p.code for p in report.warnings] == ["key_padded"]


def test_key_column_names_the_ags_field(tmp_path: Path) -> None:
    path = tmp_path / "custom.geojson"
    gpd.GeoDataFrame(
        {"schluessel": ["09472111"], "ort": ["Ahorntal"]},
        geometry=[shapely.box(680_000, 5_520_000, 681_000, 5_521_000)],
        crs="EPSG:25832",
    ).to_file(path)
    gdf = read_boundaries(path, key_column="schluessel")
    assert gdf[["ags", "kreis"]].values.tolist() == [["09472111", "09472"]]


def test_invalid_geometry_is_repaired_and_counted(tmp_path: Path) -> None:
    bowtie = shapely.Polygon([(0, 0), (1000, 1000), (1000, 0), (0, 1000)])
    path = tmp_path / "bowtie.geojson"
    gpd.GeoDataFrame(
        {"ags": ["09472111", "09472116"], "name": ["Bowtie", "Box"]},
        geometry=[shapely.affinity.translate(bowtie, 680_000, 5_520_000),
                  shapely.box(690_000, 5_520_000, 691_000, 5_521_000)],
        crs="EPSG:25832",
    ).to_file(path)
    gdf = read_boundaries(path)
    assert gdf.is_valid.all()
    assert gdf.geometry.iloc[0].geom_type == "MultiPolygon"
    assert gdf.geometry.iloc[0].area == pytest.approx(500_000)
    report = validate_boundaries(path)
    assert report.counts["geometries repaired"] == 1
    assert [(p.row, p.code) for p in report.warnings] == [(1, "invalid_geometry")]


def test_zip_with_several_layers_needs_a_layer(tmp_path: Path) -> None:
    folder = shared_file(f"{VG5000}/VG5000_KRS.shp").parent
    path = tmp_path / "vg5000.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for stem in ("VG5000_KRS", "VG5000_LAN"):
            for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                zf.write(folder / f"{stem}{ext}", f"vg5000/{stem}{ext}")
    with pytest.raises(InputError, match="keine davon ist eine Gemeindeebene .*eine mit layer= "
                                         "wählen"):
        read_boundaries(path)
    assert len(read_boundaries(path, layer="VG5000_KRS", kreis="09472")) == 1


def test_geojson_without_crs_member_in_metres_needs_crs(tmp_path: Path) -> None:
    box = shapely.box(680_000, 5_520_000, 681_000, 5_521_000)
    doc = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"ags": "09472111"},
        "geometry": shapely.geometry.mapping(box)}]}
    path = tmp_path / "nocrs.geojson"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"gibt EPSG:4326 \(Grad\) an, aber die Koordinaten reichen "
                                         r"bis 681\.000, sind also Meter einer Projektion"):
        read_boundaries(path)
    gdf = read_boundaries(path, crs="EPSG:25832")
    assert gdf.total_bounds.tolist() == [680_000, 5_520_000, 681_000, 5_521_000]


# ---------------------------------------------------------------------------------------------
# bad input: one case per test, asserting the message


def test_bad_file_without_key_column(tmp_path: Path) -> None:
    path = tmp_path / "nokey.geojson"
    gpd.GeoDataFrame({"name": ["Ahorntal"]}, geometry=[shapely.box(0, 0, 1, 1)],
                     crs="EPSG:25832").to_file(path)
    with pytest.raises(InputError) as info:
        read_boundaries(path)
    assert str(info.value).startswith("nokey.geojson: keine Schlüsselspalte: erwartet eine von "
                                      "AGS")
    assert "(gefunden: name)" in str(info.value)


def test_bad_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "gemeinden.shp"
    path.write_bytes(b"")
    with pytest.raises(InputFormatError) as info:
        read_boundaries(path)
    assert str(info.value) == (
        "gemeinden.shp: ist leer (0 Bytes; erwartet eine Datei mit Verwaltungsgrenzen)")


def test_bad_text_in_a_geojson(tmp_path: Path) -> None:
    path = tmp_path / "gemeinden.geojson"
    path.write_text("AGS;GEN\n09472111;Ahorntal\n")
    with pytest.raises(InputFormatError) as info:
        read_boundaries(path)
    assert str(info.value).startswith("gemeinden.geojson: lässt sich nicht als .geojson-Datei "
                                      "lesen")
    assert "erwartet ein Shapefile, GeoPackage oder GeoJSON" in str(info.value)


def test_bad_text_in_a_shapefile(tmp_path: Path) -> None:
    path = tmp_path / "gemeinden.shp"
    path.write_text("this is not a shapefile\n")
    with pytest.raises(InputFormatError, match=r"^gemeinden\.shp: lässt sich nicht als "
                                               r"\.shp-Datei lesen"):
        read_boundaries(path)


def test_bad_unknown_kreis_key(gem_path: Path) -> None:
    with pytest.raises(InputError) as info:
        read_boundaries(gem_path, kreis="09999")
    text = str(info.value)
    assert text == ("VG5000_GEM.shp: kreis '09999' wählt kein Objekt; die Datei hat 10.997 "
                    "Objekte mit Kreisschlüsseln wie 09780, 09779, 09778, 09777, 09776, 09775")


def test_bad_kreis_key_of_the_wrong_form(gem_path: Path) -> None:
    with pytest.raises(InputError) as info:
        read_boundaries(gem_path, kreis="9472")
    assert "kreis='9472' ist kein Kreisschlüssel: erwartet 5 Ziffern als Text" in str(info.value)


def test_bad_unknown_ags_in_list(gem_path: Path) -> None:
    with pytest.raises(InputError, match=r"ags 09472999 nicht gefunden; die Datei hat 10\.997 "
                                         r"Objekte"):
        read_boundaries(gem_path, ags=["09472111", "09472999"])


def test_bad_shapefile_without_crs(gem_path: Path, tmp_path: Path) -> None:
    sub = _bayreuth_subset(gem_path, 2).set_crs(None, allow_override=True)
    path = tmp_path / "noprj.shp"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        sub.to_file(path)
    with pytest.raises(InputError) as info:
        read_boundaries(path)
    assert str(info.value) == (
        "noprj.shp: noprj.prj fehlt neben noprj.shp (ein Shapefile besteht aus .shp, .shx, .dbf "
        "und .prj; .prj: Koordinatensystem); die Datei dazulegen oder das Koordinatensystem mit "
        "crs= angeben")
    gdf = read_boundaries(path, crs="EPSG:31467")
    assert gdf.crs == "EPSG:25832" and gdf["ags"].tolist() == ["09472111", "09472116"]


def test_bad_crs_contradicting_the_file(gem_path: Path) -> None:
    with pytest.raises(InputError, match="gibt EPSG:31467 an, aber crs='EPSG:25832' wurde "
                                         "übergeben"):
        read_boundaries(gem_path, crs="EPSG:25832")


def test_bad_letters_in_the_ags(tmp_path: Path) -> None:
    path = tmp_path / "letters.geojson"
    gpd.GeoDataFrame({"ags": ["09472111", "0947A116"]},
                     geometry=[shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)],
                     crs="EPSG:25832").to_file(path)
    with pytest.raises(InputError) as info:
        read_boundaries(path)
    assert str(info.value) == (
        "letters.geojson: 1 Problem gefunden:\n"
        "  letters.geojson Objekt 2: ags '0947A116' ist kein AGS mit 8 Ziffern (Ebene Gemeinde)")


def test_validate_reports_an_unreadable_file_without_raising(tmp_path: Path) -> None:
    path = tmp_path / "empty.gpkg"
    path.write_bytes(b"")
    report = validate_boundaries(path)
    assert not report.ok
    assert [str(p) for p in report.errors] == [
        "empty.gpkg: ist leer (0 Bytes; erwartet eine Datei mit Verwaltungsgrenzen)"]


# ---------------------------------------------------------------------------------------------
# unincorporated areas (gemeindefreie Gebiete) are never Gemeinden


def test_vg5000_bavaria_marks_the_174_unincorporated_areas(germany: gpd.GeoDataFrame) -> None:
    assert str(germany["gemeindefrei"].dtype) == "bool"
    bavaria = germany[germany["ags"].str.startswith("09")]
    assert int(bavaria["gemeindefrei"].sum()) == 174
    assert int((~bavaria["gemeindefrei"]).sum()) == 2_056
    # marked by BEZ and by the key pattern alike
    assert (bavaria["gemeindefrei"] == (bavaria["bez"] == "Gemeindefreies Gebiet")).all()
    assert (bavaria["gemeindefrei"] == (bavaria["ags"].str[5] == "4")).all()


@pytest.mark.parametrize(("kreis", "gemeinden", "unincorporated"),
                         [("09574", 27, 14), ("09472", 33, 10)])
def test_kreis_counts_of_gemeinden_and_unincorporated_areas(
    gem_path: Path, kreis: str, gemeinden: int, unincorporated: int
) -> None:
    gdf = read_boundaries(gem_path, kreis=kreis)
    assert int((~gdf["gemeindefrei"]).sum()) == gemeinden
    assert int(gdf["gemeindefrei"].sum()) == unincorporated


@pytest.mark.parametrize(("name", "kreis"), [("Winkelhaid", "09574"), ("Fichtelberg", "09472")])
def test_a_name_shared_with_an_unincorporated_area_is_one_gemeinde(
    gem_path: Path, name: str, kreis: str
) -> None:
    gdf = read_boundaries(gem_path, kreis=kreis)
    both = gdf[gdf["gen"] == name]
    assert len(both) == 2  # the Gemeinde and the forest of the same name
    gemeinden = gdf[~gdf["gemeindefrei"]]
    assert gemeinden["gen"].tolist().count(name) == 1
    assert gemeinden.loc[gemeinden["gen"] == name, "ags"].str[5].tolist() != ["4"]


def test_ldbv_unincorporated_areas_are_told_by_their_key() -> None:
    gdf = read_boundaries(shared_file(f"{LDBV}/sliver3__sliver3.geojson"))
    assert (gdf["bez"] == "Gemeinde").all()  # LDBV's "art" says Gemeinde for all
    assert dict(zip(gdf["gen"], gdf["gemeindefrei"], strict=True)) == {
        "Bischofsgrüner Forst": True, "Neubauer Forst-Nord": True, "Bischofsgrün": False}
    five = read_boundaries(shared_file(f"{LDBV}/invert__invert5at98.geojson"))
    assert sorted(five.loc[five["gemeindefrei"], "ags"]) == ["09572454", "09572458", "09574451"]
    assert sorted(five.loc[~five["gemeindefrei"], "gen"]) == ["Nürnberg", "Schwaig b.Nürnberg"]


def test_kreis_layers_and_vg25_schema_mark_nothing() -> None:
    krs = read_boundaries(shared_file(f"{VG5000}/VG5000_KRS.shp"))
    assert not krs["gemeindefrei"].any()
    vg25 = read_boundaries(shared_file(f"{LDBV}/untrasried__untrasried.geojson"))
    assert not vg25["gemeindefrei"].any()


def test_validate_counts_the_unincorporated_areas(gem_path: Path) -> None:
    report = validate_boundaries(gem_path)
    assert report.counts["gemeindefrei"] == 207  # all of Germany (174 in Bavaria)
    assert report.counts["source"] == "VG5000"
    assert "  gemeindefreie Gebiete: 207" in report.format()


# ---------------------------------------------------------------------------------------------
# which product was read


def test_boundary_source_of_the_real_and_the_demo_files(tmp_path: Path) -> None:
    from kurszugang.io.boundaries import boundary_source

    assert boundary_source(shared_file(f"{VG5000}/VG5000_GEM.shp")) == "VG5000"
    assert boundary_source(shared_file(f"{LDBV}/sliver3__sliver3.geojson")) == "LDBV"
    assert boundary_source(shared_file(f"{LDBV}/untrasried__untrasried.geojson")) == "other"
    demo = Path(__file__).resolve().parents[2] / "kurszugang/demo/data/vg250_beispiel.gpkg"
    assert boundary_source(demo) == "VG250"
    # renamed, a VG5000 file is still told by its BKG object ids
    raw = pyogrio.read_dataframe(shared_file(f"{VG5000}/VG5000_GEM.shp"),
                                 where="AGS LIKE '09472%'")
    raw.to_file(tmp_path / "gemeinden.gpkg", layer="gemeinden")
    assert boundary_source(tmp_path / "gemeinden.gpkg") == "VG5000"


# ---------------------------------------------------------------------------------------------
# the district's name and type


def test_district_info_from_the_vg5000_kreis_layer(gem_path: Path) -> None:
    from kurszugang.io.boundaries import DistrictInfo, district_info

    assert district_info(gem_path, "09472") == DistrictInfo(
        "09472", "Bayreuth", "Landkreis", "Landkreis", "Kreisebene VG5000_KRS")
    city = district_info(gem_path, "09462")
    assert (city.name, city.type, city.bez) == ("Bayreuth", "Kreisfreie Stadt", "Kreisfreie Stadt")
    enz = district_info(gem_path, "08236")
    assert (enz.name, enz.type) == ("Enzkreis", "Landkreis")
    # BEZ "Kreis" (Schleswig-Holstein) is a Landkreis, "Stadtkreis" (Baden-Württemberg) a
    # Kreisfreie Stadt
    assert (district_info(gem_path, "01051").bez, district_info(gem_path, "01051").type) == (
        "Kreis", "Landkreis")
    karlsruhe = district_info(gem_path, "08212")
    assert (karlsruhe.name, karlsruhe.bez, karlsruhe.type) == (
        "Karlsruhe", "Stadtkreis", "Kreisfreie Stadt")


def test_district_info_of_the_demo_geopackage() -> None:
    from kurszugang.io.boundaries import district_info

    demo = Path(__file__).resolve().parents[2] / "kurszugang/demo/data/vg250_beispiel.gpkg"
    info = district_info(demo, "09999")
    assert (info.name, info.type, info.source) == (
        "Landkreis Beispiel (fiktiv)", "Landkreis", "Kreisebene vg250_krs")


def test_district_info_derived_from_the_gemeinden(gem_path: Path, tmp_path: Path) -> None:
    from kurszugang.io.boundaries import district_info

    for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):  # the GEM layer alone, no KRS beside
        (tmp_path / f"VG5000_GEM{ext}").write_bytes(gem_path.with_suffix(ext).read_bytes())
    alone = tmp_path / "VG5000_GEM.shp"
    city = district_info(alone, "09462")
    assert (city.name, city.type, city.source) == (
        "Bayreuth", "Kreisfreie Stadt", "Gemeinden VG5000_GEM")
    land = district_info(alone, "09472")
    assert (land.name, land.type) == (None, "Landkreis")
    assert land.note == ("Name des Landkreises 09472 steht nicht in den Gemeindegrenzen; die "
                         "Kreisebene (z. B. vg250_krs bzw. VG250_KRS.shp) daneben legen")


@pytest.mark.parametrize(("key", "message"), [
    ("09480", "VG5000_GEM.shp: hat keinen Kreis 09480; die nächsten vorhandenen "
              "Kreisschlüssel: 09479, 09478, 09477, 09476, 09475"),
    ("9472", "VG5000_GEM.shp: '9472' ist kein Kreisschlüssel: erwartet 5 Ziffern als Text, "
             "z. B. '09472'"),
])
def test_bad_district_key(gem_path: Path, key: str, message: str) -> None:
    from kurszugang.io.boundaries import district_info

    with pytest.raises(InputError) as info:
        district_info(gem_path, key)
    assert str(info.value) == message


# ---------------------------------------------------------------------------------------------
# a shapefile without its companion files


@pytest.mark.parametrize(("lost", "message"), [
    (".dbf", "VG5000_KRS.shp: VG5000_KRS.dbf fehlt neben VG5000_KRS.shp (ein Shapefile besteht "
             "aus .shp, .shx, .dbf und .prj; .dbf: Attribute mit den Schlüsseln); die Datei "
             "dazulegen"),
    (".shx", "VG5000_KRS.shp: VG5000_KRS.shx fehlt neben VG5000_KRS.shp (ein Shapefile besteht "
             "aus .shp, .shx, .dbf und .prj; .shx: Index der Geometrien); die Datei dazulegen"),
    (".prj", "VG5000_KRS.shp: VG5000_KRS.prj fehlt neben VG5000_KRS.shp (ein Shapefile besteht "
             "aus .shp, .shx, .dbf und .prj; .prj: Koordinatensystem); die Datei dazulegen oder "
             "das Koordinatensystem mit crs= angeben"),
])
def test_bad_shapefile_missing_a_companion(tmp_path: Path, lost: str, message: str) -> None:
    krs = shared_file(f"{VG5000}/VG5000_KRS.shp")
    for ext in {".shp", ".shx", ".dbf", ".prj"} - {lost}:
        (tmp_path / f"VG5000_KRS{ext}").write_bytes(krs.with_suffix(ext).read_bytes())
    path = tmp_path / "VG5000_KRS.shp"
    with pytest.raises(InputFormatError) as info:
        read_boundaries(path)
    assert str(info.value) == message
    assert [str(p) for p in validate(path).errors] == [message]  # detected as boundaries too
