"""Build a large synthetic feed by tiling one day of a real feed on a grid (for benchmarks only).

:func:`scaled_feed` keeps the trips of one date, then makes ``nx * ny`` copies of them. Copy
``(i, j)`` has its stop, trip, route (and block, shape, parent-station) ids prefixed with
``"k<number>:"`` and its stops moved by ``(i - i0) * step_x, (j - j0) * step_y`` metres in
EPSG:25832, where ``(i0, j0)`` is the central copy (which keeps the original coordinates). The
steps are the extent of the feed's dense core (the 5th to 95th percentile of its stop coordinates)
minus ``overlap_m``, so neighbouring cores overlap by ``overlap_m`` and the router links them with
walking transfers (it computes transfers from coordinates). All copies run the same timetable
under one service id that runs only on the date.

Everything is vectorised: ids are prefixed once per distinct id and copy (pyarrow), then taken
into place; nothing loops per record. Nothing is written to disk.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyproj import Transformer

from kurszugang.io.gtfs import Feed

__all__ = ["Grid", "scaled_feed", "tile_grid"]

_TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)
_TO_WGS = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)
_STRING = pd.StringDtype("pyarrow")
SERVICE_ID = "D"


@dataclass(frozen=True)
class Grid:
    """The layout of the copies.

    Attributes
    ----------
    nx, ny
        Copies per row and per column.
    step_x, step_y
        Shift between neighbouring copies in metres (EPSG:25832).
    core_x, core_y
        Extent of the dense core of one copy (5th to 95th percentile of its stops), metres.
    centre
        Copy number of the central copy (unshifted).
    """

    nx: int
    ny: int
    step_x: float
    step_y: float
    core_x: float
    core_y: float

    @property
    def n(self) -> int:
        """Number of copies."""
        return self.nx * self.ny

    @property
    def centre(self) -> int:
        """Copy number of the central copy (row-major: ``j * nx + i``)."""
        return (self.ny // 2) * self.nx + self.nx // 2

    def offsets(self) -> np.ndarray:
        """Shift of each copy in metres, ``(n, 2)``; the central copy's is ``(0, 0)``."""
        j, i = np.divmod(np.arange(self.n), self.nx)
        return np.column_stack([(i - self.nx // 2) * self.step_x, (j - self.ny // 2) * self.step_y])


def tile_grid(feed: Feed, date: dt.date, nx: int, ny: int, *, overlap_m: float = 1500.0) -> Grid:
    """The grid of ``nx * ny`` copies whose dense cores overlap by ``overlap_m``.

    Parameters
    ----------
    feed
        The feed to tile.
    date
        The date whose trips are kept (the core is measured on the stops they serve).
    nx, ny
        Copies per row and per column.
    overlap_m
        Overlap of neighbouring cores in metres.

    Returns
    -------
    Grid
    """
    stops = _day_stops(feed, _day_trips(feed, date))
    x, y = _TO_UTM.transform(stops["stop_lon"].to_numpy(float), stops["stop_lat"].to_numpy(float))
    core_x = float(np.subtract(*np.percentile(x, [95, 5])))
    core_y = float(np.subtract(*np.percentile(y, [95, 5])))
    return Grid(nx, ny, core_x - overlap_m, core_y - overlap_m, core_x, core_y)


def scaled_feed(feed: Feed, date: dt.date, grid: Grid) -> Feed:
    """A feed of ``grid.n`` shifted copies of the trips that run on ``date``.

    Parameters
    ----------
    feed
        The feed to tile (e.g. the Zug feed).
    date
        The service date whose trips are copied; the result runs only on this date, under the
        single service id ``"D"``.
    grid
        The layout from :func:`tile_grid`.

    Returns
    -------
    Feed
        Stops, routes, trips, stop_times (and frequencies, transfers) of every copy with prefixed
        ids; ``calendar`` empty and ``calendar_dates`` one row adding ``date``.

    Examples
    --------
    >>> grid = tile_grid(feed, dt.date(2021, 3, 2), 4, 5)  # doctest: +SKIP
    >>> big = scaled_feed(feed, dt.date(2021, 3, 2), grid)  # doctest: +SKIP
    >>> len(big.stop_times)  # doctest: +SKIP
    1090500
    """
    n = grid.n
    trips = _day_trips(feed, date)
    stop_times = feed.stop_times[_isin(feed.stop_times["trip_id"], trips["trip_id"])]
    stops = _day_stops(feed, trips)
    routes = feed.routes[_isin(feed.routes["route_id"], trips["route_id"])]
    freq = feed.frequencies[_isin(feed.frequencies["trip_id"], trips["trip_id"])]
    transfers = feed.transfers[_isin(feed.transfers["from_stop_id"], stops["stop_id"])
                               & _isin(feed.transfers["to_stop_id"], stops["stop_id"])]

    trips = trips.assign(service_id=pd.array([SERVICE_ID] * len(trips), dtype=_STRING))
    id_cols = {"stop_id", "trip_id", "route_id", "parent_station", "block_id", "shape_id",
               "from_stop_id", "to_stop_id"}
    out = {
        "stops": _tile(stops, n, id_cols),
        "routes": _tile(routes, n, id_cols),
        "trips": _tile(trips, n, id_cols),
        "stop_times": _tile(stop_times, n, id_cols),
        "frequencies": _tile(freq, n, id_cols),
        "transfers": _tile(transfers, n, id_cols),
    }
    x, y = _TO_UTM.transform(stops["stop_lon"].to_numpy(float), stops["stop_lat"].to_numpy(float))
    off = np.repeat(grid.offsets(), len(stops), axis=0)
    lon, lat = _TO_WGS.transform(np.tile(x, n) + off[:, 0], np.tile(y, n) + off[:, 1])
    out["stops"]["stop_lon"] = lon
    out["stops"]["stop_lat"] = lat
    calendar_dates = pd.DataFrame({
        "service_id": pd.array([SERVICE_ID], dtype=_STRING),
        "date": np.array([np.datetime64(date, "s")]),
        "exception_type": np.array([1], dtype=np.int8),
    })
    return dataclasses.replace(
        feed,
        source=f"{feed.source} (day {date.isoformat()}, {grid.nx}x{grid.ny} copies)",
        calendar=feed.calendar.iloc[:0],
        calendar_dates=calendar_dates.astype(feed.calendar_dates.dtypes.to_dict()),
        **out,
    )


def _day_trips(feed: Feed, date: dt.date) -> pd.DataFrame:
    trips = feed.trips_on(date)
    return trips[_isin(trips["trip_id"], feed.stop_times["trip_id"])]


def _day_stops(feed: Feed, trips: pd.DataFrame) -> pd.DataFrame:
    used = feed.stop_times.loc[_isin(feed.stop_times["trip_id"], trips["trip_id"]), "stop_id"]
    return feed.stops[_isin(feed.stops["stop_id"], used)]


def _isin(values: pd.Series, pool: pd.Series) -> np.ndarray:
    """``values.isin(pool)`` for string columns by a pyarrow hash lookup.

    pandas' ``isin`` on Arrow-backed strings makes a Python object of every element of ``pool``.
    """
    found = pc.is_in(pa.array(values.array), value_set=pc.unique(pa.array(pool.array)),
                     skip_nulls=True)
    return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)


def _tile(frame: pd.DataFrame, n: int, id_cols: set[str]) -> pd.DataFrame:
    """``n`` copies of a table one after the other, with copy ``k``'s ids prefixed ``k<k>:``."""
    rows = len(frame)
    out = frame.iloc[np.tile(np.arange(rows), n)].reset_index(drop=True)
    width = len(str(max(n - 1, 0)))
    prefixes = np.array([f"k{k:0{width}d}:" for k in range(n)], dtype=object)
    for col in id_cols & set(frame.columns):
        codes, uniques = pd.factorize(frame[col])  # NA -> -1
        m = len(uniques)
        joined = pc.binary_join_element_wise(
            pa.array(np.repeat(prefixes, m), type=pa.string()),
            pa.array(np.tile(np.asarray(uniques, dtype=object), n), type=pa.string()),
            "",
        )
        take = (np.arange(n)[:, None] * m + codes[None, :]).ravel()
        mask = np.tile(codes < 0, n)
        idx = pa.array(np.where(mask, 0, take), mask=mask)
        out[col] = pd.array(joined.take(idx), dtype=_STRING)
    return out
