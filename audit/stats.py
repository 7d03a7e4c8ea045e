"""Intervals and tests for proportions, computed from counts only.

Every function here takes *counts* (successes and trials per group, or the four
confusion counts), never row-level data, so the same code serves unweighted data
and weighted data summarised as Kish effective counts (:func:`effective_counts`).
Counts may therefore be non-integer.

Conventions shared by all functions:

* Inputs are scalars or numpy arrays and broadcast against each other. Outputs
  are always ``numpy.ndarray`` of dtype float with the broadcast shape (a 0-d
  array for scalar inputs), never numpy scalars.
* Inputs are never modified.
* Degenerate or invalid counts never raise: a value that is undefined is NaN.
  A count set is *invalid* when any value is non-finite, a number of trials is
  negative, or a number of successes lies outside ``[0, trials]``.
  Only a badly formed *argument* (a ``confidence`` outside (0, 1), an unknown
  method name, a missing random generator) raises ``ValueError`` or ``TypeError``.
* ``confidence`` is the nominal two-sided coverage, in (0, 1), default 0.95.

The interval and test formulas reproduce statsmodels (``proportion_confint``,
``confint_proportions_2indep``, ``proportions_ztest``, ``multipletests``) and
scipy (``fisher_exact``) to floating-point precision wherever those are defined;
the tests in ``tests/test_stats.py`` check this.
"""

from __future__ import annotations

import functools

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr, ndtri  # the normal cdf and its inverse, as scipy.stats.norm uses them

__all__ = [
    "ComparisonTest",
    "adjust_p_values",
    "bootstrap_confusion",
    "compare_proportions",
    "effective_counts",
    "fisher_exact_test",
    "katz_ratio_interval",
    "newcombe_difference_interval",
    "normal_test",
    "percentile_interval",
    "smallest_expected",
    "two_proportion_z_test",
    "wilson_interval",
]

P_VALUE_METHODS: tuple[str, ...] = ("holm", "bh", "none")
_SUM_TOLERANCE = 1e-9  # relative slack for W_x > W in effective_counts


# --------------------------------------------------------------------------- helpers


def _check_confidence(confidence: float) -> float:
    """Return ``confidence`` as a float, or raise ``ValueError`` if it is not in (0, 1)."""
    try:
        value = float(confidence)
    except (TypeError, ValueError):
        raise ValueError(
            f"confidence must be a number in the open interval (0, 1); got {confidence!r}"
        ) from None
    if not 0.0 < value < 1.0:
        raise ValueError(
            f"confidence must be in the open interval (0, 1), e.g. 0.95; got {confidence!r}"
        )
    return value


@functools.lru_cache(maxsize=32)
def _critical_value(confidence: float) -> float:
    """Two-sided standard normal critical value ``z_{1 - alpha/2}``, ``alpha = 1 - confidence``."""
    return float(-ndtri((1.0 - confidence) / 2.0))  # = scipy.stats.norm.isf


def _as_float(*values: ArrayLike) -> list[np.ndarray]:
    """Broadcast the inputs to a common shape as (new) float arrays."""
    arrays = [np.asarray(v, dtype=float) for v in values]
    return [np.array(a, dtype=float) for a in np.broadcast_arrays(*arrays)]


