"""Plain-language phrasing of numbers and directions, shared by every renderer."""

from __future__ import annotations

import math
from typing import Any

from audit.metrics import METRICS

SYMBOL = {"pass": "PASS", "fail": "FAIL", "inconclusive": "INCONCLUSIVE"}


def number(value: Any, digits: int = 3) -> str:
    """A number to ``digits`` significant digits, or ``n/a`` for a missing one."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return f"{value:,}"
    return f"{value:.{digits}g}"


def p_value(value: Any) -> str:
    """A p-value to two significant digits; one that underflowed to 0 is ``< 1e-300``, never ``0``.

    Examples
    --------
    >>> p_value(0.0123), p_value(2.6e-163), p_value(0.0), p_value(None)
    ('0.012', '2.6e-163', '< 1e-300', 'n/a')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return "< 1e-300" if float(value) == 0 else number(float(value), 2)


def interval(low: Any, high: Any) -> str:
    """``a to b``, or ``n/a`` when either end is missing."""
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (low, high)):
        return "n/a"
    return f"{number(low)} to {number(high)}"


def direction(disadvantaged: Any, metric: str, adverse: bool) -> str:
    """Who the difference works against, in words (empty when the metric has no direction)."""
    if disadvantaged is None or (isinstance(disadvantaged, float) and math.isnan(disadvantaged)):
        return ""
    if metric in METRICS and METRICS[metric].worse_when(adverse=adverse) is None:
        return ""
    if disadvantaged:
        return "worse for this group" + (" (the decision is adverse)" if adverse else "")
    return "better for this group than the reference"


def decision_sentence(mapping: Any, adverse: bool) -> str:
    """What a positive decision is, and whether it harms the person."""
    values = ", ".join(mapping.positive_values)
    effect = ("a positive decision harms the person (adverse): higher rates of it are a disadvantage"
              if adverse else "a positive decision benefits the person (favourable): lower rates of it are a "
                              "disadvantage")
    return f"positive decision: '{mapping.column}' in {{{values}}}; {effect}"
