"""Cut a district plus a buffer (and a date range) out of a national-size GTFS feed.

A national feed (DELFI: stop_times.txt about 2.6 GB) does not fit the in-memory reader
:func:`kurszugang.io.gtfs.read_gtfs` on an office PC, and a district's analysis needs only the
trips near it. :func:`extract_feed` writes a smaller, valid feed without ever holding
stop_times.txt in memory:

1. stops.txt: the stops inside the area after buffering it (in metres, EPSG:25832);
2. trips.txt, calendar.txt, calendar_dates.txt: with a date range, the trips whose service runs
   on at least one day of it;
3. stop_times.txt, first pass (two columns, in blocks): the trips that stop inside the area;
4. stop_times.txt, second pass (in blocks): every row of those trips, also their stops outside
   the area, written straight into the output zip;
5. the rest follows the kept trips: their stops (and parent stations, and the entrances of those
   stations), routes, agencies, services (calendar clipped to the date range), shapes,
   frequencies; transfers between kept stops; feed_info.txt as it is.

Memory grows with the number of stops and trips (and the kept shape points), not with the number
of stop_times. Ids and all other values are written unchanged, columns in their original order;
the output is UTF-8 (a Windows-1252 input is converted, with a warning) with every text field
quoted. Files other than the standard ones (fares, pathways, translations, ...) are not copied:
the summary and a log line name them.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import math
import os
import re
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import shapely
from pyproj import Transformer

from kurszugang.errors import InputError, InputFormatError
from kurszugang.io._feedfiles import GTFS_FILES, FeedFiles

__all__ = ["ExtractSummary", "extract_feed", "parse_bbox", "read_area"]

logger = logging.getLogger(__name__)

#: The CRS of areas and buffers.
AREA_CRS = "EPSG:25832"

_TO_UTM = Transformer.from_crs("EPSG:4326", AREA_CRS, always_xy=True)
_BLOCK_BYTES = 4 << 20  # bytes of CSV parsed per block of stop_times.txt and shapes.txt
_REQUIRED = ("stops.txt", "routes.txt", "trips.txt", "stop_times.txt")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_FLOAT_RE = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?$"
_DATE_RE = r"^\d{8}$"
_TRANSFER_REFS = (("from_stop_id", "stop"), ("to_stop_id", "stop"),
                  ("from_route_id", "route"), ("to_route_id", "route"),
                  ("from_trip_id", "trip"), ("to_trip_id", "trip"))
_BBOX_EXAMPLE = "8.45,47.12,8.56,47.21"


@dataclass(frozen=True, eq=False)
class ExtractSummary:
    """What :func:`extract_feed` kept, file by file.

    Attributes
    ----------
    source
        The feed that was read.
    out_path
        The feed that was written (a zip archive).
    counts
        For every file of the input that the extraction knows, in GTFS order:
        ``(kept records, records in the input)``.
    stops_in_area
        Stops of the input inside the buffered area (the kept stops also include the stops
        outside it that kept trips serve).
    buffer_km
        The buffer around the area in kilometres.
    start_date, end_date
        The date range (None where open); the calendar of the output is clipped to it.
    skipped_files
        Files of the input that were not copied (not part of the standard GTFS set read here).
    seconds
        Wall-clock time of the extraction.
    """

    source: str
    out_path: str
    counts: dict[str, tuple[int, int]]
    stops_in_area: int
    buffer_km: float
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    skipped_files: tuple[str, ...] = field(default=())
    seconds: float = 0.0

    def kept(self, file: str) -> int:
        """Records of ``file`` written to the output (0 for a file the input lacks)."""
        return self.counts.get(file, (0, 0))[0]

    def format(self) -> str:
        """A short table for the terminal: kept and total records per file."""
        dates = ""
        if self.start_date or self.end_date:
            dates = (f"; dates {self.start_date or 'feed start'} to {self.end_date or 'feed end'}"
                     " (calendar clipped)")
        lines = [
            f"wrote {self.out_path} in {self.seconds:.1f} s: {self.stops_in_area:,} stops inside "
            f"the area (buffer {self.buffer_km:g} km){dates}",
            f"  {'file':<20} {'kept':>12} {'of':>12}",
        ]
        for file, (kept, total) in self.counts.items():
            lines.append(f"  {file:<20} {kept:>12,} {total:>12,}")
        if self.skipped_files:
            lines.append(f"  not copied: {', '.join(self.skipped_files)}")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Areas
# --------------------------------------------------------------------------------------------


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """Parse ``"MINLON,MINLAT,MAXLON,MAXLAT"`` (degrees, WGS84) into a checked tuple.

    Parameters
    ----------
    text
        Four numbers separated by commas, west, south, east, north.

    Returns
    -------
    tuple of float
        ``(min_lon, min_lat, max_lon, max_lat)``.

    Raises
    ------
    InputError
        If the text is not four numbers, a value is outside -180..180 (lon) or -90..90 (lat), or
        a minimum is not below its maximum.

    Examples
    --------
    >>> parse_bbox("8.45,47.12,8.56,47.21")
    (8.45, 47.12, 8.56, 47.21)
    """
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != 4 or not all(re.fullmatch(_FLOAT_RE, p) for p in parts):
        raise InputError(
            f"bbox {text!r} is not a bounding box: expected 4 numbers MINLON,MINLAT,MAXLON,MAXLAT "
            f"in degrees (WGS84), e.g. {_BBOX_EXAMPLE}"
        )
    w, s, e, n = (float(p) for p in parts)
    _check_bbox((w, s, e, n))
    return w, s, e, n


def _check_bbox(bbox: Sequence[float]) -> None:
    if len(bbox) != 4 or not all(isinstance(v, int | float) and math.isfinite(v) for v in bbox):
        raise InputError(f"bbox {tuple(bbox)!r} is not 4 finite numbers "
                         f"(min_lon, min_lat, max_lon, max_lat), e.g. ({_BBOX_EXAMPLE})")
    w, s, e, n = bbox
    if not (-180 <= w <= 180 and -180 <= e <= 180 and -90 <= s <= 90 and -90 <= n <= 90):
        raise InputError(f"bbox {w:g},{s:g},{e:g},{n:g} is outside the world: expected "
                         "longitudes -180..180 and latitudes -90..90, in the order "
                         "MINLON,MINLAT,MAXLON,MAXLAT")
    if not (w < e and s < n):
        raise InputError(f"bbox {w:g},{s:g},{e:g},{n:g} is empty: expected MINLON < MAXLON and "
                         "MINLAT < MAXLAT, in the order MINLON,MINLAT,MAXLON,MAXLAT")


def _bbox_polygon(bbox: Sequence[float]) -> shapely.Geometry:
    """The lon/lat box as a polygon in EPSG:25832 (edges densified so they stay curved right)."""
    box = shapely.segmentize(shapely.box(*bbox), 0.01)
    return shapely.transform(box, lambda xy: np.column_stack(_TO_UTM.transform(xy[:, 0],
                                                                              xy[:, 1])))


def read_area(path: str | Path, *, kreis: str | None = None,
              layer: str | None = None) -> shapely.Geometry:
    """Read the area to extract from a polygon file, as one geometry in EPSG:25832.

    Parameters
    ----------
    path
        Any polygon file geopandas reads (GeoJSON, GeoPackage, shapefile, ...) with a CRS; or,
        with ``kreis``, a boundary file as read by
        :func:`kurszugang.io.boundaries.read_boundaries` (e.g. VG250 Gemeinden).
    kreis
        A 5-digit Kreis key (``"09187"``): the union of its Gemeinden in ``path``.
    layer
        The layer of a multi-layer file (without ``kreis``).

    Returns
    -------
    shapely.Geometry
        The union of all polygons of the file (or of the Kreis), in EPSG:25832.

    Raises
    ------
    InputFormatError
        If the file is missing, empty or unreadable.
    InputError
        If it has no CRS or no polygons, or (with ``kreis``) the key selects nothing.

    Examples
    --------
    >>> area = read_area("VG250_GEM.shp", kreis="09187")  # doctest: +SKIP
    >>> round(area.area / 1e6)  # km²  # doctest: +SKIP
    1439
    """
    p = Path(path)
    if kreis is not None:
        from kurszugang.io.boundaries import read_boundaries

        return shapely.union_all(read_boundaries(p, kreis=kreis).geometry.to_numpy())
    import geopandas as gpd
    from pyogrio.errors import DataLayerError, DataSourceError

    if not p.exists():
        raise InputFormatError("does not exist (expected a polygon file, e.g. .geojson or .gpkg)",
                               path=p)
    if p.is_file() and p.stat().st_size == 0:
        raise InputFormatError("is empty (0 bytes); expected a polygon file", path=p)
    try:
        gdf = gpd.read_file(p, layer=layer, engine="pyogrio")
    except (DataSourceError, DataLayerError, ValueError) as exc:
        raise InputFormatError(f"cannot be read as a polygon file ({exc})", path=p) from exc
    if gdf.crs is None:
        raise InputError("has no CRS; save it with one (e.g. EPSG:25832 or EPSG:4326)", path=p)
    types = gdf.geometry.geom_type
    polygonal = types.isin(["Polygon", "MultiPolygon"]).to_numpy(bool)
    if not polygonal.any():
        found = ", ".join(sorted(types.dropna().unique())) or "no geometries"
        raise InputError(f"has no polygons (found {found}); expected the area as polygons",
                         path=p)
    if not polygonal.all():
        logger.warning("%s: %d of %d features are not polygons and are ignored", p.name,
                       int((~polygonal).sum()), len(gdf))
    geoms = gdf.geometry[polygonal].to_crs(AREA_CRS).to_numpy()
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        logger.warning("%s: repaired %d invalid polygons (features %s)", p.name,
                       int(invalid.sum()), ", ".join(str(i + 1) for i in
                                                     np.flatnonzero(invalid)[:5]))
        geoms = shapely.make_valid(geoms)
    return shapely.union_all(geoms)


# --------------------------------------------------------------------------------------------
# Reading the feed's files (all columns as text)
# --------------------------------------------------------------------------------------------


class _NotUtf8(Exception):
    """A file turned out not to be UTF-8 after blocks of it were used: start again."""

    def __init__(self, file: str) -> None:
        super().__init__(file)
        self.file = file


def _utf8_failure(exc: Exception) -> bool:
    text = str(exc)
    return "UTF8" in text or "utf-8" in text.lower() or "utf8" in text.lower()


class _Source:
    """The .txt files of a feed (zip or folder) read as tables of text, whole or in blocks."""

    def __init__(self, path: Path, encodings: dict[str, str]) -> None:
        self.path = path
        self.files = FeedFiles(path)
        self.openers = {n: f.opener for n, f in self.files.files.items()}
        self.close = self.files.close
        self.encodings = encodings  # file -> "utf8" or "cp1252" (learned on the way)
        self.empty = {f for f in self.openers if self._is_empty(f)}

    def has(self, file: str) -> bool:
        return file in self.openers and file not in self.empty

    def size(self, file: str) -> int | None:
        return self.files.size(file)

    def _is_empty(self, file: str) -> bool:
        with self.openers[file]() as fh:
            return not fh.readline().strip(b" \t\r\n\xef\xbb\xbf")

    def _header(self, fh: IO[bytes], file: str) -> tuple[list[str], str]:
        raw = fh.readline().removeprefix(b"\xef\xbb\xbf")
        encoding = self.encodings.get(file, "utf8")
        try:
            text = raw.decode("utf-8" if encoding == "utf8" else encoding)
        except UnicodeDecodeError:
            encoding = self.encodings[file] = "cp1252"
            self._warn_encoding(file)
            text = raw.decode("cp1252")
        names = [n.strip() for n in next(csv.reader([text.rstrip("\r\n")]), [])]
        seen = [n for i, n in enumerate(names) if n in names[:i]]
        if seen:
            raise InputError(f"column {seen[0]!r} appears twice in the header", path=file, row=1)
        return names, encoding

    def _warn_encoding(self, file: str) -> None:
        logger.warning("GTFS %s: %s is not UTF-8; read as Windows-1252 (cp1252) and written as "
                       "UTF-8: check umlauts", self.path.name, file)

    def _options(self, names: list[str], encoding: str, columns: Sequence[str] | None,
                 block: int | None) -> dict[str, Any]:
        read = pacsv.ReadOptions(column_names=names, encoding=encoding,
                                 **({"block_size": block} if block else {}))
        convert = pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=True,
            null_values=[""], quoted_strings_can_be_null=True,
            include_columns=list(columns) if columns is not None else None,
        )
        return {"read_options": read, "convert_options": convert}

    def _check_columns(self, file: str, names: list[str], required: Sequence[str]) -> None:
        for name in required:
            if name not in names:
                raise InputError("is missing (a required column)", path=file, row=1, column=name)

    def read(self, file: str, required: Sequence[str] = ()) -> pa.Table:
        """The whole file with every column as text (missing values null)."""
        for _attempt in range(2):
            with self.openers[file]() as fh:
                names, encoding = self._header(fh, file)
                self._check_columns(file, names, required)
                try:
                    return pacsv.read_csv(fh, **self._options(names, encoding, None, None))
                except pa.ArrowInvalid as exc:
                    if "Empty CSV file" in str(exc):
                        return pa.table({n: pa.array([], pa.string()) for n in names})
                    if encoding == "utf8" and _utf8_failure(exc):
                        self.encodings[file] = "cp1252"
                        self._warn_encoding(file)
                        continue
                    raise _unreadable(file, exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def header(self, file: str) -> list[str]:
        with self.openers[file]() as fh:
            return self._header(fh, file)[0]

    def batches(self, file: str, columns: Sequence[str] | None = None, *,
                required: Sequence[str] = (), progress: Any = None) -> Iterator[pa.RecordBatch]:
        """The file (only ``columns`` if given) in blocks of text columns.

        Raises :class:`_NotUtf8` if a file read as UTF-8 turns out not to be.
        """
        with self.openers[file]() as fh:
            names, encoding = self._header(fh, file)
            self._check_columns(file, names, (*required, *(columns or ())))
            stream: Any = _Counting(fh, progress) if progress is not None else fh
            try:
                reader = pacsv.open_csv(stream, **self._options(names, encoding, columns,
                                                                _BLOCK_BYTES))
                yield from reader
            except pa.ArrowInvalid as exc:
                if "Empty CSV file" in str(exc):
                    return
                if encoding == "utf8" and _utf8_failure(exc):
                    self.encodings[file] = "cp1252"
                    self._warn_encoding(file)
                    raise _NotUtf8(file) from exc
                raise _unreadable(file, exc) from exc


class _Counting:
    """A read-only stream that reports the bytes read to a progress bar."""

    def __init__(self, fh: IO[bytes], bar: Any) -> None:
        self.fh, self.bar = fh, bar
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self.bar.update(len(data))
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True


def _unreadable(file: str, exc: Exception) -> InputFormatError:
    text = str(exc).replace("CSV parse error: ", "").strip()
    match = re.match(r"Row #(\d+): (.*)", text, flags=re.S)
    if match:
        return InputFormatError(f"cannot be read as CSV: {match.group(2).splitlines()[0]}",
                                path=file, row=int(match.group(1)))
    return InputFormatError(f"cannot be read as CSV: {text.splitlines()[0]} (run `kurszugang "
                            "validate` on the feed for the line)", path=file)


# --------------------------------------------------------------------------------------------
# Column helpers (vectorised)
# --------------------------------------------------------------------------------------------


def _key(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Ids as compared by the reader: surrounding spaces removed."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return pc.utf8_trim_whitespace(arr)


def _isin(values: pa.Array, keys: pa.Array) -> np.ndarray:
    return pc.fill_null(pc.is_in(values, value_set=keys), False).to_numpy(zero_copy_only=False)


def _unique(parts: list[pa.Array]) -> pa.Array:
    if not parts:
        return pa.array([], pa.string())
    return pc.drop_null(pc.unique(pa.concat_arrays(parts)))


def _show(value: Any) -> str:
    return "blank" if value is None else repr(value)


def _numbers(table: pa.Table, file: str, column: str) -> np.ndarray:
    """A text column as float64 (NaN where blank); raises for the first non-number."""
    text = _key(table.column(column))
    ok = pc.fill_null(pc.match_substring_regex(text, _FLOAT_RE), False)
    bad = np.flatnonzero(~ok.to_numpy(zero_copy_only=False) & text.is_valid().to_numpy(
        zero_copy_only=False))
    if len(bad):
        i = int(bad[0])
        more = f" ({len(bad) - 1:,} more in this column)" if len(bad) > 1 else ""
        raise InputError(f"{_show(text[i].as_py())} is not a number{more}", path=file,
                         row=i + 2, column=column)
    return pc.cast(pc.if_else(ok, text, None), pa.float64()).to_numpy(zero_copy_only=False)


def _dates(table: pa.Table, file: str, column: str) -> np.ndarray:
    """A YYYYMMDD column as datetime64[D]; raises for the first blank or bad date."""
    text = _key(table.column(column))
    ok = pc.fill_null(pc.match_substring_regex(text, _DATE_RE), False)
    parsed = pc.strptime(pc.if_else(ok, text, None), format="%Y%m%d", unit="s",
                         error_is_null=True)
    bad = np.flatnonzero(~parsed.is_valid().to_numpy(zero_copy_only=False))
    if len(bad):
        i = int(bad[0])
        raise InputError(f"{_show(text[i].as_py())} is not a date (expected YYYYMMDD, e.g. "
                         "20210302)", path=file, row=i + 2, column=column)
    return parsed.to_numpy(zero_copy_only=False).astype("datetime64[D]")


def _flags(table: pa.Table, file: str, column: str, allowed: Sequence[str]) -> pa.Array:
    """A code column as trimmed text; raises for the first value not in ``allowed``."""
    text = _key(table.column(column))
    bad = np.flatnonzero(~_isin(text, pa.array(list(allowed))))
    if len(bad):
        i = int(bad[0])
        raise InputError(f"{_show(text[i].as_py())} is not one of {', '.join(allowed)}",
                         path=file, row=i + 2, column=column)
    return text


def _day(value: np.datetime64) -> dt.date:
    return dt.date.fromisoformat(str(value.astype("datetime64[D]")))


# --------------------------------------------------------------------------------------------
# Services in a date range
# --------------------------------------------------------------------------------------------


@dataclass
class _Calendar:
    """calendar.txt and calendar_dates.txt, parsed for the date filter."""

    calendar: pa.Table | None
    dates: pa.Table | None
    cal_service: pa.Array = field(init=False)
    cal_start: np.ndarray = field(init=False)
    cal_end: np.ndarray = field(init=False)
    cal_days: np.ndarray = field(init=False)  # bool (rows, 7)
    cd_service: pa.Array = field(init=False)
    cd_date: np.ndarray = field(init=False)
    cd_added: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        empty_d = np.zeros(0, dtype="datetime64[D]")
        cal = self.calendar
        if cal is not None and cal.num_rows:
            self.cal_service = _key(cal.column("service_id"))
            self.cal_start = _dates(cal, "calendar.txt", "start_date")
            self.cal_end = _dates(cal, "calendar.txt", "end_date")
            self.cal_days = np.column_stack([
                pc.equal(_flags(cal, "calendar.txt", d, ("0", "1")), "1")
                .to_numpy(zero_copy_only=False) for d in _WEEKDAYS])
        else:
            self.cal_service = pa.array([], pa.string())
            self.cal_start = self.cal_end = empty_d
            self.cal_days = np.zeros((0, 7), dtype=bool)
        cd = self.dates
        if cd is not None and cd.num_rows:
            self.cd_service = _key(cd.column("service_id"))
            self.cd_date = _dates(cd, "calendar_dates.txt", "date")
            self.cd_added = pc.equal(_flags(cd, "calendar_dates.txt", "exception_type",
                                            ("1", "2")), "1").to_numpy(zero_copy_only=False)
        else:
            self.cd_service = pa.array([], pa.string())
            self.cd_date = empty_d
            self.cd_added = np.zeros(0, dtype=bool)

    def period(self) -> tuple[np.datetime64, np.datetime64] | None:
        """First and last day any calendar row or added date covers."""
        firsts = [a.min() for a in (self.cal_start, self.cd_date[self.cd_added]) if len(a)]
        lasts = [a.max() for a in (self.cal_end, self.cd_date[self.cd_added]) if len(a)]
        if not firsts:
            return None
        return min(firsts), max(lasts)

    def active(self, first: np.datetime64, last: np.datetime64) -> pa.Array:
        """Service ids that run on at least one day from ``first`` to ``last``."""
        ids = pc.unique(pa.concat_arrays([self.cal_service, self.cd_service]).cast(pa.string()))
        ids = pc.drop_null(ids)
        n_days = int((last - first) // np.timedelta64(1, "D")) + 1
        if n_days <= 0 or len(ids) == 0:
            return pa.array([], pa.string())
        days = first + np.arange(n_days)
        weekday = (days.astype("datetime64[D]").astype(np.int64) + 3) % 7  # 1970-01-01: Thu
        runs = np.zeros((len(ids), n_days), dtype=bool)
        if len(self.cal_service):
            row = pc.index_in(self.cal_service, value_set=ids).to_numpy(zero_copy_only=False)
            ok = ~np.isnan(row.astype(float))
            row = row[ok].astype(np.int64)
            on = (self.cal_days[ok][:, weekday]
                  & (self.cal_start[ok][:, None] <= days[None, :])
                  & (self.cal_end[ok][:, None] >= days[None, :]))
            np.logical_or.at(runs, row, on)
        if len(self.cd_service):
            inside = (self.cd_date >= first) & (self.cd_date <= last)
            row = pc.index_in(self.cd_service, value_set=ids).to_numpy(zero_copy_only=False)
            inside &= ~np.isnan(row.astype(float))
            col = ((self.cd_date - first) // np.timedelta64(1, "D")).astype(np.int64)
            add, rem = inside & self.cd_added, inside & ~self.cd_added
            runs[row[add].astype(np.int64), col[add]] = True
            runs[row[rem].astype(np.int64), col[rem]] = False
        return ids.filter(pa.array(runs.any(axis=1)))


def _clip_calendar(table: pa.Table, cal: _Calendar, keep: np.ndarray,
                   start: np.datetime64 | None, end: np.datetime64 | None) -> pa.Table:
    """Calendar rows of kept services with start/end dates clipped to the range."""
    keep = keep.copy()
    columns = {n: table.column(n) for n in table.column_names}
    if start is not None:
        later = cal.cal_start < start
        text = pa.scalar(_day(start).strftime("%Y%m%d"))
        columns["start_date"] = pc.if_else(pa.array(later), text, table.column("start_date"))
    if end is not None:
        earlier = cal.cal_end > end
        text = pa.scalar(_day(end).strftime("%Y%m%d"))
        columns["end_date"] = pc.if_else(pa.array(earlier), text, table.column("end_date"))
    lo = np.maximum(cal.cal_start, start) if start is not None else cal.cal_start
    hi = np.minimum(cal.cal_end, end) if end is not None else cal.cal_end
    keep &= lo <= hi  # rows wholly outside the range: the service runs on added dates only
    clipped = pa.table(list(columns.values()), names=list(columns))
    return clipped.filter(pa.array(keep))


# --------------------------------------------------------------------------------------------
# The extraction
# --------------------------------------------------------------------------------------------


def _as_date(value: dt.date | str | None, name: str) -> np.datetime64 | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise InputError(f"{name} {value!r} is not a date (expected YYYY-MM-DD)") from None
    if isinstance(value, dt.datetime):
        value = value.date()
    return np.datetime64(value, "D")


def _area_geometry(area: Any, bbox: Sequence[float] | None, buffer_km: float) -> Any:
    if (area is None) == (bbox is None):
        raise InputError("give the area to extract either as area (a polygon in EPSG:25832) or "
                         "as bbox (min_lon, min_lat, max_lon, max_lat), not "
                         + ("both" if area is not None else "neither"))
    if bbox is not None:
        _check_bbox(bbox)
        geom = _bbox_polygon(bbox)
    else:
        geom = area
        if hasattr(geom, "to_crs") and hasattr(geom, "union_all"):  # a GeoSeries/GeoDataFrame
            if geom.crs is None:
                raise InputError("area has no CRS: set one (e.g. .set_crs('EPSG:25832'))")
            geom = geom.to_crs(AREA_CRS).union_all()
        if not isinstance(geom, shapely.Geometry) or geom.is_empty or geom.area <= 0:
            raise InputError("area is not a polygon with an area: expected a shapely Polygon or "
                             "MultiPolygon in EPSG:25832 (metres)")
        x0, y0, x1, y1 = geom.bounds
        if abs(x0) <= 360 and abs(x1) <= 360 and abs(y0) <= 90 and abs(y1) <= 90:
            raise InputError(f"area bounds {x0:g},{y0:g},{x1:g},{y1:g} look like degrees: "
                             "expected EPSG:25832 (metres); use bbox=... or reproject")
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
    if buffer_km > 0:
        geom = geom.buffer(buffer_km * 1000.0, quad_segs=16)
    shapely.prepare(geom)
    return geom


def _inside_stops(stops: pa.Table, geom: Any, feed: Path,
                  buffer_km: float) -> tuple[np.ndarray, pa.Array]:
    """Mask of the stops inside the area, and the stop keys."""
    ids = _key(stops.column("stop_id"))
    lat = _numbers(stops, "stops.txt", "stop_lat")
    lon = _numbers(stops, "stops.txt", "stop_lon")
    if "parent_station" in stops.column_names:  # platforms without coordinates: their station's
        missing = np.isnan(lat) | np.isnan(lon)
        if missing.any():
            at = pc.index_in(_key(stops.column("parent_station")), value_set=ids)
            idx = at.to_numpy(zero_copy_only=False).astype(float)
            has = missing & ~np.isnan(idx)
            j = idx[has].astype(np.int64)
            lat[has], lon[has] = lat[j], lon[j]
    x, y = _TO_UTM.transform(lon, lat)
    inside = shapely.contains_xy(geom, np.asarray(x), np.asarray(y))
    inside &= ids.is_valid().to_numpy(zero_copy_only=False)
    if not inside.any():
        ok = ~(np.isnan(lat) | np.isnan(lon))
        where = (f"; its stops lie within lon {np.min(lon[ok]):.4f} to {np.max(lon[ok]):.4f}, "
                 f"lat {np.min(lat[ok]):.4f} to {np.max(lat[ok]):.4f}") if ok.any() else ""
        raise InputError(f"the area (with its {buffer_km:g} km buffer) contains none of the "
                         f"feed's {stops.num_rows:,} stops{where}", path=feed)
    return inside, ids


def _family(stops: pa.Table, ids: pa.Array, keep: np.ndarray) -> np.ndarray:
    """Add the parent stations of kept stops and the entrances/nodes of kept stations."""
    if "parent_station" not in stops.column_names:
        return keep
    parent = _key(stops.column("parent_station"))
    if "location_type" in stops.column_names:
        kind = pc.fill_null(_key(stops.column("location_type")), "0")
        child_kinds = _isin(kind, pa.array(["2", "3", "4"]))
    else:
        child_kinds = np.zeros(len(keep), dtype=bool)
    keep = keep.copy()
    for _ in range(3):  # boarding area -> platform -> station
        before = int(keep.sum())
        keep |= _isin(ids, parent.filter(pa.array(keep)))
        keep |= child_kinds & _isin(parent, ids.filter(pa.array(keep)))
        if int(keep.sum()) == before:
            break
    return keep


@dataclass
class _Out:
    """The output zip, written member by member, with the counts."""

    zf: zipfile.ZipFile
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)

    def write(self, file: str, table: pa.Table, total: int) -> None:
        with self.zf.open(file, "w", force_zip64=True) as fh:
            pacsv.write_csv(table, fh)
        self.counts[file] = (table.num_rows, total)


def extract_feed(
    feed_path: str | Path,
    out_path: str | Path,
    *,
    area: Any = None,
    bbox: Sequence[float] | None = None,
    buffer_km: float = 30.0,
    start_date: dt.date | str | None = None,
    end_date: dt.date | str | None = None,
    progress: bool = False,
) -> ExtractSummary:
    """Write the part of a GTFS feed that serves an area (plus a buffer) as a smaller feed.

    Keeps every trip that stops inside the buffered area (with a date range: and runs on at
    least one day of it), with all its stop_times, also those outside the area, and everything
    these trips refer to: stops (with their parent stations and the entrances of those
    stations), routes, agencies, services, shapes, frequencies; transfers between kept stops;
    feed_info.txt unchanged. The big files are read in blocks, twice for stop_times.txt, so
    memory grows with the number of stops and trips, not of stop_times. Values are written
    unchanged, columns in their original order.

    Parameters
    ----------
    feed_path
        A GTFS .zip archive or folder, of any size.
    out_path
        The zip archive to write (replaced if it exists; its folder is created).
    area
        The area as a shapely (Multi)Polygon in EPSG:25832, e.g. from :func:`read_area`, or a
        GeoSeries/GeoDataFrame with a CRS (reprojected and united).
    bbox
        Or the area as ``(min_lon, min_lat, max_lon, max_lat)`` in degrees (WGS84).
    buffer_km
        Distance around the area whose stops count as inside (default 30 km), so that trips
        that leave the district and come back, and nearby centres, stay in.
    start_date, end_date
        Keep only trips that run on at least one day of this range (inclusive; either may be
        omitted for an open end). calendar.txt rows are clipped to the range, calendar_dates.txt
        keeps the dates inside it, so the output runs exactly on the range's service days.
    progress
        Show progress bars (tqdm) over the bytes of stop_times.txt.

    Returns
    -------
    ExtractSummary
        Kept and total records per file, the stops inside the area, files not copied, time.

    Raises
    ------
    InputFormatError
        If the feed does not exist, is neither a zip nor a folder, lacks a required file, or a
        file cannot be parsed as CSV.
    InputError
        If not exactly one of ``area`` and ``bbox`` is given, the bbox or buffer is invalid, the
        area contains no stop of the feed (the message gives the stops' extent), no trip stops
        in it (in the date range), the start date is after the end date, or a needed value
        (coordinate, date, weekday flag, exception type) is malformed, naming file, line and
        column.

    Examples
    --------
    >>> summary = extract_feed("DELFI_gtfs.zip", "landkreis.zip",
    ...                        area=read_area("VG250_GEM.shp", kreis="09187"),
    ...                        start_date="2026-03-09", end_date="2026-03-15")  # doctest: +SKIP
    >>> summary.counts["stop_times.txt"]  # doctest: +SKIP
    (1234567, 41234567)
    """
    started = time.perf_counter()
    src_path, dst_path = Path(feed_path), Path(out_path)
    if not (isinstance(buffer_km, int | float) and math.isfinite(buffer_km) and buffer_km >= 0):
        shown = f"{buffer_km:g}" if isinstance(buffer_km, int | float) else repr(buffer_km)
        raise InputError(f"buffer {shown} km is not a distance: expected 0 or more km")
    geom = _area_geometry(area, bbox, float(buffer_km))
    start, end = _as_date(start_date, "start date"), _as_date(end_date, "end date")
    if start is not None and end is not None and start > end:
        raise InputError(f"start date {_day(start)} is after end date {_day(end)}")
    if dst_path.exists() and src_path.exists() and dst_path.resolve() == src_path.resolve():
        raise InputError("the output would replace the input feed; choose another --out",
                         path=dst_path)
    dst_path.parent.mkdir(parents=True, exist_ok=True)
    part = dst_path.with_name(dst_path.name + ".part")
    encodings: dict[str, str] = {}
    try:
        for _attempt in range(len(GTFS_FILES) + 1):  # again per file found not to be UTF-8
            try:
                with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                    out = _Out(zf)
                    stops_in_area, skipped = _extract(src_path, out, geom, float(buffer_km),
                                                      start, end, encodings, progress)
                break
            except _NotUtf8 as exc:
                logger.info("restarting the extraction: %s is not UTF-8", exc.file)
        else:  # pragma: no cover - each restart marks one more file as Windows-1252
            raise AssertionError("the extraction restarted too often")
        os.replace(part, dst_path)
    finally:
        part.unlink(missing_ok=True)
    summary = ExtractSummary(
        source=str(src_path), out_path=str(dst_path), counts=out.counts,
        stops_in_area=stops_in_area, buffer_km=float(buffer_km),
        start_date=_day(start) if start is not None else None,
        end_date=_day(end) if end is not None else None,
        skipped_files=skipped, seconds=time.perf_counter() - started,
    )
    kept, total = summary.counts["stop_times.txt"]
    logger.info("extracted %s -> %s in %.1f s: %s of %s stop_times, %s of %s trips",
                src_path.name, dst_path.name, summary.seconds, f"{kept:,}", f"{total:,}",
                f"{summary.kept('trips.txt'):,}", f"{summary.counts['trips.txt'][1]:,}")
    return summary


def _extract(src_path: Path, out: _Out, geom: Any, buffer_km: float,
             start: np.datetime64 | None, end: np.datetime64 | None, encodings: dict[str, str],
             progress: bool) -> tuple[int, tuple[str, ...]]:
    src = _Source(src_path, encodings)
    try:
        return _extract_from(src, out, geom, buffer_km, start, end, progress)
    finally:
        src.close()


def _extract_from(src: _Source, out: _Out, geom: Any, buffer_km: float,
                  start: np.datetime64 | None, end: np.datetime64 | None,
                  progress: bool) -> tuple[int, tuple[str, ...]]:
    feed = src.path
    for file in _REQUIRED:
        if not src.has(file):
            what = "is empty" if file in src.openers else "is missing"
            raise InputFormatError(f"{what}: {file} is a required GTFS file", path=feed)
    if not src.has("calendar.txt") and not src.has("calendar_dates.txt"):
        raise InputFormatError("has neither calendar.txt nor calendar_dates.txt (GTFS needs one)",
                               path=feed)
    skipped = tuple(sorted(f for f in src.openers if f not in GTFS_FILES))
    if skipped:
        logger.warning("GTFS %s: %d files not copied to the extract (not standard files read "
                       "here): %s", feed.name, len(skipped), ", ".join(skipped))

    # 1. Stops inside the buffered area.
    stops = src.read("stops.txt", ("stop_id", "stop_lat", "stop_lon"))
    inside, stop_ids = _inside_stops(stops, geom, feed, buffer_km)
    n_inside = int(inside.sum())
    logger.info("%s of %s stops lie inside the buffered area", f"{n_inside:,}",
                f"{stops.num_rows:,}")

    # 2. Trips, and the services running in the date range.
    trips = src.read("trips.txt", ("route_id", "service_id", "trip_id"))
    trip_ids = _key(trips.column("trip_id"))
    trip_services = _key(trips.column("service_id"))
    need_dates = start is not None or end is not None
    cal_table = (src.read("calendar.txt", ("service_id",) + ((*_WEEKDAYS, "start_date",
                 "end_date") if need_dates else ())) if src.has("calendar.txt") else None)
    cd_table = (src.read("calendar_dates.txt", ("service_id",) + (("date", "exception_type")
                if need_dates else ())) if src.has("calendar_dates.txt") else None)
    candidate = trip_ids.is_valid().to_numpy(zero_copy_only=False)
    cal: _Calendar | None = None
    if need_dates:
        cal = _Calendar(cal_table, cd_table)
        period = cal.period()
        first = start if start is not None else (period[0] if period else None)
        last = end if end is not None else (period[1] if period else None)
        if period is not None and first is not None and last is not None:
            first, last = max(first, period[0]), min(last, period[1])
            running = cal.active(first, last)
        else:
            running = pa.array([], pa.string())
        candidate &= _isin(trip_services, running)
        if not candidate.any():
            span = f"{_day(period[0])} to {_day(period[1])}" if period else "no day at all"
            raise InputError(
                f"no trip runs from {_day(start) if start is not None else 'the start'} to "
                f"{_day(end) if end is not None else 'the end'}; the feed's services run from "
                f"{span}", path=feed)

    # 3. First pass over stop_times: the trips that stop inside the area.
    inside_keys = stop_ids.filter(pa.array(inside))
    touched: list[pa.Array] = []
    total_st = 0
    for batch in _with_progress(src, "stop_times.txt", ("trip_id", "stop_id"), progress,
                                "stop_times 1/2"):
        total_st += batch.num_rows
        hit = _isin(_key(batch.column("stop_id")), inside_keys)
        if hit.any():
            touched.append(pc.unique(_key(batch.column("trip_id")).filter(pa.array(hit))))
    keep_trip = candidate & _isin(trip_ids, _unique(touched))
    if not keep_trip.any():
        when = " in the date range" if need_dates else ""
        raise InputError(f"no trip{when} stops at the {n_inside:,} stops inside the area",
                         path=feed)
    kept_trip_ids = trip_ids.filter(pa.array(keep_trip))

    # 4. Second pass: write the stop_times of the kept trips, collect their stops.
    used: list[pa.Array] = []
    kept_st = 0
    with out.zf.open("stop_times.txt", "w", force_zip64=True) as fh:
        writer: pacsv.CSVWriter | None = None
        for batch in _with_progress(src, "stop_times.txt", None, progress, "stop_times 2/2"):
            if writer is None:
                writer = pacsv.CSVWriter(fh, batch.schema)
            mask = pa.array(_isin(_key(batch.column("trip_id")), kept_trip_ids))
            rows = batch.filter(mask)
            if rows.num_rows:
                writer.write_batch(rows)
                used.append(pc.unique(_key(rows.column("stop_id"))))
                kept_st += rows.num_rows
        if writer is None:  # pragma: no cover - a feed without stop_times has no kept trip
            raise AssertionError("stop_times.txt had no rows in the second pass")
        writer.close()
    out.counts["stop_times.txt"] = (kept_st, total_st)

    # 5. Everything the kept trips refer to.
    keep_stop = _family(stops, stop_ids, _isin(stop_ids, _unique(used)))
    kept_stop_ids = stop_ids.filter(pa.array(keep_stop))
    kept_trips = trips.filter(pa.array(keep_trip))
    route_keys = pc.unique(_key(kept_trips.column("route_id")))
    service_keys = pc.unique(trip_services.filter(pa.array(keep_trip)))

    tables: dict[str, tuple[pa.Table, int]] = {
        "stops.txt": (stops.filter(pa.array(keep_stop)), stops.num_rows),
        "trips.txt": (kept_trips, trips.num_rows),
    }
    routes = src.read("routes.txt", ("route_id",))
    keep_route = _isin(_key(routes.column("route_id")), route_keys)
    tables["routes.txt"] = (routes.filter(pa.array(keep_route)), routes.num_rows)
    if src.has("agency.txt"):
        agency = src.read("agency.txt")
        keep_agency = np.ones(agency.num_rows, dtype=bool)
        if "agency_id" in agency.column_names and "agency_id" in routes.column_names:
            refs = pc.drop_null(pc.unique(_key(routes.column("agency_id")).filter(
                pa.array(keep_route))))
            if len(refs):  # routes without agency_id: the feed's single agency stays
                keep_agency = _isin(_key(agency.column("agency_id")), refs) | ~_key(
                    agency.column("agency_id")).is_valid().to_numpy(zero_copy_only=False)
        tables["agency.txt"] = (agency.filter(pa.array(keep_agency)), agency.num_rows)
    if cal_table is not None:
        keep_cal = _isin(_key(cal_table.column("service_id")), service_keys)
        if cal is not None:
            clipped = _clip_calendar(cal_table, cal, keep_cal, start, end)
        else:
            clipped = cal_table.filter(pa.array(keep_cal))
        tables["calendar.txt"] = (clipped, cal_table.num_rows)
    if cd_table is not None:
        keep_cd = _isin(_key(cd_table.column("service_id")), service_keys)
        if cal is not None:
            if start is not None:
                keep_cd &= cal.cd_date >= start
            if end is not None:
                keep_cd &= cal.cd_date <= end
        tables["calendar_dates.txt"] = (cd_table.filter(pa.array(keep_cd)), cd_table.num_rows)
    if src.has("frequencies.txt"):
        fr = src.read("frequencies.txt", ("trip_id",))
        keep_fr = _isin(_key(fr.column("trip_id")), kept_trip_ids)
        tables["frequencies.txt"] = (fr.filter(pa.array(keep_fr)), fr.num_rows)
    if src.has("transfers.txt"):
        tr = src.read("transfers.txt")
        known = {"stop": kept_stop_ids, "route": route_keys, "trip": kept_trip_ids}
        keep_tr = np.ones(tr.num_rows, dtype=bool)
        for column, kind in _TRANSFER_REFS:
            if column in tr.column_names:
                values = _key(tr.column(column))
                blank = ~values.is_valid().to_numpy(zero_copy_only=False)
                keep_tr &= blank | _isin(values, known[kind])
        tables["transfers.txt"] = (tr.filter(pa.array(keep_tr)), tr.num_rows)
    if src.has("feed_info.txt"):
        info = src.read("feed_info.txt")
        tables["feed_info.txt"] = (info, info.num_rows)
    for file in GTFS_FILES:
        if file in tables:
            table, total = tables[file]
            out.write(file, table, total)
    if src.has("shapes.txt"):
        shape_keys = pa.array([], pa.string())
        if "shape_id" in kept_trips.column_names:
            shape_keys = pc.drop_null(pc.unique(_key(kept_trips.column("shape_id"))))
        _copy_shapes(src, out, shape_keys)
    out.counts = {f: out.counts[f] for f in GTFS_FILES if f in out.counts}
    return n_inside, skipped


def _with_progress(src: _Source, file: str, columns: Sequence[str] | None, progress: bool,
                   label: str) -> Iterator[pa.RecordBatch]:
    if not progress:
        yield from src.batches(file, columns, required=("trip_id", "stop_id"))
        return
    from tqdm import tqdm

    with tqdm(total=src.size(file), unit="B", unit_scale=True, desc=label, leave=False) as bar:
        yield from src.batches(file, columns, required=("trip_id", "stop_id"), progress=bar)


def _copy_shapes(src: _Source, out: _Out, shape_keys: pa.Array) -> None:
    """The points of the kept shapes (held in memory until the file is read: it may turn out
    not to be UTF-8, and a zip member cannot be rewritten)."""
    kept: list[pa.RecordBatch] = []
    total = 0
    schema = None
    for batch in src.batches("shapes.txt", required=("shape_id",)):
        total += batch.num_rows
        schema = batch.schema
        if len(shape_keys):
            rows = batch.filter(pa.array(_isin(_key(batch.column("shape_id")), shape_keys)))
            if rows.num_rows:
                kept.append(rows)
    if schema is None:
        names = src.header("shapes.txt")
        schema = pa.schema([(n, pa.string()) for n in names])
    table = pa.Table.from_batches(kept, schema=schema)
    out.write("shapes.txt", table, total)

