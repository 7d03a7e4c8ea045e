"""``audit init`` (audit/starter.py): valid YAML for any input, data values quoted (never a live key), positive
values as written, and a CHECK placeholder, refused by ``audit validate``, where nothing can be recognised."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.cli import main
from audit.spec import validate_spec
from audit.starter import (DECISION_PLACEHOLDER, POSITIVE_PLACEHOLDER, PROTECTED_PLACEHOLDER, guess_roles,
                           placeholder_problems, profile, starter_spec, yaml_text)

runner = CliRunner()
KEYS = {"system", "data", "outcome", "decision", "score", "protected", "intersections", "policy", "statistics"}


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _init(data: Path) -> tuple[str, dict]:
    """``audit init DATA``: its output, and the spec it wrote, parsed."""
    done = runner.invoke(main, ["init", str(data), "--out", str(data.parent / "audit.yaml")])
    assert done.exit_code == 0, done.output
    return done.output, yaml.safe_load((data.parent / "audit.yaml").read_text(encoding="utf-8"))


def test_a_value_with_a_newline_never_becomes_a_key_of_the_spec(tmp_path: Path) -> None:
    live = "a\nreport: {small_cell_k: 1}"
    data = _csv(tmp_path / "people.csv", ["name", "sex: {small_cell_k: 1} #'\"", "flag"],
                [[live, "f", "1"], ["b", "m", "0"], ["c", "f", "1"], ["d: #x", "m", "0"]])
    output, spec = _init(data)
    assert set(spec) == {"system", "data", "decision", "protected", "policy", "statistics"}
    assert spec["protected"] == [{"column": "sex: {small_cell_k: 1} #'\""}]     # the column, as named
    assert spec["decision"] == {"column": "flag", "positive": ["1"], "adverse": True}
    text = (tmp_path / "audit.yaml").read_text(encoding="utf-8")
    assert "#   name: VARCHAR, 4 distinct, 0 missing; a↵report: {small_cell_k: 1} (1)" in text
    assert "\nreport:" not in text
    assert f"read {data} (CSV, encoding utf-8 detected, delimiter ',')" in output
    checked = runner.invoke(main, ["validate", str(tmp_path / "audit.yaml")])
    assert checked.exit_code == 0, checked.output


def test_positive_values_are_proposed_as_written(tmp_path: Path) -> None:
    rows = [[sex, approved, outcome] for sex in ("f", "m") for approved in ("yes", "no")
            for outcome in ("true", "false")]
    data = _csv(tmp_path / "loans.csv", ["sex", "approved", "outcome"], rows * 10)
    _, spec = _init(data)
    assert spec["decision"]["positive"] == ["yes"] and spec["outcome"]["positive"] == "true"
    text = (tmp_path / "audit.yaml").read_text(encoding="utf-8")
    assert "positive: ['yes']" in text and "positive: 'true'" in text and "True" not in text
    assert runner.invoke(main, ["validate", str(tmp_path / "audit.yaml")]).exit_code == 0
    ran = runner.invoke(main, ["run", str(tmp_path / "audit.yaml")])
    assert ran.exit_code in (0, 1) and "positive decision: 'approved' in {yes}" in ran.output, ran.output


def test_an_unrecognised_protected_attribute_is_a_placeholder_validate_refuses(tmp_path: Path) -> None:
    data = _csv(tmp_path / "one.csv", ["region", "decision"], [["north", "1"], ["north", "0"]] * 20)
    output, spec = _init(data)
    assert spec["protected"] == [{"column": PROTECTED_PLACEHOLDER}]                # never the decision column
    assert spec["decision"]["column"] == "decision"
    assert "replace every value that starts with 'CHECK:'" in output
    checked = runner.invoke(main, ["validate", str(tmp_path / "audit.yaml")])
    assert checked.exit_code == 2
    assert ("1 value still to fill in (placeholders written by audit init)\n  - protected[0].column: 'CHECK: name the "
            "protected attribute' is a placeholder written by audit init; write the name of a column that holds a "
            "protected attribute") in checked.output


def test_without_a_decision_column_both_placeholders_are_written(tmp_path: Path) -> None:
    data = _csv(tmp_path / "x.csv", ["gender", "colour", "size"], [["f", "red", "1"], ["m", "blue", "2"],
                                                                   ["f", "green", "3"]])
    _, spec = _init(data)
    assert spec["decision"] == {"column": DECISION_PLACEHOLDER, "positive": [POSITIVE_PLACEHOLDER], "adverse": False}
    text = (tmp_path / "audit.yaml").read_text(encoding="utf-8")
    assert "# CHECK: no column's name says it is the decision" in text
    checked = runner.invoke(main, ["validate", str(tmp_path / "audit.yaml")])
    assert checked.exit_code == 2 and "2 values still to fill in" in checked.output
    assert "decision.column: 'CHECK: name the decision column' is a placeholder" in checked.output
    assert "decision.positive[0]: 'CHECK: the value of a positive decision' is a placeholder" in checked.output


def test_columns_with_few_values_are_listed_for_the_placeholder(tmp_path: Path) -> None:
    data = _csv(tmp_path / "x.csv", ["region", "ward", "flag"],
                [["n", "w1", "1"], ["s", "w2", "0"], ["e", "w3", "1"], ["n", "w1", "0"]])
    _init(data)
    text = (tmp_path / "audit.yaml").read_text(encoding="utf-8")
    assert "# columns with few values: region (3 values), ward (3 values)\nprotected:\n" in text


def test_only_the_exact_placeholders_count() -> None:
    found = placeholder_problems({"protected": [{"column": "CHECK: sex"}], "decision": {"positive": ["CHECK:"]},
                                  "data": {"path": PROTECTED_PLACEHOLDER + " "}})
    assert found == []


@pytest.mark.parametrize("name, protected", [("age_band", True), ("ageBand", True), ("Age", True),
                                             ("mortgage_approved", False), ("page", False), ("language", True),
                                             ("percentage", False), ("dan_toc", True), ("is_foreign", True)])
def test_protected_names_are_recognised_at_the_start_of_a_word(name: str, protected: bool) -> None:
    frame = pd.DataFrame({name: ["a", "b", "a", "b"], "flag": ["1", "0", "0", "1"]})
    _, profiles = profile(duckdb.connect().from_df(frame))
    assert [p.name for p in guess_roles(profiles).protected] == ([name] if protected else [])


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
FILE_NAME = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00/"), min_size=1,
                    max_size=12)


@settings(max_examples=500, deadline=None)
@given(key=TEXT, value=st.text(st.characters(blacklist_categories=("Cs",))))
def test_any_text_is_written_as_yaml_that_reads_back_equal(key: str, value: str) -> None:
    body = {"decision": {"column": value, "positive": [value, key]}, "protected": [{"column": key}], key: value}
    assert yaml.safe_load(yaml_text(body)) == body


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(TEXT, min_size=2, max_size=2, unique_by=lambda s: s.lower()),
       groups=st.lists(TEXT, min_size=2, max_size=4, unique=True),
       decisions=st.lists(TEXT, min_size=2, max_size=2, unique=True), stem=FILE_NAME)
def test_the_starter_spec_is_valid_yaml_for_any_names_and_values(names: list[str], groups: list[str],
                                                                 decisions: list[str], stem: str) -> None:
    """Whatever the column names, values and file name: the text parses, to the spec's keys only, naming the
    columns and values exactly as in the data (or a placeholder), and the spec validates."""
    protected, decision = f"sex {names[0]}", f"decision {names[1]}"
    values = {protected: groups, decision: decisions}
    rows = [(g, d) for g in groups for d in decisions]
    relation = duckdb.connect().from_df(pd.DataFrame(rows, columns=[protected, decision]))
    text = starter_spec(Path("/data") / f"{stem}.csv", relation, spec_dir=Path("/data"))
    spec = yaml.safe_load(text)
    assert set(spec) <= KEYS and spec["data"] == {"path": f"{stem}.csv"}
    assert spec["system"]["name"] == stem.replace("_", " ").replace("-", " ")
    named = [spec[role] for role in ("outcome", "decision") if role in spec] + spec["protected"]
    assert {n["column"] for n in named} <= {protected, decision, PROTECTED_PLACEHOLDER, DECISION_PLACEHOLDER}
    for role in named:
        positive = role.get("positive", [])
        assert set(positive if isinstance(positive, list) else [positive]) <= {*values.get(role["column"], ()),
                                                                               POSITIVE_PLACEHOLDER}
    if not protected.lower().endswith("_count"):
        assert {"column": protected} in spec["protected"]
    assert all(line.startswith("#") for line in text.split("\n\n")[0].splitlines())   # the inspection: comments
    validate_spec(spec)
