"""Small-cell suppression for published outputs: counts below ``k`` never leave the building.

:func:`suppress` turns an :class:`~audit.result.AuditResult` into :class:`PublicTables`, public copies of
every table; the result itself is never changed and the internal ``result.json`` keeps everything. ``k``
comes from ``spec.report.small_cell_k`` (default 10) unless given. The writers :func:`public_json`,
:func:`public_markdown` and :func:`write_public_csv` format only what :func:`suppress` returns.

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
   published; its estimate, interval, p-value and the counts it rests on follow rules 1-5, and its reason
   (which quotes numbers) becomes ``"withheld: fewer than k people; the verdict stands"``. The same holds
   for the ``effect`` word of ``override_effects``.
7. **Free text.** Notes and threshold notes quote counts; an integer below ``k`` in them (not a decimal,
   not a percentage) becomes ``"< k"``.
8. **k = 1** withholds zero counts only: ``"< 1"`` already says 0, so rules 2-4 have nothing to protect and
   are skipped.

Limits: rules 3 and 4 are checked one sum or one group at a time, not as one linear system over every
table (as τ-ARGUS would), and the calibration bins and capacity counts are protected with rule 4 within
their own table. Sums over several views (e.g. the same people in two score cut-offs) are not checked.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Hashable, Iterable

import numpy as np
import pandas as pd

from audit.errors import ReasonCode, UsageError
from audit.metrics import METRICS, MISSING, NEG, POS, Kind, state
from audit.result import AuditResult, table_records
from audit.spec import INTERSECTION_JOIN
from audit.wording import SYMBOL, interval, number

__all__ = ["PublicTables", "suppress", "public_dict", "public_json", "public_markdown", "write_public_csv",
           "neutralise_cell", "mask_text", "WITHHELD"]

WITHHELD = "withheld"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SCORE_METRICS = ("auc", "brier", "ece", "calibration_in_the_large")
_DERIVED_BINARY = ("balanced_accuracy", "f1")
_COMPARISON_NUMBERS = ("value", "reference_value", "ratio", "ratio_ci_low", "ratio_ci_high", "difference",
                       "difference_ci_low", "difference_ci_high", "statistic", "p_value", "p_adjusted",
                       "impact_ratio", "four_fifths_flag", "disadvantaged")
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
    if _missing(value) or isinstance(value, (str, bool)):
        return None
    return float(value)


def _label(value: float, k: int) -> str:
    return f"< {k}" if value < k else WITHHELD


def _public_count(value: Any) -> Any:
    """A published count as an int when whole (so ``2013.0`` is written ``2013``)."""
    v = _num(value)
    if v is None:
        return None if _missing(value) else value
    return int(v) if float(v).is_integer() else v


def _reason(k: int, primary: bool) -> str:
    return f"withheld: fewer than {k} people" + ("" if primary else " (secondary suppression)")


def _integral(values: Iterable[float]) -> bool:
    return all(float(v).is_integer() for v in values)


_INTEGER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(?![\w%]|[.,]\d)")


def mask_text(text: str, k: int) -> str:
    """``text`` with every integer below ``k`` (not a decimal, not a percentage) replaced by ``"< k"``."""
    def swap(match: re.Match[str]) -> str:
        return f"< {k}" if int(match.group(1).replace(",", "")) < k else match.group(1)
    return _INTEGER.sub(swap, text)


def neutralise_cell(value: Any) -> Any:
    """A CSV cell safe from formula injection: a string starting with ``= + - @``, tab or carriage return
    gets a leading ``'``; numbers (negative ones too) and other values are returned unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


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
        rest_lo, rest_hi = sum(lows) - lo, sum(highs) - hi
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

_ALL_STATES = frozenset(range(9))
_POSITIVES = [state(POS, d) for d in (NEG, POS, MISSING)]
_NEGATIVES = [state(NEG, d) for d in (NEG, POS, MISSING)]
_ACTED = [state(y, POS) for y in (NEG, POS, MISSING)]


def _live_states(result: AuditResult) -> list[int]:
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

    def __init__(self) -> None:
        self.values: dict[Qid, float] = {}
        self.cells: set[Qid] = set()         # quantities printed in some row
        self.hidden: set[Qid] = set()        # withheld cells
        self.primary: set[Qid] = set()       # below k (cells and implicit complements)
        self.keep: set[Qid] = set()          # counts of the policy's metrics: withheld last
        self.vectors: dict[Qid, tuple[Hashable, np.ndarray]] = {}  # qid -> (family, vector); S is in all
        self._known: dict[Qid, bool] = {}

    def add(self, qid: Qid, value: float, family: Hashable | None, vector: np.ndarray | None, *,
            cell: bool) -> None:
        self.values.setdefault(qid, value)
        if cell:
            self.cells.add(qid)
        if family is not None and qid != "S":
            self.vectors[qid] = (family, vector)  # type: ignore[assignment]

    def families(self) -> dict[Hashable, int]:
        return {fam: len(vec) for fam, vec in self.vectors.values()}

    def vector(self, qid: Qid, family: Hashable) -> np.ndarray | None:
        if qid == "S":
            return np.ones(self.families()[family])
        fam, vec = self.vectors.get(qid, (None, None))
        return vec if fam == family else None

    def published(self, family: Hashable) -> list[Qid]:
        return [q for q in self.cells - self.hidden if self.vector(q, family) is not None]

    def known(self, qid: Qid) -> bool:
        """Whether a reader can compute ``qid`` from the published counts of this group."""
        if qid not in self._known:
            self._known[qid] = (qid in self.cells and qid not in self.hidden) or any(
                _in_span([self.vector(p, fam) for p in self.published(fam)], self.vector(qid, fam))
                for fam in self._families_of(qid))
        return self._known[qid]

    def hide(self, qid: Qid) -> None:
        self.hidden.add(qid)
        self._known.clear()

    def _families_of(self, qid: Qid) -> list[Hashable]:
        if qid == "S":
            return list(self.families())
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
                if not _in_span([self.vector(p, fam) for p in published], target):
                    break
                order = sorted(published, key=lambda p: (p == "S", p in self.keep, self.values[p], repr(p)))
                breaker = next((p for p in order if not _in_span(
                    [self.vector(o, fam) for o in published if o != p], target)), order[0])
                self.hide(breaker)
                changed = True
        return changed


