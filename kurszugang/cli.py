"""The ``kurszugang`` command line.

User errors (anything of :class:`kurszugang.errors.KurszugangError`) are printed in one or two
lines without a traceback and end the program with exit code 2; ``validate`` exits 1 when it
finds errors in the data and 0 otherwise. ``--verbose`` shows log messages and, on an error, the
traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from kurszugang import __version__
from kurszugang.crs import ANALYSIS_CRS, WEB_CRS
from kurszugang.errors import KurszugangError

EXIT_OK = 0
EXIT_DATA_ERRORS = 1
EXIT_USER_ERROR = 2

log = logging.getLogger("kurszugang")


def _cmd_validate(args: argparse.Namespace) -> int:
    from kurszugang.io import validate

    worst = EXIT_OK
    for i, path in enumerate(args.paths):
        if i:
            print()
        try:
            report = validate(path, kind=args.kind, strict=args.strict)
        except KurszugangError as exc:  # the path as typed, once
            row = getattr(exc, "row", None)
            message = getattr(exc, "message", None)
            print(f"{path}: {message}" if message and row is None and
                  getattr(exc, "column", None) is None else f"{path}: {exc}")
            worst = EXIT_DATA_ERRORS
            continue
        print(report.format(max_per_code=args.max_examples))
        if not report.ok:
            worst = EXIT_DATA_ERRORS
    return worst


def _add_validate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help="Eingabedateien prüfen: was gelesen wurde, Fehler und Warnungen",
        description=(
            "Prüft jede Eingabe, die kurszugang liest (GTFS-Fahrplan, Gemeindegrenzen, Kursliste, "
            "OSM-Auszug, Zensus-Raster), und zeigt, was gefunden wurde. Exit-Code 1 bei Fehlern, "
            "sonst 0."
        ),
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="Dateien oder GTFS-Ordner")
    p.add_argument(
        "--kind",
        choices=["gtfs", "boundaries", "courses", "osm", "population"],
        help="Art der Eingabe (ohne Angabe aus dem Inhalt erkannt)",
    )
    p.add_argument(
        "--strict", action="store_true",
        help="Fahrplan streng prüfen (für Herausgeber): jeder Datensatz, den die Auswertung "
             "überspringt, ist ein Fehler")
    p.add_argument(
        "--max-examples", type=int, default=5, metavar="N",
        help="Beispiele je Art von Problem (Voreinstellung: 5)",
    )
    p.set_defaults(func=_cmd_validate)


def _default(section: str, key: str) -> object:
    """A setting's declared default (kurszugang.config), for the options of the commands."""
    from kurszugang.config import SECTIONS

    return getattr(SECTIONS[section](), key)


