"""Several districts in one run: ``[district] keys = "alle"`` or a list of Kreis keys.

One config names the statewide inputs (boundaries, one timetable, the Zensus grid, one course
list). :func:`run_state`

1. lists the Kreise (every Kreis of ``[district] land`` in the boundaries, or the keys given),
2. reads the timetable once for the two analysis dates into the feed cache
   (:mod:`kurszugang.io.feed_cache`) and the course list once,
3. analyses each Kreis as one task, on a Dask LocalCluster (or the scheduler given) where Dask
   is installed and more than one worker is asked for, else one after the other: the task reads
   the cached timetable (once per worker process) and cuts it to the Kreis plus
   ``[district] cut_buffer_km`` (:func:`kurszugang.io.feed_cut.cut_feed`), reads the Zensus grid
   and the walking network for that area only and writes the Kreis's outputs into
   ``OUTDIR/<Kreisschlüssel>/`` exactly as a run of that Kreis alone would;
4. reports a Kreis that fails with its reason and keeps the others;
5. writes the combined overview: the table ``landkreise`` (one row per Kreis: the headline figure,
   the Datenlage, the folder) as CSV and XLSX, the layer ``landkreise`` in a GeoPackage, a map of
   the Kreise (``karte.html``) and a summary (``zusammenfassung.md``).
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kurszugang.config import ALL_DISTRICTS, Config, resolved_toml
from kurszugang.errors import ConfigError
from kurszugang.files import RunLock
from kurszugang.words import de_number, plural

log = logging.getLogger(__name__)

__all__ = ["DistrictOutcome", "StateResult", "district_list", "run_state"]

#: Ratings of the Datenlage from best to worst.
_RATINGS = ("ok", "Warnung", "kritisch")


@dataclass(frozen=True)
class DistrictOutcome:
    """One Kreis of a run over several: where its outputs are, its headline and Datenlage, or
    why it failed."""

    key: str
    name: str
    type: str
    folder: str
    headline: dict[str, Any]
    datenlage: str = ""
    datenlage_text: str = ""
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class StateResult:
    """What :func:`run_state` did: one outcome per Kreis (in key order), the combined Results,
    the files of the overview and the output folder."""

    outcomes: list[DistrictOutcome]
    results: Any
    files: list[Path]
    out_dir: Path

    @property
    def failed(self) -> list[DistrictOutcome]:
        return [o for o in self.outcomes if not o.ok]


@dataclass(frozen=True)
class _Job:
    cfg: Config
    key: str
    name: str
    type: str
    area: bytes  # the Kreis plus the cut margin, WKB in lon/lat
    courses: Any
    checksums: dict[str, str]


def several(cfg: Config) -> bool:
    """Whether ``cfg`` asks for several districts (``[district] keys``)."""
    return bool(cfg.district.keys)


def district_list(cfg: Config) -> list[Any]:
    """The Kreise of the run as :class:`~kurszugang.io.boundaries.DistrictInfo`, by key.

    Raises
    ------
    InputError
        If a key given is not in the boundaries (the message names the nearest keys), or the
        boundaries hold no Kreis of ``[district] land``.
    """
    from kurszugang.io.boundaries import district_info, list_districts

    path = cfg.path(cfg.inputs.boundaries)
    if path is None or not path.exists():
        raise ConfigError(f"= {cfg.inputs.boundaries} existiert nicht", path=cfg.source or None,
                          column="inputs.boundaries")
    layer = cfg.inputs.boundaries_layer or None
    if cfg.district.keys == (ALL_DISTRICTS,):
        return list_districts(path, prefix=cfg.district.land, layer=layer)
    return [district_info(path, k, layer=layer) for k in sorted(cfg.district.keys)]


def _name(info: Any) -> str:
    if not info.name:
        return f"Landkreis {info.key}"
    if info.name.split()[0] in ("Landkreis", "Kreis", "Stadt", "Kreisfreie", "Region"):
        return str(info.name)
    return f"{info.type} {info.name}"


# --- one Kreis (a task) ------------------------------------------------------------------------

_FEEDS: dict[tuple[str, tuple[str, ...]], Any] = {}
_FEEDS_LOCK = threading.Lock()


def _statewide_feed(path: str, dates: tuple[str, ...]) -> Any:
    """The statewide feed for the dates, read from the cache once per process."""
    from kurszugang.io.gtfs import read_gtfs

    with _FEEDS_LOCK:
        key = (path, dates)
        if key not in _FEEDS:
            _FEEDS.clear()  # one statewide feed per process
            _FEEDS[key] = read_gtfs(path, dates=dates, cache=True)
        return _FEEDS[key]


def _datenlage(results: Any) -> tuple[str, str]:
    frame = results.tables["datenlage"].frame
    ratings = [str(r) for r in frame["rating"]]
    worst = max(ratings, key=lambda r: _RATINGS.index(r) if r in _RATINGS else 0, default="ok")
    texts = [str(t) for r, t in zip(ratings, frame["text"], strict=True) if r != "ok"]
    return worst, "; ".join(texts)


def _run_job(job: _Job) -> DistrictOutcome:
    """Analyse one Kreis with the statewide inputs cut to its area."""
    import shapely

    from kurszugang.io.feed_cut import cut_feed
    from kurszugang.pipeline import GivenInputs, analysis_days, run_analysis

    t0 = time.perf_counter()
    cfg = job.cfg
    area = shapely.from_wkb(job.area)
    dates = tuple(d.isoformat() for d in analysis_days(cfg))
    gtfs = cfg.path(cfg.inputs.gtfs)
    whole = _statewide_feed(str(gtfs), dates)
    feed = cut_feed(whole, area)
    buffer_km = float(cfg.district.cut_buffer_km)
    km = de_number(buffer_km, 0 if buffer_km.is_integer() else 1)
    cut = (f"Landesweiter Fahrplan auf den Kreis und {km} km Rand zugeschnitten: "
           f"{de_number(len(feed.stops))} von {plural(len(whole.stops), 'Haltestelle', 'Haltestellen')}; "
           "Kursorte außerhalb und Verbindungen, die diesen Bereich verlassen, fehlen.")
    bbox = tuple(float(v) for v in area.bounds)
    given = GivenInputs(feed, job.courses, bbox, job.checksums, cut)  # type: ignore[arg-type]
    run = run_analysis(cfg, progress=False, given=given)
    rating, text = _datenlage(run.results)
    return DistrictOutcome(job.key, run.results.info.district_name, job.type, str(run.out_dir),
                           dict(run.headline), rating, text, seconds=time.perf_counter() - t0)


def _failed(job: _Job, exc: BaseException) -> DistrictOutcome:
    from kurszugang.errors import KurszugangError

    text = str(exc) if isinstance(exc, KurszugangError) else f"{type(exc).__name__}: {exc}"
    return DistrictOutcome(job.key, job.name, job.type, str(job.cfg.path(job.cfg.output.dir)),
                           {}, error=text.strip().splitlines()[0] if text.strip() else
                           type(exc).__name__)


# --- the run -------------------------------------------------------------------------------------

def _outlines(cfg: Config, keys: Sequence[str]) -> Any:
    """The Kreise's outlines (EPSG:25832), dissolved from the Gemeinden, indexed by key."""
    from kurszugang.io.boundaries import read_boundaries

    path = cfg.path(cfg.inputs.boundaries)
    gem = read_boundaries(path, layer=cfg.inputs.boundaries_layer or None)  # type: ignore[arg-type]
    gem = gem.assign(key=gem["ags"].astype(str).str[:5])
    gem = gem[gem["key"].isin(keys)]
    return gem[["key", "geometry"]].dissolve(by="key")


