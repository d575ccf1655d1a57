"""Course sites of Landkreis Beispiel: eight sites of four fictional providers, thirteen courses.

The mix follows what district offices report: full-time general courses in the Mittelzentrum, an
evening course, a part-time morning course, a literacy course, a youth course, an intensive
course, an afternoon remedial course, a women's course, and exactly one site with childcare (a
parents' course in the small town Musterbach). Capacities, free places and next start dates are
drawn from the seed within fixed bounds (capacity never above the BAMF maximum of the type).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kurszugang.crs import ANALYSIS_CRS, WEB_CRS, transformer
from kurszugang.demo import COURSES_AS_OF
from kurszugang.demo._district import District
from kurszugang.demo._network import Network

#: Column order of the course list (the package's canonical course-list schema).
COURSE_COLUMNS = (
    "site_id", "provider", "site_name", "address", "lon", "lat", "course_id", "course_type",
    "schedule", "weekdays", "start_time", "end_time", "childcare", "capacity", "free_places",
    "next_start", "as_of", "notes",
)

_VHS = "VHS Beispiel (fiktiv)"
_SPRACH = "Sprachschule Muster (fiktiv)"
_BW = "Bildungswerk Beispiel e.V. (fiktiv)"
_BZ = "Bildungszentrum Probe gGmbH (fiktiv)"

# site_id, provider, site name, place, offset east/north (units of the place radius), address
_SITES: tuple[tuple[str, str, str, str, float, float, str], ...] = (
    ("KS01", _VHS, "VHS-Haus am Marktplatz", "Beispielstadt", 0.05, 0.05,
     "Marktplatz 4, Beispielstadt"),
    ("KS02", _SPRACH, "Sprachschule am Bahnhof", "Beispielstadt", 0.15, -0.5,
     "Bahnhofstraße 12, Beispielstadt"),
    ("KS03", _BW, "Bildungswerk im Schulzentrum", "Beispielstadt", -0.5, 0.3,
     "Schulstraße 8, Beispielstadt"),
    ("KS04", _VHS, "VHS-Außenstelle Musterbach", "Musterbach", 0.1, 0.1,
     "Stadtplatz 2, Musterbach"),
    ("KS05", _SPRACH, "Sprachtreff Probstried", "Probstried", -0.1, 0.15,
     "Kirchweg 5, Probstried"),
    ("KS06", _BZ, "Bildungszentrum Vorlaging", "Vorlaging", 0.15, 0.1,
     "Hauptstraße 17, Vorlaging"),
    ("KS07", _BZ, "Bildungszentrum Beispielstadt", "Beispielstadt", 0.6, -0.3,
     "Gewerbering 21, Beispielstadt"),
    ("KS08", _BW, "Pfarrheim Skizzenau", "Skizzenau", 0.1, -0.1,
     "Pfarrgasse 3, Skizzenau"),
)

_FULL = "Mo,Di,Mi,Do,Fr"
# site_id, course_type, schedule, weekdays, start, end, childcare, capacity (low, high),
# full (no free place), note
_COURSES: tuple[tuple[str, str, str, str, str, str, str, tuple[int, int], bool, str], ...] = (
    ("KS01", "allgemein", "vollzeit", _FULL, "08:30", "12:45", "nein", (20, 25), False, ""),
    ("KS01", "allgemein", "abend", "Mo,Mi,Do", "18:00", "21:15", "nein", (16, 20), False,
     "Abendkurs / evening course"),
    ("KS02", "allgemein", "vollzeit", _FULL, "08:15", "12:30", "nein", (20, 25), True, ""),
    ("KS02", "intensiv", "vollzeit", _FULL, "08:15", "13:30", "nein", (16, 20), False,
     "Intensivkurs / intensive course"),
    ("KS03", "jugend", "vollzeit", _FULL, "08:00", "12:15", "nein", (15, 20), False,
     "Jugendintegrationskurs bis 27 Jahre / youth course up to 27"),
    ("KS03", "alpha", "vollzeit", _FULL, "08:30", "12:45", "nein", (12, 16), False,
     "Alphabetisierungskurs / literacy course"),
    ("KS04", "eltern", "teilzeit", "Mo,Di,Do", "08:45", "12:00", "ja", (14, 18), False,
     "Elternkurs mit Kinderbetreuung im Haus / parents' course with childcare"),
    ("KS05", "allgemein", "teilzeit", "Di,Do", "09:00", "12:15", "nein", (12, 18), False,
     "Teilzeitkurs vormittags / part-time morning course"),
    ("KS06", "allgemein", "vollzeit", _FULL, "08:30", "12:45", "nein", (18, 25), False, ""),
    ("KS06", "frauen", "teilzeit", "Mo,Mi,Fr", "09:00", "12:00", "nein", (12, 18), False,
     "Frauenkurs / women's course"),
    ("KS07", "foerder", "vollzeit", _FULL, "13:00", "17:15", "nein", (15, 23), False,
     "Förderkurs nachmittags / remedial course in the afternoon"),
    ("KS07", "allgemein", "vollzeit", _FULL, "08:00", "12:15", "nein", (20, 25), False, ""),
    ("KS08", "allgemein", "teilzeit", "Mo,Mi", "13:30", "16:45", "nein", (12, 16), False,
     "Teilzeitkurs nachmittags / part-time afternoon course"),
)
_NOTE = "fiktiv / fictional"
_TO_LONLAT = transformer(ANALYSIS_CRS, WEB_CRS)


def build_courses(rng: np.random.Generator, district: District, network: Network) -> pd.DataFrame:
    """Generate the course list (one row per course, site columns repeated).

    Parameters
    ----------
    rng
        The random generator of this part of the generation.
    district
        The district (places).
    network
        The walking network: every site stands beside a street node of its place.

    Returns
    -------
    pandas.DataFrame
        Text columns in the order of :data:`COURSE_COLUMNS`.
    """
    used: set[int] = set()
    site_rows = []
    for site_id, provider, name, place, fx, fy, address in _SITES:
        p = district.place(place)
        k = network.nearest_node(
            int(p.place_id), float(p.x) + fx * float(p.radius), float(p.y) + fy * float(p.radius),
            exclude=used,
        )
        used.add(k)
        x = float(network.nodes["x"].iloc[k]) - 12.0
        y = float(network.nodes["y"].iloc[k]) + 9.0
        site_rows.append(
            {"site_id": site_id, "provider": provider, "site_name": name, "address": address,
             "x": x, "y": y}
        )
    sites = pd.DataFrame(site_rows)
    lon, lat = _TO_LONLAT.transform(sites["x"].to_numpy(), sites["y"].to_numpy())
    sites["lon"] = np.char.mod("%.7f", np.round(lon, 7))
    sites["lat"] = np.char.mod("%.7f", np.round(lat, 7))

    courses = pd.DataFrame(
        list(_COURSES),
        columns=["site_id", "course_type", "schedule", "weekdays", "start_time", "end_time",
                 "childcare", "cap", "full", "note"],
    )
    n = len(courses)
    lo = np.array([c[0] for c in courses["cap"]])
    hi = np.array([c[1] for c in courses["cap"]])
    capacity = rng.integers(lo, hi + 1)
    free = np.where(courses["full"].to_numpy(), 0, rng.integers(1, capacity // 2 + 1))
    weeks = rng.integers(2, 23, size=n)
    as_of = pd.Timestamp(COURSES_AS_OF)
    # courses start on Mondays: the as-of date is a Monday
    start = as_of + pd.to_timedelta(weeks * 7, unit="D")
    courses["capacity"] = capacity.astype(str)
    courses["free_places"] = free.astype(str)
    courses["next_start"] = start.strftime("%Y-%m-%d")
    courses["as_of"] = COURSES_AS_OF.isoformat()
    courses["course_id"] = courses["site_id"] + "-" + (
        courses.groupby("site_id").cumcount() + 1
    ).astype(str)
    courses["notes"] = np.where(
        courses["note"] != "", courses["note"] + " (" + _NOTE + ")", _NOTE
    )
    table = courses.merge(sites, on="site_id", how="left", validate="many_to_one")
    return table[list(COURSE_COLUMNS)].reset_index(drop=True)
