"""Near-duplicate spellings: groups that look alike in every output but are counted apart.

Values are grouped exactly as written, so ``'Kinh'``, ``'Kinh '`` (a trailing
space), ``'kinh'`` and a ``'Hmông'`` typed with a combining accent (Unicode
NFD) beside one typed with the precomposed letter (NFC) are different groups,
though a report shows them alike. This module finds such spellings and never
merges them silently:

* :func:`spelling_key` says which spellings are near-duplicates: equal after
  Unicode NFC normalisation, trimming of surrounding white space (including
  the no-break space and the zero-width spaces and joiners) and case-folding
  (:meth:`str.casefold`). Compatibility forms (NFKC: full-width letters,
  ligatures) are not folded: they show differently, and folding them would
  merge spellings that are not the same text. Spaces inside the text are kept.
* :func:`near_duplicates` finds them in the counts of one pass, for every
  protected column and every label column (outcome, decision or its tiers,
  final decision, checked flag), with each spelling's count of rows (people
  for an aggregate table).
* :func:`merge_levels` sums the spellings of one protected column into one
  group of new counts (never writing to the input).
* :func:`read_near_duplicates` is the one place the engine calls
  (:func:`audit.engine.derive_result`, behind ``audit run``, the app and a
  reopened audit): a ``warning:`` note for each column with near-duplicates
  and, when the spec sets ``data.merge_near_duplicates``, the protected
  columns' spellings merged into their most frequent one, with a note and a
  record ``{column: {spelling: merged_into}}`` for the result's provenance
  (``provenance.merged_groups`` in ``result.json``). Label columns are never
  merged: their note says how to list every spelling instead.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from audit.cells import label_of_role
from audit.counts import RawCounts
from audit.errors import ReasonCode, UsageError
from audit.labels import format_label
from audit.spec import AuditSpec, LabelSpec

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
"""Invisible characters trimmed with white space: zero-width space, non-joiner, joiner, word joiner, BOM."""

_LABEL_FIELDS = {"outcome": ("outcome", "outcome.positive"), "decision": ("decision", "decision.positive"),
                 "final": ("final_decision", "final_decision.positive"),
                 "checked": ("outcome.checked", "outcome.checked.positive")}
"""Label role → (how notes name the column's spec field, the field that lists its positive values)."""


def _trimmed(char: str) -> bool:
    return char.isspace() or char in ZERO_WIDTH


def _core(text: str) -> tuple[int, int]:
    """Start and stop of ``text`` without its surrounding white space and zero-width characters."""
    start, stop = 0, len(text)
    while start < stop and _trimmed(text[start]):
        start += 1
    while stop > start and _trimmed(text[stop - 1]):
        stop -= 1
    return start, stop


def spelling_key(label: str) -> str:
    """The form two near-duplicate spellings share: NFC, trimmed, case-folded.

    Examples
    --------
    >>> spelling_key(" Kinh\\u00a0") == spelling_key("kinh") == "kinh"
    True
    >>> spelling_key("Hmo\\u0302ng") == spelling_key("Hm\\u00f4ng")
    True
    """
    text = unicodedata.normalize("NFC", label)
    start, stop = _core(text)
    return unicodedata.normalize("NFC", text[start:stop].casefold())


def near_duplicate_sets(labels: Sequence[str]) -> list[tuple[int, ...]]:
    """Positions of the labels that share a :func:`spelling_key`, for every key shared by two or more.

    Each set lists positions in the order of ``labels``; the sets come in the
    order of their first label. Labels that are exactly equal are not expected
    (an axis holds each value once) but would form a set too.
    """
    by_key: dict[str, list[int]] = {}
    for position, label in enumerate(labels):
        by_key.setdefault(spelling_key(label), []).append(position)
    return [tuple(positions) for positions in by_key.values() if len(positions) > 1]


def _character(char: str) -> str:
    """A character named visibly: ``U+00A0 NO-BREAK SPACE``."""
    return f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed character')}"


def _visible(char: str) -> str:
    """The character as it is, or escaped like Python's repr when it does not show (spaces other than ' ')."""
    invisible = char in ZERO_WIDTH or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Zs", "Co", "Cn")
    return char if char == " " or not invisible else f"\\u{ord(char):04x}"


def quoted(label: str) -> str:
    """The label in single quotes, with characters that do not show escaped (``'Kinh\\u00a0'``)."""
    return "'" + "".join(_visible(c) for c in label) + "'"


def _edge(run: str, where: str) -> str | None:
    """How a run of trimmed characters at one end of a spelling is described (None when there is none)."""
    if not run:
        return None
    if set(run) == {" "}:
        if where == "only":
            return f"only {len(run)} space{'s' if len(run) > 1 else ''}"
        return f"{where} space" if len(run) == 1 else f"{len(run)} {where} spaces"
    return f"{where} " + " + ".join(_character(c) for c in run)


def describe_spelling(label: str) -> str:
    """The spelling in quotes, its invisible characters escaped, and what sets it apart.

    ``'Kinh '`` gives ``'Kinh ' (trailing space)``; a no-break space shows as
    ``\\u00a0`` and is named (``trailing U+00A0 NO-BREAK SPACE``); text not in
    NFC form names its combining marks. Letter case shows by itself.
    """
    start, stop = _core(label)
    details = [_edge(label[:start], "leading"), _edge(label[stop:], "trailing")] if start < stop else \
        [_edge(label, "only")]
    if label != unicodedata.normalize("NFC", label):
        odd = dict.fromkeys(c for c in label if unicodedata.combining(c) or unicodedata.normalize("NFC", c) != c)
        details.append(f"not NFC: written with {', '.join(_character(c) for c in odd)}")
    shown = quoted(label)
    found = [d for d in details if d]
    return f"{shown} ({'; '.join(found)})" if found else shown


@dataclass(frozen=True)
class NearDuplicates:
    """One set of near-duplicate spellings in one column.

    Attributes
    ----------
    column : str
        The data column.
    role : str
        ``protected`` or the label role (``outcome``, ``decision``, ``final``, ``checked``).
    axis : int
        The axis of :class:`~audit.counts.RawCounts` that holds the column.
    spellings : tuple of str
        Every spelling, in the order of the axis.
    counts : tuple of int
        Rows (people, for an aggregate table) of each spelling.
    target : str
        The spelling a merge keeps: the one a reference of the spec names, else
        the most frequent (ties: the first in the axis's sorted order).
    """

    column: str
    role: str
    axis: int
    spellings: tuple[str, ...]
    counts: tuple[int, ...]
    target: str

    def listed(self, unit: str) -> str:
        """Every spelling with its count: ``'Kinh' (6 rows) / 'Kinh ' (trailing space, 3 rows)``."""
        return " / ".join(_with_count(s, c, unit) for s, c in zip(self.spellings, self.counts))


def _counted(count: int, unit: str) -> str:
    """``1 row``, ``3 rows``, ``1 person``, ``40 people``."""
    singular = {"rows": "row", "people": "person"}[unit]
    return f"{count:,} {singular if count == 1 else unit}"


def _with_count(spelling: str, count: int, unit: str) -> str:
    shown = describe_spelling(spelling)
    counted = _counted(count, unit)
    return f"{shown[:-1]}, {counted})" if shown.endswith(")") else f"{shown} ({counted})"


def _named_references(spec: AuditSpec, column: str) -> list[str]:
    """The values of ``column`` the spec names as references (the attribute's, then the intersections')."""
    named = [p.reference for p in spec.protected if p.column == column and p.reference is not None]
    for inter in spec.intersections:
        if inter.reference is not None and column in inter.columns:
            named.append(inter.reference[inter.columns.index(column)])
    return [label for label in (format_label(v) for v in named) if label is not None]


def _target(spellings: Sequence[str], counts: Sequence[int], named: Sequence[str]) -> str:
    """The spelling a reference names, else the most frequent, ties broken by axis (sorted) order."""
    for label in named:
        if label in spellings:
            return label
    return spellings[int(np.argmax(np.asarray(counts)))]  # argmax takes the first of equal counts


def _label_axes(spec: AuditSpec, raw: RawCounts, roles: Sequence[str]) -> list[tuple[int, str, str]]:
    """(axis, column, role) of every label column, in the order of the counts' axes."""
    columns = [label_of_role(spec, role) for role in roles]
    k = len(raw.levels)
    return [(k + i, label.column, role) for i, (label, role) in enumerate(zip(columns, roles)) if label is not None]


def near_duplicates(spec: AuditSpec, raw: RawCounts, roles: Sequence[str]) -> tuple[NearDuplicates, ...]:
    """Every set of near-duplicate spellings in the protected and label columns of the counts.

    ``roles`` are the label axes' roles (:attr:`audit.counts.CountPlan.roles`).
    Missing values are not a spelling (their slot is skipped), and a spelling
    with no rows in the audited rows is not in the counts at all.
    """
    found: list[NearDuplicates] = []
    axes = [(axis, column, "protected") for axis, column in enumerate(spec.protected_columns)]
    axes += _label_axes(spec, raw, roles)
    for axis, column, role in axes:
        labels = raw.levels[axis] if role == "protected" else raw.label_values[axis - len(raw.levels)]
        sets = near_duplicate_sets(labels)
        if not sets:
            continue  # the usual case: no sum over the counts needed
        per_label = raw.axis_rows(axis)[:-1]
        named = _named_references(spec, column) if role == "protected" else []
        for positions in sets:
            spellings = tuple(labels[p] for p in positions)
            counts = tuple(int(per_label[p]) for p in positions)
            found.append(NearDuplicates(column=column, role=role, axis=axis, spellings=spellings, counts=counts,
                                        target=_target(spellings, counts, named)))
    return tuple(found)


# -- merging -------------------------------------------------------------------

def _sum_slots(array: np.ndarray, axis: int, destination: np.ndarray, size: int) -> np.ndarray:
    """A new array whose slot ``j`` on ``axis`` is the sum of the slots ``i`` with ``destination[i] == j``."""
    moved = np.moveaxis(array, axis, 0)
    out = np.zeros((size,) + moved.shape[1:], dtype=array.dtype)
    np.add.at(out, destination, moved)
    return np.moveaxis(out, 0, axis)


def _check_mapping(levels: tuple[str, ...], mapping: Mapping[str, str], column_index: int) -> None:
    """Every spelling and target of ``mapping`` is a group of the axis, and no target is merged away itself."""
    unknown = [s for pair in mapping.items() for s in pair if s not in levels]
    if unknown:
        raise UsageError(f"merge_levels: {', '.join(quoted(s) for s in dict.fromkeys(unknown))} is not a group of "
                         f"protected column {column_index}, whose groups are "
                         f"{', '.join(quoted(s) for s in levels)}; map existing spellings only",
                         reason=ReasonCode.OPTION_INVALID)
    chained = [t for t in mapping.values() if mapping.get(t, t) != t]
    if chained:
        raise UsageError(f"merge_levels: {', '.join(quoted(t) for t in dict.fromkeys(chained))} is both merged into "
                         f"another group and a group others are merged into; map every spelling straight to the "
                         f"group it ends in", reason=ReasonCode.OPTION_INVALID)


def merge_levels(raw: RawCounts, column_index: int, mapping: Mapping[str, str]) -> RawCounts:
    """New counts in which the groups of protected column ``column_index`` are merged as ``mapping`` says.

    Parameters
    ----------
    raw : RawCounts
        Counts of one pass; never modified.
    column_index : int
        Position of the protected column among ``raw.levels``.
    mapping : mapping of str to str
        ``{spelling: merged_into}``; both must be groups of the column, and a
        group merged into is kept (it may map to itself). Groups not named stay.

    Returns
    -------
    RawCounts
        The column's groups without the merged-away spellings (the others in
        their order); every array with the protected axis (``rows``,
        ``weights``, ``weights_sq``, ``score_sum``, ``score_sq``, and each
        amount's ``rows``, ``weights``, ``weights_sq``, ``sum_wx``,
        ``sum_wx2``) summed along it; the missing slot and every other axis
        unchanged. Sums of counts, so every rate of a merged group is the
        pooled rate of its spellings.

    Raises
    ------
    UsageError
        When ``column_index`` is not a protected axis, a spelling or target is
        not a group of it, or a target is itself merged into another group.
    """
    if not 0 <= column_index < len(raw.levels):
        raise UsageError(f"merge_levels: column_index {column_index} is not a protected column of the counts "
                         f"(they have {len(raw.levels)})", reason=ReasonCode.OPTION_INVALID)
    levels = raw.levels[column_index]
    _check_mapping(levels, mapping, column_index)
    kept = tuple(label for label in levels if mapping.get(label, label) == label)
    slot = {label: i for i, label in enumerate(kept)}
    destination = np.array([slot[mapping.get(label, label)] for label in levels] + [len(kept)], dtype=np.intp)

    def summed(array: np.ndarray) -> np.ndarray:
        return _sum_slots(array, column_index, destination, len(kept) + 1)

    amounts = tuple(replace(a, rows=summed(a.rows), weights=summed(a.weights), weights_sq=summed(a.weights_sq),
                            sum_wx=summed(a.sum_wx), sum_wx2=summed(a.sum_wx2)) for a in raw.amounts)
    return replace(raw, levels=raw.levels[:column_index] + (kept,) + raw.levels[column_index + 1:],
                   rows=summed(raw.rows), weights=summed(raw.weights), weights_sq=summed(raw.weights_sq),
                   score_sum=None if raw.score_sum is None else summed(raw.score_sum),
                   score_sq=None if raw.score_sq is None else summed(raw.score_sq), amounts=amounts)


# -- the engine's hook -----------------------------------------------------------

@dataclass(frozen=True)
class Reading:
    """The counts an audit derives from, with what was found about near-duplicate spellings.

    ``raw`` is the engine's counts, or new counts with the protected columns'
    near-duplicates merged (``data.merge_near_duplicates``); ``notes`` are the
    result's notes about them; ``merged`` is ``{column: {spelling: merged_into}}``
    for every spelling merged away (empty when none).
    """

    raw: RawCounts
    notes: tuple[str, ...] = ()
    merged: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


_LOOK_ALIKE = "that look alike but are spelled differently (Unicode form, spaces around the text or letter case)"


def _warning(column: str, found: Sequence[NearDuplicates], unit: str) -> str:
    """The warning for a protected column's near-duplicates, kept apart."""
    sets = "; ".join(d.listed(unit) for d in found)
    targets = ", ".join(describe_spelling(d.target) for d in found)
    return (f"warning: protected column '{column}' has groups {_LOOK_ALIKE}: {sets}. They are audited as separate "
            f"groups. If they are one group, correct the data, or set data.merge_near_duplicates: true to merge "
            f"them into {targets} (the most frequent spelling, or the reference the spec names)")


def _merge_note(column: str, found: Sequence[NearDuplicates], unit: str) -> str:
    parts = []
    for d in found:
        others = [_with_count(s, c, unit) for s, c in zip(d.spellings, d.counts) if s != d.target]
        parts.append(f"{', '.join(others)} into {describe_spelling(d.target)} (now {_counted(sum(d.counts), unit)})")
    return (f"protected column '{column}': near-duplicate spellings merged, as data.merge_near_duplicates asks: "
            + "; ".join(parts))


def _label_warning(spec: AuditSpec, column: str, role: str, found: Sequence[NearDuplicates], unit: str) -> str:
    """The warning for a label column's near-duplicates (never merged), saying how each is read."""
    name, positive_field = _LABEL_FIELDS[role]
    if role == "decision" and spec.tiers is not None:
        fix = "name every spelling in decision.tiers.values"
        read = ""
    else:
        fix = f"list every spelling that is positive in {positive_field}"
        read = _how_read(label_of_role(spec, role), found)
    return (f"warning: {name} column '{column}' has values {_LOOK_ALIKE}: "
            f"{'; '.join(d.listed(unit) for d in found)}. They are read as different values{read}. If they mean "
            f"the same, correct the data or {fix} (data.merge_near_duplicates merges protected columns only)")


def _and(items: Sequence[str]) -> str:
    """``'a'``, ``'a' and 'b'``, ``'a', 'b' and 'c'``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _how_read(label: LabelSpec | None, found: Sequence[NearDuplicates]) -> str:
    """``" ('Yes' and 'yes ' as negative, 'yes' as positive)"`` for the sets read both ways, else empty."""
    if label is None or label.positive is None:
        return ""
    positive = {format_label(v) for v in label.positive}
    mixed = []
    for d in found:
        sides = [s in positive for s in d.spellings]
        if any(sides) and not all(sides):
            negative = _and([quoted(s) for s, p in zip(d.spellings, sides) if not p])
            positive_ones = _and([quoted(s) for s, p in zip(d.spellings, sides) if p])
            mixed.append(f"{negative} as negative, {positive_ones} as positive")
    return f" ({'; '.join(mixed)})" if mixed else ""


def _by_column(found: Sequence[NearDuplicates]) -> dict[tuple[str, str, int], list[NearDuplicates]]:
    grouped: dict[tuple[str, str, int], list[NearDuplicates]] = {}
    for d in found:
        grouped.setdefault((d.column, d.role, d.axis), []).append(d)
    return grouped


def read_near_duplicates(spec: AuditSpec, raw: RawCounts, roles: Sequence[str]) -> Reading:
    """Name every near-duplicate spelling and, when the spec asks, merge the protected columns' ones.

    Parameters
    ----------
    spec : AuditSpec
        ``data.merge_near_duplicates`` says whether to merge; a named
        reference of a protected column (or intersection) is the spelling its
        set is merged into; ``data.count_column`` makes counts people, not rows.
    raw : RawCounts
        The counts of one pass; never modified.
    roles : sequence of str
        The label axes' roles (:attr:`audit.counts.CountPlan.roles`).

    Returns
    -------
    Reading
        The counts to derive from, one note per column with near-duplicates
        (a ``warning:`` when kept apart, a record of the merge when merged),
        and the merges made.
    """
    unit = "people" if spec.data.count_column else "rows"
    notes: list[str] = []
    merged: dict[str, dict[str, str]] = {}
    for (column, role, axis), found in _by_column(near_duplicates(spec, raw, roles)).items():
        if role != "protected":
            notes.append(_label_warning(spec, column, role, found, unit))
        elif not spec.data.merge_near_duplicates:
            notes.append(_warning(column, found, unit))
        else:
            mapping = {s: d.target for d in found for s in d.spellings if s != d.target}
            raw = merge_levels(raw, axis, mapping)
            merged[column] = mapping
            notes.append(_merge_note(column, found, unit))
    return Reading(raw=raw, notes=tuple(notes), merged=merged)
