"""Write ``docs/spec-reference.md``: every section and field of the audit spec, generated from its JSON Schema.

The source of truth is the pydantic model in ``audit/spec.py``; :func:`audit.spec.spec_json_schema` exports
it (``audit/schema/spec.schema.json`` is a copy of that export, kept equal by ``tests/test_spec.py``). Types,
defaults, allowed values, bounds and descriptions come from the schema; the metric names from
``audit.metrics``; the checklist ids of ``report.answers`` from ``audit.report.frameworks``. Only the short
examples, the notes and the rules that span several fields are written here by hand, and
``tests/test_docs.py`` validates every example against the spec model.

Run from the repository root after changing the spec::

    python scripts/spec_reference.py

``tests/test_docs.py`` fails while the committed page differs from :func:`render`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(ROOT))

from audit.metrics import EXTRA_METRICS, METRICS
from audit.report.frameworks import PROFILES
from audit.spec import SPEC_VERSION, spec_json_schema

OUTPUT = ROOT / "docs" / "spec-reference.md"

# -- hand-written parts (checked by tests/test_docs.py) -------------------------------------------------------

OVERVIEW = """\
system:
  name: Rivierstad welfare-fraud risk score
  owner: Gemeente Rivierstad, Work and Income
data:
  path: ../welfare_fraud/welfare_fraud.csv
outcome: {column: fraud_found, positive: 1}
score:
  column: risk_score
  threshold: [0.7, {top_k: 1000}]
  adverse: true
protected:
  - {column: nationality, reference: Dutch}
  - {column: sex}
intersections: [[nationality, sex]]
policy:
  - {metric: selection_rate, ratio: [0.8, 1.25], rule: ci}
  - {metric: fpr, ratio: [0.8, 1.25], rule: ci}
statistics: {confidence: 0.95, correction: holm, min_group_size: 30}
report:
  frameworks: [eu_ai_act]
"""

EXAMPLES: dict[str, str] = {
    "system": """\
system:
  name: Complaint triage model
  owner: Hanoi Department of Information and Communications
  purpose: Ranks citizen complaints for handling within 5 working days
""",
    "data": """\
data:
  path: decisions/2026-*.parquet        # a file or a glob; relative to the spec file
  where: "channel <> 'test'"            # SQL of the engine that reads the data
  weight: survey_weight
""",
    "outcome": """\
outcome:
  column: fraud_found
  positive: 1
  checked: {column: investigated, positive: yes}   # selective labels
""",
    "decision": """\
decision: {column: flagged, positive: 1, adverse: true}
""",
    "decision.tiers": """\
decision:
  column: trust_tier
  tiers:
    ordered: true
    values: {blacklist: adverse, watch: adverse, neutral: neutral, trusted: favourable}
""",
    "score": """\
score:
  column: risk_score
  threshold: [0.7, {top_k: 1000}, {top_percent: 5}]
  adverse: true
  sweep: {start: 0, stop: 1, steps: 101}
  calibration_bins: 10
""",
    "final_decision": """\
decision: {column: recommended, positive: investigate, adverse: true}
final_decision: {column: caseworker_decision}
""",
    "amounts": """\
amounts:
  - {column: days_to_decision, higher_is: adverse, quantiles: [0.5, 0.9]}
  - {column: benefit_amount, higher_is: favourable}
""",
    "proxies": """\
proxies: {threshold: 0.3, exclude: [application_id]}
""",
    "protected": """\
protected:
  - {column: ethnicity, reference: Kinh}
  - {column: sex}                                   # reference by rule: the largest group
  - {column: province, reference_rule: most_favourable}
""",
    "intersections": """\
protected:
  - {column: ethnicity, reference: Kinh}
  - {column: sex}
intersections:
  - [ethnicity, sex]                                # short form
  - {columns: [ethnicity, sex], reference_rule: most_favourable}
""",
    "policy": """\
protected:
  - {column: nationality, reference: Dutch}
  - {column: sex}
policy:
  - {metric: selection_rate, ratio: [0.8, 1.25], rule: ci}
  - {metric: fpr, difference: [null, 0.05], attributes: [sex], selective_labels: refuse}
""",
    "metrics": """\
metrics: [selection_rate, fpr, fnr, ppv]
""",
    "statistics": """\
statistics:
  confidence: 0.95
  alpha: 0.05
  correction: holm
  min_group_size: 30
  reference_rule: largest
""",
    "report": """\
