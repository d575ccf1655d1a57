"""The QGIS project of a run: the file itself, bad input, and the project opened in real QGIS.

The project is built from the outputs of the demo run. The QGIS checks open it with Debian's QGIS
(``python3-qgis``, the system Python) in a subprocess, after moving the folder, and render every
layer offscreen.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import rasterio
import shapely
from pyproj import Transformer

from kurszugang.errors import ConfigError, InputError, InputFormatError
from kurszugang.output.geopackage import write_geopackage
from kurszugang.output.qgis_project import (
    PROJECT_FILE,
    QGIS_PROJECT_VERSION,
    GpkgLayer,
    RasterLayer,
    write_qgis_project,
    write_run_project,
)

SURFACE_SITES = {"KS01": "VHS-Haus am Marktplatz", "KS02": "Sprachschule am Bahnhof",
                 "KS03": "Bildungswerk im Schulzentrum", "KS04": "VHS-Außenstelle Musterbach",
                 "KS05": "Sprachtreff Probstried", "KS06": "Bildungszentrum Vorlaging",
                 "KS07": "Bildungszentrum Beispielstadt", "KS08": "Pfarrheim Skizzenau"}
# Each site's surface is computed for its earliest course start (the demo's course list).
ARRIVE_BY = {"KS01": "08:30", "KS02": "08:15", "KS03": "08:00", "KS04": "08:45",
             "KS05": "09:00", "KS06": "08:30", "KS07": "08:00", "KS08": "13:30"}
SURFACES = [f"Reisezeitfläche {k} – {v} (Ankunft bis {ARRIVE_BY[k]})"
            for k, v in SURFACE_SITES.items()]
# The standard project of the demo run: group -> [(layer name, source, visible)], top first.
EXPECTED_TREE = {
    "Kursorte": [("Kursorte", "kursorte", True), ("Kurse nach Kursart", "kurse", False)],
    "Erreichbarkeit": [
        ("Anteil Teilnehmender mit erreichbarem Kurs (Gemeinden)", "gemeinden", True),
        ("Reisezeit zum besten Kurs (Rasterzellen)", "raster", False)],
    "Einzugsbereiche": [("Einzugsbereiche der Kursorte", "einzugsbereiche", False)],
    "Reisezeitflächen": [(name, f"reisezeitflaechen/reisezeit_{k}.tif", False)
                         for name, k in zip(SURFACES, SURFACE_SITES, strict=True)],
    "Grundlagen": [("Haltestellen (Abfahrten)", "haltestellen", False),
                   ("Kreisgrenze", "kreis", True)],
}
EXPECTED_RENDER_ORDER = ["Kursorte", "Kurse nach Kursart", "Kreisgrenze",
                         "Haltestellen (Abfahrten)",
                         "Einzugsbereiche der Kursorte", *SURFACES,
                         "Reisezeit zum besten Kurs (Rasterzellen)",
                         "Anteil Teilnehmender mit erreichbarem Kurs (Gemeinden)"]
# Renderer of each GeoPackage layer's embedded style (geopackage.standard_style).
EXPECTED_RENDERERS = {"gemeinden": "graduatedSymbol", "raster": "graduatedSymbol",
                      "kursorte": "categorizedSymbol", "kurse": "categorizedSymbol",
                      "einzugsbereiche": "categorizedSymbol", "haltestellen": "singleSymbol",
                      "kreis": "singleSymbol"}


@pytest.fixture(scope="session")
def run_dir(demo_run, tmp_path_factory) -> Path:
    """A copy of the output folder of the whole demo run (GeoPackage, surfaces, ...): the
    project written here must not replace the one of the session's run, which other tests
    compare byte for byte (tests/test_faults.py)."""
    folder = tmp_path_factory.mktemp("qgis_run") / "lauf"
    shutil.copytree(demo_run.out_dir, folder)
    return folder


@pytest.fixture(scope="session")
def project(run_dir) -> Path:
    return write_run_project(run_dir)


@pytest.fixture()
def demo_copy(run_dir, tmp_path) -> Path:
    """GeoPackage and surfaces of the demo run in a folder of the test's own."""
    folder = tmp_path / "lauf"
    folder.mkdir()
    shutil.copy2(run_dir / "kurszugang.gpkg", folder)
    shutil.copytree(run_dir / "reisezeitflaechen", folder / "reisezeitflaechen")
    return folder


