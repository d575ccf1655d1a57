"""Planning: candidates, coverage of a format, where (MILP), when (start times), how soon.

The demo district supplies the real routing; small hand-made and random instances check the
optimiser against a brute-force enumeration with an independent linear program per site set.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from kurszugang.analysis.coverage import RouterPool, course_access
from kurszugang.analysis.grid import analysis_grid
from kurszugang.analysis.plan import (
    ABDECKUNG_COLUMNS,
    CANDIDATE_COLUMNS,
    CourseFormat,
    FormatCoverage,
    boardable_departures,
    format_coverage,
    plan_candidates,
    read_candidates,
)
from kurszugang.crs import ANALYSIS_CRS, WEB_CRS, transformer
from kurszugang.demo import SCHOOL_DAY, demo_files
from kurszugang.errors import ConfigError, DataValidationError, InputError, RoutingError
from kurszugang.io.boundaries import read_boundaries
from kurszugang.io.courses import read_courses
from kurszugang.io.gtfs import read_gtfs
from kurszugang.io.osm import read_walk_network
from kurszugang.io.population import read_population_grid
from kurszugang.routing.router import Router

DAY = 86_400


# --------------------------------------------------------------------------------------------
# Fixtures and independent references
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo():
    f = demo_files()
    gem = read_boundaries(f.boundaries, layer="vg250_gem")
    cells = analysis_grid(gem, read_population_grid(f.population), populated_only=True,
                          participant_factor=0.03)
    feed = read_gtfs(f.gtfs)
    pool = RouterPool(feed, read_walk_network(f.osm))
    courses = read_courses(f.courses)
    cands = plan_candidates(gem, courses=courses, router=pool.get(SCHOOL_DAY))
    access = course_access(pool, cells, courses, SCHOOL_DAY, on_demand=False)
    return SimpleNamespace(gem=gem, cells=cells, feed=feed, pool=pool, courses=courses,
                           cands=cands, access=access)


@pytest.fixture(scope="module")
def zweitschrift(demo):
    """A format the demo list does not offer, at every candidate."""
    fmt = CourseFormat.parse("zweitschrift", "Mo-Fr", "08:30", "12:45")
    return format_coverage(demo.pool, demo.cells, demo.cands, fmt, SCHOOL_DAY)


def _departures_by_pandas(feed, date: dt.date) -> pd.Series:
    """Boardable departures per stop on ``date``, straight from stop_times (independent)."""
    out = []
    for day, shift in ((date, 0), (date - dt.timedelta(days=1), DAY)):
        trips = feed.trips_on(day)["trip_id"]
        st = feed.stop_times[feed.stop_times["trip_id"].isin(trips)]
        last = st.groupby("trip_id")["stop_sequence"].transform("max")
        dep = st["departure_time"].astype(np.int64) - shift
        ok = (st["stop_sequence"] < last) & (st["pickup_type"] != 1) & (dep >= 0) & (dep < DAY)
        out.append(st.loc[ok, "stop_id"].astype(str))
    return pd.concat(out).value_counts()


def _set_value(att: np.ndarray, part: np.ndarray, m: float) -> float | None:
    """Most participants the open sites (columns of ``att``) can take, each at least ``m``,
    every cell's participants split at most once: a linear program per cell and site (None:
    infeasible). Written independently of the package's group formulation."""
    cells, sites = np.nonzero(att)
    n, n_s, n_c = len(cells), att.shape[1], len(part)
    rows = np.r_[cells, n_c + sites]
    vals = np.r_[np.ones(n), -np.ones(n)]
    cols = np.r_[np.arange(n), np.arange(n)]
    a_ub = sp.csr_array((vals, (rows, cols)), shape=(n_c + n_s, max(n, 1)))
    b_ub = np.r_[part, -m * np.ones(n_s)]
    res = linprog(-np.ones(max(n, 1)), A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
    return None if res.status == 2 else -res.fun


def _brute_force(att: np.ndarray, part: np.ndarray, k: int, m: float,
                 fixed: tuple[int, ...] = ()) -> float | None:
    best = None
    for combo in itertools.combinations(range(att.shape[1]), k):
        if not set(fixed) <= set(combo):
            continue
        value = _set_value(att[:, list(combo)], part, m)
        if value is not None and (best is None or value > best):
            best = value
    return best


def _synthetic(attend: np.ndarray, part, *, ids=None, ags=None, sources=None,
               course_type: str = "alpha") -> FormatCoverage:
    """A coverage with given attendance (10 minutes each way where a cell can attend)."""
    attend = np.asarray(attend, dtype=bool)
    part = np.asarray(part, dtype=float)
    n_cells, n_c = attend.shape
    ids = ids or [f"S{j}" for j in range(n_c)]
    cands = pd.DataFrame({
        "candidate_id": pd.array(ids, dtype="string"), "name": pd.array(ids, dtype="string"),
        "source": pd.array(sources or ["Liste"] * n_c, dtype="string"),
        "ags": "09999111", "gen": "Beispielstadt", "x": 0.0, "y": 0.0, "has_childcare": False,
        "departures": pd.array([pd.NA] * n_c, dtype="Int64"), "eligible": True,
        "excluded": pd.array([pd.NA] * n_c, dtype="string"), "participants": part @ attend})
    cells = pd.DataFrame({"cell_id": [f"c{i}" for i in range(n_cells)],
                          "ags": pd.array(ags or ["09999111"] * n_cells, dtype="string"),
                          "gen": pd.array(ags or ["09999111"] * n_cells, dtype="string"),
                          "participants": part})
    times = np.where(attend, 600.0, np.nan)
    return FormatCoverage(CourseFormat.parse(course_type, "Mo-Fr", "08:30", "12:45"),
                          SCHOOL_DAY, SCHOOL_DAY, cands, cells, times, times.copy())


def _chosen(plan, k: int) -> list[str]:
    return plan.per_k.set_index("k").loc[k, "candidate_ids"].split(", ")


# --------------------------------------------------------------------------------------------
# Course formats
# --------------------------------------------------------------------------------------------
def test_course_format_from_what_users_type():
    fmt = CourseFormat.parse("eltern", "Mo,Mi,Do", "8:45", "11:15", childcare=True)
    assert (fmt.weekday_mask, fmt.start_time, fmt.end_time) == (13, 31500, 40500)
    assert fmt.weekdays == "Mo,Mi,Do" and fmt.duration_s == 9000
    assert str(fmt) == "eltern Mo,Mi,Do 08:45-11:15 mit Kinderbetreuung"
    later = fmt.starting_at(18 * 3600)
    assert (later.start_time, later.end_time, later.weekday_mask) == (64800, 73800, 13)


@pytest.mark.parametrize(("args", "message"), [
    (("alpha", "Mo-Xx", "08:30", "12:00"), "Kursformat alpha: Wochentage 'Mo-Xx' sind nicht "
                                          "lesbar (erwartet z. B. Mo-Fr, Mo,Mi,Fr oder Di+Do)"),
    (("alpha", "Mo-Fr", "8h30", "12:00"), "Kursformat alpha: Beginn '8h30' ist keine Uhrzeit "
                                          "(erwartet HH:MM, z. B. 08:30)"),
    (("alpha", "Mo-Fr", "08:30", "08:00"), "Kursformat alpha: das Ende 08:00 liegt nicht nach "
                                           "dem Beginn 08:30"),
    (("", "Mo-Fr", "08:30", "12:00"), "Kursformat: die Kursart fehlt (erwartet z. B. allgemein, "
                                      "alpha, eltern)"),
    (("alpha", 0, "08:30", "12:00"), "Kursformat alpha: Wochentage 0 sind keine Wochentage"),
])
def test_course_format_bad_input(args, message):
    with pytest.raises(ConfigError) as excinfo:
        CourseFormat.parse(*args)
    assert str(excinfo.value).startswith(message)


# --------------------------------------------------------------------------------------------
# Candidates
# --------------------------------------------------------------------------------------------
def test_candidate_list_with_german_headers_and_utm(tmp_path: Path):
    path = tmp_path / "kandidaten.csv"
    path.write_text("Kandidat;Standort;Rechtswert;Hochwert;Koordinatensystem;Kinderbetreuung\n"
                    "K1;Rathaus Probing;762528,3;5474775,1;EPSG:25832;ja\n"
                    ";;;;;\n"
                    "K2;;751208,4;5477069,0;EPSG:25832;nein\n", encoding="utf-8")
    table = read_candidates(path)
    assert table["candidate_id"].tolist() == ["K1", "K2"]
    assert table["name"].tolist() == ["Rathaus Probing", "K2"]  # no name: the id
    assert table["has_childcare"].tolist() == [True, False]
    assert table["x"].to_numpy() == pytest.approx([762528.3, 751208.4], abs=1e-4)
    assert table["y"].to_numpy() == pytest.approx([5474775.1, 5477069.0], abs=1e-4)
    assert table["line"].tolist() == [2, 4]


def test_candidate_list_in_lon_lat_from_excel(tmp_path: Path):
    lon, lat = transformer(ANALYSIS_CRS, WEB_CRS).transform(750548.9, 5466456.0)
    path = tmp_path / "kandidaten.xlsx"
    pd.DataFrame({"id": ["M1"], "Name": ["Marktplatz"], "lon": [lon], "lat": [lat]}).to_excel(
        path, index=False)
    table = read_candidates(path)
    assert table.loc[0, ["candidate_id", "name"]].tolist() == ["M1", "Marktplatz"]
    assert (table.loc[0, "x"], table.loc[0, "y"]) == pytest.approx((750548.9, 5466456.0), abs=1e-3)
    assert not table.loc[0, "has_childcare"]


def test_candidate_list_problems_are_listed_with_line_and_column(tmp_path: Path):
    path = tmp_path / "kandidaten.csv"
    path.write_text("id;lon;lat;Kinderbetreuung\n"
                    "A;12.44;49.30;ja\n"
                    ";12.45;49.31;nein\n"
                    "A;12.46;49.32;\n"
                    "B;zwölf;49.33;vielleicht\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as excinfo:
        read_candidates(path)
    assert [str(p) for p in excinfo.value.problems] == [
        "kandidaten.csv line 3: id fehlt (erwartet eine eindeutige Kennung, z. B. K01)",
        "kandidaten.csv line 4: id 'A' kommt schon in Zeile 2 vor (erwartet eine Kennung je "
        "Kandidat)",
        "kandidaten.csv line 5: lon 'zwölf' is not a number (expected a longitude in decimal "
        "degrees (WGS84), e.g. 12.1289)",
        "kandidaten.csv line 5: Kinderbetreuung (childcare) 'vielleicht' ist weder ja noch nein "
        "(erwartet ja/nein, x oder leer, 1/0)",
    ]


def test_candidate_list_without_id_or_coordinates(tmp_path: Path):
    path = tmp_path / "liste.csv"
    path.write_text("Name;Bemerkung\nRathaus;neu\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as excinfo:
        read_candidates(path)
    assert [str(p) for p in excinfo.value.problems] == [
        "liste.csv: candidate_id Spalte fehlt (erwartet eine Spalte candidate_id, id, site_id "
        "oder Standort-ID)",
        "liste.csv: lon Spalte fehlt (erwartet lon und lat (WGS84) oder x und y mit crs; deutsch "
        "Längengrad/Breitengrad oder Rechtswert/Hochwert)",
    ]


def test_boardable_departures_match_stop_times_on_the_zug_feed(zug_feed_path):
    """The count behind the stop candidates, against stop_times read directly (real feed)."""
    feed = read_gtfs(zug_feed_path)
    date = dt.date(2021, 3, 2)
    router = Router(feed, date)
    counts = pd.Series(boardable_departures(router.timetable), index=router.timetable.stop_ids)
    want = _departures_by_pandas(feed, date).reindex(counts.index).fillna(0).astype(np.int64)
    assert counts.sum() > 45_000  # most of the 54,525 stop times of the day can be boarded
    assert (counts == want).all()


def test_generated_candidates_are_the_best_served_stops(demo):
    cands = demo.cands
    assert list(cands.columns) == list(CANDIDATE_COLUMNS)
    assert cands["source"].value_counts().to_dict() == {"Haltestelle": 20, "bestehend": 8}
    existing = cands[cands["source"] == "bestehend"].set_index("candidate_id")
    assert existing.loc["KS01", "ags"] == "09999111" and existing.loc["KS04", "has_childcare"]
    assert existing["departures"].isna().all()
    # Independently: per Gemeinde, the stop with the most boardable departures from stop_times.
    counts = _departures_by_pandas(demo.feed, SCHOOL_DAY)
    stops = demo.feed.stops.set_index("stop_id")
    pts = pd.DataFrame({"stop_id": counts.index, "n": counts.to_numpy()})
    x, y = transformer(WEB_CRS, ANALYSIS_CRS).transform(
        stops.loc[pts["stop_id"], "stop_lon"].to_numpy(), stops.loc[pts["stop_id"], "stop_lat"]
        .to_numpy())
    import geopandas as gpd
    located = gpd.sjoin(gpd.GeoDataFrame(pts, geometry=gpd.points_from_xy(x, y),
                                         crs=ANALYSIS_CRS), demo.gem[["ags", "geometry"]])
    best = located.sort_values(["ags", "n", "stop_id"], ascending=[True, False, True])
    best = best.drop_duplicates("ags").set_index("ags")
    stops_c = cands[cands["source"] == "Haltestelle"].set_index("ags")
    assert sorted(stops_c.index) == sorted(demo.gem["ags"])
    assert (stops_c["candidate_id"] == "hst:" + best.loc[stops_c.index, "stop_id"]).all()
    assert (stops_c["departures"] == best.loc[stops_c.index, "n"]).all()


def test_candidate_list_replaces_the_stops_and_ids_must_be_unique(demo, tmp_path: Path):
    path = tmp_path / "kandidaten.csv"
    path.write_text("id;x;y\nN1;755000;5470000\nN2;800000;5470000\n", encoding="utf-8")
    table = plan_candidates(demo.gem, courses=demo.courses, candidate_file=path,
                            crs="EPSG:25832")
    assert table["source"].value_counts().to_dict() == {"bestehend": 8, "Liste": 2}
    listed = table[table["source"] == "Liste"].set_index("candidate_id")
    assert pd.isna(listed.loc["N2", "ags"])  # 45 km east: outside the district
    assert table.attrs["notes"] == ["Kandidaten außerhalb des Landkreises: 1 (z. B. N2)"]
    path.write_text("id;x;y\nN1;755000;5470000\nKS01;755500;5470000\n", encoding="utf-8")
    with pytest.raises(InputError) as excinfo:
        plan_candidates(demo.gem, courses=demo.courses, candidate_file=path, crs="EPSG:25832")
    assert str(excinfo.value) == (
        "kandidaten.csv line 3: candidate_id 'KS01' ist schon ein Kandidat der Quelle "
        "'bestehend' (erwartet eindeutige Kennungen; den Standort aus der Liste streichen oder "
        "umbenennen)")
    with pytest.raises(ConfigError) as excinfo:
        plan_candidates(demo.gem, courses=demo.courses)
    assert "dafür fehlt der Router des Schultags" in str(excinfo.value)


# --------------------------------------------------------------------------------------------
# Coverage of a format
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("course_id", ["KS01-1", "KS01-2", "KS04-1", "KS07-1", "KS08-1"])
def test_coverage_at_an_existing_site_is_what_course_access_gives(demo, course_id):
    row = demo.access.courses.set_index("course_id").loc[course_id]
    fmt = CourseFormat(str(row["course_type"]), int(row["weekday_mask"]), int(row["start_time"]),
                       int(row["end_time"]), bool(row["childcare"]))
    existing = demo.cands[demo.cands["source"] == "bestehend"]
    cov = format_coverage(demo.pool, demo.cells, existing, fmt, SCHOOL_DAY)
    k = int(np.flatnonzero(demo.access.courses["course_id"].to_numpy() == course_id)[0])
    j = int(np.flatnonzero(cov.candidates["candidate_id"].to_numpy() == row["site_id"])[0])
    keep = (demo.cells["in_district"] & (demo.cells["participants"] > 0)).to_numpy()
    assert cov.cells["cell_id"].tolist() == demo.cells.loc[keep, "cell_id"].tolist()
    assert np.array_equal(cov.attend()[:, j], demo.access.attend()[keep, k])
    both = np.isfinite(cov.time_there[:, j])
    assert np.array_equal(cov.time_there[both, j], demo.access.time_there[keep, k][both])
    assert cov.analysis_day == row["analysis_day"]
    want = demo.cells.loc[keep, "participants"].to_numpy() @ demo.access.attend()[keep, k]
    assert cov.candidates.loc[j, "participants"] == pytest.approx(want)
    if course_id == "KS08-1":  # Mo + Mi: analysed on the Monday of the school week
        assert cov.analysis_day == dt.date(2026, 3, 9)
        assert cov.notes[-1] == ("das Format läuft nicht am 10.03.2026; geprüft am 09.03.2026, "
                                 "seinem Kurstag derselben Woche")


def test_cells_with_the_same_coverage_form_one_group(zweitschrift):
    cov = zweitschrift
    att = cov.attend()
    gid = cov.cell_group
    groups = cov.groups
    assert len(groups) == len(cov.group_attend) > 10
    for g in groups["group_id"]:
        rows = att[gid == g]
        assert (rows == cov.group_attend[g - 1]).all()
    assert not att[gid == 0].any()
    part = cov.cells["participants"].to_numpy()
    assert groups["participants"].sum() == pytest.approx(part[att.any(axis=1)].sum())
    assert groups["cells"].sum() == int((gid > 0).sum())
    table = cov.abdeckung()
    assert list(table.columns) == list(ABDECKUNG_COLUMNS)
    assert len(table) == int(cov.group_attend.sum()) and (table["covered"] == 1).all()
    per_site = table.groupby("candidate_id")["participants"].sum()
    reach = cov.candidates.set_index("candidate_id")["participants"]
    assert per_site.to_numpy() == pytest.approx(reach.loc[per_site.index].to_numpy())


def test_childcare_formats_go_only_where_there_is_childcare(demo):
    fmt = CourseFormat.parse("eltern", "Mo,Di,Do", "08:45", "12:00", childcare=True)
    far = demo.cands.iloc[[0]].assign(candidate_id="weit", x=demo.cands["x"].iloc[0] + 40_000,
                                      has_childcare=True)
    cands = pd.concat([demo.cands, far], ignore_index=True)
    cov = format_coverage(demo.pool, demo.cells, cands, fmt, SCHOOL_DAY)
    table = cov.candidates.set_index("candidate_id")
    assert table.index[table["eligible"]].tolist() == ["KS04"]
    assert table.loc["KS01", "excluded"] == "keine Kinderbetreuung"
    assert table.loc["weit", "excluded"] == "weiter als 500 m vom Fußwegenetz"
    assert (table.loc[~table["eligible"], "participants"] == 0).all()
    assert table.loc["KS04", "participants"] > 5
    assert cov.notes[:2] == [
        "Kandidaten ohne Kinderbetreuung, die das Format braucht, nicht geprüft: 27 von 29 "
        "(z. B. KS01, KS02, KS03, KS05, KS06)",
        "Kandidaten weiter als 500 m vom Fußwegenetz, nicht geprüft: 1 (z. B. weit)"]
    stops = demo.cands[demo.cands["source"] == "Haltestelle"]
    with pytest.raises(RoutingError, match="keiner der 20 Kandidaten kann das Format eltern "
                                           "Mo,Di,Do 08:45-12:00 mit Kinderbetreuung anbieten"):
        format_coverage(demo.pool, demo.cells, stops, fmt, SCHOOL_DAY)


def test_coverage_bad_inputs(demo):
    fmt = CourseFormat.parse("alpha", "Mo-Fr", "08:30", "12:45")
    with pytest.raises(ConfigError, match="Analysetag: '31.02.2026' is not a date"):
        format_coverage(demo.pool, demo.cells, demo.cands, fmt, "31.02.2026")
    with pytest.raises(ConfigError, match="die Reisezeitschwelle muss positiv sein, nicht 0 min"):
        format_coverage(demo.pool, demo.cells, demo.cands, fmt, SCHOOL_DAY, threshold_min=0)
    with pytest.raises(InputError, match="der Kandidatentabelle fehlen die Spalten x, y"):
        format_coverage(demo.pool, demo.cells, demo.cands.drop(columns=["x", "y"]), fmt,
                        SCHOOL_DAY)
    twice = pd.concat([demo.cands.iloc[:2], demo.cands.iloc[:1]])
    with pytest.raises(InputError, match="candidate_id 'KS01' kommt mehrfach vor"):
        format_coverage(demo.pool, demo.cells, twice, fmt, SCHOOL_DAY)
    empty = demo.cells.assign(participants=0.0)
    with pytest.raises(InputError, match="keine Rasterzelle im Landkreis hat potenzielle "
                                         "Teilnehmende"):
        format_coverage(demo.pool, empty, demo.cands, fmt, SCHOOL_DAY)
