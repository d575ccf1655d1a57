"""Reading only what some dates need, and the cache of parsed feeds."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kurszugang.errors import InputError, ServiceDateError
from kurszugang.io import feed_cache
from kurszugang.io.gtfs import Feed, read_gtfs
from kurszugang.routing.router import Points, Router
from kurszugang.routing.timetable import compile_timetable
from tests.io.test_gtfs_skipping import assert_same_timetable, edit_feed

TUESDAY = dt.date(2021, 3, 2)
SUNDAY = dt.date(2021, 3, 7)
TABLES = ("agency", "stops", "routes", "trips", "stop_times", "calendar", "calendar_dates",
          "frequencies", "transfers", "feed_info", "shapes", "skipped")


@pytest.fixture(scope="module")
def zug_full(zug_feed_path: Path) -> Feed:
    return read_gtfs(zug_feed_path, cache=False)


@pytest.fixture(scope="module")
def zug_tuesday(zug_feed_path: Path) -> Feed:
    return read_gtfs(zug_feed_path, dates=["2021-03-02"], cache=False)


def assert_same_feed(a: Feed, b: Feed) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)
    assert a.files == b.files and a.dates == b.dates
    assert a.report.counts == b.report.counts
    assert [str(p) for p in a.report.problems] == [str(p) for p in b.report.problems]
    assert a.report.notes == b.report.notes


# --------------------------------------------------------------------------------------------
# read_gtfs(dates=...)
# --------------------------------------------------------------------------------------------


def test_a_dated_read_compiles_the_same_timetable(zug_full: Feed, zug_tuesday: Feed) -> None:
    assert_same_timetable(compile_timetable(zug_tuesday, TUESDAY),
                          compile_timetable(zug_full, TUESDAY))


def test_a_dated_read_gives_the_same_travel_times(zug_full: Feed, zug_tuesday: Feed) -> None:
    full, dated = Router(zug_full, TUESDAY), Router(zug_tuesday, TUESDAY)
    ids = np.asarray(full.timetable.stop_ids, dtype=object)
    origins = Points(ids[::40], full.stop_xy[::40])
    a = full.travel_times(origins, departure="07:00", window=30).to_frame()
    b = dated.travel_times(origins, departure="07:00", window=30).to_frame()
    pd.testing.assert_frame_equal(a, b)
    assert a["travel_time_p50"].notna().sum() > 1_000  # the comparison covers real journeys


def test_a_dated_read_keeps_the_trips_of_the_date_and_the_day_before(
    zug_full: Feed, zug_tuesday: Feed
) -> None:
    wanted = set(zug_full.trips_on(TUESDAY)["trip_id"]) | set(
        zug_full.trips_on(TUESDAY - dt.timedelta(days=1))["trip_id"])
    assert set(zug_tuesday.trips["trip_id"]) == wanted
    assert len(zug_tuesday.trips) == 3_612
    assert len(zug_tuesday.stop_times) == int(zug_full.stop_times["trip_id"].isin(wanted).sum())
    assert len(zug_tuesday.stop_times) == 55_035
    assert len(zug_tuesday.stops) == 905  # every stop: the timetable indexes all of them
    assert zug_tuesday.dates == (TUESDAY,)
    assert zug_tuesday.report.counts["dates"] == "2021-03-02"
    assert zug_tuesday.report.counts["trips"] == 3_612
    assert set(zug_tuesday.calendar_dates["date"].dt.date) <= {TUESDAY, dt.date(2021, 3, 1)}
    assert "Feed('gtfs_ch_zg_2021.zip' on 2021-03-02: 905 stops" in repr(zug_tuesday)


def test_a_dated_read_still_knows_the_whole_calendar(zug_full: Feed, zug_tuesday: Feed) -> None:
    assert zug_tuesday.service_period() == zug_full.service_period()
    pd.testing.assert_series_equal(zug_tuesday.service_counts(), zug_full.service_counts())
    assert zug_tuesday.active_service_ids(TUESDAY) == zug_full.active_service_ids(TUESDAY)


def test_a_dated_feed_refuses_other_dates(zug_tuesday: Feed) -> None:
    with pytest.raises(InputError, match=(
        r"gtfs_ch_zg_2021.zip: wurde nur für 2021-03-02 gelesen \(read_gtfs\(..., dates=...\)\), "
        r"daher sind seine Fahrten am 2021-03-04 nicht bekannt \(der Fahrplan eines Tages "
        r"braucht auch den Vortag, für Fahrten nach Mitternacht\); mit dem gebrauchten Tag unter "
        r"den dates lesen"
    )):
        zug_tuesday.trips_on("2021-03-04")
    with pytest.raises(InputError, match="seine Fahrten am 2021-02-28 nicht bekannt"):
        compile_timetable(zug_tuesday, dt.date(2021, 3, 1))  # needs 2021-02-28 too
    assert len(zug_tuesday.trips_on("01.03.2021")) == 3_567  # the day before is complete


def test_several_dates(zug_feed_path: Path, zug_full: Feed) -> None:
    feed = read_gtfs(zug_feed_path, dates=[SUNDAY, "2021-03-02", TUESDAY], cache=False)
    assert feed.dates == (TUESDAY, SUNDAY)
    for day in (TUESDAY, SUNDAY):
        assert_same_timetable(compile_timetable(feed, day), compile_timetable(zug_full, day))


def test_a_date_without_service_reads_an_empty_day(
    malente_feed_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    feed = read_gtfs(malente_feed_path, dates=["2018-12-25"], cache=False)  # a holiday
    full = read_gtfs(malente_feed_path, cache=False)
    assert len(feed.trips) == len(full.trips_on("2018-12-25")) + len(full.trips_on("2018-12-24"))
    assert len(feed.trips_on("2018-12-25")) == 0
    # A day inside the service period without a trip is walk-only, said out loud ...
    with caplog.at_level("WARNING", logger="kurszugang.routing.timetable"):
        tt = compile_timetable(feed, "2018-12-25")
    assert tt.counts["trips_of_the_date"] == 0
    assert "Am 2018-12-25 (Dienstag) fährt laut Fahrplan keine Fahrt" in caplog.text
    # ... a day outside it is refused.
    with pytest.raises(ServiceDateError, match="am 2021-01-05 \\(Dienstag\\) fährt keine Fahrt"):
        compile_timetable(full, "2021-01-05")


def test_bad_dates_argument(zug_feed_path: Path) -> None:
    with pytest.raises(InputError, match=r"dates: '2021-02-30' ist kein Datum \(erwartet "):
        read_gtfs(zug_feed_path, dates=["2021-02-30"])
    with pytest.raises(InputError, match="dates ist leer: mindestens einen Verkehrstag angeben"):
        read_gtfs(zug_feed_path, dates=[])


# --------------------------------------------------------------------------------------------
# The cache
# --------------------------------------------------------------------------------------------


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("KURSZUGANG_CACHE_DIR", str(folder))
    return folder


def _entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.exists() else []


def test_the_second_read_comes_from_the_cache(zug_feed_path: Path, cache: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    first = read_gtfs(zug_feed_path, dates=[TUESDAY], cache=True)
    assert len(_entries(cache)) == 1
    assert {p.name for p in _entries(cache)[0].iterdir()} >= {"meta.json", "stop_times.parquet",
                                                             "service_days.npz"}
    with caplog.at_level(logging.INFO, logger="kurszugang.io.gtfs"):
        second = read_gtfs(zug_feed_path, dates=[TUESDAY], cache=True)
    assert "aus dem Zwischenspeicher gelesen" in caplog.text
    assert "429 Warnungen: Haltestellen, deren parent_station nicht in stops.txt ist" in caplog.text
    assert_same_feed(first, second)
    assert_same_timetable(compile_timetable(second, TUESDAY),
                          compile_timetable(first, TUESDAY))
    pd.testing.assert_series_equal(second.service_counts(), first.service_counts())


def test_the_cache_keeps_a_whole_feed_with_its_skipped_records(
    zug_feed_path: Path, cache: Path, tmp_path: Path
) -> None:
    edited = edit_feed(zug_feed_path, tmp_path, {
        "stop_times.txt": lambda t: t + "GHOST,07:00:00,07:00:00,8502287,1,0,0\n"})
    first = read_gtfs(edited, cache=True)
    second = read_gtfs(edited, cache=True)
    assert second.skipped["reason"].tolist() == ["missing_trip"]
    assert_same_feed(first, second)


def test_a_changed_feed_misses_the_cache(zug_feed_path: Path, cache: Path, tmp_path: Path,
                                         caplog: pytest.LogCaptureFixture) -> None:
    path = edit_feed(zug_feed_path, tmp_path, {})
    read_gtfs(path, dates=[TUESDAY], cache=True)
    edit_feed(zug_feed_path, tmp_path, {  # the same file name, other content
        "stops.txt": lambda t: t.replace("Zug,", "Zug Stadt,", 1)})
    with caplog.at_level(logging.INFO, logger="kurszugang.io.gtfs"):
        changed = read_gtfs(path, dates=[TUESDAY], cache=True)
    assert "aus dem Zwischenspeicher gelesen" not in caplog.text
    assert len(_entries(cache)) == 2
    assert "Zug Stadt" in set(changed.stops["stop_name"].dropna())


def test_other_options_and_reader_versions_miss_the_cache(
    zug_feed_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_gtfs(zug_feed_path, dates=[TUESDAY], cache=True)
    read_gtfs(zug_feed_path, dates=[SUNDAY], cache=True)
    read_gtfs(zug_feed_path, dates=[TUESDAY], strict=True, cache=True)
    assert len(_entries(cache)) == 3
    monkeypatch.setattr(feed_cache, "_reader_digest", lambda: "another reader")
    read_gtfs(zug_feed_path, dates=[TUESDAY], cache=True)
    assert len(_entries(cache)) == 4


def test_clear_cache(zug_feed_path: Path, cache: Path) -> None:
    read_gtfs(zug_feed_path, dates=[TUESDAY], cache=True)
    read_gtfs(zug_feed_path, dates=[SUNDAY], cache=True)
    (cache / "unrelated").mkdir()
    assert feed_cache.clear_cache() == 2
    assert [p.name for p in _entries(cache)] == ["unrelated"]
    assert feed_cache.clear_cache(cache / "nothing") == 0


def test_the_cache_folder_follows_the_settings(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.delenv("KURSZUGANG_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert feed_cache.cache_dir() == tmp_path / "xdg" / "kurszugang" / "feeds"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert feed_cache.cache_dir() == tmp_path / "home" / ".cache" / "kurszugang" / "feeds"
    monkeypatch.setenv("KURSZUGANG_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert feed_cache.cache_dir() == tmp_path / "elsewhere"


def test_small_feeds_are_not_cached_unless_asked(zug_feed_path: Path, cache: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    read_gtfs(zug_feed_path)  # 11.8 MB of stop_times: under CACHE_MIN_BYTES
    assert _entries(cache) == []
    monkeypatch.setattr(feed_cache, "CACHE_MIN_BYTES", 1 << 20)
    read_gtfs(zug_feed_path)
    assert len(_entries(cache)) == 1
    monkeypatch.setenv("KURSZUGANG_CACHE", "0")
    read_gtfs(zug_feed_path, dates=[SUNDAY])
    assert len(_entries(cache)) == 1


def test_a_damaged_entry_is_read_again(zug_feed_path: Path, cache: Path,
                                       caplog: pytest.LogCaptureFixture) -> None:
    first = read_gtfs(zug_feed_path, dates=[TUESDAY], cache=True)
    (_entries(cache)[0] / "stop_times.parquet").write_bytes(b"not parquet")
    with caplog.at_level(logging.WARNING, logger="kurszugang.io.feed_cache"):
        again = read_gtfs(zug_feed_path, dates=[TUESDAY], cache=True)
    assert "der unlesbare Eintrag" in caplog.text
    assert_same_feed(first, again)
