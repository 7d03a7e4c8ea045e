"""Files an audit writes: ``result.json``, ``summary.md`` and ``junit.xml``.

Renderers only format what :class:`~audit.result.AuditResult` holds; they
compute nothing.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from audit.family import Family
from audit.result import AuditResult
from audit.wording import (SYMBOL, decision_sentence, direction, escaped, interval, number, p_value, people, percent,
                           to_decide, visible)

# What Markdown would read as markup in a line of text: backslash, pipe (a table's cell), emphasis, code,
# strikethrough, math, a "<" that opens raw HTML or an autolink, an entity reference, the "]" of a link's "](" or
# of a link reference definition's "]:" (which would hide the line and turn a "[name]" elsewhere into a link), and
# an underscore that can open or close emphasis (one not between two letters or digits).
_MARKDOWN_ACTIVE = re.compile(r"[\\|*`~$]|<(?=[A-Za-z/!?])|&(?=#?[0-9A-Za-z]+;)|\](?=[(:])|_")
# What would start a block at the beginning of a line (a list item's text, a paragraph): a heading's "#", a block
# quote's ">", a bullet "-" or "+" (a "-" also a thematic break "---"), an ordered list's "1." or "1)"; found after
# at most three spaces (four or more start a code block: the first is written as a character reference).
_MARKDOWN_BLOCK = re.compile(r"^( {0,3})(?:(#{1,6})(?=\s|$)|(>)|([-+])(?=[\s-]|$)|\d{1,9}([.)])(?=\s|$))")
# A heading's closing sequence: a run of "#" after a space (or alone), with only spaces after it, is dropped.
_MARKDOWN_CLOSING = re.compile(r"(?:^|(?<=\s))#+(?=\s*$)")
# The characters XML 1.0 does not allow in a document, even as character references.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FORMAT_NAMES = {"csv": "CSV", "parquet": "Parquet", "excel": "Excel", "postgresql": "PostgreSQL", "arrow": "Arrow"}


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
    """``value`` as written, shown verbatim in a Markdown table cell, heading or list item.

    Line breaks are shown as ``↵`` and control characters and bidirectional controls as escapes
    (:func:`audit.wording.visible`), so a value never splits a row; then every character Markdown would read
    as markup is escaped with a backslash: ``\\``, ``|``, ``*``, `````, ``~``, ``$``, a ``<`` before a letter,
    ``/``, ``!`` or ``?`` (a tag or an autolink; ``n < 30`` is left as it is), an ``&`` that starts an entity,
    the ``]`` of ``](`` (a link or image) and of ``]:`` (a link reference definition) and an ``_`` not between two
    letters or digits (``selection_rate`` is left as it is). At the start of the value, what would open a block
    (``#``, ``>``, ``-``, ``+``, ``1.``, ``1)``) is escaped too, and four leading spaces (a code block) start
    with ``&#32;``; at its end, a run of ``#`` that a heading would drop. Brackets, colons and ``#`` inside a
    line mean nothing and are kept. So a value is one text in a table's cell, a heading or a list item:
    never an image, a link, HTML, a new block or a new cell (CommonMark with GFM tables).

    Examples
    --------
    >>> print(markdown_cell("a|b\\nc *x* _y_ selection_rate [t](u) <script> &amp; [bold] [r]: u"))
    a\\|b↵c \\*x\\* \\_y\\_ selection_rate [t\\](u) \\<script> \\&amp; [bold] [r\\]: u
    >>> print(markdown_cell("# C# 2 #"), markdown_cell("> q"), markdown_cell("1. x"), markdown_cell("-2"))
    \\# C# 2 \\# \\> q 1\\. x -2
    """
    text = _MARKDOWN_ACTIVE.sub(_markdown_escape, visible(value))
    text = _MARKDOWN_BLOCK.sub(_block_escape, text)
    text = _MARKDOWN_CLOSING.sub(lambda found: "\\" + found.group(), text)
    return "&#32;" + text[1:] if text.startswith("    ") else text


def _block_escape(found: re.Match[str]) -> str:
    """A backslash before the character that would open a block (:data:`_MARKDOWN_BLOCK`)."""
    marker = next(i for i in range(2, 6) if found.group(i) is not None)
    start = found.start(marker) - found.start()
    return found.group()[:start] + "\\" + found.group()[start:]


def _markdown_escape(found: re.Match[str]) -> str:
    """A backslash before ``found``, except an ``_`` between two letters or digits (never emphasis)."""
    text, start = found.string, found.start()
    if found.group() == "_" and 0 < start < len(text) - 1 and text[start - 1].isalnum() and text[start + 1].isalnum():
        return "_"
    return "\\" + found.group()


def markdown_code(value: Any) -> str:
    """``value`` as a Markdown code span, fenced by more backticks than it holds in a row; line breaks and
    control characters made visible (:func:`audit.wording.visible`).

    Examples
    --------
    >>> print(markdown_code("data.csv"), markdown_code("a`b"), markdown_code("`x"))
    `data.csv` ``a`b`` `` `x ``
    """
    text = visible(value)
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") else text
    return f"{fence}{padded}{fence}"


def data_read_as(data: Any) -> str:
    """How the data were read: the format, and for a CSV file its encoding (declared by the spec's
    ``data.encoding``, or detected: ``data.encoding_detected``; neither word for a result written before it was
    recorded) and delimiter. ``data`` is the provenance's ``data`` (:class:`audit.sources.DataProvenance`) or a
    :class:`audit.readers.TableInfo`.

    Examples
    --------
    >>> from audit.sources import DataProvenance
    >>> csv = DataProvenance("people.csv", "csv", None, "", encoding="cp1258", delimiter=";", encoding_detected=True)
    >>> data_read_as(csv)
    "CSV, encoding cp1258 detected, delimiter ';'"
    >>> data_read_as(DataProvenance("people.parquet", "parquet", None, ""))
    'Parquet'
    """
    parts = [_FORMAT_NAMES.get(str(data.format), visible(data.format))]
    if data.encoding:
        how = {True: " detected", False: " declared"}.get(getattr(data, "encoding_detected", None), "")
        parts.append(f"encoding {visible(data.encoding)}{how}")
    if data.delimiter:
        parts.append(f"delimiter '{visible(data.delimiter)}'")
    return ", ".join(parts)


def _rows_by_rule(result: AuditResult) -> list[tuple[str, list[dict[str, Any]]]]:
    out = []
    for index, rule in enumerate(result.spec.policy):
        rows = result.verdicts[result.verdicts["rule_index"] == index].to_dict(orient="records")
        out.append((rule.describe(), rows))
    return out


def verdict_sections(result: AuditResult, row: Callable[[dict[str, Any], AuditResult], str]) -> list[str]:
    """The Markdown lines of every rule's verdict table (one section per rule, in the spec's order), each row
    written by ``row``; a spec without rules gets one sentence saying nothing can pass or fail. Shared by
    ``summary.md`` and the public ``public.md``, whose rows differ only in what they may show."""
    lines: list[str] = []
    ordinary, family = interval_headers(result)
    for rule, rows in _rows_by_rule(result):
        lines += [f"## Rule: {markdown_cell(rule)}", "",
                  f"| view | attribute | group | reference | estimate | {ordinary} | {family} | n | ref n | p (family) "
                  f"| verdict | why |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        lines += [row(r, result) for r in rows]
        lines.append("")
    if not result.spec.policy:
        lines += ["No policy rules: the spec sets no bounds, so nothing can pass or fail.", ""]
    return lines


def summary_markdown(result: AuditResult, *, strict: bool = False) -> str:
    """A readable Markdown summary: verdict, the family of verdicts, data, every rule's per-group verdicts, notes.

    Each rule's table gives the estimate with its ordinary interval (at ``statistics.confidence``) and its
    family-level interval, the family-adjusted p-value, and why; the why of an inconclusive verdict ends with
    what would decide it (:func:`audit.wording.to_decide`). Values from the data and the spec are written as they
    are, escaped so that Markdown shows them verbatim and a line break in one never splits a row
    (:func:`markdown_cell`).
    """
    lines = _summary_head(result, strict) + verdict_sections(result, _summary_row)
    lines += _amount_sections(result)
    lines += _extra_sections(result)
    if result.notes:
        lines += ["## Notes", ""] + [f"- {markdown_cell(n)}" for n in result.notes] + [""]
    return "\n".join(lines)


def _summary_head(result: AuditResult, strict: bool) -> list[str]:
    """summary.md's title, overall verdict and the list of what was audited and how (data read as, views, ...)."""
    p, spec = result.provenance, result.spec
    counts = result.verdict_counts()
    read_as = markdown_cell(data_read_as(p.data))
    decision = ([f"- {markdown_cell(decision_sentence(result.counts.decision, spec.adverse, tiers=spec.tiers))}"]
                if result.counts else [])
    return [f"# Audit: {markdown_cell(spec.system.name)}", "",
            f"**Overall verdict: {SYMBOL[result.verdict]}** ({counts['fail']} fail, {counts['pass']} pass, "
            f"{counts['inconclusive']} inconclusive){' — strict mode: inconclusive counts as fail' if strict else ''}",
            "",
            f"- {_capitalised(family_sentence(result.family))}",
            f"- Data: {markdown_code(p.data.source)} ({read_as}); "
            f"{p.rows_used:,} of {p.rows_read:,} {_unit(result)} audited; SHA-256 `{p.data.sha256}`",
            *decision,
            f"- Decision views: {', '.join(markdown_cell(v) for v in spec.view_names())}",
            f"- Ordinary intervals at {percent(spec.statistics.confidence)}; comparisons table's p-values "
            f"corrected by {spec.statistics.correction} within each view; minimum group size "
            f"{spec.statistics.min_group_size} (for the point rule and asymptotic evidence)",
            f"- Toolkit {p.toolkit_version}; spec SHA-256 `{p.spec_sha256[:16]}…`; seed {p.seed}", ""]


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
        header = " | ".join(f"{markdown_cell(m.partition(':')[0])} | CI" for m in metrics)
        lines += [f"## Amount: {markdown_cell(amount.column)} (a higher value is {amount.higher_is})", "",
                  f"| attribute | group | n with a value | {header} |", "|---|---|---|" + "---|---|" * len(metrics)]
        for (attribute, group), cells in rows.groupby(["attribute", "group"], sort=False):
            by_metric = cells.set_index("metric")
            values = [f"{number(_value(by_metric, m, 'value'))} | "
                      f"{interval(_value(by_metric, m, 'ci_low'), _value(by_metric, m, 'ci_high'))}" for m in metrics]
            lines.append(_table_row([markdown_cell(attribute), markdown_cell(group), f"{cells['n'].iloc[0]:,}",
                                     *values]))
        lines.append("")
    return lines


def _table_row(cells: list[str]) -> str:
    """A Markdown table row of cells already escaped (:func:`markdown_cell`) or formatted by us."""
    return "| " + " | ".join(cells) + " |"


def _optional_cell(value: Any) -> str:
    """:func:`markdown_cell`, or an empty cell for a missing value (None, NaN)."""
    return "" if value is None or (isinstance(value, float) and value != value) else markdown_cell(value)


def _value(rows: pd.DataFrame, metric: str, column: str) -> Any:
    """``rows.loc[metric, column]``, or None when the group has no row of ``metric``."""
    return rows.at[metric, column] if metric in rows.index else None


def _extra_sections(result: AuditResult) -> list[str]:
    """Short sections for thresholds, capacity, omnibus tests, overrides and proxies, when the audit has them."""
    return (_threshold_section(result.table("thresholds")) + _test_section(result.table("tests"))
            + _override_section(result.table("override_effects")) + _proxy_section(result))


def _threshold_section(thresholds: pd.DataFrame) -> list[str]:
    if not len(thresholds):
        return []
    return (["## Score thresholds", "", "| view | cut-off | acted on | of | note |", "|---|---|---|---|---|"]
            + [_table_row([markdown_cell(r["view"]), number(r["cutoff"]), f"{r['acted_on']:,}",
                           f"{r['population']:,}", _optional_cell(r["note"])])
               for r in thresholds.to_dict(orient="records")] + [""])


def _test_section(tests: pd.DataFrame) -> list[str]:
    if not len(tests):
        return []
    return (["## Distribution tests", "", "| view | attribute | test | group | reference | statistic | p | effect |",
             "|---|---|---|---|---|---|---|---|"]
            + [_table_row([markdown_cell(r["view"]), markdown_cell(r["attribute"]), markdown_cell(r["test"]),
                           _optional_cell(r["group"] or None), _optional_cell(r["reference"] or None),
                           number(r["statistic"]), p_value(r["p_value"]),
                           f"{number(r['effect'])} {_optional_cell(r['effect_name'] or None)}"])
               for r in tests.to_dict(orient="records")] + [""])


def _override_section(effects: pd.DataFrame) -> list[str]:
    if not len(effects):
        return []
    return (["## Human overrides: effect on each disparity", "",
             "| attribute | group | metric | recommendation ratio | final ratio | effect |",
             "|---|---|---|---|---|---|"]
            + [_table_row([markdown_cell(r["attribute"]), markdown_cell(r["group"]), markdown_cell(r["metric"]),
                           number(r["recommendation_ratio"]), number(r["final_ratio"]), markdown_cell(r["effect"])])
               for r in effects.to_dict(orient="records")] + [""])


def _proxy_section(result: AuditResult) -> list[str]:
    proxies = result.table("proxies")
    if not len(proxies):
        return []
    flagged = proxies[proxies["flagged"] == True]  # noqa: E712 - a pandas mask
    lines = ["## Proxies", "", f"{len(flagged)} column(s) reveal a protected attribute at or above the "
                               f"threshold {number(result.spec.proxies.threshold)}:"  # type: ignore[union-attr]
             if len(flagged) else "No column reveals a protected attribute above the threshold.", ""]
    lines += [_proxy_item(r) for r in flagged.to_dict(orient="records")]
    strongest = proxies[(proxies["rank"] == 1) & ~proxies["protected"].isin(set(flagged["protected"]))]
    if len(strongest):
        lines += ([""] if len(flagged) else []) + ["Strongest column for each attribute with none flagged:"]
        lines += [_proxy_item(r) for r in strongest.to_dict(orient="records")]
    return lines + [""]


def _proxy_item(r: dict[str, Any]) -> str:
    return (f"- {markdown_code(r['column'])} → {markdown_cell(r['protected'])}: {markdown_cell(r['measure'])} "
            f"{number(r['strength'])}")


def junit_xml(result: AuditResult, *, strict: bool = False) -> str:
    """JUnit XML: one test suite per rule, one test case per rule × group.

    A failing group is a ``<failure>``; an inconclusive one is ``<skipped>``
    (a ``<failure>`` with ``strict``), so CI servers list every verdict.
    Values are written as they are (ElementTree escapes ``<``, ``&``, quotes and
    line breaks), except the characters XML 1.0 forbids (control characters
    other than tab, newline and carriage return, U+FFFE, U+FFFF, lone
    surrogates), written as visible escapes (:func:`xml_text`): the file always
    parses.
    """
    suites = ET.Element("testsuites", name=xml_text(f"audit: {result.spec.system.name}"))
    for rule, rows in _rows_by_rule(result):
        failures = sum(r["verdict"] == "fail" or (strict and r["verdict"] == "inconclusive") for r in rows)
        skipped = sum(r["verdict"] == "inconclusive" and not strict for r in rows)
        suite = ET.SubElement(suites, "testsuite", name=xml_text(rule), tests=str(len(rows)), failures=str(failures),
                              errors="0", skipped=str(skipped))
        for r in rows:
            view = f" [{r['view']}]" if len(result.spec.view_names()) > 1 else ""
            case = ET.SubElement(suite, "testcase", classname=xml_text(f"{rule} · {r['attribute']}"),
                                 name=xml_text(f"{r['attribute']} = {r['group']} vs {r['reference']}{view}"))
            message = xml_text(junit_message(r, result))
            if r["verdict"] == "fail" or (strict and r["verdict"] == "inconclusive"):
                ET.SubElement(case, "failure", message=message, type=r["verdict"]).text = message
            elif r["verdict"] == "inconclusive":
                ET.SubElement(case, "skipped", message=message)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def xml_text(value: Any) -> str:
    """``value`` as text XML 1.0 allows: each character it forbids written as a visible escape
    (:func:`audit.wording.escaped`); everything else, tab and line breaks included, kept as written.

    Examples
    --------
    >>> print(xml_text("ward\\x01 <b> \\ufffe"))
    ward\\x01 <b> \\ufffe
    """
    return _XML_FORBIDDEN.sub(lambda found: escaped(found.group()), str(value))


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
