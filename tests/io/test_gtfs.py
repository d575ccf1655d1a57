"""Tests of the GTFS reader: real feeds from ../shared/data and small feeds written in tmp_path."""

from __future__ import annotations

import datetime as dt
import logging
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kurszugang.errors import DataValidationError, InputFormatError, ServiceDateError
from kurszugang.io.gtfs import Feed, read_gtfs, validate_gtfs
from tests.conftest import shared_file

# --------------------------------------------------------------------------------------------
# Small feeds
# --------------------------------------------------------------------------------------------

BASE: dict[str, str] = {
    "agency.txt": (
        "agency_id,agency_name,agency_url,agency_timezone\n"
        "A1,Testbus,https://example.org,Europe/Berlin\n"
    ),
    "stops.txt": (
        "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
        "S1,Bahnhof,47.0,8.0,1,\n"
        '007,"Bahnhof, Gleis 1",47.0,8.0,0,S1\n'
        "de:09187:12345,Markt,47.01,8.01,0,\n"
        "C,Kirche,47.02,8.02,,\n"
    ),
    "routes.txt": (
        "route_id,agency_id,route_short_name,route_long_name,route_type\n"
        "R1,A1,1,Bahnhof - Kirche,3\n"
    ),
    "trips.txt": "route_id,service_id,trip_id,direction_id\nR1,WD,T1,0\nR1,WD,T2,1\n",
    "stop_times.txt": (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "T1,07:00:00,07:00:00,007,1\n"
        "T1,07:10:00,07:11:00,de:09187:12345,2\n"
        "T1,07:20:00,07:20:00,C,3\n"
        "T2,25:00:00,25:00:00,C,1\n"
        "T2,25:10:00,25:10:00,007,2\n"
    ),
    "calendar.txt": (
        "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
        "WD,1,1,1,1,1,0,0,20210301,20210331\n"
    ),
    "calendar_dates.txt": "service_id,date,exception_type\nWD,20210305,2\nWD,20210306,1\n",
}


def write_feed(
    root: Path,
    files: dict[str, str | bytes | None],
    *,
    as_zip: bool = False,
    base: bool = True,
    name: str = "feed",
) -> Path:
    """Write a feed (BASE overridden by ``files``; None removes a file) to a folder or a zip.

    Names may contain a folder (``"feed/stops.txt"``); str contents are written as UTF-8.
    """
    merged: dict[str, str | bytes | None] = {**BASE, **files} if base else dict(files)
    contents = {k: v for k, v in merged.items() if v is not None}
    if as_zip:
        path = root / f"{name}.zip"
        with zipfile.ZipFile(path, "w") as zf:
            for entry, text in contents.items():
                zf.writestr(entry, text.encode("utf-8") if isinstance(text, str) else text)
        return path
    path = root / name
    for entry, text in contents.items():
        target = path / entry
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def _times(feed: Feed, trip: str) -> list[tuple[int, int]]:
    st = feed.stop_times[feed.stop_times["trip_id"] == trip]
    return list(zip(st["arrival_time"].tolist(), st["departure_time"].tolist(), strict=True))


# --------------------------------------------------------------------------------------------
# Real feeds
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def zug(zug_feed_path: Path) -> Feed:
    return read_gtfs(zug_feed_path)


