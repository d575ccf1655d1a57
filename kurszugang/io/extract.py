"""Cut a district plus a buffer (and a date range) out of a national-size GTFS feed.

A national feed (DELFI: stop_times.txt about 2.6 GB) does not fit the whole-feed reader
:func:`kurszugang.io.gtfs.read_gtfs` on an office PC, and a district's analysis needs only the
trips near it. :func:`extract_feed` writes a smaller, valid feed without ever holding
stop_times.txt or calendar_dates.txt in memory:

1. stops.txt: the stops inside the area after buffering it (in metres, EPSG:25832);
2. with a date range: calendar.txt, then calendar_dates.txt in blocks, give the services running
   on at least one day of it; trips.txt (two columns, in blocks) the trips of those services;
3. stop_times.txt, one pass in blocks of whole trips (the rows of the last trip of a block wait
   for the next block): the rows of every trip that stops inside the area, also its stops outside
   it, are written straight into the output zip. A file not grouped by trip (a trip's rows found
   again later) is read twice instead: first the trips that stop inside, then their rows;
4. the rest follows the kept trips, each big file in blocks again: trips.txt, their stops (and
   parent stations, and the entrances of those stations), routes, agencies, services (calendar
   clipped to the date range, calendar_dates.txt in blocks), shapes, frequencies; transfers
   between kept stops; feed_info.txt as it is.

Memory grows with the number of stops and trip ids, not with the number of stop_times or
calendar_dates. Ids and all other values are written unchanged, columns in their original order;
the output is UTF-8 (a Windows-1252 or UTF-16 input is converted, with a warning) with every text
field quoted. Files other than the standard ones (fares, pathways, translations, ...) are not
copied: the summary and a log line name them.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import re
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import shapely

from kurszugang.crs import ANALYSIS_CRS, WEB_CRS, transformer
from kurszugang.dates import DATE_FORMS, parse_date
from kurszugang.errors import InputError, InputFormatError
from kurszugang.io._feedfiles import GTFS_FILES, FeedFiles, NotUtf8
from kurszugang.io._gtfs_tables import (
    _encoded,
    _hash_strings,
    _KeyIndex,
    _ServiceBuilder,
    _split_last_trip,
)
from kurszugang.io._report import german_number
from kurszugang.words import de_number, plural

__all__ = ["ExtractSummary", "extract_feed", "parse_bbox", "read_area"]

logger = logging.getLogger(__name__)

#: The CRS of areas and buffers.
AREA_CRS = ANALYSIS_CRS

_TO_UTM = transformer(WEB_CRS, AREA_CRS)
_REQUIRED = ("stops.txt", "routes.txt", "trips.txt", "stop_times.txt")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_FLOAT_RE = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?$"
_DATE_RE = r"^\d{8}$"
_TRANSFER_REFS = (("from_stop_id", "stop"), ("to_stop_id", "stop"),
                  ("from_route_id", "route"), ("to_route_id", "route"),
                  ("from_trip_id", "trip"), ("to_trip_id", "trip"))
_BBOX_EXAMPLE = "8.45,47.12,8.56,47.21"
_OPEN = (np.datetime64("1900-01-01", "D"), np.datetime64("2199-12-31", "D"))


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
            f"bbox {text!r} ist kein Rechteck: erwartet 4 Zahlen MINLON,MINLAT,MAXLON,MAXLAT "
            f"in Grad (WGS84), z. B. {_BBOX_EXAMPLE}"
        )
    w, s, e, n = (float(p) for p in parts)
    _check_bbox((w, s, e, n))
    return w, s, e, n


def _check_bbox(bbox: Sequence[float]) -> None:
    if len(bbox) != 4 or not all(isinstance(v, int | float) and math.isfinite(v) for v in bbox):
        raise InputError(f"bbox {tuple(bbox)!r} sind nicht 4 endliche Zahlen "
                         f"(min_lon, min_lat, max_lon, max_lat), z. B. ({_BBOX_EXAMPLE})")
    w, s, e, n = bbox
    if not (-180 <= w <= 180 and -180 <= e <= 180 and -90 <= s <= 90 and -90 <= n <= 90):
        raise InputError(f"bbox {w:g},{s:g},{e:g},{n:g} liegt außerhalb der Erde: erwartet "
                         "Längen -180..180 und Breiten -90..90, in der Reihenfolge "
                         "MINLON,MINLAT,MAXLON,MAXLAT")
    if not (w < e and s < n):
        raise InputError(f"bbox {w:g},{s:g},{e:g},{n:g} ist leer: erwartet MINLON < MAXLON und "
                         "MINLAT < MAXLAT, in der Reihenfolge MINLON,MINLAT,MAXLON,MAXLAT")


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
    >>> area = read_area(demo.boundaries, kreis=KREIS)
    >>> round(area.area / 1e6)  # km²
    1040
    """
    p = Path(path)
    if kreis is not None:
        from kurszugang.io.boundaries import read_boundaries

        return shapely.union_all(read_boundaries(p, kreis=kreis).geometry.to_numpy())
    import geopandas as gpd
    from pyogrio.errors import DataLayerError, DataSourceError

    if not p.exists():
        raise InputFormatError("gibt es nicht (erwartet eine Polygondatei, z. B. .geojson oder "
                               ".gpkg)", path=p)
    if p.is_file() and p.stat().st_size == 0:
        raise InputFormatError("ist leer (0 Bytes); erwartet eine Polygondatei", path=p)
    try:
        gdf = gpd.read_file(p, layer=layer, engine="pyogrio")
    except (DataSourceError, DataLayerError, ValueError) as exc:
        raise InputFormatError(f"lässt sich nicht als Polygondatei lesen ({exc})",
                               path=p) from exc
    if gdf.crs is None:
        raise InputError("hat kein Koordinatensystem; mit einem speichern (z. B. EPSG:25832 oder "
                         "EPSG:4326)", path=p)
    types = gdf.geometry.geom_type
    polygonal = types.isin(["Polygon", "MultiPolygon"]).to_numpy(bool)
    if not polygonal.any():
        found = ", ".join(sorted(types.dropna().unique())) or "keine Geometrien"
        raise InputError(f"hat keine Polygone (gefunden: {found}); erwartet das Gebiet als "
                         f"Polygone", path=p)
    if not polygonal.all():
        logger.warning("%s: %s von %s Objekten sind keine Polygone und werden übergangen",
                       p.name, de_number(int((~polygonal).sum())), de_number(len(gdf)))
    geoms = gdf.geometry[polygonal].to_crs(AREA_CRS).to_numpy()
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        logger.warning("%s: %s ungültige Polygone repariert (Objekte %s)", p.name,
                       de_number(int(invalid.sum())), ", ".join(str(i + 1) for i in
                                                                np.flatnonzero(invalid)[:5]))
        geoms = shapely.make_valid(geoms)
    return shapely.union_all(geoms)


