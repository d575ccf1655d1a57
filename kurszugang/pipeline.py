"""One analysis run from a config: read, check, compute into Results, render.

- **read** (:func:`read_inputs`): every input named in the config, through the readers of
  :mod:`kurszugang.io`;
- **check** (:func:`kurszugang.analysis.datenlage.check_answerable`): where the inputs cannot
  answer (an analysis date outside the timetable, no stop in the district) the run stops with one
  line before any routing;
- **compute** (:func:`compute`): every table and layer of :mod:`kurszugang.schema` by its
  producer, each number once, into :class:`~kurszugang.results.Results`;
- **render** (:func:`kurszugang.output.render.render`): tables, GeoPackage, GeoTIFFs, maps, the
  summary, from the Results alone.

:func:`run_analysis` does all four and saves the Results (``ergebnisse/``) and the complete
resolved config with checksums of the inputs (``einstellungen.toml``), so that the run can be
repeated offline with the same numbers and rendered again without its inputs.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kurszugang import __version__
from kurszugang.config import Config, parameter_rows, resolved_toml, sha256_of
from kurszugang.errors import ConfigError, KurszugangError
from kurszugang.files import RunLock
from kurszugang.results import Results, RunInfo, Table
from kurszugang.schema import LAYERS, TABLES
from kurszugang.words import de_number

log = logging.getLogger(__name__)

__all__ = ["RunResult", "compute", "demo_config", "read_inputs", "run_analysis"]

#: Inputs a run needs (settings of [inputs]).
REQUIRED_INPUTS = ("boundaries", "gtfs", "courses", "population")
_CHECKSUMMED = (*REQUIRED_INPUTS, "osm", "participants_per_gemeinde")
#: Credits of the fictional demo district.
DEMO_KEY = "09999"


@dataclass
class RunResult:
    """What a run computed and wrote."""

    config: Config
    out_dir: Path
    results: Results
    files: list[Path] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def headline(self) -> dict[str, Any]:
        return self.results.info.headline

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        return {k: t.frame for k, t in self.results.tables.items()}


class Stages:
    """Runs named stages with timing, a line each on the terminal (unless quiet) and in the log."""

    def __init__(self, timings: dict[str, float], progress: bool) -> None:
        self.timings = timings
        self.progress = progress

    def __call__(self, name: str, fn: Callable[[], Any]) -> Any:
        if self.progress:
            print(f"  … {name}", flush=True, file=sys.stderr)
        t = time.perf_counter()
        out = fn()
        self.timings[name] = time.perf_counter() - t
        log.info("%s: %s s", name, de_number(self.timings[name], 1))
        return out


def kernels_prepared() -> bool:
    """Whether numba's cache already holds the compiled routing kernels (else the first
    routing compiles them, which takes about a minute)."""
    import importlib.util
    import os

    spec = importlib.util.find_spec("kurszugang.routing.raptor")
    if spec is None or spec.origin is None:  # pragma: no cover - the module ships
        return True
    where = os.environ.get("NUMBA_CACHE_DIR")  # numba's cache: there, else beside the module
    folder = Path(where) if where else Path(spec.origin).parent / "__pycache__"
    return folder.is_dir() and any(folder.rglob("raptor*.nbi"))


FIRST_RUN_NOTE = ("  Hinweis: Beim ersten Lauf wird die Routenberechnung einmal vorbereitet "
                  "(übersetzt); das dauert etwa eine Minute. Spätere Läufe beginnen sofort.")


def _required(cfg: Config, key: str) -> Path:
    p = cfg.path(getattr(cfg.inputs, key))
    if p is None:
        raise ConfigError("ist leer: die Datei angeben", path=cfg.source or None,
                          column=f"inputs.{key}")
    if not p.exists():
        raise ConfigError(f"= {getattr(cfg.inputs, key)} existiert nicht ({p})",
                          path=cfg.source or None, column=f"inputs.{key}")
    return p


def checksums(cfg: Config) -> dict[str, str]:
    """SHA-256 of every input; warns when they differ from the ones a resolved config records."""
    sums = {}
    paths = {k: cfg.path(getattr(cfg.inputs, k)) for k in _CHECKSUMMED}
    paths["plan.candidates"] = cfg.path(cfg.plan.candidates)
    for key, p in paths.items():
        if p is not None and p.exists():
            sums[key] = sha256_of(p)
    changed = [k for k, v in cfg.checksums.items() if k in sums and sums[k] != v]
    if changed:
        log.warning("die Eingaben haben sich seit dem aufgezeichneten Lauf geändert (%s): die "
                    "Ergebnisse können abweichen", ", ".join(changed))
    return sums


def _participants_per_gemeinde(path: Path | None) -> pd.Series | None:
    if path is None:
        return None
    table = pd.read_csv(path, sep=None, engine="python", dtype={"ags": str}, encoding="utf-8-sig")
    table.columns = [c.strip().lower() for c in table.columns]
    if not {"ags", "participants"} <= set(table.columns):
        raise ConfigError("braucht die Spalten ags;participants", path=str(path))
    return table.set_index("ags")["participants"].astype(float)


def _district(cfg: Config, gemeinden: Any) -> Any:
    """The district's outline with its key and name (from the config or the boundaries)."""
    from kurszugang.analysis.layers import union_outline

    key = cfg.district.key or str(gemeinden["ags"].astype(str).str[:5].mode().iloc[0])
    name = cfg.district.name
    if not name:
        info = _district_info(cfg, key)
        name = info or f"Kreis {key}"
    return union_outline(gemeinden, key, name)


