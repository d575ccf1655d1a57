"""All parameters of an analysis run, each declared once with type, unit, default, range and labels.

A run is described by a TOML file (``kurszugang init`` writes a commented template). Every setting
is a field of one of the section dataclasses below, declared with :func:`setting`: its type comes
from the annotation, everything else (unit, default, allowed range or choices, German and English
label, help text) from the declaration. From these declarations come the template, the strict
checks at load time (a boolean is no number, 5.7 no whole number; messages name the file, the key
and what is expected), the parameter sheet of the XLSX workbook, the command line's defaults and
the reference page ``docs/referenz/einstellungen.md``.

Every run writes the complete resolved configuration, with checksums of its input files, next to
its outputs, so that it can be repeated offline and gives the same numbers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import tomllib
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from kurszugang.dates import DATE_FORMS, parse_clock, parse_date
from kurszugang.errors import ConfigError

__all__ = [
    "DEFAULT_MIN_CLASS_SIZE",
    "OUTPUT_FORMATS",
    "SECTIONS",
    "Config",
    "Spec",
    "check",
    "config_from_dict",
    "iter_settings",
    "load_config",
    "resolved_toml",
    "setting",
    "sha256_of",
    "template",
]

#: Working minimum class size per course type (people); "default" for free labels.
DEFAULT_MIN_CLASS_SIZE = {"allgemein": 15, "intensiv": 12, "jugend": 10, "eltern": 10,
                          "frauen": 10, "alpha": 8, "zweitschrift": 8, "foerder": 10,
                          "default": 10}
OUTPUT_FORMATS = ("csv", "xlsx", "gpkg", "geotiff", "html", "png", "pdf", "summary", "qgis")
#: The value of a setting that is derived from others (e.g. ``max_direct_walk_m``).
AUTO = "auto"
#: ``[district] keys = "alle"``: every Kreis of the Land in the boundaries.
ALL_DISTRICTS = "alle"


@dataclass(frozen=True)
class Spec:
    """The declaration of one setting (everything but its type and default)."""

    de: str
    en: str
    help_de: str
    help_en: str = ""
    unit: str = "–"
    lo: float | None = None
    hi: float | None = None
    #: values (or list elements) allowed; None = any
    choices: tuple[Any, ...] | None = None
    #: "clock" (HH:MM), "kreis" (5-digit key), "path", "auto" (number or "auto") or ""
    kind: str = ""
    #: shown in the template instead of the default (e.g. an example path)
    example: Any = None


def setting(default: Any, *, de: str, en: str, help_de: str, help_en: str = "",
            unit: str = "–", lo: float | None = None, hi: float | None = None,
            choices: tuple[Any, ...] | None = None, kind: str = "",
            example: Any = None) -> Any:
    """A dataclass field carrying its :class:`Spec` (use as the default of a section field)."""
    spec = Spec(de, en, help_de, help_en, unit, lo, hi, choices, kind, example)
    if isinstance(default, dict | list):
        return field(default_factory=lambda: type(default)(default), metadata={"spec": spec})
    return field(default=default, metadata={"spec": spec})


@dataclass(frozen=True)
class District:
    """Which district to analyse."""

    key: str = setting("", de="Kreisschlüssel", en="District key", kind="kreis",
                       help_de="5 Ziffern, z. B. 09187 = Landkreis Rosenheim",
                       help_en="5 digits, e.g. 09187 = Landkreis Rosenheim", example="09187")
    name: str = setting("", de="Name des Landkreises", en="District name",
                        help_de="Name auf Karten und im Bericht (leer = aus den Grenzdaten)",
                        help_en="name on maps and in reports (empty = from the boundaries)")
    keys: tuple[str, ...] = setting(
        (), de="Mehrere Landkreise", en="Several districts", kind="kreise",
        help_de='"alle" = jeder Kreis des Landes (land) in den Grenzdaten, oder eine Liste von '
                'Kreisschlüsseln; jeder Kreis wird mit demselben Fahrplan gerechnet',
        help_en='"alle" = every Kreis of the Land (land) in the boundaries, or a list of keys; '
                'every Kreis is analysed with the same timetable')
    land: str = setting("09", de="Land", en="Land",
                        help_de='Länderschlüssel für keys = "alle" (09 = Bayern, leer = alle)',
                        help_en='Land key for keys = "alle" (09 = Bayern, empty = every Land)')
    cut_buffer_km: float = setting(
        20.0, de="Zuschnitt des Fahrplans", en="Timetable cut", unit="km", lo=0, hi=200,
        help_de="bei mehreren Landkreisen: Fahrplan je Kreis auf Kreis + diesen Rand "
                "zugeschnitten (Fahrten darüber hinaus fehlen)",
        help_en="with several districts: the timetable cut to each Kreis plus this margin "
                "(journeys beyond it are missing)")


@dataclass(frozen=True)
class Inputs:
    """Input files. Relative paths are relative to the config file's folder."""

    boundaries: str = setting("", de="Gemeindegrenzen", en="Boundaries", kind="path", unit="Datei",
                              help_de="BKG VG250 (GeoPackage oder Shapefile) oder LDBV-GeoJSON",
                              help_en="BKG VG250 (GeoPackage or shapefile) or LDBV GeoJSON",
                              example="data/raw/vg250.gpkg")
    boundaries_layer: str = setting("", de="Ebene der Grenzdaten", en="Boundary layer",
                                    help_de='Ebene im GeoPackage, z. B. "vg250_gem" '
                                            '(leer = Gemeinden)',
                                    help_en='layer of the GeoPackage (empty = the Gemeinden)')
    gtfs: str = setting("", de="Fahrplan (GTFS)", en="Timetable (GTFS)", kind="path", unit="Datei",
                        help_de="z. B. DELFI, mit kurszugang extract zugeschnitten",
                        help_en="e.g. DELFI, cut with kurszugang extract",
                        example="data/raw/gtfs.zip")
    courses: str = setting("", de="Kursliste", en="Course list", kind="path", unit="Datei",
                           help_de="Kursliste der Träger, Aufbau: docs/course-sites.md",
                           help_en="the providers' course list, schema: docs/course-sites.md",
                           example="data/raw/kursorte.csv")
    population: str = setting("", de="Zensus-Raster", en="Census grid", kind="path", unit="Datei",
                              help_de="Zensus-Raster 100 m (oder 1 km)",
                              help_en="Zensus grid of 100 m (or 1 km)",
                              example="data/raw/zensus_100m.csv")
    osm: str = setting("", de="OSM-Auszug", en="OSM extract", kind="path", unit="Datei",
                       help_de='OSM-Auszug (.osm.pbf) für Fußwege; leer = Luftlinie × Umwegfaktor',
                       help_en="OSM extract for footways; empty = straight line × detour factor")
    participants_per_gemeinde: str = setting(
        "", de="Teilnehmende je Gemeinde", en="Participants per Gemeinde", kind="path", unit="Datei",
        help_de='optional: CSV "ags;participants" (z. B. von der Ausländerbehörde)',
        help_en='optional: CSV "ags;participants" (e.g. from the immigration office)')


