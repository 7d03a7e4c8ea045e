"""Open a data file as a DuckDB relation, with a record of what was read.

:func:`open_table` turns a CSV, Parquet or Excel file (or, for CSV and
Parquet, a glob such as ``data/*.parquet``) into a lazy
:class:`duckdb.DuckDBPyRelation` on the caller's connection, so filters and
``GROUP BY`` aggregation run inside DuckDB. It also returns a
:class:`TableInfo`: the absolute path, format, encoding, delimiter, SHA-256 and
size, for the evidence trail.

The file may also be held in memory, as a :class:`MemoryFile` (an upload):
then it is read by the same code with the same rules and messages, the bytes
never touch the disk, and messages name the file as ``the uploaded file
'people.csv'``.

Every problem with the file is raised as a :class:`~audit.errors.DataError`
whose message names the file, says what is wrong, what was found and how to
fix it. No DuckDB or pandas exception text escapes unexplained.

Choices
-------
Fast path and slow path
    UTF-8 CSV files (with or without a byte-order mark; ASCII is UTF-8) are
    read by DuckDB's own ``read_csv``, so rows never pass through Python.
    Other encodings (cp1252, UTF-16, ...) are decoded by ``pandas.read_csv``
    and handed to DuckDB with ``con.from_df``, every column as text. Excel workbooks
    are read by ``pandas.read_excel(engine="openpyxl")`` and handed over the
    same way. Parquet is read by DuckDB's ``read_parquet``. No DuckDB
    extension is installed or loaded: only the built-in CSV and Parquet
    readers are used.

Encoding
    A declared encoding (``data.encoding``) is used as given and must decode
    the whole file; it is never second-guessed. With none, the bytes decide.
    A UTF-8 byte-order mark gives ``"utf-8-sig"`` (the mark never reaches the
    first column's name), a UTF-16 or UTF-32 mark gives ``"utf-16"`` or
    ``"utf-32"``, and a file that decodes as UTF-8 from end to end gives
    ``"utf-8"``: that check is the one pass that also hashes the file, so a
    UTF-8 file is read once before DuckDB reads it. A file whose byte-order
    mark is not borne out, and a file with NUL bytes (without a UTF-16/32
    mark) or mostly control characters, is refused. Any other file is settled
    by :mod:`audit.encodings`, which reads its first 4 MiB with a short list
    of legacy code pages (cp1252, cp1258, cp1250, cp1251, cp1254,
    iso8859-15) and picks the one whose text is plausible; it refuses a file
    that mixes UTF-8 with another encoding, a file two code pages read as
    different plausible text (naming both, with a line read each way), and
    Vietnamese text in the TCVN3 or VNI font encodings (with how to convert
    it). The chosen code page must then decode the whole file. Every refusal
    (``DATA_ENCODING``, exit 2) names the first line that does not decode,
    with its bad bytes shown as ``\\xNN``. The text is decoded as it is, never
    normalised (a cp1258 file keeps its combining tone marks).
    :attr:`TableInfo.encoding` records the codec and
    :attr:`TableInfo.encoding_detected` whether it was detected.

Values as written
    Every column of a CSV file or an Excel sheet is text, exactly as written:
    never converted to booleans, numbers or dates, never trimmed or re-cased
    (``yes``, ``TRUE``, ``01``, ``1.0``, ``1e2`` and ``05/01/2024`` stay what
    they are and stay apart). Numbers are parsed later, only in the columns the
    spec needs as numbers (score, amounts, weight, count), in the check
    before the counting (``audit.sources``). An Excel cell is the text Excel shows
    in a plain cell (a whole number without ``.0``, ``TRUE``/``FALSE``, a date
    as ISO 8601). Parquet keeps its declared types.

Missing values
    The empty field is always missing (NULL). Other markers are missing only
    when declared (``ReadOptions.missing``, the spec's ``data.missing``), and
    then exactly as written: ``NA`` declared does not make ``na`` missing. An
    undeclared ``NA``, ``N/A`` or ``NULL`` stays a value (the audit names it in
    a note). CSV files must have a header row (``header=true``).

Delimiter
    DuckDB's sniffer picks among comma, semicolon, tab and pipe; the dialect it
    chose is read back from the ``sniff_csv`` table function. When the
    delimiter was detected and the result is a single column whose name
    contains one of ``, ; \\t |``, the file is reported as unreadable with the
    delimiter the header seems to use (a real one-column file such as a
    column ``race`` is fine). A declared delimiter is used as given and never
    second-guessed. On the slow path the delimiter is sniffed with
    :class:`csv.Sniffer` over the same candidates.

Duplicate and empty column names
    DuckDB keeps the first occurrence of a repeated header name and renames
    later ones by appending ``_1``, ``_2``, ...; a suffixed name that is
    already taken gets another suffix (header ``a,a,a_1,a`` becomes ``a, a_1,
    a_1_1, a_2``). In the COMPAS file, the second ``decile_score`` and
    ``priors_count`` become ``decile_score_1`` and ``priors_count_1``. An empty
    header cell becomes ``column<i>`` with ``i`` the zero-based position,
    zero-padded to the width of the largest index (``column4``, or
    ``column04`` when there are 10 or more columns). The pandas paths (other
    encodings, Excel) apply the same rule.

Globs
    A path with ``*``, ``?`` or ``[`` (that is not itself an existing file)
    is a glob, allowed for CSV and Parquet. Matching files are read in sorted
    path order. ``TableInfo.sha256`` is then the SHA-256 of the concatenated
    lower-case hex SHA-256 digests of the files (ASCII, no separator) in that
    order, and ``size_bytes`` is their total size. A :class:`MemoryFile` is
    one file: its name is never a pattern.

Files in memory
    Every step that reads bytes works on "a file on disk or in memory"
    through three helpers: :func:`_open_binary` (``open(path, 'rb')`` or
    ``io.BytesIO``), :func:`_shown` (how messages name the file) and
    :func:`_duckdb_targets` (the strings DuckDB's ``read_csv`` and
    ``read_parquet`` read). pandas and openpyxl read the binary stream. For
    DuckDB the bytes are put in an fsspec in-memory filesystem made for that
    one upload, under a protocol of its own (``auditupload<random hex>://``),
    and registered on the caller's connection only while the file is opened.
    fsspec's plain ``MemoryFileSystem`` is not used: its store is shared by
    the whole process, so uploads of different visitors could meet there.
    The open-time check of a UTF-8 CSV or Parquet upload reads its rows into
    an Arrow table (one pass, instead of a check now and a read later), so
    the relation returned holds the rows in memory and nothing stays
    registered on the connection.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as _dt
import csv
import glob as globbing
import hashlib
import io
import os
import re
import uuid
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final, Union

import duckdb
import pandas as pd

from audit import encodings
from audit.errors import DataError, Problem, ReasonCode, SpecError, UsageError, did_you_mean, format_problems

__all__ = ["MemoryFile", "ReadOptions", "TableInfo", "open_table", "file_sha256", "detect_format",
           "SUPPORTED_EXTENSIONS"]

SUPPORTED_EXTENSIONS: Final[dict[str, str]] = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv",
    ".parquet": "parquet", ".pq": "parquet",
    ".xlsx": "excel", ".xlsm": "excel", ".xls": "excel",
}
"""File extension (lower case) -> format name."""

_BLOCK: Final = 1 << 20            # hashing and decoding block: 1 MiB
_HEAD: Final = 4 << 20             # bytes the encoding is chosen from (audit.encodings)
_SAMPLE_ROWS: Final = 100_000      # DuckDB sniffer sample
_DELIMITERS: Final = (",", ";", "\t", "|")
_DELIMITER_NAMES: Final = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_UTF8_FAST: Final = frozenset({"utf-8", "utf-8-sig", "ascii"})
_GLOB_CHARS: Final = frozenset("*?[")
_UPLOAD_PROTOCOL: Final = "auditupload"   # + 32 random hex digits, one protocol per registered upload
_SIGNATURES: Final = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook is one; give it the .xlsx extension)"),
    (b"PAR1", "a Parquet file (give it the .parquet extension)"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\x1f\x8b", "a gzip-compressed file (decompress it first)"),
    (b"\xd0\xcf\x11\xe0", "an old-style Office document such as an .xls workbook (give it the .xls "
                          "extension, or better re-save it as .xlsx or CSV)"),
    (b"SQLite format 3", "an SQLite database"),
)


@dataclass(frozen=True)
class MemoryFile:
    """A data file held in memory, such as an upload: its file name and its bytes.

    Parameters
    ----------
    name : str
        The file's name as the user gave it (``"people.csv"``). Its extension
        gives the format, as for a file on disk; messages name the file by it
        (``the uploaded file 'people.csv'``). It is never opened on disk and
        never read as a pattern.
    data : bytes
        The whole file, byte for byte. Never written anywhere: not to disk,
        not to a temporary folder, not to a process-wide store.

    Raises
    ------
    UsageError
        (``UNSUPPORTED_DATA``) when ``name`` is not a non-blank string or
        ``data`` is not ``bytes`` (pass ``bytes(buffer)`` for a bytearray or
        memoryview).

    Examples
    --------
    >>> upload = MemoryFile("people.csv", b"race,flag\\nA,1\\nB,0\\n")
    >>> upload
    MemoryFile(name='people.csv', 18 bytes)
    """

    name: str
    data: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise UsageError(f"MemoryFile: name must be the file's name with its extension, such as "
                             f"'people.csv'; got {self.name!r}", reason=ReasonCode.UNSUPPORTED_DATA)
        if not isinstance(self.data, bytes):
            raise UsageError(f"MemoryFile: data must be the file's bytes; got {type(self.data).__name__} for "
                             f"'{self.name}' (pass bytes(buffer) for a bytearray or memoryview)",
                             reason=ReasonCode.UNSUPPORTED_DATA)

    def __repr__(self) -> str:
        return f"MemoryFile(name={self.name!r}, {len(self.data):,} bytes)"


@dataclass(frozen=True)
class ReadOptions:
    """How to read a data file; ``None`` means detect.

    Parameters
    ----------
    encoding : str or None
        Text encoding of a CSV file, any Python codec name (``"utf-8"``,
        ``"cp1252"``, ``"latin-1"``, ``"utf-16"``). ``None`` detects it.
    delimiter : str or None
        Field delimiter of a CSV file, one character. ``None`` detects comma,
        semicolon, tab or pipe.
    sheet : str, int or None
        Excel sheet name, or zero-based index. ``None`` reads the first sheet.
    missing : tuple of str
        Texts that mean a missing value in a CSV or Excel file, besides the
        empty cell (always missing), matched exactly as written (case and
        spaces count): ``("NA", "N/A")``. Parquet keeps its own nulls.

    Raises
    ------
    SpecError
        (``SPEC_INVALID``) for an unknown encoding name, an empty or
        multi-character delimiter, or a sheet that is neither a name nor a
        non-negative index.
    """

    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | int | None = None
    missing: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        if not isinstance(self.missing, tuple) or not all(isinstance(m, str) for m in self.missing):
            problems.append(Problem("data.missing", f"must be a list of texts such as ['NA', 'N/A']; got "
                                                    f"{self.missing!r}"))
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except (LookupError, TypeError):
                problems.append(Problem("data.encoding", f"unknown encoding {self.encoding!r}; use a Python codec "
                                                         "name such as 'utf-8', 'cp1252', 'latin-1' or 'utf-16', "
                                                         "or leave it out to detect the encoding"))
        if self.delimiter is not None and (not isinstance(self.delimiter, str) or len(self.delimiter) != 1
                                           or self.delimiter in "\r\n\"'"):
            problems.append(Problem("data.delimiter", f"must be one character such as ',' ';' '\\t' or '|'; "
                                                      f"got {self.delimiter!r}"))
        if self.sheet is not None and (isinstance(self.sheet, bool) or not isinstance(self.sheet, (str, int))
                                       or (isinstance(self.sheet, int) and self.sheet < 0)):
            problems.append(Problem("data.sheet", f"must be a sheet name or a zero-based index (0 is the first "
                                                  f"sheet); got {self.sheet!r}"))
        if problems:
            raise SpecError(format_problems("The data read options are invalid:", problems),
                            reason=ReasonCode.SPEC_INVALID, problems=problems)


@dataclass(frozen=True)
class TableInfo:
    """What :func:`open_table` read.

    Attributes
    ----------
    path : str
        Absolute path of the file (symlinks resolved), or the absolute glob;
        for a :class:`MemoryFile`, its name as given.
    format : str
        ``"csv"``, ``"parquet"`` or ``"excel"``.
    encoding : str or None
        For CSV the Python codec name used (``"utf-8"``, ``"utf-8-sig"`` for a
        UTF-8 file with a byte-order mark, ``"cp1252"``, ``"utf-16"``, ...);
        ``None`` for other formats.
    encoding_detected : bool
        True when the encoding was detected, False when it was declared (and
        for non-CSV formats).
    delimiter : str or None
        For CSV the field delimiter used; ``None`` otherwise.
    sha256 : str
        Hex SHA-256 of the file's bytes (the same for a file on disk and for
        its bytes in a :class:`MemoryFile`); for a glob, of the matched files'
        hex digests concatenated in sorted path order.
    size_bytes : int
        Size of the file in bytes, or total size of the matched files.
    """

    path: str
    format: str
    encoding: str | None
    encoding_detected: bool
    delimiter: str | None
    sha256: str
    size_bytes: int


# --------------------------------------------------------------------------- public functions


def detect_format(path: str | os.PathLike[str] | MemoryFile) -> str:
    """Return the format of ``path`` from its extension.

    Parameters
    ----------
    path : str, os.PathLike or MemoryFile
        A file name or glob, or a file in memory (its name); only the
        extension is looked at (case-insensitive).

    Returns
    -------
    str
        ``"csv"`` for .csv .tsv .txt, ``"parquet"`` for .parquet .pq,
        ``"excel"`` for .xlsx .xlsm .xls.

    Raises
    ------
    DataError
        (``DATA_UNREADABLE``) for any other extension, or none, listing the
        supported ones.

    Examples
    --------
    >>> detect_format("data/People.CSV")
    'csv'
    """
    text = path.name if isinstance(path, MemoryFile) else os.fspath(path)
    suffix = Path(text).suffix.lower()
    fmt = SUPPORTED_EXTENSIONS.get(suffix)
    if fmt is None:
        got = f"extension '{suffix}'" if suffix else "no extension"
        shown = _shown(path) if isinstance(path, MemoryFile) else text
        raise DataError(
            f"Cannot read {shown}: the file has {got}, which is not a supported data format. Supported: "
            f"{_supported_text()}. Save or rename the file with one of these extensions.",
            reason=ReasonCode.DATA_UNREADABLE)
    return fmt


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Return the hex SHA-256 of a file's bytes, read in 1 MiB blocks.

    Parameters
    ----------
    path : str or os.PathLike
        A file, or a glob; for a glob the result is the SHA-256 of the matched
        files' hex digests concatenated in sorted path order.

    Returns
    -------
    str
        64 lower-case hex characters. An empty file gives the digest of no
        bytes (``e3b0c442...``).

    Raises
    ------
    DataError
        ``DATA_NOT_FOUND`` if the file is missing or the glob matches nothing,
        ``DATA_UNREADABLE`` for a folder or a file that cannot be opened.
    """
    text = os.path.expanduser(os.fspath(path))
    files = _resolve(text, allow_glob=True)
    digests = [_scan(f, None).sha256 for f in files]
    return digests[0] if not _is_glob(text) else _combine(digests)


