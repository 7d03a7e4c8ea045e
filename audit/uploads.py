"""Data files read once into memory, and queried only on locked DuckDB connections.

A front end that takes uploads (the Streamlit app) reads each file once with
:func:`load_table`: the bytes of a :class:`~audit.readers.MemoryFile` go
through :func:`audit.readers.open_table` (the same detection rules and
messages as a file on disk) and the rows are materialised as a
:class:`pyarrow.Table`, held in a :class:`LoadedTable`. Bundled examples on
disk are loaded by the same function, so every later step sees one kind of
data.

Everything that later evaluates SQL over those rows (the audit's counting
pass with ``data.where``, the proxy scan, column profiles) does so on a
connection from :func:`locked_connection`, on which DuckDB refuses to read or
list any file or URL. A ``data.where`` from an untrusted spec therefore cannot
read files on the server.

Choices
-------
Why materialise
    The bytes of an upload reach DuckDB through an in-memory filesystem
    registered on the connection that opens it, and that connection must
    allow external access, so it is never handed to a user's SQL. ``open_table``
    reads an upload's rows into Arrow once, as its open-time check, and
    :func:`load_table` keeps them and closes that private connection. For 1
    million rows and 6 columns of CSV (35 MB) the whole load takes about 0.6
    to 0.7 s on two cores, no more than loading the same file from disk.
Same numbers as the file
    The Arrow table holds the values as DuckDB typed them, in file order, and
    ``TableInfo`` carries the SHA-256 of the bytes, so auditing a
    :class:`LoadedTable` gives the same counts, result hash and data SHA-256
    as auditing the file from disk.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from audit.errors import ReasonCode, UsageError
from audit.readers import MemoryFile, ReadOptions, TableInfo, open_table
from audit.starter import ColumnProfile, profile

__all__ = ["LoadedTable", "load_table", "locked_connection", "relation_of", "column_profiles", "preview"]


@dataclass(frozen=True)
class LoadedTable:
    """A data file read once into memory, with the record of what was read.

    Attributes
    ----------
    name : str
        The file's name: a :class:`~audit.readers.MemoryFile`'s name as given,
        or the last part of a path on disk (``people.csv``). Messages and the
        provenance record name the data by it.
    table : pyarrow.Table
        The rows, in file order, with the types DuckDB gave them when reading
        the file. Treat it as read-only (Arrow tables are immutable).
    info : TableInfo
        Format, encoding, delimiter, SHA-256 and size in bytes of the file
        (``info.path`` is the name for an upload, the absolute path for a
        file on disk).
    """

    name: str
    table: pa.Table
    info: TableInfo

    def __repr__(self) -> str:
        return (f"LoadedTable(name={self.name!r}, {self.rows:,} rows, {len(self.columns)} columns, "
                f"{self.info.format}, sha256={self.info.sha256[:12]}…)")

    @property
    def rows(self) -> int:
        """Number of data rows (the header is not a row)."""
        return int(self.table.num_rows)

    @property
    def columns(self) -> list[str]:
        """Column names, in file order, after duplicate and empty names were made unique."""
        return list(self.table.column_names)

    @property
    def types(self) -> list[str]:
        """DuckDB type names of the columns (``"BIGINT"``, ``"VARCHAR"``, ``"DOUBLE"``, ``"DATE"``, ...).

        The types of :func:`relation_of`'s relation, the one the audit counts.
        """
        return [str(t) for t in relation_of(self).types]


def load_table(source: str | os.PathLike[str] | MemoryFile, *,
               options: ReadOptions = ReadOptions()) -> LoadedTable:
    """Read a data file, on disk or in memory, once into an Arrow table.

    Parameters
    ----------
    source : str, os.PathLike or MemoryFile
        An upload's name and bytes, or a path (or glob) as
        :func:`audit.readers.open_table` takes it.
    options : ReadOptions, optional
        Declared encoding, delimiter or Excel sheet; by default all detected.

    Returns
    -------
    LoadedTable
        The rows, the name and the :class:`~audit.readers.TableInfo`
        (``sha256`` and ``size_bytes`` are those of the bytes, the same as
        :func:`audit.readers.file_sha256` of the file on disk).

    Raises
    ------
    DataError
        As :func:`audit.readers.open_table`: ``DATA_EMPTY``,
        ``DATA_ENCODING``, ``DATA_UNREADABLE`` (and ``DATA_NOT_FOUND`` for a
        path), with messages that name an upload as ``the uploaded file
        'NAME'``.

    Notes
    -----
    The file is opened on a private DuckDB connection, copied into Arrow in
    one pass, and the connection is closed. Nothing is written to disk:
    uploaded bytes are read from memory (``io.BytesIO`` for pandas and
    openpyxl, a filesystem of the upload's own for DuckDB).

    Examples
    --------
    >>> loaded = load_table(MemoryFile("people.csv", b"race,flag\\nA,1\\nB,0\\n"))
    >>> loaded.rows, loaded.columns, loaded.types
    (2, ['race', 'flag'], ['VARCHAR', 'BIGINT'])
    """
    con = duckdb.connect()
    try:
        relation, info = open_table(source, con, options=options)
        table = relation.to_arrow_table()
    finally:
        con.close()
    name = source.name if isinstance(source, MemoryFile) else Path(os.fspath(source)).name
    return LoadedTable(name=name, table=table, info=info)


def locked_connection() -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB connection that may not touch files, URLs or extensions.

    Returns
    -------
    duckdb.DuckDBPyConnection
        Opened with ``enable_external_access = false``: any query on it that
        reads or lists a file or URL (``read_csv``, ``read_parquet``,
        ``read_text``, ``glob``, ...) raises ``duckdb.PermissionException``,
        and the setting cannot be switched back on. In-memory data can still
        be queried through ``from_arrow`` and ``from_df``.

    Notes
    -----
    Use it for every query that evaluates SQL from a spec (``data.where``)
    over in-memory data. It does not bound time or memory: a costly filter
    is still costly.
    """
    return duckdb.connect(config={"enable_external_access": False})


def relation_of(loaded: LoadedTable) -> duckdb.DuckDBPyRelation:
    """The loaded rows as a DuckDB relation on a new :func:`locked_connection`.

    Parameters
    ----------
    loaded : LoadedTable
        From :func:`load_table`; not copied (DuckDB scans the Arrow buffers).

    Returns
    -------
    duckdb.DuckDBPyRelation
        The same columns, types and row order as the file.
    """
    return locked_connection().from_arrow(loaded.table)


def column_profiles(loaded: LoadedTable, max_values: int = 50) -> tuple[int, list[ColumnProfile]]:
    """Row count and a profile of every column (type, distinct values, missing, most frequent values).

    Parameters
    ----------
    loaded : LoadedTable
        From :func:`load_table`.
    max_values : int, optional
        Columns with at most this many distinct values get their values and
        counts listed (most frequent first); others only a distinct count
        (approximate, from DuckDB's HyperLogLog).

    Returns
    -------
    rows : int
        Number of rows.
    profiles : list of ColumnProfile
        One per column, in column order; see :func:`audit.starter.profile`.
    """
    return profile(relation_of(loaded), max_values=max_values)


def preview(loaded: LoadedTable, rows: int = 100) -> pd.DataFrame:
    """The first ``rows`` rows as a pandas DataFrame, for display.

    Parameters
    ----------
    loaded : LoadedTable
        From :func:`load_table`.
    rows : int, optional
        How many rows, counted from the top of the file; fewer when the file
        has fewer. 0 gives the columns with no rows.

    Returns
    -------
    pandas.DataFrame
        A new frame (changing it does not change ``loaded``).

    Raises
    ------
    UsageError
        (``OPTION_INVALID``) when ``rows`` is negative or not a whole number.
    """
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
        raise UsageError(f"preview: rows must be a whole number of rows, 0 or more; got {rows!r}",
                         reason=ReasonCode.OPTION_INVALID)
    return loaded.table.slice(0, rows).to_pandas()
