"""The GTFS schema the reader knows and the service x day matrix (shared by the reader parts).

Private to :mod:`kurszugang.io.gtfs`: the column table (``_SCHEMA``: how each standard column is
parsed, its final dtype, whether routing needs it), the limits of lenient reading, and
:class:`_ServiceBuilder`, which builds which service runs on which day from calendar.txt and
calendar_dates.txt in blocks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kurszugang.dates import parse_date

_REQUIRED_FILES = ("stops.txt", "routes.txt", "trips.txt", "stop_times.txt")

#: Largest share of a file's records that may be skipped as unusable for routing; above it the
#: feed is refused (:class:`FeedRefusedError`).
MAX_SKIPPED_SHARE = 0.05
#: Most stop_times a trip may have (real trips have a few hundred at most); the records of a
#: trip with more are skipped, which also bounds the memory of streaming a hostile file.
MAX_TRIP_STOP_TIMES = 20_000
#: Problems listed per file and kind; the rest are counted (``report.omitted``).
MAX_LISTED = 10_000

_STRING = pd.StringDtype("pyarrow")  # "string": values are str, missing is pd.NA
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY = np.timedelta64(1, "D")

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
    routing: bool = False  # routing uses the value: a record with a bad one is skipped

    @property
    def nullable(self) -> bool:
        nullable_int = isinstance(self.dtype, str) and self.dtype[0] == "I"  # Int8, Int32
        return self.kind in ("str", "float") or nullable_int

    @property
    def no_value(self) -> bool:
        """A blank field leaves nothing to store (the column cannot hold a missing value)."""
        return not self.nullable and self.default is None

    @property
    def blank_unusable(self) -> bool:
        """A record with this field blank cannot be used (a blank id, date, sequence, ...)."""
        return self.needed and (self.kind == "str" or self.no_value)

    @property
    def bad_unusable(self) -> bool:
        """A record with an unparsable or out-of-range value here cannot be used."""
        return self.routing or (self.needed and self.no_value)


def _id(name: str) -> _Col:
    return _Col(name, required=True, needed=True, routing=True)


def _flag(name: str, *, default: int | None = None, hi: int = 1, needed: bool = False,
          routing: bool = False) -> _Col:
    return _Col(name, "int", "int8", required=needed, needed=needed, default=default, lo=0, hi=hi,
                routing=routing)


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
        _Col("stop_lat", "float", "float64", required=True, lo=-90, hi=90, routing=True),
        _Col("stop_lon", "float", "float64", required=True, lo=-180, hi=180, routing=True),
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
        _Col("arrival_time", "time", "int32", required=True, routing=True),
        _Col("departure_time", "time", "int32", required=True, routing=True),
        _flag("pickup_type", default=0, hi=3, routing=True),
        _flag("drop_off_type", default=0, hi=3, routing=True),
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
# A stop is implausibly far from the feed's other stops beyond this many km, or beyond this
# many times the median distance of all stops from their median point (whichever is larger).
_FAR_MIN_KM = 500.0
_FAR_FACTOR = 10.0

_LINE = "_line"  # hidden column: the line of each record in its file (header = line 1)



@dataclass(frozen=True)
class _ServiceDays:
    """Which service runs on which day: a boolean matrix (services x days) from ``first``."""

    ids: pd.Index
    first: np.datetime64  # the day of column 0, unit "D"
    active: np.ndarray  # bool, shape (len(ids), number of days)

    def column(self, day: dt.date) -> int | None:
        i = int((np.datetime64(day, "D") - self.first) // _DAY)
        return i if 0 <= i < self.active.shape[1] else None


#: The columns of :attr:`Feed.skipped`.
SKIPPED_COLUMNS = ("file", "reason", "count", "records", "examples", "description")


def _no_skips() -> pd.DataFrame:
    return pd.DataFrame({
        "file": pd.array([], dtype=_STRING), "reason": pd.array([], dtype=_STRING),
        "count": np.zeros(0, np.int64), "records": np.zeros(0, np.int64),
        "examples": pd.array([], dtype=_STRING), "description": pd.array([], dtype=_STRING),
    })



def _pa(values: pd.Series | pd.Index) -> pa.Array:
    """A pandas string column as one Arrow string array."""
    arr = pa.array(values.array, type=pa.string(), from_pandas=True)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _lookup(keys: pd.Series, values: pd.Series) -> np.ndarray:
    """Position in ``keys`` of each value (its first occurrence), -1 where absent or missing."""
    index = pd.Index(keys)
    first = ~index.duplicated(keep="first")
    if first.all():
        return np.asarray(index.get_indexer(pd.Index(values)), dtype=np.int64)
    found = index[first].get_indexer(pd.Index(values))
    return np.where(found >= 0, np.flatnonzero(first)[found], -1).astype(np.int64)


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.date | str):
        return parse_date(value)
    raise TypeError(f"expected a datetime.date or a date as text, got {value!r}")


def _period(sd: _ServiceDays) -> tuple[dt.date, dt.date] | None:
    any_day = np.flatnonzero(sd.active.any(axis=0)) if sd.active.size else np.zeros(0, int)
    if not len(any_day):
        return None
    first = (sd.first + int(any_day[0]) * _DAY).astype(dt.date)
    last = (sd.first + int(any_day[-1]) * _DAY).astype(dt.date)
    return first, last


def _service_days(calendar: pd.DataFrame, calendar_dates: pd.DataFrame) -> _ServiceDays:
    """The service x day activity matrix of two tables (as in a Feed), vectorised."""
    builder = _ServiceBuilder()
    builder.add_calendar(calendar)
    builder.add_dates(calendar_dates)
    return builder.result()


class _ServiceBuilder:
    """The service x day matrix, built from calendar rows and calendar_dates rows in blocks.

    Rows and days grow as needed; calendar rows must come first (their weekday pattern is set,
    then every calendar_dates row adds or removes its day, the last one for a day winning).
    With ``window`` only the days inside it are kept (the extraction needs no more). With
    ``track_duplicates``, :meth:`add_dates` returns the rows that set a ``(service, day)`` cell
    set before by calendar_dates (for the duplicate warning).
    """

    def __init__(self, *, track_duplicates: bool = False,
                 window: tuple[np.datetime64, np.datetime64] | None = None) -> None:
        self.window = window
        self.keys = pa.array([], pa.string())
        self.n = 0
        self.first: np.datetime64 | None = None
        self.active = np.zeros((0, 0), dtype=bool)
        self.seen: np.ndarray | None = np.zeros((0, 0), bool) if track_duplicates else None
        self.index: _KeyIndex | None = None  # of the keys, rebuilt when keys are added

    def _rows(self, service: pa.Array) -> np.ndarray:
        """Row of each service id, adding unknown ones (null ids give -1)."""
        distinct, idx = _encoded(service)
        rows = self.distinct_rows(distinct)
        return np.append(rows, -1)[idx]

    def distinct_rows(self, service: pa.Array) -> np.ndarray:
        """Row of each of some service ids (not null), adding unknown ones."""
        if self.index is None:
            self.index = _KeyIndex(self.keys, unique=True)
        pos = self.index.positions(service)
        new = pc.unique(service.filter(pa.array(pos < 0)))
        if len(new):
            self.keys = pa.concat_arrays([self.keys, new.cast(pa.string())])
            self.n = len(self.keys)
            self.index = _KeyIndex(self.keys, unique=True)
            if self.n > self.active.shape[0]:
                grow = max(self.n, 2 * self.active.shape[0], 64) - self.active.shape[0]
                self.active = np.pad(self.active, ((0, grow), (0, 0)))
                if self.seen is not None:
                    self.seen = np.pad(self.seen, ((0, grow), (0, 0)))
            pos = self.index.positions(service)
        return pos

    def _days(self, lo: np.datetime64, hi: np.datetime64) -> None:
        """Make room for the days ``lo`` to ``hi`` (inside the window)."""
        if self.window is not None:
            lo, hi = max(lo, self.window[0]), min(hi, self.window[1])
            if lo > hi:
                return
        if self.first is None:
            self.first = lo
        n_days = self.active.shape[1]
        last = self.first + (n_days - 1) * _DAY if n_days else lo
        before = max(int((self.first - lo) // _DAY), 0)
        after = max(int((hi - last) // _DAY), 0) if n_days else int((hi - lo) // _DAY) + 1
        if before or after:
            self.active = np.pad(self.active, ((0, 0), (before, after)))
            if self.seen is not None:
                self.seen = np.pad(self.seen, ((0, 0), (before, after)))
            self.first = self.first - before * _DAY

    def add_calendar(self, cal: pd.DataFrame, chunk: int = 20_000) -> None:
        """calendar rows: ``service_id``, the weekday flags, ``start_date``, ``end_date``."""
        ok = (cal["service_id"].notna().to_numpy(bool) & cal["start_date"].notna().to_numpy(bool)
              & cal["end_date"].notna().to_numpy(bool))
        cal = cal[ok]
        if not len(cal):
            return
        rows = self._rows(_pa(cal["service_id"]))
        starts = cal["start_date"].to_numpy().astype("datetime64[D]")
        ends = cal["end_date"].to_numpy().astype("datetime64[D]")
        self._days(starts.min(), ends.max())
        if self.first is None or not self.active.shape[1]:
            return
        days = self.first + np.arange(self.active.shape[1]) * _DAY
        weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        flags = np.column_stack([cal[d].to_numpy(np.float64) for d in _WEEKDAYS]) == 1
        for i in range(0, len(cal), chunk):  # bounded temporary (rows x days)
            s = slice(i, i + chunk)
            in_range = ((days[None, :] >= starts[s, None]) & (days[None, :] <= ends[s, None]))
            self.active[rows[s]] = flags[s][:, weekday] & in_range

    def add_dates(self, cd: pd.DataFrame) -> np.ndarray:
        """calendar_dates rows: ``service_id``, ``date``, ``exception_type`` (1 or 2).

        Returns the positions (in ``cd``) of rows repeating an earlier row's service and day
        (only with ``track_duplicates``; else empty).
        """
        none = np.zeros(0, np.int64)
        exc = cd["exception_type"].to_numpy(np.float64)
        ok = (cd["service_id"].notna().to_numpy(bool) & cd["date"].notna().to_numpy(bool)
              & ((exc == 1) | (exc == 2)))
        idx = np.flatnonzero(ok)
        if not len(idx):
            return none
        rows = self._rows(_pa(cd["service_id"]))[idx]
        dates = cd["date"].to_numpy().astype("datetime64[D]")[idx]
        return self.set_days(rows, dates, exc[idx] == 1, idx)

    def set_days(self, rows: np.ndarray, dates: np.ndarray, added: np.ndarray,
                 idx: np.ndarray | None = None) -> np.ndarray:
        """Add (``added``) or remove single days of services given by their rows.

        Returns ``idx`` (default: the positions) of the rows repeating an earlier cell.
        """
        none = np.zeros(0, np.int64)
        if not len(rows):
            return none
        idx = np.arange(len(rows)) if idx is None else idx
        self._days(dates.min(), dates.max())
        if self.first is None:
            return none
        cols = ((dates - self.first) // _DAY).astype(np.int64)
        inside = (cols >= 0) & (cols < self.active.shape[1])
        rows, cols, idx = rows[inside], cols[inside], idx[inside]
        if self.seen is not None:
            cell = rows * self.active.shape[1] + cols
            order = np.argsort(cell, kind="stable")
            again = np.zeros(len(cell), bool)
            again[order[1:]] = cell[order[1:]] == cell[order[:-1]]
            again |= self.seen[rows, cols]
            self.seen[rows, cols] = True
            none = idx[again]
        self.active[rows, cols] = added[inside]
        return none

    def result(self) -> _ServiceDays:
        ids = pd.Index(np.asarray(self.keys.to_pylist(), dtype=object), dtype=object)
        first = self.first if self.first is not None else np.datetime64("1970-01-01", "D")
        return _ServiceDays(ids, first, self.active[: self.n])

    def running(self, lo: np.datetime64, hi: np.datetime64) -> pa.Array:
        """The service ids that run on at least one day from ``lo`` to ``hi``."""
        if self.first is None or not self.n:
            return pa.array([], pa.string())
        a = max(int((lo - self.first) // _DAY), 0)
        b = min(int((hi - self.first) // _DAY) + 1, self.active.shape[1])
        if a >= b:
            return pa.array([], pa.string())
        runs = self.active[: self.n, a:b].any(axis=1)
        return self.keys.filter(pa.array(runs))


# --------------------------------------------------------------------------------------------
# Helpers
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


_PROBLEM_LABELS = {
    "bad_time": "keine Uhrzeit",
    "bad_date": "kein Datum",
    "bad_number": "keine Zahl",
    "out_of_range": "außerhalb des Wertebereichs",
}


def _empty_intermediate(col: _Col, n: int = 0) -> Any:
    if col.kind == "str":
        return pd.array([None] * n, dtype=_STRING)
    if col.kind == "date":
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    return np.full(n, np.nan if col.default is None else float(col.default))


def _parse_times(arr: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Seconds of ``H:MM:SS`` texts (NaN elsewhere) and where the text is such a time."""
    ok = pc.fill_null(pc.match_substring_regex(arr, _TIME_RE), False)
    okn = np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool)
    values = np.full(len(arr), np.nan)
    if okn.any():
        parts = pc.extract_regex(pc.if_else(ok, arr, pa.scalar(None, pa.string())), _TIME_RE)
        h, m, s = (
            pc.cast(pc.struct_field(parts, g), pa.int64()).to_numpy(zero_copy_only=False)
            .astype(np.float64)
            for g in ("h", "m", "s")
        )
        values = np.where(okn, h * 3600 + m * 60 + s, np.nan)
    return values, okn


