"""Tables for German Excel: CSV (UTF-8 with BOM, ``;``, decimal comma) and XLSX.

District staff open result tables in a German Excel. Two formats work there:

- **CSV** (:func:`write_csv`): UTF-8 with a byte order mark (so that Excel recognises the
  encoding and shows umlauts), ``;`` as separator, decimal comma, CRLF line ends; text columns
  (AGS, ids, names) are always quoted, numbers never.
- **XLSX** (:func:`write_xlsx`): one sheet per table plus a sheet of parameters; AGS and ids are
  text cells (format ``@``), numbers are numbers, the header is bold and frozen.

Both can suppress small counts of people (values 1 to ``suppress_below - 1``; 0 stays 0) so that
tables sent outside the administration do not single out individuals.

Analysis outputs carry English column names (``inh_any``, ``participants_45``, ...);
:func:`german_columns` gives them the labels district staff read (or English labels).
The columns are documented in ``docs/analysis.md``; the formats in ``docs/outputs.md``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kurszugang.errors import ConfigError, InputError

__all__ = [
    "COURSE_TYPE_LABELS",
    "DEFAULT_SUPPRESS_BELOW",
    "LANGUAGES",
    "PARAMETER_INFO",
    "SCHEDULE_LABELS",
    "TABLE_KINDS",
    "Parameter",
    "column_labels",
    "german_columns",
    "write_csv",
    "write_xlsx",
]

log = logging.getLogger(__name__)

#: Languages of labels: German (default) and English.
LANGUAGES = ("de", "en")
#: Threshold of small-count suppression the issue asks for (people); pass it as ``suppress_below``.
DEFAULT_SUPPRESS_BELOW = 5
#: Analysis outputs :func:`german_columns` knows, with the key column each must have.
TABLE_KINDS: dict[str, tuple[str, ...]] = {
    "coverage_summary": ("ags", "vg", "district"),
    "compare_days": ("ags", "vg", "district"),
    "gaps": ("ags",),
    "class_sizes": ("course_id",),
    "infeasible_formats": ("course_type",),
}

#: Names of the course types in labels.
COURSE_TYPE_LABELS: dict[str, dict[str, str]] = {
    "de": {
        "allgemein": "allgemeiner Integrationskurs",
        "intensiv": "Intensivkurs",
        "jugend": "Jugendintegrationskurs",
        "eltern": "Elternintegrationskurs",
        "frauen": "Frauenintegrationskurs",
        "alpha": "Alphabetisierungskurs",
        "zweitschrift": "Zweitschriftlernerkurs",
        "foerder": "Förderkurs",
    },
    "en": {
        "allgemein": "general integration course",
        "intensiv": "intensive course",
        "jugend": "youth course",
        "eltern": "parents' course",
        "frauen": "women's course",
        "alpha": "literacy course",
        "zweitschrift": "second-script course",
        "foerder": "remedial course",
    },
}
#: Names of the schedules in labels.
SCHEDULE_LABELS: dict[str, dict[str, str]] = {
    "de": {"vollzeit": "Vollzeitkurs", "teilzeit": "Teilzeitkurs", "abend": "Abendkurs"},
    "en": {"vollzeit": "full-time course", "teilzeit": "part-time course",
           "abend": "evening course"},
}

# Column names that are keys and must stay text (leading zeros), besides every str column.
_KEY_NAMES = frozenset({"ags", "AGS", "ars", "ARS", "cell_id"})
_STATE_KEYS = frozenset({"ags", "ars"})  # official keys: numeric means the zeros are gone
_XLSX_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_MAX_SHEET = 31

_WHO = {"de": {"inh": "Einwohner", "part": "Teilnehmende"},
        "en": {"inh": "Inhabitants", "part": "Participants"}}
_ABLE = {"de": "{who}: {what} besuchbar", "en": "{who} able to attend: {what}"}
_FIXED: dict[str, dict[str, str]] = {
    "de": {
        "ags": "AGS", "ars": "ARS", "vg": "VG-Schlüssel", "district": "Landkreis",
        "gen": "Name", "name": "Name", "inhabitants": "Einwohner",
        "participants": "Potenzielle Teilnehmende", "foreigners": "Ausländer",
        "inh_childcare": "Einwohner: Kurs mit Kinderbetreuung besuchbar",
        "part_childcare": "Teilnehmende: Kurs mit Kinderbetreuung besuchbar",
        "inh_any": "Einwohner: mindestens ein Kurs besuchbar",
        "part_any": "Teilnehmende: mindestens ein Kurs besuchbar",
        "inh_none": "Einwohner: kein Kurs besuchbar",
        "part_none": "Teilnehmende: kein Kurs besuchbar",
        "part_only_on_demand": "Teilnehmende: nur mit Rufbus",
        "missing_types": "Fehlende Kursarten", "missing_schedules": "Fehlende Zeitformen",
        "no_childcare": "Keine Kinderbetreuung erreichbar", "only_on_demand": "Nur mit Rufbus",
        "course_id": "Kurs", "site_id": "Kursort", "provider": "Träger",
        "course_type": "Kursart", "schedule": "Zeitform", "min_class_size": "Mindestgröße",
        "course_types": "Kursarten", "site_name": "Name des Kursorts", "address": "Adresse",
        "n_courses": "Kurse", "has_childcare": "Kinderbetreuung", "childcare": "Kinderbetreuung",
        "cell_id": "Rasterzelle", "in_district": "Im Landkreis",
        "attend_any": "Mindestens ein Kurs besuchbar",
        "best_min": "Reisezeit zum besten Kurs (min, längerer Weg)",
        "stop_id": "Haltestelle", "stop_name": "Name der Haltestelle",
        "departures": "Abfahrten am Analysetag", "band_min": "Von (min)", "band_max": "Bis (min)",
        "label": "Zeitzone", "area_km2": "Fläche (km²)", "n_cells": "Rasterzellen",
        "weekdays": "Wochentage", "start": "Beginn", "end": "Ende", "capacity": "Plätze",
        "free_places": "Freie Plätze", "next_start": "Nächster Start", "notes": "Hinweise",
        "analysis_day": "Gerechnet am", "participants_reach": "Teilnehmende in Reichweite",
        "feasible": "Mindestgröße erreicht",
    },
    "en": {
        "ags": "AGS", "ars": "ARS", "vg": "VG key", "district": "District",
        "gen": "Name", "name": "Name", "inhabitants": "Inhabitants",
        "participants": "Potential participants", "foreigners": "Foreign citizens",
        "inh_childcare": "Inhabitants able to attend: course with childcare",
        "part_childcare": "Participants able to attend: course with childcare",
        "inh_any": "Inhabitants able to attend: any course",
        "part_any": "Participants able to attend: any course",
        "inh_none": "Inhabitants able to attend: no course",
        "part_none": "Participants able to attend: no course",
        "part_only_on_demand": "Participants: only with the on-demand bus",
        "missing_types": "Missing course types", "missing_schedules": "Missing schedules",
        "no_childcare": "No childcare within reach", "only_on_demand": "Only with on-demand bus",
        "course_id": "Course", "site_id": "Site", "provider": "Provider",
        "course_type": "Course type", "schedule": "Schedule",
        "min_class_size": "Minimum class size", "course_types": "Course types",
        "site_name": "Site name", "address": "Address", "n_courses": "Courses",
        "has_childcare": "Childcare", "childcare": "Childcare", "cell_id": "Grid cell",
        "in_district": "In the district", "attend_any": "Any course within reach",
        "best_min": "Travel time to the best course (min, longer leg)",
        "stop_id": "Stop", "stop_name": "Stop name", "departures": "Departures on the day",
        "band_min": "From (min)", "band_max": "To (min)", "label": "Band",
        "area_km2": "Area (km²)", "n_cells": "Grid cells", "weekdays": "Weekdays",
        "start": "Start", "end": "End", "capacity": "Places", "free_places": "Free places",
        "next_start": "Next start", "notes": "Notes", "analysis_day": "Analysed on",
        "participants_reach": "Participants within reach", "feasible": "Minimum reached",
    },
}
_PER_THRESHOLD = {
    "de": {"participants": "Teilnehmende in {t} min",
           "feasible": "Mindestgröße erreicht in {t} min",
           "best_participants": "Meiste Teilnehmende eines Kurses in {t} min",
           "feasible_anywhere": "Mindestgröße irgendwo erreicht in {t} min"},
    "en": {"participants": "Participants within {t} min",
           "feasible": "Minimum reached within {t} min",
           "best_participants": "Most participants at one course within {t} min",
           "feasible_anywhere": "Minimum reached somewhere within {t} min"},
}
_SUFFIX = {"de": {"diff": " (Differenz)", "share": ", Anteil in %"},
           "en": {"diff": " (difference)", "share": ", share in %"}}
_THRESHOLD_RE = re.compile(r"^(best_participants|feasible_anywhere|participants|feasible)_"
                           r"(\d+(?:\.\d+)?)$")
_DATE_RE = re.compile(r"^(.+)_(\d{4})-(\d{2})-(\d{2})$")
# Raw names of people counts (suppressed when asked) and labels that start like one.
_COUNT_RAW = re.compile(r"^(inhabitants|participants|foreigners|(inh|part)_.+|"
                        r"(best_)?participants_\d+(\.\d+)?)$")
_COUNT_LABEL = re.compile(r"^(Einwohner|Teilnehmende|Potenzielle Teilnehmende|Ausländer|"
                          r"Meiste Teilnehmende|Inhabitants|Participants|Potential participants|"
                          r"Foreign citizens|Most participants)\b")
_NOT_COUNT = re.compile(r"(%|Anteil|[Ss]hare|^share_)")


def _check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ConfigError(f"unknown language {language!r}: use 'de' (German) or 'en' (English)")
    return language


def _label(name: str, language: str) -> str | None:
    """The label of one analysis column, or None if it is not an analysis column."""
    fixed = _FIXED[language]
    if name in fixed:
        return fixed[name]
    if name.startswith("share_"):
        inner = _label(name.removeprefix("share_"), language)
        return None if inner is None else inner + _SUFFIX[language]["share"]
    if name.endswith("_diff"):
        inner = _label(name.removesuffix("_diff"), language)
        return None if inner is None else inner + _SUFFIX[language]["diff"]
    m = _DATE_RE.match(name)
    if m:
        inner = _label(m.group(1), language)
        if inner is None:
            return None
        y, mo, d = m.group(2), m.group(3), m.group(4)
        return f"{inner} ({d}.{mo}.{y})" if language == "de" else f"{inner} ({y}-{mo}-{d})"
    m = _THRESHOLD_RE.match(name)
    if m:
        return _PER_THRESHOLD[language][m.group(1)].format(t=m.group(2))
    m = re.match(r"^(inh|part)_(type|sched)_(.+)$", name)
    if m:
        who = _WHO[language][m.group(1)]
        table = COURSE_TYPE_LABELS if m.group(2) == "type" else SCHEDULE_LABELS
        what = table[language].get(m.group(3), m.group(3))
        return _ABLE[language].format(who=who, what=what)
    m = re.match(r"^(type|sched)_(.+)$", name)  # per-cell flags of the grid layer
    if m:
        table = COURSE_TYPE_LABELS if m.group(1) == "type" else SCHEDULE_LABELS
        what = table[language].get(m.group(2), m.group(2))
        return f"{what} besuchbar" if language == "de" else f"{what} within reach"
    return None


def column_labels(columns: Iterable[str], *, language: str = "de") -> dict[str, str]:
    """Labels of analysis columns for tables, maps and QGIS field aliases.

    Parameters
    ----------
    columns
        Column names of analysis outputs (``inh_any``, ``part_type_alpha``,
        ``participants_45``, ``inh_any_2026-03-10``, ``inh_any_diff``, ``share_part_any``, ...).
    language
        ``"de"`` (default) or ``"en"``.

    Returns
    -------
    dict of str to str
        Label per column that is an analysis column; other columns are left out.

    Raises
    ------
    ConfigError
        If ``language`` is not ``"de"`` or ``"en"``.

    Examples
    --------
    >>> column_labels(["ags", "part_type_alpha", "participants_45"])
    {'ags': 'AGS', 'part_type_alpha': 'Teilnehmende: Alphabetisierungskurs besuchbar', \
'participants_45': 'Teilnehmende in 45 min'}
    """
    lang = _check_language(language)
    out: dict[str, str] = {}
    for c in columns:  # per column, not per row
        label = _label(str(c), lang)
        if label is not None:
            out[str(c)] = label
    return out


def german_columns(df: pd.DataFrame, kind: str, *, language: str = "de") -> pd.DataFrame:
    """An analysis table with the column labels district staff read.

    Parameters
    ----------
    df
        The output of one analysis function: ``coverage_summary``, ``compare_days``, ``gaps``,
        ``class_sizes`` or ``infeasible_formats`` (see ``docs/analysis.md``).
    kind
        Which of them it is (the names above); its key column must be present.
    language
        ``"de"`` (German, default) or ``"en"`` (English).

    Returns
    -------
    pandas.DataFrame
        A copy with the columns renamed (values unchanged). Columns that are no analysis
        columns keep their names (counted in a debug log line).

    Raises
    ------
    ConfigError
        If ``kind`` or ``language`` is unknown.
    InputError
        If the table lacks the key column of its kind (e.g. ``ags`` for ``gaps``).

    Examples
    --------
    >>> german_columns(coverage_summary(access), "coverage_summary")  # doctest: +SKIP
    >>> german_columns(class_sizes(access), "class_sizes", language="en")  # doctest: +SKIP
    """
    lang = _check_language(language)
    if kind not in TABLE_KINDS:
        raise ConfigError(f"unknown table kind {kind!r}: use one of {', '.join(TABLE_KINDS)}")
    keys = TABLE_KINDS[kind]
    if not any(k in df.columns for k in keys):
        wanted = " or ".join(repr(k) for k in keys)
        raise InputError(f"a {kind} table needs the column {wanted}; this one has "
                         f"{', '.join(map(str, df.columns)) or 'no columns'}")
    labels = column_labels([str(c) for c in df.columns], language=lang)
    other = [str(c) for c in df.columns if str(c) not in labels]
    if other:
        log.debug("%d column(s) of the %s table have no label and keep their names: %s",
                  len(other), kind, ", ".join(other[:5]))
    out = df.rename(columns=labels)
    dupes = out.columns[out.columns.duplicated()]
    if len(dupes):
        raise InputError(f"two columns of the {kind} table get the same label "
                         f"{dupes[0]!r}: rename one of them first")
    return out


@dataclass(frozen=True)
class Parameter:
    """A parameter for the parameter sheet of :func:`write_xlsx`, with unit and meaning.

    Attributes
    ----------
    value
        The value (number, text, date, list, mapping).
    unit
        Unit, e.g. ``"min"``; empty if none.
    meaning
        What the parameter does, in the language of the workbook.
    """

    value: object
    unit: str = ""
    meaning: str = ""


#: Unit and meaning of the parameters kurszugang uses, per language.
PARAMETER_INFO: dict[str, dict[str, tuple[str, str]]] = {
    "de": {
        "date": ("", "Analysetag"),
        "analysis_date": ("", "Analysetag"),
        "school_day": ("", "Schultag der Analyse"),
        "holiday": ("", "Ferientag der Analyse"),
        "threshold_min": ("min", "Längste Reisezeit je Weg (hin und zurück)"),
        "early_arrival_min": ("min", "Höchstens so früh vor Kursbeginn ankommen"),
        "max_threshold_min": ("min", "Reisezeiten berechnet bis"),
        "thresholds": ("min", "Verglichene Reisezeitschwellen"),
        "participant_factor": ("", "Anteil der Personen ohne deutsche Staatsangehörigkeit, "
                                   "der als potenzielle Teilnehmende zählt"),
        "participant_source": ("", "Quelle der potenziellen Teilnehmenden"),
        "resolution_m": ("m", "Rasterweite"),
        "buffer_m": ("m", "Puffer um den Landkreis"),
        "walking_speed_kmh": ("km/h", "Gehgeschwindigkeit"),
        "min_class_size": ("Personen", "Mindestgröße je Kursart (Arbeitswert)"),
        "suppress_below": ("Personen", "Zahlen von 1 bis zu diesem Wert minus 1 unterdrückt"),
        "courses_as_of": ("", "Stand der Kursliste"),
    },
    "en": {
        "date": ("", "analysis date"),
        "analysis_date": ("", "analysis date"),
        "school_day": ("", "school day analysed"),
        "holiday": ("", "holiday analysed"),
        "threshold_min": ("min", "longest journey each way (there and back)"),
        "early_arrival_min": ("min", "arrive at most this long before the start"),
        "max_threshold_min": ("min", "travel times computed up to"),
        "thresholds": ("min", "travel-time thresholds compared"),
        "participant_factor": ("", "share of foreign citizens counted as potential "
                                   "participants"),
        "participant_source": ("", "source of potential participants"),
        "resolution_m": ("m", "grid cell size"),
        "buffer_m": ("m", "buffer around the district"),
        "walking_speed_kmh": ("km/h", "walking speed"),
        "min_class_size": ("people", "minimum class size per course type (working value)"),
        "suppress_below": ("people", "counts from 1 to this value minus 1 suppressed"),
        "courses_as_of": ("", "date of the course list"),
    },
}
_PARAM_HEADER = {"de": ("Parameter", "Wert", "Einheit", "Bedeutung"),
                 "en": ("Parameter", "Value", "Unit", "Meaning")}
_PARAM_SHEET = {"de": "Parameter", "en": "Parameters"}


# --- shared checks -------------------------------------------------------------------------


def _default_text_columns(df: pd.DataFrame) -> list[str]:
    out = []
    for c in df.columns:
        name = str(c)
        s = df[c]
        is_key = name in _KEY_NAMES or name.endswith("_id")
        is_text = (pd.api.types.is_string_dtype(s.dtype) or s.dtype == object
                   or isinstance(s.dtype, pd.CategoricalDtype))
        if is_key or is_text:
            out.append(name)
    return out


def _check_columns(df: pd.DataFrame, names: Sequence[str], what: str,
                   path: Path | None = None) -> list[str]:
    cols = [str(c) for c in df.columns]
    missing = [n for n in names if n not in cols]
    if missing:
        raise InputError(f"the table has no column {missing[0]!r} to write {what}; its columns "
                         f"are {', '.join(cols) or 'none'}", path=path, column=None)
    return list(names)


def _check_keys_are_text(df: pd.DataFrame, text_cols: Sequence[str], path: Path | None) -> None:
    for c in text_cols:
        if c.lower() in _STATE_KEYS and pd.api.types.is_numeric_dtype(df[c].dtype):
            raise InputError(
                f"column {c!r} holds numbers, so leading zeros are already lost (09187 became "
                "9187): read official keys as text, e.g. pd.read_csv(..., dtype={'AGS': str})",
                path=path)


def _default_count_columns(df: pd.DataFrame) -> list[str]:
    out = []
    for c in df.columns:
        name = str(c)
        if not pd.api.types.is_numeric_dtype(df[c].dtype) or pd.api.types.is_bool_dtype(
                df[c].dtype):
            continue
        if _NOT_COUNT.search(name):
            continue
        if _COUNT_RAW.match(name) or _COUNT_LABEL.match(name):
            out.append(name)
    return out


def _check_suppress(suppress_below: int | None) -> int | None:
    if suppress_below is None:
        return None
    if isinstance(suppress_below, bool) or not isinstance(suppress_below, (int, np.integer)) \
            or suppress_below < 1:
        raise ConfigError(f"suppress_below must be a whole number of people of at least 1 "
                          f"(e.g. {DEFAULT_SUPPRESS_BELOW}), got {suppress_below!r}")
    return int(suppress_below)


def _count_columns_for(df: pd.DataFrame, suppress_below: int | None,
                       count_columns: Sequence[str] | None, path: Path | None) -> list[str]:
    if suppress_below is None:
        return []
    if count_columns is None:
        cols = _default_count_columns(df)
        if not cols:
            raise ConfigError("suppress_below is set but the table has no column of people "
                              "counts that kurszugang recognises: name them with count_columns")
        return cols
    cols = _check_columns(df, [str(c) for c in count_columns], "as a count", path)
    for c in cols:
        if not pd.api.types.is_numeric_dtype(df[c].dtype):
            raise InputError(f"count column {c!r} is not numeric (dtype {df[c].dtype}): only "
                             "numbers of people can be suppressed", path=path)
    return cols


def _small_mask(values: pd.Series, below: int) -> np.ndarray:
    """True where a count is small but not zero: 0 < |v| < below (NaN: False)."""
    v = np.abs(pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64,
                                                               na_value=np.nan))
    with np.errstate(invalid="ignore"):
        return (v > 0) & (v < below)


def _check_folder(path: Path) -> None:
    if not path.parent.exists():
        raise InputError(f"folder {path.parent} does not exist", path=path)


# --- CSV -----------------------------------------------------------------------------------


def _quote(s: pd.Series) -> pd.Series:
    """Always-quoted text ('"' doubled inside); missing values stay empty and unquoted."""
    text = s.astype("str")
    quoted = '"' + text.str.replace('"', '""', regex=False) + '"'
    return quoted.where(s.notna().to_numpy(), "")


def _format_column(s: pd.Series, *, text: bool, decimals: int | None,
                   booleans: tuple[str, str]) -> pd.Series:
    dtype = s.dtype
    if text:
        return _quote(s)
    if pd.api.types.is_bool_dtype(dtype):
        mask = s.notna().to_numpy()
        vals = np.where(s.fillna(False).to_numpy(dtype=bool), booleans[0], booleans[1])
        return _quote(pd.Series(vals, index=s.index, dtype="str").where(mask))
    if pd.api.types.is_datetime64_any_dtype(dtype):
        ts = pd.to_datetime(s)
        valid = ts.dropna()
        midnight = bool((valid == valid.dt.normalize()).all()) if len(valid) else True
        fmt = "%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M:%S"
        return ts.dt.strftime(fmt).fillna("").astype("str")
    if pd.api.types.is_integer_dtype(dtype):
        return s.astype("str").fillna("")
    if pd.api.types.is_float_dtype(dtype):
        arr = s.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = np.isfinite(arr)
        if decimals is None:
            text_vals = pd.Series(arr, index=s.index).astype("str")
        else:
            text_vals = pd.Series(np.char.mod(f"%.{decimals}f", np.where(finite, arr, 0.0)),
                                  index=s.index, dtype="str")
        text_vals = text_vals.str.replace(".", ",", regex=False)
        return text_vals.where(finite, "")
    # anything else (dates as objects, mixed): text
    return _quote(s.map(lambda v: v.isoformat() if isinstance(v, dt.date) else v))


def write_csv(
    table: pd.DataFrame,
    path: str | Path,
    *,
    text_columns: Sequence[str] | None = None,
    suppress_below: int | None = None,
    count_columns: Sequence[str] | None = None,
    suppressed_as: str = "",
    decimals: int | None = None,
    booleans: tuple[str, str] = ("ja", "nein"),
) -> Path:
    """Write a table as CSV for German Excel.

    The file is UTF-8 with a byte order mark, ``;``-separated, with a decimal comma and CRLF
    line ends. Text columns are always quoted (``"09999111"``) and numbers never, so that a
    reader that honours quotes keeps AGS and ids as text (read it back with
    ``pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig", dtype={"AGS": str})``).
    Header names are quoted. Missing values are empty cells; booleans are written as
    ``booleans`` (default ``ja``/``nein``); dates as ``YYYY-MM-DD``.

    Parameters
    ----------
    table
        The table (any pandas DataFrame; its index is not written).
    path
        The file to write (its folder must exist); replaced if present.
    text_columns
        Columns written as quoted text. Default: columns named ``ags``, ``AGS``, ``ars``,
        ``ARS``, ``cell_id`` or ending in ``_id``, and every text (str/object/category) column.
    suppress_below
        If given (e.g. :data:`DEFAULT_SUPPRESS_BELOW` = 5), counts of people ``v`` with
        ``0 < |v| < suppress_below`` in ``count_columns`` are written as ``suppressed_as``.
        Zeros stay. No secondary suppression: totals and other columns are not changed.
    count_columns
        The columns of people counts to suppress in. Default: numeric columns named like
        kurszugang's counts (``inhabitants``, ``participants``, ``inh_*``, ``part_*``,
        ``participants_T``, ...) or labelled like them (``Einwohner…``, ``Teilnehmende…``,
        ``Inhabitants…``, ``Participants…``); shares (``%``, ``Anteil``) never.
    suppressed_as
        What a suppressed cell holds: empty (default) or a marker such as ``"<5"`` (quoted).
    decimals
        Round floats to this many decimals (default: write them exactly, shortest form).
    booleans
        Text for True and False.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InputError
        If a named text or count column is missing, a count column is not numeric, an AGS/ARS
        column holds numbers (its leading zeros are already lost) or the folder does not exist.
    ConfigError
        If ``suppress_below`` is not a whole number of at least 1, or it is set and no count
        column is named or recognised.

    Examples
    --------
    >>> table = german_columns(coverage_summary(access), "coverage_summary")  # doctest: +SKIP
    >>> write_csv(table, "kursbesuch.csv", suppress_below=5)  # doctest: +SKIP
    PosixPath('kursbesuch.csv')
    """
    out_path = Path(path)
    _check_folder(out_path)
    below = _check_suppress(suppress_below)
    if text_columns is None:
        text_cols = _default_text_columns(table)
    else:
        text_cols = _check_columns(table, [str(c) for c in text_columns], "as text", out_path)
    _check_keys_are_text(table, text_cols, out_path)
    counts = _count_columns_for(table, below, count_columns, out_path)
    df = table.reset_index(drop=True)
    df.columns = [str(c) for c in df.columns]
    marker = _quote(pd.Series([suppressed_as], dtype="str")).iloc[0] if suppressed_as else ""
    parts: list[pd.Series] = []
    n_suppressed = 0
    for c in df.columns:  # per column, vectorised within
        col = _format_column(df[c], text=c in text_cols, decimals=decimals, booleans=booleans)
        if c in counts and below is not None:
            small = _small_mask(df[c], below)
            n_suppressed += int(small.sum())
            col = col.where(~small, marker)
        parts.append(col.astype("str"))
    header = ";".join(_quote(pd.Series(df.columns, dtype="str")).tolist())
    if parts:
        body = parts[0].str.cat(pd.concat(parts[1:], axis=1), sep=";") if len(parts) > 1 \
            else parts[0]
        lines = [header, *body.tolist()]
    else:
        lines = [header]
    text = "\r\n".join(lines) + "\r\n"
    out_path.write_bytes(("\ufeff" + text).encode("utf-8"))
    if below is not None:
        log.info("%s: %d small count(s) (1 to %d) suppressed in %d column(s)", out_path.name,
                 n_suppressed, below - 1, len(counts))
    return out_path


# --- XLSX ----------------------------------------------------------------------------------


def _sheet_names(names: Iterable[str], reserved: str | None) -> list[str]:
    """Excel-safe sheet names (no []:*?/\\, at most 31 characters), unique."""
    out: list[str] = []
    seen = {reserved.lower()} if reserved else set()
    for raw in names:  # per sheet
        name = _XLSX_FORBIDDEN.sub("-", str(raw)).strip("'") or "Tabelle"
        short = name[:_MAX_SHEET]
        if short != str(raw):
            log.info("sheet name %r written as %r (Excel allows 31 characters, no []:*?/\\)",
                     raw, short)
        if short.lower() in seen:
            if reserved and short.lower() == reserved.lower():
                raise ConfigError(f"a table may not be named {raw!r}: that is the parameter "
                                  "sheet")
            raise ConfigError(f"two tables would get the sheet name {short!r}: Excel allows "
                              "31 characters; give them names that differ earlier")
        seen.add(short.lower())
        out.append(short)
    return out


def _param_value(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, (bool, int, float, np.integer, np.floating, str)):
        return value.item() if isinstance(value, np.generic) else value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_param_value(v)}" for k, v in value.items())
    if isinstance(value, Iterable):
        return ", ".join(str(_param_value(v)) for v in value)
    return str(value)


def _parameter_frame(parameters: Mapping[str, object], language: str) -> pd.DataFrame:
    info = PARAMETER_INFO[language]
    rows = []
    for name, raw in parameters.items():  # one row per parameter (a handful)
        unit, meaning = info.get(str(name), ("", ""))
        if isinstance(raw, Parameter):
            value = raw.value
            unit = raw.unit or unit
            meaning = raw.meaning or meaning
        else:
            value = raw
        rows.append((str(name), _param_value(value), unit, meaning))
    head = _PARAM_HEADER[language]
    frame = pd.DataFrame(rows, columns=list(head))
    frame[head[1]] = frame[head[1]].astype(object)
    return frame


def _xlsx_sheet(ws: object, df: pd.DataFrame, text_cols: Sequence[str],
                number_formats: Mapping[str, str]) -> None:
    """Style a sheet written by pandas: bold frozen header, widths, text and number formats."""
    from openpyxl.styles import Alignment, Border, Font
    from openpyxl.utils import get_column_letter

    sheet = ws  # openpyxl Worksheet
    bold = Font(bold=True)
    for j, col in enumerate(df.columns, start=1):  # per column; cells inside by openpyxl
        letter = get_column_letter(j)
        head = sheet.cell(row=1, column=j)  # type: ignore[attr-defined]
        head.font = bold
        head.alignment = Alignment(wrap_text=False, vertical="top")
        head.border = Border()
        fmt = "@" if col in text_cols else number_formats.get(col)
        if fmt is not None:
            for (cell,) in sheet.iter_rows(min_row=2, max_row=len(df) + 1,  # type: ignore[attr-defined]
                                           min_col=j, max_col=j):
                cell.number_format = fmt
        values = df[col].astype("str").fillna("")
        longest = int(values.str.len().max()) if len(values) else 0
        width = min(max(len(str(col)), longest) + 2, 60)
        sheet.column_dimensions[letter].width = max(width, 6)  # type: ignore[attr-defined]
    sheet.freeze_panes = "A2"  # type: ignore[attr-defined]


def _xlsx_frame(table: pd.DataFrame, name: str, below: int | None,
                suppressed_as: str) -> tuple[pd.DataFrame, list[str], dict[str, str], int]:
    df = table.reset_index(drop=True)
    df.columns = [str(c) for c in df.columns]
    text_cols = _default_text_columns(df)
    _check_keys_are_text(df, text_cols, None)
    counts = _count_columns_for(df, below, None, None) if below is not None else []
    number_formats: dict[str, str] = {}
    for c in df.columns:
        dtype = df[c].dtype
        if c in text_cols:
            present = df[c].notna().to_numpy()
            df[c] = df[c].astype("str").astype(object).where(present, None)
        elif pd.api.types.is_bool_dtype(dtype):
            continue
        elif pd.api.types.is_integer_dtype(dtype):
            number_formats[c] = "#,##0"
        elif pd.api.types.is_float_dtype(dtype):
            number_formats[c] = "#,##0.0##"
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            number_formats[c] = "yyyy-mm-dd"
    n = 0
    for c in counts:
        small = _small_mask(df[c], below)  # type: ignore[arg-type]
        n += int(small.sum())
        if small.any():
            col = df[c].astype(object)
            col[small] = suppressed_as if suppressed_as else None
            df[c] = col
    if below is not None:
        log.info("sheet %s: %d small count(s) suppressed in %d column(s)", name, n, len(counts))
    return df, text_cols, number_formats, n


def write_xlsx(
    tables: Mapping[str, pd.DataFrame],
    path: str | Path,
    *,
    parameters: Mapping[str, object] | None = None,
    suppress_below: int | None = None,
    suppressed_as: str = "",
    language: str = "de",
) -> Path:
    """Write tables to an Excel workbook: one sheet per table and a sheet of parameters.

    AGS, ARS, ids and every text column are text cells (value ``str``, number format ``@``) so
    that Excel keeps leading zeros; numbers are numbers (format ``#,##0`` for whole numbers,
    ``#,##0.0##`` otherwise, shown with German separators by a German Excel); booleans are
    Excel booleans (WAHR/FALSCH). The header row is bold and frozen; column widths follow the
    content (at most 60 characters).

    Parameters
    ----------
    tables
        Sheet name to table, in sheet order, e.g. ``{"Gemeinden": ..., "Klassengrößen": ...}``.
        Names are made Excel-safe: characters ``[]:*?/\\`` become ``-``, longer names are cut
        to 31 characters (logged).
    path
        The ``.xlsx`` file to write (its folder must exist); replaced if present.
    parameters
        Written to the last sheet ("Parameter"; "Parameters" in English) with columns name,
        value, unit and meaning. Values may be numbers, text, dates, lists or mappings, or a
        :class:`Parameter` with its unit and meaning; kurszugang's own parameter names
        (``threshold_min``, ``early_arrival_min``, ``participant_factor``, ...) get their unit
        and meaning filled in. ``suppress_below`` is added when set.
    suppress_below
        If given (e.g. 5), counts of people from 1 to ``suppress_below - 1`` in each sheet's
        count columns (recognised as in :func:`write_csv`) become empty cells (or
        ``suppressed_as``). Sheets without count columns are left as they are.
    suppressed_as
        What a suppressed cell holds: empty (default) or a marker such as ``"<5"``.
    language
        Language of the parameter sheet: ``"de"`` (default) or ``"en"``.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InputError
        If an AGS/ARS column holds numbers, or the folder does not exist.
    ConfigError
        If ``language`` is unknown, ``suppress_below`` is not a whole number of at least 1,
        there are no tables, or two sheet names collide.

    Examples
    --------
    >>> write_xlsx({"Gemeinden": german_columns(summary, "coverage_summary")},
    ...            "ergebnisse.xlsx", parameters={"threshold_min": 45})  # doctest: +SKIP
    PosixPath('ergebnisse.xlsx')
    """
    lang = _check_language(language)
    out_path = Path(path)
    _check_folder(out_path)
    below = _check_suppress(suppress_below)
    if not tables:
        raise ConfigError("write_xlsx needs at least one table")
    param_sheet = _PARAM_SHEET[lang]
    names = _sheet_names(tables.keys(), param_sheet if parameters is not None or below else None)
    prepared = []
    for name, table in zip(names, tables.values(), strict=True):  # per sheet
        cols = _default_count_columns(table) if below is not None else []
        frame_below = below if cols else None
        if below is not None and not cols:
            log.info("sheet %s has no column of people counts: nothing suppressed", name)
        prepared.append((name, *_xlsx_frame(table, name, frame_below, suppressed_as)))
    params = dict(parameters or {})
    if below is not None:
        params.setdefault("suppress_below", below)
    with pd.ExcelWriter(out_path, engine="openpyxl") as writer:
        for name, df, text_cols, number_formats, _n in prepared:
            df.to_excel(writer, sheet_name=name, index=False)
            _xlsx_sheet(writer.sheets[name], df, text_cols, number_formats)
        if params:
            pf = _parameter_frame(params, lang)
            pf.to_excel(writer, sheet_name=param_sheet, index=False)
            _xlsx_sheet(writer.sheets[param_sheet], pf, list(pf.columns[[0, 2, 3]]), {})
    return out_path