def _qgs(path: Path) -> ET.Element:
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist() == [f"{path.stem}.qgs"]
        text = zf.read(f"{path.stem}.qgs").decode("utf-8")
    assert text.startswith("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n")
    return ET.fromstring(text)


def _tree(root: ET.Element) -> dict[str, list[tuple[str, str, bool]]]:
    tree = {}
    for group in root.find("layer-tree-group").findall("layer-tree-group"):
        tree[group.get("name")] = [
            (n.get("name"), n.get("source"), n.get("checked") == "Qt::Checked")
            for n in group.findall("layer-tree-layer")]
    return tree


def _source(entry: str) -> str:
    """The expected data source of a standard layer, as written relative to the project."""
    return f"./{entry}" if entry.endswith(".tif") else f"./kurszugang.gpkg|layername={entry}"


def _gpkg_styles(gpkg: Path) -> dict[str, ET.Element]:
    with sqlite3.connect(gpkg) as con:
        rows = con.execute("SELECT f_table_name, styleQML FROM layer_styles").fetchall()
    return {name: ET.fromstring(qml) for name, qml in rows}


# --- the project file ----------------------------------------------------------------------


def test_standard_project_groups_names_and_relative_sources(project, run_dir):
    assert project == run_dir / PROJECT_FILE
    root = _qgs(project)
    assert root.tag == "qgis"
    assert root.get("version") == QGIS_PROJECT_VERSION
    assert root.findtext("title") == "Erreichbarkeit der Integrationskurse"
    assert root.findtext("projectCrs/spatialrefsys/authid") == "EPSG:25832"
    assert root.findtext("properties/Paths/Absolute") == "false"
    expected = {g: [(name, _source(src), on) for name, src, on in layers]
                for g, layers in EXPECTED_TREE.items()}
    assert _tree(root) == expected
    assert list(_tree(root)) == list(EXPECTED_TREE)
    layers = {m.findtext("id"): m for m in root.iter("maplayer")}
    by_name = {m.findtext("layername"): m for m in layers.values()}
    assert [by_name[n].findtext("datasource") for n, _, _ in EXPECTED_TREE["Kursorte"]] == \
        ["./kurszugang.gpkg|layername=kursorte", "./kurszugang.gpkg|layername=kurse"]
    order = root.find("layer-tree-group/custom-order")
    assert order.get("enabled") == "1"
    assert [layers[i.text].findtext("layername") for i in order] == EXPECTED_RENDER_ORDER
    assert [layers[x.get("id")].findtext("layername") for x in root.find("layerorder")] == \
        EXPECTED_RENDER_ORDER


def test_every_layer_carries_its_embedded_style(project, run_dir):
    root = _qgs(project)
    styles = _gpkg_styles(run_dir / "kurszugang.gpkg")
    seen = {}
    for m in root.iter("maplayer"):
        source = m.findtext("datasource")
        if m.get("type") == "vector":
            table = source.split("layername=")[1]
            want = styles[table]
            seen[table] = m.find("renderer-v2").get("type")
            assert m.find("renderer-v2").get("type") == want.find("renderer-v2").get("type")
            assert m.find("renderer-v2").get("attr") == want.find("renderer-v2").get("attr")
            assert len(m.findall(".//renderer-v2//symbol")) == \
                len(want.findall(".//renderer-v2//symbol"))
            assert m.get("geometry") == {"kursorte": "Point", "kurse": "Point",
                                         "haltestellen": "Point"}.get(table, "Polygon")
        else:
            qml = ET.parse(run_dir / source.removeprefix("./").replace(".tif", ".qml"))
            want_items = [(i.get("value"), i.get("color"))
                          for i in qml.getroot().iter("item")]
            assert m.find("pipe/rasterrenderer").get("type") == "singlebandpseudocolor"
            assert [(i.get("value"), i.get("color")) for i in m.iter("item")] == want_items
            assert want_items[0] == ("15", "#1a9641")
            assert m.findtext("provider") == "gdal"
            assert m.findtext("srs/spatialrefsys/authid") == "EPSG:3035"
    assert seen == EXPECTED_RENDERERS
    gem = next(m for m in root.iter("maplayer") if m.findtext("layername").startswith("Anteil"))
    aliases = {a.get("field"): a.get("name") for a in gem.iter("alias")}
    assert aliases["ags"] == "AGS"
    assert aliases["part_any"] == "Teilnehmende: mindestens ein Kurs besuchbar"


