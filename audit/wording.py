"""Plain-language phrasing of numbers and directions, shared by every renderer."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from audit.metrics import METRICS

SYMBOL = {"pass": "PASS", "fail": "FAIL", "inconclusive": "INCONCLUSIVE"}

LINE_BREAK_SHOWN = "↵"
# Line breaks (\r\n as one), other control characters (C0, DEL, C1), the bidirectional controls (marks,
# embeddings, overrides, isolates), the line and paragraph separators, lone surrogates and the BMP's noncharacters.
_INVISIBLE = re.compile("\r\n|[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                        "\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
_LINE_BREAKS = frozenset("\r\n \n \r \v \f \x1c \x1d \x1e \x85 \u2028 \u2029".split(" "))


def number(value: Any, digits: int = 3) -> str:
    """A number to ``digits`` significant digits, or ``n/a`` for a missing one."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return f"{value:,}"
    return f"{value:.{digits}g}"


def escaped(character: str) -> str:
    """A character as a visible escape: ``\\t`` for a tab, else ``\\x01``, ``\\u202e`` or ``\\U0001fffe``.

    Examples
    --------
    >>> print(escaped("\\x01"), escaped("\\t"), escaped("\\u202e"), escaped("\\U0001fffe"))
    \\x01 \\t \\u202e \\U0001fffe
    """
    code = ord(character)
    if character == "\t":
        return "\\t"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(text: Any, *, newlines: bool = False) -> str:
    """``text`` as written, with every character that would change how a line is shown made visible.

    A line break (``\\n``, ``\\r\\n``, ``\\r``, ``\\v``, ``\\f``, NEL, U+2028, U+2029) is shown as ``↵``, so
    one value stays on one line (a table's row, a list's item); with ``newlines`` a ``\\n`` or ``\\r\\n`` is kept
    as a line break (for our own messages of several lines). Every other control character, the bidirectional
    controls (U+202E RIGHT-TO-LEFT OVERRIDE and its kin, which would reverse the text shown after them), lone
    surrogates and noncharacters are written as escapes (:func:`escaped`). Everything else, letters of any
    script, emoji, markup-like text such as ``[/b]`` and ``:smile:``, is kept. The result has no control
    characters, so applying :func:`visible` again changes nothing. An escape looks like the same text typed
    out (``\\x01``): the exact value is in result.json.

    Examples
    --------
    >>> print(visible("a\\nb\\x01[/b]:smile:\\u202eKinh"))
    a↵b\\x01[/b]:smile:\\u202eKinh
    >>> print(visible("line one\\r\\nline two", newlines=True))
    line one
    line two
    """
    return _INVISIBLE.sub(lambda m: _shown(m.group(), newlines), str(text))


def _shown(found: str, newlines: bool) -> str:
    if newlines and found in ("\n", "\r\n"):
        return "\n"
    return LINE_BREAK_SHOWN if found in _LINE_BREAKS else escaped(found)


FSI, PDI = "\u2068", "\u2069"
"""FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE: the text between them is laid out on its own (Unicode
bidirectional algorithm, UAX #9), in the direction of its first strong letter."""
_INITIATORS = frozenset("\u2066\u2067\u2068")  # LRI, RLI, FSI
# The bidirectional classes that can move text around them in a left-to-right line: right-to-left letters and
# Arabic digits, and the explicit embeddings, overrides and isolates; '' is a code point this Python does not
# know, which a newer renderer may read as right-to-left.
_REORDERING = frozenset({"R", "AL", "AN", "LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI", ""})
# Paragraph separators (bidi class B): the end of every embedding and isolate.
_PARAGRAPH = re.compile("([\n\r\x1c-\x1e\x85\u2029])")


def needs_isolation(text: Any) -> bool:
    """Whether ``text`` could reorder the text around it in a left-to-right line.

    It could when it holds a right-to-left letter, an Arabic digit, an explicit bidirectional control (an
    embedding, override or isolate, such as U+202E RIGHT-TO-LEFT OVERRIDE) or a code point this Python's
    Unicode tables do not know. Text of left-to-right letters, digits, punctuation and spaces only cannot: in
    a left-to-right report it is shown exactly where it is written, isolated or not.

    Examples
    --------
    >>> needs_isolation("Kinh"), needs_isolation("12 (a|b)"), needs_isolation("\\u202e12"), needs_isolation("עברית")
    (False, False, True, True)
    """
    return any(unicodedata.bidirectional(ch) in _REORDERING for ch in str(text))


