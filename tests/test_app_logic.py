"""The app's logic without a browser: set-up form ↔ spec, counts kept and reused, passwords, server settings."""

from __future__ import annotations

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
from audit_app.workspace import Dataset, Workspace, counting_spec, slider_grid, with_threshold
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
                          "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25], "views": ["score ≥ 0.5"]}]})


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
    import pyarrow as pa

    from audit.readers import TableInfo
    from audit.uploads import LoadedTable

    table = LoadedTable("frame", pa.Table.from_pandas(frame, preserve_index=False),
                        TableInfo("frame", "csv", "utf-8", True, ",", "0" * 64, 0))
    return counting_spec(spec, table)


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
    import pyarrow as pa

    from audit.readers import TableInfo
    from audit.uploads import LoadedTable

    loaded = LoadedTable("frame", pa.Table.from_pandas(scored, preserve_index=False),
                         TableInfo("frame", "csv", "utf-8", True, ",", "0" * 64, 0))
    workspace = Workspace()
    workspace.use(Dataset("frame", "upload", loaded))
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
