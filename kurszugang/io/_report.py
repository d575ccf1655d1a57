"""Validation reports shared by every reader: problems collected, counted and printed once."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from kurszugang.errors import Problem


@dataclass
class ValidationReport:
    """What a reader found in one input: counts of what was read, errors and warnings.

    Attributes
    ----------
    source
        The file or folder that was read.
    kind
        What kind of input it is ("GTFS feed", "boundaries", "course sites", ...).
    counts
        What was read, in words and numbers, e.g. ``{"stops": 905, "trips": 13884}``.
    problems
        Every error and warning, each naming file, row and field.
    notes
        Facts worth telling that are neither errors nor warnings (e.g. "interpolated 12 times").
    omitted
        Problems counted but not listed (a reader lists the first ones of a kind), per
        ``"severity:code"``; :meth:`format` counts them in.
    """

    source: str
    kind: str
    counts: dict[str, int | str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    omitted: dict[str, int] = field(default_factory=dict)

    def error(self, file: str, row: int | None, column: str | None, message: str, code: str = "") -> None:
        """Record an error (the record or file cannot be used as it is)."""
        self.problems.append(Problem("error", file, row, column, message, code))

    def warning(self, file: str, row: int | None, column: str | None, message: str, code: str = "") -> None:
        """Record a warning (suspicious, but usable)."""
        self.problems.append(Problem("warning", file, row, column, message, code))

    def omit(self, severity: str, code: str, n: int) -> None:
        """Count ``n`` more problems of a kind that are not listed."""
        key = f"{severity}:{code}"
        self.omitted[key] = self.omitted.get(key, 0) + n

    @property
    def errors(self) -> list[Problem]:
        """The problems of severity ``"error"``."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """The problems of severity ``"warning"``."""
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when no errors were found (warnings allowed)."""
        return not self.errors

    def format(self, max_per_code: int = 5) -> str:
        """A readable multi-line report: counts, then errors and warnings grouped by kind.

        At most ``max_per_code`` examples are listed per kind of problem; the rest are counted.
        """
        name = Path(self.source).name or str(self.source)
        lines = [f"{self.kind}: {name}"]
        for key, value in self.counts.items():
            shown = f"{value:,}" if isinstance(value, int) else str(value)
            lines.append(f"  {key}: {shown}")
        for note in self.notes:
            lines.append(f"  note: {note}")
        for severity, plural in (("error", "errors"), ("warning", "warnings")):
            found = [p for p in self.problems if p.severity == severity]
            hidden = {k.split(":", 1)[1]: n for k, n in self.omitted.items()
                      if k.split(":", 1)[0] == severity}
            total = len(found) + sum(hidden.values())
            lines.append(f"  {total:,} {plural if total != 1 else severity}")
            per_code: Counter[str] = Counter(hidden)
            for p in found:
                per_code[p.code] += 1
                if per_code[p.code] - hidden.get(p.code, 0) <= max_per_code:
                    lines.append(f"    {severity}: {p}")
            for code, n in per_code.items():
                if n > max_per_code:
                    label = code or "similar"
                    lines.append(f"    ... {n - max_per_code:,} more {label} {plural}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()
