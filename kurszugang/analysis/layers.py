"""The map layers of a run (EPSG:25832): Gemeinden, grid cells, sites, courses, catchments, stops.

Each ``*_layer(ctx)`` function is the producer of one layer of :data:`kurszugang.schema.LAYERS`;
:func:`result_layers` builds the standard layers from analysis results directly, for scripts.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kurszugang.analysis.coverage import CourseAccess, coverage_summary, gaps
from kurszugang.analysis.demand import class_sizes
from kurszugang.crs import ANALYSIS_CRS, WEB_CRS
from kurszugang.errors import ConfigError, InputError
from kurszugang.results import Table, build_table
from kurszugang.words import de_number

if TYPE_CHECKING:
    from kurszugang.analysis.catchments import TravelTimeSurface
    from kurszugang.analysis.context import RunContext
    from kurszugang.io.courses import CourseList
    from kurszugang.io.gtfs import Feed

log = logging.getLogger(__name__)

__all__ = ["LAYER_NAMES", "departures_layer", "result_layers", "stop_departures",
           "travel_time_to_nearest"]

#: Names of the standard layers :func:`result_layers` builds, in order.
LAYER_NAMES = {"gemeinden": "gemeinden", "grid": "raster", "sites": "kursorte",
               "courses": "kurse", "catchments": "einzugsbereiche", "stops": "haltestellen"}


def _hhmm(seconds: pd.Series) -> pd.Series:
    s = seconds.astype("Int64")
    text = (s // 3600).astype("str").str.zfill(2) + ":" + (s % 3600 // 60).astype("str") \
        .str.zfill(2)
    return text.astype("str")


def _any_of(att: np.ndarray, mask: np.ndarray) -> np.ndarray:
    if not mask.any():
        return np.zeros(att.shape[0], dtype=bool)
    return np.asarray(att[:, mask].any(axis=1), dtype=bool)


def travel_time_to_nearest(access: CourseAccess, *, course_type: str | None = None,
                           by: str = "ags") -> pd.DataFrame:
    """Median travel time per Gemeinde to the nearest course, weighted by participants.

    For each grid cell, the nearest course is the one whose longer leg (there before the start,
    home after the end) is shortest; that longer leg is the cell's time, so a cell can attend
    within a threshold exactly when its time is within it (the rule of
    :func:`kurszugang.analysis.coverage.coverage_summary`). Cells with no course within the
    times computed count as infinitely far.

    Returns
    -------
    pandas.DataFrame
        ``ags`` (or ``by``) and ``minutes_nearest``: the participant-weighted median time in
        minutes; NaN where the median is beyond the computed times or nobody lives there.

    Raises
    ------
    InputError
        If the grid cells lack ``by`` or ``participants``.
    ConfigError
        If ``course_type`` has no course.
    """
    missing = [c for c in (by, "participants") if c not in access.cells.columns]
    if missing:
        raise InputError(f"the grid cells lack the column(s) {', '.join(missing)}")
    courses = access.courses
    mask = np.ones(len(courses), dtype=bool)
    if course_type is not None:
        mask = (courses["course_type"] == course_type).to_numpy(bool)
        if not mask.any():
            raise ConfigError(f"no course of type {course_type!r}; the types are "
                              f"{', '.join(sorted(courses['course_type'].unique()))}")
    there = np.nan_to_num(access.time_there[:, mask], nan=np.inf)
    back = np.nan_to_num(access.time_back[:, mask], nan=np.inf)
    best = np.maximum(there, back).min(axis=1) / 60.0 if mask.any() else np.full(
        len(access.cells), np.inf)
    cells = access.cells.reset_index(drop=True)
    frame = pd.DataFrame({by: cells[by].astype("string").to_numpy(), "t": best,
                          "w": cells["participants"].to_numpy(float)})
    frame = frame[frame[by].notna() & (frame["w"] > 0)].sort_values([by, "t"], kind="stable")
    total = frame.groupby(by)["w"].transform("sum")
    frame["cum"] = frame.groupby(by)["w"].cumsum() / total
    med = frame[frame["cum"] >= 0.5 - 1e-12].groupby(by)["t"].first()
    med = med.where(np.isfinite(med))
    return pd.DataFrame({by: pd.array(med.index.astype(str).to_numpy(dtype=object),
                                      dtype="string"),
                         "minutes_nearest": med.to_numpy(dtype=float)})


def grid_layer(access: CourseAccess, att: np.ndarray) -> gpd.GeoDataFrame:
    """Per populated cell: courses it can attend, the best time, flags per type and schedule."""
    cells = access.cells.reset_index(drop=True)
    courses = access.courses
    there = np.nan_to_num(access.time_there, nan=np.inf)
    back = np.nan_to_num(access.time_back, nan=np.inf)
    legs = np.maximum(there, back)
    best = legs.min(axis=1) if legs.shape[1] else np.full(len(cells), np.inf)
    anyc = np.asarray(att.any(axis=1), dtype=bool)
    keep = [c for c in ("cell_id", "ags", "gen", "vg", "in_district", "inhabitants",
                        "foreigners", "participants") if c in cells.columns]
    out = pd.DataFrame(cells[keep])
    out["n_courses"] = att.sum(axis=1).astype(np.int64)
    out["attend_any"] = anyc
    out["best_min"] = np.where(np.isfinite(best), best / 60.0, np.nan)
    out["only_on_demand"] = np.asarray(anyc & ~(att & ~access.needs_on_demand).any(axis=1),
                                       dtype=bool)
    out["childcare"] = _any_of(att, courses["childcare"].to_numpy(bool))
    for t in sorted(courses["course_type"].unique()):
        out[f"type_{t}"] = _any_of(att, (courses["course_type"] == t).to_numpy())
    for s in sorted(courses["schedule"].unique()):
        out[f"sched_{s}"] = _any_of(att, (courses["schedule"] == s).to_numpy())
    return gpd.GeoDataFrame(out, geometry=cells.geometry.to_numpy(), crs=cells.crs) \
        .to_crs(ANALYSIS_CRS)


def _share(merged: pd.DataFrame, num: str, den: str) -> np.ndarray:
    d = merged[den].to_numpy(float)
    n = merged[num].to_numpy(float)
    return np.divide(100.0 * n, d, out=np.full(len(d), np.nan), where=d > 0)


def gemeinden_layer_of(access: CourseAccess, gemeinden: gpd.GeoDataFrame,
                       threshold_min: float | None) -> gpd.GeoDataFrame:
    """Gemeinden with every coverage count, shares in % and gaps (0 where nobody lives)."""
    if "ags" not in gemeinden.columns:
        raise InputError("the Gemeinden need an 'ags' column (read them with "
                         "kurszugang.io.boundaries.read_boundaries)")
    if gemeinden.crs is None:
        raise InputError("the Gemeinden have no CRS: set one with .set_crs(...)")
    gem = gemeinden.to_crs(ANALYSIS_CRS).sort_values("ags", kind="stable").reset_index(drop=True)
    gem["ags"] = gem["ags"].astype("str")
    summary = coverage_summary(access, by="ags", threshold_min=threshold_min)
    summary["ags"] = summary["ags"].astype("str")
    counts = [c for c in summary.columns if c not in ("ags", "gen")]
    merged = gem.merge(summary.drop(columns=["gen"]), on="ags", how="left")
    merged[counts] = merged[counts].fillna(0.0)  # no inhabited cell: nobody
    unmatched = sorted(set(summary["ags"]) - set(gem["ags"]))
    if unmatched:
        log.warning("Gemeindeschlüssel des Rasters, die nicht unter den angegebenen Grenzen sind "
                    "und in der Ebene gemeinden fehlen: %s, z. B. %s", de_number(len(unmatched)),
                    unmatched[0])
    merged["share_inh_any"] = _share(merged, "inh_any", "inhabitants")
    merged["share_part_any"] = _share(merged, "part_any", "participants")
    merged["share_part_childcare"] = _share(merged, "part_childcare", "participants")
    for c in counts:
        if c.startswith(("part_type_", "part_sched_")):
            merged[f"share_{c}"] = _share(merged, c, "participants")
    g = gaps(access, threshold_min=threshold_min).drop(columns=["gen", "inhabitants"])
    g["ags"] = g["ags"].astype("str")
    merged = merged.merge(g, on="ags", how="left")
    near = travel_time_to_nearest(access)
    merged = merged.merge(near.assign(ags=near["ags"].astype(str)), on="ags", how="left")
    geom = gem.geometry.name
    merged = merged[[c for c in merged.columns if c != geom] + [geom]]  # geometry last
    return gpd.GeoDataFrame(merged, geometry=geom, crs=ANALYSIS_CRS)


def site_layers_of(access: CourseAccess, att: np.ndarray, courses: CourseList | None,
                   threshold_min: float) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Sites (with people in reach) and courses (with class sizes) at their site's point."""
    table = access.courses.reset_index(drop=True)
    cells = access.cells.reset_index(drop=True)
    inside = cells["in_district"].to_numpy(bool)
    inh = cells["inhabitants"].to_numpy(float) * inside
    part = cells["participants"].to_numpy(float) * inside
    site_ids = np.array(sorted(pd.unique(table["site_id"].astype(str))), dtype=object)
    member = table["site_id"].astype(str).to_numpy(dtype=object)[:, None] == site_ids[None, :]
    reach = (att.astype(np.int32) @ member.astype(np.int32)) > 0  # cells x sites
    grouped = table.groupby(table["site_id"].astype(str), sort=True)
    first = grouped[["provider", "site_x", "site_y"]].first().reindex(site_ids)
    sites = pd.DataFrame({
        "site_id": pd.array(site_ids, dtype="str"),
        "provider": first["provider"].astype("str").to_numpy(),
        "n_courses": grouped.size().reindex(site_ids).to_numpy(np.int64),
        "course_types": grouped["course_type"].agg(lambda s: ", ".join(sorted(set(s))))
        .reindex(site_ids).astype("str").to_numpy(),
        "schedules": grouped["schedule"].agg(lambda s: ", ".join(sorted(set(s))))
        .reindex(site_ids).astype("str").to_numpy(),
        "has_childcare": grouped["childcare"].any().reindex(site_ids).to_numpy(bool),
        "inh_any": inh @ reach,
        "part_any": part @ reach,
    })
    if courses is not None:
        info = courses.sites.assign(site_id=courses.sites["site_id"].astype(str)) \
            .set_index("site_id")
        for c in ("web", "email", "phone", "address", "site_name"):  # site_name comes first
            if c in info.columns:
                sites.insert(2, c, info[c].reindex(site_ids).astype("string").to_numpy())
    if "free_places" in table.columns:
        sites["free_places"] = grouped["free_places"].sum(min_count=1).reindex(site_ids) \
            .astype("Int64").to_numpy()
    if "next_start" in table.columns:
        sites["next_start"] = pd.to_datetime(grouped["next_start"].min().reindex(site_ids)) \
            .to_numpy()
    site_geom = gpd.points_from_xy(first["site_x"].to_numpy(float),
                                   first["site_y"].to_numpy(float))
    site_layer = gpd.GeoDataFrame(sites, geometry=site_geom, crs=ANALYSIS_CRS)
    return site_layer, _course_layer(access, table, threshold_min)


