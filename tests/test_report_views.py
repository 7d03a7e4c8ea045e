"""The oversight report's views: a block per rule × decision view, amounts in their own units, every amount's
table, tiers described as tiers, withheld findings, one-sided bands, heat maps of differences, unknown values
per attribute, Vietnamese metric names, the counterfactual flip test and less discriminatory alternatives."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

import audit
from audit.alternatives import AlternativeOptions, find_alternatives, write_frontier
from audit.outputs import summary_markdown
from audit.report.content import build_content, read_alternatives
from audit.report.html import RecordingTranslator, render_html
from audit.report.i18n import Translator, format_number, format_percent
from audit.report.writer import render_report_html, write_report
from audit.release import build_release
from audit.wording import decision_sentence
from model_helpers import people, planted_pipeline
from test_report_fixes import _section, _text


def _heading(block: str) -> str:
    """The text of a block's ``<h3>`` heading."""
    return _text(re.search(r"<h3>(.*?)</h3>", block, flags=re.DOTALL).group(1)).strip()


def _block(page: str, heading: str) -> str:
    """The HTML of the one result block whose heading (attribute — rule [view]) is ``heading``."""
    blocks = page.split('<div class="block')[1:]
    found = [b for b in blocks if _heading(b) == heading]
    assert len(found) == 1, [_heading(b) for b in blocks]
    return found[0]


def _row(block: str, first_cell: str) -> str:
    """The text of the table row of ``block`` that starts with ``first_cell``."""
    rows = [line for line in _text(block).splitlines() if line.startswith(first_cell + " ")]
    assert len(rows) == 1, _text(block)
    return rows[0]


def _untranslated(result: audit.AuditResult, alternatives: dict | None = None) -> list[str]:
    """Every fixed text a Vietnamese report asks for that the catalogue leaves in English."""
    recorder = RecordingTranslator("vi")
    render_html(build_content(build_release(result), alternatives=alternatives), lang="vi", confidence=0.95,
                translator=recorder)
    english, vietnamese = Translator("en"), Translator("vi")
    return sorted(m for m in recorder.asked if vietnamese.gettext(m) == english.gettext(m))


# ------------------------------------------------------------------------------------------------------
# 1. a score with two thresholds: one rule, two decision views


