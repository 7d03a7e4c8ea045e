"""Fixes to the oversight report: unknown values with amounts, quoted labels in notes, selective-labels
recommendations, findings without an interval, the executive summary's choice, underflowed p-values."""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import pytest

import audit
from audit import wording
from audit.outputs import summary_markdown
from audit.report.writer import render_report_html
from audit.public_files import public_markdown
from audit.suppression import mask_text, suppress

SMALL_GROUPS = "Collect enough data on the small groups to reach a verdict, and audit again."
RANDOM_SAMPLE = ("Draw a random evaluation sample whose outcomes are checked whatever the decision, so that error "
                 "rates can be estimated without selective labels.")


def _text(page: str) -> str:
    """The visible text of a report page, one line per list item or table row, charts left out."""
    page = re.sub(r"<style>.*?</style>|<svg.*?</svg>", "", page, flags=re.DOTALL)
    page = re.sub(r"</li>|</tr>|</p>", "\n", page)
    page = re.sub(r"<[^>]+>", " ", page)
    return "\n".join(re.sub(r"\s+", " ", html.unescape(line)).strip() for line in page.splitlines())


def _section(text: str, start: str, end: str) -> list[str]:
    """The non-empty lines of ``text`` between the headings ``start`` and ``end``."""
    body = text[text.index(start) + len(start):text.index(end)]
    return [line for line in body.splitlines() if line]


# ------------------------------------------------------------------------------------------------------
# a decision with three amounts, one attribute with missing values


def _amounts_frame() -> pd.DataFrame:
    """Groups a, b (selected half as often), c (waits twice as long), d (3%) and 40 rows with no group.

    Women are granted 0.5, 0.6 or 0.7 of their request and men 0.8, 0.9 or 1.0, so the medians are 0.6
    and 0.9 whatever the draw.
    """
    rng = np.random.default_rng(7)
    grp = np.array(["a"] * 600 + ["b"] * 600 + ["c"] * 400 + ["d"] * 50 + [None] * 40, dtype=object)
    n = grp.size
    sex = rng.choice(["F", "M"], n)
    rate = np.where(grp == "b", 0.25, 0.5)
    share = np.where(sex == "F", rng.choice([0.5, 0.6, 0.7], n), rng.choice([0.8, 0.9, 1.0], n))
    days = np.where(grp == "c", rng.integers(20, 41, n), rng.integers(10, 21, n))
    return pd.DataFrame({"grp": grp, "sex": sex, "d": (rng.random(n) < rate).astype(int), "share": share,
                         "days": days, "granted": share * 50})


def _amounts_spec(median_bound: str = "ratio") -> dict:
    median_band = [0.9, 1.1] if median_bound == "ratio" else [-0.1, 0.1]
    return {"system": {"name": "amounts"}, "decision": {"column": "d", "positive": 1, "adverse": False},
            "amounts": [{"column": "share", "higher_is": "favourable"},
                        {"column": "granted", "higher_is": "favourable"},
                        {"column": "days", "higher_is": "adverse"}],
            "protected": [{"column": "grp", "reference": "a"}, {"column": "sex", "reference": "M"}],
            "intersections": [{"columns": ["grp", "sex"], "reference": ["a", "M"]}],
            "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25], "rule": "ci"},
                       {"metric": "mean:share", "ratio": [0.9, 1.1], "rule": "ci"},
                       {"metric": "median:share", median_bound: median_band, "rule": "point"},
                       {"metric": "mean:days", "ratio": [0.8, 1.25], "rule": "ci"}],
            "statistics": {"min_group_size": 30},
            "report": {"small_share": 0.05, "small_share_justification": "Too few for a stable rate"}}


@pytest.fixture(scope="module")
def amounts() -> audit.AuditResult:
    return audit.run(_amounts_spec(), _amounts_frame())


@pytest.fixture(scope="module")
def amounts_text(amounts: audit.AuditResult) -> str:
    return _text(render_report_html(amounts, lang="en"))


