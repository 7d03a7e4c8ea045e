"""The oversight report's content, in the order the report shows it, built from an audit result.

Everything here is language-neutral data: numbers stay numbers, and every
fixed sentence is an English message id that the template translates.
Published tables are the small-cell-suppressed ones (:mod:`audit.suppression`),
so a count below k never reaches the report.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml

from audit.errors import DataError, ReasonCode
from audit.family import DECIDING_POWER
from audit.metrics import EXTRA_METRICS, METRICS, metric_family
from audit.outputs import amount_metrics
from audit.report.frameworks import PROFILES, FindingKind, obligations
from audit.release import PublicRelease
from audit.result import AuditResult
from audit.spec import INTERSECTION_JOIN, StatisticsSpec, spec_to_dict
from audit.wording import tier_runs

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
SUMMARY_FINDINGS = 5
"""How many failed comparisons the executive summary lists."""


@dataclass(frozen=True)
class MetricLabel:
    """A metric's name as the report shows it: ``name`` is a catalogue message (the metric's full name),
    ``tag`` (``q90``) and ``subject`` (the amount column or the tier) are shown as they are.

    ``str()`` gives the English name, e.g. ``quantile q90: response_hours``.
    """

    name: str
    tag: str = ""
    subject: str = ""

    def __str__(self) -> str:
        head = f"{self.name} {self.tag}" if self.tag else self.name
        return f"{head}: {self.subject}" if self.subject else head


@dataclass(frozen=True)
class Quantity:
    """A number placed in a sentence, with how to show it: ``number`` (``digits`` significant digits),
    ``fixed`` (``digits`` decimals), ``percent`` (``digits`` decimals), ``confidence`` (a confidence level
    as a percentage, never rounded up to 100%) or ``p`` (a p-value with its relation: ``= 0.012``, ``< 0.001``)."""

    value: float | None
    style: Literal["number", "fixed", "percent", "confidence", "p"] = "number"
    digits: int = 3


Parts = tuple[tuple[str, dict[str, Any]], ...]
"""Clauses of a sentence, each an English message with the values of its placeholders (joined by ``; ``)."""


@dataclass(frozen=True)
class Finding:
    """One finding: how serious, what shows it, whom it concerns and what it touches."""

    severity: str
    kind: FindingKind
    title: str  # English message with {placeholders}, filled from ``values``
    values: dict[str, Any]
    evidence: str
    groups: tuple[str, ...]
    obligations: tuple[tuple[str, str], ...]
    rule: str = ""  # the policy rule a verdict finding judges; empty for proxies and overrides
    policy: str = ""  # a second message appended to the title: what the policy allows
    basis: str = ""  # a third message: what the fail rests on, by decision rule (point, significant, ci)
    decide: Parts = ()  # for an inconclusive verdict, what would decide it


@dataclass(frozen=True)
class ResultBlock:
    """Results of one rule for one decision view and one attribute (or intersection): table rows and chart data.

    ``amount`` says the metric is an amount (a mean, median or quantile in the
    column's own units) rather than a proportion.
    """

    attribute: str
    rule: str
    metric: str
    view: str
    bound: str
    band: tuple[float, float]
    rows: list[dict[str, Any]]
    rates: list[dict[str, Any]]
    heat: dict[str, Any] | None = None
    label: MetricLabel = MetricLabel("")
    amount: bool = False


@dataclass(frozen=True)
class AmountTable:
    """Every group's mean, median and quantiles of one amount column, with intervals (``cells`` per metric)."""

    column: str
    higher_is: str
    metrics: list[MetricLabel]
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class FlipTable:
    """The counterfactual flip test of one column: a row per original group and value it was set to."""

    attribute: str
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class Alternatives:
    """Less discriminatory alternatives read from ``alternatives.json`` (written by ``audit alternatives``).

    ``sentences`` are (message, values) pairs, one per disparity metric
    (``metrics``); ``frontier`` the table's rows, each with its ``gaps`` by
    metric; ``chart_metric`` the metric whose gap the chart plots.
    """

    attribute: str
    reference: str
    rows_judged: int
    utility: str
    metrics: list[str]
    sentences: list[tuple[str, dict[str, Any]]]
    frontier: list[dict[str, Any]]
    chart_metric: str
    other_model: bool = False


@dataclass(frozen=True)
class ReportContent:
    """Everything the report shows, section by section."""

    cover: dict[str, Any]
    summary: dict[str, Any]
    scope: dict[str, Any]
    method: dict[str, Any]
    results: list[ResultBlock]
    findings: list[Finding]
    limitations: list[tuple[str, dict[str, Any]]]
    recommendations: list[tuple[str, dict[str, Any]]]
    frameworks: list[dict[str, Any]]
    signoff: dict[str, Any]
    appendix: dict[str, Any]
    small_cell_k: int
    notes: list[str] = field(default_factory=list)
    amounts: list[AmountTable] = field(default_factory=list)
    flips: dict[str, Any] = field(default_factory=dict)
    alternatives: Alternatives | None = None


def metric_label(metric: str) -> MetricLabel:
    """How the report names ``metric``: its registry full name, with the tier or column (and ``qNN``) kept as is.

    Examples
    --------
    >>> str(metric_label("fpr")), str(metric_label("tier_at_least:high")), str(metric_label("q90:days"))
    ('false positive rate', 'cumulative tier rate: high', 'quantile q90: days')
    """
    if metric in METRICS:
        return MetricLabel(METRICS[metric].full_name)
    family = metric_family(metric)
    extra = EXTRA_METRICS.get(family)
    if extra is None:
        return MetricLabel(metric)
    head, _, subject = metric.partition(":")
    return MetricLabel(extra.full_name, tag=head if family == "quantile" else "", subject=subject)


def is_amount(metric: str) -> bool:
    """Whether ``metric`` is an amount (``mean:``, ``median:``, ``qNN:``): a number in the column's units."""
    extra = EXTRA_METRICS.get(metric_family(metric))
    return extra is not None and extra.needs == "amount"


def _num(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _cover(result: AuditResult, today: dt.date) -> dict[str, Any]:
    spec, report = result.spec, result.spec.report
    return {"title": report.title, "system": spec.system.name, "agency": report.agency or spec.system.owner,
            "purpose": spec.system.purpose, "decision_supported": report.decision_supported,
            "affected": report.affected, "period": report.period, "audit_date": report.audit_date or today,
            "auditor": report.auditor}


# The sentence of a failed comparison, by bound and by whether it has a confidence interval: a finding
# judged on the point estimate of a ratio of medians has none, and says so rather than "CI — to —". What
# the policy allows follows as its own clause (:data:`_POLICY_CLAUSES`), so a one-sided band reads right.
_FAIL_TITLES: dict[tuple[str, bool], str] = {
    ("ratio", True): "The {metric} of {group} ({attribute}) was {estimate} times that of {reference} "
                     "({level}% CI {low} to {high})",
    ("ratio", False): "The {metric} of {group} ({attribute}) was {estimate} times that of {reference} "
                      "(no confidence interval for this ratio)",
    ("difference", True): "The {metric} of {group} ({attribute}) differed from that of {reference} by {estimate} "
                          "({level}% CI {low} to {high})",
    ("difference", False): "The {metric} of {group} ({attribute}) differed from that of {reference} by "
                           "{estimate} (no confidence interval for this difference)",
}
# What the policy allows, by which ends of the band are set (low, high).
_POLICY_CLAUSES: dict[tuple[bool, bool], str] = {
    (True, True): "; the policy allows {band_low} to {band_high}.",
    (True, False): "; the policy allows at least {band_low}.",
    (False, True): "; the policy allows at most {band_high}.",
}
# A verdict whose numbers small-cell suppression withheld: the verdict word is published, nothing else.
_WITHHELD_TITLES: dict[str, str] = {
    "fail": "The {metric} of {group} ({attribute}) compared with {reference}: the figures are withheld to "
            "protect groups of fewer than {k} people; the verdict is fail.",
    "inconclusive": "The {metric} of {group} ({attribute}) compared with {reference}: the figures are withheld "
                    "to protect groups of fewer than {k} people; the verdict is inconclusive.",
}
_INCONCLUSIVE_TITLE = ("The {metric} of {group} ({attribute}) compared with {reference}: too little evidence for a "
                       "verdict ({reason}).")
# What a fail rests on, by the decision rule that made it (appended after what the policy allows).
_FAIL_BASIS: dict[str, str] = {
    "point": "The point rule compares the estimate alone with the band: this fail is not statistically established.",
    "significant": "The estimate is outside the band and statistically significant across the family of {size} "
                   "verdicts (p (family) {p}).",
    "ci": "Its family interval, {family_low} to {family_high} ({confidence} each), lies entirely outside the band.",
}
# What would decide an inconclusive verdict, clause by clause (as :func:`audit.wording.to_decide` words it).
_DETECTABLE: dict[str, str] = {
    "ratio": "detectable with {power} power: a ratio of {value} or further from parity",
    "difference": "detectable with {power} power: a difference of {value} or further from parity",
}
_NO_SIZE_DECIDES = ("at the observed rates no group size decides it (the estimate sits on the band's edge or equals "
                    "the reference)")
# The people needed, by whether the known outcomes and the reference's people are stated.
_NEEDED: dict[tuple[bool, bool], str] = {
    (False, False): "at the observed rates the group needs {people} people",
    (True, False): "at the observed rates the group needs {people} people ({known} with a known outcome)",
    (False, True): "at the observed rates the group needs {people} people and the reference {reference}",
    (True, True): "at the observed rates the group needs {people} people ({known} with a known outcome) and the "
                  "reference {reference}",
}


def _infinite(value: Any) -> bool:
    """Whether ``value`` is an infinite number (``needed_n`` when no group size would decide)."""
    try:
        return math.isinf(float(value))
    except (TypeError, ValueError):
        return False


def to_decide(row: dict[str, Any]) -> Parts:
    """What would decide an inconclusive verdict, as translatable clauses built from its numeric columns.

    ``row`` is a verdicts row: ``detectable_ratio`` or ``detectable_difference``
    (by its ``bound``), ``needed_n`` (``inf`` when no group size decides it),
    ``needed_known_outcomes`` and ``needed_reference_n``. A missing (NaN, or
    withheld) column gives no clause, so a verdict that is not inconclusive
    gives none at all. In English the clauses joined by ``; `` read as
    :func:`audit.wording.to_decide` writes them.

    Examples
    --------
    >>> parts = to_decide({"bound": "ratio", "detectable_ratio": 0.52, "needed_n": 371.0,
    ...                    "needed_known_outcomes": 290.0, "needed_reference_n": float("nan")})
    >>> len(parts), parts[0][0]
    (2, 'detectable with {power} power: a ratio of {value} or further from parity')
    >>> parts[1][0]
    'at the observed rates the group needs {people} people ({known} with a known outcome)'
    >>> parts[1][1]
    {'people': 371, 'known': 290, 'reference': None}
    """
    bound = str(row.get("bound") or "ratio")
    parts: list[tuple[str, dict[str, Any]]] = []
    detectable = _num(row.get(f"detectable_{bound}"))
    if detectable is not None and bound in _DETECTABLE:
        parts.append((_DETECTABLE[bound], {"power": Quantity(DECIDING_POWER, "percent", 0),
                                           "value": Quantity(detectable, "number", 3)}))
    needed = row.get("needed_n")
    if _infinite(needed):
        parts.append((_NO_SIZE_DECIDES, {}))
    elif _num(needed) is not None:
        known, reference = _num(row.get("needed_known_outcomes")), _num(row.get("needed_reference_n"))
        values = {"people": _people(needed), "known": _people(known), "reference": _people(reference)}
        parts.append((_NEEDED[(known is not None, reference is not None)], values))
    return tuple(parts)


def _people(value: Any) -> int | None:
    """A whole number of people, or None when missing."""
    number = _num(value)
    return None if number is None else int(math.ceil(number))


def _family_outside_band(row: dict[str, Any]) -> bool:
    """Whether the family interval of a verdict lies entirely beyond an end of its band that is set.

    A one-sided band (``ratio: [0.8, null]``) has one end to be beyond; a
    verdict without a family interval is never shown to be outside.
    """
    low, high = _num(row.get("family_ci_low")), _num(row.get("family_ci_high"))
    if low is None or high is None:
        return False
    band_low, band_high = _num(row.get("band_low")), _num(row.get("band_high"))
    return (band_high is not None and low > band_high) or (band_low is not None and high < band_low)


def _is_withheld(row: dict[str, Any]) -> bool:
    """Whether small-cell suppression withheld the numbers of a verdict (its reason says so)."""
    return _num(row.get("estimate")) is None and str(row.get("reason") or "").startswith("withheld")


@dataclass(frozen=True)
class _Title:
    """How a verdict finding is worded: its severity and kind, and the messages of its sentence."""

    severity: str
    kind: FindingKind
    title: str
    policy: str = ""
    basis: str = ""


def _verdict_title(result: AuditResult, row: dict[str, Any]) -> _Title:
    """The wording of a failed or inconclusive verdict.

    A fail is high when its family interval lies entirely beyond the band
    (one-sided bands included), else medium; what it rests on follows its
    decision rule (:data:`_FAIL_BASIS`: a point-rule fail is not statistically
    established). An inconclusive verdict is low.
    """
    failed = row["verdict"] == "fail"
    if _is_withheld(row):
        kind: FindingKind = "selective_labels" if _owed_to_selective_labels(result, row) else "inconclusive"
        return _Title("medium", "disparity", _WITHHELD_TITLES["fail"]) if failed \
            else _Title("low", kind, _WITHHELD_TITLES["inconclusive"])
    if failed:
        has_interval = _num(row.get("ci_low")) is not None and _num(row.get("ci_high")) is not None
        ends = (_num(row.get("band_low")) is not None, _num(row.get("band_high")) is not None)
        return _Title("high" if _family_outside_band(row) else "medium", "disparity",
                      _FAIL_TITLES[(row["bound"], has_interval)], _POLICY_CLAUSES.get(ends, ""),
                      _FAIL_BASIS.get(str(row.get("decision_rule")), ""))
    kind = "selective_labels" if _owed_to_selective_labels(result, row) else "inconclusive"
    return _Title("low", kind, _INCONCLUSIVE_TITLE)


def _owed_to_selective_labels(result: AuditResult, row: dict[str, Any]) -> bool:
    """Whether an inconclusive verdict comes from selective labels rather than from too little data.

    It does when its reason says so, or when its rule refuses to pass on a
    metric computed on checked cases only and this comparison is one (more
    data of the same kind could never let it pass).
    """
    if "selective labels" in str(row.get("reason") or ""):
        return True
    index = row.get("rule_index")
    refuses = index is not None and 0 <= int(index) < len(result.spec.policy) \
        and result.spec.policy[int(index)].selective_labels == "refuse"
    return bool(refuses and row.get("selective_labels") == True)  # noqa: E712 - NaN or a numpy bool


def _findings(result: AuditResult, verdicts: pd.DataFrame) -> list[Finding]:
    frameworks = result.spec.report.frameworks
    findings: list[Finding] = []
    for row in verdicts.to_dict(orient="records"):
        if row["verdict"] not in ("fail", "inconclusive"):
            continue
        wording = _verdict_title(result, row)
        findings.append(Finding(
            severity=wording.severity, kind=wording.kind, title=wording.title, policy=wording.policy,
            basis=wording.basis, decide=to_decide(row) if row["verdict"] == "inconclusive" else (),
            values={"metric": metric_label(row["metric"]), "group": row["group"], "attribute": row["attribute"],
                    "reference": row["reference"], "bound": row["bound"], "estimate": _num(row.get("estimate")),
                    "low": _num(row.get("ci_low")), "high": _num(row.get("ci_high")),
                    "family_low": _num(row.get("family_ci_low")), "family_high": _num(row.get("family_ci_high")),
                    "p": Quantity(_num(row.get("p_family")), "p"),
                    "confidence": Quantity(result.family.confidence, "confidence"), "size": result.family.size,
                    "band_low": _num(row.get("band_low")), "band_high": _num(row.get("band_high")),
                    "level": round(result.spec.statistics.confidence * 100), "reason": row.get("reason") or "",
                    "k": result.spec.report.small_cell_k, "withheld": _is_withheld(row)},
            evidence=f"{row['rule']} [{row['view']}]", groups=(str(row["group"]),),
            obligations=tuple(obligations(wording.kind, frameworks)), rule=str(row["rule"])))
    proxies = result.table("proxies")
    if len(proxies):
        for row in proxies[proxies["flagged"] == True].to_dict(orient="records"):  # noqa: E712
            findings.append(Finding(
                "medium", "proxy", "Column {column} reveals {protected} ({measure} {strength})",
                {"column": row["column"], "protected": row["protected"], "measure": row["measure"],
                 "strength": _num(row["strength"])},
                "proxies", (), tuple(obligations("proxy", frameworks))))
    effects = result.table("override_effects")
    if len(effects):
        for row in effects[effects["effect"] == "widens"].to_dict(orient="records"):
            findings.append(Finding(
                "medium", "override", "Human overrides widen the disparity in {metric} for {group} ({attribute})",
                {"metric": metric_label(row["metric"]), "group": row["group"], "attribute": row["attribute"]},
                "override_effects", (str(row["group"]),), tuple(obligations("override", frameworks))))
    findings.sort(key=lambda f: SEVERITY_ORDER[f.severity])
    return findings


def _first_view_rows(groups: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The rows of ``metric`` in the first view that has any (amount views have no ``count`` or ``share``)."""
    rows = groups[groups["metric"] == metric]
    return rows[rows["view"] == rows["view"].iloc[0]] if len(rows) else rows


def _round_robin_by_rule(findings: list[Finding], limit: int) -> list[Finding]:
    """At most ``limit`` findings, taken one per rule in turn so that every rule shows before any shows twice.

    Rules take turns in the order they first appear; within a rule the
    findings keep their order.
    """
    by_rule: dict[str, list[Finding]] = {}
    for finding in findings:
        by_rule.setdefault(finding.rule, []).append(finding)
    rounds = max((len(queue) for queue in by_rule.values()), default=0)
    turns = [queue[i] for i in range(rounds) for queue in by_rule.values() if i < len(queue)]
    return turns[:limit]


def _unknown_counts(groups: pd.DataFrame, attributes: list[str]) -> list[dict[str, Any]]:
    """The people with no value of each protected attribute, from the first view that counts people.

    Only the ``attributes`` themselves are listed: an intersection's unknown
    cells hold the same people again, split by the other attribute.
    """
    count = _first_view_rows(groups, "count")
    count = count[(count["unknown"] == True) & count["attribute"].isin(attributes)]  # noqa: E712
    return [{"attribute": r["attribute"], "n": r["n"]} for r in count.to_dict(orient="records")]


def _excluded(result: AuditResult, groups: pd.DataFrame) -> list[dict[str, Any]]:
    """Categories below the spec's small-share threshold, with their count and rate (NYC LL144 §5-301(d))."""
    threshold = result.spec.report.small_share
    share = _first_view_rows(groups, "share")
    if threshold is None or not len(share):
        return []
    view = share["view"].iloc[0]
    rate = groups[(groups["metric"] == "selection_rate") & (groups["view"] == view)].set_index(["attribute", "group"])
    rows = []
    for r in share.to_dict(orient="records"):
        value = _num(r["value"])
        if value is not None and value < threshold and not r["unknown"]:
            key = (r["attribute"], r["group"])
            rows.append({"attribute": r["attribute"], "group": r["group"], "share": value,
                         "n": rate.loc[key, "n"] if key in rate.index else r["numerator"],
                         "rate": _num(rate.loc[key, "value"]) if key in rate.index else None})
    return rows


def _rows_of(frame: pd.DataFrame, metric: str, attribute: str, view: str) -> pd.DataFrame:
    """The rows of ``frame`` (groups or comparisons) of one metric, attribute and decision view, by group."""
    return frame[(frame["metric"] == metric) & (frame["attribute"] == attribute)
                 & (frame["view"] == view)].set_index("group")


def _cell(frame: pd.DataFrame, group: Any, column: str) -> float | None:
    """``frame.at[group, column]`` as a finite float, or None when the group has no row or no number."""
    return _num(frame.at[group, column]) if group in frame.index else None


def _heat(attribute: str, table: list[dict[str, Any]], first: dict[str, Any]) -> dict[str, Any] | None:
    """The heat map of a two-attribute intersection: cells by (row group, column group), the reference at 1 or 0."""
    parts = attribute.split(INTERSECTION_JOIN)
    if len(parts) != 2:
        return None
    cells: dict[tuple[str, str], float | None] = {}
    for r in table:
        pieces = str(r["group"]).split(INTERSECTION_JOIN)
        if len(pieces) == 2:
            cells[(pieces[0], pieces[1])] = r["estimate"]
    row_names = list(dict.fromkeys(k[0] for k in cells))
    col_names = list(dict.fromkeys(k[1] for k in cells))
    reference = str(first["reference"]).split(INTERSECTION_JOIN)
    if len(reference) == 2:
        cells[(reference[0], reference[1])] = 1.0 if first["bound"] == "ratio" else 0.0
        row_names = list(dict.fromkeys([reference[0]] + row_names))
        col_names = list(dict.fromkeys([reference[1]] + col_names))
    return {"rows": row_names, "columns": col_names, "cells": cells}


def _verdict_row(r: dict[str, Any], own: pd.DataFrame, compared: pd.DataFrame) -> dict[str, Any]:
    """One row of a result block: the group's own value and interval, the estimate with its ordinary and family
    intervals, the family-adjusted p-value, the verdict and, when inconclusive, what would decide it."""
    return {"group": r["group"], "n": r["n"], "reference": r["reference"],
            "value": _cell(compared, r["group"], "value"),
            "rate_low": _cell(own, r["group"], "ci_low"), "rate_high": _cell(own, r["group"], "ci_high"),
            "estimate": _num(r["estimate"]), "low": _num(r["ci_low"]), "high": _num(r["ci_high"]),
            "family_low": _num(r.get("family_ci_low")), "family_high": _num(r.get("family_ci_high")),
            "p_family": _num(r.get("p_family")), "verdict": r["verdict"], "reason": r["reason"],
            "decide": to_decide(r) if r["verdict"] == "inconclusive" else ()}


def _result_block(rows: pd.DataFrame, groups: pd.DataFrame, comparisons: pd.DataFrame) -> ResultBlock:
    """The block of one rule, decision view and attribute: its verdict rows with each group's own value."""
    first = rows.iloc[0].to_dict()
    metric, view, attribute = first["metric"], first["view"], first["attribute"]
    own = _rows_of(groups, metric, attribute, view)
    compared = _rows_of(comparisons, metric, attribute, view)
    table = [_verdict_row(r, own, compared) for r in rows.to_dict(orient="records")]
    rates = [{"group": group, "n": r["n"], "value": _num(r["value"]), "low": _num(r["ci_low"]),
              "high": _num(r["ci_high"]), "reason": r["reason"], "unknown": bool(r["unknown"])}
             for group, r in own.iterrows()]
    low, high = _num(first["band_low"]), _num(first["band_high"])
    band = (-math.inf if low is None else low, math.inf if high is None else high)
    return ResultBlock(attribute=attribute, rule=first["rule"], metric=metric, view=view, bound=first["bound"],
                       band=band, rows=table, rates=rates, heat=_heat(attribute, table, first),
                       label=metric_label(metric), amount=is_amount(metric))


def _results(groups: pd.DataFrame, comparisons: pd.DataFrame, verdicts: pd.DataFrame) -> list[ResultBlock]:
    """One block per rule × decision view × attribute, in the verdicts' order.

    A rule judged in several views (``score ≥ 0.7`` and ``top 1,000``) gets a
    block for each, with that view's own values, intervals and charts.
    """
    if not len(verdicts):
        return []
    return [_result_block(rows, groups, comparisons)
            for _, rows in verdicts.groupby(["rule_index", "view", "attribute"], sort=False)]


def _amount_tables(result: AuditResult, groups: pd.DataFrame) -> list[AmountTable]:
    """Every amount of the spec, with or without a rule on it: each group's mean, median and quantiles."""
    tables = []
    for amount in result.spec.amounts:
        metrics = amount_metrics(groups, amount.column)
        rows = groups[groups["view"] == f"amount: {amount.column}"]
        body = []
        for (attribute, group), cells in rows.groupby(["attribute", "group"], sort=False):
            by_metric = cells.set_index("metric")
            body.append({"attribute": attribute, "group": group, "n": cells["n"].iloc[0],
                         "unknown": bool(cells["unknown"].iloc[0]),
                         "cells": [(_cell(by_metric, m, "value"), _cell(by_metric, m, "ci_low"),
                                    _cell(by_metric, m, "ci_high")) for m in metrics]})
        if metrics:
            tables.append(AmountTable(column=amount.column, higher_is=amount.higher_is,
                                      metrics=[MetricLabel(metric_label(m).name, metric_label(m).tag)
                                               for m in metrics], rows=body))
    return tables


_A_WORD = re.compile(r"(?<!\w)[a-z]{3,}(?!\w)")
"""A lower-case English word standing alone (not ``n_group``, not ``TP``): a definition with one is in words."""


def _definition(metric: str) -> dict[str, Any]:
    """A metric's name and definition for the method table; a definition in words is translated, symbols
    (``TP / (TP + FN)``) are not."""
    formula = METRICS[metric].formula if metric in METRICS else EXTRA_METRICS[metric_family(metric)].definition
    return {"metric": metric, "label": metric_label(metric), "formula": formula,
            "translate": bool(_A_WORD.search(formula))}


def _family(result: AuditResult) -> dict[str, Any]:
    """The family of the audit's verdicts as the report states it: its size ``M``, ``alpha`` and the confidence
    ``1 - alpha / M`` of each family interval; ``level`` is the confidence of the ordinary intervals."""
    family = result.family
    return {"size": family.size, "alpha": family.alpha, "confidence": Quantity(family.confidence, "confidence"),
            "level": Quantity(result.spec.statistics.confidence, "confidence"),
            "power": Quantity(DECIDING_POWER, "percent", 0)}


def _method(result: AuditResult, comparisons: pd.DataFrame) -> dict[str, Any]:
    spec = result.spec
    metrics = sorted(set(result.verdicts["metric"])) if len(result.verdicts) else []
    references = (comparisons[["attribute", "reference", "reference_rule"]].drop_duplicates("attribute")
                  .to_dict(orient="records") if len(comparisons) else [])
    definitions = [_definition(m) for m in metrics if m in METRICS or metric_family(m) in EXTRA_METRICS]
    tiers = spec.tiers
    model = result.provenance.model
    return {"metrics": definitions, "references": references, "adverse": spec.adverse,
            "tiers": {"column": spec.decision_column, "ordered": tiers.ordered,
                      "runs": tier_runs(tiers.values)} if tiers is not None else None,
            "model": {"path": model.get("path"), "format": model.get("format"),
                      "sha256": str(model.get("sha256") or "")} if model else None,
            "confidence": spec.statistics.confidence, "correction": spec.statistics.correction,
            "min_group_size": spec.statistics.min_group_size, "min_expected": spec.statistics.min_expected,
            "min_expected_default": StatisticsSpec.model_fields["min_expected"].default,
            "family": _family(result),
            "rules": [r for r in dict.fromkeys(result.verdicts["rule"])] if len(result.verdicts) else [],
            "bootstrap": spec.statistics.bootstrap_replicates, "seed": spec.statistics.seed}


def _disclosure(release: PublicRelease) -> dict[str, Any] | None:
    """What the disclosure audit checked and withheld, for the method section (None when it did not run)."""
    check = release.check
    if not check.atoms:
        return None
    return {"width": check.width, "checked": check.checked, "added": check.added,
            "primary": release.withheld.get("primary", 0), "secondary": release.withheld.get("secondary", 0)}


def _by_point_rule(verdicts: pd.DataFrame) -> pd.Series:
    """Which verdicts a ``point`` rule decided (none in a table without ``decision_rule``)."""
    if "decision_rule" not in verdicts:
        return pd.Series(False, index=verdicts.index)
    return verdicts["decision_rule"] == "point"


def _point_fails(verdicts: pd.DataFrame) -> int:
    """How many fails a ``point`` rule made (the estimate alone: not statistically established)."""
    return int(((verdicts["verdict"] == "fail") & _by_point_rule(verdicts)).sum()) if len(verdicts) else 0


def _limitations(result: AuditResult, comparisons: pd.DataFrame, unknown: list[dict[str, Any]],
                 verdicts: pd.DataFrame) -> list[tuple[str, dict[str, Any]]]:
    items: list[tuple[str, dict[str, Any]]] = []
    if len(comparisons) and comparisons["selective_labels"].fillna(False).astype(bool).any():
        items.append(("Error rates use only the cases whose outcome was checked (selective labels); cases never "
                      "checked may differ, so these rates can be biased.", {}))
    if unknown:
        items.append(("Some people have no recorded value of a protected attribute; they are counted as unknown "
                      "and are not compared.", {}))
    small = verdicts[verdicts["reason"].astype(str).str.contains("too few people")] if len(verdicts) else verdicts
    if len(small):
        items.append(("{count} comparisons had too few people for a verdict; their disparities are neither "
                      "shown to exist nor shown to be absent.", {"count": len(small)}))
    if _by_point_rule(verdicts).any():
        items.append(("Point rules compare each estimate alone with its band: their verdicts are outside the "
                      "family-wise error control, and a point-rule fail is not statistically established.", {}))
    items.append(("The data cover one period only; the audit does not show how the system behaves over time.",
                  {}))
    items.append(("The audit measures differences in outcomes between groups; it does not establish why they "
                  "occur, nor whether a different system would serve the purpose with less disparity.", {}))
    items += [(text, {}) for text in result.spec.report.limitations]
    return items


def _recommendations(result: AuditResult, findings: list[Finding]) -> list[tuple[str, dict[str, Any]]]:
    items: list[tuple[str, dict[str, Any]]] = []
    for f in findings:
        if f.kind == "disparity":
            items.append(("Investigate the causes of the disparity in {metric} for {group} ({attribute}) and "
                          "test a less discriminatory alternative before further use.", f.values))
        elif f.kind == "proxy":
            items.append(("Review whether column {column} should be used: it stands in for {protected}.",
                          f.values))
    if any(f.kind == "inconclusive" for f in findings):  # too few people, or an interval too wide
        items.append(("Collect enough data on the small groups to reach a verdict, and audit again.", {}))
    if any(f.kind == "selective_labels" for f in findings):
        items.append(("Draw a random evaluation sample whose outcomes are checked whatever the decision, so that "
                      "error rates can be estimated without selective labels.", {}))
    items += [(text, {}) for text in result.spec.report.recommendations]
    return list({(text, tuple(sorted(map(str, values.items())))): (text, values) for text, values in items}.values())


def _frameworks(result: AuditResult, groups: pd.DataFrame, comparisons: pd.DataFrame,
                unknown: list[dict[str, Any]], excluded: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answers = result.spec.report.answers
    sections = []
    for key in result.spec.report.frameworks:
        profile = PROFILES[key]
        items = [{"id": item.id, "text": item.text, "source": item.source, "answer": answers.get(item.id)}
                 for item in profile.items]
        section: dict[str, Any] = {"key": key, "title": profile.title, "intro": profile.intro, "items": items}
        if key == "nyc_ll144":
            metric = "scoring_rate" if (groups["metric"] == "scoring_rate").any() else "selection_rate"
            rows = groups[(groups["metric"] == metric)]
            view = rows["view"].iloc[0] if len(rows) else None
            rows = rows[rows["view"] == view]
            impact = comparisons[(comparisons["metric"] == metric) & (comparisons["view"] == view)]
            impact = impact.set_index(["attribute", "group"])["impact_ratio"].to_dict() if len(impact) else {}
            section["table"] = [{"attribute": r["attribute"], "group": r["group"], "n": r["n"],
                                 "rate": _num(r["value"]),
                                 "impact_ratio": _num(impact.get((r["attribute"], r["group"]))),
                                 "unknown": bool(r["unknown"])} for r in rows.to_dict(orient="records")]
            section["metric"] = metric_label(metric)
            section["unknown"] = unknown
            section["excluded"] = excluded
        sections.append(section)
    return sections


_LARGEST_FLIP = ("The largest flip rate is {rate} ({level}% CI {low} to {high}): rows of {group} ({attribute}) set "
                 "to {set_to}.")
_NO_FLIP = "No decision flipped: the model decided every row the same whichever group's value it was given."


def _flips(result: AuditResult, flips: pd.DataFrame) -> dict[str, Any]:
    """The counterfactual flip test: a table per column flipped, its largest flip rate, and how many rows
    ``flip_rows`` lists (by row number, in result.json only). Empty when the audit ran no flip test."""
    if not len(flips):
        return {}
    tables = [FlipTable(attribute=str(attribute), rows=[
        {"group": r["group"], "set_to": r["set_to"], "rows": r["rows"], "flips": r["flips"],
         "rate": _num(r["flip_rate"]), "low": _num(r["ci_low"]), "high": _num(r["ci_high"]),
         "to_positive": r["to_positive"], "to_negative": r["to_negative"]} for r in rows.to_dict(orient="records")])
        for attribute, rows in flips.groupby("attribute", sort=False)]
    rated = [(r, t.attribute) for t in tables for r in t.rows if r["rate"] is not None]
    largest: tuple[str, dict[str, Any]] | None = None
    if rated:
        top, attribute = max(rated, key=lambda pair: pair[0]["rate"])
        largest = (_NO_FLIP, {}) if top["rate"] == 0 else (_LARGEST_FLIP, {
            "rate": Quantity(top["rate"], "percent", 1), "low": Quantity(top["low"], "percent", 1),
            "high": Quantity(top["high"], "percent", 1), "level": round(result.spec.statistics.confidence * 100),
            "group": top["group"], "attribute": attribute, "set_to": top["set_to"]})
    return {"tables": tables, "largest": largest, "listed": "flip_rows" in result.tables}


_ALTERNATIVE = {  # by what the alternative does to accuracy, as Frontier.sentence words it
    "cost": "An alternative exists ({alternative}) that cuts the gap in {metric} by {attribute} from {current} to "
            "{best} at a cost of {points} points of accuracy ({current_accuracy} → {best_accuracy}; {utility} "
            "{current_utility} → {best_utility}; judged on {rows} held-out rows).",
    "gain": "An alternative exists ({alternative}) that cuts the gap in {metric} by {attribute} from {current} to "
            "{best} with a gain of {points} points of accuracy ({current_accuracy} → {best_accuracy}; {utility} "
            "{current_utility} → {best_utility}; judged on {rows} held-out rows).",
    "same": "An alternative exists ({alternative}) that cuts the gap in {metric} by {attribute} from {current} to "
            "{best} at the same accuracy ({current_accuracy} → {best_accuracy}; {utility} {current_utility} → "
            "{best_utility}; judged on {rows} held-out rows).",
}
_NO_ALTERNATIVE = "No alternative tried narrows the gap in {metric} by {attribute} below the current model's {current}."
_NO_GAP = "The gap in {metric} by {attribute} is undefined for the current model."
_FRONTIER_NUMBERS = ("accuracy", "utility")
_FRONTIER_KEYS = ("alternative", "current", "accuracy")


def read_alternatives(out_dir: str | Path) -> dict[str, Any] | None:
    """The frontier ``audit alternatives`` wrote into ``out_dir`` (``alternatives.json``), or None when absent.

    Raises
    ------
    DataError
        The file is not a frontier (not JSON, or without ``frontier`` rows).
    """
    path = Path(out_dir) / "alternatives.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DataError(f"{path}: cannot be read as JSON ({error}); write it again with 'audit alternatives SPEC "
                        f"--out {path.parent}' or remove it", reason=ReasonCode.DATA_UNREADABLE) from None
    rows = data.get("frontier") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise DataError(f"{path}: holds no 'frontier' rows, so it is not a frontier written by 'audit alternatives'; "
                        f"write it again or remove it", reason=ReasonCode.DATA_UNREADABLE)
    missing = [key for key in _FRONTIER_KEYS if any(key not in r for r in rows)]
    if missing:
        raise DataError(f"{path}: a 'frontier' row has no '{missing[0]}' (every row needs "
                        f"{', '.join(_FRONTIER_KEYS)}); write it again with 'audit alternatives' or remove it",
                        reason=ReasonCode.DATA_UNREADABLE)
    return data


def _frontier(data: dict[str, Any]) -> Any:
    """The :class:`audit.alternatives.Frontier` of an ``alternatives.json`` (to ask it for the best alternative)."""
    from audit.alternatives import AlternativeOptions, Frontier

    table = pd.DataFrame(data["frontier"])
    for column in table.columns:
        if column in _FRONTIER_NUMBERS or str(column).endswith(("_gap", "_ratio")):
            table[column] = pd.to_numeric(table[column], errors="coerce")
    table["current"] = table["current"].fillna(False).astype(bool)
    return Frontier(table=table, attribute=str(data.get("attribute")), reference=str(data.get("reference")),
                    rows_fitted=int(data.get("rows_fitted") or 0), rows_judged=int(data.get("rows_judged") or 0),
                    options=AlternativeOptions(utility=str(data.get("utility") or "balanced_accuracy")))


def _alternative_sentence(frontier: Any, metric: str) -> tuple[str, dict[str, Any]]:
    """The finding for one disparity metric, as :meth:`Frontier.sentence` words it, to be translated."""
    gap = f"{metric}_gap"
    current = frontier.table[frontier.table["current"]].iloc[0]
    values: dict[str, Any] = {"metric": metric_label(metric), "attribute": frontier.attribute,
                              "current": Quantity(abs(current[gap]), "fixed", 2)}
    if _num(current[gap]) is None:
        return _NO_GAP, values
    best = frontier.best(metric)
    if best is None:
        return _NO_ALTERNATIVE, values
    from audit.alternatives import accuracy_change

    change, points = accuracy_change(current["accuracy"], best["accuracy"])
    return _ALTERNATIVE[change], values | {
        "alternative": str(best["alternative"]), "best": Quantity(abs(best[gap]), "fixed", 2),
        "points": Quantity(points, "fixed", 1), "current_accuracy": Quantity(current["accuracy"], "fixed", 3),
        "best_accuracy": Quantity(best["accuracy"], "fixed", 3), "utility": frontier.options.utility,
        "current_utility": Quantity(current["utility"], "fixed", 3),
        "best_utility": Quantity(best["utility"], "fixed", 3), "rows": int(frontier.rows_judged)}


def _alternatives(result: AuditResult, data: dict[str, Any] | None) -> Alternatives | None:
    """The alternatives section from ``alternatives.json``: a sentence per disparity metric, the frontier rows.

    None without the file, or when its frontier has no current model or no gap to compare.
    """
    if data is None:
        return None
    from audit.alternatives import DISPARITY_METRICS

    frontier = _frontier(data)
    metrics = [m for m in DISPARITY_METRICS if f"{m}_gap" in frontier.table.columns]
    if not metrics or not frontier.table["current"].any():
        return None
    rows = [{"alternative": r["alternative"], "current": r["current"], "accuracy": _num(r.get("accuracy")),
             "utility": _num(r.get("utility")), "gaps": {m: _num(r.get(f"{m}_gap")) for m in metrics}}
            for r in frontier.table.to_dict(orient="records")]
    plotted = [m for m in ("fpr", "selection_rate", "fnr") if m in metrics and frontier.table[f"{m}_gap"].notna().any()]
    theirs = ((data.get("provenance") or {}).get("model") or {}).get("sha256")
    ours = (result.provenance.model or {}).get("sha256")
    return Alternatives(attribute=frontier.attribute, reference=frontier.reference, rows_judged=frontier.rows_judged,
                        utility=str(data.get("utility") or ""), metrics=metrics,
                        sentences=[_alternative_sentence(frontier, m) for m in metrics], frontier=rows,
                        chart_metric=plotted[0] if plotted else "",
                        other_model=bool(theirs and ours and theirs != ours))


def build_content(release: PublicRelease, *, today: dt.date | None = None, manifest: dict[str, Any] | None = None,
                  alternatives: dict[str, Any] | None = None) -> ReportContent:
    """The report's content from a public release (:func:`audit.release.build_release`), and nothing else.

    Every table, note and count comes from ``release.result``, the public result (suppressed tables, notes
    quoting no count below k, provenance without withheld counts); the appendix gives the SHA-256 of the
    published tables, never one of the unsuppressed result. ``alternatives`` is the content of an
    ``alternatives.json`` (:func:`read_alternatives`), shown with the recommendations.
    """
    result = release.result
    today = today or dt.date.today()
    groups, comparisons, verdicts = result.groups, result.comparisons, result.verdicts
    findings = _findings(result, verdicts)
    unknown = _unknown_counts(groups, [p.column for p in result.spec.protected])
    excluded = _excluded(result, groups)
    counts = result.verdict_counts()
    top = _round_robin_by_rule([f for f in findings if f.kind == "disparity"], SUMMARY_FINDINGS)
    data = result.provenance.data
    return ReportContent(
        cover=_cover(result, today),
        summary={"verdict": result.verdict, "counts": counts, "top": top,
                 "findings": len(findings), "family": _family(result),
                 "point_fails": _point_fails(verdicts)},
        scope={"source": result.spec.report.data_source or data.source, "format": data.format,
               "sha256": data.sha256, "rows_read": result.provenance.rows_read,
               "rows_used": result.provenance.rows_used, "where": result.spec.data.where,
               "period": result.spec.report.period, "unknown": unknown, "excluded": excluded,
               "small_share": result.spec.report.small_share,
               "justification": result.spec.report.small_share_justification,
               "attributes": [p.column for p in result.spec.protected],
               "intersections": [INTERSECTION_JOIN.join(i.columns) for i in result.spec.intersections]},
        method=_method(result, comparisons) | {"disclosure": _disclosure(release)},
        results=_results(groups, comparisons, verdicts),
        findings=findings,
        limitations=_limitations(result, comparisons, unknown, verdicts),
        recommendations=_recommendations(result, findings),
        frameworks=_frameworks(result, groups, comparisons, unknown, excluded),
        signoff={"auditor": result.spec.report.auditor, "reviewer": result.spec.report.reviewer,
                 "date": result.spec.report.audit_date or today},
        appendix={"toolkit_version": result.provenance.toolkit_version, "packages": result.provenance.packages,
                  "spec_yaml": yaml.safe_dump(spec_to_dict(result.spec), allow_unicode=True, sort_keys=False),
                  "spec_sha256": result.provenance.spec_sha256, "data_sha256": data.sha256,
                  "seed": result.provenance.seed, "result_sha256": release.public_sha256,
                  "created_at": result.provenance.created_at, "manifest": manifest or {}},
        small_cell_k=release.k,
        notes=list(result.notes),
        amounts=_amount_tables(result, groups),
        flips=_flips(result, result.table("flips")),
        alternatives=_alternatives(result, alternatives),
    )