# --------------------------------------------------------------------------------------------
# Reading the feed's files (all columns as text, as written)
# --------------------------------------------------------------------------------------------


class _Scattered(Exception):
    """stop_times.txt is not grouped by trip: extract again with two passes."""


class _Source:
    """The .txt files of a feed (zip or folder) read as tables of text, whole or in blocks.

    Values are as written (not trimmed; blank fields null). A file found not to be UTF-8 while
    it is streamed raises :class:`~kurszugang.io._feedfiles.NotUtf8`; the extraction starts
    again and the file is then read as Windows-1252.
    """

    def __init__(self, files: FeedFiles) -> None:
        self.files = files
        self.path = files.path
        self.empty = {f for f in files.names if files.is_empty(f)}
        self.warned: set[str] = set()

    def has(self, file: str) -> bool:
        return self.files.has(file) and file not in self.empty

    def size(self, file: str) -> int | None:
        return self.files.size(file)

    def header(self, file: str) -> list[str]:
        names = self.files.header(file)
        seen = [n for i, n in enumerate(names) if n in names[:i]]
        if seen:
            raise InputError(f"die Spalte {seen[0]!r} steht zweimal in der Kopfzeile", path=file,
                             row=1)
        return names

    def _names(self, file: str, required: Sequence[str]) -> list[str]:
        names = self.header(file)
        for name in required:
            if name not in names:
                raise InputError("fehlt (eine Pflichtspalte)", path=file, row=1, column=name)
        return names

    def _warn_encoding(self, file: str) -> None:
        note = self.files.notes.get(file)
        if note and file not in self.warned:
            self.warned.add(file)
            logger.warning("GTFS %s: %s %s und wird als UTF-8 geschrieben", self.path.name, file,
                           note)

    def read(self, file: str, required: Sequence[str] = (),
             columns: Sequence[str] | None = None) -> tuple[pa.Table, np.ndarray]:
        """The whole file with every column (or ``columns``) as text, and the lines."""
        names = self._names(file, (*required, *(columns or ())))
        table, lines = self.files.read(file, names, columns, trim=False)
        self._warn_encoding(file)
        return table, lines

    def batches(self, file: str, columns: Sequence[str] | None = None, *,
                required: Sequence[str] = (), progress: Any = None,
                ) -> Iterator[tuple[pa.Table, np.ndarray]]:
        """The file (only ``columns`` if given) in blocks of text columns, with the lines."""
        names = self._names(file, (*required, *(columns or ())))
        for batch, lines in self.files.blocks(file, names, columns, progress=progress,
                                              trim=False):
            self._warn_encoding(file)
            yield pa.Table.from_batches([batch]), lines


# --------------------------------------------------------------------------------------------
# Column helpers (vectorised)
# --------------------------------------------------------------------------------------------


