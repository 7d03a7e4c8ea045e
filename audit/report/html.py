"""The report as one self-contained HTML file: inline CSS, an embedded font subset and inline SVG charts.

Autoescaping is on for every value: group names, system names and answers
from the spec are text, never markup, so ``<script>`` or a ``javascript:``
link in the data is shown, not run. The page links to nothing (a
Content-Security-Policy forbids every fetch but data: URLs).

Every value from the data or the spec is isolated for bidirectional text, so
a group named with U+202E RIGHT-TO-LEFT OVERRIDE, or in Hebrew or Arabic,
reorders nothing around it: on its own in the page it sits in a ``<bdi>``
(filter ``bdi``), and in a sentence, a chart's label or the title it sits
between FSI and PDI (:func:`audit.wording.isolated`), which WeasyPrint's
Pango honours too, so report.pdf reads the same. Values are kept as
written; only isolates are added, and only to values that could reorder
their neighbours (:func:`audit.wording.needs_isolation`).
"""

from __future__ import annotations

import math
import re
from importlib import resources
from typing import Any

from jinja2 import Environment, StrictUndefined
from markupsafe import Markup, escape

from audit.report import charts
from audit.report.content import (Alternatives, Finding, MetricLabel, Parts, Quantity, ReportContent, ResultBlock,
                                  metric_label)
from audit.report.fonts import font_face_css
from audit.report.i18n import (Translator, format_confidence, format_date, format_fixed, format_integer,
                               format_interval, format_number, format_percent)
from audit.wording import balanced, isolated, needs_isolation

GLOSSARY = (
    ("Rate", "The share of a group's people who received the decision (or an error) measured by the metric."),
    ("Reference group", "The group every other group is compared with."),
    ("Ratio", "A group's rate divided by the reference group's rate; 1 means equal treatment."),
    ("Difference", "A group's rate minus the reference group's rate; 0 means equal treatment."),
    ("Confidence interval", "The range of values compatible with the data at the stated confidence level; "
                            "a wide interval means little data."),
    ("Family of verdicts", "Every verdict of one audit (all rules, groups, intersections and decision views), "
                           "judged together so that data in which every group is treated alike gives any fail "
                           "with a chance of at most alpha."),
    ("Family interval", "An interval that holds for every verdict of the family at once: each has confidence "
                        "1 − alpha/M, where M is the size of the family."),
    ("p (family)", "The probability of a difference at least this large if the groups were treated alike, "
                   "adjusted by Holm's method for every verdict of the audit."),
    ("inconclusive", "Too little evidence to say whether the rule is met: the estimate is outside the band but "
                     "not statistically significant, the family interval overlaps the edge of the band, or the "
                     "group is smaller than the minimum size; the report says what would decide it."),
    ("Detectable ratio", "The ratio closest to parity, on the side of the estimate, that this data would detect "
                         "with 80% power at the family's level."),
    ("Impact ratio", "A group's rate divided by the highest rate among the groups (NYC LL144)."),
    ("Selective labels", "Ground truth known only for the cases that were checked, such as investigated "
                         "households."),
    ("Proxy", "A column that reveals a protected attribute, such as a district standing in for ethnicity."),
)
FRAMEWORK_SHORT = {"nyc_ll144": "NYC LL144", "eu_ai_act": "EU AI Act", "vietnam": "Vietnam",
                   "canada_aia": "Canada DADM", "nist_ai_rmf": "NIST AI RMF"}


def bdi(value: Any) -> Any:
    """A value from the data or the spec for the page: in a ``<bdi>`` element (its characters kept, escaped and
    :func:`audit.wording.balanced`) when it could reorder the text around it, else as it is (None and numbers
    too), for the template to escape.

    Examples
    --------
    >>> bdi("Kinh"), bdi(None), str(bdi("<\\u202e12>")) == "<bdi>&lt;\\u202e12&gt;</bdi>"
    ('Kinh', None, True)
    """
    if not isinstance(value, str) or not needs_isolation(value):
        return value
    return Markup("<bdi>") + escape(balanced(value)) + Markup("</bdi>")


