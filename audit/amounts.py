"""A numeric outcome per group (a benefit amount, days to a decision): means, quantiles and their comparisons.

The engine counts, per cell and in its one pass, a histogram of the amount
(exact values, or bins when there are too many distinct values) with Σw, Σwx
and Σwx². :func:`analyse_amount` derives from those sums, per group:

* ``mean:<column>`` with a Student-t interval, compared with the reference
  by the ratio of means (log-scale delta interval), the difference (Welch
  interval) and Welch's t test;
* ``median:<column>`` and ``qNN:<column>`` (the chosen percentiles) with the
  distribution-free order-statistic interval; the median is compared with
  the Mann–Whitney test, other quantiles without a test.

Rows without a value (missing amount) are left out of every number and
counted in the reason. ``higher_is`` says which way hurts the person: a
higher amount is favourable for a benefit and adverse for a delay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from audit import distributions as dist
from audit.comparisons import COMPARISON_FIELDS, EVIDENCE_FIELDS, FOUR_FIFTHS, evidence_row
from audit.rates import GROUP_FIELDS

GROUP_COLUMNS = list(GROUP_FIELDS)
COMPARISON_COLUMNS = list(COMPARISON_FIELDS) + list(EVIDENCE_FIELDS)


@dataclass(frozen=True)
class AmountCounts:
    """One amount column per group of one attribute, as summed from the cells.

    ``values``: ascending exact values (``exact``) or lower bin edges;
    ``hist``/``hist_sq``: Σw and Σw² per group × value, shape (G, B);
    ``rows``: rows with a value and ``missing``: rows without one, per group;
    ``sum_w``, ``sum_wx``, ``sum_wx2``, ``sum_w2``: per-group sums over the
    rows with a value (units of the amount, and squared).
    """

    column: str
    values: np.ndarray
    exact: bool
    hist: np.ndarray
    hist_sq: np.ndarray
    rows: np.ndarray
    missing: np.ndarray
    sum_w: np.ndarray
    sum_wx: np.ndarray
    sum_wx2: np.ndarray
    sum_w2: np.ndarray

    @property
    def weighted(self) -> bool:
        """Whether the counts carry weights (Σw² differs from Σw somewhere)."""
        return not np.array_equal(self.hist, self.hist_sq)


@dataclass(frozen=True)
class AmountTables:
    """Group rows (:data:`GROUP_COLUMNS`) and comparison rows (:data:`COMPARISON_COLUMNS`) of one amount."""

    groups: pd.DataFrame
    comparisons: pd.DataFrame


def quantile_metric(q: float, column: str) -> str:
    """Metric name of quantile ``q`` of ``column``: ``median:days`` for 0.5, ``q90:days`` for 0.9."""
    return f"median:{column}" if q == 0.5 else f"q{round(q * 100)}:{column}"


def _effective(counts: AmountCounts) -> np.ndarray:
    """Each group's histogram scaled to its Kish effective size (the histogram itself when unweighted)."""
    if not counts.weighted:
        return counts.hist
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(counts.sum_w2 > 0, counts.sum_w / counts.sum_w2, 0.0)
    return counts.hist * scale[:, None]


def _reason(counts: AmountCounts, g: int) -> str:
    if counts.rows[g] > 0 and counts.sum_w[g] > 0:
        return ""
    missing = int(counts.missing[g])
    return (f"the group has no rows with a value of {counts.column}"
            + (f" ({missing:,} rows with it missing)" if missing else ""))


def _impact_ratios(values: np.ndarray, known: np.ndarray, higher_is: str) -> np.ndarray:
    """LL144-style impact ratio of the favourable reading: value / best (benefit) or best / value (delay)."""
    pool = values[known & np.isfinite(values)]
    nan = np.full(values.shape, np.nan)
    if higher_is == "neutral" or pool.size == 0:
        return nan
    with np.errstate(divide="ignore", invalid="ignore"):
        if higher_is == "favourable":
            best = pool.max()
            return values / best if best > 0 else nan
        best = pool.min()
        return np.where(values > 0, best / values, np.nan) if best >= 0 else nan


def _disadvantaged(value: float, ref: float, higher_is: str) -> bool | None:
    if higher_is == "neutral" or not (np.isfinite(value) and np.isfinite(ref)) or value == ref:
        return None
    return bool(value > ref) if higher_is == "adverse" else bool(value < ref)