def open_table(source: str | os.PathLike[str] | MemoryFile, con: duckdb.DuckDBPyConnection, *,
               options: ReadOptions = ReadOptions()) -> tuple[duckdb.DuckDBPyRelation, TableInfo]:
    """Open a data file, on disk or in memory, as a DuckDB relation on ``con``.

    Parameters
    ----------
    source : str, os.PathLike or MemoryFile
        A .csv/.tsv/.txt, .parquet/.pq or .xlsx/.xlsm/.xls file, or a glob of
        CSV or Parquet files (``data/*.parquet``); ``~`` is expanded. Or a
        :class:`MemoryFile` (an upload), read with the same rules and the
        same messages, which name it by its name; it is never a glob.
    con : duckdb.DuckDBPyConnection
        The connection the relation is created on. Its settings are not
        changed and nothing is created in its catalog. For a UTF-8 CSV or
        Parquet :class:`MemoryFile`, an in-memory filesystem holding the
        bytes is registered on ``con`` while the file is read (under a
        protocol of its own, so two uploads never meet) and unregistered
        before returning; so ``con`` must allow external access (DuckDB's
        default).
    options : ReadOptions, optional
        Declared encoding, delimiter or Excel sheet; by default all detected.

    Returns
    -------
    relation : duckdb.DuckDBPyRelation
        Lazy for CSV (UTF-8) and Parquet files on disk: every query re-reads
        the file in DuckDB. For CSV in other encodings and Excel, the rows
        live in a pandas frame that the relation holds; for a UTF-8 CSV or
        Parquet :class:`MemoryFile`, in an Arrow table.
    info : TableInfo
        Path (a MemoryFile's name), format, encoding, delimiter, SHA-256 and
        size.

    Raises
    ------
    DataError
        ``DATA_NOT_FOUND``: the file is missing (similar names in the folder are
        suggested) or the glob matches nothing.
        ``DATA_EMPTY``: 0 bytes, only whitespace, a header but no rows (the
        columns found are named), or an empty sheet.
        ``DATA_ENCODING``: the bytes do not decode with the declared encoding,
        or the file is not UTF-8 and no encoding could be detected.
        ``DATA_UNREADABLE``: a folder, an unsupported extension, binary data
        named .csv, a damaged Parquet or Excel file, a missing sheet (the sheets
        are listed), rows with the wrong number of fields, or a CSV that parses
        as one column whose name holds a delimiter.

    Notes
    -----
    The relation is checked once at open time (every typed column is
    converted), so later queries do not fail on a value the type sniffer did
    not see; see the module docstring for the retry rules.

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> rel, info = open_table("people.csv", con)  # doctest: +SKIP
    >>> rel.aggregate("race, count(*)", "race").fetchall()  # doctest: +SKIP
    """
    files, fmt, shown, glob = _files_of(source)
    if fmt == "csv":
        relation, encoding, detected, delimiter, scans = _open_csv(files, con, options, shown)
    else:
        scans = [_scan(f, None) for f in files]
        for scan in scans:
            if scan.size == 0:
                raise _empty(scan.path, "it is 0 bytes long", fmt)
        relation = (_open_parquet(files, con, shown) if fmt == "parquet"
                    else _open_excel(files[0], con, options))
        encoding, detected, delimiter = None, False, None
    digest = _combine([s.sha256 for s in scans]) if glob else scans[0].sha256
    info = TableInfo(path=source.name if isinstance(source, MemoryFile) else shown, format=fmt, encoding=encoding,
                     encoding_detected=detected, delimiter=delimiter, sha256=digest,
                     size_bytes=sum(s.size for s in scans))
    return relation, info


