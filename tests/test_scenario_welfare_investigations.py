"""The Havenburg welfare-investigations scenario: selective labels, top-k capacity and proxies of nationality.

The figures asserted here are documented in examples/welfare_investigations/README.md. They are measured
with pandas on the shipped (synthetic) CSV, on the generator's hidden truth, and on the audit's result.
"""

from __future__ import annotations

import importlib.util

import pandas as pd
import pytest
from conftest import EXAMPLES

import audit

FOLDER = EXAMPLES / "welfare_investigations"
EXPOSED = ["Moroccan", "Turkish", "Syrian", "Polish", "Other EU", "Other"]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(FOLDER / "welfare_investigations.csv")


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    spec = importlib.util.spec_from_file_location("welfare_investigations_generate", FOLDER / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate(with_truth=True)


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


def test_every_fpr_verdict_is_inconclusive_and_says_why(result) -> None:
    fpr = result.verdicts[result.verdicts["metric"] == "fpr"]
    assert len(fpr) == 23 and set(fpr["verdict"]) == {"inconclusive"}
    assert fpr["selective_labels"].all()
    refused = fpr["reason"].str.contains("selective labels")
    too_small = fpr["reason"].str.startswith("too few people")
    assert (refused | too_small).all() and refused.sum() == 16 and too_small.sum() == 7


def test_selection_rate_fails_for_the_exposed_nationalities(result) -> None:
    v = result.verdicts
    chosen = v[(v["metric"] == "selection_rate") & (v["attribute"] == "nationality")].set_index("group")
    assert set(chosen.index[chosen["verdict"] == "fail"]) == set(EXPOSED)
    assert chosen.loc["Surinamese", "verdict"] == "inconclusive"
    assert chosen.loc["Syrian", "estimate"] == pytest.approx(4.40, abs=0.01)
    assert v[(v["metric"] == "selection_rate") & (v["attribute"] == "sex")]["verdict"].tolist() == ["pass"]


def test_language_and_district_stand_in_for_nationality(result) -> None:
    table = result.tables["proxies"]
    flagged = table[table["flagged"].astype(bool)].set_index(["protected", "column"])["strength"]
    assert set(flagged.index) == {("nationality", "language_at_home"), ("nationality", "district"),
                                  ("sex", "household_type")}
    assert flagged[("nationality", "language_at_home")] == pytest.approx(0.644, abs=0.001)
    assert flagged[("nationality", "district")] == pytest.approx(0.333, abs=0.001)
