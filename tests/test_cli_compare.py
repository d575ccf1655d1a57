"""``kurszugang compare``: today against a scenario (a site removed), per Gemeinde and format."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from kurszugang.demo import demo_files
from kurszugang.results import Results

READ = {"sep": ";", "decimal": ",", "encoding": "utf-8-sig", "dtype": {"AGS": str}}


def _cli(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kurszugang", *map(str, args)],
                          capture_output=True, text=True, timeout=900)


def test_compare_shows_what_a_removed_site_costs(demo_run, tmp_path: Path) -> None:
    data = tmp_path / "szenario"
    data.mkdir()
    for f in demo_files().all():
        shutil.copy(f, data / f.name)
    courses = data / demo_files().courses.name
    lines = courses.read_text(encoding="utf-8-sig").splitlines()
    kept = [line for line in lines if not line.startswith("KS04;")]  # Musterbach's only site
    assert len(kept) < len(lines)
    courses.write_text("\ufeff" + "\n".join(kept) + "\n", encoding="utf-8")
    config = data / demo_files().config.name  # compare reads the saved Results: tables only
    config.write_text(config.read_text(encoding="utf-8").replace(
        '\n[output]\ndir = "ergebnisse"\n', '\n[output]\ndir = "ergebnisse"\nformats = ["csv"]\n'),
        encoding="utf-8")
    assert 'formats = ["csv"]' in config.read_text(encoding="utf-8")
    b = tmp_path / "b"
    assert _cli("run", config, "--out", b, "-q").returncode == 0
    res = _cli("compare", demo_run.out_dir, b)
    assert res.returncode == 0, res.stderr
    out = b / "vergleich"
    gem = pd.read_csv(out / "vergleich_gemeinden.csv", **READ)
    fmt = pd.read_csv(out / "vergleich_formate.csv", **READ)
    assert (out / "vergleich_karte.png").read_bytes().startswith(b"\x89PNG")
    ka = demo_run.results.table("kursbesuch_kreis").iloc[0]
    kb = Results.load(b).table("kursbesuch_kreis").iloc[0]
    total = fmt[fmt["Art"] == "alle Kurse"].iloc[0]
    assert total["Teilnehmende (A)"] == pytest.approx(ka["part_any"], abs=0.05)
    assert total["Teilnehmende (B − A)"] == pytest.approx(kb["part_any"] - ka["part_any"],
                                                         abs=0.1)
    eltern = fmt[fmt["Code"] == "eltern"].iloc[0]  # the parents' course ran only at KS04
    assert eltern["Teilnehmende (B)"] == 0 and eltern["Teilnehmende (A)"] > 0
    musterbach = gem[gem["AGS"] == "09999118"].iloc[0]
    assert musterbach["mit besuchbarem Kurs (B − A)"] < 0
    assert (gem["mit besuchbarem Kurs (B − A)"] <= 0.05).all()  # removing never adds anyone
    assert "Mit besuchbarem Kurs: A" in res.stdout


def test_compare_of_a_folder_without_results(tmp_path: Path, demo_run) -> None:
    res = _cli("compare", demo_run.out_dir, tmp_path)
    assert res.returncode == 2
    assert "enthält keine gespeicherten Ergebnisse" in res.stderr
