"""All parameters of an analysis run, with their defaults and units, in one place.

A run is described by a TOML file (``kurszugang init`` writes a commented template). Every run
writes the complete resolved configuration, with checksums of its input files, next to its
outputs, so that it can be repeated offline and gives the same numbers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from kurszugang.errors import ConfigError

#: Working minimum class size per course type (people); "default" for free labels.
DEFAULT_MIN_CLASS_SIZE = {"allgemein": 15, "intensiv": 12, "jugend": 10, "eltern": 10,
                          "frauen": 10, "alpha": 8, "zweitschrift": 8, "foerder": 10,
                          "default": 10}
OUTPUT_FORMATS = ("csv", "xlsx", "gpkg", "geotiff", "html", "png", "pdf", "summary")


@dataclass(frozen=True)
class Inputs:
    """Input files. Relative paths are relative to the config file's folder."""

    boundaries: str = ""
    #: layer of a GeoPackage with several layers (e.g. "vg250_gem"); "" = the Gemeinde layer
    boundaries_layer: str = ""
    gtfs: str = ""
    courses: str = ""
    population: str = ""
    #: OpenStreetMap extract for walking on footways; "" = straight lines × detour factor
    osm: str = ""
    #: optional CSV "ags;participants" with counts per Gemeinde (e.g. from the immigration office)
    participants_per_gemeinde: str = ""


@dataclass(frozen=True)
class District:
    """Which district to analyse."""

    #: 5-digit Kreis key, e.g. "09187"
    key: str = ""
    #: name shown on maps and in reports ("" = from the boundary file)
    name: str = ""


@dataclass(frozen=True)
class Dates:
    """Analysis days (YYYY-MM-DD): a school day and a day in the school holidays."""

    school_day: str = ""
    holiday: str = ""


@dataclass(frozen=True)
class Routing:
    """Routing parameters (see docs/benutzerhandbuch/reisezeiten.md)."""

    walk_speed_kmh: float = 4.5
    max_walk_m: float = 1000.0
    detour_factor: float = 1.3
    max_snap_m: float = 500.0
    board_slack_s: int = 60
    max_rides: int = 5
    #: departure window of the travel-time tables: first minute and length
    departure: str = "07:00"
    window_min: int = 60
    percentiles: tuple[int, ...] = (5, 50, 95)


@dataclass(frozen=True)
class Grid:
    """Analysis grid and potential participants (see docs/analysis.md)."""

    resolution_m: int = 100
    buffer_m: float = 2000.0
    #: "foreigners", "gemeinde" or "both"
    participant_source: str = "foreigners"
    participant_factor: float = 1.0


@dataclass(frozen=True)
class Coverage:
    """Coverage at course times."""

    #: longest acceptable journey each way (minutes)
    threshold_min: float = 45.0
    #: variants for class sizes (minutes, increasing)
    thresholds_min: tuple[float, ...] = (30.0, 45.0, 60.0)
    #: arriving earlier than this before the start does not count (minutes)
    early_arrival_min: float = 30.0
    #: minimum class size per course type (people)
    min_class_size: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_MIN_CLASS_SIZE))


@dataclass(frozen=True)
class Catchments:
    """Travel-time surfaces and isochrones per course site."""

    arrive_by: str = "08:30"
    thresholds_min: tuple[float, ...] = (15.0, 30.0, 45.0, 60.0, 90.0)


@dataclass(frozen=True)
class Subsidy:
    """Travel subsidy (Fahrtkostenzuschuss): walking distance at or above this (km)."""

    distance_km: float = 5.0


