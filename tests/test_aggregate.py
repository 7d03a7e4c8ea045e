"""Aggregate input: an audit from a table of counts equals the audit of the rows it was summed from."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import audit
from audit.cli import main

sys.path.insert(0, str(Path(__file__).parent))
import beyond  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "compas_truth_tables" / "spec.yaml"


def _aggregate(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Sum rows to one row per combination of values (missing values kept as their own cell)."""
    return frame[columns].groupby(columns, dropna=False).size().rename("people").reset_index()


def _assert_same(a: audit.AuditResult, b: audit.AuditResult) -> None:
    for name in ("groups", "comparisons", "verdicts", "spread"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True, obj=name)
    assert sorted(a.tables) == sorted(b.tables)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], check_exact=True, obj=name)
    assert a.verdict == b.verdict


def test_propublica_truth_tables_give_the_published_rates_exactly() -> None:
    result = audit.run(EXAMPLE)
    rates = result.groups.set_index(["group", "metric"])["value"]
    assert rates[("African-American", "fpr")] == 805 / (990 + 805)
    assert rates[("Caucasian", "fpr")] == 349 / (1139 + 349)
    assert round(rates[("African-American", "fpr")] * 100, 2) == 44.85
    assert round(rates[("Caucasian", "fpr")] * 100, 2) == 23.45
    assert round(rates[("African-American", "fnr")] * 100, 2) == 27.99
    assert round(rates[("Caucasian", "fnr")] * 100, 2) == 47.72
    fpr = result.comparisons.query("metric == 'fpr'").iloc[0]
    assert round(fpr["ratio"], 2) == 1.91
    assert result.provenance.rows_used == 990 + 805 + 532 + 1369 + 1139 + 349 + 461 + 505


def test_truth_tables_equal_the_unfiltered_row_audit() -> None:
    rows = pd.read_csv(ROOT / "examples" / "compas" / "compas-scores-two-years.csv")
    rows = rows[rows["race"].isin(["African-American", "Caucasian"])].assign(
        high_risk=lambda f: (f["score_text"] != "Low").astype(int))
    spec = audit.load_spec(EXAMPLE)[0].model_dump()
    spec["data"] = {}
    row_result = audit.run(spec, rows)
    aggregate = audit.run(EXAMPLE)
    key = ["attribute", "group", "metric"]
    row_groups = row_result.groups.set_index(key)[["value", "ci_low", "ci_high", "n"]]
    agg_groups = aggregate.groups.set_index(key)[["value", "ci_low", "ci_high", "n"]]
    pd.testing.assert_frame_equal(row_groups, agg_groups, check_exact=True)


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
@pytest.mark.parametrize("case", ["score", "tiers", "overrides", "amounts"])
def test_aggregate_audit_equals_the_row_audit(case: str, engine: str) -> None:
    frame = beyond.make_rows(3000, seed=11)
    spec = {"score": beyond.SCORE_SPEC, "tiers": beyond.TIER_SPEC, "overrides": beyond.OVERRIDE_SPEC,
            "amounts": beyond.AMOUNT_SPEC}[case]
    loaded = audit.load_spec(spec)[0]
    from audit.sources import plan_for
    columns = [c for c in plan_for(loaded).columns]
    table = _aggregate(frame, columns)
    assert len(table) < len(frame)
    counted = dict(spec, data={"count_column": "people"})
    if engine == "duckdb":  # a where that keeps every row sends a frame through DuckDB
        counted["data"]["where"] = "people >= 0"
        spec = dict(spec, data={"where": "TRUE"})
    row_result = audit.run(spec, frame)
    aggregate = audit.run(counted, table)
    _assert_same(row_result, aggregate)


@pytest.mark.parametrize("values, message", [
    ([3, -1, 2, 5], "negative counts"),
    ([3, 1.5, 2, 5], "not whole numbers"),
    ([3, None, 2, 5], "empty values"),
])
def test_bad_counts_are_refused_with_exit_2(tmp_path: Path, values: list, message: str) -> None:
    table = pd.DataFrame({"group": ["a", "a", "b", "b"], "flag": [0, 1, 0, 1], "people": values})
    table.to_csv(tmp_path / "counts.csv", index=False)
    (tmp_path / "spec.yaml").write_text(
        "system: {name: x}\ndata: {path: counts.csv, count_column: people}\n"
        "decision: {column: flag, positive: 1}\nprotected: [{column: group}]\n")
    result = CliRunner().invoke(main, ["run", str(tmp_path / "spec.yaml")])
    assert result.exit_code == 2, result.output
    assert "data.count_column" in result.output and message in result.output
    assert "Traceback" not in result.output
    with pytest.raises(audit.DataError, match=message):
        audit.run({"system": {"name": "x"}, "data": {"count_column": "people"},
                   "decision": {"column": "flag", "positive": 1}, "protected": [{"column": "group"}]},
                  table.astype({"people": "float"}) if None not in values else table)
