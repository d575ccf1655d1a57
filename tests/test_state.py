"""Several districts in one command ([district] keys): three tiles of the synthetic Bavaria.

The statewide inputs are three copies of the demo district under the keys 09101-09103
(benchmarks/bavaria_synthetic.py). The run over all of them must give every Kreis the numbers
of a run of that Kreis alone on the same inputs cut to it and its 20 km margin, report a Kreis that fails and keep
the others, and write one row per Kreis in the combined overview.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from kurszugang.demo import HOLIDAY_WEEKDAY, SCHOOL_DAY
from tests.conftest import load_bavaria_script

KEYS = ["09101", "09102", "09103"]


bs = load_bavaria_script()


@pytest.fixture(scope="module")
def bayern(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Three tiles in one row, 60 km apart (as in the 96-Kreis set)."""
    return bs.generate_bavaria(tmp_path_factory.mktemp("bayern3"), n=3, columns=3,
                               spacing_km=60, quiet=True)


def _config(folder: Path, paths: dict[str, Path], district: str, out: Path,
            population: Path | None = None) -> Path:
    return bs.write_config(folder / f"{out.name}.toml", paths, out, district=district,
                           population=population,
                           formats=("csv", "xlsx", "gpkg", "html", "summary"))


def _cli(*args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "kurszugang", *map(str, args)],
                          capture_output=True, text=True, timeout=1200,
                          env={**os.environ, **(env or {})})


def _without_third_tile(paths: dict[str, Path], target: Path) -> Path:
    """The Zensus grid without the cells of the third (eastern) tile: that Kreis cannot run."""
    grid = pd.read_csv(paths["population"], sep=";", dtype=str)
    x = grid["x_mp_100m"].astype(float)
    cut = x.min() + 2 * (x.max() - x.min()) / 3 + 1000
    grid[x < cut].to_csv(target, sep=";", index=False)
    return target


def _courses_near(paths: dict[str, Path], key: str, target: Path) -> Path:
    """The course list cut as the state run cuts it: sites in the Kreis and 20 km around it."""
    from kurszugang.io.boundaries import read_boundaries

    kreis = read_boundaries(paths["boundaries"], kreis=key, layer="vg250_gem")
    outline = shapely.union_all(np.asarray(kreis.geometry.values)).buffer(20_000)
    area = gpd.GeoSeries([outline], crs=kreis.crs).to_crs("EPSG:4326").iloc[0]
    rows = pd.read_csv(paths["courses"], sep=";", dtype=str, keep_default_na=False,
                       encoding="utf-8-sig")
    inside = shapely.contains_xy(area, rows["lon"].astype(float), rows["lat"].astype(float))
    assert 0 < inside.sum() < len(rows)
    rows[inside].to_csv(target, sep=";", index=False, encoding="utf-8")
    return target


def _tables(folder: Path) -> dict[str, bytes]:
    """The CSV tables of a Kreis's folder except the Datenlage (which also describes the cut)."""
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv"))
            if p.name != "datenlage.csv"}


