"""A fuzzer for specs: every example spec, mutated, gives a clear answer; never an internal error or a hang.

Hypothesis takes an example spec (``examples/**/spec*.yaml``), changes its tree (deletes a key, puts a
hostile value anywhere: huge, negative, NaN or infinite numbers, empty or odd text with newlines, rich
markup, Unicode, deep nesting, a list where a mapping belongs, an unknown key) and then perhaps its text
(a key written twice, an alias bomb, 5,000-deep brackets, a cut, a tab, a byte-order mark, bytes that are
not UTF-8). ``audit validate`` must exit 0, 1 or 2, never 3, print no traceback, and finish; for a few
examples ``audit run`` must too, on a small sample of the example's data.

The runs are derandomised (the same examples every time) and bounded: about a minute in all.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from audit.cli import main
from conftest import EXAMPLES

EXAMPLE_SPECS = sorted(EXAMPLES.glob("**/spec*.yaml"))
SAMPLE_ROWS = 1500
"""Rows of each example's data kept for the runs (every k-th row, so most groups appear)."""
HANG = 20.0
"""Seconds after which one command counts as hung (a guard, not a timing: a command takes well under one)."""

HOSTILE: list[Any] = [
    None, True, False, 0, -1, 1, 2, 2**31, 2**32, 2**63, -2**63, 10**30, 10**400, 1e12, -1e12, 1e308, -1e308,
    float("nan"), float("inf"), float("-inf"), 0.5, -0.0, 1e-300, 4.5e15,
    "", " ", "\n", "a\nb", "line\r\nbreak", "x" * 5000, "[/b]", "[bold]Kinh[/bold]", ":smile:", "ward:x:1",
    "Hmông", "Kinh ", "Ê Đê", "Kinh\u0301", "yes", "no", "on", "01", "007", "1.0", "1e12", "null", "~", "'", '"',
    "%s", "{0}", "\t", "*", "&a", "NaN", "0x1F", "-1", "../../etc/passwd", "a|b", "<b>x</b>", "\u202eevil",
    "\U0001F600", "select 1; drop table t", [], {}, [None], ["a", "a"], {"a": 1}, [[[[[]]]]], [1] * 50,
]
"""Values put anywhere in a spec's tree."""

NUMBERS: list[Any] = [0, 1, 2, 3, 10, 100, 101, 201, 202, 1000, 10_000, 100_000, 100_001, 2**32 - 1, 2**32, -1,
                      0.0, 0.05, 0.5, 0.95, 0.999, 1.0, 1.25, 5.5, 1e-9, 1e12, float("nan"), float("inf")]
"""Numbers put where a spec has a number: bounds, just past them, and the non-finite."""


def _nested(depth: int) -> Any:
    """A list nested ``depth`` levels deep (built without recursion)."""
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


