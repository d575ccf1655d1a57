"""Candidate sites for planning: the existing sites, a user's list, or the best-served stops.

A candidate list is a site list (:func:`kurszugang.io.courses.read_sites`, one row per site, no
course columns): an id (``candidate_id``, ``id``, ``Kandidat``, or a site list's ``site_id``,
``Standort-ID``), optionally a name (``name``, ``site_name``, ``Standort``) and the other site
columns, coordinates as ``lon``/``lat`` (WGS84) or ``x``/``y`` with a ``crs`` (column or option;
German ``Längengrad``/``Breitengrad``, ``Rechtswert``/``Hochwert``), and optionally ``childcare``
(``Kinderbetreuung`` ja/nein). Formats, encodings, title and comment rows and messages are
those of the site reader, see ``docs/course-sites.md``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from kurszugang.crs import ANALYSIS_CRS
from kurszugang.errors import ConfigError, InputError
from kurszugang.io.courses import read_sites
from kurszugang.routing.timetable import DAY

if TYPE_CHECKING:
    from kurszugang.io.courses import CourseList
    from kurszugang.routing.router import Router
    from kurszugang.routing.timetable import Timetable

log = logging.getLogger(__name__)

#: Columns of :func:`plan_candidates`, in order.
CANDIDATE_COLUMNS = ("candidate_id", "name", "source", "ags", "gen", "x", "y", "has_childcare",
                     "departures")
#: Columns of :func:`read_candidates`, in order.
CANDIDATE_LIST_COLUMNS = ("candidate_id", "name", "has_childcare", "x", "y", "line")
#: The ``source`` of a candidate: an existing course site, a user's list, a stop.
SOURCES = ("bestehend", "Liste", "Haltestelle")
#: Prefix of the ids of candidates generated at stops (``hst:`` + stop_id).
STOP_PREFIX = "hst:"
#: Header names of a candidate list's id column, beside those of a site list's ``site_id``.
_ID_ALIASES = ("candidate_id", "id", "Kandidat", "Kandidat-ID", "Kandidat-Nr",
                        "Kandidaten-ID", "Kandidaten-Nr")


def read_candidates(path: str | Path, *, crs: str | int | CRS | None = None,
                    sheet: str | int | None = None) -> pd.DataFrame:
    """Read a list of candidate sites (CSV, XLSX, GeoJSON or GeoPackage).

    The list is read by :func:`kurszugang.io.courses.read_sites`, which here also takes the id
    column as ``candidate_id``, ``id``, ``Kandidat``, ``Kandidat-ID``, ``Kandidat-Nr``,
    ``Kandidaten-ID`` or ``Kandidaten-Nr``.

    Parameters
    ----------
    path
        The list; its columns are described in this module's docstring.
    crs
        CRS of ``x``/``y`` columns where the list has no ``crs`` column (e.g. ``"EPSG:25832"``).
    sheet
        Sheet of a workbook or layer of a GeoPackage (default: the first).

    Returns
    -------
    pandas.DataFrame
        One row per candidate, in file order: ``candidate_id`` (string), ``name`` (string: the
        name column, else the provider, else the id), ``has_childcare`` (bool; False where the
        column is absent, which the reader warns about), ``x``, ``y`` (float64, EPSG:25832
        metres), ``line`` (line of the file, or feature number).

    Raises
    ------
    InputFormatError
        If the file is missing, empty or not what its extension says.
    DataValidationError
        Listing every problem (line, column, what was expected): no id column, empty or
        repeated ids, missing or unusable coordinates, childcare values other than yes/no.

    Examples
    --------
    >>> _ = Path("kandidaten.csv").write_text(
    ...     "Kandidat;name;x;y;Kinderbetreuung\\n"
    ...     "K1;Rathaus Musterbach;761500;5462100;ja\\n"
    ...     "K2;Pfarrheim Probing;762200;5470300;nein\\n", encoding="utf-8")
    >>> read_candidates("kandidaten.csv", crs="EPSG:25832")
      candidate_id                name  has_childcare         x          y  line
    0           K1  Rathaus Musterbach           True  761500.0  5462100.0     2
    1           K2   Pfarrheim Probing          False  762200.0  5470300.0     3
    """
    sites = read_sites(path, crs=crs, sheet=sheet, id_aliases=_ID_ALIASES)
    ids = sites["site_id"].astype(str)
    name = sites["site_name"].fillna(sites["provider"]).fillna(ids)
    out = pd.DataFrame({
        "candidate_id": pd.array(ids.to_numpy(dtype=object), dtype="string"),
        "name": pd.array(name.astype(str).to_numpy(dtype=object), dtype="string"),
        "has_childcare": sites["has_childcare"].to_numpy(bool),
        "x": sites.geometry.x.to_numpy(np.float64),
        "y": sites.geometry.y.to_numpy(np.float64),
        "line": sites["line"].to_numpy(np.int64),
    })
    log.info("%s: Kandidaten gelesen: %d", Path(path).name, len(out))
    return out


def boardable_departures(timetable: Timetable) -> np.ndarray:
    """Per stop of the timetable: departures one can board on its date.

    A departure counts where boarding is allowed (``pickup_type`` not 1), the trip goes on to
    another stop (not its last stop) and it leaves between 00:00 and 24:00 of the date (trips of
    the previous day running past midnight count with their times after midnight).

    Returns
    -------
    numpy.ndarray
        ``int64`` per stop index (the order of ``timetable.stop_ids``).
    """
    tt = timetable
    n_sp = np.diff(tt.pattern_stop_start)
    size = n_sp * np.diff(tt.pattern_trip_start)
    pat = np.repeat(np.arange(len(n_sp)), size)
    pos = (np.arange(int(size.sum())) - np.repeat(tt.pattern_time_start[:len(n_sp)], size)) % \
        np.maximum(n_sp[pat], 1)
    flat = tt.pattern_stop_start[pat] + pos
    ok = ((tt.pattern_pickup[flat] == 1) & (pos < n_sp[pat] - 1)
          & (tt.dep >= 0) & (tt.dep < DAY))
    return np.bincount(tt.pattern_stops[flat][ok], minlength=tt.n_stops).astype(np.int64)


def _gemeinden(gemeinden: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The Gemeinden in the analysis CRS, without unincorporated areas (reported)."""
    if gemeinden is None or len(gemeinden) == 0:
        raise InputError("keine Gemeinden angegeben (erwartet die Gemeinden des Landkreises)")
    if gemeinden.crs is None:
        raise InputError("die Gemeinden haben kein Koordinatenreferenzsystem")
    for col in ("ags", "gen"):
        if col not in gemeinden.columns:
            raise InputError(f"den Gemeinden fehlt die Spalte {col} (erwartet read_boundaries)")
    gem = gemeinden.to_crs(ANALYSIS_CRS).reset_index(drop=True)
    if "bez" in gem.columns:
        free = gem["bez"].astype("string").str.lower().str.contains("gemeindefrei").fillna(False)
        if free.any():
            log.info("gemeindefreie Gebiete sind keine Gemeinden und bekommen keinen "
                     "Kandidaten: %d (z. B. %s)", int(free.sum()),
                     ", ".join(gem.loc[free, "gen"].astype(str)[:5]))
            gem = gem[~free.to_numpy(bool)].reset_index(drop=True)
    return gem


