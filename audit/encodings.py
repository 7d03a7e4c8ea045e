"""Settle the text encoding of a CSV file that is not UTF-8, by the text each candidate makes of it.

:mod:`audit.readers` reads UTF-8 (with or without a byte-order mark) and
UTF-16/32 with a byte-order mark by itself. A file that is none of these comes
here: :func:`settle` either returns the one legacy encoding that reads it as
plausible text, or raises :class:`Refusal` saying why it cannot tell; the
reader turns that into a ``DataError`` (``DATA_ENCODING``) naming the file.
Nothing here ever changes the text: the chosen codec decodes the bytes as
they are (a cp1258 file keeps its combining tone marks; no NFC).

Candidates
----------
``cp1252`` (Western Europe; Windows' "ANSI" code page and Excel's plain "CSV"
in the Americas and Western Europe), ``cp1258`` (Vietnamese Windows),
``cp1250`` (Central Europe), ``cp1251`` (Cyrillic), ``cp1254`` (Turkish) and
``iso8859-15`` (Latin-9: Unix exports with a euro sign), in that order of
preference for naming a reading they share. Left out on purpose, to be
declared with ``data.encoding`` when needed:

* ``latin-1``: any latin-1 text reads the same in cp1252, except bytes
  0x80-0x9f, which latin-1 turns into invisible C1 control characters.
* DOS code pages (cp437, cp850, ...), Mac Roman, hp-roman8 and the like: they
  give a letter or a box-drawing sign to almost every high byte, so on short
  files they would rival cp1252 on every file, while exports in them are rare.

Two Vietnamese *font* encodings have no Python codec: ``TCVN3`` (ABC, fonts
such as .VnTime) and ``VNI`` (VNI-Windows, fonts such as VNI-Times). They are
read with their tables here (TCVN3: one byte per letter, "Hà Nội" is written
``Hµ Néi`` as cp1252 shows it; VNI: a base letter followed by a diacritic
byte, ``Haø Noäi``) only to recognise them; a file in either is refused with
how to convert it, never read.

How a reading is judged
-----------------------
All candidates are ASCII-compatible, so only *words* that hold a byte of
0x80 or more can tell them apart (a word: a run of ASCII letters and high
bytes other than the no-break space 0xa0). Each distinct word (at most
2,000, first seen first) is read by every candidate. A reading of a word is
implausible when it holds a control, format or unmapped character; a sign
inside the word (``«`` ``¿`` may open a word, ``»`` ``®`` ``°`` close it,
``€`` ``§`` stand alone; ``’`` and ``´`` are apostrophes, ``·`` may stand
between two ``l``); letters of two scripts; a lowercase letter followed by
an uppercase one, one of them not ASCII (``HmûÇng``); a combining mark that
does not follow a vowel, or two in a row (cp1258 writes tone marks after
vowels); no vowel (``Khžng``; r and l count, as in Czech ``vlk``); or
non-ASCII letters that no single language spells. A language spells a word
when its alphabet holds the word's letters and none of them stands where
the language never writes it (``_MISPLACED``: Spanish ñ only before a
vowel, so ``Gdañsk`` is not Spanish; è never before a vowel; Czech ě only
after b p v m d t n; ...). Vietnamese spells a word only when it parses as
Vietnamese syllables (consonants, a vowel nucleus, a final, at most one
tone mark). The languages are those the candidates serve, in five regions
(Western Europe, Central Europe, Cyrillic, Turkish, and Vietnamese with
French).

A reading of the file is scored by its implausible words, then the fewest
regions, then the fewest languages (picked greedily; Icelandic, Estonian
and Slovak count double: their letters sit where other code pages put
common ones) that give every plausible word its language. Candidates that
read every word the same form one reading, named by the preferred
candidate (French and German names read the same in cp1252 and cp1258:
``cp1252``).

Decision
--------
* The best reading has more than 10% implausible words: no candidate fits;
  :func:`choose` returns None and the file is refused as undetectable.
* The best reading beats every other one clearly (:func:`_beaten`): fewer
  implausible words or regions; two languages fewer; one language fewer
  when the other reading's letters are also rarer; or, with as many
  languages, letters rarer by a whole word's worth (a word spelled by one
  language counts 1, by four 0.25; Vietnamese syllables count 0, their
  grammar being the evidence). Otherwise the file is refused, naming the
  tied encodings with a line read each way and telling the user to set
  ``data.encoding`` ("Chăm" in cp1258 is "Chãm" in cp1252). A short file
  with a single such word is refused more often than not: that is the
  point.
* The best reading is TCVN3 or VNI: refused, with how to convert.
* Otherwise its encoding is used, and must decode the whole file.

A file that is not valid UTF-8 but holds UTF-8 words (a word that decodes as
UTF-8 to non-ASCII letters, or to ``’ “ ” – — … € •``) mixes encodings, as
when rows from an old export were pasted into a UTF-8 file: it is refused,
naming the first line that is not UTF-8 and showing its bad bytes as
``\\xNN``, and an example line that is UTF-8.

Cost
----
The choice looks at the first 4 MiB the reader already holds (and, when the
first byte that is not UTF-8 lies beyond them, at 64 KiB from its line). One
pass then decodes the whole file with the chosen codec (the reader's own pass
only checked UTF-8) and notes high byte values that the sample did not hold.
If there are any, the choice is made again on 64 KiB windows from the first
line holding each; a different choice is checked by one more pass. If the
chosen codec cannot decode a later line, the file is refused naming that
line (as a mixed file when the line is UTF-8). UTF-8 files never come here.
Choosing on 4 MiB of text takes a fraction of a second; the
decoding pass runs at the speed of Python's codecs.
"""