# A rule as AuditSpec's PolicyRule.describe() words it: the metric (whose name may hold a column or a tier),
# then the band and the decision rule, which are the toolkit's own words and numbers.
_RULE = re.compile(r"(?s)(?P<metric>.+?)(?P<rest> (?:ratio|difference) in \[[^\]]*\] \(\w+\))")


def rule_html(rule: Any) -> Any:
    """A rule's description for the page with its metric isolated (:func:`bdi`), so that a column or tier in it
    cannot reorder the band after it; a text of another form is isolated whole."""
    found = _RULE.fullmatch(str(rule))
    if found is None or not needs_isolation(found["metric"]):
        return bdi(rule)
    return bdi(found["metric"]) + found["rest"]


def evidence_html(finding: Finding) -> Any:
    """A finding's evidence, ``rule [view]`` (or a table's name), with the rule and the view isolated."""
    evidence, rule = str(finding.evidence), finding.rule
    if rule and evidence.startswith(f"{rule} [") and evidence.endswith("]"):
        view = evidence[len(rule) + 2:-1]
        return Markup("{} [{}]").format(rule_html(rule), bdi(view))
    return bdi(evidence)


def _number(value: Any, lang: str, significant: int = 3) -> str:
    if isinstance(value, str):
        return value  # already published as text, e.g. "< 10"
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return format_number(value, lang, significant=significant)


