"""Turning raw cell values into group and value labels, the same way on every engine.

Every engine (pandas, DuckDB, later Spark and SQL databases) hands back raw
Python or numpy values; :func:`format_label` turns each into the one string
that names it in results, so that ``1``, ``1.0`` and ``numpy.int8(1)`` are all
the group ``"1"`` and a spec's ``reference: 1`` finds it. Missing values
(None, NaN, NaT, pandas.NA) give ``None``.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

UNKNOWN = "unknown"


def is_missing(value: Any) -> bool:
    """True for None, NaN, NaT and pandas.NA."""
    if value is None:
        return True
    try:
        import pandas as pd

        return bool(pd.isna(value)) if np.ndim(value) == 0 else False
    except (TypeError, ValueError):
        return False


def format_label(value: Any) -> str | None:
    """The label of a raw value: integral numbers without a decimal point, others as text."""
    if is_missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return "True" if bool(value) else "False"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating, decimal.Decimal)):
        number = float(value)
        if math.isfinite(number) and number == int(number) and abs(number) < 2**53:
            return str(int(number))
        return repr(number)
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def unknown_label(labels: list[str] | tuple[str, ...]) -> str:
    """The label of the missing-value group: ``unknown``, unless a real group is already called that."""
    label = UNKNOWN
    while label in labels:
        label = f"{label} (missing value)" if label == UNKNOWN else f"{label}*"
    return label


def _factorised(values: "pd.Series | np.ndarray") -> tuple[np.ndarray, list[str | None]]:
    """(code of each value, -1 when missing; label of each distinct value): each distinct value formatted once."""
    import pandas as pd

    codes, uniques = pd.factorize(values if isinstance(values, pd.Series) else pd.Series(values),
                                  use_na_sentinel=True)
    return codes, [format_label(u) for u in uniques]


def label_array(values: "pd.Series | np.ndarray", *, missing: str | None = None) -> np.ndarray:
    """The label (:func:`format_label`) of every value, as an object array; missing values get ``missing``.

    Each distinct value is formatted once (a factorisation, then a lookup), so a million rows with a few
    groups cost one vectorised pass, not a million calls.
    """
    codes, labels = _factorised(values)
    return np.array(labels + [missing], dtype=object)[codes]     # code -1 (missing) picks the last entry


def binary_values(values: "pd.Series", positive: "Sequence[Any] | None") -> np.ndarray:
    """Row by row: 1 where the value is one of ``positive``, 0 where it is another value, -1 where it is missing.

    Values are compared by their labels (:func:`format_label`), so ``1``, ``1.0`` and ``"1"`` match. Without
    ``positive``, the usual spellings of true count as positive (1, True, true, yes).
    """
    codes, labels = _factorised(values)
    wanted = {format_label(v) for v in positive} if positive else {"1", "True", "true", "yes"}
    return np.array([int(label in wanted) for label in labels] + [-1], dtype=np.int64)[codes]
