"""Class-size feasibility: does a course draw enough potential participants who can attend it?

No legal minimum class size exists; planners use a working minimum per course type. The defaults
below are parameters (see docs/analysis.md), not rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kurszugang.analysis.coverage import CourseAccess
from kurszugang.errors import ConfigError
from kurszugang.results import Table, build_table

if TYPE_CHECKING:
    from kurszugang.analysis.context import RunContext

#: Working minimum class size per course type (people); ``"default"`` for other labels.
DEFAULT_MIN_CLASS_SIZE: dict[str, int] = {
    "allgemein": 15,
    "intensiv": 12,
    "jugend": 10,
    "eltern": 10,
    "frauen": 10,
    "alpha": 8,
    "zweitschrift": 8,
    "foerder": 10,
    "default": 10,
}

DEFAULT_THRESHOLDS = (30.0, 45.0, 60.0)


def _check_thresholds(thresholds: Sequence[float], access: CourseAccess) -> list[float]:
    ths = [float(t) for t in thresholds]
    if not ths or any(b <= a for a, b in zip(ths, ths[1:], strict=False)) or ths[0] <= 0:
        raise ConfigError(f"thresholds must be positive and increasing, got {list(thresholds)}")
    if ths[-1] > access.max_threshold_min:
        raise ConfigError(f"threshold {ths[-1]:g} min is above the {access.max_threshold_min:g} min "
                          "the travel times were computed for: run course_access with "
                          f"max_threshold_min={ths[-1]:g}")
    return ths


def class_sizes(
    access: CourseAccess,
    *,
    min_class_size: Mapping[str, int] | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
) -> pd.DataFrame:
    """Potential participants who can attend each course, against its minimum class size.

    Parameters
    ----------
    access
        The result of :func:`kurszugang.analysis.coverage.course_access`, computed with
        ``max_threshold_min`` at least the largest threshold.
    min_class_size
        Minimum per course type; missing types use ``DEFAULT_MIN_CLASS_SIZE`` (and its
        ``"default"`` for free labels).
    thresholds
        One-way travel-time thresholds to compare (minutes, increasing).

    Returns
    -------
    pandas.DataFrame
        One row per course: ``course_id``, ``site_id``, ``provider``, ``course_type``,
        ``schedule``, ``min_class_size``; per threshold T ``participants_T`` (potential
        participants in the cells that can attend, people, float) and ``feasible_T`` (at least
        the minimum). Every participant counts for each course they can attend.

    Examples
    --------
    >>> sizes = class_sizes(access, thresholds=(30, 45))
    >>> sizes[["course_id", "min_class_size", "participants_30", "feasible_30",
    ...        "feasible_45"]].round(1)
       course_id  min_class_size  participants_30  feasible_30  feasible_45
    0     KS01-1              15            110.4         True         True
    1     KS01-2              15             89.4         True         True
    2     KS02-1              15             63.7         True         True
    3     KS02-2              12             63.7         True         True
    4     KS03-1              10             90.1         True         True
    5     KS03-2               8            109.5         True         True
    6     KS04-1              10             23.7         True         True
    7     KS05-1              15             17.6         True         True
    8     KS06-1              15             18.4         True         True
    9     KS06-2              10             18.4         True         True
    10    KS07-1              10             54.2         True         True
    11    KS07-2              15             54.2         True         True
    12    KS08-1              15              6.6        False        False
    >>> class_sizes(access, thresholds=(30, 60))
    Traceback (most recent call last):
    ...
    kurszugang.errors.ConfigError: threshold 60 min ...
    """
    ths = _check_thresholds(thresholds, access)
    sizes = {**DEFAULT_MIN_CLASS_SIZE, **(min_class_size or {})}
    courses = access.courses
    part = access.cells["participants"].to_numpy(float)
    inside = access.cells["in_district"].to_numpy(bool)
    out = courses[["course_id", "site_id", "provider", "course_type", "schedule"]].copy()
    out["min_class_size"] = [int(sizes.get(t, sizes["default"])) for t in courses["course_type"]]
    for th in ths:
        reach = (part * inside) @ access.attend(th)
        label = f"{th:g}"
        out[f"participants_{label}"] = np.round(reach, 1)
        out[f"feasible_{label}"] = reach >= out["min_class_size"].to_numpy()
    return out.reset_index(drop=True)


def infeasible_formats(sizes: pd.DataFrame) -> pd.DataFrame:
    """Per format offered (course type × schedule): does any course reach its minimum?

    Parameters
    ----------
    sizes
        The result of :func:`class_sizes`.

    Returns
    -------
    pandas.DataFrame
        One row per (``course_type``, ``schedule``) with, per threshold T,
        ``best_participants_T`` (the largest number at any course of that format) and
        ``feasible_anywhere_T``.
    """
    labels = [c.removeprefix("feasible_") for c in sizes.columns if c.startswith("feasible_")]
    agg: dict[str, tuple[str, str]] = {}
    for t in labels:
        agg[f"best_participants_{t}"] = (f"participants_{t}", "max")
        agg[f"feasible_anywhere_{t}"] = (f"feasible_{t}", "any")
    return sizes.groupby(["course_type", "schedule"], as_index=False).agg(**agg)


def class_size_table(ctx: RunContext) -> Table:
    """Producer of ``klassengroessen``: every course against its minimum class size."""
    c = ctx.cfg.coverage
    sizes = class_sizes(ctx.school, min_class_size=c.min_class_size, thresholds=c.thresholds_min)
    return build_table("klassengroessen", sizes, min=list(c.thresholds_min))
