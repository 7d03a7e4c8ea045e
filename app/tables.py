"""The result's tables as the Results page shows them: formatted in the visitor's language, verdicts coloured.

Nothing is computed here: every number comes from the result's ``groups``,
``comparisons`` and ``verdicts`` tables; this module only picks rows, joins
a group's rate to its comparison and writes numbers as text. An undefined
value is written as "undefined" with its reason, never as 0. A verdict shows
its ordinary interval and its family-level interval side by side, each
labelled with its confidence, with p (family), the evidence and, when it is
inconclusive, what would decide it (:mod:`audit_app.verdict_words`).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from audit.metrics import EXTRA_METRICS, METRICS, metric_family
from audit.result import AuditResult
from audit_app.text import MISSING, _, confidence_pct, count, num, p_text, span, verdict_word
from audit_app.verdict_words import evidence_word, test_name, to_decide

VERDICT_STYLE = {"pass": "background-color: #d5f5e3; color: #145a32",
                 "fail": "background-color: #fadbd8; color: #78281f; font-weight: 600",
                 "inconclusive": "background-color: #fcf3cf; color: #7d6608"}


P_VALUE_COLUMNS = frozenset({"p_value", "p_adjusted", "p_family"})
"""Columns of the result's tables that hold p-values."""


def metric_name(metric: str) -> str:
    """A metric's full name in the visitor's language (``tier_rate:blacklist`` keeps its qualifier)."""
    family = metric_family(metric)
    qualifier = metric.partition(":")[2]
    if metric in METRICS:
        return _(METRICS[metric].full_name)
    if family in EXTRA_METRICS:
        name = _(EXTRA_METRICS[family].full_name)
        return f"{name}: {qualifier}" if qualifier else name
    return metric


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _with_interval(value: Any, low: Any, high: Any, status: Any = "ok", reason: Any = "") -> str:
    if status not in (None, "ok") or _missing(value):
        return _("undefined") + (f" ({reason})" if reason else "")
    return f"{num(value)} ({span(low, high)})"


def rule_rows(result: AuditResult, rule_index: int, attribute: str, view: str | None = None) -> pd.DataFrame:
    """One policy rule's verdicts for one attribute, joined to the groups' rates (raw numbers, for charts)."""
    verdicts = result.verdicts
    rows = verdicts[(verdicts["rule_index"] == rule_index) & (verdicts["attribute"] == attribute)]
    if view is not None:
        rows = rows[rows["view"] == view]
    if rows.empty:
        return rows
    rule = result.spec.policy[rule_index]
    comparisons = result.comparisons[(result.comparisons["attribute"] == attribute)
                                     & (result.comparisons["metric"] == rule.metric)]
    groups = result.groups[(result.groups["attribute"] == attribute) & (result.groups["metric"] == rule.metric)]
    merged = rows.merge(comparisons[["view", "group", "value", "reference_value", "ratio", "ratio_ci_low",
                                     "ratio_ci_high", "difference", "difference_ci_low", "difference_ci_high",
                                     "status"]].rename(columns={"status": "comparison_status"}),
                        on=["view", "group"], how="left")
    merged = merged.merge(groups[["view", "group", "ci_low", "ci_high", "status", "reason"]].rename(
        columns={"ci_low": "rate_ci_low", "ci_high": "rate_ci_high", "status": "rate_status",
                 "reason": "rate_reason"}), on=["view", "group"], how="left")
    return merged


def reference_row(result: AuditResult, metric: str, attribute: str, view: str, group: str) -> dict[str, Any] | None:
    """The reference group's own rate row (for the chart and the table's first line)."""
    groups = result.groups
    match = groups[(groups["attribute"] == attribute) & (groups["metric"] == metric) & (groups["view"] == view)
                   & (groups["group"] == group)]
    return match.iloc[0].to_dict() if len(match) else None


def interval_labels(confidence: float, family_confidence: float, *, estimate: str | None = None) -> tuple[str, str]:
    """Column labels of the ordinary and the family-level interval, each with its confidence.

    ``estimate`` names the first column's quantity (``Ratio``...); default "Estimate".
    """
    ordinary = _("{estimate} ({confidence} interval)").format(estimate=estimate or _("Estimate"),
                                                             confidence=confidence_pct(confidence))
    family = _("Family-level interval ({confidence})").format(confidence=confidence_pct(family_confidence))
    return ordinary, family


def _family_span(low: Any, high: Any) -> str:
    return MISSING if _missing(low) and _missing(high) else span(low, high)


