"""Cut a parsed GTFS feed to an area: what a district's analysis needs of a statewide feed.

:func:`cut_feed` keeps the stops inside an area (with their parent stations), the stop_times at
those stops, the trips, routes, agencies, frequencies and shapes they use and the transfers
between kept stops. A trip keeps its stops inside the area in their order, so a ride between two
kept stops takes as long as in the whole feed; what is lost are journeys that leave the area and
come back into it (a margin around the district makes them rare: ``[district] cut_buffer_km``).

The calendar and the service days are kept whole, so the period of the timetable and the dates
it covers read the same as for the whole feed.

:func:`cut_courses` keeps the course sites inside an area and their courses.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

if TYPE_CHECKING:
    from kurszugang.io.courses import CourseList
    from kurszugang.io.gtfs import Feed

__all__ = ["cut_courses", "cut_feed"]

#: Cached values of a feed that describe the whole feed, not its stops (carried over).
_WHOLE_FEED = ("_service_days",)


def _inside(lon: pd.Series, lat: pd.Series, area: Any) -> np.ndarray:
    x = pd.to_numeric(lon, errors="coerce").to_numpy(float)
    y = pd.to_numeric(lat, errors="coerce").to_numpy(float)
    ok = np.isfinite(x) & np.isfinite(y)
    out = np.zeros(len(x), dtype=bool)
    shapely.prepare(area)
    out[ok] = shapely.contains_xy(area, x[ok], y[ok])
    return out


def cut_feed(feed: Feed, area: Any) -> Feed:
    """The part of ``feed`` inside ``area`` (a shapely geometry in lon/lat, EPSG:4326).

    Parameters
    ----------
    feed
        A feed as read by :func:`kurszugang.io.gtfs.read_gtfs` (whole or for some dates).
    area
        The area in degrees, e.g. a district buffered by some kilometres.

    Returns
    -------
    Feed
        The same kind of feed with fewer stops; its ``source``, report and skipped records
        are the whole feed's.
    """
    stops = feed.stops
    keep = _inside(stops["stop_lon"], stops["stop_lat"], area)
    if "parent_station" in stops.columns:  # the stations of kept stops stay too
        parents = set(stops.loc[keep, "parent_station"].dropna().astype(str))
        keep |= stops["stop_id"].astype(str).isin(parents).to_numpy()
    kept_stops = stops[keep].reset_index(drop=True)
    ids = kept_stops["stop_id"]
    st = feed.stop_times
    st = st[st["stop_id"].isin(ids).to_numpy()].reset_index(drop=True)
    trips = feed.trips[feed.trips["trip_id"].isin(st["trip_id"].unique()).to_numpy()]
    routes = feed.routes[feed.routes["route_id"].isin(trips["route_id"].unique()).to_numpy()]
    agency = feed.agency
    if "agency_id" in routes.columns and "agency_id" in agency.columns and len(agency) > 1:
        agency = agency[agency["agency_id"].isin(routes["agency_id"].dropna().unique())]
    freq = feed.frequencies
    if len(freq):
        freq = freq[freq["trip_id"].isin(trips["trip_id"]).to_numpy()]
    tr = feed.transfers
    if len(tr) and {"from_stop_id", "to_stop_id"} <= set(tr.columns):
        tr = tr[(tr["from_stop_id"].isin(ids) & tr["to_stop_id"].isin(ids)).fillna(False)
                .to_numpy(bool)]
    shapes = feed.shapes
    if len(shapes) and "shape_id" in trips.columns:
        shapes = shapes[shapes["shape_id"].isin(trips["shape_id"].dropna().unique()).to_numpy()]
    out = dataclasses.replace(
        feed, stops=kept_stops, stop_times=st, trips=trips.reset_index(drop=True),
        routes=routes.reset_index(drop=True), agency=agency.reset_index(drop=True),
        frequencies=freq.reset_index(drop=True), transfers=tr.reset_index(drop=True),
        shapes=shapes.reset_index(drop=True))
    for name in _WHOLE_FEED:
        if name in feed.__dict__:
            out.__dict__[name] = feed.__dict__[name]
    return out


def cut_courses(courses: CourseList, area: Any) -> CourseList:
    """The sites of ``courses`` inside ``area`` (lon/lat, EPSG:4326) and their courses."""
    sites = courses.sites
    keep = _inside(sites["lon"], sites["lat"], area)
    kept = sites[keep].reset_index(drop=True)
    rows = courses.courses["site_id"].astype(str).isin(kept["site_id"].astype(str)).to_numpy()
    return dataclasses.replace(courses, sites=kept,
                               courses=courses.courses[rows].reset_index(drop=True))
