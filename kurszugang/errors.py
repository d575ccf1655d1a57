"""One small exception hierarchy for everything a user can get wrong.

Every error caused by input data says where the problem is (file, row, column) and what was
expected, so that a district GIS officer can fix the file without reading a traceback. The command
line prints ``str(error)`` in one or two lines and exits non-zero.

Row numbers are the line numbers a text editor or spreadsheet shows: in a CSV file the header is
line 1 and the first record is line 2; in an XLSX sheet the header is row 1; in GeoJSON and other
feature files the first feature is feature 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "KurszugangError",
    "InputError",
    "InputFormatError",
    "Problem",
    "DataValidationError",
    "ServiceDateError",
    "RoutingError",
    "ConfigError",
    "OutputError",
]


class KurszugangError(Exception):
    """Base class of every error raised on purpose by kurszugang."""


_FEATURE_FILES = (".geojson", ".json", ".gpkg", ".shp", ".fgb", ".gml")


def _location(path: str | Path | None, row: int | None, column: str | None) -> str:
    parts: list[str] = []
    if path is not None:
        parts.append(Path(path).name if isinstance(path, Path) else str(path))
    if row is not None:
        # In feature files a "row" is the feature's number, in tables the line number.
        unit = "feature" if str(path).lower().endswith(_FEATURE_FILES) else "line"
        parts.append(f"{unit} {row}")
    where = " ".join(parts)
    if column is not None:
        where = f"{where}: {column}" if where else column
    return where


class InputError(KurszugangError, ValueError):
    """A problem with an input file or value that the user has to fix.

    Parameters
    ----------
    message
        What is wrong and what was expected, e.g. ``"'abc' is not a number"``.
    path
        The file the problem is in, if any.
    row
        Line number in that file (header = line 1), if the problem is in one record.
    column
        The column or field name, if the problem is in one field.

    Examples
    --------
    >>> str(InputError("'abc' is not a number", path="stops.txt", row=143, column="stop_lat"))
    "stops.txt line 143: stop_lat 'abc' is not a number"
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.row = row
        self.column = column
        where = _location(path, row, column)
        if not where:
            text = message
        elif column is not None:
            text = f"{where} {message}"
        else:
            text = f"{where}: {message}"
        super().__init__(text)


class InputFormatError(InputError):
    """A file that cannot be read at all: empty, of another format than its name says, unreadable."""


@dataclass(frozen=True)
class Problem:
    """One finding about an input file: an error (unusable) or a warning (suspicious).

    ``row`` is the line number in the file (header = line 1) or the feature number.
    """

    severity: str  # "error" or "warning"
    file: str
    row: int | None
    column: str | None
    message: str
    code: str = ""

    def __str__(self) -> str:
        where = _location(self.file, self.row, self.column)
        sep = " " if self.column is not None else ": "
        return f"{where}{sep}{self.message}"


class DataValidationError(InputError):
    """Several problems found in one input, all reported together.

    Attributes
    ----------
    problems
        Every problem found, in file order.
    """

    def __init__(self, problems: Sequence[Problem], *, path: str | Path | None = None, max_shown: int = 20) -> None:
        self.problems = list(problems)
        n = len(self.problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:max_shown])
        more = f"\n  ... and {n - max_shown} more" if n > max_shown else ""
        name = Path(path).name if path is not None else "input"
        KurszugangError.__init__(self, f"{name}: {n} problem{'s' if n != 1 else ''} found:\n{shown}{more}")
        self.message = str(self)
        self.path = path
        first = self.problems[0] if self.problems else None
        self.row = first.row if first else None
        self.column = first.column if first else None


class ServiceDateError(InputError):
    """A date on which the timetable has no service (names the feed's service period)."""


class RoutingError(KurszugangError, ValueError):
    """A routing request that cannot be answered as asked (bad parameters, unsnappable points)."""


class ConfigError(InputError):
    """A configuration file or parameter that is missing, of the wrong type or out of range."""


class OutputError(KurszugangError, OSError):
    """An output that cannot be written (disk full, read-only, busy folder), naming the file."""

    def __init__(self, message: str, *, path: str | Path | None = None) -> None:
        self.message = message
        self.path = path
        KurszugangError.__init__(self, f"{path}: {message}" if path is not None else message)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else self.message
