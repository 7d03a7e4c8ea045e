"""The welfare-fraud example's audit finds exactly the disparities planted in its data."""

from __future__ import annotations

import pytest

import audit
from conftest import EXAMPLES

EXPECTED = {  # (attribute, group): (selection_rate, fpr, fnr) — see examples/welfare_fraud/README.md
    ("nationality", "Moroccan"): ("fail", "fail", "fail"),
    ("nationality", "Turkish"): ("fail", "fail", "pass"),
    ("nationality", "Surinamese"): ("fail", "fail", "fail"),
    ("nationality", "Syrian"): ("fail", "fail", "fail"),
    ("nationality", "Other"): ("inconclusive", "inconclusive", "pass"),
    ("nationality", "Polish"): ("inconclusive", "inconclusive", "inconclusive"),
    ("nationality", "Other EU"): ("inconclusive", "inconclusive", "pass"),
    ("language", "Arabic"): ("fail", "fail", "fail"),
    ("language", "Turkish"): ("fail", "fail", "pass"),
    ("language", "Polish"): ("inconclusive", "inconclusive", "inconclusive"),
    ("sex", "male"): ("pass", "pass", "pass"),
    ("age_band", "18-26"): ("inconclusive", "inconclusive", "pass"),
    ("age_band", "46-55"): ("pass", "pass", "pass"),
}


@pytest.fixture(scope="module")
def result():
    return audit.run(EXAMPLES / "welfare_fraud" / "spec.yaml")


@pytest.mark.parametrize("key", list(EXPECTED), ids=lambda k: f"{k[0]}={k[1]}")
def test_planted_disparities_are_found(result, key) -> None:
    v = result.verdicts
    rows = v[(v.attribute == key[0]) & (v.group == key[1])].set_index("metric")["verdict"]
    assert (rows["selection_rate"], rows["fpr"], rows["fnr"]) == EXPECTED[key]


def test_no_failure_by_sex_where_none_was_planted(result) -> None:
    v = result.verdicts
    assert set(v[v.attribute == "sex"].verdict) == {"pass"}


def test_the_flagged_groups_are_reported_as_disadvantaged(result) -> None:
    v = result.verdicts
    failed = v[(v.verdict == "fail") & v.metric.isin(["selection_rate", "fpr"])]
    assert failed.disadvantaged.all() and (failed.estimate > 1.25).all()


def test_missing_nationality_is_an_unknown_group_with_its_count(result) -> None:
    g = result.groups
    row = g[(g.attribute == "nationality") & (g.group == "unknown") & (g.metric == "count")].iloc[0]
    assert row["value"] == 275
    assert "unknown" not in set(result.verdicts[result.verdicts.attribute == "nationality"].group)


def test_overall_verdict_fails(result) -> None:
    assert result.verdict == "fail" and result.exit_code() == 1