from __future__ import annotations

import codecs
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Final, Protocol

__all__ = ["CANDIDATES", "FONT_ENCODINGS", "Choice", "Failure", "Legacy", "Part", "Refusal", "choose",
           "describe", "describe_nul", "locate", "settle"]

CANDIDATES: Final[tuple[str, ...]] = ("cp1252", "cp1258", "cp1250", "cp1251", "cp1254", "iso8859-15")
"""Legacy codecs tried when a file is not UTF-8, most preferred first."""

FONT_ENCODINGS: Final[dict[str, str]] = {"TCVN3": "TCVN3 (ABC)", "VNI": "VNI (VNI-Windows)"}
"""Vietnamese font encodings recognised (and refused): short name -> name shown."""

_BLOCK: Final = 1 << 20
_WINDOW: Final = 64 << 10
_MAX_WORDS: Final = 2000
_BAD_SHARE: Final = 0.10
_RARITY_MARGIN: Final = 1.0
_SHOWN_CHARS: Final = 60          # characters of a line shown on each side of a bad byte
_ASCII: Final = bytes(range(0x80))

_WORD: Final = re.compile(rb"(?<![A-Za-z\x80-\x9f\xa1-\xff])[A-Za-z]*[\x80-\x9f\xa1-\xff][A-Za-z\x80-\x9f\xa1-\xff]*")
_BREAK: Final = re.compile(r"\r\n|\r|\n")

# --------------------------------------------------------------------------- font encodings

_TCVN3: Final[dict[int, str]] = dict(zip(
    bytes.fromhex("a1a2a3a4a5a6a7 a8a9aaabacadae b5b6b7b8b9 bbbcbdbec6 c7c8c9cacb cccecfd0d1 d2d3d4d5d6"
                  "d7d8dcddde dfe1e2e3e4 e5e6e7e8e9 eaebecedee eff1f2f3f4 f5f6f7f8f9 fafbfcfdfe"),
    "ĂÂÊÔƠƯĐ" "ăâêôơưđ" "àảãáạ" "ằẳẵắặ" "ầẩẫấậ" "èẻẽéẹ" "ềểễếệ"
    "ìỉĩíị" "òỏõóọ" "ồổỗốộ" "ờởỡớợ" "ùủũúụ" "ừửữứự" "ỳỷỹýỵ"))
"""TCVN3 (TCVN 5712:1993 VN3, the ABC fonts): byte -> letter; grave, hook, tilde, acute, dot order."""

_VNI_LETTERS: Final[dict[int, str]] = dict(zip(bytes.fromhex("ecede6f3f2 cccdc6d3d2 f4d4f6d6f1d1eece"),
                                               "ìíỉĩị" "ÌÍỈĨỊ" "ơƠưƯđĐỵỴ"))
"""VNI-Windows bytes that are a whole letter: the toned i's, ơ, ư, đ and ỵ."""

_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT = "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"
_CIRCUMFLEX, _BREVE = "\u0302", "\u0306"
_VNI_MARKS: Final[dict[int, tuple[str, str]]] = {byte: (bases, marks) for pair, bases, marks in (
    ("f8d8", "aeouyơư", _GRAVE), ("f9d9", "aeouyơư", _ACUTE), ("fbdb", "aeouyơư", _HOOK),
    ("f5d5", "aeouyơư", _TILDE), ("efcf", "aeouyơư", _DOT),
    ("e2c2", "aeo", _CIRCUMFLEX), ("e0c0", "aeo", _CIRCUMFLEX + _GRAVE), ("e1c1", "aeo", _CIRCUMFLEX + _ACUTE),
    ("e5c5", "aeo", _CIRCUMFLEX + _HOOK), ("e3c3", "aeo", _CIRCUMFLEX + _TILDE), ("e4c4", "aeo", _CIRCUMFLEX + _DOT),
    ("eaca", "a", _BREVE), ("e8c8", "a", _BREVE + _GRAVE), ("e9c9", "a", _BREVE + _ACUTE),
    ("fada", "a", _BREVE + _HOOK), ("fcdc", "a", _BREVE + _TILDE), ("ebcb", "a", _BREVE + _DOT),
) for byte in bytes.fromhex(pair)}
"""VNI-Windows diacritic bytes: byte -> (the plain letters it may follow, the marks it adds)."""


def _tcvn3(data: bytes) -> str:
    return "".join(chr(b) if b < 0x80 else _TCVN3.get(b, "\ufffd") for b in data)


def _vni(data: bytes) -> str:
    out: list[str] = []
    for byte in data:
        mark = _VNI_MARKS.get(byte)
        if byte < 0x80:
            out.append(chr(byte))
        elif mark is not None and out and out[-1].lower() in mark[0]:
            out[-1] = unicodedata.normalize("NFC", out[-1] + mark[1])
        else:
            out.append(_VNI_LETTERS.get(byte, "\ufffd"))
    return "".join(out)


_FONT_READERS: Final[dict[str, Callable[[bytes], str]]] = {"TCVN3": _tcvn3, "VNI": _vni}


def _read(name: str, data: bytes) -> str:
    """``data`` as encoding ``name`` reads it; undecodable bytes become U+FFFD."""
    reader = _FONT_READERS.get(name)
    return reader(data) if reader is not None else data.decode(name, errors="replace")