@dataclass(frozen=True)
class Dates:
    """Analysis days: a school day and a weekday in the school holidays."""

    school_day: dt.date | None = setting(None, de="Schultag", en="School day",
                                         help_de="ein Schultag, an dem die Schulbusse fahren",
                                         help_en="a school day", example=dt.date(2026, 3, 10))
    holiday: dt.date | None = setting(None, de="Ferientag", en="Holiday",
                                      help_de="ein Werktag in den Schulferien",
                                      help_en="a weekday in the school holidays",
                                      example=dt.date(2026, 8, 11))


@dataclass(frozen=True)
class Routing:
    """Routing parameters (see docs/benutzerhandbuch/reisezeiten.md)."""

    walk_speed_kmh: float = setting(4.5, de="Gehgeschwindigkeit", en="Walking speed",
                                    unit="km/h", lo=0.5, hi=10,
                                    help_de="Gehgeschwindigkeit auf allen Fußwegen",
                                    help_en="walking speed on every walk")
    max_walk_m: float = setting(1000.0, de="Längster Fußweg zur und von der Haltestelle",
                                en="Longest access walk", unit="m", lo=0, hi=5000,
                                help_de="längster Fußweg zur Haltestelle, beim Umsteigen und "
                                        "von der Haltestelle",
                                help_en="longest walk to, between and from stops")
    max_direct_walk_m: float | str = setting(
        AUTO, de="Längster Fußweg direkt zum Kurs", en="Longest direct walk", unit="m", lo=0,
        hi=20000, kind="auto",
        help_de='Fußweg ohne Bus und Bahn; "auto" = Höchstdauer je Weg × Gehgeschwindigkeit',
        help_en='a walk without any vehicle; "auto" = threshold × walking speed')
    detour_factor: float = setting(1.3, de="Umwegfaktor", en="Detour factor", lo=1, hi=3,
                                   help_de="Fußweg / Luftlinie (nur ohne OSM-Auszug)",
                                   help_en="walked / straight-line distance (without OSM)")
    max_snap_m: float = setting(500.0, de="Größter Abstand zum Wegenetz", en="Largest snap",
                                unit="m", lo=0, hi=5000,
                                help_de="Orte weiter weg vom Wegenetz werden gemeldet",
                                help_en="places farther from the footways are reported")
    board_slack_s: int = setting(60, de="Umsteigezeit", en="Boarding slack", unit="s", lo=0,
                                 hi=900,
                                 help_de="Sekunden zwischen Ankunft an der Haltestelle und "
                                         "Abfahrt",
                                 help_en="seconds between arriving at a stop and boarding")
    max_rides: int = setting(5, de="Höchstens Fahrzeuge je Reise", en="Most rides", lo=1, hi=10,
                             help_de="höchstens so viele Fahrzeuge je Reise",
                             help_en="most vehicles per journey")
    departure: str = setting("07:00", de="Abfahrtsfenster ab", en="Departure window from",
                             unit="HH:MM", kind="clock",
                             help_de="Abfahrtsfenster der Reisezeittabellen: Beginn",
                             help_en="first minute of the departure window of travel times")
    window_min: int = setting(60, de="Länge des Abfahrtsfensters", en="Window length",
                              unit="min", lo=1, hi=240,
                              help_de="Länge des Abfahrtsfensters",
                              help_en="length of the departure window")
    percentiles: tuple[int, ...] = setting((5, 50, 95), de="Perzentile", en="Percentiles",
                                           unit="%", lo=1, hi=100,
                                           help_de="Perzentile der Reisezeit über das Fenster",
                                           help_en="percentiles of the travel time over the "
                                                   "window")


