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

from kurszugang.analysis.coverage import RouterPool, course_access, coverage_summary
from kurszugang.analysis.grid import analysis_grid
from kurszugang.analysis.plan import (
    ABDECKUNG_COLUMNS,
    CANDIDATE_COLUMNS,
    PER_K_COLUMNS,
    SITE_COLUMNS,
    CourseFormat,
    FormatCoverage,
    best_sites,
    boardable_departures,
    class_start_weeks,
    evaluate_sites,
    format_coverage,
    plan_candidates,
    read_candidates,
    rotation,
    start_time_sweep,
)
from kurszugang.crs import ANALYSIS_CRS, WEB_CRS, transformer
from kurszugang.demo import EVENING_GAP_GEMEINDE, SCHOOL_DAY, demo_files
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
        "kandidaten.csv Zeile 3: id fehlt (erwartet eine Kennung des Kursorts, z. B. S01)",
        "kandidaten.csv Zeile 4: id 'A' kommt noch einmal vor (zuerst in Zeile 2; erwartet eine "
        "Zeile je Kursort mit eigener Kennung)",
        "kandidaten.csv Zeile 5: lon 'zwölf' ist keine Zahl (erwartet eine geographische Länge "
        "in Dezimalgrad (WGS84), z. B. 12,1289)",
        "kandidaten.csv Zeile 5: Kinderbetreuung 'vielleicht' ist weder ja noch nein (erwartet "
        "ja/nein, yes/no, x oder leer, 1/0, wahr/falsch)",
    ]