def _valid_counts(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Mask of well-formed count pairs: finite, ``n >= 0`` and ``0 <= x <= n``."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(x) & np.isfinite(n) & (n >= 0) & (x >= 0) & (x <= n)


def _wilson(x: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson bounds in statsmodels' algebraic form, clipped to [0, 1]; no masking."""
    with np.errstate(divide="ignore", invalid="ignore"):
        q = x / n
        z2 = z**2
        denom = 1.0 + z2 / n
        center = (q + z2 / (2.0 * n)) / denom
        dist = z * np.sqrt(q * (1.0 - q) / n + z2 / (4.0 * n**2)) / denom
        low = np.clip(center - dist, 0.0, 1.0)
        high = np.clip(center + dist, 0.0, 1.0)
    return low, high


def _nan_where(mask: np.ndarray, *values: np.ndarray) -> tuple[np.ndarray, ...]:
    """Return float copies of ``values`` with NaN where ``mask`` is True."""
    return tuple(np.asarray(np.where(mask, np.nan, v), dtype=float) for v in values)


# --------------------------------------------------------------------------- intervals


def wilson_interval(
    successes: ArrayLike, trials: ArrayLike, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    r"""Wilson score interval for a binomial proportion.

    Parameters
    ----------
    successes : array_like of float
        Number of successes ``x`` (may be a non-integer effective count).
    trials : array_like of float
        Number of trials ``n``. Broadcast against ``successes``.
    confidence : float, default 0.95
        Nominal two-sided coverage, in (0, 1).

    Returns
    -------
    low, high : numpy.ndarray of float
        Interval bounds for the proportion, in [0, 1] (units: proportion), with the
        broadcast shape of the inputs.

    Raises
    ------
    ValueError
        If ``confidence`` is not in (0, 1).

    Notes
    -----
    With :math:`\hat p = x/n` and :math:`z = \Phi^{-1}(1 - \alpha/2)`,
    :math:`\alpha = 1 - \text{confidence}`:

    .. math::

        \frac{\hat p + z^2/(2n)}{1 + z^2/n} \pm
        \frac{z}{1 + z^2/n}\sqrt{\frac{\hat p(1-\hat p)}{n} + \frac{z^2}{4n^2}}

    The bounds are clipped to [0, 1] (they only leave it through rounding), as in
    ``statsmodels.stats.proportion.proportion_confint(method="wilson")``, which this
    function equals to floating-point precision (better than 1e-9). ``x = 0``
    gives ``low = 0`` and ``x = n`` gives ``high = 1`` exactly (statsmodels can
    return 1 - 1.1e-16 there), so the interval always contains :math:`\hat p`.

    Edge cases: ``n == 0`` gives ``(nan, nan)`` (no data), as do invalid counts
    (non-finite, ``n < 0``, ``x < 0`` or ``x > n``).

    References
    ----------
    Wilson, E. B. (1927). "Probable inference, the law of succession, and
    statistical inference." JASA 22 (158): 209-212.
    Brown, L. D., Cai, T. T. and DasGupta, A. (2001). "Interval Estimation for a
    Binomial Proportion." Statistical Science 16 (2): 101-133.

    Examples
    --------
    >>> low, high = wilson_interval(3, 10)
    >>> round(float(low), 4), round(float(high), 4)
    (0.1078, 0.6032)
    """
    z = _critical_value(_check_confidence(confidence))
    x, n = _as_float(successes, trials)
    low, high = _wilson(x, n, z)
    # Exact where the algebra is exact but rounding is not (e.g. 0.9999999999999999).
    low = np.where(x == 0, 0.0, low)
    high = np.where(x == n, 1.0, high)
    bad = ~_valid_counts(x, n) | (n == 0)
    return _nan_where(bad, low, high)  # type: ignore[return-value]


def newcombe_difference_interval(
    x1: ArrayLike,
    n1: ArrayLike,
    x2: ArrayLike,
    n2: ArrayLike,
    confidence: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Newcombe's hybrid score interval for the difference of proportions ``p1 - p2``.

    Parameters
    ----------
    x1, n1 : array_like of float
        Successes and trials of group 1.
    x2, n2 : array_like of float
        Successes and trials of group 2. All four inputs broadcast together.
    confidence : float, default 0.95
        Nominal two-sided coverage, in (0, 1).

    Returns
    -------
    low, high : numpy.ndarray of float
        Interval bounds for ``p1 - p2`` (units: difference of proportions, in
        [-1, 1]).

    Raises
    ------
    ValueError
        If ``confidence`` is not in (0, 1).

    Notes
    -----
    Method 10 of Newcombe (1998). With :math:`(l_i, u_i)` the Wilson interval of
    :math:`\hat p_i` (see :func:`wilson_interval`, including its clipping) and
    :math:`\hat d = \hat p_1 - \hat p_2`:

    .. math::

        \text{low} = \hat d - \sqrt{(\hat p_1 - l_1)^2 + (u_2 - \hat p_2)^2},\quad
        \text{high} = \hat d + \sqrt{(u_1 - \hat p_1)^2 + (\hat p_2 - l_2)^2}

    This equals ``statsmodels.stats.proportion.confint_proportions_2indep(...,
    method="newcomb", compare="diff")`` on every input where statsmodels is
    defined, including ``x = 0`` and ``x = n`` (no special casing there).

    Edge cases: ``n1 == 0`` or ``n2 == 0`` gives ``(nan, nan)``; so do invalid
    counts.

    References
    ----------
    Newcombe, R. G. (1998). "Interval Estimation for the Difference between
    Independent Proportions: Comparison of Eleven Methods." Statistics in
    Medicine 17 (8): 873-890.
    """
    z = _critical_value(_check_confidence(confidence))
    a1, m1, a2, m2 = _as_float(x1, n1, x2, n2)
    l1, u1 = _wilson(a1, m1, z)
    l2, u2 = _wilson(a2, m2, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = a1 / m1
        p2 = a2 / m2
        diff = p1 - p2
        low = diff - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
        high = diff + np.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    bad = ~_valid_counts(a1, m1) | ~_valid_counts(a2, m2) | (m1 == 0) | (m2 == 0)
    return _nan_where(bad, low, high)  # type: ignore[return-value]


def katz_ratio_interval(
    x1: ArrayLike,
    n1: ArrayLike,
    x2: ArrayLike,
    n2: ArrayLike,
    confidence: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Katz log interval for the ratio of proportions ``p1 / p2``.

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
        Interval bounds for the ratio (units: ratio, in [0, inf)).

    Raises
    ------
    ValueError
        If ``confidence`` is not in (0, 1).

    Notes
    -----
    With :math:`\hat r = (x_1/n_1)/(x_2/n_2)` and
    :math:`z = \Phi^{-1}(1 - \alpha/2)`:

    .. math::

        \exp\left(\log \hat r \pm z\sqrt{1/x_1 - 1/n_1 + 1/x_2 - 1/n_2}\right)

    Where ``x1 > 0`` and ``x2 > 0`` no correction is applied; this equals
    ``statsmodels.stats.proportion.confint_proportions_2indep(..., method="log",
    compare="ratio")``, which is likewise uncorrected (statsmodels' *default*
    ratio method, ``"log-adjusted"``, adds 0.5 to every count; that is not used
    here except in the zero case below).

    Edge cases:

    * ``n1 == 0`` or ``n2 == 0``: ``(nan, nan)``; no data, the ratio is undefined.
    * ``x2 == 0`` (any ``x1``): ``(nan, nan)``; the ratio is infinite (``x1 > 0``)
      or 0/0 (``x1 == 0``).
    * ``x1 == 0`` and ``x2 > 0``: ``low = 0.0`` exactly (the point estimate is
      0 and the log scale cannot hold it), and ``high`` is the Katz upper bound
      after the Haldane-Anscombe correction: 0.5 added to ``x1``, ``x2``, ``n1``
      and ``n2``. This is the upper bound of statsmodels' ``"log-adjusted"``
      method.
    * Invalid counts: ``(nan, nan)``.
    * ``x1 == n1`` and ``x2 == n2``: the variance is 0 and the interval is the
      single point ``(1, 1)``.

    References
    ----------
    Katz, D., Baptista, J., Azen, S. P. and Pike, M. C. (1978). "Obtaining
    confidence intervals for the risk ratio in cohort studies." Biometrics 34 (3):
    469-474.
    Fagerland, M. W., Lydersen, S. and Laake, P. (2015). "Recommended confidence
    intervals for two independent binomial proportions." Statistical Methods in
    Medical Research 24 (2): 224-254.
    """
    z = _critical_value(_check_confidence(confidence))
    a1, m1, a2, m2 = _as_float(x1, n1, x2, n2)
    zero_numerator = a1 == 0
    # Haldane-Anscombe correction only where the numerator count is zero.
    half = np.where(zero_numerator, 0.5, 0.0)
    c1, k1, c2, k2 = a1 + half, m1 + half, a2 + half, m2 + half
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log((c1 / k1) / (c2 / k2))
        d_log = z * np.sqrt(1.0 / c1 - 1.0 / k1 + 1.0 / c2 - 1.0 / k2)
        low = np.exp(log_ratio - d_log)
        high = np.exp(log_ratio + d_log)
    low = np.where(zero_numerator, 0.0, low)
    bad = (
        ~_valid_counts(a1, m1)
        | ~_valid_counts(a2, m2)
        | (m1 == 0)
        | (m2 == 0)
        | (a2 == 0)
    )
    return _nan_where(bad, low, high)  # type: ignore[return-value]


# --------------------------------------------------------------------------- tests


def two_proportion_z_test(
    x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    r"""Pooled two-proportion z test of ``p1 == p2``, two-sided.

    Parameters
    ----------
    x1, n1 : array_like of float
        Successes and trials of group 1.
    x2, n2 : array_like of float
        Successes and trials of group 2. All inputs broadcast.

    Returns
    -------
    z : numpy.ndarray of float
        Test statistic (standard normal units); positive when ``p1 > p2``.
    p : numpy.ndarray of float
        Two-sided p-value, :math:`2\,(1 - \Phi(|z|))`.

    Notes
    -----
    With :math:`\bar p = (x_1 + x_2)/(n_1 + n_2)`:

    .. math::

        z = \frac{x_1/n_1 - x_2/n_2}{\sqrt{\bar p(1-\bar p)(1/n_1 + 1/n_2)}}

    This equals ``statsmodels.stats.proportion.proportions_ztest([x1, x2],
    [n1, n2])`` wherever that is defined (``0 < \bar p < 1``).

    Edge cases: when the pooled proportion is 0 or 1 both groups have identical
    rates and the variance is 0; the result is ``z = 0``, ``p = 1.0`` (no evidence
    of a difference) where statsmodels returns NaN. ``n1 == 0`` or ``n2 == 0``,
    or invalid counts, give ``(nan, nan)``.

    References
    ----------
    Agresti, A. (2013). *Categorical Data Analysis*, 3rd ed., section 3.1.
    """
    a1, m1, a2, m2 = _as_float(x1, n1, x2, n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (a1 + a2) / (m1 + m2)
        var = pooled * (1.0 - pooled) * (1.0 / m1 + 1.0 / m2)
        z = (a1 / m1 - a2 / m2) / np.sqrt(var)
    no_variance = (pooled == 0.0) | (pooled == 1.0)
    z = np.where(no_variance, 0.0, z)
    p = np.where(no_variance, 1.0, 2.0 * ndtr(-np.abs(z)))  # = 2 scipy.stats.norm.sf(|z|)
    bad = ~_valid_counts(a1, m1) | ~_valid_counts(a2, m2) | (m1 == 0) | (m2 == 0)
    return _nan_where(bad, z, p)  # type: ignore[return-value]


_FISHER_TIE = 1 + 1e-7  # relative tolerance for "no more likely than the observed table" (R's fisher.test)
_FISHER_CHUNK = 2_000_000  # support points evaluated per call, to bound memory


def _fisher(
    x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Element-wise two-sided Fisher test on rounded counts: (odds ratio, p-value), as ``scipy.stats.fisher_exact``.

    Vectorised over tables: each p-value is the sum of the hypergeometric
    probabilities of the tables (same margins) no more likely than the
    observed one, within a relative 1e-7 for ties, the quantity scipy
    computes with its cdf, sf and binary search; the two agree to about
    1e-13 relative. scipy's special cases are kept: a zero row or column
    total gives (NaN, 1.0), and an observed table as likely as the most
    likely one gives p = 1 exactly.
    """
    r1, s1, r2, s2 = (np.rint(v) for v in (x1, n1, x2, n2))
    bad = ~_valid_counts(r1, s1) | ~_valid_counts(r2, s2) | (s1 == 0) | (s2 == 0)
    odds = np.full(r1.shape, np.nan)
    p = np.full(r1.shape, np.nan)
    ok = ~bad
    a, row1 = r1[ok].astype(np.int64), s1[ok].astype(np.int64)
    c, row2 = r2[ok].astype(np.int64), s2[ok].astype(np.int64)
    b, d = row1 - a, row2 - c
    margin = (a + c == 0) | (b + d == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where((c > 0) & (b > 0), a * d / np.where((c > 0) & (b > 0), c * b, 1), np.inf)
    ratio[margin] = np.nan
    p_ok = np.ones(a.shape)
    live = np.flatnonzero(~margin)
    total, column = row1 + row2, a + c
    low, length = _fisher_window(a, row1, total, column, row2)
    start = 0
    while start < live.size:  # chunks of tables whose supports fit in _FISHER_CHUNK points
        widest = np.maximum.accumulate(length[live[start:]]) * np.arange(1, live.size - start + 1)
        stop = start + max(1, int(np.searchsorted(widest, _FISHER_CHUNK)))
        p_ok[live[start:stop]] = _fisher_two_sided(live[start:stop], a, row1, total, column, low, length)
        start = stop
    odds[ok], p[ok] = ratio, p_ok
    return odds, p


_FISHER_WINDOW_SD = 40.0  # with 400 points more, every probability beyond the window underflows (see _fisher_window)


def _fisher_window(a: np.ndarray, row1: np.ndarray, total: np.ndarray, column: np.ndarray,
                   row2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The part of each hypergeometric support that holds its probability: (first point, length).

    The support runs from max(0, column - row2) to min(row1, column). Only the
    points within 40 standard deviations plus 400 of the mean are evaluated:
    every point beyond has a probability below exp(-745) times the mode's (checked
    over sizes from 50 to 5 million, Gaussian and Poisson-like tails alike), which
    underflows in double precision, so large tables cost O(sd) rather than
    O(support). A table observed outside that window is evaluated on its whole
    support, so the p-value stays exact.
    """
    low = np.maximum(0, column - row2)
    high = np.minimum(row1, column)
    n, k, m = (v.astype(np.float64) for v in (row1, column, total))
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(m > 0, n * k / np.where(m > 0, m, 1.0), 0.0)
        variance = np.where(m > 1, n * k * (m - n) * (m - k) / (m * m * np.maximum(m - 1.0, 1.0)), 0.0)
    half = np.ceil(_FISHER_WINDOW_SD * np.sqrt(np.maximum(variance, 0.0))).astype(np.int64) + 400
    centre = np.rint(mean).astype(np.int64)
    first = np.maximum(low, centre - half)
    last = np.minimum(high, centre + half)
    outside = (a < first) | (a > last)
    first = np.where(outside, low, first)
    last = np.where(outside, high, last)
    return first, last - first + 1


def _fisher_two_sided(tables: np.ndarray, a: np.ndarray, row1: np.ndarray, total: np.ndarray,
                      column: np.ndarray, low: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Two-sided Fisher p-values of ``tables`` (indices) from each whole hypergeometric support.

    Log-probabilities relative to the support's first point come from the
    ratio of consecutive probabilities, (K − x)(N − x) / ((x + 1)(M − K − N + x + 1)),
    summed along each table's row (a padded 2-D array), so no factorial of a
    large count is ever evaluated; p = Σ_tail / Σ_all by log-sum-exp.
    """
    size = int(length[tables].max())
    lo, k, n, m, obs = (v[tables][:, None] for v in (low, row1, column, total, a))
    x = lo + np.arange(size)[None, :]
    inside = x < lo + length[tables][:, None]
    step = x[:, :-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = (np.log(np.maximum(k - step, 1)) + np.log(np.maximum(n - step, 1)) - np.log(step + 1)
                 - np.log(np.maximum(m - k - n + step + 1, 1)))
    terms = np.where(inside[:, 1:], terms, 0.0)
    log_w = np.concatenate([np.zeros((tables.size, 1)), np.cumsum(terms, axis=1)], axis=1)
    observed = np.take_along_axis(log_w, obs - lo, axis=1)
    relative = np.where(inside, log_w - observed, -np.inf)  # log(pmf(x) / pmf(observed))
    tail = relative <= np.log(_FISHER_TIE)
    peak = relative.max(axis=1, keepdims=True)
    # Sequential sums (cumsum's last column): padding and batch never change a table's rounding.
    everything = np.log(np.cumsum(np.exp(relative - peak), axis=1)[:, -1]) + peak[:, 0]
    with np.errstate(divide="ignore"):  # a tail that underflows gives log(0) = -inf, so p = 0
        in_tail = np.log(np.cumsum(np.where(tail, np.exp(relative - peak), 0.0), axis=1)[:, -1]) + peak[:, 0]
    p = np.exp(in_tail - everything)
    return np.where(peak[:, 0] <= np.log(_FISHER_TIE), 1.0, np.minimum(p, 1.0))


def fisher_exact_test(
    x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike
) -> np.ndarray:
    """Two-sided Fisher exact test of ``p1 == p2``.

    Parameters
    ----------
    x1, n1 : array_like of float
        Successes and trials of group 1.
    x2, n2 : array_like of float
        Successes and trials of group 2. All inputs broadcast.

    Returns
    -------
    numpy.ndarray of float
        Two-sided p-value of the 2x2 table ``[[x1, n1 - x1], [x2, n2 - x2]]``.

    Notes
    -----
    The p-value is the sum of the hypergeometric probabilities (margins fixed) of
    all tables no more likely than the observed one, equal to
    ``scipy.stats.fisher_exact`` to rounding; all elements are computed in one
    vectorised evaluation of the hypergeometric pmf over their supports.

    The test needs integer counts, so every count (``x1``, ``n1``, ``x2``, ``n2``)
    is first rounded to the nearest integer with ``numpy.rint`` (halves go to the
    even integer) and the failures are ``n - x`` of the rounded values. Effective
    counts from weighted data are therefore approximated.

    Edge cases: a (rounded) ``n1 == 0`` or ``n2 == 0`` gives NaN, as do invalid
    counts. Both rates 0 (or both 1) give ``p = 1.0``.

    References
    ----------
    Fisher, R. A. (1935). "The logic of inductive inference." JRSS 98 (1): 39-82.
    Agresti, A. (2013). *Categorical Data Analysis*, 3rd ed., section 3.5.
    """
    a1, m1, a2, m2 = _as_float(x1, n1, x2, n2)
    return _fisher(a1, m1, a2, m2)[1]


@dataclass(frozen=True, eq=False)
class ComparisonTest:
    """Result of :func:`compare_proportions`; all arrays share the broadcast shape.

    Attributes
    ----------
    test : numpy.ndarray of object
        ``"fisher"``, ``"z"``, or ``"none"`` (a group has no trials).
    statistic : numpy.ndarray of float
        The z statistic for z tests, the sample odds ratio
        ``x1 (n2 - x2) / ((n1 - x1) x2)`` (of the rounded counts, as reported by
        ``scipy.stats.fisher_exact``; may be ``inf`` or NaN) for Fisher tests,
        NaN for ``"none"``.
    p_value : numpy.ndarray of float
        Two-sided p-value; NaN for ``"none"``.

    The arrays are read-only.
    """

    test: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray


def smallest_expected(x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike) -> np.ndarray:
    r"""The smallest of the four expected cell counts of the 2×2 table under equal proportions.

    With :math:`\bar p = (x_1 + x_2)/(n_1 + n_2)`: :math:`\min(n_i \bar p, n_i (1 - \bar p))`
    over both groups (units: people). NaN where both groups are empty.
    """
    a1, m1, a2, m2 = _as_float(x1, n1, x2, n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (a1 + a2) / (m1 + m2)
        return np.minimum(np.minimum(m1 * pooled, m1 * (1.0 - pooled)), np.minimum(m2 * pooled, m2 * (1.0 - pooled)))


def normal_test(estimate: ArrayLike, standard_error: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    r"""Two-sided z test of ``estimate == 0`` with a known standard error: (z, p).

    :math:`z = \hat\theta / \text{se}` and :math:`p = 2\,\Phi(-|z|)`. NaN
    where the estimate or the standard error is not finite or the standard
    error is not positive.
    """
    theta, se = _as_float(estimate, standard_error)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = theta / se
    bad = ~np.isfinite(theta) | ~np.isfinite(se) | ~(se > 0)
    return _nan_where(bad, z, 2.0 * ndtr(-np.abs(z)))  # type: ignore[return-value]


def compare_proportions(
    x1: ArrayLike,
    n1: ArrayLike,
    x2: ArrayLike,
    n2: ArrayLike,
    *,
    min_expected: float = 5.0,
) -> ComparisonTest:
    r"""Test ``p1 == p2`` with Fisher's exact test or the z test, chosen per element.

    Parameters
    ----------
    x1, n1 : array_like of float
        Successes and trials of group 1.
    x2, n2 : array_like of float
        Successes and trials of group 2. All inputs broadcast.
    min_expected : float, default 5.0
        Smallest expected cell count (a count, under the null) for which the
        normal approximation is trusted.

    Returns
    -------
    ComparisonTest
        Which test was used, its statistic and its two-sided p-value.

    Notes
    -----
    Rule (Cochran's rule, as used in OFCCP adverse-impact practice): under the
    null, with :math:`\bar p = (x_1 + x_2)/(n_1 + n_2)`, the four expected cell
    counts are :math:`n_i \bar p` and :math:`n_i (1 - \bar p)`, :math:`i = 1, 2`.
    If any of them is below ``min_expected``, Fisher's exact test is used
    (:func:`fisher_exact_test`, on rounded counts); otherwise the pooled z test
    (:func:`two_proportion_z_test`). The rule is applied to the unrounded counts.

    Edge cases: ``n1 == 0`` or ``n2 == 0`` (or invalid counts) give ``test =
    "none"`` and NaN statistic and p-value. A pooled proportion of 0 or 1 makes an
    expected count 0, so Fisher is used and ``p = 1.0``. A positive ``n`` that
    rounds to 0 gives ``test = "fisher"`` with NaN results.

    References
    ----------
    Cochran, W. G. (1954). "Some methods for strengthening the common chi-square
    tests." Biometrics 10 (4): 417-451.
    OFCCP Federal Contract Compliance Manual, chapter 3 (adverse impact analysis).
    """
    a1, m1, a2, m2 = _as_float(x1, n1, x2, n2)
    threshold = float(min_expected)
    none = ~_valid_counts(a1, m1) | ~_valid_counts(a2, m2) | (m1 == 0) | (m2 == 0)
    smallest = smallest_expected(a1, m1, a2, m2)
    use_fisher = ~none & (smallest < threshold)
    use_z = ~none & ~use_fisher

    z, p_z = two_proportion_z_test(a1, m1, a2, m2)
    shape = a1.shape
    statistic = np.full(shape, np.nan)
    p_value = np.full(shape, np.nan)
    statistic[use_z] = z[use_z]
    p_value[use_z] = p_z[use_z]
    if np.any(use_fisher):
        odds, p_f = _fisher(a1[use_fisher], m1[use_fisher], a2[use_fisher], m2[use_fisher])
        statistic[use_fisher] = odds
        p_value[use_fisher] = p_f

    test = np.full(shape, "none", dtype=object)
    test[use_fisher] = "fisher"
    test[use_z] = "z"
    for arr in (test, statistic, p_value):
        arr.setflags(write=False)
    return ComparisonTest(test=test, statistic=statistic, p_value=p_value)


# --------------------------------------------------------------------------- multiplicity


def adjust_p_values(
    p_values: ArrayLike, method: Literal["holm", "bh", "none"] = "holm"
) -> np.ndarray:
    r"""Adjust a family of p-values for multiple comparisons.

    Parameters
    ----------
    p_values : array_like of float
        Raw p-values, any shape. NaN entries (and any value that is not a
        p-value: non-finite, below 0 or above 1) are not part of the family.
    method : {"holm", "bh", "none"}, default "holm"
        ``"holm"``: Holm's step-down Bonferroni method (controls the family-wise
        error rate). ``"bh"``: Benjamini-Hochberg step-up method (controls the
        false discovery rate under independence or positive dependence).
        ``"none"``: no adjustment.

    Returns
    -------
    numpy.ndarray of float
        Adjusted p-values, same shape as the input, in [0, 1]; NaN where the
        input was NaN (or not a p-value).

    Raises
    ------
    ValueError
        If ``method`` is not one of the valid names.

    Notes
    -----
    The family is the :math:`m` valid entries; with them sorted,
    :math:`p_{(1)} \le \dots \le p_{(m)}`:

    * Holm: :math:`\tilde p_{(i)} = \min\{1, \max_{j \le i} (m - j + 1) p_{(j)}\}`.
    * BH: :math:`\tilde p_{(i)} = \min\{1, \min_{j \ge i} m\,p_{(j)}/j\}`.

    These equal ``statsmodels.stats.multitest.multipletests(p, method="holm")[1]``
    and ``(..., method="fdr_bh")[1]`` on the valid entries. An empty family (all
    NaN, or an empty array) returns all NaN (or an empty array).

    References
    ----------
    Holm, S. (1979). "A simple sequentially rejective multiple test procedure."
    Scandinavian Journal of Statistics 6 (2): 65-70.
    Benjamini, Y. and Hochberg, Y. (1995). "Controlling the false discovery rate."
    JRSS B 57 (1): 289-300.
    """
    if not isinstance(method, str) or method not in P_VALUE_METHODS:
        valid = ", ".join(P_VALUE_METHODS)
        raise ValueError(f"method must be one of {valid}; got {method!r}")
    p = np.array(p_values, dtype=float)  # a copy
    with np.errstate(invalid="ignore"):
        valid_mask = np.isfinite(p) & (p >= 0.0) & (p <= 1.0)
    out = np.full(p.shape, np.nan)
    family = p[valid_mask]
    m = family.size
    if m == 0:
        return out
    if method == "none":
        out[valid_mask] = family
        return out
    order = np.argsort(family, kind="mergesort")
    sorted_p = family[order]
    if method == "holm":
        adjusted = np.maximum.accumulate(sorted_p * np.arange(m, 0, -1))
    else:  # "bh"
        raw = sorted_p / (np.arange(1, m + 1) / m)
        adjusted = np.minimum.accumulate(raw[::-1])[::-1]
    adjusted = np.minimum(adjusted, 1.0)
    result = np.empty(m)
    result[order] = adjusted
    out[valid_mask] = result
    return out


# --------------------------------------------------------------------------- weights


def effective_counts(
    weighted_successes: ArrayLike,
    weighted_trials: ArrayLike,
    weighted_trials_sq: ArrayLike,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Kish effective successes and trials for weighted data.

    Parameters
    ----------
    weighted_successes : array_like of float
        Sum of the weights of the successes, :math:`W_x`.
    weighted_trials : array_like of float
        Sum of the weights of the denominator population, :math:`W`.
    weighted_trials_sq : array_like of float
        Sum of the squared weights of the denominator population, :math:`W_2`.

    Returns
    -------
    x_eff, n_eff : numpy.ndarray of float
        Effective number of successes and of trials (units: counts, possibly
        non-integer), to be passed to the other functions of this module.

    Notes
    -----
    Kish's effective sample size and the weighted proportion scaled to it:

    .. math::

        n_\text{eff} = W^2 / W_2, \qquad
        x_\text{eff} = (W_x / W)\, n_\text{eff} = W_x W / W_2

    computed as ``W * (W / W2)`` and ``W_x * (W / W2)``, so that with unit weights
    (``W = W2 = n``) the plain counts come back exactly.

    Edge cases: ``W == 0`` gives ``(0, 0)`` (an empty group). ``W_x`` above ``W``
    by at most a relative 1e-9 (floating-point summation in a different order) is
    treated as ``W_x = W``. Invalid input gives ``(nan, nan)``: non-finite values,
    negative sums, ``W_2 == 0`` with ``W != 0``, or ``W_x`` otherwise outside
    ``[0, W]``.

    References
    ----------
    Kish, L. (1965). *Survey Sampling*. New York: Wiley, section 11.7.
    """
    wx, w, w2 = _as_float(weighted_successes, weighted_trials, weighted_trials_sq)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Summation order can leave W_x a few ulps above W; clip that, reject more.
        wx = np.where((wx > w) & (wx <= w * (1.0 + _SUM_TOLERANCE)), w, wx)
        ratio = w / w2
        n_eff = w * ratio
        x_eff = wx * ratio
        bad = (
            ~np.isfinite(wx)
            | ~np.isfinite(w)
            | ~np.isfinite(w2)
            | (w < 0)
            | (w2 < 0)
            | (wx < 0)
            | (wx > w)
            | ((w2 == 0) & (w != 0))
        )
    empty = (w == 0) & ~bad
    x_eff = np.where(empty, 0.0, x_eff)
    n_eff = np.where(empty, 0.0, n_eff)
    return _nan_where(bad, x_eff, n_eff)  # type: ignore[return-value]


# --------------------------------------------------------------------------- bootstrap


def bootstrap_confusion(
    tp: ArrayLike,
    fp: ArrayLike,
    fn: ArrayLike,
    tn: ArrayLike,
    *,
    replicates: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Parametric bootstrap of confusion counts, resampled within each group.

    Parameters
    ----------
    tp, fp, fn, tn : array_like of int
        1-D arrays of equal length ``G``: the confusion counts of each group.
        Values must be non-negative and integer-valued (floats such as ``3.0``
        are accepted).
    replicates : int
        Number of bootstrap replicates ``B`` (>= 0).
    rng : numpy.random.Generator
        Source of randomness. Required; global random state is never used, so a
        seeded generator gives reproducible results.

    Returns
    -------
    numpy.ndarray of int64, shape (B, G, 4)
        Replicate counts in the order tp, fp, fn, tn. Each replicate's row for
        group ``g`` sums to that group's total.

    Raises
    ------
    TypeError
        If ``rng`` is not a ``numpy.random.Generator``.
    ValueError
        If the inputs are not 1-D of equal length, are negative, non-finite or
        non-integer, or if ``replicates`` is not a non-negative integer.

    Notes
    -----
    For group ``g`` with counts :math:`c_g` and total :math:`N_g = \\sum c_g`, each
    replicate is a draw from :math:`\\text{Multinomial}(N_g, c_g / N_g)`. Group
    sizes are held fixed, so a small group never vanishes from a replicate (unlike
    a bootstrap of the pooled rows). A cell observed as 0 stays 0 in every
    replicate. Groups with ``N_g = 0`` give all-zero rows. All groups and
    replicates are drawn in one vectorised call.

    References
    ----------
    Efron, B. and Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*.
    Chapman & Hall, chapter 6 (the parametric bootstrap).
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            "rng must be a numpy.random.Generator, e.g. numpy.random.default_rng(0); "
            f"got {type(rng).__name__}"
        )
    if isinstance(replicates, bool) or not isinstance(replicates, (int, np.integer)) or replicates < 0:
        raise ValueError(f"replicates must be a non-negative integer; got {replicates!r}")
    names = ("tp", "fp", "fn", "tn")
    arrays = [np.asarray(v, dtype=float) for v in (tp, fp, fn, tn)]
    for name, arr in zip(names, arrays):
        if arr.ndim != 1:
            raise ValueError(f"{name} must be 1-D (one value per group); got shape {arr.shape}")
    lengths = {name: arr.shape[0] for name, arr in zip(names, arrays)}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"tp, fp, fn and tn must have equal lengths; got {lengths}")
    counts = np.stack(arrays, axis=-1)  # (G, 4), a new array
    if not np.all(np.isfinite(counts)) or np.any(counts < 0) or np.any(counts != np.rint(counts)):
        raise ValueError("confusion counts must be non-negative integers")
    counts = counts.astype(np.int64)
    totals = counts.sum(axis=1)
    n_groups = counts.shape[0]
    # Cell probabilities; an empty group gets a placeholder that draws n = 0.
    pvals = np.zeros(counts.shape, dtype=float)
    pvals[:, 0] = 1.0
    nonempty = totals > 0
    pvals[nonempty] = counts[nonempty] / totals[nonempty, None]
    return rng.multinomial(totals, pvals, size=(int(replicates), n_groups)).astype(np.int64)


def percentile_interval(
    replicates: ArrayLike, confidence: float = 0.95, axis: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    r"""Percentile bootstrap interval, ignoring NaN replicates.

    Parameters
    ----------
    replicates : array_like of float
        Bootstrap replicates of a statistic; NaN marks a replicate where the
        statistic is undefined.
    confidence : float, default 0.95
        Nominal two-sided coverage, in (0, 1).
    axis : int, default 0
        Axis along which the replicates lie.

    Returns
    -------
    low, high : numpy.ndarray of float
        The :math:`\alpha/2` and :math:`1 - \alpha/2` quantiles of the non-NaN
        replicates (``numpy.nanquantile``, linear interpolation), with
        ``axis`` removed from the shape; same units as the statistic.

    Raises
    ------
    ValueError
        If ``confidence`` is not in (0, 1).

    Notes
    -----
    A position where more than half of the replicates are NaN (or where there are
    no replicates) gives ``(nan, nan)``: an interval from a minority of resamples
    would describe a different, conditioned distribution. Exactly half NaN is
    still summarised.

    References
    ----------
    Efron, B. and Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*.
    Chapman & Hall, chapter 13.
    """
    level = _check_confidence(confidence)
    alpha = 1.0 - level
    reps = np.asarray(replicates, dtype=float)
    nan_count = np.isnan(reps).sum(axis=axis)  # raises numpy's AxisError on a bad axis
    axis = int(axis) % reps.ndim
    n = reps.shape[axis]
    undefined = (2 * nan_count > n) | (nan_count == n)
    # Fill undefined positions so nanquantile sees no all-NaN slice (no warning).
    filled = np.where(np.expand_dims(undefined, axis), 0.0, reps)
    if n == 0:
        shape = undefined.shape
        return np.full(shape, np.nan), np.full(shape, np.nan)
    quantile = np.quantile if not np.isnan(filled).any() else np.nanquantile  # the fast path without NaN
    low = quantile(filled, alpha / 2.0, axis=axis)
    high = quantile(filled, 1.0 - alpha / 2.0, axis=axis)
    return _nan_where(undefined, low, high)  # type: ignore[return-value]
