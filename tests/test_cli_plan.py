"""``kurszugang plan`` on the demo district: the tables, the proposals, the plots and the summary,
and the optimum re-solved independently from ``plan/abdeckung.csv``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from kurszugang.demo import demo_files

FORMATS = ["alpha Mo-Fr 08:30-12:45", "allgemein Di,Do 09:00-12:15"]
READ = {"sep": ";", "decimal": ",", "encoding": "utf-8-sig", "dtype": {"AGS": str}}


@pytest.fixture(scope="module")
def planned(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("plan_inputs")
    for f in demo_files().all():
        shutil.copy(f, data / f.name)
    config = data / demo_files().config.name
    text = config.read_text(encoding="utf-8")
    config.write_text(text + "\n[plan]\nformats = [" + ", ".join(f'"{f}"' for f in FORMATS)
                      + "]\nk_max = 4\n", encoding="utf-8")
    out = tmp_path_factory.mktemp("plan_out")
    res = subprocess.run([sys.executable, "-m", "kurszugang", "plan", str(config), "--out",
                          str(out)], capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr
    assert "Alphabetisierungskurs (Mo,Di,Mi,Do,Fr 08:30–12:45): Vorschlag" in res.stdout
    return out


def test_plan_writes_its_tables_layer_plots_and_summary_section(planned: Path) -> None:
    for name in ("standorte", "abdeckung", "startzeiten", "wartezeit", "kandidaten"):
        table = pd.read_csv(planned / "plan" / f"{name}.csv", **READ)
        assert len(table) > 0, name
    sites = pd.read_csv(planned / "plan" / "standorte.csv", **READ)
    assert sorted(set(sites["Kursformat"])) == sorted(
        ["alpha Mo,Di,Mi,Do,Fr 08:30-12:45", "allgemein Di,Do 09:00-12:15"])
    assert set(sites["Standorte"]) == {1, 2, 3, 4}
    assert (sites.groupby("Kursformat")["Vorschlag"].apply(lambda s: (s == "ja").sum()) == 1).all()
    layers = dict(pyogrio.list_layers(planned / "kurszugang.gpkg"))
    assert {"plan_vorschlaege", "plan_einzugsbereiche"} <= set(layers)
    proposals = pyogrio.read_dataframe(planned / "kurszugang.gpkg", layer="plan_vorschlaege")
    rec = sites[sites["Vorschlag"] == "ja"]
    assert len(proposals) == int(rec["Standorte"].sum())
    for png in ("versorgung_nach_standorten.png", "teilnehmende_nach_beginnzeit.png"):
        assert (planned / "plan" / png).read_bytes().startswith(b"\x89PNG")
    summary = (planned / "zusammenfassung.md").read_text(encoding="utf-8")
    assert "## Planung: wo und wie viele Standorte" in summary
    assert "Alphabetisierungskurs (Mo,Di,Mi,Do,Fr 08:30–12:45): Vorschlag" in summary
    assert "## Planung: Beginnzeiten" in summary


def _resolve(cover: pd.DataFrame, k: int, m: int, fixed: list[str]) -> float:
    """The optimum from the coverage table alone: maximise the participants assigned, each at
    most once, every open site at least ``m`` (the formulation with x <= P·y)."""
    sites = sorted(cover["Kandidat"].unique())
    groups = cover.groupby("Zellgruppe")["Teilnehmende der Gruppe"].first()
    g_pos = {g: i for i, g in enumerate(groups.index)}
    j_pos = {s: i for i, s in enumerate(sites)}
    gi = cover["Zellgruppe"].map(g_pos).to_numpy()
    ji = cover["Kandidat"].map(j_pos).to_numpy()
    p = groups.to_numpy(float)[gi]
    n_x, n_y = len(cover), len(sites)
    rows = np.arange(n_x)
    per_group = sp.csr_matrix((np.ones(n_x), (gi, rows)), shape=(len(groups), n_x))
    link = sp.hstack([sp.identity(n_x), sp.csr_matrix((-p, (rows, ji)), shape=(n_x, n_y))])
    minimum = sp.hstack([sp.csr_matrix((np.ones(n_x), (ji, rows)), shape=(n_y, n_x)),
                         sp.diags(np.full(n_y, -float(m)))])
    count = sp.hstack([sp.csr_matrix((1, n_x)), sp.csr_matrix(np.ones((1, n_y)))])
    lower_y = np.array([1.0 if s in fixed else 0.0 for s in sites])
    res = milp(np.concatenate([-np.ones(n_x), np.zeros(n_y)]),
               constraints=[LinearConstraint(sp.hstack([per_group, sp.csr_matrix(
                   (len(groups), n_y))]), -np.inf, groups.to_numpy(float)),
                            LinearConstraint(link, -np.inf, 0), LinearConstraint(minimum, 0, np.inf),
                            LinearConstraint(count, k, k)],
               integrality=np.concatenate([np.zeros(n_x), np.ones(n_y)]),
               bounds=Bounds(np.concatenate([np.zeros(n_x), lower_y]),
                             np.concatenate([p, np.ones(n_y)])),
               options={"mip_rel_gap": 0})
    return -float(res.fun) if res.status == 0 else float("nan")


def test_the_optimum_is_re_solved_from_the_coverage_table(planned: Path) -> None:
    cover = pd.read_csv(planned / "plan" / "abdeckung.csv", **READ)
    sites = pd.read_csv(planned / "plan" / "standorte.csv", **READ, keep_default_na=False,
                        na_values=[""])
    for _, row in sites.iterrows():
        fmt_cover = cover[cover["Kursformat"] == row["Kursformat"]]
        fixed_text = row["Feste Standorte"]
        fixed = [s for s in fixed_text.split(", ") if s] if isinstance(fixed_text, str) else []
        got = _resolve(fmt_cover, int(row["Standorte"]), int(row["Mindestgröße"]), fixed)
        want = (float(row["Teilnehmende versorgt"]) if row["Lösungsstatus"] == "optimal"
                else float("nan"))
        if np.isnan(want):
            assert np.isnan(got), row
        else:
            assert got == pytest.approx(want, abs=0.05), row  # the CSV has one decimal


def test_the_sweep_at_a_courses_own_start_equals_its_class_size(planned: Path) -> None:
    sweep = pd.read_csv(planned / "plan" / "startzeiten.csv", **READ)
    sizes = pd.read_csv(planned / "kurse_klassengroessen.csv", **READ)
    for course, fmt, site in (("KS03-2", "alpha Mo,Di,Mi,Do,Fr 08:30-12:45", "KS03"),
                              ("KS05-1", "allgemein Di,Do 09:00-12:15", "KS05")):
        own = sweep[(sweep["Kursformat"] == fmt) & (sweep["Kandidat"] == site)
                    & (sweep["Beginn des Formats"] == "ja")]
        assert len(own) == 1
        want = float(sizes.loc[sizes["Kurs"] == course, "Teilnehmende in 45 min"].iloc[0])
        assert float(own["Teilnehmende in Reichweite"].iloc[0]) == pytest.approx(want, abs=0.05)
