"""The 100 m population grid of Landkreis Beispiel in the Zensus schema (EPSG:3035).

Inhabitants are concentrated in the places (a bell-shaped density over each built-up area with
random texture) plus scattered farms along the roads and tracks, and are allocated to cells per Gemeinde so that the
cells whose centre lies in a Gemeinde (centre-in-polygon after reprojection to EPSG:25832) sum
exactly to its EWZ (largest-remainder rounding). Foreign citizens per cell are drawn binomially
around the Gemeinde's rate (higher in the towns). Only inhabited cells are listed; unlike the real
Zensus, small counts are not suppressed (no blanks, no -1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from kurszugang.crs import ANALYSIS_CRS, GRID_CRS, transformer
from kurszugang.demo._district import District
from kurszugang.demo._network import Network

_TO_3035 = transformer(ANALYSIS_CRS, GRID_CRS)
_TO_25832 = transformer(GRID_CRS, ANALYSIS_CRS)
_CELL = 100
#: Column names of the grid file (Zensus 100 m schema).
GRID_COLUMNS = ("Gitter_ID_100m", "x_mp_100m", "y_mp_100m", "Einwohner", "Auslaender")
_PERSONS_PER_FARM = 5
#: Farms lie at most this far (metres, in x and in y) from a road or track node.
_FARM_OFFSET_M = 150.0


def _place_weights(rng: np.random.Generator, district: District,
                   network: Network | None = None) -> pd.DataFrame:
    """Unnormalised inhabitant weights per (cell, Gemeinde) from the places and farms."""
    places = district.places
    px, py = _TO_3035.transform(places["x"].to_numpy(), places["y"].to_numpy())
    frames = []
    for i, p in enumerate(places.to_dict("records")):
        radius = float(p["radius"])
        reach = 1.25 * radius
        ix = np.arange(int((px[i] - reach) // _CELL), int((px[i] + reach) // _CELL) + 1)
        iy = np.arange(int((py[i] - reach) // _CELL), int((py[i] + reach) // _CELL) + 1)
        mesh_x, mesh_y = np.meshgrid(ix, iy, indexing="ij")
        d = np.hypot(mesh_x.ravel() * _CELL + 50 - px[i], mesh_y.ravel() * _CELL + 50 - py[i])
        keep = d <= reach
        k = np.exp(-((d[keep] / (0.55 * radius)) ** 2)) * rng.lognormal(0.0, 0.35, keep.sum())
        frames.append(
            pd.DataFrame(
                {"ix": mesh_x.ravel()[keep], "iy": mesh_y.ravel()[keep], "ags": p["ags"],
                 "w": float(p["pop"]) * k / k.sum()}
            )
        )
    # scattered farms: random points inside each Gemeinde
    gem = district.gemeinden
    scattered = district.gemeinden["ewz"].to_numpy() - places.groupby("ags")["pop"].sum().reindex(
        gem["ags"]
    ).to_numpy()
    # Farms lie along the roads and tracks between places (every farm has its access way):
    # a road node of the Gemeinde, moved up to _FARM_OFFSET_M off the road.
    road = network.nodes[network.nodes["place_id"].to_numpy() < 0] if network is not None else None
    for g, (ags, geom, pop) in enumerate(zip(gem["ags"], gem.geometry, scattered, strict=True)):
        n = max(1, int(pop) // _PERSONS_PER_FARM)
        xmin, ymin, xmax, ymax = geom.bounds
        if road is not None:
            rx, ry = road["x"].to_numpy(), road["y"].to_numpy()
            own = np.flatnonzero(shapely.contains_xy(geom, rx, ry))
        else:
            own = np.empty(0, dtype=np.int64)
        if len(own):
            pick = rng.choice(own, 40 * n)
            fx = rx[pick] + rng.uniform(-_FARM_OFFSET_M, _FARM_OFFSET_M, 40 * n)
            fy = ry[pick] + rng.uniform(-_FARM_OFFSET_M, _FARM_OFFSET_M, 40 * n)
        else:
            fx = rng.uniform(xmin, xmax, 40 * n)
            fy = rng.uniform(ymin, ymax, 40 * n)
        inside = np.flatnonzero(shapely.contains_xy(geom, fx, fy))[:n]
        if len(inside) == 0:
            raise RuntimeError(f"demo generator: no room for farms in Gemeinde {g}")
        cx, cy = _TO_3035.transform(fx[inside], fy[inside])
        frames.append(
            pd.DataFrame(
                {"ix": (cx // _CELL).astype(np.int64), "iy": (cy // _CELL).astype(np.int64),
                 "ags": ags, "w": float(pop) / len(inside)}
            )
        )
    w = pd.concat(frames, ignore_index=True)
    return w.groupby(["ix", "iy", "ags"], as_index=False, sort=True).agg(w=("w", "sum"))


def build_grid(rng: np.random.Generator, district: District,
               network: Network | None = None) -> pd.DataFrame:
    """Generate the population grid.

    Parameters
    ----------
    rng
        The random generator of this part of the generation.
    district
        The district (Gemeinden with EWZ and boundaries, places).
    network
        The walking network; farms are placed near its roads and tracks (anywhere in the
        Gemeinde without it).

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`GRID_COLUMNS` plus ``ags`` (the Gemeinde of the cell centre), one
        row per inhabited cell, sorted by cell id.
    """
    w = _place_weights(rng, district, network)
    gem = district.gemeinden
    # the Gemeinde of every cell centre (centre-in-polygon in EPSG:25832)
    cells = w[["ix", "iy"]].drop_duplicates().reset_index(drop=True)
    cx, cy = _TO_25832.transform(
        (cells["ix"] * _CELL + 50).to_numpy(float), (cells["iy"] * _CELL + 50).to_numpy(float)
    )
    tree = shapely.STRtree(np.asarray(gem.geometry.values))
    pt_idx, poly_idx = tree.query(shapely.points(cx, cy), predicate="within")
    cells["cell_ags"] = None
    cells.loc[pt_idx, "cell_ags"] = gem["ags"].to_numpy()[poly_idx]
    w = w.merge(cells, on=["ix", "iy"], how="left")
    # a place's weight only counts inside its own Gemeinde
    w = w.loc[w["ags"] == w["cell_ags"]].drop(columns="cell_ags").reset_index(drop=True)

    ewz = gem.set_index("ags")["ewz"]
    total = w.groupby("ags")["w"].transform("sum")
    share = w["w"] / total * w["ags"].map(ewz).astype(float)
    base = np.floor(share).astype(np.int64)
    w["inh"] = base
    w["frac"] = share - base
    missing = (w["ags"].map(ewz) - w.groupby("ags")["inh"].transform("sum")).astype(np.int64)
    w = w.sort_values(["ags", "frac", "iy", "ix"], ascending=[True, False, True, True],
                      kind="stable")
    rank = w.groupby("ags").cumcount()
    w["inh"] = w["inh"] + (rank < missing.loc[w.index]).astype(np.int64)
    w = w.loc[w["inh"] > 0].copy()

    w = w.sort_values(["iy", "ix"], kind="stable").reset_index(drop=True)
    rate = w["ags"].map(gem.set_index("ags")["foreign_rate"]).to_numpy(float)
    rate = np.clip(rate * rng.lognormal(0.0, 0.35, len(w)), 0.0, 0.6)
    foreigners = rng.binomial(w["inh"].to_numpy(), rate)
    north = w["iy"] * _CELL
    east = w["ix"] * _CELL
    out = pd.DataFrame(
        {
            "Gitter_ID_100m": "CRS3035RES100mN" + north.astype(str) + "E" + east.astype(str),
            "x_mp_100m": east + 50,
            "y_mp_100m": north + 50,
            "Einwohner": w["inh"].astype(np.int64),
            "Auslaender": foreigners.astype(np.int64),
            "ags": w["ags"],
        }
    )
    return out.sort_values("Gitter_ID_100m", kind="stable").reset_index(drop=True)
