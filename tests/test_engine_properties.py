"""Properties of the counting engine and the derived tables."""

from __future__ import annotations

import copy

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import audit
from conftest import BASE_SPEC, synthetic

TABLES = ["groups", "comparisons", "verdicts", "spread"]


def _tables(result) -> dict[str, pd.DataFrame]:
    return {name: getattr(result, name).reset_index(drop=True) for name in TABLES}


def _assert_same(a, b) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name).reset_index(drop=True),
                                      getattr(b, name).reset_index(drop=True), check_exact=False, rtol=1e-12)


def test_input_is_never_mutated(frame, base_spec) -> None:
    before = frame.copy(deep=True)
    audit.run(base_spec, data=frame)
    pd.testing.assert_frame_equal(frame, before)
    spec_before = copy.deepcopy(base_spec)
    audit.run(base_spec, data=frame)
    assert base_spec == spec_before


@pytest.mark.parametrize("convert", [
    lambda f: f,
    lambda f: f.astype({"group": "category", "sex": "category"}),
    lambda f: pl.from_pandas(f),
    lambda f: pa.Table.from_pandas(f),
    lambda f: duckdb.connect().from_df(f),
], ids=["pandas", "pandas-categorical", "polars", "pyarrow", "duckdb"])
def test_every_engine_gives_the_same_result(frame, base_spec, convert) -> None:
    expected = audit.run(base_spec, data=frame, fingerprint=False)
    got = audit.run(base_spec, data=convert(frame), fingerprint=False)
    _assert_same(expected, got)
    assert np.array_equal(expected.counts.rows, got.counts.rows)


def test_weighted_engines_agree(frame, base_spec) -> None:
    spec = dict(base_spec, data={"weight": "w"})
    a = audit.run(spec, data=frame, fingerprint=False)
    b = audit.run(dict(spec, data={"weight": "w", "where": "TRUE"}), data=frame, fingerprint=False)
    _assert_same(a, b)


def test_row_order_does_not_matter(frame, base_spec) -> None:
    shuffled = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    _assert_same(audit.run(base_spec, data=frame), audit.run(base_spec, data=shuffled))


def test_unit_weights_equal_the_unweighted_audit(frame, base_spec) -> None:
    ones = frame.assign(w=1.0)
    weighted = audit.run(dict(base_spec, data={"weight": "w"}), data=ones)
    plain = audit.run(base_spec, data=ones)
    g1, g2 = weighted.groups, plain.groups
    assert np.allclose(g1.value, g2.value, equal_nan=True, rtol=1e-12)
    assert np.allclose(g1.ci_low, g2.ci_low, equal_nan=True, rtol=1e-9)
    c1, c2 = weighted.comparisons, plain.comparisons
    assert np.allclose(c1.ratio_ci_low, c2.ratio_ci_low, equal_nan=True, rtol=1e-9)


def test_weights_change_the_rates_as_a_weighted_mean(frame, base_spec) -> None:
    result = audit.run(dict(base_spec, data={"weight": "w"}), data=frame)
    g = result.groups
    row = g[(g.attribute == "group") & (g.group == "b") & (g.metric == "selection_rate")].iloc[0]
    sub = frame[frame.group == "b"]
    assert row["value"] == pytest.approx((sub.d * sub.w).sum() / sub.w.sum(), rel=1e-12)
    assert row["n"] == len(sub)


def test_missing_protected_values_form_an_unknown_group(frame, base_spec) -> None:
    data = frame.copy()
    data.loc[:49, "group"] = None
    result = audit.run(base_spec, data=data)
    g = result.groups
    unknown = g[(g.attribute == "group") & (g.group == "unknown") & (g.metric == "count")].iloc[0]
    assert unknown["value"] == 50 and unknown["unknown"]
    assert "unknown" not in set(result.comparisons[result.comparisons.attribute == "group"].group)
    assert any("50 rows have no value" in n for n in result.notes)
    duck = audit.run(dict(base_spec, data={"where": "TRUE"}), data=data)
    _assert_same(result, duck)


