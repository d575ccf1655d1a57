"""Download the official open data sources into ``data/raw/``: with progress, resume and checksums.

Nothing here touches the network until :func:`download` is called. The catalogue of sources
(:data:`SOURCES`) names each source's download address, official page and licence; the same table
is in ``docs/downloads.md``.

A download streams to ``<file>.part`` (with a small ``<file>.part.json`` holding the address,
the server's ETag / Last-Modified and the size), resumes an interrupted ``.part`` with an HTTP
``Range`` request only onto the same version of the file (``If-Range`` with the server's
validator; a server that names no version means starting again from zero), checks the checksum,
and only then renames the file to its final name. Without network (the host name cannot be
resolved) it stops at once with one German line naming the address to fetch by hand and the
folder to put the file in. Beside the final
file it writes ``<file>.sha256`` (``sha256sum`` format) and ``<file>.download.json`` (source,
address, date, size, checksums), which a run records as the data version.

Examples
--------
>>> from kurszugang.io.download import download, resolve_source
>>> # needs the internet
>>> result = download("geofabrik:oberbayern")  # doctest: +SKIP
>>> result.path, result.bytes  # doctest: +SKIP
(PosixPath('data/raw/oberbayern-latest.osm.pbf'), 712345678)

Where the file would come from and go to is known offline:

>>> resolve_source("geofabrik:oberbayern")[1:]
('https://download.geofabrik.de/europe/germany/bayern/oberbayern-latest.osm.pbf',
 'oberbayern-latest.osm.pbf')
"""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import json
import logging
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from kurszugang.errors import InputError, KurszugangError
from kurszugang.io._report import german_number

__all__ = [
    "GEOFABRIK_REGIONS",
    "SOURCES",
    "DownloadError",
    "DownloadResult",
    "Source",
    "download",
    "format_catalogue",
    "read_download_record",
    "resolve_source",
]

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20  # bytes read and written at a time
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")
_REGION_PATH = re.compile(r"^[a-z0-9-]+(/[a-z0-9-]+)*$")

# Messages (German), in one place.
_MSG = {
    "failed": "Herunterladen von {url} fehlgeschlagen: {reason}",
    "offline": "Keine Verbindung: der Name {host} lässt sich nicht auflösen (offline?). Die Datei "
               "{url} von Hand herunterladen und in den Ordner {folder} legen.",
    "tries": "{n} Versuche",
    "tries_one": "1 Versuch",
    "kept": "; die Teildatei {part} bleibt liegen, der nächste Download setzt sie fort",
    "timed_out": "Zeitüberschreitung",
    "login_hint": "; der Server verlangt eine Anmeldung oder verweigert den Zugriff: siehe {page}",
    "moved_hint": "; die Datei ist vielleicht umgezogen: siehe {page}",
    "web_page": "der Server schickte eine Webseite (text/html) statt der Datei; die Adresse ist "
                "vielleicht umgezogen oder verlangt eine Anmeldung: siehe {page}",
    "refused_resume": "der Server lehnte das Fortsetzen ab (HTTP 416); neuer Anfang",
    "wrong_start": "der Server setzte bei Byte {first} statt {start} fort; neuer Anfang",
    "size_changed": "die Datei auf dem Server hat jetzt {new} statt {old} Bytes; neuer Anfang",
    "after_bytes": "{reason} nach {got} Bytes",
    "cut": "die Verbindung brach nach {got} von {total} Bytes ab",
    "too_much": "{got} Bytes empfangen, mehr als die angekündigten {total}; neuer Anfang",
    "retry_log": "Herunterladen von {url} unterbrochen ({reason}); neuer Versuch in {wait} s "
                 "(Versuch {n} von {of})",
    "bad_md5_file": "Prüfsummendatei {url} nicht lesbar: erwartet eine MD5-Summe (32 "
                    "Hexadezimalziffern) am Anfang, gefunden {text!r}",
    "md5_mismatch": "MD5-Prüfsumme stimmt nicht: erwartet {expected} (aus {url}.md5), gefunden "
                    "{found}; der Download wurde gelöscht, bitte erneut versuchen",
    "sha_mismatch": "SHA-256-Prüfsumme stimmt nicht: erwartet {expected}, gefunden {found}; der "
                    "Download wurde gelöscht",
    "bad_sha_option": "--sha256 {value!r} ist keine SHA-256-Prüfsumme (erwartet 64 "
                      "Hexadezimalziffern)",
    "bad_limits": "retries muss >= 0 und timeout > 0 sein (erhalten: {retries}, {timeout})",
    "unknown_source": "unbekannte Quelle {source!r}; bekannte Quellen: {known} (kurszugang "
                      "download --list)",
    "two_regions": "zwei Regionen angegeben: {inline!r} in {source!r} und --region {region!r}; "
                   "bitte nur eine",
    "needs_region": "Quelle {key!r} braucht eine Region, z. B. {key}:oberbayern; bekannte "
                    "Regionen: {regions} (oder ein Geofabrik-Pfad wie europe/austria)",
    "unknown_region": "unbekannte Geofabrik-Region {region!r}; bekannte Regionen: {regions} (oder "
                      "ein Geofabrik-Pfad wie europe/austria)",
    "no_regions": "Quelle {key!r} hat keine Regionen (nur {with_regions}); {region!r} weglassen",
    "bad_base_url": "--base-url {value!r} ist keine http(s)-Adresse eines Ordners, z. B. "
                    "http://127.0.0.1:8000/data",
    "bad_record": "ist kein gültiges JSON ({reason})",
    "record_not_object": "ist kein JSON-Objekt",
}


