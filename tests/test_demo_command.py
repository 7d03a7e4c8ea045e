"""``audit demo``: every scenario audited, reports in one folder, an index page linking them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLES


def test_demo_writes_every_report_and_an_index(tmp_path: Path) -> None:
    scenarios = tmp_path / "examples"
    shutil.copytree(EXAMPLES / "compas_truth_tables", scenarios / "compas_truth_tables")
    (scenarios / "broken").mkdir()
    spec = (EXAMPLES / "compas_truth_tables" / "spec.yaml").read_text()
    (scenarios / "broken" / "spec.yaml").write_text(spec.replace("path: truth_tables.csv", "path: missing.csv"))
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "audit.cli", "demo", "--out", str(out), "--examples",
                           str(scenarios), "--no-pdf"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr      # one scenario could not be audited
    assert "compas_truth_tables: FAIL COMPAS" in done.stdout
    assert "truth tables) (findings as documented)" in done.stdout    # its expected_findings.yaml holds
    assert "broken: ERROR broken — Data not found: " in done.stdout and "missing.csv" in done.stdout
    index = (out / "index.html").read_text()
    assert index.count("<tr>") == 3                      # the header and the two scenarios
    assert 'href="compas_truth_tables/public/report.html"' in index and ">FAIL<" in index and "missing.csv" in index
    for name in ("public/report.html", "public/manifest.json", "result.json", "summary.md", "junit.xml",
                 "manifest.json"):
        assert (out / "compas_truth_tables" / name).is_file(), name
    assert not (out / "broken").exists()


def test_demo_without_scenarios_says_where_it_looked(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "audit.cli", "demo", "--out", str(tmp_path / "out"),
                           "--examples", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and f"audit demo: no scenarios found in {tmp_path}" in done.stderr


def test_demo_says_when_a_scenario_differs_from_its_documented_findings(tmp_path: Path) -> None:
    scenarios = tmp_path / "examples"
    shutil.copytree(EXAMPLES / "compas_truth_tables", scenarios / "compas_truth_tables")
    expected = scenarios / "compas_truth_tables" / "expected_findings.yaml"
    expected.write_text(expected.read_text().replace("groups: [African-American]", "groups: [Hispanic]", 1))
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "audit.cli", "demo", "--out", str(out), "--examples",
                           str(scenarios), "--no-pdf"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "(findings differ from expected_findings.yaml: 1 missing, 1 unexpected, 0 other)" in done.stdout
    assert "findings differ from expected_findings.yaml: 1 missing, 1 unexpected" in (out / "index.html").read_text()
