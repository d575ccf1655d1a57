"""'Von hier aus' (kurszugang.analysis.from_here): exactly the courses the coverage says a cell can
attend, with its times, and journeys that give those times, checked against Router.journey."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from kurszugang.analysis.coverage import course_access
from kurszugang.analysis.from_here import from_here, nearest_course
from kurszugang.analysis.layers import travel_time_to_nearest
from kurszugang.demo import SCHOOL_DAY
from kurszugang.routing.router import Points


@pytest.fixture(scope="module")
def fh(demo):
    """The demo district on its OSM footways, as the run computes it."""
    pool = demo.pool()
    cells = demo.cells()
    access = course_access(pool, cells, demo.courses, SCHOOL_DAY, max_threshold_min=60)
    return {"pool": pool, "access": access, "result": from_here(pool, access)}


def test_pairs_are_exactly_the_courses_the_coverage_says_a_cell_can_attend(fh):
    access, pairs = fh["access"], fh["result"].pairs
    att = access.attend()
    cells = access.cells["cell_id"].astype(str).to_numpy()
    ids = access.courses["course_id"].astype(str).to_numpy()
    rows, cols = np.nonzero(att)
    want = set(zip(cells[rows], ids[cols], strict=True))
    assert set(zip(pairs["cell_id"], pairs["course_id"], strict=True)) == want
    assert len(pairs) == len(want) == 4999
    # The times are the coverage's own, to the second.
    pos = {c: i for i, c in enumerate(cells)}
    kpos = {c: i for i, c in enumerate(ids)}
    r = pairs["cell_id"].map(pos).to_numpy()
    k = pairs["course_id"].map(kpos).to_numpy()
    assert np.array_equal(pairs["time_there_s"].to_numpy(), access.time_there[r, k])
    assert np.array_equal(pairs["time_back_s"].to_numpy(), access.time_back[r, k])
    assert (pairs["time_there_s"] <= 45 * 60).all() and (pairs["time_back_s"] <= 45 * 60).all()
    assert np.array_equal(pairs["on_demand"].to_numpy(), access.needs_on_demand[r, k])


def _legs(fh, jid):
    legs = fh["result"].legs
    return legs[legs["journey_id"] == jid].sort_values("leg")


def test_journeys_there_arrive_in_the_window_and_take_the_cells_time(fh):
    access, pairs = fh["access"], fh["result"].pairs
    courses = access.courses.set_index("course_id")
    transit = pairs[pairs["there_via"] == "ÖPNV"]
    assert len(transit) > 2000
    start = courses.loc[transit["course_id"], "start_time"].to_numpy()
    arrive = transit["arrive_site"].to_numpy()
    assert (arrive <= start).all() and (arrive >= start - 30 * 60).all()
    assert np.array_equal(arrive - transit["leave_home"].to_numpy(),
                          transit["time_there_s"].to_numpy())
    for row in transit.drop_duplicates("there_journey").itertuples():  # each shared journey
        legs = _legs(fh, row.there_journey)
        assert legs["mode"].iloc[0] == "ride" and legs["arrival"].iloc[-1] == row.arrive_site
        assert row.leave_home + row.there_walk_s <= legs["departure"].iloc[0]
        assert (legs["departure"].to_numpy()[1:] >= legs["arrival"].to_numpy()[:-1]).all()
        assert legs["to_stop_id"].iloc[-1] is None or pd.isna(legs["to_stop_id"].iloc[-1])


def test_journeys_home_leave_at_the_end_and_equal_router_journeys(fh):
    access, pairs, pool = fh["access"], fh["result"].pairs, fh["pool"]
    courses = access.courses.set_index("course_id")
    transit = pairs[pairs["back_via"] == "ÖPNV"]
    assert len(transit) > 2000 and (pairs["back_via"] != "").all()
    assert np.array_equal(transit["leave_site"].to_numpy(),
                          courses.loc[transit["course_id"], "end_time"].to_numpy())
    for row in transit.drop_duplicates("back_journey").itertuples():
        legs = _legs(fh, row.back_journey)
        assert legs["departure"].iloc[0] >= row.leave_site
        assert legs["arrival"].iloc[-1] + row.back_walk_s == row.arrive_home
    # A sample of cells routed on their own: Router.journey gives the same arrival home.
    cells = access.cells.set_index(access.cells["cell_id"].astype(str))
    sample = transit.sample(25, random_state=3)
    for row in sample.itertuples():
        c = courses.loc[row.course_id]
        router = pool.get(c["analysis_day"])
        site = Points(np.array(["site"], dtype=object), np.array([[c["site_x"], c["site_y"]]]))
        home = Points(np.array([row.cell_id], dtype=object),
                      cells.loc[[row.cell_id], ["x_utm", "y_utm"]].to_numpy(float))
        j = router.journey(site, home, departure=int(c["end_time"]), max_time_min=60)
        assert j.arrival == row.arrive_home


def test_walks_are_whole_journeys_on_foot(fh):
    pairs = fh["result"].pairs
    walk = pairs[pairs["there_via"] == "zu Fuß"]
    assert len(walk) > 1000 and walk["there_journey"].isna().all()
    assert np.array_equal(walk["there_walk_s"].to_numpy(), walk["time_there_s"].to_numpy())
    assert (walk["there_walk_m"] <= 1000 + 1e-6).all()


def test_journeys_that_cannot_be_shown_keep_their_times_and_are_counted(fh, caplog):
    result = fh["result"]
    missing = result.pairs[result.pairs["there_via"] == ""]
    assert 0 < len(missing) < 0.15 * len(result.pairs)
    assert missing["arrive_site"].isna().all() and missing["leave_home"].isna().all()
    assert missing["time_there_s"].notna().all()
    assert result.not_explained == len(missing)
    with caplog.at_level(logging.WARNING, logger="kurszugang.analysis.from_here"):
        from_here(fh["pool"], fh["access"])
    n_missing = f"{len(missing):,}".replace(",", ".")
    n_all = f"{2 * len(result.pairs):,}".replace(",", ".")
    assert (f"{n_missing} von {n_all} Wegen (Zelle und Kurs, hin oder "
            "zurück) lassen sich nicht Abschnitt für Abschnitt zeigen und behalten nur ihre "
            "Zeiten") in caplog.text


def test_shared_journeys_are_stored_once(fh):
    legs = fh["result"].legs
    key = legs.groupby("journey_id").apply(
        lambda g: tuple(map(tuple, g[["mode", "from_stop_id", "to_stop_id", "departure",
                                      "arrival"]].astype(str).to_numpy())), include_groups=False)
    assert key.is_unique
    assert legs["journey_id"].nunique() < 0.05 * len(fh["result"].pairs)


def test_nearest_course_gives_the_median_time_of_each_gemeinde(fh):
    access = fh["access"]
    near = nearest_course(access).set_index("ags")
    want = travel_time_to_nearest(access).set_index("ags")["minutes_nearest"]
    assert np.allclose(near["minutes"].reindex(want.index), want, equal_nan=True)
    assert near["course_id"].isna().equals(near["minutes"].isna())
    # The course named gives that time to the median cell: its longer leg is the median.
    ags = near["minutes"].dropna().index[0]
    k = list(access.courses["course_id"]).index(near.loc[ags, "course_id"])
    cells = access.cells.reset_index(drop=True)
    inside = (cells["ags"] == ags).to_numpy()
    longer = np.fmax(access.time_there[inside, k], access.time_back[inside, k]) / 60
    assert np.isclose(longer, near.loc[ags, "minutes"]).any()