def _key(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Ids as compared by the reader: surrounding spaces removed."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return pc.utf8_trim_whitespace(arr)


def _isin(values: pa.Array, keys: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(pc.is_in(values, value_set=keys), False)
                      .to_numpy(zero_copy_only=False), dtype=bool)


def _unique(parts: list[pa.Array]) -> pa.Array:
    if not parts:
        return pa.array([], pa.string())
    return pc.drop_null(pc.unique(pa.concat_arrays(parts)))


def _show(value: Any) -> str:
    return "leer" if value is None else repr(value)


def _deg(value: float) -> str:
    """Degrees with four decimals and a German decimal comma."""
    return f"{value:.4f}".replace(".", ",")


def _numbers(table: pa.Table, lines: np.ndarray, file: str, column: str) -> np.ndarray:
    """A text column as float64 (NaN where blank); raises for the first non-number."""
    text = _key(table.column(column))
    ok = pc.fill_null(pc.match_substring_regex(text, _FLOAT_RE), False)
    bad = np.flatnonzero(~ok.to_numpy(zero_copy_only=False) & text.is_valid().to_numpy(
        zero_copy_only=False))
    if len(bad):
        i = int(bad[0])
        more = f" ({de_number(len(bad) - 1)} weitere in dieser Spalte)" if len(bad) > 1 else ""
        raise InputError(f"{_show(text[i].as_py())} ist keine Zahl{more}", path=file,
                         row=int(lines[i]), column=column)
    return np.asarray(pc.cast(pc.if_else(ok, text, None), pa.float64())
                      .to_numpy(zero_copy_only=False), dtype=np.float64)


def _dates(table: pa.Table, lines: np.ndarray, file: str, column: str) -> np.ndarray:
    """A YYYYMMDD column as datetime64[D]; raises for the first blank or bad date.

    Each distinct text is parsed once (a feed's calendar_dates repeat a few hundred dates).
    """
    distinct, at = _encoded(table.column(column))
    text = _key(distinct)
    ok = pc.fill_null(pc.match_substring_regex(text, _DATE_RE), False)
    parsed = pc.strptime(pc.if_else(ok, text, None), format="%Y%m%d", unit="s",
                         error_is_null=True)
    good = np.append(parsed.is_valid().to_numpy(zero_copy_only=False), False)  # blank: bad
    bad = np.flatnonzero(~good[at])
    if len(bad):
        i = int(bad[0])
        value = text[int(at[i])].as_py() if at[i] >= 0 else None
        raise InputError(f"{_show(value)} ist kein Datum (erwartet JJJJMMTT, z. B. 20210302)",
                         path=file, row=int(lines[i]), column=column)
    values = parsed.to_numpy(zero_copy_only=False).astype("datetime64[D]")
    return values[at]


def _flags(table: pa.Table, lines: np.ndarray, file: str, column: str,
           allowed: Sequence[str]) -> np.ndarray:
    """Where a code column has ``allowed[0]`` (e.g. "1"); raises for the first value not in
    ``allowed`` (each distinct text checked once)."""
    distinct, at = _encoded(table.column(column))
    text = _key(distinct)
    known = np.append(_isin(text, pa.array(list(allowed))), False)  # blank: not allowed
    bad = np.flatnonzero(~known[at])
    if len(bad):
        i = int(bad[0])
        value = text[int(at[i])].as_py() if at[i] >= 0 else None
        raise InputError(f"{_show(value)} ist keiner der Werte {', '.join(allowed)}",
                         path=file, row=int(lines[i]), column=column)
    first = np.asarray(pc.equal(text, allowed[0]).fill_null(False)
                       .to_numpy(zero_copy_only=False), dtype=bool)
    return first[at]


def _day(value: np.datetime64) -> dt.date:
    return dt.date.fromisoformat(str(value.astype("datetime64[D]")))


# --------------------------------------------------------------------------------------------
# Services in a date range
# --------------------------------------------------------------------------------------------


def _calendar_frame(cal: pa.Table, lines: np.ndarray) -> pd.DataFrame:
    """calendar.txt as the service builder takes it (bad dates and flags raise)."""
    file = "calendar.txt"
    data: dict[str, Any] = {"service_id": pd.array(_key(cal.column("service_id")),
                                                   dtype=pd.StringDtype("pyarrow"))}
    for d in _WEEKDAYS:
        data[d] = _flags(cal, lines, file, d, ("1", "0")).astype(np.float64)
    data["start_date"] = _dates(cal, lines, file, "start_date")
    data["end_date"] = _dates(cal, lines, file, "end_date")
    return pd.DataFrame(data)


@dataclass
class _Services:
    """The services running in the date range, the feed's service period, and the
    calendar_dates rows inside the range (kept while they are few, to write them without
    reading the file again)."""

    running: pa.Array
    period: tuple[dt.date, dt.date] | None
    in_range: list[pa.Table] | None
    records: int = 0  # calendar_dates records read


#: calendar_dates rows inside the date range held for writing (more: the file is read again).
_HELD_DATES = 5_000_000


def _running(src: _Source, cal: pd.DataFrame | None, start: np.datetime64 | None,
             end: np.datetime64 | None) -> _Services:
    """The services running on a day of the range (calendar_dates.txt in blocks), and the
    first and last day any calendar row or added date covers (for the message when none
    runs)."""
    lo = start if start is not None else _OPEN[0]
    hi = end if end is not None else _OPEN[1]
    builder = _ServiceBuilder(window=(lo, hi))  # only the days of the range
    span: list[np.datetime64] = []
    if cal is not None:
        builder.add_calendar(cal)
        if len(cal):
            span += [cal["start_date"].to_numpy().astype("datetime64[D]").min(),
                     cal["end_date"].to_numpy().astype("datetime64[D]").max()]
    held: list[pa.Table] | None = []
    n = total = 0
    if src.has("calendar_dates.txt"):
        for cd, lines in src.batches("calendar_dates.txt",
                                     required=("service_id", "date", "exception_type")):
            file = "calendar_dates.txt"
            added = _flags(cd, lines, file, "exception_type", ("1", "2"))
            day = _dates(cd, lines, file, "date")
            distinct, at = _encoded(cd.column("service_id"))
            rows = np.append(builder.distinct_rows(_key(distinct)), -1)[at]
            known = rows >= 0
            builder.set_days(rows[known], day[known], added[known])
            if added.any():
                span += [day[added].min(), day[added].max()]
            total += cd.num_rows
            if held is not None:
                inside = cd.filter(pa.array((day >= lo) & (day <= hi)))
                n += inside.num_rows
                held = [*held, inside] if n <= _HELD_DATES else None
    period = (_day(min(span)), _day(max(span))) if span else None
    return _Services(builder.running(lo, hi), period, held, total)


def _clip_calendar(table: pa.Table, cal: pd.DataFrame, keep: np.ndarray,
                   start: np.datetime64 | None, end: np.datetime64 | None) -> pa.Table:
    """Calendar rows of kept services with start/end dates clipped to the range."""
    keep = keep.copy()
    first = cal["start_date"].to_numpy().astype("datetime64[D]")
    last = cal["end_date"].to_numpy().astype("datetime64[D]")
    columns = {n: table.column(n) for n in table.column_names}
    if start is not None:
        text = pa.scalar(_day(start).strftime("%Y%m%d"))
        columns["start_date"] = pc.if_else(pa.array(first < start), text,
                                           table.column("start_date"))
    if end is not None:
        text = pa.scalar(_day(end).strftime("%Y%m%d"))
        columns["end_date"] = pc.if_else(pa.array(last > end), text, table.column("end_date"))
    lo = np.maximum(first, start) if start is not None else first
    hi = np.minimum(last, end) if end is not None else last
    keep &= lo <= hi  # rows wholly outside the range: the service runs on added dates only
    clipped = pa.table(list(columns.values()), names=list(columns))
    return clipped.filter(pa.array(keep))


# --------------------------------------------------------------------------------------------
# The extraction
# --------------------------------------------------------------------------------------------


def _as_date(value: dt.date | str | None, name: str) -> np.datetime64 | None:
    if value is None:
        return None
    try:
        return np.datetime64(parse_date(value), "D")
    except ValueError:
        raise InputError(f"{name} {value!r} ist kein Datum (erwartet {DATE_FORMS})") from None


def _area_geometry(area: Any, bbox: Sequence[float] | None, buffer_km: float) -> Any:
    if (area is None) == (bbox is None):
        raise InputError("das Gebiet entweder als area (ein Polygon in EPSG:25832) oder als bbox "
                         "(min_lon, min_lat, max_lon, max_lat) angeben, nicht "
                         + ("beides" if area is not None else "keines von beiden"))
    if bbox is not None:
        _check_bbox(bbox)
        geom = _bbox_polygon(bbox)
    else:
        geom = area
        if hasattr(geom, "to_crs") and hasattr(geom, "union_all"):  # a GeoSeries/GeoDataFrame
            if geom.crs is None:
                raise InputError("area hat kein Koordinatensystem: eines setzen "
                                 "(z. B. .set_crs('EPSG:25832'))")
            geom = geom.to_crs(AREA_CRS).union_all()
        if not isinstance(geom, shapely.Geometry) or geom.is_empty or geom.area <= 0:
            raise InputError("area ist kein Polygon mit einer Fläche: erwartet ein shapely "
                             "Polygon oder MultiPolygon in EPSG:25832 (Meter)")
        x0, y0, x1, y1 = geom.bounds
        if abs(x0) <= 360 and abs(x1) <= 360 and abs(y0) <= 90 and abs(y1) <= 90:
            raise InputError(f"die Grenzen von area {x0:g},{y0:g},{x1:g},{y1:g} sehen nach Grad "
                             "aus: erwartet EPSG:25832 (Meter); bbox=... verwenden oder "
                             "umprojizieren")
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
    if buffer_km > 0:
        geom = geom.buffer(buffer_km * 1000.0, quad_segs=16)
    shapely.prepare(geom)
    return geom


def _inside_stops(stops: pa.Table, lines: np.ndarray, geom: Any, feed: Path,
                  buffer_km: float) -> tuple[np.ndarray, pa.Array]:
    """Mask of the stops inside the area, and the stop keys."""
    ids = _key(stops.column("stop_id"))
    lat = _numbers(stops, lines, "stops.txt", "stop_lat")
    lon = _numbers(stops, lines, "stops.txt", "stop_lon")
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
        where = (f"; seine Haltestellen liegen bei lon {_deg(np.min(lon[ok]))} bis "
                 f"{_deg(np.max(lon[ok]))}, lat {_deg(np.min(lat[ok]))} bis "
                 f"{_deg(np.max(lat[ok]))}") if ok.any() else ""
        raise InputError(f"das Gebiet (mit {german_number(buffer_km)} km Puffer) enthält keine der "
                         f"{de_number(stops.num_rows)} Haltestellen des Fahrplans{where}",
                         path=feed)
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

    def stream(self, file: str, names: list[str],
               blocks: Iterator[tuple[pa.Table, int]]) -> None:
        """Write the kept rows of each block (``(rows, records in the block)``)."""
        kept = total = 0
        schema = pa.schema([(n, pa.string()) for n in names])
        with self.zf.open(file, "w", force_zip64=True) as fh:
            writer = pacsv.CSVWriter(fh, schema)
            for rows, n in blocks:
                total += n
                if rows.num_rows:
                    writer.write_table(rows.cast(schema))
                    kept += rows.num_rows
            writer.close()
        self.counts[file] = (kept, total)


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
    feed_info.txt unchanged. The big files (stop_times, calendar_dates, trips, shapes,
    transfers) are read in blocks, stop_times.txt once (twice if it is not grouped by trip), so
    memory grows with the number of stops and trip ids, not of stop_times or calendar_dates.
    Values are written unchanged, columns in their original order.

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
        omitted for an open end; ``datetime.date`` or text such as ``"2026-03-09"`` or
        ``"09.03.2026"``). calendar.txt rows are clipped to the range, calendar_dates.txt
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
    >>> dorf = gemeinden[gemeinden["ags"] == "09999128"]  # Übungsdorf
    >>> summary = extract_feed(demo.gtfs, "uebungsdorf.zip", area=dorf, buffer_km=0,
    ...                        start_date="2026-03-09", end_date="2026-03-15")
    >>> summary.counts["stop_times.txt"]
    (176, 1611)
    >>> summary.counts["trips.txt"]
    (22, 268)
    """
    started = time.perf_counter()
    src_path, dst_path = Path(feed_path), Path(out_path)
    if not (isinstance(buffer_km, int | float) and math.isfinite(buffer_km) and buffer_km >= 0):
        shown = f"{buffer_km:g}" if isinstance(buffer_km, int | float) else repr(buffer_km)
        raise InputError(f"der Puffer {shown} km ist keine Entfernung: erwartet 0 km oder mehr")
    geom = _area_geometry(area, bbox, float(buffer_km))
    start, end = _as_date(start_date, "das Startdatum"), _as_date(end_date, "das Enddatum")
    if start is not None and end is not None and start > end:
        raise InputError(f"das Startdatum {_day(start)} liegt nach dem Enddatum {_day(end)}")
    if dst_path.exists() and src_path.exists() and dst_path.resolve() == src_path.resolve():
        raise InputError("die Ausgabe würde den Eingabe-Fahrplan ersetzen; ein anderes --out "
                         "wählen",
                         path=dst_path)
    files = FeedFiles(src_path)
    try:
        dst_path.parent.mkdir(parents=True, exist_ok=True)
        job = _Job(_Source(files), geom, float(buffer_km), start, end, progress)
        out, stops_in_area, skipped = _write_extract(job, dst_path)
    finally:
        files.close()
    summary = ExtractSummary(
        source=str(src_path), out_path=str(dst_path), counts=out.counts,
        stops_in_area=stops_in_area, buffer_km=float(buffer_km),
        start_date=_day(start) if start is not None else None,
        end_date=_day(end) if end is not None else None,
        skipped_files=skipped, seconds=time.perf_counter() - started,
    )
    kept, total = summary.counts["stop_times.txt"]
    logger.info("%s -> %s ausgeschnitten in %s s: %s von %s stop_times, %s von %s trips",
                src_path.name, dst_path.name, de_number(summary.seconds, 1), de_number(kept),
                de_number(total), de_number(summary.kept("trips.txt")),
                de_number(summary.counts["trips.txt"][1]))
    return summary


@dataclass
class _Job:
    """What to extract, and what was learnt about the input on the way."""

    src: _Source
    geom: Any
    buffer_km: float
    start: np.datetime64 | None
    end: np.datetime64 | None
    progress: bool
    two_passes: bool = False  # stop_times.txt is not grouped by trip
    services: _Services | None = None  # with a date range

    @property
    def dated(self) -> bool:
        return self.start is not None or self.end is not None


def _write_extract(job: _Job, dst: Path) -> tuple[_Out, int, tuple[str, ...]]:
    """Write the extract to ``dst`` (through ``dst.part``), again from the start when a file
    turns out not to be UTF-8 or stop_times.txt not to be grouped by trip."""
    part = dst.with_name(dst.name + ".part")
    try:
        for _attempt in range(len(GTFS_FILES) + 2):
            try:
                # the fastest deflate level: the extract is small, the time goes elsewhere
                with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED,
                                     compresslevel=1) as zf:
                    out = _Out(zf)
                    stops_in_area, skipped = _extract_from(job, out)
                os.replace(part, dst)
                return out, stops_in_area, skipped
            except NotUtf8 as exc:
                logger.info("der Ausschnitt beginnt neu: %s ist nicht UTF-8", exc.name)
            except _Scattered:
                logger.info("der Ausschnitt beginnt neu: stop_times.txt ist nicht nach Fahrten "
                            "geordnet und wird zweimal gelesen")
                job.two_passes = True
        raise AssertionError("the extraction restarted too often")  # pragma: no cover
    finally:
        part.unlink(missing_ok=True)


def _check_files(src: _Source) -> tuple[str, ...]:
    feed = src.path
    for file in _REQUIRED:
        if not src.has(file):
            what = "ist leer" if src.files.has(file) else "fehlt"
            raise InputFormatError(f"{file} {what}: eine Pflichtdatei von GTFS", path=feed)
    if not src.has("calendar.txt") and not src.has("calendar_dates.txt"):
        raise InputFormatError("hat weder calendar.txt noch calendar_dates.txt (GTFS braucht "
                               "eine davon)", path=feed)
    skipped = tuple(sorted(f for f in src.files.names if f not in GTFS_FILES))
    if skipped:
        logger.warning("GTFS %s: %s nicht in den Ausschnitt übernommen (keine hier gelesenen "
                       "Standarddateien): %s", feed.name, plural(len(skipped), "Datei", "Dateien"),
                       ", ".join(skipped))
    return skipped


def _candidate_trips(job: _Job, cal: pd.DataFrame | None) -> pa.Array:
    """The trip ids that may be kept: all, or (with dates) those running in the range."""
    running: pa.Array | None = None
    if job.dated:
        job.services = _running(job.src, cal, job.start, job.end)
        running, period = job.services.running, job.services.period
        if not len(running):
            span = f"von {period[0]} bis {period[1]}" if period else "an keinem Tag"
            raise InputError(
                f"von {_day(job.start) if job.start is not None else 'Beginn'} bis "
                f"{_day(job.end) if job.end is not None else 'Ende'} fährt keine Fahrt; die "
                f"Verkehrstage des Fahrplans reichen {span}", path=job.src.path)
    parts: list[pa.Array] = []
    columns = ("trip_id", "service_id") if running is not None else ("trip_id",)
    for trips, _lines in job.src.batches("trips.txt", columns,
                                         required=("route_id", "service_id")):
        ids = _key(trips.column("trip_id"))
        if running is not None:
            ids = ids.filter(pa.array(_isin(_key(trips.column("service_id")), running)))
        parts.append(ids)
    candidates = _unique(parts)
    if job.dated and not len(candidates):
        raise InputError(f"von {job.start} bis {job.end} fährt keine Fahrt", path=job.src.path)
    return candidates


def _extract_from(job: _Job, out: _Out) -> tuple[int, tuple[str, ...]]:
    src = job.src
    skipped = _check_files(src)
    # 1. Stops inside the buffered area.
    stops, stop_lines = src.read("stops.txt", ("stop_id", "stop_lat", "stop_lon"))
    inside, stop_ids = _inside_stops(stops, stop_lines, job.geom, src.path, job.buffer_km)
    n_inside = int(inside.sum())
    logger.info("%s von %s Haltestellen liegen im Gebiet mit Puffer", de_number(n_inside),
                de_number(stops.num_rows))
    # 2. The trips that may be kept (with a date range: of the services running in it).
    cal_table, cal = None, None
    if src.has("calendar.txt"):
        cal_table, cal_lines = src.read("calendar.txt", ("service_id",) + (
            (*_WEEKDAYS, "start_date", "end_date") if job.dated else ()))
        cal = _calendar_frame(cal_table, cal_lines) if job.dated else None
    candidates = _candidate_trips(job, cal)
    # 3. stop_times.txt: the rows of the trips that stop inside the area.
    kept_trips, used_stops = _copy_stop_times(job, out, stop_ids.filter(pa.array(inside)),
                                              candidates, n_inside)
    # 4. Everything the kept trips refer to.
    keep_stop = _family(stops, stop_ids, _isin(stop_ids, used_stops))
    out.write("stops.txt", stops.filter(pa.array(keep_stop)), stops.num_rows)
    refs = _copy_trips(src, out, kept_trips)
    _copy_routes(src, out, refs["route"])
    _copy_calendars(job, out, cal_table, cal, refs["service"])
    _copy_rest(src, out, {"stop": stop_ids.filter(pa.array(keep_stop)), "route": refs["route"],
                          "trip": kept_trips}, refs["shape"])
    out.counts = {f: out.counts[f] for f in GTFS_FILES if f in out.counts}
    return n_inside, skipped


def _stop_times_blocks(job: _Job, label: str, columns: Sequence[str] | None = None
                       ) -> Iterator[tuple[pa.Table, np.ndarray]]:
    """stop_times.txt in blocks, with a progress bar over its bytes if asked."""
    src, file = job.src, "stop_times.txt"
    required = ("trip_id", "stop_id")
    if not job.progress:
        yield from src.batches(file, columns, required=required)
        return
    from tqdm import tqdm

    with tqdm(total=src.size(file), unit="B", unit_scale=True, desc=label, leave=False) as bar:
        yield from src.batches(file, columns, required=required, progress=bar)


def _copy_stop_times(job: _Job, out: _Out, inside: pa.Array, candidates: pa.Array,
                     n_inside: int) -> tuple[pa.Array, pa.Array]:
    """Write the rows of the candidate trips that stop inside; their ids and stops."""
    cand = _KeyIndex(candidates, unique=True)
    seen: list[np.ndarray] = []  # hashes of the trips of each block (are trips grouped?)
    if job.two_passes:
        touched: list[pa.Array] = []
        for table, _lines in _stop_times_blocks(job, "stop_times 1/2", ("trip_id", "stop_id")):
            trip, hit = _key(table.column("trip_id")), _isin(_key(table.column("stop_id")), inside)
            found = pc.unique(trip.filter(pa.array(hit)))
            touched.append(found.filter(pa.array(cand.contains(found))))
        wanted = _unique(touched)
        blocks = _copy_blocks(job, lambda table: _isin(_key(table.column("trip_id")), wanted),
                              "stop_times 2/2")
    else:
        def keep(table: pa.Table) -> np.ndarray:
            run, trips = _runs(table.column("trip_id"))  # by the runs of rows of one trip
            seen.append(np.sort(_hash_strings(pc.drop_null(trips))))
            stops, stop_at = _encoded(table.column("stop_id"))  # by the distinct stops
            inside_at = np.append(_isin(_key(stops), inside), False)[stop_at]
            hit = np.zeros(len(trips), dtype=bool)
            hit[run[inside_at]] = True
            found = pc.unique(trips.filter(pa.array(hit)))
            found = found.filter(pa.array(cand.contains(found)))
            return _isin(trips, found)[run]

        blocks = _copy_blocks(job, keep, "stop_times")
    used: list[pa.Array] = []
    kept: list[pa.Array] = []

    def written() -> Iterator[tuple[pa.Table, int]]:
        for rows, n in blocks:
            if rows.num_rows:
                used.append(pc.unique(_key(rows.column("stop_id"))))
                kept.append(pc.unique(_key(rows.column("trip_id"))))
            yield rows, n

    out.stream("stop_times.txt", job.src.header("stop_times.txt"), written())
    if seen:  # a trip in two blocks (past the waiting rows of the last one): not grouped
        hashes = np.sort(np.concatenate(seen))
        if (hashes[1:] == hashes[:-1]).any():
            raise _Scattered
    kept_trips = _unique(kept)
    if not len(kept_trips):
        when = " im Zeitraum" if job.dated else ""
        raise InputError(f"keine Fahrt{when} hält an den {de_number(n_inside)} Haltestellen im "
                         f"Gebiet",
                         path=job.src.path)
    return kept_trips, _unique(used)


def _runs(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.Array]:
    """The run (of consecutive rows with the same value) of each row, and each run's value
    without surrounding spaces. In a file grouped by trip a block has one run per trip; a trip
    met in two runs shows up as a repeated hash, and the file is read in two passes."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    n = len(arr)
    change = np.ones(n, dtype=bool)
    if n > 1:
        same = pc.fill_null(pc.equal(arr.slice(1), arr.slice(0, n - 1)), False)
        change[1:] = ~np.asarray(same.to_numpy(zero_copy_only=False), dtype=bool)
    starts = np.flatnonzero(change)
    return np.cumsum(change) - 1, _key(arr.take(pa.array(starts)))


