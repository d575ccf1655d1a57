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

from kurszugang import __version__
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
            report = validate(path, kind=args.kind)
        except KurszugangError as exc:
            print(f"{path}: {exc}")
            worst = EXIT_DATA_ERRORS
            continue
        print(report.format(max_per_code=args.max_examples))
        if not report.ok:
            worst = EXIT_DATA_ERRORS
    return worst


def _add_validate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help="check input files and print a report with counts, errors and warnings",
        description=(
            "Check any input kurszugang reads (GTFS feed, boundaries, course sites, OSM extract, "
            "Zensus grid) and print what was found. Exit code 1 when errors were found, else 0."
        ),
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or GTFS folders to check")
    p.add_argument(
        "--kind",
        choices=["gtfs", "boundaries", "courses", "osm", "population"],
        help="kind of input (guessed from the file when omitted)",
    )
    p.add_argument(
        "--max-examples", type=int, default=5, metavar="N",
        help="examples listed per kind of problem (default: 5)",
    )
    p.set_defaults(func=_cmd_validate)


def _parse_date_arg(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (expected YYYY-MM-DD)") from None


def _parse_percentiles(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        values = ()
    if not values or any(v < 1 or v > 100 for v in values):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a list of percentiles (expected whole numbers 1-100, e.g. 5,50,95)")
    return values


def _cmd_matrix(args: argparse.Namespace) -> int:
    from kurszugang.io.gtfs import read_gtfs
    from kurszugang.io.points import read_points_csv
    from kurszugang.routing.router import Router

    origins = read_points_csv(args.origins)
    destinations = read_points_csv(args.destinations)
    feed = read_gtfs(args.gtfs)
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

        first, last = feed.service_period()
        raise ServiceDateError(
            f"no trip runs on {args.date.isoformat()} ({args.date:%A}), a day inside the feed's "
            f"service period {first.isoformat()} to {last.isoformat()}: the matrix would hold "
            "walks only; choose a date with service", path=feed.source)
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
        help="travel-time matrix between points over a departure window",
        description=(
            "Timetable-exact public-transport travel times from every origin to every destination, "
            "for every departure minute of a window, summarised as nearest-rank percentiles in "
            "whole minutes (empty where unreachable within --max-time). Semantics: docs/benutzerhandbuch/reisezeiten.md."
        ),
    )
    p.add_argument("--gtfs", required=True, type=Path, metavar="FEED", help="GTFS .zip or folder")
    p.add_argument("--date", required=True, type=_parse_date_arg, metavar="YYYY-MM-DD",
                   help="service date")
    p.add_argument("--departure", required=True, metavar="HH:MM", help="first departure minute")
    p.add_argument("--window", type=int, default=60, metavar="MINUTES",
                   help="number of departure minutes (default: 60)")
    p.add_argument("--origins", required=True, type=Path, metavar="ORIGINS.csv",
                   help="CSV with columns id,lon,lat (WGS84)")
    p.add_argument("--destinations", required=True, type=Path, metavar="DESTS.csv",
                   help="CSV with columns id,lon,lat (WGS84)")
    p.add_argument("--out", required=True, type=Path, metavar="MATRIX.csv", help="output CSV")
    p.add_argument("--osm", type=Path, metavar="OSMFILE",
                   help="OSM extract (.osm, .osm.gz, .osm.bz2, .osm.pbf) for walking on footways; "
                        "without it walking legs are straight lines × --detour-factor")
    p.add_argument("--walk-speed", type=float, default=4.5, metavar="KMH",
                   help="walking speed in km/h (default: 4.5)")
    p.add_argument("--max-walk-m", type=float, default=1000.0, metavar="METRES",
                   help="longest walking leg to, between and from stops in metres (default: 1000)")
    p.add_argument("--max-direct-walk-m", type=float, default=None, metavar="METRES",
                   help="longest walk straight from origin to destination without any vehicle, "
                        "in metres (default: the same as --max-walk-m)")
    p.add_argument("--detour-factor", type=float, default=1.3, metavar="F",
                   help="walked / straight-line distance without --osm, and with --osm for "
                        "points more than 500 m off the network (default: 1.3)")
    p.add_argument("--board-slack", type=int, default=60, metavar="SECONDS",
                   help="seconds between arriving at a stop and boarding (default: 60)")
    p.add_argument("--max-time", type=float, default=120.0, metavar="MINUTES",
                   help="longer journeys count as unreachable (default: 120)")
    p.add_argument("--max-rides", type=int, default=5, metavar="N",
                   help="maximum vehicles per journey (default: 5)")
    p.add_argument("--percentiles", type=_parse_percentiles, default=(50,), metavar="5,50,95",
                   help="percentiles of the travel time over the window (default: 50)")
    p.set_defaults(func=_cmd_matrix)


def _add_demo(sub: argparse._SubParsersAction) -> None:
    def run(args: argparse.Namespace) -> int:
        from kurszugang.demo.run import run_demo

        run_demo(args.out, quiet=args.quiet)
        return EXIT_OK

    p = sub.add_parser(
        "demo",
        help="run the analysis on the bundled, fictional demo district (offline)",
        description=(
            "Run the whole analysis on the bundled demo district 'Landkreis Beispiel (fiktiv)', "
            "a made-up rural Bavarian district, without network access, and print the files "
            "written. Beispiel-Lauf mit einem erfundenen Landkreis."
        ),
    )
    p.add_argument(
        "--out", type=Path, default=Path("data") / "processed" / "demo", metavar="DIR",
        help="output folder (default: data/processed/demo in the current folder)",
    )
    p.set_defaults(func=run)


def _add_extract(sub: argparse._SubParsersAction) -> None:
    def run(args: argparse.Namespace) -> int:
        from kurszugang.errors import InputError
        from kurszugang.io.extract import extract_feed, parse_bbox, read_area

        if args.kreis is not None and args.boundaries is None:
            raise InputError("--kreis needs --boundaries FILE (e.g. the VG250 Gemeinden)")
        if args.boundaries is not None and args.kreis is None:
            raise InputError("--boundaries is used only with --kreis KEY")
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
        help="cut a district plus a buffer (and a date range) out of a large GTFS feed",
        description=(
            "Write the trips that stop in an area (plus a buffer) with all their stops, routes, "
            "services and shapes as a smaller GTFS zip, reading the feed in blocks (a national "
            "feed fits). Ausschnitt eines Landkreises aus einem großen GTFS-Fahrplan. "
            "Details: docs/extract.md."
        ),
    )
    p.add_argument("feed", type=Path, metavar="FEED", help="GTFS .zip or folder")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--bbox", metavar="MINLON,MINLAT,MAXLON,MAXLAT",
                       help="the area as a box in degrees (WGS84), e.g. 11.9,47.6,12.6,48.1 "
                            "(write --bbox=-1,... for negative longitudes)")
    where.add_argument("--area", type=Path, metavar="POLYGON_FILE",
                       help="the area as polygons in a file with a CRS (GeoJSON, GPKG, SHP)")
    where.add_argument("--kreis", metavar="KEY",
                       help="the area as a Kreis: 5-digit key, e.g. 09187 (needs --boundaries)")
    p.add_argument("--boundaries", type=Path, metavar="FILE",
                   help="boundary file with the Gemeinden for --kreis (e.g. VG250_GEM.shp)")
    p.add_argument("--buffer-km", type=float, default=30.0, metavar="KM",
                   help="stops within this distance of the area count as inside (default: 30)")
    p.add_argument("--start-date", type=_parse_date_arg, metavar="YYYY-MM-DD",
                   help="keep only trips running on a day from this date on")
    p.add_argument("--end-date", type=_parse_date_arg, metavar="YYYY-MM-DD",
                   help="keep only trips running on a day up to this date")
    p.add_argument("--out", required=True, type=Path, metavar="OUT.zip",
                   help="the GTFS zip to write")
    p.set_defaults(func=run)


