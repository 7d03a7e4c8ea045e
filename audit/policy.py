"""Policy rules turned into verdicts: pass, fail or inconclusive, with the reason in words.

A rule bounds a metric's ratio (group / reference) or difference (group -
reference) to a band. Three rules, named for what they claim:

* ``significant`` (the default): the four-fifths rule as enforcement applies
  it (UGESP, 29 CFR 1607.4(D): practical and statistical significance). Fail
  when the estimate is outside the band *and* the family-adjusted test rejects
  equality with the reference; pass when the estimate is inside the band;
  inconclusive when it is outside but not significant.
* ``ci``: the equivalence reading. Pass only when the family-level
  (simultaneous) interval lies inside the band, fail only when it lies
  outside; otherwise inconclusive.
* ``point``: the literal comparison of the estimate with the band, for legal
  calculations such as NYC LL144 impact ratios. Its fail is not statistically
  established, and its reason says so.

``statistics.min_group_size`` guards the evidence that needs it: the ``point``
rule (an estimate alone) and comparisons whose interval and test are only
asymptotic (weighted rates, means, medians, AUC, balanced accuracy and F1).
Rates compared without weights are decided by exact evidence (Fisher's exact
test, exact intervals) at any size. Any rule is inconclusive when its metric is
undefined. See ``docs/concepts.md``.
"""

from __future__ import annotations

import math
from typing import Any

from audit.family import Family
from audit.spec import PolicyRule
from audit.wording import p_value, percent

PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"
TEST_NAMES = {"fisher": "Fisher's exact test", "z": "two-proportion z test"}
"""Words for the comparisons' test codes in a verdict's reason (other tests are named in full already)."""
EXACT, ASYMPTOTIC, NO_EVIDENCE = "exact", "asymptotic", "none"


def _fmt(x: float | None) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3g}"


def _inside(x: float, low: float | None, high: float | None) -> bool:
    return (low is None or x >= low) and (high is None or x <= high)


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def evidence_of(comparison: dict[str, Any]) -> str:
    """``exact`` (whole counts of a rate), ``asymptotic`` (a test or interval from an approximation) or ``none``."""
    if comparison.get("_kind") == "proportion" and bool(comparison.get("_exact")):
        return EXACT
    has_test = not _missing(comparison.get("p_value"))
    return ASYMPTOTIC if comparison.get("_kind") in ("proportion", "normal") or has_test else NO_EVIDENCE


def guarded(rule: PolicyRule, comparison: dict[str, Any]) -> bool:
    """Whether ``min_group_size`` applies: the point rule, and evidence that is not exact."""
    return rule.rule == "point" or evidence_of(comparison) != EXACT


def judge(rule: PolicyRule, comparison: dict[str, Any], *, family: Family, min_group_size: int) -> tuple[str, str]:
    """The verdict of one rule for one comparison row, and the reason in words.

    ``comparison`` holds the comparison's columns with the evidence columns,
    ``family_ci_low``/``family_ci_high`` (the simultaneous interval of the
    rule's bound) and ``p_family`` (its family-adjusted p-value).
    """
    bound = rule.bound
    low, high = rule.band
    estimate = comparison[bound]
    n, n_ref = comparison["n"], comparison["reference_n"]
    if guarded(rule, comparison) and (n < min_group_size or n_ref < min_group_size):
        who, size = ("group", n) if n < min_group_size else ("reference", n_ref)
        why = ("the point rule compares the estimate alone" if rule.rule == "point"
               else "this comparison's interval and test are approximations")
        return INCONCLUSIVE, f"too few people: {who} n = {size} < minimum {min_group_size} ({why})"
    if comparison["status"] != "ok" or _missing(estimate):
        return INCONCLUSIVE, comparison["reason"] or f"{bound} undefined"
    band = f"[{_fmt(low) if low is not None else '-inf'}, {_fmt(high) if high is not None else 'inf'}]"
    inside = _inside(estimate, low, high)
    if rule.rule == "point":
        if inside:
            return PASS, f"{bound} {_fmt(estimate)} within {band}"
        return FAIL, (f"{bound} {_fmt(estimate)} outside {band} (point rule: the estimate alone, not "
                      f"statistically established)")
    if rule.rule == "significant":
        return _significant(bound, estimate, band, inside, comparison, family)
    return _interval(bound, estimate, band, low, high, comparison, family)


def _significant(bound: str, estimate: float, band: str, inside: bool, comparison: dict[str, Any],
                 family: Family) -> tuple[str, str]:
    if inside:
        return PASS, f"{bound} {_fmt(estimate)} within {band}"
    adjusted = comparison.get("p_family")
    if _missing(adjusted):
        return INCONCLUSIVE, (f"{bound} {_fmt(estimate)} outside {band}, but this comparison has no test, so "
                              f"significance cannot be established (rule: point compares the estimate alone)")
    name = comparison.get("test")
    test = f"{TEST_NAMES.get(name, name)}, " if name not in (None, "none") else ""
    members = f"{family.size:,} verdict{'s' if family.size != 1 else ''}"
    evidence = f"{test}p = {p_value(adjusted)} adjusted for the family of {members}"
    if adjusted < family.alpha:
        return FAIL, f"{bound} {_fmt(estimate)} outside {band} and significantly different from the reference ({evidence})"
    return INCONCLUSIVE, (f"{bound} {_fmt(estimate)} outside {band}, not statistically significant ({evidence}, "
                          f"not below {family.alpha:g})")


def _interval(bound: str, estimate: float, band: str, low: float | None, high: float | None,
              comparison: dict[str, Any], family: Family) -> tuple[str, str]:
    ci_low, ci_high = comparison.get("family_ci_low"), comparison.get("family_ci_high")
    if _missing(ci_low) or _missing(ci_high):
        return INCONCLUSIVE, f"no family-level interval for the {bound} of this comparison"
    interval = (f"{bound} {_fmt(estimate)} (family interval {_fmt(ci_low)} to {_fmt(ci_high)}, "
                f"{percent(family.confidence)} each)")
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
