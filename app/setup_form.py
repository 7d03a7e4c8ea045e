"""The Set-up page's choices as a typed record, read from a spec and written back into one.

:class:`SetupForm` holds what an auditor chooses on the page (outcome,
decision or score, protected attributes and references, intersections, tiers,
policy, statistics). :meth:`SetupForm.apply` writes the choices into a spec
mapping and keeps everything the page does not show (``amounts``, ``where``,
the report block, a sweep...), so a spec uploaded from CI survives a round
trip through the page unchanged. No Streamlit here.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from audit.metrics import METRICS
from audit.spec import AuditSpec, PolicyRule, ProxySpec, StatisticsSpec
from audit.starter import ColumnProfile, RoleGuess, positive_value

DecisionKind = Literal["decision", "score", "tiers"]
ThresholdMode = Literal["value", "top_k", "top_percent"]
TierKind = Literal["favourable", "adverse", "neutral"]
Bound = Literal["ratio", "difference"]
Rule = Literal["significant", "ci", "point"]
RULES: tuple[Rule, ...] = ("significant", "ci", "point")
"""The decision rules a policy rule may use (see :mod:`audit.policy`); the first is the spec's default."""

FOUR_FIFTHS: tuple[float, float] = (0.8, 1.25)
"""The four-fifths band on a ratio (and its reciprocal)."""


@dataclass(frozen=True)
class ProtectedChoice:
    """A protected attribute and its reference group (None: chosen by the reference rule)."""

    column: str
    reference: str | None = None


@dataclass(frozen=True)
class PolicyChoice:
    """One policy rule: a metric's ratio or difference bounded to ``[low, high]``."""

    metric: str
    bound: Bound = "ratio"
    low: float | None = FOUR_FIFTHS[0]
    high: float | None = FOUR_FIFTHS[1]
    rule: Rule = "significant"


