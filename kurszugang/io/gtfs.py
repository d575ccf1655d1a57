"""Read and validate GTFS timetables (a .zip or a folder) into a :class:`Feed` of typed tables.

The reader is columnar: every file is parsed by ``pyarrow.csv`` with all columns as strings, then
converted column by column with vectorised ``pyarrow.compute`` and numpy operations; no Python
loop runs per record (only per *problem* found, to write the report). The Zug feed (198,554
stop_times, 284,499 calendar_dates) reads in well under a second.

What is tolerated, what is an error and which dtypes the tables have is documented in
``docs/gtfs.md``. In short:

- a UTF-8 byte-order mark, surrounding spaces, quoted fields, Windows line ends, a Windows-1252
  file (with a warning), junk zip entries (``__MACOSX/``, ``._stops.txt``) and the files inside one
  subfolder of the zip;
- absent optional files (each gives an empty table with the standard columns), but not both
  calendar.txt and calendar_dates.txt;
- times past 24:00 and one-digit hours; blank intermediate times (interpolated, counted);
- a blank arrival or departure next to a given one (copied, counted).

Times are integer seconds after midnight of the service day (values past 86,400 allowed); dates
are ``datetime64[s]`` at midnight; ids and texts are pandas ``string`` columns with ``pd.NA`` for
missing values, so ``"007"`` stays ``"007"``.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from kurszugang._arrow import isin as _isin
from kurszugang.errors import (
    DataValidationError,
    InputError,
    InputFormatError,
    Problem,
    ServiceDateError,
)
from kurszugang.io._report import ValidationReport

__all__ = ["Feed", "read_gtfs", "validate_gtfs", "GTFS_FILES", "ON_DEMAND_ROUTE_TYPES"]

logger = logging.getLogger(__name__)

#: The files the reader knows, in reading order; other .txt files are listed in ``Feed.files``.
GTFS_FILES = (
    "agency.txt",
    "stops.txt",
    "routes.txt",
    "trips.txt",
    "stop_times.txt",
    "calendar.txt",
    "calendar_dates.txt",
    "frequencies.txt",
    "transfers.txt",
    "feed_info.txt",
    "shapes.txt",
)
_REQUIRED_FILES = ("stops.txt", "routes.txt", "trips.txt", "stop_times.txt")

#: Route types that mark a route as on demand: 715 (HVT "Demand and Response Bus Service") and
#: 1500-1507 (HVT taxi services).
ON_DEMAND_ROUTE_TYPES = frozenset({715, *range(1500, 1508)})
# Words in route names that mark an on-demand route (RE2 syntax, matched case-insensitively).
_ON_DEMAND_WORDS = r"\b(?:rufbus|anrufsammeltaxi|ast|ruftaxi|on-demand)\b"

_STRING = pd.StringDtype("pyarrow")  # "string": values are str, missing is pd.NA
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_INT_RE = r"^[+-]?\d{1,9}$"
_FLOAT_RE = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?$"
_TIME_RE = r"^(?P<h>\d{1,3}):(?P<m>[0-5]?\d):(?P<s>[0-5]\d)$"
_DATE_RE = r"^\d{8}$"


@dataclass(frozen=True)
class _Col:
    """One standard column of a GTFS file: how to parse it and its final pandas dtype."""

    name: str
    kind: str = "str"  # "str", "int", "float", "time" (seconds) or "date"
    dtype: Any = _STRING  # final dtype in the Feed
    required: bool = False  # the column must exist in the file
    needed: bool = False  # every record needs a value
    default: int | None = None  # value of blank fields (int kinds)
    lo: float | None = None  # smallest allowed value
    hi: float | None = None  # largest allowed value

    @property
    def nullable(self) -> bool:
        nullable_int = isinstance(self.dtype, str) and self.dtype[0] == "I"  # Int8, Int32
        return self.kind in ("str", "float") or nullable_int


def _id(name: str) -> _Col:
    return _Col(name, required=True, needed=True)


def _flag(name: str, *, default: int | None = None, hi: int = 1, needed: bool = False) -> _Col:
    return _Col(name, "int", "int8", required=needed, needed=needed, default=default, lo=0, hi=hi)


_SCHEMA: dict[str, tuple[_Col, ...]] = {
    "agency.txt": tuple(
        _Col(c)
        for c in ("agency_id", "agency_name", "agency_url", "agency_timezone", "agency_lang",
                  "agency_phone")
    ),
    "stops.txt": (
        _id("stop_id"),
        _Col("stop_code"),
        _Col("stop_name"),
        _Col("stop_desc"),
        _Col("stop_lat", "float", "float64", required=True, lo=-90, hi=90),
        _Col("stop_lon", "float", "float64", required=True, lo=-180, hi=180),
        _Col("zone_id"),
        _flag("location_type", default=0, hi=4),
        _Col("parent_station"),
        _Col("platform_code"),
    ),
    "routes.txt": (
        _id("route_id"),
        _Col("agency_id"),
        _Col("route_short_name"),
        _Col("route_long_name"),
        _Col("route_desc"),
        _Col("route_type", "int", "int32", required=True, needed=True, lo=0),
        _Col("route_color"),
        _Col("route_text_color"),
    ),
    "trips.txt": (
        _id("route_id"),
        _id("service_id"),
        _id("trip_id"),
        _Col("trip_headsign"),
        _Col("trip_short_name"),
        _Col("direction_id", "int", "Int8", lo=0, hi=1),
        _Col("block_id"),
        _Col("shape_id"),
    ),
    "stop_times.txt": (
        _id("trip_id"),
        _Col("stop_sequence", "int", "int32", required=True, needed=True, lo=0),
        _id("stop_id"),
        _Col("arrival_time", "time", "int32", required=True),
        _Col("departure_time", "time", "int32", required=True),
        _flag("pickup_type", default=0, hi=3),
        _flag("drop_off_type", default=0, hi=3),
        _flag("timepoint"),  # blank: 1 where times are given, 0 where interpolated
        _Col("shape_dist_traveled", "float", "float64", lo=0),
    ),
    "calendar.txt": (
        _id("service_id"),
        *(_flag(day, needed=True) for day in _WEEKDAYS),
        _Col("start_date", "date", "datetime64[s]", required=True, needed=True),
        _Col("end_date", "date", "datetime64[s]", required=True, needed=True),
    ),
    "calendar_dates.txt": (
        _id("service_id"),
        _Col("date", "date", "datetime64[s]", required=True, needed=True),
        _Col("exception_type", "int", "int8", required=True, needed=True, lo=1, hi=2),
    ),
    "frequencies.txt": (
        _id("trip_id"),
        _Col("start_time", "time", "int32", required=True, needed=True),
        _Col("end_time", "time", "int32", required=True, needed=True),
        _Col("headway_secs", "int", "int32", required=True, needed=True, lo=1),
        _flag("exact_times", default=0),
    ),
    "transfers.txt": (
        _Col("from_stop_id", required=True),
        _Col("to_stop_id", required=True),
        _flag("transfer_type", default=0, hi=5),
        _Col("min_transfer_time", "int", "Int32", lo=0),
    ),
    "feed_info.txt": tuple(
        _Col(c)
        for c in ("feed_publisher_name", "feed_publisher_url", "feed_lang", "feed_start_date",
                  "feed_end_date", "feed_version")
    ),
    "shapes.txt": (
        _id("shape_id"),
        _Col("shape_pt_lat", "float", "float64", required=True, needed=True, lo=-90, hi=90),
        _Col("shape_pt_lon", "float", "float64", required=True, needed=True, lo=-180, hi=180),
        _Col("shape_pt_sequence", "int", "int32", required=True, needed=True, lo=0),
        _Col("shape_dist_traveled", "float", "float64", lo=0),
    ),
}

# A hop is suspiciously fast above this speed (m/s), with this slack (s) for times rounded to
# the minute: 360 km/h catches swapped or wrong coordinates without flagging fast trains.
_FAST_HOP_SPEED = 100.0
_TIME_SLACK = 60.0
_EARTH_RADIUS = 6_371_008.8  # metres

_LINE = "_line"  # hidden column: the line of each record in its file (header = line 1)


# --------------------------------------------------------------------------------------------
# The Feed
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ServiceDays:
    """Which service runs on which day: a boolean matrix (services x days) from ``first``."""

    ids: pd.Index
    first: np.datetime64  # the day of column 0, unit "D"
    active: np.ndarray  # bool, shape (len(ids), number of days)

    def column(self, day: dt.date) -> int | None:
        i = int((np.datetime64(day, "D") - self.first) // np.timedelta64(1, "D"))
        return i if 0 <= i < self.active.shape[1] else None


@dataclass(frozen=True, eq=False, repr=False)
class Feed:
    """A GTFS feed as typed pandas tables, with its validation report.

    Every table is a DataFrame, also for an absent optional file (then empty with the standard
    columns). Ids and texts are ``string`` columns (missing values are ``pd.NA``); columns of the
    file that are not standard are kept as ``string`` columns after the standard ones. The dtypes
    of each table are listed in ``docs/gtfs.md``.

    Attributes
    ----------
    source
        The zip file or folder that was read.
    agency, stops, routes, trips, stop_times, calendar, calendar_dates
        The tables. ``stop_times`` is sorted by ``trip_id`` then ``stop_sequence`` with a
        RangeIndex; its ``arrival_time``/``departure_time`` are int32 seconds after midnight of
        the service day (past 86,400 allowed), with blank intermediate times interpolated
        (``timepoint`` 0). Dates are ``datetime64[s]`` at midnight.
    frequencies, transfers, feed_info, shapes
        The optional tables (empty when the file is absent). ``transfers`` lacks the rows that
        refer to stops, routes or trips not in the feed (counted in the report).
    files
        The ``.txt`` files present in the feed, sorted.
    report
        The validation report (kind ``"GTFS feed"``): counts, errors and warnings, notes.
    """

    source: str
    agency: pd.DataFrame
    stops: pd.DataFrame
    routes: pd.DataFrame
    trips: pd.DataFrame
    stop_times: pd.DataFrame
    calendar: pd.DataFrame
    calendar_dates: pd.DataFrame
    frequencies: pd.DataFrame
    transfers: pd.DataFrame
    feed_info: pd.DataFrame
    shapes: pd.DataFrame
    files: tuple[str, ...]
    report: ValidationReport

    def __repr__(self) -> str:
        name = Path(self.source).name or self.source
        return (
            f"Feed({name!r}: {len(self.stops):,} stops, {len(self.routes):,} routes, "
            f"{len(self.trips):,} trips, {len(self.stop_times):,} stop_times)"
        )

    @cached_property
    def _service_days(self) -> _ServiceDays:
        return _service_days(self.calendar, self.calendar_dates)

    def active_service_ids(self, date: dt.date | str) -> frozenset[str]:
        """The service ids that run on a date.

        GTFS semantics: a calendar.txt service runs on the days whose weekday flag is 1 within
        ``[start_date, end_date]``; then calendar_dates.txt adds (exception_type 1) or removes
        (exception_type 2) single dates.

        Parameters
        ----------
        date
            The service day (a ``datetime.date`` or an ISO string ``"2021-03-02"``).

        Returns
        -------
        frozenset of str
            Empty when nothing runs (also for dates outside the feed's range).

        Examples
        --------
        >>> feed = read_gtfs("gtfs_ch_zg_2021.zip")  # doctest: +SKIP
        >>> "TA" in feed.active_service_ids(datetime.date(2021, 3, 2))  # doctest: +SKIP
        True
        """
        sd = self._service_days
        col = sd.column(_as_date(date))
        if col is None:
            return frozenset()
        return frozenset(sd.ids[sd.active[:, col]].tolist())

    def trips_on(self, date: dt.date | str) -> pd.DataFrame:
        """The rows of ``trips`` whose service runs on a date.

        Parameters
        ----------
        date
            The service day (a ``datetime.date`` or an ISO string).

        Returns
        -------
        pandas.DataFrame
            A subset of :attr:`trips` with its columns and its index labels (so ``.loc`` on
            ``feed.trips`` works with them).

        Examples
        --------
        >>> feed = read_gtfs("gtfs_ch_zg_2021.zip")  # doctest: +SKIP
        >>> len(feed.trips_on(datetime.date(2021, 3, 2)))  # doctest: +SKIP
        3569
        """
        active = self.active_service_ids(date)
        return self.trips[_isin(self.trips["service_id"], sorted(active))]

    def service_period(self) -> tuple[dt.date, dt.date]:
        """The first and the last date on which any service runs.

        Computed from the calendar ranges (with their weekday flags) and the dates added or
        removed in calendar_dates.txt.

        Returns
        -------
        tuple of datetime.date
            ``(first, last)``, both inclusive.

        Raises
        ------
        ServiceDateError
            If no service runs on any day.

        Examples
        --------
        >>> read_gtfs("gtfs_ch_zg_2021.zip").service_period()  # doctest: +SKIP
        (datetime.date(2020, 12, 13), datetime.date(2021, 12, 11))
        """
        period = _period(self._service_days)
        if period is None:
            raise ServiceDateError(
                "has no day with service (calendar.txt and calendar_dates.txt activate nothing)",
                path=self.source,
            )
        return period

    def service_counts(
        self, start: dt.date | str | None = None, end: dt.date | str | None = None
    ) -> pd.Series:
        """The number of trips that run on each date.

        Parameters
        ----------
        start, end
            First and last date (inclusive); default the feed's :meth:`service_period`. Dates
            outside the feed's range count 0 trips.

        Returns
        -------
        pandas.Series
            int64 counts named ``"trips"`` with a DatetimeIndex named ``"date"`` (one entry per
            day from ``start`` to ``end``).

        Examples
        --------
        >>> counts = read_gtfs("gtfs_ch_zg_2021.zip").service_counts()  # doctest: +SKIP
        >>> int(counts.loc["2021-03-02"])  # doctest: +SKIP
        3569
        """
        sd = self._service_days
        if start is None or end is None:
            period = _period(sd)
            first, last = period if period is not None else (dt.date(1970, 1, 1),) * 2
            start = first if start is None else start
            end = last if end is None else end
        d0 = np.datetime64(_as_date(start), "D")
        d1 = np.datetime64(_as_date(end), "D")
        days = np.arange(d0, d1 + np.timedelta64(1, "D"), dtype="datetime64[D]")
        svc = sd.ids.get_indexer(pd.Index(self.trips["service_id"].to_numpy(dtype=object)))
        per_service = np.bincount(svc[svc >= 0], minlength=len(sd.ids)).astype(np.int64)
        per_day = per_service @ sd.active.astype(np.int64) if len(sd.ids) else np.zeros(0, "int64")
        col = ((days - sd.first) // np.timedelta64(1, "D")).astype(np.int64)
        inside = (col >= 0) & (col < sd.active.shape[1])
        counts = np.zeros(len(days), dtype=np.int64)
        counts[inside] = per_day[col[inside]]
        index = pd.DatetimeIndex(days.astype("datetime64[s]"), name="date")
        return pd.Series(counts, index=index, name="trips")

    def on_demand_route_ids(self) -> frozenset[str]:
        """The routes that are on demand (Rufbus, Anrufsammeltaxi) by the documented convention.

        A route is on demand when any of these holds:

        - its ``route_type`` is 715 (HVT "Demand and Response Bus Service") or 1500-1507 (HVT
          taxi services);
        - at every stop_time of its trips where boarding is possible (``pickup_type`` not 1),
          ``pickup_type`` is 2 ("phone agency"), and there is at least one such stop_time;
        - its ``route_short_name``, ``route_long_name`` or ``route_desc`` contains one of the
          words "Rufbus", "Anrufsammeltaxi", "AST", "Ruftaxi", "On-Demand" (whole word, any
          case: "Rufbus 5" and "AST-Linie" match, "Rufbuslinie" and "Gast" do not).

        Returns
        -------
        frozenset of str
            The route ids.

        Examples
        --------
        >>> read_gtfs("gtfs_ch_zg_2021.zip").on_demand_route_ids()  # doctest: +SKIP
        frozenset()
        """
        routes = self.routes
        by_type = routes["route_type"].isin(ON_DEMAND_ROUTE_TYPES).to_numpy(bool)
        by_name = np.zeros(len(routes), dtype=bool)
        for column in ("route_short_name", "route_long_name", "route_desc"):
            found = routes[column].str.contains(_ON_DEMAND_WORDS, case=False, regex=True, na=False)
            by_name |= found.to_numpy(bool)
        ids = set(routes["route_id"].to_numpy(object)[by_type | by_name].tolist())

        st = self.stop_times
        trip_pos = _lookup(self.trips["trip_id"], st["trip_id"])
        pickup = st["pickup_type"].to_numpy()
        boarding = (pickup != 1) & (trip_pos >= 0)
        route_of = self.trips["route_id"].to_numpy(object)[trip_pos[boarding]]
        phone = pd.Series(pickup[boarding] == 2).groupby(route_of).all()
        ids.update(phone.index[phone.to_numpy(bool)].tolist())
        ids.discard(None)
        return frozenset(str(i) for i in ids)


def _lookup(keys: pd.Series, values: pd.Series) -> np.ndarray:
    """Position in ``keys`` of each value (its first occurrence), -1 where absent or missing."""
    index = pd.Index(keys)
    first = ~index.duplicated(keep="first")
    if first.all():
        return np.asarray(index.get_indexer(pd.Index(values)), dtype=np.int64)
    found = index[first].get_indexer(pd.Index(values))
    return np.where(found >= 0, np.flatnonzero(first)[found], -1).astype(np.int64)


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise TypeError(f"expected a datetime.date or an ISO date string, got {value!r}")


def _period(sd: _ServiceDays) -> tuple[dt.date, dt.date] | None:
    any_day = np.flatnonzero(sd.active.any(axis=0)) if sd.active.size else np.zeros(0, int)
    if not len(any_day):
        return None
    one = np.timedelta64(1, "D")
    first = (sd.first + int(any_day[0]) * one).astype(dt.date)
    last = (sd.first + int(any_day[-1]) * one).astype(dt.date)
    return first, last


def _service_days(calendar: pd.DataFrame, calendar_dates: pd.DataFrame) -> _ServiceDays:
    """The service x day activity matrix of calendar.txt and calendar_dates.txt, vectorised."""
    cal = calendar[calendar["service_id"].notna().to_numpy(bool)
                   & calendar["start_date"].notna().to_numpy(bool)
                   & calendar["end_date"].notna().to_numpy(bool)]
    cd = calendar_dates[calendar_dates["service_id"].notna().to_numpy(bool)
                        & calendar_dates["date"].notna().to_numpy(bool)]
    cal_ids = cal["service_id"].to_numpy(object)
    cd_ids = cd["service_id"].to_numpy(object)
    ids = pd.Index(pd.unique(np.concatenate([cal_ids, cd_ids])), dtype=object)
    starts = cal["start_date"].to_numpy().astype("datetime64[D]")
    ends = cal["end_date"].to_numpy().astype("datetime64[D]")
    dates = cd["date"].to_numpy().astype("datetime64[D]")
    bounds = np.concatenate([starts, ends, dates])
    if not len(bounds):
        return _ServiceDays(ids, np.datetime64("1970-01-01", "D"), np.zeros((len(ids), 0), bool))
    first, last = bounds.min(), bounds.max()
    days = np.arange(first, last + np.timedelta64(1, "D"), dtype="datetime64[D]")
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    active = np.zeros((len(ids), len(days)), dtype=bool)
    if len(cal):
        flags = np.column_stack([cal[d].to_numpy(np.float64) for d in _WEEKDAYS]) == 1
        in_range = (days[None, :] >= starts[:, None]) & (days[None, :] <= ends[:, None])
        active[ids.get_indexer(cal_ids)] = flags[:, weekday] & in_range
    if len(cd):
        exc = cd["exception_type"].to_numpy(np.float64)
        known = (exc == 1) | (exc == 2)
        rows = ids.get_indexer(cd_ids[known])
        cols = ((dates[known] - first) // np.timedelta64(1, "D")).astype(np.int64)
        active[rows, cols] = exc[known] == 1
    return _ServiceDays(ids, first, active)


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------


def read_gtfs(path: str | Path, *, strict: bool = True) -> Feed:
    """Read a GTFS feed (a .zip or a folder) into a :class:`Feed` of typed tables.

    Parameters
    ----------
    path
        A GTFS .zip archive or a folder with the .txt files (also accepted: the files inside one
        subfolder of the zip or folder).
    strict
        If True (default), any error found by the validation raises. If False, the feed is
        returned with the errors in ``feed.report``, unless an error makes a table unusable: a
        required file or column missing, or a time, date or required number blank or
        unparsable where the column cannot hold a missing value (e.g. ``"7:6x:00"``).

    Returns
    -------
    Feed
        The tables, the list of files and the validation report. Warnings are logged (one line
        per kind, with the count and example ids) and kept in ``feed.report``.

    Raises
    ------
    InputFormatError
        If ``path`` does not exist or is neither a zip archive nor a folder, or the zip is
        unreadable.
    DataValidationError
        If the feed has errors (``strict=True``) or unusable tables (``strict=False``); its
        message lists the first problems, e.g.
        ``"stop_times.txt line 5: trip_id 'T9' is not in trips.txt"``.

    Examples
    --------
    >>> feed = read_gtfs("gtfs_ch_zg_2021.zip")  # doctest: +SKIP
    >>> feed.stop_times[["trip_id", "stop_id", "arrival_time"]].head(1)  # doctest: +SKIP
                     trip_id  stop_id  arrival_time
    0  1.TA.91-1-E-j21-1.1.H  8502287         23280
    """
    started = time.perf_counter()
    loader = _Loader(path)
    loader.run()  # raises InputFormatError for a path that is not a feed
    report = loader.report
    loader.log_summaries()
    if strict and report.errors:
        raise DataValidationError(report.errors, path=path)
    if loader.fatal:
        raise DataValidationError(loader.fatal, path=path)
    feed = loader.feed()
    logger.info(
        "read GTFS feed %s in %.2f s: %s stops, %s routes, %s trips, %s stop_times",
        Path(path).name, time.perf_counter() - started, f"{len(feed.stops):,}",
        f"{len(feed.routes):,}", f"{len(feed.trips):,}", f"{len(feed.stop_times):,}",
    )
    return feed


def validate_gtfs(path: str | Path) -> ValidationReport:
    """Check a GTFS feed and report every problem, without raising for bad data.

    Parameters
    ----------
    path
        A GTFS .zip archive or a folder.

    Returns
    -------
    ValidationReport
        Kind ``"GTFS feed"``: counts (agencies, stops, routes, trips, stop_times, services,
        service period, interpolated times), errors and warnings naming file, line and field.
        A path that is not a feed at all gives a report with one error.

    Raises
    ------
    None
        Bad data never raises: every problem, also an unreadable path, is in the report.

    Examples
    --------
    >>> print(validate_gtfs("gtfs_ch_zg_2021.zip").format())  # doctest: +SKIP
    GTFS feed: gtfs_ch_zg_2021.zip
      agencies: 459
      ...
    """
    loader = _Loader(path)
    try:
        loader.run()
    except InputFormatError as exc:
        report = ValidationReport(source=str(path), kind="GTFS feed")
        report.error(Path(path).name, None, None, exc.message, "not_a_feed")
        return report
    return loader.report


# --------------------------------------------------------------------------------------------
# Opening a zip or a folder
# --------------------------------------------------------------------------------------------


def _file_opener(path: Path) -> Callable[[], IO[bytes]]:
    def opener() -> IO[bytes]:
        return path.open("rb")

    return opener


def _nothing() -> None:
    """Closing a folder source needs nothing."""


def _is_junk(parts: Sequence[str]) -> bool:
    return any(p == "__MACOSX" for p in parts) or parts[-1].startswith(".")


def _pick_folder(entries: dict[tuple[str, ...], Any], source: Path) -> dict[str, Any]:
    """Choose the folder level holding the GTFS files: the root, or one subfolder."""
    known = set(GTFS_FILES)
    folders: dict[tuple[str, ...], dict[str, Any]] = {}
    for parts, handle in entries.items():
        folders.setdefault(parts[:-1], {})[parts[-1].lower()] = handle
    with_gtfs = [f for f, names in folders.items() if known & set(names)]
    if not with_gtfs:
        return folders.get((), {})
    depth = min(len(f) for f in with_gtfs)
    best = [f for f in with_gtfs if len(f) == depth]
    if len(best) > 1:
        shown = ", ".join("/".join(f) + "/" for f in sorted(best))
        raise InputFormatError(
            f"holds several GTFS feeds (in {shown}); unpack it and read one folder", path=source
        )
    return folders[best[0]]


def _open_source(path: Path) -> tuple[dict[str, Callable[[], IO[bytes]]], Callable[[], None]]:
    """Map each .txt file name of the feed to a function that opens it, plus a close function."""
    if not path.exists():
        raise InputFormatError("does not exist (expected a GTFS .zip or a folder)", path=path)
    if path.is_dir():
        found: dict[tuple[str, ...], Any] = {}
        subfolders = [d for d in path.iterdir() if d.is_dir() and not _is_junk((d.name,))]
        for folder in (path, *subfolders):  # the folder itself and one level below
            for p in folder.glob("*.txt"):
                parts = p.relative_to(path).parts
                if p.is_file() and not _is_junk(parts):
                    found[parts] = p
        picked = _pick_folder(found, path)
        return {n: _file_opener(p) for n, p in picked.items()}, _nothing
    if not zipfile.is_zipfile(path):
        raise InputFormatError(
            "is not a zip archive nor a folder (expected a GTFS .zip or a folder of .txt files)",
            path=path,
        )
    try:
        zf = zipfile.ZipFile(path)
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputFormatError(f"is not a readable zip archive ({exc})", path=path) from exc
    found = {}
    for info in infos:
        parts = tuple(p for p in info.filename.split("/") if p)
        if info.is_dir() or not parts or not parts[-1].lower().endswith(".txt"):
            continue
        if not _is_junk(parts):
            found[parts] = info
    try:
        picked = _pick_folder(found, path)
    except InputFormatError:
        zf.close()
        raise
    return {n: partial(zf.open, i) for n, i in picked.items()}, zf.close


# --------------------------------------------------------------------------------------------
# The loader: reads, converts and checks every table, collecting problems
# --------------------------------------------------------------------------------------------


def _haversine(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Great-circle distance in metres between WGS84 points given in degrees."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _fmt_seq(value: float) -> str:
    return "blank" if np.isnan(value) else str(int(value))


def _fmt_time(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _expected_range(col: _Col) -> str:
    if col.lo is not None and col.hi is not None:
        return f"expected a value from {col.lo:g} to {col.hi:g}"
    return f"expected at least {col.lo:g}"


class _Loader:
    """Reads one feed into intermediate tables and a report; :meth:`feed` finalises the dtypes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.report = ValidationReport(source=str(path), kind="GTFS feed")
        self.fatal: list[Problem] = []
        self.tables: dict[str, pd.DataFrame] = {}
        self.present: dict[str, bool] = {}
        self.files: tuple[str, ...] = ()
        self.extras: dict[str, list[str]] = {}
        self.bad: dict[tuple[str, str], np.ndarray] = {}  # (file, column) -> unparsable mask
        self.present_values: dict[tuple[str, str], np.ndarray] = {}  # non-blank fields
        self.service: _ServiceDays | None = None
        self.interpolated = 0
        # (severity, code, summary) -> [count, examples]
        self.summaries: dict[tuple[str, str, str], list[Any]] = {}

    # ---- problems ------------------------------------------------------------------------

    def add(
        self,
        severity: str,
        file: str,
        rows: Sequence[Any] | np.ndarray,
        column: str | None,
        messages: Sequence[str],
        code: str,
        *,
        summary: str,
        examples: Sequence[Any] | np.ndarray = (),
        fatal: bool = False,
    ) -> None:
        """Record problems (one per row) and remember a summary line for the log."""
        problems = [
            Problem(severity, file, None if r is None else int(r), column, m, code)
            for r, m in zip(rows, messages, strict=True)
        ]
        self.report.problems.extend(problems)
        if fatal:
            self.fatal.extend(problems)
        entry = self.summaries.setdefault((severity, code, summary), [0, []])
        entry[0] += len(problems)
        entry[1].extend(str(e) for e in list(examples)[: 3 - len(entry[1])])

    def log_summaries(self) -> None:
        """One log line per kind of problem, with the count and a few example ids."""
        name = self.path.name
        for (severity, _code, summary), (count, examples) in self.summaries.items():
            shown = f" (e.g. {', '.join(examples)})" if examples else ""
            level = logging.ERROR if severity == "error" else logging.WARNING
            logger.log(level, "GTFS %s: %s %s: %s%s", name, f"{count:,}",
                       "error" + "s" * (count != 1) if severity == "error"
                       else "warning" + "s" * (count != 1), summary, shown)

    # ---- reading -------------------------------------------------------------------------

    def run(self) -> None:
        openers, close = _open_source(self.path)
        try:
            self.files = tuple(sorted(openers))
            for file in GTFS_FILES:
                table = self._read_csv(file, openers[file]) if file in openers else None
                self.present[file] = table is not None
                self.tables[file] = self._convert(file, table)
        finally:
            close()
        self._check_files()
        self._check_stops()
        self._check_routes()
        self._check_trips()
        self._process_stop_times()
        self._check_calendar()
        self._check_frequencies()
        self._check_transfers()
        self._check_unused()
        self._count()

    def _read_csv(self, file: str, opener: Callable[[], IO[bytes]]) -> pa.Table | None:
        """Parse one file with all columns as strings; None when it is unreadable or empty."""
        for encoding in ("utf-8", "cp1252"):
            try:
                return self._parse(file, opener, encoding)
            except _NotUtf8:
                continue
            except (pa.ArrowInvalid, OSError, zipfile.BadZipFile, NotImplementedError,
                    RuntimeError, UnicodeDecodeError) as exc:
                self.add("error", file, [None], None, [f"cannot be read as CSV ({exc})"],
                         "unreadable", summary="unreadable files", examples=[file], fatal=True)
                return None
        return None  # pragma: no cover - cp1252 decodes every byte

    def _parse(self, file: str, opener: Callable[[], IO[bytes]], encoding: str) -> pa.Table | None:
        with opener() as fh:
            header = fh.readline()
            if not header.strip(b" \t\r\n\xef\xbb\xbf"):
                if file in _REQUIRED_FILES:
                    self.add("error", file, [None], None,
                             ["is empty (0 bytes); expected a header line and records"],
                             "empty_file", summary="empty required files", examples=[file],
                             fatal=True)
                else:
                    self.add("warning", file, [None], None,
                             ["is empty (0 bytes); read as absent"], "empty_file",
                             summary="empty optional files", examples=[file])
                return None
            header = header.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark
            try:
                text = header.decode(encoding)
            except UnicodeDecodeError as exc:
                raise _NotUtf8 from exc
            names = self._header(file, text)
            invalid: list[tuple[int | None, int]] = []

            def handler(row: pacsv.InvalidRow) -> str:
                invalid.append((row.number, row.actual_columns))
                return "skip"

            table = self._arrow_read(fh, names, encoding, handler, threads=True)
        if invalid:
            # Row numbers are known only to the single-threaded reader: read once more.
            invalid.clear()
            with opener() as fh:
                fh.readline()
                table = self._arrow_read(fh, names, encoding, handler, threads=False)
        if encoding != "utf-8":
            self.add("warning", file, [None], None,
                     ["is not UTF-8; read as Windows-1252 (cp1252): check umlauts"], "encoding",
                     summary="files not in UTF-8", examples=[file])
        n_total = table.num_rows + len(invalid)
        if invalid:
            numbers = np.array([n if n is not None else -1 for n, _ in invalid], dtype=np.int64)
            kept = np.setdiff1d(np.arange(1, n_total + 1), numbers)
            lines = kept[: table.num_rows] + 1
            self.add("error", file, [n + 1 if n is not None else None for n, _ in invalid], None,
                     [f"has {k} fields, expected {len(names)} as in the header; record skipped"
                      for _, k in invalid], "bad_record",
                     summary="records with a wrong number of fields (skipped)",
                     examples=[f"{file} line {n + 1}" for n, _ in invalid if n is not None])
        else:
            lines = np.arange(2, table.num_rows + 2, dtype=np.int64)
        return table.append_column(_LINE, pa.array(lines, pa.int64()))

    def _header(self, file: str, text: str) -> list[str]:
        raw = next(csv.reader([text.rstrip("\r\n")]), [])
        names: list[str] = []
        for i, name in enumerate(raw):
            name = name.strip().strip("\ufeff").strip()
            if not name:
                name = f"unnamed_{i + 1}"
            if name in names:
                self.add("error", file, [1], name, ["appears twice in the header; the second "
                         "column is kept as " + f"{name}_{i + 1}"], "duplicate_column",
                         summary="duplicate columns", examples=[f"{file}:{name}"])
                name = f"{name}_{i + 1}"
            names.append(name)
        return names

    @staticmethod
    def _arrow_read(
        fh: IO[bytes], names: list[str], encoding: str, handler: Callable[..., str], *,
        threads: bool,
    ) -> pa.Table:
        read_options = pacsv.ReadOptions(column_names=names, encoding=encoding,
                                         use_threads=threads)
        parse_options = pacsv.ParseOptions(invalid_row_handler=handler)
        convert_options = pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=True,
            null_values=[""], quoted_strings_can_be_null=True,
        )
        try:
            table = pacsv.read_csv(fh, read_options=read_options, parse_options=parse_options,
                                   convert_options=convert_options)
        except pa.ArrowInvalid as exc:
            if "Empty CSV file" in str(exc):
                return pa.table({n: pa.array([], pa.string()) for n in names})
            if "UTF8" in str(exc) or "utf-8" in str(exc).lower():
                raise _NotUtf8 from exc
            raise
        columns = []
        for col in table.columns:
            trimmed = pc.utf8_trim_whitespace(col)
            columns.append(pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()),
                                      trimmed))
        return pa.table(columns, names=names)

    # ---- converting ----------------------------------------------------------------------

    def _convert(self, file: str, table: pa.Table | None) -> pd.DataFrame:
        """Typed intermediate columns: strings, float64 (ints and times, NaN = missing), dates."""
        schema = _SCHEMA[file]
        if table is None:
            self.extras[file] = []
            data: dict[str, Any] = {c.name: _empty_intermediate(c) for c in schema}
            data[_LINE] = np.zeros(0, dtype=np.int64)
            return pd.DataFrame(data)
        lines = table.column(_LINE).to_numpy()
        names = [n for n in table.column_names if n != _LINE]
        standard = {c.name for c in schema}
        self.extras[file] = [n for n in names if n not in standard]
        data = {}
        for col in schema:
            if col.name not in names:
                if col.required:
                    self.add("error", file, [1], col.name, ["is missing (a required column)"],
                             "missing_column", summary="required columns missing",
                             examples=[f"{file}:{col.name}"], fatal=True)
                data[col.name] = _empty_intermediate(col, table.num_rows)
                # Not blank but unknown: no repairs and no follow-up errors on these values.
                self.bad[(file, col.name)] = np.ones(table.num_rows, dtype=bool)
                continue
            data[col.name] = self._parse_column(file, col, table.column(col.name), lines)
        for name in self.extras[file]:
            data[name] = pd.array(table.column(name), dtype=_STRING)
        data[_LINE] = lines
        return pd.DataFrame(data)

    def _parse_column(self, file: str, col: _Col, arr: pa.ChunkedArray, lines: np.ndarray) -> Any:
        present = arr.is_valid().to_numpy(zero_copy_only=False)
        self.present_values[(file, col.name)] = present
        if col.needed and not present.all():
            idx = np.flatnonzero(~present)
            fatal = not col.nullable and col.default is None
            self.add("error", file, lines[idx], col.name,
                     ["is empty (a value is required)"] * len(idx), "missing_value",
                     summary=f"blank {col.name} values in {file}",
                     examples=[f"line {r}" for r in lines[idx[:3]]], fatal=fatal)
        if col.kind == "str":
            return pd.array(arr, dtype=_STRING)
        if col.kind == "date":
            return self._parse_date(file, col, arr, present, lines)
        if col.kind == "time":
            ok = pc.fill_null(pc.match_substring_regex(arr, _TIME_RE), False)
            parts = pc.extract_regex(pc.if_else(ok, arr, pa.scalar(None, pa.string())), _TIME_RE)
            values = np.full(len(arr), np.nan)
            okn = ok.to_numpy(zero_copy_only=False)
            if okn.any():
                h, m, s = (
                    pc.cast(pc.struct_field(parts, g), pa.int64())
                    .to_numpy(zero_copy_only=False).astype(np.float64)
                    for g in ("h", "m", "s")
                )
                values = np.where(okn, h * 3600 + m * 60 + s, np.nan)
            bad = present & ~okn
            self.bad[(file, col.name)] = bad
            self._report_bad(file, col, arr, bad, lines, "bad_time",
                             "is not a time (expected H:MM:SS or HH:MM:SS, e.g. 07:05:00 or "
                             "25:13:00)", fatal=True)
            return values
        pattern = _INT_RE if col.kind == "int" else _FLOAT_RE
        ok = pc.fill_null(pc.match_substring_regex(arr, pattern), False)
        okn = ok.to_numpy(zero_copy_only=False)
        values = (
            pc.cast(pc.if_else(ok, arr, pa.scalar(None, pa.string())), pa.float64())
            .to_numpy(zero_copy_only=False)
            .astype(np.float64)
        )
        values = np.where(okn, values, np.nan)
        bad = present & ~okn
        fatal = not col.nullable and col.default is None and col.needed
        what = "a whole number" if col.kind == "int" else "a number"
        self._report_bad(file, col, arr, bad, lines, "bad_number", f"is not {what}", fatal=fatal)
        out = np.zeros(len(values), dtype=bool)
        if col.lo is not None:
            out |= values < col.lo
        if col.hi is not None:
            out |= values > col.hi
        if out.any():
            self._report_bad(file, col, arr, out, lines, "out_of_range",
                             f"is out of range ({_expected_range(col)})", fatal=fatal, quote=False)
            values[out] = np.nan
        if col.default is not None:
            values = np.where(np.isnan(values), float(col.default), values)
        return values

    def _parse_date(
        self, file: str, col: _Col, arr: pa.ChunkedArray, present: np.ndarray, lines: np.ndarray
    ) -> np.ndarray:
        ok = pc.fill_null(pc.match_substring_regex(arr, _DATE_RE), False)
        candidate = pc.if_else(ok, arr, pa.scalar(None, pa.string()))
        parsed = pc.strptime(candidate, format="%Y%m%d", unit="s", error_is_null=True)
        # strptime reads 20210230 as 2021-03-02: a real date keeps its month and day.
        month = pc.cast(pc.utf8_slice_codeunits(candidate, 4, 6), pa.int64())
        day = pc.cast(pc.utf8_slice_codeunits(candidate, 6, 8), pa.int64())
        same = pc.and_(pc.equal(pc.month(parsed), month), pc.equal(pc.day(parsed), day))
        valid = pc.fill_null(same, False).to_numpy(zero_copy_only=False)
        values = parsed.to_numpy(zero_copy_only=False).astype("datetime64[s]")
        values[~valid] = np.datetime64("NaT")
        bad = present & ~valid
        self._report_bad(file, col, arr, bad, lines, "bad_date",
                         "is not a date (expected YYYYMMDD, e.g. 20210302)", fatal=True)
        return values

    def _report_bad(
        self, file: str, col: _Col, arr: pa.ChunkedArray, bad: np.ndarray, lines: np.ndarray,
        code: str, text: str, *, fatal: bool, quote: bool = True,
    ) -> None:
        if not bad.any():
            return
        idx = np.flatnonzero(bad)
        raw = arr.take(pa.array(idx)).to_pylist()
        shown = [f"'{v}'" if quote else str(v) for v in raw]
        self.add("error", file, lines[idx], col.name, [f"{v} {text}" for v in shown], code,
                 summary=f"{file} {col.name} values: {_PROBLEM_LABELS[code]}",
                 examples=shown, fatal=fatal)

    # ---- checks --------------------------------------------------------------------------

    def _lines(self, file: str, mask: np.ndarray | pd.Series) -> np.ndarray:
        return self.tables[file][_LINE].to_numpy()[np.asarray(mask, dtype=bool)]

    def _refs(
        self, file: str, column: str, target: str, target_column: str, *,
        severity: str = "error", code: str, suffix: str = "", drop: bool = False,
        valid: pd.Series | None = None, summary: str = "",
    ) -> np.ndarray:
        """Report values of ``file.column`` missing from ``target.target_column``."""
        df = self.tables[file]
        values = df[column]
        known = valid if valid is not None else self.tables[target][target_column]
        missing = values.notna().to_numpy(bool) & ~_isin(values, known)
        if missing.any():
            bad = values[missing].to_numpy(object)
            self.add(severity, file, self._lines(file, missing), column,
                     [f"'{v}' is not in {target}{suffix}" for v in bad], code,
                     summary=summary or f"{file} {column} values not in {target}{suffix}",
                     examples=pd.unique(bad)[:3])
            if drop:
                self.tables[file] = df[~missing]
        return missing

    def _duplicates(self, file: str, columns: list[str], *, severity: str = "error",
                    code: str = "duplicate_key") -> None:
        df = self.tables[file]
        keyed = df[df[columns].notna().all(axis=1).to_numpy(bool)]
        dup = keyed.duplicated(columns, keep="first").to_numpy(bool)
        if not dup.any():
            return
        first = keyed[~keyed.duplicated(columns, keep="first").to_numpy(bool)]
        rows = keyed[dup].merge(first[[*columns, _LINE]], on=columns, suffixes=("", "_first"))
        key = columns[-1]
        shown = rows[key]
        if shown.dtype.kind == "M":  # dates as written in the file
            shown = shown.dt.strftime("%Y%m%d")
        shown = shown.astype(str)
        if len(columns) == 1:
            messages = [f"'{v}' appears more than once (also on line {f})"
                        for v, f in zip(rows[key], rows[_LINE + "_first"], strict=True)]
        else:
            other = columns[0]
            messages = [f"'{v}' appears more than once for {other} '{o}' (also on line {f})"
                        for v, o, f in zip(shown, rows[other],
                                           rows[_LINE + "_first"], strict=True)]
        self.add(severity, file, rows[_LINE].to_numpy(), key, messages, code,
                 summary=f"duplicate {' + '.join(columns)} in {file}",
                 examples=shown.tolist()[:3])

    def _check_files(self) -> None:
        for file in _REQUIRED_FILES:
            if not self.present[file] and not any(
                p.file == file and p.code in ("empty_file", "unreadable") for p in self.fatal
            ):
                self.add("error", file, [None], None, ["is missing (a required file)"],
                         "missing_file", summary="required files missing", examples=[file],
                         fatal=True)
        if not self.present["calendar.txt"] and not self.present["calendar_dates.txt"]:
            self.add("error", "calendar.txt", [None], None,
                     ["is missing, and so is calendar_dates.txt (the feed needs one of them)"],
                     "missing_file", summary="required files missing",
                     examples=["calendar.txt"], fatal=True)

    def _check_stops(self) -> None:
        stops = self.tables["stops.txt"]
        self._duplicates("stops.txt", ["stop_id"])
        # Coordinates are required for stops, stations and entrances (location_type 0-2).
        located = stops["location_type"].to_numpy() <= 2
        for column in ("stop_lat", "stop_lon"):
            present = self.present_values.get(("stops.txt", column))
            if present is None:
                continue  # the column is missing: reported already
            blank = ~present & located
            if blank.any():
                self.add("error", "stops.txt", self._lines("stops.txt", blank), column,
                         ["is empty (required for location_type 0, 1 and 2)"] * int(blank.sum()),
                         "missing_value", summary=f"stops without {column}",
                         examples=stops["stop_id"][blank].tolist()[:3])
        ps = stops["parent_station"]
        dangling = ps.notna().to_numpy(bool) & ~_isin(ps, stops["stop_id"])
        if dangling.any():
            vals = ps[dangling].to_numpy(object)
            self.add("warning", "stops.txt", self._lines("stops.txt", dangling), "parent_station",
                     [f"'{v}' is not in stops.txt (kept as given)" for v in vals],
                     "missing_parent_station",
                     summary="stops whose parent_station is not in stops.txt (kept as given)",
                     examples=pd.unique(vals)[:3])

    def _check_routes(self) -> None:
        self._duplicates("routes.txt", ["route_id"])
        if self.present["agency.txt"]:
            self._refs("routes.txt", "agency_id", "agency.txt", "agency_id",
                       code="missing_agency")

    def _check_trips(self) -> None:
        self._duplicates("trips.txt", ["trip_id"])
        self._refs("trips.txt", "route_id", "routes.txt", "route_id", code="missing_route")
        services = pd.concat([self.tables["calendar.txt"]["service_id"],
                              self.tables["calendar_dates.txt"]["service_id"]])
        self._refs("trips.txt", "service_id", "calendar.txt", "service_id",
                   suffix=" nor in calendar_dates.txt", code="missing_service", valid=services)
        if self.present["shapes.txt"]:
            self._refs("trips.txt", "shape_id", "shapes.txt", "shape_id", severity="warning",
                       code="missing_shape")

    def _process_stop_times(self) -> None:
        """Sort, fill blank times (copy, interpolate), check order and references."""
        file = "stop_times.txt"
        st = self.tables[file]
        self._refs(file, "trip_id", "trips.txt", "trip_id", code="missing_trip")
        self._refs(file, "stop_id", "stops.txt", "stop_id", code="missing_stop")
        stops = self.tables["stops.txt"]
        stations = stops["stop_id"][(stops["location_type"].to_numpy() != 0)]
        at_station = _isin(st["stop_id"], stations)
        if at_station.any():
            vals = st["stop_id"][at_station].to_numpy(object)
            self.add("warning", file, self._lines(file, at_station), "stop_id",
                     [f"'{v}' is a station, entrance or node in stops.txt, not a stop or platform "
                      "(location_type 0)" for v in vals], "stop_time_at_station",
                     summary="stop_times at stations (location_type not 0)",
                     examples=pd.unique(vals)[:3])

        n = len(st)
        codes, _ = pd.factorize(st["trip_id"], sort=True)
        seq = st["stop_sequence"].to_numpy(np.float64)
        order = np.lexsort((seq, codes))
        st = st.iloc[order].reset_index(drop=True)
        codes, seq = codes[order], seq[order]
        zeros = np.zeros(n, dtype=bool)
        arr_bad = self.bad.get((file, "arrival_time"), zeros)[order]
        dep_bad = self.bad.get((file, "departure_time"), zeros)[order]
        arr = st["arrival_time"].to_numpy(np.float64).copy()
        dep = st["departure_time"].to_numpy(np.float64).copy()
        lines = st[_LINE].to_numpy()
        trip_ids = st["trip_id"].to_numpy(object)
        first = np.r_[True, codes[1:] != codes[:-1]] if n else zeros
        last = np.r_[codes[1:] != codes[:-1], True] if n else zeros

        dup = ~first & (seq == np.r_[np.nan, seq[:-1]])
        if dup.any():
            idx = np.flatnonzero(dup)
            self.add("error", file, lines[idx], "stop_sequence",
                     [f"{int(seq[i])} appears more than once in trip '{trip_ids[i]}' (also on "
                      f"line {lines[i - 1]})" for i in idx], "duplicate_key",
                     summary="duplicate trip_id + stop_sequence in stop_times.txt",
                     examples=pd.unique(trip_ids[idx])[:3])

        # A blank arrival next to a given departure (or vice versa): copy the other.
        arr_blank = np.isnan(arr) & ~arr_bad
        dep_blank = np.isnan(dep) & ~dep_bad
        copy_to_arr = arr_blank & ~np.isnan(dep)
        copy_to_dep = dep_blank & ~np.isnan(arr)
        arr[copy_to_arr] = dep[copy_to_arr]
        dep[copy_to_dep] = arr[copy_to_dep]
        n_copied = int(copy_to_arr.sum() + copy_to_dep.sum())
        if n_copied:
            text = (f"copied the other time into {int(copy_to_arr.sum()):,} blank arrival_time "
                    f"and {int(copy_to_dep.sum()):,} blank departure_time fields")
            self.report.notes.append(text)
            logger.info("GTFS %s: %s", self.path.name, text)

        timed = ~np.isnan(arr) & ~np.isnan(dep)
        blank = ~timed & ~arr_bad & ~dep_bad
        ends = blank & (first | last)
        if ends.any():
            idx = np.flatnonzero(ends)
            self.add("error", file, lines[idx], "arrival_time",
                     [f"and departure_time are empty at the {'first' if first[i] else 'last'} "
                      f"stop of trip '{trip_ids[i]}' (the first and last stop need times)"
                      for i in idx], "missing_end_time",
                     summary="trips without times at their first or last stop",
                     examples=pd.unique(trip_ids[idx])[:3], fatal=True)
        interpolated = self._interpolate(st, codes, arr, dep, timed, blank & ~first & ~last)
        if interpolated.any():
            n_trips = len(pd.unique(codes[interpolated]))
            text = (f"interpolated {int(interpolated.sum()):,} blank arrival/departure times in "
                    f"{n_trips:,} trips")
            self.report.notes.append(text)
            logger.info("GTFS %s: %s", self.path.name, text)
        self.interpolated = int(interpolated.sum())

        timepoint = st["timepoint"].to_numpy(np.float64)
        timepoint = np.where(np.isnan(timepoint), 1.0, timepoint)
        timepoint[interpolated] = 0.0

        known = ~np.isnan(arr) & ~np.isnan(dep)
        back_here = known & (dep < arr)
        if back_here.any():
            idx = np.flatnonzero(back_here)
            self.add("error", file, lines[idx], "departure_time",
                     [f"{_fmt_time(dep[i])} is before arrival_time {_fmt_time(arr[i])} "
                      f"(trip '{trip_ids[i]}', stop_sequence {_fmt_seq(seq[i])})" for i in idx],
                     "time_backwards", summary="times going backwards along a trip",
                     examples=pd.unique(trip_ids[idx])[:3])
        prev_dep = np.r_[np.nan, dep[:-1]] if n else np.zeros(0)
        back_hop = ~first & known & (arr < prev_dep)
        if back_hop.any():
            idx = np.flatnonzero(back_hop)
            self.add("error", file, lines[idx], "arrival_time",
                     [f"{_fmt_time(arr[i])} is before the departure {_fmt_time(prev_dep[i])} at "
                      f"the previous stop (trip '{trip_ids[i]}', stop_sequence {_fmt_seq(seq[i])})"
                      for i in idx], "time_backwards",
                     summary="times going backwards along a trip",
                     examples=pd.unique(trip_ids[idx])[:3])

        self._check_fast_hops(st, first, arr, dep, lines, trip_ids)
        st = st.assign(arrival_time=arr, departure_time=dep, timepoint=timepoint)
        self.tables[file] = st

    def _check_fast_hops(
        self, st: pd.DataFrame, first: np.ndarray, arr: np.ndarray, dep: np.ndarray,
        lines: np.ndarray, trip_ids: np.ndarray,
    ) -> None:
        """Warn about hops faster than _FAST_HOP_SPEED: wrong times or stop coordinates."""
        if len(st) < 2:
            return
        stops = self.tables["stops.txt"]
        pos = _lookup(stops["stop_id"], st["stop_id"])
        # position -1 (unknown stop) picks the NaN appended at the end
        lat = np.append(stops["stop_lat"].to_numpy(np.float64), np.nan)[pos]
        lon = np.append(stops["stop_lon"].to_numpy(np.float64), np.nan)[pos]
        metres = _haversine(lat[:-1], lon[:-1], lat[1:], lon[1:])
        seconds = arr[1:] - dep[:-1] + _TIME_SLACK
        with np.errstate(invalid="ignore", divide="ignore"):
            fast = ~first[1:] & (metres / seconds > _FAST_HOP_SPEED) & (seconds > 0)
        if not fast.any():
            return
        idx = np.flatnonzero(fast) + 1
        self.add("warning", "stop_times.txt", lines[idx], "arrival_time",
                 [f"{_fmt_time(arr[i])}: {metres[i - 1] / 1000:.1f} km from the previous stop in "
                  f"{(arr[i] - dep[i - 1]) / 60:.0f} min (trip '{trip_ids[i]}'); check the times "
                  "or the stop coordinates" for i in idx], "fast_hop",
                 summary=f"hops faster than {_FAST_HOP_SPEED * 3.6:.0f} km/h",
                 examples=pd.unique(trip_ids[idx])[:3])

    @staticmethod
    def _interpolate(
        st: pd.DataFrame, codes: np.ndarray, arr: np.ndarray, dep: np.ndarray,
        timed: np.ndarray, need: np.ndarray,
    ) -> np.ndarray:
        """Fill blank intermediate times linearly between the surrounding timed stops (in place).

        The position along the trip is ``shape_dist_traveled`` where every row of the trip has
        one (and it grows between the two timed stops), else the row's position in the trip.
        """
        n = len(arr)
        done = np.zeros(n, dtype=bool)
        if not need.any():
            return done
        pos = np.arange(n)
        prev = np.maximum.accumulate(np.where(timed, pos, -1))
        nxt = np.minimum.accumulate(np.where(timed, pos, n)[::-1])[::-1]
        idx = np.flatnonzero(need)
        p, q = prev[idx], nxt[idx]
        ok = (p >= 0) & (q < n)
        p, q, idx = p[ok], q[ok], idx[ok]
        same = (codes[p] == codes[idx]) & (codes[q] == codes[idx])
        p, q, idx = p[same], q[same], idx[same]
        sd = st["shape_dist_traveled"].to_numpy(np.float64)
        valid_codes = codes >= 0
        n_trips = int(codes.max()) + 1 if valid_codes.any() else 0
        missing_sd = np.bincount(codes[valid_codes], weights=np.isnan(sd[valid_codes]),
                                 minlength=n_trips)
        use_sd = np.zeros(n, dtype=bool)
        use_sd[valid_codes] = missing_sd[codes[valid_codes]] == 0
        x = np.where(use_sd, sd, pos.astype(np.float64))
        den = x[q] - x[p]
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(den > 0, (x[idx] - x[p]) / den, (idx - p) / (q - p))
        frac = np.clip(frac, 0.0, 1.0)
        t = np.floor(dep[p] + (arr[q] - dep[p]) * frac + 0.5)
        arr[idx] = t
        dep[idx] = t
        done[idx] = True
        return done

    def _check_calendar(self) -> None:
        self._duplicates("calendar.txt", ["service_id"])
        cal = self.tables["calendar.txt"]
        reversed_ = (cal["start_date"] > cal["end_date"]).to_numpy(bool)
        if reversed_.any():
            rows = cal[reversed_]
            self.add("error", "calendar.txt", rows[_LINE].to_numpy(), "end_date",
                     [f"{e:%Y%m%d} is before start_date {s:%Y%m%d}"
                      for s, e in zip(rows["start_date"], rows["end_date"], strict=True)],
                     "bad_date_range", summary="calendar rows ending before they start",
                     examples=rows["service_id"].tolist()[:3])
        self._duplicates("calendar_dates.txt", ["service_id", "date"], severity="warning",
                         code="duplicate_calendar_date")

    def _check_frequencies(self) -> None:
        self._refs("frequencies.txt", "trip_id", "trips.txt", "trip_id", code="missing_trip")
        fr = self.tables["frequencies.txt"]
        back = (fr["end_time"] <= fr["start_time"]).to_numpy(bool)
        if back.any():
            rows = fr[back]
            self.add("error", "frequencies.txt", rows[_LINE].to_numpy(), "end_time",
                     [f"{_fmt_time(e)} is not after start_time {_fmt_time(s)}"
                      for s, e in zip(rows["start_time"], rows["end_time"], strict=True)],
                     "time_backwards", summary="frequencies ending before they start",
                     examples=rows["trip_id"].tolist()[:3])

    def _check_transfers(self) -> None:
        """Transfers to stops, routes or trips the feed lacks are dropped with a warning.

        Regional extracts of national feeds keep transfers to stops outside the region; such
        transfers cannot be used, so they are counted, reported and removed.
        """
        file = "transfers.txt"
        before = len(self.tables[file])
        refs = [("from_stop_id", "stops.txt", "stop_id"), ("to_stop_id", "stops.txt", "stop_id"),
                ("from_route_id", "routes.txt", "route_id"),
                ("to_route_id", "routes.txt", "route_id"),
                ("from_trip_id", "trips.txt", "trip_id"), ("to_trip_id", "trips.txt", "trip_id")]
        for column, target, target_column in refs:
            if column in self.tables[file]:
                self._refs(file, column, target, target_column, severity="warning",
                           code="transfer_unknown_ref", suffix="; the transfer is dropped",
                           drop=True, summary="transfers to stops, routes or trips not in the "
                           "feed (dropped)")
        dropped = before - len(self.tables[file])
        if dropped:
            text = (f"dropped {dropped:,} of {before:,} transfers that refer to stops, routes or "
                    "trips not in the feed")
            self.report.notes.append(text)

    def _check_unused(self) -> None:
        """Warnings: stops, trips, services and routes that nothing uses or that never run."""
        stops, st = self.tables["stops.txt"], self.tables["stop_times.txt"]
        trips, routes = self.tables["trips.txt"], self.tables["routes.txt"]
        unused = ((stops["location_type"].to_numpy() == 0)
                  & ~_isin(stops["stop_id"], st["stop_id"])
                  & stops["stop_id"].notna().to_numpy(bool))
        self._warn_ids("stops.txt", stops, unused, "stop_id", "has no stop_times",
                       "stops_without_stop_times", "stops (location_type 0) without stop_times")
        no_times = ~_isin(trips["trip_id"], st["trip_id"]) & trips["trip_id"].notna().to_numpy(bool)
        self._warn_ids("trips.txt", trips, no_times, "trip_id", "has no stop_times",
                       "trips_without_stop_times", "trips without stop_times")
        no_trips = (~_isin(routes["route_id"], trips["route_id"])
                    & routes["route_id"].notna().to_numpy(bool))
        self._warn_ids("routes.txt", routes, no_trips, "route_id", "has no trips",
                       "routes_without_trips", "routes without trips")
        self.service = _service_days(self.tables["calendar.txt"],
                                     self.tables["calendar_dates.txt"])
        sd = self.service
        never = sd.ids[~np.asarray(sd.active.any(axis=1), dtype=bool)]
        known = _isin(trips["service_id"], sd.ids)
        idle = known & _isin(trips["service_id"], never)
        self._warn_ids("trips.txt", trips, idle, "service_id",
                       "never runs (calendar.txt and calendar_dates.txt give it no day)",
                       "service_never_runs", "trips whose service never runs")

    def _warn_ids(self, file: str, df: pd.DataFrame, mask: np.ndarray, column: str, text: str,
                  code: str, summary: str) -> None:
        if not mask.any():
            return
        vals = df[column].to_numpy(object)[mask]
        self.add("warning", file, df[_LINE].to_numpy()[mask], column,
                 [f"'{v}' {text}" for v in vals], code, summary=summary,
                 examples=pd.unique(vals)[:3])

    def _count(self) -> None:
        t = self.tables
        services = pd.concat([t["calendar.txt"]["service_id"],
                              t["calendar_dates.txt"]["service_id"]]).dropna()
        period = _period(self.service) if self.service is not None else None
        self.report.counts.update({
            "agencies": len(t["agency.txt"]),
            "stops": len(t["stops.txt"]),
            "routes": len(t["routes.txt"]),
            "trips": len(t["trips.txt"]),
            "stop_times": len(t["stop_times.txt"]),
            "services": int(services.nunique()),
            "service period": f"{period[0]} to {period[1]}" if period else "none",
            "interpolated times": self.interpolated,
        })

    # ---- the Feed ------------------------------------------------------------------------

    def feed(self) -> Feed:
        """Build the Feed with the final dtypes (call only when :attr:`fatal` is empty)."""
        tables = {f[:-4]: self._finalize(f) for f in GTFS_FILES}
        feed = Feed(source=str(self.path), files=self.files, report=self.report, **tables)
        if self.service is not None:
            feed.__dict__["_service_days"] = self.service  # prime the cached_property
        return feed

    def _finalize(self, file: str) -> pd.DataFrame:
        df = self.tables[file]
        data: dict[str, Any] = {}
        for col in _SCHEMA[file]:
            values = df[col.name]
            if col.kind == "str" or col.dtype in ("float64", "datetime64[s]"):
                data[col.name] = values.to_numpy() if col.kind != "str" else values.array
            elif col.nullable:
                data[col.name] = pd.array(values.to_numpy(np.float64), dtype=col.dtype)
            else:
                floats = values.to_numpy(np.float64)
                if np.isnan(floats).any():  # every such case is a fatal problem: a bug if not
                    raise InputError(f"has blank {col.name} values that could not be filled",
                                     path=file)
                data[col.name] = floats.astype(col.dtype)
        for name in self.extras[file]:
            data[name] = df[name].array
        return pd.DataFrame(data, index=pd.RangeIndex(len(df)))


class _NotUtf8(Exception):
    """The file is not valid UTF-8 (retried as Windows-1252)."""


_PROBLEM_LABELS = {
    "bad_time": "not a time",
    "bad_date": "not a date",
    "bad_number": "not a number",
    "out_of_range": "out of range",
}


def _empty_intermediate(col: _Col, n: int = 0) -> Any:
    if col.kind == "str":
        return pd.array([None] * n, dtype=_STRING)
    if col.kind == "date":
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    return np.full(n, np.nan if col.default is None else float(col.default))
