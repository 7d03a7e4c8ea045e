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

from audit.counts import RawCounts
from audit.errors import DataError, ReasonCode, did_you_mean
from audit.labels import format_label, lookalike_note, resolve_spec_value, unknown_label
from audit.wording import visible
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
class Cells:
    """The protected cells: each attribute's groups (with its unknown group), and sums of cells to groups."""

    attributes: tuple[str, ...]
    levels: tuple[tuple[str, ...], ...]
    unknown: tuple[str | None, ...]

    def groups_of(self, columns: Sequence[str]) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...],
                                                          tuple[bool, ...]]:
        """Labels, parts and unknown flags of the groups of an attribute or intersection."""
        axes = [self.attributes.index(c) for c in columns]
        grids = np.meshgrid(*[np.arange(len(self.levels[a])) for a in axes], indexing="ij")
        flat = [g.ravel() for g in grids]
        parts = tuple(tuple(self.levels[a][i[j]] for a, i in zip(axes, flat)) for j in range(flat[0].size))
        unknown = tuple(any(p == self.unknown[a] for a, p in zip(axes, part)) for part in parts)
        return tuple(INTERSECTION_JOIN.join(p) for p in parts), parts, unknown

    def reduce(self, array: np.ndarray, columns: Sequence[str]) -> np.ndarray:
        """Sum an array of shape (cells..., trailing...) to (groups, trailing...) for ``columns``."""
        k = len(self.attributes)
        axes = [self.attributes.index(c) for c in columns]
        other = tuple(a for a in range(k) if a not in axes)
        ascending = sorted(axes)
        trailing = array.shape[k:]
        summed = array.sum(axis=other) if other else array  # kept axes stay in ascending order
        order = [ascending.index(a) for a in axes] + list(range(len(axes), len(axes) + len(trailing)))
        return np.transpose(summed, order).reshape((-1,) + trailing)


@dataclass(frozen=True)
class CellCounts:
    """Counts per cell (one value of every protected attribute) × state, for one decision view."""

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
    view: str = "decision"
    adverse: bool = False
    selective_labels: bool = False

    @property
    def rows_used(self) -> int:
        return int(self.rows.sum())

    @property
    def cells(self) -> Cells:
        return Cells(self.attributes, self.levels, self.unknown)

    def groups(self, columns: Sequence[str]) -> GroupCounts:
        """Sum the cells to the groups of one attribute or intersection (no re-reading)."""
        cells = self.cells
        labels, parts, unknown = cells.groups_of(columns)
        return GroupCounts(attribute=INTERSECTION_JOIN.join(columns), columns=tuple(columns), labels=labels,
                           parts=parts, unknown=unknown, rows=cells.reduce(self.rows, columns),
                           weights=cells.reduce(self.weights, columns),
                           weights_sq=cells.reduce(self.weights_sq, columns))


@dataclass(frozen=True)
class TierMapping:
    """The tiers of a decision: the spec's order and kinds, and where each data value goes."""

    column: str
    tiers: tuple[str, ...]
    kinds: tuple[str, ...]
    ordered: bool
    positions: tuple[int, ...]
    rows: tuple[int, ...]
    missing_rows: int

    def matrix(self, size: int) -> np.ndarray:
        """From the decision axis's value slots (last: missing) to tier positions (last: missing)."""
        matrix = np.zeros((size, len(self.tiers) + 1))
        for slot, position in enumerate(self.positions):
            matrix[slot, position] = 1.0
        matrix[size - 1, len(self.tiers)] = 1.0
        return matrix


@dataclass(frozen=True)
class Labels:
    """How every label column of the data was read."""

    outcome: LabelMapping | None
    decision: LabelMapping | None
    tiers: TierMapping | None
    final: LabelMapping | None
    checked: LabelMapping | None


