"""Group metrics from counts: value, interval, sample size and undefined reason.

For one attribute's :class:`~audit.cells.GroupCounts`, every metric of the
registry is computed for every group at once (vectorised over groups). Rates
get a Wilson interval on effective counts (plain counts without weights);
balanced accuracy and F1, which are not proportions, get a percentile interval
from a parametric bootstrap of the group's confusion counts. A metric whose
denominator is empty is *undefined*: value NaN, status ``undefined`` and the
registry's reason, never 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from audit import stats
from audit.cells import GroupCounts
from audit.metrics import FN, FP, TN, TP, Kind, MetricDef

OK, UNDEFINED = "ok", "undefined"


GROUP_FIELDS = ("attribute", "group", "metric", "value", "ci_low", "ci_high", "n", "numerator", "denominator",
                "status", "reason", "unknown")
"""Columns of a group row, as every analysis writes them (the result adds the view)."""


@dataclass(frozen=True)
class MetricValues:
    """One metric over the groups of one attribute (arrays of length = number of groups).

    ``n`` is the number of rows the metric is computed over (its denominator);
    ``successes`` and ``trials`` are the effective counts that intervals and
    tests use (equal to the plain counts without weights); ``replicates`` holds
    bootstrap replicates (replicates × groups) for derived metrics.
    """

    metric: MetricDef
    value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    n: np.ndarray
    numerator: np.ndarray
    denominator: np.ndarray
    successes: np.ndarray
    trials: np.ndarray
    reason: tuple[str, ...]
    replicates: np.ndarray | None = None

    @property
    def defined(self) -> np.ndarray:
        return ~np.isnan(self.value)


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), np.nan)


def _proportion(metric: MetricDef, groups: GroupCounts, confidence: float) -> MetricValues:
    num = groups.weights[:, list(metric.numerator)].sum(axis=1)
    den = groups.weights[:, list(metric.denominator)].sum(axis=1)
    den_sq = groups.weights_sq[:, list(metric.denominator)].sum(axis=1)
    n = groups.rows[:, list(metric.denominator)].sum(axis=1)
    return from_sums(metric, num, den, den_sq, n, confidence)


def _share(metric: MetricDef, groups: GroupCounts, confidence: float) -> MetricValues:
    num = groups.weights.sum(axis=1)
    den = np.full_like(num, num.sum())
    den_sq = np.full_like(num, groups.weights_sq.sum())
    n = np.full(num.shape, groups.rows.sum(), dtype=np.int64)
    return from_sums(metric, num, den, den_sq, n, confidence)


def from_sums(metric: MetricDef, num: np.ndarray, den: np.ndarray, den_sq: np.ndarray, n: np.ndarray,
              confidence: float) -> MetricValues:
    """A proportion per group from weighted sums: Σw in the numerator and denominator, Σw² of the denominator.

    Values are num / den (NaN when den is 0, with the metric's reason), Wilson
    intervals on the Kish effective counts; ``n`` is the rows behind each value.
    """
    value = _divide(num, den)
    successes, trials = stats.effective_counts(num, den, den_sq)
    low, high = stats.wilson_interval(successes, trials, confidence)
    reason = tuple("" if d > 0 else metric.undefined_when for d in den)
    return MetricValues(metric, value, low, high, n, num, den, successes, trials, reason)


def _count(metric: MetricDef, groups: GroupCounts) -> MetricValues:
    total = groups.weights.sum(axis=1)
    nan = np.full(total.shape, np.nan)
    n = groups.rows.sum(axis=1)
    return MetricValues(metric, total, nan, nan, n, total, nan, nan, nan, ("",) * len(total))


def derived_value(name: str, confusion: np.ndarray) -> np.ndarray:
    """Balanced accuracy or F1 from confusion counts (..., 4) ordered tp, fp, fn, tn."""
    tp, fp, fn, tn = (confusion[..., i] for i in range(4))
    if name == "balanced_accuracy":
        return (_divide(tp, tp + fn) + _divide(tn, tn + fp)) / 2.0
    if name == "f1":
        return _divide(2.0 * tp, 2.0 * tp + fp + fn)
    raise ValueError(f"no derived formula for metric '{name}'")


def confusion_draws(groups: GroupCounts, *, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap replicates (replicates × groups × 4) of each group's confusion counts.

    Drawn once per attribute and shared by every derived metric; weighted counts are
    turned into Kish effective counts first.
    """
    confusion = groups.weights[:, [TP, FP, FN, TN]]
    scale = _divide(confusion.sum(axis=1), groups.weights_sq[:, [TP, FP, FN, TN]].sum(axis=1))
    effective = np.rint(confusion * np.nan_to_num(scale)[:, None]).astype(np.int64)
    return stats.bootstrap_confusion(*effective.T, replicates=replicates, rng=rng).astype(np.float64)


def _derived(metric: MetricDef, groups: GroupCounts, confidence: float, draws: np.ndarray) -> MetricValues:
    states = [TP, FP, FN, TN]
    value = derived_value(metric.name, groups.weights[:, states])
    boot = derived_value(metric.name, draws)
    low, high = stats.percentile_interval(boot, confidence, axis=0)
    n = groups.rows[:, states].sum(axis=1)
    reason = tuple("" if np.isfinite(v) else metric.undefined_when for v in value)
    nan = np.full(value.shape, np.nan)
    return MetricValues(metric, value, np.where(np.isnan(value), np.nan, low),
                        np.where(np.isnan(value), np.nan, high), n, nan, nan, nan, nan, reason, boot)


def compute_metric(metric: MetricDef, groups: GroupCounts, *, confidence: float,
                   draws: Callable[[], np.ndarray]) -> MetricValues:
    """Every group's value, interval and sample size for one metric.

    ``draws`` gives the attribute's bootstrap replicates of confusion counts (see
    :func:`confusion_draws`); it is called only for derived metrics.
    """
    if metric.kind is Kind.COUNT:
        return _count(metric, groups)
    if metric.kind is Kind.SHARE:
        return _share(metric, groups, confidence)
    if metric.kind is Kind.PROPORTION:
        return _proportion(metric, groups, confidence)
    return _derived(metric, groups, confidence, draws())
