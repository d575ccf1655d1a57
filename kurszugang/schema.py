"""Every table and layer a run writes, with its columns declared once.

A column declares its key (the identifier in Parquet, GeoPackage and code), dtype, unit, German
and English label, a one-line meaning and its kind (what renderers do with it: a people count can
be suppressed, a share is in %, a key stays text). Columns that repeat per course type, schedule,
date or threshold are declared once as a :class:`Family` and expanded with their parameter, so
that labels never have to be parsed back from column names.

A :class:`TableSpec` names a table's file and sheet, its columns and the function that computes it
(``producer``, ``"module:function"`` taking the run's context). The pipeline computes every
registered table into :class:`~kurszugang.results.Results`; the renderers write every table with
these labels and units. The reference page ``docs/referenz/tabellen.md`` is generated from here
(:func:`reference_markdown`).

Adding an analysis: write its function (analysis module), declare its table here, and, if it
needs more than a CSV/XLSX sheet and a GeoPackage layer, its rendering.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

__all__ = [
    "COURSE_TYPE_LABELS",
    "KINDS",
    "LAYERS",
    "SCHEDULE_LABELS",
    "TABLES",
    "Column",
    "Family",
    "TableSpec",
    "norm_param",
    "param_label",
    "reference_markdown",
    "spec",
]

#: What renderers do with a column.
KINDS = {
    "key": "identifier: always text (leading zeros kept)",
    "text": "text",
    "count": "number of people (suppressed below output.suppress_below)",
    "number": "number",
    "share": "share in % (0 to 100)",
    "flag": "yes/no",
    "date": "date",
    "minutes": "minutes",
}

#: Names of the course types (labels in tables, maps and reports).
COURSE_TYPE_LABELS: dict[str, dict[str, str]] = {
    "de": {"allgemein": "allgemeiner Integrationskurs", "intensiv": "Intensivkurs",
           "jugend": "Jugendintegrationskurs", "eltern": "Elternintegrationskurs",
           "frauen": "Frauenintegrationskurs", "alpha": "Alphabetisierungskurs",
           "zweitschrift": "Zweitschriftlernerkurs", "foerder": "Förderkurs"},
    "en": {"allgemein": "general integration course", "intensiv": "intensive course",
           "jugend": "youth course", "eltern": "parents' course", "frauen": "women's course",
           "alpha": "literacy course", "zweitschrift": "second-script course",
           "foerder": "remedial course"},
}
#: Names of the schedules.
SCHEDULE_LABELS: dict[str, dict[str, str]] = {
    "de": {"vollzeit": "Vollzeitkurs", "teilzeit": "Teilzeitkurs", "abend": "Abendkurs"},
    "en": {"vollzeit": "full-time course", "teilzeit": "part-time course",
           "abend": "evening course"},
}


def param_label(kind: str, value: object, language: str) -> str:
    """The label of a family parameter: a course type or schedule by name, a date in the
    language's form, a number of minutes or km without trailing zeros."""
    if kind == "course_type":
        return COURSE_TYPE_LABELS[language].get(str(value), str(value))
    if kind == "schedule":
        return SCHEDULE_LABELS[language].get(str(value), str(value))
    if kind == "date":
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        return f"{day:%d.%m.%Y}" if language == "de" else day.isoformat()
    if isinstance(value, float | int):
        text = f"{value:g}"
        return text.replace(".", ",") if language == "de" else text
    return str(value)