def _in_span(vectors: list[np.ndarray | None], target: np.ndarray | None) -> bool:
    vectors = [v for v in vectors if v is not None]
    if target is None or not vectors:
        return False
    matrix = np.vstack(vectors)
    return int(np.linalg.matrix_rank(np.vstack([matrix, target]))) == int(np.linalg.matrix_rank(matrix))


@dataclass
class _RowCells:
    """Which quantity each count column of one row shows, and its complement (rule 2)."""

    gkey: GKey
    metric: str
    columns: dict[str, Qid]
    complement: Qid | None = None
    family: Hashable | None = None


class _GroupModel:
    """Rules 1-4 on a groups-like frame; ``scope`` columns identify a view (with the threshold in sweeps)."""

    def __init__(self, frame: pd.DataFrame, scope: list[str], k: int, live: list[int], tiers: list[str],
                 keep: set[str]) -> None:
        self.frame, self.scope, self.k = frame, scope, k
        self.live = live
        self.tiers = tiers
        self.keep = keep
        self.groups: dict[GKey, _Group] = {}
        self.rows: list[_RowCells] = []
        self._build()

    # -- building
    def _bin(self, states: Iterable[int]) -> tuple[Qid, np.ndarray]:
        projected = frozenset(states) & frozenset(self.live)
        if projected == frozenset(self.live):
            return "S", np.ones(len(self.live))
        return ("bin", projected), np.array([1.0 if s in projected else 0.0 for s in self.live])

    def _tier(self, names: Iterable[str]) -> tuple[Qid, np.ndarray]:
        chosen = frozenset(names)
        if chosen >= frozenset(self.tiers):
            return "S", np.ones(len(self.tiers))
        return ("tier", chosen), np.array([1.0 if t in chosen else 0.0 for t in self.tiers])

    def _build(self) -> None:
        sizes: dict[GKey, float] = {}
        records = self.frame.to_dict(orient="records")
        for r in records:
            g = self._gkey(r)
            if r["metric"] == "count" and _num(r["n"]) is not None:
                sizes[g] = float(r["n"])
        for r in records:
            g = self._gkey(r)
            if g not in sizes and r["metric"] not in ("share",) and _num(r["n"]) is not None:
                sizes[g] = max(sizes.get(g, 0.0), float(r["n"]))
        for r in records:
            g = self._gkey(r)
            group = self.groups.setdefault(g, _Group())
            if g in sizes:
                group.add("S", sizes[g], None, None, cell=False)
            row = self._row(r, g, group, sizes.get(g))
            if row.metric in self.keep:
                group.keep.update(q for q in row.columns.values() if q != "S")
            self.rows.append(row)

    def _gkey(self, r: dict[str, Any]) -> GKey:
        return (tuple(r[c] for c in self.scope), r["attribute"], r["group"])

    def _row(self, r: dict[str, Any], g: GKey, group: _Group, size: float | None) -> _RowCells:
        metric = str(r["metric"])
        n, num, den = _num(r["n"]), _num(r["numerator"]), _num(r["denominator"])
        row = _RowCells(g, metric, {})
        if metric == "count":
            row.columns = {"n": "S", "numerator": "S", "value": "S"}
            group.cells.add("S")
            return row
        if metric == "share":
            row.columns = {"numerator": "S", "n": "TOTAL", "denominator": "TOTAL"}
            group.cells.add("S")
            group.add("TOTAL", n if n is not None else 0.0, None, None, cell=True)
            return row
        family, nq, dq, nv, dv = self._proportion(metric, size, den)
        if family is not None and num is not None and den is not None:
            group.add(nq, num, family, nv, cell=True)
            group.add(dq, den, family, dv, cell=True)
            if dq == "S":
                group.cells.add("S")
            row.columns = {"numerator": nq, "denominator": dq, "n": dq}
            row.family = family
            cvec = (np.ones(len(nv)) if dq == "S" else dv) - nv
            if cvec.any() and cvec.min() >= 0:
                cq = self._complement_qid(family, metric, cvec)
                group.add(cq, den - num, family, cvec, cell=False)
                row.complement = cq
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

    def _proportion(self, metric: str, size: float | None, den: float | None
                    ) -> tuple[Hashable | None, Qid, Qid, np.ndarray, np.ndarray]:
        definition = METRICS.get(metric)
        if definition is not None and definition.kind is Kind.PROPORTION:
            nq, nv = self._bin(definition.numerator)
            dq, dv = self._bin(definition.denominator)
            return "bin", nq, dq, nv, dv
        family_name, _, tier = metric.partition(":")
        if family_name in ("tier_rate", "tier_at_least") and tier in self.tiers:
            names = [tier] if family_name == "tier_rate" else self.tiers[self.tiers.index(tier):]
            nq, nv = self._tier(names)
            return "tier", nq, "S", nv, np.ones(len(self.tiers))
        if metric.startswith(("mean:", "median:")) or metric in _SCORE_METRICS or metric in _DERIVED_BINARY \
                or metric.split(":", 1)[0][:1] == "q" and ":" in metric:
            return None, "", "", np.zeros(0), np.zeros(0)
        family = ("gen", metric)
        nv = np.array([1.0, 0.0, 0.0])
        if size is not None and den == size:
            return family, ("gen", metric, "N"), "S", nv, np.ones(3)
        return family, ("gen", metric, "N"), ("gen", metric, "D"), nv, np.array([1.0, 1.0, 0.0])

    def _complement_qid(self, family: Hashable, metric: str, cvec: np.ndarray) -> Qid:
        """The id of ``denominator - numerator``: the same id as a printed count of the same states."""
        if family == "bin":
            return ("bin", frozenset(s for s, x in zip(self.live, cvec) if x))
        if family == "tier":
            return ("tier", frozenset(t for t, x in zip(self.tiers, cvec) if x))
        return ("gen", metric, "C")

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
                for qid in sorted(group.primary, key=repr):
                    if qid != "TOTAL" and group.known(qid):
                        changed |= group.make_unknown(qid)
            for members, total in self._sums():
                changed |= self._protect_sum(members, total)
            if not changed:
                return

    def _total_known(self, scope: tuple, qid: Qid, by_set: dict[tuple, list[tuple[GKey, Qid]]]) -> bool:
        """Whether the population total of ``qid`` in a view is published or computable: group sizes (the
        ``share`` denominator), each tier's count and the flagged and positive totals (the label counts and
        the thresholds table) are; so is any count whose groups are all known in some attribute, and any
        linear combination of those."""
        if qid in ("S", "TOTAL"):
            return True
        family = qid[0] if isinstance(qid, tuple) else None
        if family == "tier":
            return True
        known: list[np.ndarray] = []
        if family == "bin":
            known = [np.ones(len(self.live))] + [self._bin(states)[1] for states in (_ACTED, _POSITIVES)]
        for (set_scope, _, _, _), members in by_set.items():
            if set_scope != scope or not members or members[0][1] == "S":
                continue
            member = members[0][1]
            if not isinstance(member, tuple) or member[0] != family:
                continue
            if family != "bin" and member != qid:
                continue
            if all(self.groups[g].known(q) for g, q in members):
                if member == qid:
                    return True
                known.append(self._bin(member[1])[1])
        return family == "bin" and _in_span(known, self._bin(qid[1])[1])  # type: ignore[index]

    def _sums(self) -> list[tuple[list[tuple[GKey, Qid]], tuple[GKey, Qid] | None]]:
        """Every additive set of rule 4: members and the marginal total (None: the population total)."""
        by_set: dict[tuple, list[tuple[GKey, Qid]]] = {}
        for row in self.rows:
            (scope, attribute, group) = row.gkey
            roles = {"S": "S"} if "n" in row.columns and row.columns.get("n") == "S" else {}
            for role, column in (("N", "numerator"), ("D", "denominator")):
                if column in row.columns and row.columns[column] not in ("S", "TOTAL"):
                    roles[role] = row.columns[column]
            if row.complement is not None:
                roles["C"] = row.complement
            for role, qid in roles.items():
                key = (scope, attribute, "" if role == "S" else row.metric, role)
                entry = (row.gkey, qid)
                bucket = by_set.setdefault(key, [])
                if entry not in bucket:
                    bucket.append(entry)
        sums: list[tuple[list[tuple[GKey, Qid]], tuple[GKey, Qid] | None]] = []
        totals: dict[tuple, bool] = {}
        for (scope, attribute, metric, role), members in by_set.items():
            qids = {q for _, q in members}
            if len(qids) == 1:
                key = (scope, next(iter(qids)))
                if key not in totals:
                    totals[key] = self._total_known(scope, key[1], by_set)
                if totals[key]:
                    sums.append((members, None))
            else:  # the same column means different states in different groups: be safe
                sums.append((members, None))
            parts = str(attribute).split(INTERSECTION_JOIN)
            if len(parts) < 2:
                continue
            for i, part in enumerate(parts):
                marginal = by_set.get((scope, part, metric, role), [])
                for mkey, mqid in marginal:
                    cells = [(g, q) for g, q in members if str(g[2]).split(INTERSECTION_JOIN)[i] == mkey[2]]
                    if cells:
                        sums.append((cells, (mkey, mqid)))
        return sums

    def _bounds(self, gkey: GKey, qid: Qid, integral: bool) -> tuple[float, float]:
        group = self.groups[gkey]
        value = group.values[qid]
        if value < self.k:
            return 0.0, float(self.k - 1) if integral else float(self.k)
        if qid in group.cells:  # printed as "withheld": a reader knows it is at least k
            return float(self.k), math.inf
        return 0.0, math.inf

    def _protect_sum(self, members: list[tuple[GKey, Qid]], total: tuple[GKey, Qid] | None) -> bool:
        values = [self.groups[g].values[q] for g, q in members]
        integral = _integral(values)
        known = [self.groups[g].known(q) for g, q in members]
        unknown = [(g, q) for (g, q), kn in zip(members, known) if not kn]
        if not unknown and (total is None or self.groups[total[0]].known(total[1])):
            return False
        known_sum = sum(v for v, kn in zip(values, known) if kn)
        bounds = [self._bounds(g, q, integral) for g, q in unknown]
        exact = sum(values) if total is None else self.groups[total[0]].values[total[1]]
        if total is None or self.groups[total[0]].known(total[1]):
            t_bounds: tuple[float, float] = (exact, exact)
            total_pinned = False
        else:
            t_bounds = self._bounds(total[0], total[1], integral)
            total_pinned = _total_pinned(known_sum, bounds, t_bounds)
        pinned = _pinned(known_sum, bounds, t_bounds)
        if not pinned and not total_pinned:
            return False
        candidates = sorted(((v, repr(m)), m) for m, v, kn in zip(members, values, known) if kn)
        if candidates:
            g, q = candidates[0][1]
            return self.groups[g].make_unknown(q)
        if total is not None and self.groups[total[0]].known(total[1]):
            return self.groups[total[0]].make_unknown(total[1])
        return False

    # -- results
    def row_state(self, row: _RowCells) -> tuple[bool, bool, dict[str, str]]:
        """(withheld, primary, labels for the count columns) of one row."""
        group = self.groups[row.gkey]
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
    model: _GroupModel | None = None
    counts: dict[str, int] = field(default_factory=lambda: {"primary": 0, "secondary": 0})


