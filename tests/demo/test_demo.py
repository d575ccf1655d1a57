"""The fictional demo district Landkreis Beispiel: generator, bundled files, texture, demo run."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from kurszugang.demo import (
    COURSES_AS_OF,
    DATA_DIR,
    DEFAULT_SEED,
    EVENING_GAP_GEMEINDE,
    FEED_END,
    FEED_START,
    HOLIDAY_WEEKDAY,
    MITTELZENTRUM_AGS,
    ON_DEMAND_ROUTE_ID,
    PUBLIC_HOLIDAYS,
    SATURDAY,
    SCHOOL_AND_RUFBUS_GEMEINDE,
    SCHOOL_DAY,
    SCHOOL_HOLIDAYS,
    SCHOOL_SERVICE_ID,
    SUNDAY,
    demo_files,
)
from kurszugang.demo.generate import generate, main
from kurszugang.demo.run import run_demo
from kurszugang.io.gtfs import Feed

BUNDLED = demo_files()
FILE_NAMES = [p.name for p in BUNDLED.all()]
#: The generated data (the config beside them names files, not data: the same for every seed).
DATA_NAMES = [n for n in FILE_NAMES if n != BUNDLED.config.name]
OTHER_SEED = 4711
HOUR = 3600


# --------------------------------------------------------------------------------------------
# fixtures: generations and the readers' view of the bundled files


@pytest.fixture(scope="module")
def gen_a(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen_a")
    generate(out, seed=DEFAULT_SEED)
    return out


@pytest.fixture(scope="module")
def gen_b(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen_b")
    generate(out)  # the default seed
    return out


@pytest.fixture(scope="module")
def gen_other(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen_other")
    # through the command line entry point (python -m kurszugang.demo.generate)
    assert main(["--out", str(out), "--seed", str(OTHER_SEED)]) == 0
    return out


@pytest.fixture(scope="module")
def feed() -> Feed:
    from kurszugang.io.gtfs import read_gtfs

    return read_gtfs(BUNDLED.gtfs)


@pytest.fixture(scope="module")
def gemeinden() -> gpd.GeoDataFrame:
    from kurszugang.io.boundaries import read_boundaries

    return read_boundaries(BUNDLED.boundaries)


@pytest.fixture(scope="module")
def stops_ags(feed: Feed, gemeinden: gpd.GeoDataFrame) -> pd.DataFrame:
    """stop_id -> AGS of the Gemeinde the stop lies in."""
    pts = gpd.GeoDataFrame(
        {"stop_id": feed.stops["stop_id"].astype(str).to_numpy()},
        geometry=gpd.points_from_xy(feed.stops["stop_lon"], feed.stops["stop_lat"]),
        crs="EPSG:4326",
    ).to_crs("EPSG:25832")
    joined = gpd.sjoin(pts, gemeinden[["ags", "geometry"]], how="left", predicate="within")
    return joined[["stop_id", "ags"]].reset_index(drop=True)


def _stop_times_with_ags(feed, stops_ags: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    trips = feed.trips_on(day)[["trip_id", "route_id", "service_id"]].astype(str)
    st = feed.stop_times[["trip_id", "stop_id", "stop_sequence", "departure_time"]].astype(
        {"trip_id": str, "stop_id": str}
    )
    return st.merge(trips, on="trip_id").merge(stops_ags, on="stop_id", how="left")


# --------------------------------------------------------------------------------------------
# determinism and the bundled files


def test_same_seed_gives_byte_identical_files(gen_a: Path, gen_b: Path) -> None:
    for name in FILE_NAMES:
        a, b = (gen_a / name).read_bytes(), (gen_b / name).read_bytes()
        assert len(a) > 0, name
        assert a == b, f"{name} differs between two generations with the same seed"


def _zip_members(path: Path) -> list[tuple[str, tuple[int, ...], int, bytes]]:
    with zipfile.ZipFile(path) as zf:
        return [(i.filename, i.date_time, i.CRC, zf.read(i)) for i in zf.infolist()]


def _gpkg_content(path: Path) -> dict[str, object]:
    """Everything a GeoPackage holds that is not GDAL's own bookkeeping: layers, fields,
    values, geometries (WKB), CRS and the gpkg_contents rows."""
    content: dict[str, object] = {}
    for name, _ in pyogrio.list_layers(path):
        df = pyogrio.read_dataframe(path, layer=name)
        content[name] = (
            df.drop(columns="geometry").to_dict("list"),
            shapely.to_wkb(df.geometry.to_numpy()).tolist(),
            df.crs.to_epsg(),
        )
    with sqlite3.connect(path) as con:
        content["gpkg_contents"] = con.execute(
            "SELECT table_name, data_type, identifier, description, last_change, min_x, min_y, "
            "max_x, max_y, srs_id FROM gpkg_contents ORDER BY table_name"
        ).fetchall()
    return content


def test_bundled_files_equal_a_fresh_generation(gen_a: Path) -> None:
    # Text files must be byte-identical. The zip is compared member by member (name, time,
    # CRC, content) and the GeoPackage by content, because their compressed or SQLite bytes
    # also depend on the zlib and GDAL builds installed, not only on the generator.
    for name in FILE_NAMES:
        fresh, bundled = gen_a / name, DATA_DIR / name
        assert bundled.exists(), f"bundled file missing: {bundled}"
        if name.endswith(".zip"):
            assert _zip_members(fresh) == _zip_members(bundled), name
        elif name.endswith(".gpkg"):
            assert _gpkg_content(fresh) == _gpkg_content(bundled), name
        else:
            assert fresh.read_bytes() == bundled.read_bytes(), (
                f"{name} differs from a fresh generation: run "
                "python -m kurszugang.demo.generate --out kurszugang/demo/data"
            )


def test_another_seed_gives_different_files(gen_a: Path, gen_other: Path) -> None:
    assert (gen_other / BUNDLED.config.name).read_bytes() == BUNDLED.config.read_bytes()
    for name in DATA_NAMES:
        assert (gen_a / name).read_bytes() != (gen_other / name).read_bytes(), name
    assert f"--seed {OTHER_SEED}" in (gen_other / "README.md").read_text(encoding="utf-8")


def test_generate_rejects_a_negative_seed(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="seed must be a non-negative integer, got -1"):
        generate(tmp_path, seed=-1)
    assert list(tmp_path.iterdir()) == []


def test_generate_command_rejects_a_negative_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--out", str(tmp_path), "--seed", "-5"])
    assert exc.value.code == 2
    assert "--seed must be a non-negative integer" in capsys.readouterr().err


def test_bundled_files_are_small() -> None:
    sizes = {p.name: p.stat().st_size for p in BUNDLED.all()}
    assert sum(sizes.values()) < 5_000_000, sizes
    assert min(v for k, v in sizes.items() if k in DATA_NAMES) > 1_000, sizes


def test_other_seed_files_pass_their_validators(gen_other: Path) -> None:
    from kurszugang.io import validate

    files = demo_files(gen_other)
    for kind, path in [("boundaries", files.boundaries), ("gtfs", files.gtfs),
                       ("courses", files.courses), ("osm", files.osm),
                       ("population", files.population)]:
        report = validate(path, kind=kind)
        assert report.errors == [], f"{path.name}: {report.format()}"
        assert report.warnings == [], f"{path.name}: {report.format()}"


# --------------------------------------------------------------------------------------------
# the inputs through the package's readers


def test_feed_passes_validation_without_errors_or_warnings() -> None:
    from kurszugang.io.gtfs import validate_gtfs

    report = validate_gtfs(BUNDLED.gtfs)
    assert report.errors == []
    assert report.warnings == []
    assert report.counts["routes"] == 9
    assert report.counts["service period"] == f"{FEED_START} to {FEED_END}"


def test_feed_covers_the_timetable_year(feed: Feed) -> None:
    assert feed.service_period() == (FEED_START, FEED_END)
    info = feed.feed_info.iloc[0]
    assert (str(info["feed_start_date"]), str(info["feed_end_date"])) == ("20251214", "20261212")
    stop_ids = feed.stops["stop_id"].astype(str)
    assert stop_ids.str.fullmatch(r"de:09999:\d{4}").all()
    assert feed.stops["stop_name"].astype(str).str.fullmatch(r"[^,]+, [^,]+").all()


def test_boundaries_pass_their_reader(gemeinden: gpd.GeoDataFrame) -> None:
    from kurszugang.io.boundaries import read_boundaries, validate_boundaries

    report = validate_boundaries(BUNDLED.boundaries)
    assert report.errors == [] and report.warnings == []
    gem = gemeinden
    assert 18 <= len(gem) <= 22
    assert gem.crs.to_epsg() == 25832
    assert gem["ags"].str.fullmatch(r"09999\d{3}").all()
    assert gem["ars"].str.fullmatch(r"09999\d{7}").all()
    assert (gem["ars"].str[:5] + gem["ars"].str[9:] == gem["ags"]).all()
    assert set(gem["bez"]) == {"Große Kreisstadt", "Stadt", "Markt", "Gemeinde"}
    assert (gem["gf"] == 4).all()
    assert gem["kreis"].eq("09999").all()
    mz = gem.loc[gem["ags"] == MITTELZENTRUM_AGS].iloc[0]
    assert mz["bez"] == "Große Kreisstadt"
    assert 14_000 <= int(mz["ewz"]) <= 16_000
    assert gem["bez"].isin(["Stadt", "Markt"]).sum() == 3
    # 2-3 Verwaltungsgemeinschaften of at least two Gemeinden each (Verband keys 5xxx)
    verband = gem["ars"].str[5:9]
    vg_sizes = verband[verband.str.startswith("5")].value_counts()
    assert 2 <= len(vg_sizes) <= 3 and (vg_sizes >= 2).all()
    kreis = read_boundaries(BUNDLED.boundaries, layer="vg250_krs")
    assert kreis["ags"].tolist() == ["09999"]
    assert kreis["gen"].iloc[0] == "Landkreis Beispiel (fiktiv)"
    assert int(kreis["ewz"].iloc[0]) == int(gem["ewz"].sum())


def test_gemeinden_tile_the_district_without_gaps_or_overlaps(
    gemeinden: gpd.GeoDataFrame,
) -> None:
    from kurszugang.io.boundaries import read_boundaries

    geoms = gemeinden.geometry.to_numpy()
    assert shapely.is_valid(geoms).all()
    assert shapely.coverage_is_valid(geoms)
    kreis = read_boundaries(BUNDLED.boundaries, layer="vg250_krs").geometry.iloc[0]
    union = shapely.coverage_union_all(geoms)
    assert abs(union.area - kreis.area) < 1.0
    assert shapely.symmetric_difference(union, kreis).area < 1.0
    assert abs(shapely.area(geoms).sum() - kreis.area) < 1.0
    # a plausible rural district of about 35 x 30 km
    xmin, ymin, xmax, ymax = kreis.bounds
    assert 30_000 < xmax - xmin < 45_000 and 25_000 < ymax - ymin < 40_000


def test_courses_pass_their_reader_with_the_realistic_mix() -> None:
    from kurszugang.io.courses import read_courses, validate_courses

    report = validate_courses(BUNDLED.courses)
    assert report.errors == [] and report.warnings == []
    assert BUNDLED.courses.read_bytes().startswith(b"\xef\xbb\xbfsite_id;provider;site_name;")
    cl = read_courses(BUNDLED.courses)
    sites, courses = cl.sites, cl.courses
    assert 6 <= len(sites) <= 10
    assert 3 <= sites["provider"].nunique() <= 4
    assert cl.as_of == COURSES_AS_OF
    assert {"allgemein", "intensiv", "jugend", "eltern", "alpha"} <= set(courses["course_type"])
    assert set(courses["schedule"]) == {"vollzeit", "teilzeit", "abend"}
    evening = courses.loc[courses["schedule"] == "abend"]
    assert len(evening) >= 1 and (evening["start_time"] >= 17 * HOUR).all()
    morning_part = courses.loc[
        (courses["schedule"] == "teilzeit") & (courses["end_time"] <= 13 * HOUR)
    ]
    assert len(morning_part) >= 1
    # general full-time courses in the Mittelzentrum
    from kurszugang.io.boundaries import read_boundaries

    gem = read_boundaries(BUNDLED.boundaries)
    site_ags = gpd.sjoin(sites, gem[["ags", "bez", "geometry"]], predicate="within")
    full_general = courses.loc[
        (courses["course_type"] == "allgemein") & (courses["schedule"] == "vollzeit"), "site_id"
    ]
    in_mz = site_ags.loc[site_ags["ags"] == MITTELZENTRUM_AGS, "site_id"]
    assert full_general.isin(in_mz).sum() >= 2
    # exactly one site with childcare, with the parents' course, in a small town
    care = site_ags.loc[site_ags["has_childcare"]]
    assert len(care) == 1
    assert care["bez"].iloc[0] in ("Stadt", "Markt")
    parents = courses.loc[courses["course_type"] == "eltern"]
    assert parents["childcare"].all() and set(parents["site_id"]) == set(care["site_id"])
    # capacities within the BAMF maxima, free places, next starts in 2026/2027 after the stand
    maximum = {"allgemein": 25, "intensiv": 20, "jugend": 20, "eltern": 23, "frauen": 23,
               "alpha": 16, "zweitschrift": 16, "foerder": 23}
    assert (courses["capacity"] <= courses["course_type"].map(maximum)).all()
    assert ((courses["free_places"] >= 0) & (courses["free_places"] <= courses["capacity"])).all()
    assert (courses["free_places"] == 0).any()
    starts = courses["next_start"]
    assert (starts > pd.Timestamp(COURSES_AS_OF)).all()
    assert set(starts.dt.year) <= {2026, 2027}


def test_population_grid_passes_its_reader_and_sums_to_the_ewz(
    gemeinden: gpd.GeoDataFrame,
) -> None:
    from kurszugang.io.population import read_population_grid, validate_population_grid

    report = validate_population_grid(BUNDLED.population)
    assert report.errors == [] and report.warnings == []
    header = BUNDLED.population.read_text(encoding="utf-8").splitlines()[0]
    assert header == "Gitter_ID_100m;x_mp_100m;y_mp_100m;Einwohner;Auslaender"
    grid = read_population_grid(BUNDLED.population)
    assert grid.crs.to_epsg() == 3035
    assert (grid["resolution_m"] == 100).all()
    assert grid["cell_id"].str.fullmatch(r"CRS3035RES100mN\d+E\d+").all()
    assert ((grid["x"] % 100 == 50) & (grid["y"] % 100 == 50)).all()
    assert (grid["foreigners"] <= grid["inhabitants"]).all()
    centres = gpd.GeoDataFrame(
        grid[["inhabitants", "foreigners"]],
        geometry=gpd.points_from_xy(grid["x"], grid["y"]), crs="EPSG:3035",
    ).to_crs("EPSG:25832")
    joined = gpd.sjoin(centres, gemeinden[["ags", "geometry"]], predicate="within")
    assert len(joined) == len(grid)  # every inhabited cell lies in the district
    per_gem = joined.groupby("ags")[["inhabitants", "foreigners"]].sum()
    ewz = gemeinden.set_index("ags")["ewz"].astype(float)
    pd.testing.assert_series_equal(
        per_gem["inhabitants"].sort_index(), ewz.sort_index(), check_names=False
    )
    share = per_gem["foreigners"] / per_gem["inhabitants"]
    total_share = per_gem["foreigners"].sum() / per_gem["inhabitants"].sum()
    assert 0.08 <= total_share <= 0.15
    towns = gemeinden.loc[gemeinden["bez"] != "Gemeinde", "ags"]
    assert share.loc[towns].mean() > share.drop(towns).mean()
    # concentrated in the places: a tenth of the cells hold most of the people
    top = np.sort(grid["inhabitants"].to_numpy())[::-1]
    assert top[: len(top) // 10].sum() > 0.4 * top.sum()


def test_osm_network_passes_its_reader_and_stops_stand_by_a_street(feed: Feed) -> None:
    from kurszugang.io.courses import read_courses
    from kurszugang.io.osm import read_walk_network

    text = BUNDLED.osm.read_text(encoding="utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6"')
    net = read_walk_network(BUNDLED.osm)
    assert net.report.errors == [] and net.report.warnings == []
    assert int(net.component_labels().max()) == 0  # one connected network
    kinds = set(np.unique(net.edge_highway).tolist())
    assert {"residential", "footway", "secondary", "tertiary", "track"} <= kinds
    stops = gpd.GeoSeries(
        gpd.points_from_xy(feed.stops["stop_lon"], feed.stops["stop_lat"]), crs="EPSG:4326"
    ).to_crs("EPSG:25832")
    sites = read_courses(BUNDLED.courses).sites.geometry
    nodes = np.column_stack([net.x, net.y])
    for points in (stops, sites):
        xy = shapely.get_coordinates(points.to_numpy())
        nearest = np.hypot(
            xy[:, 0, None] - nodes[None, :, 0], xy[:, 1, None] - nodes[None, :, 1]
        ).min(axis=1)
        assert nearest.max() < 30.0


# --------------------------------------------------------------------------------------------
# the texture of rural service


def test_key_dates_are_what_their_names_say() -> None:
    public = {d for d, _ in PUBLIC_HOLIDAYS}

    def school_free(day: dt.date) -> bool:
        return any(a <= day <= b for a, b, _ in SCHOOL_HOLIDAYS)

    assert SCHOOL_DAY.weekday() == 1 and not school_free(SCHOOL_DAY)
    assert HOLIDAY_WEEKDAY.weekday() == 1 and school_free(HOLIDAY_WEEKDAY)
    assert SATURDAY.weekday() == 5 and SUNDAY.weekday() == 6
    for day in (SCHOOL_DAY, HOLIDAY_WEEKDAY, SATURDAY, SUNDAY):
        assert FEED_START <= day <= FEED_END and day not in public


def test_school_trips_run_on_school_days_and_not_in_the_holidays(feed: Feed) -> None:
    school = feed.trips_on(SCHOOL_DAY)
    holiday = feed.trips_on(HOLIDAY_WEEKDAY)
    n_school = int((school["service_id"] == SCHOOL_SERVICE_ID).sum())
    assert n_school >= 10
    assert int((holiday["service_id"] == SCHOOL_SERVICE_ID).sum()) == 0
    assert len(school) - len(holiday) == n_school
    # every school holiday period and Buß- und Bettag remove the school trips
    for first, last, _ in SCHOOL_HOLIDAYS:
        assert SCHOOL_SERVICE_ID not in feed.active_service_ids(first + dt.timedelta(0))
        assert SCHOOL_SERVICE_ID not in feed.active_service_ids(last)
    assert SCHOOL_SERVICE_ID in feed.active_service_ids(dt.date(2026, 11, 17))


def test_public_holidays_run_the_sunday_service(feed: Feed) -> None:
    ascension = dt.date(2026, 5, 14)  # Christi Himmelfahrt, a Thursday
    assert feed.active_service_ids(ascension) == frozenset({"SO"})
    assert feed.active_service_ids(dt.date(2026, 10, 3)) == frozenset({"SO"})  # a Saturday
    assert len(feed.trips_on(ascension)) == len(feed.trips_on(SUNDAY))


def test_no_rural_service_on_sunday_but_the_railway(feed: Feed) -> None:
    sunday = feed.trips_on(SUNDAY).merge(feed.routes[["route_id", "route_type"]], on="route_id")
    assert set(sunday["route_type"]) == {2}
    assert len(sunday) >= 30


def test_saturday_service_is_thin(feed: Feed) -> None:
    types = feed.routes.set_index("route_id")["route_type"]
    sat = feed.trips_on(SATURDAY)
    wd = feed.trips_on(SCHOOL_DAY)
    assert 0 < len(sat) < 0.5 * len(wd)
    bus_sat = int((sat["route_id"].map(types) != 2).sum())
    bus_wd = int((wd["route_id"].map(types) != 2).sum())
    assert 0 < bus_sat < bus_wd / 3


def test_the_rufbus_is_recognised_as_on_demand(feed: Feed) -> None:
    assert feed.on_demand_route_ids() == frozenset({ON_DEMAND_ROUTE_ID})
    route = feed.routes.loc[feed.routes["route_id"] == ON_DEMAND_ROUTE_ID]
    assert len(route) == 1
    assert int(route["route_type"].iloc[0]) == 715
    assert "Rufbus" in str(route["route_long_name"].iloc[0])
    trips = feed.trips.loc[feed.trips["route_id"] == ON_DEMAND_ROUTE_ID, "trip_id"]
    st = feed.stop_times.loc[feed.stop_times["trip_id"].isin(trips)]
    assert len(st) > 0
    assert (st["pickup_type"] == 2).all() and (st["drop_off_type"] == 2).all()
    others = feed.stop_times.loc[~feed.stop_times["trip_id"].isin(trips)]
    assert (others["pickup_type"] == 0).all()


def test_regional_rail_is_hourly_through_the_mittelzentrum_and_past_midnight(
    feed: Feed, stops_ags: pd.DataFrame
) -> None:
    st = _stop_times_with_ags(feed, stops_ags, SCHOOL_DAY)
    rail = st.loc[st["route_id"] == "RB99"]
    at_mz = rail.loc[rail["ags"] == MITTELZENTRUM_AGS]
    assert at_mz["trip_id"].nunique() == rail["trip_id"].nunique()  # every train calls there
    hours = np.sort(at_mz["departure_time"].to_numpy()) // HOUR
    assert hours.min() <= 5 and hours.max() >= 23
    assert set(range(5, 24)) <= set(hours.tolist())
    assert int(feed.stop_times["arrival_time"].max()) > 24 * HOUR


def test_buses_wait_for_the_trains_at_the_mittelzentrum(feed: Feed) -> None:
    names = feed.stops.set_index("stop_id")["stop_name"].astype(str)
    station = names.index[names == "Beispielstadt, Bahnhof"][0]
    zob = names.index[names == "Beispielstadt, ZOB"][0]
    tr = feed.transfers
    pair = tr.loc[(tr["from_stop_id"] == station) & (tr["to_stop_id"] == zob)]
    assert len(pair) == 1 and int(pair["transfer_type"].iloc[0]) == 2
    wait = int(pair["min_transfer_time"].iloc[0])
    st = feed.stop_times.merge(feed.trips_on(SCHOOL_DAY)[["trip_id", "route_id"]], on="trip_id")
    trains_in = np.sort(st.loc[st["stop_id"] == station, "arrival_time"].to_numpy())
    first = st.sort_values("stop_sequence").groupby("trip_id").head(1)
    regional = first["route_id"].isin(["401", "402", "403", "404", "405"])
    bus_out = first.loc[regional & (first["stop_id"] == zob), "departure_time"].to_numpy()
    assert len(bus_out) >= 40
    # every regional bus leaving the ZOB has a train arriving `wait` to 15 minutes before
    for t in bus_out:
        assert ((trains_in <= t - wait) & (trains_in >= t - 15 * 60)).any(), t


def test_probing_has_no_bus_home_after_six_thirty(
    feed: Feed, stops_ags: pd.DataFrame
) -> None:
    st = _stop_times_with_ags(feed, stops_ags, SCHOOL_DAY)
    village = st.loc[st["ags"] == EVENING_GAP_GEMEINDE]
    assert len(village) > 0
    # trips that call in the Mittelzentrum before they reach the village: the way home
    first_in_village = village.groupby("trip_id")["stop_sequence"].min()
    mz = st.loc[(st["ags"] == MITTELZENTRUM_AGS) & st["trip_id"].isin(first_in_village.index)]
    mz = mz.loc[mz["stop_sequence"] < mz["trip_id"].map(first_in_village)]
    last_leave_mz = mz.groupby("trip_id")["departure_time"].max()
    assert len(last_leave_mz) >= 3
    assert int(last_leave_mz.max()) < 18 * HOUR + 30 * 60
    # and no railway there
    assert "RB99" not in set(village["route_id"])


def test_uebungsdorf_has_only_school_trips_and_the_rufbus(
    feed: Feed, stops_ags: pd.DataFrame
) -> None:
    school = _stop_times_with_ags(feed, stops_ags, SCHOOL_DAY)
    here = school.loc[school["ags"] == SCHOOL_AND_RUFBUS_GEMEINDE]
    assert (here["service_id"] == SCHOOL_SERVICE_ID).any()
    assert (here["route_id"] == ON_DEMAND_ROUTE_ID).any()
    ordinary = here.loc[
        (here["service_id"] != SCHOOL_SERVICE_ID) & (here["route_id"] != ON_DEMAND_ROUTE_ID)
    ]
    assert ordinary.empty, ordinary["trip_id"].unique()
    holiday = _stop_times_with_ags(feed, stops_ags, HOLIDAY_WEEKDAY)
    assert set(holiday.loc[holiday["ags"] == SCHOOL_AND_RUFBUS_GEMEINDE, "route_id"]) == {
        ON_DEMAND_ROUTE_ID
    }


def test_village_service_ends_in_the_early_evening(
    feed: Feed, stops_ags: pd.DataFrame, gemeinden: gpd.GeoDataFrame
) -> None:
    st = _stop_times_with_ags(feed, stops_ags, SCHOOL_DAY)
    two_hourly = st.loc[st["route_id"].isin(["403", "404", "405"])]
    villages = set(two_hourly["ags"]) & set(
        gemeinden.loc[gemeinden["bez"] == "Gemeinde", "ags"]
    )
    assert len(villages) >= 6
    # the last bus of these lines leaves the Mittelzentrum before half past six
    from_mz = two_hourly.loc[two_hourly["ags"] == MITTELZENTRUM_AGS]
    outbound = from_mz.groupby("trip_id")["stop_sequence"].min() == 1
    last_out = from_mz.loc[from_mz["trip_id"].map(outbound), "departure_time"].max()
    assert 17 * HOUR <= int(last_out) < 18 * HOUR + 30 * 60
    # and the lines have a midday gap: no departure from the ZOB between 10:00 and 12:00 on
    # at least two of them
    gaps = [
        not ((d >= 10 * HOUR) & (d < 12 * HOUR)).any()
        for _, d in from_mz.loc[from_mz["trip_id"].map(outbound)].groupby("route_id")[
            "departure_time"
        ]
    ]
    assert sum(gaps) >= 2


# --------------------------------------------------------------------------------------------
# fictional everywhere


def test_every_file_says_it_is_fictional() -> None:
    from kurszugang.io.courses import read_courses
    from kurszugang.io.gtfs import read_gtfs

    readme = BUNDLED.readme.read_text(encoding="utf-8")
    assert "fiktiv" in readme and "fictional" in readme
    assert "fiktiv / fictional" in BUNDLED.osm.read_text(encoding="utf-8")[:600]
    for layer in ("vg250_gem", "vg250_krs"):
        df = pyogrio.read_dataframe(BUNDLED.boundaries, layer=layer, read_geometry=False)
        assert df["BEM"].str.contains("fiktiv").all()
    krs = pyogrio.read_dataframe(BUNDLED.boundaries, layer="vg250_krs", read_geometry=False)
    assert krs["GEN"].tolist() == ["Landkreis Beispiel (fiktiv)"]
    feed = read_gtfs(BUNDLED.gtfs)
    assert feed.agency["agency_name"].str.contains("(fiktiv)", regex=False).all()
    assert "fictional" in feed.feed_info["feed_publisher_name"].iloc[0]
    providers = read_courses(BUNDLED.courses).sites["provider"]
    assert providers.str.endswith("(fiktiv)").all()
    assert "fiktiv" in BUNDLED.population.parent.joinpath("README.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------
# the demo run


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep=";", decimal=",", dtype={"AGS": str}, encoding="utf-8-sig",
                       keep_default_na=False, na_values=[""])


def test_the_demo_writes_the_overview_for_german_excel(demo_run, gemeinden: gpd.GeoDataFrame
                                                       ) -> None:
    out = demo_run.out_dir
    raw = (out / "gemeinden_uebersicht.csv").read_bytes()
    assert raw.startswith("\ufeff".encode())
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == (
        '"AGS";"Gemeinde";"Einwohner (amtlich)";"Einwohner im Raster";"Ausländer im Raster";'
        '"Ausländeranteil im Raster (%)";"Potenzielle Teilnehmende";"Haltestellen";'
        '"Abfahrten am 10.03.2026";"Abfahrten am 11.08.2026";"Kursorte";"Kurse";"Datenlage"'
    )
    assert lines[1].startswith('"09999111";"Beispielstadt";')
    body = _csv(out / "gemeinden_uebersicht.csv")
    assert len(body) == len(gemeinden)
    assert (body["Einwohner im Raster"] == body["Einwohner (amtlich)"]).all()
    assert int(body["Kursorte"].sum()) == 8 and int(body["Kurse"].sum()) == 13
    school, holiday = "Abfahrten am 10.03.2026", "Abfahrten am 11.08.2026"
    assert (body[school] >= body[holiday]).all()
    assert int(body[school].sum()) > int(body[holiday].sum())
    assert "," in lines[1].split(";")[5]  # decimal comma
    share = 100 * body["Ausländer im Raster"].sum() / body["Einwohner im Raster"].sum()
    assert share == pytest.approx(100 * 6.6 / 46.092, abs=20)  # a plausible share, in %
    assert (body["Ausländeranteil im Raster (%)"] <= 100).all()
    assert body["Datenlage"].isna().all()  # the demo's inputs cover every Gemeinde


def test_the_demo_writes_the_report_and_the_geopackage(demo_run, feed: Feed) -> None:
    out = demo_run.out_dir
    report = (out / "pruefbericht.txt").read_text(encoding="utf-8")
    assert "fiktiv" in report
    for kind in ("Verwaltungsgrenzen:", "GTFS-Fahrplan:", "Kursorte und Kurse:",
                 "Fußwegenetz (OpenStreetMap):", "Bevölkerungsraster (Zensus):"):
        assert kind in report
    assert report.count("  0 Fehler\n") == 5
    gpkg = out / "kurszugang.gpkg"
    layers = dict(pyogrio.list_layers(gpkg))
    assert {"gemeinden", "kursorte", "kurse", "haltestellen", "raster"} <= set(layers)
    stops = pyogrio.read_dataframe(gpkg, layer="haltestellen")
    assert stops.crs.to_epsg() == 25832
    assert len(stops) == len(feed.stops)
    assert stops.loc[stops["on_demand"], "lines"].str.contains("490").all()
    assert stops["on_demand"].any()
    sites = pyogrio.read_dataframe(gpkg, layer="kursorte")
    assert len(sites) == 8 and int(sites["has_childcare"].sum()) == 1
    gem = pyogrio.read_dataframe(gpkg, layer="gemeinden")
    assert gem["ags"].str.startswith("09999").all()


def test_run_demo_names_the_broken_input(tmp_path: Path, gen_a: Path) -> None:
    from kurszugang.errors import InputError

    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for name in FILE_NAMES:
        (inputs / name).write_bytes((gen_a / name).read_bytes())
    (inputs / "gtfs_beispiel.zip").write_bytes(b"this is not a zip archive")
    with pytest.raises(InputError, match="gtfs_beispiel.zip"):
        run_demo(tmp_path / "out", quiet=True, inputs=inputs)


def test_demo_command_runs_offline_and_prints_what_it_wrote(tmp_path: Path, demo_run) -> None:
    out = tmp_path / "demo out"
    proc = subprocess.run(
        [sys.executable, "-m", "kurszugang", "demo", "--out", str(out)],
        capture_output=True, text=True, cwd=tmp_path, timeout=180, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    names = [str(p.relative_to(demo_run.out_dir)) for p in demo_run.files]
    for name in names:
        assert (out / name).stat().st_size > 0
        assert f"    {name}\n" in proc.stdout
    assert f"{len(names)} Dateien in {out}" in proc.stdout
    assert "fiktiv" in proc.stdout
    assert "20 Gemeinden" in proc.stdout
    assert "… Kursbesuch am Schultag 10.03.2026" in proc.stderr  # a line per stage
    assert not (tmp_path / "data").exists()  # --out was honoured


def test_the_demo_travel_times_follow_the_timetable(demo_run) -> None:
    """Travel times from every populated cell to the course sites, school day vs holiday."""
    from kurszugang.demo import SCHOOL_AND_RUFBUS_GEMEINDE

    body = _csv(demo_run.out_dir / "gemeinden_reisezeiten.csv")
    school = "Einwohner mit Kursort in Reichweite (10.03.2026)"
    holiday = "Einwohner mit Kursort in Reichweite (11.08.2026)"
    share = "Anteil Einwohner mit Kursort in Reichweite (10.03.2026, %)"
    assert len(body) == 20
    # School-day-only trips can only add reachable people, never remove them.
    assert (body[school] >= body[holiday]).all()
    assert int(body[school].sum()) > int(body[holiday].sum())
    # The Mittelzentrum has sites: nearly everyone there reaches one.
    town = body[body["AGS"] == "09999111"].iloc[0]
    assert town[share] > 80
    # A village with nothing but the school bus and the Rufbus: far fewer on the holiday.
    village = body[body["AGS"] == SCHOOL_AND_RUFBUS_GEMEINDE].iloc[0]
    assert village[holiday] <= village[school]
    assert (body[share] <= 100).all() and (body[holiday] >= 0).all()


def test_the_demo_runs_the_whole_analysis(demo_run) -> None:
    """The demo is the full analysis run: coverage, gaps, class sizes, maps, config."""
    out, paths = demo_run.out_dir, demo_run.files
    names = {p.name for p in paths}
    for name in ("gemeinden_kursbesuch.csv", "gemeinden_luecken.csv", "kurse_klassengroessen.csv",
                 "kurszugang_tabellen.xlsx", "kurszugang.gpkg", "einstellungen.toml",
                 "datenlage.csv", "zusammenfassung.md"):
        assert name in names and (out / name).stat().st_size > 0
    cover = _csv(out / "gemeinden_kursbesuch.csv")
    assert cover["AGS"].str.match(r"^09999\d{3}$").all() and len(cover) == 20
    days = _csv(out / "gemeinden_schultag_ferien.csv")
    assert len(days) == 20
    gaps = pd.read_csv(out / "gemeinden_luecken.csv", keep_default_na=False, sep=";",
                       decimal=",", encoding="utf-8-sig", dtype={"AGS": str})
    assert set(gaps["Keine Kinderbetreuung erreichbar"]) <= {"ja", "nein"}
    assert (gaps["Keine Kinderbetreuung erreichbar"] == "nein").sum() >= 1
    sizes = _csv(out / "kurse_klassengroessen.csv")
    assert len(sizes) == 13
    assert (sizes["Teilnehmende in 30 min"] <= sizes["Teilnehmende in 60 min"]).all()
    assert "[checksums]" in (out / "einstellungen.toml").read_text(encoding="utf-8")
