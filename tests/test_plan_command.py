"""``audit plan``: the sample a random evaluation needs, checked against statsmodels; and every bad value exits 2."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from audit.cli import main
from audit.power import arcsine_effect

runner = CliRunner()


def plan(*args: str, json_path: Path | None = None) -> tuple[str, dict | None]:
    """Run ``audit plan ARGS`` (exit 0 expected); the printed answer and, with ``json_path``, the JSON written."""
    extra = ["--json", str(json_path)] if json_path is not None else []
    done = runner.invoke(main, ["plan", *args, *extra])
    assert done.exit_code == 0, done.output
    return done.output, json.loads(json_path.read_text()) if json_path is not None else None


def refused(*args: str) -> str:
    """Run ``audit plan ARGS`` expecting exit 2 without a traceback; the message."""
    done = runner.invoke(main, ["plan", *args])
    assert done.exit_code == 2, done.output
    assert "Traceback" not in done.output and isinstance(done.exception, SystemExit)   # exited, did not crash
    return done.output


def statsmodels_n(rate: float, base_rate: float, alpha: float, power: float = 0.8) -> float:
    return float(NormalIndPower().solve_power(proportion_effectsize(rate, base_rate), nobs1=None, alpha=alpha,
                                              power=power, ratio=1))


def test_people_per_group_to_detect_four_fifths(tmp_path: Path) -> None:
    output, body = plan("--base-rate", "0.3", "--ratio", "0.8", json_path=tmp_path / "plan.json")
    assert body is not None
    assert body["n_per_group"] == 858 == math.ceil(statsmodels_n(0.24, 0.3, 0.05))
    assert (body["power"], body["alpha"], body["comparisons"], body["level"]) == (0.8, 0.05, 1, 0.05)
    assert body["n_total"] is None and body["groups"] == []
    assert body["detectable_lower"] == pytest.approx(0.8, abs=5e-4)   # 858 (rounded up) detects just beyond 0.8
    assert "people per group: 858 in the group and 858 in its reference" in output
    assert "level of each test: alpha / M = 0.05 / 1 = 0.05 (M = 1: one comparison" in output
    assert "with 858 people per group the detectable ratios are 0.8 or lower, and 1.21 or higher" in output


def test_comparisons_divide_the_level(tmp_path: Path) -> None:
    output, body = plan("--base-rate", "0.3", "--ratio", "0.8", "--comparisons", "10", json_path=tmp_path / "p.json")
    assert body is not None and body["level"] == pytest.approx(0.005) and body["comparisons"] == 10
    assert body["n_per_group"] == math.ceil(statsmodels_n(0.24, 0.3, 0.005)) == 1454
    assert "alpha / M = 0.05 / 10 = 0.005 (M = 10 from --comparisons: the verdicts the audit will make)" in output
    _, higher = plan("--base-rate", "0.3", "--ratio", "1.25", "--power", "0.9", "--alpha", "0.01",
                     json_path=tmp_path / "h.json")
    assert higher is not None and higher["n_per_group"] == math.ceil(statsmodels_n(0.375, 0.3, 0.01, power=0.9))


def test_shares_give_the_total_and_each_groups_people(tmp_path: Path) -> None:
    output, body = plan("--base-rate", "0.3", "--ratio", "0.8", "--share", "female=0.48", "--share", "male=0.52",
                        json_path=tmp_path / "p.json")
    assert body is not None
    total = body["n_total"]
    groups = {g["group"]: g for g in body["groups"]}
    assert groups["male"]["reference"] and not groups["female"]["reference"]   # the largest by default
    female, male = groups["female"]["people"], groups["male"]["people"]
    assert groups["female"]["share"] == pytest.approx(0.48) and total == female + male == 825 + 893
    # the smallest sample at which female (48%) against male (52%) reaches 80% power, by statsmodels: a
    # real-valued total of 1,716.6, each group then rounded up to whole people
    h = float(arcsine_effect(0.24, 0.3))
    power = NormalIndPower().power
    assert power(h, nobs1=female, alpha=0.05, ratio=male / female) >= 0.8 - 1e-6
    assert power(h, nobs1=0.48 * 1716, alpha=0.05, ratio=0.52 / 0.48) < 0.8 <= power(
        h, nobs1=0.48 * 1717, alpha=0.05, ratio=0.52 / 0.48)
    assert groups["female"]["detectable_lower"] == pytest.approx(0.8, abs=1e-3)
    assert f"total: {total:,} people drawn at random" in output and "the reference 'male'" in output
    assert "M = 1: the group compared with the reference" in output


def test_the_reverse_gives_the_detectable_ratios(tmp_path: Path) -> None:
    output, body = plan("--base-rate", "0.3", "--n", "858", json_path=tmp_path / "n.json")
    assert body is not None and body["n_per_group"] == 858 and body["ratio"] is None
    assert body["detectable_lower"] == pytest.approx(0.8, abs=5e-4)
    h = float(arcsine_effect(body["detectable_higher"] * 0.3, 0.3))
    assert NormalIndPower().power(h, nobs1=858, alpha=0.05, ratio=1) == pytest.approx(0.8, abs=1e-4)
    assert "with 858 people per group the detectable ratios are 0.8 or lower" in output
    output, body = plan("--base-rate", "0.3", "--n-total", "1717", "--share", "female=0.48", "--share", "male=0.52",
                        json_path=tmp_path / "t.json")
    assert body is not None and body["n_total"] == 1717
    female = next(g for g in body["groups"] if g["group"] == "female")
    assert female["people"] == 825 and female["detectable_lower"] == pytest.approx(0.8, abs=1e-3)
    h = float(arcsine_effect(female["detectable_lower"] * 0.3, 0.3))
    assert NormalIndPower().power(h, nobs1=0.48 * 1717, alpha=0.05, ratio=0.52 / 0.48) == pytest.approx(0.8, abs=1e-4)


def test_shares_from_a_data_file_count_its_values_as_written(tmp_path: Path) -> None:
    values = ["01"] * 600 + ["Việt Nam"] * 300 + ["a [b]"] * 100 + [None] * 7
    pd.DataFrame({"group": values, "x": range(len(values))}).to_csv(tmp_path / "people.csv", index=False)
    output, body = plan("--base-rate", "0.2", "--ratio", "0.8", "--shares-from", str(tmp_path / "people.csv"),
                        "--attribute", "group", "--reference", "Việt Nam", json_path=tmp_path / "p.json")
    assert body is not None
    shares = {g["group"]: g["share"] for g in body["groups"]}
    assert shares == pytest.approx({"01": 0.6, "Việt Nam": 0.3, "a [b]": 0.1})   # 7 rows without a value left out
    assert [g["group"] for g in body["groups"] if g["reference"]] == ["Việt Nam"]
    assert body["comparisons"] == 2   # the two other groups against the reference
    assert "groups: 3 from " in output and "1,000 rows counted, 7 with no value left out" in output
    assert "│ a [b] " in output and "│ 01 " in output


@pytest.mark.parametrize(("args", "message"), [
    (["--base-rate", "1.2", "--ratio", "0.8"], "(--base-rate) must be a rate strictly between 0 and 1"),
    (["--base-rate", "0", "--ratio", "0.8"], "(--base-rate) must be a rate strictly between 0 and 1"),
    (["--base-rate", "0.3", "--ratio", "1"], "(--ratio) must differ from 1"),
    (["--base-rate", "0.3", "--ratio", "-0.8"], "(--ratio) must be a positive number"),
    (["--base-rate", "0.3", "--ratio", "4"], "choose a ratio of at most 3.33"),
    (["--base-rate", "0.3", "--ratio", "0.8", "--power", "1"], "(--power) must be strictly between 0 and 1"),
    (["--base-rate", "0.3", "--ratio", "0.8", "--power", "1.5"], "(--power) must be strictly between 0 and 1"),
    (["--base-rate", "0.3", "--ratio", "0.8", "--alpha", "0"], "(--alpha) must be strictly between 0 and 1"),
    (["--base-rate", "0.3", "--ratio", "0.8", "--alpha", "1"], "(--alpha) must be strictly between 0 and 1"),
    (["--base-rate", "0.3", "--ratio", "0.8", "--comparisons", "0"], "(--comparisons) must be a whole number"),
    (["--base-rate", "0.3", "--ratio", "0.8", "--n", "500"], "give --ratio (to get the sample size) or --n"),
    (["--base-rate", "0.3"], "give --ratio (the disparity to detect, e.g. 0.8)"),
    (["--base-rate", "0.3", "--n", "1"], "(--n) must be a whole number of people, at least 2"),
    (["--base-rate", "0.3", "--n-total", "500"], "--n-total needs the groups' shares"),
    (["--base-rate", "0.3", "--n", "500", "--share", "a=1", "--share", "b=1"],
     "with the groups' shares give --n-total"),
    (["--base-rate", "0.3", "--ratio", "0.8", "--share", "a"], "--share must be GROUP=FRACTION"),
    (["--base-rate", "0.3", "--ratio", "0.8", "--share", "a=x", "--share", "b=1"], "--share 'a=x': the share must be"),
    (["--base-rate", "0.3", "--ratio", "0.8", "--share", "a=0", "--share", "b=1"], "--share 'a=0': the share must be"),
    (["--base-rate", "0.3", "--ratio", "0.8", "--share", "a=1", "--share", "a=2"], "--share gives group 'a' twice"),
    (["--base-rate", "0.3", "--ratio", "0.8", "--share", "a=1"], "--share: give every group's share, at least two"),
    (["--base-rate", "0.3", "--ratio", "0.8", "--share", "a=1", "--share", "b=1", "--reference", "c"],
     "--reference 'c' is not one of the groups: a, b"),
    (["--base-rate", "0.3", "--ratio", "0.8", "--reference", "a"], "--reference needs the groups' shares"),
    (["--base-rate", "0.3", "--ratio", "0.8", "--attribute", "g"], "--attribute names a column of --shares-from"),
    (["--base-rate", "abc", "--ratio", "0.8"], "Invalid value for '--base-rate'"),
])
def test_bad_values_exit_2_naming_the_option(args: list[str], message: str) -> None:
    assert message in refused(*args)


def test_bad_shares_files_exit_2_naming_the_option(tmp_path: Path) -> None:
    pd.DataFrame({"sex": ["f", "m", "f"], "id": ["1", "2", "3"]}).to_csv(tmp_path / "d.csv", index=False)
    base = ["--base-rate", "0.3", "--ratio", "0.8"]
    missing = refused(*base, "--shares-from", str(tmp_path / "nowhere.csv"), "--attribute", "sex")
    assert f"--shares-from: {tmp_path / 'nowhere.csv'} does not exist" in missing
    column = refused(*base, "--shares-from", str(tmp_path / "d.csv"), "--attribute", "sexx")
    assert "--attribute 'sexx' is not a column of" in column and "(did you mean 'sex'?)" in column
    assert "--shares-from needs --attribute" in refused(*base, "--shares-from", str(tmp_path / "d.csv"))
    both = refused(*base, "--shares-from", str(tmp_path / "d.csv"), "--attribute", "sex", "--share", "f=1",
                   "--share", "m=1")
    assert "give the shares by --share or by --shares-from, not both" in both
    (tmp_path / "notes.doc").write_text("x")
    unreadable = refused(*base, "--shares-from", str(tmp_path / "notes.doc"), "--attribute", "sex")
    assert unreadable.startswith("error: --shares-from: Cannot read")
    pd.DataFrame({"g": ["a"] * 5 + [None] * 3}).to_csv(tmp_path / "one.csv", index=False)
    one = refused(*base, "--shares-from", str(tmp_path / "one.csv"), "--attribute", "g")
    assert "has 1 group(s) with a value" in one and "(3 rows without one)" in one
    pd.DataFrame({"id": [str(i) for i in range(60)]}).to_csv(tmp_path / "ids.csv", index=False)
    assert "has 60 distinct values" in refused(*base, "--shares-from", str(tmp_path / "ids.csv"), "--attribute", "id")


def test_plan_is_listed_in_the_help() -> None:
    listing = runner.invoke(main, ["--help"])
    assert listing.exit_code == 0 and "plan" in listing.output
    helped = runner.invoke(main, ["plan", "--help"])
    assert helped.exit_code == 0
    for option in ("--base-rate", "--ratio", "--n ", "--n-total", "--power", "--alpha", "--comparisons", "--share ",
                   "--shares-from", "--attribute", "--reference", "--json"):
        assert option in helped.output