@dataclass(frozen=True)
class SetupForm:
    """Everything the Set-up page lets an auditor choose."""

    system_name: str = "Untitled system"
    owner: str = ""
    outcome_column: str | None = None
    outcome_positive: tuple[str, ...] = ()
    kind: DecisionKind = "decision"
    decision_column: str | None = None
    decision_positive: tuple[str, ...] = ()
    adverse: bool = True
    score_column: str | None = None
    threshold_mode: ThresholdMode = "value"
    threshold: float = 0.5
    tiers: tuple[tuple[str, TierKind], ...] = ()
    tiers_ordered: bool = True
    final_column: str | None = None
    protected: tuple[ProtectedChoice, ...] = ()
    intersections: tuple[tuple[str, ...], ...] = ()
    policy: tuple[PolicyChoice, ...] = (PolicyChoice("selection_rate"),)
    confidence: float = 0.95
    alpha: float = 0.05
    min_group_size: int = 30
    correction: Literal["holm", "bh", "none"] = "holm"
    proxies: bool = False
    proxy_threshold: float = 0.3
    numeric_columns: frozenset[str] = field(default_factory=frozenset)

    # ------------------------------------------------------------------ reading

    @classmethod
    def from_spec(cls, spec: AuditSpec, *, numeric_columns: Sequence[str] = ()) -> SetupForm:
        """The choices a spec makes (its own shorthand forms already normalised by validation)."""
        form = cls(system_name=spec.system.name, owner=spec.system.owner or "",
                   numeric_columns=frozenset(numeric_columns))
        if spec.outcome is not None:
            form = replace(form, outcome_column=spec.outcome.column,
                           outcome_positive=tuple(_text(v) for v in spec.outcome.positive or ()))
        if spec.score is not None:
            first = spec.score.threshold[0]
            mode: ThresholdMode = "top_k" if first.top_k is not None else \
                "top_percent" if first.top_percent is not None else "value"
            value = first.top_k if first.top_k is not None else first.top_percent if first.top_percent is not None \
                else first.value
            form = replace(form, kind="score", score_column=spec.score.column, adverse=spec.score.adverse,
                           threshold_mode=mode, threshold=float(value or 0.0))
        elif spec.decision is not None:
            decision = spec.decision
            if decision.tiers is not None:
                form = replace(form, kind="tiers", decision_column=decision.column, adverse=decision.adverse,
                               tiers=tuple((str(k), v) for k, v in decision.tiers.values.items()),
                               tiers_ordered=decision.tiers.ordered)
            else:
                form = replace(form, kind="decision", decision_column=decision.column, adverse=decision.adverse,
                               decision_positive=tuple(_text(v) for v in decision.positive or ()))
        if spec.final_decision is not None:
            form = replace(form, final_column=spec.final_decision.column)
        protected = tuple(ProtectedChoice(p.column, _text(p.reference) if p.reference is not None else None)
                          for p in spec.protected)
        intersections = tuple(tuple(i.columns) for i in spec.intersections)
        policy = tuple(PolicyChoice(metric=r.metric, bound=r.bound, low=r.band[0], high=r.band[1], rule=r.rule)
                       for r in spec.policy)
        statistics = spec.statistics
        return replace(form, protected=protected, intersections=intersections, policy=policy,
                       confidence=statistics.confidence, alpha=statistics.alpha,
                       min_group_size=statistics.min_group_size,
                       correction=statistics.correction, proxies=spec.proxies is not None,
                       proxy_threshold=spec.proxies.threshold if spec.proxies is not None else 0.3)

    @classmethod
    def from_guess(cls, guess: RoleGuess, *, name: str, numeric_columns: Sequence[str] = ()) -> SetupForm:
        """A first set-up for new data, from the toolkit's guesses (every one to be checked by the auditor)."""
        form = cls(system_name=name, numeric_columns=frozenset(numeric_columns),
                   protected=tuple(ProtectedChoice(p.name) for p in guess.suggested_protected))
        if guess.outcome is not None:
            form = replace(form, outcome_column=guess.outcome.name,
                           outcome_positive=(positive_value(guess.outcome),))
        if guess.decision is not None:
            form = replace(form, kind="decision", decision_column=guess.decision.name,
                           decision_positive=(positive_value(guess.decision),), adverse=guess.adverse)
        elif guess.score is not None:
            form = replace(form, kind="score", score_column=guess.score.name, adverse=True)
        names = [p.column for p in form.protected]
        if len(names) >= 2:
            form = replace(form, intersections=((names[0], names[1]),))
        rules = [PolicyChoice("selection_rate")]
        if form.outcome_column is not None:
            rules.append(PolicyChoice("fpr"))
        return replace(form, policy=tuple(rules))

    def columns(self) -> tuple[str, ...]:
        """Every column the set-up names."""
        named = [self.outcome_column, self.final_column,
                 self.score_column if self.kind == "score" else self.decision_column]
        named += [p.column for p in self.protected]
        return tuple(dict.fromkeys(c for c in named if c))

    # ------------------------------------------------------------------ writing

    def apply(self, base: Mapping[str, Any] | None = None, *, data_name: str | None = None) -> dict[str, Any]:
        """A spec mapping: ``base`` with the page's choices written in, changing nothing else.

        ``base`` is a spec as :func:`audit.spec.spec_to_dict` gives it (or empty).
        What the page does not show is kept, and so is how ``base`` wrote what
        the page shows, when the choice is the same (values ``1`` stay numbers,
        other thresholds of a score stay, a rule's default decision rule stays
        unwritten), so a spec that goes through the page unchanged comes out
        the same. ``data_name`` replaces ``data.path`` (the uploaded file's
        name, so the spec runs in CI beside the same file).
        """
        spec: dict[str, Any] = copy.deepcopy(dict(base)) if base else {}
        system = dict(spec.get("system") or {})
        system["name"] = self.system_name.strip() or "Untitled system"
        if self.owner.strip():
            system["owner"] = self.owner.strip()
        else:
            system.pop("owner", None)
        spec["system"] = system
        if data_name is not None:
            spec["data"] = {**(spec.get("data") or {}), "path": data_name}
        if self.outcome_column:
            outcome = _same_column(spec.get("outcome"), self.outcome_column)
            outcome.update(column=self.outcome_column,
                           positive=self._labels(self.outcome_column, self.outcome_positive, outcome.get("positive")))
            spec["outcome"] = outcome
        else:
            spec.pop("outcome", None)
        if self.kind == "score":
            spec.pop("decision", None)
            spec["score"] = self._score(_same_column(spec.get("score"), self.score_column))
        else:
            spec.pop("score", None)
            decision = _same_column(spec.get("decision"), self.decision_column)
            decision["column"] = self.decision_column
            if self.kind == "tiers":  # each tier says whether it harms or benefits: no overall direction
                decision.pop("positive", None)
                before = decision.get("tiers") if isinstance(decision.get("tiers"), dict) else {}
                written = "ordered" in before or not before or not self.tiers_ordered
                ordered = {"ordered": self.tiers_ordered} if written else {}
                decision["tiers"] = {**ordered, "values": dict(self.tiers)}   # ordered (the default) stays unwritten
            else:
                decision.pop("tiers", None)
                decision["adverse"] = self.adverse
                decision["positive"] = self._labels(self.decision_column, self.decision_positive,
                                                    decision.get("positive"))
            spec["decision"] = decision
        if self.final_column:
            spec["final_decision"] = {**_same_column(spec.get("final_decision"), self.final_column),
                                      "column": self.final_column}
        else:
            spec.pop("final_decision", None)
        spec["protected"] = [self._protected(p, spec.get("protected") or []) for p in self.protected]
        if self.intersections:
            before = {tuple(i["columns"]): i for i in spec.get("intersections") or [] if isinstance(i, dict)}
            spec["intersections"] = [before.get(tuple(columns), list(columns))   # a set reference is kept
                                     for columns in self.intersections]
        else:
            spec.pop("intersections", None)
        version_1 = spec.get("spec_version") == 1   # there a rule without 'rule' is 'point': always write it
        spec["policy"] = [self._rule(r, spec.get("policy") or [], always=version_1) for r in self.policy]
        statistics = dict(spec.get("statistics") or {})
        defaults = StatisticsSpec()
        for name in ("confidence", "alpha", "min_group_size", "correction"):
            value = getattr(self, name)
            if name in statistics or value != getattr(defaults, name):
                statistics[name] = value
        if statistics:
            spec["statistics"] = statistics
        if self.proxies:
            proxies = dict(spec.get("proxies") or {})
            if "threshold" in proxies or self.proxy_threshold != ProxySpec().threshold or not proxies:
                proxies["threshold"] = self.proxy_threshold
            spec["proxies"] = proxies
        else:
            spec.pop("proxies", None)
        return spec

    def _score(self, score: dict[str, Any]) -> dict[str, Any]:
        """The score block: the chosen threshold first, the block's other thresholds kept after it."""
        value = int(self.threshold) if self.threshold_mode == "top_k" else float(self.threshold)
        chosen = {self.threshold_mode: value}
        others = [t for t in score.get("threshold") or [] if t != chosen]
        kept = (score.get("threshold") or [])[:1] == [chosen]
        score.update(column=self.score_column, threshold=[chosen] + (others if kept else others[1:]),
                     adverse=self.adverse)
        return score

    def _labels(self, column: str | None, labels: Sequence[str], before: Sequence[Any] | None) -> list[Any]:
        """Chosen labels as the spec should hold them: as ``before`` wrote them when they are the same values."""
        if before is not None and [_text(v) for v in before] == list(labels):
            return list(before)
        return [self._value(column, v) for v in labels]

    def _value(self, column: str | None, label: str) -> Any:
        """A label as the spec should hold it: a number for a numeric column's integral labels."""
        if column in self.numeric_columns and re.fullmatch(r"-?\d+", label):
            return int(label)
        if column in self.numeric_columns and re.fullmatch(r"-?\d+\.\d+", label):
            return float(label)
        return label

    def _protected(self, choice: ProtectedChoice, before: list[Any]) -> dict[str, Any]:
        old = next((dict(p) for p in before if isinstance(p, Mapping) and p.get("column") == choice.column), {})
        reference = old.pop("reference", None)
        entry = {"column": choice.column, **old}
        if choice.reference is not None:
            entry["reference"] = self._labels(choice.column, [choice.reference],
                                              None if reference is None else [reference])[0]
        return entry

    def _rule(self, choice: PolicyChoice, before: list[Any], *, always: bool = False) -> dict[str, Any]:
        """A policy rule as the spec should hold it; ``rule`` is left unwritten when it is the default and
        neither ``before`` wrote it nor ``always`` asks for it (a version 1 spec reads a missing one as 'point')."""
        old = next((dict(r) for r in before if isinstance(r, Mapping) and r.get("metric") == choice.metric
                    and choice.bound in r), {})
        written = always or "rule" in old or choice.rule != PolicyRule.model_fields["rule"].default
        for key in ("metric", "ratio", "difference", "rule"):
            old.pop(key, None)
        return {"metric": choice.metric, choice.bound: [choice.low, choice.high],
                **({"rule": choice.rule} if written else {}), **old}


