"""Reading a spec's YAML as its author meant it.

:func:`load_spec_yaml` parses the text of a spec with one loader,
:class:`SpecLoader`, a ``yaml.SafeLoader`` that differs in four ways:

* **Booleans and numbers as in YAML 1.2.** Only ``true`` and ``false`` (in any
  letter case) are booleans; ``yes``, ``no``, ``on``, ``off``, ``y`` and ``n``
  are text. ``010`` is ten (not octal eight), ``1e12`` is a number (not text),
  ``1:30`` is text (not the sexagesimal 90), ``0x1F`` and ``0o17`` are hex and
  octal; as in YAML 1.1, ``_`` may group digits (``10_000``).
* **No duplicate keys.** A key written twice in one mapping, at any level,
  is refused with both line numbers; YAML would keep the last silently. Keys
  that differ in writing but not in value (``1`` and ``1.0``) count as the
  same key. A merge (``<<: *base``) may still be overridden.
* **No blow-ups.** Anchors and aliases are expanded by reference, so a small
  file can stand for a huge tree (the "billion laughs"). The composed tree is
  measured before anything is built from it: more than :data:`MAX_NODES`
  nodes once every alias is expanded, more than :data:`MAX_DEPTH` levels of
  nesting, or an alias inside the node it names (a loop) is refused. Nesting
  is counted while composing, so a 5,000-deep ``[[[[...]]]]`` stops at level
  :data:`MAX_DEPTH` instead of exhausting Python's stack.
* **Data values as written.** Every field that names a value of the data or a
  column (:data:`AS_WRITTEN`: ``decision.positive``, ``protected[].reference``,
  ``decision.tiers.values``' keys, column names, ...) holds the scalar's text
  exactly as written: ``positive: 01`` is ``"01"``, ``1.0`` is ``"1.0"``,
  ``yes`` is ``"yes"`` and ``true`` is ``"true"``, because the data are read as
  written too. A ``null`` there (or an empty value) stays ``None``, the
  field's default; inside a list it is the text it was written as.

Everything else is typed as YAML says. Each refusal is a
:class:`~audit.errors.SpecError` naming the source and the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from audit.errors import Problem, ReasonCode, SpecError

__all__ = ["AS_WRITTEN", "MAX_DEPTH", "MAX_NODES", "SpecLoader", "load_spec_yaml"]

MAX_NODES: Final = 10_000
"""Most nodes (mappings, lists, keys and values) a spec may hold once every alias is expanded."""

MAX_DEPTH: Final = 64
"""Most levels of nesting a spec may have (a real spec has about five)."""

_BOOL: Final = "tag:yaml.org,2002:bool"
_INT: Final = "tag:yaml.org,2002:int"
_FLOAT: Final = "tag:yaml.org,2002:float"
_NULL: Final = "tag:yaml.org,2002:null"
_TIMESTAMP: Final = "tag:yaml.org,2002:timestamp"
_MERGE: Final = "tag:yaml.org,2002:merge"

_BOOL_RE: Final = re.compile(r"^(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$")
_INT_RE: Final = re.compile(r"^(?:[-+]?[0-9][0-9_]*|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT_RE: Final = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
                              r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")


class _Refused(yaml.YAMLError):
    """A spec refused by the loader itself (not a syntax error); its text is the whole message."""

    def __init__(self, message: str, location: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.location = location


class SpecLoader(yaml.SafeLoader):
    """A SafeLoader with YAML 1.2 booleans and numbers that refuses nesting deeper than :data:`MAX_DEPTH`.

    The depth is counted in :meth:`compose_node`, before PyYAML's recursive
    composer goes a level deeper. Values that cannot be built (``!!int abc``,
    an integer of 5,000 digits) raise a ``ConstructorError`` with their line,
    never a bare ``ValueError``.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(f"the spec is nested more than {MAX_DEPTH} levels deep at line "
                               f"{self.peek_event().start_mark.line + 1}; a spec needs about five")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, KeyError, OverflowError) as error:
            shown = node.value if isinstance(node, ScalarNode) else node.id
            reason = str(error).split(";")[0][:80]
            raise ConstructorError(None, None, f"cannot read {str(shown)[:40]!r} as {node.tag.rsplit(':', 1)[-1]} "
                                               f"({reason})", node.start_mark) from None

    def construct_yaml_int(self, node: ScalarNode) -> int:
        """YAML 1.2 integers: decimal (``010`` is ten), ``0o`` octal, ``0x`` hex."""
        text = str(self.construct_scalar(node)).replace("_", "")
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        for prefix, base in (("0o", 8), ("0x", 16), ("0b", 2)):
            if digits.lower().startswith(prefix):
                return sign * int(digits[2:], base)
        return sign * int(digits, 10)


SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL, _INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
SpecLoader.add_implicit_resolver(_BOOL, _BOOL_RE, list("tTfF"))
SpecLoader.add_implicit_resolver(_INT, _INT_RE, list("-+0123456789"))
SpecLoader.add_implicit_resolver(_FLOAT, _FLOAT_RE, list("-+0123456789."))
SpecLoader.add_constructor(_INT, SpecLoader.construct_yaml_int)


class _TextConstructor(SafeConstructor):
    """Builds the same tree with every scalar as the text it was written as (``01`` stays ``"01"``)."""


for _tag in (_BOOL, _INT, _FLOAT, _NULL, _TIMESTAMP, "tag:yaml.org,2002:binary"):
    _TextConstructor.add_constructor(_tag, SafeConstructor.construct_scalar)


# -- the composed tree: size, depth, loops and duplicate keys ----------------------

def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _children(node: Node, path: str) -> Iterator[tuple[Node, str]]:
    """The child nodes of ``node`` with their paths (``decision.positive``, ``policy[0]``); keys are children too."""
    if isinstance(node, SequenceNode):
        for i, child in enumerate(node.value):
            yield child, f"{path}[{i}]"
    elif isinstance(node, MappingNode):
        for key, value in node.value:
            name = key.value if isinstance(key, ScalarNode) else "?"
            yield key, path
            yield value, f"{path}.{name}" if path else str(name)


def _key_problem(mapping: MappingNode, path: str, loader: SpecLoader) -> _Refused | None:
    """The first key of ``mapping`` written twice (as text, or as a value: ``1`` and ``1.0``), or None."""
    by_text: dict[str, ScalarNode] = {}
    by_value: dict[Any, ScalarNode] = {}
    for key, _ in mapping.value:
        if not isinstance(key, ScalarNode) or key.tag == _MERGE:
            continue
        value = loader.construct_object(key)
        first = by_text.get(key.value)
        if first is None:
            try:
                first = by_value.get(value)
            except TypeError:
                first = None
        if first is not None:
            where = f" in '{path}'" if path else ""
            what = (f"key '{key.value}' appears twice" if first.value == key.value else
                    f"keys '{first.value}' and '{key.value}' are the same key")
            location = f"{path}.{key.value}" if path else key.value
            return _Refused(f"{what}{where}, at lines {_line(first)} and {_line(key)}; keep one", location)
        by_text[key.value] = key
        try:
            by_value.setdefault(value, key)
        except TypeError:
            pass
    return None


def check_tree(root: Node, loader: SpecLoader) -> None:
    """Refuse a composed tree that is too big or too deep once aliases are expanded, loops, or repeats a key.

    One pass over the distinct nodes (an alias is visited once), without
    recursion: the expanded size and depth of each node are computed from its
    children's, so a billion-laughs file is measured in microseconds.
    """
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Node, str, bool]] = [(root, "", False)]
    while stack:
        node, path, finished = stack.pop()
        if finished:
            kids = [child for child, _ in _children(node, path)]
            size[id(node)] = 1 + sum(size[id(k)] for k in kids)
            depth[id(node)] = 1 + max((depth[id(k)] for k in kids), default=0)
            open_nodes.discard(id(node))
            if size[id(node)] > MAX_NODES:
                raise _Refused(f"the spec holds more than {MAX_NODES:,} values once its aliases (*name) are "
                               f"expanded (from line {_line(node)}); write the values out instead of repeating "
                               f"anchors")
            if depth[id(node)] > MAX_DEPTH:
                raise _Refused(f"the spec is nested more than {MAX_DEPTH} levels deep once its aliases (*name) are "
                               f"expanded (from line {_line(node)}); a spec needs about five")
            continue
        if id(node) in size:
            continue
        open_nodes.add(id(node))
        if isinstance(node, MappingNode):
            problem = _key_problem(node, path, loader)
            if problem is not None:
                raise problem
        stack.append((node, path, True))
        for child, child_path in _children(node, path):
            if id(child) in open_nodes:
                raise _Refused(f"the alias at line {_line(child)} refers to a node that contains it (a loop); "
                               f"a spec cannot be recursive")
            stack.append((child, child_path, False))


