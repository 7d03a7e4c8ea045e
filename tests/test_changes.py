"""Comparing two audits of one system: rates, disparities and verdicts, checked against scipy and statsmodels."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

import audit
from audit.changes import RATE_METRICS, Changes, compare_results
from audit.errors import DataError, UsageError
from conftest import BASE_SPEC, synthetic

TINY = 8  # people in group 'd', all with a positive outcome: its false-positive rate is undefined


def round_frame(seed: int, *, planted: bool = False) -> pd.DataFrame:
    """One round of the synthetic audit; ``planted`` raises group c's flag rate from about 0.28 to 0.7."""
    frame = synthetic(seed=seed)
    rng = np.random.default_rng(seed + 1000)
    tiny = pd.DataFrame({"group": "d", "sex": rng.choice(["f", "m"], TINY), "y": 1,
                         "d": (rng.random(TINY) < 0.3).astype(int), "w": rng.uniform(0.5, 2.0, TINY)})
    frame = pd.concat([frame, tiny], ignore_index=True)
    if planted:
        c = frame["group"] == "c"
        frame.loc[c, "d"] = (rng.random(int(c.sum())) < 0.7).astype(int)
    return frame


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return {"first": round_frame(1), "second": round_frame(2, planted=True)}


@pytest.fixture(scope="module")
def rounds(frames) -> dict[str, audit.AuditResult]:
    return {name: audit.run(BASE_SPEC, frame) for name, frame in frames.items()}


@pytest.fixture(scope="module")
def changes(rounds) -> Changes:
    return compare_results(rounds["first"], rounds["second"])


def row(table: pd.DataFrame, **keys: str) -> pd.Series:
    chosen = table
    for key, value in keys.items():
        chosen = chosen[chosen[key] == value]
    assert len(chosen) == 1, keys
    return chosen.iloc[0]


def test_a_planted_change_is_significant_and_its_verdict_regresses(changes: Changes) -> None:
    rate = row(changes.rates, view="decision", attribute="group", group="c", metric="selection_rate")
    assert rate["status"] == "ok" and rate["change"] > 0.3 and rate["change_ci_low"] > 0.3
    assert rate["significant"] and rate["p_adjusted"] < 1e-6
    disparity = row(changes.disparities, view="decision", attribute="group", group="c", metric="selection_rate")
    assert disparity["significant"] and disparity["moved_beyond_intervals"] and disparity["log_ratio_change"] > 0.5
    verdict = row(changes.verdicts, rule="selection_rate ratio in [0.8, 1.25] (ci)", view="decision",
                  attribute="group", group="c")
    # Before: a rate near the reference's, but the family interval reaches past the band (inconclusive).
    assert (verdict["old_verdict"], verdict["new_verdict"], verdict["change"]) == ("inconclusive", "fail",
                                                                                 "regressed")
    assert verdict["cause"] == "data"
    assert changes.regression and changes.summary().verdicts_regressed >= 1
    untouched = row(changes.rates, view="decision", attribute="group", group="a", metric="selection_rate")
    assert not untouched["significant"]


def test_a_round_compared_with_itself_changes_nothing(rounds) -> None:
    same = compare_results(rounds["first"], rounds["first"])
    ok = same.rates["status"] == "ok"
    assert ok.sum() > 100 and (same.rates.loc[ok, "change"] == 0).all()
    assert not same.rates["significant"].any() and not same.disparities["significant"].any()
    tested = same.disparities["status"] == "ok"
    assert (same.disparities.loc[tested, "log_ratio_change"] == 0).all()
    assert not same.disparities["moved_beyond_intervals"].any()
    assert (same.verdicts["change"] == "same").all() and not same.regression
    summary = same.summary()
    assert summary.rates_significant == summary.verdicts_regressed == summary.verdicts_new == 0
    assert not summary.regression and summary.verdicts_same == len(same.verdicts)
    assert same.notes == ("both audits read the same data (SHA-256 " + rounds["first"].provenance.data.sha256[:12]
                          + "…)",)


def _counts(frame: pd.DataFrame, group: str, metric: str) -> tuple[int, int]:
    rows = frame[frame["group"] == group]
    if metric == "fpr":
        rows = rows[rows["y"] == 0]
    return int(rows["d"].sum()), len(rows)