@dataclass(frozen=True)
class Grid:
    """Analysis grid and potential participants (see docs/analysis.md)."""

    resolution_m: int = setting(100, de="Rasterweite", en="Cell size", unit="m",
                                choices=(100, 1000), help_de="100 oder 1000 m",
                                help_en="100 or 1000 m")
    buffer_m: float = setting(2000.0, de="Puffer um den Landkreis", en="Buffer", unit="m",
                              lo=0, hi=50000,
                              help_de="auch Zellen so nah am Landkreis rechnen (Anreise von "
                                      "außen)",
                              help_en="cells this close to the district are analysed too")
    participant_source: str = setting(
        "foreigners", de="Herkunft der Teilnehmendenzahlen", en="Participant source",
        choices=("foreigners", "gemeinde", "both"),
        help_de='"foreigners" (Zensus-Ausländer), "gemeinde" (Zahlen je Gemeinde) oder "both" '
                '(Zahlen je Gemeinde, verteilt nach Ausländern)',
        help_en='"foreigners", "gemeinde" or "both"')
    participant_factor: float = setting(1.0, de="Anteil potenzieller Teilnehmender",
                                        en="Participant factor", lo=0, hi=10,
                                        help_de="Anteil, der als potenzielle Teilnehmende zählt",
                                        help_en="share counted as potential participants")


@dataclass(frozen=True)
class Coverage:
    """Coverage at course times."""

    threshold_min: float = setting(45.0, de="Höchstdauer je Weg", en="Longest journey",
                                   unit="min", lo=1, hi=240,
                                   help_de="höchstens so lange je Weg (hin und zurück)",
                                   help_en="longest journey each way")
    thresholds_min: tuple[float, ...] = setting(
        (30.0, 45.0, 60.0), de="Varianten der Höchstdauer", en="Threshold variants", unit="min",
        lo=1, hi=240, help_de="Varianten für Klassengrößen (aufsteigend)",
        help_en="variants for class sizes (increasing)")
    early_arrival_min: float = setting(30.0, de="Ankunft frühestens vor Kursbeginn",
                                       en="Earliest arrival", unit="min", lo=0, hi=240,
                                       help_de="höchstens so früh vor Kursbeginn ankommen",
                                       help_en="arriving earlier than this does not count")
    min_class_size: dict[str, int] = setting(
        DEFAULT_MIN_CLASS_SIZE, de="Mindestklassengröße", en="Minimum class size",
        unit="Personen", lo=1, hi=100,
        help_de="je Kursart (Arbeitswerte, keine Rechtsnorm)",
        help_en="per course type (working values, not a legal rule)")


@dataclass(frozen=True)
class Catchments:
    """Travel-time surfaces and isochrones per course site."""

    arrive_by: str = setting("08:30", de="Einzugsbereiche: Ankunft bis", en="Arrive by",
                             unit="HH:MM", kind="clock",
                             help_de="Ankunft am Kursort bis (für Kursorte ohne Kurs am "
                                     "Schultag)",
                             help_en="arrival at the site by")
    thresholds_min: tuple[float, ...] = setting(
        (15.0, 30.0, 45.0, 60.0, 90.0), de="Zeitzonen", en="Bands", unit="min", lo=1, hi=240,
        help_de="Grenzen der Zeitzonen (aufsteigend)", help_en="band limits (increasing)")


@dataclass(frozen=True)
class Subsidy:
    """Travel subsidy (Fahrtkostenzuschuss)."""

    distance_km: float = setting(5.0, de="Fahrtkostenzuschuss ab", en="Subsidy from",
                                 unit="km", lo=0.1, hi=50,
                                 help_de="Fußweglänge, ab der der Zuschuss gilt (5 km; früher "
                                         "3 km)",
                                 help_en="walking distance from which the subsidy applies")


#: The form of a course format in ``plan.formats``.
FORMAT_FORM = "Kursart Wochentage HH:MM-HH:MM [Kinderbetreuung], z. B. \"alpha Mo-Fr 08:30-12:45\""
_FORMAT_RE = re.compile(r"^\s*(\S+)\s+(\S+)\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})"
                        r"(\s+(mit\s+)?Kinderbetreuung)?\s*$", re.IGNORECASE)


