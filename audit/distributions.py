"""Statistics of a numeric variable computed from histograms, never from rows.

A *histogram* here is a vector of counts (or weights) over ascending values:
the exact distinct values of a score, amount or tier position, or the lower
edges of bins when a column had too many distinct values. Every function
takes such histograms, so a test, an interval or an AUC costs one pass over
the bins, whatever the number of rows.

With exact histograms (one bin per distinct value) and unweighted counts the
results equal the usual row-based functions: ``sklearn.metrics.roc_auc_score``,
``sklearn.calibration.calibration_curve``, ``sklearn.metrics.brier_score_loss``,
``scipy.stats.ks_2samp``, ``mannwhitneyu`` (asymptotic, with continuity
correction), ``kruskal``, ``chi2_contingency`` (without Yates' correction),
``ttest_ind(equal_var=False)``, ``numpy.quantile`` (linear) and the interval
of ``scipy.stats.quantile_test``; the tests check each against them.

Weighted histograms (non-integer counts, with a histogram of squared weights)
use the Kish effective sample size ``(Σw)² / Σw²`` wherever a sample size
enters a variance or a distribution; each function says so.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from audit.stats import _critical_value


def _sps() -> Any:
    """scipy.stats, imported on first use (about 0.6 s; a yes/no audit never needs it)."""
    from scipy import stats

    return stats

__all__ = [
    "AUCResult",
    "ChiSquareResult",
    "KSResult",
    "MannWhitneyResult",
    "MeanSummary",
    "WelchResult",
    "auc_from_histograms",
    "brier_score",
    "calibration_in_the_large",
    "calibration_table",
    "chi_square_independence",
    "difference_of_means_interval",
    "expected_calibration_error",
    "histogram_quantile",
    "kruskal_wallis",
    "ks_two_sample",
    "mann_whitney",
    "mean_interval",
    "mean_summary",
    "quantile_interval",
    "ratio_of_means_interval",
    "welch_test",
]

KS_EXACT_LIMIT = 10_000
"""Largest group size for which the KS p-value is exact (scipy's ``method="auto"`` rule)."""

CALIBRATION_COLUMNS = ["bin", "bin_low", "bin_high", "n", "mean_predicted", "observed_rate", "observed_ci_low",
                       "observed_ci_high"]


def _array(value: ArrayLike, name: str) -> np.ndarray:
    array = np.array(value, dtype=np.float64)  # a copy: callers' arrays are never touched
    if np.any(~np.isfinite(array)) or np.any(array < 0):
        raise ValueError(f"{name} must hold finite counts >= 0; got a negative or non-finite value")
    return array


def _effective_n(counts: np.ndarray, squares: np.ndarray | None) -> float:
    """Kish effective size of a histogram: Σw when unweighted (``squares`` None), else (Σw)² / Σw²."""
    total = float(counts.sum())
    if squares is None:
        return total
    sq = float(np.asarray(squares, dtype=np.float64).sum())
    return total * total / sq if sq > 0 else 0.0


def _below(counts: np.ndarray) -> np.ndarray:
    """Σ counts strictly below each bin (along the last axis)."""
    return np.cumsum(counts, axis=-1) - counts


# --------------------------------------------------------------------------- AUC


@dataclass(frozen=True)
class AUCResult:
    """Per-group AUC with DeLong standard errors and logit intervals (arrays of shape (G,))."""

    auc: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    se: np.ndarray
    n_pos: np.ndarray
    n_neg: np.ndarray
    within_bin_share: np.ndarray


def auc_from_histograms(neg: ArrayLike, pos: ArrayLike, *, confidence: float) -> AUCResult:
    r"""Area under the ROC curve per group, from score histograms of the negatives and the positives.

    Parameters
    ----------
    neg, pos : array_like, shape (G, B) or (B,)
        Rows (or Σw) with actual outcome 0 and 1 per ascending score bin.
    confidence : float
        Two-sided coverage of the interval, in (0, 1).

    Returns
    -------
    AUCResult
        ``auc`` = P(score of a positive > score of a negative) + ½ P(equal),
        equal to ``roc_auc_score`` on the rows (ties included) for an exact
        histogram; NaN for a group without positives or negatives.
        ``se`` is DeLong's standard error from the structural components
        (computed per bin), ``ci_low``/``ci_high`` the interval on the logit
        scale, logit(A) ± z·se / (A(1 − A)), which stays inside [0, 1]; it
        is NaN when A is 0 or 1 (perfect separation has no DeLong variance).
        ``within_bin_share`` is the share of positive–negative pairs that
        share a bin: for a binned score, where pairs in one bin count ½,
        the AUC of the rows lies within ½ of it.

    Notes
    -----
    With :math:`N_b, P_b` the counts in bin b, :math:`N, P` their totals,
    :math:`V_{10}(b) = (\sum_{k<b} N_k + N_b/2)/N` and
    :math:`V_{01}(b) = (\sum_{k>b} P_k + P_b/2)/P`:
    :math:`A = \sum_b P_b V_{10}(b) / P` and
    :math:`\mathrm{Var} = S_{10}/P + S_{01}/N` with
    :math:`S_{10} = \sum_b P_b (V_{10}(b) - A)^2/(P - 1)` and likewise
    :math:`S_{01}`.
    """
    n0 = np.atleast_2d(_array(neg, "neg"))
    n1 = np.atleast_2d(_array(pos, "pos"))
    if n0.shape != n1.shape:
        raise ValueError(f"neg and pos must have the same shape; got {n0.shape} and {n1.shape}")
    total_neg, total_pos = n0.sum(axis=1), n1.sum(axis=1)
    defined = (total_neg > 0) & (total_pos > 0)
    safe_neg = np.where(defined, total_neg, 1.0)[:, None]
    safe_pos = np.where(defined, total_pos, 1.0)[:, None]
    v10 = (_below(n0) + 0.5 * n0) / safe_neg
    above_pos = n1.sum(axis=1, keepdims=True) - np.cumsum(n1, axis=1)
    v01 = (above_pos + 0.5 * n1) / safe_pos
    auc = (n1 * v10).sum(axis=1) / safe_pos[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        s10 = (n1 * (v10 - auc[:, None]) ** 2).sum(axis=1) / (total_pos - 1)
        s01 = (n0 * (v01 - auc[:, None]) ** 2).sum(axis=1) / (total_neg - 1)
        se = np.sqrt(s10 / total_pos + s01 / total_neg)
        share = (n0 * n1).sum(axis=1) / (total_neg * total_pos)
    se = np.where(defined & (total_pos > 1) & (total_neg > 1), se, np.nan)
    auc = np.where(defined, auc, np.nan)
    z = _critical_value(confidence)
    interior = np.isfinite(se) & (auc > 0) & (auc < 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        logit = np.log(auc / (1 - auc))
        half = z * se / (auc * (1 - auc))
        low = np.where(interior, 1 / (1 + np.exp(-(logit - half))), np.nan)
        high = np.where(interior, 1 / (1 + np.exp(-(logit + half))), np.nan)
    return AUCResult(auc=auc, ci_low=low, ci_high=high, se=se, n_pos=total_pos, n_neg=total_neg,
                     within_bin_share=np.where(defined, share, np.nan))


# --------------------------------------------------------------------------- calibration


def calibration_table(values: ArrayLike, neg: ArrayLike, pos: ArrayLike, score_sum: ArrayLike, *,
                      n_bins: int, confidence: float = 0.95) -> pd.DataFrame:
    """Reliability table of a probability score over ``n_bins`` equal-width bins of [0, 1].

    Parameters
    ----------
    values : array_like, shape (B,)
        Ascending score values (exact values, or the lower edges of bins).
    neg, pos : array_like, shape (B,)
        Rows (or Σw) with actual outcome 0 and 1 per value.
    score_sum : array_like, shape (B,)
        Σw·score over the rows of each value with a known outcome.
    n_bins : int
        Number of calibration bins (scikit-learn's ``n_bins``).
    confidence : float
        Coverage of the Wilson interval of each observed rate.

    Returns
    -------
    pandas.DataFrame
        One row per non-empty bin: ``bin`` (0-based), ``bin_low``, ``bin_high``,
        ``n`` (Σw), ``mean_predicted`` and ``observed_rate``, equal to the
        ``prob_pred`` and ``prob_true`` of
        ``calibration_curve(y, s, n_bins=n_bins, strategy="uniform")``, with a
        Wilson interval of the observed rate. A value sits in bin k when
        edge_k < value ≤ edge_{k+1} (the first bin includes 0), as there.
    """
    from audit.stats import wilson_interval

    s = np.asarray(values, dtype=np.float64)
    n0, n1 = _array(neg, "neg"), _array(pos, "pos")
    sums = np.asarray(score_sum, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    ids = np.searchsorted(edges[1:-1], s)
    total = np.bincount(ids, weights=n0 + n1, minlength=n_bins)
    true = np.bincount(ids, weights=n1, minlength=n_bins)
    predicted = np.bincount(ids, weights=sums, minlength=n_bins)
    keep = total > 0
    low, high = wilson_interval(true[keep], total[keep], confidence)
    return pd.DataFrame({"bin": np.flatnonzero(keep), "bin_low": edges[:-1][keep], "bin_high": edges[1:][keep],
                         "n": total[keep], "mean_predicted": predicted[keep] / total[keep],
                         "observed_rate": true[keep] / total[keep], "observed_ci_low": low,
                         "observed_ci_high": high}, columns=CALIBRATION_COLUMNS)


def brier_score(neg: ArrayLike, pos: ArrayLike, score_sum_pos: ArrayLike, score_sq_sum: ArrayLike) -> float:
    """Mean squared difference between the score and the outcome (``brier_score_loss``); NaN without rows.

    ``score_sum_pos`` is Σw·s over the positives per bin, ``score_sq_sum`` Σw·s²
    over all rows with a known outcome per bin. Units: squared probability.
    """
    n0, n1 = _array(neg, "neg"), _array(pos, "pos")
    total = n0.sum() + n1.sum()
    if total <= 0:
        return float("nan")
    squares = float(np.sum(score_sq_sum)) - 2.0 * float(np.sum(score_sum_pos)) + float(n1.sum())
    return max(squares, 0.0) / float(total)


def calibration_in_the_large(neg: ArrayLike, pos: ArrayLike, score_sum: ArrayLike) -> float:
    """Mean score minus observed positive rate (positive: the score over-predicts); NaN without rows."""
    n0, n1 = _array(neg, "neg"), _array(pos, "pos")
    total = n0.sum() + n1.sum()
    if total <= 0:
        return float("nan")
    return (float(np.sum(score_sum)) - float(n1.sum())) / float(total)


def expected_calibration_error(table: pd.DataFrame) -> float:
    """Σ_bins (n_bin / n) · |mean predicted − observed rate| over a :func:`calibration_table`; NaN when empty."""
    total = float(table["n"].sum())
    if total <= 0:
        return float("nan")
    gaps = (table["mean_predicted"] - table["observed_rate"]).abs()
    return float((table["n"] * gaps).sum() / total)


# --------------------------------------------------------------------------- two-sample tests


@dataclass(frozen=True)
class KSResult:
    """Two-sample Kolmogorov–Smirnov test: D, its p-value and how the p-value was computed."""

    statistic: float
    p_value: float
    method: str


def ks_two_sample(values: ArrayLike, h1: ArrayLike, h2: ArrayLike, h1_sq: ArrayLike | None = None,
                  h2_sq: ArrayLike | None = None) -> KSResult:
    """Two-sided two-sample KS test of the distributions held by two histograms over the same ``values``.

    D is the largest gap between the two empirical CDFs. Unweighted, it equals
    ``scipy.stats.ks_2samp(x1, x2)`` (``method="auto"``): the exact p-value
    when both groups have at most :data:`KS_EXACT_LIMIT` rows (computed by
    scipy on the rows rebuilt from the histogram, which is cheap at that
    size), else Smirnov's asymptotic ``kstwo.sf(D, round(n1 n2 / (n1 + n2)))``.
    With weights (``h1_sq``/``h2_sq``: Σw² per bin, differing from the
    counts), D uses the weighted CDFs and the asymptotic p-value the Kish
    effective sizes. For a binned histogram D is the largest gap at the bin
    edges, a lower bound of the rows' D. NaN when a group is empty.
    """
    x = np.asarray(values, dtype=np.float64)
    c1, c2 = _array(h1, "h1"), _array(h2, "h2")
    n1, n2 = c1.sum(), c2.sum()
    if n1 <= 0 or n2 <= 0:
        return KSResult(float("nan"), float("nan"), "none")
    weighted = any(sq is not None and not np.array_equal(np.asarray(sq, dtype=np.float64), c)
                   for sq, c in ((h1_sq, c1), (h2_sq, c2)))
    whole = np.array_equal(c1, np.rint(c1)) and np.array_equal(c2, np.rint(c2))
    if not weighted and whole and max(n1, n2) <= KS_EXACT_LIMIT:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = _sps().ks_2samp(np.repeat(x, c1.astype(np.int64)), np.repeat(x, c2.astype(np.int64)),
                                  method="auto")
        fell_back = any("Switching" in str(w.message) for w in caught)  # scipy's exact method can fail
        return KSResult(float(result.statistic), float(result.pvalue),
                        "asymptotic (the exact computation failed)" if fell_back else "exact")
    d = float(np.max(np.abs(np.cumsum(c1) / n1 - np.cumsum(c2) / n2)))
    e1 = _effective_n(c1, None if not weighted else np.asarray(h1_sq if h1_sq is not None else c1, dtype=float))
    e2 = _effective_n(c2, None if not weighted else np.asarray(h2_sq if h2_sq is not None else c2, dtype=float))
    en = e1 * e2 / (e1 + e2)
    p = float(np.clip(_sps().kstwo.sf(d, max(int(np.round(en)), 1)), 0.0, 1.0))
    return KSResult(d, p, "asymptotic (effective sizes)" if weighted else "asymptotic")


@dataclass(frozen=True)
class MannWhitneyResult:
    """Mann–Whitney U of the first group, its two-sided p-value and the effect U / (n1 n2)."""

    statistic: float
    p_value: float
    effect: float


def mann_whitney(h1: ArrayLike, h2: ArrayLike) -> MannWhitneyResult:
    """Mann–Whitney test of two histograms over the same ascending values.

    Equal to ``scipy.stats.mannwhitneyu(x1, x2, method="asymptotic",
    use_continuity=True)`` on the rows: U of group 1 (ties count ½), the
    tie-corrected normal approximation, two-sided. ``effect`` is U/(n1 n2) =
    P(a value of group 1 is larger) + ½ P(equal), 0.5 meaning no shift.
    Non-integer counts (weights scaled to effective sizes) go through the
    same formulas. NaN when a group is empty; when every value is the same
    (no variance) the p-value is 1, as scipy gives.
    """
    c1, c2 = _array(h1, "h1"), _array(h2, "h2")
    n1, n2 = float(c1.sum()), float(c2.sum())
    if n1 <= 0 or n2 <= 0:
        return MannWhitneyResult(float("nan"), float("nan"), float("nan"))
    u1 = float(np.sum(c1 * (_below(c2) + 0.5 * c2)))
    n = n1 + n2
    ties = c1 + c2
    tie_term = float(np.sum(ties ** 3 - ties))
    variance = n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))) if n > 1 else 0.0
    u = max(u1, n1 * n2 - u1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.float64(u - n1 * n2 / 2 - 0.5) / np.sqrt(max(variance, 0.0))
    p = float(np.clip(2 * _sps().norm.sf(z), 0.0, 1.0))  # all values tied: z = -inf and p = 1, as scipy
    return MannWhitneyResult(u1, p, u1 / (n1 * n2))


def kruskal_wallis(table: ArrayLike) -> tuple[float, float, float]:
    """Kruskal–Wallis H test of groups × ascending values (rows: groups), as ``scipy.stats.kruskal``.

    Returns (H, degrees of freedom, p-value); groups without rows are left out;
    NaN when fewer than 2 groups remain or every value is the same.
    """
    counts = _array(table, "table")
    counts = counts[counts.sum(axis=1) > 0]
    groups = counts.shape[0]
    total = counts.sum()
    ties = counts.sum(axis=0)
    correction = 1 - float(np.sum(ties ** 3 - ties)) / (total ** 3 - total) if total > 1 else 0.0
    if groups < 2 or correction <= 0:
        return float("nan"), float("nan"), float("nan")
    midrank = _below(ties) + (ties + 1) / 2
    rank_sums = counts @ midrank
    h = 12 / (total * (total + 1)) * float(np.sum(rank_sums ** 2 / counts.sum(axis=1))) - 3 * (total + 1)
    h /= correction
    dof = groups - 1
    return float(h), float(dof), float(_sps().chi2.sf(h, dof))


@dataclass(frozen=True)
class ChiSquareResult:
    """Chi-square test of independence of a contingency table, with Cramér's V."""

    statistic: float
    dof: float
    p_value: float
    cramers_v: float
    min_expected: float


def chi_square_independence(table: ArrayLike) -> ChiSquareResult:
    """Pearson's chi-square test of independence of a table of counts (rows × columns), without Yates' correction.

    All-zero rows and columns are dropped first; equal to
    ``scipy.stats.chi2_contingency(table, correction=False)`` and Cramér's V of
    ``scipy.stats.contingency.association(table, method="cramer")``. NaN with
    fewer than 2 rows or columns left.
    """
    counts = _array(table, "table")
    counts = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    if counts.ndim != 2 or min(counts.shape) < 2:
        nan = float("nan")
        return ChiSquareResult(nan, nan, nan, nan, nan)
    result = _sps().chi2_contingency(counts, correction=False)
    total = counts.sum()
    v = float(np.sqrt(result.statistic / (total * (min(counts.shape) - 1))))
    return ChiSquareResult(float(result.statistic), float(result.dof), float(result.pvalue), v,
                           float(result.expected_freq.min()))


# --------------------------------------------------------------------------- means


@dataclass(frozen=True)
class MeanSummary:
    """Mean of one group with its standard error and the sample size behind it.

    ``variance`` is the sample variance (n − 1 denominator, or the reliability-
    weighted one with weights), ``n`` the rows or Kish effective size.
    """

    mean: float
    variance: float
    n: float

    @property
    def se(self) -> float:
        """Standard error of the mean (units of the amount); NaN with fewer than 2 rows."""
        return float(np.sqrt(self.variance / self.n)) if self.n > 1 and np.isfinite(self.variance) else float("nan")


def mean_summary(values: ArrayLike | None, counts: ArrayLike, *, sum_w: float, sum_wx: float, sum_wx2: float,
                 sum_w2: float, exact: bool) -> MeanSummary:
    """Mean and variance of a group from its histogram (exact values) or from its sums (binned values).

    With an exact histogram the variance is Σw (x − mean)² over the values,
    which avoids the cancellation of Σwx² − (Σwx)²/Σw; with a binned one the
    sums are used. Unweighted (Σw² = Σw) the variance has denominator n − 1
    as in ``numpy.var(ddof=1)``; weighted, W − Σw²/W and n is the Kish
    effective size. NaN mean without rows; NaN variance with fewer than 2.
    """
    nan = float("nan")
    if sum_w <= 0:
        return MeanSummary(nan, nan, 0.0)
    mean = sum_wx / sum_w
    if exact and values is not None:
        x = np.asarray(values, dtype=np.float64)
        w = np.asarray(counts, dtype=np.float64)
        mean = float(np.sum(w * x) / sum_w)
        squares = float(np.sum(w * (x - mean) ** 2))
    else:
        squares = max(sum_wx2 - sum_wx * sum_wx / sum_w, 0.0)
    denominator = sum_w - sum_w2 / sum_w
    n = sum_w * sum_w / sum_w2 if sum_w2 > 0 else 0.0
    variance = squares / denominator if denominator > 0 else nan
    return MeanSummary(float(mean), float(variance), float(n))


def mean_interval(summary: MeanSummary, confidence: float) -> tuple[float, float]:
    """Student-t interval of a mean (df = n − 1); NaN with fewer than 2 rows."""
    se = summary.se
    if not np.isfinite(se):
        return float("nan"), float("nan")
    half = float(_sps().t.ppf(0.5 + confidence / 2, summary.n - 1)) * se
    return summary.mean - half, summary.mean + half


@dataclass(frozen=True)
class WelchResult:
    """Welch's t test of two means: t, Welch–Satterthwaite degrees of freedom, two-sided p-value."""

    statistic: float
    dof: float
    p_value: float
    se: float


def welch_test(a: MeanSummary, b: MeanSummary) -> WelchResult:
    """Welch's unequal-variances t test of mean(a) − mean(b), equal to ``ttest_ind(a, b, equal_var=False)``.

    NaN when either group has fewer than 2 rows. When neither group varies,
    t is ±inf with p = 0 for different means and NaN for equal ones, as in
    scipy; the interval of the difference is then the difference itself.
    """
    nan = float("nan")
    va, vb = a.variance / a.n if a.n > 0 else nan, b.variance / b.n if b.n > 0 else nan
    se2 = va + vb
    if not np.isfinite(se2) or a.n < 2 or b.n < 2:
        return WelchResult(nan, nan, nan, nan)
    if se2 <= 0:  # no variance in either group: any difference is certain (scipy: t = ±inf, p = 0)
        if a.mean == b.mean:
            return WelchResult(nan, nan, nan, 0.0)
        return WelchResult(float(np.copysign(np.inf, a.mean - b.mean)), nan, 0.0, 0.0)
    dof = se2 ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1))
    t = (a.mean - b.mean) / np.sqrt(se2)
    return WelchResult(float(t), float(dof), float(2 * _sps().t.sf(abs(t), dof)), float(np.sqrt(se2)))


