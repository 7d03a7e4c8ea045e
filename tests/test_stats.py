"""audit.stats: intervals, tests and corrections equal statsmodels and scipy to 1e-9.

Random integer counts include 0 trials, 0 successes and successes == trials; the
documented edge cases are checked with exact asserts.
"""

from __future__ import annotations

import warnings
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.stats import fisher_exact
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)

from audit import stats

SETTINGS = settings(max_examples=200, deadline=None)
CONFIDENCES = st.sampled_from([0.8, 0.9, 0.95, 0.99])
TOL = 1e-9


@st.composite
def count(draw: st.DrawFn, min_n: int = 0, max_n: int = 400) -> tuple[int, int]:
    """(x, n) with 0 <= x <= n; edges x = 0 and x = n are drawn often."""
    n = draw(st.integers(min_n, max_n))
    x = draw(st.one_of(st.just(0), st.just(n), st.integers(0, n)))
    return x, n


@st.composite
def two_counts(draw: st.DrawFn, min_n: int = 0) -> tuple[int, int, int, int]:
    x1, n1 = draw(count(min_n=min_n))
    x2, n2 = draw(count(min_n=min_n))
    return x1, n1, x2, n2


def _quiet(fn, *args, **kwargs):
    """Call a reference function that may warn on 0/0."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


# ---------------------------------------------------------------- Wilson


@SETTINGS
@given(count(), CONFIDENCES)
def test_wilson_equals_statsmodels(pair, confidence) -> None:
    x, n = pair
    low, high = stats.wilson_interval(x, n, confidence)
    assert isinstance(low, np.ndarray) and isinstance(high, np.ndarray)
    assert low.shape == high.shape == ()
    if n == 0:
        assert np.isnan(low) and np.isnan(high)
        return
    ref_low, ref_high = proportion_confint(x, n, alpha=1 - confidence, method="wilson")
    assert float(low) == pytest.approx(ref_low, abs=TOL)
    assert float(high) == pytest.approx(ref_high, abs=TOL)
    assert 0.0 <= low <= x / n <= high <= 1.0


@SETTINGS
@given(st.floats(0.0, 1.0), st.floats(0.01, 500.0), CONFIDENCES)
def test_wilson_accepts_effective_counts(share, n, confidence) -> None:
    x = share * n
    low, high = stats.wilson_interval(x, n, confidence)
    ref = proportion_confint(x, n, alpha=1 - confidence, method="wilson")
    assert (float(low), float(high)) == pytest.approx(ref, abs=TOL)


@SETTINGS
@given(st.lists(count(), min_size=1, max_size=15))
def test_wilson_is_vectorised(pairs) -> None:
    x = np.array([p[0] for p in pairs])
    n = np.array([p[1] for p in pairs])
    x_before, n_before = x.copy(), n.copy()
    low, high = stats.wilson_interval(x, n)
    assert low.shape == high.shape == x.shape and low.dtype == float
    for i, (xi, ni) in enumerate(pairs):
        li, hi = stats.wilson_interval(xi, ni)
        assert np.array_equal([low[i], high[i]], [li, hi], equal_nan=True)
    assert np.array_equal(x, x_before) and np.array_equal(n, n_before)


def test_wilson_edges_are_exact() -> None:
    assert np.isnan(stats.wilson_interval(0, 0)).all()
    assert stats.wilson_interval(0, 10)[0] == 0.0
    assert stats.wilson_interval(262, 262, 0.9)[1] == 1.0
    assert np.isnan(stats.wilson_interval(5, 3)).all()  # x > n is invalid
    assert np.isnan(stats.wilson_interval(-1, 3)).all()
    assert np.isnan(stats.wilson_interval(np.nan, 3)).all()
    low, high = stats.wilson_interval([1, 2], [[4], [8]])
    assert low.shape == (2, 2)


@pytest.mark.parametrize("confidence", [0.0, 1.0, -0.5, 95, float("nan"), "high"])
def test_bad_confidence_raises(confidence) -> None:
    with pytest.raises(ValueError, match="confidence"):
        stats.wilson_interval(1, 2, confidence)


# ---------------------------------------------------------------- Newcombe


@SETTINGS
@given(two_counts(), CONFIDENCES)
def test_newcombe_equals_statsmodels(pair, confidence) -> None:
    x1, n1, x2, n2 = pair
    low, high = stats.newcombe_difference_interval(*pair, confidence=confidence)
    if n1 == 0 or n2 == 0:
        assert np.isnan(low) and np.isnan(high)
        return
    ref = confint_proportions_2indep(*pair, method="newcomb", compare="diff", alpha=1 - confidence)
    assert (float(low), float(high)) == pytest.approx(ref, abs=TOL)
    assert low <= x1 / n1 - x2 / n2 <= high


@SETTINGS
@given(st.lists(two_counts(min_n=1), min_size=1, max_size=15))
def test_newcombe_vectorised_equals_statsmodels(rows) -> None:
    x1, n1, x2, n2 = (np.array(c) for c in zip(*rows))
    low, high = stats.newcombe_difference_interval(x1, n1, x2, n2)
    ref_low, ref_high = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
    np.testing.assert_allclose(low, ref_low, rtol=0, atol=TOL)
    np.testing.assert_allclose(high, ref_high, rtol=0, atol=TOL)


# ---------------------------------------------------------------- Katz


@SETTINGS
@given(two_counts(), CONFIDENCES)
def test_katz_matches_statsmodels_and_documented_edges(pair, confidence) -> None:
    x1, n1, x2, n2 = pair
    low, high = stats.katz_ratio_interval(*pair, confidence=confidence)
    alpha = 1 - confidence
    if n1 == 0 or n2 == 0 or x2 == 0:
        assert np.isnan(low) and np.isnan(high)
    elif x1 == 0:
        assert low == 0.0
        ref = confint_proportions_2indep(*pair, method="log-adjusted", compare="ratio", alpha=alpha)
        assert float(high) == pytest.approx(ref[1], rel=TOL)
        # The same, written out: 0.5 added to every count.
        z = 1.959963984540054 if confidence == 0.95 else None
        if z is not None:
            r = (0.5 / (n1 + 0.5)) / ((x2 + 0.5) / (n2 + 0.5))
            var = 1 / 0.5 - 1 / (n1 + 0.5) + 1 / (x2 + 0.5) - 1 / (n2 + 0.5)
            assert float(high) == pytest.approx(r * np.exp(z * np.sqrt(var)), rel=1e-12)
    else:
        ref = confint_proportions_2indep(*pair, method="log", compare="ratio", alpha=alpha)
        assert (float(low), float(high)) == pytest.approx(ref, rel=TOL)
        assert low <= (x1 / n1) / (x2 / n2) <= high


def test_katz_edges_are_exact() -> None:
    low, high = stats.katz_ratio_interval(0, 50, 10, 100)
    assert low == 0.0 and np.isfinite(high) and high > 0
    assert np.isnan(stats.katz_ratio_interval(3, 10, 0, 10)).all()
    assert np.isnan(stats.katz_ratio_interval(0, 10, 0, 10)).all()
    assert np.isnan(stats.katz_ratio_interval(1, 0, 1, 10)).all()
    assert np.isnan(stats.katz_ratio_interval(1, 10, 1, 0)).all()
    assert np.array_equal(stats.katz_ratio_interval(5, 5, 7, 7), (1.0, 1.0))


# ---------------------------------------------------------------- z test


@SETTINGS
@given(two_counts())
def test_z_test_equals_statsmodels(pair) -> None:
    x1, n1, x2, n2 = pair
    z, p = stats.two_proportion_z_test(*pair)
    assert isinstance(z, np.ndarray) and isinstance(p, np.ndarray)
    if n1 == 0 or n2 == 0:
        assert np.isnan(z) and np.isnan(p)
        return
    pooled = (x1 + x2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        assert z == 0.0 and p == 1.0
        return
    ref_z, ref_p = proportions_ztest(np.array([x1, x2]), np.array([n1, n2]))
    assert float(z) == pytest.approx(ref_z, rel=TOL, abs=TOL)
    assert float(p) == pytest.approx(ref_p, rel=TOL, abs=TOL)


def test_z_test_edges_are_exact() -> None:
    assert np.array_equal(stats.two_proportion_z_test(0, 10, 0, 20), (0.0, 1.0))
    assert np.array_equal(stats.two_proportion_z_test(10, 10, 20, 20), (0.0, 1.0))
    assert np.isnan(stats.two_proportion_z_test(1, 0, 1, 2)).all()
    assert np.isnan(stats.two_proportion_z_test(0, 0, 0, 0)).all()


# ---------------------------------------------------------------- Fisher


@settings(max_examples=100, deadline=None)
@given(two_counts())
def test_fisher_equals_scipy(pair) -> None:
    x1, n1, x2, n2 = pair
    p = stats.fisher_exact_test(*pair)
    assert isinstance(p, np.ndarray) and p.shape == ()
    if n1 == 0 or n2 == 0:
        assert np.isnan(p)
        return
    ref = fisher_exact([[x1, n1 - x1], [x2, n2 - x2]])[1]
    assert float(p) == pytest.approx(ref, rel=TOL, abs=1e-12)


def test_fisher_rounds_effective_counts_and_vectorises() -> None:
    p = stats.fisher_exact_test([2.4, 3.0], [10.2, 7.0], [5.6, 1.0], [9.7, 9.0])
    assert p.shape == (2,)
    assert p[0] == pytest.approx(fisher_exact([[2, 8], [6, 4]])[1], rel=1e-13)
    assert p[1] == pytest.approx(fisher_exact([[3, 4], [1, 8]])[1], rel=1e-13)
    assert np.isnan(stats.fisher_exact_test(0, 0, 1, 2))
    assert np.isnan(stats.fisher_exact_test(0, 0.3, 1, 2))  # n rounds to 0
    assert stats.fisher_exact_test(0, 10, 0, 20) == 1.0


# ---------------------------------------------------------------- compare_proportions


@settings(max_examples=100, deadline=None)
@given(two_counts(), st.sampled_from([1.0, 5.0, 10.0]))
def test_compare_proportions_follows_cochrans_rule(pair, min_expected) -> None:
    x1, n1, x2, n2 = pair
    result = stats.compare_proportions(*pair, min_expected=min_expected)
    assert result.test.dtype == object and result.test.shape == ()
    if n1 == 0 or n2 == 0:
        assert result.test[()] == "none"
        assert np.isnan(result.statistic) and np.isnan(result.p_value)
        return
    pooled = (x1 + x2) / (n1 + n2)
    expected = [n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled)]
    if min(expected) < min_expected:
        assert result.test[()] == "fisher"
        ref = fisher_exact([[x1, n1 - x1], [x2, n2 - x2]])
        assert float(result.p_value) == pytest.approx(ref.pvalue, rel=TOL, abs=1e-12)
        assert np.array_equal(result.statistic, ref.statistic, equal_nan=True)
    else:
        assert result.test[()] == "z"
        z, p = stats.two_proportion_z_test(*pair)
        assert result.statistic == z and result.p_value == p


def test_compare_proportions_chooses_by_expected_counts() -> None:
    result = stats.compare_proportions([2, 200, 1], [10, 1000, 0], [30, 300, 3], [100, 1000, 10])
    assert list(result.test) == ["fisher", "z", "none"]
    assert result.p_value[0] == pytest.approx(fisher_exact([[2, 8], [30, 70]])[1], abs=1e-12)
    assert result.statistic[0] == pytest.approx((2 * 70) / (8 * 30), rel=1e-12)
    ref_z, ref_p = proportions_ztest([200, 300], [1000, 1000])
    assert result.statistic[1] == pytest.approx(ref_z, rel=TOL)
    assert result.p_value[1] == pytest.approx(ref_p, abs=1e-12)
    assert np.isnan(result.statistic[2]) and np.isnan(result.p_value[2])
    both_zero = stats.compare_proportions(0, 10, 0, 20)
    assert both_zero.test[()] == "fisher" and both_zero.p_value == 1.0
    with pytest.raises(ValueError):
        result.p_value[0] = 0.5  # read-only


# ---------------------------------------------------------------- multiplicity


@SETTINGS
@given(
    st.lists(st.one_of(st.floats(0, 1), st.just(float("nan"))), min_size=0, max_size=40),
    st.sampled_from(["holm", "bh"]),
)
def test_adjust_p_values_equals_multipletests(p, method) -> None:
    p = np.array(p, dtype=float)
    before = p.copy()
    adjusted = stats.adjust_p_values(p, method)
    assert adjusted.shape == p.shape
    mask = ~np.isnan(p)
    assert np.isnan(adjusted[~mask]).all()
    if mask.any():
        # multipletests(method="holm") calls gc.collect() each time: slow, no effect on results.
        with mock.patch("gc.collect", lambda *args: 0):
            ref = multipletests(p[mask], method={"holm": "holm", "bh": "fdr_bh"}[method])[1]
        np.testing.assert_allclose(adjusted[mask], ref, rtol=TOL, atol=1e-12)
        assert (adjusted[mask] >= p[mask]).all() and (adjusted[mask] <= 1).all()
    assert np.array_equal(p, before, equal_nan=True)


def test_adjust_p_values_none_shape_and_errors() -> None:
    p = np.array([[0.01, np.nan], [0.04, 0.5]])
    assert np.array_equal(stats.adjust_p_values(p, "none"), p, equal_nan=True)
    holm = stats.adjust_p_values(p, "holm")
    assert holm.shape == (2, 2) and np.isnan(holm[0, 1])
    np.testing.assert_allclose(holm[~np.isnan(p)], multipletests([0.01, 0.04, 0.5], method="holm")[1])
    assert np.isnan(stats.adjust_p_values([np.nan, np.nan])).all()
    assert stats.adjust_p_values([]).shape == (0,)
    with pytest.raises(ValueError, match="holm, bh, none"):
        stats.adjust_p_values([0.1], "bonferroni")


# ---------------------------------------------------------------- effective counts


@SETTINGS
@given(count())
def test_effective_counts_with_unit_weights_are_the_plain_counts(pair) -> None:
    x, n = pair
    x_eff, n_eff = stats.effective_counts(float(x), float(n), float(n))
    assert x_eff == x and n_eff == n


@SETTINGS
@given(
    st.lists(st.tuples(st.floats(0.1, 10.0), st.booleans()), min_size=1, max_size=30),
    st.floats(0.1, 100.0),
)
def test_effective_counts_is_kish_and_scale_free(rows, scale) -> None:
    w = np.array([r[0] for r in rows])
    hit = np.array([r[1] for r in rows])
    x_eff, n_eff = stats.effective_counts(w[hit].sum(), w.sum(), (w**2).sum())
    assert float(n_eff) == pytest.approx(w.sum() ** 2 / (w**2).sum(), rel=1e-12)
    assert float(x_eff) == pytest.approx(w[hit].sum() / w.sum() * float(n_eff), rel=1e-12, abs=1e-12)
    assert n_eff <= len(w) * (1 + 1e-12)
    ws = w * scale
    x2, n2 = stats.effective_counts(ws[hit].sum(), ws.sum(), (ws**2).sum())
    assert float(n2) == pytest.approx(float(n_eff), rel=1e-9)
    assert float(x2) == pytest.approx(float(x_eff), rel=1e-9, abs=1e-12)


def test_effective_counts_edges() -> None:
    x, n = stats.effective_counts([3.0, 0.0], [10.0, 0.0], [10.0, 0.0])
    assert list(x) == [3.0, 0.0] and list(n) == [10.0, 0.0]
    assert np.isnan(stats.effective_counts(5.0, 2.0, 4.0)).all()  # W_x > W
    assert np.isnan(stats.effective_counts(1.0, 2.0, 0.0)).all()


# ---------------------------------------------------------------- bootstrap


def test_bootstrap_is_seeded_and_keeps_group_totals() -> None:
    tp, fp, fn, tn = [5, 0, 7], [3, 0, 0], [2, 0, 1], [10, 0, 4]
    a = stats.bootstrap_confusion(tp, fp, fn, tn, replicates=500, rng=np.random.default_rng(1))
    b = stats.bootstrap_confusion(tp, fp, fn, tn, replicates=500, rng=np.random.default_rng(1))
    c = stats.bootstrap_confusion(tp, fp, fn, tn, replicates=500, rng=np.random.default_rng(2))
    assert a.shape == (500, 3, 4) and np.array_equal(a, b) and not np.array_equal(a, c)
    assert (a.sum(axis=2) == np.array([20, 0, 12])).all()
    assert (a[:, 1] == 0).all()  # empty group
    assert (a[:, 2, 1] == 0).all()  # a cell observed as 0 stays 0
    assert (a >= 0).all()
    mean = a.mean(axis=0)
    np.testing.assert_allclose(mean[0], [5, 3, 2, 10], atol=0.5)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, 50)] * 4), min_size=1, max_size=8), st.integers(0, 2**32 - 1))
def test_bootstrap_row_sums_equal_group_totals(groups, seed) -> None:
    tp, fp, fn, tn = (np.array(c) for c in zip(*groups))
    draws = stats.bootstrap_confusion(tp, fp, fn, tn, replicates=20, rng=np.random.default_rng(seed))
    assert draws.shape == (20, len(groups), 4)
    assert (draws.sum(axis=2) == (tp + fp + fn + tn)[None, :]).all()


def test_bootstrap_rejects_bad_arguments() -> None:
    with pytest.raises(TypeError, match="Generator"):
        stats.bootstrap_confusion([1], [1], [1], [1], replicates=5, rng=1)  # type: ignore[arg-type]
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError):
        stats.bootstrap_confusion([1, 2], [1], [1], [1], replicates=5, rng=rng)
    with pytest.raises(ValueError):
        stats.bootstrap_confusion([1.5], [1], [1], [1], replicates=5, rng=rng)
    with pytest.raises(ValueError):
        stats.bootstrap_confusion([1], [1], [1], [1], replicates=-1, rng=rng)


# ---------------------------------------------------------------- percentile interval


@SETTINGS
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=60), CONFIDENCES)
def test_percentile_interval_equals_quantile(values, confidence) -> None:
    reps = np.array(values)
    low, high = stats.percentile_interval(reps, confidence)
    alpha = 1 - confidence
    assert low.shape == () and float(low) == np.quantile(reps, alpha / 2)
    assert float(high) == np.quantile(reps, 1 - alpha / 2)


def test_percentile_interval_ignores_mostly_nan_positions() -> None:
    reps = np.column_stack([
        np.arange(100.0),
        np.where(np.arange(100) < 60, np.nan, 1.0),  # 60% NaN: undefined
        np.where(np.arange(100) < 50, np.nan, np.arange(100.0)),  # exactly half: defined
        np.full(100, np.nan),
    ])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        low, high = stats.percentile_interval(reps, 0.9)
    assert low[0] == pytest.approx(np.quantile(np.arange(100.0), 0.05))
    assert np.isnan(low[1]) and np.isnan(high[1]) and np.isnan(low[3])
    assert low[2] == np.quantile(np.arange(50.0, 100.0), 0.05)
    low_t, _ = stats.percentile_interval(reps.T, 0.9, axis=1)
    assert np.array_equal(low, low_t, equal_nan=True)
    empty_low, _ = stats.percentile_interval(np.empty((0, 3)))
    assert empty_low.shape == (3,) and np.isnan(empty_low).all()


def _exact_fisher(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided Fisher p-value in exact integer arithmetic (the oracle for large tables)."""
    from fractions import Fraction
    from math import comb

    total, column = n1 + n2, x1 + x2
    support = range(max(0, column - n2), min(n1, column) + 1)
    weight = {x: comb(n1, x) * comb(n2, column - x) for x in support}
    return float(Fraction(sum(w for w in weight.values() if w <= weight[x1]), comb(total, column)))


def test_fisher_is_exact_for_large_tables_and_batches() -> None:
    tables = np.array([[1, 15, 26, 6_295_229], [3, 34, 19, 9_465_301], [2, 39, 21, 7_341_218],
                       [0, 40, 3, 2_000_000], [12, 30, 4000, 10_000]], dtype=float)
    p = stats.fisher_exact_test(*tables.T)  # one vectorised call
    for row, value in zip(tables.astype(int), p):
        assert value == pytest.approx(_exact_fisher(*row), rel=1e-12)  # scipy's own is off by ~1e-9 here
        assert stats.fisher_exact_test(*row) == value  # alone or in a batch: the same bits
