"""Travel subsidy (Fahrtkostenzuschuss): walking distance from home to the nearest suitable site.

Participants whose walking distance to the course is at least 5 km (older rules and some state
pages: 3 km) can get their fares refunded. For each populated grid cell this module finds the
walking distance from the cell centre to the nearest suitable course site:

- on the OSM footway network when one is given: both the cell and the site are snapped to their
  nearest edge (within ``max_snap_m``; farther points are reported, never moved), and one
  multi-source Dijkstra search from all sites at once gives every node's distance to its
  nearest site; a cell adds its way to the network and along its edge;
- otherwise as the straight line × ``detour_factor``.

The columns are documented in ``docs/analysis.md`` ("Fahrtkostenzuschuss").
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from kurszugang.crs import ANALYSIS_CRS
from kurszugang.errors import ConfigError, InputError, RoutingError
from kurszugang.results import Table, build_table
from kurszugang.routing.walking import NetworkWalking, de_g
from kurszugang.words import de_number

if TYPE_CHECKING:
    from kurszugang.analysis.context import RunContext
    from kurszugang.io.courses import CourseList
    from kurszugang.io.osm import WalkNetwork

__all__ = [
    "DEFAULT_SUBSIDY_DISTANCE_KM",
    "SUBSIDY_COLUMNS",
    "subsidy_distances",
    "subsidy_summary",
]

log = logging.getLogger(__name__)

#: Walking distance from which the travel subsidy applies (km); 3 km under older rules.
DEFAULT_SUBSIDY_DISTANCE_KM = 5.0
#: Columns of :func:`subsidy_distances`, in order.
SUBSIDY_COLUMNS = ("cell_id", "ags", "gen", "vg", "in_district", "inhabitants", "participants",
                   "distance_m", "nearest_site_id", "eligible")

_GRID_NEEDS = ("cell_id", "x_utm", "y_utm", "ags", "gen", "inhabitants", "participants")


def _site_table(sites: gpd.GeoDataFrame | CourseList) -> gpd.GeoDataFrame:
    table = sites if isinstance(sites, gpd.GeoDataFrame) else getattr(sites, "sites", None)
    if not isinstance(table, gpd.GeoDataFrame):
        raise InputError("the course sites must be a GeoDataFrame of points or a CourseList")
    if "site_id" not in table.columns:
        raise InputError("the course sites need a 'site_id' column")
    if table.crs is None:
        raise InputError("the course sites have no CRS: set one with .set_crs(...)")
    if len(table) == 0:
        raise InputError("no course sites given")
    empty = table.geometry.isna().to_numpy() | table.geometry.is_empty.to_numpy()
    if empty.any():
        ids = table["site_id"].astype(str).to_numpy()[empty]
        raise InputError(f"{int(empty.sum())} course sites have no position (site_id "
                         f"{', '.join(ids[:5])})", column="geometry")
    return table.to_crs(ANALYSIS_CRS).reset_index(drop=True)


def _suitable(site_ids: np.ndarray, course_filter: Sequence[str] | np.ndarray | pd.Series | None
              ) -> np.ndarray:
    """Boolean mask over the sites from a mask or a list of site ids."""
    if course_filter is None:
        return np.ones(len(site_ids), dtype=bool)
    series = pd.Series(course_filter)
    if pd.api.types.is_bool_dtype(series.dtype):
        if series.isna().any():
            raise ConfigError("the site filter mask has missing values: use True or False")
        values = series.to_numpy(bool)
        if len(values) != len(site_ids):
            raise ConfigError(f"the site filter mask has {len(values)} values for "
                              f"{len(site_ids)} sites")
        return values.copy()
    wanted = pd.Index(series.astype("string").astype(str))
    unknown = wanted.difference(pd.Index(site_ids))
    if len(unknown):
        raise ConfigError(f"unknown site id(s) in the filter: {', '.join(map(repr, unknown))}; "
                          f"the course sites are {', '.join(map(str, site_ids))}")
    return np.isin(site_ids, wanted.to_numpy())


def subsidy_distances(
    grid: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame | CourseList,
    *,
    walk_network: WalkNetwork | None = None,
    course_filter: Sequence[str] | np.ndarray | pd.Series | None = None,
    distance_km: float = DEFAULT_SUBSIDY_DISTANCE_KM,
    detour_factor: float = 1.3,
    max_snap_m: float = 500.0,
) -> pd.DataFrame:
    """Walking distance from each populated cell to the nearest suitable course site.

    Parameters
    ----------
    grid
        The analysis grid (:func:`kurszugang.analysis.grid.analysis_grid`); only cells with
        inhabitants > 0 are analysed. Their ``x_utm, y_utm`` centres are the homes.
    sites
        Course sites with ``site_id`` and point geometries (any CRS, e.g. ``courses.sites``) or a
        :class:`~kurszugang.io.courses.CourseList`.
    walk_network
        The OSM walking network (:func:`kurszugang.io.osm.read_walk_network`). Without it the
        distance is the straight line × ``detour_factor``.
    course_filter
        The suitable sites: a boolean mask over the rows of ``sites`` or a list of site ids (e.g.
        the sites offering a literacy course). Default: every site.
    distance_km
        Distance from which the subsidy applies (km, default 5; 3 under older rules).
    detour_factor
        Walked / straight-line distance without a network (default 1.3).
    max_snap_m
        With a network: cells and sites farther than this from the nearest footway are not
        snapped; they are reported and get no distance (metres, default 500).

    Returns
    -------
    pandas.DataFrame
        One row per populated cell, columns :data:`SUBSIDY_COLUMNS`: ``cell_id``, ``ags``,
        ``gen``, ``vg``, ``in_district``, ``inhabitants``, ``participants`` (from the grid),
        ``distance_m`` (walking metres to the nearest suitable site, NaN where the cell is not
        on the network or not connected to any suitable site), ``nearest_site_id`` (NA likewise)
        and ``eligible`` (nullable boolean: ``distance_m >= distance_km`` km; NA without a
        distance).

    Raises
    ------
    InputError
        If the grid lacks columns, or a site has no position or no CRS.
    ConfigError
        For a distance that is not positive, a detour factor below 1, a filter naming unknown
        sites, a filter mask of the wrong length or a filter leaving no site.
    RoutingError
        If no suitable site lies within ``max_snap_m`` of the walking network.

    Examples
    --------
    >>> d = subsidy_distances(cells, courses, walk_network=net)
    >>> d[["gen", "distance_m", "nearest_site_id", "eligible"]].round(0).head(3)
             gen  distance_m nearest_site_id  eligible
    0  Skizzenau      3573.0            KS08     False
    1  Skizzenau      3549.0            KS08     False
    2  Skizzenau      3562.0            KS08     False
    >>> subsidy_summary(d)[["gen", "participants", "part_ge_5km", "share_part_ge_5km"]].head()
                  gen  participants  part_ge_5km  share_part_ge_5km
    0   Beispielstadt        113.75         0.00           0.000000
    1     Annahmsdorf          5.05         5.05         100.000000
    2  Attrappenreuth          2.75         2.75         100.000000
    3      Entwurfing          7.40         2.40          32.432432
    4      Fiktivried          9.80         9.25          94.387755
    """
    if not distance_km > 0 or not math.isfinite(distance_km):
        raise ConfigError(f"subsidy distance must be a positive number of km, got {distance_km}")
    if not detour_factor >= 1:
        raise ConfigError(f"detour factor must be at least 1, got {detour_factor}")
    if not max_snap_m >= 0:
        raise ConfigError(f"maximum snapping distance must not be negative, got {max_snap_m} m")
    missing = [c for c in _GRID_NEEDS if c not in grid.columns]
    if missing:
        raise InputError(f"the analysis grid lacks the columns {', '.join(missing)}: build it "
                         "with kurszugang.analysis.grid.analysis_grid")
    table = _site_table(sites)
    site_ids = table["site_id"].astype(str).to_numpy(dtype=object)
    ok_site = _suitable(site_ids, course_filter)
    if not ok_site.any():
        raise ConfigError("the site filter leaves no suitable course site")
    site_ids = site_ids[ok_site]
    spt = table.geometry[ok_site].representative_point()
    site_xy = np.column_stack([spt.x.to_numpy(), spt.y.to_numpy()])

    cells = grid[grid["inhabitants"].to_numpy(np.float64) > 0]
    cell_xy = np.column_stack([cells["x_utm"].to_numpy(np.float64),
                               cells["y_utm"].to_numpy(np.float64)])
    cell_ids = cells["cell_id"].astype(str).to_numpy(dtype=object)
    if walk_network is None:
        dist, nearest = _straight(cell_xy, site_xy, detour_factor)
        how = f"Luftlinie × {de_g(detour_factor)}"
    else:
        dist, nearest = _on_network(walk_network, cell_xy, cell_ids, site_xy, site_ids,
                                    max_snap_m)
        how = "auf dem Fußwegenetz"
    has = np.isfinite(dist)
    eligible = pd.array(np.where(has, dist >= distance_km * 1000.0, False), dtype="boolean")
    eligible[~has] = pd.NA
    n = len(cells)
    out = pd.DataFrame({
        "cell_id": pd.array(cell_ids, dtype="string"),
        "ags": pd.array(cells["ags"].to_numpy(dtype=object), dtype="string"),
        "gen": pd.array(cells["gen"].to_numpy(dtype=object), dtype="string"),
        "vg": (pd.array(cells["vg"].to_numpy(dtype=object), dtype="string") if "vg" in cells
               else pd.array([pd.NA] * n, dtype="string")),
        "in_district": (cells["in_district"].to_numpy(bool) if "in_district" in cells
                        else cells["ags"].notna().to_numpy()),
        "inhabitants": cells["inhabitants"].to_numpy(np.float64),
        "participants": cells["participants"].to_numpy(np.float64),
        "distance_m": dist,
        "nearest_site_id": pd.Series(site_ids[np.maximum(nearest, 0)],
                                     dtype="string").where(has).array,
        "eligible": eligible,
    })
    elig = eligible.fillna(False).to_numpy(bool)
    log.info("Fahrtkostenzuschuss: %s bewohnte Zellen, %s geeignete Kursorte, Fußweg %s; "
             "%s Einwohner (%s Teilnehmende) wohnen %s km oder weiter entfernt, %s Zellen ohne "
             "Entfernung", de_number(n), de_number(len(site_ids)), how,
             de_number(out["inhabitants"].to_numpy()[elig].sum()),
             de_number(out["participants"].to_numpy()[elig].sum()), de_g(distance_km),
             de_number(int((~has).sum())))
    return out


def _straight(cell_xy: np.ndarray, site_xy: np.ndarray, detour: float
              ) -> tuple[np.ndarray, np.ndarray]:
    if len(cell_xy) == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    d, idx = cKDTree(site_xy).query(cell_xy, k=1)
    return np.asarray(d, dtype=np.float64) * detour, np.asarray(idx, dtype=np.int64)


def _on_network(net: WalkNetwork, cell_xy: np.ndarray, cell_ids: np.ndarray,
                site_xy: np.ndarray, site_ids: np.ndarray, max_snap_m: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """Network distance to the nearest site per cell (NaN: not snapped or not connected)."""
    walking = NetworkWalking(net, max_snap_m=max_snap_m)
    s_site = walking.snap(site_xy)
    if not s_site.ok.any():
        raise RoutingError(f"keiner der {de_number(len(site_xy))} geeigneten Kursorte liegt "
                           f"näher als {de_g(max_snap_m)} m am Fußwegenetz: die Koordinaten und "
                           "das Gebiet des OSM-Auszugs prüfen")
    if not s_site.ok.all():
        bad = site_ids[~s_site.ok]
        log.warning("%s von %s Kursorten liegen mehr als %s m vom Fußwegenetz entfernt und "
                    "bleiben bei den Entfernungen für den Zuschuss außen vor (site_id %s)",
                    de_number(len(bad)), de_number(len(site_ids)), de_g(max_snap_m),
                    ", ".join(map(str, bad[:5])))
    n = net.n_nodes
    k = np.flatnonzero(s_site.ok)
    e = s_site.edge[k]
    # One virtual source node per site, with one-way edges to both ends of the site's edge
    # (weights = walk from the site to that end). One Dijkstra search from all of them
    # (min_only) gives each node its distance to the nearest site and which site that is.
    virt = n + np.arange(len(k))
    rows = np.concatenate([net.edge_u, net.edge_v, virt, virt])
    cols = np.concatenate([net.edge_v, net.edge_u, net.edge_u[e], net.edge_v[e]])
    data = np.concatenate([net.edge_length, net.edge_length, s_site.to_u_m[k], s_site.to_v_m[k]])
    graph = sp.coo_matrix((data, (rows, cols)), shape=(n + len(k), n + len(k))).tocsr()
    node_d, _pred, source = dijkstra(graph, directed=True, indices=virt, min_only=True,
                                     return_predecessors=True)
    node_site = np.where(source >= n, source - n, -1)  # index into k

    s_cell = walking.snap(cell_xy)
    ok = s_cell.ok
    dist = np.full(len(cell_xy), np.inf)
    nearest = np.full(len(cell_xy), -1, dtype=np.int64)
    if ok.any():
        ce = s_cell.edge[ok]
        du = node_d[net.edge_u[ce]] + s_cell.to_u_m[ok]
        dv = node_d[net.edge_v[ce]] + s_cell.to_v_m[ok]
        via_u = du <= dv
        dist[ok] = np.where(via_u, du, dv)
        nearest[ok] = np.where(via_u, node_site[net.edge_u[ce]], node_site[net.edge_v[ce]])
        # A cell and a site on the same edge: walk along it directly.
        on_cell = pd.DataFrame({"cell": np.flatnonzero(ok), "edge": ce})
        on_site = pd.DataFrame({"site": np.arange(len(k)), "edge": e})
        both = on_cell.merge(on_site, on="edge")
        if len(both):
            c, s, ed = (both["cell"].to_numpy(), both["site"].to_numpy(),
                        both["edge"].to_numpy())
            length = net.edge_length[ed]
            safe = np.where(length > 0, length, 1.0)
            fc = (s_cell.to_u_m[c] - s_cell.offset_m[c]) / safe
            fs = (s_site.to_u_m[k[s]] - s_site.offset_m[k[s]]) / safe
            along = np.abs(fc - fs) * length + s_cell.offset_m[c] + s_site.offset_m[k[s]]
            best = (pd.DataFrame({"cell": c, "d": along, "site": s})
                    .sort_values(["cell", "d"]).drop_duplicates("cell"))
            bc, bd, bs = (best["cell"].to_numpy(), best["d"].to_numpy(),
                          best["site"].to_numpy())
            better = bd < dist[bc]
            dist[bc[better]] = bd[better]
            nearest[bc[better]] = bs[better]
    if (~ok).any():
        log.warning("%s von %s bewohnten Zellen liegen mehr als %s m vom Fußwegenetz entfernt "
                    "und bekommen keine Entfernung für den Zuschuss (z. B. %s)",
                    de_number(int((~ok).sum())), de_number(len(cell_xy)), de_g(max_snap_m),
                    ", ".join(map(str, cell_ids[~ok][:5])))
    apart = ok & ~np.isfinite(dist)
    if apart.any():
        log.warning("%s bewohnte Zellen sind auf dem Fußwegenetz mit keinem geeigneten Kursort "
                    "verbunden und bekommen keine Entfernung für den Zuschuss (z. B. %s)",
                    de_number(int(apart.sum())), ", ".join(map(str, cell_ids[apart][:5])))
    dist[~np.isfinite(dist)] = np.nan
    nearest = np.where(nearest >= 0, k[np.maximum(nearest, 0)], -1)  # back to suitable sites
    nearest[np.isnan(dist)] = -1
    return dist, nearest


def subsidy_summary(
    distances: pd.DataFrame,
    *,
    by: str = "ags",
    distances_km: Sequence[float] = (5.0, 3.0),
) -> pd.DataFrame:
    """Inhabitants and potential participants at or beyond the subsidy distances, per group.

    Parameters
    ----------
    distances
        The result of :func:`subsidy_distances`.
    by
        ``"ags"`` (Gemeinde, default), ``"vg"`` (Verwaltungsgemeinschaft) or ``"district"``;
        only cells inside the district count.
    distances_km
        The distances to count at (km); default both rules, 5 and 3 km.

    Returns
    -------
    pandas.DataFrame
        One row per group: the key (``ags`` with ``gen``, ``vg``, or ``district``),
        ``inhabitants`` and ``participants`` (populated cells of the group), for each distance D
        ``inh_ge_{D}km`` and ``part_ge_{D}km`` (living D km or more away on foot) and
        ``share_part_ge_{D}km`` (share of the participants in %, NaN without participants), and
        ``inh_unknown``/``part_unknown`` (cells without a distance: off the network or not
        connected).

    Raises
    ------
    ConfigError
        For an unknown ``by`` or a distance that is not positive.

    Examples
    --------
    >>> d = subsidy_distances(cells, courses, walk_network=net)
    >>> subsidy_summary(d, by="district", distances_km=(5,)).iloc[0]
    district              district
    inhabitants            46092.0
    participants             251.3
    inh_ge_5km             14229.0
    part_ge_5km              54.25
    share_part_ge_5km    21.587744
    inh_unknown                0.0
    part_unknown               0.0
    Name: 0, dtype: object
    """
    if by not in ("ags", "vg", "district"):
        raise ConfigError(f"the subsidy summary can be grouped by 'ags', 'vg' or 'district', "
                          f"not {by!r}")
    kms = [float(d) for d in distances_km]
    if not kms or any(not d > 0 for d in kms):
        raise ConfigError(f"subsidy distances must be positive km, got {list(distances_km)}")
    inh = distances["inhabitants"].to_numpy(np.float64)
    part = distances["participants"].to_numpy(np.float64)
    dist = distances["distance_m"].to_numpy(np.float64)
    unknown = ~np.isfinite(dist)
    cols: dict[str, np.ndarray] = {"inhabitants": inh, "participants": part}
    for d in kms:
        far = np.nan_to_num(dist, nan=-1.0) >= d * 1000.0
        cols[f"inh_ge_{d:g}km"] = inh * far
        cols[f"part_ge_{d:g}km"] = part * far
    cols["inh_unknown"] = inh * unknown
    cols["part_unknown"] = part * unknown
    if by == "district":
        key = pd.Series(["district"] * len(distances), dtype="string").where(
            distances["in_district"].to_numpy(bool))
    else:
        key = distances[by].astype("string").reset_index(drop=True)
    inside = key.notna().to_numpy()
    out = pd.DataFrame(cols)[inside].groupby(key[inside].to_numpy()).sum()
    out.index.name = by
    for d in kms:
        total = out["participants"].to_numpy(np.float64)
        share = np.divide(100.0 * out[f"part_ge_{d:g}km"].to_numpy(np.float64), total,
                          out=np.full(len(out), np.nan), where=total > 0)
        out.insert(list(out.columns).index(f"part_ge_{d:g}km") + 1, f"share_part_ge_{d:g}km",
                   share)
    if by == "ags":
        names = (distances.dropna(subset=["ags"]).drop_duplicates("ags").set_index("ags")["gen"])
        out.insert(0, "gen", names.reindex(out.index).to_numpy())
    return out.reset_index()


def subsidy_table(ctx: RunContext) -> Table:
    """Producer of ``fahrtkosten``: the configured distance and both rules (5 and 3 km)."""
    r = ctx.cfg.routing
    dist = subsidy_distances(ctx.cells, ctx.inputs.courses.sites, walk_network=ctx.inputs.walk,
                             distance_km=ctx.cfg.subsidy.distance_km,
                             detour_factor=r.detour_factor, max_snap_m=r.max_snap_m)
    kms = sorted({ctx.cfg.subsidy.distance_km, 3.0, 5.0}, reverse=True)
    table = subsidy_summary(dist, by="ags", distances_km=kms)
    return build_table("fahrtkosten", table, km=kms)
