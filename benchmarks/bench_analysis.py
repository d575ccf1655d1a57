"""The whole accessibility analysis on the demo district: how long each step takes.

Usage (from the project root)::

    .venv/bin/python benchmarks/bench_analysis.py            # print the table
    .venv/bin/python benchmarks/bench_analysis.py --write    # and update docs/benchmarks.md

Steps: read the inputs, build the analysis grid, coverage at course times on the school day and on
the holiday (each with a second routing without the on-demand line), class sizes for 30/45/60
minutes, travel-time surfaces and isochrones for every site, travel-subsidy distances on the
footway network, waiting times. Numba kernels are compiled (or loaded from the cache) in a
warm-up run first; the table shows the second run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _docs import write_section  # noqa: E402

from kurszugang.analysis.catchments import isochrones, site_surfaces  # noqa: E402
from kurszugang.analysis.coverage import RouterPool, course_access, coverage_summary, gaps  # noqa: E402
from kurszugang.analysis.demand import class_sizes  # noqa: E402
from kurszugang.analysis.grid import analysis_grid  # noqa: E402
from kurszugang.analysis.subsidy import subsidy_distances  # noqa: E402
from kurszugang.analysis.waiting import earliest_starts  # noqa: E402
from kurszugang.demo import HOLIDAY_WEEKDAY, SCHOOL_DAY, demo_files  # noqa: E402
from kurszugang.io.boundaries import read_boundaries  # noqa: E402
from kurszugang.io.courses import read_courses  # noqa: E402
from kurszugang.io.gtfs import read_gtfs  # noqa: E402
from kurszugang.io.osm import read_walk_network  # noqa: E402
from kurszugang.io.population import read_population_grid  # noqa: E402


def run_once() -> list[tuple[str, float, str]]:
    rows: list[tuple[str, float, str]] = []

    def step(name: str, fn, note=lambda r: ""):
        t = time.perf_counter()
        out = fn()
        rows.append((name, time.perf_counter() - t, note(out)))
        return out

    f = demo_files()
    gem, pop, feed, net, courses = step("read the five inputs", lambda: (
        read_boundaries(f.boundaries, layer="vg250_gem"), read_population_grid(f.population),
        read_gtfs(f.gtfs), read_walk_network(f.osm), read_courses(f.courses)))
    cells = step("analysis grid (populated 100 m cells)",
                 lambda: analysis_grid(gem, pop, populated_only=True, participant_factor=0.05),
                 lambda g: f"{len(g):,} cells")
    full = step("analysis grid (all cells, 2 km buffer)", lambda: analysis_grid(gem, pop),
                lambda g: f"{len(g):,} cells")
    pool = RouterPool(feed, net)
    school = step("coverage at course times, school day (+ without Rufbus)",
                  lambda: course_access(pool, cells, courses, SCHOOL_DAY, max_threshold_min=60),
                  lambda a: f"{len(a.courses)} courses x {len(a.cells):,} cells")
    holiday = step("coverage at course times, holiday (+ without Rufbus)",
                   lambda: course_access(pool, cells, courses, HOLIDAY_WEEKDAY,
                                         max_threshold_min=60))
    step("summaries, gaps, class sizes 30/45/60", lambda: (
        coverage_summary(school), coverage_summary(holiday), gaps(school),
        class_sizes(school, thresholds=(30, 45, 60))))
    surfaces = step("travel-time surfaces, every site, all cells",
                    lambda: site_surfaces(pool.get(SCHOOL_DAY), full, courses.sites,
                                          arrive_by="08:30", max_time_min=90),
                    lambda s: f"{len(s)} sites x {len(full):,} cells")
    step("isochrones 15/30/45/60/90 min, every site",
         lambda: [isochrones(s) for s in surfaces.values()])
    step("travel-subsidy distances on footways", lambda: subsidy_distances(cells, courses.sites,
                                                                          walk_network=net))
    step("waiting times", lambda: earliest_starts(school))
    rows.append(("total", sum(r[1] for r in rows), ""))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    run_once()  # warm-up: numba compilation or cache loading
    rows = run_once()
    table = ["| step | time | notes |", "|---|---|---|"]
    table += [f"| {name} | {sec:.2f} s | {note} |" for name, sec, note in rows]
    text = "\n".join(table)
    print(text)
    if args.write:
        machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                   f"Python {platform.python_version()}")
        section = (
            "## Analysis of the demo district\n\n"
            f"Measured {dt.date.today().isoformat()} on {machine} with\n"
            "`.venv/bin/python benchmarks/bench_analysis.py --write` (second of two runs).\n"
            "Goal: seconds, not minutes.\n\n" + text + "\n")
        write_section("## Analysis of the demo district", section)


if __name__ == "__main__":
    main()
