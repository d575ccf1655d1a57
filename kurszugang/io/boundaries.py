"""Municipal boundaries: BKG VG250/VG5000 (shapefile, GeoPackage) and LDBV-style GeoJSON.

Every input is turned into one GeoDataFrame in EPSG:25832 with the same columns (see
``docs/boundaries-and-grid.md``):

============  ===================================================================================
column        meaning
============  ===================================================================================
ags           official key as text: 8 digits for Gemeinden, 5 for Kreise, 3 for
              Regierungsbezirke, 2 for Länder; missing for Verwaltungsgemeinschaften (their AGS
              field is ``--------``)
ars           regional key as text (12 digits for Gemeinden, 9 for Verwaltungsgemeinschaften), or
              NaN
gen           name
bez           type ("Gemeinde", "Markt", "Stadt", "Landkreis", ...), or NaN
ewz           inhabitants (Int64), or <NA> where the file has no EWZ field
gf            BKG "Geofaktor" (Int8): 1/2 water, 3/4 land (VG250), 9 in VG5000; <NA> if absent
kreis         the 5-digit Kreis key (first 5 digits of ags/ars), NaN for Länder and Bezirke
gemeindefrei  True for an unincorporated area (gemeindefreies Gebiet: BEZ or name say so, or a
              Bavarian key whose Gemeinde part is 4xx); such an area is no Gemeinde
geometry      Polygon or MultiPolygon, valid
============  ===================================================================================

Keys never pass through a number: they are read as text. A key stored as a number in the file is
zero-padded back to its width and a warning is logged and reported.

:func:`boundary_source` tells which product a file is (VG250, VG5000, LDBV or other);
:func:`district_info` gives the name and type of a Kreis from its key. Messages read German.
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from kurszugang.crs import ANALYSIS_CRS
from kurszugang.errors import InputError, InputFormatError
from kurszugang.io._report import ValidationReport, data_error, german_number

__all__ = [
    "OUTPUT_CRS",
    "BOUNDARY_COLUMNS",
    "BOUNDARY_SOURCES",
    "DistrictInfo",
    "boundary_source",
    "district_info",
    "list_districts",
    "missing_companions",
    "read_boundaries",
    "validate_boundaries",
]

logger = logging.getLogger(__name__)

#: The CRS of every boundary GeoDataFrame this module returns.
OUTPUT_CRS = ANALYSIS_CRS

#: Output columns, in order.
BOUNDARY_COLUMNS = ("ags", "ars", "gen", "bez", "ewz", "gf", "kreis", "gemeindefrei", "geometry")

#: What :func:`boundary_source` can answer.
BOUNDARY_SOURCES = ("VG250", "VG5000", "LDBV", "other")

# Candidate field names per output column, in order of preference, matched case-insensitively.
# BKG VG250/VG5000 (AGS, ARS, GEN, BEZ, GF, EWZ, ADE), LDBV GeoJSON (ags, rs, name, art) and the
# VG25 schema with German long names cut to 10 characters by the shapefile format.
_AGS_FIELDS = ("AGS", "Gemeindesc", "AGS_0", "Gemeinde_1")
_ARS_FIELDS = ("ARS", "RS", "Regionalsc", "ARS_0")
_GEN_FIELDS = ("GEN", "name", "Geografisc")
_BEZ_FIELDS = ("BEZ", "art", "Bezeichnun")
_GF_FIELDS = ("GF",)
_EWZ_FIELDS = ("EWZ", "Einwohnerz")
_ADE_FIELDS = ("ADE",)

# Administrative level (BKG "ADE"): 2 Land, 3 Regierungsbezirk, 4 Kreis, 5 Verwaltungsgemeinschaft,
# 6 Gemeinde. Width of the AGS and of the ARS per level (0 = the level has no AGS).
_AGS_WIDTH_BY_ADE = {2: 2, 3: 3, 4: 5, 5: 0, 6: 8}
_ARS_WIDTH_BY_ADE = {2: 2, 3: 3, 4: 5, 5: 9, 6: 12}
_ADE_BY_ARS_WIDTH = {2: 2, 3: 3, 5: 4, 9: 5, 12: 6}
# A text key that lost its leading zero (e.g. "9472111" from a spreadsheet) -> the width it needs.
_ADE_BY_AGS_LENGTH = {1: 2, 2: 2, 3: 3, 4: 4, 5: 4, 7: 6, 8: 6}
_LEVEL_NAME = {
    2: "Land",
    3: "Regierungsbezirk",
    4: "Kreis",
    5: "Verwaltungsgemeinschaft",
    6: "Gemeinde",
}
# Layer or file names that tell the level (VG250_GEM, vg250_krs, VG5000_RBZ, gemeinden, ...).
_LEVEL_HINTS = (
    (re.compile(r"(^|[^a-z])gem($|[^a-z])|gemeinde", re.I), 6),
    (re.compile(r"(^|[^a-z])vwg($|[^a-z])|verwaltungsgem", re.I), 5),
    (re.compile(r"(^|[^a-z])krs($|[^a-z])|kreis", re.I), 4),
    (re.compile(r"(^|[^a-z])rbz($|[^a-z])|bezirk", re.I), 3),
    (re.compile(r"(^|[^a-z])lan($|[^a-z])|land", re.I), 2),
)
_GEMEINDE_LAYER = _LEVEL_HINTS[0][0]
# GF 1 and 2: water areas in VG250 ("Gewässer ohne/mit Struktur"); GF 8: "ohne Struktur" in
# VG5000, used there only for the sea areas and the Bodensee in the Länder layer (VG_WERTE.dbf).
_WATER_GF = (1, 2, 8)
_FEATURE_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".fgb")
# Unincorporated areas: BEZ "Gemeindefreies Gebiet" (VG250, VG5000), a name saying so, or in
# Bavaria a Gemeinde key 09xxx4xx (LDBV names them "... Forst" with art "Gemeinde").
_GEMEINDEFREI_TEXT = r"(?i)gemeindefrei"
_BAVARIAN_GEMEINDEFREI_AGS = r"09\d{3}4\d{2}"
_COMPANION_ROLE = {".shx": "Index der Geometrien", ".dbf": "Attribute mit den Schlüsseln",
                   ".prj": "Koordinatensystem"}

# Messages (German), in one place.
_MSG = {
    "missing": "gibt es nicht",
    "empty": "ist leer (0 Bytes; erwartet eine Datei mit Verwaltungsgrenzen)",
    "unreadable": "lässt sich nicht als {kind} lesen ({reason}); erwartet ein Shapefile, "
                  "GeoPackage oder GeoJSON mit Gemeindegrenzen",
    "kind_folder": "Ordner mit Shapefiles",
    "kind_file": "{suffix}-Datei",
    "companion": "{missing} {verb} neben {name} (ein Shapefile besteht aus .shp, .shx, .dbf und "
                 ".prj; {role}); die Datei{s} dazulegen{prj_hint}",
    "prj_hint": " oder das Koordinatensystem mit crs= angeben",
    "no_layer": "hat keine Ebene {layer!r}; ihre Ebenen: {names}",
    "no_polygon_layer": "hat keine Flächenebene (Ebenen: {names}); erwartet Gemeindegrenzen",
    "no_gemeinde_layer": "hat {n} Flächenebenen und keine davon ist eine Gemeindeebene "
                         "({names}); eine mit layer= wählen",
    "bad_zip": "ist kein gültiges Zip-Archiv",
    "empty_zip": "ist ein Zip-Archiv ohne Shapefile, GeoPackage oder GeoJSON darin",
    "no_field": "hat kein Feld {field!r} (key_column=); ihre Felder: {fields}",
    "no_key_column": "keine Schlüsselspalte: erwartet eine von {expected} (gefunden: {found}); "
                     "die Spalte mit dem AGS mit key_column= angeben",
    "read_failed": "lässt sich nicht lesen ({reason})",
    "bad_crs_option": "crs={crs!r} ist kein gültiges Koordinatensystem ({reason})",
    "no_crs": "hat kein Koordinatensystem (keine .prj-Datei, kein crs-Eintrag); mit crs= angeben, "
              "z. B. crs='EPSG:25832' (VG250) oder crs='EPSG:31467' (VG5000 2021)",
    "crs_conflict": "gibt {file_crs} an, aber crs={crs!r} wurde übergeben; crs= weglassen oder die "
                    "Datei berichtigen",
    "degrees_but_metres": "gibt {file_crs} (Grad) an, aber die Koordinaten reichen bis {reach}, "
                          "sind also Meter einer Projektion; das Koordinatensystem mit crs= "
                          "angeben, z. B. crs='EPSG:25832'",
    "ags_from_ars": "AGS für {n} Objekte aus dem ARS abgeleitet",
    "no_ags_field": "kein AGS-Feld: AGS aus {field} abgeleitet",
    "key_padded": "{how}: bei {n} {key}-Werten die führende Null ergänzt (auf {width} Stellen)",
    "as_number": "als Zahl gespeichert",
    "without_zero": "ohne führende Null gespeichert",
    "bad_key": "{value!r} ist kein {key} mit {width} Ziffern (Ebene {level})",
    "more_bad_keys": "… und {n} weitere falsche {key}-Werte",
    "no_key": "hat keinen Schlüssel (AGS und ARS leer)",
    "duplicate_key": "{n} AGS kommen in mehr als einem Landobjekt vor: {examples}",
    "water_dropped": "{n} Wasserflächen (GF 1, 2 oder 8) entfernt",
    "not_whole": "{n} Werte sind keine ganzen Zahlen; als fehlend behandelt",
    "repaired": "ungültige Geometrie repariert (AGS {ags})",
    "repaired_log": "{n} ungültige Geometrien repariert (shapely.make_valid, Flächenteile "
                    "behalten), AGS {examples}",
    "parts_kept": "Flächenteile behalten von {kinds}",
    "no_geometry": "keine Flächengeometrie; Objekt entfernt",
    "no_geometry_log": "{n} Objekte ohne Flächengeometrie (leer, fehlend oder keine Fläche) "
                       "entfernt",
    "bad_kreis": "kreis={kreis!r} ist kein Kreisschlüssel: erwartet 5 Ziffern als Text, z. B. "
                 "'09472' (Landkreis Bayreuth)",
    "bad_ags": "ags={ags} ist keine Liste von AGS: erwartet Texte mit 8 Ziffern (Gemeinde), "
               "5 (Kreis), 3 (Regierungsbezirk) oder 2 (Land), z. B. ['09472111']",
    "kreis_selects_nothing": "kreis '{kreis}' wählt kein Objekt; die Datei hat {n} Objekte{more}",
    "with_kreis_keys": " mit Kreisschlüsseln wie {examples}",
    "without_kreis_keys": " und keines mit Kreisschlüssel (Länder oder Regierungsbezirke?)",
    "ags_not_found": "ags {missing} nicht gefunden; die Datei hat {n} Objekte mit AGS wie "
                     "{examples}",
    "district_key": "{key!r} ist kein Kreisschlüssel: erwartet 5 Ziffern als Text, z. B. '09472'",
    "district_missing": "hat keinen Kreis {key}; die nächsten vorhandenen Kreisschlüssel: "
                        "{nearest}",
    "districts_none": "hat keinen Kreis mit dem Schlüssel {prefix}…; gefunden: {found}",
    "district_none": "hat keinen Kreis {key} und keine Kreisschlüssel (Länder oder "
                     "Regierungsbezirke?)",
    "district_name_unknown": "Name des Landkreises {key} steht nicht in den Gemeindegrenzen; die "
                             "Kreisebene (z. B. vg250_krs bzw. VG250_KRS.shp) daneben legen",
}


# --------------------------------------------------------------------------------------------
# opening the file and choosing the layer


def _open_source(path: Path, layer: str | None, *, need_prj: bool = True) -> tuple[str, str]:
    """The path GDAL should open and the layer to read, or an error naming the file."""
    if not path.exists():
        raise InputFormatError(_MSG["missing"], path=path)
    source = str(path)
    if path.is_file():
        if path.stat().st_size == 0:
            raise InputFormatError(_MSG["empty"], path=path)
        if path.suffix.lower() == ".zip":
            source = _zip_member(path, layer)
        elif path.suffix.lower() == ".shp" and _is_shapefile(path):
            _check_companions(path, need_prj)
    kind = _MSG["kind_folder"] if path.is_dir() else _MSG["kind_file"].format(
        suffix=path.suffix or "Geo")
    try:
        layers = pyogrio.list_layers(source)
    except Exception as exc:
        raise InputFormatError(_MSG["unreadable"].format(kind=kind, reason=_gdal_message(exc)),
                               path=path) from exc
    chosen = _choose_layer(path, layers, layer)
    if path.is_dir():
        shp = next((p for p in path.iterdir() if p.stem == chosen
                    and p.suffix.lower() == ".shp"), None)
        if shp is not None:
            _check_companions(shp, need_prj)
    return source, chosen


def _choose_layer(path: Path, layers: np.ndarray, layer: str | None) -> str:
    names = [str(name) for name, _ in layers]
    # layers that may hold polygons: not attribute tables, not point or line layers ("Unknown"
    # is what GDAL says of a GeoJSON mixing Polygon and MultiPolygon)
    polygonal = [str(name) for name, gtype in layers
                 if gtype and not re.search(r"point|line", str(gtype), re.I)]
    if layer is not None:
        match = [n for n in names if n.lower() == layer.lower()]
        if not match:
            raise InputError(_MSG["no_layer"].format(layer=layer, names=", ".join(names)
                                                     or "keine"), path=path)
        return match[0]
    if not polygonal:
        raise InputFormatError(_MSG["no_polygon_layer"].format(names=", ".join(names)
                                                               or "keine"), path=path)
    if len(polygonal) == 1:
        return polygonal[0]
    gemeinde = [n for n in polygonal if _GEMEINDE_LAYER.search(n)]
    if gemeinde:
        if len(gemeinde) > 1:
            logger.info("%s: mehrere Gemeinde-Ebenen (%s); gelesen wird %s (Auswahl mit layer=)",
                        path.name, ", ".join(gemeinde), gemeinde[0])
        return gemeinde[0]
    raise InputError(_MSG["no_gemeinde_layer"].format(n=len(polygonal),
                                                      names=", ".join(polygonal)), path=path)


def _zip_member(path: Path, layer: str | None) -> str:
    """A GDAL /vsizip/ path to the boundary file or shapefile folder inside a zip archive."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except zipfile.BadZipFile as exc:
        raise InputFormatError(_MSG["bad_zip"], path=path) from exc
    members = [n for n in names if n.lower().endswith(_FEATURE_SUFFIXES)]
    if not members:
        raise InputFormatError(_MSG["empty_zip"], path=path)
    wanted = [m for m in members if layer and Path(m).stem.lower() == layer.lower()]
    gemeinde = [m for m in members if _GEMEINDE_LAYER.search(Path(m).stem)]
    chosen = (wanted or gemeinde or members)[0]
    if chosen.lower().endswith(".shp"):
        present = {n.lower() for n in names}
        stem = chosen[:-4]
        lost = [Path(stem).name + ext for ext in (".shx", ".dbf")
                if (stem + ext).lower() not in present]
        if lost:
            _raise_companions(lost, Path(chosen).name, path)
        folder = str(Path(chosen).parent)
        return f"/vsizip/{path}" + ("" if folder == "." else f"/{folder}")
    return f"/vsizip/{path}/{chosen}"


