"""What the web map needs for "von hier aus", computed in the run.

A click on a populated grid cell (or an address typed into the search) shows which courses can be
attended from there at their times, there and back, and the journeys leg by leg. The rule is the
coverage's (:class:`~kurszugang.analysis.coverage.CourseAccess`): arrive at most
``early_arrival_min`` before the start and no later than the start, leave when the course ends,
each way within ``threshold_min``. The times per cell and course are the coverage's own numbers;
this module adds the journeys that realise them.

**Journeys are shared between cells.** A journey from a cell is a walk to a first stop and the
rest of the journey from that stop; cells that use the same stop share the rest. Per course and
direction the site is routed once to or from every stop (one reverse search over the arrival
window, one forward search from the end), each cell picks the stop that gives its own time, and
:meth:`~kurszugang.routing.router.Router.journey` explains the rest once per stop used. A shared
journey is kept for a cell only if the cell's walk plus the journey gives exactly the cell's time
from :class:`~kurszugang.analysis.coverage.CourseAccess`; otherwise the cell keeps its times and is
counted as *not explained* (``there_via``/``back_via`` empty), never shown with a wrong journey.
The journey there is not explained, for example, where the fastest bus from the latest departure
arrives more than ``early_arrival_min`` before the start (the rule then counts a slower one, which
a forward search cannot show).

The results are two tables: ``von_hier`` (one row per cell and course it can attend) and
``verbindungen`` (the shared journeys, one row per leg). ``naechster_kurs`` names, per Gemeinde,
the course behind its median travel time, and ``adressen`` is the search index of the page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kurszugang.results import Table, build_table
from kurszugang.routing.router import Points
from kurszugang.words import de_number

if TYPE_CHECKING:
    from kurszugang.analysis.context import RunContext
    from kurszugang.analysis.coverage import CourseAccess, RouterPool
    from kurszugang.routing.router import Router

log = logging.getLogger(__name__)

__all__ = ["FromHere", "address_table", "from_here", "from_here_table", "journey_table",
           "nearest_course", "nearest_course_table"]

#: Columns of :attr:`FromHere.legs` (and of the table ``verbindungen``).
LEG_COLUMNS = ["journey_id", "direction", "leg", "mode", "from_stop_id", "from_stop_name",
               "to_stop_id", "to_stop_name", "route_name", "on_demand", "departure", "arrival",
               "metres"]


@dataclass(frozen=True)
class FromHere:
    """From every populated cell: the courses it can attend and the journeys, leg by leg.

    Attributes
    ----------
    pairs
        One row per cell and course it can attend (see the table ``von_hier`` in
        :mod:`kurszugang.schema`): times there and back (seconds), the walk from home to the
        first stop and from the last stop home, and the shared journey used each way.
    legs
        The shared journeys (table ``verbindungen``): the legs from the first stop to the site
        (``direction`` "hin") and from the site to the last stop ("zurück").
    """

    pairs: pd.DataFrame
    legs: pd.DataFrame

    @property
    def not_explained(self) -> int:
        """Legs (there or back) whose journey could not be shown (times are still given)."""
        return int((self.pairs["there_via"] == "").sum() + (self.pairs["back_via"] == "").sum())


@dataclass
class _Shared:
    """What every course's search uses: cells, stops, walks between them, journey ids."""

    cells: pd.DataFrame
    cxy: np.ndarray
    stops: Points
    stop_index: dict[str, int]
    walks: pd.DataFrame  # cell, stop, seconds, metres (every walk of a cell to a stop)
    self_s: np.ndarray  # per stop: seconds from its point to itself on the footways
    early_s: int
    max_min: float
    on_demand: frozenset[str]
    next_id: int = 0
    legs: list[pd.DataFrame] = field(default_factory=list)
    seen: dict[tuple[Any, ...], int] = field(default_factory=dict)


def _walk_frame(legs: Any) -> pd.DataFrame:
    rows = np.repeat(np.arange(len(legs.indptr) - 1), np.diff(legs.indptr))
    return pd.DataFrame({"cell": rows, "stop": legs.indices.astype(np.int64),
                         "seconds": legs.seconds.astype(np.float64),
                         "metres": legs.metres.astype(np.float64)})


