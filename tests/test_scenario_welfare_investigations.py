"""The Havenburg welfare-investigations scenario: selective labels, top-k capacity and proxies of nationality.

The figures asserted here are documented in examples/welfare_investigations/README.md. They are measured
with pandas on the shipped (synthetic) CSV, on the generator's hidden truth, and on the audit's result.
"""

from __future__ import annotations

from types import ModuleType

import pandas as pd
import pytest
from conftest import EXAMPLES, scenario_generator

import audit

FOLDER = EXAMPLES / "welfare_investigations"
EXPOSED = ["Moroccan", "Turkish", "Syrian", "Polish", "Other EU", "Other"]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(FOLDER / "welfare_investigations.csv")


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    return scenario_generator("welfare_investigations")


@pytest.fixture(scope="module")
def truth(generator: ModuleType) -> pd.DataFrame:
    return generator.generate(with_truth=True)


@pytest.fixture(scope="module")
def result():
    return audit.run(FOLDER / "spec.yaml")


def test_labels_exist_only_for_investigated_cases(data: pd.DataFrame) -> None:
    assert len(data) == 25_000
    assert data["investigated"].sum() == 1_270
    assert data["fraud_found"].notna().equals(data["investigated"] == 1)
    selected = data["investigation_reason"] == "risk score"
    assert selected.sum() == 1_200
    assert data.loc[selected, "risk_score"].min() == pytest.approx(0.6702)
    assert (data.loc[~selected, "risk_score"] < 0.6702).all()  # the top 1,200 exactly: no tie at the cut-off


def test_selection_rates_by_nationality(data: pd.DataFrame) -> None:
    selected = data["investigation_reason"] == "risk score"
    rate = selected.groupby(data["nationality"]).mean()
    assert rate["Dutch"] == pytest.approx(0.0247, abs=0.0005)
    ratio = rate / rate["Dutch"]
    assert ratio[EXPOSED].min() > 2.9 and ratio["Syrian"] == pytest.approx(4.40, abs=0.01)
    assert ratio["Surinamese"] == pytest.approx(1.10, abs=0.01)


def test_error_rates_on_checked_cases_hide_the_true_disparity(data: pd.DataFrame, truth: pd.DataFrame) -> None:
    selected = truth["investigation_reason"] == "risk score"
    innocent = truth["true_fraud"] == 0
    true_fpr = selected[innocent].groupby(truth.loc[innocent, "nationality"]).mean()
    checked = innocent & (truth["investigated"] == 1)
    checked_fpr = selected[checked].groupby(truth.loc[checked, "nationality"]).mean()
    true_ratio, checked_ratio = true_fpr / true_fpr["Dutch"], checked_fpr / checked_fpr["Dutch"]
    assert true_ratio["Moroccan"] == pytest.approx(5.18, abs=0.01)
    assert true_ratio[EXPOSED].min() > 4.0
    assert checked_ratio["Moroccan"] == pytest.approx(1.08, abs=0.01)
    assert checked_ratio[EXPOSED].max() < 1.2
    # the hidden truth is the shipped file plus one column
    assert truth.drop(columns="true_fraud").to_csv(index=False, lineterminator="\n") == \
        (FOLDER / "welfare_investigations.csv").read_text(encoding="utf-8")


def test_the_exact_true_rates_are_the_planted_ones(generator: ModuleType, truth: pd.DataFrame) -> None:
    true = generator.true_rates()
    assert true.loc["Dutch", "selection_rate"] == pytest.approx(0.0232, abs=0.00005)
    assert true.loc[EXPOSED, "selection_ratio"].round(2).tolist() == [4.09, 4.09, 4.88, 3.72, 3.58, 4.13]
    assert true.loc[EXPOSED, "fpr_ratio"].min() == pytest.approx(4.87, abs=0.005)     # Other EU
    assert true.loc[EXPOSED, "fpr_ratio"].max() == pytest.approx(7.01, abs=0.005)     # Syrian
    assert true.loc["Surinamese", "selection_ratio"] == pytest.approx(1.04, abs=0.005)  # inside the band
    # what the city can compute: the share selected among the innocent recipients it investigated
    assert true.loc["Dutch", "checked_fpr"] == pytest.approx(0.858, abs=0.0005)
    assert true.loc[EXPOSED, "checked_fpr_ratio"].between(1.128, 1.141).all()          # pulled towards 1
    # the population rates at the file's 4.8% capacity, and the file's own rates within sampling error
    shares = pd.Series(generator.NATIONALITY_P, index=list(generator.NATIONALITIES))
    assert (true["selection_rate"] * shares).sum() == pytest.approx(generator.CAPACITY / generator.DEFAULT_N)
    selected = truth["investigation_reason"] == "risk score"
    measured = selected.groupby(truth["nationality"]).mean()
    sizes = truth["nationality"].value_counts()
    p = true["selection_rate"]
    assert ((measured[p.index] - p).abs() <= 4 * (p * (1 - p) / sizes[p.index]) ** 0.5).all()


