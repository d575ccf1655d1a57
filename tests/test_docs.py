"""The documentation builds with ``mkdocs build --strict``; broken links and references fail it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("mkdocs", reason="mkdocs is not installed (dev extra)")
pytest.importorskip("mkdocstrings_handlers.python",
                    reason="mkdocstrings[python] is not installed (dev extra)")


def _build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        capture_output=True, text=True, timeout=300, cwd=config.parent, check=False)


def _copy_project_docs(tmp_path: Path) -> Path:
    """A copy of docs/ and mkdocs.yml in ``tmp_path`` that reads the package from the repo."""
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "paths: [.]" in config
    config = config.replace("paths: [.]", f"paths: ['{ROOT}']")
    (tmp_path / "mkdocs.yml").write_text(config, encoding="utf-8")
    return tmp_path / "mkdocs.yml"


def test_docs_build_strictly_with_api_reference(tmp_path):
    site = tmp_path / "site"
    run = _build(ROOT / "mkdocs.yml", site)
    assert run.returncode == 0, run.stderr
    assert "WARNING" not in run.stderr
    router_page = (site / "api" / "routing" / "index.html").read_text(encoding="utf-8")
    assert 'id="kurszugang.routing.router.Router"' in router_page
    assert 'id="kurszugang.routing.router.Router.journey"' in router_page
    # The German user guide and the API overview with its cross-references are in the site.
    assert (site / "benutzerhandbuch" / "reisezeiten" / "index.html").exists()
    overview = (site / "api" / "index.html").read_text(encoding="utf-8")
    assert 'href="routing/#kurszugang.routing.router.Router"' in overview


def test_broken_link_and_api_reference_fail_the_build(tmp_path):
    """One build with both faults: strict mode reports every warning before it aborts."""
    config = _copy_project_docs(tmp_path)
    page = tmp_path / "docs" / "downloads.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n[weg](gibt-es-nicht.md)\n",
                    encoding="utf-8")
    api = tmp_path / "docs" / "api" / "index.md"
    api.write_text(api.read_text(encoding="utf-8")
                   + "\nSee [`Nothing`][kurszugang.routing.router.Nothing].\n", encoding="utf-8")
    run = _build(config, tmp_path / "site")
    assert run.returncode != 0
    assert ("Doc file 'downloads.md' contains a link 'gibt-es-nicht.md', but the target is not "
            "found among documentation files") in run.stderr
    assert "kurszugang.routing.router.Nothing" in run.stderr


@pytest.mark.parametrize(("page", "generate"), [
    ("referenz/einstellungen.md", "kurszugang.config"),
    ("referenz/tabellen.md", "kurszugang.schema"),
])
def test_generated_reference_pages_are_current(page: str, generate: str) -> None:
    import importlib

    want = importlib.import_module(generate).reference_markdown()
    have = (ROOT / "docs" / page).read_text(encoding="utf-8")
    assert have == want, (f"docs/{page} is out of date: write it again with "
                          f"python -c \"import {generate} as m; "
                          f"open('docs/{page}', 'w').write(m.reference_markdown())\"")
