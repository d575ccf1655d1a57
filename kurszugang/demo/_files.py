"""Byte-reproducible writers: GeoPackage with a fixed timestamp, zip with fixed entry times."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import pandas as pd

#: The timestamp GDAL writes into ``gpkg_contents.last_change`` (instead of "now").
GPKG_TIMESTAMP = "2025-12-14T00:00:00.000Z"
#: The modification time of every zip entry.
ZIP_DATE_TIME = (2025, 12, 14, 0, 0, 0)


@contextmanager
def fixed_gdal_date(stamp: str = GPKG_TIMESTAMP) -> Iterator[None]:
    """Make GDAL write ``stamp`` as the current date (config option ``OGR_CURRENT_DATE``).

    The previous value of the option is restored afterwards.
    """
    import pyogrio

    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": stamp})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


def write_gpkg(
    path: Path, layers: Mapping[str, gpd.GeoDataFrame], *, descriptions: Mapping[str, str]
) -> Path:
    """Write ``layers`` (in the given order) to a new GeoPackage with a fixed timestamp.

    An existing file is replaced. ``descriptions`` go to ``gpkg_contents.description``.
    """
    path.unlink(missing_ok=True)
    with fixed_gdal_date():
        for i, (name, gdf) in enumerate(layers.items()):
            gdf.to_file(
                path, layer=name, driver="GPKG", engine="pyogrio", mode="a" if i else "w",
                layer_options={"DESCRIPTION": descriptions.get(name, "")},
            )
    return path


def csv_text(table: pd.DataFrame, *, sep: str = ",") -> str:
    """A table as CSV text with ``\\n`` line ends and minimal quoting."""
    return table.to_csv(index=False, sep=sep, lineterminator="\n")


def write_zip(path: Path, members: Mapping[str, str]) -> Path:
    """Write text ``members`` (name -> UTF-8 text) into a zip with fixed metadata."""
    path.unlink(missing_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, text in members.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            zf.writestr(info, text.encode("utf-8"))
    return path


def write_text(path: Path, text: str, *, bom: bool = False) -> Path:
    """Write UTF-8 text (optionally with a byte order mark) with ``\\n`` line ends."""
    path.write_bytes((("\ufeff" if bom else "") + text).encode("utf-8"))
    return path
