"""Run pyraptor (PyPI, pure Python RAPTOR) on files written by bench_compare.py.

Runs inside the comparison virtualenv (``benchmarks/.venvs/compare``, pandas < 2), never in the
project's environment. Usage::

    python _pyraptor_worker.py WORKDIR

WORKDIR holds (written by bench_compare.py):

- ``stops.csv``: stop_id, stop_name, parent_station, platform_code
- ``trips.csv``: trip_id, trip_short_name, trip_long_name (one row per trip instance of the date)
- ``stop_times.csv``: trip_id, stop_sequence, stop_id, arrival_time, departure_time (seconds)
- ``queries.json``: {"rounds": int, "queries": [[origin_station, departure_seconds], ...],
  "destinations": [station, ...]}

and receives:

- ``pyraptor_transfers.csv``: from_stop_id, to_stop_id, seconds (pyraptor's transfer model)
- ``pyraptor_results.csv``: query, destination, arrival (seconds; empty = not reached)
- ``pyraptor_timings.json``: preprocessing and per-query times in seconds, package versions.

pyraptor's own GTFS reader (``pyraptor/gtfs/timetable.py``) cannot read the Zug feed: it takes
services from calendar_dates.txt only, filters by agency_name, needs stop_code and platform_code
columns and drops every stop without a parent_station. So the benchmark hands it the trips of the
date as GTFS-shaped tables and times pyraptor's own conversion (``gtfs_to_pyraptor_timetable``),
which builds its stations (one per stop_name), routes and its transfers (2 minutes between the
platforms of a station).
"""

from __future__ import annotations

import json
import sys
import time
from importlib.metadata import version
from pathlib import Path

import joblib
import pandas as pd
from loguru import logger
from pyraptor.gtfs.timetable import GtfsTimetable, gtfs_to_pyraptor_timetable
from pyraptor.model.raptor import RaptorAlgorithm
from pyraptor.util import LARGE_NUMBER


def main(workdir: Path) -> None:
    logger.remove()  # pyraptor logs every round at INFO/DEBUG; keep the timings clean
    t = time.perf_counter()
    stops = pd.read_csv(workdir / "stops.csv", dtype=str, keep_default_na=False)
    trips = pd.read_csv(workdir / "trips.csv", dtype={"trip_id": str, "trip_short_name": str,
                                                      "trip_long_name": str},
                        keep_default_na=False)
    stop_times = pd.read_csv(workdir / "stop_times.csv", dtype={"trip_id": str, "stop_id": str})
    spec = json.loads((workdir / "queries.json").read_text())
    t_read = time.perf_counter() - t

    gtfs = GtfsTimetable()
    gtfs.stops = stops
    gtfs.trips = trips
    gtfs.stop_times = stop_times
    t = time.perf_counter()
    timetable = gtfs_to_pyraptor_timetable(gtfs, icd_fix=False)
    t_convert = time.perf_counter() - t
    # pyraptor's query scripts load the converted timetable from a joblib pickle on every call.
    t = time.perf_counter()
    joblib.dump(timetable, workdir / "pyraptor_timetable.pcl")
    t_dump = time.perf_counter() - t
    t = time.perf_counter()
    timetable = joblib.load(workdir / "pyraptor_timetable.pcl")
    t_load = time.perf_counter() - t

    pd.DataFrame(
        [(tr.from_stop.id, tr.to_stop.id, tr.layovertime) for tr in timetable.transfers],
        columns=["from_stop_id", "to_stop_id", "seconds"],
    ).to_csv(workdir / "pyraptor_transfers.csv", index=False)

    rounds = int(spec["rounds"])
    dest_stops = {name: timetable.stations.get_stops(name) for name in spec["destinations"]}
    rows: list[tuple[int, str, object]] = []
    t_run: list[float] = []
    t_extract: list[float] = []
    early_stop: list[int] = []
    for qi, (origin, dep) in enumerate(spec["queries"]):
        from_stops = timetable.stations.get(origin).stops
        t = time.perf_counter()
        raptor = RaptorAlgorithm(timetable)
        bag = raptor.run(from_stops, int(dep), rounds)
        t_run.append(time.perf_counter() - t)
        t = time.perf_counter()
        # pyraptor's query_raptor.py reads bag[rounds]; when no stop improves before the last
        # round, run() stops early and leaves bag[rounds] empty (every destination unreached).
        # bag_star holds the earliest arrival over all rounds: use it, and count the early stops.
        best = raptor.bag_star
        if not any(lab.earliest_arrival_time < LARGE_NUMBER for lab in bag[rounds].values()):
            early_stop.append(qi)
        for name, to_stops in dest_stops.items():
            arr = min(best[s].earliest_arrival_time for s in to_stops)
            rows.append((qi, name, arr if arr < LARGE_NUMBER else None))
        t_extract.append(time.perf_counter() - t)
    pd.DataFrame(rows, columns=["query", "destination", "arrival"]).to_csv(
        workdir / "pyraptor_results.csv", index=False)
    out = {
        "read_s": t_read,
        "convert_s": t_convert,
        "pickle_dump_s": t_dump,
        "pickle_load_s": t_load,
        "run_s": t_run,
        "extract_s": t_extract,
        "last_round_empty": early_stop,
        "counts": {
            "stations": len(timetable.stations),
            "stops": len(timetable.stops),
            "trips": len(timetable.trips),
            "routes": len(timetable.routes),
            "stop_times": len(timetable.trip_stop_times),
            "transfers": len(timetable.transfers),
        },
        "versions": {p: version(p) for p in ("pyraptor", "pandas", "numpy")},
        "python": sys.version.split()[0],
    }
    (workdir / "pyraptor_timings.json").write_text(json.dumps(out))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
