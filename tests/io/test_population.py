"""Tests of kurszugang.io.population: Zensus grid CSVs and GeoTIFFs into one row per cell."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from pyproj import Transformer

from kurszugang.errors import DataValidationError, InputError, InputFormatError
from kurszugang.io.detect import validate
from kurszugang.io.population import (
    GRID_COLUMNS,
    read_population_grid,
    validate_population_grid,
)
from tests.conftest import shared_file

ZENSUS = "zensus2011-grid-bayern"
KM_FILE = f"{ZENSUS}/zensus2011_1km_einwohner_auslaenderanteil_bayern.csv"
HM_FILE = f"{ZENSUS}/zensus2011_100m_auslaender_bayern.csv"
INSPIRE = r"^CRS3035RES(100|1000)mN\d{7}E\d{7}$"


@pytest.fixture(scope="module")
def km_grid() -> gpd.GeoDataFrame:
    return read_population_grid(shared_file(KM_FILE))


@pytest.fixture(scope="module")
def hm_grid() -> gpd.GeoDataFrame:
    return read_population_grid(shared_file(HM_FILE))


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _tiff(path: Path, bands: np.ndarray, *, res: float, nodata: float,
          names: list[str] | None = None, crs: str = "EPSG:3035") -> Path:
    transform = Affine(res, 0, 4_337_000, 0, -res, 2_690_000)
    with rasterio.open(path, "w", driver="GTiff", height=bands.shape[1], width=bands.shape[2],
                       count=bands.shape[0], dtype=bands.dtype.name, crs=crs,
                       transform=transform, nodata=nodata) as dst:
        dst.write(bands)
        for i, name in enumerate(names or []):
            dst.set_band_description(i + 1, name)
    return path


# ---------------------------------------------------------------------------------------------
# real data


def test_1km_grid_sums_to_the_bavarian_population(km_grid: gpd.GeoDataFrame) -> None:
    assert list(km_grid.columns) == list(GRID_COLUMNS)
    assert len(km_grid) == 70_550
    assert km_grid.crs == "EPSG:3035"
    assert km_grid["inhabitants"].sum() == 12_403_851
    assert int(km_grid["inhabitants"].isna().sum()) == 26_143  # the -1 cells
    assert (km_grid["resolution_m"] == 1000).all()
    assert km_grid["cell_id"].str.fullmatch(INSPIRE).all()
    assert km_grid["cell_id"].is_unique
    first = km_grid.iloc[0]
    assert first["cell_id"] == "CRS3035RES1000mN2684000E4334000"  # was 1kmN2684E4334
    assert (first["x"], first["y"]) == (4_334_500.0, 2_684_500.0)
    assert first.geometry.bounds == (4_334_000.0, 2_684_000.0, 4_335_000.0, 2_685_000.0)
    assert np.allclose(km_grid.area, 1e6)


def test_1km_foreigners_come_from_the_share(km_grid: gpd.GeoDataFrame) -> None:
    raw = pd.read_csv(shared_file(KM_FILE), sep=";")
    ok = (raw["Einwohner"] >= 0) & (raw["Auslaender_A"] >= 0)
    expected = (raw["Einwohner"] * raw["Auslaender_A"] / 100).where(ok)
    assert np.allclose(km_grid["foreigners"], expected, equal_nan=True)
    # -9 (withheld share) in inhabited cells gives no value, not zero
    assert int(km_grid["foreigners"].isna().sum()) == 26_143 + 3_447


def test_100m_grid_sums_to_the_foreign_citizens(hm_grid: gpd.GeoDataFrame) -> None:
    assert len(hm_grid) == 102_552
    assert hm_grid["foreigners"].sum() == 962_432
    assert hm_grid["inhabitants"].isna().all()  # the file has no inhabitants column
    assert (hm_grid["resolution_m"] == 100).all()
    assert hm_grid["cell_id"].str.fullmatch(INSPIRE).all()
    first = hm_grid.iloc[0]
    assert first["cell_id"] == "CRS3035RES100mN2689100E4337000"  # was 100mN26891E43370
    assert (first["x"], first["y"], first["foreigners"]) == (4_337_050.0, 2_689_150.0, 3.0)


def test_bbox_selects_cells_by_centre() -> None:
    box = (4_400_000, 2_800_000, 4_420_000, 2_810_000)
    grid = read_population_grid(shared_file(KM_FILE), bbox=box)
    raw = pd.read_csv(shared_file(KM_FILE), sep=";")
    inside = raw["x_mp_1km"].between(box[0], box[2]) & raw["y_mp_1km"].between(box[1], box[3])
    assert len(grid) == int(inside.sum()) == 20 * 10
    assert grid["inhabitants"].sum() == raw.loc[inside, "Einwohner"].clip(lower=0).sum()
    assert grid["x"].between(box[0], box[2]).all() and grid["y"].between(box[1], box[3]).all()


def test_bbox_in_another_crs_is_transformed() -> None:
    to_wgs = Transformer.from_crs("EPSG:3035", "EPSG:4326", always_xy=True)
    lon, lat = to_wgs.transform(4_410_500, 2_805_500)  # centre of one 1 km cell
    grid = read_population_grid(shared_file(KM_FILE), crs_of_bbox="EPSG:4326",
                                bbox=(lon - 0.001, lat - 0.001, lon + 0.001, lat + 0.001))
    assert grid["cell_id"].tolist() == ["CRS3035RES1000mN2805000E4410000"]


def test_validate_reports_counts_of_the_real_file() -> None:
    report = validate(shared_file(KM_FILE))
    assert report.kind == "population grid"
    assert report.ok
    assert report.counts["cells"] == 70_550
    assert report.counts["inhabitants (sum)"] == 12_403_851
    assert report.counts["cells without inhabitants value"] == 26_143


# ---------------------------------------------------------------------------------------------
# written in tmp_path


def test_demo_district_csv_form_reads(tmp_path: Path) -> None:
    path = _write(tmp_path, "demo_100m.csv",
                  "Gitter_ID_100m;x_mp_100m;y_mp_100m;Einwohner;Auslaender\n"
                  "CRS3035RES100mN2689100E4337000;4337050;2689150;12;3\n"
                  "CRS3035RES100mN2689100E4337100;4337150;2689150;-1;\n"
                  "CRS3035RES100mN2689200E4337100;4337150;2689250;40;0\n")
    grid = read_population_grid(path)
    assert grid["cell_id"].tolist() == ["CRS3035RES100mN2689100E4337000",
                                        "CRS3035RES100mN2689100E4337100",
                                        "CRS3035RES100mN2689200E4337100"]
    assert grid["inhabitants"].tolist()[::2] == [12.0, 40.0]
    assert np.isnan(grid["inhabitants"].iloc[1]) and np.isnan(grid["foreigners"].iloc[1])
    assert grid["foreigners"].tolist()[::2] == [3.0, 0.0]
    assert grid.geometry.iloc[0].bounds == (4_337_000.0, 2_689_100.0, 4_337_100.0, 2_689_200.0)


def test_a_statewide_100m_grid_reads(tmp_path: Path) -> None:
    # 300,000 cells: pandas hands the id column over in several chunks (a real 100 m grid of
    # Bavaria has about three times as many populated cells)
    n = 300_000
    east = 4_300_000 + (np.arange(n) % 1000) * 100
    north = 2_700_000 + (np.arange(n) // 1000) * 100
    table = pd.DataFrame({
        "Gitter_ID_100m": "CRS3035RES100mN" + pd.Series(north).astype(str) + "E"
                          + pd.Series(east).astype(str),
        "x_mp_100m": east + 50, "y_mp_100m": north + 50, "Einwohner": np.arange(n) % 7,
    })
    path = tmp_path / "statewide_100m.csv"
    table.to_csv(path, sep=";", index=False)
    grid = read_population_grid(path)
    assert len(grid) == n
    assert grid["inhabitants"].sum() == int((np.arange(n) % 7).sum())
    assert grid["cell_id"].iloc[-1] == "CRS3035RES100mN2729900E4399900"
    assert grid[["x", "y"]].iloc[-1].tolist() == [4_399_950.0, 2_729_950.0]


def test_comma_separated_short_ids_without_coordinates(tmp_path: Path) -> None:
    path = _write(tmp_path, "grid.csv",
                  "GITTER_ID_1km,Insgesamt_Bevoelkerung\n1kmN2684E4334,5\n1kmN2685E4334,\n")
    grid = read_population_grid(path)
    assert grid["cell_id"].tolist() == ["CRS3035RES1000mN2684000E4334000",
                                        "CRS3035RES1000mN2685000E4334000"]
    assert grid[["x", "y"]].values.tolist() == [[4_334_500, 2_684_500], [4_334_500, 2_685_500]]
    assert grid["inhabitants"].iloc[0] == 5 and np.isnan(grid["inhabitants"].iloc[1])


def test_share_with_decimal_comma(tmp_path: Path) -> None:
    path = _write(tmp_path, "share.csv",
                  "Gitter_ID_1km;x_mp_1km;y_mp_1km;Einwohner;Auslaender_A\n"
                  "1kmN2684E4334;4334500;2684500;200;12,5\n")
    assert read_population_grid(path)["foreigners"].tolist() == [25.0]


def test_geotiff_single_band_reads_back(tmp_path: Path) -> None:
    values = np.array([[[5, 0, -1], [255, 12, 3]]], dtype="int32")
    path = _tiff(tmp_path / "einwohner.tif", values, res=100, nodata=255)
    grid = read_population_grid(path)
    assert grid["cell_id"].tolist() == ["CRS3035RES100mN2689900E4337000",
                                        "CRS3035RES100mN2689800E4337100",
                                        "CRS3035RES100mN2689800E4337200"]
    assert grid["inhabitants"].tolist() == [5.0, 12.0, 3.0]
    assert grid["foreigners"].isna().all()
    assert (grid["resolution_m"] == 100).all() and grid.crs == "EPSG:3035"
    assert grid[["x", "y"]].iloc[0].tolist() == [4_337_050.0, 2_689_950.0]


def test_geotiff_named_bands(tmp_path: Path) -> None:
    inhabitants = np.array([[10, 0], [-9999, 4]], dtype="float32")
    foreigners = np.array([[2, 0], [-9999, -1]], dtype="float32")
    path = _tiff(tmp_path / "grid.tif", np.stack([foreigners, inhabitants]), res=1000,
                 nodata=-9999, names=["Auslaender", "Einwohner"])
    grid = read_population_grid(path)
    assert grid["cell_id"].tolist() == ["CRS3035RES1000mN2689000E4337000",
                                        "CRS3035RES1000mN2688000E4338000"]
    assert grid["inhabitants"].tolist() == [10.0, 4.0]
    assert grid["foreigners"].iloc[0] == 2.0 and np.isnan(grid["foreigners"].iloc[1])


def test_grid_cells_without_value_are_logged(tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    path = _write(tmp_path, "g.csv", "Gitter_ID_1km;Einwohner\n1kmN2684E4334;-1\n"
                                     "1kmN2685E4334;7\n")
    with caplog.at_level(logging.INFO, logger="kurszugang.io.population"):
        read_population_grid(path)
    assert "g.csv: 1 von 2 Zellen haben keinen Wert inhabitants (NaN)" in caplog.text


# ---------------------------------------------------------------------------------------------
# bad input: one case per test, asserting the message


def test_bad_coordinate_names_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.csv",
                  "Gitter_ID_100m;x_mp_100m;y_mp_100m;Einwohner\n"
                  "CRS3035RES100mN2689100E4337000;4337050;2689150;12\n"
                  "CRS3035RES100mN2689100E4337100;43371x0;2689150;4\n")
    with pytest.raises(DataValidationError) as info:
        read_population_grid(path)
    assert str(info.value) == ("bad.csv: 1 Problem gefunden:\n  bad.csv Zeile 3: x_mp_100m "
                               "'43371x0' ist keine Zahl (erwartet den Zellmittelpunkt in "
                               "Metern, EPSG:3035)")
    assert (info.value.row, info.value.column) == (3, "x_mp_100m")


def test_bad_centre_off_the_grid(tmp_path: Path) -> None:
    path = _write(tmp_path, "off.csv", "x_mp_1km;y_mp_1km;Einwohner\n4334500;2684500;1\n"
                                       "4335400;2684500;1\n")
    with pytest.raises(DataValidationError) as info:
        read_population_grid(path)
    assert ("off.csv Zeile 3: x_mp_1km 4335400 ist nicht der Mittelpunkt einer 1000-m-Zelle "
            "(Mittelpunkte haben Wert mod 1000 = 500)") in str(info.value)


def test_bad_id_not_matching_its_centre(tmp_path: Path) -> None:
    path = _write(tmp_path, "mismatch.csv",
                  "Gitter_ID_100m;x_mp_100m;y_mp_100m;Auslaender\n"
                  "100mN26891E43370;4337150;2689150;3\n")
    with pytest.raises(DataValidationError, match=r"mismatch\.csv Zeile 2: Gitter_ID_100m "
                       r"'100mN26891E43370' passt nicht zum Mittelpunkt in x_mp_100m/y_mp_100m"):
        read_population_grid(path)


def test_bad_value_that_is_not_a_number(tmp_path: Path) -> None:
    path = _write(tmp_path, "text.csv", "Gitter_ID_1km;Einwohner\n1kmN2684E4334;viele\n")
    with pytest.raises(DataValidationError, match=r"text\.csv Zeile 2: Einwohner 'viele' ist keine "
                       r"Zahl \(erwartet eine Anzahl, -1 oder leer für keinen Wert\)"):
        read_population_grid(path)


def test_bad_repeated_cell(tmp_path: Path) -> None:
    path = _write(tmp_path, "dup.csv", "Gitter_ID_1km;Einwohner\n1kmN2684E4334;1\n"
                                       "1kmN2685E4334;2\n1kmN2684E4334;3\n")
    with pytest.raises(DataValidationError, match=r"dup\.csv Zeile 4: Gitter_ID_1km "
                       r"'1kmN2684E4334' wiederholt eine Zelle aus einer früheren Zeile"):
        read_population_grid(path)


def test_bad_cell_id(tmp_path: Path) -> None:
    path = _write(tmp_path, "ids.csv", "Gitter_ID_100m;Einwohner\nN2684E4334;1\n")
    with pytest.raises(DataValidationError, match=r"ids\.csv Zeile 2: Gitter_ID_100m 'N2684E4334' "
                       r"ist keine Kennung einer Rasterzelle"):
        read_population_grid(path)


def test_bad_empty_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "leer.csv", "")
    with pytest.raises(InputFormatError) as info:
        read_population_grid(path)
    assert str(info.value) == (
        "leer.csv: ist leer (0 Bytes; erwartet ein Zensus-Raster als CSV oder GeoTIFF)")


def test_bad_not_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "grid.csv"
    path.write_bytes(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(InputFormatError, match=r"^grid\.csv: ist keine Textdatei"):
        read_population_grid(path)


def test_bad_tif_that_is_text(tmp_path: Path) -> None:
    path = _write(tmp_path, "grid.tif", "Gitter_ID_1km;Einwohner\n")
    with pytest.raises(InputFormatError, match=r"^grid\.tif: lässt sich nicht als GeoTIFF lesen"):
        read_population_grid(path)


def test_bad_no_population_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "nopop.csv", "Gitter_ID_1km;Haushalte\n1kmN2684E4334;5\n")
    with pytest.raises(InputError) as info:
        read_population_grid(path)
    assert str(info.value).startswith("nopop.csv: hat keine Bevölkerungsspalte: erwartet eine "
                                      "von Einwohner, EWZ, Insgesamt_Bevoelkerung, Auslaender")
    assert "(gefunden: Gitter_ID_1km, Haushalte)" in str(info.value)


def test_bad_no_cell_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, "nocell.csv", "id;Einwohner\n1;5\n")
    with pytest.raises(InputError, match=r"^nocell\.csv: hat weder eine Spalte mit "
                                         r"Zellkennungen"):
        read_population_grid(path)


def test_bad_bbox_selecting_nothing() -> None:
    with pytest.raises(InputError) as info:
        read_population_grid(shared_file(KM_FILE), bbox=(11.5, 49.9, 11.7, 50.0))
    text = str(info.value)
    assert "wählt keine Zelle; die Zellmittelpunkte reichen von x 4.248.500 bis 4.602.500" in text
    assert "crs_of_bbox und die Reihenfolge" in text


def test_bad_geotiff_in_another_crs(tmp_path: Path) -> None:
    path = _tiff(tmp_path / "utm.tif", np.ones((1, 2, 2), dtype="int16"), res=100, nodata=-1,
                 crs="EPSG:25832")
    with pytest.raises(InputError, match=r"utm\.tif: ist in EPSG:25832; erwartet das "
                       r"Zensus-Raster in EPSG:3035"):
        read_population_grid(path)


def test_validate_lists_every_bad_line_without_raising(tmp_path: Path) -> None:
    path = _write(tmp_path, "several.csv",
                  "Gitter_ID_1km;x_mp_1km;y_mp_1km;Einwohner\n"
                  "1kmN2684E4334;4334500;2684500;abc\n"
                  "1kmN2684E4335;4335500;2684500;3\n"
                  "1kmN2684E4336;4336400;2684500;4\n")
    report = validate_population_grid(path)
    assert not report.ok
    assert [(p.row, p.column, p.code) for p in report.errors] == [
        (2, "Einwohner", "not_a_number"),
        (4, "x_mp_1km", "off_grid"),
        (4, "Gitter_ID_1km", "id_mismatch"),
    ]