def analyse_amount(counts: AmountCounts, *, attribute: str, labels: tuple[str, ...], unknown: tuple[bool, ...],
                   reference: int, reference_rule: str, higher_is: str, quantiles: tuple[float, ...],
                   confidence: float) -> AmountTables:
    """Means and quantiles of an amount per group, compared with the reference group.

    Parameters
    ----------
    counts : AmountCounts
        The amount's histogram and sums per group.
    attribute, labels, unknown : str, tuple of str, tuple of bool
        The attribute (or intersection), its group labels and which label is
        the group of unknown values (reported, never compared).
    reference : int
        Index of the reference group; reference_rule says how it was chosen.
    higher_is : {"favourable", "adverse", "neutral"}
        Which way a higher amount goes for the person.
    quantiles : tuple of float
        Quantiles to report (0.5 is the median).
    confidence : float
        Two-sided coverage of every interval, in (0, 1).

    Returns
    -------
    AmountTables
        ``value`` of a mean equals ``numpy.mean`` of the group's values; of a
        quantile, ``numpy.quantile`` (exact histogram, unweighted); the mean's
        test equals ``scipy.stats.ttest_ind(group, reference,
        equal_var=False)``, the median's ``mannwhitneyu(group, reference,
        method="asymptotic")``. ``ratio`` is group / reference, undefined
        (NaN, with the reason) when the reference's value is not > 0.
        ``impact_ratio`` is value / highest value (favourable) or lowest value
        / value (adverse) over the known groups.
    """
    column = counts.column
    g_count = len(labels)
    known = ~np.array(unknown, dtype=bool)
    reasons = [_reason(counts, g) for g in range(g_count)]
    means = [dist.mean_summary(counts.values, counts.hist[g], sum_w=float(counts.sum_w[g]),
                               sum_wx=float(counts.sum_wx[g]), sum_wx2=float(counts.sum_wx2[g]),
                               sum_w2=float(counts.sum_w2[g]), exact=counts.exact) for g in range(g_count)]
    group_rows: list[dict[str, Any]] = []
    metric_values: dict[str, np.ndarray] = {}

    def add(metric: str, value: np.ndarray, low: np.ndarray, high: np.ndarray, numerator: np.ndarray,
            denominator: np.ndarray) -> None:
        metric_values[metric] = value
        group_rows.extend({"attribute": attribute, "group": label, "metric": metric, "value": float(value[g]),
                           "ci_low": float(low[g]), "ci_high": float(high[g]), "n": int(counts.rows[g]),
                           "numerator": float(numerator[g]), "denominator": float(denominator[g]),
                           "status": "undefined" if reasons[g] else "ok", "reason": reasons[g],
                           "unknown": bool(unknown[g])} for g, label in enumerate(labels))

    mean_ci = np.array([dist.mean_interval(m, confidence) for m in means]).reshape(g_count, 2)
    add(f"mean:{column}", np.array([m.mean for m in means]), mean_ci[:, 0], mean_ci[:, 1], counts.sum_wx,
        counts.sum_w)
    nan = np.full(g_count, np.nan)
    for q in sorted(set(quantiles)):
        value = np.array([dist.histogram_quantile(counts.values, counts.hist[g], q) for g in range(g_count)])
        ci = np.array([dist.quantile_interval(counts.values, counts.hist[g], q, confidence, counts.hist_sq[g])
                       for g in range(g_count)]).reshape(g_count, 2)
        add(quantile_metric(q, column), value, ci[:, 0], ci[:, 1], nan, nan)

    effective = _effective(counts)
    comparison_rows: list[dict[str, Any]] = []
    r = reference
    for metric, values in metric_values.items():
        impact = _impact_ratios(values, known, higher_is)
        for g in range(g_count):
            if g == r or not known[g]:
                continue
            value, ref = float(values[g]), float(values[r])
            row = _comparison_row(attribute, labels[g], labels[r], reference_rule, metric, value, ref,
                                  int(counts.rows[g]), int(counts.rows[r]), reasons[g], reasons[r])
            row.update(evidence_row(_people1=float(counts.rows[g] + counts.missing[g]),
                                    _people2=float(counts.rows[r] + counts.missing[r])))
            if metric.startswith("mean:"):
                welch = dist.welch_test(means[g], means[r])
                row["ratio_ci_low"], row["ratio_ci_high"] = dist.ratio_of_means_interval(means[g], means[r],
                                                                                         confidence)
                row["difference_ci_low"], row["difference_ci_high"] = dist.difference_of_means_interval(
                    means[g], means[r], confidence)
                row.update(test="Welch t" if np.isfinite(welch.p_value) else "none", statistic=welch.statistic,
                           p_value=welch.p_value, _kind="normal", _se1=means[g].se, _se2=means[r].se,
                           _df=welch.dof if np.isfinite(welch.dof) else np.inf)
            elif metric.startswith("median:"):
                test = dist.mann_whitney(effective[g], effective[r])
                row.update(test="Mann–Whitney" if np.isfinite(test.p_value) else "none",
                           statistic=test.statistic, p_value=test.p_value)
            row["impact_ratio"] = float(impact[g])
            row["four_fifths_flag"] = bool(impact[g] < FOUR_FIFTHS) if np.isfinite(impact[g]) else None
            row["disadvantaged"] = _disadvantaged(value, ref, higher_is)
            comparison_rows.append(row)
    groups = pd.DataFrame(group_rows, columns=GROUP_COLUMNS)
    comparisons = pd.DataFrame(comparison_rows, columns=COMPARISON_COLUMNS) if comparison_rows \
        else pd.DataFrame(columns=COMPARISON_COLUMNS)
    return AmountTables(groups=groups, comparisons=comparisons)


def _comparison_row(attribute: str, group: str, reference: str, reference_rule: str, metric: str, value: float,
                    ref: float, n: int, ref_n: int, reason: str, ref_reason: str) -> dict[str, Any]:
    nan = float("nan")
    defined = np.isfinite(value) and np.isfinite(ref)
    reason = reason or (f"reference group: {ref_reason}" if ref_reason else "")
    ratio = value / ref if defined and ref > 0 else nan
    if defined and not reason and not np.isfinite(ratio):
        reason = "the reference's value is not above 0: ratio undefined"
    return {"attribute": attribute, "group": group, "reference": reference, "reference_rule": reference_rule,
            "metric": metric, "value": value, "reference_value": ref, "n": n, "reference_n": ref_n,
            "ratio": ratio, "ratio_ci_low": nan, "ratio_ci_high": nan,
            "difference": value - ref if defined else nan, "difference_ci_low": nan, "difference_ci_high": nan,
            "test": "none", "statistic": nan, "p_value": nan, "p_adjusted": nan, "impact_ratio": nan,
            "four_fifths_flag": None, "disadvantaged": None,
            "status": "ok" if defined and not reason else "undefined", "reason": reason}