def _locate(gem: gpd.GeoDataFrame, x: np.ndarray, y: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """AGS and name of the Gemeinde each point lies in (NA outside)."""
    tree = shapely.STRtree(np.asarray(gem.geometry.values))
    pt, poly = tree.query(shapely.points(x, y), predicate="intersects")
    first = pd.Series(poly).groupby(pt).min()
    idx = np.full(len(x), -1, dtype=np.int64)
    idx[first.index.to_numpy()] = first.to_numpy()
    ags = pd.Series(gem["ags"].astype(str).to_numpy(dtype=object)[np.maximum(idx, 0)],
                    dtype="string").where(idx >= 0)
    gen = pd.Series(gem["gen"].astype(str).to_numpy(dtype=object)[np.maximum(idx, 0)],
                    dtype="string").where(idx >= 0)
    return ags, gen


def _best_stops(router: Router, gem: gpd.GeoDataFrame, notes: list[str]) -> pd.DataFrame:
    """One candidate per Gemeinde: its stop with the most boardable departures on the date."""
    tt = router.timetable
    ags, _ = _locate(gem, tt.stop_x, tt.stop_y)
    stops = pd.DataFrame({"stop_id": tt.stop_ids.astype(str), "name": router.stop_names,
                          "ags": ags, "x": tt.stop_x, "y": tt.stop_y,
                          "departures": boardable_departures(tt)})
    served = stops[ags.notna().to_numpy() & (stops["departures"] > 0).to_numpy()]
    best = (served.sort_values(["ags", "departures", "stop_id"], ascending=[True, False, True])
            .drop_duplicates("ags"))
    without = gem[~gem["ags"].astype(str).isin(best["ags"].astype(str))]
    if len(without):
        notes.append(f"Gemeinden ohne Haltestelle mit Abfahrten am {tt.date:%d.%m.%Y}, also "
                     f"ohne Haltestellen-Kandidaten: {len(without)} (z. B. "
                     f"{', '.join(without['gen'].astype(str)[:5])})")
    return pd.DataFrame({"candidate_id": STOP_PREFIX + best["stop_id"],
                         "name": best["name"].to_numpy(dtype=object), "source": "Haltestelle",
                         "x": best["x"].to_numpy(), "y": best["y"].to_numpy(),
                         "has_childcare": False,
                         "departures": best["departures"].to_numpy(np.int64)})


def _existing(courses: CourseList) -> pd.DataFrame:
    sites = courses.sites.to_crs(ANALYSIS_CRS)
    name = sites["site_name"].astype("string")
    name = name.where(name.notna() & (name != "nan") & (name != "<NA>"),
                      sites["provider"].astype("string"))
    return pd.DataFrame({"candidate_id": sites["site_id"].astype(str).to_numpy(dtype=object),
                         "name": name.to_numpy(dtype=object), "source": "bestehend",
                         "x": sites.geometry.x.to_numpy(), "y": sites.geometry.y.to_numpy(),
                         "has_childcare": sites["has_childcare"].to_numpy(bool)})


def _check_unique(table: pd.DataFrame, file: Path | None) -> None:
    dup = table["candidate_id"].duplicated(keep="first")
    if not dup.any():
        return
    row = table[dup].iloc[0]
    first = table[table["candidate_id"] == row["candidate_id"]].iloc[0]
    raise InputError(f"candidate_id {row['candidate_id']!r} ist schon ein Kandidat der Quelle "
                     f"{first['source']!r} (erwartet eindeutige Kennungen; den Standort aus der "
                     "Liste streichen oder umbenennen)", path=file,
                     row=None if pd.isna(row.get("line")) else int(row["line"]))


def plan_candidates(
    gemeinden: gpd.GeoDataFrame,
    *,
    courses: CourseList | None = None,
    candidate_file: str | Path | None = None,
    router: Router | None = None,
    crs: str | int | CRS | None = None,
    sheet: str | int | None = None,
) -> pd.DataFrame:
    """The candidate sites: existing sites, plus a user's list or one stop per Gemeinde.

    Without ``candidate_file``, each Gemeinde gets one candidate at its best-served stop: the
    stop inside it with the most boardable departures on the router's date (see
    :func:`boardable_departures`; ties: the smaller stop id). Gemeinden without a served stop
    get none (logged and kept in ``attrs["notes"]``).

    Parameters
    ----------
    gemeinden
        Gemeinden of the district (:func:`kurszugang.io.boundaries.read_boundaries`), any CRS;
        unincorporated areas (``bez`` "gemeindefreies Gebiet") are left out.
    courses
        The course list; its sites become candidates with source ``bestehend``.
    candidate_file
        A candidate list (:func:`read_candidates`), source ``Liste``.
    router
        The router of the school day (e.g. ``pool.get(SCHOOL_DAY)``); needed without a list.
    crs, sheet
        As for :func:`read_candidates`.

    Returns
    -------
    pandas.DataFrame
        One row per candidate with the columns of :data:`CANDIDATE_COLUMNS`: ``candidate_id``
        (string: site id, list id, or ``hst:`` + stop id), ``name``, ``source`` (bestehend,
        Liste, Haltestelle), ``ags``, ``gen`` (Gemeinde the point lies in, NA outside the
        district), ``x``, ``y`` (EPSG:25832 metres), ``has_childcare`` (bool: an existing site
        with a childcare course, or ``Kinderbetreuung`` in the list; False at stops),
        ``departures`` (Int64: boardable departures at the stop on the router's date, NA for
        other sources).

    Raises
    ------
    ConfigError
        Without a list and without a router.
    InputError
        If the Gemeinden lack ``ags``/``gen`` or a CRS, or an id of the list repeats an
        existing site's id (naming the line).
    DataValidationError
        For a list with unusable rows (:func:`read_candidates`).

    Examples
    --------
    >>> cands = plan_candidates(gemeinden, courses=courses,
    ...                         router=pool.get(SCHOOL_DAY))
    >>> cands["source"].value_counts().to_dict()
    {'Haltestelle': 20, 'bestehend': 8}
    >>> cands[["candidate_id", "name", "source"]].tail(3)
             candidate_id                        name       source
    25  hst:de:09999:1041  Ginsterthal, Feuerwehrhaus  Haltestelle
    26  hst:de:09999:1025     Vorbildsried, Ortsmitte  Haltestelle
    27  hst:de:09999:1008          Vorlaging, Bahnhof  Haltestelle
    """
    gem = _gemeinden(gemeinden)
    notes: list[str] = []
    parts = [_existing(courses)] if courses is not None else []
    if candidate_file is not None:
        listed = read_candidates(candidate_file, crs=crs, sheet=sheet)
        parts.append(listed.drop(columns="line").assign(source="Liste", line=listed["line"]))
    elif router is None:
        raise ConfigError("ohne Kandidatenliste werden Kandidaten an den Haltestellen erzeugt: "
                          "dafür fehlt der Router des Schultags (router=pool.get(Schultag))")
    else:
        parts.append(_best_stops(router, gem, notes))
    table = pd.concat(parts, ignore_index=True)
    _check_unique(table, Path(candidate_file) if candidate_file is not None else None)
    ags, gen = _locate(gem, table["x"].to_numpy(float), table["y"].to_numpy(float))
    outside = ags.isna().to_numpy()
    if outside.any():
        notes.append(f"Kandidaten außerhalb des Landkreises: {int(outside.sum())} (z. B. "
                     f"{', '.join(table['candidate_id'].astype(str)[outside][:5])})")
    departures = (table["departures"] if "departures" in table.columns
                  else pd.Series(np.nan, index=table.index))
    out = pd.DataFrame({
        "candidate_id": table["candidate_id"].astype(str).astype("string").array,
        "name": table["name"].astype(str).astype("string").array,
        "source": table["source"].astype("string").array,
        "ags": ags.array, "gen": gen.array,
        "x": table["x"].to_numpy(np.float64), "y": table["y"].to_numpy(np.float64),
        "has_childcare": table["has_childcare"].fillna(False).to_numpy(bool),
        "departures": departures.astype("Int64").array,
    })
    for n in notes:
        log.warning(n)
    out.attrs["notes"] = notes
    log.info("Kandidaten: %d (%s)", len(out), ", ".join(
        f"{n} {s}" for s, n in out["source"].value_counts().sort_index().items()))
    return out
