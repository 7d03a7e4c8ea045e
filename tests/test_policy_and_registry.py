"""Verdict rules with numbers, and the completeness of the registries."""

from __future__ import annotations

import math

import pytest

from audit.errors import REASON_CATEGORY, ReasonCode
from audit.metrics import METRICS, Harm, Kind, get_metric, worse_when
from audit.policy import FAIL, INCONCLUSIVE, PASS, judge, overall
from audit.spec import PolicyRule


def row(ratio, low, high, n=100, n_ref=100, status="ok", reason=""):
    return {"ratio": ratio, "ratio_ci_low": low, "ratio_ci_high": high, "difference": ratio - 1,
            "difference_ci_low": low - 1, "difference_ci_high": high - 1, "n": n, "reference_n": n_ref,
            "status": status, "reason": reason}


CI = PolicyRule(metric="fpr", ratio=(0.8, 1.25), rule="ci")
POINT = PolicyRule(metric="fpr", ratio=(0.8, 1.25), rule="point")


@pytest.mark.parametrize("comparison, rule, expected", [
    (row(1.9, 1.7, 2.1), CI, FAIL),
    (row(0.5, 0.3, 0.7), CI, FAIL),
    (row(1.0, 0.9, 1.1), CI, PASS),
    (row(1.2, 1.1, 1.4), CI, INCONCLUSIVE),
    (row(1.2, 1.1, 1.4), POINT, PASS),
    (row(1.3, 1.26, 1.4), POINT, FAIL),
    (row(1.25, 1.0, 1.5), POINT, PASS),  # the band is closed
    (row(1.9, 1.7, 2.1, n=29), CI, INCONCLUSIVE),
    (row(1.9, 1.7, 2.1, n_ref=10), POINT, INCONCLUSIVE),
    (row(math.nan, math.nan, math.nan, status="undefined", reason="reference value is 0"), POINT, INCONCLUSIVE),
])
def test_judge(comparison, rule, expected) -> None:
    verdict, reason = judge(rule, comparison, min_group_size=30)
    assert verdict == expected and reason


def test_difference_bands_and_open_bounds() -> None:
    rule = PolicyRule(metric="fpr", difference=(None, 0.05), rule="ci")
    assert judge(rule, row(1.1, 1.07, 1.2), min_group_size=30)[0] == FAIL  # difference CI 0.07..0.2
    assert judge(rule, row(0.5, 0.2, 1.04), min_group_size=30)[0] == PASS  # difference up to 0.04


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
