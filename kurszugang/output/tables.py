"""Tables for German Excel: CSV (UTF-8 with BOM, ``;``, decimal comma) and XLSX.

District staff open result tables in a German Excel. Two formats work there:

- **CSV** (:func:`write_csv`): UTF-8 with a byte order mark (so that Excel recognises the
  encoding and shows umlauts), ``;`` as separator, decimal comma, CRLF line ends; text columns
  (AGS, ids, names) are always quoted, numbers never.
- **XLSX** (:func:`write_xlsx`): one sheet per table plus a sheet of parameters; AGS and ids are
  text cells (format ``@``), numbers are numbers, the header is bold and frozen.

A run's tables (:class:`~kurszugang.results.Table`) carry their columns' labels, units and kinds
from :mod:`kurszugang.schema`: headers are German (English with ``language="en"``), people counts
can be suppressed (values 1 to ``suppress_below - 1``; 0 stays 0), shares are in %.

Text from an input never becomes a spreadsheet formula: a text cell that starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return is written with a leading apostrophe in CSV and
as a plain text cell in XLSX. Files are written under a temporary name and renamed when
complete; an XLSX holds fixed document properties and zip times, so the same results give the
same bytes. The formats are documented in ``docs/outputs.md``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kurszugang.errors import ConfigError, InputError
from kurszugang.files import atomic_path
from kurszugang.results import Table
from kurszugang.words import de_number, plural

if TYPE_CHECKING:
    from kurszugang.results import Results

__all__ = [
    "DEFAULT_SUPPRESS_BELOW",
    "FORMULA_START",
    "LANGUAGES",
    "Parameter",
    "write_csv",
    "write_tables",
    "write_xlsx",
]

log = logging.getLogger(__name__)

#: Languages of labels: German (default) and English.
LANGUAGES = ("de", "en")
#: A common threshold of small-count suppression (people); pass it as ``suppress_below``.
DEFAULT_SUPPRESS_BELOW = 5
#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: File name of the workbook a run writes.
XLSX_NAME = "kurszugang_tabellen.xlsx"

_BOOLEANS = {"de": ("ja", "nein"), "en": ("yes", "no")}
_KEY_NAMES = frozenset({"ags", "AGS", "ars", "ARS", "cell_id"})
_STATE_KEYS = frozenset({"ags", "ars"})  # official keys: numeric means the zeros are gone
_XLSX_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_MAX_SHEET = 31
_PARAM_HEADER = {"de": ("Parameter", "Schlüssel", "Wert", "Einheit", "Bedeutung"),
                 "en": ("Parameter", "Key", "Value", "Unit", "Meaning")}
_PARAM_SHEET = {"de": "Parameter", "en": "Parameters"}
#: Document times and zip entry times of the workbook (the same results give the same bytes).
_FIXED_TIME = dt.datetime(2025, 12, 14)


def _check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ConfigError(f"unknown language {language!r}: use 'de' (German) or 'en' (English)")
    return language


@dataclass(frozen=True)
class Parameter:
    """A parameter for the parameter sheet of :func:`write_xlsx`, with unit and meaning."""

    value: object
    unit: str = "–"
    meaning: str = ""
    key: str = ""


# --- what each column is ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Columns:
    """Headers, text columns and people-count columns of one frame to write."""

    frame: pd.DataFrame
    headers: list[str]
    text: list[str]
    counts: list[str]


def _default_text_columns(df: pd.DataFrame) -> list[str]:
    out = []
    for c in df.columns:
        name = str(c)
        s = df[c]
        is_key = name in _KEY_NAMES or name.endswith("_id")
        is_text = (pd.api.types.is_string_dtype(s.dtype) or isinstance(s.dtype,
                                                                       pd.CategoricalDtype)
                   or (s.dtype == object and not _is_dates(s)))
        if is_key or is_text:
            out.append(name)
    return out


def _is_dates(s: pd.Series) -> bool:
    sample = s.dropna()
    return bool(len(sample)) and all(isinstance(v, dt.date) for v in sample.iloc[:20])


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


def _check_suppress(suppress_below: int | None) -> int | None:
    if suppress_below is None or suppress_below == 0:
        return None
    if isinstance(suppress_below, bool) or not isinstance(suppress_below, int | np.integer) \
            or suppress_below < 1:
        raise ConfigError(f"suppress_below must be a whole number of people of at least 1 "
                          f"(e.g. {DEFAULT_SUPPRESS_BELOW}), got {suppress_below!r}")
    return int(suppress_below)


def _columns(table: Table | pd.DataFrame, language: str, *, path: Path | None,
             text_columns: Sequence[str] | None = None, count_columns: Sequence[str] | None
             = None, below: int | None = None) -> _Columns:
    """What to write: a schema table by its declarations, a plain frame as told."""
    if isinstance(table, Table):
        cols = list(table.columns)
        df = pd.DataFrame(table.frame.reset_index(drop=True)[[c.key for c in cols]])
        return _Columns(df, [c.label(language) for c in cols],
                        [c.key for c in cols if c.kind in ("key", "text")],
                        [c.key for c in cols if c.kind == "count"])
    df = table.reset_index(drop=True)
    df.columns = [str(c) for c in df.columns]
    text = (_default_text_columns(df) if text_columns is None
            else _check_columns(df, [str(c) for c in text_columns], "as text", path))
    counts: list[str] = []
    if below is not None:
        if count_columns is None:
            raise ConfigError("suppress_below is set but no column of people counts is named: "
                              "name them with count_columns (a run's tables know theirs)")
        counts = _check_columns(df, [str(c) for c in count_columns], "as a count", path)
        for c in counts:
            if not pd.api.types.is_numeric_dtype(df[c].dtype):
                raise InputError(f"count column {c!r} is not numeric (dtype {df[c].dtype}): only "
                                 "numbers of people can be suppressed", path=path)
    return _Columns(df, list(df.columns), text, counts)


def _small_mask(values: pd.Series, below: int) -> np.ndarray:
    """True where a count is small but not zero: 0 < |v| < below (NaN: False)."""
    v = np.abs(pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64,
                                                               na_value=np.nan))
    with np.errstate(invalid="ignore"):
        return (v > 0) & (v < below)


def _check_folder(path: Path) -> None:
    if not path.parent.exists():
        raise InputError(f"folder {path.parent} does not exist", path=path)


def _formula_safe(s: pd.Series) -> pd.Series:
    """Text that a spreadsheet would read as a formula, with a leading apostrophe."""
    text = s.astype("string")
    risky = text.str.startswith(FORMULA_START).fillna(False).to_numpy(bool)
    if not risky.any():
        return s
    out = text.copy()
    out[risky] = "'" + text[risky]
    return out


# --- CSV -------------------------------------------------------------------------------------


def _quote(s: pd.Series) -> pd.Series:
    """Always-quoted text ('"' doubled inside); missing values stay empty and unquoted."""
    text = s.astype("str")
    quoted = '"' + text.str.replace('"', '""', regex=False) + '"'
    return quoted.where(s.notna().to_numpy(), "")


def _format_column(s: pd.Series, *, text: bool, decimals: int | None,
                   booleans: tuple[str, str]) -> pd.Series:
    dtype = s.dtype
    if text:
        return _quote(_formula_safe(s))
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
    if _is_dates(s):
        return s.map(lambda v: v.isoformat() if isinstance(v, dt.date) else "").astype("str")
    return _quote(_formula_safe(s.map(lambda v: v.isoformat() if isinstance(v, dt.date) else v)))


def write_csv(
    table: Table | pd.DataFrame,
    path: str | Path,
    *,
    language: str = "de",
    text_columns: Sequence[str] | None = None,
    suppress_below: int | None = None,
    count_columns: Sequence[str] | None = None,
    suppressed_as: str = "",
    decimals: int | None = None,
) -> Path:
    """Write a table as CSV for German Excel.

    UTF-8 with a byte order mark, ``;``-separated, decimal comma, CRLF line ends. Text columns
    are always quoted (``"09999111"``) and numbers never; headers are quoted. Missing values are
    empty cells; booleans ``ja``/``nein`` (``yes``/``no`` in English); dates ``YYYY-MM-DD``. Read
    it back with ``pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig",
    dtype={"AGS": str})``.

    Parameters
    ----------
    table
        A run's table (headers, text and count columns from its schema) or any DataFrame (its
        column names as headers; text columns as below; count columns named).
    path
        The file to write (its folder must exist); replaced when complete.
    language
        ``"de"`` (default) or ``"en"``: headers of a run's table and the words for booleans.
    text_columns
        For a DataFrame: columns written as quoted text. Default: ``ags``/``ars``/``cell_id``,
        columns ending in ``_id`` and every text column.
    suppress_below
        If given (e.g. :data:`DEFAULT_SUPPRESS_BELOW` = 5), counts of people ``v`` with
        ``0 < |v| < suppress_below`` are written as ``suppressed_as``; zeros stay. No
        secondary suppression: totals and shares are not changed.
    count_columns
        For a DataFrame with ``suppress_below``: the columns of people counts.
    suppressed_as
        What a suppressed cell holds: empty (default) or a marker such as ``"<5"`` (quoted).
    decimals
        Round floats to this many decimals (default: exactly, in the shortest form).

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
        If ``suppress_below`` is not a whole number of at least 1, or it is set for a DataFrame
        without ``count_columns``.

    Examples
    --------
    >>> import tempfile
    >>> frame = pd.DataFrame({"AGS": ["09999111"], "Name": ["=Probe"], "Anteil": [12.5]})
    >>> p = write_csv(frame, Path(tempfile.mkdtemp()) / "t.csv")
    >>> p.read_bytes().decode("utf-8-sig").splitlines()[1]
    '"09999111";"\\'=Probe";12,5'
    """
    lang = _check_language(language)
    out_path = Path(path)
    _check_folder(out_path)
    below = _check_suppress(suppress_below)
    what = _columns(table, lang, path=out_path, text_columns=text_columns,
                    count_columns=count_columns, below=below)
    df = what.frame
    _check_keys_are_text(df, what.text, out_path)
    marker = _quote(pd.Series([suppressed_as], dtype="str")).iloc[0] if suppressed_as else ""
    parts: list[pd.Series] = []
    n_suppressed = 0
    for c in df.columns:  # per column, vectorised within
        col = _format_column(df[c], text=c in what.text, decimals=decimals,
                             booleans=_BOOLEANS[lang])
        if c in what.counts and below is not None:
            small = _small_mask(df[c], below)
            n_suppressed += int(small.sum())
            col = col.where(~small, marker)
        parts.append(col.astype("str"))
    header = ";".join(_quote(pd.Series(what.headers, dtype="str")).tolist())
    if parts:
        body = parts[0].str.cat(pd.concat(parts[1:], axis=1), sep=";") if len(parts) > 1 \
            else parts[0]
        lines = [header, *body.tolist()]
    else:
        lines = [header]
    text = "\r\n".join(lines) + "\r\n"
    with atomic_path(out_path) as tmp:
        tmp.write_bytes(("\ufeff" + text).encode("utf-8"))
    if below is not None:
        log.info("%s: %s (1 bis %s) in %s unterdrückt", out_path.name,
                 plural(n_suppressed, "kleine Anzahl", "kleine Anzahlen"), de_number(below - 1),
                 plural(len(what.counts), "Spalte", "Spalten"))
    return out_path


# --- XLSX ------------------------------------------------------------------------------------


def _sheet_names(names: Iterable[str], reserved: str | None) -> list[str]:
    """Excel-safe sheet names (no []:*?/\\, at most 31 characters), unique."""
    out: list[str] = []
    seen = {reserved.lower()} if reserved else set()
    for raw in names:  # per sheet
        name = _XLSX_FORBIDDEN.sub("-", str(raw)).strip("'") or "Tabelle"
        short = name[:_MAX_SHEET]
        if short != str(raw):
            log.info("Blattname %r als %r geschrieben (Excel erlaubt 31 Zeichen, kein []:*?/\\)",
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
    if isinstance(value, bool | int | float | np.integer | np.floating | str):
        return value.item() if isinstance(value, np.generic) else value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_param_value(v)}" for k, v in value.items())
    if isinstance(value, Iterable):
        return ", ".join(str(_param_value(v)) for v in value)
    return str(value)


def _parameter_frame(parameters: Mapping[str, object], language: str) -> pd.DataFrame:
    rows = []
    for name, raw in parameters.items():  # one row per parameter (a few dozen)
        if isinstance(raw, Parameter):
            rows.append((str(name), raw.key, _param_value(raw.value), raw.unit or "–",
                         raw.meaning))
        else:
            rows.append((str(name), "", _param_value(raw), "–", ""))
    head = _PARAM_HEADER[language]
    frame = pd.DataFrame(rows, columns=list(head))
    frame[head[2]] = frame[head[2]].astype(object)
    return frame


def _xlsx_sheet(ws: Any, df: pd.DataFrame, text_cols: Sequence[str],
                number_formats: Mapping[str, str]) -> None:
    """Style a sheet written by pandas: bold frozen header, widths, text and number formats;
    text cells stay text (never formulas)."""
    from openpyxl.styles import Alignment, Border, Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    for j, col in enumerate(df.columns, start=1):  # per column; cells inside by openpyxl
        letter = get_column_letter(j)
        head = ws.cell(row=1, column=j)
        head.font = bold
        head.alignment = Alignment(wrap_text=False, vertical="top")
        head.border = Border()
        head.data_type = "s"
        fmt = "@" if col in text_cols else number_formats.get(col)
        if fmt is not None:
            for (cell,) in ws.iter_rows(min_row=2, max_row=len(df) + 1, min_col=j, max_col=j):
                cell.number_format = fmt
                if col in text_cols and cell.value is not None:
                    cell.data_type = "s"  # "=..." from an input is text, not a formula
        values = df[col].astype("str").fillna("")
        longest = int(values.str.len().max()) if len(values) else 0
        width = min(max(len(str(col)), longest) + 2, 60)
        ws.column_dimensions[letter].width = max(width, 6)
    ws.freeze_panes = "A2"


def _xlsx_frame(what: _Columns, name: str, below: int | None,
                suppressed_as: str) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    df = what.frame.copy()
    _check_keys_are_text(df, what.text, None)
    number_formats: dict[str, str] = {}
    for c in df.columns:
        dtype = df[c].dtype
        if c in what.text:
            present = df[c].notna().to_numpy()
            df[c] = df[c].astype("str").astype(object).where(present, None)
        elif pd.api.types.is_bool_dtype(dtype):
            continue
        elif pd.api.types.is_integer_dtype(dtype):
            number_formats[c] = "#,##0"
        elif pd.api.types.is_float_dtype(dtype):
            number_formats[c] = "#,##0.0##"
        elif pd.api.types.is_datetime64_any_dtype(dtype) or _is_dates(df[c]):
            number_formats[c] = "yyyy-mm-dd"
            df[c] = pd.to_datetime(df[c])
    n = 0
    for c in (what.counts if below is not None else []):
        small = _small_mask(df[c], below)  # type: ignore[arg-type]
        n += int(small.sum())
        if small.any():
            col = df[c].astype(object)
            col[small] = suppressed_as if suppressed_as else None
            df[c] = col
    if below is not None:
        log.info("Blatt %s: %s in %s unterdrückt", name,
                 plural(n, "kleine Anzahl", "kleine Anzahlen"),
                 plural(len(what.counts), "Spalte", "Spalten"))
    df.columns = what.headers
    labels = dict(zip(what.frame.columns, what.headers, strict=True))
    return (df, [labels[c] for c in what.text],
            {labels[k]: v for k, v in number_formats.items()})


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _fix_zip_times(path: Path, when: dt.datetime) -> None:
    """Rewrite an XLSX with one fixed time in its zip entries and its document properties
    (openpyxl stamps the time of saving): the same tables give the same bytes."""
    stamp = (when.year, when.month, when.day, when.hour, when.minute, when.second)
    iso = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path) as src:
        entries = [(i, src.read(i.filename)) for i in src.infolist()]
    entries = [(i, _MODIFIED.sub(rb"\g<1>" + iso + rb"\g<2>", d)
                if i.filename == "docProps/core.xml" else d) for i, d in entries]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info, data in entries:
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, data)


def write_xlsx(
    tables: Mapping[str, Table | pd.DataFrame],
    path: str | Path,
    *,
    parameters: Mapping[str, object] | None = None,
    suppress_below: int | None = None,
    suppressed_as: str = "",
    language: str = "de",
    created: dt.datetime | None = None,
) -> Path:
    """Write tables to an Excel workbook: one sheet per table and a sheet of parameters.

    AGS, ids and every text column are text cells (format ``@``; a text starting with ``=`` stays
    text), numbers are numbers (``#,##0`` or ``#,##0.0##``, shown with German separators by a
    German Excel), booleans are Excel booleans, dates are dates. The header row is bold and
    frozen; column widths follow the content (at most 60 characters).

    Parameters
    ----------
    tables
        Sheet name to table (a run's :class:`~kurszugang.results.Table`, labelled from its
        schema, or a DataFrame), in sheet order. Names are made Excel-safe (``[]:*?/\\`` become
        ``-``, at most 31 characters).
    path
        The ``.xlsx`` file to write (its folder must exist); replaced when complete.
    parameters
        Written to the last sheet ("Parameter"; "Parameters" in English) with the columns
        name, key, value, unit and meaning; a value may be a :class:`Parameter` with its unit
        and meaning.
    suppress_below
        If given (e.g. 5), people counts from 1 to ``suppress_below - 1`` of a run's tables
        become empty cells (or ``suppressed_as``).
    suppressed_as
        What a suppressed cell holds: empty (default) or a marker such as ``"<5"``.
    language
        ``"de"`` (default) or ``"en"``: headers and the parameter sheet.
    created
        The workbook's creation and modification time (and its zip entries'): default a fixed
        time, so that the same tables give the same bytes; a run passes its analysis date.

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
        what = _columns(table, lang, path=out_path)
        prepared.append((name, *_xlsx_frame(what, name, below if what.counts else None,
                                            suppressed_as)))
    params = dict(parameters or {})
    if below is not None:
        params.setdefault("suppress_below", Parameter(below, "Personen", key="suppress_below"))
    when = created or _FIXED_TIME
    with atomic_path(out_path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for name, df, text_cols, number_formats in prepared:
                df.to_excel(writer, sheet_name=name, index=False)
                _xlsx_sheet(writer.sheets[name], df, text_cols, number_formats)
            if params:
                pf = _parameter_frame(params, lang)
                pf.to_excel(writer, sheet_name=param_sheet, index=False)
                _xlsx_sheet(writer.sheets[param_sheet], pf, list(pf.columns[[0, 1, 3, 4]]), {})
            props = writer.book.properties
            props.creator = "kurszugang"
            props.lastModifiedBy = "kurszugang"
            props.created = when
            props.modified = when
        _fix_zip_times(tmp, when)
    return out_path


# --- a run's tables --------------------------------------------------------------------------


def run_parameters(results: Results, language: str) -> dict[str, Parameter]:
    """The parameter sheet of a run: every setting with its label, unit and meaning."""
    info = results.info
    out: dict[str, Parameter] = {}
    for key, label_de, label_en, value, unit, meaning_de, meaning_en in info.parameters:
        label = label_de if language == "de" else label_en
        meaning = meaning_de if language == "de" else (meaning_en or meaning_de)
        out[label] = Parameter(value, unit or "–", meaning, key=key)
    de = language == "de"
    out["Stand der Kursliste" if de else "Course list as of"] = Parameter(
        info.courses_as_of.isoformat() if info.courses_as_of else
        ("unbekannt" if de else "unknown"), "Datum" if de else "date",
        "Stand (Datum) der Kursliste: ab ihm zählen die Wochen bis zum Start" if de
        else "the date of the course list: waiting weeks are counted from it", key="as_of")
    version = info.versions.get("kurszugang", "")
    out["kurszugang"] = Parameter(version, "Version" if de else "version",
                                  "Version des Programms" if de else "version of the program",
                                  key="version")
    return out


def write_tables(results: Results, out_dir: Path, formats: Sequence[str], *,
                 suppress_below: int | None = None) -> list[Path]:
    """Write a run's tables: one CSV per table with a file name, and the workbook."""
    lang = results.info.language
    written: list[Path] = []
    files = [t for t in results.tables.values() if t.spec.file]
    below = suppress_below or None
    if "csv" in formats:
        for t in files:
            path = out_dir / f"{t.spec.file}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)  # plan/ for the planning tables
            written.append(write_csv(t, path, language=lang, suppress_below=below,
                                     decimals=t.spec.decimals))
    if "xlsx" in formats:
        sheets = {(t.spec.sheet_de if lang == "de" else t.spec.sheet_en): t for t in files
                  if t.spec.sheet_de}
        when = dt.datetime.combine(results.info.school_day, dt.time())
        written.append(write_xlsx(sheets, out_dir / XLSX_NAME,
                                  parameters=run_parameters(results, lang),
                                  suppress_below=below, language=lang, created=when))
    return written
