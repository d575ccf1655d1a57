"""What the inputs cover (Datenlage) on real and clipped inputs: unincorporated areas on VG5000,
a feed of another country, dates outside the timetable, a partial OSM extract."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from kurszugang.analysis.grid import analysis_grid
from kurszugang.demo import demo_files
from kurszugang.io.boundaries import read_boundaries
from kurszugang.io.population import read_population_grid
from tests.conftest import shared_file

VG5000 = "vg5000-2021-bkg/VG5000_GEM.shp"
GRID_1KM = "zensus2011-grid-bayern/zensus2011_1km_einwohner_auslaenderanteil_bayern.csv"
GRID_100M = "zensus2011-grid-bayern/zensus2011_100m_auslaender_bayern.csv"


def _cli(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kurszugang", *map(str, args)],
                          capture_output=True, text=True, timeout=900)


def test_unincorporated_areas_of_nuernberger_land_give_their_people_to_gemeinden() -> None:
    gem = read_boundaries(shared_file(VG5000), kreis="09574")
    free = gem["gemeindefrei"].to_numpy(bool)
    assert free.sum() == 14 and (~free).sum() == 27
    grid = analysis_grid(gem, read_population_grid(shared_file(GRID_1KM)), resolution_m=1000,
                         buffer_m=0)
    moved = grid.attrs["gemeindefrei"]
    assert (moved["areas"], moved["cells"], moved["people"]) == (14, 37, 8146.0)
    assert "8.146 Einwohnern" in moved["text"] and "(Staatsforsten, Seen)" in moved["text"]
    inside = grid[grid["in_district"]]
    assert set(inside["ags"]) <= set(gem.loc[~free, "ags"])  # never an unincorporated area
    share = 100 * moved["people"] / inside["inhabitants"].sum()
    assert share == pytest.approx(4.9, abs=0.05)
    names = gem.loc[~free, "gen"]
    assert (names == "Winkelhaid").sum() == 1


def _course_list(path: Path, lon: float, lat: float) -> Path:
    path.write_text(
        "site_id;provider;site_name;address;lon;lat;course_id;course_type;schedule;weekdays;"
        "start_time;end_time;childcare;capacity;free_places;next_start;as_of\n"
        f"B1;VHS;VHS-Haus;Markt 1;{lon};{lat};B1-1;allgemein;vollzeit;Mo-Fr;08:30;12:45;nein;"
        "20;5;2021-04-12;2021-03-01\n", encoding="utf-8")
    return path


def test_a_feed_of_another_country_stops_the_run_before_routing(tmp_path: Path,
                                                                zug_feed_path: Path) -> None:
    config = tmp_path / "bayreuth.toml"
    config.write_text(
        f'[district]\nkey = "09472"\n[inputs]\nboundaries = "{shared_file(VG5000)}"\n'
        f'gtfs = "{zug_feed_path}"\n'
        f'courses = "{_course_list(tmp_path / "kurse.csv", 11.57, 49.94)}"\n'
        f'population = "{shared_file(GRID_100M)}"\n'
        '[dates]\nschool_day = 2021-03-02\nholiday = 2021-08-10\n', encoding="utf-8")
    res = _cli("run", config, "--out", tmp_path / "aus")
    assert res.returncode == 2, res.stderr
    line = res.stderr.strip().splitlines()[-1]
    assert "Haltestellen des Fahrplans liegt im Landkreis (mit 2 km Puffer)" in line
    assert "Haltestellen 7,59–12,32° O, 44,51–47,70° N" in line  # both extents, in degrees
    assert "Landkreis 11,16–11,93° O, 49,60–50,15° N" in line
    assert "Kursbesuch am Schultag" not in res.stderr  # stopped before any routing
    assert "Traceback" not in res.stderr


def _demo_copy(tmp_path: Path, extra: str = "") -> Path:
    data = tmp_path / "daten"
    data.mkdir()
    for f in demo_files().all():
        shutil.copy(f, data / f.name)
    config = data / demo_files().config.name
    # The checks here read the tables and the summary: the maps and files for GIS are left out
    # (about 9 s a run).
    text = config.read_text(encoding="utf-8")
    assert text.count('\n[output]\ndir = "ergebnisse"\n') == 1
    text = text.replace('\n[output]\ndir = "ergebnisse"\n',
                        '\n[output]\ndir = "ergebnisse"\nformats = ["csv", "summary"]\n')
    config.write_text(text + extra, encoding="utf-8")
    return config


def test_dates_outside_the_timetable_stop_the_run_in_one_line(tmp_path: Path) -> None:
    config = _demo_copy(tmp_path)
    text = config.read_text(encoding="utf-8").replace("holiday = 2026-08-11",
                                                      "holiday = 2027-08-11")
    config.write_text(text, encoding="utf-8")
    res = _cli("run", config, "--out", tmp_path / "aus")
    assert res.returncode == 2
    assert res.stderr.strip().splitlines()[-1].endswith(
        "dates.holiday = 11.08.2027 liegt außerhalb des Fahrplans (14.12.2025 bis 12.12.2026); "
        "einen Tag darin wählen oder einen passenden Fahrplan angeben")
    assert "Kursbesuch am Schultag" not in res.stderr


def _clip_osm(source: Path, target: Path) -> float:
    """Keep the western half of the extract (its nodes, the ways inside, a clipped <bounds>)."""
    tree = ET.parse(source)
    root = tree.getroot()
    nodes = root.findall("node")
    lons = np.array([float(n.get("lon")) for n in nodes])
    cut = float(np.quantile(lons, 0.45))
    drop = {n.get("id") for n in nodes if float(n.get("lon")) > cut}
    for n in nodes:
        if n.get("id") in drop:
            root.remove(n)
    for w in root.findall("way"):
        for nd in w.findall("nd"):
            if nd.get("ref") in drop:
                w.remove(nd)
        if len(w.findall("nd")) < 2:
            root.remove(w)
    root.find("bounds").set("maxlon", f"{cut:.7f}")
    tree.write(target, encoding="UTF-8", xml_declaration=True)
    return cut


def test_a_partial_osm_extract_is_rated_critical_and_marked_per_gemeinde(tmp_path: Path) -> None:
    config = _demo_copy(tmp_path)
    _clip_osm(demo_files().osm, config.parent / "beispiel.osm")
    out = tmp_path / "aus"
    res = _cli("run", config, "--out", out, "-q")
    assert res.returncode == 0, res.stderr
    lage = pd.read_csv(out / "datenlage.csv", sep=";", decimal=",", encoding="utf-8-sig")
    rating = dict(zip(lage["Kennzahl"], lage["Bewertung"], strict=True))
    value = dict(zip(lage["Kennzahl"], lage["Wert"], strict=True))
    assert rating["osm_cells"] == "kritisch" and value["osm_cells"] < 90
    assert rating["osm_extent"] == "kritisch" and value["osm_extent"] < 90
    summary = (out / "zusammenfassung.md").read_text(encoding="utf-8")
    first = summary.split("## ")[1]
    assert first.startswith("Datenlage") and "kritisch:" in first
    over = pd.read_csv(out / "gemeinden_uebersicht.csv", sep=";", decimal=",",
                       encoding="utf-8-sig", dtype={"AGS": str}, keep_default_na=False)
    marked = over[over["Datenlage"].str.contains("abseits des OSM-Wegenetzes")]
    assert 0 < len(marked) < len(over)
    assert "Musterbach" in set(marked["Gemeinde"])  # in the east, cut off


def _without_service(gtfs: Path, first: str, last: str) -> None:
    """Remove every service of the feed on the days first..last (calendar_dates type 2)."""
    with zipfile.ZipFile(gtfs) as z:
        files = {n: z.read(n) for n in z.namelist()}
    services = set(pd.read_csv(io.BytesIO(files["calendar.txt"]),
                               dtype=str)["service_id"])
    if "calendar_dates.txt" in files:
        services |= set(pd.read_csv(io.BytesIO(files["calendar_dates.txt"]),
                                    dtype=str)["service_id"])
    day, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    rows = []
    while day <= end:
        rows += [f"{s},{day:%Y%m%d},2" for s in sorted(services)]
        day += dt.timedelta(days=1)
    old = files.get("calendar_dates.txt", b"service_id,date,exception_type\n").decode()
    kept = [ln for ln in old.splitlines()[1:]
            if not (first.replace("-", "") <= ln.split(",")[1] <= last.replace("-", ""))]
    files["calendar_dates.txt"] = "\n".join(
        [old.splitlines()[0], *kept, *rows]).encode() + b"\n"
    with zipfile.ZipFile(gtfs, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)


def test_a_holiday_without_service_completes_with_walks_only_and_says_so(tmp_path: Path) -> None:
    """No bus in the holiday week: the run completes, says so first, and counts exactly the
    people who can walk to a course and back within the limits (direct walks up to
    routing.max_direct_walk_m, longer than the 1000 m access limit)."""
    from kurszugang.config import load_config
    from kurszugang.results import Results

    config = _demo_copy(tmp_path)
    text = config.read_text(encoding="utf-8").replace('osm = "beispiel.osm"\n', "")
    config.write_text(text, encoding="utf-8")
    _without_service(config.parent / "gtfs_beispiel.zip", "2026-08-10", "2026-08-16")
    out = tmp_path / "aus"
    res = _cli("run", config, "--out", out, "-q")
    assert res.returncode == 0, res.stderr
    lage = pd.read_csv(out / "datenlage.csv", sep=";", decimal=",", encoding="utf-8-sig")
    rating = dict(zip(lage["Kennzahl"], lage["Bewertung"], strict=True))
    assert rating["trips_holiday"] == "kritisch" and rating["trips_school_day"] == "ok"
    summary = (out / "zusammenfassung.md").read_text(encoding="utf-8")
    first = summary.split("## ")[1]
    assert first.startswith("Datenlage")
    assert "Am Ferientag 11.08.2026 fährt in diesem Fahrplan kein Bus und keine Bahn" in first

    # Independently: a cell counts on the holiday iff a course site lies within a direct walk.
    cfg = load_config(config)
    r = cfg.routing
    limit_m = min(cfg.max_direct_walk_m(),
                  cfg.coverage.threshold_min * 60 * r.walk_speed_kmh / 3.6)
    results = Results.load(out)
    cells = results.layer("raster")
    cells = cells[cells["in_district"].astype(bool)]
    sites = results.layer("kursorte")
    cxy = np.column_stack([cells.geometry.centroid.x, cells.geometry.centroid.y])
    sxy = np.column_stack([sites.geometry.x, sites.geometry.y])
    walk = np.sqrt(((cxy[:, None, :] - sxy[None, :, :]) ** 2).sum(axis=2)).min(axis=1) \
        * r.detour_factor
    reach = walk <= limit_m
    assert ((walk > 1500) & (walk <= 2500) & reach).sum() > 0  # walks beyond max_walk_m count
    expected = pd.Series(cells["participants"].to_numpy(float) * reach,
                         index=cells["ags"].astype(str)).groupby(level=0).sum()
    both = results.table("schultag_ferien").set_index("ags")
    got = both["part_any_2026-08-11"].astype(float)
    assert got.reindex(expected.index).to_numpy() == pytest.approx(expected.to_numpy(), abs=1e-6)
    assert (both["part_any_2026-03-10"] >= got).all() and got.sum() > 0


def test_a_timetable_covering_part_of_the_district_names_the_gemeinden_without_a_stop(
        tmp_path: Path) -> None:
    """The feed cut to the western part of the district (as a regional feed would be): the
    share of inhabited Gemeinden with a departure is measured, rated and the others are marked
    (counted here from the stop_times, independently of the router)."""
    from kurszugang.io.gtfs import read_gtfs
    from kurszugang.results import Results

    config = _demo_copy(tmp_path)
    feed_path = config.parent / "gtfs_beispiel.zip"
    full = read_gtfs(feed_path)
    cut = float(full.stops["stop_lon"].astype(float).quantile(0.3))
    lat = full.stops["stop_lat"].astype(float)
    partial = tmp_path / "teil.zip"
    res = _cli("extract", feed_path, f"--bbox=0,{lat.min() - 1},{cut},{lat.max() + 1}",
               "--buffer-km", "0", "--out", partial, "-q")
    assert res.returncode == 0, res.stderr
    shutil.copy(partial, feed_path)
    out = tmp_path / "aus"
    res = _cli("run", config, "--out", out, "-q")
    assert res.returncode == 0, res.stderr

    feed = read_gtfs(feed_path)
    st = feed.stop_times
    running = st["trip_id"].isin(feed.trips_on(dt.date(2026, 3, 10))["trip_id"])
    last = st["trip_id"].ne(st["trip_id"].shift(-1))
    board = st["pickup_type"].fillna(0).astype(int) != 1 if "pickup_type" in st else True
    served_stops = set(st.loc[running & ~last & board, "stop_id"].astype(str))
    stops = feed.stops[feed.stops["stop_id"].astype(str).isin(served_stops)]
    gem = read_boundaries(config.parent / "vg250_beispiel.gpkg", layer="vg250_gem")
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(stops["stop_lon"].astype(float),
                                                       stops["stop_lat"].astype(float)),
                           crs="EPSG:4326").to_crs(gem.crs)
    served = set(gpd.sjoin(pts, gem[["ags", "geometry"]], predicate="within")["ags"])
    results = Results.load(out)
    cells = results.layer("raster")
    inhabited = set(cells.loc[cells["in_district"].astype(bool) & (cells["inhabitants"] > 0),
                              "ags"].astype(str))
    missing = inhabited - served
    assert 0 < len(missing) < len(inhabited)
    lage = results.table("datenlage").set_index("indicator")
    share = 100.0 * len(inhabited & served) / len(inhabited)
    assert lage.loc["gemeinden_served_school_day", "value"] == pytest.approx(share)
    assert lage.loc["gemeinden_served_school_day", "rating"] in ("Warnung", "kritisch")
    over = results.table("uebersicht").set_index("ags")
    marked = {a for a, t in over["datenlage"].items()
              if isinstance(t, str) and "keine Abfahrt am Schultag" in t}
    assert marked == missing
    summary = (out / "zusammenfassung.md").read_text(encoding="utf-8").split("## ")[1]
    names = dict(zip(gem["ags"], gem["gen"], strict=True))
    assert all(names[a] in summary for a in sorted(missing)[:8])


def _dangle_agency(gtfs: Path) -> str:
    """Point the first route at an agency that agency.txt does not have (as a real rural feed
    does); returns the route id."""
    with zipfile.ZipFile(gtfs) as z:
        files = {n: z.read(n) for n in z.namelist()}
    routes = pd.read_csv(io.BytesIO(files["routes.txt"]), dtype=str, keep_default_na=False)
    if "agency_id" not in routes.columns:
        routes.insert(1, "agency_id", "")
    routes.loc[0, "agency_id"] = "GIBT_ES_NICHT"
    files["routes.txt"] = routes.to_csv(index=False).encode()
    with zipfile.ZipFile(gtfs, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return str(routes.loc[0, "route_id"])


def test_a_feed_with_a_dangling_agency_is_read_and_gives_the_same_answer(
        tmp_path: Path, demo_run) -> None:
    config = _demo_copy(tmp_path)
    gtfs = config.parent / "gtfs_beispiel.zip"
    route = _dangle_agency(gtfs)
    lenient = _cli("validate", gtfs)
    assert lenient.returncode == 0, lenient.stdout
    assert "GIBT_ES_NICHT" in lenient.stdout and "Warnung" in lenient.stdout
    strict = _cli("validate", "--strict", gtfs)
    assert strict.returncode == 1 and "GIBT_ES_NICHT" in strict.stdout
    out = tmp_path / "aus"
    res = _cli("run", config, "--out", out, "-q")
    assert res.returncode == 0, res.stderr
    assert "GIBT_ES_NICHT" in (out / "pruefbericht.txt").read_text(encoding="utf-8")
    for table in ("gemeinden_kursbesuch.csv", "gemeinden_schultag_ferien.csv",
                  "kurse_klassengroessen.csv"):
        assert (out / table).read_bytes() == (demo_run.out_dir / table).read_bytes(), table
    assert route  # its trips still count: the tables above equal the unedited feed's
