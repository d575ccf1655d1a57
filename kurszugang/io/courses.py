"""Course sites and the courses they offer, from the lists providers and district staff keep.

A course list is a "long" table with one row per course; the columns of its site (id, provider,
name, address, coordinates) are repeated on every course row of that site, as in the Excel lists
course providers send. It may come as CSV (``;`` or ``,`` separated, UTF-8 with or without BOM,
or Windows-1252 from German Excel), as an Excel workbook (.xlsx) or as a GeoJSON / GeoPackage of
points. German column headers are accepted beside the English names. The schema and every alias
are documented in ``docs/course-sites.md``.

:func:`read_courses` returns a :class:`CourseList` (sites in EPSG:25832, courses with times in
seconds after midnight) or raises :class:`~kurszugang.errors.DataValidationError` listing every
problem of the file; :func:`validate_courses` returns the same findings as a
:class:`~kurszugang.io._report.ValidationReport` without raising.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from kurszugang.errors import (
    ConfigError,
    DataValidationError,
    InputError,
    InputFormatError,
)
from kurszugang.io._report import ValidationReport

__all__ = [
    "COURSE_TYPES",
    "SCHEDULES",
    "COURSE_CRS",
    "GERMANY_BBOX",
    "ScheduleRule",
    "CourseList",
    "read_courses",
    "validate_courses",
    "derive_schedule",
    "parse_weekdays",
]

logger = logging.getLogger(__name__)

#: Course type codes (see DOMAIN.md); more with ``extra_types=`` or as ``sonstig:<label>``.
COURSE_TYPES: tuple[str, ...] = (
    "allgemein",
    "intensiv",
    "jugend",
    "eltern",
    "frauen",
    "alpha",
    "zweitschrift",
    "foerder",
)
#: Schedule codes: full-time, part-time, evening.
SCHEDULES: tuple[str, ...] = ("vollzeit", "teilzeit", "abend")
#: CRS of the site geometries returned (ETRS89 / UTM 32N, metres).
COURSE_CRS = "EPSG:25832"
#: Germany's bounding box (min lon, min lat, max lon, max lat) in WGS84 degrees; points outside
#: it are reported as warnings.
GERMANY_BBOX: tuple[float, float, float, float] = (5.5, 47.0, 15.5, 55.5)

_KIND = "course sites"

# --------------------------------------------------------------------------------------------
# Column names and their aliases (matched case-insensitively, umlauts and ß normalised,
# spaces/hyphens/dots/slashes treated alike). Keep docs/course-sites.md in step with this table.
# --------------------------------------------------------------------------------------------
_ALIASES: dict[str, tuple[str, ...]] = {
    "site_id": ("Standort-ID", "Standort-Nr", "Standortnummer", "Kursort-ID"),
    "provider": ("Kursträger", "Träger", "Traeger", "Anbieter", "Bildungsträger"),
    "site_name": ("Standort", "Standortname", "Kursort", "Name"),
    "address": ("Adresse", "Anschrift"),
    "street": ("Straße", "Strasse", "Str", "Straße und Hausnummer", "Hausanschrift"),
    "postcode": ("PLZ", "Postleitzahl"),
    "city": ("Ort", "Stadt", "Gemeinde"),
    "lon": ("Längengrad", "Länge", "Lng", "Longitude"),
    "lat": ("Breitengrad", "Breite", "Latitude"),
    "x": ("Rechtswert", "Ostwert", "Easting"),
    "y": ("Hochwert", "Nordwert", "Northing"),
    "crs": ("Koordinatensystem", "Bezugssystem", "EPSG"),
    "course_id": ("Kurs-ID", "Kursnummer", "Kurs-Nr"),
    "course_type": ("Kursart", "Kurstyp"),
    "weekdays": ("Wochentage", "Tage", "Kurstage", "Unterrichtstage"),
    "start_time": ("Beginn", "Uhrzeit von", "von", "Startzeit", "Unterrichtsbeginn"),
    "end_time": ("Ende", "Uhrzeit bis", "bis", "Endzeit", "Unterrichtsende"),
    "childcare": ("Kinderbetreuung", "Kinderbeaufsichtigung"),
    "capacity": ("Plätze", "Kapazität", "Kursplätze", "Teilnehmerplätze"),
    "free_places": ("freie Plätze", "Freiplätze", "freie Kursplätze"),
    "next_start": (
        "nächster Kursbeginn",
        "Kursbeginn",
        "Kursstart",
        "nächster Kursstart",
        "nächster Start",
        "Startdatum",
    ),
    "schedule": ("Zeitform", "Kursform", "Unterrichtsform"),
    "notes": ("Bemerkungen", "Bemerkung", "Hinweise", "Anmerkungen", "Notizen"),
    "as_of": ("Stand", "Datenstand", "Stand vom"),
}
_REQUIRED = ("site_id", "provider", "course_type", "weekdays", "start_time", "end_time")
_SITE_TEXT = ("provider", "site_name", "address", "street", "postcode", "city")

_EXPECT = {
    "site_id": "a site identifier, e.g. S01",
    "provider": "the name of the course provider (Kursträger)",
    "lon": "a longitude in decimal degrees (WGS84), e.g. 12.1289",
    "lat": "a latitude in decimal degrees (WGS84), e.g. 47.8561",
    "x": "an easting in the unit of the crs, e.g. 727000.5 for EPSG:25832",
    "y": "a northing in the unit of the crs, e.g. 5304000.5 for EPSG:25832",
    "crs": "the coordinate reference system of x/y, e.g. EPSG:25832, as a column crs or the "
    "crs= option",
    "weekdays": "weekdays like Mo-Fr, Mo,Mi,Fr, Di+Do, Mon,Tue or 1111100",
    "start_time": "a time of day like 08:30",
    "end_time": "a time of day like 12:00",
    "childcare": "ja/nein, yes/no, x or empty, 1/0, wahr/falsch",
    "capacity": "a whole number of 0 or more",
    "free_places": "a whole number of 0 or more",
    "next_start": "YYYY-MM-DD or DD.MM.YYYY",
    "as_of": "YYYY-MM-DD or DD.MM.YYYY",
    "schedule": "vollzeit, teilzeit or abend (or empty to derive it)",
}

_TRUE = ("ja", "j", "yes", "y", "x", "1", "1.0", "wahr", "true", "vorhanden")
_FALSE = ("nein", "n", "no", "", "0", "0.0", "falsch", "false", "-", "keine")
_SCHEDULE_WORDS = {
    "vollzeit": "vollzeit",
    "vz": "vollzeit",
    "full_time": "vollzeit",
    "fulltime": "vollzeit",
    "teilzeit": "teilzeit",
    "tz": "teilzeit",
    "part_time": "teilzeit",
    "parttime": "teilzeit",
    "abend": "abend",
    "abendkurs": "abend",
    "evening": "abend",
}
_DAY_TOKENS: dict[str, int] = {}
for _i, _names in enumerate(
    (
        ("mo", "mon", "montag", "monday"),
        ("di", "tu", "tue", "tues", "dienstag", "tuesday"),
        ("mi", "we", "wed", "mittwoch", "wednesday"),
        ("do", "th", "thu", "thur", "thurs", "donnerstag", "thursday"),
        ("fr", "fri", "freitag", "friday"),
        ("sa", "sat", "samstag", "sonnabend", "saturday"),
        ("so", "su", "sun", "sonntag", "sunday"),
    )
):
    for _name in _names:
        _DAY_TOKENS[_name] = _i

_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a zip archive or an Excel workbook (.xlsx)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel 97-2003 workbook (.xls) or another Office file"),
    (b"SQLite format 3\x00", "an SQLite database or GeoPackage (.gpkg)"),
    (b"\x1f\x8b", "a gzip archive"),
)


# --------------------------------------------------------------------------------------------
# Public objects
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScheduleRule:
    """How the schedule (vollzeit, teilzeit, abend) is derived when a list does not give it.

    A course that starts at or after ``evening_start`` is an evening course (``abend``);
    otherwise one held on at most ``part_time_max_days`` weekdays, or for at most
    ``part_time_max_hours`` hours a day, is part-time (``teilzeit``); every other course is
    full-time (``vollzeit``).

    Parameters
    ----------
    evening_start
        Seconds after midnight from which a course counts as an evening course (default
        61,200 s = 17:00).
    part_time_max_days
        Most weekdays per week of a part-time course (default 3).
    part_time_max_hours
        Most hours per day of a part-time course (default 2.5: full-time courses have 4-5 lessons of 45 min a day).

    Raises
    ------
    ConfigError
        If a threshold is out of range.

    Examples
    --------
    >>> ScheduleRule(evening_start=18 * 3600).evening_start
    64800
    """

    evening_start: int = 17 * 3600
    part_time_max_days: int = 3
    part_time_max_hours: float = 2.5

    def __post_init__(self) -> None:
        if not 0 <= self.evening_start < 86_400:
            raise ConfigError(
                f"ScheduleRule.evening_start {self.evening_start!r} is out of range "
                "(expected seconds after midnight between 0 and 86399)"
            )
        if not 0 <= self.part_time_max_days <= 7:
            raise ConfigError(
                f"ScheduleRule.part_time_max_days {self.part_time_max_days!r} is out of range "
                "(expected 0 to 7 days)"
            )
        if not 0 <= self.part_time_max_hours <= 24:
            raise ConfigError(
                f"ScheduleRule.part_time_max_hours {self.part_time_max_hours!r} is out of range "
                "(expected 0 to 24 hours)"
            )


@dataclass(frozen=True, eq=False)
class CourseList:
    """Course sites and their courses, as read by :func:`read_courses`.

    Attributes
    ----------
    sites
        One row per site, in EPSG:25832: ``site_id`` (str), ``provider`` (str), ``site_name``
        (str or NA), ``address`` (str or NA; built from street, postcode and city when the list
        has no address column), ``lon``, ``lat`` (float, WGS84 degrees), ``geometry`` (Point,
        metres), ``n_courses`` (int), ``has_childcare`` (bool: any course of the site with
        childcare).
    courses
        One row per course: ``course_id``, ``site_id``, ``provider``, ``course_type`` (str),
        ``schedule`` (vollzeit, teilzeit or abend), ``weekdays`` (str of seven 0/1, Monday
        first, e.g. ``"1111100"``), ``weekday_mask`` (int8, Monday = bit 0), ``start_time``,
        ``end_time`` (int32 seconds after midnight), ``childcare`` (bool), ``capacity``,
        ``free_places`` (Int32, NA when not given), ``next_start`` (datetime64[s], NaT when
        not given), ``notes`` (str or NA).
    as_of
        The date the list is as of (its ``Stand``), or None when unknown.
    source
        The file read.
    report
        Counts, notes and warnings found while reading.
    """

    sites: gpd.GeoDataFrame
    courses: pd.DataFrame
    as_of: dt.date | None
    source: str
    report: ValidationReport = field(repr=False)

    def __repr__(self) -> str:
        as_of = self.as_of.isoformat() if self.as_of else None
        return (
            f"CourseList({len(self.sites)} sites, {len(self.courses)} courses, "
            f"as_of={as_of!r}, source={self.source!r})"
        )

    def courses_on(self, day: dt.date | str) -> pd.DataFrame:
        """The courses held on the weekday of ``day``.

        Only the weekday counts: a course's ``next_start`` is not compared with ``day``.

        Parameters
        ----------
        day
            A date (``datetime.date``, ``pandas.Timestamp`` or an ISO string "2026-03-03").

        Returns
        -------
        pandas.DataFrame
            The rows of :attr:`courses` whose weekday mask has that weekday's bit set.

        Raises
        ------
        ValueError
            If ``day`` is not a date.

        Examples
        --------
        >>> courses = read_courses("kursorte.csv")  # doctest: +SKIP
        >>> courses.courses_on(datetime.date(2026, 3, 3))  # a Tuesday  # doctest: +SKIP
        """
        weekday = pd.Timestamp(day).weekday()
        held = (self.courses["weekday_mask"].to_numpy(np.int64) >> weekday) & 1
        return self.courses[held.astype(bool)]

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """The courses joined with the name, address and point of their site.

        Returns
        -------
        geopandas.GeoDataFrame
            The columns of :attr:`courses` plus ``site_name``, ``address`` and ``geometry``
            (EPSG:25832), one row per course.

        Examples
        --------
        >>> read_courses("kursorte.csv").to_geodataframe().crs  # doctest: +SKIP
        <Projected CRS: EPSG:25832>
        """
        site_cols = self.sites[["site_id", "site_name", "address", "geometry"]]
        joined = self.courses.merge(pd.DataFrame(site_cols), on="site_id", how="left")
        return gpd.GeoDataFrame(joined, geometry="geometry", crs=self.sites.crs)


def read_courses(
    path: str | Path,
    *,
    crs: str | int | CRS | None = None,
    sheet: str | int | None = None,
    as_of: dt.date | str | None = None,
    extra_types: Iterable[str] = (),
    schedule_rule: ScheduleRule | None = None,
) -> CourseList:
    """Read a list of course sites and courses (CSV, XLSX, GeoJSON or GeoPackage).

    Parameters
    ----------
    path
        The course list: ``.csv``/``.txt``, ``.xlsx``/``.xlsm``, ``.geojson``/``.json`` or
        ``.gpkg``. The columns are documented in ``docs/course-sites.md``.
    crs
        The coordinate reference system of ``x``/``y`` columns (e.g. ``"EPSG:25832"``) where the
        list has no ``crs`` column or leaves it empty; for a GeoPackage layer without a CRS, the
        CRS of its points.
    sheet
        The sheet of a workbook (name or 0-based index; default the first sheet) or the layer of a
        GeoPackage (default the first layer).
    as_of
        The date the list is as of; replaces the file's ``as_of``/``Stand`` column. When neither
        is given, :attr:`CourseList.as_of` is None and the report warns.
    extra_types
        Course type codes accepted beside :data:`COURSE_TYPES` (e.g. ``["beruf"]``).
    schedule_rule
        Thresholds used to derive the schedule where the list does not give one (default
        :class:`ScheduleRule()`: evening from 17:00, part-time up to 3 days or 2.5 h a day).

    Returns
    -------
    CourseList
        Sites in EPSG:25832 and one row per course.

    Raises
    ------
    InputFormatError
        If the file does not exist, is empty, has only a header, or is not what its extension
        says (e.g. an image renamed to .xlsx).
    DataValidationError
        Listing every problem of the file (file, line, column and what was expected) when any
        value is unusable.
    InputError
        If the ``as_of`` option is not a date.

    Examples
    --------
    >>> courses = read_courses("kursorte.csv", as_of="2026-03-01")  # doctest: +SKIP
    >>> courses.sites.crs.to_epsg(), len(courses.courses)  # doctest: +SKIP
    (25832, 6)
    """
    result, report = _read(
        Path(path),
        crs=crs,
        sheet=sheet,
        as_of=as_of,
        extra_types=extra_types,
        schedule_rule=schedule_rule or ScheduleRule(),
    )
    if result is None:
        raise DataValidationError(report.errors, path=path)
    return result


def validate_courses(
    path: str | Path,
    *,
    crs: str | int | CRS | None = None,
    sheet: str | int | None = None,
    as_of: dt.date | str | None = None,
    extra_types: Iterable[str] = (),
) -> ValidationReport:
    """Check a course list and report every problem without raising.

    Parameters
    ----------
    path
        The course list (see :func:`read_courses`).
    crs, sheet, as_of, extra_types
        As for :func:`read_courses`.

    Returns
    -------
    ValidationReport
        Counts (rows, sites, courses), notes, and every error and warning with file, line and
        column; an unreadable or empty file is one error.

    Raises
    ------
    InputError
        Only if the ``as_of`` option itself is not a date; bad data never raises.

    Examples
    --------
    >>> report = validate_courses("kursorte.csv")  # doctest: +SKIP
    >>> report.ok  # doctest: +SKIP
    True
    """
    p = Path(path)
    try:
        _, report = _read(
            p,
            crs=crs,
            sheet=sheet,
            as_of=as_of,
            extra_types=extra_types,
            schedule_rule=ScheduleRule(),
        )
    except InputFormatError as exc:
        report = ValidationReport(source=str(p), kind=_KIND)
        report.error(p.name, None, None, exc.message, "unreadable")
    return report


def parse_weekdays(text: str) -> int | None:
    """The weekday bit mask (Monday = bit 0) of a weekday text, or None if it is not one.

    Accepts German and English day names and abbreviations (Mo, Di, Mi, Do, Fr, Sa, So; Mon,
    Tue, ...; Montag, Monday, ...), lists (``"Mo,Mi,Fr"``, ``"Di+Do"``, ``"Di und Do"``), ranges
    (``"Mo-Fr"``, ``"Mo–Do"``, ``"Mo bis Fr"``) and seven-character 0/1 strings Monday first
    (``"1111100"``; shorter ones from Excel, which drops leading zeros, are padded).

    Parameters
    ----------
    text
        The weekday text of one course.

    Returns
    -------
    int or None
        The mask (1 to 127), or None when the text names no day or is not understood.

    Examples
    --------
    >>> parse_weekdays("Mo-Fr"), parse_weekdays("Di+Do"), parse_weekdays("Mon,Wed")
    (31, 10, 5)
    """
    t = unicodedata.normalize("NFKC", str(text)).strip().lower().replace(".", "")
    if re.fullmatch(r"[01]{1,7}", t):
        bits = t.zfill(7)
        mask = sum(1 << i for i, bit in enumerate(bits) if bit == "1")
        return mask or None
    t = re.sub(r"\s*(?:[-\u2010-\u2015]|\bbis\b|\bto\b)\s*", "-", t)
    mask = 0
    for part in re.split(r"(?:[\s,;/+&]|\bund\b|\band\b|\bu\b)+", t):
        if not part:
            continue
        ends = part.split("-")
        if len(ends) == 1 and ends[0] in _DAY_TOKENS:
            mask |= 1 << _DAY_TOKENS[ends[0]]
        elif len(ends) == 2 and ends[0] in _DAY_TOKENS and ends[1] in _DAY_TOKENS:
            first, last = _DAY_TOKENS[ends[0]], _DAY_TOKENS[ends[1]]
            if first > last:
                return None
            mask |= sum(1 << i for i in range(first, last + 1))
        else:
            return None
    return mask or None


def derive_schedule(
    start_time: Sequence[int] | np.ndarray | pd.Series,
    end_time: Sequence[int] | np.ndarray | pd.Series,
    weekday_mask: Sequence[int] | np.ndarray | pd.Series,
    *,
    rule: ScheduleRule | None = None,
) -> np.ndarray:
    """Derive the schedule (vollzeit, teilzeit, abend) of courses from their times and days.

    Evening (``abend``) if the course starts at or after ``rule.evening_start``; else part-time
    (``teilzeit``) if it runs on at most ``rule.part_time_max_days`` weekdays or for at most
    ``rule.part_time_max_hours`` hours a day; else full-time (``vollzeit``).

    Parameters
    ----------
    start_time, end_time
        Seconds after midnight.
    weekday_mask
        Weekday bit masks, Monday = bit 0.
    rule
        The thresholds (default :class:`ScheduleRule()`).

    Returns
    -------
    numpy.ndarray
        One schedule code (str, object array) per course.

    Examples
    --------
    >>> derive_schedule([30600, 30600, 64800], [45900, 41400, 75600], [31, 10, 31]).tolist()
    ['vollzeit', 'teilzeit', 'abend']
    """
    rule = rule or ScheduleRule()
    start = np.asarray(start_time, dtype=np.int64)
    end = np.asarray(end_time, dtype=np.int64)
    mask = np.asarray(weekday_mask, dtype=np.int64)
    n_days = sum((mask >> i) & 1 for i in range(7))
    hours = (end - start) / 3600.0
    part_time = (n_days <= rule.part_time_max_days) | (hours <= rule.part_time_max_hours)
    out = np.where(
        start >= rule.evening_start, "abend", np.where(part_time, "teilzeit", "vollzeit")
    )
    return out.astype(object)


# --------------------------------------------------------------------------------------------
# Loading: every format to one table of text cells with a line number per record
# --------------------------------------------------------------------------------------------
@dataclass
class _Table:
    data: pd.DataFrame  # text cells, "" when empty, original headers
    lines: np.ndarray  # line (CSV), spreadsheet row (XLSX) or feature number per record
    geo_lon: np.ndarray | None = None  # WGS84 from point geometries, NaN where none
    geo_lat: np.ndarray | None = None
    geo_bad: np.ndarray | None = None  # rows whose geometry is unusable (already reported)


def _binary_kind(head: bytes) -> str | None:
    """What a file's first bytes say it is, if it is not text."""
    for signature, what in _BINARY_SIGNATURES:
        if head.startswith(signature):
            return what
    if b"\x00" in head:
        return "binary data"
    return None


