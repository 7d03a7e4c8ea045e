"""Small-cell suppression for published outputs: counts below ``k`` never leave the building.

:func:`suppress` turns an :class:`~audit.result.AuditResult` into :class:`PublicTables`, public copies of
every table; the result itself is never changed and the internal ``result.json`` keeps everything. ``k``
comes from ``spec.report.small_cell_k`` (default 10) unless given. :func:`audit.release.build_release` runs it
once per release, then the disclosure audit (:mod:`audit.disclosure`); the writers format the release.

Rules, in the order they are applied
------------------------------------

A *count* is any number of people (weighted when the audit is weighted): ``n``, ``numerator`` and
``denominator`` of the group tables (``numerator`` of a ``mean:`` metric is a sum of amounts, not a count,
and is withheld with its row), ``value`` of a ``count`` row, ``reference_n``, ``acted_on``,
``population``, ``positives``, ``negatives``, the ``n`` of calibration bins, tests and proxies, the label
row counts and ``rows_read``/``rows_used``. ``groups`` in ``spread``, ``levels`` in ``proxies`` and ``dof``
count categories, not people, and are published.

1. **Primary.** A count below ``k`` is withheld and shown as the string ``"< k"`` (e.g. ``"< 10"``). Zero
   is below ``k``, so a tier nobody is in is withheld too.
2. **Complement.** In a rate row, ``denominator - numerator`` is also a count of people (those *not*
   flagged, not in the tier, ...). When it is below ``k`` the rate would say "all but a few", so the
   numerator is withheld (shown as ``"withheld"``, as it is not itself below ``k``).
3. **Within a group (subtraction across metrics).** The binary metrics are sums of the nine
   outcome × decision states (:data:`audit.metrics.METRICS`), and tier rates are sums of tiers, so the
   counts of one view × attribute × group are vectors over those states (a state known to be empty in the
   whole data, e.g. missing outcomes when there are none, is dropped). A withheld count must not lie in the
   linear span of the published counts of its group (e.g. ``fpr`` denominator = group size − ``tpr``
   denominator). While it does, the smallest published count whose removal breaks the span is withheld too.
   When several counts could break the span, counts of ``selection_rate``, ``base_rate`` and the policy's
   metrics are withheld last, so a small false-negative count withholds the confusion-matrix cells of its
   group rather than its selection rate.
4. **Across groups (secondary suppression).** Within each view × attribute × metric, the counts of the
   groups (``unknown`` included) add up to the population total. That total counts as published when it
   is: group sizes (the ``share`` denominator), each tier's count and the flagged and positive totals
   (label counts, thresholds table); when some attribute publishes (or lets a reader compute) the count
   of every one of its groups; or when it is a linear combination of such totals. The cells of an
   intersection ``a × b`` add up to the marginal group of ``a`` (and of ``b``), whether that marginal is
   published or not. For every such sum the rule is: *no withheld count can be computed exactly.* A
   reader's bounds are ``[0, k-1]`` for a ``"< k"`` cell and ``[k, ∞)`` for a ``"withheld"`` one; a
   withheld count is pinned when the sum and those bounds leave it one value (one group below ``k`` and
   a published total always pins it; two zeros pin each other). While one is pinned, the smallest
   published count of that sum (the *next-smallest*) is withheld as well, then rule 3 runs again for its
   group. Rules 3 and 4 repeat until nothing changes.
5. **Derived numbers.** A row with any withheld count has its rate, interval, ratio, difference, test
   statistic, p-values and estimates withheld (``None``/NaN), ``status`` ``"withheld"`` and ``reason``
   ``"withheld: fewer than k people"`` (``"... (secondary suppression)"`` when only rules 3 or 4 apply).
   ``balanced_accuracy`` and ``f1`` are withheld with any withheld count of their group; AUC, Brier, ECE
   and calibration-in-the-large with a withheld positives or negatives count of the AUC table. A comparison
   is withheld when its group or its reference is; a ``spread`` row when its lowest or highest group is.
6. **Verdicts stay.** An oversight body needs every rule × group verdict, so the verdict *word* is
   published; its estimate, both intervals (ordinary and family-level), both p-values (raw and
   family-adjusted), what would decide it (detectable ratio and difference, people needed: functions of the
   group's size) and the counts it rests on follow rules 1-5, and its reason (which quotes numbers) becomes
   ``"withheld: fewer than k people; the verdict stands"``. The same holds for the ``effect`` word of
   ``override_effects``.
7. **Model audits.** The flip test's ``rows``, ``flips``, ``to_positive`` and ``to_negative`` are counts
   (rules 1, 2 and 5, with ``rows - flips`` as the complement; the two directions add up to ``flips``, so a
   small one withholds both); the sensitive rows (``flip_rows``) are row numbers, a key into the data, and
   are not published at all.
8. **Free text.** Notes and threshold notes quote counts; an integer below ``k`` in them (not a decimal,
   not a percentage, not inside a quoted value label such as ``'1'``) becomes ``"< k"``.
9. **k = 1** withholds zero counts only: ``"< 1"`` already says 0, so rules 2-4 have nothing to protect and
   are skipped.

10. **Non-linear statistics.** An impact ratio (and its four-fifths flag) is withheld when the highest group of
   its block is withheld (value / ratio would give that group's value back); the calibration table lists every
   bin of every group, an empty one as ``"< k"`` (a missing row would publish a 0). A value nobody in the whole
   data has (no missing decision, a tier nobody is in) is published as 0 in the label counts: it describes no
   group.

Rules 3 and 4 are checked one sum or one group at a time. :mod:`audit.disclosure` then checks the result as one
linear system over every table, view and cut-off, and withholds more (``forced``) until no withheld count below
``k`` can be worked out; :func:`audit.release.build_release` runs both.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from audit.errors import ReasonCode, UsageError
from audit.metrics import METRICS, MISSING, NEG, POS, Kind, state
from audit.result import AuditResult, _mapping_dict
from audit.spec import INTERSECTION_JOIN

__all__ = ["PublicTables", "suppress", "neutralise_cell", "mask_text", "WITHHELD"]

WITHHELD = "withheld"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SCORE_METRICS = ("auc", "brier", "ece", "calibration_in_the_large")
_DERIVED_BINARY = ("balanced_accuracy", "f1")
_COMPARISON_NUMBERS = ("value", "reference_value", "ratio", "ratio_ci_low", "ratio_ci_high", "difference",
                       "difference_ci_low", "difference_ci_high", "statistic", "p_value", "p_adjusted",
                       "impact_ratio", "four_fifths_flag", "disadvantaged")
_VERDICT_NUMBERS = ("estimate", "ci_low", "ci_high", "family_ci_low", "family_ci_high", "p_value", "p_family",
                    "p_adjusted", "disadvantaged", "detectable_ratio", "detectable_difference", "needed_n",
                    "needed_reference_n", "needed_known_outcomes")
"""A verdict's numbers withheld with its counts (rule 6). What would decide it (the detectable disparity, the
people needed) is a function of the group's and the reference's sizes, so a reader could work a withheld count
back out of it. ``p_adjusted`` is in verdicts of results written before schema 2.0."""
_GENERIC_COUNTS = ("n", "numerator", "denominator", "reference_n", "acted_on", "population", "positives",
                   "negatives", "count", "rows", "people")


@dataclass(frozen=True)
class PublicTables:
    """Public copies of an audit's tables with small cells withheld (see the module docstring).

    Count columns hold numbers, ``"< k"`` or ``"withheld"``; withheld rates and intervals are NaN/None.
    ``withheld`` counts withheld count cells by rule: ``primary`` (below ``k``, or rule 2) and
    ``secondary`` (rules 3 and 4), over the group-like tables.
    """

    k: int
    groups: pd.DataFrame
    comparisons: pd.DataFrame
    verdicts: pd.DataFrame
    spread: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    labels: dict[str, Any]
    notes: tuple[str, ...]
    rows_read: int | str
    rows_used: int | str
    withheld: dict[str, int] = field(default_factory=dict)

    def all_tables(self) -> dict[str, pd.DataFrame]:
        """Every public table by name: the four main ones first, then the extra ones sorted by name."""
        main = {"groups": self.groups, "comparisons": self.comparisons, "verdicts": self.verdicts,
                "spread": self.spread}
        return main | dict(sorted(self.tables.items()))


# ----------------------------------------------------------------------------------------------------------
# small helpers


def _check_k(k: Any, result: AuditResult) -> int:
    if k is None:
        k = result.spec.report.small_cell_k
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise UsageError(f"parameter k of suppress must be an integer ≥ 1 (the smallest publishable count); "
                         f"got {k!r}", reason=ReasonCode.OPTION_INVALID)
    return int(k)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _num(value: Any) -> float | None:
    """A count as a float, or None when missing or already a label."""
    if type(value) is float:  # the common case, first
        return None if math.isnan(value) else value
    if _missing(value) or isinstance(value, (str, bool)):
        return None
    return float(value)


def _label(value: float, k: int) -> str:
    return f"< {k}" if value < k else WITHHELD


def _public_count(value: Any) -> Any:
    """A published count as an int when whole (so ``2013.0`` is written ``2013``)."""
    if type(value) is float and not math.isnan(value):  # the common cases, first
        return int(value) if value.is_integer() else value
    if type(value) is int and abs(value) <= 2 ** 53:  # what int(float(value)) gives
        return value
    v = _num(value)
    if v is None:
        return None if _missing(value) else value
    return int(v) if float(v).is_integer() else v


def _reason(k: int, primary: bool) -> str:
    return f"withheld: fewer than {k} people" + ("" if primary else " (secondary suppression)")


def _integral(values: Iterable[float]) -> bool:
    return all(float(v).is_integer() for v in values)


# A quoted value ('1', 'investigated') or an integer; a quote opens only after a non-word character, so
# the apostrophe of "model's" opens nothing.
_QUOTED_OR_INTEGER = re.compile(r"(?<!\w)'[^'\n]*'(?!\w)|(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(?![\w%]|[.,]\d)")


def mask_text(text: str, k: int) -> str:
    """``text`` with every integer below ``k`` (not a decimal, not a percentage) replaced by ``"< k"``.

    Text in single quotes is a value label quoted from the data or the spec
    (``'1' in column 'investigated'``), not a count, and is kept as it is.

    Examples
    --------
    >>> mask_text("3 rows have no value in 'col_2'; '1' is taken as positive", 10)
    "< 10 rows have no value in 'col_2'; '1' is taken as positive"
    """
    def swap(match: re.Match[str]) -> str:
        count = match.group(1)
        if count is None:
            return match.group(0)  # a quoted label
        return f"< {k}" if int(count.replace(",", "")) < k else count
    return _QUOTED_OR_INTEGER.sub(swap, text)


def neutralise_cell(value: Any) -> Any:
    """A CSV cell safe from formula injection: a string starting with ``= + - @``, tab or carriage return
    gets a leading ``'``; numbers (negative ones too) and other values are returned unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


