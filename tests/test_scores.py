"""Scores: AUC, calibration, KS, thresholds (cut-off, top-k, top-%), the LL144 scoring rate, capacity, sweep."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score

import audit

sys.path.insert(0, str(Path(__file__).parent))
import beyond  # noqa: E402

FRAME = beyond.make_rows(6000, seed=3)


@pytest.fixture(scope="module")
def result() -> audit.AuditResult:
    spec = beyond.spec(**{k: v for k, v in beyond.SCORE_SPEC.items() if k not in beyond.BASE})
    spec["score"]["sweep"] = {"start": 0.2, "stop": 0.8, "steps": 13}
    return audit.run(spec, FRAME)


def _rows(attribute: str, group: str) -> pd.DataFrame:
    return FRAME[FRAME[attribute] == group]


def test_auc_per_group_equals_sklearn_with_ties(result: audit.AuditResult) -> None:
    auc = result.groups.query("metric == 'auc' and attribute == 'ethnicity'").set_index("group")
    for group in ("A", "B", "C"):
        rows = _rows("ethnicity", group)
        assert auc.loc[group, "value"] == pytest.approx(roc_auc_score(rows["outcome"], rows["probability"]),
                                                        abs=1e-9)
        assert auc.loc[group, "ci_low"] < auc.loc[group, "value"] < auc.loc[group, "ci_high"]
    assert auc.loc["unknown", "n"] == FRAME["ethnicity"].isna().sum()


def test_calibration_table_equals_sklearn(result: audit.AuditResult) -> None:
    table = result.table("calibration").query("attribute == 'sex' and group == 'F'")
    rows = _rows("sex", "F")
    prob_true, prob_pred = calibration_curve(rows["outcome"], rows["probability"], n_bins=10)
    np.testing.assert_allclose(table["observed_rate"], prob_true, atol=1e-12)
    np.testing.assert_allclose(table["mean_predicted"], prob_pred, atol=1e-12)
    brier = result.groups.query("metric == 'brier' and attribute == 'sex' and group == 'F'")["value"].iloc[0]
    assert brier == pytest.approx(np.mean((rows["probability"] - rows["outcome"]) ** 2), abs=1e-12)


def test_ks_equals_scipy(result: audit.AuditResult) -> None:
    tests = result.table("tests").query("attribute == 'ethnicity' and group == 'B'").iloc[0]
    expected = sps.ks_2samp(_rows("ethnicity", "B")["probability"], _rows("ethnicity", "A")["probability"])
    assert tests["statistic"] == pytest.approx(expected.statistic, abs=1e-12)
    assert tests["p_value"] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


def test_thresholds_top_k_top_percent_and_median(result: audit.AuditResult) -> None:
    thresholds = result.table("thresholds").set_index("view")
    scores = FRAME["probability"].to_numpy()
    kth = np.sort(scores)[::-1][499]
    assert thresholds.loc["top 500", "cutoff"] == kth
    assert thresholds.loc["top 500", "acted_on"] == (scores >= kth).sum() >= 500
    k10 = int(np.ceil(0.1 * len(scores)))
    assert thresholds.loc["top 10%", "cutoff"] == np.sort(scores)[::-1][k10 - 1]
    median = np.median(scores)
    assert thresholds.loc["above median (LL144)", "requested"] == median
    rate = result.groups.query("metric == 'scoring_rate' and attribute == 'ethnicity'").set_index("group")
    for group in ("A", "B"):
        rows = _rows("ethnicity", group)
        assert rate.loc[group, "value"] == (rows["probability"] > median).mean()
    impact = result.comparisons.query("metric == 'scoring_rate' and attribute == 'ethnicity'")
    assert impact["impact_ratio"].notna().all()


def test_each_threshold_is_its_own_view(result: audit.AuditResult) -> None:
    sel = result.groups.query("metric == 'selection_rate' and attribute == 'ethnicity' and group == 'B'")
    by_view = sel.set_index("view")["value"]
    rows = _rows("ethnicity", "B")["probability"]
    assert by_view["score ≥ 0.5"] == (rows >= 0.5).mean()
    cut = result.table("thresholds").set_index("view").loc["top 500", "cutoff"]
    assert by_view["top 500"] == (rows >= cut).mean()
    assert set(result.verdicts["view"]) >= {"score ≥ 0.5", "top 500", "top 10%", "score"}


def test_capacity_shares(result: audit.AuditResult) -> None:
    capacity = result.table("capacity").query("view == 'top 500' and attribute == 'ethnicity'").set_index("group")
    cut = result.table("thresholds").set_index("view").loc["top 500", "cutoff"]
    acted = FRAME[FRAME["probability"] >= cut]
    for group in ("A", "B", "C"):
        assert capacity.loc[group, "share_of_acted"] == pytest.approx((acted["ethnicity"] == group).mean(), abs=1e-15)
        assert capacity.loc[group, "share_of_population"] == pytest.approx((FRAME["ethnicity"] == group).mean(),
                                                                           abs=1e-15)
        positives = FRAME[FRAME["outcome"] == 1]
        assert capacity.loc[group, "share_of_positives"] == pytest.approx((positives["ethnicity"] == group).mean(),
                                                                          abs=1e-15)
        assert capacity.loc[group, "share_of_acted_ci_low"] <= capacity.loc[group, "share_of_acted"]
    assert capacity["share_of_acted"].sum() == pytest.approx(1.0)
    assert capacity.loc["B", "representation_ratio"] > 1.2  # the planted disparity


def test_sweep_equals_a_plain_audit_at_each_threshold(result: audit.AuditResult) -> None:
    sweep_groups, sweep_comparisons = result.table("sweep_groups"), result.table("sweep_comparisons")
    assert sweep_groups["threshold"].nunique() == 13
    for threshold in (0.2, 0.45, 0.5, 0.8):
        spec = beyond.spec(**{k: v for k, v in beyond.SCORE_SPEC.items() if k not in beyond.BASE})
        spec["score"]["threshold"] = threshold
        plain = audit.run(spec, FRAME)
        view = f"score ≥ {threshold:g}"
        expected_groups = plain.groups[plain.groups["view"] == view].reset_index(drop=True)
        got_groups = sweep_groups[np.isclose(sweep_groups["threshold"], threshold)].drop(columns="threshold")
        derived = expected_groups["metric"].isin(["balanced_accuracy", "f1"])
        cols = ["view", "attribute", "group", "metric", "value", "n", "numerator", "denominator", "status"]
        pd.testing.assert_frame_equal(got_groups.reset_index(drop=True)[cols], expected_groups[cols],
                                      check_exact=True)
        interval = ["ci_low", "ci_high"]
        pd.testing.assert_frame_equal(got_groups.reset_index(drop=True).loc[~derived, interval],
                                      expected_groups.loc[~derived, interval], check_exact=True)
        expected = plain.comparisons[plain.comparisons["view"] == view].reset_index(drop=True)
        got = sweep_comparisons[np.isclose(sweep_comparisons["threshold"], threshold)].reset_index(drop=True)
        proportion = ~expected["metric"].isin(["balanced_accuracy", "f1"])
        for column in ("value", "reference_value", "ratio", "ratio_ci_low", "ratio_ci_high", "difference",
                       "difference_ci_low", "difference_ci_high", "p_value", "p_adjusted"):
            np.testing.assert_array_equal(got.loc[proportion, column].to_numpy(dtype=float),
                                          expected.loc[proportion, column].to_numpy(dtype=float), err_msg=column)


@pytest.mark.parametrize("column", ["points", "probability"])
def test_engines_agree_on_scores(column: str) -> None:
    spec = beyond.spec(**{k: v for k, v in beyond.SCORE_SPEC.items() if k not in beyond.BASE})
    spec["score"]["column"] = column
    spec["score"]["threshold"] = [50 if column == "points" else 0.5, {"top_k": 300}]
    a = audit.run(spec, FRAME)
    b = audit.run(dict(spec, data={"where": "TRUE"}), FRAME)
    pd.testing.assert_frame_equal(a.groups, b.groups, check_exact=True)
    pd.testing.assert_frame_equal(a.comparisons, b.comparisons, check_exact=True)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], check_exact=True, obj=name)


def test_continuous_score_is_binned_with_exact_cutoffs_and_a_stated_auc_bound() -> None:
    rng = np.random.default_rng(5)
    tripled = pd.concat([FRAME] * 3, ignore_index=True)  # 18,000 rows: more distinct values than counted exactly
    frame = tripled.assign(continuous=tripled["probability"] + rng.normal(0, 0.01, len(tripled)))
    spec = beyond.spec(**{k: v for k, v in beyond.SCORE_SPEC.items() if k not in beyond.BASE})
    spec["score"].update(column="continuous", threshold=[0.5, {"top_k": 300}], probability=False)
    for data_spec in ({}, {"where": "TRUE"}):
        result = audit.run(dict(spec, data=data_spec), frame)
        assert any("distinct values and was counted" in n for n in result.notes)
        sel = result.groups.query("metric == 'selection_rate' and attribute == 'ethnicity' and group == 'B'")
        rows = frame[frame["ethnicity"] == "B"]["continuous"].to_numpy()
        by_view = sel.set_index("view")["value"]
        assert by_view["score ≥ 0.5"] == (rows >= 0.5).mean()
        kth = np.sort(frame["continuous"].to_numpy())[::-1][299]
        assert by_view["top 300"] == (rows >= kth).mean()
        auc = result.table("auc").query("attribute == 'ethnicity' and group == 'B'").iloc[0]
        exact = roc_auc_score(frame[frame["ethnicity"] == "B"]["outcome"], rows)
        assert not auc["exact"] and 0 < auc["error_bound"] < 0.01
        assert abs(auc["auc"] - exact) <= auc["error_bound"]


def test_top_k_larger_than_the_population_is_refused() -> None:
    spec = beyond.spec(**{k: v for k, v in beyond.SCORE_SPEC.items() if k not in beyond.BASE})
    spec["score"]["threshold"] = [{"top_k": 10_000}]
    with pytest.raises(audit.DataError, match="asks for the 10,000 highest scores, but only 6,000"):
        audit.run(spec, FRAME)


def test_a_binned_probability_keeps_its_calibration_table_exact() -> None:
    rng = np.random.default_rng(11)
    tripled = pd.concat([FRAME] * 3, ignore_index=True)
    noisy = np.clip(tripled["probability"] + rng.normal(0, 0.02, len(tripled)), 0, 1)
    noisy[:40] = 0.3  # values exactly on a calibration edge belong to the lower bin, as in scikit-learn
    frame = tripled.assign(continuous=noisy)
    spec = beyond.spec(**{k: v for k, v in beyond.SCORE_SPEC.items() if k not in beyond.BASE})
    spec["score"].update(column="continuous", threshold=0.5, probability=True)
    result = audit.run(spec, frame)
    assert any("distinct values and was counted" in n for n in result.notes)
    table = result.table("calibration").query("attribute == 'sex' and group == 'F'")
    rows = frame[frame["sex"] == "F"]
    prob_true, prob_pred = calibration_curve(rows["outcome"], rows["continuous"], n_bins=10)
    np.testing.assert_allclose(table["observed_rate"], prob_true, rtol=1e-12)
    np.testing.assert_allclose(table["mean_predicted"], prob_pred, rtol=1e-9)
