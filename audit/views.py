"""Decision views: the yes/no readings of one count table that the audit reports side by side.

One pass counts people per cell × label values (× score bin). A *view* reads
that table as a yes/no decision and projects it onto the nine states of
:mod:`audit.metrics`, without touching rows:

* ``decision``: the decision column with its ``positive`` values;
* one view per score threshold (``score ≥ 0.7``, ``top 1,000``, ``top 5%``), and
  the NYC LL144 ``above median (LL144)`` view, from the score histogram;
* ``adverse tiers`` and ``favourable tiers`` for a decision with tiers;
* ``final`` for the human's final decision when the system only recommends.

The ground truth of every view is the outcome column; with selective labels
(``outcome.checked``) rows that were not checked count as having no known
outcome, so error rates use the checked rows only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit.cells import Cells, CellCounts, LabelMapping, Labels, one_hot, take_cells
from audit.counts import RawCounts
from audit.metrics import N_STATES
from audit.thresholds import MEDIAN_VIEW, Cutoff

_LETTERS = "abcdefghijklmnopqrstuvwx"


@dataclass(frozen=True)
class View:
    """One yes/no reading of the counts: which axis is the decision and how it is read."""

    name: str
    source: str
    adverse: bool
    decision: LabelMapping
    cutoff: Cutoff | None = None
    tier_kind: str | None = None


def score_mapping(column: str, cutoff: Cutoff, rows_below: int, rows_above: int, missing: int) -> LabelMapping:
    """The label mapping of a score view, for wording and the result's ``labels`` record."""
    return LabelMapping(column=column, field="score", values=(f"< {cutoff.cutoff:g}", f"≥ {cutoff.cutoff:g}"),
                        positive=(False, True), rows=(rows_below, rows_above), missing_rows=missing)


def decision_matrix(view: View, raw: RawCounts, labels: Labels, axis_size: int) -> np.ndarray:
    """Matrix from the view's decision axis slots (last: missing) to the states negative, positive, missing."""
    if view.source == "score":
        assert raw.score is not None and view.cutoff is not None
        matrix = np.zeros((axis_size, 3))
        positive = raw.score.values >= view.cutoff.cutoff
        matrix[:-1, 1] = positive
        matrix[:-1, 0] = ~positive
        matrix[-1, 2] = 1.0
        return matrix
    if view.source == "tiers":
        assert labels.tiers is not None
        tiers = labels.tiers
        matrix = np.zeros((axis_size, 3))
        for slot, position in enumerate(tiers.positions):
            matrix[slot, int(tiers.kinds[position] == view.tier_kind)] = 1.0
        matrix[-1, 2] = 1.0
        return matrix
    return one_hot(view.decision, axis_size)


def _outcome_tensor(labels: Labels, sizes: dict[str, int]) -> tuple[np.ndarray, str] | None:
    """The ground-truth state of each (outcome slot[, checked slot]), with its einsum subscripts."""
    if labels.outcome is None:
        return None
    truth = one_hot(labels.outcome, sizes["outcome"])
    if labels.checked is None:
        return truth, "oy"
    checked = np.append(np.array(labels.checked.positive, dtype=float), 0.0)  # a missing flag is unchecked
    missing = np.zeros((sizes["outcome"], 3))
    missing[:, 2] = 1.0
    tensor = checked[None, :, None] * truth[:, None, :] + (1.0 - checked)[None, :, None] * missing[:, None, :]
    return tensor, "ocy"


