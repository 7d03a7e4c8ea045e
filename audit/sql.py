"""Pieces of SQL that every counting engine needs, in each engine's dialect.

The counting query (:func:`audit.counts.count_sql`) and its checks are written
once, with a :class:`Dialect` filling in what differs between DuckDB,
PostgreSQL and Spark SQL: quoting, the double type, NaN as NULL, the grouping
bitmask, a distinct-count estimate and a row hash for the data's fingerprint.
The module-level helpers are DuckDB's, for code that only ever runs on DuckDB.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


def quote_identifier(name: str) -> str:
    """A column or table name as a SQL identifier, whatever characters it holds (``a"b`` → ``"a""b"``)."""
    return '"' + name.replace('"', '""') + '"'


def without_nan(expression: str) -> str:
    """DuckDB SQL for ``expression`` with NaN as NULL (infinities kept).

    Not ``isnan``: on Parquet files DuckDB 2.0 folds ``isnan(x)`` to false from
    the column's min/max statistics, which by the Parquet spec leave NaN out,
    so NaN would survive as a value.
    """
    return f"(CASE WHEN isfinite({expression}) OR isinf({expression}) THEN {expression} END)"


@dataclass(frozen=True)
class Dialect:
    """How one SQL engine spells the few things the counting queries need.

    Attributes
    ----------
    name : str
        ``duckdb``, ``postgresql`` or ``spark``.
    quote_char : str
        Identifier quote (``"`` or a backtick); a quote inside a name is doubled.
    double_type : str
        The 64-bit floating-point type.
    nan : str
        How NaN becomes NULL: ``isfinite`` (DuckDB, see :func:`without_nan`),
        ``nullif`` (PostgreSQL, where ``NaN = NaN``) or ``isnan`` (Spark).
    grouping_function : str
        The function giving the bitmask of grouping-set columns left out
        (``grouping`` in DuckDB and PostgreSQL, ``grouping_id`` in Spark); the
        bit order is the same in all three.
    distinct_function : str
        A distinct count, approximate where the engine has one (it only decides
        whether a numeric column is binned).
    """

    name: str
    quote_char: str
    double_type: str
    nan: str
    grouping_function: str
    distinct_function: str

    def quote(self, name: str) -> str:
        """A column name as an identifier of this dialect."""
        q = self.quote_char
        return q + name.replace(q, q + q) + q

    def double(self, expression: str) -> str:
        """``expression`` cast to a 64-bit float."""
        return f"CAST({expression} AS {self.double_type})"

    def number(self, column: str, *, text: bool = False) -> str:
        """A column as a 64-bit float with NaN as NULL (infinities kept); NULL stays NULL.

        With ``text``, the column holds text read with :meth:`try_double` (NULL where it is not a number).
        """
        x = self.try_double(self.quote(column)) if text else self.double(self.quote(column))
        if self.nan == "isfinite":
            return without_nan(x)
        if self.nan == "nullif":
            return f"NULLIF({x}, CAST('NaN' AS {self.double_type}))"
        return f"(CASE WHEN isnan({x}) THEN NULL ELSE {x} END)"

    def try_double(self, expression: str) -> str:
        """Text ``expression`` read as a 64-bit float, NULL where it is not a number (DuckDB and Spark only)."""
        return f"TRY_CAST({expression} AS {self.double_type})"

    def not_finite(self, expression: str) -> str:
        """A condition: the float ``expression`` is NaN, +inf or -inf (NULL for NULL)."""
        if self.nan == "isfinite":
            return f"NOT isfinite({expression})"
        infinity = f"CAST('Infinity' AS {self.double_type})"
        if self.nan == "nullif":
            return (f"{expression} IN (CAST('NaN' AS {self.double_type}), {infinity}, "
                    f"CAST('-Infinity' AS {self.double_type}))")
        return f"(isnan({expression}) OR abs({expression}) = {infinity})"

    def integer(self, expression: str) -> str:
        """A boolean (or number) as an integer: true is 1."""
        return f"CAST({expression} AS INTEGER)"

    def kept(self, where: str | None) -> str:
        """A filter as a condition that is never NULL (NULL counts as false, as in a WHERE)."""
        return f"coalesce(CAST(({where}) AS BOOLEAN), FALSE)" if where else "TRUE"

    def grouping(self, names: Sequence[str]) -> str:
        """The grouping-set bitmask of ``names`` (first name = highest bit)."""
        return f"{self.grouping_function}({', '.join(names)})"

    @property
    def exact_distinct(self) -> bool:
        """Whether :meth:`distinct` counts exactly (no estimate)."""
        return self.distinct_function == "count"

    def distinct(self, expression: str) -> str:
        """A (possibly approximate) count of the distinct non-NULL values of ``expression``."""
        if self.exact_distinct:
            return f"count(DISTINCT {expression})"
        return f"{self.distinct_function}({expression})"

    def row_hash_sum(self, columns: Sequence[str]) -> str:
        """An aggregate summing a hash of each row's ``columns``, as exact text (for a fingerprint of the data)."""
        quoted = ", ".join(self.quote(c) for c in columns)
        if self.name == "duckdb":
            return f"CAST(sum(hash({quoted})::HUGEINT) AS VARCHAR)"
        if self.name == "postgresql":
            return f"CAST(sum(CAST(CAST(CAST('x' || substr(md5(CAST(ROW({quoted}) AS TEXT)), 1, 8) AS BIT(32)) " \
                   f"AS INTEGER) AS BIGINT)) AS TEXT)"
        return f"CAST(sum(CAST(hash({quoted}) AS BIGINT)) AS STRING)"


DUCKDB = Dialect(name="duckdb", quote_char='"', double_type="DOUBLE", nan="isfinite", grouping_function="grouping",
                 distinct_function="approx_count_distinct")
POSTGRESQL = Dialect(name="postgresql", quote_char='"', double_type="DOUBLE PRECISION", nan="nullif",
                     grouping_function="GROUPING", distinct_function="count")
SPARK = Dialect(name="spark", quote_char="`", double_type="DOUBLE", nan="isnan", grouping_function="grouping_id",
                distinct_function="approx_count_distinct")
