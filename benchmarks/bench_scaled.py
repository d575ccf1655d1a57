"""Router on scaled feeds: the Zug day tiled up to about 10 million stop_times.

Usage (from the project root, with ../shared/data beside it)::

    .venv/bin/python benchmarks/bench_scaled.py            # print the table
    .venv/bin/python benchmarks/bench_scaled.py --write    # and update docs/benchmarks.md
    .venv/bin/python benchmarks/bench_scaled.py --sizes 1x1,4x5   # only some sizes

The trips of Tuesday 2021-03-02 (3,569 trips, 54,525 stop_times) are copied ``nx * ny`` times
on a grid (:mod:`scaled_feed`): ids prefixed per copy, stops shifted so that the dense cores of
neighbouring copies overlap by 1.5 km; the router links them with walking transfers of up to
1 km (it computes transfers from coordinates). Nothing is written to disk.

Each size runs in a fresh subprocess, so that the peak memory (``ru_maxrss``) is that size's.
Per size: the time to build the scaled feed, to build the router (timetable + transfers), the
median time of a one-to-all query at stop level (all stops of all copies as destinations) from
stops of the central copy within 12 km of Zug (departure 07:00, 60 min window, p5/p50/p95, one
core), the stops reached (p50 within 120 min) and the peak RSS. With ``--isin-fix`` a second
subprocess per size builds the router once more with pandas' ``ArrowStringArray.isin`` replaced
by a pyarrow hash lookup (the fix proposed for ``compile_timetable``; the package is unchanged).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _docs import write_section  # noqa: E402
from scaled_feed import scaled_feed, tile_grid  # noqa: E402

from kurszugang.io.gtfs import read_gtfs  # noqa: E402
from kurszugang.routing.raptor import Window, reduce_events  # noqa: E402
from kurszugang.routing.router import Points, Router  # noqa: E402

FEED = ROOT.parent / "shared" / "data" / "gtfs-ch-kanton-zug-2021" / "gtfs_ch_zg_2021.zip"
DATE = dt.date(2021, 3, 2)
T0 = 7 * 3600
WINDOW = 60
PCTS = (5, 50, 95)
ZUG_LONLAT = (8.515, 47.17)
OVERLAP_M = 1500.0
DEFAULT_SIZES = "1x1,4x5,7x7,13x14"
HEADING = "## Router on scaled feeds"


def _rss_mb() -> float:
    """Peak resident set size of this process so far, MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _clock() -> tuple[float, float]:
    """Wall-clock and CPU time of this process now, seconds."""
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> list[float]:
    """Wall-clock and CPU seconds since ``start``."""
    now = _clock()
    return [now[0] - start[0], now[1] - start[1]]


def _median(pairs: list[list[float]]) -> list[float]:
    """Medians of the wall-clock and of the CPU times."""
    return [statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)]


def _s(t: list[float]) -> str:
    """Seconds as "wall (CPU)"."""
    return f"{t[0]:.1f} s ({t[1]:.1f})"


def _ms(t: list[float]) -> str:
    """Milliseconds as "wall (CPU)"."""
    return f"{t[0] * 1000:,.1f} ms ({t[1] * 1000:,.1f})"


def _rss_now_mb() -> float:
    """Current resident set size of this process, MB (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _patch_isin() -> None:
    """Replace pandas' ArrowStringArray.isin (a Python loop over the values) by pyarrow's hash."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pandas.core.arrays.string_arrow import ArrowStringArray

    def isin(self: ArrowStringArray, values: object) -> np.ndarray:
        if isinstance(values, pd.Series | pd.Index):
            values = values.array
        if isinstance(values, ArrowStringArray):
            pool = values._pa_array.combine_chunks()
        else:
            pool = pa.array(np.asarray(values, dtype=object), type=pa.string(), from_pandas=True)
        pool = pc.unique(pool.cast(self._pa_array.type))
        found = pc.is_in(self._pa_array, value_set=pool, skip_nulls=True)
        return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)

    ArrowStringArray.isin = isin  # type: ignore[method-assign]


def _nbytes(obj: object) -> int:
    """Bytes held by the numpy arrays among an object's attributes."""
    return sum(v.nbytes for v in vars(obj).values() if isinstance(v, np.ndarray))