def _files_of(source: str | os.PathLike[str] | MemoryFile) -> tuple[list[_Source], str, str, bool]:
    """(files, format, how messages name the source, whether it is a glob), or raise."""
    if isinstance(source, MemoryFile):
        return [source], detect_format(source), _shown(source), False
    text = os.path.expanduser(os.fspath(source))
    glob = _is_glob(text)
    if not glob:
        _resolve(text, allow_glob=False)          # missing file or folder: say so before the extension
    fmt = detect_format(text)
    if glob and fmt == "excel":
        raise DataError(f"Cannot read {os.path.abspath(text)}: a pattern of Excel workbooks is not supported; "
                        "give the path of one workbook, or export the sheets to CSV or Parquet and use a pattern "
                        "such as data/*.csv.", reason=ReasonCode.DATA_UNREADABLE)
    paths = _resolve(text, allow_glob=True)
    return list(paths), fmt, os.path.abspath(text) if glob else str(paths[0].resolve()), glob


# --------------------------------------------------------------------------- files, hashing, decoding


@dataclass(frozen=True)
class _DecodeFailure:
    codec: str
    offset: int
    bad: bytes
    reason: str


_Source = Union[Path, MemoryFile]
"""A file to read: on disk, or in memory."""


def _open_binary(source: _Source) -> IO[bytes]:
    """The file's bytes as a binary stream; the caller closes it."""
    return io.BytesIO(source.data) if isinstance(source, MemoryFile) else open(source, "rb")