def parse_format_text(text: str) -> tuple[str, str, str, str, bool]:
    """``"alpha Mo-Fr 08:30-12:45 Kinderbetreuung"`` as (type, weekdays, start, end, childcare).

    Raises ``ValueError`` naming the form expected.
    """
    m = _FORMAT_RE.match(text)
    if m is None:
        raise ValueError(f"{text!r} ist kein Kursformat (erwartet {FORMAT_FORM})")
    for clock in (m.group(3), m.group(4)):
        parse_clock(clock)
    return m.group(1), m.group(2), m.group(3), m.group(4), m.group(5) is not None


@dataclass(frozen=True)
class Plan:
    """Planning: where, when and how soon (``kurszugang plan``)."""

    formats: tuple[str, ...] = setting(
        (), de="Kursformate", en="Course formats", kind="format",
        help_de="zu planende Formate, je eines als \"Kursart Wochentage Beginn-Ende\", z. B. "
                "\"alpha Mo-Fr 08:30-12:45\" oder \"eltern Mo,Di,Do 08:45-12:00 "
                "Kinderbetreuung\"; leer = jedes Format der Kursliste",
        help_en="formats to plan, each as \"type weekdays start-end\"; empty = every format "
                "of the course list")
    candidates: str = setting("", de="Kandidatenliste", en="Candidate list", kind="path",
                              unit="Datei",
                              help_de="mögliche Kursorte (Aufbau wie eine Kursortliste, ohne "
                                      "Kurse); leer = bestehende Kursorte und je Gemeinde ihre "
                                      "am besten bediente Haltestelle",
                              help_en="possible sites; empty = existing sites and each "
                                      "Gemeinde's best-served stop")
    k_max: int = setting(5, de="Höchstens Standorte", en="Most sites", unit="Anzahl", lo=1,
                         hi=20, help_de="Standorte je Format: 1 bis zu dieser Zahl",
                         help_en="sites per format: 1 up to this number")
    keep_existing: bool = setting(False, de="Bestehende Kursorte behalten",
                                  en="Keep existing sites",
                                  help_de="jeder bestehende Kursort, an dem das Format "
                                          "stattfinden kann, ist immer dabei",
                                  help_en="every existing site that can host the format is "
                                          "always open")
    sweep_from: str = setting("07:00", de="Beginnzeiten ab", en="Start times from",
                              unit="HH:MM", kind="clock",
                              help_de="früheste geprüfte Beginnzeit",
                              help_en="earliest start time tried")
    sweep_to: str = setting("19:00", de="Beginnzeiten bis", en="Start times to", unit="HH:MM",
                            kind="clock", help_de="späteste geprüfte Beginnzeit",
                            help_en="latest start time tried")
    sweep_step_min: int = setting(15, de="Schritt der Beginnzeiten", en="Start time step",
                                  unit="min", lo=5, hi=120,
                                  help_de="Abstand der geprüften Beginnzeiten",
                                  help_en="step between the start times tried")
    inflow_share_per_month: float = setting(
        0.02, de="Zugang je Monat", en="Inflow per month", unit="Anteil", lo=0.001, hi=1,
        help_de="Anteil der potenziellen Teilnehmenden eines Kursorts, der je Monat neu einen "
                "Kurs braucht (Zugangsmodell für die Wartezeit)",
        help_en="share of a site's potential participants who need a course each month")
    type_share: dict[str, float] = setting(
        {}, de="Anteil je Kursart", en="Share per course type", unit="Anteil", lo=0, hi=1,
        help_de="Anteil der potenziellen Teilnehmenden, der eine Kursart braucht (z. B. alpha = "
                "0.15); nicht genannte Kursarten: 1 = alle. Die Planung eines Formats zählt nur "
                "diesen Anteil",
        help_en="share of the potential participants who need a course type; others: 1")
    rotation: tuple[str, ...] = setting(
        (), de="Rotation", en="Rotation",
        help_de="Kandidaten-Kennungen in der Reihenfolge, in der ein Kurs Semester für Semester "
                "wandert (leer = keine Rotation)",
        help_en="candidate ids in the order a rotating course visits them")
    term_weeks: float = setting(26.0, de="Semesterlänge", en="Term length", unit="Wochen",
                                lo=1, hi=104, help_de="Wochen je Station der Rotation",
                                help_en="weeks per stop of the rotation")
    time_limit_s: float = setting(60.0, de="Rechenzeit je Optimierung", en="Solver time limit",
                                  unit="s", lo=1, hi=3600,
                                  help_de="höchstens so lange sucht der Löser je Format und "
                                          "Standortzahl",
                                  help_en="time limit of the solver per format and k")


@dataclass(frozen=True)
class Output:
    """Where and what to write."""

    dir: str = setting("data/processed/run", de="Ausgabeordner", en="Output folder", kind="path", unit="Datei",
                       help_de="Ordner der Ergebnisse", help_en="folder of the results")
    formats: tuple[str, ...] = setting(OUTPUT_FORMATS, de="Formate", en="Formats",
                                       choices=OUTPUT_FORMATS,
                                       help_de="welche Ausgaben geschrieben werden",
                                       help_en="which outputs are written")
    language: str = setting("de", de="Sprache", en="Language", choices=("de", "en"),
                            help_de='"de" oder "en"', help_en='"de" or "en"')
    suppress_below: int = setting(0, de="Kleine Zahlen unterdrücken unter", en="Suppress below",
                                  unit="Personen", lo=0, hi=100,
                                  help_de="kleine Zahlen unter diesem Wert in Tabellen "
                                          "unterdrücken (0 = nie)",
                                  help_en="suppress counts below this in tables (0 = never)")