# --------------------------------------------------------------------------- alphabets

def _alphabet(letters: str) -> frozenset[str]:
    return frozenset(letters) | frozenset(c.upper() for c in letters if len(c.upper()) == 1)


_CYRILLIC_VOWELS: Final = frozenset("аеёиоуыэюяіїєАЕЁИОУЫЭЮЯІЇЄ")
_ALPHABETS: Final[dict[str, frozenset[str]]] = {name: _alphabet(letters) for name, letters in {
    "fr": "àâæçéèêëîïôœùûüÿ", "de": "äöüß", "es": "áéíñóúü", "pt": "áâãàçéêíóôõú", "it": "àèéìíîòóùú",
    "ca": "àçèéíïòóúü", "nl": "áéíóúàèëïöü", "da": "æøåé", "no": "æøåéèêóô", "sv": "åäöé", "fi": "åäöšž",
    "is": "áðéíóúýþæö", "sq": "çë", "et": "äõöüšž",
    "pl": "ąćęłńóśźż", "cs": "áčďéěíňóřšťúůýž", "sk": "áäčďéíĺľňóôŕšťúýž", "hu": "áéíóöőúüű",
    "ro": "ăâîșțşţ", "hr": "čćđšž", "sl": "čšž", "tr": "çğıöşüâîûİ",
    "ru": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя", "uk": "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя",
    "bg": "абвгдежзийклмнопрстуфхцчшщъьюя", "sr": "абвгдђежзијклљмнњопрстћуфхцчџш",
}.items()}
"""Non-ASCII letters of the languages the candidates serve (both cases); Vietnamese is checked by syllable."""

_C: Final = "b-df-hj-np-tv-xzB-DF-HJ-NP-TV-XZ"    # ASCII consonants (not y), for the patterns below
_GRAVE_E: Final = "[èÈ](?=[aeiouyàâäéèêëîïôöùûüAEIOUY])"
_MISPLACED: Final[dict[str, re.Pattern[str]]] = {
    "fr": re.compile(f"{_GRAVE_E}|[àÀ](?!$)|(?<![oO])[ùÙ]|[ùÙ](?!$)"),
    "it": re.compile("[àèìòùÀÈÌÒÙ](?!$)"),
    "ca": re.compile(_GRAVE_E), "nl": re.compile(_GRAVE_E), "no": re.compile(_GRAVE_E),
    "es": re.compile("[ñÑ](?![aeiouáéíóúüAEIOUÁÉÍÓÚÜ])"),
    "pt": re.compile("[ãÃ](?![oeisOEIS]|$)|[õÕ](?![eE])"),
    "pl": re.compile("[ńśćźŃŚĆŹ](?=[aeiouyąęóAEIOUYĄĘÓ])|^[ęąĘĄ]"),
    "cs": re.compile(f"(?<![bpvmdtnBPVMDTN])[ěĚ]|(?<![{_C}])[ůŮ]|[řŘ][rR]|[rR][řŘ]|(?<![aeiouyáéíóúůýě])[ňŇ]$"),
    "sk": re.compile(f"(?<![{_C}])[ŕĺŔĹ]|[ŕĺŔĹ](?![{_C}])|(?<![aeiouyáäéíóôúý])[ňŇ]$"),
    "ro": re.compile("[ăĂ](?=[aeoAEO])"),
    "de": re.compile("^[ßẞ]"),
    "is": re.compile("^[ðÐ]"),
}
"""Letters where their language never writes them, so that a letter a wrong code page put in a word does
not pass for that language: è never before a vowel ("Kuèera"), French à only last and ù only in "où";
Italian à è ì ò ù only last ("kùò"); Spanish ñ only before a vowel ("Gdañsk"), Polish ń ś ć ź never before one
("Espańa") and no word starts with ę or ą; Portuguese ã only before o, e, i, s or at the end, õ only before
e; Czech ě only after b p v m d t n, ů only after a consonant ("oů"), no ř next to r ("Sřren"), a final ň
only after a vowel ("perň"); Slovak ŕ and ĺ only between consonants ("cittŕ", "Ĺlesund"); Romanian ă never
before a, e or o ("Săo"); no word starts with ß or ð."""

_COSTLY: Final[dict[str, int]] = {"is": 2, "et": 2, "sk": 2}
"""Languages whose letters sit where the other candidates put common ones, so that a wrong reading often
"is" Icelandic (ð þ ý where cp1258 has đ ₫ ư and cp1254 has ğ ş ı), Estonian (õ where cp1258 has ơ and
cp1250 ő) or Slovak (whose alphabet holds á ä é í ó ô ú ý, so that cp1250's č ĺ ŕ ň for Western è å à ò
"complete" many Western words): explaining words by them counts double."""

_REGIONS: Final[dict[str, frozenset[str]]] = {
    "Western Europe": frozenset({"fr", "de", "es", "pt", "it", "ca", "nl", "da", "no", "sv", "fi", "is", "sq", "et"}),
    "Central Europe": frozenset({"pl", "cs", "sk", "hu", "ro", "hr", "sl", "de", "sq"}),
    "Cyrillic": frozenset({"ru", "uk", "bg", "sr"}),
    "Turkish": frozenset({"tr"}),
    "Vietnamese": frozenset({"vi", "fr"}),
}

