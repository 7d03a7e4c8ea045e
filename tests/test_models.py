"""Model access: safe loading, decisions from the model, the flip test, fairlearn alternatives, custom metrics."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
import yaml

import audit
from audit.alternatives import AlternativeOptions, find_alternatives, split_rows
from audit.errors import ReasonCode
from model_helpers import (Doubler, ShortPredictor, fitted_pipeline, people, planted_pipeline, save_onnx,
                           save_pickle)

FEATURES = ["income", "age", "group"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """Rows without a decision column, and the same fitted pipeline as skops, ONNX, pickle and joblib."""
    import joblib

    folder = tmp_path_factory.mktemp("models")
    frame = people()
    frame.to_csv(folder / "people.csv", index=False)
    people(1_500, seed=12).to_csv(folder / "train.csv", index=False)          # small: re-training is slow
    pipe = fitted_pipeline(frame)
    sio.dump(pipe, folder / "model.skops")
    save_onnx(pipe, FEATURES, frame, folder / "model.onnx")
    save_pickle(pipe, folder / "model.pkl")
    joblib.dump(pipe, folder / "model.joblib")
    blind = fitted_pipeline(frame, uses_group=False)
    sio.dump(blind, folder / "blind.skops")
    sio.dump(planted_pipeline(frame), folder / "planted.skops")
    doubled = fitted_pipeline(frame)
    doubled.steps.insert(0, ("double", Doubler()))
    doubled.steps[1][1].set_params(transformers=[("num", "passthrough", [0, 1])])
    doubled.fit(frame[["income", "age"]], frame["outcome"])
    sio.dump(doubled, folder / "custom.skops")
    save_pickle(ShortPredictor().fit(frame[FEATURES], frame["outcome"]), folder / "short.pkl")
    return folder


def spec_for(folder: Path, model_file: str, /, **more) -> dict:
    spec = {"system": {"name": "eligibility model"}, "data": {"path": str(folder / "people.csv")},
            "outcome": {"column": "outcome", "positive": 1},
            "decision": {"column": "eligible", "positive": 1},
            "model": {"path": str(folder / model_file), "features": FEATURES},
            "protected": [{"column": "group", "reference": "a"}, {"column": "sex"}],
            "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25], "rule": "ci"}]}
    spec["model"] |= more.pop("model", {})
    return spec | more


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "audit.cli", *args], capture_output=True, text=True, timeout=300)


def test_skops_and_onnx_give_the_same_decisions_and_fill_the_decision_column(workspace) -> None:
    frame = people()
    pipe = fitted_pipeline(frame)
    skops_result = audit.run(spec_for(workspace, "model.skops"))
    onnx_result = audit.run(spec_for(workspace, "model.onnx"))
    pd.testing.assert_frame_equal(skops_result.groups, onnx_result.groups)
    expected = pipe.predict(frame[FEATURES])
    groups = skops_result.groups
    selected = groups[(groups["metric"] == "selection_rate") & (groups["attribute"] == "group")]
    for row in selected.itertuples():
        assert row.value == pytest.approx(expected[frame["group"] == row.group].mean(), abs=1e-12)
    model = skops_result.provenance.model
    assert model["format"] == "skops" and model["filled_columns"] == ["eligible"] and len(model["sha256"]) == 64
    assert onnx_result.provenance.model["format"] == "onnx"
    assert skops_result.provenance.data.sha256 == audit.run({**spec_for(workspace, "model.skops"),
                                                             "model": None, "decision": {"column": "outcome"}}
                                                            ).provenance.data.sha256   # the file, as read
    assert any("filled column(s) eligible" in note for note in skops_result.notes)


def test_a_score_column_is_filled_with_the_probability(workspace) -> None:
    frame = people()
    spec = spec_for(workspace, "model.onnx", score={"column": "p", "threshold": [0.5]})
    del spec["decision"]
    result = audit.run(spec)
    expected = fitted_pipeline(frame).predict_proba(frame[FEATURES])[:, 1] >= 0.5
    rates = result.groups[(result.groups["metric"] == "selection_rate") & (result.groups["attribute"] == "sex")]
    for row in rates.itertuples():
        assert row.value == pytest.approx(expected[frame["sex"] == row.group].mean(), abs=1e-12)


def test_pickle_and_joblib_are_refused_without_trust_model(workspace, tmp_path) -> None:
    for name in ("model.pkl", "model.joblib"):
        with pytest.raises(audit.UsageError, match="runs whatever code it contains.*--trust-model") as caught:
            audit.run(spec_for(workspace, name))
        assert caught.value.reason is ReasonCode.MODEL_REFUSED
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(spec_for(workspace, "model.pkl")))
    refused = cli("run", str(spec), "-q")
    assert refused.returncode == 2 and "pickle file" in refused.stderr and "--trust-model" in refused.stderr
    trusted = cli("run", str(spec), "-q", "--trust-model")
    assert trusted.returncode in (0, 1), trusted.stderr
    pd.testing.assert_frame_equal(audit.run(spec_for(workspace, "model.pkl"), trust_model=True).groups,
                                  audit.run(spec_for(workspace, "model.skops")).groups)


def test_a_trust_switch_in_the_spec_is_refused(workspace) -> None:
    with pytest.raises(audit.SpecError, match="model.trust"):
        audit.run(spec_for(workspace, "model.pkl", model={"trust": True}))


def test_skops_types_outside_the_trusted_set_are_named_and_need_trust(workspace) -> None:
    spec = spec_for(workspace, "custom.skops", model={"features": ["income", "age"]})
    with pytest.raises(audit.UsageError, match="model_helpers.Doubler.*--trust-model"):
        audit.run(spec)
    result = audit.run(spec, trust_model=True)
    assert result.provenance.model["format"] == "skops"


def test_model_errors_name_the_field_and_exit_2(workspace, tmp_path) -> None:
    with pytest.raises(audit.DataError, match="model.features: column 'incme' is not in the data "
                                              r"\(did you mean 'income'\?\)") as caught:
        audit.run(spec_for(workspace, "model.skops", model={"features": ["incme", "age", "group"]}))
    assert caught.value.reason is ReasonCode.COLUMN_NOT_FOUND
    with pytest.raises(audit.DataError, match=r"returned predictions of shape \(5999,\) for 6,000 rows"):
        audit.run(spec_for(workspace, "short.pkl"), trust_model=True)
    with pytest.raises(audit.DataError, match="model file .*missing.skops' not found"):
        audit.run(spec_for(workspace, "missing.skops"))
    (tmp_path / "broken.onnx").write_bytes(b"not a graph")
    with pytest.raises(audit.DataError, match="'broken.onnx' is not a valid ONNX model"):
        audit.run(spec_for(tmp_path, "broken.onnx") | {"data": {"path": str(workspace / "people.csv")}})
    with pytest.raises(audit.UsageError, match="'model.h5' is not a model file this toolkit reads"):
        audit.run(spec_for(workspace, "model.h5"))
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(spec_for(workspace, "model.skops", model={"features": ["incme", "age", "group"]})))
    done = cli("run", str(spec))
    assert done.returncode == 2 and "model.features: column 'incme'" in done.stderr and "Traceback" not in done.stderr


def test_flip_test_finds_nothing_for_a_model_blind_to_the_attribute(workspace) -> None:
    result = audit.run(spec_for(workspace, "blind.skops"))
    flips = result.table("flips")
    assert set(flips["attribute"]) == {"group"} and len(flips) == 6          # 3 groups x 2 other values
    assert flips["flips"].sum() == 0 and flips["flip_rate"].max() == 0
    assert (flips["ci_high"] > 0).all() and (flips["ci_low"] == 0).all()      # Wilson: zero, with uncertainty
    assert result.table("flip_rows").empty


def test_flip_test_reports_the_planted_rate_per_group_and_direction(workspace) -> None:
    frame = people()
    result = audit.run(spec_for(workspace, "planted.skops", model={"features": ["income", "group"]}))
    flips = result.table("flips").set_index(["group", "set_to"])
    band = (frame["income"] >= 30) & (frame["income"] < 50)
    for own, other in [("a", "b"), ("c", "b"), ("b", "a"), ("b", "c"), ("a", "c"), ("c", "a")]:
        rows = frame["group"] == own
        planted = band[rows].mean() if "b" in (own, other) else 0.0
        row = flips.loc[(own, other)]
        assert row["rows"] == rows.sum()
        assert row["flip_rate"] == pytest.approx(planted, abs=1e-12)
        toward = "to_positive_rate" if other == "b" else "to_negative_rate"
        assert row[toward] == pytest.approx(planted, abs=1e-12)
        assert row["ci_low"] <= planted <= row["ci_high"]
    sensitive = result.table("flip_rows")
    assert len(sensitive) == 20 and sensitive["decision_flips"].all()
    assert set(sensitive.columns) == {"attribute", "row", "group", "largest_change_to", "score_change",
                                      "decision_flips"}                       # row numbers only, no data
    listed = frame.iloc[sensitive["row"].to_numpy() - 1]
    assert band[listed.index].all()


def test_flip_test_covers_flagged_proxies_the_model_takes(workspace) -> None:
    spec = spec_for(workspace, "planted.skops", model={"features": ["income", "group"]},
                    protected=[{"column": "sex"}], proxies={"threshold": 1e-9, "columns": ["group"]})
    result = audit.run(spec)
    assert set(result.table("flips")["attribute"]) == {"group"}


def test_frontier_points_equal_fairlearn_called_directly(workspace) -> None:
    from fairlearn.metrics import MetricFrame, false_positive_rate
    from fairlearn.postprocessing import ThresholdOptimizer
    from sklearn.metrics import accuracy_score

    frame = people()
    pipe = fitted_pipeline(frame)
    spec = spec_for(workspace, "model.skops")
    frontier = find_alternatives(spec, options=AlternativeOptions(constraints=("equalized_odds",
                                                                               "demographic_parity")))
    fit, judged = split_rows(len(frame), 0.5, 20240601)
    X, y, s = frame[FEATURES], frame["outcome"].to_numpy(), frame["group"].to_numpy()
    table = frontier.table.set_index("constraint")
    for constraint in ("equalized_odds", "demographic_parity"):
        direct = ThresholdOptimizer(estimator=pipe, constraints=constraint, prefit=True,
                                    predict_method="predict_proba").fit(X.iloc[fit], y[fit], sensitive_features=s[fit])
        decisions = direct.predict(X.iloc[judged], sensitive_features=s[judged], random_state=20240601)
        assert table.loc[constraint, "accuracy"] == pytest.approx(accuracy_score(y[judged], decisions), abs=1e-12)
        by_group = MetricFrame(metrics=false_positive_rate, y_true=y[judged], y_pred=decisions,
                               sensitive_features=s[judged]).by_group
        gaps = by_group.drop("a") - by_group["a"]
        assert table.loc[constraint, "fpr_gap"] == pytest.approx(gaps.loc[gaps.abs().idxmax()], abs=1e-12)
    current = frontier.table[frontier.table["current"]].iloc[0]
    assert current["accuracy"] == pytest.approx(accuracy_score(y[judged], pipe.predict(X.iloc[judged])), abs=1e-12)
    assert frontier.sentence("fpr").startswith(("an alternative exists", "no alternative"))


def test_retrained_alternatives_equal_exponentiated_gradient(workspace, tmp_path) -> None:
    from fairlearn.reductions import DemographicParity, ExponentiatedGradient
    from sklearn.base import clone

    frame, train = people(), people(1_500, seed=12)
    spec = spec_for(workspace, "model.skops", training={"path": str(workspace / "train.csv")})
    frontier = find_alternatives(spec, options=AlternativeOptions(constraints=("demographic_parity",),
                                                                  bounds=(0.05,)))
    retrained = frontier.table[frontier.table["method"] == "ExponentiatedGradient"].iloc[0]
    _, judged = split_rows(len(frame), 0.5, 20240601)
    mitigator = ExponentiatedGradient(clone(fitted_pipeline(frame)), DemographicParity(difference_bound=0.05),
                                      sample_weight_name="logisticregression__sample_weight")
    mitigator.fit(train[FEATURES], train["outcome"], sensitive_features=train["group"])
    decisions = mitigator.predict(frame[FEATURES].iloc[judged], random_state=20240601)
    assert retrained["accuracy"] == pytest.approx((decisions == frame["outcome"].to_numpy()[judged]).mean(), abs=1e-12)
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(spec_for(workspace, "model.onnx",
                                                 training={"path": str(workspace / "train.csv")})))
    done = cli("alternatives", str(spec_file), "--out", str(tmp_path / "alt"), "--constraint", "demographic_parity")
    assert done.returncode == 2 and "re-training needs a scikit-learn estimator" in done.stderr


def test_alternatives_command_writes_the_frontier(workspace, tmp_path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(spec_for(workspace, "model.skops")))
    done = cli("alternatives", str(spec), "--out", str(tmp_path / "alt"), "--utility", "tpr")
    assert done.returncode == 0, done.stderr
    assert "gap by group from" in done.stdout
    table = pd.read_csv(tmp_path / "alt" / "alternatives.csv")
    assert list(table["alternative"])[0] == "current model" and len(table) == 4
    assert (tmp_path / "alt" / "alternatives.svg").read_text().startswith("<svg")
    bad = cli("alternatives", str(spec), "--out", str(tmp_path / "alt2"), "--attribute", "income")
    assert bad.returncode == 2 and "'income' is not a protected column" in bad.stderr


def test_custom_metric_equals_metricframe(workspace) -> None:
    from fairlearn.metrics import MetricFrame
    from sklearn.metrics import matthews_corrcoef

    frame = people()
    spec = spec_for(workspace, "model.skops", intersections=[["group", "sex"]],
                    custom_metrics=[{"name": "mcc", "function": "sklearn.metrics:matthews_corrcoef",
                                     "replicates": 50}])
    result = audit.run(spec)
    table = result.table("custom_metrics")
    decisions = fitted_pipeline(frame).predict(frame[FEATURES])
    for attribute in ("group", "sex"):
        direct = MetricFrame(metrics=matthews_corrcoef, y_true=frame["outcome"], y_pred=decisions,
                             sensitive_features=frame[attribute]).by_group
        ours = table[table["attribute"] == attribute].set_index("group")["value"]
        for group, value in direct.items():
            assert ours[group] == pytest.approx(value, abs=1e-12)
    cells = table[table["attribute"] == "group × sex"]
    assert len(cells) == 6 and (cells["source"] == "custom (fairlearn MetricFrame)").all()
    assert (cells["ci_low"] <= cells["value"]).all() and (cells["value"] <= cells["ci_high"]).all()
    with pytest.raises(audit.SpecError, match=r"custom_metrics\[0\].function: module 'sklearn.metrics' has no "
                                              "function 'nope'"):
        audit.run({**spec, "custom_metrics": [{"name": "x", "function": "sklearn.metrics:nope"}]})


def test_an_alternative_that_flags_nobody_is_judged_not_refused() -> None:
    from audit.alternatives import judge

    y = np.array([1, 0, 0, 1, 0, 0, 0, 1])
    groups = np.array(["a", "a", "a", "a", "b", "b", "b", "unknown"])
    row = judge(np.zeros(8, dtype=int), y, groups, reference="a", utility="tpr")
    assert row["accuracy"] == pytest.approx(5 / 8) and row["utility"] == 0.0
    assert row["selection_rate_gap"] == 0.0 and row["fpr_gap"] == 0.0
    assert np.isnan(row["fnr_gap"])              # group b has no actual positive: undefined, not compared
    flagged = judge(np.array([1, 1, 0, 0, 1, 0, 0, 0]), y, groups, reference="a", utility="ppv")
    assert flagged["selection_rate_gap"] == pytest.approx(1 / 3 - 1 / 2)
    assert flagged["fpr_gap"] == pytest.approx(1 / 3 - 1 / 2) and flagged["utility"] == pytest.approx(1 / 3)


def test_validate_checks_the_model_and_lets_it_fill_the_decision(workspace, tmp_path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(spec_for(workspace, "model.skops")))
    done = cli("validate", str(spec))
    assert done.returncode == 0, done.stderr
    assert "model: model.skops (skops, sha256" in done.stdout and "3 features are in the data" in done.stdout
    spec.write_text(yaml.safe_dump(spec_for(workspace, "model.pkl")))
    refused = cli("validate", str(spec))
    assert refused.returncode == 2 and "--trust-model" in refused.stderr
    assert cli("validate", str(spec), "--trust-model").returncode == 0


def test_published_outputs_suppress_small_flip_counts_and_never_show_row_numbers(workspace) -> None:
    from audit.suppression import suppress

    result = audit.run(spec_for(workspace, "planted.skops", model={"features": ["income", "group"]}))
    public = suppress(result, 10)
    flips = public.tables["flips"].set_index(["group", "set_to"])
    zero = flips.loc[("a", "c")]                           # the planted model never flips a and c
    assert zero["flips"] == "< 10" and pd.isna(zero["flip_rate"]) and pd.isna(zero["ci_high"])
    planted = flips.loc[("a", "b")]
    assert planted["flips"] == int(result.table("flips").set_index(["group", "set_to"]).loc[("a", "b"), "flips"])
    assert planted["flip_rate"] == pytest.approx(result.table("flips").set_index(["group", "set_to"])
                                                 .loc[("a", "b"), "flip_rate"])
    assert planted["to_negative"] == "< 10" and planted["to_positive"] == "withheld"   # 0 + flips: both held
    assert pd.isna(planted["to_positive_rate"]) and pd.isna(planted["to_negative_rate"])
    assert public.tables["flip_rows"].empty and len(result.table("flip_rows")) == 20


def test_a_custom_metric_that_raises_on_a_group_is_undefined_there_not_a_crash() -> None:
    from audit.custom_metrics import custom_metric_table
    from audit.spec import validate_spec

    spec = validate_spec({"system": {"name": "x"}, "outcome": {"column": "y"}, "decision": {"column": "d"},
                          "protected": [{"column": "g"}],
                          "custom_metrics": [{"name": "auc", "function": "sklearn.metrics:roc_auc_score",
                                              "replicates": 20}]})
    frame = pd.DataFrame({"g": ["a"] * 40 + ["b"] * 40})
    y = np.array([0, 1] * 20 + [1] * 40)                   # group b has only positives: AUC undefined
    d = np.array([0, 1] * 20 + [1, 0] * 20)
    table = custom_metric_table(spec, frame, y, d, None).set_index(["attribute", "group"])
    assert table.loc[("g", "a"), "value"] == 1.0 and table.loc[("g", "a"), "status"] == "ok"
    assert np.isnan(table.loc[("g", "b"), "value"]) and table.loc[("g", "b"), "status"].startswith("undefined: ")


def test_spec_checks_for_flip_attributes_and_score_input() -> None:
    base = {"system": {"name": "x"}, "outcome": {"column": "y"}, "decision": {"column": "d"},
            "protected": [{"column": "g"}]}
    with pytest.raises(audit.SpecError, match=r"model.flip_attributes\[0\]: 'sex' is not among model.features"):
        audit.spec.validate_spec(base | {"model": {"path": "m.skops", "features": ["g"], "flip_attributes": ["sex"]}})
    with pytest.raises(audit.SpecError, match=r"custom_metrics\[0\].input: 'score' passes the score"):
        audit.spec.validate_spec(base | {"custom_metrics": [{"name": "m", "function": "a:b", "input": "score"}]})


def test_training_data_with_one_outcome_is_a_named_error(workspace, tmp_path) -> None:
    train = people(300, seed=3).assign(outcome=0)
    train.to_csv(tmp_path / "train.csv", index=False)
    spec = spec_for(workspace, "model.skops", training={"path": str(tmp_path / "train.csv")})
    with pytest.raises(audit.DataError, match="training.path: the outcome 'outcome' of 'train.csv' has one value "
                                              "only"):
        find_alternatives(spec, options=AlternativeOptions(constraints=("demographic_parity",), bounds=(0.1,)))


def test_text_features_are_typed_as_pandas_read_csv_would() -> None:
    import pandas as pd

    from audit.models import as_read_csv_would

    numbers = as_read_csv_would(pd.Series(["007", "1.5", None], dtype="string"))
    assert numbers.tolist()[:2] == [7.0, 1.5] and pd.isna(numbers.iloc[2])
    words = as_read_csv_would(pd.Series(["yes", "no", "1"], dtype="string"))
    assert words.dtype == object and words.tolist() == ["yes", "no", "1"]      # a model trained on the strings
    typed = pd.Series([1, 2, 3])
    assert as_read_csv_would(typed) is typed