#: Section name -> dataclass, in file order.
SECTIONS: dict[str, type] = {"district": District, "inputs": Inputs, "dates": Dates,
                             "routing": Routing, "grid": Grid, "coverage": Coverage,
                             "catchments": Catchments, "subsidy": Subsidy, "plan": Plan,
                             "output": Output}
_SECTION_LABELS = {"district": "Landkreis", "inputs": "Eingaben", "dates": "Analysetage",
                   "routing": "Reisezeiten", "grid": "Raster und Teilnehmende",
                   "coverage": "Kursbesuch", "catchments": "Einzugsbereiche",
                   "subsidy": "Fahrtkostenzuschuss", "plan": "Planung",
                   "output": "Ausgaben"}


@dataclass(frozen=True)
class Config:
    """A complete analysis configuration (every section has defaults)."""

    district: District = field(default_factory=District)
    inputs: Inputs = field(default_factory=Inputs)
    dates: Dates = field(default_factory=Dates)
    routing: Routing = field(default_factory=Routing)
    grid: Grid = field(default_factory=Grid)
    coverage: Coverage = field(default_factory=Coverage)
    catchments: Catchments = field(default_factory=Catchments)
    subsidy: Subsidy = field(default_factory=Subsidy)
    plan: Plan = field(default_factory=Plan)
    output: Output = field(default_factory=Output)
    #: folder relative paths are resolved against (the config file's folder)
    base_dir: str = "."
    #: SHA-256 of the inputs recorded by an earlier run (section [checksums] of a resolved file)
    checksums: dict[str, str] = field(default_factory=dict)
    #: the file the config was read from ("" when built in code)
    source: str = ""

    def path(self, value: str) -> Path | None:
        """An input or output path resolved against :attr:`base_dir` (None for "")."""
        if not value:
            return None
        p = Path(value).expanduser()
        return p if p.is_absolute() else Path(self.base_dir) / p

    def date(self, which: str) -> dt.date:
        """``"school_day"`` or ``"holiday"`` as a date (an error naming the setting if unset)."""
        value = getattr(self.dates, which)
        if value is None:
            spec = _spec(Dates, which)
            raise ConfigError(f"fehlt: {spec.de} ({DATE_FORMS}) angeben",
                              path=self.source or None, column=f"dates.{which}")
        try:
            return parse_date(value)  # a Config built in code may hold text
        except ValueError as exc:
            raise ConfigError(f"= {value!r} ist kein Datum ({exc})", path=self.source or None,
                              column=f"dates.{which}") from None

    def max_direct_walk_m(self) -> float:
        """``routing.max_direct_walk_m``, with ``"auto"`` resolved (threshold × walking speed)."""
        value = self.routing.max_direct_walk_m
        if value == AUTO:
            return self.coverage.threshold_min / 60.0 * self.routing.walk_speed_kmh * 1000.0
        return float(value)

    def to_dict(self) -> dict[str, Any]:
        """Nested plain dict (TOML-ready: unset dates left out)."""
        out: dict[str, Any] = {}
        for name in SECTIONS:
            values = dataclasses.asdict(getattr(self, name))
            out[name] = {k: (list(v) if isinstance(v, tuple) else v)
                         for k, v in values.items() if v is not None}
        return out


# --- declarations ------------------------------------------------------------------------------


def _spec(cls: type, name: str) -> Spec:
    f = {f.name: f for f in dataclasses.fields(cls)}[name]
    return typing.cast(Spec, f.metadata["spec"])


def iter_settings() -> Iterator[tuple[str, str, Any, Any, Spec]]:
    """Every setting: (section, key, type, default, spec), in file order."""
    for section, cls in SECTIONS.items():
        hints = typing.get_type_hints(cls)
        default = cls()
        for f in dataclasses.fields(cls):
            yield section, f.name, hints[f.name], getattr(default, f.name), f.metadata["spec"]


def _de_number(x: float) -> str:
    return f"{x:g}".replace(".", ",")


