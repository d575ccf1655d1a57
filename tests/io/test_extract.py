"""District extraction: the kept trips, integrity, dates, travel times, bad inputs, the command."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from kurszugang.cli import main
from kurszugang.errors import InputError, InputFormatError
from kurszugang.io.boundaries import read_boundaries
from kurszugang.io.extract import extract_feed, parse_bbox, read_area
from kurszugang.io.gtfs import read_gtfs
from kurszugang.routing.router import Points, Router
from tests.conftest import shared_file

_TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)
ZUG_DATE = dt.date(2021, 3, 2)
ZUG_BBOX = (8.45, 47.12, 8.56, 47.21)  # the town of Zug and its lakeside neighbours
WEEK = (dt.date(2021, 3, 1), dt.date(2021, 3, 7))


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def zug_full(zug_feed_path):
    return read_gtfs(zug_feed_path)


@pytest.fixture(scope="module")
def zug_cut(zug_feed_path, tmp_path_factory):
    """The Zug bbox with a 2 km buffer, all dates."""
    out = tmp_path_factory.mktemp("extract") / "zug.zip"
    summary = extract_feed(zug_feed_path, out, bbox=ZUG_BBOX, buffer_km=2)
    return summary, read_gtfs(out), out


@pytest.fixture(scope="module")
def zug_week(zug_feed_path, tmp_path_factory):
    """The same area, one week."""
    out = tmp_path_factory.mktemp("extract") / "zug_week.zip"
    summary = extract_feed(zug_feed_path, out, bbox=ZUG_BBOX, buffer_km=2,
                           start_date=WEEK[0], end_date=WEEK[1])
    return summary, read_gtfs(out)


def _write_feed(folder: Path, files: dict[str, str], *, zipped: bool = True) -> Path:
    """Write GTFS files given as text (``|`` for commas is not used: plain CSV text)."""
    folder.mkdir(parents=True, exist_ok=True)
    if not zipped:
        for name, text in files.items():
            (folder / name).write_text(text)
        return folder
    path = folder / "feed.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


# A small feed around (11.0 E, 49.0 N). Station ST with platform 007 and entrance E1 lies in the
# area; B is 11 km north, C 33 km north, D far away and unused by kept trips.
# T1 (R1, WD, shape SH1): 007 -> B; T3 (R1, WD, frequencies): 007 -> C; T2 (R2, WE): B -> C.
SMALL = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\n"
                  "A1,Eins,https://a1.example,Europe/Berlin\n"
                  "A2,Zwei,https://a2.example,Europe/Berlin\n"
                  "A3,Drei,https://a3.example,Europe/Berlin\n",
    "stops.txt": "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
                 "ST,Bahnhof,49.0000,11.0000,1,\n"
                 "007,Bahnhof Gleis 1,49.0001,11.0001,0,ST\n"
                 "E1,Bahnhof Eingang,49.0002,11.0002,2,ST\n"
                 "B,Nord,49.1000,11.0000,0,\n"
                 "C,Fern,49.3000,11.0000,0,\n"
                 "D,Weit,49.5000,11.5000,0,\n",
    "routes.txt": "route_id,agency_id,route_short_name,route_type\n"
                  "R1,A1,1,3\nR2,A2,2,3\n",
    "trips.txt": "route_id,service_id,trip_id,shape_id\n"
                 "R1,WD,T1,SH1\nR2,WE,T2,SH2\nR1,WD,T3,\n",
    "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                      "T1,7:05:00,7:05:00,007,1\nT1,07:20:00,07:20:00,B,2\n"
                      "T2,08:00:00,08:00:00,B,1\nT2,08:30:00,08:30:00,C,2\n"
                      "T3,09:00:00,09:00:00,007,1\nT3,09:40:00,09:40:00,C,2\n",
    "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
                    "start_date,end_date\n"
                    "WD,1,1,1,1,1,0,0,20260101,20261231\n"
                    "WE,0,0,0,0,0,1,1,20260101,20261231\n",
    "calendar_dates.txt": "service_id,date,exception_type\nWD,20260406,2\nWE,20260406,1\n",
    "shapes.txt": "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\n"
                  "SH1,49.0,11.0,1\nSH1,49.1,11.0,2\nSH2,49.1,11.0,1\nSH2,49.3,11.0,2\n",
    "frequencies.txt": "trip_id,start_time,end_time,headway_secs\n"
                       "T3,09:00:00,12:00:00,1800\nT2,08:00:00,10:00:00,3600\n",
    "transfers.txt": "from_stop_id,to_stop_id,transfer_type,min_transfer_time\n"
                     "007,B,2,120\nB,D,2,300\n",
    "fare_attributes.txt": "fare_id,price,currency_type,payment_method,transfers\n"
                           "F1,2.50,EUR,0,0\n",
}
SMALL_BBOX = (10.99, 48.99, 11.01, 49.01)


def _member(path: Path, name: str) -> list[list[str]]:
    with zipfile.ZipFile(path) as zf, zf.open(name) as fh:
        return list(csv.reader(io.TextIOWrapper(fh, encoding="utf-8")))


@pytest.fixture()
def small_cut(tmp_path):
    feed = _write_feed(tmp_path / "in", SMALL)
    out = tmp_path / "out" / "cut.zip"
    summary = extract_feed(feed, out, bbox=SMALL_BBOX, buffer_km=0.5)
    return summary, out


# --------------------------------------------------------------------------------------------
# What is kept
# --------------------------------------------------------------------------------------------


def test_small_feed_keeps_trips_touching_the_area_and_what_they_refer_to(small_cut):
    summary, out = small_cut
    cut = read_gtfs(out)
    assert sorted(cut.trips["trip_id"]) == ["T1", "T3"]
    # Every stop of the kept trips (also B and C outside), the parent station and its entrance.
    assert sorted(cut.stops["stop_id"]) == ["007", "B", "C", "E1", "ST"]
    assert list(cut.routes["route_id"]) == ["R1"]
    assert list(cut.agency["agency_id"]) == ["A1"]
    assert list(cut.calendar["service_id"]) == ["WD"]
    assert list(cut.calendar_dates["service_id"]) == ["WD"]
    assert list(cut.shapes["shape_id"].unique()) == ["SH1"]
    assert list(cut.frequencies["trip_id"]) == ["T3"]
    assert list(zip(cut.transfers["from_stop_id"], cut.transfers["to_stop_id"],
                    strict=True)) == [("007", "B")]
    assert summary.counts == {
        "agency.txt": (1, 3), "stops.txt": (5, 6), "routes.txt": (1, 2), "trips.txt": (2, 3),
        "stop_times.txt": (4, 6), "calendar.txt": (1, 2), "calendar_dates.txt": (1, 2),
        "frequencies.txt": (1, 2), "transfers.txt": (1, 2), "shapes.txt": (2, 4),
    }
    assert summary.stops_in_area == 3  # ST, 007, E1
    assert summary.skipped_files == ("fare_attributes.txt",)
    with zipfile.ZipFile(out) as zf:
        assert "fare_attributes.txt" not in zf.namelist()


def test_small_feed_values_and_column_order_are_unchanged(small_cut):
    _, out = small_cut
    rows = _member(out, "stop_times.txt")
    assert rows[0] == ["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"]
    # Ids keep their leading zeros and times their one-digit hour, as written in the input.
    assert rows[1:] == [["T1", "7:05:00", "7:05:00", "007", "1"],
                        ["T1", "07:20:00", "07:20:00", "B", "2"],
                        ["T3", "09:00:00", "09:00:00", "007", "1"],
                        ["T3", "09:40:00", "09:40:00", "C", "2"]]
    stops = _member(out, "stops.txt")
    assert stops[0] == ["stop_id", "stop_name", "stop_lat", "stop_lon", "location_type",
                        "parent_station"]
    assert stops[1] == ["ST", "Bahnhof", "49.0000", "11.0000", "1", ""]


def _csv(path: Path, name: str) -> pd.DataFrame:
    with zipfile.ZipFile(path) as zf, zf.open(name) as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def test_zug_area_keeps_exactly_the_trips_stopping_within_the_buffer(zug_feed_path, zug_full,
                                                                     tmp_path):
    # A box in metres around the old town of Zug, with a 1 km buffer.
    cx, cy = _TO_UTM.transform(8.515, 47.168)
    area = shapely.box(cx - 2000, cy - 2000, cx + 2000, cy + 2000)
    out = tmp_path / "a.zip"
    summary = extract_feed(zug_feed_path, out, area=area, buffer_km=1)
    stops = zug_full.stops
    x, y = _TO_UTM.transform(stops["stop_lon"].to_numpy(), stops["stop_lat"].to_numpy())
    near = shapely.distance(area, shapely.points(x, y)) <= 1000
    assert summary.stops_in_area == int(near.sum()) > 50
    st = _csv(zug_feed_path, "stop_times.txt")
    want_trips = set(st.loc[st["stop_id"].isin(stops["stop_id"][near]), "trip_id"])
    assert set(_csv(out, "trips.txt")["trip_id"]) == want_trips
    # Every stop_time of those trips, in the input's columns, with the input's text.
    want = st[st["trip_id"].isin(want_trips)].reset_index(drop=True)
    got = _csv(out, "stop_times.txt")
    pd.testing.assert_frame_equal(got, want)
    assert summary.counts["stop_times.txt"] == (len(want), 198_554)
    assert summary.counts["trips.txt"] == (len(want_trips), 13_884)
    assert summary.counts["stops.txt"][1] == 905


def test_area_as_a_geodataframe_in_degrees_is_reprojected(tmp_path):
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(geometry=[shapely.box(*SMALL_BBOX)], crs="EPSG:4326")
    summary = extract_feed(_write_feed(tmp_path, SMALL), tmp_path / "o.zip", area=gdf,
                           buffer_km=0.5)
    assert summary.stops_in_area == 3
    assert summary.counts["trips.txt"] == (2, 3)


def test_zug_extract_reads_strictly_with_integrity(zug_cut):
    _, cut, _ = zug_cut
    assert cut.report.errors == []
    assert set(cut.stop_times["stop_id"]) <= set(cut.stops["stop_id"])
    assert set(cut.stop_times["trip_id"]) == set(cut.trips["trip_id"])
    assert set(cut.trips["route_id"]) == set(cut.routes["route_id"])
    assert set(cut.routes["agency_id"]) == set(cut.agency["agency_id"])
    services = set(cut.calendar["service_id"]) | set(cut.calendar_dates["service_id"])
    assert set(cut.trips["service_id"]) == services
    kept = set(cut.stops["stop_id"])
    assert set(cut.transfers["from_stop_id"]) | set(cut.transfers["to_stop_id"]) <= kept
    # No transfer of the output was dropped by the reader (the input had 5,916 dangling ones).
    assert not any("transfers" in note for note in cut.report.notes)


def test_zug_summary_counts_match_the_output(zug_cut, zug_full):
    summary, cut, _ = zug_cut
    assert summary.counts["stop_times.txt"] == (len(cut.stop_times), len(zug_full.stop_times))
    assert summary.counts["trips.txt"] == (len(cut.trips), len(zug_full.trips))
    assert summary.counts["stops.txt"] == (len(cut.stops), len(zug_full.stops))
    assert summary.counts["routes.txt"] == (len(cut.routes), len(zug_full.routes))
    assert summary.counts["calendar_dates.txt"] == (len(cut.calendar_dates), 284_499)
    assert summary.counts["transfers.txt"] == (len(cut.transfers), 8_092)
    assert summary.counts["agency.txt"] == (len(cut.agency), 459)
    assert summary.counts["feed_info.txt"] == (1, 1)
    assert list(summary.counts)[:3] == ["agency.txt", "stops.txt", "routes.txt"]
    text = summary.format()
    assert f"{len(cut.stop_times):,}" in text and "198,554" in text


# --------------------------------------------------------------------------------------------
# Travel times inside the area
# --------------------------------------------------------------------------------------------


def test_zug_extract_gives_the_same_travel_times_inside(zug_full, zug_cut):
    """Journeys of at most 35 minutes between points in the middle of the area are unchanged.

    The points lie near stops in 8.48-8.53 E, 47.15-47.18 N, at least 2.3 km inside the box and
    so 4.3 km from the edge of the buffered area: a journey that leaves the area and comes back
    cannot be among the fastest within 35 minutes. The extract keeps all trips stopping inside.
    """
    _, cut, _ = zug_cut
    full = Router(zug_full, ZUG_DATE)
    part = Router(cut, ZUG_DATE)
    xy = full.stop_xy
    x0, y0 = _TO_UTM.transform(8.48, 47.15)
    x1, y1 = _TO_UTM.transform(8.53, 47.18)
    core = np.flatnonzero((xy[:, 0] > x0) & (xy[:, 0] < x1) & (xy[:, 1] > y0) & (xy[:, 1] < y1))
    rng = np.random.default_rng(7)
    orig = Points(np.array([f"o{i}" for i in range(12)], dtype=object),
                  xy[rng.choice(core, 12)] + rng.uniform(-200, 200, size=(12, 2)))
    dest = Points(np.array([f"d{i}" for i in range(40)], dtype=object),
                  xy[rng.choice(core, 40)] + rng.uniform(-200, 200, size=(40, 2)))
    kwargs = {"departure": 7 * 3600, "window": 20, "max_time_min": 35}
    want = full.per_minute(orig, dest, **kwargs)
    got = part.per_minute(orig, dest, **kwargs)
    np.testing.assert_array_equal(got, want)
    assert (want >= 0).mean() > 0.6  # not vacuous: most pairs are reachable within 35 min


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------


def test_date_range_keeps_the_trips_running_in_it(zug_full, zug_cut, zug_week):
    summary, week = zug_week
    _, cut, _ = zug_cut
    days = [WEEK[0] + dt.timedelta(days=i) for i in range(7)]
    running = set().union(*(zug_full.active_service_ids(d) for d in days))
    trips = cut.trips  # trips stopping in the area, any date
    want = set(trips.loc[trips["service_id"].isin(running), "trip_id"])
    assert set(week.trips["trip_id"]) == want
    assert summary.counts["trips.txt"] == (len(want), 13_884)
    assert summary.start_date == WEEK[0] and summary.end_date == WEEK[1]
    # Each day of the range runs exactly the same trips as in the full feed.
    for day in (days[1], days[5]):
        full_day = set(zug_full.trips_on(day)["trip_id"]) & set(trips["trip_id"])
        assert set(week.trips_on(day)["trip_id"]) == full_day


def test_date_range_clips_the_calendar(zug_week):
    _, week = zug_week
    cal, cd = week.calendar, week.calendar_dates
    assert len(cal) > 0
    assert cal["start_date"].min() >= pd.Timestamp(WEEK[0])
    assert cal["end_date"].max() <= pd.Timestamp(WEEK[1])
    assert cd["date"].between(pd.Timestamp(WEEK[0]), pd.Timestamp(WEEK[1])).all()
    assert week.service_period() == WEEK
    assert week.active_service_ids(WEEK[1] + dt.timedelta(days=1)) == frozenset()


def test_open_start_date_keeps_everything_up_to_the_end(tmp_path):
    out = tmp_path / "o.zip"
    summary = extract_feed(_write_feed(tmp_path, SMALL), out, bbox=SMALL_BBOX, buffer_km=0.5,
                           end_date="2026-03-31")
    assert summary.start_date is None and summary.end_date == dt.date(2026, 3, 31)
    # The calendar keeps its start and ends on the end date; the exception after it is gone.
    assert _member(out, "calendar.txt")[1:] == [
        ["WD", "1", "1", "1", "1", "1", "0", "0", "20260101", "20260331"]]
    assert _member(out, "calendar_dates.txt")[1:] == []
    assert summary.counts["trips.txt"] == (2, 3)


# --------------------------------------------------------------------------------------------
# Inputs of other shapes
# --------------------------------------------------------------------------------------------


def test_folder_feed_with_bom_and_cp1252_is_read_and_written_as_utf8(tmp_path, caplog):
    files = dict(SMALL)
    folder = _write_feed(tmp_path / "in", files, zipped=False)
    (folder / "stops.txt").write_bytes(b"\xef\xbb\xbf" + SMALL["stops.txt"].replace(
        "Bahnhof,", "Bahnhofstra\xdfe,").encode("cp1252"))
    out = tmp_path / "cut.zip"
    with caplog.at_level(logging.WARNING, logger="kurszugang.io.extract"):
        summary = extract_feed(folder, out, bbox=SMALL_BBOX, buffer_km=0.5)
    assert summary.counts["stops.txt"] == (5, 6)
    assert "stops.txt ist nicht UTF-8; gelesen als Windows-1252" in caplog.text
    stops = _member(out, "stops.txt")
    assert stops[0][0] == "stop_id"  # the byte-order mark is gone
    assert stops[1][:2] == ["ST", "Bahnhofstraße"]


def test_read_area_from_geojson_in_degrees(tmp_path):
    path = tmp_path / "area.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": "Zug"},
        "geometry": {"type": "Polygon", "coordinates": [[
            [8.45, 47.12], [8.56, 47.12], [8.56, 47.21], [8.45, 47.21], [8.45, 47.12]]]}}]}))
    area = read_area(path)
    corners = np.array([[8.45, 47.12], [8.56, 47.12], [8.56, 47.21], [8.45, 47.21]])
    want = shapely.Polygon(np.column_stack(_TO_UTM.transform(corners[:, 0], corners[:, 1])))
    assert area.symmetric_difference(want).area < 1.0  # m², the same polygon in EPSG:25832
    assert 80e6 < area.area < 87e6  # about 8.3 km x 10 km


def test_read_area_of_a_kreis_is_the_union_of_its_gemeinden():
    path = shared_file("vg5000-2021-bkg/VG5000_GEM.shp")
    area = read_area(path, kreis="09187")
    gem = read_boundaries(path, kreis="09187")
    assert area.area == pytest.approx(gem.geometry.area.sum(), rel=1e-6)
    assert 1.3e9 < area.area < 1.6e9  # Landkreis Rosenheim, about 1,440 km²


# --------------------------------------------------------------------------------------------
# Bad inputs: one per test, asserting the message
# --------------------------------------------------------------------------------------------


def test_missing_feed(tmp_path):
    with pytest.raises(InputFormatError, match=r"nofeed\.zip: gibt es nicht \(erwartet ein GTFS"):
        extract_feed(tmp_path / "nofeed.zip", tmp_path / "o.zip", bbox=SMALL_BBOX)


def test_feed_that_is_not_a_zip(tmp_path):
    path = tmp_path / "feed.zip"
    path.write_text("not a zip")
    with pytest.raises(InputFormatError, match=r"feed\.zip: ist weder ein Zip-Archiv noch ein Ordner"):
        extract_feed(path, tmp_path / "o.zip", bbox=SMALL_BBOX)


def test_feed_without_stop_times(tmp_path):
    files = {k: v for k, v in SMALL.items() if k != "stop_times.txt"}
    feed = _write_feed(tmp_path, files)
    with pytest.raises(InputFormatError,
                       match=r"feed\.zip: stop_times\.txt fehlt: eine Pflichtdatei von GTFS"):
        extract_feed(feed, tmp_path / "o.zip", bbox=SMALL_BBOX)


def test_area_without_stops_names_the_feed_extent(zug_feed_path, tmp_path):
    with pytest.raises(InputError) as err:
        extract_feed(zug_feed_path, tmp_path / "o.zip", bbox=(11.0, 49.0, 11.1, 49.1),
                     buffer_km=0)
    assert str(err.value) == (
        "gtfs_ch_zg_2021.zip: das Gebiet (mit 0 km Puffer) enthält keine der 905 Haltestellen "
        "des Fahrplans; seine Haltestellen liegen bei lon 7,5896 bis 12,3205, lat 44,5061 bis "
        "47,6983")
    assert not (tmp_path / "o.zip").exists() and not (tmp_path / "o.zip.part").exists()


def test_start_after_end(tmp_path):
    with pytest.raises(InputError, match="das Startdatum 2021-03-07 liegt nach dem Enddatum 2021-03-01"):
        extract_feed(tmp_path / "x.zip", tmp_path / "o.zip", bbox=SMALL_BBOX,
                     start_date=dt.date(2021, 3, 7), end_date=dt.date(2021, 3, 1))


def test_date_range_outside_the_service_period(zug_feed_path, tmp_path):
    with pytest.raises(InputError, match=r"von 2030-01-01 bis 2030-01-31 fährt keine Fahrt; die "
                       r"Verkehrstage des Fahrplans reichen von 2020-12-13 bis 2021-12-11"):
        extract_feed(zug_feed_path, tmp_path / "o.zip", bbox=ZUG_BBOX,
                     start_date="2030-01-01", end_date="2030-01-31")


def test_bad_start_date_text(tmp_path):
    # Dates are read by kurszugang.dates: ISO or German (1.3.2021 is a date); 31.2.2021 is not.
    with pytest.raises(InputError, match=r"das Startdatum '31\.2\.2021' ist kein Datum \(erwartet "
                       r"JJJJ-MM-TT oder TT\.MM\.JJJJ\)"):
        extract_feed(tmp_path / "x.zip", tmp_path / "o.zip", bbox=SMALL_BBOX,
                     start_date="31.2.2021")


def test_german_dates_are_read(tmp_path):
    out = tmp_path / "o.zip"
    summary = extract_feed(_write_feed(tmp_path, SMALL), out, bbox=SMALL_BBOX, buffer_km=0.5,
                           start_date="1.3.2026", end_date="31.03.2026")
    assert (summary.start_date, summary.end_date) == (dt.date(2026, 3, 1), dt.date(2026, 3, 31))


def test_bbox_text_with_three_numbers():
    with pytest.raises(InputError, match=r"bbox '8\.4,47\.1,8\.5' ist kein Rechteck: "
                       r"erwartet 4 Zahlen MINLON,MINLAT,MAXLON,MAXLAT"):
        parse_bbox("8.4,47.1,8.5")


def test_bbox_text_reversed():
    with pytest.raises(InputError, match=r"bbox 8\.5,47\.1,8\.4,47\.2 ist leer: erwartet "
                       r"MINLON < MAXLON"):
        parse_bbox("8.5,47.1,8.4,47.2")


def test_bbox_text_latitude_first():
    with pytest.raises(InputError, match=r"bbox 47\.1,8\.4,47\.2,95 liegt außerhalb der Erde"):
        parse_bbox("47.1,8.4,47.2,95")


def test_area_and_bbox_both(tmp_path):
    with pytest.raises(InputError, match="entweder als area .* oder als bbox .* angeben, nicht beides"):
        extract_feed(tmp_path / "x.zip", tmp_path / "o.zip", bbox=SMALL_BBOX,
                     area=shapely.box(0, 0, 1000, 1000))


def test_area_neither(tmp_path):
    with pytest.raises(InputError, match="entweder als area .* oder als bbox .* angeben, nicht keines von beiden"):
        extract_feed(tmp_path / "x.zip", tmp_path / "o.zip")


def test_area_in_degrees(tmp_path):
    with pytest.raises(InputError, match=r"die Grenzen von area 8\.45,47\.12,8\.56,47\.21 sehen "
                       r"nach Grad aus: erwartet EPSG:25832"):
        extract_feed(tmp_path / "x.zip", tmp_path / "o.zip", area=shapely.box(*ZUG_BBOX))


def test_negative_buffer(tmp_path):
    with pytest.raises(InputError, match=r"der Puffer -1 km ist keine Entfernung: erwartet 0 km oder mehr"):
        extract_feed(tmp_path / "x.zip", tmp_path / "o.zip", bbox=SMALL_BBOX, buffer_km=-1)


def test_bad_stop_coordinate(tmp_path):
    files = dict(SMALL, **{"stops.txt": SMALL["stops.txt"].replace("49.0001", "abc")})
    with pytest.raises(InputError, match=r"^stops\.txt line 3: stop_lat 'abc' ist keine Zahl$"):
        extract_feed(_write_feed(tmp_path, files), tmp_path / "o.zip", bbox=SMALL_BBOX)


def test_missing_required_column(tmp_path):
    files = dict(SMALL, **{"trips.txt": "route_id,trip_id\nR1,T1\n"})
    with pytest.raises(InputError, match=r"^trips\.txt line 1: service_id fehlt \(eine "
                       r"Pflichtspalte\)$"):
        extract_feed(_write_feed(tmp_path, files), tmp_path / "o.zip", bbox=SMALL_BBOX)


def test_bad_calendar_date_with_a_date_range(tmp_path):
    files = dict(SMALL, **{"calendar.txt": SMALL["calendar.txt"].replace("20260101,20261231\nWE",
                                                                          "2026-01-01,20261231\nWE")})
    with pytest.raises(InputError, match=r"^calendar\.txt line 2: start_date '2026-01-01' ist "
                       r"kein Datum \(erwartet JJJJMMTT"):
        extract_feed(_write_feed(tmp_path, files), tmp_path / "o.zip", bbox=SMALL_BBOX,
                     start_date="2026-03-01", end_date="2026-03-31")


def test_bad_csv_record(tmp_path):
    files = dict(SMALL, **{"stop_times.txt": SMALL["stop_times.txt"] + "T3,10:00:00\n"})
    with pytest.raises(InputFormatError, match=r"^stop_times\.txt line 8: lässt sich nicht als "
                       r"CSV lesen: Expected 5 columns, got 2"):
        extract_feed(_write_feed(tmp_path, files), tmp_path / "o.zip", bbox=SMALL_BBOX)


def test_no_trip_stops_in_the_area(tmp_path):
    # D is a stop inside the area, but no trip serves it.
    with pytest.raises(InputError, match=r"feed\.zip: keine Fahrt hält an den 1 Haltestellen im"):
        extract_feed(_write_feed(tmp_path, SMALL), tmp_path / "o.zip",
                     bbox=(11.49, 49.49, 11.51, 49.51), buffer_km=0)


def test_read_area_without_polygons(tmp_path):
    path = tmp_path / "points.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {}, "geometry": {"type": "Point",
                                                          "coordinates": [8.5, 47.1]}}]}))
    with pytest.raises(InputError, match=r"points\.geojson: hat keine Polygone \(gefunden: Point\)"):
        read_area(path)


def test_read_area_missing_file(tmp_path):
    with pytest.raises(InputFormatError, match=r"gone\.geojson: gibt es nicht"):
        read_area(tmp_path / "gone.geojson")


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kurszugang", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_cli_extract_prints_the_counts(small_cut, tmp_path):
    summary, _ = small_cut
    feed = _write_feed(tmp_path / "in", SMALL)
    out = tmp_path / "cli.zip"
    res = _cli("extract", feed, "--bbox", "10.99,48.99,11.01,49.01", "--buffer-km", "0.5",
               "--out", out)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith(f"wrote {out} in ")
    assert lines[0].endswith("3 stops inside the area (buffer 0.5 km)")
    printed = {ln.split()[0]: tuple(int(v.replace(",", "")) for v in ln.split()[1:])
               for ln in lines[2:-1]}
    assert printed == summary.counts
    assert lines[-1] == "  not copied: fare_attributes.txt"
    assert read_gtfs(out).report.errors == []


def test_cli_extract_with_an_area_file_and_dates(tmp_path):
    feed = _write_feed(tmp_path / "in", SMALL)
    area = tmp_path / "area.geojson"
    area.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [[
            [10.99, 48.99], [11.01, 48.99], [11.01, 49.01], [10.99, 49.01], [10.99, 48.99]]]}}]}))
    # 2026-04-07 is a Tuesday: WD runs; its exception on 2026-04-06 lies outside the range.
    res = _cli("extract", feed, "--area", area, "--buffer-km", "0.5", "--start-date",
               "2026-04-07", "--end-date", "2026-04-07", "--out", tmp_path / "o.zip")
    assert res.returncode == 0, res.stderr
    counts = {ln.split()[0]: ln.split()[1:] for ln in res.stdout.splitlines()[2:]}
    assert counts["calendar.txt"] == ["1", "2"]
    assert counts["calendar_dates.txt"] == ["0", "2"]
    line = next(ln for ln in res.stdout.splitlines() if ln.strip().startswith("trips.txt"))
    assert line.split() == ["trips.txt", "2", "3"]


def test_cli_bad_bbox_is_one_line_exit_2(tmp_path):
    res = _cli("extract", tmp_path / "feed.zip", "--bbox", "8.45,47.12,8.56", "--out",
               tmp_path / "o.zip")
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        "kurszugang: Fehler: bbox '8.45,47.12,8.56' ist kein Rechteck: erwartet 4 Zahlen "
        "MINLON,MINLAT,MAXLON,MAXLAT in Grad (WGS84), z. B. 8.45,47.12,8.56,47.21"]


def test_cli_kreis_needs_boundaries(tmp_path, capsys):
    code = main(["extract", str(tmp_path / "feed.zip"), "--kreis", "09187", "--out",
                 str(tmp_path / "o.zip")])
    assert code == 2
    assert capsys.readouterr().err == ("kurszugang: Fehler: --kreis braucht --boundaries FILE (z. B. "
                                       "die VG250-Gemeinden)\n")


# --------------------------------------------------------------------------------------------
# Streaming: blocks of whole trips, files not grouped by trip, other encodings
# --------------------------------------------------------------------------------------------


def _extract_frames(path: Path) -> dict[str, pd.DataFrame]:
    return {name: _csv(path, name).sort_values(list(_csv(path, name).columns))
            .reset_index(drop=True)
            for name in ("stop_times.txt", "trips.txt", "stops.txt", "calendar_dates.txt")}


def test_many_small_blocks_extract_the_same(zug_feed_path, zug_cut, tmp_path, monkeypatch):
    from kurszugang.io import _feedfiles

    monkeypatch.setattr(_feedfiles, "BLOCK_BYTES", 256 << 10)
    out = tmp_path / "blocks.zip"
    summary = extract_feed(zug_feed_path, out, bbox=ZUG_BBOX, buffer_km=2)
    assert summary.counts == zug_cut[0].counts
    for name, frame in _extract_frames(out).items():
        pd.testing.assert_frame_equal(frame, _extract_frames(zug_cut[2])[name], obj=name)


def test_stop_times_not_grouped_by_trip_are_read_twice(zug_feed_path, zug_cut, tmp_path,
                                                        monkeypatch, caplog):
    import random

    from kurszugang.io import _feedfiles

    monkeypatch.setattr(_feedfiles, "BLOCK_BYTES", 1 << 20)
    src = zipfile.ZipFile(zug_feed_path)
    shuffled = tmp_path / "shuffled.zip"
    with zipfile.ZipFile(shuffled, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "stop_times.txt":
                header, *rows = data.decode().splitlines()
                random.Random(3).shuffle(rows)
                data = "\n".join([header, *rows, ""]).encode()
            zf.writestr(info.filename, data)
    out = tmp_path / "cut.zip"
    with caplog.at_level(logging.INFO, logger="kurszugang.io.extract"):
        summary = extract_feed(shuffled, out, bbox=ZUG_BBOX, buffer_km=2)
    assert ("stop_times.txt ist nicht nach Fahrten geordnet und wird zweimal "
            "gelesen") in caplog.text
    assert summary.counts == zug_cut[0].counts
    for name, frame in _extract_frames(out).items():
        pd.testing.assert_frame_equal(frame, _extract_frames(zug_cut[2])[name], obj=name)


def test_utf16_input_is_written_as_utf8(tmp_path, caplog):
    folder = _write_feed(tmp_path / "in", SMALL, zipped=False)
    (folder / "stops.txt").write_bytes(SMALL["stops.txt"].replace(
        "Bahnhof,", "Bahnhofstraße,").encode("utf-16"))
    out = tmp_path / "cut.zip"
    with caplog.at_level(logging.WARNING, logger="kurszugang.io.extract"):
        summary = extract_feed(folder, out, bbox=SMALL_BBOX, buffer_km=0.5)
    assert summary.counts["stops.txt"] == (5, 6)
    assert ("stops.txt ist UTF-16 (little-endian), mit Byte-Order-Mark, nicht UTF-8, wie GTFS "
            "verlangt; gelesen als UTF-16 und wird als UTF-8 geschrieben") in caplog.text
    assert _member(out, "stops.txt")[1][:2] == ["ST", "Bahnhofstraße"]


def test_many_calendar_dates_in_the_range_are_read_again_with_the_same_result(
    zug_feed_path, tmp_path, monkeypatch
):
    from kurszugang.io import extract

    held = tmp_path / "held.zip"
    extract_feed(zug_feed_path, held, bbox=ZUG_BBOX, buffer_km=2, start_date=WEEK[0],
                 end_date=WEEK[1])
    monkeypatch.setattr(extract, "_HELD_DATES", 10)  # more rows than that: a second pass
    again = tmp_path / "again.zip"
    summary = extract_feed(zug_feed_path, again, bbox=ZUG_BBOX, buffer_km=2,
                           start_date=WEEK[0], end_date=WEEK[1])
    pd.testing.assert_frame_equal(_csv(again, "calendar_dates.txt"),
                                  _csv(held, "calendar_dates.txt"))
    kept, total = summary.counts["calendar_dates.txt"]
    assert total == 284_499 and kept == len(_csv(held, "calendar_dates.txt")) > 0