def test_the_rules_are_judged_as_one_family(result) -> None:
    v = result.verdicts
    assert result.spec.spec_version == 2
    assert v.groupby("metric")["decision_rule"].unique().map(list).to_dict() == {"selection_rate": ["significant"],
                                                                                 "fpr": ["ci"]}
    assert result.family.size == len(v) == 46 and result.family.alpha == 0.05
    assert v["verdict"].value_counts().to_dict() == {"inconclusive": 24, "fail": 18, "pass": 4}
    assert set(v["evidence"]) == {"exact"} and set(v["test"]) == {"fisher"}


def test_every_fpr_verdict_is_inconclusive_and_says_why(result) -> None:
    fpr = result.verdicts[result.verdicts["metric"] == "fpr"].set_index("group")
    assert len(fpr) == 23 and set(fpr["verdict"]) == {"inconclusive"}
    assert fpr["selective_labels"].all()
    refused = fpr["reason"].str.contains("refuses to pass on them")
    overlaps = fpr["reason"].str.contains("overlaps the edge")
    assert (refused | overlaps).all() and overlaps.sum() == 22
    assert refused[refused].index.tolist() == ["male"]                    # family interval 0.91-1.09: a pass refused
    assert fpr.loc["male", "family_ci_low"] == pytest.approx(0.907, abs=0.001)
    assert not fpr["reason"].str.startswith("too few people").any()      # exact evidence at any size


def test_selection_rate_fails_for_the_exposed_nationalities(result) -> None:
    v = result.verdicts
    chosen = v[(v["metric"] == "selection_rate") & (v["attribute"] == "nationality")].set_index("group")
    assert set(chosen.index[chosen["verdict"] == "fail"]) == set(EXPOSED)
    assert chosen.loc["Surinamese", "verdict"] == "pass"                   # true ratio 1.04, estimate 1.10
    assert chosen.loc["Syrian", "estimate"] == pytest.approx(4.40, abs=0.01)
    assert v[(v["metric"] == "selection_rate") & (v["attribute"] == "sex")]["verdict"].tolist() == ["pass"]


def test_the_smallest_exposed_cell_fails_on_the_family_evidence(result) -> None:
    v = result.verdicts
    cells = v[(v["metric"] == "selection_rate") & (v["attribute"] == "nationality × sex")].set_index("group")
    smallest = cells.loc["Other EU × male"]                                 # 22 of 332 selected
    assert smallest["verdict"] == "fail" and smallest["n"] == 332
    assert smallest["estimate"] == pytest.approx(2.81, abs=0.01)
    assert smallest["p_family"] == pytest.approx(8.8e-4, rel=0.05)
    assert smallest["family_ci_low"] == pytest.approx(0.97, abs=0.005)       # inside the band: rule ci would
    assert smallest["family_ci_low"] < 1.25 < smallest["family_ci_high"]      # leave it inconclusive
    chance = cells.loc["Surinamese × female"]                               # true ratio 1.04
    assert chance["verdict"] == "inconclusive" and chance["estimate"] == pytest.approx(1.32, abs=0.01)
    assert chance["p_family"] == 1.0


def test_language_and_district_stand_in_for_nationality(result) -> None:
    table = result.tables["proxies"]
    flagged = table[table["flagged"].astype(bool)].set_index(["protected", "column"])["strength"]
    assert set(flagged.index) == {("nationality", "language_at_home"), ("nationality", "district"),
                                  ("sex", "household_type")}
    assert flagged[("nationality", "language_at_home")] == pytest.approx(0.644, abs=0.001)
    assert flagged[("nationality", "district")] == pytest.approx(0.333, abs=0.001)
