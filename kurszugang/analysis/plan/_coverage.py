"""Coverage of one course format at candidate sites: which grid cells could attend it where.

The rule is the one of :mod:`kurszugang.analysis.coverage`: a cell can attend the format at a
candidate when a journey arrives there no later than the start and no earlier than
``early_arrival_min`` before it, a journey home leaves at the end, and each takes at most
``threshold_min``; on the analysis day, moved to the format's weekday as
:func:`~kurszugang.analysis.coverage.course_day` does. The times come from the same functions
(:func:`~kurszugang.analysis.coverage.time_there`, :func:`~kurszugang.analysis.coverage.time_back`)
that :func:`~kurszugang.analysis.coverage.course_access` calls, so a candidate gives exactly the
numbers a course of that format at that point would give.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from tqdm import tqdm

from kurszugang.analysis.coverage import (
    DEFAULT_EARLY_ARRIVAL_MIN,
    DEFAULT_THRESHOLD_MIN,
    RouterPool,
    course_day,
    time_back,
    time_there,
)
from kurszugang.dates import parse_clock, parse_date
from kurszugang.errors import ConfigError, InputError, RoutingError
from kurszugang.io.courses import parse_weekdays
from kurszugang.routing.router import Points
from kurszugang.routing.walking import NetworkWalking

if TYPE_CHECKING:
    import geopandas as gpd

    from kurszugang.routing.router import Router

log = logging.getLogger(__name__)

_DAY_NAMES = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
#: Columns a candidate table needs (see :func:`plan_candidates`).
CANDIDATE_NEEDS = ("candidate_id", "name", "x", "y", "has_childcare")
_CELL_NEEDS = ("cell_id", "x_utm", "y_utm", "ags", "gen", "in_district", "participants")
#: Columns of :attr:`FormatCoverage.groups`, in order.
GROUP_COLUMNS = ("group_id", "participants", "cells", "candidates")
#: Columns of :meth:`FormatCoverage.abdeckung`, in order.
ABDECKUNG_COLUMNS = ("candidate_id", "group_id", "participants", "covered")


def hhmm(seconds: int) -> str:
    """``HH:MM`` of seconds after midnight (hours may exceed 23)."""
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def as_date(value: dt.date | str, what: str = "Analysetag") -> dt.date:
    """A date from a ``date`` or text (ISO or German), as a :class:`ConfigError` if it is none."""
    try:
        return parse_date(value)
    except ValueError as exc:
        raise ConfigError(f"{what}: {exc}") from None


def check_rule(threshold_min: float, early_arrival_min: float) -> None:
    """Raise a :class:`ConfigError` for a threshold that is not positive or a negative early
    arrival."""
    if not threshold_min > 0:
        raise ConfigError(f"die Reisezeitschwelle muss positiv sein, nicht {threshold_min} min")
    if not early_arrival_min >= 0:
        raise ConfigError("die zulässige Ankunft vor Kursbeginn darf nicht negativ sein, nicht "
                          f"{early_arrival_min} min")


@dataclass(frozen=True)
class CourseFormat:
    """A course format to plan: course type, weekdays, start and end, childcare.

    Parameters
    ----------
    course_type
        Course type code, e.g. ``"allgemein"``, ``"alpha"``, ``"eltern"``.
    weekday_mask
        Weekdays as a bit mask, Monday = bit 0 (``31`` = Monday to Friday).
    start_time, end_time
        Start and end, seconds after midnight.
    childcare
        The format needs childcare (Kinderbeaufsichtigung) at the site: only candidates with
        ``has_childcare`` can host it.

    Raises
    ------
    ConfigError
        For an empty course type, a mask outside 1..127 or an end not after the start.

    Examples
    --------
    >>> fmt = CourseFormat.parse("alpha", "Mo-Fr", "08:30", "12:45")
    >>> fmt.weekday_mask, fmt.start_time, fmt.duration_s
    (31, 30600, 15300)
    >>> str(fmt)
    'alpha Mo,Di,Mi,Do,Fr 08:30-12:45'
    """

    course_type: str
    weekday_mask: int
    start_time: int
    end_time: int
    childcare: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.course_type, str) or not self.course_type.strip():
            raise ConfigError("Kursformat: die Kursart fehlt (erwartet z. B. allgemein, alpha, "
                              "eltern)")
        if not 1 <= int(self.weekday_mask) <= 127:
            raise ConfigError(f"Kursformat {self.course_type}: Wochentage {self.weekday_mask!r} "
                              "sind keine Wochentage (erwartet eine Maske von 1 bis 127, "
                              "Montag = 1)")
        if self.start_time < 0 or self.end_time <= self.start_time:
            raise ConfigError(f"Kursformat {self.course_type}: das Ende {hhmm(self.end_time)} "
                              f"liegt nicht nach dem Beginn {hhmm(self.start_time)}")

    @classmethod
    def parse(cls, course_type: str, weekdays: str | int, start: str | int, end: str | int, *,
              childcare: bool = False) -> CourseFormat:
        """A format from text as users type it: ``"Mo-Fr"``, ``"08:30"``, ``"12:45"``.

        Parameters
        ----------
        course_type
            Course type code.
        weekdays
            Weekday text (as in course lists: ``"Mo-Fr"``, ``"Mo,Mi,Fr"``, ``"Di+Do"``) or a mask.
        start, end
            Clock times ``HH:MM`` (or seconds after midnight).
        childcare
            The format needs childcare at the site.

        Raises
        ------
        ConfigError
            Naming the field that is not understood.
        """
        mask = weekdays if isinstance(weekdays, int) else parse_weekdays(str(weekdays))
        if mask is None:
            raise ConfigError(f"Kursformat {course_type}: Wochentage {weekdays!r} sind nicht "
                              "lesbar (erwartet z. B. Mo-Fr, Mo,Mi,Fr oder Di+Do)")
        return cls(course_type, int(mask), _clock(start, "Beginn", course_type),
                   _clock(end, "Ende", course_type), bool(childcare))

    @property
    def duration_s(self) -> int:
        """Length of a course day in seconds."""
        return self.end_time - self.start_time

    @property
    def weekdays(self) -> str:
        """The weekdays as text, e.g. ``"Mo,Mi,Do"``."""
        return ",".join(d for i, d in enumerate(_DAY_NAMES) if self.weekday_mask & (1 << i))

    def starting_at(self, start: int) -> CourseFormat:
        """The same format starting at ``start`` (seconds), its length kept."""
        return dataclasses.replace(self, start_time=int(start),
                                   end_time=int(start) + self.duration_s)

    def __str__(self) -> str:
        care = " mit Kinderbetreuung" if self.childcare else ""
        return (f"{self.course_type} {self.weekdays} {hhmm(self.start_time)}-"
                f"{hhmm(self.end_time)}{care}")


def _clock(value: str | int, what: str, course_type: str) -> int:
    try:
        return parse_clock(value)
    except ValueError:
        raise ConfigError(f"Kursformat {course_type}: {what} {value!r} ist keine Uhrzeit "
                          "(erwartet HH:MM, z. B. 08:30)") from None


@dataclass(frozen=True, eq=False)
class FormatCoverage:
    """Travel times between the district's cells and every candidate, at the format's times.

    Attributes
    ----------
    course_format
        The format analysed.
    date
        The analysis date asked for (e.g. a school day).
    analysis_day
        The day analysed: ``date`` moved to the format's weekday in the same week
        (:func:`~kurszugang.analysis.coverage.course_day`).
    candidates
        The candidate table (:func:`plan_candidates`) plus ``eligible`` (bool: routed; False
        without childcare for a childcare format or off the walking network), ``excluded``
        (reason in German, NA when eligible) and ``participants`` (potential participants who
        can attend the format there, people, float).
    cells
        The cells that count: inside the district with potential participants; ``cell_id``,
        ``ags``, ``gen``, ``participants`` (people, float).
    time_there, time_back
        ``float64`` ``(n_cells, n_candidates)`` seconds, as in
        :class:`~kurszugang.analysis.coverage.CourseAccess`; NaN where no journey within
        ``threshold_min`` or the candidate is not eligible.
    threshold_min, early_arrival_min
        The rule's parameters (minutes).
    notes
        What was left out and why (German).
    """

    course_format: CourseFormat
    date: dt.date
    analysis_day: dt.date
    candidates: pd.DataFrame
    cells: pd.DataFrame
    time_there: np.ndarray
    time_back: np.ndarray
    threshold_min: float = DEFAULT_THRESHOLD_MIN
    early_arrival_min: float = DEFAULT_EARLY_ARRIVAL_MIN
    notes: list[str] = field(default_factory=list)

    def attend(self) -> np.ndarray:
        """``bool`` ``(n_cells, n_candidates)``: both legs within the threshold."""
        return attend_matrix(self.time_there, self.time_back, self.threshold_min)

    @property
    def participants_total(self) -> float:
        """Potential participants in the district (people), whether they can attend or not."""
        return float(self.cells["participants"].sum())

    @cached_property
    def _grouping(self) -> tuple[np.ndarray, np.ndarray]:
        att = self.attend()
        packed = np.packbits(att, axis=1)
        rows, inverse = np.unique(packed, axis=0, return_inverse=True)
        bits = np.unpackbits(rows, axis=1, count=att.shape[1]).astype(bool)
        some = np.asarray(bits.any(axis=1), dtype=bool)
        group_of_row = np.where(some, np.cumsum(some), 0)
        return group_of_row[np.asarray(inverse).ravel()], bits[some]

    @property
    def cell_group(self) -> np.ndarray:
        """``int64`` per cell: its group id (1, 2, ...), 0 for cells that can attend nowhere."""
        return self._grouping[0]

    @property
    def group_attend(self) -> np.ndarray:
        """``bool`` ``(n_groups, n_candidates)``: row ``g`` is the coverage of group ``g + 1``."""
        return self._grouping[1]

    @property
    def groups(self) -> pd.DataFrame:
        """Cells with identical coverage merged: one row per group that can attend somewhere.

        Columns: ``group_id`` (int, from 1), ``participants`` (people in the group's cells,
        float), ``cells`` (number of cells), ``candidates`` (number of candidates the group can
        attend).
        """
        gid = self.cell_group
        n = len(self.group_attend)
        part = np.bincount(gid, weights=self.cells["participants"].to_numpy(float),
                           minlength=n + 1)[1:]
        return pd.DataFrame({"group_id": np.arange(1, n + 1, dtype=np.int64),
                             "participants": part,
                             "cells": np.bincount(gid, minlength=n + 1)[1:].astype(np.int64),
                             "candidates": self.group_attend.sum(axis=1).astype(np.int64)})

    def abdeckung(self) -> pd.DataFrame:
        """The coverage table to re-check a plan: one row per candidate and group that can attend.

        Columns: ``candidate_id``, ``group_id``, ``participants`` (of the group, people),
        ``covered`` (always 1). With the minimum class size and the fixed sites of
        :class:`SitePlan` this is the whole optimisation problem.
        """
        g, j = np.nonzero(self.group_attend)
        part = self.groups["participants"].to_numpy(float)
        out = pd.DataFrame({
            "candidate_id": pd.array(self.candidates["candidate_id"].to_numpy(dtype=object)[j],
                                     dtype="string"),
            "group_id": (g + 1).astype(np.int64),
            "participants": part[g],
            "covered": np.ones(len(g), dtype=np.int64),
        })
        return out.sort_values(["candidate_id", "group_id"], kind="stable").reset_index(drop=True)


def attend_matrix(there: np.ndarray, back: np.ndarray, threshold_min: float) -> np.ndarray:
    """``bool``: both legs (seconds, NaN = none) within ``threshold_min``, as
    :meth:`~kurszugang.analysis.coverage.CourseAccess.attend` decides."""
    limit = threshold_min * 60
    return ((np.nan_to_num(there, nan=np.inf) <= limit)
            & (np.nan_to_num(back, nan=np.inf) <= limit))


def check_candidates(candidates: pd.DataFrame) -> pd.DataFrame:
    """The candidate table with ``candidate_id`` as text, checked for columns and unique ids."""
    missing = [c for c in CANDIDATE_NEEDS if c not in candidates.columns]
    if missing:
        raise InputError(f"der Kandidatentabelle fehlen die Spalten {', '.join(missing)} "
                         "(erwartet die Tabelle von plan_candidates)")
    if len(candidates) == 0:
        raise InputError("die Kandidatentabelle ist leer (erwartet mindestens einen Standort)")
    out = candidates.reset_index(drop=True).copy()
    out["candidate_id"] = out["candidate_id"].astype("string")
    dup = out["candidate_id"].duplicated()
    if dup.any():
        raise InputError(f"candidate_id {out['candidate_id'][dup].iloc[0]!r} kommt mehrfach "
                         "vor (erwartet eine eindeutige Kennung je Kandidat)")
    xy = out[["x", "y"]].to_numpy(np.float64)
    if not np.isfinite(xy).all():
        bad = out["candidate_id"][~np.isfinite(xy).all(axis=1)].iloc[0]
        raise InputError(f"Kandidat {bad!r} hat keine Koordinaten (erwartet x, y in EPSG:25832)")
    return out


def district_homes(cells: gpd.GeoDataFrame | pd.DataFrame) -> tuple[Points, pd.DataFrame]:
    """The cells that count (in the district, with participants) as routing points and a table."""
    missing = [c for c in _CELL_NEEDS if c not in cells.columns]
    if missing:
        raise InputError(f"den Rasterzellen fehlen die Spalten {', '.join(missing)} (erwartet "
                         "das Raster von analysis_grid)")
    keep = (cells["in_district"].to_numpy(bool)
            & (cells["participants"].to_numpy(float) > 0))
    if not keep.any():
        raise InputError("keine Rasterzelle im Landkreis hat potenzielle Teilnehmende: ohne sie "
                         "lässt sich nichts planen (Bevölkerungsraster und participant_factor "
                         "prüfen)")
    sel = cells[keep]
    table = pd.DataFrame({"cell_id": sel["cell_id"].astype("string").to_numpy(),
                          "ags": sel["ags"].astype("string").to_numpy(),
                          "gen": sel["gen"].astype("string").to_numpy(),
                          "participants": sel["participants"].to_numpy(np.float64)})
    home = Points(table["cell_id"].astype(str).to_numpy(dtype=object),
                  np.column_stack([sel["x_utm"].to_numpy(float), sel["y_utm"].to_numpy(float)]))
    return home, table


def site_points(candidates: pd.DataFrame, rows: Sequence[int] | np.ndarray) -> Points:
    """Routing points (EPSG:25832) of some candidate rows."""
    idx = np.asarray(rows, dtype=np.int64)
    return Points(candidates["candidate_id"].astype(str).to_numpy(dtype=object)[idx],
                  candidates[["x", "y"]].to_numpy(np.float64)[idx])


def _eligible(router: Router, candidates: pd.DataFrame,
              course_format: CourseFormat) -> tuple[np.ndarray, pd.Series, list[str]]:
    """Which candidates can host the format and are on the walking network; reasons; notes."""
    n = len(candidates)
    reason = pd.Series(pd.NA, index=range(n), dtype="string")
    notes: list[str] = []
    if course_format.childcare:
        care = candidates["has_childcare"].fillna(False).to_numpy(bool)
        reason[~care] = "keine Kinderbetreuung"
        if (~care).any():
            ids = candidates["candidate_id"][~care].astype(str).tolist()
            notes.append(f"Kandidaten ohne Kinderbetreuung, die das Format braucht, nicht "
                         f"geprüft: {len(ids)} von {n} (z. B. {', '.join(ids[:5])})")
    if isinstance(router.walking, NetworkWalking):
        snapped = router.walking.snap(candidates[["x", "y"]].to_numpy(np.float64)).ok
        off = ~np.asarray(snapped, dtype=bool) & reason.isna().to_numpy()
        reason[off] = f"weiter als {router.walking.max_snap_m:g} m vom Fußwegenetz"
        if off.any():
            ids = candidates["candidate_id"][off].astype(str).tolist()
            notes.append(f"Kandidaten weiter als {router.walking.max_snap_m:g} m vom "
                         f"Fußwegenetz, nicht geprüft: {len(ids)} (z. B. {', '.join(ids[:5])})")
    ok = reason.isna().to_numpy()
    if not ok.any():
        raise RoutingError(f"keiner der {n} Kandidaten kann das Format {course_format} anbieten: "
                           + "; ".join(notes))
    return ok, reason, notes


def format_coverage(
    pool: RouterPool,
    cells: gpd.GeoDataFrame | pd.DataFrame,
    candidates: pd.DataFrame,
    course_format: CourseFormat,
    date: dt.date | str,
    *,
    threshold_min: float = DEFAULT_THRESHOLD_MIN,
    early_arrival_min: float = DEFAULT_EARLY_ARRIVAL_MIN,
    progress: bool = False,
) -> FormatCoverage:
    """Which cells of the district could attend ``course_format`` at each candidate.

    Two searches per candidate (arrive by the start, leave at the end), with the router and the
    rule of :func:`~kurszugang.analysis.coverage.course_access`. Only cells inside the district
    with potential participants count (as in
    :func:`~kurszugang.analysis.demand.class_sizes`).

    Parameters
    ----------
    pool
        Routers for the feed (:class:`~kurszugang.analysis.coverage.RouterPool`).
    cells
        Grid cells (:func:`~kurszugang.analysis.grid.analysis_grid`).
    candidates
        Candidate sites (:func:`plan_candidates`).
    course_format
        The format (:class:`CourseFormat`).
    date
        Analysis date (e.g. a school day); ``"2026-03-10"`` or ``"10.03.2026"`` accepted.
    threshold_min
        Longest acceptable journey each way (minutes, default 45).
    early_arrival_min
        Arriving more than this before the start does not count (minutes, default 30).
    progress
        Show a progress bar over the candidates.

    Returns
    -------
    FormatCoverage
        Times per cell and candidate; cells with identical coverage merged into
        :attr:`~FormatCoverage.groups`.

    Raises
    ------
    ConfigError
        For a threshold that is not positive, a negative early arrival or a date that is none.
    InputError
        If the cells or candidates lack columns, ids repeat, or no cell has participants.
    RoutingError
        If no candidate can host the format (all without childcare or off the network).

    Examples
    --------
    >>> fmt = CourseFormat.parse("alpha", "Mo-Fr", "08:30", "12:45")
    >>> cov = format_coverage(pool, cells, cands, fmt, "2026-03-10")
    >>> cov.candidates[["candidate_id", "participants"]].head()
      candidate_id  participants
    0         KS01        175.85
    1         KS02        160.70
    2         KS03        180.60
    3         KS04         31.15
    4         KS05         12.40
    """
    day0 = as_date(date)
    check_rule(threshold_min, early_arrival_min)
    table = check_candidates(candidates)
    home, cell_table = district_homes(cells)
    day = course_day(day0, course_format.weekday_mask)
    assert day is not None  # the mask has at least one weekday
    router = pool.get(day)
    ok, reason, notes = _eligible(router, table, course_format)
    there = np.full((len(home), len(table)), np.nan)
    back = np.full((len(home), len(table)), np.nan)
    start, end = course_format.start_time, course_format.end_time
    for j in tqdm(np.flatnonzero(ok), desc="Kandidaten", unit="Standort", leave=False,
                  disable=not progress):
        site = site_points(table, [j])
        there[:, j] = time_there(router, home, site, start, early_arrival_min, threshold_min)
        back[:, j] = time_back(router, site, home, end, threshold_min)
    if day != day0:
        notes.append(f"das Format läuft nicht am {day0:%d.%m.%Y}; geprüft am {day:%d.%m.%Y}, "
                     "seinem Kurstag derselben Woche")
    table["eligible"] = ok
    table["excluded"] = reason.to_numpy()
    table["participants"] = (cell_table["participants"].to_numpy(float)
                             @ attend_matrix(there, back, threshold_min))
    cov = FormatCoverage(course_format, day0, day, table, cell_table, there, back,
                         float(threshold_min), float(early_arrival_min), notes)
    log.info("Format %s: %d von %d Kandidaten geprüft, %d Rasterzellen in %d Gruppen",
             course_format, int(ok.sum()), len(table), len(home), len(cov.group_attend))
    for n in notes:
        log.info(n)
    return cov