def _add_download(sub: argparse._SubParsersAction) -> None:
    def run(args: argparse.Namespace) -> int:
        from kurszugang.io.download import download, format_catalogue

        if args.list:
            print(format_catalogue())
            return EXIT_OK
        if args.source is None:
            from kurszugang.io.download import SOURCES

            raise KurszugangError(
                "name a source or give --list; known sources: "
                + ", ".join(s.key + (":REGION" if s.needs_region else "")
                            for s in SOURCES.values()))
        result = download(
            args.source, out_dir=args.out, region=args.region, base_url=args.base_url,
            expected_sha256=args.sha256, progress=not args.quiet,
        )
        if not args.quiet:
            how = (" (already there, checksum matches)" if result.reused
                   else " (resumed)" if result.resumed else "")
            print(f"wrote {result.path}: {result.bytes:,} bytes, "
                  f"sha256 {result.sha256}{how}")
        return EXIT_OK

    p = sub.add_parser(
        "download",
        help="download official data (VG250, Zensus grid, DELFI GTFS, OSM extracts) into data/raw",
        description=(
            "Fetch an official open data source with progress, resume after an interruption "
            "and a checksum check; beside the file go FILE.sha256 and FILE.download.json "
            "(source, address, date, size). Offizielle Daten herunterladen. "
            "Sources and licences: kurszugang download --list and docs/downloads.md."
        ),
    )
    p.add_argument("source", nargs="?", metavar="SOURCE",
                   help="a source of --list, e.g. vg250 or geofabrik:oberbayern")
    p.add_argument("--list", action="store_true",
                   help="print the sources with address, official page and licence, then exit")
    p.add_argument("--region", metavar="NAME",
                   help="Geofabrik region (same as geofabrik:NAME), e.g. oberbayern")
    p.add_argument("--out", type=Path, default=Path("data") / "raw", metavar="DIR",
                   help="output folder (default: data/raw in the current folder)")
    p.add_argument("--base-url", metavar="URL",
                   help="fetch from this folder address instead (a mirror, an older Jahrgang, "
                        "a local server); the file keeps its official name")
    p.add_argument("--sha256", metavar="HEX",
                   help="the SHA-256 the file must have (64 hex digits)")
    p.set_defaults(func=run)


