"""Power and sample size for comparing two groups: closed forms, from rates and sizes only.

Two questions an oversight body asks of an inconclusive verdict, and of an
audit not yet run:

* what is the smallest disparity this data could detect? (:func:`detectable_rates`,
  :func:`detectable_normal`)
* how many people would a group need for the comparison to decide? (:func:`needed_sizes`,
  :func:`needed_sizes_normal`)

For proportions the answers use the arcsine transformation (Cohen's *h*): a
two-sided test at level :math:`\\alpha` of two groups of :math:`n_1` and
:math:`n_2` people has power :math:`1 - \\beta` against

.. math::

    h = 2\\arcsin\\sqrt{p_1} - 2\\arcsin\\sqrt{p_2}, \\qquad
    |h| \\sqrt{\\frac{n_1 n_2}{n_1 + n_2}} = z_{1-\\alpha/2} + z_{1-\\beta}

(the term of the far tail, below :math:`10^{-6}` at 80% power, is left out).
This is the formula of ``statsmodels.stats.power.NormalIndPower`` with
``proportion_effectsize``, solved in closed form instead of numerically;
``tests/test_power.py`` checks the two agree. Metrics that are not proportions
(means, AUC, balanced accuracy) use their standard errors, which shrink as
:math:`1/\\sqrt{n}`.

Levels are family-level: pass ``alpha`` divided by the number of verdicts
(Bonferroni) to plan for an audit's whole family. Every function broadcasts
over numpy arrays; an answer that does not exist (a rate that would leave
[0, 1], an effect of 0) is NaN or ``inf``, never an exception.

References
----------
Cohen, J. (1988). *Statistical Power Analysis for the Behavioral Sciences*, 2nd
ed., chapter 6 (the arcsine transformation of proportions).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtri

__all__ = [
    "arcsine_effect",
    "detectable_normal",
    "detectable_rates",
    "exact_binomial_size",
    "needed_sizes",
    "needed_sizes_normal",
    "z_total",
]


def z_total(alpha: float, power: float) -> float:
    """:math:`z_{1-\\alpha/2} + z_{\\text{power}}`: the standardised distance a two-sided test needs.

    ``alpha`` is the two-sided level (already divided for a family), ``power``
    the wanted probability of detection; both in (0, 1).
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), e.g. 0.05; got {alpha!r}")
    if not 0.0 < power < 1.0:
        raise ValueError(f"power must be in (0, 1), e.g. 0.8; got {power!r}")
    return float(-ndtri(alpha / 2.0) + ndtri(power))


def arcsine_effect(p1: ArrayLike, p2: ArrayLike) -> np.ndarray:
    """Cohen's *h* = 2 asin(sqrt(p1)) - 2 asin(sqrt(p2)), for rates in [0, 1]; NaN outside."""
    a, b = (np.asarray(v, dtype=float) for v in (p1, p2))
    with np.errstate(invalid="ignore"):
        h = 2.0 * np.arcsin(np.sqrt(a)) - 2.0 * np.arcsin(np.sqrt(b))
    return np.where((a >= 0) & (a <= 1) & (b >= 0) & (b <= 1), h, np.nan)