def _open_text(source: _Source, codec: str) -> IO[str]:
    """The file decoded with ``codec``, line endings untouched (as the csv module wants)."""
    return io.TextIOWrapper(_open_binary(source), encoding=codec, newline="")


def _shown(source: _Source) -> str:
    """How messages name a file: its absolute path, or ``the uploaded file 'NAME'``."""
    return f"the uploaded file '{source.name}'" if isinstance(source, MemoryFile) else os.path.abspath(source)


def _capitalised(shown: str) -> str:
    """``shown`` at the start of a sentence (an absolute path is left as it is)."""
    return shown[:1].upper() + shown[1:] if shown.startswith("the ") else shown


@contextlib.contextmanager
def _duckdb_targets(files: Sequence[_Source], con: duckdb.DuckDBPyConnection) -> Iterator[list[str]]:
    """The strings DuckDB reads the files from: a path, or the URL of an upload registered on ``con``.

    Uploads are registered for the ``with`` block only: a relation over one
    must be read into memory (:func:`_held`) inside the block.
    """
    registered: list[str] = []
    try:
        targets = []
        for file in files:
            if isinstance(file, MemoryFile):
                protocol, url = _register_upload(file, con)
                registered.append(protocol)
                targets.append(url)
            else:
                targets.append(str(file))
        yield targets
    finally:
        for protocol in registered:
            con.unregister_filesystem(protocol)


def _held(relation: duckdb.DuckDBPyRelation, con: duckdb.DuckDBPyConnection,
          files: Sequence[_Source]) -> duckdb.DuckDBPyRelation:
    """``relation`` itself for files on disk; for an upload, its rows read once into Arrow on ``con``.

    Raises what reading the rows raises (``duckdb.ConversionException`` for a
    value that does not fit the sniffed type).
    """
    if not any(isinstance(f, MemoryFile) for f in files):
        return relation
    return con.from_arrow(relation.to_arrow_table())


def _register_upload(upload: MemoryFile, con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """Register ``upload``'s bytes on ``con`` in a filesystem of its own; return its protocol and URL.

    The filesystem is a fresh fsspec ``MemoryFileSystem`` subclass whose store
    belongs to this instance (the base class keeps one store for the whole
    process) and whose protocol, ``auditupload`` + 32 random hex digits, is
    new, so two uploads on one connection never collide. It is not cached by
    fsspec; :func:`_duckdb_targets` unregisters it when the file is read.
    """
    from fsspec import AbstractFileSystem
    from fsspec.implementations.memory import MemoryFileSystem

    protocol_name = f"{_UPLOAD_PROTOCOL}{uuid.uuid4().hex}"

    class UploadFileSystem(MemoryFileSystem):  # type: ignore[misc]
        protocol = (protocol_name,)
        cachable = False
        _strip_protocol = classmethod(AbstractFileSystem._strip_protocol.__func__)  # type: ignore[attr-defined]

        def __init__(self) -> None:
            super().__init__()
            self.store: dict[str, object] = {}     # this upload's only: not the class-level, process-wide store
            self.pseudo_dirs = [""]

    filesystem = UploadFileSystem()
    url = f"{protocol_name}://upload/data{Path(upload.name).suffix.lower()}"
    filesystem.pipe_file(url, upload.data)
    con.register_filesystem(filesystem)
    return protocol_name, url


def _plain(message: str, files: Sequence[_Source], targets: Sequence[str]) -> str:
    """A reader's message with each upload's internal URL replaced by the upload's name."""
    for file, target in zip(files, targets):
        if isinstance(file, MemoryFile):
            message = message.replace(target, file.name)
    return message


@dataclass(frozen=True)
class _Scan:
    path: _Source
    sha256: str
    size: int
    head: bytes
    has_text: bool                     # some non-whitespace character (only known when a codec was given)
    failure: _DecodeFailure | None     # first bytes the codec could not decode


def _is_glob(text: str) -> bool:
    return any(c in _GLOB_CHARS for c in text) and not os.path.exists(text)


def _combine(digests: Sequence[str]) -> str:
    return hashlib.sha256("".join(digests).encode("ascii")).hexdigest()


def _supported_text() -> str:
    by_format: dict[str, list[str]] = {}
    for ext, fmt in SUPPORTED_EXTENSIONS.items():
        by_format.setdefault(fmt, []).append(ext)
    names = {"csv": "CSV", "parquet": "Parquet", "excel": "Excel"}
    return "; ".join(f"{names[f]} ({' '.join(exts)})" for f, exts in by_format.items())


def _data_files_in(folder: Path, limit: int = 5) -> list[str]:
    try:
        names = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in SUPPORTED_EXTENSIONS)
    except OSError:
        return []
    return names[:limit]


