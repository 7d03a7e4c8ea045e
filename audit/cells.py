"""From raw counts to the audit's cells: positive values applied, groups checked.

:func:`resolve_cells` turns an engine's :class:`~audit.counts.RawCounts` into
:class:`CellCounts`: each outcome and decision value is mapped to negative,
positive or missing (the nine states of :mod:`audit.metrics`), the ``positive``
values of the spec are checked against the values that occur, missing values of
a protected attribute become an explicit ``unknown`` group, and every group and
intersection can then be summed from the cells with :meth:`CellCounts.groups`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from audit.counts import SCORE_LABELS, RawCounts
from audit.errors import DataError, ReasonCode, did_you_mean
from audit.labels import format_label, unknown_label
from audit.metrics import N_STATES
from audit.spec import INTERSECTION_JOIN, AuditSpec, LabelSpec

_TRUE_WORDS = {"1": "0", "true": "false", "yes": "no", "y": "n"}


@dataclass(frozen=True)
class LabelMapping:
    """How one column's values were read as negative or positive, with their row counts."""

    column: str
    field: str
    values: tuple[str, ...]
    positive: tuple[bool, ...]
    rows: tuple[int, ...]
    missing_rows: int

    @property
    def positive_values(self) -> tuple[str, ...]:
        return tuple(v for v, p in zip(self.values, self.positive) if p)

    @property
    def negative_values(self) -> tuple[str, ...]:
        return tuple(v for v, p in zip(self.values, self.positive) if not p)


@dataclass(frozen=True)
class GroupCounts:
    """State counts of the groups of one attribute or intersection.

    ``rows``, ``weights`` and ``weights_sq`` have shape (groups, 9); a group of
    an intersection is named by its values joined with ``" × "``.
    """

    attribute: str
    columns: tuple[str, ...]
    labels: tuple[str, ...]
    parts: tuple[tuple[str, ...], ...]
    unknown: tuple[bool, ...]
    rows: np.ndarray
    weights: np.ndarray
    weights_sq: np.ndarray


@dataclass(frozen=True)
class CellCounts:
    """Counts per cell (one value of every protected attribute) × state."""

    attributes: tuple[str, ...]
    levels: tuple[tuple[str, ...], ...]
    unknown: tuple[str | None, ...]
    rows: np.ndarray
    weights: np.ndarray
    weights_sq: np.ndarray
    weighted: bool
    outcome: LabelMapping | None
    decision: LabelMapping
    rows_read: int
    engine: str
    notes: tuple[str, ...] = ()

    @property
    def rows_used(self) -> int:
        return int(self.rows.sum())

    def groups(self, columns: Sequence[str]) -> GroupCounts:
        """Sum the cells to the groups of one attribute or intersection (no re-reading)."""
        axes = [self.attributes.index(c) for c in columns]
        other = tuple(a for a in range(len(self.attributes)) if a not in axes)

        ascending = sorted(axes)
        order = [ascending.index(a) for a in axes] + [len(axes)]

        def reduce(array: np.ndarray) -> np.ndarray:
            summed = array.sum(axis=other) if other else array  # kept axes stay in ascending order
            return np.transpose(summed, order).reshape(-1, N_STATES)

        grids = np.meshgrid(*[np.arange(len(self.levels[a])) for a in axes], indexing="ij")
        flat = [g.ravel() for g in grids]
        parts = tuple(tuple(self.levels[a][i[j]] for a, i in zip(axes, flat)) for j in range(flat[0].size))
        unknown = tuple(any(p == self.unknown[a] for a, p in zip(axes, part)) for part in parts)
        return GroupCounts(attribute=INTERSECTION_JOIN.join(columns), columns=tuple(columns),
                           labels=tuple(INTERSECTION_JOIN.join(p) for p in parts), parts=parts,
                           unknown=unknown, rows=reduce(self.rows), weights=reduce(self.weights),
                           weights_sq=reduce(self.weights_sq))


def _mapping(spec_field: str, label: LabelSpec, values: tuple[str, ...], rows: np.ndarray,
             notes: list[str]) -> LabelMapping:
    """Decide which values of a column are positive, and check that two classes remain."""
    column = label.column
    shown = ", ".join(f"'{v}' ({int(r):,} rows)" for v, r in zip(values, rows[:-1]))
    if label.positive is None:
        lowered = {v.lower(): v for v in values}
        positive_word = next((t for t, f in _TRUE_WORDS.items()
                              if set(lowered) <= {t, f} and t in lowered), None)
        if positive_word is None:
            raise DataError(
                f"{spec_field}.positive: column '{column}' has the values {shown or 'none'}; say which "
                f"count as positive, e.g. '{spec_field}: {{column: {column}, positive: "
                f"[{values[0] if values else '...'}]}}'", reason=ReasonCode.LABEL_NOT_BINARY)
        positive_set = {lowered[positive_word]}
        notes.append(f"{spec_field}: no 'positive' given; '{lowered[positive_word]}' in column "
                     f"'{column}' is taken as positive")
    else:
        wanted = [format_label(v) for v in label.positive]
        found = [w for w in wanted if w in values]
        absent = [w for w in wanted if w not in values]
        if not found:
            hint = did_you_mean(str(absent[0]), values) if absent else ""
            raise DataError(
                f"{spec_field}.positive: {', '.join(repr(a) for a in absent)} does not occur in column "
                f"'{column}'{hint}; its values are {shown or 'none (the column is empty)'}",
                reason=ReasonCode.LABEL_NOT_BINARY)
        if absent:
            notes.append(f"{spec_field}.positive lists {', '.join(repr(a) for a in absent)}, which does not "
                         f"occur in column '{column}'")
        positive_set = set(found)
    positive = tuple(v in positive_set for v in values)
    positives = sum(int(r) for r, p in zip(rows, positive) if p)
    negatives = sum(int(r) for r, p in zip(rows, positive) if not p)
    if positives == 0 or negatives == 0:
        kind = "positive" if negatives == 0 else "negative"
        raise DataError(
            f"{spec_field}: after applying 'positive', every row of column '{column}' is {kind}, so there is "
            f"nothing to compare; its values are {shown}. An outcome or decision needs two classes: check "
            f"'{spec_field}.positive' and 'data.where'", reason=ReasonCode.LABEL_NOT_BINARY)
    if len(values) - sum(positive) > 1:
        notes.append(f"{spec_field}: the negative class of column '{column}' combines several values: "
                     + ", ".join(f"'{v}'" for v, p in zip(values, positive) if not p))
    return LabelMapping(column=column, field=spec_field, values=values, positive=positive,
                        rows=tuple(int(r) for r in rows[:-1]), missing_rows=int(rows[-1]))


