"""The service fixtures are real: a PostgreSQL server answering SQL through ADBC, and a local Spark.

These pin what the engine's database back ends rely on: NULLs and non-ASCII text survive the trip, GROUPING
SETS with GROUPING()/grouping_id() and FILTER work, results come back as Arrow, and how PostgreSQL's column
types arrive in Arrow (numeric comes as text, so it is never silently rounded through a double).
"""

from __future__ import annotations

import math
from typing import Any

import adbc_driver_postgresql.dbapi as postgres
import pandas as pd
import pyarrow as pa
import pytest

from services import load_table

DISTRICT = "Thủ Đức"


def _mixed_frame() -> pd.DataFrame:
    """One column of each kind the audits use, each with a missing value, and Vietnamese text."""
    return pd.DataFrame({
        "district": [DISTRICT, "Quận 1", None, "Bình Thạnh"],
        "count": pd.array([3, None, 5, 0], dtype="Int64"),
        "score": [0.25, float("nan"), 1.5, -2.0],
        "flagged": pd.array([True, None, False, True], dtype="boolean"),
        "eligible": [True, False, None, True],  # object column of bools with None
    })


def _mixed_rows() -> list[dict[str, Any]]:
    return [
        {"district": DISTRICT, "count": 3, "score": 0.25, "flagged": True, "eligible": True},
        {"district": "Quận 1", "count": None, "score": None, "flagged": None, "eligible": False},
        {"district": None, "count": 5, "score": 1.5, "flagged": False, "eligible": None},
        {"district": "Bình Thạnh", "count": 0, "score": -2.0, "flagged": True, "eligible": True},
    ]


def _query(url: str, sql: str) -> pa.Table:
    with postgres.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetch_arrow_table()


def _decisions() -> pd.DataFrame:
    return pd.DataFrame({"region": ["north", "north", "south", "south", "south", DISTRICT],
                         "sex": ["f", "m", "f", "f", "m", "f"],
                         "decision": [1, 0, 1, 1, 0, 1]})


def _grouping_oracle(frame: pd.DataFrame) -> set[tuple[Any, ...]]:
    """(region, sex, grouping bits, rows, rows with decision 1) for the sets (region, sex), (region), ()."""
    rows = set()
    for (region, sex), part in frame.groupby(["region", "sex"]):
        rows.add((region, sex, 0, len(part), int(part["decision"].sum())))
    for region, part in frame.groupby("region"):
        rows.add((region, None, 1, len(part), int(part["decision"].sum())))
    rows.add((None, None, 3, len(frame), int(frame["decision"].sum())))
    return rows


# --- PostgreSQL ---------------------------------------------------------------------------------------------