def test_candidate_list_without_id_or_coordinates(tmp_path: Path):
    path = tmp_path / "liste.csv"
    path.write_text("Name;Bemerkung\nRathaus;neu\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as excinfo:
        read_candidates(path)
    assert [str(p) for p in excinfo.value.problems] == [
        "liste.csv: Standort-ID (site_id) fehlt als Spalte (erwartet eine Spalte site_id oder "
        "candidate_id, id, Kandidat, Kandidat-ID, Kandidat-Nr, Kandidaten-ID, Kandidaten-Nr, "
        "Standort-ID, Standort-Nr, Standortnummer, Kursort-ID, Kursort-Nr, Standortkennung)",
        "liste.csv: lon/lat fehlen als Spalten (erwartet Spalten lon und lat (WGS84) oder x und "
        "y mit Koordinatensystem; deutsch Längengrad/Breitengrad oder Rechtswert/Hochwert)",
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
    with pytest.raises(ConfigError, match="Analysetag: '31.02.2026' ist kein Datum"):
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


# --------------------------------------------------------------------------------------------
# Where: the MILP against enumeration
# --------------------------------------------------------------------------------------------
def test_milp_equals_brute_force_on_random_instances():
    """Random instances whose minimum class size lies around the median pool of a site, so that
    the minimum is sometimes slack, sometimes binding and sometimes makes ``k`` infeasible."""
    outcomes = {"slack": 0, "binding": 0, "infeasible": 0}
    for seed in range(10):
        rng = np.random.default_rng(seed)
        att = rng.random((16, 7)) < 0.3
        part = rng.integers(1, 9, size=16).astype(float)
        m = int(np.median(part @ att) * (0.5, 0.75, 1.0)[seed % 3])
        fixed = (int(np.argmax(part @ att)),) if seed % 2 else ()
        plan = best_sites(_synthetic(att, part), k_max=4, min_class_size={"alpha": m},
                          fixed=[f"S{j}" for j in fixed])
        rows = plan.per_k.set_index("k")
        assert rows.index.tolist() == [1, 2, 3, 4]
        for k in rows.index:
            want = _brute_force(att, part, k, m, fixed)
            got = rows.loc[k, "participants_covered"]
            if want is None:
                outcomes["infeasible"] += 1
                assert rows.loc[k, "status"] == "unzulässig" and np.isnan(got)
                continue
            union = max(part[att[:, list(c)].any(axis=1)].sum()
                        for c in itertools.combinations(range(7), k) if set(fixed) <= set(c))
            outcomes["binding" if want < union - 1e-9 else "slack"] += 1
            assert rows.loc[k, "status"] == "optimal" and rows.loc[k, "mip_gap"] == 0
            assert got == pytest.approx(want, abs=1e-6)
            chosen = [int(s[1:]) for s in _chosen(plan, k)]
            assert len(chosen) == k and set(fixed) <= set(chosen)
            assert _set_value(att[:, chosen], part, m) == pytest.approx(want, abs=1e-6)
    assert min(outcomes.values()) >= 2, outcomes


def test_milp_equals_brute_force_on_the_demo_district(zweitschrift):
    keep = ["KS01", "KS02", "KS03", "KS04", "KS05", "KS06", "KS07", "KS08",
            "hst:de:09999:1010"]
    pos = pd.Index(zweitschrift.candidates["candidate_id"]).get_indexer(keep)
    cov = FormatCoverage(zweitschrift.course_format, SCHOOL_DAY, SCHOOL_DAY,
                         zweitschrift.candidates.iloc[pos].reset_index(drop=True),
                         zweitschrift.cells, zweitschrift.time_there[:, pos],
                         zweitschrift.time_back[:, pos])
    att = cov.attend()
    part = cov.cells["participants"].to_numpy()
    for m in (8, 20):
        plan = best_sites(cov, k_max=3, min_class_size={"zweitschrift": m})
        for k, got in plan.per_k.set_index("k")["participants_covered"].items():
            want = _brute_force(att, part, k, m)
            assert want is not None and got == pytest.approx(want, rel=1e-9)


def test_minimum_class_size_rules_out_the_unconstrained_best():
    # Groups: 20 people can attend A or B, 12 only B, 14 only C, 13 only D.
    att = np.array([[1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=bool)
    part = np.array([20.0, 12.0, 14.0, 13.0])
    cov = _synthetic(att, part, ids=["A", "B", "C", "D"])
    loose = best_sites(cov, k_max=2, min_class_size={"alpha": 10}).per_k.set_index("k")
    assert loose.loc[2, "candidate_ids"] == "B, C"
    assert loose.loc[2, "participants_covered"] == pytest.approx(46)
    plan = best_sites(cov, k_max=3, min_class_size={"alpha": 15})
    rows = plan.per_k.set_index("k")
    # Without the minimum B + C (46) would be best, but C draws only 14 < 15.
    check = evaluate_sites(cov, ["B", "C"], min_class_size={"alpha": 15})
    assert check.per_k.loc[0, "status"] == "unzulässig"
    assert check.per_k.loc[0, "participants_reachable"] == 46
    assert np.isnan(check.per_k.loc[0, "participants_covered"])
    assert rows.loc[1, "candidate_ids"] == "B"
    assert rows.loc[1, "participants_covered"] == pytest.approx(32)
    assert rows.loc[2, "candidate_ids"] == "A, B"
    assert rows.loc[2, "participants_covered"] == pytest.approx(32)
    assert rows.loc[2, "gain"] == pytest.approx(0, abs=1e-9)
    assert rows.loc[3, "status"] == "unzulässig" and np.isnan(rows.loc[3, "participants_covered"])
    assert plan.notes == ["ab k = 3 lassen sich nicht alle Standorte mit mindestens 15 "
                          "Teilnehmenden füllen (unzulässig)"]
    sites = plan.sites[plan.sites["k"] == 2].set_index("candidate_id")
    assert sites["participants_assigned"].sum() == pytest.approx(32)
    assert (sites["participants_assigned"] >= 15 - 1e-9).all()
    # The dilemma: the second site halves the pools and lengthens the wait.
    assert rows.loc[2, "weeks_to_start_max"] > rows.loc[1, "weeks_to_start_max"]


@pytest.mark.parametrize(("m", "fixed", "k_max"), [(8, ["KS04"], 3), (20, [], 2)])
def test_abdeckung_is_enough_to_re_solve_every_k(zweitschrift, m, fixed, k_max):
    plan = best_sites(zweitschrift, k_max=k_max, min_class_size={"zweitschrift": m},
                      fixed=fixed)
    table = plan.abdeckung
    ids = sorted(table["candidate_id"].unique())
    groups = table.drop_duplicates("group_id").set_index("group_id")["participants"]
    att = np.zeros((len(groups), len(ids)), dtype=bool)
    att[groups.index.get_indexer(table["group_id"]),
        pd.Index(ids).get_indexer(table["candidate_id"])] = True
    solved = 0
    for _, row in plan.per_k.iterrows():
        given = row["fixed_ids"].split(", ") if row["fixed_ids"] else []
        want = _brute_force(att, groups.to_numpy(), int(row["k"]), row["min_class_size"],
                            tuple(ids.index(f) for f in given))
        assert want is not None and row["status"] == "optimal"
        assert row["participants_covered"] == pytest.approx(want, rel=1e-9)
        solved += 1
    assert solved == k_max and plan.per_k["fixed_ids"].eq(", ".join(fixed)).all()
    assert plan.sites.loc[plan.sites["candidate_id"].isin(fixed), "fixed"].all()
    assert plan.sites["k"].value_counts().sort_index().tolist() == list(range(1, k_max + 1))


def test_plan_tables_and_travel_times(zweitschrift):
    plan = best_sites(zweitschrift, k_max=3, min_class_size={"zweitschrift": 8})
    assert list(plan.per_k.columns) == list(PER_K_COLUMNS)
    assert list(plan.sites.columns) == list(SITE_COLUMNS)
    assert plan.participants_total == pytest.approx(zweitschrift.cells["participants"].sum())
    rows = plan.per_k.set_index("k")
    assert rows["share_covered"].to_numpy() == pytest.approx(
        rows["participants_covered"].to_numpy() / plan.participants_total)
    assert (rows["participants_covered"] <= plan.participants_coverable + 1e-9).all()
    one = plan.sites[plan.sites["k"] == 1].iloc[0]
    j = int(np.flatnonzero(zweitschrift.candidates["candidate_id"] == one["candidate_id"])[0])
    # One site: every covered participant goes there; the median is over their longer leg.
    att = zweitschrift.attend()[:, j]
    longer = np.maximum(zweitschrift.time_there[att, j], zweitschrift.time_back[att, j]) / 60
    w = zweitschrift.cells["participants"].to_numpy()[att]
    order = np.argsort(longer, kind="stable")
    cum = np.cumsum(w[order]) / w.sum()
    assert rows.loc[1, "median_travel_min"] == pytest.approx(longer[order][cum >= 0.5][0])
    assert one["participants_assigned"] == pytest.approx(w.sum())
    weeks = class_start_weeks([w.sum()], 8)
    assert one["weeks_to_start"] == pytest.approx(weeks["weeks_to_start"].iloc[0])


def test_where_bad_options(zweitschrift):
    with pytest.raises(ConfigError, match="feste Standorte: unbekannte Standorte XX, YY"):
        best_sites(zweitschrift, fixed=["XX", "YY"])
    with pytest.raises(ConfigError, match=r"k_max 1 ist kleiner als die Zahl der festen "
                                          r"Standorte \(2\)"):
        best_sites(zweitschrift, k_max=1, fixed=["KS01", "KS02"])
    with pytest.raises(ConfigError, match="die Mindestgruppengröße für zweitschrift muss "
                                          "mindestens 1 sein, nicht 0"):
        best_sites(zweitschrift, min_class_size={"zweitschrift": 0})
    with pytest.raises(ConfigError, match="der monatliche Zugang muss ein Anteil über 0"):
        best_sites(zweitschrift, inflow_share_per_month=0)
    with pytest.raises(ConfigError, match="ein Standort ist mehrfach genannt"):
        evaluate_sites(zweitschrift, ["KS01", "KS01"])


def test_fixed_site_that_cannot_fill_a_class_makes_every_k_infeasible():
    att = np.array([[1, 0], [0, 1]], dtype=bool)
    cov = _synthetic(att, [30.0, 5.0], ids=["A", "B"], sources=["Liste", "bestehend"])
    plan = best_sites(cov, k_max=2, min_class_size={"alpha": 10}, keep_existing=True)
    assert plan.fixed == ("B",)
    assert plan.per_k["status"].tolist() == ["unzulässig", "unzulässig"]
    assert plan.notes[0] == ("fester Standort B erreicht nur 5.0 potenzielle Teilnehmende, "
                             "weniger als die Mindestgruppengröße 10: jede Auswahl mit ihm ist "
                             "unzulässig")


# --------------------------------------------------------------------------------------------
# The plan agrees with course_access
# --------------------------------------------------------------------------------------------
def test_plan_equals_course_access_for_the_proposed_sites(demo, zweitschrift, tmp_path: Path):
    plan = best_sites(zweitschrift, k_max=3)
    proposed = _chosen(plan, 3)
    row = plan.per_k.set_index("k").loc[3]
    assert evaluate_sites(zweitschrift, proposed).per_k.loc[0, "participants_covered"] == \
        pytest.approx(row["participants_covered"])
    # The same sites added to the course list with that format, read back and analysed.
    text = demo_files().courses.read_text(encoding="utf-8-sig").rstrip("\n").split("\n")
    header = text[0] + ";x;y;crs"
    body = [line + ";;;" for line in text[1:]]
    cols = header.split(";")
    rows_of = {line.split(";")[0]: dict(zip(cols, line.split(";"), strict=True)) for line in body}
    sites = demo.cands.set_index("candidate_id").loc[proposed]
    assert set(sites["source"]) == {"bestehend", "Haltestelle"}
    for i, (cid, site) in enumerate(sites.iterrows()):
        # An existing site keeps its columns; a new one gets its point in EPSG:25832.
        values = rows_of.get(cid) or dict.fromkeys(cols, "") | {
            "site_id": cid, "provider": "Planung", "site_name": site["name"],
            "x": f"{site['x']:.3f}", "y": f"{site['y']:.3f}", "crs": "EPSG:25832"}
        values = values | {"course_id": f"P{i}", "course_type": "zweitschrift",
                           "schedule": "", "weekdays": "Mo-Fr", "start_time": "08:30",
                           "end_time": "12:45", "childcare": "nein", "capacity": "",
                           "free_places": "", "next_start": "", "notes": ""}
        body.append(";".join(values[c] for c in cols))
    path = tmp_path / "kursorte_plan.csv"
    path.write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
    courses = read_courses(path)
    access = course_access(demo.pool, demo.cells, courses, SCHOOL_DAY, on_demand=False)
    district = coverage_summary(access, by="district").iloc[0]
    assert row["participants_reachable"] == pytest.approx(district["part_type_zweitschrift"])
    assert row["participants_covered"] == pytest.approx(district["part_type_zweitschrift"])
    inside = (demo.cells["participants"] * demo.cells["in_district"]).to_numpy()
    got = plan.sites[plan.sites["k"] == 3].set_index("candidate_id")["participants_reachable"]
    for i, cid in enumerate(proposed):
        k = int(np.flatnonzero(access.courses["course_id"].to_numpy() == f"P{i}")[0])
        assert got[cid] == pytest.approx(inside @ access.attend()[:, k])


# --------------------------------------------------------------------------------------------
# When: start times
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("course_id", ["KS01-1", "KS01-2"])
def test_sweep_at_the_course_start_equals_course_access(demo, course_id):
    row = demo.access.courses.set_index("course_id").loc[course_id]
    fmt = CourseFormat(str(row["course_type"]), int(row["weekday_mask"]), int(row["start_time"]),
                       int(row["end_time"]))
    site = demo.cands.set_index("candidate_id", drop=False).loc[row["site_id"]]
    starts = ["08:30", "18:00", int(row["start_time"])]
    sweep = start_time_sweep(demo.pool, demo.cells, site, fmt, SCHOOL_DAY, starts=starts)
    k = int(np.flatnonzero(demo.access.courses["course_id"].to_numpy() == course_id)[0])
    keep = (demo.cells["in_district"] & (demo.cells["participants"] > 0)).to_numpy()
    att = demo.access.attend()[keep, k]
    cells = demo.cells[keep]
    at = sweep.district.set_index("start_time").loc[int(row["start_time"])]
    assert at["participants"] == pytest.approx(cells["participants"].to_numpy() @ att)
    assert at["end_time"] == row["end_time"]
    per = cells.assign(p=cells["participants"] * att).groupby("ags")["p"].sum()
    gem = sweep.gemeinden[sweep.gemeinden["start_time"] == int(row["start_time"])]
    assert gem.set_index("ags")["participants"].to_numpy() == pytest.approx(
        per.loc[gem["ags"]].to_numpy())
    assert sweep.district["start"].tolist() == ["08:30", "18:00"]
    if course_id != "KS01-1":
        return
    # Probing's last bus home leaves Beispielstadt at 17:08: within 90 minutes each way its
    # people can attend the morning course at 08:30 but not at 18:00.
    far = start_time_sweep(demo.pool, demo.cells, site, fmt, SCHOOL_DAY, starts=starts[:2],
                           threshold_min=90)
    probing = far.gemeinden[far.gemeinden["ags"] == EVENING_GAP_GEMEINDE].set_index("start")
    assert probing.loc["18:00", "participants"] == 0
    assert probing.loc["08:30", "participants"] > 0


def test_sweep_default_range_and_bad_input(demo):
    fmt = CourseFormat.parse("alpha", "Mo-Fr", "08:30", "10:00")
    site = demo.cands.set_index("candidate_id", drop=False).loc["KS03"]
    sweep = start_time_sweep(demo.pool, demo.cells, site, fmt, SCHOOL_DAY)
    assert len(sweep.district) == 49
    assert sweep.district["start"].iloc[[0, 1, -1]].tolist() == ["07:00", "07:15", "19:00"]
    assert (sweep.district["end_time"] - sweep.district["start_time"] == 5400).all()
    assert sweep.district["participants"].nunique() > 3  # the bus times show
    total = sweep.gemeinden.groupby("start_time")["participants"].sum()
    assert total.to_numpy() == pytest.approx(sweep.district["participants"].to_numpy())
    with pytest.raises(ConfigError, match="Startzeit '25:99' ist keine Uhrzeit"):
        start_time_sweep(demo.pool, demo.cells, site, fmt, SCHOOL_DAY, starts=["08:00", "25:99"])
    care = CourseFormat.parse("eltern", "Mo-Fr", "08:30", "10:00", childcare=True)
    with pytest.raises(ConfigError, match="Standort KS03 hat keine Kinderbetreuung"):
        start_time_sweep(demo.pool, demo.cells, site, care, SCHOOL_DAY)


# --------------------------------------------------------------------------------------------
# How soon: inflow model and rotation
# --------------------------------------------------------------------------------------------
def test_inflow_model_formula_and_simulation():
    weeks = class_start_weeks([100.0, 40.0, 0.0], 15, inflow_share_per_month=0.02)
    per_month = 365.25 / 7 / 12
    assert weeks["inflow_per_month"].tolist() == pytest.approx([2.0, 0.8, 0.0])
    assert weeks["weeks_to_start"].iloc[:2].tolist() == pytest.approx(
        [7.5 * per_month, 18.75 * per_month])
    assert weeks["mean_wait_weeks"].iloc[0] == pytest.approx(3.5 * per_month)
    assert np.isinf(weeks["weeks_to_start"].iloc[2])
    # Poisson arrivals at 2 a month: the 15th arrives after 7.5 months on average, and a member
    # of the class waits (15 - 1) / (2 * 2) = 3.5 months.
    rng = np.random.default_rng(7)
    gaps = rng.exponential(1 / 2.0, size=(20_000, 15))
    arrivals = np.cumsum(gaps, axis=1)
    assert arrivals[:, -1].mean() == pytest.approx(7.5, rel=0.01)
    assert (arrivals[:, -1:] - arrivals).mean() == pytest.approx(3.5, rel=0.01)
    with pytest.raises(ConfigError, match="die Mindestgruppengröße muss mindestens 1 sein"):
        class_start_weeks([10.0], 0)


def test_rotation_covers_in_turn_and_counts_the_wait():
    # c0 (10 people) attends only A, c1 (5) A and B, c2 (4) only C, c3 (1) nothing.
    att = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 0, 0]], dtype=bool)
    cov = _synthetic(att, [10.0, 5.0, 4.0, 1.0], ids=["A", "B", "C"],
                     ags=["09999111", "09999111", "09999112", "09999112"])
    rot = rotation(cov, ["A", "B", "C"], term_weeks=26, horizon_weeks=52,
                   min_class_size={"alpha": 8})
    terms = rot.terms
    assert terms["candidate_id"].tolist() == ["A", "B"]
    assert terms["start_week"].tolist() == [0, 26]
    assert terms["participants"].tolist() == [15, 5]
    assert terms["new_participants"].tolist() == [15, 0]
    assert terms["cumulative_participants"].tolist() == [15, 15]
    assert terms["reaches_min"].tolist() == [True, False]
    gem = rot.gemeinden.set_index("ags")
    assert gem.loc["09999111", "participants_covered_year"] == 15
    assert gem.loc["09999111", "first_turn_week"] == 0
    # Cycle of 78 weeks: c0 waits 78**2 / (2 * 78) = 39; c1's turns are 26 and 52 weeks apart.
    c1 = (26**2 + 52**2) / (2 * 78)
    assert gem.loc["09999111", "mean_wait_weeks"] == pytest.approx((10 * 39 + 5 * c1) / 15)
    assert gem.loc["09999112", "participants_covered_year"] == 0
    assert np.isnan(gem.loc["09999112", "first_turn_week"])  # C's term starts in week 52
    assert gem.loc["09999112", "mean_wait_weeks"] == pytest.approx(39)
    assert gem.loc["09999112", "participants_never"] == 1
    assert rot.notes == ["im Zeitraum von 52 Wochen kommen nur 2 der 3 Standorte an die Reihe"]
    with pytest.raises(ConfigError, match="unbekannte Standorte in der Rotation: X"):
        rotation(cov, ["A", "X"])
    with pytest.raises(ConfigError, match="die Rotation braucht mindestens einen Standort"):
        rotation(cov, [])
    with pytest.raises(ConfigError, match="Semesterlänge und Zeitraum müssen positiv sein"):
        rotation(cov, ["A"], term_weeks=0)


def test_rotation_on_the_demo_district(zweitschrift):
    sequence = ["KS04", "KS06", "KS08"]
    rot = rotation(zweitschrift, sequence, term_weeks=17.5, horizon_weeks=52)
    assert rot.terms["candidate_id"].tolist() == sequence
    pos = pd.Index(zweitschrift.candidates["candidate_id"]).get_indexer(sequence)
    union = zweitschrift.attend()[:, pos].any(axis=1)
    part = zweitschrift.cells["participants"].to_numpy()
    assert rot.terms["cumulative_participants"].iloc[-1] == pytest.approx(part @ union)
    assert rot.gemeinden["participants_covered_year"].sum() == pytest.approx(part @ union)
    assert rot.gemeinden["participants"].sum() == pytest.approx(part.sum())
    musterbach = rot.gemeinden.set_index("gen").loc["Musterbach"]  # KS04 is there
    assert musterbach["first_turn_week"] == 0 and musterbach["share_covered_year"] > 0.5
