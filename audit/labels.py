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
import re
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

    Values are compared by their labels (:func:`format_label`) with :func:`spec_value_matches`: a text matches
    exactly as written, a number given as such matches the values that read as it (``1`` matches ``"1"`` and
    ``1.0``). Without ``positive``, the usual spellings of true count as positive (1, True, true, yes).
    """
    codes, labels = _factorised(values)
    present = [label for label in labels if label is not None]
    wanted = ({m for v in positive for m in spec_value_matches(v, present)} if positive
              else {"1", "True", "true", "yes"})
    return np.array([int(label in wanted) for label in labels] + [-1], dtype=np.int64)[codes]


def _as_number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def spec_value_matches(value: Any, values: Sequence[str]) -> list[str]:
    """The data values that a value written in a spec names.

    A text names exactly the value written that way (``"01"`` is not ``"1"``, ``"yes"`` is not ``"Yes"``).
    A number or a truth value given as such (by a Python caller, ``1`` or ``True``) names the data values that
    read as that number (``"1"``, ``"1.0"``) or that truth value (``"true"``, ``"True"``, ``"TRUE"``); the
    caller decides what to do when that is more than one (see :func:`resolve_spec_value`).
    """
    if isinstance(value, str):
        return [value] if value in values else []
    return _same_meaning(value, values)


def _same_meaning(value: Any, values: Sequence[str]) -> list[str]:
    """The data values that read as the number or truth value ``value`` (see :func:`spec_value_matches`)."""
    label = format_label(value)
    if label in values:
        return [label]
    if isinstance(value, (bool, np.bool_)):
        return [v for v in values if v.lower() == str(bool(value)).lower()]
    if isinstance(value, (int, float, np.integer, np.floating)):
        return [v for v in values if _as_number(v) == float(value)]
    return []


def _meaning(text: str) -> Any:
    """What a text written in a spec means as a YAML 1.2 scalar: a truth value, a number, or the text itself."""
    if text.strip().lower() in ("true", "false"):
        return text.strip().lower() == "true"
    if re.match(r"\s*[+-]?0\d", text):
        return text                               # a code such as 01 or 007 means itself, not a number
    number = _as_number(text)
    return number if number is not None else text


def resolve_spec_value(value: Any, values: Sequence[str], *, field: str, column: str,
                       notes: list[str] | None = None) -> str | None:
    """The one data value that ``value`` names (:func:`spec_value_matches`), or None when none does.

    A text with no exact match that means a truth value or a number (``"true"``, ``"1.0"``) names the one
    value of a typed column that reads as it (a Parquet boolean's ``True``, a float's ``1``), and the match is
    named in ``notes``; two or more such values are ambiguous, as below.

    Raises
    ------
    DataError
        (``SPEC_VALUE_AMBIGUOUS``) when a number or truth value names several spellings of the column (``1``
        when the data has both ``"1"`` and ``"1.0"``): they are different groups, so the spec must write the
        one it means in quotes, as in the file.
    """
    from audit.errors import DataError, ReasonCode

    found = spec_value_matches(value, values)
    meant = _meaning(value) if isinstance(value, str) and not found else None
    if meant is not None and not isinstance(meant, str):
        found = _same_meaning(meant, values)
        if len(found) == 1 and notes is not None:
            notes.append(f"{field}: '{value}' does not occur as written in column '{column}'; it is read as the "
                         f"value '{found[0]}', which means the same {'truth value' if isinstance(meant, bool) else 'number'}")
    if len(found) > 1:
        spellings = ", ".join(f"'{v}'" for v in found)
        raise DataError(f"{field}: {value!r} could mean any of {spellings} in column '{column}', which are kept "
                        f"apart as written; write the one you mean in quotes, exactly as in the file (for "
                        f"example \"{found[0]}\")", reason=ReasonCode.SPEC_VALUE_AMBIGUOUS)
    return found[0] if found else None


MISSING_LOOKALIKES: frozenset[str] = frozenset({
    "na", "n/a", "n.a.", "nan", "null", "nil", "#n/a", "missing", "-", "--", "?", ".", "undefined"})
"""Texts (compared after trimming and case-folding) that often mean a missing value in exported files.

Not ``none``: it is a real answer in many columns (a disability column's ``none``)."""


def missing_lookalikes(values: Sequence[str]) -> list[str]:
    """The values that look like a missing-value marker (:data:`MISSING_LOOKALIKES`), in their order."""
    return [v for v in values if v.strip().casefold() in MISSING_LOOKALIKES]


def lookalike_note(field: str, column: str, values: Sequence[str], rows: Sequence[float]) -> str | None:
    """A note naming each value of a column that looks like a missing marker, with its rows; None if none."""
    lookalikes = set(missing_lookalikes(values))
    found = [(v, r) for v, r in zip(values, rows) if v in lookalikes]
    if not found:
        return None
    shown = ", ".join(f"'{v}' ({int(r):,} row{'s' if int(r) != 1 else ''})" for v, r in found)
    listing = ", ".join(f"'{v}'" for v, _ in found)
    return (f"{field}: column '{column}' has {shown}, which look{'s' if len(found) == 1 else ''} like a "
            f"missing-value marker but {'is' if len(found) == 1 else 'are'} not declared, so "
            f"{'it is' if len(found) == 1 else 'they are'} kept as written, as a value; if "
            f"{'it means' if len(found) == 1 else 'they mean'} missing, declare data.missing: [{listing}]")