def test_project_opens_on_the_extent_of_all_layers(project, run_dir):
    root = _qgs(project)
    boxes = []
    for name, geometry in pyogrio.list_layers(run_dir / "kurszugang.gpkg"):
        if geometry is None:  # layer_styles
            continue
        bounds = pyogrio.read_info(run_dir / "kurszugang.gpkg", layer=name,
                                   force_total_bounds=True)["total_bounds"]
        boxes.append(tuple(bounds))
    assert len(boxes) == 7
    to_utm = Transformer.from_crs("EPSG:3035", "EPSG:25832", always_xy=True)
    for tif in sorted((run_dir / "reisezeitflaechen").glob("*.tif")):
        with rasterio.open(tif) as src:
            boxes.append(to_utm.transform_bounds(*src.bounds, densify_pts=21))
    union = [min(b[0] for b in boxes), min(b[1] for b in boxes),
             max(b[2] for b in boxes), max(b[3] for b in boxes)]
    view = root.find("ProjectViewSettings/DefaultViewExtent")
    assert [float(view.get(k)) for k in ("xmin", "ymin", "xmax", "ymax")] == \
        pytest.approx(union, abs=0.01)
    canvas = root.find("mapcanvas/extent")
    assert [float(canvas.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")] == \
        pytest.approx(union, abs=0.01)
    # the demo district's Gemeinden span the whole district
    assert union == pytest.approx([729250.2, 5449387.87, 769103.03, 5484360.83], abs=0.01)
    assert root.findtext("mapcanvas/destinationsrs/spatialrefsys/authid") == "EPSG:25832"


def test_same_outputs_give_the_same_bytes(demo_copy):
    first = write_run_project(demo_copy).read_bytes()
    second = write_run_project(demo_copy).read_bytes()
    assert first == second
    assert sorted(p.name for p in demo_copy.iterdir()) == \
        ["kurszugang.gpkg", "kurszugang.qgz", "reisezeitflaechen"]  # no temporary file left


def test_english_names(demo_copy):
    root = _qgs(write_run_project(demo_copy, language="en", title="Courses"))
    tree = _tree(root)
    assert list(tree) == ["Course sites", "Access", "Catchments", "Travel-time surfaces",
                          "Base data"]
    assert [n for n, _, _ in tree["Course sites"]] == ["Course sites", "Courses by type"]
    assert tree["Travel-time surfaces"][0][0] == \
        "Travel-time surface KS01 – VHS-Haus am Marktplatz (arriving by 08:30)"
    assert root.findtext("title") == "Courses"
    assert root.findtext("projectMetadata/language") == "en"


def test_project_in_a_subfolder_points_up(demo_copy):
    (demo_copy / "qgis").mkdir()
    path = write_qgis_project(
        demo_copy / "qgis" / "karte.qgz", gpkg=demo_copy / "kurszugang.gpkg", title="Test",
        groups={"Orte": [GpkgLayer("kursorte", "Kursorte")],
                "Flächen": [RasterLayer(demo_copy / "reisezeitflaechen" / "reisezeit_KS02.tif",
                                        "KS02", visible=False)]})
    root = _qgs(path)
    assert [m.findtext("datasource") for m in root.iter("maplayer")] == \
        ["../kurszugang.gpkg|layername=kursorte", "../reisezeitflaechen/reisezeit_KS02.tif"]
    assert root.find("layer-tree-group/custom-order").get("enabled") == "0"
    assert _tree(root) == {
        "Orte": [("Kursorte", "../kurszugang.gpkg|layername=kursorte", True)],
        "Flächen": [("KS02", "../reisezeitflaechen/reisezeit_KS02.tif", False)]}


def test_a_failed_write_leaves_the_old_project(demo_copy, monkeypatch):
    path = write_run_project(demo_copy)
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("Datenträger voll")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", broken)
    with pytest.raises(OSError, match="Datenträger voll"):
        write_run_project(demo_copy, language="en")
    assert path.read_bytes() == before
    assert sorted(p.name for p in demo_copy.iterdir()) == \
        ["kurszugang.gpkg", "kurszugang.qgz", "reisezeitflaechen"]


@pytest.fixture()
def plain(tmp_path, run_dir) -> Path:
    """A GeoPackage without styles (one empty layer) and a GeoTIFF without a .qml."""
    points = gpd.GeoDataFrame({"name": ["a", "b"]},
                              geometry=[shapely.Point(740000, 5460000),
                                        shapely.Point(745000, 5466000)], crs=25832)
    write_geopackage(tmp_path / "eigen.gpkg", {"punkte": points, "leer": points.iloc[:0]},
                     styles=False)
    shutil.copy2(run_dir / "reisezeitflaechen" / "reisezeit_KS01.tif", tmp_path / "flaeche.tif")
    return tmp_path


def test_layers_without_style_or_features_are_reported(plain, caplog):
    with caplog.at_level(logging.WARNING, logger="kurszugang.output.qgis_project"):
        path = write_qgis_project(
            plain / "eigen.qgz", gpkg=plain / "eigen.gpkg", title="Eigene Daten",
            groups={"Daten": [GpkgLayer("punkte", "Punkte"), GpkgLayer("leer", "Leer")],
                    "Raster": [RasterLayer("flaeche.tif", "Fläche")]})
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "3 Ebenen ohne QGIS-Stil im GeoPackage oder .qml neben der Datei, mit den "
        "Standardsymbolen von QGIS gezeichnet: Punkte, Leer, Fläche",
        "1 Ebene ohne Objekte, nicht in der Ausdehnung des Projekts: Leer"]
    root = _qgs(path)
    assert [m.find("renderer-v2") for m in root.iter("maplayer")] == [None, None, None]
    view = root.find("ProjectViewSettings/DefaultViewExtent")
    with rasterio.open(plain / "flaeche.tif") as src:
        raster = Transformer.from_crs("EPSG:3035", "EPSG:25832", always_xy=True) \
            .transform_bounds(*src.bounds, densify_pts=21)
    union = [min(740000, raster[0]), min(5460000, raster[1]), max(745000, raster[2]),
             max(5466000, raster[3])]
    assert [float(view.get(k)) for k in ("xmin", "ymin", "xmax", "ymax")] == \
        pytest.approx(union, abs=0.01)


# --- bad input -----------------------------------------------------------------------------


def _write(folder: Path, **kwargs):
    args = {"gpkg": folder / "kurszugang.gpkg", "title": "Test",
            "groups": {"Kursorte": [GpkgLayer("kursorte", "Kursorte")]}}
    args.update(kwargs)
    path = args.pop("path", folder / "test.qgz")
    return write_qgis_project(path, **args)


def test_missing_geopackage_is_named(demo_copy):
    with pytest.raises(InputError, match=r"^fehlt\.gpkg: GeoPackage not found: check the path"):
        _write(demo_copy, gpkg=demo_copy / "fehlt.gpkg")


def test_a_file_that_is_no_geopackage_is_refused(demo_copy):
    (demo_copy / "text.gpkg").write_text("kein GeoPackage", encoding="utf-8")
    with pytest.raises(InputFormatError, match=r"^text\.gpkg: is not a GeoPackage \(no readable "
                                               r"gpkg_contents table"):
        _write(demo_copy, gpkg=demo_copy / "text.gpkg")


def test_unknown_layer_lists_the_layers_there(demo_copy):
    with pytest.raises(ConfigError, match=r"^kurszugang\.gpkg has no layer 'gemeinde' with "
                                          r"geometries; its layers are: einzugsbereiche, "
                                          r"gemeinden, haltestellen, kreis, kurse, kursorte, "
                                          r"raster$"):
        _write(demo_copy, groups={"A": [GpkgLayer("gemeinde", "Gemeinden")]})


def test_missing_raster_is_named(demo_copy):
    with pytest.raises(InputError, match=r"^reisezeit_KS99\.tif: raster file not found: check "
                                         r"the path \(relative paths are taken relative to"):
        _write(demo_copy, groups={"A": [RasterLayer("reisezeitflaechen/reisezeit_KS99.tif",
                                                    "KS99")]})


def test_a_file_that_is_no_raster_is_refused(demo_copy):
    (demo_copy / "kaputt.tif").write_text("kein Raster", encoding="utf-8")
    with pytest.raises(InputFormatError, match=r"^kaputt\.tif: cannot be read as a raster"):
        _write(demo_copy, groups={"A": [RasterLayer("kaputt.tif", "Kaputt")]})


def test_a_broken_style_beside_a_raster_is_named(demo_copy):
    (demo_copy / "reisezeitflaechen" / "reisezeit_KS01.qml").write_text("<qgis><pipe>",
                                                                         encoding="utf-8")
    with pytest.raises(InputFormatError, match=r"^reisezeit_KS01\.qml: the QGIS style beside "
                                               r"the raster is not valid XML: "):
        _write(demo_copy, groups={"A": [RasterLayer("reisezeitflaechen/reisezeit_KS01.tif",
                                                    "KS01")]})


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"path": "projekt.qgs"}, "the project file must end in .qgz (a zipped QGIS project), not "
                              "'projekt.qgs'"),
    ({"groups": {}}, "write_qgis_project needs at least one group of layers"),
    ({"groups": {"Leer": []}}, "group 'Leer' has no layers: leave it out or add layers"),
    ({"groups": {" ": [GpkgLayer("kursorte", "Kursorte")]}},
     "a group name is empty: give every group a name"),
    ({"groups": {"A": ["kursorte"]}}, "group 'A' holds a str; expected GpkgLayer or RasterLayer"),
    ({"groups": {"A": [GpkgLayer("kursorte", "")]}}, "a layer in group 'A' has an empty name"),
    ({"groups": {"A": [GpkgLayer("kursorte", "Orte")], "B": [GpkgLayer("kurse", "Orte")]}},
     "layer names must be unique in the project: 'Orte' is given twice"),
    ({"groups": {"A": [GpkgLayer("kursorte", "Orte"), GpkgLayer("kursorte", "Orte 2")]}},
     "./kurszugang.gpkg|layername=kursorte is given twice: each layer once"),
    ({"render_order": ["Kursorte", "Gemeinden"]},
     "render_order names 'Gemeinden', which is no layer of the project"),
    ({"crs": "EPSG:0"}, "unknown project CRS 'EPSG:0'"),
    ({"language": "fr"}, "unknown language 'fr'"),
])
def test_bad_layouts_are_refused(demo_copy, kwargs, message):
    if "path" in kwargs:
        kwargs = {**kwargs, "path": demo_copy / kwargs["path"]}
    with pytest.raises(ConfigError) as err:
        _write(demo_copy, **kwargs)
    assert str(err.value).startswith(message)
    assert not (demo_copy / "test.qgz").exists()


