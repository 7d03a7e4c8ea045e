"""The rate metrics of one yes/no decision view: group rates, comparisons with the reference, spread.

:func:`analyse` works on one view's nine-state cell counts
(:class:`~audit.cells.CellCounts`) and never touches data; the same function
serves every view (the decision, each score threshold, the LL144 median, the
tiers read as yes/no, the final human decision) and the threshold sweep.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from audit.cells import Cells, CellCounts, GroupCounts
from audit.comparisons import Reference, choose_reference, compare, named_reference, spread
from audit.metrics import Kind, MetricDef, get_metric
from audit.rates import MetricValues, compute_metric, confusion_draws
from audit.spec import INTERSECTION_JOIN, AuditSpec


def _attribute_sets(spec: AuditSpec) -> list[tuple[tuple[str, ...], Any, str | None, str]]:
    """(columns, named reference, reference rule, spec field) for every attribute and intersection."""
    sets: list[tuple[tuple[str, ...], Any, str | None, str]] = []
    for i, p in enumerate(spec.protected):
        sets.append(((p.column,), p.reference, p.reference_rule, f"protected[{i}].reference"))
    for i, inter in enumerate(spec.intersections):
        sets.append((inter.columns, inter.reference, inter.reference_rule, f"intersections[{i}].reference"))
    return sets


def _combined_reference(labels: tuple[str, ...], sizes: np.ndarray, parts: list[str]) -> Reference | None:
    """The cell of an intersection that combines each attribute's reference, if it has people."""
    label = " × ".join(parts)
    if label in labels and sizes[labels.index(label)] > 0:
        return Reference(labels.index(label), label, "the attributes' references combined")
    return None


def fixed_references(spec: AuditSpec, cells: Cells, sizes: np.ndarray) -> dict[str, Reference | None]:
    """Each attribute's reference when it does not depend on a metric's values (named, largest, combined).

    ``sizes`` holds people per cell (Σ weights). ``None`` means the reference is
    chosen per metric (``most_favourable``).
    """
    settings = spec.statistics
    references: dict[str, Reference | None] = {}
    marginal: dict[str, str] = {}
    for columns, named, rule, field in _attribute_sets(spec):
        labels, parts, unknown = cells.groups_of(columns)
        size = cells.reduce(sizes, columns)
        fixed = None
        if named is not None:
            stand_in = GroupCounts(INTERSECTION_JOIN.join(columns), columns, labels, parts, unknown,
                                   size[:, None], size[:, None], size[:, None])
            index = named_reference(stand_in, named, field=field)
            fixed = Reference(index, labels[index], "named")
        elif len(columns) == 1 and (rule or settings.reference_rule) == "largest":
            index = int(np.argmax(np.where(unknown, -1.0, size)))
            fixed = Reference(index, labels[index], "largest")
        elif len(columns) > 1 and rule is None and settings.reference_rule == "largest" \
                and all(c in marginal for c in columns):
            fixed = _combined_reference(labels, size, [marginal[c] for c in columns])
        if len(columns) == 1 and fixed is not None:
            marginal[columns[0]] = fixed.label
        references[INTERSECTION_JOIN.join(columns)] = fixed
    return references


def reference_or_largest(reference: Reference | None, labels: tuple[str, ...], unknown: tuple[bool, ...],
                         sizes: np.ndarray) -> Reference:
    """The fixed reference, or the largest known group when the reference is chosen per metric."""
    if reference is not None:
        return reference
    index = int(np.argmax(np.where(unknown, -1.0, sizes)))
    return Reference(index, labels[index], "largest")


def _group_rows(view: str, groups: GroupCounts, values: MetricValues, name: str | None = None) -> list[dict[str, Any]]:
    return [{"view": view, "attribute": groups.attribute, "group": label, "metric": name or values.metric.name,
             "value": values.value[g], "ci_low": values.ci_low[g], "ci_high": values.ci_high[g],
             "n": int(values.n[g]), "numerator": values.numerator[g], "denominator": values.denominator[g],
             "status": "undefined" if values.reason[g] else "ok", "reason": values.reason[g],
             "unknown": groups.unknown[g]}
            for g, label in enumerate(groups.labels)]


def analyse(spec: AuditSpec, cells: CellCounts, *, metrics: list[MetricDef] | None = None,
            references: dict[str, Reference | None] | None = None, bootstrap: bool = True,
            rename: dict[str, str] | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                                           list[dict[str, Any]]]:
    """Group, comparison and spread rows of one decision view, from its cell counts (no data access).

    ``bootstrap=False`` leaves the intervals of balanced accuracy and F1 undefined
    (the threshold sweep); every other number is the same either way.
    """
    settings = spec.statistics
    rng = np.random.default_rng(settings.seed)
    group_rows: list[dict[str, Any]] = []
    comparison_rows: list[dict[str, Any]] = []
    spread_rows: list[dict[str, Any]] = []
    metrics = metrics if metrics is not None else [get_metric(name) for name in spec.metric_names()]
    if references is None:
        references = fixed_references(spec, cells.cells, cells.weights.sum(axis=-1))
    rename = rename or {}
    nan_draws = None
    for columns, named, rule, field in _attribute_sets(spec):
        groups = cells.groups(columns)
        fixed = references[groups.attribute]
        if bootstrap:
            draws = functools.cache(lambda groups=groups: confusion_draws(
                groups, replicates=settings.bootstrap_replicates, rng=rng))
        else:
            nan_draws = np.full((2, len(groups.labels), 4), np.nan)
            draws = lambda nan_draws=nan_draws: nan_draws  # noqa: E731
        for metric in metrics:
            values = compute_metric(metric, groups, confidence=settings.confidence, draws=draws)
            name = rename.get(metric.name, metric.name)
            group_rows.extend(_group_rows(cells.view, groups, values, name))
            if metric.kind in (Kind.COUNT, Kind.SHARE):
                continue
            reference = fixed or choose_reference(groups, values, rule or settings.reference_rule,
                                                  adverse=cells.adverse, min_group_size=settings.min_group_size)
            rows = compare(groups, values, reference, adverse=cells.adverse, confidence=settings.confidence,
                           min_expected=settings.min_expected, weighted=cells.weighted)
            for row in rows:
                row["view"], row["metric"] = cells.view, name
            comparison_rows.extend(rows)
            row = spread(groups, values)
            if row:
                row["view"], row["metric"] = cells.view, name
                spread_rows.append(row)
    return group_rows, comparison_rows, spread_rows