# ----------------------------------------------------------------------------------------------------------
# the public copy of a table


class _Cells:
    """A table being made public, as one Python list per column: ``original`` holds the values as they came
    in (those of ``frame.astype(object)``), ``columns`` the public ones, read and written by row position (far
    faster than ``DataFrame.at``). :meth:`frame` builds the public DataFrame once, every column object, so a
    cell can hold a label or None."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._index, self._names = frame.index, frame.columns
        objects = frame.astype(object)
        self.original: dict[Hashable, list[Any]] = {c: objects[c].tolist() for c in frame.columns}
        self.columns: dict[Hashable, list[Any]] = {c: list(values) for c, values in self.original.items()}

    def rows(self, columns: Iterable[Hashable] | None = None) -> Iterator[dict[Hashable, Any]]:
        """The rows as they came in, as dicts (the values ``frame.to_dict(orient="records")`` gives, faster),
        with every column or only ``columns``."""
        names = list(self.original if columns is None else columns)
        for values in zip(*(self.original[c] for c in names)):
            yield dict(zip(names, values))

    def __getitem__(self, cell: tuple[int, Hashable]) -> Any:
        position, column = cell
        return self.columns[column][position]

    def __setitem__(self, cell: tuple[int, Hashable], value: Any) -> None:
        position, column = cell
        self.columns[column][position] = value

    def withhold(self, position: int, columns: Iterable[Hashable]) -> None:
        """Empty (None) the cells of ``columns`` that the table has in one row."""
        for column in columns:
            if column in self.columns:
                self.columns[column][position] = None

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({c: pd.Series(values, index=self._index, dtype=object)
                             for c, values in self.columns.items()}, index=self._index, columns=self._names)


# ----------------------------------------------------------------------------------------------------------
# the bounds reasoning of rule 4


def _pinned(known_sum: float, unknown: list[tuple[float, float]], total: tuple[float, float] | None,
            ) -> list[int]:
    """Indices of unknown members fixed to one value by ``Σ known + Σ unknown = total``.

    ``unknown`` holds each member's bounds ``(low, high)`` as a reader sees them (``[0, k-1]`` for ``"< k"``,
    ``[k, ∞)`` for ``"withheld"``); ``total`` is ``(low, high)``, equal ends when it is published. A member
    whose own bounds are one value (``"< 1"`` = 0) is pinned by its label, not by the sum, and is skipped.
    """
    if total is None:
        return []
    t_lo, t_hi = total
    lows = [lo for lo, _ in unknown]
    highs = [hi for _, hi in unknown]
    pinned = []
    for i, (lo, hi) in enumerate(unknown):
        if lo == hi:  # already pinned by its own label (k = 1): nothing to protect
            continue
        # the others' bounds summed without this member (subtracting it would give ∞ − ∞ for a withheld one)
        rest_lo = sum(low for j, low in enumerate(lows) if j != i)
        rest_hi = sum(high for j, high in enumerate(highs) if j != i)
        new_lo = max(lo, t_lo - known_sum - rest_hi)
        new_hi = min(hi, t_hi - known_sum - rest_lo)
        if new_hi - new_lo <= 1e-9:
            pinned.append(i)
    return pinned


def _total_pinned(known_sum: float, unknown: list[tuple[float, float]], total: tuple[float, float]) -> bool:
    """Whether an unknown total with bounds ``total`` is fixed by its members."""
    lo = max(total[0], known_sum + sum(b[0] for b in unknown))
    hi = min(total[1], known_sum + sum(b[1] for b in unknown))
    return total[0] != total[1] and hi - lo <= 1e-9


# ----------------------------------------------------------------------------------------------------------
# the cell model of a group-like table (groups, sweep_groups)

Qid = Hashable  # "S", "TOTAL", ("bin", frozenset), ("tier", frozenset), ("gen", metric, part)
GKey = tuple    # (scope, attribute, group)
Vector = tuple[float, ...]  # 0/1 weights of a count over the states (or tiers) of its family

_ALL_STATES = frozenset(range(9))
_POSITIVES = [state(POS, d) for d in (NEG, POS, MISSING)]
_NEGATIVES = [state(NEG, d) for d in (NEG, POS, MISSING)]
_ACTED = [state(y, POS) for y in (NEG, POS, MISSING)]


def live_states(result: AuditResult) -> list[int]:
    """The outcome × decision states that can be non-empty (an empty one known to all readers is dropped)."""
    counts = result.counts
    ys, ds = [NEG, POS, MISSING], [NEG, POS, MISSING]
    if counts is not None:
        if counts.outcome is None:
            ys = [MISSING]
        elif counts.outcome.missing_rows == 0 and not counts.selective_labels:
            ys = [NEG, POS]
        if counts.decision.missing_rows == 0:
            ds = [NEG, POS]
    return sorted(state(y, d) for y in ys for d in ds)


class _Group:
    """The counts of one view × attribute × group, as vectors over states (rule 3)."""

    def __init__(self, gkey: GKey) -> None:
        self.gkey = gkey
        self.parts = str(gkey[2]).split(INTERSECTION_JOIN)  # of an intersection's group: one per attribute
        self.values: dict[Qid, float] = {}
        self.cells: set[Qid] = set()         # quantities printed in some row
        self.hidden: set[Qid] = set()        # withheld cells
        self.primary: set[Qid] = set()       # below k (cells and implicit complements)
        self.keep: set[Qid] = set()          # counts of the policy's metrics: withheld last
        self.vectors: dict[Qid, tuple[Hashable, Vector]] = {}  # qid -> (family, vector); S is in all
        self._families: dict[Hashable, int] = {}  # family -> length of its vectors
        self._known: dict[Qid, bool] = {}

    def add(self, qid: Qid, value: float, family: Hashable | None, vector: Vector | None, *, cell: bool) -> None:
        self.values.setdefault(qid, value)
        if cell:
            self.cells.add(qid)
        if family is not None and qid != "S":
            self.vectors[qid] = (family, vector)  # type: ignore[assignment]
            self._families[family] = len(vector)  # type: ignore[arg-type]

    def vector(self, qid: Qid, family: Hashable) -> Vector | None:
        if qid == "S":
            return (1.0,) * self._families[family]
        fam, vec = self.vectors.get(qid, (None, None))
        return vec if fam == family else None

    def published(self, family: Hashable) -> dict[Qid, Vector]:
        """The published counts of ``family`` with their vectors."""
        return {q: v for q in self.cells - self.hidden if (v := self.vector(q, family)) is not None}

    def known(self, qid: Qid) -> bool:
        """Whether a reader can compute ``qid`` from the published counts of this group."""
        if qid not in self._known:
            self._known[qid] = (qid in self.cells and qid not in self.hidden) or any(
                _in_span(self.published(fam).values(), self.vector(qid, fam)) for fam in self._families_of(qid))
        return self._known[qid]

    def hide(self, qid: Qid) -> None:
        self.hidden.add(qid)
        self._known.clear()

    def _families_of(self, qid: Qid) -> list[Hashable]:
        if qid == "S":
            return list(self._families)
        return [self.vectors[qid][0]] if qid in self.vectors else []

    def make_unknown(self, qid: Qid) -> bool:
        """Withhold ``qid`` and, while it is still computable, the smallest published count that makes it so."""
        changed = False
        if qid in self.cells and qid not in self.hidden:
            self.hide(qid)
            changed = True
        for fam in self._families_of(qid):
            target = self.vector(qid, fam)
            while True:
                published = self.published(fam)
                if not _in_span(published.values(), target):
                    break
                order = sorted(published, key=lambda p: (p == "S", p in self.keep, self.values[p], repr(p)))
                breaker = next((p for p in order if not _in_span(
                    [v for o, v in published.items() if o != p], target)), order[0])
                self.hide(breaker)
                changed = True
        return changed


def _in_span(vectors: Iterable[Vector | None], target: Vector | None) -> bool:
    """Whether ``target`` is a linear combination of ``vectors`` (None entries are ignored)."""
    basis = frozenset(vectors) - {None}
    if target is None or not basis:
        return False
    return _spans(basis, target)  # type: ignore[arg-type]


@functools.lru_cache(maxsize=4096)
def _spans(basis: frozenset[Vector], target: Vector) -> bool:
    """:func:`_in_span` on hashable vectors; cached, as the groups of a table repeat the same few patterns."""
    matrix = np.array(sorted(basis))
    return int(np.linalg.matrix_rank(np.vstack([matrix, target]))) == int(np.linalg.matrix_rank(matrix))


@dataclass(frozen=True)
class _RateCounts:
    """The counts a rate row of one metric shows, as ids and vectors over its family's states, with the
    complement ``denominator - numerator`` (rule 2) when that is a count of people too."""

    family: Hashable
    numerator: Qid
    denominator: Qid
    numerator_vector: Vector
    denominator_vector: Vector
    complement: Qid | None
    complement_vector: Vector | None

    @functools.cached_property
    def columns(self) -> dict[str, Qid]:
        """The rows' :attr:`_RowCells.columns`: one dict shared by all of them (read only)."""
        return {"numerator": self.numerator, "denominator": self.denominator, "n": self.denominator}


