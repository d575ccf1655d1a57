"""All Kreise of a statewide input in one command: time and memory of ``kurszugang run``.

Usage (from the project root)::

    .venv/bin/python benchmarks/bench_state.py                 # the 96 synthetic Kreise
    .venv/bin/python benchmarks/bench_state.py --n 6 --columns 3  # a quick look

The input is the synthetic Bavaria of ``benchmarks/bavaria_synthetic.py`` (the demo district
copied ``n`` times under distinct keys, written to ``benchmarks/.data/bayern/`` or
``benchmarks/.data/bayern_<n>/`` if absent). One config with ``[district] keys = "alle"`` and the
default output formats; ``kurszugang run CONFIG --workers W`` in a fresh process with an empty
feed cache (so the statewide feed is read once from the zip, then by every worker from the cache).

Measured: wall time and CPU time (user + system of the command and every process it waited for,
from ``os.wait4``); the peak resident set size of the main process and of each worker process,
sampled every 0.2 s from the process tree (psutil, a dependency of Dask), so a peak between two
samples can be missed; the seconds per Kreis as the run records them (table
``landkreise_uebersicht``, column ``seconds``: the Kreis's analysis on its worker, from the cut of
the statewide feed to the last file).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bavaria_synthetic import DEFAULT_OUT, generate_bavaria, write_config  # noqa: E402
from bench_extract import _machine  # noqa: E402


class _Sampler(threading.Thread):
    """Peak RSS per process of a process tree, sampled every ``every`` seconds."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.root, self.every = psutil.Process(pid), every
        self.peaks: dict[int, int] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                return
            for p in procs:
                try:
                    rss = p.memory_info().rss
                except psutil.Error:
                    continue
                self.peaks[p.pid] = max(self.peaks.get(p.pid, 0), rss)
            self.stop.wait(self.every)


def measure(cfg: Path, workers: int, cache: Path) -> dict[str, float | int]:
    """Run the command once; wall, CPU, peak RSS of the main process and of the workers."""
    env = {**os.environ, "KURSZUGANG_CACHE_DIR": str(cache)}
    cmd = [sys.executable, "-m", "kurszugang", "run", str(cfg), "--workers", str(workers), "-q"]
    with tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        sampler = _Sampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        sampler.stop.set()
        sampler.join()
        err.seek(0)
        stderr = err.read()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"kurszugang run exited with {code}:\n{stderr[-3000:]}")
    main = sampler.peaks.pop(proc.pid, 0)
    workers_rss = sorted((v for v in sampler.peaks.values() if v > 100 * 2**20), reverse=True)
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "main_rss": main,
            "worker_rss_max": workers_rss[0] if workers_rss else 0,
            "n_worker_processes": len(workers_rss)}


def per_kreis(out: Path) -> tuple[int, float, float, float]:
    """Kreise done, and the median, minimum and maximum seconds per Kreis."""
    from kurszugang.results import Results

    frame = Results.load(out).table("landkreise_uebersicht")
    done = frame[frame["status"] == "fertig"]
    s = done["seconds"].astype(float)
    return len(done), float(s.median()), float(s.min()), float(s.max())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=96, help="Kreise (tiles) of the synthetic set")
    ap.add_argument("--columns", type=int, default=12)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    data = DEFAULT_OUT if args.n == 96 else DEFAULT_OUT.with_name(f"bayern_{args.n}")
    bavaria = generate_bavaria(data, n=args.n, columns=args.columns, quiet=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cfg = write_config(folder / "bayern.toml", bavaria.paths, folder / "ausgabe")
        load = os.getloadavg()[0]
        m = measure(cfg, args.workers, folder / "cache")
        done, median, lo, hi = per_kreis(folder / "ausgabe")
    mib = 2**20
    print(f"machine: {_machine()}; load average before: {load:.1f}")
    print(f"command: kurszugang run bayern.toml --workers {args.workers} -q "
          f"({args.n} Kreise, keys = \"alle\", default formats)")
    print("| Kreise | workers | wall time | CPU time | per Kreis (median, min-max) | "
          "peak RSS main | peak RSS per worker (max) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {done} of {args.n} | {args.workers} | {m['wall_s'] / 60:.1f} min | "
          f"{m['cpu_s'] / 60:.1f} min | {median:.1f} s ({lo:.1f}-{hi:.1f} s) | "
          f"{m['main_rss'] / mib:.0f} MiB | {m['worker_rss_max'] / mib:.0f} MiB "
          f"({m['n_worker_processes']} processes) |")


if __name__ == "__main__":
    main()
