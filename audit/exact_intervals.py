"""Exact intervals for a proportion and for the ratio and difference of two, from counts only.

"Exact" means the coverage holds at every sample size and every true rate,
without a normal approximation: the interval contains the true value with
probability at least its stated confidence, however few people a group has.
That is what a verdict about a group of 15 needs, and what a family-level
interval at a confidence of 99.99% needs at any size, since the normal
approximations behind Katz's and Newcombe's intervals are worst far in their
tails (see ``docs/concepts.md``, "Small groups and exact evidence").

* :func:`clopper_pearson_interval`: one proportion (Clopper & Pearson, 1934).
* :func:`exact_ratio_interval`, :func:`exact_difference_interval`: two
  independent proportions. Each group gets a Clopper-Pearson interval and the
  two are combined by Bonferroni's inequality: with error shares
  :math:`\\gamma_1 + \\gamma_2 = 1 - \\text{confidence}`, both intervals hold
  at once with probability at least the confidence, and then the ratio lies in
  :math:`[L_1/U_2,\\ U_1/L_2]` and the difference in :math:`[L_1 - U_2,\\ U_1 - L_2]`.
  The shares are set from the group sizes alone (:math:`\\gamma_i \\propto
  1/\\sqrt{n_i}`, so the smaller, less certain group gets the larger share),
  never from the outcomes, which keeps the guarantee.
* :func:`proportion_comparison_intervals`: the interval a comparison reports,
  exact where asked (small counts, or always for the family-level interval)
  and Katz's and Newcombe's elsewhere.

The price of the guarantee is width: for two large groups of equal size the
exact ratio interval is about 40% wider than Katz's. For a small group against
a large reference, the usual case in an audit, it is close to the group's own
Clopper-Pearson interval.

Counts must be whole numbers for the guarantee (weighted data use Kish
effective counts and the asymptotic intervals instead); the conventions of
:mod:`audit.stats` hold: inputs broadcast, outputs are float arrays, invalid or
empty counts give NaN, only a bad ``confidence`` raises.

References
----------
Clopper, C. J. and Pearson, E. S. (1934). "The use of confidence or fiducial
limits illustrated in the case of the binomial." Biometrika 26 (4): 404-413.
Fagerland, M. W., Lydersen, S. and Laake, P. (2015). "Recommended confidence
intervals for two independent binomial proportions." Statistical Methods in
Medical Research 24 (2): 224-254 (section 2.6: intervals from combined
single-proportion limits).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaincinv

from audit import stats

__all__ = [
    "ComparisonIntervals",
    "EXACT_METHOD",
    "ASYMPTOTIC_METHOD",
    "clopper_pearson_interval",
    "exact_difference_interval",
    "exact_ratio_interval",
    "proportion_comparison_intervals",
]

EXACT_METHOD = "exact (Clopper-Pearson, combined)"
ASYMPTOTIC_METHOD = "Katz (ratio), Newcombe (difference)"


def _bounds(x: np.ndarray, n: np.ndarray, error: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson bounds with two-sided error ``error`` (an array); no masking."""
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(x > 0, betaincinv(x, n - x + 1.0, error / 2.0), 0.0)
        high = np.where(x < n, betaincinv(x + 1.0, n - x, 1.0 - error / 2.0), 1.0)
    return low, high


def clopper_pearson_interval(successes: ArrayLike, trials: ArrayLike,
                             confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    r"""Clopper-Pearson ("exact") interval for a binomial proportion.

    Parameters
    ----------
    successes, trials : array_like of float
        Successes ``x`` and trials ``n`` (whole numbers for the guarantee). Broadcast together.
    confidence : float, default 0.95
        Nominal two-sided coverage, in (0, 1).

    Returns
    -------
    low, high : numpy.ndarray of float
        Bounds in [0, 1] (units: proportion). The coverage is at least
        ``confidence`` for every true proportion and every ``n``.

    Notes
    -----
    With :math:`\alpha = 1 - \text{confidence}`, the bounds are the
    :math:`\alpha/2` quantile of Beta(x, n - x + 1) and the :math:`1 - \alpha/2`
    quantile of Beta(x + 1, n - x); ``x = 0`` gives ``low = 0`` and ``x = n``
    gives ``high = 1``. Equal to ``statsmodels.stats.proportion.proportion_confint
    (x, n, alpha, method="beta")``. Edge cases: ``n == 0`` or invalid counts give NaN.

    Examples
    --------
    >>> low, high = clopper_pearson_interval(3, 15)
    >>> round(float(low), 4), round(float(high), 4)
    (0.0433, 0.4809)
    """
    level = stats._check_confidence(confidence)
    x, n = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(np.asarray(successes, dtype=float),
                                                                      np.asarray(trials, dtype=float)))
    low, high = _bounds(x, n, np.full(x.shape, 1.0 - level))
    bad = ~stats._valid_counts(x, n) | (n == 0)
    return stats._nan_where(bad, low, high)  # type: ignore[return-value]


