"""The overview per Gemeinde: inhabitants, grid, stops, departures, sites and courses."""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kurszugang.crs import ANALYSIS_CRS
from kurszugang.results import Table, build_table

if TYPE_CHECKING:
    from kurszugang.analysis.context import RunContext

__all__ = ["gemeinde_of", "gemeinde_overview"]


def gemeinde_of(points: gpd.GeoSeries, gemeinden: gpd.GeoDataFrame) -> np.ndarray:
    """The AGS of the Gemeinde each point lies in (None outside every Gemeinde)."""
    gem = gemeinden.to_crs(ANALYSIS_CRS)
    pts = points.to_crs(ANALYSIS_CRS) if points.crs is not None else points
    tree = shapely.STRtree(np.asarray(gem.geometry.values))
    pt_idx, poly_idx = tree.query(np.asarray(pts.values), predicate="within")
    out = np.full(len(points), None, dtype=object)
    out[pt_idx] = gem["ags"].astype(str).to_numpy(dtype=object)[poly_idx]
    return out


def _departures(ctx: RunContext) -> tuple[pd.DataFrame, list[str]]:
    """Departures per stop on the school day and the holiday, with each stop's Gemeinde."""
    days = [ctx.school_day, ctx.holiday]
    school = ctx.departures(days[0])
    out = pd.DataFrame({"stop_id": school["stop_id"].astype(str),
                        "ags": gemeinde_of(school.geometry, ctx.inputs.gemeinden)})
    for day in days:
        dep = ctx.departures(day)
        out[f"departures_{day.isoformat()}"] = dep["departures"].to_numpy(np.int64)
    return out, [d.isoformat() for d in days]


def gemeinde_overview(ctx: RunContext) -> Table:
    """Producer of ``uebersicht``: one row per Gemeinde (AGS order) with the basic counts."""
    from kurszugang.analysis.datenlage import gemeinde_notes

    gem = ctx.inputs.gemeinden.sort_values("ags").reset_index(drop=True)
    grid = ctx.cells
    inside = grid[grid["in_district"].astype(bool)]
    inh = inside.groupby("ags")["inhabitants"].sum()
    foreign = inside.groupby("ags")["foreigners"].sum()
    part = inside.groupby("ags")["participants"].sum()
    stops, days = _departures(ctx)
    per_stop = stops.groupby("ags")
    sites = ctx.inputs.courses.sites
    site_ags = pd.Series(gemeinde_of(sites.geometry, gem), index=sites.index)
    n_courses = ctx.inputs.courses.courses["site_id"].astype(str).map(
        pd.Series(site_ags.to_numpy(), index=sites["site_id"].astype(str).to_numpy()))
    ags = gem["ags"].astype(str)
    ewz = gem["ewz"] if "ewz" in gem.columns else pd.Series([pd.NA] * len(gem))
    table = pd.DataFrame({
        "ags": ags, "gen": gem["gen"],
        "ewz": pd.to_numeric(ewz, errors="coerce").astype("Int64"),
        "inh_grid": ags.map(inh).fillna(0.0).to_numpy(float),
        "foreigners_grid": ags.map(foreign).fillna(0.0).to_numpy(float),
        "participants": ags.map(part).fillna(0.0).to_numpy(float),
        "n_stops": ags.map(per_stop.size()).fillna(0).astype(np.int64),
    })
    table["share_foreigners"] = np.divide(
        100.0 * table["foreigners_grid"], table["inh_grid"],
        out=np.full(len(table), np.nan), where=table["inh_grid"].to_numpy() > 0)
    for d in days:
        table[f"departures_{d}"] = ags.map(per_stop[f"departures_{d}"].sum()).fillna(0) \
            .astype(np.int64)
    table["n_sites"] = ags.map(site_ags.value_counts()).fillna(0).astype(np.int64)
    table["n_courses"] = ags.map(n_courses.value_counts()).fillna(0).astype(np.int64)
    notes = gemeinde_notes(ctx)
    table["datenlage"] = [notes.get(a, "") for a in ags]
    return build_table("uebersicht", table, date=days)