def test_missing_folder_is_named(demo_copy):
    with pytest.raises(InputError, match=r"folder .*weg does not exist"):
        _write(demo_copy, path=demo_copy / "weg" / "test.qgz")


def test_run_folder_without_geopackage(tmp_path):
    with pytest.raises(InputError, match=r"^kurszugang\.gpkg: GeoPackage not found"):
        write_run_project(tmp_path)


# --- in real QGIS --------------------------------------------------------------------------

_QGIS_SCRIPT = r'''
import json, os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import (QgsApplication, QgsCoordinateTransform, QgsMapRendererSequentialJob,
                       QgsMapSettings, QgsProject, QgsRasterLayer, QgsRectangle, QgsVectorLayer)
from qgis.gui import QgsMapCanvas
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor, QImage

app = QgsApplication([], True)
app.initQgis()
project = QgsProject.instance()
canvas = QgsMapCanvas()  # the main map of QGIS desktop, which reads its view from the project
canvas.setObjectName("theMapCanvas")
canvas.resize(800, 600)
project.readProject.connect(canvas.readProject)  # as QGIS desktop connects them
read = project.read(sys.argv[1])
root = project.layerTreeRoot()
SIZE = 400


def render(layers, extent):
    """The layers drawn on a transparent 400 x 400 px image (ARGB, not premultiplied)."""
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(project.crs())
    settings.setExtent(extent)
    settings.setOutputSize(QSize(SIZE, SIZE))
    settings.setBackgroundColor(QColor(0, 0, 0, 0))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    return job.renderedImage().convertToFormat(QImage.Format_ARGB32)


def style_colours(layer):
    """The colours of the layer's legend: symbols (vector) or colour-ramp items (raster)."""
    if isinstance(layer, QgsRasterLayer):
        shader = layer.renderer().shader() if hasattr(layer.renderer(), "shader") else None
        items = shader.rasterShaderFunction().colorRampItemList() if shader else []
        return [i.color.getRgb()[:3] for i in items]
    return [i.symbol().color().getRgb()[:3] for i in layer.renderer().legendSymbolItems()
            if i.symbol() is not None]


def count(image, colours):
    """Painted pixels (every second row and column), and those in one of ``colours``."""
    painted = styled = 0
    for y in range(0, SIZE, 2):
        for x in range(0, SIZE, 2):
            c = image.pixelColor(x, y)
            if c.alpha() == 0:
                continue
            painted += 1
            rgb = c.getRgb()[:3]
            styled += any(max(abs(a - b) for a, b in zip(rgb, s)) <= 4 for s in colours)
    return painted, styled


out = {"read": read, "crs": project.crs().authid(), "title": project.title(),
       "groups": [g.name() for g in root.children()],
       "custom_order": root.hasCustomLayerOrder(),
       "render_order": [layer.name() for layer in root.layerOrder()],
       "absolute_paths": project.readBoolEntry("Paths", "/Absolute", True)[0], "layers": {}}
view = project.viewSettings().defaultViewExtent()
out["view_extent"] = [view.xMinimum(), view.yMinimum(), view.xMaximum(), view.yMaximum()]
shown_extent = canvas.extent()
out["canvas_extent"] = [shown_extent.xMinimum(), shown_extent.yMinimum(),
                        shown_extent.xMaximum(), shown_extent.yMaximum()]
for node in root.findLayers():
    layer = node.layer()
    box = QgsCoordinateTransform(layer.crs(), project.crs(), project) \
        .transformBoundingBox(layer.extent())
    entry = {"group": node.parent().name(), "valid": layer.isValid(),
             "visible": node.isVisible(), "source": layer.source(), "crs": layer.crs().authid(),
             "extent": [box.xMinimum(), box.yMinimum(), box.xMaximum(), box.yMaximum()],
             "renderer": layer.renderer().type()}
    if isinstance(layer, QgsVectorLayer):
        entry.update(kind="vector", features=layer.featureCount(),
                     attr=getattr(layer.renderer(), "classAttribute", lambda: "")(),
                     aliases={f.name(): f.alias() for f in layer.fields() if f.alias()})
    else:
        entry.update(kind="raster", bands=layer.bandCount(),
                     opacity=layer.renderer().opacity())
    grown = QgsRectangle(box)
    grown.grow(max(box.width(), box.height()) * 0.05 + 1.0)
    if isinstance(layer, QgsVectorLayer) and "site_id" in layer.fields().names() \
            and "band_max" in layer.fields().names():
        # the bands of one site are disjoint; translucent bands of several sites blend
        layer.setSubsetString("site_id = 'KS01'")
    entry["painted"], entry["styled"] = count(render([layer], grown), style_colours(layer))
    if isinstance(layer, QgsVectorLayer):
        layer.setSubsetString("")
    out["layers"][layer.name()] = entry
shown = [layer for layer in root.layerOrder() if root.findLayer(layer.id()).isVisible()]
image = render(shown, view)
out["shown"] = [layer.name() for layer in shown]
out["project_painted"] = count(image, [])[0]
out["project_colours"] = len({image.pixel(x, y) for y in range(0, SIZE, 4)
                              for x in range(0, SIZE, 4)})
print(json.dumps(out))
sys.stdout.flush()
os._exit(0)  # QGIS may crash while tearing down; the answer is out
'''


