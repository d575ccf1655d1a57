"""The geography of the fictional Landkreis Beispiel: outline, Gemeinden, places and boundaries.

Everything is derived from a fixed layout (names, types, rough positions and sizes of the 20
Gemeinden, see :data:`GEMEINDEN`) plus seeded random jitter, so that a seed gives the same district
every time and another seed a slightly different one. Coordinates are metres in EPSG:25832.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kurszugang.crs import ANALYSIS_CRS
from kurszugang.demo import DISTRICT_AGS, DISTRICT_NAME

#: CRS of every coordinate in the district model.
CRS = ANALYSIS_CRS
#: Centre of the district (the Mittelzentrum before jitter), EPSG:25832: about 12.45 °E,
#: 49.30 °N, a rural part of the Oberpfalz. The district is fictional; the place is only chosen so
#: that the coordinates are plausible for Bavaria.
CENTER_X = 750_000.0
CENTER_Y = 5_466_000.0

# The fixed layout: name, BEZ, IBZ, EWZ before jitter, position (km east/north of the centre),
# Verwaltungsgemeinschaft (4-digit Verband key) or "" for an Einheitsgemeinde, role.
# The AGS are 09999 + 111.. in this order (the Große Kreisstadt first, then alphabetical).
GEMEINDEN: tuple[tuple[str, str, int, int, float, float, str, str], ...] = (
    ("Beispielstadt", "Große Kreisstadt", 63, 15_000, 0.0, 0.0, "", "mittelzentrum"),
    ("Annahmsdorf", "Gemeinde", 64, 1_100, -6.5, -4.5, "", "dorf"),
    ("Attrappenreuth", "Gemeinde", 64, 800, -10.5, 9.5, "", "dorf"),
    ("Entwurfing", "Gemeinde", 64, 2_300, 0.5, 5.5, "5501", "dorf"),
    ("Fiktivried", "Gemeinde", 64, 1_900, -7.0, 0.0, "", "dorf"),
    ("Kopiering", "Gemeinde", 64, 900, 9.5, -10.0, "", "dorf"),
    ("Modellhofen", "Gemeinde", 64, 1_200, -1.0, -5.5, "5502", "dorf"),
    ("Musterbach", "Stadt", 61, 4_700, 12.5, 1.0, "", "kleinstadt"),
    ("Mustereck", "Gemeinde", 64, 950, -3.5, 13.0, "5501", "dorf"),
    ("Planhausen", "Gemeinde", 64, 1_400, 6.0, -1.0, "", "dorf"),
    ("Platzhalting", "Gemeinde", 64, 1_000, 6.5, 6.0, "", "dorf"),
    ("Probing", "Gemeinde", 64, 700, 12.0, 9.0, "", "dorf"),
    ("Probstried", "Markt", 62, 3_200, 1.5, 11.0, "5501", "kleinstadt"),
    ("Schablonau", "Gemeinde", 64, 750, -15.0, 6.5, "5503", "dorf"),
    ("Schemmering", "Gemeinde", 64, 1_100, -6.0, 6.0, "", "dorf"),
    ("Skizzenau", "Gemeinde", 64, 2_500, -1.5, -10.5, "5502", "dorf"),
    ("Testelsbach", "Gemeinde", 64, 1_000, 14.0, -5.5, "", "dorf"),
    ("Übungsdorf", "Gemeinde", 64, 650, -11.0, -8.0, "5503", "dorf"),
    ("Vorbildsried", "Gemeinde", 64, 1_300, 6.5, -6.5, "", "dorf"),
    ("Vorlaging", "Markt", 62, 3_600, -13.5, 1.5, "5503", "kleinstadt"),
)

#: Names of the Verwaltungsgemeinschaften (Verband key -> name).
VERWALTUNGSGEMEINSCHAFTEN = {
    "5501": "Verwaltungsgemeinschaft Probstried",
    "5502": "Verwaltungsgemeinschaft Skizzenau",
    "5503": "Verwaltungsgemeinschaft Vorlaging",
}

# Share of foreign citizens by role (multiplied by a random factor of 0.85-1.15 per Gemeinde).
_FOREIGN_RATE = {"mittelzentrum": 0.14, "kleinstadt": 0.11, "dorf": 0.07}
# Number of hamlets (Ortsteile) per Gemeinde by role: (low, high) inclusive.
_HAMLETS = {"mittelzentrum": (2, 2), "kleinstadt": (2, 3), "dorf": (1, 3)}
# Inhabitants of a hamlet by role of its Gemeinde: (low, high).
_HAMLET_POP = {"mittelzentrum": (150, 400), "kleinstadt": (60, 250), "dorf": (30, 180)}
# Share of a Gemeinde's inhabitants on scattered farms (Einzelhöfe) outside any place.
_SCATTERED_SHARE = 0.02

_HAMLET_ROOTS = (
    "Moos", "Stein", "Birken", "Eichel", "Hasel", "Lohen", "Reut", "Buchen", "Grub", "Wald",
    "Hag", "Wiesen", "Linden", "Erlen", "Tann", "Ginster", "Holler", "Schlehen", "Ried", "Kalten",
)
_HAMLET_SUFFIXES = (
    "hof", "öd", "reuth", "mühle", "berg", "dorf", "au", "zell", "hausen", "thal", "bach", "loh",
)


@dataclass(frozen=True)
class District:
    """The generated district: Gemeinden with boundaries, the Kreis, and all places.

    Attributes
    ----------
    gemeinden
        GeoDataFrame (EPSG:25832), one row per Gemeinde in AGS order: ``ags``, ``ars``, ``name``,
        ``bez``, ``ibz``, ``vg`` (Verband key or ""), ``role``, ``ewz``, ``foreign_rate``, ``x``,
        ``y`` (centre of the main place) and the MultiPolygon ``geometry``.
    kreis
        GeoDataFrame with the one Kreis feature (``ags``, ``name``, ``ewz``, ``geometry``).
    places
        DataFrame, one row per settlement: ``place_id``, ``name``, ``ags`` (its Gemeinde),
        ``kind`` ("main" or "hamlet"), ``role`` (of the Gemeinde), ``pop``, ``x``, ``y``,
        ``radius`` (m).
    """

    gemeinden: gpd.GeoDataFrame
    kreis: gpd.GeoDataFrame
    places: pd.DataFrame

    def place(self, name: str) -> pd.Series:
        """The row of the place called ``name``."""
        row = self.places.loc[self.places["name"] == name]
        if len(row) != 1:
            raise KeyError(f"no single place named {name!r}")
        return row.iloc[0]


def settlement_radius(pop: np.ndarray) -> np.ndarray:
    """Radius in metres of the built-up area of a place with ``pop`` inhabitants."""
    return 60.0 + 270.0 * np.sqrt(np.asarray(pop, dtype=float) / 1000.0)


def _round_coords(geoms: np.ndarray, decimals: int = 2) -> np.ndarray:
    """Coordinates rounded (cm), vertices in canonical order: stable bytes across runs."""
    rounded = shapely.transform(geoms, lambda c: np.round(c, decimals))
    return shapely.normalize(rounded)


def _as_multi(geoms: np.ndarray) -> np.ndarray:
    """Every (Multi)Polygon as a MultiPolygon, as in VG250."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    return np.asarray(shapely.multipolygons(parts, indices=index))