def _resolve(text: str, *, allow_glob: bool) -> list[Path]:
    """The files ``text`` names: one file, or the sorted matches of a glob."""
    if allow_glob and _is_glob(text):
        matches = sorted(Path(p) for p in globbing.glob(text, recursive=True) if os.path.isfile(p))
        if not matches:
            folder = Path(text).parent
            found = _data_files_in(folder)
            hint = (f" The folder holds: {', '.join(found)}." if found
                    else f" The folder {os.path.abspath(folder)} holds no data files." if folder.is_dir()
                    else f" The folder {os.path.abspath(folder)} does not exist.")
            raise DataError(f"Data not found: no file matches the pattern {os.path.abspath(text)}.{hint} "
                            "Check the folder and the pattern in data.path.", reason=ReasonCode.DATA_NOT_FOUND)
        return matches
    path = Path(text)
    shown = os.path.abspath(text)
    if path.is_dir():
        found = _data_files_in(path)
        hint = f" It holds: {', '.join(found)}." if found else ""
        raise DataError(f"Cannot read {shown}: it is a folder, not a file.{hint} Give the path of one data file, "
                        "or a pattern such as folder/*.parquet.", reason=ReasonCode.DATA_UNREADABLE)
    if not path.exists():
        folder = path.parent
        if not folder.is_dir():
            raise DataError(f"Data not found: {shown} does not exist, and neither does its folder "
                            f"{os.path.abspath(folder)}. Check data.path (relative paths are relative to the "
                            "spec file's folder or the working directory).", reason=ReasonCode.DATA_NOT_FOUND)
        try:
            siblings = [p.name for p in folder.iterdir() if p.is_file()]
        except OSError:
            siblings = []
        suggestion = did_you_mean(path.name, siblings)
        raise DataError(f"Data not found: {shown} does not exist{suggestion}. Check the file name and folder "
                        "in data.path.", reason=ReasonCode.DATA_NOT_FOUND)
    if not path.is_file():
        raise DataError(f"Cannot read {shown}: it is not a regular file. Give the path of a data file.",
                        reason=ReasonCode.DATA_UNREADABLE)
    return [path]


def _scan(path: _Source, codec: str | None) -> _Scan:
    """Hash ``path`` in 1 MiB blocks; with ``codec``, also check that it decodes and holds text."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder(codec)(errors="strict") if codec else None
    head = bytearray()
    size = 0
    has_text = False
    failure: _DecodeFailure | None = None
    try:
        with _open_binary(path) as handle:
            while block := handle.read(_BLOCK):
                digest.update(block)
                if len(head) < _HEAD:
                    head += block[: _HEAD - len(head)]
                if decoder is not None and failure is None:
                    failure, text = _decode_step(decoder, block, size, codec or "", final=False)
                    has_text = has_text or bool(text.strip())
                size += len(block)
            if decoder is not None and failure is None:
                failure, text = _decode_step(decoder, b"", size, codec or "", final=True)
                has_text = has_text or bool(text.strip())
    except OSError as exc:
        raise DataError(f"Cannot read {_shown(path)}: {exc.strerror or exc}. Check that the file exists "
                        "and that you may read it.", reason=ReasonCode.DATA_UNREADABLE) from None
    return _Scan(path=path, sha256=digest.hexdigest(), size=size, head=bytes(head), has_text=has_text,
                 failure=failure)


def _decode_step(decoder: codecs.IncrementalDecoder, block: bytes, base: int, codec: str,
                 *, final: bool) -> tuple[_DecodeFailure | None, str]:
    try:
        return None, decoder.decode(block, final=final)
    except UnicodeDecodeError as exc:
        # exc.object is what the decoder looked at: the bytes it held back from the last block, then this one
        # (less a byte-order mark utf-8-sig strips first), so its end is the end of this block
        offset = base + len(block) - len(exc.object) + exc.start
        return _DecodeFailure(codec, offset, bytes(exc.object[exc.start:exc.end]), exc.reason), ""


def _bom_codec(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def _binary_reason(head: bytes) -> str | None:
    for magic, what in _SIGNATURES:
        if head.startswith(magic):
            return f"its first bytes show it is {what}, not a text CSV"
    if b"\x00" in head and _bom_codec(head) not in ("utf-16", "utf-32"):
        return ("it contains NUL bytes, so it is binary data rather than text (a UTF-16 text file needs a "
                "byte-order mark, or set data.encoding to 'utf-16-le' or 'utf-16-be')")
    return None


def _control_share(sample: bytes) -> float:
    """Share of ``sample``'s bytes that are control characters other than tab, LF, FF and CR (0 when empty).

    Counted on the bytes, which is cheap on 4 MiB: every candidate encoding
    is ASCII-compatible, so these bytes are control characters in all of them.
    """
    if not sample:
        return 0.0
    controls = bytes(range(0x20)).translate(None, b"\t\n\x0c\r") + b"\x7f"
    return (len(sample) - len(sample.translate(None, controls))) / len(sample)


def _detect_encoding(sample: Sequence[encodings.Part]) -> encodings.Choice | None:
    """The legacy encoding that reads ``sample`` as plausible text, or None when none does.

    Raises :class:`audit.encodings.Refusal` when two encodings read it as
    different plausible text, or when it is in a Vietnamese font encoding
    (TCVN3, VNI). See :func:`audit.encodings.choose`.
    """
    return encodings.choose(sample)


def _describe_failure(failure: _DecodeFailure, path: _Source) -> str:
    """``line N (byte 0xNN at offset M, reason: 'the line')``, the line's bad bytes shown as ``\\xNN``."""
    return encodings.describe(lambda: _open_binary(path), failure, failure.codec)


# --------------------------------------------------------------------------- CSV


