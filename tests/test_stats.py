"""Intervals, tests and corrections equal statsmodels and scipy to 1e-9."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import fisher_exact
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, proportions_ztest

from audit import stats


@st.composite
def count_pairs(draw: st.DrawFn) -> tuple[int, int, int, int]:
    n1 = draw(st.integers(1, 400))
    n2 = draw(st.integers(1, 400))
    return draw(st.integers(0, n1)), n1, draw(st.integers(0, n2)), n2


@settings(max_examples=200, deadline=None)
@given(count_pairs(), st.sampled_from([0.9, 0.95, 0.99]))
def test_wilson_equals_statsmodels(pair, confidence) -> None:
    x, n = pair[0], pair[1]
    low, high = stats.wilson_interval(x, n, confidence)
    ref = proportion_confint(x, n, alpha=1 - confidence, method="wilson")
    assert (float(low), float(high)) == pytest.approx(ref, abs=1e-9)
    assert low <= x / n <= high


@settings(max_examples=200, deadline=None)
@given(count_pairs())
def test_newcombe_equals_statsmodels(pair) -> None:
    low, high = stats.newcombe_difference_interval(*pair)
    ref = confint_proportions_2indep(*pair, method="newcomb", compare="diff")
    assert (float(low), float(high)) == pytest.approx(ref, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(count_pairs())
def test_katz_equals_statsmodels_where_both_counts_are_positive(pair) -> None:
    x1, n1, x2, n2 = pair
    low, high = stats.katz_ratio_interval(*pair)
    if x2 == 0:
        assert np.isnan(low) and np.isnan(high)
    elif x1 == 0:
        assert low == 0.0 and high > 0
    else:
        ref = confint_proportions_2indep(*pair, method="log", compare="ratio")
        assert (float(low), float(high)) == pytest.approx(ref, rel=1e-9)


def test_katz_zero_numerator_uses_haldane_correction() -> None:
    low, high = stats.katz_ratio_interval(0, 50, 10, 100)
    ref = confint_proportions_2indep(0, 50, 10, 100, method="log-adjusted", compare="ratio")
    assert low == 0.0 and float(high) == pytest.approx(ref[1], rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(count_pairs())
def test_z_test_equals_statsmodels(pair) -> None:
    x1, n1, x2, n2 = pair
    z, p = stats.two_proportion_z_test(*pair)
    pooled = (x1 + x2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        assert z == 0.0 and p == 1.0
    else:
        ref_z, ref_p = proportions_ztest([x1, x2], [n1, n2])
        assert float(z) == pytest.approx(ref_z, abs=1e-9) and float(p) == pytest.approx(ref_p, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(count_pairs())
def test_fisher_equals_scipy(pair) -> None:
    x1, n1, x2, n2 = pair
    assert float(stats.fisher_exact_test(*pair)) == pytest.approx(
        fisher_exact([[x1, n1 - x1], [x2, n2 - x2]])[1], abs=1e-12)


def test_compare_proportions_chooses_by_expected_counts() -> None:
    result = stats.compare_proportions([2, 200], [10, 1000], [30, 300], [100, 1000])
    assert list(result.test) == ["fisher", "z"]
    assert result.p_value[0] == pytest.approx(fisher_exact([[2, 8], [30, 70]])[1], abs=1e-12)
    assert result.p_value[1] == pytest.approx(proportions_ztest([200, 300], [1000, 1000])[1], abs=1e-12)
    none = stats.compare_proportions(1, 0, 3, 10)
    assert none.test[()] == "none" if none.test.ndim == 0 else none.test[0] == "none"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.floats(0, 1), st.just(float("nan"))), min_size=1, max_size=40),
       st.sampled_from(["holm", "bh"]))
def test_corrections_equal_multipletests(p, method) -> None:
    p = np.array(p)
    adjusted = stats.adjust_p_values(p, method)
    mask = ~np.isnan(p)
    assert np.isnan(adjusted[~mask]).all()
    if mask.any():
        ref = multipletests(p[mask], method={"holm": "holm", "bh": "fdr_bh"}[method])[1]
        assert np.allclose(adjusted[mask], ref, atol=1e-12)


def test_unknown_correction_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="holm, bh, none"):
        stats.adjust_p_values([0.1], "bonferroni")


def test_effective_counts() -> None:
    x, n = stats.effective_counts([3.0, 0.0], [10.0, 0.0], [10.0, 0.0])
    assert list(x) == [3.0, 0.0] and list(n) == [10.0, 0.0]
    w = np.array([1.0, 2.0, 3.0])
    x, n = stats.effective_counts(w[:1].sum(), w.sum(), (w ** 2).sum())
    assert n == pytest.approx(36 / 14) and x == pytest.approx(1 / 6 * 36 / 14)


def test_degenerate_inputs_are_nan() -> None:
    assert np.isnan(stats.wilson_interval(0, 0)).all()
    assert np.isnan(stats.newcombe_difference_interval(0, 0, 1, 2)).all()
    assert np.isnan(stats.two_proportion_z_test(1, 0, 1, 2)).all()
    assert stats.two_proportion_z_test(0, 10, 0, 20)[1] == 1.0


def test_bootstrap_is_seeded_and_keeps_group_totals() -> None:
    a = stats.bootstrap_confusion([5, 0], [3, 0], [2, 0], [10, 0], replicates=50, rng=np.random.default_rng(1))
    b = stats.bootstrap_confusion([5, 0], [3, 0], [2, 0], [10, 0], replicates=50, rng=np.random.default_rng(1))
    assert np.array_equal(a, b) and a.shape == (50, 2, 4)
    assert (a[:, 0].sum(axis=1) == 20).all() and (a[:, 1] == 0).all()


def test_percentile_interval_ignores_mostly_nan_positions() -> None:
    reps = np.column_stack([np.arange(100.0), np.where(np.arange(100) < 60, np.nan, 1.0)])
    low, high = stats.percentile_interval(reps, 0.9)
    assert low[0] == pytest.approx(np.quantile(np.arange(100.0), 0.05)) and np.isnan(low[1])
