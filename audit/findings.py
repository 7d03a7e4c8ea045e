"""Every finding of an audit, derived from the counts of one pass.

:func:`derive` reads the counts (:class:`~audit.counts.RawCounts`) through
every view the spec asks for — yes/no decisions, score thresholds and the
LL144 median, the score's distribution, tiers, human overrides, amounts,
check rates of selective labels — adjusts p-values within each view, and
judges the policy. It never touches data, so an audit of an aggregate table
and of the rows it was summed from give the same findings.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, replace
from typing import Any

import numpy as np
import pandas as pd

from audit import stats
from audit.binary import _attribute_sets, analyse, fixed_references, reference_or_largest
from audit.cells import CellCounts, Cells, Labels, resolve_labels, resolve_protected, take_cells
from audit.comparisons import EVIDENCE_FIELDS, Reference
from audit.family import Family, ToDecide, family_intervals, family_p_values, what_would_decide
from audit.counts import MAX_EXACT_VALUES, AmountCounts as RawAmounts, RawCounts
from audit.metrics import EXTRA_METRICS, METRICS, Harm, Kind, MetricDef, metric_family
from audit.overrides import EFFECT_COLUMNS, OVERRIDE_METRICS, override_effects
from audit.policy import evidence_of, guarded, judge
from audit.result import (COMPARISON_COLUMNS, GROUP_COLUMNS, SPREAD_COLUMNS, THRESHOLD_COLUMNS, VERDICT_COLUMNS,
                          Findings)
from audit.score_analysis import (AUC_COLUMNS, CALIBRATION_COLUMNS, CAPACITY_COLUMNS, TEST_COLUMNS, ScoreGroups, capacity_rows,
                                  distribution_tables)
from audit.spec import INTERSECTION_JOIN, AuditSpec, PolicyRule
from audit.thresholds import MEDIAN_VIEW, Cutoff, resolve_cutoffs
from audit.views import (View, axis_totals, binary_views, median_view, pair_states, score_histograms,
                         view_cells)


def _judged(spec: AuditSpec, comparisons: pd.DataFrame) -> list[tuple[int, PolicyRule, dict[str, Any]]]:
    """Every (rule, comparison row) pair the policy judges, in rule order: the members of the family."""
    pairs = []
    for index, rule in enumerate(spec.policy):
        attributes = rule.attributes or spec.attribute_names
        chosen = comparisons[(comparisons["metric"] == rule.metric) & comparisons["attribute"].isin(attributes)]
        if rule.views is not None:
            chosen = chosen[chosen["view"].isin(rule.views)]
        pairs.extend((index, rule, row) for row in chosen.to_dict(orient="records"))
    return pairs


def _with_test(comparison: dict[str, Any]) -> dict[str, Any]:
    """The comparison with a test for its verdict: a metric the comparisons table does not test (balanced
    accuracy, F1) is tested by its bootstrap standard errors, z = difference / sqrt(se1² + se2²)."""
    if comparison["test"] != "none" or comparison["_kind"] != "normal" or comparison["status"] != "ok":
        return comparison
    statistic, p = stats.normal_test(comparison["difference"], np.hypot(comparison["_se1"], comparison["_se2"]))
    if not np.isfinite(p):
        return comparison
    return {**comparison, "test": "z (bootstrap standard errors)", "statistic": float(statistic), "p_value": float(p)}


def _verdicts(spec: AuditSpec, comparisons: pd.DataFrame, *,
              outside: Sequence[float] = ()) -> tuple[pd.DataFrame, Family]:
    """The verdicts of every rule for every group, judged as one family.

    ``outside`` holds the raw p-values (NaN for none) of the family's members in
    views not derived here (a partial derivation); they count in its size and
    in Holm's adjustment, so each verdict here is what the full audit gives.
    """
    pairs = _judged(spec, comparisons)
    settings = spec.statistics
    family = Family(size=len(pairs) + len(outside), alpha=settings.alpha)
    pairs = [(index, rule, _with_test(row)) for index, rule, row in pairs]
    judged = pd.DataFrame([row for _, _, row in pairs], columns=list(comparisons.columns))
    bounds = [rule.bound for _, rule, _ in pairs]
    family_low, family_high = family_intervals(judged, bounds, family)
    raw_p = judged["p_value"].to_numpy(dtype=float) if len(judged) else np.empty(0)
    p_family = family_p_values(np.concatenate([raw_p, np.asarray(outside, dtype=float)]))[:len(pairs)]
    rows = []
    for i, (index, rule, comparison) in enumerate(pairs):
        comparison = {**comparison, "family_ci_low": family_low[i], "family_ci_high": family_high[i],
                      "p_family": p_family[i]}
        verdict, reason = judge(rule, comparison, family=family, min_group_size=settings.min_group_size)
        refused = comparison["selective_labels"] and rule.selective_labels == "refuse" and verdict == "pass"
        if refused:
            verdict, reason = "inconclusive", (f"{reason}; but computed on checked cases only (selective "
                                               f"labels), and the policy refuses to pass on them: only a random "
                                               f"evaluation sample, its outcomes checked whatever the decision, "
                                               f"can decide it")
        decide = what_would_decide(comparison, rule=rule.rule, bound=rule.bound, band=rule.band, family=family,
                                   min_group_size=settings.min_group_size, guarded=guarded(rule, comparison),
                                   needs_outcome=_needs_truth(rule.metric)) \
            if verdict == "inconclusive" else ToDecide()
        if refused:  # more checked cases cannot decide it: no size is given, the reason names the sample
            decide = ToDecide(decide.detectable_ratio, decide.detectable_difference)
        low, high = rule.band
        rows.append({
            "rule_index": index, "rule": rule.describe(), "view": comparison["view"], "metric": rule.metric,
            "bound": rule.bound, "decision_rule": rule.rule, "band_low": low, "band_high": high,
            "attribute": comparison["attribute"], "group": comparison["group"],
            "reference": comparison["reference"], "verdict": verdict, "reason": reason,
            "estimate": comparison[rule.bound], "ci_low": comparison[f"{rule.bound}_ci_low"],
            "ci_high": comparison[f"{rule.bound}_ci_high"], "family_ci_low": family_low[i],
            "family_ci_high": family_high[i], "test": comparison["test"], "p_value": comparison["p_value"],
            "p_family": p_family[i], "evidence": evidence_of(comparison), "n": comparison["n"],
            "reference_n": comparison["reference_n"], "disadvantaged": comparison["disadvantaged"],
            "selective_labels": comparison["selective_labels"], **asdict(decide),
        })
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS), family


def _frame(rows: list[dict[str, Any]] | list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    frames = [r for r in rows if isinstance(r, pd.DataFrame) and len(r)]
    records = [r for r in rows if isinstance(r, dict)]
    parts = frames + ([pd.DataFrame(records)] if records else [])
    if not parts:
        return pd.DataFrame(columns=columns)
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return frame.reindex(columns=columns)


def _adjust(comparisons: pd.DataFrame, method: str) -> pd.DataFrame:
    """Adjust p-values within each view (one family per decision rule), never across views."""
    comparisons = comparisons.copy()
    comparisons["p_adjusted"] = np.nan
    for _, index in comparisons.groupby("view", sort=False).groups.items():
        comparisons.loc[index, "p_adjusted"] = stats.adjust_p_values(
            comparisons.loc[index, "p_value"].to_numpy(dtype=float), method)
    return comparisons


def _needs_truth(metric: str) -> bool:
    if metric in METRICS:
        return METRICS[metric].needs_outcome
    family = metric_family(metric)
    return family in EXTRA_METRICS and EXTRA_METRICS[family].needs == "score_outcome"


def _label_notes(labels: Labels, notes: list[str]) -> None:
    if labels.outcome is not None and labels.outcome.missing_rows:
        notes.append(f"outcome: {labels.outcome.missing_rows:,} rows have no value in '{labels.outcome.column}'; "
                     f"metrics that need ground truth use the rows that have one")
    for mapping in (labels.decision, labels.final):
        if mapping is not None and mapping.missing_rows:
            notes.append(f"{mapping.field}: {mapping.missing_rows:,} rows have no value in '{mapping.column}'; "
                         f"they are left out of every decision metric")


class _Tables:
    """Rows gathered from every analysis, turned into the result's tables at the end."""

    def __init__(self) -> None:
        self.groups: list[Any] = []
        self.comparisons: list[Any] = []
        self.spread: list[Any] = []
        self.tests: list[Any] = []
        self.extra: dict[str, list[Any]] = {}

    def add(self, groups: list[Any], comparisons: list[Any], spread: list[Any] = ()) -> None:  # type: ignore
        self.groups.extend(groups)
        self.comparisons.extend(comparisons)
        self.spread.extend(spread)