class _Formatter:
    """The template's filters and helpers for one language."""

    def __init__(self, translator: Translator, confidence: float) -> None:
        self.t = translator
        self.lang = translator.lang
        self.confidence = confidence

    def count(self, value: Any) -> str:
        """A count of people in the language's notation; a published label (``< 10``, ``withheld``) as text."""
        if isinstance(value, str):
            return self.t.gettext("withheld") if value == "withheld" else value
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "—"
        return format_integer(int(round(float(value))), self.lang)

    def rate(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "—"
        return format_percent(float(value), self.lang, digits=1)

    def pvalue(self, value: Any) -> str:
        if value is None or isinstance(value, str) or not math.isfinite(float(value)):
            return "—"
        return "< 0.001" if value < 0.001 and self.lang == "en" else "< 0,001" if value < 0.001 \
            else format_number(value, self.lang, significant=2)

    def p_relation(self, value: Any) -> str:
        """A p-value in a sentence, with its relation: ``= 0.012``, ``< 0.001`` (``—`` when missing)."""
        shown = self.pvalue(value)
        return shown if shown.startswith(("<", "—")) else f"= {shown}"

    def interval(self, low: Any, high: Any) -> str:
        if low is None or high is None or not (math.isfinite(float(low)) and math.isfinite(float(high))):
            return "—"
        return format_interval(float(low), float(high), self.lang)

    def rate_interval(self, low: Any, high: Any) -> str:
        if low is None or high is None or isinstance(low, str) or isinstance(high, str):
            return "—"
        return f"{self.rate(low)} – {self.rate(high)}"

    def measure(self, value: Any, amount: bool) -> str:
        """A group's value: an amount as a number in its own units, any other metric as a percentage."""
        return _number(value, self.lang) if amount else self.rate(value)

    def measure_interval(self, low: Any, high: Any, amount: bool) -> str:
        """The interval of a group's value, formatted as :meth:`measure` formats the value."""
        return self.interval(low, high) if amount else self.rate_interval(low, high)

    def metric_name(self, label: MetricLabel, *, capital: bool = False) -> str:
        """A metric's name in the report's language: the full name translated, the tag and column or tier kept
        (isolated: :func:`audit.wording.isolated`)."""
        name = self.t.gettext(label.name)
        head = f"{name} {label.tag}" if label.tag else name
        head = head[:1].upper() + head[1:] if capital else head
        return f"{head}: {isolated(label.subject)}" if label.subject else head

    def quantity(self, value: Quantity) -> str:
        """A number in a sentence, in the style the content asks for."""
        if value.style == "fixed":
            return format_fixed(value.value, self.lang, decimals=value.digits)
        if value.style == "percent":
            return format_percent(value.value, self.lang, digits=value.digits)
        if value.style == "confidence":
            return format_confidence(value.value, self.lang)
        if value.style == "p":
            return self.p_relation(value.value)
        return format_number(value.value, self.lang, significant=value.digits)

    def _show(self, value: Any) -> Any:
        """One value of a sentence as text: names translated, numbers in the language's notation, text from the
        data or the spec isolated (:func:`audit.wording.isolated`)."""
        if value is None:
            return "—"
        if isinstance(value, MetricLabel):
            return self.metric_name(value)
        if isinstance(value, Quantity):
            return self.quantity(value)
        if isinstance(value, float):
            return _number(value, self.lang)
        if isinstance(value, int) and not isinstance(value, bool):
            return self.count(value)
        return isolated(value) if isinstance(value, str) else value

    def fill(self, template: str, **values: Any) -> str:
        """``template`` (a translated message) with its placeholders filled (:meth:`_show`); a template that is
        itself a text from the spec (a limitation or recommendation, which no catalogue holds) is isolated
        whole when it could reorder the text around it (:func:`audit.wording.isolated`)."""
        shown = {k: self._show(v) for k, v in values.items()}
        try:
            text = template.format(**shown)
        except (KeyError, IndexError, ValueError):
            text = template
        return isolated(text) if needs_isolation(template) else text

    def decide(self, parts: Parts) -> str:
        """What would decide a verdict: its clauses translated, filled and joined by ``; `` (empty without any)."""
        return "; ".join(self.fill(self.t.gettext(text), **values) for text, values in parts)

    def decide_sentence(self, parts: Parts) -> str:
        """``What would decide it: …`` as one sentence of the report (see :meth:`decide`)."""
        return self.fill(self.t.gettext("What would decide it: {parts}."), parts=self.decide(parts))

    def finding(self, finding: Finding) -> str:
        text = self.fill(self.t.gettext(finding.title), **finding.values)
        if finding.policy:
            text += self.fill(self.t.gettext(finding.policy), **finding.values)
        if finding.basis:
            text += " " + self.fill(self.t.gettext(finding.basis), **finding.values)
        if finding.decide:
            text += " " + self.decide_sentence(finding.decide)
        return text[:1].upper() + text[1:]  # a sentence, even when it opens with a metric's name

    def bars(self, block: ResultBlock) -> list[charts.Bar]:
        return [charts.Bar(isolated(r["group"]), r["value"], r["low"], r["high"],
                           self.t.gettext("withheld") if isinstance(r["n"], str) else "")
                for r in block.rates]

    def rate_svg(self, block: ResultBlock) -> str:
        """The groups' own values with their intervals: rates on a 0–100% axis, amounts on their own scale."""
        title = f"{isolated(block.attribute)}: {self.metric_name(block.label)}"
        if block.amount:
            return charts.value_chart(self.bars(block), title=title,
                                      label=lambda v: format_number(v, self.lang, significant=3),
                                      undefined=self.t.gettext("undefined"))
        return charts.rate_chart(self.bars(block), title=title,
                                 label=lambda v: format_percent(v, self.lang, digits=0),
                                 undefined=self.t.gettext("undefined"))

    def ratio_svg(self, block: ResultBlock) -> str:
        """The ratios against the reference with their family intervals (those that decide a ``ci`` verdict)."""
        bars = [charts.Bar(isolated(r["group"]), r["estimate"], r["family_low"], r["family_high"],
                           self.t.gettext("withheld") if isinstance(r["n"], str) else "") for r in block.rows]
        return charts.ratio_chart(bars, band=_drawn_band(block),
                                  title=f"{isolated(block.attribute)}: {self.metric_name(block.label)}",
                                  label=lambda v: format_number(v, self.lang, significant=2),
                                  undefined=self.t.gettext("undefined"))

    def heat_svg(self, block: ResultBlock) -> str:
        assert block.heat is not None
        cells = {(isolated(row), isolated(column)): value for (row, column), value in block.heat["cells"].items()}
        return charts.heat_map([isolated(row) for row in block.heat["rows"]],
                               [isolated(column) for column in block.heat["columns"]], cells,
                               title=isolated(block.attribute),
                               label=lambda v: format_number(v, self.lang, significant=2),
                               band=_drawn_band(block), missing="—", bound=block.bound)

    def frontier_svg(self, alternatives: Alternatives) -> str:
        """Accuracy against the gap of ``alternatives.chart_metric``, one dot per alternative, the model in red."""
        metric = alternatives.chart_metric
        points = [charts.Point(label=isolated(r["alternative"]), gap=_finite_or_nan(r["gaps"].get(metric)),
                               accuracy=_finite_or_nan(r["accuracy"]), current=bool(r["current"]))
                  for r in alternatives.frontier]
        name = self.metric_name(metric_label(metric))
        return charts.frontier_chart(
            points, title=self.fill(self.t.gettext("Accuracy against the gap in {metric} by {attribute}"),
                                    metric=name, attribute=alternatives.attribute),
            x_title=self.fill(self.t.gettext("largest gap in {metric} to {reference} (absolute)"),
                              metric=name, reference=alternatives.reference),
            y_title=self.t.gettext("accuracy on held-out rows"),
            x_label=lambda v: format_fixed(v, self.lang, decimals=2),
            y_label=lambda v: format_fixed(v, self.lang, decimals=3))


def _drawn_band(block: ResultBlock) -> tuple[float, float]:
    """The band as a chart draws it: an open end of a ratio band at the log axis's edge (0.05 or 20)."""
    if block.bound != "ratio":
        return block.band
    low, high = block.band
    return (low if math.isfinite(low) else 0.05, high if math.isfinite(high) else 20.0)


def _finite_or_nan(value: float | None) -> float:
    """``value``, or NaN when it is missing (a chart leaves such a point out)."""
    return math.nan if value is None else float(value)


def _environment(fmt: _Formatter) -> Environment:
    env = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(_=fmt.t.gettext, finding_text=fmt.finding, interval=fmt.interval,
                       rate_interval=fmt.rate_interval, measure=fmt.measure, measure_interval=fmt.measure_interval,
                       metric_name=fmt.metric_name, rate_svg=fmt.rate_svg, ratio_svg=fmt.ratio_svg,
                       heat_svg=fmt.heat_svg, frontier_svg=fmt.frontier_svg, metric_label=metric_label,
                       to_decide=fmt.decide_sentence, rule_html=rule_html, evidence_html=evidence_html,
                       glossary=GLOSSARY,
                       fw_short=FRAMEWORK_SHORT)
    env.filters.update(number=lambda v: _number(v, fmt.lang), integer=fmt.count, count=fmt.count,
                       rate=fmt.rate, percent=fmt.rate, pvalue=fmt.pvalue, fill=fmt.fill, bdi=bdi, rule_html=rule_html,
                       date=lambda d: format_date(d, fmt.lang) if d else "—")
    return env


class RecordingTranslator(Translator):
    """A translator that remembers every message id it was asked for (to check catalogues are complete)."""

    def __init__(self, lang: str) -> None:
        super().__init__(lang)
        self.asked: set[str] = set()

    def gettext(self, msgid: str) -> str:
        self.asked.add(msgid)
        return super().gettext(msgid)


def render_html(content: ReportContent, *, lang: str, confidence: float,
                translator: Translator | None = None) -> str:
    """The report as HTML text in ``lang`` (``en`` or ``vi``), self-contained.

    ``translator`` replaces the default one for ``lang`` (e.g. a
    :class:`RecordingTranslator`).
    """
    translator = translator or Translator(lang)
    fmt = _Formatter(translator, confidence)
    templates = resources.files("audit.report") / "templates"
    env = _environment(fmt)
    template = env.from_string((templates / "report.html.j2").read_text(encoding="utf-8"))
    prefix = f"{translator.gettext('Algorithmic audit')}: "
    title = isolated(content.cover["title"] or "") or prefix + isolated(content.cover["system"])
    heading = bdi(content.cover["title"]) or Markup("{}{}").format(prefix, bdi(content.cover["system"]))
    context = {"content": content, "lang": lang, "title": title, "heading": heading,
               "css": (templates / "report.css").read_text(encoding="utf-8"),
               "not_given": translator.gettext("Not provided")}
    body = template.render(**context, fonts_css="")
    return template.render(**context, fonts_css=font_face_css(body))
