"""The `audit` command: outputs, exit codes, JUnit, init → validate → run, schema and metrics."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import audit
from audit.cli import main
from audit.metrics import METRICS
from conftest import EXAMPLES

runner = CliRunner()


def test_run_writes_outputs_and_exits_1_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(main, ["run", str(EXAMPLES / "compas" / "spec.yaml"), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "African-American" in result.output and "FAIL" in result.output
    body = json.loads((out / "result.json").read_text())
    assert body["schema_version"] == "1.1" and body["verdict"] == "fail"
    assert body["provenance"]["rows_used"] == 6172
    api = audit.run(EXAMPLES / "compas" / "spec.yaml")
    assert body["verdict_counts"] == api.verdict_counts()  # one engine: the CLI shows the API's numbers
    suites = ET.parse(out / "junit.xml").getroot()
    cases = suites.findall(".//testcase")
    assert len(cases) == len(api.verdicts)
    assert len(suites.findall(".//failure")) == api.verdict_counts()["fail"]
    assert len(suites.findall(".//skipped")) == api.verdict_counts()["inconclusive"]
    summary = (out / "summary.md").read_text()
    assert "Overall verdict: FAIL" in summary and "| race | African-American | Caucasian |" in summary


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
    spec = _passing_spec(tmp_path, "ci")
    raw = yaml.safe_load(spec.read_text())
    raw["statistics"] = {"min_group_size": 100000}  # every verdict inconclusive
    spec.write_text(yaml.safe_dump(raw))
    assert runner.invoke(main, ["run", str(spec)]).exit_code == 0
    strict = runner.invoke(main, ["run", str(spec), "--strict", "--out", str(tmp_path / "o")])
    assert strict.exit_code == 1
    assert len(ET.parse(tmp_path / "o" / "junit.xml").getroot().findall(".//failure")) == 1


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
