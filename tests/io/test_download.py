"""kurszugang.io.download against a local HTTP server on 127.0.0.1 (never the internet).

The server serves files from a temporary folder, answers ``Range`` requests with 206 and a
``Content-Range`` (or ignores them, when told to), honours ``If-Range`` (a validator that is not
the file's current ETag gets the whole file), sends an ETag or none, can cut the connection once
after N bytes (and then replace the file by a new version) and records every request's path and
headers.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import socket
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
    etag: str | None = '"v1"'  # None: a server that names no version of its files
    replace_after_cut: bytes | None = None  # the file's next version, served after the cut
    next_etag: str | None = '"v2"'  # the ETag of that version (a bad server keeps the old one)
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
            if_range = self.headers.get("If-Range")
            if if_range is not None and if_range != state.etag:
                rng = None  # another version than the client has: the whole file
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
            if state.etag is not None:
                self.send_header("ETag", state.etag)
            self.end_headers()
            if state.cut_after is not None and not file.name.endswith(".md5"):
                cut, state.cut_after = state.cut_after, None
                self.wfile.write(body[:cut])
                self.wfile.flush()
                self.close_connection = True
                if state.replace_after_cut is not None:  # a new version on the server
                    file.write_bytes(state.replace_after_cut)
                    state.replace_after_cut = None
                    state.etag = None if state.etag is None else state.next_etag
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
    assert message == (
        f"Herunterladen von {base}/{VG250} fehlgeschlagen: die Verbindung brach nach 50.000 von "
        f"307.200 Bytes ab (1 Versuch); die Teildatei {tmp_path / (VG250 + '.part')} bleibt "
        "liegen, der nächste Download setzt sie fort")
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
        f"{PBF}: MD5-Prüfsumme stimmt nicht: erwartet {wrong} (aus {base}/{PBF}.md5), "
        f"gefunden {found}; der Download wurde gelöscht, bitte erneut versuchen")
    assert list((tmp_path / "raw").iterdir()) == []  # no final file, no .part, no records


def test_sha256_mismatch_names_both_checksums(server, tmp_path: Path):
    base, state = server
    _serve(state, VG250)
    wrong = "ab" * 32

    with pytest.raises(InputError, match=rf"^{VG250}: SHA-256-Prüfsumme stimmt nicht: "
                                         rf"erwartet {wrong}, gefunden "
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
        f"Herunterladen von {url} fehlgeschlagen: HTTP 404 Not Found; die Datei ist vielleicht "
        "umgezogen: siehe https://www.zensus2022.de/DE/Ergebnisse-des-Zensus/gitterzellen.html")
    assert len(state.requests) == 1


def test_unreachable_server_fails_after_the_retries(tmp_path: Path):
    # a port nobody listens on: bind one, note it, close it
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError, match=rf"Herunterladen von http://127.0.0.1:{port}/"
                                            rf"{VG250} fehlgeschlagen: .*refused.* "
                                            r"\(3 Versuche\)$"):
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
        with pytest.raises(DownloadError, match="der Server schickte eine Webseite "
                                                "\\(text/html\\) statt der Datei"):
            download("zensus2022-100m", out_dir=tmp_path,
                     base_url=f"http://127.0.0.1:{httpd.server_address[1]}", **_fast())
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: resolve_source("vg1000"), "unbekannte Quelle 'vg1000'; bekannte Quellen: vg250, "
                                           "vg250-ew, zensus2022-100m"),
        (lambda: resolve_source("geofabrik:atlantis"), "unbekannte Geofabrik-Region 'atlantis'"),
        (lambda: resolve_source("vg250", region="bayern"), "Quelle 'vg250' hat keine Regionen"),
        (lambda: resolve_source("geofabrik:bayern", region="sachsen"),
         "zwei Regionen angegeben"),
        (lambda: download("vg250", expected_sha256="abc"),
         "--sha256 'abc' ist keine SHA-256-Prüfsumme (erwartet 64 Hexadezimalziffern)"),
        (lambda: resolve_source("vg250", base_url="ftp://x"),
         "ist keine http(s)-Adresse eines Ordners"),
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
    assert res.stdout == f"geschrieben: {path}: 307.200 Bytes, SHA-256 {digest}\n"
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
        "kurszugang: Fehler: unbekannte Quelle 'vg2500'; bekannte Quellen: vg250, vg250-ew, "
        "zensus2022-100m, zensus2022-auslaender, zensus2011-100m, delfi-gtfs, "
        "geofabrik:REGION (kurszugang download --list)\n")
    assert len(state.requests) == 1  # only the first command reached the server


# --------------------------------------------------------------------------------------------
# resume only onto the same file

NEW_VERSION = bytes(reversed(range(256))) * 1300  # 332,800 bytes: another file, another size


def test_server_without_validators_changed_file_comes_whole_not_spliced(server, tmp_path: Path):
    base, state = server
    _serve(state, VG250)
    state.etag = None  # the server names no version (no ETag, no Last-Modified)
    state.cut_after = 100_000
    state.replace_after_cut = NEW_VERSION  # the file changes on the server between attempts

    result = download("vg250", out_dir=tmp_path, base_url=base, **_fast())

    assert result.path.read_bytes() == NEW_VERSION  # not 100,000 old bytes + the new rest
    assert result.sha256 == hashlib.sha256(NEW_VERSION).hexdigest()
    assert (result.bytes, result.resumed) == (len(NEW_VERSION), False)
    assert [h.get("range") for _, h in state.requests] == [None, None]  # no Range: from zero
    assert (tmp_path / f"{VG250}.sha256").read_text() == f"{result.sha256}  {VG250}\n"


def test_without_validators_the_next_run_starts_again_from_zero(server, tmp_path: Path):
    base, state = server
    _serve(state, VG250)
    state.etag = None
    state.cut_after = 60_000
    state.replace_after_cut = NEW_VERSION

    with pytest.raises(DownloadError) as err:
        download("vg250", out_dir=tmp_path, base_url=base, **_fast(retries=0))
    assert str(err.value) == (
        f"Herunterladen von {base}/{VG250} fehlgeschlagen: die Verbindung brach nach 60.000 von "
        "307.200 Bytes ab (1 Versuch)")  # nothing kept that could not be resumed safely
    assert not (tmp_path / f"{VG250}.part").exists()

    result = download("vg250", out_dir=tmp_path, base_url=base, **_fast(retries=0))
    assert result.path.read_bytes() == NEW_VERSION
    assert result.sha256 == hashlib.sha256(NEW_VERSION).hexdigest()
    assert "range" not in state.requests[-1][1]


def test_changed_file_with_a_new_etag_is_fetched_whole(server, tmp_path: Path):
    base, state = server
    _serve(state, VG250)
    state.cut_after = 100_000
    state.replace_after_cut = NEW_VERSION  # served with ETag "v2"

    result = download("vg250", out_dir=tmp_path, base_url=base, **_fast())

    assert state.requests[1][1]["range"] == "bytes=100000-"
    assert state.requests[1][1]["if-range"] == '"v1"'  # only the version already received
    assert (result.resumed, result.path.read_bytes()) == (False, NEW_VERSION)
    assert result.sha256 == hashlib.sha256(NEW_VERSION).hexdigest()


def test_resumed_part_of_another_size_starts_again(server, tmp_path: Path):
    base, state = server
    _serve(state, VG250)
    state.cut_after = 100_000
    state.replace_after_cut = NEW_VERSION
    state.next_etag = '"v1"'  # a bad server: new content under the old ETag, another size

    result = download("vg250", out_dir=tmp_path, base_url=base, **_fast())

    # 206 announced 332,800 bytes where 307,200 were recorded: the part is dropped
    assert [h.get("range") for _, h in state.requests] == [None, "bytes=100000-", None]
    assert result.path.read_bytes() == NEW_VERSION
    assert result.sha256 == hashlib.sha256(NEW_VERSION).hexdigest()


def test_resumed_download_is_checked_against_a_known_checksum(server, tmp_path: Path):
    base, state = server
    _serve(state, VG250)
    state.cut_after = 100_000
    wrong = "cd" * 32

    with pytest.raises(InputError) as err:
        download("vg250", out_dir=tmp_path / "raw", base_url=base, expected_sha256=wrong,
                 **_fast())
    assert str(err.value).startswith(f"{VG250}: SHA-256-Prüfsumme stimmt nicht: erwartet {wrong}")
    assert state.requests[1][1]["range"] == "bytes=100000-"  # it was resumed, then checked
    assert list((tmp_path / "raw").iterdir()) == []


# --------------------------------------------------------------------------------------------
# offline: fail at once with one line naming the address and the folder


def _no_name_resolution(monkeypatch) -> dict[str, int]:
    calls = {"getaddrinfo": 0, "sleep": 0}

    def getaddrinfo(*args, **kwargs):
        calls["getaddrinfo"] += 1
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    def sleep(seconds: float) -> None:
        calls["sleep"] += 1

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr("kurszugang.io.download.time.sleep", sleep)
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.delenv("https_proxy", raising=False)
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    return calls


def test_offline_fails_at_once_naming_the_address_and_the_folder(monkeypatch, tmp_path: Path):
    calls = _no_name_resolution(monkeypatch)
    out = tmp_path / "raw"
    with pytest.raises(DownloadError) as err:
        download("vg250", out_dir=out, **_fast(retries=3))
    url = SOURCES["vg250"].url
    assert str(err.value) == (
        "Keine Verbindung: der Name daten.gdz.bkg.bund.de lässt sich nicht auflösen (offline?). "
        f"Die Datei {url} von Hand herunterladen und in den Ordner {out} legen.")
    assert "\n" not in str(err.value)
    assert calls == {"getaddrinfo": 1, "sleep": 0}  # no four attempts, no waiting
    assert list(out.iterdir()) == []


def test_offline_geofabrik_fails_at_the_checksum_file_naming_the_extract(monkeypatch,
                                                                          tmp_path: Path):
    calls = _no_name_resolution(monkeypatch)
    with pytest.raises(DownloadError) as err:
        download("geofabrik:oberbayern", out_dir=tmp_path, **_fast(retries=3))
    assert str(err.value) == (
        "Keine Verbindung: der Name download.geofabrik.de lässt sich nicht auflösen (offline?). "
        "Die Datei https://download.geofabrik.de/europe/germany/bayern/oberbayern-latest.osm.pbf "
        f"von Hand herunterladen und in den Ordner {tmp_path} legen.")
    assert calls == {"getaddrinfo": 1, "sleep": 0}


def test_cli_download_offline_prints_one_german_line(tmp_path: Path):
    # the child process cannot resolve names: sitecustomize replaces socket.getaddrinfo
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import socket\n"
        "def _fail(*args, **kwargs):\n"
        "    raise socket.gaierror(socket.EAI_NONAME, 'Name or service not known')\n"
        "socket.getaddrinfo = _fail\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")]).strip(os.pathsep)
    res = subprocess.run([sys.executable, "-m", "kurszugang", "download", "delfi-gtfs", "-q"],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env)
    assert res.returncode == 2
    assert res.stdout == ""
    folder = Path("data") / "raw"
    assert res.stderr == (
        "kurszugang: Fehler: Keine Verbindung: der Name scraped.data.public-transport.earth lässt "
        "sich nicht auflösen (offline?). Die Datei "
        f"{SOURCES['delfi-gtfs'].url} von Hand herunterladen und in den Ordner {folder} legen.\n")
