"""A QGIS project (``.qgz``) over a run's GeoPackage and GeoTIFF surfaces, written without QGIS.

:func:`write_qgis_project` writes a zipped QGIS 3 project that opens layers of a GeoPackage and
GeoTIFFs, grouped and named as the caller says, each with its style: the default style embedded in
the GeoPackage's ``layer_styles`` table (see :mod:`kurszugang.output.geopackage`) or the ``.qml``
file beside a GeoTIFF, copied into the project. The project CRS is EPSG:25832 by default, the map
opens on the extent of all layers, and every path is relative to the project file, so the folder
can be moved or sent as a whole.

:func:`write_run_project` builds the standard project of a run's output folder
(``kurszugang.gpkg`` and ``reisezeitflaechen/*.tif``) with German (or English) layer names,
grouped like the web map: Kursorte, Erreichbarkeit, Einzugsbereiche, Reisezeitflächen,
Grundlagen.

The file is plain XML (standard library) in a zip, written under a temporary name in the target
folder and renamed when complete; the same inputs give the same bytes.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import sqlite3
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from pyproj import CRS
from pyproj.exceptions import CRSError

from kurszugang.crs import ANALYSIS_CRS, transformer
from kurszugang.errors import ConfigError, InputError, InputFormatError
from kurszugang.output.geopackage import REPRODUCIBLE_TIMESTAMP
from kurszugang.words import de_number, plural

#: The run's layer names (:data:`kurszugang.schema.LAYERS`) by role.
LAYER_NAMES = {"gemeinden": "gemeinden", "grid": "raster", "sites": "kursorte",
               "courses": "kurse", "catchments": "einzugsbereiche", "stops": "haltestellen",
               "kreis": "kreis", "proposals": "plan_vorschlaege",
               "proposal_areas": "plan_einzugsbereiche"}


def _check_language(language: str) -> None:
    if language not in ("de", "en"):
        raise ConfigError(f"unknown language {language!r}: use 'de' (German) or 'en' (English)")

__all__ = [
    "PROJECT_FILE",
    "QGIS_PROJECT_VERSION",
    "GpkgLayer",
    "RasterLayer",
    "write_qgis_project",
    "write_run_project",
]

log = logging.getLogger(__name__)

#: File name of the project a run writes into its output folder.
PROJECT_FILE = "kurszugang.qgz"
#: QGIS version recorded in the project: the oldest release it is checked with (Debian 12's
#: QGIS 3.22), so that QGIS 3.22 and newer open it without a version warning.
QGIS_PROJECT_VERSION = "3.22.0-Białowieża"

Bounds = tuple[float, float, float, float]

# Elements of a <maplayer> the project writes itself; a style's elements of the same name are
# not copied.
_OWN_ELEMENTS = frozenset({"id", "datasource", "layername", "srs", "provider", "extent",
                           "wgs84extent", "layerGeometryType"})
_GEOMETRY_FAMILY = {"Point": "Point", "LineString": "Line", "Polygon": "Polygon"}


@dataclass(frozen=True)
class GpkgLayer:
    """A layer of the project's GeoPackage.

    Parameters
    ----------
    layer
        The layer's (table's) name in the GeoPackage, e.g. ``"gemeinden"``.
    name
        The name shown in QGIS' Layers panel, e.g. ``"Anteil Teilnehmender mit erreichbarem
        Kurs"``.
    visible
        Whether the layer is switched on when the project opens.
    """

    layer: str
    name: str
    visible: bool = True


@dataclass(frozen=True)
class RasterLayer:
    """A GeoTIFF (or any raster GDAL reads) in the project.

    Parameters
    ----------
    path
        The file; a relative path is taken relative to the project file's folder. A QGIS style
        ``<file stem>.qml`` beside it (as :func:`~kurszugang.output.geopackage.write_surfaces`
        writes) becomes the layer's style.
    name
        The name shown in QGIS' Layers panel.
    visible
        Whether the layer is switched on when the project opens.
    """

    path: str | Path
    name: str
    visible: bool = True


@dataclass(frozen=True)
class _Layer:
    """One layer resolved against its file: what the project XML needs."""

    name: str
    group: str
    visible: bool
    layer_id: str
    kind: str  # "vector" or "raster"
    provider: str  # "ogr" or "gdal"
    source: str  # data source, relative to the project folder
    crs: CRS
    extent: Bounds | None  # in the layer's CRS; None without features
    wkb_type: str  # vector geometry type, e.g. "MultiPolygon"; "" for rasters
    style: ET.Element | None  # the root of the layer's QML, if it has a style


# --- reading what the layers are -----------------------------------------------------------


def _open_gpkg(gpkg: Path) -> dict[str, str | None]:
    """Feature tables of a GeoPackage and their default QGIS style (QML text or None)."""
    if not gpkg.is_file():
        raise InputError("GeoPackage not found: check the path (kurszugang run writes "
                         "kurszugang.gpkg into the output folder)", path=gpkg)
    try:
        with closing(sqlite3.connect(f"{gpkg.resolve().as_uri()}?mode=ro", uri=True)) as con:
            tables = [r[0] for r in con.execute(
                "SELECT table_name FROM gpkg_contents WHERE data_type = 'features' "
                "ORDER BY table_name")]
            has_styles = con.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                     "AND name = 'layer_styles'").fetchone()[0] > 0
            rows = con.execute(
                "SELECT f_table_name, styleQML FROM layer_styles "
                "ORDER BY useAsDefault DESC, update_time DESC").fetchall() if has_styles else []
    except sqlite3.DatabaseError as exc:
        raise InputFormatError(f"is not a GeoPackage (no readable gpkg_contents table: {exc})",
                               path=gpkg) from None
    styles: dict[str, str | None] = dict.fromkeys(tables)
    for table, qml in reversed(rows):  # the first row (default, newest) wins
        if table in styles and qml:
            styles[table] = qml
    return styles


def _parse_style(text: str, what: str, path: Path) -> ET.Element:
    """The root of a QML document; ``what`` names it in errors ("the QGIS style of ...")."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise InputFormatError(f"{what} is not valid XML: {exc}", path=path) from None
    if root.tag != "qgis":
        raise InputFormatError(f"{what} is no QML document (its root element is <{root.tag}>, "
                               "expected <qgis>)", path=path)
    return root


