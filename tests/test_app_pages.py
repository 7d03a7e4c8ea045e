"""The app, page by page, in Streamlit's AppTest: numbers equal the CLI's, bad input gives messages."""

from __future__ import annotations

import subprocess

import pytest
import yaml

import audit
from audit.outputs import percent
from app_helpers import (WELFARE_CSV, errors, no_exception, results_key, setup_key, start, table_with, texts, upload,
                         visit)
from conftest import EXAMPLES, ROOT

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_opens_with_the_example_audited_as_the_cli_audits_it(monkeypatch, tmp_path) -> None:
    at = start(monkeypatch, tmp_path)
    no_exception(at)
    state = visit(at)
    cli = audit.run(EXAMPLES / "welfare_scores" / "spec.yaml")
    assert at.title[0].value == cli.spec.system.name
    assert state.result.result_sha256 == cli.result_sha256          # one engine: the same tables, bit for bit
    assert state.result.provenance.data.sha256 == cli.provenance.data.sha256
    counts = cli.verdict_counts()
    assert f"Overall verdict: {cli.verdict.upper()}" in texts(at)
    assert f"{counts['fail']} fail, {counts['pass']} pass, {counts['inconclusive']} inconclusive" in texts(at)
    assert not errors(at)                                           # no part of the page failed
    # the family, stated beside the verdict
    assert (f"The audit's {cli.family.size:,} verdicts are judged as one family at α = 0.05: the chance that data "
            f"without any disparity shows a fail anywhere in this audit is at most 5%.") in texts(at)
    assert f"Each family-level interval has {percent(cli.family.confidence)} confidence (1 − α/{cli.family.size})" \
        in texts(at)


def test_the_verdict_table_shows_what_audit_run_decided(monkeypatch, tmp_path) -> None:
    from audit_app.text import p_text
    from audit_app.verdict_words import to_decide

    at = start(monkeypatch, tmp_path)
    cli = audit.run(EXAMPLES / "welfare_scores" / "spec.yaml")
    attribute = cli.spec.attribute_names[0]
    verdicts = cli.verdicts[(cli.verdicts["rule_index"] == 0) & (cli.verdicts["attribute"] == attribute)]
    rows = verdicts[verdicts["view"] == verdicts["view"].iloc[0]]             # the first block shown
    family = f"Family-level interval ({percent(cli.family.confidence)})"
    shown = table_with(at, "Rate (interval)", "p (family)")
    assert shown["Group"].tolist() == rows["group"].tolist()
    assert family in shown.columns and "Ratio (95% interval)" in shown.columns
    assert shown["p (family)"].tolist() == [p_text(p) for p in rows["p_family"]]
    assert shown[family].tolist() == [f"{lo:.3g} to {hi:.3g}" for lo, hi in zip(rows["family_ci_low"],
                                                                                  rows["family_ci_high"])]
    assert shown["What would decide"].tolist() == [to_decide(r) for r in rows.to_dict("records")]
    assert any(shown["What would decide"]) == (rows["verdict"] == "inconclusive").any()
    every = table_with(at, "Rule", "What would decide")                # the expander "All verdicts"
    assert len(every) == len(cli.verdicts) and every["p (family)"].tolist() == [p_text(p) for p in
                                                                                 cli.verdicts["p_family"]]


def test_every_page_renders_without_error(monkeypatch, tmp_path) -> None:
    at = start(monkeypatch, tmp_path)
    for page, title in (("screens/data.py", "Data"), ("screens/setup.py", "Set-up"), ("screens/report.py", "Report"),
                        ("screens/history.py", "History"), ("screens/results.py", None)):
        at.switch_page(page).run()
        no_exception(at)
        assert not at.error or page == "screens/results.py", [e.value for e in at.error]
        if title:
            assert at.title[0].value == title
    assert "welfare_fraud.csv" in texts(at.switch_page("screens/data.py").run())
    assert "Encoding: utf-8 (detected)" in texts(at)
    assert "Delimiter: ," in texts(at)


def test_upload_set_up_and_run_equals_the_cli_on_the_downloaded_spec(monkeypatch, tmp_path) -> None:
    at = start(monkeypatch, tmp_path)
    at.switch_page("screens/data.py").run()
    upload(at, "welfare_fraud.csv", WELFARE_CSV.read_bytes())
    no_exception(at)
    assert "Read 20,000 rows and 11 columns from welfare_fraud.csv" in texts(at)
    at.switch_page("screens/setup.py").run()
    no_exception(at)
    form = visit(at).form
    assert form.decision_column == "flagged" and form.outcome_column == "fraud_found"   # the guesses
    at.multiselect(key=setup_key(at, "protected")).set_value(["nationality", "sex"]).run()
    at.selectbox(key=setup_key(at, "ref.nationality")).set_value("Dutch").run()
    at.multiselect(key=setup_key(at, "intersections")).set_value([("nationality", "sex")]).run()
    no_exception(at)
    spec_text = at.code[0].value
    at.button(key="setup.run").click().run()
    no_exception(at)
    result = visit(at).result
    assert at.title[0].value == result.spec.system.name
    # the spec the page shows runs in CI beside the same file and gives the same tables
    (tmp_path / "welfare_fraud.csv").write_bytes(WELFARE_CSV.read_bytes())
    (tmp_path / "spec.yaml").write_text(spec_text, encoding="utf-8")
    cli = audit.run(tmp_path / "spec.yaml")
    assert cli.result_sha256 == result.result_sha256
    assert cli.provenance.data.sha256 == result.provenance.data.sha256
    assert yaml.safe_load(spec_text)["protected"] == [{"column": "nationality", "reference": "Dutch"},
                                                      {"column": "sex"}]
    run = subprocess.run([str(ROOT / ".venv" / "bin" / "audit"), "run", str(tmp_path / "spec.yaml"), "-q"],
                         capture_output=True, text=True)
    assert run.returncode == result.exit_code() and result.verdict.upper() in run.stdout