def test_zug_counts_and_dtypes(zug: Feed) -> None:
    assert len(zug.stops) == 905
    assert len(zug.routes) == 94
    assert len(zug.trips) == 13_884
    assert len(zug.stop_times) == 198_554
    assert len(zug.calendar_dates) == 284_499
    assert zug.report.counts["stop_times"] == 198_554
    assert zug.report.counts["service period"] == "2020-12-13 to 2021-12-11"
    assert zug.report.ok
    assert zug.files == (
        "agency.txt", "calendar.txt", "calendar_dates.txt", "feed_info.txt", "routes.txt",
        "stop_times.txt", "stops.txt", "transfers.txt", "trips.txt",
    )
    st = zug.stop_times
    assert list(st.columns[:9]) == [
        "trip_id", "stop_sequence", "stop_id", "arrival_time", "departure_time", "pickup_type",
        "drop_off_type", "timepoint", "shape_dist_traveled",
    ]
    assert [str(t) for t in st.dtypes.iloc[:9]] == [
        "string", "int32", "string", "int32", "int32", "int8", "int8", "int8", "float64",
    ]
    assert isinstance(st.index, pd.RangeIndex)
    keys = st["trip_id"].to_numpy(object)
    assert (keys[1:] >= keys[:-1]).all()
    same = keys[1:] == keys[:-1]
    assert (np.diff(st["stop_sequence"].to_numpy())[same] > 0).all()
    assert str(zug.stops["stop_lat"].dtype) == "float64"
    assert str(zug.stops["location_type"].dtype) == "int8"
    assert str(zug.routes["route_type"].dtype) == "int32"
    assert str(zug.trips["direction_id"].dtype) == "Int8"
    assert str(zug.calendar["start_date"].dtype) == "datetime64[s]"
    assert str(zug.calendar_dates["exception_type"].dtype) == "int8"
    assert str(zug.transfers["min_transfer_time"].dtype) == "Int32"
    assert "8014586:0:3" in set(zug.stops["stop_id"])
    assert zug.shapes.empty and list(zug.shapes.columns[:2]) == ["shape_id", "shape_pt_lat"]
    assert zug.frequencies.empty and str(zug.frequencies["headway_secs"].dtype) == "int32"


def test_zug_clipped_references_are_warnings(zug: Feed) -> None:
    # The Zug extract keeps parent stations and transfers of the national feed.
    codes = pd.Series([p.code for p in zug.report.warnings]).value_counts()
    assert codes["missing_parent_station"] == 429
    assert codes["transfer_unknown_ref"] == 5_916
    assert len(zug.transfers) == 8_092 - 5_916
    assert "5.916 von 8.092 transfers weggelassen" in zug.report.notes[0]
    assert zug.stops["parent_station"].iloc[0] == "8014586P"  # kept as given


def test_zug_on_tuesday_2021_03_02(zug: Feed) -> None:
    day = dt.date(2021, 3, 2)
    trips = zug.trips_on(day)
    assert len(trips) == 3_569
    st = zug.stop_times.merge(trips[["trip_id"]], on="trip_id")
    assert len(st) == 54_525
    assert "TA" in zug.active_service_ids(day)
    assert zug.service_counts(day, day).tolist() == [3_569]


def test_zug_service_period_and_counts(zug: Feed) -> None:
    assert zug.service_period() == (dt.date(2020, 12, 13), dt.date(2021, 12, 11))
    counts = zug.service_counts()
    assert len(counts) == 364
    assert counts.index.name == "date" and counts.name == "trips"
    assert counts.loc["2020-12-13"] == 2_129  # a Sunday
    assert counts.loc["2020-12-15"] == 3_569  # a Tuesday
    outside = zug.service_counts(dt.date(2022, 1, 1), dt.date(2022, 1, 2))
    assert outside.tolist() == [0, 0]
    assert zug.active_service_ids(dt.date(2022, 1, 1)) == frozenset()


def test_zug_times_past_midnight(zug: Feed) -> None:
    arrival = zug.stop_times["arrival_time"]
    assert (arrival > 86_400).sum() == 10_572
    assert arrival.max() == 29 * 3600 + 60  # 29:01:00


def test_malente_bom_and_shapes(malente_feed_path: Path) -> None:
    feed = read_gtfs(malente_feed_path)
    assert (len(feed.stops), len(feed.routes), len(feed.trips), len(feed.stop_times)) == (
        60, 2, 18, 566,
    )
    assert list(feed.calendar.columns[:2]) == ["service_id", "monday"]  # BOM removed
    assert feed.calendar["service_id"].tolist()[:2] == ["WD", "WE"]
    assert feed.routes["route_long_name"].tolist() == ["Südschleife", "Nordschleife"]
    assert len(feed.shapes) == 4_556
    assert feed.shapes["shape_dist_traveled"].isna().all()
    assert feed.feed_info.empty
    assert feed.service_period() == (dt.date(2018, 11, 1), dt.date(2020, 12, 31))
    assert "WE" in feed.active_service_ids(dt.date(2018, 12, 24))  # added on a Monday
    assert "WD" not in feed.active_service_ids(dt.date(2018, 12, 24))  # removed
    assert feed.report.ok and not feed.report.warnings


