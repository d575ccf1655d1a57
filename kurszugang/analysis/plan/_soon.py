"""How soon a class starts: the inflow model, and a course rotating between sites.

**Inflow model.** A site draws on a pool of ``P`` potential participants (those assigned to it).
New participants become ready to start (admitted) at random, independently, at a constant rate of
``r`` of the pool per month (``inflow_share_per_month``, default 2 %): on average ``λ = r · P``
a month (a Poisson process). The pool keeps its size: whoever starts is replaced by newcomers
to the district. A class starts as soon as ``m`` participants (the minimum class size) are
waiting, and everyone waiting then starts, so the list is empty after each start. Then

- the time from one start to the next, the wait of a site's first class counted from an empty
  list, is the time until the ``m``-th arrival: ``E[T] = m / λ = m / (r · P)`` months
  (``weeks_to_start``);
- a participant waits, from admission to the start of their class, on average
  ``(m - 1) / (2 λ)`` months (the ``i``-th of a class waits for ``m - i`` more arrivals;
  ``mean_wait_weeks``).

Months are turned into weeks with ``365.25 / 7 / 12 ≈ 4.35`` weeks a month. Not modelled:
participants who drop out or go elsewhere, start dates fixed by the providers' calendar
(Kurseintaktung), classes full at the maximum size, more than one class at a site.

**Rotation.** One course moves through a sequence of sites, one term each (``term_weeks``), and
starts over when the sequence ends: term ``i`` (from 0) starts in week ``i · term_weeks`` at site
``sequence[i mod n]``. A participant is covered in a term when they can attend its site. Per
Gemeinde the rotation tells who is covered within ``horizon_weeks`` (default a year), the first
week one of its participants has their turn, and the mean wait for a turn: in the repeating cycle
of ``C = n · term_weeks`` weeks, a participant whose turns start ``d_1, ..., d_r`` weeks apart
(summing to ``C``) and who becomes ready at a random time waits on average
``(d_1² + ... + d_r²) / (2 C)`` weeks for the next start at a site they can attend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kurszugang.analysis.demand import DEFAULT_MIN_CLASS_SIZE
from kurszugang.analysis.plan._coverage import FormatCoverage
from kurszugang.errors import ConfigError

#: New potential participants per month as a share of a site's pool.
DEFAULT_INFLOW_SHARE = 0.02
#: Weeks per month (365.25 days a year).
WEEKS_PER_MONTH = 365.25 / 7 / 12
#: Length of one term of a rotating course (weeks).
DEFAULT_TERM_WEEKS = 26.0
#: The period a rotation is looked at (weeks).
DEFAULT_HORIZON_WEEKS = 52.0
#: Columns of :func:`class_start_weeks`, in order.
START_WEEK_COLUMNS = ("participants", "min_class_size", "inflow_per_month", "weeks_to_start",
                      "mean_wait_weeks")
#: Columns of :attr:`Rotation.terms`, in order.
TERM_COLUMNS = ("term", "start_week", "end_week", "candidate_id", "name", "participants",
                "new_participants", "cumulative_participants", "min_class_size", "reaches_min")
#: Columns of :attr:`Rotation.gemeinden`, in order.
ROTATION_GEMEINDE_COLUMNS = ("ags", "gen", "participants", "participants_covered_year",
                             "share_covered_year", "first_turn_week", "mean_wait_weeks",
                             "participants_never")


def min_class_size_for(course_type: str, sizes: Mapping[str, int] | None) -> int:
    """The minimum class size of a type: ``sizes``, else :data:`DEFAULT_MIN_CLASS_SIZE`."""
    table = {**DEFAULT_MIN_CLASS_SIZE, **(sizes or {})}
    m = int(table.get(course_type, table["default"]))
    if m < 1:
        raise ConfigError(f"die Mindestgruppengröße für {course_type} muss mindestens 1 sein, "
                          f"nicht {m}")
    return m


def _check_share(share: float) -> None:
    if not 0 < share <= 1:
        raise ConfigError(f"der monatliche Zugang muss ein Anteil über 0 und höchstens 1 sein "
                          f"(z. B. 0.02 für 2 %), nicht {share}")


def class_start_weeks(participants: Sequence[float] | np.ndarray, min_class_size: int, *,
                      inflow_share_per_month: float = DEFAULT_INFLOW_SHARE) -> pd.DataFrame:
    """Expected weeks until a class starts, for pools of ``participants`` (inflow model above).

    Parameters
    ----------
    participants
        Pool size per site (people).
    min_class_size
        Participants needed to start a class (``m``).
    inflow_share_per_month
        New participants per month as a share of the pool (``r``, default 0.02).

    Returns
    -------
    pandas.DataFrame
        Aligned with ``participants``: ``participants``, ``min_class_size``,
        ``inflow_per_month`` (``r · P``, people), ``weeks_to_start`` (``m / (r · P)`` months in
        weeks; inf for an empty pool) and ``mean_wait_weeks`` (``(m - 1) / (2 r · P)`` months
        in weeks).

    Examples
    --------
    >>> weeks = class_start_weeks([100.0, 50.0], 15)
    >>> weeks["weeks_to_start"].round(1).tolist(), weeks["mean_wait_weeks"].round(1).tolist()
    ([32.6, 65.2], [15.2, 30.4])
    """
    _check_share(inflow_share_per_month)
    if min_class_size < 1:
        raise ConfigError(f"die Mindestgruppengröße muss mindestens 1 sein, nicht "
                          f"{min_class_size}")
    pool = np.asarray(participants, dtype=np.float64)
    rate = inflow_share_per_month * pool
    with np.errstate(divide="ignore"):
        months = np.where(rate > 0, min_class_size / np.where(rate > 0, rate, 1), np.inf)
        wait = np.where(rate > 0, (min_class_size - 1) / (2 * np.where(rate > 0, rate, 1)),
                        np.inf)
    return pd.DataFrame({"participants": pool, "min_class_size": int(min_class_size),
                         "inflow_per_month": rate, "weeks_to_start": months * WEEKS_PER_MONTH,
                         "mean_wait_weeks": wait * WEEKS_PER_MONTH})


@dataclass(frozen=True, eq=False)
class Rotation:
    """One course moving through a sequence of sites, term by term.

    Attributes
    ----------
    terms
        One row per term starting within the horizon (:data:`TERM_COLUMNS`): ``term`` (from
        1), ``start_week``, ``end_week`` (weeks from the first start), ``candidate_id``,
        ``name``, ``participants`` (who can attend the term's site, people),
        ``new_participants`` (of those, not covered by an earlier term), ``cumulative_participants``,
        ``min_class_size``, ``reaches_min`` (the site draws at least the minimum).
    gemeinden
        One row per Gemeinde with participants (:data:`ROTATION_GEMEINDE_COLUMNS`):
        ``participants``, ``participants_covered_year`` (covered by a term within the horizon),
        ``share_covered_year``, ``first_turn_week`` (start week of the first term in which one
        of its participants can attend; NaN: none within the horizon), ``mean_wait_weeks``
        (mean wait for the next turn in the repeating cycle, of those who have a turn; NaN if
        nobody has) and ``participants_never`` (can attend no site of the sequence).
    sequence, term_weeks, horizon_weeks
        The rotation's parameters.
    notes
        Remarks (German).
    """

    terms: pd.DataFrame
    gemeinden: pd.DataFrame
    sequence: tuple[str, ...]
    term_weeks: float
    horizon_weeks: float
    notes: list[str] = field(default_factory=list)


def _sequence_columns(coverage: FormatCoverage, sequence: Sequence[str]) -> np.ndarray:
    ids = coverage.candidates["candidate_id"].astype(str)
    pos = pd.Index(ids).get_indexer(pd.Index([str(s) for s in sequence]))
    if len(sequence) == 0:
        raise ConfigError("die Rotation braucht mindestens einen Standort")
    if (pos < 0).any():
        unknown = [str(s) for s, p in zip(sequence, pos, strict=True) if p < 0]
        raise ConfigError(f"unbekannte Standorte in der Rotation: {', '.join(unknown)} "
                          "(erwartet candidate_id aus der Kandidatentabelle)")
    bad = ~coverage.candidates["eligible"].to_numpy(bool)[pos]
    if bad.any():
        j = pos[bad][0]
        raise ConfigError(f"Standort {ids.iloc[j]} kann das Format nicht anbieten: "
                          f"{coverage.candidates['excluded'].iloc[j]}")
    return pos


def _cyclic_wait(att: np.ndarray, term_weeks: float) -> np.ndarray:
    """Per cell, the mean wait (weeks) for the next turn in the cycle; NaN without a turn.

    ``att`` is ``(n_cells, n)``: can attend the site of cycle position ``i``.
    """
    n = att.shape[1]
    total = np.zeros(len(att))
    for i in range(n):  # over the (few) positions of the cycle, not over cells
        gap = np.full(len(att), float(n))
        for d in range(n, 0, -1):  # the nearest next attended position wins
            nxt = att[:, (i + d) % n]
            gap = np.where(nxt, float(d), gap)
        total += np.where(att[:, i], (gap * term_weeks) ** 2, 0.0)
    cycle = n * term_weeks
    return np.where(att.any(axis=1), total / (2 * cycle), np.nan)


def rotation(
    coverage: FormatCoverage,
    sequence: Sequence[str],
    *,
    term_weeks: float = DEFAULT_TERM_WEEKS,
    horizon_weeks: float = DEFAULT_HORIZON_WEEKS,
    min_class_size: Mapping[str, int] | None = None,
) -> Rotation:
    """A course moving through ``sequence`` term by term: who is covered and how long each
    Gemeinde waits for its turn (model in this module's docstring).

    Parameters
    ----------
    coverage
        The format's coverage (:func:`format_coverage`).
    sequence
        Candidate ids in the order the course visits them (a site may appear twice).
    term_weeks
        Weeks per term (default 26).
    horizon_weeks
        Terms starting before this week count as "within the year" (default 52).
    min_class_size
        Minimum per course type (default :data:`~kurszugang.analysis.demand.DEFAULT_MIN_CLASS_SIZE`).

    Returns
    -------
    Rotation

    Raises
    ------
    ConfigError
        For an empty sequence, unknown or ineligible ids, or a term or horizon that is not
        positive.

    Examples
    --------
    >>> rot = rotation(cov, ["KS01", "hst:de:09999:1008"], term_weeks=26)
    >>> rot.gemeinden[["gen", "first_turn_week", "mean_wait_weeks"]].head()
                  gen  first_turn_week  mean_wait_weeks
    0   Beispielstadt              0.0             26.0
    1     Annahmsdorf              0.0             26.0
    2  Attrappenreuth              NaN              NaN
    3      Entwurfing              0.0             26.0
    4      Fiktivried              0.0             26.0
    """
    if not (term_weeks > 0 and horizon_weeks > 0):
        raise ConfigError(f"Semesterlänge und Zeitraum müssen positiv sein, nicht {term_weeks} "
                          f"und {horizon_weeks} Wochen")
    pos = _sequence_columns(coverage, sequence)
    m = min_class_size_for(coverage.course_format.course_type, min_class_size)
    att = coverage.attend()[:, pos]
    part = coverage.cells["participants"].to_numpy(float)
    n_terms = int(np.ceil(horizon_weeks / term_weeks))
    term_pos = np.arange(n_terms) % len(pos)
    seen = np.zeros(len(part), dtype=bool)
    first = np.full(len(part), np.nan)
    reach, new, cum = [], [], []
    for t, i in enumerate(term_pos):  # over terms, not cells
        now = att[:, i]
        fresh = now & ~seen
        first[fresh] = t * term_weeks
        seen |= now
        reach.append(part @ now)
        new.append(part @ fresh)
        cum.append(part @ seen)
    cands = coverage.candidates.iloc[pos[term_pos]]
    terms = pd.DataFrame({
        "term": np.arange(1, n_terms + 1), "start_week": np.arange(n_terms) * term_weeks,
        "end_week": (np.arange(n_terms) + 1) * term_weeks,
        "candidate_id": cands["candidate_id"].astype("string").to_numpy(),
        "name": cands["name"].astype("string").to_numpy(), "participants": reach,
        "new_participants": new, "cumulative_participants": cum, "min_class_size": m,
        "reaches_min": np.asarray(reach) >= m})
    wait = _cyclic_wait(att, term_weeks)
    gemeinden = _rotation_by_gemeinde(coverage.cells, seen, first, wait,
                                      np.asarray(att.any(axis=1), dtype=bool))
    notes = [] if n_terms >= len(pos) else [
        f"im Zeitraum von {horizon_weeks:g} Wochen kommen nur {n_terms} der {len(pos)} "
        "Standorte an die Reihe"]
    return Rotation(terms, gemeinden, tuple(str(s) for s in sequence), float(term_weeks),
                    float(horizon_weeks), notes)


def _rotation_by_gemeinde(cells: pd.DataFrame, seen: np.ndarray, first: np.ndarray,
                          wait: np.ndarray, ever: np.ndarray) -> pd.DataFrame:
    part = cells["participants"].to_numpy(float)
    frame = pd.DataFrame({"ags": cells["ags"].astype("string"), "gen": cells["gen"],
                          "participants": part, "covered": part * seen,
                          "first": first, "wait_w": np.where(ever, part * wait, 0.0),
                          "ever": part * ever, "never": part * ~ever})
    g = frame.groupby("ags", sort=True)
    out = g.agg(gen=("gen", "first"), participants=("participants", "sum"),
                participants_covered_year=("covered", "sum"), first_turn_week=("first", "min"),
                wait_w=("wait_w", "sum"), ever=("ever", "sum"),
                participants_never=("never", "sum"))
    out["share_covered_year"] = out["participants_covered_year"] / out["participants"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["mean_wait_weeks"] = np.where(out["ever"] > 0, out["wait_w"] / out["ever"], np.nan)
    out = out.reset_index()
    out["gen"] = out["gen"].astype("string")
    return out[list(ROTATION_GEMEINDE_COLUMNS)]