def _expected(tp: Any, spec: Spec) -> str:
    """What a setting expects, in the user's words."""
    base = {float: "eine Zahl", int: "eine ganze Zahl", str: "ein Text", bool: "true oder false"}
    origin = typing.get_origin(tp)
    if spec.kind == "clock":
        what = "eine Uhrzeit HH:MM in Anführungszeichen"
    elif spec.kind == "auto":
        what = 'eine Zahl oder "auto"'
    elif spec.kind == "path":
        what = "ein Dateipfad in Anführungszeichen"
    elif spec.kind == "format":
        what = f"eine Liste von Kursformaten ({FORMAT_FORM})"
    elif spec.kind == "kreis":
        what = "ein Kreisschlüssel aus 5 Ziffern in Anführungszeichen"
    elif spec.kind == "kreise":
        what = '"alle" oder eine Liste von Kreisschlüsseln aus 5 Ziffern, z. B. ["09187", "09189"]'
    elif _is_date(tp):
        what = f"ein Datum ({DATE_FORMS})"
    elif origin is tuple:
        inner = typing.get_args(tp)[0]
        what = f"eine Liste, jeder Wert {base.get(inner, 'ein Wert')}"
    elif origin is dict:
        inner = typing.get_args(tp)[1]
        what = ("eine Tabelle [Abschnitt.Name] mit " +
                ("ganzen Zahlen" if inner is int else "Zahlen"))
    else:
        what = base.get(tp, "ein Wert")
    if spec.choices is not None:
        what += ": " + ", ".join(repr(c) if isinstance(c, str) else str(c) for c in spec.choices)
    if spec.lo is not None and spec.hi is not None:
        what += f" von {_de_number(spec.lo)} bis {_de_number(spec.hi)}"
    elif spec.lo is not None:
        what += f" ab {_de_number(spec.lo)}"
    if spec.unit not in ("–", "Datei", "HH:MM"):
        what += f" ({spec.unit})"
    return what


def _is_date(tp: Any) -> bool:
    return tp is dt.date or (isinstance(tp, types.UnionType) and dt.date in typing.get_args(tp))


class _Bad(Exception):
    """A value of the wrong type or out of range (the message says what it is not)."""


def _scalar(value: Any, tp: Any) -> Any:
    if tp is bool:
        if not isinstance(value, bool):
            raise _Bad("ist kein Wahrheitswert")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Bad("ist keine Zahl")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Bad("ist keine ganze Zahl")
        if isinstance(value, float) and not value.is_integer():
            raise _Bad("ist keine ganze Zahl")
        return int(value)
    if tp is str:
        if not isinstance(value, str):
            raise _Bad("ist kein Text")
        return value
    raise _Bad("hat einen unbekannten Typ")  # pragma: no cover - declarations are checked


def _in_range(value: Any, spec: Spec) -> None:
    if spec.choices is not None and value not in spec.choices:
        raise _Bad("ist nicht erlaubt")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if (spec.lo is not None and value < spec.lo) or (spec.hi is not None and value > spec.hi):
            raise _Bad("liegt außerhalb des erlaubten Bereichs")


def _coerce_value(value: Any, tp: Any, spec: Spec, default: Any) -> Any:
    """The value of one setting, checked against its declaration (raises :class:`_Bad`)."""
    origin = typing.get_origin(tp)
    if spec.kind == "auto":
        if value == AUTO:
            return AUTO
        value = _scalar(value, float)
    elif _is_date(tp):
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date | str):
            raise _Bad("ist kein Datum")
        try:
            value = parse_date(value)
        except ValueError:
            raise _Bad("ist kein Datum") from None
    elif spec.kind == "kreise":
        return _district_keys(value)
    elif origin is tuple:
        if not isinstance(value, list | tuple):
            raise _Bad("ist keine Liste")
        inner = typing.get_args(tp)[0]
        items = []
        for i, v in enumerate(value):
            try:
                item = _scalar(v, inner)
                _in_range(item, spec)
                if spec.kind == "format":
                    try:
                        parse_format_text(item)
                    except ValueError:
                        raise _Bad("ist kein Kursformat") from None
            except _Bad as exc:
                raise _Bad(f"enthält an Stelle {i + 1} {v!r}, das {exc}") from None
            items.append(item)
        return tuple(items)
    elif origin is dict:
        if not isinstance(value, Mapping):
            raise _Bad("ist keine Tabelle")
        out = dict(default)
        inner = typing.get_args(tp)[1]
        for k, v in value.items():
            try:
                item = _scalar(v, inner)
                _in_range(item, spec)
            except _Bad as exc:
                raise _Bad(f"hat für {k!r} den Wert {v!r}, der {exc}") from None
            out[str(k)] = item
        return out
    else:
        value = _scalar(value, tp)
    if spec.kind == "clock":
        try:
            parse_clock(value)
        except ValueError:
            raise _Bad("ist keine Uhrzeit") from None
    if spec.kind == "kreis" and value and not (len(value) == 5 and value.isdigit()):
        raise _Bad("ist kein Kreisschlüssel")
    _in_range(value, spec)
    return value


def _district_keys(value: Any) -> tuple[str, ...]:
    """``[district] keys``: "alle" or a list of distinct 5-digit Kreis keys."""
    if isinstance(value, str):
        if value.strip().lower() in ("alle", "all"):
            return (ALL_DISTRICTS,)
        value = [value]
    if not isinstance(value, list | tuple):
        raise _Bad('ist weder "alle" noch eine Liste')
    for i, v in enumerate(value):
        if not (isinstance(v, str) and len(v) == 5 and v.isdigit()):
            raise _Bad(f"enthält an Stelle {i + 1} {v!r}, das kein Kreisschlüssel ist")
    if len(set(value)) != len(value):
        twice = sorted({v for v in value if value.count(v) > 1})
        raise _Bad(f"nennt {', '.join(twice)} mehrfach")
    return tuple(value)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value) if not isinstance(value, dt.date) else value.isoformat()


