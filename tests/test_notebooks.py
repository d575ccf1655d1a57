"""The notebooks in notebooks/ run on the demo district and are stored without outputs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ["01_schnellstart.ipynb", "02_eigene_daten.ipynb", "03_szenarien.ipynb"]
MARKER = "KURSZUGANG_ERGEBNIS "
# tqdm.auto (used by kurszugang.routing.router) warns in a kernel without ipywidgets; that is
# about progress bars, not about results, so it alone is tolerated in the notebooks' stderr.
TOLERATED = ("TqdmWarning: IProgress not found", "from .autonotebook import tqdm")


def _load(name: str):
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (dev extra)")
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def _run(name: str, workdir: Path) -> tuple[dict, list[str]]:
    """Execute a notebook in ``workdir``; return the marker's JSON and its stderr lines."""
    pytest.importorskip("ipykernel", reason="ipykernel is not installed (dev extra)")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (dev extra)")
    book = _load(name)
    client = nbclient.NotebookClient(book, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(workdir)}})
    client.execute()
    stdout, stderr = [], []
    for cell in book.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                (stderr if out["name"] == "stderr" else stdout).append(out["text"])
    lines = [ln for text in stdout for ln in text.splitlines() if ln.startswith(MARKER)]
    assert len(lines) == 1, f"{name}: expected one line starting with {MARKER!r}"
    warnings = [ln for text in stderr for ln in text.splitlines()
                if ln.strip() and not any(t in ln for t in TOLERATED)]
    return json.loads(lines[0][len(MARKER):]), warnings


def _stored_problems(book) -> list[str]:
    """What a notebook stored in the repository must not contain: outputs, counts, metadata."""
    problems = [f"cell {i}: outputs" for i, c in enumerate(book.cells)
                if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    problems += [f"cell {i}: metadata {dict(c.metadata)}" for i, c in enumerate(book.cells)
                 if c.get("metadata")]
    extra = set(book.metadata) - {"kernelspec", "language_info"}
    return problems + ([f"notebook metadata {sorted(extra)}"] if extra else [])


@pytest.mark.parametrize("name", NAMES)
def test_stored_notebook_has_no_outputs(name):
    book = _load(name)
    assert sum(c.cell_type == "code" for c in book.cells) >= 4
    assert book.metadata["kernelspec"]["name"] == "python3"
    assert _stored_problems(book) == []


def test_notebook_saved_after_running_is_detected():
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (dev extra)")
    book = _load(NAMES[0])
    k = next(i for i, c in enumerate(book.cells) if c.cell_type == "code")
    book.cells[k].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x\n")]
    book.cells[k].execution_count = 1
    book.metadata["widgets"] = {}
    assert _stored_problems(book) == [f"cell {k}: outputs", "notebook metadata ['widgets']"]


def test_quickstart_runs(tmp_path):
    result, stderr = _run("01_schnellstart.ipynb", tmp_path)
    assert result["gemeinden"] == 20
    assert 0 < result["erreichen_einen_kurs"] < result["teilnehmende"]
    assert result["karte_bytes"] > 100_000
    assert result["fahrt_ankunft"] is True
    assert stderr == []
    assert list(tmp_path.iterdir()) == []  # the map went to a temporary folder, not the cwd


def test_own_data_runs(tmp_path):
    result, stderr = _run("02_eigene_daten.ipynb", tmp_path)
    assert all(result["berichte_ok"].values()), result["berichte_ok"]
    assert len(result["berichte_ok"]) == 5
    assert result["fehlerhafte_liste_ok"] is False
    assert result["gemeinden"] == 20
    assert result["erreichen_einen_kurs"] > 100
    assert stderr == []


def test_scenarios_run(tmp_path):
    result, stderr = _run("03_szenarien.ipynb", tmp_path)
    assert result["kopiering_heute"] == 0
    assert result["kopiering_neu"] > 0
    assert result["neuer_kursort"] > result["heute"] > result["ohne_schulbusse"]
    assert stderr == []


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
