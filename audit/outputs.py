"""Files an audit writes: ``result.json``, ``summary.md`` and ``junit.xml``.

Renderers only format what :class:`~audit.result.AuditResult` holds; they
compute nothing.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pandas as pd

from audit.family import Family
from audit.result import AuditResult
from audit.wording import SYMBOL, decision_sentence, direction, interval, number, p_value, people, percent, to_decide


def family_sentence(family: Family) -> str:
    """The family of an audit's verdicts in one line: its size, its error rate and how intervals and p are adjusted.

    Examples
    --------
    >>> print(family_sentence(Family(34, 0.05)).replace("; ", ";\\n"))
    verdicts: one family of 34, family-wise error rate 0.05;
    family-level intervals at 99.85% each (1 − 0.05/34);
    p (family): Holm over the family
    >>> family_sentence(Family(0, 0.05))
    'verdicts: none (the spec has no policy rules), so no family to adjust for'
    """
    if family.size < 1:
        return "verdicts: none (the spec has no policy rules), so no family to adjust for"
    return (f"verdicts: one family of {family.size:,}, family-wise error rate {family.alpha:g}; family-level "
            f"intervals at {percent(family.confidence)} each (1 − {family.alpha:g}/{family.size}); "
            f"p (family): Holm over the family")


def interval_headers(result: AuditResult) -> tuple[str, str]:
    """Labels of the ordinary and the family-level interval columns, e.g. ``("95% CI", "family CI (99.85%)")``."""
    return (f"{percent(result.spec.statistics.confidence)} CI", f"family CI ({percent(result.family.confidence)})")


def markdown_cell(value: Any) -> str:
    """``value`` as written, safe in a Markdown table cell: pipes and backslashes escaped, line breaks as spaces."""
    return " ".join(str(value).replace("\\", "\\\\").replace("|", "\\|").splitlines())


def _rows_by_rule(result: AuditResult) -> list[tuple[str, list[dict[str, Any]]]]:
    out = []
    for index, rule in enumerate(result.spec.policy):
        rows = result.verdicts[result.verdicts["rule_index"] == index].to_dict(orient="records")
        out.append((rule.describe(), rows))
    return out


def summary_markdown(result: AuditResult, *, strict: bool = False) -> str:
    """A readable Markdown summary: verdict, the family of verdicts, data, every rule's per-group verdicts, notes.

    Each rule's table gives the estimate with its ordinary interval (at ``statistics.confidence``) and its
    family-level interval, the family-adjusted p-value, and why; the why of an inconclusive verdict ends with
    what would decide it (:func:`audit.wording.to_decide`). Values from the data are written as they are.
    """
    p = result.provenance
    counts = result.verdict_counts()
    decision = ([f"- {decision_sentence(result.counts.decision, result.spec.adverse, tiers=result.spec.tiers)}"]
                if result.counts else [])
    lines = [f"# Audit: {result.spec.system.name}", "",
             f"**Overall verdict: {SYMBOL[result.verdict]}** ({counts['fail']} fail, {counts['pass']} pass, "
             f"{counts['inconclusive']} inconclusive){' — strict mode: inconclusive counts as fail' if strict else ''}",
             "",
             f"- {_capitalised(family_sentence(result.family))}",
             f"- Data: `{p.data.source}`; {p.rows_used:,} of {p.rows_read:,} {_unit(result)} audited; "
             f"SHA-256 `{p.data.sha256}`",
             *decision,
             f"- Decision views: {', '.join(result.spec.view_names())}",
             f"- Ordinary intervals at {percent(result.spec.statistics.confidence)}; comparisons table's p-values "
             f"corrected by {result.spec.statistics.correction} within each view; minimum group size "
             f"{result.spec.statistics.min_group_size} (for the point rule and asymptotic evidence)",
             f"- Toolkit {p.toolkit_version}; spec SHA-256 `{p.spec_sha256[:16]}…`; seed {p.seed}", ""]
    ordinary, family = interval_headers(result)
    for rule, rows in _rows_by_rule(result):
        lines += [f"## Rule: {markdown_cell(rule)}", "",
                  f"| view | attribute | group | reference | estimate | {ordinary} | {family} | n | ref n | p (family) "
                  f"| verdict | why |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        lines += [_summary_row(r, result) for r in rows]
        lines.append("")
    if not result.spec.policy:
        lines += ["No policy rules: the spec sets no bounds, so nothing can pass or fail.", ""]
    lines += _amount_sections(result)
    lines += _extra_sections(result)
    if result.notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in result.notes] + [""]
    return "\n".join(lines)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def why(row: dict[str, Any], result: AuditResult) -> str:
    """A verdict's reason, who the difference works against, and for an inconclusive one what would decide it."""
    parts = [str(row["reason"]), direction(row["disadvantaged"], row["metric"], result.spec.adverse)]
    if row["verdict"] == "inconclusive":
        decide = to_decide(row)
        parts.append(f"to decide: {decide}" if decide else "")
    return "; ".join(part for part in parts if part)


