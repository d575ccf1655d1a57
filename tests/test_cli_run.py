"""``kurszugang init`` and ``kurszugang run`` through the real command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kurszugang", *map(str, args)],
                          capture_output=True, text=True, timeout=600, cwd=cwd)


def _table_files() -> list[str]:
    from kurszugang.schema import TABLES

    return sorted(f"{t.file}.csv" for t in TABLES.values() if t.file and t.group == "run")


def test_init_then_run_on_the_demo_and_repeat_from_the_resolved_config(tmp_path: Path, demo_run):
    config = tmp_path / "beispiel.toml"
    res = run_cli("init", "--demo", config)
    assert res.returncode == 0, res.stderr
    assert config.exists()
    first = tmp_path / "ergebnisse"
    res = run_cli("run", config)
    assert res.returncode == 0, res.stderr
    assert "potenziellen Teilnehmenden" in res.stdout
    tables = sorted(first.glob("*.csv"))
    assert [t.name for t in tables] == _table_files()
    for name in ("kurszugang_tabellen.xlsx", "kurszugang.gpkg", "einstellungen.toml",
                 "ergebnisse/manifest.json"):
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
    assert (again / "kurszugang_tabellen.xlsx").read_bytes() == \
        (first / "kurszugang_tabellen.xlsx").read_bytes()
    # The demo is this run: the same table files, byte for byte (the session's run of the demo
    # config; tests/test_faults.py shows `kurszugang demo` writes the same bytes in every file).
    demo = demo_run.out_dir
    assert sorted(p.name for p in demo.glob("*.csv")) == [t.name for t in tables]
    for table in tables:
        assert (demo / table.name).read_bytes() == table.read_bytes(), table.name


def test_map_and_report_rebuild_from_the_output_folder_alone(tmp_path: Path):
    """Inputs renamed after the run: the saved Results are enough for the maps and summary."""
    import shutil
    import tomllib

    from kurszugang.demo import demo_files

    data = tmp_path / "daten"
    data.mkdir()
    for f in demo_files().all():
        shutil.copy(f, data / f.name)
    config = data / demo_files().config.name  # the run writes its tables and Results only
    config.write_text(config.read_text(encoding="utf-8").replace(
        '\n[output]\ndir = "ergebnisse"\n', '\n[output]\ndir = "ergebnisse"\nformats = ["csv"]\n'),
        encoding="utf-8")
    out = tmp_path / "lauf"
    assert run_cli("run", config, "--out", out, "-q").returncode == 0
    for f in list(data.iterdir()):
        f.rename(f.with_name("weg_" + f.name))
    for name in ("karte.html", "karte.png", "karte.pdf", "zusammenfassung.md",
                 "zusammenfassung.html"):
        assert not (out / name).exists(), name  # built below from the saved Results alone
    res = run_cli("map", out)
    assert res.returncode == 0, res.stderr
    res = run_cli("report", out)
    assert res.returncode == 0, res.stderr
    page = (out / "karte.html").read_text(encoding="utf-8")
    assert "Landkreis Beispiel" in page and "leaflet" in page.lower()
    assert (out / "karte.pdf").read_bytes().startswith(b"%PDF")
    assert (out / "karte.png").read_bytes().startswith(b"\x89PNG")
    summary = (out / "zusammenfassung.md").read_text(encoding="utf-8")
    assert "potenziellen Teilnehmenden" in summary
    settings = tomllib.loads((out / "einstellungen.toml").read_text(encoding="utf-8"))
    assert settings["district"]["key"] == "09999"
    # The same saved run, its web map in English on request, the German one left as it was.
    english = tmp_path / "englisch"
    res = run_cli("map", out, "--language", "en", "--out", english, "-q")
    assert res.returncode == 0, res.stderr
    en_page = (english / "karte.html").read_text(encoding="utf-8")
    assert "Travel time to the nearest course" in en_page
    assert "Reisezeit zum nächsten Kurs" not in en_page
    assert "Reisezeit zum nächsten Kurs" in page


class _Stop(Exception):
    pass


def test_language_on_the_command_line_goes_over_the_config(tmp_path: Path, monkeypatch):
    import kurszugang.pipeline
    from kurszugang.cli import main
    from kurszugang.demo import demo_files

    seen = []

    def fake(cfg, **kwargs):
        seen.append(cfg)
        raise _Stop

    monkeypatch.setattr(kurszugang.pipeline, "run_analysis", fake)
    config = demo_files().config
    for command in (["run"], ["plan"]):
        try:
            main([*command, str(config), "--language", "en", "--out", str(tmp_path), "-q"])
        except _Stop:
            pass
    try:
        main(["run", str(config), "-q"])
    except _Stop:
        pass
    assert [c.output.language for c in seen] == ["en", "en", "de"]
    assert [c.output.dir for c in seen[:2]] == [str(tmp_path.resolve())] * 2
    assert seen[2].output.dir != str(tmp_path.resolve())
    res = run_cli("run", config, "--language", "fr")
    assert res.returncode == 2 and "fr" in res.stderr and "Traceback" not in res.stderr


def test_map_of_a_folder_without_results(tmp_path: Path):
    res = run_cli("map", tmp_path)
    assert res.returncode == 2
    assert "enthält keine gespeicherten Ergebnisse (ergebnisse/manifest.json fehlt)" in res.stderr
    assert "Traceback" not in res.stderr


def test_run_with_a_missing_config_is_a_one_line_error(tmp_path: Path):
    res = run_cli("run", tmp_path / "fehlt.toml")
    assert res.returncode == 2
    assert f"{tmp_path / 'fehlt.toml'}: existiert nicht (eine Vorlage schreibt: kurszugang init)" \
        in res.stderr
    assert "Traceback" not in res.stderr


def test_run_with_a_bad_setting_names_it_before_reading_anything(tmp_path: Path):
    config = tmp_path / "k.toml"
    config.write_text("[routing]\nwalk_speed_kmh = -1\n", encoding="utf-8")
    res = run_cli("run", config)
    assert res.returncode == 2
    assert "k.toml: routing.walk_speed_kmh = -1 liegt außerhalb des erlaubten Bereichs" \
        in res.stderr


def test_init_does_not_overwrite(tmp_path: Path):
    config = tmp_path / "kurszugang.toml"
    assert run_cli("init", config, "--kreis", "09472").returncode == 0
    text = config.read_text(encoding="utf-8")
    assert 'key = "09472"' in text and "[coverage.min_class_size]" in text
    res = run_cli("init", config)
    assert res.returncode == 2
    assert f"{config}: gibt es schon; mit --force überschreiben" in res.stderr
    assert run_cli("init", config, "--force").returncode == 0


def test_demo_with_an_unwritable_output_folder(tmp_path: Path):
    blocker = tmp_path / "datei"
    blocker.write_text("a file, not a folder")
    res = run_cli("demo", "--out", blocker / "demo")
    assert res.returncode == 2
    assert "datei/demo: Not a directory" in res.stderr or "datei" in res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) <= 2


def test_init_checks_the_key_and_writes_the_name_from_the_boundaries(tmp_path: Path):
    from tests.conftest import shared_file

    vg5000 = shared_file("vg5000-2021-bkg/VG5000_GEM.shp")
    config = tmp_path / "bayreuth.toml"
    res = run_cli("init", config, "--kreis", "09472", "--boundaries", vg5000)
    assert res.returncode == 0, res.stderr
    text = config.read_text(encoding="utf-8")
    assert 'key = "09472"' in text and 'name = "Landkreis Bayreuth"' in text
    assert f'boundaries = "{vg5000}"' in text
    assert "für Landkreis Bayreuth" in res.stdout
    bad = run_cli("init", tmp_path / "x.toml", "--kreis", "09480", "--boundaries", vg5000)
    assert bad.returncode == 2 and "09480" in bad.stderr and "09479" in bad.stderr
    assert not (tmp_path / "x.toml").exists()
    short = run_cli("init", tmp_path / "y.toml", "--kreis", "9472")
    assert short.returncode == 2
    assert "--kreis = '9472' ist kein Kreisschlüssel (erwartet 5 Ziffern" in short.stderr


def test_the_first_run_says_that_the_routing_is_prepared_once(tmp_path: Path):
    import os
    import shutil

    from kurszugang.demo import demo_files

    cache = tmp_path / "numba-cache"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    data = tmp_path / "daten"
    data.mkdir()
    for f in demo_files().all():
        shutil.copy(f, data / f.name)
    config = data / demo_files().config.name  # tables only: the maps need no kernel
    config.write_text(config.read_text(encoding="utf-8").replace(
        '\n[output]\ndir = "ergebnisse"\n', '\n[output]\ndir = "ergebnisse"\nformats = ["csv"]\n'),
        encoding="utf-8")
    assert 'formats = ["csv"]' in config.read_text(encoding="utf-8")

    def run(out: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "kurszugang", "run",
                               str(data / demo_files().config.name), "--out", str(tmp_path / out)],
                              capture_output=True, text=True, timeout=900, env=env)

    first = run("a")
    assert first.returncode == 0, first.stderr
    assert "Beim ersten Lauf wird die Routenberechnung einmal vorbereitet" in first.stderr
    assert any(cache.rglob("raptor*.nbi"))
    second = run("b")
    assert second.returncode == 0, second.stderr
    assert "Beim ersten Lauf" not in second.stderr
