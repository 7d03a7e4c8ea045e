"""Every bundled scenario finds exactly its documented disparities, and its generator reproduces its data.

A scenario is a folder of ``examples/`` with a ``spec.yaml``. When it has an
``expected_findings.yaml`` (the ground truth its README documents), the audit
must make exactly those findings (see :mod:`audit.expected`). When it has a
``generate.py``, the generator's ``generate()`` must reproduce the shipped
data file byte for byte, written as ``to_csv(index=False, lineterminator="\\n")``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import audit
from audit.expected import ExpectedFindings, check_expected, load_expected
from audit.spec import load_spec
from audit.testing import assert_audit_finds
from conftest import BASE_SPEC, scenario_generator

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCENARIOS = sorted(p.parent.name for p in EXAMPLES.glob("*/expected_findings.yaml"))
GENERATED = sorted(p.parent.name for p in EXAMPLES.glob("*/generate.py"))
REQUIRED = ("compas", "welfare_fraud", "welfare_investigations", "trust_score", "hotline_1022",
            "loan_eligibility")


def test_every_required_scenario_has_expected_findings() -> None:
    assert set(REQUIRED) <= set(SCENARIOS), sorted(set(REQUIRED) - set(SCENARIOS))
    for name in SCENARIOS:
        folder = EXAMPLES / name
        assert (folder / "spec.yaml").is_file() and (folder / "README.md").is_file(), name


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_finds_exactly_its_documented_disparities(name: str) -> None:
    folder = EXAMPLES / name
    expected = load_expected(folder / "expected_findings.yaml")
    assert expected.fail, f"{name}: a scenario documents at least one disparity"
    result = assert_audit_finds(folder / "spec.yaml", expected)
    assert result.verdict == (expected.verdict or result.verdict)


def _generator(name: str):
    return scenario_generator(name)


@pytest.mark.parametrize("name", GENERATED)
def test_generator_reproduces_the_shipped_data(name: str) -> None:
    spec, base = load_spec(EXAMPLES / name / "spec.yaml")
    data_file = base / spec.data.path
    if not data_file.is_file():                         # a scenario that reuses another folder's data
        pytest.skip(f"{name}: data file is {spec.data.path}")
    text = _generator(name).generate().to_csv(index=False, lineterminator="\n")
    assert text.encode("utf-8") == data_file.read_bytes()


# The checker itself, on a small planted table: it must notice a missing and an unexpected finding.

def _planted(n: int = 6_000) -> pd.DataFrame:
    import numpy as np
    rng = np.random.default_rng(7)
    group = np.where(rng.random(n) < 0.5, "a", np.where(rng.random(n) < 0.5, "b", "c"))
    d = (rng.random(n) < np.where(group == "b", 0.40, 0.20)).astype(int)
    return pd.DataFrame({"group": group, "sex": np.where(rng.random(n) < 0.5, "f", "m"),
                         "y": (rng.random(n) < 0.3).astype(int), "d": d})


SPEC = {**BASE_SPEC, "intersections": [],
        "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25], "rule": "ci"}]}


def test_checker_matches_the_planted_finding_and_names_every_difference() -> None:
    result = audit.run(SPEC, _planted())
    right = ExpectedFindings.model_validate({"verdict": "fail", "fail": [
        {"metric": "selection_rate", "attribute": "group", "groups": ["b"]}]})
    assert check_expected(result, right).ok
    wrong = ExpectedFindings.model_validate({"verdict": "pass", "fail": [
        {"metric": "selection_rate", "attribute": "group", "groups": ["c"]}]})
    check = check_expected(result, wrong)
    assert not check.ok
    assert check.missing == ("selection_rate | decision | group = c",)
    assert check.unexpected == ("selection_rate | decision | group = b",)
    assert check.other == ("overall verdict: expected pass, got fail",)
    tolerant = wrong.model_copy(update={"allowed_unexpected": 1, "fail": (), "verdict": None})
    assert check_expected(result, tolerant).ok
    with pytest.raises(AssertionError, match="missing \\(expected, not found\\): selection_rate"):
        assert_audit_finds(SPEC, wrong, data=_planted())


def test_a_malformed_expected_findings_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "expected.yaml"
    bad.write_text("fail:\n  - {metric: fpr, groups: [a]}\nsurprise: 1\n")
    with pytest.raises(audit.AuditError, match="expected.yaml.*fail.0.attribute.*surprise"):
        load_expected(bad)
    with pytest.raises(audit.AuditError, match="not found"):
        load_expected(tmp_path / "missing.yaml")