def _district_info(cfg: Config, key: str) -> str:
    """The Kreis' name with its type ("Landkreis Bayreuth") from the boundaries ("" if none)."""
    from kurszugang.io.boundaries import district_info

    path = cfg.path(cfg.inputs.boundaries)
    if path is None:
        return ""
    try:
        info = district_info(path, key)
    except KurszugangError as exc:  # the name is a nicety; the key was checked when read
        log.info("kein Name des Landkreises aus %s: %s", path, exc)
        return ""
    if not info.name:
        return ""
    if info.name.split()[0] in ("Landkreis", "Kreis", "Stadt", "Kreisfreie", "Region"):
        return info.name
    return f"{info.type} {info.name}"


@dataclass(frozen=True)
class GivenInputs:
    """Inputs read once for several districts (``[district] keys``): the district's cut of
    the feed and of the course list, the area the other inputs are read for (lon/lat bounds)
    and the checksums of the shared input files."""

    feed: Any
    courses: Any
    bbox: tuple[float, float, float, float]
    checksums: dict[str, str]
    #: one sentence on the cut, for the Datenlage
    cut: str = ""


def analysis_days(cfg: Config) -> tuple[dt.date, ...]:
    """The days a run routes on: the weeks (Monday to Sunday) of the school day and of the
    holiday, since a course is analysed on its own weekday of that week."""
    days = set()
    for day in (cfg.date("school_day"), cfg.date("holiday")):
        monday = day - dt.timedelta(days=day.weekday())
        days |= {monday + dt.timedelta(days=i) for i in range(7)}
    return tuple(sorted(days))


def read_inputs(cfg: Config, stage: Callable[[str, Callable[[], Any]], Any],
                given: GivenInputs | None = None) -> Any:
    """Read every input of the config (paths checked first, each reader checks its file).

    With ``given``, the feed and the course list are those given, and the Zensus grid and
    the walking network are read for its area only.
    """
    from kurszugang.analysis.context import RunInputs
    from kurszugang.io.boundaries import boundary_source, read_boundaries
    from kurszugang.io.courses import read_courses
    from kurszugang.io.gtfs import read_gtfs
    from kurszugang.io.osm import read_walk_network
    from kurszugang.io.population import read_population_grid

    paths = {k: _required(cfg, k) for k in REQUIRED_INPUTS}
    osm = cfg.path(cfg.inputs.osm)
    if osm is not None and not osm.exists():
        raise ConfigError(f"= {cfg.inputs.osm} existiert nicht ({osm})", path=cfg.source or None,
                          column="inputs.osm")
    gem = stage("Gemeindegrenzen lesen", lambda: read_boundaries(
        paths["boundaries"], kreis=cfg.district.key or None,
        layer=cfg.inputs.boundaries_layer or None))
    box = given.bbox if given is not None else None
    feed = given.feed if given is not None else stage(
        "Fahrplan lesen", lambda: read_gtfs(paths["gtfs"], dates=analysis_days(cfg)))
    courses = given.courses if given is not None else stage(
        "Kursliste lesen", lambda: read_courses(paths["courses"]))
    pop = stage("Zensus-Raster lesen", lambda: read_population_grid(
        paths["population"], bbox=box, crs_of_bbox="EPSG:4326"))
    net = stage("Fußwegenetz lesen", lambda: read_walk_network(osm, bbox=box)) if osm else None
    free = gem["gemeindefrei"].fillna(False).to_numpy(bool) if "gemeindefrei" in gem.columns \
        else np.zeros(len(gem), dtype=bool)
    return RunInputs(
        gem[~free].reset_index(drop=True), _district(cfg, gem), feed, courses, pop, net,
        _participants_per_gemeinde(cfg.path(cfg.inputs.participants_per_gemeinde)),
        unincorporated=gem[free].reset_index(drop=True),
        boundary_source=boundary_source(paths["boundaries"]),
        feed_cut=given.cut if given is not None else "")