@pytest.fixture(scope="session")
def qgis_python() -> str:
    """Debian's Python with QGIS' bindings (python3-qgis), or skip saying how to install it."""
    python = shutil.which("python3", path="/usr/bin")
    if python is None:
        pytest.skip("no /usr/bin/python3: QGIS' Python bindings need the system Python")
    probe = subprocess.run([python, "-c", "import qgis.core"], capture_output=True, text=True,
                           timeout=120)
    if probe.returncode != 0:
        pytest.skip("QGIS is not installed (import qgis.core failed with the system Python): "
                    "apt-get install -y qgis python3-qgis (.ci/run does)")
    return python


def _open_in_qgis(python: str, project: Path, tmp: Path) -> dict:
    script = tmp / "qgis_check.py"
    script.write_text(_QGIS_SCRIPT, encoding="utf-8")
    run = subprocess.run([python, str(script), str(project)], capture_output=True, text=True,
                         timeout=600, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp),
                                           "XDG_RUNTIME_DIR": str(tmp)})
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def in_qgis(qgis_python, project, run_dir, tmp_path_factory) -> tuple[dict, Path]:
    """The standard project opened in QGIS after its folder was moved elsewhere."""
    moved = tmp_path_factory.mktemp("verschoben") / "Landkreis Beispiel"
    moved.mkdir()
    shutil.copy2(project, moved)
    shutil.copy2(run_dir / "kurszugang.gpkg", moved)
    shutil.copytree(run_dir / "reisezeitflaechen", moved / "reisezeitflaechen")
    return _open_in_qgis(qgis_python, moved / PROJECT_FILE, moved.parent), moved