def missing_companions(shp: str | Path, *, need_prj: bool = True) -> list[str]:
    """The companion files a shapefile needs that are not beside it.

    A shapefile is several files: ``.shp`` (geometry), ``.shx`` (index), ``.dbf`` (attributes,
    holding the keys) and ``.prj`` (coordinate system); the extension's case does not matter.

    Parameters
    ----------
    shp
        The ``.shp`` file.
    need_prj
        Whether a missing ``.prj`` counts (not when the CRS is stated with ``crs=``).

    Returns
    -------
    list of str
        The names of the missing files, e.g. ``["VG250_GEM.dbf"]``; empty when complete.

    Examples
    --------
    >>> gemeinden[["ags", "geometry"]].to_file("gem.shp")
    >>> missing_companions("gem.shp")
    []
    >>> Path("gem.prj").unlink()
    >>> missing_companions("gem.shp")
    ['gem.prj']
    >>> missing_companions("gem.shp", need_prj=False)
    []
    """
    path = Path(shp)
    present = {p.name.lower() for p in path.parent.iterdir()} if path.parent.is_dir() else set()
    wanted = (".shx", ".dbf", ".prj") if need_prj else (".shx", ".dbf")
    return [path.stem + ext for ext in wanted if (path.stem + ext).lower() not in present]


