"""The CI examples in examples/ci/ are valid YAML, and their ``audit`` commands run on a bundled example."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLES

CI = EXAMPLES / "ci"


def github_commands(config: dict) -> tuple[dict[str, str], list[str]]:
    steps = config["jobs"]["audit"]["steps"]
    return config["env"], [step["run"] for step in steps if "run" in step]


def gitlab_commands(config: dict) -> tuple[dict[str, str], list[str]]:
    job = config["fairness-audit"]
    return job["variables"], job["script"]


@pytest.mark.parametrize("name, commands", [("github-actions.yml", github_commands), ("gitlab-ci.yml", gitlab_commands)])
def test_ci_example_runs_the_audit(name: str, commands, tmp_path: Path) -> None:
    config = yaml.safe_load((CI / name).read_text())
    env, lines = commands(config)
    audit_lines = [line for line in lines if line.startswith("audit ")]
    assert [shlex.split(line)[:2] for line in audit_lines] == [["audit", "validate"], ["audit", "run"]]
    variables = {**os.environ, **env, "AUDIT_SPEC": str(EXAMPLES / "compas" / "spec.yaml"),
                 "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    codes = [subprocess.run(["bash", "-c", line], cwd=tmp_path, env=variables, capture_output=True, text=True,
                            timeout=300).returncode for line in audit_lines]
    assert codes == [0, 1]   # the spec is valid; COMPAS fails its rules, so the job fails as it should
    out = tmp_path / env["AUDIT_OUT"]
    junit = ET.parse(out / "junit.xml").getroot()
    assert int(junit.get("failures") or junit.find("testsuite").get("failures")) > 0
    for kept in ("public/report.html", "public/report.pdf", "public/manifest.json", "result.json", "manifest.json"):
        assert (out / kept).is_file(), kept


def test_ci_examples_publish_the_junit_results_and_keep_the_report() -> None:
    github = yaml.safe_load((CI / "github-actions.yml").read_text())
    steps = {step.get("uses", "").split("@")[0]: step for step in github["jobs"]["audit"]["steps"]}
    assert steps["mikepenz/action-junit-report"]["with"]["report_paths"] == "${{ env.AUDIT_OUT }}/junit.xml"
    assert steps["actions/upload-artifact"]["if"] == "always()"
    gitlab = yaml.safe_load((CI / "gitlab-ci.yml").read_text())["fairness-audit"]["artifacts"]
    assert gitlab["when"] == "always" and gitlab["reports"]["junit"] == "audit-out/junit.xml"