def test_qgis_reads_the_project_with_crs_groups_and_order(in_qgis):
    got, _ = in_qgis
    assert got["read"] is True
    assert got["crs"] == "EPSG:25832"
    assert got["title"] == "Erreichbarkeit der Integrationskurse"
    assert got["absolute_paths"] is False
    assert got["groups"] == list(EXPECTED_TREE)
    assert got["custom_order"] is True
    assert got["render_order"] == EXPECTED_RENDER_ORDER
    assert list(got["layers"]) == [n for layers in EXPECTED_TREE.values() for n, _, _ in layers]
    assert got["shown"] == ["Kursorte", "Kreisgrenze",
                            "Anteil Teilnehmender mit erreichbarem Kurs (Gemeinden)"]


def test_qgis_finds_every_layer_in_the_moved_folder(in_qgis):
    got, moved = in_qgis
    for group, layers in EXPECTED_TREE.items():
        for name, source, visible in layers:
            layer = got["layers"][name]
            assert layer["valid"] is True, name
            assert layer["group"] == group
            assert layer["visible"] is visible
            want = moved / source if source.endswith(".tif") \
                else f"{moved / 'kurszugang.gpkg'}|layername={source}"
            assert layer["source"] == str(want)


def test_qgis_layers_have_their_features_bands_and_styles(in_qgis, run_dir):
    got, _ = in_qgis
    styles = _gpkg_styles(run_dir / "kurszugang.gpkg")
    for layers in EXPECTED_TREE.values():
        for name, source, _ in layers:
            layer = got["layers"][name]
            if source.endswith(".tif"):
                assert layer["kind"] == "raster"
                assert layer["bands"] == 1
                assert layer["crs"] == "EPSG:3035"
                assert layer["renderer"] == "singlebandpseudocolor"
                assert layer["opacity"] == pytest.approx(0.8)
                continue
            info = pyogrio.read_info(run_dir / "kurszugang.gpkg", layer=source)
            assert layer["kind"] == "vector"
            assert layer["features"] == info["features"] > 0, name
            assert layer["crs"] == "EPSG:25832"
            assert layer["renderer"] == EXPECTED_RENDERERS[source] == \
                styles[source].find("renderer-v2").get("type")
            assert layer["attr"] == (styles[source].find("renderer-v2").get("attr") or "")
    gem = got["layers"]["Anteil Teilnehmender mit erreichbarem Kurs (Gemeinden)"]
    assert gem["attr"] == 'coalesce("share_part_any", 1e+06)'
    assert gem["aliases"]["part_any"] == "Teilnehmende: mindestens ein Kurs besuchbar"


