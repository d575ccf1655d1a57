"""The files of a GTFS feed (a zip or a folder), opened safely and read as text columns.

Shared by the reader (:mod:`kurszugang.io.gtfs`) and the extraction
(:mod:`kurszugang.io.extract`):

- **Zip limits.** Before a zip member is read, its declared size and compression ratio are
  checked against :func:`zip_limits` (documented in ``docs/gtfs.md``); a member beyond them is
  refused with its name, sizes and the limit. The declared size is a hard bound: Python's zip
  reader never returns more bytes than declared (and fails the CRC check on a liar).
- **Encodings.** UTF-8 (with or without byte-order mark) is read as is; UTF-16 (little or big
  endian, with or without byte-order mark) is recognised from the first bytes and Windows-1252
  from a failed UTF-8 decoding, and both are decoded to UTF-8 with a note naming the encoding.
- **Records in blocks.** :meth:`FeedFiles.blocks` streams a file in blocks of
  :data:`BLOCK_BYTES` as Arrow record batches of text columns (blank fields null, surrounding
  spaces removed) together with the line number of every record. A record longer than a block
  is reported with its line number (and whether a quote is left open) instead of Arrow's
  "straddling object" message.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from kurszugang.errors import InputFormatError
from kurszugang.io._report import german_number

__all__ = ["BLOCK_BYTES", "FeedFiles", "NotUtf8", "ZipLimits", "zip_limits"]

#: The files a GTFS reader knows, in reading order.
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

#: Bytes of CSV parsed per block; also the longest record (line) a file may have.
BLOCK_BYTES = 16 << 20
#: Records with a wrong number of fields after which a file is refused (it is not this CSV).
MAX_BAD_RECORDS = 100_000
_UTF8_BOM = b"\xef\xbb\xbf"
_SNIFF_BYTES = 4096


@dataclass(frozen=True)
class ZipLimits:
    """Limits on the members of a zip archive, checked before a member is read.

    Attributes
    ----------
    max_bytes
        Largest declared uncompressed size of one member (default 64 GiB; DELFI's
        stop_times.txt has about 2.6 GB). Environment variable ``KURSZUGANG_ZIP_MAX_BYTES``.
    max_ratio
        Largest ratio of uncompressed to compressed size (default 100; real GTFS files compress
        about 10:1, a zip bomb several hundred to a thousand to one). Environment variable
        ``KURSZUGANG_ZIP_MAX_RATIO``.
    ratio_from_bytes
        The ratio is checked only for members larger than this (default 256 MiB): a small file
        cannot exhaust memory however well it compresses.
    """

    max_bytes: int = 64 << 30
    max_ratio: float = 100.0
    ratio_from_bytes: int = 256 << 20


def zip_limits() -> ZipLimits:
    """The zip limits in force: the defaults, overridden by the environment variables.

    Raises
    ------
    InputFormatError
        If an environment variable is set to something that is not a positive number.
    """
    defaults = ZipLimits()
    values: dict[str, Any] = {}
    for key, field, kind in (("KURSZUGANG_ZIP_MAX_BYTES", "max_bytes", int),
                             ("KURSZUGANG_ZIP_MAX_RATIO", "max_ratio", float)):
        text = os.environ.get(key)
        if text is None or not text.strip():
            continue
        try:
            value = kind(text.strip())
        except ValueError:
            value = 0
        if value <= 0:
            raise InputFormatError(f"die Umgebungsvariable {key}={text!r} ist keine positive "
                                   f"Zahl (Vorgabe {german_number(getattr(defaults, field))})")
        values[field] = value
    return ZipLimits(**{**defaults.__dict__, **values})


def _check_member(info: zipfile.ZipInfo, archive: Path, limits: ZipLimits) -> None:
    size, packed = int(info.file_size), int(info.compress_size)
    name = info.filename
    if size > limits.max_bytes:
        raise InputFormatError(
            f"{name} gibt {german_number(size)} Bytes entpackt an, mehr als die Grenze von "
            f"{german_number(limits.max_bytes)} Bytes für eine Datei (ein beschädigtes oder "
            "bösartiges Archiv? ein echter Fahrplan dieser Größe: KURSZUGANG_ZIP_MAX_BYTES "
            "setzen)", path=archive)
    ratio = size / max(packed, 1)
    if size > limits.ratio_from_bytes and ratio > limits.max_ratio:
        raise InputFormatError(
            f"{name} gibt {german_number(size)} Bytes entpackt aus {german_number(packed)} Bytes "
            f"gepackt an (Verhältnis {german_number(round(ratio))}:1), mehr als die Grenze von "
            f"{german_number(limits.max_ratio)}:1 für Dateien über "
            f"{german_number(limits.ratio_from_bytes >> 20)} MiB (echte GTFS-Dateien packen etwa "
            "10:1; eine Zip-Bombe? ein echter Fahrplan: KURSZUGANG_ZIP_MAX_RATIO setzen)",
            path=archive)


class NotUtf8(Exception):
    """A file turned out not to be UTF-8 after blocks of it were used: read it again.

    The :class:`FeedFiles` has already switched the file to Windows-1252.
    """

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class _Pieces:
    """A zip member read in pieces of 1 MiB, joined once per read.

    Arrow asks for a block of 16 MiB at a time; Python's zip reader builds such a read by
    adding piece to piece (a new, longer bytes object each time), which left hundreds of MB of
    freed memory in the C heap over a file of gigabytes. Joining 1 MiB pieces once allocates
    the block once.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            return self.raw.read()
        pieces, total = [], 0
        while total < n:
            piece = self.raw.read(min(1 << 20, n - total))
            if not piece:
                break
            pieces.append(piece)
            total += len(piece)
        return b"".join(pieces)

    def readline(self, limit: int = -1) -> bytes:
        return self.raw.readline(limit)

    def peek(self, n: int = 0) -> bytes:
        return self.raw.peek(n)  # type: ignore[attr-defined]

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True
        self.raw.close()

    def __enter__(self) -> _Pieces:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Recoded(io.RawIOBase):
    """A binary stream of UTF-8 bytes decoded from another encoding."""

    def __init__(self, raw: IO[bytes], encoding: str) -> None:
        self.raw = raw
        self.decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        self.pending = b""
        self.done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending and not self.done:
            chunk = self.raw.read(1 << 20)
            self.done = not chunk
            self.pending = self.decoder.decode(chunk, final=self.done).encode("utf-8")
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


