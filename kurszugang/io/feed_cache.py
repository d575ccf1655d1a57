"""A cache of parsed GTFS feeds, so that reading a district's feed again takes seconds.

:func:`kurszugang.io.gtfs.read_gtfs` keeps what it parsed (every table as a Parquet file, the
validation report, the skipped records and the service x day matrix) in a folder per feed and
reading options, and reads it from there the next time. An entry is found by its key:

- the SHA-256 checksum of the feed (the zip file's bytes; for a folder, the names and bytes of
  its ``.txt`` files), so a changed feed is read again;
- the reader's version (:data:`READER_VERSION`, the package version and a checksum of the
  reader's source files), so a new reader never returns an old reader's tables;
- the options that change the result: ``strict`` and ``dates``.

The folder is :func:`cache_dir`: the environment variable ``KURSZUGANG_CACHE_DIR`` if set, else
``$XDG_CACHE_HOME/kurszugang/feeds``, else ``~/.cache/kurszugang/feeds``. :func:`clear_cache`
empties it. An entry is written to a temporary folder beside its final place and renamed when
complete, so an interrupted write leaves no half entry; an entry that cannot be read is
ignored (and read again from the feed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kurszugang.errors import Problem
from kurszugang.words import plural

if TYPE_CHECKING:
    from kurszugang.io.gtfs import Feed

__all__ = ["CACHE_MIN_BYTES", "READER_VERSION", "cache_dir", "clear_cache", "entry_for"]

logger = logging.getLogger(__name__)

#: Bumped whenever the reader's output changes in a way its source checksum would not show.
READER_VERSION = 1
#: Automatic caching (``read_gtfs(cache=None)``) is for feeds whose stop_times.txt has at least
#: this many bytes (uncompressed): smaller feeds read in about a second anyway.
CACHE_MIN_BYTES = 32 << 20
_TABLES = ("agency", "stops", "routes", "trips", "stop_times", "calendar", "calendar_dates",
           "frequencies", "transfers", "feed_info", "shapes", "skipped")
_READER_SOURCES = ("gtfs.py", "_gtfs_loader.py", "_gtfs_tables.py", "_feedfiles.py",
                   "feed_cache.py")
_STRING = pd.StringDtype("pyarrow")


def cache_dir() -> Path:
    """The folder of the feed cache (not created here).

    ``KURSZUGANG_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/kurszugang/feeds``, else
    ``~/.cache/kurszugang/feeds``.

    Examples
    --------
    >>> os.environ["KURSZUGANG_CACHE_DIR"] = "/tmp/kz"
    >>> cache_dir()
    PosixPath('/tmp/kz')
    >>> del os.environ["KURSZUGANG_CACHE_DIR"]
    """
    folder = os.environ.get("KURSZUGANG_CACHE_DIR", "").strip()
    if folder:
        return Path(folder).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    root = Path(base).expanduser() if base else Path.home() / ".cache"
    return root / "kurszugang" / "feeds"


def clear_cache(folder: str | Path | None = None) -> int:
    """Remove every cached feed.

    Parameters
    ----------
    folder
        The cache folder (default :func:`cache_dir`).

    Returns
    -------
    int
        The number of entries removed (0 when the folder does not exist).

    Examples
    --------
    >>> from kurszugang.io.gtfs import read_gtfs
    >>> os.environ["KURSZUGANG_CACHE_DIR"] = "cache"
    >>> _ = read_gtfs(demo.gtfs, cache=True)  # parsed once, kept in ./cache
    >>> clear_cache()
    1
    >>> clear_cache()
    0
    >>> del os.environ["KURSZUGANG_CACHE_DIR"]
    """
    root = Path(folder) if folder is not None else cache_dir()
    if not root.is_dir():
        return 0
    removed = 0
    for entry in root.iterdir():
        if (entry.is_dir() and (entry / "meta.json").exists()) or entry.name.startswith(".tmp-"):
            shutil.rmtree(entry, ignore_errors=True)
            removed += not entry.name.startswith(".tmp-")
    logger.info("%s aus %s entfernt", plural(removed, "zwischengespeicherter Fahrplan",
                                             "zwischengespeicherte Fahrpläne"), root)
    return removed


@lru_cache(maxsize=1)
def _reader_digest() -> str:
    """A checksum of the reader's source files: a changed reader misses the cache."""
    from kurszugang import __version__

    here = Path(__file__).parent
    digest = hashlib.sha256(f"{READER_VERSION}:{__version__}".encode())
    for name in _READER_SOURCES:
        path = here / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def feed_checksum(path: str | Path) -> str:
    """SHA-256 of a feed: the zip's bytes, or a folder's ``.txt`` names and bytes."""
    p = Path(path)
    digest = hashlib.sha256()
    files = sorted(f for f in p.rglob("*.txt") if f.is_file()) if p.is_dir() else [p]
    for f in files:
        if p.is_dir():
            digest.update(str(f.relative_to(p)).encode() + b"\x00")
        with f.open("rb") as fh:
            while chunk := fh.read(8 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def _wanted(path: Path, enabled: bool | None) -> bool:
    if enabled is not None:
        return enabled
    if os.environ.get("KURSZUGANG_CACHE", "").strip().lower() in ("0", "off", "false", "no"):
        return False
    from kurszugang.errors import InputError
    from kurszugang.io._feedfiles import FeedFiles

    try:
        with FeedFiles(path) as files:
            size = files.size("stop_times.txt") if files.has("stop_times.txt") else 0
    except InputError:
        return False  # the reader will say what is wrong
    return (size or 0) >= CACHE_MIN_BYTES


def entry_for(path: str | Path, *, strict: bool | None, dates: tuple[dt.date, ...] | None,
              enabled: bool | None) -> CacheEntry | None:
    """The cache entry for reading a feed with these options (None when not caching)."""
    p = Path(path)
    if not p.exists() or not _wanted(p, enabled):
        return None
    options = {"strict": strict, "dates": [d.isoformat() for d in dates] if dates else None}
    key = hashlib.sha256(json.dumps([feed_checksum(p), _reader_digest(), options],
                                    sort_keys=True).encode()).hexdigest()[:32]
    return CacheEntry(cache_dir() / key, p)


@dataclass(frozen=True)
class CacheEntry:
    """One cached feed: a folder of Parquet tables and ``meta.json``."""

    folder: Path
    source: Path

    def load(self) -> Feed | None:
        """The cached feed, or None when there is none (or it cannot be read)."""
        if not (self.folder / "meta.json").exists():
            return None
        try:
            return self._load()
        except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as exc:
            logger.warning("der unlesbare Eintrag %s im Zwischenspeicher wird übergangen (%s)",
                           self.folder, exc)
            return None

    def _load(self) -> Feed:
        from kurszugang.io._gtfs_tables import _ServiceDays
        from kurszugang.io._report import ValidationReport
        from kurszugang.io.gtfs import Feed

        meta = json.loads((self.folder / "meta.json").read_text(encoding="utf-8"))
        tables = {name: _read_table(self.folder / f"{name}.parquet", meta["dtypes"][name])
                  for name in _TABLES}
        r = meta["report"]
        report = ValidationReport(source=str(self.source), kind=r["kind"], counts=r["counts"],
                                  problems=[Problem(*p) for p in r["problems"]],
                                  notes=r["notes"], omitted=r["omitted"])
        dates = tuple(dt.date.fromisoformat(d) for d in meta["dates"]) if meta["dates"] else None
        feed = Feed(source=str(self.source), files=tuple(meta["files"]), report=report,
                    dates=dates, **tables)
        with np.load(self.folder / "service_days.npz", allow_pickle=False) as npz:
            active = np.unpackbits(npz["active"], axis=1, count=int(npz["days"])).astype(bool)
            ids = pd.Index(np.asarray(npz["ids"], dtype=object), dtype=object)
            feed.__dict__["_service_days"] = _ServiceDays(ids, npz["first"].astype("datetime64[D]"),
                                                          active)
        per = pq.read_table(self.folder / "trips_per_service.parquet").to_pandas()
        feed.__dict__["_trips_per_service"] = pd.Series(
            per["n"].to_numpy(np.int64), index=pd.Index(per["service"].to_numpy(object),
                                                          dtype=object))
        for level, text in meta["log"]:
            logger.log(level, "%s", text)
        return feed

    def save(self, feed: Feed, log: list[tuple[int, str]]) -> None:
        """Write the feed to the cache (atomically; a failure only logs a warning)."""
        tmp = self.folder.parent / f".tmp-{uuid.uuid4().hex}"
        try:
            tmp.mkdir(parents=True)
            dtypes = {}
            for name in _TABLES:
                df = getattr(feed, name)
                dtypes[name] = {str(c): str(t) for c, t in df.dtypes.items()}
                pq.write_table(pa.Table.from_pandas(df, preserve_index=False),
                               tmp / f"{name}.parquet")
            sd = feed._service_days
            np.savez(tmp / "service_days.npz", ids=np.asarray(sd.ids, dtype=str),
                     first=np.asarray(sd.first), days=np.asarray(sd.active.shape[1]),
                     active=np.packbits(sd.active, axis=1))
            per = feed._trips_per_service
            pq.write_table(pa.table({"service": pa.array(per.index.astype(str), pa.string()),
                                     "n": pa.array(per.to_numpy(np.int64))}),
                           tmp / "trips_per_service.parquet")
            r = feed.report
            meta: dict[str, Any] = {
                "files": list(feed.files), "dates": [d.isoformat() for d in feed.dates or ()],
                "dtypes": dtypes, "log": log,
                "report": {"kind": r.kind, "counts": r.counts, "notes": r.notes,
                           "omitted": r.omitted,
                           "problems": [[p.severity, p.file, p.row, p.column, p.message, p.code]
                                        for p in r.problems]},
            }
            (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
            if self.folder.exists():
                shutil.rmtree(self.folder, ignore_errors=True)
            tmp.rename(self.folder)
            logger.info("den gelesenen Fahrplan in %s zwischengespeichert", self.folder)
        except OSError as exc:
            logger.warning("der Zwischenspeicher %s ließ sich nicht schreiben (%s); das Lesen "
                           "geht auch ohne ihn",
                           self.folder, exc)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _read_table(path: Path, dtypes: dict[str, str]) -> pd.DataFrame:
    """A cached table with the dtypes it had (Parquet keeps dates in milliseconds)."""
    def mapper(t: pa.DataType) -> Any:
        return _STRING if pa.types.is_string(t) or pa.types.is_large_string(t) else None

    df = pq.read_table(path).to_pandas(types_mapper=mapper)
    for column, dtype in dtypes.items():
        if dtype.startswith("datetime64") and str(df[column].dtype) != dtype:
            df[column] = df[column].astype(dtype)
    return df