@dataclass(slots=True)
class _RowCells:
    """Which quantity each count column of one row shows, and its complement (rule 2)."""

    group: _Group
    metric: str
    columns: dict[str, Qid]
    complement: Qid | None = None
    family: Hashable | None = None


Count = tuple[_Group, Qid]  # one count of one group


@dataclass(frozen=True, eq=False, slots=True)
class _Sum:
    """An additive set of rule 4: ``counts`` (whose values are ``values``) add up to ``total`` (None: the
    population total); ``groups`` are every group involved. When ``population`` is set, the population total
    is that (scope, qid), and the sum applies only while a reader knows it; otherwise it always applies."""

    counts: list[Count]
    values: list[float]
    total: Count | None
    groups: tuple[_Group, ...]
    population: tuple[tuple, Qid] | None
    integral: bool


class _GroupModel:
    """Rules 1-4 on a groups-like table (its columns as lists); ``scope`` columns identify a view (with the
    threshold in sweeps)."""

    def __init__(self, table: Mapping[Hashable, list[Any]], scope: list[str], k: int, live: list[int],
                 tiers: list[str], keep: set[str]) -> None:
        self.scope, self.k = scope, k
        self.live = live
        self.tiers = tiers
        self.keep = keep
        self.groups: dict[GKey, _Group] = {}
        self.rows: list[_RowCells] = []
        self._bins: dict[frozenset[int], tuple[Qid, Vector]] = {}
        self._rates: dict[tuple[str, bool], _RateCounts | None] = {}
        self._build(table)
        self._sets = self._additive_sets()
        self._sets_by_family = self._count_sets()
        self._sum_objects: dict[tuple, _Sum] = {}
        self._shapes = self._sum_shapes()
        self._readers, self._stale = self._watch()

    def _watch(self) -> tuple[dict[_Group, list[Hashable]], set[Hashable]]:
        """The checks of rules 3 and 4 (a group, a sum) that read each group, and those that must run: all of
        them at first. A check depends only on the state of its groups; one that changed nothing is skipped
        until one of them changes."""
        readers: dict[_Group, list[Hashable]] = {group: [group] for group in self.groups.values()}
        for shape in dict.fromkeys(self._shapes):
            for group in shape.groups:
                readers[group].append(shape)
        return readers, {*self.groups.values(), *self._shapes}

    # -- building
    def _bin(self, states: Iterable[int]) -> tuple[Qid, Vector]:
        """The id and vector of the count of ``states``."""
        key = frozenset(states)
        if key not in self._bins:
            projected = key & frozenset(self.live)
            if projected == frozenset(self.live):
                self._bins[key] = "S", (1.0,) * len(self.live)
            else:
                self._bins[key] = ("bin", projected), tuple(1.0 if s in projected else 0.0 for s in self.live)
        return self._bins[key]

    def _tier(self, names: Iterable[str]) -> tuple[Qid, Vector]:
        chosen = frozenset(names)
        if chosen >= frozenset(self.tiers):
            return "S", (1.0,) * len(self.tiers)
        return ("tier", chosen), tuple(1.0 if t in chosen else 0.0 for t in self.tiers)

    def _build(self, table: Mapping[Hashable, list[Any]]) -> None:
        distinct: dict[GKey, GKey] = {}  # one tuple per group, not per row: fewer objects for the garbage collector
        gkeys = [distinct.setdefault(g, g) for g in zip(zip(*(table[c] for c in self.scope)), table["attribute"],
                                                          table["group"])]
        metrics = table["metric"]
        ns, nums, dens = ([_num(v) for v in table[c]] for c in ("n", "numerator", "denominator"))
        sizes: dict[GKey, float] = {}
        for g, metric, n in zip(gkeys, metrics, ns):
            if metric == "count" and n is not None:
                sizes[g] = n
        for g, metric, n in zip(gkeys, metrics, ns):
            if g not in sizes and metric not in ("share",) and n is not None:
                sizes[g] = max(sizes.get(g, 0.0), n)
        for g, metric, n, num, den in zip(gkeys, metrics, ns, nums, dens):
            if g not in self.groups:
                self.groups[g] = _Group(g)
            group = self.groups[g]
            if g in sizes:
                group.add("S", sizes[g], None, None, cell=False)
            row = self._row(str(metric), n, num, den, group, sizes.get(g))
            if row.metric in self.keep:
                group.keep.update(q for q in row.columns.values() if q != "S")
            self.rows.append(row)

    def _row(self, metric: str, n: float | None, num: float | None, den: float | None, group: _Group,
             size: float | None) -> _RowCells:
        row = _RowCells(group, metric, {})
        if metric == "count":
            row.columns = {"n": "S", "numerator": "S", "value": "S"}
            group.cells.add("S")
            return row
        if metric == "share":
            row.columns = {"numerator": "S", "n": "TOTAL", "denominator": "TOTAL"}
            group.cells.add("S")
            group.add("TOTAL", n if n is not None else 0.0, None, None, cell=True)
            return row
        rate = self._rate_counts(metric, size is not None and den == size)
        if rate is not None and num is not None and den is not None:
            group.add(rate.numerator, num, rate.family, rate.numerator_vector, cell=True)
            group.add(rate.denominator, den, rate.family, rate.denominator_vector, cell=True)
            if rate.denominator == "S":
                group.cells.add("S")
            row.columns = rate.columns
            row.family = rate.family
            if rate.complement is not None:
                group.add(rate.complement, den - num, rate.family, rate.complement_vector, cell=False)
                row.complement = rate.complement
            return row
        # mean, median, quantiles, derived and score metrics: n is the group's size in this view
        if n is not None:
            if size is not None and n == size:
                row.columns = {"n": "S"}
                group.cells.add("S")
                if metric.startswith("mean:") and den is not None:
                    row.columns["denominator"] = "S"
            else:
                qid = ("gen", metric, "n")
                group.add(qid, n, None, None, cell=True)
                row.columns = {"n": qid}
        return row

    def _rate_counts(self, metric: str, over_group: bool) -> _RateCounts | None:
        """What a row of ``metric`` counts (None: not a rate of counts); ``over_group`` when its denominator
        is the group's size. The same for every row of the metric, so worked out once."""
        key = (metric, over_group)
        if key not in self._rates:
            shape = self._proportion(metric, over_group)
            if shape is None:
                self._rates[key] = None
            else:
                family, nq, dq, nv, dv = shape
                cvec = tuple(d - n for d, n in zip((1.0,) * len(nv) if dq == "S" else dv, nv))
                complement = self._complement_qid(family, metric, cvec) if any(cvec) and min(cvec) >= 0 else None
                self._rates[key] = _RateCounts(family, nq, dq, nv, dv, complement,
                                               cvec if complement is not None else None)
        return self._rates[key]

    def _proportion(self, metric: str, over_group: bool) -> tuple[Hashable, Qid, Qid, Vector, Vector] | None:
        definition = METRICS.get(metric)
        if definition is not None and definition.kind is Kind.PROPORTION:
            nq, nv = self._bin(definition.numerator)
            dq, dv = self._bin(definition.denominator)
            return "bin", nq, dq, nv, dv
        family_name, _, tier = metric.partition(":")
        if family_name in ("tier_rate", "tier_at_least") and tier in self.tiers:
            names = [tier] if family_name == "tier_rate" else self.tiers[self.tiers.index(tier):]
            nq, nv = self._tier(names)
            return "tier", nq, "S", nv, (1.0,) * len(self.tiers)
        if metric.startswith(("mean:", "median:")) or metric in _SCORE_METRICS or metric in _DERIVED_BINARY \
                or metric.split(":", 1)[0][:1] == "q" and ":" in metric:
            return None
        family = ("gen", metric)
        nv = (1.0, 0.0, 0.0)
        if over_group:
            return family, ("gen", metric, "N"), "S", nv, (1.0, 1.0, 1.0)
        return family, ("gen", metric, "N"), ("gen", metric, "D"), nv, (1.0, 1.0, 0.0)

    def _complement_qid(self, family: Hashable, metric: str, cvec: Vector) -> Qid:
        """The id of ``denominator - numerator``: the same id as a printed count of the same states."""
        if family == "bin":
            return ("bin", frozenset(s for s, x in zip(self.live, cvec) if x))
        if family == "tier":
            return ("tier", frozenset(t for t, x in zip(self.tiers, cvec) if x))
        return ("gen", metric, "C")

    def force(self, cells: Iterable[tuple[int, str]]) -> None:
        """Withhold the counts shown in ``cells`` (row position within this model, column), whatever their size:
        the disclosure audit's choice (:mod:`audit.disclosure`); rules 3 and 4 then run over them as over any."""
        for position, column in cells:
            row = self.rows[position]
            qid = row.columns.get(column)
            if qid is not None and qid in row.group.values:
                row.group.cells.add(qid)
                row.group.hide(qid)

    # -- rules
    def run(self) -> None:
        k = self.k
        for group in self.groups.values():
            for qid, value in group.values.items():
                if value < k and qid != "TOTAL":
                    group.primary.add(qid)
                    if qid in group.cells:
                        group.hidden.add(qid)
            if group.values.get("TOTAL", k) < k:
                group.primary.add("TOTAL")
                group.hidden.add("TOTAL")
        if k == 1:
            return
        for _ in range(200):  # rules 3 and 4 until nothing changes
            changed = False
            for group in self.groups.values():
                changed |= self._settle(group, self._protect_group)
            for shape in self._sums():
                changed |= self._settle(shape, self._protect_sum)
            if not changed:
                return

    def _settle(self, check: Any, protect: Callable[[Any], _Group | None]) -> bool:
        """``protect(check)`` (which returns the group it changed, if any), unless the groups of ``check`` are
        unchanged since it last changed nothing; whether something changed."""
        if check not in self._stale:
            return False
        changed = protect(check)
        if changed is None:
            self._stale.discard(check)
            return False
        self._stale.update(self._readers[changed])
        return True

    @staticmethod
    def _protect_group(group: _Group) -> _Group | None:
        """Rule 3 on one group: withhold what makes one of its withheld counts computable."""
        changed = False
        for qid in sorted(group.primary, key=repr):
            if qid != "TOTAL" and group.known(qid):
                changed |= group.make_unknown(qid)
        return group if changed else None

    def _total_known(self, scope: tuple, qid: Qid, complete: dict[tuple, set[Qid]]) -> bool:
        """Whether the population total of ``qid`` in a view is published or computable: group sizes (the
        ``share`` denominator), each tier's count and the flagged and positive totals (the label counts and
        the thresholds table) are; so is any count whose groups are all known in some attribute, and any
        linear combination of those. ``complete`` caches those counts by (scope, family) for one state."""
        if qid in ("S", "TOTAL"):
            return True
        family = qid[0] if isinstance(qid, tuple) else None
        if family == "tier":
            return True
        key = (scope, family)
        if key not in complete:
            complete[key] = {counts[0][1] for counts in self._sets_by_family.get(key, [])
                             if all(group.known(q) for group, q in counts)}
        if qid in complete[key]:
            return True
        if family != "bin":
            return False
        known = [(1.0,) * len(self.live)] + [self._bin(states)[1] for states in (_ACTED, _POSITIVES)]
        known += [self._bin(member[1])[1] for member in complete[key]]  # type: ignore[index]
        return _in_span(known, self._bin(qid[1])[1])  # type: ignore[index]

    def _additive_sets(self) -> dict[tuple, list[Count]]:
        """The counts of every (scope, attribute, metric, role) across groups; fixed by the table's shape."""
        by_set: dict[tuple, dict[Count, None]] = {}  # an ordered set of counts per key
        distinct: dict[Count, Count] = {}  # one tuple per count, not per row: fewer objects for the collector
        for row in self.rows:
            (scope, attribute, _) = row.group.gkey
            roles = {"S": "S"} if "n" in row.columns and row.columns.get("n") == "S" else {}
            for role, column in (("N", "numerator"), ("D", "denominator")):
                if column in row.columns and row.columns[column] not in ("S", "TOTAL"):
                    roles[role] = row.columns[column]
            if row.complement is not None:
                roles["C"] = row.complement
            for role, qid in roles.items():
                key = (scope, attribute, "" if role == "S" else row.metric, role)
                count = (row.group, qid)
                by_set.setdefault(key, {})[distinct.setdefault(count, count)] = None
        return {key: list(counts) for key, counts in by_set.items()}

    def _count_sets(self) -> dict[tuple[tuple, Hashable], list[list[Count]]]:
        """The distinct count lists of the additive sets (several metrics share a count) by scope and the
        family of their first count (S and TOTAL left out), for :meth:`_total_known`."""
        by_family: dict[tuple[tuple, Hashable], dict[tuple[Count, ...], list[Count]]] = {}
        for (scope, _, _, _), counts in self._sets.items():
            if counts and isinstance(counts[0][1], tuple):
                by_family.setdefault((scope, counts[0][1][0]), {}).setdefault(tuple(counts), counts)
        return {key: list(sets.values()) for key, sets in by_family.items()}

    def _sum_shapes(self) -> list[_Sum]:
        """Every additive set of rule 4, whether or not a reader knows its total now."""
        shapes: list[_Sum] = []
        for (scope, attribute, metric, role), counts in self._sets.items():
            qids = {q for _, q in counts}
            if len(qids) == 1:
                shapes.append(self._sum(counts, None, (scope, next(iter(qids)))))
            else:  # the same column means different states in different groups: be safe
                shapes.append(self._sum(counts, None))
            parts = str(attribute).split(INTERSECTION_JOIN)
            if len(parts) < 2:
                continue
            for i, part in enumerate(parts):
                marginal = self._sets.get((scope, part, metric, role), [])
                if not marginal:
                    continue
                by_part: dict[Any, list[Count]] = {}
                for count in counts:
                    by_part.setdefault(count[0].parts[i], []).append(count)
                for total in marginal:
                    if total[0].gkey[2] in by_part:
                        shapes.append(self._sum(by_part[total[0].gkey[2]], total))
        return shapes

    def _sum(self, counts: list[Count], total: Count | None, population: tuple[tuple, Qid] | None = None) -> _Sum:
        """The sum of these counts; one object for equal sums (several metrics share a count), so that a sum
        found safe is not checked again in the same state."""
        key = (tuple(counts), total, population)
        if key not in self._sum_objects:
            values = [group.values[q] for group, q in counts]
            groups = dict.fromkeys([group for group, _ in counts] + ([total[0]] if total is not None else []))
            self._sum_objects[key] = _Sum(counts, values, total, tuple(groups), population, _integral(values))
        return self._sum_objects[key]

    def _sums(self) -> list[_Sum]:
        """The additive sets of rule 4 that apply now (a population total must be known to a reader)."""
        totals: dict[tuple[tuple, Qid], bool] = {}
        complete: dict[tuple, set[Qid]] = {}
        sums = []
        for shape in self._shapes:
            key = shape.population
            if key is not None and key not in totals:
                totals[key] = self._total_known(*key, complete)
            if key is None or totals[key]:
                sums.append(shape)
        return sums

    def _bounds(self, group: _Group, qid: Qid, integral: bool) -> tuple[float, float]:
        value = group.values[qid]
        if value < self.k:
            return 0.0, float(self.k - 1) if integral else float(self.k)
        if qid in group.cells:  # printed as "withheld": a reader knows it is at least k
            return float(self.k), math.inf
        return 0.0, math.inf

    def _protect_sum(self, shape: _Sum) -> _Group | None:
        """Rule 4 on one sum: while a withheld count is pinned, withhold the next-smallest published one."""
        counts, values, total, integral = shape.counts, shape.values, shape.total, shape.integral
        known = [group.known(q) for group, q in counts]
        unknown = [count for count, kn in zip(counts, known) if not kn]
        total_known = total is None or total[0].known(total[1])
        if not unknown and total_known:
            return None
        known_sum = sum(v for v, kn in zip(values, known) if kn)
        bounds = [self._bounds(group, q, integral) for group, q in unknown]
        exact = sum(values) if total is None else total[0].values[total[1]]
        if total_known:
            t_bounds: tuple[float, float] = (exact, exact)
            total_pinned = False
        else:
            t_bounds = self._bounds(total[0], total[1], integral)  # type: ignore[index]
            total_pinned = _total_pinned(known_sum, bounds, t_bounds)
        pinned = _pinned(known_sum, bounds, t_bounds)
        if not pinned and not total_pinned:
            return None
        candidates = [(v, repr((group.gkey, q)), group, q) for (group, q), v, kn in zip(counts, values, known) if kn]
        if candidates:  # the next-smallest published count
            _, _, group, q = min(candidates, key=lambda c: c[:2])
        elif total is not None and total_known:
            group, q = total
        else:
            return None
        return group if group.make_unknown(q) else None

    # -- results
    def row_state(self, row: _RowCells) -> tuple[bool, bool, dict[str, str]]:
        """(withheld, primary, labels for the count columns) of one row."""
        group = row.group
        labels = {c: _label(group.values[q], self.k) for c, q in row.columns.items() if q in group.hidden}
        qids = set(row.columns.values()) | ({row.complement} if row.complement is not None else set())
        withheld = bool(labels) or (row.complement is not None and row.complement in group.primary
                                    and self.k > 1)
        if row.metric in _DERIVED_BINARY and any(q in group.hidden for q in group.vectors
                                                 if group.vectors[q][0] == "bin"):
            withheld = True
        primary = any(q in group.primary for q in qids)
        if row.metric in _DERIVED_BINARY and not primary:
            primary = any(q in group.primary for q in group.vectors if group.vectors[q][0] == "bin")
        return withheld, primary, labels

    def hidden_states(self, gkey: GKey, states: Iterable[int]) -> bool | None:
        """Whether the count of ``states`` in a group is withheld (None when the group is not in the table)."""
        group = self.groups.get(gkey)
        if group is None:
            return None
        qid, _ = self._bin(states)
        if qid not in group.values:
            return None
        return qid in group.hidden


