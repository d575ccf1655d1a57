"""The command line through a real subprocess: help, validate, user errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import shared_file


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kurszugang", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_bare_help_lists_the_commands():
    res = run_cli("--help")
    assert res.returncode == 0
    for command in ("validate", "matrix"):
        assert command in res.stdout
    assert "Integrationskurs" in res.stdout


ENGLISH = ("usage:", "show this help", "positional arguments", "options:", " the ", " and ",
           " of ", "default", "error:")


def test_help_and_wrong_command_lines_speak_german():
    from kurszugang.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.choices and "run" in a.choices)
    for name, command in {"kurszugang": parser, **sub.choices}.items():
        text = command.format_help()
        assert text.startswith("Aufruf: ") and "diese Hilfe zeigen und beenden" in text, name
        found = [w for w in ENGLISH if w in text.replace("\n", " ")]
        assert found == [], (name, found)
    res = run_cli("run")
    assert res.returncode == 2
    assert res.stderr.splitlines()[-1] == "kurszugang run: Fehler: es fehlt: CONFIG"
    res = run_cli("matrx")
    assert res.returncode == 2 and "ungültige Wahl: 'matrx' (möglich sind 'validate'," in res.stderr


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("gtfs-ch-kanton-zug-2021/gtfs_ch_zg_2021.zip",
         ["GTFS-Fahrplan: gtfs_ch_zg_2021.zip", "Haltestellen: 905", "Fahrten: 13.884",
          "Halte (stop_times): 198.554", "Fahrplanzeitraum: 2020-12-13 bis 2021-12-11",
          "0 Fehler"]),
        ("gtfs-buergerbus-malente/buergerbus_malente_gtfs.zip",
         ["Haltestellen: 60", "Fahrten: 18", "Halte (stop_times): 566",
          "Fahrplanzeitraum: 2018-11-01 bis 2020-12-31", "0 Fehler"]),
        ("gtfs-vbb-berlin-subset-gtfsrouter/berlin_gtfs_vbb_subset.zip",
         ["Haltestellen: 957", "Halte (stop_times): 22.666", "0 Fehler"]),
    ],
)
def test_validate_real_feeds_prints_counts(relative, expected):
    res = run_cli("validate", shared_file(relative))
    assert res.returncode == 0, res.stdout + res.stderr
    for text in expected:
        assert text in res.stdout


def test_validate_several_kinds_at_once():
    paths = [shared_file("vg5000-2021-bkg/VG5000_KRS.shp"),
             shared_file("zensus2011-grid-bayern/zensus2011_1km_einwohner_auslaenderanteil_bayern.csv"),
             shared_file("osm-bayreuth/harsdorf.osm.pbf")]
    res = run_cli("validate", *paths)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Verwaltungsgrenzen: VG5000_KRS.shp" in res.stdout
    assert "Einwohner (Summe): 12.403.851" in res.stdout
    assert "Fußwegenetz (OpenStreetMap): harsdorf.osm.pbf" in res.stdout


def test_validate_exits_1_on_data_errors(tmp_path: Path):
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "stops.txt").write_text("stop_id,stop_name,stop_lat,stop_lon\nA,A,49.0,11.0\n")
    (feed / "routes.txt").write_text("route_id,route_type\nR,3\n")
    (feed / "trips.txt").write_text("route_id,service_id,trip_id\nR,S,T1\n")
    (feed / "calendar_dates.txt").write_text("service_id,date,exception_type\nS,20260310,1\n")
    (feed / "stop_times.txt").write_text(
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "T1,07:00:00,07:00:00,A,1\nT9,07:05:00,07:05:00,A,2\n")
    res = run_cli("validate", feed)
    assert res.returncode == 1
    assert "stop_times.txt Zeile 3: trip_id 'T9' is not in trips.txt" in res.stdout


def test_validate_unknown_kind_of_file(tmp_path: Path):
    odd = tmp_path / "notes.docx"
    odd.write_bytes(b"PK\x03\x04 not really")
    res = run_cli("validate", odd)
    assert res.returncode == 1
    assert "notes.docx" in res.stdout and "ist keine Eingabe, die kurszugang liest" in res.stdout
    assert "Traceback" not in res.stdout + res.stderr


def test_validate_missing_file():
    res = run_cli("validate", "does-not-exist.zip")
    assert res.returncode == 1
    assert "does-not-exist.zip" in res.stdout and "gibt es nicht" in res.stdout
    assert "Traceback" not in res.stdout + res.stderr


def test_the_feed_cache_is_shown_and_cleared(tmp_path: Path, monkeypatch) -> None:
    import os

    from kurszugang.demo import demo_files
    from kurszugang.io.gtfs import read_gtfs

    monkeypatch.setenv("KURSZUGANG_CACHE_DIR", str(tmp_path / "cache"))
    first = read_gtfs(demo_files().gtfs, cache=True)
    again = read_gtfs(demo_files().gtfs, cache=True)  # from the cache
    assert len(again.stop_times) == len(first.stop_times) > 0
    env = {**os.environ, "KURSZUGANG_CACHE_DIR": str(tmp_path / "cache")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "kurszugang", "cache", *args],
                              capture_output=True, text=True, env=env, timeout=120)

    shown = cli()
    assert shown.returncode == 0 and "1 Fahrplan," in shown.stdout
    assert str(tmp_path / "cache") in shown.stdout
    cleared = cli("--clear")
    assert cleared.returncode == 0 and cleared.stdout.startswith("1 Fahrplan aus")
    assert "0 Fahrpläne," in cli().stdout


@pytest.mark.parametrize("args", [["download", "--list"], ["--help"], ["validate", "--help"]])
def test_a_reader_that_goes_away_ends_the_output_quietly(args):
    """``kurszugang … | head``: the pipe closed before the output; no traceback, exit 0."""
    p = subprocess.Popen([sys.executable, "-m", "kurszugang", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    assert p.stdout is not None and p.stderr is not None
    p.stdout.close()
    with p.stderr:
        err = p.stderr.read().decode()
    assert p.wait(timeout=300) == 0
    assert err == ""