def _outline(rng: np.random.Generator) -> shapely.Polygon:
    """A smooth irregular district outline of about 40 x 33 km around the centre."""
    theta = np.linspace(0.0, 2.0 * np.pi, 720, endpoint=False)
    r = np.ones_like(theta)
    for k, amp in ((2, 0.05), (3, 0.04), (4, 0.03), (5, 0.02), (7, 0.01), (9, 0.006)):
        r += amp * rng.uniform(0.5, 1.0) * np.cos(k * theta + rng.uniform(0.0, 2.0 * np.pi))
    x = CENTER_X + 20_000.0 * r * np.cos(theta)
    y = CENTER_Y + 500.0 + 16_500.0 * r * np.sin(theta)
    return shapely.Polygon(np.column_stack([x, y]))


def _displacement(rng: np.random.Generator) -> Callable[[np.ndarray], np.ndarray]:
    """A smooth random displacement of the plane (a few hundred metres), the same for every
    vertex at the same place, so that shared borders stay shared."""
    waves = []
    for amp, wavelength in ((220.0, 3_500.0), (35.0, 800.0)):
        for _ in range(2):
            ang = rng.uniform(0.0, np.pi)
            k = 2.0 * np.pi / wavelength
            waves.append((amp / 2.0, k * np.cos(ang), k * np.sin(ang),
                          rng.uniform(0.0, 2.0 * np.pi), rng.uniform(0.0, 2.0 * np.pi)))

    def shift(coords: np.ndarray) -> np.ndarray:
        x, y = coords[:, 0], coords[:, 1]
        dx = np.zeros_like(x)
        dy = np.zeros_like(y)
        for amp, kx, ky, px, py in waves:
            phase = kx * (x - CENTER_X) + ky * (y - CENTER_Y)
            dx += amp * np.sin(phase + px)
            dy += amp * np.sin(phase + py)
        return np.column_stack([x + dx, y + dy])

    return shift


