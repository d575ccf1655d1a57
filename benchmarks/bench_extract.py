"""District extraction from a national-size feed: wall time, CPU time and peak memory of ``extract``.

Usage (from the project root, with ../shared/data beside it)::

    .venv/bin/python benchmarks/bench_extract.py                   # build, measure, print
    .venv/bin/python benchmarks/bench_extract.py --write           # and update docs/benchmarks.md
    .venv/bin/python benchmarks/bench_extract.py --before f77e614  # also the extract of a commit

Builds (unless it exists) the tiled feed of ``benchmarks/national_feed.py``: 192 copies of the
Zug feed over Germany's extent, each with its own services (stop_times.txt 2.97 GiB, 54.6
million calendar_dates, 385 MiB zipped). Then runs, each in a fresh process through the command
line, and measures wall time, CPU time and peak resident memory (the child's ``ru_maxrss`` from
``os.wait4``):

- ``unzip -p national.zip stop_times.txt | wc -l``: the cost of merely decompressing and
  counting stop_times.txt, the yardstick for the CPU time;
- one district: the dense core of the central copy (about the size of a Landkreis) plus the
  default 30 km buffer (with ``--before``: also by the extraction of that commit, unpacked with
  ``git archive``);
- the same district for one week (2021-03-01 to 2021-03-07);
- the real Kreis at that place (from VG5000, through ``--kreis KEY --boundaries
  VG5000_GEM.shp``) plus 30 km.

Each extract is then read with the strict reader to check it. Goals: peak memory under 1.5 GB
and CPU time within 3 times that of ``unzip | wc`` measured in the same run. The feed is kept in
``benchmarks/.data/`` (git-ignored) unless ``--delete``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _docs import write_section  # noqa: E402
from national_feed import DEFAULT_OUT, ZUG, NationalFeed, build_national_feed  # noqa: E402

from kurszugang.io.gtfs import read_gtfs  # noqa: E402

VG5000 = ROOT.parent / "shared" / "data" / "vg5000-2021-bkg"
VG5000_GEM, VG5000_KRS = VG5000 / "VG5000_GEM.shp", VG5000 / "VG5000_KRS.shp"
GOAL_BYTES = 1.5e9
GOAL_CPU_RATIO = 3.0
HEADING = "## District extraction"


def _run(cmd: list[str], env: dict[str, str] | None = None,
         cwd: Path | None = None) -> tuple[float, float, int, str]:
    """Run a command; returns wall seconds, CPU seconds, peak RSS in bytes and its stdout.

    CPU time and peak memory are the child's with its own (waited-for) children: for
    ``sh -c "unzip | wc"`` the pipeline's.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True,
                                env={**os.environ, **(env or {})}, cwd=cwd)
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


def _cases(feed: NationalFeed, out_dir: Path) -> list[tuple[str, list[str], Path]]:
    district = feed.core_bbox(feed.centre)
    box = [f"--bbox={','.join(f'{v:.4f}' for v in district)}"]
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
    return cases


