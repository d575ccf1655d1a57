"""Clear messages for bad coordinates, encodings, long lines and unclosed quotes."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from kurszugang.errors import DataValidationError
from kurszugang.io.gtfs import read_gtfs, validate_gtfs
from tests.io.test_gtfs import BASE, write_feed
from tests.io.test_gtfs_skipping import edit_feed

_UMLAUT_STOPS = (
    "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
    "S1,Bahnhof Süd,47.0,8.0,1,\n"
    '007,"Bahnhof, Gleis 1",47.0,8.0,0,S1\n'
    "de:09187:12345,Marktstraße,47.01,8.01,0,\n"
    "C,Kirche Ärzte,47.02,8.02,,\n"
)

# --------------------------------------------------------------------------------------------
# Encodings
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("encoding", "bom", "label"), [
    ("utf-16-le", b"\xff\xfe", "UTF-16 (little-endian), mit Byte-Order-Mark"),
    ("utf-16-be", b"\xfe\xff", "UTF-16 (big-endian), mit Byte-Order-Mark"),
    ("utf-16-le", b"", "UTF-16 (little-endian), ohne Byte-Order-Mark"),
    ("utf-16-be", b"", "UTF-16 (big-endian), ohne Byte-Order-Mark"),
])
def test_utf16_is_named_and_read(tmp_path: Path, encoding: str, bom: bytes, label: str) -> None:
    data = bom + _UMLAUT_STOPS.replace("\n", "\r\n").encode(encoding)
    feed = read_gtfs(write_feed(tmp_path, {"stops.txt": data}, as_zip=True))
    assert [str(p) for p in feed.report.warnings] == [
        f"stops.txt: ist {label}, nicht UTF-8, wie GTFS verlangt; gelesen als UTF-16"
    ]
    assert feed.stops["stop_name"].tolist() == ["Bahnhof Süd", "Bahnhof, Gleis 1",
                                                "Marktstraße", "Kirche Ärzte"]
    assert feed.stops["stop_id"].tolist() == ["S1", "007", "de:09187:12345", "C"]
    assert len(feed.stop_times) == 5 and feed.report.ok


def test_utf16_stop_times_are_streamed(tmp_path: Path) -> None:
    text = BASE["stop_times.txt"].encode("utf-16")  # with a byte-order mark
    feed = read_gtfs(write_feed(tmp_path, {"stop_times.txt": text}))
    assert feed.stop_times["arrival_time"].tolist()[:2] == [25_200, 25_800]
    assert [p.code for p in feed.report.warnings] == ["encoding"]


def test_cp1252_in_a_streamed_file_is_read_again_as_cp1252(tmp_path: Path) -> None:
    rows = "".join(f"T1,07:{i:02d}:00,07:{i:02d}:00,007,{i}\n" for i in range(1, 50))
    text = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence,stop_headsign\n"
            + rows.replace("\n", ",\n") + "T2,25:00:00,25:00:00,C,1,Königsplatz\n")
    feed = read_gtfs(write_feed(tmp_path, {"stop_times.txt": text.encode("cp1252")}))
    assert feed.stop_times["stop_headsign"].dropna().tolist() == ["Königsplatz"]
    assert [str(p) for p in feed.report.warnings if p.code == "encoding"] == [
        "stop_times.txt: ist nicht UTF-8; gelesen als Windows-1252 (cp1252): Umlaute prüfen"
    ]


# --------------------------------------------------------------------------------------------
# Long lines and unclosed quotes
# --------------------------------------------------------------------------------------------


def test_a_very_long_line_is_named_by_its_number(tmp_path: Path) -> None:
    stops = BASE["stops.txt"].replace("Markt", "x" * (40 << 20))
    path = write_feed(tmp_path, {"stops.txt": stops}, as_zip=True)
    with pytest.raises(DataValidationError) as info:
        read_gtfs(path)
    text = str(info.value)
    assert ("stops.txt line 4: der in dieser Zeile beginnende Datensatz ist 41.943.069 Bytes "
            "lang, mehr als die 16 MiB, die ein Datensatz haben darf (fehlt ein "
            "Zeilenumbruch?)") in text
    assert "straddl" not in text
    report = validate_gtfs(path)
    assert [(p.code, p.row) for p in report.errors] == [("unreadable", 4)]


def test_old_mac_line_ends_are_read_but_a_file_without_line_breaks_is_named(
    tmp_path: Path
) -> None:
    feed = read_gtfs(write_feed(tmp_path, {
        "stop_times.txt": BASE["stop_times.txt"].replace("\n", "\r")}))
    assert len(feed.stop_times) == 5
    flat = (BASE["stop_times.txt"].splitlines()[0] + "\n"
            + "T1;07:00:00;07:00:00;007;1 " * 1_500_000)
    with pytest.raises(DataValidationError, match=(
        r"stop_times.txt line 2: der in dieser Zeile beginnende Datensatz ist 40\.500\.000 "
        r"Bytes lang, mehr als die 16 MiB, die ein Datensatz haben darf \(fehlt ein "
        r"Zeilenumbruch\?\)"
    )):
        read_gtfs(write_feed(tmp_path, {"stop_times.txt": flat}, name="flat"))


def test_an_unclosed_quote_running_past_the_block_size_is_named(tmp_path: Path) -> None:
    rows = "".join(f"T3,07:00:00,07:00:00,007,{i}\n" for i in range(1, 1_500_000))
    stop_times = BASE["stop_times.txt"] + 'T2,"25:20:00,25:20:00,C,3\n' + rows
    with pytest.raises(DataValidationError, match=(
        r"stop_times.txt line 7: der in dieser Zeile beginnende Datensatz ist 48\.388\.889 "
        r"Bytes lang, mehr als die 16 MiB, die ein Datensatz haben darf \(ein in dieser Zeile "
        r"geöffnetes Anführungszeichen wird nicht geschlossen, wo es sollte\)"
    )):
        read_gtfs(write_feed(tmp_path, {"stop_times.txt": stop_times}))


def test_an_unclosed_quote_within_the_block_size_names_the_lines_it_swallows(
    tmp_path: Path
) -> None:
    rows = "".join(f"T3,07:00:00,07:00:00,007,{i}\n" for i in range(1, 1_000))
    stop_times = BASE["stop_times.txt"] + 'T2,"25:20:00,25:20:00,C,3\n' + rows
    report = validate_gtfs(write_feed(tmp_path, {"stop_times.txt": stop_times}))
    assert [str(p) for p in report.errors if p.code == "bad_record"] == [
        "stop_times.txt line 7: has 2 fields, expected 5 as in the header; record skipped (a "
        "quote opened on this line runs over the 999 lines after it: is a closing quote "
        "missing?)"
    ]
    assert "abgelehnt: 1.000 von 1.005 Datensätzen von stop_times.txt (99,5 %) sind für das " \
           "Routing unbrauchbar, mehr als die 5 %, die eine Datei verlieren darf" in report.notes


def test_an_unclosed_quote_in_a_small_stops_file(tmp_path: Path) -> None:
    stops = BASE["stops.txt"].replace("de:09187:12345,Markt", 'de:09187:12345,"Markt')
    report = validate_gtfs(write_feed(tmp_path, {"stops.txt": stops}))
    bad = [str(p) for p in report.problems if p.code == "bad_record"]
    assert bad == [
        "stops.txt line 4: has 2 fields, expected 6 as in the header; record skipped (a quote "
        "opened on this line runs over the 1 lines after it: is a closing quote missing?)"
    ]


# --------------------------------------------------------------------------------------------
# Coordinates
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def zug_bad_stops(zug_feed_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    text = zipfile.ZipFile(zug_feed_path).read("stops.txt").decode("utf-8-sig")
    lines = text.splitlines()
    header = lines[0].split(",")
    lat, lon = header.index("stop_lat"), header.index("stop_lon")
    first = lines[1].split(",")
    assert first[lat][:2] == "47" and first[lon][:1] in "89"  # the Zug area: lat 47, lon 8-9

    def edit(t: str) -> str:
        out = t.splitlines()
        for line_no, (a, b) in {10: ("0", "0"), 11: (first[lon], first[lat]),
                                12: ("59.93", "30.31")}.items():
            fields = out[line_no - 1].split(",")
            fields[lat], fields[lon] = a, b
            out[line_no - 1] = ",".join(fields)
        return "\n".join(out) + "\n"

    return edit_feed(zug_feed_path, tmp_path_factory.mktemp("coords"), {"stops.txt": edit})


def test_implausible_coordinates_are_named_by_line(zug_bad_stops: Path) -> None:
    feed = read_gtfs(zug_bad_stops)
    found = [str(p) for p in feed.report.warnings if p.code == "implausible_coordinates"]
    assert len(found) == 3
    assert found[0] == ("stops.txt line 10: stop_lat 0 and stop_lon 0 put the stop at 0°N 0°E "
                        "in the Atlantic (coordinates missing?)")
    assert found[1].startswith("stops.txt line 11: stop_lat 9.17731 and stop_lon 47.6588 ")
    assert found[1].endswith("look swapped: the feed's other stops lie around lat 47.18, "
                             "lon 8.50")
    assert found[2].startswith("stops.txt line 12: stop_lat 59.93 and stop_lon 30.31 lie 2,")
    assert found[2].endswith("km from the middle of the feed's stops (lat 47.18, lon 8.50); "
                             "expected within 500 km: check the coordinates")
    # Kept (routing rides through them; nobody walks to them) and counted nowhere as skipped.
    assert len(feed.stops) == 905 and feed.skipped.empty
    assert np.isclose(feed.stops["stop_lat"].iloc[8], 0.0)


def test_implausible_coordinates_are_errors_for_strict_validation(zug_bad_stops: Path) -> None:
    report = validate_gtfs(zug_bad_stops, strict=True)
    assert [(p.row, p.column) for p in report.errors
            if p.code == "implausible_coordinates"] == [(10, "stop_lat"), (11, "stop_lat"),
                                                        (12, "stop_lat")]


def test_real_feeds_have_no_implausible_coordinates(zug_feed_path: Path,
                                                    berlin_feed_path: Path,
                                                    malente_feed_path: Path) -> None:
    # Zug keeps long-distance trains to Geneva (370 km away): not implausible.
    for path in (zug_feed_path, berlin_feed_path, malente_feed_path):
        report = validate_gtfs(path, strict=True)
        assert not [p for p in report.problems if p.code == "implausible_coordinates"], path


def test_swapped_coordinates_in_a_small_feed(tmp_path: Path) -> None:
    stops = BASE["stops.txt"].replace("C,Kirche,47.02,8.02", "C,Kirche,8.02,47.02")
    feed = read_gtfs(write_feed(tmp_path, {"stops.txt": stops}))
    assert [str(p) for p in feed.report.warnings if p.code == "implausible_coordinates"] == [
        "stops.txt line 5: stop_lat 8.02 and stop_lon 47.02 look swapped: the feed's other "
        "stops lie around lat 47.00, lon 8.00"
    ]