def _sniff(head: bytes) -> tuple[str, int]:
    """The encoding of a file from its first bytes and the length of its byte-order mark."""
    if head.startswith(_UTF8_BOM):
        return "utf-8", 3
    if head.startswith(b"\xff\xfe"):
        return "utf-16-le", 2
    if head.startswith(b"\xfe\xff"):
        return "utf-16-be", 2
    sample = head[: len(head) // 2 * 2]
    if len(sample) >= 4:
        even = sample[0::2].count(0) / (len(sample) // 2)
        odd = sample[1::2].count(0) / (len(sample) // 2)
        if odd > 0.4 and even < 0.05:
            return "utf-16-le", 0
        if even > 0.4 and odd < 0.05:
            return "utf-16-be", 0
    return "utf-8", 0


_ENCODING_NAMES = {"utf-16-le": "UTF-16 (little-endian)", "utf-16-be": "UTF-16 (big-endian)",
                   "cp1252": "Windows-1252 (cp1252)"}


@dataclass
class _File:
    """One file of the feed: how to open it and what was learned about it."""

    name: str
    opener: Callable[[], IO[bytes]]
    size: int | None = None  # uncompressed bytes, where known
    encoding: str | None = None  # learned on first open
    bom: int = 0


def _is_junk(parts: Sequence[str]) -> bool:
    return any(p == "__MACOSX" for p in parts) or parts[-1].startswith(".")


def _pick_folder(entries: dict[tuple[str, ...], Any], source: Path,
                 known: Sequence[str]) -> dict[str, Any]:
    """Choose the folder level holding the GTFS files: the root, or one subfolder."""
    folders: dict[tuple[str, ...], dict[str, Any]] = {}
    for parts, handle in entries.items():
        folders.setdefault(parts[:-1], {})[parts[-1].lower()] = handle
    with_gtfs = [f for f, names in folders.items() if set(known) & set(names)]
    if not with_gtfs:
        return folders.get((), {})
    depth = min(len(f) for f in with_gtfs)
    best = [f for f in with_gtfs if len(f) == depth]
    if len(best) > 1:
        shown = ", ".join("/".join(f) + "/" for f in sorted(best))
        raise InputFormatError(
            f"enthält mehrere GTFS-Fahrpläne (in {shown}); entpacken und einen Ordner lesen",
            path=source
        )
    return folders[best[0]]


def _folder_files(path: Path) -> dict[str, _File]:
    found: dict[tuple[str, ...], Any] = {}
    subfolders = [d for d in path.iterdir() if d.is_dir() and not _is_junk((d.name,))]
    for folder in (path, *subfolders):  # the folder itself and one level below
        for p in folder.glob("*.txt"):
            parts = p.relative_to(path).parts
            if p.is_file() and not _is_junk(parts):
                found[parts] = p
    picked = _pick_folder(found, path, GTFS_FILES)

    def opener(p: Path) -> Callable[[], IO[bytes]]:
        return lambda: p.open("rb")

    return {n: _File(n, opener(p), p.stat().st_size) for n, p in picked.items()}


def _zip_files(path: Path, limits: ZipLimits) -> tuple[dict[str, _File], zipfile.ZipFile]:
    try:
        zf = zipfile.ZipFile(path)
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputFormatError(f"ist kein lesbares Zip-Archiv ({exc})", path=path) from exc
    found: dict[tuple[str, ...], Any] = {}
    for info in infos:
        parts = tuple(p for p in info.filename.split("/") if p)
        if info.is_dir() or not parts or not parts[-1].lower().endswith(".txt"):
            continue
        if not _is_junk(parts):
            found[parts] = info
    try:
        picked = _pick_folder(found, path, GTFS_FILES)
        for info in picked.values():
            _check_member(info, path, limits)
    except InputFormatError:
        zf.close()
        raise

    def opener(info: zipfile.ZipInfo) -> Callable[[], IO[bytes]]:
        return lambda: zf.open(info)

    files = {n: _File(n, opener(i), int(i.file_size)) for n, i in picked.items()}
    return files, zf


def _trim(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Text with surrounding spaces removed and blank fields null."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    trimmed = pc.utf8_trim_whitespace(arr)
    shortest = pc.min(pc.binary_length(trimmed)).as_py()
    if shortest is None or shortest > 0:  # nothing became blank (blank fields are null already)
        return trimmed
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


class FeedFiles:
    """The ``.txt`` files of a GTFS feed in a zip archive or a folder.

    Parameters
    ----------
    path
        The zip archive or folder (the files may sit in one subfolder of it).

    Raises
    ------
    InputFormatError
        If the path does not exist, is neither a zip archive nor a folder, holds two feeds, or a
        zip member is beyond the :func:`zip_limits`.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        if not self.path.exists():
            raise InputFormatError("gibt es nicht (erwartet ein GTFS-.zip oder einen Ordner)",
                                   path=self.path)
        if self.path.is_dir():
            self.files = _folder_files(self.path)
        elif not zipfile.is_zipfile(self.path):
            raise InputFormatError("ist weder ein Zip-Archiv noch ein Ordner (erwartet ein "
                                   "GTFS-.zip oder einen Ordner mit .txt-Dateien)", path=self.path)
        else:
            self.files, self._zip = _zip_files(self.path, zip_limits())
        self.notes: dict[str, str] = {}  # file -> what was noticed about its encoding

    def close(self) -> None:
        """Close the zip archive (nothing to do for a folder)."""
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> FeedFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- files ---------------------------------------------------------------------------

    @property
    def names(self) -> tuple[str, ...]:
        """The lower-case names of the ``.txt`` files, sorted."""
        return tuple(sorted(self.files))

    def has(self, name: str) -> bool:
        """Whether the feed has the file (it may be empty)."""
        return name in self.files

    def size(self, name: str) -> int | None:
        """The uncompressed size of a file in bytes (None where unknown)."""
        return self.files[name].size

    def is_empty(self, name: str) -> bool:
        """True for a file without a header line (0 bytes, or only blanks and a BOM)."""
        with self._open_raw(name) as fh:
            head = fh.read(1 << 16)
        n = _line_end(head)
        first = head[:n] if n is not None else head
        return not first.strip(b" \t\r\n\xef\xbb\xbf\xff\xfe\x00")

    def _open_raw(self, name: str) -> IO[bytes]:
        try:
            return self.files[name].opener()
        except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as exc:
            raise InputFormatError(f"lässt sich nicht öffnen ({exc})", path=name) from exc

    def encoding(self, name: str) -> str:
        """The encoding of a file (``"utf-8"``, ``"utf-16-le"``, ``"utf-16-be"``, ``"cp1252"``)."""
        entry = self.files[name]
        if entry.encoding is None:
            with self._open_raw(name) as fh:
                entry.encoding, entry.bom = _sniff(fh.read(_SNIFF_BYTES))
            if entry.encoding != "utf-8":
                self._note(name, entry.encoding, entry.bom)
        return entry.encoding

    def _note(self, name: str, encoding: str, bom: int) -> None:
        label = _ENCODING_NAMES[encoding]
        if encoding == "cp1252":
            self.notes[name] = ("ist nicht UTF-8; gelesen als Windows-1252 (cp1252): Umlaute "
                                "prüfen")
        else:
            mark = "mit" if bom else "ohne"
            self.notes[name] = (f"ist {label}, {mark} Byte-Order-Mark, nicht UTF-8, wie GTFS "
                                f"verlangt; gelesen als {label.split(' ')[0]}")

    def use_cp1252(self, name: str) -> None:
        """Read a file as Windows-1252 from now on (it is not valid UTF-8)."""
        entry = self.files[name]
        entry.encoding, entry.bom = "cp1252", 0
        self._note(name, "cp1252", 0)

    def open_text(self, name: str) -> IO[bytes]:
        """The file as a buffered stream of UTF-8 bytes, without byte-order mark."""
        encoding = self.encoding(name)
        raw = self._open_raw(name)
        bom = self.files[name].bom
        if bom:
            raw.read(bom)
        if encoding == "utf-8":
            return cast(IO[bytes], _Pieces(raw)) if isinstance(raw, zipfile.ZipExtFile) else raw
        return io.BufferedReader(_Recoded(raw, encoding), buffer_size=1 << 20)

    # ---- header --------------------------------------------------------------------------

    def _header_line(self, name: str, fh: IO[bytes]) -> str:
        raw = _read_line(fh, BLOCK_BYTES)
        if len(raw) > BLOCK_BYTES:
            raise InputFormatError(f"hat eine Kopfzeile länger als {BLOCK_BYTES >> 20} MiB "
                                   "(eine Datei ohne Zeilenumbrüche?)", path=name, row=1)
        raw = raw.removeprefix(_UTF8_BOM)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            if self.encoding(name) != "utf-8":
                raise InputFormatError(f"lässt sich nicht als {self.encoding(name)} lesen",
                                       path=name, row=1) from None
            self.use_cp1252(name)
            return raw.decode("cp1252")

    def header(self, name: str) -> list[str]:
        """The column names as written (surrounding spaces and quotes removed)."""
        with self.open_text(name) as fh:
            return _split_header(self._header_line(name, fh))

    # ---- records -------------------------------------------------------------------------

    def blocks(
        self, name: str, names: list[str], columns: Sequence[str] | None = None, *,
        bad_records: list[tuple[int, int, int]] | None = None, progress: Any = None,
        trim: bool = True,
    ) -> Iterator[tuple[pa.RecordBatch, np.ndarray]]:
        """The records of a file in blocks, with the line number of every record.

        Parameters
        ----------
        name
            The file.
        names
            The column names to give the fields (normally :meth:`header`, de-duplicated).
        columns
            Only these columns (all when None); each must be in ``names``.
        bad_records
            Receives ``(line, number of fields, more lines)`` of every record with another
            number of fields than ``names`` (skipped); ``more lines`` counts the line breaks
            inside it (a quote left open swallows the lines after it). If None, such a record
            raises.
        progress
            A tqdm bar updated with the bytes read.
        trim
            Remove the spaces around values (default); with False the values are as written
            (blank fields are null either way).

        Yields
        ------
        (pyarrow.RecordBatch, numpy.ndarray)
            Text columns (spaces trimmed, blank fields null) and the line of each record
            (header = line 1).

        Raises
        ------
        NotUtf8
            If the file, read as UTF-8, turns out not to be (it is switched to Windows-1252:
            read it again).
        InputFormatError
            For a record longer than :data:`BLOCK_BYTES` (with its line), more than
            :data:`MAX_BAD_RECORDS` bad records, or other unparsable CSV.
        """
        bad: list[int] = []
        fields: list[tuple[int, int]] = []

        def handler(row: pacsv.InvalidRow) -> str:
            if bad_records is None or len(bad) >= MAX_BAD_RECORDS:
                return "error"
            bad.append(-1 if row.number is None else int(row.number))
            fields.append((int(row.actual_columns), row.text.count("\n")))
            return "skip"

        with self.open_text(name) as text:
            encoding = self.encoding(name)
            self._header_line(name, text)
            if self.encoding(name) != encoding:  # the header was not UTF-8
                raise NotUtf8(name)
            stream: Any = _Counting(text, progress) if progress is not None else text
            reader = self._reader(name, stream, names, columns, handler)
            valid = 0  # records yielded so far
            try:
                for batch in reader:
                    lines = _record_lines(valid, batch.num_rows, bad)
                    valid += batch.num_rows
                    yield (_trimmed(batch) if trim else batch), lines
            except pa.ArrowInvalid as exc:
                raise self._failure(name, exc, len(bad)) from exc
            finally:
                if bad_records is not None:
                    bad_records.extend((n + 1, k, more) for n, (k, more) in zip(bad, fields,
                                                                                strict=True))

    def _reader(self, name: str, stream: Any, names: list[str], columns: Sequence[str] | None,
                handler: Callable[[pacsv.InvalidRow], str]) -> Any:
        read = pacsv.ReadOptions(column_names=names, use_threads=False, block_size=BLOCK_BYTES)
        convert = pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=True,
            null_values=[""], quoted_strings_can_be_null=True,
            include_columns=list(columns) if columns is not None else None,
        )
        try:
            return pacsv.open_csv(stream, read_options=read, convert_options=convert,
                                  parse_options=pacsv.ParseOptions(invalid_row_handler=handler))
        except pa.ArrowInvalid as exc:
            if "Empty CSV file" in str(exc):
                return iter(())
            raise self._failure(name, exc, 0) from exc
        except StopIteration:  # pragma: no cover - pyarrow raises ArrowInvalid for empty input
            return iter(())

    def read(self, name: str, names: list[str], columns: Sequence[str] | None = None, *,
             bad_records: list[tuple[int, int, int]] | None = None, trim: bool = True,
             ) -> tuple[pa.Table, np.ndarray]:
        """The whole file as one table of text columns and the line of each record.

        Reads it again as Windows-1252 if it is not UTF-8; otherwise as :meth:`blocks`.
        """
        for _attempt in range(2):
            batches: list[pa.RecordBatch] = []
            lines: list[np.ndarray] = []
            found: list[tuple[int, int, int]] = []
            try:
                for batch, at in self.blocks(name, names, columns, bad_records=found, trim=trim):
                    batches.append(batch)
                    lines.append(at)
            except NotUtf8:
                continue
            if bad_records is not None:
                bad_records.extend(found)
            elif found:
                line, k, _more = found[0]
                raise InputFormatError(f"hat {k} Felder, erwartet {len(names)} wie in der "
                                       f"Kopfzeile",
                                       path=name, row=line)
            schema = pa.schema([(n, pa.string()) for n in (columns or names)])
            table = pa.Table.from_batches(batches, schema=schema)
            at = np.concatenate(lines) if lines else np.zeros(0, np.int64)
            return table, at
        raise AssertionError("unreachable")  # pragma: no cover - cp1252 is tried once

    def _failure(self, name: str, exc: Exception, n_bad: int) -> Exception:
        text = str(exc)
        if "straddl" in text or "out of sync with chunker" in text:
            return self._long_record(name)
        if n_bad >= MAX_BAD_RECORDS:
            return InputFormatError(f"hat mehr als {german_number(MAX_BAD_RECORDS)} Datensätze "
                                    "mit einer anderen Zahl von Feldern als die Kopfzeile: ist "
                                    "es wirklich diese GTFS-Datei?",
                                    path=name)
        if self.encoding(name) == "utf-8" and re.search(r"utf-?8", text, flags=re.I):
            self.use_cp1252(name)
            return NotUtf8(name)
        text = text.replace("CSV parse error: ", "").strip()
        match = re.match(r"Row #(\d+): (.*)", text, flags=re.S)
        if match:
            first = match.group(2).splitlines()[0]
            return InputFormatError(f"lässt sich nicht als CSV lesen: {first}", path=name,
                                    row=int(match.group(1)) + 1)
        first = text.splitlines()[0] if text else type(exc).__name__
        return InputFormatError(f"lässt sich nicht als CSV lesen: {first}", path=name)

    def _long_record(self, name: str) -> InputFormatError:
        """The error for a record longer than a block: its line, length and an open quote."""
        with self.open_text(name) as fh:
            found = find_long_record(fh, BLOCK_BYTES)
        limit = f"{BLOCK_BYTES >> 20} MiB"
        if found is None:  # pragma: no cover - Arrow found one, so the scan does too
            return InputFormatError(f"hat einen Datensatz länger als {limit} (fehlt ein "
                                    f"Zeilenumbruch?)", path=name)
        line, length, several_lines, complete = found
        size = (f"ist {german_number(length)} Bytes lang" if complete
                else f"ist länger als {german_number(length)} Bytes")
        why = ("ein in dieser Zeile geöffnetes Anführungszeichen wird nicht geschlossen, wo es "
               "sollte" if several_lines else "fehlt ein Zeilenumbruch?")
        return InputFormatError(f"der in dieser Zeile beginnende Datensatz {size}, mehr als die "
                                f"{limit}, die ein Datensatz haben darf ({why})", path=name,
                                row=line)


def _split_header(text: str) -> list[str]:
    raw = next(csv.reader([text.rstrip("\r\n")]), [])
    return [n.strip().strip("\ufeff").strip() for n in raw]


def trimmed(batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch | pa.Table:
    """A batch (or table) with every column trimmed as :meth:`FeedFiles.blocks` does."""
    if isinstance(batch, pa.Table):
        return pa.table([_trim(c) for c in batch.columns], names=batch.column_names)
    return _trimmed(batch)


def _trimmed(batch: pa.RecordBatch) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([_trim(c) for c in batch.columns], names=batch.schema.names)


def _record_lines(valid: int, n: int, bad: list[int]) -> np.ndarray:
    """Line numbers of valid records ``valid .. valid + n - 1`` (0-based) given the bad records.

    ``bad`` holds the 1-based record numbers (after the header) of the skipped records seen so
    far; the reader reports them ahead of the block they are in, so all before the block's end
    are known. Valid record k (1-based) is record ``k + (number of bad records before it)``.
    """
    k = np.arange(valid + 1, valid + n + 1, dtype=np.int64)
    if not bad:
        return k + 1
    numbers = np.sort(np.asarray([b for b in bad if b >= 0], dtype=np.int64))
    valid_before = numbers - np.arange(1, len(numbers) + 1)  # valid records before each bad one
    return k + np.searchsorted(valid_before, k, side="left") + 1


def find_long_record(fh: IO[bytes], limit: int,
                     cap: int = 1 << 30) -> tuple[int, int, bool, bool] | None:
    """The first record longer than ``limit`` bytes in a stream of CSV text.

    Scans in chunks with numpy: a line break ends a record where the number of quotes since
    the start of the stream is even. Lines count from 1 at the stream's start.

    Returns
    -------
    tuple or None
        ``(line where the record starts, its length in bytes, whether it spans several lines,
        whether the length is complete)``: the scan follows the long record to its end, or
        stops after ``cap`` bytes of it. None if no record is that long.
    """
    rec_line, rec_start, rec_breaks = 1, 0, 0  # the current record: first line, offset, breaks
    quotes, offset = 0, 0  # quotes before the chunk, offset of the chunk
    while True:
        chunk = fh.read(8 << 20)
        if not chunk:
            length = offset - rec_start
            return (rec_line, length, rec_breaks > 0, True) if length > limit else None
        buf = np.frombuffer(chunk, dtype=np.uint8)
        cum_quotes = np.cumsum(buf == 34)
        breaks = np.flatnonzero(buf == 10)
        ends = np.flatnonzero((quotes + cum_quotes[breaks]) % 2 == 0)  # breaks ending a record
        line_at_chunk = rec_line + rec_breaks
        if len(ends):
            end_pos = offset + breaks[ends]
            start_pos = np.r_[rec_start, end_pos[:-1] + 1]
            lengths = end_pos - start_pos
            inside = np.r_[rec_breaks + ends[0], np.diff(ends) - 1]
            first_lines = np.r_[rec_line, line_at_chunk + ends[:-1] + 1]
            long = np.flatnonzero(lengths > limit)
            if len(long):
                i = int(long[0])
                return int(first_lines[i]), int(lengths[i]), bool(inside[i] > 0), True
            rec_line = line_at_chunk + int(ends[-1]) + 1
            rec_start = int(end_pos[-1]) + 1
            rec_breaks = len(breaks) - int(ends[-1]) - 1
        else:
            rec_breaks += len(breaks)
        quotes += int(cum_quotes[-1])
        offset += len(buf)
        if offset - rec_start > cap:
            return rec_line, offset - rec_start, rec_breaks > 0, False


def _line_end(head: bytes) -> int | None:
    """The length of the first line of ``head`` with its line end (\\n, \\r\\n or \\r)."""
    ends = [i for i in (head.find(b"\n"), head.find(b"\r")) if i >= 0]
    if not ends:
        return None
    i = min(ends)
    return i + 2 if head[i:i + 2] == b"\r\n" else i + 1


def _read_line(fh: IO[bytes], limit: int) -> bytes:
    """The first line of a stream, ended by \\n, \\r\\n or \\r (old Mac files), at most
    ``limit + 1`` bytes."""
    peek = getattr(fh, "peek", None)
    if peek is not None:
        head = peek(1 << 16)[: 1 << 16]
        n = _line_end(head)
        if n is not None:
            return fh.read(n)
    return fh.readline(limit + 1)


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
