"""The spec model: the issue's spec is accepted as written; mistakes are all reported at once."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

import audit
from audit.errors import ReasonCode, SpecError
from audit.spec import read_spec_file, spec_json_schema, validate_spec
from conftest import EXAMPLES, ROOT

ISSUE_SPEC = """\
system:
  name: COMPAS pretrial risk score
data:
  path: compas-scores-two-years.csv      # CSV, Parquet or Excel; relative to the spec
  where: "days_b_screening_arrest BETWEEN -30 AND 30 AND is_recid <> -1 AND c_charge_degree <> 'O' AND score_text <> 'N/A'"
outcome: {column: two_year_recid, positive: 1}          # ground truth; optional
decision: {column: score_text, positive: [Medium, High], adverse: true}
protected:
  - {column: race, reference: Caucasian}
  - {column: sex}                                      # reference chosen by rule (default: largest group)
intersections: [[race, sex]]
policy:
  - {metric: fpr, ratio: [0.8, 1.25], rule: ci}
  - {metric: selection_rate, ratio: [0.8, 1.25]}
"""


def test_the_issue_spec_is_accepted_exactly_as_written() -> None:
    spec = validate_spec(yaml.safe_load(ISSUE_SPEC))
    assert spec.decision.positive == ("Medium", "High") and spec.adverse
    assert spec.protected[0].reference == "Caucasian" and spec.protected[1].reference is None
    assert spec.intersections[0].columns == ("race", "sex")
    assert [r.rule for r in spec.policy] == ["ci", "significant"]  # the default rule since spec_version 2
    assert (EXAMPLES / "compas" / "spec.yaml").read_text() == ISSUE_SPEC


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    raw = {"system": {}, "data": {"pth": "x"}, "decision": {"column": "d", "adverse": "maybe"},
           "protected": [{"column": "race"}, {"column": "race"}], "intersections": [["race", "sexx"]],
           "policy": [{"metric": "fprr", "ratio": [0.8, 1.25]}, {"metric": "fpr", "ratio": [1.25, 0.8]}]}
    with pytest.raises(SpecError) as caught:
        validate_spec(raw)
    locations = {p.location for p in caught.value.problems}
    assert locations >= {"system.name", "data.pth", "decision.adverse", "protected[1].column",
                         "intersections[0][1]", "policy[0].metric", "policy[1]"}
    assert caught.value.reason is ReasonCode.SPEC_INVALID
    text = str(caught.value)
    assert "did you mean 'path'" in text and "did you mean 'fpr'" in text and "needs ground truth" in text


def test_decision_or_score_exactly_one() -> None:
    base = yaml.safe_load(ISSUE_SPEC)
    base["score"] = {"column": "decile_score", "threshold": 5}
    with pytest.raises(SpecError, match="only one of 'decision"):
        validate_spec(base)
    del base["decision"]
    assert validate_spec(base).score.threshold[0].value == 5.0


def test_policy_band_checks() -> None:
    base = yaml.safe_load(ISSUE_SPEC)
    for rule, message in [({"metric": "fpr", "ratio": [0.8, 1.25], "difference": [-0.1, 0.1]}, "exactly one"),
                          ({"metric": "fpr", "ratio": [0, 1.25]}, "positive"),
                          ({"metric": "count", "ratio": [0.8, 1.25]}, "no ratio"),
                          ({"metric": "fpr", "ratio": [None, None]}, "at least one bound")]:
        base["policy"] = [rule]
        with pytest.raises(SpecError, match=message):
            validate_spec(base)
    base["policy"] = [{"metric": "selection_rate", "difference": [-0.05, None], "attributes": ["race × sex"]}]
    assert validate_spec(base).policy[0].band == (-0.05, None)


def test_non_yaml_and_empty_spec_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\nb: c: d\n")
    with pytest.raises(SpecError, match="not valid YAML at line") as caught:
        read_spec_file(bad)
    assert caught.value.reason is ReasonCode.SPEC_NOT_YAML
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(SpecError, match="is empty"):
        read_spec_file(empty)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SpecError, match="not UTF-8"):
        read_spec_file(binary)
    with pytest.raises(SpecError, match="must be a YAML mapping"):
        validate_spec(["a", "list"])


def test_json_schema_is_exported_and_current() -> None:
    committed = json.loads((ROOT / "audit" / "schema" / "spec.schema.json").read_text())
    assert committed == spec_json_schema(), "run: audit schema --out audit/schema/spec.schema.json"


@pytest.mark.parametrize("spec_path", sorted(EXAMPLES.glob("*/spec.yaml")), ids=lambda p: p.parent.name)
def test_example_specs_validate_against_the_json_schema(spec_path: Path) -> None:
    jsonschema.validate(yaml.safe_load(spec_path.read_text()), spec_json_schema())


def test_json_schema_rejects_what_the_model_rejects() -> None:
    raw = yaml.safe_load(ISSUE_SPEC)
    raw["policy"][0]["rule"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(raw, spec_json_schema())


def test_spec_is_frozen() -> None:
    spec = validate_spec(yaml.safe_load(ISSUE_SPEC))
    with pytest.raises(Exception):
        spec.system.name = "changed"  # type: ignore[misc]
    assert audit.load_spec(spec)[0] is spec