def _paths(tree: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every node of ``tree`` (mapping keys and list indices), the root first."""
    found = [path]
    if isinstance(tree, dict):
        for key, value in tree.items():
            found += _paths(value, path + (key,))
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            found += _paths(value, path + (i,))
    return found


def _replaced(tree: Any, path: tuple[Any, ...], change: Callable[[Any, Any], Any]) -> Any:
    """A copy of ``tree`` in which the parent of ``path`` is ``change(parent, last step)``."""
    tree = copy.deepcopy(tree)
    parent = tree
    for step in path[:-1]:
        parent = parent[step]
    change(parent, path[-1])
    return tree


@st.composite
def _gentle_mutation(draw: st.DrawFn, tree: Any) -> Any:
    """One change a spec may survive: a number replaced by another (a bound, just past one), or a key deleted."""
    numbers = [p for p in _paths(tree) if p and isinstance(_at(tree, p), (int, float))
               and not isinstance(_at(tree, p), bool)]
    if numbers and draw(st.booleans()):
        value = draw(st.sampled_from(NUMBERS))
        return _replaced(tree, draw(st.sampled_from(numbers)), lambda parent, step: parent.__setitem__(step, value))
    keys = [p for p in _paths(tree) if p and isinstance(p[-1], str)]
    return _replaced(tree, draw(st.sampled_from(keys)), lambda parent, step: parent.pop(step))


@st.composite
def _tree_mutation(draw: st.DrawFn, tree: Any) -> Any:
    """One change to the tree: delete, replace, wrap or nest a node, or add an unknown key."""
    paths = [p for p in _paths(tree) if p]
    path = draw(st.sampled_from(paths))
    kind = draw(st.sampled_from(["delete", "replace", "replace", "replace", "wrap", "unwrap", "deep", "unknown"]))
    if kind == "delete":
        return _replaced(tree, path, lambda parent, step: parent.pop(step))
    if kind == "replace":
        value = draw(st.sampled_from(HOSTILE))
        return _replaced(tree, path, lambda parent, step: parent.__setitem__(step, copy.deepcopy(value)))
    if kind == "wrap":
        return _replaced(tree, path, lambda parent, step: parent.__setitem__(step, [parent[step]]))
    if kind == "unwrap":
        return _replaced(tree, path, lambda parent, step: parent.__setitem__(
            step, next(iter(parent[step].values() if isinstance(parent[step], dict) else parent[step]), None)
            if isinstance(parent[step], (dict, list)) else {"value": parent[step]}))
    if kind == "deep":
        depth = draw(st.sampled_from([10, 63, 70, 300]))
        return _replaced(tree, path, lambda parent, step: parent.__setitem__(step, _nested(depth)))
    key = draw(st.sampled_from(["extra", "positve", "Policy", "policy ", "views", "\u00a0data"]))
    value = draw(st.sampled_from(HOSTILE))
    target = draw(st.sampled_from([p for p in _paths(tree) if _at(tree, p).__class__ is dict]))
    return _replaced(tree, target + (key,), lambda parent, step: parent.__setitem__(step, value))


def _at(tree: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        tree = tree[step]
    return tree


def _bomb(levels: int) -> str:
    """A 'billion laughs': nine aliases of the level below at each of ``levels`` levels."""
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"lol{i}: &lol{i} [" + ", ".join([f"*lol{i - 1}"] * 9) + "]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


@st.composite
def _text_mutation(draw: st.DrawFn, text: str) -> bytes:
    """The YAML text, perhaps changed as text: a key twice, an alias bomb, deep brackets, a cut, odd bytes."""
    lines = text.splitlines(keepends=True)
    kind = draw(st.sampled_from(["none"] * 8 + ["twice_top", "twice_nested", "bomb", "deep", "cut",
                                 "tab", "bom", "bytes", "nul", "anchor"]))
    if kind == "twice_top":
        keys = [line for line in lines if line[:1].isalpha()]
        return (text + draw(st.sampled_from(keys))).encode("utf-8")
    if kind == "twice_nested":
        nested = [i for i, line in enumerate(lines) if line.startswith("  ") and ":" in line]
        if nested:
            i = draw(st.sampled_from(nested))
            lines.insert(i + 1, lines[i])
        return "".join(lines).encode("utf-8")
    if kind == "bomb":
        return (text + _bomb(draw(st.integers(3, 9)))).encode("utf-8")
    if kind == "deep":
        depth = draw(st.sampled_from([65, 1000, 5000]))
        return (text + "deep: " + "[" * depth + "]" * depth + "\n").encode("utf-8")
    if kind == "cut":
        return text[:draw(st.integers(0, len(text)))].encode("utf-8")
    if kind == "tab":
        i = draw(st.integers(0, len(lines)))
        return "".join(lines[:i] + ["\t"] + lines[i:]).encode("utf-8")
    if kind == "bom":
        return ("\ufeff" + text).encode("utf-8")
    data = text.encode("utf-8")
    at = draw(st.integers(0, len(data)))
    if kind == "bytes":
        return data[:at] + b"\xff\xfe\xc3" + data[at:]
    if kind == "nul":
        return data[:at] + b"\x00" + data[at:]
    return (text + "anchor_a: &a {column: x}\nanchor_b: *a\n").encode("utf-8")


def _sample(source: Path, target: Path) -> None:
    """Every k-th data row of ``source`` (and its header), about :data:`SAMPLE_ROWS`, bytes as they are."""
    lines = source.read_bytes().splitlines(keepends=True)
    step = max(1, (len(lines) - 1) // SAMPLE_ROWS)
    target.write_bytes(b"".join(lines[:1] + lines[1::step]))


class _Workspaces(dict):  # type: ignore[type-arg]
    """Example spec -> (folder, tree); shown briefly in Hypothesis' reports."""

    def __repr__(self) -> str:
        return f"<{len(self)} example workspaces>"


@pytest.fixture(scope="module")
def workspaces(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, tuple[Path, dict[str, Any]]]:
    """For each example spec: a folder with a sample of its data, and its tree pointing there."""
    found: dict[Path, tuple[Path, dict[str, Any]]] = _Workspaces()
    for spec_path in EXAMPLE_SPECS:
        folder = tmp_path_factory.mktemp(spec_path.parent.name)
        tree = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
        data = (spec_path.parent / tree["data"]["path"]).resolve()
        _sample(data, folder / f"data{data.suffix}")
        tree["data"]["path"] = f"data{data.suffix}"
        for section in ("model", "training"):
            if isinstance(tree.get(section), dict):
                tree[section]["path"] = str((spec_path.parent / tree[section]["path"]).resolve())
        found[spec_path] = folder, tree
    return found


@st.composite
def _mutated(draw: st.DrawFn, workspaces: dict[Path, tuple[Path, dict[str, Any]]], *,
             gentle: bool = False) -> tuple[Path, bytes]:
    """(folder, the mutated spec's bytes) for one example; ``gentle``: one change a spec may survive
    (:func:`_gentle_mutation`), none to the text, so that many runs go past validation."""
    spec_path = draw(st.sampled_from(EXAMPLE_SPECS))
    folder, tree = workspaces[spec_path]
    for _ in range(1 if gentle else draw(st.sampled_from([0, 1, 1, 1, 2, 3]))):
        tree = draw(_gentle_mutation(tree) if gentle else _tree_mutation(tree))
    text = yaml.safe_dump(tree, allow_unicode=True, sort_keys=False, width=100)
    return folder, text.encode("utf-8") if gentle else draw(_text_mutation(text))


def _check(folder: Path, data: bytes, command: list[str]) -> None:
    """Run ``audit <command> spec.yaml`` on the mutated spec; an answer (exit 0, 1 or 2), in time, no traceback."""
    spec = folder / "spec.yaml"
    spec.write_bytes(data)
    started = time.monotonic()
    result = CliRunner().invoke(main, [*command, str(spec)])
    elapsed = time.monotonic() - started
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    shown = data.decode("utf-8", errors="replace")[:3000]
    assert result.exit_code in (0, 1, 2), f"exit {result.exit_code} for:\n{shown}\n---\n{output[-2000:]}"
    assert "Traceback" not in output and "internal error" not in output, f"{output[-2000:]}\nfor:\n{shown}"
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert elapsed < HANG, f"took {elapsed:.0f} s for:\n{shown}"


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_validate_answers_every_mutated_example_spec(workspaces, data) -> None:
    folder, spec = data.draw(_mutated(workspaces))
    _check(folder, spec, ["validate"])


@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_run_answers_mutated_example_specs_on_a_sample(workspaces, data) -> None:
    folder, spec = data.draw(_mutated(workspaces, gentle=True))
    _check(folder, spec, ["run", "--out", str(folder / "out")])


def test_the_fuzzer_covers_every_example_spec(workspaces) -> None:
    assert len(EXAMPLE_SPECS) >= 10 and set(workspaces) == set(EXAMPLE_SPECS)
    for folder, tree in workspaces.values():
        assert (folder / tree["data"]["path"]).stat().st_size > 0
