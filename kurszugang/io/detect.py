"""Recognise what kind of input a path is and validate it with the matching reader.

The kind is told from the content where the name does not settle it: a table is a Zensus grid if
it has grid columns, a course list if one of its first ten rows names at least two course-list
columns (so a title or comment row above the header does not hide it), boundaries if it has key
columns. Text is decoded as UTF-8 (with or without BOM), UTF-16 (with or without BOM) or
Windows-1252, as :func:`decode_text` does for every reader of tables.
"""

from __future__ import annotations

import codecs
import csv
import importlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from kurszugang.errors import InputFormatError
from kurszugang.io._report import ValidationReport

__all__ = ["KINDS", "DecodedText", "decode_text", "detect_kind", "sniff_separator", "validate"]

KINDS = ("gtfs", "boundaries", "courses", "osm", "population")

# kind -> (module, validate function)
_VALIDATORS = {
    "gtfs": ("kurszugang.io.gtfs", "validate_gtfs"),
    "boundaries": ("kurszugang.io.boundaries", "validate_boundaries"),
    "courses": ("kurszugang.io.courses", "validate_courses"),
    "osm": ("kurszugang.io.osm", "validate_walk_network"),
    "population": ("kurszugang.io.population", "validate_population_grid"),
}

_OSM_SUFFIXES = (".osm", ".osm.gz", ".osm.bz2", ".osm.pbf", ".pbf", ".o5m")
_TABLE_SUFFIXES = (".csv", ".txt", ".tsv")
_FEATURE_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".fgb")
_BOUNDARY_KEYS = {"ags", "ags_0", "rs", "ars", "gen"}
_GRID_KEYS = {"gitter_id_100m", "gitter_id_1km", "gitter_id_10km", "x_mp_100m", "x_mp_1km",
              "x_mp_10km", "cell_id"}
#: Field separators of tables, in order of preference on a tie.
SEPARATORS = (";", ",", "\t", "|")
_HEAD_BYTES = 65_536
_HEAD_ROWS = 10

# Messages (German), in one place.
_MSG = {
    "missing": "gibt es nicht",
    "empty": "ist leer (0 Bytes; erwartet einen GTFS-Fahrplan, Verwaltungsgrenzen, eine "
             "Kursliste, einen OSM-Auszug oder ein Zensus-Raster)",
    "folder": "ist ein Ordner ohne stops.txt und stop_times.txt, also kein GTFS-Fahrplan",
    "unreadable": "lässt sich nicht als {suffix}-Datei lesen ({reason})",
    "no_kind": "ist keine Eingabe, die kurszugang liest (erwartet einen GTFS-Fahrplan, "
               "Verwaltungsgrenzen, eine Kursliste, einen OSM-Auszug oder ein Zensus-Raster); "
               "bei kurszugang validate die Art mit --kind angeben",
    "unknown_kind": "unbekannte Art {kind!r}; erwartet eine von {kinds}",
}


@dataclass(frozen=True)
class DecodedText:
    """The text of a file and how it was decoded.

    Attributes
    ----------
    text
        The decoded text (without a byte-order mark).
    encoding
        ``"UTF-8"``, ``"UTF-16"``, ``"Windows-1252"`` or ``"Latin-1"``.
    bom
        Whether the file began with a byte-order mark.
    first_non_utf8_line
        For Windows-1252 and Latin-1: the line of the first byte that is not UTF-8.
    """

    text: str
    encoding: str
    bom: bool = False
    first_non_utf8_line: int | None = None


def _utf16_without_bom(head: bytes) -> str | None:
    """``"utf-16-le"`` or ``"utf-16-be"`` if the bytes look like UTF-16 text without a BOM.

    Text in Latin script written as UTF-16 has a zero byte in (nearly) every other position: at
    the odd positions for little-endian, at the even ones for big-endian.
    """
    sample = head[: len(head) - len(head) % 2]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    zeros_even, zeros_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if zeros_odd >= 0.4 and zeros_even <= 0.05:
        return "utf-16-le"
    if zeros_even >= 0.4 and zeros_odd <= 0.05:
        return "utf-16-be"
    return None