report:
  language: vi
  agency: Sở Lao động – Thương binh và Xã hội
  period: January to June 2026
  auditor: Nguyễn Thị Lan
  frameworks: [eu_ai_act, vietnam]
  small_cell_k: 10
  answers:
    eu_ai_act.fria.period: Monthly, since March 2025
""",
}

NOTES: dict[str, list[str]] = {
    "data": [
        ("Give either `path` (a file) or `url` (a PostgreSQL database) or neither (then pass the data in Python: "
         "`audit.run(spec, data=frame)`); `table` or `query` (exactly one) go with `url`; `encoding`, "
         "`delimiter` and `sheet` apply to files only."),
        ("A `url` that contains a password is refused (the spec is copied into every report); use `PGPASSWORD` "
         "or `~/.pgpass`."),
        ("`where` is evaluated by the engine that reads the data (DuckDB for files and data in memory, the "
         "database for `url`, Spark SQL with `--engine spark`); rows where it is false or NULL are dropped."),
    ],
    "outcome": [
        "`checked` accepts a column name (`checked: investigated`) or a mapping with `column` and `positive`.",
    ],
    "decision": [
        "Give `positive` for a yes/no decision or `tiers` for several tiers, not both.",
        "`adverse: true` makes a higher rate of positive decisions count as worse for a group.",
    ],
    "score": [
        ("`threshold` accepts a number (a cut-off: score ≥ value is positive), `{top_k: N}`, "
         "`{top_percent: P}`, or a list of these; each becomes a decision view named `score ≥ 0.7`, "
         "`top 1,000` or `top 5%`. Listing the same threshold twice is an error."),
        ("Top-k acts on every row tied with the k-th highest score, so more than k may be acted on (a note says "
         "how many); top p per cent is top-k with k = ceil(p/100 × people with a score)."),
    ],
    "final_decision": [
        "A column name is accepted as the short form (`final_decision: caseworker_decision`).",
    ],
    "proxies": [
        ("`proxies: true` or `proxies: {}` scans with the defaults. The scan reads every candidate column, so it "
         "runs on files and data in memory only, not with `data.url` or Spark."),
    ],
    "protected": [
        "Missing values form an explicit group (`unknown`), counted and reported but never compared.",
        "More distinct values than `statistics.max_groups` is an error (an identifier column by mistake).",
    ],
    "intersections": [
        ("Each column must also be listed in `protected`. The intersection is named by its columns joined with "
         "` × ` (e.g. `ethnicity × sex`), which is the name to use in `policy[].attributes`."),
        ("Without a `reference` or `reference_rule`, and with `statistics.reference_rule: largest`, the "
         "reference is the cell that combines each attribute's reference (e.g. `Kinh × female`) when it has "
         "people; otherwise the largest cell."),
    ],
    "policy": [
        ("Give exactly one of `ratio` and `difference`; a bound may be `null` (open); the low bound must be "
         "below the high one; ratio bounds must be positive."),
        ("`attributes` and `views` restrict the rule; by default it applies to every attribute, intersection "
         "and decision view in which the metric is computed."),
        ("`rule`: `significant` (the default) fails when the estimate is outside the band and the test of "
         "equality with the reference, adjusted for the family of every verdict of the audit (Holm at "
         "`statistics.alpha`), rejects it, and passes when the estimate is inside the band; `ci` passes only when "
         "the family-level interval (confidence 1 − alpha / number of verdicts) lies inside the band and fails only "
         "when it lies outside; `point` compares the estimate alone (legal calculations such as LL144 impact "
         "ratios; its fail is not statistically established)."),
        ("Metrics with neither a test nor an interval (`qNN:COLUMN` quantiles other than the median, `brier`, "
         "`ece`, `calibration_in_the_large`) take `rule: point` only; medians take `significant` (Mann-Whitney) or "
         "`point`. A spec with `spec_version: 1` keeps that version's default, `point`, for rules without `rule`."),
    ],
    "metrics": [
        "`count` and `share` are always computed, and so is every metric a policy rule names.",
    ],
    "statistics": [
        ("`alpha` bounds the chance that an audit of data without any disparity reports any fail, over every "
         "verdict of the audit (all rules, groups, intersections and views: the family, whose size the report "
         "gives)."),
        ("`correction` is applied to the comparisons table's p-values within each decision view, for reading; "
         "verdicts use the family instead."),
        ("`min_group_size` counts the rows in the metric's denominator (for `fpr`, the group's actual "
         "negatives), for the group and for its reference; below it a `point` verdict, and a verdict whose "
         "evidence is asymptotic (weighted rates, means, medians, AUC, balanced accuracy, F1), is inconclusive. "
         "Rates compared without weights are decided by exact evidence (Fisher's exact test, exact intervals) at "
         "any size."),
        ("`min_expected`: Fisher's exact test when an expected cell count of the 2×2 table is below it, the "
         "two-proportion z test otherwise (family-adjusted p-values lie far in the z test's tail, so the default is "
         "1,000); weighted data always use the z test on Kish effective counts."),
    ],
    "report": [
        ("Published outputs (the report, `public.json`, `public.md`, `public_*.csv`) apply `small_cell_k`; "
         "`result.json` keeps every number and is for internal use."),
        ("`answers` is not checked against the checklist ids: an answer under a misspelt id is ignored and the "
         "report shows \"Not provided\" for the item."),
    ],
}

CROSS_FIELD = [
    "Give exactly one of `decision` and `score`, or neither when `amounts` is given (an audit of amounts only).",
    ("A `decision` with `tiers` takes no `positive`, and no `final_decision` (overrides are audited for yes/no "
     "decisions and scores)."),
    "`final_decision` needs `decision` or `score` (the system's recommendation).",
    ("A column may be listed only once in `protected` and once in `amounts`; every column of an intersection must "
     "be in `protected`, and an intersection may not name a column twice."),
    ("A policy rule or `metrics` entry that needs ground truth (`tpr`, `fpr`, `fnr`, `tnr`, `ppv`, `npv`, `fdr`, "
     "`for`, `accuracy`, `balanced_accuracy`, `f1`, `fp_share`, `base_rate`) needs `outcome`."),
    ("`auc`, `brier`, `ece` and `calibration_in_the_large` need `score` and `outcome`; `scoring_rate` needs "
     "`score`; `override_*` need `final_decision`; `check_rate` needs `outcome.checked`; `tier_rate:TIER` and "
     "`tier_at_least:TIER` need `decision.tiers` listing TIER (`tier_at_least` needs ordered tiers); "
     "`mean:COLUMN`, `median:COLUMN` and `qNN:COLUMN` need COLUMN in `amounts`."),
    "`policy[].attributes` must name protected columns or intersections (`a × b`).",
    ("Validation reports every problem at once, each with its path (`policy[0].metric`), and suggests the "
     "nearest known name for a misspelt field or metric. `audit validate` then checks that the data's columns "
     "exist."),
]

TOP_DESCRIPTIONS = {
    "spec_version": ("Version of the spec format: `2` (current; it may be left out) or `1`, whose policy rules "
                     "without `rule` mean `point`."),
    "metrics": "Metrics to compute; default every metric that applies (those needing ground truth only with "
               "`outcome`).",
}

# -- rendering ------------------------------------------------------------------------------------------------


def _code(value: Any) -> str:
    return f"`{value}`"


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False).replace('"', "")
    return str(value)


class _Schema:
    """The spec's JSON Schema with helpers to describe a property in words."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.defs: dict[str, Any] = schema["$defs"]

    def ref_name(self, node: dict[str, Any]) -> str | None:
        ref = node.get("$ref")
        return ref.rsplit("/", 1)[-1] if ref else None

    def objects_in(self, node: dict[str, Any]) -> list[str]:
        """Names of the $defs a property may hold, directly, in an anyOf or as list items."""
        found: list[str] = []
        name = self.ref_name(node)
        if name:
            found.append(name)
        for option in node.get("anyOf", []):
            found += [n for n in self.objects_in(option) if n not in found]
        if "items" in node:
            found += [n for n in self.objects_in(node["items"]) if n not in found]
        return found

    def type_text(self, node: dict[str, Any], *, link: dict[str, str]) -> str:
        name = self.ref_name(node)
        if name:
            target = link.get(name)
            return f"mapping ([{target}](#{_slug(target)}))" if target else "mapping"
        if "const" in node:
            return _code(_yaml_scalar(node["const"]))
        if "anyOf" in node:
            options = [o for o in node["anyOf"] if o.get("type") != "null"]
            texts = list(dict.fromkeys(self.type_text(o, link=link) for o in options))
            text = " or ".join(texts)
            return text + (" or null" if len(options) < len(node["anyOf"]) else "")
        kind = node.get("type")
        if isinstance(kind, list):
            return ", ".join(kind[:-1]) + " or " + kind[-1] if len(kind) > 1 else kind[0]
        if kind == "array":
            if "prefixItems" in node:
                parts = [self.type_text(p, link=link) for p in node["prefixItems"]]
                return f"[low, high] ({parts[0]})" if len(set(parts)) == 1 and len(parts) == 2 else \
                    "[" + ", ".join(parts) + "]"
            items = node.get("items")
            if not items:
                return "list"
            inner = self.type_text(items, link=link)
            return f"list of ({inner})" if " or " in inner else f"list of {inner}"
        if kind == "object":
            extra = node.get("additionalProperties")
            if isinstance(extra, dict):
                return f"mapping of string to {self.type_text(extra, link=link)}"
            return "mapping"
        if kind == "string" and node.get("format") == "date":
            return "date (YYYY-MM-DD)"
        return kind or "any"

    def allowed_text(self, node: dict[str, Any]) -> str:
        parts: list[str] = []
        for option in [node, *node.get("anyOf", []), node.get("items") or {},
                       node.get("additionalProperties") if isinstance(node.get("additionalProperties"), dict)
                       else {}]:
            if "enum" in option:
                parts.append(", ".join(_code(v) for v in option["enum"]))
            bounds = []
            if "minimum" in option:
                bounds.append(f"≥ {option['minimum']}")
            if "exclusiveMinimum" in option:
                bounds.append(f"> {option['exclusiveMinimum']}")
            if "maximum" in option:
                bounds.append(f"≤ {option['maximum']}")
            if "exclusiveMaximum" in option:
                bounds.append(f"< {option['exclusiveMaximum']}")
            if bounds:
                parts.append(" and ".join(bounds))
            if option.get("minLength"):
                parts.append("not empty")
            if option.get("pattern"):
                parts.append(f"matches `{option['pattern']}`")
            if option.get("minItems") and option.get("type") == "array" and "prefixItems" not in option:
                parts.append(f"at least {option['minItems']} item{'s' if option['minItems'] > 1 else ''}")
            if option.get("minProperties"):
                parts.append(f"at least {option['minProperties']} entries")
        return "; ".join(dict.fromkeys(parts)) or "—"

    def default_text(self, node: dict[str, Any], required: bool) -> str:
        if required:
            return "**required**"
        if "default" not in node:
            return "`{}`" if node.get("type") == "object" else "—"
        default = node["default"]
        if isinstance(default, dict) and default:
            return "the defaults below"
        return _code(_yaml_scalar(default))


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    import re

    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def _field_table(schema: _Schema, definition: dict[str, Any], link: dict[str, str]) -> list[str]:
    required = set(definition.get("required", []))
    lines = ["| field | type | default | allowed | description |", "|---|---|---|---|---|"]
    for name, node in definition["properties"].items():
        lines.append(f"| `{name}` | {_cell(schema.type_text(node, link=link))} | "
                     f"{_cell(schema.default_text(node, name in required))} | {_cell(schema.allowed_text(node))} | "
                     f"{_cell(node.get('description', ''))} |")
    return lines


