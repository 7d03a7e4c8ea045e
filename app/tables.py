"""The result's tables as the Results page shows them: formatted in the visitor's language, verdicts coloured.

Nothing is computed here: every number comes from the result's ``groups``,
``comparisons`` and ``verdicts`` tables; this module only picks rows, joins
a group's rate to its comparison and writes numbers as text. An undefined
value is written as "undefined" with its reason, never as 0.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from audit.metrics import EXTRA_METRICS, METRICS, metric_family
from audit.result import AuditResult
from audit_app.text import _, count, num, span, verdict_word

VERDICT_STYLE = {"pass": "background-color: #d5f5e3; color: #145a32",
                 "fail": "background-color: #fadbd8; color: #78281f; font-weight: 600",
                 "inconclusive": "background-color: #fcf3cf; color: #7d6608"}


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


def rule_table(rows: pd.DataFrame, *, bound: str) -> pd.DataFrame:
    """``rule_rows`` as text columns for display."""
    shown = []
    for r in rows.to_dict("records"):
        shown.append({
            _("Group"): r["group"],
            _("People"): count(r["n"]),
            _("Rate (interval)"): _with_interval(r.get("value"), r.get("rate_ci_low"), r.get("rate_ci_high"),
                                                 r.get("rate_status"), r.get("rate_reason")),
            _("Reference rate"): num(r.get("reference_value")),
            (_("Ratio (interval)") if bound == "ratio" else _("Difference (interval)")):
                _with_interval(r["estimate"], r["ci_low"], r["ci_high"]),
            _("Adjusted p"): num(r["p_adjusted"], 2),
            _("Verdict"): verdict_word(r["verdict"]),
            _("Why"): r["reason"],
        })
    return pd.DataFrame(shown)


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
    """An extra table (tiers, overrides, proxies, amounts) with numbers rounded for reading."""
    shown = frame.copy()
    for column in shown.columns:
        if pd.api.types.is_float_dtype(shown[column]):
            shown[column] = [num(v) for v in shown[column]]
    return shown


__all__ = ["metric_name", "rule_rows", "reference_row", "rule_table", "style_verdicts", "groups_table",
           "extra_table", "VERDICT_STYLE"]
