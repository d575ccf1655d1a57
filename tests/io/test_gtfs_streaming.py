"""Bounded memory on any input: zip limits, stop_times.txt in blocks of whole trips."""

from __future__ import annotations

import random
import struct
import zipfile
import zlib
from pathlib import Path

import pandas as pd
import pytest

from kurszugang.errors import InputFormatError
from kurszugang.io import _feedfiles
from kurszugang.io.gtfs import MAX_TRIP_STOP_TIMES, read_gtfs, validate_gtfs
from kurszugang.routing.timetable import compile_timetable
from tests.io.test_gtfs import BASE
from tests.io.test_gtfs_skipping import ZUG_DAY, assert_same_timetable, edit_feed


def write_zip_bomb(path: Path, small: dict[str, str], big: str, head: bytes, chunk: bytes,
                   copies: int) -> int:
    """A zip whose member ``big`` holds ``head`` and then ``chunk`` ``copies`` times, written
    without holding it.

    Deflate with a full flush after each piece restarts the compressor, so every copy of the
    chunk compresses to the same bytes: the archive is written from one compressed copy.
    Returns the declared size of ``big``.
    """
    members: list[tuple[str, list[bytes], int, int]] = []  # name, pieces, crc, size
    for name, text in small.items():
        data = text.encode()
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        members.append((name, [c.compress(data) + c.flush()], zlib.crc32(data), len(data)))
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    piece = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    assert c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH) == piece  # a restarted compressor
    tail = c.flush()
    crc = zlib.crc32(head)
    for _ in range(copies):
        crc = zlib.crc32(chunk, crc)
    size = len(head) + len(chunk) * copies
    members.append((big, [first] + [piece] * copies + [tail], crc, size))
    central = b""
    with path.open("wb") as fh:
        for name, pieces, crc, size in members:
            offset = fh.tell()
            packed = sum(len(p) for p in pieces)
            raw = name.encode()
            fh.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, packed,
                                 size, len(raw), 0) + raw)
            for p in pieces:
                fh.write(p)
            central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21,
                                   crc, packed, size, len(raw), 0, 0, 0, 0, 0, offset) + raw
        start = fh.tell()
        fh.write(central)
        fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members),
                             len(central), start, 0))
    return size


def _one_trip_rows(n: int) -> bytes:
    return "".join(f"T1,07:00:00,07:00:00,C,{i}\n" for i in range(n)).encode()


_HEAD = BASE["stop_times.txt"].encode()


def test_a_zip_bomb_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    small = {k: v for k, v in BASE.items() if k != "stop_times.txt"}
    size = write_zip_bomb(path, small, "stop_times.txt", _HEAD,
                          b"T1,07:00:00,07:00:00,C,1\n" * 40_000, 1_600)
    packed = zipfile.ZipFile(path).getinfo("stop_times.txt").compress_size
    assert size > 1.6e9 and path.stat().st_size < 5e6
    ratio = size / packed
    def de(text: str) -> str:
        return text.replace(",", ".")

    expected = (f"bomb.zip: stop_times.txt gibt {de(f'{size:,}')} Bytes entpackt aus "
                f"{de(f'{packed:,}')} Bytes gepackt an (Verhältnis {de(f'{ratio:,.0f}')}:1), mehr "
                "als die Grenze von 100:1 für Dateien über 256 MiB (echte GTFS-Dateien packen etwa 10:1; eine Zip-Bombe? ein echter "
                "Fahrplan: KURSZUGANG_ZIP_MAX_RATIO setzen)")
    with pytest.raises(InputFormatError) as info:
        read_gtfs(path)
    assert str(info.value) == expected
    report = validate_gtfs(path)
    assert [str(p) for p in report.errors] == [expected]


