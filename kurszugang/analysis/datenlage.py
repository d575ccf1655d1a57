"""What the inputs cover ("Datenlage"): every finding rated ok, Warnung or kritisch.

A run checks its inputs against the district before routing and carries the findings in its
Results: as the table ``datenlage`` (indicator, value, unit, rating, a German sentence), as the
first section of the summary, as a box on the web map, and per Gemeinde as the column
``datenlage`` where a Gemeinde's result rests on missing data. Where the inputs cannot answer the
question at all (no stop of the timetable in the district; an analysis date outside the
timetable's period) :func:`check_answerable` stops the run with one line before any routing.

Ratings and their thresholds (documented in ``docs/datenlage.md``):

=====================  ======================================================  ==================
indicator              value                                                   Warnung / kritisch
=====================  ======================================================  ==================
``osm_cells``          share of populated cells within ``max_snap_m`` of a      < 98 % / < 90 %
                       footway (with an OSM extract)
``osm_participants``   the same share of potential participants                 < 98 % / < 90 %
``osm_extent``         share of the district's area inside the extract's        < 99 % / < 90 %
                       extent (its header's box, else the hull of its ways)
``feed_stops``         share of the feed's stops in the district plus buffer    informative
``feed_period``        the feed's service period (the dates lie in it)          informative
``gemeinden_served``   share of Gemeinden with a stop served on the date        < 90 % / < 60 %
``trips_<day>``        trips on the date against a typical weekday of the feed  < 50 % / no trip
``gemeindefrei``       people of cells in unincorporated areas given to         > 0 (Warnung)
                       neighbouring Gemeinden
``participants``       the source of the participant counts                     informative
``boundaries``         VG5000 boundaries (too coarse for cells)                 Warnung
``gtfs_skipped``       timetable records skipped as unusable                    > 0 / > 1 %
=====================  ======================================================  ==================
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from kurszugang.crs import ANALYSIS_CRS, WEB_CRS
from kurszugang.errors import ConfigError
from kurszugang.results import Table, build_table
from kurszugang.words import de_number, plural

if TYPE_CHECKING:
    from kurszugang.analysis.context import RunContext
    from kurszugang.io.gtfs import Feed

log = logging.getLogger(__name__)

__all__ = ["RATINGS", "Finding", "check_answerable", "datenlage_table", "findings",
           "gemeinde_notes"]

#: The ratings, best first.
RATINGS = ("ok", "Warnung", "kritisch")
#: Thresholds (share in %) below which a coverage share is a warning / critical.
OSM_SHARE = (98.0, 90.0)
OSM_EXTENT = (99.0, 90.0)
SERVED_SHARE = (90.0, 60.0)
TRIPS_SHARE = 50.0
SKIPPED_SHARE = 1.0
#: Share of stops (in %) off the walking network above which that is a warning.
OFF_NETWORK_STOPS = 10.0


@dataclass(frozen=True)
class Finding:
    """One finding: an indicator, its value and unit, its rating and a German sentence."""

    indicator: str
    label: str
    value: float
    unit: str
    rating: str
    text: str


def _rate(share: float, limits: tuple[float, float]) -> str:
    if not np.isfinite(share):
        return "kritisch"
    return "ok" if share >= limits[0] else ("Warnung" if share >= limits[1] else "kritisch")


def _pct(x: float) -> str:
    return f"{x:.1f}".replace(".", ",") + " %"


def _num(x: float) -> str:
    return de_number(x)


def _stops_xy(feed: Feed) -> gpd.GeoSeries:
    stops = feed.stops
    if "location_type" in stops.columns:
        stops = stops[pd.to_numeric(stops["location_type"], errors="coerce").fillna(0)
                      .to_numpy() == 0]
    pts = gpd.points_from_xy(stops["stop_lon"].to_numpy(float), stops["stop_lat"].to_numpy(float))
    return gpd.GeoSeries(pts, crs=WEB_CRS, index=stops.index).to_crs(ANALYSIS_CRS)


def district_area(gemeinden: gpd.GeoDataFrame, buffer_m: float = 0.0) -> shapely.Geometry:
    """The district (union of its Gemeinden, EPSG:25832), buffered by ``buffer_m``."""
    geom = shapely.union_all(np.asarray(gemeinden.to_crs(ANALYSIS_CRS).geometry.values))
    return geom.buffer(buffer_m) if buffer_m > 0 else geom


def check_answerable(feed: Feed, gemeinden: gpd.GeoDataFrame, dates: dict[str, dt.date], *,
                     buffer_m: float, source: str = "") -> None:
    """Stop with one line where the timetable cannot answer for the district at all.

    Raises
    ------
    ConfigError
        If an analysis date lies outside the timetable's service period (naming both), or no
        stop of the timetable lies in the district plus ``buffer_m`` (naming both extents).
    """
    first, last = feed.service_period()
    for key, day in dates.items():
        if not first <= day <= last:
            raise ConfigError(
                f"= {day:%d.%m.%Y} liegt außerhalb des Fahrplans "
                f"({first:%d.%m.%Y} bis {last:%d.%m.%Y}); einen Tag darin wählen oder einen "
                "passenden Fahrplan angeben", path=source or None, column=f"dates.{key}")
    area = district_area(gemeinden, buffer_m)
    stops = _stops_xy(feed)
    shapely.prepare(area)
    inside = shapely.contains_xy(area, stops.x.to_numpy(), stops.y.to_numpy())
    if not inside.any():
        sb = stops.to_crs(WEB_CRS).total_bounds if len(stops) else np.full(4, np.nan)
        db = gpd.GeoSeries([area], crs=ANALYSIS_CRS).to_crs(WEB_CRS).total_bounds
        raise ConfigError(
            f"keine der {_num(len(stops))} Haltestellen des Fahrplans liegt im Landkreis (mit "
            f"{buffer_m / 1000:g} km Puffer): Haltestellen {_bbox(sb)}, Landkreis {_bbox(db)}; "
            "einen Fahrplan für diese Gegend angeben (z. B. mit kurszugang extract aus DELFI)",
            path=feed.source)


def _bbox(b: np.ndarray) -> str:
    if not np.isfinite(b).all():
        return "(keine)"
    lon = f"{b[0]:.2f}–{b[2]:.2f}° O".replace(".", ",")
    lat = f"{b[1]:.2f}–{b[3]:.2f}° N".replace(".", ",")
    return f"{lon}, {lat}"


def _osm_findings(ctx: RunContext) -> list[Finding]:
    walk = ctx.inputs.walk
    if walk is None:
        return [Finding("osm", "Fußwegenetz", np.nan, "–", "ok",
                        "Kein OSM-Auszug angegeben: Fußwege als Luftlinie × Umwegfaktor "
                        f"{ctx.cfg.routing.detour_factor:g}".replace(".", ","))]
    ok = ctx.snapped_cells
    cells = ctx.cells
    share_cells = 100.0 * ok.mean() if len(ok) else np.nan
    part = cells["participants"].to_numpy(float)
    share_part = 100.0 * part[ok].sum() / part.sum() if part.sum() > 0 else np.nan
    snap = ctx.cfg.routing.max_snap_m
    far = int((~ok).sum())
    out = [
        Finding("osm_cells", "Bewohnte Zellen am Fußwegenetz", share_cells, "%",
                _rate(share_cells, OSM_SHARE),
                f"{_pct(share_cells)} der bewohnten Rasterzellen liegen höchstens {snap:g} m vom "
                f"Fußwegenetz des OSM-Auszugs; {far} weiter entfernt"
                + (" (dort Luftlinie × Umwegfaktor, Ergebnis unsicher)." if far else ".")),
        Finding("osm_participants", "Potenzielle Teilnehmende am Fußwegenetz", share_part, "%",
                _rate(share_part, OSM_SHARE),
                f"{_pct(share_part)} der potenziellen Teilnehmenden wohnen höchstens {snap:g} m "
                "vom Fußwegenetz."),
    ]
    out.append(_off_network(ctx))
    extent = osm_extent(ctx.cfg.path(ctx.cfg.inputs.osm), walk, snap)
    area = district_area(ctx.inputs.gemeinden)
    covered = 100.0 * shapely.area(shapely.intersection(area, extent)) / shapely.area(area)
    out.append(Finding("osm_extent", "Landkreis im OSM-Auszug", covered, "%",
                       _rate(covered, OSM_EXTENT),
                       f"{_pct(covered)} der Fläche des Landkreises liegen im Ausschnitt des "
                       "OSM-Auszugs."))
    return out


def _off_network(ctx: RunContext) -> Finding:
    """Stops and course sites farther than ``max_snap_m`` from a footway (they walk by
    straight line × detour factor)."""
    router = ctx.pool.get(ctx.school_day)
    n_stops = int(router.off_network.get("stops", 0))
    ids, xy = ctx.site_points()
    walking: Any = router.walking  # a NetworkWalking: this finding is made with an OSM extract
    far_sites = ids[~np.asarray(walking.snap(xy).ok, dtype=bool)] if len(ids) else ids
    snap = ctx.cfg.routing.max_snap_m
    total = router.timetable.n_stops
    share = 100.0 * n_stops / total if total else 0.0
    rating = "Warnung" if len(far_sites) or share > OFF_NETWORK_STOPS else "ok"
    text = (f"{plural(n_stops, 'Haltestelle', 'Haltestellen')} und "
            f"{plural(len(far_sites), 'Kursort', 'Kursorte')} liegen weiter als {snap:g} m vom "
            "Fußwegenetz")
    if len(far_sites):
        text += f" (Kursorte: {', '.join(map(str, far_sites[:5]))}" + \
            (" …)" if len(far_sites) > 5 else ")")
    text += ("; dorthin und von dort zählt die Luftlinie × Umwegfaktor." if n_stops or
             len(far_sites) else ".")
    return Finding("osm_off_network", "Haltestellen und Kursorte abseits des Fußwegenetzes",
                   float(n_stops + len(far_sites)), "Anzahl", rating, text)


def osm_extent(path: object, walk: object, margin_m: float) -> shapely.Geometry:
    """The area an OSM extract covers (EPSG:25832): the box in its file header, or, where the
    file has none, the hull of its footways plus ``margin_m``."""
    try:
        import osmium

        reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
        box = reader.header().box()
        reader.close()
        if box.valid():
            ll = gpd.GeoSeries([shapely.box(box.bottom_left.lon, box.bottom_left.lat,
                                            box.top_right.lon, box.top_right.lat)], crs=WEB_CRS)
            return ll.to_crs(ANALYSIS_CRS).iloc[0]
    except Exception as exc:  # a header without a box, or a reader error: use the footways
        log.debug("no extent in the header of %s: %s", path, exc)
    xy = np.column_stack([walk.x, walk.y])  # type: ignore[attr-defined]
    return shapely.convex_hull(shapely.multipoints(xy)).buffer(margin_m)


def _feed_findings(ctx: RunContext) -> list[Finding]:
    feed = ctx.inputs.feed
    stops = _stops_xy(feed)
    area = district_area(ctx.inputs.gemeinden, ctx.cfg.grid.buffer_m)
    shapely.prepare(area)
    inside = shapely.contains_xy(area, stops.x.to_numpy(), stops.y.to_numpy())
    n_in, n = int(inside.sum()), len(stops)
    verb = "liegt" if n_in == 1 else "liegen"
    out = [Finding("feed_stops", "Haltestellen im Landkreis", 100.0 * n_in / n if n else np.nan,
                   "%", "ok",
                   f"{_num(n_in)} von {plural(n, 'Haltestelle', 'Haltestellen')} des Fahrplans "
                   f"{verb} im Landkreis (mit {ctx.cfg.grid.buffer_m / 1000:g} km Puffer)."
                   )]
    if ctx.inputs.feed_cut:
        out.append(Finding("feed_cut", "Zuschnitt des Fahrplans", float(n), "Haltestellen", "ok",
                           ctx.inputs.feed_cut))
    counts = feed.service_counts()
    dow = pd.DatetimeIndex(counts.index).day_of_week
    weekdays = counts[(dow >= 1) & (dow <= 3) & (counts > 0).to_numpy()]
    typical = float(weekdays.median()) if len(weekdays) else 0.0
    for key, label, day in (("school_day", "Schultag", ctx.school_day),
                            ("holiday", "Ferientag", ctx.holiday)):
        n_trips = int(counts.get(pd.Timestamp(day), 0))
        share = 100.0 * n_trips / typical if typical else np.nan
        rating = "kritisch" if n_trips == 0 else ("Warnung" if share < TRIPS_SHARE else "ok")
        text = (f"Am {label} {day:%d.%m.%Y} fährt in diesem Fahrplan kein Bus und keine Bahn: "
                "nur Fußwege zählen." if n_trips == 0 else
                f"Am {label} {day:%d.%m.%Y} fahren {_num(n_trips)} Fahrten, "
                f"{_pct(share)} eines gewöhnlichen Werktags (Di–Do, Median {_num(typical)}).")
        out.append(Finding(f"trips_{key}", f"Fahrten am {label}", share, "%", rating, text))
        out.append(_served(ctx, key, label, day))
    skipped = getattr(feed, "skipped", None)
    if skipped is not None and len(skipped):
        total = int(skipped["count"].sum())
        share = 100.0 * total / max(len(feed.stop_times), 1)
        out.append(Finding("gtfs_skipped", "Übersprungene Fahrplandaten", float(total),
                           "Datensätze", "Warnung" if share <= SKIPPED_SHARE else "kritisch",
                           f"{_num(total)} Datensätze des Fahrplans waren unbrauchbar und wurden "
                           "übersprungen (Einzelheiten im Prüfbericht)."))
    return out


def _served(ctx: RunContext, key: str, label: str, day: dt.date) -> Finding:
    served = ctx.served_gemeinden(day)
    gem = ctx.gemeinden_with_people
    n_ok = len(served & gem)
    share = 100.0 * n_ok / len(gem) if gem else np.nan
    missing = sorted(gem - served)
    names = ctx.gemeinde_names
    verb = "hat" if n_ok == 1 else "haben"
    text = (f"Am {label} {day:%d.%m.%Y} {verb} {n_ok} von "
            f"{plural(len(gem), 'bewohnten Gemeinde', 'bewohnten Gemeinden')} eine Haltestelle "
            "mit Abfahrten")
    if missing:
        shown = ", ".join(names.get(a, a) for a in missing[:8])
        text += f"; ohne: {shown}" + (" …" if len(missing) > 8 else "")
    return Finding(f"gemeinden_served_{key}", f"Gemeinden mit Abfahrten am {label}", share, "%",
                   _rate(share, SERVED_SHARE), text + ".")


def _grid_findings(ctx: RunContext) -> list[Finding]:
    g = ctx.cfg.grid
    source = {"foreigners": "Ausländer im Zensus-Raster",
              "gemeinde": "Zahlen je Gemeinde (verteilt nach Einwohnern)",
              "both": "Zahlen je Gemeinde, verteilt nach Ausländern im Raster"}[
        g.participant_source]
    out = [Finding("participants", "Potenzielle Teilnehmende", float(ctx.cells["participants"]
                                                                     .sum()), "Personen", "ok",
                   f"Potenzielle Teilnehmende: {source} × {g.participant_factor:g}"
                   .replace(".", ",") + ".")]
    moved = ctx.grid.attrs.get("gemeindefrei") or {}
    if moved.get("areas"):
        out.append(Finding("gemeindefrei", "Zellen in gemeindefreien Gebieten",
                           float(moved["people"]), "Personen",
                           "Warnung" if moved["people"] > 0 else "ok", str(moved["text"])))
    if ctx.inputs.boundary_source == "VG5000":
        out.append(Finding("boundaries", "Genauigkeit der Grenzen", 5_000_000.0, "Maßstab 1:",
                           "Warnung", "Die Gemeindegrenzen stammen aus VG5000 (1:5.000.000): zu "
                           "grob, um Rasterzellen sicher Gemeinden zuzuordnen; für verlässliche "
                           "Zahlen je Gemeinde VG250 (1:250.000) verwenden."))
    return out


def findings(ctx: RunContext) -> list[Finding]:
    """Every finding of a run, in the order of the table."""
    parts: list[Callable[[RunContext], list[Finding]]] = [_feed_findings, _osm_findings,
                                                          _grid_findings]
    return [f for part in parts for f in part(ctx)]


def datenlage_table(ctx: RunContext) -> Table:
    """Producer of the ``datenlage`` table."""
    rows = findings(ctx)
    frame = pd.DataFrame([f.__dict__ for f in rows],
                         columns=["indicator", "label", "value", "unit", "rating", "text"])
    for f in rows:
        if f.rating != "ok":
            log.warning("Datenlage (%s): %s", f.rating, f.text)
    return build_table("datenlage", frame)


def gemeinde_notes(ctx: RunContext) -> dict[str, str]:
    """Per AGS: what is missing for that Gemeinde's result (only Gemeinden with a note)."""
    notes: dict[str, list[str]] = {}
    gem = ctx.gemeinden_with_people
    for label, day in (("Schultag", ctx.school_day), ("Ferientag", ctx.holiday)):
        for ags in sorted(gem - ctx.served_gemeinden(day)):
            notes.setdefault(ags, []).append(f"keine Abfahrt am {label}")
    if ctx.inputs.walk is not None:
        cells = ctx.cells
        far = pd.Series(~ctx.snapped_cells, index=cells.index)
        inh = cells["inhabitants"].to_numpy(float)
        per = pd.DataFrame({"ags": cells["ags"], "far": inh * far.to_numpy(), "inh": inh}) \
            .groupby("ags")[["far", "inh"]].sum()
        share = 100.0 * per["far"] / per["inh"].where(per["inh"] > 0)
        for key, value in share.items():
            if value >= 100.0 - OSM_SHARE[0]:
                notes.setdefault(str(key), []).append(
                    f"{_pct(float(value))} der Einwohner abseits des OSM-Wegenetzes")
    return {k: "; ".join(v) for k, v in notes.items()}
