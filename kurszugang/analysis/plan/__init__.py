"""Planning a course offer: where a format should run, when it should start, and how soon.

The questions district offices moderate with their providers (see ``DOMAIN.md``, "Planning a
course offer"), answered with the round-trip rule of :mod:`kurszugang.analysis.coverage`:

1. **Candidates** (:func:`plan_candidates`): the existing sites, a user's list
   (:func:`read_candidates`) or, without one, the best-served stop of every Gemeinde.
2. **Coverage of a format** (:func:`format_coverage`): which cells can attend a
   :class:`CourseFormat` (course type, weekdays, start, end, childcare) at each candidate; cells
   with identical coverage are merged into groups.
3. **Where** (:func:`best_sites`, :func:`evaluate_sites`): the ``k`` sites that let the most
   potential participants attend, each open site drawing at least the minimum class size, solved
   exactly as a mixed-integer program (HiGHS).
4. **When** (:func:`start_time_sweep`): participants who can attend at one site as a function of
   the start time, for the district and per Gemeinde.
5. **How soon** (:func:`class_start_weeks`, :func:`rotation`): an inflow model turning pool size
   and minimum class size into the expected weeks until a class starts (the survey's dilemma:
   more sites, shorter trips, longer waits), and a course rotating between sites term by term.

Every table is a plain :class:`pandas.DataFrame`; their columns are listed in the docstrings
and in the ``*_COLUMNS`` constants. Messages and notes are German.

Examples
--------
>>> from kurszugang.analysis import plan
>>> fmt = plan.CourseFormat.parse("alpha", "Mo-Fr", "08:30", "12:45")
>>> cands = plan.plan_candidates(gemeinden, courses=courses,
...                              router=pool.get(SCHOOL_DAY))
>>> cov = plan.format_coverage(pool, cells, cands, fmt, SCHOOL_DAY)
>>> per_k = plan.best_sites(cov, k_max=3).per_k
>>> for row in per_k.itertuples():
...     print(row.k, row.candidate_ids, round(row.participants_covered, 1))
1 KS03 180.6
2 KS03, KS05 193.0
3 KS03, KS04, KS05 201.5
"""

from kurszugang.analysis.plan._candidates import (
    CANDIDATE_COLUMNS,
    CANDIDATE_LIST_COLUMNS,
    SOURCES,
    boardable_departures,
    plan_candidates,
    read_candidates,
)
from kurszugang.analysis.plan._coverage import (
    ABDECKUNG_COLUMNS,
    GROUP_COLUMNS,
    CourseFormat,
    FormatCoverage,
    format_coverage,
)
from kurszugang.analysis.plan._soon import (
    DEFAULT_HORIZON_WEEKS,
    DEFAULT_INFLOW_SHARE,
    DEFAULT_TERM_WEEKS,
    ROTATION_GEMEINDE_COLUMNS,
    START_WEEK_COLUMNS,
    TERM_COLUMNS,
    WEEKS_PER_MONTH,
    Rotation,
    class_start_weeks,
    rotation,
)
from kurszugang.analysis.plan._when import (
    DEFAULT_SWEEP,
    SWEEP_COLUMNS,
    SWEEP_GEMEINDE_COLUMNS,
    StartSweep,
    start_time_sweep,
)
from kurszugang.analysis.plan._where import (
    PER_K_COLUMNS,
    SITE_COLUMNS,
    SitePlan,
    best_sites,
    evaluate_sites,
)

__all__ = [
    "ABDECKUNG_COLUMNS",
    "CANDIDATE_COLUMNS",
    "CANDIDATE_LIST_COLUMNS",
    "DEFAULT_HORIZON_WEEKS",
    "DEFAULT_INFLOW_SHARE",
    "DEFAULT_SWEEP",
    "DEFAULT_TERM_WEEKS",
    "GROUP_COLUMNS",
    "PER_K_COLUMNS",
    "ROTATION_GEMEINDE_COLUMNS",
    "SITE_COLUMNS",
    "SOURCES",
    "START_WEEK_COLUMNS",
    "SWEEP_COLUMNS",
    "SWEEP_GEMEINDE_COLUMNS",
    "TERM_COLUMNS",
    "WEEKS_PER_MONTH",
    "CourseFormat",
    "FormatCoverage",
    "Rotation",
    "SitePlan",
    "StartSweep",
    "best_sites",
    "boardable_departures",
    "class_start_weeks",
    "evaluate_sites",
    "format_coverage",
    "plan_candidates",
    "read_candidates",
    "rotation",
    "start_time_sweep",
]
