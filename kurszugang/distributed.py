"""Distributed runs on Dask: many districts at once, and large matrices in origin batches.

Needs the ``distributed`` extra (``pip install "kurszugang[distributed]"``). Without a scheduler
address a :class:`distributed.LocalCluster` is started on this machine; with one
(``tcp://host:8786``) the work goes to an existing Dask cluster, whose workers must have
kurszugang installed and see the input files under the same paths.

- :func:`run_districts` runs :func:`kurszugang.pipeline.run_analysis` once per config as a task.
  A district that fails is reported with its error; the others' results are kept. Tasks whose
  worker dies are rescheduled by Dask; failed tasks are retried ``retries`` times.
- :func:`distributed_matrix` splits the origins of a travel-time matrix into batches, one task
  each. Each worker builds the router for a (feed, date, options) once and keeps it for its
  later tasks, so feeds and walking graphs are loaded once per worker, not once per task.

Results are the same as those of a single-process run: the tasks run the same code on the same
inputs, and matrix batches are put back together in origin order.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kurszugang.config import Config
from kurszugang.errors import KurszugangError

log = logging.getLogger(__name__)


def _client(scheduler: str | None, n_workers: int, *,
            memory_limit: str = "auto") -> tuple[Any, Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise KurszugangError("verteilte Läufe brauchen Dask: pip install "
                              "'kurszugang[distributed]'") from exc
    # Dask logs every scheduler and nanny step at INFO level: keep the user's terminal readable.
    if not log.isEnabledFor(logging.DEBUG):
        logging.getLogger("distributed").setLevel(logging.WARNING)
    if scheduler:
        try:
            return Client(scheduler, timeout="5s"), None
        except OSError as exc:
            raise KurszugangError(f"der Dask-Scheduler {scheduler} ist nicht erreichbar: "
                                  f"{exc}") from None
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                           dashboard_address=":0", memory_limit=memory_limit)
    return Client(cluster), cluster


@dataclass
class DistrictResult:
    """What one district's task gave back: its key, output folder, files and headline, or error."""

    key: str
    out_dir: str
    files: list[str] = field(default_factory=list)
    headline: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _run_one(cfg: Config) -> DistrictResult:
    from kurszugang.pipeline import run_analysis

    result = run_analysis(cfg, progress=False)
    return DistrictResult(cfg.district.key, str(result.out_dir), [str(f) for f in result.files],
                          result.headline)


def run_districts(configs: Sequence[Config], *, scheduler: str | None = None, n_workers: int = 2,
                  retries: int = 2) -> list[DistrictResult]:
    """Run the analysis of several districts as Dask tasks.

    Parameters
    ----------
    configs
        One config per district (each with its own output folder).
    scheduler
        Address of an existing Dask scheduler; ``None`` starts a LocalCluster.
    n_workers
        Worker processes of the LocalCluster (one thread each).
    retries
        How often a failing task is tried again before the district is reported as failed.

    Returns
    -------
    list of DistrictResult
        In the order of ``configs``; failed districts carry ``error`` (the others are kept).

    Examples
    --------
    >>> # starts a Dask cluster of worker processes and runs two whole districts (minutes)
    >>> results = run_districts([cfg_a, cfg_b], n_workers=2)  # doctest: +SKIP
    >>> [r.ok for r in results]  # doctest: +SKIP
    [True, True]
    """
    outs = [str(c.path(c.output.dir)) for c in configs]
    if len(set(outs)) != len(outs):
        raise KurszugangError("jeder Landkreis braucht seinen eigenen Ausgabeordner (output.dir)")
    client, cluster = _client(scheduler, n_workers)
    try:
        futures = [client.submit(_run_one, cfg, retries=retries, pure=False,
                                 key=f"district-{i}-{cfg.district.key or 'x'}")
                   for i, cfg in enumerate(configs)]
        results: list[DistrictResult] = []
        for cfg, out, fut in zip(configs, outs, futures, strict=True):
            try:
                results.append(fut.result())
            except Exception as exc:
                log.error("Landkreis %s fehlgeschlagen: %s", cfg.district.key, exc)
                results.append(DistrictResult(cfg.district.key, out,
                                              error=f"{type(exc).__name__}: {exc}"))
        return results
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --- travel-time matrices in origin batches ------------------------------------------------------