class DownloadError(KurszugangError):
    """A download that failed: the server could not be reached or refused the file.

    The message (German) names the address and the reason, e.g.
    ``"Herunterladen von https://... fehlgeschlagen: HTTP 404 Not Found; ..."``; without network
    it names the address to fetch by hand and the folder to put the file in.
    """


@dataclass(frozen=True)
class Source:
    """One downloadable source of the catalogue.

    Attributes
    ----------
    key
        Name on the command line, e.g. ``"vg250"`` or ``"geofabrik"``.
    title
        German title.
    url
        Download address; for sources with a region it holds ``{path}`` (the Geofabrik path
        below ``download.geofabrik.de``, without ``-latest.osm.pbf``).
    file_name
        Name of the file in the output folder; ``{name}`` is the region's last path part.
    licence
        Licence of the data.
    credit
        Credit line to show wherever the data or results from it are shown.
    page
        The official page that describes the data and links the download; ``{path}`` as in
        ``url``.
    checksum
        ``"md5-file"`` (the server publishes ``<file>.md5`` beside the file, verified) or
        ``"sha256"`` (no published checksum: SHA-256 verified when given, always recorded).
    official
        False for a mirror run by third parties (the note says whose).
    note
        What a user should know (login needed, address not verified, mirror, contents).
    """

    key: str
    title: str
    url: str
    file_name: str
    licence: str
    credit: str
    page: str
    checksum: str = "sha256"
    official: bool = True
    note: str = ""

    @property
    def needs_region(self) -> bool:
        """Whether the source needs a region (``geofabrik:REGION``)."""
        return "{path}" in self.url


_BKG_CREDIT = "© GeoBasis-DE / BKG (Jahr des Datenstands)"
_DLDE = "Datenlizenz Deutschland – Namensnennung – 2.0 (dl-de/by-2-0)"
_ZENSUS_CREDIT = "© Statistische Ämter des Bundes und der Länder"

