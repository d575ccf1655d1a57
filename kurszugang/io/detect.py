"""Recognise what kind of input a path is and validate it with the matching reader."""

from __future__ import annotations

import importlib
import zipfile
from pathlib import Path

from kurszugang.errors import InputFormatError
from kurszugang.io._report import ValidationReport

KINDS = ("gtfs", "boundaries", "courses", "osm", "population")

# kind -> (module, validate function)
_VALIDATORS = {
    "gtfs": ("kurszugang.io.gtfs", "validate_gtfs"),
    "boundaries": ("kurszugang.io.boundaries", "validate_boundaries"),
    "courses": ("kurszugang.io.courses", "validate_courses"),
    "osm": ("kurszugang.io.osm", "validate_walk_network"),
    "population": ("kurszugang.io.population", "validate_population_grid"),
}

_OSM_SUFFIXES = (".osm", ".osm.gz", ".osm.bz2", ".osm.pbf", ".pbf", ".o5m")
_BOUNDARY_KEYS = {"ags", "ags_0", "rs", "ars", "gen"}
_COURSE_KEYS = {"site_id", "standort_id", "kurstraeger", "kursträger", "provider", "course_type", "kursart"}
_GRID_KEYS = {"gitter_id_100m", "gitter_id_1km", "x_mp_100m", "x_mp_1km", "cell_id"}


def _header_fields(path: Path) -> set[str]:
    """Lower-case field names of a table or feature file, read cheaply (first line or schema)."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        with path.open("rb") as fh:
            first = fh.readline().decode("utf-8-sig", errors="replace")
        sep = ";" if first.count(";") >= first.count(",") else ","
        return {f.strip().strip('"').lower() for f in first.split(sep)}
    if suffix in (".xlsx", ".xlsm"):
        return set(_COURSE_KEYS)  # spreadsheets are course lists
    if suffix in (".shp", ".gpkg", ".geojson", ".json", ".fgb"):
        import pyogrio

        try:
            info = pyogrio.read_info(path, layer=0)
        except Exception as exc:
            raise InputFormatError(f"cannot be read as a {suffix} feature file ({exc})", path=path) from exc
        return {str(f).lower() for f in info["fields"]}
    return set()


def detect_kind(path: str | Path) -> str:
    """Guess which kind of input a file or folder is.

    Parameters
    ----------
    path
        A GTFS .zip or folder, a boundary or course file, an OSM extract, a Zensus grid CSV or
        GeoTIFF.

    Returns
    -------
    str
        One of ``"gtfs"``, ``"boundaries"``, ``"courses"``, ``"osm"``, ``"population"``.

    Raises
    ------
    InputFormatError
        If the path does not exist or its kind cannot be recognised.

    Examples
    --------
    >>> detect_kind("gtfs_ch_zg_2021.zip")  # doctest: +SKIP
    'gtfs'
    """
    p = Path(path)
    if not p.exists():
        raise InputFormatError("does not exist", path=p)
    name = p.name.lower()
    if p.is_dir():
        if (p / "stops.txt").exists() or (p / "stop_times.txt").exists():
            return "gtfs"
        raise InputFormatError("is a folder without stops.txt or stop_times.txt, so not a GTFS feed", path=p)
    if name.endswith(_OSM_SUFFIXES):
        return "osm"
    if name.endswith(".zip"):
        if zipfile.is_zipfile(p):
            with zipfile.ZipFile(p) as zf:
                names = {Path(n).name for n in zf.namelist()}
            if "stop_times.txt" in names or "stops.txt" in names:
                return "gtfs"
            if any(n.lower().endswith(".shp") for n in names):
                return "boundaries"
        return "gtfs"  # let the GTFS reader explain what is wrong with the zip
    if name.endswith((".tif", ".tiff")):
        return "population"
    fields = _header_fields(p)
    if fields & _GRID_KEYS:
        return "population"
    if fields & _COURSE_KEYS:
        return "courses"
    if fields & _BOUNDARY_KEYS or name.endswith((".shp", ".gpkg")):
        return "boundaries"
    if name.endswith((".geojson", ".json")):
        return "boundaries"
    raise InputFormatError(
        "is of no kind kurszugang reads (expected a GTFS feed, boundaries, course sites, "
        "an OSM extract or a Zensus grid); name the kind with --kind",
        path=p,
    )


def validate(path: str | Path, kind: str | None = None) -> ValidationReport:
    """Validate any input file and return a report of counts, errors and warnings.

    Parameters
    ----------
    path
        The file or folder to check.
    kind
        One of ``"gtfs"``, ``"boundaries"``, ``"courses"``, ``"osm"``, ``"population"``; guessed
        from the file with :func:`detect_kind` when omitted.

    Returns
    -------
    ValidationReport
        ``report.ok`` is False when errors were found.

    Examples
    --------
    >>> report = validate("gtfs_ch_zg_2021.zip")  # doctest: +SKIP
    >>> print(report.format())  # doctest: +SKIP
    """
    kind = kind or detect_kind(path)
    if kind not in _VALIDATORS:
        raise InputFormatError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}", path=path)
    module_name, func_name = _VALIDATORS[kind]
    module = importlib.import_module(module_name)
    report: ValidationReport = getattr(module, func_name)(path)
    return report