def derive(spec: AuditSpec, raw: RawCounts, roles: tuple[str, ...], *, source: str,
           views: Collection[str] | None = None, family_outside: Sequence[float] | None = None) -> Findings:
    """Every table of the audit from the counts of one pass.

    ``views`` limits the work to the decision views named (see
    :meth:`AuditSpec.view_names`; ``score`` is the score's distribution, and
    the sweep runs only when every view is asked for). A front end that redraws
    one view (the app's slider) asks for it alone. Each view's numbers are the
    same as in a full derivation: the comparisons' p-values are adjusted within
    each view, and the verdicts are judged as members of the whole audit's
    family. For that, ``family_outside`` gives the raw p-values (NaN for none)
    of the verdicts in the views not derived, as a full derivation of ``spec``
    has them; without it the other views are derived once to find them.
    """
    if views is None:
        return _derive(spec, raw, roles, source=source, wanted=lambda name: True, sweep=True, outside=())
    chosen = set(views)
    if family_outside is None:
        everything = _derive(spec, raw, roles, source=source, wanted=lambda name: True, sweep=False, outside=())
        family_outside = everything.verdicts.loc[~everything.verdicts["view"].isin(chosen), "p_value"].to_numpy(
            dtype=float)
    return _derive(spec, raw, roles, source=source, wanted=chosen.__contains__, sweep=False, outside=family_outside)