def _jobs(cfg: Config, infos: Sequence[Any], outlines: Any, courses: Any,
          sums: dict[str, str]) -> list[_Job]:
    import shapely

    from kurszugang.io.feed_cut import cut_courses

    out = cfg.path(cfg.output.dir)
    margin = max(cfg.district.cut_buffer_km * 1000.0, cfg.grid.buffer_m)
    areas = outlines.geometry.buffer(margin).to_crs("EPSG:4326")
    jobs = []
    for info in infos:
        area = areas.loc[info.key] if info.key in areas.index else shapely.Polygon()
        d = dataclasses.replace(cfg.district, key=info.key, name="", keys=())
        o = dataclasses.replace(cfg.output, dir=str(Path(str(out)) / info.key))
        jobs.append(_Job(dataclasses.replace(cfg, district=d, output=o), info.key, _name(info),
                         info.type, shapely.to_wkb(area), cut_courses(courses, area), sums))
    return jobs


def _progress(progress: bool, done: int, total: int, outcome: DistrictOutcome) -> None:
    if not progress:
        return
    what = (f"{outcome.headline.get('share_pct', float('nan')):.0f} % mit besuchbarem Kurs"
            .replace("nan", "–") if outcome.ok else "nicht gerechnet (Grund am Ende)")
    print(f"  … {done} von {total} Kreisen: {outcome.key} {outcome.name}: {what}",
          file=sys.stderr, flush=True)