def _course_layer(access: CourseAccess, table: pd.DataFrame,
                  threshold_min: float) -> gpd.GeoDataFrame:
    sizes = class_sizes(access, thresholds=(threshold_min,))
    label = f"{threshold_min:g}"
    cols = [c for c in ("course_id", "site_id", "provider", "course_type", "schedule",
                        "weekdays", "childcare", "capacity", "free_places", "notes")
            if c in table.columns]
    out = pd.DataFrame(table[cols])
    names = list(out.columns)
    at = names.index("weekdays") + 1 if "weekdays" in names else len(names)
    out.insert(at, "start", _hhmm(table["start_time"]).to_numpy())
    out.insert(at + 1, "end", _hhmm(table["end_time"]).to_numpy())
    if "next_start" in table.columns:
        out["next_start"] = pd.to_datetime(table["next_start"]).to_numpy()
    out["analysis_day"] = pd.to_datetime(pd.Series(
        [d.isoformat() if d is not None else None for d in table["analysis_day"]])).to_numpy()
    out["min_class_size"] = sizes["min_class_size"].to_numpy(np.int64)
    out["participants_reach"] = sizes[f"participants_{label}"].to_numpy(float)
    out["feasible"] = sizes[f"feasible_{label}"].to_numpy(bool)
    course_geom = gpd.points_from_xy(table["site_x"].to_numpy(float),
                                     table["site_y"].to_numpy(float))
    return gpd.GeoDataFrame(out, geometry=course_geom, crs=ANALYSIS_CRS)