def _parse_date_arg(text: str) -> dt.date:
    from kurszugang.dates import parse_date

    try:
        return parse_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parse_percentiles(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        values = ()
    if not values or any(v < 1 or v > 100 for v in values):
        raise argparse.ArgumentTypeError(
            f"{text!r} ist keine Liste von Perzentilen (erwartet ganze Zahlen von 1 bis 100, "
            f"z. B. 5,50,95)")
    return values


def _cmd_matrix(args: argparse.Namespace) -> int:
    from kurszugang.io.gtfs import read_gtfs
    from kurszugang.io.points import read_points_csv
    from kurszugang.routing.router import Router

    origins = read_points_csv(args.origins)
    destinations = read_points_csv(args.destinations)
    feed = read_gtfs(args.gtfs, dates=[args.date])
    network = None
    if args.osm:
        from kurszugang.io.osm import read_walk_network

        network = read_walk_network(args.osm)
    router = Router(
        feed, args.date, walk_network=network, walk_speed_kmh=args.walk_speed,
        max_walk_m=args.max_walk_m, max_direct_walk_m=args.max_direct_walk_m,
        detour_factor=args.detour_factor, board_slack_s=args.board_slack,
        max_rides=args.max_rides,
    )
    if router.timetable.n_trips == 0:  # walks only: most likely the wrong date for a matrix
        from kurszugang.errors import ServiceDateError
        from kurszugang.routing.timetable import _WEEKDAYS

        first, last = feed.service_period()
        raise ServiceDateError(
            f"am {args.date.isoformat()} ({_WEEKDAYS[args.date.weekday()]}) fährt keine Fahrt, "
            f"obwohl der Tag im Gültigkeitszeitraum {first.isoformat()} bis {last.isoformat()} "
            "liegt: die Matrix enthielte nur Fußwege; einen Tag mit Fahrten wählen",
            path=feed.source)
    result = router.travel_times(
        origins, destinations, departure=args.departure, window=args.window,
        percentiles=args.percentiles, max_time_min=args.max_time, progress=not args.quiet,
    )
    table = result.to_frame()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    if not args.quiet:
        col = f"travel_time_p{args.percentiles[len(args.percentiles) // 2]}"
        reached = int(table[col].notna().sum())
        print(f"wrote {args.out}: {len(table):,} pairs ({len(origins):,} origins × "
              f"{len(destinations):,} destinations), {reached:,} reachable within "
              f"{args.max_time:g} min ({col})")
    return EXIT_OK


def _add_matrix(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "matrix",
        help="Reisezeitmatrix zwischen Orten über ein Abfahrtsfenster",
        description=(
            "Fahrplangenaue Reisezeiten mit Bus, Bahn und zu Fuß von jedem Start zu jedem Ziel, "
            "für jede Abfahrtsminute eines Fensters, zusammengefasst als Perzentile (nächster "
            "Rang) in ganzen Minuten (leer, wo innerhalb von --max-time nicht erreichbar). "
            "Bedeutung: docs/benutzerhandbuch/reisezeiten.md."
        ),
    )
    p.add_argument("--gtfs", required=True, type=Path, metavar="FEED", help="GTFS-Zip oder -Ordner")
    p.add_argument("--date", required=True, type=_parse_date_arg, metavar="JJJJ-MM-TT",
                   help="Verkehrstag (JJJJ-MM-TT oder TT.MM.JJJJ)")
    p.add_argument("--departure", required=True, metavar="HH:MM", help="erste Abfahrtsminute")
    p.add_argument("--window", type=int, default=60, metavar="MINUTEN",
                   help="Zahl der Abfahrtsminuten (Voreinstellung: 60)")
    p.add_argument("--origins", required=True, type=Path, metavar="STARTS.csv",
                   help="CSV mit den Spalten id,lon,lat (WGS84)")
    p.add_argument("--destinations", required=True, type=Path, metavar="ZIELE.csv",
                   help="CSV mit den Spalten id,lon,lat (WGS84)")
    p.add_argument("--out", required=True, type=Path, metavar="MATRIX.csv", help="die CSV-Datei, die geschrieben wird")
    p.add_argument("--osm", type=Path, metavar="OSMDATEI",
                   help="OSM-Auszug (.osm, .osm.gz, .osm.bz2, .osm.pbf) für Fußwege auf dem "
                        "Wegenetz; ohne ihn Luftlinie × --detour-factor")
    p.add_argument("--walk-speed", type=float, default=4.5, metavar="KMH",
                   help="Gehgeschwindigkeit in km/h (Voreinstellung: 4,5)")
    p.add_argument("--max-walk-m", type=float, default=1000.0, metavar="METER",
                   help="längster Fußweg zur, zwischen und ab Haltestellen in Metern "
                        "(Voreinstellung: 1000)")
    p.add_argument("--max-direct-walk-m", type=float, default=None, metavar="METER",
                   help="längster Fußweg vom Start direkt zum Ziel ohne Fahrzeug, in Metern "
                        "(Voreinstellung: wie --max-walk-m)")
    p.add_argument("--detour-factor", type=float, default=1.3, metavar="F",
                   help="Fußweg / Luftlinie ohne --osm, mit --osm für Orte mehr als 500 m "
                        "neben dem Wegenetz (Voreinstellung: 1,3)")
    p.add_argument("--board-slack", type=int, default=60, metavar="SEKUNDEN",
                   help="Sekunden zwischen Ankunft an der Haltestelle und Einsteigen "
                        "(Voreinstellung: 60)")
    p.add_argument("--max-time", type=float, default=120.0, metavar="MINUTEN",
                   help="längere Reisen zählen als nicht erreichbar (Voreinstellung: 120)")
    p.add_argument("--max-rides", type=int, default=5, metavar="N",
                   help="höchstens so viele Fahrzeuge je Reise (Voreinstellung: 5)")
    p.add_argument("--percentiles", type=_parse_percentiles, default=(50,), metavar="5,50,95",
                   help="Perzentile der Reisezeit über das Fenster (Voreinstellung: 50)")
    p.set_defaults(func=_cmd_matrix)


def _add_demo(sub: argparse._SubParsersAction) -> None:
    def run(args: argparse.Namespace) -> int:
        from kurszugang.demo.run import run_demo

        run_demo(args.out, quiet=args.quiet)
        return EXIT_OK

    p = sub.add_parser(
        "demo",
        help="die ganze Auswertung für den mitgelieferten, erfundenen Beispiel-Landkreis",
        description=(
            "Die ganze Auswertung (wie kurszugang run) für den mitgelieferten Landkreis "
            "Beispiel (fiktiv), ohne Netzzugang; zeigt am Ende die geschriebenen Dateien."
        ),
    )
    p.add_argument(
        "--out", type=Path, default=Path("data") / "processed" / "demo", metavar="DIR",
        help="Ausgabeordner (Voreinstellung: data/processed/demo im aktuellen Ordner)",
    )
    p.set_defaults(func=run)


def _add_extract(sub: argparse._SubParsersAction) -> None:
    def run(args: argparse.Namespace) -> int:
        from kurszugang.errors import InputError
        from kurszugang.io.extract import extract_feed, parse_bbox, read_area

        if args.kreis is not None and args.boundaries is None:
            raise InputError("--kreis braucht --boundaries FILE (z. B. die VG250-Gemeinden)")
        if args.boundaries is not None and args.kreis is None:
            raise InputError("--boundaries gilt nur zusammen mit --kreis KEY")
        bbox = parse_bbox(args.bbox) if args.bbox is not None else None
        area = None
        if args.area is not None:
            area = read_area(args.area)
        elif args.kreis is not None:
            area = read_area(args.boundaries, kreis=args.kreis)
        summary = extract_feed(
            args.feed, args.out, area=area, bbox=bbox, buffer_km=args.buffer_km,
            start_date=args.start_date, end_date=args.end_date, progress=not args.quiet,
        )
        if not args.quiet:
            print(summary.format())
        return EXIT_OK

    p = sub.add_parser(
        "extract",
        help="einen Landkreis mit Puffer (und Zeitraum) aus einem großen GTFS-Fahrplan schneiden",
        description=(
            "Schreibt die Fahrten, die in einem Gebiet (mit Puffer) halten, mit allen ihren "
            "Haltestellen, Linien, Verkehrstagen und Linienverläufen als kleineres GTFS-Zip; "
            "liest den Fahrplan in Blöcken (auch DELFI für ganz Deutschland). Einzelheiten: "
            "docs/extract.md."
        ),
    )
    p.add_argument("feed", type=Path, metavar="FEED", help="GTFS-Zip oder -Ordner")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--bbox", metavar="MINLON,MINLAT,MAXLON,MAXLAT",
                       help="das Gebiet als Rechteck in Grad (WGS84), z. B. 11.9,47.6,12.6,48.1 "
                            "(für negative Längen --bbox=-1,...)")
    where.add_argument("--area", type=Path, metavar="POLYGON_FILE",
                       help="das Gebiet als Flächen einer Datei mit Koordinatensystem "
                            "(GeoJSON, GPKG, SHP)")
    where.add_argument("--kreis", metavar="KEY",
                       help="das Gebiet als Kreis: Schlüssel aus 5 Ziffern, z. B. 09187 (mit "
                            "--boundaries)")
    p.add_argument("--boundaries", type=Path, metavar="FILE",
                   help="Grenzdaten mit den Gemeinden für --kreis (z. B. VG250_GEM.shp)")
    p.add_argument("--buffer-km", type=float, default=30.0, metavar="KM",
                   help="Haltestellen so nah am Gebiet zählen dazu (Voreinstellung: 30)")
    p.add_argument("--start-date", type=_parse_date_arg, metavar="DATUM",
                   help="nur Fahrten ab diesem Tag (JJJJ-MM-TT oder TT.MM.JJJJ)")
    p.add_argument("--end-date", type=_parse_date_arg, metavar="DATUM",
                   help="nur Fahrten bis zu diesem Tag")
    p.add_argument("--out", required=True, type=Path, metavar="OUT.zip",
                   help="das GTFS-Zip, das geschrieben wird")
    p.set_defaults(func=run)


