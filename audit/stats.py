"""Intervals and tests computed from counts only.

Every function is vectorised (scalars or arrays, broadcast), returns float
numpy arrays and never raises on degenerate input: an undefined value is NaN.
Counts may be non-integer (Kish effective counts of weighted data, see
:func:`effective_counts`). Each is tested against statsmodels or scipy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as _sps

__all__ = ["wilson_interval", "newcombe_difference_interval", "katz_ratio_interval", "two_proportion_z_test",
           "fisher_exact_test", "compare_proportions", "ComparisonTest", "adjust_p_values", "effective_counts",
           "bootstrap_confusion", "percentile_interval"]


def _z(confidence: float) -> float:
    return float(_sps.norm.isf((1.0 - confidence) / 2.0))


def _arrays(*values: object) -> list[np.ndarray]:
    return [np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(*[np.asarray(v, dtype=np.float64)
                                                                          for v in values])]


def wilson_interval(successes, trials, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a proportion ``successes / trials``.

    Notes
    -----
    p̂ ± z·sqrt(p̂(1−p̂)/n + z²/4n²), centred at (p̂ + z²/2n) / (1 + z²/n); Wilson (1927),
    JASA 22:209. ``trials == 0`` gives (nan, nan). Equals statsmodels'
    ``proportion_confint(method="wilson")``.
    """
    x, n = _arrays(successes, trials)
    z = _z(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        denom = 1.0 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = np.where(x <= 0, 0.0, centre - half)  # exact ends, free of rounding
    high = np.where(x >= n, 1.0, centre + half)
    bad = ~(n > 0)
    return np.where(bad, np.nan, np.clip(low, 0.0, 1.0)), np.where(bad, np.nan, np.clip(high, 0.0, 1.0))


def newcombe_difference_interval(x1, n1, x2, n2, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval (method 10) for the difference p1 − p2.

    Notes
    -----
    Built from the two Wilson intervals; Newcombe (1998), Stat Med 17:873. ``n1 == 0``
    or ``n2 == 0`` gives nan. Equals statsmodels'
    ``confint_proportions_2indep(method="newcomb", compare="diff")``.
    """
    x1, n1, x2, n2 = _arrays(x1, n1, x2, n2)
    l1, u1 = wilson_interval(x1, n1, confidence)
    l2, u2 = wilson_interval(x2, n2, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = x1 / n1, x2 / n2
    diff = p1 - p2
    low = diff - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = diff + np.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    return low, high


def katz_ratio_interval(x1, n1, x2, n2, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Katz log interval for the ratio p1 / p2.

    Notes
    -----
    exp(log(p̂1/p̂2) ± z·sqrt(1/x1 − 1/n1 + 1/x2 − 1/n2)); Katz et al. (1978),
    Biometrics 34:469. Equals statsmodels' ``confint_proportions_2indep(method="log",
    compare="ratio")`` where both counts are positive. Edge cases: ``n1 == 0``,
    ``n2 == 0`` or ``x2 == 0`` give (nan, nan) (the ratio is undefined or infinite);
    ``x1 == 0 < x2`` gives a lower bound of 0 and the upper bound of the interval with
    0.5 added to both counts and both sizes (Haldane–Anscombe).
    """
    x1, n1, x2, n2 = _arrays(x1, n1, x2, n2)
    z = _z(confidence)
    zero = x1 == 0
    a1, m1 = np.where(zero, x1 + 0.5, x1), np.where(zero, n1 + 0.5, n1)
    a2, m2 = np.where(zero, x2 + 0.5, x2), np.where(zero, n2 + 0.5, n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log((a1 / m1) / (a2 / m2))
        half = z * np.sqrt(1 / a1 - 1 / m1 + 1 / a2 - 1 / m2)
        low, high = np.exp(log_ratio - half), np.exp(log_ratio + half)
    low = np.where(zero, 0.0, low)
    bad = ~((n1 > 0) & (n2 > 0) & (x2 > 0))
    return np.where(bad, np.nan, low), np.where(bad, np.nan, high)


def two_proportion_z_test(x1, n1, x2, n2) -> tuple[np.ndarray, np.ndarray]:
    """Pooled two-proportion z-test, two-sided; returns (z, p).

    Notes
    -----
    z = (p̂1 − p̂2) / sqrt(p̄(1−p̄)(1/n1 + 1/n2)) with the pooled p̄ — the "two standard
    deviations" test of Castaneda v. Partida (1977). When p̄ is 0 or 1 there is no
    variance and no evidence of a difference: z = 0, p = 1. ``n == 0`` gives nan.
    Equals statsmodels' ``proportions_ztest`` where defined.
    """
    x1, n1, x2, n2 = _arrays(x1, n1, x2, n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (x1 + x2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = (x1 / n1 - x2 / n2) / se
    flat = (pooled <= 0) | (pooled >= 1)
    z = np.where(flat, 0.0, z)
    p = np.where(flat, 1.0, 2 * _sps.norm.sf(np.abs(z)))
    bad = ~((n1 > 0) & (n2 > 0))
    return np.where(bad, np.nan, z), np.where(bad, np.nan, p)


def fisher_exact_test(x1, n1, x2, n2) -> np.ndarray:
    """Two-sided Fisher exact p-value of [[x1, n1−x1], [x2, n2−x2]] (counts rounded to integers).

    Uses ``scipy.stats.fisher_exact`` per element; ``n == 0`` gives nan.
    """
    return _fisher(x1, n1, x2, n2)[1]


def _fisher(x1, n1, x2, n2) -> tuple[np.ndarray, np.ndarray]:
    x1, n1, x2, n2 = (np.rint(a) for a in _arrays(x1, n1, x2, n2))
    odds, p = np.full(x1.shape, np.nan), np.full(x1.shape, np.nan)
    for i in np.ndindex(x1.shape):
        if n1[i] > 0 and n2[i] > 0:
            result = _sps.fisher_exact([[x1[i], n1[i] - x1[i]], [x2[i], n2[i] - x2[i]]])
            odds[i], p[i] = float(result[0]), float(result[1])
    return odds, p


@dataclass(frozen=True)
class ComparisonTest:
    """Which test was used per comparison ("fisher", "z" or "none"), its statistic and p-value."""

    test: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray


def compare_proportions(x1, n1, x2, n2, *, min_expected: float = 5.0) -> ComparisonTest:
    """Test p1 = p2: Fisher's exact test for small cells, the pooled z-test otherwise.

    Notes
    -----
    Cochran's rule, as in OFCCP practice: Fisher's exact test when any of the four
    expected counts under the pooled null (n_i·p̄ and n_i·(1−p̄)) is below
    ``min_expected``. The statistic is z for the z-test and the sample odds ratio for
    Fisher's test.
    """
    x1, n1, x2, n2 = _arrays(x1, n1, x2, n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (x1 + x2) / (n1 + n2)
    expected = np.stack([n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled)])
    small = (expected < min_expected).any(axis=0)
    valid = (n1 > 0) & (n2 > 0)
    z, p_z = two_proportion_z_test(x1, n1, x2, n2)
    odds, p_f = _fisher(np.where(small, x1, 0), np.where(small & valid, n1, 0),
                        np.where(small, x2, 0), np.where(small & valid, n2, 0))
    test = np.where(~valid, "none", np.where(small, "fisher", "z")).astype(object)
    statistic = np.where(~valid, np.nan, np.where(small, odds, z))
    p_value = np.where(~valid, np.nan, np.where(small, p_f, p_z))
    return ComparisonTest(test, statistic, p_value)


def adjust_p_values(p_values, method: str = "holm") -> np.ndarray:
    """Adjust a family of p-values for multiple comparisons (Holm, Benjamini–Hochberg or none).

    NaN entries pass through and are not part of the family. Equals statsmodels'
    ``multipletests(method="holm" | "fdr_bh")``.
    """
    if method not in ("holm", "bh", "none"):
        raise ValueError(f"correction must be one of holm, bh, none; got {method!r}")
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    mask = ~np.isnan(p)
    values = p[mask]
    m = values.size
    if m == 0:
        return out
    if method == "none":
        out[mask] = values
        return out
    order = np.argsort(values, kind="mergesort")
    ranked = values[order]
    if method == "holm":
        adjusted = np.maximum.accumulate(np.minimum((m - np.arange(m)) * ranked, 1.0))
    else:
        adjusted = np.minimum.accumulate((m / np.arange(m, 0, -1)) * ranked[::-1])[::-1]
        adjusted = np.minimum(adjusted, 1.0)
    result = np.empty(m)
    result[order] = adjusted
    out[mask] = result
    return out


def effective_counts(weighted_successes, weighted_trials, weighted_trials_sq) -> tuple[np.ndarray, np.ndarray]:
    """Kish effective counts of weighted data: n_eff = W² / W2, x_eff = (Xw / W) · n_eff.

    With unit weights this returns the plain counts exactly; W == 0 gives (0, 0).
    """
    xw, w, w2 = _arrays(weighted_successes, weighted_trials, weighted_trials_sq)
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = w == w2  # unit weights: keep the exact integer counts
        n_eff = np.where(w > 0, np.where(unit, w, w * w / w2), 0.0)
        x_eff = np.where(w > 0, np.where(unit, xw, xw / w * n_eff), 0.0)
    return x_eff, n_eff


def bootstrap_confusion(tp, fp, fn, tn, *, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """Parametric bootstrap of confusion counts within each group.

    Returns (replicates, groups, 4) counts ordered tp, fp, fn, tn, each replicate a
    multinomial draw of the group's total with the observed cell shares. Groups with
    total 0 give zeros. ``rng`` is required: no global random state.
    """
    cells = np.stack([np.asarray(a, dtype=np.int64) for a in (tp, fp, fn, tn)], axis=-1).reshape(-1, 4)
    out = np.zeros((replicates, cells.shape[0], 4), dtype=np.int64)
    for g, counts in enumerate(cells):
        total = int(counts.sum())
        if total > 0:
            out[:, g, :] = rng.multinomial(total, counts / total, size=replicates)
    return out


def percentile_interval(replicates, confidence: float = 0.95, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """NaN-aware percentile interval of bootstrap replicates along ``axis``.

    Positions where more than half of the replicates are NaN give nan.
    """
    reps = np.asarray(replicates, dtype=np.float64)
    alpha = (1.0 - confidence) / 2.0
    too_many = np.isnan(reps).mean(axis=axis) > 0.5
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            low = np.nanquantile(reps, alpha, axis=axis)
            high = np.nanquantile(reps, 1.0 - alpha, axis=axis)
    return np.where(too_many, np.nan, low), np.where(too_many, np.nan, high)