def _mapping(spec_field: str, label: LabelSpec, values: tuple[str, ...], rows: np.ndarray,
             notes: list[str], *, two_classes: bool = True) -> LabelMapping:
    """Decide which values of a column are positive, and check that two classes remain."""
    column = label.column
    shown = ", ".join(f"'{visible(v)}' ({int(r):,} rows)" for v, r in zip(values, rows[:-1]))
    if label.positive is None:
        lowered = {v.lower(): v for v in values}
        positive_word = next((t for t, f in _TRUE_WORDS.items()
                              if set(lowered) <= {t, f} and t in lowered), None)
        if positive_word is None or len(lowered) < len(values):   # 'yes' and 'Yes': which is meant is not ours to guess
            raise DataError(
                f"{spec_field}.positive: column '{column}' has the values {shown or 'none'}; say which "
                f"count as positive, e.g. '{spec_field}: {{column: {column}, positive: "
                f"[{values[0] if values else '...'}]}}'", reason=ReasonCode.LABEL_NOT_BINARY)
        positive_set = {lowered[positive_word]}
        notes.append(f"{spec_field}: no 'positive' given; '{lowered[positive_word]}' in column "
                     f"'{column}' is taken as positive")
    else:
        resolved = [(v, resolve_spec_value(v, values, field=f"{spec_field}.positive", column=column, notes=notes))
                    for v in label.positive]
        found = [r for _, r in resolved if r is not None]
        absent = [v if isinstance(v, str) else format_label(v) for v, r in resolved if r is None]
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
    if two_classes and (positives == 0 or negatives == 0):
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


def one_hot(mapping: LabelMapping | None, size: int) -> np.ndarray:
    """Matrix from value slots (the last one missing) to the states negative, positive, missing."""
    matrix = np.zeros((size, 3))
    if mapping is not None:
        for i, positive in enumerate(mapping.positive):
            matrix[i, int(positive)] = 1.0
    matrix[size - 1, 2] = 1.0
    return matrix


def _tiers(spec: AuditSpec, values: tuple[str, ...], rows: np.ndarray, notes: list[str]) -> TierMapping:
    tiers = spec.tiers
    assert tiers is not None and spec.decision is not None
    names = tuple(tiers.values)
    unknown = [(v, int(r)) for v, r in zip(values, rows) if v not in names]
    if unknown:
        shown = ", ".join(f"'{visible(v)}' ({r:,} rows)" for v, r in unknown)
        raise DataError(f"decision.tiers: column '{spec.decision.column}' has tier value(s) the spec does not name: "
                        f"{shown}{did_you_mean(unknown[0][0], names)}. Add each to 'decision.tiers.values' with "
                        f"its kind (favourable, adverse or neutral), or fix the data; the spec names: "
                        f"{', '.join(names)}", reason=ReasonCode.TIER_UNKNOWN)
    absent = [t for t in names if t not in values]
    if absent:
        notes.append(f"decision.tiers: tier(s) {', '.join(repr(t) for t in absent)} never occur in column "
                     f"'{spec.decision.column}'; their rates are 0")
    return TierMapping(column=spec.decision.column, tiers=names, kinds=tuple(tiers.values.values()),
                       ordered=tiers.ordered, positions=tuple(names.index(v) for v in values),
                       rows=tuple(int(r) for r in rows[:-1]), missing_rows=int(rows[-1]))


def _final(spec: AuditSpec, values: tuple[str, ...], rows: np.ndarray, decision: LabelMapping | None,
           notes: list[str]) -> LabelMapping:
    final = spec.final_decision
    assert final is not None
    if final.positive is not None or decision is None:
        return _mapping("final_decision", final, values, rows, notes, two_classes=False)
    known = dict(zip(decision.values, decision.positive))
    stray = [(v, int(r)) for v, r in zip(values, rows) if v not in known]
    if stray:
        shown = ", ".join(f"'{visible(v)}' ({r:,} rows)" for v, r in stray)
        raise DataError(f"final_decision: column '{final.column}' has value(s) {shown} that match neither decision "
                        f"of '{decision.column}' (positive: {', '.join(decision.positive_values)}; negative: "
                        f"{', '.join(decision.negative_values)}). Recode them, or give 'final_decision.positive' "
                        f"to read the column on its own", reason=ReasonCode.OVERRIDE_INVALID)
    return LabelMapping(column=final.column, field="final_decision", values=values,
                        positive=tuple(known[v] for v in values), rows=tuple(int(r) for r in rows[:-1]),
                        missing_rows=int(rows[-1]))


