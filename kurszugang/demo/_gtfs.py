"""The timetable of Landkreis Beispiel as a GTFS feed with the texture of real rural service.

Lines (see ``docs/demo-district.md``):

=======  =====  ===========================================================================
route    type   service
=======  =====  ===========================================================================
RB99     2      regional rail Vorlaging - Beispielstadt - Musterbach, hourly about 05-24 h
                every day (trains cross at Beispielstadt at :00; the last one arrives after
                midnight)
401      3      hourly Beispielstadt - Entwurfing - Probstried, every other trip on to
                Mustereck, one late bus at 22:08; thin Saturday
402      3      hourly Beispielstadt - Modellhofen - Skizzenau; thin Saturday; school trips
403-405  3      every two hours with a midday gap, Monday to Friday only, last bus out of
                Beispielstadt 17:08 (405) to 18:08; school trips
406      3      Stadtbus Beispielstadt, a ring, hourly Monday-Friday, three trips on Saturday
409      3      school bus Übungsdorf - Annahmsdorf - Beispielstadt Schulzentrum, school days only
490      715    Rufbus (on demand): Vorlaging - Übungsdorf - Annahmsdorf - Beispielstadt
=======  =====  ===========================================================================

Buses leave the ZOB at :08, ten minutes after the trains arrive, and arrive at :50, ten minutes
before the trains leave; ``transfers.txt`` gives four minutes between the station and the ZOB.
Services: ``MOFR`` (Monday-Friday), ``SA``, ``SO`` (Sunday and public holidays, railway only) and
``SCHULE`` (school days: Monday-Friday without school holidays and public holidays). On public
holidays the weekday and Saturday services are removed and the Sunday service added.

The on-demand convention of the package: the Rufbus has ``route_type`` 715 (HVT "Demand and
Response Bus Service"), ``pickup_type`` and ``drop_off_type`` 2 ("phone the agency") on all its
stop_times, and "Rufbus" in its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from kurszugang.crs import ANALYSIS_CRS, WEB_CRS, transformer
from kurszugang.demo import (
    FEED_END,
    FEED_START,
    ON_DEMAND_ROUTE_ID,
    PUBLIC_HOLIDAYS,
    SCHOOL_HOLIDAYS,
    SCHOOL_SERVICE_ID,
)
from kurszugang.demo._district import District
from kurszugang.demo._network import Network

_TO_LONLAT = transformer(ANALYSIS_CRS, WEB_CRS)

_MZ = "Beispielstadt"
# Stops of the Gemeinde main places: (place, label, offset east, offset north) with offsets in
# units of the place's built-up radius; the stop goes to the nearest free street node.
_MAIN_STOPS: tuple[tuple[str, str, float, float], ...] = (
    (_MZ, "Bahnhof", 0.05, -0.6),
    (_MZ, "ZOB", 0.3, -0.6),
    (_MZ, "Marktplatz", 0.0, 0.0),
    (_MZ, "Krankenhaus", 0.55, 0.45),
    (_MZ, "Schulzentrum", -0.55, 0.35),
    (_MZ, "Gewerbegebiet", 0.65, -0.35),
    ("Musterbach", "Bahnhof", 0.0, -0.6),
    ("Musterbach", "Stadtplatz", 0.0, 0.0),
    ("Vorlaging", "Bahnhof", 0.0, -0.6),
    ("Vorlaging", "Marktplatz", 0.0, 0.0),
    ("Probstried", "Marktplatz", 0.0, 0.0),
    ("Fiktivried", "Bahnhof", 0.0, -0.5),
    ("Planhausen", "Bahnhof", 0.0, -0.5),
)
_HAMLET_LABELS = ("Kapelle", "Dorfplatz", "Feuerwehrhaus", "Abzw.")

_AGENCIES = pd.DataFrame(
    {
        "agency_id": ["RBB", "RVB", "SWB"],
        "agency_name": [
            "Regionalbahn Beispiel (fiktiv)",
            "Regionalverkehr Beispiel GmbH (fiktiv)",
            "Stadtwerke Beispielstadt, Stadtbus (fiktiv)",
        ],
        "agency_url": [
            "https://example.com/regionalbahn-beispiel",
            "https://example.com/regionalverkehr-beispiel",
            "https://example.com/stadtbus-beispielstadt",
        ],
        "agency_timezone": "Europe/Berlin",
        "agency_lang": "de",
    }
)

# route_id, agency, short name, long name, route_type, key stops (place, label)
_ROUTES: tuple[tuple[str, str, str, str, int, tuple[tuple[str, str], ...]], ...] = (
    ("RB99", "RBB", "RB 99", "Vorlaging – Beispielstadt – Musterbach", 2,
     (("Vorlaging", "Bahnhof"), ("Fiktivried", "Bahnhof"), (_MZ, "Bahnhof"),
      ("Planhausen", "Bahnhof"), ("Musterbach", "Bahnhof"))),
    ("401", "RVB", "401", "Beispielstadt – Entwurfing – Probstried – Mustereck", 3,
     ((_MZ, "ZOB"), (_MZ, "Marktplatz"), ("Entwurfing", "Ortsmitte"),
      ("Probstried", "Marktplatz"), ("Mustereck", "Ortsmitte"))),
    ("402", "RVB", "402", "Beispielstadt – Modellhofen – Skizzenau", 3,
     ((_MZ, "ZOB"), (_MZ, "Marktplatz"), ("Modellhofen", "Ortsmitte"),
      ("Skizzenau", "Ortsmitte"))),
    ("403", "RVB", "403", "Beispielstadt – Schemmering – Attrappenreuth – Schablonau", 3,
     ((_MZ, "ZOB"), (_MZ, "Schulzentrum"), ("Schemmering", "Ortsmitte"),
      ("Attrappenreuth", "Ortsmitte"), ("Schablonau", "Ortsmitte"))),
    ("404", "RVB", "404", "Beispielstadt – Vorbildsried – Kopiering – Testelsbach – Musterbach", 3,
     ((_MZ, "ZOB"), (_MZ, "Gewerbegebiet"), ("Vorbildsried", "Ortsmitte"),
      ("Kopiering", "Ortsmitte"), ("Testelsbach", "Ortsmitte"), ("Musterbach", "Bahnhof"))),
    ("405", "RVB", "405", "Beispielstadt – Platzhalting – Probing", 3,
     ((_MZ, "ZOB"), (_MZ, "Krankenhaus"), ("Platzhalting", "Ortsmitte"),
      ("Probing", "Ortsmitte"))),
    ("406", "SWB", "406", "Stadtbus Beispielstadt (Ring)", 3,
     ((_MZ, "ZOB"), (_MZ, "Gewerbegebiet"), (_MZ, "Krankenhaus"), (_MZ, "Marktplatz"),
      (_MZ, "Schulzentrum"), (_MZ, "ZOB"))),
    ("409", "RVB", "409", "Schulbus Übungsdorf – Annahmsdorf – Beispielstadt", 3,
     (("Übungsdorf", "Ortsmitte"), ("Annahmsdorf", "Ortsmitte"), (_MZ, "Schulzentrum"))),
    (ON_DEMAND_ROUTE_ID, "RVB", "490",
     "Rufbus Vorlaging – Übungsdorf – Annahmsdorf – Beispielstadt", 715,
     (("Vorlaging", "Bahnhof"), ("Übungsdorf", "Ortsmitte"), ("Annahmsdorf", "Ortsmitte"),
      (_MZ, "ZOB"))),
)
_ROUTE_DESC = {
    ON_DEMAND_ROUTE_ID: (
        "Rufbus (Bedarfsverkehr): fährt nur nach telefonischer Anmeldung bis 60 Minuten vor "
        "der Abfahrt. On-demand bus: book by phone 60 minutes ahead. Fiktiv / fictional."
    ),
    "409": "Schulbus: verkehrt nur an Schultagen. School days only. Fiktiv / fictional.",
}
# Routes that collect every hamlet of the villages they serve (school bus and Rufbus); otherwise
# a line takes the hamlets of its Gemeinden that lie within 1.5 km of its way.
_COLLECTING = ("409", ON_DEMAND_ROUTE_ID)
_CORRIDOR_M = 1_500.0
# Trains stop at their stations only.
_NO_HAMLETS = ("RB99",)


def _hm(text: str) -> int:
    """'06:08' -> minutes after midnight."""
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def _every(first: str, last: str, step: int = 60) -> list[int]:
    return list(range(_hm(first), _hm(last) + 1, step))


# Trip plans: (route_id, variant, direction_id, service_id, anchor, times in minutes).
# variant: "full", "short" (without the last key stop), "school" (to/from the Schulzentrum).
# anchor: "first" (departure at the first stop), "last" (arrival at the last stop) or a
# (place, label) stop whose departure time is given.
_RAIL_ANCHOR = (_MZ, "Bahnhof")
_PLANS: tuple[tuple[str, str, int, str, object, list[int]], ...] = (
    # regional rail: trains from both ends meet at Beispielstadt at :00
    ("RB99", "full", 0, "MOFR", _RAIL_ANCHOR, _every("05:00", "23:00")),
    ("RB99", "full", 1, "MOFR", _RAIL_ANCHOR, _every("05:00", "24:00")),
    ("RB99", "full", 0, "SA", _RAIL_ANCHOR, _every("06:00", "23:00")),
    ("RB99", "full", 1, "SA", _RAIL_ANCHOR, _every("06:00", "24:00")),
    ("RB99", "full", 0, "SO", _RAIL_ANCHOR, _every("07:00", "23:00")),
    ("RB99", "full", 1, "SO", _RAIL_ANCHOR, _every("07:00", "24:00")),
    # 401: hourly, every other trip to Mustereck, a late bus at 22:08
    ("401", "full", 0, "MOFR", "first", _every("06:08", "20:08", 120)),
    ("401", "short", 0, "MOFR", "first", _every("07:08", "19:08", 120) + [_hm("22:08")]),
    ("401", "full", 1, "MOFR", "last", _every("05:50", "19:50", 120)),
    ("401", "short", 1, "MOFR", "last", _every("06:50", "18:50", 120)),
    ("401", "full", 0, "SA", "first", _every("08:08", "14:08", 120)),
    ("401", "full", 1, "SA", "last", _every("07:50", "13:50", 120)),
    # 402: hourly
    ("402", "full", 0, "MOFR", "first", _every("06:08", "19:08")),
    ("402", "full", 1, "MOFR", "last", _every("05:50", "18:50")),
    ("402", "full", 0, "SA", "first", _every("08:08", "14:08", 120)),
    ("402", "full", 1, "SA", "last", _every("07:50", "13:50", 120)),
    ("402", "school", 1, SCHOOL_SERVICE_ID, "last", [_hm("07:40")]),
    ("402", "school", 0, SCHOOL_SERVICE_ID, "first", [_hm("13:10"), _hm("15:50")]),
    # 403-405: every two hours with a midday gap, weekdays only
    ("403", "full", 0, "MOFR", "first", [_hm(t) for t in
                                          ("06:08", "08:08", "12:08", "14:08", "16:08", "18:08")]),
    ("403", "full", 1, "MOFR", "last", [_hm(t) for t in
                                         ("06:50", "08:50", "12:50", "14:50", "16:50")]),
    ("403", "school", 1, SCHOOL_SERVICE_ID, "last", [_hm("07:40")]),
    ("403", "school", 0, SCHOOL_SERVICE_ID, "first", [_hm("13:10"), _hm("15:50")]),
    ("404", "full", 0, "MOFR", "first", [_hm(t) for t in
                                          ("07:08", "09:08", "13:08", "15:08", "18:08")]),
    ("404", "full", 1, "MOFR", "last", [_hm(t) for t in
                                         ("07:50", "09:50", "13:50", "15:50", "17:50")]),
    ("404", "school", 1, SCHOOL_SERVICE_ID, "last", [_hm("07:40")]),
    ("404", "school", 0, SCHOOL_SERVICE_ID, "first", [_hm("13:10"), _hm("15:50")]),
    ("405", "full", 0, "MOFR", "first", [_hm(t) for t in
                                          ("07:08", "09:08", "13:08", "15:08", "17:08")]),
    ("405", "full", 1, "MOFR", "last", [_hm(t) for t in
                                         ("06:50", "08:50", "12:50", "14:50", "16:50")]),
    ("405", "school", 1, SCHOOL_SERVICE_ID, "last", [_hm("07:40")]),
    ("405", "school", 0, SCHOOL_SERVICE_ID, "first", [_hm("13:10"), _hm("15:50")]),
    # 406 Stadtbus: a ring
    ("406", "full", 0, "MOFR", "first", _every("06:15", "19:15")),
    ("406", "full", 0, "SA", "first", _every("08:15", "12:15", 120)),
    # 409 school bus
    ("409", "full", 0, SCHOOL_SERVICE_ID, "last", [_hm("07:35")]),
    ("409", "full", 1, SCHOOL_SERVICE_ID, "first", [_hm("13:05"), _hm("15:45")]),
    # 490 Rufbus
    (ON_DEMAND_ROUTE_ID, "full", 0, "MOFR", "first", _every("07:10", "19:10", 120)),
    (ON_DEMAND_ROUTE_ID, "full", 1, "MOFR", "first", _every("06:08", "20:08", 120)),
    (ON_DEMAND_ROUTE_ID, "full", 0, "SA", "first", _every("09:10", "11:10", 120)),
    (ON_DEMAND_ROUTE_ID, "full", 1, "SA", "first", _every("10:08", "12:08", 120)),
)


@dataclass(frozen=True)
class Timetable:
    """The GTFS tables as DataFrames of text (ready to write), keyed by file name."""

    tables: dict[str, pd.DataFrame]


def _stops(district: District, network: Network) -> pd.DataFrame:
    """Every stop that some line serves: key, name, street node and coordinates."""
    places = district.places
    used: set[int] = set()
    rows: list[dict[str, object]] = []
    main = places.loc[places["kind"] == "main"]
    # every main place without a Marktplatz/Stadtplatz stop gets an "Ortsmitte" (kept only if a
    # line serves it)
    centre = {p for p, lab, _, _ in _MAIN_STOPS if lab in ("Marktplatz", "Stadtplatz")}
    specs = list(_MAIN_STOPS) + [
        (name, "Ortsmitte", 0.0, 0.0) for name in main["name"] if name not in centre
    ]
    for name, label, fx, fy in specs:
        p = district.place(name)
        k = network.nearest_node(
            int(p.place_id), float(p.x) + fx * float(p.radius), float(p.y) + fy * float(p.radius),
            exclude=used,
        )
        used.add(k)
        rows.append({"place": name, "label": label, "node": k, "place_id": int(p.place_id)})
    hamlets = places.loc[places["kind"] == "hamlet"]
    for i, h in enumerate(hamlets.to_dict("records")):
        k = network.nearest_node(int(h["place_id"]), float(h["x"]), float(h["y"]), exclude=used)
        used.add(k)
        rows.append(
            {"place": h["name"], "label": _HAMLET_LABELS[i % len(_HAMLET_LABELS)], "node": k,
             "place_id": int(h["place_id"])}
        )
    stops = pd.DataFrame(rows)
    nodes = network.nodes
    # the stop pole stands 7 m beside its street node
    stops["x"] = nodes["x"].to_numpy()[stops["node"]] + 5.0
    stops["y"] = nodes["y"].to_numpy()[stops["node"]] + 5.0
    stops["stop_name"] = stops["place"] + ", " + stops["label"]
    return stops


def _pattern(
    key_stops: list[int], stops: pd.DataFrame, district: District, route_id: str
) -> list[int]:
    """Stop rows of a line: its key stops with the hamlets of its Gemeinden inserted en route."""
    places = district.places
    hamlet_rows = stops.index[
        stops["place_id"].isin(places.loc[places["kind"] == "hamlet", "place_id"])
    ]
    by_id = places.set_index("place_id")
    key_ags = set(by_id.loc[stops.loc[key_stops, "place_id"], "ags"])
    hamlet_ags = by_id.loc[stops.loc[hamlet_rows, "place_id"], "ags"].to_numpy()
    hamlet_role = by_id.loc[stops.loc[hamlet_rows, "place_id"], "role"].to_numpy()
    mine = np.isin(hamlet_ags, sorted(key_ags))
    cand = np.asarray(hamlet_rows[mine], dtype=np.int64)
    collect = (hamlet_role[mine] == "dorf") & (route_id in _COLLECTING)
    x, y = stops["x"].to_numpy(), stops["y"].to_numpy()
    legs = list(zip(key_stops[:-1], key_stops[1:], strict=True))
    if len(cand) == 0 or not legs or route_id in _NO_HAMLETS:
        return list(key_stops)
    ax = np.array([x[a] for a, _ in legs])
    ay = np.array([y[a] for a, _ in legs])
    vx = np.array([x[b] for _, b in legs]) - ax
    vy = np.array([y[b] for _, b in legs]) - ay
    t = ((x[cand][:, None] - ax) * vx + (y[cand][:, None] - ay) * vy) / np.maximum(
        vx**2 + vy**2, 1.0
    )
    tc = np.clip(t, 0.0, 1.0)
    dist = np.hypot(ax + tc * vx - x[cand][:, None], ay + tc * vy - y[cand][:, None])
    leg = np.argmin(dist, axis=1)
    best = dist[np.arange(len(cand)), leg]
    take = (best <= _CORRIDOR_M) | collect
    out = [key_stops[0]]
    for li, (_, b) in enumerate(legs):
        sel = np.flatnonzero(take & (leg == li))
        tt = t[sel, li]
        order = sel[np.argsort(tt, kind="stable")]
        if li == 0:
            before = [int(cand[o]) for o in order if t[o, li] < 0]
            out = before + out
            order = np.array([o for o in order if t[o, li] >= 0], dtype=np.int64)
        out += [int(cand[o]) for o in order]
        out.append(b)
    return out


def _offsets(
    pattern: list[int], stops: pd.DataFrame, route_type: int
) -> tuple[np.ndarray, np.ndarray]:
    """Arrival and departure minutes after the first departure, from road distances."""
    x = stops["x"].to_numpy()[pattern]
    y = stops["y"].to_numpy()[pattern]
    d_km = np.hypot(np.diff(x), np.diff(y)) / 1000.0
    if route_type == 2:
        # train: about 70 km/h between stations on a line 10 % longer than the straight line
        run = np.maximum(2, np.round(d_km * 1.10 / 70.0 * 60.0)).astype(np.int64)
        dwell = np.where(stops["place"].to_numpy()[pattern] == _MZ, 2, 0)
        dwell[0] = dwell[-1] = 0
    else:
        # bus: 38 km/h including stops on roads 30 % longer than the straight line
        run = np.maximum(1, np.round(d_km * 1.30 / 38.0 * 60.0)).astype(np.int64)
        dwell = np.zeros(len(pattern), dtype=np.int64)
    arr = np.zeros(len(pattern), dtype=np.int64)
    dep = np.zeros(len(pattern), dtype=np.int64)
    for i in range(1, len(pattern)):
        arr[i] = dep[i - 1] + run[i - 1]
        dep[i] = arr[i] + dwell[i]
    return arr, dep


def _gtfs_time(minutes: np.ndarray) -> np.ndarray:
    """Minutes after midnight -> 'HH:MM:SS' (hours past 24 kept, as GTFS wants)."""
    m = pd.Series(np.asarray(minutes, dtype=np.int64))
    text = (m // 60).astype(str).str.zfill(2) + ":" + (m % 60).astype(str).str.zfill(2) + ":00"
    return text.to_numpy()


def _calendar_dates() -> pd.DataFrame:
    """Exceptions: public holidays and school holidays."""
    days = pd.date_range(FEED_START, FEED_END, freq="D")
    public = pd.DatetimeIndex([pd.Timestamp(d) for d, _ in PUBLIC_HOLIDAYS])
    school_free = np.zeros(len(days), dtype=bool)
    for first, last, _ in SCHOOL_HOLIDAYS:
        school_free |= (days >= pd.Timestamp(first)) & (days <= pd.Timestamp(last))
    is_public = days.isin(public)
    weekday = days.day_of_week
    rows = [
        pd.DataFrame({"service_id": "MOFR", "date": days[is_public & (weekday < 5)],
                      "exception_type": 2}),
        pd.DataFrame({"service_id": "SA", "date": days[is_public & (weekday == 5)],
                      "exception_type": 2}),
        pd.DataFrame({"service_id": "SO", "date": days[is_public & (weekday < 6)],
                      "exception_type": 1}),
        pd.DataFrame({"service_id": SCHOOL_SERVICE_ID,
                      "date": days[(is_public | school_free) & (weekday < 5)],
                      "exception_type": 2}),
    ]
    out = pd.concat(rows, ignore_index=True)
    out["date"] = out["date"].dt.strftime("%Y%m%d")
    out["exception_type"] = out["exception_type"].astype(str)
    return out.sort_values(["service_id", "date"], kind="stable").reset_index(drop=True)


def build_timetable(district: District, network: Network, *, seed: int) -> Timetable:
    """Generate the GTFS tables.

    Parameters
    ----------
    district
        The district (places).
    network
        The walking network (stops stand beside its street nodes).
    seed
        The generator seed, recorded in ``feed_info.txt``.

    Returns
    -------
    Timetable
        Every GTFS table as text columns.
    """
    stops = _stops(district, network)
    key = {(p, lab): i for i, (p, lab) in enumerate(zip(stops["place"], stops["label"],
                                                        strict=True))}
    route_rows = []
    patterns: dict[tuple[str, str], list[int]] = {}
    route_type = {}
    for route_id, agency, short, long_name, rtype, keys in _ROUTES:
        route_rows.append(
            {"route_id": route_id, "agency_id": agency, "route_short_name": short,
             "route_long_name": long_name, "route_desc": _ROUTE_DESC.get(route_id, ""),
             "route_type": str(rtype)}
        )
        route_type[route_id] = rtype
        key_rows = [key[k] for k in keys]
        school = key[(_MZ, "Schulzentrum")]
        variants = {
            "full": key_rows,
            "short": key_rows[:-1],
            # school trips start/end at the Schulzentrum instead of the ZOB
            "school": [school] + [r for r in key_rows[1:] if r != school],
        }
        for variant in sorted({v for r, v, *_ in _PLANS if r == route_id}):
            patterns[(route_id, variant)] = _pattern(
                variants[variant], stops, district, route_id
            )

    trip_frames = []
    st_frames = []
    for route_id, variant, direction, service, anchor, times in _PLANS:
        pattern = patterns[(route_id, variant)]
        if direction == 1:
            pattern = pattern[::-1]
        arr, dep = _offsets(pattern, stops, route_type[route_id])
        t = np.asarray(times, dtype=np.int64)
        if anchor == "first":
            start = t
        elif anchor == "last":
            start = t - arr[-1]
        else:
            start = t - dep[pattern.index(key[cast(tuple[str, str], anchor)])]
        trip_ids = [
            f"{route_id}-{direction}-{variant}-{service}-{s // 60:02d}{s % 60:02d}"
            for s in start.tolist()
        ]
        headsign = stops["place"].iloc[pattern[-1]]
        trip_frames.append(
            pd.DataFrame({"route_id": route_id, "service_id": service, "trip_id": trip_ids,
                          "trip_headsign": headsign, "direction_id": str(direction)})
        )
        n, m = len(trip_ids), len(pattern)
        on_demand = route_type[route_id] == 715
        st_frames.append(
            pd.DataFrame(
                {
                    "trip_id": np.repeat(trip_ids, m),
                    "arrival": (start[:, None] + arr[None, :]).ravel(),
                    "departure": (start[:, None] + dep[None, :]).ravel(),
                    "stop_row": np.tile(pattern, n),
                    "stop_sequence": np.tile(np.arange(1, m + 1), n).astype(str),
                    "pickup_type": "2" if on_demand else "0",
                    "drop_off_type": "2" if on_demand else "0",
                }
            )
        )
    trips = pd.concat(trip_frames, ignore_index=True)
    if trips["trip_id"].duplicated().any():
        raise RuntimeError("demo generator: duplicate trip ids")
    st = pd.concat(st_frames, ignore_index=True)

    served = np.unique(st["stop_row"].to_numpy())
    stops = stops.iloc[served].reset_index(drop=True)
    # DELFI-style ids: de:<Kreis>:<number>, numbered in the order of the stop table
    stops["stop_id"] = [f"de:09999:{1001 + i}" for i in range(len(stops))]
    row_to_id = pd.Series(stops["stop_id"].to_numpy(), index=served)
    st["stop_id"] = row_to_id.loc[st["stop_row"].to_numpy()].to_numpy()
    st["arrival_time"] = _gtfs_time(st["arrival"].to_numpy())
    st["departure_time"] = _gtfs_time(st["departure"].to_numpy())
    st = st.assign(seq_int=st["stop_sequence"].astype(int)).sort_values(
        ["trip_id", "seq_int"], kind="stable"
    )
    stop_times = st[["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence",
                     "pickup_type", "drop_off_type"]].reset_index(drop=True)
    trips = trips.sort_values("trip_id", kind="stable").reset_index(drop=True)

    lon, lat = _TO_LONLAT.transform(stops["x"].to_numpy(), stops["y"].to_numpy())
    stops_txt = pd.DataFrame(
        {
            "stop_id": stops["stop_id"],
            "stop_name": stops["stop_name"],
            "stop_lat": np.char.mod("%.7f", np.round(lat, 7)),
            "stop_lon": np.char.mod("%.7f", np.round(lon, 7)),
            "location_type": "0",
        }
    )
    first_day, last_day = FEED_START.strftime("%Y%m%d"), FEED_END.strftime("%Y%m%d")
    calendar = pd.DataFrame(
        [
            ("MOFR", "1", "1", "1", "1", "1", "0", "0", first_day, last_day),
            ("SA", "0", "0", "0", "0", "0", "1", "0", first_day, last_day),
            ("SO", "0", "0", "0", "0", "0", "0", "1", first_day, last_day),
            (SCHOOL_SERVICE_ID, "1", "1", "1", "1", "1", "0", "0", first_day, last_day),
        ],
        columns=["service_id", "monday", "tuesday", "wednesday", "thursday", "friday",
                 "saturday", "sunday", "start_date", "end_date"],
    )
    bahnhof = stops.loc[(stops["place"] == _MZ) & (stops["label"] == "Bahnhof"), "stop_id"].iloc[0]
    zob = stops.loc[(stops["place"] == _MZ) & (stops["label"] == "ZOB"), "stop_id"].iloc[0]
    transfers = pd.DataFrame(
        {"from_stop_id": [bahnhof, zob], "to_stop_id": [zob, bahnhof],
         "transfer_type": "2", "min_transfer_time": "240"}
    )
    feed_info = pd.DataFrame(
        {
            "feed_publisher_name": ["kurszugang Demo: Landkreis Beispiel (fiktiv / fictional)"],
            "feed_publisher_url": ["https://example.com/kurszugang-demo"],
            "feed_lang": ["de"],
            "feed_start_date": [first_day],
            "feed_end_date": [last_day],
            "feed_version": [f"fiktiv-seed-{seed}"],
        }
    )
    routes = pd.DataFrame(route_rows)
    tables = {
        "agency.txt": _AGENCIES.copy(),
        "stops.txt": stops_txt,
        "routes.txt": routes,
        "trips.txt": trips,
        "stop_times.txt": stop_times,
        "calendar.txt": calendar,
        "calendar_dates.txt": _calendar_dates(),
        "transfers.txt": transfers,
        "feed_info.txt": feed_info,
    }
    return Timetable(tables=tables)
