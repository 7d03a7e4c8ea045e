"""The report's typeface: DejaVu Sans, subset to the text and embedded as data: URLs.

A report must look the same on every machine and must not fetch anything, so
the HTML carries its own font: ``@font-face`` rules for the family
``Report Sans`` whose sources are ``data:`` URLs holding WOFF subsets of
DejaVu Sans (regular and bold). A subset keeps only the characters the report
uses, plus printable ASCII and every Vietnamese letter, so a report that is
edited by hand later can still be typed in either language; the two weights
together take about 40 KB of base64.

The fonts ship in ``audit/report/fonts/`` with their licence
(``LICENSE-DejaVu.txt``); each subset keeps the fonts' copyright and licence
records (name IDs 0, 13 and 14).
"""

from __future__ import annotations

import base64
import functools
import html
import io
import unicodedata
from importlib import resources

from fontTools import subset
from fontTools.ttLib import TTFont

__all__ = ["FAMILY", "base_characters", "font_face_css"]

FAMILY = "Report Sans"
"""The CSS font-family name the ``@font-face`` rules define."""

_FACES = (("DejaVuSans.ttf", 400), ("DejaVuSans-Bold.ttf", 700))
_VIETNAMESE_VOWELS = "aăâeêioôơuưy"
# Grave, acute, hook above, tilde, dot below: the five Vietnamese tone marks, also kept as combining
# characters so text in decomposed (NFD) form still renders.
_TONE_MARKS = ("\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
# Characters audit.report.i18n and typical report prose emit beyond ASCII: no-break spaces, dashes,
# ellipsis, typographic quotes, bullet, minus, comparison signs, infinity, multiplication sign.
_TYPOGRAPHY = "\u00a0\u202f\u2013\u2014\u2026\u2018\u2019\u201c\u201d\u2022\u2212\u2264\u2265\u221e\u00d7"


@functools.lru_cache(maxsize=1)
def base_characters() -> frozenset[str]:
    """The characters every subset holds whatever the text: printable ASCII, Vietnamese letters, typography."""
    ascii_printable = {chr(code) for code in range(0x20, 0x7F)}
    letters = {unicodedata.normalize("NFC", vowel + mark)
               for vowel in _VIETNAMESE_VOWELS + _VIETNAMESE_VOWELS.upper() for mark in ("",) + _TONE_MARKS}
    return frozenset(ascii_printable | letters | {"đ", "Đ"} | set(_TONE_MARKS) | set(_TYPOGRAPHY))


@functools.lru_cache(maxsize=None)
def _font_bytes(filename: str) -> bytes:
    return (resources.files("audit.report") / "fonts" / filename).read_bytes()


def _subset_woff(filename: str, codepoints: frozenset[int]) -> bytes:
    """A WOFF file holding the glyphs of ``codepoints`` that the font has, without hinting."""
    options = subset.Options()
    options.flavor = "woff"
    options.hinting = False  # PDF and screen rendering do not need it; it doubles the size
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # keep copyright (0) and licence (13, 14)
    options.name_languages = [0x409]
    options.notdef_outline = True
    options.drop_tables = [*options.drop_tables, "FFTM"]  # FontForge timestamps; unknown to the subsetter
    font = TTFont(io.BytesIO(_font_bytes(filename)), lazy=True, recalcTimestamp=False)  # same text, same bytes
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(codepoints))
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.flavor = "woff"
    font.save(buffer)
    return buffer.getvalue()


@functools.lru_cache(maxsize=8)
def _css_for(characters: frozenset[str]) -> str:
    codepoints = frozenset(ord(c) for c in characters)
    rules = []
    for filename, weight in _FACES:
        data = base64.b64encode(_subset_woff(filename, codepoints)).decode("ascii")
        rules.append(
            f'@font-face {{ font-family: "{FAMILY}"; font-style: normal; font-weight: {weight}; '
            f'src: url(data:font/woff;base64,{data}) format("woff"); }}')
    return "\n".join(rules)


def font_face_css(text: str) -> str:
    """``@font-face`` rules for ``Report Sans``, regular (400) and bold (700), embedding font subsets.

    Parameters
    ----------
    text : str
        Every piece of text the page shows, e.g. the rendered HTML itself:
        HTML character references (``&eacute;``) are decoded, and markup only
        adds ASCII, which every subset holds anyway. Characters DejaVu Sans
        lacks (e.g. CJK) are left out and fall back to the next font in the
        CSS ``font-family`` list.

    Returns
    -------
    str
        Two ``@font-face`` rules (no ``<style>`` element) whose ``src`` is a
        ``data:font/woff;base64,...`` URL: no network, no file path. The
        result is cached by character set, and the same characters always
        give the same text.

    Examples
    --------
    >>> css = font_face_css("Kiểm toán thuật toán")
    >>> css.count("@font-face"), 'font-family: "Report Sans"' in css, "data:font/woff;base64," in css
    (2, True, True)
    """
    decoded = html.unescape(text)
    characters = set(text) | set(decoded) | set(unicodedata.normalize("NFC", decoded))
    # Control characters and lone surrogates have no glyphs; everything else the font has is kept.
    shown = {c for c in characters if unicodedata.category(c) not in ("Cc", "Cs")}
    return _css_for(frozenset(shown) | base_characters())