_VI_NUCLEI: Final = (
    "iêu oai oao oay oeo uây uôi uya uyê uyu ươi ươu yêu "
    "ai ao au ay âu ây eo êu ia iê iu oa oă oe oi oo ôi ơi ua uâ uê ui uô uơ uy ưa ưi ưu ươ yê "
    "a ă â e ê i o ô ơ u ư y").split()
_VI_SYLLABLE: Final = re.compile(f"(?:[bcdđfghjklmnpqrstvwxz]{{0,3}}|gi|qu)(?:{'|'.join(_VI_NUCLEI)})"
                                 "(?:ch|nh|ng|[cmnptk])?")
"""A Vietnamese syllable without its tone mark. Consonants are lenient (any up to three, a final k) so that
names from minority languages written in Vietnamese letters pass: Hmông, Krông, Đắk Lắk."""
_VI_TONES: Final = frozenset(_GRAVE + _ACUTE + _HOOK + _TILDE + _DOT)
_VI_MODIFIERS: Final = _CIRCUMFLEX + _BREVE + "\u031b"          # circumflex, breve, horn: under a tone mark

_LEADING: Final = "«„“‘‚‹¿¡"
_TRAILING: Final = "»”“’›®™©°…"
_ALONE: Final = frozenset(_LEADING + _TRAILING + "²³€£¥¢§–—•†‡‰±×÷¼½¾ªº")
"""Signs that may open a word (``«``, ``¿``), close it (``»``, ``®``, ``°``), or stand alone (``€``, ``§``)."""
_APOSTROPHES: Final = frozenset("’‘´")
_UTF8_SIGNS: Final = frozenset("’“”–—…€•")
_NEUTRAL: Final[frozenset[str]] = frozenset()


def _vietnamese(word: str) -> bool:
    """Whether ``word`` (NFC) is Vietnamese syllables, apostrophes left out (``H’Mông``) and split where a
    capital follows a lowercase letter (``ĐắkLắk``)."""
    pieces, current = [], ""
    for char in (c for c in word if c not in _APOSTROPHES):
        if char.isupper() and current[-1:].islower():
            pieces.append(current)
            current = ""
        current += char
    return all(_vietnamese_syllable(p) for p in [*pieces, current])


def _vietnamese_syllable(piece: str) -> bool:
    """Whether ``piece`` is one syllable: at most one tone mark, on a vowel, and the shape of _VI_SYLLABLE."""
    decomposed = unicodedata.normalize("NFD", piece.lower())
    tones = [i for i, c in enumerate(decomposed) if c in _VI_TONES]
    if len(tones) > 1 or any(decomposed[:i].rstrip(_VI_MODIFIERS)[-1:] not in tuple("aeiouy") for i in tones):
        return False
    plain = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _VI_TONES))
    return _VI_SYLLABLE.fullmatch(plain) is not None


# --------------------------------------------------------------------------- judging one word


def _assess(word: str) -> frozenset[str] | None:
    """The languages that spell ``word``; empty when it is no evidence either way (a lone sign such as ``€``,
    or only ASCII letters, as in ``l’Ecole``); None when no text reads so.

    The rules are listed in the module docstring (How a reading is judged).
    """
    if any(unicodedata.category(c)[0] == "C" or c == "\ufffd" for c in word):
        return None
    if word in _ALONE:
        return _NEUTRAL
    core = word.lstrip(_LEADING).rstrip(_TRAILING)
    if not core:
        return None
    if not (_marks_follow_vowels(core) and _only_letters_inside(core)):
        return None
    text = unicodedata.normalize("NFC", core)
    letters = [c for c in text if c.isalpha()]
    if any(unicodedata.category(c) == "Mn" for c in text) or not _one_script(letters) or not _cases_fit(letters):
        return None
    foreign = frozenset(c for c in letters if not c.isascii())
    if not foreign:
        return _NEUTRAL
    if len(letters) > 1 and not _has_vowel(letters):
        return None
    found = {name for name, alphabet in _ALPHABETS.items()
             if foreign <= alphabet and not (name in _MISPLACED and _MISPLACED[name].search(text))}
    if _vietnamese(text):
        found.add("vi")
    return frozenset(found) or None


def _marks_follow_vowels(core: str) -> bool:
    previous = ""
    for char in core:
        if unicodedata.category(char) == "Mn":
            base = unicodedata.normalize("NFD", previous)[:1].lower()
            if base not in set("aeiouy"):
                return False
        previous = char
    return True


def _only_letters_inside(core: str) -> bool:
    for i, char in enumerate(core):
        if char.isalpha() or unicodedata.category(char) == "Mn" or char in _APOSTROPHES:
            continue
        if char == "·" and core[i - 1:i].lower() == "l" and core[i + 1:i + 2].lower() == "l":
            continue
        return False
    return True


def _has_vowel(letters: Sequence[str]) -> bool:
    """Whether a word has a vowel: for Latin words an r or l counts (Czech "vlk", "Brno")."""
    if _is_cyrillic(letters[0]):
        return bool(_CYRILLIC_VOWELS.intersection(letters))
    return any(unicodedata.normalize("NFD", c)[0].lower() in "aeiouyrlæøœ" for c in letters)


def _script(letter: str) -> str | None:
    if letter.isascii() or "\u00c0" <= letter <= "\u024f" or "\u1e00" <= letter <= "\u1eff":
        return None if letter in "×÷" else "latin"
    return "cyrillic" if _is_cyrillic(letter) else None


def _is_cyrillic(letter: str) -> bool:
    return "\u0400" <= letter <= "\u04ff"


