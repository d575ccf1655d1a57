"""Course sites and the courses they offer, from the lists providers and district staff keep.

A course list is a "long" table with one row per course; the columns of its site (id, provider,
name, address, contact, coordinates) are repeated on every course row of that site, as in the
Excel lists course providers send. It may come as CSV (``;``, ``,``, tab or ``|`` separated;
UTF-8 with or without BOM, UTF-16 with or without BOM, or Windows-1252 from German Excel), as an
Excel workbook (.xlsx) or as a GeoJSON / GeoPackage of points. German column headers are
accepted beside the English names; title and comment rows above the header are skipped. The
schema and every alias are documented in ``docs/course-sites.md``.

:func:`read_courses` returns a :class:`CourseList` (sites in EPSG:25832, courses with times in
seconds after midnight) or raises :class:`~kurszugang.errors.DataValidationError` listing every
problem of the file; :func:`validate_courses` returns the same findings as a
:class:`~kurszugang.io._report.ValidationReport` without raising. Messages read German and name
file, line and column as written, e.g. ``kursorte.csv Zeile 7: Beginn '8:75' ist keine Uhrzeit
(erwartet HH:MM)``.

:func:`read_sites` and :func:`validate_sites` read a site list: one row per site with the site
columns only (no course columns; a childcare column ja/nein per site), with the same loading,
aliases, coordinate checks and messages. The candidate sites of the planning are read with it.
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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS
from pyproj.exceptions import CRSError

from kurszugang.crs import ANALYSIS_CRS, WEB_CRS, transformer
from kurszugang.dates import parse_clock, parse_date, parse_date_series
from kurszugang.errors import ConfigError, InputError, InputFormatError
from kurszugang.io._report import (
    COUNT_LABELS,
    KIND_LABELS,
    ValidationReport,
    data_error,
    german_number,
)
from kurszugang.io.detect import decode_text, sniff_separator
from kurszugang.words import plural

__all__ = [
    "COURSE_TYPES",
    "SCHEDULES",
    "COURSE_CRS",
    "GERMANY_BBOX",
    "SITE_COLUMNS",
    "ScheduleRule",
    "CourseList",
    "read_courses",
    "validate_courses",
    "read_sites",
    "validate_sites",
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
COURSE_CRS = ANALYSIS_CRS
#: Germany's bounding box (min lon, min lat, max lon, max lat) in WGS84 degrees; points outside
#: it are reported as warnings.
GERMANY_BBOX: tuple[float, float, float, float] = (5.5, 47.0, 15.5, 55.5)
#: Columns of :func:`read_sites`, in order.
SITE_COLUMNS: tuple[str, ...] = ("site_id", "site_name", "provider", "address", "phone", "email",
                                 "web", "has_childcare", "lon", "lat", "line", "geometry")

_KIND = "course sites"
_SITE_KIND = "sites"
KIND_LABELS.setdefault(_SITE_KIND, "Kursorte")
COUNT_LABELS.setdefault("sites with childcare", "Kursorte mit Kinderbetreuung")

# --------------------------------------------------------------------------------------------
# Column names and their aliases (matched case-insensitively, umlauts and ß normalised,
# spaces/hyphens/dots/slashes treated alike). Keep docs/course-sites.md in step with this table.
# --------------------------------------------------------------------------------------------
_ALIASES: dict[str, tuple[str, ...]] = {
    "site_id": ("Standort-ID", "Standort-Nr", "Standortnummer", "Kursort-ID", "Kursort-Nr",
                "Standortkennung"),
    "provider": ("Kursträger", "Träger", "Traeger", "Anbieter", "Bildungsträger", "Kursanbieter",
                 "Einrichtung"),
    "site_name": ("Standort", "Standortname", "Kursort", "Name", "Name des Standorts"),
    "address": ("Adresse", "Anschrift"),
    "street": ("Straße", "Strasse", "Str", "Straße und Hausnummer", "Straße/Hausnummer",
               "Hausanschrift"),
    "postcode": ("PLZ", "Postleitzahl"),
    "city": ("Ort", "Stadt", "Gemeinde"),
    "lon": ("Längengrad", "Länge", "Lng", "Longitude"),
    "lat": ("Breitengrad", "Breite", "Latitude"),
    "x": ("Rechtswert", "Ostwert", "Easting"),
    "y": ("Hochwert", "Nordwert", "Northing"),
    "crs": ("Koordinatensystem", "Bezugssystem", "EPSG"),
    "phone": ("Telefon", "Tel", "Telefonnummer", "Tel-Nr", "Telefon-Nr", "Fon", "Phone"),
    "email": ("E-Mail", "Mail", "Email", "E-Mail-Adresse", "Mailadresse"),
    "web": ("Internet", "Webseite", "Website", "URL", "Homepage", "Internetseite",
            "Internetadresse", "Web"),
    "course_id": ("Kurs-ID", "Kursnummer", "Kurs-Nr", "Kurskennung"),
    "course_type": ("Kursart", "Kurstyp", "Kursformat", "Art des Kurses"),
    "weekdays": ("Wochentage", "Tage", "Kurstage", "Unterrichtstage", "Wochentag"),
    "start_time": ("Uhrzeit von", "von", "Startzeit", "Unterrichtsbeginn", "Zeit von",
                   "Kurszeit von", "Unterrichtszeit von", "Beginn Uhrzeit", "Uhrzeit Beginn",
                   "Beginnzeit", "Anfang"),
    "end_time": ("Ende", "Uhrzeit bis", "bis", "Endzeit", "Unterrichtsende", "end", "Zeit bis",
                 "Kurszeit bis", "Unterrichtszeit bis", "Ende Uhrzeit", "Uhrzeit Ende",
                 "Schluss"),
    "time_range": ("Kurszeiten", "Unterrichtszeiten", "Uhrzeiten"),
    "childcare": ("Kinderbetreuung", "Kinderbeaufsichtigung", "mit Kinderbetreuung",
                  "Kinderbetreuung vorhanden"),
    "capacity": ("Plätze", "Kapazität", "Kursplätze", "Teilnehmerplätze", "Plätze gesamt",
                 "max. Teilnehmer", "Höchstteilnehmerzahl"),
    "free_places": ("freie Plätze", "Freiplätze", "freie Kursplätze", "noch frei",
                    "verfügbare Plätze"),
    "next_start": ("nächster Kursbeginn", "nächster Kursstart", "nächster Start",
                   "Startdatum", "Beginndatum", "Starttermin", "Kursbeginn Datum",
                   "Beginn Datum", "nächster Termin"),
    "schedule": ("Zeitform", "Kursform", "Unterrichtsform"),
    "notes": ("Bemerkungen", "Bemerkung", "Hinweise", "Anmerkungen", "Notizen", "Kommentar",
              "Sonstiges"),
    "as_of": ("Stand", "Datenstand", "Stand vom", "Stand der Liste", "aktualisiert"),
}
# Headers whose meaning depends on what the column holds (times, dates or time ranges): the
# candidates in order of preference; the first whose content fits is taken.
_AMBIGUOUS: dict[str, tuple[str, ...]] = {
    "Beginn": ("start_time", "next_start"),
    "start": ("start_time", "next_start"),
    "Kursbeginn": ("next_start", "start_time"),
    "Kursstart": ("next_start", "start_time"),
    "Kursende": ("end_time",),
    "Uhrzeit": ("time_range", "start_time"),
    "Zeit": ("time_range", "start_time"),
    "Kurszeit": ("time_range", "start_time"),
    "Unterrichtszeit": ("time_range", "start_time"),
    "time": ("time_range", "start_time"),
}
_REQUIRED = ("site_id", "provider", "course_type", "weekdays", "start_time", "end_time")
_SITE_TEXT = ("provider", "site_name", "address", "street", "postcode", "city")
_CONTACT = ("phone", "email", "web")
# Text shown on maps and in tables: checked for markup and spreadsheet formulas.
_SHOWN_TEXT = ("provider", "site_name", "address", "street", "postcode", "city", "notes")

# Course type names as lists write them (normalised) -> code.
_TYPE_SYNONYMS: dict[str, str] = {
    "integrationskurs": "allgemein",
    "allgemeiner_integrationskurs": "allgemein",
    "allgemeiner_kurs": "allgemein",
    "intensivkurs": "intensiv",
    "intensiv_integrationskurs": "intensiv",
    "jugendintegrationskurs": "jugend",
    "jugendkurs": "jugend",
    "elternkurs": "eltern",
    "elternintegrationskurs": "eltern",
    "frauenkurs": "frauen",
    "frauenintegrationskurs": "frauen",
    "alphabetisierung": "alpha",
    "alphabetisierungskurs": "alpha",
    "alphakurs": "alpha",
    "integrationskurs_mit_alphabetisierung": "alpha",
    "zweitschriftlerner": "zweitschrift",
    "zweitschriftlernende": "zweitschrift",
    "zweitschriftlernerkurs": "zweitschrift",
    "foerderkurs": "foerder",
}

# --------------------------------------------------------------------------------------------
# Messages (German): what was expected per column, and every message template in one place.
# ``{value}`` is the cell as written; other fields are filled in where the check is made.
# --------------------------------------------------------------------------------------------
_EXPECT = {
    "site_id": "eine Kennung des Kursorts, z. B. S01",
    "provider": "den Namen des Kursträgers",
    "lon": "eine geographische Länge in Dezimalgrad (WGS84), z. B. 12,1289",
    "lat": "eine geographische Breite in Dezimalgrad (WGS84), z. B. 47,8561",
    "x": "einen Rechtswert im Koordinatensystem der Spalte crs, z. B. 727000,5 bei EPSG:25832",
    "y": "einen Hochwert im Koordinatensystem der Spalte crs, z. B. 5304000,5 bei EPSG:25832",
    "crs": "das Koordinatensystem von x/y, z. B. EPSG:25832, als Spalte crs bzw. "
           "Koordinatensystem oder als Option crs=",
    "course_type": "eine Kursart",
    "weekdays": "Wochentage wie Mo-Fr, Mo,Mi,Fr, Di+Do, Mon,Tue oder 1111100",
    "start_time": "eine Uhrzeit HH:MM, z. B. 08:30",
    "end_time": "eine Uhrzeit HH:MM, z. B. 12:00",
    "time_range": "Beginn und Ende HH:MM-HH:MM, z. B. 08:30-12:45",
    "childcare": "ja/nein, yes/no, x oder leer, 1/0, wahr/falsch",
    "capacity": "eine ganze Zahl ab 0",
    "free_places": "eine ganze Zahl ab 0",
    "next_start": "TT.MM.JJJJ oder JJJJ-MM-TT",
    "as_of": "TT.MM.JJJJ oder JJJJ-MM-TT",
    "schedule": "vollzeit, teilzeit oder abend (oder leer, dann wird sie abgeleitet)",
}
_MSG = {
    # the file
    "not_found": "gibt es nicht",
    "is_folder": "ist ein Ordner (erwartet {a_list})",
    "empty_file": "ist leer (0 Bytes; erwartet {a_list})",
    "blank_only": "enthält nur leere Zeilen (erwartet {a_list})",
    "no_rows": "hat eine Kopfzeile, aber keine {rows} (erwartet eine Zeile je {one})",
    "xls": "ist eine alte Excel-97-2003-Arbeitsmappe (.xls), die nicht gelesen wird (erwartet "
           ".xlsx: in Excel als 'Excel-Arbeitsmappe (.xlsx)' oder als CSV speichern)",
    "bad_suffix": "hat die Endung {suffix}, kein Format für {lists} (erwartet .csv, .xlsx, "
                  ".geojson oder .gpkg)",
    "not_text": "ist keine Textdatei (CSV): sie sieht aus wie {what} (erwartet {a_list} "
                "als CSV)",
    "not_utf16": "sieht aus wie UTF-16-Text, lässt sich aber nicht so lesen ({reason}); als "
                 "'CSV UTF-8' speichern",
    "not_xlsx": "ist keine Excel-Arbeitsmappe (.xlsx): sie sieht aus wie {what}",
    "bad_zip": "ist keine lesbare Excel-Arbeitsmappe (.xlsx): {reason}",
    "zip_not_xlsx": "ist ein Zip-Archiv, aber keine Excel-Arbeitsmappe (.xlsx ohne "
                    "xl/workbook.xml)",
    "xlsx_unreadable": "lässt sich nicht als Excel-Arbeitsmappe lesen ({reason})",
    "empty_sheet": "Tabellenblatt {sheet!r} ist leer (erwartet {a_list})",
    "no_sheets": "hat keine {what} (erwartet {a_list})",
    "no_such_number": "hat kein {what} Nummer {number} (ab 0 gezählt; vorhanden: {count}: "
                      "{names})",
    "no_such_name": "hat kein {what} {name!r} (erwartet eines von {names})",
    "not_gpkg": "ist kein GeoPackage: es sieht aus wie {what}",
    "not_geojson": "ist keine GeoJSON-Datei: sie sieht aus wie {what} (erwartet eine "
                   "JSON-FeatureCollection von Punkten)",
    "features_unreadable": "lässt sich nicht als Geodatei lesen ({reason})",
    "no_features": "hat keine Objekte (erwartet einen Punkt je {one})",
    "no_crs": "hat kein Koordinatensystem (Option crs= angeben, z. B. 'EPSG:25832')",
    # options
    "as_of_option": "Option as_of {value!r} ist kein Datum (erwartet {expected})",
    "crs_option": "Option crs {value!r} ist kein bekanntes Koordinatensystem (erwartet z. B. "
                  "EPSG:25832)",
    "id_alias_taken": "Option id_aliases: {alias!r} ist schon der Name der Spalte {canon} "
                      "(erwartet einen Spaltennamen, der sonst nichts bedeutet)",
    "rule_range": "ScheduleRule.{name} {value!r} liegt außerhalb des Bereichs (erwartet {expected})",
    "rule_evening": "Sekunden nach Mitternacht von 0 bis 86399",
    "rule_days": "0 bis 7 Tage",
    "rule_hours": "0 bis 24 Stunden",
    # columns
    "missing_column": "fehlt als Spalte (erwartet eine Spalte {canon} oder {aliases})",
    "missing_coordinates": "fehlen als Spalten (erwartet Spalten lon und lat (WGS84) oder x und y "
                           "mit Koordinatensystem; deutsch Längengrad/Breitengrad oder "
                           "Rechtswert/Hochwert)",
    "empty_column": "ist in allen Zeilen leer (erwartet in jeder Zeile {expected})",
    "duplicate_column": "bedeutet dasselbe wie Spalte {other!r} ({canon}) (erwartet jede Spalte "
                        "einmal)",
    "no_childcare_column": "fehlt als Spalte: kein {one} gilt als {one} mit Kinderbetreuung "
                           "(erwartet Kinderbetreuung ja/nein je {one})",
    "field_count": "hat {n} Felder, die Kopfzeile aber {k} (erwartet einen Wert je Spalte{hint})",
    "comma_hint": "; bei ',' als Trennzeichen müssen Zahlen mit Dezimalkomma in "
                  "Anführungszeichen stehen – oder ';' verwenden",
    # values
    "missing_value": "fehlt (erwartet {expected})",
    "missing_coordinate": "fehlt (erwartet {expected}, oder x/y mit Koordinatensystem)",
    "missing_geometry": "fehlt (erwartet einen Punkt)",
    "bad_geometry": "ist ein {kind} (erwartet einen Punkt)",
    "bad_number_coordinate": "'{value}' ist keine Zahl (erwartet {expected})",
    "coordinate_range": "'{value}' liegt außerhalb des Wertebereichs (erwartet eine {what} "
                        "zwischen -{limit} und {limit})",
    "what_lon": "geographische Länge",
    "what_lat": "geographische Breite",
    "bad_crs": "'{value}' ist kein bekanntes Koordinatensystem (erwartet z. B. EPSG:25832)",
    "xy_convert": "'{value}' / y '{y}' lässt sich nicht von {crs} in Länge und Breite umrechnen "
                  "(erwartet Koordinaten in diesem System)",
    "bad_course_type": "'{value}' ist keine bekannte Kursart (erwartet eine von {allowed}; "
                       "andere als 'sonstig:<Bezeichnung>')",
    "bad_weekdays": "'{value}' ist keine Angabe von Wochentagen (erwartet {expected})",
    "bad_time": "'{value}' ist keine Uhrzeit (erwartet HH:MM)",
    "bad_time_range": "'{value}' ist keine Zeitspanne (erwartet {expected})",
    "end_before_start": "'{value}' liegt nicht nach dem Beginn '{start}' (erwartet ein Ende nach "
                        "dem Beginn)",
    "bad_childcare": "'{value}' ist weder ja noch nein (erwartet {expected})",
    "bad_number": "'{value}' ist keine ganze Zahl ab 0 (erwartet {expected})",
    "free_over_capacity": "'{value}' ist mehr als die Plätze '{capacity}' (erwartet höchstens so "
                          "viele freie Plätze wie Plätze)",
    "bad_date": "'{value}' ist kein Datum (erwartet {expected})",
    "bad_schedule": "'{value}' ist keine Zeitform (erwartet {expected})",
    "duplicate_course_id": "'{value}' kommt noch einmal vor (zuerst in Zeile {first}; erwartet "
                           "eine eindeutige Kennung je Kurs{generated})",
    "generated_id": ", hier als Standort-ID-n vergeben",
    "duplicate_site_id": "'{value}' kommt noch einmal vor (zuerst in Zeile {first}; erwartet "
                         "eine Zeile je Kursort mit eigener Kennung)",
    "site_differs": "'{value}' weicht von Zeile {first} ab ('{first_value}') bei Standort-ID "
                    "'{site}' (erwartet dieselbe Angabe in jeder Zeile eines Kursorts)",
    "contact_differs": "'{value}' weicht von Zeile {first} ab ('{first_value}') bei Standort-ID "
                       "'{site}'; der Wert aus Zeile {first} wird verwendet",
    "outside_germany": "{value}, lat {lat} des Kursorts '{site}' liegt außerhalb Deutschlands "
                       "(erwartet {west}–{east}° O, {south}–{north}° N){swapped}",
    "swapped": "; Breite und Länge scheinen vertauscht",
    "at_lon_xy": "x/y bei lon",
    "at_lon_geometry": "geometry bei lon",
    "warnings_log": "{file}: {n} Warnung(en), z. B. {examples}",
    "start_before_as_of": "'{value}' liegt vor dem Stand der Liste {as_of} (der Kurs hat "
                          "vielleicht schon begonnen)",
    # the list's date (Stand)
    "no_as_of": "ist unbekannt (erwartet eine Spalte Stand bzw. as_of, ein Datum 'Stand "
                "TT.MM.JJJJ' in der Titelzeile oder die Option as_of=); die Liste wird ohne "
                "Stand gelesen",
    "bad_as_of": "'{value}' ist kein Datum (erwartet {expected}); der Stand bleibt unbekannt, "
                 "wenn keine Zeile ein Datum nennt",
    "as_of_differs": "'{value}' weicht von Zeile {first} ab ('{first_value}'; erwartet ein "
                     "Datum für die ganze Liste); als Stand gilt das früheste Datum {earliest}",
    # contact
    "bad_phone": "'{value}' sieht nicht wie eine Telefonnummer aus (erwartet Ziffern, "
                 "Leerzeichen und + - / ( ), z. B. 08031 365-1450); der Wert wird nicht "
                 "übernommen",
    "bad_email": "'{value}' sieht nicht wie eine E-Mail-Adresse aus (erwartet name@beispiel.de); "
                 "der Wert wird nicht übernommen",
    "bad_web": "'{value}' sieht nicht wie eine Webadresse aus (erwartet z. B. "
               "www.vhs-beispiel.de oder https://www.vhs-beispiel.de); der Wert wird nicht "
               "übernommen",
    # markup and formulas
    "risky_text": "{count} Wert(e) {what}, z. B. {examples}; sie werden unverändert übernommen "
                  "und als reiner Text angezeigt",
    "risky_markup": "enthalten Markup (<, >, javascript:)",
    "risky_formula": "beginnen wie eine Tabellenformel (=, +, -, @, Tabulator, Wagenrücklauf)",
    # notes
    "note_encoding": "nicht UTF-8 (erstes Zeichen außerhalb UTF-8 in Zeile {line}): als "
                     "{encoding} gelesen, wie deutsches Excel 'CSV (Trennzeichen-getrennt)' "
                     "schreibt; als 'CSV UTF-8' speichern, um das zu vermeiden",
    "note_utf16": "als UTF-16-Text gelesen ({bom}; Excel 'Unicode-Text')",
    "note_header": "Kopfzeile in Zeile {line}; die Zeilen darüber wurden übersprungen",
    "note_sheet_header": "Tabellenblatt {sheet!r}: Kopfzeile in Zeile {line}; die Zeilen "
                         "darüber wurden übersprungen",
    "note_empty": "{n} leere Zeile(n) übersprungen (z. B. {examples})",
    "note_comments": "{n} Kommentarzeile(n) (beginnend mit #) übersprungen (z. B. {examples})",
    "note_layer": "Ebene {layer!r} von {n} gelesen ({names})",
    "note_unused": "nicht verwendete Spalten: {columns}",
    "note_unused_range": "Spalte {column!r} nicht verwendet (Beginn und Ende stehen in eigenen "
                         "Spalten)",
    "note_time_range": "Beginn und Ende aus der Spalte {column!r} (HH:MM-HH:MM) gelesen",
    "note_ambiguous": "Spalte {column!r} als {canon} gelesen (sie enthält {what})",
    "note_as_of_option": "Stand aus der Option as_of ({option}) statt des Stands der Liste "
                         "({file})",
    "note_as_of_title": "Stand {date} aus der Titelzeile (Zeile {line}) übernommen",
    "note_schedule": "Zeitform für {n} Kurs(e) abgeleitet (abend ab {evening}; teilzeit bis "
                     "{days} Tage oder {hours} Stunden am Tag; sonst vollzeit)",
    "note_filled": "{n} leere Standortzelle(n) aus anderen Zeilen derselben Standort-ID ergänzt",
    "note_web": "https:// ergänzt bei {n} Webadresse(n) ohne Schema",
    "note_mailto": "'mailto:' entfernt bei {n} E-Mail-Adresse(n)",
}
_CONTENT_WORDS = {"start_time": "Uhrzeiten", "end_time": "Uhrzeiten", "next_start": "Daten",
                  "time_range": "Zeitspannen"}

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
    (b"\x89PNG", "ein PNG-Bild"),
    (b"\xff\xd8\xff", "ein JPEG-Bild"),
    (b"GIF8", "ein GIF-Bild"),
    (b"%PDF", "ein PDF-Dokument"),
    (b"PK\x03\x04", "ein Zip-Archiv oder eine Excel-Arbeitsmappe (.xlsx)"),
    (b"\xd0\xcf\x11\xe0", "eine alte Excel-97-2003-Arbeitsmappe (.xls) oder eine andere "
                          "Office-Datei"),
    (b"SQLite format 3\x00", "eine SQLite-Datenbank oder ein GeoPackage (.gpkg)"),
    (b"\x1f\x8b", "ein gzip-Archiv"),
)
_MARKUP = r"[<>]|javascript\s*:"
_FORMULA_START = r"[=+\-@]"
_EMAIL = r"[^@\s<>()\[\],;:\"']+@[^@\s<>()\[\],;:\"']+\.[A-Za-z]{2,}"
_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
_WEB = rf"https?://{_HOST}\.[A-Za-z]{{2,}}(?::\d+)?(?:[/?#][^\s<>\"]*)?"
_PHONE = r"[0-9 +()/.\-–]+"
_RANGE = r"^\s*(\S+?)\s*(?:[-\u2010-\u2015]|\bbis\b)\s*(\S+?)\s*(?:uhr)?\s*$"
_TITLE_AS_OF = r"(?i)\bstand\b\s*(?:vom\s*|:\s*)?(\d{1,2}\.\d{1,2}\.\d{4}|\d{4}-\d{2}-\d{2})"


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
        Most hours per day of a part-time course (default 2.5: full-time courses have 4-5
        lessons of 45 min a day).

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
        for name, value, low, high, expected in (
            ("evening_start", self.evening_start, 0, 86_399, "rule_evening"),
            ("part_time_max_days", self.part_time_max_days, 0, 7, "rule_days"),
            ("part_time_max_hours", self.part_time_max_hours, 0, 24, "rule_hours"),
        ):
            if not low <= value <= high:
                raise ConfigError(_MSG["rule_range"].format(name=name, value=value,
                                                            expected=_MSG[expected]))


@dataclass(frozen=True, eq=False)
class CourseList:
    """Course sites and their courses, as read by :func:`read_courses`.

    Attributes
    ----------
    sites
        One row per site, in EPSG:25832: ``site_id`` (str), ``provider`` (str), ``site_name``
        (str or NA), ``address`` (str or NA; built from street, postcode and city when the list
        has no address column), ``phone``, ``email``, ``web`` (str or NA; checked: a value
        that does not look like one is dropped with a warning, a web address without scheme
        gets ``https://``), ``lon``, ``lat`` (float, WGS84 degrees), ``geometry`` (Point,
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
        The date the list is as of (its ``Stand``), or None when unknown ("Stand unbekannt").
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
            A date (``datetime.date``, ``pandas.Timestamp`` or a text "2026-03-03" or
            "03.03.2026").

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
        >>> courses = read_courses(demo.courses)
        >>> tuesday = courses.courses_on(dt.date(2026, 3, 3))
        >>> tuesday[["course_id", "schedule", "weekdays"]]
           course_id  schedule weekdays
        0     KS01-1  vollzeit  1111100
        2     KS02-1  vollzeit  1111100
        3     KS02-2  vollzeit  1111100
        4     KS03-1  vollzeit  1111100
        5     KS03-2  vollzeit  1111100
        6     KS04-1  teilzeit  1101000
        7     KS05-1  teilzeit  0101000
        8     KS06-1  vollzeit  1111100
        10    KS07-1  vollzeit  1111100
        11    KS07-2  vollzeit  1111100
        """
        weekday = (parse_date(day) if isinstance(day, str) else pd.Timestamp(day)).weekday()
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
        >>> read_courses(demo.courses).to_geodataframe().crs.to_epsg()
        25832
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
        The course list: ``.csv``/``.txt``/``.tsv``, ``.xlsx``/``.xlsm``,
        ``.geojson``/``.json`` or ``.gpkg``. The columns are documented in
        ``docs/course-sites.md``.
    crs
        The coordinate reference system of ``x``/``y`` columns (e.g. ``"EPSG:25832"``) where the
        list has no ``crs`` column or leaves it empty; for a GeoPackage layer without a CRS, the
        CRS of its points.
    sheet
        The sheet of a workbook (name or 0-based index; default the first sheet) or the layer of a
        GeoPackage (default the first layer).
    as_of
        The date the list is as of; replaces the file's ``as_of``/``Stand`` column. When neither
        is given (nor a date "Stand TT.MM.JJJJ" in a title row), :attr:`CourseList.as_of` is None
        and the report warns.
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
        value is unusable; missing columns and the problems of the rows are listed together.
    InputError
        If the ``as_of`` or ``crs`` option is not a date or CRS.

    Examples
    --------
    >>> courses = read_courses(demo.courses, as_of="2026-03-01")
    >>> courses.sites.crs.to_epsg(), len(courses.sites), len(courses.courses)
    (25832, 8, 13)
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
        raise data_error(report.errors, path=path)
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
        column (the same as :func:`read_courses` finds); an unreadable or empty file is one
        error.

    Raises
    ------
    InputError
        Only if the ``as_of`` or ``crs`` option itself is bad; bad data never raises.

    Examples
    --------
    >>> report = validate_courses(demo.courses)
    >>> report.ok
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
        report = ValidationReport(source=str(p), kind=_KIND, lang="de")
        report.error(p.name, None, None, exc.message, "unreadable")
    return report


def read_sites(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    crs: str | int | CRS | None = None,
    id_aliases: Iterable[str] = (),
) -> gpd.GeoDataFrame:
    """Read a list of sites without courses (CSV, XLSX, GeoJSON or GeoPackage).

    A site list has one row per site and the site columns of a course list (id, provider,
    name, address or street/postcode/city, phone, e-mail, web, coordinates) plus a childcare
    column (``Kinderbetreuung`` ja/nein), with the same formats, encodings, title and comment
    rows, aliases, coordinate checks and German messages as :func:`read_courses`
    (``docs/course-sites.md``). Only the site id and the coordinates are required.

    Parameters
    ----------
    path
        The site list: ``.csv``/``.txt``/``.tsv``, ``.xlsx``/``.xlsm``, ``.geojson``/``.json``
        or ``.gpkg``.
    sheet
        The sheet of a workbook (name or 0-based index; default the first sheet) or the layer of
        a GeoPackage (default the first layer).
    crs
        The coordinate reference system of ``x``/``y`` columns where the list has no ``crs``
        column or leaves it empty; for a GeoPackage layer without a CRS, the CRS of its points.
    id_aliases
        Further header names read as the site id (e.g. ``["Kandidat", "id"]``), beside
        ``site_id``, ``Standort-ID`` and the other aliases; a name that already means another
        column is refused.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per site in file order, EPSG:25832, the columns of :data:`SITE_COLUMNS`:
        ``site_id`` (str), ``site_name``, ``provider``, ``address`` (str or NA; the address is
        built from street, postcode and city where the list has no address column), ``phone``,
        ``email``, ``web`` (str or NA; checked as in :func:`read_courses`), ``has_childcare``
        (bool; False where the column is absent, with a warning), ``lon``, ``lat`` (float,
        WGS84 degrees), ``line`` (int: line of the file, spreadsheet row or feature number),
        ``geometry`` (Point, metres).

    Raises
    ------
    InputFormatError
        If the file does not exist, is empty ("leer"), has only a header, or is not what its
        extension says.
    DataValidationError
        Listing every problem (file, line, column and what was expected): no site id or
        coordinate columns, empty or repeated site ids, missing or unusable coordinates,
        childcare values other than yes/no.
    InputError
        If the ``crs`` option is not a CRS; :class:`~kurszugang.errors.ConfigError` if an
        ``id_aliases`` name already means another column.

    Examples
    --------
    >>> _ = Path("standorte.csv").write_text(
    ...     "site_id;site_name;lon;lat;childcare\\n"
    ...     "A;Rathaus Beispielstadt;12.4478;49.3004;ja\\n"
    ...     "B;Pfarrheim Annahmsdorf;12.3921;49.2706;nein\\n", encoding="utf-8")
    >>> sites = read_sites("standorte.csv")
    >>> sites[["site_id", "has_childcare"]]
      site_id  has_childcare
    0       A           True
    1       B          False
    """
    sites, report = _read_sites(Path(path), crs=crs, sheet=sheet, id_aliases=id_aliases)
    if sites is None:
        raise data_error(report.errors, path=path)
    return sites


def validate_sites(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    crs: str | int | CRS | None = None,
    id_aliases: Iterable[str] = (),
) -> ValidationReport:
    """Check a site list and report every problem without raising.

    Parameters
    ----------
    path
        The site list (see :func:`read_sites`).
    sheet, crs, id_aliases
        As for :func:`read_sites`.

    Returns
    -------
    ValidationReport
        Counts (rows, sites, sites with childcare), notes, and every error and warning with
        file, line and column (the same as :func:`read_sites` finds); an unreadable or empty
        file is one error.

    Raises
    ------
    InputError
        Only if the ``crs`` or ``id_aliases`` option itself is bad; bad data never raises.

    Examples
    --------
    >>> validate_sites(demo.courses).ok  # one row per course, not per site
    False
    >>> _ = Path("standorte.csv").write_text(
    ...     "site_id;lon;lat\\nA;12.4478;49.3004\\n", encoding="utf-8")
    >>> validate_sites("standorte.csv").ok
    True
    """
    p = Path(path)
    try:
        _, report = _read_sites(p, crs=crs, sheet=sheet, id_aliases=id_aliases)
    except InputFormatError as exc:
        report = ValidationReport(source=str(p), kind=_SITE_KIND, lang="de")
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
# Column names
# --------------------------------------------------------------------------------------------
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


# normalised header -> candidate canonical names (one for an unambiguous header)
_LOOKUP: dict[str, tuple[str, ...]] = {}
for _canon, _names in _ALIASES.items():
    _LOOKUP[_canon] = (_canon,)
    for _name in _names:
        _LOOKUP[_norm(_name)] = (_canon,)
for _name, _candidates in _AMBIGUOUS.items():
    _LOOKUP[_norm(_name)] = _candidates
#: German name of every column, for messages about a column the list does not have.
_GERMAN_NAME = {canon: names[0] for canon, names in _ALIASES.items()}
_GERMAN_NAME.update(start_time="Beginn", end_time="Ende", next_start="nächster Kursbeginn")


def _course_columns_in(row: Sequence[object]) -> int:
    """How many cells of a row are course-list column names (a header has at least two)."""
    return sum(_norm(v) in _LOOKUP for v in row)


# Columns only a course list has (a boundary or address table may have names and places too).
_COURSE_SPECIFIC = frozenset(("site_id", "provider", "course_id", "course_type", "weekdays",
                              "start_time", "end_time", "time_range", "childcare", "capacity",
                              "free_places", "next_start", "schedule"))


def _looks_like_course_header(row: Sequence[object]) -> bool:
    """Whether a row is the header of a course list: two known column names, at least one of
    them one that only course lists have (used to tell the kind of a file)."""
    canons = [c for v in row for c in _LOOKUP.get(_norm(v), ())]
    return _course_columns_in(row) >= 2 and bool(_COURSE_SPECIFIC.intersection(canons))


def _named(canon: str) -> str:
    """A column the list lacks, as it is named in messages: German name and canonical name."""
    return f"{_GERMAN_NAME.get(canon, canon)} ({canon})"


@dataclass(frozen=True)
class _Schema:
    """What kind of list is read: its columns, the required ones, and how messages name it."""

    kind: str  # ValidationReport.kind
    lookup: dict[str, tuple[str, ...]]  # normalised header -> candidate canonical names
    aliases: dict[str, tuple[str, ...]]  # canonical name -> other names, for messages
    required: tuple[str, ...]
    a_list: str  # what the file should be: "eine Kursliste"
    lists: str  # plural: "Kurslisten"
    rows: str  # its records: "Kurszeilen"
    one: str  # what one record is: "Kurs"

    def msg(self, key: str, **fields: object) -> str:
        """The message ``_MSG[key]`` filled with ``fields`` and this kind's words."""
        return _MSG[key].format(a_list=self.a_list, lists=self.lists, rows=self.rows,
                                one=self.one, **fields)


_COURSE_LIST = _Schema(kind=_KIND, lookup=_LOOKUP, aliases=_ALIASES, required=_REQUIRED,
                       a_list="eine Kursliste", lists="Kurslisten", rows="Kurszeilen",
                       one="Kurs")
# The columns a site list is read with: a course list's site columns and a childcare flag.
_SITE_LIST_COLUMNS = ("site_id", "provider", "site_name", "address", "street", "postcode",
                      "city", "lon", "lat", "x", "y", "crs", *_CONTACT, "childcare")


def _site_schema(id_aliases: Iterable[str]) -> _Schema:
    """The schema of a site list; ``id_aliases`` are further names of the site id column."""
    aliases = {canon: _ALIASES[canon] for canon in _SITE_LIST_COLUMNS}
    lookup = {key: canons for key, canons in _LOOKUP.items() if canons[0] in aliases}
    extra = tuple(dict.fromkeys(a.strip() for a in map(str, id_aliases) if _norm(a)))
    for alias in extra:
        taken = _LOOKUP.get(_norm(alias))  # course columns too: 'Kursart' names no site
        if taken is not None and taken != ("site_id",):
            raise ConfigError(_MSG["id_alias_taken"].format(alias=alias, canon=taken[0]))
        lookup[_norm(alias)] = ("site_id",)
    aliases["site_id"] = (*extra, *aliases["site_id"])  # the caller's names first
    return _Schema(kind=_SITE_KIND, lookup=lookup, aliases=aliases, required=("site_id",),
                   a_list="eine Liste von Kursorten", lists="Listen von Kursorten",
                   rows="Zeilen mit Kursorten", one="Kursort")


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
    titles: list[tuple[int, str]] = field(default_factory=list)  # (line, text) above the header
    header_line: int | None = 1  # None for feature files
    leading_ctrl: np.ndarray | None = None  # cells beginning with a tab or CR before stripping


def _binary_kind(head: bytes) -> str | None:
    """What a file's first bytes say it is, if it is not text."""
    for signature, what in _BINARY_SIGNATURES:
        if head.startswith(signature):
            return what
    if b"\x00" in head:
        return "Binärdaten"
    return None


def _load_table(
    path: Path, *, sheet: str | int | None, crs: CRS | None, report: ValidationReport,
    schema: _Schema,
) -> _Table:
    """Any supported file as one table of text cells, its header found by ``schema``."""
    if not path.exists():
        raise InputFormatError(_MSG["not_found"], path=path)
    if path.is_dir():
        raise InputFormatError(schema.msg("is_folder"), path=path)
    if path.stat().st_size == 0:
        raise InputFormatError(schema.msg("empty_file"), path=path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        return _load_csv(path, report, schema)
    if suffix in (".xlsx", ".xlsm"):
        return _load_xlsx(path, sheet, report, schema)
    if suffix in (".geojson", ".json", ".gpkg"):
        return _load_features(path, sheet, crs, report, schema)
    if suffix == ".xls":
        raise InputFormatError(_MSG["xls"], path=path)
    raise InputFormatError(schema.msg("bad_suffix", suffix=repr(suffix or "(keine)")),
                           path=path)


def _decode(raw: bytes, path: Path, report: ValidationReport, schema: _Schema) -> str:
    try:
        decoded = decode_text(raw)
    except UnicodeDecodeError as exc:
        raise InputFormatError(_MSG["not_utf16"].format(reason=exc.reason), path=path) from exc
    report.counts["encoding"] = decoded.encoding
    if decoded.encoding == "UTF-16":
        note = _MSG["note_utf16"].format(bom="mit BOM" if decoded.bom else "ohne BOM")
        report.notes.append(note)
        return decoded.text
    what = _binary_kind(raw[:4096])
    if what is not None:
        raise InputFormatError(schema.msg("not_text", what=what), path=path)
    if decoded.first_non_utf8_line is not None:
        note = _MSG["note_encoding"].format(line=decoded.first_non_utf8_line,
                                            encoding=decoded.encoding)
        report.notes.append(note)
        logger.info("%s: %s", path.name, note)
    return decoded.text


def _load_csv(path: Path, report: ValidationReport, schema: _Schema) -> _Table:
    text = _decode(path.read_bytes(), path, report, schema)
    if not text.strip():
        raise InputFormatError(schema.msg("blank_only"), path=path)
    offset = 0
    first, _, rest = text.partition("\n")
    sep_line = re.fullmatch(r'\s*"?sep=(.)"?[;,\t|]*\s*', first)
    if sep_line:  # Excel's "sep=;" first line
        sep = sep_line.group(1)
        text, offset = rest, 1
    else:  # the candidate found most often on one of the first lines (a title line has none)
        sep = sniff_separator(text.split("\n", 10)[:10])
    report.counts["separator"] = {"\t": "Tabulator"}.get(sep, sep)
    # The csv module parses quoting exactly as Excel writes it and keeps overlong rows, which
    # pandas' reader would drop or fold into an index.
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    if not rows:
        raise InputFormatError(schema.msg("blank_only"), path=path)
    h = _header_row(rows, schema.lookup)
    if h:
        report.notes.append(_MSG["note_header"].format(line=h + 1 + offset))
    header, records = rows[h], rows[h + 1 :]
    n_phys = text.count("\n") + (0 if text.endswith("\n") else 1)
    if len(rows) == n_phys:
        starts = np.arange(1, len(rows) + 1) + offset
    else:  # quoted line breaks inside cells: count the lines of each record
        starts = np.asarray(_record_lines(text, sep), dtype=np.int64) + offset
    _field_counts(records, header, starts[h + 1 :], sep, path, report)
    k = len(header)
    padded = [r[:k] if len(r) >= k else r + [""] * (k - len(r)) for r in records]
    data = pd.DataFrame(padded, columns=pd.Index(header), dtype=str)
    titles = [(int(starts[i]), " ".join(c for c in rows[i] if c.strip())) for i in range(h)]
    return _Table(data=data, lines=starts[h + 1 :], titles=titles, header_line=int(starts[h]))


def _field_counts(records: list[list[str]], header: list[str], lines: np.ndarray, sep: str,
                  path: Path, report: ValidationReport) -> None:
    """An error for each record with more (non-empty) fields than the header."""
    widths = np.fromiter(map(len, records), dtype=np.int64, count=len(records))
    hint = _MSG["comma_hint"] if sep == "," else ""
    for i in np.flatnonzero(widths > len(header)):
        if any(v.strip() for v in records[i][len(header):]):
            report.error(path.name, int(lines[i]), None,
                         _MSG["field_count"].format(n=widths[i], k=len(header), hint=hint),
                         "field_count")


def _header_row(rows: list[list[str]], lookup: dict[str, tuple[str, ...]]) -> int:
    """Index of the header among the first rows: the first naming two known columns, else 0.

    Hand-made lists often have a title row ("Kursliste Landkreis ..., Stand ...") or comment
    rows above the header. ``lookup`` holds the column names of the kind of list.
    """
    for i, row in enumerate(rows[:10]):
        if sum(_norm(v) in lookup for v in row) >= 2:
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


def _read_workbook(path: Path, sheet: str | int | None,
                   schema: _Schema) -> tuple[str, pd.DataFrame]:
    with path.open("rb") as fh:
        head = fh.read(4096)
    if not head.startswith(b"PK\x03\x04"):
        what = _binary_kind(head) or "eine Textdatei (eine in .xlsx umbenannte CSV-Datei?)"
        raise InputFormatError(_MSG["not_xlsx"].format(what=what), path=path)
    try:
        with zipfile.ZipFile(path) as zf:
            is_workbook = "xl/workbook.xml" in zf.namelist()
    except zipfile.BadZipFile as exc:
        raise InputFormatError(_MSG["bad_zip"].format(reason=exc), path=path) from exc
    if not is_workbook:
        raise InputFormatError(_MSG["zip_not_xlsx"], path=path)
    try:
        # openpyxl warns about workbook features it does not read (data validation, default
        # styles of files written by other programs); they do not affect cell values.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            with pd.ExcelFile(path, engine="openpyxl") as book:
                names = [str(n) for n in book.sheet_names]
                chosen = _choose(names, sheet, path, what="Tabellenblatt", schema=schema)
                raw = pd.read_excel(
                    book, sheet_name=chosen, header=None, dtype=str, keep_default_na=False
                )
    except InputFormatError:
        raise
    except Exception as exc:  # any reader failure means an unreadable workbook
        raise InputFormatError(_MSG["xlsx_unreadable"].format(reason=exc), path=path) from exc
    return chosen, raw


def _load_xlsx(path: Path, sheet: str | int | None, report: ValidationReport,
               schema: _Schema) -> _Table:
    chosen, raw = _read_workbook(path, sheet, schema)
    report.counts["sheet"] = chosen
    raw = raw.fillna("").astype(str)
    if raw.empty:
        raise InputFormatError(schema.msg("empty_sheet", sheet=chosen), path=path)
    h = _header_row(raw.head(10).to_numpy(dtype=str).tolist(), schema.lookup)
    if h:
        report.notes.append(_MSG["note_sheet_header"].format(sheet=chosen, line=h + 1))
    header = [str(v).strip() for v in raw.iloc[h]]
    data = raw.iloc[h + 1 :].reset_index(drop=True)
    data.columns = pd.Index(header)
    lines = np.arange(h + 2, h + 2 + len(data), dtype=np.int64)
    titles = [(i + 1, " ".join(c for c in raw.iloc[i] if str(c).strip())) for i in range(h)]
    return _Table(data=data, lines=lines, titles=titles, header_line=h + 1)


def _choose(names: list[str], wanted: str | int | None, path: Path, *, what: str,
            schema: _Schema) -> str:
    if not names:
        raise InputFormatError(schema.msg("no_sheets", what=what), path=path)
    if wanted is None:
        return names[0]
    if isinstance(wanted, int):
        if 0 <= wanted < len(names):
            return names[wanted]
        raise InputFormatError(_MSG["no_such_number"].format(
            what=what, number=wanted, count=len(names), names=", ".join(names)), path=path)
    by_lower = {n.lower(): n for n in names}
    if str(wanted).lower() in by_lower:
        return by_lower[str(wanted).lower()]
    raise InputFormatError(_MSG["no_such_name"].format(what=what, name=wanted,
                                                       names=", ".join(names)), path=path)


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


def _check_feature_file(path: Path) -> None:
    with path.open("rb") as fh:
        head = fh.read(4096)
    if path.suffix.lower() == ".gpkg":
        if not head.startswith(b"SQLite format 3\x00"):
            looks = _binary_kind(head) or "eine Textdatei"
            raise InputFormatError(_MSG["not_gpkg"].format(what=looks), path=path)
        return
    what = _binary_kind(head)
    if what is None and not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        what = "Text, der kein JSON ist"
    if what is not None:
        raise InputFormatError(_MSG["not_geojson"].format(what=what), path=path)


def _load_features(
    path: Path, layer: str | int | None, crs: CRS | None, report: ValidationReport,
    schema: _Schema,
) -> _Table:
    _check_feature_file(path)
    try:
        layers = gpd.list_layers(path)
        names = [str(n) for n in layers["name"]]
        chosen = _choose(names, layer, path, what="Ebene", schema=schema)
        if len(names) > 1 and layer is None:
            report.notes.append(_MSG["note_layer"].format(layer=chosen, n=len(names),
                                                          names=", ".join(names)))
        gdf = gpd.read_file(path, layer=chosen, engine="pyogrio")
    except InputFormatError:
        raise
    except Exception as exc:  # any reader failure means an unreadable file
        raise InputFormatError(_MSG["features_unreadable"].format(reason=exc),
                               path=path) from exc
    if len(gdf) == 0:
        raise InputFormatError(schema.msg("no_features"), path=path)
    geometry = gdf.geometry
    data = pd.DataFrame(
        {c: _as_text(gdf[c]) for c in gdf.columns if c != gdf.geometry.name}
    ).reset_index(drop=True)
    lines = np.arange(1, len(gdf) + 1, dtype=np.int64)
    missing = (geometry.isna() | geometry.is_empty).to_numpy()
    kinds = geometry.geom_type.fillna("").to_numpy(dtype=object)
    bad = ~missing & (kinds != "Point")
    for i in np.flatnonzero(bad):
        report.error(path.name, int(lines[i]), "geometry",
                     _MSG["bad_geometry"].format(kind=kinds[i]), "bad_geometry")
    lon = np.full(len(gdf), np.nan)
    lat = np.full(len(gdf), np.nan)
    usable = ~missing & ~bad
    source_crs = gdf.crs if gdf.crs is not None else crs
    if usable.any():
        if source_crs is None:
            raise InputFormatError(_MSG["no_crs"], path=path)
        points = gpd.GeoSeries(geometry[usable].to_numpy(), crs=source_crs).to_crs(WEB_CRS)
        lon[usable] = points.x.to_numpy()
        lat[usable] = points.y.to_numpy()
        report.counts["crs"] = CRS.from_user_input(source_crs).to_string()
    return _Table(data=data, lines=lines, geo_lon=lon, geo_lat=lat, geo_bad=bad,
                  header_line=None)


# --------------------------------------------------------------------------------------------
# Parsing and checking
# --------------------------------------------------------------------------------------------
class _Checker:
    """Records problems for masked rows, naming file, line and the column as written.

    The message is the template ``_MSG[key]`` filled per flagged row: a field given as a Series
    or array is taken at the row, any other value as it is.
    """

    def __init__(self, report: ValidationReport, file: str, lines: np.ndarray) -> None:
        self.report = report
        self.file = file
        self.lines = lines

    def rows(
        self,
        mask: np.ndarray | pd.Series,
        column: str | None,
        key: str,
        *,
        code: str | None = None,
        severity: str = "error",
        **fields: object,
    ) -> int:
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        if not idx.size:
            return 0
        per_row = {k: np.asarray(v, dtype=object) for k, v in fields.items()
                   if isinstance(v, pd.Series | np.ndarray)}
        fixed = {k: v for k, v in fields.items() if k not in per_row}
        add = self.report.error if severity == "error" else self.report.warning
        template = _MSG[key]
        for i in idx:
            text = template.format(**fixed, **{k: v[i] for k, v in per_row.items()})
            add(self.file, int(self.lines[i]), column, text, code or key)
        return int(idx.size)


@dataclass
class _Ctx:
    """What every check of one list needs: the columns found and where to report."""

    cols: dict[str, pd.Series]  # canonical name -> text cells (stripped, "" when empty)
    headers: dict[str, str]  # canonical name -> header as written
    check: _Checker
    report: ValidationReport
    file: str
    lines: np.ndarray
    n: int
    positions: dict[str, int] = field(default_factory=dict)  # canonical name -> column number
    from_range: bool = False  # start and end split from one column "08:30-12:45"
    _blank: pd.Series | None = None  # shared by every column the list lacks (never modified)

    def col(self, canon: str) -> pd.Series:
        """The column's text cells, or empty texts where the list has no such column."""
        if canon in self.cols:
            return self.cols[canon]
        if self._blank is None:
            self._blank = pd.Series([""] * self.n, dtype=str)
        return self._blank

    def label(self, canon: str) -> str:
        """The column as the list names it (its canonical name where the list lacks it)."""
        return self.headers.get(canon, canon)


def _content_fits(canon: str, text: pd.Series) -> bool:
    """Whether most non-empty cells of a column hold what ``canon`` needs."""
    given = text[text != ""]
    if given.empty:
        return False
    if canon == "next_start":
        ok = parse_date_series(given).notna().to_numpy()
    elif canon == "time_range":
        ok = _split_range(given)[2]
    else:
        ok = _clock_seconds(given)[1]
    return bool(ok.mean() > 0.5)


def _resolve(header: str, candidates: tuple[str, ...], text: pd.Series, found: dict[str, str],
             report: ValidationReport) -> str:
    """The canonical name of an ambiguous header, from what its column holds."""
    fitting = next((c for c in candidates if _content_fits(c, text)), None)
    if fitting is not None:
        if fitting != candidates[0]:  # read otherwise than the header usually means
            report.notes.append(_MSG["note_ambiguous"].format(
                column=header, canon=fitting, what=_CONTENT_WORDS.get(fitting, "Werte")))
        return fitting
    return next((c for c in candidates if c not in found), candidates[0])


def _map_columns(data: pd.DataFrame, file: str, report: ValidationReport,
                 header_line: int | None, lookup: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Canonical name -> position of its column; duplicates and unknown columns reported."""
    headers = [str(h) for h in data.columns]
    found: dict[str, str] = {}
    position: dict[str, int] = {}
    unused: list[str] = []
    order = sorted(range(len(headers)), key=lambda i: len(lookup.get(_norm(headers[i]), ())) > 1)
    for i in order:  # unambiguous headers first, then the ones told by their content
        header = headers[i]
        candidates = lookup.get(_norm(header))
        if candidates is None:
            if header.strip() and not header.startswith("Unnamed"):
                unused.append(header)
            continue
        canon = candidates[0]
        if len(candidates) > 1:
            canon = _resolve(header, candidates, data.iloc[:, i], found, report)
        if canon in found:
            report.error(file, header_line, header,
                         _MSG["duplicate_column"].format(other=found[canon], canon=canon),
                         "duplicate_column")
            continue
        found[canon] = header
        position[canon] = i
    if unused:
        report.notes.append(_MSG["note_unused"].format(columns=", ".join(unused)))
    return position


def _to_float(s: pd.Series) -> pd.Series:
    """Numbers with decimal point or decimal comma; NaN where empty or not a number."""
    return pd.to_numeric(s.str.replace(",", ".", regex=False), errors="coerce").astype(float)


def _clock_or_none(text: str) -> int:
    """Seconds after midnight of one clock time within a day, or -1."""
    try:
        seconds = parse_clock(text)
    except ValueError:
        return -1
    return seconds if seconds < 86_400 else -1


def _clock_seconds(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Seconds after midnight of "08:30", "8.30", "8,30", "08:30:00", "8 Uhr"; ok-mask.

    The forms are brought to HH:MM[:SS] and parsed with :func:`kurszugang.dates.parse_clock`,
    once per distinct text.
    """
    text = s.str.lower().str.replace(r"\s*uhr$", "", regex=True).str.strip()
    text = text.str.replace(r"^(\d{1,2})[.,h](\d{2})", r"\1:\2", regex=True)
    text = text.str.replace(r"^(\d{1,2}:\d{2})\.(\d{2})$", r"\1:\2", regex=True)
    text = text.str.replace(r"^(\d{1,2})$", r"\1:00", regex=True)
    uniques, codes = np.unique(text.to_numpy(dtype=str), return_inverse=True)
    parsed = np.array([_clock_or_none(u) for u in uniques], dtype=np.int64)
    seconds = parsed[codes.reshape(-1)] if len(text) else np.zeros(0, dtype=np.int64)
    ok = seconds >= 0
    return np.where(ok, seconds, 0).astype(np.int32), ok


def _split_range(s: pd.Series) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """Start and end text of "08:30-12:45", "8.30 – 12.45 Uhr", "08:30 bis 12:45"; ok-mask."""
    parts = s.str.lower().str.extract(_RANGE)
    start, end = parts[0].fillna(""), parts[1].fillna("")
    ok = _clock_seconds(start)[1] & _clock_seconds(end)[1]
    return start.astype(str), end.astype(str), ok


def _option_date(value: dt.date | str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError:
        raise InputError(_MSG["as_of_option"].format(value=value,
                                                     expected=_EXPECT["as_of"])) from None


def _parse_crs(value: str | int | CRS) -> CRS:
    text = str(value).strip()
    if re.fullmatch(r"\d{4,6}", text):
        text = f"EPSG:{text}"
    return CRS.from_user_input(value if isinstance(value, CRS) else text)


def _option_crs(value: str | int | CRS | None) -> CRS | None:
    if value is None:
        return None
    try:
        return _parse_crs(value)
    except CRSError as exc:
        raise InputError(_MSG["crs_option"].format(value=value)) from exc


def _examples(values: Sequence[object], n: int = 5) -> str:
    shown = ", ".join(str(v) for v in values[:n])
    return shown + (", …" if len(values) > n else "")


def _drop_skipped_rows(table: _Table, report: ValidationReport, path: Path,
                       schema: _Schema) -> _Table:
    """Drop empty rows and comment rows (first cell starting with ``#``), counted in notes."""
    raw = table.data
    data = pd.DataFrame({j: raw.iloc[:, j].str.strip() for j in range(raw.shape[1])})
    data.columns = raw.columns
    cells = data.to_numpy(dtype=str).reshape(len(data), raw.shape[1])
    filled = cells != ""
    first_cell = cells[np.arange(len(data)), filled.argmax(axis=1)] if raw.shape[1] else \
        np.full(len(data), "")
    empty = ~filled.any(axis=1)
    if table.geo_lon is not None and table.geo_bad is not None:
        empty = empty & ~np.isfinite(table.geo_lon) & ~table.geo_bad
    comment = ~empty & np.char.startswith(first_cell.astype(str), "#")
    for mask, key in ((empty, "note_empty"), (comment, "note_comments")):
        if mask.any():
            note = _MSG[key].format(n=int(mask.sum()), examples=_examples(table.lines[mask]))
            report.notes.append(note)
            logger.info("%s: %s", path.name, note)
    keep = ~empty & ~comment
    if not keep.any():
        raise InputFormatError(schema.msg("no_rows"), path=path)

    def kept(values: np.ndarray | None) -> np.ndarray | None:
        return values[keep] if values is not None else None

    ctrl = np.column_stack([raw.iloc[:, j].str.match(r"[\t\r]").fillna(False).to_numpy(bool)
                            for j in range(raw.shape[1])]) if raw.shape[1] else None
    return _Table(data=data[keep].reset_index(drop=True), lines=table.lines[keep],
                  geo_lon=kept(table.geo_lon), geo_lat=kept(table.geo_lat),
                  geo_bad=kept(table.geo_bad), titles=table.titles,
                  header_line=table.header_line, leading_ctrl=kept(ctrl))


def _context(table: _Table, path: Path, report: ValidationReport, schema: _Schema) -> _Ctx:
    file = path.name
    report.counts["rows"] = len(table.data)
    position = _map_columns(table.data, file, report, table.header_line, schema.lookup)
    headers = [str(h) for h in table.data.columns]
    cols = {canon: table.data.iloc[:, i].reset_index(drop=True) for canon, i in position.items()}
    ctx = _Ctx(cols=cols, headers={canon: headers[i] for canon, i in position.items()},
               check=_Checker(report, file, table.lines), report=report, file=file,
               lines=table.lines, n=len(table.data), positions=position)
    _split_time_range(ctx)
    return ctx


def _split_time_range(ctx: _Ctx) -> None:
    """Start and end from one column "08:30-12:45" where the list has no separate columns."""
    if "time_range" not in ctx.cols:
        return
    text = ctx.cols.pop("time_range")
    header = ctx.headers.pop("time_range")
    if "start_time" in ctx.cols or "end_time" in ctx.cols:
        ctx.report.notes.append(_MSG["note_unused_range"].format(column=header))
        return
    start, end, ok = _split_range(text)
    blank = (text == "").to_numpy()
    ctx.check.rows(blank, header, "missing_value", expected=_EXPECT["time_range"])
    ctx.check.rows(~ok & ~blank, header, "bad_time_range", value=text,
                   expected=_EXPECT["time_range"])
    ctx.cols["start_time"], ctx.cols["end_time"] = start, end
    ctx.headers["start_time"] = ctx.headers["end_time"] = header
    ctx.from_range = True  # the rows are checked above, as ranges
    ctx.report.notes.append(_MSG["note_time_range"].format(column=header))


def _check_columns(ctx: _Ctx, has_geometry: bool, schema: _Schema) -> set[str]:
    """Errors for required columns that are missing or empty; returns the names missing."""
    missing: set[str] = set()
    for canon in schema.required:
        if canon == "end_time" and ctx.from_range and "start_time" in missing:
            missing.add(canon)  # one column for both, reported once
        elif canon not in ctx.cols:
            aliases = ", ".join(schema.aliases[canon])
            ctx.report.error(ctx.file, None, _named(canon),
                             _MSG["missing_column"].format(canon=canon, aliases=aliases),
                             "missing_column")
            missing.add(canon)
        elif (ctx.cols[canon] == "").all():
            ctx.report.error(ctx.file, None, ctx.label(canon),
                             _MSG["empty_column"].format(expected=_EXPECT[canon]),
                             "empty_column")
            missing.add(canon)
    if not (has_geometry or {"lon", "lat", "x", "y"} & set(ctx.cols)):
        ctx.report.error(ctx.file, None, "lon/lat", _MSG["missing_coordinates"],
                         "missing_column")
        missing.add("coordinates")
    if "childcare" not in ctx.cols:
        ctx.report.warning(ctx.file, None, _named("childcare"),
                           schema.msg("no_childcare_column"), "missing_column")
    return missing


def _open(path: Path, report: ValidationReport, schema: _Schema, *, sheet: str | int | None,
          option_crs: CRS | None) -> tuple[_Table, _Ctx, set[str]]:
    """Load a list, skip its blank and comment rows, find its columns and check the required.

    Returns the table, the context of its checks and the required columns it lacks.
    """
    loaded = _load_table(path, sheet=sheet, crs=option_crs, report=report, schema=schema)
    table = _drop_skipped_rows(loaded, report, path, schema)
    ctx = _context(table, path, report, schema)
    missing = _check_columns(ctx, table.geo_lon is not None, schema)
    return table, ctx, missing


def _site_text(ctx: _Ctx) -> dict[str, pd.Series]:
    """The text columns of the sites (name, address parts, contact; contact checked)."""
    site_text = {c: ctx.col(c) for c in (*_SITE_TEXT, *_CONTACT) if c in ctx.cols}
    site_text.update(_contacts(ctx))
    return site_text


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
    report = ValidationReport(source=str(path), kind=_KIND, lang="de")
    as_of_option = _option_date(as_of)
    option_crs = _option_crs(crs)
    table, ctx, missing = _open(path, report, _COURSE_LIST, sheet=sheet, option_crs=option_crs)
    site_id, lon, lat, source = _site_part(ctx, table, option_crs, missing, _REQUIRED)
    courses = _course_part(ctx, extra_types, schedule_rule, missing)
    the_date = _as_of(ctx, as_of_option, table.titles)
    _start_before_as_of(ctx, courses["next_start"], the_date)
    site_text = _site_text(ctx)
    if "site_id" not in missing:
        courses["course_id"] = _course_ids(ctx, site_id)
        _check_sites(ctx, site_id, site_text, lon, lat)
        _bbox_warnings(ctx, site_id, lon, lat, source)
    _risky_text(ctx, table.leading_ctrl)
    report.counts["as of"] = the_date.isoformat() if the_date else "unbekannt"
    if report.errors:
        return None, _finish(report)
    return _assemble(ctx, site_id, site_text, lon, lat, courses, the_date, path), report


def _read_sites(
    path: Path, *, crs: str | int | CRS | None, sheet: str | int | None,
    id_aliases: Iterable[str],
) -> tuple[gpd.GeoDataFrame | None, ValidationReport]:
    """Read and check a site list; the sites are None when errors were found."""
    schema = _site_schema(id_aliases)
    report = ValidationReport(source=str(path), kind=schema.kind, lang="de")
    option_crs = _option_crs(crs)
    table, ctx, missing = _open(path, report, schema, sheet=sheet, option_crs=option_crs)
    site_id, lon, lat, source = _site_part(ctx, table, option_crs, missing, schema.required)
    childcare = _childcare(ctx)
    site_text = _site_text(ctx)
    if "site_id" not in missing:
        _unique_sites(ctx, site_id)
        _bbox_warnings(ctx, site_id, lon, lat, source)
    _risky_text(ctx, table.leading_ctrl)
    if report.errors:
        return None, _finish(report)
    sites = _build_sites(site_id, site_text, lon, lat, childcare)
    sites["line"] = ctx.lines.astype(np.int64)  # ids are unique: one site per row, in order
    sites = sites[list(SITE_COLUMNS)]
    report.counts["sites"] = len(sites)
    report.counts["sites with childcare"] = int(sites["has_childcare"].sum())
    _finish(report)
    logger.info("%s aus %s gelesen", plural(len(sites), "Kursort", "Kursorte"), ctx.file)
    return sites, report


def _unique_sites(ctx: _Ctx, site_id: pd.Series) -> None:
    """An error for each row of a site list whose site id an earlier row has."""
    lines = pd.Series(ctx.lines)
    first_line = lines.groupby(site_id.to_numpy(dtype=str)).transform("first").to_numpy()
    repeated = (first_line != ctx.lines) & (site_id != "").to_numpy()
    ctx.check.rows(repeated, ctx.label("site_id"), "duplicate_site_id", value=site_id,
                   first=first_line)


def _assemble(ctx: _Ctx, site_id: pd.Series, site_text: dict[str, pd.Series], lon: np.ndarray,
              lat: np.ndarray, parts: dict[str, object], the_date: dt.date | None,
              path: Path) -> CourseList:
    mask = np.asarray(parts["mask"], dtype=np.int64)
    childcare = np.asarray(parts["childcare"], dtype=bool)
    next_start = parts["next_start"]
    assert isinstance(next_start, pd.Series)
    courses = pd.DataFrame(
        {
            "course_id": pd.Series(parts["course_id"], dtype="str"),
            "site_id": site_id.astype("str"),
            "provider": ctx.col("provider").astype("str"),
            "course_type": pd.Series(parts["course_type"], dtype="str"),
            "schedule": pd.Series(parts["schedule"], dtype="str"),
            "weekdays": pd.Series(_mask_strings(mask), dtype="str"),
            "weekday_mask": mask.astype(np.int8),
            "start_time": np.asarray(parts["start"]).astype(np.int32),
            "end_time": np.asarray(parts["end"]).astype(np.int32),
            "childcare": childcare,
            "capacity": parts["capacity"],
            "free_places": parts["free_places"],
            "next_start": next_start.astype("datetime64[s]").to_numpy(),
            "notes": ctx.col("notes").replace("", pd.NA).astype("str"),
        }
    )
    sites = _build_sites(site_id, site_text, lon, lat, childcare)
    ctx.report.counts["sites"] = len(sites)
    ctx.report.counts["courses"] = len(courses)
    ctx.report.counts["courses with childcare"] = int(childcare.sum())
    ctx.report.counts["as of"] = ctx.report.counts.pop("as of")  # after the other counts
    _finish(ctx.report)
    logger.info("%s an %s aus %s gelesen", plural(len(courses), "Kurs", "Kurse"),
                plural(len(sites), "Kursort", "Kursorten"), ctx.file)
    return CourseList(sites=sites, courses=courses, as_of=the_date, source=str(path),
                      report=ctx.report)


def _finish(report: ValidationReport) -> ValidationReport:
    report.problems.sort(key=lambda p: (p.row is not None, p.row or 0))
    if report.warnings:
        logger.warning(_MSG["warnings_log"].format(
            file=Path(report.source).name, n=len(report.warnings),
            examples="; ".join(str(p) for p in report.warnings[:3])))
    return report


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _mask_strings(mask: np.ndarray) -> np.ndarray:
    """Seven-character 0/1 strings, Monday first, of weekday bit masks."""
    digits = (((mask[:, None] >> np.arange(7)) & 1) + ord("0")).astype(np.uint8)
    return np.ascontiguousarray(digits).view("S7").ravel().astype(str)


# --------------------------------------------------------------------------------------------
# The site part: id, provider, coordinates
# --------------------------------------------------------------------------------------------
def _site_part(ctx: _Ctx, table: _Table, option_crs: CRS | None, missing: set[str],
               required: tuple[str, ...]) -> tuple[pd.Series, np.ndarray, np.ndarray, np.ndarray]:
    """Site id, WGS84 lon/lat and the source of each point; blank required cells reported."""
    site_id = ctx.col("site_id")
    for canon in ("site_id", "provider"):
        if canon in required and canon not in missing:
            ctx.check.rows(ctx.col(canon) == "", ctx.label(canon), "missing_value",
                           expected=_EXPECT[canon])
    if "coordinates" in missing:
        nan = np.full(ctx.n, np.nan)
        return site_id, nan, nan.copy(), np.full(ctx.n, "lon", dtype=object)
    lon, lat, source = _coordinates(ctx, table.geo_lon, table.geo_lat, table.geo_bad, option_crs)
    return site_id, lon, lat, source


def _coordinates(
    ctx: _Ctx,
    geo_lon: np.ndarray | None,
    geo_lat: np.ndarray | None,
    geo_bad: np.ndarray | None,
    option_crs: CRS | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """WGS84 lon/lat of every row from geometry, lon/lat or x/y+crs; label of the source."""
    n = ctx.n
    has_ll = "lon" in ctx.cols or "lat" in ctx.cols
    has_xy = "x" in ctx.cols or "y" in ctx.cols
    lon, lat = np.full(n, np.nan), np.full(n, np.nan)
    source = np.full(n, "lon", dtype=object)
    done = np.zeros(n, dtype=bool)
    if geo_lon is not None and geo_lat is not None and geo_bad is not None:
        from_geo = np.isfinite(geo_lon)
        lon[from_geo], lat[from_geo] = geo_lon[from_geo], geo_lat[from_geo]
        source[from_geo] = "geometry"
        done = from_geo | geo_bad
        if not (has_ll or has_xy):
            ctx.check.rows(~done, "geometry", "missing_geometry", code="missing_value")
            return lon, lat, source
    ll_blank = ((ctx.col("lon") == "") & (ctx.col("lat") == "")).to_numpy()
    xy_given = ~((ctx.col("x") == "") & (ctx.col("y") == "")).to_numpy()
    if has_ll:  # lon/lat first; x/y for rows that leave lon and lat empty
        use_xy = ~done & ll_blank & xy_given & has_xy
    else:
        use_xy = ~done
    _lonlat(ctx, ~done & ~use_xy, lon, lat)
    if use_xy.any():
        source[use_xy] = "x"
        _xy(ctx, use_xy, option_crs, lon, lat)
    return lon, lat, source


def _lonlat(ctx: _Ctx, use: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> None:
    """Check lon/lat cells (WGS84 degrees) of the rows in ``use`` and fill ``lon``/``lat``."""
    for canon, limit, values, what in (("lon", 180, lon, _MSG["what_lon"]),
                                       ("lat", 90, lat, _MSG["what_lat"])):
        text = ctx.col(canon)
        number = _to_float(text).to_numpy()
        missing = use & (text == "").to_numpy()
        label = ctx.label(canon)
        ctx.check.rows(missing, label, "missing_coordinate", code="missing_coordinate",
                       expected=_EXPECT[canon])
        ctx.check.rows(use & ~missing & ~np.isfinite(number), label, "bad_number_coordinate",
                       code="bad_coordinate", value=text, expected=_EXPECT[canon])
        out = use & np.isfinite(number) & (np.abs(number) > limit)
        ctx.check.rows(out, label, "coordinate_range", value=text, what=what, limit=limit)
        fine = use & np.isfinite(number) & ~out
        values[fine] = number[fine]


def _xy(ctx: _Ctx, use: np.ndarray, option_crs: CRS | None, lon: np.ndarray,
        lat: np.ndarray) -> None:
    """Check x/y cells with their crs, convert them to WGS84 and fill ``lon``/``lat``."""
    xy = {}
    for canon in ("x", "y"):
        text = ctx.col(canon)
        number = _to_float(text).to_numpy()
        missing = use & (text == "").to_numpy()
        ctx.check.rows(missing, ctx.label(canon), "missing_value", code="missing_coordinate",
                       expected=_EXPECT[canon])
        ctx.check.rows(use & ~missing & ~np.isfinite(number), ctx.label(canon),
                       "bad_number_coordinate", code="bad_coordinate", value=text,
                       expected=_EXPECT[canon])
        xy[canon] = number
    crs_text = ctx.col("crs")
    if option_crs is None:
        ctx.check.rows(use & (crs_text == "").to_numpy(), ctx.label("crs"), "missing_value",
                       code="missing_crs", expected=_EXPECT["crs"])
    for value in np.unique(crs_text[use].to_numpy(dtype=str)):
        rows = use & (crs_text == value).to_numpy()
        if value == "" and option_crs is None:
            continue
        try:
            source_crs = option_crs if value == "" else _parse_crs(value)
        except CRSError:
            ctx.check.rows(rows, ctx.label("crs"), "bad_crs", value=value)
            continue
        assert source_crs is not None
        ok = rows & np.isfinite(xy["x"]) & np.isfinite(xy["y"])
        tx, ty = transformer(source_crs.to_string(), WEB_CRS).transform(xy["x"][ok], xy["y"][ok])
        tx, ty = np.asarray(tx, dtype=float), np.asarray(ty, dtype=float)
        valid = np.isfinite(tx) & np.isfinite(ty) & (np.abs(tx) <= 180) & (np.abs(ty) <= 90)
        failed = np.zeros(ctx.n, dtype=bool)
        failed[np.flatnonzero(ok)[~valid]] = True
        ctx.check.rows(failed, ctx.label("x"), "xy_convert", code="bad_coordinate",
                       value=ctx.col("x"), y=ctx.col("y"), crs=source_crs.to_string())
        idx = np.flatnonzero(ok)[valid]
        lon[idx], lat[idx] = tx[valid], ty[valid]


# --------------------------------------------------------------------------------------------
# The course part: type, days, times, childcare, places, next start, schedule
# --------------------------------------------------------------------------------------------
def _course_part(ctx: _Ctx, extra_types: Iterable[str], rule: ScheduleRule,
                 missing: set[str]) -> dict[str, object]:
    parts: dict[str, object] = {"course_type": _course_types(ctx, extra_types, missing)}
    parts["mask"] = mask = _weekdays(ctx, missing)
    start, end = _times(ctx, missing)
    parts["start"], parts["end"] = start, end
    parts["childcare"] = _childcare(ctx)
    parts["capacity"], parts["free_places"] = _places(ctx)
    next_text = ctx.col("next_start")
    next_start = parse_date_series(next_text)
    ctx.check.rows(next_start.isna().to_numpy() & (next_text != "").to_numpy(),
                   ctx.label("next_start"), "bad_date", value=next_text,
                   expected=_EXPECT["next_start"])
    parts["next_start"] = next_start
    parts["schedule"] = _schedule(ctx, start, end, mask, rule)
    parts["course_id"] = ctx.col("course_id").to_numpy(dtype=object)
    return parts


def _course_types(ctx: _Ctx, extra_types: Iterable[str], missing: set[str]) -> np.ndarray:
    text = ctx.col("course_type")
    allowed = tuple(COURSE_TYPES) + tuple(_norm(t) for t in extra_types)
    normed = _norm_series(text)
    normed = normed.where(normed.isin(allowed), normed.map(_TYPE_SYNONYMS).fillna(normed))
    free_label = text.str.extract(r"(?i)^\s*sonstig(?:e|es)?\s*:\s*(\S.*?)\s*$")[0]
    is_free = free_label.notna().to_numpy()
    if "course_type" not in missing:
        known = normed.isin(allowed).to_numpy()
        blank = (text == "").to_numpy()
        label = ctx.label("course_type")
        expected = f"{_EXPECT['course_type']}: {', '.join(allowed)}"
        ctx.check.rows(blank, label, "missing_value", expected=expected)
        ctx.check.rows(~known & ~is_free & ~blank, label, "bad_course_type", value=text,
                       allowed=", ".join(allowed))
    return np.where(
        is_free,
        ("sonstig:" + free_label.fillna("")).to_numpy(dtype=object),
        normed.to_numpy(dtype=object),
    )


def _weekdays(ctx: _Ctx, missing: set[str]) -> np.ndarray:
    text = ctx.col("weekdays")
    uniques, codes = np.unique(text.to_numpy(dtype=str), return_inverse=True)
    parsed = np.array([parse_weekdays(u) or 0 for u in uniques], dtype=np.int64)
    mask = parsed[codes.reshape(-1)] if ctx.n else np.zeros(0, dtype=np.int64)
    if "weekdays" not in missing:
        label = ctx.label("weekdays")
        blank = (text == "").to_numpy()
        ctx.check.rows((mask == 0) & blank, label, "missing_value",
                       expected=_EXPECT["weekdays"])
        ctx.check.rows((mask == 0) & ~blank, label, "bad_weekdays", value=text,
                       expected=_EXPECT["weekdays"])
    return mask


def _times(ctx: _Ctx, missing: set[str]) -> tuple[np.ndarray, np.ndarray]:
    times = {}
    for canon in ("start_time", "end_time"):
        text = ctx.col(canon)
        seconds, ok = _clock_seconds(text)
        if canon not in missing and not ctx.from_range:
            blank = (text == "").to_numpy()
            ctx.check.rows(blank, ctx.label(canon), "missing_value", expected=_EXPECT[canon])
            ctx.check.rows(~ok & ~blank, ctx.label(canon), "bad_time", value=text)
        times[canon] = (seconds, ok)
    (start, start_ok), (end, end_ok) = times["start_time"], times["end_time"]
    if not {"start_time", "end_time"} & missing:
        ctx.check.rows(start_ok & end_ok & (end <= start), ctx.label("end_time"),
                       "end_before_start", value=ctx.col("end_time"),
                       start=ctx.col("start_time"))
    return start, end


def _childcare(ctx: _Ctx) -> np.ndarray:
    text = ctx.col("childcare").str.lower()
    ctx.check.rows(~text.isin(_TRUE + _FALSE).to_numpy(), ctx.label("childcare"),
                   "bad_childcare", value=ctx.col("childcare"), expected=_EXPECT["childcare"])
    return text.isin(_TRUE).to_numpy()


def _places(ctx: _Ctx) -> tuple[pd.Series, pd.Series]:
    counts = {}
    for canon in ("capacity", "free_places"):
        text = ctx.col(canon)
        number = _to_float(text).to_numpy()
        whole = np.isfinite(number) & (number >= 0) & (number == np.round(number)) & (number < 1e6)
        ctx.check.rows(~whole & (text != "").to_numpy(), ctx.label(canon), "bad_number",
                       value=text, expected=_EXPECT[canon])
        counts[canon] = pd.Series(np.where(whole, number, np.nan)).astype("Int32")
    capacity, free = counts["capacity"], counts["free_places"]
    over = (free > capacity).fillna(False).to_numpy(dtype=bool)
    ctx.check.rows(over, ctx.label("free_places"), "free_over_capacity",
                   value=ctx.col("free_places"), capacity=ctx.col("capacity"))
    return capacity, free


def _schedule(ctx: _Ctx, start: np.ndarray, end: np.ndarray, mask: np.ndarray,
              rule: ScheduleRule) -> np.ndarray:
    text = ctx.col("schedule")
    given = _norm_series(text).map(_SCHEDULE_WORDS).fillna("").astype(str)
    ctx.check.rows((given == "").to_numpy() & (text != "").to_numpy(), ctx.label("schedule"),
                   "bad_schedule", value=text, expected=_EXPECT["schedule"])
    derived = derive_schedule(start, end, mask, rule=rule)
    n_derived = int((text == "").sum())
    if n_derived:
        ctx.report.notes.append(_MSG["note_schedule"].format(
            n=n_derived, evening=_hhmm(rule.evening_start), days=rule.part_time_max_days,
            hours=german_number(float(rule.part_time_max_hours))))
    return np.where((given != "").to_numpy(), given.to_numpy(dtype=object), derived)


def _as_of(ctx: _Ctx, option: dt.date | None, titles: list[tuple[int, str]]) -> dt.date | None:
    """The list's date: the option, else the file's Stand column, else a title row's date."""
    text = ctx.col("as_of")
    given = (text != "").to_numpy()
    dates = parse_date_series(text)
    label = ctx.label("as_of")
    ctx.check.rows(given & dates.isna().to_numpy(), label, "bad_as_of", code="bad_date",
                   severity="warning", value=text, expected=_EXPECT["as_of"])
    valid = given & dates.notna().to_numpy()
    file_date: dt.date | None = None
    if valid.any():
        first = int(np.flatnonzero(valid)[0])
        file_date = min(dates[valid]).date()
        differs = valid & (dates != dates.iloc[first]).to_numpy()
        ctx.check.rows(differs, label, "as_of_differs", severity="warning", value=text,
                       first=ctx.lines[first], first_value=text.iloc[first],
                       earliest=file_date.isoformat())
    if file_date is None and option is None:
        file_date = _title_date(ctx, titles)
    if option is not None:
        if file_date is not None and file_date != option:
            ctx.report.notes.append(_MSG["note_as_of_option"].format(
                option=option.isoformat(), file=file_date.isoformat()))
        return option
    if file_date is None:
        ctx.report.warning(ctx.file, None, _named("as_of") if "as_of" not in ctx.cols else label,
                           _MSG["no_as_of"], "no_as_of")
    return file_date


def _title_date(ctx: _Ctx, titles: list[tuple[int, str]]) -> dt.date | None:
    """A date "Stand TT.MM.JJJJ" in a title row above the header."""
    for line, title in titles:
        match = re.search(_TITLE_AS_OF, title)
        if match:
            try:
                date = parse_date(match.group(1))
            except ValueError:
                continue
            ctx.report.notes.append(_MSG["note_as_of_title"].format(date=date.isoformat(),
                                                                    line=line))
            return date
    return None


def _start_before_as_of(ctx: _Ctx, next_start: object, the_date: dt.date | None) -> None:
    if the_date is None or not isinstance(next_start, pd.Series):
        return
    before = (next_start < pd.Timestamp(the_date)).fillna(False).to_numpy(dtype=bool)
    ctx.check.rows(before, ctx.label("next_start"), "start_before_as_of", severity="warning",
                   value=ctx.col("next_start"), as_of=the_date.isoformat())


def _course_ids(ctx: _Ctx, site_id: pd.Series) -> np.ndarray:
    text = ctx.col("course_id")
    number = site_id.groupby(site_id.to_numpy(dtype=str)).cumcount() + 1
    ids = text.where(text != "", site_id + "-" + number.astype(str))
    lines = pd.Series(ctx.lines)
    first_line = lines.groupby(ids.to_numpy(dtype=str)).transform("first").to_numpy()
    generated = np.where((text == "").to_numpy(), _MSG["generated_id"], "")
    ctx.check.rows(first_line != ctx.lines, ctx.label("course_id"), "duplicate_course_id",
                   value=ids, first=first_line, generated=generated)
    return ids.to_numpy(dtype=object)


# --------------------------------------------------------------------------------------------
# Contact columns, markup and formulas
# --------------------------------------------------------------------------------------------
def _contacts(ctx: _Ctx) -> dict[str, pd.Series]:
    """Phone, e-mail and web address: checked, bad values dropped with a warning."""
    out: dict[str, pd.Series] = {}
    if "phone" in ctx.cols:
        phone = ctx.cols["phone"]
        phone_ok = (phone.str.fullmatch(_PHONE) & (phone.str.count(r"\d") >= 5)).to_numpy(bool)
        out["phone"] = _keep_valid(ctx, "phone", phone, phone_ok, "bad_phone")
    if "email" in ctx.cols:
        text = ctx.cols["email"]
        mailto = text.str.match(r"(?i)mailto:").to_numpy(dtype=bool)
        email = text.str.replace(r"(?i)^mailto:\s*", "", regex=True)
        if mailto.any():
            ctx.report.notes.append(_MSG["note_mailto"].format(n=int(mailto.sum())))
        mail_ok = email.str.fullmatch(_EMAIL).to_numpy(dtype=bool)
        out["email"] = _keep_valid(ctx, "email", email, mail_ok, "bad_email", shown=text)
    if "web" in ctx.cols:
        text = ctx.cols["web"]
        bare = ~text.str.match(r"(?i)[a-z][a-z0-9+.-]*:").to_numpy(dtype=bool) & (text != "")
        web = text.where(~bare, "https://" + text)
        web_ok = web.str.fullmatch(_WEB, case=False).to_numpy(dtype=bool)
        if (bare & web_ok).any():
            ctx.report.notes.append(_MSG["note_web"].format(n=int((bare & web_ok).sum())))
        out["web"] = _keep_valid(ctx, "web", web, web_ok, "bad_web", shown=text)
    return out


def _keep_valid(ctx: _Ctx, canon: str, values: pd.Series, ok: np.ndarray, key: str,
                shown: pd.Series | None = None) -> pd.Series:
    bad = ~ok & (values != "").to_numpy()
    ctx.check.rows(bad, ctx.label(canon), key, severity="warning",
                   value=values if shown is None else shown)
    return values.where(~bad, "")


def _risky_text(ctx: _Ctx, leading_ctrl: np.ndarray | None) -> None:
    """One warning per text column holding markup or values that start like a formula."""
    for canon in _SHOWN_TEXT:
        if canon not in ctx.cols:
            continue
        text = ctx.cols[canon]
        markup = text.str.contains(_MARKUP, case=False, regex=True).to_numpy(dtype=bool)
        formula = (text.str.match(_FORMULA_START) & ~text.str.fullmatch(r"-+")).to_numpy(bool)
        if leading_ctrl is not None and canon in ctx.positions:
            formula = formula | leading_ctrl[:, ctx.positions[canon]]
        flagged = markup | formula
        if not flagged.any():
            continue
        what = " bzw. ".join(_MSG[k] for k, m in (("risky_markup", markup),
                                                   ("risky_formula", formula)) if m.any())
        idx = np.flatnonzero(flagged)
        examples = ", ".join(f"Zeile {ctx.lines[i]} {text.iloc[i]!r}" for i in idx[:3])
        ctx.report.warning(ctx.file, None, ctx.label(canon), _MSG["risky_text"].format(
            count=german_number(int(idx.size)), what=what, examples=examples), "risky_text")


# --------------------------------------------------------------------------------------------
# One site, one set of site columns
# --------------------------------------------------------------------------------------------
def _check_sites(
    ctx: _Ctx,
    site_id: pd.Series,
    site_text: dict[str, pd.Series],
    lon: np.ndarray,
    lat: np.ndarray,
) -> None:
    """Errors for site columns that differ between rows of one site; fill blank optional ones.

    Contact columns that differ are warnings (the first value is used).
    """
    key = site_id.replace("", pd.NA)  # rows without a site_id are reported already
    line_s = pd.Series(ctx.lines)
    filled = 0
    for canon, text in site_text.items():
        value = text.replace("", pd.NA)
        first = value.groupby(key).transform("first")
        first_line = line_s.where(value.notna().to_numpy()).groupby(key).transform("first")
        differs = (value.notna() & first.notna() & (value != first)).fillna(False)
        contact = canon in _CONTACT
        ctx.check.rows(differs.to_numpy(dtype=bool), ctx.label(canon),
                       "contact_differs" if contact else "site_differs", code="site_differs",
                       severity="warning" if contact else "error", value=text,
                       first=first_line.astype("Int64").astype(str),
                       first_value=first.fillna(""), site=site_id)
        if canon != "provider":  # provider blanks are errors already; optional ones are filled
            blank = value.isna() & first.notna()
            filled += int(blank.sum())
            site_text[canon] = text.where(~blank.to_numpy(), first.fillna(""))
    if filled:
        note = _MSG["note_filled"].format(n=filled)
        ctx.report.notes.append(note)
        logger.info("%s: %s", ctx.file, note)
    for canon, values in (("lon", lon), ("lat", lat)):
        series = pd.Series(values)
        first_value = series.groupby(key).transform("first").to_numpy()
        first_line = line_s.where(series.notna()).groupby(key).transform("first")
        differs = (
            np.isfinite(values) & np.isfinite(first_value) & (np.abs(values - first_value) > 1e-6)
        )
        ctx.check.rows(differs, ctx.label(canon), "site_differs",
                       value=series.map("{:.6f}".format),
                       first=first_line.astype("Int64").astype(str),
                       first_value=pd.Series(first_value).map("{:.6f}".format), site=site_id)


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
            "provider": site_text.get("provider", blank).replace("", pd.NA),
            "site_name": site_text.get("site_name", blank).replace("", pd.NA),
            "address": address.replace("", pd.NA),
            **{c: site_text.get(c, blank).replace("", pd.NA) for c in _CONTACT},
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
    for c in ("site_id", "provider", "site_name", "address", *_CONTACT):
        sites[c] = sites[c].astype("str")
    points = gpd.points_from_xy(sites["lon"], sites["lat"], crs=WEB_CRS)
    return gpd.GeoDataFrame(sites, geometry=points, crs=WEB_CRS).to_crs(COURSE_CRS)


def _bbox_warnings(
    ctx: _Ctx,
    site_id: pd.Series,
    lon: np.ndarray,
    lat: np.ndarray,
    source: np.ndarray,
) -> None:
    """One warning per site whose point lies outside Germany (saying so if lat/lon look swapped)."""
    west, south, east, north = GERMANY_BBOX
    inside = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
    outside = np.isfinite(lon) & np.isfinite(lat) & ~inside
    swapped = (lat >= west) & (lat <= east) & (lon >= south) & (lon <= north)
    flagged = outside & ~site_id.duplicated().to_numpy()
    if not flagged.any():
        return
    columns = {"lon": ctx.label("lon"), "x": _MSG["at_lon_xy"],
               "geometry": _MSG["at_lon_geometry"]}
    for canon in np.unique(source[flagged].astype(str)):
        ctx.check.rows(
            flagged & (source == canon), columns[canon], "outside_germany",
            code="outside_germany", severity="warning",
            value=pd.Series(lon).map("{:.5f}".format), lat=pd.Series(lat).map("{:.5f}".format),
            site=site_id, west=german_number(west), east=german_number(east),
            south=german_number(south), north=german_number(north),
            swapped=np.where(swapped, _MSG["swapped"], ""),
        )
