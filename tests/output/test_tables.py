"""CSV and XLSX for German Excel: read back with German settings, AGS intact, suppression."""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import openpyxl
import pandas as pd
import pytest

from kurszugang.analysis.coverage import RouterPool, compare_days, course_access, coverage_summary
from kurszugang.analysis.demand import class_sizes
from kurszugang.analysis.grid import analysis_grid
from kurszugang.demo import HOLIDAY_WEEKDAY, SCHOOL_DAY, demo_files
from kurszugang.errors import ConfigError, InputError
from kurszugang.io.boundaries import read_boundaries
from kurszugang.io.courses import read_courses
from kurszugang.io.gtfs import read_gtfs
from kurszugang.io.osm import read_walk_network
from kurszugang.io.population import read_population_grid
from kurszugang.output.tables import (
    Parameter,
    column_labels,
    german_columns,
    write_csv,
    write_xlsx,
)

GERMAN_EXCEL = {"sep": ";", "decimal": ",", "encoding": "utf-8-sig"}


@pytest.fixture(scope="module")
def results():
    f = demo_files()
    gem = read_boundaries(f.boundaries, layer="vg250_gem")
    cells = analysis_grid(gem, read_population_grid(f.population), populated_only=True,
                          participant_factor=0.03)
    pool = RouterPool(read_gtfs(f.gtfs), read_walk_network(f.osm))
    courses = read_courses(f.courses)
    school = course_access(pool, cells, courses, SCHOOL_DAY, max_threshold_min=60)
    holiday = course_access(pool, cells, courses, HOLIDAY_WEEKDAY, max_threshold_min=60)
    return school, holiday


def test_csv_reads_back_with_german_excel_settings(results, tmp_path):
    school, _ = results
    summary = coverage_summary(school)
    table = german_columns(summary, "coverage_summary")
    path = write_csv(table, tmp_path / "kursbesuch.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf\"AGS\";\"Name\";")
    assert b"\r\n\"09999111\";\"Beispielstadt\";" in raw
    assert raw.count(b"\r\n") == len(summary) + 1
    back = pd.read_csv(path, dtype={"AGS": str}, **GERMAN_EXCEL)
    assert back["AGS"].tolist() == summary["ags"].tolist()
    assert "09999111" in set(back["AGS"])
    assert back["Name"].tolist() == summary["gen"].tolist()
    for raw_name, label in column_labels(summary.columns).items():
        if raw_name in ("ags", "gen"):
            continue
        np.testing.assert_array_equal(back[label].to_numpy(float),
                                      summary[raw_name].to_numpy(float), err_msg=label)
    # fractional participants are written with a decimal comma, never a point
    line = raw.decode("utf-8-sig").split("\r\n")[1]
    assert "," in line.split(";")[3] and "." not in line


def test_csv_suppresses_small_counts_of_people(results, tmp_path, caplog):
    school, _ = results
    summary = coverage_summary(school)
    table = german_columns(summary, "coverage_summary")
    caplog.set_level(logging.INFO, logger="kurszugang.output.tables")
    path = write_csv(table, tmp_path / "geschuetzt.csv", suppress_below=5)
    back = pd.read_csv(path, dtype={"AGS": str}, **GERMAN_EXCEL)
    label = "Teilnehmende: mindestens ein Kurs besuchbar"
    orig = summary["part_any"].to_numpy(float)
    got = back[label].to_numpy(float)
    small = (orig > 0) & (orig < 5)
    assert small.any() and (~small).any()  # the demo has both
    assert np.isnan(got[small]).all()
    np.testing.assert_array_equal(got[~small], orig[~small])
    assert (orig == 0).any() and (got[orig == 0] == 0).all()  # zeros stay
    n_small = sum(int(((summary[c] > 0) & (summary[c] < 5)).sum())
                  for c in summary.columns if c not in ("ags", "gen"))
    assert f"{n_small} small count(s) (1 to 4) suppressed" in caplog.text


def test_csv_marker_and_named_count_columns(tmp_path):
    table = pd.DataFrame({
        "AGS": ["09999111", "09999112", "09999113", "09999114"],
        "Fälle": [0, 3, 4.5, 17],
        "Anteil (%)": [0.0, 2.0, 3.0, 40.5],
    })
    path = write_csv(table, tmp_path / "t.csv", suppress_below=5, count_columns=["Fälle"],
                     suppressed_as="<5")
    text = path.read_bytes().decode("utf-8-sig")
    assert text.split("\r\n")[2] == '"09999112";"<5";2,0'
    back = pd.read_csv(path, dtype={"AGS": str, "Fälle": str}, **GERMAN_EXCEL)
    assert back["Fälle"].tolist() == ["0,0", "<5", "<5", "17,0"]
    assert back["Anteil (%)"].tolist() == [0.0, 2.0, 3.0, 40.5]  # shares are never counts


