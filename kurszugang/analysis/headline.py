"""The one headline figure of a run, defined once.

**The headline** is the share of potential participants in the district who can attend at least
one course at its times on the school day: there before the start (no earlier than
``coverage.early_arrival_min`` before it), home after the end, each way within
``coverage.threshold_min``, by bus, train and on foot. Every output that states a headline
(console, summary, map) shows this figure; its parts (inhabitants, Gemeinden without a course,
courses below their minimum size) come with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from kurszugang.results import Table

__all__ = ["headline"]


def headline(tables: Mapping[str, Table], threshold_min: float) -> dict[str, Any]:
    """The headline figure and its parts from a run's tables."""
    k = tables["kursbesuch_kreis"].frame
    row = k.iloc[0] if len(k) else None
    part = float(row["participants"]) if row is not None else 0.0
    part_any = float(row["part_any"]) if row is not None else 0.0
    inh = float(row["inhabitants"]) if row is not None else 0.0
    inh_any = float(row["inh_any"]) if row is not None else 0.0
    gem = tables["kursbesuch"].frame
    gaps = tables["luecken"].frame
    sizes = tables["klassengroessen"]
    feasible = sizes.find("feasible_{}", threshold_min)
    below = int((~sizes.frame[feasible.key].fillna(False).astype(bool)).sum()) \
        if feasible is not None else 0
    inhabited = gaps[gaps["inhabitants"] > 0]
    return {
        "participants": part,
        "participants_any": part_any,
        "share_pct": 100.0 * part_any / part if part > 0 else float(np.nan),
        "inhabitants": inh,
        "inhabitants_any": inh_any,
        "inh_share_pct": 100.0 * inh_any / inh if inh > 0 else float(np.nan),
        "gemeinden": int(len(gem)),
        "gemeinden_without_course": int((gem["inh_any"] <= 0).sum()),
        "gemeinden_without_childcare": int(inhabited["no_childcare"].fillna(False)
                                           .astype(bool).sum()),
        "courses": int(len(sizes.frame)),
        "courses_below_minimum": below,
    }