def _error_shares(n1: np.ndarray, n2: np.ndarray, error: float) -> tuple[np.ndarray, np.ndarray]:
    """Split the error between two groups in proportion to 1/sqrt(n): the smaller group gets more."""
    with np.errstate(divide="ignore", invalid="ignore"):
        w1 = 1.0 / np.sqrt(np.maximum(n1, 1.0))
        w2 = 1.0 / np.sqrt(np.maximum(n2, 1.0))
        share = w1 / (w1 + w2)
    return error * share, error * (1.0 - share)


def _combined(x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike,
              confidence: float) -> tuple[np.ndarray, ...]:
    level = stats._check_confidence(confidence)
    a1, m1, a2, m2 = stats._as_float(x1, n1, x2, n2)
    e1, e2 = _error_shares(m1, m2, 1.0 - level)
    l1, u1 = _bounds(a1, m1, e1)
    l2, u2 = _bounds(a2, m2, e2)
    bad = ~stats._valid_counts(a1, m1) | ~stats._valid_counts(a2, m2) | (m1 == 0) | (m2 == 0)
    return l1, u1, l2, u2, bad


def exact_ratio_interval(x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike,
                         confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact interval for the ratio of two independent proportions ``p1 / p2``.

    Parameters
    ----------
    x1, n1 : array_like of float
        Successes and trials of group 1 (numerator).
    x2, n2 : array_like of float
        Successes and trials of group 2 (denominator). All inputs broadcast.
    confidence : float, default 0.95
        Nominal two-sided coverage, in (0, 1).

    Returns
    -------
    low, high : numpy.ndarray of float
        Bounds for the ratio (units: ratio, in [0, inf]); the coverage is at
        least ``confidence`` whatever the group sizes and true rates.

    Notes
    -----
    :math:`[L_1/U_2,\ U_1/L_2]` from Clopper-Pearson intervals whose error
    shares add up to ``1 - confidence`` (see the module docstring). ``x1 = 0``
    gives ``low = 0``; ``x2 = 0`` gives ``high = inf`` (the ratio may be
    unbounded). Edge cases: an empty group or invalid counts give NaN.
    """
    l1, u1, l2, u2, bad = _combined(x1, n1, x2, n2, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(l1 > 0, l1 / u2, 0.0)
        high = np.where(l2 > 0, u1 / np.where(l2 > 0, l2, 1.0), np.inf)
    return stats._nan_where(bad, low, high)  # type: ignore[return-value]


def exact_difference_interval(x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike,
                              confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact interval for the difference of two independent proportions ``p1 - p2``.

    Parameters and edge cases as :func:`exact_ratio_interval`; the bounds are
    :math:`[L_1 - U_2,\ U_1 - L_2]` (units: difference of proportions, in [-1, 1]).
    """
    l1, u1, l2, u2, bad = _combined(x1, n1, x2, n2, confidence)
    return stats._nan_where(bad, l1 - u2, u1 - l2)  # type: ignore[return-value]


@dataclass(frozen=True)
class ComparisonIntervals:
    """Ratio and difference intervals of a set of comparisons, with the method each used."""

    ratio_low: np.ndarray
    ratio_high: np.ndarray
    difference_low: np.ndarray
    difference_high: np.ndarray
    method: np.ndarray


def proportion_comparison_intervals(x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike, *,
                                    confidence: float, exact: ArrayLike) -> ComparisonIntervals:
    """Ratio and difference intervals, exact where ``exact`` is True and Katz/Newcombe elsewhere.

    Parameters
    ----------
    x1, n1, x2, n2 : array_like of float
        Counts of each comparison's group and reference (1-D, equal lengths).
    confidence : float
        Two-sided coverage, in (0, 1).
    exact : array_like of bool
        Where to use :func:`exact_ratio_interval` and :func:`exact_difference_interval`
        (whole counts: small counts, or a family-level interval); elsewhere
        :func:`audit.stats.katz_ratio_interval` and
        :func:`audit.stats.newcombe_difference_interval`.

    Returns
    -------
    ComparisonIntervals
        The four bounds and ``method`` (:data:`EXACT_METHOD` or :data:`ASYMPTOTIC_METHOD`).
    """
    a1, m1, a2, m2 = stats._as_float(x1, n1, x2, n2)
    use = np.broadcast_to(np.asarray(exact, dtype=bool), a1.shape)
    r_low, r_high = stats.katz_ratio_interval(a1, m1, a2, m2, confidence)
    d_low, d_high = stats.newcombe_difference_interval(a1, m1, a2, m2, confidence)
    if use.any():
        e_low, e_high = exact_ratio_interval(a1[use], m1[use], a2[use], m2[use], confidence)
        f_low, f_high = exact_difference_interval(a1[use], m1[use], a2[use], m2[use], confidence)
        r_low[use], r_high[use], d_low[use], d_high[use] = e_low, e_high, f_low, f_high
        # A ratio whose reference rate is 0 stays undefined, as Katz's is: the estimate is not a number.
        r_low[use & (a2 == 0)] = np.nan
        r_high[use & (a2 == 0)] = np.nan
    method = np.where(use, EXACT_METHOD, ASYMPTOTIC_METHOD).astype(object)
    return ComparisonIntervals(r_low, r_high, d_low, d_high, method)