def test_csv_text_booleans_dates_and_missing_values(tmp_path):
    table = pd.DataFrame({
        "site_id": ["007", "KS;2", None],
        "Name": ['Haus "Am See"', "Schule", "VHS"],
        "Kinderbetreuung": [True, False, True],
        "Start": pd.to_datetime(["2026-03-02", None, "2026-04-13"]),
        "Plätze": pd.array([12, None, 3], dtype="Int32"),
        "Minuten": [12.25, np.nan, 1e-3],
    })
    path = write_csv(table, tmp_path / "t.csv", decimals=2)
    lines = path.read_bytes().decode("utf-8-sig").split("\r\n")
    assert lines[1] == '"007";"Haus ""Am See""";"ja";2026-03-02;12;12,25'
    assert lines[2] == '"KS;2";"Schule";"nein";;;'
    assert lines[3] == ';"VHS";"ja";2026-04-13;3;0,00'
    back = pd.read_csv(path, dtype={"site_id": str}, **GERMAN_EXCEL)
    assert back["site_id"].tolist()[:2] == ["007", "KS;2"] and pd.isna(back["site_id"][2])
    assert back["Name"][0] == 'Haus "Am See"'


def test_xlsx_sheets_text_cells_numbers_and_parameters(results, tmp_path):
    school, holiday = results
    summary = coverage_summary(school)
    sizes = class_sizes(school, thresholds=(30, 45, 60))
    days = compare_days(school, holiday)
    path = write_xlsx(
        {"Gemeinden": german_columns(summary, "coverage_summary"),
         "Klassengrößen": german_columns(sizes, "class_sizes"),
         "Schultag und Ferientag im Vergleich": german_columns(days, "compare_days")},
        tmp_path / "ergebnisse.xlsx",
        parameters={"threshold_min": 45, "date": SCHOOL_DAY,
                    "min_class_size": {"allgemein": 15, "alpha": 8},
                    "Quelle": Parameter("Demo", meaning="fiktiver Landkreis")})
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Gemeinden", "Klassengrößen", "Schultag und Ferientag im Vergl",
                             "Parameter"]
    ws = wb["Gemeinden"]
    assert [c.value for c in ws[1]][:3] == ["AGS", "Name", "Einwohner"]
    assert ws["A1"].font.b and ws.freeze_panes == "A2"
    ags = [ws.cell(row=r, column=1) for r in range(2, len(summary) + 2)]
    assert [c.value for c in ags] == summary["ags"].tolist()
    assert all(c.data_type == "s" and c.number_format == "@" for c in ags)
    col = [c.value for c in ws[1]].index("Teilnehmende: mindestens ein Kurs besuchbar") + 1
    values = [ws.cell(row=r, column=col).value for r in range(2, len(summary) + 2)]
    assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    # XLSX keeps 15-16 significant digits (7.4399999999999995 is stored as 7.44)
    np.testing.assert_allclose(values, summary["part_any"].to_numpy(float), rtol=1e-15)
    assert ws.column_dimensions["A"].width >= 10
    sizes_ws = wb["Klassengrößen"]
    assert sizes_ws["A2"].value == sizes["course_id"].iloc[0] and sizes_ws["A2"].number_format == "@"
    params = list(wb["Parameter"].iter_rows(values_only=True))
    assert params[0] == ("Parameter", "Wert", "Einheit", "Bedeutung")
    assert params[1] == ("threshold_min", 45, "min", "Längste Reisezeit je Weg (hin und zurück)")
    assert params[2][:2] == ("date", "2026-03-10")
    assert params[3][1] == "allgemein: 15, alpha: 8"
    assert params[4] == ("Quelle", "Demo", None, "fiktiver Landkreis")


def test_xlsx_suppression_and_parameter_note(results, tmp_path):
    school, _ = results
    summary = coverage_summary(school)
    path = write_xlsx({"Gemeinden": german_columns(summary, "coverage_summary", language="en")},
                      tmp_path / "e.xlsx", suppress_below=5, language="en")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Gemeinden", "Parameters"]
    ws = wb["Gemeinden"]
    head = [c.value for c in ws[1]]
    col = head.index("Participants able to attend: any course") + 1
    got = [ws.cell(row=r, column=col).value for r in range(2, len(summary) + 2)]
    orig = summary["part_any"].to_numpy(float)
    small = (orig > 0) & (orig < 5)
    assert small.any()
    assert all(g is None for g, s in zip(got, small, strict=True) if s)
    kept = [g for g, s in zip(got, small, strict=True) if not s]
    np.testing.assert_allclose(kept, orig[~small], rtol=1e-15)
    params = list(wb["Parameters"].iter_rows(values_only=True))
    assert params[1][:3] == ("suppress_below", 5, "people")