def _score_mapping(spec: AuditSpec, rows: np.ndarray) -> LabelMapping:
    score = spec.score
    if score is None:  # pragma: no cover - callers pass a spec with a score
        raise TypeError("spec has no score")
    if rows[0] == 0 or rows[1] == 0:
        side = "at or above" if rows[0] == 0 else "below"
        raise DataError(f"score.threshold: every score in column '{score.column}' is {side} the threshold "
                        f"{score.threshold:g}, so there is nothing to compare; choose a threshold within "
                        f"the range of the scores", reason=ReasonCode.LABEL_NOT_BINARY)
    return LabelMapping(column=score.column, field="score", values=SCORE_LABELS, positive=(False, True),
                        rows=(int(rows[0]), int(rows[1])), missing_rows=int(rows[2]))


def _one_hot(mapping: LabelMapping | None, size: int) -> np.ndarray:
    """Matrix from value slots (the last one missing) to the states negative, positive, missing."""
    matrix = np.zeros((size, 3))
    if mapping is not None:
        for i, positive in enumerate(mapping.positive):
            matrix[i, int(positive)] = 1.0
    matrix[size - 1, 2] = 1.0
    return matrix


def resolve_cells(raw: RawCounts, spec: AuditSpec, *, weighted: bool, source: str) -> CellCounts:
    """Apply the spec's positive values and group rules to an engine's counts."""
    notes: list[str] = []
    k = len(raw.levels)
    used = int(raw.rows.sum())
    if used == 0:
        detail = (f"data.where keeps none of its {raw.rows_read:,} rows" if spec.data.where and raw.rows_read
                  else "it has no rows")
        raise DataError(f"nothing to audit in {source}: {detail}", reason=ReasonCode.NO_ROWS)
    y_axis, d_axis = k, k + 1
    y_rows = raw.rows.sum(axis=tuple(a for a in range(raw.rows.ndim) if a != y_axis))
    d_rows = raw.rows.sum(axis=tuple(a for a in range(raw.rows.ndim) if a != d_axis))
    outcome = _mapping("outcome", spec.outcome, raw.outcome_labels, y_rows, notes) if spec.outcome else None
    decision = (_score_mapping(spec, d_rows) if spec.score is not None
                else _mapping("decision", spec.decision, raw.decision_labels, d_rows, notes))
    y_map = _one_hot(outcome, raw.rows.shape[y_axis])
    d_map = _one_hot(decision, raw.rows.shape[d_axis])

    def to_states(array: np.ndarray) -> np.ndarray:
        states = np.einsum("...yd,ya,db->...ab", array, y_map, d_map)
        return states.reshape(array.shape[:k] + (N_STATES,))

    rows = np.rint(to_states(raw.rows.astype(np.float64))).astype(np.int64)
    weights, weights_sq = to_states(raw.weights), to_states(raw.weights_sq)
    levels: list[tuple[str, ...]] = []
    unknown: list[str | None] = []
    for axis, column in enumerate(spec.protected_columns):
        other = tuple(a for a in range(rows.ndim) if a != axis)
        per_level = rows.sum(axis=other)
        labels = raw.levels[axis]
        if per_level[-1] > 0:
            label = unknown_label(labels)
            levels.append(labels + (label,))
            unknown.append(label)
            notes.append(f"protected '{column}': {int(per_level[-1]):,} rows have no value and form the "
                         f"group '{label}'")
        else:
            rows, weights, weights_sq = (np.delete(a, -1, axis=axis) for a in (rows, weights, weights_sq))
            levels.append(labels)
            unknown.append(None)
        if len(labels) < 2:
            only = f"only one value ('{labels[0]}')" if labels else "no values"
            raise DataError(f"protected[{axis}] '{column}': the column has {only} in the audited rows of "
                            f"{source}; an attribute needs at least two groups to compare. Check the column "
                            f"and data.where", reason=ReasonCode.SINGLE_GROUP)
    if outcome is not None and outcome.missing_rows:
        notes.append(f"outcome: {outcome.missing_rows:,} rows have no value in '{outcome.column}'; metrics "
                     f"that need ground truth use the rows that have one")
    if decision.missing_rows:
        notes.append(f"{decision.field}: {decision.missing_rows:,} rows have no value in '{decision.column}'; "
                     f"they are left out of every decision metric")
    if spec.data.where:
        notes.append(f"data.where kept {used:,} of {raw.rows_read:,} rows")
    return CellCounts(attributes=spec.protected_columns, levels=tuple(levels), unknown=tuple(unknown),
                      rows=rows, weights=weights, weights_sq=weights_sq, weighted=weighted,
                      outcome=outcome, decision=decision, rows_read=raw.rows_read, engine=raw.engine,
                      notes=tuple(notes))
