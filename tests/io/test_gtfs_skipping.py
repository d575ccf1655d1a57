"""Lenient where routing does not care, strict where it does: real feeds edited in the test."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kurszugang.errors import DataValidationError
from kurszugang.io.gtfs import (
    MAX_SKIPPED_SHARE,
    FeedRefusedError,
    read_gtfs,
    validate_gtfs,
)
from kurszugang.routing.timetable import Timetable, compile_timetable

MALENTE_DAY = dt.date(2019, 3, 5)  # a Tuesday: services WD
ZUG_DAY = dt.date(2021, 3, 2)


def edit_feed(source: Path, folder: Path, edits: dict[str, Callable[[str], str] | str | None],
              name: str = "edited.zip") -> Path:
    """A copy of a zipped feed with some files changed (a function of the text), replaced
    (text) or removed (None)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / name
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        names = [i.filename for i in zin.infolist()]
        for member in names:
            edit = edits.get(member, lambda text: text)
            if edit is None:
                continue
            text = zin.read(member).decode("utf-8-sig")
            zout.writestr(member, edit(text) if callable(edit) else edit)
        for member, edit in edits.items():
            if member not in names and isinstance(edit, str):
                zout.writestr(member, edit)
    return out


def assert_same_timetable(a: Timetable, b: Timetable) -> None:
    for f in dataclasses.fields(Timetable):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape, f.name
            assert (x == y).all(), f.name
        else:
            assert x == y, f.name


@pytest.fixture(scope="module")
def zug_timetable(zug_feed_path: Path) -> Timetable:
    return compile_timetable(read_gtfs(zug_feed_path), ZUG_DAY)


# --------------------------------------------------------------------------------------------
# References routing does not use: warnings
# --------------------------------------------------------------------------------------------


