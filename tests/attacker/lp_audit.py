"""An attacker's disclosure audit of a published folder, written apart from the code that chose what to withhold.

It reads only the published files (``public.json`` and any ``public_*.csv`` table not in it; in
``FOLDER/public/`` when that exists, else ``FOLDER/``) and asks, for every count the folder withholds, which
values the published numbers still allow. The model is a linear program over the people behind the report:

* **cells**: every combination of the protected attributes' published groups (an intersection ``a × b`` and
  its group ``x × y`` are sums of cells, so intersections and marginals constrain each other);
* **blocks**: per cell and outcome state (0, 1, missing), how people split over one decision structure:
  score intervals between every published cut-off (threshold views, the sweep; so adjacent cut-offs can be
  differenced), tiers (tier rates, cumulative tiers and the adverse/favourable views), a binary decision view,
  calibration bins, a scoring (above-median) split, a checked split, an amount's "has a value" split. Every
  block has the same cell × outcome totals, so all views describe the same people.

Every published count, sum, denominator, and every count implied by a published rate (or share) times its
denominator is a linear equality. Rates that are not published directly but follow from published ones (a
comparison's ratio or difference to a published reference, an impact ratio against the withheld highest
group, a spread's min/max) are derived first. The "< k" and "withheld" labels are not used as constraints.

The protection rule is stated once, in :data:`RULE` (see :class:`Rule`): every unpublished count below k
(a cell shown "< k"; the complement denominator - numerator of a rate row whose numerator or denominator is
not published, and the rest of a withheld calibration rate, when they can be below k) keeps a feasible range
at least 1 wide. Cells shown "withheld" are >= k by their label and are not protected themselves. A count
pinned to 0 whose column is 0 for every group of its attribute in its view (the published numbers pin the
whole column to 0) is a fact of the view and exempt. :func:`audit_folder` returns the counts that break the
rule, as :class:`Violation` rows.

Solving is batched: one LP minimises the sum of all protected counts; then LPs alternately push every count
still unproven at least ``width`` above its lowest value seen (maximising the sum of min(count, low + width))
and at least ``width`` below its highest; a count seen at two values ``width`` apart is proven. Only counts
left over get their own two LPs, which give their exact range.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from audit.metrics import METRICS, MISSING, NEG, POS, Kind, state
from audit.spec import INTERSECTION_JOIN

Expr = dict[int, float]
WITHHELD = "withheld"          # any non-numeric text in a count column
_TOL = 1e-6


@dataclass(frozen=True)
class Rule:
    """The protection rule: a protected count's feasible range must be at least ``width`` wide (hi - lo).

    Protected: every cell shown "< k" (``always``); a derived unpublished count (a complement) only when its
    range reaches below k. Exempt: a count whose range is [0, 0] while its whole column (every group of its
    attribute in its view) is pinned to 0 too.
    """

    width: float = 1.0
    text: str = ("no unpublished count below k can be worked out from all published numbers together: "
                 "each keeps a range of possible values at least 1 wide")

    def breaks(self, low: float, high: float, k: float, always: bool, tol: float) -> bool:
        """True when a count with exact range [low, high] is protected and narrower than ``width``."""
        protected = always or low < k - tol
        return protected and high - low < self.width - tol


RULE = Rule()


@dataclass(frozen=True)
class Violation:
    """A protected count whose feasible range breaks :data:`RULE` (narrower than its width)."""

    table: str
    row: tuple[tuple[str, Any], ...]
    column: str
    low: float
    high: float
    k: float

    def __str__(self) -> str:
        ident = ", ".join(f"{k}={v}" for k, v in self.row)
        return f"{self.table}[{ident}].{self.column} in [{self.low:.4g}, {self.high:.4g}] (k = {self.k:g})"


@dataclass(frozen=True)
class _Target:
    """A protected count: where it is published, its expression, whether it is shown "< k" (``always``),
    and ``whole``, the same column over every group of its attribute (None when there is no such column)."""

    table: str
    ident: tuple[tuple[str, Any], ...]
    column: str
    expr: Expr
    always: bool
    whole: Expr | None = None


@dataclass
class AuditReport:
    """What :func:`audit_folder` found: violations, how many withheld counts it checked, and what it skipped."""

    folder: Path
    checked: int
    violations: list[Violation]
    skipped: list[str] = field(default_factory=list)
    lps: int = 0
    unexamined: int = 0
    exempt: int = 0


class ModelError(AssertionError):
    """The published numbers contradict the attacker's model (its assumptions about a table are wrong)."""


# ----------------------------------------------------------------------------------------------- reading

def public_dir(folder: str | Path) -> Path:
    """``FOLDER/public`` when it holds ``public.json``, else ``FOLDER``."""
    folder = Path(folder)
    return folder / "public" if (folder / "public" / "public.json").exists() else folder


def read_tables(folder: str | Path) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """``public.json`` and every table in it or in a ``public_<name>.csv`` beside it (CSV cells as text)."""
    where = public_dir(folder)
    doc = json.loads((where / "public.json").read_text(encoding="utf-8"))
    tables = {k: v for k, v in doc.items() if isinstance(v, list) and v and isinstance(v[0], dict)}
    for path in sorted(where.glob("public_*.csv")):
        name = path.stem[len("public_"):]
        if name not in tables:
            with path.open(encoding="utf-8", newline="") as handle:
                tables[name] = list(csv.DictReader(handle))
    return doc, tables


