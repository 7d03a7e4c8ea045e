"""Bad input: a clear message naming the file, column or field, exit code 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from audit.cli import main

ROWS = "name,sex,region,y,d,score\n" + "".join(
    f"p{i},{'F' if i % 2 else 'M'},{'north' if i % 3 else 'south'},{i % 2},{(i // 2) % 2},{i / 100}\n"
    for i in range(60))

SPEC = {"system": {"name": "t"}, "data": {"path": "data.csv"}, "outcome": {"column": "y", "positive": 1},
        "decision": {"column": "d", "positive": 1}, "protected": [{"column": "sex"}, {"column": "region"}]}


def run_cli(tmp_path: Path, spec: dict | str | None = None, data: str | bytes | None = ROWS,
            data_name: str = "data.csv", args: tuple[str, ...] = ("run",)) -> tuple[int, str]:
    if data is not None:
        target = tmp_path / data_name
        target.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    spec_path = tmp_path / "spec.yaml"
    if spec is not None:
        spec_path.write_text(spec if isinstance(spec, str) else yaml.safe_dump(spec), encoding="utf-8")
    result = CliRunner().invoke(main, [*args, str(spec_path)])
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "Traceback" not in output
    return result.exit_code, output


def with_(**changes) -> dict:
    spec = yaml.safe_load(yaml.safe_dump(SPEC))
    for key, value in changes.items():
        spec[key] = value
    return spec


def test_a_good_spec_runs(tmp_path) -> None:
    code, output = run_cli(tmp_path, SPEC)
    assert code == 0, output


def test_missing_data_file_is_named_with_a_suggestion(tmp_path) -> None:
    code, output = run_cli(tmp_path, with_(data={"path": "dta.csv"}))
    assert code == 2 and "dta.csv" in output and "data.csv" in output


def test_missing_spec_file(tmp_path) -> None:
    result = CliRunner().invoke(main, ["run", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "nope.yaml" in result.output and "Traceback" not in result.output


def test_empty_data_file(tmp_path) -> None:
    code, output = run_cli(tmp_path, SPEC, data=b"")
    assert code == 2 and "data.csv" in output and "no rows" in output


def test_unreadable_data_file(tmp_path) -> None:
    code, output = run_cli(tmp_path, with_(data={"path": "data.parquet"}), data=b"\x00\x01garbage" * 50,
                           data_name="data.parquet")
    assert code == 2 and "data.parquet" in output


def test_spec_that_is_not_yaml(tmp_path) -> None:
    code, output = run_cli(tmp_path, "system: {name: [unclosed\n  - : :\n")
    assert code == 2 and "not valid YAML" in output and "line" in output


def test_spec_with_several_mistakes_lists_them_all(tmp_path) -> None:
    spec = with_(policy=[{"metric": "fprr", "ratio": [0.8, 1.25]}, {"metric": "fpr", "ratio": [0.8, 1.25],
                                                                    "rule": "maybe"}],
                 protected=[{"column": "sex", "refrence": "F"}])
    code, output = run_cli(tmp_path, spec, args=("validate",))
    assert code == 2
    for needle in ("policy[0].metric", "did you mean 'fpr'", "policy[1].rule", "protected[0].refrence",
                   "did you mean 'reference'", "3 problems"):
        assert needle in output, needle


def test_semicolon_delimiter_is_detected(tmp_path) -> None:
    code, output = run_cli(tmp_path, SPEC, data=ROWS.replace(",", ";"))
    assert code == 0, output


def test_vietnamese_utf8_with_bom_simply_works(tmp_path) -> None:
    data = "\ufeff" + ROWS.replace("north", "Thành phố Hồ Chí Minh").replace("south", "Đà Nẵng")
    spec = with_(protected=[{"column": "sex"}, {"column": "region", "reference": "Đà Nẵng"}])
    code, output = run_cli(tmp_path, spec, data=data)
    assert code == 0, output


def test_non_utf8_encoding_is_detected(tmp_path) -> None:
    data = ROWS.replace("north", "Müller-Straße café").encode("cp1252")
    code, output = run_cli(tmp_path, with_(protected=[{"column": "sex"}, {"column": "region"}]), data=data)
    assert code == 0, output


def test_column_that_does_not_exist_suggests_close_names(tmp_path) -> None:
    code, output = run_cli(tmp_path, with_(protected=[{"column": "sexe"}, {"column": "region"}]))
    assert code == 2 and "'sexe'" in output and "did you mean 'sex'" in output and "protected[0].column" in output


def test_positive_value_that_does_not_occur(tmp_path) -> None:
    code, output = run_cli(tmp_path, with_(decision={"column": "region", "positive": "nort"}))
    assert code == 2 and "decision.positive" in output and "did you mean 'north'" in output


def test_decision_with_one_class_after_positive(tmp_path) -> None:
    code, output = run_cli(tmp_path, with_(decision={"column": "region", "positive": ["north", "south"]}))
    assert code == 2 and "every row of column 'region' is positive" in output


def test_decision_with_more_than_two_values_and_no_positive(tmp_path) -> None:
    data = ROWS.replace(",0,1,", ",0,2,", 5)
    code, output = run_cli(tmp_path, with_(decision={"column": "d"}), data=data)
    assert code == 2 and "decision.positive" in output and "say which" in output


def test_scores_that_are_not_numbers(tmp_path) -> None:
    data = ROWS.replace(",0.05\n", ",high\n")
    code, output = run_cli(tmp_path, with_(decision=None, score={"column": "score", "threshold": 0.3}), data=data)
    assert code == 2 and "'score'" in output and "numbers" in output and "'high'" in output


def test_protected_attribute_with_one_group(tmp_path) -> None:
    code, output = run_cli(tmp_path, with_(data={"path": "data.csv", "where": "region = 'north'"}))
    assert code == 2 and "'region'" in output and "only one value ('north')" in output


def test_reference_group_that_does_not_exist(tmp_path) -> None:
    code, output = run_cli(tmp_path, with_(protected=[{"column": "sex", "reference": "Female"},
                                                      {"column": "region"}]))
    assert code == 2 and "protected[0].reference" in output and "'Female'" in output and "F, M" in output


def test_protected_attribute_that_is_an_id_column(tmp_path) -> None:
    code, output = run_cli(tmp_path, with_(protected=[{"column": "name"}, {"column": "sex"}]))
    assert code == 2 and "'name'" in output and "ID" in output and "max_groups" in output


def test_invalid_where(tmp_path) -> None:
    code, output = run_cli(tmp_path, with_(data={"path": "data.csv", "where": "regoin = 'north' AND"}))
    assert code == 2 and "data.where" in output


def test_where_naming_a_missing_column_suggests_one(tmp_path) -> None:
    code, output = run_cli(tmp_path, with_(data={"path": "data.csv", "where": "regoin = 'north'"}))
    assert code == 2 and "data.where" in output and "did you mean 'region'" in output


def test_where_that_keeps_no_rows(tmp_path) -> None:
    code, output = run_cli(tmp_path, with_(data={"path": "data.csv", "where": "y > 5"}))
    assert code == 2 and "keeps none of its 60 rows" in output


# -- beyond yes/no (issue 3) ------------------------------------------------------

BEYOND = "sex,tier,rec,final,days,people,score\n" + "".join(
    f"{'F' if i % 2 else 'M'},{['black', 'neutral', 'red'][i % 3]},{'flag' if i % 4 else 'clear'},"
    f"{'flag' if i % 4 else 'clear'},{i % 9},{1 + i % 3},{i / 60:.2f}\n" for i in range(60))
TIER_SPEC = {"system": {"name": "t"}, "data": {"path": "data.csv"}, "protected": [{"column": "sex"}],
             "decision": {"column": "tier", "tiers": {"values": {"black": "adverse", "neutral": "neutral",
                                                                 "red": "favourable"}}}}


def _beyond(**changes) -> dict:
    spec = yaml.safe_load(yaml.safe_dump(TIER_SPEC))
    spec.update(changes)
    return spec


@pytest.mark.parametrize("spec, data, needles", [
    (_beyond(decision={"column": "tier", "tiers": {"values": {"black": "adverse", "neutral": "neutral"}}}),
     BEYOND, ["decision.tiers", "'red'", "does not name"]),
    (_beyond(decision=None, score={"column": "score", "threshold": {"top_k": 61}}), BEYOND,
     ["score.threshold", "top 61", "only 60 people"]),
    (_beyond(decision=None, amounts=[{"column": "tier", "higher_is": "adverse"}]), BEYOND,
     ["amounts[0].column", "'tier'", "must hold numbers"]),
    (_beyond(decision={"column": "rec", "positive": "flag"}, final_decision={"column": "tier"}), BEYOND,
     ["final_decision", "match neither decision"]),
    (_beyond(data={"path": "data.csv", "count_column": "score"}), BEYOND,
     ["data.count_column", "not whole numbers"]),
    (_beyond(data={"path": "data.csv", "count_column": "people"}),
     BEYOND.replace(",1,0.0", ",-1,0.0"), ["data.count_column", "negative counts"]),
    (_beyond(policy=[{"metric": "tier_rate:gold", "ratio": [0.8, 1.25]}]), BEYOND,
     ["policy[0].metric", "'gold'", "black, neutral, red"]),
])
def test_beyond_yes_no_bad_input_exits_2(tmp_path: Path, spec: dict, data: str, needles: list[str]) -> None:
    code, output = run_cli(tmp_path, {k: v for k, v in spec.items() if v is not None}, data)
    assert code == 2, output
    for needle in needles:
        assert needle in output, (needle, output)


def test_a_named_tier_that_never_occurs_is_a_warning_not_an_error(tmp_path: Path) -> None:
    spec = _beyond(decision={"column": "tier", "tiers": {"values": {"black": "adverse", "grey": "adverse",
                                                                    "neutral": "neutral", "red": "favourable"}}})
    code, output = run_cli(tmp_path, spec, BEYOND)
    assert code == 0, output
    assert "'grey'" in output and "never occur" in output


@pytest.mark.parametrize("field,column,value,row", [("weight", "w", float("inf"), 40), ("count_column", "n", -float("inf"), 2)])
def test_infinite_weight_or_count_in_a_dataframe_is_refused_like_in_a_file(field: str, column: str, value: float,
                                                                            row: int) -> None:
    import numpy as np
    import pandas as pd

    import audit
    from audit.errors import DataError

    frame = pd.DataFrame({"g": ["a", "b"] * 20, "d": [1, 0, 0, 1] * 10, column: np.ones(40)})
    frame.loc[row - 1, column] = value
    spec = {"system": {"name": "t"}, "data": {field: column}, "decision": {"column": "d", "positive": 1},
            "protected": [{"column": "g"}]}
    with pytest.raises(DataError) as error:
        audit.run(spec, frame)
    assert f"data.{field}: column '{column}'" in str(error.value) and "1 row " in str(error.value)
    assert f"'{value}'" in str(error.value) and f"data row {row} " in str(error.value)