def difference_of_means_interval(a: MeanSummary, b: MeanSummary, confidence: float) -> tuple[float, float]:
    """Welch interval of mean(a) − mean(b) (t quantile at the Welch–Satterthwaite df); NaN when undefined."""
    test = welch_test(a, b)
    difference = a.mean - b.mean
    if test.se == 0:
        return difference, difference
    if not np.isfinite(test.dof):
        return float("nan"), float("nan")
    half = float(_sps().t.ppf(0.5 + confidence / 2, test.dof)) * test.se
    return difference - half, difference + half


def ratio_of_means_interval(a: MeanSummary, b: MeanSummary, confidence: float) -> tuple[float, float]:
    """Interval of mean(a) / mean(b) by the delta method on the log scale; NaN unless both means are > 0.

    log(ratio) ± z·sqrt(se_a²/mean_a² + se_b²/mean_b²), for amounts that are
    positive (money, days); a ratio of means that can be negative has no
    meaningful interval.
    """
    if not (a.mean > 0 and b.mean > 0 and np.isfinite(a.se) and np.isfinite(b.se)):
        return float("nan"), float("nan")
    z = _critical_value(confidence)
    half = z * float(np.hypot(a.se / a.mean, b.se / b.mean))
    log_ratio = float(np.log(a.mean / b.mean))
    return float(np.exp(log_ratio - half)), float(np.exp(log_ratio + half))


