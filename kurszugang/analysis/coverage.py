"""Coverage at course times: who can get to each course before it starts and home after it ends.

A grid cell can *attend* a course when, on the analysis day,

- **there**: some journey from the cell arrives at the course site no later than the start and
  no earlier than ``early_arrival_min`` before it, and takes at most ``threshold_min`` from
  leaving home to arriving (exact to the second: reverse RAPTOR over every arrival second of that
  window, see :meth:`kurszugang.routing.router.Router.arrive_by`), and
- **back**: leaving the site when the course ends, one is home within ``threshold_min``, waiting
  for the first bus included (forward RAPTOR from the site at the end time).

A course runs on some weekdays. It is analysed on the analysis date if it runs on that weekday,
otherwise on the first day of the same calendar week (Monday to Sunday) on which it runs.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kurszugang.errors import ConfigError
from kurszugang.results import Table, build_table
from kurszugang.routing.router import Points, Router
from kurszugang.routing.timetable import _WEEKDAYS
from kurszugang.words import plural

if TYPE_CHECKING:
    import geopandas as gpd

    from kurszugang.analysis.context import RunContext
    from kurszugang.io.courses import CourseList
    from kurszugang.io.gtfs import Feed
    from kurszugang.io.osm import WalkNetwork

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD_MIN = 45.0
DEFAULT_EARLY_ARRIVAL_MIN = 30.0


class RouterPool:
    """Routers for one feed, built on demand and kept per (date, without on-demand lines).

    Parameters
    ----------
    feed
        The GTFS feed.
    walk_network
        Optional OSM walking network shared by all routers.
    **router_options
        Passed to :class:`~kurszugang.routing.router.Router` (walking speed, slack, ...).
    """

    def __init__(self, feed: Feed, walk_network: WalkNetwork | None = None,
                 **router_options: object) -> None:
        self.feed = feed
        self.walk_network = walk_network
        self.options = router_options
        self._routers: dict[tuple[dt.date, bool], Router] = {}
        self._legs_cache: dict = {}  # walking legs do not depend on the date: share them
        self.on_demand_route_ids = feed.on_demand_route_ids()

    def get(self, date: dt.date, *, without_on_demand: bool = False) -> Router:
        """The router for ``date`` (optionally without the on-demand routes)."""
        key = (date, without_on_demand)
        if key not in self._routers:
            exclude = self.on_demand_route_ids if without_on_demand else frozenset()
            self._routers[key] = Router(self.feed, date, walk_network=self.walk_network,
                                        exclude_route_ids=exclude, legs_cache=self._legs_cache,
                                        **self.options)  # type: ignore[arg-type]
        return self._routers[key]


def course_day(date: dt.date, weekday_mask: int) -> dt.date | None:
    """The day a course is analysed on: ``date`` if it runs that weekday, else the first day
    of the same Monday-to-Sunday week on which it runs (None if it runs on no day)."""
    if weekday_mask & (1 << date.weekday()):
        return date
    monday = date - dt.timedelta(days=date.weekday())
    for i in range(7):
        if weekday_mask & (1 << i):
            return monday + dt.timedelta(days=i)
    return None


@dataclass(frozen=True)
class CourseAccess:
    """Travel times between grid cells and every course, at the course's times.

    Attributes
    ----------
    date
        The analysis date.
    cells
        The grid cells analysed (rows of :func:`kurszugang.analysis.grid.analysis_grid`).
    courses
        One row per course (the course list's columns plus ``site_x``, ``site_y`` (EPSG:25832),
        ``analysis_day``, ``has_childcare_site``).
    time_there, time_back
        ``float64`` ``(n_cells, n_courses)`` seconds: shortest journey there arriving in the
        allowed window before the start; journey home leaving at the end (waiting included).
        NaN where no journey within ``max_threshold_min``.
    needs_on_demand
        ``bool`` ``(n_cells, n_courses)``: attendable within ``threshold_min`` only with the
        on-demand lines (False everywhere when the feed has none).
    threshold_min, early_arrival_min, max_threshold_min
        Parameters (minutes); times were computed up to ``max_threshold_min`` so that
        :meth:`attend` can be asked for any threshold up to it.
    """

    date: dt.date
    cells: gpd.GeoDataFrame
    courses: pd.DataFrame
    time_there: np.ndarray
    time_back: np.ndarray
    needs_on_demand: np.ndarray
    threshold_min: float
    early_arrival_min: float
    max_threshold_min: float
    as_of: dt.date | None = None
    notes: list[str] = field(default_factory=list)

    def attend(self, threshold_min: float | None = None) -> np.ndarray:
        """``bool`` ``(n_cells, n_courses)``: both legs within the threshold (default: the run's)."""
        th = self.threshold_min if threshold_min is None else threshold_min
        if th > self.max_threshold_min:
            raise ConfigError(f"threshold {th} min is above the {self.max_threshold_min} min the "
                              "times were computed for")
        limit = th * 60
        there = np.nan_to_num(self.time_there, nan=np.inf) <= limit
        back = np.nan_to_num(self.time_back, nan=np.inf) <= limit
        return there & back


def course_access(
    pool: RouterPool,
    cells: gpd.GeoDataFrame,
    courses: CourseList,
    date: dt.date,
    *,
    threshold_min: float = DEFAULT_THRESHOLD_MIN,
    early_arrival_min: float = DEFAULT_EARLY_ARRIVAL_MIN,
    max_threshold_min: float | None = None,
    on_demand: bool = True,
) -> CourseAccess:
    """Which cells can attend which course on ``date``, and how long each leg takes.

    Parameters
    ----------
    pool
        Routers for the feed (:class:`RouterPool`).
    cells
        Grid cells (from :func:`~kurszugang.analysis.grid.analysis_grid`, usually with
        ``populated_only=True``); their ``x_utm, y_utm`` centres are the homes.
    courses
        The course list (:func:`kurszugang.io.courses.read_courses`).
    date
        Analysis date (e.g. a school day, or a day in the school holidays).
    threshold_min
        Longest acceptable journey each way, minutes (default 45).
    early_arrival_min
        Arriving more than this before the start does not count (minutes, default 30).
    max_threshold_min
        Times are computed up to this (default: ``threshold_min``); set it to the largest
        threshold you want to compare (e.g. 60) to ask :meth:`CourseAccess.attend` for several.
    on_demand
        Also find the cells that need the on-demand lines (a second routing without them).

    Returns
    -------
    CourseAccess

    Examples
    --------
    >>> pool = RouterPool(feed, walk)
    >>> access = course_access(pool, cells, courses, dt.date(2026, 3, 10))
    >>> access.attend().sum(axis=0)  # cells per course
    array([1100,  218,  366,  358,  353, 1178,  162,  439,  135,  135,  232,
            232,   91])
    """
    if threshold_min <= 0 or early_arrival_min < 0:
        raise ConfigError("threshold must be positive and early arrival not negative")
    max_th = float(max_threshold_min or threshold_min)
    if max_th < threshold_min:
        raise ConfigError("max_threshold_min must be at least threshold_min")
    home = Points(cells["cell_id"].astype(str).to_numpy(dtype=object),
                  np.column_stack([cells["x_utm"].to_numpy(float), cells["y_utm"].to_numpy(float)]))
    table = courses.courses.merge(
        pd.DataFrame({"site_id": courses.sites["site_id"].to_numpy(),
                      "site_x": courses.sites.geometry.x.to_numpy(),
                      "site_y": courses.sites.geometry.y.to_numpy(),
                      "has_childcare_site": courses.sites["has_childcare"].to_numpy(bool)}),
        on="site_id", how="left").reset_index(drop=True)
    table["analysis_day"] = [course_day(date, int(m)) for m in table["weekday_mask"]]
    n_c, n_k = len(home), len(table)
    there = np.full((n_c, n_k), np.nan)
    back = np.full((n_c, n_k), np.nan)
    needs = np.zeros((n_c, n_k), dtype=bool)
    has_on_demand = bool(pool.on_demand_route_ids) and on_demand
    notes: list[str] = []
    days = table["analysis_day"].to_list()
    starts = table["start_time"].to_numpy(np.int64)
    ends = table["end_time"].to_numpy(np.int64)
    site_xy = table[["site_x", "site_y"]].to_numpy(np.float64)
    for k in range(n_k):
        day = days[k]
        if day is None:
            notes.append(f"Kurs {table['course_id'].iloc[k]} läuft an keinem Wochentag: nicht "
                         f"ausgewertet")
            continue
        site = Points(np.array([str(table["site_id"].iloc[k])], dtype=object), site_xy[k:k + 1])
        t_there, t_back = _legs_for_course(pool.get(day), home, site, int(starts[k]),
                                           int(ends[k]), early_arrival_min, max_th)
        there[:, k], back[:, k] = t_there, t_back
        if has_on_demand:
            w_there, w_back = _legs_for_course(pool.get(day, without_on_demand=True), home, site,
                                               int(starts[k]), int(ends[k]),
                                               early_arrival_min, max_th)
            with_od = (np.nan_to_num(t_there, nan=np.inf) <= threshold_min * 60) & (
                np.nan_to_num(t_back, nan=np.inf) <= threshold_min * 60)
            without = (np.nan_to_num(w_there, nan=np.inf) <= threshold_min * 60) & (
                np.nan_to_num(w_back, nan=np.inf) <= threshold_min * 60)
            needs[:, k] = with_od & ~without
    moved = table[table["analysis_day"].notna() & (table["analysis_day"] != date)]
    if len(moved):
        notes.append(f"{plural(len(moved), 'Kurs läuft', 'Kurse laufen')} nicht am "
                     f"{_WEEKDAYS[date.weekday()]} {date}; ausgewertet an ihrem Tag derselben "
                     f"Woche (z. B. {moved['course_id'].iloc[0]} am "
                     f"{moved['analysis_day'].iloc[0]})")
    for n in notes:
        log.info(n)
    return CourseAccess(date, cells, table, there, back, needs, float(threshold_min),
                        float(early_arrival_min), max_th, courses.as_of, notes)


def time_there(router: Router, home: Points, site: Points, start: int, early_min: float,
               max_min: float) -> np.ndarray:
    """Seconds of the shortest journey from each home arriving at the site in
    ``[start - early_min, start]`` (NaN: none within ``max_min``), exact to the second."""
    early_s = int(round(early_min * 60))
    first = start - early_s
    there = router.arrive_by(home, site, arrive_by=first, window=early_s + 1, step_s=1,
                             earliest_arrival=first, max_time_min=max_min, dense=False)
    return there.shortest()


def time_back(router: Router, site: Points, home: Points, end: int, max_min: float) -> np.ndarray:
    """Seconds from leaving the site at ``end`` to arriving home, waiting included (NaN: none
    within ``max_min``)."""
    back = router.travel_times(site, home, departure=end, window=1, percentiles=(50,),
                               max_time_min=max_min, workers=1)
    t_back = back.seconds[0, :, 0].astype(np.float64)
    return t_back


def _legs_for_course(router: Router, home: Points, site: Points, start: int, end: int,
                     early_min: float, max_min: float) -> tuple[np.ndarray, np.ndarray]:
    """(time there, time back) in seconds per cell for one course (NaN: not within max_min)."""
    return (time_there(router, home, site, start, early_min, max_min),
            time_back(router, site, home, end, max_min))


def _groups(cells: gpd.GeoDataFrame, by: str) -> pd.Series:
    if by == "district":
        label = pd.Series("district", index=cells.index, dtype="string")
        return label.where(cells["in_district"].astype(bool))
    return cells[by].astype("string")


def coverage_summary(access: CourseAccess, *, by: str = "ags",
                     threshold_min: float | None = None) -> pd.DataFrame:
    """Inhabitants and potential participants who can attend, per Gemeinde, VG or district.

    Parameters
    ----------
    access
        The result of :func:`course_access`.
    by
        ``"ags"`` (Gemeinde), ``"vg"`` (Verwaltungsgemeinschaft) or ``"district"``.
    threshold_min
        Threshold to evaluate (default: the run's).

    Returns
    -------
    pandas.DataFrame
        One row per group (only cells inside the district count): ``inhabitants``,
        ``participants``; for each course type T present ``inh_type_T``/``part_type_T``
        (can attend at least one course of type T); for each schedule S ``inh_sched_S``/
        ``part_sched_S``; ``inh_childcare``/``part_childcare`` (a course with childcare);
        ``inh_any``/``part_any``, ``inh_none``/``part_none`` (no course at all);
        ``part_only_on_demand`` (participants whose only attendable courses need the on-demand
        line). For ``by="ags"`` also ``gen``.
    """
    if by not in ("ags", "vg", "district"):
        raise ConfigError(f"coverage can be summed by 'ags', 'vg' or 'district', not {by!r}")
    cells = access.cells.reset_index(drop=True)
    att = access.attend(threshold_min)
    courses = access.courses
    inh = cells["inhabitants"].to_numpy(float)
    part = cells["participants"].to_numpy(float)
    cols: dict[str, np.ndarray] = {"inhabitants": inh, "participants": part}

    def any_of(mask: np.ndarray) -> np.ndarray:
        if not mask.any():
            return np.zeros(len(cells), dtype=bool)
        return np.asarray(att[:, mask].any(axis=1), dtype=bool)

    for t in sorted(courses["course_type"].unique()):
        ok = any_of((courses["course_type"] == t).to_numpy())
        cols[f"inh_type_{t}"], cols[f"part_type_{t}"] = inh * ok, part * ok
    for s in sorted(courses["schedule"].unique()):
        ok = any_of((courses["schedule"] == s).to_numpy())
        cols[f"inh_sched_{s}"], cols[f"part_sched_{s}"] = inh * ok, part * ok
    ok = any_of(courses["childcare"].to_numpy(bool))
    cols["inh_childcare"], cols["part_childcare"] = inh * ok, part * ok
    anyc = att.any(axis=1)
    cols["inh_any"], cols["part_any"] = inh * anyc, part * anyc
    cols["inh_none"], cols["part_none"] = inh * ~anyc, part * ~anyc
    only_od = anyc & (att & access.needs_on_demand).any(axis=1) & ~(att & ~access.needs_on_demand).any(axis=1)
    cols["part_only_on_demand"] = part * only_od
    key = _groups(cells, by)
    frame = pd.DataFrame(cols)
    inside = key.notna().to_numpy()
    out = frame[inside].groupby(key[inside].to_numpy()).sum()
    out.index.name = by
    if by == "ags":
        names = cells.dropna(subset=["ags"]).drop_duplicates("ags").set_index("ags")["gen"]
        out.insert(0, "gen", names.reindex(out.index).to_numpy())
    return out.reset_index()


def compare_days(a: CourseAccess, b: CourseAccess, *, by: str = "ags",
                 columns: Iterable[str] = ("inh_any", "part_any")) -> pd.DataFrame:
    """Side by side: coverage on day ``a`` (e.g. a school day) and day ``b`` (a holiday).

    Returns one row per group with ``{col}_{a.date}``, ``{col}_{b.date}`` and ``{col}_diff``
    (a minus b) for each column.
    """
    sa = coverage_summary(a, by=by).set_index(by)
    sb = coverage_summary(b, by=by).set_index(by)
    out = pd.DataFrame(index=sa.index.union(sb.index))
    out.index.name = by
    if "gen" in sa.columns:
        out["gen"] = sa["gen"].reindex(out.index).fillna(sb["gen"].reindex(out.index))
    for c in columns:
        va = sa[c].reindex(out.index).fillna(0) if c in sa else 0.0
        vb = sb[c].reindex(out.index).fillna(0) if c in sb else 0.0
        out[f"{c}_{a.date}"] = va
        out[f"{c}_{b.date}"] = vb
        out[f"{c}_diff"] = va - vb
    return out.reset_index()


def gaps(access: CourseAccess, *, threshold_min: float | None = None) -> pd.DataFrame:
    """Per Gemeinde: the course types and schedules nobody there can attend, and other gaps.

    Returns
    -------
    pandas.DataFrame
        One row per Gemeinde with ``ags``, ``gen``, ``missing_types`` and ``missing_schedules``
        (comma-separated, of those offered somewhere), ``no_childcare`` (no inhabitant can
        attend a course with childcare), ``only_on_demand`` (every inhabitant who can attend any
        course needs the on-demand line for it), ``inhabitants``.
    """
    s = coverage_summary(access, by="ags", threshold_min=threshold_min)
    types = sorted(access.courses["course_type"].unique())
    scheds = sorted(access.courses["schedule"].unique())
    att = access.attend(threshold_min)
    cells = access.cells.reset_index(drop=True)
    inh = cells["inhabitants"].to_numpy(float)
    without = (att & ~access.needs_on_demand).any(axis=1)
    per = pd.Series(inh * without).groupby(cells["ags"].astype("string").to_numpy()).sum()
    out = pd.DataFrame({
        "ags": s["ags"],
        "gen": s["gen"],
        "inhabitants": s["inhabitants"],
        "missing_types": [", ".join(t for t in types if row[f"inh_type_{t}"] <= 0)
                          for _, row in s.iterrows()],
        "missing_schedules": [", ".join(x for x in scheds if row[f"inh_sched_{x}"] <= 0)
                              for _, row in s.iterrows()],
        "no_childcare": (s["inh_childcare"] <= 0).to_numpy(),
        "only_on_demand": ((s["inh_any"] > 0) & (s["ags"].map(per).fillna(0) <= 0)).to_numpy(),
    })
    return out


# --- producers of the run's tables ---------------------------------------------------------


def _kinds(access: CourseAccess) -> dict[str, list[str]]:
    c = access.courses
    return {"course_type": sorted(c["course_type"].astype(str).unique()),
            "schedule": sorted(c["schedule"].astype(str).unique())}


def _with_share(summary: pd.DataFrame) -> pd.DataFrame:
    part = summary["participants"].to_numpy(float)
    summary["share_part_any"] = np.divide(100.0 * summary["part_any"].to_numpy(float), part,
                                          out=np.full(len(part), np.nan), where=part > 0)
    return summary


def coverage_by_gemeinde(ctx: RunContext) -> Table:
    """Producer of ``kursbesuch``: coverage per Gemeinde on the school day."""
    return build_table("kursbesuch", _with_share(coverage_summary(ctx.school)),
                       **_kinds(ctx.school))


def coverage_by_vg(ctx: RunContext) -> Table:
    """Producer of ``kursbesuch_vg``: coverage per Verwaltungsgemeinschaft."""
    return build_table("kursbesuch_vg", _with_share(coverage_summary(ctx.school, by="vg")),
                       **_kinds(ctx.school))


def coverage_of_district(ctx: RunContext) -> Table:
    """Producer of ``kursbesuch_kreis``: coverage of the whole district (one row)."""
    return build_table("kursbesuch_kreis",
                       _with_share(coverage_summary(ctx.school, by="district")),
                       **_kinds(ctx.school))


def school_day_and_holiday(ctx: RunContext) -> Table:
    """Producer of ``schultag_ferien``."""
    table = compare_days(ctx.school, ctx.holiday_access)
    return build_table("schultag_ferien", table, date=[ctx.school_day, ctx.holiday])


def gaps_by_gemeinde(ctx: RunContext) -> Table:
    """Producer of ``luecken``."""
    return build_table("luecken", gaps(ctx.school))