def catchment_layer_of(catchments: gpd.GeoDataFrame | Mapping[str, TravelTimeSurface],
                       thresholds: Sequence[float]) -> gpd.GeoDataFrame:
    """Isochrone bands per site (EPSG:25832), from bands or from surfaces."""
    if isinstance(catchments, gpd.GeoDataFrame):
        if catchments.crs is None:
            raise InputError("the catchments have no CRS: set one with .set_crs(...)")
        missing = [c for c in ("site_id", "label") if c not in catchments.columns]
        if missing:
            raise InputError(f"the catchments lack the column(s) {', '.join(missing)}: build "
                             "them with kurszugang.analysis.catchments.isochrones")
        out = catchments.to_crs(ANALYSIS_CRS)
    else:
        from kurszugang.analysis.catchments import isochrones

        parts = [isochrones(s, thresholds, crs=ANALYSIS_CRS).assign(
            arrive_by=f"{s.arrive_by // 3600:02d}:{s.arrive_by % 3600 // 60:02d}")
            for s in catchments.values()]
        if not parts:
            raise ConfigError("no travel-time surfaces given for the catchments")
        out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=ANALYSIS_CRS)
    sort = [c for c in ("site_id", "band_max") if c in out.columns]
    return out.sort_values(sort, kind="stable").reset_index(drop=True)


