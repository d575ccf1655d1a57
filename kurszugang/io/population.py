"""Zensus population grid: 100 m and 1 km cells from CSV tables or GeoTIFF rasters.

Every input becomes one GeoDataFrame in EPSG:3035 (ETRS89-LAEA), one row per grid cell, with the
columns documented in ``docs/boundaries-and-grid.md``:

============  =====================================================================================
column        meaning
============  =====================================================================================
cell_id       INSPIRE cell id ``CRS3035RES{res}mN{north}E{east}`` of the lower-left corner, metres
resolution_m  cell edge length in metres (100 or 1000; int)
x, y          cell centre in EPSG:3035 metres (float64)
inhabitants   persons living in the cell (float64), NaN where the source has no value
foreigners    persons with a foreign citizenship (float64), NaN where the source has no value
geometry      the square cell (Polygon, EPSG:3035)
============  =====================================================================================

In the Zensus tables ``-1``, other negative codes, dashes and empty fields mean "no value"; they
become NaN, never zero. Tables may be separated by ``;``, ``,``, tab or ``|``. Messages read
German.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from pyproj import CRS

from kurszugang import crs as _crs
from kurszugang.errors import InputError, InputFormatError
from kurszugang.io._report import ValidationReport, data_error, german_number
from kurszugang.io.detect import sniff_separator

__all__ = ["GRID_CRS", "GRID_COLUMNS", "read_population_grid", "validate_population_grid"]

logger = logging.getLogger(__name__)

#: The CRS of the Zensus grid and of every GeoDataFrame returned here.
GRID_CRS = _crs.GRID_CRS

#: Output columns, in order.
GRID_COLUMNS = ("cell_id", "resolution_m", "x", "y", "inhabitants", "foreigners", "geometry")

_RES_TOKEN = {"100m": 100, "1km": 1000, "10km": 10000}
_ID_COLUMN = re.compile(r"^gitter_id_(100m|1km|10km)$", re.I)
_X_COLUMN = re.compile(r"^x_mp_(100m|1km|10km)$", re.I)
_Y_COLUMN = re.compile(r"^y_mp_(100m|1km|10km)$", re.I)
_INHABITANT_COLUMNS = ("Einwohner", "EWZ", "Insgesamt_Bevoelkerung")
_FOREIGNER_COUNT_COLUMNS = ("Auslaender", "STAATSANGE_KURZ_2")
_FOREIGNER_SHARE_COLUMNS = ("Auslaender_A", "AnteilAuslaender")
# cell ids: INSPIRE (full metres) or the short Zensus 2011 form (in units of the resolution)
_INSPIRE_ID = r"CRS3035RES(?P<res>\d+)mN(?P<n>\d+)E(?P<e>\d+)"
_SHORT_ID = r"(?P<sres>100m|1km|10km)N(?P<sn>\d+)E(?P<se>\d+)"
_ID_PATTERN = rf"^(?:{_INSPIRE_ID}|{_SHORT_ID})$"
_MAX_LISTED = 50  # problems listed one by one per kind; the rest are counted
_ROLE_DE = {"inhabitants": "Einwohner", "foreigners": "Ausländer"}

# Messages (German), in one place. ``{value}`` is the cell as written.
_MSG = {
    "missing": "gibt es nicht",
    "folder": "ist ein Ordner; erwartet ein Zensus-Raster als CSV oder GeoTIFF",
    "empty": "ist leer (0 Bytes; erwartet ein Zensus-Raster als CSV oder GeoTIFF)",
    "not_text": "ist keine Textdatei; erwartet ein Zensus-Raster als CSV (';'-getrennt)",
    "no_header": "Zeile 1 ist keine CSV-Kopfzeile (kein ';', ',', Tabulator oder '|'): {text!r}; "
                 "erwartet Spalten wie Gitter_ID_100m;x_mp_100m;y_mp_100m;Einwohner",
    "not_a_number": "{value!r} ist keine Zahl (erwartet eine Anzahl, -1 oder leer für keinen "
                    "Wert)",
    "bad_coordinate": "{value!r} ist keine Zahl (erwartet den Zellmittelpunkt in Metern, "
                      "EPSG:3035)",
    "off_grid": "{value} ist nicht der Mittelpunkt einer {res}-m-Zelle (Mittelpunkte haben Wert "
                "mod {res} = {half})",
    "bad_cell_id": "{value!r} ist keine Kennung einer Rasterzelle (erwartet z. B. "
                   "CRS3035RES100mN2691700E4341100 oder 100mN26917E43411)",
    "more_lines": "… und {n} weitere Zeilen mit diesem Problem",
    "no_cell_columns": "hat weder eine Spalte mit Zellkennungen (Gitter_ID_100m, Gitter_ID_1km) "
                       "noch beide Mittelpunktspalten (x_mp_100m und y_mp_100m bzw. x_mp_1km und "
                       "y_mp_1km); gefunden: {found}",
    "no_population_column": "hat keine Bevölkerungsspalte: erwartet eine von {expected} "
                            "(gefunden: {found})",
    "share_without_inhabitants": "hat den Ausländeranteil {column} (%), aber keine "
                                 "Einwohnerspalte, um daraus eine Anzahl zu machen; erwartet "
                                 "eine von {expected}",
    "resolutions_differ": "die Spalten nennen verschiedene Zellgrößen ({tokens})",
    "bad_csv": "ist keine wohlgeformte CSV-Tabelle ({reason})",
    "no_records": "hat keine Datensätze",
    "header_only": "hat eine Kopfzeile, aber keine Datensätze",
    "blank_lines": "{n} leere Zeilen übersprungen",
    "mixed_cells": "mischt Zellen von {sizes}; eine Datei muss eine Zellgröße haben",
    "wrong_resolution": "{value!r} ist keine {res}-m-Zelle, wie die Spaltennamen sagen",
    "no_cell_size": "die Zellgröße ist nicht zu erkennen: die Spalten x_mp_100m/x_mp_1km nennen "
                    "oder Zellkennungen angeben",
    "id_mismatch": "{value!r} passt nicht zum Mittelpunkt in {x}/{y}",
    "no_cells": "hat weder Zellkennungen noch Mittelpunktkoordinaten",
    "bad_share": "{value!r} ist kein Anteil in Prozent (0 bis 100)",
    "foreigners_from_share": "Ausländer berechnet als {inhabitants} × {share} / 100",
    "duplicate_cell": "{value!r} wiederholt eine Zelle aus einer früheren Zeile",
    "tiff_unreadable": "lässt sich nicht als GeoTIFF lesen ({reason})",
    "tiff_no_crs": "hat kein Koordinatensystem; erwartet ein Zensus-Raster in EPSG:3035",
    "tiff_other_crs": "ist in {crs}; erwartet das Zensus-Raster in EPSG:3035 (mit gdalwarp "
                      "zellgenau umprojizieren)",
    "tiff_cells": "hat Zellen von {a} × {e} m (oder eine Drehung); erwartet quadratische Zellen "
                  "von 100 m oder 1 km",
    "tiff_aligned": "liegt nicht auf dem {res}-m-Raster (Ursprung {x}, {y})",
    "tiff_bands": "hat {n} Bänder, keines benannt (Bandbeschreibungen {names}); erwartet ein Band "
                  "mit Einwohnern oder Bänder namens Einwohner / Auslaender",
    "tiff_band": "{role} = Band {band}",
    "tiff_kept": "{n} Zellen mit einem Wert > 0 übernommen; die übrigen (0 oder kein Wert) sind "
                 "keine Zeilen",
    "bad_bbox": "bbox={bbox!r} sind keine vier Zahlen (minx, miny, maxx, maxy)",
    "bbox_order": "bbox={bbox!r} ist nicht (minx, miny, maxx, maxy) mit min < max",
    "bad_bbox_crs": "crs_of_bbox={crs!r} ist kein Koordinatensystem ({reason})",
    "bbox_empty": "bbox {box} (EPSG:3035) wählt keine Zelle; die Zellmittelpunkte reichen von "
                  "x {x0} bis {x1}, y {y0} bis {y1} (crs_of_bbox und die Reihenfolge minx, miny, "
                  "maxx, maxy prüfen)",
}
_GRID_BAND_NAMES = {
    "inhabitants": ("einwohner", "ewz", "insgesamt_bevoelkerung", "inhabitants", "population"),
    "foreigners": ("auslaender", "staatsange_kurz_2", "foreigners"),
}


# --------------------------------------------------------------------------------------------
# CSV


def _sniff_header(path: Path) -> tuple[list[str], str]:
    """The header fields and the separator of a grid CSV, or an error naming the file."""
    with path.open("rb") as fh:
        first = fh.readline(65536)
    if b"\x00" in first:
        raise InputFormatError(_MSG["not_text"], path=path)
    text = first.decode("utf-8-sig", errors="replace").rstrip("\r\n")
    sep = sniff_separator([text])
    if sep not in text:
        raise InputFormatError(_MSG["no_header"].format(text=text[:60]), path=path)
    return [f.strip().strip('"') for f in text.split(sep)], sep


def _find(fields: Sequence[str], candidates: Sequence[str]) -> str | None:
    lower = {f.lower(): f for f in fields}
    for cand in candidates:
        if cand.lower() in lower:
            return lower[cand.lower()]
    return None


def _match(fields: Sequence[str], pattern: re.Pattern[str]) -> str | None:
    found = [f for f in fields if pattern.match(f)]
    return found[0] if found else None


class _Problems:
    """Collects record problems per kind, listing the first few lines of each in the report."""

    def __init__(self, report: ValidationReport, name: str) -> None:
        self.report = report
        self.name = name

    def rows(self, mask: np.ndarray, lines: np.ndarray, column: str | None, values: Any,
             message: str, code: str, *, severity: str = "error") -> None:
        """Record ``message`` (with ``{value}`` filled in) for every row in ``mask``."""
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        add = self.report.error if severity == "error" else self.report.warning
        vals = np.asarray(values, dtype=object) if values is not None else None
        for i in idx[:_MAX_LISTED]:
            value = vals[i] if vals is not None else ""
            add(self.name, int(lines[i]), column, message.format(value=value), code)
        if len(idx) > _MAX_LISTED:
            add(self.name, None, column,
                _MSG["more_lines"].format(n=german_number(len(idx) - _MAX_LISTED)), code)


def _numbers(
    text: pd.Series, column: str, sep: str, problems: _Problems, lines: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Parse a value column: returns float values (NaN for no value) and the 'no value' mask.

    Empty fields, dashes and negative numbers (the Zensus codes -1, -9, ...) mean no value.
    """
    s = text.fillna("").str.strip()
    if sep != "," and s.str.contains(",", regex=False).any():
        s = s.str.replace(",", ".", regex=False)  # decimal comma in German ';' or '|' tables
    empty = (s == "") | s.str.fullmatch(r"[-\u2013\u2014]+").fillna(False).astype(bool)
    num = pd.to_numeric(s.mask(empty), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    bad = np.isnan(num) & ~empty.to_numpy()
    problems.rows(bad, lines, column, s.to_numpy(dtype=object), _MSG["not_a_number"],
                  "not_a_number")
    missing = np.isnan(num) | (num < 0)
    return np.where(missing, np.nan, num), missing


def _coordinates(
    text: pd.Series, column: str, res: int, problems: _Problems, lines: np.ndarray
) -> np.ndarray:
    """Parse a cell-centre column and check that every centre lies on the grid."""
    s = text.fillna("").str.strip()
    num = pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    bad = np.isnan(num)
    problems.rows(bad, lines, column, s.to_numpy(dtype=object), _MSG["bad_coordinate"],
                  "bad_coordinate")
    off = ~bad & (np.mod(num, res) != res / 2)
    problems.rows(off, lines, column, s.to_numpy(dtype=object),
                  _MSG["off_grid"].replace("{res}", str(res)).replace("{half}", str(res // 2)),
                  "off_grid")
    return num


def _parse_ids(
    ids: pd.Series, column: str, problems: _Problems, lines: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Resolution and lower-left corner (metres) of every cell id; NaN where unreadable."""
    text = pa.array(ids.fillna("").str.strip(), type=pa.string())
    if isinstance(text, pa.ChunkedArray):  # long columns come from pandas in chunks
        text = text.combine_chunks()
    parts = pc.extract_regex(text, _ID_PATTERN)

    def number(field: str) -> np.ndarray:
        child = parts.field(field)
        blank = pc.equal(child, "")
        child = pc.if_else(blank, pa.scalar(None, child.type), child)
        return np.asarray(pc.cast(child, pa.float64()).to_numpy(zero_copy_only=False))

    res = number("res")  # INSPIRE ids: full metres
    north = number("n")
    east = number("e")
    short = np.isnan(res) & parts.is_valid().to_numpy(zero_copy_only=False)
    if short.any():  # short ids: units of the cell size
        units = np.array([float(v) for v in _RES_TOKEN.values()])
        which = pc.index_in(parts.field("sres"), pa.array(list(_RES_TOKEN)))
        unit = units[np.asarray(pc.fill_null(which, 0).to_numpy(zero_copy_only=False))]
        res = np.where(short, unit, res)
        north = np.where(short, number("sn") * unit, north)
        east = np.where(short, number("se") * unit, east)
    bad = np.isnan(res) | np.isnan(north) | np.isnan(east)
    problems.rows(bad, lines, column, ids.to_numpy(dtype=object), _MSG["bad_cell_id"],
                  "bad_cell_id")
    return res, north, east


@dataclass(frozen=True)
class _Columns:
    """Which columns of a grid table hold what, and the separator."""

    sep: str
    cell_id: str | None
    x: str | None
    y: str | None
    inhabitants: str | None
    count: str | None  # foreigners as a count
    share: str | None  # foreigners as a share in percent (only without a count)

    def used(self) -> list[str]:
        return [c for c in (self.cell_id, self.x, self.y, self.inhabitants, self.count,
                            self.share) if c]


def _columns(path: Path) -> _Columns:
    """The columns of a grid table, or an error naming what is missing."""
    fields, sep = _sniff_header(path)
    count = _find(fields, _FOREIGNER_COUNT_COLUMNS)
    cols = _Columns(sep, _match(fields, _ID_COLUMN) or _find(fields, ("cell_id", "Gitter_ID")),
                    _match(fields, _X_COLUMN), _match(fields, _Y_COLUMN),
                    _find(fields, _INHABITANT_COLUMNS), count,
                    _find(fields, _FOREIGNER_SHARE_COLUMNS) if count is None else None)
    if cols.cell_id is None and (cols.x is None or cols.y is None):
        raise InputError(_MSG["no_cell_columns"].format(found=", ".join(fields)), path=path)
    if cols.inhabitants is None and cols.count is None and cols.share is None:
        expected = _INHABITANT_COLUMNS + _FOREIGNER_COUNT_COLUMNS + _FOREIGNER_SHARE_COLUMNS
        raise InputError(_MSG["no_population_column"].format(
            expected=", ".join(expected), found=", ".join(fields)), path=path)
    if cols.share is not None and cols.inhabitants is None:
        raise InputError(_MSG["share_without_inhabitants"].format(
            column=cols.share, expected=", ".join(_INHABITANT_COLUMNS)), path=path)
    return cols


def _named_resolution(cols: _Columns, path: Path) -> int | None:
    """The cell size the column names say (``x_mp_100m`` ...); all of them must agree."""
    tokens = {m.group(1).lower() for f in (cols.cell_id, cols.x, cols.y) if f
              for m in [re.search(r"(100m|1km|10km)$", f, re.I)] if m}
    if len(tokens) > 1:
        raise InputError(_MSG["resolutions_differ"].format(tokens=", ".join(sorted(tokens))),
                         path=path)
    return _RES_TOKEN[tokens.pop()] if tokens else None


def _records(path: Path, cols: _Columns, report: ValidationReport
             ) -> tuple[pd.DataFrame, np.ndarray]:
    """The used columns as text, blank lines dropped (and counted), with their line numbers."""
    try:
        table = pd.read_csv(
            path, sep=cols.sep, usecols=cols.used(), dtype=str, keep_default_na=False,
            na_filter=False, skip_blank_lines=False, encoding="utf-8-sig",
            encoding_errors="replace",
        )
    except pd.errors.ParserError as exc:
        reason = str(exc).replace("Error tokenizing data. C error: ", "")
        raise InputFormatError(_MSG["bad_csv"].format(reason=reason), path=path) from exc
    except pd.errors.EmptyDataError as exc:
        raise InputFormatError(_MSG["no_records"], path=path) from exc
    lines = np.arange(2, len(table) + 2)
    blank = (table == "").all(axis=1).to_numpy()
    if blank.any():
        report.notes.append(_MSG["blank_lines"].format(n=german_number(int(blank.sum()))))
        table = table.loc[~blank]
        lines = lines[~blank]
    if table.empty:
        raise InputFormatError(_MSG["header_only"], path=path)
    report.counts["records"] = len(table)
    return table, lines


def _centres(table: pd.DataFrame, cols: _Columns, res_named: int | None, path: Path,
             problems: _Problems, lines: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """Cell size and cell centres: from the coordinate columns (checked against the ids), else
    from the ids."""
    res = res_named
    north = east = None
    if cols.cell_id is not None:
        ids = table[cols.cell_id]
        id_res, north, east = _parse_ids(ids, cols.cell_id, problems, lines)
        seen = np.unique(id_res[~np.isnan(id_res)])
        if res is None and len(seen) > 1:
            raise InputError(_MSG["mixed_cells"].format(
                sizes=", ".join(f"{r:.0f} m" for r in seen)), path=path, column=cols.cell_id)
        if res is None:
            res = int(seen[0]) if len(seen) else None
        if res is not None:
            other = ~np.isnan(id_res) & (id_res != res)
            problems.rows(other, lines, cols.cell_id, ids.to_numpy(dtype=object),
                          _MSG["wrong_resolution"].replace("{res}", str(res)), "wrong_resolution")
    if res is None:
        raise InputError(_MSG["no_cell_size"], path=path)
    half = res / 2
    if cols.x is None or cols.y is None:
        assert north is not None and east is not None  # the column check saw to it
        return res, east + half, north + half
    x = _coordinates(table[cols.x], cols.x, res, problems, lines)
    y = _coordinates(table[cols.y], cols.y, res, problems, lines)
    if cols.cell_id is not None and north is not None and east is not None:
        ok = ~np.isnan(x) & ~np.isnan(y) & ~np.isnan(north)
        mismatch = ok & ((east + half != x) | (north + half != y))
        problems.rows(mismatch, lines, cols.cell_id, table[cols.cell_id].to_numpy(dtype=object),
                      _MSG["id_mismatch"].replace("{x}", cols.x).replace("{y}", cols.y),
                      "id_mismatch")
    return res, x, y


def _values(table: pd.DataFrame, cols: _Columns, problems: _Problems, lines: np.ndarray,
            report: ValidationReport) -> tuple[np.ndarray, np.ndarray]:
    """Inhabitants and foreigners per cell (NaN = no value); a share becomes a count."""
    inhabitants = np.full(len(table), np.nan)
    foreigners = np.full(len(table), np.nan)
    if cols.inhabitants is not None:
        inhabitants, missing = _numbers(table[cols.inhabitants], cols.inhabitants, cols.sep,
                                        problems, lines)
        report.counts["cells without inhabitants value"] = int(missing.sum())
    if cols.count is not None:
        foreigners, missing = _numbers(table[cols.count], cols.count, cols.sep, problems, lines)
        report.counts["cells without foreigners value"] = int(missing.sum())
    elif cols.share is not None:
        share, missing = _numbers(table[cols.share], cols.share, cols.sep, problems, lines)
        over = share > 100
        problems.rows(over, lines, cols.share, table[cols.share].to_numpy(dtype=object),
                      _MSG["bad_share"], "bad_share")
        foreigners = inhabitants * np.where(over, np.nan, share) / 100.0
        report.counts["cells without foreigners value"] = int(np.isnan(foreigners).sum())
        report.notes.append(_MSG["foreigners_from_share"].format(inhabitants=cols.inhabitants,
                                                                  share=cols.share))
    return inhabitants, foreigners


def _read_csv(path: Path, report: ValidationReport) -> pd.DataFrame:
    """Parse a Zensus grid CSV into the output columns (without geometry)."""
    cols = _columns(path)
    res_named = _named_resolution(cols, path)
    table, lines = _records(path, cols, report)
    problems = _Problems(report, path.name)
    res, x, y = _centres(table, cols, res_named, path, problems, lines)
    inhabitants, foreigners = _values(table, cols, problems, lines, report)
    out = pd.DataFrame({"x": x, "y": y, "inhabitants": inhabitants, "foreigners": foreigners})
    out["resolution_m"] = res
    # one row per cell
    key = cols.cell_id or cols.x
    dup = out[["x", "y"]].duplicated(keep="first").to_numpy() & ~np.isnan(x) & ~np.isnan(y)
    problems.rows(dup, lines, key, table[key].to_numpy(dtype=object) if key else None,
                  _MSG["duplicate_cell"], "duplicate_cell")
    # in file order (a stable sort keeps the order of the checks within one line)
    report.problems.sort(key=lambda p: (p.row is None, p.row or 0))
    return out


# --------------------------------------------------------------------------------------------
# GeoTIFF


def _read_tiff(path: Path, report: ValidationReport) -> pd.DataFrame:
    """Cells with a value > 0 of a Zensus grid GeoTIFF (EPSG:3035, 100 m or 1 km)."""
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioIOError

    try:
        with warnings.catch_warnings():
            # a raster without georeferencing is reported below as an InputError
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            src = rasterio.open(path)
    except RasterioIOError as exc:
        raise InputFormatError(_MSG["tiff_unreadable"].format(reason=exc), path=path) from exc
    with src:
        if src.crs is None:
            raise InputError(_MSG["tiff_no_crs"], path=path)
        if CRS.from_user_input(src.crs) != CRS.from_user_input(GRID_CRS):
            raise InputError(_MSG["tiff_other_crs"].format(crs=src.crs.to_string()), path=path)
        t = src.transform
        res = float(t.a)
        if t.b != 0 or t.d != 0 or res <= 0 or -t.e != res or res not in (100, 1000, 10000):
            raise InputError(_MSG["tiff_cells"].format(a=f"{t.a:g}", e=f"{-t.e:g}"), path=path)
        if t.c % res or t.f % res:
            raise InputError(_MSG["tiff_aligned"].format(res=f"{res:g}", x=f"{t.c:g}",
                                                         y=f"{t.f:g}"), path=path)
        names = [(d or "").strip().lower() for d in src.descriptions]
        bands: dict[str, int] = {}
        for role, candidates in _GRID_BAND_NAMES.items():
            for i, band_name in enumerate(names):
                if band_name in candidates:
                    bands.setdefault(role, i + 1)
        if not bands:
            if src.count != 1:
                raise InputError(_MSG["tiff_bands"].format(
                    n=src.count, names=", ".join(repr(n) for n in names)), path=path)
            bands["inhabitants"] = 1
        report.counts["bands"] = ", ".join(_MSG["tiff_band"].format(role=_ROLE_DE[role], band=b)
                                           for role, b in bands.items())
        values: dict[str, np.ndarray] = {}
        for role, b in bands.items():
            arr = src.read(b, masked=True).astype("float64")
            values[role] = arr.filled(np.nan)
    stack = np.stack([np.where(v < 0, np.nan, v) for v in values.values()])
    present = np.nan_to_num(stack, nan=0.0) > 0
    rows, cols = np.nonzero(present.any(axis=0))
    out = pd.DataFrame({
        "x": t.c + (cols + 0.5) * res,
        "y": t.f - (rows + 0.5) * res,
        "inhabitants": values["inhabitants"][rows, cols] if "inhabitants" in values else np.nan,
        "foreigners": values["foreigners"][rows, cols] if "foreigners" in values else np.nan,
    })
    for col in ("inhabitants", "foreigners"):
        out[col] = out[col].where(out[col] >= 0)
    out["resolution_m"] = int(res)
    report.counts["raster cells"] = int(present.shape[1] * present.shape[2])
    report.notes.append(_MSG["tiff_kept"].format(n=german_number(len(out))))
    return out


# --------------------------------------------------------------------------------------------
# shared


def _load(path: Path, report: ValidationReport) -> pd.DataFrame:
    if not path.exists():
        raise InputFormatError(_MSG["missing"], path=path)
    if path.is_dir():
        raise InputFormatError(_MSG["folder"], path=path)
    if path.stat().st_size == 0:
        raise InputFormatError(_MSG["empty"], path=path)
    if path.suffix.lower() in (".tif", ".tiff"):
        return _read_tiff(path, report)
    return _read_csv(path, report)


def _finish(table: pd.DataFrame) -> gpd.GeoDataFrame:
    """Cell ids and square geometries for parsed cells."""
    res = table["resolution_m"].to_numpy(dtype="int64")
    half = res / 2
    x = table["x"].to_numpy(dtype="float64")
    y = table["y"].to_numpy(dtype="float64")
    east = pd.Series((x - half).astype("int64")).astype("str")
    north = pd.Series((y - half).astype("int64")).astype("str")
    res_text = pd.Series(res).astype("str")
    cell_id = "CRS3035RES" + res_text + "mN" + north + "E" + east
    frame = pd.DataFrame({
        "cell_id": cell_id.to_numpy(),
        "resolution_m": res,
        "x": x,
        "y": y,
        "inhabitants": table["inhabitants"].to_numpy(dtype="float64"),
        "foreigners": table["foreigners"].to_numpy(dtype="float64"),
    })
    frame["cell_id"] = frame["cell_id"].astype("str")
    geometry = shapely.box(x - half, y - half, x + half, y + half)
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=GRID_CRS)


def _bbox_3035(bbox: Sequence[float], crs_of_bbox: Any, path: Path) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in bbox)
    except (TypeError, ValueError) as exc:
        raise InputError(_MSG["bad_bbox"].format(bbox=bbox), path=path) from exc
    if len(values) != 4 or not (values[0] < values[2] and values[1] < values[3]):
        raise InputError(_MSG["bbox_order"].format(bbox=bbox), path=path)
    try:
        crs = CRS.from_user_input(crs_of_bbox)
    except Exception as exc:
        raise InputError(_MSG["bad_bbox_crs"].format(crs=crs_of_bbox, reason=exc),
                         path=path) from exc
    if crs == CRS.from_user_input(GRID_CRS):
        return values
    to_grid = _crs.transformer(crs.to_string(), GRID_CRS)
    return tuple(to_grid.transform_bounds(*values, densify_pts=21))


# --------------------------------------------------------------------------------------------
# public API


def read_population_grid(
    path: str | Path,
    *,
    bbox: Sequence[float] | None = None,
    crs_of_bbox: Any = "EPSG:3035",
) -> gpd.GeoDataFrame:
    """Read a Zensus population grid (CSV or GeoTIFF) into one row per cell.

    CSV tables (``;`` or ``,`` separated) need a cell-id column (``Gitter_ID_100m``,
    ``Gitter_ID_1km``, INSPIRE or short ids) and/or the centre columns ``x_mp_100m``/``y_mp_100m``
    (``x_mp_1km``/``y_mp_1km``), and an inhabitants column (``Einwohner``, ``EWZ``,
    ``Insgesamt_Bevoelkerung``) and/or foreigners as a count (``Auslaender``,
    ``STAATSANGE_KURZ_2``) or as a share in percent (``Auslaender_A``; count = inhabitants x share
    / 100). ``-1``, other negative codes and empty fields mean no value (NaN). GeoTIFFs must be
    EPSG:3035 grids of 100 m or 1 km cells: one band of inhabitants or bands named ``Einwohner``/
    ``Auslaender``; nodata is respected and only cells with a value > 0 become rows.

    Parameters
    ----------
    path
        A ``.csv`` (or ``.txt``) table or a ``.tif`` raster.
    bbox
        Keep only cells whose centre lies in ``(minx, miny, maxx, maxy)`` (bounds included).
    crs_of_bbox
        The CRS of ``bbox``; default EPSG:3035. Other CRSs are transformed to the bounding box
        of the transformed box.

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:3035 with ``cell_id`` (INSPIRE id of the lower-left corner, full metres),
        ``resolution_m`` (int), ``x``, ``y`` (cell centre, metres), ``inhabitants`` and
        ``foreigners`` (float64, NaN = no value) and the square cell ``geometry``.

    Raises
    ------
    InputFormatError
        If the file is missing, empty or not a CSV/GeoTIFF.
    InputError
        If required columns are missing, the cell size cannot be told, a raster is not an
        EPSG:3035 grid, or ``bbox`` is malformed or selects no cell.
    DataValidationError
        If records are bad (not a number, a centre off the grid, an id not matching its centre,
        a repeated cell), listing every line with its column.

    Examples
    --------
    >>> grid = read_population_grid(demo.population)
    >>> grid["inhabitants"].sum()
    np.float64(46092.0)
    >>> grid[["cell_id", "resolution_m", "inhabitants", "foreigners"]].head(2)
                              cell_id  resolution_m  inhabitants  foreigners
    0  CRS3035RES100mN2898400E4495300           100          1.0         0.0
    1  CRS3035RES100mN2898400E4495400           100          1.0         0.0
    """
    p = Path(path)
    report = ValidationReport(source=str(p), kind="population grid", lang="de")
    box = _bbox_3035(bbox, crs_of_bbox, p) if bbox is not None else None
    table = _load(p, report)
    if report.errors:
        raise data_error(report.errors, path=p)
    if box is not None:
        x = table["x"].to_numpy()
        y = table["y"].to_numpy()
        inside = (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])
        if not inside.any():
            raise InputError(_MSG["bbox_empty"].format(
                box=tuple(round(v) for v in box), x0=german_number(round(x.min())),
                x1=german_number(round(x.max())), y0=german_number(round(y.min())),
                y1=german_number(round(y.max()))), path=p)
        table = table.loc[inside]
    grid = _finish(table)
    for col in ("inhabitants", "foreigners"):
        n = int(grid[col].isna().sum())
        if n and n < len(grid):
            logger.info("%s: %s von %s Zellen haben keinen Wert %s (NaN)", p.name,
                        german_number(n), german_number(len(grid)), col)
    logger.info("%s Rasterzellen zu %s m aus %s gelesen", german_number(len(grid)),
                german_number(int(grid["resolution_m"].iloc[0]) if len(grid) else 0), p.name)
    return grid


def validate_population_grid(path: str | Path) -> ValidationReport:
    """Check a Zensus grid CSV or GeoTIFF and report counts and problems; never raises for bad data.

    Parameters
    ----------
    path
        A grid file as accepted by :func:`read_population_grid`.

    Returns
    -------
    ValidationReport
        Counts (records, cells, resolution, sums of inhabitants and foreigners, cells without a
        value) and every problem naming line and column. An unreadable file is one error.

    Raises
    ------
    Nothing for bad data; only programming errors propagate.

    Examples
    --------
    >>> print(validate_population_grid(demo.population).format())
    Bevölkerungsraster (Zensus): zensus_beispiel_100m.csv
      Datensätze: 2.466
      Zellen ohne Einwohnerwert: 0
      Zellen ohne Ausländerwert: 0
      Zellen: 2.466
      Zellgröße: 100 m
      Einwohner (Summe): 46.092
      Ausländer (Summe): 5.026
      0 Fehler
      0 Warnungen
    """
    p = Path(path)
    report = ValidationReport(source=str(p), kind="population grid", lang="de")
    try:
        table = _load(p, report)
    except InputError as exc:
        report.error(p.name, exc.row, exc.column, exc.message, code="unreadable")
        return report
    report.counts["cells"] = len(table)
    if len(table):
        report.counts["resolution"] = f"{int(table['resolution_m'].iloc[0])} m"
    for col in ("inhabitants", "foreigners"):
        if table[col].notna().any():
            report.counts[f"{col} (sum)"] = int(round(float(table[col].sum())))
    return report