def measure(nx: int, ny: int, n_origins: int, *, build_only: bool = False) -> dict[str, object]:
    """Build the ``nx x ny`` feed and its router, time queries; figures as a dict (one size)."""
    out: dict[str, object] = {"nx": nx, "ny": ny}
    base = read_gtfs(FEED)
    out["rss_read"] = _rss_mb()
    grid = tile_grid(base, DATE, nx, ny, overlap_m=OVERLAP_M)
    scaled_feed(base, DATE, tile_grid(base, DATE, 1, 1))  # warm-up (pyproj, pyarrow kernels)
    t = _clock()
    feed = scaled_feed(base, DATE, grid)
    out["t_feed"] = _since(t)
    del base
    out["rss_feed"] = _rss_mb()
    t = _clock()
    router = Router(feed, DATE)
    out["t_build"] = _since(t)
    out["rss_build"] = _rss_mb()
    out["rss_now"] = _rss_now_mb()
    tt = router.timetable
    out.update(stops=tt.n_stops, trips=tt.n_trips, stop_times=tt.n_stop_times,
               patterns=tt.n_patterns, transfers=len(router.transfers.indices),
               step_x=grid.step_x, step_y=grid.step_y, core_x=grid.core_x, core_y=grid.core_y,
               mb_router=(_nbytes(tt) + _nbytes(router.transfers)) / 2**20)
    if build_only:
        return out

    # Copy number of every stop ("k<copy>:<id>") and the walking transfers between copies.
    width = len(str(max(grid.n - 1, 0)))
    copy = pd.Series(tt.stop_ids.astype(str)).str.slice(1, 1 + width).astype(np.int64).to_numpy()
    rows = np.repeat(np.arange(tt.n_stops), np.diff(router.transfers.indptr))
    out["transfers_between_copies"] = int((copy[rows] != copy[router.transfers.indices]).sum())

    # Origins: stops of the central copy within 12 km of Zug, the same ones at every size.
    from pyproj import Transformer

    cx, cy = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True).transform(*ZUG_LONLAT)
    stops = router.stops()
    central = np.flatnonzero((copy == grid.centre)
                             & (np.hypot(stops.xy[:, 0] - cx, stops.xy[:, 1] - cy) < 12_000))
    central = central[np.argsort(stops.ids[central].astype(str))]
    pick = np.random.default_rng(0).choice(central, min(n_origins, len(central)), replace=False)
    origins = Points(stops.ids[pick], stops.xy[pick])
    one = [Points(origins.ids[i:i + 1], origins.xy[i:i + 1]) for i in range(len(origins))]

    kw = {"departure": T0, "window": WINDOW, "percentiles": PCTS, "workers": 1}
    router.travel_times(one[0], Points(stops.ids[:2], stops.xy[:2]), **kw)  # numba loads its cache
    t = _clock()
    router.travel_times(one[0], **kw)  # first one-to-all call: sets up the legs to all stops
    out["t_first"] = _since(t)
    single = []
    for o in one:
        t = _clock()
        router.travel_times(o, **kw)
        single.append(_since(t))
    t = _clock()
    res = router.travel_times(origins, **kw)
    out["t_batch"] = [v / len(origins) for v in _since(t)]
    # RAPTOR and the percentiles alone, per origin (the walking legs prepared once, as above).
    q = router._prepare(origins, None)
    ranks = np.array([math.ceil(p / 100 * WINDOW) for p in PCTS], dtype=np.int64)
    core = []
    window = Window(T0, WINDOW, 60, 120 * 60)
    state = router._new_state(len(q.destinations))
    for o in range(len(origins)):
        t = _clock()
        ev = router._events(q, o, state, window)
        reduce_events(ev, len(q.destinations), q.direct.row(o), window, ranks, True)
        core.append(_since(t))
    out["t_raptor"] = _median(core)
    reached = res.seconds[:, :, PCTS.index(50)] >= 0
    out.update(
        n_origins=len(origins),
        t_single=_median(single),
        reached=float(np.median(reached.sum(axis=1))),
        copies_reached=[int(len(np.unique(copy[r]))) for r in reached],
        rss_total=_rss_mb(),
    )
    return out


def _child(args: argparse.Namespace) -> None:
    nx, ny = (int(v) for v in args.one.split("x"))
    if args.isin_fix:
        _patch_isin()
    print(json.dumps(measure(nx, ny, args.origins, build_only=args.build_only)))