def test_qgis_draws_every_layer_in_its_style_colours(in_qgis):
    got, _ = in_qgis
    for name, layer in got["layers"].items():
        assert layer["painted"] > 20, name  # not blank
        assert layer["styled"] > 0.2 * layer["painted"], name  # in the colours of its style
    gem = got["layers"]["Anteil Teilnehmender mit erreichbarem Kurs (Gemeinden)"]
    assert gem["styled"] > 0.8 * gem["painted"]  # opaque fills: nearly all in class colours
    # the whole project as it opens: the Gemeinden fill most of the map, the sites on top
    assert got["project_painted"] > 0.5 * (400 // 2) ** 2
    assert got["project_colours"] >= 5


def test_qgis_opens_on_the_extent_of_the_layers(in_qgis):
    got, _ = in_qgis
    boxes = [layer["extent"] for layer in got["layers"].values()]
    union = [min(b[0] for b in boxes), min(b[1] for b in boxes),
             max(b[2] for b in boxes), max(b[3] for b in boxes)]
    assert got["view_extent"] == pytest.approx(union, abs=1.0)
    # QGIS desktop's map shows all of it (widened to the window's shape), centred on it
    shown = got["canvas_extent"]
    assert shown[0] <= union[0] + 1.0 and shown[1] <= union[1] + 1.0
    assert shown[2] >= union[2] - 1.0 and shown[3] >= union[3] - 1.0
    assert (shown[0] + shown[2]) / 2 == pytest.approx((union[0] + union[2]) / 2, abs=1.0)
    assert (shown[1] + shown[3]) / 2 == pytest.approx((union[1] + union[3]) / 2, abs=1.0)
    assert shown[2] - shown[0] < 1.5 * (union[2] - union[0])  # not zoomed out to the world


def test_qgis_draws_unstyled_layers_with_its_defaults(qgis_python, plain):
    path = write_qgis_project(
        plain / "eigen.qgz", gpkg=plain / "eigen.gpkg", title="Eigene Daten",
        groups={"Daten": [GpkgLayer("punkte", "Punkte")],
                "Raster": [RasterLayer("flaeche.tif", "Fläche")]})
    got = _open_in_qgis(qgis_python, path, plain)
    assert got["render_order"] == ["Punkte", "Fläche"]
    assert got["custom_order"] is False
    points, raster = got["layers"]["Punkte"], got["layers"]["Fläche"]
    assert (points["valid"], points["features"], points["renderer"]) == \
        (True, 2, "singleSymbol")
    assert (raster["valid"], raster["bands"], raster["renderer"]) == \
        (True, 1, "singlebandgray")
    assert points["painted"] > 0
    assert raster["painted"] > 0


_HATCH_SCRIPT = r'''
import json, os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import QgsApplication, QgsMapRendererSequentialJob, QgsMapSettings, QgsProject
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor, QImage

app = QgsApplication([], True)
app.initQgis()
project = QgsProject.instance()
project.read(sys.argv[1])
layer = project.mapLayersByName(sys.argv[2])[0]
hatch = tuple(int(sys.argv[3][i:i + 2], 16) for i in (1, 3, 5))
extent = layer.extent()
out = {"valid": layer.isValid()}
for part, subset in (("marked", sys.argv[4]), ("unmarked", f"NOT ({sys.argv[4]})")):
    layer.setSubsetString(subset)
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    settings.setExtent(extent)
    settings.setOutputSize(QSize(400, 400))
    settings.setBackgroundColor(QColor(0, 0, 0, 0))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage().convertToFormat(QImage.Format_ARGB32)
    painted = hatched = 0
    for y in range(400):
        for x in range(400):
            c = image.pixelColor(x, y)
            if c.alpha() == 0:
                continue
            painted += 1
            hatched += max(abs(a - b) for a, b in zip(c.getRgb()[:3], hatch)) <= 12
    out[part] = [painted, hatched]
print(json.dumps(out))
sys.stdout.flush()
os._exit(0)
'''


def test_qgis_hatches_the_gemeinden_with_a_datenlage_note(qgis_python, run_dir, tmp_path):
    from kurszugang.output.style import DATENLAGE_HATCH_COLOUR

    gem = gpd.read_file(run_dir / "kurszugang.gpkg", layer="gemeinden")
    keys = gem["ags"].astype(str)
    marked = sorted(keys)[:3]
    gem["datenlage"] = ["der OSM-Auszug deckt die Gemeinde nicht ab" if a in marked else ""
                        for a in keys]
    gpkg = write_geopackage(tmp_path / "lage.gpkg", {"gemeinden": gem})
    path = write_qgis_project(tmp_path / "lage.qgz", gpkg=gpkg, title="Datenlage",
                              groups={"Erreichbarkeit": [GpkgLayer("gemeinden", "Gemeinden")]})
    script = tmp_path / "hatch_check.py"
    script.write_text(_HATCH_SCRIPT, encoding="utf-8")
    subset = "\"ags\" IN (" + ", ".join(f"'{a}'" for a in marked) + ")"
    run = subprocess.run([qgis_python, str(script), str(path), "Gemeinden",
                          DATENLAGE_HATCH_COLOUR, subset], capture_output=True, text=True,
                         timeout=600, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                                           "XDG_RUNTIME_DIR": str(tmp_path)})
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert got["valid"] is True
    painted, hatched = got["marked"]
    assert painted > 1000 and hatched > 0.1 * painted  # dark red lines over the class colour
    painted, hatched = got["unmarked"]
    assert painted > 5000 and hatched < 0.002 * painted  # the other Gemeinden: class colours