@dataclass(frozen=True)
class Output:
    """Where and what to write."""

    dir: str = "data/processed/run"
    formats: tuple[str, ...] = OUTPUT_FORMATS
    #: "de" or "en"
    language: str = "de"
    #: suppress counts below this in tables (0 = no suppression)
    suppress_below: int = 0


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
    output: Output = field(default_factory=Output)
    #: folder relative paths are resolved against (the config file's folder)
    base_dir: str = "."
    #: SHA-256 of the inputs recorded by an earlier run (section [checksums] of a resolved file)
    checksums: dict[str, str] = field(default_factory=dict)

    def path(self, value: str) -> Path | None:
        """An input or output path resolved against :attr:`base_dir` (None for "")."""
        if not value:
            return None
        p = Path(value)
        return p if p.is_absolute() else Path(self.base_dir) / p

    def date(self, which: str) -> dt.date:
        """``"school_day"`` or ``"holiday"`` as a date."""
        text = getattr(self.dates, which)
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise ConfigError(f"dates.{which} {text!r} is not a date (expected YYYY-MM-DD)",
                              column=f"dates.{which}") from None

    def to_dict(self) -> dict[str, Any]:
        """Nested plain dict (TOML-ready)."""
        out = dataclasses.asdict(self)
        out.pop("base_dir")
        out.pop("checksums")
        return out


_SECTION_CLASSES = {"district": District, "inputs": Inputs, "dates": Dates, "routing": Routing,
                    "grid": Grid, "coverage": Coverage, "catchments": Catchments,
                    "subsidy": Subsidy, "output": Output}


def _coerce(section: str, cls: type, values: Mapping[str, Any], source: str) -> Any:
    known = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"[{section}] has no setting {key!r} (known: {', '.join(known)})",
                              path=source, column=f"{section}.{key}")
        default = getattr(cls(), key)
        try:
            if isinstance(default, bool) or default is None:
                kwargs[key] = value
            elif isinstance(default, tuple):
                if not isinstance(value, list | tuple):
                    raise TypeError
                kwargs[key] = tuple(type(default[0])(v) for v in value) if default else tuple(value)
            elif isinstance(default, dict):
                if not isinstance(value, dict):
                    raise TypeError
                kwargs[key] = {**default, **{str(k): int(v) for k, v in value.items()}}
            elif isinstance(default, float):
                kwargs[key] = float(value)
            elif isinstance(default, int):
                if isinstance(value, float) and not value.is_integer():
                    raise TypeError
                kwargs[key] = int(value)
            else:
                if not isinstance(value, str):
                    raise TypeError
                kwargs[key] = value
        except (TypeError, ValueError):
            raise ConfigError(f"[{section}] {key} = {value!r} is not a {type(default).__name__}",
                              path=source, column=f"{section}.{key}") from None
    return cls(**kwargs)


def config_from_dict(data: Mapping[str, Any], *, base_dir: str | Path = ".",
                     source: str = "config") -> Config:
    """Build a :class:`Config` from nested dicts (as read from TOML), checking every value."""
    sections: dict[str, Any] = {}
    recorded = {str(k): str(v) for k, v in dict(data.get("checksums", {})).items()}
    for name, values in data.items():
        if name in ("checksums", "versions"):  # written by a run; recorded, not settings
            continue
        if name not in _SECTION_CLASSES:
            raise ConfigError(f"unknown section [{name}] (known: {', '.join(_SECTION_CLASSES)})",
                              path=source, column=name)
        if not isinstance(values, Mapping):
            raise ConfigError(f"[{name}] must be a table of settings", path=source, column=name)
        sections[name] = _coerce(name, _SECTION_CLASSES[name], values, source)
    cfg = Config(**sections, base_dir=str(base_dir), checksums=recorded)
    check(cfg, source)
    return cfg


