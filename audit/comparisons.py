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

from audit import exact_intervals, stats
from audit.cells import GroupCounts
from audit.errors import DataError, ReasonCode, did_you_mean
from audit.labels import format_label, resolve_spec_value
from audit.metrics import ANY, KNOWN, Kind, state
from audit.rates import MetricValues
from audit.spec import INTERSECTION_JOIN, ReferenceRule
from audit.wording import visible

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
    known = [p for p, u in zip(groups.parts, groups.unknown) if not u]
    named = [resolve_spec_value(v, sorted({p[i] for p in known}), field=field, column=c)
             for i, (v, c) in enumerate(zip(values, groups.columns))]
    label = INTERSECTION_JOIN.join(n if n is not None else (v if isinstance(v, str) else format_label(v) or "")
                                   for n, v in zip(named, values))
    candidates = [l for l, u in zip(groups.labels, groups.unknown) if not u]
    if label not in candidates:
        raise DataError(f"{field}: reference group '{visible(label)}' does not occur in '{groups.attribute}'"
                        f"{did_you_mean(label, candidates)}; its groups are: {', '.join(map(visible, candidates))}",
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
    """One row per known, non-reference group comparing it with the reference (with the evidence columns)."""
    people = groups.rows.sum(axis=1).astype(float)
    known = groups.rows[:, [state(y, d) for y in KNOWN for d in ANY]].sum(axis=1).astype(float)
    columns = compare_blocks(groups.attribute, groups.labels, groups.unknown, values, [reference], adverse=adverse,
                             confidence=confidence, min_expected=min_expected, weighted=weighted,
                             people=people, known_outcomes=known if values.metric.needs_outcome else None)
    names = list(columns)
    return [dict(zip(names, row)) for row in zip(*columns.values())]


def _evidence(kind: str, count: int, **columns: Any) -> dict[str, Any]:
    """The evidence columns of ``count`` comparison rows: what the verdicts recompute intervals and sizes from.

    ``_kind`` is ``proportion`` (counts ``_x1, _n1, _x2, _n2`` of the group and
    the reference; ``_exact`` when they are whole counts, not weighted),
    ``normal`` (standard errors ``_se1, _se2`` of each value, ``_df`` of the
    difference's t quantile, inf for the normal) or ``none``. ``_people1`` and
    ``_people2`` are the people behind each denominator and ``_known1``,
    ``_known2`` those with a known outcome, to turn a needed denominator into people.
    """
    out: dict[str, Any] = {name: np.full(count, np.nan) for name in EVIDENCE_FIELDS}
    out["_kind"] = np.full(count, kind, dtype=object)
    out["_exact"] = np.zeros(count, dtype=bool)
    out["_df"] = np.full(count, np.inf)
    out.update({name: np.asarray(value) for name, value in columns.items()})
    return out


def compare_blocks(attribute: str, labels: tuple[str, ...], unknown: tuple[bool, ...], values: MetricValues,
                   references: list[Reference], *, adverse: bool, confidence: float, min_expected: float,
                   weighted: bool, favourable_impact: bool = False, people: np.ndarray | None = None,
                   known_outcomes: np.ndarray | None = None) -> dict[str, Any]:
    """Comparison columns for one or more stacked blocks of the same groups (one block per threshold).

    ``values`` holds ``len(references) × len(labels)`` entries, block by block;
    each block is compared with its own reference. Every number is computed
    element by element, so a block gives exactly what it would give alone.

    Rates are tested with Fisher's exact test where an expected count is below
    ``min_expected`` (else the z test; the z test on effective counts with
    weights); their intervals are exact (:mod:`audit.exact_intervals`) where an
    expected count is below :data:`SMALL_EXPECTED`, Katz's and Newcombe's
    otherwise. Balanced accuracy and F1 get percentile intervals and no test
    here (their bootstrap standard errors go into the evidence, from which a
    verdict tests them). The result also holds the evidence
    columns (:data:`EVIDENCE_FIELDS`); ``people`` and ``known_outcomes`` give, per
    entry of ``values``, the people behind each group and those with a known
    outcome (default: the metric's denominator).

    ``impact_ratio`` is value / highest value of the known groups and the
    four-fifths flag is set for ``selection_rate`` only, on the favourable
    reading. With ``favourable_impact`` (shares with a direction, such as a
    tier's rate) both follow the favourable reading, the share (favourable)
    or 1 − share (adverse) over its highest value, and are empty for a
    metric without a direction.
    """
    metric = values.metric
    size, blocks = len(labels), len(references)
    known = np.tile(~np.array(unknown, dtype=bool), blocks)
    defined = values.defined
    value = values.value
    favourable = 1.0 - value if adverse else value
    usable = (known & defined).reshape(blocks, size)
    with np.errstate(invalid="ignore"):
        best = np.where(usable.any(axis=1), np.nanmax(np.where(usable, value.reshape(blocks, size), np.nan), axis=1,
                                                      initial=-np.inf), np.nan)
        best_favourable = np.where(usable.any(axis=1), np.nanmax(
            np.where(known.reshape(blocks, size), favourable.reshape(blocks, size), np.nan), axis=1,
            initial=-np.inf), np.nan)
    worse = metric.worse_when(adverse=adverse)
    ref_index = np.array([r.index for r in references], dtype=np.int64)
    grid = np.arange(blocks * size)
    chosen = known & (grid % size != np.repeat(ref_index, size))
    empty: dict[str, list[Any]] = {name: [] for name in COMPARISON_FIELDS + EVIDENCE_FIELDS}
    if not chosen.any():
        return empty
    idx = np.flatnonzero(chosen)
    block = idx // size
    ref = block * size + ref_index[block]
    v, v_ref = value[idx], value[ref]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(v_ref > 0, v / v_ref, np.nan)
        difference = v - v_ref
    heads = values.n.astype(float) if people is None else np.asarray(people, dtype=float)
    if metric.kind is Kind.DERIVED:
        reps = values.replicates
        with np.errstate(divide="ignore", invalid="ignore"):
            rep_ratio = np.where(reps[:, ref] > 0, reps[:, idx] / reps[:, ref], np.nan)
        ratio_low, ratio_high = stats.percentile_interval(rep_ratio, confidence, axis=0)
        diff_low, diff_high = stats.percentile_interval(reps[:, idx] - reps[:, ref], confidence, axis=0)
        test = np.array(["none"] * len(idx), dtype=object)
        statistic = p_value = np.full(len(idx), np.nan)
        se = _bootstrap_se(reps)  # a verdict on the metric tests with them (see audit.findings)
        evidence = _evidence("normal", len(idx), _se1=se[idx], _se2=se[ref])
    else:
        x1, n1 = values.successes[idx], values.trials[idx]
        x2, n2 = values.successes[ref], values.trials[ref]
        small = ~np.asarray(weighted, dtype=bool) & (stats.smallest_expected(x1, n1, x2, n2) < SMALL_EXPECTED)
        intervals = exact_intervals.proportion_comparison_intervals(x1, n1, x2, n2, confidence=confidence,
                                                                    exact=small)
        ratio_low, ratio_high = intervals.ratio_low, intervals.ratio_high
        diff_low, diff_high = intervals.difference_low, intervals.difference_high
        if weighted:
            statistic, p_value = stats.two_proportion_z_test(x1, n1, x2, n2)
            test = np.where(np.isnan(p_value), "none", "z (effective counts)").astype(object)
        else:
            result = stats.compare_proportions(x1, n1, x2, n2, min_expected=min_expected)
            test, statistic, p_value = result.test, result.statistic, result.p_value
        evidence = _evidence("proportion", len(idx), _exact=np.full(len(idx), not weighted), _x1=x1, _n1=n1,
                             _x2=x2, _n2=n2)
    evidence["_people1"], evidence["_people2"] = heads[idx], heads[ref]
    if known_outcomes is not None:
        outcomes = np.asarray(known_outcomes, dtype=float)
        evidence["_known1"], evidence["_known2"] = outcomes[idx], outcomes[ref]
    both = defined[idx] & defined[ref]
    reason_of = np.asarray(values.reason, dtype=str)
    own, of_reference = reason_of[idx], reason_of[ref]
    reasons = np.where(own != "", own, np.where(of_reference != "",
                                                np.strings.add("reference group: ", of_reference), ""))
    reasons = np.where(both & ~np.isfinite(ratio) & (reasons == ""), "reference value is 0: ratio undefined",
                       reasons)
    disadvantaged = np.full(len(idx), None, dtype=object)
    differs = both & (v != v_ref)
    if worse is not None:
        disadvantaged[differs] = (v > v_ref)[differs] if worse == "higher" else (v < v_ref)[differs]
    four_fifths = np.full(len(idx), None, dtype=object)
    flagged = worse is not None if favourable_impact else metric.name == "selection_rate"
    if flagged:
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = best_favourable[block]
            mask = defined[idx] & (scale > 0)
            four_fifths[mask] = (favourable[idx] / scale < FOUR_FIFTHS)[mask]
    with np.errstate(divide="ignore", invalid="ignore"):
        if not favourable_impact:
            impact = np.where(defined[idx] & (best[block] > 0), v / best[block], np.nan)
        elif worse is None:
            impact = np.full(len(idx), np.nan)
        else:
            impact = np.where(defined[idx] & (best_favourable[block] > 0),
                              favourable[idx] / best_favourable[block], np.nan)
    n = values.n.astype(np.int64)
    count = len(idx)
    reasons = np.asarray(reasons, dtype=str)
    flags = np.empty(count, dtype=object)
    flags[:] = [None if f is None else bool(f) for f in four_fifths]
    sides = np.empty(count, dtype=object)
    sides[:] = [None if d is None else bool(d) for d in disadvantaged]
    return {  # arrays, so that a sweep's thousands of rows never pass through Python lists
        "attribute": np.full(count, attribute), "group": np.asarray(labels, dtype=str)[idx % size],
        "reference": np.asarray([r.label for r in references], dtype=str)[block],
        "reference_rule": np.asarray([r.rule for r in references], dtype=str)[block],
        "metric": np.full(count, metric.name), "value": v, "reference_value": v_ref,
        "n": n[idx], "reference_n": n[ref], "ratio": ratio, "ratio_ci_low": np.asarray(ratio_low, dtype=float),
        "ratio_ci_high": np.asarray(ratio_high, dtype=float), "difference": difference,
        "difference_ci_low": np.asarray(diff_low, dtype=float), "difference_ci_high": np.asarray(diff_high, dtype=float),
        "test": np.asarray(test, dtype=str), "statistic": np.asarray(statistic, dtype=float),
        "p_value": np.asarray(p_value, dtype=float), "p_adjusted": np.full(count, np.nan),
        "impact_ratio": np.asarray(impact, dtype=float), "four_fifths_flag": flags, "disadvantaged": sides,
        "status": np.where(both & (reasons == ""), "ok", "undefined"), "reason": reasons,
        **evidence,
    }


def evidence_row(kind: str = "none", **values: float) -> dict[str, Any]:
    """The evidence columns of one comparison row built by hand (amounts, score metrics); see :func:`_evidence`."""
    return {name: value[0] for name, value in _evidence(kind, 1, **{k: [v] for k, v in values.items()}).items()}


def _bootstrap_se(replicates: np.ndarray) -> np.ndarray:
    """Each group's bootstrap standard error (replicates × groups), NaN where most replicates are undefined."""
    defined = np.isfinite(replicates)
    count = defined.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        filled = np.where(defined, replicates, 0.0)
        mean = filled.sum(axis=0) / count
        variance = (np.where(defined, replicates - mean, 0.0) ** 2).sum(axis=0) / (count - 1)
    return np.where(2 * count > replicates.shape[0], np.sqrt(variance), np.nan)


SMALL_EXPECTED = 5.0
"""Below this expected count (Cochran's rule) a comparison's ordinary interval is exact, not Katz's or Newcombe's."""

EVIDENCE_FIELDS = ("_kind", "_exact", "_x1", "_n1", "_x2", "_n2", "_se1", "_se2", "_df", "_people1", "_people2",
                   "_known1", "_known2")
"""Columns the verdicts are derived from (see :func:`_evidence`); internal, never in a result table."""

COMPARISON_FIELDS = ("attribute", "group", "reference", "reference_rule", "metric", "value", "reference_value", "n",
            "reference_n", "ratio", "ratio_ci_low", "ratio_ci_high", "difference", "difference_ci_low",
            "difference_ci_high", "test", "statistic", "p_value", "p_adjusted", "impact_ratio", "four_fifths_flag",
            "disadvantaged", "status", "reason")


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
