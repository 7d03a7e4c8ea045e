"""The user guide in docs/ stays true to the code.

* ``docs/spec-reference.md`` equals what ``scripts/spec_reference.py`` renders from the spec model now;
* every relative link (and anchor) in ``docs/*.md`` resolves;
* every spec shown in a ``yaml`` block validates (complete specs as written, fragments merged into a minimal
  spec), every expected-findings block validates, and the spec files in ``docs/examples`` load and name
  existing data;
* every ``audit`` command and flag shown in the docs exists in the CLI, and every CLI command is documented;
* the glossary has both languages filled in every row and agrees with the report's and the app's Vietnamese
  catalogues.

Everything runs on the text and the click parser; no audit is run, so the tests take well under a second.
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from babel.messages.pofile import read_po
from conftest import ROOT

from audit.cli import main as cli
from audit.expected import ExpectedFindings
from audit.spec import AuditSpec, load_spec, validate_spec

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
CATALOGUES = (ROOT / "audit" / "report" / "locale" / "vi" / "LC_MESSAGES" / "report.po",
              ROOT / "app" / "locale" / "vi" / "LC_MESSAGES" / "app.po")
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
VIETNAMESE = re.compile("[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]",
                        re.IGNORECASE)  # letters with diacritics that only Vietnamese uses among these pages


def _spec_reference() -> Any:
    spec = importlib.util.spec_from_file_location("spec_reference", ROOT / "scripts" / "spec_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _blocks(*languages: str) -> list[tuple[Path, str, str]]:
    """(page, language, body) of every fenced code block in docs/*.md, optionally of some languages only."""
    found = []
    for page in PAGES:
        for match in FENCE.finditer(page.read_text(encoding="utf-8")):
            if not languages or match.group(1) in languages:
                found.append((page, match.group(1), match.group(2)))
    return found


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: markup dropped, lower case, punctuation removed, spaces as hyphens."""
    text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*$", text, re.MULTILINE)}


# -- the generated spec reference ---------------------------------------------------------------------------


def test_the_spec_reference_is_current() -> None:
    committed = (DOCS / "spec-reference.md").read_text(encoding="utf-8")
    assert committed == _spec_reference().render(), (
        "docs/spec-reference.md is out of date with audit/spec.py; run: python scripts/spec_reference.py")


def test_the_spec_reference_documents_every_field() -> None:
    from audit.spec import spec_json_schema

    text = (DOCS / "spec-reference.md").read_text(encoding="utf-8")
    schema = spec_json_schema()
    for name in schema["properties"]:
        assert f"\n## {name}\n" in text, f"section '{name}' missing from the spec reference"
    for definition in schema["$defs"].values():
        for field in definition["properties"]:
            assert f"| `{field}` |" in text, f"field '{field}' of {definition['title']} missing"


def test_the_spec_reference_examples_are_valid() -> None:
    module = _spec_reference()
    validate_spec(yaml.safe_load(module.OVERVIEW), source="OVERVIEW")
    for name, text in module.EXAMPLES.items():
        _validate_fragment(yaml.safe_load(text), f"EXAMPLES[{name!r}]")


# -- links ----------------------------------------------------------------------------------------------------


def test_every_relative_link_resolves() -> None:
    assert {p.name for p in PAGES} >= {"README.md", "concepts.md", "spec-reference.md", "reading-the-report.md",
                                       "ci.md", "glossary.md"}
    problems = []
    checked = 0
    for page in PAGES:
        text = FENCE.sub("", page.read_text(encoding="utf-8"))
        text = re.sub(r"`[^`\n]*`", "", text)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z][a-z+.-]*:", target):  # http:, https:, mailto:
                continue
            checked += 1
            path_part, _, anchor = target.partition("#")
            destination = (page.parent / path_part).resolve() if path_part else page
            if not destination.exists():
                problems.append(f"{page.name}: link to '{target}': {destination} does not exist")
            elif anchor and destination.suffix == ".md" and anchor not in _anchors(destination):
                problems.append(f"{page.name}: link to '{target}': no heading with anchor '#{anchor}' in "
                                f"{destination.name}")
    assert checked > 20, "the docs should link their pages to each other"
    assert not problems, "\n".join(problems)


# -- specs shown in the docs ----------------------------------------------------------------------------------


def _validate_fragment(raw: Any, source: str) -> AuditSpec:
    """Validate a spec fragment by completing it with the least a spec needs."""
    spec = dict(raw)
    spec.setdefault("system", {"name": "fragment"})
    spec.setdefault("protected", [{"column": "group"}])
    if not any(key in spec for key in ("decision", "score", "amounts")):
        spec["decision"] = {"column": "decision"}
    spec.setdefault("outcome", {"column": "outcome"})
    return validate_spec(spec, source=source)


def test_every_spec_shown_in_the_docs_is_valid() -> None:
    spec_keys = set(AuditSpec.model_fields)
    expected_keys = set(ExpectedFindings.model_fields)
    complete = fragments = findings = 0
    for page, _, body in _blocks("yaml", "yml"):
        raw = yaml.safe_load(body)
        if not isinstance(raw, dict):
            continue
        source = f"{page.name}: yaml block starting {body.splitlines()[0]!r}"
        if "system" in raw and "protected" in raw:
            validate_spec(raw, source=source)
            complete += 1
        elif set(raw) & (expected_keys - spec_keys):  # verdict, fail, inconclusive, allowed_unexpected
            ExpectedFindings.model_validate(raw)  # unknown keys are errors
            findings += 1
        elif set(raw) & spec_keys:  # a fragment; a misspelt key among spec keys is an error
            _validate_fragment(raw, source)
            fragments += 1
    assert complete >= 3 and fragments >= 10 and findings >= 1, (complete, fragments, findings)


def test_the_example_specs_in_docs_load_and_name_existing_data() -> None:
    paths = sorted((DOCS / "examples").glob("*.yaml"))
    assert paths
    for path in paths:
        spec, base = load_spec(path)
        assert spec.data.path and (base / spec.data.path).is_file(), f"{path}: data file {spec.data.path} missing"
        assert path.relative_to(ROOT).as_posix() in (DOCS / "ci.md").read_text(encoding="utf-8")


# -- commands and flags ---------------------------------------------------------------------------------------


def _options(command: click.Command) -> set[str]:
    names = {"-h", "--help"}
    for param in command.params:
        if isinstance(param, click.Option):
            names.update(param.opts)
            names.update(param.secondary_opts)
    return names


def _command_lines() -> list[tuple[Path, bool, str]]:
    """Every piece of text in the docs that may show an audit command: code blocks and inline code.

    The flag says whether the text is a shell command (a shell block or inline code), where a line that
    starts with ``audit WORD`` must name a real command; in other blocks (program output, Python, YAML)
    only the commands that exist are checked.
    """
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            shell = match.group(1) in ("", "bash", "sh", "shell", "console")
            found += [(page, shell, line) for line in match.group(2).splitlines()]
        outside = FENCE.sub("", text)
        found += [(page, True, span) for span in re.findall(r"`([^`\n]+)`", outside)]
    return found


def test_every_command_and_flag_shown_exists() -> None:
    commands: dict[str, click.Command] = cli.commands  # type: ignore[attr-defined]
    seen: set[str] = set()
    problems = []
    for page, shell, line in _command_lines():
        code = line.split(" #", 1)[0]
        for match in re.finditer(r"(?:^|[\s$;&|(/:\"'])audit((?:\s+[^\s|;&#]+)*)", code):
            words = match.group(1).split()
            command_like = shell and re.match(r"\s*(\$\s*)?(\S*/)?audit\s", code) is not None
            if not words:
                continue
            name = words[0]
            if name.startswith("-"):
                group_options = _options(cli) | {"--version"}
                bad = [w for w in words if w.startswith("--") and w.split("=")[0] not in group_options]
                problems += [f"{page.name}: '{code.strip()}': 'audit {w}' is not an option" for w in bad]
                continue
            if name not in commands:
                if command_like:
                    problems.append(f"{page.name}: '{code.strip()}': 'audit {name}' is not a command")
                continue
            seen.add(name)
            allowed = _options(commands[name])
            for word in words[1:]:
                for flag in re.findall(r"(?:^|[\[(|])(--?[A-Za-z][\w-]*)", word):
                    if flag not in allowed:
                        problems.append(f"{page.name}: '{code.strip()}': 'audit {name}' has no option {flag}")
    assert not problems, "\n".join(problems)
    assert seen == set(commands), (f"commands never shown in the docs: {sorted(set(commands) - seen)}; "
                                   f"add them to the command summary in docs/ci.md")


