"""The threshold sweep: every group metric and comparison at each cut-off of a grid, in one vectorised step.

The score histogram gives, for every cut-off at once, each cell's nine state
counts (:func:`audit.views.project_cutoffs`). The groups of every cut-off are
stacked into one long array and go through the same metric and comparison
code as a plain audit (:func:`audit.rates.compute_metric`,
:func:`audit.comparisons.compare_blocks`), element by element, so the value
at any cut-off of the grid equals a plain audit at that cut-off exactly. Only
the bootstrap intervals of balanced accuracy and F1 are left out (undefined):
they would cost a resampling per cut-off.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audit import stats
from audit.binary import _attribute_sets
from audit.cells import Cells, GroupCounts, Labels, take_cells
from audit.comparisons import Reference, choose_reference, compare_blocks
from audit.counts import RawCounts
from audit.metrics import Kind, get_metric
from audit.rates import MetricValues, compute_metric
from audit.result import COMPARISON_COLUMNS, GROUP_COLUMNS
from audit.spec import INTERSECTION_JOIN, AuditSpec
from audit.views import project_cutoffs


def _view(threshold: float) -> str:
    return f"score ≥ {threshold:g}"


def _slice(values: MetricValues, block: int, size: int) -> MetricValues:
    part = slice(block * size, (block + 1) * size)
    return MetricValues(values.metric, values.value[part], values.ci_low[part], values.ci_high[part],
                        values.n[part], values.numerator[part], values.denominator[part], values.successes[part],
                        values.trials[part], values.reason[part])


def _tile(values: MetricValues, blocks: int) -> MetricValues:
    """The values of one block repeated for every cut-off."""
    return MetricValues(values.metric, *(np.tile(np.asarray(part), blocks) for part in (
        values.value, values.ci_low, values.ci_high, values.n, values.numerator, values.denominator,
        values.successes, values.trials)), values.reason * blocks)


class _Columns:
    """Rows gathered as column arrays (one block per metric), turned into one frame at the end."""

    def __init__(self) -> None:
        self.blocks: list[dict[str, np.ndarray]] = []

    def add(self, block: dict[str, object], size: int) -> None:
        self.blocks.append({name: np.full(size, value) if isinstance(value, str) else np.asarray(value)
                            for name, value in block.items()})

    def frame(self, columns: list[str]) -> pd.DataFrame:
        """One frame sorted by cut-off, keeping the plain audit's order (attribute, metric, group) within each."""
        if not self.blocks:
            return pd.DataFrame(columns=columns)
        merged = {name: np.concatenate([b[name] for b in self.blocks]) for name in self.blocks[0]}
        part = np.repeat(np.arange(len(self.blocks)), [len(b["_order"]) for b in self.blocks])
        order = np.lexsort((merged["_order"], part, merged["threshold"]))
        return pd.DataFrame({name: merged[name][order] for name in columns})


def sweep_tables(spec: AuditSpec, raw: RawCounts, roles: tuple[str, ...], labels: Labels, cells: Cells,
                 keep: list[np.ndarray], references: dict[str, Reference | None]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Group and comparison tables of the sweep, with a ``threshold`` column; p-values adjusted per cut-off."""
    assert spec.score is not None and spec.score.sweep is not None
    settings = spec.statistics
    grid = np.array(spec.score.sweep.grid())
    blocks = grid.size
    arrays = [take_cells(project_cutoffs(a, raw, roles, labels, grid), keep)
              for a in (raw.rows.astype(np.float64), raw.weights, raw.weights_sq)]
    metrics = [get_metric(name) for name in spec.metric_names()]
    group_parts, comparison_parts = _Columns(), _Columns()
    for columns, _, rule, _ in _attribute_sets(spec):
        attribute = INTERSECTION_JOIN.join(columns)
        labels_, parts, unknown = cells.groups_of(columns)
        size = len(labels_)
        reduced = [np.swapaxes(cells.reduce(a, columns), 0, 1).reshape(blocks * size, -1) for a in arrays]
        stacked = GroupCounts(attribute, tuple(columns), labels_ * blocks, parts * blocks, unknown * blocks,
                              np.rint(reduced[0]).astype(np.int64), reduced[1], reduced[2])
        nan_draws = np.full((2, blocks * size, 4), np.nan)
        threshold = np.repeat(grid, size)
        views = np.repeat(np.array([_view(t) for t in grid]), size)
        group_labels, group_unknown = np.array(stacked.labels), np.array(stacked.unknown, dtype=bool)
        for metric in metrics:
            if metric.kind == Kind.SHARE:  # of the attribute's population, the same at every cut-off
                first = GroupCounts(attribute, tuple(columns), labels_, parts, unknown, stacked.rows[:size],
                                    stacked.weights[:size], stacked.weights_sq[:size])
                values = _tile(compute_metric(metric, first, confidence=settings.confidence,
                                                      draws=lambda: nan_draws), blocks)
            else:
                values = compute_metric(metric, stacked, confidence=settings.confidence, draws=lambda: nan_draws)
            reason = np.asarray(values.reason, dtype=str)
            group_parts.add({
                "threshold": threshold, "view": views, "attribute": attribute,
                "group": group_labels, "metric": metric.name, "value": values.value,
                "ci_low": values.ci_low, "ci_high": values.ci_high, "n": values.n.astype(np.int64),
                "numerator": values.numerator, "denominator": values.denominator,
                "status": np.where(reason != "", "undefined", "ok"), "reason": reason,
                "unknown": group_unknown, "_order": np.arange(blocks * size)}, blocks * size)
            if metric.kind in (Kind.COUNT, Kind.SHARE):
                continue
            fixed = references[attribute]
            by_value = (rule or settings.reference_rule) == "most_favourable"
            if fixed is None:  # the largest group is the same at every cut-off: choose it once
                chosen = [choose_reference(GroupCounts(attribute, tuple(columns), labels_, parts, unknown,
                                                       stacked.rows[b * size:(b + 1) * size],
                                                       stacked.weights[b * size:(b + 1) * size],
                                                       stacked.weights_sq[b * size:(b + 1) * size]),
                                           _slice(values, b, size), rule or settings.reference_rule,
                                           adverse=spec.adverse, min_group_size=settings.min_group_size)
                          for b in range(blocks if by_value else 1)]
            block_refs = [fixed] * blocks if fixed is not None else chosen if by_value else chosen * blocks
            compared = compare_blocks(attribute, labels_, unknown, values, block_refs, adverse=spec.adverse,
                                      confidence=settings.confidence, min_expected=settings.min_expected,
                                      weighted=bool(spec.data.weight))
            rows = len(compared["group"])
            if rows:  # every block compares the same known groups with one reference each
                per_block = np.repeat(grid, rows // blocks)
                comparison_parts.add(dict(threshold=per_block, view=np.repeat(views[::size], rows // blocks),
                                          **compared,
                                          _order=np.arange(rows)), rows)
    groups = group_parts.frame(["threshold"] + GROUP_COLUMNS)
    comparisons = comparison_parts.frame(["threshold"] + COMPARISON_COLUMNS[:-1])
    if len(comparisons):
        adjusted = np.full(len(comparisons), np.nan)
        for _, index in comparisons.groupby("threshold", sort=False).indices.items():
            adjusted[index] = stats.adjust_p_values(comparisons["p_value"].to_numpy(dtype=float)[index],
                                                    settings.correction)
        comparisons["p_adjusted"] = adjusted
    return groups, comparisons
