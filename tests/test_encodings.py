"""Tests of the encoding of CSV files: audit.encodings, and how audit.readers uses it.

Files are written to ``tmp_path`` byte for byte. Vietnamese text in cp1258 is
written with Python's cp1258 codec where it can encode a letter; a letter the
code page has no precomposed form for (ắ, ệ, ờ) is written as cp1258 writes
it, base letter then combining tone mark, and so it is read back: values are
kept as written, never normalised. TCVN3 and VNI bytes, which no Python codec
writes, are written by hand from their tables.
"""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import pytest

from audit import encodings, readers
from audit.encodings import Part, Refusal, choose, describe, locate
from audit.errors import DataError, ReasonCode
from audit.readers import MemoryFile, ReadOptions, open_table


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    yield connection
    connection.close()


def table(*values: bytes) -> bytes:
    """A CSV file with a ``group`` column holding each value twice, and a ``flag`` column."""
    return b"group,flag\n" + b"".join(v + b"," + flag + b"\n" for v in values for flag in (b"0", b"1"))


def groups(data: bytes, tmp_path: Path, con: duckdb.DuckDBPyConnection,
           options: ReadOptions = ReadOptions()) -> tuple[set[str], str | None, bool]:
    """The distinct groups of ``data`` read from a file, the encoding used, and whether it was detected."""
    path = tmp_path / "data.csv"
    path.write_bytes(data)
    relation, info = open_table(path, con, options=options)
    return {row[0] for row in relation.fetchall()}, info.encoding, info.encoding_detected


def refusal(data: bytes, tmp_path: Path, con: duckdb.DuckDBPyConnection,
            options: ReadOptions = ReadOptions(), reason: ReasonCode = ReasonCode.DATA_ENCODING) -> str:
    path = tmp_path / "data.csv"
    path.write_bytes(data)
    with pytest.raises(DataError) as caught:
        open_table(path, con, options=options)
    assert caught.value.reason is reason, str(caught.value)
    message = str(caught.value)
    assert message.startswith(f"Cannot read {path}") or message.startswith(f"Cannot decode {path}"), message
    return message


BOM = b"\xef\xbb\xbf"
# cp1258 as Windows writes it: Python's codec for what it can encode, base + tone mark for the rest
HMONG, E_DE, TAY, NUNG, KHMER, CHAM = (w.encode("cp1258") for w in ("Hmông", "Ê Đê", "Tày", "Nùng", "Khmer", "Chăm"))
DAK_LAK = b"\xd0\xe3\xeck L\xe3\xeck"              # Đ, ă + U+0301 (0xec), k
VIET_NAM = b"Vi\xea\xf2t Nam"                      # ê + U+0323 (0xf2)
MUONG = b"M\xfd\xf5\xccng"                         # ư (0xfd), ơ (0xf5) + U+0300 (0xcc)


# --------------------------------------------------------------------------- Vietnamese code page