def test_the_size_limit(zug_feed_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KURSZUGANG_ZIP_MAX_BYTES", "1000000")
    with pytest.raises(InputFormatError, match=(
        r"gtfs_ch_zg_2021.zip: calendar_dates.txt gibt 5\.669\.971 Bytes entpackt an, mehr "
        r"als die Grenze von 1\.000\.000 Bytes für eine Datei \(ein beschädigtes oder "
        r"bösartiges Archiv\? ein echter Fahrplan dieser Größe: KURSZUGANG_ZIP_MAX_BYTES "
        r"setzen\)"
    )):
        read_gtfs(zug_feed_path)


def test_a_bad_limit_setting(zug_feed_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KURSZUGANG_ZIP_MAX_RATIO", "many")
    with pytest.raises(InputFormatError, match=(
        r"die Umgebungsvariable KURSZUGANG_ZIP_MAX_RATIO='many' ist keine positive Zahl "
        r"\(Vorgabe 100\)"
    )):
        read_gtfs(zug_feed_path)


def test_a_hostile_trip_is_skipped_while_streaming(tmp_path: Path) -> None:
    """One trip of 400,000 stop_times (16 MB): validated in blocks, its records skipped."""
    path = tmp_path / "long.zip"
    small = {k: v for k, v in BASE.items() if k != "stop_times.txt"}
    write_zip_bomb(path, small, "stop_times.txt", _HEAD, _one_trip_rows(100_000), 4)
    report = validate_gtfs(path)
    long = [str(p) for p in report.problems if p.code == "trip_too_long"]
    assert long == [
        f"stop_times.txt line 2: trip_id 'T1' has more than {MAX_TRIP_STOP_TIMES:,} stop_times "
        "(real trips have a few hundred at most); its records are skipped"
    ]
    assert report.counts["stop_times"] == 5 + 400_000
    assert [n for n in report.notes if n.startswith("abgelehnt")] == [
        "abgelehnt: 400.003 von 400.005 Datensätzen von stop_times.txt (100 %) sind für das "
        "Routing unbrauchbar, mehr als die 5 %, die eine Datei verlieren darf"]  # T1's 3 + 400,000 records


# --------------------------------------------------------------------------------------------
# Blocks of whole trips
# --------------------------------------------------------------------------------------------


@pytest.fixture()
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_feedfiles, "BLOCK_BYTES", 256 << 10)  # 46 blocks of Zug's stop_times


def test_many_blocks_read_like_one(zug_feed_path: Path, small_blocks: None) -> None:
    many = read_gtfs(zug_feed_path)
    assert len(many.stop_times) == 198_554
    keys = many.stop_times["trip_id"].to_numpy(object)
    assert (keys[1:] >= keys[:-1]).all()
    assert_same_timetable(compile_timetable(many, ZUG_DAY), _zug_timetable(zug_feed_path))


def _zug_timetable(path: Path):  # read with the normal block size
    saved, _feedfiles.BLOCK_BYTES = _feedfiles.BLOCK_BYTES, 16 << 20
    try:
        return compile_timetable(read_gtfs(path), ZUG_DAY)
    finally:
        _feedfiles.BLOCK_BYTES = saved


def test_stop_times_not_grouped_by_trip_are_read_again(
    zug_feed_path: Path, tmp_path: Path, small_blocks: None, caplog: pytest.LogCaptureFixture
) -> None:
    def shuffle(text: str) -> str:
        header, *rows = text.splitlines()
        random.Random(7).shuffle(rows)
        return "\n".join([header, *rows]) + "\n"

    path = edit_feed(zug_feed_path, tmp_path, {"stop_times.txt": shuffle})
    with caplog.at_level("INFO", logger="kurszugang.io.gtfs"):
        feed = read_gtfs(path)
    assert "stop_times.txt ist nicht nach Fahrten geordnet (13.884 Fahrten verstreut) und " \
           "wird noch einmal gelesen" in caplog.text
    original = read_gtfs(zug_feed_path)
    pd.testing.assert_frame_equal(feed.stop_times, original.stop_times)
    assert [str(p) for p in feed.report.problems] == [str(p) for p in original.report.problems]
    assert_same_timetable(compile_timetable(feed, ZUG_DAY), _zug_timetable(zug_feed_path))
    report = validate_gtfs(path)
    assert report.ok and report.counts["stop_times"] == 198_554


def test_a_trip_split_over_blocks_keeps_its_checks(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_feedfiles, "BLOCK_BYTES", 1 << 10)
    rows = "".join(f"T1,07:{i:02d}:00,07:{i:02d}:00,{'C' if i % 2 else '007'},{i}\n"
                   for i in range(60))
    rows = rows.replace("T1,07:30:00,07:30:00", "T1,,")  # interpolated across a block edge
    stop_times = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n" + rows
                  + "T2,25:00:00,25:00:00,C,1\nT2,25:10:00,25:10:00,007,2\n")
    from tests.io.test_gtfs import write_feed

    feed = read_gtfs(write_feed(tmp_path, {"stop_times.txt": stop_times}))
    t1 = feed.stop_times[feed.stop_times["trip_id"] == "T1"]
    assert len(t1) == 60
    assert t1["arrival_time"].iloc[30] == 7 * 3600 + 30 * 60
    assert t1["timepoint"].tolist().count(0) == 1
    assert feed.report.counts["interpolated times"] == 1


def test_scattered_hostile_trips_are_skipped_without_gathering_them(
    tmp_path: Path, small_blocks: None
) -> None:
    from tests.io.test_gtfs import write_feed

    rows = "".join(f"T{1 + i % 2},07:00:00,07:00:00,C,{i}\n" for i in range(50_000))
    stop_times = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n" + rows
    report = validate_gtfs(write_feed(tmp_path, {"stop_times.txt": stop_times}))
    assert sorted(str(p) for p in report.problems if p.code == "trip_too_long") == [
        f"stop_times.txt: trip_id '{t}' has more than {MAX_TRIP_STOP_TIMES:,} stop_times (real "
        "trips have a few hundred at most); its records are skipped" for t in ("T1", "T2")]
    assert report.counts["stop_times"] == 50_000
