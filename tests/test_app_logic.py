"""The app's logic without a browser: set-up form ↔ spec, counts kept and reused, passwords, server settings."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

import audit
from audit.engine import count, derive_result, reusable
from audit.passwords import hash_password, verify_password
from audit.spec import load_spec, spec_to_dict, spec_to_yaml, validate_spec
from audit.starter import guess_roles
from audit.uploads import column_profiles, load_table
from audit_app.server import streamlit_options
from audit_app.setup_form import PolicyChoice, ProtectedChoice, SetupForm
from audit_app.workspace import (Dataset, Workspace, counting_spec, outside_p_values, slider_grid, threshold_views,
                                 with_threshold)
from app_helpers import loaded_table
from conftest import EXAMPLES

SPECS = sorted(EXAMPLES.glob("*/spec.yaml"))


@pytest.mark.parametrize("path", SPECS, ids=[p.parent.name for p in SPECS])
def test_the_form_keeps_every_example_spec_unchanged(path) -> None:
    spec, _ = load_spec(path)
    again = validate_spec(SetupForm.from_spec(spec).apply(spec_to_dict(spec)))
    assert again == spec and spec_to_yaml(again) == spec_to_yaml(spec)     # the same spec, written the same
    assert validate_spec(__import__("yaml").safe_load(spec_to_yaml(spec))) == spec


def test_the_form_writes_what_the_auditor_chose() -> None:
    form = SetupForm(system_name="Trust score", kind="tiers", decision_column="tier",
                     tiers=(("blacklist", "adverse"), ("neutral", "neutral"), ("trusted", "favourable")),
                     protected=(ProtectedChoice("province", "Hà Nội"), ProtectedChoice("religion")),
                     intersections=(("province", "religion"),),
                     policy=(PolicyChoice("tier_rate:blacklist", "ratio", 0.8, 1.25, "ci"),),
                     numeric_columns=frozenset({"flag"}))
    raw = form.apply({"amounts": [{"column": "bonus", "higher_is": "favourable"}], "data": {"where": "x > 1"}},
                     data_name="trust.csv")
    assert raw["decision"] == {"column": "tier", "tiers": {"ordered": True, "values": {
        "blacklist": "adverse", "neutral": "neutral", "trusted": "favourable"}}}
    assert raw["protected"] == [{"column": "province", "reference": "Hà Nội"}, {"column": "religion"}]
    assert raw["data"] == {"where": "x > 1", "path": "trust.csv"}             # kept, with the upload's name
    assert raw["amounts"] == [{"column": "bonus", "higher_is": "favourable"}]
    spec = validate_spec(raw)
    assert spec.policy[0].metric == "tier_rate:blacklist" and spec.intersections[0].columns == ("province",
                                                                                               "religion")
    numeric = SetupForm(decision_column="flag", decision_positive=("1",), numeric_columns=frozenset({"flag"}),
                        protected=(ProtectedChoice("sex"),)).apply()
    assert numeric["decision"]["positive"] == [1]                             # a number for a numeric column


def test_first_guesses_for_the_welfare_data() -> None:
    loaded = load_table(EXAMPLES / "welfare_fraud" / "welfare_fraud.csv")
    _, profiles = column_profiles(loaded)
    form = SetupForm.from_guess(guess_roles(profiles), name="welfare")
    assert (form.decision_column, form.decision_positive, form.adverse) == ("flagged", ("1",), True)
    assert (form.outcome_column, form.outcome_positive) == ("fraud_found", ("1",))
    assert {p.column for p in form.protected} == {"sex", "age_band", "nationality", "language"}
    assert [r.metric for r in form.policy] == ["selection_rate", "fpr"]


def _score_spec(column: str, threshold: object = 0.5) -> audit.AuditSpec:
    return validate_spec({"system": {"name": "s"}, "outcome": {"column": "y", "positive": 1},
                          "score": {"column": column, "threshold": threshold, "adverse": True},
                          "protected": [{"column": "group"}],
                          "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25],
                                      "views": ["score ≥ 0.5"] if threshold == 0.5 else None}]})


@pytest.fixture(scope="module")
def scored() -> pd.DataFrame:
    from conftest import synthetic

    frame = synthetic(20_000)
    rng = __import__("numpy").random.default_rng(3)
    return frame.assign(exact=rng.random(len(frame)).round(2), fine=rng.random(len(frame)))


def test_counts_serve_every_slider_position_without_a_new_pass(scored) -> None:
    for column in ("exact", "fine"):
        loaded_spec = _score_spec(column)
        counted = count(counting_spec_for_frame(loaded_spec, scored), scored)
        assert counted.raw.score.exact == (column == "exact")
        for value in slider_grid(counted, loaded_spec)[::10]:
            moved = with_threshold(loaded_spec, "value", value)
            assert reusable(counted, moved)
            direct = audit.run(moved, data=scored)
            derived = derive_result(moved, counted)
            view = f"score ≥ {value:g}"
            if column == "fine":   # binned: decisions at the cut-off are exact; AUC and the like depend on the bins
                direct, derived = (r.comparisons[r.comparisons["view"] == view].reset_index(drop=True)
                                   for r in (direct, derived))
            else:
                direct, derived = direct.comparisons, derived.comparisons
            pd.testing.assert_frame_equal(derived, direct)
            assert derive_result(moved, counted).verdicts["view"].unique().tolist() == [view]  # the rule followed
    binned = count(counting_spec_for_frame(_score_spec("fine"), scored), scored)
    assert not reusable(binned, _score_spec("fine", 0.123456))                # not a bin edge: count again
    assert not reusable(binned, _score_spec("fine", [{"top_k": 100}]))        # top-k needs the data
    other = validate_spec(spec_to_dict(_score_spec("fine")) | {"protected": [{"column": "sex"}]})
    assert not reusable(binned, other)


def counting_spec_for_frame(spec: audit.AuditSpec, frame: pd.DataFrame) -> audit.AuditSpec:
    return counting_spec(spec, loaded_table(frame))


def test_a_partial_derivation_equals_the_full_one_for_its_view(scored) -> None:
    spec = validate_spec(spec_to_dict(_score_spec("exact", [0.3, 0.6, {"top_k": 500}])))
    counted = count(spec, scored)
    full = derive_result(spec, counted)
    for view in ("score ≥ 0.6", "top 500"):
        part = derive_result(spec, counted, views=[view])
        assert set(part.comparisons["view"]) == {view}
        pd.testing.assert_frame_equal(part.comparisons.reset_index(drop=True),
                                      full.comparisons[full.comparisons["view"] == view].reset_index(drop=True))


def test_the_workspace_counts_once_per_set_up(scored) -> None:
    workspace = Workspace()
    workspace.use(Dataset("frame", "upload", loaded_table(scored)))
    spec = _score_spec("fine")
    workspace.audit(spec)
    for value in slider_grid(workspace.counts_for(spec), spec)[::25]:
        workspace.audit(with_threshold(spec, "value", value))
    assert workspace.passes == 1
    workspace.audit(validate_spec(spec_to_dict(spec) | {"protected": [{"column": "sex"}]}))
    assert workspace.passes == 2


def test_passwords() -> None:
    stored = hash_password("mật khẩu", iterations=1000)
    assert stored.startswith("pbkdf2_sha256$1000$") and "mật khẩu" not in stored
    assert verify_password("mật khẩu", stored)
    assert not verify_password("mat khau", stored)
    assert hash_password("x", iterations=1000) != hash_password("x", iterations=1000)   # salted
    for broken in ("", "plain", "pbkdf2_sha256$x$y$z", "md5$1$a$b"):
        assert not verify_password("x", broken)


def test_the_server_is_private_by_default() -> None:
    options = streamlit_options(port=8501, address="127.0.0.1", max_upload_mb=50, secrets=None)
    assert options["browser.gatherUsageStats"] is False
    assert options["server.address"] == "127.0.0.1"        # this machine only, and no public-IP lookup
    assert options["client.showErrorDetails"] == "none"
    assert options["server.maxUploadSize"] == 50


def test_a_port_in_use_is_a_usage_error_that_names_it() -> None:
    import socket

    from click.testing import CliRunner

    from audit.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["app", "--port", str(port)])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output and "--port" in result.output


def test_hash_password_command() -> None:
    from click.testing import CliRunner

    from audit.cli import main

    result = CliRunner().invoke(main, ["hash-password", "--password", "bí mật"])
    assert result.exit_code == 0 and verify_password("bí mật", result.output.strip())


def test_a_spec_with_a_model_or_custom_metrics_loses_them_in_the_app() -> None:
    from audit_app.setup_form import without_code

    raw = {"system": {"name": "x"}, "decision": {"column": "d"}, "protected": [{"column": "g"}],
           "model": {"path": "m.pkl", "features": ["a"]},
           "custom_metrics": [{"name": "m", "function": "os:system"}]}
    kept, dropped = without_code(raw)
    assert dropped == ["model", "custom_metrics"] and "model" not in kept and "custom_metrics" not in kept
    assert raw["model"]["path"] == "m.pkl"                      # the caller's dict is not changed
    assert validate_spec(kept).model is None


# ---------------------------------------------------------------- verdicts judged as one family (issue 15)

FAMILY_COLUMNS = ["rule_index", "attribute", "group", "verdict", "p_family", "family_ci_low", "family_ci_high"]


@pytest.fixture(scope="module")
def tilted(scored) -> pd.DataFrame:
    """A score (two decimals) that runs higher for group 'b': a disparity for the slider's verdicts to find."""
    rng = __import__("numpy").random.default_rng(5)
    score = rng.random(len(scored)) + 0.1 * (scored["group"] == "b").to_numpy()
    return scored.assign(tilted=score.clip(0, 1).round(2))