# -- values as written --------------------------------------------------------------

AS_WRITTEN: Final[tuple[tuple[str, ...], ...]] = (
    ("decision", "positive"), ("outcome", "positive"), ("outcome", "checked", "positive"),
    ("final_decision", "positive"),
    ("protected", "*", "reference"), ("intersections", "*", "reference"),
    ("decision", "tiers", "values", "{keys}"),
    ("data", "missing"),
    ("decision", "column"), ("outcome", "column"), ("outcome", "checked"), ("outcome", "checked", "column"),
    ("final_decision",), ("final_decision", "column"), ("score", "column"),
    ("protected", "*", "column"), ("intersections", "*"), ("intersections", "*", "columns"),
    ("amounts", "*", "column"), ("data", "weight"), ("data", "count_column"),
    ("proxies", "columns"), ("proxies", "exclude"), ("model", "features"), ("model", "flip_attributes"),
    ("policy", "*", "attributes"), ("policy", "*", "views"),
)
"""Paths of the fields that hold data values or names as written. ``*`` is every item of a list;
``{keys}`` is a mapping's keys. At the end of a path, a scalar becomes its text (a ``null`` stays None),
a list's scalar items become theirs, and a mapping is left as it is (its own paths cover it)."""


def _as_text(typed: Any, text: Any) -> Any:
    """The value at the end of a path: the written text of a scalar or of a list's scalar items."""
    if isinstance(typed, list) and isinstance(text, list) and len(typed) == len(text):
        return [t if isinstance(t, str) and not isinstance(v, (dict, list)) else v for v, t in zip(typed, text)]
    if typed is None or isinstance(typed, (dict, list)) or not isinstance(text, str):
        return typed
    return text


def _overlay(typed: Any, text: Any, path: tuple[str, ...]) -> Any:
    """``typed`` with the text of ``text`` (the same tree, built as text) at ``path``; copies what it changes."""
    if not path:
        return _as_text(typed, text)
    step, rest = path[0], path[1:]
    if step == "*":
        if not (isinstance(typed, list) and isinstance(text, list) and len(typed) == len(text)):
            return typed
        return [_overlay(v, t, rest) for v, t in zip(typed, text)]
    if step == "{keys}":
        if not (isinstance(typed, dict) and isinstance(text, dict) and len(typed) == len(text)):
            return typed
        return {(t if k is not None else k): v for (k, v), t in zip(typed.items(), text)}
    if not (isinstance(typed, dict) and isinstance(text, dict) and step in typed and step in text):
        return typed
    return {**typed, step: _overlay(typed[step], text[step], rest)}


def _written(typed: Any, text: Any) -> Any:
    """``typed`` with the fields of :data:`AS_WRITTEN` replaced by their text as written."""
    for path in AS_WRITTEN:
        typed = _overlay(typed, text, path)
    return typed


# -- the entry point ----------------------------------------------------------------

def load_spec_yaml(text: str, *, source: str) -> Any:
    """Parse a spec's YAML text as meant (see the module docstring); None for an empty document.

    Raises
    ------
    SpecError
        ``SPEC_NOT_YAML`` for text that is not YAML (with the line and
        column), ``SPEC_INVALID`` for a duplicate key, a tree too big or too
        deep, or a loop of aliases; each names ``source`` and the line.
    """
    try:
        loader = SpecLoader(text)
    except yaml.reader.ReaderError as error:
        line = text[:error.position].count("\n") + 1
        raise SpecError(f"{source} is not valid YAML at line {line}: it holds the character "
                        f"U+{error.character:04X}, which YAML does not allow; remove it",
                        reason=ReasonCode.SPEC_NOT_YAML) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        check_tree(node, loader)
        typed = loader.construct_document(node)
        written = _TextConstructor().construct_document(node)
    except _Refused as refused:
        raise SpecError(f"{source}: {refused.message}", reason=ReasonCode.SPEC_INVALID,
                        problems=[Problem(refused.location, refused.message)]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise SpecError(f"{source} is not valid YAML{where}: {problem}", reason=ReasonCode.SPEC_NOT_YAML) from None
    finally:
        loader.dispose()
    return _written(typed, written)
