"""Durable files and one run per output folder.

An interrupted run (Ctrl-C, a kill, a full disk) never leaves a truncated file under its final
name: :func:`atomic_path` hands out a temporary path beside the target, and only when the block
ends without an error is the file flushed to disk and renamed over the target in one step. A
write that fails (disk full, read-only, no permission, a GDAL or SQLite commit) is one
:class:`~kurszugang.errors.OutputError` naming the file.

:class:`RunLock` marks an output folder while a run works in it (``.kurszugang-lauf``: process
id, start time, host): a second run into the same folder stops at once with one line naming the
other run; a marker left by a run that no longer lives (killed, interrupted) is taken over with a
warning saying that the folder was left incomplete.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from kurszugang.errors import OutputError

__all__ = ["LOCK_NAME", "TEMP_PREFIX", "RunLock", "atomic_path", "interrupted_run"]

log = logging.getLogger(__name__)

#: Temporary files start with this (left-overs of a killed run are removed by the next run).
TEMP_PREFIX = ".kz-tmp-"
#: The marker of a run working in a folder.
LOCK_NAME = ".kurszugang-lauf"


def _write_error(exc: BaseException) -> bool:
    """True for errors of writing a file (not of the program)."""
    if isinstance(exc, OSError | sqlite3.Error):
        return True
    module = type(exc).__module__ or ""
    return isinstance(exc, RuntimeError) and module.startswith(("pyogrio", "rasterio"))


def _reason(exc: BaseException, folder: Path) -> str:
    """Why a write failed, in words (a full disk is told by its free space: GDAL and SQLite
    often report only the failed statement)."""
    import shutil

    with contextlib.suppress(OSError):
        if shutil.disk_usage(folder).free < 1 << 20:
            return "kein Platz mehr auf dem Datenträger (No space left on device)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """A temporary path in ``target``'s folder, renamed to ``target`` when the block succeeds.

    The temporary file keeps the target's suffix (some writers choose the format by it). On an
    error the temporary file is removed and the target is left as it was; an error of writing
    is raised as :class:`~kurszugang.errors.OutputError` naming the target.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with atomic_path(folder / "a.txt") as tmp:
    ...     _ = tmp.write_text("complete")
    >>> (folder / "a.txt").read_text()
    'complete'
    """
    final = Path(target)
    tmp = final.with_name(f"{TEMP_PREFIX}{os.getpid()}-{final.name}")
    _remove(tmp)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except BaseException as exc:
        _remove(tmp)
        if _write_error(exc) and not isinstance(exc, OutputError):
            raise OutputError(f"konnte nicht geschrieben werden: {_reason(exc, final.parent)}",
                              path=str(final)) from exc
        raise


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of another user
        return True
    return True


def _read_marker(path: Path) -> dict[str, object]:
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


def interrupted_run(folder: str | Path) -> dict[str, object] | None:
    """The marker of a run that worked in ``folder`` and did not finish (None if none)."""
    path = Path(folder) / LOCK_NAME
    if not path.exists():
        return None
    marker = _read_marker(path)
    pid = int(str(marker.get("pid") or 0))
    same_host = marker.get("host") == socket.gethostname()
    running = pid and same_host and _alive(pid) and not marker.get("ended")
    return None if running else marker


def _started(marker: dict[str, object]) -> str:
    text = str(marker.get("started", ""))
    try:
        return f"{dt.datetime.fromisoformat(text):%d.%m.%Y %H:%M}"
    except ValueError:
        return "unbekannt"


class RunLock:
    """One run per output folder (a context manager around a run).

    Raises
    ------
    OutputError
        If another run that still lives works in the folder (naming its process id and start).
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.taken_over: dict[str, object] | None = None

    def __enter__(self) -> RunLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                           "started": dt.datetime.now().isoformat(timespec="seconds")})
        for _attempt in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._check_other()
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            return self
        raise OutputError("wird von einem anderen Lauf belegt", path=str(self.folder))

    def _check_other(self) -> None:
        marker = _read_marker(self.path)
        pid = int(str(marker.get("pid") or 0))
        if pid and marker.get("host") == socket.gethostname() and _alive(pid) \
                and not marker.get("ended"):
            raise OutputError(f"wird gerade von einem anderen Lauf beschrieben (Prozess {pid}, "
                              f"gestartet {_started(marker)}): warten oder einen anderen "
                              "Ausgabeordner wählen", path=str(self.folder))
        log.warning("Der letzte Lauf in %s (Prozess %s, gestartet %s) wurde nicht beendet: "
                    "seine Dateien werden jetzt ersetzt", self.folder, pid or "?",
                    _started(marker))
        self.taken_over = marker
        for left in self.folder.rglob(f"{TEMP_PREFIX}*"):  # what a killed run left behind
            _remove(left)
        _remove(self.path)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if kind is None:  # finished: the folder is complete
            _remove(self.path)
            return
        # Otherwise the marker stays, so that the next run and `kurszugang map` see an
        # incomplete folder; it says that the run ended, so that a new run in this same
        # process (a retry) may take the folder over.
        marker = _read_marker(self.path)
        marker.update(ended=dt.datetime.now().isoformat(timespec="seconds"),
                      error=kind.__name__)
        try:
            self.path.write_text(json.dumps(marker), encoding="utf-8")
        except OSError:  # a full or read-only disk: the marker as it was still says "incomplete"
            pass