def test_a_score_set_up_with_top_k(monkeypatch, tmp_path) -> None:
    at = start(monkeypatch, tmp_path)
    at.switch_page("screens/data.py").run()
    upload(at, "welfare_fraud.csv", WELFARE_CSV.read_bytes())
    at.switch_page("screens/setup.py").run()
    at.radio(key=setup_key(at, "kind")).set_value("score").run()
    at.selectbox(key=setup_key(at, "score_column")).set_value("risk_score").run()
    at.radio(key=setup_key(at, "mode")).set_value("top_k").run()
    at.number_input(key=setup_key(at, "threshold.top_k")).set_value(500).run()
    no_exception(at)
    spec = yaml.safe_load(at.code[0].value)
    assert spec["score"] == {"column": "risk_score", "threshold": [{"top_k": 500}], "adverse": True}
    at.button(key="setup.run").click().run()
    no_exception(at)
    thresholds = visit(at).result.table("thresholds")
    row = thresholds[thresholds["view"] == "top 500"].iloc[0]
    assert row["acted_on"] >= 500 and row["population"] == 20000


def test_the_slider_redraws_every_disparity_from_the_counts(monkeypatch, tmp_path) -> None:
    at = start(monkeypatch, tmp_path)
    state = visit(at)
    passes = state.workspace.passes
    from audit_app.workspace import slider_grid, with_threshold

    grid = slider_grid(state.workspace.counts_for(state.spec), state.spec)
    assert len(at.select_slider(key=results_key(at, "value")).options) == len(grid)
    chosen = next(g for g in grid if g >= 0.5)
    at.select_slider(key=results_key(at, "value")).set_value(chosen).run()
    no_exception(at)
    assert visit(at).workspace.passes == passes                   # no new pass over the data
    spec = visit(at).spec
    direct = audit.run(with_threshold(spec, "value", chosen), data=state.workspace.dataset.loaded)
    view = f"score ≥ {chosen:g}"
    acted = direct.table("thresholds").set_index("view").loc[view, "acted_on"]
    counts = direct.verdicts[direct.verdicts["view"] == view]["verdict"].value_counts()
    shown = texts(at)
    assert f"At {view}: {acted:,} of 20,000 people acted on" in shown
    assert f"{counts.get('fail', 0)} fail, {counts.get('pass', 0)} pass" in shown
    # the slider's verdicts are the moved spec's own: judged in its whole family, as audit run judges them
    from audit_app.text import p_text, span, verdict_word

    moved = direct.verdicts[direct.verdicts["view"] == view]
    family = f"Family-level interval ({percent(direct.family.confidence)})"
    table = table_with(at, "Metric", "What would decide", without=("Rule",))
    assert table["Verdict"].tolist() == [verdict_word(v) for v in moved["verdict"]]
    assert table["p (family)"].tolist() == [p_text(p) for p in moved["p_family"]]
    assert table[family].tolist() == [span(lo, hi) for lo, hi in zip(moved["family_ci_low"], moved["family_ci_high"])]
    assert f"one family of {direct.family.size:,} verdicts at α = 0.05" in shown
    assert direct.family.size < visit(at).result.family.size       # the audit's second cut-off is not in it
    at.radio(key=results_key(at, "mode")).set_value("top_k").run()
    at.slider(key=results_key(at, "top_k")).set_value(2000).run()
    no_exception(at)
    assert "At top 2,000: 2,001 of 20,000 people acted on" in texts(at)
    assert visit(at).workspace.passes == passes


def test_bundled_examples_open_and_audit_as_the_cli(monkeypatch, tmp_path) -> None:
    at = start(monkeypatch, tmp_path)
    at.switch_page("screens/data.py").run()
    examples = at.selectbox(key="data.example").options
    with_data = [p for p in EXAMPLES.glob("*/spec.yaml") if "\nmodel:" not in p.read_text()]   # no model audits
    assert len(examples) == len(with_data) and not any("fraud model" in e.lower() for e in examples)
    index = next(i for i, e in enumerate(examples) if "truth tables" in e)
    at.selectbox(key="data.example").select_index(index).run()
    at.button(key="data.open_example").click().run()
    no_exception(at)
    cli = audit.run(EXAMPLES / "compas_truth_tables" / "spec.yaml")
    assert visit(at).result.result_sha256 == cli.result_sha256


