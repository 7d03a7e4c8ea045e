"""The README's main job: ./demo.sh audits every example and writes its outputs."""

from __future__ import annotations

import json
import os
import subprocess

from conftest import ROOT


def test_demo_audits_every_example(tmp_path) -> None:
    env = dict(os.environ)
    result = subprocess.run(["bash", str(ROOT / "demo.sh")], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    for example in ("compas", "compas_scores", "compas_truth_tables", "welfare_fraud"):
        assert f"=== {example}: exit 1" in result.stdout
        body = json.loads((ROOT / "out" / example / "result.json").read_text())
        assert body["verdict"] == "fail"
        for name in ("junit.xml", "summary.md", "report.html", "report.pdf", "public.json", "manifest.json"):
            assert (ROOT / "out" / example / name).exists(), (example, name)
        verified = subprocess.run([str(ROOT / ".venv" / "bin" / "audit"), "verify", str(ROOT / "out" / example)],
                                  capture_output=True, text=True)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "Traceback" not in result.stdout + result.stderr