def test_malente_folder_equals_zip(malente_feed_path: Path) -> None:
    folder = read_gtfs(shared_file("gtfs-buergerbus-malente/raw"))
    zipped = read_gtfs(malente_feed_path)
    assert folder.files == zipped.files
    pd.testing.assert_frame_equal(folder.stop_times, zipped.stop_times)
    pd.testing.assert_frame_equal(folder.calendar, zipped.calendar)


def test_berlin_without_agency(berlin_feed_path: Path) -> None:
    feed = read_gtfs(berlin_feed_path)
    assert "agency.txt" not in feed.files
    assert feed.agency.empty
    assert list(feed.agency.columns[:2]) == ["agency_id", "agency_name"]
    assert str(feed.agency["agency_id"].dtype) == "string"
    assert (len(feed.stops), len(feed.routes), len(feed.stop_times)) == (957, 52, 22_666)
    assert feed.stops["stop_id"].iloc[0] == "000008010205"  # leading zeros kept
    assert len(feed.transfers) == 11_717 - 24
    assert feed.transfers["min_transfer_time"].isna().sum() > 0
    assert feed.transfers["from_route_id"].notna().sum() > 0  # extra column kept as string
    assert str(feed.transfers["from_route_id"].dtype) == "string"
    assert feed.report.counts["trips"] == 28_590


# --------------------------------------------------------------------------------------------
# Tolerated input
# --------------------------------------------------------------------------------------------


def test_small_feed_values(tmp_path: Path) -> None:
    feed = read_gtfs(write_feed(tmp_path, {}))
    assert feed.stop_times["stop_id"].tolist()[:3] == ["007", "de:09187:12345", "C"]
    assert _times(feed, "T2") == [(90_000, 90_000), (90_600, 90_600)]
    assert feed.stops["location_type"].tolist() == [1, 0, 0, 0]
    assert feed.stops["parent_station"].isna().tolist() == [True, False, True, True]
    assert feed.trips["direction_id"].tolist() == [0, 1]
    assert feed.stop_times["timepoint"].tolist() == [1] * 5
    assert feed.active_service_ids("2021-03-05") == frozenset()  # removed Friday
    assert feed.active_service_ids(dt.date(2021, 3, 6)) == {"WD"}  # added Saturday
    assert feed.service_period() == (dt.date(2021, 3, 1), dt.date(2021, 3, 31))
    assert feed.report.counts["interpolated times"] == 0


def test_bom_and_quoted_fields(tmp_path: Path) -> None:
    stops = (
        "\ufeffstop_id,stop_name,stop_lat,stop_lon\n"
        '007,"Bahnhof, Gleis ""A""",47.0,8.0\n'
        '"de:09187:12345", Markt ,47.01,8.01\n'
        "C,Kirche,47.02,8.02\n"
        "S1,Bahnhof,47.0,8.0\n"
    )
    feed = read_gtfs(write_feed(tmp_path, {"stops.txt": stops}))
    assert list(feed.stops.columns[:2]) == ["stop_id", "stop_code"]
    assert feed.stops["stop_name"].tolist()[:2] == ['Bahnhof, Gleis "A"', "Markt"]
    assert feed.stops["stop_id"].tolist()[1] == "de:09187:12345"


def test_zip_with_macosx_junk_and_subfolder(tmp_path: Path) -> None:
    files: dict[str, str | bytes | None] = {f"gtfs/{k}": v for k, v in BASE.items()}
    files["__MACOSX/gtfs/._stops.txt"] = b"\x00\x05\x16\x07junk"
    files["gtfs/._stops.txt"] = b"\x00\x05\x16\x07junk"
    files["readme.md"] = "not a feed file"
    feed = read_gtfs(write_feed(tmp_path, files, as_zip=True, base=False))
    assert len(feed.stops) == 4
    assert feed.files == (
        "agency.txt", "calendar.txt", "calendar_dates.txt", "routes.txt", "stop_times.txt",
        "stops.txt", "trips.txt",
    )


def test_folder_with_subfolder(tmp_path: Path) -> None:
    files: dict[str, str | bytes | None] = {f"export/{k}": v for k, v in BASE.items()}
    feed = read_gtfs(write_feed(tmp_path, files, base=False))
    assert len(feed.stop_times) == 5


