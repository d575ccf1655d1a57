"""What a run computed: every table and layer with its columns, the parameters, the inputs'
checksums and what the inputs cover, saved in the output folder in open formats.

A run is: read and check the inputs, compute every number once into :class:`Results`, render.
Renderers (tables, GeoPackage, GeoTIFF, web map, A4 maps, summary, QGIS project) are functions of
a :class:`Results` alone, so every output shows the same numbers and a saved run can be rendered
again without its inputs (``kurszugang map OUTDIR``, ``kurszugang report OUTDIR``).

The saved form (:meth:`Results.save`, folder ``ergebnisse/`` of the output folder) is readable
without kurszugang: ``manifest.json`` (what the run was, every column with its label, unit and
meaning), one Parquet file per table, one GeoParquet file per layer (EPSG:25832) and one GeoTIFF
per travel-time surface.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kurszugang.errors import InputError
from kurszugang.files import atomic_path
from kurszugang.schema import Column, TableSpec, norm_param, spec

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["FORMAT", "RESULTS_DIR", "RunInfo", "Surface", "Table", "Results", "build_table"]

#: Name and version of the saved format (in ``manifest.json``).
FORMAT = ("kurszugang-ergebnisse", 1)
#: Folder of the saved results inside an output folder.
RESULTS_DIR = "ergebnisse"


@dataclass(frozen=True)
class Table:
    """One table or layer: its declaration, its frame and its concrete columns (in order)."""

    spec: TableSpec
    frame: pd.DataFrame
    columns: tuple[Column, ...]

    @property
    def name(self) -> str:
        return self.spec.name

    def column(self, key: str) -> Column:
        """The column with this key."""
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(f"table {self.name} has no column {key!r}")

    def find(self, family: str, param: object) -> Column | None:
        """The column of ``family`` (its key pattern, e.g. ``"feasible_{}"``) for ``param``."""
        want = norm_param(param)
        for c in self.columns:
            if c.family == family and c.param == want:
                return c
        return None

    def of_family(self, family: str) -> list[Column]:
        """Every column of a family, in table order."""
        return [c for c in self.columns if c.family == family]

    def labels(self, language: str = "de") -> dict[str, str]:
        """Column key -> header in ``language``."""
        return {c.key: c.label(language) for c in self.columns}


def _coerce(frame: pd.DataFrame, columns: Iterable[Column]) -> pd.DataFrame:
    """The frame's columns in their declared dtypes (ids and names as text, counts as floats)."""
    out = frame.copy()
    for c in columns:
        s = out[c.key]
        if c.dtype == "string":
            present = s.notna().to_numpy()
            text = s.astype(object).astype(str).where(present, None)
            out[c.key] = pd.array(text.to_numpy(dtype=object), dtype="string")
        elif c.dtype == "date":
            values = pd.to_datetime(s, errors="coerce")
            out[c.key] = pd.array([None if pd.isna(v) else v.date() for v in values],
                                  dtype=object)
        elif c.dtype in ("Int64", "boolean"):
            out[c.key] = s.astype(c.dtype)  # type: ignore[call-overload]
        elif c.dtype == "bool":
            out[c.key] = s.fillna(False).astype(bool)
        else:
            out[c.key] = s.astype(c.dtype)  # type: ignore[call-overload]
    return out


def build_table(name: str, frame: pd.DataFrame, **params: Iterable[object]) -> Table:
    """A :class:`Table` of the declared table or layer ``name`` from a computed frame.

    ``params`` give the values each column family is expanded with, by parameter kind
    (``course_type=``, ``schedule=``, ``date=``, ``min=``, ``km=``, ``hour=``). The frame must
    hold exactly the declared columns (a layer also its geometry); they are put in declared
    order and dtype.

    Raises
    ------
    KeyError
        If the frame holds a column the schema does not declare (a programming error).
    """
    s = spec(name)
    by_kind = {k: list(v) for k, v in params.items()}
    fam_params: dict[str, Iterable[object]] = {c.key: by_kind.get(c.param_kind, [])
                                               for c in s.columns if not isinstance(c, Column)}
    geom: str | None = str(frame.geometry.name) if s.geometry else None
    keys = [str(k) for k in frame.columns if k != geom]
    declared = s.concrete(keys, fam_params)
    order = {c.key: i for i, c in enumerate(s.concrete(
        [k for k in _declared_order(s, fam_params) if k in keys], fam_params))}
    cols = sorted(declared, key=lambda c: order[c.key])
    out = _coerce(frame[[c.key for c in cols] + ([geom] if geom else [])], cols)
    if geom:
        import geopandas as gpd

        out = gpd.GeoDataFrame(out, geometry=geom, crs=frame.crs)
    return Table(s, out.reset_index(drop=True), tuple(cols))