def check(cfg: Config, source: str = "config") -> None:
    """Raise :class:`ConfigError` for values out of range (names the setting and the range)."""
    def bad(key: str, msg: str) -> ConfigError:
        return ConfigError(f"{key} {msg}", path=source, column=key)

    r = cfg.routing
    if r.walk_speed_kmh <= 0:
        raise bad("routing.walk_speed_kmh", f"= {r.walk_speed_kmh} must be positive (km/h)")
    if r.max_walk_m < 0 or r.max_snap_m < 0:
        raise bad("routing.max_walk_m", "and max_snap_m must not be negative (metres)")
    if r.detour_factor < 1:
        raise bad("routing.detour_factor", f"= {r.detour_factor} must be at least 1")
    if r.max_rides < 1 or r.window_min < 1:
        raise bad("routing.max_rides", "and window_min must be at least 1")
    if any(p < 1 or p > 100 for p in r.percentiles):
        raise bad("routing.percentiles", f"= {list(r.percentiles)} must lie between 1 and 100")
    c = cfg.coverage
    ths = list(c.thresholds_min)
    if not ths or any(b <= a for a, b in zip(ths, ths[1:], strict=False)) or ths[0] <= 0:
        raise bad("coverage.thresholds_min", f"= {ths} must be positive and increasing")
    if c.threshold_min > ths[-1]:
        raise bad("coverage.threshold_min", f"= {c.threshold_min} must not exceed the largest "
                  f"of thresholds_min ({ths[-1]})")
    if cfg.grid.resolution_m not in (100, 1000):
        raise bad("grid.resolution_m", f"= {cfg.grid.resolution_m} must be 100 or 1000")
    if cfg.grid.participant_source not in ("foreigners", "gemeinde", "both"):
        raise bad("grid.participant_source", f"= {cfg.grid.participant_source!r} must be "
                  "'foreigners', 'gemeinde' or 'both'")
    if cfg.output.language not in ("de", "en"):
        raise bad("output.language", f"= {cfg.output.language!r} must be 'de' or 'en'")
    unknown = [f for f in cfg.output.formats if f not in OUTPUT_FORMATS]
    if unknown:
        raise bad("output.formats", f"has unknown {unknown} (known: {', '.join(OUTPUT_FORMATS)})")
    if cfg.district.key and not (len(cfg.district.key) == 5 and cfg.district.key.isdigit()):
        raise bad("district.key", f"= {cfg.district.key!r} must be a 5-digit Kreis key like '09187'")
    if cfg.subsidy.distance_km <= 0:
        raise bad("subsidy.distance_km", "must be positive")


def load_config(path: str | Path) -> Config:
    """Read a TOML config file; relative paths in it are relative to its folder.

    Raises
    ------
    ConfigError
        If the file is missing, not TOML, or a setting is unknown, of the wrong type or out of
        range (the message names the setting).

    Examples
    --------
    >>> cfg = load_config("kurszugang.toml")  # doctest: +SKIP
    >>> cfg.coverage.threshold_min  # doctest: +SKIP
    45.0
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError("does not exist (create one with: kurszugang init)", path=p)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"is not valid TOML: {exc}", path=p) from None
    except UnicodeDecodeError:
        raise ConfigError("is not a UTF-8 text file", path=p) from None
    return config_from_dict(data, base_dir=p.resolve().parent, source=p.name)


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file (or of the sorted files of a folder)."""
    h = hashlib.sha256()
    files = sorted(q for q in path.rglob("*") if q.is_file()) if path.is_dir() else [path]
    for f in files:
        with f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def resolved_toml(cfg: Config, *, checksums: Mapping[str, str] | None = None,
                  versions: Mapping[str, str] | None = None) -> str:
    """The complete configuration as TOML with absolute input paths, checksums and versions."""
    data = cfg.to_dict()
    for key, value in data["inputs"].items():
        if value and key != "boundaries_layer":
            resolved = cfg.path(value)
            data["inputs"][key] = str(resolved.resolve()) if resolved else value
    data["output"]["dir"] = str(cfg.path(cfg.output.dir).resolve())  # type: ignore[union-attr]
    extra = {}
    if checksums:
        extra["checksums"] = dict(checksums)
    if versions:
        extra["versions"] = dict(versions)
    head = ("# Vollständige Einstellungen dieses Laufs (kurszugang). Mit\n"
            "#   kurszugang run <diese Datei>\n"
            "# wird er offline wiederholt; [checksums] hält fest, mit welchen Daten.\n\n")
    return head + tomli_w.dumps({**data, **extra})