def _empty(path: _Source, why: str, fmt: str = "csv") -> DataError:
    return DataError(f"{_capitalised(_shown(path))} has no rows: {why}. Check that you exported the right "
                     f"{'file' if fmt != 'excel' else 'sheet'} and that the export finished.",
                     reason=ReasonCode.DATA_EMPTY)


def _choose_encoding(scan: _Scan, options: ReadOptions) -> tuple[str, bool, bool]:
    """Return (codec, detected, has_text) for one CSV file, or raise.

    A declared encoding must decode the whole file; a byte-order mark decides
    (and its encoding must decode the whole file); a file valid as UTF-8 is
    UTF-8; any other file is settled by :func:`audit.encodings.settle`
    (``_detect_encoding`` makes its choice). Every refusal names the file and
    the first line that does not decode, its bad bytes shown as ``\\xNN``.
    """
    shown = _shown(scan.path)
    if options.encoding is not None:
        codec = codecs.lookup(options.encoding).name
        if scan.failure is not None:
            raise DataError(
                f"Cannot decode {shown} with the declared encoding '{options.encoding}': it cannot decode "
                f"{_describe_failure(scan.failure, scan.path)}. Set data.encoding to the file's real encoding (for "
                "example 'utf-8' or 'cp1252'), or leave it out to detect it.", reason=ReasonCode.DATA_ENCODING)
        return codec, False, scan.has_text
    marked = _bom_codec(scan.head)
    if scan.failure is None:
        nul = -1 if marked in ("utf-16", "utf-32") else scan.head.find(b"\x00")
        if nul >= 0:
            raise DataError(f"Cannot read {shown} as CSV: "
                            f"{encodings.describe_nul(lambda: _open_binary(scan.path), nul, marked or 'utf-8')}. "
                            "A text CSV file never holds one: check the export, or remove the NUL bytes.",
                            reason=ReasonCode.DATA_UNREADABLE)
        return marked or "utf-8", True, scan.has_text
    if marked is not None:
        name = marked.replace("-sig", "").upper()
        raise DataError(f"Cannot read {shown}: it starts with a {name} byte-order mark, but "
                        f"{_describe_failure(scan.failure, scan.path)} is not {name}. Re-save the whole file as "
                        f"{name}, or set data.encoding in the spec to its real encoding.",
                        reason=ReasonCode.DATA_ENCODING)
    binary = _binary_reason(scan.head)
    if binary is None and _control_share(scan.head) > 0.05:
        binary = "it is mostly control characters, so it is binary data rather than text"
    if binary is not None:
        raise DataError(f"Cannot read {shown} as CSV: {binary}. Export the data as a CSV text file, or give the "
                        "file the extension of its real format.", reason=ReasonCode.DATA_UNREADABLE)
    try:
        legacy = encodings.settle(scan.head, scan.failure, lambda: _open_binary(scan.path), _detect_encoding)
    except encodings.Refusal as refusal:
        raise DataError(f"Cannot read {shown}: {refusal}", reason=ReasonCode.DATA_ENCODING) from None
    return legacy.codec, True, legacy.has_text


def _open_csv(files: list[_Source], con: duckdb.DuckDBPyConnection, options: ReadOptions, shown: str,
              ) -> tuple[duckdb.DuckDBPyRelation, str, bool, str, list[_Scan]]:
    declared = codecs.lookup(options.encoding).name if options.encoding else None
    scans: list[_Scan] = []
    chosen: list[tuple[str, bool]] = []
    for file in files:
        probe = declared or _bom_codec(_read_head(file)) or "utf-8"
        scan = _scan(file, probe)
        if scan.size == 0:
            raise _empty(file, "it is 0 bytes long")
        codec, detected, has_text = _choose_encoding(scan, options)
        if not has_text:
            raise _empty(file, "it holds only whitespace")
        scans.append(scan)
        chosen.append((codec, detected))
    codecs_used = sorted({c for c, _ in chosen})
    if len(codecs_used) > 1:
        listing = ", ".join(f"{f.name}: {c}" for f, (c, _) in zip(files, chosen))
        raise DataError(f"Cannot read {shown}: the matched files use different encodings ({listing}). Re-save "
                        "them all as UTF-8.", reason=ReasonCode.DATA_ENCODING)
    codec, detected = chosen[0]
    if codec in _UTF8_FAST:
        relation, delimiter = _duckdb_csv(files, con, options, shown)
    else:
        relation, delimiter = _pandas_csv(files, con, options, codec, shown)
    return relation, codec, detected, delimiter, scans


def _read_head(path: _Source) -> bytes:
    try:
        with _open_binary(path) as handle:
            return handle.read(4)
    except OSError as exc:
        raise DataError(f"Cannot read {_shown(path)}: {exc.strerror or exc}. Check that you may read "
                        "the file.", reason=ReasonCode.DATA_UNREADABLE) from None


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _csv_sql(targets: Sequence[str], delimiter: str | None, missing: Sequence[str] = (),
             function: str = "read_csv") -> str:
    """Every column as text (``all_varchar``), the empty field and ``missing`` as NULL."""
    target = (_sql_string(targets[0]) if function == "sniff_csv"
              else "[" + ", ".join(_sql_string(t) for t in targets) + "]")
    nulls = "[" + ", ".join(_sql_string(m) for m in ("", *missing)) + "]"
    args = [target, "header = true", f"nullstr = {nulls}", f"sample_size = {_SAMPLE_ROWS}", "all_varchar = true"]
    if delimiter is not None:
        args.append(f"delim = {_sql_string(delimiter)}")
    return f"SELECT * FROM {function}({', '.join(args)})"


def _duckdb_csv(files: list[_Source], con: duckdb.DuckDBPyConnection, options: ReadOptions,
                shown: str) -> tuple[duckdb.DuckDBPyRelation, str]:
    delimiter = options.delimiter
    with _duckdb_targets(files, con) as targets:
        try:
            relation = con.sql(_csv_sql(targets, options.delimiter, options.missing))
            if delimiter is None:
                sniffed = con.sql(_csv_sql(targets, None, function="sniff_csv").replace(
                    "SELECT *", "SELECT Delimiter", 1)).fetchall()
                delimiter = sniffed[0][0] if sniffed else ","
        except duckdb.Error as exc:
            raise _csv_failure(exc, files, options.delimiter, "utf-8", shown, targets) from None
        if options.delimiter is None:
            _check_single_column(relation.columns, files[0], "utf-8", shown)
        try:
            relation = _held(relation, con, files)
            row = relation.aggregate("count(*)").fetchall()[0]
        except duckdb.Error as exc:
            raise _csv_failure(exc, files, options.delimiter or delimiter, "utf-8", shown, targets) from None
        if not row or row[0] == 0:
            raise _empty(files[0] if len(files) == 1 else Path(shown),
                         f"it has a header with the columns {_names(relation.columns)} but no data rows")
        return relation, delimiter


