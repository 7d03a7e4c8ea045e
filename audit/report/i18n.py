"""The report's languages: translated messages and locale-aware numbers and dates.

English is the source language: a message id *is* the English text. Other
languages come from gettext catalogues kept as ``.po`` text under
``audit/report/locale/<lang>/LC_MESSAGES/report.po`` and read at run time with
Babel, so nothing is compiled or built on a fresh machine. A message the
catalogue lacks (or leaves empty, or marks fuzzy) falls back to English.

Numbers, percentages and dates are formatted with Babel's CLDR data for the
language: ``1,234.5`` in English, ``1.234,5`` in Vietnamese. A missing value
(``None`` or NaN) is shown as an em dash, never as 0.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import gettext as _gettext
import io
import math
from decimal import Decimal
from importlib import resources
from importlib.resources.abc import Traversable
from numbers import Integral, Real

from babel import Locale
from babel.dates import format_date as _babel_format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import NumberPattern, parse_pattern

from audit.errors import ReasonCode, UsageError, did_you_mean

__all__ = ["MISSING", "Translator", "catalogue_path", "format_confidence", "format_date", "format_fixed",
           "format_integer", "format_interval", "format_number", "format_percent", "languages"]

MISSING = "\u2014"
"""What every formatter shows for a missing value (``None`` or NaN): an em dash."""

_LANGUAGES: tuple[str, ...] = ("en", "vi")
_SOURCE_LANGUAGE = "en"
_DOMAIN = "report"
_PACKAGE = "audit.report"
# Long dates without the weekday. CLDR's own long forms are "November 23, 2026" (en) and
# "23 tháng 11, 2026" (vi); a report for a public body reads better as below.
_DATE_PATTERNS = {"en": "d MMMM y", "vi": "d MMMM 'năm' y"}


def languages() -> tuple[str, ...]:
    """The languages a report can be written in, as language codes.

    Examples
    --------
    >>> languages()
    ('en', 'vi')
    """
    return _LANGUAGES


def _check_language(lang: str) -> str:
    if lang not in _LANGUAGES:
        raise UsageError(
            f"report language must be one of {', '.join(_LANGUAGES)}; got {lang!r}"
            f"{did_you_mean(str(lang), _LANGUAGES)}",
            reason=ReasonCode.OPTION_INVALID)
    return lang


def catalogue_path(lang: str, *, package: str = _PACKAGE, domain: str = _DOMAIN) -> Traversable:
    """Where the ``.po`` catalogue of ``lang`` lives inside ``package`` (it need not exist for English).

    The report's catalogue is ``audit/report/locale/<lang>/LC_MESSAGES/report.po``;
    another front end (the app) keeps its own under its package with its own domain.
    """
    return resources.files(package) / "locale" / _check_language(lang) / "LC_MESSAGES" / f"{domain}.po"


@functools.lru_cache(maxsize=None)
def _translations(lang: str, package: str = _PACKAGE, domain: str = _DOMAIN) -> _gettext.NullTranslations:
    """The catalogue of ``lang`` as gettext translations, compiled in memory from the ``.po`` text."""
    if lang == _SOURCE_LANGUAGE:
        return _gettext.NullTranslations()
    with catalogue_path(lang, package=package, domain=domain).open("rb") as handle:
        catalogue = read_po(handle, locale=lang, domain=domain, ignore_obsolete=True, abort_invalid=True)
    # Keep only complete translations: gettext would return an empty plural form as "".
    for message in list(catalogue):
        if not message.id:
            continue  # the header
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(forms):
            catalogue.delete(message.id, context=message.context)
    buffer = io.BytesIO()
    write_mo(buffer, catalogue, use_fuzzy=False)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


class Translator:
    """Translates the report's fixed English texts into one language.

    Parameters
    ----------
    lang : str
        A language code from :func:`languages`.
    package, domain : str
        Where the catalogue lives (see :func:`catalogue_path`); by default the report's.
    fallback : Translator, optional
        Asked for a message this catalogue does not translate (the app falls
        back to the report's catalogue for metric names and verdict words).

    Raises
    ------
    UsageError
        If ``lang`` is not a supported language.

    Examples
    --------
    >>> Translator("vi").gettext("Results")
    'Kết quả'
    >>> Translator("vi").gettext("A sentence nobody translated")
    'A sentence nobody translated'
    >>> Translator("en").ngettext("{n} row", "{n} rows", 2)
    '{n} rows'
    """

    def __init__(self, lang: str, *, package: str = _PACKAGE, domain: str = _DOMAIN,
                 fallback: "Translator | None" = None) -> None:
        self._lang = _check_language(lang)
        self._translations = _translations(lang, package, domain)
        self._fallback = fallback

    @property
    def lang(self) -> str:
        """The language code this translator writes."""
        return self._lang

    def gettext(self, msgid: str) -> str:
        """The translation of ``msgid``, or ``msgid`` itself (English) when there is none."""
        if not msgid:
            return msgid  # gettext would return the catalogue's header for ""
        text = self._translations.gettext(msgid)
        if text == msgid and self._fallback is not None:
            return self._fallback.gettext(msgid)
        return text

    _ = gettext

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The form of a message that agrees with the count ``n`` (English's rule when untranslated)."""
        text = self._translations.ngettext(singular, plural, n)
        if text in (singular, plural) and self._fallback is not None:
            return self._fallback.ngettext(singular, plural, n)
        return text

    def __repr__(self) -> str:
        return f"Translator({self._lang!r})"


@functools.lru_cache(maxsize=None)
def _locale(lang: str) -> Locale:
    return Locale.parse(_check_language(lang))


def _pattern(kind: str, lang: str, fraction_digits: tuple[int, int]) -> tuple[NumberPattern, Locale]:
    locale = _locale(lang)
    formats = locale.percent_formats if kind == "percent" else locale.decimal_formats
    pattern = copy.copy(parse_pattern(formats[None].pattern))
    pattern.frac_prec = fraction_digits
    return pattern, locale


def _as_float(x: object, name: str) -> float | None:
    """``x`` as a float, or None when it is missing (None or NaN)."""
    if x is None:
        return None
    if isinstance(x, bool) or not isinstance(x, (Real, Decimal)):
        raise UsageError(f"{name} must be a real number or None; got {x!r} of type {type(x).__name__}",
                         reason=ReasonCode.OPTION_INVALID)
    value = float(x)
    return None if math.isnan(value) else value


def format_number(x: float | None, lang: str, significant: int = 3) -> str:
    """``x`` rounded to ``significant`` significant digits, in the language's notation.

    Digits left of the decimal point are never rounded away (``12345.6`` gives
    ``12,346``), and trailing zeros after the decimal point are dropped
    (``1.80`` gives ``1.8``). Rounding is half-to-even on the decimal value.

    Parameters
    ----------
    x : real number or None
        The value; ``None`` or NaN gives an em dash. Infinity gives ``∞``.
    lang : str
        A language code from :func:`languages`.
    significant : int, default 3
        Significant digits to keep, at least 1.

    Examples
    --------
    >>> format_number(1234.567, "en"), format_number(1234.567, "vi")
    ('1,235', '1.235')
    >>> format_number(0.012345, "en"), format_number(0.012345, "vi")
    ('0.0123', '0,0123')
    >>> format_number(float("nan"), "en")
    '—'
    """
    if significant < 1:
        raise UsageError(f"significant must be at least 1; got {significant}", reason=ReasonCode.OPTION_INVALID)
    value = _as_float(x, "x")
    if value is None:
        return MISSING
    pattern, locale = _pattern("decimal", lang, (0, _decimals(value, significant)))
    return pattern.apply(value, locale)


def format_integer(n: int | float | None, lang: str) -> str:
    """A count with the language's thousands separator (a non-integer is rounded half to even).

    Examples
    --------
    >>> format_integer(1234567, "en"), format_integer(1234567, "vi")
    ('1,234,567', '1.234.567')
    """
    value = _as_float(n, "n")
    if value is None:
        return MISSING
    pattern, locale = _pattern("decimal", lang, (0, 0))
    return pattern.apply(int(n) if isinstance(n, Integral) else value, locale)


def format_fixed(x: float | None, lang: str, decimals: int = 2) -> str:
    """``x`` with exactly ``decimals`` decimals, in the language's notation (``0.16``, ``0,16``).

    Examples
    --------
    >>> format_fixed(0.1634, "en"), format_fixed(0.1634, "vi"), format_fixed(0.6435, "en", decimals=3)
    ('0.16', '0,16', '0.643')
    >>> format_fixed(None, "en")
    '—'
    """
    if decimals < 0:
        raise UsageError(f"decimals must be at least 0; got {decimals}", reason=ReasonCode.OPTION_INVALID)
    value = _as_float(x, "x")
    if value is None:
        return MISSING
    pattern, locale = _pattern("decimal", lang, (decimals, decimals))
    # round the binary value first, as Python's f"{x:.2f}" does: Babel would round its shortest decimal
    # form half to even (0.6435 is 0.64349999... in binary, so 0.643, not 0.644)
    return pattern.apply(round(value, decimals) if math.isfinite(value) else value, locale)


def format_percent(x: float | None, lang: str, digits: int = 1) -> str:
    """A proportion (``0.123``) as a percentage with exactly ``digits`` decimals (``12.3%``).

    Examples
    --------
    >>> format_percent(0.1234, "en"), format_percent(0.1234, "vi")
    ('12.3%', '12,3%')
    >>> format_percent(None, "vi")
    '—'
    """
    if digits < 0:
        raise UsageError(f"digits must be at least 0; got {digits}", reason=ReasonCode.OPTION_INVALID)
    value = _as_float(x, "x")
    if value is None:
        return MISSING
    pattern, locale = _pattern("percent", lang, (digits, digits))
    return pattern.apply(value, locale)


def format_confidence(confidence: float | None, lang: str) -> str:
    """A confidence level as a percentage to 4 significant digits, more when 4 would round it up to 100%.

    A family-level interval has confidence ``1 - alpha / M``, which can lie very
    close to 1; it is never shown as ``100%``. Trailing zeros are dropped
    (``95%``, not ``95.00%``), as ``audit.outputs.percent`` writes it in summary.md.

    Parameters
    ----------
    confidence : real number or None
        A proportion in (0, 1); ``None`` or NaN gives an em dash.
    lang : str
        A language code from :func:`languages`.

    Examples
    --------
    >>> format_confidence(0.95, "en"), format_confidence(1 - 0.05 / 34, "en"), format_confidence(1 - 0.05 / 34, "vi")
    ('95%', '99.85%', '99,85%')
    >>> format_confidence(1 - 0.05 / 10_000, "en")
    '99.9995%'
    """
    value = _as_float(confidence, "confidence")
    if value is None:
        return MISSING
    percent = value * 100
    digits = 4
    # judged on the English text (no thousands separator below 100), as Babel rounds it: half to even
    while value < 1 and digits < 15 and float(format_number(percent, "en", significant=digits)) >= 100:
        digits += 1
    return f"{format_number(percent, lang, significant=digits)}%"


def _decimals(x: float, significant: int) -> int:
    """Decimals that keep ``significant`` significant digits of ``x`` (none for 0 or a non-finite ``x``)."""
    if x == 0 or not math.isfinite(x):
        return 0
    return max(0, significant - 1 - math.floor(math.log10(abs(x))))


def format_date(date: dt.date | str | None, lang: str) -> str:
    """A date in long form without the weekday: ``23 November 2026`` or ``23 tháng 11 năm 2026``.

    Parameters
    ----------
    date : datetime.date, datetime.datetime, ISO 8601 string or None
        A datetime shows its date only. ``None`` or ``""`` gives an em dash.
    lang : str
        A language code from :func:`languages`.

    Examples
    --------
    >>> import datetime
    >>> format_date(datetime.date(2026, 11, 23), "en")
    '23 November 2026'
    >>> format_date("2026-11-23", "vi")
    '23 tháng 11 năm 2026'
    """
    _check_language(lang)
    if date is None or date == "":
        return MISSING
    if isinstance(date, str):
        try:
            date = dt.date.fromisoformat(date[:10])
        except ValueError:
            raise UsageError(f"date must be an ISO 8601 date such as 2026-11-23; got {date!r}",
                             reason=ReasonCode.OPTION_INVALID) from None
    if isinstance(date, dt.datetime):
        date = date.date()
    if not isinstance(date, dt.date):
        raise UsageError(f"date must be a datetime.date or an ISO 8601 string; got {type(date).__name__}",
                         reason=ReasonCode.OPTION_INVALID)
    return _babel_format_date(date, _DATE_PATTERNS[lang], locale=_locale(lang))


def format_interval(low: float | None, high: float | None, lang: str, significant: int = 3) -> str:
    """An interval in words: ``1.8 to 2.4`` or ``1,8 đến 2,4`` (the word comes from the catalogue).

    Each end is formatted with :func:`format_number`, so a missing end shows as an em dash.

    Examples
    --------
    >>> format_interval(1.8, 2.4, "en"), format_interval(1.8, 2.4, "vi")
    ('1.8 to 2.4', '1,8 đến 2,4')
    """
    to = Translator(lang).gettext("to")
    return (f"{format_number(low, lang, significant=significant)} {to} "
            f"{format_number(high, lang, significant=significant)}")
