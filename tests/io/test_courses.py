"""Tests of kurszugang.io.courses: course lists as CSV, XLSX, GeoJSON and GeoPackage."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon

from kurszugang.errors import ConfigError, DataValidationError, InputFormatError
from kurszugang.io.courses import (
    COURSE_TYPES,
    SITE_COLUMNS,
    CourseList,
    ScheduleRule,
    derive_schedule,
    parse_weekdays,
    read_courses,
    read_sites,
    validate_courses,
    validate_sites,
)

# A list as district staff export it from German Excel: ';', BOM, decimal commas, German headers,
# DD.MM.YYYY dates; 3 sites, 6 courses, site RO1 offering three.
GERMAN_CSV = (
    "Standort-ID;Kursträger;Standort;Straße;PLZ;Ort;Breitengrad;Längengrad;Kursart;Wochentage;"
    "Uhrzeit von;Uhrzeit bis;Kinderbetreuung;Plätze;freie Plätze;nächster Kursbeginn;"
    "Bemerkungen;Stand\n"
    "RO1;VHS Rosenheim;VHS-Haus;Stollstraße 1;83022;Rosenheim;47,8561;12,1289;allgemein;Mo-Fr;"
    "08:30;12:45;nein;20;3;02.03.2026;;15.02.2026\n"
    "RO1;VHS Rosenheim;VHS-Haus;Stollstraße 1;83022;Rosenheim;47,8561;12,1289;eltern;Di+Do;"
    "9.00;11.30;ja;15;0;13.04.2026;mit Kinderbetreuung;15.02.2026\n"
    "RO1;VHS Rosenheim;VHS-Haus;Stollstraße 1;83022;Rosenheim;47,8561;12,1289;alpha;Mo–Do;"
    "18:00;20:15;;12;5;;Abendkurs;15.02.2026\n"
    "WS1;Caritas Wasserburg;Caritas-Zentrum;Salzsenderzeile 5;83512;Wasserburg am Inn;"
    "48,0604;12,2330;intensiv;Mo,Di,Mi,Do,Fr;08:00:00;13:00:00;x;20;20;2026-05-04;;15.02.2026\n"
    "BA1;Kolping Bildungswerk;Kolpinghaus;Kirchzeile 2;83043;Bad Aibling;47,8640;12,0100;"
    "jugend;Mo,Mi,Fr;13:00;17:00;nein;20;8;01.06.2026;;15.02.2026\n"
    "BA1;Kolping Bildungswerk;Kolpinghaus;Kirchzeile 2;83043;Bad Aibling;47,8640;12,0100;"
    "frauen;Di+Do;09:00;12:00;ja;18;18;07.09.2026;;15.02.2026\n"
)

# The same content, English headers, ',' separated, ISO dates, decimal points.
ENGLISH_CSV = (
    "site_id,provider,site_name,street,postcode,city,lat,lon,course_type,weekdays,start_time,"
    "end_time,childcare,capacity,free_places,next_start,notes,as_of\n"
    "RO1,VHS Rosenheim,VHS-Haus,Stollstraße 1,83022,Rosenheim,47.8561,12.1289,allgemein,"
    "Mon-Fri,08:30,12:45,no,20,3,2026-03-02,,2026-02-15\n"
    "RO1,VHS Rosenheim,VHS-Haus,Stollstraße 1,83022,Rosenheim,47.8561,12.1289,eltern,"
    '"Tue,Thu",09:00,11:30,yes,15,0,2026-04-13,mit Kinderbetreuung,2026-02-15\n'
    "RO1,VHS Rosenheim,VHS-Haus,Stollstraße 1,83022,Rosenheim,47.8561,12.1289,alpha,"
    "Mon-Thu,18:00,20:15,,12,5,,Abendkurs,2026-02-15\n"
    "WS1,Caritas Wasserburg,Caritas-Zentrum,Salzsenderzeile 5,83512,Wasserburg am Inn,48.0604,"
    "12.2330,intensiv,Mon-Fri,08:00,13:00,yes,20,20,2026-05-04,,2026-02-15\n"
    "BA1,Kolping Bildungswerk,Kolpinghaus,Kirchzeile 2,83043,Bad Aibling,47.8640,12.0100,jugend,"
    '"Mon,Wed,Fri",13:00,17:00,0,20,8,2026-06-01,,2026-02-15\n'
    "BA1,Kolping Bildungswerk,Kolpinghaus,Kirchzeile 2,83043,Bad Aibling,47.8640,12.0100,frauen,"
    "Tue+Thu,09:00,12:00,1,18,18,2026-09-07,,2026-02-15\n"
)

# Minimal valid English list: line 2 is the first record; tests break one field at a time.
HEADER = (
    "site_id,provider,lon,lat,course_type,weekdays,start_time,end_time,childcare,capacity,"
    "free_places"
)
GOOD_ROW = "S1,VHS,12.1289,47.8561,allgemein,Mo-Fr,08:30,12:45,ja,20,3"


def _write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def _minimal(folder: Path, *rows: str, name: str = "kursorte.csv") -> Path:
    return _write(folder, name, "\n".join((HEADER, *rows)) + "\n")


def _messages(excinfo: pytest.ExceptionInfo[DataValidationError]) -> list[str]:
    return [str(p) for p in excinfo.value.problems]


@pytest.fixture
def german(tmp_path: Path) -> CourseList:
    return read_courses(_write(tmp_path, "kursorte.csv", GERMAN_CSV, "utf-8-sig"))


# ------------------------------------------------------------------------------------------
# Good input
# ------------------------------------------------------------------------------------------
def test_german_excel_csv_sites(german: CourseList) -> None:
    sites = german.sites
    assert sites.crs.to_epsg() == 25832
    assert sites["site_id"].tolist() == ["RO1", "WS1", "BA1"]
    assert sites["n_courses"].tolist() == [3, 1, 2]
    assert sites["has_childcare"].tolist() == [True, True, True]
    assert sites["provider"].tolist() == [
        "VHS Rosenheim",
        "Caritas Wasserburg",
        "Kolping Bildungswerk",
    ]
    assert sites["address"].iloc[0] == "Stollstraße 1, 83022 Rosenheim"
    assert sites["lon"].tolist() == [12.1289, 12.2330, 12.0100]
    assert sites["lat"].tolist() == [47.8561, 48.0604, 47.8640]
    # Rosenheim lies near 734,000 E / 5,305,000 N in UTM 32N
    assert sites.geometry.x.iloc[0] == pytest.approx(734038.7, abs=1.0)
    assert sites.geometry.y.iloc[0] == pytest.approx(5305047.0, abs=1.0)


def test_german_excel_csv_courses(german: CourseList) -> None:
    c = german.courses
    assert c["course_id"].tolist() == ["RO1-1", "RO1-2", "RO1-3", "WS1-1", "BA1-1", "BA1-2"]
    assert c["course_type"].tolist() == [
        "allgemein",
        "eltern",
        "alpha",
        "intensiv",
        "jugend",
        "frauen",
    ]
    assert c["weekdays"].tolist() == [
        "1111100",
        "0101000",
        "1111000",
        "1111100",
        "1010100",
        "0101000",
    ]
    assert c["weekday_mask"].tolist() == [31, 10, 15, 31, 21, 10]
    assert c["weekday_mask"].dtype == np.int8
    assert c["start_time"].tolist() == [30600, 32400, 64800, 28800, 46800, 32400]
    assert c["end_time"].tolist() == [45900, 41400, 72900, 46800, 61200, 43200]
    assert c["start_time"].dtype == np.int32
    assert c["childcare"].tolist() == [False, True, False, True, False, True]
    assert c["capacity"].dtype == "Int32"
    assert c["capacity"].tolist() == [20, 15, 12, 20, 20, 18]
    assert c["free_places"].tolist() == [3, 0, 5, 20, 8, 18]
    assert c["next_start"].iloc[0] == pd.Timestamp("2026-03-02")
    assert pd.isna(c["next_start"].iloc[2])
    assert c["schedule"].tolist() == [
        "vollzeit",
        "teilzeit",
        "abend",
        "vollzeit",
        "teilzeit",
        "teilzeit",
    ]
    assert c["notes"].iloc[1] == "mit Kinderbetreuung"
    assert pd.isna(c["notes"].iloc[0])
    assert german.as_of == dt.date(2026, 2, 15)
    assert german.report.ok and not german.report.warnings
    assert german.report.counts["courses"] == 6
    assert german.report.counts["separator"] == ";"


def test_english_comma_csv_gives_the_same(tmp_path: Path, german: CourseList) -> None:
    english = read_courses(_write(tmp_path, "courses.csv", ENGLISH_CSV))
    pd.testing.assert_frame_equal(english.courses, german.courses)
    pd.testing.assert_frame_equal(english.sites, german.sites)
    assert english.report.counts["separator"] == ","


def test_courses_on_a_weekday(german: CourseList) -> None:
    tuesday = german.courses_on(dt.date(2026, 3, 3))
    assert tuesday["course_id"].tolist() == ["RO1-1", "RO1-2", "RO1-3", "WS1-1", "BA1-2"]
    saturday = german.courses_on("2026-03-07")
    assert saturday.empty


def test_to_geodataframe(german: CourseList) -> None:
    gdf = german.to_geodataframe()
    assert gdf.crs.to_epsg() == 25832
    assert len(gdf) == 6
    assert gdf["site_name"].tolist()[:4] == ["VHS-Haus"] * 3 + ["Caritas-Zentrum"]
    assert gdf.geometry.iloc[1].equals(german.sites.geometry.iloc[0])


def test_xlsx_written_with_openpyxl(tmp_path: Path, german: CourseList) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Hinweise"
    book.active.append(["Bitte eine Zeile je Kurs ausfüllen"])
    sheet = book.create_sheet("Kurse")
    sheet.append(["Kursliste Landkreis Rosenheim"])  # a title row above the header
    sheet.append(
        [
            "Standort-ID",
            "Kursträger",
            "Standort",
            "Adresse",
            "Lat",
            "Lon",
            "Kursart",
            "Wochentage",
            "Beginn",
            "Ende",
            "Kinderbetreuung",
            "Kapazität",
            "freie Plätze",
            "Kursstart",
            "Stand",
        ]
    )
    sheet.append(
        [
            "RO1",
            "VHS Rosenheim",
            "VHS-Haus",
            "Stollstraße 1, 83022 Rosenheim",
            47.8561,
            12.1289,
            "allgemein",
            "Mo-Fr",
            dt.time(8, 30),
            dt.time(12, 45),
            False,
            20,
            3,
            dt.datetime(2026, 3, 2),
            dt.datetime(2026, 2, 15),
        ]
    )
    sheet.append([None] * 15)  # an empty spreadsheet row: skipped and counted
    sheet.append(
        [
            "RO1",
            "VHS Rosenheim",
            "VHS-Haus",
            "Stollstraße 1, 83022 Rosenheim",
            47.8561,
            12.1289,
            "Eltern",
            "Di+Do",
            "09:00",
            "11:30",
            "ja",
            15,
            0,
            "13.04.2026",
            dt.datetime(2026, 2, 15),
        ]
    )
    path = tmp_path / "kurse.xlsx"
    book.save(path)

    read = read_courses(path, sheet="Kurse")
    c = read.courses
    assert c["course_id"].tolist() == ["RO1-1", "RO1-2"]
    assert c["start_time"].tolist() == [30600, 32400]
    assert c["end_time"].tolist() == [45900, 41400]
    assert c["childcare"].tolist() == [False, True]
    assert c["capacity"].tolist() == [20, 15]
    assert c["next_start"].tolist() == [pd.Timestamp("2026-03-02"), pd.Timestamp("2026-04-13")]
    assert c["course_type"].tolist() == ["allgemein", "eltern"]
    assert read.as_of == dt.date(2026, 2, 15)
    pd.testing.assert_frame_equal(
        read.sites[["site_id", "address", "lon", "lat"]],
        german.sites[["site_id", "address", "lon", "lat"]].head(1),
    )
    assert read.report.counts["sheet"] == "Kurse"
    assert "Tabellenblatt 'Kurse': Kopfzeile in Zeile 2; die Zeilen darüber wurden " \
        "übersprungen" in read.report.notes
    assert "1 leere Zeile(n) übersprungen (z. B. 4)" in read.report.notes
    # the same sheet by index
    assert read_courses(path, sheet=1).courses["course_id"].tolist() == ["RO1-1", "RO1-2"]


def _course_points(german: CourseList) -> gpd.GeoDataFrame:
    gdf = german.to_geodataframe()
    gdf = gdf.drop(columns=["weekday_mask", "site_name", "address", "notes"])
    gdf["next_start"] = gdf["next_start"].dt.strftime("%d.%m.%Y").fillna("")
    gdf["capacity"] = gdf["capacity"].astype("int64")
    gdf["free_places"] = gdf["free_places"].astype("int64")
    gdf["start_time"] = ["08:30", "09:00", "18:00", "08:00", "13:00", "09:00"]
    gdf["end_time"] = ["12:45", "11:30", "20:15", "13:00", "17:00", "12:00"]
    gdf["as_of"] = "2026-02-15"
    return gdf


@pytest.mark.parametrize("name", ["kurse.gpkg", "kurse.geojson"])
def test_feature_files_in_25832_come_back_at_the_same_place(
    tmp_path: Path, german: CourseList, name: str
) -> None:
    written = _course_points(german)
    assert written.crs.to_epsg() == 25832
    path = tmp_path / name
    written.to_file(path, engine="pyogrio")

    read = read_courses(path)
    assert read.sites.crs.to_epsg() == 25832
    assert read.sites["site_id"].tolist() == ["RO1", "WS1", "BA1"]
    np.testing.assert_allclose(read.sites.geometry.x, german.sites.geometry.x, atol=1e-3)
    np.testing.assert_allclose(read.sites.geometry.y, german.sites.geometry.y, atol=1e-3)
    np.testing.assert_allclose(read.sites["lat"], german.sites["lat"], atol=1e-9)
    assert read.courses["start_time"].tolist() == german.courses["start_time"].tolist()
    assert read.courses["childcare"].tolist() == german.courses["childcare"].tolist()
    assert read.courses["capacity"].tolist() == german.courses["capacity"].tolist()
    assert read.courses["next_start"].iloc[0] == pd.Timestamp("2026-03-02")
    assert read.report.counts["crs"] == "EPSG:25832"


def test_xy_with_crs_column_and_option(tmp_path: Path, german: CourseList) -> None:
    ro1 = german.sites.geometry.iloc[0]
    header = "site_id,provider,Rechtswert,Hochwert,crs,course_type,weekdays,start_time,end_time"
    text = (
        f"{header}\nRO1,VHS,{ro1.x:.3f},{ro1.y:.3f},EPSG:25832,allgemein,Mo-Fr,08:30,12:45\n"
        f"RO1,VHS,{ro1.x:.3f},{ro1.y:.3f},25832,eltern,Di+Do,09:00,11:30\n"
    )
    read = read_courses(_write(tmp_path, "xy.csv", text))
    assert read.sites["lon"].iloc[0] == pytest.approx(12.1289, abs=1e-7)
    assert read.sites["lat"].iloc[0] == pytest.approx(47.8561, abs=1e-7)
    assert read.sites.geometry.iloc[0].distance(ro1) < 0.01

    without = text.replace(",EPSG:25832,", ",,").replace(",25832,", ",,")
    path = _write(tmp_path, "xy_option.csv", without)
    read = read_courses(path, crs="EPSG:25832")
    assert read.sites.geometry.iloc[0].distance(ro1) < 0.01
    with pytest.raises(DataValidationError) as excinfo:
        read_courses(path)
    assert _messages(excinfo)[0] == (
        "xy_option.csv Zeile 2: crs fehlt (erwartet das Koordinatensystem von x/y, z. B. "
        "EPSG:25832, als Spalte crs bzw. Koordinatensystem oder als Option crs=)"
    )


def test_schedule_derivation_and_rule() -> None:
    start = [8 * 3600 + 1800, 9 * 3600, 17 * 3600, 8 * 3600, 13 * 3600]
    end = [12 * 3600 + 2700, 11 * 3600 + 1800, 20 * 3600, 11 * 3600 + 1800, 17 * 3600]
    days = [31, 10, 31, 31, 21]
    # Mon-Fri 08:00-11:30 (3.5 h, 4 lessons a day) is a full-time course by the default rule.
    assert derive_schedule(start, end, days).tolist() == [
        "vollzeit",
        "teilzeit",
        "abend",
        "vollzeit",
        "teilzeit",
    ]
    rule = ScheduleRule(evening_start=18 * 3600, part_time_max_days=2, part_time_max_hours=3.0)
    assert derive_schedule(start, end, days, rule=rule).tolist() == [
        "vollzeit",
        "teilzeit",
        "teilzeit",
        "vollzeit",
        "vollzeit",
    ]
    with pytest.raises(ConfigError, match="evening_start 90000 liegt außerhalb des Bereichs "
                       r"\(erwartet Sekunden nach Mitternacht von 0 bis 86399\)"):
        ScheduleRule(evening_start=90000)


def test_schedule_column_overrides_derivation(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "k.csv",
        f"{HEADER},Zeitform\n{GOOD_ROW},Teilzeit\n"
        f"S1,VHS,12.1289,47.8561,alpha,Mo-Fr,08:30,12:45,ja,20,3,\n",
    )
    read = read_courses(path, schedule_rule=ScheduleRule())
    assert read.courses["schedule"].tolist() == ["teilzeit", "vollzeit"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mo-Fr", "1111100"),
        ("Di+Do", "0101000"),
        ("Mo–Do", "1111000"),
        ("Mo,Di,Mi,Do,Fr", "1111100"),
        ("Mon,Tue", "1100000"),
        ("Mo. bis Fr.", "1111100"),
        ("Di und Do", "0101000"),
        ("Sa, So", "0000011"),
        ("1111100", "1111100"),
        ("101000", "0101000"),  # Excel dropped the leading zero of 0101000
    ],
)
def test_weekday_parsing(text: str, expected: str) -> None:
    mask = parse_weekdays(text)
    assert mask is not None
    assert "".join(str((mask >> i) & 1) for i in range(7)) == expected


@pytest.mark.parametrize("text", ["Fr-Mo", "Montags", "", "0000000", "Mo-"])
def test_weekday_parsing_rejects(text: str) -> None:
    assert parse_weekdays(text) is None


def test_cp1252_file_is_read_with_a_note(tmp_path: Path) -> None:
    text = GERMAN_CSV.replace("Stollstraße 1", "Stollstraße 1")
    read = read_courses(_write(tmp_path, "kursorte.csv", text, "cp1252"))
    assert read.sites["address"].iloc[0] == "Stollstraße 1, 83022 Rosenheim"
    assert read.sites["provider"].iloc[1] == "Caritas Wasserburg"
    assert read.report.notes[0] == (
        "nicht UTF-8 (erstes Zeichen außerhalb UTF-8 in Zeile 1): als Windows-1252 gelesen, wie "
        "deutsches Excel 'CSV (Trennzeichen-getrennt)' schreibt; als 'CSV UTF-8' speichern, um "
        "das zu vermeiden")
    assert read.report.counts["encoding"] == "Windows-1252"


def test_sonstig_and_extra_types(tmp_path: Path) -> None:
    path = _minimal(
        tmp_path,
        GOOD_ROW.replace("allgemein", "Sonstig: Berufssprachkurs"),
        GOOD_ROW.replace("allgemein", "Förder"),
        GOOD_ROW.replace("allgemein", "beruf"),
    )
    read = read_courses(path, extra_types=["beruf"])
    assert read.courses["course_type"].tolist() == ["sonstig:Berufssprachkurs", "foerder", "beruf"]


def test_as_of_option_and_missing_as_of_warning(tmp_path: Path) -> None:
    path = _minimal(tmp_path, GOOD_ROW)
    read = read_courses(path)
    assert read.as_of is None
    assert [str(w) for w in read.report.warnings] == [
        "kursorte.csv: Stand (as_of) ist unbekannt (erwartet eine Spalte Stand bzw. as_of, ein "
        "Datum 'Stand TT.MM.JJJJ' in der Titelzeile oder die Option as_of=); die Liste wird ohne "
        "Stand gelesen"
    ]
    assert read_courses(path, as_of="01.03.2026").as_of == dt.date(2026, 3, 1)


def test_outside_germany_warns_and_suggests_swap(tmp_path: Path) -> None:
    path = _minimal(tmp_path, "S1,VHS,47.8561,12.1289,allgemein,Mo-Fr,08:30,12:45,ja,20,3")
    read = read_courses(path, as_of="2026-03-01")
    assert [str(w) for w in read.report.warnings] == [
        "kursorte.csv Zeile 2: lon 47.85610, lat 12.12890 des Kursorts 'S1' liegt außerhalb "
        "Deutschlands (erwartet 5,5–15,5° O, 47–55,5° N); Breite und Länge scheinen vertauscht"
    ]


def test_blank_site_name_is_filled_from_the_same_site(tmp_path: Path) -> None:
    path = _write(tmp_path, "k.csv", f"{HEADER},site_name\n{GOOD_ROW},VHS-Haus\n{GOOD_ROW},\n")
    read = read_courses(path)
    assert read.sites["site_name"].tolist() == ["VHS-Haus"]
    assert "1 leere Standortzelle(n) aus anderen Zeilen derselben Standort-ID ergänzt" in \
        read.report.notes


# ------------------------------------------------------------------------------------------
# Bad input: one case per test, asserting the message
# ------------------------------------------------------------------------------------------
def test_missing_coordinate(tmp_path: Path) -> None:
    path = _minimal(
        tmp_path,
        GOOD_ROW,
        GOOD_ROW,
        GOOD_ROW,
        "S2,VHS,,47.8561,allgemein,Mo-Fr,08:30,12:45,ja,20,3",
    )
    with pytest.raises(DataValidationError) as excinfo:
        read_courses(path)
    assert _messages(excinfo) == [
        "kursorte.csv Zeile 5: lon fehlt (erwartet eine geographische Länge in Dezimalgrad "
        "(WGS84), z. B. 12,1289, oder x/y mit Koordinatensystem)"
    ]
    assert excinfo.value.row == 5
    assert excinfo.value.column == "lon"


def test_latitude_out_of_range(tmp_path: Path) -> None:
    path = _minimal(
        tmp_path, GOOD_ROW, GOOD_ROW, "S2,VHS,12.1289,95.2,allgemein,Mo-Fr,08:30,12:45,ja,20,3"
    )
    with pytest.raises(DataValidationError) as excinfo:
        read_courses(path)
    assert _messages(excinfo) == [
        "kursorte.csv Zeile 4: lat '95.2' liegt außerhalb des Wertebereichs (erwartet eine "
        "geographische Breite zwischen -90 und 90)"
    ]


def test_german_header_names_the_column_as_written(tmp_path: Path) -> None:
    text = GERMAN_CSV.replace("47,8640;12,0100;jugend", "95,2;12,0100;jugend")
    with pytest.raises(DataValidationError) as excinfo:
        read_courses(_write(tmp_path, "kursorte.csv", text, "utf-8-sig"))
    messages = _messages(excinfo)
    assert messages[0] == (
        "kursorte.csv Zeile 6: Breitengrad '95,2' liegt außerhalb des Wertebereichs "
        "(erwartet eine geographische Breite zwischen -90 und 90)"
    )


def test_unknown_course_type(tmp_path: Path) -> None:
    path = _minimal(tmp_path, *[GOOD_ROW] * 5, GOOD_ROW.replace("allgemein", "intensive"))
    with pytest.raises(DataValidationError) as excinfo:
        read_courses(path)
    assert _messages(excinfo) == [
        "kursorte.csv Zeile 7: course_type 'intensive' ist keine bekannte Kursart (erwartet eine "
        f"von {', '.join(COURSE_TYPES)}; andere als 'sonstig:<Bezeichnung>')"
    ]


def test_impossible_date(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "kursorte.csv",
        f"{HEADER},next_start\n{GOOD_ROW},02.03.2026\n{GOOD_ROW},31.02.2026\n",
    )
    with pytest.raises(DataValidationError) as excinfo:
        read_courses(path)
    assert _messages(excinfo) == [
        "kursorte.csv Zeile 3: next_start '31.02.2026' ist kein Datum (erwartet TT.MM.JJJJ oder "
        "JJJJ-MM-TT)"
    ]


def test_empty_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "kursorte.csv", "")
    with pytest.raises(InputFormatError) as excinfo:
        read_courses(path)
    assert str(excinfo.value) == "kursorte.csv: ist leer (0 Bytes; erwartet eine Kursliste)"


def test_header_only_file(tmp_path: Path) -> None:
    path = _minimal(tmp_path)
    with pytest.raises(InputFormatError) as excinfo:
        read_courses(path)
    assert str(excinfo.value) == (
        "kursorte.csv: hat eine Kopfzeile, aber keine Kurszeilen (erwartet eine Zeile je Kurs)"
    )


def test_png_renamed_to_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "kurse.xlsx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    with pytest.raises(InputFormatError) as excinfo:
        read_courses(path)
    assert (
        str(excinfo.value)
        == "kurse.xlsx: ist keine Excel-Arbeitsmappe (.xlsx): sie sieht aus wie ein PNG-Bild"
    )


def test_text_in_a_geojson(tmp_path: Path) -> None:
    path = _write(tmp_path, "kurse.geojson", ENGLISH_CSV)
    with pytest.raises(InputFormatError) as excinfo:
        read_courses(path)
    assert str(excinfo.value) == (
        "kurse.geojson: ist keine GeoJSON-Datei: sie sieht aus wie Text, der kein JSON ist "
        "(erwartet eine JSON-FeatureCollection von Punkten)"
    )


def test_binary_in_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "kurse.csv"
    path.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(InputFormatError) as excinfo:
        read_courses(path)
    assert str(excinfo.value) == (
        "kurse.csv: ist keine Textdatei (CSV): sie sieht aus wie ein Zip-Archiv oder eine "
        "Excel-Arbeitsmappe (.xlsx) (erwartet eine Kursliste als CSV)"
    )


def test_free_places_more_than_capacity(tmp_path: Path) -> None:
    path = _minimal(tmp_path, GOOD_ROW, GOOD_ROW.replace(",20,3", ",20,30"))
    with pytest.raises(DataValidationError) as excinfo:
        read_courses(path)
    assert _messages(excinfo) == [
        "kursorte.csv Zeile 3: free_places '30' ist mehr als die Plätze '20' (erwartet höchstens "
        "so viele freie Plätze wie Plätze)"
    ]


def test_end_before_start(tmp_path: Path) -> None:
    path = _minimal(tmp_path, GOOD_ROW.replace("08:30,12:45", "12:00,8:00"))
    with pytest.raises(DataValidationError) as excinfo:
        read_courses(path)
    assert _messages(excinfo) == [
        "kursorte.csv Zeile 2: end_time '8:00' liegt nicht nach dem Beginn '12:00' (erwartet ein "
        "Ende nach dem Beginn)"
    ]


def test_site_columns_that_differ_name_both_lines(tmp_path: Path) -> None:
    path = _minimal(tmp_path, GOOD_ROW, GOOD_ROW.replace("S1,VHS,", "S1,Caritas,"))
    with pytest.raises(DataValidationError) as excinfo:
        read_courses(path)
    assert _messages(excinfo) == [
        "kursorte.csv Zeile 3: provider 'Caritas' weicht von Zeile 2 ab ('VHS') bei Standort-ID "
        "'S1' (erwartet dieselbe Angabe in jeder Zeile eines Kursorts)"
    ]


def test_missing_required_column(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "kursorte.csv",
        "site_id,lon,lat,course_type,weekdays,start_time,"
        "end_time\nS1,12.1,47.8,allgemein,Mo-Fr,08:30,12:45\n",
    )
    with pytest.raises(DataValidationError) as excinfo:
        read_courses(path)
    assert _messages(excinfo) == [
        "kursorte.csv: Kursträger (provider) fehlt als Spalte (erwartet eine Spalte provider oder "
        "Kursträger, Träger, Traeger, Anbieter, Bildungsträger, Kursanbieter, Einrichtung)"
    ]


def test_three_problems_reported_together(tmp_path: Path) -> None:
    path = _minimal(
        tmp_path,
        GOOD_ROW,
        "S2,VHS,12.1289,95.2,allgemein,Mo-Fr,08:30,12:45,ja,20,3",
        "S3,VHS,12.1289,47.8561,intensive,Mo-Fr,08:30,12:45,ja,20,3",
        "S4,VHS,12.1289,47.8561,allgemein,Mo-Fr,08:30,12:45,ja,20,30",
    )
    with pytest.raises(DataValidationError) as excinfo:
        read_courses(path)
    messages = _messages(excinfo)
    assert len(messages) == 3
    assert messages[0].startswith("kursorte.csv Zeile 3: lat '95.2' liegt außerhalb des "
                                  "Wertebereichs")
    assert messages[1].startswith("kursorte.csv Zeile 4: course_type 'intensive' ist keine "
                                  "bekannte Kursart")
    assert messages[2].startswith("kursorte.csv Zeile 5: free_places '30' ist mehr als die Plätze")
    assert str(excinfo.value).startswith("kursorte.csv: 3 Probleme gefunden:\n  kursorte.csv "
                                         "Zeile 3: lat '95.2'")


def test_validate_returns_a_report_for_a_bad_file(tmp_path: Path) -> None:
    path = _minimal(tmp_path, GOOD_ROW, GOOD_ROW.replace("Mo-Fr", "Werktags"))
    report = validate_courses(path)
    assert not report.ok
    assert [str(p) for p in report.errors] == [
        "kursorte.csv Zeile 3: weekdays 'Werktags' ist keine Angabe von Wochentagen (erwartet "
        "Wochentage wie Mo-Fr, Mo,Mi,Fr, Di+Do, Mon,Tue oder 1111100)"
    ]
    assert report.counts["rows"] == 2


def test_validate_returns_a_report_for_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "kurse.gpkg"
    path.write_text("not a database")
    report = validate_courses(path)
    assert [str(p) for p in report.errors] == [
        "kurse.gpkg: ist kein GeoPackage: es sieht aus wie eine Textdatei"
    ]


def test_validate_a_good_file(tmp_path: Path) -> None:
    report = validate_courses(_write(tmp_path, "kursorte.csv", GERMAN_CSV, "utf-8-sig"))
    assert report.ok
    assert report.counts["sites"] == 3
    assert report.counts["as of"] == "2026-02-15"


def test_polygon_feature_is_an_error(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {
            "site_id": ["S1", "S2"],
            "provider": ["VHS", "VHS"],
            "course_type": ["alpha"] * 2,
            "weekdays": ["Mo-Fr"] * 2,
            "start_time": ["08:30"] * 2,
            "end_time": ["12:00"] * 2,
        },
        geometry=[Point(12.1, 47.9), Polygon([(12, 47), (12.1, 47), (12.1, 47.1)])],
        crs="EPSG:4326",
    )
    path = tmp_path / "kurse.geojson"
    gdf.to_file(path, engine="pyogrio")
    with pytest.raises(DataValidationError) as excinfo:
        read_courses(path, as_of="2026-03-01")
    assert _messages(excinfo) == [
        "kurse.geojson Objekt 2: geometry ist ein Polygon (erwartet einen Punkt)"
    ]


def test_unknown_sheet(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Kurse"
    book.active.append(HEADER.split(","))
    path = tmp_path / "kurse.xlsx"
    book.save(path)
    with pytest.raises(InputFormatError) as excinfo:
        read_courses(path, sheet="Standorte")
    assert str(excinfo.value) == (
        "kurse.xlsx: hat kein Tabellenblatt 'Standorte' (erwartet eines von Kurse)")


def test_overlong_row_from_unquoted_decimal_comma(tmp_path: Path) -> None:
    path = _minimal(
        tmp_path, GOOD_ROW, "S2,VHS,12,1289,47,8561,allgemein,Mo-Fr,08:30,12:45,ja,20,3"
    )
    with pytest.raises(DataValidationError) as excinfo:
        read_courses(path)
    assert _messages(excinfo)[0] == (
        "kursorte.csv Zeile 3: hat 13 Felder, die Kopfzeile aber 11 (erwartet einen Wert je "
        "Spalte; bei ',' als Trennzeichen müssen Zahlen mit Dezimalkomma in Anführungszeichen "
        "stehen – oder ';' verwenden)"
    )


def test_line_numbers_after_a_title_line_and_a_multiline_cell(tmp_path: Path) -> None:
    text = (
        "Kursliste Landkreis Rosenheim, Stand März 2026\n"
        f"{HEADER},notes\n"
        f'{GOOD_ROW},"Anmeldung\nüber das Landratsamt"\n'
        f"{GOOD_ROW.replace('allgemein', 'Kurs B')},\n"
    )
    with pytest.raises(DataValidationError) as excinfo:
        read_courses(_write(tmp_path, "kursorte.csv", text))
    assert _messages(excinfo) == [
        "kursorte.csv Zeile 5: course_type 'Kurs B' ist keine bekannte Kursart (erwartet eine von "
        f"{', '.join(COURSE_TYPES)}; andere als 'sonstig:<Bezeichnung>')"
    ]


def test_required_column_left_empty(tmp_path: Path) -> None:
    path = _minimal(tmp_path, GOOD_ROW.replace("S1,VHS,", "S1,,"))
    with pytest.raises(DataValidationError) as excinfo:
        read_courses(path)
    assert _messages(excinfo) == [
        "kursorte.csv: provider ist in allen Zeilen leer (erwartet in jeder Zeile den Namen des "
        "Kursträgers)"
    ]


# ------------------------------------------------------------------------------------------
# Course lists as people send them: title and comment rows, German headers, aliases
# ------------------------------------------------------------------------------------------
# A list as a provider sends it: a title row with the list's date, a comment row, German
# headers with the short aliases start/end and "Kursbeginn" holding the date of the next start.
SENT_CSV = (
    "Kursliste Landkreis Rosenheim;;;;;;;;;;\n"
    "# Bitte je Kurs eine Zeile; Stand der Liste siehe Titel;;;;;;;;;\n"
    "Standort-ID;Träger;Standort;Breite;Länge;Kursart;Tage;start;end;Kinderbetreuung;Kursbeginn\n"
    "RO1;VHS Rosenheim;VHS-Haus;47,8561;12,1289;Alphabetisierungskurs;Mo-Fr;08:30;12:45;nein;"
    "02.03.2026\n"
    "# Außenstelle;;;;;;;;;;\n"
    "RO2;VHS Rosenheim;Außenstelle;47,9000;12,2000;Integrationskurs;Di+Do;18:00;20:15;ja;\n"
)


def test_title_and_comment_rows_and_short_aliases(tmp_path: Path) -> None:
    path = _write(tmp_path, "kursorte.csv", SENT_CSV)
    read = read_courses(path)
    c = read.courses
    assert c["course_id"].tolist() == ["RO1-1", "RO2-1"]
    assert c["course_type"].tolist() == ["alpha", "allgemein"]
    assert c["start_time"].tolist() == [30600, 64800]
    assert c["end_time"].tolist() == [45900, 72900]
    assert c["next_start"].tolist()[0] == pd.Timestamp("2026-03-02")
    assert pd.isna(c["next_start"].iloc[1])
    assert read.report.notes[:2] == [
        "Kopfzeile in Zeile 3; die Zeilen darüber wurden übersprungen",
        "1 Kommentarzeile(n) (beginnend mit #) übersprungen (z. B. 5)",
    ]
    # validate (which first tells the kind of the file) reads the same
    from kurszugang.io.detect import detect_kind, validate

    assert detect_kind(path) == "courses"
    report = validate(path)
    assert report.ok and report.counts["courses"] == 2


def test_kursbeginn_holding_times_is_the_start_time(tmp_path: Path) -> None:
    text = (
        "Standort-ID;Träger;Breite;Länge;Kursart;Wochentage;Kursbeginn;Kursende;Stand\n"
        "S1;VHS;47,85;12,12;allgemein;Mo-Fr;08:30;12:00;01.03.2026\n"
        "S1;VHS;47,85;12,12;intensiv;Mo-Fr;13:00;17:30;01.03.2026\n"
    )
    read = read_courses(_write(tmp_path, "kursorte.csv", text))
    assert read.courses["start_time"].tolist() == [30600, 46800]
    assert read.courses["end_time"].tolist() == [43200, 63000]
    assert "Spalte 'Kursbeginn' als start_time gelesen (sie enthält Uhrzeiten)" in \
        read.report.notes


def test_one_time_column_with_a_range(tmp_path: Path) -> None:
    text = (
        "Standort-ID;Träger;Breite;Länge;Kursart;Wochentage;Uhrzeit;Kinderbetreuung\n"
        "S1;VHS;47,85;12,12;allgemein;Mo-Fr;08:30 - 12:45 Uhr;nein\n"
        "S1;VHS;47,85;12,12;alpha;Di+Do;18.00–20.15;nein\n"
    )
    read = read_courses(_write(tmp_path, "kursorte.csv", text), as_of="2026-03-01")
    assert read.courses["start_time"].tolist() == [30600, 64800]
    assert read.courses["end_time"].tolist() == [45900, 72900]
    assert "Beginn und Ende aus der Spalte 'Uhrzeit' (HH:MM-HH:MM) gelesen" in read.report.notes

    bad = text.replace("18.00–20.15", "abends")
    with pytest.raises(DataValidationError) as excinfo:
        read_courses(_write(tmp_path, "bad.csv", bad), as_of="2026-03-01")
    assert _messages(excinfo) == [
        "bad.csv Zeile 3: Uhrzeit 'abends' ist keine Zeitspanne (erwartet Beginn und Ende "
        "HH:MM-HH:MM, z. B. 08:30-12:45)"
    ]


def test_stand_in_the_title_row(tmp_path: Path) -> None:
    text = f"Kursliste Landkreis Rosenheim, Stand: 01.03.2026\n{HEADER}\n{GOOD_ROW}\n"
    read = read_courses(_write(tmp_path, "kursorte.csv", text))
    assert read.as_of == dt.date(2026, 3, 1)
    assert "Stand 2026-03-01 aus der Titelzeile (Zeile 1) übernommen" in read.report.notes
    assert not read.report.warnings


def test_missing_stand_is_the_same_warning_in_read_and_validate(tmp_path: Path) -> None:
    path = _write(tmp_path, "kursorte.csv", f"Kursliste ohne Datum\n{HEADER}\n{GOOD_ROW}\n")
    read = read_courses(path)
    report = validate_courses(path)
    assert read.as_of is None
    assert read.report.counts["as of"] == report.counts["as of"] == "unbekannt"
    assert [str(p) for p in report.warnings] == [str(p) for p in read.report.warnings] == [
        "kursorte.csv: Stand (as_of) ist unbekannt (erwartet eine Spalte Stand bzw. as_of, ein "
        "Datum 'Stand TT.MM.JJJJ' in der Titelzeile oder die Option as_of=); die Liste wird ohne "
        "Stand gelesen"
    ]


def test_a_stand_that_is_no_date_is_a_warning(tmp_path: Path) -> None:
    path = _write(tmp_path, "k.csv", f"{HEADER},Stand\n{GOOD_ROW},März 2026\n")
    read = read_courses(path)
    assert read.as_of is None
    assert [str(p) for p in read.report.warnings] == [
        "k.csv: Stand ist unbekannt (erwartet eine Spalte Stand bzw. as_of, ein Datum 'Stand "
        "TT.MM.JJJJ' in der Titelzeile oder die Option as_of=); die Liste wird ohne Stand gelesen",
        "k.csv Zeile 2: Stand 'März 2026' ist kein Datum (erwartet TT.MM.JJJJ oder JJJJ-MM-TT); "
        "der Stand bleibt unbekannt, wenn keine Zeile ein Datum nennt",
    ]


def test_differing_stand_dates_take_the_earliest_with_a_warning(tmp_path: Path) -> None:
    path = _write(tmp_path, "k.csv", f"{HEADER},Stand\n{GOOD_ROW},15.02.2026\n"
                                     f"{GOOD_ROW},01.02.2026\n")
    read = read_courses(path)
    assert read.as_of == dt.date(2026, 2, 1)
    assert [str(p) for p in read.report.warnings] == [
        "k.csv Zeile 3: Stand '01.02.2026' weicht von Zeile 2 ab ('15.02.2026'; erwartet ein "
        "Datum für die ganze Liste); als Stand gilt das früheste Datum 2026-02-01"
    ]


def test_missing_columns_and_row_problems_are_reported_together(tmp_path: Path) -> None:
    text = (
        "Kursliste\n"
        "Standort-ID;Träger;Breite;Länge;Kursart;Wochentage;Beginn;Kinderbetreuung\n"
        "S1;VHS;47,85;12,12;allgemein;Werktags;08:30;nein\n"
        "S2;VHS;95,2;12,12;allgemein;Mo-Fr;8:75;nein\n"
    )
    with pytest.raises(DataValidationError) as excinfo:
        read_courses(_write(tmp_path, "kursorte.csv", text), as_of="2026-03-01")
    assert _messages(excinfo) == [
        "kursorte.csv: Ende (end_time) fehlt als Spalte (erwartet eine Spalte end_time oder Ende, "
        "Uhrzeit bis, bis, Endzeit, Unterrichtsende, end, Zeit bis, Kurszeit bis, Unterrichtszeit "
        "bis, Ende Uhrzeit, Uhrzeit Ende, Schluss)",
        "kursorte.csv Zeile 3: Wochentage 'Werktags' ist keine Angabe von Wochentagen (erwartet "
        "Wochentage wie Mo-Fr, Mo,Mi,Fr, Di+Do, Mon,Tue oder 1111100)",
        "kursorte.csv Zeile 4: Breite '95,2' liegt außerhalb des Wertebereichs (erwartet eine "
        "geographische Breite zwischen -90 und 90)",
        "kursorte.csv Zeile 4: Beginn '8:75' ist keine Uhrzeit (erwartet HH:MM)",
    ]
    assert str(excinfo.value).startswith("kursorte.csv: 4 Probleme gefunden:\n")


def test_report_format_reads_german(tmp_path: Path) -> None:
    path = _minimal(tmp_path, GOOD_ROW, GOOD_ROW.replace("08:30", "8:75"))
    text = validate_courses(path).format()
    assert text.splitlines() == [
        "Kursorte und Kurse: kursorte.csv",
        "  Zeichensatz: UTF-8",
        "  Trennzeichen: ,",
        "  Zeilen: 2",
        "  Stand: unbekannt",
        "  Hinweis: Zeitform für 2 Kurs(e) abgeleitet (abend ab 17:00; teilzeit bis 3 Tage oder "
        "2,5 Stunden am Tag; sonst vollzeit)",
        "  1 Fehler",
        "    Fehler: kursorte.csv Zeile 3: start_time '8:75' ist keine Uhrzeit (erwartet HH:MM)",
        "  1 Warnung",
        "    Warnung: kursorte.csv: Stand (as_of) ist unbekannt (erwartet eine Spalte Stand bzw. "
        "as_of, ein Datum 'Stand TT.MM.JJJJ' in der Titelzeile oder die Option as_of=); die "
        "Liste wird ohne Stand gelesen",
    ]


# ------------------------------------------------------------------------------------------
# Provider contact: phone, e-mail, web
# ------------------------------------------------------------------------------------------
def test_contact_columns_are_checked_and_kept_on_the_sites(tmp_path: Path) -> None:
    text = (
        f"{HEADER},Telefon,E-Mail,Internet\n"
        f"{GOOD_ROW},08031 365-1450,mailto:info@vhs-rosenheim.de,www.vhs-rosenheim.de\n"
        f"{GOOD_ROW.replace('S1,', 'S2,')},bitte anrufen,info(at)caritas.de,javascript:alert(1)\n"
        f"{GOOD_ROW.replace('S1,', 'S3,')},+49 (8071) 123,kurse@kolping.de,https://kolping.de/kurse\n"
    )
    read = read_courses(_write(tmp_path, "kursorte.csv", text), as_of="2026-03-01")
    sites = read.sites.set_index("site_id")
    assert sites.loc["S1", ["phone", "email", "web"]].tolist() == [
        "08031 365-1450", "info@vhs-rosenheim.de", "https://www.vhs-rosenheim.de"]
    assert sites.loc["S3", ["phone", "email", "web"]].tolist() == [
        "+49 (8071) 123", "kurse@kolping.de", "https://kolping.de/kurse"]
    assert sites.loc["S2", ["phone", "email", "web"]].isna().all()
    assert [str(p) for p in read.report.warnings] == [
        "kursorte.csv Zeile 3: Telefon 'bitte anrufen' sieht nicht wie eine Telefonnummer aus "
        "(erwartet Ziffern, Leerzeichen und + - / ( ), z. B. 08031 365-1450); der Wert wird "
        "nicht übernommen",
        "kursorte.csv Zeile 3: E-Mail 'info(at)caritas.de' sieht nicht wie eine E-Mail-Adresse "
        "aus (erwartet name@beispiel.de); der Wert wird nicht übernommen",
        "kursorte.csv Zeile 3: Internet 'javascript:alert(1)' sieht nicht wie eine Webadresse "
        "aus (erwartet z. B. www.vhs-beispiel.de oder https://www.vhs-beispiel.de); der Wert "
        "wird nicht übernommen",
    ]
    assert "https:// ergänzt bei 1 Webadresse(n) ohne Schema" in read.report.notes
    assert "'mailto:' entfernt bei 1 E-Mail-Adresse(n)" in read.report.notes


def test_contact_that_differs_within_a_site_keeps_the_first(tmp_path: Path) -> None:
    text = f"{HEADER},Telefon\n{GOOD_ROW},08031 1111\n{GOOD_ROW},08031 2222\n"
    read = read_courses(_write(tmp_path, "k.csv", text), as_of="2026-03-01")
    assert read.sites["phone"].tolist() == ["08031 1111"]
    assert [str(p) for p in read.report.warnings] == [
        "k.csv Zeile 3: Telefon '08031 2222' weicht von Zeile 2 ab ('08031 1111') bei "
        "Standort-ID 'S1'; der Wert aus Zeile 2 wird verwendet"
    ]


# ------------------------------------------------------------------------------------------
# Markup and spreadsheet formulas in text fields: kept as text, warned about
# ------------------------------------------------------------------------------------------
def test_markup_and_formulas_are_kept_as_text_with_one_warning_per_field(tmp_path: Path) -> None:
    header = f"{HEADER},site_name,notes"
    text = (
        f"{header}\n"
        f'{GOOD_ROW.replace("S1,VHS,", "S1,<b>VHS</b>,")},"=HYPERLINK(""http://x"")",-\n'
        f"{GOOD_ROW.replace('S1,VHS,', 'S2,VHS,')},VHS-Haus,\"\tTabulator am Anfang\"\n"
        f"{GOOD_ROW.replace('S1,VHS,', 'S3,VHS,')},@Haus,<script>alert(1)</script>\n"
        f"{GOOD_ROW.replace('S1,VHS,', 'S4,VHS,')},+Haus,javascript:void(0)\n"
    )
    read = read_courses(_write(tmp_path, "kursorte.csv", text), as_of="2026-03-01")
    sites = read.sites.set_index("site_id")
    assert sites.loc["S1", "provider"] == "<b>VHS</b>"  # kept as written, not stripped
    assert sites.loc["S1", "site_name"] == '=HYPERLINK("http://x")'
    assert read.courses["notes"].tolist()[2] == "<script>alert(1)</script>"
    assert [str(p) for p in read.report.warnings] == [
        "kursorte.csv: provider 1 Wert(e) enthalten Markup (<, >, javascript:), z. B. Zeile 2 "
        "'<b>VHS</b>'; sie werden unverändert übernommen und als reiner Text angezeigt",
        "kursorte.csv: site_name 3 Wert(e) beginnen wie eine Tabellenformel (=, +, -, @, "
        "Tabulator, Wagenrücklauf), z. B. Zeile 2 '=HYPERLINK(\"http://x\")', Zeile 4 '@Haus', "
        "Zeile 5 '+Haus'; sie werden unverändert übernommen und als reiner Text angezeigt",
        "kursorte.csv: notes 3 Wert(e) enthalten Markup (<, >, javascript:) bzw. beginnen wie "
        "eine Tabellenformel (=, +, -, @, Tabulator, Wagenrücklauf), z. B. Zeile 3 'Tabulator am "
        "Anfang', Zeile 4 '<script>alert(1)</script>', Zeile 5 'javascript:void(0)'; sie werden "
        "unverändert übernommen und als reiner Text angezeigt",
    ]


def test_plain_text_gives_no_markup_warning(german: CourseList) -> None:
    assert not [p for p in german.report.warnings if p.code == "risky_text"]


# ------------------------------------------------------------------------------------------
# Site lists (one row per site, no course columns)
# ------------------------------------------------------------------------------------------
def _site_list(german: CourseList) -> str:
    """Two of the fixture's sites as x/y in EPSG:25832 (one by the crs column, one by the
    option), below a title row, with German headers as district staff write them."""
    (rx, ry), (wx, wy) = (
        (f"{p.x:.3f}".replace(".", ","), f"{p.y:.3f}".replace(".", ","))
        for p in german.sites.geometry.iloc[:2]
    )
    return (
        "Standorte für Integrationskurse Landkreis Rosenheim, Stand 01.03.2026;;\n"
        "Standort-ID;Träger;Standort;Straße;PLZ;Ort;Rechtswert;Hochwert;Koordinatensystem;"
        "Telefon;E-Mail;Internet;Kinderbetreuung;Bemerkungen\n"
        f"RO1;VHS Rosenheim;VHS-Haus;Stollstraße 1;83022;Rosenheim;{rx};{ry};"
        "25832;08031 365-1450;mailto:info@vhs-rosenheim.de;www.vhs-rosenheim.de;ja;\n"
        "# WS1 kommt zum Herbst dazu\n"
        f"WS1;Caritas Wasserburg;;Salzsenderzeile 5;83512;Wasserburg am Inn;{wx};{wy};;;;;"
        "nein;Raum 2\n"
    )


def test_site_list_with_a_title_row_german_headers_and_xy(
    tmp_path: Path, german: CourseList
) -> None:
    path = _write(tmp_path, "kursorte.csv", _site_list(german), "cp1252")
    sites = read_sites(path, crs="EPSG:25832")
    assert list(sites.columns) == list(SITE_COLUMNS)
    assert sites.crs.to_epsg() == 25832
    assert sites["site_id"].tolist() == ["RO1", "WS1"]
    assert sites["provider"].tolist() == ["VHS Rosenheim", "Caritas Wasserburg"]
    assert sites["site_name"].iloc[0] == "VHS-Haus" and pd.isna(sites["site_name"].iloc[1])
    assert sites["address"].tolist() == ["Stollstraße 1, 83022 Rosenheim",
                                         "Salzsenderzeile 5, 83512 Wasserburg am Inn"]
    assert sites.loc[0, ["phone", "email", "web"]].tolist() == [
        "08031 365-1450", "info@vhs-rosenheim.de", "https://www.vhs-rosenheim.de"]
    assert sites.loc[1, ["phone", "email", "web"]].isna().all()
    assert sites["has_childcare"].tolist() == [True, False]
    # the points of the course list's lon/lat, through x/y in UTM and back
    assert sites["lon"].tolist() == pytest.approx([12.1289, 12.2330], abs=1e-7)
    assert sites["lat"].tolist() == pytest.approx([47.8561, 48.0604], abs=1e-7)
    assert sites.geometry.distance(german.sites.geometry.iloc[:2]).max() < 0.01
    assert sites["line"].tolist() == [3, 5]  # title line 1, header line 2, comment line 4

    report = validate_sites(path, crs="EPSG:25832")
    assert report.ok and not report.warnings
    assert report.counts["sites"] == 2 and report.counts["sites with childcare"] == 1
    assert report.notes == [
        "nicht UTF-8 (erstes Zeichen außerhalb UTF-8 in Zeile 1): als Windows-1252 gelesen, wie "
        "deutsches Excel 'CSV (Trennzeichen-getrennt)' schreibt; als 'CSV UTF-8' speichern, um "
        "das zu vermeiden",
        "Kopfzeile in Zeile 2; die Zeilen darüber wurden übersprungen",
        "1 Kommentarzeile(n) (beginnend mit #) übersprungen (z. B. 4)",
        "nicht verwendete Spalten: Bemerkungen",
        "'mailto:' entfernt bei 1 E-Mail-Adresse(n)",
        "https:// ergänzt bei 1 Webadresse(n) ohne Schema",
    ]
    assert report.format().startswith("Kursorte: kursorte.csv\n")
    # without the option, the row without a crs cell cannot be placed
    with pytest.raises(DataValidationError) as excinfo:
        read_sites(path)
    assert _messages(excinfo) == [
        "kursorte.csv Zeile 5: Koordinatensystem fehlt (erwartet das Koordinatensystem von x/y, "
        "z. B. EPSG:25832, als Spalte crs bzw. Koordinatensystem oder als Option crs=)"
    ]


def test_site_list_as_xlsx_and_geojson_without_childcare_column(
    tmp_path: Path, german: CourseList
) -> None:
    table = pd.DataFrame({"Standort-ID": ["RO1", "BA1"], "Name": ["VHS-Haus", "Kolpinghaus"],
                          "Längengrad": [12.1289, 12.0100], "Breitengrad": [47.8561, 47.8640]})
    xlsx = tmp_path / "orte.xlsx"
    table.to_excel(xlsx, index=False)
    points = gpd.GeoDataFrame(table[["Standort-ID", "Name"]], crs="EPSG:25832",
                              geometry=german.sites.geometry.iloc[[0, 2]].to_numpy())
    geojson = tmp_path / "orte.geojson"
    points.to_file(geojson, engine="pyogrio")
    for path in (xlsx, geojson):
        sites = read_sites(path)
        assert sites["site_id"].tolist() == ["RO1", "BA1"]
        assert sites["site_name"].tolist() == ["VHS-Haus", "Kolpinghaus"]
        assert sites["provider"].isna().all()
        assert sites["has_childcare"].tolist() == [False, False]
        assert sites["lat"].tolist() == pytest.approx([47.8561, 47.8640], abs=1e-7)
        assert sites["line"].tolist() == ([2, 3] if path == xlsx else [1, 2])
        assert [str(p) for p in validate_sites(path).warnings] == [
            f"{path.name}: Kinderbetreuung (childcare) fehlt als Spalte: kein Kursort gilt als "
            "Kursort mit Kinderbetreuung (erwartet Kinderbetreuung ja/nein je Kursort)"
        ]


def test_site_list_bad_coordinates_are_named_by_line(tmp_path: Path) -> None:
    text = (
        "Standort-ID;Längengrad;Breitengrad;Kinderbetreuung\n"
        "A;12,1289;47,8561;ja\n"
        "B;zwölf;47,9;nein\n"
        "C;12,2;95,2;nein\n"
        "D;;;\n"
        "E;47,85;12,13;ja\n"
    )
    path = _write(tmp_path, "orte.csv", text)
    with pytest.raises(DataValidationError) as excinfo:
        read_sites(path)
    assert _messages(excinfo) == [
        "orte.csv Zeile 3: Längengrad 'zwölf' ist keine Zahl (erwartet eine geographische Länge "
        "in Dezimalgrad (WGS84), z. B. 12,1289)",
        "orte.csv Zeile 4: Breitengrad '95,2' liegt außerhalb des Wertebereichs (erwartet eine "
        "geographische Breite zwischen -90 und 90)",
        "orte.csv Zeile 5: Längengrad fehlt (erwartet eine geographische Länge in Dezimalgrad "
        "(WGS84), z. B. 12,1289, oder x/y mit Koordinatensystem)",
        "orte.csv Zeile 5: Breitengrad fehlt (erwartet eine geographische Breite in Dezimalgrad "
        "(WGS84), z. B. 47,8561, oder x/y mit Koordinatensystem)",
    ]
    assert excinfo.value.path == path
    assert [str(p) for p in validate_sites(path).warnings] == [
        "orte.csv Zeile 6: Längengrad 47.85000, lat 12.13000 des Kursorts 'E' liegt außerhalb "
        "Deutschlands (erwartet 5,5–15,5° O, 47–55,5° N); Breite und Länge scheinen vertauscht"
    ]


def test_site_list_repeated_ids_and_bad_childcare(tmp_path: Path) -> None:
    text = ("site_id,lon,lat,childcare\nS1,12.1,47.9,ja\n,12.2,47.9,nein\nS1,12.3,47.9,\n"
            "S2,12.4,47.9,vielleicht\n")
    with pytest.raises(DataValidationError) as excinfo:
        read_sites(_write(tmp_path, "orte.csv", text))
    assert _messages(excinfo) == [
        "orte.csv Zeile 3: site_id fehlt (erwartet eine Kennung des Kursorts, z. B. S01)",
        "orte.csv Zeile 4: site_id 'S1' kommt noch einmal vor (zuerst in Zeile 2; erwartet eine "
        "Zeile je Kursort mit eigener Kennung)",
        "orte.csv Zeile 5: childcare 'vielleicht' ist weder ja noch nein (erwartet ja/nein, "
        "yes/no, x oder leer, 1/0, wahr/falsch)",
    ]


def test_site_list_without_id_or_coordinate_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, "orte.csv", "Standort;Ort\nRathaus;Probing\n")
    with pytest.raises(DataValidationError) as excinfo:
        read_sites(path)
    assert _messages(excinfo) == [
        "orte.csv: Standort-ID (site_id) fehlt als Spalte (erwartet eine Spalte site_id oder "
        "Standort-ID, Standort-Nr, Standortnummer, Kursort-ID, Kursort-Nr, Standortkennung)",
        "orte.csv: lon/lat fehlen als Spalten (erwartet Spalten lon und lat (WGS84) oder x und y "
        "mit Koordinatensystem; deutsch Längengrad/Breitengrad oder Rechtswert/Hochwert)",
    ]


def test_site_list_id_aliases(tmp_path: Path) -> None:
    path = _write(tmp_path, "orte.csv", "Kandidat;x;y\nK1;734038,7;5305047\n")
    sites = read_sites(path, crs=25832, id_aliases=["Kandidat"])
    assert sites["site_id"].tolist() == ["K1"]
    assert (sites.geometry.x.iloc[0], sites.geometry.y.iloc[0]) == pytest.approx(
        (734038.7, 5305047.0), abs=1e-6)
    with pytest.raises(ConfigError) as excinfo:
        read_sites(path, id_aliases=["Kursart"])
    assert str(excinfo.value) == (
        "Option id_aliases: 'Kursart' ist schon der Name der Spalte course_type (erwartet einen "
        "Spaltennamen, der sonst nichts bedeutet)")


def test_empty_site_list_says_leer(tmp_path: Path) -> None:
    path = _write(tmp_path, "orte.csv", "")
    with pytest.raises(InputFormatError) as excinfo:
        read_sites(path)
    assert str(excinfo.value) == "orte.csv: ist leer (0 Bytes; erwartet eine Liste von Kursorten)"
    assert [str(p) for p in validate_sites(path).errors] == [
        "orte.csv: ist leer (0 Bytes; erwartet eine Liste von Kursorten)"]
    path = _write(tmp_path, "orte.csv", "Standort-ID;lon;lat\n;;\n")
    with pytest.raises(InputFormatError) as excinfo:
        read_sites(path)
    assert str(excinfo.value) == (
        "orte.csv: hat eine Kopfzeile, aber keine Zeilen mit Kursorten (erwartet eine Zeile je "
        "Kursort)")