def _verdict_columns(r: dict[str, Any], ordinary: str, family: str) -> dict[str, str]:
    """The columns every verdict table shares: the estimate with both intervals, p (family), evidence, verdict,
    why and what would decide (the last empty unless the verdict is inconclusive)."""
    return {
        ordinary: _with_interval(r["estimate"], r["ci_low"], r["ci_high"]),
        family: _family_span(r["family_ci_low"], r["family_ci_high"]),
        _("p (family)"): p_text(r["p_family"]),
        _("Evidence"): evidence_word(r["evidence"]),
        _("Test"): test_name(r["test"]),
        _("Verdict"): verdict_word(r["verdict"]),
        _("Why"): r["reason"],
        _("What would decide"): to_decide(r),
    }


def rule_table(rows: pd.DataFrame, *, bound: str, confidence: float, family_confidence: float) -> pd.DataFrame:
    """``rule_rows`` as text columns for display.

    ``confidence`` is the ordinary intervals' level (``statistics.confidence``),
    ``family_confidence`` the family-level intervals' (``result.family.confidence``);
    both are written in the column labels.
    """
    ordinary, family = interval_labels(confidence, family_confidence,
                                       estimate=_("Ratio") if bound == "ratio" else _("Difference"))
    shown = []
    for r in rows.to_dict("records"):
        shown.append({
            _("Group"): r["group"],
            _("People"): count(r["n"]),
            _("Rate (interval)"): _with_interval(r.get("value"), r.get("rate_ci_low"), r.get("rate_ci_high"),
                                                 r.get("rate_status"), r.get("rate_reason")),
            _("Reference rate"): num(r.get("reference_value")),
            **_verdict_columns(r, ordinary, family),
        })
    return pd.DataFrame(shown)


def verdicts_table(verdicts: pd.DataFrame, *, confidence: float, family_confidence: float) -> pd.DataFrame:
    """Rows of the result's ``verdicts`` table as text columns: who is compared, the estimate with its ordinary and
    family-level intervals, p (family), the evidence, the verdict, why, and what would decide."""
    ordinary, family = interval_labels(confidence, family_confidence)
    shown = [{_("Rule"): r["rule"], _("View"): r["view"], _("Metric"): metric_name(r["metric"]),
              _("Attribute"): r["attribute"], _("Group"): r["group"], _("Reference"): r["reference"],
              _("People"): count(r["n"]), _("Reference people"): count(r["reference_n"]),
              **_verdict_columns(r, ordinary, family)}
             for r in verdicts.to_dict("records")]
    columns = [_("Rule"), _("View"), _("Metric"), _("Attribute"), _("Group"), _("Reference"), _("People"),
               _("Reference people"), ordinary, family, _("p (family)"), _("Evidence"), _("Test"), _("Verdict"),
               _("Why"), _("What would decide")]
    return pd.DataFrame(shown, columns=columns)


def style_verdicts(frame: pd.DataFrame, column: str | None = None) -> Any:
    """A Styler that colours the verdict column (pass green, fail red, inconclusive yellow)."""
    column = column or _("Verdict")
    words = {verdict_word(v): style for v, style in VERDICT_STYLE.items()}
    if column not in frame.columns:
        return frame
    return frame.style.map(lambda value: words.get(value, ""), subset=[column])


def groups_table(result: AuditResult, attribute: str, view: str) -> pd.DataFrame:
    """Every metric of every group of one attribute and view: rate with interval, or undefined and why."""
    groups = result.groups
    rows = groups[(groups["attribute"] == attribute) & (groups["view"] == view)]
    shown = [{_("Metric"): metric_name(r["metric"]), _("Group"): r["group"], _("People"): count(r["n"]),
              _("Value (interval)"): _with_interval(r["value"], r["ci_low"], r["ci_high"], r["status"], r["reason"])}
             for r in rows.to_dict("records")]
    return pd.DataFrame(shown)


def extra_table(frame: pd.DataFrame) -> pd.DataFrame:
    """An extra table (tiers, overrides, proxies, amounts) with numbers rounded for reading (p-values as
    :func:`~audit_app.text.p_text` writes them, so a tiny one is not a row of zeros)."""
    shown = frame.copy()
    for column in shown.columns:
        if pd.api.types.is_float_dtype(shown[column]):
            write = p_text if column in P_VALUE_COLUMNS else num
            shown[column] = [write(v) for v in shown[column]]
    return shown


__all__ = ["metric_name", "rule_rows", "reference_row", "interval_labels", "rule_table", "verdicts_table",
           "style_verdicts", "groups_table", "extra_table", "VERDICT_STYLE"]