def _before(commit: str, data: Path) -> Path:
    """The package of another commit, unpacked beside the data."""
    target = data / f"before-{commit}"
    if not (target / "kurszugang").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "kurszugang"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def _measure(args: argparse.Namespace, feed: NationalFeed
             ) -> tuple[list[tuple[str, ...]], list[str]]:
    out_dir = args.feed.parent
    zipped = args.feed.stat().st_size
    rows: list[tuple[str, ...]] = [(
        "build the national test feed (tiled Zug feed)",
        f"{feed.seconds:.0f} s" if feed.seconds else "(reused)", "", "", "", "",
        f"{feed.nx} x {feed.ny} = {feed.n} copies; stop_times.txt "
        f"{feed.stop_times_bytes / 2**30:.2f} GiB, {feed.stop_times_rows:,} records; zip "
        f"{zipped / 2**20:,.0f} MiB",
    )]
    load = os.getloadavg()[0]
    seconds, base_cpu, rss, _ = _run(["sh", "-c", f"unzip -p '{args.feed}' stop_times.txt | wc -l"])
    commands = [f"unzip -p {args.feed.name} stop_times.txt | wc -l"]
    rows.append(("decompress and count stop_times.txt (unzip -p \\| wc -l)", f"{seconds:.1f} s",
                 f"{base_cpu:.1f} s", f"{rss / 10**6:.0f} MB", "1.0 x", "",
                 f"the yardstick; load average before: {load:.1f}"))
    cases = [(label, extra, out, None) for label, extra, out in _cases(feed, out_dir)]
    if args.before:
        label, extra, out = _cases(feed, out_dir)[0]
        cases.insert(0, (f"{label}, extraction of commit {args.before}", extra,
                         out_dir / "district_before.zip", _before(args.before, out_dir)))
    for label, extra, out, package in cases:
        cmd = [sys.executable, "-m", "kurszugang", "-q", "extract", str(args.feed),
               *extra, "--buffer-km", "30", "--out", str(out)]
        shown = [Path(a).name if a == str(VG5000_GEM) else a for a in extra]
        commands.append(" ".join(["kurszugang extract", args.feed.name, *shown,
                                  "--buffer-km 30", "--out", out.name])
                        + (f"  # with the package of {args.before}" if package else ""))
        print(f"running: {commands[-1]}", flush=True)
        load = os.getloadavg()[0]
        env = {"PYTHONPATH": str(package)} if package else None
        # run outside the project folder, else its package is imported, not the other one
        seconds, cpu, rss, _ = _run(cmd, env=env, cwd=out_dir if package else None)
        t0 = time.perf_counter()
        cut = read_gtfs(out, strict=True, cache=False)
        t_read = time.perf_counter() - t0
        ratio = cpu / base_cpu
        ok = "yes" if rss < GOAL_BYTES and ratio <= GOAL_CPU_RATIO else "NO"
        rows.append((
            label, f"{seconds:.1f} s", f"{cpu:.1f} s", f"{rss / 10**9:.2f} GB", f"{ratio:.2f} x",
            ok, f"kept {len(cut.stop_times):,} of {feed.stop_times_rows:,} stop_times, "
            f"{len(cut.trips):,} trips, {len(cut.stops):,} stops, {len(cut.calendar_dates):,} "
            f"calendar_dates; extract {out.stat().st_size / 2**20:,.0f} MiB, reads strictly in "
            f"{t_read:.1f} s; load average before: {load:.1f}",
        ))
        print(rows[-1], flush=True)
        out.unlink()
    return rows, commands


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument("--delete", action="store_true", help="delete the big feed afterwards")
    parser.add_argument("--feed", type=Path, default=DEFAULT_OUT, help="where the feed goes")
    parser.add_argument("--before", metavar="COMMIT",
                        help="also extract the district with the package of this commit")
    args = parser.parse_args()
    if not ZUG.exists():
        sys.exit(f"the Zug feed is missing: {ZUG}")
    args.feed.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(args.feed.parent).free
    print(f"free disk space at {args.feed.parent}: {free / 2**30:.1f} GiB")
    if free < 3 * 2**30 and not args.feed.exists():
        sys.exit("need at least 3 GiB free for the feed (about 0.4 GiB) and the extracts")
    feed = build_national_feed(args.feed, reuse=True)
    started = time.perf_counter()
    try:
        rows, commands = _measure(args, feed)
    finally:
        if args.delete:
            args.feed.unlink(missing_ok=True)
            print(f"deleted {args.feed}")
    minutes = (time.perf_counter() - started) / 60
    table = ["| measurement | wall time | CPU time | peak memory (RSS) | CPU / unzip \\| wc | goal "
             "met | notes |", "|---|---|---|---|---|---|---|"]
    table += ["| " + " | ".join(row) + " |" for row in rows]
    text = "\n".join(table)
    print(text)
    if args.write:
        _write(args, commands, text, minutes)


_EXPLAINED = """\
Where the time goes: stop_times.txt is decompressed (zlib, in Python's zip reader) and parsed
(Arrow's CSV reader, one thread) once; calendar_dates.txt (54.6 million rows) once (with a date
range its rows inside the range are kept while the services running in it are found); trips.txt
twice (the candidate trips, then the kept rows). Per block (16 MiB, about 200,000 stop_times of
14,000 trips) the trips are the runs of rows of one trip, the stops are compared by their
distinct values, and dates and codes are parsed once per distinct value; the trips that stop
inside are checked against a numpy hash index of the candidate trips built once. The extraction
of the earlier commit read stop_times.txt twice, looked up every block's trip ids in Arrow hash
sets of all the trips (built again for every block) and read calendar_dates.txt whole, hence its
time and its memory.

Where the memory goes: the candidate trip ids (2.7 million, as Arrow strings and their hashes),
the stops, calendar.txt, and one block at a time; the rest of the peak is freed memory the C
allocator keeps in its heap (Arrow's own pool holds under 150 MB at any time).
"""


def _write(args: argparse.Namespace, commands: list[str], text: str, minutes: float) -> None:
    cmds = "\n".join(f"    {c}" for c in commands)
    before = f" --before {args.before}" if args.before else ""
    section = (
        f"{HEADING}\n\n"
        f"Measured {dt.date.today().isoformat()} on {_machine()} with\n"
        f"`.venv/bin/python benchmarks/bench_extract.py --write{before}` ({minutes:.1f} min in "
        "all): each extraction runs in a fresh process\nthrough the command line (peak memory is "
        "the process's maximum resident set size; CPU time is user + system,\nof the process and "
        "its children; the feed was just read, so it was in the page cache; a load average\nabove "
        "2 means other jobs shared the two cores). Goals: peak memory under 1.5 GB, and CPU time "
        "within 3\ntimes that of `unzip -p | wc -l` on stop_times.txt, measured in the same run. "
        "The commands:\n\n"
        f"{cmds}\n\n{text}\n\n{_EXPLAINED}"
    )
    write_section(HEADING, section)


if __name__ == "__main__":
    main()