def _keys(values: pd.Series) -> pa.Array:
    """Distinct non-missing ids of a column (first occurrences), for Arrow lookups."""
    return pc.drop_null(pc.unique(_pa(values)))


def _encoded(values: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """The distinct values of a column and each row's position among them (-1 for null)."""
    flat = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    enc = pc.dictionary_encode(flat)
    idx = np.asarray(pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False),
                     dtype=np.int64)
    return enc.dictionary, idx


_HASH_MULT = np.uint64(0x100000001B3)  # FNV prime: the base of a polynomial hash
_HASH_CHUNK = 1 << 16


def _hash_strings(arr: pa.Array) -> np.ndarray:
    """A 64-bit hash of each string, computed with numpy on the Arrow buffers (no Python
    object per string): the polynomial of its bytes, mixed with its length."""
    arr = arr.cast(pa.large_string())
    out = np.zeros(len(arr), dtype=np.uint64)
    powers = np.ones(1, dtype=np.uint64)
    for a in range(0, len(arr), _HASH_CHUNK):
        part = arr.slice(a, _HASH_CHUNK)
        n = len(part)
        offsets = np.frombuffer(part.buffers()[1], dtype=np.int64)[part.offset:part.offset + n + 1]
        data = part.buffers()[2]
        lo, hi = int(offsets[0]), int(offsets[-1])
        lengths = np.diff(offsets)
        if hi > lo:
            b = np.frombuffer(data, dtype=np.uint8)[lo:hi].astype(np.uint64) + np.uint64(1)
            owner = np.repeat(np.arange(n), lengths)
            pos = np.arange(hi - lo) - (offsets[:-1] - lo)[owner]
            longest = int(lengths.max())
            if len(powers) < longest:
                powers = np.cumprod(np.r_[np.uint64(1), np.full(longest - 1, _HASH_MULT)],
                                    dtype=np.uint64)
            with np.errstate(over="ignore"):
                prod = b * powers[pos]
                nonempty = lengths > 0
                sums = np.add.reduceat(prod, (offsets[:-1] - lo)[nonempty])
            out[a:a + n][nonempty] = sums
        with np.errstate(over="ignore"):
            out[a:a + n] ^= lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    return out