def _summary_row(r: dict[str, Any], result: AuditResult) -> str:
    cells = [markdown_cell(r["view"]), markdown_cell(r["attribute"]), markdown_cell(r["group"]),
             markdown_cell(r["reference"]), number(r["estimate"]), interval(r["ci_low"], r["ci_high"]),
             interval(r["family_ci_low"], r["family_ci_high"]), people(r["n"]), people(r["reference_n"]),
             p_value(r["p_family"]), f"**{r['verdict']}**", markdown_cell(why(r, result))]
    return "| " + " | ".join(cells) + " |"


def _unit(result: AuditResult) -> str:
    return "people (from a table of counts)" if result.spec.data.count_column else "rows"


def amount_metrics(groups: pd.DataFrame, column: str) -> list[str]:
    """The metrics of amount ``column`` in ``groups`` (``mean:``, ``median:``, ``qNN:``), in the table's order."""
    rows = groups[groups["view"] == f"amount: {column}"]
    return [str(m) for m in dict.fromkeys(rows["metric"])]


def _amount_sections(result: AuditResult) -> list[str]:
    """Per amount of the spec, a table of every group's mean, median and quantiles with their intervals."""
    lines: list[str] = []
    for amount in result.spec.amounts:
        metrics = amount_metrics(result.groups, amount.column)
        if not metrics:
            continue
        rows = result.groups[result.groups["view"] == f"amount: {amount.column}"]
        header = " | ".join(f"{m.partition(':')[0]} | CI" for m in metrics)
        lines += [f"## Amount: {amount.column} (a higher value is {amount.higher_is})", "",
                  f"| attribute | group | n with a value | {header} |", "|---|---|---|" + "---|---|" * len(metrics)]
        for (attribute, group), cells in rows.groupby(["attribute", "group"], sort=False):
            by_metric = cells.set_index("metric")
            values = [f"{number(_value(by_metric, m, 'value'))} | "
                      f"{interval(_value(by_metric, m, 'ci_low'), _value(by_metric, m, 'ci_high'))}" for m in metrics]
            lines.append(f"| {attribute} | {group} | {cells['n'].iloc[0]:,} | {' | '.join(values)} |")
        lines.append("")
    return lines


def _value(rows: pd.DataFrame, metric: str, column: str) -> Any:
    """``rows.loc[metric, column]``, or None when the group has no row of ``metric``."""
    return rows.at[metric, column] if metric in rows.index else None