def test_an_existing_group_called_unknown_is_not_merged_with_missing_values(frame, base_spec) -> None:
    data = frame.copy()
    data.loc[:9, "group"] = "unknown"
    data.loc[10:19, "group"] = None
    g = audit.run(dict(base_spec, protected=[{"column": "group"}, {"column": "sex"}]), data=data).groups
    counts = g[(g.attribute == "group") & (g.metric == "count")].set_index("group")["value"]
    assert counts["unknown"] == 10 and counts["unknown (missing value)"] == 10


def test_undefined_is_never_zero(base_spec) -> None:
    data = synthetic()
    data.loc[data.group == "c", "y"] = 0  # group c has no actual positives
    g = audit.run(base_spec, data=data).groups
    tpr = g[(g.attribute == "group") & (g.group == "c") & (g.metric == "tpr")].iloc[0]
    assert np.isnan(tpr["value"]) and tpr["status"] == "undefined" and tpr["reason"] == "no actual positives"
    assert np.isnan(tpr["ci_low"])


def test_without_ground_truth_only_label_free_metrics(frame, base_spec) -> None:
    spec = {k: v for k, v in base_spec.items() if k != "outcome"}
    spec["policy"] = [{"metric": "selection_rate", "ratio": [0.8, 1.25]}]
    result = audit.run(spec, data=frame)
    assert set(result.groups.metric) == {"count", "share", "selection_rate"}


def test_score_threshold_makes_the_decision(frame, base_spec) -> None:
    data = frame.assign(s=np.where(frame.d == 1, 0.9, 0.1))
    spec = {k: v for k, v in base_spec.items() if k != "decision"}
    spec["score"] = {"column": "s", "threshold": 0.5, "adverse": True}
    by_score = audit.run(spec, data=data)
    by_decision = audit.run(base_spec, data=data)
    for name in TABLES:  # the cut-off's view equals the decision's; the score adds views of its own
        threshold_view = getattr(by_score, name).query("view == 'score ≥ 0.5'").drop(columns="view")
        pd.testing.assert_frame_equal(threshold_view.reset_index(drop=True),
                                      getattr(by_decision, name).drop(columns="view").reset_index(drop=True),
                                      check_exact=False, rtol=1e-12)
    assert set(by_score.groups["view"]) == {"score ≥ 0.5", "score"}


def test_reference_by_rule(frame, base_spec) -> None:
    spec = dict(base_spec, protected=[{"column": "group"}, {"column": "sex"}])
    c = audit.run(spec, data=frame).comparisons
    assert set(c[c.attribute == "group"].reference) == {"a"}  # largest group
    spec = dict(spec, statistics={"reference_rule": "most_favourable"})
    c = audit.run(spec, data=frame).comparisons
    sel = c[(c.attribute == "group") & (c.metric == "selection_rate")]
    rates = frame.groupby("group").d.mean()
    assert set(sel.reference) == {rates.idxmin()}  # adverse decision: the lowest flag rate is most favourable


def test_intersection_reference_and_labels(frame, base_spec) -> None:
    spec = dict(base_spec, intersections=[{"columns": ["sex", "group"], "reference": ["m", "a"]}])
    c = audit.run(spec, data=frame).comparisons
    cross = c[c.attribute == "sex × group"]
    assert set(cross.reference) == {"m × a"}
    assert "f × b" in set(cross.group)


def test_comparison_numbers_match_direct_computation(frame, base_spec) -> None:
    from statsmodels.stats.proportion import confint_proportions_2indep

    c = audit.run(base_spec, data=frame).comparisons
    row = c[(c.attribute == "group") & (c.group == "b") & (c.metric == "selection_rate")].iloc[0]
    b, a = frame[frame.group == "b"].d, frame[frame.group == "a"].d
    assert row["ratio"] == pytest.approx(b.mean() / a.mean(), rel=1e-12)
    assert row["difference"] == pytest.approx(b.mean() - a.mean(), rel=1e-12)
    low, high = confint_proportions_2indep(b.sum(), len(b), a.sum(), len(a), method="newcomb", compare="diff")
    assert (row["difference_ci_low"], row["difference_ci_high"]) == pytest.approx((low, high), rel=1e-9)
    # Fisher's exact test below statistics.min_expected (1,000 by default), the z test above it.
    assert row["test"] == "fisher" and row["disadvantaged"] is True
    z_row = audit.run(dict(base_spec, statistics={"min_expected": 5}), data=frame).comparisons
    z_row = z_row[(z_row.attribute == "group") & (z_row.group == "b") & (z_row.metric == "selection_rate")].iloc[0]
    assert z_row["test"] == "z"
    rates = frame.groupby("group").d.mean()
    assert row["impact_ratio"] == pytest.approx(rates["b"] / rates.max(), rel=1e-12)
    favourable = 1 - rates
    assert row["four_fifths_flag"] == bool(favourable["b"] / favourable.max() < 0.8)