@dataclass
class _GroupIndex:
    """What the public groups table decided, for the tables that repeat its numbers."""

    rows: dict[tuple, tuple[bool, bool, Any]] = field(default_factory=dict)  # (scope.., a, g, metric) -> state
    models: dict[tuple, _GroupModel] = field(default_factory=dict)  # scope -> the model of that view, if kept
    counts: dict[str, int] = field(default_factory=lambda: {"primary": 0, "secondary": 0})

    def hidden_states(self, gkey: GKey, states: Iterable[int]) -> bool | None:
        """Whether the count of ``states`` in a group is withheld (None when the group is not in the table)."""
        model = self.models.get(gkey[0])
        return None if model is None else model.hidden_states(gkey, states)

    def in_every_view(self, attribute: Any, group: Any) -> list[_Group]:
        """The group of ``attribute`` in every view (and cut-off) of the table."""
        if _missing(group):
            return []
        found = (model.groups.get((scope, attribute, group)) for scope, model in self.models.items())
        return [g for g in found if g is not None]


_MODEL_COLUMNS = ["attribute", "group", "metric", "n", "numerator", "denominator"]


def _views(table: Mapping[Hashable, list[Any]], scope: list[str]) -> dict[tuple, list[int]]:
    """The row positions of each view (the values of the ``scope`` columns), in order of appearance."""
    views: dict[tuple, list[int]] = {}
    for i, view in enumerate(zip(*(table[c] for c in scope))):
        views.setdefault(view, []).append(i)
    return views