def _copy_blocks(job: _Job, keep: Callable[[pa.Table], np.ndarray],
                 label: str) -> Iterator[tuple[pa.Table, int]]:
    """The kept rows of stop_times.txt, block by block, each block holding whole trips: the
    rows of its last trip wait for the next block."""
    carry: pa.Table | None = None
    for table, _lines in _stop_times_blocks(job, label):
        n = table.num_rows
        if carry is not None and carry.num_rows:
            table = pa.concat_tables([carry, table])
        body, carry = _split_last_trip(table) if table.num_rows else (table, None)
        if body.num_rows:
            yield body.filter(pa.array(keep(body))), n
        else:
            yield body, n
    if carry is not None and carry.num_rows:
        yield carry.filter(pa.array(keep(carry))), 0


def _copy_trips(src: _Source, out: _Out, kept: pa.Array) -> dict[str, pa.Array]:
    """Write the kept trips (in blocks); the routes, services and shapes they refer to."""
    refs: dict[str, list[pa.Array]] = {"route": [], "service": [], "shape": []}
    names = src.header("trips.txt")

    def rows() -> Iterator[tuple[pa.Table, int]]:
        for trips, _lines in src.batches("trips.txt"):
            mine = trips.filter(pa.array(_isin(_key(trips.column("trip_id")), kept)))
            refs["route"].append(_key(mine.column("route_id")))
            refs["service"].append(_key(mine.column("service_id")))
            if "shape_id" in mine.column_names:
                refs["shape"].append(_key(mine.column("shape_id")))
            yield mine, trips.num_rows

    out.stream("trips.txt", names, rows())
    return {k: _unique(v) for k, v in refs.items()}


