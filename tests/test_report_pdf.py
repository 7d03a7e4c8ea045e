"""The report's languages, fonts and PDF: audit.report.i18n, audit.report.fonts, audit.report.pdf.

The PDF tests read the PDF back with poppler-utils (pdftotext, pdftoppm, pdffonts, pdfinfo), which
scripts/setup.sh installs when run as root; without them those tests are skipped with a reason.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import shutil
import socket
import struct
import subprocess
import time
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from babel.messages.pofile import read_po
from fontTools.ttLib import TTFont

from audit.errors import ReasonCode, UsageError
from audit.report import fonts, i18n, pdf
from audit.report.fonts import font_face_css
from audit.report.i18n import (Translator, format_date, format_integer, format_interval, format_number,
                               format_percent, languages)
from audit.report.pdf import html_to_pdf

VI_WORDS = ("Kiểm toán thuật toán", "Người bị ảnh hưởng", "đến")
# The initial report terms the catalogue must translate (more may be added).
REQUIRED_MSGIDS = (
    "Algorithmic audit", "Executive summary", "Scope and data", "Method", "Results", "Findings", "Limitations",
    "What this audit does not show", "Recommendations", "Sign-off", "Appendix", "Reproducibility manifest",
    "Glossary", "Overall verdict", "pass", "fail", "inconclusive", "undefined", "withheld", "Auditor",
    "Reviewer", "Date", "Agency", "Purpose", "Decision supported", "Who is affected", "Period of the data",
    "Audit date", "Rows", "Group", "Reference group", "Rate", "Ratio", "Difference", "Confidence interval",
    "Adjusted p-value", "Verdict", "Severity", "high", "medium", "low", "to", "selection rate",
    "false-positive rate", "false-negative rate", "sample size",
)
# str.format fields ({name}, {0}, {value:.2f}) and printf conversions (%s, %(name)d, %%).
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdifgerx%]")


def placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text))


def vi_catalogue():
    with i18n.catalogue_path("vi").open("rb") as handle:
        return read_po(handle, locale="vi")


def vi_messages() -> list:
    return [m for m in vi_catalogue() if m.id]


# --- the catalogue ------------------------------------------------------------------------------------


def test_catalogue_header_declares_vietnamese_utf8_and_one_plural_form() -> None:
    catalogue = vi_catalogue()
    headers = dict(catalogue.mime_headers)
    assert headers["Language"] == "vi"
    assert headers["Content-Type"].lower() == "text/plain; charset=utf-8"
    assert '"Content-Type: text/plain; charset=UTF-8\\n"' in i18n.catalogue_path("vi").read_text(encoding="utf-8")
    assert headers["Plural-Forms"] == "nplurals=1; plural=0;"
    assert catalogue.num_plurals == 1


def test_catalogue_holds_the_initial_report_terms() -> None:
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in vi_messages()}
    assert [msgid for msgid in REQUIRED_MSGIDS if msgid not in ids] == []


def test_every_catalogue_message_has_a_non_empty_nfc_translation() -> None:
    problems = []
    for message in vi_messages():
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not forms or not all(f.strip() for f in forms):
            problems.append(f"{message.id!r}: empty or fuzzy")
        problems += [f"{message.id!r}: not NFC" for f in forms if f != unicodedata.normalize("NFC", f)]
    assert problems == []


def test_every_catalogue_translation_keeps_the_placeholders_of_its_msgid() -> None:
    problems = []
    for message in vi_messages():
        source = message.id if isinstance(message.id, str) else message.id[1]  # plural msgid for plural forms
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        for form in forms:
            if placeholders(form) != placeholders(source):
                problems.append(f"{source!r} -> {form!r}")
    assert problems == []


def test_placeholder_pattern_finds_format_fields_and_printf_conversions() -> None:
    found = placeholders("{n} of {total:,} rows, %s and %(group)s at %.1f%%, {n}")
    assert found == Counter({"{n}": 2, "{total:,}": 1, "%s": 1, "%(group)s": 1, "%.1f": 1, "%%": 1})
    assert placeholders("{n} nhóm") != placeholders("{count} groups")


def test_catalogue_vietnamese_uses_diacritics() -> None:
    strings = {m.id: m.string for m in vi_messages() if isinstance(m.id, str)}
    assert strings["Algorithmic audit"] == "Kiểm toán thuật toán"
    assert strings["Who is affected"] == "Người bị ảnh hưởng"
    assert strings["to"] == "đến"
    assert strings["Confidence interval"] == "Khoảng tin cậy"


# --- Translator ---------------------------------------------------------------------------------------


def test_languages_are_english_and_vietnamese_and_each_translation_has_a_catalogue() -> None:
    assert languages() == ("en", "vi")
    assert i18n.catalogue_path("vi").is_file()


def test_english_is_the_message_id_itself() -> None:
    t = Translator("en")
    assert t.lang == "en"
    assert t.gettext("Results") == "Results"
    assert t._("Anything at all") == "Anything at all"
    assert t.ngettext("{n} row", "{n} rows", 1) == "{n} row"
    assert t.ngettext("{n} row", "{n} rows", 0) == "{n} rows"
    assert t.ngettext("{n} row", "{n} rows", 2) == "{n} rows"


def test_vietnamese_translates_and_falls_back_to_english() -> None:
    t = Translator("vi")
    assert t.lang == "vi"
    assert t.gettext("Results") == "Kết quả"
    assert t._("Reference group") == "Nhóm tham chiếu"
    assert t.gettext("A sentence nobody has translated yet") == "A sentence nobody has translated yet"
    assert t.gettext("") == ""  # not the catalogue header, which gettext keeps under the empty id
    assert t.ngettext("{n} row", "{n} rows", 1) == "{n} dòng"
    assert t.ngettext("{n} row", "{n} rows", 7) == "{n} dòng"
    assert t.ngettext("{n} apple", "{n} apples", 1) == "{n} apple"
    assert t.ngettext("{n} apple", "{n} apples", 3) == "{n} apples"


def test_fuzzy_and_empty_translations_fall_back_to_english(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    po = tmp_path / "report.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: vi\\n"\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Plural-Forms: nplurals=1; plural=0;\\n"\n\n'
        'msgid "Results"\nmsgstr "Kết quả"\n\n'
        '#, fuzzy\nmsgid "Method"\nmsgstr "Phương pháp"\n\n'
        'msgid "Glossary"\nmsgstr ""\n\n'
        'msgid "{n} group"\nmsgid_plural "{n} groups"\nmsgstr[0] ""\n',
        encoding="utf-8")
    monkeypatch.setattr(i18n, "catalogue_path", lambda lang, **where: po)
    i18n._translations.cache_clear()
    try:
        t = Translator("vi")
        assert t.gettext("Results") == "Kết quả"
        assert t.gettext("Method") == "Method"
        assert t.gettext("Glossary") == "Glossary"
        assert t.ngettext("{n} group", "{n} groups", 2) == "{n} groups"
    finally:
        i18n._translations.cache_clear()


@pytest.mark.parametrize("lang", ["fr", "vn", "EN", ""])
def test_an_unknown_language_is_a_usage_error_naming_the_choices(lang: str) -> None:
    with pytest.raises(UsageError, match=r"one of en, vi; got") as caught:
        Translator(lang)
    assert caught.value.reason is ReasonCode.OPTION_INVALID
    with pytest.raises(UsageError):
        format_number(1.0, lang)


def test_a_close_language_name_gets_a_suggestion() -> None:
    with pytest.raises(UsageError, match=r"did you mean 'vi'"):
        Translator("vie")


# --- numbers, percentages, dates, intervals -----------------------------------------------------------


@pytest.mark.parametrize(("value", "significant", "en", "vi"), [
    (1234.567, 3, "1,235", "1.235"),
    (1234567.0, 3, "1,234,567", "1.234.567"),
    (0.012345, 3, "0.0123", "0,0123"),
    (1.8, 3, "1.8", "1,8"),
    (1.83333, 3, "1.83", "1,83"),
    (2.0, 3, "2", "2"),
    (0.0, 3, "0", "0"),
    (-0.5, 3, "-0.5", "-0,5"),
    (0.876, 2, "0.88", "0,88"),
    (9.996, 3, "10", "10"),
    (123.456, 1, "123", "123"),
    (np.float64(0.25), 3, "0.25", "0,25"),
    (7, 3, "7", "7"),
])
def test_format_number(value: float, significant: int, en: str, vi: str) -> None:
    assert format_number(value, "en", significant=significant) == en
    assert format_number(value, "vi", significant=significant) == vi


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan])
def test_a_missing_number_is_an_em_dash_never_zero(missing: float | None) -> None:
    for lang in languages():
        assert format_number(missing, lang) == "—"
        assert format_integer(missing, lang) == "—"
        assert format_percent(missing, lang) == "—"


def test_infinity_is_shown_as_infinity() -> None:
    assert format_number(float("inf"), "en") == "∞"
    assert format_number(float("-inf"), "vi") == "-∞"


def test_format_number_rejects_non_numbers_and_bad_precision() -> None:
    with pytest.raises(UsageError, match="real number"):
        format_number("1.5", "en")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="real number"):
        format_number(True, "en")
    with pytest.raises(UsageError, match="significant must be at least 1"):
        format_number(1.5, "en", significant=0)


@pytest.mark.parametrize(("value", "en", "vi"), [
    (1234567, "1,234,567", "1.234.567"),
    (0, "0", "0"),
    (-1500, "-1,500", "-1.500"),
    (np.int64(12000), "12,000", "12.000"),
    (2.0, "2", "2"),
])
def test_format_integer(value: int, en: str, vi: str) -> None:
    assert format_integer(value, "en") == en
    assert format_integer(value, "vi") == vi


@pytest.mark.parametrize(("value", "digits", "en", "vi"), [
    (0.1234, 1, "12.3%", "12,3%"),
    (0.5, 0, "50%", "50%"),
    (1.0, 1, "100.0%", "100,0%"),
    (0.00049, 2, "0.05%", "0,05%"),
    (12.5, 1, "1,250.0%", "1.250,0%"),
])
def test_format_percent(value: float, digits: int, en: str, vi: str) -> None:
    assert format_percent(value, "en", digits=digits) == en
    assert format_percent(value, "vi", digits=digits) == vi


@pytest.mark.parametrize("value", [dt.date(2026, 11, 23), dt.datetime(2026, 11, 23, 17, 45), "2026-11-23"])
def test_format_date_long_form(value: dt.date | str) -> None:
    assert format_date(value, "en") == "23 November 2026"
    assert format_date(value, "vi") == "23 tháng 11 năm 2026"


def test_format_date_single_digit_month_missing_and_invalid() -> None:
    assert format_date(dt.date(2027, 1, 3), "en") == "3 January 2027"
    assert format_date(dt.date(2027, 1, 3), "vi") == "3 tháng 1 năm 2027"
    assert format_date(None, "vi") == "—"
    with pytest.raises(UsageError, match="ISO 8601"):
        format_date("23/11/2026", "en")


def test_format_interval_translates_the_word_between_the_ends() -> None:
    assert format_interval(1.8, 2.4, "en") == "1.8 to 2.4"
    assert format_interval(1.8, 2.4, "vi") == "1,8 đến 2,4"
    assert format_interval(0.81234, 1.2, "vi", significant=2) == "0,81 đến 1,2"
    assert format_interval(None, 2.4, "en") == "— to 2.4"


# --- fonts --------------------------------------------------------------------------------------------


def embedded_fonts(css: str) -> dict[int, TTFont]:
    """The fonts of ``font_face_css`` output, by weight, decoded from their data: URLs."""
    found = {}
    for weight, data in re.findall(r"font-weight: (\d+); src: url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", css):
        found[int(weight)] = TTFont(io.BytesIO(base64.b64decode(data)))
    return found


def test_font_face_css_embeds_regular_and_bold_report_sans_as_data_urls() -> None:
    css = font_face_css("Kiểm toán thuật toán")
    assert css.count("@font-face") == 2
    assert css.count('font-family: "Report Sans"') == 2
    assert "http" not in css and "file:" not in css and "/usr/share" not in css and ".ttf" not in css
    faces = embedded_fonts(css)
    assert sorted(faces) == [400, 700]
    assert all(font.flavor == "woff" for font in faces.values())
    assert faces[400]["name"].getDebugName(2) == "Book" and faces[700]["name"].getDebugName(2) == "Bold"
    assert len(css) < 60_000


def test_font_subset_holds_the_text_ascii_and_vietnamese_and_nothing_else() -> None:
    text = "Ж &#1071; Kiểm toán"  # Cyrillic Zhe, and Ya as an HTML character reference
    for font in embedded_fonts(font_face_css(text)).values():
        cmap = {chr(code) for code in font.getBestCmap()}
        assert {"Ж", "Я"} <= cmap
        assert {chr(c) for c in range(0x20, 0x7F)} <= cmap
        assert set("ăâêôơưđĂÂÊÔƠƯĐ" "ảạấầẩẫậềểễệỉịọốồổỗộớờởỡợụủứừửữựỳỵỷỹ" "ẢẠẤẦẨẪẬỀỂỄỆỈỊỌỐỒỔỖỘỚỜỞỠỢỤỦỨỪỬỮỰỲỴỶỸ") <= cmap
        assert "—" in cmap  # the formatters' missing-value dash
        assert "Б" not in cmap and "€" not in cmap  # in DejaVu Sans, but not asked for
        assert cmap <= set(text) | {"Я"} | fonts.base_characters()


def test_font_subset_keeps_the_licence_and_is_deterministic() -> None:
    css = font_face_css("Người bị ảnh hưởng")
    fonts._css_for.cache_clear()
    assert font_face_css("Người bị ảnh hưởng") == css
    regular = embedded_fonts(css)[400]
    assert "Bitstream" in regular["name"].getDebugName(0)
    assert "Bitstream" in regular["name"].getDebugName(13)


def test_font_files_ship_with_their_licence() -> None:
    folder = Path(fonts.__file__).parent / "fonts"
    assert (folder / "DejaVuSans.ttf").stat().st_size > 500_000
    assert (folder / "DejaVuSans-Bold.ttf").stat().st_size > 500_000
    licence = (folder / "LICENSE-DejaVu.txt").read_text(encoding="utf-8")
    assert "Bitstream Vera Fonts Copyright" in licence and "Arev Fonts Copyright" in licence
    assert "Permission is hereby granted, free of charge" in licence


# --- PDF ----------------------------------------------------------------------------------------------


@pytest.fixture
def poppler() -> None:
    missing = [tool for tool in ("pdftotext", "pdftoppm", "pdffonts", "pdfinfo") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"poppler-utils missing ({', '.join(missing)}): apt-get install poppler-utils, "
                    "or run scripts/setup.sh as root")


def page(body: str, *, head: str = "") -> str:
    """A self-contained HTML page in Report Sans, its font subset made from ``body``."""
    return (f'<!doctype html><html lang="vi"><head><meta charset="utf-8">{head}<style>{font_face_css(body)}\n'
            f'html {{ font-family: "Report Sans"; font-size: 11pt }} @page {{ size: A4; margin: 2cm }}</style>'
            f'</head><body>{body}</body></html>')


def run(*command: str | Path) -> str:
    return subprocess.run([str(c) for c in command], check=True, capture_output=True, text=True).stdout


VI_BODY = ("<h1>Kiểm toán thuật toán</h1><p><b>Người bị ảnh hưởng</b>: 120 người, "
           "tỷ số 1,8 đến 2,4.</p>")


def test_vietnamese_text_survives_into_the_pdf_in_the_embedded_font(tmp_path: Path, poppler: None) -> None:
    out = html_to_pdf(page(VI_BODY), tmp_path / "report.pdf")
    assert out == tmp_path / "report.pdf"
    assert out.read_bytes()[:5] == b"%PDF-"
    text = run("pdftotext", "-enc", "UTF-8", out, "-")
    for word in VI_WORDS:
        assert word in text
    assert "Người bị ảnh hưởng: 120 người, tỷ số 1,8 đến 2,4." in text
    font_lines = run("pdffonts", out).splitlines()[2:]
    assert len(font_lines) == 2  # regular and bold, nothing from the system
    assert all("Report-Sans" in line and " yes yes yes " in line for line in font_lines)


def test_the_first_page_renders_to_a_png(tmp_path: Path, poppler: None) -> None:
    out = html_to_pdf(page(VI_BODY), tmp_path / "report.pdf")
    run("pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", out, tmp_path / "page1")
    png = (tmp_path / "page1.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert abs(width - 413) <= 1 and abs(height - 585) <= 1  # A4 (210 x 297 mm) at 50 dpi
    assert len(png) > 1000


def test_no_url_but_data_is_ever_fetched(tmp_path: Path, poppler: None, monkeypatch: pytest.MonkeyPatch,
                                         caplog: pytest.LogCaptureFixture) -> None:
    asked: list[tuple[str, bool]] = []
    check = pdf.OfflineURLFetcher.check

    def recording_check(self: pdf.OfflineURLFetcher, url: str) -> None:
        try:
            check(self, url)
        except pdf.RefusedURL:
            asked.append((url, False))
            raise
        asked.append((url, True))

    connections: list[object] = []

    def no_network(*args: object, **kwargs: object) -> None:
        connections.append(args)
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(pdf.OfflineURLFetcher, "check", recording_check)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    pixel = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
             "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
    remote = ("https://example.com/style.css", "http://example.com/x.png", "ftp://example.com/y.png",
              "file:///etc/hostname")
    body = (f'<p>Kiểm toán</p><img src="{remote[1]}" alt="remote"><img src="{remote[2]}" alt="ftp">'
            f'<img src="{remote[3]}" alt="local"><img src="{pixel}" alt="inline">')
    head = f'<style>@import url({remote[0]});</style>'
    out = html_to_pdf(page(body, head=head), tmp_path / "offline.pdf")

    assert out.read_bytes()[:5] == b"%PDF-"
    assert sorted(url for url, allowed in asked if not allowed) == sorted(remote)
    assert any(url == pixel and allowed for url, allowed in asked)
    assert all(url.startswith("data:") for url, allowed in asked if allowed)
    assert connections == []
    refused_logs = [r.getMessage() for r in caplog.records if r.name == "audit.report.pdf"]
    assert len(refused_logs) == 4 and all("refused to fetch" in m for m in refused_logs)
    assert "Kiểm toán" in run("pdftotext", out, "-")


def test_the_fetcher_refuses_before_weasyprint_touches_the_url() -> None:
    weasyprint = pdf._weasyprint()
    guard = pdf.OfflineURLFetcher()
    fetcher = guard.build(weasyprint)
    with pytest.raises(pdf.RefusedURL, match="data: URLs only"):
        fetcher.fetch("HTTPS://example.com/a.css")
    with pytest.raises(pdf.RefusedURL):
        fetcher("file:///etc/passwd")
    assert guard.refused == ["HTTPS://example.com/a.css", "file:///etc/passwd"]
    response = fetcher.fetch("data:text/plain;charset=utf-8,Ki%E1%BB%83m")
    assert response.read().decode("utf-8") == "Kiểm"


def test_the_same_html_gives_the_same_pdf_bytes(tmp_path: Path) -> None:
    html = page(VI_BODY)
    first = html_to_pdf(html, tmp_path / "a.pdf").read_bytes()
    second = html_to_pdf(html, tmp_path / "b.pdf").read_bytes()
    assert first == second


def test_parent_folders_are_created_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    out = html_to_pdf("<p>x</p>", tmp_path / "new" / "folder" / "r.pdf")
    assert out.is_file()
    assert [p.name for p in out.parent.iterdir()] == ["r.pdf"]


def test_missing_pango_is_a_usage_error_naming_the_debian_packages(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    def no_pango(name: str) -> None:
        raise OSError("cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open shared object file")

    monkeypatch.setattr(pdf.importlib, "import_module", no_pango)
    with pytest.raises(UsageError) as caught:
        html_to_pdf("<p>x</p>", tmp_path / "r.pdf")
    assert caught.value.reason is ReasonCode.PDF_UNAVAILABLE
    message = str(caught.value)
    assert "apt-get install" in message and "libpango-1.0-0 libpangoft2-1.0-0" in message
    assert "cannot load library 'libpango-1.0-0'" in message
    assert not (tmp_path / "r.pdf").exists()


def test_a_weasyprint_without_url_fetcher_class_is_a_usage_error(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    class Old:
        __version__ = "62.3"

        class urls:  # noqa: N801  (stands in for the module)
            pass

    monkeypatch.setattr(pdf.importlib, "import_module", lambda name: Old)
    with pytest.raises(UsageError, match=r"WeasyPrint 68 or later.*62\.3 is installed"):
        html_to_pdf("<p>x</p>", tmp_path / "r.pdf")


def test_thirty_pages_take_a_few_seconds(tmp_path: Path, poppler: None) -> None:
    rows = "".join(f"<tr><td>Nhóm {i}</td><td>{format_percent(i / 40, 'vi')}</td>"
                   f"<td>{format_interval(i / 10, i / 5, 'vi')}</td><td>đạt</td></tr>" for i in range(20))
    prose = "<p>" + "Người bị ảnh hưởng bởi quyết định có hỗ trợ của thuật toán. " * 12 + "</p>"
    body = "".join(f'<section style="break-before: page"><h2>{k}. Kết quả</h2>{prose}<table>{rows}</table>'
                   f"{prose}</section>" for k in range(1, 31))
    html = page(body)
    html_to_pdf("<p>warm-up: imports WeasyPrint</p>", tmp_path / "warm.pdf")
    start = time.perf_counter()
    out = html_to_pdf(html, tmp_path / "long.pdf")
    seconds = time.perf_counter() - start
    assert re.search(r"^Pages:\s+30$", run("pdfinfo", out), re.MULTILINE)
    assert seconds < 30, f"30 pages took {seconds:.1f} s"