def _layer_id(kind: str, source: str, stem: str) -> str:
    """A QGIS layer id: readable stem and a digest of the source (stable across runs)."""
    digest = hashlib.sha1(f"{kind}:{source}".encode()).hexdigest()[:12]
    stem = re.sub(r"[^A-Za-z0-9_]+", "_", stem).strip("_")
    return f"{stem or kind}_{digest}"


def _relative(target: Path, folder: Path) -> str:
    """``target`` as QGIS writes relative paths (``./x.gpkg``, ``../daten/x.tif``)."""
    try:
        rel = Path(os.path.relpath(target.resolve(), folder.resolve())).as_posix()
    except ValueError:  # another drive (Windows): only an absolute path works
        log.warning("%s liegt auf einem anderen Laufwerk als das Projekt: als absoluter Pfad "
                    "geschrieben, der Ordner lässt sich ohne diese Datei nicht verschieben", target)
        return target.resolve().as_posix()
    return rel if rel.startswith("../") else f"./{rel}"


def _vector(gpkg: Path, item: GpkgLayer, group: str, folder: Path,
            styles: Mapping[str, str | None]) -> _Layer:
    import pyogrio

    if item.layer not in styles:
        raise ConfigError(f"{gpkg.name} has no layer {item.layer!r} with geometries; its layers "
                          f"are: {', '.join(styles) or 'none'}")
    info = pyogrio.read_info(gpkg, layer=item.layer, force_total_bounds=True)
    if not info["crs"]:
        raise InputError(f"layer {item.layer!r} has no CRS: QGIS could not place it",
                         path=gpkg)
    qml = styles[item.layer]
    source = f"{_relative(gpkg, folder)}|layername={item.layer}"
    return _Layer(
        name=item.name, group=group, visible=item.visible,
        layer_id=_layer_id("vector", source, item.layer),
        kind="vector", provider="ogr", source=source, crs=CRS.from_user_input(info["crs"]),
        extent=_bounds(info["total_bounds"]), wkb_type=str(info["geometry_type"] or "Unknown"),
        style=_parse_style(qml, f"the QGIS style of layer {item.layer!r} (table layer_styles)",
                           gpkg) if qml else None)


