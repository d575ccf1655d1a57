"""GTFS reading and validation: memory and time on hostile and big inputs.

Usage (from the project root, with ../shared/data beside it)::

    .venv/bin/python benchmarks/bench_gtfs.py                  # measure and print
    .venv/bin/python benchmarks/bench_gtfs.py --write          # and update docs/benchmarks.md
    .venv/bin/python benchmarks/bench_gtfs.py --before f77e614 # also the reader of that commit

Every measurement runs in a fresh process; peak memory is its maximum resident set size and
CPU time user + system, both from ``os.wait4``. The inputs are built under
``benchmarks/.data/`` (git-ignored) and kept for the next run:

- ``bomb.zip``: the Zug feed's small files and a stop_times.txt of 1.6 GB (one row repeated)
  in a zip of under 2 MB;
- ``national.zip`` and ``zug32.zip``: 192 and 32 copies of the Zug feed
  (``benchmarks/national_feed.py``), every copy with its own services;
- origins and destinations for ``kurszugang matrix``: every 9th stop of the Zug feed.

Measured: ``kurszugang validate`` on the bomb (refused, then with the ratio limit lifted) and on
the national feed; ``read_gtfs(zug32, dates=[...])`` against the whole read; the second read
from the cache; the whole Zug read (with ``--before``: also by the reader of another commit,
unpacked with ``git archive``); and ``kurszugang matrix`` on Zug with what its memory is made
of.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _docs import write_section  # noqa: E402
from bench_extract import _machine  # noqa: E402
from national_feed import DEFAULT_OUT, ZUG, build_national_feed  # noqa: E402

DATA = ROOT / "benchmarks" / ".data"
HEADING = "## GTFS reading and validation"
DAY = "2021-03-02"
PY = sys.executable


def _run(cmd: list[str], env: dict[str, str] | None = None,
         cwd: Path | None = None) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds, peak RSS (bytes) and stdout of a command (exit code ignored:
    validate exits 1 on data errors)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True,
                                env={**os.environ, **(env or {})}, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read()
        if code not in (0, 1):
            sys.exit(f"failed ({code}): {' '.join(cmd)}\n{err.read()}")
        return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, text


def write_zip_bomb(path: Path, size: int = 1_600_000_000) -> tuple[int, int]:
    """The Zug feed's files but stop_times.txt, which holds one row repeated to ``size`` bytes:
    deflate restarted after each chunk (a full flush) compresses every chunk to the same bytes,
    so the archive is written from one compressed chunk. Returns (declared, compressed) size."""
    with zipfile.ZipFile(ZUG) as zf:
        small = {n: zf.read(n) for n in zf.namelist() if n != "stop_times.txt"}
        header = zf.open("stop_times.txt").readline()
    row = b"1.TA.91-1-E-j21-1.1.H,07:00:00,07:00:00,8502287,1,0,0\n"
    chunk = row * (1_000_000 // len(row))
    copies = size // len(chunk)
    members = []
    for name, data in small.items():
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        members.append((name, [c.compress(data) + c.flush()], zlib.crc32(data), len(data)))
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(header) + c.flush(zlib.Z_FULL_FLUSH)
    piece = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    tail = c.flush()
    crc = zlib.crc32(header)
    for _ in range(copies):
        crc = zlib.crc32(chunk, crc)
    declared = len(header) + len(chunk) * copies
    members.append(("stop_times.txt", [first] + [piece] * copies + [tail], crc, declared))
    central = b""
    with path.open("wb") as fh:
        for name, pieces, crc32, n in members:
            offset, raw = fh.tell(), name.encode()
            packed = sum(len(p) for p in pieces)
            fh.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc32, packed,
                                 n, len(raw), 0) + raw)
            for p in pieces:
                fh.write(p)
            central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21,
                                   crc32, packed, n, len(raw), 0, 0, 0, 0, 0, offset) + raw
        start = fh.tell()
        fh.write(central)
        fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members),
                             len(central), start, 0))
    return declared, sum(len(p) for p in members[-1][1])


def _points() -> tuple[Path, Path, int]:
    """Every 9th stop of the Zug feed as origins and (shifted by 4) as destinations."""
    import pandas as pd

    with zipfile.ZipFile(ZUG) as zf:
        stops = pd.read_csv(zf.open("stops.txt"), dtype={"stop_id": str})
    pts = stops[["stop_id", "stop_lon", "stop_lat"]].set_axis(["id", "lon", "lat"], axis=1)
    origins, destinations = DATA / "zug_origins.csv", DATA / "zug_destinations.csv"
    pts.iloc[::9].to_csv(origins, index=False)
    pts.iloc[4::9].to_csv(destinations, index=False)
    return origins, destinations, len(pts.iloc[::9])


def _read_cmd(path: Path, args: str, repeat: int = 1) -> list[str]:
    code = (f"import time; from kurszugang.io.gtfs import read_gtfs\n"
            f"best = None\n"
            f"for _ in range({repeat}):\n"
            f"    t = time.process_time(); f = read_gtfs({str(path)!r}{args})\n"
            f"    c = time.process_time() - t; best = c if best is None else min(best, c)\n"
            f"print(f'{{len(f.stop_times)}} {{best:.3f}}')")
    return [PY, "-c", code]


def _before(commit: str) -> Path:
    """The package of another commit, unpacked beside the data (for a before/after)."""
    target = DATA / f"before-{commit}"
    if not (target / "kurszugang").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "kurszugang"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def _gb(n: int) -> str:
    return f"{n / 10**9:.2f} GB"


def _mb(n: int) -> str:
    return f"{n / 10**6:,.0f} MB"


def measure(args: argparse.Namespace) -> tuple[list[tuple[str, ...]], list[str]]:
    DATA.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, ...]] = []
    commands: list[str] = []
    bomb = DATA / "bomb.zip"
    declared, packed = write_zip_bomb(bomb)
    kz = [PY, "-m", "kurszugang"]

    def row(label: str, cmd: list[str], shown: str, note: str = "", **kw: object) -> str:
        load = os.getloadavg()[0]
        print(f"running: {shown}", flush=True)
        wall, cpu, rss, out = _run(cmd, **kw)  # type: ignore[arg-type]
        rows.append((label, f"{wall:.1f} s", f"{cpu:.1f} s", _mb(rss) if rss < 10**9 else _gb(rss),
                     f"{note}{'; ' if note else ''}load before {load:.1f}"))
        commands.append(shown)
        print(rows[-1], flush=True)
        return out

    out = row(f"validate a zip bomb ({declared / 10**9:.1f} GB stop_times.txt in "
              f"{bomb.stat().st_size / 10**6:.1f} MB)", [*kz, "validate", str(bomb)],
              "kurszugang validate bomb.zip")
    refusal = next((line.strip() for line in out.splitlines() if "declares" in line), "?")
    rows[-1] = (*rows[-1][:4], f"refused before reading: \"{refusal[:120]}…\"; " + rows[-1][4])
    out = row("the same, ratio limit lifted (KURSZUGANG_ZIP_MAX_RATIO=100000): streamed",
              [*kz, "validate", str(bomb)],
              "KURSZUGANG_ZIP_MAX_RATIO=100000 kurszugang validate bomb.zip",
              env={"KURSZUGANG_ZIP_MAX_RATIO": "100000"})
    found = re.search(r"stop_times: ([\d,]+)", out)
    rows[-1] = (*rows[-1][:4], f"{found.group(1) if found else '?'} records streamed; the one "
                "trip is skipped as longer than 20,000 stop_times, the feed refused; "
                + rows[-1][4])

    national = build_national_feed(DEFAULT_OUT, reuse=True, quiet=True)
    zug32 = build_national_feed(DATA / "zug32.zip", copies=32, reuse=True, quiet=True)
    out = row(f"validate the national feed ({national.n} copies: "
              f"{national.stop_times_rows:,} stop_times)", [*kz, "validate", str(national.path)],
              "kurszugang validate national.zip")
    found = re.search(r"(\d[\d,]*) warnings", out)
    rows[-1] = (*rows[-1][:4], f"0 errors, {found.group(1) if found else '?'} warnings "
                "(clipped parent stations and transfers of each copy); " + rows[-1][4])

    for label, extra, shown in (
        (f"read_gtfs(zug32, dates=[{DAY}])", f", dates=[{DAY!r}], cache=False",
         f"read_gtfs('zug32.zip', dates=['{DAY}'], cache=False)"),
        ("read_gtfs(zug32), the whole feed", ", cache=False",
         "read_gtfs('zug32.zip', cache=False)"),
    ):
        out = row(label, _read_cmd(zug32.path, extra), shown)
        n = out.split()[0] if out.strip() else "?"
        rows[-1] = (*rows[-1][:4], f"{int(n):,} stop_times kept; " + rows[-1][4])
    cache = DATA / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    for label in ("first read with cache=True (parses, writes the cache)",
                  "second read (from the cache)"):
        out = row(f"read_gtfs(zug32, dates=[{DAY}]): {label}",
                  _read_cmd(zug32.path, f", dates=[{DAY!r}], cache=True"),
                  f"KURSZUGANG_CACHE_DIR=.data/cache read_gtfs('zug32.zip', dates=['{DAY}'], "
                  "cache=True)", env={"KURSZUGANG_CACHE_DIR": str(cache)})
    shutil.rmtree(cache, ignore_errors=True)

    out = row("read the Zug feed (best of 3 in one process)", _read_cmd(ZUG, "", 3),
              "read_gtfs('gtfs_ch_zg_2021.zip') × 3", note="")
    rows[-1] = (*rows[-1][:4], f"CPU per read {out.split()[1]} s; " + rows[-1][4])
    if args.before:
        before = _before(args.before)
        out = row(f"the same, reader of commit {args.before}", _read_cmd(ZUG, ", strict=True", 3),
                  f"(reader of {args.before}) read_gtfs('gtfs_ch_zg_2021.zip') × 3",
                  env={"PYTHONPATH": str(before)}, cwd=DATA)  # not the project's package
        rows[-1] = (*rows[-1][:4], f"CPU per read {out.split()[1]} s; " + rows[-1][4])

    origins, destinations, n_pts = _points()
    matrix = [*kz, "-q", "matrix", "--gtfs", str(ZUG), "--date", DAY, "--departure", "07:00",
              "--window", "60", "--origins", str(origins), "--destinations", str(destinations),
              "--out", str(DATA / "matrix.csv"), "--percentiles", "5,50,95"]
    row(f"kurszugang matrix on Zug ({n_pts} x {n_pts} stops, 60 min, p5/p50/p95)", matrix,
        f"kurszugang matrix --gtfs gtfs_ch_zg_2021.zip --date {DAY} --departure 07:00 "
        f"--window 60 --origins ({n_pts} stops) --destinations ({n_pts} stops) "
        "--percentiles 5,50,95")
    steps = (
        ("  of it: Python and the imports of the matrix command",
         "import kurszugang.cli, kurszugang.io.gtfs, kurszugang.io.points, "
         "kurszugang.routing.router"),
        ("  of it: + read_gtfs(zug) (the whole feed, as the command does)",
         f"from kurszugang.io.gtfs import read_gtfs; import kurszugang.routing.router; "
         f"f = read_gtfs({str(ZUG)!r})"),
        (f"  the same with read_gtfs(zug, dates=[{DAY}])",
         f"from kurszugang.io.gtfs import read_gtfs; import kurszugang.routing.router; "
         f"f = read_gtfs({str(ZUG)!r}, dates=[{DAY!r}])"),
        (f"  + Router(feed, {DAY}) and the matrix (dated read)",
         f"from kurszugang.io.gtfs import read_gtfs; from kurszugang.io.points import "
         f"read_points_csv; from kurszugang.routing.router import Router; "
         f"f = read_gtfs({str(ZUG)!r}, dates=[{DAY!r}]); r = Router(f, {DAY!r}); "
         f"r.travel_times(read_points_csv({str(origins)!r}), read_points_csv("
         f"{str(destinations)!r}), departure='07:00', window=60, percentiles=(5, 50, 95))"),
    )
    for label, code in steps:
        row(label, [PY, "-c", code], label.strip())
    return rows, commands


_EXPLAINED = """\
- The zip bomb is refused from its declared sizes before a byte of it is decompressed. With the
  limit lifted it is validated in blocks: its one trip is skipped as soon as it passes 20,000
  stop_times, the rest of the file is only parsed and counted. Arrow holds under 150 MB at any
  time then; most of the peak is freed memory the C allocator (glibc) keeps in its heap while
  blocks of 16 MiB come and go (it stops growing after about 40 blocks).
