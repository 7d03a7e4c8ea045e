"""The spec model: the issue's spec is accepted as written; mistakes are all reported at once."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

import audit
from audit.cli import main
from audit.errors import ReasonCode, SpecError
from audit.spec import (AuditSpec, _model_in, load_spec, parse_spec_text, policy_views, read_spec_file,
                        spec_json_schema, spec_to_dict, spec_to_yaml, spec_warnings, validate_spec)
from audit.spec_yaml import AS_WRITTEN, SpecLoader
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


# -- reading the YAML as meant (audit.spec_yaml) ----------------------------------------------------------------

MINIMAL = "system: {name: t}\ndecision: {column: d}\nprotected: [{column: sex}]\n"


def _parsed(text: str) -> Any:
    return parse_spec_text(text.encode("utf-8"), source="spec file 's.yaml'")


def _refusal(text: str) -> SpecError:
    with pytest.raises(SpecError) as caught:
        _parsed(text)
    return caught.value


def test_a_key_written_twice_at_the_top_is_refused_with_both_lines() -> None:
    text = MINIMAL + "policy:\n  - {metric: selection_rate, ratio: [0.8, 1.25]}\npolicy: []\n"
    error = _refusal(text)
    assert str(error) == "spec file 's.yaml': key 'policy' appears twice, at lines 4 and 6; keep one"
    assert error.reason is ReasonCode.SPEC_INVALID and [p.location for p in error.problems] == ["policy"]


def test_a_key_written_twice_inside_a_list_item_is_refused_with_its_path() -> None:
    text = MINIMAL + "policy:\n  - metric: fpr\n    ratio: [0.8, 1.25]\n    metric: selection_rate\n"
    error = _refusal(text)
    assert "key 'metric' appears twice in 'policy[0]', at lines 5 and 7; keep one" in str(error)


def test_keys_that_differ_in_writing_but_not_in_value_are_the_same_key() -> None:
    error = _refusal(MINIMAL + "x: {1: a, 1.0: b}\n")
    assert "keys '1' and '1.0' are the same key in 'x', at lines 4 and 4" in str(error)


def test_a_merge_may_still_be_overridden() -> None:
    raw = _parsed(MINIMAL + "base: &b {column: race, reference: A}\nother: {<<: *b, reference: B}\n")
    assert raw["other"] == {"column": "race", "reference": "B"}


def _bomb(levels: int) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_before_it_is_expanded() -> None:
    text = _bomb(9)
    assert len(text.encode()) < 500
    tracemalloc.start()
    try:
        error = _refusal(MINIMAL + text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "holds more than 10,000 values once its aliases (*name) are expanded" in str(error)
    assert peak < 100 * 2**20


def test_aliases_that_expand_to_a_little_are_fine() -> None:
    raw = _parsed(MINIMAL + "band: &band [0.8, 1.25]\npolicy:\n  - {metric: selection_rate, ratio: *band}\n")
    assert raw["policy"][0]["ratio"] == [0.8, 1.25]


def test_an_alias_inside_its_own_node_is_refused() -> None:
    assert "refers to a node that contains it (a loop)" in str(_refusal(MINIMAL + "x: &a [1, *a]\n"))


@pytest.mark.parametrize("text", ["x: " + "[" * 5000 + "]" * 5000 + "\n",
                                  "x: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n",
                                  "".join(" " * i + f"k{i}:\n" for i in range(5000))],
                         ids=["lists", "flow mappings", "block mappings"])
def test_deep_nesting_is_refused_cleanly(text: str) -> None:
    error = _refusal(text)
    assert "nested more than 64 levels deep" in str(error) and error.reason is ReasonCode.SPEC_INVALID


def test_nesting_deepened_by_aliases_is_refused() -> None:
    text = "a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 80))
    assert "nested more than 64 levels deep once its aliases" in str(_refusal(text))


@pytest.mark.parametrize("text, message", [
    ("x: !!int abc\n", "cannot read 'abc' as int"),
    ("x: " + "9" * 5000 + "\n", "as int"),
    ("x: !!bool maybe\n", "cannot read 'maybe' as bool"),
    ("x: !!python/object/apply:os.system [ls]\n", "could not determine a constructor"),
    ("x: 1\n---\ny: 2\n", "found another document"),
    ("x: *nowhere\n", "found undefined alias"),
    ("x: 1\ny: \x00\n", "U+0000"),
])
def test_values_yaml_cannot_build_are_refused_as_not_yaml(text: str, message: str) -> None:
    error = _refusal(text)
    assert message in str(error) and error.reason is ReasonCode.SPEC_NOT_YAML


def test_yaml_1_2_booleans_and_numbers() -> None:
    raw = _parsed("a: [yes, no, on, off, y, n, Yes, NO]\nb: [true, True, TRUE, false, tRuE]\n"
                  "c: [010, 0o17, 0x1F, 1e12, 1_000, 1:30, .inf, 1.5]\n")
    assert raw["a"] == ["yes", "no", "on", "off", "y", "n", "Yes", "NO"]
    assert raw["b"] == [True, True, True, False, True]
    assert raw["c"][:6] == [10, 15, 31, 1e12, 1000, "1:30"] and raw["c"][6] == float("inf")
    assert validate_spec(_parsed(MINIMAL.replace("{column: d}", "{column: d, adverse: true}"))).adverse


def test_data_values_reach_the_spec_as_written() -> None:
    text = ("system: {name: t}\n"
            "decision: {column: 2024, positive: [01, 1.0, yes, true, 007, 0x1F, null]}\n"
            "outcome: {column: y, positive: TRUE, checked: {column: c, positive: on}}\n"
            "final_decision: {column: f, positive: no}\n"
            "protected: [{column: race, reference: 007}, {column: sex, reference: null}, {column: age}]\n"
            "intersections: [[race, sex], {columns: [race, age], reference: [01, 1.50]}]\n"
            "data: {missing: [NA, null, '', N/A], weight: 1}\n"
            "policy: [{metric: selection_rate, ratio: [0.8, 1.25], attributes: [race]}]\n")
    spec = validate_spec(_parsed(text))
    assert spec.decision.column == "2024"
    assert spec.decision.positive == ("01", "1.0", "yes", "true", "007", "0x1F", "null")
    assert spec.outcome.positive == ("TRUE",) and spec.outcome.checked.positive == ("on",)
    assert spec.final_decision.positive == ("no",)
    assert [p.reference for p in spec.protected] == ["007", None, None]
    assert spec.intersections[1].reference == ("01", "1.50")
    assert spec.data.missing == ("NA", "null", "", "N/A") and spec.data.weight == "1"
    assert spec.statistics.seed == 20240601   # typed fields stay typed


def test_tier_names_are_keys_as_written() -> None:
    text = ("system: {name: t}\nprotected: [{column: sex}]\n"
            "decision: {column: tier, tiers: {values: {01: adverse, 02: neutral, yes: favourable}}}\n")
    assert list(validate_spec(_parsed(text)).tiers.values) == ["01", "02", "yes"]


def test_specs_built_in_python_keep_their_typed_values() -> None:
    spec = validate_spec({"system": {"name": "t"}, "decision": {"column": "d", "positive": 1},
                          "protected": [{"column": "sex", "reference": 7}]})
    assert spec.decision.positive == (1,) and spec.protected[0].reference == 7


def test_written_specs_read_back_as_text_by_any_yaml_reader() -> None:
    spec = validate_spec(_parsed("system: {name: '1e3'}\ndecision: {column: d, positive: [yes, 01, 1.0, on]}\n"
                                 "protected: [{column: sex, reference: '1:30'}]\n"))
    text = spec_to_yaml(spec)
    assert yaml.safe_load(text) == spec_to_dict(spec)
    assert validate_spec(_parsed(text)) == spec


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("**/*.yaml")), ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_no_example_relies_on_yaml_1_1(path: Path) -> None:
    """yes/no/on/off as booleans, octal 010, sexagesimal 1:30: the example reads the same either way."""
    text = path.read_text(encoding="utf-8")
    assert SpecLoader(text).get_single_data() == yaml.safe_load(text)


def test_every_as_written_path_names_a_field_of_the_spec() -> None:
    for path in AS_WRITTEN:
        model: Any = AuditSpec
        for step in path:
            if step in ("*", "{keys}"):
                continue
            assert step in model.model_fields, path
            model = _model_in(model.model_fields[step].annotation)


# -- bounds: no number makes an internal error ---------------------------------------------------------------

def _with(section: str, **fields: Any) -> dict[str, Any]:
    raw = yaml.safe_load(ISSUE_SPEC)
    raw[section] = {**(raw.get(section) or {}), **fields}
    return raw


@pytest.mark.parametrize("section, fields, location, message", [
    ("statistics", {"seed": -1}, "statistics.seed", "greater than or equal to 0; got -1"),
    ("statistics", {"seed": 2**32}, "statistics.seed", "less than or equal to 4294967295"),
    ("statistics", {"bootstrap_replicates": 1e12}, "statistics.bootstrap_replicates",
     "less than or equal to 100000; got 1e+12"),
    ("statistics", {"bootstrap_replicates": 2500.5}, "statistics.bootstrap_replicates", "fractional part"),
    ("statistics", {"max_groups": 10**6}, "statistics.max_groups", "less than or equal to 10000"),
    ("statistics", {"min_group_size": 10**13}, "statistics.min_group_size", "less than or equal to"),
    ("statistics", {"min_expected": float("inf")}, "statistics.min_expected", "less than or equal to"),
    ("statistics", {"alpha": float("nan")}, "statistics.alpha", "got nan"),
    ("report", {"small_cell_k": 0}, "report.small_cell_k", "greater than or equal to 1"),
    ("data", {"sheet": -1}, "data.sheet", "counts from 0 (the first sheet) to 10000; got -1"),
])
def test_numbers_out_of_bounds_are_refused(section: str, fields: dict[str, Any], location: str,
                                           message: str) -> None:
    with pytest.raises(SpecError) as caught:
        validate_spec(_with(section, **fields))
    found = {p.location: p.message for p in caught.value.problems}
    assert location in found and message in found[location], found


def test_score_numbers_are_finite_and_the_sweep_bounded() -> None:
    raw = yaml.safe_load(ISSUE_SPEC)
    del raw["decision"]
    for score, location, message in [
            ({"threshold": float("nan")}, "score.threshold[0].value", "finite number"),
            ({"threshold": {"top_k": 10**13}}, "score.threshold[0].top_k", "less than or equal to"),
            ({"threshold": 5, "sweep": {"start": 0, "stop": 1, "steps": 10_000}}, "score.sweep.steps",
             "less than or equal to 201"),
            ({"threshold": 5, "sweep": {"start": 0, "stop": float("inf")}}, "score.sweep.stop", "finite"),
            ({"threshold": 5, "sweep": {"start": -1e308, "stop": 1e308}}, "score.sweep", "too wide"),
            ({"threshold": 5, "sweep": {"start": 0.3, "stop": 0.3 + 1e-14, "steps": 201}}, "score.sweep",
             "distinct cut-offs")]:
        raw["score"] = {"column": "decile_score", **score}
        with pytest.raises(SpecError) as caught:
            validate_spec(raw)
        found = {p.location: p.message for p in caught.value.problems}
        assert location in found and message in found[location], found


def test_policy_bands_are_finite() -> None:
    raw = yaml.safe_load(ISSUE_SPEC)
    raw["policy"] = [{"metric": "selection_rate", "ratio": [float("nan"), 1.25]},
                     {"metric": "selection_rate", "difference": [-0.1, float("inf")]}]
    with pytest.raises(SpecError) as caught:
        validate_spec(raw)
    assert {p.location for p in caught.value.problems} == {"policy[0].ratio[0]", "policy[1].difference[1]"}


def _numeric_fields(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every integer or number in the JSON schema, with its path."""
    found = []
    if isinstance(node, dict):
        if node.get("type") in ("integer", "number"):
            found.append((path, node))
        for key, value in node.items():
            found += _numeric_fields(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _numeric_fields(value, f"{path}[{i}]")
    return found


UNBOUNDED_NUMBERS = ("ThresholdSpec/properties/value", "ScoreSpec/properties/threshold", "SweepSpec/properties/start",
                     "SweepSpec/properties/stop", "AmountSpec/properties/quantiles", "PolicyRule/properties/ratio",
                     "PolicyRule/properties/difference", "properties/positive", "properties/reference")
"""Numbers any finite value of which is meaningful (a cut-off, a band, a value of the data or a class); the model
refuses NaN and inf, quantiles are checked to lie in (0, 1), and values are matched by label."""


def test_every_integer_of_the_schema_is_bounded_and_every_number_bounded_or_finite() -> None:
    schema = spec_json_schema()
    for path, node in _numeric_fields(schema["$defs"]):
        if any(name in path for name in UNBOUNDED_NUMBERS) or "/default" in path:
            continue
        low = "minimum" in node or "exclusiveMinimum" in node
        high = "maximum" in node or "exclusiveMaximum" in node
        assert low and high, f"{path} has no bound: {node}"


# -- names that match nothing ---------------------------------------------------------------------------------

def test_a_view_that_the_spec_does_not_have_is_refused_listing_the_views() -> None:
    raw = yaml.safe_load(ISSUE_SPEC)
    raw["policy"] = [{"metric": "selection_rate", "ratio": [0.8, 1.25], "views": ["decision "]}]
    with pytest.raises(SpecError) as caught:
        validate_spec(raw)
    assert [str(p) for p in caught.value.problems] == [
        "policy[0].views[0]: 'decision ' is not a decision view of this spec (did you mean 'decision'?); its views "
        "are: decision"]


def test_views_of_scores_tiers_overrides_and_checked_labels_are_known() -> None:
    raw = yaml.safe_load(ISSUE_SPEC)
    del raw["decision"]
    raw["score"] = {"column": "decile_score", "threshold": [5, {"top_k": 1000}, {"top_percent": 30}]}
    raw["final_decision"] = "final"
    raw["outcome"]["checked"] = "investigated"
    raw["policy"] = [{"metric": "selection_rate", "ratio": [0.8, 1.25],
                      "views": ["score ≥ 5", "top 1,000", "top 30%", "score", "final", "overrides", "labels"]}]
    assert policy_views(validate_spec(raw)) == ("score ≥ 5", "top 1,000", "top 30%", "score", "final", "overrides",
                                                "labels")
    raw["policy"][0]["views"] = ["score >= 5"]
    with pytest.raises(SpecError, match="did you mean 'score ≥ 5'"):
        validate_spec(raw)


def test_an_attribute_that_the_spec_does_not_have_is_refused_listing_them() -> None:
    raw = yaml.safe_load(ISSUE_SPEC)
    raw["policy"] = [{"metric": "selection_rate", "ratio": [0.8, 1.25], "attributes": ["ethnicity"]}]
    with pytest.raises(SpecError) as caught:
        validate_spec(raw)
    assert str(caught.value.problems[0]) == ("policy[0].attributes[0]: 'ethnicity' is not a protected attribute or "
                                             "intersection; the spec's are: race, sex, race × sex")


def test_an_empty_list_of_views_or_attributes_is_refused() -> None:
    raw = yaml.safe_load(ISSUE_SPEC)
    raw["policy"] = [{"metric": "selection_rate", "ratio": [0.8, 1.25], "views": [], "attributes": []}]
    with pytest.raises(SpecError) as caught:
        validate_spec(raw)
    assert {p.location for p in caught.value.problems} == {"policy[0].views", "policy[0].attributes"}
    assert "an empty list selects nothing" in str(caught.value)


@pytest.mark.parametrize("command", ["validate", "run"])
def test_validate_and_run_both_refuse_a_view_that_matches_nothing(tmp_path: Path, command: str) -> None:
    rows = "sex,d\n" + "".join(f"{'F' if i % 2 else 'M'},{i % 3 == 0:d}\n" for i in range(40))
    (tmp_path / "data.csv").write_text(rows)
    (tmp_path / "spec.yaml").write_text("system: {name: t}\ndata: {path: data.csv}\ndecision: {column: d}\n"
                                        "protected: [{column: sex}]\npolicy:\n"
                                        "  - {metric: selection_rate, ratio: [0.8, 1.25], views: [decison]}\n")
    args = [command, str(tmp_path / "spec.yaml")] + (["--out", str(tmp_path / "out")] if command == "run" else [])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "'decison' is not a decision view of this spec (did you mean 'decision'?)" in result.output
    assert not (tmp_path / "out" / "result.json").exists()


@pytest.mark.parametrize("command", ["validate", "run"])
def test_the_cli_refuses_a_duplicate_key_an_alias_bomb_and_deep_nesting(tmp_path: Path, command: str) -> None:
    for text, message in [(MINIMAL + "decision: {column: e}\n", "key 'decision' appears twice, at lines 2 and 4"),
                          (MINIMAL + _bomb(9), "once its aliases (*name) are expanded"),
                          (MINIMAL + "x: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 64 levels")]:
        (tmp_path / "spec.yaml").write_text(text)
        result = CliRunner().invoke(main, [command, str(tmp_path / "spec.yaml")])
        assert result.exit_code == 2 and message in result.output, result.output
        assert "Traceback" not in result.output


# -- warnings: settings that do nothing or contradict -----------------------------------------------------------

def _warnings(**changes: Any) -> tuple[str, ...]:
    raw = yaml.safe_load(ISSUE_SPEC)
    raw.update(changes)
    return spec_warnings(validate_spec(raw))


def test_a_spec_without_odd_settings_has_no_warnings() -> None:
    for path in sorted(EXAMPLES.glob("**/spec*.yaml")):
        assert spec_warnings(load_spec(path)[0]) == (), path


def test_file_options_the_format_ignores_are_warned_about() -> None:
    assert _warnings(data={"path": "d.csv", "sheet": "Sheet1"}) == (
        "warning: data.sheet is set, but 'd.csv' is a CSV file, which has no sheets; the setting does nothing",)
    assert _warnings(data={"path": "d.xlsx", "encoding": "cp1252", "delimiter": ";"}) == (
        "warning: data.encoding is set, but 'd.xlsx' is an Excel workbook, which has no text encoding; the setting "
        "does nothing",
        "warning: data.delimiter is set, but 'd.xlsx' is an Excel workbook, which has no delimiter; the setting "
        "does nothing")
    parquet = _warnings(data={"path": "d.parquet", "missing": ["NA"], "sheet": 0})
    assert len(parquet) == 2 and all(w.startswith("warning: data.") for w in parquet)
    assert _warnings(data={"path": "d.xlsx", "sheet": 1, "missing": ["NA"]}) == ()
    assert _warnings(data={"path": "d.csv", "encoding": "cp1252", "delimiter": ";", "missing": ["NA"]}) == ()


def test_a_decision_column_also_protected_is_warned_about() -> None:
    warnings = _warnings(protected=[{"column": "race"}, {"column": "sex"}, {"column": "score_text"}])
    assert warnings == ("warning: decision.column 'score_text' is also protected[2]; its groups are its own values, "
                        "so comparing them by it says nothing",)


def test_an_outcome_equal_to_the_decision_is_warned_about() -> None:
    warnings = _warnings(outcome={"column": "score_text", "positive": "High"})
    assert warnings == ("warning: decision.column and outcome.column are both 'score_text': the decision is its own "
                        "ground truth, so every error rate is 0; check the spec",)
    assert _warnings(final_decision="score_text") == (
        "warning: decision.column and final_decision.column are both 'score_text': no decision can ever be "
        "overridden; check the spec",)


def test_settings_that_need_another_setting_are_warned_about() -> None:
    raw = yaml.safe_load(ISSUE_SPEC)
    raw["protected"][0]["reference_rule"] = "most_favourable"
    raw["report"] = {"small_share_justification": "LL144"}
    raw["policy"].append(dict(raw["policy"][0]))
    raw["policy"][1]["selective_labels"] = "refuse"
    assert spec_warnings(validate_spec(raw)) == (
        "warning: protected[0] names a reference, so its 'reference_rule: most_favourable' does nothing",
        "warning: report.small_share_justification is set without report.small_share; it does nothing",
        "warning: policy[1] says 'selective_labels: refuse', but the spec has no outcome.checked, so no metric "
        "uses checked cases only; it does nothing",
        "warning: policy[2] repeats policy[0]; both are judged, which only makes the family of verdicts larger; "
        "drop one")