def _one_script(letters: Sequence[str]) -> bool:
    scripts = {_script(c) for c in letters}
    return None not in scripts and len(scripts) == 1


def _cases_fit(letters: Sequence[str]) -> bool:
    return not any(a.islower() and b.isupper() and not (a.isascii() and b.isascii())
                   for a, b in zip(letters, letters[1:]))


# --------------------------------------------------------------------------- judging a reading


@dataclass(frozen=True)
class Part:
    """Bytes of the file looked at: the first ones, or a window from the start of a line.

    Attributes
    ----------
    data : bytes
        The bytes, from the start of a line.
    first_line : int
        1-based number of the file's line that ``data`` starts with.
    """

    data: bytes
    first_line: int = 1


@dataclass(frozen=True)
class Choice:
    """The encoding chosen for a file, and the candidates that read its sample the same way."""

    codec: str
    alike: tuple[str, ...]


@dataclass(frozen=True)
class _Score:
    bad: int          # implausible words
    judged: int       # words that are evidence (not neutral)
    regions: int
    languages: int

    @property
    def key(self) -> tuple[int, int, int]:
        return self.bad, self.regions, self.languages

    @property
    def plausible(self) -> bool:
        return self.bad <= _BAD_SHARE * self.judged


@dataclass(frozen=True)
class _Reading:
    names: tuple[str, ...]                          # the encodings that read every word so, most preferred first
    words: tuple[str, ...]                          # each distinct word as read
    verdicts: tuple[frozenset[str] | None, ...]     # each word's languages (see _assess)
    score: _Score

    @property
    def name(self) -> str:
        return self.names[0]

    @property
    def rarity(self) -> float:
        """Sum over the words with a language of :func:`_word_rarity`."""
        return sum(_word_rarity(v) for v in self.verdicts if v)


def _word_rarity(languages: frozenset[str]) -> float:
    """1 / (number of languages that spell a word); 0 for Vietnamese syllables, whose strict grammar (not the
    count of languages sharing their letters) is the evidence."""
    return 0.0 if "vi" in languages else 1 / len(languages)


def _beaten(rival: _Reading, *, by: _Reading) -> bool:
    """Whether ``by`` (ranked first) is clearly better than ``rival``.

    Fewer implausible words decide, else fewer regions; else two languages
    fewer, or one fewer if the rival's letters are also rarer
    (:func:`_rarer`); else letters rarer by at least ``_RARITY_MARGIN``.
    Otherwise the two are a tie, and the file is refused.
    """
    mine, theirs = by.score, rival.score
    if (mine.bad, mine.regions) != (theirs.bad, theirs.regions):
        return (mine.bad, mine.regions) < (theirs.bad, theirs.regions)
    rarer = _rarer(rival, than=by)
    fewer = theirs.languages - mine.languages
    return fewer >= 2 or (fewer == 1 and rarer > 0) or (fewer == 0 and rarer >= _RARITY_MARGIN)


def _rarer(reading: _Reading, *, than: _Reading) -> float:
    """How much rarer ``reading``'s letters are than ``than``'s, on the words they read differently and that
    no one language spells both ways: the sum of the differences of :func:`_word_rarity`.

    "Řrsted" (Czech only) against "Ørsted" (Danish, Norwegian) adds 0.5; "Chơ" (Vietnamese) against "Chõ"
    (Estonian, Vietnamese) adds nothing: Vietnamese spells both.
    """
    return sum(_word_rarity(mine) - _word_rarity(theirs)
               for a, b, mine, theirs in zip(reading.words, than.words, reading.verdicts, than.verdicts)
               if a != b and mine and theirs and not mine & theirs)


def _words(parts: Sequence[Part]) -> list[bytes]:
    """Distinct words with a high byte, first seen first, at most ``_MAX_WORDS``."""
    seen: dict[bytes, None] = {}
    for part in parts:
        seen.update(dict.fromkeys(_WORD.findall(part.data)))
        if len(seen) >= _MAX_WORDS:
            break
    return list(seen)[:_MAX_WORDS]


def _decodes(parts: Sequence[Part], codec: str) -> bool:
    try:
        for part in parts:
            part.data.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def _score(verdicts: Sequence[frozenset[str] | None]) -> _Score:
    """Score a reading from its words' verdicts (:func:`_assess`)."""
    bad = sum(v is None for v in verdicts)
    evidence = [v for v in verdicts if v]
    return _Score(bad=bad, judged=bad + len(evidence), regions=_regions_needed(evidence),
                  languages=_languages_needed(evidence))


def _regions_needed(evidence: Sequence[frozenset[str]]) -> int:
    """Fewest regions whose languages give every word a language (0 when there are no words)."""
    if not evidence:
        return 0
    for size in range(1, len(_REGIONS) + 1):
        for combo in itertools.combinations(_REGIONS.values(), size):
            allowed = frozenset().union(*combo)
            if all(languages & allowed for languages in evidence):
                return size
    return len(_REGIONS) + 1


def _languages_needed(evidence: Sequence[frozenset[str]]) -> int:
    """Cost of the languages picked greedily (most words per cost, ties alphabetically) until every word has
    one. A language costs 1; Icelandic, Estonian and Slovak cost 2 (see ``_COSTLY``)."""
    left = list(evidence)
    cost = 0
    while left:
        tally: dict[str, int] = {}
        for languages in left:
            for language in languages:
                tally[language] = tally.get(language, 0) + 1
        best = min(tally, key=lambda name: (-tally[name] / _COSTLY.get(name, 1), name))
        left = [languages for languages in left if best not in languages]
        cost += _COSTLY.get(best, 1)
    return cost