- The national feed is validated with stop_times.txt (38 million rows) and calendar_dates.txt
  (54.6 million) in blocks; its memory is the other files held whole (2.7 million trips, 1.6
  million transfers, 174,000 stops, the service x day matrix of 426,000 services) and the listed
  warnings (at most 10,000 per file and kind).
- One date of the 32x-Zug feed keeps 1.76 million of its 6.35 million stop_times; the whole read
  is given for comparison. The second read from the cache checks the zip's SHA-256 (64 MB) and
  reads the Parquet tables.
- The Zug feed reads faster than with the reader of the earlier commit because dates, times and
  codes are parsed once per distinct value.
- `kurszugang matrix` on Zug misses the 300 MB goal, and the reader cannot reach it: Python
  with the imports of the command alone (numba's LLVM, pandas, pyarrow, scipy, pyproj) takes
  about 290 MB (row "of it: Python and the imports"). Reading the whole Zug feed adds about
  160 MB at the peak, reading only the date about 85 MB; the command reads the whole feed today,
  and `read_gtfs(gtfs, dates=[date])` in it (the matrix command is not part of this module)
  would bring the peak to the last row's. What is left is the interpreter, its libraries and
  the router.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument("--before", metavar="COMMIT",
                        help="also read Zug with the reader of this commit")
    args = parser.parse_args()
    if not ZUG.exists():
        sys.exit(f"the Zug feed is missing: {ZUG}")
    started = time.perf_counter()
    rows, commands = measure(args)
    minutes = (time.perf_counter() - started) / 60
    table = ["| measurement | wall time | CPU time | peak memory (RSS) | notes |",
             "|---|---|---|---|---|"]
    table += ["| " + " | ".join(r) + " |" for r in rows]
    text = "\n".join(table)
    print(text)
    if not args.write:
        return
    cmds = "\n".join(f"    {c}" for c in commands)
    section = (
        f"{HEADING}\n\n"
        f"Measured {dt.date.today().isoformat()} on {_machine()} with\n"
        f"`.venv/bin/python benchmarks/bench_gtfs.py --write{' --before ' + args.before if args.before else ''}`"
        f" ({minutes:.1f} min in all): every measurement in a fresh process;\n"
        "peak memory is its maximum resident set size, CPU time user + system (`os.wait4`); the "
        "load average\nbefore each is given (2 cores: above 2, other jobs shared them). "
        "Goals: validate a zip bomb under\n1 GB; one date of the 32x-Zug feed under 1.5 GB and "
        "its second read from the cache under 5 s;\n`kurszugang matrix` on Zug under 300 MB. "
        "What ran:\n\n"
        f"{cmds}\n\n{text}\n\n{_EXPLAINED}"
    )
    write_section(HEADING, section)


if __name__ == "__main__":
    main()
