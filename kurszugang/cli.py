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
        max_walk_m=args.max_walk_m, detour_factor=args.detour_factor,
        board_slack_s=args.board_slack, max_rides=args.max_rides,
    )
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
                   help="longest walking leg in metres (default: 1000)")
    p.add_argument("--detour-factor", type=float, default=1.3, metavar="F",
                   help="walked / straight-line distance without --osm (default: 1.3)")
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


# Each subcommand registers itself here: (name, add-parser function).
_SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_validate, _add_matrix, _add_demo,
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
    except KeyboardInterrupt:
        print("kurszugang: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
