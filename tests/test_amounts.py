"""Amounts and delays per group, from histograms and sums, against numpy and scipy on the rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats as sps

from audit.amounts import AmountCounts, analyse_amount, quantile_metric

CONFIDENCE = 0.95


def _counts(samples: list[np.ndarray], weights: list[np.ndarray] | None = None, *, missing: tuple[int, ...] = (),
            column: str = "days") -> AmountCounts:
    """What the engine would count for these groups: exact histogram and sums."""
    values = np.unique(np.concatenate([s for s in samples if s.size] or [np.zeros(0)]))
    weights = weights or [np.ones(s.size) for s in samples]
    hist = np.array([np.bincount(np.searchsorted(values, s), weights=w, minlength=values.size)
                     for s, w in zip(samples, weights)]).reshape(len(samples), values.size)
    hist_sq = np.array([np.bincount(np.searchsorted(values, s), weights=w * w, minlength=values.size)
                        for s, w in zip(samples, weights)]).reshape(len(samples), values.size)
    return AmountCounts(column=column, values=values, exact=True, hist=hist, hist_sq=hist_sq,
                        rows=np.array([s.size for s in samples]),
                        missing=np.array(missing or (0,) * len(samples)),
                        sum_w=np.array([w.sum() for w in weights]),
                        sum_wx=np.array([(w * s).sum() for s, w in zip(samples, weights)]),
                        sum_wx2=np.array([(w * s * s).sum() for s, w in zip(samples, weights)]),
                        sum_w2=np.array([(w * w).sum() for w in weights]))


def _analyse(counts: AmountCounts, higher_is: str = "adverse", quantiles=(0.5, 0.9), unknown=None):
    labels = tuple(f"g{i}" for i in range(len(counts.rows)))
    return analyse_amount(counts, attribute="group", labels=labels,
                          unknown=unknown or (False,) * len(labels), reference=0, reference_rule="named",
                          higher_is=higher_is, quantiles=quantiles, confidence=CONFIDENCE)


def _cell(frame: pd.DataFrame, **where) -> pd.Series:
    mask = np.ones(len(frame), dtype=bool)
    for key, value in where.items():
        mask &= frame[key].to_numpy() == value
    assert mask.sum() == 1, where
    return frame[mask].iloc[0]


sample = st.lists(st.integers(0, 40), min_size=2, max_size=60).map(lambda v: np.array(v, dtype=float))


@pytest.mark.filterwarnings("ignore:Precision loss occurred:RuntimeWarning")  # scipy's, on constant samples
@settings(max_examples=60, deadline=None)
@given(sample, sample, st.sampled_from([0.1, 0.25, 0.5, 0.75, 0.9]))
def test_means_quantiles_and_tests_equal_numpy_and_scipy(a: np.ndarray, b: np.ndarray, q: float) -> None:
    out = _analyse(_counts([a, b]), quantiles=(0.5, q))
    for label, rows in (("g0", a), ("g1", b)):
        mean = _cell(out.groups, group=label, metric="mean:days")
        assert mean.value == pytest.approx(rows.mean(), rel=1e-12, abs=1e-12)
        if rows.std() > 0:
            low, high = sps.t.interval(CONFIDENCE, rows.size - 1, loc=rows.mean(), scale=sps.sem(rows))
            assert (mean.ci_low, mean.ci_high) == pytest.approx((low, high), rel=1e-9, abs=1e-9)
        quantile = _cell(out.groups, group=label, metric=quantile_metric(q, "days"))
        assert quantile.value == pytest.approx(np.quantile(rows, q), abs=1e-12)
        expected = sps.quantile_test(rows, p=q).confidence_interval(CONFIDENCE)
        np.testing.assert_array_equal([quantile.ci_low, quantile.ci_high], [expected.low, expected.high])
    mean = _cell(out.comparisons, metric="mean:days")
    welch = sps.ttest_ind(b, a, equal_var=False)
    if np.isfinite(welch.pvalue):
        assert mean.p_value == pytest.approx(welch.pvalue, rel=1e-9, abs=1e-300)
        assert mean.statistic == pytest.approx(welch.statistic, rel=1e-9, abs=1e-12)
        low, high = welch.confidence_interval(CONFIDENCE)
        assert (mean.difference_ci_low, mean.difference_ci_high) == pytest.approx((low, high), rel=1e-9, abs=1e-9)
    median = _cell(out.comparisons, metric="median:days")
    mw = sps.mannwhitneyu(b, a, method="asymptotic", use_continuity=True)
    assert median.statistic == mw.statistic
    assert median.p_value == pytest.approx(mw.pvalue, rel=1e-9, abs=1e-300)


def test_weighted_mean_equals_numpy_average_and_reliability_variance() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.integers(1, 30, 400).astype(float), rng.integers(5, 40, 300).astype(float)
    wa, wb = rng.uniform(0.5, 3, a.size), rng.uniform(0.5, 3, b.size)
    out = _analyse(_counts([a, b], [wa, wb]))
    mean = _cell(out.groups, group="g1", metric="mean:days")
    assert mean.value == pytest.approx(np.average(b, weights=wb), rel=1e-12)
    n_eff = wb.sum() ** 2 / (wb * wb).sum()
    variance = np.sum(wb * (b - mean.value) ** 2) / (wb.sum() - (wb * wb).sum() / wb.sum())
    half = sps.t.ppf(0.975, n_eff - 1) * np.sqrt(variance / n_eff)
    assert (mean.ci_low, mean.ci_high) == pytest.approx((mean.value - half, mean.value + half), rel=1e-9)
    median = _cell(out.groups, group="g1", metric="median:days")
    order = np.argsort(b)
    cumulative = np.cumsum(wb[order])
    assert median.value == b[order][np.searchsorted(cumulative, 0.5 * wb.sum())]  # inverted weighted CDF


def test_a_binned_amount_keeps_exact_means_and_bounds_its_quantiles() -> None:
    rng = np.random.default_rng(8)
    a, b = rng.normal(2e6, 4e5, 3000), rng.normal(1.85e6, 4e5, 2500)
    exact = _counts([a, b], column="amount")
    edges = np.linspace(min(a.min(), b.min()), max(a.max(), b.max()), 4097)
    width = edges[1] - edges[0]

    def hist(rows: np.ndarray) -> np.ndarray:
        return np.bincount(np.minimum(((rows - edges[0]) // width).astype(int), 4095), minlength=4096).astype(float)

    binned = AmountCounts(column="amount", values=edges[:-1], exact=False, hist=np.array([hist(a), hist(b)]),
                          hist_sq=np.array([hist(a), hist(b)]), rows=exact.rows, missing=exact.missing,
                          sum_w=exact.sum_w, sum_wx=exact.sum_wx, sum_wx2=exact.sum_wx2, sum_w2=exact.sum_w2)
    out = _analyse(binned, higher_is="favourable")
    mean = _cell(out.comparisons, metric="mean:amount")
    welch = sps.ttest_ind(b, a, equal_var=False)
    assert mean.p_value == pytest.approx(welch.pvalue, rel=1e-6)
    assert mean.ratio == pytest.approx(b.mean() / a.mean(), rel=1e-12)
    assert mean.disadvantaged == True  # noqa: E712 - lower benefit: favourable amount, lower is worse
    median = _cell(out.groups, group="g1", metric="median:amount")
    assert median.value <= np.median(b) < median.value + width  # the lower edge of the bin holding it


def test_missing_values_unknown_groups_and_impact_ratios() -> None:
    a, b, c = np.array([10.0, 12, 14, 16]), np.array([20.0, 22, 24, 26]), np.array([5.0, 6])
    out = _analyse(_counts([a, b, np.zeros(0), c], missing=(0, 0, 7, 1)), unknown=(False, False, False, True))
    empty = _cell(out.groups, group="g2", metric="mean:days")
    assert empty.status == "undefined" and np.isnan(empty.value)
    assert empty.reason == "the group has no rows with a value of days (7 rows with it missing)"
    assert set(out.comparisons.group) == {"g1", "g2"}  # the unknown group is reported, never compared
    b_mean = _cell(out.comparisons, group="g1", metric="mean:days")
    assert b_mean.impact_ratio == pytest.approx(13 / 23)  # adverse (a delay): lowest mean / the group's mean
    assert b_mean.four_fifths_flag == True and b_mean.disadvantaged == True  # noqa: E712
    neutral = _analyse(_counts([a, b]), higher_is="neutral")
    row = _cell(neutral.comparisons, metric="mean:days")
    assert np.isnan(row.impact_ratio) and row.four_fifths_flag is None and row.disadvantaged is None


def test_inputs_are_not_mutated() -> None:
    counts = _counts([np.array([1.0, 2, 3]), np.array([2.0, 4, 4])])
    before = {name: np.copy(getattr(counts, name)) for name in ("hist", "hist_sq", "sum_wx", "values")}
    _analyse(counts)
    for name, array in before.items():
        np.testing.assert_array_equal(getattr(counts, name), array)
