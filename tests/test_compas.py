"""The COMPAS example reproduces ProPublica's published figures and a direct pandas computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

import audit
from conftest import EXAMPLES

CSV = EXAMPLES / "compas" / "compas-scores-two-years.csv"


@pytest.fixture(scope="module")
def result():
    return audit.run(EXAMPLES / "compas" / "spec.yaml")


@pytest.fixture(scope="module")
def filtered() -> pd.DataFrame:
    data = pd.read_csv(CSV)
    keep = (data.days_b_screening_arrest.between(-30, 30) & (data.is_recid != -1)
            & (data.c_charge_degree != "O") & (data.score_text != "N/A"))
    return data[keep]


def _value(result, attribute: str, group: str, metric: str) -> pd.Series:
    g = result.groups
    return g[(g.attribute == attribute) & (g.group == group) & (g.metric == metric)].iloc[0]


def test_row_counts_match_propublica(result) -> None:
    assert result.provenance.rows_read == 7214
    assert result.provenance.rows_used == 6172
    reoffended = result.counts.outcome.rows[result.counts.outcome.values.index("1")]
    assert reoffended == 2809
    assert result.provenance.data.sha256 == "c451db85908b2f7fef1d83203bedf6b71ecda0d5af468d82ae62178f91d0cc7d"


@pytest.mark.parametrize("race", ["African-American", "Caucasian", "Hispanic", "Other", "Asian", "Native American"])
def test_every_rate_equals_a_direct_computation(result, filtered, race) -> None:
    rows = filtered[filtered.race == race]
    y = rows.two_year_recid.to_numpy() == 1
    d = rows.score_text.isin(["Medium", "High"]).to_numpy()
    tp, fp, fn, tn = (y & d).sum(), (~y & d).sum(), (y & ~d).sum(), (~y & ~d).sum()
    expected = {"count": len(rows), "selection_rate": d.mean(), "base_rate": y.mean(),
                "fpr": fp / (fp + tn), "fnr": fn / (fn + tp), "tpr": tp / (tp + fn), "tnr": tn / (tn + fp),
                "ppv": tp / (tp + fp), "npv": tn / (tn + fn), "fdr": fp / (tp + fp), "for": fn / (fn + tn),
                "accuracy": (tp + tn) / len(rows), "fp_share": fp / len(rows),
                "f1": 2 * tp / (2 * tp + fp + fn), "balanced_accuracy": (tp / (tp + fn) + tn / (tn + fp)) / 2}
    for metric, value in expected.items():
        assert _value(result, "race", race, metric)["value"] == pytest.approx(value, abs=1e-15, rel=1e-15), metric
    assert _value(result, "race", race, "fpr")["n"] == fp + tn


def test_fpr_disparity_fails_the_policy(result) -> None:
    v = result.verdicts
    black = v[(v.metric == "fpr") & (v.attribute == "race") & (v.group == "African-American")].iloc[0]
    assert black.reference == "Caucasian" and black.decision_rule == "ci"
    assert black.verdict == "fail"
    assert black.ci_low > 1.25 and black.disadvantaged is True
    assert round(black.family_ci_low, 2) == 1.46 and round(black.family_ci_high, 2) == 2.56   # the ci rule's interval
    assert result.verdict == "fail" and result.exit_code() == 1


def test_the_34_verdicts_are_one_family(result) -> None:
    v = result.verdicts
    assert result.family.size == len(v) == 34 and result.family.alpha == 0.05
    assert result.family.confidence == pytest.approx(1 - 0.05 / 34)
    assert v.verdict.value_counts().to_dict() == {"inconclusive": 22, "fail": 8, "pass": 4}
    assert set(v[v.metric == "fpr"].decision_rule) == {"ci"}
    assert set(v[v.metric == "selection_rate"].decision_rule) == {"significant"}   # no `rule`: the default


# (group, metric): (people in the rate's denominator, people with the decision or error, reference's two counts)
SMALL = {("Asian", "fpr"): (23, 2, 1281, 282), ("Native American", "fpr"): (6, 3, 1281, 282),
         ("Native American", "selection_rate"): (11, 8, 2103, 696)}


@pytest.mark.parametrize("key", list(SMALL), ids=lambda k: f"{k[0]}-{k[1]}")
def test_small_groups_are_decided_by_exact_evidence(result, key) -> None:
    from scipy.stats import fisher_exact

    v = result.verdicts
    row = v[(v.attribute == "race") & (v.group == key[0]) & (v.metric == key[1])].iloc[0]
    n, x, n_ref, x_ref = SMALL[key]
    assert (row.n, row.reference_n) == (n, n_ref)
    assert row.evidence == "exact" and row.test == "fisher"
    assert row.p_value == pytest.approx(fisher_exact([[x, n - x], [x_ref, n_ref - x_ref]]).pvalue, rel=1e-9)
    assert row.verdict == "inconclusive" and "too few people" not in row.reason
    weak = "overlaps the edge" if row.decision_rule == "ci" else "not statistically significant"
    assert weak in row.reason
    assert row.needed_n > n                              # and the audit says what would decide it


def test_native_american_selection_rate_is_significant_only_before_the_family(result) -> None:
    v = result.verdicts
    row = v[(v.attribute == "race") & (v.group == "Native American") & (v.metric == "selection_rate")].iloc[0]
    assert round(row.estimate, 2) == 2.20 and round(row.p_value, 4) == 0.0086 and round(row.p_family, 2) == 0.17
    assert row.needed_n == 27                            # documented in examples/compas/README.md


def test_unfiltered_file_reproduces_propublica_truth_tables(tmp_path) -> None:
    spec = yaml.safe_load((EXAMPLES / "compas" / "spec.yaml").read_text())
    del spec["data"]["where"]
    spec["data"]["path"] = str(CSV)
    result = audit.run(spec)
    assert result.provenance.rows_used == 7214
    fpr = {r: _value(result, "race", r, "fpr")["value"] for r in ("African-American", "Caucasian")}
    fnr = {r: _value(result, "race", r, "fnr")["value"] for r in ("African-American", "Caucasian")}
    assert fpr["African-American"] == 805 / (990 + 805)
    assert fpr["Caucasian"] == 349 / (1139 + 349)
    assert fnr["African-American"] == 532 / (532 + 1369)
    assert fnr["Caucasian"] == 461 / (461 + 505)
    assert round(fpr["African-American"] * 100, 2) == 44.85 and round(fpr["Caucasian"] * 100, 2) == 23.45
    assert round(fnr["African-American"] * 100, 2) == 27.99 and round(fnr["Caucasian"] * 100, 2) == 47.72
    c = result.comparisons
    ratio = c[(c.metric == "fpr") & (c.group == "African-American") & (c.attribute == "race")].iloc[0]["ratio"]
    assert round(ratio, 2) == 1.91


def test_intersections_sum_to_the_marginals(result) -> None:
    g = result.groups
    counts = g[(g.metric == "count")]
    race = counts[counts.attribute == "race"].set_index("group")["value"]
    cross = counts[counts.attribute == "race × sex"].copy()
    cross["race"] = cross.group.str.split(" × ").str[0]
    assert (cross.groupby("race")["value"].sum() == race).all()
    assert np.isclose(race.sum(), 6172)


EXPECTED_RACE = {  # (fpr (ci), selection_rate (significant)) verdicts, documented in examples/compas/README.md
    "African-American": ("fail", "fail"), "Hispanic": ("inconclusive", "pass"), "Other": ("inconclusive", "fail"),
    "Asian": ("inconclusive", "inconclusive"), "Native American": ("inconclusive", "inconclusive"),
}
EXPECTED_CELLS = {  # race × sex against Caucasian × Male: the cells with a fail or a pass; the rest are inconclusive
    "African-American × Female": ("inconclusive", "fail"), "African-American × Male": ("fail", "fail"),
    "Hispanic × Female": ("inconclusive", "fail"), "Hispanic × Male": ("inconclusive", "pass"),
    "Other × Male": ("inconclusive", "fail"), "Caucasian × Female": ("inconclusive", "pass"),
}


def _verdicts(result, attribute: str, group: str) -> tuple[str, str]:
    v = result.verdicts
    rows = v[(v.attribute == attribute) & (v.group == group)].set_index("metric")["verdict"]
    return rows["fpr"], rows["selection_rate"]


def test_documented_verdicts(result) -> None:
    for race, verdicts in EXPECTED_RACE.items():
        assert _verdicts(result, "race", race) == verdicts, race
    assert _verdicts(result, "sex", "Female") == ("inconclusive", "pass")   # FPR 1.00, family interval 0.74-1.32
    cross = result.verdicts[result.verdicts.attribute == "race × sex"]
    assert set(cross.reference) == {"Caucasian × Male"}
    for cell in set(cross.group):
        assert _verdicts(result, "race × sex", cell) == EXPECTED_CELLS.get(cell, ("inconclusive", "inconclusive")), cell


def test_black_women_fpr_is_inconclusive_only_at_the_family_level(result) -> None:
    v = result.verdicts
    row = v[(v.metric == "fpr") & (v.group == "African-American × Female")].iloc[0]
    assert round(row.estimate, 2) == 1.91 and row.ci_low > 1.25          # the ordinary 95% interval: 1.59-2.30
    assert round(row.family_ci_low, 2) == 1.20 and round(row.family_ci_high, 2) == 3.00
    assert row.p_family < 1e-8 and row.verdict == "inconclusive"         # ci needs the whole family interval out
    assert (row.n, row.needed_n) == (346, 403)


def test_the_decile_score_example_matches_the_decision_example_and_sklearn(result, filtered) -> None:
    from scipy import stats as sps
    from sklearn.metrics import roc_auc_score

    scores = audit.run(EXAMPLES / "compas_scores" / "spec.yaml")
    at_five = scores.groups[scores.groups["view"] == "score ≥ 5"].drop(columns="view").reset_index(drop=True)
    decision = result.groups[result.groups["attribute"].isin(["race", "sex"])
                             & result.groups["metric"].isin(set(at_five["metric"]))]
    pd.testing.assert_frame_equal(at_five.set_index(["attribute", "group", "metric"])[["value", "n"]],
                                  decision.set_index(["attribute", "group", "metric"])[["value", "n"]]
                                  .loc[at_five.set_index(["attribute", "group", "metric"]).index])
    auc = scores.table("auc").set_index(["attribute", "group"])
    tests = scores.table("tests").query("attribute == 'race'").set_index("group")
    white = filtered[filtered.race == "Caucasian"]
    for race in ("African-American", "Hispanic", "Caucasian"):
        rows = filtered[filtered.race == race]
        assert auc.loc[("race", race), "auc"] == pytest.approx(
            roc_auc_score(rows.two_year_recid, rows.decile_score), abs=1e-12)
        if race != "Caucasian":
            ks = sps.ks_2samp(rows.decile_score, white.decile_score)
            assert tests.loc[race, "statistic"] == pytest.approx(ks.statistic, abs=1e-12)
            assert tests.loc[race, "p_value"] == pytest.approx(ks.pvalue, rel=1e-9, abs=1e-300)
    top = scores.table("thresholds").set_index("view").loc["top 30%"]
    assert top["cutoff"] == 6 and top["acted_on"] == int((filtered.decile_score >= 6).sum())
