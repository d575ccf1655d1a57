"""One date and clock parser for everything a user types."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from kurszugang.dates import parse_clock, parse_date, parse_date_series


@pytest.mark.parametrize("text", ["2026-03-10", "10.03.2026", "10.3.2026", " 2026-03-10 "])
def test_iso_and_german_dates(text: str) -> None:
    assert parse_date(text) == dt.date(2026, 3, 10)


@pytest.mark.parametrize("bad", ["31.02.2026", "2026-13-01", "10/03/2026", "", 20260310, True])
def test_not_a_date_names_the_forms(bad: object) -> None:
    with pytest.raises(ValueError, match="JJJJ-MM-TT oder TT.MM.JJJJ"):
        parse_date(bad)


def test_series_matches_scalar() -> None:
    s = pd.Series(["2026-03-10", "1.4.2026", "x", None, "30.02.2026", "2026-03-10 00:00"])
    got = parse_date_series(s)
    assert got.iloc[0] == pd.Timestamp("2026-03-10")
    assert got.iloc[1] == pd.Timestamp("2026-04-01")
    assert got.iloc[5] == pd.Timestamp("2026-03-10")
    assert got.iloc[[2, 3, 4]].isna().all()


def test_clock() -> None:
    assert parse_clock("07:30") == 27000
    assert parse_clock("25:01:02") == 25 * 3600 + 62
    assert parse_clock(60) == 60
    for bad in ("7.30", "07:60", True, -5):
        with pytest.raises(ValueError, match="ist keine Uhrzeit"):
            parse_clock(bad)
