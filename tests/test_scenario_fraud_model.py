"""The Havenburg fraud-model scenario: the model itself audited on a random evaluation sample.

The figures asserted here are documented in examples/fraud_model/README.md. They are measured with pandas on
the shipped (synthetic) files, on the shipped model (skops and ONNX), and on the audit's result.
"""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
import skops.io as sio
import yaml
from conftest import EXAMPLES, scenario_generator

import audit
from audit.alternatives import AlternativeOptions, find_alternatives
from audit.counterfactual import flip_test
from audit.models import load_model
from audit.spec import ModelSpec

FOLDER = EXAMPLES / "fraud_model"
FEATURES = ["language_at_home", "district", "household_type", "months_on_benefit", "age", "data_match_hits"]
EXPOSED = ["Moroccan", "Turkish", "Syrian", "Polish", "Other EU", "Other"]


@pytest.fixture(scope="module")
def generator():
    return scenario_generator("fraud_model")


@pytest.fixture(scope="module")
def evaluation() -> pd.DataFrame:
    return pd.read_csv(FOLDER / "evaluation.csv")


@pytest.fixture(scope="module")
def result():
    return audit.run(FOLDER / "spec.yaml")


def _model(name: str, features: list[str] = FEATURES):
    return load_model(ModelSpec(path=name, features=features), FOLDER)


def test_both_generators_reproduce_their_files(generator) -> None:
    for frame, name in ((generator.generate(), "evaluation.csv"), (generator.generate_training(), "training.csv")):
        assert frame.to_csv(index=False, lineterminator="\n").encode("utf-8") == (FOLDER / name).read_bytes(), name
    for name in ("model.skops", "model.onnx"):
        assert (FOLDER / name).stat().st_size < 100_000, name
    assert sio.get_untrusted_types(file=FOLDER / "model.skops") == []      # loads without --trust-model


def test_true_fraud_rate_is_the_same_in_every_group(evaluation: pd.DataFrame) -> None:
    from scipy.stats import chi2_contingency

    assert len(evaluation) == 12_000 and "flagged" not in evaluation.columns        # no decision: the model fills it
    assert evaluation["fraud_found"].sum() == 965                                 # 8.0%
    for attribute in ("nationality", "sex"):
        rates = evaluation.groupby(attribute)["fraud_found"].agg(["mean", "size"])
        se = np.sqrt(0.08 * 0.92 / rates["size"])
        assert ((rates["mean"] - 0.08).abs() < 3 * se).all(), rates               # 8% planted for everyone
        assert chi2_contingency(pd.crosstab(evaluation[attribute], evaluation["fraud_found"])).pvalue > 0.05
    assert evaluation["amount_recovered"].notna().equals(evaluation["fraud_found"] == 1)


def test_training_labels_carry_the_recording_bias_and_the_model_learns_it(generator) -> None:
    training = pd.read_csv(FOLDER / "training.csv")
    assert len(training) == 12_000 and training["fraud_found"].mean() == pytest.approx(0.513, abs=1e-3)
    other = training["language_at_home"] != "Dutch"
    campaign = training["district"].isin(["Havendijk", "Kaaipark"])
    recorded = training.groupby([other, campaign])["fraud_found"].mean()
    assert recorded[(False, False)] == pytest.approx(0.355, abs=1e-3)
    assert recorded[(True, True)] == pytest.approx(0.650, abs=1e-3)
    pipeline = sio.load(FOLDER / "model.skops")
    coef = pd.Series(pipeline[-1].coef_[0], index=pipeline[:-1].get_feature_names_out())
    language = coef.filter(like="language_at_home_")
    assert language.drop("categories__language_at_home_Dutch").mean() - language[
        "categories__language_at_home_Dutch"] == pytest.approx(1.40, abs=0.1)     # planted +1.40 on the log-odds
    district = coef.filter(like="district_")
    in_campaign = district.index.str.endswith(("Havendijk", "Kaaipark"))
    assert district[in_campaign].mean() - district[~in_campaign].mean() == pytest.approx(0.90, abs=0.1)
    refitted = generator.train_model(training)[-1]                                 # the shipped model is what
    assert np.allclose(refitted.coef_, pipeline[-1].coef_, atol=1e-6)              # generate.py fits


def test_skops_and_onnx_give_the_same_decisions(evaluation: pd.DataFrame) -> None:
    skops, onnx = _model("model.skops").predict(evaluation), _model("model.onnx").predict(evaluation)
    assert skops.decisions.sum() == 2_225
    assert np.array_equal(skops.decisions, onnx.decisions)
    assert np.abs(skops.scores - onnx.scores).max() < 1e-6                          # ONNX computes in float32
    assert np.abs(skops.scores - 0.5).min() > 1e-5                                  # no row on the edge