#: The catalogue: every source :func:`download` knows, by key.
SOURCES: Mapping[str, Source] = {
    s.key: s
    for s in (
        Source(
            key="vg250",
            title="BKG Verwaltungsgebiete 1:250 000 (VG250), Ebenen, Stand 31.12., GeoPackage "
                  "(EPSG:25832)",
            url="https://daten.gdz.bkg.bund.de/produkte/vg/vg250_ebenen_1231/aktuell/"
                "vg250_12-31.utm32s.gpkg.ebenen.zip",
            file_name="vg250_12-31.utm32s.gpkg.ebenen.zip",
            licence=_DLDE,
            credit=_BKG_CREDIT,
            page="https://gdz.bkg.bund.de/index.php/default/digitale-geodaten/verwaltungsgebiete/"
                 "verwaltungsgebiete-1-250-000-stand-31-12-vg250-31-12.html",
            note="jüngster Jahrgang ('aktuell'); einen bestimmten Jahrgang mit --base-url "
                 "https://daten.gdz.bkg.bund.de/produkte/vg/vg250_ebenen_1231/2024",
        ),
        Source(
            key="vg250-ew",
            title="BKG Verwaltungsgebiete 1:250 000 mit Einwohnerzahlen (VG250-EW), Ebenen, "
                  "Stand 31.12., GeoPackage (EPSG:25832)",
            url="https://daten.gdz.bkg.bund.de/produkte/vg/vg250-ew_ebenen_1231/aktuell/"
                "vg250-ew_12-31.utm32s.gpkg.ebenen.zip",
            file_name="vg250-ew_12-31.utm32s.gpkg.ebenen.zip",
            licence=_DLDE,
            credit=_BKG_CREDIT,
            page="https://gdz.bkg.bund.de/index.php/default/digitale-geodaten/verwaltungsgebiete/"
                 "verwaltungsgebiete-1-250-000-mit-einwohnerzahlen-stand-31-12-vg250-ew-31-12.html",
            note="jüngster Jahrgang ('aktuell'); Einwohnerzahlen erscheinen erst im Herbst des "
                 "Folgejahres",
        ),
        Source(
            key="zensus2022-100m",
            title="Zensus 2022: Bevölkerungszahl in Gitterzellen (100 m, 1 km, 10 km; CSV, "
                  "EPSG:3035)",
            url="https://www.destatis.de/static/DE/zensus/gitterdaten/"
                "Zensus2022_Bevoelkerungszahl.zip",
            file_name="Zensus2022_Bevoelkerungszahl.zip",
            licence=_DLDE,
            credit=f"{_ZENSUS_CREDIT}, Zensus 2022",
            page="https://www.zensus2022.de/DE/Ergebnisse-des-Zensus/gitterzellen.html",
        ),
        Source(
            key="zensus2022-auslaender",
            title="Zensus 2022: Ausländeranteil in Gitterzellen (100 m, 1 km, 10 km; CSV, "
                  "EPSG:3035)",
            url="https://www.destatis.de/static/DE/zensus/gitterdaten/"
                "Auslaenderanteil_in_Gitterzellen.zip",
            file_name="Auslaenderanteil_in_Gitterzellen.zip",
            licence=_DLDE,
            credit=f"{_ZENSUS_CREDIT}, Zensus 2022",
            page="https://www.zensus2022.de/DE/Ergebnisse-des-Zensus/gitterzellen.html",
            note="Anteil in %, zusammen mit zensus2022-100m ergibt er die Zahl der Ausländer",
        ),
        Source(
            key="zensus2011-100m",
            title="Zensus 2011: Bevölkerung im 100-m-Gitter (CSV, EPSG:3035)",
            url="https://www.zensus2011.de/SharedDocs/Downloads/DE/Pressemitteilung/"
                "DemografischeGrunddaten/csv_Bevoelkerung_100m_Gitter.zip"
                "?__blob=publicationFile&v=3",
            file_name="csv_Bevoelkerung_100m_Gitter.zip",
            licence=_DLDE,
            credit=f"{_ZENSUS_CREDIT}, Zensus 2011",
            page="https://www.zensus2022.de/DE/Was-ist-der-Zensus/"
                 "gitterzellenbasierte_Ergebnisse_Zensus2011.html",
            note="Adresse nicht geprüft: die bisherige Adresse auf zensus2011.de leitet "
                 "möglicherweise nicht mehr auf die Datei; sonst die Datei auf der offiziellen "
                 "Seite holen",
        ),
        Source(
            key="delfi-gtfs",
            title="Deutschlandweite Sollfahrplandaten (GTFS) von DELFI e. V.",
            url="https://scraped.data.public-transport.earth/de/gtfs.zip",
            file_name="delfi_gtfs_deutschland.zip",
            licence="Creative Commons Namensnennung 4.0 (CC BY 4.0)",
            credit="Fahrplandaten: DELFI e. V. (opendata-oepnv.de), CC BY 4.0",
            page="https://www.opendata-oepnv.de/ht/de/organisation/delfi/startseite"
                 "?tx_vrrkit_view%5Bdataset_name%5D=deutschlandweite-sollfahrplandaten-gtfs"
                 "&tx_vrrkit_view%5Baction%5D=details&tx_vrrkit_view%5Bcontroller%5D=View",
            official=False,
            note="INOFFIZIELLER SPIEGEL (Projekt public-transport-data-scraper); das Original "
                 "auf opendata-oepnv.de braucht eine Anmeldung; rund 380 MB gezippt",
        ),
        Source(
            key="geofabrik",
            title="OpenStreetMap-Auszug von Geofabrik (.osm.pbf), Region nach Wahl",
            url="https://download.geofabrik.de/{path}-latest.osm.pbf",
            file_name="{name}-latest.osm.pbf",
            licence="Open Database License 1.0 (ODbL)",
            credit="Kartendaten: © OpenStreetMap-Mitwirkende (ODbL)",
            page="https://download.geofabrik.de/{path}.html",
            checksum="md5-file",
            note="Region angeben: geofabrik:oberbayern (siehe --list)",
        ),
    )
}

_BAYERN_BEZIRKE = ("mittelfranken", "niederbayern", "oberbayern", "oberfranken", "oberpfalz",
                   "schwaben", "unterfranken")
_LAENDER = ("baden-wuerttemberg", "bayern", "berlin", "brandenburg", "bremen", "hamburg", "hessen",
            "mecklenburg-vorpommern", "niedersachsen", "nordrhein-westfalen", "rheinland-pfalz",
            "saarland", "sachsen", "sachsen-anhalt", "schleswig-holstein", "thueringen")
_BW_BEZIRKE = ("freiburg-regbez", "karlsruhe-regbez", "stuttgart-regbez", "tuebingen-regbez")
_NRW_BEZIRKE = ("arnsberg-regbez", "detmold-regbez", "duesseldorf-regbez", "koeln-regbez",
                "muenster-regbez")

#: Geofabrik regions known by name, with their path below https://download.geofabrik.de/.
#: Any other Geofabrik region can be given by its path, e.g. ``europe/austria``.
GEOFABRIK_REGIONS: Mapping[str, str] = {
    "germany": "europe/germany",
    "deutschland": "europe/germany",
    **{land: f"europe/germany/{land}" for land in _LAENDER},
    **{bezirk: f"europe/germany/bayern/{bezirk}" for bezirk in _BAYERN_BEZIRKE},
    **{bezirk: f"europe/germany/baden-wuerttemberg/{bezirk}" for bezirk in _BW_BEZIRKE},
    **{bezirk: f"europe/germany/nordrhein-westfalen/{bezirk}" for bezirk in _NRW_BEZIRKE},
}


