"""The GTFS loader: reads, converts and checks every file of a feed, collecting problems.

Private to :mod:`kurszugang.io.gtfs` (whose docstring and ``docs/gtfs.md`` describe what is read,
skipped and refused). Small files are read whole; stop_times.txt and calendar_dates.txt (and,
for a dated read, trips.txt and shapes.txt) are streamed in blocks, stop_times.txt in blocks of
whole trips, so validating needs memory for a block, not for the file.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kurszugang._arrow import isin as _isin
from kurszugang.errors import InputError, InputFormatError, Problem
from kurszugang.io._feedfiles import GTFS_FILES, FeedFiles, NotUtf8, _trim, trimmed
from kurszugang.io._gtfs_tables import (
    _DATE_RE,
    _DAY,
    _FAR_FACTOR,
    _FAR_MIN_KM,
    _FAST_HOP_SPEED,
    _FLOAT_RE,
    _INT_RE,
    _LINE,
    _PROBLEM_LABELS,
    _REQUIRED_FILES,
    _SCHEMA,
    _STRING,
    _TIME_SLACK,
    MAX_LISTED,
    MAX_SKIPPED_SHARE,
    MAX_TRIP_STOP_TIMES,
    SKIPPED_COLUMNS,
    _Col,
    _empty_intermediate,
    _expected_range,
    _fmt_seq,
    _fmt_time,
    _haversine,
    _interpolate,
    _KeyIndex,
    _keys,
    _no_skips,
    _pa,
    _parse_times,
    _period,
    _ServiceBuilder,
    _ServiceDays,
    _split_last_trip,
    _timed_neighbours,
    _untimed_message,
)
from kurszugang.io._report import ValidationReport, german_number
from kurszugang.words import plural

logger = logging.getLogger("kurszugang.io.gtfs")


def _quoted(values: np.ndarray, text: str) -> Callable[[np.ndarray], list[str]]:
    """Messages ``'<value>' <text>`` for the given positions."""
    return lambda i: [f"'{values[j]}' {text}" for j in i]


def _numbers(pattern: str) -> Callable[[pa.Array], tuple[np.ndarray, np.ndarray]]:
    """A parser of numbers matching ``pattern``: float64 values (NaN elsewhere) and where."""
    def parse(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        ok = pc.fill_null(pc.match_substring_regex(arr, pattern), False)
        okn = np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool)
        values = (pc.cast(pc.if_else(ok, arr, pa.scalar(None, pa.string())), pa.float64())
                  .to_numpy(zero_copy_only=False).astype(np.float64))
        return np.where(okn, values, np.nan), okn

    return parse


_INT_PARSER = _numbers(_INT_RE)
_FLOAT_PARSER = _numbers(_FLOAT_RE)


def _by_distinct(arr: pa.ChunkedArray | pa.Array,
                 parse: Callable[[pa.Array], tuple[np.ndarray, np.ndarray]]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``parse`` applied to the distinct values of a column and spread back to its rows.

    Dates, times and codes repeat a lot (284,499 calendar_dates of the Zug feed have 364
    dates), so each distinct text is parsed once. Returns the values and where a value was
    parsed (False for blank fields too).
    """
    flat = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if len(flat) < 4096:
        return parse(flat)
    encoded = pc.dictionary_encode(flat)
    if len(encoded.dictionary) * 4 > len(flat):
        return parse(flat)
    values, ok = parse(encoded.dictionary)
    idx = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False),
                     dtype=np.int64)
    blank = np.full(1, np.datetime64("NaT"), "datetime64[s]") if values.dtype.kind == "M" \
        else np.full(1, np.nan)
    return np.concatenate([values, blank])[idx], np.append(ok, False)[idx]


class _Scattered(Exception):
    """stop_times.txt is not grouped by trip: a trip's rows reappear later in the file."""


@dataclass
class _Group:
    """One kind of problem in one file: severity, summary for the log, count, examples."""

    severity: str
    summary: str
    skip: bool
    count: int = 0
    listed: int = 0
    examples: list[str] = field(default_factory=list)


@dataclass
class _Pass:
    """The state of one pass over stop_times.txt."""

    keys: pa.Array  # trip ids of the kept trips
    gather: np.ndarray | None = None  # per kept trip: its rows are scattered; collect them
    index: _KeyIndex = field(init=False)  # of the keys
    closed: np.ndarray = field(init=False)
    too_long: set[str] = field(default_factory=set)
    aside: list[pa.Table] = field(default_factory=list)
    sink: list[pd.DataFrame] = field(default_factory=list)
    stop_used: np.ndarray | None = None
    trip_used: np.ndarray | None = None
    rows: int = 0
    interpolated: int = 0
    interpolated_trips: int = 0
    copied: tuple[int, int] = (0, 0)

    stops: _KeyIndex | None = None  # of the stops' ids
    wanted: _KeyIndex | None = None  # with ``dates``: the trips whose rows are read

    def __post_init__(self) -> None:
        self.index = _KeyIndex(self.keys, unique=True)
        self.closed = np.zeros(len(self.keys), dtype=bool)
        self.trip_used = np.zeros(len(self.keys), dtype=bool)


# --------------------------------------------------------------------------------------------
# The loader: reads, converts and checks every table, collecting problems
# --------------------------------------------------------------------------------------------


