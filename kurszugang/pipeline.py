"""One analysis run from a config: read, route, analyse, write, stage after stage.

``run_analysis(cfg)`` reads every input named in the config, computes coverage at course times on
the school day and the holiday, gaps, class sizes, waiting times, travel-subsidy distances and
catchments, writes tables, a GeoPackage, GeoTIFFs, maps and a summary to the output folder, and
writes the complete resolved config with checksums of the inputs (``einstellungen.toml``) so the
run can be repeated offline with the same numbers.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kurszugang import __version__
from kurszugang.config import Config, resolved_toml, sha256_of
from kurszugang.errors import ConfigError

log = logging.getLogger(__name__)

#: The file names a run writes (German, for district staff), by format.
FILES = {
    "csv": ["gemeinden_kursbesuch.csv", "gemeinden_schultag_ferien.csv", "gemeinden_luecken.csv",
            "kurse_klassengroessen.csv", "gemeinden_wartezeiten.csv", "traeger_kursstart.csv",
            "gemeinden_fahrtkosten.csv", "gemeinden_reisezeiten.csv"],
    "xlsx": ["kurszugang_tabellen.xlsx"],
    "gpkg": ["kurszugang.gpkg"],
    "html": ["karte.html"],
    "png": ["karte.png"],
    "pdf": ["karte.pdf"],
}


@dataclass
class RunResult:
    """What a run computed and wrote."""

    config: Config
    out_dir: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    headline: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    validation: list[str] = field(default_factory=list)


class _Stages:
    """Runs named stages with timing, progress and a log line each."""

    def __init__(self, result: RunResult, progress: bool) -> None:
        self.result = result
        self.progress = progress

    def __call__(self, name: str, fn: Callable[[], Any]) -> Any:
        if self.progress:
            print(f"  … {name}", flush=True)
        t = time.perf_counter()
        out = fn()
        self.result.timings[name] = time.perf_counter() - t
        log.info("%s: %.1f s", name, self.result.timings[name])
        return out


def _required(cfg: Config, key: str) -> Path:
    p = cfg.path(getattr(cfg.inputs, key))
    if p is None:
        raise ConfigError(f"inputs.{key} is empty: name the file", column=f"inputs.{key}")
    if not p.exists():
        raise ConfigError(f"inputs.{key} = {p} does not exist", column=f"inputs.{key}")
    return p


def _checksums(cfg: Config) -> dict[str, str]:
    sums = {}
    for key in ("boundaries", "gtfs", "courses", "population", "osm", "participants_per_gemeinde"):
        p = cfg.path(getattr(cfg.inputs, key))
        if p is not None and p.exists():
            sums[key] = sha256_of(p)
    changed = [k for k, v in cfg.checksums.items() if k in sums and sums[k] != v]
    if changed:
        log.warning("inputs changed since the recorded run (%s): results may differ",
                    ", ".join(changed))
    return sums


def _participants_per_gemeinde(path: Path | None) -> pd.Series | None:
    if path is None:
        return None
    table = pd.read_csv(path, sep=None, engine="python", dtype={"ags": str}, encoding="utf-8-sig")
    table.columns = [c.strip().lower() for c in table.columns]
    if not {"ags", "participants"} <= set(table.columns):
        raise ConfigError("needs columns ags;participants", path=path)
    return table.set_index("ags")["participants"].astype(float)


def run_analysis(cfg: Config, *, progress: bool = True) -> RunResult:
    """Run the whole analysis described by ``cfg`` and write its outputs.

    Parameters
    ----------
    cfg
        The configuration (:func:`kurszugang.config.load_config`).
    progress
        Print each stage as it starts.

    Returns
    -------
    RunResult
        The tables, the files written, headline numbers and timings.

    Raises
    ------
    ConfigError
        For missing inputs or settings; reader errors (:class:`kurszugang.errors.InputError`)
        name the file, row and column.

    Examples
    --------
    >>> from kurszugang.config import load_config
    >>> result = run_analysis(load_config("kurszugang.toml"))  # doctest: +SKIP
    >>> result.headline  # doctest: +SKIP
    """
    from kurszugang.analysis.catchments import isochrones, site_surfaces
    from kurszugang.analysis.coverage import (
        RouterPool,
        compare_days,
        course_access,
        coverage_summary,
        gaps,
    )
    from kurszugang.analysis.demand import class_sizes
    from kurszugang.analysis.grid import analysis_grid
    from kurszugang.analysis.subsidy import subsidy_distances, subsidy_summary
    from kurszugang.analysis.waiting import earliest_starts, providers_by_start
    from kurszugang.io import validate
    from kurszugang.io.boundaries import read_boundaries
    from kurszugang.io.courses import read_courses
    from kurszugang.io.gtfs import read_gtfs
    from kurszugang.io.osm import read_walk_network
    from kurszugang.io.population import read_population_grid

    out = cfg.path(cfg.output.dir)
    assert out is not None
    out.mkdir(parents=True, exist_ok=True)
    result = RunResult(cfg, out)
    stage = _Stages(result, progress)
    school_day, holiday = cfg.date("school_day"), cfg.date("holiday")
    paths = {k: _required(cfg, k) for k in ("boundaries", "gtfs", "courses", "population")}
    osm = cfg.path(cfg.inputs.osm)
    checksums = stage("Prüfsummen der Eingaben", lambda: _checksums(cfg))

    def read_all() -> tuple[Any, ...]:
        layer = cfg.inputs.boundaries_layer or None
        key = cfg.district.key or None
        gem = read_boundaries(paths["boundaries"], kreis=key, layer=layer)
        return (gem, read_gtfs(paths["gtfs"]), read_courses(paths["courses"]),
                read_population_grid(paths["population"]),
                read_walk_network(osm) if osm else None)

    gem, feed, courses, pop, net = stage("Eingaben lesen", read_all)
    result.validation = [f"{p.name}: " + ("ok" if validate(p).ok else "Fehler")
                         for p in [*paths.values(), *([osm] if osm else [])]]
    g = cfg.grid
    per_gem = _participants_per_gemeinde(cfg.path(cfg.inputs.participants_per_gemeinde))

    def grids() -> tuple[Any, Any]:
        kw = dict(resolution_m=g.resolution_m, buffer_m=g.buffer_m,
                  participant_source=g.participant_source, participants_per_gemeinde=per_gem,
                  participant_factor=g.participant_factor)
        full = analysis_grid(gem, pop, **kw)  # type: ignore[arg-type]
        return full, full[full["inhabitants"] > 0].reset_index(drop=True)

    full, cells = stage("Analyseraster", grids)
    r = cfg.routing
    pool = RouterPool(feed, net, walk_speed_kmh=r.walk_speed_kmh, max_walk_m=r.max_walk_m,
                      detour_factor=r.detour_factor, max_snap_m=r.max_snap_m,
                      board_slack_s=r.board_slack_s, max_rides=r.max_rides)
    c = cfg.coverage
    kw = dict(threshold_min=c.threshold_min, early_arrival_min=c.early_arrival_min,
              max_threshold_min=max(c.thresholds_min))
    school = stage(f"Kursbesuch am Schultag {school_day}",
                   lambda: course_access(pool, cells, courses, school_day, **kw))  # type: ignore[arg-type]
    hol = stage(f"Kursbesuch am Ferientag {holiday}",
                lambda: course_access(pool, cells, courses, holiday, **kw))  # type: ignore[arg-type]

    def analyse() -> dict[str, pd.DataFrame]:
        sizes = class_sizes(school, min_class_size=c.min_class_size, thresholds=c.thresholds_min)
        dist = subsidy_distances(cells, courses.sites, walk_network=net,
                                 distance_km=cfg.subsidy.distance_km,
                                 detour_factor=r.detour_factor, max_snap_m=r.max_snap_m)
        return {
            "kursbesuch": coverage_summary(school),
            "kursbesuch_vg": coverage_summary(school, by="vg"),
            "kursbesuch_kreis": coverage_summary(school, by="district"),
            "schultag_ferien": compare_days(school, hol),
            "luecken": gaps(school),
            "klassengroessen": sizes,
            "wartezeiten": earliest_starts(school),
            "traeger": providers_by_start(courses),
            "fahrtkosten": subsidy_summary(dist, by="ags",
                                           distances_km=sorted({cfg.subsidy.distance_km, 3.0, 5.0},
                                                               reverse=True)),
            "reisezeiten": _travel_times_to_nearest_site(cfg, pool.get(school_day), cells,
                                                         courses),
        }

    result.tables = stage("Auswertungen", analyse)

    def catchments() -> tuple[dict[str, Any], Any]:
        router = pool.get(school_day)
        area = full
        if net is not None:  # surfaces cover the cells a footway reaches (fields and forests not)
            snap = router.walking.snap(full[["x_utm", "y_utm"]].to_numpy(float))  # type: ignore[union-attr]
            area = full[snap.ok].reset_index(drop=True)
            log.info("surfaces: %d of %d cells within %g m of a footway", len(area), len(full),
                     r.max_snap_m)
        surfaces = site_surfaces(router, area, courses.sites,
                                 arrive_by=cfg.catchments.arrive_by,
                                 max_time_min=max(cfg.catchments.thresholds_min))
        bands = [isochrones(s, cfg.catchments.thresholds_min) for s in surfaces.values()]
        iso = pd.concat(bands, ignore_index=True) if bands else None
        return surfaces, iso

    surfaces, iso = stage("Einzugsbereiche", catchments)
    stage("Ausgaben schreiben", lambda: _write_outputs(
        cfg, result, school=school, gemeinden=gem, courses=courses, feed=feed,
        surfaces=surfaces, iso=iso))
    k = result.tables["kursbesuch_kreis"].iloc[0] if len(result.tables["kursbesuch_kreis"]) else None
    result.headline = {
        "inhabitants": float(k["inhabitants"]) if k is not None else 0.0,
        "participants": float(k["participants"]) if k is not None else 0.0,
        "participants_any": float(k["part_any"]) if k is not None else 0.0,
        "gemeinden_without_course": int((result.tables["kursbesuch"]["inh_any"] <= 0).sum()),
        "gemeinden_without_childcare": int(result.tables["luecken"]["no_childcare"].sum()),
        "courses_below_minimum": int((~result.tables["klassengroessen"][
            f"feasible_{c.threshold_min:g}"]).sum())
        if f"feasible_{c.threshold_min:g}" in result.tables["klassengroessen"] else 0,
    }
    if "summary" in cfg.output.formats:
        stage("Zusammenfassung", lambda: _write_summary(cfg, result, checksums))
    text = resolved_toml(cfg, checksums=checksums, versions=_versions())
    settings = out / "einstellungen.toml"
    settings.write_text(text, encoding="utf-8")
    result.files.append(settings)
    return result


def _travel_times_to_nearest_site(cfg: Config, router: Any, cells: Any,
                                  courses: Any) -> pd.DataFrame:
    """Per Gemeinde: travel time to the nearest course site over the departure window.

    For every populated cell, the nearest site by each configured percentile of the travel time
    over ``routing.departure`` + ``routing.window_min`` (whatever the course times); per Gemeinde
    the inhabitants-weighted median of the cells' p50 and the share of inhabitants whose p50 is
    within ``coverage.threshold_min``.
    """
    from kurszugang.analysis.nearest import nearest_site_minutes, weighted_median_by
    from kurszugang.routing.router import Points

    r = cfg.routing
    homes = Points(cells["cell_id"].astype(str).to_numpy(dtype=object),
                   cells[["x_utm", "y_utm"]].to_numpy(np.float64))
    sites = Points(courses.sites["site_id"].astype(str).to_numpy(dtype=object),
                   np.column_stack([courses.sites.geometry.x, courses.sites.geometry.y]))
    best = nearest_site_minutes(router, homes, sites, departure=r.departure, window=r.window_min,
                                max_time_min=max(cfg.coverage.thresholds_min) * 2)
    inside = cells["ags"].notna().to_numpy()
    ags = cells["ags"].astype("string").to_numpy()[inside]
    inh = cells["inhabitants"].to_numpy(float)[inside]
    best = best[inside]
    within = np.nan_to_num(best, nan=np.inf) <= cfg.coverage.threshold_min
    median = weighted_median_by(ags, best, inh)
    rows = pd.DataFrame({"ags": ags, "inh": inh, "within": inh * within}).groupby(
        "ags", sort=True).sum()
    out = pd.DataFrame({
        "ags": rows.index.to_numpy(),
        "inhabitants": rows["inh"].to_numpy(),
        f"inh_within_{cfg.coverage.threshold_min:g}_min": rows["within"].to_numpy(),
        "median_p50_min": median.reindex(rows.index).to_numpy(dtype=float),
    })
    out["median_p50_min"] = out["median_p50_min"].replace(np.inf, np.nan)
    names = cells.dropna(subset=["ags"]).drop_duplicates("ags").set_index("ags")["gen"]
    out.insert(1, "gen", out["ags"].map(names))
    return out


def _write_summary(cfg: Config, result: RunResult, checksums: dict[str, str]) -> None:
    from kurszugang.output.summary import summary_blocks, write_summary

    t = result.tables
    district = cfg.district.name or f"Kreis {cfg.district.key}"
    blocks = summary_blocks(
        district=district, school_day=cfg.date("school_day"), holiday=cfg.date("holiday"),
        district_row=t["kursbesuch_kreis"].iloc[0], compare=t["schultag_ferien"],
        gaps=t["luecken"], sizes=t["klassengroessen"], threshold_min=cfg.coverage.threshold_min,
        early_arrival_min=cfg.coverage.early_arrival_min,
        parameters={k: v for k, v in _parameters(cfg).items()
                    if not k.startswith(("inputs.", "output."))},
        checksums=checksums,
        files=[str(f.relative_to(result.out_dir)) for f in result.files])
    result.files.extend(write_summary(blocks, f"Erreichbarkeit der Integrationskurse – {district}",
                                      result.out_dir))


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"kurszugang": __version__}
    for pkg in ("numpy", "pandas", "geopandas", "shapely", "pyproj", "numba", "scipy"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:  # pragma: no cover - always installed
            pass
    return out


def _write_outputs(cfg: Config, result: RunResult, *, school: Any, gemeinden: Any,
                   courses: Any, feed: Any, surfaces: dict[str, Any], iso: Any) -> None:
    from kurszugang.output.tables import german_columns, write_csv, write_xlsx

    out = result.out_dir
    formats = set(cfg.output.formats)
    lang = cfg.output.language
    suppress = cfg.output.suppress_below or None
    t = result.tables
    labelled = {
        "kursbesuch": german_columns(t["kursbesuch"], "coverage_summary", language=lang),
        "schultag_ferien": german_columns(t["schultag_ferien"], "compare_days", language=lang),
        "luecken": german_columns(t["luecken"], "gaps", language=lang),
        "klassengroessen": german_columns(t["klassengroessen"], "class_sizes", language=lang),
        "wartezeiten": t["wartezeiten"],
        "traeger": t["traeger"],
        "fahrtkosten": t["fahrtkosten"],
        "reisezeiten": t["reisezeiten"].rename(columns={
            "ags": "AGS", "gen": "Name", "inhabitants": "Einwohner",
            f"inh_within_{cfg.coverage.threshold_min:g}_min":
                f"Einwohner mit Kursort in {cfg.coverage.threshold_min:g} min "
                f"(Median {cfg.routing.departure}, {cfg.routing.window_min} min)",
            "median_p50_min": "Reisezeit zum nächsten Kursort, Median der Einwohner (min)",
        }) if lang == "de" else t["reisezeiten"],
    }
    if "csv" in formats:
        for (_key, table), name in zip(labelled.items(), FILES["csv"], strict=True):
            result.files.append(write_csv(table, out / name, suppress_below=suppress, decimals=1))
    if "xlsx" in formats:
        sheets = {"Kursbesuch": labelled["kursbesuch"], "Schultag-Ferien": labelled["schultag_ferien"],
                  "Lücken": labelled["luecken"], "Klassengrößen": labelled["klassengroessen"],
                  "Wartezeiten": labelled["wartezeiten"], "Träger": labelled["traeger"],
                  "Fahrtkosten": labelled["fahrtkosten"], "Reisezeiten": labelled["reisezeiten"]}
        result.files.append(write_xlsx(sheets, out / FILES["xlsx"][0], parameters=_parameters(cfg),
                                       suppress_below=suppress, language=lang))
    if "gpkg" in formats:
        from kurszugang.output.geopackage import result_layers, write_geopackage

        layers = result_layers(school, gemeinden, courses=courses, catchments=iso, stops=feed,
                               threshold_min=cfg.coverage.threshold_min,
                               catchment_thresholds=cfg.catchments.thresholds_min)
        result.files.append(write_geopackage(out / FILES["gpkg"][0], layers, language=lang))
    if "geotiff" in formats and surfaces:
        from kurszugang.output.geopackage import write_surfaces

        result.files.extend(write_surfaces(surfaces, out / "reisezeitflaechen"))
    if {"html", "png", "pdf"} & formats:
        _write_maps(cfg, result, school=school, gemeinden=gemeinden, courses=courses, feed=feed,
                    surfaces=surfaces, iso=iso)


def _write_maps(cfg: Config, result: RunResult, *, school: Any, gemeinden: Any, courses: Any,
                feed: Any, surfaces: dict[str, Any], iso: Any) -> None:
    """The web map (HTML, works offline) and the static maps for reports (PNG, PDF)."""
    import shapely

    from kurszugang.analysis.coverage import coverage_summary
    from kurszugang.output.figures import static_map
    from kurszugang.output.webmap import (
        build_webmap,
        stop_departures,
        travel_time_to_nearest,
        write_webmap,
    )

    formats = set(cfg.output.formats)
    lang = cfg.output.language
    coverage = coverage_summary(school).merge(travel_time_to_nearest(school), on="ags", how="left")
    name = cfg.district.name or "Landkreis"
    kreis = gemeinden.iloc[:1][["geometry"]].copy()
    kreis["geometry"] = [shapely.union_all(np.asarray(gemeinden.geometry.values))]
    kreis["gen"] = name
    c, r = cfg.coverage, cfg.routing
    parameters = {
        "Höchstdauer je Weg": f"{c.threshold_min:g} min",
        "Ankunft frühestens": f"{c.early_arrival_min:g} min vor Kursbeginn",
        "Ferientag zum Vergleich": cfg.dates.holiday,
        "Fußwege": (f"{r.walk_speed_kmh:g} km/h, höchstens {r.max_walk_m:g} m".replace(".", ",")
                    + (" auf OSM-Wegen" if cfg.inputs.osm
                       else f", Luftlinie × {r.detour_factor:g}".replace(".", ","))),
        "Umsteigezeit": f"{r.board_slack_s} s",
        "Potenzielle Teilnehmende": (
            {"foreigners": "Ausländer im Zensus-Raster", "gemeinde": "Zahlen je Gemeinde",
             "both": "Zahlen je Gemeinde, verteilt nach Ausländern im Raster"}[
                cfg.grid.participant_source] + f" × {cfg.grid.participant_factor:g}".replace(".", ",")),
    }
    attribution = _attribution(cfg)
    if "html" in formats:
        m = build_webmap(gemeinden=gemeinden, kreis=kreis, courses=courses, coverage=coverage,
                         analysis_date=school.date, parameters=parameters, isochrones=iso,
                         surface=surfaces or None, stops=stop_departures(feed, school.date),
                         language=lang, attribution=attribution)
        result.files.append(write_webmap(m, result.out_dir / FILES["html"][0]))
    for fmt in ("png", "pdf"):
        if fmt in formats:
            result.files.append(static_map(
                gemeinden=gemeinden, kreis=kreis, courses=courses, coverage=coverage,
                path=result.out_dir / FILES[fmt][0], analysis_date=school.date, format=fmt,
                parameters=parameters, attribution=attribution, language=lang, title=name))


def _attribution(cfg: Config) -> list[str]:
    """Credits for the map: the demo's, or generic ones naming the user's data sources."""
    from kurszugang.output.webmap import DEMO_ATTRIBUTION

    if cfg.district.key == "09999":
        return list(DEMO_ATTRIBUTION)
    return ["Verwaltungsgrenzen: © GeoBasis-DE / BKG (dl-de/by-2-0)",
            "Zensus: © Statistische Ämter des Bundes und der Länder (dl-de/by-2-0)",
            f"Fahrplan: {Path(cfg.inputs.gtfs).name}", f"Kursorte: {Path(cfg.inputs.courses).name}"]


def _parameters(cfg: Config) -> dict[str, object]:
    d = cfg.to_dict()
    flat: dict[str, object] = {}
    for section, values in d.items():
        for key, value in values.items():
            flat[f"{section}.{key}"] = ", ".join(map(str, value)) if isinstance(
                value, list | tuple) else (str(value) if isinstance(value, dict) else value)
    flat["kurszugang"] = __version__
    flat["erstellt"] = dt.date.today().isoformat()
    return flat


def demo_config(out_dir: str | Path) -> Config:
    """The configuration of the bundled demo district (fictional Landkreis Beispiel)."""
    from kurszugang.config import Coverage, Dates, District, Grid, Inputs, Output
    from kurszugang.demo import DISTRICT_AGS, HOLIDAY_WEEKDAY, SCHOOL_DAY, demo_files

    f = demo_files()
    return Config(
        district=District(key=DISTRICT_AGS, name="Landkreis Beispiel (fiktiv)"),
        inputs=Inputs(boundaries=str(f.boundaries), boundaries_layer="vg250_gem", gtfs=str(f.gtfs),
                      courses=str(f.courses), population=str(f.population), osm=str(f.osm)),
        dates=Dates(school_day=SCHOOL_DAY.isoformat(), holiday=HOLIDAY_WEEKDAY.isoformat()),
        grid=Grid(participant_factor=0.05),
        coverage=Coverage(),
        output=Output(dir=str(Path(out_dir).resolve())),
    )


def headline_text(result: RunResult) -> str:
    """A few lines for the end of a run (German)."""
    h = result.headline
    share = 100 * h["participants_any"] / h["participants"] if h.get("participants") else np.nan
    return (f"  {h['participants_any']:.0f} von {h['participants']:.0f} potenziellen "
            f"Teilnehmenden ({share:.0f} %) erreichen mindestens einen Kurs zu seinen Zeiten "
            f"(je Weg höchstens {result.config.coverage.threshold_min:g} min); "
            f"{h['gemeinden_without_course']} Gemeinden ohne erreichbaren Kurs, "
            f"{h['gemeinden_without_childcare']} ohne Kinderbetreuung in Reichweite; "
            f"{h['courses_below_minimum']} Kurse unter der Mindestgröße.")