def test_p_values_and_intervals_equal_scipy_and_statsmodels(changes: Changes, frames) -> None:
    checked = 0
    tests = set()
    for metric in ("selection_rate", "fpr"):
        for group in "abcd":
            got = row(changes.rates, view="decision", attribute="group", group=group, metric=metric)
            x_old, n_old = _counts(frames["first"], group, metric)
            x_new, n_new = _counts(frames["second"], group, metric)
            if n_old == 0 or n_new == 0:
                continue
            pooled = (x_old + x_new) / (n_old + n_new)
            if min(n * p for n in (n_old, n_new) for p in (pooled, 1 - pooled)) < 5:
                expected = scipy_stats.fisher_exact([[x_new, n_new - x_new], [x_old, n_old - x_old]])[1]
                assert got["test"] == "fisher"
            else:
                expected = proportions_ztest([x_new, x_old], [n_new, n_old])[1]
                assert got["test"] == "z"
            tests.add(got["test"])
            assert got["p_value"] == pytest.approx(expected, rel=1e-9, abs=1e-12)
            low, high = confint_proportions_2indep(x_new, n_new, x_old, n_old, method="newcomb", compare="diff")
            assert (got["change_ci_low"], got["change_ci_high"]) == pytest.approx((low, high), rel=1e-9, abs=1e-12)
            assert (got["old_trials"], got["new_trials"], got["old_n"], got["new_n"]) == (n_old, n_new, n_old, n_new)
            checked += 1
    assert checked == 7 and tests == {"z", "fisher"}
    p = changes.rates["p_value"].to_numpy(dtype=float)
    valid = ~np.isnan(p)
    np.testing.assert_allclose(changes.rates["p_adjusted"].to_numpy(dtype=float)[valid],
                               multipletests(p[valid], method="holm")[1], rtol=1e-12)


def test_disparity_tests_equal_a_direct_katz_computation(changes: Changes, frames) -> None:
    got = row(changes.disparities, view="decision", attribute="group", group="b", metric="fpr")
    log_ratio, variance = [], 0.0
    for frame in (frames["first"], frames["second"]):
        (x1, n1), (x2, n2) = _counts(frame, "b", "fpr"), _counts(frame, "a", "fpr")
        log_ratio.append(np.log((x1 / n1) / (x2 / n2)))
        variance += 1 / x1 - 1 / n1 + 1 / x2 - 1 / n2
    z = (log_ratio[1] - log_ratio[0]) / np.sqrt(variance)
    assert got["log_ratio_change"] == pytest.approx(log_ratio[1] - log_ratio[0], rel=1e-9)
    assert got["z"] == pytest.approx(z, rel=1e-9)
    assert got["p_value"] == pytest.approx(2 * scipy_stats.norm.sf(abs(z)), rel=1e-9)
    half = scipy_stats.norm.isf(0.025) * np.sqrt(variance)
    assert (got["log_ratio_change_ci_low"], got["log_ratio_change_ci_high"]) == pytest.approx(
        (z * np.sqrt(variance) - half, z * np.sqrt(variance) + half), rel=1e-9)


def test_undefined_rates_stay_undefined_with_a_reason(changes: Changes) -> None:
    undefined = row(changes.rates, view="decision", attribute="group", group="d", metric="fpr")
    assert undefined["status"] == "undefined"
    assert undefined["reason"] == "old: no actual negatives; new: no actual negatives"
    assert np.isnan(undefined["change"]) and np.isnan(undefined["p_value"]) and np.isnan(undefined["p_adjusted"])
    assert pd.isna(undefined["significant"]) and undefined["test"] == "none"
    disparity = row(changes.disparities, view="decision", attribute="group", group="d", metric="fpr")
    assert disparity["status"] == "undefined" and "no actual negatives" in disparity["reason"]
    assert np.isnan(disparity["log_ratio_change"]) and pd.isna(disparity["moved_beyond_intervals"])
    assert changes.summary().rates_undefined >= 1
    assert set(changes.rates["metric"]) <= set(RATE_METRICS)


def test_result_json_files_give_the_same_changes(rounds, changes: Changes, tmp_path: Path) -> None:
    read = {}
    for name, result in rounds.items():
        path = tmp_path / name / "result.json"
        path.parent.mkdir()
        path.write_text(result.to_json(), encoding="utf-8")
        read[name] = json.loads(path.read_text(encoding="utf-8"))
    kept = copy.deepcopy(read)
    from_files = compare_results(read["first"], read["second"])
    assert read == kept  # inputs are not modified
    for name in ("rates", "disparities", "verdicts"):
        pd.testing.assert_frame_equal(getattr(from_files, name), getattr(changes, name), check_exact=True, obj=name)
    assert from_files.notes == changes.notes and from_files.regression == changes.regression


def test_notes_say_what_else_differs(frames) -> None:
    old = audit.run(BASE_SPEC, frames["first"])
    spec = copy.deepcopy(BASE_SPEC)
    spec["system"]["name"] = "synthetic, renamed"
    spec["statistics"] = {"min_group_size": 20}
    spec["protected"][1]["reference"] = "f" if old.comparisons.query("attribute == 'sex'")["reference"].iloc[0] \
        == "m" else "m"
    new = audit.run(spec, frames["second"][frames["second"]["group"] != "d"])
    changes = compare_results(old, new)
    notes = "\n".join(changes.notes)
    assert "different systems: 'synthetic' (old) and 'synthetic, renamed' (new)" in notes
    assert "the specs differ" in notes and "in: protected, statistics, system" in notes
    assert "the data differ" in notes
    assert "groups only in the old result: group = d, group × sex = d × f, group × sex = d × m" in notes
    assert "have a different reference group" in notes
    flagged = changes.disparities[changes.disparities["reference_changed"]]
    assert len(flagged) and flagged["reason"].str.contains("reference changed from").all()
    assert set(changes.verdicts.query("group == 'd'")["change"]) == {"gone"}
    assert "the 'old' audit" not in notes  # the old audit ran first