def test_unknown_values_are_counted_when_the_first_view_is_an_amount(amounts, amounts_text) -> None:
    assert str(amounts.groups["view"].iloc[0]).startswith("amount: ")  # the case that hid them
    unknown = _section(amounts_text, "Unknown values", "Notes from the audit")
    assert unknown[:2] == ["Attribute People with an unknown value", "grp 40"]
    assert "Every row has a value for every protected attribute." not in amounts_text


def test_small_share_exclusions_are_listed_when_the_first_view_is_an_amount(amounts_text) -> None:
    excluded = _section(amounts_text, "Categories excluded under the small-share rule", "3. Method")
    assert excluded[2:4] == ["Attribute Group Share People Rate", "grp d 3.0% 50 52.0%"]
    assert "No category is below the threshold." not in excluded


def test_a_failure_without_an_interval_says_so_in_english_and_vietnamese(amounts, amounts_text) -> None:
    sentence = ("The median: share of F (sex) was 0.667 times that of M (no confidence interval for this ratio); "
                "the policy allows 0.9 to 1.1.")
    assert sentence in amounts_text
    assert "CI — to —" not in amounts_text
    vietnamese = _text(render_report_html(amounts, lang="vi"))
    assert ("bằng 0,667 lần so với M (không có khoảng tin cậy cho tỷ số này); chính sách cho phép từ 0,9 đến 1,1."
            in vietnamese)
    assert "KTC 95%: — đến —" not in vietnamese


def test_a_failed_difference_without_an_interval_says_so() -> None:
    result = audit.run(_amounts_spec(median_bound="difference"), _amounts_frame())
    text = _text(render_report_html(result, lang="en"))
    assert ("The median: share of F (sex) differed from that of M by -0.3 (no confidence interval for this "
            "difference); the policy allows -0.1 to 0.1.") in text
    vietnamese = _text(render_report_html(result, lang="vi"))
    assert "chênh lệch -0,3 so với M (không có khoảng tin cậy cho mức chênh lệch này)" in vietnamese


def test_the_executive_summary_shows_every_failing_rule_before_repeating_one(amounts, amounts_text) -> None:
    failing = list(dict.fromkeys(amounts.verdicts.loc[amounts.verdicts["verdict"] == "fail", "rule"]))
    assert len(failing) == 4
    top = _section(amounts_text, "1. Executive summary", "2. Scope and data")[2:]
    assert len(top) == 5
    assert [line.split(" of ")[0] for line in top] == [
        "The selection rate", "The mean: share", "The mean: days", "The median: share", "The mean: share"]
    assert top[0].startswith("The selection rate of b (grp) was ")
    assert top[2].startswith("The mean: days of c (grp) was ")
    assert top[4].startswith("The mean: share of a × F (grp × sex) was ")  # the rule's own order kept
    # the selection rule's one fail: b × F (ratio 0.507) is inconclusive, its family interval reaching 0.8
    assert list(amounts.verdicts.query("metric == 'selection_rate' and verdict == 'fail'")["group"]) == ["b"]


def test_an_underflowed_p_value_is_not_printed_as_zero(amounts) -> None:
    underflowed = amounts.verdicts[(amounts.verdicts["metric"] == "mean:share")
                                   & (amounts.verdicts["group"] == "F")]
    assert underflowed["p_family"].iloc[0] == 0.0
    row = "| amount: share | sex | F | M | 0.664 | 0.657 to 0.672 | 0.652 to 0.676 | 847 | 843 | < 1e-300 | **fail** | "
    for markdown in (summary_markdown(amounts), public_markdown(amounts, 10)):
        assert [line for line in markdown.splitlines() if line.startswith(row)], markdown


def test_p_value_wording() -> None:
    assert [wording.p_value(v) for v in (0.0, 0, 3.2e-310, 2.6e-163, 0.0123, 1.0, None, float("nan"))] == \
        ["< 1e-300", "< 1e-300", "3.2e-310", "2.6e-163", "0.012", "1", "n/a", "n/a"]


# ------------------------------------------------------------------------------------------------------
# selective labels: only the flagged rows (and a few tips) are checked


