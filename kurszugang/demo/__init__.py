"""The fictional demo district "Landkreis Beispiel (fiktiv)", Kreis key ``09999``.

Landkreis Beispiel does not exist. It is a synthetic but realistic rural Bavarian district,
generated deterministically from a seed by :mod:`kurszugang.demo.generate`, so that
``kurszugang demo`` runs the whole analysis anywhere and offline. Its files are bundled with
the package in ``kurszugang/demo/data/`` and always equal a fresh generation with
:data:`DEFAULT_SEED` (tested):

==============================  ===================================================================
file                            content
==============================  ===================================================================
``vg250_beispiel.gpkg``         Gemeinden (layer ``vg250_gem``) and the Kreis (``vg250_krs``) in
                                the BKG VG250 schema, EPSG:25832
``beispiel.osm``                walking network, OpenStreetMap XML
``gtfs_beispiel.zip``           GTFS timetable for the timetable year 2025-12-14 to 2026-12-12
``kursorte_beispiel.csv``       course sites and their courses (the package's course-list schema)
``zensus_beispiel_100m.csv``    100 m population grid (Zensus schema), EPSG:3035
``README.md``                   what the files are, marked fictional
==============================  ===================================================================

This module holds only constants and paths (cheap to import); the generator lives in
:mod:`kurszugang.demo.generate` and the demo run in :mod:`kurszugang.demo.run`. See
``docs/demo-district.md``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DATA_DIR",
    "DEFAULT_SEED",
    "DISTRICT_AGS",
    "DISTRICT_NAME",
    "FICTIONAL_NOTE",
    "FEED_START",
    "FEED_END",
    "SCHOOL_DAY",
    "HOLIDAY_WEEKDAY",
    "SATURDAY",
    "SUNDAY",
    "COURSES_AS_OF",
    "SCHOOL_HOLIDAYS",
    "PUBLIC_HOLIDAYS",
    "MITTELZENTRUM_AGS",
    "EVENING_GAP_GEMEINDE",
    "SCHOOL_AND_RUFBUS_GEMEINDE",
    "ON_DEMAND_ROUTE_ID",
    "SCHOOL_SERVICE_ID",
    "DEMO_ATTRIBUTION",
    "DemoFiles",
    "demo_files",
]

#: Kreis key (AGS) of the fictional district; no real Kreis has it (Bavaria has no
#: Regierungsbezirk 9).
DISTRICT_AGS = "09999"
#: Name of the district as it appears in every file (GEN of the Kreis feature).
DISTRICT_NAME = "Landkreis Beispiel (fiktiv)"
#: The marker every generated file carries.
FICTIONAL_NOTE = (
    "fiktiv / fictional: Landkreis Beispiel ist ein erfundener Landkreis / "
    "Landkreis Beispiel is a made-up district"
)
#: The seed that produces the bundled files.
DEFAULT_SEED = 9999
#: Folder of the bundled files.
DATA_DIR = Path(__file__).resolve().parent / "data"

#: First and last day of the demo timetable (one timetable year).
FEED_START = dt.date(2025, 12, 14)
FEED_END = dt.date(2026, 12, 12)

#: A school day: a Tuesday in term (school buses run).
SCHOOL_DAY = dt.date(2026, 3, 10)
#: A weekday in the school holidays: a Tuesday in the Sommerferien (no school buses).
HOLIDAY_WEEKDAY = dt.date(2026, 8, 11)
#: An ordinary Saturday (thin service) and the Sunday after it (only the railway runs).
SATURDAY = dt.date(2026, 3, 14)
SUNDAY = dt.date(2026, 3, 15)
#: The "as of" date of the course list (free places and next start dates).
COURSES_AS_OF = dt.date(2026, 11, 2)

#: Bavarian school holidays within the timetable year: (first day, last day, name). Buß- und
#: Bettag is a school-free day, not a public holiday.
SCHOOL_HOLIDAYS: tuple[tuple[dt.date, dt.date, str], ...] = (
    (dt.date(2025, 12, 22), dt.date(2026, 1, 5), "Weihnachtsferien"),
    (dt.date(2026, 2, 16), dt.date(2026, 2, 20), "Winterferien"),
    (dt.date(2026, 3, 30), dt.date(2026, 4, 10), "Osterferien"),
    (dt.date(2026, 5, 26), dt.date(2026, 6, 5), "Pfingstferien"),
    (dt.date(2026, 8, 3), dt.date(2026, 9, 14), "Sommerferien"),
    (dt.date(2026, 11, 2), dt.date(2026, 11, 6), "Herbstferien"),
    (dt.date(2026, 11, 18), dt.date(2026, 11, 18), "Buß- und Bettag"),
)

#: Bavarian public holidays within the timetable year (for Gemeinden with a predominantly
#: Catholic population, which includes Mariä Himmelfahrt): Sunday service runs on them.
PUBLIC_HOLIDAYS: tuple[tuple[dt.date, str], ...] = (
    (dt.date(2025, 12, 25), "1. Weihnachtstag"),
    (dt.date(2025, 12, 26), "2. Weihnachtstag"),
    (dt.date(2026, 1, 1), "Neujahr"),
    (dt.date(2026, 1, 6), "Heilige Drei Könige"),
    (dt.date(2026, 4, 3), "Karfreitag"),
    (dt.date(2026, 4, 6), "Ostermontag"),
    (dt.date(2026, 5, 1), "Tag der Arbeit"),
    (dt.date(2026, 5, 14), "Christi Himmelfahrt"),
    (dt.date(2026, 5, 25), "Pfingstmontag"),
    (dt.date(2026, 6, 4), "Fronleichnam"),
    (dt.date(2026, 8, 15), "Mariä Himmelfahrt"),
    (dt.date(2026, 10, 3), "Tag der Deutschen Einheit"),
    (dt.date(2026, 11, 1), "Allerheiligen"),
)

#: AGS of the Mittelzentrum Beispielstadt (about 15,000 inhabitants, Große Kreisstadt).
MITTELZENTRUM_AGS = "09999111"
#: AGS of Probing: its bus (line 405) leaves Beispielstadt for the last time at 17:08, so an
#: evening course in Beispielstadt cannot be reached from there with a trip home.
EVENING_GAP_GEMEINDE = "09999122"
#: AGS of Übungsdorf: served only by school-day trips (line 409) and the Rufbus (line 490).
SCHOOL_AND_RUFBUS_GEMEINDE = "09999128"
#: route_id of the on-demand line (Rufbus): route_type 715, pickup/drop_off_type 2.
ON_DEMAND_ROUTE_ID = "490"
#: service_id of the trips that run on school days only.
SCHOOL_SERVICE_ID = "SCHULE"

#: File names of the bundled inputs.
_FILE_NAMES = {
    "boundaries": "vg250_beispiel.gpkg",
    "osm": "beispiel.osm",
    "gtfs": "gtfs_beispiel.zip",
    "courses": "kursorte_beispiel.csv",
    "population": "zensus_beispiel_100m.csv",
    "readme": "README.md",
    "config": "kurszugang_beispiel.toml",
}
#: Credits shown on the demo's maps (every input is made up).
DEMO_ATTRIBUTION: tuple[str, ...] = (
    "Landkreis Beispiel (fiktiv): Grenzen, Fahrplan, Wegenetz, Bevölkerung und Kurse sind "
    "erfunden / made-up data",
)


@dataclass(frozen=True)
class DemoFiles:
    """Paths of the demo district's input files.

    Attributes
    ----------
    boundaries
        GeoPackage with the layers ``vg250_gem`` and ``vg250_krs`` (VG250 schema, EPSG:25832).
    osm
        Walking network, OpenStreetMap XML.
    gtfs
        GTFS feed (zip).
    courses
        Course list (``;``-separated CSV, UTF-8 with BOM).
    population
        100 m population grid (``;``-separated CSV, EPSG:3035 cell centres).
    readme
        Description of the files (Markdown).
    config
        The run configuration of the demo (TOML; paths relative to its folder): what
        ``kurszugang demo`` runs.
    """

    boundaries: Path
    osm: Path
    gtfs: Path
    courses: Path
    population: Path
    readme: Path
    config: Path

    def all(self) -> list[Path]:
        """Every file, in a fixed order (boundaries, osm, gtfs, courses, population, readme,
        config)."""
        return [self.boundaries, self.osm, self.gtfs, self.courses, self.population, self.readme,
                self.config]


def config_text() -> str:
    """The demo's run configuration (TOML, paths relative to the file's folder)."""
    import tomli_w

    data = {
        "district": {"key": DISTRICT_AGS, "name": DISTRICT_NAME},
        "inputs": {"boundaries": _FILE_NAMES["boundaries"], "boundaries_layer": "vg250_gem",
                   "gtfs": _FILE_NAMES["gtfs"], "courses": _FILE_NAMES["courses"],
                   "population": _FILE_NAMES["population"], "osm": _FILE_NAMES["osm"]},
        "dates": {"school_day": SCHOOL_DAY, "holiday": HOLIDAY_WEEKDAY},
        "grid": {"participant_factor": 0.05},
        "output": {"dir": "ergebnisse"},
    }
    head = ("# Landkreis Beispiel (fiktiv): Einstellungen des Demo-Laufs (kurszugang demo).\n"
            "# Alle anderen Einstellungen haben ihre Voreinstellung (kurszugang init zeigt sie).\n"
            "\n")
    return head + tomli_w.dumps(data)


def demo_files(directory: str | Path | None = None) -> DemoFiles:
    """Paths of the demo files in ``directory`` (default: the bundled ones).

    Parameters
    ----------
    directory
        A folder written by :func:`kurszugang.demo.generate.generate`; default
        :data:`DATA_DIR`, the files bundled with the package.

    Returns
    -------
    DemoFiles
        The paths (they are not checked for existence).

    Examples
    --------
    >>> from kurszugang.demo import demo_files
    >>> demo_files().gtfs.name
    'gtfs_beispiel.zip'
    """
    base = DATA_DIR if directory is None else Path(directory)
    return DemoFiles(**{kind: base / name for kind, name in _FILE_NAMES.items()})