def _two_thresholds() -> audit.AuditSpec:
    return validate_spec({"system": {"name": "s"}, "outcome": {"column": "y", "positive": 1},
                          "score": {"column": "tilted", "threshold": [0.5, {"top_k": 2000}], "adverse": True},
                          "protected": [{"column": "group", "reference": "a"}, {"column": "sex"}],
                          "intersections": [["group", "sex"]],
                          "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25]},
                                     {"metric": "fpr", "ratio": [0.8, 1.25], "rule": "ci"},
                                     {"metric": "auc", "difference": [-0.05, 0.05]}]})


def test_the_slider_judges_its_view_in_the_whole_family_of_the_moved_spec(tilted) -> None:
    spec = _two_thresholds()
    workspace = Workspace()
    workspace.use(Dataset("frame", "upload", loaded_table(tilted)))
    audited = workspace.audit(spec)
    assert set(audited.verdicts["view"]) == {"score ≥ 0.5", "top 2,000", "score"}
    outside = outside_p_values(audited, threshold_views(spec))      # what the Results page passes: the AUC's view
    assert len(outside) == (audited.verdicts["view"] == "score").sum() > 0
    fails = 0
    for value in (0.4, 0.55, 0.7):
        moved = with_threshold(spec, "value", value)
        view = f"score ≥ {value:g}"
        slider = workspace.audit(moved, views=[view], family_outside=outside)
        full = derive_result(moved, workspace.counts_for(moved))
        expected = full.verdicts[full.verdicts["view"] == view][FAMILY_COLUMNS].reset_index(drop=True)
        pd.testing.assert_frame_equal(slider.verdicts[FAMILY_COLUMNS].reset_index(drop=True), expected)  # exactly
        assert slider.family == full.family and full.family.size == len(expected) + len(outside)
        ran = audit.run(moved, data=tilted)                          # the command line's audit of the moved spec
        pd.testing.assert_frame_equal(ran.verdicts[ran.verdicts["view"] == view][FAMILY_COLUMNS]
                                      .reset_index(drop=True), expected)
        # without family_outside the engine derives the other views itself: the same numbers
        pd.testing.assert_frame_equal(workspace.audit(moved, views=[view]).verdicts, slider.verdicts)
        # the audit's second threshold is no view of the moved spec: leaving out the first threshold's view
        # alone would judge the slider's verdicts in a family too large (fewer fails than the audit would find)
        naive = workspace.audit(moved, views=[view],
                                family_outside=outside_p_values(audited, {spec.score.threshold[0].name}))
        assert naive.family.size == full.family.size + (audited.verdicts["view"] == "top 2,000").sum()
        fails += int((expected["verdict"] == "fail").sum())
    assert fails > 0 and workspace.passes == 1                      # real fails, and the data counted once


