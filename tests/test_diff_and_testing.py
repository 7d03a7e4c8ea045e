"""``audit diff`` between two seeded rounds of one system, and ``audit.testing.assert_audit_passes``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import audit
from audit.cli import _because, main
from audit.testing import assert_audit_passes
from audit.wording import interval, number, p_value
from conftest import BASE_SPEC

runner = CliRunner()
SPEC = {**BASE_SPEC, "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25], "rule": "significant"}]}


def round_of(disparity: float, n: int = 20_000, seed: int = 3) -> pd.DataFrame:
    """A round of flags: group 'b' is flagged ``disparity`` times as often as the others."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    sex = rng.choice(["f", "m"], size=n)
    y = (rng.random(n) < 0.3).astype(int)
    d = (rng.random(n) < np.where(group == "b", 0.2 * disparity, 0.2)).astype(int)
    return pd.DataFrame({"group": group, "sex": sex, "y": y, "d": d})


def write_round(tmp: Path, name: str, frame: pd.DataFrame, rule: str = "significant") -> Path:
    """The round's data and spec in ``tmp``; returns the spec."""
    frame.to_csv(tmp / f"{name}.csv", index=False)
    spec = tmp / f"{name}.yaml"
    policy = [{**SPEC["policy"][0], "rule": rule}]
    spec.write_text(yaml.safe_dump({**SPEC, "policy": policy, "data": {"path": f"{name}.csv"}}, sort_keys=False))
    return spec


def audit_round(tmp: Path, name: str, frame: pd.DataFrame) -> Path:
    spec = write_round(tmp, name, frame)
    out = tmp / name
    subprocess.run([sys.executable, "-m", "audit.cli", "run", str(spec), "--out", str(out), "-q"],
                   capture_output=True, text=True, timeout=120)
    return out


def diff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "audit.cli", "diff", *args], capture_output=True, text=True,
                          timeout=120)


def test_diff_reports_the_planted_regression_and_exits_1(tmp_path: Path) -> None:
    before = audit_round(tmp_path, "2025", round_of(1.0, seed=3))
    after = audit_round(tmp_path, "2026", round_of(1.6, seed=4))   # group b now flagged 1.6 times as often
    done = diff(str(before), str(after / "result.json"), "--json", str(tmp_path / "changes.json"))
    assert done.returncode == 1, done.stderr
    assert "regressed: selection_rate" in done.stdout
    assert "group = b: pass -> fail (because the data changed)" in done.stdout
    assert "REGRESSION" in done.stdout
    changes = json.loads((tmp_path / "changes.json").read_text())
    regressed = [v for v in changes["verdicts"] if v["change"] == "regressed"]
    assert {(v["attribute"], v["group"]) for v in regressed} == {("group", "b"), ("group × sex", "b × f"),
                                                                  ("group × sex", "b × m")}
    assert {v["cause"] for v in regressed} == {"data"}
    moved = [d for d in changes["disparities"] if d["metric"] == "selection_rate" and d["group"] == "b"
             and d["attribute"] == "group" and d["view"] == regressed[0]["view"]]
    assert moved[0]["significant"] and moved[0]["moved_beyond_intervals"]
    assert moved[0]["old_ratio"] == pytest.approx(1.0, abs=0.1) and moved[0]["new_ratio"] == pytest.approx(1.6, abs=0.1)
    back = diff(str(after), str(before))          # the other way round the verdict improves: exit 0
    assert back.returncode == 0 and "improved: selection_rate" in back.stdout and "no regression" in back.stdout
    same = diff(str(before), str(before))
    assert same.returncode == 0 and "0 regressed, 0 improved" in same.stdout


def test_diff_says_a_verdict_changed_because_the_method_changed(tmp_path: Path) -> None:
    frame = round_of(1.0)
    for rule in ("ci", "significant"):   # the same data, judged by two rules
        (tmp_path / rule).mkdir()
        ran = runner.invoke(main, ["run", str(write_round(tmp_path / rule, "round", frame, rule)), "--out",
                                   str(tmp_path / rule / "out"), "-q"])
        assert ran.exit_code == 0, ran.output
    done = runner.invoke(main, ["diff", str(tmp_path / "ci" / "out"), str(tmp_path / "significant" / "out"),
                                "--json", str(tmp_path / "changes.json")])
    assert done.exit_code == 0, done.output
    changes = json.loads((tmp_path / "changes.json").read_text())
    improved = {(v["attribute"], v["group"], v["cause"]) for v in changes["verdicts"] if v["change"] == "improved"}
    # ci: the family intervals of b × f (0.787 to 1.16) and c × f (0.775 to 1.19) cross 0.8; significant: both pass
    assert improved == {("group × sex", "b × f", "method"), ("group × sex", "c × f", "method")}
    assert "group × sex = b × f: inconclusive -> pass (because the method changed)" in done.output
    assert "group × sex = c × f: inconclusive -> pass (because the method changed)" in done.output


def test_the_cause_of_a_change_in_words() -> None:
    assert _because("method") == "(because the method changed)"
    assert _because("data and method") == "(because the data and the method changed)"
    assert _because("method and policy and data") == "(because the method, the policy and the data changed)"
    for nothing in ("", None, float("nan")):   # no cause recorded, or results from before causes were
        assert _because(nothing) == ""


def test_diff_names_a_missing_or_wrong_file(tmp_path: Path) -> None:
    done = diff(str(tmp_path / "nowhere"), str(tmp_path))
    assert done.returncode == 2 and f"audit diff: {tmp_path / 'nowhere'} does not exist" in done.stderr
    done = diff(str(tmp_path), str(tmp_path))
    assert done.returncode == 2 and "has no result.json; give a result.json or the folder" in done.stderr
    (tmp_path / "x.json").write_text("[1, 2]")
    done = diff(str(tmp_path / "x.json"), str(tmp_path / "x.json"))
    assert done.returncode == 2 and "is JSON but not an audit result" in done.stderr
    assert "Traceback" not in done.stderr


def test_assert_audit_passes_returns_the_result_or_lists_what_fails() -> None:
    result = assert_audit_passes(SPEC, round_of(1.0))
    assert result.verdict == "pass"
    with pytest.raises(AssertionError) as failed:
        assert_audit_passes(SPEC, round_of(1.6))
    message = str(failed.value)
    assert message.startswith("audit of 'synthetic': FAIL (3 rule x group verdict(s) fail)")
    failing = audit.run(SPEC, round_of(1.6)).verdicts.set_index("group").loc["b"]
    assert failing["verdict"] == "fail" and failing["n"] == 5976
    assert (f"[fail] selection_rate ratio in [0.8, 1.25] (significant) | decision | group = b vs a: "
            f"{number(failing['estimate'])} (family CI {interval(failing['family_ci_low'], failing['family_ci_high'])} "
            f"at 99.38% each, p (family) = {p_value(failing['p_family'])}, n = 5,976) — "
            f"{failing['reason']}") in message
    small = round_of(1.0, n=120)
    assert assert_audit_passes(SPEC, small).verdict == "inconclusive"       # too few people: not a failure
    with pytest.raises(AssertionError, match=r"INCONCLUSIVE \(6 rule x group verdict\(s\) fail or inconclusive\)"
                       ) as unsure:
        assert_audit_passes(SPEC, small, strict=True)
    assert str(unsure.value).count("; to decide: ") == 6
    with pytest.raises(audit.DataError, match="column 'd' is not in the DataFrame"):
        assert_audit_passes(SPEC, round_of(1.0).drop(columns="d"))