def _section(name: str, cls: type, values: Mapping[str, Any], source: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    defaults = cls()
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"ist keine Einstellung in [{name}] (bekannt: {', '.join(known)})",
                              path=source, column=f"{name}.{key}")
        spec = known[key].metadata["spec"]
        try:
            kwargs[key] = _coerce_value(value, hints[key], spec, getattr(defaults, key))
        except _Bad as exc:
            raise ConfigError(f"= {_show(value)} {exc}; erwartet: {_expected(hints[key], spec)}",
                              path=source, column=f"{name}.{key}") from None
    return cls(**kwargs)


def config_from_dict(data: Mapping[str, Any], *, base_dir: str | Path = ".",
                     source: str = "") -> Config:
    """Build a :class:`Config` from nested dicts (as read from TOML), checking every value.

    Raises
    ------
    ConfigError
        For an unknown section or setting, a value of the wrong type or out of range (the
        message names the file, the key and what is expected).
    """
    sections: dict[str, Any] = {}
    recorded = {str(k): str(v) for k, v in dict(data.get("checksums", {})).items()}
    for name, values in data.items():
        if name in ("checksums", "versions"):  # written by a run; recorded, not settings
            continue
        if name not in SECTIONS:
            raise ConfigError(f"ist kein Abschnitt (bekannt: {', '.join(SECTIONS)})",
                              path=source or None, column=f"[{name}]")
        if not isinstance(values, Mapping):
            raise ConfigError("muss eine Tabelle von Einstellungen sein", path=source or None,
                              column=f"[{name}]")
        sections[name] = _section(name, SECTIONS[name], values, source)
    cfg = Config(**sections, base_dir=str(base_dir), checksums=recorded, source=source)
    check(cfg)
    return cfg


def check(cfg: Config) -> None:
    """Raise :class:`ConfigError` for settings that contradict each other (single values are
    checked against their declarations when read)."""
    def bad(key: str, msg: str) -> ConfigError:
        return ConfigError(msg, path=cfg.source or None, column=key)

    for key, values in (("coverage.thresholds_min", cfg.coverage.thresholds_min),
                        ("catchments.thresholds_min", cfg.catchments.thresholds_min),
                        ("routing.percentiles", cfg.routing.percentiles)):
        vals = list(values)
        if not vals or any(b <= a for a, b in zip(vals, vals[1:], strict=False)):
            raise bad(key, f"= {vals} muss aufsteigend sein und mindestens einen Wert haben")
    c = cfg.coverage
    if c.threshold_min > c.thresholds_min[-1]:
        raise bad("coverage.threshold_min",
                  f"= {c.threshold_min:g} darf nicht größer sein als der größte Wert von "
                  f"coverage.thresholds_min ({c.thresholds_min[-1]:g})")
    if not cfg.output.formats:
        raise bad("output.formats", "= [] nennt kein Format")
    land = cfg.district.land
    if land and not (len(land) == 2 and land.isdigit()):
        raise bad("district.land", f'= "{land}" ist kein Länderschlüssel: erwartet 2 Ziffern '
                                   'wie "09" (Bayern) oder ""')
    if cfg.district.keys and cfg.district.key:
        raise bad("district.keys", 'und district.key schließen sich aus: für mehrere Landkreise '
                                   'key weglassen')


def load_config(path: str | Path) -> Config:
    """Read a TOML config file; relative paths in it are relative to its folder.

    Raises
    ------
    ConfigError
        If the file is missing, not TOML, or a setting is unknown, of the wrong type or out of
        range (the message names the file as typed and the setting).

    Examples
    --------
    >>> from kurszugang.demo import demo_files
    >>> cfg = load_config(demo_files().config)
    >>> cfg.coverage.threshold_min
    45.0
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError("existiert nicht (eine Vorlage schreibt: kurszugang init)", path=str(path))
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"ist kein gültiges TOML: {exc}", path=str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError("ist keine UTF-8-Textdatei", path=str(path)) from None
    return config_from_dict(data, base_dir=p.resolve().parent, source=str(path))


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file (or of the sorted files of a folder)."""
    h = hashlib.sha256()
    files = sorted(q for q in path.rglob("*") if q.is_file()) if path.is_dir() else [path]
    for f in files:
        with f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def _relative(path: Path, folder: Path) -> str:
    """``path`` relative to ``folder`` where it lies below it, else absolute."""
    try:
        return path.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