def _declared_order(s: TableSpec, fam_params: Mapping[str, Iterable[object]]) -> list[str]:
    keys: list[str] = []
    for c in s.columns:
        if isinstance(c, Column):
            keys.append(c.key)
        else:
            keys += [c.expand(v).key for v in fam_params.get(c.key, ())]
    return keys


@dataclass(frozen=True, eq=False)
class Surface:
    """A travel-time surface to one course site: minutes on the Zensus grid (EPSG:3035).

    ``minutes`` is ``float32`` ``(rows, cols)``, north up, NaN where not reachable within
    ``tags["max_time_min"]`` or outside the grid; ``transform`` the six affine coefficients
    (a, b, c, d, e, f); ``tags`` text metadata (site_id, date, arrive_by, …).
    """

    site_id: str
    minutes: np.ndarray
    transform: tuple[float, float, float, float, float, float]
    crs: str
    tags: dict[str, str]

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.minutes.shape[0]), int(self.minutes.shape[1]))

    @property
    def resolution_m(self) -> float:
        return float(self.transform[0])

    @property
    def arrive_by(self) -> int:
        """Latest arrival (seconds after midnight) the surface was computed for."""
        h, m = str(self.tags.get("arrive_by", "00:00")).split(":")[:2]
        return int(h) * 3600 + int(m) * 60

    @property
    def max_time_min(self) -> float:
        return float(self.tags.get("max_time_min", 90))

    def write_geotiff(self, path: Path) -> Path:
        """Write as a one-band float32 GeoTIFF (deflate), nodata NaN, with the tags."""
        import rasterio
        from affine import Affine

        rows, cols = self.minutes.shape
        with rasterio.open(path, "w", driver="GTiff", height=rows, width=cols, count=1,
                           dtype="float32", crs=self.crs, transform=Affine(*self.transform),
                           nodata=float("nan"), compress="deflate") as dst:
            dst.write(self.minutes.astype(np.float32), 1)
            dst.set_band_description(
                1, f"Reisezeit zum Kursort {self.site_id} in Minuten / "
                   f"travel time to course site {self.site_id} in minutes")
            dst.update_tags(**self.tags)
            dst.update_tags(1, units="minutes")
        return path

    @classmethod
    def read_geotiff(cls, path: Path) -> Surface:
        import rasterio

        with rasterio.open(path) as src:
            tags = {str(k): str(v) for k, v in src.tags().items()}
            t = src.transform
            return cls(tags.get("site_id", path.stem), src.read(1).astype(np.float32),
                       (t.a, t.b, t.c, t.d, t.e, t.f), str(src.crs), tags)


@dataclass(frozen=True)
class RunInfo:
    """What a run was: district, dates, parameters, inputs, and the headline figures.

    ``parameters`` holds one row per setting: key, German label, English label, value, unit,
    German meaning, English meaning. ``headline`` is the one headline figure and its parts
    (see :func:`kurszugang.analysis.headline.headline`).
    """

    district_key: str
    district_name: str
    school_day: dt.date
    holiday: dt.date
    language: str = "de"
    threshold_min: float = 45.0
    early_arrival_min: float = 30.0
    courses_as_of: dt.date | None = None
    parameters: tuple[tuple[Any, ...], ...] = ()
    checksums: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    validation: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    attribution: tuple[str, ...] = ()
    headline: dict[str, Any] = field(default_factory=dict)
    #: the settings as TOML text (what einstellungen.toml holds)
    settings_toml: str = ""

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("school_day", "holiday", "courses_as_of"):
            d[k] = d[k].isoformat() if d[k] is not None else None
        d["parameters"] = [list(r) for r in self.parameters]
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> RunInfo:
        data = dict(d)
        for k in ("school_day", "holiday", "courses_as_of"):
            data[k] = dt.date.fromisoformat(data[k]) if data.get(k) else None
        data["parameters"] = tuple(tuple(r) for r in data.get("parameters", ()))
        for k in ("validation", "notes", "attribution"):
            data[k] = tuple(data.get(k, ()))
        return cls(**data)