@dataclass(frozen=True)
class DownloadResult:
    """What :func:`download` did.

    Attributes
    ----------
    path
        The complete, verified file.
    bytes
        Its size in bytes.
    sha256
        Its SHA-256 (hex).
    resumed
        True if part of the file came from an earlier, interrupted attempt (HTTP ``Range``).
    source
        The source as given, with the region: ``"vg250"``, ``"geofabrik:oberbayern"``.
    url
        The address the file came from.
    reused
        True if the file was already there and matched the expected checksum, so nothing was
        downloaded.
    """

    path: Path
    bytes: int
    sha256: str
    resumed: bool
    source: str
    url: str
    reused: bool = False


@dataclass(frozen=True)
class _Target:
    source: Source
    label: str  # "vg250", "geofabrik:oberbayern"
    url: str
    file_name: str
    page: str


class _Retry(Exception):
    """A failed attempt worth repeating (network trouble, a server error, a cut connection)."""


# --------------------------------------------------------------------------------------------
# catalogue


def _normalise_region(region: str) -> str:
    text = region.strip().lower().replace(" ", "-")
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    return text.strip("/")


def _known_sources() -> str:
    return ", ".join(s.key + (":REGION" if s.needs_region else "") for s in SOURCES.values())


def resolve_source(
    source: str, *, region: str | None = None, base_url: str | None = None
) -> tuple[Source, str, str]:
    """The catalogue entry, the address and the file name for a source name.

    Parameters
    ----------
    source
        A key of :data:`SOURCES`; for Geofabrik with the region after a colon
        (``"geofabrik:oberbayern"``) or given as ``region``.
    region
        Geofabrik region: a name of :data:`GEOFABRIK_REGIONS` (umlauts allowed:
        ``"thüringen"``) or a path below ``download.geofabrik.de`` such as ``"europe/austria"``.
    base_url
        A folder address that replaces the official folder: the file is fetched from
        ``base_url/<name of the file in the official address>`` (a mirror, an older
        BKG Jahrgang, or a local test server).

    Returns
    -------
    tuple of (Source, str, str)
        The entry, the address to fetch and the local file name.

    Raises
    ------
    InputError
        Unknown source (the message lists the known ones), a missing or unknown region, a region
        for a source without regions, or a ``base_url`` that is not an http(s) address.

    Examples
    --------
    >>> _, url, name = resolve_source("geofabrik:oberbayern")
    >>> url
    'https://download.geofabrik.de/europe/germany/bayern/oberbayern-latest.osm.pbf'
    >>> name
    'oberbayern-latest.osm.pbf'
    """
    target = _resolve(source, region=region, base_url=base_url)
    return target.source, target.url, target.file_name


def _resolve(source: str, *, region: str | None, base_url: str | None) -> _Target:
    key, _, inline_region = source.strip().partition(":")
    key = key.lower()
    entry = SOURCES.get(key)
    if entry is None:
        raise InputError(_MSG["unknown_source"].format(source=source, known=_known_sources()))
    if inline_region and region is not None and _normalise_region(inline_region) != \
            _normalise_region(region):
        raise InputError(_MSG["two_regions"].format(inline=inline_region, source=source,
                                                    region=region))
    region = inline_region or region
    if entry.needs_region:
        if not region:
            raise InputError(_MSG["needs_region"].format(key=key,
                                                         regions=", ".join(GEOFABRIK_REGIONS)))
        name = _normalise_region(region)
        path = GEOFABRIK_REGIONS.get(name)
        if path is None:
            if "/" not in name or not _REGION_PATH.match(name):
                raise InputError(_MSG["unknown_region"].format(
                    region=region, regions=", ".join(GEOFABRIK_REGIONS)))
            path = name
        url = entry.url.format(path=path)
        file_name = entry.file_name.format(name=path.rsplit("/", 1)[-1])
        page = entry.page.format(path=path)
        label = f"{key}:{name}"
    else:
        if region:
            raise InputError(_MSG["no_regions"].format(
                key=key, region=region,
                with_regions=", ".join(s.key for s in SOURCES.values() if s.needs_region)))
        url, file_name, page, label = entry.url, entry.file_name, entry.page, key
    if base_url is not None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InputError(_MSG["bad_base_url"].format(value=base_url))
        remote_name = urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1]
        url = f"{base_url.rstrip('/')}/{remote_name}"
    return _Target(entry, label, url, file_name, page)


def format_catalogue() -> str:
    """The catalogue as text for ``kurszugang download --list`` (German).

    Returns
    -------
    str
        One block per source: key, title, address, official page, licence and credit, checksum,
        note; then the known Geofabrik regions.

    Examples
    --------
    >>> print(format_catalogue().splitlines()[0])
    Bekannte Quellen (kurszugang download QUELLE):
    """
    lines = ["Bekannte Quellen (kurszugang download QUELLE):", ""]
    for s in SOURCES.values():
        key = s.key + (":REGION" if s.needs_region else "")
        lines.append(f"{key}  {s.title}")
        lines.append(f"    Adresse: {s.url}" + ("" if s.official else "  (INOFFIZIELLER SPIEGEL)"))
        lines.append(f"    Offizielle Seite: {s.page}")
        lines.append(f"    Lizenz: {s.licence}; Quellenvermerk: {s.credit}")
        check = ("MD5-Datei des Servers (geprüft)" if s.checksum == "md5-file"
                 else "SHA-256 (mit --sha256 geprüft, sonst aufgezeichnet)")
        lines.append(f"    Prüfsumme: {check}")
        if s.note:
            lines.append(f"    Hinweis: {s.note}")
        lines.append("")
    lines.append("Geofabrik-Regionen: " + ", ".join(GEOFABRIK_REGIONS)
                 + " (oder ein Pfad wie europe/austria)")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# HTTP


