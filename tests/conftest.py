"""Shared fixtures: the real data in ../shared/data, skipped with a reason where it is absent."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("KURSZUGANG_SHARED_DATA", ROOT.parent / "shared" / "data"))


def load_bavaria_script() -> Any:
    """benchmarks/bavaria_synthetic.py as a module (the benchmarks are not a package)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(
        "bavaria_synthetic", ROOT / "benchmarks" / "bavaria_synthetic.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def shared_file(relative: str) -> Path:
    """Path of a file in ../shared/data, or skip the test saying what is missing."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"real test data not available: {path} (see ../shared/data/MANIFEST.md)")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real third-party test data."""
    if not SHARED_DATA.exists():
        pytest.skip(f"real test data folder not available: {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def zug_feed_path() -> Path:
    return shared_file("gtfs-ch-kanton-zug-2021/gtfs_ch_zg_2021.zip")


@pytest.fixture(scope="session")
def malente_feed_path() -> Path:
    return shared_file("gtfs-buergerbus-malente/buergerbus_malente_gtfs.zip")


@pytest.fixture(scope="session")
def berlin_feed_path() -> Path:
    return shared_file("gtfs-vbb-berlin-subset-gtfsrouter/berlin_gtfs_vbb_subset.zip")


# --- the demo district: read once, run once, shared by every test -----------------------------


@dataclass(frozen=True)
class DemoInputs:
    """The bundled demo district's inputs, each read once per test session."""

    files: Any
    gemeinden: Any
    kreis: Any
    courses: Any
    feed: Any
    population: Any
    walk: Any

    def cells(self, participant_factor: float = 0.05) -> Any:
        """The populated analysis cells (100 m)."""
        from kurszugang.analysis.grid import analysis_grid

        return analysis_grid(self.gemeinden, self.population, populated_only=True,
                             participant_factor=participant_factor)

    def pool(self, *, osm: bool = True) -> Any:
        """Routers for the demo feed (OSM footways, or straight lines for speed)."""
        from kurszugang.analysis.coverage import RouterPool

        return RouterPool(self.feed, self.walk if osm else None)


@pytest.fixture(scope="session")
def demo() -> DemoInputs:
    """The demo district's inputs (read with the package's readers)."""
    from kurszugang.demo import demo_files
    from kurszugang.io.boundaries import read_boundaries
    from kurszugang.io.courses import read_courses
    from kurszugang.io.gtfs import read_gtfs
    from kurszugang.io.osm import read_walk_network
    from kurszugang.io.population import read_population_grid

    f = demo_files()
    return DemoInputs(f, read_boundaries(f.boundaries, layer="vg250_gem"),
                      read_boundaries(f.boundaries, layer="vg250_krs"), read_courses(f.courses),
                      read_gtfs(f.gtfs), read_population_grid(f.population),
                      read_walk_network(f.osm))


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``kurszugang run`` of the bundled demo config, once: its RunResult (Results, files)."""
    from kurszugang.pipeline import demo_config, run_analysis

    out = tmp_path_factory.mktemp("demo_run")
    return run_analysis(demo_config(out), progress=False)


@pytest.fixture(scope="session")
def demo_results(demo_run: Any) -> Any:
    """The Results of the demo run."""
    return demo_run.results