def _two_thresholds() -> audit.AuditResult:
    """Groups a and b of 300, scores spread evenly (b's higher), acted on at score ≥ 0.7 and in the top 100."""
    n = 300
    frame = pd.DataFrame({"grp": ["a"] * n + ["b"] * n,
                          "risk": np.r_[np.linspace(0, 0.8, n), np.linspace(0.2, 1.0, n)]})
    spec = {"system": {"name": "two thresholds"},
            "score": {"column": "risk", "threshold": [0.7, {"top_k": 100}], "adverse": True},
            "protected": [{"column": "grp", "reference": "a"}],
            "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25], "rule": "ci"}]}
    return audit.run(spec, frame)


@pytest.fixture(scope="module")
def two_thresholds() -> audit.AuditResult:
    return _two_thresholds()


def test_each_view_of_a_rule_has_its_own_block_rates_and_charts(two_thresholds) -> None:
    result = two_thresholds
    page = render_report_html(result, lang="en")
    rates = result.groups[(result.groups["metric"] == "selection_rate") & (result.groups["group"] == "b")]
    shown = {}
    for view in ("score ≥ 0.7", "top 100"):
        block = _block(page, f"grp — selection_rate ratio in [0.8, 1.25] (ci) [{view}]")
        value = rates.loc[rates["view"] == view, "value"].iloc[0]
        verdict = result.verdicts[result.verdicts["view"] == view].iloc[0]
        shown[view] = _row(block, "b")
        assert shown[view].startswith(f"b 300 {format_percent(value, 'en')} ")
        assert f" {format_number(verdict['estimate'], 'en')} " in shown[view]
        ratio_chart = re.findall(r"<svg.*?</svg>", block, flags=re.DOTALL)[1]
        assert re.findall(r">b</text>", ratio_chart) == [">b</text>"]          # each group once
        assert _text(block).count("\nb ") == 1
    assert shown["score ≥ 0.7"].startswith("b 300 37.7% ") and shown["top 100"].startswith("b 300 29.0% ")


# ------------------------------------------------------------------------------------------------------
# 2-4, 7-9. tiers, an amount with a rule, an amount without one, an intersection with a difference rule


def _tiers_frame() -> pd.DataFrame:
    """Groups a and b of 200 (and 80 rows with no group), every tier × sex cell at least 10 rows; b gets a
    tier of high or above a quarter of the time, a five eighths; hours average exactly 20 for a and 28.4 for b."""
    n, unknown = 200, 80
    return pd.DataFrame({
        "grp": np.array(["a"] * n + ["b"] * n + [None] * unknown, dtype=object),
        "sex": np.tile(np.repeat(["f", "m"], 8), (2 * n + unknown) // 16),
        "tier": np.r_[np.tile(["low", "normal", "normal", "high", "high", "urgent", "urgent", "urgent"], n // 8),
                      np.tile(["low", "low", "low", "normal", "normal", "high", "urgent", "low"], n // 8),
                      np.tile(["low", "normal", "high", "urgent"], unknown // 4)],
        "hours": np.r_[np.tile([10.0, 30.0], n // 2), np.tile([20.4, 36.4], n // 2), [25.0] * unknown],
        "granted": np.r_[np.tile([4.0, 6.0], n // 2), np.tile([3.0, 5.0], n // 2), [5.0] * unknown]})


TIERS_SPEC = {
    "system": {"name": "tiers and amounts"},
    "decision": {"column": "tier", "tiers": {"values": {"low": "adverse", "normal": "neutral", "high": "favourable",
                                                        "urgent": "favourable"}}},
    "amounts": [{"column": "hours", "higher_is": "adverse"}, {"column": "granted", "higher_is": "favourable"}],
    "protected": [{"column": "grp", "reference": "a"}, {"column": "sex", "reference": "m"}],
    "intersections": [{"columns": ["grp", "sex"], "reference": ["a", "m"]}],
    "policy": [{"metric": "tier_at_least:high", "ratio": [0.8, 1.25], "rule": "ci", "attributes": ["grp", "sex"]},
               {"metric": "mean:hours", "ratio": [None, 1.25], "rule": "ci", "attributes": ["grp"]},
               {"metric": "tier_at_least:high", "difference": [-0.1, 0.1], "rule": "ci",
                "attributes": ["grp × sex"]}]}


@pytest.fixture(scope="module")
def tiers() -> audit.AuditResult:
    return audit.run(TIERS_SPEC, _tiers_frame())


@pytest.fixture(scope="module")
def tiers_pages(tiers) -> dict[str, str]:
    return {lang: render_report_html(tiers, lang=lang) for lang in ("en", "vi")}


def test_amount_values_are_numbers_in_their_own_units_and_tier_rates_stay_percentages(tiers, tiers_pages) -> None:
    heading = "grp — mean:hours ratio in [-inf, 1.25] (ci) [amount: hours]"
    english, vietnamese = _block(tiers_pages["en"], heading), _block(tiers_pages["vi"], heading)
    header = [line for line in _text(english).splitlines() if line][2]
    assert tiers.family.size == 6  # 1 − 0.05 / 6 = 99.17% each
    assert header == "Group People with a value Mean: hours Confidence interval Ratio 95% interval family interval " \
                     "(99.17% each) p (family) Verdict"
    assert _row(english, "b").startswith("b 200 28.4 27.3 to 29.5 1.42 ")
    assert _row(vietnamese, "b").startswith("b 200 28,4 27,3 đến 29,5 1,42 ")
    assert not [line for line in _text(english).splitlines() if "%" in line and "interval" not in line]
    assert "2,840" not in english                          # only the column headers and caption give a confidence
    axis = re.findall(r">([^<]*)</text>", re.findall(r"<svg.*?</svg>", english, flags=re.DOTALL)[0])
    assert axis[:5] == ["0", "7.5", "15", "22.5", "30"]                        # 0 to a round 30 hours, no %
    tier_block = _block(tiers_pages["en"], "grp — tier_at_least:high ratio in [0.8, 1.25] (ci) [tiers]")
    assert _row(tier_block, "b").startswith("b 200 25.0% 19.5% – 31.4% 0.4 ")
    assert "100%" in re.findall(r"<svg.*?</svg>", tier_block, flags=re.DOTALL)[0]   # a proportion's axis


def test_every_amount_has_a_table_even_without_a_rule(tiers, tiers_pages) -> None:
    text = _text(tiers_pages["en"])
    table = _section(text, "Amount: granted", "5. Findings")
    assert table[:3] == [
        ("Each group's mean, median and quantiles of granted, in its own units, with their confidence intervals; "
         "only rows with a value count. A higher value is favourable for the person."),
        ("Attribute Group People with a value Mean Confidence interval Median Confidence interval Quantile q90 "
         "Confidence interval"),
        "grp a 200 5 4.86 to 5.14 5 4 to 6 6 6 to 6"]
    assert "grp unknown (unknown) 80 5 5 to 5 5 5 to 5 5 5 to 5" in table
    assert "grp × sex b × f 96 4 3.8 to 4.2 4 3 to 5 5 5 to 5" in table
    summary = summary_markdown(tiers)
    assert "## Amount: granted (a higher value is favourable)" in summary
    assert "| grp | a | 200 | 5 | 4.86 to 5.14 | 5 | 4 to 6 | 6 | 6 to 6 |" in summary
    vietnamese = _text(tiers_pages["vi"])
    assert "Đại lượng: granted" in vietnamese and "grp a 200 5 4,86 đến 5,14 5 4 đến 6 6 6 đến 6" in vietnamese


def test_a_tiers_decision_is_described_by_its_tiers_not_as_a_positive_decision(tiers, tiers_pages) -> None:
    line = "tiers of 'tier': low (adverse), normal (neutral), high, urgent (favourable)"
    assert decision_sentence(tiers.counts.decision, tiers.spec.adverse, tiers=tiers.spec.tiers) == line
    assert f"- {line}\n" in summary_markdown(tiers)
    assert "positive decision" not in summary_markdown(tiers)
    # the CLI passes no kinds (audit/cli.py): the tiers are still listed, never as a positive decision
    assert decision_sentence(tiers.counts.decision, tiers.spec.adverse) == "tiers of 'tier': low, normal, high, urgent"
    method = {lang: _section(_text(page), {"en": "3. Method", "vi": "3. Phương pháp"}[lang],
                             {"en": "4. Results", "vi": "4. Kết quả"}[lang]) for lang, page in tiers_pages.items()}
    assert "Orientation: tiers of tier, lowest first: low (adverse), normal (neutral), high, urgent (favourable)" \
        in method["en"]
    assert ("Chiều tác động: các hạng của tier, từ thấp nhất: low (bất lợi), normal (trung tính), high, urgent "
            "(thuận lợi)") in method["vi"]
    assert not [line for line in method["en"] if "positive decision" in line]


def test_the_heat_map_of_a_difference_rule_says_differences(tiers_pages) -> None:
    block = _block(tiers_pages["en"], "grp × sex — tier_at_least:high difference in [-0.1, 0.1] (ci) [tiers]")
    assert "Intersectional heat map of the differences" in block and "of the ratios" not in block
    ratios = _block(tiers_pages["en"], "sex — tier_at_least:high ratio in [0.8, 1.25] (ci) [tiers]")
    assert "Intersectional heat map" not in ratios
    assert "Bản đồ nhiệt giao thoa của các hiệu số" in tiers_pages["vi"]


def test_unknown_values_list_each_attribute_once_and_no_intersection(tiers, tiers_pages) -> None:
    unknown = _section(_text(tiers_pages["en"]), "Unknown values", "Notes from the audit")
    assert unknown == ["Attribute People with an unknown value", "grp 80"]
    assert (tiers.groups["attribute"].eq("grp × sex") & tiers.groups["unknown"]).any()  # the rows left out


def test_vietnamese_names_tier_and_amount_metrics_and_their_definitions(tiers, tiers_pages) -> None:
    text = _text(tiers_pages["vi"])
    method = _section(text, "3. Phương pháp", "4. Kết quả")
    assert method[1:3] == ["giá trị trung bình: hours Σ giá trị / số dòng có giá trị",
                           "tỷ lệ hạng lũy kế: high số dòng thuộc hạng đó hoặc một hạng được liệt kê sau nó / số dòng"]
    assert "Thuộc tính Nhóm Số người có giá trị Giá trị trung bình Khoảng tin cậy Trung vị Khoảng tin cậy " \
           "Phân vị q90 Khoảng tin cậy" in text
    assert ("Giá trị trung bình: hours của b (grp) bằng 1,42 lần so với a (KTC 95%: 1,31 đến 1,54); chính sách "
            "cho phép tối đa 1,25.") in text
    for english in ("Mean: hours", "mean: hours", "Cumulative tier rate", "cumulative tier rate",
                    "Σ value / rows with a value", "Quantile q90"):
        assert english not in text
    assert _untranslated(tiers) == []


# ------------------------------------------------------------------------------------------------------
# 5. withheld numbers, 6. one-sided bands


def test_a_finding_with_withheld_numbers_is_worded_as_withheld() -> None:
    frame = pd.DataFrame({"grp": ["a"] * 400 + ["b"] * 400 + ["c"] * 8,
                          "d": np.r_[np.tile([1] + [0] * 9, 40), np.tile([1, 0], 200), [1] * 8]})
    spec = {"system": {"name": "withheld"}, "decision": {"column": "d", "positive": 1},
            "protected": [{"column": "grp", "reference": "a"}],
            "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25], "rule": "ci"}],
            "statistics": {"min_group_size": 5}}
    result = audit.run(spec, frame)
    assert result.verdicts.set_index("group").loc["c", "verdict"] == "fail"
    english = _text(render_report_html(result, lang="en"))
    assert ("The selection rate of c (grp) compared with a: the figures are withheld to protect groups of fewer "
            "than 10 people; the verdict is fail.") in english
    assert "withheld times" not in english and "— to —" not in english
    vietnamese = _text(render_report_html(result, lang="vi"))
    assert ("Tỷ lệ được chọn của c (grp) so với a: các số liệu không được công bố để bảo vệ các nhóm có dưới 10 "
            "người; kết luận là không đạt.") in vietnamese


def test_a_fail_beyond_a_one_sided_band_is_high_severity() -> None:
    frame = pd.DataFrame({"grp": ["a"] * 400 + ["b"] * 400,
                          "d": np.r_[np.tile([1, 0], 200), np.tile([1, 0, 0, 0], 100)]})
    spec = {"system": {"name": "one-sided"}, "decision": {"column": "d", "positive": 1},
            "protected": [{"column": "grp", "reference": "a"}],
            "policy": [{"metric": "selection_rate", "ratio": [0.8, None], "rule": "ci"}]}
    result = audit.run(spec, frame)
    assert result.verdicts["band_high"].iloc[0] is None                      # the shape that hid it
    findings = _section(_text(render_report_html(result, lang="en")), "5. Findings", "6. Limitations")
    row = result.verdicts.iloc[0]
    assert result.family.size == 1 and (f"{row['family_ci_low']:.3g}", f"{row['family_ci_high']:.3g}") == ("0.364",
                                                                                                          "0.682")
    assert findings[1] == ("high The selection rate of b (grp) was 0.5 times that of a (95% CI 0.411 to 0.608); "
                           "the policy allows at least 0.8. Its family interval, 0.364 to 0.682 (95% each), lies "
                           "entirely outside the band. selection_rate ratio in [0.8, inf] (ci) [decision]")


# ------------------------------------------------------------------------------------------------------
# 10. the model itself: the flip test and less discriminatory alternatives


@pytest.fixture(scope="module")
def model_spec(tmp_path_factory) -> dict:
    """A model whose decision is income + 20 × [group = b] ≥ 50, over 2,000 people."""
    folder = tmp_path_factory.mktemp("report_model")
    frame = people(2_000)
    frame.to_csv(folder / "people.csv", index=False)
    sio.dump(planted_pipeline(frame), folder / "planted.skops")
    return {"system": {"name": "planted model"}, "data": {"path": str(folder / "people.csv")},
            "outcome": {"column": "outcome", "positive": 1}, "decision": {"column": "eligible", "positive": 1},
            "model": {"path": str(folder / "planted.skops"), "features": ["income", "group"]},
            "protected": [{"column": "group", "reference": "a"}, {"column": "sex"}],
            "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25], "rule": "ci"}]}


@pytest.fixture(scope="module")
def model_result(model_spec) -> audit.AuditResult:
    return audit.run(model_spec)


def test_the_flip_test_section_shows_each_flip_and_names_the_largest(model_result) -> None:
    result = model_result
    flips = result.table("flips").set_index(["group", "set_to"])
    text = _text(render_report_html(result, lang="en"))
    section = _section(text, "5. Counterfactual flip test", "6. Findings")
    assert section[0].startswith("Each protected column or flagged proxy the model takes was set, for every row, "
                                 "to each other group's value, and the rows were scored again with the model.")
    assert section[1:3] == ["group", "Group Set to Rows Flips Flip rate Confidence interval To positive To negative"]
    row = flips.loc[("a", "b")]
    assert f"a b {row['rows']} {row['flips']} {row['flip_rate']:.1%} {row['ci_low']:.1%} – {row['ci_high']:.1%} " \
           f"withheld < 10" in section          # no flip toward negative: both directions withheld (suppression)
    top = result.table("flips").sort_values("flip_rate").iloc[-1]
    assert (f"The largest flip rate is {top['flip_rate']:.1%} (95% CI {top['ci_low']:.1%} to {top['ci_high']:.1%}): "
            f"rows of {top['group']} (group) set to {top['set_to']}.") in section
    listed = len(result.table("flip_rows"))
    assert listed == 20
    assert ("The rows whose decision or score changed most are listed by row number in the internal result.json "
            "(table flip_rows), for the data's owner to review; this public report does not print them or their "
            "number.") in section  # how many rows are listed would say how many flipped: not published
    assert " 20 rows" not in " ".join(section)
    model = result.provenance.model
    assert (f"Model audited: file planted.skops, format skops, SHA-256 {model['sha256'][:12]}…"
            in _section(text, "3. Method", "4. Results"))
    assert model["sha256"] in text and "8. Recommendations" in text               # the sections after move on
    vietnamese = _text(render_report_html(result, lang="vi"))
    assert "5. Kiểm tra lật quyết định phản thực tế" in vietnamese
    assert f"Tỷ lệ lật lớn nhất là {format_percent(top['flip_rate'], 'vi')}" in vietnamese


def test_alternatives_json_in_the_folder_goes_into_the_recommendations(model_spec, model_result, tmp_path) -> None:
    frontier = find_alternatives(model_spec, options=AlternativeOptions(constraints=("demographic_parity",)))
    write_frontier(frontier, tmp_path)
    written = write_report(model_result, tmp_path, pdf=False)
    page = written.paths["public/report.html"].read_text(encoding="utf-8")
    text = _text(page)
    section = _section(text, "8. Recommendations", "Sign-off")
    sentences = json.loads((tmp_path / "alternatives.json").read_text(encoding="utf-8"))["sentences"]
    for metric, name in (("selection_rate", "selection-rate"), ("fpr", "false-positive-rate"),
                         ("fnr", "false-negative-rate")):
        wording = sentences[metric].replace(f"the {name} gap", f"the gap in {name.replace('-', ' ')}")
        assert wording[:1].upper() + wording[1:] + "." in section, (wording, section)
    current = frontier.table[frontier.table["current"]].iloc[0]
    assert (f"current model {current['accuracy']:.3g} {current['utility']:.3g} {current['selection_rate_gap']:.3g} "
            f"{current['fpr_gap']:.3g} {current['fnr_gap']:.3g}") in section
    chart = page[page.index("Less discriminatory alternatives"):].split("<figure>")[1].split("</figure>")[0]
    assert chart.count("<circle") == len(frontier.table) == 2
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert listed["alternatives.json"] == hashlib.sha256((tmp_path / "alternatives.json").read_bytes()).hexdigest()
    assert _untranslated(model_result, read_alternatives(tmp_path)) == []


def test_alternatives_of_another_model_are_flagged_and_a_broken_file_is_named(model_result, tmp_path) -> None:
    frontier = {"attribute": "group", "reference": "a", "rows_judged": 10, "utility": "balanced_accuracy",
                "provenance": {"model": {"sha256": "0" * 64}},
                "frontier": [{"alternative": "current model", "current": True, "accuracy": 0.7, "utility": 0.7,
                              "selection_rate_gap": 0.2, "fpr_gap": 0.3, "fnr_gap": None}]}
    (tmp_path / "alternatives.json").write_text(json.dumps(frontier), encoding="utf-8")
    text = _text(render_report_html(model_result, lang="en", alternatives=read_alternatives(tmp_path)))
    assert ("alternatives.json was computed for a different model than the one audited here; its figures may not "
            "apply.") in text
    assert "No alternative tried narrows the gap in selection rate by group below the current model's 0.20." in text
    assert "The gap in false negative rate by group is undefined for the current model." in text
    (tmp_path / "alternatives.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(audit.DataError, match=r"alternatives\.json: cannot be read as JSON"):
        read_alternatives(tmp_path)
    del frontier["frontier"][0]["accuracy"]
    (tmp_path / "alternatives.json").write_text(json.dumps(frontier), encoding="utf-8")
    with pytest.raises(audit.DataError, match=r"alternatives\.json: a 'frontier' row has no 'accuracy'"):
        read_alternatives(tmp_path)
    assert read_alternatives(Path(tmp_path / "elsewhere")) is None
