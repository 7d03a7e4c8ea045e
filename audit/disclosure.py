"""The disclosure audit of a public release: no withheld count below k can be narrowed by all published numbers
together.

Small-cell suppression (:mod:`audit.suppression`) reasons one sum or one group at a time. This module checks its
result as an attacker holding every published file would: each published count is registered as a linear
function of the *atoms*, the unknown numbers of people in each cell (one value of every protected attribute) ×
state of each view, with the links a reader knows (the same people in every view that counts them all, the
same outcome in every view, nested cut-offs of a score sweep, calibration bins, tiers, flip directions, label
counts, totals). Then, for every withheld count below ``k`` (and every complement ``denominator - numerator``
below ``k`` of a rate row), a linear program (HiGHS, :func:`scipy.optimize.linprog`) finds whether the
published counts allow it to be 0 and allow it to be ``k``:

    **The protection rule.** Every count below ``k`` that the release does not publish must be consistent
    with every published number, all tables together, both at 0 and at ``k`` or more. The labels ``"< k"``
    and ``"withheld"`` are not used as constraints (they are the ranges the release chose to say).

While a count breaks the rule, the smallest published count that shares people with it is withheld too
(:func:`enforce`), suppression runs again over the larger set (rules 3-5 included) and the audit is repeated:
the release fails closed. Most releases need no round: the rules of :mod:`audit.suppression` already meet the
rule, and the audit confirms it.

Batched: one program minimises the sum of all checked counts (every count that reaches 0 there is certified),
one maximises the sum of ``min(count, k)``; only the counts neither certifies get programs of their own.

Not modelled (a reader who knows them could narrow further; each is stated in the report's method section
through :attr:`DisclosureCheck.rule`): the decision of a tier view against the tiers of another view; counts
of proxy columns (they are not cells of the protected attributes); amounts (sums of money are not counts).
Non-linear statistics are withheld by rule in :mod:`audit.suppression` and :mod:`audit.release`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Hashable, Iterable

import numpy as np
import pandas as pd
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from audit.errors import DataError, ReasonCode
from audit.metrics import METRICS, MISSING, NEG, POS, Kind, state
from audit.result import AuditResult
from audit.spec import INTERSECTION_JOIN
from audit.suppression import Forced, PublicTables, complete_calibration, live_states, suppress

__all__ = ["DisclosureCheck", "Findings", "RULE", "Violation", "enforce", "check_release"]

RULE = ("no unpublished count below k can be worked out from all published numbers together: each keeps a range "
        "of possible values at least 1 wide (two whole numbers or more)")
MAX_ROUNDS = 40
EVERY_AFTER = 1
"""After this many rounds, a violation withholds every published count that binds it, not only the smallest."""
_TOL = 1e-7

CellRef = tuple[str, int, str]  # (table, row position, column)
Terms = dict[int, float]        # atom -> coefficient


@dataclass(frozen=True)
class DisclosureCheck:
    """What the disclosure audit checked and added.

    ``checked`` counts the withheld counts below ``k`` (and complements) put to the rule in the last round;
    ``added`` the counts withheld by the audit beyond suppression's own rules; ``rounds`` how many times it
    withheld more; ``seconds`` its time; ``atoms`` the size of the model (0 when it could not be built).
    """

    rule: str
    checked: int
    added: int
    rounds: int
    seconds: float
    atoms: int = 0
    width: float = 1.0

    def sentence(self) -> str:
        """The check in one sentence for the report's method section and public.md."""
        if not self.atoms:
            return "Disclosure audit: not run (the audit has no cell counts to model)."
        return (f"Disclosure audit: {self.checked} unpublished counts below k were checked against every "
                f"published number together; {self.added} more counts were withheld to meet the rule that "
                f"{self.rule}.")

    def as_dict(self) -> dict[str, Any]:
        """The check as published in public.json."""
        return {"rule": self.rule, "width": self.width, "checked": self.checked, "added": self.added,
                "rounds": self.rounds, "ran": bool(self.atoms)}


@dataclass
class _Count:
    ref: CellRef
    terms: Terms
    value: float
    published: bool
    block: Hashable = None  # (table, view.., attribute, metric, column): the counts of every group of one column
    twin: Hashable = None   # (table, attribute, group, metric, column, value): the same count in another view


@dataclass
class _System:
    """Published counts as equalities over atoms, and the counts the rule protects."""

    k: int
    atoms: dict[Hashable, int] = field(default_factory=dict)
    counts: list[_Count] = field(default_factory=list)
    links: list[Terms] = field(default_factory=list)  # equalities with 0 on the right: what a reader knows

    def atom(self, key: Hashable) -> int:
        return self.atoms.setdefault(key, len(self.atoms))

    def add(self, ref: CellRef, terms: Terms, value: Any, shown: Any, block: Hashable = None,
            twin: Hashable = None) -> None:
        """Register a count: ``value`` its true value, ``shown`` what the public table holds, ``block`` the
        column of its attribute and view it belongs to (for groups-like tables)."""
        v = _number(value)
        if v is None or not terms:
            return
        published = _number(shown) is not None and not isinstance(shown, str)
        self.counts.append(_Count(ref, terms, v, published, block, twin))


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, (str, bool, np.bool_)):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _plus(*parts: Terms, sign: float = 1.0) -> Terms:
    out: Terms = {}
    for part in parts:
        for atom, coef in part.items():
            out[atom] = out.get(atom, 0.0) + sign * coef
    return {a: c for a, c in out.items() if c}


def _minus(a: Terms, b: Terms) -> Terms:
    return _plus(a, {atom: -coef for atom, coef in b.items()})


# ----------------------------------------------------------------------------------------------------------
# the cells of the protected attributes