def _sequential(jobs: Sequence[_Job], progress: bool) -> list[DistrictOutcome]:
    outcomes = []
    for i, job in enumerate(jobs, 1):
        try:
            outcome = _run_job(job)
        except Exception as exc:  # a failing Kreis is reported, the others go on
            log.info("Kreis %s failed", job.key, exc_info=True)
            outcome = _failed(job, exc)
        outcomes.append(outcome)
        _progress(progress, i, len(jobs), outcome)
    return outcomes


def _on_dask(jobs: Sequence[_Job], progress: bool, scheduler: str | None, n_workers: int,
             memory_limit: str, retries: int) -> list[DistrictOutcome]:
    from distributed import as_completed

    from kurszugang.distributed import _client

    client, cluster = _client(scheduler, n_workers, memory_limit=memory_limit)
    try:
        futures = {client.submit(_run_job, job, retries=retries, pure=False,
                                 key=f"kreis-{job.key}"): job for job in jobs}
        by_key: dict[str, DistrictOutcome] = {}
        for i, fut in enumerate(as_completed(list(futures)), 1):
            job = futures[fut]
            try:
                outcome = fut.result()
            except Exception as exc:
                outcome = _failed(job, exc)
            by_key[job.key] = outcome
            _progress(progress, i, len(jobs), outcome)
        return [by_key[j.key] for j in jobs]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _dask_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("distributed") is not None


def run_state(cfg: Config, *, scheduler: str | None = None, n_workers: int = 2,
              memory_limit: str = "auto", retries: int = 1,
              progress: bool = True) -> StateResult:
    """Analyse every Kreis of ``[district] keys`` and write the combined overview.

    Parameters
    ----------
    cfg
        A config with ``[district] keys`` (``"alle"`` or a list) and statewide inputs.
    scheduler
        Address of a Dask scheduler (``tcp://host:8786``); None starts a LocalCluster of
        ``n_workers`` processes (one thread each) when Dask is installed and ``n_workers > 1``,
        else the Kreise run one after the other in this process.
    memory_limit
        Memory of each LocalCluster worker (Dask's form, e.g. ``"2GiB"``; "auto" shares the
        machine's memory among the workers); a worker above it is restarted and its Kreis
        retried.
    retries
        How often a failing Kreis is tried again on Dask.
    progress
        A line per step and per Kreis done.

    Returns
    -------
    StateResult
        One outcome per Kreis in key order (failed ones with their reason), the combined
        Results and the overview's files.
    """
    from kurszugang.io.courses import read_courses
    from kurszugang.io.gtfs import read_gtfs
    from kurszugang.output.state import render_state
    from kurszugang.pipeline import REQUIRED_INPUTS, Stages, _required, analysis_days, checksums

    out = cfg.path(cfg.output.dir)
    if out is None:  # pragma: no cover - the setting has a default
        raise ConfigError("ist leer", column="output.dir")
    stage: Callable[[str, Callable[[], Any]], Any] = Stages({}, progress)
    with RunLock(out):
        paths = {k: _required(cfg, k) for k in REQUIRED_INPUTS}
        infos = stage("Kreise bestimmen", lambda: district_list(cfg))
        keys = [i.key for i in infos]
        outlines = stage("Kreisgrenzen lesen", lambda: _outlines(cfg, keys))
        sums = stage("Prüfsummen der Eingaben", lambda: checksums(cfg))
        dates = tuple(d.isoformat() for d in analysis_days(cfg))
        feed = stage("Fahrplan einmal für alle Kreise lesen (Zwischenspeicher)",
                     lambda: read_gtfs(paths["gtfs"], dates=dates, cache=True))
        feed_report = feed.report.format(max_per_code=10)
        del feed
        courses = stage("Kursliste lesen", lambda: read_courses(paths["courses"]))
        jobs = _jobs(cfg, infos, outlines, courses, sums)
        if progress:
            print(f"  … {len(jobs)} Kreise rechnen", file=sys.stderr, flush=True)
        if scheduler or (n_workers > 1 and _dask_available()):
            outcomes = _on_dask(jobs, progress, scheduler, n_workers, memory_limit, retries)
        else:
            if n_workers > 1:
                log.warning("Dask ist nicht installiert: die Kreise laufen nacheinander "
                            "(pip install 'kurszugang[distributed]')")
            outcomes = _sequential(jobs, progress)
        results = combined_results(cfg, outcomes, outlines, sums,
                                   (feed_report, courses.report.format(max_per_code=10)))
        stage("Ergebnisse speichern", lambda: results.save(out))
        files = stage("Übersicht schreiben", lambda: render_state(results, out,
                                                                  cfg.output.formats))
    return StateResult(outcomes, results, files, Path(out))