def _add_download(sub: argparse._SubParsersAction) -> None:
    def fetch(args: argparse.Namespace) -> int:
        from kurszugang.io._report import german_number
        from kurszugang.io.download import SOURCES, download, format_catalogue

        if args.list:
            print(format_catalogue())
            return EXIT_OK
        if args.source is None:
            raise KurszugangError(
                "Quelle angeben oder --list; bekannte Quellen: "
                + ", ".join(s.key + (":REGION" if s.needs_region else "")
                            for s in SOURCES.values()))
        result = download(
            args.source, out_dir=args.out, region=args.region, base_url=args.base_url,
            expected_sha256=args.sha256, progress=not args.quiet,
        )
        if not args.quiet:
            how = (" (schon vorhanden, Prüfsumme stimmt)" if result.reused
                   else " (fortgesetzt)" if result.resumed else "")
            print(f"geschrieben: {result.path}: {german_number(result.bytes)} Bytes, "
                  f"SHA-256 {result.sha256}{how}")
        return EXIT_OK

    def run(args: argparse.Namespace) -> int:
        # A failed download is one German line (offline: the address to fetch by hand and the
        # folder to put the file in), without a traceback unless --verbose.
        try:
            return fetch(args)
        except KurszugangError as exc:
            if args.verbose:
                raise
            print(f"kurszugang: Fehler: {exc}", file=sys.stderr)
            return EXIT_USER_ERROR

    p = sub.add_parser(
        "download",
        help="amtliche Daten (VG250, Zensus-Raster, DELFI-GTFS, OSM-Auszüge) nach data/raw laden",
        description=(
            "Eine amtliche offene Datenquelle herunterladen, mit Fortschritt, Fortsetzen nach "
            "einer Unterbrechung und Prüfsumme; neben die Datei kommen DATEI.sha256 und "
            "DATEI.download.json (Quelle, Adresse, Datum, Größe). Quellen und Lizenzen: "
            "kurszugang download --list und docs/downloads.md."
        ),
    )
    p.add_argument("source", nargs="?", metavar="QUELLE",
                   help="eine Quelle aus --list, z. B. vg250 oder geofabrik:oberbayern")
    p.add_argument("--list", action="store_true",
                   help="die Quellen mit Adresse, amtlicher Seite und Lizenz zeigen und enden")
    p.add_argument("--region", metavar="NAME",
                   help="Geofabrik-Region (wie geofabrik:NAME), z. B. oberbayern")
    p.add_argument("--out", type=Path, default=Path("data") / "raw", metavar="DIR",
                   help="Zielordner (Voreinstellung: data/raw im aktuellen Ordner)")
    p.add_argument("--base-url", metavar="URL",
                   help="stattdessen von dieser Ordneradresse laden (Spiegel, älterer Jahrgang, "
                        "lokaler Server); die Datei behält ihren amtlichen Namen")
    p.add_argument("--sha256", metavar="HEX",
                   help="die SHA-256-Prüfsumme, die die Datei haben muss (64 Hexadezimalziffern)")
    p.set_defaults(func=run)