class _Cells:
    """Flat indices of the joint cells of every group of every attribute and intersection."""

    def __init__(self, result: AuditResult) -> None:
        counts = result.counts
        assert counts is not None
        self.attributes = counts.attributes
        self.cells = counts.cells
        shape = [len(levels) for levels in counts.levels]
        self.size = int(np.prod(shape)) if shape else 1
        self.codes = np.unravel_index(np.arange(self.size), shape) if shape else ()
        self.shape = shape
        self._groups: dict[str, dict[Any, np.ndarray]] = {}

    def of(self, attribute: Any, group: Any) -> np.ndarray | None:
        """The cells of ``group`` of ``attribute`` (None when the attribute is not one of the cells')."""
        if attribute not in self._groups:
            columns = str(attribute).split(INTERSECTION_JOIN)
            if not all(c in self.attributes for c in columns):
                self._groups[attribute] = {}
            else:
                labels, _, _ = self.cells.groups_of(columns)
                axes = [self.attributes.index(c) for c in columns]
                index = np.ravel_multi_index([self.codes[a] for a in axes], [self.shape[a] for a in axes])
                order = np.argsort(index, kind="stable")
                bounds = np.searchsorted(index[order], np.arange(len(labels) + 1))
                self._groups[attribute] = {label: order[bounds[i]:bounds[i + 1]] for i, label in enumerate(labels)}
        return self._groups[attribute].get(group)

    def all(self) -> np.ndarray:
        return np.arange(self.size)


# ----------------------------------------------------------------------------------------------------------
# registration of the published tables