def _names(columns: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(f"'{c}'" for c in columns[:limit])
    return shown + (f" and {len(columns) - limit} more" if len(columns) > limit else "")


def _check_single_column(columns: Sequence[str], path: _Source, codec: str, shown: str) -> None:
    """A detected single column whose name holds a delimiter: the detection went wrong."""
    if len(columns) != 1:
        return
    header = columns[0]
    counts = {d: header.count(d) for d in _DELIMITERS}
    likely = max(counts, key=lambda d: counts[d])
    if counts[likely] == 0:
        return
    name = _DELIMITER_NAMES[likely]
    shown_delim = "\\t" if likely == "\t" else likely
    ragged = _first_ragged_line(path, codec, likely)
    note = f" With that delimiter, {ragged}, which may be why detection failed; fix that row." if ragged else ""
    raise DataError(
        f"Cannot read {shown}: it was read as a single column named {header!r}, but the header seems to use "
        f"the {name} ('{shown_delim}') as delimiter.{note} Set data.delimiter: '{shown_delim}' in the spec.",
        reason=ReasonCode.DATA_UNREADABLE)


def _first_ragged_line(path: _Source, codec: str, delimiter: str, limit: int = 200_000) -> str | None:
    """'line N has X fields but the header has Y' for the first such record, if any."""
    try:
        with _open_text(path, codec) as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            header = next(reader, None)
            if header is None:
                return None
            for index, row in enumerate(reader):
                if index >= limit:
                    return None
                if row and len(row) != len(header):
                    return (f"line {reader.line_num} has {len(row)} fields but the header has "
                            f"{len(header)}")
    except (OSError, UnicodeError, csv.Error):
        return None
    return None


def _csv_failure(exc: Exception, files: list[_Source], delimiter: str | None, codec: str, shown: str,
                 targets: Sequence[str] = ()) -> DataError:
    """Turn a DuckDB or pandas CSV error into a DataError in plain words (``targets``: what DuckDB read)."""
    message = _plain(str(exc), files, targets)
    for file in files:
        ragged = _first_ragged_line(file, codec, delimiter) if delimiter else None
        if ragged is None and delimiter is None:
            for candidate in _DELIMITERS:
                if _header_fields(file, codec, candidate) > 1:
                    ragged = _first_ragged_line(file, codec, candidate)
                    break
        if ragged:
            where = _shown(file)
            return DataError(f"Cannot read {where}: {ragged}. Quote values that contain the delimiter, or fix "
                             "that row.", reason=ReasonCode.DATA_UNREADABLE)
    if "sniffing" in message or "dialect" in message:
        reason = ("its layout (delimiter, quoting, columns) could not be worked out; check that it is a CSV text "
                  "file with a header row and the same number of fields on every line, or set data.delimiter")
    elif "unterminated quote" in message.lower():
        reason = "a quoted value is never closed; check the quote characters in the file"
    elif "Expected Number of Columns" in message or "too many columns" in message.lower():
        reason = "some lines have a different number of fields than the header; fix those rows"
    elif "schema" in message.lower() or "union_by_name" in message:
        reason = "the matched files do not have the same columns; make their headers identical"
    else:
        reason = "the CSV reader failed: " + _first_line(message)
    return DataError(f"Cannot read {shown}: {reason}.", reason=ReasonCode.DATA_UNREADABLE)


def _header_fields(path: _Source, codec: str, delimiter: str) -> int:
    try:
        with _open_text(path, codec) as handle:
            return len(next(csv.reader(handle, delimiter=delimiter), []))
    except (OSError, UnicodeError, csv.Error):
        return 0


def _first_line(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else "unknown error"
    return re.sub(r"^[A-Za-z ]*Error: ", "", line)


def _sniff_delimiter(path: _Source, codec: str) -> str:
    with _open_text(path, codec) as handle:
        sample = handle.read(64 * 1024)
    if "\n" in sample[:-1]:
        sample = sample[: sample.rfind("\n")]
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        lines = [line for line in sample.splitlines()[:50] if line.strip()]
        best, best_score = ",", 0
        for candidate in _DELIMITERS:
            counts = {line.count(candidate) for line in lines}
            if len(counts) == 1 and (score := counts.pop()) > best_score:
                best, best_score = candidate, score
        return best


def _dedupe(raw: Iterable[object]) -> list[str]:
    """Column names the way DuckDB makes them: empty -> column<i>, repeats -> name_1, name_2, ..."""
    values = list(raw)
    width = len(str(max(len(values) - 1, 0)))
    names: list[str] = []
    used: set[str] = set()
    counters: dict[str, int] = {}
    for index, value in enumerate(values):
        name = _header_text(value) or f"column{index:0{width}d}"
        candidate = name
        while candidate in used:
            counters[name] = counters.get(name, 0) + 1
            candidate = f"{name}_{counters[name]}"
        used.add(candidate)
        names.append(candidate)
    return names


def _header_text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() if isinstance(value, str) else str(value)


def _pandas_csv(files: list[_Source], con: duckdb.DuckDBPyConnection, options: ReadOptions, codec: str,
                shown: str) -> tuple[duckdb.DuckDBPyRelation, str]:
    delimiter = options.delimiter or _sniff_delimiter(files[0], codec)
    frames: list[pd.DataFrame] = []
    for file in files:
        try:
            with _open_binary(file) as handle:
                header = pd.read_csv(handle, encoding=codec, sep=delimiter, header=None, nrows=1, dtype=str,
                                     keep_default_na=False, engine="python")
            names = _dedupe(header.iloc[0].tolist()) if len(header) else []
            with _open_binary(file) as handle:
                frame = pd.read_csv(handle, encoding=codec, sep=delimiter, header=0, names=names or None,
                                    dtype=str, keep_default_na=False, na_values=["", *options.missing],
                                    low_memory=False, index_col=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, UnicodeError, csv.Error) as exc:
            raise _csv_failure(exc, [file], delimiter, codec, _shown(file)) from None
        if options.delimiter is None:
            _check_single_column(list(frame.columns), file, codec, _shown(file))
        if len(frame) == 0:
            raise _empty(file, f"it has a header with the columns {_names(list(frame.columns))} but no data rows")
        if frames and list(frame.columns) != list(frames[0].columns):
            raise DataError(f"Cannot read {shown}: {file.name} has the columns {_names(list(frame.columns))}, "
                            f"but {files[0].name} has {_names(list(frames[0].columns))}. Make their headers "
                            "identical.", reason=ReasonCode.DATA_UNREADABLE)
        frames.append(frame)
    combined = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return con.from_df(combined), delimiter


# --------------------------------------------------------------------------- Parquet and Excel


def _open_parquet(files: list[_Source], con: duckdb.DuckDBPyConnection, shown: str) -> duckdb.DuckDBPyRelation:
    with _duckdb_targets(files, con) as targets:
        listing = "[" + ", ".join(_sql_string(t) for t in targets) + "]"
        try:
            relation = _held(con.sql(f"SELECT * FROM read_parquet({listing})"), con, files)
            rows = relation.aggregate("count(*)").fetchall()[0]
        except duckdb.Error as exc:
            detail = _plain(_first_line(str(exc)), files, targets)
            bad = next((_shown(f) for f in files if _shown(f) in detail or f.name in detail), shown)
            raise DataError(f"Cannot read {bad}: it is not a valid Parquet file or it is damaged (truncated, or "
                            f"written by a program that did not finish); the reader said: {detail}. Export the "
                            "data again.", reason=ReasonCode.DATA_UNREADABLE) from None
    if not rows or rows[0] == 0:
        raise _empty(files[0] if len(files) == 1 else Path(shown),
                     f"it has the columns {_names(relation.columns)} but no rows", "parquet")
    return relation


def _open_excel(path: _Source, con: duckdb.DuckDBPyConnection, options: ReadOptions) -> duckdb.DuckDBPyRelation:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    shown = _shown(path)
    if Path(path.name).suffix.lower() == ".xls":
        raise DataError(f"Cannot read {shown}: legacy .xls workbooks are not supported. Re-save it as .xlsx or "
                        "export the sheet as CSV (UTF-8).", reason=ReasonCode.DATA_UNREADABLE)
    try:
        with _open_binary(path) as handle:
            workbook = openpyxl.load_workbook(handle, read_only=True)
            try:
                sheets = list(workbook.sheetnames)
            finally:
                workbook.close()
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        what = "it is not a valid .xlsx workbook (not a ZIP archive)" if isinstance(exc, zipfile.BadZipFile) \
            else f"it is not a valid .xlsx workbook ({_first_line(str(exc))})"
        raise DataError(f"Cannot read {shown}: {what}. Open it in Excel and save it again as .xlsx, or export "
                        "the sheet as CSV.", reason=ReasonCode.DATA_UNREADABLE) from None
    sheet = options.sheet if options.sheet is not None else 0
    listing = ", ".join(f"'{s}'" for s in sheets)
    if isinstance(sheet, int) and sheet >= len(sheets):
        raise DataError(f"Cannot read {shown}: it has {len(sheets)} sheet(s) ({listing}), so there is no sheet "
                        f"at index {sheet}. Set data.sheet to one of the names or an index from 0 to "
                        f"{len(sheets) - 1}.", reason=ReasonCode.DATA_UNREADABLE)
    if isinstance(sheet, str) and sheet not in sheets:
        raise DataError(f"Cannot read {shown}: there is no sheet named '{sheet}'{did_you_mean(sheet, sheets)}. "
                        f"The sheets are: {listing}. Set data.sheet to one of them.",
                        reason=ReasonCode.DATA_UNREADABLE)
    name = sheets[sheet] if isinstance(sheet, int) else sheet
    try:
        with _open_binary(path) as handle:
            raw = pd.read_excel(handle, sheet_name=name, header=None, engine="openpyxl", dtype=object,
                                keep_default_na=False, na_values=[""])
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise DataError(f"Cannot read sheet '{name}' of {shown}: {_first_line(str(exc))}. Open it in Excel and "
                        "save it again as .xlsx, or export the sheet as CSV.",
                        reason=ReasonCode.DATA_UNREADABLE) from None
    raw = raw.dropna(how="all").dropna(axis=1, how="all")
    if raw.empty:
        raise DataError(f"{_capitalised(shown)} has no rows: sheet '{name}' is empty. Choose the sheet with the data "
                        f"in data.sheet (sheets: {listing}).", reason=ReasonCode.DATA_EMPTY)
    names = _dedupe(raw.iloc[0].tolist())
    body = raw.iloc[1:].reset_index(drop=True)
    body.columns = names
    if body.empty:
        raise DataError(f"{_capitalised(shown)} has no rows: sheet '{name}' has a header with the columns "
                        f"{_names(names)} but no data rows. Check that you exported the right sheet.",
                        reason=ReasonCode.DATA_EMPTY)
    missing = frozenset(options.missing)
    frame = pd.DataFrame({c: body[c].map(lambda v: _cell_text(v, missing)).astype("string") for c in names})
    return con.from_df(frame)


def _cell_text(value: object, missing: frozenset[str] = frozenset()) -> str | None:
    """A cell as the text Excel shows for it in a plain cell, or None when empty or a declared missing marker.

    Text cells are kept exactly (spaces and case); a whole number is written without a decimal point (Excel
    stores ``1`` and ``1.0`` as the same number); other numbers as Python's shortest round-trip text; a
    logical cell as ``TRUE``/``FALSE``; a date as ISO 8601 (``2024-01-05``, with the time only when it is not
    midnight), never in a locale's day or month order.
    """
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
        return str(int(value))
    if isinstance(value, (_dt.datetime, pd.Timestamp)):
        return value.date().isoformat() if value.time() == _dt.time() else value.isoformat()
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    text = str(value)
    return None if text in missing else text