def _run_child(size: str, n_origins: int, *extra: str) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--one", size, "--origins", str(n_origins), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"size {size} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _tables(results: list[dict], fixed: dict[str, dict]) -> tuple[str, str]:
    """The build-and-memory table and the query table (Markdown)."""
    head = ["copies", "stop_times", "stops", "patterns", "walking transfers (between copies)",
            "build feed", "build router", "build router, Arrow isin", "router arrays",
            "RSS after feed", "peak RSS (build)", "RSS after build"]
    build = [_row(head), "|" + "---|" * len(head)]
    for r in results:
        key = f"{r['nx']}x{r['ny']}"
        fx = fixed.get(key)
        build.append(_row([
            f"{r['nx'] * r['ny']} ({key})", f"{r['stop_times']:,}", f"{r['stops']:,}",
            f"{r['patterns']:,}", f"{r['transfers']:,} ({r['transfers_between_copies']:,})",
            _s(r["t_feed"]), _s(r["t_build"]),
            f"{_s(fx['t_build'])}, peak {fx['rss_build']:,.0f} MB" if fx else "",
            f"{r['mb_router']:,.0f} MB", f"{r['rss_feed']:,.0f} MB", f"{r['rss_build']:,.0f} MB",
            f"{r['rss_now']:,.0f} MB",
        ]))
    head = ["copies", "stop_times", "first one-to-all call", "one call per origin (median)",
            "batch, per origin", "RAPTOR + percentiles, per origin", "stops reached (p50, median)", "copies reached (median, max)"]
    query = [_row(head), "|" + "---|" * len(head)]
    for r in results:
        cr = r["copies_reached"]
        query.append(_row([
            f"{r['nx'] * r['ny']}", f"{r['stop_times']:,}", _ms(r["t_first"]),
            _ms(r["t_single"]), _ms(r["t_batch"]), _ms(r["t_raptor"]), f"{r['reached']:,.0f}", f"{int(np.median(cr))}, {max(cr)}",
        ]))
    return "\n".join(build), "\n".join(query)


def _wrap(text: str, width: int = 100) -> str:
    """Re-wrap the prose paragraphs of Markdown text; headings and tables stay as they are."""
    blocks = text.split("\n\n")
    out = [b if b.startswith(("#", "|")) else textwrap.fill(
        " ".join(b.split()), width, break_long_words=False, break_on_hyphens=False)
        for b in blocks]
    return "\n\n".join(out)


