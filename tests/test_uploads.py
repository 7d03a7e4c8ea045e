"""Tests of uploads: files read from memory (``MemoryFile``), ``audit.uploads`` and the DuckDB lockdown.

The oracle is the same file read from disk: an upload must give the same
rows, the same ``TableInfo`` (except the name), the same error reason and the
same audit result. Disk copies are written to ``tmp_path`` only to have that
oracle; the uploads themselves are never written anywhere.
"""

from __future__ import annotations

import builtins
import copy
import hashlib
import io
import os
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from fsspec.implementations.memory import MemoryFileSystem

import audit
from audit.errors import DataError, ReasonCode, UsageError
from audit.readers import MemoryFile, ReadOptions, file_sha256, open_table
from audit.starter import profile
from audit.uploads import (LoadedTable, column_profiles, load_table, locked_connection, preview,
                           relation_of)
from conftest import BASE_SPEC, EXAMPLES, synthetic
from test_readers import excel

SPECS = sorted(EXAMPLES.glob("*/spec.yaml"))


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    yield connection
    connection.close()


def data_file(spec_path: Path) -> tuple[Path, ReadOptions]:
    spec, base_dir = audit.load_spec(spec_path)
    path = Path(spec.data.path)
    return (path if path.is_absolute() else base_dir / path), ReadOptions(
        encoding=spec.data.encoding, delimiter=spec.data.delimiter, sheet=spec.data.sheet)


def upload_of(path: Path) -> MemoryFile:
    return MemoryFile(path.name, path.read_bytes())


def xlsx_bytes() -> bytes:
    """test_readers' two-sheet workbook, saved in memory: 'Data' with a repeated header name, 'Notes' header only."""
    return excel(io.BytesIO()).getvalue()  # type: ignore[arg-type]   # openpyxl saves to a file object too


def parquet_bytes(con: duckdb.DuckDBPyConnection) -> bytes:
    table = con.sql("SELECT * FROM (VALUES (1, 'Đà Nẵng', 2.5), (2, 'N/A', NULL)) v(id, city, x)").to_arrow_table()
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- the bundled examples


@pytest.mark.parametrize("spec_path", SPECS, ids=[p.parent.name for p in SPECS])
def test_examples_same_result_from_upload(spec_path: Path) -> None:
    path, options = data_file(spec_path)
    from_disk = audit.run(spec_path)
    loaded = load_table(upload_of(path), options=options)
    from_upload = audit.run(spec_path, data=loaded)

    disk, upload = from_disk.provenance, from_upload.provenance
    assert upload.data.sha256 == disk.data.sha256 == file_sha256(path)
    assert (upload.rows_read, upload.rows_used) == (disk.rows_read, disk.rows_used)
    count_column = from_disk.spec.data.count_column       # an aggregate table: rows_read counts people
    people = loaded.rows if count_column is None else int(pd.to_numeric(pd.Series(loaded.table[count_column])).sum())
    assert upload.rows_read == people > 0
    assert upload.data.source == path.name
    assert (upload.data.format, upload.data.encoding, upload.data.delimiter, upload.data.size_bytes,
            upload.data.fingerprint_method) == (disk.data.format, disk.data.encoding, disk.data.delimiter,
                                                disk.data.size_bytes, disk.data.fingerprint_method)
    assert upload.data.size_bytes == path.stat().st_size
    assert from_upload.verdict == from_disk.verdict
    pd.testing.assert_frame_equal(from_upload.groups, from_disk.groups)
    pd.testing.assert_frame_equal(from_upload.comparisons, from_disk.comparisons)
    pd.testing.assert_frame_equal(from_upload.verdicts, from_disk.verdicts)
    assert from_upload.result_sha256 == from_disk.result_sha256     # every table, the proxy scan's too


