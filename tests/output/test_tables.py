"""CSV and XLSX for German Excel: read back with German settings, AGS intact, suppression,
labels from the schema, no formula from an input, the same bytes for the same tables."""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import openpyxl
import pandas as pd
import pytest

from kurszugang.analysis.coverage import compare_days, course_access, coverage_summary
from kurszugang.analysis.demand import class_sizes
from kurszugang.demo import HOLIDAY_WEEKDAY, SCHOOL_DAY
from kurszugang.errors import ConfigError, InputError
from kurszugang.output.tables import Parameter, write_csv, write_xlsx
from kurszugang.results import build_table
from kurszugang.schema import spec

GERMAN_EXCEL = {"sep": ";", "decimal": ",", "encoding": "utf-8-sig"}


@pytest.fixture(scope="module")
def results(demo):
    cells = demo.cells(participant_factor=0.03)
    pool = demo.pool()
    school = course_access(pool, cells, demo.courses, SCHOOL_DAY, max_threshold_min=60)
    holiday = course_access(pool, cells, demo.courses, HOLIDAY_WEEKDAY, max_threshold_min=60)
    return school, holiday


def _kinds(access):
    c = access.courses
    return {"course_type": sorted(c["course_type"].unique()),
            "schedule": sorted(c["schedule"].unique())}


def coverage_table(access):
    return build_table("kursbesuch", coverage_summary(access).assign(share_part_any=np.nan),
                       **_kinds(access))


def test_csv_reads_back_with_german_excel_settings(results, tmp_path):
    school, _ = results
    summary = coverage_summary(school)
    table = coverage_table(school)
    path = write_csv(table, tmp_path / "kursbesuch.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf\"AGS\";\"Gemeinde\";")
    assert b"\r\n\"09999111\";\"Beispielstadt\";" in raw
    assert raw.count(b"\r\n") == len(summary) + 1
    back = pd.read_csv(path, dtype={"AGS": str}, **GERMAN_EXCEL)
    assert back["AGS"].tolist() == summary["ags"].tolist()
    assert "09999111" in set(back["AGS"])
    assert back["Gemeinde"].tolist() == summary["gen"].tolist()
    for raw_name, label in table.labels().items():
        if raw_name in ("ags", "gen", "share_part_any"):
            continue
        np.testing.assert_array_equal(back[label].to_numpy(float),
                                      summary[raw_name].to_numpy(float), err_msg=label)
    # fractional participants are written with a decimal comma, never a point
    line = raw.decode("utf-8-sig").split("\r\n")[1]
    assert "," in line.split(";")[3] and "." not in line


def test_csv_suppresses_small_counts_of_people(results, tmp_path, caplog):
    school, _ = results
    summary = coverage_summary(school)
    table = coverage_table(school)
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
    small_counts = "kleine Anzahl" if n_small == 1 else "kleine Anzahlen"
    assert f"{n_small:,} {small_counts} (1 bis 4) in".replace(",", ".") in caplog.text


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
        {"Gemeinden": coverage_table(school),
         "Klassengrößen": build_table("klassengroessen", sizes, min=[30, 45, 60]),
         "Schultag und Ferientag im Vergleich": build_table(
             "schultag_ferien", days, date=[SCHOOL_DAY, HOLIDAY_WEEKDAY])},
        tmp_path / "ergebnisse.xlsx",
        parameters={"Höchstdauer je Weg": Parameter(45, "min", "Längste Reisezeit je Weg",
                                                     key="coverage.threshold_min"),
                    "Schultag": Parameter(SCHOOL_DAY, "Datum", "Schultag der Analyse"),
                    "Mindestklassengröße": Parameter({"allgemein": 15, "alpha": 8}, "Personen",
                                                     "je Kursart"),
                    "Quelle": Parameter("Demo", meaning="fiktiver Landkreis")})
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Gemeinden", "Klassengrößen", "Schultag und Ferientag im Vergl",
                             "Parameter"]
    ws = wb["Gemeinden"]
    assert [c.value for c in ws[1]][:3] == ["AGS", "Gemeinde", "Einwohner"]
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
    assert params[0] == ("Parameter", "Schlüssel", "Wert", "Einheit", "Bedeutung")
    assert params[1] == ("Höchstdauer je Weg", "coverage.threshold_min", 45, "min",
                         "Längste Reisezeit je Weg")
    assert params[2][2:4] == ("2026-03-10", "Datum")
    assert params[3][2] == "allgemein: 15, alpha: 8"
    assert params[4] == ("Quelle", None, "Demo", "–", "fiktiver Landkreis")