# --------------------------------------------------------------------------- quantiles


def _order_statistic(values: np.ndarray, cumulative: np.ndarray, k: float) -> float:
    """The value at 0-based position ``k`` of the sorted rows (positions scaled to weights by the caller)."""
    return float(values[min(int(np.searchsorted(cumulative, k, side="right")), values.size - 1)])


def histogram_quantile(values: ArrayLike, counts: ArrayLike, q: float) -> float:
    """Quantile ``q`` (in [0, 1]) of the rows a histogram holds; NaN without rows.

    Whole counts: ``numpy.quantile(rows, q)`` (linear interpolation between the
    two order statistics around (n − 1)·q). Non-integer counts (weights): the
    smallest value whose cumulative weight reaches q·W (the inverted weighted
    CDF). For a binned histogram the values are lower bin edges, so the
    quantile is the lower edge of the bin that holds it.
    """
    x = np.asarray(values, dtype=np.float64)
    c = _array(counts, "counts")
    keep = c > 0
    x, c = x[keep], c[keep]
    total = c.sum()
    if total <= 0:
        return float("nan")
    cumulative = np.cumsum(c)
    if not np.array_equal(c, np.rint(c)):
        return float(x[min(int(np.searchsorted(cumulative, q * total, side="left")), x.size - 1)])
    position = (total - 1) * q  # numpy's virtual index for method="linear"
    lower = np.floor(position)
    low = _order_statistic(x, cumulative, lower)
    high = _order_statistic(x, cumulative, min(lower + 1, total - 1))
    t = position - lower
    return float(high - (high - low) * (1 - t) if t >= 0.5 else low + (high - low) * t)  # numpy's _lerp


