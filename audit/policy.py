"""Policy rules turned into verdicts: pass, fail or inconclusive, with evidence.

A rule bounds a metric's ratio (group / reference) or difference (group -
reference) to a band. With ``rule: point`` the estimate is compared with the
band; with ``rule: ci`` a group fails only when its whole confidence interval
lies outside the band and passes only when it lies inside. Either way a group
is *inconclusive* when the metric is undefined or when the group or its
reference has fewer than ``min_group_size`` people in the metric's denominator.
"""

from __future__ import annotations

import math
from typing import Any

from audit.spec import PolicyRule

PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"


def _fmt(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3g}"


def _inside(x: float, low: float | None, high: float | None) -> bool:
    return (low is None or x >= low) and (high is None or x <= high)


def judge(rule: PolicyRule, comparison: dict[str, Any], *, min_group_size: int) -> tuple[str, str]:
    """The verdict of one rule for one comparison row, and the reason in words."""
    bound = rule.bound
    low, high = rule.band
    estimate = comparison[bound]
    ci_low, ci_high = comparison[f"{bound}_ci_low"], comparison[f"{bound}_ci_high"]
    n, n_ref = comparison["n"], comparison["reference_n"]
    if n < min_group_size or n_ref < min_group_size:
        who = "group" if n < min_group_size else "reference"
        return INCONCLUSIVE, (f"too few people: {who} n = {min(n, n_ref) if who == 'group' else n_ref} "
                              f"< minimum {min_group_size}")
    if comparison["status"] != "ok" or estimate is None or math.isnan(estimate):
        return INCONCLUSIVE, comparison["reason"] or f"{bound} undefined"
    band = f"[{_fmt(low) if low is not None else '-inf'}, {_fmt(high) if high is not None else 'inf'}]"
    if rule.rule == "point":
        if _inside(estimate, low, high):
            return PASS, f"{bound} {_fmt(estimate)} within {band}"
        return FAIL, f"{bound} {_fmt(estimate)} outside {band}"
    if ci_low is None or ci_high is None or math.isnan(ci_low) or math.isnan(ci_high):
        return INCONCLUSIVE, f"no confidence interval for the {bound}"
    interval = f"{bound} {_fmt(estimate)} (CI {_fmt(ci_low)} to {_fmt(ci_high)})"
    if (high is not None and ci_low > high) or (low is not None and ci_high < low):
        return FAIL, f"{interval} entirely outside {band}"
    if _inside(ci_low, low, high) and _inside(ci_high, low, high):
        return PASS, f"{interval} entirely within {band}"
    return INCONCLUSIVE, f"{interval} overlaps the edge of {band}"


def overall(verdicts: list[str]) -> str:
    """Fail if any rule fails, else inconclusive if any is, else pass (inconclusive when there are none)."""
    if FAIL in verdicts:
        return FAIL
    if INCONCLUSIVE in verdicts or not verdicts:
        return INCONCLUSIVE
    return PASS