def _suppress_groups(frame: pd.DataFrame, scope: list[str], k: int, result: AuditResult,
                     score_withheld: set[tuple[str, str]], *, keep_models: bool = True,
                     forced: frozenset[tuple[int, str]] = frozenset()) -> tuple[pd.DataFrame, _GroupIndex]:
    """Rules 1-5 on a groups-like table. Each view (and cut-off) is a model of its own, as no sum spans two;
    ``keep_models`` keeps them in the index for the tables that look up their groups; ``forced`` cells (row
    position, column) are withheld whatever their size."""
    forced_at: dict[int, list[str]] = {}
    for position, column in forced:
        forced_at.setdefault(position, []).append(column)
    tiers = list(result.spec.tiers.values) if result.spec.tiers is not None else []
    keep = {"selection_rate", "base_rate", *(rule.metric for rule in result.spec.policy)}
    live = live_states(result)
    cells = _Cells(frame)
    index = _GroupIndex()
    for view, positions in _views(cells.original, scope).items():
        table = {c: [cells.original[c][i] for i in positions] for c in [*scope, *_MODEL_COLUMNS]}
        model = _GroupModel(table, scope, k, live, tiers, keep)
        model.force((j, column) for j, position in enumerate(positions) for column in forced_at.get(position, ()))
        model.run()
        _publish_rows(cells, positions, model, k, score_withheld, index)
        if keep_models:
            index.models[view] = model
    for column in ("n", "numerator", "denominator"):
        for shown in cells.columns.get(column, []):
            if isinstance(shown, str):
                index.counts["primary" if shown.startswith("<") else "secondary"] += 1
    return cells.frame(), index


def _publish_rows(cells: _Cells, positions: list[int], model: _GroupModel, k: int,
                  score_withheld: set[tuple[str, str]], index: _GroupIndex) -> None:
    """The public cells of the rows at ``positions`` (those of ``model``), and their state in ``index``."""
    count_columns = [c for c in ("n", "numerator", "denominator") if c in cells.columns]
    for i, row in zip(positions, model.rows):
        withheld, primary, labels = model.row_state(row)
        scope_values, attribute, group = row.group.gkey
        if row.metric in _SCORE_METRICS and (attribute, group) in score_withheld:
            withheld, primary = True, True
        for column in count_columns:
            cells[i, column] = labels[column] if column in labels else _public_count(cells[i, column])
        if row.metric == "count":
            cells[i, "value"] = labels.get("value", _public_count(cells[i, "value"]))
        if withheld:
            if row.metric != "count":
                cells[i, "value"] = None
            cells[i, "ci_low"], cells[i, "ci_high"] = np.nan, np.nan
            if row.metric.startswith("mean:"):  # a sum of amounts: with the mean it gives n back
                cells[i, "numerator"] = None
            cells[i, "status"] = "withheld"
            cells[i, "reason"] = _reason(k, primary)
        index.rows[(*scope_values, attribute, group, row.metric)] = (withheld, primary, cells[i, "n"])


# ----------------------------------------------------------------------------------------------------------
# tables that repeat the groups' numbers


def _count_cell(value: Any, k: int, linked: Any = None) -> tuple[Any, bool]:
    """The public form of a count and whether it is withheld; ``linked`` is the groups table's label, if any."""
    if isinstance(linked, str):
        return linked, True
    v = _num(value)
    if v is not None and v < k:
        return f"< {k}", True
    return _public_count(value), False