def test_outside_p_values_keeps_the_untested_as_nan() -> None:
    from audit.result import AuditResult

    verdicts = pd.DataFrame({"view": ["a", "b", "b", "c"], "p_value": [0.01, float("nan"), 0.2, 0.5]})
    result = AuditResult.__new__(AuditResult)
    object.__setattr__(result, "verdicts", verdicts)
    got = outside_p_values(result, {"a"})
    assert got.tolist()[1:] == [0.2, 0.5] and __import__("math").isnan(got[0])
    assert verdicts["p_value"].tolist()[0] == 0.01                  # the result is not changed


@pytest.fixture
def vietnamese(monkeypatch):
    from audit_app import text

    monkeypatch.setattr(text, "lang", lambda: "vi")


INCONCLUSIVE = {"verdict": "inconclusive", "bound": "ratio", "detectable_ratio": 0.52, "detectable_difference": -0.1,
                "needed_n": 371.0, "needed_reference_n": float("nan"), "needed_known_outcomes": 290.0}


def test_what_would_decide_in_words() -> None:
    from audit_app.verdict_words import to_decide

    assert to_decide(INCONCLUSIVE) == ("detectable with 80% power: a ratio of 0.52 or further from parity; at the "
                                       "observed rates the group needs 371 people; 290 of them with a known outcome")
    grows = {**INCONCLUSIVE, "bound": "difference", "needed_known_outcomes": float("nan"),
             "needed_reference_n": 12500.0}
    assert to_decide(grows) == ("detectable with 80% power: a difference of -0.1 or further from parity; at the "
                                "observed rates the group needs 371 people; the reference needs 12,500 people")
    never = {**INCONCLUSIVE, "needed_n": float("inf")}
    assert to_decide(never).endswith("; no group size decides it: the estimate sits on the band's edge or equals "
                                     "the reference")
    undefined = {**INCONCLUSIVE, "detectable_ratio": float("nan"), "needed_n": float("nan")}
    assert to_decide(undefined) == ""                              # nothing known is said, nothing is made up
    assert to_decide({**INCONCLUSIVE, "verdict": "fail"}) == "" and to_decide({**INCONCLUSIVE, "verdict": "pass"}) == ""


