"""Proxy detection (``audit.proxies.scan_proxies``) against scipy and sklearn oracles.

The oracles recompute every table from the raw rows with pandas (``crosstab``, ``qcut``), never from the
scan's own counts: Cramér's V against ``scipy.stats.contingency.association``, AUC against
``sklearn.metrics.roc_auc_score`` and NMI against ``sklearn.metrics.mutual_info_score`` / ln 2 / the
protected attribute's entropy in bits (``scipy.stats.entropy(base=2)``).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import entropy
from scipy.stats.contingency import association
from sklearn.metrics import mutual_info_score, roc_auc_score

from audit import proxies
from audit.errors import DataError, ReasonCode, UsageError
from audit.proxies import EXACT_AUC_VALUES, TABLE_COLUMNS, ProxyScan, cramers_v, scan_proxies

MISSING = "<missing>"
REL = 1e-12  # relative tolerance against the oracles: the same formula on the same integers
CON = duckdb.connect()  # shared by the property tests (a connection costs more than a small scan)


# ------------------------------------------------------------------------------------------------ data


def planted(n: int = 8000, seed: int = 11) -> pd.DataFrame:
    """District is a strong proxy of ethnicity, income a moderate one of sex; the noise columns are independent.

    ``income`` is continuous (more than EXACT_AUC_VALUES distinct values: AUC computed in DuckDB);
    ``income_rounded`` has a few hundred values (AUC from the histogram in Python).
    """
    rng = np.random.default_rng(seed)
    ethnicity = rng.choice(["A", "B", "C"], size=n, p=[0.5, 0.3, 0.2]).astype(object)
    ethnicity[rng.random(n) < 0.02] = None
    sex = rng.choice(["F", "M"], size=n)
    home = np.array(["d1", "d2", "d3"])
    away = np.array([f"d{i}" for i in range(4, 13)])
    in_home = np.where(ethnicity == "A", rng.random(n) < 0.9, rng.random(n) < 0.1)
    district = np.where(in_home, rng.choice(home, n), rng.choice(away, n)).astype(object)
    district[rng.random(n) < 0.03] = None
    income = rng.normal(30.0, 8.0, n) + np.where(sex == "M", 9.0, 0.0)
    income[rng.random(n) < 0.02] = np.nan
    return pd.DataFrame({
        "person_id": [f"p{i:06d}" for i in range(n)],
        "ethnicity": ethnicity,
        "sex": sex,
        "district": district,
        "income": income,
        "income_rounded": np.round(income),
        "noise": rng.normal(size=n),
        "noise_category": rng.choice(list("abcdef"), size=n),
        "noise_small_int": rng.integers(0, 4, size=n),
        "flag": rng.random(n) < 0.5,
        "outcome": rng.integers(0, 2, size=n),
    })


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return planted()


@pytest.fixture(scope="module")
def scan(frame: pd.DataFrame) -> ProxyScan:
    return scan_proxies(duckdb.connect().from_df(frame), ["ethnicity", "sex"], exclude=["outcome"])


def labels(series: pd.Series) -> pd.Series:
    """Values as oracle labels, the missing ones (None, NaN) as one category of their own."""
    return series.astype(object).where(series.notna(), MISSING).astype(str)


def quantile_bins(series: pd.Series, bins: int) -> pd.Series:
    """pandas.qcut codes (right-closed, duplicate edges dropped), missing values as bin -1."""
    codes = pd.qcut(series, [j / bins for j in range(bins + 1)], labels=False, duplicates="drop")
    return codes.fillna(-1).astype(int)


def oracle_table(frame: pd.DataFrame, protected: str, column: str, kind: str, bins: int = 10) -> np.ndarray:
    candidate = labels(frame[column]) if kind == "categorical" else quantile_bins(frame[column], bins)
    return pd.crosstab(labels(frame[protected]), candidate).to_numpy()


def oracle_nmi(frame: pd.DataFrame, protected: str, column: str, kind: str, bins: int = 10) -> float:
    p = labels(frame[protected])
    c = labels(frame[column]) if kind == "categorical" else quantile_bins(frame[column], bins)
    bits = mutual_info_score(p, c) / math.log(2)
    return bits / entropy(p.value_counts().to_numpy(), base=2)


def oracle_auc(frame: pd.DataFrame, protected: str, column: str) -> float:
    present = frame[column].notna()
    groups = labels(frame[protected])[present]
    x = frame[column][present].astype(float)
    best = math.nan
    for group in groups.unique():
        positive = (groups == group).to_numpy()
        if 0 < positive.sum() < len(positive):
            auc = roc_auc_score(positive, x)
            best = max(auc, 1 - auc) if math.isnan(best) else max(best, auc, 1 - auc)
    return best


def row(scan: ProxyScan, protected: str, column: str) -> pd.Series:
    hits = scan.table[(scan.table["protected"] == protected) & (scan.table["column"] == column)]
    assert len(hits) == 1, hits
    return hits.iloc[0]


class CountingRelation:
    """A relation that counts the queries sent to DuckDB (each query is at least one scan of the data)."""

    def __init__(self, relation: Any) -> None:
        self._relation = relation
        self.queries: list[str] = []

    @property
    def columns(self) -> list[str]:
        return self._relation.columns

    @property
    def types(self) -> list[Any]:
        return self._relation.types

    def query(self, name: str, sql: str) -> Any:
        self.queries.append(sql)
        return self._relation.query(name, sql)


# ------------------------------------------------------------------------------------------------ findings


def test_table_shape_and_order(scan: ProxyScan) -> None:
    table = scan.table
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert scan.threshold == 0.3
    candidates = {"person_id", "district", "income", "income_rounded", "noise", "noise_category",
                  "noise_small_int", "flag"}
    for protected in ("ethnicity", "sex"):
        part = table[table["protected"] == protected]
        assert len(part) == len(candidates) and set(part["column"]) == candidates
    assert list(dict.fromkeys(table["protected"])) == ["ethnicity", "sex"]
    for _, part in table.groupby("protected", sort=False):
        strengths = part["strength"].to_numpy()
        scored = strengths[~np.isnan(strengths)]
        assert list(scored) == sorted(scored, reverse=True)
        assert np.isnan(strengths[len(scored):]).all()  # NaN last
    assert "outcome" not in set(table["column"])
    assert set(table["n"]) == {8000}


def test_flags_exactly_the_planted_proxies_and_ranks_them_first(scan: ProxyScan) -> None:
    flagged = {(r.protected, r.column) for r in scan.table[scan.table["flagged"]].itertuples()}
    assert flagged == {("ethnicity", "district"), ("sex", "income"), ("sex", "income_rounded")}
    assert row(scan, "ethnicity", "district")["rank"] == 1
    assert set(scan.table[(scan.table["protected"] == "sex") & (scan.table["rank"] <= 2)]["column"]) == \
        {"income", "income_rounded"}
    assert set(scan.flagged["column"]) == {"district", "income", "income_rounded"}
    for noise in ("noise", "noise_category", "noise_small_int", "flag"):
        for protected in ("ethnicity", "sex"):
            assert row(scan, protected, noise)["strength"] < 0.1


def test_kinds_and_measures(scan: ProxyScan) -> None:
    kinds = {r.column: (r.kind, r.measure) for r in scan.table[scan.table["protected"] == "sex"].itertuples()}
    assert kinds["district"] == ("categorical", "Cramér's V")
    assert kinds["flag"] == ("categorical", "Cramér's V")
    assert kinds["noise_small_int"] == ("categorical", "Cramér's V")  # a number with 4 values is a category
    assert kinds["income"] == ("numeric", "Cramér's V (deciles)")
    assert kinds["noise"] == ("numeric", "Cramér's V (deciles)")
    categorical = scan.table[scan.table["kind"] == "categorical"]
    assert categorical["auc"].isna().all()  # categories have no order
    numeric = scan.table[scan.table["kind"] == "numeric"]
    assert numeric["auc"].between(0.5, 1).all()


@pytest.mark.parametrize("protected", ["ethnicity", "sex"])
def test_strength_and_nmi_equal_scipy_and_sklearn_on_the_same_table(scan: ProxyScan, frame: pd.DataFrame,
                                                                    protected: str) -> None:
    rows = scan.table[(scan.table["protected"] == protected) & (scan.table["status"] == "ok")]
    assert len(rows) >= 7
    for r in rows.itertuples():
        table = oracle_table(frame, protected, r.column, r.kind)
        assert r.levels == table.shape[1]
        assert r.strength == pytest.approx(association(table, method="cramer"), rel=REL, abs=1e-15)
        assert r.nmi == pytest.approx(oracle_nmi(frame, protected, r.column, r.kind), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("column", ["income", "income_rounded", "noise"])
@pytest.mark.parametrize("protected", ["ethnicity", "sex"])
def test_auc_equals_sklearn_in_both_computations(scan: ProxyScan, frame: pd.DataFrame, protected: str,
                                                 column: str) -> None:
    distinct = frame[column].nunique()
    assert (distinct > EXACT_AUC_VALUES) == (column != "income_rounded")  # both code paths are exercised
    assert row(scan, protected, column)["auc"] == pytest.approx(oracle_auc(frame, protected, column), rel=REL)


def test_planted_auc_is_moderate(scan: ProxyScan) -> None:
    assert 0.7 < row(scan, "sex", "income")["auc"] < 0.9
    assert row(scan, "ethnicity", "income")["auc"] < 0.56


# ------------------------------------------------------------------------------------------------ properties

values = st.sampled_from(["a", "b", "c", "d", None])


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["x", "y", "z", None]), values), min_size=1, max_size=80))
def test_cramers_v_equals_scipy_for_any_categorical_data(pairs: list[tuple[Any, Any]]) -> None:
    frame = pd.DataFrame(pairs, columns=["group", "value"], dtype=object)
    result = scan_proxies(CON.from_df(frame), ["group"])
    r = row(result, "group", "value")
    table = oracle_table(frame, "group", "value", "categorical")
    if min(table.shape) < 2:
        assert r["status"] == "undefined" and math.isnan(r["strength"]) and r["reason"]
        assert not r["flagged"] and math.isnan(r["rank"])
    else:
        assert r["status"] == "ok"
        assert r["strength"] == pytest.approx(association(table, method="cramer"), rel=REL, abs=1e-15)
        assert r["nmi"] == pytest.approx(oracle_nmi(frame, "group", "value", "categorical"), rel=1e-9, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(st.tuples(st.integers(2, 6), st.integers(2, 6)).flatmap(
    lambda shape: st.lists(st.lists(st.integers(0, 1000), min_size=shape[1], max_size=shape[1]),
                           min_size=shape[0], max_size=shape[0])))
def test_cramers_v_function_equals_scipy(table: list[list[int]]) -> None:
    array = np.array(table, dtype=np.int64)
    array = array[array.sum(axis=1) > 0][:, array.sum(axis=0) > 0]
    if min(array.shape, default=0) < 2:
        assert math.isnan(cramers_v(array))
    else:
        assert cramers_v(array) == pytest.approx(association(array, method="cramer"), rel=REL, abs=1e-15)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["x", "y", "z", None]),
                          st.one_of(st.none(), st.integers(-20, 20).map(float))), min_size=30, max_size=120),
       st.integers(2, 8))
def test_numeric_binning_auc_and_nmi_equal_the_oracles_with_ties(pairs: list[tuple[Any, Any]], bins: int) -> None:
    """Both AUC computations (histogram in Python, window sums in DuckDB) on data full of ties and NULLs."""
    frame = pd.DataFrame(pairs, columns=["group", "value"])
    frame["group"] = frame["group"].astype(object)
    results = []
    for exact_auc_values in (EXACT_AUC_VALUES, 0):  # 0 sends every numeric column to the DuckDB path
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(proxies, "EXACT_AUC_VALUES", exact_auc_values)
            results.append(row(scan_proxies(CON.from_df(frame), ["group"], numeric_bins=bins),
                               "group", "value"))
    for r in results:
        if frame["value"].nunique() <= bins:
            assert r["kind"] == "categorical"
            continue
        assert r["kind"] == "numeric"
        assert r["measure"] == ("Cramér's V (deciles)" if bins == 10 else f"Cramér's V ({bins} quantile bins)")
        table = oracle_table(frame, "group", "value", "numeric", bins)
        assert r["levels"] == table.shape[1]
        if min(table.shape) < 2:
            assert r["status"] == "undefined"
            continue
        assert r["strength"] == pytest.approx(association(table, method="cramer"), rel=REL, abs=1e-15)
        assert r["nmi"] == pytest.approx(oracle_nmi(frame, "group", "value", "numeric", bins), rel=1e-9,
                                         abs=1e-12)
        expected = oracle_auc(frame, "group", "value")
        assert (math.isnan(r["auc"]) and math.isnan(expected)) or r["auc"] == pytest.approx(expected, rel=REL)


# ------------------------------------------------------------------------------------------------ edge cases


def test_missing_values_are_a_category_of_their_own() -> None:
    n = 400
    group = np.array(["A", "B"] * (n // 2))
    frame = pd.DataFrame({
        "group": group,
        # recorded only for group A: the missingness alone reveals the group
        "reported": np.where(group == "A", 1.0, np.nan),
        "text": np.where(group == "A", "yes", None),
    })
    frame.loc[[0, 1], "group"] = None  # and a third, missing protected group
    result = scan_proxies(duckdb.connect().from_df(frame), ["group"])
    for column in ("reported", "text"):
        r = row(result, "group", column)
        assert r["status"] == "ok" and r["kind"] == "categorical" and r["levels"] == 2
        table = oracle_table(frame, "group", column, "categorical")
        assert table.shape == (3, 2)
        assert r["strength"] == pytest.approx(association(table, method="cramer"), rel=REL)
        assert r["strength"] > 0.95


def test_nan_in_a_parquet_file_is_missing_like_null(tmp_path: Path) -> None:
    """Parquet keeps NaN as a value (pandas → DuckDB turns it into NULL); both are the missing category."""
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"group": rng.choice(["a", "b"], 500), "x": rng.normal(size=500)})
    frame.loc[frame["group"] == "a", "x"] = np.nan
    path = tmp_path / "nan.parquet"
    pq.write_table(pa.table({"group": pa.array(frame["group"]),
                             "x": pa.array(frame["x"].to_numpy(), from_pandas=False)}), path)
    con = duckdb.connect()
    # the file holds NaN, not NULL (counted as text: DuckDB 2.0 folds isnan(x) to false from the Parquet
    # min/max statistics, which leave NaN out)
    nan, null = con.sql(f"SELECT count_if(x::VARCHAR = 'nan'), count_if(x IS NULL) FROM '{path}'").fetchall()[0]
    assert nan == (frame["group"] == "a").sum() and null == 0
    from_file = scan_proxies(con.read_parquet(str(path)), ["group"])
    from_frame = scan_proxies(con.from_df(frame), ["group"])
    pd.testing.assert_frame_equal(from_file.table, from_frame.table)
    assert row(from_file, "group", "x")["strength"] == pytest.approx(1.0)


def test_identifier_column_is_skipped_with_the_reason(scan: ProxyScan) -> None:
    for protected in ("ethnicity", "sex"):
        r = row(scan, protected, "person_id")
        assert r["status"] == "skipped"
        assert r["reason"].endswith(" distinct values (an identifier or free text?); not scored")
        assert 7000 < r["levels"] < 9000  # approximate distinct count
        assert int(r["reason"].split()[0]) == r["levels"]
        assert math.isnan(r["strength"]) and math.isnan(r["rank"]) and not r["flagged"]
    assert any("person_id" in note for note in scan.notes)


def test_max_levels_boundary_is_exact() -> None:
    frame = pd.DataFrame({"group": ["a", "b"] * 150, "code": [f"c{i % 200}" for i in range(300)],
                          "code201": [f"c{i % 201}" for i in range(300)]})
    result = scan_proxies(duckdb.connect().from_df(frame), ["group"], max_levels=200)
    assert row(result, "group", "code")["status"] == "ok"
    assert row(result, "group", "code")["levels"] == 200
    skipped = row(result, "group", "code201")
    assert skipped["status"] == "skipped"
    assert skipped["reason"] == "201 distinct values (an identifier or free text?); not scored"


def test_numeric_bins_boundary_is_exact() -> None:
    frame = pd.DataFrame({"group": ["a", "b"] * 50, "ten": [i % 10 for i in range(100)],
                          "eleven": [i % 11 for i in range(100)]})
    result = scan_proxies(duckdb.connect().from_df(frame), ["group"], numeric_bins=10)
    assert row(result, "group", "ten")["kind"] == "categorical"
    assert row(result, "group", "eleven")["kind"] == "numeric"


def test_constant_column_and_single_group_are_undefined() -> None:
    frame = pd.DataFrame({"group": ["a", "b"] * 20, "one_group": ["z"] * 40, "constant": ["k"] * 40,
                          "empty": [None] * 40, "x": [str(i % 3) for i in range(40)]})
    frame["empty"] = frame["empty"].astype(object)
    result = scan_proxies(duckdb.connect().from_df(frame), ["group", "one_group"])
    for column in ("constant", "empty"):
        r = row(result, "group", column)
        assert r["status"] == "undefined" and math.isnan(r["strength"]) and math.isnan(r["nmi"])
        assert r["reason"].startswith(f"column '{column}' is constant")
        assert not r["flagged"] and math.isnan(r["rank"])
    for column in ("constant", "x"):
        r = row(result, "one_group", column)
        assert r["status"] == "undefined" and math.isnan(r["strength"])
        assert "protected column 'one_group' has a single group" in r["reason"]
    assert row(result, "group", "x")["status"] == "ok"


def test_numeric_column_whose_bins_collapse_is_undefined() -> None:
    values = [0.0] * 190 + [float(i) for i in range(1, 12)]  # every decile is 0, the minimum
    frame = pd.DataFrame({"group": (["a", "b"] * 101)[: len(values)], "x": values})
    r = row(scan_proxies(duckdb.connect().from_df(frame), ["group"]), "group", "x")
    assert r["kind"] == "numeric" and r["status"] == "undefined"
    assert "one quantile bin" in r["reason"]
    assert r["levels"] == 1


def test_empty_relation_gives_undefined_rows() -> None:
    frame = pd.DataFrame({"group": pd.Series([], dtype=object), "x": pd.Series([], dtype=object)})
    r = row(scan_proxies(duckdb.connect().from_df(frame), ["group"]), "group", "x")
    assert r["status"] == "undefined" and r["n"] == 0 and math.isnan(r["strength"])


def test_protected_column_with_too_many_groups_is_skipped() -> None:
    frame = pd.DataFrame({"group": [str(i) for i in range(300)], "x": ["a", "b", "c"] * 100})
    r = row(scan_proxies(duckdb.connect().from_df(frame), ["group"], max_levels=200), "group", "x")
    assert r["status"] == "skipped"
    assert re.fullmatch(r"protected column 'group' has \d+ distinct values \(more than max_levels=200\); "
                        r"not scored", r["reason"])


def test_columns_and_exclude(frame: pd.DataFrame) -> None:
    relation = duckdb.connect().from_df(frame)
    result = scan_proxies(relation, ["ethnicity", "sex"], columns=["district", "sex", "noise"], exclude=["noise"])
    pairs = [(r.protected, r.column) for r in result.table.itertuples()]
    assert sorted(pairs) == sorted([("ethnicity", "district"), ("ethnicity", "sex"), ("sex", "district")])
    empty = scan_proxies(relation, ["ethnicity"], columns=[])
    assert list(empty.table.columns) == list(TABLE_COLUMNS) and empty.table.empty and empty.notes


def test_inputs_are_not_modified(frame: pd.DataFrame) -> None:
    before = frame.copy(deep=True)
    protected = ["ethnicity", "sex"]
    exclude = ["outcome"]
    relation = duckdb.connect().from_df(frame)
    columns, types = list(relation.columns), list(relation.types)
    scan_proxies(relation, protected, exclude=exclude)
    pd.testing.assert_frame_equal(frame, before)
    assert protected == ["ethnicity", "sex"] and exclude == ["outcome"]
    assert list(relation.columns) == columns and list(relation.types) == types
    assert relation.query("t", "SELECT count(*) FROM t").fetchall()[0][0] == len(frame)


def test_same_results_from_a_frame_a_parquet_file_and_a_csv_file(frame: pd.DataFrame, scan: ProxyScan,
                                                                 tmp_path: Path) -> None:
    con = duckdb.connect()
    frame.to_parquet(tmp_path / "data.parquet")
    frame.to_csv(tmp_path / "data.csv", index=False)
    parquet = scan_proxies(con.read_parquet(str(tmp_path / "data.parquet")), ["ethnicity", "sex"],
                           exclude=["outcome"])
    csv = scan_proxies(con.read_csv(str(tmp_path / "data.csv")), ["ethnicity", "sex"], exclude=["outcome"])
    for other in (parquet, csv):
        pd.testing.assert_frame_equal(other.table, scan.table, check_exact=False, rtol=1e-12)
        assert other.notes == scan.notes


# ------------------------------------------------------------------------------------------------ errors


def test_missing_protected_column_raises_with_the_available_columns(frame: pd.DataFrame) -> None:
    relation = duckdb.connect().from_df(frame)
    with pytest.raises(DataError) as caught:
        scan_proxies(relation, ["ethnicty", "sex"])
    error = caught.value
    assert error.reason is ReasonCode.COLUMN_NOT_FOUND
    message = str(error)
    assert "'ethnicty'" in message and "did you mean 'ethnicity'" in message
    assert "'district'" in message and "'income'" in message  # the available columns
    assert isinstance(error, ValueError)
    with pytest.raises(DataError, match="'nope'"):
        scan_proxies(relation, ["sex"], columns=["nope"])


@pytest.mark.parametrize("kwargs, reason", [
    ({"threshold": 0}, ReasonCode.THRESHOLD_INVALID),
    ({"threshold": 1.5}, ReasonCode.THRESHOLD_INVALID),
    ({"threshold": float("nan")}, ReasonCode.THRESHOLD_INVALID),
    ({"numeric_bins": 1}, ReasonCode.SPEC_INVALID),
    ({"max_levels": 0}, ReasonCode.SPEC_INVALID),
])
def test_invalid_arguments(frame: pd.DataFrame, kwargs: dict[str, Any], reason: ReasonCode) -> None:
    with pytest.raises(UsageError) as caught:
        scan_proxies(duckdb.connect().from_df(frame), ["sex"], **kwargs)
    assert caught.value.reason is reason
    assert "must be" in str(caught.value) and "got" in str(caught.value)


def test_no_protected_columns_is_an_error(frame: pd.DataFrame) -> None:
    with pytest.raises(UsageError, match="at least one column"):
        scan_proxies(duckdb.connect().from_df(frame), [])


# ------------------------------------------------------------------------------------------------ performance


def test_number_of_queries_does_not_grow_with_categorical_columns(frame: pd.DataFrame, tmp_path: Path) -> None:
    frame.to_parquet(tmp_path / "data.parquet")
    relation = duckdb.connect().read_parquet(str(tmp_path / "data.parquet"))
    counting = CountingRelation(relation)
    scan_proxies(counting, ["ethnicity", "sex"], exclude=["outcome"])
    many_valued = [c for c in ("income", "noise") if frame[c].nunique() > EXACT_AUC_VALUES]
    # profile, exact distinct counts near the boundaries, quantiles, one shared aggregation, one per many-valued
    assert len(counting.queries) <= 4 + len(many_valued)
    shared = [q for q in counting.queries if "GROUPING SETS" in q and "_c0" in q]
    assert len(shared) == 1
    for sql in counting.queries:  # and each query reads the file once (the CTE is materialised, not inlined)
        plan = "\n".join(str(line) for _, line in relation.query("t", f"EXPLAIN {sql.replace(proxies._VIEW, 't')}")
                         .fetchall())
        assert plan.count("PARQUET_SCAN") == 1, plan


def test_200k_rows_20_columns_scan() -> None:
    """A smoke test of scale: no timing is asserted (it takes about a second), only the findings."""
    rng = np.random.default_rng(5)
    n = 200_000
    group = rng.choice(["a", "b", "c", "d"], n)
    columns: dict[str, Any] = {"group": group, "sex": rng.choice(["f", "m"], n)}
    columns["proxy"] = np.where(rng.random(n) < 0.8, group, rng.choice(["a", "b", "c", "d"], n))
    for i in range(12):
        columns[f"category_{i}"] = rng.choice([f"v{j}" for j in range(2 + i * 3)], n)
    for i in range(5):
        columns[f"number_{i}"] = rng.normal(size=n)
    columns["count"] = rng.poisson(20, n)
    frame = pd.DataFrame(columns)
    assert frame.shape[1] == 21
    counting = CountingRelation(duckdb.connect().from_df(frame))
    result = scan_proxies(counting, ["group", "sex"])
    assert len(result.table) == 2 * 19
    assert set(result.flagged["column"]) == {"proxy"}
    assert len(counting.queries) <= 4 + 5
