"""Verdict rules with numbers, and the completeness of the registries."""

from __future__ import annotations

import math

import pytest

from audit.errors import REASON_CATEGORY, ReasonCode
from audit.metrics import METRICS, Harm, Kind, get_metric, worse_when
from audit.family import Family
from audit.policy import FAIL, INCONCLUSIVE, PASS, judge, overall
from audit.spec import PolicyRule


FAMILY = Family(size=10, alpha=0.05)


def row(ratio, low, high, n=100, n_ref=100, status="ok", reason="", p=0.5, exact=True, kind="proportion"):
    """A comparison row whose family-level interval is (low, high) and family-adjusted p-value is ``p``."""
    return {"ratio": ratio, "family_ci_low": low, "family_ci_high": high, "difference": ratio - 1,
            "n": n, "reference_n": n_ref, "status": status, "reason": reason, "p_value": p, "p_family": p,
            "test": "fisher", "_kind": kind, "_exact": exact}


def difference_row(difference, low, high, **kwargs):
    return {**row(1.0, math.nan, math.nan, **kwargs), "difference": difference, "family_ci_low": low,
            "family_ci_high": high}


CI = PolicyRule(metric="fpr", ratio=(0.8, 1.25), rule="ci")
POINT = PolicyRule(metric="fpr", ratio=(0.8, 1.25), rule="point")
SIGNIFICANT = PolicyRule(metric="fpr", ratio=(0.8, 1.25))


@pytest.mark.parametrize("comparison, rule, expected", [
    (row(1.9, 1.7, 2.1), CI, FAIL),
    (row(0.5, 0.3, 0.7), CI, FAIL),
    (row(1.0, 0.9, 1.1), CI, PASS),
    (row(1.2, 1.1, 1.4), CI, INCONCLUSIVE),
    (row(1.2, 1.1, 1.4), POINT, PASS),
    (row(1.3, 1.26, 1.4), POINT, FAIL),
    (row(1.25, 1.0, 1.5), POINT, PASS),  # the band is closed
    (row(1.9, 1.7, 2.1, n=29), CI, FAIL),  # exact evidence decides at any size
    (row(1.9, 1.7, 2.1, n=29, exact=False), CI, INCONCLUSIVE),  # asymptotic evidence keeps the guard
    (row(1.9, 1.7, 2.1, n_ref=10), POINT, INCONCLUSIVE),  # the point rule keeps the guard
    (row(math.nan, math.nan, math.nan, status="undefined", reason="reference value is 0"), POINT, INCONCLUSIVE),
    (row(1.9, 1.0, 3.0, p=0.001), SIGNIFICANT, FAIL),  # outside the band and significant
    (row(1.9, 1.0, 3.0, p=0.2), SIGNIFICANT, INCONCLUSIVE),  # outside, not significant
    (row(1.1, 0.5, 2.0, p=0.001), SIGNIFICANT, PASS),  # inside the band: practical significance fails
    (row(0.34, 0.1, 0.9, n=15, n_ref=43, p=0.016), SIGNIFICANT, FAIL),  # issue 15: 3 of 15 against 25 of 43
    (row(0.34, 0.1, 0.9, n=15, p=0.016, exact=False, kind="normal"), SIGNIFICANT, INCONCLUSIVE),
    (row(1.9, 1.0, 3.0, p=math.nan), SIGNIFICANT, INCONCLUSIVE),  # no test: cannot be significant
])
def test_judge(comparison, rule, expected) -> None:
    verdict, reason = judge(rule, comparison, family=FAMILY, min_group_size=30)
    assert verdict == expected and reason


def test_reasons_say_what_each_rule_claims() -> None:
    assert "not statistically established" in judge(POINT, row(1.3, 1.26, 1.4), family=FAMILY,
                                                    min_group_size=30)[1]
    reason = judge(SIGNIFICANT, row(1.9, 1.0, 3.0, p=0.2), family=FAMILY, min_group_size=30)[1]
    assert "not statistically significant" in reason and "family of 10 verdicts" in reason
    assert "Fisher's exact test, p = 0.2" in reason
    reason = judge(CI, row(1.9, 1.7, 2.1), family=FAMILY, min_group_size=30)[1]
    assert "family interval 1.7 to 2.1, 99.5% each" in reason
    assert "too few people: group n = 29 < minimum 30" in judge(POINT, row(1.9, 1.7, 2.1, n=29), family=FAMILY,
                                                                min_group_size=30)[1]


def test_difference_bands_and_open_bounds() -> None:
    rule = PolicyRule(metric="fpr", difference=(None, 0.05), rule="ci")
    assert judge(rule, difference_row(0.1, 0.07, 0.2), family=FAMILY, min_group_size=30)[0] == FAIL
    assert judge(rule, difference_row(-0.5, -0.8, 0.04), family=FAMILY, min_group_size=30)[0] == PASS


def test_overall() -> None:
    assert overall(["pass", "fail", "inconclusive"]) == FAIL
    assert overall(["pass", "inconclusive"]) == INCONCLUSIVE
    assert overall(["pass"]) == PASS
    assert overall([]) == INCONCLUSIVE


def test_every_reason_code_has_a_category() -> None:
    assert set(REASON_CATEGORY) == set(ReasonCode)


def test_registry_is_complete() -> None:
    assert list(METRICS) == ["count", "share", "selection_rate", "base_rate", "tpr", "fpr", "fnr", "tnr", "ppv",
                             "npv", "fdr", "for", "accuracy", "balanced_accuracy", "f1", "fp_share"]
    for m in METRICS.values():
        assert m.formula and m.full_name and m.undefined_when
        if m.kind is Kind.PROPORTION:
            assert set(m.numerator) <= set(m.denominator), m.name


def test_directions_follow_the_decision() -> None:
    assert get_metric("fpr").worse_when(adverse=True) == "higher"
    assert get_metric("fpr").worse_when(adverse=False) == "lower"
    assert get_metric("fnr").worse_when(adverse=True) == "lower"
    assert get_metric("accuracy").worse_when(adverse=True) == "lower"
    assert worse_when(Harm.NONE, adverse=True) is None
    with pytest.raises(ValueError, match="did you mean 'fpr'"):
        get_metric("fprr")
