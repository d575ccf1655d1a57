"""Travel time from homes to the nearest course site over a departure window, whatever the course
times: the quick overview before the analysis at course times."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kurszugang.results import Table, build_table
from kurszugang.routing.router import Points, Router

if TYPE_CHECKING:
    from kurszugang.analysis.context import RunContext


def nearest_site_minutes(router: Router, homes: Points, sites: Points, *, departure: str | int,
                         window: int, max_time_min: float, percentile: int = 50) -> np.ndarray:
    """Per home: the ``percentile`` travel time over the window to the nearest site, in whole
    minutes (the smallest over the sites; NaN where no site is reached within ``max_time_min``).

    Examples
    --------
    >>> homes = Points(cells["cell_id"].to_numpy(object), cells[["x_utm", "y_utm"]].to_numpy())
    >>> sites = Points(courses.sites["site_id"].to_numpy(object),
    ...                np.column_stack([courses.sites.geometry.x, courses.sites.geometry.y]))
    >>> minutes = nearest_site_minutes(router, homes, sites, departure="07:00",
    ...                                window=60, max_time_min=120)
    >>> minutes.shape, float(np.nanmedian(minutes)), int(np.isnan(minutes).sum())
    ((2466,), 27.0, 563)
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


def nearest_site_table(ctx: RunContext) -> Table:
    """Producer of ``reisezeiten``: per Gemeinde, inhabitants with a site within the threshold
    (median over the departure window, whatever the course times) on both days, and the
    inhabitant-weighted median of the travel time to the nearest site."""
    r, c = ctx.cfg.routing, ctx.cfg.coverage
    cells = ctx.cells
    homes = Points(cells["cell_id"].astype(str).to_numpy(dtype=object),
                   cells[["x_utm", "y_utm"]].to_numpy(np.float64))
    ids, xy = ctx.site_points()
    sites = Points(ids, xy)
    inside = cells["ags"].notna().to_numpy() & cells["in_district"].to_numpy(bool)
    ags = cells["ags"].astype("string").to_numpy()[inside]
    inh = cells["inhabitants"].to_numpy(float)[inside]
    per = pd.DataFrame({"ags": ags, "inh": inh}).groupby("ags", sort=True).sum()
    out = pd.DataFrame({"ags": per.index.astype(str), "inhabitants": per["inh"].to_numpy()})
    names = cells[inside].drop_duplicates("ags").set_index("ags")["gen"]
    out.insert(1, "gen", out["ags"].map(names))
    days = [ctx.school_day, ctx.holiday]
    for day in days:
        router = ctx.pool.get(day)

        def nearest(router: Router = router) -> np.ndarray:
            return nearest_site_minutes(router, homes, sites, departure=r.departure,
                                        window=r.window_min,
                                        max_time_min=max(c.thresholds_min) * 2)

        best = ctx.stage(f"Reisezeit zum nächsten Kursort {day:%d.%m.%Y}", nearest)[inside]
        within = np.nan_to_num(best, nan=np.inf) <= c.threshold_min
        reach = pd.Series(inh * within).groupby(ags).sum()
        key = day.isoformat()
        out[f"inh_within_{key}"] = out["ags"].map(reach).fillna(0.0).to_numpy(float)
        out[f"share_within_{key}"] = np.divide(
            100.0 * out[f"inh_within_{key}"].to_numpy(), out["inhabitants"].to_numpy(),
            out=np.full(len(out), np.nan), where=out["inhabitants"].to_numpy() > 0)
        med = weighted_median_by(ags, best, inh)
        out[f"median_min_{key}"] = out["ags"].map(med).astype(float).replace(np.inf, np.nan) \
            .to_numpy()
    return build_table("reisezeiten", out, date=days)