def _copy_routes(src: _Source, out: _Out, route_keys: pa.Array) -> None:
    routes, _lines = src.read("routes.txt", ("route_id",))
    keep_route = _isin(_key(routes.column("route_id")), route_keys)
    out.write("routes.txt", routes.filter(pa.array(keep_route)), routes.num_rows)
    if not src.has("agency.txt"):
        return
    agency, _lines = src.read("agency.txt")
    keep_agency = np.ones(agency.num_rows, dtype=bool)
    if "agency_id" in agency.column_names and "agency_id" in routes.column_names:
        refs = pc.drop_null(pc.unique(_key(routes.column("agency_id")).filter(
            pa.array(keep_route))))
        if len(refs):  # routes without agency_id: the feed's single agency stays
            ids = _key(agency.column("agency_id"))
            keep_agency = _isin(ids, refs) | ~ids.is_valid().to_numpy(zero_copy_only=False)
    out.write("agency.txt", agency.filter(pa.array(keep_agency)), agency.num_rows)


def _copy_calendars(job: _Job, out: _Out, cal_table: pa.Table | None, cal: pd.DataFrame | None,
                    services: pa.Array) -> None:
    """calendar.txt (clipped to the range) and calendar_dates.txt (in blocks) of the kept
    services."""
    src = job.src
    if cal_table is not None:
        keep = _isin(_key(cal_table.column("service_id")), services)
        if cal is not None:
            table = _clip_calendar(cal_table, cal, keep, job.start, job.end)
        else:
            table = cal_table.filter(pa.array(keep))
        out.write("calendar.txt", table, cal_table.num_rows)
    if not src.has("calendar_dates.txt"):
        return

    def rows() -> Iterator[tuple[pa.Table, int]]:
        held = job.services.in_range if job.services is not None else None
        if held is not None and job.services is not None:  # kept while they were read
            for table in held:
                yield _of_services(table, services), 0
            yield pa.table({}), job.services.records  # no rows: the count of the records
            return
        for cd, lines in src.batches("calendar_dates.txt", required=("service_id",)):
            keep = _of_services_mask(cd, services)
            if job.dated:
                day = _dates(cd, lines, "calendar_dates.txt", "date")
                if job.start is not None:
                    keep &= day >= job.start
                if job.end is not None:
                    keep &= day <= job.end
            yield cd.filter(pa.array(keep)), cd.num_rows

    out.stream("calendar_dates.txt", src.header("calendar_dates.txt"), rows())


