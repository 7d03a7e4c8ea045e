"""The `audit` command: outputs, exit codes, JUnit, init → validate → run, schema and metrics."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import audit
from audit.cli import main
from audit.metrics import METRICS
from audit.wording import interval, number, p_value, people, to_decide
from conftest import EXAMPLES

runner = CliRunner()


def test_run_writes_outputs_and_exits_1_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(main, ["run", str(EXAMPLES / "compas" / "spec.yaml"), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "African-American" in result.output and "FAIL" in result.output
    body = json.loads((out / "result.json").read_text())
    assert body["schema_version"] == "2.0" and body["verdict"] == "fail"
    assert body["provenance"]["rows_used"] == 6172
    api = audit.run(EXAMPLES / "compas" / "spec.yaml")
    assert body["verdict_counts"] == api.verdict_counts()  # one engine: the CLI shows the API's numbers
    assert body["family"]["size"] == api.family.size == len(api.verdicts) == 34
    suites = ET.parse(out / "junit.xml").getroot()
    cases = suites.findall(".//testcase")
    assert len(cases) == len(api.verdicts)
    assert len(suites.findall(".//failure")) == api.verdict_counts()["fail"]
    assert len(suites.findall(".//skipped")) == api.verdict_counts()["inconclusive"]
    summary = (out / "summary.md").read_text()
    assert "Overall verdict: FAIL" in summary and "| race | African-American | Caucasian |" in summary


@pytest.fixture(scope="module")
def compas(tmp_path_factory: pytest.TempPathFactory) -> tuple[audit.AuditResult, str, Path]:
    """The COMPAS example audited through the CLI (its printed output and --out folder) and through the API."""
    out = tmp_path_factory.mktemp("compas") / "out"
    printed = runner.invoke(main, ["run", str(EXAMPLES / "compas" / "spec.yaml"), "--out", str(out)])
    assert printed.exit_code == 1, printed.output
    return audit.run(EXAMPLES / "compas" / "spec.yaml"), printed.output, out


def _row(result: audit.AuditResult, metric: str, group: str) -> dict:
    rows = result.verdicts[(result.verdicts["metric"] == metric) & (result.verdicts["group"] == group)]
    assert len(rows) == 1
    return rows.iloc[0].to_dict()


def test_run_states_the_family_once_and_prints_both_intervals(compas) -> None:
    api, output, _ = compas
    assert api.family.size == 34 and api.family.alpha == 0.05
    line = ("verdicts: one family of 34, family-wise error rate 0.05; family-level intervals at 99.85% each "
            "(1 − 0.05/34); p (family): Holm over the family")
    assert output.count(line) == 1
    assert output.count("family CI (99.85%)") == 2 and output.count("95% CI") == 2   # one table per rule
    assert "p (family)" in output and "adj. p" not in output
    fail = _row(api, "fpr", "African-American")
    assert fail["verdict"] == "fail"
    assert fail["family_ci_low"] < fail["ci_low"] < fail["ci_high"] < fail["family_ci_high"]
    cells = [number(fail["estimate"]), interval(fail["ci_low"], fail["ci_high"]).replace(" to ", "–"),
             interval(fail["family_ci_low"], fail["family_ci_high"]).replace(" to ", "–"), "1,514",
             p_value(fail["p_family"]), "fail"]
    table_line = next(line for line in output.splitlines() if "│ race " in line and "African-American " in line)
    assert [c.strip() for c in table_line.split("│")[4:-1]] == cells


def test_run_says_what_would_decide_each_inconclusive_verdict(compas) -> None:
    api, output, _ = compas
    inconclusive = api.verdicts[api.verdicts["verdict"] == "inconclusive"].to_dict(orient="records")
    said = [r for r in inconclusive if to_decide(r)]
    assert len(inconclusive) == 22 and len(said) == 21   # the 22nd (no actual negatives) has nothing to say
    lines = [line for line in output.splitlines() if ": to decide: " in line]
    assert lines == [f"  {r['attribute']} = {r['group']}: to decide: {to_decide(r)}" for r in said]
    asian = _row(api, "selection_rate", "Asian")
    assert asian["verdict"] == "inconclusive" and asian["needed_n"] > asian["n"] == 31
    assert f"  race = Asian: to decide: detectable with 80% power: a ratio of {number(asian['detectable_ratio'])} or " \
           f"further from parity; at the observed rates the group needs {people(asian['needed_n'])} people" in lines


def test_summary_and_junit_show_the_family_interval_p_and_what_would_decide(compas) -> None:
    api, _, out = compas
    summary = (out / "summary.md").read_text()
    assert ("- Verdicts: one family of 34, family-wise error rate 0.05; family-level intervals at 99.85% each "
            "(1 − 0.05/34); p (family): Holm over the family") in summary.splitlines()[4:5]
    header = ("| view | attribute | group | reference | estimate | 95% CI | family CI (99.85%) | n | ref n "
              "| p (family) | verdict | why |")
    assert summary.count(header) == 2
    fail = _row(api, "fpr", "African-American")
    assert (f"| decision | race | African-American | Caucasian | {number(fail['estimate'])} | "
            f"{interval(fail['ci_low'], fail['ci_high'])} | "
            f"{interval(fail['family_ci_low'], fail['family_ci_high'])} | 1,514 | 1,281 | "
            f"{p_value(fail['p_family'])} | **fail** | {fail['reason']}; worse for this group") in summary
    asian = _row(api, "selection_rate", "Asian")
    row = next(line for line in summary.splitlines() if line.startswith("| decision | race | Asian |")
               and "**inconclusive** | ratio 0.682 outside" in line)
    assert row.endswith(f"; to decide: {to_decide(asian)} |") and str(people(asian["needed_n"])) in row
    cases = {c.get("name"): c for c in ET.parse(out / "junit.xml").getroot().iter("testcase")
             if c.get("classname").startswith("selection_rate")}
    failure = cases["race = Other vs Caucasian"].find("failure")
    other = _row(api, "selection_rate", "Other")
    assert failure is not None and failure.get("message") == (
        f"{other['reason']} (n = 343, reference n = 2,103, family interval "
        f"{interval(other['family_ci_low'], other['family_ci_high'])} at 99.85% each, p (family) = "
        f"{p_value(other['p_family'])})")
    skipped = cases["race = Asian vs Caucasian"].find("skipped")
    assert skipped is not None and skipped.get("message").endswith(f"; to decide: {to_decide(asian)}")
    assert f"p (family) = {p_value(asian['p_family'])})" in skipped.get("message")


def test_values_from_the_data_are_printed_as_written(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    groups = rng.choice(["[bold]x[/bold]", "a|b", "[red]"], size=900, p=[0.5, 0.3, 0.2])
    frame = pd.DataFrame({"g": groups, "d": (rng.random(900) < 0.3).astype(int)})
    frame.to_csv(tmp_path / "d.csv", index=False)
    spec = {"system": {"name": "[i]markup[/i] system"}, "data": {"path": "d.csv"},
            "decision": {"column": "d", "positive": 1}, "protected": [{"column": "g", "reference": "[bold]x[/bold]"}],
            "policy": [{"metric": "selection_rate", "ratio": [0.99, 1.01]}]}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    result = runner.invoke(main, ["run", str(tmp_path / "spec.yaml"), "--out", str(tmp_path / "out")])
    assert result.exit_code in (0, 1), result.output
    assert "[i]markup[/i] system" in result.output
    assert "│ g         │ [red] │ [bold]x[/bold] │" in result.output
    assert "│ g         │ a|b   │ [bold]x[/bold] │" in result.output
    assert "  g = [red]: to decide: detectable with 80% power" in result.output   # both inconclusive: 1.05, 0.959
    assert "  g = a|b: to decide: detectable with 80% power" in result.output
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "| decision | g | a\\|b | [bold]x[/bold] |" in summary    # a pipe in a value does not split the cell


def _passing_spec(tmp_path: Path, rule: str) -> Path:
    spec = yaml.safe_load((EXAMPLES / "compas" / "spec.yaml").read_text())
    spec["data"]["path"] = str(EXAMPLES / "compas" / "compas-scores-two-years.csv")
    spec["protected"] = [{"column": "sex"}]
    spec["intersections"] = []
    spec["policy"] = [{"metric": "fpr", "ratio": [0.8, 1.25], "rule": rule}]
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_exit_0_when_every_rule_passes(tmp_path: Path) -> None:
    result = runner.invoke(main, ["run", str(_passing_spec(tmp_path, "ci")), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "PASS" in result.output


def test_strict_counts_inconclusive_as_failure(tmp_path: Path) -> None:
    spec = _passing_spec(tmp_path, "point")
    raw = yaml.safe_load(spec.read_text())
    raw["statistics"] = {"min_group_size": 100000}  # the point rule needs this many people: inconclusive
    spec.write_text(yaml.safe_dump(raw))
    lenient = runner.invoke(main, ["run", str(spec)])
    assert lenient.exit_code == 0, lenient.output
    assert "(0 fail, 0 pass, 1 inconclusive)" in lenient.output
    strict = runner.invoke(main, ["run", str(spec), "--strict", "--out", str(tmp_path / "o")])
    assert strict.exit_code == 1
    failures = ET.parse(tmp_path / "o" / "junit.xml").getroot().findall(".//failure")
    assert len(failures) == 1 and failures[0].get("type") == "inconclusive"
    assert "too few people: group n = 762 < minimum 100000" in failures[0].get("message")


def test_init_writes_a_spec_that_validates_and_runs(tmp_path: Path) -> None:
    data = tmp_path / "welfare.csv"
    shutil.copy(EXAMPLES / "welfare_fraud" / "welfare_fraud.csv", data)
    result = runner.invoke(main, ["init", str(data)])
    assert result.exit_code == 0, result.output
    spec = yaml.safe_load((tmp_path / "audit.yaml").read_text())
    assert spec["outcome"]["column"] == "fraud_found" and spec["decision"]["column"] == "flagged"
    assert {p["column"] for p in spec["protected"]} >= {"sex", "nationality", "age_band"}
    assert "application_id" not in {p["column"] for p in spec["protected"]}
    assert runner.invoke(main, ["validate", str(tmp_path / "audit.yaml")]).exit_code == 0
    assert runner.invoke(main, ["run", str(tmp_path / "audit.yaml")]).exit_code in (0, 1)
    again = runner.invoke(main, ["init", str(data)])
    assert again.exit_code == 2 and "--force" in again.output


def test_validate_reports_missing_columns(tmp_path: Path) -> None:
    spec = yaml.safe_load((EXAMPLES / "compas" / "spec.yaml").read_text())
    spec["data"]["path"] = str(EXAMPLES / "compas" / "compas-scores-two-years.csv")
    spec["protected"] = [{"column": "rase"}, {"column": "sexx"}]
    spec["intersections"] = []
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(spec))
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert "did you mean 'race'" in result.output and "did you mean 'sex'" in result.output


def test_schema_and_metrics_commands() -> None:
    schema = runner.invoke(main, ["schema"])
    assert schema.exit_code == 0 and json.loads(schema.output)["title"] == "Audit spec"
    listing = runner.invoke(main, ["metrics"])
    assert listing.exit_code == 0
    for name in METRICS:
        assert name in listing.output


def test_usage_errors_exit_2() -> None:
    assert runner.invoke(main, ["run"]).exit_code == 2
    assert runner.invoke(main, ["frobnicate"]).exit_code == 2