def _user_agent() -> str:
    from kurszugang import __version__

    return f"kurszugang/{__version__} (Python urllib)"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        if isinstance(exc.reason, TimeoutError):
            return _MSG["timed_out"]
        return str(exc.reason)
    if isinstance(exc, TimeoutError):
        return _MSG["timed_out"]
    return str(exc) or type(exc).__name__


def _is_offline(exc: BaseException) -> bool:
    """Whether a failed request failed because the host name could not be resolved."""
    return isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, socket.gaierror)


def _offline_error(url: str, folder: Path) -> DownloadError:
    host = urllib.parse.urlsplit(url).hostname or url
    return DownloadError(_MSG["offline"].format(host=host, url=url, folder=folder))


def _tries(n: int) -> str:
    return _MSG["tries_one"] if n == 1 else _MSG["tries"].format(n=n)


def _http_error(url: str, exc: urllib.error.HTTPError, page: str) -> DownloadError:
    hint = ""
    if exc.code in (401, 403):
        hint = _MSG["login_hint"].format(page=page)
    elif exc.code in (404, 410):
        hint = _MSG["moved_hint"].format(page=page)
    return DownloadError(_MSG["failed"].format(url=url, reason=f"HTTP {exc.code} {exc.reason}")
                         + hint)


def _is_web_page(resp: Any, file_name: str) -> bool:
    ctype = (resp.headers.get("Content-Type") or "").lower()
    return ctype.startswith("text/html") and not file_name.lower().endswith((".html", ".htm"))


def _fetch_small(url: str, target: _Target, folder: Path, *, timeout: float, retries: int,
                 backoff_s: float) -> bytes:
    """A small file (a checksum file) read whole, with the same retries as a download."""
    for attempt in range(retries + 1):
        try:
            req = urllib.request.Request(url, headers={"User-Agent": _user_agent()})
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return bytes(resp.read(1 << 16))
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code < 500 and exc.code not in (408, 429):
                raise _http_error(url, exc, target.page) from None
            reason = f"HTTP {exc.code} {exc.reason}"
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            if _is_offline(exc):  # no name resolution: repeating does not help
                raise _offline_error(target.url, folder) from None
            reason = _reason(exc)
        if attempt < retries:
            time.sleep(backoff_s * 2 ** attempt)
    raise DownloadError(_MSG["failed"].format(url=url, reason=reason)
                        + f" ({_tries(retries + 1)})")


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """(first byte, total size) of a ``Content-Range`` header; None where absent or ``*``."""
    m = re.match(r"^\s*bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)\s*$", value or "")
    if not m:
        return None, None
    first = int(m.group(1)) if m.group(1) is not None else None
    total = int(m.group(2)) if m.group(2) != "*" else None
    return first, total


class _Hashes:
    def __init__(self) -> None:
        self.sha256 = hashlib.sha256()
        self.md5 = hashlib.md5(usedforsecurity=False)

    def update(self, chunk: bytes) -> None:
        self.sha256.update(chunk)
        self.md5.update(chunk)

    @classmethod
    def of_file(cls, path: Path) -> _Hashes:
        hashes = cls()
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                hashes.update(chunk)
        return hashes


def _remove(*paths: Path) -> None:
    for p in paths:
        p.unlink(missing_ok=True)


def _part_meta(meta_path: Path) -> dict[str, Any]:
    try:
        data = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _validator(meta: Mapping[str, Any]) -> str | None:
    """The validator to resume with: a strong ETag, else Last-Modified, else None.

    ``If-Range`` needs a strong validator; a weak ETag (``W/"..."``) cannot prove that the
    bytes on the server are the bytes already received.
    """
    etag = meta.get("etag")
    if isinstance(etag, str) and etag and not etag.startswith("W/"):
        return etag
    modified = meta.get("last_modified")
    return modified if isinstance(modified, str) and modified else None


def _resume_point(url: str, part: Path, meta_path: Path) -> tuple[int, dict[str, Any]]:
    """Bytes of ``part`` that may be resumed (0 = start again) and the record of its version.

    Only a partial file of the same address whose server named its version (ETag or
    Last-Modified) is resumed; any other is deleted, since the file may have changed.
    """
    start = part.stat().st_size if part.exists() else 0
    meta = _part_meta(meta_path)
    if not start:
        return 0, meta
    if meta.get("url") != url:
        logger.info("%s: die angefangene Datei kam von einer anderen Adresse; neuer Beginn",
                    part.name)
    elif _validator(meta) is None:
        logger.info("%s: der Server nannte keine Version (ETag/Last-Modified) der Datei; sie "
                    "wird von vorn geladen statt fortgesetzt", part.name)
    else:
        return start, meta
    _remove(part, meta_path)
    return 0, {}