def _suppress_groups(frame: pd.DataFrame, scope: list[str], k: int, result: AuditResult,
                     score_withheld: set[tuple[str, str]]) -> tuple[pd.DataFrame, _GroupIndex]:
    tiers = list(result.spec.tiers.values) if result.spec.tiers is not None else []
    keep = {"selection_rate", "base_rate", *(rule.metric for rule in result.spec.policy)}
    model = _GroupModel(frame, scope, k, _live_states(result), tiers, keep)
    model.run()
    out = frame.astype(object)  # a copy; object cells take labels and None without slow upcasts
    for column in ("n", "numerator", "denominator", "value"):
        if column in out.columns:
            out[column] = out[column].astype(object)
    index = _GroupIndex(model=model)
    count_columns = [c for c in ("n", "numerator", "denominator") if c in out.columns]
    for position, (label, row) in enumerate(zip(out.index, model.rows)):
        withheld, primary, labels = model.row_state(row)
        scope_values, attribute, group = row.gkey
        if row.metric in _SCORE_METRICS and (attribute, group) in score_withheld:
            withheld, primary = True, True
        for column in count_columns:
            out.at[label, column] = labels.get(column, _public_count(out.at[label, column]))
        if row.metric == "count":
            out.at[label, "value"] = labels.get("value", _public_count(out.at[label, "value"]))
        if withheld:
            if row.metric != "count":
                out.at[label, "value"] = None
            out.at[label, "ci_low"], out.at[label, "ci_high"] = np.nan, np.nan
            if row.metric.startswith("mean:"):  # a sum of amounts: with the mean it gives n back
                out.at[label, "numerator"] = None
            out.at[label, "status"] = "withheld"
            out.at[label, "reason"] = _reason(k, primary)
        index.rows[(*scope_values, attribute, group, row.metric)] = (withheld, primary, out.at[label, "n"])
        for column in count_columns:
            if isinstance(out.at[label, column], str):
                index.counts["primary" if out.at[label, column].startswith("<") else "secondary"] += 1
    return out, index