def test_cp1258_names_decode_as_written(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    found, encoding, detected = groups(table(b"Kinh", HMONG, E_DE, TAY, NUNG, KHMER, CHAM, DAK_LAK), tmp_path, con)
    assert (encoding, detected) == ("cp1258", True)
    assert found == {"Kinh", "Hmông", "Ê Đê", "Tày", "Nùng", "Khmer", "Chăm", "Đă\u0301k Lă\u0301k"}
    assert "Đắk Lắk" not in found                  # decoded, not normalised to NFC


def test_short_cp1258_file_is_not_read_as_cp1252(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    found, encoding, _ = groups(table(b"Kinh", E_DE), tmp_path, con)
    assert encoding == "cp1258"
    assert found == {"Kinh", "Ê Đê"}               # cp1252 would give "Ê Ðê"


def test_long_cp1258_file(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    body = b"".join(b"%d,%s,%d\n" % (i, name, i % 2) for i in range(3000)
                    for name in (b"Kinh", MUONG, VIET_NAM, DAK_LAK, TAY) if i % 5 == len(name) % 5)
    path = tmp_path / "long.csv"
    path.write_bytes(b"id,group,flag\n" + body)
    relation, info = open_table(path, con)
    assert info.encoding == "cp1258"
    found = {row[0] for row in relation.project("\"group\"").distinct().fetchall()}
    assert found == {"Kinh", "Mươ\u0300ng", "Viê\u0323t Nam", "Đă\u0301k Lă\u0301k", "Tày"}


def test_cp1258_upload_reads_like_the_file(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    data = table(b"Kinh", E_DE, DAK_LAK)
    relation, info = open_table(MemoryFile("people.csv", data), con)
    assert (info.encoding, info.encoding_detected) == ("cp1258", True)
    assert {row[0] for row in relation.fetchall()} == groups(data, tmp_path, con)[0] == {
        "Kinh", "Ê Đê", "Đă\u0301k Lă\u0301k"}


# --------------------------------------------------------------------------- other code pages


@pytest.mark.parametrize(("codec", "names"), [
    ("cp1252", ["François", "Müller", "Hélène", "Jürgen", "Strauß", "Zoë"]),
    ("cp1250", ["Dvořák", "Łódź", "Kraków", "Němec", "Čeština"]),
    ("cp1251", ["Русские", "Українці", "Татары"]),
    ("cp1254", ["Türk", "Boşnak", "İstanbul", "Yörük", "Çerkez"]),
    ("iso8859-15", ["cœur", "Œuvre", "12 €"]),
])
def test_legacy_code_pages(tmp_path: Path, con: duckdb.DuckDBPyConnection, codec: str, names: list[str]) -> None:
    found, encoding, detected = groups(table(*(n.encode(codec) for n in names)), tmp_path, con)
    assert (encoding, detected, found) == (codec, True, set(names))


def test_french_and_german_names_read_the_same_in_cp1252_and_cp1258_and_are_named_cp1252(
        tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    names = [n.encode("cp1252") for n in ("Müller", "Hélène", "François")]
    assert all(n.decode("cp1252") == n.decode("cp1258") for n in names)
    assert choose([Part(table(*names))]).alike[:2] == ("cp1252", "cp1258")
    assert groups(table(*names), tmp_path, con)[1] == "cp1252"


# --------------------------------------------------------------------------- refusals


def test_mixed_utf8_and_cp1258_is_refused_naming_the_first_bad_line(tmp_path: Path,
                                                                      con: duckdb.DuckDBPyConnection) -> None:
    data = table("Hmông".encode(), "Ê Đê".encode()) + HMONG + b",0\n"
    message = refusal(data, tmp_path, con)
    assert "it mixes encodings: line 2 is UTF-8 ('Hmông,0')" in message
    assert "but line 6 (byte 0xf4 at offset 51, invalid continuation byte: 'Hm\\xf4ng,0') is not" in message
    assert "set data.encoding" in message and "HmûÇng" not in message


def test_declared_encoding_reads_a_mixed_file_as_given(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    data = table("Hmông".encode(), HMONG)
    found, encoding, detected = groups(data, tmp_path, con, ReadOptions(encoding="cp1258"))
    assert (encoding, detected, found) == ("cp1258", False, {"HmĂ´ng", "Hmông"})


def test_two_plausible_readings_are_refused_naming_both(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    message = refusal(table(b"Kinh", CHAM), tmp_path, con)
    assert "its encoding cannot be told apart" in message
    assert "'Chãm,0' in cp1252" in message and "'Chăm,0' in cp1258" in message and "line 4" in message
    assert "Set data.encoding in the spec to the right one ('cp1252' or 'cp1258')" in message


def test_the_spec_settles_an_ambiguous_file(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    found, _, detected = groups(table(b"Kinh", CHAM), tmp_path, con, ReadOptions(encoding="cp1258"))
    assert (found, detected) == ({"Kinh", "Chăm"}, False)


# TCVN3 (ABC), from its table: à b5, á b8, ì d7, ộ e9, ồ e5, ờ ea, ệ d6, ư ad, Đ a7
TCVN3_LINES = (b"H\xb5 N\xe9i", b"Th\xb8i B\xd7nh", b"\xa7\xe5ng Nai", b"M\xad\xeang", b"Vi\xd6t")
# VNI-Windows: a+f8 à, a+f9 á, o+e4 ộ, o+e0 ồ, e+e4 ệ, ec ì, d1 Đ, f6 ư, f4+f8 ờ
VNI_LINES = (b"Ha\xf8 No\xe4i", b"Tha\xf9i B\xecnh", b"\xd1o\xe0ng Nai", b"Ng\xf6\xf4\xf8i", b"Vie\xe4t")


def test_tcvn3_is_refused_with_how_to_convert(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    message = refusal(table(*TCVN3_LINES), tmp_path, con)
    assert "Vietnamese text in the TCVN3 (ABC) font encoding" in message
    assert "line 2 shows as 'Hµ Néi,0' but reads 'Hà Nội,0' in TCVN3 (ABC)" in message
    assert "UniKey" in message and "source TCVN3 (ABC), destination Unicode" in message and "UTF-8" in message


def test_vni_is_refused_with_how_to_convert(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    message = refusal(table(*VNI_LINES), tmp_path, con)
    assert "Vietnamese text in the VNI (VNI-Windows) font encoding" in message
    assert "line 2 shows as 'Haø Noäi,0' but reads 'Hà Nội,0' in VNI (VNI-Windows)" in message
    assert "source VNI (VNI-Windows), destination Unicode" in message


@pytest.mark.parametrize("lines", [TCVN3_LINES[:1], VNI_LINES[:1]], ids=["tcvn3", "vni"])
def test_one_line_of_a_font_encoding_is_enough(lines: tuple[bytes, ...]) -> None:
    with pytest.raises(Refusal, match="reads 'Hà Nội' in"):
        choose([Part(b"place\n" + lines[0] + b"\n")])


def test_font_encoding_readers_follow_the_tables() -> None:
    assert encodings._tcvn3(b"M\xad\xeang \xa7\xe5ng Vi\xd6t") == "Mường Đồng Việt"
    assert encodings._vni(b"Ng\xf6\xf4\xf8i \xd1o\xe0ng Vie\xe4t") == "Người Đồng Việt"
    assert encodings._vni(b"HA\xd8 NO\xc4I") == "HÀ NỘI"                 # capitals use the capital marks
    assert encodings._vni(b"x\xf8") == "x\ufffd"                          # a mark after a consonant is nothing


def test_declared_encoding_that_fails_names_the_line(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    message = refusal(table(b"Kinh", "Hmông".encode()), tmp_path, con, ReadOptions(encoding="ascii"))
    assert message.startswith(f"Cannot decode {tmp_path / 'data.csv'} with the declared encoding 'ascii': it "
                              "cannot decode line 4 (byte 0xc3 at offset 27, ordinal not in range(128): "
                              "'Hm\\xc3\\xb4ng,0')")


def test_latin1_declared_on_utf8_is_used_as_given(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    # Nothing to detect: latin-1 decodes any bytes. The spec's word is final (the text is mojibake).
    found, encoding, detected = groups(table("Hmông".encode()), tmp_path, con, ReadOptions(encoding="latin-1"))
    assert (found, encoding, detected) == ({"HmÃ´ng"}, "iso8859-1", False)


def test_byte_order_mark_not_borne_out(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    message = refusal(BOM + table(b"Kinh", E_DE), tmp_path, con)
    assert "it starts with a UTF-8 byte-order mark, but line 4" in message and "'\\xca \\xd0\\xea,0'" in message


def test_nul_byte_in_a_utf8_file_is_refused(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    message = refusal(table(b"Kinh", b"T\x00y"), tmp_path, con, reason=ReasonCode.DATA_UNREADABLE)
    assert "line 4 holds a NUL byte (0x00) at offset 26: 'T\\x00y,0'" in message


def test_mostly_control_characters_is_binary(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    message = refusal(bytes(range(1, 32)) * 40 + b"\xff", tmp_path, con, reason=ReasonCode.DATA_UNREADABLE)
    assert "mostly control characters" in message


def test_undetectable_bytes(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    message = refusal(b"group,flag\n" + bytes(range(0x80, 0x100)) + b",1\n", tmp_path, con)
    assert "the file is not UTF-8 (UTF-8 cannot decode line 2 (byte 0x80 at offset 11" in message
    assert "could not be detected with confidence (tried cp1252, cp1258, cp1250, cp1251, cp1254, iso8859-15)" \
        in message


# --------------------------------------------------------------------------- byte-order marks


def test_utf16_and_utf8_with_byte_order_marks(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    text = "group,flag\nKinh,0\nHmông,1\nĐắk Lắk,0\n"
    expected = {"Kinh", "Hmông", "Đắk Lắk"}
    assert groups(text.encode("utf-16"), tmp_path, con) == (expected, "utf-16", True)
    assert groups(BOM + text.encode(), tmp_path, con) == (expected, "utf-8-sig", True)


# --------------------------------------------------------------------------- big files


def test_bytes_past_the_first_mebibytes_are_read_too(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    # 4 MiB of ASCII, then the only non-ASCII line: the choice is made on a window around it.
    ascii_part = b"group,flag\n" + b"Kinh,0\n" * (5 << 17)
    found, encoding, _ = groups(ascii_part + E_DE + b",1\n" + DAK_LAK + b",0\n", tmp_path, con)
    assert (encoding, found) == ("cp1258", {"Kinh", "Ê Đê", "Đă\u0301k Lă\u0301k"})


def test_new_letters_late_in_the_file_are_checked(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    # The first 4 MiB read the same in cp1252 and cp1258 ("Tày"); "Ê Đê" comes later and decides.
    head = b"group,flag\n" + TAY + b",0\n" + b"Kinh,1\n" * (5 << 17)
    found, encoding, _ = groups(head + E_DE + b",1\n", tmp_path, con)
    assert (encoding, found) == ("cp1258", {"Kinh", "Tày", "Ê Đê"})


def test_utf8_late_in_a_legacy_file_is_a_mixed_file(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    head = b"group,flag\n" + E_DE + b",0\n" + b"Kinh,1\n" * (5 << 17)
    message = refusal(head + "Đắk Lắk,1\n".encode(), tmp_path, con)
    assert "it mixes encodings: line 655363 is UTF-8 ('Đắk Lắk,1'), but line 2" in message


def test_a_later_line_the_chosen_code_page_cannot_decode(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    # cp1258 has no 0x8a; the first lines are clearly cp1258.
    data = table(E_DE, DAK_LAK) + b"Kinh,0\n" * (5 << 17) + b"S\x8aS,1\n"
    message = refusal(data, tmp_path, con)
    assert "its first lines read as cp1258, but cp1258 cannot decode line 655366 (byte 0x8a at offset 4587570" \
        in message
    assert "'S\\x8aS,1'" in message


# --------------------------------------------------------------------------- the choice itself


@pytest.mark.parametrize("word", [
    "Ðê",                  # Icelandic has ð but not ê: no one language spells cp1252's reading of cp1258 "Đê"
    "HmûÇng",              # a capital after a lowercase letter: hp-roman8's reading of "Hmông" half UTF-8
    "Ðãìk",                # cp1252's reading of cp1258 "Đắk"
    "Kuèera",              # è before a vowel: cp1252's reading of cp1250 "Kučera"
    "Khžng",               # no vowel
    "Mьller",              # Latin and Cyrillic in one word
])
def test_implausible_readings(word: str) -> None:
    assert encodings._assess(word) is None


def test_assess_rules() -> None:
    assert encodings._assess("Müller") >= {"de", "fr", "hu", "tr"}
    assert encodings._assess("Đă\u0301k") == {"vi"}                     # tone mark after a vowel
    assert encodings._assess("cos\u0301") is None                        # a tone mark after a consonant
    assert encodings._assess("Gdañsk") is None                           # Spanish ñ only before a vowel
    assert encodings._assess("Gdańsk") == {"pl"}
    assert encodings._assess("Москва") == {"ru", "uk", "bg", "sr"}
    assert encodings._assess("Рк") is None                               # no vowel
    assert encodings._assess("Hµ") is None and encodings._assess("Th¸i") is None   # signs inside a word
    assert encodings._assess("€") == frozenset() and encodings._assess("Coca®") == frozenset()
    assert encodings._assess("l’école") >= {"fr"} and encodings._assess("col·lecció") >= {"ca"}


def test_vietnamese_syllables() -> None:
    for word in ("Hà", "Nội", "Nguyễn", "Mường", "giáy", "quý", "Đắk", "Hmông", "H’Mông", "ĐắkLắk"):
        assert encodings._vietnamese(word), word
    for word in ("Săo", "Camơes", "Hộlốne", "Chữữ", "éờ", "Tŕy"):      # "Tŕy": a tone mark on a consonant
        assert not encodings._vietnamese(word), word


def test_choose_returns_none_when_nothing_reads_as_text() -> None:
    assert choose([Part(b"x\n" + bytes(range(0x80, 0x100)) + b"\n")]) is None


def test_detection_hook_is_replaceable(tmp_path: Path, con: duckdb.DuckDBPyConnection,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    monkeypatch.setattr(readers, "_detect_encoding", lambda sample: seen.append(len(sample)) or None)
    message = refusal(table(b"Kinh", E_DE), tmp_path, con)
    assert seen == [1] and "could not be detected" in message


# --------------------------------------------------------------------------- locating bad bytes


@pytest.mark.parametrize(("data", "number", "line"), [
    (b"a\nb\nc\xffd\n", 3, "c\\xffd"),
    (b"a\r\nb\r\nc\xffd\r\n", 3, "c\\xffd"),
    (b"a\rb\rc\xffd\r", 3, "c\\xffd"),                  # old Mac line ends
    (b"\xff", 1, "\\xff"),
])
def test_locate(data: bytes, number: int, line: str) -> None:
    assert locate(lambda: io.BytesIO(data), data.index(b"\xff"), "utf-8") == (number, line)


def test_locate_across_blocks_and_long_lines() -> None:
    data = b"x\r" + b"\n" + b"y" * (encodings._BLOCK - 3) + b"\r\n" + b"z" * 100 + b"\xff" + b"w" * 100 + b"\n"
    number, line = locate(lambda: io.BytesIO(data), data.index(b"\xff"), "utf-8")
    assert number == 3
    assert line == "…" + "z" * 60 + "\\xff" + "w" * 56 + "…"     # 60 characters each side, the escape counts


def test_describe() -> None:
    data = "name\nMüller\n".encode("cp1252")
    failure = encodings._Failure(6, b"\xfc", "invalid start byte")
    assert describe(lambda: io.BytesIO(data), failure, "utf-8") == \
        "line 2 (byte 0xfc at offset 6, invalid start byte: 'M\\xfcller')"