def _open(target: _Target, part: Path, meta_path: Path, start: int, meta: dict[str, Any],
          timeout: float) -> tuple[Any, bool | _Hashes]:
    """The response to the request for the rest of ``part``, or (None, hashes) if complete."""
    headers = {"User-Agent": _user_agent()}
    if start:
        headers["Range"] = f"bytes={start}-"
        # the server answers 200 (whole file) instead of 206 if the file changed meanwhile
        headers["If-Range"] = str(_validator(meta))
    try:
        return urllib.request.urlopen(urllib.request.Request(target.url, headers=headers),
                                      timeout=timeout), False
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and start:
            _, total = _content_range(exc.headers.get("Content-Range"))
            if total == start and total == meta.get("size"):  # the part file is complete
                return None, _Hashes.of_file(part)
            _remove(part, meta_path)
            raise _Retry(_MSG["refused_resume"]) from None
        if exc.code >= 500 or exc.code in (408, 429):
            raise _Retry(f"HTTP {exc.code} {exc.reason}") from None
        raise _http_error(target.url, exc, target.page) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        if _is_offline(exc):  # no name resolution: repeating does not help
            raise _offline_error(target.url, part.parent) from None
        raise _Retry(_reason(exc)) from None


def _attempt(
    target: _Target, part: Path, meta_path: Path, *, timeout: float, progress: bool
) -> tuple[_Hashes, bool]:
    """One request: fetch the rest of ``part`` (or all of it). Returns (hashes, resumed).

    Raises ``_Retry`` for anything worth another attempt and ``DownloadError`` otherwise.
    """
    start, meta = _resume_point(target.url, part, meta_path)
    resp, done = _open(target, part, meta_path, start, meta, timeout)
    if resp is None:
        assert isinstance(done, _Hashes)
        return done, True
    with resp:
        if _is_web_page(resp, target.file_name):
            raise DownloadError(_MSG["failed"].format(url=target.url, reason=_MSG["web_page"]
                                                      .format(page=target.page)))
        start, total, resumed = _accept(resp, target, part, meta_path, start, meta)
        hashes = _Hashes.of_file(part) if resumed else _Hashes()
        received = _stream(resp, part, hashes, start, total, target.file_name, progress)
    if total is not None and received < total:
        raise _Retry(_MSG["cut"].format(got=german_number(received), total=german_number(total)))
    if total is not None and received > total:
        _remove(part, meta_path)
        raise _Retry(_MSG["too_much"].format(got=german_number(received),
                                             total=german_number(total)))
    return hashes, resumed


def _accept(resp: Any, target: _Target, part: Path, meta_path: Path, start: int,
            meta: dict[str, Any]) -> tuple[int, int | None, bool]:
    """Where the answer starts, the file's size and whether it resumes ``part``.

    A 206 must continue exactly at ``start`` and announce the size recorded when the file was
    first requested; a 200 is the whole file, whose version and size are recorded anew.
    """
    if start and resp.status == 206:
        first, total = _content_range(resp.headers.get("Content-Range"))
        if first != start:
            _remove(part, meta_path)
            raise _Retry(_MSG["wrong_start"].format(first=first, start=start))
        if meta.get("size") is not None and total != meta.get("size"):
            _remove(part, meta_path)
            raise _Retry(_MSG["size_changed"].format(old=meta.get("size"), new=total))
        return start, total, True
    if start:
        logger.info("%s: der Server schickte die ganze Datei statt des Rests (HTTP %s); sie "
                    "wird von vorn geladen", target.file_name, resp.status)
    length = resp.headers.get("Content-Length")
    total = int(length) if length and length.isdigit() else None
    record = {"url": target.url, "etag": resp.headers.get("ETag"),
              "last_modified": resp.headers.get("Last-Modified"), "size": total}
    meta_path.write_text(json.dumps(record), encoding="utf-8")
    part.write_bytes(b"")
    return 0, total, False


def _stream(resp: Any, part: Path, hashes: _Hashes, start: int, total: int | None, name: str,
            progress: bool) -> int:
    """Append the answer's body to ``part``; returns the bytes ``part`` holds then."""
    received = start
    try:
        with part.open("ab") as fh, tqdm(
            total=total, initial=start, unit="B", unit_scale=True, unit_divisor=1024,
            desc=name, disable=not progress, leave=False,
        ) as bar:
            while chunk := resp.read(_CHUNK):
                fh.write(chunk)
                hashes.update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise _Retry(_MSG["after_bytes"].format(reason=_reason(exc),
                                                got=german_number(received))) from None
    return received


