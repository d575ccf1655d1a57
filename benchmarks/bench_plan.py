"""Planning on the demo district: candidates, coverage of a format, best sites, start times.

Usage (from the project root)::

    .venv/bin/python benchmarks/bench_plan.py            # print the tables
    .venv/bin/python benchmarks/bench_plan.py --write    # and update docs/benchmarks.md

The demo district's 100 m grid (populated cells, one in ten foreign citizens a potential
participant), the school day, 50 candidates: the 8 existing sites, the best-served stop of each of
the 20 Gemeinden and 22 populated cells drawn with a fixed seed. Goals: coverage of one format at
50 candidates under 10 s; best sites for k = 1..10 under 10 s in all; 40 start times for one site
under 5 s. A warm-up run first compiles (or loads) the numba kernels and builds the routers; the
table shows the second run, wall clock with the process's CPU time in brackets. Two
synthetic covering problems show the solver beyond the demo: a clustered one like a larger
district (20,000 cells in 60 villages) and one without any geography (the hard case).
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

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _docs import write_section  # noqa: E402

from kurszugang.analysis.coverage import RouterPool  # noqa: E402
from kurszugang.analysis.grid import analysis_grid  # noqa: E402
from kurszugang.analysis.plan import (  # noqa: E402
    CourseFormat,
    FormatCoverage,
    best_sites,
    format_coverage,
    plan_candidates,
    rotation,
    start_time_sweep,
)
from kurszugang.analysis.plan._where import _problem, _solve_milp  # noqa: E402
from kurszugang.demo import SCHOOL_DAY, demo_files  # noqa: E402
from kurszugang.io.boundaries import read_boundaries  # noqa: E402
from kurszugang.io.courses import read_courses  # noqa: E402
from kurszugang.io.gtfs import read_gtfs  # noqa: E402
from kurszugang.io.osm import read_walk_network  # noqa: E402
from kurszugang.io.population import read_population_grid  # noqa: E402

FORMAT = CourseFormat.parse("allgemein", "Mo-Fr", "08:30", "12:45")


def _inputs() -> dict:
    f = demo_files()
    gem = read_boundaries(f.boundaries, layer="vg250_gem")
    cells = analysis_grid(gem, read_population_grid(f.population), populated_only=True,
                          participant_factor=0.1)
    pool = RouterPool(read_gtfs(f.gtfs), read_walk_network(f.osm))
    return {"gem": gem, "cells": cells, "pool": pool, "courses": read_courses(f.courses)}


def _extra_candidates(cells: pd.DataFrame, n: int) -> pd.DataFrame:
    inside = cells[cells["in_district"]]
    pick = inside.iloc[np.random.default_rng(1).choice(len(inside), n, replace=False)]
    return pd.DataFrame({"candidate_id": [f"Z{i:02d}" for i in range(n)],
                         "name": [f"Zelle {i}" for i in range(n)], "source": "Liste",
                         "ags": pick["ags"].to_numpy(), "gen": pick["gen"].to_numpy(),
                         "x": pick["x_utm"].to_numpy(), "y": pick["y_utm"].to_numpy(),
                         "has_childcare": False, "departures": pd.NA})


def _coverage(att: np.ndarray, part: np.ndarray) -> FormatCoverage:
    times = np.where(att, 1200.0, np.nan)
    n = att.shape[1]
    cands = pd.DataFrame({"candidate_id": [f"S{j}" for j in range(n)], "name": "x",
                          "source": "Liste", "ags": "0", "gen": "x", "x": 0.0, "y": 0.0,
                          "has_childcare": False, "eligible": True, "excluded": pd.NA,
                          "participants": part @ att})
    cells = pd.DataFrame({"cell_id": [f"c{i}" for i in range(len(part))], "ags": "0",
                          "gen": "x", "participants": part})
    return FormatCoverage(FORMAT, SCHOOL_DAY, SCHOOL_DAY, cands, cells, times, times.copy())


def _clustered(n_cells: int = 20_000, n_cand: int = 50, seed: int = 5) -> FormatCoverage:
    """Cells in 60 villages of a 40 km square, candidates at cells, attendance within a
    7 km "reach" scaled per village and candidate (bus or no bus)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 40_000, (60, 2))
    sizes = rng.pareto(1.2, 60) + 1
    village = rng.choice(60, n_cells, p=sizes / sizes.sum())
    xy = centres[village] + rng.normal(0, 600, (n_cells, 2))
    cand = xy[rng.choice(n_cells, n_cand, replace=False)]
    dist = np.hypot(xy[:, None, 0] - cand[None, :, 0], xy[:, None, 1] - cand[None, :, 1])
    att = dist * rng.uniform(0.6, 1.6, (60, n_cand))[village] < 7_000
    return _coverage(att, rng.gamma(1.0, 0.3, n_cells))


