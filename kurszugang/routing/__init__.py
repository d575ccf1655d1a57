"""Timetable-exact public-transport routing: timetable for a date, walking legs, RAPTOR.

``routing`` knows nothing of maps or analysis; it takes a :class:`kurszugang.io.gtfs.Feed` (and
optionally a :class:`kurszugang.io.osm.WalkNetwork`) and returns travel times. Not reachable is
NaN in every result array (an empty cell in tables); see :mod:`kurszugang.routing.router`.
"""

from __future__ import annotations

from kurszugang.routing.router import (
    ArriveBy,
    Points,
    Router,
    TravelTimes,
    as_points,
    parse_clock,
)
from kurszugang.routing.timetable import Timetable, compile_timetable
from kurszugang.routing.walking import NetworkWalking, StraightLineWalking, walk_seconds

__all__ = [
    "ArriveBy",
    "NetworkWalking",
    "Points",
    "Router",
    "StraightLineWalking",
    "Timetable",
    "TravelTimes",
    "as_points",
    "compile_timetable",
    "parse_clock",
    "walk_seconds",
]
