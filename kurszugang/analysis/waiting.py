"""Waiting times: the next course start people can get into, per Gemeinde and per provider.

:func:`earliest_starts` answers "how soon can someone from this Gemeinde start a course of this
type?": among the courses its inhabitants can attend (both legs within the threshold, see
:mod:`kurszugang.analysis.coverage`) and that have free places, the one with the earliest next
start. :func:`providers_by_start` ranks the providers by their earliest start with free places,
to steer people to short waits.

Courses without a known number of free places are never counted as having places; where one of
them would start earlier, a flag says so (worth a phone call). Courses whose next start lies
before the reference date have started already: they are left out and reported in the log.

The columns are documented in ``docs/analysis.md`` ("Wartezeiten").
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kurszugang.dates import parse_date
from kurszugang.errors import ConfigError
from kurszugang.results import Table, build_table
from kurszugang.words import plural

if TYPE_CHECKING:
    from kurszugang.analysis.context import RunContext
    from kurszugang.analysis.coverage import CourseAccess
    from kurszugang.io.courses import CourseList

__all__ = ["EARLIEST_START_COLUMNS", "PROVIDER_COLUMNS", "earliest_starts", "providers_by_start"]

log = logging.getLogger(__name__)

#: Columns of :func:`earliest_starts`, in order.
EARLIEST_START_COLUMNS = ("ags", "gen", "course_type", "n_courses", "n_with_free_places",
                          "n_unknown_free_places", "course_id", "site_id", "provider",
                          "schedule", "next_start", "weeks_to_start", "free_places",
                          "unknown_earlier")
#: Columns of :func:`providers_by_start`, in order.
PROVIDER_COLUMNS = ("rank", "provider", "earliest_start", "weeks_to_start", "course_id",
                    "courses", "courses_with_free_places", "courses_unknown_free_places",
                    "free_places")


def _as_date(value: dt.date | str | None, what: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError as exc:
        raise ConfigError(f"{what}: {exc}") from None


def _weeks(start: pd.Series, as_of: dt.date) -> np.ndarray:
    """Weeks (days / 7, float) from ``as_of`` to each start (NaN where NaT)."""
    days = (pd.to_datetime(start) - pd.Timestamp(as_of)).dt.days.to_numpy(np.float64,
                                                                          na_value=np.nan)
    return days / 7.0


def _started(courses: pd.DataFrame, as_of: dt.date, what: str) -> np.ndarray:
    """Mask of courses whose next start lies before ``as_of`` (reported in the log)."""
    start = pd.to_datetime(courses["next_start"])
    past = (start < pd.Timestamp(as_of)).fillna(False).to_numpy(bool)
    if past.any():
        ids = courses["course_id"].astype(str).to_numpy()[past]
        log.warning("%s: %s vor dem %s begonnen und bleiben außen vor (course_id %s)", what,
                    plural(int(past.sum()), "Kurs hat", "Kurse haben"), as_of,
                    ", ".join(ids[:5]))
    return past


def earliest_starts(
    access: CourseAccess,
    *,
    threshold_min: float | None = None,
    as_of: dt.date | str | None = None,
) -> pd.DataFrame:
    """Per Gemeinde and course type: the earliest next start with free places one can attend.

    A Gemeinde can attend a course when at least one of its populated grid cells (inhabitants
    > 0) can (:meth:`~kurszugang.analysis.coverage.CourseAccess.attend`). Among those courses of
    each type with free places > 0 and a known next start not before ``as_of``, the earliest one
    is chosen (ties: the most free places, then the course id).

    Parameters
    ----------
    access
        The result of :func:`~kurszugang.analysis.coverage.course_access`.
    threshold_min
        Longest journey each way (minutes; default: the access run's threshold).
    as_of
        Date the waiting weeks are counted from, usually the course list's ``as_of`` (its
        "Stand"). Default: ``access.as_of`` where the access result carries one.

    Returns
    -------
    pandas.DataFrame
        One row per Gemeinde (with populated cells in the district) and course type offered,
        sorted by ``ags`` and ``course_type``: ``ags``, ``gen``, ``course_type``, ``n_courses``
        (courses of the type the Gemeinde can attend), ``n_with_free_places`` (of those, with
        free places > 0 and a next start), ``n_unknown_free_places`` (of those, free places not
        given), then for the chosen course ``course_id``, ``site_id``, ``provider``,
        ``schedule``, ``next_start`` (datetime64), ``weeks_to_start`` (float, days / 7 from
        ``as_of``) and ``free_places`` (Int32) – all NA when there is none – and
        ``unknown_earlier`` (bool: an attendable course of the type with unknown free places
        starts earlier than the chosen one, or there is no chosen one but such a course).

    Raises
    ------
    ConfigError
        If no reference date is known (pass ``as_of``), it is not a date, or the threshold is
        above the one the access times were computed for.

    Examples
    --------
    >>> from kurszugang.analysis.coverage import course_access
    >>> access = course_access(pool, cells, courses, SCHOOL_DAY)
    >>> starts = earliest_starts(access, as_of=courses.as_of)
    >>> starts[["gen", "course_type", "n_courses", "course_id", "weeks_to_start"]].head()
                 gen course_type  n_courses course_id  weeks_to_start
    0  Beispielstadt   allgemein          5    KS01-1             4.0
    1  Beispielstadt       alpha          1    KS03-2             2.0
    2  Beispielstadt      eltern          0      <NA>             NaN
    3  Beispielstadt     foerder          1    KS07-1            17.0
    4  Beispielstadt      frauen          0      <NA>             NaN
    """
    ref = _as_date(as_of, "as_of") or getattr(access, "as_of", None)
    if ref is None:
        raise ConfigError("die Wartewochen brauchen ein Bezugsdatum: as_of= angeben (z. B. "
                          "courses.as_of, den 'Stand' der Kursliste)")
    att = access.attend(threshold_min)
    cells = access.cells.reset_index(drop=True)
    courses = access.courses.reset_index(drop=True)
    ags = cells["ags"].astype("string")
    home = (cells["inhabitants"].to_numpy(np.float64) > 0) & ags.notna().to_numpy()
    # Gemeinde x course: can any populated cell of the Gemeinde attend the course?
    per_gem = pd.DataFrame(att[home]).groupby(ags[home].to_numpy()).any()
    names = (cells[home].drop_duplicates("ags").assign(ags=lambda f: f["ags"].astype(str))
             .set_index("ags")["gen"])
    g_idx, c_idx = np.nonzero(per_gem.to_numpy(bool))
    pairs = courses.iloc[c_idx].reset_index(drop=True)
    pairs.insert(0, "ags", per_gem.index.to_numpy()[g_idx])
    free = pairs["free_places"].astype("Int32")
    start = pd.to_datetime(pairs["next_start"])
    past = _started(courses, ref, "Wartezeiten")
    started = np.isin(pairs["course_id"].to_numpy(), courses["course_id"].to_numpy()[past])
    has_free = (free.fillna(0) > 0).to_numpy(bool) & start.notna().to_numpy() & ~started
    unknown = free.isna().to_numpy() & ~started
    pairs["_free"] = has_free
    pairs["_unknown"] = unknown
    counts = pairs.groupby(["ags", "course_type"]).agg(
        n_courses=("course_id", "size"), n_with_free_places=("_free", "sum"),
        n_unknown_free_places=("_unknown", "sum"))
    cand = pairs[has_free].assign(_neg_free=-free[has_free].astype("float64"))
    best = (cand.sort_values(["ags", "course_type", "next_start", "_neg_free", "course_id"])
            .drop_duplicates(["ags", "course_type"])
            .set_index(["ags", "course_type"]))
    unk = pairs[unknown & start.notna().to_numpy()]
    first_unknown = unk.groupby(["ags", "course_type"])["next_start"].min()

    gems = names.index.sort_values()
    types = sorted(courses["course_type"].astype(str).unique())
    full = pd.MultiIndex.from_product([gems, types], names=["ags", "course_type"])
    out = pd.DataFrame(index=full)
    out["gen"] = names.reindex(full.get_level_values("ags")).to_numpy()
    for col in ("n_courses", "n_with_free_places", "n_unknown_free_places"):
        out[col] = counts[col].reindex(full).fillna(0).to_numpy(np.int64)
    chosen = best.reindex(full)
    for col in ("course_id", "site_id", "provider", "schedule"):
        out[col] = chosen[col].astype("string").array
    out["next_start"] = pd.to_datetime(chosen["next_start"]).to_numpy()
    out["weeks_to_start"] = _weeks(out["next_start"], ref)
    out["free_places"] = chosen["free_places"].astype("Int32").array
    earlier = first_unknown.reindex(full)
    out["unknown_earlier"] = (earlier.notna() & (out["next_start"].isna()
                                                 | (earlier < out["next_start"]))).to_numpy(bool)
    out = out.reset_index()
    out["ags"] = out["ags"].astype("string")
    out["gen"] = out["gen"].astype("string")
    out["course_type"] = out["course_type"].astype("string")
    return out[list(EARLIEST_START_COLUMNS)]


def providers_by_start(
    courses: CourseList,
    *,
    as_of: dt.date | str | None = None,
    course_type: str | None = None,
) -> pd.DataFrame:
    """Providers ranked by their earliest next start with free places.

    Parameters
    ----------
    courses
        The course list (:func:`kurszugang.io.courses.read_courses`).
    as_of
        Date the waiting weeks are counted from (default: the list's ``as_of``).
    course_type
        Only courses of this type (e.g. ``"alpha"``); default: all.

    Returns
    -------
    pandas.DataFrame
        One row per provider, best first: ``rank`` (Int64, 1 = earliest start with free places;
        NA for providers without one), ``provider``, ``earliest_start`` (datetime64, NaT if
        none), ``weeks_to_start`` (float, days / 7 from ``as_of``), ``course_id`` (the course
        starting then), ``courses`` (number of courses), ``courses_with_free_places`` (free
        places > 0, next start known and not before ``as_of``), ``courses_unknown_free_places``
        and ``free_places`` (sum over the courses with free places). Ties in the start share a
        rank and are ordered by free places (most first), then by name.

    Raises
    ------
    ConfigError
        If no reference date is known, or ``course_type`` is not offered in the list.

    Examples
    --------
    >>> providers_by_start(courses, course_type="allgemein")[
    ...     ["rank", "provider", "weeks_to_start", "free_places"]]
       rank                              provider  weeks_to_start  free_places
    0     1  Bildungszentrum Probe gGmbH (fiktiv)             2.0           15
    1     2                 VHS Beispiel (fiktiv)             4.0           15
    2     3          Sprachschule Muster (fiktiv)            11.0            5
    3     4   Bildungswerk Beispiel e.V. (fiktiv)            17.0            4
    """
    ref = _as_date(as_of, "as_of") or courses.as_of
    if ref is None:
        raise ConfigError("die Kursliste hat kein Datum ('Stand'): as_of= angeben, ab dem die "
                          "Wartewochen zählen")
    table = courses.courses.reset_index(drop=True)
    if course_type is not None:
        offered = sorted(table["course_type"].astype(str).unique())
        if course_type not in offered:
            raise ConfigError(f"die Kursart {course_type!r} ist nicht in der Kursliste; sie hat "
                              f"{', '.join(offered)}")
        table = table[table["course_type"] == course_type].reset_index(drop=True)
    free = table["free_places"].astype("Int32")
    start = pd.to_datetime(table["next_start"])
    started = _started(table, ref, "Anbieterrangfolge")
    ok = (free.fillna(0) > 0).to_numpy(bool) & start.notna().to_numpy() & ~started
    frame = pd.DataFrame({
        "provider": table["provider"].astype(str).to_numpy(),
        "course_id": table["course_id"].astype(str).to_numpy(),
        "start": start.where(ok).to_numpy(),
        "ok": ok,
        "unknown": free.isna().to_numpy() & ~started,
        "free": free.fillna(0).to_numpy(np.int64) * ok,
    })
    grouped = frame.groupby("provider", sort=True)
    out = grouped.agg(earliest_start=("start", "min"), courses=("course_id", "size"),
                      courses_with_free_places=("ok", "sum"),
                      courses_unknown_free_places=("unknown", "sum"), free_places=("free", "sum"))
    first = (frame[ok].sort_values(["provider", "start", "free", "course_id"],
                                   ascending=[True, True, False, True])
             .drop_duplicates("provider").set_index("provider")["course_id"])
    out["course_id"] = first.reindex(out.index).astype("string").array
    out = out.reset_index().sort_values(["earliest_start", "free_places", "provider"],
                                        ascending=[True, False, True], na_position="last")
    rank = out["earliest_start"].rank(method="min").astype("Int64")
    out["rank"] = rank
    out["weeks_to_start"] = _weeks(out["earliest_start"], ref)
    out["provider"] = out["provider"].astype("string")
    for col in ("courses", "courses_with_free_places", "courses_unknown_free_places",
                "free_places"):
        out[col] = out[col].astype(np.int64)
    return out[list(PROVIDER_COLUMNS)].reset_index(drop=True)


# --- producers of the run's tables ---------------------------------------------------------


def waiting_table(ctx: RunContext) -> Table:
    """Producer of ``wartezeiten`` (empty when the course list has no "Stand")."""
    courses = ctx.inputs.courses
    if courses.as_of is None:
        log.warning("die Kursliste hat keinen 'Stand': die Wartewochen lassen sich nicht zählen "
                    "(Stand unbekannt)")
        return build_table("wartezeiten", pd.DataFrame(columns=list(EARLIEST_START_COLUMNS)))
    return build_table("wartezeiten", earliest_starts(ctx.school, as_of=courses.as_of))


def provider_table(ctx: RunContext) -> Table:
    """Producer of ``traeger`` (empty when the course list has no "Stand")."""
    courses = ctx.inputs.courses
    if courses.as_of is None:
        return build_table("traeger", pd.DataFrame(columns=list(PROVIDER_COLUMNS)))
    return build_table("traeger", providers_by_start(courses))
