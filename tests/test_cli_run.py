"""``kurszugang init`` and ``kurszugang run`` through the real command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kurszugang", *map(str, args)],
                          capture_output=True, text=True, timeout=600, cwd=cwd)


def test_init_then_run_on_the_demo_and_repeat_from_the_resolved_config(tmp_path: Path):
    config = tmp_path / "beispiel.toml"
    res = run_cli("init", "--demo", config)
    assert res.returncode == 0, res.stderr
    assert config.exists()
    first = tmp_path / "ergebnisse"
    res = run_cli("run", config)
    assert res.returncode == 0, res.stderr
    assert "potenziellen Teilnehmenden" in res.stdout
    tables = sorted(first.glob("*.csv"))
    assert len(tables) == 8
    for name in ("kurszugang_tabellen.xlsx", "kurszugang.gpkg", "einstellungen.toml"):
        assert (first / name).stat().st_size > 0
    assert len(list((first / "reisezeitflaechen").glob("*.tif"))) == 8
    summary = (first / "zusammenfassung.md").read_text(encoding="utf-8")
    assert "potenziellen Teilnehmenden" in summary and "Landkreis Beispiel (fiktiv)" in summary
    assert "Gar kein Kurs erreichbar in" in summary and "Probing (09999122)" in summary
    assert "<h2>Kinderbetreuung</h2>" in (first / "zusammenfassung.html").read_text(encoding="utf-8")
    for name in ("karte.html", "karte.png", "karte.pdf"):
        assert (first / name).stat().st_size > 10_000
    # Repeat offline from the written resolved config: identical tables.
    again = tmp_path / "wiederholt"
    res = run_cli("run", first / "einstellungen.toml", "--out", again, "-q")
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""
    for table in tables:
        assert (again / table.name).read_bytes() == table.read_bytes(), table.name


def test_run_with_a_missing_config_is_a_one_line_error(tmp_path: Path):
    res = run_cli("run", tmp_path / "fehlt.toml")
    assert res.returncode == 2
    assert "fehlt.toml: does not exist (create one with: kurszugang init)" in res.stderr
    assert "Traceback" not in res.stderr


def test_run_with_a_bad_setting_names_it(tmp_path: Path):
    config = tmp_path / "k.toml"
    config.write_text("[routing]\nwalk_speed_kmh = -1\n", encoding="utf-8")
    res = run_cli("run", config)
    assert res.returncode == 2
    assert "routing.walk_speed_kmh = -1.0 must be positive" in res.stderr


def test_init_does_not_overwrite(tmp_path: Path):
    config = tmp_path / "kurszugang.toml"
    assert run_cli("init", config, "--kreis", "09472").returncode == 0
    text = config.read_text(encoding="utf-8")
    assert 'key = "09472"' in text and "[coverage.min_class_size]" in text
    res = run_cli("init", config)
    assert res.returncode == 2
    assert "kurszugang.toml: exists already; use --force to overwrite it" in res.stderr
    assert run_cli("init", config, "--force").returncode == 0


def test_map_writes_the_web_map_and_a4_maps(tmp_path: Path):
    config = tmp_path / "beispiel.toml"
    assert run_cli("init", "--demo", config).returncode == 0
    out = tmp_path / "karten" / "landkreis.html"
    res = run_cli("map", config, "--out", out, "-q")
    assert res.returncode == 0, res.stderr
    page = out.read_text(encoding="utf-8")
    assert "Landkreis Beispiel" in page and "leaflet" in page.lower()
    assert (out.parent / "karte.pdf").read_bytes().startswith(b"%PDF")
    assert (out.parent / "karte.png").read_bytes().startswith(b"\x89PNG")


def test_map_with_a_missing_config(tmp_path: Path):
    res = run_cli("map", tmp_path / "fehlt.toml")
    assert res.returncode == 2
    assert "fehlt.toml: does not exist" in res.stderr


def test_demo_with_an_unwritable_output_folder(tmp_path: Path):
    blocker = tmp_path / "datei"
    blocker.write_text("a file, not a folder")
    res = run_cli("demo", "--out", blocker / "demo")
    assert res.returncode == 2
    assert "datei/demo: Not a directory" in res.stderr or "datei" in res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) <= 2
