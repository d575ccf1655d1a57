"""Compile a GTFS feed for one service date into flat numpy arrays for RAPTOR.

The timetable of a date holds every trip that runs on it: trips of the date's services, trips of
the previous day's services that run past 24:00 (shifted by -24 h), and ``frequencies.txt`` trips
expanded to explicit departures. Trips are grouped into *patterns*: trips with the same sequence of
stops and the same boarding/alighting rules, split further so that no trip of a pattern overtakes
another (RAPTOR needs that to find the earliest trip by binary search).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numba
import numpy as np
import pandas as pd
from pyproj import Proj

from kurszugang._arrow import isin
from kurszugang.crs import ANALYSIS_CRS, WEB_CRS, metric_crs_for, transformer
from kurszugang.dates import parse_date
from kurszugang.errors import RoutingError, ServiceDateError
from kurszugang.words import de_number

if TYPE_CHECKING:
    from kurszugang.io.gtfs import Feed

log = logging.getLogger(__name__)

DAY = 86_400
#: A date with fewer trips than this share of a typical weekday's trips is warned about.
THIN_SERVICE_SHARE = 0.2

#: The analysis CRS is kept as the router's working CRS where its scale error at the centre of
#: the stops is at most this (0.25 %: all of Germany and Switzerland); elsewhere the UTM zone of
#: the centre (:func:`kurszugang.crs.metric_crs_for`).
CRS_TOLERANCE = 0.0025


@dataclass(frozen=True, eq=False)
class Timetable:
    """The trips of one service date as flat arrays (times in seconds after midnight).

    Attributes
    ----------
    date
        The service date.
    stop_ids
        Stop id of each stop index (every stop of the feed).
    stop_x, stop_y
        Stop coordinates in metres in ``crs``.
    stop_lon, stop_lat
        Stop coordinates in WGS84 (degrees).
    pattern_stop_start
        ``pattern_stops[pattern_stop_start[p]:pattern_stop_start[p + 1]]`` are the stops of
        pattern ``p`` in travel order.
    pattern_stops, pattern_pickup, pattern_dropoff
        Stop index, boarding allowed (1/0) and alighting allowed (1/0) per pattern position.
    pattern_trip_start
        Trips of pattern ``p`` are ``pattern_trip_start[p]:pattern_trip_start[p + 1]`` (sorted by
        departure; no trip overtakes another).
    pattern_time_start
        Offset of pattern ``p``'s times in ``arr``/``dep``: the time of its ``j``-th trip at its
        ``i``-th stop is at ``pattern_time_start[p] + j * n_stops(p) + i``.
    arr, dep
        Arrival and departure times (int32 seconds after midnight of ``date``; may be negative
        for previous-day trips, or above 86,400).
    trip_ids
        GTFS trip id of each trip instance (frequency-based instances share their trip id).
    trip_route_ids
        Route id of each trip instance.
    trip_start
        Departure of each trip instance at its first stop (seconds).
    pattern_route_ids
        Route id of each pattern.
    stop_pattern_start, stop_patterns, stop_pattern_pos
        For stop ``s``: the patterns serving it and the position within each pattern
        (``stop_pattern_start[s]:stop_pattern_start[s + 1]``).
    counts
        Figures about the compilation (trips of the day, of the previous day, frequency instances).
    stop_names
        ``stop_name`` of each stop ("" where the feed has none).
    stop_location_type
        GTFS ``location_type`` of each stop (0: a stop or platform where vehicles halt).
    crs
        The projected CRS of ``stop_x``/``stop_y`` (see :func:`working_crs`).
    """

    date: dt.date
    stop_ids: np.ndarray
    stop_x: np.ndarray
    stop_y: np.ndarray
    stop_lon: np.ndarray
    stop_lat: np.ndarray
    pattern_stop_start: np.ndarray
    pattern_stops: np.ndarray
    pattern_pickup: np.ndarray
    pattern_dropoff: np.ndarray
    pattern_trip_start: np.ndarray
    pattern_time_start: np.ndarray
    arr: np.ndarray
    dep: np.ndarray
    trip_ids: np.ndarray
    trip_route_ids: np.ndarray
    trip_start: np.ndarray
    pattern_route_ids: np.ndarray
    stop_pattern_start: np.ndarray
    stop_patterns: np.ndarray
    stop_pattern_pos: np.ndarray
    counts: dict[str, int]
    stop_names: np.ndarray | None = None
    stop_location_type: np.ndarray | None = None
    crs: str = ANALYSIS_CRS

    @property
    def n_stops(self) -> int:
        """Number of stops (every stop of the feed)."""
        return len(self.stop_ids)

    @property
    def n_patterns(self) -> int:
        """Number of patterns."""
        return len(self.pattern_stop_start) - 1

    @property
    def n_trips(self) -> int:
        """Number of trip instances running on the date."""
        return len(self.trip_ids)

    @property
    def n_stop_times(self) -> int:
        """Number of stop times of the trip instances running on the date."""
        return len(self.arr)

    def departures_per_stop(self) -> pd.DataFrame:
        """Boardable departures per stop on the date, in total and per hour of the clock.

        Counted from the compiled trips of the date, so that they agree with the router: a
        departure is a trip instance's stop where boarding is allowed (``pickup_type`` not 1;
        on-demand stops count) that is not the trip's last stop, at its clock time on the date
        (00:00 to 23:59). Trips of the previous day past 24:00 count in the early hours
        (24:20 of Monday is 00:20 on Tuesday); this day's trips past 24:00 count on the next
        date, never twice. ``frequencies.txt`` trips count each departure.

        Returns
        -------
        pandas.DataFrame
            One row per stop of ``location_type`` 0 (or empty), in feed order: ``stop_id``,
            ``stop_name``, ``lon``, ``lat`` (WGS84 degrees), ``x``, ``y`` (metres in ``crs``),
            ``departures`` (the date's total) and ``dep_h00`` … ``dep_h23`` (departures in each
            hour of the clock).

        Examples
        --------
        >>> deps = router.timetable.departures_per_stop()
        >>> deps.loc[deps["departures"].idxmax(), "stop_name"]
        'Beispielstadt, Marktplatz'
        >>> int(deps["departures"].sum()), int(deps["dep_h07"].sum())
        (916, 83)
        """
        per_hour = _departures_per_hour(self)
        station = (np.zeros(self.n_stops, dtype=bool) if self.stop_location_type is None
                   else self.stop_location_type != 0)
        odd = station & (per_hour.sum(axis=1) > 0)
        if odd.any():
            log.warning("%d Abfahrten an %d Stationen oder Eingängen (location_type nicht 0) "
                        "werden keiner Haltestelle zugerechnet, z. B. %s",
                        int(per_hour[odd].sum()), int(odd.sum()),
                        ", ".join(map(str, self.stop_ids[odd][:3])))
        rows = np.flatnonzero(~station)
        names = self.stop_names if self.stop_names is not None else np.full(self.n_stops, "")
        out = pd.DataFrame({
            "stop_id": pd.array(self.stop_ids[rows].astype(str), dtype="string"),
            "stop_name": pd.array(names[rows].astype(str), dtype="string"),
            "lon": self.stop_lon[rows], "lat": self.stop_lat[rows],
            "x": self.stop_x[rows], "y": self.stop_y[rows],
            "departures": per_hour[rows].sum(axis=1),
        })
        hours = pd.DataFrame(per_hour[rows], columns=[f"dep_h{h:02d}" for h in range(24)])
        return pd.concat([out, hours], axis=1)

    def stop_index(self, stop_ids: object) -> np.ndarray:
        """Indices of the given stop ids (KeyError naming the first unknown id)."""
        lookup = pd.Index(self.stop_ids)
        ids = pd.Index(np.atleast_1d(np.asarray(stop_ids, dtype=object)))
        idx = lookup.get_indexer(ids)
        if (idx < 0).any():
            raise KeyError(f"stop_id {ids[idx < 0][0]!r} ist nicht im Fahrplan")
        return idx


def _departures_per_hour(tt: Timetable) -> np.ndarray:
    """``(n_stops, 24)`` int64: boardable departures per stop and hour of the clock on the date."""
    n_sp = np.diff(tt.pattern_stop_start)
    size = n_sp * np.diff(tt.pattern_trip_start)
    pattern = np.repeat(np.arange(tt.n_patterns), size)  # pattern of each stop time
    pos = (np.arange(len(tt.dep)) - tt.pattern_time_start[pattern]) % np.maximum(n_sp[pattern], 1)
    at = tt.pattern_stop_start[pattern] + pos
    dep = tt.dep.astype(np.int64)
    ok = (tt.pattern_pickup[at] == 1) & (pos < n_sp[pattern] - 1) & (dep >= 0) & (dep < DAY)
    cell = tt.pattern_stops[at[ok]].astype(np.int64) * 24 + dep[ok] // 3600
    return np.bincount(cell, minlength=tt.n_stops * 24).reshape(tt.n_stops, 24).astype(np.int64)


def _parse_date(date: dt.date | str) -> dt.date:
    """The service date (``date``, ISO or German text) or a RoutingError naming the forms."""
    try:
        return parse_date(date)
    except ValueError as exc:
        raise RoutingError(str(exc)) from None


def _expand_frequencies(stop_times: pd.DataFrame, frequencies: pd.DataFrame) -> pd.DataFrame:
    """Replace frequency-based trips by explicit instances (columns as stop_times + ``instance``).

    Instances depart from ``start_time`` every ``headway_secs`` up to but excluding ``end_time``;
    the trip's stop_times give the times relative to its first departure.
    """
    freq = frequencies[isin(frequencies["trip_id"], stop_times["trip_id"].unique())]
    plain = stop_times[~isin(stop_times["trip_id"], freq["trip_id"])].copy()
    plain["instance_start"] = -1
    if freq.empty:
        return plain
    start = freq["start_time"].to_numpy(np.int64)
    end = freq["end_time"].to_numpy(np.int64)
    head = np.maximum(freq["headway_secs"].to_numpy(np.int64), 1)
    n_inst = np.maximum(-(-(end - start) // head), 0)  # ceil: start + k*head < end
    inst_trip = np.repeat(freq["trip_id"].to_numpy(object), n_inst)
    first = np.repeat(start, n_inst)
    step = np.arange(n_inst.sum()) - np.repeat(np.cumsum(n_inst) - n_inst, n_inst)
    inst_start = first + step * np.repeat(head, n_inst)
    instances = pd.DataFrame({"trip_id": inst_trip, "instance_start": inst_start})

    templ = stop_times[isin(stop_times["trip_id"], freq["trip_id"])].copy()
    first_dep = templ.groupby("trip_id", sort=False)["departure_time"].transform("first")
    templ["rel_arr"] = templ["arrival_time"] - first_dep
    templ["rel_dep"] = templ["departure_time"] - first_dep
    expanded = instances.merge(templ, on="trip_id", how="inner")
    expanded["arrival_time"] = (expanded["instance_start"] + expanded["rel_arr"]).astype(np.int64)
    expanded["departure_time"] = (expanded["instance_start"] + expanded["rel_dep"]).astype(np.int64)
    expanded = expanded.drop(columns=["rel_arr", "rel_dep"])
    return pd.concat([plain, expanded[plain.columns]], ignore_index=True)


@numba.njit(cache=True)
def _split_overtaking(order: np.ndarray, trip_pattern: np.ndarray, trip_row: np.ndarray,
                      trip_len: np.ndarray, arr: np.ndarray, dep: np.ndarray) -> np.ndarray:
    """Sub-pattern number of each trip so that no trip overtakes another within a sub-pattern.

    ``order`` lists trips sorted by (pattern, first departure); trips of one pattern have the same
    length. A trip joins the first sub-pattern whose last trip it does not overtake (both arrival
    and departure not earlier at any stop), else opens a new one.
    """
    n = len(order)
    sub = np.zeros(n, dtype=np.int64)
    last = np.empty(n, dtype=np.int64)  # last trip of each open sub-pattern of the current pattern
    n_open = 0
    current = -1
    for oi in range(n):
        t = order[oi]
        p = trip_pattern[t]
        if p != current:
            current = p
            n_open = 0
        placed = -1
        for g in range(n_open):
            o = last[g]
            ok = True
            ro = trip_row[o]
            rt = trip_row[t]
            for i in range(trip_len[t]):
                if arr[rt + i] < arr[ro + i] or dep[rt + i] < dep[ro + i]:
                    ok = False
                    break
            if ok:
                placed = g
                break
        if placed < 0:
            placed = n_open
            n_open += 1
        last[placed] = t
        sub[t] = placed
    return sub


def _active_trips(feed: Feed, date: dt.date,
                  exclude_route_ids: frozenset[str] = frozenset()) -> tuple[pd.DataFrame, int, int]:
    """Stop times of the trips running on ``date`` (previous-day trips past 24:00 shifted)."""
    today = feed.active_service_ids(date)
    yesterday = feed.active_service_ids(date - dt.timedelta(days=1))
    trips = feed.trips
    if exclude_route_ids:
        trips = trips[~isin(trips["route_id"], list(exclude_route_ids))]
    cols = ["trip_id", "stop_sequence", "stop_id", "arrival_time", "departure_time",
            "pickup_type", "drop_off_type"]
    st = feed.stop_times[cols]
    t_today = trips.loc[isin(trips["service_id"], list(today)), ["trip_id", "route_id"]]
    t_prev = trips.loc[isin(trips["service_id"], list(yesterday)), ["trip_id", "route_id"]]
    st_today = st[isin(st["trip_id"], t_today["trip_id"])]
    st_prev = st[isin(st["trip_id"], t_prev["trip_id"])]
    frames = []
    exp_today = _expand_frequencies(st_today, feed.frequencies)
    exp_today["day_shift"] = 0
    frames.append(exp_today)
    n_prev = 0
    if not st_prev.empty:
        exp_prev = _expand_frequencies(st_prev, feed.frequencies)
        key = ["trip_id", "instance_start"]
        late = exp_prev.groupby(key, sort=False)["arrival_time"].transform("max") >= DAY
        exp_prev = exp_prev[late].copy()
        exp_prev["arrival_time"] -= DAY
        exp_prev["departure_time"] -= DAY
        exp_prev["day_shift"] = -1
        n_prev = exp_prev.groupby(key, sort=False).ngroups if len(exp_prev) else 0
        frames.append(exp_prev)
    out = pd.concat(frames, ignore_index=True)
    route_of = pd.concat([t_today, t_prev]).drop_duplicates("trip_id").set_index("trip_id")["route_id"]
    out["route_id"] = out["trip_id"].map(route_of)
    n_today = int(isin(t_today["trip_id"], st_today["trip_id"].unique()).sum())
    return out, n_today, n_prev


def working_crs(lon: np.ndarray, lat: np.ndarray) -> str:
    """The projected CRS in metres suited to stops at ``lon``, ``lat`` (degrees).

    :data:`~kurszugang.crs.ANALYSIS_CRS` (EPSG:25832) where its scale error at the stops' centre
    (the median longitude and latitude) is at most :data:`CRS_TOLERANCE`, so that Bavarian data
    keeps the analysis CRS; elsewhere :func:`~kurszugang.crs.metric_crs_for` at the centre.

    Examples
    --------
    >>> working_crs(np.array([12.44]), np.array([49.29]))
    'EPSG:25832'
    >>> working_crs(np.array([-120.5]), np.array([44.0]))
    'EPSG:32610'
    """
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return ANALYSIS_CRS
    clon, clat = float(np.median(lon[ok])), float(np.median(lat[ok]))
    factors = Proj(ANALYSIS_CRS).get_factors(clon, clat)
    error = max(abs(factors.meridional_scale - 1), abs(factors.parallel_scale - 1))
    return ANALYSIS_CRS if error <= CRS_TOLERANCE else metric_crs_for(clon, clat)


def compile_timetable(feed: Feed, date: dt.date | str, *,
                      exclude_route_ids: frozenset[str] | set[str] = frozenset(),
                      crs: str | None = None) -> Timetable:
    """Compile the trips of one service date into a :class:`Timetable`.

    Parameters
    ----------
    feed
        A feed read with :func:`kurszugang.io.gtfs.read_gtfs`.
    date
        The service date (``datetime.date``, ``"YYYY-MM-DD"`` or ``"DD.MM.YYYY"``).
    exclude_route_ids
        Routes left out (e.g. on-demand lines, to see what is reachable without them).
    crs
        Projected CRS in metres of the stop coordinates; default :func:`working_crs` of the
        feed's stops.

    Returns
    -------
    Timetable
        Flat arrays of patterns, trips and stop times for the date. A date inside the feed's
        service period on which no trip runs (a holiday, a Sunday without service) gives an
        empty timetable (``n_trips == 0``: walking only), with a warning naming the date.

    Raises
    ------
    ServiceDateError
        If the date lies outside the feed's service period and no trip runs on it; the
        message names the date and the period.

    Examples
    --------
    >>> from kurszugang.io.gtfs import read_gtfs
    >>> feed = read_gtfs(demo.gtfs)
    >>> tt = compile_timetable(feed, "2026-03-10")
    >>> tt.n_trips
    174
    >>> compile_timetable(feed, "2026-08-11").n_trips  # Sommerferien: no school buses
    159
    """
    day = _parse_date(date)
    st, n_today, n_prev = _active_trips(feed, day, frozenset(exclude_route_ids))
    stops = _stop_table(feed, crs)
    arrays: dict[str, Any]
    if n_today + n_prev == 0:
        _no_service(feed, day, frozenset(exclude_route_ids))
        arrays = _empty_arrays(len(stops["stop_ids"]))
        n_inst = 0
    else:
        _warn_thin_service(feed, day, n_today)
        arrays, n_inst = _compile_trips(st, stops["stop_ids"])
    counts = {
        "trips_of_the_date": n_today,
        "trips_from_previous_day": n_prev,
        "trip_instances": n_inst,
        "stop_times": int(len(arrays["arr"])),
        "patterns": int(len(arrays["pattern_stop_start"]) - 1),
    }
    log.info("Fahrplan für %s aufbereitet: %s Fahrten (%s vom Vortag), %s Halte, %s Muster",
             day, de_number(n_inst), de_number(n_prev), de_number(counts["stop_times"]),
             de_number(counts["patterns"]))
    return Timetable(date=day, **stops, **arrays, counts=counts)


_WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")


def _no_service(feed: Feed, date: dt.date, exclude_route_ids: frozenset[str]) -> None:
    """No trip runs on ``date``: an error outside the service period, else a warning."""
    first, last = feed.service_period()
    if not first <= date <= last:
        raise ServiceDateError(
            f"am {date.isoformat()} ({_WEEKDAYS[date.weekday()]}) fährt keine Fahrt, der Tag "
            f"liegt außerhalb des Fahrplans: sein Gültigkeitszeitraum ist {first.isoformat()} "
            f"bis {last.isoformat()}; einen Tag darin wählen",
            path=feed.source,
        )
    without = " (ohne die ausgeschlossenen Linien)" if exclude_route_ids else ""
    log.warning(
        "Am %s (%s) fährt laut Fahrplan keine Fahrt%s, obwohl der Tag im Gültigkeitszeitraum "
        "%s bis %s liegt: die Ergebnisse für diesen Tag sind reine Fußwege (Feiertag? Sonntag?)",
        date.isoformat(), _WEEKDAYS[date.weekday()], without, first.isoformat(),
        last.isoformat())


def _stop_table(feed: Feed, crs: str | None) -> dict[str, Any]:
    """Stop ids, names, kinds and coordinates (the Timetable's stop fields and its CRS)."""
    stops = feed.stops
    lon = stops["stop_lon"].to_numpy(np.float64)
    lat = stops["stop_lat"].to_numpy(np.float64)
    crs = working_crs(lon, lat) if crs is None else crs
    x, y = transformer(WEB_CRS, crs).transform(lon, lat)
    names = (stops["stop_name"].astype(object).where(stops["stop_name"].notna(), "")
             if "stop_name" in stops.columns else pd.Series([""] * len(stops)))
    kind = (pd.to_numeric(stops["location_type"], errors="coerce").fillna(0)
            if "location_type" in stops.columns else pd.Series(np.zeros(len(stops))))
    return {"stop_ids": stops["stop_id"].to_numpy(dtype=object),
            "stop_x": np.asarray(x, dtype=np.float64), "stop_y": np.asarray(y, dtype=np.float64),
            "stop_lon": lon, "stop_lat": lat,
            "stop_names": names.to_numpy(dtype=object),
            "stop_location_type": kind.to_numpy(np.int64), "crs": crs}


def _empty_arrays(n_stops: int) -> dict[str, Any]:
    """The Timetable's pattern and trip arrays of a date without any trip."""
    i64, i32 = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
    return {
        "pattern_stop_start": np.zeros(1, dtype=np.int64), "pattern_stops": i32,
        "pattern_pickup": np.zeros(0, dtype=np.int8), "pattern_dropoff": np.zeros(0, dtype=np.int8),
        "pattern_trip_start": np.zeros(1, dtype=np.int64), "pattern_time_start": i64,
        "arr": i32, "dep": i32, "trip_ids": np.zeros(0, dtype=object),
        "trip_route_ids": np.zeros(0, dtype=object), "trip_start": i32,
        "pattern_route_ids": np.zeros(0, dtype=object),
        "stop_pattern_start": np.zeros(n_stops + 1, dtype=np.int64), "stop_patterns": i32,
        "stop_pattern_pos": i32,
    }


@dataclass(frozen=True)
class _Instances:
    """The date's stop times sorted by trip instance and sequence, as flat arrays."""

    st: pd.DataFrame
    stop_idx: np.ndarray
    arr: np.ndarray
    dep: np.ndarray
    pick: np.ndarray
    drop: np.ndarray
    trip_len: np.ndarray
    trip_row: np.ndarray

    @property
    def n(self) -> int:
        return len(self.trip_len)


def _instances(st: pd.DataFrame, stop_ids: np.ndarray) -> _Instances:
    """One integer per trip instance, stop times sorted by instance and sequence."""
    st = st.sort_values(["day_shift", "trip_id", "instance_start", "stop_sequence"], kind="stable")
    inst_key = pd.MultiIndex.from_frame(st[["day_shift", "trip_id", "instance_start"]])
    inst_codes, _ = pd.factorize(inst_key)
    st = st.assign(inst=inst_codes).reset_index(drop=True)
    trip_len = np.bincount(st["inst"].to_numpy(np.int64), minlength=int(inst_codes.max()) + 1)
    return _Instances(
        st=st,
        stop_idx=pd.Index(stop_ids).get_indexer(st["stop_id"]),
        arr=st["arrival_time"].to_numpy(np.int64),
        dep=st["departure_time"].to_numpy(np.int64),
        pick=(st["pickup_type"].to_numpy(np.int64) != 1).astype(np.int64),
        drop=(st["drop_off_type"].to_numpy(np.int64) != 1).astype(np.int64),
        trip_len=trip_len,
        trip_row=np.concatenate([[0], np.cumsum(trip_len)[:-1]]),
    )


def _group_patterns(ins: _Instances) -> tuple[np.ndarray, np.ndarray]:
    """Pattern of each trip instance and the instances sorted by (pattern, first departure).

    A pattern key is the padded sequence of (stop, pickup, drop-off) codes of an instance;
    patterns are split further so that no trip overtakes another.
    """
    inst = ins.st["inst"].to_numpy(np.int64)
    width = int(ins.trip_len.max())
    pos = np.arange(len(inst)) - ins.trip_row[inst]
    codes = np.full((ins.n, width), -1, dtype=np.int64)
    codes[inst, pos] = ins.stop_idx * 4 + ins.pick * 2 + ins.drop
    _, pattern = np.unique(codes, axis=0, return_inverse=True)
    pattern = pattern.ravel()
    first_dep = ins.dep[ins.trip_row]
    order = np.lexsort((first_dep, pattern))
    sub = _split_overtaking(order, pattern, ins.trip_row, ins.trip_len, ins.arr, ins.dep)
    final_key = pattern * (int(sub.max()) + 1) + sub
    _, final_pattern = np.unique(final_key, return_inverse=True)
    final_pattern = final_pattern.ravel()
    trip_order = np.lexsort((np.arange(ins.n), first_dep, final_pattern))
    return final_pattern, trip_order


def _compile_trips(st: pd.DataFrame, stop_ids: np.ndarray) -> tuple[dict[str, Any], int]:
    """Patterns, trips and stop times of the date's stop times (the Timetable's arrays)."""
    ins = _instances(st, stop_ids)
    final_pattern, trip_order = _group_patterns(ins)
    n_pat = int(final_pattern.max()) + 1
    trip_len, trip_row = ins.trip_len, ins.trip_row

    pat_of_sorted = final_pattern[trip_order]
    pattern_trip_start = np.searchsorted(pat_of_sorted, np.arange(n_pat + 1)).astype(np.int64)
    rep_trip = trip_order[pattern_trip_start[:-1]]  # a representative trip per pattern
    pat_len = trip_len[rep_trip]
    pattern_stop_start = np.concatenate([[0], np.cumsum(pat_len)]).astype(np.int64)
    rep_rows = np.repeat(trip_row[rep_trip], pat_len) + (
        np.arange(pattern_stop_start[-1]) - np.repeat(pattern_stop_start[:-1], pat_len))
    pattern_stops = ins.stop_idx[rep_rows].astype(np.int32)

    # Times laid out pattern by pattern, trip by trip (trip-major).
    sorted_len = trip_len[trip_order]
    rows = np.repeat(trip_row[trip_order], sorted_len) + (
        np.arange(sorted_len.sum()) - np.repeat(np.cumsum(sorted_len) - sorted_len, sorted_len))
    trips_per_pat = np.diff(pattern_trip_start)
    pattern_time_start = np.concatenate([[0], np.cumsum(trips_per_pat * pat_len)[:-1]]).astype(np.int64)

    # Stop -> (pattern, position) index.
    pat_of_pos = np.repeat(np.arange(n_pat), pat_len)
    pos_in_pat = np.arange(len(pattern_stops)) - pattern_stop_start[pat_of_pos]
    by_stop = np.lexsort((pos_in_pat, pat_of_pos, pattern_stops))
    stop_pattern_start = np.searchsorted(pattern_stops[by_stop],
                                         np.arange(len(stop_ids) + 1)).astype(np.int64)

    inst_first_row = trip_row[trip_order]
    trip_ids = ins.st["trip_id"].to_numpy(dtype=object)
    route_ids = ins.st["route_id"].to_numpy(dtype=object)
    arrays = {
        "pattern_stop_start": pattern_stop_start,
        "pattern_stops": pattern_stops,
        "pattern_pickup": ins.pick[rep_rows].astype(np.int8),
        "pattern_dropoff": ins.drop[rep_rows].astype(np.int8),
        "pattern_trip_start": pattern_trip_start,
        "pattern_time_start": pattern_time_start,
        "arr": ins.arr[rows].astype(np.int32),
        "dep": ins.dep[rows].astype(np.int32),
        "trip_ids": trip_ids[inst_first_row],
        "trip_route_ids": route_ids[inst_first_row],
        "trip_start": ins.dep[inst_first_row].astype(np.int32),
        "pattern_route_ids": route_ids[trip_row[rep_trip]],
        "stop_pattern_start": stop_pattern_start,
        "stop_patterns": pat_of_pos[by_stop].astype(np.int32),
        "stop_pattern_pos": pos_in_pat[by_stop].astype(np.int32),
    }
    return arrays, ins.n


def _warn_thin_service(feed: Feed, date: dt.date, n_trips: int) -> None:
    """Log a warning when the date has under a fifth of a typical weekday's trips."""
    try:
        counts = feed.service_counts(date - dt.timedelta(days=14), date + dt.timedelta(days=14))
    except AttributeError:  # a feed object without service_counts
        return
    weekdays = counts[[d.weekday() < 5 for d in counts.index]] if len(counts) else counts
    if len(weekdays) == 0:
        return
    typical = float(np.median(weekdays.to_numpy()))
    if typical > 0 and n_trips < THIN_SERVICE_SHARE * typical:
        log.warning(
            "Am %s fahren nur %s Fahrten, weniger als ein Fünftel der %s eines üblichen "
            "Werktags um dieses Datum: vor dem Lesen der Ergebnisse das Datum prüfen (Feiertag? "
            "Sonntag?)", date.isoformat(), de_number(n_trips), de_number(round(typical)))