def stop_departures(feed: Feed, date: dt.date, *, crs: str = ANALYSIS_CRS) -> gpd.GeoDataFrame:
    """Departures per stop and clock hour on one date, counted as the router counts them.

    A departure is a trip's stop where one can board (``pickup_type`` not 1; on-demand stops
    count) that is not its last, at its clock time on the date (the previous day's trips past
    24:00 count in the early hours); see
    :meth:`kurszugang.routing.timetable.Timetable.departures_per_stop`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per stop (``location_type`` 0 or empty), by ``stop_id``: ``stop_id``,
        ``stop_name``, ``departures`` (the day's total) and ``dep_h00`` … ``dep_h23``, point
        geometry in ``crs``.
    """
    from kurszugang.routing.timetable import compile_timetable

    return departures_layer(compile_timetable(feed, date).departures_per_stop(), crs=crs)


def departures_layer(per_stop: pd.DataFrame, *, crs: str = ANALYSIS_CRS) -> gpd.GeoDataFrame:
    """:meth:`~kurszugang.routing.timetable.Timetable.departures_per_stop` as points in ``crs``,
    sorted by ``stop_id``."""
    cols = ["stop_id", "stop_name", "departures",
            *[c for c in per_stop.columns if c.startswith("dep_h")]]
    out = pd.DataFrame(per_stop[cols]).reset_index(drop=True)
    out["stop_id"] = out["stop_id"].astype(str)
    geom = gpd.points_from_xy(per_stop["lon"].to_numpy(float), per_stop["lat"].to_numpy(float))
    result = gpd.GeoDataFrame(out, geometry=geom, crs=WEB_CRS).to_crs(crs)
    return result.sort_values("stop_id", kind="stable").reset_index(drop=True)