class _KeyIndex:
    """Where ids of a column are (their first occurrence), looked up block after block.

    Arrow's ``index_in`` would hash the ids again for every block, and a pandas index makes a
    Python object of each. Here the distinct ids are hashed once with numpy and sorted; a block
    is looked up by its distinct values (a block of stop_times holds a few thousand distinct trip
    ids) with a binary search, and every match is confirmed by comparing the strings, so the
    answer is exact. (Two ids with the same hash make the index fall back to pandas.)
    """

    def __init__(self, values: pd.Series | pd.Index | pa.Array, *, unique: bool = False) -> None:
        arr = values if isinstance(values, pa.Array) else _pa(values)
        if unique:  # distinct and without nulls already
            keys, self.first = arr, np.arange(len(arr), dtype=np.int64)
        else:
            keys, idx = _encoded(arr)
            self.first = np.full(len(keys), -1, dtype=np.int64)
            valid = idx >= 0
            self.first[idx[valid][::-1]] = np.flatnonzero(valid)[::-1]  # first one wins
        self.first = np.append(self.first, -1)  # a lookup's -1 (absent) picks the -1 at the end
        self.keys = keys.cast(pa.string())
        hashes = _hash_strings(self.keys)
        self.order = np.argsort(hashes)
        self.sorted = hashes[self.order]
        self.fallback: pd.Index | None = None
        if len(self.sorted) > 1 and (self.sorted[1:] == self.sorted[:-1]).any():
            self.fallback = pd.Index(np.asarray(self.keys.to_numpy(zero_copy_only=False),
                                                dtype=object), dtype=object)

    def __len__(self) -> int:
        return len(self.first) - 1

    def _find(self, distinct: pa.Array) -> np.ndarray:
        """Position in ``keys`` of each distinct value (-1 where absent)."""
        if self.fallback is not None:
            return np.asarray(self.fallback.get_indexer(pd.Index(
                np.asarray(distinct.to_numpy(zero_copy_only=False), dtype=object))))
        if not len(self.sorted) or not len(distinct):
            return np.full(len(distinct), -1, dtype=np.int64)
        h = _hash_strings(distinct.cast(pa.string()))
        j = np.minimum(np.searchsorted(self.sorted, h), len(self.sorted) - 1)
        cand = self.order[j]
        same = self.sorted[j] == h
        same &= np.asarray(pc.fill_null(pc.equal(self.keys.take(pa.array(cand)),
                                                 distinct.cast(pa.string())), False)
                           .to_numpy(zero_copy_only=False), dtype=bool)
        return np.where(same, cand, -1)

    def positions(self, values: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """The position (in the indexed column) of each value, -1 where absent or null."""
        distinct, idx = _encoded(values)
        found = self.first[self._find(distinct)]
        return np.append(found, -1)[idx]

    def contains(self, values: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Whether each value is one of the ids."""
        return self.positions(values) >= 0


def _split_last_trip(table: pa.Table) -> tuple[pa.Table, pa.Table]:
    """The rows before the last trip's run of rows at the end of a block, and that run (the
    trip may go on in the next block). Both are slices (no copy). If the last trip also has
    rows earlier in the block, the file is not grouped by trip: the readers find that out by
    seeing the trip in two blocks."""
    trip = table.column("trip_id")
    last = trip[-1]
    same = pc.is_null(trip) if not last.is_valid else pc.fill_null(pc.equal(trip, last), False)
    other = np.flatnonzero(~np.asarray(same.to_numpy(zero_copy_only=False), dtype=bool))
    cut = int(other[-1]) + 1 if len(other) else 0
    return table.slice(0, cut), table.slice(cut)


def _timed_neighbours(timed: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of the previous and the next timed row of the same trip (-1 where none)."""
    n = len(timed)
    pos = np.arange(n)
    prev = np.maximum.accumulate(np.where(timed, pos, -1)) if n else pos
    nxt = np.minimum.accumulate(np.where(timed, pos, n)[::-1])[::-1] if n else pos
    prev_ok = (prev >= 0) & (codes[np.clip(prev, 0, None)] == codes)
    nxt_ok = (nxt < n) & (codes[np.clip(nxt, None, max(n - 1, 0))] == codes)
    return np.where(prev_ok, prev, -1), np.where(nxt_ok, nxt, -1)


def _untimed_message(j: int, first: np.ndarray, last: np.ndarray, prev: np.ndarray,
                     trip_ids: np.ndarray) -> str:
    if first[j] or last[j]:
        where = f"at the {'first' if first[j] else 'last'} stop"
    else:
        where = "before the first timed stop" if prev[j] < 0 else "after the last timed stop"
    return (f"and departure_time are empty {where} of trip '{trip_ids[j]}' (the first and last "
            "stop need times)")


def _interpolate(
    st: pd.DataFrame, codes: np.ndarray, arr: np.ndarray, dep: np.ndarray, timed: np.ndarray,
    need: np.ndarray, prev: np.ndarray, nxt: np.ndarray,
) -> np.ndarray:
    """Fill blank intermediate times linearly between the surrounding timed stops (in place).

    The position along the trip is ``shape_dist_traveled`` where every row of the trip has
    one (and it grows between the two timed stops), else the row's position in the trip.
    """
    n = len(arr)
    done = np.zeros(n, dtype=bool)
    idx = np.flatnonzero(need & (prev >= 0) & (nxt >= 0))
    if not len(idx):
        return done
    p, q = prev[idx], nxt[idx]
    pos = np.arange(n)
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