_ROLE_FIELDS = {"outcome": "outcome", "decision": "decision", "final": "final_decision",
                "checked": "outcome.checked"}


def label_of_role(spec: AuditSpec, role: str) -> LabelSpec | None:
    """The spec's label column of a counting role (``outcome``, ``decision``, ``final``, ``checked``)."""
    if role == "outcome":
        return spec.outcome
    if role == "decision":
        return spec.decision
    if role == "final":
        return spec.final_decision
    return spec.outcome.checked if spec.outcome is not None else None


def resolve_labels(raw: RawCounts, spec: AuditSpec, plan_roles: tuple[str, ...], notes: list[str]) -> Labels:
    """Read every label column: positive values, tiers, the final decision and the checked flag.

    A value that looks like a missing marker but is not declared (``NA`` in an R export) is named in a note.
    """
    k = len(raw.levels)

    def axis(role: str) -> int | None:
        return k + plan_roles.index(role) if role in plan_roles else None

    def values(role: str) -> tuple[tuple[str, ...], np.ndarray]:
        a = axis(role)
        found, rows = raw.label_values[a - k], raw.axis_rows(a)  # type: ignore[operator]
        label = label_of_role(spec, role)
        note = lookalike_note(_ROLE_FIELDS[role], label.column, found, rows) if label is not None else None
        if note is not None and note not in notes:
            notes.append(note)
        return found, rows

    outcome = _mapping("outcome", spec.outcome, *values("outcome"), notes) if spec.outcome else None
    decision = tiers = None
    if spec.decision is not None and spec.tiers is not None:
        tiers = _tiers(spec, *values("decision"), notes)
    elif spec.decision is not None:
        decision = _mapping("decision", spec.decision, *values("decision"), notes)
    final = _final(spec, *values("final"), decision, notes) if spec.final_decision else None
    checked = None
    if spec.outcome is not None and spec.outcome.checked is not None:
        checked = _mapping("outcome.checked", spec.outcome.checked, *values("checked"), notes, two_classes=False)
    return Labels(outcome=outcome, decision=decision, tiers=tiers, final=final, checked=checked)


def resolve_protected(raw: RawCounts, spec: AuditSpec, source: str, notes: list[str]) -> tuple[Cells, list[np.ndarray]]:
    """The groups of every protected attribute, and which slots of each cell axis to keep.

    A missing value becomes an explicit unknown group when it occurs; otherwise its slot is dropped.
    """
    levels: list[tuple[str, ...]] = []
    unknown: list[str | None] = []
    keep: list[np.ndarray] = []
    used = int(raw.rows.sum())
    if used == 0:
        detail = (f"data.where keeps none of its {raw.rows_read:,} rows" if spec.data.where and raw.rows_read
                  else "it has no rows")
        raise DataError(f"nothing to audit in {source}: {detail}", reason=ReasonCode.NO_ROWS)
    for axis, column in enumerate(spec.protected_columns):
        per_level = raw.axis_rows(axis)
        labels = raw.levels[axis]
        note = lookalike_note(f"protected[{axis}]", column, labels, per_level)
        if note is not None:
            notes.append(note)
        if per_level[-1] > 0:
            label = unknown_label(labels)
            levels.append(labels + (label,))
            unknown.append(label)
            keep.append(np.arange(len(labels) + 1))
            notes.append(f"protected '{column}': {int(per_level[-1]):,} rows have no value and form the "
                         f"group '{label}'")
        else:
            levels.append(labels)
            unknown.append(None)
            keep.append(np.arange(len(labels)))
        if len(labels) < 2:
            only = f"only one value ('{labels[0]}')" if labels else "no values"
            raise DataError(f"protected[{axis}] '{column}': the column has {only} in the audited rows of "
                            f"{source}; an attribute needs at least two groups to compare. Check the column "
                            f"and data.where", reason=ReasonCode.SINGLE_GROUP)
    return Cells(spec.protected_columns, tuple(levels), tuple(unknown)), keep


def take_cells(array: np.ndarray, keep: list[np.ndarray]) -> np.ndarray:
    """Keep the used slots of each cell axis (the first ``len(keep)`` axes)."""
    for axis, index in enumerate(keep):
        array = np.take(array, index, axis=axis)
    return array
