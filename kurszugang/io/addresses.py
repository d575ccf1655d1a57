"""An address index from an OpenStreetMap extract, for the search of the web map.

:func:`read_addresses` reads a local extract (``.osm``, ``.osm.gz``, ``.osm.bz2``, ``.osm.pbf``)
with pyosmium, as :mod:`kurszugang.io.osm` reads the footways, and keeps

- every node and way with ``addr:housenumber`` (street or ``addr:place``, house number,
  ``addr:postcode``, ``addr:city``; a way at the mean of its nodes),
- every named street (a ``highway`` way with ``name``, at its middle node),
- every named place (``place=city/town/village/hamlet/suburb/…`` with ``name``).

:func:`address_index` turns them, with the Gemeinden, into the entries a user can search for:
Gemeinden, places, streets (one entry per street and place) and addresses, each with a label
that is unique and says where it is, and a point in EPSG:25832. The search in the page is
tolerant of partial input and of umlauts written out (``ae``/``ä``, ``ss``/``ß``).

Addresses on relations (multipolygon buildings) are not read; addresses with neither a street
nor a place name are skipped and counted in :attr:`OsmPlaces.skipped`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from kurszugang.crs import ANALYSIS_CRS, WEB_CRS, transformer
from kurszugang.errors import InputError, InputFormatError
from kurszugang.words import de_number

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)

__all__ = ["INDEX_COLUMNS", "PLACE_KINDS", "OsmPlaces", "address_index", "read_addresses"]

#: ``place`` values kept as search entries (from the largest to the smallest).
PLACE_KINDS = ("city", "town", "village", "suburb", "quarter", "neighbourhood", "hamlet",
               "isolated_dwelling", "locality")
#: Columns of :func:`address_index`.
INDEX_COLUMNS = ["label", "kind", "ags", "x", "y"]
_ADDRESS_COLUMNS = ["street", "housenumber", "postcode", "city", "lon", "lat"]


@dataclass(frozen=True)
class OsmPlaces:
    """What an extract holds for a search: addresses, named streets and places (lon/lat).

    Attributes
    ----------
    addresses
        ``street`` (``addr:street`` or ``addr:place``), ``housenumber``, ``postcode``, ``city``,
        ``lon``, ``lat``.
    streets
        ``name``, ``lon``, ``lat``: one row per named highway way (at its middle node).
    places
        ``name``, ``place``, ``lon``, ``lat``.
    skipped
        Counts of what was left out, by reason.
    source
        The file read.
    """

    addresses: pd.DataFrame
    streets: pd.DataFrame
    places: pd.DataFrame
    skipped: dict[str, int] = field(default_factory=dict)
    source: str = ""


def _file(path: Path) -> Any:
    import osmium

    name = path.name.lower()
    for suffix, fmt in ((".osm.gz", "osm.gz"), (".osm.bz2", "osm.bz2"), (".osm.pbf", "pbf"),
                        (".pbf", "pbf"), (".o5m", "o5m"), (".osm", "osm")):
        if name.endswith(suffix):
            return osmium.io.File(str(path), fmt)
    raise InputError("ist kein OpenStreetMap-Auszug (erwartet .osm, .osm.gz, .osm.bz2 oder "
                     ".osm.pbf)", path=path)


#: The reasons of :attr:`OsmPlaces.skipped` in German, for the log.
_SKIPPED_DE = {"address without street or place": "Adresse ohne Straße oder Ort",
               "way without node locations": "Weg ohne Knotenkoordinaten"}


def _way_point(way: Any, middle: bool) -> tuple[float, float] | None:
    pts = [(n.lon, n.lat) for n in way.nodes if n.location.valid()]
    if not pts:
        return None
    if middle:
        return pts[len(pts) // 2]
    arr = np.asarray(pts)
    return float(arr[:, 0].mean()), float(arr[:, 1].mean())


def _address_row(tags: Any, point: tuple[float, float]) -> tuple[Any, ...] | None:
    street = tags.get("addr:street") or tags.get("addr:place")
    if not street:
        return None
    return (street, tags.get("addr:housenumber"), tags.get("addr:postcode"),
            tags.get("addr:city"), point[0], point[1])


def read_addresses(path: str | Path) -> OsmPlaces:
    """Addresses, named streets and places of an OpenStreetMap extract.

    Parameters
    ----------
    path
        ``.osm``, ``.osm.gz``, ``.osm.bz2`` or ``.osm.pbf`` file.

    Returns
    -------
    OsmPlaces

    Raises
    ------
    InputError
        If the file is missing or has another ending.
    InputFormatError
        If pyosmium cannot read it.

    Examples
    --------
    >>> found = read_addresses(demo.osm)
    >>> len(found.addresses), len(found.streets), len(found.places)  # no house numbers mapped
    (0, 544, 68)
    >>> found.places.head(3)
                 name    place        lon        lat
    0   Beispielstadt     town  12.446602  49.299464
    1     Annahmsdorf  village  12.345000  49.255686
    2  Attrappenreuth  village  12.303842  49.384558
    """
    import osmium

    p = Path(path)
    if not p.is_file():
        raise InputError("gibt es nicht", path=p)
    processor = (osmium.FileProcessor(_file(p), osmium.osm.NODE | osmium.osm.WAY)
                 .with_locations()
                 .with_filter(osmium.filter.KeyFilter("addr:housenumber", "place", "highway")))
    addresses: list[tuple[Any, ...]] = []
    streets: list[tuple[Any, ...]] = []
    places: list[tuple[Any, ...]] = []
    skipped = {"address without street or place": 0, "way without node locations": 0}
    try:
        for entity in processor:  # tagged objects only: the per-object work is a tag look-up
            obj = cast(Any, entity)
            tags = obj.tags
            is_way = obj.is_way()
            if not is_way and not obj.location.valid():
                continue
            if "addr:housenumber" in tags:
                point = _way_point(obj, False) if is_way else (obj.location.lon, obj.location.lat)
                row = _address_row(tags, point) if point else None
                if row is None:
                    skipped["way without node locations" if point is None
                            else "address without street or place"] += 1
                else:
                    addresses.append(row)
            if is_way and "highway" in tags and "name" in tags:
                point = _way_point(obj, True)
                if point is not None:
                    streets.append((tags["name"], *point))
            elif not is_way and tags.get("place") in PLACE_KINDS and "name" in tags:
                places.append((tags["name"], tags["place"], obj.location.lon, obj.location.lat))
    except RuntimeError as exc:
        raise InputFormatError(f"lässt sich nicht als OpenStreetMap lesen ({exc})",
                               path=p) from exc
    out = OsmPlaces(pd.DataFrame(addresses, columns=_ADDRESS_COLUMNS),
                    pd.DataFrame(streets, columns=["name", "lon", "lat"]),
                    pd.DataFrame(places, columns=["name", "place", "lon", "lat"]),
                    {k: v for k, v in skipped.items() if v}, str(p))
    log.info("%s: %s Adressen, %s benannte Straßenzüge, %s Orte%s", p.name,
             de_number(len(out.addresses)), de_number(len(out.streets)),
             de_number(len(out.places)),
             "".join(f"; {de_number(v)} übersprungen ({_SKIPPED_DE.get(k, k)})"
                     for k, v in out.skipped.items()))
    return out


def _xy(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    x, y = transformer(WEB_CRS, ANALYSIS_CRS).transform(frame["lon"].to_numpy(float),
                                                        frame["lat"].to_numpy(float))
    return np.asarray(x), np.asarray(y)


def _locate(frame: pd.DataFrame, gemeinden: gpd.GeoDataFrame, area: Any) -> pd.DataFrame:
    """The rows inside ``area`` with their EPSG:25832 point, AGS and Gemeinde name."""
    import geopandas as gpd

    x, y = _xy(frame)
    pts = gpd.GeoDataFrame(frame.assign(x=x, y=y), geometry=gpd.points_from_xy(x, y),
                           crs=ANALYSIS_CRS)
    pts = pts[pts.within(area)]
    gem = gemeinden[["ags", "gen", gemeinden.geometry.name]].to_crs(ANALYSIS_CRS)
    joined = gpd.sjoin(pts, gem, how="left", predicate="within")
    joined = joined[~joined.index.duplicated()]
    return pd.DataFrame(joined.drop(columns=["geometry", "index_right"]))


def _nearest_place(frame: pd.DataFrame, places: pd.DataFrame) -> np.ndarray:
    """Per row the name of the nearest place (empty without places)."""
    if not len(places) or not len(frame):
        return np.full(len(frame), "", dtype=object)
    from scipy.spatial import cKDTree

    _, idx = cKDTree(places[["x", "y"]].to_numpy()).query(frame[["x", "y"]].to_numpy())
    return places["name"].to_numpy(dtype=object)[idx]


def _street_entries(streets: pd.DataFrame, places: pd.DataFrame) -> pd.DataFrame:
    """One entry per street name and nearest place, at the way point nearest their middle."""
    if not len(streets):
        return pd.DataFrame(columns=["label", "ags", "gen", "x", "y"])
    s = streets.assign(where=_nearest_place(streets, places))
    s["where"] = np.where(s["where"] == "", s["gen"].fillna("").astype(str), s["where"])
    key = ["name", "where"]
    centre = s.groupby(key)[["x", "y"]].transform("mean")
    s["d"] = np.hypot(s["x"] - centre["x"], s["y"] - centre["y"])
    s = s.sort_values([*key, "d"], kind="stable").drop_duplicates(key)
    label: pd.Series = s["name"].astype(str) + np.where(
        s["where"] != "", ", " + s["where"].astype(str), "")
    return pd.DataFrame({"label": label, "ags": s["ags"], "gen": s["gen"], "x": s["x"],
                         "y": s["y"]})


def _address_labels(a: pd.DataFrame) -> pd.Series:
    town = a["city"].fillna(a["gen"]).fillna("").astype(str)
    code = a["postcode"].fillna("").astype(str)
    where = (code + " " + town).str.strip()
    number = a["housenumber"].fillna("").astype(str)
    return (a["street"].astype(str) + " " + number).str.strip() + np.where(
        where != "", ", " + where, "")


def _unique(labels: pd.Series, gen: pd.Series) -> pd.Series:
    """Labels made unique: the Gemeinde added where a label repeats, then a number."""
    text = labels.astype(str).reset_index(drop=True)
    gem = gen.fillna("").astype(str).reset_index(drop=True)
    dup = text.duplicated(keep=False) & (gem != "")
    text = text.where(~dup, text + " (" + gem + ")")
    n = text.groupby(text).cumcount()
    return text.where(n == 0, text + " (" + (n + 1).astype(str) + ")")


def address_index(places: OsmPlaces | None, gemeinden: gpd.GeoDataFrame, *,
                  buffer_m: float = 0.0) -> pd.DataFrame:
    """The search entries of a district: Gemeinden, places, streets and addresses.

    Parameters
    ----------
    places
        What :func:`read_addresses` found (None: Gemeinden only, e.g. a run without OSM).
    gemeinden
        The district's Gemeinden (``ags``, ``gen``; any CRS).
    buffer_m
        Entries up to this distance outside the district are kept (the grid's buffer).

    Returns
    -------
    pandas.DataFrame
        ``label`` (unique), ``kind`` (``gemeinde``, ``ort``, ``strasse``, ``adresse``), ``ags``
        (the Gemeinde the point lies in, NA outside), ``x``, ``y`` (EPSG:25832), Gemeinden first.
    """
    gem = gemeinden.to_crs(ANALYSIS_CRS)
    area = gem.geometry.union_all().buffer(float(buffer_m))
    rep = gem.geometry.representative_point()
    parts = [pd.DataFrame({"label": gem["gen"].astype(str).to_numpy(), "kind": "gemeinde",
                           "ags": gem["ags"].astype(str).to_numpy(), "gen": gem["gen"].to_numpy(),
                           "x": rep.x.to_numpy(), "y": rep.y.to_numpy()})]
    if places is not None:
        pl = _locate(places.places, gem, area) if len(places.places) else pd.DataFrame()
        pl_all = pl if len(pl) else pd.DataFrame(columns=["name", "x", "y"])
        if len(pl):
            pl = pl[pl["name"] != pl["gen"]]  # a Gemeinde's main place is the Gemeinde
            parts.append(pl.assign(label=pl["name"], kind="ort")[
                ["label", "kind", "ags", "gen", "x", "y"]])
        st = _locate(places.streets, gem, area) if len(places.streets) else pd.DataFrame()
        if len(st):
            parts.append(_street_entries(st, pl_all).assign(kind="strasse"))
        ad = _locate(places.addresses, gem, area) if len(places.addresses) else pd.DataFrame()
        if len(ad):
            parts.append(ad.assign(label=_address_labels(ad), kind="adresse")[
                ["label", "kind", "ags", "gen", "x", "y"]])
    out = pd.concat(parts, ignore_index=True)
    out["label"] = _unique(out["label"], out["gen"]).to_numpy()
    out["ags"] = out["ags"].astype("string")
    return out[INDEX_COLUMNS].reset_index(drop=True)