# ----------------------------------------------------------------------------------------------------------
# tables that repeat the groups' numbers


def _withhold(out: pd.DataFrame, label: Any, columns: Iterable[str]) -> None:
    for column in columns:
        if column in out.columns:
            out.at[label, column] = None


def _count_cell(value: Any, k: int, linked: Any = None) -> tuple[Any, bool]:
    """The public form of a count and whether it is withheld; ``linked`` is the groups table's label, if any."""
    if isinstance(linked, str):
        return linked, True
    v = _num(value)
    if v is not None and v < k:
        return f"< {k}", True
    return _public_count(value), False


def _suppress_comparisons(frame: pd.DataFrame, scope: list[str], k: int, index: _GroupIndex) -> pd.DataFrame:
    out = frame.astype(object)  # a copy; object cells take labels and None without slow upcasts
    for column in ("n", "reference_n"):
        if column in out.columns:
            out[column] = out[column].astype(object)
    for column in ("four_fifths_flag", "disadvantaged"):
        if column in out.columns:
            out[column] = out[column].astype(object)
    for label, r in zip(out.index, frame.to_dict(orient="records")):
        key = tuple(r[c] for c in scope)
        mine = index.rows.get((*key, r["attribute"], r["group"], r["metric"]))
        ref = index.rows.get((*key, r["attribute"], r["reference"], r["metric"]))
        n, n_out = _count_cell(r["n"], k, mine[2] if mine else None)
        ref_n, ref_out = _count_cell(r["reference_n"], k, ref[2] if ref else None)
        out.at[label, "n"], out.at[label, "reference_n"] = n, ref_n
        withheld = n_out or ref_out or bool(mine and mine[0]) or bool(ref and ref[0])
        if withheld:
            primary = any(isinstance(x, str) and x.startswith("<") for x in (n, ref_n)) or \
                bool(mine and mine[0] and mine[1]) or bool(ref and ref[0] and ref[1])
            _withhold(out, label, _COMPARISON_NUMBERS)
            out.at[label, "status"] = "withheld"
            out.at[label, "reason"] = _reason(k, primary)
    return out


