"""Router speed on the Zug feed: one-to-all queries and a many-to-many matrix.

Usage (from the project root, with ../shared/data beside it)::

    .venv/bin/python benchmarks/bench_router.py            # print the table
    .venv/bin/python benchmarks/bench_router.py --write    # and update docs/benchmarks.md

Measures, for Tuesday 2021-03-02, departures 07:00 + 60 minutes, percentiles 5/50/95:

- one-to-all at stop level, one core: median time per origin (the origins are the feed's stops
  within 12 km of Zug);
- one-to-all including egress to every 100 m cell of a 30 km x 30 km square around Zug (90,000
  cells), one core: median time per origin, split into RAPTOR with egress and the reduction to
  percentiles;
- a 1,000 x 1,000 point matrix on both cores: total wall time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from pyproj import Transformer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _docs import write_section  # noqa: E402

from kurszugang.io.gtfs import read_gtfs  # noqa: E402
from kurszugang.routing.raptor import Window, reduce_events  # noqa: E402
from kurszugang.routing.router import Points, Router  # noqa: E402

FEED = ROOT.parent / "shared" / "data" / "gtfs-ch-kanton-zug-2021" / "gtfs_ch_zg_2021.zip"
DATE = dt.date(2021, 3, 2)
T0 = 7 * 3600
WINDOW = 60
PCTS = (5, 50, 95)


CPU: list[float] = []  # CPU time (all threads of the process) of each _timed call


def _timed(fn, *args, **kwargs) -> tuple[float, object]:
    """Wall-clock seconds of the call and its result; its CPU seconds go to ``CPU``."""
    c = time.process_time()
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    wall = time.perf_counter() - t
    CPU.append(time.process_time() - c)
    return wall, out


def _cpu_since(n: int) -> list[float]:
    """CPU seconds of the ``_timed`` calls made since ``CPU`` had ``n`` entries."""
    return CPU[n:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument("--origins", type=int, default=100, help="origins timed per one-to-all case")
    args = parser.parse_args()

    rows: list[tuple[str, str, str, str]] = []
    load_start = os.getloadavg()[0]
    t_read, feed = _timed(read_gtfs, FEED)
    rows.append(("read the Zug GTFS feed (198,554 stop_times)", f"{t_read:.2f} s ({CPU[-1]:.2f})",
                 "about 1 s", ""))
    t_build, router = _timed(Router, feed, DATE)
    tt = router.timetable
    rows.append(("build the router for 2021-03-02 (timetable + transfers)",
                 f"{t_build:.2f} s ({CPU[-1]:.2f})", "",
                 f"{tt.n_trips:,} trips, {tt.n_stop_times:,} stop times, {tt.n_patterns} patterns"))

    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)
    cx, cy = to_utm.transform(8.515, 47.17)
    stops = router.stops()
    near = np.flatnonzero(np.hypot(stops.xy[:, 0] - cx, stops.xy[:, 1] - cy) < 12_000)
    rng = np.random.default_rng(0)
    pick = rng.choice(near, min(args.origins, len(near)), replace=False)
    origins = Points(stops.ids[pick], stops.xy[pick])

    # Warm-up (numba compilation is cached on disk after the first run).
    one = Points(origins.ids[:1], origins.xy[:1])
    router.travel_times(one, percentiles=PCTS, workers=1)

    # Stop level, one core, per origin.
    per = []
    n0 = len(CPU)
    for i in range(len(origins)):
        o = Points(origins.ids[i:i + 1], origins.xy[i:i + 1])
        dt_, _ = _timed(router.travel_times, o, departure=T0, window=WINDOW, percentiles=PCTS,
                        workers=1)
        per.append(dt_)
    med = statistics.median(per) * 1000
    med_cpu = statistics.median(_cpu_since(n0)) * 1000
    rows.append(("one-to-all, stop level (905 stops), 60 min window, p5/p50/p95, one core",
                 f"{med:.2f} ms ({med_cpu:.2f}) per origin (median of {len(per)})", "< 5 ms",
                 "includes access walk, all 60 departure minutes and the percentiles"))

    # Cells: every 100 m cell of a 30 km x 30 km square around Zug.
    g = np.arange(-15_000 + 50, 15_000, 100)
    gx, gy = np.meshgrid(cx + g, cy + g)
    cells = Points(np.arange(gx.size).astype(str).astype(object), np.column_stack([gx.ravel(), gy.ravel()]))
    t_prep, q = _timed(router._prepare, origins, cells)
    ranks = np.array([int(np.ceil(p / 100 * WINDOW)) for p in PCTS], dtype=np.int64)
    raptor_t, reduce_t = [], []
    reached = []
    n0 = len(CPU)
    window = Window(T0, WINDOW, 60, 120 * 60)
    state = router._new_state(len(cells))
    for o in range(len(origins)):
        d1, ev = _timed(router._events, q, o, state, window)
        d2, red = _timed(reduce_events, ev, len(cells), q.direct.row(o), window, ranks, True)
        raptor_t.append(d1)
        reduce_t.append(d2)
        reached.append(float((red[0][:, 1] < 2**40).mean()))
    total = [a + b for a, b in zip(raptor_t, reduce_t, strict=True)]
    cpu = _cpu_since(n0)
    total_cpu = [a + b for a, b in zip(cpu[0::2], cpu[1::2], strict=True)]
    rows.append((f"one-to-all incl. egress to {len(cells):,} cells of 100 m (30 km x 30 km), one core",
                 f"{statistics.median(total) * 1000:.1f} ms ({statistics.median(total_cpu) * 1000:.1f}) "
                 f"per origin (median of {len(total)})",
                 "< 20 ms",
                 f"RAPTOR + egress {statistics.median(raptor_t) * 1000:.1f} ms, percentiles + mean "
                 f"{statistics.median(reduce_t) * 1000:.1f} ms; {statistics.mean(reached):.0%} of "
                 f"cells reached (p50); walking legs to the cells prepared once in {t_prep:.2f} s"))

    # 1,000 x 1,000 matrix on both cores: points scattered around stops near Zug.
    n = 1000
    po = stops.xy[rng.choice(near, n)] + rng.uniform(-400, 400, size=(n, 2))
    pd_ = stops.xy[rng.choice(near, n)] + rng.uniform(-400, 400, size=(n, 2))
    mo = Points(np.array([f"o{i}" for i in range(n)], dtype=object), po)
    md = Points(np.array([f"d{i}" for i in range(n)], dtype=object), pd_)
    t_mat, res = _timed(router.travel_times, mo, md, departure=T0, window=WINDOW,
                        percentiles=PCTS, workers=2)
    share = float((res.seconds[:, :, 1] >= 0).mean())
    rows.append(("1,000 x 1,000 point matrix, 60 min window, p5/p50/p95, both cores",
                 f"{t_mat:.1f} s ({CPU[-1]:.1f})", "< 60 s",
                 f"{share:.0%} of pairs reachable within 120 min (p50)"))
    load_end = os.getloadavg()[0]

    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    table = ["| measurement | result | goal | notes |", "|---|---|---|---|"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    text = "\n".join(table)
    print(text)
    print(f"load average {load_start:.1f} at the start, {load_end:.1f} at the end")
    if args.write:
        section = (
            "## Router (Zug feed)\n\n"
            f"Measured {dt.date.today().isoformat()} on {machine} with\n"
            "`.venv/bin/python benchmarks/bench_router.py --write` (load average "
            f"{load_start:.1f} at the start, {load_end:.1f} at the end; wall clock, in brackets the "
            "process's CPU time, the steadier figure when other work shares the cores).\n\n"
            + text + "\n"
        )
        write_section("## Router (Zug feed)", section)


if __name__ == "__main__":
    main()