def balanced(text: Any) -> str:
    """``text`` with every character kept as written, and bidirectional controls added so that it closes what
    it opens and closes nothing it did not open: one FSI before it per pop of an isolate (PDI) it holds with no
    initiator, one PDI after it per isolate it leaves open. An override or embedding it opens ends at the PDI
    of the isolate it is placed in. Text with a paragraph separator (a line break, U+2029), which ends every
    isolate, is balanced and isolated paragraph by paragraph (:func:`isolated`), so no paragraph of it leaks.

    Placed between FSI and PDI (:func:`isolated`) or in an HTML ``<bdi>``, the result cannot reorder anything
    outside it.

    Examples
    --------
    >>> balanced("\\u2069\\u202e12") == FSI + "\\u2069\\u202e12", balanced("\\u2067ab") == "\\u2067ab" + PDI
    (True, True)
    >>> balanced("Kinh")
    'Kinh'
    """
    text = str(text)
    if _PARAGRAPH.search(text) and needs_isolation(text):
        return "".join(part if _PARAGRAPH.fullmatch(part) else FSI + _balanced_line(part) + PDI
                       for part in _PARAGRAPH.split(text) if part)
    return _balanced_line(text)


def _balanced_line(text: str) -> str:
    """``text`` (no paragraph separator) with an FSI before it per unmatched PDI, a PDI after it per open isolate."""
    depth = unmatched = 0
    for ch in text:
        if ch in _INITIATORS:
            depth += 1
        elif ch == PDI:
            depth, unmatched = (depth - 1, unmatched) if depth else (0, unmatched + 1)
    return FSI * unmatched + text + PDI * depth


def isolated(text: Any) -> str:
    """``text`` for a line of plain text (a sentence, an SVG label, a window title): as written when it cannot
    reorder the text around it (:func:`needs_isolation`), else :func:`balanced` between FSI (U+2068) and PDI
    (U+2069), so that a value such as ``"\\u202e12 34"`` reverses only itself and the numbers after it stay in
    order. The characters of the value are all kept; the isolates are invisible.

    Examples
    --------
    >>> isolated("Kinh"), isolated("\\u202e12") == FSI + "\\u202e12" + PDI
    ('Kinh', True)
    """
    text = str(text)
    if not needs_isolation(text):
        return text
    inner = balanced(text)
    return inner if _PARAGRAPH.search(text) else FSI + inner + PDI