def _is_shapefile(path: Path) -> bool:
    """Whether a file begins like a shapefile (file code 9994, big-endian)."""
    with path.open("rb") as fh:
        return fh.read(4) == b"\x00\x00\x27\x0a"


def _check_companions(shp: Path, need_prj: bool) -> None:
    lost = missing_companions(shp, need_prj=need_prj)
    if lost:
        _raise_companions(lost, shp.name, shp)


def _raise_companions(lost: list[str], name: str, path: Path) -> None:
    roles = "; ".join(f"{Path(f).suffix}: {_COMPANION_ROLE[Path(f).suffix.lower()]}"
                      for f in lost)
    only_prj = [Path(f).suffix.lower() for f in lost] == [".prj"]
    raise InputFormatError(_MSG["companion"].format(
        missing=" und ".join(lost), name=name, role=roles, s="en" if len(lost) > 1 else "",
        verb="fehlen" if len(lost) > 1 else "fehlt",
        prj_hint=_MSG["prj_hint"] if only_prj else ""), path=path)


def _gdal_message(exc: Exception) -> str:
    """The first sentence of a GDAL error, without the driver-prefix advice."""
    text = str(exc).split(";")[0].strip()
    return text or type(exc).__name__


def _find_field(fields: Sequence[str], candidates: Iterable[str]) -> str | None:
    """The first field whose name equals one of the candidates, ignoring case."""
    lower = {f.lower(): f for f in fields}
    for cand in candidates:
        if cand.lower() in lower:
            return lower[cand.lower()]
    return None


def _level_hint(name: str) -> int | None:
    for pattern, ade in _LEVEL_HINTS:
        if pattern.search(name):
            return ade
    return None


# --------------------------------------------------------------------------------------------
# keys


def _as_key_text(values: pd.Series) -> tuple[pd.Series, bool]:
    """Key values as stripped text; a numeric field is converted without a decimal point.

    Returns the text and whether the field was numeric in the file.
    """
    if pd.api.types.is_numeric_dtype(values.dtype):
        num = pd.to_numeric(values, errors="coerce")
        whole = num.notna() & (num == np.floor(num))
        text = pd.Series(pd.NA, index=values.index, dtype="str")
        text[whole] = num[whole].astype("int64").astype("str")
        text[num.notna() & ~whole] = num[num.notna() & ~whole].astype("str")
        return text, True
    text = values.astype("str").str.strip()
    text = text.mask(text.isin(["", "nan", "None"]) | text.str.fullmatch(r"-+"))
    return text, False


