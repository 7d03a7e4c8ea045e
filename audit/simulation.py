"""How often verdicts err: seeded simulations of audits of data with no disparity, and with a planted one.

A "fail" accuses an agency of discrimination, so an audit of data in which
every group is treated alike must rarely report one, however many groups it
compares (the family-wise error rate, ``statistics.alpha``); and a real
disparity should be found. :func:`simulate` measures both for each decision
rule by auditing many seeded data sets with the engine itself:

* **null**: regions × groups in which the decision depends on the outcome only;
  every verdict that fails is a false fail.
* **planted**: the same, with one group of ``planted_size`` people whose
  chance of a positive decision is ``planted_ratio`` times everyone else's; the
  power is the share of data sets in which that group's ``selection_rate``
  verdict fails.

``benchmarks/bench_verdicts.py`` runs it on 500 data sets per rule; the test
suite runs a smaller version. The data are counted once per data set and every
rule is derived from the same counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from audit.engine import count, derive_result
from audit.exact_intervals import clopper_pearson_interval
from audit.spec import AuditSpec, validate_spec

__all__ = ["Design", "RuleErrors", "simulate", "design_frame", "design_spec"]


@dataclass(frozen=True)
class Design:
    """The shape of the simulated audits (defaults: the measurement of issue 15).

    ``regions`` × ``groups`` cells over ``rows`` people (regions of unequal
    size, groups in shares 60/30/10 %), outcome prevalence ``base_rate``, and a
    decision with true- and false-positive rates ``tpr`` and ``fpr`` for
    everyone. With ``planted_ratio``, a group ``"planted"`` of ``planted_size``
    people is added whose decision is positive ``planted_ratio`` times as often.
    """

    regions: int = 8
    groups: int = 3
    rows: int = 6000
    base_rate: float = 0.3
    tpr: float = 0.6
    fpr: float = 0.2
    metrics: tuple[str, ...] = ("selection_rate", "fpr", "fnr")
    band: tuple[float, float] = (0.8, 1.25)
    planted_ratio: float | None = None
    planted_size: int = 300
    alpha: float = 0.05


@dataclass(frozen=True)
class RuleErrors:
    """What one rule did over the simulated audits."""

    rule: str
    audits: int
    verdicts_per_audit: int
    audits_with_false_fail: int
    false_fails: int
    planted_found: int | None = None
    planted_audits: int | None = None

    @property
    def false_fail_share(self) -> float:
        """Share of null audits with at least one fail (the family-wise error)."""
        return self.audits_with_false_fail / self.audits if self.audits else float("nan")

    @property
    def power(self) -> float:
        """Share of planted audits in which the planted group's selection rate fails."""
        return self.planted_found / self.planted_audits if self.planted_audits else float("nan")

    def interval(self, confidence: float = 0.95) -> tuple[float, float]:
        """Clopper-Pearson interval of the false-fail share."""
        return _clopper_pearson(self.audits_with_false_fail, self.audits, confidence)

    def power_interval(self, confidence: float = 0.95) -> tuple[float, float]:
        """Clopper-Pearson interval of the power."""
        return _clopper_pearson(self.planted_found or 0, self.planted_audits or 0, confidence)


def _clopper_pearson(x: int, n: int, confidence: float) -> tuple[float, float]:
    if n == 0:
        return float("nan"), float("nan")
    low, high = clopper_pearson_interval(x, n, confidence)
    return float(low), float(high)


def design_frame(design: Design, rng: np.random.Generator, *, planted: bool = False) -> pd.DataFrame:
    """One simulated data set: region, group, outcome and decision per person."""
    region_weights = np.arange(1, design.regions + 1, dtype=float)
    group_weights = np.array([0.6, 0.3, 0.1, 0.05, 0.05][:design.groups] or [1.0])
    n = design.rows
    region = rng.choice([f"R{i + 1}" for i in range(design.regions)], n, p=region_weights / region_weights.sum())
    group = rng.choice([chr(ord("A") + i) for i in range(design.groups)], n, p=group_weights / group_weights.sum())
    group = group.astype(object)
    outcome = rng.random(n) < design.base_rate
    chance = np.where(outcome, design.tpr, design.fpr)
    if planted and design.planted_ratio is not None:
        chosen = rng.choice(n, design.planted_size, replace=False)
        group[chosen] = "planted"
        chance[chosen] = np.minimum(chance[chosen] * design.planted_ratio, 1.0)
    decision = rng.random(n) < chance
    return pd.DataFrame({"region": region, "group": group, "outcome": outcome.astype(int),
                         "decision": decision.astype(int)})


def design_spec(design: Design, rule: str) -> AuditSpec:
    """The audit of a simulated data set: region, group and their intersection, one rule per metric."""
    return validate_spec({
        "system": {"name": f"simulated audit ({rule})"},
        "outcome": {"column": "outcome", "positive": 1},
        "decision": {"column": "decision", "positive": 1, "adverse": True},
        "protected": [{"column": "region"}, {"column": "group", "reference": "A"}],
        "intersections": [["region", "group"]],
        "policy": [{"metric": m, "ratio": list(design.band), "rule": rule} for m in design.metrics],
        "statistics": {"alpha": design.alpha, "max_groups": 200, "bootstrap_replicates": 100},
    })


def _run(specs: dict[str, AuditSpec], frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    counted = count(next(iter(specs.values())), data=frame, fingerprint=False)
    return {rule: derive_result(spec, counted).verdicts for rule, spec in specs.items()}


def simulate(rules: Sequence[str] = ("significant", "ci", "point"), *, datasets: int, seed: int,
             design: Design = Design()) -> list[RuleErrors]:
    """Audit ``datasets`` null data sets (and as many planted ones, with ``design.planted_ratio``) per rule.

    Parameters
    ----------
    rules : sequence of {"significant", "ci", "point"}
    datasets : int
        Data sets of each kind; every rule audits the same ones.
    seed : int
        Seed of the data sets (numpy's default generator).
    design : Design

    Returns
    -------
    list of RuleErrors
        One per rule, in the order given.
    """
    specs = {rule: design_spec(design, rule) for rule in rules}
    rng = np.random.default_rng(seed)
    tallies: dict[str, dict[str, Any]] = {rule: {"audits": 0, "with": 0, "fails": 0, "size": 0, "found": 0}
                                           for rule in rules}
    for _ in range(datasets):
        for rule, verdicts in _run(specs, design_frame(design, rng)).items():
            fails = int((verdicts["verdict"] == "fail").sum())
            tally = tallies[rule]
            tally["audits"] += 1
            tally["with"] += fails > 0
            tally["fails"] += fails
            tally["size"] = len(verdicts)
    planted = design.planted_ratio is not None
    if planted:
        for _ in range(datasets):
            for rule, verdicts in _run(specs, design_frame(design, rng, planted=True)).items():
                mine = verdicts[(verdicts["attribute"] == "group") & (verdicts["group"] == "planted")
                                & (verdicts["metric"] == "selection_rate")]
                tallies[rule]["found"] += bool((mine["verdict"] == "fail").any())
    return [RuleErrors(rule=rule, audits=t["audits"], verdicts_per_audit=t["size"], audits_with_false_fail=t["with"],
                       false_fails=t["fails"], planted_found=t["found"] if planted else None,
                       planted_audits=datasets if planted else None)
            for rule, t in tallies.items()]