def _cmd_run(args: argparse.Namespace) -> int:
    from kurszugang.config import load_config
    from kurszugang.pipeline import headline_text, run_analysis

    configs = [load_config(c) for c in args.config]
    if args.out is not None:
        import dataclasses

        if len(configs) > 1:
            from kurszugang.errors import ConfigError

            raise ConfigError("--out works with one config; several districts need their own "
                              "output.dir")
        configs = [dataclasses.replace(c, output=dataclasses.replace(
            c.output, dir=str(args.out.resolve()))) for c in configs]
    if len(configs) > 1 or args.scheduler or args.distributed:
        from kurszugang.distributed import run_districts

        results = run_districts(configs, scheduler=args.scheduler, n_workers=args.workers)
        for path, r in zip(args.config, results, strict=True):
            if r.ok:
                if not args.quiet:
                    print(f"{path}: {len(r.files)} Dateien in {r.out_dir}")
            else:
                print(f"{path}: FEHLER / failed: {r.error}", file=sys.stderr)
        return EXIT_OK if all(r.ok for r in results) else EXIT_DATA_ERRORS
    cfg = configs[0]
    if not args.quiet:
        print(f"kurszugang run {args.config[0]}")
    result = run_analysis(cfg, progress=not args.quiet)
    if not args.quiet:
        print(headline_text(result))
        print(f"  {len(result.files)} Dateien in {result.out_dir}:")
        for f in result.files:
            print(f"    {f.relative_to(result.out_dir)}")
    return EXIT_OK


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run the whole analysis described by a config file",
        description=(
            "Die ganze Auswertung nach einer Einstellungsdatei (TOML, siehe 'kurszugang init'): "
            "Kursbesuch zu Kurszeiten am Schultag und in den Ferien, Lücken, Klassengrößen, "
            "Wartezeiten, Fahrtkostenzuschuss, Einzugsbereiche; Tabellen, GeoPackage, GeoTIFF, "
            "Karten und die vollständigen Einstellungen (einstellungen.toml) im Ausgabeordner."
        ),
    )
    p.add_argument("config", type=Path, nargs="+", metavar="CONFIG",
                   help="config file(s) (TOML); several run as districts on Dask")
    p.add_argument("--out", type=Path, metavar="DIR", help="output folder (overrides output.dir)")
    p.add_argument("--distributed", action="store_true",
                   help="run on a Dask LocalCluster (automatic for several configs)")
    p.add_argument("--scheduler", metavar="tcp://HOST:8786",
                   help="address of an existing Dask scheduler")
    p.add_argument("--workers", type=int, default=2, metavar="N",
                   help="worker processes of the LocalCluster (default: 2)")
    p.set_defaults(func=_cmd_run)


