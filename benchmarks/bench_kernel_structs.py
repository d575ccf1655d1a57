"""The RAPTOR kernel's two structures as named tuples or as numba structrefs: which runs faster.

Usage (from the project root, with ../shared/data beside it)::

    .venv/bin/python benchmarks/bench_kernel_structs.py

`kurszugang.routing.raptor.range_raptor` takes the read-only timetable (:class:`TransitData`)
and the reusable search state (:class:`SearchState`) as numba structrefs. The same kernel
compiles for named tuples of the same arrays; this script times both on the Zug feed
(Tuesday 2021-03-02, one-to-all at stop level, departures 07:00 + 60 minutes, one core) in the
same process, alternating the two in rounds so that both see the same load (CPU time of the
thread, steadier than wall clock when other work shares the cores), and measures the first-call
compile time (wall clock) of each in a fresh process with an empty numba cache.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kurszugang.io.gtfs import read_gtfs  # noqa: E402
from kurszugang.routing.raptor import (  # noqa: E402
    _DATA_FIELDS,
    _STATE_FIELDS,
    Csr,
    SearchState,
    TransitData,
    Window,
    range_raptor,
)
from kurszugang.routing.router import Points, Router  # noqa: E402

FEED = ROOT.parent / "shared" / "data" / "gtfs-ch-kanton-zug-2021" / "gtfs_ch_zg_2021.zip"
DATE = dt.date(2021, 3, 2)


#: The same fields as named tuples of arrays (the other candidate).
_DataTuple = NamedTuple("_DataTuple", [(f, object) for f in _DATA_FIELDS])  # type: ignore[misc]
_StateTuple = NamedTuple("_StateTuple", [(f, object) for f in _STATE_FIELDS])  # type: ignore[misc]


def _as_tuples(data: TransitData, state: SearchState) -> tuple:
    return (_DataTuple(*(getattr(data, f) for f in _DATA_FIELDS)),
            _StateTuple(*(getattr(state, f) for f in _STATE_FIELDS)))


def _setup() -> tuple[Router, object, Points]:
    feed = read_gtfs(FEED)
    router = Router(feed, DATE)
    stops = router.stops()
    rng = np.random.default_rng(0)
    pick = rng.choice(len(stops), 100, replace=False)
    origins = Points(stops.ids[pick], stops.xy[pick])
    return router, router._prepare(origins, None), origins


def _compile_only(variant: str) -> None:
    """Child process: time the first call (compilation into an empty cache)."""
    router, q, _ = _setup()
    state = router._new_state(len(q.destinations))
    data = router._data
    if variant == "namedtuple":
        data, state = _as_tuples(data, state)
    a_idx, a_sec = q.access.row(0)
    egress = Csr(q.egress.indptr, q.egress.indices, q.egress.seconds)
    t = time.perf_counter()
    range_raptor(data, state, a_idx, a_sec, egress, Window(25200, 60, 60, 7200),
                 np.zeros(0, dtype=np.int64), False)
    print(f"{time.perf_counter() - t:.2f}")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--compile":
        _compile_only(sys.argv[2])
        return
    compile_s = {}
    for variant in ("structref", "namedtuple"):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "NUMBA_CACHE_DIR": cache}
            out = subprocess.run([sys.executable, __file__, "--compile", variant], env=env,
                                 capture_output=True, text=True, check=True)
            compile_s[variant] = float(out.stdout.strip().splitlines()[-1])
    router, q, origins = _setup()
    egress = Csr(q.egress.indptr, q.egress.indices, q.egress.seconds)
    window = Window(7 * 3600, 60, 60, 120 * 60)
    variants = {
        "structref": (router._data, router._new_state(len(q.destinations))),
        "namedtuple": _as_tuples(router._data, router._new_state(len(q.destinations))),
    }
    bound = np.zeros(0, dtype=np.int64)
    times: dict[str, list[float]] = {v: [] for v in variants}
    results: dict[str, list[int]] = {v: [] for v in variants}
    for rnd in range(6):
        for name, (data, state) in variants.items():
            for o in range(len(origins)):
                a_idx, a_sec = q.access.row(o)
                t = time.thread_time()
                ev = range_raptor(data, state, a_idx, a_sec, egress, window, bound, False)
                if rnd:  # round 0 warms up (loads the cache)
                    times[name].append(time.thread_time() - t)
                else:
                    results[name].append(int(ev[2].sum()))
    assert results["namedtuple"] == results["structref"], "the two variants disagree"
    assert sum(results["structref"]) > 0
    load = os.getloadavg()[0]
    print("| structures | RAPTOR per origin, CPU time (median of 500) | first call (compile) |")
    print("|---|---|---|")
    for name in variants:
        print(f"| {name} | {statistics.median(times[name]) * 1000:.2f} ms | "
              f"{compile_s[name]:.1f} s |")
    print(f"load average at the end: {load:.1f}")


if __name__ == "__main__":
    main()