@pytest.mark.parametrize("before, after, expected", [
    ("pass", "fail", "regressed"), ("pass", "inconclusive", "regressed"), ("inconclusive", "fail", "regressed"),
    ("fail", "pass", "improved"), ("inconclusive", "pass", "improved"), ("fail", "inconclusive", "improved"),
    ("pass", "pass", "same"), ("fail", "fail", "same"), ("inconclusive", "inconclusive", "same"),
    (None, "pass", "new"), ("fail", None, "gone"),
])
def test_verdict_changes(rounds, before: str | None, after: str | None, expected: str) -> None:
    base = rounds["first"].to_dict()
    old, new = copy.deepcopy(base), copy.deepcopy(base)
    for result, verdict in ((old, before), (new, after)):
        if verdict is None:
            result["verdicts"] = result["verdicts"][1:]
        else:
            result["verdicts"][0]["verdict"] = verdict
    changes = compare_results(old, new)
    first = base["verdicts"][0]
    got = row(changes.verdicts, rule=first["rule"], view=first["view"], attribute=first["attribute"],
              group=first["group"])
    assert (got["old_verdict"], got["new_verdict"], got["change"]) == (before, after, expected)
    assert changes.regression == (expected == "regressed")


def test_weighted_rates_use_kish_effective_counts(frames) -> None:
    spec = dict(BASE_SPEC, data={"weight": "w"})
    first, second = (audit.run(spec, frames[name]) for name in ("first", "second"))
    changes = compare_results(first, second)
    for group in "abc":
        got = row(changes.rates, view="decision", attribute="group", group=group, metric="selection_rate")
        for side, frame in (("old", frames["first"]), ("new", frames["second"])):
            weights = frame.loc[frame["group"] == group, "w"]
            assert got[f"{side}_trials"] == pytest.approx(weights.sum() ** 2 / (weights**2).sum(), rel=1e-9)
        assert got["test"] == "z (effective counts)"
    assert any("Kish effective counts" in note for note in changes.notes)


def test_bad_arguments(rounds) -> None:
    first = rounds["first"]
    with pytest.raises(UsageError, match="confidence must be a number between 0 and 1"):
        compare_results(first, first, confidence=95)
    with pytest.raises(UsageError, match="correction must be one of holm, bh, none; got 'bonferroni'"):
        compare_results(first, first, correction="bonferroni")
    with pytest.raises(DataError, match="the new result is not in the shape of result.json.*missing keys: verdicts"):
        compare_results(first, {k: v for k, v in first.to_dict().items() if k != "verdicts"})
    with pytest.raises(UsageError, match="must be an AuditResult or a dict"):
        compare_results(first, "result.json")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- a change of method (issue 15)

OLD_RESULT = Path(__file__).parent / "data" / "compas_result_schema_1.1.json"
"""COMPAS audited by the toolkit before verdicts were judged as one family (result schema 1.1: each verdict
alone, the point rule by default), written by the toolkit of commit 38fb052."""


def test_a_result_of_the_old_method_still_opens_and_the_method_explains_its_changes() -> None:
    old = json.loads(OLD_RESULT.read_text(encoding="utf-8"))
    assert old["schema_version"] == "1.1" and "p_adjusted" in old["verdicts"][0]
    new = audit.run(Path(__file__).parent.parent / "examples" / "compas" / "spec.yaml")
    changes = compare_results(old, new)
    v = changes.verdicts.set_index(["rule", "attribute", "group"])
    # Same data, same bands: every verdict pairs with its counterpart and every change is the method's.
    assert set(changes.verdicts["change"]) <= {"same", "improved", "regressed"}
    changed = changes.verdicts[changes.verdicts["change"] != "same"]
    assert len(changed) == 4 and set(changed["cause"]) == {"method"}
    # The selection-rate rule had no 'rule' (point then, significant now): Asian's 4 of 31 against the
    # reference's 1,015 of 2,103 was a point fail on 31 people; Fisher's test adjusted for 34 verdicts is not.
    asian = v.loc[("selection_rate ratio in [0.8, 1.25] (significant)", "race", "Asian")]
    assert (asian["old_verdict"], asian["new_verdict"], asian["change"]) == ("fail", "inconclusive", "improved")
    assert asian["old_method"] == "point, each verdict alone (result schema 1.1)"
    assert asian["new_method"] == "significant, one family of 34 verdicts at alpha 0.05"
    assert asian["old_rule"] == "selection_rate ratio in [0.8, 1.25] (point)"
    assert any(note.startswith("the method changed") for note in changes.notes)
    assert any("same data" in note for note in changes.notes)


def test_two_results_of_one_method_blame_the_data(rounds) -> None:
    changes = compare_results(rounds["first"], rounds["second"])
    changed = changes.verdicts[changes.verdicts["change"].isin(["improved", "regressed"])]
    assert len(changed) and set(changed["cause"]) == {"data"}
    assert not any(note.startswith("the method changed") for note in changes.notes)