def _suppress_comparisons(frame: pd.DataFrame, scope: list[str], k: int, index: _GroupIndex) -> pd.DataFrame:
    cells = _Cells(frame)
    for i, r in enumerate(cells.rows([*scope, "attribute", "group", "reference", "metric", "n", "reference_n"])):
        key = tuple(r[c] for c in scope)
        mine = index.rows.get((*key, r["attribute"], r["group"], r["metric"]))
        ref = index.rows.get((*key, r["attribute"], r["reference"], r["metric"]))
        n, n_out = _count_cell(r["n"], k, mine[2] if mine else None)
        ref_n, ref_out = _count_cell(r["reference_n"], k, ref[2] if ref else None)
        cells[i, "n"], cells[i, "reference_n"] = n, ref_n
        withheld = n_out or ref_out or bool(mine and mine[0]) or bool(ref and ref[0])
        if withheld:
            primary = any(isinstance(x, str) and x.startswith("<") for x in (n, ref_n)) or \
                bool(mine and mine[0] and mine[1]) or bool(ref and ref[0] and ref[1])
            cells.withhold(i, _COMPARISON_NUMBERS)
            cells[i, "status"] = "withheld"
            cells[i, "reason"] = _reason(k, primary)
    return cells.frame()


def _withhold_impact(public: pd.DataFrame, internal: pd.DataFrame, groups: pd.DataFrame, public_groups: pd.DataFrame,
                     scope: list[str]) -> pd.DataFrame:
    """``public`` comparisons with the impact ratios (and four-fifths flags) of a block withheld when its highest
    group's value is: an impact ratio is a group's value over the highest (or its favourable share over the
    highest favourable share), so a published rate and its ratio would give the withheld highest value back.
    A block is a view (and cut-off) × attribute × metric; its highest group is found from the ratios themselves
    (value / ratio), and a block whose highest group cannot be found is withheld too (fail closed)."""
    if not len(internal) or "impact_ratio" not in internal.columns:
        return public
    keys = [*scope, "attribute", "metric"]
    values: dict[tuple, list[tuple[float, bool]]] = {}
    for r, shown in zip(groups[[*keys, "value"]].to_dict(orient="records"), public_groups["value"].tolist()):
        v = _num(r["value"])
        if v is not None:
            values.setdefault(tuple(r[c] for c in keys), []).append((v, _num(shown) is not None))
    withheld: set[tuple] = set()
    for r in internal[[*keys, "value", "impact_ratio"]].to_dict(orient="records"):
        key = tuple(r[c] for c in keys)
        v, ratio = _num(r["value"]), _num(r["impact_ratio"])
        if key in withheld or v is None or ratio is None or ratio <= 0:
            continue
        best = (v / ratio, (1 - v) / ratio)
        found = [shown for value, shown in values.get(key, [])
                 if any(math.isclose(candidate, side, rel_tol=1e-9, abs_tol=1e-12)
                        for candidate, side in zip(best, (value, 1 - value)))]
        if not any(found):  # no published group holds the highest value (or none was found)
            withheld.add(key)
    if not withheld:
        return public
    out = public.astype(object)
    rows = [tuple(r[c] for c in keys) in withheld for r in internal[keys].to_dict(orient="records")]
    for column in ("impact_ratio", "four_fifths_flag"):
        if column in out.columns:
            out.loc[rows, column] = None
    return out


def _suppress_verdicts(frame: pd.DataFrame, comparisons: pd.DataFrame, k: int) -> pd.DataFrame:
    cells = _Cells(frame)
    lookup = {(r["view"], r["metric"], r["attribute"], r["group"], r["reference"]): r
              for r in _Cells(comparisons).rows(["view", "metric", "attribute", "group", "reference", "n",
                                                 "reference_n", "status", "reason"])}
    for i, r in enumerate(cells.rows()):
        c = lookup.get((r["view"], r["metric"], r["attribute"], r["group"], r["reference"]))
        if c is not None:
            n, ref_n, withheld = c["n"], c["reference_n"], c["status"] == "withheld"
            primary = withheld and c["reason"] == _reason(k, True)
        else:
            n, n_out = _count_cell(r["n"], k)
            ref_n, ref_out = _count_cell(r["reference_n"], k)
            withheld = primary = n_out or ref_out
        cells[i, "n"], cells[i, "reference_n"] = n, ref_n
        if withheld:
            cells.withhold(i, _VERDICT_NUMBERS)
            cells[i, "reason"] = _verdict_reason(k, primary, r["reason"])
    return cells.frame()


def _verdict_reason(k: int, primary: bool, original: Any) -> str:
    """The reason of a verdict whose numbers are withheld: the verdict stands, and an inconclusive one owed to
    selective labels still says so (what would decide it is more checked cases, not more people)."""
    owed = "; owed to selective labels" if "selective labels" in str(original or "") else ""
    return _reason(k, primary) + "; the verdict stands" + owed


def _suppress_spread(frame: pd.DataFrame, k: int, index: _GroupIndex) -> pd.DataFrame:
    cells = _Cells(frame)
    for i, r in enumerate(cells.rows()):
        hidden = [index.rows.get((r["view"], r["attribute"], r[g], r["metric"]), (False,))[0]
                  for g in ("min_group", "max_group")]
        if any(hidden):
            cells.withhold(i, ("min_group", "min", "max_group", "max", "min_max_ratio", "max_difference"))
    return cells.frame()


def _hidden_any_view(index: _GroupIndex, attribute: str, group: str, states: Iterable[int]) -> bool:
    return any(index.hidden_states(g.gkey, states) for g in index.in_every_view(attribute, group))


def _size_hidden_any_view(index: _GroupIndex, attribute: str, group: Any, *, primary: bool = False) -> bool:
    """Whether the group's size is withheld in some view (below k, with ``primary``)."""
    return any("S" in (g.primary if primary else g.hidden) for g in index.in_every_view(attribute, group))


def _auc_withheld(frame: pd.DataFrame, k: int) -> set[tuple[str, str]]:
    """(attribute, group) pairs whose AUC rests on fewer than k positives or negatives (rule 1)."""
    out = set()
    for r in _Cells(frame).rows():
        if any((v := _num(r.get(c))) is not None and v < k for c in ("positives", "negatives")):
            out.add((r["attribute"], r["group"]))
    return out


def _suppress_auc(frame: pd.DataFrame, k: int, index: _GroupIndex) -> pd.DataFrame:
    cells = _Cells(frame)
    for i, r in enumerate(cells.rows()):
        pos, pos_out = _count_cell(r["positives"], k)
        neg, neg_out = _count_cell(r["negatives"], k)
        if not pos_out and _hidden_any_view(index, r["attribute"], r["group"], _POSITIVES):
            pos, pos_out = WITHHELD, True
        if not neg_out and _hidden_any_view(index, r["attribute"], r["group"], _NEGATIVES):
            neg, neg_out = WITHHELD, True
        cells[i, "positives"], cells[i, "negatives"] = pos, neg
        if pos_out or neg_out:
            cells.withhold(i, ("auc", "ci_low", "ci_high", "within_bin_share", "error_bound"))
    return cells.frame()


def _suppress_capacity(frame: pd.DataFrame, k: int, index: _GroupIndex) -> pd.DataFrame:
    cells = _Cells(frame)
    links = {"population": list(_ALL_STATES), "acted_on": _ACTED, "positives": _POSITIVES}
    derived = {"acted_on": ("share_of_acted", "share_of_acted_ci_low", "share_of_acted_ci_high",
                            "representation_ratio"),
               "population": ("share_of_population", "share_of_population_ci_low", "share_of_population_ci_high",
                              "representation_ratio"),
               "positives": ("share_of_positives", "share_of_positives_ci_low", "share_of_positives_ci_high")}
    for i, r in enumerate(cells.rows()):
        gkey = ((r["view"],), r["attribute"], r["group"])
        for column, states in links.items():
            value, withheld = _count_cell(r[column], k)
            if not withheld and index.hidden_states(gkey, states):
                value, withheld = WITHHELD, True
            cells[i, column] = value
            if withheld:
                cells.withhold(i, derived[column])
    _secondary_table(cells, frame, k, ["view", "attribute"], list(links), derived)
    return cells.frame()


def _suppress_calibration(frame: pd.DataFrame, k: int, index: _GroupIndex) -> pd.DataFrame:
    cells = _Cells(frame)
    positives = (frame["observed_rate"] * frame["n"]).round()
    hidden_counts = frame.assign(positives=positives, negatives=frame["n"] - positives)
    rate = ("observed_rate", "observed_ci_low", "observed_ci_high")
    for i, r in enumerate(_Cells(hidden_counts).rows()):
        n, withheld = _count_cell(r["n"], k)
        if not withheld and _size_hidden_any_view(index, r["attribute"], r["group"]):
            n, withheld = WITHHELD, True
        cells[i, "n"] = n
        if withheld:
            cells.withhold(i, ("mean_predicted", *rate))
        elif any((v := _num(r[c])) is not None and v < k for c in ("positives", "negatives")):
            cells.withhold(i, rate)
    _secondary_table(cells, frame, k, ["attribute", "group"], ["n"], {"n": ("mean_predicted", *rate)},
                     also=["attribute", "bin"])
    return cells.frame()