def _derive(spec: AuditSpec, raw: RawCounts, roles: tuple[str, ...], *, source: str, wanted: Callable[[str], bool],
            sweep: bool, outside: Sequence[float]) -> Findings:
    """:func:`derive` for the views ``wanted`` says yes to (the sweep with ``sweep``), ``outside`` as there."""
    notes: list[str] = []
    cells, keep = resolve_protected(raw, spec, source, notes)
    labels = resolve_labels(raw, spec, roles, notes)
    _label_notes(labels, notes)
    if spec.data.where:
        notes.append(f"data.where kept {int(raw.rows.sum()):,} of {raw.rows_read:,} rows")
    k = len(raw.levels)
    weighted = bool(spec.data.weight)
    sizes = take_cells(raw.weights.sum(axis=tuple(range(k, raw.weights.ndim))), keep)
    references = fixed_references(spec, cells, sizes)
    tables = _Tables()
    cutoffs: list[Cutoff] = []
    if spec.score is not None and raw.score is not None:
        per_bin = raw.rows.sum(axis=tuple(range(raw.rows.ndim - 1)))[:-1]
        cutoffs = resolve_cutoffs(spec.score, raw.score.values, per_bin,
                                  median=None if raw.score.exact else raw.score.binning.median)
        notes.extend(f"{c.name}: {c.note}" for c in cutoffs if c.note)
    all_views = binary_views(spec.adverse, raw, labels, cutoffs, spec.score.column if spec.score else None)
    primary: CellCounts | None = None
    by_view: dict[str, CellCounts] = {}
    for view in all_views:
        if not wanted(view.name):
            continue
        counts = view_cells(view, raw, roles, labels, cells, keep, weighted=weighted, notes=())
        primary = primary or counts
        by_view[view.name] = counts
        tables.add(*analyse(spec, counts, references=references))
    if spec.score is not None and raw.score is not None:
        _score_findings(spec, raw, roles, labels, cells, keep, references, cutoffs, by_view, tables, notes,
                        wanted=wanted, sweep=sweep)
    if labels.tiers is not None and wanted("tiers"):
        _tier_findings(spec, raw, roles, labels, cells, keep, references, sizes, tables)
    if labels.final is not None and wanted("overrides"):
        _override_findings(spec, raw, roles, labels, cells, keep, references, all_views, tables)
    for amount, amount_spec in zip(raw.amounts, spec.amounts):
        if wanted(f"amount: {amount.column}"):
            _amount_findings(spec, amount, amount_spec, cells, keep, references, sizes, tables)
    if labels.checked is not None and wanted("labels"):
        _check_findings(spec, raw, roles, labels, cells, keep, references, tables)
    comparisons = _frame(tables.comparisons, COMPARISON_COLUMNS + list(EVIDENCE_FIELDS))
    comparisons["selective_labels"] = labels.checked is not None and len(comparisons) > 0 and \
        comparisons["metric"].map(_needs_truth).astype(bool)
    if labels.checked is not None:
        notes.append(f"selective labels: ground truth is known only for rows checked in "
                     f"'{labels.checked.column}'; error rates and the AUC use those rows only (see check_rate)")
    comparisons = _adjust(comparisons, spec.statistics.correction) if len(comparisons) else comparisons
    verdicts, family = _verdicts(spec, comparisons, outside=outside)
    if spec.spec_version == 1 and any(rule.rule == "point" for rule in spec.policy):
        notes.append("spec_version 1: a policy rule without 'rule' is the point rule, as it was in version 1 (the "
                     "estimate alone, not statistically established); version 2 makes 'significant' the default")
    extra = {name: _frame(rows, columns) for name, (rows, columns) in tables.extra.items()}
    if tables.tests:
        extra["tests"] = _frame(tables.tests, TEST_COLUMNS)
    return Findings(groups=_frame(tables.groups, GROUP_COLUMNS), comparisons=comparisons[COMPARISON_COLUMNS],
                    verdicts=verdicts, spread=_frame(tables.spread, SPREAD_COLUMNS), tables=extra,
                    notes=tuple(notes), primary=primary, rows_used=int(raw.rows.sum()), family=family)


