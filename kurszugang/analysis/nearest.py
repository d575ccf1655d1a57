"""Travel time from homes to the nearest course site over a departure window, whatever the course
times: the quick overview before the analysis at course times."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kurszugang.routing.router import Points, Router


def nearest_site_minutes(router: Router, homes: Points, sites: Points, *, departure: str | int,
                         window: int, max_time_min: float, percentile: int = 50) -> np.ndarray:
    """Per home: the ``percentile`` travel time over the window to the nearest site, in whole
    minutes (the smallest over the sites; NaN where no site is reached within ``max_time_min``).

    Examples
    --------
    >>> minutes = nearest_site_minutes(router, cells, sites, departure="07:00",
    ...                                window=60, max_time_min=120)  # doctest: +SKIP
    """
    tt = router.travel_times(homes, sites, departure=departure, window=window,
                             percentiles=(percentile,), max_time_min=max_time_min)
    minutes = tt.minutes(percentile)
    out = np.full(len(homes), np.nan)
    reached = ~np.isnan(minutes).all(axis=1)
    out[reached] = np.nanmin(minutes[reached], axis=1)
    return out


def weighted_median_by(groups: np.ndarray, values: np.ndarray, weights: np.ndarray) -> pd.Series:
    """Per group, the weighted median of ``values`` (NaN counts as infinite; weights <= 0 are
    left out): the first value, in ascending order, at which half the group's weight is reached.
    """
    frame = pd.DataFrame({"g": groups, "v": np.nan_to_num(values, nan=np.inf), "w": weights})
    frame = frame[frame["w"] > 0].sort_values(["g", "v"], kind="stable")
    total = frame.groupby("g")["w"].transform("sum")
    frame["cum"] = frame.groupby("g")["w"].cumsum() / total
    return frame[frame["cum"] >= 0.5].groupby("g")["v"].first()
