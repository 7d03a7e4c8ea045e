"""Where the SQL counting runs: DuckDB (files and data in memory), PostgreSQL and Spark.

Each backend is a :class:`SqlTable`: the audit's input as one SQL table of the
engine, with its columns and their types, and a way to run a query over it
that brings back a small pandas frame (only counts ever come back). The
counting query itself (:func:`audit.counts.count_sql`) is written once; the
table's :class:`~audit.sql.Dialect` spells what differs between engines.

While a long query runs, a :data:`Progress` callback hears how far it is
(``None`` when the engine cannot say, as PostgreSQL cannot) about ten times a
second, from a second thread.
"""

from __future__ import annotations

import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pandas as pd

from audit.errors import DataError, ReasonCode, UsageError, did_you_mean
from audit.sql import DUCKDB, POSTGRESQL, SPARK, Dialect

Progress = Callable[[str, "float | None"], None]
"""Called with a phase (``checking``, ``counting``) and the share done in [0, 1], or None when unknown."""

_POLL_SECONDS = 0.1


class SqlFailure(Exception):
    """A query the engine refused, in words: ``permission`` when it tried to read a file it may not."""

    def __init__(self, text: str, *, permission: bool = False) -> None:
        super().__init__(text)
        self.text = text
        self.permission = permission