def _cmd_run(args: argparse.Namespace) -> int:
    from kurszugang.config import load_config
    from kurszugang.output.summary import headline_text
    from kurszugang.pipeline import run_analysis

    configs = [load_config(c) for c in args.config]
    if args.out is not None and len(configs) > 1:
        from kurszugang.errors import ConfigError

        raise ConfigError("--out gilt für eine Einstellungsdatei; mehrere Landkreise "
                          "brauchen je ihr output.dir")
    configs = [_with_output_options(c, args) for c in configs]
    if len(configs) == 1 and configs[0].district.keys:
        return _run_several(configs[0], args)
    if len(configs) > 1 or args.scheduler or args.distributed:
        from kurszugang.distributed import run_districts

        results = run_districts(configs, scheduler=args.scheduler, n_workers=args.workers)
        for path, r in zip(args.config, results, strict=True):
            if r.ok:
                if not args.quiet:
                    print(f"{path}: {len(r.files)} Dateien in {r.out_dir}")
            else:
                print(f"{path}: Fehler: {r.error}", file=sys.stderr)
        return EXIT_OK if all(r.ok for r in results) else EXIT_DATA_ERRORS
    cfg = configs[0]
    if not args.quiet:
        print(f"kurszugang run {args.config[0]}")
    result = run_analysis(cfg, progress=not args.quiet)
    if not args.quiet:
        print(headline_text(result.results))
        print(f"  {len(result.files)} Dateien in {result.out_dir}:")
        for f in result.files:
            print(f"    {f.relative_to(result.out_dir)}")
    return EXIT_OK


def _run_several(cfg: Any, args: argparse.Namespace) -> int:
    """``[district] keys``: every Kreis with the statewide inputs, then the overview."""
    from kurszugang.state import run_state
    from kurszugang.words import plural

    if not args.quiet:
        print(f"kurszugang run {args.config[0]}")
    res = run_state(cfg, scheduler=args.scheduler, n_workers=args.workers,
                    memory_limit=args.worker_memory, progress=not args.quiet)
    n, failed = len(res.outcomes), res.failed
    for o in failed:
        print(f"  {o.key} {o.name}: Fehler: {o.error}", file=sys.stderr)
    if not args.quiet:
        share = res.results.info.headline.get("share_pct")
        print(f"  {n - len(failed)} von {plural(n, 'Kreis', 'Kreisen')} gerechnet"
              + (f"; zusammen {share:.0f} % mit besuchbarem Kurs".replace(".", ",")
                 if share == share else ""))
        print(f"  Übersicht: {len(res.files)} Dateien in {res.out_dir}, je Kreis ein Ordner")
    return EXIT_OK if not failed else EXIT_DATA_ERRORS


def _with_output_options(cfg: Any, args: argparse.Namespace) -> Any:
    """The config with the command line's --out and --language over its [output]."""
    import dataclasses

    changes: dict[str, str] = {}
    if args.out is not None:
        changes["dir"] = str(args.out.resolve())
    if args.language is not None:
        changes["language"] = args.language
    if not changes:
        return cfg
    return dataclasses.replace(cfg, output=dataclasses.replace(cfg.output, **changes))


_LANGUAGE_HELP = "Sprache der Tabellen und Karten (statt output.language; Voreinstellung: de)"


def _add_language(p: argparse.ArgumentParser, text: str = _LANGUAGE_HELP) -> None:
    p.add_argument("--language", choices=("de", "en"), metavar="de|en", help=text)


def _cmd_plan(args: argparse.Namespace) -> int:
    from kurszugang.config import load_config
    from kurszugang.output.summary import plan_lines
    from kurszugang.pipeline import run_analysis

    cfg = _with_output_options(load_config(args.config), args)
    result = run_analysis(cfg, progress=not args.quiet, plan=True)
    if not args.quiet:
        print("\n".join(plan_lines(result.results)))
        plan = [f for f in result.files if f.parent.name == "plan"]
        print(f"  {len(plan)} Dateien der Planung in {result.out_dir / 'plan'}, "
              f"{len(result.files)} Dateien in {result.out_dir}")
    return EXIT_OK