def test_what_would_decide_in_vietnamese(vietnamese) -> None:
    from audit_app.verdict_words import to_decide

    said = to_decide({**INCONCLUSIVE, "needed_reference_n": 12500.0})
    assert said == ("phát hiện được với độ mạnh kiểm định 80%: tỷ số 0,52 hoặc xa mức cân bằng hơn; với các tỷ lệ "
                    "quan sát được, nhóm cần 371 người; trong đó 290 người có kết quả thực tế đã biết; nhóm tham chiếu "
                    "cần 12.500 người")
    assert "không quy mô nhóm nào" in to_decide({**INCONCLUSIVE, "needed_n": float("inf")})


def test_the_family_in_plain_words() -> None:
    from audit.family import Family
    from audit_app.verdict_words import family_sentences

    said = family_sentences(Family(140, 0.05), {"significant"})
    assert said[0] == ("The audit's 140 verdicts are judged as one family at α = 0.05: the chance that data without "
                       "any disparity shows a fail anywhere in this audit is at most 5%.")
    assert said[1].startswith("Each family-level interval has 99.964% confidence (1 − α/140), so all of them hold at "
                              "once with a chance of at least 95%")
    assert len(said) == 2                                          # no caveat for 'significant' alone
    said = family_sentences(Family(1, 0.025), {"ci", "point"})
    assert said[0].startswith("The audit's 1 verdict is judged as one family at α = 0.025")
    assert "at most 2.5%." in said[0]
    assert "'ci' a pass is held to the same bound" in said[2] and "'point'" in said[3] and "not" in said[3]
    nothing = family_sentences(Family(0, 0.05), set())
    assert nothing == ["The spec has no policy rules, so this audit makes no verdicts."]


def test_the_family_in_vietnamese(vietnamese) -> None:
    from audit.family import Family
    from audit_app.verdict_words import family_sentences

    said = " ".join(family_sentences(Family(34, 0.05), {"significant"}))
    assert said.startswith("34 kết luận của cuộc kiểm toán được đánh giá như một họ kết luận ở mức α = 0,05")
    assert "tối đa là 5%" in said and "99,85%" in said and "verdict" not in said


@pytest.mark.parametrize("p,english,vietnamese_text", [
    (0.0, "< 1e-300", "< 1e-300"), (2.6e-163, "2.6e-163", "2,6e-163"), (0.0123, "0.012", "0,012"),
    (0.00099, "9.9e-4", "9,9e-4"), (1.0, "1", "1"), (float("nan"), "—", "—"), (None, "—", "—")])
