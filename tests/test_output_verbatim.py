"""Values from the data and the spec reach the terminal, summary.md and junit.xml as written (issue 16, item 7).

Never read as rich markup or emoji codes; a line break never splits a table's row; characters that would change
the display (control characters, bidirectional overrides) are shown as escapes; junit.xml always parses; the
data line says which encoding and delimiter a CSV file was read with.
"""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from audit.cli import error_text, main
from audit.errors import Problem, ReasonCode, SpecError, format_problems
from audit.outputs import markdown_cell, markdown_code, xml_text
from audit.wording import visible

runner = CliRunner()

SYSTEM = "sys [/i] :smile: a|b <b>x</b> ward:x:1 ]]> \x01\nline two"
SYSTEM_SHOWN = "sys [/i] :smile: a|b <b>x</b> ward:x:1 ]]> \\x01↵line two"
REFERENCE = "[bold]Kinh"
GROUPS = ["[/b]", ":smile:", "ward:x:1", "a|b", "line\nbreak", "ctl\x01x", "esc\x1b[31mred", "bidi\u202eabc",
          "<script>alert(1)</script>", "x]]>y", "q\"uo'te &amp; co", "back\\slash", "*star* _under_ `code`"]
# each group as the terminal and summary.md show it, before Markdown's escapes
SHOWN = {"line\nbreak": "line↵break", "ctl\x01x": "ctl\\x01x", "esc\x1b[31mred": "esc\\x1b[31mred",
         "bidi\u202eabc": "bidi\\u202eabc"}