def test_postgres_is_a_real_server_on_loopback(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql://postgres@127.0.0.1:")
    row = _query(postgres_url, "SELECT version() AS version, current_database() AS db, "
                               "current_setting('listen_addresses') AS listen, current_setting('fsync') AS fsync, "
                               "current_setting('server_encoding') AS encoding").to_pylist()[0]
    assert row["version"].startswith("PostgreSQL ")
    assert (row["db"], row["listen"], row["fsync"], row["encoding"]) == ("audit_test", "127.0.0.1", "off", "UTF8")


def test_load_table_keeps_nulls_types_and_vietnamese_text(postgres_url: str) -> None:
    frame = _mixed_frame()
    before = frame.copy()
    assert load_table(postgres_url, "mixed", frame) == len(frame)
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is not touched
    columns = _query(postgres_url, "SELECT column_name, data_type FROM information_schema.columns "
                                   "WHERE table_name = 'mixed'").to_pylist()
    assert {column["column_name"]: column["data_type"] for column in columns} == {
        "district": "text", "count": "bigint", "score": "double precision", "flagged": "boolean",
        "eligible": "boolean"}
    table = _query(postgres_url, 'SELECT district, "count", score, flagged, eligible FROM mixed ORDER BY "count" '
                                 "NULLS FIRST, district")
    by_district = {row["district"]: row for row in table.to_pylist()}
    assert by_district == {row["district"]: row for row in _mixed_rows()}
    assert _query(postgres_url, f"SELECT count(*) AS n FROM mixed WHERE district = '{DISTRICT}'")["n"][0].as_py() == 1


def test_load_table_replace_and_categoricals(postgres_url: str) -> None:
    load_table(postgres_url, "replaced", pd.DataFrame({"x": [1]}))
    with pytest.raises(postgres.Error, match=r"(?i)already exists"):
        load_table(postgres_url, "replaced", pd.DataFrame({"x": [1]}))
    frame = pd.DataFrame({"Region Name": pd.Categorical(["a", None, DISTRICT])})
    assert load_table(postgres_url, "replaced", frame, replace=True) == 3
    assert _query(postgres_url, 'SELECT "Region Name" FROM replaced')["Region Name"].to_pylist() == ["a", None,
                                                                                                      DISTRICT]


def test_postgres_grouping_sets_come_back_as_arrow(postgres_url: str) -> None:
    frame = _decisions()
    load_table(postgres_url, "decisions_pg", frame)
    with postgres.connect(postgres_url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT region, sex, GROUPING(region, sex) AS level, count(*) AS n, "
                       "count(*) FILTER (WHERE decision = 1) AS selected "
                       "FROM decisions_pg GROUP BY GROUPING SETS ((region, sex), (region), ())")
        table = cursor.fetch_arrow_table()
    assert isinstance(table, pa.Table)
    assert table.schema.field("level").type == pa.int32()
    assert table.schema.field("n").type == pa.int64()
    assert set(map(tuple, (row.values() for row in table.to_pylist()))) == _grouping_oracle(frame)


def test_adbc_type_mapping(postgres_url: str) -> None:
    """How ADBC hands PostgreSQL's types to Arrow; the engine's SQL back end depends on this."""
    table = _query(postgres_url, "SELECT * FROM (VALUES (1.50::numeric, 7::integer, true, 'Quận 1'::text, "
                                 "0.5::double precision), (NULL, NULL, NULL, NULL, NULL)) AS t(n, i, b, s, d)")
    types = {field.name: field.type for field in table.schema}
    # numeric keeps its exact decimal text: a plain string, or (ADBC >= 1.8 or so) an opaque extension type
    # with string storage. Cast with pyarrow.compute, never through float by accident.
    assert pa.types.is_string(getattr(types["n"], "storage_type", types["n"]))
    assert (types["i"], types["b"], types["s"], types["d"]) == (pa.int32(), pa.bool_(), pa.string(), pa.float64())
    rows = table.to_pylist()
    assert rows[0] == {"n": "1.50", "i": 7, "b": True, "s": "Quận 1", "d": 0.5}
    assert rows[1] == dict.fromkeys("nibsd")  # NULL is null in every type, integers stay integers


# --- Spark --------------------------------------------------------------------------------------------------


def test_spark_is_local_and_counts(spark: Any) -> None:
    assert spark.sparkContext.master == "local[2]"
    assert spark.sparkContext.uiWebUrl is None  # no web UI
    assert spark.conf.get("spark.driver.host") == "127.0.0.1"
    assert spark.createDataFrame([(1, "a"), (2, "b"), (3, None)], "id INT, label STRING").count() == 3


def test_spark_grouping_sets_with_grouping_id_and_filter(spark: Any) -> None:
    frame = _decisions()
    spark.createDataFrame(frame).createOrReplaceTempView("decisions_spark")
    rows = spark.sql("SELECT region, sex, grouping_id(region, sex) AS level, count(*) AS n, "
                     "count(*) FILTER (WHERE decision = 1) AS selected "
                     "FROM decisions_spark GROUP BY GROUPING SETS ((region, sex), (region), ())").collect()
    assert {tuple(row) for row in rows} == _grouping_oracle(frame)


def test_spark_from_pandas_keeps_nulls_and_text(spark: Any) -> None:
    frame = _mixed_frame()
    data = spark.createDataFrame(frame)
    assert dict(data.dtypes) == {"district": "string", "count": "bigint", "score": "double",
                                 "flagged": "boolean", "eligible": "boolean"}
    assert [row.asDict() for row in data.collect()] == _mixed_rows()  # NULL, not 'NaN' text or a NaN double
    assert data.filter(data.district == DISTRICT).count() == 1
    back = data.toPandas()
    assert back["district"].isna().tolist() == [False, False, True, False]
    assert back["district"][0] == DISTRICT
    assert back["score"].isna().tolist() == [False, True, False, False]
    assert math.isclose(back["score"].sum(), -0.25)
