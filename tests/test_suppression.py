"""Small-cell suppression of published outputs: no count below k leaves in JSON, Markdown or CSV; withheld
counts cannot be recovered from a published total; the internal result is untouched; k = 1 withholds zeros
only; CSV cells are safe from formula injection."""

from __future__ import annotations

import copy
import csv
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import audit
from audit.errors import UsageError
from audit.public_files import public_json, public_markdown, write_public_csv
from audit.suppression import mask_text, neutralise_cell, suppress

sys.path.insert(0, str(Path(__file__).parent))
import beyond  # noqa: E402

K = 10
# count-like columns in any public table (people, or summed weights); checked independently of the module
COUNT_COLUMNS = {"n", "numerator", "denominator", "reference_n", "acted_on", "population", "positives",
                 "negatives"}
HYPERLINK = '=HYPERLINK("http://x")'


def _tier_frame() -> pd.DataFrame:
    """400 people: groups a (240), b (156) and a group of 4 (3 F, 1 M); tier 'none' has nobody."""
    rng = np.random.default_rng(1)
    group = np.array(["a"] * 240 + ["b"] * 156 + [HYPERLINK] * 4)
    sex = rng.choice(["F", "M"], 400)
    sex[396:399], sex[399] = "F", "M"
    return pd.DataFrame({"grp": group, "sex": sex, "tier": rng.choice(["high", "mid", "low"], 400)})


TIER_SPEC = {"system": {"name": "tiers"},
             "decision": {"column": "tier", "tiers": {"values": {"high": "adverse", "mid": "neutral",
                                                                 "low": "favourable", "none": "favourable"}}},
             "protected": [{"column": "grp", "reference": "a"}, {"column": "sex"}],
             "intersections": [["grp", "sex"]],
             "policy": [{"metric": "tier_rate:high", "ratio": [0.8, 1.25]}]}


def _binary_frame() -> pd.DataFrame:
    """A yes/no decision with ground truth: groups a (300), d (150) and b (100, 98 of them flagged)."""
    rng = np.random.default_rng(3)
    group = np.array(["a"] * 300 + ["d"] * 150 + ["b"] * 100)
    y = (rng.random(550) < 0.3).astype(int)
    d = np.where(group == "b", 1, (rng.random(550) < 0.4).astype(int))
    d[-2:] = 0  # b: 98 flagged, 2 not
    return pd.DataFrame({"grp": group, "sex": rng.choice(["F", "M"], 550), "y": y, "d": d})