def _checked_frame(small_group: bool) -> pd.DataFrame:
    """Groups a and b of 1,000 flagged alike; outcomes known for flagged rows and 10% of the others."""
    rng = np.random.default_rng(11)
    grp = np.array(["a"] * 1000 + ["b"] * 1000 + (["c"] * 20 if small_group else []))
    n = grp.size
    d = (rng.random(n) < 0.3).astype(int)
    checked = ((d == 1) | (rng.random(n) < 0.1)).astype(int)
    y = np.where(checked == 1, (rng.random(n) < 0.4).astype(float), np.nan)
    return pd.DataFrame({"grp": grp, "d": d, "y": y, "checked": checked})


CHECKED_SPEC = {"system": {"name": "checked"}, "decision": {"column": "d", "positive": 1, "adverse": True},
                "outcome": {"column": "y", "positive": 1, "checked": "checked"},
                "protected": [{"column": "grp", "reference": "a"}],
                "policy": [{"metric": "selection_rate", "ratio": [0.5, 2], "rule": "ci"},
                           {"metric": "fpr", "ratio": [0.5, 2], "rule": "ci", "selective_labels": "refuse"}],
                "statistics": {"min_group_size": 30}}


def test_a_quoted_value_label_in_a_note_is_not_masked() -> None:
    result = audit.run(CHECKED_SPEC, _checked_frame(small_group=False))
    note = "outcome.checked: no 'positive' given; '1' in column 'checked' is taken as positive"
    assert note in result.notes
    assert note in suppress(result, 10).notes
    assert note in _text(render_report_html(result, lang="en"))


def test_mask_text_keeps_quoted_labels_and_masks_counts() -> None:
    assert mask_text("outcome.checked: no 'positive' given; '1' in column 'investigated' is taken as positive",
                     10) == "outcome.checked: no 'positive' given; '1' in column 'investigated' is taken as positive"
    assert mask_text("decision: the negative class of column 'x' combines several values: '0', '2', '3'", 10) == \
        "decision: the negative class of column 'x' combines several values: '0', '2', '3'"
    assert mask_text("protected 'grp_2': 7 rows have no value and form the group 'unknown'", 10) == \
        "protected 'grp_2': < 10 rows have no value and form the group 'unknown'"
    assert mask_text("the model's decisions equal the data's 'd' on 3 of 4,000 rows", 10) == \
        "the model's decisions equal the data's 'd' on < 10 of 4,000 rows"


def _recommendations(text: str, lang: str = "en") -> list[str]:
    headings = {"en": ("7. Recommendations", "Sign-off"), "vi": ("7. Khuyến nghị", "Ký xác nhận")}[lang]
    return _section(text, *headings)


def test_verdicts_held_back_by_selective_labels_recommend_a_random_sample() -> None:
    result = audit.run(CHECKED_SPEC, _checked_frame(small_group=False))
    inconclusive = result.verdicts[result.verdicts["verdict"] == "inconclusive"]
    assert list(inconclusive["metric"]) == ["fpr"]
    assert "selective labels" in inconclusive["reason"].iloc[0]
    recommendations = _recommendations(_text(render_report_html(result, lang="en")))
    assert recommendations == [RANDOM_SAMPLE]
    vietnamese = _recommendations(_text(render_report_html(result, lang="vi")), "vi")
    assert vietnamese == [("Lấy một mẫu đánh giá ngẫu nhiên và kiểm tra kết quả của mọi trường hợp trong mẫu bất "
                           "kể quyết định ra sao, để ước tính được các tỷ lệ sai sót mà không bị ảnh hưởng bởi "
                           "nhãn chọn lọc.")]


def test_small_groups_and_selective_labels_each_get_their_recommendation() -> None:
    result = audit.run(CHECKED_SPEC, _checked_frame(small_group=True))
    reasons = result.verdicts.loc[result.verdicts["verdict"] == "inconclusive", "reason"]
    # group c (20 people, below the minimum of 30) is judged on exact evidence: its family interval is too wide
    small = result.verdicts.set_index(["metric", "group"]).loc[("selection_rate", "c")]
    assert small["n"] == 20 and small["evidence"] == "exact" and small["verdict"] == "inconclusive"
    assert "overlaps the edge of [0.5, 2]" in small["reason"] and reasons.str.contains("selective labels").any()
    assert _recommendations(_text(render_report_html(result, lang="en"))) == [SMALL_GROUPS, RANDOM_SAMPLE]