def _effective(n1: np.ndarray, n2: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((n1 > 0) & (n2 > 0), n1 * n2 / (n1 + n2), np.nan)


def detectable_rates(reference_rate: ArrayLike, n: ArrayLike, reference_n: ArrayLike, *, alpha: float,
                     power: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    """The group rates, below and above the reference's, that a test would detect with ``power``.

    Parameters
    ----------
    reference_rate : array_like of float
        The reference group's rate, in [0, 1].
    n, reference_n : array_like of float
        People in the metric's denominator for the group and for the reference.
    alpha : float
        Two-sided level of the test (divide by the family's size for a family).
    power : float, default 0.8
        Probability of detecting the disparity.

    Returns
    -------
    lower, higher : numpy.ndarray of float
        The rates (units: proportion) at which the disparity would be detected;
        NaN where no rate in [0, 1] is far enough (the data cannot detect any
        disparity on that side) or a size is 0. The smallest detectable ratio
        is ``lower / reference_rate`` (or ``higher / reference_rate``), the
        difference ``lower - reference_rate``.

    Examples
    --------
    >>> low, high = detectable_rates(0.3, 300, 300, alpha=0.05)
    >>> round(float(low), 3), round(float(high), 3)
    (0.201, 0.409)
    """
    p, m1, m2 = (np.asarray(v, dtype=float) for v in (reference_rate, n, reference_n))
    with np.errstate(divide="ignore", invalid="ignore"):
        h = z_total(alpha, power) / np.sqrt(_effective(m1, m2))
        base = np.arcsin(np.sqrt(np.clip(p, 0.0, 1.0)))
        up, down = base + h / 2.0, base - h / 2.0
        higher = np.where(up <= np.pi / 2, np.sin(np.minimum(up, np.pi / 2)) ** 2, np.nan)
        lower = np.where(down >= 0, np.sin(np.maximum(down, 0.0)) ** 2, np.nan)
    bad = ~((p >= 0) & (p <= 1))
    return np.where(bad, np.nan, lower), np.where(bad, np.nan, higher)


def _grow(needed_effective: np.ndarray, n: np.ndarray, reference_n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sizes with ``n1 n2 / (n1 + n2) = needed``: the group grows alone if it can, else both grow in proportion."""
    with np.errstate(divide="ignore", invalid="ignore"):
        alone = needed_effective * reference_n / (reference_n - needed_effective)
        ratio = reference_n / n
        both = needed_effective * (1.0 + ratio) / ratio
        can = reference_n > needed_effective
        group = np.where(can, np.maximum(alone, 1.0), both)
        reference = np.where(can, reference_n, both * ratio)
    return group, reference


def needed_sizes(rate: ArrayLike, target_rate: ArrayLike, n: ArrayLike, reference_n: ArrayLike, *,
                 alpha: float, power: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    """People a group needs for a test at ``alpha`` to tell ``rate`` from ``target_rate`` with ``power``.

    Parameters
    ----------
    rate : array_like of float
        The group's rate (the observed one, for "at the observed rates").
    target_rate : array_like of float
        The rate to tell it from: the reference's for a test of equality, a
        band's edge (edge × reference rate, or reference rate + edge) for an
        interval that must clear the edge.
    n, reference_n : array_like of float
        Current sizes of the group and the reference (in the metric's denominator).
    alpha : float
        Two-sided level (for an interval: 1 - its confidence).
    power : float, default 0.8

    Returns
    -------
    group, reference : numpy.ndarray of float
        The sizes needed (units: people in the denominator, not rounded). The
        reference keeps its size when growing the group alone suffices;
        otherwise both grow in their current proportion and ``reference`` says
        to what. ``inf`` when the two rates are equal; NaN for a rate outside [0, 1].
    """
    h = np.abs(arcsine_effect(rate, target_rate))
    with np.errstate(divide="ignore", invalid="ignore"):
        needed = np.where(h > 0, (z_total(alpha, power) / h) ** 2, np.inf)
    needed = np.where(np.isnan(h), np.nan, needed)
    return _grow(needed, np.asarray(n, dtype=float), np.asarray(reference_n, dtype=float))


def detectable_normal(se_group: ArrayLike, se_reference: ArrayLike, *, alpha: float,
                      power: float = 0.8) -> np.ndarray:
    """Smallest detectable distance for an estimate with independent standard errors: (z + z) · se.

    ``se_group`` and ``se_reference`` are on the scale of the distance (the
    values for a difference, relative ones ``se / value`` for a log ratio).
    """
    a, b = (np.asarray(v, dtype=float) for v in (se_group, se_reference))
    return z_total(alpha, power) * np.hypot(a, b)


def needed_sizes_normal(distance: ArrayLike, se_group: ArrayLike, se_reference: ArrayLike, n: ArrayLike,
                        reference_n: ArrayLike, *, alpha: float, power: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    """Sizes at which an estimate ``distance`` away from a target is detected, for standard errors ∝ 1/sqrt(n).

    The group's variance ``se_group²`` scales as ``n / n_new``; the reference
    keeps its size when that suffices, else both grow in proportion (as
    :func:`needed_sizes`). ``inf`` for a distance of 0, NaN when a standard
    error is undefined.
    """
    d, s1, s2, m1, m2 = (np.asarray(v, dtype=float) for v in (distance, se_group, se_reference, n, reference_n))
    with np.errstate(divide="ignore", invalid="ignore"):
        allowed = (np.abs(d) / z_total(alpha, power)) ** 2  # the variance the distance can afford
        alone = s1 * s1 * m1 / (allowed - s2 * s2)
        scale = (s1 * s1 + s2 * s2) / allowed
        can = allowed > s2 * s2
        group = np.where(can, np.maximum(alone, 1.0), scale * m1)
        reference = np.where(can, m2, scale * m2)
    undefined = ~(np.isfinite(s1) & np.isfinite(s2))
    zero = np.abs(d) == 0
    group = np.where(undefined, np.nan, np.where(zero, np.inf, group))
    reference = np.where(undefined, np.nan, np.where(zero, np.inf, reference))
    return group, reference


def _decisive_power(n: int, rate: float, lower_target: float | None, upper_target: float | None,
                    error: float, beyond: float | None) -> float:
    """Power of an exact one-sample binomial decision at size ``n`` (see :func:`exact_binomial_size`)."""
    from scipy.stats import binom

    low, high = 0, n
    if lower_target is not None:  # the count must be significantly above lower_target
        low = 0 if lower_target <= 0 else (n + 1 if lower_target >= 1 else int(binom.isf(error, n, lower_target)) + 1)
    if upper_target is not None:  # ... and significantly below upper_target
        if upper_target >= 1:
            high = n
        elif upper_target <= 0:
            high = -1
        else:
            quantile = int(binom.ppf(error, n, upper_target))
            high = quantile if binom.cdf(quantile, n, upper_target) <= error else quantile - 1
    if beyond is not None:  # the estimate itself must lie beyond a band's edge (strictly)
        edge = beyond * n
        if lower_target is not None:
            low = max(low, int(math.floor(edge)) + 1)
        else:
            high = min(high, int(math.ceil(edge)) - 1)
    if low > high:
        return 0.0
    return float(binom.cdf(high, n, rate) - (binom.cdf(low - 1, n, rate) if low > 0 else 0.0))


def exact_binomial_size(rate: float, *, lower_target: float | None = None, upper_target: float | None = None,
                        error: "float | Callable[[int], float]", power: float = 0.8, beyond: float | None = None,
                        start: float = 1.0, limit: int = 10_000_000) -> float:
    """Smallest group size at which an exact binomial decision succeeds with ``power``, at the group's true ``rate``.

    The decision succeeds when the group's count is significantly above
    ``lower_target`` and/or significantly below ``upper_target`` by the exact
    one-sided binomial test at level ``error`` (which may depend on the size),
    and, with ``beyond``, when its estimate lies beyond that rate (the band's
    edge a ``significant`` fail needs). This is the small-count side of a
    needed size: the test of a group against a reference known exactly, so the
    reference's own uncertainty is left to :func:`needed_sizes`. Clopper-Pearson
    intervals are this test inverted, so the same sizes serve an exact
    interval that must clear a rate.

    Returns
    -------
    float
        The size (people in the denominator); ``inf`` when no size up to ``limit`` succeeds.
    """
    def succeeds(n: int) -> bool:
        level = error(n) if callable(error) else error
        return _decisive_power(n, rate, lower_target, upper_target, level, beyond) >= power

    low = max(1, int(start // 4))
    if succeeds(low):
        return float(low)
    high = max(low + 1, int(start))
    while not succeeds(high):
        low, high = high, high * 2
        if high > limit:
            return math.inf
    while high - low > 1:  # power rises with n but for the saw-tooth of discreteness: bisect on the trend
        middle = (low + high) // 2
        if succeeds(middle):
            high = middle
        else:
            low = middle
    return float(high)


def ceil_people(value: float) -> float:
    """A needed size rounded up to whole people (NaN and inf kept)."""
    return float(math.ceil(value - 1e-9)) if math.isfinite(value) else value