BINARY_SPEC = {"system": {"name": "binary"}, "outcome": {"column": "y", "positive": 1},
               "decision": {"column": "d", "positive": 1, "adverse": True},
               "protected": [{"column": "grp", "reference": "a"}, {"column": "sex"}],
               "intersections": [["grp", "sex"]],
               "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25]}, {"metric": "fpr", "ratio": [0.8, 1.25]}]}


@pytest.fixture(scope="module")
def tiers() -> audit.AuditResult:
    return audit.run(TIER_SPEC, data=_tier_frame())


@pytest.fixture(scope="module")
def binary() -> audit.AuditResult:
    return audit.run(BINARY_SPEC, data=_binary_frame())


@pytest.fixture(scope="module")
def scores() -> audit.AuditResult:
    spec = copy.deepcopy(beyond.SCORE_SPEC)
    spec["score"]["threshold"] = [0.5, {"top_k": 100}]
    spec["score"]["sweep"] = {"start": 0.3, "stop": 0.7, "steps": 3}
    return audit.run(spec, data=beyond.make_rows().sample(800, random_state=1))


def _row(frame: pd.DataFrame, **where: str) -> dict:
    mask = np.ones(len(frame), dtype=bool)
    for column, value in where.items():
        mask &= (frame[column] == value).to_numpy()
    assert mask.sum() == 1, where
    return frame[mask].iloc[0].to_dict()


def _is_withheld_label(value: object, k: int = K) -> bool:
    return value in (f"< {k}", "withheld")


def _check_count(value: object, where: str, k: int = K) -> None:
    """A published count is a label or a number of at least k."""
    if value is None or value == "" or (isinstance(value, float) and np.isnan(value)):
        return
    if isinstance(value, str) and _is_withheld_label(value, k):
        return
    number = float(value)  # raises on any other text
    assert number >= k, f"{where}: count {number} < {k}"


# ------------------------------------------------------------------------------------------------------
# every public output


@pytest.mark.parametrize("name", ["tiers", "binary", "scores"])
def test_no_count_below_k_in_json(name: str, request: pytest.FixtureRequest) -> None:
    result = request.getfixturevalue(name)
    body = json.loads(public_json(result, K))
    assert body["public"] is True and body["small_cell_k"] == K
    assert "result_sha256" not in body["provenance"] and len(body["provenance"]["public_sha256"]) == 64
    checked = 0
    for table in ["groups", "comparisons", "verdicts", "spread", *result.tables]:
        for i, row in enumerate(body[table]):
            for column in COUNT_COLUMNS & set(row):
                if column == "numerator" and str(row.get("metric", "")).startswith("mean:"):
                    continue  # a sum of amounts, not a count
                _check_count(row[column], f"{table}[{i}].{column}")
                checked += 1
            if table in ("groups", "sweep_groups") and row["metric"] == "count":
                _check_count(row["value"], f"{table}[{i}].value")
    for mapping in filter(None, body["labels"].values()):
        for value in [*mapping["rows"].values(), mapping["missing_rows"]]:
            if value != 0:  # a value nobody in the whole data has (a tier nobody is in) describes no group
                _check_count(value, "labels")
    assert checked > 500


@pytest.mark.parametrize("name", ["tiers", "binary", "scores"])
def test_rates_on_withheld_counts_are_absent(name: str, request: pytest.FixtureRequest) -> None:
    result = request.getfixturevalue(name)
    public = suppress(result, K)
    internal, shown = result.groups, public.groups
    small = ((internal["n"] < K) | (internal["numerator"] < K) | (internal["denominator"] < K)
             | (internal["denominator"] - internal["numerator"] < K)) & (internal["metric"] != "share")
    small &= ~internal["metric"].str.startswith("mean:")
    assert small.sum() > 0
    assert (shown.loc[small, "status"] == "withheld").all()
    assert shown.loc[small & (internal["metric"] != "count"), "value"].isna().all()
    assert shown.loc[small, "ci_low"].isna().all() and shown.loc[small, "ci_high"].isna().all()
    assert (shown.loc[small, "reason"].str.startswith(f"withheld: fewer than {K} people")).all()
    # a rate row published in full never implies a small complement (denominator - numerator)
    full = shown[shown["status"] != "withheld"]
    numeric = full[full["numerator"].map(lambda v: isinstance(v, (int, float)))
                   & full["denominator"].map(lambda v: isinstance(v, (int, float)))]
    numeric = numeric[numeric["metric"] != "share"]
    assert ((numeric["denominator"].astype(float) - numeric["numerator"].astype(float)) >= K).all()
    # comparisons resting on a withheld group are withheld too
    withheld_groups = {(r["view"], r["attribute"], r["group"], r["metric"])
                       for r in shown[shown["status"] == "withheld"].to_dict(orient="records")}
    for r in public.comparisons.to_dict(orient="records"):
        if (r["view"], r["attribute"], r["group"], r["metric"]) in withheld_groups:
            assert r["status"] == "withheld" and pd.isna(r["ratio"]) and pd.isna(r["p_value"])


def test_no_count_below_k_in_csv(tiers: audit.AuditResult, scores: audit.AuditResult, tmp_path: Path) -> None:
    for result, out in ((tiers, tmp_path / "t"), (scores, tmp_path / "s")):
        paths = write_public_csv(result, K, out)
        names = {p.name for p in paths}
        assert {"public_groups.csv", "public_comparisons.csv", "public_verdicts.csv", "public_spread.csv"} <= names
        for path in paths:
            with path.open(encoding="utf-8", newline="") as handle:
                for i, row in enumerate(csv.DictReader(handle)):
                    for column in COUNT_COLUMNS & set(row):
                        if column == "numerator" and row.get("metric", "").startswith("mean:"):
                            continue
                        _check_count(row[column], f"{path.name}[{i}].{column}")
    assert {"public_capacity.csv", "public_auc.csv", "public_calibration.csv", "public_thresholds.csv",
            "public_sweep_groups.csv"} <= {p.name for p in write_public_csv(scores, K, tmp_path / "s2")}


def test_no_count_below_k_in_markdown(tiers: audit.AuditResult, binary: audit.AuditResult) -> None:
    for result in (tiers, binary):
        text = public_markdown(result, K)
        rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| view")]
        assert len(rows) == len(result.verdicts)
        for line in rows:
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            _check_count(cells[7].replace(",", ""), line)   # n
            _check_count(cells[8].replace(",", ""), line)   # ref n
        assert f'counts below {K} are shown as "< {K}"' in text


# ------------------------------------------------------------------------------------------------------
# the numbers of the small cases


def test_group_of_four_intersection_of_three_and_empty_tier(tiers: audit.AuditResult) -> None:
    public = suppress(tiers, K)
    g = public.groups
    count = dict(view="adverse tiers", metric="count")
    assert _row(g, attribute="grp", group=HYPERLINK, **count)["n"] == "< 10"
    assert _row(g, attribute="grp", group=HYPERLINK, **count)["value"] == "< 10"
    assert _row(g, attribute="grp × sex", group=f"{HYPERLINK} × F", **count)["n"] == "< 10"  # 3 people
    assert _row(g, attribute="grp", group="a", **count)["n"] == 240
    empty = g[g["metric"] == "tier_rate:none"]
    assert len(empty) == 11 and (empty["numerator"] == "< 10").all() and empty["value"].isna().all()
    share = _row(g, view="adverse tiers", attribute="grp", group=HYPERLINK, metric="share")
    assert pd.isna(share["value"]) and share["numerator"] == "< 10" and share["denominator"] == 400
    assert public.labels["decision"]["rows"]["none"] == 0  # nobody in the whole data: describes no group


def test_secondary_suppression_hides_the_next_smallest_group(tiers: audit.AuditResult) -> None:
    """a = 240, b = 156, the small group 4, published total 400: b is withheld as well, and the small group
    cannot be recovered from the total: every split of 400 - 240 = 160 with it below 10 and b at least 10
    fits what is published."""
    g = suppress(tiers, K).groups
    count = dict(view="adverse tiers", metric="count", attribute="grp")
    assert _row(g, group="b", **count)["n"] == "withheld"
    a = _row(g, group="a", **count)["n"]
    total = _row(g, view="adverse tiers", metric="share", attribute="grp", group="a")["denominator"]
    assert (a, total) == (240, 400)
    fits = [small for small in range(K) if total - a - small >= K]
    assert fits == list(range(10))
    # the intersection: cells of F add up to the published F; the 3 alone would be recoverable, so b × F goes
    assert _row(g, view="adverse tiers", metric="count", attribute="sex", group="F")["n"] == 195
    assert _row(g, view="adverse tiers", metric="count", attribute="grp × sex", group="b × F")["n"] == "withheld"
    assert _row(g, view="adverse tiers", metric="count", attribute="grp × sex", group="a × F")["n"] == 118
    # verdicts keep their word, not their numbers
    v = suppress(tiers, K).verdicts
    assert list(v["verdict"]) == list(tiers.verdicts["verdict"])
    small = _row(v, attribute="grp", group=HYPERLINK)
    assert small["n"] == "< 10" and pd.isna(small["estimate"]) and small["verdict"] == "inconclusive"
    assert small["reason"] == "withheld: fewer than 10 people; the verdict stands"


def test_complement_and_cross_metric_subtraction(binary: audit.AuditResult) -> None:
    """Group b: 98 of 100 flagged. The 2 not flagged must not be recoverable from numerator and denominator,
    nor, once b is withheld, from the published total of flagged people minus the other groups."""
    g = suppress(binary, K).groups
    rate = _row(g, view="decision", attribute="grp", group="b", metric="selection_rate")
    assert rate["numerator"] == "withheld" and rate["denominator"] == 100 and pd.isna(rate["value"])
    others = [_row(g, view="decision", attribute="grp", group=x, metric="selection_rate")["numerator"]
              for x in ("a", "d")]
    assert "withheld" in others  # the next-smallest, or b = total flagged - a - d
    # within one group, no published pair of counts differs by a count below k
    for (view, attribute, group), block in g.groupby(["view", "attribute", "group"]):
        values = {v for column in ("numerator", "denominator") for v in block[column]
                  if isinstance(v, (int, float)) and not pd.isna(v)}
        internal = binary.groups[(binary.groups["view"] == view) & (binary.groups["attribute"] == attribute)
                                 & (binary.groups["group"] == group)]
        small = {v for v in pd.concat([internal["numerator"], internal["denominator"]]) if v < K}
        for hidden in small:
            assert hidden not in values


def test_internal_result_is_unchanged(tiers: audit.AuditResult, tmp_path: Path) -> None:
    before = copy.deepcopy({"groups": tiers.groups, "comparisons": tiers.comparisons, "verdicts": tiers.verdicts,
                            "spread": tiers.spread, **tiers.tables})
    text = tiers.to_json()
    suppress(tiers, K), public_json(tiers, K), public_markdown(tiers, K), write_public_csv(tiers, K, tmp_path)
    after = {"groups": tiers.groups, "comparisons": tiers.comparisons, "verdicts": tiers.verdicts,
             "spread": tiers.spread, **tiers.tables}
    for name, frame in before.items():
        pd.testing.assert_frame_equal(after[name], frame)
    assert tiers.to_json() == text
    assert _row(tiers.groups, view="adverse tiers", metric="count", attribute="grp", group=HYPERLINK)["n"] == 4


def test_k_1_withholds_only_zeros(tiers: audit.AuditResult, binary: audit.AuditResult) -> None:
    for result in (tiers, binary):
        public = suppress(result, 1)
        for column in ("n", "numerator", "denominator"):
            internal = result.groups[column]
            shown = public.groups[column]
            labels = shown.map(lambda v: isinstance(v, str))
            assert set(shown[labels]) <= {"< 1"}
            assert (internal[labels] == 0).all()
            assert (labels | (internal != 0) | internal.isna()).all()
        for name, table in public.all_tables().items():
            for column in COUNT_COLUMNS & set(table.columns):
                assert not table[column].isin(["withheld"]).any(), (name, column)
        assert public.withheld["secondary"] == 0
    zero = suppress(tiers, 1).groups
    assert zero[zero["metric"] == "tier_rate:none"]["value"].isna().all()
    assert _row(zero, view="adverse tiers", metric="count", attribute="grp", group=HYPERLINK)["n"] == 4


def test_k_defaults_to_the_spec(tiers: audit.AuditResult) -> None:
    spec = copy.deepcopy(TIER_SPEC) | {"report": {"small_cell_k": 5}}
    result = audit.run(spec, data=_tier_frame())
    body = json.loads(public_json(result))
    assert body["small_cell_k"] == 5
    row = next(r for r in body["groups"] if r["view"] == "adverse tiers" and r["metric"] == "count"
               and r["group"] == HYPERLINK)
    assert row["n"] == "< 5"
    assert suppress(tiers).k == 10


@pytest.mark.parametrize("k", [0, -3, 2.5, True, "10"])
def test_bad_k_is_refused(tiers: audit.AuditResult, k: object) -> None:
    with pytest.raises(UsageError, match="parameter k of suppress must be an integer ≥ 1"):
        suppress(tiers, k)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------------
# text and CSV safety


def test_csv_injection_is_neutralised(tiers: audit.AuditResult, binary: audit.AuditResult, tmp_path: Path) -> None:
    paths = {p.name: p for p in write_public_csv(tiers, K, tmp_path)}
    text = paths["public_groups.csv"].read_text(encoding="utf-8")
    with paths["public_groups.csv"].open(encoding="utf-8", newline="") as handle:
        groups = {row["group"] for row in csv.DictReader(handle)}
    assert "'" + HYPERLINK in groups and HYPERLINK not in groups
    assert f"'{HYPERLINK} × F" in groups
    assert ",=" not in text
    # negative numbers written as numbers stay numbers
    out = write_public_csv(binary, K, tmp_path / "b")
    with next(p for p in out if p.name == "public_comparisons.csv").open(encoding="utf-8", newline="") as handle:
        differences = [row["difference"] for row in csv.DictReader(handle) if row["difference"]]
    negative = [d for d in differences if d.startswith("-")]
    assert negative and all(float(d) < 0 for d in negative)
    assert not any(d.startswith("'") for d in differences)


def test_neutralise_cell() -> None:
    assert [neutralise_cell(v) for v in ("=1+1", "+1", "-x", "@SUM(A1)", "\tx", "\rx", "safe", "")] == \
        ["'=1+1", "'+1", "'-x", "'@SUM(A1)", "'\tx", "'\rx", "safe", ""]
    assert neutralise_cell(-3.5) == -3.5 and neutralise_cell(-2) == -2 and neutralise_cell(None) is None


def test_mask_text() -> None:
    note = "top 10%: 1 more than 600 are acted on because 58 people tie at the cut-off score 0.73"
    assert mask_text(note, 10) == "top 10%: < 10 more than 600 are acted on because 58 people tie at the " \
                                  "cut-off score 0.73"
    assert mask_text("data.where kept 3,900 of 4,000 rows; 7 rows", 10) == \
        "data.where kept 3,900 of 4,000 rows; < 10 rows"
    assert mask_text("0 rows", 1) == "< 1 rows"


# ------------------------------------------------------------------------------------------------------
# a two-way table worked out by hand


TWO_WAY = [("a", "F", 40, 12), ("a", "M", 45, 15), ("b", "F", 30, 9), ("b", "M", 25, 8), ("c", "F", 6, 2),
           ("c", "M", 14, 5)]  # group, sex, people, flagged


def _two_way_frame() -> pd.DataFrame:
    rows = [{"grp": g, "sex": s, "d": int(i < flagged)} for g, s, people, flagged in TWO_WAY for i in range(people)]
    return pd.DataFrame(rows)


TWO_WAY_SPEC = {"system": {"name": "two-way"}, "decision": {"column": "d", "positive": 1},
                "protected": [{"column": "grp", "reference": "a"}, {"column": "sex", "reference": "F"}],
                "intersections": [["grp", "sex"]],
                "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25]}]}


@pytest.fixture(scope="module")
def two_way() -> audit.AuditResult:
    return audit.run(TWO_WAY_SPEC, data=_two_way_frame())


def _shown(frame: pd.DataFrame, metric: str, column: str) -> dict[str, object]:
    """``column`` of the rows of ``metric`` by group (the group names of TWO_WAY differ across attributes)."""
    rows = frame[frame["metric"] == metric]
    return dict(zip(rows["group"], rows[column]))


def _reason_for(k: int, primary: bool) -> str:
    return f"withheld: fewer than {k} people" + ("" if primary else " (secondary suppression)")


def test_secondary_suppression_of_a_two_way_table(two_way: audit.AuditResult) -> None:
    """160 people, 51 flagged; c × F has 6 people (2 flagged). By hand, in the order of the rules:

    * rule 1: c × F (6) and the flagged counts 7 (c), 9 (b × F), 8 (b × M), 2 (c × F), 5 (c × M) are "< 10";
      the missing decisions (0 in the whole data) are published as 0: a fact of the data set, not of a group.
    * rule 4, flagged by group: a 27 + b 17 + c (< 10) = 51 published, so b (the next-smallest) goes.
    * rule 4, sizes of grp × sex: 40 + 45 + 30 + 25 + c × F + 14 = 160, so c × M (14, the next-smallest)
      goes; within c, c × F + c × M = 20 needs nothing more; within F, 40 + b × F + c × F = 76, so b × F
      (30) goes; within M, 45 + b × M + c × M = 84 with c × M withheld would pin c × M, so b × M (25) goes.
    * the flagged intersections are all below 10 or published with no total pinning them.
    """
    public = suppress(two_way, K)
    g = public.groups
    assert _shown(g, "count", "n") == {
        "a": 85, "b": 55, "c": 20, "F": 76, "M": 84,
        "a × F": 40, "a × M": 45, "b × F": "withheld", "b × M": "withheld", "c × F": "< 10", "c × M": "withheld"}
    assert _shown(g, "selection_rate", "numerator") == {
        "a": 27, "b": "withheld", "c": "< 10", "F": 23, "M": 28,
        "a × F": 12, "a × M": 15, "b × F": "< 10", "b × M": "< 10", "c × F": "< 10", "c × M": "< 10"}
    assert _shown(g, "selection_rate", "denominator") == {
        "a": 85, "b": 55, "c": 20, "F": 76, "M": 84,
        "a × F": 40, "a × M": 45, "b × F": "withheld", "b × M": "withheld", "c × F": "< 10", "c × M": "withheld"}
    primary, secondary = _reason_for(K, True), _reason_for(K, False)
    assert _shown(g, "selection_rate", "reason") == {
        "a": "", "b": secondary, "c": primary, "F": "", "M": "",
        "a × F": "", "a × M": "", "b × F": primary, "b × M": primary, "c × F": primary, "c × M": primary}
    assert _shown(g, "count", "reason") == {
        "a": "", "b": "", "c": "", "F": "", "M": "",
        "a × F": "", "a × M": "", "b × F": secondary, "b × M": secondary, "c × F": primary, "c × M": secondary}
    withheld = g[g["status"] == "withheld"]
    assert withheld.loc[withheld["metric"] != "count", "value"].isna().all() and withheld["ci_low"].isna().all()
    assert public.withheld == {"primary": 10, "secondary": 16}
    assert public.labels["decision"]["rows"] == {"0": 109, "1": 51}  # the flagged total: nothing to protect
    assert public.labels["decision"]["missing_rows"] == 0  # no decision missing anywhere: a fact of the data
    c = public.comparisons
    assert _shown(c, "selection_rate", "status") == {
        "b": "withheld", "c": "withheld", "M": "ok", "a × M": "ok",
        "b × F": "withheld", "b × M": "withheld", "c × F": "withheld", "c × M": "withheld"}
    assert _shown(c, "selection_rate", "n") == {
        "b": 55, "c": 20, "M": 84, "a × M": 45, "b × F": "withheld", "b × M": "withheld", "c × F": "< 10",
        "c × M": "withheld"}
    assert _shown(c, "selection_rate", "reason")["b"] == secondary


def test_a_small_cell_cannot_be_worked_out_through_the_marginals(two_way: audit.AuditResult) -> None:
    """c × F (6 people) = c - (M - a × M - b × M): not all four may be published."""
    sizes = _shown(suppress(two_way, K).groups, "count", "n")
    c, m, a_m, b_m = (sizes[name] for name in ("c", "M", "a × M", "b × M"))
    assert not all(isinstance(t, (int, float)) for t in (c, m, a_m, b_m)), f"c × F = {c - (m - a_m - b_m)}"


# ------------------------------------------------------------------------------------------------------
# the numbers of a verdict judged in its family: withheld with its counts, published with them


FAMILY_COLUMNS = ("estimate", "ci_low", "ci_high", "family_ci_low", "family_ci_high", "p_value", "p_family",
                  "detectable_ratio", "detectable_difference", "needed_n", "needed_reference_n")


def _family_frame() -> pd.DataFrame:
    """a and b of 300 (a third and a quarter selected), d of 150 (a third) and c of 6 (two selected)."""
    grp = np.array(["a"] * 300 + ["b"] * 300 + ["d"] * 150 + ["c"] * 6)
    d = np.r_[np.tile([1, 0, 0], 100), np.tile([1, 0, 0, 0], 75), np.tile([1, 0, 0], 50), [1, 1, 0, 0, 0, 0]]
    return pd.DataFrame({"grp": grp, "d": d})


FAMILY_SPEC = {"system": {"name": "family"}, "decision": {"column": "d", "positive": 1},
               "protected": [{"column": "grp", "reference": "a"}],
               "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25], "rule": "ci"}]}


@pytest.fixture(scope="module")
def family() -> audit.AuditResult:
    return audit.run(FAMILY_SPEC, data=_family_frame())


def test_what_would_decide_is_withheld_with_a_small_group_and_published_with_a_large_one(family) -> None:
    internal = family.verdicts.set_index("group")
    assert list(internal["verdict"]) == ["inconclusive"] * 3 and family.family.size == 3
    # c (6 people) and d (150, withheld so that c cannot be worked out from the total of 756) had every number
    assert internal.loc[["c", "d"], list(FAMILY_COLUMNS)].notna().all().all()
    assert internal.loc["c", "detectable_ratio"] > 1.25  # with 6 people only a ratio far outside the band shows
    public = suppress(family, K).verdicts.set_index("group")
    assert (public.loc["c", "n"], public.loc["d", "n"]) == ("< 10", "withheld")
    assert public.loc[["c", "d"], [*FAMILY_COLUMNS, "needed_known_outcomes", "disadvantaged"]].isna().all().all()
    assert list(public["verdict"]) == ["inconclusive"] * 3
    # b (300 against 300): published as computed
    for column in FAMILY_COLUMNS:
        assert public.loc["b", column] == internal.loc["b", column], column
    assert (f"{public.loc['b', 'family_ci_low']:.3g}", f"{public.loc['b', 'family_ci_high']:.3g}",
            f"{public.loc['b', 'p_family']:.2g}") == ("0.457", "1.22", "0.093")
    body = json.loads(public_json(family, K))
    withheld = next(r for r in body["verdicts"] if r["group"] == "c")
    assert all(withheld[column] is None for column in FAMILY_COLUMNS)
    assert next(r for r in body["verdicts"] if r["group"] == "b")["needed_n"] == internal.loc["b", "needed_n"]


def test_public_markdown_shows_the_family_interval_and_p_family(family, tmp_path: Path) -> None:
    from audit.wording import interval, number, p_value

    text = public_markdown(family, K)
    b = family.verdicts.set_index("group").loc["b"]
    assert "- Verdicts: one family of 3, family-wise error rate 0.05; family-level intervals at 98.33% each" in text
    assert ("| view | attribute | group | reference | estimate | 95% CI | family CI (98.33%) | n | ref n | p (family) "
            "| verdict | why |") in text
    assert "adj. p" not in text
    row = next(line for line in text.splitlines() if line.startswith("| decision | grp | b |"))
    cells = [c.strip() for c in row.split("|")[1:-1]]
    assert cells[4:11] == ["0.75", interval(b["ci_low"], b["ci_high"]), interval(b["family_ci_low"],
                           b["family_ci_high"]), "300", "300", p_value(b["p_family"]), "**inconclusive**"]
    assert cells[5:7] == ["0.582 to 0.966", "0.457 to 1.22"]
    assert (f"to decide: detectable with 80% power: a ratio of {number(b['detectable_ratio'])} or further from "
            f"parity; at the observed rates the group needs {int(b['needed_n']):,} people") in cells[11]
    assert "| decision | grp | c | a | withheld | n/a | n/a | < 10 | 300 | n/a | **inconclusive** | withheld: fewer " \
           "than 10 people; the verdict stands |" in text
    paths = {p.name: p for p in write_public_csv(family, K, tmp_path)}
    with paths["public_verdicts.csv"].open(encoding="utf-8", newline="") as handle:
        rows = {r["group"]: r for r in csv.DictReader(handle)}
    assert all(rows["c"][column] == "" for column in FAMILY_COLUMNS)
    assert float(rows["b"]["needed_n"]) == b["needed_n"] and float(rows["b"]["p_family"]) == b["p_family"]