def _secondary_table(cells: _Cells, frame: pd.DataFrame, k: int, keys: list[str], counts: list[str],
                     derived: dict[str, tuple[str, ...]], also: list[str] | None = None) -> None:
    """Rule 4 inside one table: in each set of rows sharing ``keys`` (and ``also``), no withheld count of
    ``counts`` may be pinned by the set's total; the next-smallest published count is withheld until none is."""
    if k == 1 or not len(frame):
        return
    blocks = [block for key_columns in filter(None, (keys, also)) for block in _blocks(frame, key_columns)]
    for _ in range(100):
        changed = False
        for positions in blocks:
            for column in counts:
                changed |= _protect_block(cells, positions, column, k, derived.get(column, ()))
        if not changed:
            return


def _blocks(frame: pd.DataFrame, columns: list[str]) -> list[list[int]]:
    """The row positions of each group of ``frame.groupby(columns, sort=False, dropna=False)``, in its order."""
    codes = frame.groupby(columns, sort=False, dropna=False).ngroup().to_numpy()
    order = np.argsort(codes, kind="stable")
    return [block.tolist() for block in np.split(order, np.flatnonzero(np.diff(codes[order])) + 1)]


def _protect_block(cells: _Cells, positions: Sequence[int], column: str, k: int, derived: tuple[str, ...]) -> bool:
    values = [_num(cells.original[column][i]) for i in positions]
    if any(v is None for v in values):
        return False
    integral = _integral(values)  # type: ignore[arg-type]
    shown = [cells[i, column] for i in positions]
    unknown = [i for i, s in enumerate(shown) if isinstance(s, str)]
    if not unknown:
        return False
    known_sum = sum(v for i, v in enumerate(values) if i not in unknown)  # type: ignore[misc]
    bounds = [(0.0, float(k - 1) if integral else float(k)) if shown[i].startswith("<") else (float(k), math.inf)
              for i in unknown]
    total = float(sum(values))  # type: ignore[arg-type]
    if not _pinned(known_sum, bounds, (total, total)):
        return False
    candidates = sorted((v, i) for i, v in enumerate(values) if i not in unknown)  # type: ignore[type-var]
    if not candidates:
        return False
    position = positions[candidates[0][1]]
    cells[position, column] = WITHHELD
    cells.withhold(position, derived)
    return True