def _extra(tables: _Tables, name: str, columns: list[str], rows: Any) -> None:
    tables.extra.setdefault(name, ([], columns))[0].extend(rows if isinstance(rows, list) else [rows])


def _score_findings(spec: AuditSpec, raw: RawCounts, roles: tuple[str, ...], labels: Labels, cells: Cells,
                    keep: list[np.ndarray], references: dict[str, Reference | None], cutoffs: list[Cutoff],
                    by_view: dict[str, CellCounts], tables: _Tables, notes: list[str], *,
                    wanted: Callable[[str], bool], sweep: bool) -> None:
    assert spec.score is not None and raw.score is not None
    weighted = bool(spec.data.weight)
    confidence = spec.statistics.confidence
    _extra(tables, "thresholds", THRESHOLD_COLUMNS, [
        {"view": c.name, "kind": c.kind, "requested": c.requested, "cutoff": c.cutoff, "acted_on": c.acted_on,
         "population": c.population, "note": c.note} for c in cutoffs])
    median = next((c for c in cutoffs if c.name == MEDIAN_VIEW), None)
    if median is not None and wanted("score"):
        counts = view_cells(median_view(raw, median, spec.score.column, spec.adverse), raw, roles, labels, cells,
                            keep, weighted=weighted, notes=())
        counts = replace(counts, view="score")
        groups, comparisons, spread_rows = analyse(spec, counts, metrics=[METRICS["selection_rate"]],
                                                   references=references, rename={"selection_rate": "scoring_rate"})
        tables.add(groups, comparisons, spread_rows)
    if wanted("score"):
        _distributions(spec, raw, roles, labels, cells, keep, references, tables, notes)
    for cutoff in cutoffs:
        if cutoff.name in by_view:
            _extra(tables, "capacity", CAPACITY_COLUMNS,
                   capacity_rows(by_view[cutoff.name], confidence, sets_of(spec)))
    if spec.score.sweep is not None and sweep:
        _sweep(spec, raw, roles, labels, cells, keep, references, tables)


