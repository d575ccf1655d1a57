"""Column helpers that keep pandas' Arrow-backed strings in Arrow (pandas loops over them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def isin(values: pd.Series,
         known: pd.Series | pd.Index | np.ndarray | Sequence[Any]) -> np.ndarray:
    """``values.isin(known)`` as a bool array, hashed in Arrow (pandas loops over Arrow strings)."""
    if not isinstance(values.dtype, pd.StringDtype):
        return values.isin(known).to_numpy(bool)
    if isinstance(known, pd.Series | pd.Index) and isinstance(known.dtype, pd.StringDtype):
        pool = pa.array(known.array)
    else:
        pool = pa.array(np.asarray(known, dtype=object), type=pa.string(), from_pandas=True)
    if isinstance(pool, pa.ChunkedArray):
        pool = pool.combine_chunks()
    found = pc.is_in(pa.array(values.array), value_set=pool, skip_nulls=True)
    return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)