def template(*, district_key: str = "09187") -> str:
    """A commented config template in German (what ``kurszugang init`` writes)."""
    d = Config()
    cs = "\n".join(f"{k} = {v}" for k, v in d.coverage.min_class_size.items())
    return f'''# kurszugang – Einstellungen einer Auswertung
# Pfade sind relativ zu dieser Datei. Ausführen mit: kurszugang run {{diese Datei}}

[district]
key = "{district_key}"          # Kreisschlüssel, 5 Ziffern (z. B. 09187 = Landkreis Rosenheim)
name = ""               # Name auf Karten und im Bericht ("" = aus den Grenzdaten)

[inputs]
boundaries = "data/raw/vg250.gpkg"      # BKG VG250 (GeoPackage oder Shapefile) oder LDBV-GeoJSON
boundaries_layer = ""                   # Ebene im GeoPackage, z. B. "vg250_gem" ("" = Gemeinden)
gtfs = "data/raw/gtfs.zip"              # Fahrplan (GTFS), z. B. DELFI, mit kurszugang extract zugeschnitten
courses = "data/raw/kursorte.csv"       # Kursliste der Träger, Aufbau: docs/course-sites.md
population = "data/raw/zensus_100m.csv" # Zensus-Raster 100 m (oder 1 km)
osm = ""                                # OSM-Auszug (.osm.pbf) für Fußwege; "" = Luftlinie × Umwegfaktor
participants_per_gemeinde = ""          # optional: CSV "ags;participants" (z. B. Ausländerbehörde)

[dates]
school_day = "2026-03-10"   # ein Schultag (JJJJ-MM-TT)
holiday = "2026-08-11"      # ein Werktag in den Schulferien

[routing]
walk_speed_kmh = {d.routing.walk_speed_kmh}     # Gehgeschwindigkeit (km/h)
max_walk_m = {d.routing.max_walk_m:g}          # längster Fußweg (m)
detour_factor = {d.routing.detour_factor}      # Umwegfaktor zur Luftlinie (nur ohne OSM)
max_snap_m = {d.routing.max_snap_m:g}           # Orte weiter weg vom Wegenetz werden gemeldet (m)
board_slack_s = {d.routing.board_slack_s}        # Sekunden zwischen Ankunft an der Haltestelle und Abfahrt
max_rides = {d.routing.max_rides}             # höchstens so viele Fahrzeuge je Reise
departure = "{d.routing.departure}"       # Abfahrtsfenster der Reisezeittabellen: Beginn
window_min = {d.routing.window_min}           # … und Länge (Minuten)
percentiles = [5, 50, 95]   # Perzentile über das Fenster

[grid]
resolution_m = {d.grid.resolution_m}          # Rasterweite: 100 oder 1000 m
buffer_m = {d.grid.buffer_m:g}            # Puffer um den Landkreis (m)
participant_source = "{d.grid.participant_source}"   # "foreigners", "gemeinde" oder "both"
participant_factor = {d.grid.participant_factor}     # Anteil, der als potenzielle Teilnehmende zählt

[coverage]
threshold_min = {d.coverage.threshold_min:g}          # höchstens so lange je Weg (Minuten)
thresholds_min = [30, 45, 60]   # Varianten für Klassengrößen
early_arrival_min = {d.coverage.early_arrival_min:g}      # höchstens so früh vor Kursbeginn ankommen (Minuten)

[coverage.min_class_size]       # Mindestklassengröße je Kursart (Arbeitswerte, keine Rechtsnorm)
{cs}

[catchments]
arrive_by = "{d.catchments.arrive_by}"           # Einzugsbereiche: Ankunft am Kursort bis
thresholds_min = [15, 30, 45, 60, 90]

[subsidy]
distance_km = {d.subsidy.distance_km}    # Fahrtkostenzuschuss ab dieser Fußweglänge (5 km; früher 3 km)

[output]
dir = "{d.output.dir}"
formats = {list(d.output.formats)}
language = "de"             # "de" oder "en"
suppress_below = 0          # kleine Zahlen unter diesem Wert in Tabellen unterdrücken (0 = nie)
'''