def norm_param(value: object) -> object:
    """A family parameter as stored (JSON-friendly): dates as ISO text, numbers as floats."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    return value


@dataclass(frozen=True)
class Column:
    """One column of a table or layer.

    ``family`` and ``param`` say which :class:`Family` it was expanded from (empty for a plain
    column), so that code finds "the feasible column at 45 min" without parsing its key.
    """

    key: str
    dtype: str
    kind: str
    unit: str
    de: str
    en: str
    doc: str
    family: str = ""
    param: object = None

    def label(self, language: str = "de") -> str:
        """The header a user reads (German by default), with the unit where it helps."""
        text = self.de if language == "de" else self.en
        unit = "%" if self.kind == "share" else (
            self.unit if self.unit in ("min", "km", "m", "Wochen") else "")
        if language == "en":
            unit = {"Wochen": "weeks"}.get(unit, unit)
        if not unit or re.search(rf"(^|[\s(]){re.escape(unit)}($|[\s),])", text):
            return text
        if text.endswith(")"):
            return f"{text[:-1]}, {unit})"
        return f"{text} ({unit})"


@dataclass(frozen=True)
class Family:
    """Columns repeated per value of a parameter (course type, schedule, date, minutes, km).

    ``key``, ``de``, ``en`` and ``doc`` contain ``{}`` where the parameter goes (its code in the
    key, its label in the labels).
    """

    key: str
    param_kind: str
    dtype: str
    kind: str
    unit: str
    de: str
    en: str
    doc: str

    def expand(self, value: object) -> Column:
        """The column for one parameter value."""
        code = value.isoformat() if isinstance(value, dt.date) else (
            f"{value:g}" if isinstance(value, float | int) else str(value))
        return Column(self.key.format(code), self.dtype, self.kind, self.unit,
                      self.de.format(param_label(self.param_kind, value, "de")),
                      self.en.format(param_label(self.param_kind, value, "en")),
                      self.doc.format(param_label(self.param_kind, value, "de")),
                      family=self.key, param=norm_param(value))


@dataclass(frozen=True)
class TableSpec:
    """A table or layer: where it is written and which columns it has.

    Attributes
    ----------
    name
        Key in :class:`~kurszugang.results.Results` (and GeoPackage layer name of a layer).
    file
        CSV file name (without ``.csv``); ``""`` for tables that are not written as CSV.
    sheet_de, sheet_en
        XLSX sheet names (``""``: not in the workbook).
    title
        What one row is, in German (for the reference page and the workbook).
    columns
        Plain columns and families, in order.
    producer
        ``"module:function"`` computing the frame from the run's context ("" = built by the
        pipeline itself).
    geometry
        ``True`` for a layer (GeoDataFrame).
    group
        ``"run"`` (every run computes it) or ``"plan"`` (``kurszugang plan`` adds it).
    decimals
        Decimals of numbers in its CSV (None: exact, for tables others re-compute from).
    """

    name: str
    file: str
    sheet_de: str
    sheet_en: str
    title: str
    columns: tuple[Column | Family, ...]
    producer: str = ""
    geometry: bool = False
    group: str = "run"
    decimals: int | None = 1

    def family(self, key: str) -> Family:
        for c in self.columns:
            if isinstance(c, Family) and c.key == key:
                return c
        raise KeyError(f"table {self.name} has no column family {key!r}")

    def column(self, key: str) -> Column:
        for c in self.columns:
            if isinstance(c, Column) and c.key == key:
                return c
        raise KeyError(f"table {self.name} has no column {key!r}")

    def concrete(self, keys: Sequence[str], params: dict[str, Iterable[object]]) -> list[Column]:
        """The concrete columns for a frame with ``keys``: plain columns as declared, families
        expanded with ``params[family key]`` (in the order of the frame)."""
        known: dict[str, Column] = {}
        for c in self.columns:
            if isinstance(c, Column):
                known[c.key] = c
            else:
                for v in params.get(c.key, ()):
                    col = c.expand(v)
                    known[col.key] = col
        missing = [k for k in keys if k not in known]
        if missing:
            raise KeyError(f"table {self.name}: columns {missing} are not declared in the schema")
        return [known[k] for k in keys]


def C(key: str, dtype: str, kind: str, unit: str, de: str, en: str, doc: str) -> Column:
    return Column(key, dtype, kind, unit, de, en, doc)


def F(key: str, param_kind: str, dtype: str, kind: str, unit: str, de: str, en: str,
      doc: str) -> Family:
    return Family(key, param_kind, dtype, kind, unit, de, en, doc)


P = "Personen"

# --- shared columns ----------------------------------------------------------------------------

AGS = C("ags", "string", "key", "–", "AGS", "AGS",
        "Amtlicher Gemeindeschlüssel (8 Ziffern, Text)")
GEN = C("gen", "string", "text", "–", "Gemeinde", "Gemeinde", "Name der Gemeinde")
VG = C("vg", "string", "key", "–", "Verwaltungsgemeinschaft", "VG key",
       "Schlüssel der Verwaltungsgemeinschaft (erste 9 Stellen des ARS)")
DISTRICT = C("district", "string", "key", "–", "Landkreis", "District", "der ganze Landkreis")
INH = C("inhabitants", "float64", "count", P, "Einwohner", "Inhabitants",
        "Einwohner in den bewohnten Rasterzellen")
PART = C("participants", "float64", "count", P, "Potenzielle Teilnehmende",
         "Potential participants", "potenzielle Teilnehmende (siehe grid.participant_source)")
COURSE_ID = C("course_id", "string", "key", "–", "Kurs", "Course", "Kennung des Kurses")
SITE_ID = C("site_id", "string", "key", "–", "Kursort", "Site", "Kennung des Kursorts")
PROVIDER = C("provider", "string", "text", "–", "Träger", "Provider", "Kursträger")
COURSE_TYPE = C("course_type", "string", "text", "–", "Kursart", "Course type",
                "Kursart (Code, z. B. allgemein, alpha)")
SCHEDULE = C("schedule", "string", "text", "–", "Zeitform", "Schedule",
             "Vollzeit, Teilzeit oder Abendkurs")
MIN_CLASS = C("min_class_size", "Int64", "number", P, "Mindestgröße", "Minimum class size",
              "Arbeitswert der Mindestklassengröße der Kursart (coverage.min_class_size)")


def _coverage_columns() -> tuple[Column | Family, ...]:
    return (
        INH, PART,
        F("inh_type_{}", "course_type", "float64", "count", P, "Einwohner: {} besuchbar",
          "Inhabitants able to attend: {}", "Einwohner, die einen {} zu seinen Zeiten besuchen "
          "können"),
        F("part_type_{}", "course_type", "float64", "count", P, "Teilnehmende: {} besuchbar",
          "Participants able to attend: {}", "potenzielle Teilnehmende, die einen {} besuchen "
          "können"),
        F("inh_sched_{}", "schedule", "float64", "count", P, "Einwohner: {} besuchbar",
          "Inhabitants able to attend: {}", "Einwohner, die einen {} besuchen können"),
        F("part_sched_{}", "schedule", "float64", "count", P, "Teilnehmende: {} besuchbar",
          "Participants able to attend: {}", "potenzielle Teilnehmende, die einen {} besuchen "
          "können"),
        C("inh_childcare", "float64", "count", P, "Einwohner: Kurs mit Kinderbetreuung besuchbar",
          "Inhabitants able to attend: course with childcare",
          "Einwohner, die einen Kurs mit Kinderbetreuung besuchen können"),
        C("part_childcare", "float64", "count", P,
          "Teilnehmende: Kurs mit Kinderbetreuung besuchbar",
          "Participants able to attend: course with childcare",
          "potenzielle Teilnehmende, die einen Kurs mit Kinderbetreuung besuchen können"),
        C("inh_any", "float64", "count", P, "Einwohner: mindestens ein Kurs besuchbar",
          "Inhabitants able to attend: any course",
          "Einwohner, die mindestens einen Kurs zu seinen Zeiten besuchen können"),
        C("part_any", "float64", "count", P, "Teilnehmende: mindestens ein Kurs besuchbar",
          "Participants able to attend: any course",
          "potenzielle Teilnehmende, die mindestens einen Kurs besuchen können"),
        C("inh_none", "float64", "count", P, "Einwohner: kein Kurs besuchbar",
          "Inhabitants able to attend: no course", "Einwohner ohne besuchbaren Kurs"),
        C("part_none", "float64", "count", P, "Teilnehmende: kein Kurs besuchbar",
          "Participants able to attend: no course",
          "potenzielle Teilnehmende ohne besuchbaren Kurs"),
        C("part_only_on_demand", "float64", "count", P, "Teilnehmende: nur mit Rufbus",
          "Participants: only with the on-demand bus",
          "potenzielle Teilnehmende, die ihre Kurse nur mit dem Rufbus erreichen"),
        C("share_part_any", "float64", "share", "%",
          "Anteil Teilnehmende mit besuchbarem Kurs", "Share of participants able to attend",
          "part_any / participants in %"),
    )


# --- tables ------------------------------------------------------------------------------------

_A = "kurszugang.analysis"

TABLES: dict[str, TableSpec] = {}


def _register(*specs: TableSpec) -> None:
    for s in specs:
        assert s.name not in TABLES, s.name
        TABLES[s.name] = s


_register(
    TableSpec("datenlage", "datenlage", "Datenlage", "Data coverage",
              "Befund zur Datenlage: was die Eingaben abdecken",
              (C("indicator", "string", "key", "–", "Kennzahl", "Indicator",
                 "Kennung des Befunds"),
               C("label", "string", "text", "–", "Befund", "Finding", "was geprüft wurde"),
               C("value", "float64", "number", "–", "Wert", "Value", "der gemessene Wert"),
               C("unit", "string", "text", "–", "Einheit", "Unit", "Einheit des Werts"),
               C("rating", "string", "text", "–", "Bewertung", "Rating",
                 "ok, Warnung oder kritisch (Schwellen: docs/datenlage.md)"),
               C("text", "string", "text", "–", "Erläuterung", "Explanation",
                 "der Befund in einem Satz")),
              producer=f"{_A}.datenlage:datenlage_table"),
    TableSpec("uebersicht", "gemeinden_uebersicht", "Übersicht", "Overview",
              "Gemeinde: Einwohner, Haltestellen, Abfahrten und Kurse (Grundlagen)",
              (AGS, GEN,
               C("ewz", "Int64", "count", P, "Einwohner (amtlich)", "Inhabitants (official)",
                 "Einwohnerzahl der Grenzdaten (EWZ), wo vorhanden"),
               C("inh_grid", "float64", "count", P, "Einwohner im Raster", "Inhabitants in grid",
                 "Summe der Zensus-Einwohner der Zellen, deren Mitte in der Gemeinde liegt"),
               C("foreigners_grid", "float64", "count", P, "Ausländer im Raster",
                 "Foreigners in grid", "Summe der Ausländer im Zensus-Raster"),
               C("share_foreigners", "float64", "share", "%", "Ausländeranteil im Raster",
                 "Share of foreigners in grid", "Ausländer / Einwohner im Raster"),
               PART,
               C("n_stops", "Int64", "number", "Anzahl", "Haltestellen", "Stops",
                 "Haltestellen des Fahrplans in der Gemeinde"),
               F("departures_{}", "date", "Int64", "number", "Anzahl", "Abfahrten am {}",
                 "Departures on {}", "Abfahrten (Einsteigen möglich) an den Haltestellen der "
                 "Gemeinde am {}"),
               C("n_sites", "Int64", "number", "Anzahl", "Kursorte", "Sites",
                 "Kursorte in der Gemeinde"),
               C("n_courses", "Int64", "number", "Anzahl", "Kurse", "Courses",
                 "Kurse an Kursorten der Gemeinde"),
               C("datenlage", "string", "text", "–", "Datenlage", "Data coverage",
                 "leer, wenn die Eingaben die Gemeinde abdecken; sonst was fehlt")),
              producer=f"{_A}.overview:gemeinde_overview"),
    TableSpec("kursbesuch", "gemeinden_kursbesuch", "Kursbesuch", "Attendance",
              "Gemeinde: wer zu den Kurszeiten hin und zurück kommt (Schultag)",
              (AGS, GEN, *_coverage_columns()), producer=f"{_A}.coverage:coverage_by_gemeinde"),
    TableSpec("kursbesuch_vg", "vg_kursbesuch", "Kursbesuch VG", "Attendance VG",
              "Verwaltungsgemeinschaft: wie Kursbesuch",
              (VG, *_coverage_columns()), producer=f"{_A}.coverage:coverage_by_vg"),
    TableSpec("kursbesuch_kreis", "", "", "", "der Landkreis: wie Kursbesuch",
              (DISTRICT, *_coverage_columns()), producer=f"{_A}.coverage:coverage_of_district"),
    TableSpec("schultag_ferien", "gemeinden_schultag_ferien", "Schultag-Ferien",
              "School day-holiday", "Gemeinde: Kursbesuch am Schultag und am Ferientag",
              (AGS, GEN,
               F("inh_any_{}", "date", "float64", "count", P,
                 "Einwohner: mindestens ein Kurs besuchbar ({})",
                 "Inhabitants able to attend: any course ({})",
                 "Einwohner mit besuchbarem Kurs am {}"),
               C("inh_any_diff", "float64", "count", P,
                 "Einwohner: mindestens ein Kurs besuchbar (Differenz)",
                 "Inhabitants able to attend: any course (difference)",
                 "Schultag minus Ferientag"),
               F("part_any_{}", "date", "float64", "count", P,
                 "Teilnehmende: mindestens ein Kurs besuchbar ({})",
                 "Participants able to attend: any course ({})",
                 "potenzielle Teilnehmende mit besuchbarem Kurs am {}"),
               C("part_any_diff", "float64", "count", P,
                 "Teilnehmende: mindestens ein Kurs besuchbar (Differenz)",
                 "Participants able to attend: any course (difference)",
                 "Schultag minus Ferientag")),
              producer=f"{_A}.coverage:school_day_and_holiday"),
    TableSpec("luecken", "gemeinden_luecken", "Lücken", "Gaps",
              "Gemeinde: Kursarten und Zeitformen, die niemand dort besuchen kann",
              (AGS, GEN, INH,
               C("missing_types", "string", "text", "–", "Fehlende Kursarten",
                 "Missing course types", "angebotene Kursarten, die niemand dort besuchen kann"),
               C("missing_schedules", "string", "text", "–", "Fehlende Zeitformen",
                 "Missing schedules", "angebotene Zeitformen, die niemand dort besuchen kann"),
               C("no_childcare", "boolean", "flag", "–", "Keine Kinderbetreuung erreichbar",
                 "No childcare within reach",
                 "niemand kann einen Kurs mit Kinderbetreuung besuchen"),
               C("only_on_demand", "boolean", "flag", "–", "Nur mit Rufbus",
                 "Only with on-demand bus",
                 "wer einen Kurs besuchen kann, braucht dafür den Rufbus")),
              producer=f"{_A}.coverage:gaps_by_gemeinde"),
    TableSpec("klassengroessen", "kurse_klassengroessen", "Klassengrößen", "Class sizes",
              "Kurs: potenzielle Teilnehmende in Reichweite gegen die Mindestgröße",
              (COURSE_ID, SITE_ID, PROVIDER, COURSE_TYPE, SCHEDULE, MIN_CLASS,
               F("participants_{}", "min", "float64", "count", P, "Teilnehmende in {} min",
                 "Participants within {} min",
                 "potenzielle Teilnehmende, die den Kurs bei {} min je Weg besuchen können"),
               F("feasible_{}", "min", "boolean", "flag", "–", "Mindestgröße erreicht in {} min",
                 "Minimum reached within {} min",
                 "mindestens so viele wie die Mindestgröße bei {} min je Weg")),
              producer=f"{_A}.demand:class_size_table"),
    TableSpec("wartezeiten", "gemeinden_wartezeiten", "Wartezeiten", "Waiting times",
              "Gemeinde und Kursart: der früheste Kursstart mit freien Plätzen in Reichweite",
              (AGS, GEN, COURSE_TYPE,
               C("n_courses", "Int64", "number", "Anzahl", "Kurse in Reichweite",
                 "Courses within reach", "Kurse der Art, die man von dort besuchen kann"),
               C("n_with_free_places", "Int64", "number", "Anzahl", "davon mit freien Plätzen",
                 "of which with free places", "mit freien Plätzen und bekanntem Start"),
               C("n_unknown_free_places", "Int64", "number", "Anzahl",
                 "davon freie Plätze unbekannt", "of which free places unknown",
                 "ohne Angabe freier Plätze"),
               COURSE_ID, SITE_ID, PROVIDER, SCHEDULE,
               C("next_start", "date", "date", "–", "Nächster Start", "Next start",
                 "Start des gewählten Kurses"),
               C("weeks_to_start", "float64", "number", "Wochen", "Wochen bis zum Start",
                 "Weeks to start", "Tage / 7 vom Stand der Kursliste bis zum Start"),
               C("free_places", "Int64", "number", "Plätze", "Freie Plätze", "Free places",
                 "freie Plätze des gewählten Kurses"),
               C("unknown_earlier", "boolean", "flag", "–", "Früher mit unbekannten Plätzen",
                 "Earlier with unknown places",
                 "ein Kurs ohne Angabe freier Plätze startet früher (nachfragen)")),
              producer=f"{_A}.waiting:waiting_table"),
    TableSpec("traeger", "traeger_kursstart", "Träger", "Providers",
              "Träger: frühester Kursstart mit freien Plätzen",
              (C("rank", "Int64", "number", "–", "Rang", "Rank",
                 "1 = frühester Start mit freien Plätzen"),
               PROVIDER,
               C("earliest_start", "date", "date", "–", "Frühester Start", "Earliest start",
                 "frühester Start mit freien Plätzen"),
               C("weeks_to_start", "float64", "number", "Wochen", "Wochen bis zum Start",
                 "Weeks to start", "Tage / 7 vom Stand der Kursliste"),
               COURSE_ID,
               C("courses", "Int64", "number", "Anzahl", "Kurse", "Courses", "Kurse des Trägers"),
               C("courses_with_free_places", "Int64", "number", "Anzahl",
                 "Kurse mit freien Plätzen", "Courses with free places",
                 "freie Plätze > 0, Start bekannt und nicht vorbei"),
               C("courses_unknown_free_places", "Int64", "number", "Anzahl",
                 "Kurse ohne Angabe freier Plätze", "Courses with unknown free places",
                 "freie Plätze nicht angegeben"),
               C("free_places", "Int64", "number", "Plätze", "Freie Plätze", "Free places",
                 "Summe der freien Plätze")),
              producer=f"{_A}.waiting:provider_table"),
    TableSpec("fahrtkosten", "gemeinden_fahrtkosten", "Fahrtkosten", "Travel subsidy",
              "Gemeinde: wer zu Fuß so weit vom nächsten Kursort wohnt, dass der "
              "Fahrtkostenzuschuss gilt",
              (AGS, GEN, INH, PART,
               F("inh_ge_{}km", "km", "float64", "count", P, "Einwohner ab {} km Fußweg",
                 "Inhabitants at {} km or more", "Einwohner mindestens {} km zu Fuß vom "
                 "nächsten Kursort"),
               F("part_ge_{}km", "km", "float64", "count", P, "Teilnehmende ab {} km Fußweg",
                 "Participants at {} km or more", "potenzielle Teilnehmende mindestens {} km zu "
                 "Fuß vom nächsten Kursort"),
               F("share_part_ge_{}km", "km", "float64", "share", "%",
                 "Anteil Teilnehmende ab {} km Fußweg", "Share of participants at {} km or more",
                 "Anteil der potenziellen Teilnehmenden mit mindestens {} km Fußweg"),
               C("inh_unknown", "float64", "count", P, "Einwohner ohne Entfernung",
                 "Inhabitants without distance", "nicht am Wegenetz oder nicht verbunden"),
               C("part_unknown", "float64", "count", P, "Teilnehmende ohne Entfernung",
                 "Participants without distance", "nicht am Wegenetz oder nicht verbunden")),
              producer=f"{_A}.subsidy:subsidy_table"),
    TableSpec("reisezeiten", "gemeinden_reisezeiten", "Reisezeiten", "Travel times",
              "Gemeinde: Reisezeit zum nächsten Kursort im Abfahrtsfenster, gleich welche "
              "Kurszeiten",
              (AGS, GEN, INH,
               F("inh_within_{}", "date", "float64", "count", P,
                 "Einwohner mit Kursort in Reichweite ({})",
                 "Inhabitants with a site within reach ({})",
                 "Einwohner, deren Median der Reisezeit zum nächsten Kursort im Abfahrtsfenster "
                 "höchstens coverage.threshold_min beträgt, am {}"),
               F("share_within_{}", "date", "float64", "share", "%",
                 "Anteil Einwohner mit Kursort in Reichweite ({})",
                 "Share with a site within reach ({})", "Anteil der Einwohner am {}"),
               F("median_min_{}", "date", "float64", "minutes", "min",
                 "Reisezeit zum nächsten Kursort, Median der Einwohner ({})",
                 "Travel time to the nearest site, median of inhabitants ({})",
                 "Median über die Einwohner des Medians der Reisezeit über das Fenster am {}")),
              producer=f"{_A}.nearest:nearest_site_table"),
)

# --- planning (kurszugang plan) ----------------------------------------------------------

FORMAT = C("format", "string", "text", "–", "Kursformat", "Course format",
           "Kursart, Wochentage, Beginn und Ende (und Kinderbetreuung)")
CAND = C("candidate_id", "string", "key", "–", "Kandidat", "Candidate",
         "Kennung des möglichen Kursorts (bestehender Kursort, Liste oder hst:Haltestelle)")
K = C("k", "Int64", "number", "Anzahl", "Standorte", "Sites", "Zahl der Standorte des Formats")
_PL = f"{_A}.planning"

_register(
    TableSpec("plan_kandidaten", "plan/kandidaten", "Plan Kandidaten", "Plan candidates",
              "möglicher Kursort der Planung",
              (CAND, C("name", "string", "text", "–", "Name", "Name", "Name des Orts"),
               C("source", "string", "text", "–", "Herkunft", "Source",
                 "bestehend, Liste oder Haltestelle"),
               AGS, GEN,
               C("x", "float64", "number", "m", "Rechtswert (EPSG:25832)", "Easting (EPSG:25832)",
                 "Rechtswert"),
               C("y", "float64", "number", "m", "Hochwert (EPSG:25832)", "Northing (EPSG:25832)",
                 "Hochwert"),
               C("has_childcare", "bool", "flag", "–", "Kinderbetreuung", "Childcare",
                 "Kinderbetreuung möglich"),
               C("departures", "Int64", "number", "Anzahl", "Abfahrten am Schultag",
                 "Departures on the school day", "Abfahrten an der Haltestelle (Haltestellen)")),
              producer=f"{_PL}:candidates_table", group="plan"),
    TableSpec("plan_standorte", "plan/standorte", "Plan Standorte", "Plan sites",
              "Format und Standortzahl k: die besten k Standorte",
              (FORMAT, COURSE_TYPE, K,
               C("candidate_ids", "string", "text", "–", "Gewählte Standorte", "Chosen sites",
                 "Kennungen der gewählten Standorte"),
               C("participants_covered", "float64", "count", P, "Teilnehmende versorgt",
                 "Participants covered",
                 "je Person einmal gezählt, an einem Standort mit mindestens der Mindestgröße"),
               C("share_covered", "float64", "share", "%", "Anteil versorgt", "Share covered",
                 "versorgt / alle potenziellen Teilnehmenden im Landkreis"),
               C("gain", "float64", "count", P, "Zuwachs gegenüber k-1", "Gain over k-1",
                 "Teilnehmende mehr als mit einem Standort weniger"),
               C("participants_reachable", "float64", "count", P, "Teilnehmende in Reichweite",
                 "Participants within reach", "können einen der Standorte besuchen"),
               C("status", "string", "text", "–", "Lösungsstatus", "Solver status",
                 "optimal, unzulässig (nicht jeder Standort erreicht die Mindestgröße), ..."),
               C("mip_gap", "float64", "number", "–", "Optimalitätslücke", "MIP gap",
                 "0 = bewiesen optimal"),
               MIN_CLASS,
               C("fixed_ids", "string", "text", "–", "Feste Standorte", "Fixed sites",
                 "immer geöffnete Standorte"),
               C("median_travel_min", "float64", "minutes", "min", "Reisezeit (Median)",
                 "Travel time (median)", "der längere Weg, Median der Versorgten"),
               C("weeks_to_start_mean", "float64", "number", "Wochen", "Wochen bis Kursstart",
                 "Weeks to start", "Mittel über die Standorte (Zugangsmodell)"),
               C("weeks_to_start_max", "float64", "number", "Wochen",
                 "Wochen bis Kursstart (langsamster Standort)", "Weeks to start (slowest)",
                 "der langsamste Standort"),
               C("mean_wait_weeks", "float64", "number", "Wochen", "Mittlere Wartezeit",
                 "Mean wait", "Wartezeit einer versorgten Person von der Zulassung bis zum "
                 "Start"),
               C("recommended", "bool", "flag", "–", "Vorschlag", "Proposal",
                 "die kleinste zulässige Standortzahl mit der größten Versorgung")),
              producer=f"{_PL}:sites_table", group="plan"),
    TableSpec("plan_standorte_orte", "plan/standorte_orte", "Plan Standorte je Ort",
              "Plan sites per site", "Format, k und gewählter Standort",
              (FORMAT, K, CAND, C("name", "string", "text", "–", "Name", "Name", "Name"),
               C("source", "string", "text", "–", "Herkunft", "Source", "Herkunft"), AGS, GEN,
               C("fixed", "bool", "flag", "–", "Fest", "Fixed", "immer geöffnet"),
               C("participants_reachable", "float64", "count", P, "Teilnehmende in Reichweite",
                 "Participants within reach", "alle, die ihn besuchen können"),
               C("participants_assigned", "float64", "count", P, "Teilnehmende zugeordnet",
                 "Participants assigned", "sein Einzugsbereich in der Zuordnung"),
               C("median_travel_min", "float64", "minutes", "min", "Reisezeit (Median)",
                 "Travel time (median)", "der längere Weg, Median der Zugeordneten"),
               C("weeks_to_start", "float64", "number", "Wochen", "Wochen bis Kursstart",
                 "Weeks to start", "bis die Mindestgröße wartet (Zugangsmodell)"),
               C("mean_wait_weeks", "float64", "number", "Wochen", "Mittlere Wartezeit",
                 "Mean wait", "von der Zulassung bis zum Start")),
              producer=f"{_PL}:site_rows_table", group="plan"),
    TableSpec("plan_abdeckung", "plan/abdeckung", "", "",
              "Format, Kandidat und Zellgruppe, die dort teilnehmen kann (zum Nachrechnen)",
              (FORMAT, CAND,
               C("group_id", "Int64", "key", "–", "Zellgruppe", "Cell group",
                 "Zellen mit gleicher Erreichbarkeit"),
               C("participants", "float64", "count", P, "Teilnehmende der Gruppe",
                 "Participants of the group", "potenzielle Teilnehmende der Gruppe"),
               C("covered", "Int64", "number", "–", "Erreichbar", "Covered",
                 "1: die Gruppe kann den Kandidaten besuchen")),
              producer=f"{_PL}:coverage_table", group="plan", decimals=None),
    TableSpec("plan_startzeiten", "plan/startzeiten", "Plan Startzeiten", "Plan start times",
              "Format, Standort und Beginnzeit: wer teilnehmen kann",
              (FORMAT, CAND, C("start", "string", "text", "HH:MM", "Beginn", "Start", "Beginn"),
               C("end", "string", "text", "HH:MM", "Ende", "End", "Ende"),
               C("participants", "float64", "count", P, "Teilnehmende in Reichweite",
                 "Participants within reach", "können bei diesem Beginn teilnehmen"),
               C("share", "float64", "share", "%", "Anteil", "Share",
                 "der potenziellen Teilnehmenden im Landkreis"),
               C("current", "bool", "flag", "–", "Beginn des Formats", "Format's start",
                 "die Beginnzeit des Formats")),
              producer=f"{_PL}:start_times_table", group="plan"),
    TableSpec("plan_startzeiten_gemeinden", "plan/startzeiten_gemeinden",
              "Plan Startzeiten Gemeinden", "Plan start times Gemeinden",
              "Format, Standort, Beginnzeit und Gemeinde",
              (FORMAT, CAND, C("start", "string", "text", "HH:MM", "Beginn", "Start", "Beginn"),
               AGS, GEN,
               C("participants", "float64", "count", P, "Teilnehmende in Reichweite",
                 "Participants within reach", "aus der Gemeinde"),
               C("participants_total", "float64", "count", P, "Teilnehmende der Gemeinde",
                 "Participants of the Gemeinde", "alle potenziellen Teilnehmenden dort"),
               C("share", "float64", "share", "%", "Anteil", "Share", "der Gemeinde")),
              producer=f"{_PL}:start_times_gemeinden_table", group="plan"),
    TableSpec("plan_wartezeit", "plan/wartezeit", "Plan Wartezeit", "Plan waiting",
              "Format und k: Versorgung, Reisezeit und Wartezeit (das Dilemma in Zahlen)",
              (FORMAT, K,
               C("share_covered", "float64", "share", "%", "Anteil versorgt", "Share covered",
                 "wie Standorte"),
               C("median_travel_min", "float64", "minutes", "min", "Reisezeit (Median)",
                 "Travel time (median)", "der längere Weg"),
               C("weeks_to_start_mean", "float64", "number", "Wochen", "Wochen bis Kursstart",
                 "Weeks to start", "Mittel über die Standorte"),
               C("mean_wait_weeks", "float64", "number", "Wochen", "Mittlere Wartezeit",
                 "Mean wait", "von der Zulassung bis zum Start")),
              producer=f"{_PL}:waiting_table", group="plan"),
    TableSpec("plan_rotation", "plan/rotation", "Plan Rotation", "Plan rotation",
              "Station einer wandernden Kursreihe",
              (FORMAT, C("term", "Int64", "number", "–", "Semester", "Term", "Nummer"),
               C("start_week", "float64", "number", "Woche", "Beginn (Woche)", "Start week",
                 "ab dem ersten Start"),
               CAND, C("name", "string", "text", "–", "Name", "Name", "Name"),
               C("participants", "float64", "count", P, "Teilnehmende in Reichweite",
                 "Participants within reach", "können diese Station besuchen"),
               C("new_participants", "float64", "count", P, "davon neu", "of which new",
                 "noch von keiner früheren Station versorgt"),
               C("reaches_min", "bool", "flag", "–", "Mindestgröße erreicht", "Minimum reached",
                 "die Station erreicht die Mindestgröße")),
              producer=f"{_PL}:rotation_table", group="plan"),
    TableSpec("plan_rotation_gemeinden", "plan/rotation_gemeinden", "Plan Rotation Gemeinden",
              "Plan rotation Gemeinden", "Gemeinde: wann sie an der Reihe ist",
              (FORMAT, AGS, GEN, PART,
               C("share_covered_year", "float64", "share", "%", "Anteil im Jahr versorgt",
                 "Share covered in the year", "durch eine Station im ersten Jahr"),
               C("first_turn_week", "float64", "number", "Woche", "Erste Station (Woche)",
                 "First turn (week)", "Beginn der ersten erreichbaren Station"),
               C("mean_wait_weeks", "float64", "number", "Wochen", "Mittlere Wartezeit",
                 "Mean wait", "auf die nächste erreichbare Station")),
              producer=f"{_PL}:rotation_gemeinden_table", group="plan"),
)


# --- comparing two runs (kurszugang compare) ------------------------------------------------

_CMP = f"{_A}.compare"
_register(
    TableSpec("vergleich_gemeinden", "vergleich_gemeinden", "Vergleich Gemeinden",
              "Comparison Gemeinden", "Gemeinde: Lauf A (heute) gegen Lauf B (Szenario)",
              (AGS, GEN,
               C("participants_a", "float64", "count", P, "Teilnehmende (A)", "Participants (A)",
                 "potenzielle Teilnehmende in Lauf A"),
               C("participants_b", "float64", "count", P, "Teilnehmende (B)", "Participants (B)",
                 "potenzielle Teilnehmende in Lauf B"),
               C("part_any_a", "float64", "count", P, "mit besuchbarem Kurs (A)",
                 "able to attend (A)", "Teilnehmende mit mindestens einem Kurs, Lauf A"),
               C("part_any_b", "float64", "count", P, "mit besuchbarem Kurs (B)",
                 "able to attend (B)", "dasselbe in Lauf B"),
               C("part_any_diff", "float64", "count", P, "mit besuchbarem Kurs (B − A)",
                 "able to attend (B − A)", "B minus A"),
               C("share_a", "float64", "share", "%", "Anteil (A)", "Share (A)",
                 "Anteil mit besuchbarem Kurs, Lauf A"),
               C("share_b", "float64", "share", "%", "Anteil (B)", "Share (B)",
                 "dasselbe in Lauf B"),
               C("share_diff", "float64", "number", "Prozentpunkte",
                 "Anteil B − A (Prozentpunkte)", "Share B − A (percentage points)",
                 "B minus A in Prozentpunkten"),
               C("minutes_a", "float64", "minutes", "min", "Reisezeit zum nächsten Kurs (A)",
                 "Travel time to the nearest course (A)", "Median, Lauf A"),
               C("minutes_b", "float64", "minutes", "min", "Reisezeit zum nächsten Kurs (B)",
                 "Travel time to the nearest course (B)", "Median, Lauf B")),
              producer="", group="compare"),
    TableSpec("vergleich_formate", "vergleich_formate", "Vergleich Formate",
              "Comparison formats", "Kursart, Zeitform oder Kinderbetreuung: der ganze Landkreis",
              (C("kind", "string", "text", "–", "Art", "Kind",
                 "Kursart, Zeitform, Kinderbetreuung oder alle Kurse"),
               C("code", "string", "key", "–", "Code", "Code", "Code der Kursart oder Zeitform"),
               C("label", "string", "text", "–", "Format", "Format", "Name"),
               C("part_a", "float64", "count", P, "Teilnehmende (A)", "Participants (A)",
                 "können ein Format dieser Art besuchen, Lauf A"),
               C("part_b", "float64", "count", P, "Teilnehmende (B)", "Participants (B)",
                 "dasselbe in Lauf B"),
               C("part_diff", "float64", "count", P, "Teilnehmende (B − A)",
                 "Participants (B − A)", "B minus A")),
              producer="", group="compare"),
)


# --- layers ------------------------------------------------------------------------------------

_SHARES = (
    C("share_inh_any", "float64", "share", "%", "Anteil Einwohner mit besuchbarem Kurs",
      "Share of inhabitants able to attend", "inh_any / inhabitants"),
    C("share_part_any", "float64", "share", "%", "Anteil Teilnehmende mit besuchbarem Kurs",
      "Share of participants able to attend", "part_any / participants"),
    C("share_part_childcare", "float64", "share", "%",
      "Anteil Teilnehmende: Kurs mit Kinderbetreuung besuchbar",
      "Share of participants: course with childcare", "part_childcare / participants"),
    F("share_part_type_{}", "course_type", "float64", "share", "%", "Anteil Teilnehmende: {}",
      "Share of participants: {}", "part_type / participants für {}"),
    F("share_part_sched_{}", "schedule", "float64", "share", "%", "Anteil Teilnehmende: {}",
      "Share of participants: {}", "part_sched / participants für {}"),
)

# --- what the web map needs for "von hier aus" (saved in the Results, not written as CSV) ------

_S = "s"  # seconds after midnight of the service day, or seconds
_register(
    TableSpec("von_hier", "", "", "",
              "Rasterzelle und Kurs, den man von dort zu seinen Zeiten besuchen kann (hin und "
              "zurück)",
              (C("cell_id", "string", "key", "–", "Rasterzelle", "Grid cell",
                 "INSPIRE-Kennung der Zensus-Zelle"),
               COURSE_ID,
               C("time_there_s", "Int64", "number", _S, "Hinweg (Sekunden)",
                 "Way there (seconds)", "Hinweg von zu Hause bis zum Kursort, wie Kursbesuch"),
               C("time_back_s", "Int64", "number", _S, "Rückweg (Sekunden)",
                 "Way back (seconds)", "Rückweg ab Kursende bis nach Hause, Warten inbegriffen"),
               C("there_via", "string", "text", "–", "Hinweg mit", "Way there by",
                 "zu Fuß, ÖPNV, oder leer: Verbindung nicht im Einzelnen darstellbar"),
               C("arrive_site", "Int64", "number", _S, "Ankunft am Kursort",
                 "Arrival at the site", "Sekunden nach Mitternacht; leer, wenn nicht darstellbar"),
               C("leave_home", "Int64", "number", _S, "Aufbruch zu Hause", "Leaving home",
                 "Ankunft minus Hinweg; leer, wenn nicht darstellbar"),
               C("there_walk_m", "float64", "number", "m", "Fußweg zur ersten Haltestelle",
                 "Walk to the first stop", "Meter (zu Fuß: der ganze Weg)"),
               C("there_walk_s", "Int64", "number", _S, "Fußweg zur ersten Haltestelle (Sekunden)",
                 "Walk to the first stop (seconds)", "Gehzeit"),
               C("there_journey", "Int64", "key", "–", "Verbindung hin", "Journey there",
                 "journey_id in verbindungen"),
               C("back_via", "string", "text", "–", "Rückweg mit", "Way back by",
                 "zu Fuß, ÖPNV, oder leer: Verbindung nicht im Einzelnen darstellbar"),
               C("leave_site", "Int64", "number", _S, "Aufbruch am Kursort", "Leaving the site",
                 "Kursende, Sekunden nach Mitternacht"),
               C("arrive_home", "Int64", "number", _S, "Ankunft zu Hause", "Arrival home",
                 "Kursende plus Rückweg"),
               C("back_walk_m", "float64", "number", "m", "Fußweg von der letzten Haltestelle",
                 "Walk from the last stop", "Meter (zu Fuß: der ganze Weg)"),
               C("back_walk_s", "Int64", "number", _S,
                 "Fußweg von der letzten Haltestelle (Sekunden)",
                 "Walk from the last stop (seconds)", "Gehzeit"),
               C("back_journey", "Int64", "key", "–", "Verbindung zurück", "Journey back",
                 "journey_id in verbindungen"),
               C("on_demand", "bool", "flag", "–", "Nur mit Rufbus", "Only with on-demand bus",
                 "nur mit dem Rufbus besuchbar")),
              producer=f"{_A}.from_here:from_here_table"),
    TableSpec("verbindungen", "", "", "",
              "Abschnitt einer Verbindung von hier aus (ab der ersten bis zur letzten "
              "Haltestelle, mit dem Weg zum oder vom Kursort)",
              (C("journey_id", "Int64", "key", "–", "Verbindung", "Journey",
                 "Kennung, auf die von_hier verweist"),
               C("direction", "string", "text", "–", "Richtung", "Direction", "hin oder zurück"),
               C("leg", "Int64", "number", "–", "Abschnitt", "Leg", "Reihenfolge ab 0"),
               C("mode", "string", "text", "–", "Art", "Mode", "walk (zu Fuß) oder ride (Fahrt)"),
               C("from_stop_id", "string", "key", "–", "Von Haltestelle", "From stop",
                 "stop_id; leer am Kursort"),
               C("from_stop_name", "string", "text", "–", "Von", "From", "Name der Haltestelle"),
               C("to_stop_id", "string", "key", "–", "Nach Haltestelle", "To stop",
                 "stop_id; leer am Kursort"),
               C("to_stop_name", "string", "text", "–", "Nach", "To", "Name der Haltestelle"),
               C("route_name", "string", "text", "–", "Linie", "Line", "Kurzname der Linie"),
               C("on_demand", "bool", "flag", "–", "Rufbus", "On-demand bus",
                 "die Linie ist ein Rufbus"),
               C("departure", "Int64", "number", _S, "Ab", "Departs",
                 "Sekunden nach Mitternacht"),
               C("arrival", "Int64", "number", _S, "An", "Arrives", "Sekunden nach Mitternacht"),
               C("metres", "float64", "number", "m", "Meter zu Fuß", "Metres walked",
                 "nur Fußwege")),
              producer=f"{_A}.from_here:journey_table"),
    TableSpec("naechster_kurs", "", "", "",
              "Gemeinde: der Kurs hinter dem Median der Reisezeit zum nächsten Kurs",
              (AGS, COURSE_ID,
               C("minutes", "float64", "minutes", "min", "Reisezeit zum nächsten Kurs (Median)",
                 "Travel time to the nearest course (median)",
                 "wie minutes_nearest der Ebene gemeinden")),
              producer=f"{_A}.from_here:nearest_course_table"),
    TableSpec("adressen", "", "", "", "Eintrag der Suche der Webkarte (Gemeinde, Ort, Straße, "
              "Adresse)",
              (C("label", "string", "text", "–", "Eintrag", "Entry", "wie er in der Suche steht"),
               C("kind", "string", "text", "–", "Art", "Kind",
                 "gemeinde, ort, strasse oder adresse"),
               C("ags", "string", "key", "–", "AGS", "AGS", "Gemeinde des Punkts"),
               C("x", "float64", "number", "m", "Rechtswert", "Easting", "EPSG:25832"),
               C("y", "float64", "number", "m", "Hochwert", "Northing", "EPSG:25832")),
              producer=f"{_A}.from_here:address_table"),
)

LAYERS: dict[str, TableSpec] = {}


def _layers(*specs: TableSpec) -> None:
    for s in specs:
        assert s.name not in TABLES and s.name not in LAYERS, s.name  # one name, one declaration
        LAYERS[s.name] = replace(s, geometry=True)


_layers(
    TableSpec("gemeinden", "", "", "", "Gemeinde mit Kursbesuch, Anteilen, Lücken, Datenlage",
              (AGS,
               C("ars", "string", "key", "–", "ARS", "ARS", "Amtlicher Regionalschlüssel"),
               GEN,
               C("bez", "string", "text", "–", "Art", "Type", "Gemeinde, Stadt, Markt …"),
               C("minutes_nearest", "float64", "minutes", "min",
                 "Reisezeit zum nächsten Kurs (Median)", "Travel time to nearest course (median)",
                 "Median über die Teilnehmenden: der längere Weg zum Kurs, bei dem er am "
                 "kürzesten ist"),
               *_coverage_columns()[:-1], *_SHARES,
               C("missing_types", "string", "text", "–", "Fehlende Kursarten",
                 "Missing course types", "wie Lücken"),
               C("missing_schedules", "string", "text", "–", "Fehlende Zeitformen",
                 "Missing schedules", "wie Lücken"),
               C("no_childcare", "boolean", "flag", "–", "Keine Kinderbetreuung erreichbar",
                 "No childcare within reach", "wie Lücken"),
               C("only_on_demand", "boolean", "flag", "–", "Nur mit Rufbus",
                 "Only with on-demand bus", "wie Lücken"),
               C("datenlage", "string", "text", "–", "Datenlage", "Data coverage",
                 "leer, wenn die Eingaben die Gemeinde abdecken; sonst was fehlt")),
              producer=f"{_A}.layers:gemeinden_layer"),
    TableSpec("raster", "", "", "", "bewohnte Rasterzelle mit den besuchbaren Kursen",
              (C("cell_id", "string", "key", "–", "Rasterzelle", "Grid cell",
                 "INSPIRE-Kennung der Zensus-Zelle"),
               AGS, GEN, VG,
               C("in_district", "bool", "flag", "–", "Im Landkreis", "In the district",
                 "Zellmitte im Landkreis (sonst im Puffer)"),
               INH,
               C("foreigners", "float64", "count", P, "Ausländer", "Foreign citizens",
                 "Ausländer laut Zensus"),
               PART,
               C("n_courses", "Int64", "number", "Anzahl", "Besuchbare Kurse",
                 "Courses within reach", "Kurse, die man von hier besuchen kann"),
               C("attend_any", "bool", "flag", "–", "Mindestens ein Kurs besuchbar",
                 "Any course within reach", "mindestens ein Kurs besuchbar"),
               C("best_min", "float64", "minutes", "min", "Reisezeit zum besten Kurs",
                 "Travel time to the best course",
                 "über die Kurse der kleinste Wert des längeren der beiden Wege"),
               C("only_on_demand", "bool", "flag", "–", "Nur mit Rufbus",
                 "Only with on-demand bus", "alle besuchbaren Kurse nur mit dem Rufbus"),
               C("childcare", "bool", "flag", "–", "Kurs mit Kinderbetreuung besuchbar",
                 "Course with childcare within reach", "Kurs mit Kinderbetreuung besuchbar"),
               F("type_{}", "course_type", "bool", "flag", "–", "{} besuchbar",
                 "{} within reach", "ein {} ist besuchbar"),
               F("sched_{}", "schedule", "bool", "flag", "–", "{} besuchbar",
                 "{} within reach", "ein {} ist besuchbar")),
              producer=f"{_A}.layers:raster_layer"),
    TableSpec("kursorte", "", "", "", "Kursort mit seinen Kursen",
              (SITE_ID, PROVIDER,
               C("site_name", "string", "text", "–", "Name des Kursorts", "Site name",
                 "Name des Kursorts"),
               C("address", "string", "text", "–", "Adresse", "Address", "Adresse"),
               C("phone", "string", "text", "–", "Telefon", "Phone", "Telefon des Trägers"),
               C("email", "string", "text", "–", "E-Mail", "E-mail", "E-Mail des Trägers"),
               C("web", "string", "text", "–", "Internet", "Web", "Webseite"),
               C("ags", "string", "key", "–", "AGS", "AGS", "Gemeinde des Kursorts"),
               C("n_courses", "Int64", "number", "Anzahl", "Kurse", "Courses", "Kurse dort"),
               C("course_types", "string", "text", "–", "Kursarten", "Course types",
                 "angebotene Kursarten"),
               C("schedules", "string", "text", "–", "Zeitformen", "Schedules",
                 "angebotene Zeitformen"),
               C("has_childcare", "bool", "flag", "–", "Kinderbetreuung", "Childcare",
                 "Kinderbetreuung am Kursort"),
               C("inh_any", "float64", "count", P, "Einwohner in Reichweite",
                 "Inhabitants within reach",
                 "Einwohner im Landkreis, die dort mindestens einen Kurs besuchen können"),
               C("part_any", "float64", "count", P, "Teilnehmende in Reichweite",
                 "Participants within reach",
                 "potenzielle Teilnehmende, die dort mindestens einen Kurs besuchen können"),
               C("free_places", "Int64", "number", "Plätze", "Freie Plätze", "Free places",
                 "Summe der freien Plätze"),
               C("next_start", "date", "date", "–", "Nächster Start", "Next start",
                 "frühester nächster Kursstart")),
              producer=f"{_A}.layers:kursorte_layer"),
    TableSpec("kurse", "", "", "", "Kurs (am Punkt seines Kursorts)",
              (COURSE_ID, SITE_ID, PROVIDER, COURSE_TYPE, SCHEDULE,
               C("weekdays", "string", "text", "–", "Wochentage", "Weekdays", "Kurstage"),
               C("start", "string", "text", "HH:MM", "Beginn", "Start", "Kursbeginn"),
               C("end", "string", "text", "HH:MM", "Ende", "End", "Kursende"),
               C("childcare", "bool", "flag", "–", "Kinderbetreuung", "Childcare",
                 "Kinderbetreuung während des Kurses"),
               C("capacity", "Int64", "number", "Plätze", "Plätze", "Places", "Plätze im Kurs"),
               C("free_places", "Int64", "number", "Plätze", "Freie Plätze", "Free places",
                 "freie Plätze"),
               C("notes", "string", "text", "–", "Hinweise", "Notes", "Hinweise der Liste"),
               C("next_start", "date", "date", "–", "Nächster Start", "Next start",
                 "nächster Start"),
               C("analysis_day", "date", "date", "–", "Gerechnet am", "Analysed on",
                 "Tag, an dem der Kurs gerechnet wurde"),
               MIN_CLASS,
               C("participants_reach", "float64", "count", P, "Teilnehmende in Reichweite",
                 "Participants within reach", "wie Klassengrößen bei coverage.threshold_min"),
               C("feasible", "boolean", "flag", "–", "Mindestgröße erreicht", "Minimum reached",
                 "mindestens die Mindestgröße in Reichweite")),
              producer=f"{_A}.layers:kurse_layer"),
    TableSpec("einzugsbereiche", "", "", "", "Zeitzone je Kursort (Ankunft zu seinem Kurs)",
              (SITE_ID,
               C("band_min", "float64", "minutes", "min", "Von", "From", "untere Grenze"),
               C("band_max", "float64", "minutes", "min", "Bis", "To", "obere Grenze"),
               C("label", "string", "text", "–", "Zeitzone", "Band", "z. B. 15-30 min"),
               C("n_cells", "Int64", "number", "Anzahl", "Rasterzellen", "Grid cells",
                 "Zellen in der Zone"),
               C("area_km2", "float64", "number", "km²", "Fläche (km²)", "Area (km²)",
                 "Fläche der Zone"),
               C("arrive_by", "string", "text", "HH:MM", "Ankunft bis", "Arrive by",
                 "Ankunftszeit, für die die Zone gerechnet ist")),
              producer=f"{_A}.layers:catchment_layer"),
    TableSpec("haltestellen", "", "", "", "Haltestelle mit Abfahrten am Schultag",
              (C("stop_id", "string", "key", "–", "Haltestelle", "Stop", "stop_id des Fahrplans"),
               C("stop_name", "string", "text", "–", "Name der Haltestelle", "Stop name",
                 "Name"),
               C("lines", "string", "text", "–", "Linien", "Lines",
                 "Linien, die dort halten (Kurzname)"),
               C("on_demand", "bool", "flag", "–", "Rufbus", "On-demand bus",
                 "ein Rufbus oder Anrufsammeltaxi hält dort"),
               C("departures", "Int64", "number", "Anzahl", "Abfahrten am Analysetag",
                 "Departures on the day", "Abfahrten, an denen man einsteigen kann"),
               F("dep_h{}", "hour", "Int64", "number", "Anzahl", "Abfahrten {} Uhr",
                 "Departures at {}", "Abfahrten in der Stunde {} des Betriebstags")),
              producer=f"{_A}.layers:stops_layer"),
    TableSpec("kreis", "", "", "", "der Landkreis (Umriss)",
              (C("key", "string", "key", "–", "Kreisschlüssel", "District key", "5 Ziffern"),
               C("name", "string", "text", "–", "Name", "Name", "Name des Landkreises")),
              producer=f"{_A}.layers:kreis_layer"),
)


_layers(
    TableSpec("plan_vorschlaege", "", "", "", "vorgeschlagener Standort je Format (Vorschlag)",
              (FORMAT, K, CAND, C("name", "string", "text", "–", "Name", "Name", "Name"),
               C("source", "string", "text", "–", "Herkunft", "Source", "Herkunft"),
               C("participants_assigned", "float64", "count", P, "Teilnehmende zugeordnet",
                 "Participants assigned", "sein Einzugsbereich in der Zuordnung"),
               C("weeks_to_start", "float64", "number", "Wochen", "Wochen bis Kursstart",
                 "Weeks to start", "Zugangsmodell")),
              producer=f"{_PL}:proposals_layer", group="plan"),
    TableSpec("plan_einzugsbereiche", "", "", "",
              "Einzugsbereich eines vorgeschlagenen Standorts (Zellen, die ihn besuchen können)",
              (FORMAT, CAND, C("name", "string", "text", "–", "Name", "Name", "Name"),
               C("participants", "float64", "count", P, "Teilnehmende in Reichweite",
                 "Participants within reach", "können ihn besuchen"),
               C("n_cells", "Int64", "number", "Anzahl", "Rasterzellen", "Grid cells",
                 "Zellen im Einzugsbereich")),
              producer=f"{_PL}:proposal_catchments_layer", group="plan"),
)


_layers(
    TableSpec("vergleich", "", "", "", "Gemeinde mit der Veränderung von A nach B",
              (AGS, GEN,
               C("part_any_diff", "float64", "count", P, "mit besuchbarem Kurs (B − A)",
                 "able to attend (B − A)", "B minus A"),
               C("share_diff", "float64", "number", "Prozentpunkte",
                 "Anteil B − A (Prozentpunkte)", "Share B − A (percentage points)",
                 "B minus A")),
              producer="", group="compare"),
)


# --- several districts in one run ([district] keys) ----------------------------------------------

def _state_columns() -> tuple[Column | Family, ...]:
    return (
        C("key", "string", "key", "–", "Kreisschlüssel", "District key", "5 Ziffern"),
        C("name", "string", "text", "–", "Landkreis", "District", "Name des Kreises"),
        C("type", "string", "text", "–", "Art", "Type", "Landkreis oder Kreisfreie Stadt"),
        C("status", "string", "text", "–", "Stand", "Status",
          "fertig, oder Fehler (dann steht der Grund in der nächsten Spalte)"),
        C("error", "string", "text", "–", "Fehler", "Error", "warum der Kreis nicht fertig wurde"),
        INH, PART,
        C("participants_any", "float64", "count", P, "Teilnehmende mit besuchbarem Kurs",
          "Participants able to attend", "die Kennzahl des Kreises (Kurzfassung), Schultag"),
        C("share_pct", "float64", "share", "%", "Anteil mit besuchbarem Kurs",
          "Share able to attend", "Teilnehmende mit besuchbarem Kurs / Teilnehmende in %"),
        C("gemeinden", "Int64", "number", "Anzahl", "Gemeinden", "Gemeinden",
          "Gemeinden des Kreises"),
        C("gemeinden_without_course", "Int64", "number", "Anzahl", "Gemeinden ohne Kurs",
          "Gemeinden without a course", "Gemeinden, aus denen kein Kurs besuchbar ist"),
        C("courses", "Int64", "number", "Anzahl", "Kurse", "Courses", "Kurse der Kursliste"),
        C("courses_below_minimum", "Int64", "number", "Anzahl", "Kurse unter Mindestgröße",
          "Courses below minimum size", "Kurse, deren Einzugsbereich die Mindestgröße nicht "
          "erreicht"),
        C("datenlage", "string", "text", "–", "Datenlage", "Data coverage",
          "ok, Warnung oder kritisch: der schlechteste Befund der Datenlage des Kreises"),
        C("datenlage_text", "string", "text", "–", "Befunde der Datenlage",
          "Data coverage findings", "die Befunde, die nicht ok sind"),
        C("folder", "string", "text", "–", "Ordner", "Folder", "die Ausgaben des Kreises"),
        C("seconds", "float64", "number", "s", "Rechenzeit", "Run time", "Sekunden"),
    )


TABLES["landkreise_uebersicht"] = TableSpec(
    "landkreise_uebersicht", "landkreise", "Landkreise", "Districts",
    "Landkreis eines Laufs über mehrere Kreise: Kennzahl, Datenlage, Ordner",
    _state_columns(), group="state")
_layers(TableSpec("landkreise", "", "", "", "Landkreis eines Laufs über mehrere Kreise (Umriss)",
                  _state_columns(), group="state"))


def spec(name: str) -> TableSpec:
    """The declaration of a table or layer by name (the names are distinct)."""
    if name in TABLES:
        return TABLES[name]
    if name in LAYERS:
        return LAYERS[name]
    raise KeyError(f"no table or layer {name!r} is declared")


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def reference_markdown() -> str:
    """The reference page of every table and layer (German), generated from the declarations."""
    out = ["# Tabellen und Ebenen", "",
           "Diese Seite ist aus `kurszugang/schema.py` erzeugt (`kurszugang.schema."
           "reference_markdown()`); jede Spalte steht dort einmal. Spalten mit `{}` im "
           "Schlüssel gibt es je Kursart, Zeitform, Datum oder Schwelle; `{}` ist dann deren "
           "Code (z. B. `alpha`, `2026-03-10`, `45`).", ""]
    for title, registry in (("Tabellen (CSV und XLSX)", TABLES), ("Ebenen (GeoPackage)", LAYERS)):
        out += [f"## {title}", ""]
        for s in registry.values():
            where = (f"`{s.file}.csv`, Blatt „{s.sheet_de}“" if s.sheet_de else
                     f"`{s.file}.csv` (nicht in der Arbeitsmappe)") if s.file else (
                f"Ebene `{s.name}`" if s.geometry else "nur in den gespeicherten Ergebnissen")
            out += [f"### {s.name}", "", f"{s.title}. {where}.", "",
                    "| Schlüssel | Spalte | Einheit | Bedeutung |", "|---|---|---|---|"]
            for c in s.columns:
                out.append(f"| `{_md(c.key)}` | {_md(c.de)} | {_md(c.unit)} | {_md(c.doc)} |")
            out.append("")
    return "\n".join(out)