def _distributions(spec: AuditSpec, raw: RawCounts, roles: tuple[str, ...], labels: Labels, cells: Cells,
                   keep: list[np.ndarray], references: dict[str, Reference | None], tables: _Tables,
                   notes: list[str]) -> None:
    """The score's distribution by group: AUC, calibration, KS and the other tests (the view ``score``)."""
    assert spec.score is not None and raw.score is not None
    hist = {name: take_cells(score_histograms(array, raw, roles, labels), keep) for name, array in
            (("weights", raw.weights), ("weights_sq", raw.weights_sq), ("rows", raw.rows.astype(np.float64)))}
    values = raw.score.values
    if raw.score.exact:
        score_sum = hist["weights"] * np.append(values, 0.0)
        score_sq = hist["weights"] * np.append(values * values, 0.0)
    else:
        score_sum = take_cells(score_histograms(raw.score_sum, raw, roles, labels), keep)
        score_sq = take_cells(score_histograms(raw.score_sq, raw, roles, labels), keep)
    finite = values[np.isfinite(values)]
    probability = spec.score.probability if spec.score.probability is not None else \
        bool(finite.size and finite.min() >= 0 and finite.max() <= 1)
    if spec.outcome is not None and not probability:
        notes.append(f"score: '{spec.score.column}' is not a probability (its values are not all in [0, 1]), so "
                     f"calibration is not reported; set score.probability to true if it is one")
    if not raw.score.exact:
        notes.append(f"score: '{spec.score.column}' has more than {MAX_EXACT_VALUES:,} distinct values and was "
                     f"counted in {raw.score.binning.bins:,} equal-width bins split at every cut-off; decisions at "
                     f"the cut-offs are exact, the AUC is exact to within half its within_bin_share")
    for columns in sets_of(spec):
        attribute = INTERSECTION_JOIN.join(columns)
        labels_, _, unknown = cells.groups_of(columns)
        reduced = {name: cells.reduce(array, columns) for name, array in hist.items()}
        groups = ScoreGroups(attribute, labels_, unknown, values, reduced["weights"], reduced["weights_sq"],
                             reduced["rows"], cells.reduce(score_sum, columns), cells.reduce(score_sq, columns))
        reference = reference_or_largest(references[attribute], labels_, unknown,
                                         reduced["weights"].sum(axis=(1, 2)))
        g, c, t, calibration, auc_rows = distribution_tables(spec, groups, reference, probability=probability,
                                                             exact=raw.score.exact)
        tables.add(g, c)
        tables.tests.extend(t)
        if auc_rows:
            _extra(tables, "auc", AUC_COLUMNS, auc_rows)
        if len(calibration):
            _extra(tables, "calibration", CALIBRATION_COLUMNS, [calibration])


def _sweep(spec: AuditSpec, raw: RawCounts, roles: tuple[str, ...], labels: Labels, cells: Cells,
           keep: list[np.ndarray], references: dict[str, Reference | None], tables: _Tables) -> None:
    """Every group metric and comparison at each cut-off of the grid (see :mod:`audit.sweep`)."""
    from audit.sweep import sweep_tables

    groups, comparisons = sweep_tables(spec, raw, roles, labels, cells, keep, references)
    _extra(tables, "sweep_groups", ["threshold"] + GROUP_COLUMNS, [groups])
    _extra(tables, "sweep_comparisons", ["threshold"] + COMPARISON_COLUMNS[:-1], [comparisons])


def sets_of(spec: AuditSpec) -> list[tuple[str, ...]]:
    return [columns for columns, *_ in _attribute_sets(spec)]


def _tier_findings(spec: AuditSpec, raw: RawCounts, roles: tuple[str, ...], labels: Labels, cells: Cells,
                   keep: list[np.ndarray], references: dict[str, Reference | None], sizes: np.ndarray,
                   tables: _Tables) -> None:
    from audit.tiers import analyse_tiers

    tiers = labels.tiers
    assert tiers is not None
    settings = spec.statistics

    def tier_table(array: np.ndarray) -> np.ndarray:
        totals = axis_totals(array, raw, roles, "decision")
        return take_cells(totals @ tiers.matrix(totals.shape[-1]), keep)[..., :-1]

    rows, weights, weights_sq = (tier_table(a) for a in (raw.rows.astype(np.float64), raw.weights, raw.weights_sq))
    for columns in sets_of(spec):
        attribute = INTERSECTION_JOIN.join(columns)
        labels_, _, unknown = cells.groups_of(columns)
        reference = reference_or_largest(references[attribute], labels_, unknown, cells.reduce(sizes, columns))
        result = analyse_tiers(np.rint(cells.reduce(rows, columns)).astype(np.int64), cells.reduce(weights, columns),
                               cells.reduce(weights_sq, columns), tiers=tiers.tiers, kinds=tiers.kinds,  # type: ignore
                               ordered=tiers.ordered, attribute=attribute, labels=labels_, unknown=unknown,
                               reference=reference.index, reference_rule=reference.rule,
                               confidence=settings.confidence, min_expected=settings.min_expected,
                               weighted=bool(spec.data.weight))
        for frame in (result.groups, result.comparisons, result.tests):
            frame.insert(0, "view", "tiers")
        tables.add([result.groups], [result.comparisons])
        tables.tests.append(result.tests)


