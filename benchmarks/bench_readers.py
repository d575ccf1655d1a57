"""Course lists and boundaries: how long reading and checking takes.

Usage (from the project root)::

    .venv/bin/python benchmarks/bench_readers.py
    .venv/bin/python benchmarks/bench_readers.py --baseline ../main   # same files, another checkout

Course lists as district staff keep them (a title row, German headers, ';', decimal commas, one
row per course, 5 courses per site) are written as CSV and XLSX with 500 and 5,000 courses into a
temporary folder; ``read_courses`` and ``validate_courses`` are timed (best of 5 after a warm-up).
With real data in ``../shared/data``: ``read_boundaries`` of one Kreis from VG5000 and
``district_info``. ``--baseline DIR`` times ``read_courses`` of the checkout in ``DIR`` on the same
files in a child process, so the ratio is measured in one run. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED = Path(os.environ.get("KURSZUGANG_SHARED_DATA", ROOT.parent / "shared" / "data"))
HEADER = ("Standort-ID;Kursträger;Standort;Straße;PLZ;Ort;Breitengrad;Längengrad;Telefon;"
          "Kursart;Wochentage;Uhrzeit von;Uhrzeit bis;Kinderbetreuung;Plätze;freie Plätze;"
          "nächster Kursbeginn;Bemerkungen")
TYPES = ("allgemein", "intensiv", "jugend", "eltern", "frauen", "alpha", "zweitschrift",
         "foerder")
DAYS = ("Mo-Fr", "Di+Do", "Mo,Mi,Fr", "Mo–Do")


def course_rows(n: int) -> list[list[str]]:
    """``n`` course rows, five per site, as a provider's list writes them."""
    rows = []
    for i in range(n):
        site = i // 5
        lat = f"{47.5 + (site % 97) * 0.01:.4f}".replace(".", ",")
        lon = f"{11.0 + (site % 89) * 0.015:.4f}".replace(".", ",")
        start = 8 + (i % 3) * 5
        rows.append([
            f"S{site:04d}", f"Träger {site % 17}", f"Haus {site}", f"Hauptstraße {site % 50}",
            f"{83000 + site % 900}", "Rosenheim", lat, lon, f"08031 {10000 + site}",
            TYPES[i % len(TYPES)], DAYS[i % len(DAYS)], f"{start:02d}:30", f"{start + 3:02d}:45",
            "ja" if i % 4 == 0 else "nein", "20", str(i % 15), f"{1 + i % 28:02d}.03.2026", "",
        ])
    return rows


def write_lists(folder: Path, n: int) -> dict[str, Path]:
    import openpyxl

    rows = course_rows(n)
    csv_path = folder / f"kursliste_{n}.csv"
    lines = ["Kursliste Landkreis Beispiel, Stand 01.03.2026", HEADER, *(";".join(r) for r in rows)]
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Kursliste Landkreis Beispiel, Stand 01.03.2026"])
    sheet.append(HEADER.split(";"))
    for r in rows:
        sheet.append(r)
    xlsx_path = folder / f"kursliste_{n}.xlsx"
    book.save(xlsx_path)
    return {"CSV": csv_path, "XLSX": xlsx_path}


def best(fn: Callable[[], object], repeat: int = 5) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


_CHILD = """
import sys, time
from kurszugang.io.courses import read_courses
path = sys.argv[1]
read_courses(path)
times = []
for _ in range(5):
    t = time.perf_counter(); read_courses(path); times.append(time.perf_counter() - t)
print(min(times))
"""


def baseline(checkout: Path, path: Path) -> float | None:
    """``read_courses`` of another checkout on the same file (None if it cannot read it)."""
    env = {**os.environ, "PYTHONPATH": str(checkout.resolve())}
    res = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True,
                         text=True, env=env, cwd=tempfile.gettempdir(), check=False)
    return float(res.stdout.strip()) if res.returncode == 0 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="another checkout to time on the same files")
    args = parser.parse_args()
    from kurszugang.io.courses import read_courses, validate_courses

    print("| step | input | time (s) | baseline (s) | ratio |")
    print("|---|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (500, 5_000):
            for kind, path in write_lists(Path(tmp), n).items():
                t_read = best(lambda p=path: read_courses(p))
                t_check = best(lambda p=path: validate_courses(p))
                base = baseline(args.baseline, path) if args.baseline else None
                ratio = f"{t_read / base:.2f}" if base else "–"
                shown = f"{base:.3f}" if base else "–"
                print(f"| read_courses | {kind}, {n:,} courses | {t_read:.3f} | {shown} | {ratio} |")
                print(f"| validate_courses | {kind}, {n:,} courses | {t_check:.3f} | | |")
    gem = SHARED / "vg5000-2021-bkg" / "VG5000_GEM.shp"
    if gem.exists():
        from kurszugang.io.boundaries import district_info, read_boundaries

        t = best(lambda: read_boundaries(gem, kreis="09472"))
        print(f"| read_boundaries kreis=09472 | VG5000 GEM (10,997 features) | {t:.3f} | | |")
        t = best(lambda: read_boundaries(gem))
        print(f"| read_boundaries | VG5000 GEM (10,997 features) | {t:.3f} | | |")
        t = best(lambda: district_info(gem, "09472"))
        print(f"| district_info 09472 | VG5000 (KRS beside GEM) | {t:.3f} | | |")


if __name__ == "__main__":
    main()