def _cmd_init(args: argparse.Namespace) -> int:
    from kurszugang.config import resolved_toml, template
    from kurszugang.errors import ConfigError

    path: Path = args.path
    if path.exists() and not args.force:
        raise ConfigError("exists already; use --force to overwrite it", path=path)
    if args.demo:
        from kurszugang.pipeline import demo_config

        text = resolved_toml(demo_config(path.parent / "ergebnisse"))
    else:
        text = template(district_key=args.kreis)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if not args.quiet:
        print(f"wrote {path}: edit the paths and dates, then run: kurszugang run {path}")
    return EXIT_OK


def _add_init(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "init",
        help="write a commented config template",
        description="Schreibt eine kommentierte Einstellungsdatei (TOML) zum Anpassen.",
    )
    p.add_argument("path", type=Path, nargs="?", default=Path("kurszugang.toml"), metavar="PATH",
                   help="file to write (default: kurszugang.toml)")
    p.add_argument("--kreis", default="09187", metavar="KEY", help="5-digit Kreis key to put in")
    p.add_argument("--demo", action="store_true",
                   help="a config for the bundled demo district instead of the template")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=_cmd_init)


def _parse_thresholds(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        values = ()
    if not values or any(b <= a for a, b in zip(values, values[1:], strict=False)) or values[0] <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a list of increasing minutes (expected e.g. 15,30,45,60,90)")
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
    feed = read_gtfs(args.gtfs)
    network = None
    if args.osm:
        from kurszugang.io.osm import read_walk_network

        network = read_walk_network(args.osm)
    router = Router(feed, args.date, walk_network=network, walk_speed_kmh=args.walk_speed,
                    max_walk_m=args.max_walk_m)
    points = gpd.GeoDataFrame({"site_id": sites["id"].astype(str)},
                              geometry=gpd.points_from_xy(sites["lon"], sites["lat"]),
                              crs="EPSG:4326").to_crs("EPSG:25832")
    # The area: every point within the reach of the longest threshold (at most 1.5 km/min).
    reach = shapely.union_all(points.buffer(min(max(args.thresholds) * 1500.0 / 2, 40_000)).values)
    area = gpd.GeoDataFrame({"ags": ["00000000"], "gen": ["Gebiet"]}, geometry=[reach],
                            crs="EPSG:25832")
    grid = analysis_grid(area, None, resolution_m=args.resolution, buffer_m=0)
    if network is not None:
        snap = router.walking.snap(grid[["x_utm", "y_utm"]].to_numpy(float))  # type: ignore[union-attr]
        grid = grid[snap.ok].reset_index(drop=True)
    surfaces = site_surfaces(router, grid, points, arrive_by=args.arrive_by,
                             early_arrival_min=args.early_arrival, max_time_min=max(args.thresholds))
    bands = pd.concat([isochrones(s, args.thresholds) for s in surfaces.values()],
                      ignore_index=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_geopackage(args.out, {"einzugsbereiche": bands.to_crs("EPSG:25832"),
                                "kursorte": points})
    tifs = write_surfaces(surfaces, args.out.parent / f"{args.out.stem}_flaechen")
    if not args.quiet:
        print(f"wrote {args.out}: {len(bands)} bands for {len(surfaces)} sites "
              f"({', '.join(f'{t:g}' for t in args.thresholds)} min, arrival by {args.arrive_by}); "
              f"{len(tifs)} GeoTIFF surfaces in {tifs[0].parent if tifs else '-'}")
    return EXIT_OK


def _add_isochrones(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "isochrones",
        help="catchment bands and travel-time surfaces of course sites",
        description=(
            "Einzugsbereiche: für jeden Kursort die Reisezeit aus jeder Rasterzelle, um "
            "rechtzeitig (bis --arrive-by, höchstens --early-arrival Minuten vorher) dort zu sein, "
            "als GeoTIFF und als Bänder 15/30/45/60/90 min in einem GeoPackage (EPSG:25832)."
        ),
    )
    p.add_argument("--gtfs", required=True, type=Path, metavar="FEED")
    p.add_argument("--date", required=True, type=_parse_date_arg, metavar="YYYY-MM-DD")
    p.add_argument("--sites", required=True, type=Path, metavar="SITES.csv",
                   help="CSV with columns id,lon,lat (WGS84)")
    p.add_argument("--arrive-by", default="08:30", metavar="HH:MM",
                   help="arrival at the site by (default: 08:30)")
    p.add_argument("--early-arrival", type=float, default=30.0, metavar="MINUTES",
                   help="arriving earlier than this before does not count (default: 30)")
    p.add_argument("--thresholds", type=_parse_thresholds, default=(15.0, 30.0, 45.0, 60.0, 90.0),
                   metavar="15,30,45,60,90", help="band limits in minutes")
    p.add_argument("--resolution", type=int, choices=(100, 1000), default=100,
                   help="grid cell size in metres (default: 100)")
    p.add_argument("--osm", type=Path, metavar="OSMFILE", help="OSM extract for footways")
    p.add_argument("--walk-speed", type=float, default=4.5, metavar="KMH")
    p.add_argument("--max-walk-m", type=float, default=1000.0, metavar="METRES")
    p.add_argument("--out", required=True, type=Path, metavar="OUT.gpkg")
    p.set_defaults(func=_cmd_isochrones)


def _cmd_map(args: argparse.Namespace) -> int:
    import dataclasses

    from kurszugang.config import load_config
    from kurszugang.pipeline import run_analysis

    cfg = load_config(args.config)
    out_dir = str(args.out.parent.resolve()) if args.out else cfg.output.dir
    output = dataclasses.replace(cfg.output, formats=("html", "png", "pdf"), dir=out_dir)
    result = run_analysis(dataclasses.replace(cfg, output=output), progress=not args.quiet)
    html = next(f for f in result.files if f.suffix == ".html")
    if args.out and html != args.out:
        html = html.replace(args.out)
    if not args.quiet:
        print(f"wrote {html} (and karte.png, karte.pdf in {html.parent})")
    return EXIT_OK


def _add_map(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "map",
        help="the web map and the A4 maps of an analysis",
        description=("Webkarte (HTML, auch offline) und Druckkarten (PNG, PDF) der Auswertung "
                     "nach einer Einstellungsdatei."),
    )
    p.add_argument("config", type=Path, metavar="CONFIG", help="the config file (TOML)")
    p.add_argument("--out", type=Path, metavar="KARTE.html",
                   help="where to write the web map (default: karte.html in output.dir)")
    p.set_defaults(func=_cmd_map)


# Each subcommand registers itself here: (name, add-parser function).
_SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_validate, _add_matrix, _add_demo, _add_extract, _add_download, _add_run, _add_init,
    _add_isochrones, _add_map,
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="kurszugang",
        description=(
            "Erreichbarkeit von Integrationskursen mit Bus, Bahn und zu Fuß. "
            "Who can reach which integration course by public transport, at course times."
        ),
    )
    parser.add_argument("--version", action="version", version=f"kurszugang {__version__}")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true", help="show details and tracebacks")
    verbosity.add_argument("-q", "--quiet", action="store_true", help="show only errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in _SUBCOMMANDS:
        add(sub)
    # -q/-v work before and after the command name ("kurszugang run x.toml -q").
    for command in sub.choices.values():
        group = command.add_mutually_exclusive_group()
        group.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                           help="show details and tracebacks")
        group.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                           help="show only errors")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_OK
    try:
        return int(args.func(args))
    except KurszugangError as exc:
        if args.verbose:
            raise
        print(f"kurszugang: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as exc:  # files and folders: missing, not writable, disk full
        if args.verbose:
            raise
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        print(f"kurszugang: error:{where}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("kurszugang: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