class _Loader:
    """Reads one feed into tables and a report; :meth:`feed` finalises the dtypes.

    ``lenient``: records routing cannot use are skipped (listed as warnings, counted per file
    and reason), references routing does not use are warnings; else every problem is an error
    and nothing is skipped. ``build``: keep the tables for a :class:`Feed` (else only check,
    as :func:`validate_gtfs` does). ``dates``: read only what these service dates need.
    """

    def __init__(self, path: str | Path, *, lenient: bool, build: bool,
                 dates: tuple[dt.date, ...] | None = None) -> None:
        self.path = Path(path)
        self.lenient, self.build, self.dates = lenient, build, dates
        self.report = ValidationReport(source=str(path), kind="GTFS feed")
        self.fatal: list[Problem] = []
        self.refusal: list[str] = []
        self.tables: dict[str, pd.DataFrame] = {}
        self.drops: dict[str, np.ndarray] = {}
        self.final: dict[str, pd.DataFrame] = {}  # tables finalised while streaming
        self.present: dict[str, bool] = {}
        self.names: dict[str, list[str]] = {}
        self.files: tuple[str, ...] = ()
        self.extras: dict[str, list[str]] = {}
        self.bad: dict[tuple[str, str], np.ndarray] = {}  # (file, column) -> unparsable mask
        self.present_values: dict[tuple[str, str], np.ndarray] = {}  # non-blank fields
        self.service: _ServiceDays | None = None
        self.trip_counts: pd.Series | None = None  # trips per service (``dates``)
        self.skipped_ids: dict[str, pa.Array] = {}  # file -> ids of its skipped records
        self.interpolated = 0
        self._repeated_dates = 0
        self.stop_times_pass: _Pass | None = None
        self.groups: dict[tuple[str, str, str, bool], _Group] = {}
        self.listed: dict[tuple[str, str], int] = {}
        self.skip_ranges: list[tuple[int, int]] = []  # report.problems of skipped records
        self.records: dict[str, int] = {}  # records read per file
        self.dropped: dict[str, int] = {}  # records skipped per file
        self.skips: dict[tuple[str, str], list[Any]] = {}  # (file, code) -> count, examples, text
        self.encoding_noted: set[str] = set()
        self._src: FeedFiles | None = None

    @property
    def src(self) -> FeedFiles:
        assert self._src is not None, "the loader reads inside run()"
        return self._src

    @property
    def covered(self) -> tuple[np.datetime64, ...]:
        """The days whose trips a dated read keeps: the dates and the day before each."""
        assert self.dates is not None
        days = {np.datetime64(d, "D") for d in self.dates}
        return tuple(sorted(days | {d - _DAY for d in days}))

    # ---- problems ------------------------------------------------------------------------

    def room(self, file: str, code: str) -> int:
        """How many more problems of this kind may be listed for this file."""
        return max(MAX_LISTED - self.listed.get((file, code), 0), 0)

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
        count: int | None = None,
        skip: bool = False,
        strict_error: bool = False,
    ) -> None:
        """Record problems (one per row, up to :data:`MAX_LISTED` per file and kind).

        ``skip``: the records cannot be used for routing (lenient: a warning, the records are
        skipped by the caller). ``strict_error``: an error only under strict rules, else a
        warning (the record is kept). ``count``: how many records have the problem when only
        the first are given.
        """
        downgrade = self.lenient and (skip or strict_error)
        if downgrade:
            severity, fatal = "warning", False
        room = self.room(file, code)
        problems = [
            Problem(severity, file, None if r is None else int(r), column, m, code)
            for r, m in zip(list(rows)[:room], list(messages)[:room], strict=True)
        ]
        start = len(self.report.problems)
        self.report.problems.extend(problems)
        if skip and self.lenient:
            self.skip_ranges.append((start, len(self.report.problems)))
        if fatal:
            self.fatal.extend(problems)
        self.listed[(file, code)] = self.listed.get((file, code), 0) + len(problems)
        key = (file, code, summary, skip and self.lenient)
        group = self.groups.setdefault(key, _Group(severity, summary, skip and self.lenient))
        group.count += len(problems) if count is None else count
        group.listed += len(problems)
        group.examples.extend(str(e) for e in list(examples)[: max(3 - len(group.examples), 0)])

    def flag(
        self, file: str, idx: np.ndarray, lines: np.ndarray, column: str | None,
        messages: Callable[[np.ndarray], Sequence[str]], code: str, *, summary: str,
        examples: Sequence[Any] | np.ndarray | None = None, skip: bool = False,
        drop: np.ndarray | None = None, severity: str = "error", fatal: bool = False,
        strict_error: bool = False, skipped: np.ndarray | None = None,
    ) -> None:
        """Problems at positions ``idx`` of a table (messages built for the listed ones only).

        With ``skip`` and lenient rules the records are marked in ``drop`` (and counted): those
        at ``idx``, or the positions marked in ``skipped`` (e.g. a whole trip) when given.
        """
        if not len(idx):
            return
        shown = idx[: self.room(file, code)]
        if examples is None:
            examples = [f"line {r}" for r in lines[idx[:3]]]
        self.add(severity, file, lines[shown], column, messages(shown), code, summary=summary,
                 examples=examples, fatal=fatal, count=len(idx), skip=skip,
                 strict_error=strict_error)
        if skip and self.lenient and drop is not None:
            mask = np.zeros(len(drop), dtype=bool)
            mask[idx] = True
            self._account(file, drop, mask if skipped is None else skipped, code, summary,
                          examples)

    def reject(self, file: str, mask: np.ndarray, column: str | None,
               messages: Callable[[np.ndarray], Sequence[str]], code: str, *, summary: str,
               examples: Sequence[Any] | np.ndarray | None = None, fatal: bool = False,
               skipped: np.ndarray | None = None) -> None:
        """Records of ``self.tables[file]`` routing cannot use (skipped when lenient)."""
        self.flag(file, np.flatnonzero(mask), self.tables[file][_LINE].to_numpy(), column,
                  messages, code, summary=summary, examples=examples, skip=True,
                  drop=self.drops[file], fatal=fatal, skipped=skipped)

    def _account(self, file: str, drop: np.ndarray, mask: np.ndarray, code: str, summary: str,
                 examples: Sequence[Any] | np.ndarray) -> None:
        """Count the records newly skipped for this reason, and mark them in ``drop``."""
        new = int((mask & ~drop).sum())
        drop |= mask
        self.count_skipped(file, code, new, summary, examples)

    def count_skipped(self, file: str, code: str, n: int, summary: str,
                      examples: Sequence[Any] | np.ndarray = ()) -> None:
        if not n:
            return
        entry = self.skips.setdefault((file, code), [0, [], summary])
        entry[0] += n
        entry[1].extend(str(e) for e in list(examples)[: max(3 - len(entry[1]), 0)])
        self.dropped[file] = self.dropped.get(file, 0) + n

    def _apply_drop(self, file: str) -> pd.DataFrame:
        """Leave out the records marked as skipped (lenient); returns the skipped rows."""
        df, drop = self.tables[file], self.drops[file]
        gone = df.iloc[:0]
        if self.lenient and drop.any():
            gone = df[drop]
            self.tables[file] = df[~drop].reset_index(drop=True)
            for (f, column), mask in list(self.bad.items()):
                if f == file:
                    self.bad[(f, column)] = mask[~drop]
            for (f, column), mask in list(self.present_values.items()):
                if f == file:
                    self.present_values[(f, column)] = mask[~drop]
        self.drops[file] = np.zeros(len(self.tables[file]), dtype=bool)
        return gone

    def snapshot(self) -> tuple[Any, ...]:
        """The problem state, to undo a pass over a file that has to be read again."""
        groups = {k: _Group(g.severity, g.summary, g.skip, g.count, g.listed, list(g.examples))
                  for k, g in self.groups.items()}
        skips = {k: [v[0], list(v[1]), v[2]] for k, v in self.skips.items()}
        return (len(self.report.problems), len(self.fatal), len(self.skip_ranges), groups,
                dict(self.listed), skips, dict(self.dropped), dict(self.records),
                set(self.encoding_noted))

    def restore(self, snap: tuple[Any, ...]) -> None:
        (n_problems, n_fatal, n_ranges, self.groups, self.listed, self.skips, self.dropped,
         self.records, self.encoding_noted) = snap
        del self.report.problems[n_problems:]
        del self.fatal[n_fatal:]
        del self.skip_ranges[n_ranges:]

    def log_summaries(self) -> None:
        """One log line per kind of problem, with the count and a few example ids."""
        for level, text in self.summary_lines():
            logger.log(level, "%s", text)

    def summary_lines(self) -> list[tuple[int, str]]:
        """The log lines of :meth:`log_summaries` (also kept with a cached feed)."""
        merged: dict[tuple[str, str, str], list[Any]] = {}
        for (_file, code, summary, _skip), g in self.groups.items():
            entry = merged.setdefault((g.severity, code, summary), [0, []])
            entry[0] += g.count
            entry[1].extend(g.examples[: max(3 - len(entry[1]), 0)])
        name = self.path.name
        lines = []
        for (severity, _code, summary), (count, examples) in merged.items():
            shown = f" (z. B. {', '.join(examples)})" if examples else ""
            counted = (plural(count, "Fehler", "Fehler") if severity == "error"
                       else plural(count, "Warnung", "Warnungen"))
            level = logging.ERROR if severity == "error" else logging.WARNING
            lines.append((level, f"GTFS {name}: {counted}: {summary}{shown}"))
        return lines

    # ---- reading -------------------------------------------------------------------------

    def run(self) -> None:
        with FeedFiles(self.path) as src:
            self._src = src
            self.files = src.names
            for file in GTFS_FILES:
                self._prepare(file)
            self._check_files()
            self._warn_unknown_files()
            for file in ("agency.txt", "stops.txt", "routes.txt", "calendar.txt",
                         "frequencies.txt", "transfers.txt", "feed_info.txt"):
                self._read_whole(file)
            self._check_stops()
            self._check_routes()
            self._read_services()
            self._read_trips()
            self._read_stop_times()
            self._read_shapes()
            self._check_frequencies()
            self._check_transfers()
            if not self.dates:
                self._check_unused()
        self._finish()
        self._count()

    def _prepare(self, file: str) -> None:
        """Whether the file is there and readable; its header (duplicate names reported)."""
        self.present[file] = False
        if not self.src.has(file):
            return
        try:
            if self.src.is_empty(file):
                self._empty_file(file)
                return
            raw = self.src.header(file)
        except InputFormatError as exc:
            self._unreadable(file, exc)
            return
        names: list[str] = []
        for i, name in enumerate(raw):
            name = name or f"unnamed_{i + 1}"
            if name in names:
                self.add("error", file, [1], name, ["appears twice in the header; the second "
                         "column is kept as " + f"{name}_{i + 1}"], "duplicate_column",
                         summary="doppelte Spalten", examples=[f"{file}:{name}"])
                name = f"{name}_{i + 1}"
            names.append(name)
        self.names[file] = names
        self.present[file] = True
        standard = {c.name for c in _SCHEMA[file]}
        self.extras[file] = [n for n in names if n not in standard]

    def _empty_file(self, file: str) -> None:
        if file in _REQUIRED_FILES:
            self.add("error", file, [None], None,
                     ["is empty (0 bytes); expected a header line and records"], "empty_file",
                     summary="leere Pflichtdateien", examples=[file], fatal=True)
        else:
            self.add("warning", file, [None], None, ["is empty (0 bytes); read as absent"],
                     "empty_file", summary="leere optionale Dateien", examples=[file])

    def _unreadable(self, file: str, exc: InputFormatError) -> None:
        self.present[file] = False
        self.names.pop(file, None)
        self.add("error", file, [exc.row], None, [exc.message], "unreadable",
                 summary="unlesbare Dateien", examples=[file], fatal=True)

    def _note_encoding(self, file: str) -> None:
        note = self.src.notes.get(file)
        if note and file not in self.encoding_noted:
            self.encoding_noted.add(file)
            self.add("warning", file, [None], None, [note], "encoding",
                     summary="Dateien nicht in UTF-8", examples=[file])

    def _warn_unknown_files(self) -> None:
        unknown = [f for f in self.files if f not in GTFS_FILES]
        for file in unknown:
            self.add("warning", file, [None], None,
                     ["is not read (kurszugang does not use it for routing)"], "unknown_file",
                     summary="nicht gelesene Dateien", examples=unknown[:3])

    def _columns(self, file: str) -> list[str] | None:
        """The columns to read: all, or (validating, or with ``dates`` for the big files) the
        standard ones."""
        names = self.names[file]
        if self.build and not (self.dates and file in ("trips.txt", "stop_times.txt",
                                                       "shapes.txt")):
            return None
        standard = {c.name for c in _SCHEMA[file]}
        return [n for n in names if n in standard]

    def _bad_records(self, file: str, bad: list[tuple[int, int, int]]) -> None:
        """Records with another number of fields than the header (pyarrow skipped them)."""
        if not bad:
            return
        n = len(self.names[file])
        swallowed = sum(b[2] for b in bad)  # lines read as part of a record with an open quote
        self.records[file] = self.records.get(file, 0) + len(bad) + swallowed
        lines = np.array([b[0] for b in bad], dtype=np.int64)

        def message(j: int) -> str:
            _line, k, more = bad[j]
            text = f"has {k} fields, expected {n} as in the header; record skipped"
            if more:
                text += (f" (a quote opened on this line runs over the {more:,} lines after it: "
                         "is a closing quote missing?)")
            return text

        self.flag(file, np.arange(len(bad)), lines, None, lambda i: [message(j) for j in i],
                  "bad_record", summary="Datensätze mit falscher Zahl von Feldern (übersprungen)",
                  examples=[f"{file} line {r}" for r in lines[:3]], skip=True,
                  drop=np.zeros(len(bad), dtype=bool))
        if self.lenient:
            self.count_skipped(file, "bad_record", swallowed,
                               "records with a wrong number of fields (skipped)")

    def _read_whole(self, file: str) -> None:
        """Read, convert and store one file (an empty table when absent or unreadable)."""
        table, lines = None, None
        if self.present[file]:
            bad: list[tuple[int, int, int]] = []
            try:
                table, lines = self.src.read(file, self.names[file], self._columns(file),
                                             bad_records=bad)
            except InputFormatError as exc:
                self._unreadable(file, exc)
            self._note_encoding(file)
            self._bad_records(file, bad)
        self._store(file, table, lines)

    def _store(self, file: str, table: pa.Table | None, lines: np.ndarray | None) -> None:
        df, drop = self._convert(file, table, lines, keep_masks=True)
        self.tables[file] = df
        self.drops[file] = drop
        self.records[file] = self.records.get(file, 0) + len(df)

    def _stream(self, file: str, body: Callable[[pa.Table, np.ndarray], None],
                restart: Callable[[], None], columns: list[str] | None = None) -> None:
        """Feed the blocks of a file to ``body`` (a table of text and the lines), reading the
        file again from the start (after ``restart``) if it turns out not to be UTF-8."""
        if not self.present[file]:
            return
        snap = self.snapshot()
        for _attempt in range(2):
            bad: list[tuple[int, int, int]] = []
            restart()
            try:
                for batch, lines in self.src.blocks(file, self.names[file],
                                                    columns or self._columns(file),
                                                    bad_records=bad):
                    body(pa.Table.from_batches([batch]), lines)
            except NotUtf8:
                self.restore(snap)
                continue
            except InputFormatError as exc:
                self._unreadable(file, exc)
            self._note_encoding(file)
            self._bad_records(file, bad)
            return
        raise AssertionError("unreachable")  # pragma: no cover - Windows-1252 is tried once

    # ---- converting ----------------------------------------------------------------------

    def _convert(self, file: str, table: pa.Table | None, lines: np.ndarray | None, *,
                 keep_masks: bool = False) -> tuple[pd.DataFrame, np.ndarray]:
        """Typed intermediate columns (strings, float64 for ints and times with NaN = missing,
        dates) and the mask of records that cannot be used (marked for skipping).

        With ``keep_masks`` the unparsable and non-blank masks of each column are kept in
        :attr:`bad` and :attr:`present_values` (for the checks of whole tables).
        """
        schema = _SCHEMA[file]
        if table is None or lines is None:
            data: dict[str, Any] = {c.name: _empty_intermediate(c) for c in schema}
            data.update({n: pd.array([], dtype=_STRING) for n in self.extras.get(file, [])
                         if self.build})
            data[_LINE] = np.zeros(0, dtype=np.int64)
            return pd.DataFrame(data), np.zeros(0, dtype=bool)
        n = table.num_rows
        drop = np.zeros(n, dtype=bool)
        names = table.column_names
        data = {}
        for col in schema:
            if col.name not in names:
                if col.required and col.name not in self.names.get(file, []):
                    self._missing_column(file, col)
                data[col.name] = _empty_intermediate(col, n)
                if keep_masks:  # not blank but unknown: no repairs and no follow-up errors
                    self.bad[(file, col.name)] = np.ones(n, dtype=bool)
                continue
            values, bad, present = self._parse_column(file, col, table.column(col.name), lines,
                                                      drop)
            data[col.name] = values
            if keep_masks:
                self.bad[(file, col.name)] = bad
                self.present_values[(file, col.name)] = present
        for name in names:
            if name not in data:
                data[name] = pd.array(table.column(name), dtype=_STRING)
        data[_LINE] = lines
        return pd.DataFrame(data), drop

    def _missing_column(self, file: str, col: _Col) -> None:
        if any(p.code == "missing_column" and p.file == file and p.column == col.name
               for p in self.fatal):
            return
        self.add("error", file, [1], col.name, ["is missing (a required column)"],
                 "missing_column", summary="fehlende Pflichtspalten",
                 examples=[f"{file}:{col.name}"], fatal=True)

    def _parse_column(self, file: str, col: _Col, arr: pa.ChunkedArray, lines: np.ndarray,
                      drop: np.ndarray) -> tuple[Any, np.ndarray, np.ndarray]:
        """A column's values, its unparsable mask and its non-blank mask (problems reported)."""
        present = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        none = np.zeros(len(present), dtype=bool)
        if col.needed and not present.all():
            idx = np.flatnonzero(~present)
            skip = col.blank_unusable
            self.flag(file, idx, lines, col.name,
                      lambda i: ["is empty (a value is required)"] * len(i), "missing_value",
                      summary=f"leere Werte in {col.name} in {file}", skip=skip, drop=drop,
                      fatal=col.no_value, strict_error=not skip)
        if col.kind == "str":
            return pd.array(arr, dtype=_STRING), none, present
        if col.kind == "date":
            values, ok = _by_distinct(arr, self._parse_date)
            bad = present & ~ok
            self._report_bad(file, col, arr, bad, lines, "bad_date",
                             "is not a date (expected YYYYMMDD, e.g. 20210302)", drop)
            return values, bad, present
        if col.kind == "time":
            values, ok = _by_distinct(arr, _parse_times)
            bad = present & ~ok
            self._report_bad(file, col, arr, bad, lines, "bad_time",
                             "is not a time (expected H:MM:SS or HH:MM:SS, e.g. 07:05:00 or "
                             "25:13:00)", drop)
            return values, bad, present
        return self._parse_number(file, col, arr, present, lines, drop)

    def _parse_number(self, file: str, col: _Col, arr: pa.ChunkedArray, present: np.ndarray,
                      lines: np.ndarray, drop: np.ndarray) -> tuple[Any, np.ndarray, np.ndarray]:
        values, okn = _by_distinct(arr, _INT_PARSER if col.kind == "int" else _FLOAT_PARSER)
        bad = present & ~okn
        what = "a whole number" if col.kind == "int" else "a number"
        self._report_bad(file, col, arr, bad, lines, "bad_number", f"is not {what}", drop)
        out = np.zeros(len(values), dtype=bool)
        if col.lo is not None:
            out |= values < col.lo
        if col.hi is not None:
            out |= values > col.hi
        if out.any():
            self._report_bad(file, col, arr, out, lines, "out_of_range",
                             f"is out of range ({_expected_range(col)})", drop, quote=False)
            values[out] = np.nan
        if col.default is not None:
            values = np.where(np.isnan(values), float(col.default), values)
        return values, bad | out, present

    @staticmethod
    def _parse_date(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        ok = pc.fill_null(pc.match_substring_regex(arr, _DATE_RE), False)
        candidate = pc.if_else(ok, arr, pa.scalar(None, pa.string()))
        parsed = pc.strptime(candidate, format="%Y%m%d", unit="s", error_is_null=True)
        # strptime reads 20210230 as 2021-03-02: a real date keeps its month and day.
        month = pc.cast(pc.utf8_slice_codeunits(candidate, 4, 6), pa.int64())
        day = pc.cast(pc.utf8_slice_codeunits(candidate, 6, 8), pa.int64())
        same = pc.and_(pc.equal(pc.month(parsed), month), pc.equal(pc.day(parsed), day))
        valid = np.asarray(pc.fill_null(same, False).to_numpy(zero_copy_only=False), dtype=bool)
        values = parsed.to_numpy(zero_copy_only=False).astype("datetime64[s]")
        values[~valid] = np.datetime64("NaT")
        return values, valid

    def _report_bad(
        self, file: str, col: _Col, arr: pa.ChunkedArray, bad: np.ndarray, lines: np.ndarray,
        code: str, text: str, drop: np.ndarray, *, quote: bool = True,
    ) -> None:
        if not bad.any():
            return
        idx = np.flatnonzero(bad)

        def messages(shown: np.ndarray) -> list[str]:
            raw = arr.take(pa.array(shown)).to_pylist()
            return [f"'{v}' {text}" if quote else f"{v} {text}" for v in raw]

        raw = arr.take(pa.array(idx[:3])).to_pylist()
        examples = [f"'{v}'" if quote else str(v) for v in raw]
        skip = col.bad_unusable
        self.flag(file, idx, lines, col.name, messages, code,
                  summary=f"Werte in {file} {col.name}: {_PROBLEM_LABELS[code]}",
                  examples=examples, skip=skip, drop=drop,
                  fatal=code in ("bad_time", "bad_date") or (col.needed and col.no_value),
                  strict_error=not skip)

    # ---- checks of whole tables ----------------------------------------------------------

    def _check_files(self) -> None:
        for file in _REQUIRED_FILES:
            if not self.present[file] and not any(
                p.file == file and p.code in ("empty_file", "unreadable") for p in self.fatal
            ):
                self.add("error", file, [None], None, ["is missing (a required file)"],
                         "missing_file", summary="fehlende Pflichtdateien", examples=[file],
                         fatal=True)
        if not self.present["calendar.txt"] and not self.present["calendar_dates.txt"]:
            self.add("error", "calendar.txt", [None], None,
                     ["is missing, and so is calendar_dates.txt (the feed needs one of them)"],
                     "missing_file", summary="fehlende Pflichtdateien",
                     examples=["calendar.txt"], fatal=True)

    def _duplicates(self, file: str, columns: list[str]) -> None:
        """Records repeating an earlier record's key: listed, the later ones skipped."""
        df = self.tables[file]
        notna = df[columns].notna().all(axis=1).to_numpy(bool)
        keyed = df[notna]
        dup = keyed.duplicated(columns, keep="first").to_numpy(bool)
        if not dup.any():
            return
        first = keyed[~dup]
        rows = keyed[dup].merge(first[[*columns, _LINE]], on=columns, suffixes=("", "_first"),
                                how="left")
        key = columns[-1]
        values = rows[key].astype(str).to_numpy(object)
        firsts = rows[_LINE + "_first"].to_numpy()
        other = rows[columns[0]].to_numpy(object) if len(columns) > 1 else None
        positions = np.flatnonzero(notna)[dup]
        mask = np.zeros(len(df), dtype=bool)
        mask[positions] = True

        def messages(shown: np.ndarray) -> list[str]:
            k = np.searchsorted(positions, shown)
            if other is None:
                return [f"'{values[j]}' appears more than once (also on line {firsts[j]})"
                        for j in k]
            return [f"'{values[j]}' appears more than once for {columns[0]} '{other[j]}' (also "
                    f"on line {firsts[j]})" for j in k]

        self.reject(file, mask, key, messages, "duplicate_key",
                    summary=f"doppelte {' + '.join(columns)} in {file}",
                    examples=values[:3].tolist())

    def _refs(self, file: str, column: str, known: pd.Series | pd.Index) -> np.ndarray:
        """Where ``file.column`` has a value that is not in ``known``."""
        values = self.tables[file][column]
        return values.notna().to_numpy(bool) & ~_isin(values, known)

    def _reject_refs(self, file: str, column: str, target: str, known: pd.Series | pd.Index,
                     codes: tuple[str, str], *, suffix: str = "",
                     missing: np.ndarray | None = None) -> None:
        """Skip records referring to a ``target`` record that is missing or was skipped
        (``missing``: where the reference is not in ``known``, if already known)."""
        if missing is None:
            missing = self._refs(file, column, known)
        if not missing.any():
            return
        values = self.tables[file][column].to_numpy(object)
        suffix_de = suffix.replace(" nor in ", " und nicht in ")
        pool = self.skipped_ids.get(target)
        skipped = np.zeros(len(missing), dtype=bool)
        if pool is not None and len(pool):
            skipped = missing & _isin(self.tables[file][column], pool.to_pylist())
        cases = ((missing & ~skipped, codes[0], f"is not in {target}{suffix}",
                  f"nicht in {target}{suffix_de}"),
                 (skipped, codes[1], f"is skipped in {target} (see there)",
                  f"in {target} übersprungen"))
        for mask, code, text, summary in cases:
            if mask.any():
                self.reject(file, mask, column, _quoted(values, text), code,
                            summary=f"Werte in {file} {column} {summary}",
                            examples=pd.unique(values[mask])[:3])

    def _skipped_ids(self, file: str, column: str, gone: pd.DataFrame) -> None:
        """Remember the ids of skipped records that no kept record has."""
        if gone.empty:
            return
        ids = _keys(gone[column])
        kept = _keys(self.tables[file][column])
        self.skipped_ids[file] = ids.filter(pc.invert(pc.is_in(ids, value_set=kept)))

    def _check_stops(self) -> None:
        file = "stops.txt"
        self._duplicates(file, ["stop_id"])
        stops = self.tables[file]
        # Coordinates are required for stops, stations and entrances (location_type 0-2).
        located = stops["location_type"].to_numpy() <= 2
        for column in ("stop_lat", "stop_lon"):
            present = self.present_values.get((file, column))
            if present is None:
                continue  # the column is missing: reported already
            blank = ~present & located
            self.reject(file, blank, column,
                        lambda i: ["is empty (required for location_type 0, 1 and 2)"] * len(i),
                        "missing_value", summary=f"Haltestellen ohne {column}",
                        examples=stops["stop_id"][blank].tolist()[:3])
        self._check_coordinates(located)
        ps = stops["parent_station"]
        dangling = ps.notna().to_numpy(bool) & ~_isin(ps, stops["stop_id"])
        if dangling.any():
            vals = ps.to_numpy(object)
            self.flag(file, np.flatnonzero(dangling), stops[_LINE].to_numpy(), "parent_station",
                      lambda i: [f"'{vals[j]}' is not in stops.txt (kept as given)" for j in i],
                      "missing_parent_station", severity="warning",
                      summary="Haltestellen, deren parent_station nicht in stops.txt ist (unverändert behalten)",
                      examples=pd.unique(vals[dangling])[:3])
        self._skipped_ids(file, "stop_id", self._apply_drop(file))

    def _check_coordinates(self, located: np.ndarray) -> None:
        """Stops at 0,0, with latitude and longitude swapped, or far from all the others."""
        file = "stops.txt"
        stops = self.tables[file]
        lat = stops["stop_lat"].to_numpy(np.float64)
        lon = stops["stop_lon"].to_numpy(np.float64)
        ok = located & np.isfinite(lat) & np.isfinite(lon) & ~self.drops[file]
        zero = ok & (lat == 0) & (lon == 0)
        ref = ok & ~zero
        far = swapped = np.zeros(len(lat), dtype=bool)
        if ref.any():
            mlat, mlon = float(np.median(lat[ref])), float(np.median(lon[ref]))
            km = _haversine(lat, lon, np.full_like(lat, mlat), np.full_like(lon, mlon)) / 1000
            radius = max(_FAR_MIN_KM, _FAR_FACTOR * float(np.median(km[ref])))
            back = _haversine(lon, lat, np.full_like(lat, mlat), np.full_like(lon, mlon)) / 1000
            far = ref & (km > radius)
            swapped = far & (np.abs(lon) <= 90) & (back <= radius)
            far &= ~swapped
        ids = stops["stop_id"].to_numpy(object)
        around = f"lat {mlat:.2f}, lon {mlon:.2f}" if ref.any() else ""
        cases: list[tuple[np.ndarray, Callable[[np.ndarray], list[str]], str]] = [
            (zero, lambda i: ["0 and stop_lon 0 put the stop at 0°N 0°E in the Atlantic "
                              "(coordinates missing?)"] * len(i), "stops at 0,0"),
            (swapped, lambda i: [f"{lat[j]:g} and stop_lon {lon[j]:g} look swapped: the feed's "
                                 f"other stops lie around {around}" for j in i],
             "Haltestellen mit vertauschter Breite und Länge"),
            (far, lambda i: [f"{lat[j]:g} and stop_lon {lon[j]:g} lie {km[j]:,.0f} km from the "
                             f"middle of the feed's stops ({around}); expected within "
                             f"{radius:,.0f} km: check the coordinates" for j in i],
             "Haltestellen weit weg von allen anderen"),
        ]
        lines = stops[_LINE].to_numpy()
        for mask, messages, summary in cases:
            self.flag(file, np.flatnonzero(mask), lines, "stop_lat", messages,
                      "implausible_coordinates", summary=summary, examples=ids[mask][:3],
                      strict_error=True)

    def _check_routes(self) -> None:
        file = "routes.txt"
        self._duplicates(file, ["route_id"])
        if self.present["agency.txt"]:
            missing = self._refs(file, "agency_id", self.tables["agency.txt"]["agency_id"])
            values = self.tables[file]["agency_id"].to_numpy(object)
            self.flag(file, np.flatnonzero(missing), self.tables[file][_LINE].to_numpy(),
                      "agency_id", lambda i: [f"'{values[j]}' is not in agency.txt" for j in i],
                      "missing_agency", summary="Werte in routes.txt agency_id, die nicht in agency.txt sind",
                      examples=pd.unique(values[missing])[:3], strict_error=True)
        self._skipped_ids(file, "route_id", self._apply_drop(file))

    # ---- services and trips --------------------------------------------------------------

    def _read_services(self) -> None:
        """calendar.txt (checked whole), then calendar_dates.txt in blocks, into the service x
        day matrix; keeps the rows a Feed needs."""
        file = "calendar.txt"
        self._duplicates(file, ["service_id"])
        cal = self.tables[file]
        reversed_ = (cal["start_date"] > cal["end_date"]).to_numpy(bool)
        starts, ends = cal["start_date"], cal["end_date"]
        self.reject(file, reversed_, "end_date",
                    lambda i: [f"{ends.iloc[j]:%Y%m%d} is before start_date "
                               f"{starts.iloc[j]:%Y%m%d}" for j in i], "bad_date_range",
                    summary="calendar-Zeilen, die vor ihrem Beginn enden",
                    examples=cal["service_id"][reversed_].tolist()[:3])
        gone = self._apply_drop(file)
        self.service = self._read_calendar_dates().result()
        if not gone.empty:
            ids = _keys(gone["service_id"])
            known = pa.array(np.asarray(self.service.ids, dtype=object), type=pa.string())
            self.skipped_ids[file] = ids.filter(pc.invert(pc.is_in(ids, value_set=known)))

    def _read_calendar_dates(self) -> _ServiceBuilder:
        file = "calendar_dates.txt"
        kept: list[pd.DataFrame] = []
        repeated: list[pd.DataFrame] = []
        state: dict[str, _ServiceBuilder] = {}
        covered = np.array(self.covered, dtype="datetime64[D]") if self.dates else None

        def restart() -> None:
            state["b"] = _ServiceBuilder(track_duplicates=not self.dates)
            state["b"].add_calendar(self.tables["calendar.txt"])
            kept.clear()
            repeated.clear()

        def body(table: pa.Table, lines: np.ndarray) -> None:
            df, drop = self._convert(file, table, lines)
            self.records[file] = self.records.get(file, 0) + len(df)
            if self.lenient and drop.any():
                df = df[~drop]
            again = state["b"].add_dates(df)
            if len(again) and sum(len(r) for r in repeated) < MAX_LISTED:
                repeated.append(df.iloc[again][["service_id", "date", _LINE]])
            if len(again):
                self._repeated_dates += len(again)
            if self.build:
                if covered is not None:
                    df = df[np.isin(df["date"].to_numpy().astype("datetime64[D]"), covered)]
                kept.append(df)

        self._repeated_dates = 0
        if self.present[file]:
            self._stream(file, body, restart)  # which calls restart() first
        else:
            restart()
        table = pd.concat(kept, ignore_index=True) if kept else self._convert(file, None, None)[0]
        self.tables[file] = table
        self.drops[file] = np.zeros(len(table), dtype=bool)
        self.records.setdefault(file, 0)
        if repeated:
            self._repeated_calendar_dates(pd.concat(repeated, ignore_index=True))
        return state["b"]

    def _repeated_calendar_dates(self, rows: pd.DataFrame) -> None:
        """Warn about calendar_dates rows repeating an earlier row's service and date."""
        file = "calendar_dates.txt"
        dates = pd.Series(rows["date"].to_numpy()).dt.strftime("%Y%m%d").to_numpy(object)
        services = rows["service_id"].to_numpy(object)
        keys = pa.array([f"{s}\x00{d}" for s, d in zip(services, dates, strict=True)])
        first = self._first_lines(file, keys)
        firsts = first.reindex(keys.to_pylist()).to_numpy()
        lines = rows[_LINE].to_numpy()
        self.flag(file, np.arange(len(rows)), lines, "date",
                  lambda i: [f"'{dates[j]}' appears more than once for service_id "
                             f"'{services[j]}' (also on line {firsts[j]})" for j in i],
                  "duplicate_calendar_date",
                  summary="doppelte service_id + date in calendar_dates.txt",
                  examples=dates[:3].tolist(), severity="warning")
        group = self.groups[(file, "duplicate_calendar_date",
                             "doppelte service_id + date in calendar_dates.txt", False)]
        group.count += self._repeated_dates - len(rows)

    def _first_lines(self, file: str, keys: pa.Array) -> pd.Series:
        """The first line of each ``service_id + date`` key, read again from the file."""
        found: list[pd.DataFrame] = []
        for batch, lines in self.src.blocks(file, self.names[file], ["service_id", "date"],
                                            bad_records=[]):
            joined = pc.binary_join_element_wise(batch.column("service_id"),
                                                 batch.column("date"), "\x00")
            hit = np.asarray(pc.fill_null(pc.is_in(joined, value_set=keys), False)
                             .to_numpy(zero_copy_only=False), dtype=bool)
            if hit.any():
                found.append(pd.DataFrame({"key": joined.filter(pa.array(hit)).to_pylist(),
                                           "line": lines[hit]}))
        if not found:
            return pd.Series(dtype=np.int64)
        return pd.concat(found).groupby("key")["line"].min()

    def _read_trips(self) -> None:
        file = "trips.txt"
        if self.dates and self.present[file] and "service_id" in self.names[file]:
            self._read_dated_trips()
        else:
            self._read_whole(file)
        self._duplicates(file, ["trip_id"])
        self._reject_refs(file, "route_id", "routes.txt", self.tables["routes.txt"]["route_id"],
                          ("missing_route", "skipped_route"))
        assert self.service is not None
        self._reject_refs(file, "service_id", "calendar.txt", self.service.ids,
                          ("missing_service", "skipped_service"),
                          suffix=" nor in calendar_dates.txt")
        self._skipped_ids(file, "trip_id", self._apply_drop(file))

    def _read_dated_trips(self) -> None:
        """Stream trips.txt keeping the trips of the services running on the covered days, and
        count every service's trips (for :meth:`Feed.service_counts`)."""
        file = "trips.txt"
        sd = self.service
        assert sd is not None
        cols = [c for c in (sd.column(d.astype(dt.date)) for d in self.covered) if c is not None]
        runs = sd.active[:, cols].any(axis=1) if cols else np.zeros(len(sd.ids), bool)
        running = pa.array(sd.ids.to_numpy(dtype=object)[runs], type=pa.string())
        kept: list[tuple[pd.DataFrame, np.ndarray]] = []
        counts: list[pa.StructArray] = []

        def restart() -> None:
            kept.clear()
            counts.clear()

        def body(table: pa.Table, lines: np.ndarray) -> None:
            service = table.column("service_id")
            counts.append(pc.value_counts(service))
            keep = pc.fill_null(pc.is_in(service, value_set=running), False)
            sub = table.filter(keep)
            if sub.num_rows:
                mask = np.asarray(keep.to_numpy(zero_copy_only=False), dtype=bool)
                kept.append(self._convert(file, sub, lines[mask]))

        self._stream(file, body, restart)
        if kept:
            df = pd.concat([k[0] for k in kept], ignore_index=True)
            drop = np.concatenate([k[1] for k in kept])
        else:
            df, drop = self._convert(file, None, None)
        self.tables[file], self.drops[file] = df, drop
        self.records[file] = self.records.get(file, 0) + len(df)
        counted = [c for c in counts if len(c)]
        vc = pa.concat_arrays(counted) if counted else None
        frame = pd.DataFrame({
            "service": vc.field("values").to_pylist() if vc is not None else [],
            "n": vc.field("counts").to_numpy() if vc is not None else np.zeros(0, np.int64)})
        per = frame.dropna().groupby("service")["n"].sum()
        self.trip_counts = pd.Series(per.to_numpy(np.int64), index=pd.Index(per.index, dtype=object))

    # ---- stop_times, streamed in blocks of whole trips -----------------------------------

    def _read_stop_times(self) -> None:
        """Stream stop_times.txt: each block of whole trips is converted, checked, repaired
        and (for a Feed) kept; only the block is in memory while it is checked.

        Trips are assumed grouped (every row of a trip together, as exports write them); the
        rows of the last trip of a block wait for the next block. A trip found again after
        its rows were done means the file is not grouped: the pass is undone and the file read
        again, first counting each trip's rows and runs, then collecting the rows of the
        scattered trips to check them at the end.
        """
        file = "stop_times.txt"
        keys = _keys(self.tables["trips.txt"]["trip_id"])
        p = _Pass(keys)
        if not self.present[file]:
            self._finish_stop_times(p)
            return
        snap = self.snapshot()
        for _attempt in range(3):
            try:
                self._stop_times_pass(p)
                break
            except NotUtf8:
                self.restore(snap)
                p = _Pass(keys, gather=p.gather, too_long=set(p.too_long))
            except _Scattered:
                self.restore(snap)
                rows, runs = self._trip_layout(keys)
                gather = (runs > 1) & (rows <= MAX_TRIP_STOP_TIMES)
                p = _Pass(keys, gather=gather)
                for trip in keys.filter(pa.array(rows > MAX_TRIP_STOP_TIMES)).to_pylist():
                    self._mark_long(p, trip, None)
                logger.info("GTFS %s: stop_times.txt ist nicht nach Fahrten geordnet (%s "
                            "verstreut) und wird noch einmal gelesen", self.path.name,
                            plural(int(gather.sum()), "Fahrt", "Fahrten"))
            except InputFormatError as exc:
                self._unreadable(file, exc)
                p = _Pass(keys)
                break
        else:  # pragma: no cover - each retry learns one thing
            raise AssertionError("stop_times.txt read three times")
        self._note_encoding(file)
        self._finish_stop_times(p)

    def _stop_times_pass(self, p: _Pass) -> None:
        file = "stop_times.txt"
        carry: pa.Table | None = None
        bad: list[tuple[int, int, int]] = []
        blocks = self.src.blocks(file, self.names[file], self._columns(file), bad_records=bad,
                                 trim=not self.dates)
        current = next(blocks, None)
        while current is not None:
            batch, lines = current
            current = next(blocks, None)  # one block ahead: is this the last one?
            table = self._admit(p, pa.Table.from_batches([batch]).append_column(
                _LINE, pa.array(lines, pa.int64())))
            if carry is not None and carry.num_rows:
                table = pa.concat_tables([carry, table])
            if not table.num_rows:
                continue
            carry = None
            if current is not None:  # the last trip may go on in the next block
                table, carry = _split_last_trip(table)
                carry = self._long_trip(p, carry)
            table = self._long_trips_in_block(p, table)
            if p.gather is None:
                codes = p.index.positions(table.column("trip_id"))
                codes = codes[codes >= 0]
                if p.closed[codes].any():
                    raise _Scattered
                p.closed[codes] = True
            self._stop_times_block(p, table)
        if p.aside:
            self._stop_times_block(p, pa.concat_tables(p.aside))
        self._bad_records(file, bad)

    def _admit(self, p: _Pass, table: pa.Table) -> pa.Table:
        """The rows of a block to check now: not those of other dates' trips (``dates``), of
        too long trips (counted), or of scattered trips (set aside for the end)."""
        if self.dates:  # read untrimmed: trim the trip ids, keep the dates' rows, trim those
            if p.wanted is None:
                wanted = p.keys
                skipped = self.skipped_ids.get("trips.txt")
                if skipped is not None and len(skipped):
                    wanted = pa.concat_arrays([wanted, skipped])
                p.wanted = _KeyIndex(wanted)
            keep = p.wanted.positions(_trim(table.column("trip_id"))) >= 0
            table = table.filter(pa.array(keep))
            lines = table.column(_LINE)
            table = trimmed(table.drop_columns([_LINE])).append_column(_LINE, lines)
        trip = table.column("trip_id")
        p.rows += table.num_rows  # the records read (with ``dates``: of the dates' trips)
        if p.too_long:
            long = pc.fill_null(pc.is_in(trip, value_set=pa.array(sorted(p.too_long))), False)
            n = pc.sum(long).as_py() or 0
            if n:
                self._count_long(n)
                table = table.filter(pc.invert(long))
                trip = table.column("trip_id")
        if p.gather is not None and p.gather.any():
            codes = p.index.positions(trip)
            aside = np.zeros(len(codes), dtype=bool)
            aside[codes >= 0] = p.gather[codes[codes >= 0]]
            if aside.any():
                p.aside.append(table.filter(pa.array(aside)))
                table = table.filter(pa.array(~aside))
        return table

    def _count_long(self, n: int) -> None:
        summary = f"Fahrten mit mehr als {german_number(MAX_TRIP_STOP_TIMES)} stop_times (übersprungen)"
        if self.lenient:
            self.count_skipped("stop_times.txt", "trip_too_long", n, summary)

    def _long_trip(self, p: _Pass, carry: pa.Table) -> pa.Table | None:
        """The waiting rows of the last trip, unless that trip has grown too long."""
        if carry.num_rows <= MAX_TRIP_STOP_TIMES:
            return carry
        self._mark_long(p, carry.column("trip_id")[0].as_py(), carry.column(_LINE)[0].as_py())
        self._count_long(carry.num_rows)
        return None

    def _mark_long(self, p: _Pass, trip: str | None, line: int | None) -> None:
        """A trip with too many stop_times: listed (at its first line, if known), its records
        skipped from now on."""
        p.too_long.add(trip)  # type: ignore[arg-type]
        self.add("error", "stop_times.txt", [line], "trip_id",
                 [f"'{trip}' has more than {MAX_TRIP_STOP_TIMES:,} stop_times (real trips have a "
                  "few hundred at most); its records are skipped"], "trip_too_long",
                 summary=f"Fahrten mit mehr als {german_number(MAX_TRIP_STOP_TIMES)} stop_times (übersprungen)",
                 examples=[trip], skip=True, fatal=True)

    def _long_trips_in_block(self, p: _Pass, table: pa.Table) -> pa.Table:
        """A block without the rows of trips that have too many of them."""
        if table.num_rows <= MAX_TRIP_STOP_TIMES:
            return table
        counts = pc.value_counts(table.column("trip_id").combine_chunks())
        long = counts.field("values").filter(pc.greater(counts.field("counts"),
                                                        MAX_TRIP_STOP_TIMES))
        if not len(long):
            return table
        hit = pc.fill_null(pc.is_in(table.column("trip_id"), value_set=long), False)
        rows = table.filter(hit)
        for trip in long.to_pylist():
            first = rows.filter(pc.equal(rows.column("trip_id"), trip))
            self._long_trip(p, first)
        return table.filter(pc.invert(hit))

    def _trip_layout(self, keys: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """Rows and runs (groups of consecutive rows) of each kept trip in stop_times.txt."""
        rows = np.zeros(len(keys), dtype=np.int64)
        runs = np.zeros(len(keys), dtype=np.int64)
        prev = -2
        index = _KeyIndex(keys, unique=True)
        for batch, _ in self.src.blocks("stop_times.txt", self.names["stop_times.txt"],
                                        ["trip_id"], bad_records=[]):
            codes = index.positions(batch.column("trip_id"))
            if not len(codes):
                continue
            starts = np.r_[codes[0] != prev, codes[1:] != codes[:-1]]
            known = codes >= 0
            rows += np.bincount(codes[known], minlength=len(keys))
            runs += np.bincount(codes[known & starts], minlength=len(keys))
            prev = int(codes[-1])
        return rows, runs

    def _finish_stop_times(self, p: _Pass) -> None:
        file = "stop_times.txt"
        self.records[file] = self.records.get(file, 0) + p.rows
        self.stop_times_pass = p
        self.interpolated = p.interpolated
        copied_arr, copied_dep = p.copied
        if copied_arr + copied_dep:
            text = (f"die jeweils andere Zeit in {german_number(copied_arr)} leere arrival_time "
                    f"und {german_number(copied_dep)} leere departure_time kopiert")
            self.report.notes.append(text)
            logger.info("GTFS %s: %s", self.path.name, text)
        if p.interpolated:
            text = (f"{german_number(p.interpolated)} leere arrival_time/departure_time in "
                    f"{plural(p.interpolated_trips, 'Fahrt', 'Fahrten')} interpoliert")
            self.report.notes.append(text)
            logger.info("GTFS %s: %s", self.path.name, text)
        if not self.build:
            return
        if p.sink:
            st = pd.concat(p.sink, ignore_index=True)
            p.sink.clear()  # the blocks' memory goes before the sorted copy is made
            codes, _ = pd.factorize(st["trip_id"], sort=True)
            if len(codes) and (np.diff(codes) < 0).any():
                st = st.iloc[np.argsort(codes, kind="stable")].reset_index(drop=True)
        else:
            st = self._finalize_frame(file, self._convert(file, None, None)[0])
        self.final[file] = st

    def _stop_times_block(self, p: _Pass, table: pa.Table) -> None:
        """Convert, check and repair a block of whole trips; keep it for the Feed."""
        file = "stop_times.txt"
        lines = table.column(_LINE).to_numpy()
        df, drop = self._convert(file, table.drop_columns([_LINE]), lines)
        arr_bad = self._bad_mask(df, "arrival_time", table)
        dep_bad = self._bad_mask(df, "departure_time", table)
        self.tables[file], self.drops[file] = df, drop
        trip_pos, stop_pos = self._stop_times_refs(p)
        keep = ~self.drops[file] if self.lenient else np.ones(len(df), dtype=bool)
        st = self.tables[file][keep].reset_index(drop=True)
        trip_pos, stop_pos = trip_pos[keep], stop_pos[keep]
        arr_bad, dep_bad = arr_bad[keep], dep_bad[keep]
        st, order = self._sort_trips(st)
        trip_pos, stop_pos, arr_bad, dep_bad = (a[order] for a in (trip_pos, stop_pos, arr_bad,
                                                                     dep_bad))
        st, keep = self._times(p, st, arr_bad, dep_bad)
        trip_pos, stop_pos = trip_pos[keep], stop_pos[keep]
        assert p.trip_used is not None and p.stop_used is not None
        p.trip_used[trip_pos[trip_pos >= 0]] = True
        p.stop_used[stop_pos[stop_pos >= 0]] = True
        if self.build and not self.fatal:
            p.sink.append(self._finalize_frame(file, st))

    def _bad_mask(self, df: pd.DataFrame, column: str, table: pa.Table) -> np.ndarray:
        """Where a time field is given but could not be read (its value is NaN)."""
        if column not in table.column_names:
            return np.ones(len(df), dtype=bool)  # the column is missing: reported already
        given = np.asarray(table.column(column).is_valid().to_numpy(zero_copy_only=False),
                           dtype=bool)
        return given & np.isnan(df[column].to_numpy(np.float64))

    def _stop_times_refs(self, p: _Pass) -> tuple[np.ndarray, np.ndarray]:
        """Rows for trips or stops that are missing or skipped; rows at stations (warning)."""
        file = "stop_times.txt"
        st = self.tables[file]
        trip_pos = p.index.positions(_pa(st["trip_id"]))
        stops = self.tables["stops.txt"]
        if p.stops is None:
            p.stops = _KeyIndex(stops["stop_id"])
            p.stop_used = np.zeros(len(stops), dtype=bool)
        stop_pos = p.stops.positions(_pa(st["stop_id"]))
        self._reject_refs(file, "trip_id", "trips.txt", self.tables["trips.txt"]["trip_id"],
                          ("missing_trip", "skipped_trip"),
                          missing=st["trip_id"].notna().to_numpy(bool) & (trip_pos < 0))
        self._reject_refs(file, "stop_id", "stops.txt", stops["stop_id"],
                          ("missing_stop", "skipped_stop"),
                          missing=st["stop_id"].notna().to_numpy(bool) & (stop_pos < 0))
        station = np.append(stops["location_type"].to_numpy() != 0, False)[stop_pos]
        if station.any():
            vals = st["stop_id"].to_numpy(object)
            self.flag(file, np.flatnonzero(station), st[_LINE].to_numpy(), "stop_id",
                      lambda i: [f"'{vals[j]}' is a station, entrance or node in stops.txt, not "
                                 "a stop or platform (location_type 0)" for j in i],
                      "stop_time_at_station", severity="warning",
                      summary="stop_times an Stationen (location_type nicht 0)",
                      examples=pd.unique(vals[station])[:3])
        return trip_pos, stop_pos

    def _sort_trips(self, st: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        """Rows sorted by trip and stop_sequence; a repeated stop_sequence is skipped."""
        file = "stop_times.txt"
        codes, _ = pd.factorize(st["trip_id"], sort=True)
        seq = st["stop_sequence"].to_numpy(np.float64)
        order = np.lexsort((seq, codes))
        st = st.iloc[order].reset_index(drop=True)
        codes, seq = codes[order], seq[order]
        first = np.r_[True, codes[1:] != codes[:-1]] if len(st) else np.zeros(0, bool)
        dup = ~first & (seq == np.r_[np.nan, seq[:-1]])
        if dup.any():
            lines = st[_LINE].to_numpy()
            trip_ids = st["trip_id"].to_numpy(object)
            self.tables[file], self.drops[file] = st, np.zeros(len(st), dtype=bool)
            self.reject(file, dup, "stop_sequence",
                        lambda i: [f"{int(seq[j])} appears more than once in trip "
                                   f"'{trip_ids[j]}' (also on line {lines[j - 1]})" for j in i],
                        "duplicate_key",
                        summary="doppelte trip_id + stop_sequence in stop_times.txt",
                        examples=pd.unique(trip_ids[dup])[:3])
            if self.lenient:
                keep = ~dup
                return st[keep].reset_index(drop=True), order[keep]
        return st, order

    def _times(self, p: _Pass, st: pd.DataFrame, arr_bad: np.ndarray,
               dep_bad: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
        """Fill blank times (copy, interpolate), check their order; returns the rows kept and
        which of the given rows they are."""
        file = "stop_times.txt"
        n = len(st)
        codes, _ = pd.factorize(st["trip_id"], sort=False)
        first = np.r_[True, codes[1:] != codes[:-1]] if n else np.zeros(0, bool)
        last = np.r_[codes[1:] != codes[:-1], True] if n else np.zeros(0, bool)
        arr = st["arrival_time"].to_numpy(np.float64).copy()
        dep = st["departure_time"].to_numpy(np.float64).copy()
        lines = st[_LINE].to_numpy()
        trip_ids = st["trip_id"].to_numpy(object)
        self.tables[file], self.drops[file] = st, np.zeros(n, dtype=bool)

        # A blank arrival next to a given departure (or vice versa): copy the other.
        copy_to_arr = np.isnan(arr) & ~arr_bad & ~np.isnan(dep)
        copy_to_dep = np.isnan(dep) & ~dep_bad & ~np.isnan(arr)
        arr[copy_to_arr] = dep[copy_to_arr]
        dep[copy_to_dep] = arr[copy_to_dep]
        p.copied = (p.copied[0] + int(copy_to_arr.sum()), p.copied[1] + int(copy_to_dep.sum()))

        timed = ~np.isnan(arr) & ~np.isnan(dep)
        blank = ~timed & ~arr_bad & ~dep_bad
        prev, nxt = _timed_neighbours(timed, codes)
        stuck = blank & ((prev < 0) | (nxt < 0))  # no timed stop before or after in the trip
        flagged = stuck if self.lenient else blank & (first | last)
        self.reject(file, flagged, "arrival_time",
                    lambda i: [_untimed_message(j, first, last, prev, trip_ids) for j in i],
                    "missing_end_time",
                    summary="Fahrten ohne Zeiten an ihrem ersten oder letzten Halt",
                    examples=pd.unique(trip_ids[flagged])[:3], fatal=True)
        interpolated = _interpolate(st, codes, arr, dep, timed, blank & ~stuck, prev, nxt)
        if interpolated.any():
            p.interpolated += int(interpolated.sum())
            p.interpolated_trips += len(pd.unique(codes[interpolated]))
        timepoint = st["timepoint"].to_numpy(np.float64)
        timepoint = np.where(np.isnan(timepoint), 1.0, timepoint)
        timepoint[interpolated] = 0.0

        self._backwards(codes, first, arr, dep, lines, trip_ids, st)
        keep = ~self.drops[file] if self.lenient else np.ones(n, dtype=bool)
        st = st.assign(arrival_time=arr, departure_time=dep, timepoint=timepoint)
        st = st[keep].reset_index(drop=True)
        kept_codes = codes[keep]
        k_first = np.r_[True, kept_codes[1:] != kept_codes[:-1]] if len(st) else first[:0]
        assert p.stops is not None
        self._check_fast_hops(st, k_first, arr[keep], dep[keep],
                              p.stops.positions(_pa(st["stop_id"])))
        return st, keep

    def _backwards(self, codes: np.ndarray, first: np.ndarray, arr: np.ndarray,
                   dep: np.ndarray, lines: np.ndarray, trip_ids: np.ndarray,
                   st: pd.DataFrame) -> None:
        """Times going backwards along a trip: the whole trip is skipped (lenient)."""
        file = "stop_times.txt"
        seq = st["stop_sequence"].to_numpy(np.float64)
        known = ~np.isnan(arr) & ~np.isnan(dep)
        here = known & (dep < arr)
        prev_dep = np.r_[np.nan, dep[:-1]] if len(dep) else np.zeros(0)
        hop = ~first & known & (arr < prev_dep)
        trips = np.isin(codes, codes[here | hop])
        self.reject(file, here, "departure_time",
                    lambda i: [f"{_fmt_time(dep[j])} is before arrival_time {_fmt_time(arr[j])} "
                               f"(trip '{trip_ids[j]}', stop_sequence {_fmt_seq(seq[j])})"
                               for j in i], "time_backwards",
                    summary="rückwärts laufende Zeiten entlang einer Fahrt (Fahrt übersprungen)",
                    examples=pd.unique(trip_ids[here])[:3], skipped=trips)
        self.reject(file, hop, "arrival_time",
                    lambda i: [f"{_fmt_time(arr[j])} is before the departure "
                               f"{_fmt_time(prev_dep[j])} at the previous stop (trip "
                               f"'{trip_ids[j]}', stop_sequence {_fmt_seq(seq[j])})" for j in i],
                    "time_backwards",
                    summary="rückwärts laufende Zeiten entlang einer Fahrt (Fahrt übersprungen)",
                    examples=pd.unique(trip_ids[hop])[:3], skipped=trips)

    def _check_fast_hops(self, st: pd.DataFrame, first: np.ndarray, arr: np.ndarray,
                         dep: np.ndarray, pos: np.ndarray) -> None:
        """Warn about hops faster than _FAST_HOP_SPEED: wrong times or stop coordinates
        (``pos``: each row's stop in stops.txt, -1 where unknown)."""
        if len(st) < 2:
            return
        stops = self.tables["stops.txt"]
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
        trip_ids = st["trip_id"].to_numpy(object)
        self.flag("stop_times.txt", idx, st[_LINE].to_numpy(), "arrival_time",
                  lambda i: [f"{_fmt_time(arr[j])}: {metres[j - 1] / 1000:.1f} km from the "
                             f"previous stop in {(arr[j] - dep[j - 1]) / 60:.0f} min (trip "
                             f"'{trip_ids[j]}'); check the times or the stop coordinates"
                             for j in i], "fast_hop", severity="warning",
                  summary=f"Fahrtabschnitte schneller als {_FAST_HOP_SPEED * 3.6:.0f} km/h",
                  examples=pd.unique(trip_ids[idx])[:3])

    # ---- the rest ------------------------------------------------------------------------

    def _read_shapes(self) -> None:
        """shapes.txt: whole for a Feed; with ``dates`` only the kept trips' shapes (streamed);
        validating, streamed for its problems and ids."""
        file = "shapes.txt"
        trips = self.tables["trips.txt"]
        known: pd.Series | pd.Index
        if self.build and not self.dates:
            self._read_whole(file)
            known = self.tables[file]["shape_id"]
        else:
            wanted = _keys(trips["shape_id"]) if self.dates else None
            known = self._stream_shapes(wanted)
        if self.present[file]:
            values = trips["shape_id"].to_numpy(object)
            missing = self._refs("trips.txt", "shape_id", known)
            self.flag("trips.txt", np.flatnonzero(missing), trips[_LINE].to_numpy(), "shape_id",
                      lambda i: [f"'{values[j]}' is not in shapes.txt" for j in i],
                      "missing_shape", severity="warning",
                      summary="Werte in trips.txt shape_id, die nicht in shapes.txt sind",
                      examples=pd.unique(values[missing])[:3])

    def _stream_shapes(self, wanted: pa.Array | None) -> pd.Index:
        """Stream shapes.txt; keep the points of ``wanted`` shapes (if given); the shape ids."""
        file = "shapes.txt"
        kept: list[pd.DataFrame] = []
        ids: list[pa.Array] = []

        def restart() -> None:
            kept.clear()
            ids.clear()

        def body(table: pa.Table, lines: np.ndarray) -> None:
            if "shape_id" in table.column_names:
                ids.append(pc.unique(table.column("shape_id").combine_chunks()))
            if wanted is not None and "shape_id" in table.column_names:
                hit = pc.fill_null(pc.is_in(table.column("shape_id"), value_set=wanted), False)
                mask = np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)
                table, lines = table.filter(hit), lines[mask]
            df, drop = self._convert(file, table, lines)
            self.records[file] = self.records.get(file, 0) + len(df)
            if self.build:
                kept.append(df[~drop] if self.lenient else df)

        self._stream(file, body, restart)
        df = pd.concat(kept, ignore_index=True) if kept else self._convert(file, None, None)[0]
        self.tables[file], self.drops[file] = df, np.zeros(len(df), dtype=bool)
        if not ids:
            return pd.Index([], dtype=object)
        unique = pc.unique(pa.concat_arrays(ids))
        return pd.Index(np.asarray(unique.to_pylist(), dtype=object))

    def _check_frequencies(self) -> None:
        file = "frequencies.txt"
        fr = self.tables[file]
        if self.dates:  # only the rows of the kept trips belong to these dates
            wanted = _isin(fr["trip_id"], self.tables["trips.txt"]["trip_id"])
            skipped = self.skipped_ids.get("trips.txt")
            if skipped is not None and len(skipped):
                wanted |= _isin(fr["trip_id"], skipped.to_pylist())
            self.tables[file] = fr = fr[wanted].reset_index(drop=True)
            self.drops[file] = self.drops[file][wanted]
        self._reject_refs(file, "trip_id", "trips.txt", self.tables["trips.txt"]["trip_id"],
                          ("missing_trip", "skipped_trip"))
        back = (fr["end_time"] <= fr["start_time"]).to_numpy(bool)
        starts, ends = fr["start_time"].to_numpy(), fr["end_time"].to_numpy()
        self.reject(file, back, "end_time",
                    lambda i: [f"{_fmt_time(ends[j])} is not after start_time "
                               f"{_fmt_time(starts[j])}" for j in i], "time_backwards",
                    summary="frequencies, die vor ihrem Beginn enden",
                    examples=fr["trip_id"][back].tolist()[:3])
        self._apply_drop(file)

    def _check_transfers(self) -> None:
        """Transfers to stops, routes or trips the feed lacks are dropped with a warning.

        Regional extracts of national feeds keep transfers to stops outside the region; such
        transfers cannot be used, so they are counted, reported and removed. (With ``dates``
        the references to trips are not checked: trips of other dates are not read.)
        """
        file = "transfers.txt"
        before = len(self.tables[file])
        refs = [("from_stop_id", "stops.txt", "stop_id"), ("to_stop_id", "stops.txt", "stop_id"),
                ("from_route_id", "routes.txt", "route_id"),
                ("to_route_id", "routes.txt", "route_id")]
        if not self.dates:
            refs += [("from_trip_id", "trips.txt", "trip_id"),
                     ("to_trip_id", "trips.txt", "trip_id")]
        for column, target, target_column in refs:
            if column not in self.tables[file]:
                continue
            df = self.tables[file]
            missing = self._refs(file, column, self.tables[target][target_column])
            if not missing.any():
                continue
            bad = df[column].to_numpy(object)
            self.flag(file, np.flatnonzero(missing), df[_LINE].to_numpy(), column,
                      _quoted(bad, f"is not in {target}; the transfer is dropped"),
                      "transfer_unknown_ref", severity="warning",
                      summary="transfers zu stops, routes oder trips, die nicht im Fahrplan sind (weggelassen)",
                      examples=pd.unique(bad[missing])[:3])
            self.tables[file] = df[~missing]
        self.drops[file] = np.zeros(len(self.tables[file]), dtype=bool)
        dropped = before - len(self.tables[file])
        if dropped:
            text = (f"{german_number(dropped)} von {german_number(before)} transfers weggelassen, "
                    "die auf stops, routes oder trips verweisen, die nicht im Fahrplan sind")
            self.report.notes.append(text)

    def _check_unused(self) -> None:
        """Warnings: stops, trips, services and routes that nothing uses or that never run."""
        stops, trips = self.tables["stops.txt"], self.tables["trips.txt"]
        routes = self.tables["routes.txt"]
        p = self.stop_times_pass
        stop_used = p.stop_used if p is not None and p.stop_used is not None else None
        if stop_used is None or len(stop_used) != len(stops):
            stop_used = np.zeros(len(stops), dtype=bool)
        unused = ((stops["location_type"].to_numpy() == 0) & ~stop_used
                  & stops["stop_id"].notna().to_numpy(bool))
        self._warn_ids("stops.txt", stops, unused, "stop_id", "has no stop_times",
                       "stops_without_stop_times", "Haltestellen (location_type 0) ohne stop_times")
        trip_used = _isin(trips["trip_id"], self._used_trip_ids())
        no_times = ~trip_used & trips["trip_id"].notna().to_numpy(bool)
        self._warn_ids("trips.txt", trips, no_times, "trip_id", "has no stop_times",
                       "trips_without_stop_times", "Fahrten ohne stop_times")
        no_trips = (~_isin(routes["route_id"], trips["route_id"])
                    & routes["route_id"].notna().to_numpy(bool))
        self._warn_ids("routes.txt", routes, no_trips, "route_id", "has no trips",
                       "routes_without_trips", "Linien ohne Fahrten")
        sd = self.service
        assert sd is not None
        never = sd.ids[~np.asarray(sd.active.any(axis=1), dtype=bool)]
        known = _isin(trips["service_id"], sd.ids)
        idle = known & _isin(trips["service_id"], never)
        self._warn_ids("trips.txt", trips, idle, "service_id",
                       "never runs (calendar.txt and calendar_dates.txt give it no day)",
                       "service_never_runs", "Fahrten, deren Verkehrstage nie gelten")

    def _used_trip_ids(self) -> pd.Index:
        p = self.stop_times_pass
        if p is None or p.trip_used is None:
            return pd.Index([], dtype=object)
        used = p.keys.filter(pa.array(p.trip_used))
        return pd.Index(np.asarray(used.to_pylist(), dtype=object))

    def _warn_ids(self, file: str, df: pd.DataFrame, mask: np.ndarray, column: str, text: str,
                  code: str, summary: str) -> None:
        if not mask.any():
            return
        vals = df[column].to_numpy(object)
        self.flag(file, np.flatnonzero(mask), df[_LINE].to_numpy(), column,
                  lambda i: [f"'{vals[j]}' {text}" for j in i], code, severity="warning",
                  summary=summary, examples=pd.unique(vals[mask])[:3])

    def _finish(self) -> None:
        """Refuse a feed that lost too much; notes on what was skipped; omitted problems."""
        if self.lenient and not self.fatal:
            for file, total in self.records.items():
                lost = self.dropped.get(file, 0)
                if total and lost / total > MAX_SKIPPED_SHARE:
                    self.refusal.append(
                        f"{german_number(lost)} von {german_number(total)} Datensätzen von "
                        f"{file} ({german_number(round(100 * lost / total, 1))} %) sind für das "
                        f"Routing unbrauchbar, mehr als die "
                        f"{german_number(round(100 * MAX_SKIPPED_SHARE))} %, die eine Datei "
                        f"verlieren darf")
        if self.refusal:
            self._promote()
        for (file, _code), (count, examples, summary) in self.skips.items():
            total = self.records.get(file, 0)
            shown = f" (z. B. {', '.join(examples)})" if examples else ""
            self.report.notes.append(f"{german_number(count)} von {german_number(total)} "
                                     f"Datensätzen von {file} übersprungen: "
                                     f"{summary}{shown}")
        for text in self.refusal:
            self.report.notes.append(f"abgelehnt: {text}")
        for (_file, code, _summary, _skip), g in self.groups.items():
            if g.count > g.listed:
                self.report.omit(g.severity, code, g.count - g.listed)

    def _promote(self) -> None:
        """The feed is refused: the problems of skipped records become (fatal) errors."""
        problems = self.report.problems
        promoted = sorted(i for start, end in self.skip_ranges for i in range(start, end))
        for i in promoted:
            p = problems[i]
            problems[i] = Problem("error", p.file, p.row, p.column, p.message, p.code)
        self.fatal = [problems[i] for i in promoted]  # nothing else was fatal
        for g in self.groups.values():
            if g.skip:
                g.severity = "error"

    def _count(self) -> None:
        t = self.tables
        sd = self.service
        period = _period(sd) if sd is not None else None
        counts: dict[str, int | str] = {
            "agencies": len(t["agency.txt"]),
            "stops": self.records.get("stops.txt", 0),
            "routes": self.records.get("routes.txt", 0),
            "trips": self.records.get("trips.txt", 0),
            "stop_times": self.records.get("stop_times.txt", 0),
            "services": len(sd.ids) if sd is not None else 0,
            "service period": f"{period[0]} to {period[1]}" if period else "none",
            "interpolated times": self.interpolated,
        }
        if self.dates:
            counts["dates"] = ", ".join(d.isoformat() for d in self.dates)
        skipped = sum(self.dropped.values())
        if skipped:
            counts["skipped records"] = skipped
        self.report.counts.update(counts)

    # ---- the Feed ------------------------------------------------------------------------

    def feed_parts(self) -> dict[str, Any]:
        """The fields of the :class:`~kurszugang.io.gtfs.Feed`, with the final dtypes (call
        only when :attr:`fatal` is empty)."""
        if self.dates:
            self._dated_calendar()
        tables = {f[:-4]: self.final[f] if f in self.final else self._finalize(f)
                  for f in GTFS_FILES}
        return {"source": str(self.path), "files": self.files, "report": self.report,
                "dates": self.dates, "skipped": self._skipped_frame(), **tables}

    def _dated_calendar(self) -> None:
        """With ``dates``: the calendar rows of the kept trips' services."""
        services = self.tables["trips.txt"]["service_id"]
        for file in ("calendar.txt", "calendar_dates.txt"):
            df = self.tables[file]
            self.tables[file] = df[_isin(df["service_id"], services)].reset_index(drop=True)
            self.drops[file] = np.zeros(len(self.tables[file]), dtype=bool)

    def _skipped_frame(self) -> pd.DataFrame:
        if not self.skips:
            return _no_skips()
        rows = [(file, code, count, self.records.get(file, 0), ", ".join(examples), summary)
                for (file, code), (count, examples, summary) in self.skips.items()]
        df = pd.DataFrame(rows, columns=list(SKIPPED_COLUMNS))
        for column in ("file", "reason", "examples", "description"):
            df[column] = df[column].astype(_STRING)
        return df.astype({"count": np.int64, "records": np.int64})

    def _finalize(self, file: str) -> pd.DataFrame:
        if file in self.drops:
            self._apply_drop(file)
        return self._finalize_frame(file, self.tables[file])

    def _finalize_frame(self, file: str, df: pd.DataFrame) -> pd.DataFrame:
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
                    raise InputError(f"hat leere Werte in {col.name}, die sich nicht füllen "
                                     f"ließen",
                                     path=file)
                data[col.name] = floats.astype(col.dtype)
        if self.build:
            for name in self.extras.get(file, []):
                if name in df:
                    data[name] = df[name].array
        return pd.DataFrame(data, index=pd.RangeIndex(len(df)))