def _override_findings(spec: AuditSpec, raw: RawCounts, roles: tuple[str, ...], labels: Labels, cells: Cells,
                       keep: list[np.ndarray], references: dict[str, Reference | None], views: list[View],
                       tables: _Tables) -> None:
    recommendation = views[0]
    final = next(v for v in views if v.name == "final")
    weighted = bool(spec.data.weight)
    arrays = [take_cells(pair_states(a, raw, roles, labels, recommendation, final), keep)
              for a in (raw.rows.astype(np.float64), raw.weights, raw.weights_sq)]
    counts = CellCounts(attributes=cells.attributes, levels=cells.levels, unknown=cells.unknown,
                        rows=np.rint(arrays[0]).astype(np.int64), weights=arrays[1], weights_sq=arrays[2],
                        weighted=weighted, outcome=None, decision=final.decision, rows_read=raw.rows_read,
                        engine=raw.engine, view="overrides", adverse=spec.adverse)
    tables.add(*analyse(spec, counts, metrics=list(OVERRIDE_METRICS), references=references))
    comparisons = _frame(tables.comparisons, COMPARISON_COLUMNS)
    _extra(tables, "override_effects", EFFECT_COLUMNS, [override_effects(comparisons, recommendation.name)])


def _check_findings(spec: AuditSpec, raw: RawCounts, roles: tuple[str, ...], labels: Labels, cells: Cells,
                    keep: list[np.ndarray], references: dict[str, Reference | None], tables: _Tables) -> None:
    checked = labels.checked
    assert checked is not None
    flags = np.append(np.array(checked.positive, dtype=int), 0)  # a missing flag counts as not checked

    def states(array: np.ndarray) -> np.ndarray:
        totals = axis_totals(array, raw, roles, "checked")
        out = np.zeros(totals.shape[:-1] + (9,))
        out[..., 0] = totals[..., flags == 0].sum(axis=-1)
        out[..., 3] = totals[..., flags == 1].sum(axis=-1)
        return take_cells(out, keep)

    arrays = [states(a) for a in (raw.rows.astype(np.float64), raw.weights, raw.weights_sq)]
    counts = CellCounts(attributes=cells.attributes, levels=cells.levels, unknown=cells.unknown,
                        rows=np.rint(arrays[0]).astype(np.int64), weights=arrays[1], weights_sq=arrays[2],
                        weighted=bool(spec.data.weight), outcome=None, decision=checked, rows_read=raw.rows_read,
                        engine=raw.engine, view="labels", adverse=False)
    tables.add(*analyse(spec, counts, metrics=[CHECK_RATE], references=references))


CHECK_RATE = MetricDef("check_rate", "check rate (selective labels)", Kind.PROPORTION,
                       "rows whose outcome was checked / rows", Harm.NONE, False, "the group has no rows",
                       (3,), (0, 3))


def _amount_findings(spec: AuditSpec, amount: RawAmounts, amount_spec: Any, cells: Cells, keep: list[np.ndarray],
                     references: dict[str, Reference | None], sizes: np.ndarray, tables: _Tables) -> None:
    from audit.amounts import AmountCounts, analyse_amount

    view = f"amount: {amount.column}"
    arrays = {name: take_cells(getattr(amount, name), keep)
              for name in ("rows", "weights", "weights_sq", "sum_wx", "sum_wx2")}
    for columns in sets_of(spec):
        attribute = INTERSECTION_JOIN.join(columns)
        labels_, _, unknown = cells.groups_of(columns)
        reduced = {name: cells.reduce(array, columns) for name, array in arrays.items()}
        counts = AmountCounts(column=amount.column, values=amount.histogram.values, exact=amount.histogram.exact,
                              hist=reduced["weights"][:, :-1], hist_sq=reduced["weights_sq"][:, :-1],
                              rows=np.rint(reduced["rows"][:, :-1].sum(axis=1)).astype(np.int64),
                              missing=np.rint(reduced["rows"][:, -1]).astype(np.int64),
                              sum_w=reduced["weights"][:, :-1].sum(axis=1), sum_wx=reduced["sum_wx"],
                              sum_wx2=reduced["sum_wx2"], sum_w2=reduced["weights_sq"][:, :-1].sum(axis=1))
        reference = reference_or_largest(references[attribute], labels_, unknown, cells.reduce(sizes, columns))
        result = analyse_amount(counts, attribute=attribute, labels=labels_, unknown=unknown,
                                reference=reference.index, reference_rule=reference.rule,
                                higher_is=amount_spec.higher_is, quantiles=amount_spec.quantiles,
                                confidence=spec.statistics.confidence)
        for frame in (result.groups, result.comparisons):
            frame.insert(0, "view", view)
        tables.add([result.groups], [result.comparisons])