def test_where_on_loaded_table_same_as_file(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    synthetic().to_csv(path, index=False)
    spec = copy.deepcopy(BASE_SPEC) | {"data": {"path": str(path), "where": "\"group\" <> 'c' AND w > 0.75"}}
    from_disk = audit.run(spec)
    from_upload = audit.run(spec, data=load_table(upload_of(path)))
    expected = synthetic().query("group != 'c' and w > 0.75")
    assert from_disk.provenance.rows_used == from_upload.provenance.rows_used == len(expected)
    assert from_upload.provenance.rows_read == from_disk.provenance.rows_read == 4000
    assert from_upload.result_sha256 == from_disk.result_sha256
    pd.testing.assert_frame_equal(from_upload.groups, from_disk.groups)


# --------------------------------------------------------------------------- reading: the same as from disk


def same_as_disk(name: str, data: bytes, tmp_path: Path, options: ReadOptions = ReadOptions()) -> tuple:
    """Open ``data`` as an upload and as a file on disk; both must give the same rows, types and info."""
    on_disk = tmp_path / name
    on_disk.write_bytes(data)
    upload_con, disk_con = duckdb.connect(), duckdb.connect()
    relation, info = open_table(MemoryFile(name, data), upload_con, options=options)
    disk_relation, disk_info = open_table(on_disk, disk_con, options=options)
    assert relation.columns == disk_relation.columns
    assert relation.types == disk_relation.types
    assert relation.fetchall() == disk_relation.fetchall()
    assert info.path == name and disk_info.path == str(on_disk.resolve())
    assert info == disk_info.__class__(**{**disk_info.__dict__, "path": name})
    assert info.sha256 == hashlib.sha256(data).hexdigest() == file_sha256(on_disk)
    assert info.size_bytes == len(data)
    assert upload_con.list_filesystems() == disk_con.list_filesystems()   # nothing left registered
    return relation, info


def test_cp1252_upload(tmp_path: Path) -> None:
    data = "id,name,place\n1,Müller,café\n2,Dupont,Köln\n3,Ørsted,São Paulo\n".encode("cp1252")
    relation, info = same_as_disk("western.csv", data, tmp_path)
    assert relation.fetchall() == [("1", "Müller", "café"), ("2", "Dupont", "Köln"), ("3", "Ørsted", "São Paulo")]
    assert (info.encoding, info.encoding_detected, info.delimiter) == ("cp1252", True, ",")


def test_utf8_bom_upload(tmp_path: Path) -> None:
    relation, info = same_as_disk("bom.csv", "\ufeffrace,score\nKinh,1\nHoa,0\n".encode(), tmp_path)
    assert relation.columns == ["race", "score"]
    assert relation.filter("race = 'Hoa'").fetchall() == [("Hoa", "0")]
    assert (info.encoding, info.encoding_detected) == ("utf-8-sig", True)


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_delimiter_detected_in_upload(tmp_path: Path, delimiter: str) -> None:
    text = "".join(delimiter.join(row) + "\n" for row in (["a", "b", "c"], ["1", "2,5", "x"], ["3", "4,5", "y"]))
    relation, info = same_as_disk("semi.csv", text.encode(), tmp_path)
    assert relation.fetchall() == [("1", "2,5", "x"), ("3", "4,5", "y")]
    assert info.delimiter == delimiter and info.encoding == "utf-8"


def test_utf16_upload(tmp_path: Path) -> None:
    relation, info = same_as_disk("wide.csv", "name,city\nAn,Đà Nẵng\nBình,Huế\n".encode("utf-16"), tmp_path)
    assert relation.fetchall() == [("An", "Đà Nẵng"), ("Bình", "Huế")]
    assert info.encoding == "utf-16"


def test_late_text_in_numeric_column_upload(tmp_path: Path) -> None:
    body = "".join(f"{i},{i % 7}\n" for i in range(120_000))
    relation, _ = same_as_disk("late.csv", ("id,value\n" + body + "120000,unknown\n").encode(), tmp_path)
    assert [str(t) for t in relation.types] == ["VARCHAR", "VARCHAR"]
    assert relation.aggregate("count(*), count(value)").fetchall() == [(120_001, 120_001)]


def test_excel_upload_with_sheet(tmp_path: Path) -> None:
    data = xlsx_bytes()
    relation, info = same_as_disk("book.xlsx", data, tmp_path, ReadOptions(sheet="Data"))
    assert relation.columns == ["name", "score", "note", "name_1"]
    assert relation.fetchall() == [("Müller", "1", "N/A", "a"), ("Đà Nẵng", "2", "3", None)]
    assert (info.format, info.encoding, info.delimiter) == ("excel", None, None)
    same_as_disk("book.xlsx", data, tmp_path, ReadOptions(sheet=0))


def test_parquet_upload(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    relation, info = same_as_disk("t.parquet", parquet_bytes(con), tmp_path)
    assert relation.order("id").fetchall() == [(1, "Đà Nẵng", 2.5), (2, "N/A", None)]
    assert (info.format, info.encoding, info.delimiter) == ("parquet", None, None)


def test_two_uploads_on_one_connection_do_not_meet(con: duckdb.DuckDBPyConnection) -> None:
    before = con.list_filesystems()
    first, _ = open_table(MemoryFile("data.csv", b"g,n\nx,1\ny,2\n"), con)
    second, _ = open_table(MemoryFile("data.csv", b"g,n\nz,3\n"), con)
    assert first.fetchall() == [("x", "1"), ("y", "2")]
    assert second.fetchall() == [("z", "3")]
    assert con.list_filesystems() == before


BAD_UPLOADS: list[tuple[str, Any, ReadOptions, ReasonCode, str]] = [
    ("empty.csv", b"", ReadOptions(), ReasonCode.DATA_EMPTY, "0 bytes"),
    ("empty.parquet", b"", ReadOptions(), ReasonCode.DATA_EMPTY, "0 bytes"),
    ("blank.csv", b"  \n\n \t\n", ReadOptions(), ReasonCode.DATA_EMPTY, "only whitespace"),
    ("header.csv", b"race,sex,score\n", ReadOptions(), ReasonCode.DATA_EMPTY, "'race', 'sex', 'score'"),
    ("junk.csv", bytes(range(256)) * 20, ReadOptions(), ReasonCode.DATA_UNREADABLE, "binary"),
    ("ragged.csv", b"race,sex\nBlack,M\nWhite,F,extra\nAsian,F\n", ReadOptions(), ReasonCode.DATA_UNREADABLE,
     "line 3 has 3 fields"),
    ("ragged.csv", b"race,sex\nBlack,M\nWhite,F,extra\nAsian,F\n", ReadOptions(delimiter=","),
     ReasonCode.DATA_UNREADABLE, "line 3 has 3 fields but the header has 2"),
    ("data.json", b"{}", ReadOptions(), ReasonCode.DATA_UNREADABLE, ".parquet"),
    ("noextension", b"a,b\n1,2\n", ReadOptions(), ReasonCode.DATA_UNREADABLE, "no extension"),
    ("broken.parquet", b"PAR1" + bytes(range(200)) + b"PAR1", ReadOptions(), ReasonCode.DATA_UNREADABLE,
     "not a valid Parquet file"),
    ("book.xlsx", "xlsx", ReadOptions(sheet="Dta"), ReasonCode.DATA_UNREADABLE, "did you mean 'Data'"),
    ("book.xlsx", "xlsx", ReadOptions(sheet=5), ReasonCode.DATA_UNREADABLE, "no sheet at index 5"),
    ("book.xlsx", "xlsx", ReadOptions(sheet="Notes"), ReasonCode.DATA_EMPTY, "'text'"),
    ("broken.xlsx", "half-xlsx", ReadOptions(), ReasonCode.DATA_UNREADABLE, "not a valid .xlsx"),
    ("export.csv", "xlsx", ReadOptions(), ReasonCode.DATA_UNREADABLE, "ZIP archive"),
    ("utf8.csv", "name\nMüller\n".encode(), ReadOptions(encoding="ascii"), ReasonCode.DATA_ENCODING, "offset 6"),
]


@pytest.mark.parametrize(("name", "data", "options", "reason", "detail"), BAD_UPLOADS,
                         ids=[f"{n}-{r.value}-{i}" for i, (n, _, _, r, _) in enumerate(BAD_UPLOADS)])
def test_bad_upload_fails_like_the_file(tmp_path: Path, con: duckdb.DuckDBPyConnection, name: str, data: Any,
                                        options: ReadOptions, reason: ReasonCode, detail: str) -> None:
    if data == "xlsx":
        data = xlsx_bytes()
    elif data == "half-xlsx":
        data = xlsx_bytes()[:2000]
    on_disk = tmp_path / name
    on_disk.write_bytes(data)
    with pytest.raises(DataError) as from_disk:
        open_table(on_disk, con, options=options)
    before = con.list_filesystems()
    with pytest.raises(DataError) as from_upload:
        open_table(MemoryFile(name, data), con, options=options)
    message = str(from_upload.value)
    assert from_upload.value.reason is from_disk.value.reason is reason, message
    assert f"the uploaded file '{name}'" in message.lower()
    assert detail in message and detail in str(from_disk.value)
    assert str(tmp_path) not in message and "auditupload" not in message
    assert "data.path" not in message and "Traceback" not in message
    assert "Invalid Input Error" not in message and "IO Error" not in message
    assert con.list_filesystems() == before                       # unregistered on failure too
    # load_table raises the same error
    with pytest.raises(DataError) as loaded:
        load_table(MemoryFile(name, data), options=options)
    assert str(loaded.value) == message


def test_empty_upload_message_reads_as_a_sentence() -> None:
    with pytest.raises(DataError) as caught:
        load_table(MemoryFile("people.csv", b""))
    assert str(caught.value).startswith("The uploaded file 'people.csv' has no rows: it is 0 bytes long.")


def test_memory_file_checks_its_arguments() -> None:
    assert repr(MemoryFile("a.csv", b"x,y\n")) == "MemoryFile(name='a.csv', 4 bytes)"
    for name, data in (("", b"a"), ("   ", b"a"), (None, b"a"), ("a.csv", bytearray(b"a")), ("a.csv", "a")):
        with pytest.raises(UsageError) as caught:
            MemoryFile(name, data)  # type: ignore[arg-type]
        assert caught.value.reason is ReasonCode.UNSUPPORTED_DATA


def test_memory_file_is_not_a_glob(con: duckdb.DuckDBPyConnection) -> None:
    relation, info = open_table(MemoryFile("part[1]*.csv", b"a\n1\n"), con)
    assert relation.fetchall() == [("1",)] and info.path == "part[1]*.csv"


# --------------------------------------------------------------------------- hashes, and nothing on disk


def test_upload_sha256_equals_file_sha256(tmp_path: Path) -> None:
    data = os.urandom((1 << 20) + 123)           # more than one 1 MiB hashing block
    data = b"id,blob\n" + b"".join(f"{i},{data[i:i + 8].hex()}\n".encode() for i in range(0, len(data), 8))
    on_disk = tmp_path / "blob.csv"
    on_disk.write_bytes(data)
    loaded = load_table(MemoryFile("blob.csv", data))
    assert loaded.info.sha256 == file_sha256(on_disk) == hashlib.sha256(data).hexdigest()
    assert loaded.info.size_bytes == on_disk.stat().st_size == len(data)
    assert loaded.rows == (len(data.splitlines()) - 1)


def test_upload_never_touches_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = b"upload-only-marker-7f3a"
    frame = synthetic(500).assign(note=marker.decode())
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False, engine="openpyxl")     # (openpyxl's writer uses temporary files)
    uploads = [MemoryFile("people.csv", frame.to_csv(index=False).encode()),
               MemoryFile("people.tsv", frame.to_csv(index=False, sep="\t").encode("cp1252")),
               MemoryFile("people.parquet", frame.to_parquet(index=False)),
               MemoryFile("people.xlsx", buffer.getvalue())]
    empty = tmp_path / "tmp"
    empty.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(empty))
    written: list[str] = []
    real_open = builtins.open

    def watching_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if any(c in mode for c in "wax+"):
            written.append(str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", watching_open)
    store_before = dict(MemoryFileSystem().store)
    results = []
    for upload in uploads:
        loaded = load_table(upload)
        assert loaded.rows == 500 and "note" in loaded.columns
        results.append(audit.run(copy.deepcopy(BASE_SPEC), data=loaded))
    assert list(empty.iterdir()) == []
    assert written == []
    global_store = MemoryFileSystem().store
    assert dict(global_store) == store_before
    assert not any(marker in bytes(f.getbuffer()) for f in global_store.values() if hasattr(f, "getbuffer"))
    assert len({r.result_sha256 for r in results}) == 1          # the same rows, whatever the format


# --------------------------------------------------------------------------- DuckDB lockdown


def test_locked_connection_refuses_files() -> None:
    locked = locked_connection()
    with pytest.raises(duckdb.PermissionException):
        locked.sql(f"SELECT * FROM read_csv('{EXAMPLES / 'compas_truth_tables' / 'truth_tables.csv'}')").fetchall()
    with pytest.raises(duckdb.Error):
        locked.sql("SET enable_external_access = true")
    assert locked.from_df(pd.DataFrame({"a": [1, 2]})).aggregate("sum(a)").fetchall() == [(3,)]


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.csv"
    path.write_text("token\nsecret-token-4711\n")
    return path


def lockdown_data(kind: str) -> Any:
    frame = synthetic(600)
    if kind == "loaded":
        return load_table(MemoryFile("people.csv", frame.to_csv(index=False).encode()))
    if kind == "polars":
        polars = pytest.importorskip("polars")
        return polars.from_pandas(frame)
    if kind == "pyarrow":
        import pyarrow as pa

        return pa.Table.from_pandas(frame)
    return frame


@pytest.mark.parametrize("kind", ["loaded", "pandas", "polars", "pyarrow"])
@pytest.mark.parametrize("reader", ["read_csv", "read_text", "sniff_csv", "glob"])
def test_where_cannot_read_files(secret_file: Path, kind: str, reader: str) -> None:
    spec = copy.deepcopy(BASE_SPEC) | {"data": {"where": f"(SELECT count(*) FROM {reader}('{secret_file}')) > 0"}}
    with pytest.raises(DataError) as caught:
        audit.run(spec, data=lockdown_data(kind))
    message = str(caught.value)
    assert caught.value.reason is ReasonCode.WHERE_INVALID
    assert message.startswith("data.where:") and "file access is not allowed in a filter" in message
    assert "secret-token-4711" not in message and "Permission Error" not in message


def test_where_reading_a_file_in_a_proxy_scan_spec_is_refused(secret_file: Path) -> None:
    spec = copy.deepcopy(BASE_SPEC) | {"data": {"where": f"(SELECT count(*) FROM read_csv('{secret_file}')) > 0"},
                                       "proxies": {}}
    with pytest.raises(DataError) as caught:
        audit.run(spec, data=lockdown_data("loaded"))
    assert caught.value.reason is ReasonCode.WHERE_INVALID


def test_bad_where_on_loaded_table_keeps_its_message() -> None:
    spec = copy.deepcopy(BASE_SPEC) | {"data": {"where": "grop = 'a'"}}
    with pytest.raises(DataError) as caught:
        audit.run(spec, data=lockdown_data("loaded"))
    assert caught.value.reason is ReasonCode.WHERE_INVALID
    assert "did you mean 'group'" in str(caught.value)


def test_relations_of_in_memory_data_are_locked() -> None:
    from audit.sources import open_relation

    spec, base_dir = audit.load_spec(copy.deepcopy(BASE_SPEC))
    for kind in ("loaded", "pandas", "polars", "pyarrow"):
        relation = open_relation(spec, base_dir, lockdown_data(kind))
        assert relation.aggregate("count(*)").fetchall() == [(600,)]
        with pytest.raises(duckdb.PermissionException):
            relation.query("t", f"SELECT * FROM t, read_csv('{EXAMPLES / 'compas' / 'spec.yaml'}')").fetchall()


# --------------------------------------------------------------------------- LoadedTable, profiles, preview


SMALL = b"race,sex,flag,score\nA,f,1,0.5\nB,m,0,\nA,,1,0.25\nC,f,0,1.0\nA,m,1,0.75\n"


def test_loaded_table_properties(tmp_path: Path) -> None:
    loaded = load_table(MemoryFile("small.csv", SMALL))
    assert isinstance(loaded, LoadedTable) and loaded.name == "small.csv"
    assert (loaded.rows, loaded.columns) == (5, ["race", "sex", "flag", "score"])
    assert loaded.types == ["VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR"]      # values as written
    on_disk = tmp_path / "small.csv"
    on_disk.write_bytes(SMALL)
    relation, _ = open_table(on_disk, duckdb.connect())
    assert loaded.types == [str(t) for t in relation.types]
    from_disk = load_table(on_disk)
    assert from_disk.name == "small.csv" and from_disk.info.path == str(on_disk.resolve())
    assert from_disk.table.equals(loaded.table)
    assert "5 rows, 4 columns" in repr(loaded) and "0.5" not in repr(loaded)
    assert relation_of(loaded).filter("race = 'A'").aggregate(
        "sum(flag::INTEGER), sum(score::DOUBLE)").fetchall() == [(3, 1.5)]


def test_column_profiles_of_upload() -> None:
    loaded = load_table(MemoryFile("small.csv", SMALL))
    rows, profiles = column_profiles(loaded)
    assert rows == 5
    by_name = {p.name: p for p in profiles}
    assert [p.name for p in profiles] == loaded.columns
    assert by_name["race"].top == (("A", 3), ("B", 1), ("C", 1))
    assert (by_name["race"].distinct, by_name["race"].missing, by_name["race"].type) == (3, 0, "VARCHAR")
    assert (by_name["sex"].distinct, by_name["sex"].missing) == (2, 1)
    assert by_name["flag"].top == (("1", 3), ("0", 2)) and by_name["flag"].binary and by_name["flag"].numeric
    assert (by_name["score"].missing, by_name["score"].type, by_name["score"].numeric) == (1, "VARCHAR", True)
    assert column_profiles(loaded) == profile(relation_of(loaded))
    _, few = column_profiles(loaded, max_values=2)
    assert {p.name: p.top for p in few}["race"] == ()            # 3 values > 2: not listed


def test_preview_of_upload() -> None:
    loaded = load_table(MemoryFile("small.csv", SMALL))
    head = preview(loaded, rows=2)
    assert list(head.columns) == loaded.columns and len(head) == 2
    assert head["race"].tolist() == ["A", "B"] and head["flag"].tolist() == ["1", "0"]
    assert head["score"].iloc[0] == "0.5" and pd.isna(head["score"].iloc[1])
    assert len(preview(loaded)) == 5 and len(preview(loaded, rows=0)) == 0
    head.loc[0, "race"] = "changed"
    assert preview(loaded, rows=1)["race"].tolist() == ["A"]     # a copy: the loaded rows are unchanged
    for bad in (-1, 2.5, True):
        with pytest.raises(UsageError):
            preview(loaded, rows=bad)  # type: ignore[arg-type]