@pytest.fixture(scope="module")
def state_run(bayern: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("lauf")
    pop = _without_third_tile(bayern.paths, folder / "zensus_ohne_09103.csv")
    out = folder / "bayern"
    cfg = _config(folder, bayern.paths, 'keys = "alle"', out, population=pop)
    env = {"KURSZUGANG_CACHE_DIR": str(folder / "cache")}
    return _cli("run", cfg, "--workers", "2", env=env), out, folder, pop


def test_all_districts_in_one_command_report_the_failing_one_and_keep_the_others(
        state_run: Any) -> None:
    res, out, _folder, _pop = state_run
    assert res.returncode == 1, res.stderr  # one Kreis failed
    lines = [ln for ln in res.stderr.splitlines() if "Fehler:" in ln]
    assert len(lines) == 1 and lines[0].lstrip().startswith("09103 ")
    assert "2 von 3 Kreisen gerechnet" in res.stdout
    table = pd.read_csv(out / "landkreise.csv", sep=";", decimal=",", encoding="utf-8-sig",
                        dtype={"Kreisschlüssel": str})
    assert table["Kreisschlüssel"].tolist() == KEYS  # one row per Kreis, in key order
    assert table["Stand"].tolist() == ["fertig", "fertig", "Fehler"]
    assert "Zensus" in table.loc[2, "Fehler"] or "Zelle" in table.loc[2, "Fehler"]
    for key in KEYS[:2]:
        assert (out / key / "datenlage.csv").exists() and (out / key / "karte.html").exists()
    assert not (out / "09103" / "gemeinden_kursbesuch.csv").exists()
    # two copies of the demo district (shifted, cells on the grid within 100 m): near figures
    share = "Anteil mit besuchbarem Kurs (%)"
    assert table.loc[0, share] == pytest.approx(table.loc[1, share], abs=3.0)
    assert table.loc[0, "Potenzielle Teilnehmende"] > 0
    summary = (out / "zusammenfassung.md").read_text(encoding="utf-8")
    assert "2 von 3 Kreisen gerechnet" in summary and "## Nicht gerechnet" in summary
    html = (out / "karte.html").read_text(encoding="utf-8")
    assert "09101/karte.html" in html and "Landkreis Beispiel 3 (fiktiv)" in html
    layer = gpd.read_file(out / "kurszugang.gpkg", layer="landkreise")
    assert layer["key"].tolist() == KEYS and layer.geometry.notna().all()


def test_a_district_of_the_run_equals_a_run_of_that_district_alone(
        state_run: Any, bayern: Any) -> None:
    res, out, folder, pop = state_run
    alone = folder / "allein_09102"
    paths = {**bayern.paths, "courses": _courses_near(bayern.paths, "09102",
                                                      folder / "kursorte_09102.csv")}
    cfg = _config(folder, paths, 'key = "09102"', alone, population=pop)
    single = _cli("run", cfg, "-q", env={"KURSZUGANG_CACHE": "0"})
    assert single.returncode == 0, single.stderr
    cut, whole = _tables(out / "09102"), _tables(alone)
    assert len(cut) >= 10 and cut == whole
    lage = pd.read_csv(out / "09102" / "datenlage.csv", sep=";", decimal=",",
                       encoding="utf-8-sig")
    assert "Landesweiter Fahrplan auf den Kreis und 20 km Rand zugeschnitten" in " ".join(
        lage["Erläuterung"])


def test_a_district_cut_from_the_cache_routes_like_the_whole_zip(bayern: Any, tmp_path: Path,
                                                                monkeypatch: Any) -> None:
    from kurszugang.io import feed_cache
    from kurszugang.io.boundaries import read_boundaries
    from kurszugang.io.feed_cut import cut_feed
    from kurszugang.io.gtfs import read_gtfs
    from kurszugang.routing.router import Points, Router

    monkeypatch.setenv("KURSZUGANG_CACHE_DIR", str(tmp_path / "cache"))
    dates = (SCHOOL_DAY, HOLIDAY_WEEKDAY)
    read_gtfs(bayern.paths["gtfs"], dates=dates, cache=True)  # into the cache
    entry = feed_cache.entry_for(bayern.paths["gtfs"], strict=None, dates=dates, enabled=True)
    assert entry is not None and (entry.folder / "meta.json").exists()
    cached = read_gtfs(bayern.paths["gtfs"], dates=dates, cache=True)
    whole = read_gtfs(bayern.paths["gtfs"], cache=False)
    kreis = read_boundaries(bayern.paths["boundaries"], kreis="09102", layer="vg250_gem")
    outline = shapely.union_all(np.asarray(kreis.geometry.values))
    area = gpd.GeoSeries([outline.buffer(20_000)], crs=kreis.crs).to_crs("EPSG:4326").iloc[0]
    cut = cut_feed(cached, area)
    assert 0 < len(cut.stops) < len(whole.stops) and len(cut.stop_times) < len(whole.stop_times)
    # places 50 m from the Kreis's stops (random places are mostly beyond walking distance)
    stops = gpd.GeoSeries(gpd.points_from_xy(cut.stops["stop_lon"], cut.stops["stop_lat"]),
                          crs="EPSG:4326").to_crs(kreis.crs)
    xy = np.column_stack([stops.x, stops.y]) + 50.0
    pts = xy[shapely.contains_xy(outline, xy[:, 0], xy[:, 1])]
    pts = pts[np.random.default_rng(5).permutation(len(pts))[:120]]
    assert len(pts) >= 40
    origins = Points(np.array([f"o{i}" for i in range(len(pts))], dtype=object), pts,
                     crs=str(kreis.crs))
    dests = Points(origins.ids[::-1].copy(), pts[::-1].copy(), crs=str(kreis.crs))
    for day in dates:
        a = Router(cut, day).per_minute(origins, dests, departure="06:30", window=60,
                                        max_time_min=120)
        b = Router(whole, day).per_minute(origins, dests, departure="06:30", window=60,
                                          max_time_min=120)
        np.testing.assert_array_equal(a, b)  # NaN where unreachable, on both
        assert np.isfinite(a).mean() > 0.2
