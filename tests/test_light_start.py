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


COMPUTING = ("kurszugang.routing", "kurszugang.analysis", "kurszugang.pipeline",
             "kurszugang.state")


def test_rendering_a_saved_run_loads_nothing_that_computes(demo_run, tmp_path) -> None:
    """``kurszugang map`` and ``report`` render from the saved Results alone: neither they nor
    any module under ``kurszugang/output`` imports the router, the analysis or the pipeline."""
    import shutil

    out = tmp_path / "lauf"
    shutil.copytree(demo_run.out_dir, out)
    (out / "karte.html").unlink()
    (out / "zusammenfassung.md").unlink()
    probe = ("import sys, importlib, pkgutil\nfrom kurszugang.cli import main\n"
             "import kurszugang.output as o\n"
             "for m in pkgutil.iter_modules(o.__path__):\n"
             "    importlib.import_module('kurszugang.output.' + m.name)\n"
             "for command in ('map', 'report'):\n"
             "    try:\n"
             f"        main([command, {str(out)!r}, '-q'])\n"
             "    except SystemExit as e:\n"
             "        assert not e.code, e.code\n"
             f"print(sorted(k for k in sys.modules if k.startswith({COMPUTING!r})))")
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "[]"
    assert (out / "karte.html").stat().st_size > 100_000
    assert "potenziellen Teilnehmenden" in (out / "zusammenfassung.md").read_text("utf-8")
