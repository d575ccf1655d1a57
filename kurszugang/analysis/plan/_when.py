"""When: participants who can attend a format at one site, as a function of its start time.

The course keeps its length; for each start time the rule of
:mod:`kurszugang.analysis.coverage` is applied as for a course starting then (two searches per
start time). By default the start times run every 15 minutes from 07:00 to 19:00
(:data:`DEFAULT_SWEEP`): mornings, afternoons and evenings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from kurszugang.analysis.coverage import (
    DEFAULT_EARLY_ARRIVAL_MIN,
    DEFAULT_THRESHOLD_MIN,
    RouterPool,
    course_day,
    time_back,
    time_there,
)
from kurszugang.analysis.plan._coverage import (
    CourseFormat,
    as_date,
    attend_matrix,
    check_rule,
    district_homes,
    hhmm,
)
from kurszugang.dates import parse_clock
from kurszugang.errors import ConfigError
from kurszugang.routing.router import Points

if TYPE_CHECKING:
    import geopandas as gpd

#: Default start times: first, last (``HH:MM``) and step (minutes).
DEFAULT_SWEEP = ("07:00", "19:00", 15)
#: Columns of :attr:`StartSweep.district`, in order.
SWEEP_COLUMNS = ("start_time", "start", "end_time", "end", "participants", "share")
#: Columns of :attr:`StartSweep.gemeinden`, in order.
SWEEP_GEMEINDE_COLUMNS = ("start_time", "start", "ags", "gen", "participants",
                          "participants_total", "share")


@dataclass(frozen=True, eq=False)
class StartSweep:
    """Participants who can attend a format at one site, per start time.

    Attributes
    ----------
    candidate_id
        The site.
    course_format
        The format (its own start is one of the rows only if it was asked for).
    analysis_day
        The day analysed (the format's weekday in the week of the date asked for).
    district
        One row per start time (:data:`SWEEP_COLUMNS`): ``start_time``, ``end_time`` (seconds
        after midnight), ``start``, ``end`` (``HH:MM``), ``participants`` (who can attend,
        people), ``share`` (of the district's potential participants).
    gemeinden
        One row per start time and Gemeinde with participants (:data:`SWEEP_GEMEINDE_COLUMNS`):
        ``participants`` (who can attend), ``participants_total`` (the Gemeinde's), ``share``.
    notes
        Remarks (German).
    """

    candidate_id: str
    course_format: CourseFormat
    analysis_day: dt.date
    district: pd.DataFrame
    gemeinden: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _starts(starts: Sequence[str | int] | None) -> np.ndarray:
    if starts is None:
        first, last, step = DEFAULT_SWEEP
        return np.arange(parse_clock(first), parse_clock(last) + 1, step * 60, dtype=np.int64)
    out = []
    for value in starts:
        try:
            out.append(parse_clock(value))
        except ValueError:
            raise ConfigError(f"Startzeit {value!r} ist keine Uhrzeit (erwartet HH:MM, z. B. "
                              "08:30)") from None
    if not out:
        raise ConfigError("keine Startzeiten angegeben (erwartet z. B. ['08:00', '08:15'])")
    return np.unique(np.asarray(out, dtype=np.int64))


def _site(site: pd.Series, course_format: CourseFormat) -> Points:
    for col in ("candidate_id", "x", "y"):
        if col not in site.index:
            raise ConfigError(f"dem Standort fehlt {col} (erwartet eine Zeile der "
                              "Kandidatentabelle)")
    if course_format.childcare and not bool(site.get("has_childcare", False)):
        raise ConfigError(f"Standort {site['candidate_id']} hat keine Kinderbetreuung, das Format "
                          f"{course_format} braucht sie")
    return Points(np.array([str(site["candidate_id"])], dtype=object),
                  np.array([[float(site["x"]), float(site["y"])]]))


def start_time_sweep(
    pool: RouterPool,
    cells: gpd.GeoDataFrame | pd.DataFrame,
    site: pd.Series,
    course_format: CourseFormat,
    date: dt.date | str,
    *,
    starts: Sequence[str | int] | None = None,
    threshold_min: float = DEFAULT_THRESHOLD_MIN,
    early_arrival_min: float = DEFAULT_EARLY_ARRIVAL_MIN,
) -> StartSweep:
    """Who can attend ``course_format`` at ``site`` if it started at each of ``starts``.

    Parameters
    ----------
    pool
        Routers for the feed.
    cells
        Grid cells (:func:`~kurszugang.analysis.grid.analysis_grid`); those in the district
        with participants count.
    site
        One row of the candidate table (:func:`plan_candidates`): ``candidate_id``, ``x``,
        ``y`` (EPSG:25832), ``has_childcare``.
    course_format
        The format; its length and weekdays are kept, its start is varied.
    date
        Analysis date (the format's weekday in the same week is analysed).
    starts
        Start times (``HH:MM`` or seconds); default every 15 minutes from 07:00 to 19:00.
    threshold_min, early_arrival_min
        The rule, as in :func:`~kurszugang.analysis.coverage.course_access`.

    Returns
    -------
    StartSweep

    Raises
    ------
    ConfigError
        For a start time that is no clock time, a site without childcare for a childcare
        format, a row without ``candidate_id``/``x``/``y``, or parameters out of range.

    Examples
    --------
    >>> site = cands.set_index("candidate_id", drop=False).loc["KS01"]
    >>> sweep = start_time_sweep(pool, cells, site, fmt, "2026-03-10",
    ...                          starts=["07:30", "08:30", "09:30", "13:00", "18:00"])
    >>> sweep.district[["start", "participants"]]
       start  participants
    0  07:30        173.15
    1  08:30        175.85
    2  09:30        173.15
    3  13:00         99.00
    4  18:00         89.35
    """
    day0 = as_date(date)
    check_rule(threshold_min, early_arrival_min)
    times = _starts(starts)
    point = _site(site, course_format)
    home, table = district_homes(cells)
    day = course_day(day0, course_format.weekday_mask)
    assert day is not None
    router = pool.get(day)
    length = course_format.duration_s
    att = np.zeros((len(home), len(times)), dtype=bool)
    for i, start in enumerate(times):  # over start times, not cells
        there = time_there(router, home, point, int(start), early_arrival_min, threshold_min)
        back = time_back(router, point, home, int(start) + length, threshold_min)
        att[:, i] = attend_matrix(there, back, threshold_min)
    part = table["participants"].to_numpy(float)
    reach = part @ att
    district = pd.DataFrame({
        "start_time": times, "start": [hhmm(int(t)) for t in times],
        "end_time": times + length, "end": [hhmm(int(t) + length) for t in times],
        "participants": reach, "share": reach / part.sum()})
    notes = [] if day == day0 else [f"geprüft am {day:%d.%m.%Y}, dem Kurstag der Woche des "
                                    f"{day0:%d.%m.%Y}"]
    return StartSweep(str(point.ids[0]), course_format, day, district,
                      _by_gemeinde(table, att, district), notes)


def _by_gemeinde(table: pd.DataFrame, att: np.ndarray, district: pd.DataFrame) -> pd.DataFrame:
    part = table["participants"].to_numpy(float)
    codes, ags = pd.factorize(table["ags"].astype("string"), sort=True)
    n_g = len(ags)
    member = sp.csr_array((part, (codes, np.arange(len(part)))), shape=(n_g, len(part)))
    reach = np.asarray(member @ att.astype(np.float64))  # (n_gemeinden, n_starts)
    total = np.bincount(codes, weights=part, minlength=n_g)
    names = table.drop_duplicates("ags").set_index("ags")["gen"].reindex(ags)
    n_t = len(district)
    return pd.DataFrame({
        "start_time": np.tile(district["start_time"].to_numpy(), n_g),
        "start": np.tile(district["start"].to_numpy(dtype=object), n_g),
        "ags": pd.array(np.repeat(ags.to_numpy(dtype=object), n_t), dtype="string"),
        "gen": pd.array(np.repeat(names.to_numpy(dtype=object), n_t), dtype="string"),
        "participants": reach.ravel(),
        "participants_total": np.repeat(total, n_t),
        "share": (reach / total[:, None]).ravel(),
    })