def _pad(text: pd.Series, width: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Restore the lost leading zero of digit keys; returns keys, which were padded, which are bad.

    Every key that lost its leading zero (Länder 01-09 as numbers) is exactly one digit short;
    any other length is an error, never padded.
    """
    digits = text.str.fullmatch(r"\d+").fillna(False).astype(bool)
    length = text.str.len()
    has_width = width.notna() & (width > 0)
    w = width.fillna(0).astype("int64")
    short = digits & has_width & (length == w - 1)
    bad = text.notna() & has_width & ~short & (~digits | (length != w))
    padded = text.mask(short, "0" + text)
    return padded, short, bad


def _examples(values: Iterable[Any], n: int = 5) -> str:
    vals = [str(v) for v in values]
    shown = ", ".join(vals[:n])
    return shown + (", …" if len(vals) > n else "")


@dataclass(frozen=True)
class _Fields:
    """Which field of the file holds what (None where the file has none)."""

    ags: str | None
    ars: str | None
    gen: str | None
    bez: str | None
    gf: str | None
    ewz: str | None
    ade: str | None

    def present(self) -> list[str]:
        names = (self.ags, self.ars, self.gen, self.bez, self.gf, self.ewz, self.ade)
        return list(dict.fromkeys(f for f in names if f is not None))


def _fields(fields: list[str], key_column: str | None, path: Path) -> _Fields:
    ags_field = _find_field(fields, [key_column] if key_column else _AGS_FIELDS)
    if key_column and ags_field is None:
        raise InputError(_MSG["no_field"].format(field=key_column, fields=", ".join(fields)),
                         path=path)
    ars_field = _find_field(fields, _ARS_FIELDS)
    if ags_field is None and ars_field is None:
        expected = ", ".join(dict.fromkeys([*_AGS_FIELDS, "ags", *_ARS_FIELDS, "rs"]))
        raise InputError(_MSG["no_key_column"].format(expected=expected,
                                                      found=", ".join(fields) or "keine"),
                         path=path)
    return _Fields(ags_field, ars_field, _find_field(fields, _GEN_FIELDS),
                   _find_field(fields, _BEZ_FIELDS), _find_field(fields, _GF_FIELDS),
                   _find_field(fields, _EWZ_FIELDS), _find_field(fields, _ADE_FIELDS))


def _keys(raw: pd.DataFrame, f: _Fields, layer_name: str, name: str, feature_no: pd.Series,
          report: ValidationReport) -> tuple[pd.Series, pd.Series, pd.Series]:
    """AGS, ARS (text, zero-padded where a leading zero was lost) and level of every feature."""
    missing = pd.Series(pd.NA, index=raw.index, dtype="str")
    ags_text, ags_numeric = _as_key_text(raw[f.ags]) if f.ags else (missing, False)
    ars_text, ars_numeric = _as_key_text(raw[f.ars]) if f.ars else (missing, False)
    ade = _levels(raw, f.ade, ags_text, ags_numeric, ars_text, ars_numeric, layer_name, name)
    ags_width = ade.map(_AGS_WIDTH_BY_ADE)
    ars_width = ade.map(_ARS_WIDTH_BY_ADE)
    ags, ags_padded, ags_bad = _pad(ags_text, ags_width)
    ars, ars_padded, ars_bad = _pad(ars_text, ars_width)
    # levels without an AGS (Verwaltungsgemeinschaft) keep it missing
    ags = ags.mask(ags_width == 0)
    ags_bad &= ags_width != 0
    # No AGS field, or AGS missing in a feature: derive it from the ARS (Land 2, RBZ 1, Kreis 2,
    # Verband 4, Gemeinde 3 -> AGS = ARS[:5] + ARS[9:]).
    derive = ags.isna() & ars.notna() & ~ars_bad & (ags_width > 0)
    if derive.any():
        from_ars = ars.where(ars.str.len() != 12, ars.str[:5] + ars.str[9:])
        ags = ags.mask(derive, from_ars)
        report.notes.append(_MSG["ags_from_ars"].format(n=german_number(int(derive.sum())))
                            if f.ags is not None else _MSG["no_ags_field"].format(field=f.ars))
    for key_name, field, numeric, padded, width in (
        ("AGS", f.ags, ags_numeric, ags_padded, ags_width),
        ("ARS", f.ars, ars_numeric, ars_padded, ars_width),
    ):
        if padded.any():
            msg = _MSG["key_padded"].format(
                how=_MSG["as_number"] if numeric else _MSG["without_zero"], key=key_name,
                n=german_number(int(padded.sum())), width=int(width[padded].max()))
            report.warning(name, None, field, msg, code="key_padded")
            logger.warning("%s: %s %s (Objekte %s)", name, field, msg,
                           _examples(feature_no[padded]))
    _bad_keys(name, report, feature_no, ade, (("AGS", f.ags, ags_bad, ags_text, ags_width),
                                              ("ARS", f.ars, ars_bad, ars_text, ars_width)))
    no_key = ags.isna() & ars.isna()
    for i in np.flatnonzero(no_key.to_numpy())[:20]:
        report.error(name, int(feature_no.iloc[i]), f.ags or f.ars, _MSG["no_key"],
                     code="missing_key")
    return ags, ars, ade


def _bad_keys(name: str, report: ValidationReport, feature_no: pd.Series, ade: pd.Series,
              checks: Iterable[tuple[str, str | None, pd.Series, pd.Series, pd.Series]]) -> None:
    """An error for each key of the wrong form (the first 50 per key, the rest counted)."""
    for key_name, field, bad, text, width in checks:
        for i in np.flatnonzero(bad.to_numpy())[:50]:
            report.error(name, int(feature_no.iloc[i]), field, _MSG["bad_key"].format(
                value=text.iloc[i], key=key_name, width=int(width.iloc[i]),
                level=_LEVEL_NAME.get(int(ade.iloc[i]), "?")), code="bad_key")
        if bad.sum() > 50:
            report.error(name, None, field, _MSG["more_bad_keys"].format(
                n=german_number(int(bad.sum()) - 50), key=key_name), code="bad_key")


def _gemeindefrei(ags: pd.Series, gen: pd.Series, bez: pd.Series, ade: pd.Series) -> pd.Series:
    """Which features are unincorporated areas (gemeindefreie Gebiete), never Gemeinden.

    BEZ (VG250, VG5000: "Gemeindefreies Gebiet") or the name say so, or the key is Bavarian with
    a Gemeinde part 4xx (the LDBV data call every feature "Gemeinde" in ``art``).
    """
    by_text = (bez.str.contains(_GEMEINDEFREI_TEXT, na=False)
               | gen.str.contains(_GEMEINDEFREI_TEXT, na=False))
    by_key = ags.str.fullmatch(_BAVARIAN_GEMEINDEFREI_AGS).fillna(False).astype(bool)
    return ((by_text | by_key) & (ade == 6)).astype(bool)


def _table(raw: gpd.GeoDataFrame, f: _Fields, ags: pd.Series, ars: pd.Series, ade: pd.Series,
           name: str, feature_no: pd.Series, report: ValidationReport) -> pd.DataFrame:
    """The output columns (without geometry) of the features read."""
    text = pd.Series(pd.NA, index=raw.index, dtype="str")
    out = pd.DataFrame(index=raw.index)
    out["ags"] = ags.astype("str")
    out["ars"] = ars.astype("str")
    out["gen"] = raw[f.gen].astype("str") if f.gen else text
    out["bez"] = raw[f.bez].astype("str") if f.bez else text
    out["ewz"] = _integers(raw, f.ewz, pd.Int64Dtype(), report, name, feature_no)
    out["gf"] = _integers(raw, f.gf, pd.Int8Dtype(), report, name, feature_no)
    kreis_src = ags.where(ags.notna(), ars)
    out["kreis"] = kreis_src.str[:5].where(ade.isin([4, 5, 6])).astype("str")
    out["gemeindefrei"] = _gemeindefrei(out["ags"], out["gen"], out["bez"], ade)
    counts = ade.map(_LEVEL_NAME).value_counts()
    report.counts["level"] = ", ".join(f"{lvl} {german_number(int(n))}"
                                       for lvl, n in counts.items())
    return out


def _drop_water(gdf: gpd.GeoDataFrame, feature_no: pd.Series, include_water: bool, name: str,
                report: ValidationReport) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Warn about repeated keys among land features and drop water areas unless kept."""
    water = gdf["gf"].isin(_WATER_GF).fillna(False).astype(bool)
    report.counts["water features"] = int(water.sum())
    land_ags = gdf.loc[~water, "ags"].dropna()
    dup_keys = land_ags[land_ags.duplicated()].unique()
    if len(dup_keys):
        msg = _MSG["duplicate_key"].format(n=german_number(len(dup_keys)),
                                           examples=_examples(dup_keys))
        report.warning(name, None, None, msg, code="duplicate_key")
        logger.warning("%s: %s", name, msg)
    report.counts["water features dropped"] = int(water.sum()) if not include_water else 0
    if water.any() and not include_water:
        logger.info("%s: %s Wasserflächen weggelassen (GF 1, 2 oder 8; mit include_water=True "
                    "behalten), AGS %s", name, german_number(int(water.sum())),
                    _examples(gdf.loc[water, "ags"].dropna()))
        report.notes.append(_MSG["water_dropped"].format(n=german_number(int(water.sum()))))
        return gdf.loc[~water], feature_no.loc[~water]
    return gdf, feature_no


# --------------------------------------------------------------------------------------------
# the loader shared by read_boundaries and validate_boundaries


def _load(
    path: Path,
    report: ValidationReport,
    *,
    layer: str | None,
    key_column: str | None,
    crs: Any,
    include_water: bool,
    select: Any = None,
) -> gpd.GeoDataFrame:
    """Read, normalise, select, reproject and repair; record problems in ``report``.

    Structural problems (unreadable file, no key column, no CRS) raise; problems of single features
    are recorded in the report as errors or warnings.
    """
    name = path.name
    source, layer_name = _open_source(path, layer, need_prj=crs is None)
    info = pyogrio.read_info(source, layer=layer_name)
    report.counts["layer"] = layer_name
    f = _fields([str(x) for x in info["fields"]], key_column, path)
    try:
        raw = pyogrio.read_dataframe(source, layer=layer_name, columns=f.present())
    except Exception as exc:
        raise InputFormatError(_MSG["read_failed"].format(reason=_gdal_message(exc)),
                               path=path) from exc
    report.counts["features read"] = len(raw)
    raw = raw.reset_index(drop=True)
    feature_no = pd.Series(np.arange(1, len(raw) + 1), index=raw.index)
    src_crs = _check_crs(raw, path, crs)  # never guessed
    ags, ars, ade = _keys(raw, f, layer_name, name, feature_no, report)
    out = _table(raw, f, ags, ars, ade, name, feature_no, report)
    gdf = gpd.GeoDataFrame(out, geometry=raw.geometry.values, crs=src_crs)
    gdf, feature_no = _drop_water(gdf, feature_no, include_water, name, report)
    report.counts["gemeindefrei"] = int(gdf["gemeindefrei"].sum())
    # selection before the geometric work, so that reading one Kreis stays fast
    if select is not None:
        keep = select(gdf)
        gdf = gdf.loc[keep]
        feature_no = feature_no.loc[keep]
    # geometry: reproject, then repair what is invalid and keep only polygonal parts
    gdf = _repair(gdf.to_crs(OUTPUT_CRS), feature_no, report, name)
    report.counts["features"] = len(gdf)
    report.counts["crs"] = f"{src_crs.to_string()} -> {OUTPUT_CRS}"
    return gdf.reset_index(drop=True)


def _check_crs(raw: gpd.GeoDataFrame, path: Path, crs: Any) -> CRS:
    """The CRS of the file, or the stated one where the file has none; never guessed."""
    file_crs = raw.crs
    stated = None
    if crs is not None:
        try:
            stated = CRS.from_user_input(crs)
        except Exception as exc:
            raise InputError(_MSG["bad_crs_option"].format(crs=crs, reason=exc),
                             path=path) from exc
    if file_crs is None:
        if stated is None:
            raise InputError(_MSG["no_crs"], path=path)
        raw.set_crs(stated, inplace=True)
        return stated
    projected_reach = _projected_reach(raw) if file_crs.is_geographic and len(raw) else None
    if stated is not None and not stated.equals(file_crs, ignore_axis_order=True):
        # GeoJSON without a crs member is declared WGS 84 by GDAL; projected coordinates then show
        # that the declaration is a default, and the stated CRS wins.
        if projected_reach is None:
            raise InputError(_MSG["crs_conflict"].format(file_crs=file_crs.to_string(), crs=crs),
                             path=path)
        raw.set_crs(stated, inplace=True, allow_override=True)
        return stated
    if projected_reach is not None:
        raise InputError(_MSG["degrees_but_metres"].format(
            file_crs=file_crs.to_string(), reach=german_number(round(projected_reach))),
            path=path)
    return CRS.from_user_input(file_crs)


def _projected_reach(raw: gpd.GeoDataFrame) -> float | None:
    """The largest coordinate of a layer declared in degrees, if it is beyond ±180/±90."""
    minx, miny, maxx, maxy = raw.total_bounds
    if max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 90:
        return float(max(abs(minx), abs(maxx)))
    return None


def _levels(
    raw: pd.DataFrame,
    ade_field: str | None,
    ags_text: pd.Series,
    ags_numeric: bool,
    ars_text: pd.Series,
    ars_numeric: bool,
    layer_name: str,
    name: str,
) -> pd.Series:
    """The administrative level (BKG ADE code) of every feature."""
    ade = pd.Series(np.nan, index=raw.index, dtype="float64")
    if ade_field is not None:
        ade = pd.to_numeric(raw[ade_field], errors="coerce").where(lambda s: s.isin(
            list(_AGS_WIDTH_BY_ADE)))
    hint = _level_hint(layer_name) or _level_hint(name)
    if not ars_numeric:
        ade = ade.fillna(ars_text.str.len().map(_ADE_BY_ARS_WIDTH))
    if not ags_numeric:
        ade = ade.fillna(ags_text.str.len().map(_ADE_BY_AGS_LENGTH))
    if hint is not None:
        ade = ade.fillna(float(hint))
    # a numeric key without any other clue: its number of digits
    if ags_numeric:
        ade = ade.fillna(ags_text.str.len().map(_ADE_BY_AGS_LENGTH))
    if ars_numeric:
        ade = ade.fillna(ars_text.str.len().map({1: 2, 2: 2, 3: 3, 4: 4, 5: 4, 8: 5, 9: 5,
                                                 11: 6, 12: 6}))
    return ade.fillna(6).astype("int64")


def _integers(
    raw: pd.DataFrame,
    field: str | None,
    dtype: pd.api.extensions.ExtensionDtype,
    report: ValidationReport,
    name: str,
    feature_no: pd.Series,
) -> pd.Series:
    """A numeric attribute as a nullable integer column; unreadable values are reported."""
    if field is None:
        return pd.Series(pd.NA, index=raw.index, dtype=dtype)
    values = raw[field]
    num = pd.to_numeric(values, errors="coerce")
    bad = num.isna() & values.notna() & (values.astype("str").str.strip() != "")
    bad |= num.notna() & (num != np.floor(num))
    if bad.any():
        msg = _MSG["not_whole"].format(n=german_number(int(bad.sum())))
        report.warning(name, int(feature_no[bad].iloc[0]), field, msg, code="bad_number")
        logger.warning("%s: %s %s (Objekte %s)", name, field, msg, _examples(feature_no[bad]))
    return num.where(~bad).round().astype(dtype)


def _repair(
    gdf: gpd.GeoDataFrame, feature_no: pd.Series, report: ValidationReport, name: str
) -> gpd.GeoDataFrame:
    """Make invalid geometries valid and keep polygonal parts only; drop features left empty."""
    geoms = gdf.geometry.values
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    invalid = ~missing & ~shapely.is_valid(geoms)
    type_id = shapely.get_type_id(geoms)
    not_polygonal = ~missing & ~np.isin(type_id, (3, 6))  # 3 Polygon, 6 MultiPolygon
    fix = invalid | not_polygonal
    report.counts["geometries repaired"] = int(invalid.sum())
    if fix.any():
        fixed = shapely.make_valid(geoms[fix], method="structure", keep_collapsed=False)
        fixed = _polygonal_parts(fixed)
        new = np.asarray(geoms, dtype=object).copy()
        new[fix] = fixed
        gdf = gdf.set_geometry(gpd.GeoSeries(new, index=gdf.index, crs=gdf.crs))
    if invalid.any():
        ags = gdf["ags"].where(gdf["ags"].notna(), gdf["ars"])[invalid]
        logger.warning("%s: %s", name, _MSG["repaired_log"].format(
            n=german_number(int(invalid.sum())), examples=_examples(ags)))
        for i in np.flatnonzero(invalid)[:50]:
            report.warning(name, int(feature_no.iloc[i]), "geometry",
                           _MSG["repaired"].format(ags=ags.loc[gdf.index[i]]),
                           code="invalid_geometry")
    if not_polygonal.any():
        kinds = pd.Series(shapely.get_type_id(geoms[not_polygonal])).map(
            {0: "Point", 1: "LineString", 2: "LinearRing", 4: "MultiPoint",
             5: "MultiLineString", 7: "GeometryCollection"}).value_counts()
        report.notes.append(_MSG["parts_kept"].format(kinds=", ".join(
            f"{german_number(int(n))} {k}" for k, n in kinds.items())))
    return _drop_empty(gdf, feature_no, report, name)


def _drop_empty(gdf: gpd.GeoDataFrame, feature_no: pd.Series, report: ValidationReport,
                name: str) -> gpd.GeoDataFrame:
    geoms = gdf.geometry.values
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if not empty.any():
        return gdf
    keys = gdf["ags"].where(gdf["ags"].notna(), gdf["ars"])[empty]
    msg = _MSG["no_geometry_log"].format(n=german_number(int(empty.sum())))
    logger.warning("%s: %s, AGS %s", name, msg, _examples(keys))
    for i in np.flatnonzero(empty)[:50]:
        report.warning(name, int(feature_no.iloc[i]), "geometry", _MSG["no_geometry"],
                       code="no_geometry")
    report.counts["features without geometry dropped"] = int(empty.sum())
    return gdf.loc[~empty]


def _polygonal_parts(geoms: np.ndarray) -> np.ndarray:
    """Each geometry reduced to its Polygon parts, as a Polygon/MultiPolygon (or None)."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    # GeometryCollections can nest MultiPolygons: explode once more
    multi = shapely.get_type_id(parts) == 6
    if multi.any():
        sub, sub_owner = shapely.get_parts(parts[multi], return_index=True)
        parts = np.concatenate([parts[~multi], sub])
        owner = np.concatenate([owner[~multi], owner[multi][sub_owner]])
    poly = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
    out = np.full(len(geoms), None, dtype=object)
    if poly.any():
        merged = shapely.multipolygons(parts[poly], indices=owner[poly])
        has = np.unique(owner[poly])
        single = shapely.get_num_geometries(merged) == 1
        merged[single] = shapely.get_geometry(merged[single], 0)
        out[has] = merged
    return out



# --------------------------------------------------------------------------------------------
# selection


def _selector(path: Path, kreis: str | None, ags: Sequence[str] | str | None) -> Any:
    """A function picking the selected features, after checking the form of the keys."""
    if kreis is None and ags is None:
        return None
    if kreis is not None and (not isinstance(kreis, str) or not re.fullmatch(r"\d{5}", kreis)):
        raise InputError(_MSG["bad_kreis"].format(kreis=kreis), path=path)
    wanted: list[str] = []
    if ags is not None:
        wanted = [ags] if isinstance(ags, str) else list(ags)
        bad = [a for a in wanted if not isinstance(a, str) or not re.fullmatch(
            r"\d{2}|\d{3}|\d{5}|\d{8}", a)]
        if bad or not wanted:
            raise InputError(_MSG["bad_ags"].format(ags=_examples(bad) if bad else "[]"),
                             path=path)

    def select(gdf: gpd.GeoDataFrame) -> pd.Series:
        keep = pd.Series(True, index=gdf.index)
        if kreis is not None:
            by_kreis = (gdf["kreis"] == kreis).fillna(False).astype(bool)
            if not by_kreis.any():
                known = gdf["kreis"].dropna().unique()
                more = (_MSG["with_kreis_keys"].format(examples=_examples(_nearest(kreis, known),
                                                                          6))
                        if len(known) else _MSG["without_kreis_keys"])
                raise InputError(_MSG["kreis_selects_nothing"].format(
                    kreis=kreis, n=german_number(len(gdf)), more=more), path=path)
            keep &= by_kreis
        if wanted:
            found = set(gdf["ags"].dropna())
            missing = [a for a in wanted if a not in found]
            if missing:
                raise InputError(_MSG["ags_not_found"].format(
                    missing=_examples(missing), n=german_number(len(gdf)),
                    examples=_examples(sorted(found)[:5])), path=path)
            keep &= gdf["ags"].isin(wanted).fillna(False).astype(bool)
        return keep

    return select


def _nearest(key: str, known: Iterable[str], n: int = 6) -> list[str]:
    """The ``n`` existing keys closest to ``key``: same Land and Bezirk first, then by number."""
    digits = sorted({k for k in known if isinstance(k, str) and k.isdigit()})
    return sorted(digits, key=lambda k: (k[:2] != key[:2], k[:3] != key[:3],
                                         abs(int(k) - int(key)), k))[:n]


# --------------------------------------------------------------------------------------------
# public API


def read_boundaries(
    path: str | Path,
    *,
    kreis: str | None = None,
    ags: Sequence[str] | None = None,
    layer: str | None = None,
    include_water: bool = False,
    key_column: str | None = None,
    crs: Any = None,
) -> gpd.GeoDataFrame:
    """Read municipal (or Kreis, Bezirk, Land) boundaries into one standard GeoDataFrame.

    Reads BKG VG250 and VG5000 (shapefile, folder of shapefiles, zip, GeoPackage) and LDBV-style
    GeoJSON. Field names are matched case-insensitively: AGS/ags/Gemeindesc (key), ARS/rs/
    Regionalsc, GEN/name/Geografisc, BEZ/art/Bezeichnun, GF, EWZ, ADE.

    Parameters
    ----------
    path
        A ``.shp``, ``.gpkg``, ``.geojson``, a zip archive of those, or a folder of shapefiles.
    kreis
        Keep only one Kreis, given by its 5-digit key as text (``"09472"``): the Gemeinden whose
        AGS starts with it, or the Kreis feature itself in a Kreis layer.
    ags
        Keep only these AGS (texts of 8, 5, 3 or 2 digits). Every one must be in the file.
    layer
        The layer of a multi-layer file (GeoPackage, folder, zip). Default: the only polygon
        layer, else the first Gemeinde layer (``vg250_gem``, ``VG5000_GEM``, ...).
    include_water
        Keep water areas (GF 1 and 2 in VG250). By default they are dropped and counted.
    key_column
        The field holding the AGS, where it has another name than the known ones.
    crs
        The CRS of a file that declares none (e.g. a shapefile without ``.prj``), as anything
        :class:`pyproj.CRS` accepts. A file's own CRS is never overridden.

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:25832 with the columns ``ags``, ``ars``, ``gen``, ``bez`` (text), ``ewz``
        (Int64), ``gf`` (Int8), ``kreis`` (text), ``gemeindefrei`` (bool: an unincorporated
        area, no Gemeinde) and a valid Polygon/MultiPolygon ``geometry``.

    Raises
    ------
    InputFormatError
        If the file is missing, empty (0 bytes), a shapefile without its ``.shx``/``.dbf`` (or
        ``.prj`` when ``crs`` is not given), or not the format its name says.
    InputError
        If no key column is found, the file has no CRS and none is given, a layer is unknown, or
        ``kreis``/``ags`` have the wrong form or select nothing.
    DataValidationError
        If features have keys of the wrong form (e.g. letters in the AGS), listing them all.

    Examples
    --------
    >>> gem = read_boundaries(demo.boundaries, layer="vg250_gem", kreis=KREIS)
    >>> gem[["ags", "gen"]].head(2)
            ags            gen
    0  09999111  Beispielstadt
    1  09999112    Annahmsdorf
    >>> int((~gem["gemeindefrei"]).sum())
    20
    """
    p = Path(path)
    report = ValidationReport(source=str(p), kind="boundaries", lang="de")
    select = _selector(p, kreis, ags)
    gdf = _load(p, report, layer=layer, key_column=key_column, crs=crs,
                include_water=include_water, select=select)
    if report.errors:
        raise data_error(report.errors, path=p)
    logger.info("%s Grenzobjekte aus %s gelesen (Ebene %s)", german_number(len(gdf)), p.name,
                report.counts.get("layer", ""))
    return gdf


def validate_boundaries(path: str | Path) -> ValidationReport:
    """Check a boundary file and report counts, errors and warnings; never raises for bad data.

    Parameters
    ----------
    path
        A boundary file as accepted by :func:`read_boundaries`.

    Returns
    -------
    ValidationReport
        Counts (source, features read, level, water features, unincorporated areas, geometries
        repaired, CRS) and every problem (bad keys, duplicate keys, repaired or empty
        geometries). An unreadable file is one error.

    Raises
    ------
    Nothing for bad data; only programming errors propagate.

    Examples
    --------
    >>> print(validate_boundaries(demo.boundaries).format())
    Verwaltungsgrenzen: vg250_beispiel.gpkg
      Quelle: VG250
      Ebene: vg250_gem
      gelesene Objekte: 20
      Ebene (Verwaltung): Gemeinde 20
      Wasserflächen: 0
      Wasserflächen entfernt: 0
      gemeindefreie Gebiete: 0
      reparierte Geometrien: 0
      Objekte: 20
      Koordinatensystem: EPSG:25832 -> EPSG:25832
      0 Fehler
      0 Warnungen
    """
    p = Path(path)
    report = ValidationReport(source=str(p), kind="boundaries", lang="de")
    try:
        report.counts["source"] = boundary_source(p)
        _load(p, report, layer=None, key_column=None, crs=None, include_water=False)
    except InputError as exc:
        report.error(p.name, exc.row, exc.column, exc.message, code="unreadable")
    return report


def boundary_source(path: str | Path, *, layer: str | None = None) -> str:
    """Which boundary product a file is: ``"VG250"``, ``"VG5000"``, ``"LDBV"`` or ``"other"``.

    Told from the file, folder and layer names (``vg250``, ``vg5000``), then from the content:
    BKG object ids ``DEBKGVG5000…`` (VG5000) or the VG250 fields ``DEBKG_ID``/``KFL``, and the
    LDBV schema (``gml_id``, ``oid``, ``art``, ``rs``). VG5000 (1:5,000,000) is too coarse to
    assign grid cells to Gemeinden; a run should suggest VG250 where it was used.

    Parameters
    ----------
    path
        A boundary file as accepted by :func:`read_boundaries`.
    layer
        The layer (default: as :func:`read_boundaries` chooses it).

    Returns
    -------
    str
        One of :data:`BOUNDARY_SOURCES`.

    Raises
    ------
    InputFormatError
        If the file cannot be opened (see :func:`read_boundaries`).

    Examples
    --------
    >>> boundary_source(demo.boundaries)
    'VG250'
    """
    p = Path(path)
    source, layer_name = _open_source(p, layer, need_prj=False)
    names = f"{p.parent.name} {p.name} {layer_name}".lower()
    for product in ("vg5000", "vg250"):
        if re.search(rf"(^|[^a-z0-9]){product}($|[^0-9])", names):
            return product.upper()
    fields = {str(f).lower() for f in pyogrio.read_info(source, layer=layer_name)["fields"]}
    if {"gml_id", "oid", "art", "rs"} <= fields:
        return "LDBV"
    if "objid" in fields:
        first = pyogrio.read_dataframe(source, layer=layer_name, columns=["OBJID"],
                                       read_geometry=False, max_features=1)
        if len(first) and str(first.iloc[0, 0]).upper().startswith("DEBKGVG5000"):
            return "VG5000"
    if {"ade", "gf", "ars", "gen"} <= fields and fields & {"debkg_id", "kfl"}:
        return "VG250"
    return "other"


@dataclass(frozen=True)
class DistrictInfo:
    """Name and type of a Kreis, as :func:`district_info` finds them.

    Attributes
    ----------
    key
        The 5-digit Kreis key, e.g. ``"09472"``.
    name
        The name as the boundaries write it (``"Bayreuth"``), or None where only Gemeinden were
        read and the Kreis is a Landkreis (Gemeinde layers do not hold Kreis names).
    type
        ``"Landkreis"`` or ``"Kreisfreie Stadt"`` (BEZ "Kreis", "Region", ... count as
        Landkreis; "Stadtkreis" as Kreisfreie Stadt).
    bez
        The type as the file writes it (``"Landkreis"``, ``"Kreis"``, ``"Stadtkreis"``, ...), or
        None where derived from the Gemeinden.
    source
        Where it came from: ``"Kreisebene <layer>"`` or ``"Gemeinden <layer>"``.
    note
        A German note when something could not be told (e.g. the name), else None.
    """

    key: str
    name: str | None
    type: str
    bez: str | None
    source: str
    note: str | None = None


def _district_type(bez: str | None) -> str:
    text = (bez or "").lower()
    return "Kreisfreie Stadt" if "kreisfrei" in text or text == "stadtkreis" else "Landkreis"


def _krs_layer(path: Path) -> tuple[str, str] | None:
    """The Kreis layer beside or inside a boundary file, as (GDAL source, layer), if any."""
    if path.is_dir():
        shps = [p for p in sorted(path.iterdir()) if p.suffix.lower() == ".shp"]
    elif path.suffix.lower() == ".shp":
        if _level_hint(path.stem) == 4:
            return str(path), path.stem
        shps = sorted((p for p in path.parent.iterdir() if p.suffix.lower() == ".shp"),
                      key=lambda p: p.stem.lower() != re.sub(
                          "gem", "krs", path.stem, flags=re.I).lower())
    else:
        source = _zip_member(path, None) if path.suffix.lower() == ".zip" else str(path)
        try:
            layers = [str(n) for n, _ in pyogrio.list_layers(source)]
        except Exception:
            return None
        krs = [n for n in layers if _level_hint(n) == 4]
        return (source, krs[0]) if krs else None
    krs_shps = [p for p in shps if _level_hint(p.stem) == 4 and not missing_companions(p)]
    return (str(krs_shps[0]), krs_shps[0].stem) if krs_shps else None


def _kreis_table(source: str, layer: str, path: Path) -> pd.DataFrame:
    """Key (first 5 digits of AGS or ARS), GEN, BEZ and GF of every feature of a layer."""
    fields = [str(f) for f in pyogrio.read_info(source, layer=layer)["fields"]]
    f = _fields(fields, None, path)
    raw = pyogrio.read_dataframe(source, layer=layer, columns=f.present(), read_geometry=False)
    key = (_as_key_text(raw[f.ags])[0] if f.ags else _as_key_text(raw[f.ars or ""])[0])
    if f.ags is None and f.ars is not None:
        key = key.where(key.str.len() != 12, key.str[:5] + key.str[9:])
    return pd.DataFrame({
        "key": key.str[:5],
        "ags": key,
        "gen": raw[f.gen].astype("str") if f.gen else pd.Series(pd.NA, index=raw.index),
        "bez": raw[f.bez].astype("str") if f.bez else pd.Series(pd.NA, index=raw.index),
        "water": pd.to_numeric(raw[f.gf], errors="coerce").isin(_WATER_GF) if f.gf
        else pd.Series(False, index=raw.index),
    })


def district_info(path: str | Path, key: str, *, layer: str | None = None) -> DistrictInfo:
    """The name and type (Landkreis / Kreisfreie Stadt) of the Kreis with a 5-digit key.

    Read from the Kreis layer (VG250 GeoPackage layer ``vg250_krs``; in a shapefile folder the
    ``*_KRS.shp`` beside the Gemeinde file), or, where there is none, derived from the
    Gemeinden: a Kreis whose only Gemeinde has the Gemeinde part ``000`` is a Kreisfreie Stadt of
    that name; any other is a Landkreis whose name the Gemeinde layer does not hold (None).

    Parameters
    ----------
    path
        A boundary file or folder as accepted by :func:`read_boundaries` (the Gemeinde or the
        Kreis layer).
    key
        The Kreis key as text, e.g. ``"09472"``.
    layer
        The layer of the Gemeinden where no Kreis layer exists (default as
        :func:`read_boundaries` chooses it).

    Returns
    -------
    DistrictInfo
        Key, name, type, BEZ as written and the layer it came from.

    Raises
    ------
    InputError
        If the key is not 5 digits, or the file has no Kreis with that key (the message names the
        nearest existing keys).
    InputFormatError
        If the file cannot be read (see :func:`read_boundaries`).

    Examples
    --------
    >>> info = district_info(demo.boundaries, KREIS)
    >>> info.name, info.type
    ('Landkreis Beispiel (fiktiv)', 'Landkreis')
    """
    p = Path(path)
    if not isinstance(key, str) or not re.fullmatch(r"\d{5}", key):
        raise InputError(_MSG["district_key"].format(key=key), path=p)
    krs = _krs_layer(p) if p.exists() else None
    if krs is not None:
        table = _kreis_table(*krs, p)
        table = table[table["ags"].str.len() == 5]
        hit = table[(table["key"] == key)].sort_values("water", kind="stable")
        if len(hit):
            bez = hit["bez"].iloc[0]
            bez = None if pd.isna(bez) else str(bez)
            return DistrictInfo(key, str(hit["gen"].iloc[0]), _district_type(bez), bez,
                                f"Kreisebene {krs[1]}")
        _no_district(p, key, table["key"])
    source, gem_layer = _open_source(p, layer, need_prj=False)
    table = _kreis_table(source, gem_layer, p)
    table = table[~table["water"]]
    gemeinden = table[(table["key"] == key)
                      & ~table["ags"].str.fullmatch(_BAVARIAN_GEMEINDEFREI_AGS).fillna(False)
                      & ~table["bez"].str.contains(_GEMEINDEFREI_TEXT, na=False)]
    if gemeinden.empty:
        _no_district(p, key, table["key"])
    if len(gemeinden) == 1 and str(gemeinden["ags"].iloc[0]).endswith("000"):
        return DistrictInfo(key, str(gemeinden["gen"].iloc[0]), "Kreisfreie Stadt", None,
                            f"Gemeinden {gem_layer}")
    return DistrictInfo(key, None, "Landkreis", None, f"Gemeinden {gem_layer}",
                        note=_MSG["district_name_unknown"].format(key=key))


def list_districts(path: str | Path, *, prefix: str = "09",
                   layer: str | None = None) -> list[DistrictInfo]:
    """Every Kreis of a boundary file whose key starts with ``prefix``, sorted by key.

    The Kreise come from the Kreis layer where there is one (``vg250_krs``), else from the
    Gemeinden (the first five digits of their keys); names and types as :func:`district_info`
    finds them. ``prefix`` "09" (default) is Bayern, "" every Kreis of the file.

    Raises
    ------
    InputError
        If no Kreis key starts with ``prefix`` (the message names the Länder the file has).
    """
    p = Path(path)
    krs = _krs_layer(p) if p.exists() else None
    if krs is not None:
        table = _kreis_table(*krs, p)
        table = table[table["ags"].str.len() == 5]
    else:
        source, gem_layer = _open_source(p, layer, need_prj=False)
        table = _kreis_table(source, gem_layer, p)
    table = table[~table["water"] & table["key"].str.fullmatch(r"\d{5}").fillna(False)]
    keys = sorted(k for k in table["key"].unique() if str(k).startswith(prefix))
    if not keys:
        found = ", ".join(sorted({str(k)[:2] for k in table["key"].unique()})) or "keine"
        raise InputError(_MSG["districts_none"].format(prefix=prefix, found=found), path=p)
    return [district_info(p, str(k), layer=layer) for k in keys]


def _no_district(path: Path, key: str, keys: pd.Series) -> None:
    known = keys.dropna().unique()
    if not len(known):
        raise InputError(_MSG["district_none"].format(key=key), path=path)
    raise InputError(_MSG["district_missing"].format(
        key=key, nearest=", ".join(_nearest(key, known, 5))), path=path)
