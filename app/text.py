"""The app's words in the visitor's language: English or Vietnamese, switchable at any time.

English is the source language: a message id *is* the English text. The
Vietnamese catalogue is ``app/locale/vi/LC_MESSAGES/app.po`` (read at run
time, nothing to compile); a message it lacks falls back to the report's
catalogue (metric names, verdict words), then to English. Numbers follow the
language (``1,92`` in Vietnamese) through the report's Babel formatters, and a
missing number shows as an em dash, never as 0.

The language lives in ``st.session_state["lang"]``; every page reads it at
each run, so switching it redraws the whole app in the other language.
"""

from __future__ import annotations

import functools
import math
import re

import streamlit as st

from audit.report.i18n import (MISSING, Translator, format_integer, format_interval, format_number,
                               format_percent)
from audit.outputs import markdown_cell

LANGUAGES: dict[str, str] = {"en": "English", "vi": "Tiếng Việt"}
"""Language code -> the language's own name (shown in the switcher)."""

UNTRANSLATED: set[str] = set()
"""Message ids asked for in Vietnamese that no catalogue translates (the tests read it)."""


@functools.lru_cache(maxsize=None)
def translator(lang: str) -> Translator:
    """The app's translator for ``lang``, falling back to the report's catalogue."""
    return Translator(lang, package="audit_app", domain="app", fallback=Translator(lang))


def lang() -> str:
    """The visitor's language code (``en`` until they choose another)."""
    value = st.session_state.get("lang") or st.session_state.get("lang.kept") or "en"
    return value if value in LANGUAGES else "en"


def _(msgid: str) -> str:
    """``msgid`` in the visitor's language (English when it has no translation)."""
    code = lang()
    text = translator(code).gettext(msgid)
    if code != "en" and text == msgid and any(c.isalpha() for c in msgid):
        UNTRANSLATED.add(msgid)
    return text


def n_(singular: str, plural: str, n: int) -> str:
    """The form of a message that agrees with ``n``, in the visitor's language."""
    code = lang()
    text = translator(code).ngettext(singular, plural, n)
    if code != "en" and text in (singular, plural):
        UNTRANSLATED.add(singular)
    return text


def num(x: float | None, significant: int = 3) -> str:
    """A number in the visitor's notation (em dash when missing)."""
    return format_number(x, lang(), significant=significant)


def count(n: int | float | None) -> str:
    """A count with the language's thousands separator."""
    return format_integer(n, lang())


def pct(x: float | None, digits: int = 1) -> str:
    """A proportion as a percentage."""
    return format_percent(x, lang(), digits=digits)


def p_text(p: float | None) -> str:
    """A p-value to two significant digits, in the visitor's notation.

    Below 0.001 it is written with an exponent (``2.6e-163``, ``2,6e-163``),
    so a tiny value never fills the cell with zeros; one that underflowed to 0
    is ``< 1e-300``, never ``0``. A missing p-value (no test) is an em dash.
    """
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return MISSING
    value = float(p)
    if value == 0.0:
        return "< 1e-300"
    if value >= 1e-3:
        return num(value, 2)
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{num(float(mantissa), 2)}e{int(exponent)}"


def confidence_pct(confidence: float) -> str:
    """A confidence level as a percentage with the decimals it needs to show its complement (``95%``, ``99.964%``).

    The digits are those of :func:`audit.outputs.percent` (what ``audit run``
    prints), the notation the visitor's.
    """
    from audit.outputs import percent

    written = percent(confidence).rstrip("%")
    return pct(confidence, len(written.partition(".")[2]))


def span(low: float | None, high: float | None) -> str:
    """An interval in words (``1.8 to 2.4``)."""
    return format_interval(low, high, lang())


# A colon before a letter: Streamlit's Markdown reads ":red[text]" as coloured text and ":material/icon:" as an icon.
_DIRECTIVE = re.compile(r":(?=[A-Za-z])")


def plain(value: object) -> str:
    """A value from the data or the spec for a Streamlit element that reads Markdown (``st.markdown``,
    ``st.caption``, ``st.title``, ``st.info``, ``st.error``, ``st.toast``, expander labels, radio and
    segmented-control options): shown as written, never as an image, a link with a hidden address, HTML,
    emphasis, a formula or a new block.

    The value is escaped as :func:`audit.outputs.markdown_cell` escapes a value of summary.md (line breaks,
    control characters and bidirectional controls made visible, then a backslash before what Markdown would
    read as markup), and a ``:`` before a letter is escaped too (Streamlit's colour and icon directives).
    Streamlit still turns a bare address (``http://…``, ``www.…``) into a link showing that address; a value
    that must not even be that goes through ``st.text``, which shows text as it is.

    Examples
    --------
    >>> print(plain("![x](http://e/a.png) a|b\\n:red[1] (n = 3)"))
    ![x\\](http://e/a.png) a\\|b↵\\:red[1] (n = 3)
    """
    return _DIRECTIVE.sub(r"\\:", markdown_cell(value))


def plain_lines(text: object) -> str:
    """A message of several lines (a toolkit error naming files, columns and values) for a Streamlit element
    that reads Markdown: each line :func:`plain`, a line ``  - problem`` as an item of a list, the others
    ending in a hard line break."""
    lines = []
    for line in str(text).replace("\r\n", "\n").split("\n"):
        item = line.lstrip()
        lines.append(f"- {plain(item[2:])}" if item.startswith("- ") else plain(line) + "  ")
    return "\n".join(lines)


def verdict_word(verdict: str) -> str:
    """``pass``, ``fail`` or ``inconclusive`` in the visitor's language."""
    return {"pass": _("pass"), "fail": _("fail"), "inconclusive": _("inconclusive")}.get(verdict, verdict)


__all__ = ["LANGUAGES", "MISSING", "UNTRANSLATED", "translator", "lang", "_", "n_", "num", "count", "pct", "p_text",
           "confidence_pct", "span", "plain", "plain_lines", "verdict_word"]
