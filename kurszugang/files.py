"""Durable files: written under a temporary name in their folder and renamed when complete.

An interrupted run (Ctrl-C, a kill, a full disk) never leaves a truncated file under its final
name: :func:`atomic_path` hands out a temporary path beside the target, and only when the block
ends without an error is the file flushed to disk and renamed over the target in one step.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["TEMP_PREFIX", "atomic_path"]

#: Temporary files start with this (left-overs of a killed run can be recognised and removed).
TEMP_PREFIX = ".kz-tmp-"


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """A temporary path in ``target``'s folder, renamed to ``target`` when the block succeeds.

    The temporary file keeps the target's suffix (some writers choose the format by it). On an
    error the temporary file is removed and the target is left as it was.

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
        if tmp.is_dir():  # pragma: no cover - writers produce files
            raise IsADirectoryError(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    finally:
        _remove(tmp)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
