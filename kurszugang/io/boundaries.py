"""Municipal boundaries: BKG VG250/VG5000 (shapefile, GeoPackage) and LDBV-style GeoJSON.

Every input is turned into one GeoDataFrame in EPSG:25832 with the same columns (see
``docs/boundaries-and-grid.md``):

=========  ======================================================================================
column     meaning
=========  ======================================================================================
ags        official key as text: 8 digits for Gemeinden, 5 for Kreise, 3 for Regierungsbezirke,
           2 for Länder; missing for Verwaltungsgemeinschaften (their AGS field is ``--------``)
ars        regional key as text (12 digits for Gemeinden, 9 for Verwaltungsgemeinschaften), or NaN
gen        name
bez        type ("Gemeinde", "Markt", "Stadt", "Landkreis", ...), or NaN
ewz        inhabitants (Int64), or <NA> where the file has no EWZ field
gf         BKG "Geofaktor" (Int8): 1/2 water, 3/4 land (VG250), 9 in VG5000; <NA> if absent
kreis      the 5-digit Kreis key (first 5 digits of ags/ars), NaN for Länder and Bezirke
geometry   Polygon or MultiPolygon, valid
=========  ======================================================================================

Keys never pass through a number: they are read as text. A key stored as a number in the file is
zero-padded back to its width and a warning is logged and reported.
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from kurszugang.errors import DataValidationError, InputError, InputFormatError
from kurszugang.io._report import ValidationReport

__all__ = ["OUTPUT_CRS", "BOUNDARY_COLUMNS", "read_boundaries", "validate_boundaries"]

logger = logging.getLogger(__name__)

#: The CRS of every boundary GeoDataFrame this module returns.
OUTPUT_CRS = "EPSG:25832"

#: Output columns, in order.
BOUNDARY_COLUMNS = ("ags", "ars", "gen", "bez", "ewz", "gf", "kreis", "geometry")

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


# --------------------------------------------------------------------------------------------
# opening the file and choosing the layer


def _open_source(path: Path, layer: str | None) -> tuple[str, str]:
    """The path GDAL should open and the layer to read, or an error naming the file."""
    if not path.exists():
        raise InputFormatError("does not exist", path=path)
    source = str(path)
    if path.is_file():
        if path.stat().st_size == 0:
            raise InputFormatError("is empty (0 bytes); expected a boundary file", path=path)
        if path.suffix.lower() == ".zip":
            source = _zip_member(path, layer)
    kind = "folder of shapefiles" if path.is_dir() else f"{path.suffix or 'feature'} file"
    try:
        layers = pyogrio.list_layers(source)
    except Exception as exc:
        raise InputFormatError(
            f"cannot be read as a {kind} ({_gdal_message(exc)}); expected a shapefile, "
            "GeoPackage or GeoJSON with municipal boundaries",
            path=path,
        ) from exc
    names = [str(name) for name, _ in layers]
    # layers that may hold polygons: not attribute tables, not point or line layers ("Unknown"
    # is what GDAL says of a GeoJSON mixing Polygon and MultiPolygon)
    polygonal = [str(name) for name, gtype in layers
                 if gtype and not re.search(r"point|line", str(gtype), re.I)]
    if layer is not None:
        match = [n for n in names if n.lower() == layer.lower()]
        if not match:
            raise InputError(
                f"has no layer {layer!r}; its layers are {', '.join(names) or 'none'}", path=path
            )
        return source, match[0]
    if not polygonal:
        raise InputFormatError(
            f"has no polygon layer (layers: {', '.join(names) or 'none'}); "
            "expected municipal boundaries",
            path=path,
        )
    if len(polygonal) == 1:
        return source, polygonal[0]
    gemeinde = [n for n in polygonal if _GEMEINDE_LAYER.search(n)]
    if gemeinde:
        if len(gemeinde) > 1:
            logger.info("%s: several Gemeinde layers (%s); reading %s (choose with layer=)",
                        path.name, ", ".join(gemeinde), gemeinde[0])
        return source, gemeinde[0]
    raise InputError(
        f"has {len(polygonal)} polygon layers and none is a Gemeinde layer "
        f"({', '.join(polygonal)}); choose one with layer=",
        path=path,
    )


def _zip_member(path: Path, layer: str | None) -> str:
    """A GDAL /vsizip/ path to the boundary file or shapefile folder inside a zip archive."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = [n for n in zf.namelist() if n.lower().endswith(_FEATURE_SUFFIXES)]
    except zipfile.BadZipFile as exc:
        raise InputFormatError("is not a valid zip archive", path=path) from exc
    if not members:
        raise InputFormatError(
            "is a zip archive without a shapefile, GeoPackage or GeoJSON inside", path=path
        )
    wanted = [m for m in members if layer and Path(m).stem.lower() == layer.lower()]
    gemeinde = [m for m in members if _GEMEINDE_LAYER.search(Path(m).stem)]
    chosen = (wanted or gemeinde or members)[0]
    if chosen.lower().endswith(".shp"):
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
    >>> missing_companions("VG5000_GEM.shp")  # doctest: +SKIP
    []
    """
    path = Path(shp)
    present = {p.name.lower() for p in path.parent.glob(f"{glob_escape(path.stem)}.*")}
    wanted = (".shx", ".dbf", ".prj") if need_prj else (".shx", ".dbf")
    return [path.stem + ext for ext in wanted if (path.stem + ext).lower() not in present]


def glob_escape(text: str) -> str:
    """``text`` with the glob wildcards ``*?[`` escaped."""
    return re.sub(r"([*?\[])", r"[\1]", text)


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
    return shown + (", ..." if len(vals) > n else "")


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
    source, layer_name = _open_source(path, layer)
    info = pyogrio.read_info(source, layer=layer_name)
    fields = [str(f) for f in info["fields"]]
    report.counts["layer"] = layer_name

    # which fields hold what
    ags_field = _find_field(fields, [key_column] if key_column else _AGS_FIELDS)
    if key_column and ags_field is None:
        raise InputError(
            f"has no field {key_column!r} (key_column=); its fields are {', '.join(fields)}",
            path=path,
        )
    ars_field = _find_field(fields, _ARS_FIELDS)
    if ags_field is None and ars_field is None:
        expected = ", ".join(dict.fromkeys([*_AGS_FIELDS, "ags", *_ARS_FIELDS, "rs"]))
        raise InputError(
            f"no key column: expected one of {expected} (found: {', '.join(fields) or 'none'}); "
            "name the column holding the AGS with key_column=",
            path=path,
        )
    gen_field = _find_field(fields, _GEN_FIELDS)
    bez_field = _find_field(fields, _BEZ_FIELDS)
    gf_field = _find_field(fields, _GF_FIELDS)
    ewz_field = _find_field(fields, _EWZ_FIELDS)
    ade_field = _find_field(fields, _ADE_FIELDS)
    wanted = [f for f in (ags_field, ars_field, gen_field, bez_field, gf_field, ewz_field,
                          ade_field) if f is not None]
    wanted = list(dict.fromkeys(wanted))

    try:
        raw = pyogrio.read_dataframe(source, layer=layer_name, columns=wanted)
    except Exception as exc:
        raise InputFormatError(f"cannot be read ({_gdal_message(exc)})", path=path) from exc
    n_read = len(raw)
    report.counts["features read"] = n_read
    raw = raw.reset_index(drop=True)
    feature_no = pd.Series(np.arange(1, n_read + 1), index=raw.index)

    # CRS: never guessed
    src_crs = _check_crs(raw, path, crs)

    # ---- keys and level
    ags_text, ags_numeric = (_as_key_text(raw[ags_field]) if ags_field
                             else (pd.Series(pd.NA, index=raw.index, dtype="str"), False))
    ars_text, ars_numeric = (_as_key_text(raw[ars_field]) if ars_field
                             else (pd.Series(pd.NA, index=raw.index, dtype="str"), False))
    ade = _levels(raw, ade_field, ags_text, ags_numeric, ars_text, ars_numeric, layer_name, name)
    ags_width = ade.map(_AGS_WIDTH_BY_ADE)
    ars_width = ade.map(_ARS_WIDTH_BY_ADE)
    ags, ags_padded, ags_bad = _pad(ags_text, ags_width)
    ars, ars_padded, ars_bad = _pad(ars_text, ars_width)
    # levels without an AGS (Verwaltungsgemeinschaft) keep it missing
    ags = ags.mask(ags_width == 0)
    ags_bad &= ags_width != 0
    # No AGS field, or AGS missing in a feature: derive it from the ARS (Land 2, RBZ 1, Kreis 2,
    # Verband 4, Gemeinde 3 -> AGS = ARS[:5] + ARS[9:]).
    ars_ok = ars.notna() & ~ars_bad
    derive = ags.isna() & ars_ok & (ags_width > 0)
    if derive.any():
        from_ars = ars.where(ars.str.len() != 12, ars.str[:5] + ars.str[9:])
        ags = ags.mask(derive, from_ars)
        if ags_field is not None:
            report.notes.append(f"AGS taken from the ARS for {int(derive.sum()):,} features")
        else:
            report.notes.append(f"no AGS field: AGS derived from {ars_field}")

    for key_name, field, numeric, padded, width in (
        ("AGS", ags_field, ags_numeric, ags_padded, ags_width),
        ("ARS", ars_field, ars_numeric, ars_padded, ars_width),
    ):
        if padded.any():
            n = int(padded.sum())
            how = "stored as a number" if numeric else "stored without its leading zero"
            msg = f"{how}: zero-padded {n:,} {key_name} values to {int(width[padded].max())} digits"
            report.warning(name, None, field, msg, code="key_padded")
            logger.warning("%s: %s %s (features %s)", name, field, msg,
                           _examples(feature_no[padded]))
    for key_name, field, bad, text, width in (
        ("AGS", ags_field, ags_bad, ags_text, ags_width),
        ("ARS", ars_field, ars_bad, ars_text, ars_width),
    ):
        for i in np.flatnonzero(bad.to_numpy())[:50]:
            report.error(name, int(feature_no.iloc[i]), field,
                         f"{text.iloc[i]!r} is not an {key_name} of {int(width.iloc[i])} digits "
                         f"(level {_LEVEL_NAME.get(int(ade.iloc[i]), '?')})", code="bad_key")
        if bad.sum() > 50:
            report.error(name, None, field, f"{int(bad.sum()) - 50:,} more bad {key_name} values",
                         code="bad_key")
    no_key = ags.isna() & ars.isna()
    if no_key.any():
        for i in np.flatnonzero(no_key.to_numpy())[:20]:
            report.error(name, int(feature_no.iloc[i]), ags_field or ars_field,
                         "has no key (AGS or ARS is empty)", code="missing_key")

    out = pd.DataFrame(index=raw.index)
    out["ags"] = ags.astype("str")
    out["ars"] = ars.astype("str")
    out["gen"] = (raw[gen_field].astype("str") if gen_field
                  else pd.Series(pd.NA, index=raw.index, dtype="str"))
    out["bez"] = (raw[bez_field].astype("str") if bez_field
                  else pd.Series(pd.NA, index=raw.index, dtype="str"))
    out["ewz"] = _integers(raw, ewz_field, pd.Int64Dtype(), report, name, feature_no)
    out["gf"] = _integers(raw, gf_field, pd.Int8Dtype(), report, name, feature_no)
    kreis_src = ags.where(ags.notna(), ars)
    out["kreis"] = kreis_src.str[:5].where(ade.isin([4, 5, 6])).astype("str")
    counts = ade.map(_LEVEL_NAME).value_counts()
    report.counts["level"] = ", ".join(f"{lvl} {n:,}" for lvl, n in counts.items())
    gdf = gpd.GeoDataFrame(out, geometry=raw.geometry.values, crs=src_crs)

    # ---- duplicates (after water is removed, a Gemeinde should appear once)
    water = gdf["gf"].isin(_WATER_GF).fillna(False).astype(bool)
    report.counts["water features"] = int(water.sum())
    land_ags = gdf.loc[~water, "ags"].dropna()
    dup_keys = land_ags[land_ags.duplicated()].unique()
    if len(dup_keys):
        msg = f"{len(dup_keys):,} AGS occur in more than one land feature: {_examples(dup_keys)}"
        report.warning(name, None, None, msg, code="duplicate_key")
        logger.warning("%s: %s", name, msg)

    # ---- water areas
    if water.any() and not include_water:
        dropped = gdf.loc[water, "ags"]
        logger.info("%s: dropped %d water features (GF 1, 2 or 8; keep them with "
                    "include_water=True), AGS %s", name, int(water.sum()),
                    _examples(dropped.dropna()))
        report.notes.append(f"{int(water.sum()):,} water features (GF 1, 2 or 8) dropped")
        gdf = gdf.loc[~water]
        feature_no = feature_no.loc[~water]
    report.counts["water features dropped"] = int(water.sum()) if not include_water else 0

    # ---- selection (before the geometric work, so that reading one Kreis stays fast)
    if select is not None:
        keep = select(gdf)
        gdf = gdf.loc[keep]
        feature_no = feature_no.loc[keep]

    # ---- geometry: reproject, then repair what is invalid and keep only polygonal parts
    gdf = gdf.to_crs(OUTPUT_CRS)
    gdf = _repair(gdf, feature_no, report, name)
    report.counts["features"] = len(gdf)
    report.counts["crs"] = f"{src_crs.to_string()} -> {OUTPUT_CRS}"
    return gdf.reset_index(drop=True)


def _check_crs(raw: gpd.GeoDataFrame, path: Path, crs: Any) -> CRS:
    """The CRS of the file, or the stated one where the file has none; never guessed."""
    file_crs = raw.crs
    if crs is not None:
        try:
            stated = CRS.from_user_input(crs)
        except Exception as exc:
            raise InputError(f"crs={crs!r} is not a valid CRS ({exc})", path=path) from exc
    else:
        stated = None
    if file_crs is None:
        if stated is None:
            raise InputError(
                "has no coordinate reference system (no .prj file or crs member); state it with "
                "crs=, e.g. crs='EPSG:25832' (VG250) or crs='EPSG:31467' (VG5000 2021)",
                path=path,
            )
        raw.set_crs(stated, inplace=True)
        return stated
    if stated is not None and not stated.equals(file_crs, ignore_axis_order=True):
        # GeoJSON without a crs member is declared WGS 84 by GDAL; projected coordinates then show
        # that the declaration is a default, and the stated CRS wins.
        minx, miny, maxx, maxy = raw.total_bounds
        default_wgs84 = file_crs.is_geographic and (max(abs(minx), abs(maxx)) > 180
                                                    or max(abs(miny), abs(maxy)) > 90)
        if not default_wgs84:
            raise InputError(
                f"declares {file_crs.to_string()} but crs={crs!r} was given; omit crs= or fix "
                "the file",
                path=path,
            )
        raw.set_crs(stated, inplace=True, allow_override=True)
        return stated
    if file_crs.is_geographic and len(raw):
        minx, miny, maxx, maxy = raw.total_bounds
        if max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 90:
            raise InputError(
                f"declares {file_crs.to_string()} (degrees) but its coordinates reach "
                f"{max(abs(minx), abs(maxx)):,.0f}, so they are projected metres; state the CRS "
                "with crs=, e.g. crs='EPSG:25832'",
                path=path,
            )
    return CRS.from_user_input(file_crs)


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
        msg = f"{int(bad.sum()):,} values are not whole numbers; treated as missing"
        report.warning(name, int(feature_no[bad].iloc[0]), field, msg, code="bad_number")
        logger.warning("%s: %s %s (features %s)", name, field, msg, _examples(feature_no[bad]))
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
        logger.warning("%s: repaired %d invalid geometries (shapely.make_valid, polygonal parts "
                       "kept), AGS %s", name, int(invalid.sum()), _examples(ags))
        for i in np.flatnonzero(invalid)[:50]:
            report.warning(name, int(feature_no.iloc[i]), "geometry",
                           f"invalid geometry repaired (AGS {ags.loc[gdf.index[i]]})",
                           code="invalid_geometry")
    if not_polygonal.any():
        kinds = pd.Series(shapely.get_type_id(geoms[not_polygonal])).map(
            {0: "Point", 1: "LineString", 2: "LinearRing", 4: "MultiPoint",
             5: "MultiLineString", 7: "GeometryCollection"}).value_counts()
        report.notes.append("polygonal parts kept of " + ", ".join(
            f"{n:,} {k}" for k, n in kinds.items()))
    geoms = gdf.geometry.values
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        keys = gdf["ags"].where(gdf["ags"].notna(), gdf["ars"])[empty]
        msg = (f"{int(empty.sum()):,} features have no polygon geometry (empty, missing or not "
               f"polygonal) and were dropped")
        logger.warning("%s: %s, AGS %s", name, msg, _examples(keys))
        for i in np.flatnonzero(empty)[:50]:
            report.warning(name, int(feature_no.iloc[i]), "geometry",
                           "no polygon geometry; feature dropped", code="no_geometry")
        report.counts["features without geometry dropped"] = int(empty.sum())
        gdf = gdf.loc[~empty]
    return gdf


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
        raise InputError(
            f"kreis={kreis!r} is not a Kreis key: expected 5 digits as text, e.g. '09472' "
            "(Landkreis Bayreuth)",
            path=path,
        )
    wanted: list[str] = []
    if ags is not None:
        wanted = [ags] if isinstance(ags, str) else list(ags)
        bad = [a for a in wanted if not isinstance(a, str) or not re.fullmatch(
            r"\d{2}|\d{3}|\d{5}|\d{8}", a)]
        if bad or not wanted:
            raise InputError(
                f"ags={_examples(bad) if bad else '[]'} is not a list of AGS: expected texts of "
                "8 digits (Gemeinde), 5 (Kreis), 3 (Regierungsbezirk) or 2 (Land), e.g. "
                "['09472111']",
                path=path,
            )

    def select(gdf: gpd.GeoDataFrame) -> pd.Series:
        keep = pd.Series(True, index=gdf.index)
        if kreis is not None:
            by_kreis = (gdf["kreis"] == kreis).fillna(False).astype(bool)
            if not by_kreis.any():
                known = gdf["kreis"].dropna().unique()
                near = sorted(k for k in known if k[:3] == kreis[:3]) or sorted(
                    k for k in known if k[:2] == kreis[:2]) or sorted(known)
                raise InputError(
                    f"kreis '{kreis}' selects no feature; the file has {len(gdf):,} features"
                    + (f" with Kreis keys such as {_examples(near, 6)}" if len(known) else
                       " and none with a Kreis key (Länder or Regierungsbezirke?)"),
                    path=path,
                )
            keep &= by_kreis
        if wanted:
            found = set(gdf["ags"].dropna())
            missing = [a for a in wanted if a not in found]
            if missing:
                sample = sorted(found)[:5]
                raise InputError(
                    f"ags {_examples(missing)} not found; the file has {len(gdf):,} features "
                    f"with AGS such as {_examples(sample)}",
                    path=path,
                )
            keep &= gdf["ags"].isin(wanted).fillna(False).astype(bool)
        return keep

    return select


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
        (Int64), ``gf`` (Int8), ``kreis`` (text) and a valid Polygon/MultiPolygon ``geometry``.

    Raises
    ------
    InputFormatError
        If the file is missing, empty (0 bytes) or not the format its name says.
    InputError
        If no key column is found, the file has no CRS and none is given, a layer is unknown, or
        ``kreis``/``ags`` have the wrong form or select nothing.
    DataValidationError
        If features have keys of the wrong form (e.g. letters in the AGS), listing them all.

    Examples
    --------
    >>> gem = read_boundaries("VG5000_GEM.shp", kreis="09472")  # doctest: +SKIP
    >>> gem[["ags", "gen"]].head(2)  # doctest: +SKIP
            ags                            gen
    0  09472111                       Ahorntal
    1  09472116  Bad Berneck i. Fichtelgebirge
    """
    p = Path(path)
    report = ValidationReport(source=str(p), kind="boundaries")
    select = _selector(p, kreis, ags)
    gdf = _load(p, report, layer=layer, key_column=key_column, crs=crs,
                include_water=include_water, select=select)
    if report.errors:
        raise DataValidationError(report.errors, path=p)
    logger.info("read %d boundary features from %s (layer %s)", len(gdf), p.name,
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
        Counts (features read, level, water features, geometries repaired, CRS) and every problem
        (bad keys, duplicate keys, repaired or empty geometries). An unreadable file is one error.

    Raises
    ------
    Nothing for bad data; only programming errors propagate.

    Examples
    --------
    >>> print(validate_boundaries("VG5000_GEM.shp").format())  # doctest: +SKIP
    """
    p = Path(path)
    report = ValidationReport(source=str(p), kind="boundaries")
    try:
        _load(p, report, layer=None, key_column=None, crs=None, include_water=False)
    except InputError as exc:
        report.error(p.name, exc.row, exc.column, exc.message, code="unreadable")
    return report