def _example(name: str) -> list[str]:
    text = EXAMPLES.get(name)
    return ["Example:", "", "```yaml", text.rstrip("\n"), "```", ""] if text else []


def _notes(name: str) -> list[str]:
    notes = NOTES.get(name, [])
    return [f"- {note}" for note in notes] + ([""] if notes else [])


def _metric_lists(section: str) -> list[str]:
    if section == "metrics":
        return ["Allowed names (the rate metrics of `audit.metrics.METRICS`; `audit metrics` prints their "
                "formulas): " + ", ".join(_code(m) for m in METRICS) + ".", ""]
    rate = [m for m in METRICS if m != "count"]
    extra = []
    for e in EXTRA_METRICS.values():
        extra.append({"tiers": f"{e.name}:TIER", "amount": f"{e.name}:COLUMN"}.get(e.needs, e.name)
                     if e.name != "quantile" else "qNN:COLUMN")
    return ["Metric names a rule may use (`audit metrics` prints their formulas):", "",
            "- rates of a yes/no decision (from `audit.metrics.METRICS`): "
            + ", ".join(_code(m) for m in rate) + ";",
            "- beyond yes/no (from `audit.metrics.EXTRA_METRICS`): " + ", ".join(_code(m) for m in extra) + ".", ""]


def _answer_ids() -> list[str]:
    lines = [("Checklist ids that `report.answers` can answer (`audit frameworks` lists them with their text); "
             "the items marked *audit* are filled in by the audit itself:"), ""]
    for profile in PROFILES.values():
        ids = [f"`{i.id}`" + (" (*audit*)" if i.source == "audit" else "") for i in profile.items]
        lines.append(f"- `{profile.key}`: " + ", ".join(ids))
    return lines + [""]


