"""District extraction from a national-size feed: wall time and peak memory of ``extract``.

Usage (from the project root, with ../shared/data beside it)::

    .venv/bin/python benchmarks/bench_extract.py            # build, measure, print, delete feed
    .venv/bin/python benchmarks/bench_extract.py --write    # and update docs/benchmarks.md
    .venv/bin/python benchmarks/bench_extract.py --keep     # keep benchmarks/.data/national.zip

Builds (unless it exists) the tiled feed of ``benchmarks/national_feed.py``: copies of the Zug
feed over Germany's extent until stop_times.txt holds at least 2.5 GiB. Then runs, each in a
fresh process through the command line, and measures wall time and peak resident memory (the
child's ``ru_maxrss`` from ``os.wait4``):

- one district: the dense core of the central copy (about the size of a Landkreis) plus the
  default 30 km buffer;
- the same district for one week (2021-03-01 to 2021-03-07);
- the real Kreis at that place (from VG5000, through ``--kreis KEY --boundaries
  VG5000_GEM.shp``) plus 30 km.

Each extract is then read with the strict reader to check it. Goal: under 3 minutes and under
4 GB per extraction.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from national_feed import DEFAULT_OUT, ZUG, NationalFeed, build_national_feed  # noqa: E402

from kurszugang.io.gtfs import read_gtfs  # noqa: E402

VG5000 = ROOT.parent / "shared" / "data" / "vg5000-2021-bkg"
VG5000_GEM, VG5000_KRS = VG5000 / "VG5000_GEM.shp", VG5000 / "VG5000_KRS.shp"
GOAL_S = 180.0
GOAL_BYTES = 4 * 10**9
HEADING = "## District extraction"


def _run(cmd: list[str]) -> tuple[float, float, int, str]:
    """Run a command; returns wall seconds, CPU seconds, peak RSS in bytes and its stdout."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak memory
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err.read()}")
        cpu = usage.ru_utime + usage.ru_stime
        return seconds, cpu, usage.ru_maxrss * 1024, out.read()  # ru_maxrss: KiB on Linux


