"""Waiting times: earliest starts per Gemeinde and providers ranked (kurszugang.analysis.waiting)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from kurszugang.analysis.coverage import CourseAccess, RouterPool, course_access
from kurszugang.analysis.grid import analysis_grid
from kurszugang.analysis.waiting import (
    EARLIEST_START_COLUMNS,
    PROVIDER_COLUMNS,
    earliest_starts,
    providers_by_start,
)
from kurszugang.demo import COURSES_AS_OF, SCHOOL_DAY, demo_files
from kurszugang.errors import ConfigError
from kurszugang.io.boundaries import read_boundaries
from kurszugang.io.courses import read_courses
from kurszugang.io.gtfs import read_gtfs
from kurszugang.io.osm import read_walk_network
from kurszugang.io.population import read_population_grid


@pytest.fixture(scope="module")
def courses():
    return read_courses(demo_files().courses)


def _access(course_table: pd.DataFrame, attend: dict[str, set[str]],
            inhabitants: dict[str, float] | None = None) -> CourseAccess:
    """A CourseAccess by hand: cell ``c`` attends the courses in ``attend[c]``.

    Cells ``a1``, ``a2`` lie in Gemeinde A (09999111), ``b1`` in B (09999122).
    """
    cell_ids = ["a1", "a2", "b1"]
    inh = {"a1": 10.0, "a2": 5.0, "b1": 3.0, **(inhabitants or {})}
    cells = gpd.GeoDataFrame({
        "cell_id": cell_ids,
        "ags": pd.array(["09999111", "09999111", "09999122"], dtype="string"),
        "gen": pd.array(["Beispielstadt", "Beispielstadt", "Probing"], dtype="string"),
        "inhabitants": [inh[c] for c in cell_ids],
        "participants": [1.0, 1.0, 1.0],
    })
    ids = course_table["course_id"].tolist()
    ok = np.array([[cid in attend.get(c, set()) for cid in ids] for c in cell_ids])
    times = np.where(ok, 600.0, np.nan)
    return CourseAccess(SCHOOL_DAY, cells, course_table.reset_index(drop=True), times,
                        times.copy(), np.zeros_like(ok), 45.0, 30.0, 45.0)


def _with_free(table: pd.DataFrame, **free: int | None) -> pd.DataFrame:
    """The course table with some courses' free places replaced (None = unknown)."""
    out = table.copy()
    for cid, value in free.items():
        out.loc[out["course_id"] == cid.replace("_", "-"), "free_places"] = (
            pd.NA if value is None else value)
    out["free_places"] = out["free_places"].astype("Int32")
    return out


# Demo courses of type allgemein: KS06-1 starts 2026-11-16 (7 free), KS01-1 2026-11-30 (7 free),
# KS01-2 2026-12-07 (8 free), KS02-1 2026-12-14 (0 free).
ALLGEMEIN_A = {"KS06-1", "KS01-1", "KS01-2", "KS02-1", "KS03-2"}


def test_picks_the_earliest_start_with_free_places(courses):
    table = courses.courses
    access = _access(table, {"a1": ALLGEMEIN_A, "b1": {"KS02-1"}})
    out = earliest_starts(access, as_of=COURSES_AS_OF)
    assert list(out.columns) == list(EARLIEST_START_COLUMNS)
    types = sorted(table["course_type"].unique())
    assert len(out) == 2 * len(types)  # every Gemeinde x every type offered
    row = out.set_index(["ags", "course_type"]).loc[("09999111", "allgemein")]
    assert (row["course_id"], row["site_id"], row["next_start"]) == (
        "KS06-1", "KS06", pd.Timestamp("2026-11-16"))
    assert row["weeks_to_start"] == 2.0  # 2026-11-02 to 2026-11-16
    assert row["free_places"] == 7
    assert (row["n_courses"], row["n_with_free_places"]) == (4, 3)
    assert row["provider"] == "Bildungszentrum Probe gGmbH (fiktiv)"
    assert not row["unknown_earlier"]
    alpha = out.set_index(["ags", "course_type"]).loc[("09999111", "alpha")]
    assert alpha["course_id"] == "KS03-2"
    # B can only attend KS02-1, which is full: no start, but one attendable course.
    b = out.set_index(["ags", "course_type"]).loc[("09999122", "allgemein")]
    assert (b["n_courses"], b["n_with_free_places"]) == (1, 0)
    assert pd.isna(b["course_id"]) and pd.isna(b["next_start"]) and pd.isna(b["free_places"])
    # Nothing attendable of a type: zero courses, no start.
    none = out.set_index(["ags", "course_type"]).loc[("09999122", "eltern")]
    assert none["n_courses"] == 0 and pd.isna(none["course_id"])


def test_skips_a_course_without_free_places(courses):
    table = _with_free(courses.courses, KS06_1=0)
    out = earliest_starts(_access(table, {"a1": ALLGEMEIN_A}), as_of=COURSES_AS_OF)
    row = out.set_index(["ags", "course_type"]).loc[("09999111", "allgemein")]
    assert row["course_id"] == "KS01-1"
    assert row["next_start"] == pd.Timestamp("2026-11-30")
    assert row["weeks_to_start"] == 4.0
    assert row["n_with_free_places"] == 2


