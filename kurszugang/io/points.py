"""Point lists for routing: CSV files with ``id,lon,lat`` (WGS84). Messages read German."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kurszugang.errors import InputFormatError, Problem
from kurszugang.io._report import GermanProblem, data_error

REQUIRED = ("id", "lon", "lat")

_EXPECTED = "erwartet eine CSV-Datei mit den Spalten id,lon,lat"
# Messages (German), in one place.
_MSG = {
    "missing_file": f"gibt es nicht ({_EXPECTED})",
    "empty_file": f"ist leer ({_EXPECTED})",
    "not_utf8": f"ist keine UTF-8-Textdatei ({_EXPECTED})",
    "missing_column": "fehlt als Spalte (erwartet die Spalten id,lon,lat; gefunden: {found})",
    "empty_id": "ist leer (erwartet eine eindeutige Kennung)",
    "duplicate_id": "{value!r} kommt mehr als einmal vor",
    "missing_value": "fehlt",
    "not_a_number": "{value!r} ist keine Zahl",
    "out_of_range": "{value!r} liegt außerhalb des Wertebereichs",
    "degrees": "{what} (erwartet WGS84-Grad zwischen -{limit} und {limit})",
}


def _coordinate_problem(value: str) -> str:
    text = str(value).strip()
    if not text:
        return _MSG["missing_value"]
    if pd.isna(pd.to_numeric(text.replace(",", "."), errors="coerce")):
        return _MSG["not_a_number"].format(value=value)
    return _MSG["out_of_range"].format(value=value)


def read_points_csv(path: str | Path) -> pd.DataFrame:
    """Read origins or destinations from a CSV file with the columns ``id,lon,lat``.

    The separator (``,`` or ``;``) is detected; a UTF-8 BOM and decimal commas (with ``;``) are
    accepted. Ids are kept as text exactly as written.

    Parameters
    ----------
    path
        The CSV file.

    Returns
    -------
    pandas.DataFrame
        Columns ``id`` (string), ``lon``, ``lat`` (float64, WGS84 degrees), in file order.

    Raises
    ------
    InputFormatError
        If the file is missing or empty.
    DataValidationError
        Listing every bad row: missing columns, empty or duplicate ids, coordinates that are not
        numbers or out of range (German messages naming file, line and column).

    Examples
    --------
    >>> _ = Path("origins.csv").write_text(
    ...     "id;lon;lat\\nRathaus;12,4478;49,3004\\n007;12.3921;49.2706\\n", encoding="utf-8")
    >>> pts = read_points_csv("origins.csv")
    >>> list(pts.columns)
    ['id', 'lon', 'lat']
    >>> pts
            id      lon      lat
    0  Rathaus  12.4478  49.3004
    1      007  12.3921  49.2706
    """
    p = Path(path)
    if not p.is_file():
        raise InputFormatError(_MSG["missing_file"], path=p)
    raw = p.read_bytes()
    if not raw.strip():
        raise InputFormatError(_MSG["empty_file"], path=p)
    try:
        first = raw.decode("utf-8-sig").splitlines()[0]
    except UnicodeDecodeError as exc:
        raise InputFormatError(_MSG["not_utf8"], path=p) from exc
    sep = ";" if first.count(";") > first.count(",") else ","
    df = pd.read_csv(p, sep=sep, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        found = ",".join(df.columns)
        raise data_error([GermanProblem("error", p.name, 1, c, _MSG["missing_column"].format(
            found=found)) for c in missing], path=p)
    problems: list[Problem] = []
    line = pd.RangeIndex(2, len(df) + 2)
    ids = df["id"].str.strip()
    for i in line[(ids == "").to_numpy()]:
        problems.append(GermanProblem("error", p.name, int(i), "id", _MSG["empty_id"]))
    dup = ids.duplicated() & (ids != "")
    for i, v in zip(line[dup.to_numpy()], ids[dup], strict=True):
        problems.append(GermanProblem("error", p.name, int(i), "id",
                                      _MSG["duplicate_id"].format(value=v)))
    out = pd.DataFrame({"id": ids.astype("string")})
    for col, lim in (("lon", 180.0), ("lat", 90.0)):
        text = df[col].str.strip()
        if sep == ";":
            text = text.str.replace(",", ".", regex=False)
        num = pd.to_numeric(text, errors="coerce")
        bad = num.isna() | (num.abs() > lim)
        for i, v in zip(line[bad.to_numpy()], df[col][bad], strict=True):
            message = _MSG["degrees"].format(what=_coordinate_problem(v), limit=f"{lim:g}")
            problems.append(GermanProblem("error", p.name, int(i), col, message))
        out[col] = num.astype("float64")
    if problems:
        problems.sort(key=lambda q: (q.row or 0, q.column or ""))
        raise data_error(problems, path=p)
    return out