def _fetch(
    target: _Target, part: Path, meta_path: Path, *, timeout: float, retries: int,
    backoff_s: float, progress: bool,
) -> tuple[_Hashes, bool]:
    """Fetch into ``part`` with up to ``retries`` repeated attempts, each resuming the last."""
    reason = ""
    for attempt in range(retries + 1):
        try:
            # a repeated attempt resumes what the failed one left in `part`
            return _attempt(target, part, meta_path, timeout=timeout, progress=progress)
        except _Retry as exc:
            reason = str(exc)
            if attempt < retries:
                wait = backoff_s * 2 ** attempt
                logger.warning(_MSG["retry_log"].format(url=target.url, reason=reason,
                                                        wait=german_number(round(wait, 1)),
                                                        n=attempt + 2, of=retries + 1))
                time.sleep(wait)
    resumable = part.exists() and part.stat().st_size and _validator(_part_meta(meta_path))
    if part.exists() and not resumable:
        _remove(part, meta_path)  # no version to resume onto: the next download starts anew
    kept = _MSG["kept"].format(part=part) if resumable else ""
    raise DownloadError(_MSG["failed"].format(url=target.url, reason=reason)
                        + f" ({_tries(retries + 1)}){kept}")


# --------------------------------------------------------------------------------------------
# public


def _expected_md5(target: _Target, folder: Path, *, timeout: float, retries: int,
                  backoff_s: float) -> str:
    md5_url = target.url + ".md5"
    text = _fetch_small(md5_url, target, folder, timeout=timeout, retries=retries,
                        backoff_s=backoff_s).decode("ascii", errors="replace")
    token = text.split()[0] if text.split() else ""
    if not _HEX32.match(token):
        raise DownloadError(_MSG["bad_md5_file"].format(url=md5_url, text=text[:40]))
    return token.lower()