def _add_plan(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "plan",
        help="planen, wo, wann und wie bald Kurse die meisten erreichen",
        description=(
            "Planung nach einer Einstellungsdatei ([plan]): wo ein Kursformat die meisten "
            "potenziellen Teilnehmenden erreicht (k = 1 bis plan.k_max Standorte, jeder mit der "
            "Mindestgröße, exakt gelöst), zu welcher Beginnzeit, und wie lange eine Klasse bis "
            "zum Start wartet; dazu die ganze Auswertung wie kurszugang run. Tabellen in "
            "OUTDIR/plan/, Vorschläge in Karte und GeoPackage, Abschnitt Planung in der "
            "Zusammenfassung."),
    )
    p.add_argument("config", type=Path, metavar="CONFIG", help="die Einstellungsdatei (TOML)")
    p.add_argument("--out", type=Path, metavar="DIR", help="Ausgabeordner (statt output.dir)")
    _add_language(p)
    p.set_defaults(func=_cmd_plan)


def _cmd_compare(args: argparse.Namespace) -> int:
    from kurszugang.analysis.compare import compare_results
    from kurszugang.output.figures import render_difference_map
    from kurszugang.output.tables import write_csv
    from kurszugang.results import Results

    result = compare_results(Results.load(args.a), Results.load(args.b))
    out: Path = args.out if args.out is not None else args.b / "vergleich"
    out.mkdir(parents=True, exist_ok=True)
    files = [write_csv(t, out / f"{t.spec.file}.csv", language=result.info.language, decimals=1)
             for t in result.tables.values()]
    files.append(render_difference_map(result, out / "vergleich_karte.png"))
    if not args.quiet:
        fmt = result.table("vergleich_formate")
        total = fmt[fmt["kind"] == "alle Kurse"].iloc[0]
        print(f"Mit besuchbarem Kurs: A {total['part_a']:,.0f}, B {total['part_b']:,.0f} "
              f"potenzielle Teilnehmende ({total['part_diff']:+,.0f})".replace(",", "."))
        print("geschrieben: " + ", ".join(str(f) for f in files))
    return EXIT_OK


def _add_compare(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare", help="zwei Läufe vergleichen: Unterschiede je Gemeinde und Kursformat",
        description=("Zwei Läufe vergleichen (z. B. heute und ein Szenario): Unterschiede je "
                     "Gemeinde und je Kursart, Zeitform und Kinderbetreuung (B minus A) als "
                     "Tabellen und als Differenzkarte."))
    p.add_argument("a", type=Path, metavar="OUTDIR_A", help="Ausgabeordner des ersten Laufs")
    p.add_argument("b", type=Path, metavar="OUTDIR_B", help="Ausgabeordner des zweiten Laufs")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="Ordner für den Vergleich (Voreinstellung: OUTDIR_B/vergleich)")
    p.set_defaults(func=_cmd_compare)


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="die ganze Auswertung nach einer Einstellungsdatei",
        description=(
            "Die ganze Auswertung nach einer Einstellungsdatei (TOML, siehe 'kurszugang init'): "
            "Kursbesuch zu Kurszeiten am Schultag und in den Ferien, Lücken, Klassengrößen, "
            "Wartezeiten, Fahrtkostenzuschuss, Einzugsbereiche; Tabellen, GeoPackage, GeoTIFF, "
            "Karten und die vollständigen Einstellungen (einstellungen.toml) im Ausgabeordner."
        ),
    )
    p.add_argument("config", type=Path, nargs="+", metavar="CONFIG",
                   help="Einstellungsdatei(en) (TOML); mehrere laufen als Landkreise mit Dask")
    p.add_argument("--out", type=Path, metavar="DIR", help="Ausgabeordner (statt output.dir)")
    p.add_argument("--distributed", action="store_true",
                   help="auf einem lokalen Dask-Cluster rechnen (bei mehreren Dateien immer)")
    p.add_argument("--scheduler", metavar="tcp://HOST:8786",
                   help="Adresse eines laufenden Dask-Schedulers")
    p.add_argument("--workers", type=int, default=2, metavar="N",
                   help="Arbeitsprozesse des lokalen Clusters (Voreinstellung: 2)")
    p.add_argument("--worker-memory", default="auto", metavar="GRÖSSE",
                   help='Speicher je Arbeitsprozess, z. B. "2GiB" (Voreinstellung: auto = '
                        "Arbeitsspeicher geteilt durch die Prozesse)")
    _add_language(p)
    p.set_defaults(func=_cmd_run)


def _district_for_init(args: argparse.Namespace) -> tuple[str, str, str]:
    """The key, the name (from the boundaries, where given) and the boundaries' path text."""
    from kurszugang.errors import ConfigError

    key = str(args.kreis).strip()
    if not (len(key) == 5 and key.isdigit()):
        raise ConfigError(f"= {key!r} ist kein Kreisschlüssel (erwartet 5 Ziffern, z. B. 09187)",
                          column="--kreis")
    if args.boundaries is None:
        return key, "", "data/raw/vg250.gpkg"
    from kurszugang.io.boundaries import district_info

    info = district_info(args.boundaries, key)  # an unknown key names the nearest ones
    name = info.name or ""
    if name and name.split()[0] not in ("Landkreis", "Kreis", "Stadt", "Kreisfreie"):
        name = f"{info.type} {name}"
    boundaries = args.boundaries.resolve()
    try:
        text = str(boundaries.relative_to(args.path.resolve().parent))
    except ValueError:
        text = str(boundaries)
    return key, name, text