def _suppress_verdicts(frame: pd.DataFrame, comparisons: pd.DataFrame, k: int) -> pd.DataFrame:
    out = frame.astype(object)  # a copy; object cells take labels and None without slow upcasts
    for column in ("n", "reference_n", "disadvantaged"):
        if column in out.columns:
            out[column] = out[column].astype(object)
    lookup = {(r["view"], r["metric"], r["attribute"], r["group"], r["reference"]): r
              for r in comparisons.to_dict(orient="records")}
    for label, r in zip(out.index, frame.to_dict(orient="records")):
        c = lookup.get((r["view"], r["metric"], r["attribute"], r["group"], r["reference"]))
        if c is not None:
            n, ref_n, withheld = c["n"], c["reference_n"], c["status"] == "withheld"
            primary = withheld and c["reason"] == _reason(k, True)
        else:
            n, n_out = _count_cell(r["n"], k)
            ref_n, ref_out = _count_cell(r["reference_n"], k)
            withheld = primary = n_out or ref_out
        out.at[label, "n"], out.at[label, "reference_n"] = n, ref_n
        if withheld:
            _withhold(out, label, ("estimate", "ci_low", "ci_high", "p_adjusted", "disadvantaged"))
            out.at[label, "reason"] = _reason(k, primary) + "; the verdict stands"
    return out


def _suppress_spread(frame: pd.DataFrame, k: int, index: _GroupIndex) -> pd.DataFrame:
    out = frame.astype(object)  # a copy; object cells take labels and None without slow upcasts
    for column in ("min_group", "max_group"):
        out[column] = out[column].astype(object)
    for label, r in zip(out.index, frame.to_dict(orient="records")):
        hidden = [index.rows.get((r["view"], r["attribute"], r[g], r["metric"]), (False,))[0]
                  for g in ("min_group", "max_group")]
        if any(hidden):
            _withhold(out, label, ("min_group", "min", "max_group", "max", "min_max_ratio", "max_difference"))
    return out


def _hidden_any_view(index: _GroupIndex, attribute: str, group: str, states: Iterable[int]) -> bool:
    model = index.model
    if model is None:
        return False
    return any(model.hidden_states(g, states) for g in model.groups if g[1] == attribute and g[2] == group)


def _size_hidden_any_view(index: _GroupIndex, attribute: str, group: Any, *, primary: bool = False) -> bool:
    """Whether the group's size is withheld in some view (below k, with ``primary``)."""
    model = index.model
    if model is None or _missing(group):
        return False
    return any("S" in (grp.primary if primary else grp.hidden) for g, grp in model.groups.items()
               if g[1] == attribute and g[2] == group)




def _auc_withheld(frame: pd.DataFrame, k: int) -> set[tuple[str, str]]:
    """(attribute, group) pairs whose AUC rests on fewer than k positives or negatives (rule 1)."""
    out = set()
    for r in frame.to_dict(orient="records"):
        if any((v := _num(r.get(c))) is not None and v < k for c in ("positives", "negatives")):
            out.add((r["attribute"], r["group"]))
    return out


def _suppress_auc(frame: pd.DataFrame, k: int, index: _GroupIndex) -> pd.DataFrame:
    out = frame.astype(object)  # a copy; object cells take labels and None without slow upcasts
    out[["positives", "negatives"]] = out[["positives", "negatives"]].astype(object)
    for label, r in zip(out.index, frame.to_dict(orient="records")):
        pos, pos_out = _count_cell(r["positives"], k)
        neg, neg_out = _count_cell(r["negatives"], k)
        if not pos_out and _hidden_any_view(index, r["attribute"], r["group"], _POSITIVES):
            pos, pos_out = WITHHELD, True
        if not neg_out and _hidden_any_view(index, r["attribute"], r["group"], _NEGATIVES):
            neg, neg_out = WITHHELD, True
        out.at[label, "positives"], out.at[label, "negatives"] = pos, neg
        if pos_out or neg_out:
            _withhold(out, label, ("auc", "ci_low", "ci_high", "within_bin_share", "error_bound"))
    return out