def _random(n_groups: int = 200, n_cand: int = 50) -> FormatCoverage:
    """No geography at all: every cell attends each candidate with probability 8 %."""
    rng = np.random.default_rng(3)
    return _coverage(rng.random((n_groups, n_cand)) < 0.08, rng.gamma(2.0, 1.0, n_groups))


def _sum_of_x_milp(cov: FormatCoverage, k: int, m: int) -> float:
    """The alternative formulation, for comparison: maximise the sum of x with
    x_gj <= P_g * y_j (no z); returns the optimum."""
    part = cov.groups["participants"].to_numpy(float)
    g, j = np.nonzero(cov.group_attend)
    n_c, n_p, n_g = cov.group_attend.shape[1], len(g), len(part)
    xv, cand = n_c + np.arange(n_p), np.arange(n_c)
    n_v = n_c + n_p
    rows = [
        (sp.csr_array((np.ones(n_p), (g, xv)), shape=(n_g, n_v)), -np.inf, part),
        (sp.csr_array((np.r_[np.ones(n_p), -m * np.ones(n_c)], (np.r_[j, cand], np.r_[xv, cand])),
                      shape=(n_c, n_v)), 0.0, np.inf),
        (sp.csr_array((np.r_[np.ones(n_p), -part[g]], (np.r_[np.arange(n_p), np.arange(n_p)],
                                                       np.r_[xv, j])), shape=(n_p, n_v)),
         -np.inf, 0.0),
        (sp.csr_array((np.ones(n_c), (np.zeros(n_c, dtype=np.int64), cand)), shape=(1, n_v)),
         k, k)]
    res = milp(np.r_[np.zeros(n_c), -np.ones(n_p)], integrality=np.r_[np.ones(n_c), np.zeros(n_p)],
               bounds=Bounds(np.zeros(n_v), np.r_[np.ones(n_c), part[g]]),
               constraints=[LinearConstraint(a, lo, hi) for a, lo, hi in rows],
               options={"mip_rel_gap": 0.0})
    return -float(res.fun)