def _write_records(target: _Target, path: Path, size: int, sha256: str,
                   md5: str | None) -> None:
    (path.parent / f"{path.name}.sha256").write_text(f"{sha256}  {path.name}\n",
                                                     encoding="utf-8")
    record = {
        "source": target.label,
        "title": target.source.title,
        "url": target.url,
        "official_page": target.page,
        "official": target.source.official,
        "licence": target.source.licence,
        "credit": target.source.credit,
        "file": path.name,
        "downloaded_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "bytes": size,
        "sha256": sha256,
        "md5": md5,
    }
    (path.parent / f"{path.name}.download.json").write_text(
        json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_download_record(path: str | Path) -> dict[str, Any] | None:
    """The record :func:`download` wrote beside a file (``<file>.download.json``), if any.

    Parameters
    ----------
    path
        The downloaded file (not the record).

    Returns
    -------
    dict or None
        Keys ``source``, ``title``, ``url``, ``official_page``, ``official``, ``licence``,
        ``credit``, ``file``, ``downloaded_at`` (ISO 8601, UTC), ``bytes``, ``sha256``, ``md5``
        (None unless the server published one); None if the file has no record.

    Raises
    ------
    InputFormatError
        The record exists but is not valid JSON.

    Examples
    --------
    >>> read_download_record("data/raw/oberbayern-latest.osm.pbf") is None  # no such record
    True

    A file already in place that matches ``expected_sha256`` is kept (offline) and gets its
    record:

    >>> Path("data/raw").mkdir(parents=True)
    >>> _ = Path("data/raw/vg250_12-31.utm32s.gpkg.ebenen.zip").write_bytes(b"test")
    >>> sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    >>> r = download("vg250", expected_sha256=sha, progress=False)
    >>> record = read_download_record(r.path)
    >>> record["sha256"] == sha, record["bytes"], record["source"]
    (True, 4, 'vg250')
    """
    from kurszugang.errors import InputFormatError

    path = Path(path)
    record_path = path.parent / f"{path.name}.download.json"
    if not record_path.exists():
        return None
    try:
        data = json.loads(record_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InputFormatError(_MSG["bad_record"].format(reason=exc), path=record_path) from None
    if not isinstance(data, dict):
        raise InputFormatError(_MSG["record_not_object"], path=record_path)
    return data


def download(
    source: str,
    *,
    out_dir: str | Path = "data/raw",
    region: str | None = None,
    base_url: str | None = None,
    expected_sha256: str | None = None,
    progress: bool = True,
    timeout: float = 60,
    retries: int = 3,
    backoff_s: float = 2.0,
) -> DownloadResult:
    """Download one source of the catalogue into ``out_dir``, resuming and verifying it.

    The file is streamed to ``<file>.part``; an interrupted ``.part`` (from an earlier run or a
    failed attempt) is resumed with an HTTP ``Range`` request and ``If-Range`` (the server's
    ETag or Last-Modified), so only onto the same version of the file; it is started again from
    zero when the server named no version, sends the whole file (HTTP 200: the file changed) or
    announces another size than before. Only a complete file whose
    checksum matches is renamed to its final name; beside it go ``<file>.sha256`` and
    ``<file>.download.json`` (see :func:`read_download_record`). A file already in place that
    matches the expected checksum (``expected_sha256``, or Geofabrik's ``.md5``) is kept
    without downloading.

    Parameters
    ----------
    source
        A key of :data:`SOURCES` (``"vg250"``, ``"vg250-ew"``, ``"zensus2022-100m"``,
        ``"zensus2022-auslaender"``, ``"zensus2011-100m"``, ``"delfi-gtfs"``) or
        ``"geofabrik:REGION"``.
    out_dir
        Folder for the file (created if missing). Default ``data/raw`` in the current folder.
    region
        Geofabrik region, instead of ``geofabrik:REGION`` (see :func:`resolve_source`).
    base_url
        Folder address replacing the official folder (a mirror, an older Jahrgang, a test
        server); the file keeps the name it has in the official address.
    expected_sha256
        SHA-256 (64 hex digits) the file must have. Without it the SHA-256 is recorded, and
        Geofabrik files are checked against the ``.md5`` published beside them.
    progress
        Show a progress bar (tqdm, on standard error).
    timeout
        Seconds to wait for the server to answer or send more data.
    retries
        Further attempts after a network error, a server error (5xx) or a cut connection; each
        resumes what the last one left.
    backoff_s
        Seconds before the first repeated attempt; doubled for each further one.

    Returns
    -------
    DownloadResult
        Path, size, SHA-256, whether it was resumed or reused, the source and the address.

    Raises
    ------
    InputError
        Unknown source or region, a malformed ``expected_sha256`` or ``base_url``, or a checksum
        that does not match (the message names the file and both checksums; the partial file is
        deleted and no final file is written).
    DownloadError
        The server could not be reached or refused the file (the message names the address and
        the reason), after ``retries`` further attempts where repeating can help; at once,
        without repeating, when the host name cannot be resolved (offline).

    Examples
    --------
    >>> # needs the internet
    >>> r = download("vg250", out_dir="data/raw")  # doctest: +SKIP
    >>> r.path.name, r.resumed  # doctest: +SKIP
    ('vg250_12-31.utm32s.gpkg.ebenen.zip', False)
    >>> # needs the internet
    >>> download("geofabrik", region="oberbayern", progress=False)  # doctest: +SKIP

    Offline, a file already in place is kept when it matches ``expected_sha256``:

    >>> import hashlib
    >>> Path("data/raw").mkdir(parents=True)
    >>> _ = Path("data/raw/vg250_12-31.utm32s.gpkg.ebenen.zip").write_bytes(b"test")
    >>> r = download("vg250", expected_sha256=hashlib.sha256(b"test").hexdigest())
    >>> r.path, r.bytes, r.reused
    (PosixPath('data/raw/vg250_12-31.utm32s.gpkg.ebenen.zip'), 4, True)
    """
    target = _resolve(source, region=region, base_url=base_url)
    if expected_sha256 is not None:
        if not _HEX64.match(expected_sha256.strip()):
            raise InputError(_MSG["bad_sha_option"].format(value=expected_sha256))
        expected_sha256 = expected_sha256.strip().lower()
    if retries < 0 or timeout <= 0:
        raise InputError(_MSG["bad_limits"].format(retries=retries, timeout=timeout))

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    final = out / target.file_name
    part = out / f"{target.file_name}.part"
    meta_path = out / f"{target.file_name}.part.json"

    expected_md5 = None
    if target.source.checksum == "md5-file":
        expected_md5 = _expected_md5(target, out, timeout=timeout, retries=retries,
                                     backoff_s=backoff_s)

    if final.exists() and (expected_sha256 or expected_md5):
        have = _Hashes.of_file(final)
        if (expected_sha256 is None or have.sha256.hexdigest() == expected_sha256) and \
                (expected_md5 is None or have.md5.hexdigest() == expected_md5):
            size = final.stat().st_size
            logger.info("%s ist schon da und passt zu seiner Prüfsumme; nicht noch einmal "
                        "heruntergeladen", final)
            if not (out / f"{final.name}.download.json").exists():
                _write_records(target, final, size, have.sha256.hexdigest(), expected_md5)
            return DownloadResult(final, size, have.sha256.hexdigest(), False, target.label,
                                  target.url, reused=True)

    logger.info("%s wird von %s heruntergeladen", target.file_name, target.url)
    hashes, resumed = _fetch(target, part, meta_path, timeout=timeout, retries=retries,
                             backoff_s=backoff_s, progress=progress)
    sha256 = hashes.sha256.hexdigest()
    md5 = hashes.md5.hexdigest()

    if expected_md5 is not None and md5 != expected_md5:
        # Geofabrik may have published a new extract while we downloaded: ask once more
        again = _expected_md5(target, out, timeout=timeout, retries=retries,
                              backoff_s=backoff_s)
        if md5 != again:
            _remove(part, meta_path)
            raise InputError(_MSG["md5_mismatch"].format(expected=again, url=target.url,
                                                         found=md5), path=final.name)
        expected_md5 = again
    if expected_sha256 is not None and sha256 != expected_sha256:
        _remove(part, meta_path)
        raise InputError(_MSG["sha_mismatch"].format(expected=expected_sha256, found=sha256),
                         path=final.name)

    os.replace(part, final)
    _remove(meta_path)
    size = final.stat().st_size
    _write_records(target, final, size, sha256, expected_md5)
    logger.info("%s heruntergeladen: %s Bytes, sha256 %s%s", final, german_number(size),
                sha256, " (fortgesetzt)" if resumed else "")
    return DownloadResult(final, size, sha256, resumed, target.label, target.url)
