"""The 1022 hotline scenario (synthetic): its planted facts, its override audit, and Vietnamese text end to end.

``examples/hotline_1022`` imitates AI-assisted complaint triage at a city hotline like Ho Chi Minh City's
1022 (the data are invented; README.md documents the planted facts). ``tests/test_scenarios.py`` checks that
``spec.yaml`` makes exactly the findings of ``expected_findings.yaml`` and that the generator reproduces the
CSV. Here: the planted rates measured on the shipped CSV with pandas, the second spec (the caseworkers'
overrides, which the toolkit audits as a yes/no decision because it does not combine tiers with a final
decision), and that names with Vietnamese diacritics survive from the CSV into the result and the report.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pandas as pd
import pytest

import audit
from audit.outputs import summary_markdown
from audit.report.writer import render_report_html
from audit.testing import assert_audit_finds

FOLDER = Path(__file__).resolve().parent.parent / "examples" / "hotline_1022"
HIGH = ["cao", "khẩn cấp"]
NAMES = ["Huyện Cần Giờ", "Huyện Củ Chi", "Thành phố Thủ Đức", "Quận Bình Thạnh", "Tiếng Việt", "Tiếng Khmer",
         "Điện thoại 1022", "Ứng dụng Công dân số"]


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return pd.read_csv(FOLDER / "hotline_1022.csv", encoding="utf-8")


@pytest.fixture(scope="module")
def result() -> audit.AuditResult:
    return audit.run(FOLDER / "spec.yaml")


def _share(frame: pd.DataFrame, by: str, column: str = "ai_priority") -> pd.Series:
    return frame[column].isin(HIGH).groupby(frame[by]).mean()


def test_the_shipped_csv_is_the_documented_sample(rows: pd.DataFrame) -> None:
    assert len(rows) == 20_000 and rows["complaint_id"].is_unique
    assert rows["district"].isna().sum() == 335 and rows["ward"].isna().sum() == 919
    assert rows["response_hours"].isna().sum() == 396
    assert set(rows["ai_priority"]) == set(rows["final_priority"]) == {"thấp", "thường", "cao", "khẩn cấp"}
    for column in ("channel", "language", "district", "ward", "category", "ai_priority"):
        for value in rows[column].dropna().unique():
            assert unicodedata.is_normalized("NFC", value), (column, value)


def test_the_ai_gives_outlying_districts_and_other_languages_lower_priority(rows: pd.DataFrame) -> None:
    by_district = _share(rows, "district")
    assert by_district["Quận 1"] == pytest.approx(0.341, abs=0.03)          # true 34.1%
    assert by_district["Huyện Cần Giờ"] == pytest.approx(0.140, abs=0.03)   # true 14.0%
    assert by_district["Huyện Củ Chi"] == pytest.approx(0.165, abs=0.03)    # true 16.5%
    others = by_district.drop(["Huyện Cần Giờ", "Huyện Củ Chi"])
    assert others.max() - others.min() < 0.05                                # no other district is shifted
    by_language = _share(rows, "language")
    assert by_language["Tiếng Việt"] == pytest.approx(0.344, abs=0.02)
    assert by_language["Tiếng Khmer"] / by_language["Tiếng Việt"] == pytest.approx(0.29, abs=0.08)
    by_channel = _share(rows, "channel")
    assert by_channel.max() - by_channel.min() < 0.03                        # the AI ignores the channel


def test_caseworkers_raise_central_complaints_far_more_often(rows: pd.DataFrame) -> None:
    low = rows[~rows["ai_priority"].isin(HIGH)]
    raised = low["final_priority"].isin(HIGH).groupby(low["district"]).mean()
    assert raised["Quận 1"] == pytest.approx(0.35, abs=0.04) and raised["Quận 3"] == pytest.approx(0.35, abs=0.04)
    assert raised.drop(["Quận 1", "Quận 3"]).between(0.01, 0.05).all()      # true 3% everywhere else
    changed_low = low[low["final_priority"] != low["ai_priority"]]
    assert (changed_low["final_priority"] == "cao").all()                    # a raise always goes to cao
    high = rows[rows["ai_priority"].isin(HIGH)]
    lowered = (~high["final_priority"].isin(HIGH)).groupby(high["district"]).mean()
    assert lowered.between(0.04, 0.13).all()                                 # true 8% in every district


def test_phone_and_translated_complaints_wait_longer(rows: pd.DataFrame) -> None:
    hours = rows.groupby("channel")["response_hours"].mean()
    assert hours["Điện thoại 1022"] / hours["Ứng dụng Công dân số"] == pytest.approx(1.71, abs=0.08)
    hours = rows.groupby("language")["response_hours"].mean()
    assert hours["Tiếng Hoa"] / hours["Tiếng Việt"] == pytest.approx(1.47, abs=0.1)
    assert hours["Tiếng Khmer"] / hours["Tiếng Việt"] == pytest.approx(1.70, abs=0.12)
    assert hours["Tiếng Anh"] / hours["Tiếng Việt"] == pytest.approx(1.05, abs=0.05)  # only its lower tiers


def test_diacritics_survive_into_the_result_and_its_outputs(result: audit.AuditResult) -> None:
    groups = set(result.groups["group"].astype(str))
    assert set(NAMES) <= groups
    assert "Huyện Cần Giờ × Điện thoại 1022" in groups
    failing = result.verdicts[result.verdicts["verdict"] == "fail"]
    assert {"Huyện Cần Giờ", "Huyện Củ Chi", "Tiếng Khmer"} <= set(failing["group"])
    summary = summary_markdown(result)
    assert "Huyện Cần Giờ" in summary and "Huyen Can Gio" not in summary and "\\u" not in summary
    html = render_report_html(result)
    assert "Huyện Cần Giờ" in html and "Kết luận chung" in html               # report.language: vi
    assert "khẩn cấp" in html


def test_the_tier_audit_measures_the_planted_ratios(result: audit.AuditResult) -> None:
    v = result.verdicts.set_index(["metric", "attribute", "group"])
    assert v.loc[("tier_at_least:cao", "district", "Huyện Cần Giờ"), "estimate"] == pytest.approx(0.41, abs=0.08)
    assert v.loc[("tier_at_least:cao", "language", "Tiếng Khmer"), "estimate"] == pytest.approx(0.29, abs=0.08)
    assert v.loc[("mean:response_hours", "channel", "Điện thoại 1022"), "estimate"] == pytest.approx(1.71, abs=0.06)
    # Cần Giờ's and Củ Chi's waits are longer only through their lower tiers and phone share: within the band
    assert v.loc[("mean:response_hours", "district", "Huyện Cần Giờ"), "verdict"] == "pass"
    cu_chi = v.loc[("mean:response_hours", "district", "Huyện Củ Chi")]
    assert cu_chi["verdict"] == "pass" and cu_chi["p_family"] < 1e-6       # significant, but inside the band
    proxies = result.table("proxies").set_index(["protected", "column"])
    assert bool(proxies.loc[("district", "ward"), "flagged"])


def test_both_rules_are_significant_over_one_family_of_81(result: audit.AuditResult) -> None:
    v = result.verdicts
    assert result.spec.spec_version == 2 and set(v["decision_rule"]) == {"significant"}
    assert result.family.size == len(v) == 81 and result.family.alpha == 0.05
    assert v["verdict"].value_counts().to_dict() == {"pass": 62, "fail": 18, "inconclusive": 1}
    chance = v[v["verdict"] == "inconclusive"].iloc[0]                        # true ratio 1.09: no phone factor
    assert chance["group"] == "Huyện Củ Chi × Email" and chance["n"] == 114
    assert chance["estimate"] == pytest.approx(1.27, abs=0.01) and chance["p_family"] > 0.5


def test_the_override_audit_finds_exactly_its_documented_disparities() -> None:
    overrides = assert_audit_finds(FOLDER / "spec_overrides.yaml", FOLDER / "expected_findings_overrides.yaml")
    v = overrides.verdicts.set_index(["view", "metric", "attribute", "group"])
    raise_ratio = v.loc[("overrides", "override_to_positive", "district", "Huyện Cần Giờ"), "estimate"]
    assert raise_ratio == pytest.approx(0.086, abs=0.05)                      # 3% against 35%
    final = v.loc[("final", "selection_rate", "district", "Quận 7"), "estimate"]
    assert final == pytest.approx(0.61, abs=0.07)                             # AI: 1.0; after review: 0.61
    effects = overrides.table("override_effects").set_index(["attribute", "group", "metric"])
    assert effects.loc[("district", "Quận 7", "selection_rate"), "effect"] == "widens"
    assert overrides.family.size == 48
    assert overrides.verdicts["verdict"].value_counts().to_dict() == {"fail": 24, "pass": 16, "inconclusive": 8}
    rules = overrides.verdicts.groupby("metric")["decision_rule"].unique().map(list).to_dict()
    assert rules == {"selection_rate": ["significant"], "override_to_positive": ["ci"]}
    # the phone channel's raise rate is truly 0.85x the app's (fewer central callers): near the band's edge,
    # inside it; ci leaves it open instead of accusing
    phone = v.loc[("overrides", "override_to_positive", "channel", "Điện thoại 1022")]
    assert phone["verdict"] == "inconclusive" and phone["estimate"] == pytest.approx(0.858, abs=0.001)
    assert phone["family_ci_low"] < 0.8 < phone["family_ci_high"]
