"""An injection corpus through every format an audit writes (issue 17, item 4): hostile group names, a hostile
attribute name, system name and spec texts.

One audit of 533 rows is written once (report.html, report.pdf, public.md, public CSVs, summary.md, junit.xml), and
each format is read back as its reader would: the HTML parsed, the PDF's text extracted with pdftotext (poppler),
the Markdown rendered by a CommonMark renderer (markdown-it-py, with GFM tables), junit.xml parsed by ElementTree,
the CSVs read by the csv module. Every value must stay one value as written: no markup, link, image or HTML
from it, no table broken by it, and no number around it reordered by the bidirectional controls it holds.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from markdown_it import MarkdownIt

import audit
from audit.outputs import markdown_cell
from audit.report.i18n import format_number
from audit.report.writer import write_report
from audit.suppression import neutralise_cell
from audit.wording import FSI, PDI, balanced, isolated, visible
from audit_app.text import plain

RLO = "\u202e"
REFERENCE = "Kinh"
# Groups with enough people for their numbers to be published: the RIGHT-TO-LEFT OVERRIDE, and one that tries to
# break out of an isolate first with a POP DIRECTIONAL ISOLATE. (rows, positive decisions); the reference has 30%.
BIDI = {f"{RLO}12 34": (40, 29), f"{PDI}{RLO}56 78": (45, 33)}   # ratios 2.42 and 2.44 to the reference
# Each as pdftotext reads it: the value reverses itself (and only itself).
BIDI_READ = {f"{RLO}12 34": "43 21", f"{PDI}{RLO}56 78": "87 65"}
MARKUP = ["![x](http://evil.example/a.png)", "[click](http://evil.example)", "<http://evil.example>",
          "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "a|b", "line\nbreak", "c\x01d\x0be",
          "[r]: http://evil.example", "[r]", "# h #", "> quote"]
FORMULAS = ['=HYPERLINK("http://evil")', "+1", "-2", "@SUM(A1)"]
GROUPS = [*BIDI, *MARKUP, *FORMULAS]
ATTRIBUTE = "grp ![c](http://evil.example/c.png) a|b"
SYSTEM = f"Sys {RLO}99 ![i](http://evil.example/s.png) [l](http://evil.example) <script>x</script> a|b"
PURPOSE = f"[p](http://evil.example) {RLO}42 <img src=x>"
LIMITATION = f"note {RLO}56 ![n](http://evil.example/n.png) <b>x</b> [r]: http://evil.example"


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """The audit of the corpus and the folder write_report wrote (with its PDF)."""
    folder = tmp_path_factory.mktemp("injection")
    rows = {REFERENCE: (120, 36), **BIDI, **{g: (24, 12) for g in MARKUP + FORMULAS}}
    with (folder / "data.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([ATTRIBUTE, "decision"])
        for group, (n, positive) in rows.items():
            writer.writerows([group, int(i < positive)] for i in range(n))
    spec = {"system": {"name": SYSTEM, "purpose": PURPOSE}, "data": {"path": "data.csv"},
            "decision": {"column": "decision", "positive": ["1"], "adverse": True},
            "protected": [{"column": ATTRIBUTE, "reference": REFERENCE}],
            "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25], "rule": "point"}],
            "report": {"limitations": [LIMITATION], "recommendations": ["[r]: http://evil.example"]}}
    (folder / "spec.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    result = audit.run(folder / "spec.yaml")
    write_report(result, folder / "out")
    return result, folder / "out"


def _file(out: Path, name: str) -> Path:
    """A file the report wrote: a published one in ``OUT/public`` (or ``OUT`` before that folder existed), an
    internal one wherever it sits."""
    found = [out / "public" / name, out / name, *sorted(out.rglob(name))]
    return next(path for path in found if path.is_file())


# --- report.html ------------------------------------------------------------------------------------------------


class _Page(HTMLParser):
    """The elements of a page, and every piece of text (data and attribute values) with the elements around it."""

    VOID = {"meta", "br", "hr", "img", "input", "link", "source", "wbr", "col", "area", "base", "embed"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[tuple[str, tuple[str, ...]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.texts += [(value, (*self.stack, tag, f"@{name}")) for name, value in attrs if value]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.texts += [(value, (*self.stack, tag, f"@{name}")) for name, value in attrs if value]

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        self.texts.append((data, tuple(self.stack)))


def _isolated_at(text: str, index: int) -> bool:
    """Whether ``text[index]`` lies between an FSI and its PDI (isolates opened before it and not yet closed)."""
    depth = 0
    for ch in text[:index]:
        depth += ch in "\u2066\u2067\u2068"
        depth -= ch == PDI and depth > 0
    return depth > 0


@pytest.fixture(scope="module")
def page(written) -> _Page:
    parsed = _Page()
    parsed.feed(_file(written[1], "report.html").read_text(encoding="utf-8"))
    return parsed


def test_the_html_has_no_script_image_link_or_handler_from_the_data(page) -> None:
    tags = {tag for tag, _ in page.tags}
    assert not tags & {"script", "img", "a", "iframe", "object", "embed", "image", "use", "link", "base", "form"}
    handlers = [(tag, name) for tag, attrs in page.tags for name in attrs if name.lower().startswith("on")]
    assert handlers == []
    fetched = [(tag, name, value) for tag, attrs in page.tags for name, value in attrs.items()
               if name in ("href", "src", "xlink:href", "srcset", "action", "formaction", "poster", "data")
               and not str(value).startswith("data:")]
    assert fetched == []


def test_the_html_shows_every_hostile_value_as_text(page) -> None:
    text = "".join(data for data, where in page.texts if not (where and where[-1].startswith("@")))
    for value in [*GROUPS, ATTRIBUTE, SYSTEM, PURPOSE, LIMITATION]:
        assert balanced(value) in text, value


def test_every_bidi_override_in_the_html_sits_in_an_isolate(page) -> None:
    """Each U+202E of the page is inside a <bdi> or between FSI and PDI, but in the spec's YAML (a <pre> whose
    lines are paragraphs of their own, so a control reorders at most the rest of its line)."""
    loose = []
    for data, where in page.texts:
        for index in (i for i, ch in enumerate(data) if ch == RLO):
            if not ({"bdi", "pre"} & set(where) or _isolated_at(data, index)):
                loose.append((data, where[-3:]))
    assert loose == []
    bdi = [data for data, where in page.texts if where and where[-1] == "bdi"]
    assert balanced(f"{PDI}{RLO}56 78") == FSI + f"{PDI}{RLO}56 78" and balanced(f"{PDI}{RLO}56 78") in bdi
    assert f"{RLO}12 34" in bdi and SYSTEM in bdi


# --- report.pdf -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pdf_text(written) -> tuple[str, str]:
    """The PDF's text as pdftotext reads it: in reading order (one space between words) and laid out as drawn."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed; scripts/setup.sh installs it when run as root")
    pdf = _file(written[1], "report.pdf")

    def run(*options: str) -> str:
        return subprocess.run(["pdftotext", *options, "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                              text=True, check=True).stdout

    return " ".join(run().split()), run("-layout")


def _numbers(result: Any, group: str) -> tuple[str, str, str]:
    row = result.verdicts[result.verdicts["group"] == group].iloc[0]
    return tuple(format_number(float(row[c]), "en", significant=3) for c in ("estimate", "ci_low", "ci_high"))


@pytest.mark.parametrize("group", list(BIDI))
def test_the_pdf_sentence_about_a_bidi_group_keeps_its_numbers_in_order(written, pdf_text, group) -> None:
    """"… was 2.42 times that of Kinh (95% CI 1.73 to 3.37)": the override reverses the name alone, never the
    numbers after it (it read "24.2" and ")73.3 ot 37.1 IC %59(" before). pdftotext may write a bracket of a
    font whose glyph was first drawn mirrored as its mirror, so brackets are matched as any character."""
    reading, _ = pdf_text
    estimate, low, high = _numbers(written[0], group)
    assert estimate in ("2.42", "2.44")
    number = r"(\d[\d.]*\d)"
    found = re.findall(rf"The selection rate of {BIDI_READ[group]} \Wgrp .{{1,60}}? was {number} times that of "
                       rf"{REFERENCE} \W95% CI {number} to {number}\W", reading)
    assert found and set(found) == {(estimate, low, high)}, found
    assert estimate[::-1] not in reading


def test_the_pdf_verdict_rows_of_bidi_groups_read_in_column_order(written, pdf_text) -> None:
    _, layout = pdf_text
    for group, read in BIDI_READ.items():
        estimate, low, high = _numbers(written[0], group)
        n = int(written[0].verdicts.loc[written[0].verdicts["group"] == group, "n"].iloc[0])
        rows = [line for line in layout.splitlines() if line.strip().startswith(f"{read} ")
                and f" {estimate} " in line]
        pattern = rf"^\s*{read}\s+{n}\s+\d+\.\d%.*\s{re.escape(estimate)}\s+{re.escape(f'{low} to {high}')}\s.*fail\s*$"
        assert rows and all(re.search(pattern, line) for line in rows), rows


def test_the_pdf_title_and_the_spec_texts_keep_the_page_in_order(pdf_text) -> None:
    reading, _ = pdf_text
    assert "Algorithmic audit: Sys" in reading           # the title's own words before the system's name
    assert "note" in reading and "Limitations" in reading
    assert "1. Executive summary" in reading and "2. Scope and data" in reading


# --- public.md and summary.md -------------------------------------------------------------------------------------


MARKDOWN = MarkdownIt("commonmark").enable("table")
FORBIDDEN_TOKENS = {"image", "link_open", "html_inline", "html_block", "code_block", "fence", "blockquote_open",
                    "hr"}


def _tokens(tokens: list[Any]) -> list[Any]:
    return [t for token in tokens for t in [token, *_tokens(token.children or [])]]


def _tables(tokens: list[Any]) -> list[list[list[str]]]:
    """Every table's rows (its header first), each a list of the cells' rendered text."""
    tables, rows, cells, cell = [], [], [], None
    for token in _tokens(tokens):
        if token.type == "table_open":
            rows = []
        elif token.type == "table_close":
            tables.append(rows)
        elif token.type == "tr_open":
            cells = []
        elif token.type == "tr_close":
            rows.append(cells)
        elif token.type in ("th_open", "td_open"):
            cell = ""
        elif token.type in ("th_close", "td_close"):
            cells.append(cell)
            cell = None
        elif cell is not None and token.type in ("text", "text_special", "code_inline"):
            cell += token.content
    return tables


@pytest.mark.parametrize("name", ["public.md", "summary.md"])
def test_markdown_renders_no_link_image_or_html_and_every_row_whole(written, name) -> None:
    text = _file(written[1], name).read_text(encoding="utf-8")
    tokens = MARKDOWN.parse(text)
    assert {t.type for t in _tokens(tokens)} & FORBIDDEN_TOKENS == set()
    assert not re.search(r"<(?:img|a|script|b)\b", MARKDOWN.render(text))
    verdicts = [table for table in _tables(tokens) if table[0][:3] == ["view", "attribute", "group"]]
    assert verdicts, text
    for table in verdicts:
        assert {len(row) for row in table} == {12}
        body = table[1:]
        assert sorted(row[2] for row in body) == sorted(visible(g) for g in GROUPS)
        assert {row[1] for row in body} == {ATTRIBUTE} and {row[3] for row in body} == {REFERENCE}
    title = next(t for t in tokens if t.type == "inline")          # the first heading's text
    assert "".join(t.content for t in _tokens([title]) if t.type in ("text", "text_special")) == \
        f"Audit: {visible(SYSTEM)}"


def test_markdown_cell_keeps_every_corpus_value_one_text_in_each_place() -> None:
    """A value as a table's cell, a heading and a list item renders as exactly its visible text (markdown_cell),
    and so in Streamlit's Markdown (the app's plain()); leading and trailing spaces aside, which Markdown trims."""
    places = {"cell": ("| a | b |\n|---|---|\n| {} | x |\n", "{}x"), "heading": ("# Audit: {}\n", "Audit: {}"),
              "item": ("- {}\n", "{}"), "after": ("- views: {}, x\n", "views: {}, x")}
    for value in [*GROUPS, ATTRIBUTE, SYSTEM, LIMITATION, "[^1]: foot", "1. x", "- x", "    code", "***", "x #"]:
        for escape in (markdown_cell, plain):
            for place, (line, expected) in places.items():
                tokens = _tokens(MARKDOWN.parse(line.format(escape(value))))
                types = [t.type for t in tokens]
                assert set(types) & (FORBIDDEN_TOKENS | {"ordered_list_open"}) == set(), (value, place, types)
                assert types.count("heading_open") == (place == "heading"), (value, place)
                assert types.count("bullet_list_open") == (place in ("item", "after")), (value, place)
                shown = "".join(t.content for t in tokens if t.type in ("text", "text_special"))
                if place == "cell":
                    shown = shown.removeprefix("ab")
                assert shown.split() == expected.format(visible(value)).split(), (value, place, escape)


# --- junit.xml and the public CSVs -------------------------------------------------------------------------------


def test_junit_xml_parses_and_names_every_group_visibly(written) -> None:
    root = ET.parse(_file(written[1], "junit.xml")).getroot()
    names = {case.get("name") for case in root.iter("testcase")}
    shown = {g: g.replace("\x01", "\\x01").replace("\x0b", "\\x0b") for g in GROUPS}   # XML forbids these two
    assert names == {f"{ATTRIBUTE} = {shown[g]} vs {REFERENCE}" for g in GROUPS}
    assert root.get("name") == f"audit: {SYSTEM}"


def test_public_csvs_give_every_value_as_written_and_formulas_quoted(written) -> None:
    with _file(written[1], "public_groups.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["attribute"] for row in rows} == {ATTRIBUTE}
    groups = {row["group"] for row in rows}
    assert groups == {REFERENCE, *BIDI, *MARKUP, *(f"'{g}" for g in FORMULAS)}
    assert {neutralise_cell(g) for g in FORMULAS} == {f"'{g}" for g in FORMULAS}


def test_isolating_keeps_a_value_and_closes_what_it_opens() -> None:
    assert isolated(REFERENCE) == REFERENCE and isolated("a|b (x) 12") == "a|b (x) 12"
    assert isolated(f"{RLO}12") == f"{FSI}{RLO}12{PDI}"
    assert isolated(f"{PDI}{PDI}{RLO}1") == f"{FSI}{FSI}{FSI}{PDI}{PDI}{RLO}1{PDI}"
    assert isolated("\u2067a\u2068b") == f"{FSI}\u2067a\u2068b{PDI}{PDI}{PDI}"
    assert isolated(f"{RLO}a\u2029{PDI}{RLO}b") == f"{FSI}{RLO}a{PDI}\u2029{FSI}{FSI}{PDI}{RLO}b{PDI}"
