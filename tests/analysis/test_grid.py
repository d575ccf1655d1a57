"""The analysis grid: Zensus alignment, Gemeinde assignment, participants."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from kurszugang.analysis.grid import GRID_COLUMNS, analysis_grid
from kurszugang.demo import demo_files
from kurszugang.errors import ConfigError, InputError
from kurszugang.io.boundaries import read_boundaries
from kurszugang.io.population import read_population_grid
from tests.conftest import shared_file


@pytest.fixture(scope="module")
def demo_inputs():
    f = demo_files()
    return read_boundaries(f.boundaries, layer="vg250_gem"), read_population_grid(f.population)


def test_cells_align_with_the_zensus_grid(demo_inputs):
    gem, pop = demo_inputs
    grid = analysis_grid(gem, pop, buffer_m=1000)
    assert list(grid.columns) == list(GRID_COLUMNS)
    assert grid.crs.to_epsg() == 3035
    assert ((grid["x"] - 50) % 100 == 0).all() and ((grid["y"] - 50) % 100 == 0).all()
    first = grid.iloc[0]
    assert first["cell_id"] == f"CRS3035RES100mN{int(first['y'] - 50)}E{int(first['x'] - 50)}"
    # Every populated Zensus cell is in the grid with its values; totals are kept.
    assert grid["inhabitants"].sum() == pytest.approx(pop["inhabitants"].sum())
    assert grid["foreigners"].sum() == pytest.approx(pop["foreigners"].sum())
    merged = pop.merge(grid[["cell_id", "inhabitants"]], on="cell_id", suffixes=("", "_grid"))
    assert len(merged) == len(pop) and (merged["inhabitants"] == merged["inhabitants_grid"]).all()
    # Cells in the buffer belong to no Gemeinde; inside, the Gemeinde's inhabitants add up.
    assert (~grid["in_district"]).sum() > 0 and grid.loc[~grid["in_district"], "ags"].isna().all()
    per_ags = grid.groupby("ags")["inhabitants"].sum()
    ewz = gem.set_index("ags")["ewz"]
    assert np.allclose(per_ags.reindex(ewz.index).to_numpy(float), ewz.to_numpy(float))
    # Verwaltungsgemeinschaften from the ARS.
    assert grid["vg"].dropna().str.len().eq(9).all() and grid["vg"].nunique() == 3


def test_participants_from_gemeinde_counts(demo_inputs, caplog):
    gem, pop = demo_inputs
    counts = {"09999111": 300.0, "09999112": 12.0, "09999000": 5.0}
    with caplog.at_level(logging.WARNING, logger="kurszugang.analysis.grid"):
        g = analysis_grid(gem, pop, participant_source="gemeinde", participants_per_gemeinde=counts,
                          participant_factor=0.5, populated_only=True)
    per = g.groupby("ags")["participants"].sum()
    assert per["09999111"] == pytest.approx(150.0) and per["09999112"] == pytest.approx(6.0)
    assert per.drop(["09999111", "09999112"]).sum() == 0
    assert "die Teilnehmenden von 1 Gemeinde (5 Personen) ließen sich nicht verorten" in caplog.text
    # Spread in proportion to inhabitants ("gemeinde") or to foreign citizens ("both").
    town = g[g["ags"] == "09999111"]
    assert np.allclose(town["participants"], 150 * town["inhabitants"] / town["inhabitants"].sum())
    both = analysis_grid(gem, pop, participant_source="both", participants_per_gemeinde=counts,
                         populated_only=True)
    t2 = both[both["ags"] == "09999111"]
    assert np.allclose(t2["participants"], 300 * t2["foreigners"] / t2["foreigners"].sum())
    assert (analysis_grid(gem, pop, populated_only=True)["inhabitants"] > 0).all()


def test_one_km_grid_on_real_zensus_and_boundaries():
    gem = read_boundaries(shared_file("vg5000-2021-bkg/VG5000_GEM.shp"), kreis="09472")
    pop = read_population_grid(shared_file(
        "zensus2011-grid-bayern/zensus2011_1km_einwohner_auslaenderanteil_bayern.csv"))
    grid = analysis_grid(gem, pop, resolution_m=1000, buffer_m=0)
    assert ((grid["x"] - 500) % 1000 == 0).all()
    assert grid["cell_id"].str.startswith("CRS3035RES1000mN").all()
    # Landkreis Bayreuth had about 104,000 inhabitants in 2011; cells by centre.
    assert 90_000 < grid["inhabitants"].sum() < 115_000
    assert grid["ags"].dropna().str.startswith("09472").all()


def test_bad_parameters(demo_inputs):
    gem, pop = demo_inputs
    with pytest.raises(ConfigError, match="muss 100 oder 1000 m sein, nicht 250"):
        analysis_grid(gem, pop, resolution_m=250)
    with pytest.raises(ConfigError, match="braucht participants_per_gemeinde"):
        analysis_grid(gem, pop, participant_source="gemeinde")
    with pytest.raises(ConfigError, match="'zensus' ist unbekannt"):
        analysis_grid(gem, pop, participant_source="zensus")
    with pytest.raises(InputError, match="nicht auf dem 1000-m-Analyseraster"):
        analysis_grid(gem, pop, resolution_m=1000)