def _raster(item: RasterLayer, group: str, folder: Path) -> _Layer:
    import rasterio
    from rasterio.errors import RasterioIOError

    path = Path(item.path)
    path = path if path.is_absolute() else folder / path
    if not path.is_file():
        raise InputError("raster file not found: check the path (relative paths are taken "
                         f"relative to the project's folder {folder})", path=path)
    try:
        with rasterio.open(path) as src:
            crs, bounds, bands = src.crs, _bounds(src.bounds), src.count
    except RasterioIOError as exc:
        raise InputFormatError(f"cannot be read as a raster: {exc}", path=path) from None
    if crs is None:
        raise InputError("the raster has no CRS: QGIS could not place it", path=path)
    if bands < 1:
        raise InputFormatError("the raster has no band", path=path)
    qml = path.with_suffix(".qml")
    style = _parse_style(qml.read_text(encoding="utf-8"), "the QGIS style beside the raster",
                         qml) if qml.is_file() else None
    source = _relative(path, folder)
    return _Layer(
        name=item.name, group=group, visible=item.visible,
        layer_id=_layer_id("raster", source, path.stem),
        kind="raster", provider="gdal", source=source, crs=CRS.from_user_input(crs.to_wkt()),
        extent=bounds, wkb_type="", style=style)


def _bounds(values: Sequence[float] | None) -> Bounds | None:
    """``(xmin, ymin, xmax, ymax)``, or None where there are none (a layer without features)."""
    if values is None or len(values) != 4:
        return None
    xmin, ymin, xmax, ymax = (float(v) for v in values)
    return (xmin, ymin, xmax, ymax) if all(map(math.isfinite, (xmin, ymin, xmax, ymax))) \
        else None


# --- writing the project XML ---------------------------------------------------------------


def _crs_key(crs: CRS) -> str:
    auth = crs.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else crs.to_wkt()


def _srs(parent: ET.Element, crs: CRS) -> None:
    """``<spatialrefsys>`` as QGIS reads it: WKT (with its EPSG id) and the authority id.

    No QGIS-internal ``srsid`` is written, so QGIS builds the CRS from the WKT."""
    srs = ET.SubElement(parent, "spatialrefsys", {"nativeFormat": "Wkt"})
    ET.SubElement(srs, "wkt").text = crs.to_wkt("WKT2_2019")
    key = _crs_key(crs)
    code = key.split(":")[1] if ":" in key and key.split(":")[1].isdigit() else "0"
    ET.SubElement(srs, "srid").text = code
    ET.SubElement(srs, "authid").text = key if code != "0" else ""
    ET.SubElement(srs, "description").text = crs.name
    ET.SubElement(srs, "geographicflag").text = "true" if crs.is_geographic else "false"


def _extent(parent: ET.Element, tag: str, bounds: Bounds) -> ET.Element:
    el = ET.SubElement(parent, tag)
    for name, value in zip(("xmin", "ymin", "xmax", "ymax"), bounds, strict=True):
        ET.SubElement(el, name).text = repr(float(value))
    return el


def _maplayer(layer: _Layer) -> ET.Element:
    attrs = {"type": layer.kind, "styleCategories": "AllStyleCategories"}
    if layer.kind == "vector":
        found = re.search(r"Point|LineString|Polygon", layer.wkb_type)
        family = _GEOMETRY_FAMILY[found.group(0)] if found else "Unknown geometry"
        attrs.update({"geometry": family, "wkbType": layer.wkb_type.replace(" ", "")})
    if layer.style is not None:  # scale limits and the like are attributes of the QML root
        attrs.update({k: v for k, v in layer.style.attrib.items()
                      if k not in ("version", "styleCategories")})
    el = ET.Element("maplayer", attrs)
    if layer.extent is not None:
        _extent(el, "extent", layer.extent)
    ET.SubElement(el, "id").text = layer.layer_id
    ET.SubElement(el, "datasource").text = layer.source
    ET.SubElement(el, "layername").text = layer.name
    _srs(ET.SubElement(el, "srs"), layer.crs)
    ET.SubElement(el, "provider", {"encoding": "UTF-8"} if layer.kind == "vector" else {}) \
        .text = layer.provider
    if layer.kind == "raster":
        ET.SubElement(ET.SubElement(el, "noData"), "noDataList",
                      {"bandNo": "1", "useSrcNoData": "1"})
    style_tags = {c.tag for c in layer.style} if layer.style is not None else set()
    if "flags" not in style_tags:
        flags = ET.SubElement(el, "flags")
        for flag, value in (("Identifiable", "1"), ("Removable", "1"), ("Searchable", "1"),
                            ("Private", "0")):
            ET.SubElement(flags, flag).text = value
    if layer.style is not None:
        el.extend(c for c in layer.style if c.tag not in _OWN_ELEMENTS)
    return el