def result_layers(
    access: CourseAccess,
    gemeinden: gpd.GeoDataFrame,
    *,
    courses: CourseList | None = None,
    catchments: gpd.GeoDataFrame | Mapping[str, TravelTimeSurface] | None = None,
    stops: gpd.GeoDataFrame | Feed | None = None,
    threshold_min: float | None = None,
    catchment_thresholds: Sequence[float] = (15.0, 30.0, 45.0, 60.0, 90.0),
) -> dict[str, gpd.GeoDataFrame]:
    """The standard result layers for QGIS, in EPSG:25832, from analysis results.

    The layers ``gemeinden``, ``raster``, ``kursorte``, ``kurse`` and, when given,
    ``einzugsbereiche`` and ``haltestellen``; their columns are documented in
    ``docs/referenz/tabellen.md``. A run builds the same layers into its Results.

    Raises
    ------
    InputError
        If the Gemeinden lack ``ags`` or a CRS, or catchments/stops lack a CRS or columns.
    ConfigError
        If ``threshold_min`` is above the times computed.
    """
    th = access.threshold_min if threshold_min is None else float(threshold_min)
    att = access.attend(th)
    layers: dict[str, gpd.GeoDataFrame] = {}
    layers[LAYER_NAMES["gemeinden"]] = gemeinden_layer_of(access, gemeinden, th)
    layers[LAYER_NAMES["grid"]] = grid_layer(access, att)
    sites, course_layer = site_layers_of(access, att, courses, th)
    layers[LAYER_NAMES["sites"]] = sites
    layers[LAYER_NAMES["courses"]] = course_layer
    if catchments is not None:
        layers[LAYER_NAMES["catchments"]] = catchment_layer_of(catchments, catchment_thresholds)
    if stops is not None:
        layers[LAYER_NAMES["stops"]] = (stops.to_crs(ANALYSIS_CRS).reset_index(drop=True)
                                        if isinstance(stops, gpd.GeoDataFrame)
                                        else stop_departures(stops, access.date)
                                        [["stop_id", "stop_name", "departures", "geometry"]])
    empty = [k for k, v in layers.items() if len(v) == 0]
    if empty:
        log.warning("Ergebnisebenen ohne Objekte: %s", ", ".join(empty))
    return layers


# --- producers of the run's layers ---------------------------------------------------------


def _types(access: CourseAccess) -> dict[str, list[str]]:
    c = access.courses
    return {"course_type": sorted(c["course_type"].astype(str).unique()),
            "schedule": sorted(c["schedule"].astype(str).unique())}


def gemeinden_layer(ctx: RunContext) -> Table:
    """Producer of the ``gemeinden`` layer."""
    from kurszugang.analysis.datenlage import gemeinde_notes

    access = ctx.school
    gem = ctx.inputs.gemeinden[["ags", "ars", "gen", "bez", "geometry"]] \
        if "bez" in ctx.inputs.gemeinden.columns else ctx.inputs.gemeinden
    layer = gemeinden_layer_of(access, gem, None)
    notes = gemeinde_notes(ctx)
    layer["datenlage"] = [notes.get(str(a), "") for a in layer["ags"]]
    for c in ("ars", "bez"):
        if c not in layer.columns:
            layer[c] = None
    keep = ["ags", "ars", "gen", "bez", "minutes_nearest"] + [
        c for c in layer.columns if c.startswith(("inhabitants", "participants", "inh_", "part_",
                                                  "share_"))] + [
        "missing_types", "missing_schedules", "no_childcare", "only_on_demand", "datenlage",
        layer.geometry.name]
    return build_table("gemeinden", layer[keep], **_types(access))


