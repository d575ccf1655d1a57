"""What the web map's "von hier aus" costs: run time added to the demo run, page size and its
parts.

Run: ``python benchmarks/bench_webmap.py [--runs 3]``. Prints, per demo run, the time of the two
stages the web map adds ("Von hier aus (Verbindungen)", "Adressen lesen") against the whole run,
then the time to render ``karte.html`` from the saved Results and the page's size by part.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from pathlib import Path

from kurszugang.output.webmap import render_webmap
from kurszugang.pipeline import demo_config, run_analysis
from kurszugang.results import Results

STAGES = ("Von hier aus (Verbindungen)", "Adressen lesen")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    added, total = [], []
    out = Path(tempfile.mkdtemp(prefix="bench_webmap_"))
    for i in range(args.runs):
        t = time.perf_counter()
        run = run_analysis(demo_config(out / f"lauf{i}"), progress=False)
        total.append(time.perf_counter() - t)
        added.append(sum(run.timings.get(s, 0.0) for s in STAGES))
        print(f"run {i + 1}: whole run {total[-1]:.1f} s, von hier aus + addresses "
              f"{added[-1]:.2f} s (" + ", ".join(f"{s} {run.timings.get(s, 0.0):.2f} s"
                                                  for s in STAGES) + ")")
    print(f"median: whole run {statistics.median(total):.1f} s, added "
          f"{statistics.median(added):.2f} s ({100 * statistics.median(added) / statistics.median(total):.0f} %)")
    results = Results.load(out / "lauf0")
    times = []
    for _ in range(3):
        t = time.perf_counter()
        page = render_webmap(results, out / "karte.html")
        times.append(time.perf_counter() - t)
    text = page.read_text("utf-8")
    block = re.search(r'<script type="application/json" id="kz-data">(.*?)</script>', text, re.S)
    data = json.loads(block.group(1)) if block else {}
    print(f"render karte.html: median {statistics.median(times):.2f} s; page "
          f"{page.stat().st_size / 1e6:.2f} MB")
    for key in ("here", "geo", "search", "marker_courses", "courses"):
        size = len(json.dumps(data.get(key), ensure_ascii=False, separators=(",", ":")))
        print(f"  data {key}: {size / 1e6:.3f} MB")
    pairs = len(results.table("von_hier"))
    here = len(json.dumps(data.get("here"), ensure_ascii=False, separators=(",", ":")))
    print(f"  {pairs} cell-course pairs, {len(results.layer('raster'))} cells: "
          f"{here / max(pairs, 1):.0f} bytes per pair in the page")


if __name__ == "__main__":
    main()