def _extra_sections(result: AuditResult) -> list[str]:
    """Short sections for thresholds, capacity, omnibus tests, overrides and proxies, when the audit has them."""
    lines: list[str] = []
    thresholds = result.table("thresholds")
    if len(thresholds):
        lines += ["## Score thresholds", "", "| view | cut-off | acted on | of | note |", "|---|---|---|---|---|"]
        lines += [f"| {r['view']} | {number(r['cutoff'])} | {r['acted_on']:,} | {r['population']:,} | {r['note']} |"
                  for r in thresholds.to_dict(orient="records")]
        lines.append("")
    tests = result.table("tests")
    if len(tests):
        lines += ["## Distribution tests", "", "| view | attribute | test | group | reference | statistic | p | effect |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in tests.to_dict(orient="records"):
            lines.append(f"| {r['view']} | {r['attribute']} | {r['test']} | {r['group'] or ''} | "
                         f"{r['reference'] or ''} | {number(r['statistic'])} | {p_value(r['p_value'])} | "
                         f"{number(r['effect'])} {r['effect_name'] or ''} |")
        lines.append("")
    effects = result.table("override_effects")
    if len(effects):
        lines += ["## Human overrides: effect on each disparity", "",
                  "| attribute | group | metric | recommendation ratio | final ratio | effect |", "|---|---|---|---|---|---|"]
        lines += [f"| {r['attribute']} | {r['group']} | {r['metric']} | {number(r['recommendation_ratio'])} | "
                  f"{number(r['final_ratio'])} | {r['effect']} |" for r in effects.to_dict(orient="records")]
        lines.append("")
    proxies = result.table("proxies")
    if len(proxies):
        flagged = proxies[proxies["flagged"] == True]  # noqa: E712 - a pandas mask
        lines += ["## Proxies", "", f"{len(flagged)} column(s) reveal a protected attribute at or above the "
                                    f"threshold {number(result.spec.proxies.threshold)}:"  # type: ignore[union-attr]
                  if len(flagged) else "No column reveals a protected attribute above the threshold.", ""]
        lines += [f"- `{r['column']}` → {r['protected']}: {r['measure']} {number(r['strength'])}"
                  for r in flagged.to_dict(orient="records")]
        strongest = proxies[(proxies["rank"] == 1) & ~proxies["protected"].isin(set(flagged["protected"]))]
        if len(strongest):
            lines += ([""] if len(flagged) else []) + ["Strongest column for each attribute with none flagged:"]
            lines += [f"- `{r['column']}` → {r['protected']}: {r['measure']} {number(r['strength'])}"
                      for r in strongest.to_dict(orient="records")]
        lines.append("")
    return lines


def junit_xml(result: AuditResult, *, strict: bool = False) -> str:
    """JUnit XML: one test suite per rule, one test case per rule × group.

    A failing group is a ``<failure>``; an inconclusive one is ``<skipped>``
    (a ``<failure>`` with ``strict``), so CI servers list every verdict.
    """
    suites = ET.Element("testsuites", name=f"audit: {result.spec.system.name}")
    for rule, rows in _rows_by_rule(result):
        failures = sum(r["verdict"] == "fail" or (strict and r["verdict"] == "inconclusive") for r in rows)
        skipped = sum(r["verdict"] == "inconclusive" and not strict for r in rows)
        suite = ET.SubElement(suites, "testsuite", name=rule, tests=str(len(rows)), failures=str(failures),
                              errors="0", skipped=str(skipped))
        for r in rows:
            view = f" [{r['view']}]" if len(result.spec.view_names()) > 1 else ""
            case = ET.SubElement(suite, "testcase", classname=f"{rule} · {r['attribute']}",
                                 name=f"{r['attribute']} = {r['group']} vs {r['reference']}{view}")
            message = junit_message(r, result)
            if r["verdict"] == "fail" or (strict and r["verdict"] == "inconclusive"):
                ET.SubElement(case, "failure", message=message, type=r["verdict"]).text = message
            elif r["verdict"] == "inconclusive":
                ET.SubElement(case, "skipped", message=message)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def junit_message(row: dict[str, Any], result: AuditResult) -> str:
    """A verdict's reason with its people, family-level interval and family p-value; for an inconclusive one,
    what would decide it."""
    message = (f"{row['reason']} (n = {people(row['n'])}, reference n = {people(row['reference_n'])}, family interval "
               f"{interval(row['family_ci_low'], row['family_ci_high'])} at {percent(result.family.confidence)} "
               f"each, p (family) = {p_value(row['p_family'])})")
    decide = to_decide(row) if row["verdict"] == "inconclusive" else ""
    return f"{message}; to decide: {decide}" if decide else message


def write_outputs(result: AuditResult, out_dir: str | Path, *, strict: bool = False) -> dict[str, Path]:
    """Write result.json, summary.md and junit.xml into ``out_dir`` (created if needed)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {"result.json": result.to_json(), "summary.md": summary_markdown(result, strict=strict),
             "junit.xml": junit_xml(result, strict=strict)}
    paths = {}
    for name, text in files.items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        paths[name] = path
    return paths
