"""Distributed runs on a Dask LocalCluster give the same results as a plain run."""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

distributed = pytest.importorskip("distributed", reason="needs the 'distributed' extra (Dask)")

from kurszugang.config import Config, Coverage, Dates, District, Grid, Inputs, Output  # noqa: E402
from kurszugang.demo import HOLIDAY_WEEKDAY, SCHOOL_DAY, demo_files  # noqa: E402
from kurszugang.demo.generate import generate  # noqa: E402
from kurszugang.distributed import distributed_matrix, run_districts  # noqa: E402
from kurszugang.pipeline import run_analysis  # noqa: E402
from kurszugang.routing.router import Points  # noqa: E402
from kurszugang.schema import TABLES  # noqa: E402

FORMATS = ("csv",)
#: The CSV tables a run writes (one per table of the schema with a file name).
N_TABLES = sum(1 for t in TABLES.values() if t.file and t.group == "run")


def _config(folder: Path, out: Path, key: str) -> Config:
    f = demo_files(folder)
    return Config(
        district=District(key=key, name=f"Beispiel {key}"),
        inputs=Inputs(boundaries=str(f.boundaries), boundaries_layer="vg250_gem", gtfs=str(f.gtfs),
                      courses=str(f.courses), population=str(f.population), osm=str(f.osm)),
        dates=Dates(school_day=SCHOOL_DAY.isoformat(), holiday=HOLIDAY_WEEKDAY.isoformat()),
        grid=Grid(participant_factor=0.05), coverage=Coverage(),
        output=Output(dir=str(out), formats=FORMATS))


@pytest.fixture(scope="module")
def districts(tmp_path_factory) -> list[Path]:
    """Three fictional districts: the bundled one and two more seeds."""
    root = tmp_path_factory.mktemp("districts")
    folders = [demo_files().boundaries.parent]
    for seed in (7, 11):
        generate(root / f"seed{seed}", seed=seed)
        folders.append(root / f"seed{seed}")
    return folders


def _tables(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv"))}


def test_several_districts_on_a_local_cluster_equal_a_plain_run(districts, tmp_path: Path):
    configs = [_config(f, tmp_path / "dask" / f"d{i}", "09999") for i, f in enumerate(districts)]
    results = run_districts(configs, n_workers=2)
    assert [r.ok for r in results] == [True, True, True]
    for i, (cfg, res) in enumerate(zip(configs, results, strict=True)):
        plain = run_analysis(dataclasses.replace(
            cfg, output=dataclasses.replace(cfg.output, dir=str(tmp_path / "plain" / f"d{i}"))),
            progress=False)
        dask_tables = _tables(Path(res.out_dir))
        assert len(dask_tables) == N_TABLES
        assert dask_tables == _tables(plain.out_dir)
        assert res.headline == plain.headline
    # Different districts give different numbers.
    assert results[0].headline != results[1].headline


def test_a_failing_district_is_reported_and_the_others_kept(districts, tmp_path: Path):
    good = _config(districts[0], tmp_path / "good", "09999")
    bad = dataclasses.replace(_config(districts[1], tmp_path / "bad", "09998"),
                              inputs=dataclasses.replace(good.inputs, gtfs=str(tmp_path / "nope.zip")))
    results = run_districts([good, bad], n_workers=2, retries=1)
    assert results[0].ok and len(_tables(Path(results[0].out_dir))) == N_TABLES
    assert not results[1].ok
    assert "nope.zip existiert nicht" in results[1].error


def test_the_run_completes_when_a_worker_is_killed(districts, tmp_path: Path):
    from distributed import LocalCluster

    configs = [_config(f, tmp_path / f"k{i}", "09999") for i, f in enumerate(districts)]
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    try:
        client = distributed.Client(cluster)
        pids = client.run(os.getpid)
        client.close()
        victim = sorted(pids.values())[0]
        killed = threading.Event()

        def kill_soon() -> None:
            time.sleep(3.0)  # the tasks are running by then (each takes several seconds)
            os.kill(victim, signal.SIGKILL)
            killed.set()

        threading.Thread(target=kill_soon, daemon=True).start()
        results = run_districts(configs, scheduler=cluster.scheduler_address)
        assert killed.wait(30)
        assert [r.ok for r in results] == [True, True, True]
        for r in results:
            assert len(_tables(Path(r.out_dir))) == N_TABLES
    finally:
        cluster.close()
    # The results equal a plain run of the same district.
    plain = run_analysis(dataclasses.replace(configs[0], output=dataclasses.replace(
        configs[0].output, dir=str(tmp_path / "plain"))), progress=False)
    assert _tables(Path(results[0].out_dir)) == _tables(plain.out_dir)


def test_matrix_in_origin_batches_equals_a_plain_matrix(zug_feed_path):
    from kurszugang.io.gtfs import read_gtfs
    from kurszugang.routing.router import Router

    router = Router(read_gtfs(zug_feed_path), "2021-03-02")
    stops = router.stops()
    rng = np.random.default_rng(2)
    pick = rng.choice(len(stops), 60, replace=False)
    origins = Points(stops.ids[pick], stops.xy[pick])
    dests = Points(stops.ids[:200], stops.xy[:200])
    plain = router.travel_times(origins, dests, window=20, percentiles=(5, 50), workers=1)
    res = distributed_matrix(zug_feed_path, "2021-03-02", origins, dests, window=20,
                             percentiles=(5, 50), batch_size=10, n_workers=2)
    assert np.array_equal(res["seconds"], plain.seconds, equal_nan=True)
    assert np.array_equal(res["best"], plain.best, equal_nan=True)
    # Six batches on two workers: each worker loaded the feed and built its router once.
    assert len(res["worker_pids"]) >= 1
    assert set(res["routers_built"].values()) == {1}


def test_run_command_with_several_configs_and_a_bad_scheduler(tmp_path: Path):
    import subprocess
    import sys

    def cli(*args: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "kurszugang", *map(str, args)],
                              capture_output=True, text=True, timeout=600, cwd=tmp_path)

    assert cli("init", "--demo", "a.toml").returncode == 0
    text = (tmp_path / "a.toml").read_text(encoding="utf-8")
    (tmp_path / "b.toml").write_text(text.replace("ergebnisse", "ergebnisse_b"), encoding="utf-8")
    res = cli("run", "a.toml", "b.toml", "--workers", "2")
    assert res.returncode == 0, res.stderr
    out = tmp_path / "ergebnisse"
    n = sum(1 for p in out.rglob("*") if p.is_file() and "ergebnisse" not in
            p.relative_to(out).parts)
    assert n > 20
    assert f"a.toml: {n} Dateien" in res.stdout and f"b.toml: {n} Dateien" in res.stdout
    assert _tables(tmp_path / "ergebnisse") == _tables(tmp_path / "ergebnisse_b")
    res = cli("run", "a.toml", "--scheduler", "tcp://127.0.0.1:9")
    assert res.returncode == 2
    assert "der Dask-Scheduler tcp://127.0.0.1:9 ist nicht erreichbar" in res.stderr