def test_the_audit_judges_the_models_decisions(result, evaluation: pd.DataFrame) -> None:
    assert result.provenance.model["filled_columns"] == ["flagged"]
    assert result.spec.spec_version == 2 and {rule.rule for rule in result.spec.policy} == {"significant"}
    assert result.family.size == 46 == 2 * (7 + 1 + 15)
    assert result.verdict_counts() == {"pass": 10, "fail": 36, "inconclusive": 0}
    verdicts = result.verdicts[result.verdicts["attribute"] == "nationality"].set_index(["metric", "group"])
    assert verdicts.loc[("selection_rate", "Syrian"), "estimate"] == pytest.approx(4.82, abs=0.01)
    assert verdicts.loc[("fpr", "Syrian"), "estimate"] == pytest.approx(7.16, abs=0.01)
    surinamese = verdicts.loc[("selection_rate", "Surinamese")]
    assert surinamese["verdict"] == "pass"                                          # estimate 0.99, inside the band,
    assert surinamese["family_ci_low"] < 0.8 and surinamese["family_ci_high"] > 1.25  # but no proof of equality
    flagged = _model("model.skops").predict(evaluation).decisions
    rate = pd.Series(flagged).groupby(evaluation["nationality"]).mean()
    assert verdicts.loc[("selection_rate", "Polish"), "estimate"] == pytest.approx(rate["Polish"] / rate["Dutch"])


def test_the_smallest_planted_cell_fails_on_family_level_evidence(result) -> None:
    cells = result.verdicts[result.verdicts["attribute"] == "nationality × sex"].set_index(["metric", "group"])
    for metric, low in (("selection_rate", 1.389), ("fpr", 1.373)):
        cell = cells.loc[(metric, "Polish × male")]
        assert cell["verdict"] == "fail" and cell["p_family"] < 1e-6
        assert cell["family_ci_low"] == pytest.approx(low, abs=1e-3)               # above 1.25 on this file


def test_the_smallest_planted_cell_is_large_enough_for_the_family(generator) -> None:
    """Polish × male against Dutch × female, from the generator's shares: the family-level test (0.05 / 46)
    detects a selection ratio of 2.18 and a false-positive-rate ratio of 2.68 with 80% power; planted > 3.1, > 4.3."""
    from audit.power import detectable_rates

    def share(nationality: str, sex: str) -> float:
        return (generator.NATIONALITY_P[generator.NATIONALITIES.index(nationality)]
                * generator.SEX_P[generator.SEX.index(sex)])

    n, reference_n = generator.DEFAULT_N * share("Polish", "male"), generator.DEFAULT_N * share("Dutch", "female")
    assert (round(n), round(reference_n)) == (166, 3888)
    innocent = 0.92                                                                  # the true rate is 8% everywhere
    found = {}
    # Dutch rates of the shipped model on the evaluation population (README, "Ground truth"): 9.9% and 6.3%
    for metric, reference_rate, fraction in (("selection_rate", 0.099, 1.0), ("fpr", 0.063, innocent)):
        _, higher = detectable_rates(reference_rate, n * fraction, reference_n * fraction, alpha=0.05 / 46)
        found[metric] = float(higher) / reference_rate
    assert found == pytest.approx({"selection_rate": 2.18, "fpr": 2.68}, abs=0.01)


def test_flip_test_shows_language_changes_the_decision(result) -> None:
    flips = result.table("flips")
    assert set(flips["attribute"]) == {"language_at_home", "district", "household_type"}   # the flagged proxies
    language = flips[flips["attribute"] == "language_at_home"].set_index(["group", "set_to"])
    to_other = language.loc[[("Dutch", v) for v in ("Arabic", "Tamazight", "Turkish", "Polish", "English", "other")]]
    assert to_other["rows"].eq(7_841).all()
    assert to_other["flip_rate"].between(0.16, 0.19).all()                        # about 1 Dutch speaker in 6
    assert (to_other["to_positive"] == to_other["flips"]).all()                     # every flip is a new flag
    back = language.loc[[(v, "Dutch") for v in ("Arabic", "Tamazight", "Turkish", "Polish", "English", "other")]]
    assert back["flip_rate"].between(0.15, 0.35).all() and (back["to_negative"] == back["flips"]).all()
    household = flips[flips["attribute"] == "household_type"]
    assert household["flip_rate"].max() < 0.01                                     # a proxy of sex the model barely uses
    assert result.table("flip_rows")["row"].between(1, 12_000).all()


def test_flipping_a_column_the_model_does_not_read_changes_nothing(evaluation: pd.DataFrame) -> None:
    model = _model("model.skops", FEATURES + ["nationality", "sex"])               # handed over, then ignored
    baseline = model.predict(evaluation)
    found = flip_test(evaluation, model, ["nationality", "sex"], baseline=baseline,
                      row_numbers=np.arange(1, len(evaluation) + 1))
    assert len(found.flips) == 8 * 7 + 2 and found.flips["flips"].sum() == 0
    assert found.rows.empty


def test_a_threshold_alternative_cuts_the_false_positive_rate_gap() -> None:
    spec = yaml.safe_load((FOLDER / "spec.yaml").read_text(encoding="utf-8"))
    spec["data"]["path"] = str(FOLDER / "evaluation.csv")
    spec["model"]["path"] = str(FOLDER / "model.skops")
    del spec["training"]                                                            # re-training takes minutes
    frontier = find_alternatives(spec, options=AlternativeOptions(constraints=("equalized_odds",)))
    table = frontier.table.set_index("alternative")
    current, fair = table.loc["current model"], table.loc["thresholds: equalized odds"]
    assert frontier.rows_judged == 6_000 and frontier.reference == "Dutch"
    assert current["fpr_gap"] == pytest.approx(0.388, abs=1e-3) and abs(fair["fpr_gap"]) < 0.03
    assert current["accuracy"] == pytest.approx(0.828, abs=1e-3) and fair["accuracy"] > current["accuracy"]
    assert fair["utility"] < current["utility"] - 0.05                              # balanced accuracy falls
