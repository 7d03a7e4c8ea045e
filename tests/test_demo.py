"""The README's main job: ./demo.sh audits every example, writes its outputs, and ends with the app running."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import urllib.request

from conftest import ROOT

EXAMPLES = tuple(sorted(p.parent.name for p in (ROOT / "examples").glob("*/spec.yaml")))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2) as response:
            return response.read().strip() == b"ok"
    except OSError:
        return False


def test_demo_audits_every_example_and_starts_the_app(tmp_path) -> None:
    port = _free_port()
    env = {**os.environ, "AUDIT_APP_PORT": str(port), "HOME": str(tmp_path)}   # the app's history goes to HOME
    log = (tmp_path / "demo.log").open("w+")
    demo = subprocess.Popen(["bash", str(ROOT / "demo.sh")], stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline and demo.poll() is None and not _healthy(port):
            time.sleep(1)
        output = (tmp_path / "demo.log").read_text()
        assert demo.poll() is None and _healthy(port), output[-3000:]
        with urllib.request.urlopen(f"http://localhost:{port}/", timeout=10) as response:
            assert response.status == 200
    finally:
        os.killpg(demo.pid, 15)
        demo.wait(timeout=60)
    output = (tmp_path / "demo.log").read_text()
    assert f"the auditors' app: http://localhost:{port}" in output
    assert len(EXAMPLES) >= 9 and "reports of every scenario" in output
    index = (ROOT / "out" / "index.html").read_text()
    for example in EXAMPLES:
        line = re.search(rf"^{example}: FAIL .*$", output, re.MULTILINE)
        assert line and f'href="{example}/public/report.html"' in index, example
        if (ROOT / "examples" / example / "expected_findings.yaml").exists():   # its documented ground truth
            assert line.group(0).endswith("(findings as documented)"), line.group(0)
        body = json.loads((ROOT / "out" / example / "result.json").read_text())
        assert body["verdict"] == "fail"
        for name in ("junit.xml", "summary.md", "manifest.json", "public/report.html", "public/report.pdf",
                     "public/public.json", "public/manifest.json"):
            assert (ROOT / "out" / example / name).exists(), (example, name)
        verified = subprocess.run([str(ROOT / ".venv" / "bin" / "audit"), "verify", str(ROOT / "out" / example)],
                                  capture_output=True, text=True)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "Traceback" not in output
