"""Tests of audit.readers: every file format, encoding, delimiter and bad input.

Test files are written to ``tmp_path``; the only shared file read is the real
COMPAS CSV.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb
import openpyxl
import pytest

from audit import readers
from audit.errors import DataError, ReasonCode, SpecError
from audit.readers import ReadOptions, TableInfo, detect_format, file_sha256, open_table

COMPAS = Path("/work/shared/data/compas-scores-two-years.csv")


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    yield connection
    connection.close()


def write(path: Path, data: bytes | str, encoding: str = "utf-8") -> Path:
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


def rows(relation: duckdb.DuckDBPyRelation) -> list[tuple]:
    return relation.fetchall()


def count(relation: duckdb.DuckDBPyRelation) -> int:
    return relation.aggregate("count(*)").fetchall()[0][0]


def fails(path: Path | str, con: duckdb.DuckDBPyConnection, reason: ReasonCode, name: str | None = None,
          options: ReadOptions = ReadOptions()) -> str:
    with pytest.raises(DataError) as caught:
        open_table(path, con, options=options)
    assert caught.value.reason is reason, str(caught.value)
    message = str(caught.value)
    assert (name or Path(path).name) in message
    assert "Traceback" not in message and "Invalid Input Error" not in message
    return message


# --------------------------------------------------------------------------- good CSV files


def test_utf8_vietnamese_round_trips(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    text = "id,city,group\n1,Thành phố Hồ Chí Minh,Kinh\n2,Đà Nẵng,Chăm\n3,Hà Nội,Tày\n"
    path = write(tmp_path / "vn.csv", text)
    relation, info = open_table(path, con)
    assert relation.columns == ["id", "city", "group"]
    assert rows(relation) == [("1", "Thành phố Hồ Chí Minh", "Kinh"), ("2", "Đà Nẵng", "Chăm"),
                              ("3", "Hà Nội", "Tày")]
    assert info == TableInfo(path=str(path.resolve()), format="csv", encoding="utf-8", encoding_detected=True,
                             delimiter=",", sha256=hashlib.sha256(text.encode()).hexdigest(),
                             size_bytes=len(text.encode()))


def test_utf8_bom_not_in_first_column_name(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = write(tmp_path / "bom.csv", "\ufeffrace,score\nKinh,1\nHoa,0\n")
    relation, info = open_table(path, con)
    assert relation.columns == ["race", "score"]
    assert rows(relation.filter("race = 'Hoa'")) == [("Hoa", "0")]
    assert (info.encoding, info.encoding_detected) == ("utf-8-sig", True)


def test_cp1252_detected_and_decoded(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    text = "id,name,place\n1,Müller,café\n2,Dupont,Köln\n3,Ørsted,São Paulo\n"
    path = write(tmp_path / "western.csv", text, "cp1252")
    relation, info = open_table(path, con)
    assert relation.columns == ["id", "name", "place"]
    assert rows(relation) == [("1", "Müller", "café"), ("2", "Dupont", "Köln"), ("3", "Ørsted", "São Paulo")]
    assert (info.encoding, info.encoding_detected, info.delimiter) == ("cp1252", True, ",")
    # SQL runs on the relation like on any other (values are text as written).
    assert relation.filter("id > '1'").aggregate("count(*)").fetchall() == [(2,)]


def test_utf16_with_bom(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = write(tmp_path / "wide.csv", "name,city\nAn,Đà Nẵng\nBình,Huế\n", "utf-16")
    relation, info = open_table(path, con)
    assert relation.columns == ["name", "city"]
    assert rows(relation) == [("An", "Đà Nẵng"), ("Bình", "Huế")]
    assert (info.encoding, info.encoding_detected) == ("utf-16", True)


def test_declared_encoding_is_used(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = write(tmp_path / "latin.csv", "name,n\nMüller,1\ncafé,2\n", "latin-1")
    relation, info = open_table(path, con, options=ReadOptions(encoding="latin-1"))
    assert rows(relation) == [("Müller", "1"), ("café", "2")]
    assert (info.encoding, info.encoding_detected) == ("iso8859-1", False)


@pytest.mark.parametrize("delimiter", [";", "\t", "|", ","])
def test_delimiter_detected(tmp_path: Path, con: duckdb.DuckDBPyConnection, delimiter: str) -> None:
    lines = ["name", "amount", "city"], ["Anna", "2,5" if delimiter != "," else "2.5", "Gent"], ["Bo", "3", "Lier"]
    path = write(tmp_path / "delim.csv", "".join(delimiter.join(line) + "\n" for line in lines))
    relation, info = open_table(path, con)
    assert relation.columns == ["name", "amount", "city"]
    assert count(relation) == 2
    assert rows(relation)[0][0] == "Anna" and rows(relation)[1][2] == "Lier"
    assert info.delimiter == delimiter


def test_semicolon_keeps_decimal_comma_text(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = write(tmp_path / "semi.csv", "a;b;c\n1;2,5;x\n3;4,5;y\n")
    relation, info = open_table(path, con)
    assert relation.columns == ["a", "b", "c"]
    assert rows(relation) == [("1", "2,5", "x"), ("3", "4,5", "y")]
    assert info.delimiter == ";"


def test_declared_delimiter_used_as_given(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = write(tmp_path / "declared.csv", "a;b\n1;x\n2;y\n")
    relation, info = open_table(path, con, options=ReadOptions(delimiter=";"))
    assert relation.columns == ["a", "b"] and info.delimiter == ";"
    relation, info = open_table(path, con, options=ReadOptions(delimiter="|"))
    assert relation.columns == ["a;b"] and info.delimiter == "|"   # declared: not second-guessed


def test_single_column_is_not_a_delimiter_problem(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = write(tmp_path / "race.csv", "race\nBlack\nWhite\nAsian\nWhite\n")
    relation, info = open_table(path, con)
    assert relation.columns == ["race"]
    assert rows(relation.aggregate("race, count(*) AS n", "race").order("race")) == [
        ("Asian", 1), ("Black", 1), ("White", 2)]
    assert info.delimiter == ","


def test_every_value_is_text_as_written(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    body = "".join(f"{i},{i % 7}\n" for i in range(120_000))
    odd = "yes,TRUE\nt,1.0\n01,1e2\n007,05/01/2024\n3.0, Kinh \n"
    path = write(tmp_path / "late.csv", "id,value\n" + body + "120000,unknown\n" + odd)
    relation, _ = open_table(path, con)
    assert [str(t) for t in relation.types] == ["VARCHAR", "VARCHAR"]
    assert count(relation) == 120_006
    assert rows(relation.filter("id = '120000'")) == [("120000", "unknown")]
    assert rows(relation.filter("id = '5'")) == [("5", "5")]
    assert relation.aggregate("count(value)").fetchall() == [(120_006,)]   # no silent NULLs
    assert rows(relation.limit(10, offset=120_001)) == [("yes", "TRUE"), ("t", "1.0"), ("01", "1e2"),
                                                      ("007", "05/01/2024"), ("3.0", " Kinh ")]


def test_na_strings_stay_text_empty_fields_are_null(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = write(tmp_path / "na.csv", "id,label,note\n1,N/A,x\n2,NA,NULL\n3,,\n")
    relation, _ = open_table(path, con)
    assert rows(relation) == [("1", "N/A", "x"), ("2", "NA", "NULL"), ("3", None, None)]


def test_declared_missing_markers_are_null_exactly_as_written(tmp_path: Path,
                                                             con: duckdb.DuckDBPyConnection) -> None:
    text = "id,label,note\n1,N/A,x\n2,NA,NULL\n3,,na\n"
    for encoding in ("utf-8", "cp1252"):
        path = write(tmp_path / f"na-{encoding}.csv", text.replace("x", "café"), encoding)
        relation, _ = open_table(path, con, options=ReadOptions(missing=("NA", "NULL")))
        assert rows(relation) == [("1", "N/A", "café"), ("2", None, None), ("3", None, "na")]


def test_duplicate_header_names(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = write(tmp_path / "dup.csv", "a,b,a,a_1,a\n1,2,3,4,5\n")
    relation, _ = open_table(path, con)
    assert relation.columns == ["a", "b", "a_1", "a_1_1", "a_2"]
    assert rows(relation) == [("1", "2", "3", "4", "5")]


def test_duplicate_header_names_same_on_pandas_path(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = write(tmp_path / "dup1252.csv", "a,b,a,a_1,a\nMüller,2,3,4,5\ncafé,6,7,8,9\n", "cp1252")
    relation, info = open_table(path, con)
    assert info.encoding == "cp1252"
    assert relation.columns == ["a", "b", "a_1", "a_1_1", "a_2"]
    assert rows(relation)[1] == ("café", "6", "7", "8", "9")


def test_compas_file(con: duckdb.DuckDBPyConnection) -> None:
    relation, info = open_table(COMPAS, con)
    assert count(relation) == 7214
    columns = relation.columns
    assert columns.index("decile_score") == 11 and "decile_score_1" in columns
    assert "priors_count" in columns and "priors_count_1" in columns
    assert len(columns) == len(set(columns)) == 53
    first = rows(relation.filter("id = '1'").select("name, race, decile_score, two_year_recid"))
    assert first == [("miguel hernandez", "Other", "1", "0")]
    assert info.size_bytes == COMPAS.stat().st_size and info.delimiter == ","
    assert info.sha256 == file_sha256(COMPAS)


# --------------------------------------------------------------------------- Parquet, Excel, globs


def test_parquet(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = tmp_path / "t.parquet"
    con.sql(f"COPY (SELECT * FROM (VALUES (1, 'Đà Nẵng'), (2, 'N/A')) v(id, city)) TO '{path}' (FORMAT parquet)")
    relation, info = open_table(path, con)
    assert relation.columns == ["id", "city"]
    assert rows(relation.order("id")) == [(1, "Đà Nẵng"), (2, "N/A")]
    assert (info.format, info.encoding, info.delimiter) == ("parquet", None, None)
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_parquet_glob(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    for part in (1, 2):
        con.sql(f"COPY (SELECT {part} AS part, range AS i FROM range(3)) TO '{tmp_path / f'p{part}.parquet'}'"
                " (FORMAT parquet)")
    relation, info = open_table(tmp_path / "*.parquet", con)
    assert count(relation) == 6
    assert rows(relation.aggregate("part, count(*)", "part").order("part")) == [(1, 3), (2, 3)]
    files = sorted(tmp_path.glob("*.parquet"))
    digests = "".join(hashlib.sha256(f.read_bytes()).hexdigest() for f in files)
    assert info.sha256 == hashlib.sha256(digests.encode("ascii")).hexdigest()
    assert info.size_bytes == sum(f.stat().st_size for f in files)
    assert info.path == os.path.abspath(tmp_path / "*.parquet")


def test_csv_glob(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    write(tmp_path / "a.csv", "g,n\nx,1\n")
    write(tmp_path / "b.csv", "g,n\ny,2\nz,3\n")
    relation, info = open_table(tmp_path / "*.csv", con)
    assert rows(relation.order("n")) == [("x", "1"), ("y", "2"), ("z", "3")]
    assert info.size_bytes == 8 + 12


def excel(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Data"
    for row in (["name", "score", "note", "name"], ["Müller", 1, "N/A", "a"], ["Đà Nẵng", 2, 3, None]):
        sheet.append(row)
    workbook.create_sheet("Notes").append(["text"])
    workbook.save(path)
    return path


def test_excel_first_sheet(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    relation, info = open_table(excel(tmp_path / "book.xlsx"), con)
    assert relation.columns == ["name", "score", "note", "name_1"]
    assert rows(relation) == [("Müller", "1", "N/A", "a"), ("Đà Nẵng", "2", "3", None)]
    assert (info.format, info.encoding, info.encoding_detected) == ("excel", None, False)


def test_excel_missing_sheet_lists_sheets(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = excel(tmp_path / "book.xlsx")
    message = fails(path, con, ReasonCode.DATA_UNREADABLE, options=ReadOptions(sheet="Dta"))
    assert "'Data'" in message and "'Notes'" in message and "data.sheet" in message
    fails(path, con, ReasonCode.DATA_UNREADABLE, options=ReadOptions(sheet=5))


def test_excel_header_only_sheet_is_empty(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    message = fails(excel(tmp_path / "book.xlsx"), con, ReasonCode.DATA_EMPTY, options=ReadOptions(sheet="Notes"))
    assert "'text'" in message


# --------------------------------------------------------------------------- bad input


def test_missing_file_suggests_similar_names(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    write(tmp_path / "compas.csv", "a\n1\n")
    message = fails(tmp_path / "compass.csv", con, ReasonCode.DATA_NOT_FOUND)
    assert "did you mean 'compas.csv'" in message


def test_missing_folder(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    fails(tmp_path / "nowhere" / "x.csv", con, ReasonCode.DATA_NOT_FOUND, "x.csv")


def test_glob_matching_nothing(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    fails(tmp_path / "*.parquet", con, ReasonCode.DATA_NOT_FOUND, "*.parquet")


def test_directory_is_unreadable(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    folder = tmp_path / "exports.csv"
    folder.mkdir()
    assert "folder" in fails(folder, con, ReasonCode.DATA_UNREADABLE)


def test_unsupported_extension(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = write(tmp_path / "data.json", "{}")
    message = fails(path, con, ReasonCode.DATA_UNREADABLE)
    assert ".parquet" in message and ".xlsx" in message
    with pytest.raises(DataError):
        detect_format("x.sav")
    assert [detect_format(n) for n in ("a.TSV", "b.txt", "c.pq", "d.xlsm")] == ["csv", "csv", "parquet", "excel"]


@pytest.mark.parametrize(("name", "data"), [("zero.csv", b""), ("zero.parquet", b""), ("zero.xlsx", b"")])
def test_zero_byte_file_is_empty(tmp_path: Path, con: duckdb.DuckDBPyConnection, name: str, data: bytes) -> None:
    assert "has no rows" in fails(write(tmp_path / name, data), con, ReasonCode.DATA_EMPTY)


def test_whitespace_only_is_empty(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    assert "has no rows" in fails(write(tmp_path / "blank.csv", "  \n\n \t\n"), con, ReasonCode.DATA_EMPTY)


def test_header_only_is_empty_and_names_columns(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    message = fails(write(tmp_path / "header.csv", "race,sex,score\n"), con, ReasonCode.DATA_EMPTY)
    assert "has no rows" in message and "'race', 'sex', 'score'" in message


def test_empty_parquet(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = tmp_path / "none.parquet"
    con.sql(f"COPY (SELECT 1 AS a WHERE false) TO '{path}' (FORMAT parquet)")
    assert "'a'" in fails(path, con, ReasonCode.DATA_EMPTY)


def test_binary_garbage_csv(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    data = bytes(range(256)) * 20
    assert "binary" in fails(write(tmp_path / "garbage.csv", data), con, ReasonCode.DATA_UNREADABLE)


def test_xlsx_named_csv(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(excel(tmp_path / "book.xlsx").read_bytes())
    assert ".xlsx" in fails(path, con, ReasonCode.DATA_UNREADABLE)


def test_corrupt_parquet(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = write(tmp_path / "broken.parquet", b"PAR1" + bytes(range(200)) + b"PAR1")
    assert "not a valid Parquet file" in fails(path, con, ReasonCode.DATA_UNREADABLE)


def test_corrupt_xlsx(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    good = excel(tmp_path / "good.xlsx").read_bytes()
    path = write(tmp_path / "broken.xlsx", good[: len(good) // 2])
    assert "not a valid .xlsx" in fails(path, con, ReasonCode.DATA_UNREADABLE)


def test_header_in_one_column_names_the_delimiter(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = write(tmp_path / "ragged.csv", "race,sex\nBlack,M\nWhite,F,extra\nAsian,F\n")
    message = fails(path, con, ReasonCode.DATA_UNREADABLE)
    assert "data.delimiter: ','" in message and "line 3 has 3 fields" in message


def test_ragged_row_with_declared_delimiter(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = write(tmp_path / "ragged.csv", "race,sex\nBlack,M\nWhite,F,extra\nAsian,F\n")
    message = fails(path, con, ReasonCode.DATA_UNREADABLE, options=ReadOptions(delimiter=","))
    assert "line 3 has 3 fields but the header has 2" in message


def test_declared_encoding_that_does_not_fit(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = write(tmp_path / "utf8.csv", "name\nMüller\n")
    message = fails(path, con, ReasonCode.DATA_ENCODING, options=ReadOptions(encoding="ascii"))
    assert "'ascii'" in message and "offset 6" in message and "0xc3" in message


def test_undetectable_encoding(tmp_path: Path, con: duckdb.DuckDBPyConnection,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "_detect_encoding", lambda sample: None)
    path = write(tmp_path / "odd.csv", "name\nMüller\n", "cp1252")
    message = fails(path, con, ReasonCode.DATA_ENCODING)
    assert "not UTF-8" in message and "0xfc at offset 6" in message
    assert "UTF-8" in message and "data.encoding" in message


def test_invalid_options_are_spec_errors() -> None:
    with pytest.raises(SpecError) as caught:
        ReadOptions(encoding="utf-9", delimiter=";;", sheet=-1)
    assert caught.value.reason is ReasonCode.SPEC_INVALID
    assert [p.location for p in caught.value.problems] == ["data.encoding", "data.delimiter", "data.sheet"]


def test_file_sha256_streams(tmp_path: Path) -> None:
    data = os.urandom((1 << 20) + 123)
    path = write(tmp_path / "blob.csv", data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
    with pytest.raises(DataError) as caught:
        file_sha256(tmp_path / "missing.csv")
    assert caught.value.reason is ReasonCode.DATA_NOT_FOUND


def test_excel_cells_become_the_text_excel_shows(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    import datetime

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in (["code", "flag", "when", "x"], ["01", True, datetime.datetime(2024, 1, 5), 1.0],
                ["1", False, datetime.datetime(2024, 1, 5, 9, 30), 0.1], [" Kinh", "yes", "05/01/2024", "NA"]):
        sheet.append(row)
    workbook.save(tmp_path / "odd.xlsx")
    relation, _ = open_table(tmp_path / "odd.xlsx", con, options=ReadOptions(missing=("NA",)))
    assert [str(t) for t in relation.types] == ["VARCHAR"] * 4
    assert rows(relation) == [("01", "TRUE", "2024-01-05", "1"), ("1", "FALSE", "2024-01-05T09:30:00", "0.1"),
                              (" Kinh", "yes", "05/01/2024", None)]
