"""kurszugang: who can reach which integration course by public transport, at course times.

A user's script needs only ``import kurszugang as kz``; the public API is re-exported here and
loaded on first use, so that ``import kurszugang`` and the command line start quickly.

Examples
--------
>>> import kurszugang as kz
>>> feed = kz.read_gtfs("gtfs.zip")  # doctest: +SKIP
>>> router = kz.Router(feed, "2026-03-10")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from kurszugang.errors import (
    ConfigError,
    DataValidationError,
    InputError,
    InputFormatError,
    KurszugangError,
    RoutingError,
    ServiceDateError,
)

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

# public name -> module that defines it
_LAZY = {
    "ValidationReport": "kurszugang.io._report",
    "detect_kind": "kurszugang.io.detect",
    "validate": "kurszugang.io.detect",
    "Feed": "kurszugang.io.gtfs",
    "read_gtfs": "kurszugang.io.gtfs",
    "validate_gtfs": "kurszugang.io.gtfs",
    "read_boundaries": "kurszugang.io.boundaries",
    "validate_boundaries": "kurszugang.io.boundaries",
    "CourseList": "kurszugang.io.courses",
    "ScheduleRule": "kurszugang.io.courses",
    "COURSE_TYPES": "kurszugang.io.courses",
    "read_courses": "kurszugang.io.courses",
    "validate_courses": "kurszugang.io.courses",
    "WalkNetwork": "kurszugang.io.osm",
    "read_walk_network": "kurszugang.io.osm",
    "download_walk_network": "kurszugang.io.osm",
    "walk_network_from_graph": "kurszugang.io.osm",
    "validate_walk_network": "kurszugang.io.osm",
    "read_population_grid": "kurszugang.io.population",
    "validate_population_grid": "kurszugang.io.population",
    "read_points_csv": "kurszugang.io.points",
    "Router": "kurszugang.routing.router",
    "TravelTimes": "kurszugang.routing.router",
    "ArriveBy": "kurszugang.routing.router",
    "Points": "kurszugang.routing.router",
    "Timetable": "kurszugang.routing.timetable",
    "compile_timetable": "kurszugang.routing.timetable",
    "analysis_grid": "kurszugang.analysis.grid",
    "RouterPool": "kurszugang.analysis.coverage",
    "CourseAccess": "kurszugang.analysis.coverage",
    "course_access": "kurszugang.analysis.coverage",
    "coverage_summary": "kurszugang.analysis.coverage",
    "compare_days": "kurszugang.analysis.coverage",
    "gaps": "kurszugang.analysis.coverage",
    "class_sizes": "kurszugang.analysis.demand",
    "infeasible_formats": "kurszugang.analysis.demand",
    "TravelTimeSurface": "kurszugang.analysis.catchments",
    "travel_time_surface": "kurszugang.analysis.catchments",
    "site_surfaces": "kurszugang.analysis.catchments",
    "isochrones": "kurszugang.analysis.catchments",
    "subsidy_distances": "kurszugang.analysis.subsidy",
    "subsidy_summary": "kurszugang.analysis.subsidy",
    "earliest_starts": "kurszugang.analysis.waiting",
    "providers_by_start": "kurszugang.analysis.waiting",
    "extract_feed": "kurszugang.io.extract",
    "read_area": "kurszugang.io.extract",
    "ExtractSummary": "kurszugang.io.extract",
    "download": "kurszugang.io.download",
    "DownloadResult": "kurszugang.io.download",
    "write_csv": "kurszugang.output.tables",
    "write_xlsx": "kurszugang.output.tables",
    "german_columns": "kurszugang.output.tables",
    "write_geopackage": "kurszugang.output.geopackage",
    "result_layers": "kurszugang.output.geopackage",
    "write_surfaces": "kurszugang.output.geopackage",
    "Config": "kurszugang.config",
    "load_config": "kurszugang.config",
    "run_analysis": "kurszugang.pipeline",
    "build_webmap": "kurszugang.output.webmap",
    "write_webmap": "kurszugang.output.webmap",
    "static_map": "kurszugang.output.figures",
}

if TYPE_CHECKING:
    from kurszugang.analysis.catchments import (
        TravelTimeSurface,
        isochrones,
        site_surfaces,
        travel_time_surface,
    )
    from kurszugang.analysis.coverage import (
        CourseAccess,
        RouterPool,
        compare_days,
        course_access,
        coverage_summary,
        gaps,
    )
    from kurszugang.analysis.demand import class_sizes, infeasible_formats
    from kurszugang.analysis.grid import analysis_grid
    from kurszugang.analysis.subsidy import subsidy_distances, subsidy_summary
    from kurszugang.analysis.waiting import earliest_starts, providers_by_start
    from kurszugang.config import Config, load_config
    from kurszugang.io._report import ValidationReport
    from kurszugang.io.boundaries import read_boundaries, validate_boundaries
    from kurszugang.io.courses import (
        COURSE_TYPES,
        CourseList,
        ScheduleRule,
        read_courses,
        validate_courses,
    )
    from kurszugang.io.detect import detect_kind, validate
    from kurszugang.io.download import DownloadResult, download
    from kurszugang.io.extract import ExtractSummary, extract_feed, read_area
    from kurszugang.io.gtfs import Feed, read_gtfs, validate_gtfs
    from kurszugang.io.osm import (
        WalkNetwork,
        download_walk_network,
        read_walk_network,
        validate_walk_network,
        walk_network_from_graph,
    )
    from kurszugang.io.points import read_points_csv
    from kurszugang.io.population import read_population_grid, validate_population_grid
    from kurszugang.output.figures import static_map
    from kurszugang.output.geopackage import result_layers, write_geopackage, write_surfaces
    from kurszugang.output.tables import german_columns, write_csv, write_xlsx
    from kurszugang.output.webmap import build_webmap, write_webmap
    from kurszugang.pipeline import run_analysis
    from kurszugang.routing.router import ArriveBy, Points, Router, TravelTimes
    from kurszugang.routing.timetable import Timetable, compile_timetable


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kurszugang' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "__version__",
    "ConfigError",
    "DataValidationError",
    "InputError",
    "InputFormatError",
    "KurszugangError",
    "RoutingError",
    "ServiceDateError",
    "ArriveBy",
    "COURSE_TYPES",
    "Config",
    "CourseAccess",
    "CourseList",
    "DownloadResult",
    "ExtractSummary",
    "Feed",
    "Points",
    "Router",
    "RouterPool",
    "ScheduleRule",
    "Timetable",
    "TravelTimeSurface",
    "TravelTimes",
    "ValidationReport",
    "WalkNetwork",
    "analysis_grid",
    "build_webmap",
    "class_sizes",
    "compare_days",
    "compile_timetable",
    "course_access",
    "coverage_summary",
    "detect_kind",
    "download",
    "download_walk_network",
    "earliest_starts",
    "extract_feed",
    "gaps",
    "german_columns",
    "infeasible_formats",
    "isochrones",
    "load_config",
    "providers_by_start",
    "read_area",
    "read_boundaries",
    "read_courses",
    "read_gtfs",
    "read_points_csv",
    "read_population_grid",
    "read_walk_network",
    "result_layers",
    "run_analysis",
    "site_surfaces",
    "static_map",
    "subsidy_distances",
    "subsidy_summary",
    "travel_time_surface",
    "validate",
    "validate_boundaries",
    "validate_courses",
    "validate_gtfs",
    "validate_population_grid",
    "validate_walk_network",
    "walk_network_from_graph",
    "write_csv",
    "write_geopackage",
    "write_surfaces",
    "write_webmap",
    "write_xlsx",
]