def _cmd_init(args: argparse.Namespace) -> int:
    from kurszugang.config import resolved_toml, template
    from kurszugang.errors import ConfigError

    path: Path = args.path
    if path.exists() and not args.force:
        raise ConfigError("gibt es schon; mit --force überschreiben", path=str(path))
    if args.demo:
        from kurszugang.pipeline import demo_config

        text = resolved_toml(demo_config(path.parent / "ergebnisse"), relative_to=path.parent)
        name = "Landkreis Beispiel (fiktiv)"
    else:
        key, name, boundaries = _district_for_init(args)
        text = template(district_key=key, district_name=name).replace(
            'boundaries = "data/raw/vg250.gpkg"', f'boundaries = "{boundaries}"')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if not args.quiet:
        what = f" für {name}" if name else ""
        print(f"geschrieben: {path}{what}; Pfade und Tage anpassen, dann: kurszugang run {path}")
    return EXIT_OK


def _add_init(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "init",
        help="eine kommentierte Einstellungsdatei schreiben",
        description=("Schreibt eine kommentierte Einstellungsdatei (TOML) zum Anpassen; mit "
                     "--boundaries prüft sie den Kreisschlüssel und trägt den Namen ein."),
    )
    p.add_argument("path", type=Path, nargs="?", default=Path("kurszugang.toml"), metavar="PATH",
                   help="die Datei (Voreinstellung: kurszugang.toml)")
    p.add_argument("--kreis", default="09187", metavar="KEY",
                   help="Kreisschlüssel, 5 Ziffern (Voreinstellung: 09187)")
    p.add_argument("--boundaries", type=Path, metavar="FILE",
                   help="Grenzdaten (VG250/VG5000): prüfen, ob es den Kreis gibt, und seinen "
                        "Namen eintragen")
    p.add_argument("--demo", action="store_true",
                   help="Einstellungen für den Beispiel-Landkreis statt der Vorlage")
    p.add_argument("--force", action="store_true", help="eine vorhandene Datei überschreiben")
    p.set_defaults(func=_cmd_init)


def _parse_thresholds(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        values = ()
    if not values or any(b <= a for a, b in zip(values, values[1:], strict=False)) or values[0] <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} ist keine Liste steigender Minuten (erwartet z. B. 15,30,45,60,90)")
    return values