def _shared(pool: RouterPool, access: CourseAccess) -> _Shared:
    router = pool.get(access.date)
    cells = access.cells.reset_index(drop=True)
    cxy = cells[["x_utm", "y_utm"]].to_numpy(float)
    stops = router.stops()
    walks = _walk_frame(router.walking.legs(cxy, stops.xy))
    own = _walk_frame(router.walking.legs(stops.xy, stops.xy))
    own = own[own["cell"] == own["stop"]]
    self_s = np.zeros(len(stops.xy))
    self_s[own["stop"].to_numpy()] = own["seconds"].to_numpy()
    return _Shared(cells, cxy, stops, {str(s): i for i, s in enumerate(stops.ids)}, walks,
                   self_s, int(round(access.early_arrival_min * 60)), access.max_threshold_min,
                   frozenset(pool.on_demand_route_ids))


def _journey_legs(sh: _Shared, router: Router, legs: pd.DataFrame, direction: str) -> int:
    """Store a journey's legs under a new id; returns the id."""
    out = legs.reset_index(drop=True)
    key = (direction, tuple(map(tuple, out[["mode", "from_stop_id", "to_stop_id", "trip_id",
                                            "departure", "arrival"]].astype(str).to_numpy())))
    if key in sh.seen:
        return sh.seen[key]
    jid = sh.next_id
    sh.next_id += 1
    sh.seen[key] = jid
    route_ids = out["route_id"].astype(object)
    frame = pd.DataFrame({
        "journey_id": jid, "direction": direction, "leg": np.arange(len(out)),
        "mode": out["mode"].astype(str).to_numpy(),
        "from_stop_id": out["from_stop_id"], "from_stop_name": out["from_stop_name"],
        "to_stop_id": out["to_stop_id"], "to_stop_name": out["to_stop_name"],
        "route_name": out["route_name"],
        "on_demand": route_ids.isin(sh.on_demand).to_numpy(bool),
        "departure": out["departure"].astype(np.int64), "arrival": out["arrival"].astype(np.int64),
        "metres": out["metres"].astype(float)})
    sh.legs.append(frame)
    return jid


def _site(course: pd.Series) -> Points:
    return Points(np.array([str(course["site_id"])], dtype=object),
                  np.array([[float(course["site_x"]), float(course["site_y"])]]))


def _stop_point(sh: _Shared, s: int) -> Points:
    return Points(sh.stops.ids[s:s + 1], sh.stops.xy[s:s + 1])


def _best_via(sh: _Shared, cells: np.ndarray, want: np.ndarray, journeys: pd.DataFrame
              ) -> pd.DataFrame:
    """Per cell the first journey whose walk + journey time equals the cell's own time.

    ``journeys`` has ``stop`` (the stop the cell walks to or from), ``cost`` (seconds the journey
    adds to the walk) and ``jid``; ``want`` is the cell's time (seconds) per entry of ``cells``.
    """
    walks = sh.walks[sh.walks["cell"].isin(cells)]
    if not len(journeys) or not len(walks):
        return pd.DataFrame(columns=["cell", "jid", "seconds", "metres"])
    m = walks.merge(journeys, on="stop")
    target = pd.Series(want, index=cells)
    m = m[(m["seconds"] + m["cost"]).to_numpy() == target.reindex(m["cell"]).to_numpy()]
    return m.sort_values(["cell", "jid"]).drop_duplicates("cell")[
        ["cell", "jid", "seconds", "metres"]]