def _validation(cfg: Config, inputs: Any) -> tuple[str, ...]:
    """The validation report of every input (what was read, errors and warnings)."""
    from kurszugang.io import validate

    parts = []
    for key in (*REQUIRED_INPUTS, "osm"):
        p = cfg.path(getattr(cfg.inputs, key))
        if p is None:
            continue
        report = inputs.feed.report if key == "gtfs" else (
            inputs.courses.report if key == "courses" else validate(p))
        parts.append(report.format(max_per_code=10))
    return tuple(parts)


def _producer(name: str) -> Callable[[Any], Table]:
    s = TABLES.get(name) or LAYERS[name]
    module, _, fn = s.producer.partition(":")
    return getattr(importlib.import_module(module), fn)


def compute(cfg: Config, inputs: Any, *, stage: Callable[[str, Callable[[], Any]], Any]
            | None = None, checksums_: dict[str, str] | None = None,
            plan: bool = False) -> Results:
    """Every table and layer of the schema, computed once from the inputs, as Results.

    With ``plan``, the planning tables and layers (``[plan]``, group ``plan`` of the schema)
    too.

    Raises
    ------
    ConfigError
        Where the inputs cannot answer at all (dates outside the timetable, no stop in the
        district), before any routing.
    """
    from kurszugang.analysis.context import RunContext
    from kurszugang.analysis.datenlage import check_answerable
    from kurszugang.analysis.headline import headline

    st = stage or (lambda _n, fn: fn())
    dates = {"school_day": cfg.date("school_day"), "holiday": cfg.date("holiday")}
    check_answerable(inputs.feed, inputs.gemeinden, dates, buffer_m=cfg.grid.buffer_m,
                     source=cfg.source)
    ctx = RunContext(cfg, inputs, st)
    groups = ("run", "plan") if plan else ("run",)
    tables = {n: _producer(n)(ctx) for n, s in TABLES.items() if s.group in groups}
    layers = {n: _producer(n)(ctx) for n, s in LAYERS.items() if s.group in groups}
    surfaces = {k: s.to_surface() for k, s in ctx.surfaces.items()}
    sums = checksums_ if checksums_ is not None else checksums(cfg)
    out = cfg.path(cfg.output.dir)
    info = RunInfo(
        district_key=str(inputs.kreis["key"].iloc[0]),
        district_name=str(inputs.kreis["name"].iloc[0]),
        school_day=dates["school_day"], holiday=dates["holiday"],
        language=cfg.output.language, threshold_min=cfg.coverage.threshold_min,
        early_arrival_min=cfg.coverage.early_arrival_min,
        courses_as_of=inputs.courses.as_of,
        parameters=_parameters(cfg), checksums=sums, versions=_versions(),
        inputs={k: Path(getattr(cfg.inputs, k)).name for k in _CHECKSUMMED
                if getattr(cfg.inputs, k)},
        validation=_validation(cfg, inputs), notes=tuple(ctx.school.notes),
        attribution=tuple(_attribution(cfg)),
        headline=headline(tables, cfg.coverage.threshold_min),
        settings_toml=resolved_toml(cfg, checksums=sums, versions=_versions(), relative_to=out))
    return Results(info, tables, layers, surfaces)