def test_calendar_absent(tmp_path: Path) -> None:
    dates = "service_id,date,exception_type\nWD,20210302,1\nWD,20210304,1\n"
    feed = read_gtfs(write_feed(tmp_path, {"calendar.txt": None, "calendar_dates.txt": dates}))
    assert feed.calendar.empty
    assert str(feed.calendar["monday"].dtype) == "int8"
    assert feed.service_period() == (dt.date(2021, 3, 2), dt.date(2021, 3, 4))
    assert feed.service_counts().tolist() == [2, 0, 2]
    assert len(feed.trips_on(dt.date(2021, 3, 3))) == 0


def test_calendar_dates_absent(tmp_path: Path) -> None:
    feed = read_gtfs(write_feed(tmp_path, {"calendar_dates.txt": None}))
    assert feed.calendar_dates.empty
    assert str(feed.calendar_dates["date"].dtype) == "datetime64[s]"
    assert feed.active_service_ids(dt.date(2021, 3, 5)) == {"WD"}
    assert feed.trips_on(dt.date(2021, 3, 7)).empty  # a Sunday


def test_blank_times_interpolated_by_position(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stop_times = (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "T1,07:00:00,07:00:00,007,1\n"
        "T1,,,de:09187:12345,2\n"
        "T1,,,C,3\n"
        "T1,07:10:00,07:10:00,007,4\n"
        "T2,7:00:00 , 07:00:00,C,10\n"
        "T2,,,007,20\n"
        "T2,07:05:00,07:05:00,C,30\n"
    )
    with caplog.at_level(logging.INFO, logger="kurszugang.io.gtfs"):
        feed = read_gtfs(write_feed(tmp_path, {"stop_times.txt": stop_times}))
    # 600 s over three hops: 200 s each; 300 s over two hops: 150 s
    assert _times(feed, "T1") == [(25_200, 25_200), (25_400, 25_400), (25_600, 25_600),
                                  (25_800, 25_800)]
    assert _times(feed, "T2")[1] == (25_350, 25_350)
    assert feed.stop_times["timepoint"].tolist() == [1, 0, 0, 1, 1, 0, 1]
    assert feed.report.counts["interpolated times"] == 3
    assert "3 leere arrival_time/departure_time in 2 Fahrten interpoliert" in feed.report.notes
    assert "3 leere arrival_time/departure_time in 2 Fahrten interpoliert" in caplog.text


def test_blank_times_interpolated_by_distance(tmp_path: Path) -> None:
    stop_times = (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence,shape_dist_traveled\n"
        "T1,07:00:00,07:00:00,007,1,0\n"
        "T1,,,de:09187:12345,2,900\n"
        "T1,07:10:00,07:10:00,C,3,1000\n"
        "T2,07:00:00,07:00:00,C,1,0\n"
        "T2,,,007,2,\n"  # distance missing on a row: T2 falls back to positions
        "T2,07:10:00,07:10:00,007,3,1000\n"
    )
    feed = read_gtfs(write_feed(tmp_path, {"stop_times.txt": stop_times}))
    assert _times(feed, "T1")[1] == (25_740, 25_740)  # 90 % of 600 s
    assert _times(feed, "T2")[1] == (25_500, 25_500)  # half way
    assert feed.stop_times["shape_dist_traveled"].isna().tolist() == [False] * 4 + [True, False]


def test_blank_arrival_or_departure_copied(tmp_path: Path) -> None:
    stop_times = (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "T1,,07:00:00,007,1\n"
        "T1,07:10:00,,C,2\n"
        "T2,08:00:00,08:00:00,C,1\n"
        "T2,08:10:00,08:10:00,007,2\n"
    )
    feed = read_gtfs(write_feed(tmp_path, {"stop_times.txt": stop_times}))
    assert _times(feed, "T1") == [(25_200, 25_200), (25_800, 25_800)]
    assert feed.report.notes == [
        "die jeweils andere Zeit in 1 leere arrival_time und 1 leere departure_time kopiert"
    ]


def test_stop_times_sorted_by_trip_and_sequence(tmp_path: Path) -> None:
    stop_times = (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "T2,08:10:00,08:10:00,007,20\n"
        "T1,07:10:00,07:10:00,C,3\n"
        "T2,08:00:00,08:00:00,C,9\n"
        "T1,07:00:00,07:00:00,007,1\n"
    )
    feed = read_gtfs(write_feed(tmp_path, {"stop_times.txt": stop_times}))
    st = feed.stop_times
    assert st["trip_id"].tolist() == ["T1", "T1", "T2", "T2"]
    assert st["stop_sequence"].tolist() == [1, 3, 9, 20]
    assert st.index.tolist() == [0, 1, 2, 3]


def test_frequencies(tmp_path: Path) -> None:
    frequencies = (
        "trip_id,start_time,end_time,headway_secs,exact_times\n"
        "T1,06:00:00,09:00:00,600,1\n"
        "T2,16:00:00,24:30:00,1200,\n"
    )
    feed = read_gtfs(write_feed(tmp_path, {"frequencies.txt": frequencies}))
    fr = feed.frequencies
    assert fr["start_time"].tolist() == [21_600, 57_600]
    assert fr["end_time"].tolist() == [32_400, 88_200]
    assert fr["headway_secs"].tolist() == [600, 1200]
    assert fr["exact_times"].tolist() == [1, 0]
    assert [str(t) for t in fr.dtypes] == ["string", "int32", "int32", "int32", "int8"]


def test_on_demand_routes(tmp_path: Path) -> None:
    routes = (
        "route_id,agency_id,route_short_name,route_long_name,route_desc,route_type\n"
        "R1,A1,1,Bahnhof - Kirche,,3\n"
        "RB,A1,5,Rufbus Oberdorf,,3\n"
        "AS,A1,AST-12,,,3\n"
        "DR,A1,7,,,715\n"
        "TX,A1,8,,,1501\n"
        "PH,A1,9,Gastweg,Rufbuslinie,3\n"
    )
    trips = (
        "route_id,service_id,trip_id\nR1,WD,T1\nR1,WD,T2\nRB,WD,T3\nAS,WD,T4\nDR,WD,T5\n"
        "TX,WD,T6\nPH,WD,T7\n"
    )
    header = "trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type\n"
    stop_times = header + "".join(
        f"{t},07:00:00,07:00:00,007,1,{p1}\n{t},07:10:00,07:10:00,C,2,{p2}\n"
        for t, p1, p2 in [("T1", 0, 1), ("T2", 2, 1), ("T3", 0, 0), ("T4", 0, 0), ("T5", 0, 0),
                          ("T6", 0, 0), ("T7", 2, 1)]
    )
    feed = read_gtfs(write_feed(
        tmp_path, {"routes.txt": routes, "trips.txt": trips, "stop_times.txt": stop_times}
    ))
    # R1 has one trip with pickup 0: not on demand; PH: every boarding is by phone
    assert feed.on_demand_route_ids() == {"RB", "AS", "DR", "TX", "PH"}


def test_windows_1252_file_is_read_with_a_warning(tmp_path: Path) -> None:
    routes = (
        "route_id,agency_id,route_short_name,route_long_name,route_type\n"
        "R1,A1,1,Bahnhof - Brücke,3\n"
    ).encode("cp1252")
    feed = read_gtfs(write_feed(tmp_path, {"routes.txt": routes}))
    assert feed.routes["route_long_name"].tolist() == ["Bahnhof - Brücke"]
    assert [str(p) for p in feed.report.warnings] == [
        "routes.txt: ist nicht UTF-8; gelesen als Windows-1252 (cp1252): Umlaute prüfen"
    ]


def test_header_only_optional_file_is_fine(tmp_path: Path) -> None:
    feed = read_gtfs(write_feed(tmp_path, {"transfers.txt": "from_stop_id,to_stop_id\n"}))
    assert feed.transfers.empty
    assert "transfers.txt" in feed.files
    assert feed.report.ok


def test_warnings_are_logged_once_per_kind(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    trips = "route_id,service_id,trip_id\nR1,WD,T1\nR1,WD,T2\nR1,WD,T8\nR1,WD,T9\n"
    with caplog.at_level(logging.WARNING, logger="kurszugang.io.gtfs"):
        feed = read_gtfs(write_feed(tmp_path, {"trips.txt": trips}))
    assert [str(p) for p in feed.report.warnings] == [
        "trips.txt line 4: trip_id 'T8' has no stop_times",
        "trips.txt line 5: trip_id 'T9' has no stop_times",
    ]
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["GTFS feed: 2 Warnungen: Fahrten ohne stop_times (z. B. T8, T9)"]


def test_fast_hop_warns_about_coordinates(tmp_path: Path) -> None:
    stops = BASE["stops.txt"].replace("C,Kirche,47.02,8.02", "C,Kirche,8.02,47.02")  # swapped
    feed = read_gtfs(write_feed(tmp_path, {"stops.txt": stops}))
    fast = [str(p) for p in feed.report.warnings if p.code == "fast_hop"]
    assert len(fast) == 2
    assert fast[0].startswith("stop_times.txt line 4: arrival_time 07:20:00: 5")
    assert fast[0].endswith("km from the previous stop in 9 min (trip 'T1'); check the times or "
                            "the stop coordinates")


def test_duplicate_calendar_date_is_a_warning(tmp_path: Path) -> None:
    dates = BASE["calendar_dates.txt"] + "WD,20210305,1\n"
    feed = read_gtfs(write_feed(tmp_path, {"calendar_dates.txt": dates}))
    assert [str(p) for p in feed.report.warnings] == [
        "calendar_dates.txt line 4: date '20210305' appears more than once for service_id 'WD' "
        "(also on line 2)"
    ]


# --------------------------------------------------------------------------------------------
# Bad input: one case per test, asserting the message
# --------------------------------------------------------------------------------------------


def _stop_times_with(row: str) -> dict[str, str | bytes | None]:
    return {"stop_times.txt": BASE["stop_times.txt"] + row}


def test_missing_trip(tmp_path: Path) -> None:
    rows = (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "T1,07:00:00,07:00:00,007,1\nT1,07:10:00,07:11:00,C,2\n"
        "T2,08:00:00,08:00:00,C,1\nT9,08:00:00,08:00:00,C,1\nT2,08:10:00,08:10:00,007,2\n"
    )
    with pytest.raises(DataValidationError) as info:
        read_gtfs(write_feed(tmp_path, {"stop_times.txt": rows}))
    assert "feed: 1 problem found:" in str(info.value)
    assert "stop_times.txt line 5: trip_id 'T9' is not in trips.txt" in str(info.value)
    assert info.value.problems[0].code == "missing_trip"


def test_missing_trip_with_strict_false_keeps_the_rows(tmp_path: Path) -> None:
    feed = read_gtfs(write_feed(tmp_path, _stop_times_with("T9,08:00:00,08:00:00,C,1\n")),
                     strict=False)
    assert [str(p) for p in feed.report.errors] == [
        "stop_times.txt line 7: trip_id 'T9' is not in trips.txt"
    ]
    assert feed.stop_times["trip_id"].tolist()[-1] == "T9"


def test_unparsable_time(tmp_path: Path) -> None:
    path = write_feed(tmp_path, _stop_times_with("T2,7:6x:00,7:6x:00,007,3\n"))
    with pytest.raises(DataValidationError) as info:
        read_gtfs(path, strict=False)  # unusable even when not strict
    assert "stop_times.txt line 7: arrival_time '7:6x:00' is not a time (expected H:MM:SS" in str(
        info.value
    )
    assert "stop_times.txt line 7: departure_time '7:6x:00' is not a time" in str(info.value)


def test_unparsable_time_letters(tmp_path: Path) -> None:
    path = write_feed(tmp_path, _stop_times_with("T2,ab:cd,25:20:00,007,3\n"))
    with pytest.raises(DataValidationError, match="line 7: arrival_time 'ab:cd' is not a time"):
        read_gtfs(path)


def test_times_going_backwards(tmp_path: Path) -> None:
    path = write_feed(tmp_path, _stop_times_with("T2,25:05:00,25:05:00,de:09187:12345,3\n"))
    with pytest.raises(DataValidationError) as info:
        read_gtfs(path)
    assert str(info.value).endswith(
        "stop_times.txt line 7: arrival_time 25:05:00 is before the departure 25:10:00 at the "
        "previous stop (trip 'T2', stop_sequence 3)"
    )


def test_departure_before_arrival(tmp_path: Path) -> None:
    path = write_feed(tmp_path, _stop_times_with("T2,25:20:00,25:15:00,de:09187:12345,3\n"))
    with pytest.raises(DataValidationError, match=(
        r"stop_times.txt line 7: departure_time 25:15:00 is before arrival_time 25:20:00 "
        r"\(trip 'T2', stop_sequence 3\)"
    )):
        read_gtfs(path)


def test_last_stop_without_times(tmp_path: Path) -> None:
    path = write_feed(tmp_path, _stop_times_with("T2,,,de:09187:12345,3\n"))
    with pytest.raises(DataValidationError, match=(
        "stop_times.txt line 7: arrival_time and departure_time are empty at the last stop of "
        r"trip 'T2' \(the first and last stop need times\)"
    )):
        read_gtfs(path, strict=False)


def test_duplicate_stop_sequence(tmp_path: Path) -> None:
    path = write_feed(tmp_path, _stop_times_with("T2,25:20:00,25:20:00,de:09187:12345,2\n"))
    with pytest.raises(DataValidationError, match=(
        r"stop_times.txt line 7: stop_sequence 2 appears more than once in trip 'T2' "
        r"\(also on line 6\)"
    )):
        read_gtfs(path)


def test_duplicate_stop_id(tmp_path: Path) -> None:
    stops = BASE["stops.txt"] + "C,Kirche Nord,47.03,8.03,0,\n"
    with pytest.raises(DataValidationError, match=(
        r"stops.txt line 6: stop_id 'C' appears more than once \(also on line 5\)"
    )):
        read_gtfs(write_feed(tmp_path, {"stops.txt": stops}))


def test_bad_latitude(tmp_path: Path) -> None:
    stops = BASE["stops.txt"].replace("Kirche,47.02", "Kirche,147.02")
    with pytest.raises(DataValidationError, match=(
        r"stops.txt line 5: stop_lat 147.02 is out of range \(expected a value from -90 to 90\)"
    )):
        read_gtfs(write_feed(tmp_path, {"stops.txt": stops}))


def test_latitude_not_a_number(tmp_path: Path) -> None:
    stops = BASE["stops.txt"].replace("Kirche,47.02", "Kirche,47,02")
    with pytest.raises(DataValidationError, match="stops.txt line 5: has 7 fields, expected 6"):
        read_gtfs(write_feed(tmp_path, {"stops.txt": stops}))
    stops = BASE["stops.txt"].replace("Kirche,47.02", "Kirche,abc")
    feed = read_gtfs(write_feed(tmp_path, {"stops.txt": stops}, name="f2"), strict=False)
    assert [str(p) for p in feed.report.errors] == [
        "stops.txt line 5: stop_lat 'abc' is not a number"
    ]
    assert np.isnan(feed.stops["stop_lat"].iloc[3])


def test_bad_date(tmp_path: Path) -> None:
    dates = "service_id,date,exception_type\nWD,20210230,2\n"
    with pytest.raises(DataValidationError, match=(
        r"calendar_dates.txt line 2: date '20210230' is not a date \(expected YYYYMMDD"
    )):
        read_gtfs(write_feed(tmp_path, {"calendar_dates.txt": dates}), strict=False)


def test_missing_service(tmp_path: Path) -> None:
    trips = BASE["trips.txt"] + "R1,SA,T3,0\n"
    with pytest.raises(DataValidationError, match=(
        "trips.txt line 4: service_id 'SA' is not in calendar.txt nor in calendar_dates.txt"
    )):
        read_gtfs(write_feed(tmp_path, {"trips.txt": trips}))


def test_missing_route(tmp_path: Path) -> None:
    trips = BASE["trips.txt"].replace("R1,WD,T2", "R2,WD,T2")
    with pytest.raises(DataValidationError,
                       match="trips.txt line 3: route_id 'R2' is not in routes.txt"):
        read_gtfs(write_feed(tmp_path, {"trips.txt": trips}))


def test_missing_stop(tmp_path: Path) -> None:
    path = write_feed(tmp_path, _stop_times_with("T2,25:20:00,25:20:00,X9,3\n"))
    with pytest.raises(DataValidationError,
                       match="stop_times.txt line 7: stop_id 'X9' is not in stops.txt"):
        read_gtfs(path)


def test_empty_stops_file(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError) as info:
        read_gtfs(write_feed(tmp_path, {"stops.txt": ""}), strict=False)
    assert "stops.txt: is empty (0 bytes); expected a header line and records" in str(info.value)
    assert "stops.txt: is missing" not in str(info.value)


def test_text_file_named_zip(tmp_path: Path) -> None:
    path = tmp_path / "feed.zip"
    path.write_text("stop_id,stop_name\n1,Bahnhof\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match=r"feed.zip: ist weder ein Zip-Archiv noch ein Ordner"):
        read_gtfs(path)


def test_zip_with_two_feeds(tmp_path: Path) -> None:
    files: dict[str, str | bytes | None] = {f"{d}/{k}": v for d in "ab" for k, v in BASE.items()}
    with pytest.raises(InputFormatError, match=(
        r"feed.zip: enthält mehrere GTFS-Fahrpläne \(in a/, b/\); entpacken und einen Ordner "
        r"lesen"
    )):
        read_gtfs(write_feed(tmp_path, files, as_zip=True, base=False))


def test_path_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(InputFormatError, match="nothing.zip: gibt es nicht"):
        read_gtfs(tmp_path / "nothing.zip")


def test_missing_required_file(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError) as info:
        read_gtfs(write_feed(tmp_path, {"routes.txt": None}, as_zip=True), strict=False)
    assert "routes.txt: is missing (a required file)" in str(info.value)


def test_both_calendar_files_missing(tmp_path: Path) -> None:
    path = write_feed(tmp_path, {"calendar.txt": None, "calendar_dates.txt": None})
    with pytest.raises(DataValidationError, match=(
        r"calendar.txt: is missing, and so is calendar_dates.txt \(the feed needs one of them\)"
    )):
        read_gtfs(path)


def test_missing_required_column(tmp_path: Path) -> None:
    routes = "route_id,agency_id,route_short_name\nR1,A1,1\n"
    with pytest.raises(DataValidationError, match=(
        r"routes.txt line 1: route_type is missing \(a required column\)"
    )):
        read_gtfs(write_feed(tmp_path, {"routes.txt": routes}), strict=False)


def test_no_service_at_all(tmp_path: Path) -> None:
    calendar = BASE["calendar.txt"].replace("WD,1,1,1,1,1,0,0", "WD,0,0,0,0,0,0,0")
    feed = read_gtfs(write_feed(tmp_path, {"calendar.txt": calendar, "calendar_dates.txt": None}))
    assert {p.code for p in feed.report.warnings} == {"service_never_runs"}
    with pytest.raises(ServiceDateError, match="hat keinen Verkehrstag"):
        feed.service_period()


# --------------------------------------------------------------------------------------------
# validate_gtfs
# --------------------------------------------------------------------------------------------


def test_validate_broken_feed_does_not_raise(tmp_path: Path) -> None:
    files: dict[str, str | bytes | None] = {
        **_stop_times_with("T9,08:00:00,08:00:00,C,1\nT2,7:6x:00,25:20:00,007,3\n"),
        "routes.txt": BASE["routes.txt"] + "R7,A1,7,Leer,3\n",
    }
    report = validate_gtfs(write_feed(tmp_path, files))
    assert not report.ok
    assert [str(p) for p in report.errors] == [
        "stop_times.txt line 8: arrival_time '7:6x:00' is not a time (expected H:MM:SS or "
        "HH:MM:SS, e.g. 07:05:00 or 25:13:00)",
        "stop_times.txt line 7: trip_id 'T9' is not in trips.txt",
    ]
    assert [str(p) for p in report.warnings] == ["routes.txt line 3: route_id 'R7' has no trips"]
    text = report.format()
    assert "GTFS-Fahrplan: feed" in text
    assert "  Haltestellen: 4" in text
    assert "  Halte (stop_times): 7" in text
    assert "  Fahrplanzeitraum: 2021-03-01 bis 2021-03-31" in text
    assert "  2 Fehler" in text


def test_validate_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "feed.zip"
    path.write_text("hello", encoding="utf-8")
    report = validate_gtfs(path)
    assert [str(p) for p in report.errors] == [
        "feed.zip: ist weder ein Zip-Archiv noch ein Ordner (erwartet ein GTFS-.zip oder einen "
        "Ordner mit .txt-Dateien)"
    ]


def test_validate_real_feed_counts(malente_feed_path: Path) -> None:
    report = validate_gtfs(malente_feed_path)
    assert report.ok
    assert report.counts == {
        "agencies": 1, "stops": 60, "routes": 2, "trips": 18, "stop_times": 566, "services": 4,
        "service period": "2018-11-01 to 2020-12-31", "interpolated times": 0,
    }
