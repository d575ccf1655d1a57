"""kurszugang.io.download against a local HTTP server on 127.0.0.1 (never the internet).

The server serves files from a temporary folder, answers ``Range`` requests with 206 and a
``Content-Range`` (or ignores them, when told to), can cut the connection once after N bytes and
records every request's path and headers.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kurszugang.errors import InputError
from kurszugang.io.download import (
    SOURCES,
    DownloadError,
    download,
    read_download_record,
    resolve_source,
)

VG250 = "vg250_12-31.utm32s.gpkg.ebenen.zip"
PBF = "oberbayern-latest.osm.pbf"
PAYLOAD = bytes(range(256)) * 1200  # 307,200 bytes: several 1 MiB-chunk-free reads


@dataclass
class ServerState:
    root: Path
    cut_after: int | None = None  # cut the next full answer after this many bytes (once)
    ignore_range: bool = False
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)


def _handler(state: ServerState) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep the test output clean

        def do_GET(self) -> None:
            state.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            file = state.root / self.path.lstrip("/")
            if not file.is_file():
                body = b"not found"
                self.send_response(404, "Not Found")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            data = file.read_bytes()
            start = 0
            rng = self.headers.get("Range")
            if rng and not state.ignore_range:
                start = int(rng.removeprefix("bytes=").split("-")[0])
                if start >= len(data):
                    self.send_response(416, "Range Not Satisfiable")
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206, "Partial Content")
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200, "OK")
            body = data[start:]
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", '"v1"')
            self.end_headers()
            if state.cut_after is not None and not file.name.endswith(".md5"):
                cut, state.cut_after = state.cut_after, None
                self.wfile.write(body[:cut])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

    return Handler


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, ServerState]]:
    root = tmp_path / "served"
    root.mkdir()
    state = ServerState(root)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _serve(state: ServerState, name: str, data: bytes = PAYLOAD) -> None:
    (state.root / name).write_bytes(data)


def _fast(**kwargs: object) -> dict[str, object]:
    return {"progress": False, "timeout": 5, "backoff_s": 0.01, **kwargs}


def test_full_download_with_sha256_and_records(server, tmp_path: Path):
    base, state = server
    _serve(state, VG250)
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    out = tmp_path / "raw"

    result = download("vg250", out_dir=out, base_url=base, expected_sha256=digest.upper(),
                      **_fast())

    assert result.path == out / VG250
    assert result.path.read_bytes() == PAYLOAD
    assert (result.bytes, result.sha256, result.resumed, result.reused) == (
        len(PAYLOAD), digest, False, False)
    assert (result.source, result.url) == ("vg250", f"{base}/{VG250}")
    assert (out / f"{VG250}.sha256").read_text() == f"{digest}  {VG250}\n"
    record = read_download_record(result.path)
    assert record is not None
    assert {k: record[k] for k in ("source", "url", "bytes", "sha256", "md5", "file")} == {
        "source": "vg250", "url": f"{base}/{VG250}", "bytes": 307_200, "sha256": digest,
        "md5": None, "file": VG250}
    assert record["downloaded_at"].endswith("+00:00")
    assert record["credit"] == SOURCES["vg250"].credit
    assert sorted(p.name for p in out.iterdir()) == [
        VG250, f"{VG250}.download.json", f"{VG250}.sha256"]  # no .part left
    assert len(state.requests) == 1 and "range" not in state.requests[0][1]

    # a second call with the same checksum keeps the file and asks the server nothing
    again = download("vg250", out_dir=out, base_url=base, expected_sha256=digest, **_fast())
    assert (again.reused, again.bytes, again.sha256) == (True, 307_200, digest)
    assert len(state.requests) == 1


def test_interrupted_download_is_resumed_with_a_range_request(server, tmp_path: Path):
    base, state = server
    _serve(state, VG250)
    state.cut_after = 100_000

    result = download("vg250", out_dir=tmp_path, base_url=base, **_fast())

    assert result.resumed is True
    assert result.path.read_bytes() == PAYLOAD
    assert result.sha256 == hashlib.sha256(PAYLOAD).hexdigest()
    assert [h.get("range") for _, h in state.requests] == [None, "bytes=100000-"]
    assert state.requests[1][1]["if-range"] == '"v1"'  # resumes only the same version
    assert not (tmp_path / f"{VG250}.part").exists()
    assert not (tmp_path / f"{VG250}.part.json").exists()


def test_resume_across_runs_after_the_retries_ran_out(server, tmp_path: Path):
    base, state = server
    _serve(state, VG250)
    state.cut_after = 50_000

    with pytest.raises(DownloadError) as err:
        download("vg250", out_dir=tmp_path, base_url=base, **_fast(retries=0))
    message = str(err.value)
    assert f"could not download {base}/{VG250}" in message
    assert "the connection closed after 50,000 of 307,200 bytes (tried 1 times)" in message
    assert "is kept and the next download resumes it" in message
    assert (tmp_path / f"{VG250}.part").stat().st_size == 50_000
    assert not (tmp_path / VG250).exists()

    result = download("vg250", out_dir=tmp_path, base_url=base, **_fast(retries=0))
    assert result.resumed is True
    assert result.path.read_bytes() == PAYLOAD
    assert state.requests[-1][1]["range"] == "bytes=50000-"


def test_server_ignoring_range_restarts_from_zero(server, tmp_path: Path):
    base, state = server
    _serve(state, VG250)
    state.cut_after = 70_000
    state.ignore_range = True

    result = download("vg250", out_dir=tmp_path, base_url=base, **_fast())

    assert state.requests[1][1]["range"] == "bytes=70000-"  # asked to resume, got 200
    assert result.resumed is False
    assert result.bytes == len(PAYLOAD)
    assert result.path.read_bytes() == PAYLOAD  # not 70,000 bytes + the whole file again


def test_geofabrik_md5_is_verified(server, tmp_path: Path):
    base, state = server
    _serve(state, PBF)
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    _serve(state, f"{PBF}.md5", f"{md5}  {PBF}\n".encode())

    result = download("geofabrik:Oberbayern", out_dir=tmp_path, base_url=base, **_fast())

    assert (result.source, result.path.name) == ("geofabrik:oberbayern", PBF)
    assert read_download_record(result.path)["md5"] == md5
    assert [p for p, _ in state.requests] == [f"/{PBF}.md5", f"/{PBF}"]


def test_md5_mismatch_deletes_the_download(server, tmp_path: Path):
    base, state = server
    _serve(state, PBF)
    wrong = "0" * 32
    _serve(state, f"{PBF}.md5", f"{wrong}  {PBF}\n".encode())

    with pytest.raises(InputError) as err:
        download("geofabrik", region="oberbayern", out_dir=tmp_path / "raw", base_url=base,
                 **_fast())

    found = hashlib.md5(PAYLOAD).hexdigest()
    assert str(err.value) == (
        f"{PBF}: MD5 checksum does not match: expected {wrong} (from {base}/{PBF}.md5), "
        f"found {found}; the download was deleted, try again")
    assert list((tmp_path / "raw").iterdir()) == []  # no final file, no .part, no records


def test_sha256_mismatch_names_both_checksums(server, tmp_path: Path):
    base, state = server
    _serve(state, VG250)
    wrong = "ab" * 32

    with pytest.raises(InputError, match=rf"^{VG250}: SHA-256 checksum does not match: "
                                         rf"expected {wrong}, found "
                                         rf"{hashlib.sha256(PAYLOAD).hexdigest()}; "):
        download("vg250", out_dir=tmp_path / "raw", base_url=base, expected_sha256=wrong,
                 **_fast())
    assert list((tmp_path / "raw").iterdir()) == []


def test_404_names_the_url_and_is_not_retried(server, tmp_path: Path):
    base, state = server

    with pytest.raises(DownloadError) as err:
        download("zensus2022-100m", out_dir=tmp_path, base_url=base, **_fast())

    url = f"{base}/Zensus2022_Bevoelkerungszahl.zip"
    assert str(err.value) == (
        f"could not download {url}: HTTP 404 Not Found; the file may have moved: see "
        "https://www.zensus2022.de/DE/Ergebnisse-des-Zensus/gitterzellen.html")
    assert len(state.requests) == 1


def test_unreachable_server_fails_after_the_retries(tmp_path: Path):
    # a port nobody listens on: bind one, note it, close it
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError, match=rf"could not download http://127.0.0.1:{port}/"
                                            rf"{VG250}: .*refused.* \(tried 3 times\)$"):
        download("vg250", out_dir=tmp_path, base_url=f"http://127.0.0.1:{port}",
                 **_fast(retries=2))


def test_web_page_instead_of_the_file(server, tmp_path: Path):
    base, state = server
    (state.root / "Zensus2022_Bevoelkerungszahl.zip").write_text("<html>login</html>")

    class HtmlHandler(_handler(state)):  # the same server, answering with text/html
        def send_header(self, keyword: str, value: str) -> None:
            super().send_header(keyword, "text/html" if keyword == "Content-Type" else value)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HtmlHandler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        with pytest.raises(DownloadError, match="answered with a web page \\(text/html\\) "
                                                "instead of the file"):
            download("zensus2022-100m", out_dir=tmp_path,
                     base_url=f"http://127.0.0.1:{httpd.server_address[1]}", **_fast())
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: resolve_source("vg1000"), "unknown source 'vg1000'; known sources: vg250, "
                                           "vg250-ew, zensus2022-100m"),
        (lambda: resolve_source("geofabrik:atlantis"), "unknown Geofabrik region 'atlantis'"),
        (lambda: resolve_source("vg250", region="bayern"), "source 'vg250' has no regions"),
        (lambda: resolve_source("geofabrik:bayern", region="sachsen"), "two regions given"),
        (lambda: download("vg250", expected_sha256="abc"),
         "--sha256 'abc' is not a SHA-256 checksum (expected 64 hex digits)"),
        (lambda: resolve_source("vg250", base_url="ftp://x"), "is not an http(s) address"),
    ],
)
def test_bad_requests_fail_before_any_network_access(call, message):
    with pytest.raises(InputError) as err:
        call()
    assert message in str(err.value)


def test_catalogue_addresses():
    assert resolve_source("geofabrik:oberbayern")[1] == (
        "https://download.geofabrik.de/europe/germany/bayern/oberbayern-latest.osm.pbf")
    assert resolve_source("geofabrik", region="Thüringen")[1:] == (
        "https://download.geofabrik.de/europe/germany/thueringen-latest.osm.pbf",
        "thueringen-latest.osm.pbf")
    assert resolve_source("geofabrik:europe/austria")[1] == (
        "https://download.geofabrik.de/europe/austria-latest.osm.pbf")
    assert resolve_source("vg250-ew")[1] == (
        "https://daten.gdz.bkg.bund.de/produkte/vg/vg250-ew_ebenen_1231/aktuell/"
        "vg250-ew_12-31.utm32s.gpkg.ebenen.zip")
    # with a base URL the file keeps its official name, without the query string
    assert resolve_source("zensus2011-100m", base_url="http://127.0.0.1:9/m/")[1] == (
        "http://127.0.0.1:9/m/csv_Bevoelkerung_100m_Gitter.zip")
    assert not SOURCES["delfi-gtfs"].official


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kurszugang", *args], capture_output=True,
                          text=True, timeout=60, cwd=cwd)


def test_cli_download_list_and_bad_source(server, tmp_path: Path):
    base, state = server
    _serve(state, VG250)
    digest = hashlib.sha256(PAYLOAD).hexdigest()

    res = _cli("download", "vg250", "--base-url", base, "--sha256", digest, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    path = Path("data") / "raw" / VG250
    assert res.stdout == f"wrote {path}: 307,200 bytes, sha256 {digest}\n"
    assert (tmp_path / path).read_bytes() == PAYLOAD
    assert json.loads((tmp_path / f"{path}.download.json").read_text())["sha256"] == digest

    res = _cli("download", "--list", cwd=tmp_path)
    assert res.returncode == 0
    assert "geofabrik:REGION  OpenStreetMap-Auszug von Geofabrik" in res.stdout
    assert "INOFFIZIELLER SPIEGEL" in res.stdout
    assert "Offizielle Seite: https://www.zensus2022.de/DE/Ergebnisse-des-Zensus/" \
           "gitterzellen.html" in res.stdout

    res = _cli("download", "vg2500", cwd=tmp_path)
    assert res.returncode == 2
    assert res.stdout == ""
    assert res.stderr == (
        "kurszugang: error: unknown source 'vg2500'; known sources: vg250, vg250-ew, "
        "zensus2022-100m, zensus2022-auslaender, zensus2011-100m, delfi-gtfs, "
        "geofabrik:REGION (kurszugang download --list)\n")
    assert len(state.requests) == 1  # only the first command reached the server
