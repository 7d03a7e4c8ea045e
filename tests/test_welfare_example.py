"""The welfare-fraud example's audit finds exactly the disparities planted in its data, and only those."""

from __future__ import annotations

from types import ModuleType

import pandas as pd
import pytest

import audit
from audit.expected import load_expected
from conftest import EXAMPLES, scenario_generator

FOLDER = EXAMPLES / "welfare_fraud"
BAND = (0.8, 1.25)
REFERENCE = {"nationality": "Dutch", "language": "Dutch", "age_band": "36-45"}

EXPECTED = {  # (attribute, group): (selection_rate, fpr, fnr) — see examples/welfare_fraud/README.md
    ("nationality", "Moroccan"): ("fail", "fail", "fail"),
    ("nationality", "Turkish"): ("fail", "fail", "pass"),            # FNR planted 0.70, 75 fraud cases: 0.83 here
    ("nationality", "Surinamese"): ("fail", "fail", "inconclusive"),  # FNR planted 0.82: inside the band
    ("nationality", "Syrian"): ("fail", "fail", "fail"),
    ("nationality", "Other"): ("fail", "fail", "fail"),
    ("nationality", "Polish"): ("inconclusive", "inconclusive", "pass"),
    ("nationality", "Other EU"): ("inconclusive", "inconclusive", "pass"),
    ("language", "Arabic"): ("fail", "fail", "fail"),
    ("language", "Turkish"): ("fail", "fail", "pass"),
    ("language", "other"): ("fail", "fail", "inconclusive"),
    ("language", "English"): ("inconclusive", "inconclusive", "pass"),
    ("language", "Polish"): ("inconclusive", "inconclusive", "pass"),
    ("sex", "male"): ("pass", "pass", "pass"),
    ("age_band", "18-26"): ("fail", "fail", "pass"),
    ("age_band", "27-35"): ("pass", "pass", "pass"),
    ("age_band", "46-55"): ("pass", "pass", "pass"),
    ("age_band", "56-67"): ("pass", "inconclusive", "pass"),          # FPR planted 0.91: 0.79 here, not significant
}


@pytest.fixture(scope="module")
def result():
    return audit.run(FOLDER / "spec.yaml")


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    return scenario_generator("welfare_fraud")


@pytest.fixture(scope="module")
def planted(generator) -> pd.DataFrame:
    """Planted ratio to the reference per (metric, attribute, group); a cell carries its nationality's ratio."""
    rates = generator.planted_rates().set_index(["attribute", "group"])
    rows = []
    for (attribute, group), row in rates.iterrows():
        reference = rates.loc[(attribute, REFERENCE[attribute])]
        for metric in ("selection_rate", "fpr", "fnr"):
            ratio = row[metric] / reference[metric]
            rows.append((metric, attribute, group, ratio))
            if attribute == "nationality":
                rows += [(metric, "nationality × sex", f"{group} × {sex}", ratio) for sex in ("female", "male")]
    rows += [(metric, "sex", "male", 1.0) for metric in ("selection_rate", "fpr", "fnr")]
    return pd.DataFrame(rows, columns=["metric", "attribute", "group", "ratio"]).set_index(
        ["metric", "attribute", "group"])["ratio"]


@pytest.mark.parametrize("key", list(EXPECTED), ids=lambda k: f"{k[0]}={k[1]}")
def test_planted_disparities_are_found(result, key) -> None:
    v = result.verdicts
    rows = v[(v.attribute == key[0]) & (v.group == key[1])].set_index("metric")["verdict"]
    assert (rows["selection_rate"], rows["fpr"], rows["fnr"]) == EXPECTED[key]


def test_the_96_verdicts_are_one_family_of_significant_rules(result) -> None:
    v = result.verdicts
    assert result.family.size == len(v) == 96 and result.family.alpha == 0.05
    assert set(v.decision_rule) == {"significant"} and set(v.evidence) == {"exact"}
    assert v.verdict.value_counts().to_dict() == {"fail": 43, "pass": 30, "inconclusive": 23}
    assert not v.reason.str.contains("too few people").any()     # rates are decided by exact evidence at any size


def test_every_fail_is_a_planted_disparity_and_no_inside_group_fails(result, planted) -> None:
    v = result.verdicts.assign(group=lambda f: f.group.astype(str)).set_index(["metric", "attribute", "group"])
    truth = planted.reindex(v.index)
    assert truth.notna().all()
    outside = (truth < BAND[0]) | (truth > BAND[1])
    assert outside[v.verdict == "fail"].all()
    assert (v.verdict[~outside] != "fail").all()


def test_the_expected_findings_list_only_planted_disparities(planted) -> None:
    expected = load_expected(FOLDER / "expected_findings.yaml")
    for entry in expected.fail:
        for group in entry.groups:
            ratio = planted[(entry.metric, entry.attribute, group)]
            assert not BAND[0] <= ratio <= BAND[1], (entry.metric, group, ratio)


def test_planted_rates_agree_with_a_large_sample(generator) -> None:
    sample = generator.generate(n=400_000, seed=7)
    rates = generator.planted_rates().set_index(["attribute", "group"])
    for attribute, group in [("nationality", "Dutch"), ("nationality", "Other"), ("language", "Arabic"),
                             ("age_band", "18-26")]:
        rows = sample[sample[attribute] == group]
        clean = rows[rows.fraud_found == 0]
        for metric, observed, n in [("selection_rate", rows.flagged.mean(), len(rows)),
                                    ("fpr", clean.flagged.mean(), len(clean))]:
            expected = rates.loc[(attribute, group), metric]
            standard_error = (expected * (1 - expected) / n) ** 0.5
            assert abs(observed - expected) < 4 * standard_error, (attribute, group, metric, observed, expected)


def test_planted_rates_refuse_a_cutoff_outside_the_score_range(generator) -> None:
    with pytest.raises(ValueError, match="cutoff must be a score in \\(0, 1\\)"):
        generator.planted_rates(1.5)


def test_no_failure_by_sex_where_none_was_planted(result) -> None:
    v = result.verdicts
    assert set(v[v.attribute == "sex"].verdict) == {"pass"}


def test_the_flagged_groups_are_reported_as_disadvantaged(result) -> None:
    v = result.verdicts
    failed = v[(v.verdict == "fail") & v.metric.isin(["selection_rate", "fpr"])]
    assert failed.disadvantaged.all() and (failed.estimate > 1.25).all()


def test_a_pass_of_a_small_group_is_only_an_estimate_inside_the_band(result) -> None:
    v = result.verdicts
    row = v[(v.metric == "selection_rate") & (v.group == "Polish × male")].iloc[0]   # planted 1.40
    assert row.verdict == "pass" and round(row.estimate, 2) == 1.13
    assert row.family_ci_low < BAND[0] and row.family_ci_high > BAND[1]


def test_missing_nationality_is_an_unknown_group_with_its_count(result) -> None:
    g = result.groups
    row = g[(g.attribute == "nationality") & (g.group == "unknown") & (g.metric == "count")].iloc[0]
    assert row["value"] == 275
    assert "unknown" not in set(result.verdicts[result.verdicts.attribute == "nationality"].group)


def test_overall_verdict_fails(result) -> None:
    assert result.verdict == "fail" and result.exit_code() == 1