def _norm(name: object) -> str:
    """Normalise a column name: lower case, umlauts and ß spelled out, separators as '_'."""
    s = unicodedata.normalize("NFKC", str(name)).strip().lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        s = s.replace(umlaut, plain)
    return re.sub(r"[^0-9a-z]+", "_", s).strip("_")


def _norm_series(s: pd.Series) -> pd.Series:
    """:func:`_norm` for a column of values, vectorised."""
    out = s.str.lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        out = out.str.replace(umlaut, plain, regex=False)
    return out.str.replace(r"[^0-9a-z]+", "_", regex=True).str.strip("_").astype(str)


_LOOKUP: dict[str, str] = {}
for _canon, _names in _ALIASES.items():
    _LOOKUP[_canon] = _canon
    for _name in _names:
        _LOOKUP[_norm(_name)] = _canon


def _load_table(
    path: Path, *, sheet: str | int | None, crs: CRS | None, report: ValidationReport
) -> _Table:
    if not path.exists():
        raise InputFormatError("does not exist", path=path)
    if path.is_dir():
        raise InputFormatError("is a folder (expected a course list file)", path=path)
    if path.stat().st_size == 0:
        raise InputFormatError("is empty (0 bytes; expected a course list)", path=path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        return _load_csv(path, report)
    if suffix in (".xlsx", ".xlsm"):
        return _load_xlsx(path, sheet, report)
    if suffix in (".geojson", ".json", ".gpkg"):
        return _load_features(path, sheet, crs, report)
    if suffix == ".xls":
        raise InputFormatError(
            "is an old Excel 97-2003 workbook (.xls), which is not read "
            "(expected .xlsx: save it in Excel as 'Excel-Arbeitsmappe (.xlsx)' or as CSV)",
            path=path,
        )
    raise InputFormatError(
        f"has the extension {suffix or '(none)'!r}, which is not a course list format "
        "(expected .csv, .xlsx, .geojson or .gpkg)",
        path=path,
    )


def _decode(raw: bytes, path: Path, report: ValidationReport) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        report.notes.append("read as UTF-16 text (Excel 'Unicode text')")
        return raw.decode("utf-16")
    what = _binary_kind(raw[:4096])
    if what is not None:
        raise InputFormatError(
            f"is not a text (CSV) file: it looks like {what} (expected a CSV course list)",
            path=path,
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            text = raw.decode("cp1252")
            encoding = "Windows-1252 (cp1252)"
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
            encoding = "Latin-1 (ISO-8859-1)"
        line = raw[: exc.start].count(b"\n") + 1
        note = (
            f"not UTF-8 (first non-UTF-8 byte on line {line}): read as {encoding}, as German "
            "Excel writes 'CSV (Trennzeichen-getrennt)'; save as 'CSV UTF-8' to avoid this"
        )
        report.notes.append(note)
        logger.info("%s: %s", path.name, note)
        return text


def _load_csv(path: Path, report: ValidationReport) -> _Table:
    text = _decode(path.read_bytes(), path, report)
    if not text.strip():
        raise InputFormatError("contains only blank lines (expected a course list)", path=path)
    offset = 0
    first, _, rest = text.partition("\n")
    sep_line = re.fullmatch(r'\s*"?sep=(.)"?\s*', first)
    if sep_line:  # Excel's "sep=;" first line
        sep = sep_line.group(1)
        text, offset = rest, 1
    else:  # the candidate found most often on one of the first lines (a title line has none)
        head = text.split("\n", 10)[:10]
        counts = {s: max(line.count(s) for line in head) for s in (";", ",", "\t")}
        sep = max(counts, key=lambda s: counts[s]) if any(counts.values()) else ","
    report.counts["separator"] = {"\t": "tab"}.get(sep, sep)
    # The csv module parses quoting exactly as Excel writes it and keeps overlong rows, which
    # pandas' reader would drop or fold into an index.
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    if not rows:
        raise InputFormatError("contains only blank lines (expected a course list)", path=path)
    h = _header_row(rows)
    if h:
        report.notes.append(f"header on line {h + 1 + offset}; lines above it skipped")
    header, records = rows[h], rows[h + 1 :]
    n_phys = text.count("\n") + (0 if text.endswith("\n") else 1)
    if len(rows) == n_phys:
        lines = np.arange(h + 2, len(rows) + 1) + offset
    else:  # quoted line breaks inside cells: count the lines of each record
        lines = np.asarray(_record_lines(text, sep)[h + 1 :], dtype=np.int64) + offset
    widths = np.fromiter(map(len, records), dtype=np.int64, count=len(records))
    hint = ""
    if sep == ",":
        hint = "; with ',' as separator, decimal commas must be in quotes — or use ';'"
    overlong = np.flatnonzero(widths > len(header))
    for i in overlong:
        extra = [v for v in records[i][len(header) :] if v.strip()]
        if extra:
            report.error(
                path.name,
                int(lines[i]),
                None,
                f"has {widths[i]} fields but the header has {len(header)} (expected one value "
                f"per column{hint})",
                "field_count",
            )
    k = len(header)
    padded = [r[:k] if len(r) >= k else r + [""] * (k - len(r)) for r in records]
    data = pd.DataFrame(padded, columns=pd.Index(header), dtype=str)
    return _Table(data=data, lines=lines)


def _header_row(rows: list[list[str]]) -> int:
    """Index of the header among the first rows: the first naming two known columns, else 0.

    Hand-made lists often have a title row ("Kursliste Landkreis ..., Stand ...") above the
    header.
    """
    for i, row in enumerate(rows[:10]):
        if sum(_norm(v) in _LOOKUP for v in row) >= 2:
            return i
    return 0


def _record_lines(text: str, sep: str) -> list[int]:
    """First line of each record when cells contain quoted line breaks (rare path)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    starts: list[int] = []
    previous = 0
    for _ in reader:
        starts.append(previous + 1)
        previous = reader.line_num
    return starts


def _load_xlsx(path: Path, sheet: str | int | None, report: ValidationReport) -> _Table:
    with path.open("rb") as fh:
        head = fh.read(4096)
    if not head.startswith(b"PK\x03\x04"):
        what = _binary_kind(head) or "a text file (a CSV renamed to .xlsx?)"
        raise InputFormatError(f"is not an Excel workbook (.xlsx): it looks like {what}", path=path)
    try:
        with zipfile.ZipFile(path) as zf:
            is_workbook = "xl/workbook.xml" in zf.namelist()
    except zipfile.BadZipFile as exc:
        raise InputFormatError(
            f"is not a readable Excel workbook (.xlsx): {exc}", path=path
        ) from exc
    if not is_workbook:
        raise InputFormatError(
            "is a zip archive but not an Excel workbook (.xlsx has no xl/workbook.xml)", path=path
        )
    try:
        # openpyxl warns about workbook features it does not read (data validation, default
        # styles of files written by other programs); they do not affect cell values.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            with pd.ExcelFile(path, engine="openpyxl") as book:
                names = [str(n) for n in book.sheet_names]
                chosen = _choose(names, sheet, path, what="sheet")
                raw = pd.read_excel(
                    book, sheet_name=chosen, header=None, dtype=str, keep_default_na=False
                )
    except InputFormatError:
        raise
    except Exception as exc:  # any reader failure means an unreadable workbook
        raise InputFormatError(f"cannot be read as an Excel workbook ({exc})", path=path) from exc
    report.counts["sheet"] = chosen
    raw = raw.fillna("").astype(str)
    if raw.empty:
        raise InputFormatError(f"sheet {chosen!r} is empty (expected a course list)", path=path)
    h = _header_row(raw.head(10).to_numpy(dtype=str).tolist())
    if h:
        report.notes.append(f"sheet {chosen!r}: header in row {h + 1}; rows above it skipped")
    header = [str(v).strip() for v in raw.iloc[h]]
    data = raw.iloc[h + 1 :].reset_index(drop=True)
    data.columns = pd.Index(header)
    lines = np.arange(h + 2, h + 2 + len(data), dtype=np.int64)
    return _Table(data=data, lines=lines)


def _choose(names: list[str], wanted: str | int | None, path: Path, *, what: str) -> str:
    if not names:
        raise InputFormatError(f"has no {what}s (expected a course list)", path=path)
    if wanted is None:
        return names[0]
    if isinstance(wanted, int):
        if 0 <= wanted < len(names):
            return names[wanted]
        raise InputFormatError(
            f"has no {what} number {wanted} (0-based; it has {len(names)}: {', '.join(names)})",
            path=path,
        )
    by_lower = {n.lower(): n for n in names}
    if str(wanted).lower() in by_lower:
        return by_lower[str(wanted).lower()]
    raise InputFormatError(
        f"has no {what} {wanted!r} (expected one of {', '.join(names)})", path=path
    )


def _as_text(s: pd.Series) -> pd.Series:
    """Attribute values of a feature file as the text a CSV would hold."""
    na = s.isna().to_numpy()
    if pd.api.types.is_bool_dtype(s):
        out = s.map({True: "true", False: "false"})
    elif pd.api.types.is_datetime64_any_dtype(s):
        out = s.dt.strftime("%Y-%m-%d")
    elif pd.api.types.is_numeric_dtype(s):
        values = s.to_numpy(dtype=float, na_value=np.nan)
        integral = np.isfinite(values) & (values == np.round(values))
        as_int = pd.Series(np.where(integral, values, 0).astype(np.int64), index=s.index)
        out = as_int.astype(str).where(integral, s.astype(str))
    else:
        out = s.astype(str)
    return out.where(~na, "").astype(str).str.strip()


def _load_features(
    path: Path, layer: str | int | None, crs: CRS | None, report: ValidationReport
) -> _Table:
    with path.open("rb") as fh:
        head = fh.read(4096)
    if path.suffix.lower() == ".gpkg":
        if not head.startswith(b"SQLite format 3\x00"):
            looks = _binary_kind(head) or "a text file"
            raise InputFormatError(f"is not a GeoPackage: it looks like {looks}", path=path)
    else:
        what = _binary_kind(head)
        if what is None and not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
            what = "text that is not JSON"
        if what is not None:
            raise InputFormatError(
                f"is not a GeoJSON file: it looks like {what} (expected a JSON "
                "FeatureCollection of points)",
                path=path,
            )
    try:
        layers = gpd.list_layers(path)
        names = [str(n) for n in layers["name"]]
        chosen = _choose(names, layer, path, what="layer")
        if len(names) > 1 and layer is None:
            report.notes.append(f"read layer {chosen!r} of {len(names)} ({', '.join(names)})")
        gdf = gpd.read_file(path, layer=chosen, engine="pyogrio")
    except InputFormatError:
        raise
    except Exception as exc:  # any reader failure means an unreadable file
        raise InputFormatError(f"cannot be read as a feature file ({exc})", path=path) from exc
    if len(gdf) == 0:
        raise InputFormatError("has no features (expected one point per course)", path=path)
    geometry = gdf.geometry
    data = pd.DataFrame(
        {c: _as_text(gdf[c]) for c in gdf.columns if c != gdf.geometry.name}
    ).reset_index(drop=True)
    lines = np.arange(1, len(gdf) + 1, dtype=np.int64)
    missing = (geometry.isna() | geometry.is_empty).to_numpy()
    kinds = geometry.geom_type.fillna("").to_numpy(dtype=object)
    bad = ~missing & (kinds != "Point")
    for i in np.flatnonzero(bad):
        report.error(
            path.name,
            int(lines[i]),
            "geometry",
            f"is a {kinds[i]} (expected a point)",
            "bad_geometry",
        )
    lon = np.full(len(gdf), np.nan)
    lat = np.full(len(gdf), np.nan)
    usable = ~missing & ~bad
    source_crs = gdf.crs if gdf.crs is not None else crs
    if usable.any():
        if source_crs is None:
            raise InputFormatError(
                "has no coordinate reference system (pass crs=, e.g. 'EPSG:25832')", path=path
            )
        points = gpd.GeoSeries(geometry[usable].to_numpy(), crs=source_crs).to_crs("EPSG:4326")
        lon[usable] = points.x.to_numpy()
        lat[usable] = points.y.to_numpy()
        report.counts["crs"] = CRS.from_user_input(source_crs).to_string()
    return _Table(data=data, lines=lines, geo_lon=lon, geo_lat=lat, geo_bad=bad)


# --------------------------------------------------------------------------------------------
# Parsing and checking
# --------------------------------------------------------------------------------------------
class _Checker:
    """Records problems for masked rows, naming file, line and the column as written."""

    def __init__(self, report: ValidationReport, file: str, lines: np.ndarray) -> None:
        self.report = report
        self.file = file
        self.lines = lines

    def rows(
        self,
        mask: np.ndarray | pd.Series,
        column: str | None,
        messages: str | pd.Series,
        code: str,
        *,
        severity: str = "error",
    ) -> int:
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        if isinstance(messages, str):
            texts = [messages] * idx.size
        else:
            texts = list(np.asarray(messages, dtype=object)[idx])
        add = self.report.error if severity == "error" else self.report.warning
        for i, text in zip(idx, texts, strict=True):
            add(self.file, int(self.lines[i]), column, str(text), code)
        return int(idx.size)


def _q(s: pd.Series) -> pd.Series:
    return "'" + s + "'"


def _map_columns(headers: Sequence[str], file: str, report: ValidationReport) -> dict[str, str]:
    """Canonical name -> header as written, for every recognised column."""
    found: dict[str, str] = {}
    unused: list[str] = []
    for header in headers:
        canon = _LOOKUP.get(_norm(header))
        if canon is None:
            if str(header).strip() and not str(header).startswith("Unnamed"):
                unused.append(str(header))
            continue
        if canon in found:
            report.error(
                file,
                1,
                str(header),
                f"means the same as column {found[canon]!r} ({canon}) (expected each column once)",
                "duplicate_column",
            )
            continue
        found[canon] = str(header)
    if unused:
        report.notes.append(f"columns not used: {', '.join(unused)}")
    return found


def _label(canon: str, columns: dict[str, str]) -> str:
    header = columns.get(canon, canon)
    return header if _norm(header) == canon else f"{header} ({canon})"


def _to_float(s: pd.Series) -> pd.Series:
    """Numbers with decimal point or decimal comma; NaN where empty or not a number."""
    return pd.to_numeric(s.str.replace(",", ".", regex=False), errors="coerce").astype(float)


def _parse_times(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Seconds after midnight of "08:30", "8.30", "8,30", "08:30:00", "8 Uhr"; ok-mask."""
    text = s.str.lower().str.replace(r"\s*uhr$", "", regex=True)
    parts = text.str.extract(r"^(\d{1,2})(?:[:.,](\d{2}))?(?:[:.](\d{2}))?$")
    h, m, sec = (pd.to_numeric(parts[i], errors="coerce").to_numpy(float) for i in range(3))
    m = np.nan_to_num(m)
    sec = np.nan_to_num(sec)
    ok = np.isfinite(h) & (h <= 23) & (m <= 59) & (sec <= 59)
    seconds = np.where(ok, np.nan_to_num(h) * 3600 + m * 60 + sec, 0).astype(np.int32)
    return seconds, ok


def _parse_dates(s: pd.Series) -> pd.Series:
    """ISO (YYYY-MM-DD) and German (DD.MM.YYYY) dates; NaT where not a date."""
    text = s.str.replace(r"[T ]00:00(?::00)?$", "", regex=True)
    iso = pd.to_datetime(
        text.where(text.str.contains("-", regex=False)), format="%Y-%m-%d", errors="coerce"
    )
    german = pd.to_datetime(
        text.where(text.str.contains(".", regex=False)), format="%d.%m.%Y", errors="coerce"
    )
    return iso.fillna(german)


def _parse_as_of_option(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    parsed = _parse_dates(pd.Series([str(value).strip()], dtype=str))
    if parsed.isna().iloc[0]:
        raise InputError(
            f"as_of option {value!r} is not a date (expected YYYY-MM-DD or DD.MM.YYYY)"
        )
    return parsed.iloc[0].date()


def _parse_crs(value: str | int | CRS) -> CRS:
    text = str(value).strip()
    if re.fullmatch(r"\d{4,6}", text):
        text = f"EPSG:{text}"
    return CRS.from_user_input(value if isinstance(value, CRS) else text)


def _read(
    path: Path,
    *,
    crs: str | int | CRS | None,
    sheet: str | int | None,
    as_of: dt.date | str | None,
    extra_types: Iterable[str],
    schedule_rule: ScheduleRule,
) -> tuple[CourseList | None, ValidationReport]:
    """Read and check a course list; the CourseList is None when errors were found."""
    report = ValidationReport(source=str(path), kind=_KIND)
    file = path.name
    as_of_option = _parse_as_of_option(as_of) if as_of is not None else None
    option_crs = None
    if crs is not None:
        try:
            option_crs = _parse_crs(crs)
        except CRSError as exc:
            raise InputError(
                f"crs option {crs!r} is not a known coordinate reference system "
                "(expected e.g. EPSG:25832)"
            ) from exc
    table = _load_table(path, sheet=sheet, crs=option_crs, report=report)
    data = table.data.apply(lambda column: column.str.strip())
    # Rows with no value at all (spacer lines, Excel's ";;;;;" lines) are skipped and counted.
    empty = (data == "").all(axis=1).to_numpy()
    if table.geo_lon is not None and table.geo_bad is not None:
        empty = empty & ~np.isfinite(table.geo_lon) & ~table.geo_bad
    if empty.any():
        skipped = table.lines[empty]
        note = f"skipped {empty.sum()} empty line(s) (e.g. {', '.join(map(str, skipped[:5]))})"
        report.notes.append(note)
        logger.info("%s: %s", file, note)
    keep = ~empty
    data = data[keep].reset_index(drop=True)
    lines = table.lines[keep]
    geo_lon = table.geo_lon[keep] if table.geo_lon is not None else None
    geo_lat = table.geo_lat[keep] if table.geo_lat is not None else None
    geo_bad = table.geo_bad[keep] if table.geo_bad is not None else None
    if len(data) == 0:
        raise InputFormatError(
            "has a header but no course rows (expected one row per course)", path=path
        )
    report.counts["rows"] = len(data)
    columns = _map_columns(list(data.columns), file, report)
    data.columns = pd.Index(range(data.shape[1]))
    by_header = {h: i for i, h in enumerate(table.data.columns)}
    cols = {canon: data[by_header[header]] for canon, header in columns.items()}
    n = len(data)
    check = _Checker(report, file, lines)
    errors_before = len(report.errors)

    def col(canon: str) -> pd.Series:
        return cols.get(canon, pd.Series([""] * n, dtype=str))

    def label(canon: str) -> str:
        return _label(canon, columns)

    # --- file-level: required columns ---
    for canon in _REQUIRED:
        if canon not in cols:
            aliases = ", ".join(_ALIASES[canon])
            report.error(
                file,
                None,
                canon,
                f"column is missing (expected a column {canon} or one of {aliases})",
                "missing_column",
            )
        elif (cols[canon] == "").all():
            report.error(
                file,
                None,
                label(canon),
                f"column is empty (expected on every row: {_EXPECT.get(canon, 'a value')})",
                "empty_column",
            )
    has_geo = geo_lon is not None
    has_ll = "lon" in cols or "lat" in cols
    has_xy = "x" in cols or "y" in cols
    if not (has_geo or has_ll or has_xy):
        report.error(
            file,
            None,
            "lon",
            "column is missing (expected columns lon and lat (WGS84) or x and y with a "
            "crs; German Längengrad/Breitengrad or Rechtswert/Hochwert)",
            "missing_column",
        )
    if len(report.errors) > errors_before:  # without these columns no row can be read
        return None, _finish(report)

    # --- site columns ---
    site_id = col("site_id")
    check.rows(
        site_id == "",
        label("site_id"),
        f"is missing (expected {_EXPECT['site_id']})",
        "missing_value",
    )
    provider = col("provider")
    check.rows(
        provider == "",
        label("provider"),
        f"is missing (expected {_EXPECT['provider']})",
        "missing_value",
    )

    lon, lat, coord_source = _coordinates(
        cols, label, check, n, geo_lon, geo_lat, geo_bad, option_crs
    )

    # --- course columns ---
    type_text = col("course_type")
    course_type = _course_types(type_text, label("course_type"), check, extra_types)

    day_text = col("weekdays")
    uniques, codes = np.unique(day_text.to_numpy(dtype=str), return_inverse=True)
    parsed_masks = np.array([parse_weekdays(u) or 0 for u in uniques], dtype=np.int64)
    mask = parsed_masks[codes] if n else np.zeros(0, dtype=np.int64)
    check.rows(
        (mask == 0) & (day_text == "").to_numpy(),
        label("weekdays"),
        f"is missing (expected {_EXPECT['weekdays']})",
        "missing_value",
    )
    check.rows(
        (mask == 0) & (day_text != "").to_numpy(),
        label("weekdays"),
        _q(day_text) + f" is not a list of weekdays (expected {_EXPECT['weekdays']})",
        "bad_weekdays",
    )

    times = {}
    for canon in ("start_time", "end_time"):
        text = col(canon)
        seconds, ok = _parse_times(text)
        blank = (text == "").to_numpy()
        check.rows(blank, label(canon), f"is missing (expected {_EXPECT[canon]})", "missing_value")
        check.rows(
            ~ok & ~blank,
            label(canon),
            _q(text) + f" is not a time of day (expected {_EXPECT[canon]})",
            "bad_time",
        )
        times[canon] = (seconds, ok)
    start, start_ok = times["start_time"]
    end, end_ok = times["end_time"]
    check.rows(
        start_ok & end_ok & (end <= start),
        label("end_time"),
        _q(col("end_time"))
        + " is not after start_time "
        + _q(col("start_time"))
        + " (expected a course to end after it starts)",
        "end_before_start",
    )

    childcare_text = col("childcare").str.lower()
    childcare = childcare_text.isin(_TRUE).to_numpy()
    check.rows(
        ~childcare_text.isin(_TRUE + _FALSE).to_numpy(),
        label("childcare"),
        _q(col("childcare")) + f" is not yes or no (expected {_EXPECT['childcare']})",
        "bad_childcare",
    )
    if "childcare" not in cols:
        report.warning(
            file,
            None,
            "childcare",
            "column is missing: no course is counted as having childcare "
            "(expected Kinderbetreuung ja/nein per course)",
            "missing_column",
        )

    counts = {}
    for canon in ("capacity", "free_places"):
        text = col(canon)
        number = _to_float(text).to_numpy()
        whole = np.isfinite(number) & (number >= 0) & (number == np.round(number)) & (number < 1e6)
        check.rows(
            ~whole & (text != "").to_numpy(),
            label(canon),
            _q(text) + f" is not a whole number of 0 or more (expected {_EXPECT[canon]})",
            "bad_number",
        )
        counts[canon] = pd.Series(np.where(whole, number, np.nan)).astype("Int32")
    capacity, free = counts["capacity"], counts["free_places"]
    over = (free > capacity).fillna(False).to_numpy(dtype=bool)
    check.rows(
        over,
        label("free_places"),
        _q(col("free_places"))
        + " is more than capacity "
        + _q(col("capacity"))
        + " (expected at most as many free places as places)",
        "free_over_capacity",
    )

    next_text = col("next_start")
    next_start = _parse_dates(next_text)
    check.rows(
        next_start.isna().to_numpy() & (next_text != "").to_numpy(),
        label("next_start"),
        _q(next_text) + f" is not a date (expected {_EXPECT['next_start']})",
        "bad_date",
    )

    the_date = _as_of(col("as_of"), label("as_of"), as_of_option, check, report, file)
    if the_date is not None:
        before = (next_start < pd.Timestamp(the_date)).fillna(False).to_numpy(dtype=bool)
        check.rows(
            before,
            label("next_start"),
            _q(next_text) + f" is before the list's date {the_date.isoformat()} (the "
            "course may have started already)",
            "start_before_as_of",
            severity="warning",
        )

    schedule_text = col("schedule")
    given = _norm_series(schedule_text).map(_SCHEDULE_WORDS).fillna("").astype(str)
    check.rows(
        (given == "").to_numpy() & (schedule_text != "").to_numpy(),
        label("schedule"),
        _q(schedule_text) + f" is not a schedule (expected {_EXPECT['schedule']})",
        "bad_schedule",
    )
    derived = derive_schedule(start, end, mask, rule=schedule_rule)
    n_derived = int((schedule_text == "").sum())
    schedule = np.where((given != "").to_numpy(), given.to_numpy(dtype=object), derived)
    if n_derived:
        report.notes.append(
            f"schedule derived for {n_derived} course(s) (abend from "
            f"{_hhmm(schedule_rule.evening_start)}; teilzeit up to "
            f"{schedule_rule.part_time_max_days} days or {schedule_rule.part_time_max_hours:g} "
            "h a day; else vollzeit)"
        )

    course_id = _course_ids(col("course_id"), site_id, label("course_id"), check, lines)

    # --- one site, one set of site columns ---
    site_text = {c: col(c) for c in _SITE_TEXT if c in cols}
    _check_sites(site_id, site_text, lon, lat, label, check, report, lines, file)

    _bbox_warnings(site_id, lon, lat, coord_source, label, check)
    if report.errors:
        return None, _finish(report)

    # --- assemble ---
    notes = col("notes").replace("", pd.NA)
    courses = pd.DataFrame(
        {
            "course_id": pd.Series(course_id, dtype="str"),
            "site_id": site_id.astype("str"),
            "provider": provider.astype("str"),
            "course_type": pd.Series(course_type, dtype="str"),
            "schedule": pd.Series(schedule, dtype="str"),
            "weekdays": pd.Series(_mask_strings(mask), dtype="str"),
            "weekday_mask": mask.astype(np.int8),
            "start_time": start.astype(np.int32),
            "end_time": end.astype(np.int32),
            "childcare": childcare.astype(bool),
            "capacity": capacity,
            "free_places": free,
            "next_start": next_start.astype("datetime64[s]").to_numpy(),
            "notes": notes.astype("str"),
        }
    )
    sites = _build_sites(site_id, site_text, lon, lat, childcare)
    report.counts["sites"] = len(sites)
    report.counts["courses"] = len(courses)
    report.counts["courses with childcare"] = int(childcare.sum())
    report.counts["as of"] = the_date.isoformat() if the_date else "unknown"
    _finish(report)
    logger.info("read %d courses at %d sites from %s", len(courses), len(sites), file)
    return CourseList(
        sites=sites, courses=courses, as_of=the_date, source=str(path), report=report
    ), report


def _finish(report: ValidationReport) -> ValidationReport:
    report.problems.sort(key=lambda p: (p.row is not None, p.row or 0))
    if report.warnings:
        examples = "; ".join(str(p) for p in report.warnings[:3])
        logger.warning(
            "%s: %d warning(s), e.g. %s", Path(report.source).name, len(report.warnings), examples
        )
    return report


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _mask_strings(mask: np.ndarray) -> np.ndarray:
    """Seven-character 0/1 strings, Monday first, of weekday bit masks."""
    digits = (((mask[:, None] >> np.arange(7)) & 1) + ord("0")).astype(np.uint8)
    return np.ascontiguousarray(digits).view("S7").ravel().astype(str)


def _course_types(
    text: pd.Series, column: str, check: _Checker, extra_types: Iterable[str]
) -> np.ndarray:
    allowed = tuple(COURSE_TYPES) + tuple(_norm(t) for t in extra_types)
    normed = _norm_series(text)
    free_label = text.str.extract(r"(?i)^\s*sonstig(?:e|es)?\s*:\s*(\S.*?)\s*$")[0]
    is_free = free_label.notna().to_numpy()
    known = normed.isin(allowed).to_numpy()
    blank = (text == "").to_numpy()
    expected = f"expected one of {', '.join(allowed)}; free labels as 'sonstig:<label>'"
    check.rows(blank, column, f"is missing ({expected})", "missing_value")
    check.rows(
        ~known & ~is_free & ~blank,
        column,
        _q(text) + f" is not a known course type ({expected})",
        "bad_course_type",
    )
    out = np.where(
        is_free,
        ("sonstig:" + free_label.fillna("")).to_numpy(dtype=object),
        normed.to_numpy(dtype=object),
    )
    return out


def _coordinates(
    cols: dict[str, pd.Series],
    label: Callable[[str], str],
    check: _Checker,
    n: int,
    geo_lon: np.ndarray | None,
    geo_lat: np.ndarray | None,
    geo_bad: np.ndarray | None,
    option_crs: CRS | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """WGS84 lon/lat of every row from geometry, lon/lat or x/y+crs; label of the source."""
    blank = pd.Series([""] * n, dtype=str)
    lon_t, lat_t = cols.get("lon", blank), cols.get("lat", blank)
    x_t, y_t = cols.get("x", blank), cols.get("y", blank)
    has_ll = "lon" in cols or "lat" in cols
    has_xy = "x" in cols or "y" in cols
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    source = np.full(n, "lon", dtype=object)
    done = np.zeros(n, dtype=bool)
    if geo_lon is not None and geo_lat is not None and geo_bad is not None:
        from_geo = np.isfinite(geo_lon)
        lon[from_geo], lat[from_geo] = geo_lon[from_geo], geo_lat[from_geo]
        source[from_geo] = "geometry"
        done = from_geo | geo_bad
        if not (has_ll or has_xy):
            check.rows(~done, "geometry", "is missing (expected a point)", "missing_value")
            return lon, lat, source
    ll_blank = ((lon_t == "") & (lat_t == "")).to_numpy()
    xy_given = ~((x_t == "") & (y_t == "")).to_numpy()
    if has_ll:  # lon/lat first; x/y for rows that leave lon and lat empty
        use_xy = ~done & ll_blank & xy_given & has_xy
    else:
        use_xy = ~done
    use_ll = ~done & ~use_xy
    # lon / lat in WGS84 degrees
    for canon, limit, values in (("lon", 180, lon), ("lat", 90, lat)):
        text = cols.get(canon, blank)
        number = _to_float(text).to_numpy()
        missing = use_ll & (text == "").to_numpy()
        check.rows(
            missing,
            label(canon),
            f"is missing (expected {_EXPECT[canon]}, or x/y with a crs)",
            "missing_coordinate",
        )
        bad = use_ll & ~missing & ~np.isfinite(number)
        check.rows(
            bad,
            label(canon),
            _q(text) + f" is not a number (expected {_EXPECT[canon]})",
            "bad_coordinate",
        )
        what = "longitude" if canon == "lon" else "latitude"
        out = use_ll & np.isfinite(number) & (np.abs(number) > limit)
        check.rows(
            out,
            label(canon),
            _q(text) + f" is out of range (expected a {what} between -{limit} and {limit})",
            "coordinate_range",
        )
        fine = use_ll & np.isfinite(number) & ~out
        values[fine] = number[fine]
    # x / y with a crs
    if use_xy.any():
        source[use_xy] = "x"
        xy = {}
        for canon in ("x", "y"):
            text = cols.get(canon, blank)
            number = _to_float(text).to_numpy()
            missing = use_xy & (text == "").to_numpy()
            check.rows(
                missing,
                label(canon),
                f"is missing (expected {_EXPECT[canon]})",
                "missing_coordinate",
            )
            check.rows(
                use_xy & ~missing & ~np.isfinite(number),
                label(canon),
                _q(text) + f" is not a number (expected {_EXPECT[canon]})",
                "bad_coordinate",
            )
            xy[canon] = number
        crs_text = cols.get("crs", blank)
        crs_blank = (crs_text == "").to_numpy()
        if option_crs is None:
            check.rows(
                use_xy & crs_blank,
                label("crs"),
                f"is missing (expected {_EXPECT['crs']})",
                "missing_crs",
            )
        for value in np.unique(crs_text[use_xy].to_numpy(dtype=str)):
            rows = use_xy & (crs_text == value).to_numpy()
            if value == "":
                if option_crs is None:
                    continue
                source_crs = option_crs
            else:
                try:
                    source_crs = _parse_crs(value)
                except CRSError:
                    check.rows(
                        rows,
                        label("crs"),
                        f"'{value}' is not a known coordinate "
                        "reference system (expected e.g. EPSG:25832)",
                        "bad_crs",
                    )
                    continue
            ok = rows & np.isfinite(xy["x"]) & np.isfinite(xy["y"])
            to_wgs84 = Transformer.from_crs(source_crs, "EPSG:4326", always_xy=True)
            tx, ty = to_wgs84.transform(xy["x"][ok], xy["y"][ok])
            tx, ty = np.asarray(tx, dtype=float), np.asarray(ty, dtype=float)
            valid = np.isfinite(tx) & np.isfinite(ty) & (np.abs(tx) <= 180) & (np.abs(ty) <= 90)
            bad_rows = np.flatnonzero(ok)[~valid]
            failed = np.zeros(n, dtype=bool)
            failed[bad_rows] = True
            check.rows(
                failed,
                label("x"),
                _q(x_t)
                + " / y "
                + _q(y_t)
                + f" cannot be converted from {source_crs.to_string()} to longitude and "
                "latitude (expected coordinates in that crs)",
                "bad_coordinate",
            )
            idx = np.flatnonzero(ok)[valid]
            lon[idx], lat[idx] = tx[valid], ty[valid]
    return lon, lat, source


def _as_of(
    text: pd.Series,
    column: str,
    option: dt.date | None,
    check: _Checker,
    report: ValidationReport,
    file: str,
) -> dt.date | None:
    given = (text != "").to_numpy()
    dates = _parse_dates(text)
    check.rows(
        given & dates.isna().to_numpy(),
        column,
        _q(text) + f" is not a date (expected {_EXPECT['as_of']})",
        "bad_date",
    )
    valid = given & dates.notna().to_numpy()
    file_date: dt.date | None = None
    if valid.any():
        first = int(np.flatnonzero(valid)[0])
        file_date = dates.iloc[first].date()
        differs = valid & (dates != dates.iloc[first]).to_numpy()
        check.rows(
            differs,
            column,
            _q(text) + f" differs from line {check.lines[first]} "
            f"({text.iloc[first]!r}) (expected one date for the whole list)",
            "as_of_differs",
        )
    if option is not None:
        if file_date is not None and file_date != option:
            report.notes.append(
                f"as_of option {option.isoformat()} used instead of the list's "
                f"date {file_date.isoformat()}"
            )
        return option
    if file_date is None:
        report.warning(
            file,
            None,
            "as_of",
            "is unknown (expected a column as_of/Stand or the as_of= option); the "
            "list's date is left empty",
            "no_as_of",
        )
    return file_date


def _course_ids(
    text: pd.Series, site_id: pd.Series, column: str, check: _Checker, lines: np.ndarray
) -> np.ndarray:
    number = site_id.groupby(site_id.to_numpy(dtype=str)).cumcount() + 1
    generated = site_id + "-" + number.astype(str)
    ids = text.where(text != "", generated)
    first_line = pd.Series(lines).groupby(ids.to_numpy(dtype=str)).transform("first").to_numpy()
    dup = first_line != lines
    check.rows(
        dup,
        column,
        _q(ids)
        + " appears again (first on line "
        + pd.Series(first_line).astype(str)
        + "; expected a unique id per course"
        + np.where((text == "").to_numpy(), ", generated as site_id-n", "")
        + ")",
        "duplicate_course_id",
    )
    return ids.to_numpy(dtype=object)


def _check_sites(
    site_id: pd.Series,
    site_text: dict[str, pd.Series],
    lon: np.ndarray,
    lat: np.ndarray,
    label: Callable[[str], str],
    check: _Checker,
    report: ValidationReport,
    lines: np.ndarray,
    file: str,
) -> None:
    """Errors for site columns that differ between rows of one site; fill blank optional ones."""
    key = site_id.replace("", pd.NA)  # rows without a site_id are reported already
    line_s = pd.Series(lines)
    filled = 0
    for canon, text in site_text.items():
        value = text.replace("", pd.NA)
        first = value.groupby(key).transform("first")
        first_line = line_s.where(value.notna().to_numpy()).groupby(key).transform("first")
        differs = (value.notna() & first.notna() & (value != first)).fillna(False)
        check.rows(
            differs.to_numpy(dtype=bool),
            label(canon),
            _q(text)
            + " differs from line "
            + first_line.astype("Int64").astype(str)
            + " ("
            + _q(first.fillna(""))
            + ") for site_id "
            + _q(site_id)
            + f" (expected the same {canon} on every row of a site)",
            "site_differs",
        )
        if canon != "provider":  # provider blanks are errors already; optional ones are filled
            blank = value.isna() & first.notna()
            filled += int(blank.sum())
            site_text[canon] = text.where(~blank.to_numpy(), first.fillna(""))
    if filled:
        note = f"filled {filled} blank site cell(s) from other rows of the same site_id"
        report.notes.append(note)
        logger.info("%s: %s", file, note)
    for canon, values in (("lon", lon), ("lat", lat)):
        series = pd.Series(values)
        first_value = series.groupby(key).transform("first").to_numpy()
        first_line = line_s.where(series.notna()).groupby(key).transform("first")
        differs = (
            np.isfinite(values) & np.isfinite(first_value) & (np.abs(values - first_value) > 1e-6)
        )
        check.rows(
            differs,
            label(canon),
            series.map("{:.6f}".format)
            + " differs from line "
            + first_line.astype("Int64").astype(str)
            + " ("
            + pd.Series(first_value).map("{:.6f}".format)
            + ") for site_id "
            + _q(site_id)
            + " (expected the same coordinates on every row of a site)",
            "site_differs",
        )


def _build_sites(
    site_id: pd.Series,
    site_text: dict[str, pd.Series],
    lon: np.ndarray,
    lat: np.ndarray,
    childcare: np.ndarray,
) -> gpd.GeoDataFrame:
    n = len(site_id)
    blank = pd.Series([""] * n, dtype=str)
    address = site_text.get("address", blank)
    street = site_text.get("street", blank)
    postcode = site_text.get("postcode", blank)
    # Excel turns the postcode 01067 into the number 1067: restore the leading zero.
    postcode = postcode.where(~postcode.str.fullmatch(r"\d{4}"), postcode.str.zfill(5))
    place = (postcode + " " + site_text.get("city", blank)).str.strip()
    composed = (street + ", " + place).str.strip(", ").str.strip()
    address = address.where(address != "", composed)
    table = pd.DataFrame(
        {
            "site_id": site_id,
            "provider": site_text["provider"],
            "site_name": site_text.get("site_name", blank).replace("", pd.NA),
            "address": address.replace("", pd.NA),
            "lon": lon,
            "lat": lat,
            "childcare": childcare,
        }
    )
    grouped = table.groupby("site_id", sort=False)
    sites = grouped.first()
    sites["n_courses"] = grouped.size().astype(np.int64)
    sites["has_childcare"] = grouped["childcare"].any().astype(bool)
    sites = sites.drop(columns="childcare").reset_index()
    for c in ("site_id", "provider", "site_name", "address"):
        sites[c] = sites[c].astype("str")
    points = gpd.points_from_xy(sites["lon"], sites["lat"], crs="EPSG:4326")
    return gpd.GeoDataFrame(sites, geometry=points, crs="EPSG:4326").to_crs(COURSE_CRS)


def _bbox_warnings(
    site_id: pd.Series,
    lon: np.ndarray,
    lat: np.ndarray,
    source: np.ndarray,
    label: Callable[[str], str],
    check: _Checker,
) -> None:
    """One warning per site whose point lies outside Germany (saying so if lat/lon look swapped)."""
    west, south, east, north = GERMANY_BBOX
    inside = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
    outside = np.isfinite(lon) & np.isfinite(lat) & ~inside
    swapped = (lat >= west) & (lat <= east) & (lon >= south) & (lon <= north)
    first_of_site = ~site_id.duplicated().to_numpy()
    flagged = outside & first_of_site
    if not flagged.any():
        return
    lon_s, lat_s = pd.Series(lon).map("{:.5f}".format), pd.Series(lat).map("{:.5f}".format)
    text: pd.Series = (
        lon_s
        + ", lat "
        + lat_s
        + " of site_id "
        + _q(site_id)
        + f" lies outside Germany (expected {west}–{east} E, {south}–{north} N)"
        + np.where(swapped, "; lat and lon look swapped", "")
    )
    columns = {"lon": label("lon"), "x": "x/y at lon", "geometry": "geometry at lon"}
    for canon in np.unique(source[flagged].astype(str)):
        check.rows(
            flagged & (source == canon), columns[canon], text, "outside_germany", severity="warning"
        )