def project(array: np.ndarray, raw: RawCounts, roles: tuple[str, ...], labels: Labels, view: View) -> np.ndarray:
    """Sum an array shaped like the raw counts to (cells..., 9 states) for one view."""
    k = len(raw.levels)
    axes = roles + (("score",) if raw.score is not None else ())
    letters = {role: _LETTERS[i] for i, role in enumerate(axes)}
    sizes = {role: array.shape[k + i] for i, role in enumerate(axes)}
    operands: list[np.ndarray] = [array]
    subscripts = ["..." + "".join(letters[r] for r in axes)]
    truth = _outcome_tensor(labels, sizes)
    if truth is not None:
        tensor, pattern = truth
        operands.append(tensor)
        subscripts.append("".join(letters["outcome"] if ch == "o" else letters["checked"] if ch == "c" else "y"
                                  for ch in pattern))
    operands.append(decision_matrix(view, raw, labels, sizes[view.source if view.source != "tiers" else "decision"]))
    subscripts.append(letters[view.source if view.source != "tiers" else "decision"] + "z")
    out = "...yz" if truth is not None else "...z"
    result = np.einsum(",".join(subscripts) + "->" + out, *operands)
    if truth is None:  # no ground truth: every row's outcome is missing
        states = np.zeros(result.shape[:-1] + (3, 3))
        states[..., 2, :] = result
        result = states
    return result.reshape(result.shape[:k] + (N_STATES,))


def view_cells(view: View, raw: RawCounts, roles: tuple[str, ...], labels: Labels, cells: Cells,
               keep: list[np.ndarray], *, weighted: bool, notes: tuple[str, ...]) -> CellCounts:
    """The nine-state cell counts of one view."""
    rows = np.rint(project(raw.rows.astype(np.float64), raw, roles, labels, view)).astype(np.int64)
    weights = project(raw.weights, raw, roles, labels, view)
    weights_sq = project(raw.weights_sq, raw, roles, labels, view)
    return CellCounts(attributes=cells.attributes, levels=cells.levels, unknown=cells.unknown,
                      rows=take_cells(rows, keep), weights=take_cells(weights, keep),
                      weights_sq=take_cells(weights_sq, keep), weighted=weighted, outcome=labels.outcome,
                      decision=view.decision, rows_read=raw.rows_read, engine=raw.engine, notes=notes,
                      view=view.name, adverse=view.adverse, selective_labels=labels.checked is not None)


def binary_views(spec_adverse: bool, raw: RawCounts, labels: Labels, cutoffs: list[Cutoff],
                 score_column: str | None) -> list[View]:
    """Every yes/no view of the audit, in report order (the LL144 median view is built separately)."""
    views: list[View] = []
    if labels.decision is not None:
        views.append(View("decision", "decision", spec_adverse, labels.decision))
    for cutoff in cutoffs:
        if cutoff.name == MEDIAN_VIEW or raw.score is None:
            continue
        views.append(View(cutoff.name, "score", spec_adverse, _score_labels(raw, cutoff, score_column), cutoff))
    if labels.tiers is not None:
        tiers = labels.tiers
        for kind, adverse in (("adverse", True), ("favourable", False)):
            chosen = tuple(t for t, k in zip(tiers.tiers, tiers.kinds) if k == kind)
            if chosen:
                mapping = LabelMapping(column=tiers.column, field="decision.tiers", values=tiers.tiers,
                                       positive=tuple(k == kind for k in tiers.kinds),
                                       rows=tuple(sum(r for r, p in zip(tiers.rows, tiers.positions) if p == i)
                                                  for i in range(len(tiers.tiers))),
                                       missing_rows=tiers.missing_rows)
                views.append(View(f"{kind} tiers", "tiers", adverse, mapping, tier_kind=kind))
    if labels.final is not None:
        views.append(View("final", "final", spec_adverse, labels.final))
    return views


def median_view(raw: RawCounts, cutoff: Cutoff, score_column: str, adverse: bool) -> View:
    """The NYC LL144 scoring-rate view: scores strictly above the full sample's median are positive."""
    return View(MEDIAN_VIEW, "score", adverse, _score_labels(raw, cutoff, score_column), cutoff)


def _score_labels(raw: RawCounts, cutoff: Cutoff, column: str | None) -> LabelMapping:
    assert raw.score is not None
    per_bin = raw.rows.sum(axis=tuple(range(raw.rows.ndim - 1)))
    above = int(per_bin[:-1][raw.score.values >= cutoff.cutoff].sum())
    below = int(per_bin[:-1].sum()) - above
    return score_mapping(column or "score", cutoff, below, above, int(per_bin[-1]))


