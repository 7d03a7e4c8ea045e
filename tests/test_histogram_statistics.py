"""Statistics from histograms (audit.distributions) against scikit-learn and scipy on the rebuilt rows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st
from scipy import stats as sps
from scipy.stats.contingency import association
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, roc_auc_score

from audit import distributions as dist

SETTINGS = settings(max_examples=60, deadline=None)
values_strategy = st.lists(st.integers(0, 12), min_size=1, max_size=80)


def _histogram(rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.bincount(np.searchsorted(values, rows), minlength=values.size).astype(float)


def _delong_rows(scores: np.ndarray, y: np.ndarray) -> float:
    """DeLong's standard error from the rows (structural components with midrank ties)."""
    pos, neg = scores[y == 1], scores[y == 0]
    v10 = np.array([(np.sum(neg < s) + 0.5 * np.sum(neg == s)) / neg.size for s in pos])
    v01 = np.array([(np.sum(pos > s) + 0.5 * np.sum(pos == s)) / pos.size for s in neg])
    return float(np.sqrt(np.var(v10, ddof=1) / pos.size + np.var(v01, ddof=1) / neg.size))


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 1), st.integers(0, 2)), min_size=1, max_size=120))
def test_auc_and_delong_equal_sklearn_and_rows(rows) -> None:
    data = np.array(rows)
    score, y, group = data[:, 0] / 10, data[:, 1], data[:, 2]
    values = np.unique(score)
    neg = np.array([_histogram(score[(group == g) & (y == 0)], values) for g in range(3)])
    pos = np.array([_histogram(score[(group == g) & (y == 1)], values) for g in range(3)])
    result = dist.auc_from_histograms(neg, pos, confidence=0.95)
    for g in range(3):
        s, t = score[group == g], y[group == g]
        if t.size == 0 or t.min() == t.max():
            assert np.isnan(result.auc[g])
            continue
        assert result.auc[g] == pytest.approx(roc_auc_score(t, s), abs=1e-12)
        pairs = np.sum(s[t == 1][:, None] == s[t == 0][None, :]) / (np.sum(t == 1) * np.sum(t == 0))
        assert result.within_bin_share[g] == pytest.approx(pairs, abs=1e-12)
        if np.sum(t == 1) > 1 and np.sum(t == 0) > 1:
            assert result.se[g] == pytest.approx(_delong_rows(s, t), rel=1e-9, abs=1e-12)
        if np.isfinite(result.ci_low[g]):
            assert 0 <= result.ci_low[g] <= result.auc[g] <= result.ci_high[g] <= 1


def test_a_binned_auc_lies_within_half_the_shared_pairs() -> None:
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 5000)
    score = rng.normal(0, 1, 5000) + 0.8 * y
    edges = np.linspace(score.min(), score.max(), 33)
    codes = np.minimum(np.searchsorted(edges, score, side="right") - 1, 31)
    neg = np.bincount(codes[y == 0], minlength=32).astype(float)
    pos = np.bincount(codes[y == 1], minlength=32).astype(float)
    result = dist.auc_from_histograms(neg, pos, confidence=0.95)
    exact = roc_auc_score(y, score)
    assert 0 < result.within_bin_share[0] < 0.1
    assert abs(result.auc[0] - exact) <= 0.5 * result.within_bin_share[0]


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 1)), min_size=1, max_size=150),
       st.integers(2, 12))
def test_calibration_brier_and_citl_equal_sklearn(rows, bins) -> None:
    data = np.array(rows)
    score, y = data[:, 0] / 20, data[:, 1]  # many values sit exactly on bin edges (0.1, 0.25, 0.5, ...)
    values = np.unique(score)
    neg, pos = _histogram(score[y == 0], values), _histogram(score[y == 1], values)
    sums = _histogram(score, values) * values
    table = dist.calibration_table(values, neg, pos, sums, n_bins=bins)
    prob_true, prob_pred = calibration_curve(y, score, n_bins=bins) if y.min() != y.max() else (None, None)
    if prob_true is not None:
        np.testing.assert_allclose(table["observed_rate"], prob_true, rtol=1e-12)
        np.testing.assert_allclose(table["mean_predicted"], prob_pred, rtol=1e-12, atol=1e-15)
    assert table["n"].sum() == len(y)
    assert dist.brier_score(neg, pos, _histogram(score[y == 1], values) * values,
                            _histogram(score, values) * values ** 2) == pytest.approx(
        brier_score_loss(y, score, labels=[0, 1]), abs=1e-12)
    assert dist.calibration_in_the_large(neg, pos, sums) == pytest.approx(score.mean() - y.mean(), abs=1e-12)
    gaps = np.abs(table["mean_predicted"] - table["observed_rate"])
    assert dist.expected_calibration_error(table) == pytest.approx(float((table["n"] * gaps).sum() / len(y)))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # scipy's own, in the reference calls
@SETTINGS
@given(values_strategy, values_strategy)
def test_ks_and_mann_whitney_equal_scipy(a, b) -> None:
    a, b = np.array(a, dtype=float), np.array(b, dtype=float)
    values = np.unique(np.concatenate([a, b]))
    ha, hb = _histogram(a, values), _histogram(b, values)
    ks = dist.ks_two_sample(values, ha, hb)
    expected = sps.ks_2samp(a, b)
    assert ks.method.startswith(("exact", "asymptotic (the exact"))
    assert (ks.statistic, ks.p_value) == pytest.approx((expected.statistic, expected.pvalue), rel=1e-12, abs=1e-15)
    mw = dist.mann_whitney(ha, hb)
    reference = sps.mannwhitneyu(a, b, method="asymptotic", use_continuity=True)
    assert mw.statistic == reference.statistic
    assert mw.p_value == pytest.approx(reference.pvalue, rel=1e-9, abs=1e-300)
    assert mw.effect == pytest.approx(reference.statistic / (a.size * b.size), rel=1e-12)


