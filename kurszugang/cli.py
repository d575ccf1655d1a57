"""The ``kurszugang`` command line.

User errors (anything of :class:`kurszugang.errors.KurszugangError`) are printed in one or two
lines without a traceback and end the program with exit code 2; ``validate`` exits 1 when it
finds errors in the data and 0 otherwise. ``--verbose`` shows log messages and, on an error, the
traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

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


# Each subcommand registers itself here: (name, add-parser function).
_SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [_add_validate]


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
