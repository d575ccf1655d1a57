"""Shared fixtures: the real data in ../shared/data, skipped with a reason where it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("KURSZUGANG_SHARED_DATA", ROOT.parent / "shared" / "data"))


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