def _section(results: list[dict], fixed: dict[str, dict], meta: dict) -> str:
    """The docs section: how the feeds were built, the two tables and what they show."""
    total_s, load = meta["total_s"], meta["load"]
    r0, big = results[0], results[-1]
    n_or = r0["n_origins"]
    build, query = _tables(results, fixed)
    fx = fixed.get(f"{big['nx']}x{big['ny']}")
    isin = (f" At {big['stop_times']:,} stop_times the build takes {big['t_build'][1]:.0f} s of "
            f"CPU, and {fx['t_build'][1]:.0f} s with a pyarrow hash lookup in place of pandas' "
            "`ArrowStringArray.isin` (column \"Arrow isin\")." if fx else "")
    peak_fx = f" ({fx['rss_build'] / 1024:.1f} GB with the Arrow isin)" if fx else ""
    return _wrap(f"""{HEADING}

Measured {meta['date']} on {meta['machine']} with
`.venv/bin/python benchmarks/bench_scaled.py {meta.get('flags', '--write')}` ({total_s / 60:.1f} min in all;
load average {load[0]:.1f} at the start and {load[1]:.1f} at the end: other work shared the cores,
so wall-clock times can be off by a factor up to two; every time is given as wall clock with the
process's CPU time in brackets, the steadier figure).

**Feeds.** The 3,569 trips (54,525 stop_times) of Tuesday 2021-03-02 of the Zug feed, copied
`nx × ny` times on a grid by `benchmarks/scaled_feed.py`: stop, trip, route, block and
parent-station ids prefixed `k<copy>:`, one service running only on that date, stops shifted by
{r0['step_x'] / 1000:.1f} km east-west and {r0['step_y'] / 1000:.1f} km north-south per copy. The
steps are the extent of one copy's dense core (5th to 95th percentile of its stop coordinates,
{r0['core_x'] / 1000:.1f} km × {r0['core_y'] / 1000:.1f} km) minus 1.5 km, so neighbouring cores
overlap by 1.5 km (the long rail lines of the feed reach further into the neighbours). The router
links stops of different copies by walking transfers (straight line × 1.3, up to 1 km, computed
from coordinates). The central copy keeps the original coordinates. The feeds are built in
memory; nothing is written to disk. Every size runs in a fresh subprocess.

**Build and memory.** "Build router" is `Router(feed, date)`: `compile_timetable` and the
walking transfers. (With `--isin-fix`, "Build router, Arrow isin" rebuilds it with pandas'
`ArrowStringArray.isin` patched; the package now does its id lookups in Arrow itself, so the
column stays empty.) "Router arrays" is the size of the numpy arrays the router keeps (timetable and transfers). RSS
after feed is the peak (`ru_maxrss`) after reading the Zug feed and building the scaled feed;
peak RSS (build) the peak after building the router; RSS after build the resident size then
(the feed is still held).

{build}

**Query.** One-to-all at stop level (destinations: every stop of every copy), departures 07:00 +
60 minutes, p5/p50/p95, at most 120 minutes, one core, from the same {n_or} stops of the central
copy within 12 km of Zug at every size. "First call" is the first one-to-all call of a new router
(it also sets up the walking legs to all stops, which the router caches); "one call per origin"
is the median of `travel_times` called with one origin after that (what
`benchmarks/bench_router.py` measures); "batch" is one call with all {n_or} origins divided by
{n_or}. Stops and copies reached count the destinations with a p50 travel time within 120 minutes.

{query}

**Why the query time grows little.** A one-to-all query with a 120-minute limit only reaches the
copies within reach: at most {max(big['copies_reached'])} of {big['nx'] * big['ny']} copies at the
largest size (median {int(np.median(big['copies_reached']))}), and the stops reached stay at
{big['reached']:,.0f} from {results[1]['nx'] * results[1]['ny'] if len(results) > 1 else 1} copies
on. RAPTOR's rounds only scan the patterns at stops that were reached, so the search itself
grows far less than the feed: "RAPTOR + percentiles" goes from {r0['t_raptor'][1] * 1000:.1f} ms to
{big['t_raptor'][1] * 1000:.1f} ms of CPU per origin for {big['stops'] / r0['stops']:.0f} times the stops,
and what grows there is proportional to the whole network, not to the search: the reduction to
percentiles for every destination (one result row per stop of the feed). The label arrays of
`range_raptor` (`(max_rides + 1) × n_stops`) are kept in a reusable search state, and a search
resets only the labels of the stops the previous one reached. A call with one origin grows a little more
({r0['t_single'][1] * 1000:.1f} to {big['t_single'][1] * 1000:.1f} ms of CPU): results have one row
per stop of the whole feed. The first call of a router builds the egress legs from every stop
to every stop, once; the stops' hash and k-d tree are kept by the router.

**Build time and memory.** The id lookups of `compile_timetable` run in Arrow (pandas'
`Series.isin` on Arrow-backed strings builds a Python object per value: before this was changed
the build of the largest feed took 72 s of CPU and peaked at 6.3 GB).{isin} The peak
memory of the build is several times the router's own arrays: the compilation's temporary frames
(a copy of the date's stop_times, sorted), the factorised trip-instance key (a pandas MultiIndex
of `(day_shift, trip_id, instance_start)` materialised as Python tuples) and the padded
pattern-key matrix (`n_trips × longest trip`, int64) that `np.unique(axis=0)` sorts. All sizes
ran on this 23 GB machine: the largest peaks at {big['rss_build'] / 1024:.1f} GB{peak_fx}, of which
{big['rss_feed'] / 1024:.1f} GB was reached already with the scaled feed (and the Zug feed it was
made from) in memory; the router's own arrays take {big['mb_router']:,.0f} MB.
""")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument("--sizes", default=DEFAULT_SIZES,
                        help=f"grids nx x ny, comma-separated (default {DEFAULT_SIZES})")
    parser.add_argument("--origins", type=int, default=20, help="origins timed per size")
    parser.add_argument("--isin-fix", action="store_true",
                        help="also time the router build with an Arrow-native isin")
    parser.add_argument("--save", type=Path, help="also write the measured figures to this JSON file")
    parser.add_argument("--load", type=Path,
                        help="do not measure: print (and --write) the figures of a --save file")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child: measure one size, print JSON
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        _child(args)
        return

    if args.load:
        saved = json.loads(args.load.read_text())
        _report(saved["results"], saved["fixed"], saved["meta"], write=args.write)
        return
    load0 = os.getloadavg()[0]
    t_all = time.perf_counter()
    results, fixed = [], {}
    for size in args.sizes.split(","):
        r = _run_child(size, args.origins)
        results.append(r)
        print(f"{size}: {r['stop_times']:,} stop_times, router {_s(r['t_build'])}, "
              f"query {_ms(r['t_single'])}, peak {r['rss_total']:,.0f} MB", flush=True)
        if args.isin_fix:
            fixed[size] = _run_child(size, args.origins, "--build-only", "--isin-fix")
            print(f"{size}: router with Arrow isin {_s(fixed[size]['t_build'])}, peak "
                  f"{fixed[size]['rss_build']:,.0f} MB", flush=True)
    meta = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                   f"Python {platform.python_version()}",
        "total_s": time.perf_counter() - t_all,
        "load": [load0, os.getloadavg()[0]],
        "flags": "--isin-fix --write" if args.isin_fix else "--write",
    }
    if args.save:
        args.save.write_text(json.dumps({"results": results, "fixed": fixed, "meta": meta}))
    _report(results, fixed, meta, write=args.write)


def _report(results: list[dict], fixed: dict[str, dict], meta: dict, *, write: bool) -> None:
    """Print the tables; with ``write`` replace this benchmark's section of docs/benchmarks.md."""
    build, query = _tables(results, fixed)
    print(build + "\n\n" + query)
    if write:
        section = _section(results, fixed, meta)
        write_section(HEADING, section)


if __name__ == "__main__":
    main()