def _readings(parts: Sequence[Part], words: Sequence[bytes]) -> list[_Reading]:
    names = [c for c in CANDIDATES if _decodes(parts, c)] + list(FONT_ENCODINGS)
    grouped: dict[tuple[str, ...], list[str]] = {}
    for name in names:
        grouped.setdefault(tuple(_read(name, w) for w in words), []).append(name)
    cache: dict[str, frozenset[str] | None] = {}
    readings = []
    for text, group in grouped.items():
        verdicts = tuple(cache[w] if w in cache else cache.setdefault(w, _assess(w)) for w in text)
        readings.append(_Reading(tuple(group), text, verdicts, _score(verdicts)))
    return readings


def _preference(name: str) -> int:
    order = CANDIDATES + tuple(FONT_ENCODINGS)
    return order.index(name)


def choose(sample: Sequence[Part]) -> Choice | None:
    """The legacy encoding that reads ``sample`` as plausible text, or None when none does.

    Parameters
    ----------
    sample : sequence of Part
        The file's first bytes, and windows of later lines (see :func:`settle`).

    Returns
    -------
    Choice or None
        The codec (one of :data:`CANDIDATES`) whose reading scores best, with
        the candidates that read the sample the same; None when even the best
        reading has more than 10% implausible words.

    Raises
    ------
    Refusal
        When another reading with different text is not clearly worse (see
        :func:`_beaten`; naming the tied encodings, with a line read each
        way), or when the best reading is a font encoding (TCVN3, VNI), with
        how to convert the file.

    Examples
    --------
    >>> choose([Part("name\\nMüller\\nHélène\\nFrançois\\n".encode("cp1252"))]).codec
    'cp1252'
    >>> choose([Part("Ê Đê\\nTày\\nNùng\\n".encode("cp1258"))]).codec
    'cp1258'
    """
    words = _words(sample)
    ranked = sorted(_readings(sample, words), key=lambda r: (r.score.key, r.rarity, _preference(r.name)))
    best = ranked[0]
    if not best.score.plausible:
        return None
    rivals = [r for r in ranked[1:] if not _beaten(r, by=best)]
    if rivals:
        raise Refusal(_ambiguous_message(sample, words, [best, *rivals]))
    if best.name in FONT_ENCODINGS:
        raise Refusal(_font_message(sample, words, best))
    return Choice(best.name, best.names)


# --------------------------------------------------------------------------- messages


class Refusal(ValueError):
    """Why a file's encoding cannot be settled; the text follows "Cannot read FILE: "."""


def _where(sample: Sequence[Part], word: bytes) -> tuple[int, bytes]:
    """(1-based line number, line bytes) of the first line of ``sample`` that holds ``word`` as a word."""
    pattern = re.compile(rb"(?<![A-Za-z\x80-\x9f\xa1-\xff])" + re.escape(word) + rb"(?![A-Za-z\x80-\x9f\xa1-\xff])")
    for part in sample:
        found = pattern.search(part.data)
        if found is not None:
            start = max(part.data.rfind(b"\n", 0, found.start()), part.data.rfind(b"\r", 0, found.start())) + 1
            end = min((i for i in (part.data.find(b"\n", found.end()), part.data.find(b"\r", found.end())) if i >= 0),
                      default=len(part.data))
            number = part.first_line + _breaks(part.data[:start].decode("latin-1"))
            return number, part.data[start:end]
    return 0, word                                            # pragma: no cover - every word comes from the sample


def _quoted(text: str, limit: int = 2 * _SHOWN_CHARS) -> str:
    return "'" + (text if len(text) <= limit else text[:limit] + "…") + "'"


def _label(name: str) -> str:
    return FONT_ENCODINGS.get(name, name)


def _ambiguous_message(sample: Sequence[Part], words: Sequence[bytes], tied: Sequence[_Reading]) -> str:
    """Name every tied reading, with the first line on which the first two differ, read each way."""
    word = next(w for w, a, b in zip(words, tied[0].words, tied[1].words) if a != b)
    number, line = _where(sample, word)
    names = [_label(r.name) for r in tied]
    readings = ", ".join(f"{_quoted(_read(r.name, line))} in {_label(r.name)}" for r in tied)
    fonts = [r.name for r in tied if r.name in FONT_ENCODINGS]
    codecs_tied = [f"'{r.name}'" for r in tied if r.name not in FONT_ENCODINGS]
    advice = (f"Set data.encoding in the spec to the right one ({' or '.join(codecs_tied)}), or re-save the file "
              "as UTF-8 (in Excel: Save As > 'CSV UTF-8')." if codecs_tied else "")
    if fonts:
        advice += (f" If it is {_label(fonts[0])}, convert it to Unicode first "
                   f"({_CONVERT.format(name=_label(fonts[0]))}).")
    return (f"its encoding cannot be told apart: it is not UTF-8, and it reads as different, equally plausible "
            f"text in {', '.join(names[:-1])} and {names[-1]}: line {number} reads {readings}. {advice.strip()}")


_CONVERT: Final = ("for example with UniKey's converter, 'Công cụ chuyển mã' (Ctrl+Shift+F6): source "
                   "{name}, destination Unicode; then save the file as CSV UTF-8")