class _Model:
    """Builds the linear system of one release."""

    def __init__(self, result: AuditResult, public: PublicTables) -> None:
        self.result, self.public, self.k = result, public, public.k
        self.system = _System(public.k)
        self.cells = _Cells(result)
        self.live = live_states(result)
        self.tiers = list(result.spec.tiers.values) if result.spec.tiers is not None else []
        self.outcomes = sorted({s // 3 for s in self.live})
        self.views: dict[Any, str] = {}  # view -> "plain" or ("sweep", thresholds)
        self.sweep: dict[tuple[Any, Any], int] = {}  # (threshold, view) -> position among the cut-offs
        self.sweep_cutoffs: list[tuple[Any, Any]] = []
        self.base: Any = None  # the view whose per-cell sizes the others are linked to

    # -- atoms of one view
    def state_terms(self, view: Any, cells: np.ndarray, states: Iterable[int]) -> Terms:
        """The count of ``states`` in ``cells`` of a view (a score sweep's cut-off is the view ``("sweep", i)``)."""
        atom, live = self.system.atom, set(self.live)
        chosen = [s for s in states if s in live]
        return {atom(("b", view, c, s)): 1.0 for c in cells.tolist() for s in chosen}

    def size_terms(self, view: Any, cells: np.ndarray) -> Terms:
        return self.state_terms(view, cells, self.live)

    def tier_terms(self, view: Any, cells: np.ndarray, tiers: Iterable[str]) -> Terms:
        atom = self.system.atom
        return {atom(("t", view, c, t)): 1.0 for c in cells.tolist() for t in tiers}

    def free_terms(self, key: Hashable, cells: np.ndarray) -> Terms:
        """Per-cell atoms of a count the model has no states for (a metric's own count)."""
        atom = self.system.atom
        return {atom(("f", key, c)): 1.0 for c in cells.tolist()}

    # -- the groups-like tables
    def register_groups(self, name: str, internal: pd.DataFrame, shown: pd.DataFrame, scope: list[str],
                        sizes: dict[tuple, float] | None = None, only: set[tuple] | None = None) -> None:
        """Register the count columns of a groups-like table; ``sizes`` are the groups' sizes by (scope..,
        attribute, group), default those its ``count`` rows give."""
        if not len(internal):
            return
        columns = [c for c in ("n", "numerator", "denominator", "value") if c in internal.columns]
        rows = internal[[*scope, "attribute", "group", "metric", *columns]].to_dict(orient="records")
        shown_rows = shown[columns].to_dict(orient="records")
        if sizes is None:
            sizes = self._sizes(rows, scope)
        for position, (row, public) in enumerate(zip(rows, shown_rows)):
            if only is not None and tuple(row[c] for c in scope) not in only:
                continue
            view = self._view_key(row, scope)
            cells = self.cells.of(row["attribute"], row["group"])
            if cells is None:
                continue
            for column, terms in self._row_terms(view, row, cells, sizes).items():
                block = (name, *(row[c] for c in scope), row["attribute"], row["metric"], column)
                twin = (name, row["attribute"], row["group"], row["metric"], column, _number(row[column]))
                self.system.add((name, position, column), terms, row[column], public[column], block, twin)

    def _view_key(self, row: dict[str, Any], scope: list[str]) -> Any:
        if "threshold" in scope:
            return ("sweep", self.sweep[(row["threshold"], row["view"])])
        return row["view"]

    @staticmethod
    def _sizes(rows: list[dict[str, Any]], scope: list[str]) -> dict[tuple, float]:
        """Each group's size in each view (its ``count`` row, else a tier rate's denominator)."""
        sizes: dict[tuple, float] = {}
        for row in rows:
            key = (*(row[c] for c in scope), row["attribute"], row["group"])
            if row["metric"] == "count" and _number(row["n"]) is not None:
                sizes[key] = float(row["n"])
        for row in rows:
            key = (*(row[c] for c in scope), row["attribute"], row["group"])
            if key not in sizes and str(row["metric"]).startswith("tier_") and _number(row["denominator"]):
                sizes[key] = float(row["denominator"])
        return sizes

    def _row_terms(self, view: Any, row: dict[str, Any], cells: np.ndarray, sizes: dict[tuple, float]
                   ) -> dict[str, Terms]:
        metric = str(row["metric"])
        size = self.size_terms(view, cells)
        scope_values = tuple(v for k, v in row.items() if k in ("threshold", "view"))
        group_size = sizes.get((*scope_values, row["attribute"], row["group"]))
        if metric == "count":
            return {"n": size, "numerator": size, "value": size}
        if metric == "share":
            return {"numerator": size, "n": self.size_terms(view, self.cells.all()),
                    "denominator": self.size_terms(view, self.cells.all())}
        definition = METRICS.get(metric)
        if definition is not None and definition.kind is Kind.PROPORTION:
            numerator = self.state_terms(view, cells, definition.numerator)
            denominator = self.state_terms(view, cells, definition.denominator)
            return {"numerator": numerator, "denominator": denominator, "n": denominator}
        family, _, tier = metric.partition(":")
        if family in ("tier_rate", "tier_at_least") and tier in self.tiers:
            chosen = [tier] if family == "tier_rate" else self.tiers[self.tiers.index(tier):]
            return {"numerator": self.tier_terms(view, cells, chosen), "denominator": size, "n": size}
        out: dict[str, Terms] = {}
        n = _number(row.get("n"))
        if n is not None and group_size is not None and n == group_size:
            out["n"] = size
        elif n is not None:
            out["n"] = self.free_terms((view, metric, "n"), cells)
        denominator = _number(row.get("denominator"))
        if metric.startswith(("mean:", "median:", "q")) or metric in ("auc", "brier", "ece",
                                                                     "calibration_in_the_large"):
            return out  # a numerator of amounts is not a count
        if denominator is not None and _number(row.get("numerator")) is not None:
            if group_size is not None and denominator == group_size:
                den = size
            else:
                den = self.free_terms((view, metric, "D"), cells)
            num = self.free_terms((view, metric, "N"), cells)
            rest = self.free_terms((view, metric, "C"), cells)
            self._link_cells(num, rest, den)
            out["numerator"], out["denominator"] = num, den
        return out

    def _link_cells(self, num: Terms, rest: Terms, den: Terms) -> None:
        """numerator + complement = denominator, cell by cell (the complement is never shown)."""
        self.system.links.append(_minus(_plus(num, rest), den))

    # -- links a reader knows
    def link_views(self, views: list[Any], sizes_by_view: dict[Any, dict[tuple, float]]) -> None:
        """Views that count the same people (equal group sizes): the same size and outcome in every cell."""
        if not views:
            return
        base = views[0]
        self.base = base
        for view in views[1:]:
            a, b = sizes_by_view.get(base, {}), sizes_by_view.get(view, {})
            if not a or not b or any(b.get(key) != value for key, value in a.items() if key in b):
                continue
            for c in self.cells.all():
                cell = np.array([c])
                for y in self.outcomes:
                    states = [state(y, d) for d in (NEG, POS, MISSING)]
                    self.system.links.append(_minus(self.state_terms(view, cell, states),
                                                    self.state_terms(base, cell, states)))

    def link_tiers(self, view: Any) -> None:
        """The tiers of a cell add up to its people with a decision."""
        decided = [s for s in self.live if s % 3 != MISSING]
        for c in self.cells.all():
            cell = np.array([c])
            self.system.links.append(_minus(self.tier_terms(view, cell, self.tiers),
                                            self.state_terms(view, cell, decided)))

    def link_sweep(self, window: tuple[int, ...]) -> None:
        """The cut-offs of a score sweep count the same people and outcomes as the base view, and are nested:
        those flagged at a cut-off are those flagged at the next one and those who score between the two (an
        atom of their own), cell by cell and outcome by outcome; a missing score is missing at every cut-off."""
        if self.base is None:
            return
        links, atom = self.system.links, self.system.atom
        cutoffs = window
        for c in self.cells.all():
            cell = np.array([c])
            for y in self.outcomes:
                states = [state(y, d) for d in (NEG, POS, MISSING)]
                for i in cutoffs:
                    links.append(_minus(self.state_terms(("sweep", i), cell, states),
                                        self.state_terms(self.base, cell, states)))
                    if i + 1 in cutoffs:
                        between = {atom(("between", int(c), i, y)): 1.0}
                        links.append(_minus(self.state_terms(("sweep", i), cell, [state(y, POS)]),
                                            _plus(self.state_terms(("sweep", i + 1), cell, [state(y, POS)]), between)))
                        links.append(_minus(self.state_terms(("sweep", i), cell, [state(y, MISSING)]),
                                            self.state_terms(("sweep", i + 1), cell, [state(y, MISSING)])))

    # -- the other tables
    def register_table(self, name: str, columns: dict[str, Any]) -> None:
        """Register ``columns`` (column -> function of a row giving its terms or None) of one extra table."""
        internal = self.result.table(name)
        if name == "calibration":
            internal = complete_calibration(internal)
        shown = self.public.tables.get(name)
        if shown is None or not len(internal) or len(shown) != len(internal):
            return
        shown_rows = shown.to_dict(orient="records")
        for position, row in enumerate(internal.to_dict(orient="records")):
            for column, make in columns.items():
                if column not in row:
                    continue
                terms = make(row)
                if terms:
                    self.system.add((name, position, column), terms, row[column], shown_rows[position].get(column))

    def group_terms(self, row: dict[str, Any], states: Iterable[int], view: Any = None) -> Terms | None:
        cells = self.cells.of(row["attribute"], row["group"])
        view = row.get("view", self.base) if view is None else view
        if cells is None or view not in self.views:
            return None
        return self.state_terms(view, cells, states)


def _outcome_states(y: int) -> list[int]:
    return [state(y, d) for d in (NEG, POS, MISSING)]


def _acted_states() -> list[int]:
    return [state(y, POS) for y in (NEG, POS, MISSING)]


CALIBRATION = ("calibration",)
"""The part of a release that is its calibration table (see :func:`parts`)."""


def _build(result: AuditResult, public: PublicTables, window: tuple[Any, ...] = ()) -> _Model:
    """The linear system of one part of a release (:func:`parts`): ``()`` every table but the calibration
    table and the score sweep; :data:`CALIBRATION` the calibration table with the base view's groups (the same
    people and outcomes); a window of the sweep's cut-offs (positions) those cut-offs with the base view's
    groups. One program over everything is too large to solve within seconds; a part is small."""
    model = _Model(result, public)
    groups = result.groups
    views = list(dict.fromkeys(groups["view"])) if len(groups) else []
    model.views = {view: "plain" for view in views}
    sizes_by_view: dict[Any, dict[tuple, float]] = {}
    records = groups[["view", "attribute", "group", "metric", "n", "denominator"]].to_dict(orient="records") \
        if len(groups) else []
    for view in views:
        sizes_by_view[view] = {key[1:]: value for key, value in _Model._sizes(
            [r for r in records if r["view"] == view], ["view"]).items()}
    counted = [view for view in views if sizes_by_view[view]]
    if counted:  # a view without count rows whose groups' n are the base view's sizes counts the same people
        base = sizes_by_view[counted[0]]
        for view in views:
            if view in counted:
                continue
            rows = [r for r in records if r["view"] == view]
            for metric in dict.fromkeys(r["metric"] for r in rows):
                found = {(r["attribute"], r["group"]): _number(r["n"]) for r in rows if r["metric"] == metric}
                if found and all(base.get(key) == value for key, value in found.items()):
                    sizes_by_view[view] = {key: float(value) for key, value in found.items()}  # type: ignore[arg-type]
                    counted.append(view)
                    break
    if window:  # a part: the base view (its sizes and outcomes) and the part's table, nothing else
        counted = counted[:1]
    model.link_views(counted, sizes_by_view)
    model.register_groups("groups", result.groups, public.groups, ["view"],
                          {(view, *key): value for view, found in sizes_by_view.items() for key, value in found.items()},
                          only={(model.base,)} if window else None)
    if model.tiers and not window:
        for view in views:
            if any(str(m).startswith("tier_") for m in groups.loc[groups["view"] == view, "metric"].unique()):
                model.link_tiers(view)
    if window == CALIBRATION:
        _register_calibration(model, result)
        return model
    sweep = result.table("sweep_groups")
    if len(sweep):
        cutoffs = sorted(set(zip(sweep["threshold"], sweep["view"])), key=lambda pair: pair[0])
        model.sweep = {pair: i for i, pair in enumerate(cutoffs)}
        model.sweep_cutoffs = cutoffs
        if window:
            model.link_sweep(window)  # type: ignore[arg-type]
            model.register_groups("sweep_groups", sweep, public.tables["sweep_groups"], ["threshold", "view"],
                                  only={cutoffs[i] for i in window})  # type: ignore[index]
            return model
    _register_extras(model, result)
    _register_labels(model, result, public)
    return model


def _register_extras(model: _Model, result: AuditResult) -> None:
    terms = model.group_terms
    everyone = model.live
    model.register_table("capacity", {
        "population": lambda r: terms(r, everyone), "acted_on": lambda r: terms(r, _acted_states()),
        "positives": lambda r: terms(r, _outcome_states(POS))})
    model.register_table("auc", {"positives": lambda r: terms(r, _outcome_states(POS), model.base),
                                 "negatives": lambda r: terms(r, _outcome_states(NEG), model.base)})
    model.register_table("thresholds", {
        "acted_on": lambda r: model.state_terms(r["view"], model.cells.all(), _acted_states())
        if r["view"] in model.views else None,
        "population": lambda r: model.size_terms(r["view"], model.cells.all()) if r["view"] in model.views else None})

    def pairwise(r: dict[str, Any]) -> Terms | None:
        own = terms(r, everyone)
        if own is None:
            return None
        if not isinstance(r.get("reference"), str) or not r["reference"]:
            return model.size_terms(r["view"], model.cells.all()) if r["view"] in model.views else None
        reference = terms(r | {"group": r["reference"]}, everyone)
        return _plus(own, reference) if reference is not None else None
    sizes = _true_sizes(result)
    model.register_table("tests", {"n": lambda r: pairwise(r) if _test_n_is_sum(r, sizes) else None})
    _register_flips(model, result, sizes)
    _register_repeats(model, result)


def _true_sizes(result: AuditResult) -> dict[tuple, float]:
    """(view, attribute, group) -> size, from the groups table's ``count`` rows."""
    groups = result.groups
    rows = groups[groups["metric"] == "count"] if len(groups) else groups
    return {(r["view"], r["attribute"], r["group"]): float(r["n"]) for r in rows.to_dict(orient="records")}


def _test_n_is_sum(row: dict[str, Any], sizes: dict[tuple, float]) -> bool:
    """Whether a test's ``n`` is the group's size plus the reference's (or the attribute's total)."""
    n = _number(row.get("n"))
    if n is None:
        return False
    view = row.get("view")
    own = sizes.get((view, row["attribute"], row["group"]))
    reference = sizes.get((view, row["attribute"], row.get("reference")))
    if own is not None and reference is not None:
        return abs(own + reference - n) < 1e-9
    total = sum(v for (v_, a, _), v in sizes.items() if v_ == view and a == row["attribute"])
    return not row.get("group") and abs(total - n) < 1e-9


def _register_calibration(model: _Model, result: AuditResult) -> None:
    """Calibration bins: people of a group in a bin, and those with a positive outcome (rate × n)."""
    frame = complete_calibration(result.table("calibration"))
    if not len(frame):
        return
    atom = model.system.atom

    def people(r: dict[str, Any], outcomes: Iterable[int]) -> Terms | None:
        cells = model.cells.of(r["attribute"], r["group"])
        if cells is None:
            return None
        return {atom(("cal", c, r["bin"], y)): 1.0 for c in cells.tolist() for y in outcomes}
    model.register_table("calibration", {"n": lambda r: people(r, (NEG, POS))})
    shown = model.public.tables.get("calibration")
    if shown is not None and len(shown) == len(frame):
        for position, (row, public) in enumerate(zip(frame.to_dict(orient="records"),
                                                     shown.to_dict(orient="records"))):
            terms = people(row, (POS,))
            rate, n = _number(row.get("observed_rate")), _number(row.get("n"))
            published = _number(public.get("observed_rate")) is not None and _number(public.get("n")) is not None
            if terms and rate is not None and n is not None:
                model.system.add(("calibration", position, "observed_rate"), terms, round(rate * n, 9),
                                 1.0 if published else None)
    # the bins of a cell add up to its people with a known outcome and a score, when the AUC table says so
    auc = result.table("auc")
    if len(auc) and model.base is not None:
        sums = frame.groupby(["attribute", "group"])["n"].sum()
        known = auc.set_index(["attribute", "group"])
        if all(abs(sums.get(key, 0.0) - (row["positives"] + row["negatives"])) < 1e-9
               for key, row in known.iterrows()):
            bins = sorted(frame["bin"].unique())
            for c in model.cells.all():
                cell = np.array([c])
                for y in (NEG, POS):
                    model.system.links.append(_minus({atom(("cal", int(c), b, y)): 1.0 for b in bins},
                                                     model.state_terms(model.base, cell, _outcome_states(y))))


def _register_flips(model: _Model, result: AuditResult, sizes: dict[tuple, float]) -> None:
    """The flip test: rows of a group set to another value, those whose decision flipped, by direction."""
    atom = model.system.atom

    def terms(r: dict[str, Any], directions: Iterable[str]) -> Terms | None:
        cells = model.cells.of(r["attribute"], r["group"])
        if cells is None:  # a proxy column: one atom per group
            return {atom(("flip", r["attribute"], r["group"], r["set_to"], d)): 1.0 for d in directions}
        return {atom(("flip", r["attribute"], int(c), r["set_to"], d)): 1.0 for c in cells.tolist()
                for d in directions}
    model.register_table("flips", {"rows": lambda r: terms(r, ("+", "-", "=")), "flips": lambda r: terms(r, "+-"),
                                   "to_positive": lambda r: terms(r, "+"), "to_negative": lambda r: terms(r, "-")})
    flips = result.table("flips")
    if not len(flips) or model.base is None:
        return
    linked = {(r["attribute"], r["set_to"]) for r in flips.to_dict(orient="records")
              if sizes.get((model.base, r["attribute"], r["group"])) == _number(r["rows"])}
    for attribute, set_to in linked:
        cells = model.cells.of(attribute, next(iter(flips.loc[flips["attribute"] == attribute, "group"])))
        if cells is None:
            continue
        for c in model.cells.all():
            flip_terms = {atom(("flip", attribute, int(c), set_to, d)): 1.0 for d in "+-="}
            model.system.links.append(_minus(flip_terms, model.size_terms(model.base, np.array([c]))))


def _register_repeats(model: _Model, result: AuditResult) -> None:
    """Comparisons and verdicts repeat the groups' counts (``n``, ``reference_n``): the same terms."""
    groups = result.groups
    if not len(groups):
        return
    index: dict[tuple, dict[str, Any]] = {}
    for position, r in enumerate(groups[["view", "attribute", "group", "metric", "n"]].to_dict(orient="records")):
        index[(r["view"], r["attribute"], r["group"], r["metric"])] = {"n": r["n"], "position": position}
    by_ref = {c.ref: c for c in model.system.counts if c.ref[0] == "groups"}
    for name, frame, shown in (("comparisons", result.comparisons, model.public.comparisons),
                               ("verdicts", result.verdicts, model.public.verdicts)):
        if not len(frame):
            continue
        shown_rows = shown[["n", "reference_n"]].to_dict(orient="records")
        for position, r in enumerate(frame[["view", "attribute", "group", "reference", "metric", "n",
                                            "reference_n"]].to_dict(orient="records")):
            for column, group in (("n", r["group"]), ("reference_n", r["reference"])):
                found = index.get((r["view"], r["attribute"], group, r["metric"]))
                if found is None or _number(found["n"]) != _number(r[column]):
                    continue
                count = by_ref.get(("groups", found["position"], "n"))
                if count is not None:
                    model.system.add((name, position, column), count.terms, r[column], shown_rows[position][column])


def _register_labels(model: _Model, result: AuditResult, public: PublicTables) -> None:
    """Label counts (they add up to the rows read) and the rows read and audited."""
    counts, system = result.counts, model.system
    if counts is None or model.base is None:
        return
    label_view = counts.view if counts.view in model.views else None
    everyone = model.size_terms(model.base, model.cells.all())
    provenance = result.provenance
    read_extra = {system.atom(("excluded",)): 1.0}
    system.add(("provenance", 0, "rows_used"), everyone, provenance.rows_used, public.rows_used)
    system.add(("provenance", 0, "rows_read"), _plus(everyone, read_extra), provenance.rows_read, public.rows_read)
    same_rows = provenance.rows_read == provenance.rows_used
    for name, mapping, axis in (("decision", counts.decision, 1), ("outcome", counts.outcome, 0)):
        if mapping is None or public.labels.get(name) is None:
            continue
        shown = public.labels[name]
        values = list(mapping.values)
        per_value = {v: {system.atom(("label", name, v)): 1.0} for v in values}
        missing = {system.atom(("label", name, "\0missing")): 1.0}
        for v in values:
            system.add(("labels", 0, f"{name}:{v}"), per_value[v], mapping.rows[values.index(v)], shown["rows"][v])
        system.add(("labels", 0, f"{name}:\0missing"), missing, mapping.missing_rows, shown["missing_rows"])
        if not same_rows or label_view is None:
            continue
        tier_view = next((v for v in model.views if model.tiers and name == "decision"
                          and any(("t", v, 0, t) in system.atoms for t in model.tiers)), None)
        for positive in (True, False):
            chosen = [v for v, p in zip(values, mapping.positive) if p == positive]
            if tier_view is not None:
                for v in chosen:
                    system.links.append(_minus(per_value[v], model.tier_terms(tier_view, model.cells.all(), [v])))
                continue
            side = POS if positive else NEG
            states = [state(side, d) for d in (NEG, POS, MISSING)] if axis == 0 else \
                [state(y, side) for y in (NEG, POS, MISSING)]
            system.links.append(_minus(_plus(*(per_value[v] for v in chosen)),
                                       model.state_terms(label_view, model.cells.all(), states)))
        gone = [state(MISSING, d) for d in (NEG, POS, MISSING)] if axis == 0 else \
            [state(y, MISSING) for y in (NEG, POS, MISSING)]
        system.links.append(_minus(missing, model.state_terms(label_view, model.cells.all(), gone)))


# ----------------------------------------------------------------------------------------------------------
# the linear programs


@dataclass(frozen=True)
class Violation:
    """A count the published numbers narrow below the rule: its range ``[low, high]`` is too narrow.
    ``binding`` are the published counts whose values bound it (non-zero duals of the two programs)."""

    ref: CellRef
    low: float
    high: float
    value: float
    terms: tuple[int, ...]
    binding: tuple[CellRef, ...] = ()


def _matrix(rows: list[Terms], size: int) -> csr_matrix:
    data, indices, pointers = [], [], [0]
    for terms in rows:
        for atom, coef in terms.items():
            indices.append(atom)
            data.append(coef)
        pointers.append(len(indices))
    return csr_matrix((data, indices, pointers), shape=(len(rows), size))


def _complements(system: _System) -> list[_Count]:
    """The complement ``denominator - numerator`` of every rate row (people not counted by its numerator), as a
    count that is never shown."""
    by_row: dict[tuple[str, int], dict[str, _Count]] = {}
    for c in system.counts:
        by_row.setdefault(c.ref[:2], {})[c.ref[2]] = c
    out = []
    for (table, position), row in by_row.items():
        num, den = row.get("numerator"), row.get("denominator")
        if num is None or den is None:
            continue
        terms = _minus(den.terms, num.terms)
        if terms and all(coef > 0 for coef in terms.values()):
            block = None if num.block is None else (*num.block[:-1], "complement")  # type: ignore[index]
            out.append(_Count((table, position, "complement"), terms, den.value - num.value, False, block))
    return out


def _protected(system: _System) -> list[tuple[CellRef, Terms, float]]:
    """The counts the rule protects: unpublished counts below k and complements below k of rate rows, except
    zeros of a column that is zero for every group of its attribute in its view (nobody scores below the lowest
    cut-off, so nobody there is a false negative): a fact of the whole view that describes no group, like the
    empty states rule 3 of :mod:`audit.suppression` drops."""
    k = system.k
    counts = [c for c in system.counts if not c.published] + _complements(system)
    totals: dict[Hashable, float] = {}
    for c in counts + [c for c in system.counts if c.published]:
        if c.block is not None:
            totals[c.block] = totals.get(c.block, 0.0) + abs(c.value)
    return [(c.ref, c.terms, c.value) for c in counts
            if c.value < k and not (c.value == 0 and c.block is not None and totals[c.block] == 0)]


@dataclass(frozen=True)
class Findings:
    """What :func:`check_release` found: the violations, how many counts it checked, the atoms of its largest
    model, and every published count it registered (by cell), for choosing what to withhold."""

    violations: list[Violation]
    checked: int
    atoms: int
    published: dict[CellRef, _Count]
    withheld: frozenset[CellRef] = frozenset()
    clean: frozenset[tuple[Any, ...]] = frozenset()


def parts(result: AuditResult) -> list[tuple[Any, ...]]:
    """The parts of a release the check models one at a time: ``()`` (every table but two), the calibration
    table, and each two adjacent cut-offs of a score sweep (one alone when the sweep has one)."""
    out: list[tuple[Any, ...]] = [()]
    if len(result.table("calibration")):
        out.append(CALIBRATION)
    sweep = result.table("sweep_groups")
    if len(sweep):
        size = len(set(zip(sweep["threshold"], sweep["view"])))
        out += [(i, i + 1) for i in range(size - 1)] or [(0,)]
    return out


def check_release(result: AuditResult, public: PublicTables, *, width: float = 1.0,
                  skip: frozenset[tuple[Any, ...]] = frozenset()) -> Findings:
    """The counts ``public`` leaves narrower than ``width`` (people; the rule's 1: not one value), how many
    counts were checked, and how many atoms the largest model has.

    Every table is modelled at once but the calibration table and the score sweep: the calibration table is
    modelled with the base view's groups (same people, same outcomes), and the sweep's cut-offs two adjacent ones
    at a time with the base view's groups. That finds calibration bins against the groups and each other
    (intersections against marginals), and differencing between neighbouring cut-offs and against the audited
    view; a count pinned only by three or more cut-offs, or by a cut-off or a bin together with another table
    than the groups, is not looked for. ``skip`` names parts (:func:`parts`) found clean before: as withholding
    more only widens ranges, they stay clean and are not solved again.
    """
    if result.counts is None:
        return Findings([], 0, 0, {})
    violations: list[Violation] = []
    published: dict[CellRef, _Count] = {}
    withheld: set[CellRef] = set()
    checked = atoms = 0
    clean = set(skip)
    for window in parts(result):
        model = _build(result, public, window)
        published.update((c.ref, c) for c in model.system.counts if c.published)
        withheld.update(c.ref for c in model.system.counts if not c.published)
        if window in skip:
            continue
        table = "calibration" if window == CALIBRATION else "sweep_groups"
        found, n, size = _check(model, width, tables={table} if window else None)
        seen = {v.ref for v in violations}
        violations += [v for v in found if v.ref not in seen]
        checked, atoms = checked + n, max(atoms, size)
        if not found:
            clean.add(window)
    return Findings(violations, checked, atoms, published, frozenset(withheld), frozenset(clean))


def _check(model: _Model, width: float, tables: set[str] | None = None) -> tuple[list[Violation], int, int]:
    """:func:`check_release` on one model; with ``tables``, only the counts of those tables are checked."""
    system = model.system
    size = len(system.atoms)
    published = list({_key(c.terms): c for c in system.counts if c.published}.values())  # one row per count
    links = list({_key(terms): terms for terms in system.links}.values())
    a_eq = _matrix([c.terms for c in published] + links, size)
    b_eq = np.array([c.value for c in published] + [0.0] * len(links))
    protected = [p for p in _protected(system) if tables is None or p[0][0] in tables]
    if not protected:
        return [], 0, size
    terms_list = [terms for _, terms, _ in protected]
    counts = _matrix(terms_list, size)  # counts x atoms: every protected count at a point, at once
    low = np.full(len(protected), math.inf)
    high = np.full(len(protected), -math.inf)

    def seen(x: np.ndarray | None) -> None:  # every feasible point widens every count's known range
        if x is not None:
            values = counts @ x
            np.minimum(low, values, out=low)
            np.maximum(high, values, out=high)

    def narrow() -> list[int]:
        return [i for i in range(len(protected)) if high[i] - low[i] < width - _TOL]

    open_ = narrow()
    extremes = _Extremes(a_eq, b_eq, size, bound=max((c.value for c in published), default=0.0))
    rng = np.random.default_rng(0)
    for _ in range(4):  # points that push all open counts down, then up, at once (random weights spread them)
        for minimise in (True, False):
            weights = rng.uniform(0.5, 1.5, len(open_))
            seen(extremes.solve(_plus(*({a: w * c for a, c in terms_list[i].items()} for i, w in zip(open_, weights))),
                                minimise=minimise)[2])
        still = narrow()
        if not still or len(still) == len(open_):
            open_ = still
            break
        open_ = still
    violations = []
    for i in open_:
        if high[i] - low[i] >= width - _TOL:
            continue  # a point found for another count already shows this one's range
        lo, low_duals, x = extremes.solve(terms_list[i], minimise=True)  # type: ignore[union-attr]
        seen(x)
        if high[i] - low[i] >= width - _TOL:
            continue
        hi, high_duals, x = extremes.solve(terms_list[i], minimise=False)  # type: ignore[union-attr]
        seen(x)
        if hi - lo < width - _TOL:
            ref, terms, value = protected[i]
            duals = np.abs(low_duals[:len(published)]) + np.abs(high_duals[:len(published)])
            binding = tuple(published[j].ref for j in np.flatnonzero(duals > 1e-9))
            violations.append(Violation(ref, lo, hi, value, tuple(terms), binding))
    return violations, len(protected), size


def _key(terms: Terms) -> frozenset[tuple[int, float]]:
    return frozenset(terms.items())


class _Extremes:
    """The smallest and largest value of one count over the published numbers' polytope, for many counts in a
    row: one HiGHS model whose objective changes, each solve warm-started from the last basis.

    Uses the HiGHS bindings that scipy ships (:mod:`scipy.optimize._highspy`); where a scipy version has none,
    every count gets its own :func:`scipy.optimize.linprog` (the same solver, slower).
    """

    def __init__(self, a_eq: csr_matrix, b_eq: np.ndarray, size: int, *, bound: float) -> None:
        self.a_eq, self.b_eq, self.size, self.bound = a_eq, b_eq, size, bound
        self._last: list[int] = []
        try:
            from scipy.optimize._highspy import _core
        except ImportError:  # pragma: no cover - scipy without its HiGHS bindings
            self._highs = None
            return
        self._core = _core
        highs = _core._Highs()
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("presolve", "off")      # keep the basis from one count's solve to the next
        highs.setOptionValue("simplex_strategy", 4)  # primal simplex: a new objective leaves the basis feasible
        lp = _core.HighsLp()
        lp.num_col_, lp.num_row_ = size, a_eq.shape[0]
        lp.col_cost_ = np.zeros(size)
        lp.col_lower_, lp.col_upper_ = np.zeros(size), np.full(size, bound)  # no cell holds more than the total
        lp.row_lower_ = lp.row_upper_ = np.asarray(b_eq, dtype=float)
        matrix = a_eq.tocsc()
        lp.a_matrix_.format_ = _core.MatrixFormat.kColwise
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = size, a_eq.shape[0]
        lp.a_matrix_.start_, lp.a_matrix_.index_ = matrix.indptr, matrix.indices
        lp.a_matrix_.value_ = matrix.data.astype(float)
        highs.passModel(lp)
        self._highs = highs

    def solve(self, terms: Terms, *, minimise: bool) -> tuple[float, np.ndarray, np.ndarray | None]:
        """The extreme value of the count (±inf when unbounded), the duals of the equalities, and the point
        reached (None when unbounded)."""
        if self._highs is None:  # pragma: no cover
            return _extreme_linprog(self.a_eq, self.b_eq, self.size, terms, minimise=minimise, bound=self.bound)
        highs, core = self._highs, self._core
        atoms = list(terms)
        reset = [a for a in self._last if a not in terms]
        if reset:
            highs.changeColsCost(len(reset), np.array(reset, dtype=np.int32), np.zeros(len(reset)))
        sign = 1.0 if minimise else -1.0
        highs.changeColsCost(len(atoms), np.array(atoms, dtype=np.int32),
                             np.array([sign * terms[a] for a in atoms]))
        self._last = atoms
        highs.run()
        status = highs.getModelStatus()
        if status != core.HighsModelStatus.kOptimal:
            return (-math.inf if minimise else math.inf), np.zeros(self.a_eq.shape[0]), None
        value = sign * highs.getInfo().objective_function_value
        solution = highs.getSolution()
        return value, np.asarray(solution.row_dual), np.asarray(solution.col_value)


def _extreme_linprog(a_eq: csr_matrix, b_eq: np.ndarray, size: int, terms: Terms, *, minimise: bool,
                     bound: float) -> tuple[float, np.ndarray, np.ndarray | None]:
    """:meth:`_Extremes.solve` with :func:`scipy.optimize.linprog`."""
    c = np.zeros(size)
    for atom, coef in terms.items():
        c[atom] = coef if minimise else -coef
    solution = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=(0, bound), method="highs")
    if solution.status != 0:  # not solved: nothing to say about what binds it
        return (-math.inf if minimise else math.inf), np.zeros(a_eq.shape[0]), None
    value = float(solution.fun if minimise else -solution.fun)
    return value, np.asarray(solution.eqlin.marginals), solution.x


# ----------------------------------------------------------------------------------------------------------
# failing closed


def _choose(counts: dict[CellRef, _Count], violation: Violation, forced: dict[str, set[tuple[int, str]]]
            ) -> CellRef | None:
    """The published count to withhold for a violation: the smallest of those that bind its range and share
    people with it (else the smallest that binds it, else the smallest that shares people with it)."""
    def free(ref: CellRef) -> bool:
        return ref in counts and (ref[1], ref[2]) not in forced.get(ref[0], set())
    atoms = set(violation.terms)
    binding = [counts[ref] for ref in violation.binding if free(ref)]
    sharing = [c for c in binding if atoms & c.terms.keys()]
    candidates = sharing or binding or [c for c in counts.values() if atoms & c.terms.keys() and free(c.ref)]
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c.value, repr(c.ref))).ref