def test_route_with_a_missing_agency_is_read_with_a_warning_and_routes_as_before(
    malente_feed_path: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    edited = edit_feed(malente_feed_path, tmp_path, {
        "routes.txt": lambda t: t.replace("\n2,BBM,Nord", "\n2,XYZ,Nord"),
    })
    with caplog.at_level(logging.WARNING, logger="kurszugang.io.gtfs"):
        feed = read_gtfs(edited)
    assert [str(p) for p in feed.report.warnings] == [
        "routes.txt line 3: agency_id 'XYZ' is not in agency.txt"
    ]
    assert feed.report.ok and feed.skipped.empty
    assert "1 Warnung: Werte in routes.txt agency_id, die nicht in agency.txt sind (z. B. XYZ)" in caplog.text
    assert feed.routes["agency_id"].tolist() == ["BBM", "XYZ"]  # kept as given
    original = read_gtfs(malente_feed_path)
    assert_same_timetable(compile_timetable(feed, MALENTE_DAY),
                          compile_timetable(original, MALENTE_DAY))
    assert compile_timetable(feed, MALENTE_DAY).n_trips == 6


def test_missing_agency_is_an_error_for_strict_validation(malente_feed_path: Path,
                                                          tmp_path: Path) -> None:
    edited = edit_feed(malente_feed_path, tmp_path, {
        "routes.txt": lambda t: t.replace("\n2,BBM,Nord", "\n2,XYZ,Nord"),
    })
    assert validate_gtfs(edited).ok
    strict = validate_gtfs(edited, strict=True)
    assert [str(p) for p in strict.errors] == [
        "routes.txt line 3: agency_id 'XYZ' is not in agency.txt"
    ]
    with pytest.raises(DataValidationError, match="routes.txt line 3: agency_id 'XYZ' is not"):
        read_gtfs(edited, strict=True)


def test_unknown_files_are_a_warning(malente_feed_path: Path, tmp_path: Path) -> None:
    edited = edit_feed(malente_feed_path, tmp_path, {
        "fare_attributes.txt": "fare_id,price,currency_type,payment_method,transfers\nF,2,EUR,0,0\n",
        "attributions.txt": "attribution_id,organization_name\nA,BuergerBus\n",
    })
    feed = read_gtfs(edited)
    assert sorted(str(p) for p in feed.report.warnings) == [
        "attributions.txt: is not read (kurszugang does not use it for routing)",
        "fare_attributes.txt: is not read (kurszugang does not use it for routing)",
    ]
    assert "fare_attributes.txt" in feed.files
    assert validate_gtfs(edited, strict=True).ok  # not an error for feed authors either


def test_parent_station_and_transfer_to_nothing_stay_warnings_when_strict(
    zug_feed_path: Path
) -> None:
    report = validate_gtfs(zug_feed_path, strict=True)
    assert report.ok
    codes = pd.Series([p.code for p in report.warnings]).value_counts()
    assert codes["missing_parent_station"] == 429
    assert codes["transfer_unknown_ref"] == 5_916


# --------------------------------------------------------------------------------------------
# Records routing cannot use: skipped, counted, listed
# --------------------------------------------------------------------------------------------

_BAD_ROWS = (
    "GHOST.TRIP,07:00:00,07:00:00,8502287,1,0,0\n"  # a trip not in trips.txt
    "GHOST.TRIP,07:05:00,07:05:00,8502288,2,0,0\n"
    "1.TA.91-1-E-j21-1.1.H,24:61:00,24:61:00,8502287,99,0,0\n"  # an unparsable time
    "1.TA.91-1-E-j21-1.1.H,25:10:00,25:10:00,NOWHERE,100,0,0\n"  # a stop not in stops.txt
)


@pytest.fixture(scope="module")
def zug_with_bad_rows(zug_feed_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return edit_feed(zug_feed_path, tmp_path_factory.mktemp("bad"), {
        "stop_times.txt": lambda t: t + _BAD_ROWS,
    })


def test_stop_times_routing_cannot_use_are_skipped_and_counted(
    zug_with_bad_rows: Path, zug_timetable: Timetable
) -> None:
    feed = read_gtfs(zug_with_bad_rows)
    assert len(feed.stop_times) == 198_554  # the four rows are left out
    skipped = feed.skipped.set_index("reason")
    assert skipped.loc["missing_trip", "count"] == 2
    assert skipped.loc["bad_time", "count"] == 1
    assert skipped.loc["missing_stop", "count"] == 1
    assert (skipped["file"] == "stop_times.txt").all()
    assert (skipped["records"] == 198_558).all()
    assert skipped.loc["missing_trip", "examples"] == "GHOST.TRIP"
    assert skipped.loc["missing_stop", "examples"] == "NOWHERE"
    assert list(feed.skipped.columns) == ["file", "reason", "count", "records", "examples",
                                          "description"]
    listed = [str(p) for p in feed.report.warnings if p.file == "stop_times.txt"]
    assert listed == [
        "stop_times.txt line 198558: arrival_time '24:61:00' is not a time (expected H:MM:SS "
        "or HH:MM:SS, e.g. 07:05:00 or 25:13:00)",
        "stop_times.txt line 198558: departure_time '24:61:00' is not a time (expected H:MM:SS "
        "or HH:MM:SS, e.g. 07:05:00 or 25:13:00)",
        "stop_times.txt line 198556: trip_id 'GHOST.TRIP' is not in trips.txt",
        "stop_times.txt line 198557: trip_id 'GHOST.TRIP' is not in trips.txt",
        "stop_times.txt line 198559: stop_id 'NOWHERE' is not in stops.txt",
    ]
    assert feed.report.ok
    assert feed.report.counts["skipped records"] == 4
    assert any(n.startswith("2 von 198.558 Datensätzen von stop_times.txt übersprungen: Werte in "
                            "stop_times.txt trip_id nicht in trips.txt (z. B. GHOST.TRIP)")
               for n in feed.report.notes)
    assert_same_timetable(compile_timetable(feed, ZUG_DAY), zug_timetable)


def test_validate_lists_skipped_records_as_warnings_and_strict_as_errors(
    zug_with_bad_rows: Path
) -> None:
    lenient = validate_gtfs(zug_with_bad_rows)
    assert lenient.ok
    assert sorted({p.code for p in lenient.warnings if p.file == "stop_times.txt"}) == [
        "bad_time", "missing_stop", "missing_trip"]
    strict = validate_gtfs(zug_with_bad_rows, strict=True)
    assert [p.row for p in strict.errors] == [198558, 198558, 198556, 198557, 198559]
    with pytest.raises(DataValidationError, match="5 problems found"):
        read_gtfs(zug_with_bad_rows, strict=True)


def test_keep_mode_keeps_every_record(zug_with_bad_rows: Path) -> None:
    with pytest.raises(DataValidationError, match="arrival_time '24:61:00' is not a time"):
        read_gtfs(zug_with_bad_rows, strict=False)  # an unparsable time leaves no value
    feed = read_gtfs(edit_feed(zug_with_bad_rows, zug_with_bad_rows.parent, {
        "stop_times.txt": lambda t: t.replace("24:61:00", "24:51:00")}, name="keep.zip"),
        strict=False)
    assert len(feed.stop_times) == 198_558
    assert feed.skipped.empty
    assert {p.code for p in feed.report.errors} == {"missing_trip", "missing_stop"}


def test_trips_with_a_missing_route_or_service_are_skipped_with_their_stop_times(
    zug_feed_path: Path, tmp_path: Path, zug_timetable: Timetable
) -> None:
    original = read_gtfs(zug_feed_path)
    trips = original.trips
    day_ids = set(original.trips_on(ZUG_DAY)["trip_id"]) | set(
        original.trips_on(ZUG_DAY - dt.timedelta(days=1))["trip_id"])
    off = trips[~trips["trip_id"].isin(day_ids)]["trip_id"].tolist()[:2]
    st = original.stop_times
    n_rows = int(st["trip_id"].isin(off).sum())

    def edit(text: str) -> str:
        lines = text.splitlines()
        header = lines[0].split(",")
        trip, route, service = (header.index(c) for c in ("trip_id", "route_id", "service_id"))
        for i, line in enumerate(lines[1:], start=1):
            fields = line.split(",")
            if fields[trip] == off[0]:
                fields[route] = "NO-ROUTE"
            elif fields[trip] == off[1]:
                fields[service] = "NO-SERVICE"
            lines[i] = ",".join(fields)
        return "\n".join(lines) + "\n"

    feed = read_gtfs(edit_feed(zug_feed_path, tmp_path, {"trips.txt": edit}))
    skipped = feed.skipped.set_index(["file", "reason"])["count"]
    assert skipped[("trips.txt", "missing_route")] == 1
    assert skipped[("trips.txt", "missing_service")] == 1
    assert skipped[("stop_times.txt", "skipped_trip")] == n_rows
    assert len(feed.trips) == 13_882
    assert len(feed.stop_times) == 198_554 - n_rows
    assert not feed.stop_times["trip_id"].isin(off).any()
    messages = [str(p) for p in feed.report.warnings if p.code == "skipped_trip"]
    assert messages[0].endswith(f"trip_id '{off[0]}' is skipped in trips.txt (see there)") or \
        messages[0].endswith(f"trip_id '{off[1]}' is skipped in trips.txt (see there)")
    assert_same_timetable(compile_timetable(feed, ZUG_DAY), zug_timetable)


def test_a_trip_with_times_going_backwards_is_skipped_whole(malente_feed_path: Path,
                                                             tmp_path: Path) -> None:
    def edit(text: str) -> str:  # trip N1WT (every row on one line each): one time too early
        return text.replace("N1WT,10:10:45,10:11:15", "N1WT,09:10:45,09:11:15", 1)

    original = read_gtfs(malente_feed_path)
    text = zipfile.ZipFile(malente_feed_path).read("stop_times.txt").decode("utf-8-sig")
    assert "N1WT,10:10:45,10:11:15" in text
    n_rows = int((original.stop_times["trip_id"] == "N1WT").sum())
    share = n_rows / len(original.stop_times)
    assert share > MAX_SKIPPED_SHARE  # one trip of 18 is too much to lose
    with pytest.raises(FeedRefusedError) as info:
        read_gtfs(edit_feed(malente_feed_path, tmp_path, {"stop_times.txt": edit}))
    message = str(info.value)
    assert message.startswith(
        f"edited.zip: nicht gelesen: {n_rows} von 566 Datensätzen von stop_times.txt "
        f"({f'{100 * n_rows / 566:.1f}'.replace('.', ',')} %) sind für das Routing unbrauchbar, "
        f"mehr als die 5 %, die eine Datei verlieren darf")
    assert "is before the departure" in message and "(trip 'N1WT'" in message
    assert info.value.reasons == [message.splitlines()[0].split("nicht gelesen: ", 1)[1]]


def test_refused_feed_lists_the_skipped_records_as_errors(tmp_path: Path,
                                                          malente_feed_path: Path) -> None:
    def edit(text: str) -> str:  # 30 of 566 rows name a stop that does not exist
        lines = text.splitlines(keepends=True)
        for i in range(1, 31):
            fields = lines[i].split(",")
            fields[3] = "GONE"
            lines[i] = ",".join(fields)
        return "".join(lines)

    edited = edit_feed(malente_feed_path, tmp_path, {"stop_times.txt": edit})
    report = validate_gtfs(edited)
    assert not report.ok
    assert len(report.errors) == 30
    assert {p.code for p in report.errors} == {"missing_stop"}
    assert ("abgelehnt: 30 von 566 Datensätzen von stop_times.txt (5,3 %) sind für das Routing "
            "unbrauchbar, mehr als die 5 %, die eine Datei verlieren darf") in report.notes
    with pytest.raises(FeedRefusedError, match="30 problems found"):
        read_gtfs(edited)


def test_just_under_the_threshold_is_read(tmp_path: Path, malente_feed_path: Path) -> None:
    def edit(text: str) -> str:  # 28 of 566 rows (4.9 %): not refused
        lines = text.splitlines(keepends=True)
        for i in range(1, 29):
            fields = lines[i].split(",")
            fields[3] = "GONE"
            lines[i] = ",".join(fields)
        return "".join(lines)

    feed = read_gtfs(edit_feed(malente_feed_path, tmp_path, {"stop_times.txt": edit}))
    assert len(feed.stop_times) == 566 - 28
    assert feed.skipped["count"].tolist() == [28]