def resolved_toml(cfg: Config, *, checksums: Mapping[str, str] | None = None,
                  versions: Mapping[str, str] | None = None,
                  relative_to: Path | None = None) -> str:
    """The complete configuration as TOML with checksums and versions.

    Input paths and the output folder are written relative to ``relative_to`` (the folder the
    file will be written to) where they lie below it, else absolute.
    """
    data = cfg.to_dict()
    where = relative_to
    for section, key, _tp, _default, spec in iter_settings():
        value = data[section].get(key)
        resolved = cfg.path(value) if spec.kind == "path" and section != "output" else None
        if resolved is not None:
            data[section][key] = _relative(resolved, where) if where else str(resolved.resolve())
    out = cfg.path(cfg.output.dir)
    if out is not None:
        data["output"]["dir"] = _relative(out, where) if where else str(out.resolve())
    extra = {}
    if checksums:
        extra["checksums"] = dict(checksums)
    if versions:
        extra["versions"] = dict(versions)
    head = ("# Vollständige Einstellungen dieses Laufs (kurszugang). Mit\n"
            "#   kurszugang run <diese Datei>\n"
            "# wird er offline wiederholt; [checksums] hält fest, mit welchen Daten.\n\n")
    return head + tomli_w.dumps({**data, **extra})


def _toml_value(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return tomli_w.dumps({"x": value}).removeprefix("x = ").strip()


def template(*, district_key: str = "09187", district_name: str = "") -> str:
    """A commented config template in German (what ``kurszugang init`` writes).

    Every setting with its default (or an example) and, in a comment above it, its label,
    meaning and what it expects (unit, allowed values), from the declarations.
    """
    lines = ["# kurszugang – Einstellungen einer Auswertung",
             "# Pfade sind relativ zu dieser Datei. Ausführen mit: kurszugang run <diese Datei>"]
    tables: list[str] = []
    current = ""
    for section, key, tp, default, spec in iter_settings():
        if section != current:
            lines += ["", f"[{section}]   # {_SECTION_LABELS[section]}"]
            current = section
        value = spec.example if spec.example is not None else default
        if (section, key) == ("district", "key"):
            value = district_key
        if (section, key) == ("district", "name"):
            value = district_name
        comment = f"# {spec.de}: {spec.help_de}. Erwartet {_expected(tp, spec)}."
        if spec.kind == "kreise":  # one district by default: the example stays a comment
            lines += [comment, f'# {key} = "{ALL_DISTRICTS}"']
            continue
        if isinstance(value, dict):
            head = f"[{section}.{key}]" if value else f"# [{section}.{key}]"
            tables += ["", comment, head]
            tables += [f"{k} = {v}" for k, v in value.items()] or ["# alpha = 0.15"]
            continue
        lines += [comment, f"{key} = {_toml_value(value)}"]
    return "\n".join(lines + tables) + "\n"


def parameter_rows(cfg: Config, *, language: str = "de") -> list[tuple[str, str, Any, str, str]]:
    """(key, label, value, unit, meaning) of every setting, for parameter sheets and summaries."""
    rows = []
    for section, key, _tp, _default, spec in iter_settings():
        value = getattr(getattr(cfg, section), key)
        num = _de_number if language == "de" else (lambda x: f"{x:g}")
        if isinstance(value, tuple):
            value = ", ".join(num(v) if isinstance(v, float) else str(v) for v in value)
        elif isinstance(value, dict):
            value = ", ".join(f"{k}: {num(v) if isinstance(v, float) else v}"
                              for k, v in value.items())
        elif isinstance(value, dt.date):
            value = value.isoformat()
        elif value is None:
            value = ""
        label = spec.de if language == "de" else spec.en
        meaning = spec.help_de if language == "de" else (spec.help_en or spec.help_de)
        if spec.kind == "path" and value:  # where the run's files are is not a result
            value = ("(dieser Ordner)" if language == "de" else "(this folder)") \
                if section == "output" else Path(str(value)).name
        if spec.kind == "auto" and value == AUTO:
            value = cfg.max_direct_walk_m()
            meaning += " (automatisch)" if language == "de" else " (automatic)"
        rows.append((f"{section}.{key}", label, value, spec.unit, meaning))
    return rows


def _allowed(tp: Any, spec: Spec) -> str:
    """The allowed values of a setting, short (for the reference page)."""
    text = _expected(tp, spec)
    return text.replace("eine Liste, jeder Wert ", "Liste: ").replace("eine ", "").replace(
        "ein ", "")


def reference_markdown() -> str:
    """The reference page of every setting (German), generated from the declarations."""
    out = ["# Einstellungen", "",
           "Diese Seite ist aus `kurszugang/config.py` erzeugt "
           "(`kurszugang.config.reference_markdown()`); jede Einstellung ist dort einmal "
           "erklärt. `kurszugang init` schreibt dieselben Einstellungen als kommentierte "
           "Vorlage, jede Auswertung die vollständigen Werte nach `einstellungen.toml` und ins "
           "Blatt *Parameter* der Excel-Datei.", ""]
    current = ""
    for section, key, tp, default, spec in iter_settings():
        if section != current:
            out += ["", f"## [{section}] – {_SECTION_LABELS[section]}", "",
                    "| Schlüssel | Einstellung | Voreinstellung | Einheit | Erlaubt | Bedeutung |",
                    "|---|---|---|---|---|---|"]
            current = section
        shown = _toml_value(default) if default not in ("", None, (), {}) else "–"
        cells = [f"`{key}`", spec.de, f"`{shown}`" if shown != "–" else "–", spec.unit,
                 _allowed(tp, spec), spec.help_de]
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(out) + "\n"