def num(value: Any) -> float | str | None:
    """A published cell: a float, :data:`WITHHELD` for text such as "< 10", or None when empty."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return None if math.isnan(value) else float(value)
    text = str(value).strip()
    if not text or text.lower() in ("nan", "none", "null"):
        return None
    try:
        out = float(text.replace(",", ""))
    except ValueError:
        return WITHHELD
    return None if math.isnan(out) else out


def _is_withheld(value: Any) -> bool:
    return num(value) == WITHHELD


def _is_below_k(value: Any) -> bool:
    """A cell shown as "< k" (or any text starting with "<"): a count below k, protected by the rule."""
    return num(value) == WITHHELD and str(value).strip().startswith("<")


def _number(value: Any) -> float | None:
    v = num(value)
    return v if isinstance(v, float) else None


# ----------------------------------------------------------------------------------------------- the LP

class _LP:
    """Variables >= 0 (optional upper bounds) and two-sided linear rows lo <= a.x <= hi."""

    def __init__(self) -> None:
        self.n = 0
        self.upper: list[float] = []
        self.rows: list[tuple[Expr, float, float]] = []
        self.tags: list[str] = []
        self.tag = ""
        self._seen: set[tuple] = set()

    def new(self, count: int, upper: float = math.inf) -> int:
        start = self.n
        self.n += count
        self.upper.extend([upper] * count)
        return start

    def fix(self, expr: Expr, value: float, tol: float = 0.0) -> None:
        """expr = value (within ``tol``); a row already there is not added twice."""
        if expr:
            self.band(expr, value - tol, value + tol)
        elif abs(value) > tol + _TOL:
            raise ModelError(f"{self.tag}: a published number {value} is a sum over no one")

    def band(self, expr: Expr, low: float, high: float) -> None:
        """low <= expr <= high."""
        if not expr:
            return
        key = (tuple(sorted(expr.items())), low, high)
        if key not in self._seen:
            self._seen.add(key)
            self.rows.append((expr, low, high))
            self.tags.append(self.tag)


def _plus(*parts: tuple[float, Expr]) -> Expr:
    out: Expr = defaultdict(float)
    for scale, expr in parts:
        for i, c in expr.items():
            out[i] += scale * c
    return {i: c for i, c in out.items() if c != 0.0}


@dataclass
class _Block:
    """x[cell, category, y] for one decision structure; ``dmap`` maps a view to each category's decision."""

    name: str
    categories: list[str]
    base: int
    cells: int
    ys: int
    dmap: dict[str, list[int]] = field(default_factory=dict)

    def var(self, c: int, k: int, y: int) -> int:
        return self.base + (c * len(self.categories) + k) * self.ys + y


class _Population:
    """Cells over the protected attributes' groups and blocks of decision structures linked by cell x outcome.

    ``families`` partitions the attributes: cells are joint over the attributes of one family (attributes
    in a common intersection must share one); families are linked by every block's totals per category and
    outcome. One family (``joint``) is the strongest attacker; one per unrelated attribute is much faster.
    """

    def __init__(self, lp: _LP, values: dict[str, list[str]], outcome: bool, families: list[list[str]]) -> None:
        self.lp, self.values = lp, values
        self.families = families or [[]]
        self.cells: list[tuple[int, tuple[str, ...]]] = []
        self.family_cells: list[list[int]] = []
        for f, attrs in enumerate(self.families):
            start = len(self.cells)
            self.cells += [(f, cell) for cell in itertools.product(*(values[a] for a in attrs))]
            self.family_cells.append(list(range(start, len(self.cells))))
        self.ys = (NEG, POS, MISSING) if outcome else (MISSING,)
        self.blocks: dict[str, _Block] = {}
        self.views: dict[str, _Block] = {}
        self._cell_cache: dict[tuple[str, str], list[int] | None] = {}
        self._aggregates: dict[tuple, int] = {}

    def everyone(self) -> list[int]:
        """The cells of the first family: every person once."""
        return self.family_cells[0]

    def block(self, name: str, categories: list[str]) -> _Block:
        if name in self.blocks:
            return self.blocks[name]
        b = _Block(name, categories, self.lp.new(len(self.cells) * len(categories) * len(self.ys)),
                   len(self.cells), len(self.ys))
        self.blocks[name] = b
        if len(self.blocks) > 1:
            first = next(iter(self.blocks.values()))
            for c in range(len(self.cells)):
                for yi in range(len(self.ys)):
                    self.lp.fix(_plus((1.0, self._margin(first, c, yi)), (-1.0, self._margin(b, c, yi))), 0.0)
        for cells in self.family_cells[1:]:
            for k in range(len(categories)):
                for y in self.ys:
                    self.lp.fix(_plus((1.0, self.expr(b, cells, [k], [y])),
                                      (-1.0, self.expr(b, self.everyone(), [k], [y]))), 0.0)
        return b

    @staticmethod
    def _margin(b: _Block, c: int, yi: int) -> Expr:
        return {b.var(c, k, yi): 1.0 for k in range(len(b.categories))}

    def cells_of(self, attribute: str, group: str) -> list[int] | None:
        """Indices of the cells in ``group`` of ``attribute`` (an intersection too); None when unknown."""
        key = (attribute, group)
        if key not in self._cell_cache:
            columns = attribute.split(INTERSECTION_JOIN)
            parts = group.split(INTERSECTION_JOIN) if len(columns) > 1 else [group]
            out: list[int] | None = None
            f = self._family(columns)
            if len(parts) == len(columns) and f is not None:
                where = [self.families[f].index(c) for c in columns]
                out = [i for i in self.family_cells[f]
                       if all(self.cells[i][1][w] == p for w, p in zip(where, parts))]
            self._cell_cache[key] = out
        return self._cell_cache[key]

    def _family(self, columns: list[str]) -> int | None:
        for f, attrs in enumerate(self.families):
            if all(c in attrs for c in columns):
                return f
        return None

    def all_cells(self, attribute: str) -> list[int] | None:
        """Every cell of the family of ``attribute`` (everyone, counted once), or None when not protected."""
        f = self._family(attribute.split(INTERSECTION_JOIN))
        return None if f is None else self.family_cells[f]

    def expr(self, b: _Block, cells: Iterable[int], categories: Iterable[int], ys: Iterable[int]) -> Expr:
        """The count of ``categories`` x outcomes ``ys`` over ``cells`` of block ``b``, as group-level variables."""
        yi = [self.ys.index(y) for y in ys if y in self.ys]
        cells = tuple(cells)
        return {self._aggregate(b, cells, k, y): 1.0 for k in categories for y in yi} if cells else {}

    def _aggregate(self, b: _Block, cells: tuple[int, ...], k: int, y: int) -> int:
        """One variable equal to a sum over cells, so that published rows stay sparse (HiGHS is fast on them)."""
        if len(cells) == 1:
            return b.var(cells[0], k, y)
        key = (b.name, cells, k, y)
        if key not in self._aggregates:
            v = self.lp.new(1)
            self.lp.fix({**{b.var(c, k, y): 1.0 for c in cells}, v: -1.0}, 0.0)
            self._aggregates[key] = v
        return self._aggregates[key]

    def states(self, view: str, cells: Iterable[int], states: Iterable[int]) -> Expr | None:
        """The count of ``states`` (y * 3 + d) of the cells in ``view``; None when the view is not modelled."""
        b = self.views.get(view)
        if b is None:
            return None
        dmap = b.dmap[view]
        cells = list(cells)
        out: Expr = {}
        for s in states:
            y, d = divmod(s, 3)
            out.update(self.expr(b, cells, [k for k, dk in enumerate(dmap) if dk == d], [y]))
        return out


