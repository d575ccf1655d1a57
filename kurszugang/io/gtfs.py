"""Read and validate GTFS timetables (a .zip or a folder) into a :class:`Feed` of typed tables.

The reader is columnar: every file is parsed by ``pyarrow.csv`` with all columns as text, in
blocks, then converted column by column with vectorised ``pyarrow.compute`` and numpy
operations; no Python loop runs per record (only per *problem* listed, to write the report).
stop_times.txt (and calendar_dates.txt, and with ``dates=`` trips.txt and shapes.txt) are
streamed in blocks of whole trips, so :func:`validate_gtfs` needs memory for one block, not for
the file. The Zug feed (198,554 stop_times, 284,499 calendar_dates) reads in under a second.

What is tolerated, skipped or refused and which dtypes the tables have is documented in
``docs/gtfs.md``. In short:

- tolerated: a byte-order mark, surrounding spaces, quoted fields, Windows line ends, UTF-16 and
  Windows-1252 files (with a warning naming the encoding), junk zip entries (``__MACOSX/``,
  ``._stops.txt``) and the files inside one subfolder of the zip; absent optional files (each an
  empty table with the standard columns), but not both calendar.txt and calendar_dates.txt;
  times past 24:00 and one-digit hours; blank intermediate times (interpolated, counted);
- warnings (the record is kept): references routing does not use that point at nothing
  (``routes.agency_id``, ``parent_station``, transfers), implausible stop coordinates, files
  the reader does not use;
- skipped (counted per file and reason in :attr:`Feed.skipped` and the report): records routing
  cannot use, e.g. a stop_times row for a missing trip or stop or with an unparsable time, a trip
  with a missing route or service. A feed whose files lose more than :data:`MAX_SKIPPED_SHARE`
  of their records is refused. ``strict=True`` turns all of these into errors (for feed authors).

Times are integer seconds after midnight of the service day (values past 86,400 allowed); dates
are ``datetime64[s]`` at midnight; ids and texts are pandas ``string`` columns with ``pd.NA`` for
missing values, so ``"007"`` stays ``"007"``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from kurszugang._arrow import isin as _isin
from kurszugang.dates import parse_date
from kurszugang.errors import (
    DataValidationError,
    InputError,
    InputFormatError,
    Problem,
    ServiceDateError,
)
from kurszugang.io._feedfiles import GTFS_FILES
from kurszugang.io._gtfs_loader import _Loader
from kurszugang.io._gtfs_tables import (
    _DAY,
    MAX_LISTED,
    MAX_SKIPPED_SHARE,
    MAX_TRIP_STOP_TIMES,
    SKIPPED_COLUMNS,
    _as_date,
    _lookup,
    _no_skips,
    _period,
    _service_days,
    _ServiceDays,
)
from kurszugang.io._report import ValidationReport, german_number
from kurszugang.words import plural

__all__ = [
    "Feed",
    "FeedRefusedError",
    "GTFS_FILES",
    "MAX_LISTED",
    "MAX_SKIPPED_SHARE",
    "MAX_TRIP_STOP_TIMES",
    "ON_DEMAND_ROUTE_TYPES",
    "SKIPPED_COLUMNS",
    "read_gtfs",
    "validate_gtfs",
]

logger = logging.getLogger(__name__)

#: Route types that mark a route as on demand: 715 (HVT "Demand and Response Bus Service") and
#: 1500-1507 (HVT taxi services).
ON_DEMAND_ROUTE_TYPES = frozenset({715, *range(1500, 1508)})
# Words in route names that mark an on-demand route (RE2 syntax, matched case-insensitively).
_ON_DEMAND_WORDS = r"\b(?:rufbus|anrufsammeltaxi|ast|ruftaxi|on-demand)\b"


# --------------------------------------------------------------------------------------------
# The Feed
# --------------------------------------------------------------------------------------------


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
    dates
        The service dates the feed was read for (``read_gtfs(..., dates=...)``), sorted; None
        when the whole feed was read. Then ``trips``, ``stop_times``, ``frequencies`` and
        ``shapes`` hold what runs on these dates and on the day before each (for trips past
        midnight), ``calendar`` and ``calendar_dates`` the rows of those services on those
        days; :meth:`active_service_ids` and :meth:`trips_on` refuse other dates, while
        :meth:`service_period` and :meth:`service_counts` still describe the whole feed.
    skipped
        The records left out because routing cannot use them, one row per file and reason:
        ``file``, ``reason`` (the problem code, e.g. ``"missing_trip"``), ``count`` (records
        skipped), ``records`` (records of the file read), ``examples`` (the first few ids or
        lines), ``description`` (in words). Empty when nothing was skipped (and always with
        ``strict=True`` or ``strict=False``, which skip nothing).
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
    dates: tuple[dt.date, ...] | None = None
    skipped: pd.DataFrame = field(default_factory=_no_skips)

    def __repr__(self) -> str:
        name = Path(self.source).name or self.source
        on = f" on {', '.join(d.isoformat() for d in self.dates)}" if self.dates else ""
        return (
            f"Feed({name!r}{on}: {len(self.stops):,} stops, {len(self.routes):,} routes, "
            f"{len(self.trips):,} trips, {len(self.stop_times):,} stop_times)"
        )

    @cached_property
    def _service_days(self) -> _ServiceDays:
        return _service_days(self.calendar, self.calendar_dates)

    @cached_property
    def _trips_per_service(self) -> pd.Series:
        """Trips per service id (int64), for :meth:`service_counts`."""
        counts = self.trips["service_id"].dropna().value_counts()
        return pd.Series(counts.to_numpy(np.int64), index=pd.Index(counts.index, dtype=object))

    def _check_day(self, day: dt.date) -> None:
        """Refuse a day whose trips were not read (a feed read for some dates only)."""
        if self.dates is None:
            return
        read = set(self.dates) | {d - dt.timedelta(days=1) for d in self.dates}
        if day not in read:
            shown = ", ".join(d.isoformat() for d in self.dates)
            raise InputError(
                f"wurde nur für {shown} gelesen (read_gtfs(..., dates=...)), daher sind seine "
                f"Fahrten am {day.isoformat()} nicht bekannt (der Fahrplan eines Tages braucht "
                "auch den Vortag, für Fahrten nach Mitternacht); mit dem gebrauchten Tag unter "
                "den dates lesen",
                path=Path(self.source))

    def active_service_ids(self, date: dt.date | str) -> frozenset[str]:
        """The service ids that run on a date.

        GTFS semantics: a calendar.txt service runs on the days whose weekday flag is 1 within
        ``[start_date, end_date]``; then calendar_dates.txt adds (exception_type 1) or removes
        (exception_type 2) single dates.

        Parameters
        ----------
        date
            The service day (a ``datetime.date`` or text such as ``"2021-03-02"`` or
            ``"02.03.2021"``).

        Returns
        -------
        frozenset of str
            Empty when nothing runs (also for dates outside the feed's range).

        Raises
        ------
        InputError
            If the feed was read for other dates (``dates=``): its trips on this day are not
            known (the dates read and the day before each are).

        Examples
        --------
        >>> feed = read_gtfs(demo.gtfs)
        >>> sorted(feed.active_service_ids(dt.date(2026, 3, 10)))  # a school day
        ['MOFR', 'SCHULE']
        >>> sorted(feed.active_service_ids("11.08.2026"))  # in the Sommerferien
        ['MOFR']
        >>> feed.active_service_ids(dt.date(2030, 1, 1))  # after the timetable year
        frozenset()
        """
        day = _as_date(date)
        self._check_day(day)
        sd = self._service_days
        col = sd.column(day)
        if col is None:
            return frozenset()
        return frozenset(sd.ids[sd.active[:, col]].tolist())

    def trips_on(self, date: dt.date | str) -> pd.DataFrame:
        """The rows of ``trips`` whose service runs on a date.

        Parameters
        ----------
        date
            The service day (a ``datetime.date`` or text such as ``"2021-03-02"``).

        Returns
        -------
        pandas.DataFrame
            A subset of :attr:`trips` with its columns and its index labels (so ``.loc`` on
            ``feed.trips`` works with them).

        Raises
        ------
        InputError
            If the feed was read for other dates (see :meth:`active_service_ids`).

        Examples
        --------
        >>> len(feed.trips_on(SCHOOL_DAY)), len(feed.trips_on(HOLIDAY))
        (173, 158)
        """
        active = self.active_service_ids(date)
        return self.trips[_isin(self.trips["service_id"], sorted(active))]

    def service_period(self) -> tuple[dt.date, dt.date]:
        """The first and the last date on which any service runs.

        Computed from the calendar ranges (with their weekday flags) and the dates added or
        removed in calendar_dates.txt (of the whole feed, also when it was read for some dates).

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
        >>> read_gtfs(demo.gtfs).service_period()
        (datetime.date(2025, 12, 14), datetime.date(2026, 12, 12))
        """
        period = _period(self._service_days)
        if period is None:
            raise ServiceDateError(
                "hat keinen Verkehrstag (calendar.txt und calendar_dates.txt aktivieren "
                "nichts)",
                path=self.source,
            )
        return period

    def service_counts(
        self, start: dt.date | str | None = None, end: dt.date | str | None = None
    ) -> pd.Series:
        """The number of trips that run on each date.

        Also for a feed read for some dates only: the trips of every service are counted while
        trips.txt is read.

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
        >>> counts = feed.service_counts("2026-03-09", "2026-03-15")
        >>> counts
        date
        2026-03-09    173
        2026-03-10    173
        2026-03-11    173
        2026-03-12    173
        2026-03-13    173
        2026-03-14     60
        2026-03-15     35
        Name: trips, dtype: int64
        """
        sd = self._service_days
        if start is None or end is None:
            period = _period(sd)
            first, last = period if period is not None else (dt.date(1970, 1, 1),) * 2
            start = first if start is None else start
            end = last if end is None else end
        d0 = np.datetime64(_as_date(start), "D")
        d1 = np.datetime64(_as_date(end), "D")
        days = np.arange(d0, d1 + _DAY, dtype="datetime64[D]")
        per_service = self._trips_per_service.reindex(sd.ids, fill_value=0).to_numpy(np.int64)
        col = ((days - sd.first) // _DAY).astype(np.int64)
        inside = (col >= 0) & (col < sd.active.shape[1])
        counts = np.zeros(len(days), dtype=np.int64)
        if inside.any() and len(sd.ids):
            counts[inside] = per_service @ sd.active[:, col[inside]].astype(np.int64)
        index = pd.DatetimeIndex(days.astype("datetime64[s]"), name="date")
        return pd.Series(counts, index=index, name="trips")

    def on_demand_route_ids(self) -> frozenset[str]:
        """The routes that are on demand (Rufbus, Anrufsammeltaxi) by the documented convention.

        A route is on demand when any of these holds:

        - its ``route_type`` is 715 (HVT "Demand and Response Bus Service") or 1500-1507 (HVT
          taxi services);
        - at every stop_time of its trips where boarding is possible (``pickup_type`` not 1),
          ``pickup_type`` is 2 ("phone agency"), and there is at least one such stop_time (in
          a feed read for some dates: of the trips read);
        - its ``route_short_name``, ``route_long_name`` or ``route_desc`` contains one of the
          words "Rufbus", "Anrufsammeltaxi", "AST", "Ruftaxi", "On-Demand" (whole word, any
          case: "Rufbus 5" and "AST-Linie" match, "Rufbuslinie" and "Gast" do not).

        Returns
        -------
        frozenset of str
            The route ids.

        Examples
        --------
        >>> feed.on_demand_route_ids()  # the Rufbus, line 490
        frozenset({'490'})
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


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------


class FeedRefusedError(DataValidationError):
    """A feed refused because too many of its records cannot be used for routing.

    Attributes
    ----------
    problems
        The skipped records' problems (as errors), in file order.
    reasons
        One sentence per file that lost more than :data:`MAX_SKIPPED_SHARE` of its records.
    """

    def __init__(self, problems: Sequence[Problem], *, path: str | Path,
                 reasons: Sequence[str]) -> None:
        super().__init__(problems, path=path)
        self.reasons = list(reasons)
        text = f"{Path(path).name}: nicht gelesen: {'; '.join(self.reasons)}\n{self.message}"
        InputError.__init__(self, text)
        self.problems = list(problems)
        self.path = path
        self.message = text


def _read_days(dates: Iterable[dt.date | str] | dt.date | str | None) -> tuple[dt.date, ...] | None:
    """The ``dates`` argument of :func:`read_gtfs` as sorted distinct dates (None for all)."""
    if dates is None:
        return None
    values = [dates] if isinstance(dates, dt.date | str) else list(dates)
    days = set()
    for value in values:
        try:
            days.add(parse_date(value))
        except ValueError as exc:
            raise InputError(f"dates: {exc}") from None
    if not days:
        raise InputError("dates ist leer: mindestens einen Verkehrstag angeben, z. B. "
                         "dates=['2026-03-10']")
    return tuple(sorted(days))


def read_gtfs(
    path: str | Path,
    *,
    strict: bool | None = None,
    dates: Iterable[dt.date | str] | dt.date | str | None = None,
    cache: bool | None = None,
) -> Feed:
    """Read a GTFS feed (a .zip or a folder) into a :class:`Feed` of typed tables.

    Parameters
    ----------
    path
        A GTFS .zip archive or a folder with the .txt files (also accepted: the files inside one
        subfolder of the zip or folder).
    strict
        None (default): what routing cannot use is skipped: records (a stop_times row for a
        missing trip or stop or with an unparsable time, a trip with a missing route or
        service, ...) are left out, counted per file and reason in ``feed.skipped`` and listed
        in ``feed.report``; references routing does not use (``routes.agency_id``, parent
        stations, transfers pointing at nothing) and implausible stop coordinates are warnings.
        A feed is refused (:class:`FeedRefusedError`) when a file loses more than
        :data:`MAX_SKIPPED_SHARE` of its records. True: any error raises (for feed authors).
        False: every record is kept and errors are only reported, unless an error makes a table
        unusable (a required file or column missing, an unparsable time or date, a blank or bad
        value where the column cannot hold a missing value).
    dates
        Read only what these service dates need (a date, text such as ``"2026-03-10"``, or a
        list of them): the services active on each date and on the day before it (for trips
        past midnight) are found first, then trips.txt and stop_times.txt are streamed in
        blocks keeping only those services' trips, so memory follows the dates' stop_times, not
        the feed's. Only the standard columns of trips and stop_times are read, and only the
        records kept are checked (run :func:`validate_gtfs` for the whole feed). The
        :class:`Feed` refuses other dates (see :attr:`Feed.dates`).
    cache
        Keep the parsed feed in the cache folder (:func:`kurszugang.io.feed_cache.cache_dir`)
        and read it from there next time, keyed by the checksum of the feed, the reader's
        version, ``strict`` and ``dates``. None (default): for feeds whose stop_times.txt has
        at least :data:`kurszugang.io.feed_cache.CACHE_MIN_BYTES` (and not when the environment
        variable ``KURSZUGANG_CACHE`` is ``0``); True: always; False: never.

    Returns
    -------
    Feed
        The tables, the list of files, the skipped records and the validation report. Warnings
        are logged (one line per kind, with the count and example ids) and kept in
        ``feed.report``.

    Raises
    ------
    InputFormatError
        If ``path`` does not exist or is neither a zip archive nor a folder, the zip is
        unreadable or a member is beyond the zip limits (``docs/gtfs.md``).
    FeedRefusedError
        If too many records had to be skipped (default ``strict``).
    DataValidationError
        If the feed has errors (``strict=True``) or unusable tables; its message lists the
        first problems, e.g. ``"stop_times.txt line 5: trip_id 'T9' is not in trips.txt"``.
    InputError
        If a date in ``dates`` is not a date.

    Examples
    --------
    >>> feed = read_gtfs(demo.gtfs)
    >>> feed.stop_times[["trip_id", "stop_id", "arrival_time"]].head(1)
                    trip_id        stop_id  arrival_time
    0  401-0-full-MOFR-0608  de:09999:1002         22080
    >>> day = read_gtfs(demo.gtfs, dates=["2026-03-10"])
    >>> len(day.trips), len(feed.trips)
    (173, 268)
    >>> zug = read_gtfs(ZUG_FEED, dates=["2021-03-02"])  # a real feed
    >>> len(zug.trips_on("2021-03-02"))
    3569
    """
    from kurszugang.io import feed_cache

    started = time.perf_counter()
    days = _read_days(dates)
    entry = feed_cache.entry_for(path, strict=strict, dates=days, enabled=cache)
    if entry is not None:
        cached = entry.load()
        if cached is not None:
            logger.info("GTFS-Fahrplan %s in %s s aus dem Zwischenspeicher gelesen (%s)",
                        Path(path).name, german_number(round(time.perf_counter() - started, 2)),
                        entry.folder)
            return cached
    loader = _Loader(path, lenient=strict is None, build=True, dates=days)
    loader.run()
    report = loader.report
    loader.log_summaries()
    if strict and report.errors:
        raise DataValidationError(report.errors, path=path)
    if loader.refusal:
        raise FeedRefusedError(loader.fatal, path=path, reasons=loader.refusal)
    if loader.fatal:
        raise DataValidationError(loader.fatal, path=path)
    feed = Feed(**loader.feed_parts())
    if loader.service is not None:
        feed.__dict__["_service_days"] = loader.service  # prime the cached_property
    if loader.trip_counts is not None:
        feed.__dict__["_trips_per_service"] = loader.trip_counts
    if entry is not None:
        entry.save(feed, loader.summary_lines())
    logger.info(
        "GTFS-Fahrplan %s%s in %s s gelesen: %s stops, %s routes, %s trips, %s stop_times",
        Path(path).name, f" für {plural(len(days), 'Tag', 'Tage')}" if days else "",
        german_number(round(time.perf_counter() - started, 2)), german_number(len(feed.stops)),
        german_number(len(feed.routes)), german_number(len(feed.trips)),
        german_number(len(feed.stop_times)),
    )
    return feed


def validate_gtfs(path: str | Path, *, strict: bool = False) -> ValidationReport:
    """Check a GTFS feed and report every problem, without raising for bad data.

    stop_times.txt and calendar_dates.txt are streamed in blocks (only the standard columns),
    so memory stays bounded on any input; a zip member beyond the zip limits is refused before
    it is read.

    Parameters
    ----------
    path
        A GTFS .zip archive or a folder.
    strict
        False (default): the problems as :func:`read_gtfs` sees them: records routing cannot
        use are warnings (they would be skipped), and errors only where the feed would be
        refused or cannot be read. True: every problem a feed author should fix is an error
        (also references routing does not use, such as ``routes.agency_id``).

    Returns
    -------
    ValidationReport
        Kind ``"GTFS feed"``: counts (agencies, stops, routes, trips, stop_times, services,
        service period, interpolated times), errors and warnings naming file, line and field,
        notes (what was skipped, repaired or refused). A path that is not a feed at all gives a
        report with one error.

    Raises
    ------
    None
        Bad data never raises: every problem, also an unreadable path, is in the report.

    Examples
    --------
    >>> print(validate_gtfs(demo.gtfs).format())
    GTFS-Fahrplan: gtfs_beispiel.zip
      Verkehrsunternehmen: 3
      Haltestellen: 41
      Linien: 9
      Fahrten: 268
      Halte (stop_times): 1.611
      Verkehrstage-Kalender: 4
      Fahrplanzeitraum: 2025-12-14 bis 2026-12-12
      interpolierte Zeiten: 0
      0 Fehler
      0 Warnungen
    """
    loader = _Loader(path, lenient=not strict, build=False)
    try:
        loader.run()
    except InputFormatError as exc:
        report = ValidationReport(source=str(path), kind="GTFS feed")
        report.error(Path(path).name, None, None, exc.message, "not_a_feed")
        return report
    return loader.report