def _checked(on: bool) -> str:
    return "Qt::Checked" if on else "Qt::Unchecked"


def _layer_tree(parent: ET.Element, groups: Sequence[str], layers: Sequence[_Layer],
                render_order: Sequence[_Layer] | None) -> None:
    root = ET.SubElement(parent, "layer-tree-group")
    ET.SubElement(root, "customproperties")
    for group in groups:
        g = ET.SubElement(root, "layer-tree-group",
                          {"name": group, "checked": "Qt::Checked", "expanded": "1"})
        ET.SubElement(g, "customproperties")
        for layer in (x for x in layers if x.group == group):
            node = ET.SubElement(g, "layer-tree-layer", {
                "id": layer.layer_id, "name": layer.name, "source": layer.source,
                "providerKey": layer.provider, "checked": _checked(layer.visible),
                "expanded": "1" if layer.visible else "0", "legend_exp": ""})
            ET.SubElement(node, "customproperties")
    order = ET.SubElement(root, "custom-order",
                          {"enabled": "1" if render_order is not None else "0"})
    for layer in render_order if render_order is not None else layers:
        ET.SubElement(order, "item").text = layer.layer_id


def _project_extent(layers: Sequence[_Layer], crs: CRS) -> Bounds | None:
    """Union of the layers' extents in the project CRS (None if no layer has one)."""
    key = _crs_key(crs)
    boxes = []
    for layer in layers:  # per layer (a handful)
        if layer.extent is None:
            continue
        src = _crs_key(layer.crs)
        boxes.append(layer.extent if src == key else
                     transformer(src, key).transform_bounds(*layer.extent, densify_pts=21))
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def _properties(parent: ET.Element) -> None:
    props = ET.SubElement(parent, "properties")
    paths = ET.SubElement(props, "Paths")
    ET.SubElement(paths, "Absolute", {"type": "bool"}).text = "false"
    srs = ET.SubElement(props, "SpatialRefSys")
    ET.SubElement(srs, "ProjectionsEnabled", {"type": "int"}).text = "1"


def _view(parent: ET.Element, crs: CRS, extent: Bounds | None) -> None:
    """The map canvas (what QGIS desktop opens on) and the default view extent."""
    canvas = ET.SubElement(parent, "mapcanvas", {"name": "theMapCanvas",
                                                 "annotationsVisible": "1"})
    unit = crs.axis_info[0].unit_name if crs.axis_info else "metre"
    ET.SubElement(canvas, "units").text = "degrees" if crs.is_geographic else \
        ("meters" if unit == "metre" else "unknown")
    if extent is not None:
        _extent(canvas, "extent", extent)
    ET.SubElement(canvas, "rotation").text = "0"
    _srs(ET.SubElement(canvas, "destinationsrs"), crs)
    view = ET.SubElement(parent, "ProjectViewSettings", {"UseProjectScales": "0",
                                                         "rotation": "0"})
    ET.SubElement(view, "Scales")
    if extent is not None:
        default = ET.SubElement(view, "DefaultViewExtent", {
            k: repr(float(v)) for k, v in zip(("xmin", "ymin", "xmax", "ymax"), extent,
                                              strict=True)})
        _srs(default, crs)


def _project_xml(title: str, language: str, crs: CRS, groups: Sequence[str],
                 layers: Sequence[_Layer], render_order: Sequence[_Layer] | None) -> bytes:
    root = ET.Element("qgis", {"projectname": title, "version": QGIS_PROJECT_VERSION})
    ET.SubElement(root, "homePath", {"path": ""})
    ET.SubElement(root, "title").text = title
    _srs(ET.SubElement(root, "projectCrs"), crs)
    _layer_tree(root, groups, layers, render_order)
    _view(root, crs, _project_extent(layers, crs))
    project_layers = ET.SubElement(root, "projectlayers")
    project_layers.extend(_maplayer(layer) for layer in layers)
    order = ET.SubElement(root, "layerorder")
    for layer in render_order if render_order is not None else layers:
        ET.SubElement(order, "layer", {"id": layer.layer_id})
    _properties(root)
    meta = ET.SubElement(root, "projectMetadata")
    ET.SubElement(meta, "language").text = language
    ET.SubElement(meta, "title").text = title
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n") \
        .encode("utf-8")