def raster_layer(ctx: RunContext) -> Table:
    """Producer of the ``raster`` layer."""
    access = ctx.school
    return build_table("raster", grid_layer(access, access.attend()), **_types(access))


def kursorte_layer(ctx: RunContext) -> Table:
    """Producer of the ``kursorte`` layer."""
    access = ctx.school
    sites, _ = site_layers_of(access, access.attend(), ctx.inputs.courses, access.threshold_min)
    for c in ("site_name", "address", "phone", "email", "web"):
        if c not in sites.columns:
            sites[c] = None
    from kurszugang.analysis.overview import gemeinde_of

    sites["ags"] = gemeinde_of(sites.geometry, ctx.inputs.gemeinden)
    return build_table("kursorte", sites)


def kurse_layer(ctx: RunContext) -> Table:
    """Producer of the ``kurse`` layer."""
    access = ctx.school
    _, course_layer = site_layers_of(access, access.attend(), None, access.threshold_min)
    for c in ("capacity", "free_places", "notes", "next_start"):
        if c not in course_layer.columns:
            course_layer[c] = None
    return build_table("kurse", course_layer)


def catchment_layer(ctx: RunContext) -> Table:
    """Producer of the ``einzugsbereiche`` layer."""
    layer = catchment_layer_of(ctx.surfaces, ctx.cfg.catchments.thresholds_min)
    if "arrive_by" not in layer.columns:
        layer["arrive_by"] = ctx.cfg.catchments.arrive_by
    return build_table("einzugsbereiche", layer)


def stop_lines(feed: Feed) -> pd.DataFrame:
    """Per stop id: the lines (route short names, comma-separated) and whether an on-demand
    line serves it."""
    st = feed.stop_times[["trip_id", "stop_id"]].drop_duplicates().merge(
        feed.trips[["trip_id", "route_id"]], on="trip_id").drop_duplicates(["stop_id",
                                                                            "route_id"])
    routes = feed.routes.set_index("route_id")
    name = routes["route_short_name"].fillna(routes["route_long_name"]).fillna(
        pd.Series(routes.index, index=routes.index))
    st["line"] = st["route_id"].map(name).astype(str)
    od = feed.on_demand_route_ids()
    grouped = st.sort_values(["stop_id", "line"]).groupby("stop_id")
    return pd.DataFrame({"lines": grouped["line"].agg(lambda s: ", ".join(pd.unique(s))),
                         "on_demand": grouped["route_id"].agg(lambda s: bool(set(s) & od))})


def stops_layer(ctx: RunContext) -> Table:
    """Producer of the ``haltestellen`` layer (departures on the school day)."""
    layer = ctx.departures(ctx.school_day)
    hours = [c.removeprefix("dep_h") for c in layer.columns if c.startswith("dep_h")]
    lines = stop_lines(ctx.inputs.feed)
    ids = layer["stop_id"].astype(str)
    layer.insert(2, "lines", ids.map(lines["lines"]).fillna("").to_numpy())
    layer.insert(3, "on_demand", ids.map(lines["on_demand"]).fillna(False).astype(bool)
                 .to_numpy())
    return build_table("haltestellen", layer, hour=hours)


def kreis_layer(ctx: RunContext) -> Table:
    """Producer of the ``kreis`` layer (the district's outline)."""
    return build_table("kreis", ctx.inputs.kreis[["key", "name", ctx.inputs.kreis.geometry.name]])


def union_outline(gemeinden: gpd.GeoDataFrame, key: str, name: str) -> gpd.GeoDataFrame:
    """The district's outline as one row (EPSG:25832) from its Gemeinden."""
    gem = gemeinden.to_crs(ANALYSIS_CRS)
    geom = shapely.union_all(np.asarray(gem.geometry.values))
    return gpd.GeoDataFrame({"key": [key], "name": [name]}, geometry=[geom], crs=ANALYSIS_CRS)