def render() -> str:
    """The whole page, as Markdown."""
    schema = _Schema(spec_json_schema())
    top = schema.schema
    required = set(top.get("required", []))
    link: dict[str, str] = {}
    sections: list[tuple[str, dict[str, Any], list[str]]] = []
    for name, node in top["properties"].items():
        objects = schema.objects_in(node)
        sections.append((name, node, objects))
        for obj in objects:
            link.setdefault(obj, name)
    nested: dict[str, list[tuple[str, str]]] = {}
    for name, _, objects in sections:
        for obj in objects:
            for field, node in schema.defs[obj]["properties"].items():
                for inner in schema.objects_in(node):
                    if inner not in link:
                        link[inner] = f"{name}.{field}"
                        nested.setdefault(name, []).append((f"{name}.{field}", inner))

    out = ["# Spec reference", "",
           ("<!-- Generated by scripts/spec_reference.py from audit.spec.spec_json_schema(); do not edit by hand. "
            "Run: python scripts/spec_reference.py -->"), "",
           ("For engineers who write or review audit specs. Every field, its type, default, allowed values and "
            "meaning comes from the spec's model in `audit/spec.py` (exported as JSON Schema by `audit schema`; "
            "`audit/schema/spec.schema.json` is the same export, for editors). The page is generated: "
            "`tests/test_docs.py` fails when it no longer matches the model. For what the fields *mean* for an "
            "audit, see [concepts](concepts.md); for running a spec in CI, see [ci](ci.md)."), "",
           ("A spec is a YAML mapping. Unknown fields are errors (with a \"did you mean\"), and `audit validate "
            "SPEC` reports every problem at once with the field's path. Relative `data.path` values are taken "
           f"from the spec file's folder. Current `spec_version`: {SPEC_VERSION}."), "",
            "## Sections", "",
            "| section | type | required | default | description |", "|---|---|---|---|---|"]
    for name, node, objects in sections:
        description = node.get("description") or TOP_DESCRIPTIONS.get(name) or \
            (schema.defs[objects[0]].get("description", "") if objects else "")
        out.append(f"| [`{name}`](#{_slug(name)}) | {_cell(schema.type_text(node, link={}))} | "
                   f"{'yes' if name in required else 'no'} | "
                   f"{_cell(schema.default_text(node, False) if name not in required else '—')} | "
                   f"{_cell(description)} |")
    out += ["", "A complete spec that uses the common sections:", "", "```yaml", OVERVIEW.rstrip("\n"), "```", ""]

    for name, node, objects in sections:
        out += [f"## {name}", ""]
        description = node.get("description") or TOP_DESCRIPTIONS.get(name)
        own = [o for o in objects if link.get(o) == name]
        if own:
            definition = schema.defs[own[0]]
            text = definition.get("description", "")
            shape = schema.type_text(node, link={})
            out += [f"{text}" + (f" {description}" if description and description != text else ""), "",
                    f"Type: {shape}.", ""]
            out += _field_table(schema, definition, link) + [""]
        else:
            out += [description or "", "",
                    (f"Type: {schema.type_text(node, link={})}; default "
                    f"{schema.default_text(node, name in required)}."), ""]
        if name in ("policy", "metrics"):
            out += _metric_lists(name)
        if name == "report":
            out += _answer_ids()
        out += _notes(name)
        out += _example(name)
        for path, inner in nested.get(name, []):
            definition = schema.defs[inner]
            out += [f"### {path}", "", definition.get("description", ""), ""]
            out += _field_table(schema, definition, link) + [""]
            out += _notes(path) + _example(path)

    out += ["## Rules that span several fields", "",
            ("Besides the types above, `audit validate` (and every command that reads a spec) checks these rules, "
             "among others; its message names the field and says what to change:"), ""]
    out += [f"- {rule}" for rule in CROSS_FIELD]
    return "\n".join(out).rstrip("\n") + "\n"


def main() -> None:
    """Write the page to ``docs/spec-reference.md``."""
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
