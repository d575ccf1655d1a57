"""Headway-averaged travel times with peartree (PyPI), for bench_compare.py.

Runs inside the comparison virtualenv (``benchmarks/.venvs/compare``, pandas < 2), never in the
project's environment. Usage::

    python _headway_worker.py WORKDIR

WORKDIR holds ``headway_query.json`` (written by bench_compare.py)::

    {"feed": path, "date": "YYYY-MM-DD", "start": s, "end": s, "walk_speed_kmph": v,
     "connection_threshold_m": m, "origins": [stop_id, ...], "destinations": [stop_id, ...]}

and receives ``headway_results.csv`` (origin, destination, seconds, boarding_cost; seconds empty
= no path) and ``headway_info.json`` (timings, graph size, versions).

The model is peartree's: ``load_feed_as_graph`` turns the trips of the date between ``start`` and
``end`` into a graph whose nodes are stops carrying a ``boarding_cost`` (half the mean headway
at the stop, over all its routes and both directions, 30 minutes where a stop has a single
arrival in the period) and whose edges are the mean in-vehicle times between consecutive stops
(all routes merged) plus walking edges between stops closer than the connection threshold. The
travel time of a pair is the boarding cost at the origin plus the shortest path. peartree's
edges do not say which route they belong to, so a change of vehicle costs no extra wait.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
import warnings
from importlib.metadata import version
from pathlib import Path

import networkx as nx
import pandas as pd
import partridge as ptg
import peartree as pt


def main(workdir: Path) -> None:
    spec = json.loads((workdir / "headway_query.json").read_text())
    name = "zug"
    t = time.perf_counter()
    by_date = ptg.read_service_ids_by_date(spec["feed"])
    services = by_date[dt.date.fromisoformat(spec["date"])]
    feed = ptg.load_feed(spec["feed"], view={"trips.txt": {"service_id": services}})
    t_load = time.perf_counter() - t
    t = time.perf_counter()
    with warnings.catch_warnings():
        # peartree 0.6.4 calls Series.iteritems (FutureWarning under pandas 1.5) once per stop.
        warnings.simplefilter("ignore", FutureWarning)
        graph = pt.load_feed_as_graph(
            feed, int(spec["start"]), int(spec["end"]), name=name,
            walk_speed_kmph=float(spec["walk_speed_kmph"]),
            connection_threshold=float(spec["connection_threshold_m"]),
            impute_walk_transfers=True, use_multiprocessing=False)
    t_graph = time.perf_counter() - t

    dests = [f"{name}_{d}" for d in spec["destinations"]]
    rows = []
    t_paths = []
    for o in spec["origins"]:
        node = f"{name}_{o}"
        if node not in graph:
            rows += [(o, d, None, None) for d in spec["destinations"]]
            continue
        t = time.perf_counter()
        dist = nx.single_source_dijkstra_path_length(graph, node, weight="length")
        t_paths.append(time.perf_counter() - t)
        board = float(graph.nodes[node]["boarding_cost"])
        rows += [(o, d, board + dist[n] if n in dist else None, board)
                 for d, n in zip(spec["destinations"], dests, strict=True)]
    pd.DataFrame(rows, columns=["origin", "destination", "seconds", "boarding_cost"]).to_csv(
        workdir / "headway_results.csv", index=False)
    modes = pd.Series([d.get("mode") for _, _, d in graph.edges(data=True)]).value_counts()
    info = {
        "load_s": t_load,
        "graph_s": t_graph,
        "paths_s": t_paths,
        "nodes": graph.number_of_nodes(),
        "edges": {str(k): int(v) for k, v in modes.items()},
        "trips": len(feed.trips),
        "versions": {p: version(p) for p in ("peartree", "partridge", "networkx", "pandas")},
    }
    (workdir / "headway_info.json").write_text(json.dumps(info))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
