"""``kurszugang matrix`` through the real command line, against the routing contract."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from tests.routing.test_router_random import write_feed


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kurszugang", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture()
def small_feed(tmp_path: Path) -> Path:
    """Stops A and B 5 km apart; trips A 07:10 -> B 07:30 and A 07:40 (no boarding) -> B 08:00."""
    return write_feed(tmp_path / "feed", {
        "agency.txt": [["agency_id", "agency_name", "agency_url", "agency_timezone"],
                       ["A", "Test", "https://example.org", "Europe/Berlin"]],
        "stops.txt": [["stop_id", "stop_name", "stop_lat", "stop_lon"],
                      ["A", "Dorf", "49.000000", "11.000000"],
                      ["B", "Stadt", "49.045000", "11.000000"]],
        "routes.txt": [["route_id", "agency_id", "route_short_name", "route_type"],
                       ["R", "A", "1", 3]],
        "trips.txt": [["route_id", "service_id", "trip_id"], ["R", "WD", "T1"], ["R", "WD", "T2"]],
        "stop_times.txt": [["trip_id", "arrival_time", "departure_time", "stop_id",
                            "stop_sequence", "pickup_type", "drop_off_type"],
                           ["T1", "07:10:00", "07:10:00", "A", 1, 0, 0],
                           ["T1", "07:30:00", "07:30:00", "B", 2, 0, 0],
                           ["T2", "07:40:00", "07:40:00", "A", 1, 1, 0],
                           ["T2", "08:00:00", "08:00:00", "B", 2, 0, 0]],
        "calendar.txt": [["service_id", "monday", "tuesday", "wednesday", "thursday", "friday",
                          "saturday", "sunday", "start_date", "end_date"],
                         ["WD", 1, 1, 1, 1, 1, 0, 0, "20260101", "20261231"]],
    })


def _points(path: Path, rows: list[tuple[str, float, float]]) -> Path:
    path.write_text("id,lon,lat\n" + "".join(f"{i},{lon},{lat}\n" for i, lon, lat in rows))
    return path


def test_matrix_follows_the_contract(small_feed: Path, tmp_path: Path):
    origins = _points(tmp_path / "o.csv", [("dorf", 11.0, 49.0), ("weit", 11.5, 49.0)])
    dests = _points(tmp_path / "d.csv", [("stadt", 11.0, 49.045)])
    out = tmp_path / "m.csv"
    res = run_cli("matrix", "--gtfs", small_feed, "--date", "2026-03-10", "--departure", "07:00",
                  "--window", "10", "--origins", origins, "--destinations", dests, "--out", out,
                  "--percentiles", "5,50,95", "--board-slack", "0")
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(out, dtype={"from_id": str, "to_id": str})
    assert list(table.columns) == ["from_id", "to_id", "travel_time_p5", "travel_time_p50",
                                   "travel_time_p95"]
    # Leaving at 07:00..07:09, all take the 07:10 bus arriving 07:30: 30, 29, ..., 21 minutes.
    # Nearest rank over n = 10: p5 -> rank 1 = 21, p50 -> rank 5 = 25, p95 -> rank 10 = 30.
    dorf = table[table["from_id"] == "dorf"].iloc[0]
    assert (dorf["travel_time_p5"], dorf["travel_time_p50"], dorf["travel_time_p95"]) == (21, 25, 30)
    # 37 km away: no walking leg, no transit: empty cells.
    weit = table[table["from_id"] == "weit"].iloc[0]
    assert weit[["travel_time_p5", "travel_time_p50", "travel_time_p95"]].isna().all()


def test_matrix_window_after_last_boardable_trip(small_feed: Path, tmp_path: Path):
    """T2 forbids boarding at A (pickup_type 1): after 07:10 nothing reaches B within 60 min."""
    origins = _points(tmp_path / "o.csv", [("dorf", 11.0, 49.0)])
    dests = _points(tmp_path / "d.csv", [("stadt", 11.0, 49.045)])
    out = tmp_path / "m.csv"
    res = run_cli("matrix", "--gtfs", small_feed, "--date", "2026-03-10", "--departure", "07:15",
                  "--window", "5", "--origins", origins, "--destinations", dests, "--out", out,
                  "--max-time", "60")
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(out)
    assert table["travel_time_p50"].isna().all()


def test_matrix_date_without_service_names_the_period(small_feed: Path, tmp_path: Path):
    origins = _points(tmp_path / "o.csv", [("dorf", 11.0, 49.0)])
    res = run_cli("matrix", "--gtfs", small_feed, "--date", "2026-03-14", "--departure", "07:00",
                  "--origins", origins, "--destinations", origins, "--out", tmp_path / "m.csv")
    assert res.returncode == 2
    assert "am 2026-03-14 (Samstag) fährt keine Fahrt" in res.stderr
    assert "2026-01-01 bis 2026-12-31" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "m.csv").exists()


def test_matrix_bad_origins_file_names_line_and_column(small_feed: Path, tmp_path: Path):
    origins = tmp_path / "o.csv"
    origins.write_text("id,lon,lat\na,11.0,49.0\nb,11.0,abc\n")
    res = run_cli("matrix", "--gtfs", small_feed, "--date", "2026-03-10", "--departure", "07:00",
                  "--origins", origins, "--destinations", origins, "--out", tmp_path / "m.csv")
    assert res.returncode == 2
    assert "o.csv Zeile 3: lat 'abc' ist keine Zahl" in res.stderr
    assert "Traceback" not in res.stderr


def test_matrix_bad_date_argument(small_feed: Path, tmp_path: Path):
    res = run_cli("matrix", "--gtfs", small_feed, "--date", "31.02.2026", "--departure", "07:00",
                  "--origins", "o.csv", "--destinations", "d.csv", "--out", "m.csv")
    assert res.returncode == 2
    assert "'31.02.2026' ist kein Datum (erwartet JJJJ-MM-TT oder TT.MM.JJJJ)" in res.stderr


def test_isochrones_writes_bands_and_surfaces(small_feed: Path, tmp_path: Path):
    import pyogrio
    import rasterio

    sites = _points(tmp_path / "s.csv", [("kurs", 11.0, 49.045)])
    out = tmp_path / "iso" / "bands.gpkg"
    res = run_cli("isochrones", "--gtfs", small_feed, "--date", "2026-03-10", "--sites", sites,
                  "--arrive-by", "07:35", "--thresholds", "10,30,60", "--resolution", "1000",
                  "--out", out)
    assert res.returncode == 0, res.stderr
    assert "3 Zeitzonen für 1 Kursort " in res.stdout
    bands = pyogrio.read_dataframe(out, layer="einzugsbereiche")
    assert bands.crs.to_epsg() == 25832 and list(bands["band_max"]) == [10, 30, 60]
    # The village 5 km away reaches the site by bus (07:10 -> 07:30): in the 30-minute band.
    dorf = gpd.GeoSeries(gpd.points_from_xy([11.0], [49.0]), crs="EPSG:4326").to_crs(25832)
    band_of_dorf = bands[bands.contains(dorf.iloc[0])]["band_max"].tolist()
    assert band_of_dorf == [30]
    with rasterio.open(out.parent / "bands_flaechen" / "reisezeit_kurs.tif") as tif:
        assert tif.crs.to_epsg() == 3035


def test_isochrones_bad_thresholds(small_feed: Path, tmp_path: Path):
    sites = _points(tmp_path / "s.csv", [("kurs", 11.0, 49.045)])
    res = run_cli("isochrones", "--gtfs", small_feed, "--date", "2026-03-10", "--sites", sites,
                  "--thresholds", "30,15", "--out", tmp_path / "x.gpkg")
    assert res.returncode == 2
    assert "'30,15' ist keine Liste steigender Minuten" in res.stderr


def test_matrix_direct_walk_limit(small_feed: Path, tmp_path: Path):
    """A destination about 1.5 km from the origin and far from any stop: on foot only.

    Without --max-direct-walk-m the direct walk has the limit of --max-walk-m (1,000 m) and the
    cell stays empty; with 3,000 m it is the walk, 1,502.7 m × 1.3 at 4.5 km/h = 26.05 min.
    """
    origins = _points(tmp_path / "o.csv", [("haus", 11.2, 49.0)])
    lon_east = 11.2 + 1500 / (111_320 * 0.65606)  # 1.5 km east at 49° N (cos 49° = 0.656)
    dests = _points(tmp_path / "d.csv", [("kurs", lon_east, 49.0)])
    common = ["matrix", "--gtfs", small_feed, "--date", "2026-03-10", "--departure", "07:00",
              "--window", "5", "--origins", origins, "--destinations", dests]
    plain, walk = tmp_path / "plain.csv", tmp_path / "walk.csv"
    res = run_cli(*common, "--out", plain)
    assert res.returncode == 0, res.stderr
    assert pd.read_csv(plain)["travel_time_p50"].isna().all()
    res = run_cli(*common, "--out", walk, "--max-direct-walk-m", "3000")
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(walk)
    assert list(table.columns) == ["from_id", "to_id", "travel_time_p50"]
    assert table["travel_time_p50"].tolist() == [26]