def _cmd_isochrones(args: argparse.Namespace) -> int:
    import geopandas as gpd
    import pandas as pd
    import shapely

    from kurszugang.analysis.catchments import isochrones, site_surfaces
    from kurszugang.analysis.grid import analysis_grid
    from kurszugang.io.gtfs import read_gtfs
    from kurszugang.io.points import read_points_csv
    from kurszugang.output.geopackage import write_geopackage, write_surfaces
    from kurszugang.routing.router import Router

    sites = read_points_csv(args.sites)
    feed = read_gtfs(args.gtfs, dates=[args.date])
    network = None
    if args.osm:
        from kurszugang.io.osm import read_walk_network

        network = read_walk_network(args.osm)
    router = Router(feed, args.date, walk_network=network, walk_speed_kmh=args.walk_speed,
                    max_walk_m=args.max_walk_m)
    points = gpd.GeoDataFrame({"site_id": sites["id"].astype(str)},
                              geometry=gpd.points_from_xy(sites["lon"], sites["lat"]),
                              crs=WEB_CRS).to_crs(ANALYSIS_CRS)
    # The area: every point within the reach of the longest threshold (at most 1.5 km/min).
    reach = shapely.union_all(points.buffer(min(max(args.thresholds) * 1500.0 / 2, 40_000)).values)
    area = gpd.GeoDataFrame({"ags": ["00000000"], "gen": ["Gebiet"]}, geometry=[reach],
                            crs=ANALYSIS_CRS)
    grid = analysis_grid(area, None, resolution_m=args.resolution, buffer_m=0)
    if network is not None:
        snap = router.walking.snap(grid[["x_utm", "y_utm"]].to_numpy(float))  # type: ignore[union-attr]
        grid = grid[snap.ok].reset_index(drop=True)
    surfaces = site_surfaces(router, grid, points, arrive_by=args.arrive_by,
                             early_arrival_min=args.early_arrival, max_time_min=max(args.thresholds))
    bands = pd.concat([isochrones(s, args.thresholds) for s in surfaces.values()],
                      ignore_index=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_geopackage(args.out, {"einzugsbereiche": bands.to_crs(ANALYSIS_CRS),
                                "kursorte": points})
    tifs = write_surfaces(surfaces, args.out.parent / f"{args.out.stem}_flaechen")
    if not args.quiet:
        from kurszugang.words import plural

        print(f"geschrieben: {args.out}: {len(bands)} Zeitzonen für "
              f"{plural(len(surfaces), 'Kursort', 'Kursorte')} "
              f"({', '.join(f'{t:g}' for t in args.thresholds)} min, Ankunft bis "
              f"{args.arrive_by}); {plural(len(tifs), 'Reisezeitfläche', 'Reisezeitflächen')} "
              "(GeoTIFF) in "
              f"{tifs[0].parent if tifs else '-'}")
    return EXIT_OK


def _add_isochrones(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "isochrones",
        help="Einzugsbereiche und Reisezeitflächen von Kursorten",
        description=(
            "Einzugsbereiche: für jeden Kursort die Reisezeit aus jeder Rasterzelle, um "
            "rechtzeitig (bis --arrive-by, höchstens --early-arrival Minuten vorher) dort zu sein, "
            "als GeoTIFF und als Bänder 15/30/45/60/90 min in einem GeoPackage (EPSG:25832)."
        ),
    )
    p.add_argument("--gtfs", required=True, type=Path, metavar="FEED")
    p.add_argument("--date", required=True, type=_parse_date_arg, metavar="YYYY-MM-DD")
    p.add_argument("--sites", required=True, type=Path, metavar="SITES.csv",
                   help="CSV mit den Spalten id,lon,lat (WGS84)")
    p.add_argument("--arrive-by", default=_default("catchments", "arrive_by"), metavar="HH:MM",
                   help="Ankunft am Kursort bis (Voreinstellung: %(default)s)")
    p.add_argument("--early-arrival", type=float,
                   default=_default("coverage", "early_arrival_min"), metavar="MINUTEN",
                   help="früher ankommen zählt nicht (Minuten, Voreinstellung: %(default)s)")
    p.add_argument("--thresholds", type=_parse_thresholds,
                   default=_default("catchments", "thresholds_min"),
                   metavar="15,30,45,60,90", help="Grenzen der Zeitzonen in Minuten")
    p.add_argument("--resolution", type=int, choices=(100, 1000),
                   default=_default("grid", "resolution_m"),
                   help="Rasterweite in Metern (Voreinstellung: %(default)s)")
    p.add_argument("--osm", type=Path, metavar="OSMFILE", help="OSM-Auszug für Fußwege")
    p.add_argument("--walk-speed", type=float, default=_default("routing", "walk_speed_kmh"),
                   metavar="KMH", help="Gehgeschwindigkeit (Voreinstellung: %(default)s km/h)")
    p.add_argument("--max-walk-m", type=float, default=_default("routing", "max_walk_m"),
                   metavar="METER",
                   help="längster Fußweg zur Haltestelle (Voreinstellung: %(default)s m)")
    p.add_argument("--out", required=True, type=Path, metavar="OUT.gpkg")
    p.set_defaults(func=_cmd_isochrones)


def _render_saved(args: argparse.Namespace, formats: tuple[str, ...]) -> list[Path]:
    from kurszugang.output.render import render
    from kurszugang.results import Results

    results = Results.load(args.outdir)
    if getattr(args, "language", None) is not None:
        import dataclasses

        results = dataclasses.replace(results, info=dataclasses.replace(
            results.info, language=args.language))
    out = args.out if args.out is not None else args.outdir
    return render(results, out, formats, full=False)


def _cmd_map(args: argparse.Namespace) -> int:
    files = _render_saved(args, ("html", "png", "pdf"))
    if not args.quiet:
        print("geschrieben: " + ", ".join(str(f) for f in files))
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    files = _render_saved(args, ("summary",))
    if not args.quiet:
        print("geschrieben: " + ", ".join(str(f) for f in files))
    return EXIT_OK


def _add_map(sub: argparse._SubParsersAction) -> None:
    for name, fn, what in (("map", _cmd_map, "Webkarte (HTML, auch offline) und Druckkarten "
                                                  "(PNG, PDF)"),
                           ("report", _cmd_report, "Zusammenfassung (Markdown und HTML)")):
        p = sub.add_parser(
            name, help=f"{what} aus den gespeicherten Ergebnissen eines Laufs neu schreiben",
            description=(f"{what} eines Laufs aus seinem Ausgabeordner neu schreiben: ohne "
                         "Fahrplan, OSM-Auszug und Kursliste, ohne neue Routensuche."))
        p.add_argument("outdir", type=Path, metavar="OUTDIR",
                       help="der Ausgabeordner eines Laufs (mit dem Ordner ergebnisse/)")
        p.add_argument("--out", type=Path, metavar="DIR",
                       help="anderer Ordner für die neuen Dateien (Voreinstellung: OUTDIR)")
        if name == "map":
            _add_language(p, "Sprache der Karten (Voreinstellung: die des Laufs)")
        p.set_defaults(func=fn)


def _cmd_cache(args: argparse.Namespace) -> int:
    from kurszugang.io.feed_cache import cache_dir, clear_cache
    from kurszugang.words import plural

    folder = cache_dir()
    if args.clear:
        n = clear_cache(folder)
        print(f"{plural(n, 'Fahrplan', 'Fahrpläne')} aus dem Zwischenspeicher {folder} entfernt")
        return EXIT_OK
    entries = [e for e in folder.iterdir() if (e / "meta.json").exists()] \
        if folder.is_dir() else []
    size = sum(f.stat().st_size for e in entries for f in e.rglob("*") if f.is_file())
    print(f"Zwischenspeicher der Fahrpläne: {folder}")
    print(f"  {plural(len(entries), 'Fahrplan', 'Fahrpläne')}, "
          f"{size / 2**20:.1f} MiB".replace(".", ","))
    return EXIT_OK


def _add_cache(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "cache", help="Zwischenspeicher der gelesenen Fahrpläne zeigen oder leeren",
        description=(
            "Ein gelesener Fahrplan wird als Parquet zwischengespeichert (ab 32 MiB "
            "stop_times.txt und bei Läufen über mehrere Landkreise), damit der nächste Lauf ihn "
            "in Sekunden liest; erkannt an der Prüfsumme der Datei. Ordner: "
            "KURSZUGANG_CACHE_DIR, sonst ~/.cache/kurszugang/feeds. KURSZUGANG_CACHE=0 "
            "schaltet ihn ab."))
    p.add_argument("--clear", action="store_true", help="alle gespeicherten Fahrpläne löschen")
    p.set_defaults(func=_cmd_cache)


# Each subcommand registers itself here: (name, add-parser function).
_SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_validate, _add_matrix, _add_demo, _add_extract, _add_download, _add_run, _add_plan,
    _add_compare, _add_init, _add_isochrones, _add_map, _add_cache,
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = _Parser(
        prog="kurszugang",
        description=(
            "Wer erreicht welchen Integrationskurs mit Bus, Bahn und zu Fuß – zu den Zeiten, zu "
            "denen er stattfindet? Jeder Befehl mit -h erklärt sich."
        ),
    )
    parser.add_argument("--version", action="version", version=f"kurszugang {__version__}")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true",
                           help="Einzelheiten und bei Fehlern den Python-Ablauf zeigen")
    verbosity.add_argument("-q", "--quiet", action="store_true", help="nur Fehler zeigen")
    sub = parser.add_subparsers(dest="command", metavar="BEFEHL")
    for add in _SUBCOMMANDS:
        add(sub)
    # -q/-v work before and after the command name ("kurszugang run x.toml -q").
    for command in sub.choices.values():
        group = command.add_mutually_exclusive_group()
        group.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                           help="Einzelheiten und bei Fehlern den Python-Ablauf zeigen")
        group.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                           help="nur Fehler zeigen")
    for p in (parser, *sub.choices.values()):
        _german_headings(p)
    return parser


