"""Coordinate reference systems, named once.

- :data:`ANALYSIS_CRS` (EPSG:25832, ETRS89 / UTM 32N): analysis and outputs in Bavaria, metres.
- :data:`GRID_CRS` (EPSG:3035, ETRS89-LAEA): the Zensus grid, as published.
- :data:`WEB_CRS` (EPSG:4326): GTFS and OSM coordinates, web maps.

:func:`metric_crs_for` picks a projection in metres suited to data anywhere on Earth (the UTM
zone of its centre), so that straight-line distances are right far from 9° E as well.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyproj import Transformer

__all__ = ["ANALYSIS_CRS", "GRID_CRS", "WEB_CRS", "metric_crs_for", "transformer"]

#: Analysis and outputs (metres): ETRS89 / UTM zone 32N.
ANALYSIS_CRS = "EPSG:25832"
#: The Zensus grid (cells of 100 m and 1 km): ETRS89-LAEA Europe.
GRID_CRS = "EPSG:3035"
#: Longitude/latitude (GTFS, OSM, web maps).
WEB_CRS = "EPSG:4326"


def metric_crs_for(lon: float, lat: float) -> str:
    """A projected CRS in metres suited to data centred at ``lon``, ``lat`` (degrees).

    The UTM zone of the point: ETRS89 (EPSG:25828-25838) in Europe, so that Bavarian data
    (zone 32) gets :data:`ANALYSIS_CRS`; WGS 84 (EPSG:326xx north, 327xx south) elsewhere.

    Examples
    --------
    >>> metric_crs_for(11.5, 48.1)
    'EPSG:25832'
    >>> metric_crs_for(-120.5, 44.0)
    'EPSG:32610'
    """
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return ANALYSIS_CRS
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    if 28 <= zone <= 38 and 34.0 <= lat <= 72.0 and -16.0 <= lon <= 40.0:
        return f"EPSG:{25800 + zone}"
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


@functools.lru_cache(maxsize=32)
def transformer(src: str, dst: str) -> Transformer:
    """A cached ``always_xy`` transformer from ``src`` to ``dst``."""
    from pyproj import Transformer  # imported here: the command line starts without pyproj

    return Transformer.from_crs(src, dst, always_xy=True)
