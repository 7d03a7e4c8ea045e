"""The Lạc Giang trust-score scenario (synthetic): its planted facts, its proxies, and its Art. 5(1)(c) report.

``examples/trust_score`` imitates a citizen "trust score" with reward and sanction tiers in the style of a
social-credit pilot (the data are invented; README.md documents the planted facts). ``tests/test_scenarios.py``
checks that ``spec.yaml`` makes exactly the findings of ``expected_findings.yaml`` and that the generator
reproduces the CSV. Here: the tier shares measured on the shipped CSV against the exact shares the generator
implies, the absence of any direct ethnicity or religion term in the score, the proxy scan, and that the
written report carries the EU AI Act Art. 5(1)(c) section with the spec's answers.
"""

from __future__ import annotations

import html
import math
import re
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
import yaml

import audit
from audit.report.writer import write_report
from conftest import scenario_generator

FOLDER = Path(__file__).resolve().parent.parent / "examples" / "trust_score"
TIERS = ["blacklist", "watchlist", "standard", "redlist"]


def _load_generator() -> ModuleType:
    return scenario_generator("trust_score")


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    return _load_generator()


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return pd.read_csv(FOLDER / "trust_score.csv", encoding="utf-8")


@pytest.fixture(scope="module")
def result() -> audit.AuditResult:
    return audit.run(FOLDER / "spec.yaml")


@pytest.fixture(scope="module")
def answers() -> dict[str, str]:
    return yaml.safe_load((FOLDER / "spec.yaml").read_text(encoding="utf-8"))["report"]["answers"]


def test_the_shipped_csv_is_the_documented_sample(rows: pd.DataFrame) -> None:
    assert len(rows) == 24_000 and rows["resident_id"].is_unique
    assert rows["religion"].isna().sum() == 265                      # not declared: the unknown group
    assert rows["family_record"].isna().sum() == 1_208                 # lý lịch held by the home province
    assert rows["social_network_score"].isna().sum() == 1_040          # no registered phone
    unavailable = rows["family_record"].isna()
    assert (rows.loc[unavailable, "registration"] == "tạm trú").all()   # only temporary residents lack one
    assert rows["tier"].value_counts().to_dict() == {"standard": 13_371, "redlist": 4_763, "watchlist": 4_113,
                                                     "blacklist": 1_753}


def test_tiers_follow_the_published_cut_offs(rows: pd.DataFrame) -> None:
    cut = pd.cut(rows["trust_score"], [-math.inf, 869, 939, 1039, math.inf], labels=TIERS)
    assert (cut.astype(str) == rows["tier"]).all()


@pytest.mark.parametrize("by", ["ethnicity", "religion", "registration", "sex"])
def test_measured_tier_shares_match_the_exact_planted_shares(gen: ModuleType, rows: pd.DataFrame, by: str) -> None:
    true = gen.true_tier_shares(by)
    measured = pd.crosstab(rows[by], rows["tier"], normalize="index")
    sizes = rows[by].value_counts()
    for group in true.index:
        for tier in TIERS:
            p, n = true.loc[group, tier], sizes[group]
            assert abs(measured.loc[group, tier] - p) <= 4 * math.sqrt(p * (1 - p) / n), (group, tier)


def test_groups_planted_equal_have_exactly_the_reference_shares(gen: ModuleType) -> None:
    ethnicity, religion, sex = (gen.true_tier_shares(b)[TIERS] for b in ("ethnicity", "religion", "sex"))
    for group in ("Tày", "Mường", "Khác"):
        assert ethnicity.loc[group].to_numpy() == pytest.approx(ethnicity.loc["Kinh"].to_numpy(), abs=1e-12)
    assert religion.loc["Phật giáo"].to_numpy() == pytest.approx(religion.loc["Không tôn giáo"].to_numpy(), abs=1e-12)
    assert sex.loc["nam"].to_numpy() == pytest.approx(sex.loc["nữ"].to_numpy(), abs=1e-12)
    assert ethnicity.loc["H'Mông", "blacklist"] / ethnicity.loc["Kinh", "blacklist"] == pytest.approx(8.63, abs=0.01)
    assert religion.loc["Tin Lành", "redlist"] / religion.loc["Không tôn giáo", "redlist"] == pytest.approx(0.086,
                                                                                                              abs=0.001)


def test_the_score_has_no_direct_ethnicity_or_religion_term(gen: ModuleType, rows: pd.DataFrame) -> None:
    # What the published inputs explain; the rest is the noise of the inputs not in the extract (sd 35).
    p = gen.POINTS
    explained = (gen.BASE_POINTS + p["temporary"] * (rows["registration"] == "tạm trú")
                 + p["conviction"] * (rows["family_record"] == "tiền án")
                 + p["security"] * (rows["family_record"] == "an ninh")
                 + p["record_unavailable"] * rows["family_record"].isna()
                 + (p["per_network_point"] * (rows["social_network_score"] - gen.NETWORK_MEAN))
                 .fillna(p["network_missing"])
                 + p["party"] * rows["party_member"] + p["per_fine"] * rows["unpaid_fines"]
                 + gen.volunteer_points(rows["volunteer_hours"].to_numpy())
                 + p["worship"] * rows["unregistered_worship"])
    residual = rows["trust_score"] - explained
    assert residual.std() == pytest.approx(gen.NOISE_SD, abs=1.0)
    for by in ("ethnicity", "religion", "sex", "registration"):
        means = residual.groupby(rows[by]).mean()
        assert means.abs().max() < 4.0, by            # a direct term of even 10 points would show here


