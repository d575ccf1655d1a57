"""Point lists for routing: CSV files with ``id,lon,lat`` (WGS84)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kurszugang.errors import DataValidationError, InputFormatError, Problem

REQUIRED = ("id", "lon", "lat")


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
        numbers or out of range.

    Examples
    --------
    >>> pts = read_points_csv("origins.csv")  # doctest: +SKIP
    >>> list(pts.columns)  # doctest: +SKIP
    ['id', 'lon', 'lat']
    """
    p = Path(path)
    if not p.is_file():
        raise InputFormatError("does not exist (expected a CSV file with columns id,lon,lat)", path=p)
    raw = p.read_bytes()
    if not raw.strip():
        raise InputFormatError("is empty (expected a CSV file with columns id,lon,lat)", path=p)
    try:
        first = raw.decode("utf-8-sig").splitlines()[0]
    except UnicodeDecodeError as exc:
        raise InputFormatError("is not a UTF-8 text file (expected a CSV file with columns "
                               "id,lon,lat)", path=p) from exc
    sep = ";" if first.count(";") > first.count(",") else ","
    df = pd.read_csv(p, sep=sep, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise DataValidationError(
            [Problem("error", p.name, 1, c, f"column is missing (expected columns id,lon,lat; "
                     f"found {','.join(df.columns)})") for c in missing], path=p)
    problems: list[Problem] = []
    line = pd.RangeIndex(2, len(df) + 2)
    ids = df["id"].str.strip()
    for i in line[(ids == "").to_numpy()]:
        problems.append(Problem("error", p.name, int(i), "id", "is empty (expected a unique id)"))
    dup = ids.duplicated() & (ids != "")
    for i, v in zip(line[dup.to_numpy()], ids[dup], strict=True):
        problems.append(Problem("error", p.name, int(i), "id", f"{v!r} occurs more than once"))
    out = pd.DataFrame({"id": ids.astype("string")})
    for col, lim in (("lon", 180.0), ("lat", 90.0)):
        text = df[col].str.strip()
        if sep == ";":
            text = text.str.replace(",", ".", regex=False)
        num = pd.to_numeric(text, errors="coerce")
        bad = num.isna() | (num.abs() > lim)
        for i, v in zip(line[bad.to_numpy()], df[col][bad], strict=True):
            what = "is missing" if not str(v).strip() else (
                f"{v!r} is not a number" if pd.isna(pd.to_numeric(str(v).replace(',', '.'),
                                                                  errors='coerce'))
                else f"{v!r} is out of range")
            problems.append(Problem("error", p.name, int(i), col,
                                    f"{what} (expected WGS84 degrees between -{lim:g} and {lim:g})"))
        out[col] = num.astype("float64")
    if problems:
        problems.sort(key=lambda q: (q.row or 0, q.column or ""))
        raise DataValidationError(problems, path=p)
    return out
