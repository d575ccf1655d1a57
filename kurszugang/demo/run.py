"""``kurszugang demo``: the run of the bundled config of the fictional demo district.

The demo is ``kurszugang run`` on ``kurszugang/demo/data/kurszugang_beispiel.toml`` with the output
folder given (default ``data/processed/demo/``): the same code path and the same files as any run
(see ``docs/outputs.md``). What it prints at the end comes from the run's Results.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from kurszugang.demo import FICTIONAL_NOTE, demo_files

__all__ = ["DEFAULT_OUT_DIR", "demo_overview", "run_demo"]

#: Where ``kurszugang demo`` writes by default (relative to the current working directory).
DEFAULT_OUT_DIR = Path("data") / "processed" / "demo"


def demo_overview(results: object) -> list[str]:
    """A few lines about the demo run, from its Results (German)."""
    from kurszugang.output.summary import de_number, headline_text, plural

    r = results  # kurszugang.results.Results
    info = r.info  # type: ignore[attr-defined]
    gem = r.table("uebersicht")  # type: ignore[attr-defined]
    data = r.table("datenlage")  # type: ignore[attr-defined]
    warn = data[data["rating"] != "ok"]
    school, hol = info.school_day.isoformat(), info.holiday.isoformat()
    return [
        f"{info.district_name}: Demo-Lauf ({FICTIONAL_NOTE})",
        f"  {plural(len(gem), 'Gemeinde', 'Gemeinden')}, "
        f"{de_number(float(gem['inh_grid'].sum()))} Einwohner im Raster; "
        f"{de_number(float(gem['n_stops'].sum()))} Haltestellen mit "
        f"{de_number(float(gem[f'departures_{school}'].sum()))} Abfahrten am Schultag und "
        f"{de_number(float(gem[f'departures_{hol}'].sum()))} am Ferientag; "
        f"{plural(int(gem['n_sites'].sum()), 'Kursort', 'Kursorte')}, "
        f"{plural(int(gem['n_courses'].sum()), 'Kurs', 'Kurse')}",
        f"  Datenlage: {plural(len(warn), 'Hinweis', 'Hinweise')}"
        + (": " + "; ".join(warn["text"].astype(str)) if len(warn) else " (alles abgedeckt)"),
        "  " + headline_text(r),  # type: ignore[arg-type]
    ]


def run_demo(out_dir: str | Path = DEFAULT_OUT_DIR, *, quiet: bool = False,
             inputs: str | Path | None = None) -> list[Path]:
    """Run the bundled demo config (or the config of another generated demo folder).

    Parameters
    ----------
    out_dir
        Folder for the outputs (created if missing).
    quiet
        If True, print nothing; otherwise the stages, an overview and the files written.
    inputs
        A folder written by :func:`kurszugang.demo.generate.generate` (with its own config)
        to use instead of the bundled files.

    Returns
    -------
    list of pathlib.Path
        The files written (those of ``kurszugang run``).

    Examples
    --------
    >>> # the whole demo with every output (maps, QGIS project): about half a minute
    >>> paths = run_demo("demo", quiet=True)  # doctest: +SKIP
    """
    from kurszugang.config import load_config
    from kurszugang.pipeline import run_analysis

    cfg = load_config(demo_files(inputs).config)
    cfg = dataclasses.replace(cfg, output=dataclasses.replace(
        cfg.output, dir=str(Path(out_dir).resolve())))
    run = run_analysis(cfg, progress=not quiet)
    if not quiet:
        print("\n".join(demo_overview(run.results)))
        print(f"  {len(run.files)} Dateien in {run.out_dir}:")
        for p in run.files:
            print(f"    {p.relative_to(run.out_dir)}")
    return run.files
