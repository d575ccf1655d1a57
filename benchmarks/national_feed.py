"""Build a national-size GTFS zip by tiling the Zug feed over Germany (for benchmarks only).

Usage (from the project root, with ../shared/data beside it)::

    .venv/bin/python benchmarks/national_feed.py     # 192 copies: benchmarks/.data/national.zip
    .venv/bin/python benchmarks/national_feed.py --copies 32 --out benchmarks/.data/zug32.zip

Every copy holds all trips, all stops and all services of the Zug feed (not one day) with its
stop, trip, route, block and service ids prefixed ``"n<copy>:"`` (e.g. ``n042:8502204:0:1``) and
its stops moved in EPSG:25832 so that the centre of the copy's dense core (5th to 95th
percentile of the coordinates of its stop_times) lands on the centre of one cell of a grid laid
over Germany's extent. Long-distance trips keep their far stops, which then lie in neighbouring
cells, as in a real national feed. Every copy has its own services, so calendar.txt and
calendar_dates.txt grow with the copies as in a real national feed (192 copies: 54.6 million
calendar_dates); agencies and feed_info are shared. Enough copies are made for stop_times.txt to
reach a target size, or (default) 192 copies: stop_times.txt of 2.9 GiB uncompressed, a little
more than DELFI's 2.6 GB.

The zip is written member by member and copy by copy: only one copy's tables are in memory.
Keep the output in ``benchmarks/.data/`` (git-ignored) or a temporary folder.
"""

from __future__ import annotations

import argparse
import io
import math
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from pyproj import Transformer

ROOT = Path(__file__).resolve().parents[1]
ZUG = ROOT.parent / "shared" / "data" / "gtfs-ch-kanton-zug-2021" / "gtfs_ch_zg_2021.zip"
DEFAULT_OUT = ROOT / "benchmarks" / ".data" / "national.zip"

_TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)
_TO_WGS = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)
# Germany's extent in EPSG:25832 (about 5.9-15.0 E, 47.3-55.1 N), metres.
GERMANY = (280_000.0, 5_240_000.0, 920_000.0, 6_100_000.0)
# Ids that get the copy prefix, per file.
_PREFIXED = {
    "stops.txt": ("stop_id", "parent_station"),
    "routes.txt": ("route_id",),
    "trips.txt": ("route_id", "service_id", "trip_id", "block_id", "shape_id"),
    "calendar.txt": ("service_id",),
    "calendar_dates.txt": ("service_id",),
    "stop_times.txt": ("trip_id", "stop_id"),
    "transfers.txt": ("from_stop_id", "to_stop_id", "from_route_id", "to_route_id",
                      "from_trip_id", "to_trip_id"),
    "frequencies.txt": ("trip_id",),
}
_SHARED = ("agency.txt", "feed_info.txt")
_PER_COPY = ("stops.txt", "routes.txt", "trips.txt", "calendar.txt", "calendar_dates.txt",
             "transfers.txt", "frequencies.txt")
#: Default number of copies: stop_times.txt of 2.9 GiB (as written here, every text quoted).
DEFAULT_COPIES = 192


@dataclass(frozen=True)
class NationalFeed:
    """The built feed and its layout.

    Attributes
    ----------
    path
        The zip written.
    nx, ny
        Copies per row and per column (copy ``k`` is in column ``k % nx``, row ``k // nx``).
    offsets
        Shift of each copy in metres (EPSG:25832), shape ``(nx * ny, 2)``.
    core
        ``(x0, y0, x1, y1)`` of the source feed's dense core in EPSG:25832, metres.
    stop_times_bytes, stop_times_rows
        Size of stop_times.txt (uncompressed) and its number of records.
    seconds
        Build time.
    """

    path: Path
    nx: int
    ny: int
    offsets: np.ndarray
    core: tuple[float, float, float, float]
    stop_times_bytes: int
    stop_times_rows: int
    seconds: float

    @property
    def n(self) -> int:
        """Number of copies."""
        return self.nx * self.ny

    @property
    def centre(self) -> int:
        """The copy in the middle of the grid."""
        return (self.ny // 2) * self.nx + self.nx // 2

    def core_bbox(self, copy: int) -> tuple[float, float, float, float]:
        """The dense core of one copy as ``(min_lon, min_lat, max_lon, max_lat)``."""
        x0, y0, x1, y1 = self.core
        dx, dy = self.offsets[copy]
        xs = np.array([x0, x1, x1, x0]) + dx
        ys = np.array([y0, y0, y1, y1]) + dy
        lon, lat = _TO_WGS.transform(xs, ys)
        return float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat))