def _same_column(block: Any, column: str | None) -> dict[str, Any]:
    """A copy of a spec block (outcome, decision, score) when it is about ``column``, else an empty one."""
    return dict(block) if isinstance(block, Mapping) and block.get("column") == column else {}


def metric_choices(has_outcome: bool, kind: DecisionKind, tiers: Sequence[str] = (),
                   amounts: Sequence[str] = ()) -> list[str]:
    """The metrics a policy rule may bound, for this set-up (rates first, then score and tier metrics)."""
    names = [m.name for m in METRICS.values() if has_outcome or not m.needs_outcome]
    if kind == "score":
        names += ["scoring_rate"] + (["auc"] if has_outcome else [])
    if kind == "tiers":
        names += [f"tier_rate:{t}" for t in tiers]
    names += [f"mean:{a}" for a in amounts]
    return names


def column_numeric(profiles: Sequence[ColumnProfile]) -> list[str]:
    """Names of the numeric columns."""
    return [p.name for p in profiles if p.numeric]


def _text(value: Any) -> str:
    from audit.labels import format_label

    return format_label(value) or ""


__all__ = ["SetupForm", "ProtectedChoice", "PolicyChoice", "metric_choices", "column_numeric", "FOUR_FIFTHS", "RULES"]


CODE_KEYS = ("model", "training", "custom_metrics")
"""Spec sections that load a model or import Python code: the command line runs them, the app never does."""


def without_code(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The spec without :data:`CODE_KEYS`, and the keys it had (a copy; ``raw`` is not changed)."""
    kept = {k: v for k, v in raw.items() if k not in CODE_KEYS}
    return kept, [k for k in CODE_KEYS if raw.get(k) is not None]