def _write_atomically(path: Path, member: str, data: bytes) -> None:
    """Zip ``data`` as ``member`` into ``path`` via a temporary file in the same folder."""
    stamp = REPRODUCIBLE_TIMESTAMP.timetuple()[:6]
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w") as zf:
                info = zipfile.ZipInfo(member, date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.chmod(0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# --- checking the caller's layout ----------------------------------------------------------


def _check_layout(path: Path, groups: Mapping[str, Sequence[GpkgLayer | RasterLayer]],
                  render_order: Sequence[str] | None) -> None:
    if path.suffix.lower() != ".qgz":
        raise ConfigError(f"the project file must end in .qgz (a zipped QGIS project), not "
                          f"{path.name!r}")
    if not path.parent.is_dir():
        raise InputError(f"folder {path.parent} does not exist", path=path)
    if not groups:
        raise ConfigError("write_qgis_project needs at least one group of layers")
    names: list[str] = []
    for group, items in groups.items():
        if not str(group).strip():
            raise ConfigError("a group name is empty: give every group a name")
        if not items:
            raise ConfigError(f"group {group!r} has no layers: leave it out or add layers")
        for item in items:
            if not isinstance(item, GpkgLayer | RasterLayer):
                raise ConfigError(f"group {group!r} holds a {type(item).__name__}; expected "
                                  "GpkgLayer or RasterLayer")
            if not item.name.strip():
                raise ConfigError(f"a layer in group {group!r} has an empty name")
            names.append(item.name)
    dupes = sorted(n for n, k in Counter(names).items() if k > 1)
    if dupes:
        raise ConfigError(f"layer names must be unique in the project: {dupes[0]!r} is given "
                          "twice")
    unknown = [n for n in render_order or () if n not in names]
    if unknown:
        raise ConfigError(f"render_order names {unknown[0]!r}, which is no layer of the project")


def _project_crs(crs: str) -> CRS:
    try:
        return CRS.from_user_input(crs)
    except CRSError as exc:
        raise ConfigError(f"unknown project CRS {crs!r}: {exc}") from None


def _resolve(path: Path, gpkg: Path,
             groups: Mapping[str, Sequence[GpkgLayer | RasterLayer]]) -> list[_Layer]:
    folder = path.parent
    vectors = any(isinstance(i, GpkgLayer) for items in groups.values() for i in items)
    styles = _open_gpkg(gpkg) if vectors else {}
    layers = [_vector(gpkg, item, str(group), folder, styles) if isinstance(item, GpkgLayer)
              else _raster(item, str(group), folder)
              for group, items in groups.items() for item in items]
    sources = [x.source for x in layers]
    repeated = sorted({s for s in sources if sources.count(s) > 1})
    if repeated:
        raise ConfigError(f"{repeated[0]} is given twice: each layer once")
    unstyled = [x.name for x in layers if x.style is None]
    if unstyled:
        log.warning("%s ohne QGIS-Stil im GeoPackage oder .qml neben der Datei, mit den "
                    "Standardsymbolen von QGIS gezeichnet: %s",
                    plural(len(unstyled), "Ebene", "Ebenen"), ", ".join(unstyled[:5]))
    empty = [x.name for x in layers if x.extent is None]
    if empty:
        log.warning("%s ohne Objekte, nicht in der Ausdehnung des Projekts: %s",
                    plural(len(empty), "Ebene", "Ebenen"), ", ".join(empty[:5]))
    return layers


# --- public functions ----------------------------------------------------------------------


def write_qgis_project(
    path: str | Path,
    *,
    gpkg: str | Path,
    groups: Mapping[str, Sequence[GpkgLayer | RasterLayer]],
    title: str,
    language: str = "de",
    crs: str = ANALYSIS_CRS,
    render_order: Sequence[str] | None = None,
) -> Path:
    """Write a QGIS project (``.qgz``) that opens GeoPackage layers and rasters with their styles.

    The project lists the groups in the order given (top first), each with its layers in order,
    under the names given. Each layer carries its style: for a GeoPackage layer the default
    style in the file's ``layer_styles`` table (as
    :func:`~kurszugang.output.geopackage.write_geopackage` embeds it), for a raster the ``.qml`` file beside it (as
    :func:`~kurszugang.output.geopackage.write_surfaces` writes it). The style is copied into
    the project, so restyling in QGIS and saving the project changes the project, not the data.
    A layer without a style is drawn with QGIS' default symbols (logged as a warning).

    The project CRS is ``crs``; the map opens on the union of the layers' extents (in that CRS;
    layers without features left out, logged). Paths are stored relative to the project file
    (``./kurszugang.gpkg|layername=gemeinden``), so the folder with project and data can be moved
    as a whole. The file is written under a temporary name in the same folder and renamed when
    complete; the same inputs give the same bytes. QGIS need not be installed.

    Parameters
    ----------
    path
        The project file, ending in ``.qgz``; its folder must exist; replaced if present.
    gpkg
        The GeoPackage the :class:`GpkgLayer` entries refer to.
    groups
        Group name (shown in QGIS) to its layers, top first: :class:`GpkgLayer` and
        :class:`RasterLayer` entries. Layer names must be unique; every group needs a layer.
    title
        Project title (QGIS' window title and project properties).
    language
        ``"de"`` or ``"en"``: the language recorded in the project's metadata.
    crs
        Project CRS (default EPSG:25832); layers in other CRSs are reprojected on the fly.
    render_order
        Names of layers to draw on top, topmost first; the other layers follow in the order of
        the tree. Given, the project uses QGIS' "control rendering order" (Layer Order panel), so
        that, e.g., points stay above opaque areas whatever the tree order. None (default):
        layers are drawn in tree order.

    Returns
    -------
    pathlib.Path
        The project file written.

    Raises
    ------
    InputError
        If the GeoPackage or a raster is missing or unreadable, a layer has no CRS, or the folder
        does not exist (:class:`~kurszugang.errors.InputFormatError` if a file is of another
        format or a style is no valid QML).
    ConfigError
        If the path does not end in ``.qgz``, there are no groups, a group is empty, a layer name
        is empty or repeated, a layer is not in the GeoPackage, a source is given twice,
        ``render_order`` names an unknown layer, the CRS is unknown or the language is neither
        ``"de"`` nor ``"en"``.

    Examples
    --------
    >>> from kurszugang.analysis.layers import result_layers
    >>> from kurszugang.output.geopackage import write_geopackage, write_surfaces
    >>> Path("out").mkdir()
    >>> _ = write_geopackage("out/kurszugang.gpkg", result_layers(access, gemeinden,
    ...                                                           courses=courses))
    >>> _ = write_surfaces([surface], "out/reisezeitflaechen")
    >>> write_qgis_project(
    ...     "out/kurszugang.qgz", gpkg="out/kurszugang.gpkg", title="Kurse im Landkreis",
    ...     groups={"Kursorte": [GpkgLayer("kursorte", "Kursorte")],
    ...             "Erreichbarkeit": [GpkgLayer("gemeinden", "Gemeinden")],
    ...             "Reisezeitflächen": [RasterLayer("reisezeitflaechen/reisezeit_KS01.tif",
    ...                                              "Reisezeitfläche KS01", visible=False)]},
    ...     render_order=["Kursorte"])
    PosixPath('out/kurszugang.qgz')
    """
    _check_language(language)
    out = Path(path)
    _check_layout(out, groups, render_order)
    project_crs = _project_crs(crs)
    layers = _resolve(out, Path(gpkg), groups)
    order = None
    if render_order is not None:
        by_name = {x.name: x for x in layers}
        first = [by_name[n] for n in dict.fromkeys(render_order)]
        order = first + [x for x in layers if x not in first]
    data = _project_xml(title, language, project_crs, [str(g) for g in groups], layers, order)
    _write_atomically(out, f"{out.stem}.qgs", data)
    log.info("QGIS-Projekt %s geschrieben: %s Ebenen in %s Gruppen (%s)", out.name,
             de_number(len(layers)), de_number(len(groups)),
             ", ".join(f"{g} {de_number(len(v))}" for g, v in groups.items()))
    return out


# --- the standard project of a run ---------------------------------------------------------

_TEXT = {
    "de": {
        "title": "Erreichbarkeit der Integrationskurse",
        "sites": "Kursorte", "access": "Erreichbarkeit", "catchments": "Einzugsbereiche",
        "surfaces": "Reisezeitflächen", "base": "Grundlagen",
        LAYER_NAMES["sites"]: "Kursorte",
        LAYER_NAMES["courses"]: "Kurse nach Kursart",
        LAYER_NAMES["gemeinden"]: "Anteil Teilnehmender mit erreichbarem Kurs (Gemeinden)",
        LAYER_NAMES["grid"]: "Reisezeit zum besten Kurs (Rasterzellen)",
        LAYER_NAMES["catchments"]: "Einzugsbereiche der Kursorte",
        LAYER_NAMES["stops"]: "Haltestellen (Abfahrten)",
        LAYER_NAMES["kreis"]: "Kreisgrenze",
        LAYER_NAMES["proposals"]: "Vorgeschlagene Standorte",
        LAYER_NAMES["proposal_areas"]: "Einzugsbereiche der Vorschläge",
        "plan": "Planung",
        "surface": "Reisezeitfläche", "arrive_by": "Ankunft bis",
    },
    "en": {
        "title": "Access to integration courses",
        "sites": "Course sites", "access": "Access", "catchments": "Catchments",
        "surfaces": "Travel-time surfaces", "base": "Base data",
        LAYER_NAMES["sites"]: "Course sites",
        LAYER_NAMES["courses"]: "Courses by type",
        LAYER_NAMES["gemeinden"]: "Share of participants who can attend a course "
                                  "(municipalities)",
        LAYER_NAMES["grid"]: "Travel time to the best course (grid cells)",
        LAYER_NAMES["catchments"]: "Catchments of the course sites",
        LAYER_NAMES["stops"]: "Stops (departures)",
        LAYER_NAMES["kreis"]: "District boundary",
        LAYER_NAMES["proposals"]: "Proposed sites",
        LAYER_NAMES["proposal_areas"]: "Catchments of the proposals",
        "plan": "Planning",
        "surface": "Travel-time surface", "arrive_by": "arriving by",
    },
}
# Standard layers: (layer, group key, visible when opened), in tree order.
_STANDARD = (
    (LAYER_NAMES["sites"], "sites", True),
    (LAYER_NAMES["courses"], "sites", False),
    (LAYER_NAMES["gemeinden"], "access", True),
    (LAYER_NAMES["grid"], "access", False),
    (LAYER_NAMES["catchments"], "catchments", False),
    (LAYER_NAMES["stops"], "base", False),
    (LAYER_NAMES["kreis"], "base", True),
    (LAYER_NAMES["proposals"], "plan", True),
    (LAYER_NAMES["proposal_areas"], "plan", False),
)
# Drawn from the top as the web map's panes: points, catchments, surfaces, then the fills.
_DRAW_FIRST = (LAYER_NAMES["proposals"], LAYER_NAMES["sites"], LAYER_NAMES["courses"],
               LAYER_NAMES["kreis"], LAYER_NAMES["proposal_areas"],
               LAYER_NAMES["stops"],
               LAYER_NAMES["catchments"], "surfaces", LAYER_NAMES["grid"],
               LAYER_NAMES["gemeinden"])


def _site_names(gpkg: Path, tables: Sequence[str]) -> dict[str, str]:
    import pyogrio

    layer = LAYER_NAMES["sites"]
    if layer not in tables:
        return {}
    cols = pyogrio.read_info(gpkg, layer=layer)["fields"]
    if "site_id" not in cols or "site_name" not in cols:
        return {}
    sites = pyogrio.read_dataframe(gpkg, layer=layer, columns=["site_id", "site_name"],
                                   read_geometry=False)
    return dict(zip(sites["site_id"].astype(str), sites["site_name"].astype(str), strict=True))


def _surface_layers(folder: Path, names: Mapping[str, str], text: Mapping[str, str]) \
        -> list[RasterLayer]:
    import rasterio

    out = []
    for tif in sorted(folder.glob("*.tif")):  # one per course site
        with rasterio.open(tif) as src:
            tags = src.tags()
        site = tags.get("site_id", tif.stem.removeprefix("reisezeit_"))
        label = f"{text['surface']} {site}"
        if names.get(site):
            label += f" – {names[site]}"
        if tags.get("arrive_by"):
            label += f" ({text['arrive_by']} {tags['arrive_by']})"
        out.append(RasterLayer(tif, label, visible=False))
    return out


def _standard_layout(gpkg: Path, surfaces: Path, language: str) \
        -> tuple[dict[str, list[GpkgLayer | RasterLayer]], list[str]]:
    text = _TEXT[language]
    tables = list(_open_gpkg(gpkg))
    groups: dict[str, list[GpkgLayer | RasterLayer]] = {
        text[k]: [] for k in ("plan", "sites", "access", "catchments", "surfaces", "base")}
    for layer, group, visible in _STANDARD:
        if layer in tables:
            groups[text[group]].append(GpkgLayer(layer, text[layer], visible=visible))
    rasters = _surface_layers(surfaces, _site_names(gpkg, tables), text) \
        if surfaces.is_dir() else []
    groups[text["surfaces"]].extend(rasters)
    standard = {layer for layer, _, _ in _STANDARD}
    extra = [t for t in tables if t not in standard]
    if extra:
        log.info("%s aus %s in die Gruppe %s gelegt: %s",
                 plural(len(extra), "weitere Ebene", "weitere Ebenen"), gpkg.name, text["base"],
                 ", ".join(extra))
        groups[text["base"]].extend(GpkgLayer(t, t, visible=False) for t in extra)
    order: list[str] = []
    for key in _DRAW_FIRST:
        if key == "surfaces":
            order.extend(r.name for r in rasters)
        elif key in tables:
            order.append(text[key])
    return {g: items for g, items in groups.items() if items}, order


def write_run_project(
    out_dir: str | Path,
    *,
    language: str = "de",
    title: str | None = None,
    gpkg_name: str = "kurszugang.gpkg",
    surfaces_dir: str = "reisezeitflaechen",
) -> Path:
    """Write the standard QGIS project of a run's output folder (``kurszugang.qgz``).

    =====================  ===================================================================
    group                  layers (German names; the first two are switched on)
    =====================  ===================================================================
    Kursorte               Kursorte (``kursorte``, on), Kurse nach Kursart (``kurse``)
    Erreichbarkeit         Anteil Teilnehmender mit erreichbarem Kurs (Gemeinden)
                           (``gemeinden``, on), Reisezeit zum besten Kurs (Rasterzellen)
                           (``raster``)
    Einzugsbereiche        Einzugsbereiche der Kursorte (``einzugsbereiche``)
    Reisezeitflächen       one GeoTIFF per site: "Reisezeitfläche KS01 – <site name>
                           (Ankunft bis 08:30)"
    Grundlagen             Haltestellen (Abfahrten) (``haltestellen``), then any other layer
                           of the GeoPackage under its own name
    =====================  ===================================================================

    Layers missing from the folder are left out, and so are groups left empty. Layers are drawn
    like the web map: points on top, then catchments, surfaces, the grid cells and the Gemeinden
    at the bottom (QGIS' Layer Order panel; untick "Control rendering order" there to draw in
    tree order).

    Parameters
    ----------
    out_dir
        The run's output folder, with ``gpkg_name`` and the folder ``surfaces_dir``.
    language
        ``"de"`` (default) or ``"en"``: names of groups and layers and the default title.
    title
        Project title; default "Erreichbarkeit der Integrationskurse".
    gpkg_name
        The GeoPackage's file name in ``out_dir``.
    surfaces_dir
        The folder of GeoTIFF surfaces in ``out_dir`` (left out if absent).

    Returns
    -------
    pathlib.Path
        ``out_dir / "kurszugang.qgz"``.

    Raises
    ------
    InputError
        If the GeoPackage is missing or unreadable.
    ConfigError
        If the GeoPackage has no layer with geometries or the language is unknown.

    Examples
    --------
    >>> from kurszugang.analysis.layers import result_layers
    >>> from kurszugang.output.geopackage import write_geopackage
    >>> Path("data/processed/demo").mkdir(parents=True)
    >>> _ = write_geopackage("data/processed/demo/kurszugang.gpkg",
    ...                      result_layers(access, gemeinden, courses=courses))
    >>> write_run_project("data/processed/demo")
    PosixPath('data/processed/demo/kurszugang.qgz')
    >>> import zipfile
    >>> zipfile.ZipFile("data/processed/demo/kurszugang.qgz").namelist()
    ['kurszugang.qgs']
    """
    _check_language(language)
    folder = Path(out_dir)
    gpkg = folder / gpkg_name
    groups, order = _standard_layout(gpkg, folder / surfaces_dir, language)
    if not groups:
        raise ConfigError(f"{gpkg.name} has no layer with geometries to put into a QGIS project")
    return write_qgis_project(folder / PROJECT_FILE, gpkg=gpkg, groups=groups,
                              title=title or _TEXT[language]["title"], language=language,
                              render_order=order)
