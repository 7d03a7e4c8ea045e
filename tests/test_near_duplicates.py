"""Near-duplicate spellings of a group (Unicode form, surrounding spaces, letter case): named, merged on request.

The oracle for a merge is the same audit of data whose spellings were replaced
beforehand (pandas), plus direct pandas and fairlearn computations of the
merged groups' sizes and rates.
"""

from __future__ import annotations

import copy
import json
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import audit
from audit.engine import Counted, count, derive_result
from audit.errors import UsageError
from audit.near_duplicates import (describe_spelling, merge_levels, near_duplicate_sets, read_near_duplicates,
                                   spelling_key)
from audit.sources import plan_for
from audit.spec import load_spec

NFC = unicodedata.normalize("NFC", "Hmông")
NFD = unicodedata.normalize("NFD", "Hmông")
TAY = unicodedata.normalize("NFC", "Tày")
# spelling: (rows, selected); sex alternates f, m within each spelling, starting with f
PLANTED = {"Kinh": (60, 24), "Kinh ": (15, 9), "kinh": (10, 2), NFC: (30, 15), NFD: (12, 3), TAY: (40, 10)}
MERGED = {"Kinh ": "Kinh", "kinh": "Kinh", NFD: NFC}


def planted() -> pd.DataFrame:
    """Rows of each spelling of PLANTED, the first ``selected`` of them selected (d = 1)."""
    parts = []
    for spelling, (rows, selected) in PLANTED.items():
        parts.append(pd.DataFrame({"eth": [spelling] * rows, "sex": (["f", "m"] * rows)[:rows],
                                   "d": [1] * selected + [0] * (rows - selected),
                                   "y": [1, 0, 0] * (rows // 3) + [0] * (rows % 3)}))
    return pd.concat(parts, ignore_index=True)


def spec(merge: bool = False, **protected: object) -> dict:
    return {"system": {"name": "near-duplicates"}, "data": {"merge_near_duplicates": merge},
            "decision": {"column": "d", "positive": 1}, "outcome": {"column": "y", "positive": 1},
            "protected": [{"column": "eth", **protected}, {"column": "sex"}], "intersections": [["eth", "sex"]],
            "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25], "rule": "point"}]}


def rates(result: audit.AuditResult, attribute: str) -> pd.DataFrame:
    groups = result.groups
    chosen = groups[(groups["attribute"] == attribute) & (groups["metric"] == "selection_rate")]
    return chosen.set_index("group")[["n", "value"]]


# -- which spellings are near-duplicates ------------------------------------------------------------------------

@pytest.mark.parametrize("a, b", [
    ("Kinh", "Kinh "), ("Kinh", " Kinh"), ("Kinh", "kinh"), ("Kinh", "KINH"), (NFC, NFD), ("Kinh", "Kinh\u00a0"),
    ("Kinh", "\u200bKinh\u200b"), ("Kinh", "\ufeffKinh"), ("Kinh", "\u3000Kinh\t"), ("Straße", "STRASSE"),
    ("Ê Đê", unicodedata.normalize("NFD", " ê đê ")), ("Å", "\u212b"),
])
def test_spellings_that_look_alike_share_a_key(a: str, b: str) -> None:
    assert spelling_key(a) == spelling_key(b)


@pytest.mark.parametrize("a, b", [
    ("Kinh", "Ｋｉｎｈ"),          # full-width letters: NFKC, out of scope (they show differently)
    ("Ê Đê", "Ê  Đê"),           # a space inside the text is kept
    ("Ê Đê", "ÊĐê"),
    ("Kinh", "Kính"),            # a different word
    ("1", "1.0"),
])
def test_different_texts_keep_different_keys(a: str, b: str) -> None:
    assert spelling_key(a) != spelling_key(b)


def test_sets_list_positions_in_axis_order() -> None:
    labels = (" Kinh", "Hmông", NFD, "Kinh", "Tày", "kinh")
    assert near_duplicate_sets(labels) == [(0, 3, 5), (1, 2)]
    assert near_duplicate_sets(("a", "b")) == []


VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=VIETNAMESE + VIETNAMESE.upper() + " ", min_size=1, max_size=12),
       st.sampled_from(["", " ", "\u00a0", "\u200b", "\t"]), st.sampled_from(["", " ", "\u00a0", "\ufeff"]))
def test_any_vietnamese_word_matches_its_variants(word: str, before: str, after: str) -> None:
    key = spelling_key(word)
    for variant in (unicodedata.normalize("NFD", word), word.upper(), word.lower(), before + word + after):
        assert spelling_key(variant) == key
    assert spelling_key(key) == key


@pytest.mark.parametrize("label, shown", [
    ("Kinh", "'Kinh'"),
    ("Kinh ", "'Kinh ' (trailing space)"),
    ("  Kinh", "'  Kinh' (2 leading spaces)"),
    ("Kinh\u00a0", "'Kinh\\u00a0' (trailing U+00A0 NO-BREAK SPACE)"),
    ("\u200bKinh", "'\\u200bKinh' (leading U+200B ZERO WIDTH SPACE)"),
    (NFD, f"'{NFD}' (not NFC: written with U+0302 COMBINING CIRCUMFLEX ACCENT)"),
    (" ", "' ' (only 1 space)"),
])
def test_each_spelling_is_shown_so_the_difference_can_be_seen(label: str, shown: str) -> None:
    assert describe_spelling(label) == shown


# -- the warning ------------------------------------------------------------------------------------------------

def test_the_warning_names_every_spelling_and_its_rows_and_nothing_is_merged() -> None:
    result = audit.run(spec(), planted())
    warnings = [n for n in result.notes if n.startswith("warning: protected column 'eth'")]
    assert len(warnings) == 1
    text = warnings[0]
    for fragment in ("'Kinh' (60 rows)", "'Kinh ' (trailing space, 15 rows)", "'kinh' (10 rows)", f"'{NFC}' (30 rows)",
                     f"'{NFD}' (not NFC: written with U+0302 COMBINING CIRCUMFLEX ACCENT, 12 rows)",
                     "data.merge_near_duplicates: true", f"into '{NFC}', 'Kinh'"):
        assert fragment in text, fragment
    assert TAY not in text and "'sex'" not in text
    assert set(rates(result, "eth").index) == set(PLANTED)           # kept apart, exactly as written
    assert rates(result, "eth").loc["Kinh ", "n"] == 15
    assert result.provenance.merged_groups == {}
    assert json.loads(result.to_json())["provenance"]["merged_groups"] == {}


def test_a_column_without_near_duplicates_gets_no_note() -> None:
    frame = planted()
    frame = frame[frame["eth"].isin(["Kinh", TAY])]
    result = audit.run(spec(merge=True), frame)
    assert not [n for n in result.notes if "look alike" in n or "merged" in n]
    assert result.provenance.merged_groups == {}


def test_an_aggregate_table_counts_people() -> None:
    table = planted().groupby(["eth", "sex", "d", "y"], as_index=False).size().rename(columns={"size": "people"})
    body = spec()
    body["data"]["count_column"] = "people"
    text = next(n for n in audit.run(body, table).notes if n.startswith("warning: protected column 'eth'"))
    assert "'Kinh ' (trailing space, 15 people)" in text and "'kinh' (10 people)" in text


def test_one_person_is_a_person() -> None:
    frame = pd.DataFrame({"eth": ["A", "a", "B", "B"], "d": [1, 0, 1, 0]})
    body = {"system": {"name": "x"}, "decision": {"column": "d", "positive": 1}, "protected": [{"column": "eth"}]}
    text = next(n for n in audit.run(body, frame).notes if n.startswith("warning:"))
    assert "'A' (1 row) / 'a' (1 row)" in text


# -- merging on request ---------------------------------------------------------------------------------------

def test_merged_groups_have_the_summed_size_and_the_pooled_rate() -> None:
    result = audit.run(spec(merge=True), planted())
    eth = rates(result, "eth")
    assert sorted(eth.index) == sorted(["Kinh", NFC, TAY])
    assert eth.loc["Kinh", "n"] == 60 + 15 + 10 and eth.loc["Kinh", "value"] == pytest.approx((24 + 9 + 2) / 85)
    assert eth.loc[NFC, "n"] == 42 and eth.loc[NFC, "value"] == pytest.approx((15 + 3) / 42)
    assert eth.loc[TAY, "n"] == 40 and eth.loc[TAY, "value"] == pytest.approx(10 / 40)
    both = rates(result, "eth × sex")
    # sex alternates f, m from the first row of each spelling: Kinh × f has 30 + 8 + 5 rows, 12 + 5 + 1 selected
    assert both.loc["Kinh × f", "n"] == 43 and both.loc["Kinh × f", "value"] == pytest.approx(18 / 43)
    assert both.loc[f"{NFC} × m", "n"] == 21 and both.loc[f"{NFC} × m", "value"] == pytest.approx(8 / 21)


def test_a_merge_equals_the_audit_of_data_merged_beforehand() -> None:
    frame = planted()
    merged = audit.run(spec(merge=True), frame)
    direct = frame.assign(eth=frame["eth"].replace(MERGED))
    oracle = audit.run(spec(), direct)
    for name in ("groups", "comparisons", "verdicts", "spread"):
        pd.testing.assert_frame_equal(getattr(merged, name).reset_index(drop=True),
                                      getattr(oracle, name).reset_index(drop=True), check_exact=False, rtol=1e-12)
    assert merged.verdict == oracle.verdict
    by_pandas = direct.groupby(["eth", "sex"])["d"].agg(["size", "mean"])
    both = rates(merged, "eth × sex")
    for (eth, sex), row in by_pandas.iterrows():
        assert both.loc[f"{eth} × {sex}", "n"] == row["size"]
        assert both.loc[f"{eth} × {sex}", "value"] == pytest.approx(row["mean"], rel=1e-12)


def test_merged_rates_match_fairlearn() -> None:
    from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate

    frame = planted()
    result = audit.run(spec(merge=True), frame)
    groups = frame["eth"].replace(MERGED)
    oracle = MetricFrame(metrics={"selection_rate": selection_rate, "fpr": false_positive_rate}, y_true=frame["y"],
                         y_pred=frame["d"], sensitive_features=groups).by_group
    table = result.groups[result.groups["attribute"] == "eth"].set_index(["group", "metric"])["value"]
    for group, row in oracle.iterrows():
        assert table[(group, "selection_rate")] == pytest.approx(row["selection_rate"], rel=1e-12)
        assert table[(group, "fpr")] == pytest.approx(row["fpr"], rel=1e-12)


def test_the_merge_is_recorded_in_the_notes_and_result_json() -> None:
    result = audit.run(spec(merge=True), planted())
    assert result.provenance.merged_groups == {"eth": MERGED}
    body = json.loads(result.to_json())
    assert body["provenance"]["merged_groups"] == {"eth": MERGED}
    note = next(n for n in result.notes if n.startswith("protected column 'eth': near-duplicate spellings merged"))
    assert "'Kinh ' (trailing space, 15 rows), 'kinh' (10 rows) into 'Kinh' (now 85 rows)" in note
    assert f"(not NFC: written with U+0302 COMBINING CIRCUMFLEX ACCENT, 12 rows) into '{NFC}' (now 42 rows)" in note
    assert not [n for n in result.notes if n.startswith("warning: protected column")]


def test_a_named_reference_is_the_spelling_kept() -> None:
    result = audit.run(spec(merge=True, reference="kinh"), planted())
    eth = rates(result, "eth")
    assert "kinh" in eth.index and "Kinh" not in eth.index and eth.loc["kinh", "n"] == 85
    assert result.provenance.merged_groups["eth"]["Kinh"] == "kinh"
    assert set(result.comparisons.loc[result.comparisons["attribute"] == "eth", "reference"]) == {"kinh"}


def test_a_tie_keeps_the_first_spelling_in_sorted_order() -> None:
    frame = pd.DataFrame({"eth": ["b", "B", "b", "B", "c", "c"], "d": [1, 0, 1, 0, 1, 0]})
    body = {"system": {"name": "x"}, "data": {"merge_near_duplicates": True},
            "decision": {"column": "d", "positive": 1}, "protected": [{"column": "eth"}]}
    result = audit.run(body, frame)
    assert result.provenance.merged_groups == {"eth": {"b": "B"}}


def test_merging_every_group_into_one_is_refused_as_a_single_group() -> None:
    frame = pd.DataFrame({"eth": ["Kinh", "Kinh ", "kinh", "Kinh"], "d": [1, 0, 1, 0]})
    body = {"system": {"name": "x"}, "data": {"merge_near_duplicates": True},
            "decision": {"column": "d", "positive": 1}, "protected": [{"column": "eth"}]}
    with pytest.raises(audit.DataError, match="only one value \\('Kinh'\\)"):
        audit.run(body, frame)


# -- merge_levels on every array of the counts ------------------------------------------------------------------

def _rich(n: int = 12_000, seed: int = 3) -> pd.DataFrame:
    """Weights, a score with too many values for an exact histogram (binned: score sums kept), an amount."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"eth": rng.choice(["Kinh", "Kinh ", "kinh", NFC, NFD, TAY], n,
                                           p=[0.3, 0.1, 0.1, 0.25, 0.1, 0.15]),
                         "sex": rng.choice(["f", "m"], n), "y": rng.integers(0, 2, n),
                         "s": rng.random(n), "amount": rng.integers(0, 50, n) * 10.0,
                         "w": rng.uniform(0.5, 2.0, n)})


def _rich_spec() -> dict:
    return {"system": {"name": "rich"}, "data": {"weight": "w"}, "outcome": {"column": "y", "positive": 1},
            "score": {"column": "s", "threshold": 0.5}, "protected": [{"column": "sex"}, {"column": "eth"}],
            "amounts": [{"column": "amount", "higher_is": "favourable"}]}


def test_merge_levels_sums_every_array_along_the_protected_axis() -> None:
    frame = _rich()
    raw = count(_rich_spec(), frame).raw
    assert raw.score_sum is not None and raw.amounts                    # binned score, one amount
    before = copy.deepcopy(raw)
    merged = merge_levels(raw, 1, MERGED)
    expected = count(_rich_spec(), frame.assign(eth=frame["eth"].replace(MERGED))).raw
    assert merged.levels == expected.levels == (("f", "m"), (NFC, "Kinh", TAY))
    for name in ("rows", "weights", "weights_sq", "score_sum", "score_sq"):
        np.testing.assert_allclose(getattr(merged, name), getattr(expected, name), rtol=1e-12, err_msg=name)
    assert merged.rows.dtype == raw.rows.dtype
    for ours, theirs in zip(merged.amounts, expected.amounts):
        for name in ("rows", "weights", "weights_sq", "sum_wx", "sum_wx2"):
            np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-12, err_msg=name)
    # the input is never written to
    assert raw.levels == before.levels
    for name in ("rows", "weights", "weights_sq", "score_sum", "score_sq"):
        np.testing.assert_array_equal(getattr(raw, name), getattr(before, name))
    np.testing.assert_array_equal(raw.amounts[0].sum_wx, before.amounts[0].sum_wx)


def test_a_weighted_audit_with_score_and_amount_merges_like_data_merged_beforehand() -> None:
    frame = _rich()
    body = _rich_spec() | {"data": {"weight": "w", "merge_near_duplicates": True}}
    merged = audit.run(body, frame)
    oracle = audit.run(_rich_spec(), frame.assign(eth=frame["eth"].replace(MERGED)))
    for name in ("groups", "comparisons", "spread"):
        pd.testing.assert_frame_equal(getattr(merged, name).reset_index(drop=True),
                                      getattr(oracle, name).reset_index(drop=True), check_exact=False, rtol=1e-9)
    for name in set(merged.tables) | set(oracle.tables):
        pd.testing.assert_frame_equal(merged.table(name).reset_index(drop=True),
                                      oracle.table(name).reset_index(drop=True), check_exact=False, rtol=1e-9)


def test_the_missing_slot_and_the_other_axes_are_kept() -> None:
    frame = planted()
    frame.loc[[0, 1, 2], "eth"] = None
    raw = count(spec(), frame).raw
    merged = merge_levels(raw, 0, MERGED)
    assert merged.rows.shape[0] == len(merged.levels[0]) + 1 and merged.rows[-1].sum() == 3
    assert merged.rows.shape[1:] == raw.rows.shape[1:] and merged.rows.sum() == raw.rows.sum()
    assert merged.label_values == raw.label_values and merged.levels[1] == raw.levels[1]


@pytest.mark.parametrize("column, mapping, message", [
    (2, {"kinh": "Kinh"}, "column_index 2 is not a protected column"),
    (0, {"Kin": "Kinh"}, "'Kin' is not a group"),
    (0, {"kinh": "KINH"}, "'KINH' is not a group"),
    (0, {"kinh": "Kinh ", "Kinh ": "Kinh"}, "'Kinh ' is both merged into another group"),
])
def test_a_wrong_mapping_is_a_usage_error_that_says_why(column: int, mapping: dict, message: str) -> None:
    raw = count(spec(), planted()).raw
    with pytest.raises(UsageError, match=message):
        merge_levels(raw, column, mapping)


def test_an_identity_mapping_changes_nothing() -> None:
    raw = count(spec(), planted()).raw
    same = merge_levels(raw, 0, {"Kinh": "Kinh"})
    assert same.levels == raw.levels and np.array_equal(same.rows, raw.rows)


# -- label columns: warned, never merged ------------------------------------------------------------------------

def _labelled() -> pd.DataFrame:
    return pd.DataFrame({"eth": ["A", "B"] * 20,
                         "d": ["yes"] * 12 + ["Yes"] * 3 + ["yes "] * 2 + ["no"] * 23})


def test_near_duplicate_decision_values_are_named_with_how_each_is_read() -> None:
    body = {"system": {"name": "x"}, "data": {"merge_near_duplicates": True},
            "decision": {"column": "d", "positive": ["yes"]}, "protected": [{"column": "eth"}]}
    result = audit.run(body, _labelled())
    text = next(n for n in result.notes if n.startswith("warning: decision column 'd'"))
    assert "'Yes' (3 rows) / 'yes' (12 rows) / 'yes ' (trailing space, 2 rows)" in text   # in sorted order
    assert "'Yes' and 'yes ' as negative, 'yes' as positive" in text
    assert "decision.positive" in text and "merges protected columns only" in text
    assert result.counts is not None and set(result.counts.decision.values) == {"yes", "Yes", "yes ", "no"}
    assert result.provenance.merged_groups == {}


def test_every_label_role_is_checked() -> None:
    frame = pd.DataFrame({"eth": ["A", "B"] * 10, "d": [1, 0] * 10,
                          "y": ["Fraud", "fraud", "none", "none"] * 5})
    body = {"system": {"name": "x"}, "decision": {"column": "d", "positive": 1},
            "outcome": {"column": "y", "positive": ["Fraud", "fraud"]}, "protected": [{"column": "eth"}]}
    text = next(n for n in audit.run(body, frame).notes if n.startswith("warning: outcome column 'y'"))
    assert "'Fraud' (5 rows) / 'fraud' (5 rows)" in text and "as negative" not in text


# -- every front end goes through the one hook ------------------------------------------------------------------

def test_the_app_workspace_merges_as_the_cli_does() -> None:
    from app_helpers import loaded_table
    from audit_app.workspace import Dataset, Workspace

    frame = planted()
    workspace = Workspace()
    workspace.use(Dataset("frame", "upload", loaded_table(frame)))
    loaded, _ = load_spec(spec(merge=True))
    result = workspace.audit(loaded)
    assert sorted(rates(result, "eth").index) == sorted(["Kinh", NFC, TAY])
    assert result.provenance.merged_groups == {"eth": MERGED}
    kept_apart = workspace.audit(load_spec(spec())[0])                   # the same counts, no new pass
    assert workspace.passes == 1 and set(rates(kept_apart, "eth").index) == set(PLANTED)


def test_a_reopened_audit_merges_its_stored_counts_again(tmp_path: Path) -> None:
    from audit.registry import Registry
    from audit_app.history_store import reopen

    loaded, base = load_spec(spec(merge=True))
    counted = count(loaded, planted())
    result = derive_result(loaded, counted)
    registry = Registry(tmp_path / "history.sqlite")
    stored = registry.get(registry.save(result, owner="lan", counts=counted.raw), user="lan")
    assert stored.counts is not None and len(stored.counts.levels[0]) == len(PLANTED)   # saved as read
    _, _, _, again = reopen(stored)
    assert again.result_sha256 == result.result_sha256
    assert again.provenance.merged_groups == {"eth": MERGED}


def test_read_near_duplicates_leaves_the_counts_alone_when_asked_only_to_warn() -> None:
    loaded, _ = load_spec(spec())
    counted: Counted = count(loaded, planted())
    reading = read_near_duplicates(loaded, counted.raw, plan_for(loaded).roles)
    assert reading.raw is counted.raw and reading.merged == {} and len(reading.notes) == 1