def score_histograms(array: np.ndarray, raw: RawCounts, roles: tuple[str, ...], labels: Labels) -> np.ndarray:
    """Sum an array shaped like the raw counts to (cells..., 3 ground-truth states, score bins + missing)."""
    k = len(raw.levels)
    axes = roles + ("score",)
    letters = {role: _LETTERS[i] for i, role in enumerate(axes)}
    sizes = {role: array.shape[k + i] for i, role in enumerate(axes)}
    truth = _outcome_tensor(labels, sizes)
    if truth is None:
        summed = array.sum(axis=tuple(range(k, k + len(roles))))
        out = np.zeros(summed.shape[:k] + (3,) + summed.shape[k:])
        out[..., 2, :] = summed
        return out
    tensor, pattern = truth
    sub = "".join(letters["outcome"] if ch == "o" else letters["checked"] if ch == "c" else "y" for ch in pattern)
    s = letters["score"]
    return np.einsum(f"...{''.join(letters[r] for r in axes)},{sub}->...y{s}", array, tensor)


def pair_states(array: np.ndarray, raw: RawCounts, roles: tuple[str, ...], labels: Labels, first: View,
                second: View) -> np.ndarray:
    """Sum to (cells..., 9) where the state is first-view decision × 3 + second-view decision (overrides)."""
    k = len(raw.levels)
    axes = roles + (("score",) if raw.score is not None else ())
    letters = {role: _LETTERS[i] for i, role in enumerate(axes)}
    sizes = {role: array.shape[k + i] for i, role in enumerate(axes)}
    a, b = letters[first.source], letters[second.source]
    result = np.einsum(f"...{''.join(letters[r] for r in axes)},{a}y,{b}z->...yz", array,
                       decision_matrix(first, raw, labels, sizes[first.source]),
                       decision_matrix(second, raw, labels, sizes[second.source]))
    return result.reshape(result.shape[:k] + (N_STATES,))


def axis_totals(array: np.ndarray, raw: RawCounts, roles: tuple[str, ...], role: str) -> np.ndarray:
    """Sum to (cells..., slots of one label axis)."""
    k = len(raw.levels)
    axis = k + roles.index(role)
    return array.sum(axis=tuple(a for a in range(k, array.ndim) if a != axis))


def project_cutoffs(array: np.ndarray, raw: RawCounts, roles: tuple[str, ...], labels: Labels,
                    cutoffs: np.ndarray) -> np.ndarray:
    """Like :func:`project` for many score cut-offs at once: (cells..., cut-offs, 9 states)."""
    assert raw.score is not None
    k = len(raw.levels)
    axes = roles + ("score",)
    letters = {role: _LETTERS[i] for i, role in enumerate(axes)}
    sizes = {role: array.shape[k + i] for i, role in enumerate(axes)}
    positive = raw.score.values[:, None] >= cutoffs[None, :]
    tensor = np.zeros((sizes["score"], cutoffs.size, 3))
    tensor[:-1, :, 1] = positive
    tensor[:-1, :, 0] = ~positive
    tensor[-1, :, 2] = 1.0
    operands: list[np.ndarray] = [array]
    subscripts = ["..." + "".join(letters[r] for r in axes)]
    truth = _outcome_tensor(labels, sizes)
    if truth is not None:
        operands.append(truth[0])
        subscripts.append("".join(letters["outcome"] if ch == "o" else letters["checked"] if ch == "c" else "y"
                                  for ch in truth[1]))
    operands.append(tensor)
    subscripts.append(letters["score"] + "Tz")
    result = np.einsum(",".join(subscripts) + "->..." + ("Tyz" if truth is not None else "Tz"), *operands,
                       optimize=True)
    if truth is None:
        states = np.zeros(result.shape[:-1] + (3, 3))
        states[..., 2, :] = result
        result = states
    return result.reshape(result.shape[:k + 1] + (N_STATES,))
