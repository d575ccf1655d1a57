"""The public router: build once for a feed and a date, then ask for travel times.

**Not reachable** has one form in every result: NaN in the float arrays of
:class:`TravelTimes`, :meth:`Router.per_minute` and :class:`ArriveBy` (a comparison such as
``seconds <= 45 * 60`` is then False, never true by accident), an empty cell (``<NA>``) in
tables, ``None`` for one journey's arrival. Inside, the kernels mark "not reached" with
:data:`~kurszugang.routing.raptor.INF`; :func:`_public` converts at the router's boundary, in one
place.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from tqdm import tqdm

from kurszugang.crs import ANALYSIS_CRS, WEB_CRS, transformer
from kurszugang.dates import parse_clock as _parse_clock
from kurszugang.errors import RoutingError
from kurszugang.routing.raptor import (
    INF,
    Csr,
    SearchState,
    TransitData,
    Window,
    expand_events,
    mirror,
    new_state,
    range_raptor,
    reduce_events,
)
from kurszugang.routing.timetable import Timetable, compile_timetable
from kurszugang.routing.walking import (
    Legs,
    NetworkWalking,
    StraightLineWalking,
    check_snapped,
    de_g,
    what_de,
)
from kurszugang.words import de_number

if TYPE_CHECKING:
    import geopandas as gpd

    from kurszugang.io.gtfs import Feed
    from kurszugang.io.osm import WalkNetwork

log = logging.getLogger(__name__)


_NO_BOUND = np.zeros(0, dtype=np.int64)


def parse_clock(value: str | int) -> int:
    """Seconds after midnight from ``"HH:MM"``, ``"HH:MM:SS"`` or an int of seconds.

    :func:`kurszugang.dates.parse_clock` with the router's error.

    Examples
    --------
    >>> parse_clock("07:30")
    27000
    """
    try:
        return _parse_clock(value)
    except ValueError as exc:
        raise RoutingError(str(exc)) from None


@dataclass(frozen=True)
class Points:
    """Points with ids and coordinates in a projected CRS in metres.

    Attributes
    ----------
    ids
        The points' ids (object array of str).
    xy
        ``float64`` ``(n, 2)``: x and y in metres in ``crs``.
    crs
        The CRS of ``xy`` (default :data:`~kurszugang.crs.ANALYSIS_CRS`, EPSG:25832). The
        router transforms points into its working CRS (:attr:`Router.crs`).
    """

    ids: np.ndarray
    xy: np.ndarray
    crs: str = ANALYSIS_CRS

    def __len__(self) -> int:
        return len(self.ids)

    def to_crs(self, crs: str) -> Points:
        """The same points in another CRS (``self`` if already in it)."""
        if crs == self.crs:
            return self
        if len(self.xy) == 0:
            return Points(self.ids, self.xy, crs)
        x, y = transformer(self.crs, crs).transform(self.xy[:, 0], self.xy[:, 1])
        return Points(self.ids, np.column_stack([x, y]).astype(np.float64), crs)


def as_points(data: pd.DataFrame | gpd.GeoDataFrame, what: str = "points", *,
              crs: str = ANALYSIS_CRS) -> Points:
    """Points in ``crs`` from a table with ``id, lon, lat`` (WGS84) or a GeoDataFrame of points
    with a CRS.

    Raises
    ------
    RoutingError
        If the id column is missing or not unique, coordinates are missing or out of range, or a
        GeoDataFrame has no CRS.
    """
    if "id" not in data.columns:
        raise RoutingError(f"{what_de(what)}: die Spalte 'id' fehlt "
                           f"(gefunden: {', '.join(map(str, data.columns))})")
    ids = data["id"].astype(str).to_numpy(dtype=object)
    dup = pd.Series(ids).duplicated()
    if dup.any():
        raise RoutingError(f"{what_de(what)}: id {ids[dup.to_numpy()][0]!r} kommt mehr als einmal "
                           f"vor; die ids müssen eindeutig sein")
    import geopandas as gpd

    if isinstance(data, gpd.GeoDataFrame):
        if data.crs is None:
            raise RoutingError(f"{what_de(what)} haben kein Koordinatensystem: vor dem Routing "
                               f"eines mit .set_crs(...) setzen")
        pts = data.to_crs(crs).geometry
        if not (pts.geom_type == "Point").all():
            pts = pts.representative_point()
        xy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
    else:
        for col in ("lon", "lat"):
            if col not in data.columns:
                raise RoutingError(f"{what_de(what)} brauchen die Spalten id, lon, lat (WGS84); "
                                   f"{col!r} fehlt")
        lon = pd.to_numeric(data["lon"], errors="coerce").to_numpy(np.float64)
        lat = pd.to_numeric(data["lat"], errors="coerce").to_numpy(np.float64)
        bad = ~np.isfinite(lon) | ~np.isfinite(lat) | (np.abs(lat) > 90) | (np.abs(lon) > 180)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise RoutingError(f"{what_de(what)}, id {ids[i]!r}: lon/lat ({data['lon'].iloc[i]!r}, "
                               f"{data['lat'].iloc[i]!r}) ist keine WGS84-Koordinate")
        x, y = transformer(WEB_CRS, crs).transform(lon, lat)
        xy = np.column_stack([x, y])
    return Points(ids, np.asarray(xy, dtype=np.float64).reshape(-1, 2), crs)


@dataclass(frozen=True)
class TravelTimes:
    """Travel times from origins to destinations over a departure window.

    Attributes
    ----------
    from_ids, to_ids
        Origin and destination ids.
    percentiles
        The percentiles computed (e.g. ``(5, 50, 95)``).
    seconds
        ``float32`` array ``(n_from, n_to, n_percentiles)`` of travel times in whole seconds;
        NaN where not reachable within ``max_time``.
    best
        ``float32`` ``(n_from, n_to)``: the shortest travel time over the window (NaN: not
        reachable).
    mean
        ``float32`` ``(n_from, n_to)``: mean travel time over the departure minutes that reach the
        destination within ``max_time`` (NaN where none does), seconds.
    share_reached
        ``float32`` ``(n_from, n_to)``: share of departure minutes that reach it within max_time.
    departure, window_min, max_time_min
        The query: first departure (seconds after midnight), window length and maximum travel
        time in minutes.
    """

    from_ids: np.ndarray
    to_ids: np.ndarray
    percentiles: tuple[int, ...]
    seconds: np.ndarray
    best: np.ndarray
    mean: np.ndarray
    share_reached: np.ndarray
    departure: int
    window_min: int
    max_time_min: float

    def minutes(self, percentile: int) -> np.ndarray:
        """Whole minutes (rounded down) for one percentile as float, NaN where unreachable."""
        j = self.percentiles.index(percentile)
        return np.floor(self.seconds[:, :, j].astype(np.float64) / 60)

    def to_frame(self) -> pd.DataFrame:
        """Long table: ``from_id, to_id, travel_time_p{P}`` (whole minutes, NA = unreachable)."""
        n_f, n_t = len(self.from_ids), len(self.to_ids)
        out = pd.DataFrame({
            "from_id": np.repeat(self.from_ids, n_t),
            "to_id": np.tile(self.to_ids, n_f),
        })
        for p in self.percentiles:
            out[f"travel_time_p{p}"] = pd.array(self.minutes(p).ravel(), dtype="Float64").astype("Int64")
        return out


class Router:
    """Timetable-exact public-transport router for one service date.

    Build it once for a feed and a date (this compiles the timetable and computes walking
    transfers between stops), then ask for travel times.

    Parameters
    ----------
    feed
        A GTFS feed from :func:`kurszugang.io.gtfs.read_gtfs`.
    date
        The service date (``datetime.date``, ``"YYYY-MM-DD"`` or ``"DD.MM.YYYY"``). A date
        inside the feed's service period without any trip gives walking-only results (and a
        warning; ``router.timetable.n_trips == 0``); a date outside it without any trip raises
        :class:`~kurszugang.errors.ServiceDateError`.
    walk_network
        An OSM walking network (:func:`kurszugang.io.osm.read_walk_network`). Without it, walking
        legs are straight lines × ``detour_factor``.
    walk_speed_kmh
        Walking speed in km/h (default 4.5).
    max_walk_m
        Longest walking leg to the first stop, between two rides and from the last stop, in
        metres (default 1,000); with straight-line walking measured after the detour factor.
    max_direct_walk_m
        Longest walk straight from the origin to the destination without any vehicle, in metres
        (default ``None``: the same as ``max_walk_m``). Applies to :meth:`travel_times`,
        :meth:`per_minute`, :meth:`arrive_by` and :meth:`journey`.
    detour_factor
        Walked distance / straight-line distance without OSM (default 1.3); with OSM for the
        legs from or to points off the network.
    max_snap_m
        With OSM: points (and stops) farther than this from the network are not moved onto it:
        they walk by straight line × ``detour_factor``, are reported in a warning and counted
        in :attr:`off_network` (default 500 m).
    board_slack_s
        Seconds needed between arriving at a stop and boarding there (default 60).
    max_rides
        Maximum number of vehicles per journey (default 5).
    exclude_route_ids
        Routes to leave out, e.g. ``feed.on_demand_route_ids()`` to see what is reachable
        without the on-demand lines.
    legs_cache
        A dict shared by routers of the same feed and walking parameters: walking legs do not
        depend on the date, so routers for several dates compute them once.

    Examples
    --------
    >>> import kurszugang as kz
    >>> feed = kz.read_gtfs(demo.gtfs)
    >>> router = kz.Router(feed, "2026-03-10")
    >>> origins = pd.DataFrame({"id": ["Probing", "Übungsdorf"], "lon": [12.6165, 12.2801],
    ...                         "lat": [49.3691, 49.2287]})
    >>> sites = kz.read_courses(demo.courses).sites.rename(columns={"site_id": "id"})
    >>> tt = router.travel_times(origins, sites, departure="07:00", window=60,
    ...                          percentiles=(5, 50, 95))
    >>> tt.to_frame().head()
       from_id to_id  travel_time_p5  travel_time_p50  travel_time_p95
    0  Probing  KS01              44               80              107
    1  Probing  KS02              55               80              101
    2  Probing  KS03              35              102             <NA>
    3  Probing  KS04              82              109             <NA>
    4  Probing  KS05              90              117             <NA>
    """

    def __init__(
        self,
        feed: Feed,
        date: dt.date | str,
        *,
        walk_network: WalkNetwork | None = None,
        walk_speed_kmh: float = 4.5,
        max_walk_m: float = 1000.0,
        max_direct_walk_m: float | None = None,
        detour_factor: float = 1.3,
        max_snap_m: float = 500.0,
        board_slack_s: int = 60,
        max_rides: int = 5,
        exclude_route_ids: frozenset[str] | set[str] = frozenset(),
        legs_cache: dict | None = None,
    ) -> None:
        _check_options(walk_speed_kmh=walk_speed_kmh, max_walk_m=max_walk_m,
                       max_direct_walk_m=max_direct_walk_m, detour_factor=detour_factor,
                       board_slack_s=board_slack_s, max_rides=max_rides)
        self.timetable: Timetable = compile_timetable(feed, date,
                                                      exclude_route_ids=exclude_route_ids)
        #: The projected CRS (metres) the router measures in: EPSG:25832 for Bavaria, the UTM
        #: zone of the stops elsewhere (see :func:`kurszugang.routing.timetable.working_crs`).
        self.crs: str = self.timetable.crs
        self._legs_cache: dict = {} if legs_cache is None else legs_cache
        self._snap_checked: set[tuple[str, bytes]] = self._legs_cache.setdefault("_snap_checked",
                                                                                 set())
        self.walking: StraightLineWalking | NetworkWalking
        if walk_network is None:
            self.walking = StraightLineWalking(walk_speed_kmh, max_walk_m, detour_factor)
        else:
            self.walking = NetworkWalking(walk_network.to_crs(self.crs), walk_speed_kmh,
                                          max_walk_m, max_snap_m, detour_factor)
        self._off_network: dict[str, set[str]] = self._legs_cache.setdefault("_off_network", {})
        self.board_slack_s = int(board_slack_s)
        self.max_rides = int(max_rides)
        #: Longest walk from origin to destination without any vehicle (metres).
        self.max_direct_walk_m = float(max_walk_m if max_direct_walk_m is None
                                       else max_direct_walk_m)
        self.stop_names, self.route_names = _names(feed)
        tt = self.timetable
        self.stop_xy = np.column_stack([tt.stop_x, tt.stop_y])
        self._stop_key = hashlib.blake2b(self.stop_xy.tobytes(), digest_size=16).digest()
        self._check_off_network(self.stop_xy, tt.stop_ids, "stops")
        key = ("transfers", self._stop_key, b"")
        if key not in self._legs_cache:
            self._legs_cache[key] = self.walking.legs(self.stop_xy, self.stop_xy,
                                                      exclude_self=True, crs=self.crs)
        self.transfers: Legs = self._legs_cache[key]
        self._data = _transit_data(tt, self.transfers, self.board_slack_s)
        self._mirrored: TransitData | None = None
        self._states: dict[tuple[int, int], list[SearchState]] = {}
        self._states_lock = threading.Lock()
        log.info("Router für %s: %s Haltestellen, %s Umstiege zu Fuß (%s)", tt.date,
                 de_number(tt.n_stops), de_number(len(self.transfers.indices)),
                 self.walking.describe())

    @property
    def date(self) -> dt.date:
        """The service date."""
        return self.timetable.date

    @property
    def off_network(self) -> dict[str, int]:
        """Points that walked by straight line × detour factor instead of on the OSM network.

        With a walking network, points (and stops) more than ``max_snap_m`` from it are not
        moved onto it; their walking legs are straight lines × ``detour_factor``. Counted once
        per id: ``"stops"`` (the feed's stops), and ``"origins"``, ``"destinations"`` (or
        ``"destination"`` for arrive-by) over every query of this router (and the routers
        sharing its ``legs_cache``) so far. Empty without a walking network or when every
        point lay on the network.

        Examples
        --------
        >>> router.off_network  # no walking network
        {}
        >>> osm_router = Router(feed, SCHOOL_DAY, walk_network=walk, max_snap_m=100)
        >>> points = pd.DataFrame({"id": ["Probing", "Feld bei Probing"],
        ...                        "lon": [12.6165, 12.6194], "lat": [49.3691, 49.3721]})
        >>> _ = osm_router.travel_times(points, points, departure="07:00", window=1)
        >>> osm_router.off_network
        {'origins': 1, 'destinations': 1}
        """
        return {kind: len(ids) for kind, ids in self._off_network.items() if ids}

    def stops(self) -> Points:
        """The feed's stops as points (ids and coordinates in :attr:`crs`)."""
        return Points(self.timetable.stop_ids, self.stop_xy, self.crs)

    def network_nodes(self) -> Points:
        """The walking network's nodes as points (ids = OSM node ids), for one-to-all queries.

        Raises
        ------
        RoutingError
            If the router was built without a walking network.
        """
        if not isinstance(self.walking, NetworkWalking):
            raise RoutingError("dieser Router hat kein Fußwegenetz: ihn mit walk_network= bauen")
        net = self.walking.network
        return Points(net.node_osm_id.astype(str).astype(object), np.column_stack([net.x, net.y]),
                      self.crs)

    def travel_times(
        self,
        origins: pd.DataFrame | gpd.GeoDataFrame | Points,
        destinations: pd.DataFrame | gpd.GeoDataFrame | Points | None = None,
        *,
        departure: str | int = "07:00",
        window: int = 60,
        percentiles: Sequence[int] = (50,),
        max_time_min: float = 120,
        step_s: int = 60,
        workers: int | None = None,
        batch_size: int = 64,
        progress: bool = False,
    ) -> TravelTimes:
        """Travel times from each origin to each destination over a departure window.

        Parameters
        ----------
        origins
            Table with ``id, lon, lat`` (WGS84), a GeoDataFrame of points (any CRS) or
            :class:`Points`.
        destinations
            The same forms; ``None`` means every stop of the feed.
        departure
            First departure, ``"HH:MM"`` or seconds after midnight (default 07:00).
        window
            Number of departure minutes: ``departure, departure + 1 min, …`` (default 60).
        percentiles
            Percentiles of the travel time over the window, nearest rank (default 50).
        max_time_min
            Longer journeys count as unreachable (minutes, default 120).
        step_s
            Seconds between departures in the window (default 60).
        workers
            Threads for many origins (default: the number of cores).
        batch_size
            Origins per task.
        progress
            Show a progress bar (on standard error) while origins are routed.

        Returns
        -------
        TravelTimes
        """
        if window < 1:
            raise RoutingError(f"das Zeitfenster muss mindestens 1 Minute sein, nicht {window}")
        pcts = tuple(int(p) for p in percentiles)
        if not pcts or any(p < 1 or p > 100 for p in pcts):
            raise RoutingError(f"Perzentile müssen zwischen 1 und 100 liegen, nicht "
                               f"{list(percentiles)}")
        if max_time_min <= 0:
            raise RoutingError(f"die längste Reisezeit muss positiv sein, nicht {max_time_min} min")
        t0 = parse_clock(departure)
        q = self._prepare(origins, destinations)
        orig, dest = q.origins, q.destinations
        n_min = int(window)
        ranks = np.array([max(1, math.ceil(p / 100 * n_min)) for p in pcts], dtype=np.int64)
        max_time = int(round(max_time_min * 60))

        n_o, n_d = len(orig), len(dest)
        seconds = np.full((n_o, n_d, len(pcts)), np.nan, dtype=np.float32)
        best = np.full((n_o, n_d), np.nan, dtype=np.float32)
        mean = np.full((n_o, n_d), np.nan, dtype=np.float32)
        share = np.zeros((n_o, n_d), dtype=np.float32)

        window_ = Window(t0, n_min, int(step_s), max_time)

        def run(batch: range) -> range:
            with self._state(n_d) as state:
                for o in batch:
                    events = self._events(q, o, state, window_)
                    pct, b, m, n_ok = reduce_events(events, n_d, q.direct.row(o), window_,
                                                    ranks, True)
                    seconds[o] = _public(pct)
                    best[o] = _public(b)
                    mean[o] = m
                    share[o] = n_ok / n_min
            return batch

        batches = [range(i, min(i + batch_size, n_o)) for i in range(0, n_o, batch_size)]
        n_workers = workers or os.cpu_count() or 1
        with tqdm(total=n_o, unit="origin", desc="routing", disable=not progress or n_o < 2,
                  leave=False) as bar:
            if n_workers <= 1 or len(batches) <= 1:
                for b in batches:
                    run(b)
                    bar.update(len(b))
            else:
                with ThreadPoolExecutor(max_workers=n_workers) as pool:
                    for b in pool.map(run, batches):
                        bar.update(len(b))
        return TravelTimes(orig.ids, dest.ids, pcts, seconds, best, mean, share, t0, n_min,
                           max_time_min)

    def per_minute(
        self,
        origins: pd.DataFrame | gpd.GeoDataFrame | Points,
        destinations: pd.DataFrame | gpd.GeoDataFrame | Points | None = None,
        *,
        departure: str | int = "07:00",
        window: int = 60,
        max_time_min: float = 120,
        step_s: int = 60,
    ) -> np.ndarray:
        """Travel time for every departure minute: ``(n_origins, window, n_destinations)``.

        Whole seconds as ``float32``, NaN where not reachable within ``max_time_min``.
        Parameters as in :meth:`travel_times`. Meant for explaining and checking a few origins;
        use :meth:`travel_times` for large queries.
        """
        t0 = parse_clock(departure)
        q = self._prepare(origins, destinations)
        max_time = int(round(max_time_min * 60))
        out = np.empty((len(q.origins), window, len(q.destinations)), dtype=np.float32)
        window_ = Window(t0, int(window), int(step_s), max_time)
        with self._state(len(q.destinations)) as state:
            for o in range(len(q.origins)):
                events = self._events(q, o, state, window_)
                m = expand_events(events, len(q.destinations), q.direct.row(o), window_)
                out[o] = _public(m)
        return out

    def arrive_by(
        self,
        origins: pd.DataFrame | gpd.GeoDataFrame | Points,
        destination: pd.DataFrame | gpd.GeoDataFrame | Points,
        *,
        arrive_by: str | int,
        window: int = 1,
        earliest_arrival: str | int | None = None,
        max_time_min: float = 120,
        step_s: int = 60,
        dense: bool = True,
    ) -> ArriveBy:
        """Latest departure from each origin that still reaches one destination in time.

        Reverse RAPTOR from the destination: for each deadline ``arrive_by, arrive_by + 1 min, …``
        (``window`` deadlines) the latest moment one can leave each origin and arrive by it.

        Parameters
        ----------
        origins
            Table with ``id, lon, lat`` (WGS84), a GeoDataFrame of points or :class:`Points`.
        destination
            One point (the same forms, one row).
        arrive_by
            The first deadline, ``"HH:MM"`` or seconds after midnight (e.g. a course start).
        window
            Number of deadlines, one per ``step_s`` (default 1: only ``arrive_by``).
        earliest_arrival
            Only journeys arriving at or after this time count (e.g. 30 minutes before the
            course starts, so that nobody has to wait longer at the door). Default: no bound.
        max_time_min
            Departures more than this before the deadline count as unreachable (minutes).
        step_s
            Seconds between deadlines.
        dense
            Keep the latest departure for every deadline (``latest_departure``); with False only
            the shortest time needed per origin is kept (for many deadlines, e.g. one a second).

        Returns
        -------
        ArriveBy

        Examples
        --------
        >>> site = courses.sites.iloc[[0]].rename(columns={"site_id": "id"})  # in Beispielstadt
        >>> villages = pd.DataFrame({"id": ["Probing", "Übungsdorf"],
        ...                          "lon": [12.6165, 12.2801], "lat": [49.3691, 49.2287]})
        >>> res = router.arrive_by(villages, site, arrive_by="08:30",
        ...                        earliest_arrival="08:00")
        >>> res.latest_departure[:, 0]
        array([25672., 27051.])
        """
        deadline = parse_clock(arrive_by)
        lower = -int(INF) if earliest_arrival is None else parse_clock(earliest_arrival)
        if lower > deadline:
            raise RoutingError(f"die früheste Ankunft {earliest_arrival} liegt nach der "
                               f"spätesten {arrive_by}")
        orig = self._points(origins, "origins")
        dest = self._points(destination, "destination")
        if len(dest) != 1:
            raise RoutingError(f"arrive_by nimmt ein Ziel, nicht {len(dest)}")
        self._check_snapped(orig.xy, orig.ids, "origins")
        self._check_snapped(dest.xy, dest.ids, "destination")
        target = self._legs(dest.xy, self.stop_xy)  # symmetric walking: stop -> target
        access = self._legs(orig.xy, self.stop_xy).transpose()  # per stop: origins
        direct = self._legs(orig.xy, dest.xy, self.max_direct_walk_m)
        max_time = int(round(max_time_min * 60))
        ev_o, ev_m, ev_d = self._latest_departures(target, access, len(orig), deadline,
                                                   Window(deadline, int(window), int(step_s),
                                                          max_time),
                                                   None if earliest_arrival is None else lower)
        deadlines = deadline + step_s * np.arange(window)
        # Kernel convention until the end: INF (-INF for departures) where not reached.
        walk = np.full(len(orig), INF, dtype=np.int64)
        np.minimum.at(walk, np.repeat(np.arange(len(orig)), np.diff(direct.indptr)),
                      direct.seconds)
        if deadlines[-1] < lower:  # a walk arrives exactly at the deadline: too early
            walk[:] = INF
        # Shortest time needed: at the deadline where each latest departure first holds.
        shortest = np.where(walk <= max_time, walk, INF)
        np.minimum.at(shortest, ev_o, deadlines[ev_m] - ev_d)
        latest = None
        if dense:
            # Events hold improvements from their deadline on (labels only grow with the
            # deadline): the latest departure per deadline is the running maximum.
            latest = np.full((len(orig), window), -INF, dtype=np.int64)
            np.maximum.at(latest, (ev_o, ev_m), ev_d)
            latest = np.maximum.accumulate(latest, axis=1)
            walk_dep = np.where(walk[:, None] < INF, deadlines[None, :] - walk[:, None], -INF)
            walk_dep[:, deadlines < lower] = -INF  # arrive exactly at the deadline: too early
            latest = np.maximum(latest, walk_dep)
            latest[deadlines[None, :] - latest > max_time] = -INF
        return ArriveBy(orig.ids, str(dest.ids[0]), deadlines.astype(np.int64),
                        None if latest is None else _public(latest, np.float64),
                        None if earliest_arrival is None else lower,
                        _public(shortest, np.float64))

    def journey(
        self,
        origin: pd.DataFrame | gpd.GeoDataFrame | Points,
        destination: pd.DataFrame | gpd.GeoDataFrame | Points,
        *,
        departure: str | int,
        max_time_min: float = 120,
    ) -> Journey:
        """The fastest journey leaving ``origin`` at ``departure``, leg by leg, for explaining a result.

        Parameters
        ----------
        origin, destination
            One point each (table with ``id, lon, lat``, GeoDataFrame or :class:`Points`).
        departure
            Departure minute, ``"HH:MM"`` or seconds after midnight.
        max_time_min
            Longer journeys count as unreachable (minutes).

        Returns
        -------
        Journey
            ``legs`` lists each walk and ride with stops, route, trip and times; ``arrival`` is
            None when the destination cannot be reached within ``max_time_min``.

        Examples
        --------
        >>> home = pd.DataFrame({"id": ["Probing"], "lon": [12.6165], "lat": [49.3691]})
        >>> site = courses.sites.iloc[[0]].rename(columns={"site_id": "id"})  # in Beispielstadt
        >>> j = router.journey(home, site, departure="07:00")
        >>> print(j)
        07:00-07:00  walk 10 m to Probing, Ortsmitte
        07:09-07:38  ride 405 (trip 405-1-school-SCHULE-0709) from Probing, Ortsmitte to Beispielstadt, Krankenhaus
        07:38-07:49  walk 837 m to KS01
        arrival 07:49, 49 min after leaving at 07:00
        """
        t0 = parse_clock(departure)
        q = self._prepare(origin, destination)
        if len(q.origins) != 1 or len(q.destinations) != 1:
            raise RoutingError("journey nimmt einen Startpunkt und ein Ziel")
        tt = self.timetable
        K, n = self.max_rides, tt.n_stops
        tr = self.transfers
        state = self._new_state(1, track=True)
        self._events(q, 0, state, Window(t0, 1, 60, int(round(max_time_min * 60))), track=True)
        out_ride = state.ride_lbl
        par_pattern, par_trip, par_board, par_from = (state.par_pattern, state.par_trip,
                                                      state.par_board, state.par_from)
        # Best end: a walk straight from the origin, or a ride followed by the walk to the end.
        best = (np.inf, -1, -1)
        egress_m = {}
        for s_ in range(n):
            lo, hi = q.egress.indptr[s_], q.egress.indptr[s_ + 1]
            if hi > lo:
                egress_m[s_] = (int(q.egress.seconds[lo]), float(q.egress.metres[lo]))
                for k in range(1, K + 1):
                    if out_ride[k, s_] < INF and out_ride[k, s_] + q.egress.seconds[lo] < best[0]:
                        best = (float(out_ride[k, s_] + q.egress.seconds[lo]), k, s_)
        _, w_sec = q.direct.row(0)
        legs: list[dict[str, object]] = []
        limit = t0 + max_time_min * 60
        if len(w_sec) and t0 + w_sec[0] <= best[0] and t0 + w_sec[0] <= limit:
            legs.append(dict(mode="walk", from_stop_id=None, from_stop_name=None, to_stop_id=None,
                             to_stop_name=None, route_id=None, route_name=None, trip_id=None,
                             departure=t0, arrival=int(t0 + w_sec[0]),
                             metres=float(q.direct.metres[q.direct.indptr[0]])))
            return Journey(str(q.origins.ids[0]), str(q.destinations.ids[0]), t0,
                           int(t0 + w_sec[0]), pd.DataFrame(legs, columns=_LEG_COLUMNS))
        if best[1] < 0 or best[0] > limit:
            return Journey(str(q.origins.ids[0]), str(q.destinations.ids[0]), t0, None,
                           pd.DataFrame(columns=_LEG_COLUMNS))
        k, s_ = best[1], best[2]
        e_sec, e_m = egress_m[s_]
        legs.append(dict(mode="walk", from_stop_id=tt.stop_ids[s_], to_stop_id=None, route_id=None,
                         trip_id=None, departure=int(out_ride[k, s_]),
                         arrival=int(out_ride[k, s_] + e_sec), metres=e_m))
        while True:
            p, j, b = par_pattern[k, s_], par_trip[k, s_], par_board[k, s_]
            s0 = tt.pattern_stop_start[p]
            n_sp = tt.pattern_stop_start[p + 1] - s0
            base = tt.pattern_time_start[p]
            sb = int(tt.pattern_stops[s0 + b])
            trip_row = tt.pattern_trip_start[p] + j
            legs.append(dict(mode="ride", from_stop_id=tt.stop_ids[sb], to_stop_id=tt.stop_ids[s_],
                             route_id=tt.trip_route_ids[trip_row], trip_id=tt.trip_ids[trip_row],
                             departure=int(tt.dep[base + j * n_sp + b]),
                             arrival=int(out_ride[k, s_]), metres=np.nan))
            how = par_from[k - 1, sb]
            if how == -2:  # walked from the origin
                idx, sec = q.access.row(0)
                m = q.access.metres[q.access.indptr[0]:q.access.indptr[1]]
                pos = int(np.flatnonzero(idx == sb)[0])
                legs.append(dict(mode="walk", from_stop_id=None, to_stop_id=tt.stop_ids[sb],
                                 route_id=None, trip_id=None, departure=t0,
                                 arrival=int(t0 + sec[pos]), metres=float(m[pos])))
                break
            if how >= 0:  # walked from stop `how` after the previous ride
                lo, hi = tr.indptr[how], tr.indptr[how + 1]
                pos = lo + int(np.flatnonzero(tr.indices[lo:hi] == sb)[0])
                legs.append(dict(mode="walk", from_stop_id=tt.stop_ids[how],
                                 to_stop_id=tt.stop_ids[sb], route_id=None, trip_id=None,
                                 departure=int(out_ride[k - 1, how]),
                                 arrival=int(out_ride[k - 1, how] + tr.seconds[pos]),
                                 metres=float(tr.metres[pos])))
                s_ = int(how)
            else:  # how == -1: changed vehicles at the same stop
                s_ = sb
            k -= 1
        frame = pd.DataFrame(legs[::-1])
        name = dict(zip(tt.stop_ids, self.stop_names, strict=True))
        frame["from_stop_name"] = frame["from_stop_id"].map(name)
        frame["to_stop_name"] = frame["to_stop_id"].map(name)
        frame["route_name"] = frame["route_id"].map(self.route_names)
        return Journey(str(q.origins.ids[0]), str(q.destinations.ids[0]), t0,
                       int(frame["arrival"].iloc[-1]), frame[_LEG_COLUMNS])

    def _key(self, xy: np.ndarray) -> bytes:
        """Content hash of a point set (the router's own stops hashed once)."""
        if xy is self.stop_xy:
            return self._stop_key
        return hashlib.blake2b(np.ascontiguousarray(xy).tobytes(), digest_size=16).digest()

    def _points(self, data: object, what: str) -> Points:
        """Origins or destinations as :class:`Points` in the router's CRS."""
        if isinstance(data, Points):
            return data.to_crs(self.crs)
        return as_points(data, what, crs=self.crs)

    def _check_snapped(self, xy: np.ndarray, ids: np.ndarray, what: str) -> None:
        """Report and count points too far from the walking network, once per point set and
        role (an error if none of them is near it)."""
        key = (what, self._key(xy))
        if key not in self._snap_checked:
            ok = check_snapped(self.walking, xy, ids, what, crs=self.crs, stops_xy=self.stop_xy)
            self._off_network.setdefault(what, set()).update(map(str, ids[~ok]))
            self._snap_checked.add(key)

    def _check_off_network(self, xy: np.ndarray, ids: np.ndarray, what: str) -> None:
        """Report and count the feed's stops off the walking network, once per stop set (no
        error if none is on it: the stops' walks are then all straight lines)."""
        key = (what, self._key(xy))
        if not isinstance(self.walking, NetworkWalking) or key in self._snap_checked:
            return
        off = ~self.walking.snap(xy, crs=self.crs).ok
        self._off_network.setdefault(what, set()).update(map(str, ids[off]))
        self._snap_checked.add(key)
        if off.any():
            log.warning("%s von %s %s liegen mehr als %s m vom Fußwegenetz entfernt: ihre "
                        "Fußwege sind Luftlinie × %s (z. B. %s)", de_number(int(off.sum())),
                        de_number(len(xy)), what_de(what), de_g(self.walking.max_snap_m),
                        de_g(self.walking.detour_factor), ", ".join(map(str, ids[off][:5])))

    def _legs(self, a: np.ndarray, b: np.ndarray, max_m: float | None = None) -> Legs:
        """Walking legs between two point sets up to ``max_m`` metres (default: the longest
        walking leg), cached for repeated queries (e.g. per course)."""
        limit = self.walking.max_walk_m if max_m is None else float(max_m)
        key = ("legs", self._key(a), self._key(b), limit)
        legs = self._legs_cache.get(key)
        if legs is None:
            if len(self._legs_cache) >= 32:  # keep the cache small: drop the oldest legs
                old = next(k for k in self._legs_cache if k[0] == "legs")
                self._legs_cache.pop(old)
            # Walking is symmetric: search from the smaller side (one shortest-path search per
            # source point on the footway network).
            if len(a) > len(b):
                legs = self.walking.legs(b, a, max_m=limit, crs=self.crs).transpose()
            else:
                legs = self.walking.legs(a, b, max_m=limit, crs=self.crs)
            self._legs_cache[key] = legs
        return legs

    def _prepare(self, origins: object, destinations: object) -> _Query:
        orig = self._points(origins, "origins")
        dest = self.stops() if destinations is None else self._points(destinations, "destinations")
        self._check_snapped(orig.xy, orig.ids, "origins")
        self._check_snapped(dest.xy, dest.ids, "destinations")
        return _Query(
            origins=orig,
            destinations=dest,
            access=self._legs(orig.xy, self.stop_xy),
            egress=self._legs(self.stop_xy, dest.xy),
            direct=self._legs(orig.xy, dest.xy, self.max_direct_walk_m),
        )

    def _new_state(self, n_dest: int, *, track: bool = False) -> SearchState:
        """A fresh search state for this router's timetable."""
        return new_state(self._data, n_dest, self.max_rides, track=track)

    @contextmanager
    def _state(self, n_dest: int) -> Iterator[SearchState]:
        """A search state for ``n_dest`` destinations, taken from and given back to a pool (a
        search resets only what the previous one reached, so reusing it saves allocating)."""
        key = (n_dest, self.max_rides)
        with self._states_lock:
            pool = self._states.get(key)
            state = pool.pop() if pool else None
        if state is None:
            state = self._new_state(n_dest)
        try:
            yield state
        finally:
            with self._states_lock:
                if key not in self._states and len(self._states) >= 8:
                    self._states.pop(next(iter(self._states)))
                self._states.setdefault(key, []).append(state)

    def _events(self, q: _Query, o: int, state: SearchState, window: Window, *,
                track: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Arrival events of origin ``o`` of the query over the window (see range_raptor)."""
        a_idx, a_sec = q.access.row(o)
        egress = Csr(q.egress.indptr, q.egress.indices, q.egress.seconds)
        return range_raptor(self._data, state, a_idx, a_sec, egress, window, _NO_BOUND, track)

    def _latest_departures(self, target: Legs, access: Legs, n_origins: int, deadline: int,
                           window: Window, earliest_arrival: int | None
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Events of the reverse search: from deadline ``ev_minute`` on, origin ``ev_origin``
        can leave at ``ev_departure`` (transit only), as the forward search on the mirror."""
        if self._mirrored is None:
            self._mirrored = mirror(self._data)
        t_idx, t_sec = target.row(0)
        bound = _NO_BOUND
        if earliest_arrival is not None:
            # arrive at the target at or after the bound: the last ride must arrive at stop s
            # at or after bound - walk(s), i.e. leave the mirrored stop by walk(s) - bound
            bound = np.full(self._data.n_stops, INF, dtype=np.int64)
            np.minimum.at(bound, t_idx, t_sec - earliest_arrival)
        last = window.t_first + (window.n_minutes - 1) * window.step
        ev_o, ev_m, ev_a = range_raptor(
            self._mirrored, new_state(self._mirrored, n_origins, self.max_rides), t_idx, t_sec,
            Csr(access.indptr, access.indices, access.seconds), window._replace(t_first=-last),
            bound, False)
        return ev_o, window.n_minutes - 1 - ev_m, -ev_a


def _check_options(*, walk_speed_kmh: float, max_walk_m: float, max_direct_walk_m: float | None,
                   detour_factor: float, board_slack_s: int, max_rides: int) -> None:
    """RoutingError naming the first option out of range."""
    if walk_speed_kmh <= 0:
        raise RoutingError(f"die Gehgeschwindigkeit muss positiv sein, nicht {walk_speed_kmh} km/h")
    if max_walk_m < 0:
        raise RoutingError(f"der längste Fußweg darf nicht negativ sein, nicht {max_walk_m} m")
    if max_direct_walk_m is not None and not max_direct_walk_m >= 0:
        raise RoutingError(f"der längste direkte Fußweg darf nicht negativ sein, nicht "
                           f"{max_direct_walk_m} m")
    if detour_factor < 1:
        raise RoutingError(f"der Umwegfaktor muss mindestens 1 sein, nicht {detour_factor}")
    if board_slack_s < 0:
        raise RoutingError(f"die Umsteigereserve darf nicht negativ sein, nicht {board_slack_s} s")
    if max_rides < 1:
        raise RoutingError(f"die Zahl der Fahrten muss mindestens 1 sein, nicht {max_rides}")


def _names(feed: Feed) -> tuple[np.ndarray, dict[str, str]]:
    """Stop names (the stop ids where the feed has no stop_name) and route labels (short name, else
    long name, else id) for explaining journeys."""
    stops = feed.stops
    names = stops["stop_name"] if "stop_name" in stops.columns else stops["stop_id"]
    routes = feed.routes
    label = routes["route_short_name"] if "route_short_name" in routes.columns else routes["route_id"]
    if "route_long_name" in routes.columns:
        label = label.fillna(routes["route_long_name"])
    return (names.fillna("").astype(str).to_numpy(dtype=object),
            dict(zip(routes["route_id"], label.fillna(routes["route_id"]), strict=True)))


def _public(seconds: np.ndarray, dtype: type = np.float32) -> np.ndarray:
    """The kernels' seconds as results: NaN where not reached (``INF``, or ``-INF`` for
    latest departures). The one place where the kernels' convention meets the public one."""
    out: np.ndarray = seconds.astype(dtype)
    out[np.abs(seconds) >= INF] = np.nan
    return out


def _transit_data(tt: Timetable, transfers: Legs, board_slack_s: int) -> TransitData:
    """The kernels' read-only structure: the timetable's arrays and the walking transfers."""
    return TransitData.build(
        pattern_stop_start=tt.pattern_stop_start, pattern_stops=tt.pattern_stops,
        pattern_pickup=tt.pattern_pickup, pattern_dropoff=tt.pattern_dropoff,
        pattern_trip_start=tt.pattern_trip_start, pattern_time_start=tt.pattern_time_start,
        arr=tt.arr, dep=tt.dep, stop_pattern_start=tt.stop_pattern_start,
        stop_patterns=tt.stop_patterns, stop_pattern_pos=tt.stop_pattern_pos,
        fp_start=transfers.indptr, fp_to=transfers.indices, fp_time=transfers.seconds,
        board_slack=board_slack_s)


@dataclass(frozen=True)
class _Query:
    origins: Points
    destinations: Points
    access: Legs
    egress: Legs
    direct: Legs


@dataclass(frozen=True)
class ArriveBy:
    """Latest departures to reach one destination by each deadline.

    Attributes
    ----------
    origin_ids
        Origin ids.
    destination_id
        The destination's id.
    deadlines
        The deadlines (seconds after midnight).
    latest_departure
        ``float64`` ``(n_origins, n_deadlines)``: the latest time (seconds after midnight) one can
        leave the origin and arrive by the deadline (and not before ``earliest_arrival``); NaN where
        impossible within the maximum travel time. None when computed with ``dense=False``.
    earliest_arrival
        The lower bound on the arrival used, or None.
    shortest_s
        Per origin, the smallest time needed over the deadlines (seconds, NaN: never): the
        shortest journey that arrives between ``earliest_arrival`` and the last deadline.
    """

    origin_ids: np.ndarray
    destination_id: str
    deadlines: np.ndarray
    latest_departure: np.ndarray | None
    earliest_arrival: int | None
    shortest_s: np.ndarray

    @property
    def time_needed(self) -> np.ndarray:
        """Seconds from the latest departure to each deadline (waiting at the end included)."""
        if self.latest_departure is None:
            raise RoutingError("mit dense=False berechnet: nur shortest() ist verfügbar")
        return self.deadlines[None, :] - self.latest_departure

    def shortest(self) -> np.ndarray:
        """Per origin, the smallest time needed over the deadlines (seconds; NaN: never)."""
        return self.shortest_s


_LEG_COLUMNS = ["mode", "from_stop_id", "from_stop_name", "to_stop_id", "to_stop_name",
                "route_id", "route_name", "trip_id", "departure", "arrival", "metres"]


def _clock(sec: int) -> str:
    return f"{sec // 3600:02d}:{sec % 3600 // 60:02d}"


@dataclass(frozen=True)
class Journey:
    """One journey, leg by leg.

    Attributes
    ----------
    origin_id, destination_id
        The two points' ids.
    departure
        When the traveller is ready at the origin (seconds after midnight).
    arrival
        Arrival at the destination (seconds), None if unreachable within the maximum time.
    legs
        One row per leg: ``mode`` ("walk" or "ride"), ``from_stop_id``, ``from_stop_name``,
        ``to_stop_id``, ``to_stop_name`` (empty for the origin and destination),
        ``route_id``, ``route_name`` (short name), ``trip_id`` (rides), ``departure``, ``arrival`` (seconds after midnight) and
        ``metres`` (walks). Waiting happens between legs.
    """

    origin_id: str
    destination_id: str
    departure: int
    arrival: int | None
    legs: pd.DataFrame

    @property
    def travel_time(self) -> int | None:
        """Arrival minus departure in seconds (None if unreachable)."""
        return None if self.arrival is None else self.arrival - self.departure

    def __str__(self) -> str:
        if self.arrival is None:
            return f"{self.origin_id} -> {self.destination_id}: not reachable"
        lines = []
        for leg in self.legs.itertuples(index=False):
            span = f"{_clock(int(leg.departure))}-{_clock(int(leg.arrival))}"  # type: ignore[arg-type]
            if leg.mode == "walk":
                to = leg.to_stop_name if isinstance(leg.to_stop_name, str) else self.destination_id
                lines.append(f"{span}  walk {leg.metres:.0f} m to {to}")
            else:
                lines.append(f"{span}  ride {leg.route_name} (trip {leg.trip_id}) from "
                             f"{leg.from_stop_name} to {leg.to_stop_name}")
        minutes = (self.arrival - self.departure) / 60
        lines.append(f"arrival {_clock(self.arrival)}, {minutes:.0f} min after leaving at "
                     f"{_clock(self.departure)}")
        return "\n".join(lines)