def _boundaries(
    shift: Callable[[np.ndarray], np.ndarray], outline: shapely.Polygon, x: np.ndarray,
    y: np.ndarray,
) -> np.ndarray:
    """Gemeinde polygons in the order of the centres: the Voronoi edges of the centres, made
    irregular by the displacement ``shift``, noded with the outline and polygonised (so that
    neighbours share their border exactly and the polygons tile the district)."""
    points = shapely.points(x, y)
    edges = shapely.get_parts(
        shapely.voronoi_polygons(
            shapely.multipoints(points), extend_to=outline.buffer(5_000.0), only_edges=True
        )
    )
    edges = shapely.transform(shapely.segmentize(edges, 150.0), shift)
    # node the edges with the outline, polygonise, keep the faces inside the outline
    noded = shapely.union_all(np.append(edges, outline.exterior))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    cells = faces[shapely.contains_xy(outline, *shapely.get_coordinates(
        shapely.point_on_surface(faces)).T)]
    tree = shapely.STRtree(cells)
    point_idx, cell_idx = tree.query(points, predicate="within")
    if len(cells) != len(points) or sorted(point_idx.tolist()) != list(range(len(points))):
        raise RuntimeError("demo generator: Gemeinde polygons do not match the Gemeinde centres")
    ordered = np.empty(len(points), dtype=object)
    ordered[point_idx] = cells[cell_idx]
    geoms = _as_multi(_round_coords(ordered))
    if not shapely.is_valid(geoms).all() or not shapely.coverage_is_valid(geoms):
        raise RuntimeError("demo generator: the Gemeinde polygons are no valid coverage")
    return geoms