class SqlTable(ABC):
    """The audit's input as one table of a SQL engine.

    Attributes
    ----------
    engine : str
        Recorded in the provenance (``duckdb``, ``postgresql``, ``spark``).
    dialect : Dialect
        How the engine spells SQL.
    columns : list of str
        The input's columns, in order.
    source : str
        What a query puts after ``FROM`` to read the input.
    cheap_row_count : bool
        ``count(*)`` of the whole input reads metadata only (Parquet files), so
        a filter is better pushed into the scan as a ``WHERE`` (skipping row
        groups) and the rows read counted apart.
    """

    engine: str
    dialect: Dialect
    columns: list[str]
    source: str
    cheap_row_count: bool = False

    @abstractmethod
    def type_name(self, column: str) -> str:
        """The engine's name of the column's type."""

    @abstractmethod
    def is_numeric(self, column: str) -> bool:
        """Whether the column holds numbers (integers, floats, decimals; not booleans)."""

    def is_text(self, column: str) -> bool:
        """Whether the column holds text that the engine can read as numbers where the spec needs them
        (DuckDB's VARCHAR, Spark's string: a CSV file's columns); False on PostgreSQL, whose columns are typed."""
        return False

    def value_sql(self, column: str) -> str:
        """The column as a group or label value (decimals as doubles, so labels match every engine)."""
        return self.dialect.quote(column)

    def small_range(self, column: str) -> tuple[int, int] | None:
        """(lowest, highest) value a narrow integer column can hold, or None (other types, other engines)."""
        return None

    @abstractmethod
    def _run(self, sql: str) -> pd.DataFrame:
        """Run ``sql``; raise :class:`SqlFailure` in words when the engine refuses it."""

    def close(self) -> None:
        """Release what the table holds (a connection, a temporary view); nothing for DuckDB."""

    def fetch(self, sql: str, *, progress: Progress | None = None, phase: str = "counting") -> pd.DataFrame:
        """The (small) result of ``sql`` as a pandas frame, reporting progress while it runs."""
        if progress is None:
            return self._run(sql)
        with self._watching(progress, phase):
            result = self._run(sql)
        progress(phase, 1.0)
        return result

    def share_done(self) -> float | None:
        """How much of the running query is done, in [0, 1], or None when the engine cannot say."""
        return None

    @contextmanager
    def _watching(self, progress: Progress, phase: str) -> Iterator[None]:
        stop = threading.Event()

        def poll() -> None:
            while not stop.wait(_POLL_SECONDS):
                progress(phase, self.share_done())

        thread = threading.Thread(target=poll, name="audit-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


_NARROW_INTEGERS = {"TINYINT": (-128, 127), "UTINYINT": (0, 255), "SMALLINT": (-32768, 32767),
                    "USMALLINT": (0, 65535)}


class DuckTable(SqlTable):
    """A DuckDB relation: a file or glob on disk, or data in memory on a locked connection."""

    dialect = DUCKDB
    engine = "duckdb"
    source = "audit_input"

    def __init__(self, relation: Any, connection: Any = None, *, cheap_row_count: bool = False) -> None:
        self.relation = relation
        self.connection = connection
        self.cheap_row_count = cheap_row_count
        self.columns = list(relation.columns)
        self._types = dict(zip(self.columns, map(str, relation.types)))

    def type_name(self, column: str) -> str:
        return self._types[column]

    def is_numeric(self, column: str) -> bool:
        from audit.counts import is_numeric_sql_type

        return is_numeric_sql_type(self._types[column])

    def is_text(self, column: str) -> bool:
        return self._types[column].upper() == "VARCHAR"

    def small_range(self, column: str) -> tuple[int, int] | None:
        return _NARROW_INTEGERS.get(self._types[column].upper())

    def _run(self, sql: str) -> pd.DataFrame:
        import duckdb

        try:
            return self.relation.query(self.source, sql).to_arrow_table().to_pandas()
        except duckdb.PermissionException as error:
            raise SqlFailure(_first_line(error), permission=True) from None
        except duckdb.Error as error:
            raise SqlFailure(_first_line(error)) from None

    def share_done(self) -> float | None:
        if self.connection is None:
            return None
        share = float(self.connection.query_progress())
        return None if share < 0 else min(share / 100.0, 1.0)


_PG_NUMERIC = ("smallint", "integer", "bigint", "real", "double precision", "numeric")


class PostgresTable(SqlTable):
    """A table or query of a PostgreSQL database, counted by the database (ADBC driver, Arrow results)."""

    dialect = POSTGRESQL
    engine = "postgresql"
    description: str
    """How messages name the input: ``table 'T' of URL`` or ``the query in data.query of URL``."""

    def __init__(self, url: str, *, table: str | None = None, query: str | None = None) -> None:
        self.shown = redact_url(url)
        self.description = f"table '{table}' of {self.shown}" if query is None else \
            f"the query in data.query of {self.shown}"
        self._connection = _pg_connect(url, self.shown)
        self.field = "data.query" if query else "data.table"
        inner = query.strip().rstrip(";") if query else f"SELECT * FROM {_qualified(table or '')}"
        self.source = f"({inner}) AS audit_input"
        try:
            names = self._run(f"SELECT * FROM {self.source} LIMIT 0").columns
        except SqlFailure as error:
            failure = self._input_error(error.text, table)
            self.close()
            raise failure from None
        self.columns = [str(c) for c in names]
        self._types = self._column_types()

    def _input_error(self, text: str, table: str | None) -> DataError:
        if table is not None and "does not exist" in text:
            tables = self._tables()
            return DataError(f"data.table: the database {self.shown} has no table '{table}'"
                             f"{did_you_mean(table, tables)}; its tables are: {', '.join(tables[:30]) or 'none'}",
                             reason=ReasonCode.DATA_NOT_FOUND)
        return DataError(f"{self.field}: PostgreSQL at {self.shown} could not read it: {text}. Check the "
                         f"{'query' if self.field == 'data.query' else 'table name'} (a query is one SELECT "
                         f"statement in PostgreSQL's SQL)", reason=ReasonCode.DATA_UNREADABLE)

    def _tables(self) -> list[str]:
        frame = self._run("SELECT CASE WHEN table_schema = 'public' THEN table_name ELSE table_schema || '.' || "
                          "table_name END AS name FROM information_schema.tables WHERE table_schema NOT IN "
                          "('pg_catalog', 'information_schema') ORDER BY 1")
        return [str(v) for v in frame["name"]]

    def _column_types(self) -> dict[str, str]:
        if not self.columns:
            return {}
        parts = ", ".join(f"pg_typeof({self.dialect.quote(c)})::text AS c{i}" for i, c in enumerate(self.columns))
        frame = self._run(f"SELECT {parts} FROM {self.source} LIMIT 1")
        if not len(frame):
            return {c: "unknown" for c in self.columns}
        return {c: str(frame.iloc[0, i]) for i, c in enumerate(self.columns)}

    def type_name(self, column: str) -> str:
        return self._types[column]

    def is_numeric(self, column: str) -> bool:
        return self._types[column].split("(")[0] in _PG_NUMERIC

    def value_sql(self, column: str) -> str:
        quoted = self.dialect.quote(column)
        return self.dialect.double(quoted) if self._types[column].startswith("numeric") else quoted

    def _run(self, sql: str) -> pd.DataFrame:
        try:
            with self._connection.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetch_arrow_table().to_pandas()
        except Exception as error:  # noqa: BLE001 - the driver's errors are all reported in words
            raise SqlFailure(_first_line(error)) from None

    def close(self) -> None:
        self._connection.close()


class SparkTable(SqlTable):
    """A PySpark DataFrame, counted by Spark (the counts are collected to the driver)."""

    dialect = SPARK
    engine = "spark"

    def __init__(self, frame: Any) -> None:
        self.frame = frame
        self.session = frame.sparkSession
        self.source = f"audit_input_{uuid.uuid4().hex}"
        frame.createOrReplaceTempView(self.source)
        self.columns = list(frame.columns)
        self._types = dict(frame.dtypes)

    def type_name(self, column: str) -> str:
        return self._types[column]

    def is_numeric(self, column: str) -> bool:
        name = self._types[column]
        return name in ("tinyint", "smallint", "int", "bigint", "float", "double") or name.startswith("decimal")

    def is_text(self, column: str) -> bool:
        return self._types[column] == "string"

    def _run(self, sql: str) -> pd.DataFrame:
        try:
            result = self.session.sql(sql)
            rows = result.collect()
        except Exception as error:  # noqa: BLE001 - Spark's analysis and runtime errors, reported in words
            raise SqlFailure(_spark_message(error)) from None
        return pd.DataFrame.from_records([tuple(r) for r in rows], columns=result.columns)

    def share_done(self) -> float | None:
        tracker = self.session.sparkContext.statusTracker()
        stages = [tracker.getStageInfo(s) for s in tracker.getActiveStageIds()]
        stages = [s for s in stages if s is not None and s.numTasks]
        if not stages:
            return None
        return sum(s.numCompletedTasks for s in stages) / sum(s.numTasks for s in stages)

    def close(self) -> None:
        self.session.catalog.dropTempView(self.source)


def redact_url(url: str) -> str:
    """A database URL fit for reports and messages: the password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def _qualified(table: str) -> str:
    """``schema.table`` as quoted identifiers (a name with a dot inside is not supported)."""
    return ".".join(POSTGRESQL.quote(part) for part in table.split("."))


def _pg_connect(url: str, shown: str) -> Any:
    try:
        import adbc_driver_postgresql.dbapi as pg
    except ImportError:
        raise UsageError("data.url: reading PostgreSQL needs the ADBC driver; install it with "
                         "pip install 'audit-toolkit[postgres]'", reason=ReasonCode.UNSUPPORTED_DATA) from None
    try:
        return pg.connect(url, autocommit=True)  # read only: no transaction to keep, none left aborted
    except Exception as error:  # noqa: BLE001 - any failure to connect is reported in words
        raise DataError(f"data.url: could not connect to PostgreSQL at {shown}: {_first_line(error)}. Check that "
                        f"the server is running and the URL (host, port, database, user); give the password "
                        f"with PGPASSWORD or ~/.pgpass rather than in the spec",
                        reason=ReasonCode.DATA_UNREADABLE) from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _spark_message(error: BaseException) -> str:
    """Spark's message without its JVM stack trace and error-class preamble."""
    text = _first_line(error)
    return text.split("] ", 1)[1] if text.startswith("[") and "] " in text else text


def spark_session(master: str | None) -> Any:
    """The Spark session to count with: the active one, or a new one on ``master`` (Spark's console bar off)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError("--engine spark needs PySpark; install it with pip install 'audit-toolkit[spark]' (and a "
                         "Java runtime, 17 or newer)", reason=ReasonCode.UNSUPPORTED_DATA) from None
    builder = SparkSession.builder.appName("audit-toolkit").config("spark.ui.showConsoleProgress", "false")
    if master:
        builder = builder.master(master)
    try:
        return builder.getOrCreate()
    except Exception as error:  # noqa: BLE001 - a master that cannot be reached, a missing Java, ...
        raise UsageError(f"--master: Spark could not start on {master or 'its default master'}: "
                         f"{_spark_message(error)}. Check the master URL and that Java 17 or newer is installed",
                         reason=ReasonCode.OPTION_INVALID) from None


def spark_read(session: Any, path: str, fmt: str, missing: Sequence[str] = ()) -> Any:
    """A file or glob read by Spark as a DataFrame: Parquet with its types; CSV with a header, every column as
    text exactly as written (no type inference, no trimming), the empty field and ``missing`` as NULL."""
    reader = session.read
    if fmt != "csv":
        return reader.parquet(path)
    frame = (reader.option("header", True).option("inferSchema", False).option("ignoreLeadingWhiteSpace", False)
             .option("ignoreTrailingWhiteSpace", False).option("multiLine", True).option("escape", '"')
             .csv(path))
    return frame.na.replace(list(missing), None) if missing else frame


def is_spark_frame(data: Any) -> bool:
    """Whether ``data`` is a PySpark DataFrame (classic or Spark Connect), without importing pyspark."""
    return type(data).__module__.startswith("pyspark.") and hasattr(data, "createOrReplaceTempView")