def _suppress_capacity(frame: pd.DataFrame, k: int, index: _GroupIndex) -> pd.DataFrame:
    out = frame.astype(object)  # a copy; object cells take labels and None without slow upcasts
    links = {"population": list(_ALL_STATES), "acted_on": _ACTED, "positives": _POSITIVES}
    derived = {"acted_on": ("share_of_acted", "share_of_acted_ci_low", "share_of_acted_ci_high",
                            "representation_ratio"),
               "population": ("share_of_population", "share_of_population_ci_low", "share_of_population_ci_high",
                              "representation_ratio"),
               "positives": ("share_of_positives", "share_of_positives_ci_low", "share_of_positives_ci_high")}
    for column in links:
        out[column] = out[column].astype(object)
    model = index.model
    for label, r in zip(out.index, frame.to_dict(orient="records")):
        gkey = ((r["view"],), r["attribute"], r["group"])
        for column, states in links.items():
            value, withheld = _count_cell(r[column], k)
            if not withheld and model is not None and model.hidden_states(gkey, states):
                value, withheld = WITHHELD, True
            out.at[label, column] = value
            if withheld:
                _withhold(out, label, derived[column])
    return _secondary_table(out, frame, k, ["view", "attribute"], list(links), derived)


def _suppress_calibration(frame: pd.DataFrame, k: int, index: _GroupIndex) -> pd.DataFrame:
    out = frame.astype(object)  # a copy; object cells take labels and None without slow upcasts
    out["n"] = out["n"].astype(object)
    positives = (frame["observed_rate"] * frame["n"]).round()
    hidden_counts = frame.assign(positives=positives, negatives=frame["n"] - positives)
    rate = ("observed_rate", "observed_ci_low", "observed_ci_high")
    for label, r in zip(out.index, hidden_counts.to_dict(orient="records")):
        n, withheld = _count_cell(r["n"], k)
        if not withheld and _size_hidden_any_view(index, r["attribute"], r["group"]):
            n, withheld = WITHHELD, True
        out.at[label, "n"] = n
        if withheld:
            _withhold(out, label, ("mean_predicted", *rate))
        elif any((v := _num(r[c])) is not None and v < k for c in ("positives", "negatives")):
            _withhold(out, label, rate)
    return _secondary_table(out, frame, k, ["attribute", "group"], ["n"], {"n": ("mean_predicted", *rate)},
                            also=["attribute", "bin"])


def _secondary_table(out: pd.DataFrame, frame: pd.DataFrame, k: int, keys: list[str], counts: list[str],
                     derived: dict[str, tuple[str, ...]], also: list[str] | None = None) -> pd.DataFrame:
    """Rule 4 inside one table: in each set of rows sharing ``keys`` (and ``also``), no withheld count of
    ``counts`` may be pinned by the set's total; the next-smallest published count is withheld until none is."""
    if k == 1 or not len(out):
        return out
    for _ in range(100):
        changed = False
        for key_columns in filter(None, (keys, also)):
            for _, block in frame.groupby(key_columns, sort=False, dropna=False):
                for column in counts:
                    changed |= _protect_block(out, block, column, k, derived.get(column, ()))
        if not changed:
            return out
    return out


def _protect_block(out: pd.DataFrame, block: pd.DataFrame, column: str, k: int, derived: tuple[str, ...]) -> bool:
    values = [_num(v) for v in block[column]]
    if any(v is None for v in values):
        return False
    integral = _integral(values)  # type: ignore[arg-type]
    shown = [out.at[label, column] for label in block.index]
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
    label = block.index[candidates[0][1]]
    out.at[label, column] = WITHHELD
    _withhold(out, label, derived)
    return True