def p_value(value: Any) -> str:
    """A p-value to two significant digits; one that underflowed to 0 is ``< 1e-300``, never ``0``.

    Examples
    --------
    >>> p_value(0.0123), p_value(2.6e-163), p_value(0.0), p_value(None)
    ('0.012', '2.6e-163', '< 1e-300', 'n/a')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return "< 1e-300" if float(value) == 0 else number(float(value), 2)


def percent(confidence: float) -> str:
    """A confidence as a percentage: 4 significant digits, more when needed to show its complement (the error)
    to within 5% (so 99.9995% never reads as 99.999% or 100%).

    Examples
    --------
    >>> percent(0.95), percent(1 - 0.05 / 34), percent(1 - 0.05 / 10_000)
    ('95%', '99.85%', '99.9995%')
    """
    value, error = confidence * 100.0, (1.0 - confidence) * 100.0
    digits = 4
    text = f"{value:.{digits}g}"
    while digits < 15 and abs(float(text) - value) > 0.05 * error:
        digits += 1
        text = f"{value:.{digits}g}"
    return text + "%"


def interval(low: Any, high: Any) -> str:
    """``a to b``, or ``n/a`` when either end is missing."""
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (low, high)):
        return "n/a"
    return f"{number(low)} to {number(high)}"


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def is_finite(value: Any) -> bool:
    """Whether a table cell holds a finite number (False for None, NaN, inf and text)."""
    return math.isfinite(_as_float(value))


def is_infinite(value: Any) -> bool:
    """Whether a table cell holds an infinite number (a size no sample reaches)."""
    return math.isinf(_as_float(value))


def people(value: Any) -> str:
    """A whole number of people with thousands separators (``n/a`` when missing)."""
    return f"{int(value):,}" if is_finite(value) else "n/a"


def to_decide(row: Mapping[str, Any]) -> str:
    """What would decide an inconclusive verdict, in words (empty when nothing can be said).

    ``row`` is a verdicts-table row: its ``detectable_ratio`` or
    ``detectable_difference`` (by the rule's ``bound``), ``needed_n``,
    ``needed_reference_n`` and ``needed_known_outcomes``.

    Examples
    --------
    >>> to_decide({"bound": "ratio", "detectable_ratio": 0.52, "needed_n": 371, "needed_reference_n": None,
    ...            "needed_known_outcomes": 290})
    'detectable with 80% power: a ratio of 0.52 or further from parity; at the observed rates the group needs 371 people (290 with a known outcome)'
    """
    parts = []
    bound = row.get("bound", "ratio")
    detectable = row.get(f"detectable_{bound}")
    if is_finite(detectable):
        parts.append(f"detectable with 80% power: a {bound} of {number(float(detectable))} or further from parity")
    needed = row.get("needed_n")
    if is_infinite(needed):
        parts.append("at the observed rates no group size decides it (the estimate sits on the band's edge or "
                     "equals the reference)")
    elif is_finite(needed):
        known = row.get("needed_known_outcomes")
        reference = row.get("needed_reference_n")
        text = f"at the observed rates the group needs {people(needed)} people"
        if is_finite(known):
            text += f" ({people(known)} with a known outcome)"
        if is_finite(reference):
            text += f" and the reference {people(reference)}"
        parts.append(text)
    return "; ".join(parts)


def direction(disadvantaged: Any, metric: str, adverse: bool) -> str:
    """Who the difference works against, in words (empty when the metric has no direction)."""
    if disadvantaged is None or (isinstance(disadvantaged, float) and math.isnan(disadvantaged)):
        return ""
    if metric in METRICS and METRICS[metric].worse_when(adverse=adverse) is None:
        return ""
    if disadvantaged:
        return "worse for this group" + (" (the decision is adverse)" if adverse else "")
    return "better for this group than the reference"


def tier_runs(tiers: Mapping[str, str]) -> list[tuple[tuple[str, ...], str]]:
    """The tiers in their listed order, consecutive tiers of the same kind run together.

    Examples
    --------
    >>> tier_runs({"low": "adverse", "normal": "neutral", "high": "favourable", "urgent": "favourable"})
    [(('low',), 'adverse'), (('normal',), 'neutral'), (('high', 'urgent'), 'favourable')]
    """
    runs: list[tuple[tuple[str, ...], str]] = []
    for tier, kind in tiers.items():
        if runs and runs[-1][1] == kind:
            runs[-1] = (runs[-1][0] + (tier,), kind)
        else:
            runs.append(((tier,), kind))
    return runs


def tiers_sentence(column: str, tiers: Mapping[str, str] | None, values: Sequence[str] = (), *,
                   ordered: bool = True) -> str:
    """The tiers of a decision and what each is for the person, e.g.
    ``tiers of 'priority': low (adverse), normal (neutral), high, urgent (favourable)``.

    Without ``tiers`` (their kinds unknown) the tier ``values`` are listed alone.

    Examples
    --------
    >>> tiers_sentence("priority", {"low": "adverse", "high": "favourable"})
    "tiers of 'priority': low (adverse), high (favourable)"
    >>> tiers_sentence("priority", None, ("low", "high"))
    "tiers of 'priority': low, high"
    """
    listed = (", ".join(f"{', '.join(names)} ({kind})" for names, kind in tier_runs(tiers)) if tiers
              else ", ".join(values))
    return f"tiers of '{column}'{'' if ordered else ' (unordered)'}: {listed}"


def decision_sentence(mapping: Any, adverse: bool, *, tiers: Any = None) -> str:
    """What a positive decision is and whether it harms the person; for tiers, each tier and its kind.

    ``tiers`` is the spec's :class:`~audit.spec.TiersSpec` (``spec.tiers``); a
    tiers decision given without it lists its tiers without their kinds, never
    as a "positive decision".
    """
    if tiers is not None or getattr(mapping, "field", "") == "decision.tiers":
        return tiers_sentence(mapping.column, tiers.values if tiers is not None else None,
                              tuple(mapping.values), ordered=tiers.ordered if tiers is not None else True)
    values = ", ".join(mapping.positive_values)
    effect = ("a positive decision harms the person (adverse): higher rates of it are a disadvantage"
              if adverse else "a positive decision benefits the person (favourable): lower rates of it are a "
                              "disadvantage")
    return f"positive decision: '{mapping.column}' in {{{values}}}; {effect}"
