"""Faults in real subprocesses: Ctrl-C and kill in the middle of a run, two runs into one folder,
a full disk and a read-only folder. No file under its final name is ever truncated; a write
error or a busy folder is one line with exit code 2."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from kurszugang.files import LOCK_NAME, TEMP_PREFIX


def _default_sigint() -> None:
    # A job started in the background by a shell inherits SIGINT ignored, and Python then
    # installs no KeyboardInterrupt handler: give the run the Ctrl-C of a terminal.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(out: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "kurszugang", "demo", "--out", str(out),
                             *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 300) -> None:
    end = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before {path.name} appeared: "
                                 f"{proc.stderr.read() if proc.stderr else ''}")
        if time.monotonic() > end:
            raise AssertionError(f"{path} did not appear")
        time.sleep(0.05)


def _complete(path: Path) -> None:
    """Raise if a file under its final name is not a whole file of its format."""
    data = path.read_bytes()
    assert data, path
    suffix = path.suffix
    if suffix == ".csv":
        assert data.endswith(b"\r\n"), path
    elif suffix in (".xlsx", ".qgz"):
        with zipfile.ZipFile(path) as z:
            assert z.testzip() is None, path
    elif suffix == ".gpkg":
        with sqlite3.connect(path) as con:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok", path
    elif suffix in (".html",):
        assert data.rstrip().endswith(b"</html>"), path
    elif suffix == ".png":
        assert data.startswith(b"\x89PNG") and data.endswith(b"IEND\xaeB`\x82"), path
    elif suffix == ".pdf":
        assert data.rstrip().endswith(b"%%EOF"), path
    elif suffix == ".tif":
        import rasterio

        with rasterio.open(path) as src:
            src.read(1)
    elif suffix == ".json":
        json.loads(data)
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.read_table(path)


def _final_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(TEMP_PREFIX)
            and p.name != LOCK_NAME]


@pytest.fixture(scope="module")
def clean_run(demo_run) -> Path:
    """The output folder of an uninterrupted run of the demo config (the same tables as
    ``kurszugang demo``: tests/test_cli_run.py)."""
    return demo_run.out_dir


@pytest.mark.parametrize("when", ["erste Tabelle", "Ausgaben"])
def test_ctrl_c_leaves_whole_files_and_a_marker_and_the_next_run_completes(
        tmp_path: Path, clean_run: Path, when: str) -> None:
    out = tmp_path / "lauf"
    proc = _start(out)
    _wait_for(out / ("ergebnisse" if when == "erste Tabelle" else "datenlage.csv"), proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    # the rendering after the saved results takes seconds: a run that ends with 0 here did
    # not stop on Ctrl-C
    assert proc.returncode == 130, err
    assert "abgebrochen" in err and "Traceback" not in err
    assert (out / LOCK_NAME).exists()
    assert not list(out.rglob(f"{TEMP_PREFIX}*"))  # a clean stop removes its temporary files
    for f in _final_files(out):
        _complete(f)
    again = subprocess.run([sys.executable, "-m", "kurszugang", "demo", "--out", str(out)],
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "wurde nicht beendet" in again.stderr
    assert not (out / LOCK_NAME).exists()
    for table in clean_run.glob("*.csv"):
        assert (out / table.name).read_bytes() == table.read_bytes(), table.name


def test_a_killed_run_leaves_no_truncated_file_and_is_recognised(tmp_path: Path) -> None:
    out = tmp_path / "lauf"
    proc = _start(out)
    _wait_for(out / "ergebnisse" / "manifest.json", proc)
    time.sleep(0.3)  # into the rendering
    proc.kill()
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL  # killed in the rendering, not finished
    for f in _final_files(out):
        _complete(f)
    marker = json.loads((out / LOCK_NAME).read_text(encoding="utf-8"))
    assert marker["pid"] == proc.pid
    # the saved results of the killed run are whole: the maps can be drawn from them
    res = subprocess.run([sys.executable, "-m", "kurszugang", "map", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    again = subprocess.run([sys.executable, "-m", "kurszugang", "demo", "--out", str(out), "-q"],
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert not list(out.rglob(f"{TEMP_PREFIX}*"))


def test_a_second_run_into_the_same_folder_stops_at_once(tmp_path: Path) -> None:
    out = tmp_path / "lauf"
    first = _start(out, "-q")
    _wait_for(out / LOCK_NAME, first)
    second = subprocess.run([sys.executable, "-m", "kurszugang", "demo", "--out", str(out)],
                            capture_output=True, text=True, timeout=120)
    first.communicate(timeout=600)
    assert first.returncode == 0
    assert second.returncode == 2
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert f"{out}: wird gerade von einem anderen Lauf beschrieben (Prozess {first.pid}, " \
           "gestartet " in lines[0]


def test_a_stale_marker_is_taken_over_with_a_warning(tmp_path: Path) -> None:
    import socket

    out = tmp_path / "lauf"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    (out / LOCK_NAME).write_text(json.dumps({"pid": int(dead), "host": socket.gethostname(),
                                             "started": "2026-12-01T08:00:00"}))
    (out / f"{TEMP_PREFIX}1-karte.html").write_text("half a page")
    res = subprocess.run([sys.executable, "-m", "kurszugang", "demo", "--out", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert f"Prozess {dead}, gestartet 01.12.2026 08:00" in res.stderr
    assert not (out / f"{TEMP_PREFIX}1-karte.html").exists()


def _mount(folder: Path, options: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system for the test needs root")
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                         capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")


@pytest.mark.parametrize(("options", "reason"), [("size=1m", "No space left on device"),
                                                 ("ro,size=1m", "Read-only file system")])
def test_a_write_error_is_one_line_with_exit_code_2(tmp_path: Path, options: str,
                                                    reason: str) -> None:
    disk = tmp_path / "platte"
    _mount(disk, options)
    try:
        out = disk / "lauf"
        if "ro" not in options:
            out.mkdir()
        res = subprocess.run([sys.executable, "-m", "kurszugang", "demo", "--out", str(out),
                              "-q"], capture_output=True, text=True, timeout=600)
        assert res.returncode == 2, res.stderr
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("kurszugang: Fehler: "), res.stderr
        assert reason in lines[0] and str(disk) in lines[0]
        assert "Traceback" not in res.stderr
        for f in _final_files(out) if out.exists() else []:
            _complete(f)
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_a_run_that_failed_in_this_process_leaves_the_folder_marked_and_a_retry_takes_it(
        tmp_path: Path) -> None:
    from kurszugang.errors import OutputError
    from kurszugang.files import RunLock, interrupted_run

    with pytest.raises(ValueError), RunLock(tmp_path):
        raise ValueError("input broken")
    marker = json.loads((tmp_path / LOCK_NAME).read_text(encoding="utf-8"))
    assert marker["pid"] == os.getpid() and marker["error"] == "ValueError" and marker["ended"]
    assert interrupted_run(tmp_path) is not None  # `kurszugang map` sees an incomplete folder
    with RunLock(tmp_path):  # the retry of a Dask task runs in the same worker process
        assert (tmp_path / LOCK_NAME).exists()
        with pytest.raises(OutputError, match="anderen Lauf"), RunLock(tmp_path):
            pass  # while a run lives, the folder stays its own
    assert not (tmp_path / LOCK_NAME).exists()


def test_two_demo_runs_into_two_folders_give_the_same_bytes_in_every_file(
        tmp_path: Path, clean_run: Path) -> None:
    """Every file, not only the tables: GeoPackage, GeoTIFFs, workbook, maps, PDF, summary,
    QGIS project, saved Results. The second run writes into a folder of another name at another
    depth, which must not leak into a file. (Both start from the same working folder, so both
    import the same copy of the package: the settings record where its demo inputs lie.)"""
    out = tmp_path / "tiefer" / "zweiter Lauf"
    res = subprocess.run([sys.executable, "-m", "kurszugang", "demo", "--out", str(out), "-q"],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    first = sorted(str(p.relative_to(clean_run)) for p in _final_files(clean_run))
    second = sorted(str(p.relative_to(out)) for p in _final_files(out))
    assert first == second and len(first) >= 30
    differ = [name for name in first
              if (clean_run / name).read_bytes() != (out / name).read_bytes()]
    assert differ == []