def _kreis_at(bbox: tuple[float, float, float, float]) -> tuple[str, str] | None:
    """Key and name of the VG5000 Kreis at the centre of a lon/lat box (None without data)."""
    if not VG5000_KRS.exists():
        return None
    import geopandas as gpd
    import shapely

    krs = gpd.read_file(VG5000_KRS).to_crs("EPSG:4326")
    centre = shapely.Point((bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2)
    hit = krs[krs.contains(centre)]
    if hit.empty:
        return None
    return str(hit["AGS"].iloc[0]), str(hit["GEN"].iloc[0])


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kib / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument("--keep", action="store_true", help="keep the big feed afterwards")
    parser.add_argument("--feed", type=Path, default=DEFAULT_OUT, help="where the feed goes")
    parser.add_argument("--gib", type=float, default=2.5,
                        help="minimum size of stop_times.txt in GiB (default 2.5)")
    args = parser.parse_args()
    if not ZUG.exists():
        sys.exit(f"the Zug feed is missing: {ZUG}")
    args.feed.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(args.feed.parent).free
    print(f"free disk space at {args.feed.parent}: {free / 2**30:.1f} GiB")
    if free < 6 * 2**30:
        sys.exit("need at least 6 GiB free for the feed (about 0.4 GiB) and the extracts")

    feed: NationalFeed = build_national_feed(args.feed, target_bytes=int(args.gib * 2**30),
                                             reuse=True)
    zipped = args.feed.stat().st_size
    district = feed.core_bbox(feed.centre)
    bbox = ",".join(f"{v:.4f}" for v in district)
    out_dir = args.feed.parent
    box = [f"--bbox={bbox}"]
    cases = [
        ("one district (central copy's core) + 30 km buffer", box, out_dir / "district.zip"),
        ("the same, one week (2021-03-01 to 2021-03-07)",
         [*box, "--start-date", "2021-03-01", "--end-date", "2021-03-07"],
         out_dir / "district_week.zip"),
    ]
    kreis = _kreis_at(district)
    if kreis is not None:
        key, name = kreis
        cases.append((f"the real Kreis there ({name}, {key}, VG5000) + 30 km buffer",
                       ["--kreis", key, "--boundaries", str(VG5000_GEM)], out_dir / "kreis.zip"))
    rows = [(
        "build the national test feed (tiled Zug feed)",
        f"{feed.seconds:.0f} s" if feed.seconds else "(reused)", "", "", "",
        f"{feed.nx} x {feed.ny} = {feed.n} copies; stop_times.txt "
        f"{feed.stop_times_bytes / 2**30:.2f} GiB, {feed.stop_times_rows:,} records; zip "
        f"{zipped / 2**20:,.0f} MiB",
    )]
    commands = []
    try:
        for label, extra, out in cases:
            cmd = [sys.executable, "-m", "kurszugang", "-q", "extract", str(args.feed),
                   *extra, "--buffer-km", "30", "--out", str(out)]
            shown = [Path(a).name if a == str(VG5000_GEM) else a for a in extra]
            commands.append(" ".join(["kurszugang extract", args.feed.name, *shown,
                                      "--buffer-km 30", "--out", out.name]))
            print(f"running: {commands[-1]}", flush=True)
            load = os.getloadavg()[0]
            seconds, cpu, rss, _ = _run(cmd)
            t0 = time.perf_counter()
            cut = read_gtfs(out)
            t_read = time.perf_counter() - t0
            ok = "yes" if seconds < GOAL_S and rss < GOAL_BYTES else "NO"
            rows.append((
                label, f"{seconds:.1f} s", f"{cpu:.1f} s", f"{rss / 10**9:.2f} GB", ok,
                f"kept {len(cut.stop_times):,} of {feed.stop_times_rows:,} stop_times, "
                f"{len(cut.trips):,} trips, {len(cut.stops):,} stops; extract "
                f"{out.stat().st_size / 2**20:,.0f} MiB, reads strictly in {t_read:.1f} s; "
                f"load average before: {load:.1f}",
            ))
            print(rows[-1], flush=True)
            out.unlink()
    finally:
        if not args.keep:
            args.feed.unlink(missing_ok=True)
            print(f"deleted {args.feed} (use --keep to keep it)")

    table = ["| measurement | wall time | CPU time | peak memory (RSS) | goal met | notes |",
             "|---|---|---|---|---|---|"]
    table += ["| " + " | ".join(row) + " |" for row in rows]
    text = "\n".join(table)
    print(text)
    if args.write:
        cmds = "\n".join(f"    {c}" for c in commands)
        section = (
            f"{HEADING}\n\n"
            f"Measured {dt.date.today().isoformat()} on {_machine()} with\n"
            "`.venv/bin/python benchmarks/bench_extract.py --write`: each extraction runs in a "
            "fresh process through\nthe command line (peak memory is the process's maximum "
            "resident set size; CPU time is user + system; the feed was just\nwritten, so it was "
            "in the page cache; a load average above 2 means other jobs shared the two cores).\n"
            "Goal: a district cut in under 3 minutes with peak memory under 4 GB. The commands:"
            "\n\n"
            f"{cmds}\n\n{text}\n"
        )
        path = ROOT / "docs" / "benchmarks.md"
        old = path.read_text() if path.exists() else (
            "# Benchmarks\n\nSpeed and memory, measured on this project's 2-core machine.\n")
        pattern = re.escape(HEADING) + r"\n.*?(?=\n## |\Z)"
        if HEADING in old:
            old = re.sub(pattern, lambda _: section.rstrip() + "\n", old, flags=re.S)
        else:
            old = old.rstrip() + "\n\n" + section
        path.write_text(old)
        print(f"updated {path}")


if __name__ == "__main__":
    main()