def _suppress_thresholds(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    out = frame.astype(object)  # a copy; object cells take labels and None without slow upcasts
    for column in ("acted_on", "population"):
        out[column] = out[column].astype(object)
    for label, r in zip(out.index, frame.to_dict(orient="records")):
        for column in ("acted_on", "population"):
            out.at[label, column] = _count_cell(r[column], k)[0]
        if isinstance(r.get("note"), str):
            out.at[label, "note"] = mask_text(r["note"], k)
    return out


def _suppress_tests(frame: pd.DataFrame, k: int, index: _GroupIndex) -> pd.DataFrame:
    out = frame.astype(object)  # a copy; object cells take labels and None without slow upcasts
    out["n"] = out["n"].astype(object)
    for label, r in zip(out.index, frame.to_dict(orient="records")):
        n, withheld = _count_cell(r["n"], k)
        primary = withheld
        if not withheld and any(_size_hidden_any_view(index, r["attribute"], r[c]) for c in ("group", "reference")):
            # a pairwise n is group + reference: with the reference's size it would give the group's back
            n, withheld = WITHHELD, True
            primary = any(_size_hidden_any_view(index, r["attribute"], r[c], primary=True)
                          for c in ("group", "reference"))
        out.at[label, "n"] = n
        if withheld:
            _withhold(out, label, ("statistic", "p_value", "effect"))
            out.at[label, "status"] = "withheld"
            out.at[label, "reason"] = _reason(k, primary)
    return out


def _suppress_effects(frame: pd.DataFrame, comparisons: pd.DataFrame, k: int) -> pd.DataFrame:
    out = frame.astype(object)  # a copy; object cells take labels and None without slow upcasts
    withheld = {(r["attribute"], r["group"], r["reference"], r["metric"])
                for r in comparisons.to_dict(orient="records") if r["status"] == "withheld"}
    for label, r in zip(out.index, frame.to_dict(orient="records")):
        if (r["attribute"], r["group"], r["reference"], r["metric"]) in withheld:
            _withhold(out, label, ("recommendation_ratio", "final_ratio", "recommendation_difference",
                                   "final_difference"))
            out.at[label, "reason"] = _reason(k, True) + "; the effect stands"
    return out


def _suppress_generic(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    """Any other table: count columns below k withheld, and with them every other number of the row."""
    out = frame.astype(object)  # a copy; object cells take labels and None without slow upcasts
    counts = [c for c in out.columns if c in _GENERIC_COUNTS or str(c).endswith("_n")]
    numbers = [c for c in out.columns if c not in counts and pd.api.types.is_float_dtype(out[c])]
    for column in counts:
        out[column] = out[column].astype(object)
    for label, r in zip(out.index, frame.to_dict(orient="records")):
        hit = False
        for column in counts:
            value, withheld = _count_cell(r[column], k)
            out.at[label, column] = value
            hit |= withheld
        if hit:
            _withhold(out, label, numbers)
            if "status" in out.columns:
                out.at[label, "status"] = "withheld"
            if "reason" in out.columns:
                out.at[label, "reason"] = _reason(k, True)
    return out


def _suppress_proxies(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    out = frame.astype(object)  # a copy; object cells take labels and None without slow upcasts
    out["n"] = out["n"].astype(object)
    for label, r in zip(out.index, frame.to_dict(orient="records")):
        n, withheld = _count_cell(r["n"], k)
        out.at[label, "n"] = n
        if withheld:
            _withhold(out, label, ("strength", "auc", "nmi"))
            out.at[label, "status"] = "withheld"
            out.at[label, "reason"] = _reason(k, True)
    return out


def _public_labels(result: AuditResult, k: int) -> dict[str, Any]:
    """The decision and outcome label counts; they add up to ``rows_read``, so rule 4 applies to them."""
    data = result.to_dict()["labels"]
    out: dict[str, Any] = {}
    for name, mapping in data.items():
        if mapping is None:
            out[name] = None
            continue
        keys = [*mapping["rows"], "\0missing"]
        values = [float(v) for v in mapping["rows"].values()] + [float(mapping["missing_rows"])]
        shown: list[Any] = [_count_cell(v, k)[0] for v in values]
        if k > 1:
            while True:
                unknown = [i for i, s in enumerate(shown) if isinstance(s, str)]
                known_sum = sum(v for i, v in enumerate(values) if i not in unknown)
                bounds = [(0.0, k - 1.0) if shown[i].startswith("<") else (float(k), math.inf) for i in unknown]
                candidates = sorted((v, i) for i, v in enumerate(values) if i not in unknown)
                if not unknown or not _pinned(known_sum, bounds, (sum(values), sum(values))) or not candidates:
                    break
                shown[candidates[0][1]] = WITHHELD
        rows = dict(zip(keys[:-1], shown[:-1]))
        out[name] = {**mapping, "rows": rows, "missing_rows": shown[-1]}
    return out


def suppress(result: AuditResult, k: int | None = None) -> PublicTables:
    """Public copies of every table of ``result`` with small cells withheld (rules in the module docstring).

    Parameters
    ----------
    result:
        A finished audit; it is not changed.
    k:
        The smallest count that may be published (people, or summed weights in a weighted audit); default
        ``result.spec.report.small_cell_k``. Must be an integer ≥ 1; ``k = 1`` withholds zeros only.

    Returns
    -------
    PublicTables
        Count columns hold numbers, ``"< k"`` or ``"withheld"``; withheld rates, intervals and estimates are
        NaN/None with ``status`` ``"withheld"``; verdict words are kept.
    """
    k = _check_k(k, result)
    score_withheld = _auc_withheld(result.table("auc"), k) if len(result.table("auc")) else set()
    groups, index = _suppress_groups(result.groups, ["view"], k, result, score_withheld)
    comparisons = _suppress_comparisons(result.comparisons, ["view"], k, index)
    verdicts = _suppress_verdicts(result.verdicts, comparisons, k)
    spread = _suppress_spread(result.spread, k, index)
    counts = dict(index.counts)
    tables: dict[str, pd.DataFrame] = {}
    sweep_index = None
    if "sweep_groups" in result.tables:
        tables["sweep_groups"], sweep_index = _suppress_groups(result.tables["sweep_groups"], ["threshold", "view"],
                                                               k, result, score_withheld)
        for rule, value in sweep_index.counts.items():
            counts[rule] += value
    handlers: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
        "thresholds": lambda f: _suppress_thresholds(f, k),
        "capacity": lambda f: _suppress_capacity(f, k, index),
        "auc": lambda f: _suppress_auc(f, k, index),
        "calibration": lambda f: _suppress_calibration(f, k, index),
        "tests": lambda f: _suppress_tests(f, k, index),
        "proxies": lambda f: _suppress_proxies(f, k),
        "override_effects": lambda f: _suppress_effects(f, comparisons, k),
        "sweep_comparisons": lambda f: _suppress_comparisons(f, ["threshold", "view"], k,
                                                             sweep_index or _GroupIndex()),
    }
    for name, frame in result.tables.items():
        if name not in tables:
            tables[name] = handlers.get(name, lambda f: _suppress_generic(f, k))(frame)
    p = result.provenance
    groups, comparisons, verdicts, spread = (f.infer_objects() for f in (groups, comparisons, verdicts, spread))
    tables = {name: frame.infer_objects() for name, frame in tables.items()}
    return PublicTables(k=k, groups=groups, comparisons=comparisons, verdicts=verdicts, spread=spread,
                        tables=tables, labels=_public_labels(result, k),
                        notes=tuple(mask_text(n, k) for n in result.notes),
                        rows_read=_count_cell(p.rows_read, k)[0], rows_used=_count_cell(p.rows_used, k)[0],
                        withheld=counts)


# ----------------------------------------------------------------------------------------------------------
# writers


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return table_records(frame)


def public_dict(result: AuditResult, k: int | None = None, *, tables: PublicTables | None = None) -> dict[str, Any]:
    """The public ``result.json`` as a dict: the internal shape with suppressed tables, label counts and notes,
    ``"public": true`` and ``"small_cell_k"``; ``result_sha256`` (a hash of the unsuppressed tables, which
    would let anyone test guesses of a withheld count) is replaced by ``public_sha256`` of these tables."""
    public = tables if tables is not None else suppress(result, k)
    body = result.to_dict()
    provenance = dict(body["provenance"])
    provenance.pop("result_sha256", None)
    provenance["rows_read"], provenance["rows_used"] = public.rows_read, public.rows_used
    records = {name: _records(frame) for name, frame in public.all_tables().items()}
    provenance["public_sha256"] = hashlib.sha256(json.dumps(
        {"verdict": result.verdict, **records}, sort_keys=True, default=str).encode()).hexdigest()
    internal_tables = {"groups", "comparisons", "verdicts", "spread", *result.tables}
    out = {key: value for key, value in body.items() if key not in internal_tables}
    out.update({"public": True, "small_cell_k": public.k, "notes": list(public.notes), "labels": public.labels,
                "provenance": provenance, "withheld_cells": public.withheld, **records})
    return out


def public_json(result: AuditResult, k: int | None = None, *, indent: int = 2) -> str:
    """The public ``result.json`` text (see :func:`public_dict`); NaN is written ``null``."""
    return json.dumps(public_dict(result, k), indent=indent, ensure_ascii=False, default=str)


def _cell(value: Any) -> str:
    return "" if _missing(value) else str(value).replace("|", "\\|").replace("\n", " ")


def _count_text(value: Any) -> str:
    if _missing(value):
        return "n/a"
    return value if isinstance(value, str) else number(_public_count(value))


def public_markdown(result: AuditResult, k: int | None = None) -> str:
    """A short public summary: verdict, the suppression rule, every rule's per-group verdicts, notes."""
    public = suppress(result, k)
    counts = result.verdict_counts()
    lines = [f"# Audit: {_cell(result.spec.system.name)}", "",
             f"**Overall verdict: {SYMBOL[result.verdict]}** ({counts['fail']} fail, {counts['pass']} pass, "
             f"{counts['inconclusive']} inconclusive)", "",
             f"- Published with small-cell suppression: counts below {public.k} are shown as \"< {public.k}\" and "
             f"the numbers built on them are withheld; further counts are withheld where they would let a "
             f"withheld one be worked out. Verdicts are always shown.",
             f"- Data: {_count_text(public.rows_used)} of {_count_text(public.rows_read)} rows audited",
             f"- Decision views: {', '.join(result.spec.view_names())}", ""]
    verdicts = public.verdicts
    for index, rule in enumerate(result.spec.policy):
        rows = verdicts[verdicts["rule_index"] == index].to_dict(orient="records")
        lines += [f"## Rule: {_cell(rule.describe())}", "",
                  "| view | attribute | group | reference | estimate | CI | n | ref n | adj. p | verdict | why |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            estimate = "withheld" if _missing(r["estimate"]) and str(r["reason"]).startswith("withheld") \
                else number(r["estimate"])
            lines.append(f"| {_cell(r['view'])} | {_cell(r['attribute'])} | {_cell(r['group'])} | "
                         f"{_cell(r['reference'])} | {estimate} | {interval(r['ci_low'], r['ci_high'])} | "
                         f"{_count_text(r['n'])} | {_count_text(r['reference_n'])} | {number(r['p_adjusted'], 2)} | "
                         f"**{r['verdict']}** | {_cell(r['reason'])} |")
        lines.append("")
    if not result.spec.policy:
        lines += ["No policy rules: the spec sets no bounds, so nothing can pass or fail.", ""]
    if public.notes:
        lines += ["## Notes", ""] + [f"- {_cell(n)}" for n in public.notes] + [""]
    return "\n".join(lines)


def write_public_csv(result: AuditResult, k: int | None, out_dir: str | Path) -> list[Path]:
    """Write one CSV per public table (``public_groups.csv``, ``public_comparisons.csv``, ...) into ``out_dir``
    (created if needed) and return the paths. Text cells that begin with ``= + - @``, tab or carriage return
    get a leading ``'`` against formula injection; numbers are written as numbers."""
    public = suppress(result, k)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in public.all_tables().items():
        path = out / f"public_{name}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([neutralise_cell(str(c)) for c in frame.columns])
            for row in frame.itertuples(index=False):
                writer.writerow(["" if _missing(v) else neutralise_cell(v if isinstance(v, str) else _scalar(v))
                                 for v in row])
        paths.append(path)
    return paths


def _scalar(value: Any) -> Any:
    return value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value