def test_a_tiers_audit_from_an_uploaded_spec(monkeypatch, tmp_path) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(11)
    province = rng.choice(["Hà Nội", "Hồ Chí Minh", "Đà Nẵng"], 3000)
    tier = np.where(rng.random(3000) < np.where(province == "Đà Nẵng", 0.3, 0.1), "blacklist",
                    rng.choice(["neutral", "trusted"], 3000))
    frame = pd.DataFrame({"province": province, "trust_tier": tier})
    spec = ("system: {name: Citizen trust score}\n"
            "decision: {column: trust_tier, tiers: {ordered: true, values: {blacklist: adverse, neutral: neutral, "
            "trusted: favourable}}}\nprotected: [{column: province, reference: Hà Nội}]\n"
            "policy: [{metric: 'tier_rate:blacklist', ratio: [0.8, 1.25], rule: ci}]\n")
    at = start(monkeypatch, tmp_path)
    at.switch_page("screens/data.py").run()
    upload(at, "trust.csv", frame.to_csv(index=False).encode())
    at.switch_page("screens/setup.py").run()
    upload(at, "trust.yaml", spec.encode(), key="setup.spec_upload")
    no_exception(at)
    assert visit(at).form.kind == "tiers"
    shown = yaml.safe_load(at.code[0].value)
    assert shown["decision"]["tiers"]["values"]["blacklist"] == "adverse" and shown["data"] == {"path": "trust.csv"}
    at.button(key="setup.run").click().run()
    no_exception(at)
    result = visit(at).result
    (tmp_path / "trust.csv").write_bytes(frame.to_csv(index=False).encode())
    (tmp_path / "spec.yaml").write_text(at.switch_page("screens/setup.py").run().code[0].value, encoding="utf-8")
    assert audit.run(tmp_path / "spec.yaml").result_sha256 == result.result_sha256
    verdict = result.verdicts.set_index("group").loc["Đà Nẵng"]
    assert verdict["verdict"] == "fail" and verdict["estimate"] > 2


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_plan_panel_answers_as_audit_plan(monkeypatch, tmp_path) -> None:
    import json

    from click.testing import CliRunner

    from audit.cli import main
    from audit.planning import detectable, plan_sample

    at = start(monkeypatch, tmp_path)
    size = visit(at).result.family.size                              # M: the current audit's family
    at.switch_page("screens/setup.py").run()
    no_exception(at)
    assert at.number_input(key=f"setup.plan.en.comparisons.{size}").value == size
    assert at.number_input(key="setup.plan.en.alpha.0.05").value == 0.05     # the spec's statistics.alpha
    alone = plan_sample(0.3, 0.8, power=0.8, alpha=0.05, comparisons=size)
    assert _metrics(at)["People per group"] == f"{alone.n_per_group:,}"
    assert f"Each test at α / M = 0.05 / {size} = {alone.level:.3g}, with 80% power." in texts(at)
    # the groups' shares from the loaded data, values as written: as audit plan counts them in the file
    at.selectbox(key="setup.plan.en.shares").set_value("nationality").run()
    no_exception(at)
    out = tmp_path / "plan.json"
    cli = CliRunner().invoke(main, ["plan", "--base-rate", "0.3", "--ratio", "0.8", "--comparisons", str(size),
                                    "--shares-from", str(WELFARE_CSV), "--attribute", "nationality",
                                    "--reference", "Dutch", "--json", str(out)])
    assert cli.exit_code == 0, cli.output
    planned = json.loads(out.read_text())
    assert _metrics(at)["People in total"] == f"{planned['n_total']:,}"
    shown = table_with(at, "Share", "Detectable ratio, lower")
    assert shown["Group"].tolist() == [g["group"] for g in planned["groups"]]
    assert shown["People"].tolist() == [f"{g['people']:,}" for g in planned["groups"]]
    assert shown["Detectable ratio, lower"].iloc[0] == "reference" and planned["groups"][0]["group"] == "Dutch"
    assert "275 without a value left out" in texts(at)
    # the reverse: the ratios a sample of 20,000 detects
    at.radio(key="setup.plan.en.question").set_value("ratios").run()
    at.number_input(key="setup.plan.en.size").set_value(20_000).run()
    no_exception(at)
    shares = {g["group"]: g["share"] for g in planned["groups"]}
    reverse = detectable(0.3, n_total=20_000, alpha=0.05, comparisons=size, shares=shares, reference="Dutch")
    shown = table_with(at, "Share", "Detectable ratio, lower")
    assert shown["Detectable ratio, higher"].tolist()[1:] == [f"{g.detectable_higher:.3g}" for g in reverse.groups[1:]]
    assert _metrics(at) == {"People in total": "20,000"}
