"""The hostile-input corpus: odd or hostile files and specs, each with the outcome it must have.

Every folder in ``tests/hostile/`` is one case: its ``case.yaml`` says which command to run on which file,
the exit code it must give, fragments its output must (and must not) contain, and, for runs that write a
result, each protected column's groups exactly as written. The folder is copied to a temporary directory
first, so a case never changes the repository. Whatever the case, the command must not crash (no traceback,
no internal error, never exit 3) and must finish within :data:`TIME_LIMIT` seconds.

case.yaml::

    description: one line, what is odd about the input
    command: run                  # run | validate | init (default run)
    args: []                      # extra arguments, before the target
    target: spec.yaml             # the path given to the command (default spec.yaml)
    exit: 2                       # the exit code
    message: ["fragment"]         # must appear in stdout + stderr, verbatim
    absent: ["fragment"]          # must not appear
    groups: {race: ["01", "1"]}   # each protected column's groups in result.json (any order)
    files: {spec.yaml: ["text"]}  # fragments a file the command writes must contain
"""

from __future__ import annotations

import json
import shutil
import signal
import traceback
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from audit.cli import main

CORPUS = Path(__file__).parent / "hostile"
TIME_LIMIT = 20.0
"""Seconds a case may take (each takes well under one; a hang is caught)."""

CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "case.yaml").is_file()) if CORPUS.is_dir() else []
KEYS = {"description", "command", "args", "target", "exit", "message", "absent", "groups", "files"}


def read_case(name: str) -> dict[str, Any]:
    case = yaml.safe_load((CORPUS / name / "case.yaml").read_text(encoding="utf-8"))
    assert isinstance(case, dict) and set(case) <= KEYS, f"{name}/case.yaml: unknown keys {set(case) - KEYS}"
    assert case.get("description") and "exit" in case, f"{name}/case.yaml needs a description and an exit code"
    return case


def run_case(folder: Path, case: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """Run the case's command in its folder, in this process (as ``audit`` would), under a time limit."""
    command = case.get("command", "run")
    args = [str(a) for a in case.get("args", [])]
    if command == "run":
        args += ["--out", str(folder / "out")]
    monkeypatch.chdir(folder)
    monkeypatch.setenv("COLUMNS", "200")

    def hang(signum: int, frame: Any) -> None:
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, hang)
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT)
    try:
        result = CliRunner().invoke(main, [command, *args, case.get("target", "spec.yaml")])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if isinstance(result.exception, TimeoutError):
        pytest.fail(f"audit {command} did not finish within {TIME_LIMIT:.0f} s (a hang)")
    output = result.output                      # stdout and stderr, as on a terminal
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        output += "Traceback: " + "".join(traceback.format_exception(result.exception))
    return result.exit_code, output


def groups_of(result: dict[str, Any]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for row in result["groups"]:
        if " × " not in row["attribute"]:
            found.setdefault(row["attribute"], set()).add(row["group"])
    return found


def test_the_corpus_is_large_and_varied() -> None:
    assert len(CASES) >= 60
    codes = {read_case(name)["exit"] for name in CASES}
    assert {0, 2} <= codes


@pytest.mark.parametrize("name", CASES)
def test_case(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = read_case(name)
    folder = tmp_path / name
    shutil.copytree(CORPUS / name, folder)
    code, output = run_case(folder, case, monkeypatch)
    assert "Traceback" not in output and "internal error" not in output, output
    assert code == case["exit"], f"{name}: exit {code}, expected {case['exit']}:\n{output}"
    for fragment in case.get("message", []):
        assert fragment in output, f"{name}: {fragment!r} not in the output:\n{output}"
    for fragment in case.get("absent", []):
        assert fragment not in output, f"{name}: {fragment!r} in the output:\n{output}"
    if "groups" in case:
        result = json.loads((folder / "out" / "result.json").read_text(encoding="utf-8"))
        found = groups_of(result)
        for column, expected in case["groups"].items():
            assert found.get(column) == {str(g) for g in expected}, f"{name}: groups of {column}: {found.get(column)}"
    for file, fragments in case.get("files", {}).items():
        text = (folder / file).read_text(encoding="utf-8")
        for fragment in fragments:
            assert fragment in text, f"{name}: {fragment!r} not in {file}:\n{text}"
