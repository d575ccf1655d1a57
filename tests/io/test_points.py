"""Tests of kurszugang.io.points: id,lon,lat lists for the matrix and isochrone commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from kurszugang.errors import DataValidationError, InputFormatError
from kurszugang.io.points import read_points_csv


def test_semicolon_list_with_decimal_commas_keeps_ids_as_text(tmp_path: Path) -> None:
    path = tmp_path / "orte.csv"
    path.write_text("\ufeffid;lon;lat\n007;12,1289;47,8561\nB;11,5;48,1\n", encoding="utf-8")
    pts = read_points_csv(path)
    assert pts["id"].tolist() == ["007", "B"]
    assert pts["lon"].tolist() == [12.1289, 11.5]
    assert pts["lat"].tolist() == [47.8561, 48.1]


def test_bad_rows_are_listed_together_in_german(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("id,lon,lat\na,11.0,49.0\na,11.0,abc\n,200,\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_points_csv(path)
    assert str(info.value) == (
        "o.csv: 5 Probleme gefunden:\n"
        "  o.csv Zeile 3: id 'a' kommt mehr als einmal vor\n"
        "  o.csv Zeile 3: lat 'abc' ist keine Zahl (erwartet WGS84-Grad zwischen -90 und 90)\n"
        "  o.csv Zeile 4: id ist leer (erwartet eine eindeutige Kennung)\n"
        "  o.csv Zeile 4: lat fehlt (erwartet WGS84-Grad zwischen -90 und 90)\n"
        "  o.csv Zeile 4: lon '200' liegt außerhalb des Wertebereichs (erwartet WGS84-Grad "
        "zwischen -180 und 180)")


def test_missing_column_and_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("id,x,y\na,1,2\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_points_csv(path)
    assert [str(p) for p in info.value.problems] == [
        "o.csv Zeile 1: lon fehlt als Spalte (erwartet die Spalten id,lon,lat; gefunden: id,x,y)",
        "o.csv Zeile 1: lat fehlt als Spalte (erwartet die Spalten id,lon,lat; gefunden: id,x,y)",
    ]
    empty = tmp_path / "leer.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(InputFormatError) as err:
        read_points_csv(empty)
    assert str(err.value) == (
        "leer.csv: ist leer (erwartet eine CSV-Datei mit den Spalten id,lon,lat)")
