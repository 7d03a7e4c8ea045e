"""The oversight report's content, in the order the report shows it, built from an audit result.

Everything here is language-neutral data: numbers stay numbers, and every
fixed sentence is an English message id that the template translates.
Published tables are the small-cell-suppressed ones (:mod:`audit.suppression`),
so a count below k never reaches the report.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import yaml

from audit.metrics import EXTRA_METRICS, METRICS, metric_family
from audit.report.frameworks import PROFILES, FindingKind, obligations
from audit.result import AuditResult
from audit.spec import INTERSECTION_JOIN, spec_to_dict

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
SUMMARY_FINDINGS = 5
"""How many failed comparisons the executive summary lists."""


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


@dataclass(frozen=True)
class ResultBlock:
    """Results of one attribute (or intersection) for one rule: table rows and chart data."""

    attribute: str
    rule: str
    metric: str
    view: str
    bound: str
    band: tuple[float, float]
    rows: list[dict[str, Any]]
    rates: list[dict[str, Any]]
    heat: dict[str, Any] | None = None


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


def _metric_name(metric: str) -> str:
    if metric in METRICS:
        return METRICS[metric].full_name
    family = metric_family(metric)
    extra = EXTRA_METRICS.get(family)
    qualifier = metric.partition(":")[2]
    return f"{extra.full_name}: {qualifier}" if extra and qualifier else extra.full_name if extra else metric


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
# judged on the point estimate of a ratio of medians has none, and says so rather than "CI — to —".
_FAIL_TITLES: dict[tuple[str, bool], str] = {
    ("ratio", True): "The {metric} of {group} ({attribute}) was {estimate} times that of {reference} "
                     "({level}% CI {low} to {high}); the policy allows {band_low} to {band_high}.",
    ("ratio", False): "The {metric} of {group} ({attribute}) was {estimate} times that of {reference} "
                      "(no confidence interval for this ratio); the policy allows {band_low} to {band_high}.",
    ("difference", True): "The {metric} of {group} ({attribute}) differed from that of {reference} by {estimate} "
                          "({level}% CI {low} to {high}); the policy allows {band_low} to {band_high}.",
    ("difference", False): "The {metric} of {group} ({attribute}) differed from that of {reference} by "
                           "{estimate} (no confidence interval for this difference); the policy allows "
                           "{band_low} to {band_high}.",
}


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
        withheld = _num(row.get("estimate")) is None
        kind: FindingKind
        if row["verdict"] == "fail":
            has_interval = _num(row.get("ci_low")) is not None and _num(row.get("ci_high")) is not None
            outside = has_interval and (
                row["ci_low"] > row["band_high"] or row["ci_high"] < row["band_low"]) if row["band_low"] is not None \
                and row["band_high"] is not None else False
            severity, kind = ("high" if outside else "medium"), "disparity"
            title = _FAIL_TITLES[(row["bound"], has_interval or withheld)]  # a withheld one keeps "CI — to —"
        else:
            severity = "low"
            kind = "selective_labels" if _owed_to_selective_labels(result, row) else "inconclusive"
            title = ("The {metric} of {group} ({attribute}) compared with {reference}: too little evidence "
                     "for a verdict ({reason}).")
        findings.append(Finding(
            severity=severity, kind=kind, title=title,
            values={"metric": _metric_name(row["metric"]), "group": row["group"], "attribute": row["attribute"],
                    "reference": row["reference"], "bound": row["bound"], "estimate": _num(row.get("estimate")),
                    "low": _num(row.get("ci_low")), "high": _num(row.get("ci_high")),
                    "band_low": row.get("band_low"), "band_high": row.get("band_high"),
                    "level": round(result.spec.statistics.confidence * 100), "reason": row.get("reason") or "",
                    "withheld": withheld},
            evidence=f"{row['rule']} [{row['view']}]", groups=(str(row["group"]),),
            obligations=tuple(obligations(kind, frameworks)), rule=str(row["rule"])))
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
                {"metric": _metric_name(row["metric"]), "group": row["group"], "attribute": row["attribute"]},
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


def _unknown_counts(groups: pd.DataFrame) -> list[dict[str, Any]]:
    """The people with no value of each protected attribute, from the first view that counts people."""
    count = _first_view_rows(groups, "count")
    count = count[count["unknown"] == True]  # noqa: E712
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


def _results(result: AuditResult, groups: pd.DataFrame, comparisons: pd.DataFrame,
             verdicts: pd.DataFrame) -> list[ResultBlock]:
    blocks = []
    for (rule, attribute), rows in verdicts.groupby(["rule", "attribute"], sort=False):
        first = rows.iloc[0]
        metric, view = first["metric"], first["view"]
        rate_rows = groups[(groups["metric"] == metric) & (groups["attribute"] == attribute)
                           & (groups["view"] == view)]
        compared = comparisons[(comparisons["metric"] == metric) & (comparisons["attribute"] == attribute)
                               & (comparisons["view"] == view)].set_index("group")
        own = rate_rows.set_index("group")
        table = []
        for r in rows.to_dict(orient="records"):
            c = compared.loc[r["group"]] if r["group"] in compared.index else None
            table.append({"group": r["group"], "n": r["n"], "reference": r["reference"],
                          "value": _num(c["value"]) if c is not None else None,
                          "rate_low": _num(own.loc[r["group"], "ci_low"]) if r["group"] in own.index else None,
                          "rate_high": _num(own.loc[r["group"], "ci_high"]) if r["group"] in own.index else None,
                          "estimate": _num(r["estimate"]), "low": _num(r["ci_low"]), "high": _num(r["ci_high"]),
                          "p": _num(r["p_adjusted"]), "verdict": r["verdict"], "reason": r["reason"]})
        rates = [{"group": r["group"], "n": r["n"], "value": _num(r["value"]), "low": _num(r["ci_low"]),
                  "high": _num(r["ci_high"]), "reason": r["reason"], "unknown": bool(r["unknown"])}
                 for r in rate_rows.to_dict(orient="records")]
        heat = None
        parts = attribute.split(INTERSECTION_JOIN)
        if len(parts) == 2:
            cells = {}
            for r in table:
                pieces = str(r["group"]).split(INTERSECTION_JOIN)
                if len(pieces) == 2:
                    cells[(pieces[0], pieces[1])] = r["estimate"]
            row_names = list(dict.fromkeys(k[0] for k in cells)) + []
            col_names = list(dict.fromkeys(k[1] for k in cells))
            reference = str(first["reference"]).split(INTERSECTION_JOIN)
            if len(reference) == 2:
                cells[(reference[0], reference[1])] = 1.0 if first["bound"] == "ratio" else 0.0
                row_names = list(dict.fromkeys([reference[0]] + row_names))
                col_names = list(dict.fromkeys([reference[1]] + col_names))
            heat = {"rows": row_names, "columns": col_names, "cells": cells}
        band = (first["band_low"] if first["band_low"] is not None else -math.inf,
                first["band_high"] if first["band_high"] is not None else math.inf)
        blocks.append(ResultBlock(attribute=attribute, rule=rule, metric=metric, view=view, bound=first["bound"],
                                  band=band, rows=table, rates=rates, heat=heat))
    return blocks


def _method(result: AuditResult, comparisons: pd.DataFrame) -> dict[str, Any]:
    spec = result.spec
    metrics = sorted(set(result.verdicts["metric"])) if len(result.verdicts) else []
    references = (comparisons[["attribute", "reference", "reference_rule"]].drop_duplicates("attribute")
                  .to_dict(orient="records") if len(comparisons) else [])
    definitions = []
    for m in metrics:
        if m in METRICS:
            definitions.append({"metric": m, "name": METRICS[m].full_name, "formula": METRICS[m].formula})
        elif metric_family(m) in EXTRA_METRICS:
            extra = EXTRA_METRICS[metric_family(m)]
            definitions.append({"metric": m, "name": _metric_name(m), "formula": extra.definition})
    return {"metrics": definitions, "references": references, "adverse": spec.adverse,
            "confidence": spec.statistics.confidence, "correction": spec.statistics.correction,
            "min_group_size": spec.statistics.min_group_size, "min_expected": spec.statistics.min_expected,
            "rules": [r for r in dict.fromkeys(result.verdicts["rule"])] if len(result.verdicts) else [],
            "bootstrap": spec.statistics.bootstrap_replicates, "seed": spec.statistics.seed}


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
            section["metric"] = _metric_name(metric)
            section["unknown"] = unknown
            section["excluded"] = excluded
        sections.append(section)
    return sections


def build_content(result: AuditResult, *, tables: dict[str, pd.DataFrame], today: dt.date | None = None,
                  manifest: dict[str, Any] | None = None, notes: list[str] | None = None) -> ReportContent:
    """The report's content from an audit result and the (suppressed) tables to publish.

    ``tables`` holds ``groups``, ``comparisons`` and ``verdicts`` as they may
    be published (after small-cell suppression), ``notes`` the audit's notes
    as they may be published (default: the result's); the result supplies
    the spec and provenance.
    """
    today = today or dt.date.today()
    groups, comparisons, verdicts = tables["groups"], tables["comparisons"], tables["verdicts"]
    findings = _findings(result, verdicts)
    unknown = _unknown_counts(groups)
    excluded = _excluded(result, groups)
    counts = result.verdict_counts()
    top = _round_robin_by_rule([f for f in findings if f.kind == "disparity"], SUMMARY_FINDINGS)
    data = result.provenance.data
    return ReportContent(
        cover=_cover(result, today),
        summary={"verdict": result.verdict, "counts": counts, "top": top,
                 "findings": len(findings)},
        scope={"source": result.spec.report.data_source or data.source, "format": data.format,
               "sha256": data.sha256, "rows_read": result.provenance.rows_read,
               "rows_used": result.provenance.rows_used, "where": result.spec.data.where,
               "period": result.spec.report.period, "unknown": unknown, "excluded": excluded,
               "small_share": result.spec.report.small_share,
               "justification": result.spec.report.small_share_justification,
               "attributes": [p.column for p in result.spec.protected],
               "intersections": [INTERSECTION_JOIN.join(i.columns) for i in result.spec.intersections]},
        method=_method(result, comparisons),
        results=_results(result, groups, comparisons, verdicts),
        findings=findings,
        limitations=_limitations(result, comparisons, unknown, verdicts),
        recommendations=_recommendations(result, findings),
        frameworks=_frameworks(result, groups, comparisons, unknown, excluded),
        signoff={"auditor": result.spec.report.auditor, "reviewer": result.spec.report.reviewer,
                 "date": result.spec.report.audit_date or today},
        appendix={"toolkit_version": result.provenance.toolkit_version, "packages": result.provenance.packages,
                  "spec_yaml": yaml.safe_dump(spec_to_dict(result.spec), allow_unicode=True, sort_keys=False),
                  "spec_sha256": result.provenance.spec_sha256, "data_sha256": data.sha256,
                  "seed": result.provenance.seed, "result_sha256": result.result_sha256,
                  "created_at": result.provenance.created_at, "manifest": manifest or {}},
        small_cell_k=result.spec.report.small_cell_k,
        notes=list(result.notes if notes is None else notes),
    )