# ----------------------------------------------------------------------------------------------- the builder

_RATE_TABLES = ("groups", "sweep_groups")
_TIERS_VIEWS = {"tiers", "adverse tiers", "favourable tiers"}


class _Builder:
    """Turns the published tables into LP rows and withheld-count targets."""

    def __init__(self, doc: dict[str, Any], tables: dict[str, list[dict[str, Any]]], *, joint: bool) -> None:
        self.doc, self.tables = doc, tables
        self.spec = doc.get("spec") or {}
        self.k = float(doc.get("small_cell_k") or 10)
        self.weighted = bool(self.spec.get("weights") or self.spec.get("weight")
                             or (self.spec.get("data") or {}).get("weight"))
        self.lp = _LP()
        self.targets: list[_Target] = []
        self.skipped: list[str] = []
        labels = doc.get("labels") or {}
        self.has_outcome = bool(self.spec.get("outcome")) or bool(labels.get("outcome"))
        values = self._attribute_values()
        self.pop = _Population(self.lp, values, self.has_outcome, self._families(values, joint))
        self.rates: dict[tuple[str, str, str, str], float] = {}

    # -- structure -------------------------------------------------------------------------------------

    def _attribute_values(self) -> dict[str, list[str]]:
        protected = [p["column"] if isinstance(p, dict) else str(p) for p in self.spec.get("protected") or []]
        values: dict[str, list[str]] = {a: [] for a in protected}
        for name, rows in self.tables.items():
            for row in rows:
                attribute, group = row.get("attribute"), row.get("group")
                if not isinstance(attribute, str) or group is None:
                    continue
                columns = attribute.split(INTERSECTION_JOIN)
                parts = str(group).split(INTERSECTION_JOIN) if len(columns) > 1 else [str(group)]
                if len(parts) != len(columns) or not all(c in values for c in columns):
                    continue
                for c, p in zip(columns, parts):
                    if p not in values[c]:
                        values[c].append(p)
                ref = row.get("reference")
                if len(columns) == 1 and isinstance(ref, str) and name in ("comparisons", "tests", "verdicts") \
                        and ref not in values[attribute] and ref in {str(r.get("group")) for r in rows}:
                    values[attribute].append(ref)
        return {a: v for a, v in values.items() if v}

    def _families(self, values: dict[str, list[str]], joint: bool) -> list[list[str]]:
        """Attributes that share cells: all of them (``joint``), else those joined by an intersection."""
        attrs = list(values)
        if joint:
            return [attrs]
        family = {a: {a} for a in attrs}
        named = [str(r.get("attribute")) for rows in self.tables.values() for r in rows if r.get("attribute")]
        for spec in self.spec.get("intersections") or []:
            named.append(INTERSECTION_JOIN.join(spec.get("columns") or []) if isinstance(spec, dict) else str(spec))
        for name in named:
            columns = [c for c in name.split(INTERSECTION_JOIN) if c in family]
            if len(columns) > 1:
                merged = set().union(*(family[c] for c in columns))
                for c in merged:
                    family[c] = merged
        out: list[list[str]] = []
        for a in attrs:
            if not any(a in f for f in out):
                out.append([b for b in attrs if b in family[a]])
        return out

    def _cutoffs(self) -> dict[str, float]:
        """Score views and their cut-offs: the thresholds table and the sweep (``score ≥ t``)."""
        out: dict[str, float] = {}
        for row in self.tables.get("thresholds", []):
            cut = _number(row.get("cutoff"))
            if cut is not None:
                out[str(row["view"])] = cut
        for row in self.tables.get("sweep_groups", []):
            cut = _number(row.get("threshold"))
            if cut is not None:
                out.setdefault(str(row["view"]), cut)
        return out

    def _build_blocks(self) -> None:
        views = {str(r["view"]) for t in _RATE_TABLES for r in self.tables.get(t, []) if r.get("view") is not None}
        views |= {str(r["view"]) for r in self.tables.get("capacity", []) if r.get("view") is not None}
        cutoffs = self._cutoffs()
        self.score_block: _Block | None = None
        if self.spec.get("score") or cutoffs:
            cuts = sorted(set(cutoffs.values()))
            cats = [f"< {cuts[0]:g}" if cuts else "all"] + [f"[{a:g}, {b:g})" for a, b in zip(cuts, cuts[1:])]
            cats += [f">= {cuts[-1]:g}"] if cuts else []
            cats.append("no score")
            b = self.score_block = self.pop.block("score", cats)
            for view, cut in cutoffs.items():
                j = cuts.index(cut)
                b.dmap[view] = [NEG if k <= j else POS for k in range(len(cuts) + 1)] + [MISSING]
                self.pop.views[view] = b
        decision = self.spec.get("decision") or {}
        tiers_spec = decision.get("tiers") if isinstance(decision, dict) else None
        self.tier_block: _Block | None = None
        if tiers_spec:
            kinds = dict(tiers_spec.get("values") or {})
            self.tiers = list(kinds)
            b = self.tier_block = self.pop.block("tiers", self.tiers + ["no tier"])
            for view, kind in (("adverse tiers", "adverse"), ("favourable tiers", "favourable")):
                b.dmap[view] = [POS if kinds[t] == kind else NEG for t in self.tiers] + [MISSING]
                self.pop.views[view] = b
            b.dmap["tiers"] = [NEG] * len(self.tiers) + [MISSING]
            self.pop.views["tiers"] = b
        for view in sorted(views):
            if view in self.pop.views or view in ("score", "labels") or view.startswith("amount:"):
                continue
            b = self.pop.block(f"view {view}", ["negative", "positive", "no decision"])
            b.dmap[view] = [NEG, POS, MISSING]
            self.pop.views[view] = b
        if not self.pop.blocks:
            self.pop.block("everyone", ["all"])

    def _side_block(self, name: str, categories: list[str]) -> _Block:
        return self.pop.block(name, categories)

    # -- targets and numbers ---------------------------------------------------------------------------

    def target(self, table: str, row: dict[str, Any], keys: tuple[str, ...], column: str, expr: Expr | None,
               *, always: bool, whole: Expr | None = None) -> None:
        """A protected count: ``always`` for a cell shown "< k", else only when it can be below k."""
        ident = tuple((k, row.get(k)) for k in keys if k in row)
        if expr is None:
            self.skipped.append(f"{table} {dict(ident)} {column}: not modelled")
            return
        self.targets.append(_Target(table, ident, column, expr, always, whole))

    def count(self, table: str, row: dict[str, Any], keys: tuple[str, ...], column: str, expr: Expr | None,
              *, rounded: bool = False, whole: Expr | None = None) -> None:
        """A published count (a number, fixed; "< k", a target; other text such as "withheld", nothing).

        ``whole`` is the same column over every group of the row's attribute (for the all-zero exemption).
        """
        value = num(row.get(column))
        if value is None:
            return
        self.lp.tag = f"{table} {[row.get(k) for k in keys]} {column}"
        if value == WITHHELD:
            if _is_below_k(row.get(column)):
                self.target(table, row, keys, column, expr, always=True, whole=whole)
        elif expr is not None:
            if rounded or self.weighted and column in ("n", "reference_n", "rows", "population"):
                self.lp.band(expr, value - 1.0 + _TOL, value + 1.0 - _TOL)
            else:
                self.lp.fix(expr, float(value))

    def rate(self, numerator: Expr | None, denominator: Expr | None, value: float) -> None:
        """numerator = value x denominator (a published or derived rate of published-or-not counts)."""
        if numerator is None or denominator is None:
            return
        self.lp.fix(_plus((1.0, numerator), (-value, denominator)), 0.0)

    # -- metric rows -----------------------------------------------------------------------------------

    def metric_exprs(self, view: str, attribute: str, group: str | None, metric: str) -> tuple[Expr | None, Expr | None]:
        """(numerator, denominator) of a metric of a group as counts, or (None, None) when not modelled.

        ``group`` None: the same over every group of ``attribute`` (its whole column).
        """
        pop = self.pop
        cells = pop.cells_of(attribute, group) if group is not None else pop.all_cells(attribute)
        if cells is None:
            return None, None
        family, _, arg = metric.partition(":")
        if metric in METRICS:
            m = METRICS[metric]
            if m.kind is Kind.PROPORTION:
                return pop.states(view, cells, m.numerator), pop.states(view, cells, m.denominator)
            if m.kind is Kind.COUNT:
                return pop.states(view, cells, range(9)), None
            if m.kind is Kind.SHARE:
                everyone = pop.all_cells(attribute)
                return pop.states(view, cells, range(9)), pop.states(view, everyone or [], range(9))
            known = [state(y, d) for y in (NEG, POS) for d in (NEG, POS)]
            return None, pop.states(view, cells, known)        # balanced accuracy, F1: n is the 2 x 2 table
        if family in ("tier_rate", "tier_at_least") and self.tier_block is not None and arg in self.tiers:
            b, i = self.tier_block, self.tiers.index(arg)
            chosen = [i] if family == "tier_rate" else list(range(i, len(self.tiers)))
            return (pop.expr(b, cells, chosen, pop.ys), pop.expr(b, cells, range(len(self.tiers)), pop.ys))
        if metric == "scoring_rate":
            b = self._scoring()
            return pop.expr(b, cells, [0], pop.ys), pop.expr(b, cells, [0, 1], pop.ys)
        if metric == "check_rate":
            b = self._side_block("checked", ["checked", "not checked"])
            return pop.expr(b, cells, [0], pop.ys), pop.expr(b, cells, [0, 1], pop.ys)
        return None, None

    def n_expr(self, view: str, attribute: str, group: str | None, metric: str) -> Expr | None:
        """The count in a metric row's ``n`` column (``group`` None: over every group of ``attribute``)."""
        pop = self.pop
        cells = pop.cells_of(attribute, group) if group is not None else pop.all_cells(attribute)
        if cells is None:
            return None
        if view.startswith("amount:"):
            b = self._side_block(view, ["value", "no value"])
            return pop.expr(b, cells, [0], pop.ys)
        if metric in ("auc", "brier", "ece", "calibration_in_the_large") and self.score_block is not None:
            b = self.score_block
            return pop.expr(b, cells, range(len(b.categories) - 1), (NEG, POS))
        numerator, denominator = self.metric_exprs(view, attribute, group, metric)
        return denominator if denominator is not None else numerator

    def _scoring(self) -> _Block:
        new = "scoring" not in self.pop.blocks
        b = self._side_block("scoring", ["above median", "not above", "no score"])
        if new and self.score_block is not None:
            s = self.score_block
            for c in range(len(self.pop.cells)):
                for y in self.pop.ys:
                    self.lp.fix(_plus((1.0, self.pop.expr(b, [c], [2], [y])),
                                      (-1.0, self.pop.expr(s, [c], [len(s.categories) - 1], [y]))), 0.0)
        return b

    def metric_rows(self) -> None:
        for table in _RATE_TABLES:
            keys = ("threshold", "view", "attribute", "group", "metric")
            for row in self.tables.get(table, []):
                view, attribute, group, metric = (str(row.get(c)) for c in ("view", "attribute", "group", "metric"))
                numerator, denominator = self.metric_exprs(view, attribute, group, metric)
                all_num, all_den = self.metric_exprs(view, attribute, None, metric)
                is_amount = view.startswith("amount:")
                if not is_amount:
                    self.count(table, row, keys, "numerator", numerator, whole=all_num)
                    self.count(table, row, keys, "denominator", denominator, whole=all_den)
                    unpublished = _is_withheld(row.get("numerator")) or _is_withheld(row.get("denominator"))
                    if unpublished and numerator is not None and denominator is not None:
                        whole = None if all_num is None or all_den is None else _plus((1.0, all_den), (-1.0, all_num))
                        self.target(table, row, keys, "denominator - numerator",
                                    _plus((1.0, denominator), (-1.0, numerator)), always=False, whole=whole)
                    if metric == "count":
                        self.count(table, row, keys, "value", numerator, whole=all_num)
                self.count(table, row, keys, "n", self.n_expr(view, attribute, group, metric),
                           whole=self.n_expr(view, attribute, None, metric))
                value = _number(row.get("value"))
                if value is not None:                  # amounts too: derive_rates finds them
                    self.rates[(view, attribute, group, metric)] = value

    # -- derived rates ---------------------------------------------------------------------------------

    def derive_rates(self) -> None:
        """Rates the published ratios, differences, impact ratios and spreads imply; then rate x denominator."""
        relations: list[tuple[tuple, tuple, str, float]] = []
        impact: dict[tuple[str, str, str], list[tuple[str, float]]] = defaultdict(list)
        for table in ("comparisons", "sweep_comparisons"):
            for row in self.tables.get(table, []):
                view, attribute, metric = str(row.get("view")), str(row.get("attribute")), str(row.get("metric"))
                g, ref = str(row.get("group")), str(row.get("reference"))
                a, b = (view, attribute, g, metric), (view, attribute, ref, metric)
                for key, col in ((a, "value"), (b, "reference_value")):
                    v = _number(row.get(col))
                    if v is not None:
                        self.rates[key] = v
                for col, kind in (("ratio", "ratio"), ("difference", "difference")):
                    v = _number(row.get(col))
                    if v is not None:
                        relations.append((a, b, kind, v))
                ir = _number(row.get("impact_ratio"))
                if ir is not None:
                    impact[(view, attribute, metric)].append((g, ir))
                if metric in METRICS or metric.startswith(("tier_", "scoring_rate", "check_rate")):
                    keys = ("threshold", "view", "attribute", "group", "reference", "metric")
                    whole = self.n_expr(view, attribute, None, metric)
                    self.count(table, row, keys, "n", self.n_expr(view, attribute, g, metric), whole=whole)
                    self.count(table, row, keys, "reference_n", self.n_expr(view, attribute, ref, metric),
                               whole=whole)
        for row in self.tables.get("verdicts", []):
            view, attribute, metric = str(row.get("view")), str(row.get("attribute")), str(row.get("metric"))
            a = (view, attribute, str(row.get("group")), metric)
            b = (view, attribute, str(row.get("reference")), metric)
            est, bound = _number(row.get("estimate")), row.get("bound")
            if est is not None and bound in ("ratio", "difference"):
                relations.append((a, b, str(bound), est))
        for row in self.tables.get("spread", []):
            key = (str(row.get("view")), str(row.get("attribute")))
            for g, v in (("min_group", "min"), ("max_group", "max")):
                value = _number(row.get(v))
                if value is not None and row.get(g) is not None:
                    self.rates[key + (str(row[g]), str(row.get("metric")))] = value
        groups_of: dict[tuple[str, str, str], set[str]] = defaultdict(set)
        for table in _RATE_TABLES + ("comparisons", "sweep_comparisons"):
            for row in self.tables.get(table, []):
                groups_of[(str(row.get("view")), str(row.get("attribute")), str(row.get("metric")))].add(
                    str(row.get("group")))
        for _ in range(6):
            before = len(self.rates)
            for a, b, kind, v in relations:
                ra, rb = self.rates.get(a), self.rates.get(b)
                if kind == "ratio":
                    if ra is None and rb is not None:
                        self.rates[a] = rb * v
                    elif rb is None and ra is not None and v != 0:
                        self.rates[b] = ra / v
                else:
                    if ra is None and rb is not None:
                        self.rates[a] = rb + v
                    elif rb is None and ra is not None:
                        self.rates[b] = ra - v
            for (view, attribute, metric), pairs in impact.items():
                tops = [self.rates[(view, attribute, g, metric)] / ir for g, ir in pairs
                        if ir > 0 and (view, attribute, g, metric) in self.rates]
                if not tops:
                    continue
                top = max(tops)
                for g, ir in pairs:
                    if (view, attribute, g, metric) not in self.rates:
                        self.rates[(view, attribute, g, metric)] = ir * top
                unknown = [g for g in groups_of[(view, attribute, metric)]
                           if (view, attribute, g, metric) not in self.rates]
                known = [self.rates[(view, attribute, g, metric)] for g in groups_of[(view, attribute, metric)]
                         if (view, attribute, g, metric) in self.rates]
                if len(unknown) == 1 and all(r < top - 1e-9 for r in known):
                    self.rates[(view, attribute, unknown[0], metric)] = top
            if len(self.rates) == before:
                break
        for (view, attribute, group, metric), value in self.rates.items():
            if metric == "share":
                numerator, denominator = self.metric_exprs(view, attribute, group, metric)
            else:
                numerator, denominator = self.metric_exprs(view, attribute, group, metric)
            if numerator is not None and denominator is not None:
                self.rate(numerator, denominator, value)

    # -- other tables ----------------------------------------------------------------------------------

    def capacity(self) -> None:
        pop = self.pop
        keys = ("view", "attribute", "group")
        parts = {"acted_on": [state(y, POS) for y in range(3)],
                 "population": [state(y, d) for y in range(3) for d in (NEG, POS)],
                 "positives": [state(POS, d) for d in (NEG, POS)]}
        shares = {"acted_on": "share_of_acted", "population": "share_of_population", "positives": "share_of_positives"}
        for row in self.tables.get("capacity", []):
            view, attribute = str(row.get("view")), str(row.get("attribute"))
            cells, everyone = pop.cells_of(attribute, str(row.get("group"))), pop.all_cells(attribute)
            for column, states in parts.items():
                expr = pop.states(view, cells, states) if cells is not None else None
                whole = pop.states(view, everyone, states) if everyone is not None else None
                self.count("capacity", row, keys, column, expr, whole=whole)
                share = _number(row.get(shares[column]))
                if share is not None and expr is not None and everyone is not None:
                    self.rate(expr, pop.states(view, everyone, states), share)

    def scores(self) -> None:
        b, pop = self.score_block, self.pop
        if b is None:
            return
        scored = range(len(b.categories) - 1)
        for row in self.tables.get("auc", []):
            cells = pop.cells_of(str(row.get("attribute")), str(row.get("group")))
            everyone = pop.all_cells(str(row.get("attribute")))
            for column, y in (("positives", POS), ("negatives", NEG)):
                self.count("auc", row, ("attribute", "group"), column,
                           None if cells is None else pop.expr(b, cells, scored, [y]),
                           whole=None if everyone is None else pop.expr(b, everyone, scored, [y]))
        for row in self.tables.get("tests", []):
            test, attribute = str(row.get("test")), str(row.get("attribute"))
            keys = ("view", "attribute", "test", "group", "reference")
            cells = pop.cells_of(attribute, str(row.get("group")))
            if test.startswith("Kolmogorov") and cells is not None:
                self.count("tests", row, keys, "n", pop.expr(b, cells, scored, pop.ys))
        for row in self.tables.get("thresholds", []):
            view = str(row.get("view"))
            everyone = pop.everyone()
            self.count("thresholds", row, ("view",), "acted_on", pop.states(view, everyone, [state(y, POS) for y in range(3)]))
            self.count("thresholds", row, ("view",), "population", pop.states(view, everyone, range(9)))

    def tier_tests(self) -> None:
        b, pop = self.tier_block, self.pop
        if b is None:
            return
        for row in self.tables.get("tests", []):
            if not str(row.get("test")).startswith("Mann"):
                continue
            attribute = str(row.get("attribute"))
            g, r = pop.cells_of(attribute, str(row.get("group"))), pop.cells_of(attribute, str(row.get("reference")))
            if g is not None and r is not None:
                self.count("tests", row, ("view", "attribute", "test", "group", "reference"), "n",
                           pop.expr(b, g + r, range(len(self.tiers)), pop.ys))

    def calibration(self) -> None:
        rows = self.tables.get("calibration", [])
        if not rows or self.score_block is None:
            return
        pop, s = self.pop, self.score_block
        widths = [_number(r.get("bin_high")) - _number(r.get("bin_low")) for r in rows
                  if _number(r.get("bin_high")) is not None and _number(r.get("bin_low")) is not None]
        n_bins = max(int(round(1.0 / min(widths))) if widths else 0, 1 + max(int(_number(r["bin"])) for r in rows))
        b = self._side_block("calibration", [f"bin {i}" for i in range(n_bins)] + ["out"])
        for c in range(len(pop.cells)):
            if MISSING in pop.ys:
                for k in range(n_bins):
                    self.lp.fix(pop.expr(b, [c], [k], [MISSING]), 0.0)
            for y in (NEG, POS):
                if y in pop.ys:
                    self.lp.fix(_plus((1.0, pop.expr(b, [c], [n_bins], [y])),
                                      (-1.0, pop.expr(s, [c], [len(s.categories) - 1], [y]))), 0.0)
        keys = ("attribute", "group", "bin")
        seen: dict[tuple[str, str], set[int]] = defaultdict(set)
        for row in rows:
            attribute, group, k = str(row.get("attribute")), str(row.get("group")), int(_number(row["bin"]))
            seen[(attribute, group)].add(k)
            cells = pop.cells_of(attribute, group)
            if cells is None:
                continue
            everyone = pop.all_cells(attribute) or []
            n = pop.expr(b, cells, [k], (NEG, POS))
            positives = pop.expr(b, cells, [k], [POS])
            self.count("calibration", row, keys, "n", n, whole=pop.expr(b, everyone, [k], (NEG, POS)))
            rate = num(row.get("observed_rate"))
            if isinstance(rate, float):
                self.rate(positives, n, rate)
            elif isinstance(num(row.get("n")), float):   # a withheld rate of a published n: both parts protected
                for column, y in (("positives (observed_rate x n)", POS), ("n - positives", NEG)):
                    self.target("calibration", row, keys, column, pop.expr(b, cells, [k], [y]), always=False,
                                whole=pop.expr(b, everyone, [k], [y]))
        if any(_is_withheld(r.get("n")) for r in rows):   # withheld bins are listed: an absent bin is empty
            for (attribute, group), bins in seen.items():
                cells = pop.cells_of(attribute, group)
                for k in set(range(n_bins)) - bins:
                    if cells is not None:
                        self.lp.fix(pop.expr(b, cells, [k], (NEG, POS)), 0.0)

    def flips(self) -> None:
        pop = self.pop
        keys = ("attribute", "group", "set_to")
        free_groups: dict[str, dict[str, int]] = defaultdict(dict)
        for row in self.tables.get("flips", []):
            attribute, group = str(row.get("attribute")), str(row.get("group"))
            cells = pop.cells_of(attribute, group)
            if cells is not None:
                size = pop.states(next(iter(pop.views)), cells, range(9)) if pop.views else None
            else:
                if group not in free_groups[attribute]:
                    free_groups[attribute][group] = self.lp.new(1)
                size = {free_groups[attribute][group]: 1.0}
            self.count("flips", row, keys, "rows", size)
            start = self.lp.new(3)                        # to positive, to negative, no flip
            to_pos, to_neg, rest = {start: 1.0}, {start + 1: 1.0}, {start + 2: 1.0}
            flips = _plus((1.0, to_pos), (1.0, to_neg))
            if size is not None:
                self.lp.fix(_plus((1.0, flips), (1.0, rest), (-1.0, size)), 0.0)
            for column, expr, rate in (("flips", flips, "flip_rate"), ("to_positive", to_pos, "to_positive_rate"),
                                       ("to_negative", to_neg, "to_negative_rate")):
                self.count("flips", row, keys, column, expr)
                r = _number(row.get(rate))
                if r is not None and size is not None:
                    self.rate(expr, size, r)
        total = _number((self.doc.get("provenance") or {}).get("rows_used"))
        for groups in free_groups.values():
            if total is not None:
                self.lp.band({i: 1.0 for i in groups.values()}, 0.0, total + _TOL)

    def labels(self) -> None:
        labels = self.doc.get("labels") or {}
        prov = self.doc.get("provenance") or {}
        read, used = _number(prov.get("rows_read")), _number(prov.get("rows_used"))
        pop, everyone = self.pop, list(self.pop.everyone())
        if used is not None and not self.weighted and self.pop.blocks:
            first = next(iter(pop.blocks.values()))
            self.lp.fix(pop.expr(first, everyone, range(len(first.categories)), pop.ys), used)
        dropped = 0.0 if read is None or used is None or self.weighted else read - used
        for role in ("decision", "outcome"):
            spec = labels.get(role)
            if not isinstance(spec, dict):
                continue
            sides = self._label_sides(role, spec)
            if sides is None:
                self.skipped.append(f"labels.{role}: not modelled")
                continue
            positive = {str(x) for x in spec.get("positive") or []}
            negative = {str(x) for x in spec.get("negative") or []}
            totals: dict[str, Expr] = defaultdict(dict)
            for label, value in (spec.get("rows") or {}).items():
                var = {self.lp.new(1): 1.0}
                side = "tier:" + label if "tier:" + label in sides else \
                    "pos" if label in positive else "neg" if label in negative else None
                if side is None:
                    continue
                totals[side] = _plus((1.0, totals[side]), (1.0, var))
                self.count("labels", {"role": role, "label": label, "rows": value}, ("role", "label"), "rows", var)
            miss = {self.lp.new(1): 1.0}
            totals["missing"] = miss
            self.count("labels", {"role": role, "label": "(missing)", "rows": spec.get("missing_rows")},
                       ("role", "label"), "rows", miss)
            slack_all: Expr = {}
            for side, expr in totals.items():
                if side not in sides:
                    continue
                slack = {self.lp.new(1): 1.0}
                slack_all = _plus((1.0, slack_all), (1.0, slack))
                self.lp.fix(_plus((1.0, expr), (-1.0, sides[side]), (-1.0, slack)), 0.0)
            if dropped is not None and slack_all:
                self.lp.band(slack_all, 0.0, max(dropped, 0.0) + _TOL)

    def _label_sides(self, role: str, spec: dict[str, Any]) -> dict[str, Expr] | None:
        pop, everyone = self.pop, list(self.pop.everyone())
        if role == "outcome":
            b = next(iter(pop.blocks.values()))
            every = range(len(b.categories))
            return {"pos": pop.expr(b, everyone, every, [POS]), "neg": pop.expr(b, everyone, every, [NEG]),
                    "missing": pop.expr(b, everyone, every, [MISSING])}
        if self.tier_block is not None:
            b = self.tier_block
            out = {f"tier:{t}": pop.expr(b, everyone, [i], pop.ys) for i, t in enumerate(self.tiers)}
            out["missing"] = pop.expr(b, everyone, [len(self.tiers)], pop.ys)
            return out
        view = self._label_view(spec)
        if view is None:
            return None
        return {"pos": pop.states(view, everyone, [state(y, POS) for y in range(3)]),
                "neg": pop.states(view, everyone, [state(y, NEG) for y in range(3)]),
                "missing": pop.states(view, everyone, [state(y, MISSING) for y in range(3)])}

    def _label_view(self, spec: dict[str, Any]) -> str | None:
        binary = [v for v, b in self.pop.views.items() if b.name == f"view {v}"]
        if len(binary) == 1:
            return binary[0]
        if "decision" in self.pop.views:
            return "decision"
        found = re.search(r"[-+]?\d*\.?\d+(?:e[-+]?\d+)?", " ".join(map(str, spec.get("positive") or [])))
        cutoffs = self._cutoffs()
        if found and cutoffs:
            value = float(found.group())
            view, cut = min(cutoffs.items(), key=lambda kv: abs(kv[1] - value))
            if abs(cut - value) <= 1e-3 * max(1.0, abs(value)):
                return view
        return None

    def build(self) -> None:
        self._build_blocks()
        self.metric_rows()
        self.derive_rates()
        self.capacity()
        self.scores()
        self.tier_tests()
        self.calibration()
        self.flips()
        self.labels()