def test_ks_is_asymptotic_above_ten_thousand_rows() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.integers(0, 50, 12_000).astype(float), rng.integers(1, 50, 3_000).astype(float)
    values = np.unique(np.concatenate([a, b]))
    ks = dist.ks_two_sample(values, _histogram(a, values), _histogram(b, values))
    expected = sps.ks_2samp(a, b)
    assert ks.method == "asymptotic"
    assert (ks.statistic, ks.p_value) == pytest.approx((expected.statistic, expected.pvalue), rel=1e-12)
    assert np.isnan(dist.ks_two_sample(values, np.zeros(values.size), _histogram(b, values)).statistic)


@SETTINGS
@given(st.lists(values_strategy, min_size=2, max_size=4))
def test_kruskal_and_chi_square_equal_scipy(samples) -> None:
    arrays = [np.array(s, dtype=float) for s in samples]
    values = np.unique(np.concatenate(arrays))
    table = np.array([_histogram(a, values) for a in arrays])
    h, dof, p = dist.kruskal_wallis(table)
    if values.size < 2:
        assert np.isnan(h)
    else:
        expected = sps.kruskal(*arrays)
        assert (h, p) == pytest.approx((expected.statistic, expected.pvalue), rel=1e-9, abs=1e-12)
        assert dof == len(arrays) - 1
    chi = dist.chi_square_independence(table)
    reduced = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if min(reduced.shape) < 2:
        assert np.isnan(chi.statistic)
        return
    expected = sps.chi2_contingency(reduced, correction=False)
    assert (chi.statistic, chi.p_value, chi.dof) == pytest.approx(
        (expected.statistic, expected.pvalue, expected.dof), rel=1e-9, abs=1e-12)
    assert chi.cramers_v == pytest.approx(association(reduced.astype(int), method="cramer"), rel=1e-9, abs=1e-12)
    assert chi.min_expected == pytest.approx(expected.expected_freq.min(), rel=1e-12)


@SETTINGS
@given(st.lists(st.integers(0, 30), min_size=1, max_size=90),
       st.sampled_from([0.01, 0.1, 0.37, 0.5, 0.9, 0.99]))
@example([0, 1, 10], 0.9)  # numpy interpolates from the upper neighbour when the weight is >= 0.5
def test_quantiles_and_their_intervals_equal_numpy_and_scipy(rows, q) -> None:
    x = np.array(rows, dtype=float)
    values = np.unique(x)
    h = _histogram(x, values)
    assert dist.histogram_quantile(values, h, q) == np.quantile(x, q)
    low, high = dist.quantile_interval(values, h, q, 0.95)
    expected = sps.quantile_test(x, p=q).confidence_interval(0.95)
    np.testing.assert_array_equal([low, high], [expected.low, expected.high])


def test_welch_and_mean_intervals_equal_scipy_from_histogram_and_sums() -> None:
    rng = np.random.default_rng(9)
    a, b = rng.gamma(3, 4, 400).round(), rng.gamma(3, 5, 250).round()
    values = np.unique(np.concatenate([a, b]))
    for exact in (True, False):
        ma, mb = (dist.mean_summary(values, _histogram(r, values), sum_w=float(r.size), sum_wx=float(r.sum()),
                                    sum_wx2=float((r * r).sum()), sum_w2=float(r.size), exact=exact)
                  for r in (a, b))
        assert ma.mean == pytest.approx(a.mean(), rel=1e-12)
        low, high = dist.mean_interval(ma, 0.95)
        assert (low, high) == pytest.approx(sps.t.interval(0.95, a.size - 1, a.mean(), sps.sem(a)), rel=1e-10)
        welch = dist.welch_test(mb, ma)
        expected = sps.ttest_ind(b, a, equal_var=False)
        assert (welch.statistic, welch.p_value) == pytest.approx((expected.statistic, expected.pvalue), rel=1e-9)
        ci = expected.confidence_interval(0.95)
        assert dist.difference_of_means_interval(mb, ma, 0.95) == pytest.approx((ci.low, ci.high), rel=1e-9)
        ratio_low, ratio_high = dist.ratio_of_means_interval(mb, ma, 0.95)
        assert ratio_low < b.mean() / a.mean() < ratio_high
    negative = dist.mean_summary(None, [], sum_w=2.0, sum_wx=-2.0, sum_wx2=4.0, sum_w2=2.0, exact=False)
    assert np.isnan(dist.ratio_of_means_interval(negative, ma, 0.95)).all()


def test_inputs_are_not_mutated_and_bad_counts_are_named() -> None:
    neg, pos = np.array([[3.0, 1, 0]]), np.array([[0.0, 2, 5]])
    before = neg.copy(), pos.copy()
    dist.auc_from_histograms(neg, pos, confidence=0.95)
    np.testing.assert_array_equal(neg, before[0])
    np.testing.assert_array_equal(pos, before[1])
    with pytest.raises(ValueError, match="neg must hold finite counts"):
        dist.auc_from_histograms(np.array([[-1.0, 2]]), np.array([[1.0, 1]]), confidence=0.95)
    with pytest.raises(ValueError, match="table must hold finite counts"):
        dist.chi_square_independence([[1, np.nan], [2, 3]])