def _hamlet_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct hamlet names from the root and suffix lists."""
    roots = np.array(_HAMLET_ROOTS)
    suffixes = np.array(_HAMLET_SUFFIXES)
    combos = np.array(
        [r + s for r in roots for s in suffixes if s not in r.lower() and r.lower() not in s]
    )
    chosen = rng.choice(combos, size=n, replace=False)
    return [str(c) for c in chosen]


def _place_hamlets(
    rng: np.random.Generator, gem: gpd.GeoDataFrame, main: pd.DataFrame
) -> pd.DataFrame:
    """Hamlets (Ortsteile) inside each Gemeinde, away from its border and from other places."""
    rows: list[dict[str, object]] = []
    taken_x = list(main["x"])
    taken_y = list(main["y"])
    taken_r = list(main["radius"])
    counts = [int(rng.integers(_HAMLETS[r][0], _HAMLETS[r][1] + 1)) for r in gem["role"]]
    names = _hamlet_names(rng, sum(counts))
    inner = shapely.buffer(np.asarray(gem.geometry.values), -600.0)
    k = 0
    for g, (ags, role, n) in enumerate(zip(gem["ags"], gem["role"], counts, strict=True)):
        cx, cy = float(main["x"].iloc[g]), float(main["y"].iloc[g])
        cr = float(main["radius"].iloc[g])
        for _ in range(n):
            lo, hi = _HAMLET_POP[role]
            pop = int(rng.integers(lo, hi + 1))
            radius = float(settlement_radius(np.array([pop]))[0])
            # 256 candidates at once; the first one that fits is taken (deterministic).
            ang = rng.uniform(0.0, 2.0 * np.pi, 256)
            dist = cr + rng.uniform(900.0, 3_200.0, 256)
            px, py = cx + dist * np.cos(ang), cy + dist * np.sin(ang)
            ok = shapely.contains_xy(inner[g], px, py)
            dx = px[:, None] - np.asarray(taken_x)[None, :]
            dy = py[:, None] - np.asarray(taken_y)[None, :]
            gap = np.hypot(dx, dy) - np.asarray(taken_r)[None, :] - radius
            ok &= (gap > 900.0).all(axis=1)
            hits = np.flatnonzero(ok)
            if len(hits) == 0:
                continue  # no room left in this Gemeinde: one hamlet fewer
            i = int(hits[0])
            rows.append(
                {"name": names[k], "ags": ags, "kind": "hamlet", "role": role, "pop": pop,
                 "x": float(px[i]), "y": float(py[i]), "radius": radius}
            )
            k += 1
            taken_x.append(float(px[i]))
            taken_y.append(float(py[i]))
            taken_r.append(radius)
    return pd.DataFrame(rows, columns=["name", "ags", "kind", "role", "pop", "x", "y", "radius"])


def build_district(rng: np.random.Generator) -> District:
    """Generate the district's geography from ``rng``.

    Parameters
    ----------
    rng
        The random generator of this part of the generation (consumed in a fixed order).

    Returns
    -------
    District
        Gemeinden with boundaries, the Kreis, and every place.
    """
    layout = pd.DataFrame(
        GEMEINDEN, columns=["name", "bez", "ibz", "ewz0", "dx", "dy", "vg", "role"]
    )
    n = len(layout)
    layout["ags"] = [f"{DISTRICT_AGS}{111 + i:03d}" for i in range(n)]
    # ARS: Kreis + Verband (the VG's key, or "0" + the Gemeinde number) + Gemeinde number
    layout["ars"] = [
        f"{DISTRICT_AGS}{vg or '0' + ags[5:]}{ags[5:]}"
        for vg, ags in zip(layout["vg"], layout["ags"], strict=True)
    ]

    # the outline and the borders get the same smooth displacement
    shift = _displacement(rng)
    outline = shapely.transform(shapely.segmentize(_outline(rng), 150.0), shift)
    if not outline.is_valid:
        raise RuntimeError("demo generator: the district outline is invalid")
    jitter = rng.uniform(-600.0, 600.0, size=(n, 2))
    x = CENTER_X + 1000.0 * layout["dx"].to_numpy() + jitter[:, 0]
    y = CENTER_Y + 1000.0 * layout["dy"].to_numpy() + jitter[:, 1]
    margin = shapely.distance(shapely.points(x, y), outline.exterior)
    if margin.min() < 1_000.0:
        raise RuntimeError("demo generator: a Gemeinde centre lies within 1 km of the outline")

    ewz0 = layout["ewz0"].to_numpy(dtype=float)
    factor = np.where(layout["role"] == "mittelzentrum", rng.uniform(0.98, 1.02, n),
                      rng.uniform(0.9, 1.1, n))
    ewz = np.round(ewz0 * factor).astype(np.int64)
    foreign = np.array([_FOREIGN_RATE[r] for r in layout["role"]]) * rng.uniform(0.85, 1.15, n)

    geoms = _boundaries(shift, outline, x, y)
    gem = gpd.GeoDataFrame(
        {
            "ags": layout["ags"], "ars": layout["ars"], "name": layout["name"],
            "bez": layout["bez"], "ibz": layout["ibz"].astype(np.int64), "vg": layout["vg"],
            "role": layout["role"], "ewz": ewz, "foreign_rate": np.round(foreign, 4),
            "x": x, "y": y,
        },
        geometry=geoms, crs=CRS,
    )

    main = pd.DataFrame(
        {"name": gem["name"], "ags": gem["ags"], "kind": "main", "role": gem["role"],
         "pop": 0, "x": x, "y": y, "radius": 0.0}
    )
    # main places hold what the hamlets and scattered farms leave; their radius first from EWZ
    main["radius"] = settlement_radius(ewz * 0.85)
    hamlets = _place_hamlets(rng, gem, main)
    hamlet_pop = hamlets.groupby("ags")["pop"].sum().reindex(gem["ags"], fill_value=0).to_numpy()
    scattered = np.round(ewz * _SCATTERED_SHARE).astype(np.int64)
    main["pop"] = ewz - hamlet_pop - scattered
    main["radius"] = settlement_radius(main["pop"].to_numpy())
    places = pd.concat([main, hamlets], ignore_index=True)
    places.insert(0, "place_id", np.arange(len(places), dtype=np.int64))
    places["pop"] = places["pop"].astype(np.int64)

    kreis_geom = _as_multi(_round_coords(np.array([shapely.coverage_union_all(geoms)])))
    kreis = gpd.GeoDataFrame(
        {"ags": [DISTRICT_AGS], "name": [DISTRICT_NAME], "ewz": [int(ewz.sum())]},
        geometry=kreis_geom, crs=CRS,
    )
    return District(gemeinden=gem, kreis=kreis, places=places)