def _font_message(sample: Sequence[Part], words: Sequence[bytes], best: _Reading) -> str:
    word = next((w for w, text in zip(words, best.words) if _read("cp1252", w) != text), words[0])
    number, line = _where(sample, word)
    name = _label(best.name)
    return (f"it looks like Vietnamese text in the {name} font encoding, which is not a text encoding this "
            f"toolkit can read: line {number} shows as {_quoted(_read('cp1252', line))} but reads "
            f"{_quoted(_read(best.name, line))} in {name}. Convert the file to Unicode "
            f"({_CONVERT.format(name=name)}), or re-export it from the source system as UTF-8.")


# --------------------------------------------------------------------------- locating bad bytes


class Failure(Protocol):
    """Where a codec first failed: the offset of the bad bytes, the bytes, and the codec's reason."""

    @property
    def offset(self) -> int: ...

    @property
    def bad(self) -> bytes: ...

    @property
    def reason(self) -> str: ...


@dataclass(frozen=True)
class _Failure:
    offset: int
    bad: bytes
    reason: str


Opener = Callable[[], IO[bytes]]
"""Opens the file's bytes from the start, as a new binary stream the caller closes."""


def _breaks(text: str) -> int:
    return len(_BREAK.findall(text))


def locate(opener: Opener, offset: int, codec: str) -> tuple[int, str]:
    """The line holding byte ``offset``: its 1-based number and its text, bad bytes shown as ``\\xNN``.

    Lines end with LF, CRLF or a lone CR. The bytes before ``offset`` are
    decoded with ``codec`` (they decode: ``offset`` is the first failure), the
    rest of the line with undecodable bytes written as ``\\xNN``. At most 60
    characters are kept on each side of ``offset``, escapes included (cut
    ends shown as ``…``).
    """
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    breaks, tail, done, last = 0, "", 0, ""
    with opener() as stream:
        while done < offset and (chunk := stream.read(min(_BLOCK, offset - done))):
            done += len(chunk)
            text = decoder.decode(chunk)
            breaks += _breaks(text) - (last == "\r" and text[:1] == "\n")
            last = text[-1:] or last
            pieces = _BREAK.split(text)
            tail = (tail + pieces[0] if len(pieces) == 1 else pieces[-1])[-_SHOWN_CHARS - 1:]
        decoder.errors = "backslashreplace"
        after = re.split("[\r\n]", decoder.decode(stream.read(4 * _SHOWN_CHARS), final=True), maxsplit=1)[0]
    line = ("…" + tail[1:] if len(tail) > _SHOWN_CHARS else tail) + after[:_SHOWN_CHARS]
    return breaks + 1, line + ("…" if len(after) > _SHOWN_CHARS else "")


def describe(opener: Opener, failure: Failure, codec: str) -> str:
    """``line N (byte 0xNN at offset M, reason: 'the line')`` for the first bytes ``codec`` could not decode.

    Examples
    --------
    >>> import io
    >>> data = "name\nMüller\n".encode("cp1252")
    >>> describe(lambda: io.BytesIO(data), _Failure(6, b"\xfc", "invalid start byte"), "utf-8")
    "line 2 (byte 0xfc at offset 6, invalid start byte: 'M\\xfcller')"
    """
    number, line = locate(opener, failure.offset, codec)
    shown = " ".join(f"0x{b:02x}" for b in failure.bad[:4]) or "an incomplete character"
    return f"line {number} (byte {shown} at offset {failure.offset}, {failure.reason}: '{line}')"


def describe_nul(opener: Opener, offset: int, codec: str) -> str:
    """``line N holds a NUL byte (0x00) at offset M: 'the line'``, NUL shown as ``\\x00``."""
    number, line = locate(opener, offset, codec)
    shown = line.replace("\x00", "\\x00")
    return f"line {number} holds a NUL byte (0x00) at offset {offset}: '{shown}'"


# --------------------------------------------------------------------------- the whole file


@dataclass(frozen=True)
class Legacy:
    """The legacy encoding settled for a file, and whether the file holds any non-blank text."""

    codec: str
    has_text: bool


@dataclass(frozen=True)
class _Whole:
    failure: _Failure | None          # first bytes the codec could not decode
    has_text: bool
    new: dict[int, int]               # high byte value the sample lacked -> its first offset


def _high_bytes(data: bytes) -> set[int]:
    rest = data.translate(None, _ASCII)
    found: set[int] = set()
    while rest:
        found.add(rest[0])
        rest = rest.translate(None, rest[:1])
    return found


def _check_whole(opener: Opener, codec: str, known: set[int]) -> _Whole:
    """Decode the whole file with ``codec``; note high byte values not in ``known``, and where they first are.

    Stops at the first bytes ``codec`` cannot decode.
    """
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    skip = _ASCII + bytes(sorted(known))
    new: dict[int, int] = {}
    done, has_text = 0, False
    with opener() as stream:
        while block := stream.read(_BLOCK):
            for value in _high_bytes(block.translate(None, skip)):
                new[value] = done + block.find(bytes([value]))
            skip += bytes(sorted(set(new) - set(skip)))
            try:
                text = decoder.decode(block)
            except UnicodeDecodeError as exc:
                start = done + len(block) - len(exc.object) + exc.start   # exc.object ends where block ends
                failure = _Failure(start, bytes(exc.object[exc.start:exc.end]), exc.reason)
                return _Whole(failure, has_text, new)
            has_text = has_text or bool(text.strip())
            done += len(block)
    return _Whole(None, has_text, new)