def test_the_proxy_scan_finds_the_stand_ins_and_ranks_the_network_score_below_the_threshold(result) -> None:
    table = result.tables["proxies"].set_index(["protected", "column"])
    assert table.loc[("religion", "unregistered_worship"), "strength"] == pytest.approx(0.72, abs=0.03)
    assert table.loc[("ethnicity", "commune"), "strength"] == pytest.approx(0.43, abs=0.03)
    assert table.loc[("ethnicity", "unregistered_worship"), "strength"] == pytest.approx(0.43, abs=0.03)
    assert table.loc[("registration", "family_record"), "strength"] == pytest.approx(0.68, abs=0.03)
    network = table.loc[("ethnicity", "social_network_score")]
    assert not network["flagged"] and network["strength"] < 0.2 and network["auc"] > 0.75   # a real proxy V misses


PLANTED = {"ethnicity": ["Dao", "H'Mông", "Thái"], "religion": ["Công giáo", "Tin Lành"],
           "registration": ["tạm trú"],
           "ethnicity × sex": [f"{e} × {s}" for e in ("Dao", "H'Mông", "Thái") for s in ("nam", "nữ")]}
"""The groups whose tier shares the generator plants outside the band, by attribute (README.md, "Ground truth")."""


def test_every_rule_is_significant_and_judges_one_family_of_72(result) -> None:
    v = result.verdicts
    assert result.spec.spec_version == 2 and set(v["decision_rule"]) == {"significant"}
    assert result.family.size == len(v) == 72 and result.family.alpha == 0.05
    assert v["verdict"].value_counts().to_dict() == {"fail": 36, "pass": 31, "inconclusive": 5}
    failing = v[v["verdict"] == "fail"].groupby("attribute")["group"].apply(lambda g: sorted(set(g))).to_dict()
    assert failing == {attribute: sorted(groups) for attribute, groups in PLANTED.items()}
    assert (v[v["verdict"] == "fail"].groupby(["attribute", "group"]).size() == 3).all()   # all three rules
    cells = v[v["attribute"] == "ethnicity × sex"]
    assert set(cells["reference"]) == {"Kinh × nữ"} and len(cells) == 3 * 13


def test_the_inconclusive_verdicts_are_chance_in_equal_cells(result) -> None:
    v = result.verdicts
    open_ = v[v["verdict"] == "inconclusive"].set_index("group")
    assert set(open_["metric"]) == {"tier_rate:blacklist"} and set(open_["attribute"]) == {"ethnicity × sex"}
    assert sorted(open_.index) == ["Khác × nam", "Khác × nữ", "Mường × nam", "Tày × nam", "Tày × nữ"]
    assert (open_["estimate"] > 1.25).all() and (open_["p_family"] >= 0.7).all()
    muong = open_.loc["Mường × nam"]                     # planted equal: an unadjusted test would call it
    assert muong["estimate"] == pytest.approx(1.68, abs=0.01) and muong["ci_low"] > 1.0   # significant
    assert muong["p_family"] == pytest.approx(1.0, abs=0.01)
    tay = v[(v["metric"] == "tier_rate:blacklist") & (v["group"] == "Tày")].iloc[0]
    assert tay["verdict"] == "pass" and tay["estimate"] == pytest.approx(1.24, abs=0.01)  # inside the band


ITEM_ROW = re.compile(r'<tr><td>(.*?) <span class="item-id">([\w.]+)</span></td><td>(.*?)</td></tr>', re.DOTALL)


def _text(fragment: str) -> str:
    """The visible text of an HTML fragment, unescaped, with whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _framework_rows(page: str) -> dict[str, tuple[str, str]]:
    """Item id -> (item text, answer) from the framework checklists of the report."""
    return {item_id: (_text(text), _text(answer)) for text, item_id, answer in ITEM_ROW.findall(page)}


def test_the_report_carries_the_art5_social_scoring_section_with_the_spec_answers(result, answers, tmp_path) -> None:
    write_report(result, tmp_path, pdf=False)
    page = (tmp_path / "public" / "report.html").read_text(encoding="utf-8")
    assert 'lang="vi"' in page                                                   # report.language: vi
    eu = page[page.index('<section class="framework">'):]
    assert "5(1)(c)" in html.unescape(eu.split("</section>")[0])                 # the EU AI Act section
    items = _framework_rows(page)
    for item_id, limb in (("eu_ai_act.art5.context", "5(1)(c)(i)"), ("eu_ai_act.art5.proportion", "5(1)(c)(ii)")):
        text, answer = items[item_id]
        assert limb in text
        assert answer == " ".join(answers[item_id].split())
    assert "H'Mông" in items["eu_ai_act.art5.context"][1] and "cơ quan giám sát" in items["eu_ai_act.art5.context"][1]
    for item_id in ("vietnam.risk_tier", "vietnam.art27.mitigation", "vietnam.art27.oversight", "vietnam.pdpl"):
        assert items[item_id][1] == " ".join(answers[item_id].split())
    assert items["vietnam.risk_tier"][1].startswith("Cao (Điều 9)")
