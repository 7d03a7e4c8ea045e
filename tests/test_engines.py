"""Every engine gives the same counts, and so exactly the same result, on the same rows.

The rows have unknown values in every audited column, weights, tiers, an exact
score, a continuous (binned) score with a top-k cut-off, an amount, Vietnamese
text and a filter. They are audited in memory (pandas, polars), from a Parquet
file (DuckDB), in a real PostgreSQL server (a table and a query) and by a real
Spark in local mode (a DataFrame and the spec's file). Every count of people
must be identical, and so must every sum when its terms are exact in binary
(weights in quarters, scores on a grid): then the result's SHA-256 is equal
too. A sum of continuous terms (Σ weight × score in a bin of a continuous
score) depends on the order in which an engine's threads add them, in the last
bit: there the sums agree to 1e-12 and every table to 1e-9.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import audit
from audit.counts import RawCounts
from audit.engine import count
from audit.sources import EngineOptions
from services import load_table

REGIONS = ["Thủ Đức", "Quận 1", "Bình Thạnh", "Gò Vấp"]


def decisions(n: int = 12000, seed: int = 11) -> pd.DataFrame:
    """A decision log with a disparity for Thủ Đức, unknown values in every column, weights in quarters."""
    rng = np.random.default_rng(seed)
    region = rng.choice(REGIONS, size=n, p=[0.4, 0.3, 0.2, 0.1]).astype(object)
    region[rng.random(n) < 0.03] = None
    sex = rng.choice(["nữ", "nam"], size=n).astype(object)
    sex[rng.random(n) < 0.02] = None
    y = (rng.random(n) < 0.3).astype(float)
    y[rng.random(n) < 0.02] = np.nan
    risk = np.clip(rng.beta(2, 5, n) + np.where(region == "Thủ Đức", 0.12, 0.0) + 0.15 * np.nan_to_num(y), 0, 1)
    tier = np.where(risk > 0.55, "black", np.where(risk < 0.2, "red", "neutral")).astype(object)
    tier[rng.random(n) < 0.01] = None
    score = np.round(risk, 3)
    score[rng.random(n) < 0.01] = np.nan
    amount = np.round(rng.gamma(2.0, 900.0, n)).astype(float)
    amount[rng.random(n) < 0.02] = np.nan
    flag = pd.array(np.where(rng.random(n) < 0.01, None, (risk > 0.45).astype(int)), dtype="Int8")
    found = pd.array(np.where(np.isnan(y), None, np.nan_to_num(y).astype(int)), dtype="Int16")
    return pd.DataFrame({"region": region, "sex": sex, "y": y, "tier": tier, "score": score,
                         "prob": risk + rng.random(n) * 1e-6, "amount": amount,
                         "w": rng.integers(1, 9, n) / 4.0, "flag": flag, "found": found})


BASE = {"system": {"name": "engines"}, "outcome": {"column": "y", "positive": 1},
        "protected": [{"column": "region", "reference": "Quận 1"}, {"column": "sex"}],
        "intersections": [["region", "sex"]]}
SPECS = {
    "tiers_weights": {**BASE, "data": {"weight": "w"},
                      "decision": {"column": "tier", "tiers": {"values": {"red": "favourable", "neutral": "neutral",
                                                                          "black": "adverse"}}},
                      "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25], "rule": "ci"}]},
    "score_amount_filter": {**BASE, "data": {"where": "region <> 'Gò Vấp' OR sex = 'nữ'"},
                            "score": {"column": "score", "threshold": [0.5, {"top_k": 400}], "adverse": True},
                            "amounts": [{"column": "amount", "higher_is": "favourable"}],
                            "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25], "rule": "ci"},
                                       {"metric": "fpr", "ratio": [0.8, 1.25], "rule": "point"}]},
    "narrow_integer_labels": {**BASE, "outcome": {"column": "found", "positive": 1},
                              "decision": {"column": "flag", "positive": 1, "adverse": True},
                              "policy": [{"metric": "fpr", "ratio": [0.8, 1.25], "rule": "ci"}]},
    "binned_score_weights": {**BASE, "data": {"weight": "w"},
                             "score": {"column": "prob", "threshold": [0.45, {"top_percent": 10}], "adverse": True},
                             "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25], "rule": "ci"}]},
}


def with_data(spec: dict[str, Any], **data: Any) -> dict[str, Any]:
    """The spec with extra ``data`` fields (its filter and weight kept)."""
    changed = copy.deepcopy(spec)
    changed["data"] = {**changed.get("data", {}), **data}
    return changed


EXACT_SUMS = {"tiers_weights", "score_amount_filter", "narrow_integer_labels"}


def assert_same_counts(got: RawCounts, expected: RawCounts, engine: str, *, exact: bool = True) -> None:
    assert got.levels == expected.levels, engine
    assert got.label_values == expected.label_values, engine
    assert got.rows_read == expected.rows_read, engine
    for name in ("rows", "weights", "weights_sq", "score_sum", "score_sq"):
        a, b = getattr(got, name), getattr(expected, name)
        assert (a is None) == (b is None), (engine, name)
        if a is not None:
            assert a.shape == b.shape, (engine, name)
            same = np.array_equal(a, b) if exact or name in ("rows", "weights", "weights_sq") else \
                np.allclose(a, b, rtol=1e-12, atol=0)
            assert same, (engine, name, np.abs(a - b).max())
    assert (got.score is None) == (expected.score is None)
    if got.score is not None:
        assert got.score.exact == expected.score.exact, engine
        assert np.array_equal(got.score.values, expected.score.values), engine
    assert len(got.amounts) == len(expected.amounts)
    for a, b in zip(got.amounts, expected.amounts):
        assert np.array_equal(a.histogram.values, b.histogram.values), engine
        for name in ("rows", "weights", "weights_sq", "sum_wx", "sum_wx2"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), (engine, "amount", name)


def assert_same_tables(got: audit.AuditResult, expected: audit.AuditResult, engine: str) -> None:
    """Every table equal, numbers to 1e-9 relative; verdicts and every text exactly."""
    pairs = [(got.groups, expected.groups), (got.comparisons, expected.comparisons),
             (got.verdicts, expected.verdicts)] + [(got.tables[k], expected.tables[k]) for k in expected.tables]
    assert sorted(got.tables) == sorted(expected.tables), engine
    for a, b in pairs:
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-12, obj=engine)


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return decisions()


@pytest.fixture(scope="module")
def parquet(rows: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("engines") / "decisions.parquet"
    rows.to_parquet(path, index=False, row_group_size=1000)
    return path


@pytest.fixture(scope="module")
def database(rows: pd.DataFrame, postgres_url: str) -> str:
    load_table(postgres_url, "decisions", rows)
    return postgres_url


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_engine_gives_the_same_counts_and_result(name: str, rows: pd.DataFrame, parquet: Path, database: str,
                                                       spark: Any) -> None:
    import polars as pl

    spec = SPECS[name]
    expected_counts = count(spec, rows).raw
    expected = audit.run(spec, rows)
    assert expected_counts.engine == "pandas" or spec["data"].get("where")
    runs = {
        "polars": (spec, pl.from_pandas(rows), EngineOptions()),
        "parquet (DuckDB)": (with_data(spec, path=str(parquet)), None, EngineOptions()),
        "PostgreSQL table": (with_data(spec, url=database, table="decisions"), None, EngineOptions()),
        "PostgreSQL query": (with_data(spec, url=database, query="SELECT * FROM decisions WHERE w > 0"), None,
                             EngineOptions()),
        "Spark DataFrame": (spec, spark.createDataFrame(rows), EngineOptions()),
        "Spark reading the file": (with_data(spec, path=str(parquet)), None, EngineOptions(engine="spark")),
    }
    engines = {}
    for engine, (run_spec, data, options) in runs.items():
        counted = count(run_spec, data, options=options)
        assert_same_counts(counted.raw, expected_counts, engine, exact=name in EXACT_SUMS)
        result = audit.run(run_spec, data, options=options)
        if name in EXACT_SUMS:
            assert result.result_sha256 == expected.result_sha256, engine
        else:
            assert_same_tables(result, expected, engine)
        assert result.notes == expected.notes and result.verdict == expected.verdict, engine
        engines[engine] = counted.raw.engine
    assert engines == {"polars": "duckdb", "parquet (DuckDB)": "duckdb", "PostgreSQL table": "postgresql",
                       "PostgreSQL query": "postgresql", "Spark DataFrame": "spark", "Spark reading the file": "spark"}


def test_the_planted_disparity_is_found_by_the_database(database: str) -> None:
    result = audit.run(with_data(SPECS["tiers_weights"], url=database, table="decisions"))
    groups = result.groups
    black = groups[(groups["attribute"] == "region") & (groups["metric"] == "tier_rate:black")].set_index("group")
    assert black.loc["Thủ Đức", "value"] == pytest.approx(0.275329, abs=1e-6)  # the planted disparity
    assert black.loc["Quận 1", "value"] == pytest.approx(0.115878, abs=1e-6)
    assert result.provenance.engine == "postgresql"
    assert result.provenance.data.format == "postgresql"
    assert result.provenance.data.source.endswith("table decisions")
    assert len(result.provenance.data.sha256) == 64
    assert result.provenance.rows_read == 12000


def test_database_fingerprint_changes_with_the_data(database: str) -> None:
    spec = with_data(SPECS["tiers_weights"], url=database)
    whole = audit.run({**spec, "data": {**spec["data"], "table": "decisions"}}).provenance.data.sha256
    same = audit.run({**spec, "data": {**spec["data"], "query": "SELECT * FROM decisions"}}).provenance.data.sha256
    fewer = audit.run({**spec, "data": {**spec["data"], "query": "SELECT * FROM decisions WHERE w < 2"}})
    assert whole == same != fewer.provenance.data.sha256


def test_database_errors_name_the_field_and_what_to_do(database: str) -> None:
    spec = SPECS["tiers_weights"]
    with pytest.raises(audit.DataError, match=r"data.table: the database .* has no table 'decision'.*did you mean "
                                              r"'decisions'") as missing:
        audit.run(with_data(spec, url=database, table="decision"))
    assert missing.value.reason.value == "data_not_found"
    with pytest.raises(audit.DataError, match=r"data.query: PostgreSQL at .* could not read it: .*syntax"):
        audit.run(with_data(spec, url=database, query="SELEKT * FROM decisions"))
    with pytest.raises(audit.DataError, match=r"data.where: the filter \"regio = 'x'\" is not a valid SQL "
                                              r"condition.*did you mean 'region'"):
        audit.run(with_data(spec, url=database, table="decisions", where="regio = 'x'"))
    with pytest.raises(audit.DataError, match=r"column 'sexe' is not in table 'decisions' of postgresql://"):
        audit.run(with_data({**spec, "protected": [{"column": "sexe"}], "intersections": []}, url=database,
                            table="decisions"))
    with pytest.raises(audit.DataError, match=r"data.weight: .* must hold numbers, but has values such as 'text'"):
        audit.run(with_data(spec, url=database, table="decisions", weight="region"))
    closed = database.rsplit(":", 1)[0] + ":1/audit_test"
    with pytest.raises(audit.DataError, match=r"data.url: could not connect to PostgreSQL at postgresql://.*:1/"
                                              r"audit_test.*Check that the server is running"):
        audit.run(with_data(spec, url=closed, table="decisions"))
    with pytest.raises(audit.UsageError, match=r"proxy scan .* not on a database \(data.url\)"):
        audit.run(with_data({**spec, "proxies": {"columns": ["score"]}}, url=database, table="decisions"))


def test_spec_refuses_a_password_and_mixed_sources() -> None:
    spec = SPECS["tiers_weights"]
    with pytest.raises(audit.SpecError, match=r"'url' holds a password.*PGPASSWORD"):
        audit.run(with_data(spec, url="postgresql://auditor:secret@db:5432/x", table="t"))
    with pytest.raises(audit.SpecError, match=r"either 'path' \(a file\) or 'url'"):
        audit.run(with_data(spec, url="postgresql://db/x", table="t", path="x.csv"))
    with pytest.raises(audit.SpecError, match=r"exactly one of 'table' or 'query'"):
        audit.run(with_data(spec, url="postgresql://db/x"))
    with pytest.raises(audit.SpecError, match=r"'table' and 'query' need 'url'"):
        audit.run(with_data(spec, table="t"))
    with pytest.raises(audit.SpecError, match=r"must be a PostgreSQL URL .* got 'mysql://…'"):
        audit.run(with_data(spec, url="mysql://db/x", table="t"))


def test_spark_errors_are_worded(spark: Any, rows: pd.DataFrame) -> None:
    spec = SPECS["tiers_weights"]
    frame = spark.createDataFrame(rows)
    with pytest.raises(audit.DataError, match=r"data.where: the filter \"regio = 'x'\" is not a valid SQL condition"):
        audit.run(with_data(spec, where="regio = 'x'"), frame)
    with pytest.raises(audit.DataError, match=r"column 'sexe' is not in the Spark DataFrame"):
        audit.run({**spec, "protected": [{"column": "sexe"}], "intersections": []}, frame)
    with pytest.raises(audit.UsageError, match=r"proxy scan .* not on a Spark DataFrame"):
        audit.run({**spec, "proxies": {"columns": ["score"]}}, frame)
    with pytest.raises(audit.UsageError, match=r"--engine spark reads the spec's data.path"):
        audit.run(spec, frame, options=EngineOptions(engine="spark"))


def test_progress_is_reported_until_done(parquet: Path, database: str) -> None:
    for data in ({"path": str(parquet)}, {"url": database, "table": "decisions"}):
        heard: list[tuple[str, float | None]] = []
        audit.run(with_data(SPECS["tiers_weights"], **data), options=EngineOptions(progress=lambda *a: heard.append(a)))
        assert heard[-1] == ("counting", 1.0), data
        assert ("checking", 1.0) in heard  # the weights are checked in a pass of their own
        assert all(share is None or 0.0 <= share <= 1.0 for _, share in heard)


def test_cli_runs_on_spark_and_postgresql(parquet: Path, database: str, tmp_path: Path, rows: pd.DataFrame) -> None:
    expected = audit.run(SPECS["tiers_weights"], rows).result_sha256
    for name, data, extra in (("spark", {"path": str(parquet)}, ["--engine", "spark", "--master", "local[1]"]),
                              ("postgresql", {"url": database, "table": "decisions"}, [])):
        spec_path = tmp_path / f"{name}.yaml"
        spec_path.write_text(yaml.safe_dump(with_data(SPECS["tiers_weights"], **data), allow_unicode=True, sort_keys=False))
        out = tmp_path / name
        done = subprocess.run([sys.executable, "-m", "audit.cli", "run", str(spec_path), "--out", str(out),
                               "--progress", *extra], capture_output=True, text=True, timeout=300)
        assert done.returncode == 1, done.stderr  # the planted disparity fails the rule
        assert "counting: 100%" in done.stderr, done.stderr
        import json

        result = json.loads((out / "result.json").read_text())
        assert result["provenance"]["result_sha256"] == expected, name
        assert result["provenance"]["engine"] == name


def test_master_without_spark_engine_is_a_usage_error(parquet: Path, tmp_path: Path) -> None:
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(with_data(SPECS["tiers_weights"], path=str(parquet)), allow_unicode=True, sort_keys=False))
    done = subprocess.run([sys.executable, "-m", "audit.cli", "run", str(spec_path), "--master", "local[1]"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--master is Spark's master URL; use it with --engine spark" in done.stderr


def test_validate_connects_and_checks_the_columns(database: str, tmp_path: Path) -> None:
    spec_path = tmp_path / "spec.yaml"
    for table, code, said in (("decisions", 0, "data: table 'decisions' of postgresql://postgres@127.0.0.1:"),
                              ("decision", 2, "data.table: the database postgresql://")):
        spec_path.write_text(yaml.safe_dump(with_data(SPECS["tiers_weights"], url=database, table=table),
                                            allow_unicode=True, sort_keys=False))
        done = subprocess.run([sys.executable, "-m", "audit.cli", "validate", str(spec_path)], capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == code and said in done.stdout + done.stderr, done.stderr
        assert "Traceback" not in done.stderr
        if code == 0:  # region, sex, tier, y and w
            assert "(PostgreSQL; all 5 columns named in the spec are present)" in done.stdout


# --------------------------------------------------------------------------- values as written, on every engine

ODD_GROUPS = ["01", "1", "1.0", "100", "1e2", "yes", "TRUE", "true", "t", "Kinh", "Kinh ", "05/01/2024", "NA",
              "3.0"]


def odd_values(n: int = 1400, seed: int = 5) -> pd.DataFrame:
    """Text values that a type-guessing reader would convert or merge, a yes/no decision, numeric weights."""
    rng = np.random.default_rng(seed)
    group = rng.choice(ODD_GROUPS, size=n).astype(object)
    decision = rng.choice(["yes", "no"], size=n).astype(object)
    decision[rng.random(n) < 0.02] = "N/A"
    code = rng.choice(["007", "7", "07"], size=n).astype(object)
    return pd.DataFrame({"group": group, "code": code, "decision": decision, "w": rng.integers(1, 9, n) / 4.0})


ODD_SPEC = {"system": {"name": "as written"}, "data": {"weight": "w", "where": "w > 0.25"},
            "decision": {"column": "decision", "positive": "yes"},
            "protected": [{"column": "group", "reference": "01"}, {"column": "code"}],
            "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25], "rule": "ci"}]}


def test_values_are_kept_as_written_on_every_engine(database: str, spark: Any, tmp_path: Path) -> None:
    rows = odd_values()
    csv = tmp_path / "odd.csv"
    rows.to_csv(csv, index=False)
    load_table(database, "odd_values", rows, replace=True)
    runs = {
        "CSV (DuckDB)": (with_data(ODD_SPEC, path=str(csv)), None, EngineOptions()),
        "CSV (Spark)": (with_data(ODD_SPEC, path=str(csv)), None, EngineOptions(engine="spark")),
        "PostgreSQL table": (with_data(ODD_SPEC, url=database, table="odd_values"), None, EngineOptions()),
        "Spark DataFrame": (ODD_SPEC, spark.createDataFrame(rows), EngineOptions()),
    }
    expected = count(ODD_SPEC, rows).raw
    assert sorted(expected.levels[0]) == sorted(ODD_GROUPS)           # 14 groups, none merged or converted
    assert sorted(expected.levels[1]) == ["007", "07", "7"]
    assert sorted(expected.label_values[0]) == ["N/A", "no", "yes"]
    reference = audit.run(ODD_SPEC, rows)
    assert "'N/A'" in " ".join(reference.notes)                        # named as a look-alike of a missing marker
    for engine, (spec, data, options) in runs.items():
        counted = count(spec, data, options=options)
        assert_same_counts(counted.raw, expected, engine)
        assert audit.run(spec, data, options=options).result_sha256 == reference.result_sha256, engine


def test_declared_missing_markers_are_the_same_on_duckdb_and_spark(spark: Any, tmp_path: Path) -> None:
    rows = odd_values()
    csv = tmp_path / "odd.csv"
    rows.to_csv(csv, index=False)
    spec = with_data(ODD_SPEC, path=str(csv), missing=["NA", "N/A"])
    duck = count(spec).raw
    assert "NA" not in duck.levels[0] and "N/A" not in duck.label_values[0]
    missing = rows["group"].eq("NA") & rows["w"].gt(0.25)
    assert duck.rows[-1].sum() == missing.sum()                           # the missing slot of 'group'
    assert_same_counts(count(spec, options=EngineOptions(engine="spark")).raw, duck, "CSV (Spark)")