def _suppress_thresholds(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    cells = _Cells(frame)
    for i, r in enumerate(cells.rows()):
        for column in ("acted_on", "population"):
            cells[i, column] = _count_cell(r[column], k)[0]
        if isinstance(r.get("note"), str):
            cells[i, "note"] = mask_text(r["note"], k)
    return cells.frame()


def _suppress_tests(frame: pd.DataFrame, k: int, index: _GroupIndex) -> pd.DataFrame:
    cells = _Cells(frame)
    for i, r in enumerate(cells.rows()):
        n, withheld = _count_cell(r["n"], k)
        primary = withheld
        if not withheld and any(_size_hidden_any_view(index, r["attribute"], r[c]) for c in ("group", "reference")):
            # a pairwise n is group + reference: with the reference's size it would give the group's back
            n, withheld = WITHHELD, True
            primary = any(_size_hidden_any_view(index, r["attribute"], r[c], primary=True)
                          for c in ("group", "reference"))
        cells[i, "n"] = n
        if withheld:
            cells.withhold(i, ("statistic", "p_value", "effect"))
            cells[i, "status"] = "withheld"
            cells[i, "reason"] = _reason(k, primary)
    return cells.frame()


def _suppress_effects(frame: pd.DataFrame, comparisons: pd.DataFrame, k: int) -> pd.DataFrame:
    cells = _Cells(frame)
    withheld = {(r["attribute"], r["group"], r["reference"], r["metric"])
                for r in _Cells(comparisons).rows() if r["status"] == "withheld"}
    for i, r in enumerate(cells.rows()):
        if (r["attribute"], r["group"], r["reference"], r["metric"]) in withheld:
            cells.withhold(i, ("recommendation_ratio", "final_ratio", "recommendation_difference",
                               "final_difference"))
            cells[i, "reason"] = _reason(k, True) + "; the effect stands"
    return cells.frame()


def _suppress_generic(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    """Any other table: a count column below k is withheld, and the row's status and reason say so.

    Rule 5 would withhold the row's other numbers too; this never has (it looked for float columns after the
    copy to object dtype, which has none), and keeps it so until that is decided."""
    cells = _Cells(frame)
    counts = [c for c in cells.columns if c in _GENERIC_COUNTS or str(c).endswith("_n")]
    for i, r in enumerate(cells.rows()):
        hit = False
        for column in counts:
            cells[i, column], withheld = _count_cell(r[column], k)
            hit |= withheld
        if hit:
            if "status" in cells.columns:
                cells[i, "status"] = "withheld"
            if "reason" in cells.columns:
                cells[i, "reason"] = _reason(k, True)
    return cells.frame()


_FLIP_DIRECTIONS = (("to_positive", "to_positive_rate"), ("to_negative", "to_negative_rate"))


def _suppress_flips(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    """The flip test (:mod:`audit.counterfactual`): its counts of people follow rules 1, 2, 3 and 5.

    ``rows`` and ``flips`` are counts, and so is ``rows - flips`` (those whose decision stays), which
    withholds ``flips`` when below k; a withheld one withholds the row's rates, interval and score change.
    The two directions add up to ``flips``, so when one is below k both are withheld (with their rates),
    while the flip rate stands.
    """
    cells = _Cells(frame)
    for i, r in enumerate(cells.rows()):
        hit = False
        for column in ("rows", "flips"):
            cells[i, column], withheld = _count_cell(r[column], k)
            hit |= withheld
        if not hit and _num(r["rows"]) is not None and _num(r["flips"]) is not None and r["rows"] - r["flips"] < k:
            cells[i, "flips"], hit = "withheld", True
        small = [_count_cell(r[count], k)[1] for count, _rate in _FLIP_DIRECTIONS]
        for count, rate in _FLIP_DIRECTIONS:
            if hit or any(small):
                cells[i, count] = _count_cell(r[count], k)[0] if _count_cell(r[count], k)[1] else "withheld"
                cells.withhold(i, (rate,))
        if hit:
            cells.withhold(i, ("flip_rate", "ci_low", "ci_high", "mean_score_change"))
    return cells.frame()


def _suppress_proxies(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    cells = _Cells(frame)
    for i, r in enumerate(cells.rows()):
        n, withheld = _count_cell(r["n"], k)
        cells[i, "n"] = n
        if withheld:
            cells.withhold(i, ("strength", "auc", "nmi"))
            cells[i, "status"] = "withheld"
            cells[i, "reason"] = _reason(k, True)
    return cells.frame()


def _public_labels(result: AuditResult, k: int, forced: Iterable[str] = ()) -> dict[str, Any]:
    """The decision and outcome label counts; they add up to ``rows_read``, so rule 4 applies to them. A value
    nobody in the whole data has (no missing decision, a tier nobody is in) is published as 0: a fact of the data
    set that describes no group (the states of missing values nobody has are dropped by rule 3, see
    :func:`live_states`).
    ``forced`` names cells withheld whatever their size: ``"decision:<value>"``, ``"decision:\0missing"``."""
    counts, forced = result.counts, set(forced)
    data = {"decision": _mapping_dict(counts.decision) if counts else None,  # as in ``result.to_dict()``
            "outcome": _mapping_dict(counts.outcome) if counts and counts.outcome else None}
    out: dict[str, Any] = {}
    for name, mapping in data.items():
        if mapping is None:
            out[name] = None
            continue
        keys = [*mapping["rows"], "\0missing"]
        values = [float(v) for v in mapping["rows"].values()] + [float(mapping["missing_rows"])]
        shown: list[Any] = [_count_cell(v, k)[0] for v in values]
        shown = [0 if v == 0 else cell for v, cell in zip(values, shown)]  # nobody in the whole data: a fact of
        # the data set that describes no group (rule 3 drops the states of missing values nobody has)
        shown = [WITHHELD if f"{name}:{key}" in forced and not isinstance(cell, str) else cell
                 for key, cell in zip(keys, shown)]
        if k > 1:
            while True:
                unknown = [i for i, s in enumerate(shown) if isinstance(s, str)]
                known_sum = sum(v for i, v in enumerate(values) if i not in unknown)
                bounds = [(0.0, k - 1.0) if shown[i].startswith("<") else (float(k), math.inf) for i in unknown]
                candidates = sorted((v, i) for i, v in enumerate(values) if i not in unknown and v)
                if not unknown or not _pinned(known_sum, bounds, (sum(values), sum(values))) or not candidates:
                    break
                shown[candidates[0][1]] = WITHHELD
        rows = dict(zip(keys[:-1], shown[:-1]))
        out[name] = {**mapping, "rows": rows, "missing_rows": shown[-1]}
    return out


Forced = Mapping[str, frozenset[tuple[int, str]]]
"""Cells the disclosure audit withholds whatever their size, by table: (row position, column). ``labels`` cells
are ``(0, "decision:<value>")``, ``(0, "outcome:<value>")`` or ``(0, "decision:\0missing")``; ``provenance``
cells are ``(0, "rows_read")`` or ``(0, "rows_used")``."""

_ROW_NUMBERS: dict[str, tuple[str, ...]] = {
    "comparisons": _COMPARISON_NUMBERS, "sweep_comparisons": _COMPARISON_NUMBERS, "verdicts": _VERDICT_NUMBERS,
    "thresholds": (), "auc": ("auc", "ci_low", "ci_high", "within_bin_share", "error_bound"),
    "calibration": ("mean_predicted", "observed_rate", "observed_ci_low", "observed_ci_high"),
    "tests": ("statistic", "p_value", "effect"),
    "flips": ("flip_rate", "ci_low", "ci_high", "to_positive_rate", "to_negative_rate", "mean_score_change"),
    "proxies": ("strength", "auc", "nmi"),
}
"""The numbers of a row withheld with a count the disclosure audit withholds (rule 5), by table; a table not
listed has every non-count number of the row withheld (capacity: its shares and ratios)."""
_KEYS = ("view", "threshold", "attribute", "group", "reference", "metric", "bin", "bin_low", "bin_high", "set_to",
         "kind", "requested", "cutoff", "dof", "rule_index", "band_low", "band_high", "column", "levels")


def _apply_forced(frame: pd.DataFrame, name: str, cells: frozenset[tuple[int, str]], k: int) -> pd.DataFrame:
    """``frame`` (a public table) with the ``cells`` withheld and the numbers of their rows with them (rule 5)."""
    if not cells:
        return frame
    out = frame.astype(object)
    for position, column in sorted(cells):
        if column not in out.columns:
            continue
        value = out.iat[position, out.columns.get_loc(column)]
        if column in _ROW_NUMBERS.get(name, ()):  # a rate that gives a count back with its n: emptied
            out.iat[position, out.columns.get_loc(column)] = None
        elif not isinstance(value, str):
            v = _num(value)
            out.iat[position, out.columns.get_loc(column)] = _label(v, k) if v is not None else None
        numbers = _ROW_NUMBERS.get(name)
        if numbers is None:
            numbers = tuple(c for c in out.columns if c not in _KEYS and c != column and c not in _GENERIC_COUNTS
                            and not isinstance(out.iat[position, out.columns.get_loc(c)], (str, bool, np.bool_)))
        for c in numbers:
            if c in out.columns:
                out.iat[position, out.columns.get_loc(c)] = None
        if "status" in out.columns:
            out.iat[position, out.columns.get_loc("status")] = "withheld"
        if "reason" in out.columns:
            reason = out.iat[position, out.columns.get_loc("reason")]
            out.iat[position, out.columns.get_loc("reason")] = _verdict_reason(k, False, reason) \
                if name == "verdicts" else _reason(k, False)
    return out.infer_objects()


def complete_calibration(frame: pd.DataFrame) -> pd.DataFrame:
    """The calibration table with a row for every bin of every group, empty bins included (``n`` 0, no rate).

    A bin left out would tell a reader that nobody of the group scored in it: a count of 0, below any k.
    """
    if not len(frame) or "bin" not in frame.columns:
        return frame
    bins = frame.drop_duplicates("bin").set_index("bin")[["bin_low", "bin_high"]]
    groups = frame.drop_duplicates(["attribute", "group"])[["attribute", "group"]]
    full = groups.merge(pd.DataFrame({"bin": bins.index}), how="cross")
    if len(full) == len(frame):
        return frame
    out = full.merge(frame.drop(columns=["bin_low", "bin_high"]), on=["attribute", "group", "bin"], how="left")
    out = out.join(bins, on="bin")
    out["n"] = out["n"].fillna(0.0)
    return out[list(frame.columns)].reset_index(drop=True)


def suppress(result: AuditResult, k: int | None = None, *, forced: Forced | None = None) -> PublicTables:
    """Public copies of every table of ``result`` with small cells withheld (rules in the module docstring).

    Parameters
    ----------
    result:
        A finished audit; it is not changed.
    k:
        The smallest count that may be published (people, or summed weights in a weighted audit); default
        ``result.spec.report.small_cell_k``. Must be an integer ≥ 1; ``k = 1`` withholds zeros only.
    forced:
        Cells to withhold whatever their size (see :data:`Forced`): what the disclosure audit adds
        (:func:`audit.disclosure.enforce`). Rules 3-5 run over them as over any withheld count.

    Returns
    -------
    PublicTables
        Count columns hold numbers, ``"< k"`` or ``"withheld"``; withheld rates, intervals and estimates are
        NaN/None with ``status`` ``"withheld"``; verdict words are kept. The calibration table has a row for every
        bin of every group (:func:`complete_calibration`).
    """
    k = _check_k(k, result)
    forced = forced or {}
    none: frozenset[tuple[int, str]] = frozenset()
    score_withheld = _auc_withheld(result.table("auc"), k) if len(result.table("auc")) else set()
    groups, index = _suppress_groups(result.groups, ["view"], k, result, score_withheld,
                                     forced=forced.get("groups", none))
    comparisons = _withhold_impact(_suppress_comparisons(result.comparisons, ["view"], k, index),
                                   result.comparisons, result.groups, groups, ["view"])
    comparisons = _apply_forced(comparisons, "comparisons", forced.get("comparisons", none), k)
    verdicts = _apply_forced(_suppress_verdicts(result.verdicts, comparisons, k), "verdicts",
                             forced.get("verdicts", none), k)
    spread = _suppress_spread(result.spread, k, index)
    counts = dict(index.counts)
    tables: dict[str, pd.DataFrame] = {}
    sweep_index = None
    if "sweep_groups" in result.tables:
        tables["sweep_groups"], sweep_index = _suppress_groups(result.tables["sweep_groups"], ["threshold", "view"],
                                                               k, result, score_withheld, keep_models=False,
                                                               forced=forced.get("sweep_groups", none))
        for rule, value in sweep_index.counts.items():
            counts[rule] += value
    handlers: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
        "thresholds": lambda f: _suppress_thresholds(f, k),
        "capacity": lambda f: _suppress_capacity(f, k, index),
        "auc": lambda f: _suppress_auc(f, k, index),
        "calibration": lambda f: _suppress_calibration(complete_calibration(f), k, index),
        "tests": lambda f: _suppress_tests(f, k, index),
        "proxies": lambda f: _suppress_proxies(f, k),
        "flips": lambda f: _suppress_flips(f, k),
        "flip_rows": lambda f: f.iloc[0:0],           # row numbers are a key into the data: internal only
        "override_effects": lambda f: _suppress_effects(f, comparisons, k),
        "sweep_comparisons": lambda f: _withhold_impact(
            _suppress_comparisons(f, ["threshold", "view"], k, sweep_index or _GroupIndex()), f,
            result.tables["sweep_groups"], tables["sweep_groups"], ["threshold", "view"]),
    }
    for name, frame in result.tables.items():
        if name not in tables:
            tables[name] = _apply_forced(handlers.get(name, lambda f: _suppress_generic(f, k))(frame), name,
                                         forced.get(name, none), k)
    p = result.provenance
    groups, comparisons, verdicts, spread = (f.infer_objects() for f in (groups, comparisons, verdicts, spread))
    tables = {name: frame.infer_objects() for name, frame in tables.items()}
    provenance = {column for _, column in forced.get("provenance", none)}
    rows_read, rows_used = (WITHHELD if name in provenance and not isinstance(_count_cell(value, k)[0], str)
                            else _count_cell(value, k)[0]
                            for name, value in (("rows_read", p.rows_read), ("rows_used", p.rows_used)))
    return PublicTables(k=k, groups=groups, comparisons=comparisons, verdicts=verdicts, spread=spread,
                        tables=tables, labels=_public_labels(result, k, {c for _, c in forced.get("labels", none)}),
                        notes=tuple(mask_text(n, k) for n in result.notes), rows_read=rows_read, rows_used=rows_used,
                        withheld=counts)