def decode_text(raw: bytes) -> DecodedText:
    """Decode the bytes of a text table as German offices write them.

    UTF-16 with a BOM, UTF-8 with a BOM, UTF-16 without a BOM (told from its zero bytes), UTF-8,
    then Windows-1252 (German Excel's "CSV (Trennzeichen-getrennt)") and Latin-1.

    Parameters
    ----------
    raw
        The file's bytes.

    Returns
    -------
    DecodedText
        The text and the encoding used.

    Raises
    ------
    UnicodeDecodeError
        If bytes that look like UTF-16 do not decode as UTF-16.

    Examples
    --------
    >>> decode_text("Träger;Ort\\n".encode("utf-16-le")).encoding
    'UTF-16'
    >>> decode_text("Träger;Ort\\n".encode("cp1252")).encoding
    'Windows-1252'
    """
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return DecodedText(raw.decode("utf-16"), "UTF-16", bom=True)
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return DecodedText(raw.decode("utf-8-sig"), "UTF-8", bom=True)
        except UnicodeDecodeError:
            raw = raw[len(codecs.BOM_UTF8):]
    utf16 = _utf16_without_bom(raw[:4096])
    if utf16 is not None:
        return DecodedText(raw.decode(utf16), "UTF-16")
    try:
        return DecodedText(raw.decode("utf-8"), "UTF-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        try:
            return DecodedText(raw.decode("cp1252"), "Windows-1252", first_non_utf8_line=line)
        except UnicodeDecodeError:
            return DecodedText(raw.decode("latin-1"), "Latin-1", first_non_utf8_line=line)


def sniff_separator(lines: list[str]) -> str:
    """The field separator found most often on one of ``lines`` (``;`` on a tie, else ``,``).

    Parameters
    ----------
    lines
        The first lines of a table (a title line without separators does not matter).

    Returns
    -------
    str
        One of ``;``, ``,``, tab, ``|``.

    Examples
    --------
    >>> sniff_separator(["Kursliste Landkreis Rosenheim", "a;b;c", "1;2;3"])
    ';'
    >>> sniff_separator(["GITTER_ID_100m|x_mp_100m|Einwohner"])
    '|'
    """
    counts = {s: max((line.count(s) for line in lines), default=0) for s in SEPARATORS}
    best = max(SEPARATORS, key=lambda s: counts[s])
    return best if counts[best] else ","


def _table_head(path: Path) -> list[list[str]]:
    """The first rows of a text table, decoded and split (cheap: the first 64 KiB only)."""
    with path.open("rb") as fh:
        raw = fh.read(_HEAD_BYTES)
    cut = len(raw) == _HEAD_BYTES
    try:
        text = decode_text(raw[: len(raw) - len(raw) % 2] if cut else raw).text
    except UnicodeDecodeError:
        return []
    lines = text.splitlines()[: _HEAD_ROWS + 1]
    if cut and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    lines = lines[:_HEAD_ROWS]
    sep = sniff_separator(lines)
    return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO("\n".join(lines)),
                                                                 delimiter=sep)]


def _feature_fields(path: Path) -> tuple[list[str], str]:
    """The fields and the geometry type of a feature file's first layer."""
    import pyogrio

    try:
        info = pyogrio.read_info(path, layer=0)
    except Exception as exc:
        reason = str(exc).split(";")[0].strip() or type(exc).__name__
        raise InputFormatError(_MSG["unreadable"].format(suffix=path.suffix, reason=reason),
                               path=path) from exc
    return [str(f) for f in info["fields"]], str(info.get("geometry_type") or "")


def _kind_of_table(rows: list[list[str]]) -> str | None:
    from kurszugang.io.courses import _looks_like_course_header

    lower = [{c.lower().strip('"') for c in row} for row in rows]
    if lower and lower[0] & _GRID_KEYS:
        return "population"
    if any(_looks_like_course_header(row) for row in rows):
        return "courses"
    if any(fields & _BOUNDARY_KEYS for fields in lower[:1]):
        return "boundaries"
    return None


def _kind_of_zip(p: Path) -> str:
    if zipfile.is_zipfile(p):
        with zipfile.ZipFile(p) as zf:
            names = {Path(n).name for n in zf.namelist()}
        if "stop_times.txt" in names or "stops.txt" in names:
            return "gtfs"
        if any(n.lower().endswith((".shp", ".gpkg")) for n in names):
            return "boundaries"
    return "gtfs"  # let the GTFS reader explain what is wrong with the zip