def _of_services_mask(table: pa.Table, services: pa.Array) -> np.ndarray:
    distinct, at = _encoded(table.column("service_id"))
    return np.append(_isin(_key(distinct), services), False)[at]


def _of_services(table: pa.Table, services: pa.Array) -> pa.Table:
    return table.filter(pa.array(_of_services_mask(table, services)))


def _copy_rest(src: _Source, out: _Out, known: dict[str, pa.Array], shapes: pa.Array) -> None:
    """frequencies, transfers (in blocks), feed_info and shapes (in blocks)."""
    if src.has("frequencies.txt"):
        fr, _lines = src.read("frequencies.txt", ("trip_id",))
        keep_fr = _isin(_key(fr.column("trip_id")), known["trip"])
        out.write("frequencies.txt", fr.filter(pa.array(keep_fr)), fr.num_rows)
    if src.has("transfers.txt"):
        out.stream("transfers.txt", src.header("transfers.txt"), _transfers(src, known))
    if src.has("feed_info.txt"):
        info, _lines = src.read("feed_info.txt")
        out.write("feed_info.txt", info, info.num_rows)
    if src.has("shapes.txt"):
        def rows() -> Iterator[tuple[pa.Table, int]]:
            for block, _lines in src.batches("shapes.txt", required=("shape_id",)):
                keep = _isin(_key(block.column("shape_id")), shapes)
                yield block.filter(pa.array(keep)), block.num_rows

        out.stream("shapes.txt", src.header("shapes.txt"), rows())


def _transfers(src: _Source, known: dict[str, pa.Array]) -> Iterator[tuple[pa.Table, int]]:
    for tr, _lines in src.batches("transfers.txt"):
        keep = np.ones(tr.num_rows, dtype=bool)
        for column, kind in _TRANSFER_REFS:
            if column in tr.column_names:
                values = _key(tr.column(column))
                blank = ~values.is_valid().to_numpy(zero_copy_only=False)
                keep &= blank | _isin(values, known[kind])
        yield tr.filter(pa.array(keep)), tr.num_rows