def _parameters(cfg: Config) -> tuple[tuple[Any, ...], ...]:
    de = parameter_rows(cfg, language="de")
    en = parameter_rows(cfg, language="en")
    return tuple((k, lde, len_, v, unit, mde, men)
                 for (k, lde, v, unit, mde), (_k, len_, _v, _u, men) in zip(de, en, strict=True))


def run_analysis(cfg: Config, *, progress: bool = True, plan: bool = False,
                 given: GivenInputs | None = None) -> RunResult:
    """Run the whole analysis described by ``cfg``, save its Results and write its outputs.

    Parameters
    ----------
    cfg
        The configuration (:func:`kurszugang.config.load_config`).
    progress
        Print each stage as it starts.
    plan
        Also plan where, when and how soon (``[plan]``; what ``kurszugang plan`` does): the
        tables of ``OUTDIR/plan/``, the proposals on the maps, the plots and a summary section.
    given
        Inputs already read for several districts (:mod:`kurszugang.state`).

    Returns
    -------
    RunResult
        The Results, the files written and the timings.

    Raises
    ------
    ConfigError
        For missing inputs or settings, or inputs that cannot answer (before any routing);
        reader errors (:class:`kurszugang.errors.InputError`) name the file, row and column.

    Examples
    --------
    >>> import dataclasses
    >>> cfg = demo_config("ergebnisse")
    >>> cfg = dataclasses.replace(cfg, output=dataclasses.replace(cfg.output, formats=("csv",)))
    >>> run = run_analysis(cfg, progress=False)
    >>> [f.name for f in run.files][:4]
    ['pruefbericht.txt', 'datenlage.csv', 'gemeinden_uebersicht.csv', 'gemeinden_kursbesuch.csv']
    >>> round(run.headline["share_pct"], 1), run.headline["gemeinden_without_course"]
    (85.4, 8)
    """
    from kurszugang.output.render import render

    out = cfg.path(cfg.output.dir)
    if out is None:  # pragma: no cover - the setting has a default
        raise ConfigError("ist leer", column="output.dir")
    timings: dict[str, float] = {}
    stage = Stages(timings, progress)
    with RunLock(out):  # one run per folder; a folder that cannot be made stops the run at once
        if progress and not kernels_prepared():
            print(FIRST_RUN_NOTE, file=sys.stderr, flush=True)
        sums = given.checksums if given is not None else stage(
            "Prüfsummen der Eingaben", lambda: checksums(cfg))
        inputs = read_inputs(cfg, stage, given)
        results = compute(cfg, inputs, stage=stage, checksums_=sums, plan=plan)
        stage("Ergebnisse speichern", lambda: results.save(out))
        files = stage("Ausgaben schreiben", lambda: render(
            results, out, cfg.output.formats, suppress_below=cfg.output.suppress_below))
    return RunResult(cfg, out, results, files, timings)


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"kurszugang": __version__}
    for pkg in ("numpy", "pandas", "geopandas", "shapely", "pyproj", "numba", "scipy"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:  # pragma: no cover - always installed
            pass
    return out


def _attribution(cfg: Config) -> list[str]:
    """Credits for the maps: the demo's, or generic ones naming the user's data sources."""
    if cfg.district.key == DEMO_KEY:
        from kurszugang.demo import DEMO_ATTRIBUTION

        return list(DEMO_ATTRIBUTION)
    return ["Verwaltungsgrenzen: © GeoBasis-DE / BKG (dl-de/by-2-0)",
            "Zensus: © Statistische Ämter des Bundes und der Länder (dl-de/by-2-0)",
            f"Fahrplan: {Path(cfg.inputs.gtfs).name}", f"Kursorte: {Path(cfg.inputs.courses).name}"]


def demo_config(out_dir: str | Path) -> Config:
    """The configuration of the bundled demo district (its bundled config, output to
    ``out_dir``)."""
    import dataclasses

    from kurszugang.config import load_config
    from kurszugang.demo import demo_files

    cfg = load_config(demo_files().config)
    return dataclasses.replace(cfg, output=dataclasses.replace(
        cfg.output, dir=str(Path(out_dir).resolve())))
