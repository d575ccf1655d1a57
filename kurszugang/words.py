"""Numbers and counted nouns in German, for every sentence a user reads."""

from __future__ import annotations

import math

__all__ = ["de_number", "plural"]


def de_number(x: float, digits: int = 0) -> str:
    """A number in German notation (``1.234,5``); ``–`` for a missing one.

    Examples
    --------
    >>> de_number(1234.56, 1)
    '1.234,6'
    """
    if not math.isfinite(x):
        return "–"
    text = f"{x:,.{digits}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def plural(n: float, one: str, many: str, *, digits: int = 0) -> str:
    """``"1 Gemeinde"``, ``"0 Gemeinden"``, ``"3 Gemeinden"`` (German number format).

    Examples
    --------
    >>> plural(1, "Gemeinde", "Gemeinden"), plural(2, "Gemeinde", "Gemeinden")
    ('1 Gemeinde', '2 Gemeinden')
    """
    return f"{de_number(n, digits)} {one if n == 1 else many}"