def run_once(inp: dict, *, synthetic: bool) -> list[tuple[str, float, float, str]]:
    rows: list[tuple[str, float, float, str]] = []

    def step(name, fn, note=lambda r: ""):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        rows.append((name, time.perf_counter() - t, time.process_time() - c, note(out)))
        return out

    router = inp["pool"].get(SCHOOL_DAY)
    cands = step("candidates: 8 existing sites + best-served stop per Gemeinde",
                 lambda: plan_candidates(inp["gem"], courses=inp["courses"], router=router),
                 lambda c: f"{len(c)} candidates")
    cands = pd.concat([cands, _extra_candidates(inp["cells"], 50 - len(cands))],
                      ignore_index=True)
    cov = step("coverage of one format at 50 candidates (2 searches each)",
               lambda: format_coverage(inp["pool"], inp["cells"], cands, FORMAT, SCHOOL_DAY),
               lambda c: f"{len(c.cells):,} cells, {len(c.group_attend):,} groups, "
                         f"{int(c.group_attend.sum()):,} group-site pairs")
    for m in (15, 8):
        step(f"best sites k = 1..10, minimum class size {m}",
             lambda m=m: best_sites(cov, k_max=10, min_class_size={"allgemein": m}),
             lambda p: f"{(p.per_k['status'] == 'optimal').sum()} optimal, "
                       f"{(p.per_k['status'] == 'unzulässig').sum()} infeasible; covered at "
                       f"k = 10: {p.per_k['participants_covered'].iloc[-1]:.0f} of "
                       f"{p.participants_total:.0f}")
    site = cands.set_index("candidate_id", drop=False).loc["KS01"]
    starts = [f"{h:02d}:{m:02d}" for h in range(7, 17) for m in (0, 15, 30, 45)]
    step("start-time sweep, 40 start times, one site",
         lambda: start_time_sweep(inp["pool"], inp["cells"], site, FORMAT, SCHOOL_DAY,
                                  starts=starts),
         lambda s: f"{len(s.district)} start times, {len(s.gemeinden)} Gemeinde rows")
    step("rotation over 4 sites, a year", lambda: rotation(cov, ["KS01", "KS04", "KS06", "KS08"]))
    if synthetic:
        for name, make in (("clustered, 20,000 cells", _clustered),
                           ("random, 200 cells", _random)):
            big = make()
            plan = step(f"best sites k = 1..10, minimum 15, synthetic {name} x 50 candidates",
                        lambda big=big: best_sites(big, k_max=10,
                                                   min_class_size={"allgemein": 15}),
                        lambda p, big=big: f"{len(big.group_attend):,} groups, "
                                           f"{int(big.group_attend.sum()):,} pairs; "
                                           f"{(p.per_k['status'] == 'optimal').sum()} of 10 "
                                           f"optimal, largest MIP gap "
                                           f"{p.per_k['mip_gap'].max():.1%}")
            step(f"the same, k = 6 and 10 only: MILP as in best_sites ({name})",
                 lambda big=big: [_solve_milp(_problem(big), k, 15, np.zeros(50, bool), 600)
                                  for k in (6, 10)])
            step(f"the same, k = 6 and 10 only: MILP maximising the sum of x ({name})",
                 lambda big=big: [_sum_of_x_milp(big, k, 15) for k in (6, 10)],
                 lambda v, plan=plan: "same optimum" if np.allclose(
                     v, plan.per_k.set_index("k").loc[[6, 10], "participants_covered"])
                 else "DIFFERENT optimum")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    load_start = os.getloadavg()[0]
    inp = _inputs()
    warm = run_once(inp, synthetic=False)  # numba compilation or cache loading, routers, legs
    rows = run_once(inp, synthetic=True)
    load_end = os.getloadavg()[0]
    table = ["| step | time (CPU) | warm-up run | notes |", "|---|---|---|---|"]
    warm_s = [f"{w[1]:.2f} s" for w in warm] + [""] * (len(rows) - len(warm))
    table += [f"| {name} | {sec:.2f} s ({cpu:.2f}) | {w} | {note} |"
              for (name, sec, cpu, note), w in zip(rows, warm_s, strict=True)]
    text = "\n".join(table)
    print(text)
    print(f"load average {load_start:.1f} at the start, {load_end:.1f} at the end")
    if args.write:
        machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                   f"Python {platform.python_version()}")
        section = (
            "## Planning on the demo district\n\n"
            f"Measured {dt.date.today().isoformat()} on {machine} with\n"
            "`nice .venv/bin/python benchmarks/bench_plan.py --write` (second of two runs; load "
            f"average {load_start:.1f} at the start and {load_end:.1f} at the end: other work "
            "shared the cores, the CPU time in brackets is the steadier figure).\n\n"
            "Demo district, school day 2026-03-10, 100 m grid (populated cells, participant "
            "factor 0.1), format allgemein Mo-Fr 08:30-12:45, 45 minutes each way. 50 "
            "candidates: 8 existing sites, the best-served stop of each of the 20 Gemeinden, 22 "
            "populated cells (fixed seed). Goals: coverage at 50 candidates < 10 s; best sites "
            "for k = 1..10 < 10 s in all; 40 start times for one site < 5 s. The last two rows are "
            "synthetic problems solved the same way: 20,000 cells in 60 villages of a 40 km "
            "square reaching candidates within 7 km times a factor per village and candidate "
            "(0.6-1.6), and 200 cells attending each candidate at random with probability 8 % "
            "(no geography: the hard case for covering problems); for k = 6 and 10 each is also solved "
            "with best_sites' formulation alone and with the alternative that maximises the sum "
            "of x with x_gj <= P_g y_j instead of z (ratio in the same run). \"Warm-up run\" is the first run in the process (numba kernels compiled or "
            "loaded from the cache, routers and walking legs built).\n\n" + text + "\n")
        write_section("## Planning on the demo district", section)


if __name__ == "__main__":
    main()