def _windows(opener: Opener, offsets: Iterable[int]) -> list[Part]:
    """A :class:`Part` of up to 64 KiB from the start of the line holding each offset (overlaps merged)."""
    starts: list[int] = []
    with opener() as stream:
        for offset in sorted(set(offsets)):
            if starts and offset < starts[-1] + _WINDOW:
                continue
            stream.seek(max(0, offset - 4096))
            before = stream.read(offset - max(0, offset - 4096))
            cut = max(before.rfind(b"\n"), before.rfind(b"\r"))
            starts.append(offset - len(before) + cut + 1 if cut >= 0 else offset - len(before))
        numbers = _line_numbers(stream, starts)
        parts = []
        for start, number in zip(starts, numbers):
            stream.seek(start)
            parts.append(Part(stream.read(_WINDOW), number))
    return parts


def _line_numbers(stream: IO[bytes], offsets: Sequence[int]) -> list[int]:
    """1-based numbers of the lines that start at the sorted ``offsets`` (ASCII-compatible bytes)."""
    stream.seek(0)
    numbers, done, breaks, last = [], 0, 0, b""
    for offset in offsets:
        while done < offset and (chunk := stream.read(min(_BLOCK, offset - done))):
            breaks += _breaks(chunk.decode("latin-1")) - (last == b"\r" and chunk[:1] == b"\n")
            last, done = chunk[-1:], done + len(chunk)
        numbers.append(breaks + 1)
    return numbers


def _utf8_example(sample: Sequence[Part]) -> tuple[int, str] | None:
    """The first line of ``sample`` with a word that is UTF-8 text (non-ASCII letters, or signs like ’ or €)."""
    for word in _words(sample):
        try:
            text = word.decode("utf-8")
        except UnicodeDecodeError:
            continue
        verdict = _assess(text)
        if verdict or (verdict is not None and any(c in _UTF8_SIGNS for c in text)):
            number, line = _where(sample, word)
            return number, line.decode("utf-8", errors="backslashreplace")
    return None


def _refuse_mixed(sample: Sequence[Part], utf8_failure: Failure, opener: Opener) -> None:
    """Raise :class:`Refusal` if ``sample`` holds UTF-8 words: the file mixes UTF-8 and another encoding."""
    example = _utf8_example(sample)
    if example is not None:
        raise Refusal(
            f"it mixes encodings: line {example[0]} is UTF-8 ({_quoted(example[1])}), but "
            f"{describe(opener, utf8_failure, 'utf-8')} is not. This happens when rows saved in another encoding "
            "(an old export in cp1252 or cp1258, for example) are pasted into a UTF-8 file. Re-save those rows "
            "as UTF-8, or, if the whole file is in one legacy encoding, set data.encoding in the spec.")


def _choose_checked(sample: Sequence[Part], utf8_failure: Failure, opener: Opener,
                    detect: Callable[[Sequence[Part]], Choice | None]) -> Choice:
    _refuse_mixed(sample, utf8_failure, opener)
    choice = detect(sample)
    if choice is None:
        raise Refusal(
            f"the file is not UTF-8 (UTF-8 cannot decode {describe(opener, utf8_failure, 'utf-8')}), and its "
            f"encoding could not be detected with confidence (tried {', '.join(CANDIDATES)}). Re-save the file "
            "as UTF-8 (in Excel: Save As > 'CSV UTF-8'), or set data.encoding in the spec to its encoding (for "
            "example 'cp1252' or 'cp1258').")
    return choice


def settle(head: bytes, utf8_failure: Failure, opener: Opener,
           detect: Callable[[Sequence[Part]], Choice | None] = choose) -> Legacy:
    """Settle the legacy encoding of a file that is not UTF-8, or refuse it.

    Parameters
    ----------
    head : bytes
        The file's first bytes (the reader keeps 4 MiB).
    utf8_failure : Failure
        Where decoding the file as UTF-8 first failed.
    opener : callable
        Opens the file's bytes from the start (called a few times).
    detect : callable
        The choice on a sample, :func:`choose` unless a caller replaces it.

    Returns
    -------
    Legacy
        The codec, which decodes the whole file, and whether the file holds
        any non-blank text.

    Raises
    ------
    Refusal
        The file mixes UTF-8 and another encoding (naming the first line that
        is not UTF-8, its bad bytes shown as ``\\xNN``); no candidate reads it
        as text; two read it as different plausible text; it is in a
        Vietnamese font encoding; or the chosen codec cannot decode a later
        line (naming it).
    """
    sample = [Part(head)]
    if utf8_failure.offset >= len(head):
        sample += _windows(opener, [utf8_failure.offset])
    choice = _choose_checked(sample, utf8_failure, opener, detect)
    whole = _check_whole(opener, choice.codec, set().union(*(_high_bytes(p.data) for p in sample)))
    if whole.failure is None and whole.new:
        sample += _windows(opener, whole.new.values())
        again = _choose_checked(sample, utf8_failure, opener, detect)
        if again.codec != choice.codec:
            choice, whole = again, _check_whole(opener, again.codec, set(range(0x80, 0x100)))
    if whole.failure is not None:
        _refuse_mixed(sample + _windows(opener, [whole.failure.offset]), utf8_failure, opener)
        raise Refusal(
            f"it is not UTF-8, and its first lines read as {choice.codec}, but {choice.codec} cannot decode "
            f"{describe(opener, whole.failure, choice.codec)}. Set data.encoding in the spec to the file's "
            "encoding, or re-save the file as UTF-8.")
    return Legacy(choice.codec, whole.has_text)
