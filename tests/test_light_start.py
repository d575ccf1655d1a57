"""Each command imports only what it uses: ``--help`` starts without numpy or pandas, ``matrix``
without the map, table and GDAL libraries."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("numpy", "pandas", "pyproj", "numba", "scipy", "pyarrow", "geopandas", "shapely",
         "folium", "matplotlib", "pyogrio", "rasterio", "openpyxl", "osmium", "networkx")


def _loaded(code: str) -> set[str]:
    probe = (f"import sys\n{code}\nimport json\n"
             f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))")
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    return set(json.loads(res.stdout.strip().splitlines()[-1]))


def test_help_starts_without_the_numeric_libraries() -> None:
    code = ("import contextlib, io\nfrom kurszugang.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        main(['--help'])\n    except SystemExit:\n        pass")
    assert _loaded(code) == set()


@pytest.mark.parametrize("command", ["matrix", "run", "plan", "validate", "map"])
def test_a_commands_help_starts_without_the_numeric_libraries(command: str) -> None:
    code = ("import contextlib, io\nfrom kurszugang.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    try:\n        main([{command!r}, '--help'])\n    except SystemExit:\n"
            "        pass")
    assert _loaded(code) == set()


def test_matrix_needs_no_map_table_or_gdal_library() -> None:
    loaded = _loaded("import kurszugang.io.gtfs, kurszugang.io.points, "
                     "kurszugang.routing.router")
    assert {"numpy", "pandas", "numba", "pyarrow"} <= loaded
    assert not loaded & {"folium", "matplotlib", "pyogrio", "rasterio", "geopandas",
                         "openpyxl", "osmium", "networkx"}