def test_unknown_free_places_are_flagged_not_chosen(courses):
    table = _with_free(courses.courses, KS06_1=None)
    out = earliest_starts(_access(table, {"a1": ALLGEMEIN_A}), as_of=COURSES_AS_OF)
    row = out.set_index(["ags", "course_type"]).loc[("09999111", "allgemein")]
    assert row["course_id"] == "KS01-1"
    assert row["unknown_earlier"]
    assert row["n_unknown_free_places"] == 1


def test_unpopulated_cells_do_not_count(courses):
    access = _access(courses.courses, {"a1": {"KS01-1"}, "a2": {"KS06-1"}},
                     inhabitants={"a2": 0.0})
    out = earliest_starts(access, as_of=COURSES_AS_OF)
    row = out.set_index(["ags", "course_type"]).loc[("09999111", "allgemein")]
    assert row["course_id"] == "KS01-1" and row["n_courses"] == 1


def test_started_courses_are_left_out_and_reported(courses, caplog):
    access = _access(courses.courses, {"a1": ALLGEMEIN_A})
    with caplog.at_level(logging.WARNING, logger="kurszugang.analysis.waiting"):
        out = earliest_starts(access, as_of="2026-11-20")
    row = out.set_index(["ags", "course_type"]).loc[("09999111", "allgemein")]
    assert row["course_id"] == "KS01-1"
    assert row["weeks_to_start"] == pytest.approx(10 / 7)
    assert ("2 Kurse haben vor dem 2026-11-20 begonnen und bleiben außen vor (course_id KS03-2, "
            "KS06-1)") in caplog.text


def test_with_real_course_access():
    files = demo_files()
    gem = read_boundaries(files.boundaries, layer="vg250_gem")
    town = gem[gem["ags"] == "09999111"]
    grid = analysis_grid(town, read_population_grid(files.population), buffer_m=0,
                         populated_only=True)
    courses = read_courses(files.courses)
    pool = RouterPool(read_gtfs(files.gtfs), read_walk_network(files.osm))
    access = course_access(pool, grid, courses, SCHOOL_DAY, on_demand=False)
    out = earliest_starts(access, as_of=courses.as_of).set_index("course_type")
    # Brute force: courses attendable from any populated cell, with free places.
    ok = access.attend().any(axis=0)
    table = access.courses[ok & (access.courses["free_places"].fillna(0) > 0).to_numpy()]
    for ctype, group in table.groupby("course_type"):
        assert out.at[ctype, "next_start"] == group["next_start"].min()
        assert out.at[ctype, "n_with_free_places"] == len(group)
    assert set(out.index[out["course_id"].notna()]) == set(table["course_type"])


def test_providers_ranked_by_earliest_start_with_free_places(courses):
    out = providers_by_start(courses)
    assert list(out.columns) == list(PROVIDER_COLUMNS)
    table = courses.courses
    expected = {}
    for provider, group in table.groupby("provider"):
        free = group[group["free_places"].fillna(0) > 0]
        expected[provider] = (free["next_start"].min(), int(free["free_places"].sum()), len(free))
    order = sorted(expected, key=lambda p: (expected[p][0], -expected[p][1], p))
    assert list(out["provider"]) == order
    for row in out.itertuples():
        start, free, n = expected[row.provider]
        assert (row.earliest_start, row.free_places, row.courses_with_free_places) == (
            start, free, n)
        assert row.weeks_to_start == (start - pd.Timestamp(COURSES_AS_OF)).days / 7
    # Two providers start on 2026-11-16: they share rank 1, the next one is 3.
    assert list(out["rank"]) == [1, 1, 3, 4]


def test_provider_without_free_places_ranks_last(courses):
    table = courses.courses.copy()
    table.loc[table["provider"] == "VHS Beispiel (fiktiv)", "free_places"] = 0
    changed = dataclasses.replace(courses, courses=table)
    out = providers_by_start(changed, as_of=dt.date(2026, 11, 2))
    last = out.iloc[-1]
    assert last["provider"] == "VHS Beispiel (fiktiv)"
    assert pd.isna(last["rank"]) and pd.isna(last["earliest_start"])
    assert last["courses_with_free_places"] == 0 and last["free_places"] == 0


def test_unknown_course_type(courses):
    with pytest.raises(ConfigError, match="die Kursart 'abend' ist nicht in der Kursliste; sie "
                                          "hat allgemein, alpha, eltern"):
        providers_by_start(courses, course_type="abend")


def test_waiting_weeks_need_a_reference_date(courses):
    with pytest.raises(ConfigError, match=r"die Wartewochen brauchen ein Bezugsdatum: as_of= angeben"):
        earliest_starts(_access(courses.courses, {"a1": {"KS01-1"}}))


def test_as_of_must_be_a_date(courses):
    with pytest.raises(ConfigError, match=r"as_of: '2026-13-01' ist kein Datum \(erwartet "
                                          r"JJJJ-MM-TT oder TT.MM.JJJJ\)"):
        providers_by_start(courses, as_of="2026-13-01")
