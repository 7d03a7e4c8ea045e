"""Comparisons of each group with its reference, computed from group metrics.

For every attribute and metric: ratio and difference against the reference
group with Katz-log and Newcombe intervals (bootstrap percentile intervals for
derived metrics), a two-proportion test (Fisher's exact test for small cells,
else the z-test; the ``test`` column says which), the NYC LL144 impact ratio
(value over the highest value) and, for selection rates, the four-fifths flag
on the favourable rate. The unknown group is reported in the group table but
never compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from audit import stats
from audit.cells import GroupCounts
from audit.errors import DataError, ReasonCode, did_you_mean
from audit.labels import format_label
from audit.metrics import Kind
from audit.rates import MetricValues
from audit.spec import INTERSECTION_JOIN, ReferenceRule

FOUR_FIFTHS = 0.8


@dataclass(frozen=True)
class Reference:
    """The reference group of one attribute (for one metric when chosen by value)."""

    index: int
    label: str
    rule: str


def named_reference(groups: GroupCounts, value: Any, *, field: str) -> int:
    """Index of a reference group named in the spec; an absent one raises with the labels."""
    values = value if isinstance(value, tuple) else (value,)
    label = INTERSECTION_JOIN.join(format_label(v) or "" for v in values)
    candidates = [l for l, u in zip(groups.labels, groups.unknown) if not u]
    if label not in candidates:
        raise DataError(f"{field}: reference group '{label}' does not occur in '{groups.attribute}'"
                        f"{did_you_mean(label, candidates)}; its groups are: {', '.join(candidates)}",
                        reason=ReasonCode.REFERENCE_NOT_FOUND)
    return groups.labels.index(label)


def choose_reference(groups: GroupCounts, values: MetricValues, rule: ReferenceRule, *, adverse: bool,
                     min_group_size: int) -> Reference:
    """The reference by rule: the largest group, or the group treated most favourably on this metric.

    ``most_favourable`` picks, among known groups with at least ``min_group_size``
    rows in the metric's denominator (all known groups if none has), the best
    value in the metric's direction; metrics without a direction fall back to
    the largest group. Ties go to the larger group.
    """
    known = ~np.array(groups.unknown)
    size = groups.weights.sum(axis=1)
    worse = values.metric.worse_when(adverse=adverse)
    if rule == "most_favourable" and worse is not None:
        usable = known & values.defined
        big = usable & (values.n >= min_group_size)
        pool = big if big.any() else usable
        if pool.any():
            score = np.where(pool, values.value if worse == "lower" else -values.value, -np.inf)
            best = np.flatnonzero(score == score[pool].max())
            index = int(best[np.argmax(size[best])])
            return Reference(index, groups.labels[index], "most favourable")
    index = int(np.flatnonzero(known)[np.argmax(size[known])])
    return Reference(index, groups.labels[index], "largest")


def compare(groups: GroupCounts, values: MetricValues, reference: Reference, *, adverse: bool,
            confidence: float, min_expected: float, weighted: bool) -> list[dict[str, Any]]:
    """One row per known, non-reference group comparing it with the reference."""
    metric = values.metric
    r = reference.index
    known = ~np.array(groups.unknown)
    best = np.nanmax(np.where(known & values.defined, values.value, np.nan)) if (known & values.defined).any() \
        else np.nan
    favourable = 1.0 - values.value if adverse else values.value
    best_favourable = np.nanmax(np.where(known, favourable, np.nan)) if (known & values.defined).any() else np.nan
    worse = metric.worse_when(adverse=adverse)
    others = [g for g in range(len(groups.labels)) if g != r and known[g]]
    if not others:
        return []
    idx = np.array(others)
    v, v_ref = values.value[idx], values.value[r]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(v_ref > 0, v / v_ref, np.nan)
        difference = v - v_ref
    if metric.kind is Kind.DERIVED:
        reps = values.replicates
        with np.errstate(divide="ignore", invalid="ignore"):
            rep_ratio = np.where(reps[:, [r]] > 0, reps[:, idx] / reps[:, [r]], np.nan)
        ratio_low, ratio_high = stats.percentile_interval(rep_ratio, confidence, axis=0)
        diff_low, diff_high = stats.percentile_interval(reps[:, idx] - reps[:, [r]], confidence, axis=0)
        test = np.array(["none"] * len(idx), dtype=object)
        statistic = p_value = np.full(len(idx), np.nan)
    else:
        x1, n1 = values.successes[idx], values.trials[idx]
        x2, n2 = values.successes[r], values.trials[r]
        ratio_low, ratio_high = stats.katz_ratio_interval(x1, n1, x2, n2, confidence)
        diff_low, diff_high = stats.newcombe_difference_interval(x1, n1, x2, n2, confidence)
        if weighted:
            statistic, p_value = stats.two_proportion_z_test(x1, n1, x2, n2)
            test = np.where(np.isnan(p_value), "none", "z (effective counts)").astype(object)
        else:
            result = stats.compare_proportions(x1, n1, x2, n2, min_expected=min_expected)
            test, statistic, p_value = result.test, result.statistic, result.p_value
    rows = []
    for j, g in enumerate(others):
        defined = bool(values.defined[g] and values.defined[r])
        reason = values.reason[g] or (f"reference group: {values.reason[r]}" if values.reason[r] else "")
        if defined and not np.isfinite(ratio[j]) and not reason:
            reason = "reference value is 0: ratio undefined"
        disadvantaged = None
        if defined and worse is not None and v[j] != v_ref:
            disadvantaged = bool(v[j] > v_ref) if worse == "higher" else bool(v[j] < v_ref)
        four_fifths = None
        if metric.name == "selection_rate" and values.defined[g] and best_favourable > 0:
            four_fifths = bool(favourable[g] / best_favourable < FOUR_FIFTHS)
        rows.append({
            "attribute": groups.attribute, "group": groups.labels[g], "reference": reference.label,
            "reference_rule": reference.rule, "metric": metric.name,
            "value": v[j], "reference_value": v_ref, "n": int(values.n[g]), "reference_n": int(values.n[r]),
            "ratio": ratio[j], "ratio_ci_low": ratio_low[j], "ratio_ci_high": ratio_high[j],
            "difference": difference[j], "difference_ci_low": diff_low[j],
            "difference_ci_high": diff_high[j], "test": str(test[j]), "statistic": statistic[j],
            "p_value": p_value[j], "p_adjusted": np.nan,
            "impact_ratio": v[j] / best if best and best > 0 and values.defined[g] else np.nan,
            "four_fifths_flag": four_fifths, "disadvantaged": disadvantaged,
            "status": "ok" if defined and not reason else "undefined", "reason": reason,
        })
    return rows


def spread(groups: GroupCounts, values: MetricValues) -> dict[str, Any] | None:
    """Lowest and highest value across the known groups, their ratio and difference."""
    known = ~np.array(groups.unknown) & values.defined
    if known.sum() < 1:
        return None
    masked = np.where(known, values.value, np.nan)
    low, high = int(np.nanargmin(masked)), int(np.nanargmax(masked))
    lo, hi = values.value[low], values.value[high]
    return {"attribute": groups.attribute, "metric": values.metric.name, "groups": int(known.sum()),
            "min_group": groups.labels[low], "min": lo, "max_group": groups.labels[high], "max": hi,
            "min_max_ratio": lo / hi if hi > 0 else np.nan, "max_difference": hi - lo}
