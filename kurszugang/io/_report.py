"""Validation reports shared by every reader: problems collected, counted and printed once.

The printed report (:meth:`ValidationReport.format`) reads German, as district staff read it:
headings, count labels, "Fehler", "Warnungen", "Zeile". The keys of
:attr:`ValidationReport.counts` and :attr:`ValidationReport.kind` stay English identifiers for
code; their German labels are in :data:`KIND_LABELS` and :data:`COUNT_LABELS` (readers may add
theirs).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kurszugang.errors import DataValidationError, Problem

__all__ = [
    "COUNT_LABELS",
    "KIND_LABELS",
    "GermanProblem",
    "ValidationReport",
    "data_error",
    "german_number",
    "problem_text",
]

#: German headings of the kinds of input (``ValidationReport.kind``).
KIND_LABELS: dict[str, str] = {
    "GTFS feed": "GTFS-Fahrplan",
    "boundaries": "Verwaltungsgrenzen",
    "course sites": "Kursorte und Kurse",
    "population grid": "Bevölkerungsraster (Zensus)",
    "walking network (OpenStreetMap)": "Fußwegenetz (OpenStreetMap)",
}

#: German labels of count keys (``ValidationReport.counts``); unknown keys are shown as they are.
COUNT_LABELS: dict[str, str] = {
    # course lists
    "separator": "Trennzeichen",
    "encoding": "Zeichensatz",
    "sheet": "Tabellenblatt",
    "rows": "Zeilen",
    "sites": "Kursorte",
    "courses": "Kurse",
    "courses with childcare": "Kurse mit Kinderbetreuung",
    "as of": "Stand",
    "crs": "Koordinatensystem",
    # boundaries
    "layer": "Ebene",
    "source": "Quelle",
    "features read": "gelesene Objekte",
    "features": "Objekte",
    "level": "Ebene (Verwaltung)",
    "water features": "Wasserflächen",
    "water features dropped": "Wasserflächen entfernt",
    "gemeindefrei": "gemeindefreie Gebiete",
    "geometries repaired": "reparierte Geometrien",
    "features without geometry dropped": "Objekte ohne Geometrie entfernt",
    # population grid
    "records": "Datensätze",
    "cells": "Zellen",
    "resolution": "Zellgröße",
    "bands": "Bänder",
    "raster cells": "Rasterzellen",
    "cells without inhabitants value": "Zellen ohne Einwohnerwert",
    "cells without foreigners value": "Zellen ohne Ausländerwert",
    "inhabitants (sum)": "Einwohner (Summe)",
    "foreigners (sum)": "Ausländer (Summe)",
    # GTFS
    "agencies": "Verkehrsunternehmen",
    "stops": "Haltestellen",
    "routes": "Linien",
    "trips": "Fahrten",
    "stop_times": "Halte (stop_times)",
    "services": "Verkehrstage-Kalender",
    "service period": "Fahrplanzeitraum",
    "interpolated times": "interpolierte Zeiten",
    # OpenStreetMap
    "nodes": "Knoten",
    "edges": "Kanten",
    "walkable ways": "begehbare Wege",
    "graph nodes": "Knoten des Wegegraphen",
    "graph edges": "Kanten des Wegegraphen",
    "connected components": "zusammenhängende Teilnetze",
    "largest component share": "Anteil des größten Teilnetzes",
    "nodes in the largest component": "Knoten im größten Teilnetz",
    "total length (km)": "Gesamtlänge (km)",
    "ways with a highway tag": "Wege mit highway-Merkmal",
    "walkable ways without a usable segment": "begehbare Wege ohne nutzbaren Abschnitt",
    "node references": "Knotenverweise",
    "node references missing from the file": "Knotenverweise ohne Knoten in der Datei",
    "node references outside the bbox": "Knotenverweise außerhalb des Ausschnitts",
    "repeated consecutive nodes dropped": "wiederholte Knoten entfernt",
    "duplicate segments dropped": "doppelte Abschnitte entfernt",
}

_UNIT = {"feature": "Objekt", "line": "Zeile"}
_FEATURE_FILES = (".geojson", ".json", ".gpkg", ".shp", ".fgb", ".gml")


def _de_value(value: object) -> str:
    """A text-valued count in German: ``"2021-03-01 to 2021-03-31"`` -> ``"... bis ..."``."""
    text = str(value)
    return "keiner" if text == "none" else text.replace(" to ", " bis ")


def german_number(value: int | float) -> str:
    """A number as German text: ``12403851`` -> ``"12.403.851"``, ``2.5`` -> ``"2,5"``.

    Parameters
    ----------
    value
        The number.

    Returns
    -------
    str
        Thousands separated by ``.``, decimals by ``,``.

    Examples
    --------
    >>> german_number(12403851), german_number(2.5)
    ('12.403.851', '2,5')
    """
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.6g}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def problem_text(problem: Problem) -> str:
    """One problem as a German line: ``kursorte.csv Zeile 7: Beginn '8:75' ist keine Uhrzeit``.

    Rows of feature files (GeoJSON, GeoPackage, shapefile) are "Objekt N", of tables "Zeile N".

    Parameters
    ----------
    problem
        A problem of any reader.

    Returns
    -------
    str
        File, row and column, then the message.

    Examples
    --------
    >>> problem_text(Problem("error", "kursorte.csv", 7, "Beginn", "'8:75' ist keine Uhrzeit"))
    "kursorte.csv Zeile 7: Beginn '8:75' ist keine Uhrzeit"
    """
    parts = [problem.file] if problem.file else []
    if problem.row is not None:
        unit = "feature" if str(problem.file).lower().endswith(_FEATURE_FILES) else "line"
        parts.append(f"{_UNIT[unit]} {problem.row}")
    where = " ".join(parts)
    if problem.column is not None:
        where = f"{where}: {problem.column}" if where else problem.column
        return f"{where} {problem.message}"
    return f"{where}: {problem.message}" if where else problem.message


@dataclass(frozen=True)
class GermanProblem(Problem):
    """A :class:`~kurszugang.errors.Problem` whose text reads German ("Zeile", "Objekt")."""

    def __str__(self) -> str:
        return problem_text(self)


class _GermanDataValidationError(DataValidationError):
    """:class:`DataValidationError` whose message reads German."""

    def __init__(
        self, problems: Sequence[Problem], *, path: str | Path | None = None, max_shown: int = 20
    ) -> None:
        super().__init__(problems, path=path, max_shown=max_shown)
        n = len(self.problems)
        shown = "\n".join(f"  {problem_text(p)}" for p in self.problems[:max_shown])
        more = f"\n  … und {n - max_shown} weitere" if n > max_shown else ""
        name = Path(path).name if path is not None else "Eingabe"
        noun = "Problem" if n == 1 else "Probleme"
        text = f"{name}: {german_number(n)} {noun} gefunden:\n{shown}{more}"
        self.args = (text,)
        self.message = text


def data_error(problems: Sequence[Problem], *, path: str | Path | None = None) -> DataValidationError:
    """A :class:`~kurszugang.errors.DataValidationError` listing ``problems`` in German.

    Parameters
    ----------
    problems
        The problems found (errors), in file order.
    path
        The file they are in.

    Returns
    -------
    DataValidationError
        To be raised; ``str()`` reads "kursorte.csv: 2 Probleme gefunden:" and one line each.

    Examples
    --------
    >>> err = data_error([GermanProblem("error", "k.csv", 2, "Beginn", "fehlt")], path="k.csv")
    >>> print(err)
    k.csv: 1 Problem gefunden:
      k.csv Zeile 2: Beginn fehlt
    """
    return _GermanDataValidationError(problems, path=path)


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
    lang
        ``"de"``: problems recorded with :meth:`error` and :meth:`warning` are
        :class:`GermanProblem` (their ``str()`` says "Zeile"); ``"en"`` (default): plain
        :class:`~kurszugang.errors.Problem`. :meth:`format` reads German either way.
    omitted
        Problems counted but not listed (a reader lists the first ones of a kind), per
        ``"severity:code"``; :meth:`format` counts them in.
    """

    source: str
    kind: str
    counts: dict[str, int | str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    lang: str = "en"
    omitted: dict[str, int] = field(default_factory=dict)

    def _add(self, severity: str, file: str, row: int | None, column: str | None,
             message: str, code: str) -> None:
        cls = GermanProblem if self.lang == "de" else Problem
        self.problems.append(cls(severity, file, row, column, message, code))

    def error(self, file: str, row: int | None, column: str | None, message: str, code: str = "") -> None:
        """Record an error (the record or file cannot be used as it is)."""
        self._add("error", file, row, column, message, code)

    def warning(self, file: str, row: int | None, column: str | None, message: str, code: str = "") -> None:
        """Record a warning (suspicious, but usable)."""
        self._add("warning", file, row, column, message, code)

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
        """A readable German report: counts, notes, then errors and warnings grouped by kind.

        At most ``max_per_code`` examples are listed per kind of problem; the rest are counted.

        Examples
        --------
        >>> r = ValidationReport("kursorte.csv", "course sites", counts={"courses": 1200})
        >>> r.error("kursorte.csv", 7, "Beginn", "'8:75' ist keine Uhrzeit (erwartet HH:MM)")
        >>> print(r.format())
        Kursorte und Kurse: kursorte.csv
          Kurse: 1.200
          1 Fehler
            Fehler: kursorte.csv Zeile 7: Beginn '8:75' ist keine Uhrzeit (erwartet HH:MM)
          0 Warnungen
        """
        name = Path(self.source).name or str(self.source)
        lines = [f"{KIND_LABELS.get(self.kind, self.kind)}: {name}"]
        for key, value in self.counts.items():
            shown = german_number(value) if isinstance(value, int | float) else _de_value(value)
            lines.append(f"  {COUNT_LABELS.get(key, key)}: {shown}")
        for note in self.notes:
            lines.append(f"  Hinweis: {note}")
        for severity, one, many in (("error", "Fehler", "Fehler"),
                                    ("warning", "Warnung", "Warnungen")):
            found = [p for p in self.problems if p.severity == severity]
            hidden = {k.split(":", 1)[1]: n for k, n in self.omitted.items()
                      if k.split(":", 1)[0] == severity}
            total = len(found) + sum(hidden.values())
            lines.append(f"  {german_number(total)} {one if total == 1 else many}")
            per_code: Counter[str] = Counter(hidden)
            for p in found:
                per_code[p.code] += 1
                if per_code[p.code] - hidden.get(p.code, 0) <= max_per_code:
                    lines.append(f"    {one}: {problem_text(p)}")
            for n in per_code.values():
                if n > max_per_code:
                    rest = n - max_per_code
                    lines.append(f"    … und {german_number(rest)} weitere "
                                 f"{one if rest == 1 else many} dieser Art")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()