_ARGPARSE_WORDS = (("the following arguments are required", "es fehlt"),
                   ("unrecognized arguments", "unbekannte Angaben"),
                   ("invalid choice", "ungültige Wahl"), ("choose from", "möglich sind"),
                   ("expected one argument", "erwartet einen Wert"),
                   ("not allowed with argument", "geht nicht zusammen mit"),
                   ("invalid int value", "ist keine ganze Zahl"),
                   ("invalid float value", "ist keine Zahl"),
                   ("argument ", "Angabe "))


class _Parser(argparse.ArgumentParser):
    """argparse with its messages for wrong command lines in German (exit code 2)."""

    def error(self, message: str) -> NoReturn:
        for en, de in _ARGPARSE_WORDS:
            message = message.replace(en, de)
        self.print_usage(sys.stderr)
        self.exit(EXIT_USER_ERROR, f"{self.prog}: Fehler: {message}\n")


class _GermanFormatter(argparse.HelpFormatter):
    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, "Aufruf: " if prefix is None else prefix)


def _german_headings(parser: argparse.ArgumentParser) -> None:
    """argparse's own headings, usage line and -h line in German."""
    if parser.formatter_class is argparse.HelpFormatter:
        parser.formatter_class = _GermanFormatter
    parser._positionals.title = "Argumente"
    parser._optionals.title = "Optionen"
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            action.help = "diese Hilfe zeigen und beenden"
        elif isinstance(action, argparse._VersionAction):
            action.help = "die Version zeigen und beenden"


_LEVELS = {"DEBUG": "Details", "INFO": "Info", "WARNING": "Warnung", "ERROR": "Fehler",
           "CRITICAL": "Fehler"}


class _GermanLevels(logging.Formatter):
    """Log lines on the terminal with German level names (``Warnung: ...``)."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{_LEVELS.get(record.levelname, record.levelname)}: {record.getMessage()}"


def _setup_logging(args: argparse.Namespace) -> None:
    level = logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.WARNING
    handler = logging.StreamHandler()
    handler.setFormatter(_GermanLevels())
    logging.basicConfig(level=level, handlers=[handler], force=True)


def _quiet_closed_pipe() -> int:
    """``kurszugang validate ... | head``: the reader went away; end without a message."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_OK
    try:
        return int(args.func(args))
    except BrokenPipeError:
        return _quiet_closed_pipe()
    except KurszugangError as exc:
        if args.verbose:
            raise
        print(f"kurszugang: Fehler: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as exc:  # files and folders: missing, not writable, disk full
        if args.verbose:
            raise
        where = f" {exc.filename}:" if getattr(exc, "filename", None) else ""
        print(f"kurszugang: Fehler:{where} {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("kurszugang: abgebrochen (der Ausgabeordner ist unvollständig; der nächste Lauf "
              "ersetzt ihn)", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