def _there(sh: _Shared, router: Router, course: pd.Series, cells: np.ndarray,
           want: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Journeys there (arriving in the window before the start) shared by the cells.

    Returns the cells' chosen journeys (``cell, jid, seconds, metres``) and per journey id its
    arrival at the site.
    """
    start = int(course["start_time"])
    first = start - sh.early_s
    site = _site(course)
    ab = router.arrive_by(sh.stops, site, arrive_by=first, window=sh.early_s + 1, step_s=1,
                          earliest_arrival=first, max_time_min=sh.max_min, dense=True)
    latest = np.asarray(ab.latest_departure, dtype=float)
    need = np.where(np.isfinite(latest), ab.deadlines[None, :] - latest, np.inf)
    col = need.argmin(axis=1)
    t_stop = need[np.arange(len(col)), col]
    dep = latest[np.arange(len(col)), col]
    cand = sh.walks[sh.walks["cell"].isin(cells)]
    cost = cand["seconds"].to_numpy() + t_stop[cand["stop"]] - sh.self_s[cand["stop"]]
    ok = cost == pd.Series(want, index=cells).reindex(cand["cell"]).to_numpy()
    rows, arrivals = [], {}
    for s in np.unique(cand["stop"].to_numpy()[ok]):  # one journey per stop used (not per cell)
        j = router.journey(_stop_point(sh, int(s)), site, departure=int(dep[s]),
                           max_time_min=sh.max_min)
        legs = j.legs
        if (j.arrival is None or not first <= j.arrival <= start or len(legs) < 2
                or legs["mode"].iloc[0] != "walk" or not isinstance(legs["to_stop_id"].iloc[0], str)):
            continue
        board = sh.stop_index[legs["to_stop_id"].iloc[0]]
        jid = _journey_legs(sh, router, legs.iloc[1:], "hin")
        rows.append((board, float(j.arrival - int(legs["arrival"].iloc[0])), jid))
        arrivals[jid] = int(j.arrival)
    rows = list(dict.fromkeys(rows))
    journeys = pd.DataFrame(rows, columns=["stop", "cost", "jid"])
    arr = np.full(sh.next_id, -1, dtype=np.int64)
    for jid, a in arrivals.items():
        arr[jid] = a
    return _best_via(sh, cells, want, journeys), arr


def _back(sh: _Shared, router: Router, course: pd.Series, cells: np.ndarray,
          want: np.ndarray) -> pd.DataFrame:
    """Journeys home (leaving the site at the end) shared by the cells."""
    end = int(course["end_time"])
    site = _site(course)
    tt = router.travel_times(site, sh.stops, departure=end, window=1, percentiles=(50,),
                             max_time_min=sh.max_min, workers=1)
    at_stop = np.asarray(tt.seconds[0, :, 0], dtype=float)
    at_stop[~(at_stop >= 0)] = np.inf  # not reachable (negative or NaN)
    cand = sh.walks[sh.walks["cell"].isin(cells)]
    cost = at_stop[cand["stop"]] - sh.self_s[cand["stop"]] + cand["seconds"].to_numpy()
    ok = cost == pd.Series(want, index=cells).reindex(cand["cell"]).to_numpy()
    rows = []
    for s in np.unique(cand["stop"].to_numpy()[ok]):  # one journey per stop used (not per cell)
        j = router.journey(site, _stop_point(sh, int(s)), departure=end, max_time_min=sh.max_min)
        row = _home_journey(sh, router, j, end)
        if row is not None:
            rows.append(row)
    best = _best_via(sh, cells, want, pd.DataFrame(rows, columns=["stop", "cost", "jid"]))
    for _ in range(_ROUNDS):  # cells still without a journey: one journey per group of them
        rest = ~np.isin(cells, best["cell"].to_numpy())
        if not rest.any():
            break
        for c in _representatives(sh, cells[rest]):
            j = router.journey(site, Points(sh.cells["cell_id"].to_numpy(dtype=object)[c:c + 1],
                                            sh.cxy[c:c + 1]), departure=end,
                               max_time_min=sh.max_min)
            row = _home_journey(sh, router, j, end)
            if row is not None:
                rows.append(row)
        best = _best_via(sh, cells, want, pd.DataFrame(rows, columns=["stop", "cost", "jid"]))
    return best


#: Rounds of journeys from representative cells for the cells no stop's journey explains.
_ROUNDS = 2


def _representatives(sh: _Shared, cells: np.ndarray) -> np.ndarray:
    """One cell per nearest stop among ``cells`` (the first of each group)."""
    walks = sh.walks[sh.walks["cell"].isin(cells)].sort_values(["cell", "seconds", "stop"])
    nearest = walks.drop_duplicates("cell")
    return nearest.drop_duplicates("stop")["cell"].to_numpy(np.int64)


def _home_journey(sh: _Shared, router: Router, j: Any, end: int
                  ) -> tuple[int, float, int] | None:
    """(last stop, seconds from the end to leaving it on foot, journey id) of a journey home,
    or None if it does not end with a walk from a stop."""
    legs = j.legs
    if (j.arrival is None or len(legs) < 2 or legs["mode"].iloc[-1] != "walk"
            or not isinstance(legs["from_stop_id"].iloc[-1], str)):
        return None
    alight = sh.stop_index[legs["from_stop_id"].iloc[-1]]
    jid = _journey_legs(sh, router, legs.iloc[:-1], "zurück")
    return (alight, float(int(legs["departure"].iloc[-1]) - end), jid)


def _direct(router: Router, sh: _Shared, course: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Seconds and metres of walking straight from each cell to the site (inf: too far), up
    to the router's limit of a walk without any vehicle where it has one of its own."""
    limit = getattr(router, "max_direct_walk_m", None)
    options: dict[str, Any] = {} if limit is None else {"max_m": float(limit)}
    legs = router.walking.legs(_site(course).xy, sh.cxy, **options)
    sec = np.full(len(sh.cxy), np.inf)
    met = np.full(len(sh.cxy), np.nan)
    sec[legs.indices] = legs.seconds
    met[legs.indices] = legs.metres
    return sec, met


def _course_pairs(sh: _Shared, pool: RouterPool, access: CourseAccess, k: int,
                  cells: np.ndarray) -> pd.DataFrame:
    """The rows of ``von_hier`` for course ``k`` and the cells that can attend it."""
    course = access.courses.iloc[k]
    router = pool.get(course["analysis_day"])
    there_t = access.time_there[cells, k]
    back_t = access.time_back[cells, k]
    start, end = int(course["start_time"]), int(course["end_time"])
    walk_s, walk_m = _direct(router, sh, course)
    walk_there = walk_s[cells] == there_t
    walk_back = walk_s[cells] == back_t
    there, arrival = _there(sh, router, course, cells[~walk_there], there_t[~walk_there])
    back = _back(sh, router, course, cells[~walk_back], back_t[~walk_back])
    out = pd.DataFrame({"cell": cells, "course_id": str(course["course_id"]),
                        "time_there_s": there_t, "time_back_s": back_t})
    t = there.set_index("cell").reindex(cells)
    b = back.set_index("cell").reindex(cells)
    jid_t = t["jid"].to_numpy(dtype=float)
    has_t = np.isfinite(jid_t)
    arrive = np.where(walk_there, start, np.nan)
    arrive[has_t] = arrival[jid_t[has_t].astype(np.int64)]
    out["there_via"] = np.where(walk_there, "zu Fuß", np.where(has_t, "ÖPNV", ""))
    out["arrive_site"] = arrive
    out["leave_home"] = arrive - there_t
    out["there_walk_m"] = np.where(walk_there, walk_m[cells], t["metres"].to_numpy(float))
    out["there_walk_s"] = np.where(walk_there, walk_s[cells], t["seconds"].to_numpy(float))
    out["there_journey"] = np.where(walk_there, np.nan, jid_t)
    has_b = b["jid"].notna().to_numpy()
    out["back_via"] = np.where(walk_back, "zu Fuß", np.where(has_b, "ÖPNV", ""))
    out["leave_site"] = float(end)
    out["arrive_home"] = end + back_t
    out["back_walk_m"] = np.where(walk_back, walk_m[cells], b["metres"].to_numpy(float))
    out["back_walk_s"] = np.where(walk_back, walk_s[cells], b["seconds"].to_numpy(float))
    out["back_journey"] = np.where(walk_back, np.nan, b["jid"].to_numpy(float))
    out["on_demand"] = access.needs_on_demand[cells, k]
    return out


def from_here(pool: RouterPool, access: CourseAccess, *,
              threshold_min: float | None = None) -> FromHere:
    """From every cell of ``access``: the courses it can attend, with the journeys.

    Parameters
    ----------
    pool
        The routers the coverage was computed with (:class:`~kurszugang.analysis.coverage.
        RouterPool`).
    access
        The coverage at course times (:func:`~kurszugang.analysis.coverage.course_access`).
    threshold_min
        Longest journey each way (default: the coverage's threshold).

    Returns
    -------
    FromHere
        ``pairs`` holds exactly the pairs ``access.attend(threshold_min)`` marks, with the
        coverage's times; legs are shared between cells (see the module's description).

    Examples
    --------
    >>> fh = from_here(pool, access)
    >>> fh.pairs.groupby("cell_id")["course_id"].apply(list).head()
    cell_id
    CRS3035RES100mN2900900E4496800    [KS08-1]
    CRS3035RES100mN2900900E4496900    [KS08-1]
    CRS3035RES100mN2901000E4496600    [KS08-1]
    CRS3035RES100mN2901000E4496700    [KS08-1]
    CRS3035RES100mN2901000E4496800    [KS08-1]
    Name: course_id, dtype: object
    >>> len(fh.pairs) == int(access.attend().sum())
    True
    """
    att = access.attend(threshold_min)
    sh = _shared(pool, access)
    parts = []
    for k in range(len(access.courses)):  # one search per course and direction, not per cell
        cells = np.flatnonzero(att[:, k])
        if len(cells):
            parts.append(_course_pairs(sh, pool, access, k, cells))
    pairs = pd.concat(parts, ignore_index=True) if parts else _empty_pairs()
    pairs.insert(0, "cell_id", sh.cells["cell_id"].astype(str).to_numpy()[
        pairs.pop("cell").to_numpy(np.int64)])
    legs = pd.concat(sh.legs, ignore_index=True) if sh.legs else pd.DataFrame(columns=LEG_COLUMNS)
    result = FromHere(pairs, legs[LEG_COLUMNS])
    missing = pairs[(pairs["there_via"] == "") | (pairs["back_via"] == "")]
    if len(missing):
        log.warning("von hier aus: %s von %s Wegen (Zelle und Kurs, hin oder zurück) lassen "
                    "sich nicht Abschnitt für Abschnitt zeigen und behalten nur ihre Zeiten "
                    "(z. B. Zelle %s, Kurs %s)", de_number(result.not_explained),
                    de_number(2 * len(pairs)), missing["cell_id"].iloc[0],
                    missing["course_id"].iloc[0])
    log.info("von hier aus: %s Paare aus Zelle und Kurs, %s gemeinsame Verbindungen",
             de_number(len(pairs)), de_number(sh.next_id))
    return result


def _empty_pairs() -> pd.DataFrame:
    cols = ["cell", "course_id", "time_there_s", "time_back_s", "there_via", "arrive_site",
            "leave_home", "there_walk_m", "there_walk_s", "there_journey", "back_via",
            "leave_site", "arrive_home", "back_walk_m", "back_walk_s", "back_journey",
            "on_demand"]
    return pd.DataFrame({c: pd.Series(dtype=object if c.endswith("via") else float)
                         for c in cols}).astype({"cell": np.int64})


def nearest_course(access: CourseAccess) -> pd.DataFrame:
    """Per Gemeinde the course behind its median travel time to the nearest course.

    The cells of a Gemeinde sorted by their time (the longer leg to the course where it is
    shortest, as :func:`kurszugang.analysis.layers.travel_time_to_nearest`); the cell at the
    participant-weighted median gives the time and its course.

    Returns
    -------
    pandas.DataFrame
        ``ags``, ``course_id`` and ``minutes`` (NaN and no course where the median is beyond the
        times computed).
    """
    there = np.nan_to_num(access.time_there, nan=np.inf)
    back = np.nan_to_num(access.time_back, nan=np.inf)
    longer = np.maximum(there, back)
    cells = access.cells.reset_index(drop=True)
    n = len(cells)
    best = longer.argmin(axis=1) if longer.shape[1] else np.zeros(n, dtype=np.int64)
    t = longer[np.arange(n), best] / 60.0 if longer.shape[1] else np.full(n, np.inf)
    frame = pd.DataFrame({"ags": cells["ags"].astype("string").to_numpy(), "t": t,
                          "w": cells["participants"].to_numpy(float),
                          "course_id": access.courses["course_id"].astype(str).to_numpy()[best]
                          if len(access.courses) else ""})
    frame = frame[frame["ags"].notna() & (frame["w"] > 0)].sort_values(["ags", "t"],
                                                                        kind="stable")
    frame["cum"] = frame.groupby("ags")["w"].cumsum() / frame.groupby("ags")["w"].transform("sum")
    med = frame[frame["cum"] >= 0.5 - 1e-12].groupby("ags").first()
    far = ~np.isfinite(med["t"].to_numpy())
    return pd.DataFrame({"ags": med.index.astype(str),
                         "course_id": med["course_id"].where(~far, None).to_numpy(dtype=object),
                         "minutes": np.where(far, np.nan, med["t"].to_numpy())})


# --- producers of the run's tables ---------------------------------------------------------


def from_here_table(ctx: RunContext) -> Table:
    """Producer of ``von_hier``: per populated cell the courses it can attend, there and back."""
    pairs = ctx.from_here.pairs.copy()
    for c in ("there_journey", "back_journey", "arrive_site", "leave_home", "leave_site",
              "arrive_home", "time_there_s", "time_back_s", "there_walk_s", "back_walk_s"):
        pairs[c] = pd.array(np.round(pairs[c].to_numpy(float)), dtype="Float64").astype("Int64")
    return build_table("von_hier", pairs)


def journey_table(ctx: RunContext) -> Table:
    """Producer of ``verbindungen``: the journeys of ``von_hier``, leg by leg."""
    return build_table("verbindungen", ctx.from_here.legs)


def nearest_course_table(ctx: RunContext) -> Table:
    """Producer of ``naechster_kurs``: per Gemeinde the course behind its median time."""
    return build_table("naechster_kurs", nearest_course(ctx.school))


def address_table(ctx: RunContext) -> Table:
    """Producer of ``adressen``: the search index of the web map (addresses, streets, places
    of the OSM extract and the Gemeinden), inside the district and its grid buffer."""
    from kurszugang.io.addresses import address_index

    return build_table("adressen", address_index(ctx.addresses, ctx.inputs.gemeinden,
                                                 buffer_m=ctx.cfg.grid.buffer_m))
