"""Readers for every input a district office has: GTFS, boundaries, course sites, OSM, Zensus grid.

Each reader returns plain data objects (frozen dataclasses of (Geo)DataFrames or numpy arrays) and
raises :class:`kurszugang.errors.InputError` subclasses naming file, row and column. Each input
kind also has a ``validate_*`` function that never raises for bad data but returns a
:class:`ValidationReport` listing every problem; :func:`validate` picks the right one for a path.

Modules: :mod:`~kurszugang.io.gtfs`, :mod:`~kurszugang.io.boundaries`,
:mod:`~kurszugang.io.courses`, :mod:`~kurszugang.io.osm`, :mod:`~kurszugang.io.population`,
:mod:`~kurszugang.io.points`; :mod:`~kurszugang.io.extract` cuts a district out of a national
GTFS feed and :mod:`~kurszugang.io.download` fetches official sources (only when asked).
"""

from __future__ import annotations

from kurszugang.io._report import ValidationReport
from kurszugang.io.detect import detect_kind, validate

__all__ = ["ValidationReport", "detect_kind", "validate"]
