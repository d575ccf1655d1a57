"""The inputs of a run and the intermediate results its analyses share, each computed once.

:class:`RunContext` holds what was read and checked (:class:`RunInputs`) and the run's
:class:`~kurszugang.config.Config`; the expensive shared results (the analysis grid, the routers,
the travel times at course times on both days, the catchments) are computed on first use and kept.
Every table of :mod:`kurszugang.schema` is computed by its producer from a context.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kurszugang.config import Config
from kurszugang.crs import ANALYSIS_CRS

if TYPE_CHECKING:
    import geopandas as gpd

    from kurszugang.analysis.catchments import TravelTimeSurface
    from kurszugang.analysis.coverage import CourseAccess, RouterPool
    from kurszugang.analysis.from_here import FromHere
    from kurszugang.io.addresses import OsmPlaces
    from kurszugang.io.courses import CourseList
    from kurszugang.io.gtfs import Feed
    from kurszugang.io.osm import WalkNetwork

log = logging.getLogger(__name__)

__all__ = ["RunContext", "RunInputs"]


@dataclass(frozen=True)
class RunInputs:
    """What a run read and checked.

    Attributes
    ----------
    gemeinden
        The district's Gemeinden (EPSG:25832) with ``ags``, ``gen``, ``ars``, ``bez``.
    kreis
        One row: the district's outline with ``key`` and ``name`` (EPSG:25832).
    feed, courses, population, walk
        The timetable, the course list, the Zensus grid and the walking network (or None).
    participants_per_gemeinde
        Counts per AGS given by the district, or None.
    """

    gemeinden: gpd.GeoDataFrame
    kreis: gpd.GeoDataFrame
    feed: Feed
    courses: CourseList
    population: gpd.GeoDataFrame
    walk: WalkNetwork | None
    participants_per_gemeinde: pd.Series | None = None
    #: unincorporated areas (gemeindefreie Gebiete) of the district: no Gemeinden, but their
    #: cells are given to the nearest Gemeinde
    unincorporated: gpd.GeoDataFrame | None = None
    #: which boundary data was read ("VG250", "VG5000", "LDBV", "other")
    boundary_source: str = ""
    #: how the feed was cut from a larger one (a run over several districts), else ""
    feed_cut: str = ""


class RunContext:
    """The inputs, the config and the shared intermediate results of one run.

    Parameters
    ----------
    cfg
        The run's configuration.
    inputs
        What was read and checked.
    stage
        Called as ``stage(name, fn)`` around every long step (progress and timing); default:
        just call ``fn``.
    """

    def __init__(self, cfg: Config, inputs: RunInputs,
                 stage: Callable[[str, Callable[[], Any]], Any] | None = None) -> None:
        self.cfg = cfg
        self.inputs = inputs
        self.stage = stage or (lambda _name, fn: fn())
        self._served: dict[str, set[str]] = {}
        self._departures: dict[dt.date, gpd.GeoDataFrame] = {}

    @property
    def school_day(self) -> dt.date:
        return self.cfg.date("school_day")

    @property
    def holiday(self) -> dt.date:
        return self.cfg.date("holiday")

    @cached_property
    def grid(self) -> gpd.GeoDataFrame:
        """The analysis grid over the district and its buffer (all cells)."""
        from kurszugang.analysis.grid import analysis_grid

        g = self.cfg.grid
        gem = self.inputs.gemeinden
        if self.inputs.unincorporated is not None and len(self.inputs.unincorporated):
            import geopandas as gpd

            gem = gpd.GeoDataFrame(pd.concat([gem, self.inputs.unincorporated.to_crs(gem.crs)],
                                             ignore_index=True), crs=gem.crs)
        return self.stage("Analyseraster", lambda: analysis_grid(
            gem, self.inputs.population, resolution_m=g.resolution_m,
            buffer_m=g.buffer_m, participant_source=g.participant_source,
            participants_per_gemeinde=self.inputs.participants_per_gemeinde,
            participant_factor=g.participant_factor))

    @cached_property
    def cells(self) -> gpd.GeoDataFrame:
        """The populated cells (the homes of the coverage analyses)."""
        full = self.grid
        return full[full["inhabitants"] > 0].reset_index(drop=True)

    @cached_property
    def pool(self) -> RouterPool:
        from kurszugang.analysis.coverage import RouterPool

        r = self.cfg.routing
        return RouterPool(self.inputs.feed, self.inputs.walk, walk_speed_kmh=r.walk_speed_kmh,
                          max_walk_m=r.max_walk_m, detour_factor=r.detour_factor,
                          max_snap_m=r.max_snap_m, board_slack_s=r.board_slack_s,
                          max_rides=r.max_rides, max_direct_walk_m=self.cfg.max_direct_walk_m())

    def _access(self, day: dt.date, label: str) -> CourseAccess:
        from kurszugang.analysis.coverage import course_access

        c = self.cfg.coverage
        return self.stage(f"Kursbesuch am {label} {day:%d.%m.%Y}", lambda: course_access(
            self.pool, self.cells, self.inputs.courses, day, threshold_min=c.threshold_min,
            early_arrival_min=c.early_arrival_min, max_threshold_min=max(c.thresholds_min)))

    @cached_property
    def school(self) -> CourseAccess:
        """Who can attend which course on the school day (there and back)."""
        return self._access(self.school_day, "Schultag")

    @cached_property
    def holiday_access(self) -> CourseAccess:
        """The same on the holiday."""
        return self._access(self.holiday, "Ferientag")

    @cached_property
    def surfaces(self) -> dict[str, TravelTimeSurface]:
        """Travel-time surfaces per site, over the cells a footway reaches."""
        from kurszugang.analysis.catchments import site_surfaces

        router = self.pool.get(self.school_day)
        area = self.grid
        if self.inputs.walk is not None:  # fields and forests far from any way are left out
            snap = router.walking.snap(area[["x_utm", "y_utm"]].to_numpy(float))  # type: ignore[union-attr]
            area = area[snap.ok].reset_index(drop=True)
        cat = self.cfg.catchments
        sites = self.inputs.courses.sites
        starts = self.site_starts()

        def compute() -> dict[str, TravelTimeSurface]:
            out: dict[str, TravelTimeSurface] = {}
            for (day, start), ids in starts.items():  # one routing per site, by its course time
                out.update(site_surfaces(
                    self.pool.get(day), area, sites, arrive_by=start,
                    early_arrival_min=self.cfg.coverage.early_arrival_min,
                    max_time_min=max(cat.thresholds_min), site_ids=ids))
            order = sites["site_id"].astype(str)
            return {k: out[k] for k in order if k in out}

        return self.stage("Einzugsbereiche", compute)

    def site_starts(self) -> dict[tuple[dt.date, int], list[str]]:
        """Per (day, start in seconds): the sites whose catchment is computed for it.

        A site's catchment is the way to its earliest course start on the school day's week
        (the day that course is analysed on); a site without a course gets
        ``catchments.arrive_by`` on the school day.
        """
        from kurszugang.analysis.coverage import course_day
        from kurszugang.dates import parse_clock

        courses = self.inputs.courses.courses
        first = courses.sort_values(["start_time", "course_id"]).drop_duplicates("site_id")
        by_site = {str(sid): (course_day(self.school_day, int(mask)) or self.school_day,
                              int(start))
                   for sid, mask, start in zip(first["site_id"].to_numpy(),
                                               first["weekday_mask"].to_numpy(np.int64),
                                               first["start_time"].to_numpy(np.int64),
                                               strict=True)}
        fallback = (self.school_day, parse_clock(self.cfg.catchments.arrive_by))
        out: dict[tuple[dt.date, int], list[str]] = {}
        for sid in self.inputs.courses.sites["site_id"].astype(str):
            out.setdefault(by_site.get(sid, fallback), []).append(sid)
        return out

    @cached_property
    def snapped_cells(self) -> np.ndarray:
        """``bool`` per populated cell: within ``max_snap_m`` of a footway (all True without
        an OSM extract)."""
        if self.inputs.walk is None:
            return np.ones(len(self.cells), dtype=bool)
        walking = self.pool.get(self.school_day).walking
        return np.asarray(walking.snap(  # type: ignore[union-attr]
            self.cells[["x_utm", "y_utm"]].to_numpy(float)).ok, dtype=bool)

    @cached_property
    def gemeinde_names(self) -> dict[str, str]:
        gem = self.inputs.gemeinden
        return dict(zip(gem["ags"].astype(str), gem["gen"].astype(str), strict=True))

    @cached_property
    def gemeinden_with_people(self) -> set[str]:
        """AGS of the Gemeinden with populated cells in the district."""
        cells = self.cells
        inside = cells["in_district"].astype(bool) & cells["ags"].notna()
        return set(cells.loc[inside, "ags"].astype(str))

    def departures(self, day: dt.date) -> gpd.GeoDataFrame:
        """Departures per stop and clock hour on ``day`` (EPSG:25832), from the day's router."""
        if day not in self._departures:
            from kurszugang.analysis.layers import departures_layer

            per_stop = self.pool.get(day).timetable.departures_per_stop()
            self._departures[day] = departures_layer(per_stop)
        return self._departures[day]

    def served_gemeinden(self, day: dt.date) -> set[str]:
        """AGS of the Gemeinden with at least one stop with a departure on ``day``."""
        key = day.isoformat()
        if key not in self._served:
            from kurszugang.analysis.overview import gemeinde_of

            dep = self.departures(day)
            dep = dep[dep["departures"].to_numpy() > 0]
            ags = gemeinde_of(dep.geometry, self.inputs.gemeinden)
            self._served[key] = {str(a) for a in ags if a is not None}
        return self._served[key]

    def site_points(self) -> tuple[np.ndarray, np.ndarray]:
        """Site ids and their EPSG:25832 coordinates."""
        sites = self.inputs.courses.sites.to_crs(ANALYSIS_CRS)
        return (sites["site_id"].astype(str).to_numpy(dtype=object),
                np.column_stack([sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()]))

    @cached_property
    def from_here(self) -> FromHere:
        """From every populated cell the courses it can attend on the school day, with the
        journeys (for the web map's "von hier aus")."""
        from kurszugang.analysis.from_here import from_here

        return self.stage("Von hier aus (Verbindungen)",
                          lambda: from_here(self.pool, self.school))

    @cached_property
    def addresses(self) -> OsmPlaces | None:
        """Addresses, streets and places of the OSM extract (None without one)."""
        from kurszugang.io.addresses import read_addresses

        path = self.cfg.path(self.cfg.inputs.osm)
        if path is None:
            return None
        return self.stage("Adressen lesen", lambda: read_addresses(path))