# each group as junit.xml holds it: only what XML 1.0 forbids is escaped
IN_XML = {"ctl\x01x": "ctl\\x01x", "esc\x1b[31mred": "esc\\x1b[31mred"}


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, Path]:
    """An audit of 40 rows per group, groups named like markup, emoji codes and control characters: the CLI's
    stdout, stderr and --out folder."""
    folder = tmp_path_factory.mktemp("verbatim")
    rng = np.random.default_rng(16)
    with (folder / "data.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["group", "decision"])
        for group in [REFERENCE, *GROUPS]:
            writer.writerows([group, str(int(flag))] for flag in rng.random(40) < 0.4)
    spec = {"system": {"name": SYSTEM}, "data": {"path": "data.csv"},
            "decision": {"column": "decision", "positive": ["1"], "adverse": True},
            "protected": [{"column": "group", "reference": REFERENCE}],
            "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25], "rule": "point"}]}
    (folder / "spec.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    done = runner.invoke(main, ["run", str(folder / "spec.yaml"), "--out", str(folder / "out")])
    assert done.exit_code in (0, 1), (done.exit_code, done.stdout, done.stderr)
    return done.stdout, done.stderr, folder / "out"


def _table_rows(output: str) -> list[list[str]]:
    """The rows of the rich table in ``output``: its cells, stripped."""
    return [[c.strip() for c in line.split("│")[1:-1]] for line in output.splitlines() if line.startswith("│")]


def _markdown_cells(line: str) -> list[str]:
    """The cells of a Markdown table row, split on the pipes that are not escaped, escapes removed."""
    cells, cell, escape = [], "", False
    for ch in line.strip()[1:-1]:
        if escape:
            cell, escape = cell + ch, False
        elif ch == "\\":
            escape = True
        elif ch == "|":
            cells, cell = cells + [cell.strip()], ""
        else:
            cell += ch
    return cells + [cell.strip()]


def test_the_terminal_shows_every_group_as_written_one_row_each(audited) -> None:
    stdout, stderr, _ = audited
    assert stdout.splitlines()[0] == SYSTEM_SHOWN
    rows = _table_rows(stdout)
    assert len(rows) == len(GROUPS) and {len(r) for r in rows} == {9}       # one row per group, none split
    assert sorted(r[1] for r in rows) == sorted(SHOWN.get(g, g) for g in GROUPS)
    assert {r[0] for r in rows} == {"group"} and {r[2] for r in rows} == {REFERENCE}
    assert "😄" not in stdout + stderr and "❌" not in stdout + stderr       # no emoji codes replaced
    assert "\x1b[31m" not in stdout and "\u202e" not in stdout and "\x01" not in stdout
    assert "verdict: " in stdout.splitlines()[-2]


def test_summary_md_keeps_every_row_whole_and_every_value_verbatim(audited) -> None:
    _, _, out = audited
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert summary.splitlines()[0] == "# Audit: sys [/i] :smile: a\\|b \\<b>x\\</b> ward:x:1 ]]> \\\\x01↵line two"
    rows = [_markdown_cells(line) for line in summary.splitlines() if line.startswith("| decision |")]
    assert len(rows) == len(GROUPS) and {len(r) for r in rows} == {12}
    assert sorted(r[2] for r in rows) == sorted(SHOWN.get(g, g) for g in GROUPS)
    assert {r[3] for r in rows} == {REFERENCE}
    assert "| decision | group | \\*star\\* \\_under\\_ \\`code\\` | [bold]Kinh |" in summary
    assert "| decision | group | \\<script>alert(1)\\</script> | [bold]Kinh |" in summary
    assert "| decision | group | back\\\\slash | [bold]Kinh |" in summary
    assert "| decision | group | ctl\\\\x01x | [bold]Kinh |" in summary
    assert "\x01" not in summary and "\x1b" not in summary and "\u202e" not in summary


def test_junit_xml_parses_and_names_every_group(audited) -> None:
    _, _, out = audited
    root = ET.parse(out / "junit.xml").getroot()
    assert root.get("name") == "audit: sys [/i] :smile: a|b <b>x</b> ward:x:1 ]]> \\x01\nline two"
    names = sorted(case.get("name") for case in root.iter("testcase"))
    assert names == sorted(f"group = {IN_XML.get(g, g)} vs {REFERENCE}" for g in GROUPS)


def test_the_data_line_says_how_a_csv_file_was_read(audited) -> None:
    stdout, _, out = audited
    assert (f"data: data.csv (CSV, encoding utf-8 detected, delimiter ',') — {40 * (len(GROUPS) + 1):,} of "
            f"{40 * (len(GROUPS) + 1):,} rows audited (sha256 ") in stdout
    assert "- Data: `data.csv` (CSV, encoding utf-8 detected, delimiter ','); 560 of 560 rows audited; SHA-256 `" in \
        (out / "summary.md").read_text(encoding="utf-8")


def test_a_declared_encoding_and_delimiter_are_named(tmp_path: Path) -> None:
    rows = [("Kinh", "1"), ("Kinh", "0"), ("Ê Đê", "1"), ("Ê Đê", "0")] * 20
    text = "dan_toc;quyet_dinh\n" + "".join(f"{g};{d}\n" for g, d in rows)
    (tmp_path / "people.csv").write_bytes(text.encode("cp1258"))
    spec = {"system": {"name": "cp1258"}, "data": {"path": "people.csv", "encoding": "cp1258", "delimiter": ";"},
            "decision": {"column": "quyet_dinh", "positive": ["1"]}, "protected": [{"column": "dan_toc"}],
            "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25]}]}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    done = runner.invoke(main, ["run", str(tmp_path / "spec.yaml"), "--out", str(tmp_path / "out")])
    assert done.exit_code in (0, 1), done.output
    assert "data: people.csv (CSV, encoding cp1258 declared, delimiter ';') — 80 of 80 rows audited" in done.output
    assert "│ dan_toc   │ Ê Đê  │ Kinh      │" in done.output
    summary = (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    assert "- Data: `people.csv` (CSV, encoding cp1258 declared, delimiter ';'); 80 of 80 rows" in summary
    checked = runner.invoke(main, ["validate", str(tmp_path / "spec.yaml")])
    assert checked.exit_code == 0, checked.output
    assert "data: people.csv (CSV, encoding cp1258 declared, delimiter ';'; all 2 columns named in the spec are " \
           "present)" in checked.output


def test_a_parquet_file_is_named_by_its_format_alone(tmp_path: Path) -> None:
    frame = pd.DataFrame({"g": ["a", "b"] * 40, "d": [1, 0, 0, 1] * 20})
    frame.to_parquet(tmp_path / "d.parquet")
    spec = {"system": {"name": "p"}, "data": {"path": "d.parquet"}, "decision": {"column": "d", "positive": [1]},
            "protected": [{"column": "g"}], "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25]}]}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    done = runner.invoke(main, ["run", str(tmp_path / "spec.yaml")])
    assert done.exit_code in (0, 1), done.output
    assert "data: d.parquet (Parquet) — 80 of 80 rows audited" in done.output


def test_error_messages_are_printed_as_written(audited, tmp_path: Path) -> None:
    _, _, out = audited
    spec = yaml.safe_load((out.parent / "spec.yaml").read_text(encoding="utf-8"))
    spec["data"]["path"] = str(out.parent / "data.csv")
    spec["protected"][0]["reference"] = ":smile: [/b] [red]ward:x:1"
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    done = runner.invoke(main, ["run", str(tmp_path / "spec.yaml")])
    assert done.exit_code == 2, (done.stdout, done.stderr)
    assert "reference group ':smile: [/b] [red]ward:x:1' does not occur in 'group'" in done.stderr
    assert "😄" not in done.stderr and "❌" not in done.stderr and "\x01" not in done.stderr


def test_quiet_prints_the_system_name_as_written(audited) -> None:
    _, _, out = audited
    done = runner.invoke(main, ["run", str(out.parent / "spec.yaml"), "--quiet"])
    assert done.output.startswith(f"{SYSTEM_SHOWN}: ")


def test_an_error_lists_each_problem_on_one_line() -> None:
    problems = [Problem("policy[0].views[0]", "'a\nb' is not a view; its views are: x, [/b]"),
                Problem("protected[0].reference", "group ':smile:\x01' is not in 'g'")]
    error = SpecError(format_problems("spec.yaml: 2 problems in the spec", problems), problems=problems,
                      reason=ReasonCode.SPEC_INVALID)
    assert error_text(error).splitlines() == ["spec.yaml: 2 problems in the spec",
                                              "  - policy[0].views[0]: 'a↵b' is not a view; its views are: x, [/b]",
                                              "  - protected[0].reference: group ':smile:\\x01' is not in 'g'"]
    plain = SpecError("line one\nline two \u202e", reason=ReasonCode.SPEC_INVALID)
    assert error_text(plain) == "line one\nline two \\u202e"


@pytest.mark.parametrize("value, shown", [
    ("a\nb", "a↵b"), ("a\r\nb", "a↵b"), ("a\rb", "a↵b"), ("a\u2028b", "a↵b"), ("a\x85b", "a↵b"),
    ("tab\there", "tab\\there"), ("\x00\x1b\x7f", "\\x00\\x1b\\x7f"), ("\u202eabc\u2066", "\\u202eabc\\u2066"),
    ("\ufffe\ud800", "\\ufffe\\ud800"), ("Ê Đê [/b] :smile: 😀", "Ê Đê [/b] :smile: 😀")])
def test_visible(value: str, shown: str) -> None:
    assert visible(value) == shown
    assert visible(shown) == shown                       # once is enough


@pytest.mark.parametrize("value, cell", [
    ("a|b", "a\\|b"), ("a\\b", "a\\\\b"), ("l1\nl2", "l1↵l2"),
    ("*x* _y_ `z` ~s~ $m$", "\\*x\\* \\_y\\_ \\`z\\` \\~s\\~ \\$m\\$"),
    ("selection_rate", "selection_rate"), ("_lead", "\\_lead"),
    ("<i> </i> <!-- n < 30", "\\<i> \\</i> \\<!-- n < 30"), ("&amp; & &#1;", "\\&amp; & \\&#1;"),
    ("[t](http://x) [bold]", "[t\\](http://x) [bold]"), ("\x01", "\\\\x01")])
def test_markdown_cell(value: str, cell: str) -> None:
    assert markdown_cell(value) == cell


def test_markdown_code_spans_hold_backticks() -> None:
    assert [markdown_code(v) for v in ("a.csv", "a`b.csv", "``x", "new\nline")] == \
           ["`a.csv`", "``a`b.csv``", "``` ``x ```", "`new↵line`"]


def test_xml_text_escapes_only_what_xml_forbids() -> None:
    value = "\x01\x08\x0b\x0c\x1f\ufffe\uffff\ud800 \t\n\r <>&\"' ]]> \u202e Ê"
    kept = "\\x01\\x08\\x0b\\x0c\\x1f\\ufffe\\uffff\\ud800 \t\n\r <>&\"' ]]> \u202e Ê"
    assert xml_text(value) == kept
    element = ET.Element("case", name=xml_text(value))
    element.text = xml_text(value)
    again = ET.fromstring(ET.tostring(element, encoding="unicode"))
    assert again.get("name") == kept and again.text == kept.replace("\r", "\n")   # XML reads a CR in text as LF


def test_diff_names_every_changed_group_as_written(audited, tmp_path: Path) -> None:
    _, _, out = audited
    spec = yaml.safe_load((out.parent / "spec.yaml").read_text(encoding="utf-8"))
    spec["data"]["path"] = str(out.parent / "data.csv")
    spec["policy"][0]["ratio"] = [0.999, 1.001]                   # every group fails: each verdict may change
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    assert runner.invoke(main, ["run", str(tmp_path / "spec.yaml"), "--out", str(tmp_path / "new")]).exit_code == 1
    done = runner.invoke(main, ["diff", str(out), str(tmp_path / "new")])
    assert done.exit_code == 1, done.output
    changed = [line for line in done.output.splitlines() if line.startswith("  regressed: ")]
    groups = [line.partition(" | group = ")[2].rpartition(": pass -> fail")[0] for line in changed]
    assert groups and set(groups) <= {SHOWN.get(g, g) for g in GROUPS}
    assert done.output.splitlines()[-1] == "REGRESSION"


def test_plan_lists_the_groups_of_a_file_as_written(audited) -> None:
    _, _, out = audited
    done = runner.invoke(main, ["plan", "--base-rate", "0.3", "--ratio", "0.8", "--shares-from",
                                str(out.parent / "data.csv"), "--attribute", "group", "--reference", REFERENCE])
    assert done.exit_code == 0, done.output
    rows = _table_rows(done.output)
    assert sorted(r[0] for r in rows) == sorted(SHOWN.get(g, g) for g in [REFERENCE, *GROUPS])
    assert f"every group is compared with the reference '{REFERENCE}'" in done.output
