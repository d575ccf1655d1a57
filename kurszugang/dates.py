"""Dates and clock times as users type them, parsed in one place.

Every date a user types (command line, config, course lists) may be ISO (``2026-03-10``) or
German (``10.03.2026``, ``10.3.2026``); clock times are ``HH:MM`` or ``HH:MM:SS``.
"""

from __future__ import annotations

import datetime as dt
import numbers
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DATE_FORMS", "parse_clock", "parse_date", "parse_date_series"]

#: The forms a date may take, for messages.
DATE_FORMS = "JJJJ-MM-TT oder TT.MM.JJJJ"
_GERMAN = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]00:00(?::00)?)?$")


def parse_date(value: object) -> dt.date:
    """A date from a ``date``, a ``datetime`` or text in ISO or German form.

    Raises
    ------
    ValueError
        If the value is not a date; the message names the forms accepted (callers add the
        file and the setting).

    Examples
    --------
    >>> parse_date("10.03.2026")
    datetime.date(2026, 3, 10)
    >>> parse_date("2026-03-10")
    datetime.date(2026, 3, 10)
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"{value!r} ist kein Datum (erwartet {DATE_FORMS})")
    text = value.strip()
    m = _ISO.match(text)
    g = _GERMAN.match(text)
    try:
        if m:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if g:
            return dt.date(int(g.group(3)), int(g.group(2)), int(g.group(1)))
    except ValueError:
        pass
    raise ValueError(f"{value!r} ist kein Datum (erwartet {DATE_FORMS})")


def parse_date_series(s: pd.Series) -> pd.Series:
    """Vectorised :func:`parse_date` over text: ``datetime64`` with NaT where not a date."""
    import pandas as pd  # imported here: the command line starts without pandas

    text = s.astype("string").str.strip()
    iso = text.str.extract(_ISO.pattern)
    ger = text.str.extract(_GERMAN.pattern)
    year = iso[0].fillna(ger[2])
    month = iso[1].fillna(ger[1]).str.zfill(2)
    day = iso[2].fillna(ger[0]).str.zfill(2)
    return pd.to_datetime(year + "-" + month + "-" + day, format="%Y-%m-%d", errors="coerce")


def parse_clock(value: object) -> int:
    """Seconds after midnight from ``"HH:MM"``, ``"HH:MM:SS"`` or a whole number of seconds.

    Hours may exceed 23 (GTFS service days). Raises ``ValueError`` naming the form expected.

    Examples
    --------
    >>> parse_clock("07:30")
    27000
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} ist keine Uhrzeit (erwartet HH:MM, z. B. 07:30)")
    if isinstance(value, numbers.Integral):
        if value < 0:
            raise ValueError(f"{value!r} ist keine Uhrzeit (Sekunden dürfen nicht negativ sein)")
        return int(value)
    parts = str(value).strip().split(":")
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        nums = []
    if len(nums) not in (2, 3) or not all(n >= 0 for n in nums) or nums[1] > 59 or (
            len(nums) == 3 and nums[2] > 59):
        raise ValueError(f"{value!r} ist keine Uhrzeit (erwartet HH:MM, z. B. 07:30)")
    return nums[0] * 3600 + nums[1] * 60 + (nums[2] if len(nums) == 3 else 0)