def test_p_values_are_adjusted_across_the_whole_audit(frame, base_spec) -> None:
    from statsmodels.stats.multitest import multipletests

    c = audit.run(base_spec, data=frame).comparisons
    tested = c[c.p_value.notna()]
    assert np.allclose(tested.p_adjusted, multipletests(tested.p_value, method="holm")[1], rtol=1e-12)
    bh = audit.run(dict(base_spec, statistics={"correction": "bh"}), data=frame).comparisons
    tested = bh[bh.p_value.notna()]
    assert np.allclose(tested.p_adjusted, multipletests(tested.p_value, method="fdr_bh")[1], rtol=1e-12)


def test_small_cells_use_fishers_exact_test(base_spec) -> None:
    from scipy.stats import fisher_exact

    data = synthetic(n=4000)
    data = pd.concat([data, pd.DataFrame({"group": ["z"] * 6, "sex": ["f", "m"] * 3, "y": [0, 1] * 3,
                                          "d": [1, 1, 1, 0, 1, 1], "w": 1.0})], ignore_index=True)
    c = audit.run(dict(base_spec, protected=[{"column": "group", "reference": "a"}, {"column": "sex"}]),
                  data=data).comparisons
    row = c[(c.attribute == "group") & (c.group == "z") & (c.metric == "selection_rate")].iloc[0]
    a = data[data.group == "a"].d
    assert row["test"] == "fisher"
    expected = fisher_exact([[5, 1], [a.sum(), len(a) - a.sum()]])[1]
    assert row["p_value"] == pytest.approx(expected, rel=1e-9)


def test_result_json_shape(frame, base_spec) -> None:
    import json

    result = audit.run(base_spec, data=frame)
    body = json.loads(result.to_json())
    assert body["schema_version"] == "2.0"
    assert body["family"]["size"] == len(body["verdicts"]) and body["family"]["alpha"] == 0.05
    assert set(body) >= {"verdict", "groups", "comparisons", "verdicts", "spread", "provenance", "spec", "notes"}
    assert body["provenance"]["seed"] == 20240601 and len(body["provenance"]["result_sha256"]) == 64
    assert body["groups"][0].keys() >= {"attribute", "group", "metric", "value", "ci_low", "ci_high", "n"}
    assert any(row["value"] is None for row in body["groups"]) or True
    assert body["provenance"]["data"]["sha256"] and body["provenance"]["packages"]["numpy"]


def test_fingerprint_identifies_the_data(frame, base_spec) -> None:
    first = audit.run(base_spec, data=frame).provenance.data.sha256
    assert audit.run(base_spec, data=frame.copy()).provenance.data.sha256 == first
    changed = frame.copy()
    changed.loc[7, "d"] = 1 - changed.loc[7, "d"]
    assert audit.run(base_spec, data=changed).provenance.data.sha256 != first
    assert audit.run(base_spec, data=frame.astype({"group": "category"})).provenance.data.sha256 != first
    assert audit.run(base_spec, data=frame, fingerprint=False).provenance.data.sha256 is None


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_files_give_the_same_result_as_the_frame(tmp_path, frame, base_spec, fmt) -> None:
    small = frame.iloc[:600]
    path = tmp_path / f"data.{fmt}"
    {"csv": lambda: small.to_csv(path, index=False), "parquet": lambda: small.to_parquet(path),
     "xlsx": lambda: small.to_excel(path, index=False)}[fmt]()
    from_file = audit.run(dict(base_spec, data={"path": str(path)}))
    from_frame = audit.run(base_spec, data=small)
    _assert_same(from_file, from_frame)
    assert from_file.provenance.data.format == {"xlsx": "excel"}.get(fmt, fmt)
    assert len(from_file.provenance.data.sha256) == 64