# -- the glossary ---------------------------------------------------------------------------------------------


def _glossary_rows() -> list[list[str]]:
    text = (DOCS / "glossary.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert rows[0].startswith("| Term (EN) | Thuật ngữ (VI) | Definition (EN) | Định nghĩa (VI) |")
    cells = []
    for line in rows[2:]:
        parts = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        assert len(parts) == 4, f"glossary row does not have 4 cells: {line}"
        cells.append(parts)
    return cells


def test_the_glossary_is_complete_in_both_languages() -> None:
    rows = _glossary_rows()
    assert 35 <= len(rows) <= 70, len(rows)
    terms = [r[0].lower() for r in rows]
    assert len(set(terms)) == len(terms), "a term is listed twice"
    for term, vi_term, definition, vi_definition in rows:
        assert term and vi_term and definition and vi_definition, f"empty cell in the row of '{term}'"
        assert VIETNAMESE.search(vi_term + vi_definition), f"'{term}': the Vietnamese cells have no diacritics"
        assert VIETNAMESE.search(vi_definition), f"'{term}': the Vietnamese definition is not Vietnamese"
        assert not VIETNAMESE.search(definition), f"'{term}': the English definition has Vietnamese in it"
    for needed in ("selection rate", "false positive rate", "reference group", "disparate impact",
                   "protected attribute", "proxy", "intersection", "confidence interval", "verdict",
                   "inconclusive", "selective labels", "human override", "tier", "small-cell suppression",
                   "four-fifths rule", "social scoring", "impact assessment"):
        assert any(t == needed or t.startswith(needed + " ") for t in terms), f"glossary lacks '{needed}'"


def _catalogue() -> dict[str, set[str]]:
    translations: dict[str, set[str]] = {}
    for path in CATALOGUES:
        with path.open("rb") as handle:
            for message in read_po(handle):
                if isinstance(message.id, str) and message.id and message.string:
                    translations.setdefault(message.id.lower(), set()).add(str(message.string))
    return translations


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower()


def test_the_glossary_uses_the_catalogues_translations() -> None:
    catalogue = _catalogue()
    matched = 0
    for term, vi_term, _, _ in _glossary_rows():
        bare = re.sub(r"\s*\([^)]*\)", "", term).strip().lower()
        inside = re.findall(r"\(([^)]*)\)", term.lower())
        for candidate in [term.lower(), bare, *inside]:
            if candidate in catalogue:
                matched += 1
                assert any(_norm(t) in _norm(vi_term) for t in catalogue[candidate]), (
                    f"glossary '{term}' → '{vi_term}', but the report/app catalogue translates "
                    f"'{candidate}' as {sorted(catalogue[candidate])}")
                break
    assert matched >= 20, f"only {matched} glossary terms found in the catalogues"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_pages_have_one_title_and_no_unclosed_code_block(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert text.count("```") % 2 == 0, f"{page.name}: a code block is not closed"
    assert len(re.findall(r"^# ", FENCE.sub("", text), re.MULTILINE)) == 1, f"{page.name}: needs exactly one '# ' title"