def test_german_and_english_labels():
    cols = ["ags", "part_type_alpha", "inh_sched_abend", "participants_45", "feasible_60",
            "inh_any_2026-03-10", "part_any_diff", "share_part_any", "something_else"]
    de = column_labels(cols)
    assert de["part_type_alpha"] == "Teilnehmende: Alphabetisierungskurs besuchbar"
    assert de["inh_sched_abend"] == "Einwohner: Abendkurs besuchbar"
    assert de["participants_45"] == "Teilnehmende in 45 min"
    assert de["feasible_60"] == "Mindestgröße erreicht in 60 min"
    assert de["inh_any_2026-03-10"] == "Einwohner: mindestens ein Kurs besuchbar (10.03.2026)"
    assert de["part_any_diff"] == "Teilnehmende: mindestens ein Kurs besuchbar (Differenz)"
    assert de["share_part_any"] == "Teilnehmende: mindestens ein Kurs besuchbar, Anteil in %"
    assert "something_else" not in de
    en = column_labels(cols, language="en")
    assert en["part_type_alpha"] == "Participants able to attend: literacy course"
    assert en["inh_any_2026-03-10"] == "Inhabitants able to attend: any course (2026-03-10)"


def test_unknown_language_is_refused():
    with pytest.raises(ConfigError, match="unknown language 'fr': use 'de' \\(German\\) or "
                                          "'en' \\(English\\)"):
        german_columns(pd.DataFrame({"ags": ["09999111"]}), "gaps", language="fr")


def test_table_without_the_ags_column_asked_for(tmp_path):
    table = pd.DataFrame({"Gemeinde": ["Beispielstadt"], "Einwohner": [15019]})
    with pytest.raises(InputError, match="the table has no column 'AGS' to write as text; its "
                                         "columns are Gemeinde, Einwohner"):
        write_csv(table, tmp_path / "t.csv", text_columns=["AGS"])


def test_numeric_ags_is_refused_because_its_zeros_are_lost(tmp_path):
    table = pd.DataFrame({"AGS": [9999111, 9999112], "Einwohner": [15019, 755]})
    with pytest.raises(InputError, match="column 'AGS' holds numbers, so leading zeros are "
                                         "already lost"):
        write_csv(table, tmp_path / "t.csv")


def test_suppression_without_count_columns_is_refused(tmp_path):
    table = pd.DataFrame({"AGS": ["09999111"], "Haltestellen": [3]})
    with pytest.raises(ConfigError, match="no column of people counts that kurszugang "
                                          "recognises: name them with count_columns"):
        write_csv(table, tmp_path / "t.csv", suppress_below=5)


def test_suppression_threshold_must_be_a_positive_whole_number(tmp_path):
    table = pd.DataFrame({"AGS": ["09999111"], "Einwohner": [3]})
    with pytest.raises(ConfigError, match="suppress_below must be a whole number of people of "
                                          "at least 1 \\(e.g. 5\\), got 0"):
        write_csv(table, tmp_path / "t.csv", suppress_below=0)


def test_gaps_table_without_ags_is_refused():
    with pytest.raises(InputError, match="a gaps table needs the column 'ags'; this one has "
                                         "gen, missing_types"):
        german_columns(pd.DataFrame({"gen": ["X"], "missing_types": ["alpha"]}), "gaps")


def test_unknown_table_kind_is_refused():
    with pytest.raises(ConfigError, match="unknown table kind 'summary': use one of "
                                          "coverage_summary, compare_days"):
        german_columns(pd.DataFrame({"ags": ["09999111"]}), "summary")


def test_colliding_sheet_names_are_refused(tmp_path):
    long = "Kursbesuch je Gemeinde am Schultag"
    tables = {long: pd.DataFrame({"a": [1]}), long + " (Kopie)": pd.DataFrame({"a": [2]})}
    with pytest.raises(ConfigError, match="two tables would get the sheet name 'Kursbesuch je "
                                          "Gemeinde am Schul'"):
        write_xlsx(tables, tmp_path / "t.xlsx")


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(InputError, match="folder .*nirgends does not exist"):
        write_csv(pd.DataFrame({"a": [1]}), tmp_path / "nirgends" / "t.csv")


def test_dates_in_parameters_are_iso_text(tmp_path):
    path = write_xlsx({"T": pd.DataFrame({"a": [1]})}, tmp_path / "t.xlsx",
                      parameters={"holiday": dt.date(2026, 8, 11), "thresholds": (30, 45, 60)})
    rows = list(openpyxl.load_workbook(path)["Parameter"].iter_rows(values_only=True))
    assert rows[1] == ("holiday", "2026-08-11", None, "Ferientag der Analyse")
    assert rows[2] == ("thresholds", "30, 45, 60", "min", "Verglichene Reisezeitschwellen")