_ROUTERS: dict[tuple, Any] = {}
_ROUTERS_LOCK = threading.Lock()
#: How many routers a worker built (a test checks that it is once per worker).
BUILDS: list[tuple] = []


def _router(gtfs: str, date: str, osm: str | None, options: tuple) -> Any:
    """The router for (feed, date, walking network, options), built once per worker process."""
    key = (gtfs, date, osm, options)
    with _ROUTERS_LOCK:
        router = _ROUTERS.get(key)
        if router is None:
            from kurszugang.io.gtfs import read_gtfs
            from kurszugang.io.osm import read_walk_network
            from kurszugang.routing.router import Router

            net = read_walk_network(osm) if osm else None
            router = Router(read_gtfs(gtfs), date, walk_network=net, **dict(options))
            _ROUTERS[key] = router
            BUILDS.append(key)
        return router


def _batch(gtfs: str, date: str, osm: str | None, options: tuple, origins: Any,
           destinations: Any, query: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, int, int]:
    import os

    router = _router(gtfs, date, osm, options)
    tt = router.travel_times(origins, destinations, workers=1, **query)
    return tt.seconds, tt.best, os.getpid(), len(BUILDS)


def distributed_matrix(gtfs: str | Path, date: str, origins: Any, destinations: Any, *,
                       osm: str | Path | None = None, departure: str = "07:00", window: int = 60,
                       percentiles: Sequence[int] = (50,), max_time_min: float = 120,
                       batch_size: int = 200, scheduler: str | None = None, n_workers: int = 2,
                       retries: int = 2, **router_options: Any) -> dict[str, Any]:
    """A travel-time matrix computed in origin batches on Dask workers.

    Parameters
    ----------
    gtfs, date, osm
        Feed, service date and optional OSM extract; each worker loads them once.
    origins, destinations
        :class:`~kurszugang.routing.router.Points` or tables with ``id, lon, lat``.
    departure, window, percentiles, max_time_min
        As in :meth:`~kurszugang.routing.router.Router.travel_times`.
    batch_size
        Origins per task.
    scheduler, n_workers, retries
        As in :func:`run_districts`.
    **router_options
        Passed to the :class:`~kurszugang.routing.router.Router` (walking speed, slack, ...).

    Returns
    -------
    dict
        ``seconds`` (n_origins, n_destinations, n_percentiles), ``best``, ``percentiles``,
        ``worker_pids`` (the processes that computed the batches) and ``routers_built`` (per
        worker process, how many routers it built: 1 when it loaded the feed once).
    """
    from kurszugang.routing.router import Points, as_points

    o = origins if isinstance(origins, Points) else as_points(origins, "origins")
    d = destinations if isinstance(destinations, Points) else as_points(destinations, "destinations")
    options = tuple(sorted(router_options.items()))
    query = {"departure": departure, "window": window, "percentiles": tuple(percentiles),
             "max_time_min": max_time_min}
    client, cluster = _client(scheduler, n_workers)
    try:
        d_future = client.scatter(d, broadcast=True)
        futures = []
        for i in range(0, len(o), batch_size):
            part = Points(o.ids[i:i + batch_size], o.xy[i:i + batch_size])
            futures.append(client.submit(_batch, str(gtfs), str(date), str(osm) if osm else None,
                                         options, part, d_future, query, retries=retries,
                                         pure=False))
        parts = client.gather(futures)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return {"seconds": np.concatenate([p[0] for p in parts]),
            "best": np.concatenate([p[1] for p in parts]),
            "percentiles": tuple(percentiles),
            "worker_pids": sorted({p[2] for p in parts}),
            "routers_built": {pid: max(p[3] for p in parts if p[2] == pid)
                              for pid in {p[2] for p in parts}}}