# ----------------------------------------------------------------------------------------------- solving

class _Solver:
    """The LP in scipy form, with batched bounds of many target expressions."""

    def __init__(self, lp: _LP, targets: list[Expr]) -> None:
        self.n = lp.n
        eq_r, eq_c, eq_v, eq_b, ub_r, ub_c, ub_v, ub_b = [], [], [], [], [], [], [], []
        for expr, lo, hi in lp.rows:
            cols, vals = list(expr), list(expr.values())
            if hi - lo <= 1e-12:
                i = len(eq_b)
                eq_r += [i] * len(cols); eq_c += cols; eq_v += vals; eq_b.append(lo)
            else:
                if math.isfinite(hi):
                    i = len(ub_b)
                    ub_r += [i] * len(cols); ub_c += cols; ub_v += vals; ub_b.append(hi)
                if math.isfinite(lo) and lo > -math.inf:
                    i = len(ub_b)
                    ub_r += [i] * len(cols); ub_c += cols; ub_v += [-v for v in vals]; ub_b.append(-lo)
        self.A_eq = sparse.csr_matrix((eq_v, (eq_r, eq_c)), shape=(len(eq_b), self.n))
        self.b_eq = np.array(eq_b)
        self.A_ub = sparse.csr_matrix((ub_v, (ub_r, ub_c)), shape=(len(ub_b), self.n))
        self.b_ub = np.array(ub_b)
        self.bounds = np.array([(0.0, u if math.isfinite(u) else None) for u in lp.upper], dtype=object)
        r = [i for i, e in enumerate(targets) for _ in e]
        c = [j for e in targets for j in e]
        v = [x for e in targets for x in e.values()]
        self.T = sparse.csr_matrix((v, (r, c)), shape=(len(targets), self.n))
        self.calls = 0

    def _solve(self, cost: np.ndarray, extra: tuple | None = None) -> np.ndarray | None:
        """argmin cost.x (None when unbounded); ``extra`` adds variables and rows (for the min(t, k) LP)."""
        self.calls += 1
        A_ub, b_ub, A_eq, bounds = self.A_ub, self.b_ub, self.A_eq, list(self.bounds)
        if extra is not None:
            block, rhs, more_bounds = extra
            m = block.shape[1] - self.n
            A_ub = sparse.vstack([sparse.hstack([A_ub, sparse.csr_matrix((A_ub.shape[0], m))]), block]).tocsr()
            A_eq = sparse.hstack([A_eq, sparse.csr_matrix((A_eq.shape[0], m))]).tocsr()
            b_ub = np.concatenate([b_ub, rhs])
            bounds = bounds + more_bounds
        res = linprog(cost, A_ub=A_ub if A_ub.shape[0] else None, b_ub=b_ub if A_ub.shape[0] else None,
                      A_eq=A_eq if A_eq.shape[0] else None, b_eq=self.b_eq if A_eq.shape[0] else None,
                      bounds=bounds, method="highs")
        if res.status == 3:
            return None
        if res.status != 0:
            raise ModelError(f"the attacker's LP failed ({res.message}): the published numbers contradict "
                             f"its model of the tables")
        return res.x[: self.n]

    def _push(self, todo: np.ndarray, bound: np.ndarray, up: bool) -> np.ndarray | None:
        """A point maximising sum min(t_i, bound_i) (``up``) or minimising sum max(t_i, bound_i), i in ``todo``."""
        t = self.T[todo]
        z = sparse.identity(todo.size, format="csr")
        if up:                                                     # z_i <= t_i, z_i <= bound_i, max sum z
            block, cost = sparse.hstack([-t, z]).tocsr(), -1.0
            more = [(None, float(v)) for v in bound]
        else:                                                      # z_i >= t_i, z_i >= bound_i, min sum z
            block, cost = sparse.hstack([t, -z]).tocsr(), 1.0
            more = [(float(v), None) for v in bound]
        objective = np.concatenate([np.zeros(self.n), np.full(todo.size, cost)])
        return self._solve(objective, (block, np.zeros(todo.size), more))

    def ranges(self, width: float, tol: float, floor: np.ndarray, limit: int | None = None,
               judge: Callable[[int, float, float], bool] = lambda i, lo, hi: True, settle: bool = True,
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(low, high, exact) per target: values seen at feasible points, exact where ``exact`` is True.

        A target seen at two values at least ``width`` apart is proven wide enough (its low and high are
        then only values seen). ``floor[i]``: target i is protected only when it can be below that (inf:
        always); a narrow target never seen below its floor gets a min LP (``settle``; else it is taken as
        unprotected without one). The others get their own min and max LPs (exact), except that after
        ``limit`` of them that ``judge(i, low, high)`` calls violations, the rest stay NaN (unexamined).
        """
        m = self.T.shape[0]
        exact = np.zeros(m, dtype=bool)
        x = self._solve(np.asarray(self.T.sum(axis=0)).ravel())
        low = high = self.T @ x

        def seen(point: np.ndarray | None) -> None:
            nonlocal low, high
            if point is not None:
                values = self.T @ point
                low, high = np.minimum(low, values), np.maximum(high, values)

        todo = np.arange(m)
        up = True
        stalled = 0
        while todo.size and stalled < 2:
            before = todo.size
            if up:
                bound = low[todo] + width
            else:                                  # push down; a count not yet seen below its floor, below it
                bound = np.where(low[todo] >= floor[todo], np.minimum(high[todo] - width, floor[todo] - width),
                                 high[todo] - width)
            seen(self._push(todo, bound, up))
            todo = todo[high[todo] - low[todo] < width - tol]
            stalled = stalled + 1 if todo.size == before else 0
            up = not up
        low, high = low.copy(), high.copy()
        found = 0
        for i in todo:
            if high[i] - low[i] >= width - tol:
                continue
            if limit is not None and found >= limit:
                low[i] = high[i] = np.nan
                continue
            row = self.T[i].toarray().ravel()
            if low[i] >= floor[i] and not settle:
                continue
            lo_x = self._solve(row)
            lo = float(row @ lo_x)
            if lo >= floor[i]:                     # never below its floor: not protected, its max is not needed
                seen(lo_x)
                low[i], exact[i] = lo, True
                continue
            hi_x = self._solve(-row)
            hi = math.inf if hi_x is None else float(row @ hi_x)
            seen(lo_x)
            seen(hi_x)
            low[i], high[i], exact[i] = lo, hi, True
            found += bool(hi - lo < width - tol and judge(i, lo, hi))
        return low, high, exact

    def upper(self, expr: Expr) -> float:
        """The largest value of ``expr`` (inf when unbounded)."""
        row = np.zeros(self.n)
        for j, c in expr.items():
            row[j] += c
        x = self._solve(-row)
        return math.inf if x is None else float(row @ x)


def audit_folder(folder: str | Path, *, limit: int | None = None, joint: bool = False,
                 tables: Iterable[str] | None = None, rule: Rule = RULE, settle: bool = True) -> AuditReport:
    """Every protected count of the published folder whose feasible range breaks ``rule``.

    ``limit`` stops looking after that many violations, for a quick pass/fail; counts left unexamined are
    counted in ``AuditReport.unexamined``. ``joint`` makes cells joint over every protected attribute (the
    strongest attacker; slow with many attributes); by default attributes share cells only when an
    intersection joins them, and are otherwise linked by totals. ``tables`` checks only the protected counts
    of those tables (every published number still constrains). ``settle=False`` (a quick check) takes a
    complement that the batched LPs never see below k as unprotected, without its own LP to prove it.

    Raises :class:`ModelError` when the published numbers are inconsistent with the attacker's model (a sign
    that a table's meaning changed; the message says which LP failed).
    """
    doc, published = read_tables(folder)
    builder = _Builder(doc, published, joint=joint)
    builder.build()
    targets = builder.targets
    if tables is not None:
        wanted = set(tables)
        targets = [t for t in targets if t.table in wanted]
    report = AuditReport(public_dir(folder), len(targets), [], builder.skipped)
    if not targets:
        return report
    unique: dict[tuple, int] = {}                  # one LP column per distinct count (n, value, numerator ...)
    for t in targets:
        unique.setdefault(tuple(sorted(t.expr.items())), len(unique))
    which = [unique[tuple(sorted(t.expr.items()))] for t in targets]
    solver = _Solver(builder.lp, [dict(key) for key in unique])
    k = builder.k
    tol = 1e-6 * max(1.0, k)
    wholes: dict[tuple, float] = {}
    users: dict[int, list[_Target]] = defaultdict(list)
    for t, i in zip(targets, which):
        users[i].append(t)

    def exempt(t: _Target, high: float) -> bool:
        """Pinned to 0 while the whole column (every group of its attribute, same view) is pinned to 0."""
        if high > tol or t.whole is None:
            return False
        key = tuple(sorted(t.whole.items()))
        if key not in wholes:
            wholes[key] = solver.upper(t.whole)
        return wholes[key] <= tol

    def breaks(t: _Target, lo: float, hi: float) -> bool:
        return rule.breaks(lo, hi, k, t.always, tol) and not exempt(t, hi)

    floor = np.array([math.inf if any(t.always for t in users[i]) else k - tol for i in range(len(unique))])
    low, high, _ = solver.ranges(rule.width, tol, floor, limit, settle=settle,
                                 judge=lambda i, lo, hi: any(breaks(t, lo, hi) for t in users[i]))
    report.unexamined = int(sum(np.isnan(low[i]) for i in which))
    for t, i in zip(targets, which):
        lo, hi = float(low[i]), float(high[i])
        if math.isnan(lo) or not rule.breaks(lo, hi, k, t.always, tol):
            continue
        if exempt(t, hi):
            report.exempt += 1                     # the whole column is 0: a fact of the view
            continue
        report.violations.append(Violation(t.table, t.ident, t.column, lo, hi, k))
    report.lps = solver.calls
    return report


def published_folders(root: str | Path) -> list[Path]:
    """Every folder under ``root`` holding a ``public.json`` (the folder itself when it has one)."""
    root = Path(root)
    found = {p.parent.parent if p.parent.name == "public" else p.parent for p in root.rglob("public.json")}
    return sorted(found)
