"""Pieces of DuckDB SQL that every engine needs: quoted identifiers and numbers with NaN as NULL."""

from __future__ import annotations


def quote_identifier(name: str) -> str:
    """A column or table name as a SQL identifier, whatever characters it holds (``a"b`` → ``"a""b"``)."""
    return '"' + name.replace('"', '""') + '"'


def without_nan(expression: str) -> str:
    """SQL for ``expression`` with NaN as NULL (infinities kept).

    Not ``isnan``: on Parquet files DuckDB 2.0 folds ``isnan(x)`` to false from
    the column's min/max statistics, which by the Parquet spec leave NaN out,
    so NaN would survive as a value.
    """
    return f"(CASE WHEN isfinite({expression}) OR isinf({expression}) THEN {expression} END)"


def number_sql(quoted: str) -> str:
    """SQL for a (quoted) column as DOUBLE with NaN as NULL."""
    return without_nan(f"{quoted}::DOUBLE")