def quantile_interval(values: ArrayLike, counts: ArrayLike, q: float, confidence: float,
                      counts_sq: ArrayLike | None = None) -> tuple[float, float]:
    """Distribution-free interval of quantile ``q`` from order statistics, as ``scipy.stats.quantile_test``.

    With n rows and B ~ Binomial(n, q), the bounds are the order statistics
    at 0-based positions ``B.ppf(a) − 1`` and ``B.isf(a)`` with a = (1 −
    confidence)/2; a bound beyond the data is NaN (too few rows for that
    coverage). With weights, n is the Kish effective size and positions are
    scaled to the cumulative weight.
    """
    x = np.asarray(values, dtype=np.float64)
    c = _array(counts, "counts")
    keep = c > 0
    x, c = x[keep], c[keep]
    total = float(c.sum())
    if total <= 0:
        return float("nan"), float("nan")
    weighted = counts_sq is not None and not np.array_equal(np.asarray(counts_sq, dtype=np.float64)[keep], c)
    n = _effective_n(c, np.asarray(counts_sq, dtype=np.float64)[keep] if weighted else None)
    size = max(int(np.floor(n)), 1) if weighted else int(round(total))
    binomial = _sps().binom(size, q)
    a = (1 - confidence) / 2
    low_index, high_index = int(binomial.ppf(a)) - 1, int(binomial.isf(a))
    scale = total / size
    cumulative = np.cumsum(c)
    low = _order_statistic(x, cumulative, low_index * scale) if low_index >= 0 else float("nan")
    high = _order_statistic(x, cumulative, high_index * scale) if high_index < size else float("nan")
    return low, high