def _read(zf: zipfile.ZipFile, name: str) -> pa.Table:
    """One member with every column as text (blank fields null)."""
    with zf.open(name) as fh:
        header = fh.readline().removeprefix(b"\xef\xbb\xbf").decode().strip()
        names = [n.strip().strip('"') for n in header.split(",")]
        return pacsv.read_csv(
            fh,
            read_options=pacsv.ReadOptions(column_names=names),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=True,
                null_values=[""], quoted_strings_can_be_null=True),
        )


def _copy(table: pa.Table, file: str, prefix: str) -> pa.Table:
    """The table with the ids of ``file`` prefixed (nulls stay null)."""
    cols = []
    for name in table.column_names:
        col = table.column(name)
        if name in _PREFIXED.get(file, ()):
            col = pc.binary_join_element_wise(pa.scalar(prefix), col, "")
        cols.append(col)
    return pa.table(cols, names=table.column_names)


class _Counter(io.RawIOBase):
    """A write stream that counts bytes and passes them on."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh, self.n = fh, 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.n += len(data)
        return self.fh.write(data)


def build_national_feed(out: Path = DEFAULT_OUT, *, source: Path = ZUG,
                        target_bytes: int | None = None, copies: int | None = DEFAULT_COPIES,
                        extent: tuple[float, float, float, float] = GERMANY,
                        reuse: bool = False, quiet: bool = False) -> NationalFeed:
    """Write the tiled feed to ``out`` (see the module docstring); returns its layout.

    ``target_bytes`` (if given) instead of ``copies`` asks for enough copies for
    stop_times.txt to reach that size. With
    ``reuse``, an existing ``out`` is kept (the build is deterministic, so its layout is
    computed again without writing; ``seconds`` is then 0).
    """
    started = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(source) as zf:
        names = {n.rsplit("/", 1)[-1]: n for n in zf.namelist() if n.endswith(".txt")}
        tables = {f: _read(zf, n) for f, n in names.items()}
    st = tables["stop_times.txt"]
    one = io.BytesIO()
    pacsv.write_csv(_copy(st, "stop_times.txt", "n000:"), one)
    per_copy = len(one.getvalue()) - len(one.getvalue().split(b"\n", 1)[0]) - 1
    if target_bytes is not None:
        copies = None
    n_needed = copies if copies is not None else math.ceil((target_bytes or 0) / per_copy)
    w, h = extent[2] - extent[0], extent[3] - extent[1]
    ny = max(1, round(math.sqrt(n_needed * h / w)))
    nx = math.ceil(n_needed / ny)
    while copies is not None and nx * ny != copies and ny > 1:  # exactly ``copies`` copies
        ny -= 1
        nx = math.ceil(copies / ny)
    # The dense core of the source and the shift of every copy onto its grid cell.
    stops = tables["stops.txt"]
    lon = pc.cast(stops.column("stop_lon"), pa.float64()).to_numpy()
    lat = pc.cast(stops.column("stop_lat"), pa.float64()).to_numpy()
    x, y = _TO_UTM.transform(lon, lat)
    # The core is where the service is: percentiles over the stops of all stop_times.
    at = pc.index_in(st.column("stop_id"), value_set=stops.column("stop_id")).to_numpy(
        zero_copy_only=False)
    at = at[~np.isnan(at.astype(float))].astype(np.int64)
    x0, x1 = np.percentile(x[at], [5, 95])
    y0, y1 = np.percentile(y[at], [5, 95])
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    j, i = np.divmod(np.arange(nx * ny), nx)
    cells = np.column_stack([extent[0] + (i + 0.5) * w / nx, extent[1] + (j + 0.5) * h / ny])
    offsets = cells - centre
    prefixes = [f"n{k:03d}:" for k in range(nx * ny)]
    if not quiet:
        print(f"building {out}: {nx} x {ny} = {nx * ny} copies of {source.name}, cells "
              f"{w / nx / 1000:.0f} km x {h / ny / 1000:.0f} km, core "
              f"{(x1 - x0) / 1000:.0f} km x {(y1 - y0) / 1000:.0f} km", flush=True)

    if reuse and out.exists():
        header = len(one.getvalue().split(b"\n", 1)[0]) + 1
        if not quiet:
            print(f"reusing {out}", flush=True)
        return NationalFeed(out, nx, ny, offsets, (float(x0), float(y0), float(x1), float(y1)),
                            header + per_copy * len(prefixes), st.num_rows * len(prefixes), 0.0)
    part = out.with_name(out.name + ".part")
    with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as zo:
        for file in _SHARED:
            if file in tables:
                with zo.open(file, "w") as fh:
                    pacsv.write_csv(tables[file], fh)
        with zo.open("stop_times.txt", "w", force_zip64=True) as fh:
            counter = _Counter(fh)
            writer = pacsv.CSVWriter(counter, st.schema)
            for k, prefix in enumerate(prefixes):
                writer.write_table(_copy(st, "stop_times.txt", prefix))
                if not quiet and (k + 1) % 20 == 0:
                    print(f"  stop_times: {k + 1} of {len(prefixes)} copies, "
                          f"{counter.n / 2**30:.2f} GiB", flush=True)
            writer.close()
        for file in _PER_COPY:
            if file not in tables:
                continue
            with zo.open(file, "w", force_zip64=True) as fh:
                writer = pacsv.CSVWriter(fh, tables[file].schema)
                for k, prefix in enumerate(prefixes):
                    table = _copy(tables[file], file, prefix)
                    if file == "stops.txt":
                        table = _shift(table, x, y, offsets[k])
                    writer.write_table(table)
                writer.close()
    part.replace(out)
    feed = NationalFeed(out, nx, ny, offsets, (float(x0), float(y0), float(x1), float(y1)),
                        counter.n, st.num_rows * len(prefixes), time.perf_counter() - started)
    if not quiet:
        print(f"wrote {out} ({out.stat().st_size / 2**20:,.0f} MiB zipped) in {feed.seconds:.0f} "
              f"s: stop_times.txt {feed.stop_times_bytes / 2**30:.2f} GiB, "
              f"{feed.stop_times_rows:,} records", flush=True)
    return feed


def _shift(stops: pa.Table, x: np.ndarray, y: np.ndarray, offset: np.ndarray) -> pa.Table:
    lon, lat = _TO_WGS.transform(x + offset[0], y + offset[1])
    cols = {n: stops.column(n) for n in stops.column_names}
    cols["stop_lon"] = pa.array(np.char.mod("%.7f", lon))
    cols["stop_lat"] = pa.array(np.char.mod("%.7f", lat))
    return pa.table(list(cols.values()), names=list(cols))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="zip to write")
    parser.add_argument("--copies", type=int, default=DEFAULT_COPIES,
                        help=f"number of copies (default {DEFAULT_COPIES})")
    parser.add_argument("--gib", type=float,
                        help="instead of --copies: minimum size of stop_times.txt in GiB")
    args = parser.parse_args()
    if not ZUG.exists():
        sys.exit(f"the Zug feed is missing: {ZUG}")
    target = int(args.gib * 2**30) if args.gib else None
    build_national_feed(args.out, target_bytes=target, copies=args.copies)


if __name__ == "__main__":
    main()