def _kind_of_file(p: Path) -> str | None:
    name = p.name.lower()
    if name.endswith(_OSM_SUFFIXES):
        return "osm"
    if name.endswith(".zip"):
        return _kind_of_zip(p)
    if name.endswith((".tif", ".tiff")):
        return "population"
    if name.endswith((".xlsx", ".xlsm", ".xls")):
        return "courses"  # spreadsheets are course lists
    if name.endswith(_TABLE_SUFFIXES):
        return _kind_of_table(_table_head(p))
    if name.endswith(".shp"):
        from kurszugang.io.boundaries import missing_companions

        if missing_companions(p, need_prj=False):
            return "boundaries"  # the boundary reader names the missing file
    if name.endswith(_FEATURE_SUFFIXES):
        fields, geometry = _feature_fields(p)
        points = "polygon" not in geometry.lower()  # course sites are points, boundaries areas
        if points and _kind_of_table([fields]) == "courses":
            return "courses"
        return "boundaries"
    return None


def detect_kind(path: str | Path) -> str:
    """Guess which kind of input a file or folder is, from its name and its content.

    Parameters
    ----------
    path
        A GTFS .zip or folder, a boundary or course file, an OSM extract, a Zensus grid CSV or
        GeoTIFF.

    Returns
    -------
    str
        One of ``"gtfs"``, ``"boundaries"``, ``"courses"``, ``"osm"``, ``"population"``.

    Raises
    ------
    InputFormatError
        If the path does not exist, is empty (0 bytes), or its kind cannot be recognised.

    Examples
    --------
    >>> detect_kind(demo.gtfs)
    'gtfs'
    >>> [detect_kind(p) for p in (demo.boundaries, demo.courses, demo.osm, demo.population)]
    ['boundaries', 'courses', 'osm', 'population']
    """
    p = Path(path)
    if not p.exists():
        raise InputFormatError(_MSG["missing"], path=p)
    if p.is_dir():
        if (p / "stops.txt").exists() or (p / "stop_times.txt").exists():
            return "gtfs"
        if any(p.glob("*.shp")) or any(p.glob("*.SHP")):
            return "boundaries"
        raise InputFormatError(_MSG["folder"], path=p)
    if p.stat().st_size == 0:
        raise InputFormatError(_MSG["empty"], path=p)
    kind = _kind_of_file(p)
    if kind is None:
        raise InputFormatError(_MSG["no_kind"], path=p)
    return kind


def validate(path: str | Path, kind: str | None = None, *,
             strict: bool = False) -> ValidationReport:
    """Validate any input file and return a report of counts, errors and warnings.

    Parameters
    ----------
    path
        The file or folder to check.
    kind
        One of ``"gtfs"``, ``"boundaries"``, ``"courses"``, ``"osm"``, ``"population"``; guessed
        from the file with :func:`detect_kind` when omitted.
    strict
        For a GTFS feed: every record routing would skip is an error (for feed authors); by
        default such records are counted as skipped and the feed passes (as ``run`` reads it).

    Returns
    -------
    ValidationReport
        ``report.ok`` is False when errors were found.

    Raises
    ------
    InputFormatError
        If the kind is unknown, or cannot be told (see :func:`detect_kind`).

    Examples
    --------
    >>> report = validate(demo.gtfs)
    >>> report.ok
    True
    >>> print(report.format())
    GTFS-Fahrplan: gtfs_beispiel.zip
      Verkehrsunternehmen: 3
      Haltestellen: 41
      Linien: 9
      Fahrten: 268
      Halte (stop_times): 1.611
      Verkehrstage-Kalender: 4
      Fahrplanzeitraum: 2025-12-14 bis 2026-12-12
      interpolierte Zeiten: 0
      0 Fehler
      0 Warnungen
    """
    kind = kind or detect_kind(path)
    if kind not in _VALIDATORS:
        raise InputFormatError(_MSG["unknown_kind"].format(kind=kind, kinds=", ".join(KINDS)),
                               path=path)
    module_name, func_name = _VALIDATORS[kind]
    module = importlib.import_module(module_name)
    check = getattr(module, func_name)
    report: ValidationReport = check(path, strict=strict) if kind == "gtfs" else check(path)
    return report