def _frame(outcomes: Sequence[DistrictOutcome], out: Path) -> pd.DataFrame:
    rows = []
    for o in outcomes:
        h = o.headline
        try:
            folder = str(Path(o.folder).relative_to(out))
        except ValueError:
            folder = o.folder
        rows.append({
            "key": o.key, "name": o.name, "type": o.type,
            "status": "fertig" if o.ok else "Fehler", "error": o.error or pd.NA,
            "inhabitants": h.get("inhabitants", np.nan),
            "participants": h.get("participants", np.nan),
            "participants_any": h.get("participants_any", np.nan),
            "share_pct": h.get("share_pct", np.nan),
            "gemeinden": h.get("gemeinden", pd.NA),
            "gemeinden_without_course": h.get("gemeinden_without_course", pd.NA),
            "courses": h.get("courses", pd.NA),
            "courses_below_minimum": h.get("courses_below_minimum", pd.NA),
            "datenlage": o.datenlage or pd.NA, "datenlage_text": o.datenlage_text or pd.NA,
            "folder": folder, "seconds": round(o.seconds, 1)})
    return pd.DataFrame(rows)


def _state_headline(frame: pd.DataFrame) -> dict[str, Any]:
    done = frame[frame["status"] == "fertig"]
    part = float(done["participants"].sum())
    part_any = float(done["participants_any"].sum())
    return {"districts": int(len(frame)), "districts_done": int(len(done)),
            "districts_failed": int(len(frame) - len(done)),
            "participants": part, "participants_any": part_any,
            "share_pct": 100.0 * part_any / part if part > 0 else float("nan"),
            "inhabitants": float(done["inhabitants"].sum())}


def combined_results(cfg: Config, outcomes: Sequence[DistrictOutcome], outlines: Any,
                     sums: dict[str, str], validation: tuple[str, ...]) -> Any:
    """The Results of a run over several Kreise: the table and the layer ``landkreise``."""
    import geopandas as gpd

    from kurszugang.pipeline import _attribution, _parameters, _versions
    from kurszugang.results import Results, RunInfo, build_table

    out = Path(str(cfg.path(cfg.output.dir)))
    frame = _frame(outcomes, out)
    geoms = outlines.geometry.reindex(frame["key"]).to_numpy()
    layer = gpd.GeoDataFrame(frame, geometry=list(geoms), crs=outlines.crs)
    land = cfg.district.land
    info = RunInfo(
        district_key=land, district_name="Bayern" if land == "09" else "mehrere Landkreise",
        school_day=cfg.date("school_day"), holiday=cfg.date("holiday"),
        language=cfg.output.language, threshold_min=cfg.coverage.threshold_min,
        early_arrival_min=cfg.coverage.early_arrival_min, parameters=_parameters(cfg),
        checksums=sums, versions=_versions(),
        inputs={k: Path(str(getattr(cfg.inputs, k))).name for k in
                ("boundaries", "gtfs", "courses", "population", "osm")
                if getattr(cfg.inputs, k)},
        validation=validation, attribution=tuple(_attribution(cfg)),
        headline=_state_headline(frame),
        settings_toml=resolved_toml(cfg, checksums=sums, versions=_versions(), relative_to=out))
    return Results(info, {"landkreise_uebersicht": build_table("landkreise_uebersicht", frame)},
                   {"landkreise": build_table("landkreise", layer)}, {})
