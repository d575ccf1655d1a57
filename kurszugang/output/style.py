"""Class breaks, colours and symbols shared by every map: the web map, the QGIS styles of the
GeoPackage and the A4 maps.

One declaration, so that a share of 52 % or a travel time of 17 min has the same colour in the
browser, in QGIS and on paper:

- :data:`COVERAGE_CLASSES`: the share of potential participants who can attend a course
  (Gemeinden), 0-25-50-75-90-100 %, red (few) to blue (most), ColorBrewer RdYlBu;
- :data:`TRAVEL_TIME_CLASSES`: travel times in minutes (catchments, surfaces, grid cells,
  Gemeinden), 0-15-30-45-60-90 min, green (near) to red (far), ColorBrewer RdYlGn;
- :data:`NO_DATA_COLOUR`: no participants, no result, or beyond the last class;
- :data:`COURSE_TYPE_STYLES` and :data:`SCHEDULE_STYLES`: colour, symbol and names of each course
  type and the badge of each schedule (colour-blind-safe palette, Okabe-Ito plus two);
- :data:`PROPOSAL_COLOUR` and :data:`PROPOSAL_AREA_COLOUR`: the planning's proposed sites (a
  star, never a round course-site marker) and their catchments.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CLUSTER_COLOURS",
    "COURSE_TYPE_STYLES",
    "COVERAGE_CLASSES",
    "DATENLAGE_HATCH_COLOUR",
    "NO_DATA_COLOUR",
    "OTHER_TYPE_COLOUR",
    "PROPOSAL_AREA_COLOUR",
    "PROPOSAL_COLOUR",
    "SCHEDULE_STYLES",
    "TRAVEL_TIME_CLASSES",
    "CourseTypeStyle",
    "class_ranges",
]


@dataclass(frozen=True)
class CourseTypeStyle:
    """How a course type is drawn: colour, a two-letter symbol and its names.

    Attributes
    ----------
    colour
        Fill colour of the marker (CSS colour).
    symbol_de, symbol_en
        Two-letter symbol on the marker.
    name_de, name_en
        The course type's name in German and English.
    """

    colour: str
    symbol_de: str
    symbol_en: str
    name_de: str
    name_en: str


#: Marker colour, symbol and names per course type code. Codes not listed here (course type
#: lists are configurable) get :data:`OTHER_TYPE_COLOUR` and the first two letters of the code.
COURSE_TYPE_STYLES: dict[str, CourseTypeStyle] = {
    "allgemein": CourseTypeStyle("#0072B2", "IK", "GC", "Allgemeiner Integrationskurs",
                                 "General integration course"),
    "intensiv": CourseTypeStyle("#E69F00", "IN", "IC", "Intensivkurs", "Intensive course"),
    "jugend": CourseTypeStyle("#009E73", "JU", "YC", "Jugendintegrationskurs", "Youth course"),
    "eltern": CourseTypeStyle("#D55E00", "EL", "PC", "Elternintegrationskurs",
                              "Parents' course"),
    "frauen": CourseTypeStyle("#CC79A7", "FR", "WC", "Frauenintegrationskurs",
                              "Women's course"),
    "alpha": CourseTypeStyle("#6A3D9A", "AL", "LC", "Alphabetisierungskurs", "Literacy course"),
    "zweitschrift": CourseTypeStyle("#56B4E9", "ZS", "SS", "Kurs für Zweitschriftlernende",
                                    "Second-script learners' course"),
    "foerder": CourseTypeStyle("#8C6D1F", "FÖ", "RC", "Förderkurs", "Remedial course"),
}
#: Colour of course types without a style of their own.
OTHER_TYPE_COLOUR = "#666666"

#: Badge letter and names per schedule code.
SCHEDULE_STYLES: dict[str, dict[str, str]] = {
    "vollzeit": {"badge_de": "V", "badge_en": "F", "de": "Vollzeit", "en": "full-time"},
    "teilzeit": {"badge_de": "T", "badge_en": "P", "de": "Teilzeit", "en": "part-time"},
    "abend": {"badge_de": "A", "badge_en": "E", "de": "Abendkurs", "en": "evening"},
}

#: Classes of the coverage choropleth: (upper limit of the share in %, colour), from 0 %; the
#: last class includes 100 %. Red where few can attend, blue where most can (ColorBrewer RdYlBu,
#: colour-blind safe).
COVERAGE_CLASSES: tuple[tuple[float, str], ...] = (
    (25.0, "#d7191c"), (50.0, "#fdae61"), (75.0, "#ffffbf"), (90.0, "#abd9e9"),
    (100.0, "#2c7bb6"),
)
#: Classes of travel times (upper limit in minutes, colour), from 0 min, for catchment bands,
#: surfaces, grid cells and the travel-time choropleth; longer times (or none) get
#: :data:`NO_DATA_COLOUR`.
TRAVEL_TIME_CLASSES: tuple[tuple[float, str], ...] = (
    (15.0, "#1a9641"), (30.0, "#a6d96a"), (45.0, "#ffffbf"), (60.0, "#fdae61"),
    (90.0, "#d7191c"),
)
#: Colour of Gemeinden without potential participants or without a result, and of times beyond
#: the last class.
NO_DATA_COLOUR = "#bdbdbd"
#: Fill colours of clustered course markers (few, some, many): dark blue-greys, never a class
#: colour, so that a cluster is not read as a travel-time or coverage class.
CLUSTER_COLOURS: tuple[str, str, str] = ("#546e7a", "#37474f", "#263238")
#: Colour of a site proposed by the planning (``kurszugang plan``), drawn as a star with a dark
#: outline: the star tells it apart from the round course-site markers, whatever their colour.
PROPOSAL_COLOUR = "#d7191c"
#: Fill of a proposed site's catchment (light, outlined in :data:`PROPOSAL_COLOUR`).
PROPOSAL_AREA_COLOUR = "#fdae61"
#: Hatching over Gemeinden whose result rests on missing data (a Datenlage note): dark red
#: diagonal lines over the class colour, on the web map, the A4 maps and in QGIS.
DATENLAGE_HATCH_COLOUR = "#6d0a0a"


def class_ranges(classes: tuple[tuple[float, str], ...]) -> list[tuple[float, float, str]]:
    """The classes as ``(lower, upper, colour)``, the first from 0.

    Examples
    --------
    >>> class_ranges(TRAVEL_TIME_CLASSES)[:2]
    [(0.0, 15.0, '#1a9641'), (15.0, 30.0, '#a6d96a')]
    """
    out: list[tuple[float, float, str]] = []
    lo = 0.0
    for hi, colour in classes:
        out.append((lo, hi, colour))
        lo = hi
    return out