def _to_withhold(found: Findings, forced: dict[str, set[tuple[int, str]]], *, every: bool) -> set[CellRef]:
    """The published cells to withhold next: for each violation the smallest count that binds it and shares
    people with it (with ``every``, after a few rounds, all such counts), wherever a table shows that count."""
    counts = found.published
    same: dict[Hashable, list[CellRef]] = {}  # a count wherever it is shown: same terms, or the same row's
    for c in counts.values():                  # count in another view (equal sizes link the views)
        same.setdefault(_key(c.terms), []).append(c.ref)
        if c.twin is not None:
            same.setdefault(c.twin, []).append(c.ref)
    refs: list[CellRef] = []
    for violation in found.violations:
        atoms = set(violation.terms)
        sharing = [ref for ref in violation.binding if ref in counts and atoms & counts[ref].terms.keys()
                   and (ref[1], ref[2]) not in forced.get(ref[0], set())]
        chosen = _choose(counts, violation, forced)
        refs += sharing if every and sharing else [chosen] if chosen is not None else []
    out: set[CellRef] = set()
    for ref in refs:
        count = counts[ref]
        out.update(same[_key(count.terms)])
        if count.twin is not None:
            out.update(same[count.twin])
    return out


def enforce(result: AuditResult, k: int | None = None) -> tuple[PublicTables, DisclosureCheck]:
    """Suppress ``result``, then withhold more until every count the rule protects meets it.

    Returns the public tables and what the check did; an audit without cell counts is not modelled (the check
    says it did not run).

    Raises
    ------
    DataError
        (``RELEASE_UNSAFE``) The rule could not be met in :data:`MAX_ROUNDS` rounds: nothing is published.
    """
    start = time.perf_counter()
    forced: dict[str, set[tuple[int, str]]] = {}
    public = suppress(result, k)
    if result.counts is None:
        return public, DisclosureCheck(RULE, 0, 0, 0, time.perf_counter() - start, 0)
    added, rounds, checked, atoms = 0, 0, 0, 0
    clean: frozenset[tuple[Any, ...]] = frozenset()
    for rounds in range(MAX_ROUNDS + 1):
        found = check_release(result, public, skip=clean)
        clean = found.clean
        checked, atoms = max(checked, found.checked), max(atoms, found.atoms)
        if not found.violations:
            break
        chosen = _to_withhold(found, forced, every=rounds >= EVERY_AFTER)
        if not chosen or rounds == MAX_ROUNDS:
            first = found.violations[0]
            raise DataError(
                f"the disclosure audit could not make the public release safe: {len(found.violations)} counts below "
                f"{public.k} could still be worked out from the published numbers (first: table {first.ref[0]}, "
                f"row {first.ref[1]}, column {first.ref[2]}). No public file was written. Publish fewer tables "
                f"(remove intersections or the score sweep from the spec) or raise report.small_cell_k",
                reason=ReasonCode.RELEASE_UNSAFE)
        for table, position, column in chosen | found.withheld:  # what is withheld stays withheld: each round
            forced.setdefault(table, set()).add((position, column))  # only adds (suppression's own choices
        added += len(chosen)                                          # depend on what it starts from)
        frozen: Forced = {table: frozenset(cells) for table, cells in forced.items()}
        public = suppress(result, k, forced=frozen)
    return public, DisclosureCheck(RULE, checked, added, rounds, time.perf_counter() - start, atoms)
