"""``data.where`` over a file read as text: the filter sees numbers, the audit sees the values as written.

A CSV or Excel file is read with every column as text (:mod:`audit.readers`), so that a group is what the
file says. A filter such as ``age >= 18 AND is_recid <> -1`` must still compare numbers, not texts (as text,
``'9' >= '18'``). So the filter is evaluated over a *typed view* of the columns it names, while the rows it
keeps go on as text:

1. The text columns whose names occur in the filter are typed by their values, over every row, in one
   aggregate query: ``DOUBLE`` when every value is a number and none is written with a leading zero (a
   column of codes such as ``01`` stays text), else ``BOOLEAN`` when every value is a truth
   value DuckDB reads (``true``/``false``, ``t``/``f``, ``yes``/``no``, ``1``/``0``), else ``DATE`` when
   every value is an ISO date, else text. A column with one value that does not fit stays text, so no value
   is ever turned into NULL for the filter.
2. The relation gets one more column, the filter's answer for the row (``NULL`` counts as false), computed
   over the typed view; every other column keeps its text (a DuckDB struct of the text columns, expanded
   back under their own names).

Only DuckDB relations whose filter names a text column are touched; typed data (Parquet, pandas, a database)
is filtered as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from audit.sql import quote_identifier

__all__ = ["KEPT_COLUMN", "filter_types", "with_kept_column", "typed_filter", "filtered", "with_numbers",
           "reads_as_number"]

KEPT_COLUMN: Final = "\u2063audit kept"
"""Name of the column holding the filter's answer (starts with an invisible separator: no file has it)."""

_TYPES: Final = ("DOUBLE", "BOOLEAN", "DATE")


def _named_text_columns(columns: Sequence[str], types: Sequence[str], where: str) -> list[str]:
    """The text columns whose names occur in the filter's text (case-insensitive, as SQL identifiers are)."""
    lowered = where.lower()
    return [c for c, t in zip(columns, types) if t.upper() == "VARCHAR" and c.lower() in lowered]


def reads_as_number(column: str) -> str:
    """SQL: the text ``column`` is a number, not a code with a leading zero (see :func:`_fits`)."""
    return _fits(column, "DOUBLE")


def _fits(column: str, sql_type: str) -> str:
    """SQL: the text ``column`` reads as ``sql_type``; a number written with a leading zero (``01``, ``007``)
    is a code, not a number, so a column holding one stays text for the filter (``g <> '01'`` compares text)."""
    fits = f"TRY_CAST({column} AS {sql_type}) IS NOT NULL"
    if sql_type == "DOUBLE":
        fits += f" AND NOT regexp_matches({column}, '^\\s*[+-]?0[0-9]')"
    return fits


def _all_fit(relation: Any, checks: Sequence[tuple[str, str]]) -> list[bool]:
    """For each (column, SQL type): whether every value of the text column reads as that type (:func:`_fits`;
    NULLs aside), in one aggregate query."""
    q = quote_identifier
    row = relation.aggregate(", ".join(f"bool_and({q(c)} IS NULL OR ({_fits(q(c), t)}))" for c, t in checks))
    return [bool(ok) for ok in row.fetchall()[0]]


def filter_types(relation: Any, where: str) -> dict[str, str]:
    """The SQL type the filter sees for each text column it names (``DOUBLE``, ``BOOLEAN``, ``DATE`` or
    ``VARCHAR``), decided over every row in one query; {} when it names no text column."""
    named = _named_text_columns(relation.columns, [str(t) for t in relation.types], where)
    if not named:
        return {}
    row = _all_fit(relation, [(c, t) for c in named for t in _TYPES])
    found: dict[str, str] = {}
    for i, column in enumerate(named):
        fits = row[i * len(_TYPES):(i + 1) * len(_TYPES)]
        found[column] = next((t for t, ok in zip(_TYPES, fits) if ok), "VARCHAR")
    return found


def with_kept_column(relation: Any, where: str, types: dict[str, str]) -> Any:
    """``relation`` with :data:`KEPT_COLUMN`, the filter's answer per row (never NULL), computed over the
    typed view ``types`` (:func:`filter_types`); every other column as it was.

    Raises what DuckDB raises for a filter that is not valid SQL on these columns.
    """
    q = quote_identifier
    view = ", ".join(f"TRY_CAST({q(c)} AS {types[c]}) AS {q(c)}" if types.get(c, "VARCHAR") != "VARCHAR"
                     else q(c) for c in relation.columns)
    text = "{" + ", ".join(f"'{c.replace(chr(39), chr(39) * 2)}': {q(c)}" for c in relation.columns) + "}"
    sql = (f"SELECT audit_text_row.*, coalesce(CAST(({where}) AS BOOLEAN), FALSE) AS {q(KEPT_COLUMN)} "
           f"FROM (SELECT {view}, {text} AS audit_text_row FROM audit_filter_input)")
    return relation.query("audit_filter_input", sql)


def typed_filter(relation: Any, where: str) -> Any | None:
    """``relation`` with :data:`KEPT_COLUMN` when the filter names a text column it must see typed
    (:func:`filter_types`, :func:`with_kept_column`); None when the filter can run on the relation as it is."""
    types = filter_types(relation, where)
    if not any(t != "VARCHAR" for t in types.values()):
        return None
    return with_kept_column(relation, where, types)


def filtered(relation: Any, where: str | None) -> Any:
    """The rows of ``relation`` the filter keeps, every column as it was (text stays text)."""
    if not where:
        return relation
    kept = typed_filter(relation, where)
    if kept is None:
        return relation.filter(f"coalesce(CAST(({where}) AS BOOLEAN), FALSE)")
    return kept.filter(quote_identifier(KEPT_COLUMN)).project(
        ", ".join(quote_identifier(c) for c in relation.columns))


def with_numbers(relation: Any, columns: Sequence[str]) -> Any:
    """``relation`` with each text column among ``columns`` whose every value is a number (none written with a
    leading zero, see :func:`_fits`) read as ``DOUBLE``; other columns as they were. One aggregate query over
    the candidate columns; ``relation`` itself when none is text.

    For scans that treat numbers as numbers (the proxy scan bins a numeric column), never for the audit's
    groups, which keep the text as written.
    """
    text = [c for c, t in zip(relation.columns, relation.types) if c in set(columns) and str(t).upper() == "VARCHAR"]
    if not text:
        return relation
    numbers = {c for c, ok in zip(text, _all_fit(relation, [(c, "DOUBLE") for c in text])) if ok}
    if not numbers:
        return relation
    return relation.project(", ".join(f"TRY_CAST({quote_identifier(c)} AS DOUBLE) AS {quote_identifier(c)}"
                                      if c in numbers else quote_identifier(c) for c in relation.columns))