def _json_default(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {value!r}")


def _clean(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class Results:
    """Everything a run computed.

    Attributes
    ----------
    info
        What the run was (:class:`RunInfo`).
    tables
        Tables by name (:data:`kurszugang.schema.TABLES`), in declaration order.
    layers
        Layers by name (:data:`kurszugang.schema.LAYERS`), GeoDataFrames in EPSG:25832.
    surfaces
        Travel-time surfaces by site id.
    """

    info: RunInfo
    tables: dict[str, Table]
    layers: dict[str, Table]
    surfaces: dict[str, Surface] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        """The frame of a table (columns keyed as declared)."""
        return self.tables[name].frame

    def layer(self, name: str) -> gpd.GeoDataFrame:
        """The GeoDataFrame of a layer."""
        return self.layers[name].frame

    # --- saved form ------------------------------------------------------------------------

    def save(self, out_dir: str | Path) -> Path:
        """Save into ``out_dir/ergebnisse/`` (Parquet, GeoParquet, GeoTIFF, manifest.json).

        Every file is written under a temporary name and renamed when complete; the manifest
        is written last, so a folder without it is incomplete.
        """
        folder = Path(out_dir) / RESULTS_DIR
        folder.mkdir(parents=True, exist_ok=True)
        manifest: dict[str, Any] = {"format": FORMAT[0], "version": FORMAT[1],
                                    "info": self.info.to_json(), "tables": {}, "layers": {},
                                    "surfaces": {}}
        for kind, items in (("tables", self.tables), ("layers", self.layers)):
            for name, t in items.items():
                file = f"{kind}/{name}.parquet"
                (folder / kind).mkdir(exist_ok=True)
                with atomic_path(folder / file) as tmp:
                    _write_parquet(t.frame, tmp, geometry=t.spec.geometry)
                manifest[kind][name] = {"file": file,
                                        "columns": [asdict(c) for c in t.columns]}
        for site, s in self.surfaces.items():
            file = f"flaechen/{_safe(site)}.tif"
            (folder / "flaechen").mkdir(exist_ok=True)
            with atomic_path(folder / file) as tmp:
                s.write_geotiff(tmp)
            manifest["surfaces"][site] = file
        text = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=False,
                          default=_json_default)
        with atomic_path(folder / "manifest.json") as tmp:
            tmp.write_text(text + "\n", encoding="utf-8")
        return folder

    @classmethod
    def load(cls, out_dir: str | Path) -> Results:
        """Read saved results from an output folder (or its ``ergebnisse`` folder).

        Raises
        ------
        InputError
            If the folder holds no saved results (or an incomplete or newer saved form).
        """
        base = Path(out_dir)
        folder = base if (base / "manifest.json").exists() else base / RESULTS_DIR
        manifest_path = folder / "manifest.json"
        if not manifest_path.is_file():
            raise InputError(f"enthält keine gespeicherten Ergebnisse ({RESULTS_DIR}/"
                             "manifest.json fehlt): erst kurszugang run ausführen, oder der "
                             "Lauf wurde unterbrochen", path=str(out_dir))
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT[0] or int(manifest.get("version", 0)) > FORMAT[1]:
            raise InputError(f"hat das Format {manifest.get('format')} "
                             f"{manifest.get('version')}, erwartet {FORMAT[0]} {FORMAT[1]}",
                             path=str(manifest_path))
        tables = {n: _read_table(folder, n, m, geometry=False)
                  for n, m in manifest["tables"].items()}
        layers = {n: _read_table(folder, n, m, geometry=True)
                  for n, m in manifest["layers"].items()}
        surfaces = {s: Surface.read_geotiff(folder / f) for s, f in manifest["surfaces"].items()}
        return cls(RunInfo.from_json(manifest["info"]), tables, layers, surfaces)


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(text)) or "ort"


def _write_parquet(frame: pd.DataFrame, path: Path, *, geometry: bool) -> None:
    out = frame.copy()
    for c in out.columns:
        if out[c].dtype == object and c != getattr(frame, "_geometry_column_name", None):
            sample = out[c].dropna()
            if len(sample) and isinstance(sample.iloc[0], dt.date):
                out[c] = pd.to_datetime(out[c]).dt.date
    if geometry:
        out.to_parquet(path, index=False, compression="zstd")  # GeoParquet
    else:
        out.to_parquet(path, index=False, compression="zstd")


def _read_table(folder: Path, name: str, meta: Mapping[str, Any], *, geometry: bool) -> Table:
    path = folder / meta["file"]
    if geometry:
        import geopandas as gpd

        frame: pd.DataFrame = gpd.read_parquet(path)
    else:
        frame = pd.read_parquet(path)
    columns = tuple(Column(**{str(k): _clean(v) for k, v in c.items()})  # type: ignore[arg-type]
                    for c in meta["columns"])
    try:
        s = spec(name)
    except KeyError:  # a table of another version: keep what the manifest says
        s = TableSpec(name, "", "", "", name, columns, geometry=geometry)
    return Table(s, _coerce(frame, columns), columns)
