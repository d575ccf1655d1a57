"""Tests of kurszugang.io.detect: every kind told from its content, clear file errors."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from kurszugang.errors import InputFormatError
from kurszugang.io.courses import read_courses
from kurszugang.io.detect import decode_text, detect_kind, sniff_separator, validate
from kurszugang.io.population import read_population_grid
from tests.conftest import shared_file

COURSES = (
    "Standort-ID;Kursträger;Standort;Breitengrad;Längengrad;Kursart;Wochentage;Beginn;Ende;"
    "Kinderbetreuung;Stand\n"
    "RO1;VHS Rosenheim;VHS-Haus Straße;47,8561;12,1289;allgemein;Mo-Fr;08:30;12:45;nein;"
    "15.02.2026\n"
    "WS1;Caritas Wasserburg;Caritas-Zentrum;48,0604;12,2330;intensiv;Mo-Fr;08:00;13:00;ja;"
    "15.02.2026\n"
)
KM_FILE = "zensus2011-grid-bayern/zensus2011_1km_einwohner_auslaenderanteil_bayern.csv"


@pytest.mark.parametrize("name", ["kursorte.csv", "feed.zip", "gemeinden.geojson", "kurse.xlsx",
                                  "raster.tif", "region.osm.pbf"])
def test_empty_file_says_empty(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(InputFormatError) as info:
        detect_kind(path)
    assert str(info.value) == (
        f"{name}: ist leer (0 Bytes; erwartet einen GTFS-Fahrplan, Verwaltungsgrenzen, eine "
        "Kursliste, einen OSM-Auszug oder ein Zensus-Raster)")


@pytest.mark.parametrize(("encoding", "bom", "note"), [
    ("utf-16-le", codecs.BOM_UTF16_LE, "als UTF-16-Text gelesen (mit BOM; Excel 'Unicode-Text')"),
    ("utf-16-be", codecs.BOM_UTF16_BE, "als UTF-16-Text gelesen (mit BOM; Excel 'Unicode-Text')"),
    ("utf-16-le", b"", "als UTF-16-Text gelesen (ohne BOM; Excel 'Unicode-Text')"),
    ("utf-16-be", b"", "als UTF-16-Text gelesen (ohne BOM; Excel 'Unicode-Text')"),
])
def test_utf16_course_list_is_recognised_and_read(tmp_path: Path, encoding: str, bom: bytes,
                                                  note: str) -> None:
    path = tmp_path / "kursorte.txt"
    path.write_bytes(bom + COURSES.replace(";", "\t").encode(encoding))
    assert detect_kind(path) == "courses"
    read = read_courses(path)
    assert read.sites["provider"].tolist() == ["VHS Rosenheim", "Caritas Wasserburg"]
    assert read.sites["site_name"].iloc[0] == "VHS-Haus Straße"
    assert read.courses["start_time"].tolist() == [30600, 28800]
    assert read.report.notes[0] == note
    assert read.report.counts["encoding"] == "UTF-16"
    assert read.report.counts["separator"] == "Tabulator"
    assert validate(path).ok


def test_cp1252_course_list_is_recognised_and_read(tmp_path: Path) -> None:
    path = tmp_path / "kursorte.csv"
    path.write_bytes(COURSES.encode("cp1252"))
    assert detect_kind(path) == "courses"  # "Kursträger" in cp1252 is no UTF-8
    read = read_courses(path)
    assert read.sites["site_name"].iloc[0] == "VHS-Haus Straße"
    assert read.report.counts["encoding"] == "Windows-1252"
    assert validate(path).counts["courses"] == 2


def test_pipe_separated_zensus_file_is_recognised_and_read(tmp_path: Path) -> None:
    real = shared_file(KM_FILE)
    lines = real.read_text(encoding="utf-8-sig").splitlines()[:2001]
    semicolon = tmp_path / "zensus_semikolon.csv"
    semicolon.write_text("\n".join(lines) + "\n", encoding="utf-8")
    pipe = tmp_path / "zensus_pipe.csv"
    pipe.write_text("\n".join(line.replace(";", "|") for line in lines) + "\n", encoding="utf-8")
    assert detect_kind(pipe) == "population"
    expected = read_population_grid(semicolon)
    got = read_population_grid(pipe)
    assert len(got) == 2000
    assert got["cell_id"].tolist() == expected["cell_id"].tolist()
    assert got["inhabitants"].sum() == expected["inhabitants"].sum()
    assert got["foreigners"].sum() == pytest.approx(expected["foreigners"].sum())
    assert validate(pipe).counts["cells"] == 2000


def test_a_table_of_no_known_kind(tmp_path: Path) -> None:
    path = tmp_path / "notizen.csv"
    path.write_text("Datum;Notiz\n01.03.2026;Anruf beim Träger\n", encoding="utf-8")
    with pytest.raises(InputFormatError) as info:
        detect_kind(path)
    assert str(info.value) == (
        "notizen.csv: ist keine Eingabe, die kurszugang liest (erwartet einen GTFS-Fahrplan, "
        "Verwaltungsgrenzen, eine Kursliste, einen OSM-Auszug oder ein Zensus-Raster); bei "
        "kurszugang validate die Art mit --kind angeben")


def test_missing_path_and_folder_without_feed(tmp_path: Path) -> None:
    with pytest.raises(InputFormatError, match=r"^fehlt\.csv: gibt es nicht$"):
        detect_kind(tmp_path / "fehlt.csv")
    folder = tmp_path / "ordner"
    folder.mkdir()
    with pytest.raises(InputFormatError) as info:
        detect_kind(folder)
    assert str(info.value) == (
        "ordner: ist ein Ordner ohne stops.txt und stop_times.txt, also kein GTFS-Fahrplan")


def test_decode_and_separator_helpers() -> None:
    assert decode_text("Träger|Ort\n".encode("utf-16-le")).text == "Träger|Ort\n"
    assert decode_text(codecs.BOM_UTF8 + "Träger".encode()).bom is True
    latin = decode_text("Straße\n".encode("cp1252"))
    assert (latin.text, latin.encoding, latin.first_non_utf8_line) == (
        "Straße\n", "Windows-1252", 1)
    assert sniff_separator(["Titel ohne Trenner", "a|b|c"]) == "|"
    assert sniff_separator(["nur ein Feld"]) == ","


def test_a_table_of_places_is_no_course_list(tmp_path: Path) -> None:
    # names and places alone (Name, Ort, Straße) do not make a course list
    path = tmp_path / "orte.csv"
    path.write_text("Name;Ort;Straße\nRathaus;Bayreuth;Luitpoldplatz 13\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match="ist keine Eingabe, die kurszugang liest"):
        detect_kind(path)


def test_course_points_and_boundary_polygons_in_geojson(tmp_path: Path) -> None:
    import geopandas as gpd
    import shapely

    points = gpd.GeoDataFrame({"site_id": ["S1"], "provider": ["VHS"], "Name": ["Haus"]},
                              geometry=[shapely.Point(12.1, 47.9)], crs="EPSG:4326")
    points.to_file(tmp_path / "kurse.geojson")
    assert detect_kind(tmp_path / "kurse.geojson") == "courses"
    areas = gpd.GeoDataFrame({"ags": ["09472111"], "Name": ["Ahorntal"], "Gemeinde": ["Ahorntal"]},
                             geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:25832")
    areas.to_file(tmp_path / "gemeinden.geojson")
    assert detect_kind(tmp_path / "gemeinden.geojson") == "boundaries"