def test_xlsx_suppression_and_parameter_note(results, tmp_path):
    school, _ = results
    summary = coverage_summary(school)
    path = write_xlsx({"Gemeinden": coverage_table(school)},
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
    assert params[1][:4] == ("suppress_below", "suppress_below", 5, "Personen")


def test_german_and_english_labels_come_from_the_schema():
    cov = spec("kursbesuch").concrete(
        ["ags", "part_type_alpha", "inh_sched_abend", "share_part_any"],
        {"part_type_{}": ["alpha"], "inh_sched_{}": ["abend"]})
    de = {c.key: c.label("de") for c in cov}
    assert de["part_type_alpha"] == "Teilnehmende: Alphabetisierungskurs besuchbar"
    assert de["inh_sched_abend"] == "Einwohner: Abendkurs besuchbar"
    assert de["share_part_any"] == "Anteil Teilnehmende mit besuchbarem Kurs (%)"
    sizes = spec("klassengroessen")
    assert sizes.family("participants_{}").expand(45.0).label() == "Teilnehmende in 45 min"
    assert sizes.family("feasible_{}").expand(60).label() == "Mindestgröße erreicht in 60 min"
    days = spec("schultag_ferien")
    col = days.family("inh_any_{}").expand(SCHOOL_DAY)
    assert col.key == "inh_any_2026-03-10"
    assert col.label() == "Einwohner: mindestens ein Kurs besuchbar (10.03.2026)"
    assert col.label("en") == "Inhabitants able to attend: any course (2026-03-10)"
    assert days.column("part_any_diff").label() == ("Teilnehmende: mindestens ein Kurs "
                                                    "besuchbar (Differenz)")
    en = {c.key: c.label("en") for c in cov}
    assert en["part_type_alpha"] == "Participants able to attend: literacy course"


def test_no_header_of_a_run_table_is_an_identifier(demo_results):
    import re

    for t in demo_results.tables.values():
        for lang in ("de", "en"):
            for label in t.labels(lang).values():
                assert not re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", label), (t.name, label)


def test_unknown_language_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="unknown language 'fr': use 'de' \\(German\\) or "
                                          "'en' \\(English\\)"):
        write_csv(pd.DataFrame({"ags": ["09999111"]}), tmp_path / "t.csv", language="fr")


def test_a_column_the_schema_does_not_declare_is_refused():
    with pytest.raises(KeyError, match=r"table luecken: columns \['extra'\] are not declared"):
        build_table("luecken", pd.DataFrame({"ags": ["09999111"], "extra": [1]}))


def test_text_from_an_input_never_becomes_a_formula(tmp_path):
    table = pd.DataFrame({"site_id": ["=1+1", "+49 160", "@SUM(A1)", "-x", "Haus"],
                          "Plätze": [1, 2, 3, 4, 5]})
    path = write_csv(table, tmp_path / "t.csv")
    lines = path.read_bytes().decode("utf-8-sig").split("\r\n")
    assert [line.split(";")[0] for line in lines[1:6]] == [
        "\"'=1+1\"", "\"'+49 160\"", "\"'@SUM(A1)\"", "\"'-x\"", "\"Haus\""]
    xlsx = write_xlsx({"T": table}, tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(xlsx)["T"]
    cells = [ws.cell(row=r, column=1) for r in range(2, 7)]
    assert [c.value for c in cells] == ["=1+1", "+49 160", "@SUM(A1)", "-x", "Haus"]
    assert all(c.data_type == "s" for c in cells)  # text, not a formula
    with open(xlsx, "rb") as fh:
        import zipfile

        sheet = zipfile.ZipFile(fh).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet


def test_the_same_tables_give_the_same_bytes(results, tmp_path):
    school, _ = results
    a = write_xlsx({"G": coverage_table(school)}, tmp_path / "a.xlsx")
    b = write_xlsx({"G": coverage_table(school)}, tmp_path / "b.xlsx")
    assert a.read_bytes() == b.read_bytes()
    props = openpyxl.load_workbook(a).properties
    assert props.created == dt.datetime(2025, 12, 14)


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
    with pytest.raises(ConfigError, match="no column of people counts is named: name them with "
                                          "count_columns"):
        write_csv(table, tmp_path / "t.csv", suppress_below=5)


def test_suppression_threshold_must_be_a_positive_whole_number(tmp_path):
    table = pd.DataFrame({"AGS": ["09999111"], "Einwohner": [3]})
    with pytest.raises(ConfigError, match="suppress_below must be a whole number of people of "
                                          "at least 1 \\(e.g. 5\\), got -1"):
        write_csv(table, tmp_path / "t.csv", suppress_below=-1)


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
    assert rows[1] == ("holiday", None, "2026-08-11", "–", None)
    assert rows[2] == ("thresholds", None, "30, 45, 60", "–", None)


def test_every_row_of_the_run_parameter_sheet_has_unit_and_meaning(demo_run):
    path = demo_run.out_dir / "kurszugang_tabellen.xlsx"
    rows = list(openpyxl.load_workbook(path)["Parameter"].iter_rows(values_only=True))
    assert len(rows) > 35
    for name, key, _value, unit, meaning in rows[1:]:
        assert unit, name
        assert meaning, name
        assert name and key, name


def test_every_share_of_the_run_is_in_percent(demo_results):
    """Every share column of every run table: 0 to 100 with "%" in its header, and the shares
    of participants equal 100 × their counts over the participants (not a fraction of 1)."""
    seen = set()
    for t in [*demo_results.tables.values(), *demo_results.layers.values()]:
        for c in t.columns:
            if c.kind != "share":
                continue
            values = pd.to_numeric(t.frame[c.key], errors="coerce").dropna()
            assert ((values >= 0) & (values <= 100)).all(), (t.name, c.key)
            assert "%" in c.label("de") and "%" in c.label("en"), (t.name, c.key)
            seen.add(t.name)
    assert {"kursbesuch", "fahrtkosten", "uebersicht"} <= seen
    gem = demo_results.table("kursbesuch")
    full = gem[gem["participants"] > 0]
    want = 100 * full["part_any"] / full["participants"]
    assert full["share_part_any"].to_numpy() == pytest.approx(want.to_numpy(), abs=0.051)
    assert full["share_part_any"].max() > 1
