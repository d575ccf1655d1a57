"""What starting each command costs: CPU time and peak memory of the imports it needs.

Usage (from the project root)::

    .venv/bin/python benchmarks/bench_start.py            # print the table
    .venv/bin/python benchmarks/bench_start.py --write    # and update docs/benchmarks.md

Every figure is the median of 7 fresh processes (``resource.getrusage`` of the child: user +
system CPU seconds, peak resident set), after one warm-up; the commands' modules are imported as
the command imports them, nothing is run. ``--help`` is the real command.
"""

from __future__ import annotations

import argparse
import platform
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: What each command imports before it does its work.
COMMANDS = {
    "kurszugang --help": "from kurszugang.cli import main\n"
                         "import contextlib, io\n"
                         "with contextlib.redirect_stdout(io.StringIO()):\n"
                         "    try:\n        main(['--help'])\n    except SystemExit:\n        pass",
    "matrix": "import kurszugang.io.gtfs, kurszugang.io.points, kurszugang.routing.router",
    "matrix --osm": "import kurszugang.io.gtfs, kurszugang.io.points, kurszugang.io.osm, "
                    "kurszugang.routing.router",
    "validate": "import kurszugang.io.detect, kurszugang.io.gtfs, kurszugang.io.courses, "
                "kurszugang.io.boundaries, kurszugang.io.population, kurszugang.io.osm",
    "extract": "import kurszugang.io.extract",
    "run / demo / plan": "import kurszugang.pipeline, kurszugang.analysis.context, "
                         "kurszugang.analysis.layers, kurszugang.analysis.planning, "
                         "kurszugang.output.render, kurszugang.output.webmap, "
                         "kurszugang.output.figures, kurszugang.output.tables, "
                         "kurszugang.output.geopackage",
    "map / report": "import kurszugang.results, kurszugang.output.render, "
                    "kurszugang.output.webmap, kurszugang.output.figures",
}
_PROBE = ("import resource\n{code}\nu = resource.getrusage(resource.RUSAGE_SELF)\n"
          "print(u.ru_utime + u.ru_stime, u.ru_maxrss)")


def measure(code: str, runs: int = 7) -> tuple[float, float]:
    """Median CPU seconds and peak MB of a fresh interpreter running ``code``."""
    cpu, mem = [], []
    for i in range(runs + 1):
        out = subprocess.run([sys.executable, "-c", _PROBE.format(code=code)], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
        if i:  # the first run warms the disk cache
            cpu.append(float(out[-2]))
            mem.append(float(out[-1]) / 1024)
    return statistics.median(cpu), statistics.median(mem)


def table() -> str:
    rows = ["| command | CPU (s) | peak memory (MB) |", "|---|---:|---:|"]
    for name, code in COMMANDS.items():
        cpu, mem = measure(code)
        rows.append(f"| `{name}` | {cpu:.2f} | {mem:.0f} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    text = table()
    print(text)
    if args.write:
        section = ("## Starting a command\n\n"
                   f"Measured with `.venv/bin/python benchmarks/bench_start.py --write` on "
                   f"{platform.machine()}, Python {platform.python_version()}, load average "
                   f"{load}: the imports each command needs, median of 7 fresh processes.\n\n"
                   f"{text}\n")
        doc = ROOT / "docs" / "benchmarks.md"
        old = doc.read_text(encoding="utf-8")
        pattern = re.compile(r"## Starting a command\n.*?(?=\n## |\Z)", re.S)
        new = pattern.sub(section.rstrip("\n"), old) if pattern.search(old) else \
            old.rstrip("\n") + "\n\n" + section
        doc.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