def test_p_values_never_read_as_zero_or_a_row_of_zeros(monkeypatch, p, english, vietnamese_text) -> None:
    from audit_app import text

    assert text.p_text(p) == english
    monkeypatch.setattr(text, "lang", lambda: "vi")
    assert text.p_text(p) == vietnamese_text


def test_verdict_tables_show_both_intervals_p_family_evidence_and_what_would_decide(tilted) -> None:
    from audit_app import tables
    from audit_app.text import confidence_pct, p_text

    spec = _two_thresholds()
    result = audit.run(spec, data=tilted)
    confidence, family = spec.statistics.confidence, result.family.confidence
    shown = tables.verdicts_table(result.verdicts, confidence=confidence, family_confidence=family)
    label = f"Family-level interval ({confidence_pct(family)})"
    assert family == 1 - 0.05 / len(result.verdicts) and len(result.verdicts) == 40   # 5 rule-views × 8 groups
    assert confidence_pct(family) == "99.88%"                                   # 1 − 0.05/40, as audit run
    assert ["Estimate (95% interval)", label, "p (family)", "Evidence", "Test"] == list(shown.columns[8:13])
    verdicts = result.verdicts
    assert shown["p (family)"].tolist() == [p_text(p) for p in verdicts["p_family"]]
    first = verdicts.iloc[0]
    assert shown[label].iloc[0] == f"{float(first['family_ci_low']):.3g} to {float(first['family_ci_high']):.3g}"
    assert set(shown["Evidence"]) <= {"exact", "asymptotic", "none"} and "Fisher's exact test" in set(shown["Test"])
    decided = shown["What would decide"] != ""
    assert (decided == (verdicts["verdict"] == "inconclusive").to_numpy()).all()
    rows = tables.rule_rows(result, 0, "group", "score ≥ 0.5")
    table = tables.rule_table(rows, bound="ratio", confidence=confidence, family_confidence=family)
    assert {"Ratio (95% interval)", label, "p (family)", "What would decide"} <= set(table.columns)
    assert table["Group"].tolist() == rows["group"].tolist()


def test_the_form_offers_the_three_rules_with_the_specs_default_first() -> None:
    from audit.spec import PolicyRule
    from audit_app.setup_form import RULES

    assert RULES == ("significant", "ci", "point") and PolicyRule.model_fields["rule"].default == RULES[0]
    raw = SetupForm(decision_column="d", decision_positive=("1",), protected=(ProtectedChoice("g"),),
                    policy=(PolicyChoice("selection_rate"), PolicyChoice("fpr", rule="ci"))).apply()
    assert raw["policy"] == [{"metric": "selection_rate", "ratio": [0.8, 1.25]},           # the default: unwritten
                             {"metric": "fpr", "ratio": [0.8, 1.25], "rule": "ci"}]
    assert [r.rule for r in validate_spec(raw | {"outcome": {"column": "y", "positive": 1}}).policy] == [
        "significant", "ci"]


def test_a_rule_added_to_a_version_1_spec_keeps_the_rule_chosen() -> None:
    version_1 = validate_spec({"spec_version": 1, "system": {"name": "v1"},
                               "decision": {"column": "d", "positive": 1}, "protected": [{"column": "g"}],
                               "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25]}]})
    assert version_1.policy[0].rule == "point"                     # version 1's meaning of a rule without 'rule'
    form = SetupForm.from_spec(version_1)
    added = replace(form, policy=form.policy + (PolicyChoice("share", "difference", -0.1, 0.1),))
    again = validate_spec(added.apply(spec_to_dict(version_1)))
    assert [r.rule for r in again.policy] == ["point", "significant"]   # not read as 'point' by version 1


def test_the_forms_alpha_is_the_specs_statistics_alpha() -> None:
    form = SetupForm(decision_column="d", decision_positive=("1",), protected=(ProtectedChoice("g"),))
    assert form.alpha == 0.05 and "statistics" not in form.apply()     # the default is left unwritten
    strict = replace(form, alpha=0.01).apply()
    assert strict["statistics"] == {"alpha": 0.01} and validate_spec(strict).statistics.alpha == 0.01
    assert SetupForm.from_spec(validate_spec(strict)).alpha == 0.01
