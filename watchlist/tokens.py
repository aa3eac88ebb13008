"""FTS5-exact tokenization: ``unicode61 remove_diacritics 2``, reimplemented in Python.

Tokenization mirrors SQLite FTS5's ``unicode61 remove_diacritics 2`` tokenizer exactly, so
that Python (highlighting, verification) and FTS5 (matching) find the same words.  What FTS5
does, and what therefore :func:`tokenize` does, differs from a naive ``casefold`` + NFKD
approach:

* Diacritics are removed only from letters whose base letter is ASCII (``é`` → ``e``,
  ``ñ`` → ``n``, ``İ`` → ``i``).  Cyrillic ``й``/``ё``, Greek ``ά`` and Arabic ``أ`` keep
  theirs; stripping them in Python would make ``Украинский`` unmatchable.
* Case folding is the simple, one-character kind: ``ß`` stays ``ß`` (``casefold`` gives
  ``ss``), and the final sigma folds to the ordinary one.
* No compatibility decomposition: ``ﬁ``, ``²``, ``½``, ``Ⅻ`` are kept as they are.
* Which characters are part of words is FTS5's own (Unicode 6.1 era) table, not Python's:
  combining accents U+0300 to U+0331 are word characters that vanish; Indic vowel signs,
  Hebrew points and Arabic harakat would split words, but storage.segment rewrites them
  before FTS5 reads a text (points, harakat and tatweel dropped, Indic marks made
  private-use word characters; full-width Latin letters and digits made ASCII; the bidi
  isolates U+2066 to U+2069 and the Arabic letter mark made spaces; an Arabic-script letter
  written two ways made one, أحمد احمد, ایران ايران; a Devanagari letter with its nukta as
  one character made the letter and the nukta; a digit of another script, ۲۰۲۶ २०२६,
  made the ASCII digit of its value, a Thai one too, then no character of an unspaced
  script), and they are folded alike here; characters
  that were unassigned in Unicode 6.1 are word characters (``₽``, ``₿``, emoji newer than
  2012 such as 🤔, private-use characters).  That table is embedded below as ranges so
  that the result does not depend on the Python version's Unicode database.

:func:`cased` is the same folding without the case folding (accents removed, case kept): the
form exact-case terms (``=US``) are compared on.

Known divergence: FTS5 truncates tokens longer than 32,768 bytes in its index; Python does
not.  ``tests/test_query.py`` checks every assigned code point against the SQLite in use.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Final

from storage.segment import (
    CJK_RANGES,
    DIGIT_RANGES,
    DROPPED_RANGES,
    INDIC_MARK_RANGES,
    LETTER_VARIANTS,
    MODIFIER_APOSTROPHE,
    NUKTA_LETTERS,
    SPACED,
    rewritten,
)

__all__ = [
    "SEPARATORS",
    "cased",
    "distinct_tokens",
    "fold",
    "fold_char",
    "is_word_char",
    "normalize",
    "tokenize",
    "tokenize_cased",
]

# Code points that FTS5 unicode61 treats as separators (hex ranges, inclusive), read off
# SQLite 3.40 by tokenizing "x<c>x" for every code point.  Everything else is a word character.
# Surrogates (D800-DFFF) are added: they cannot reach SQLite, and count as separators here.
_SEPARATOR_RANGES: Final = (
    "0-2f 3a-40 5b-60 7b-a9 ab-b1 b4 b6-b8 bb bf d7 f7 2c2-2c5 2d2-2df 2e5-2eb 2ed 2ef-2ff "
    "305 30d-30e 310 312-31a 31c-322 329-32c 32f 332-36f 375 37e 384-385 387 3f6 482-489 "
    "55a-55f 589-58a 58f 591-5c7 5f3-5f4 600-604 606-61b 61e-61f 64b-65f 66a-66d 670 6d4 "
    "6d6-6e4 6e7-6ed 6fd-6fe 700-70d 70f 711 730-74a 7a6-7b0 7eb-7f3 7f6-7f9 816-819 81b-823 "
    "825-827 829-82d 830-83e 859-85b 85e 8e4-8fe 900-903 93a-93c 93e-94f 951-957 962-965 970 "
    "981-983 9bc 9be-9c4 9c7-9c8 9cb-9cd 9d7 9e2-9e3 9f2-9f3 9fa-9fb a01-a03 a3c a3e-a42 "
    "a47-a48 a4b-a4d a51 a70-a71 a75 a81-a83 abc abe-ac5 ac7-ac9 acb-acd ae2-ae3 af0-af1 "
    "b01-b03 b3c b3e-b44 b47-b48 b4b-b4d b56-b57 b62-b63 b70 b82 bbe-bc2 bc6-bc8 bca-bcd bd7 "
    "bf3-bfa c01-c03 c3e-c44 c46-c48 c4a-c4d c55-c56 c62-c63 c7f c82-c83 cbc cbe-cc4 cc6-cc8 "
    "cca-ccd cd5-cd6 ce2-ce3 d02-d03 d3e-d44 d46-d48 d4a-d4d d57 d62-d63 d79 d82-d83 dca "
    "dcf-dd4 dd6 dd8-ddf df2-df4 e31 e34-e3a e3f e47-e4f e5a-e5b eb1 eb4-eb9 ebb-ebc ec8-ecd "
    "f01-f1f f34-f3f f71-f87 f8d-f97 f99-fbc fbe-fcc fce-fda 102b-103e 104a-104f 1056-1059 "
    "105e-1060 1062-1064 1067-106d 1071-1074 1082-108d 108f 109a-109f 10fb 135d-1368 "
    "1390-1399 1400 166d-166e 1680 169b-169c 16eb-16ed 1712-1714 1732-1736 1752-1753 "
    "1772-1773 17b4-17d6 17d8-17db 17dd 1800-180e 18a9 1920-192b 1930-193b 1940 1944-1945 "
    "19b0-19c0 19c8-19c9 19de-19ff 1a17-1a1b 1a1e-1a1f 1a55-1a5e 1a60-1a7c 1a7f 1aa0-1aa6 "
    "1aa8-1aad 1b00-1b04 1b34-1b44 1b5a-1b7c 1b80-1b82 1ba1-1bad 1be6-1bf3 1bfc-1bff "
    "1c24-1c37 1c3b-1c3f 1c7e-1c7f 1cc0-1cc7 1cd0-1ce8 1ced 1cf2-1cf4 1dc0-1de6 1dfc-1dff "
    "1fbd 1fbf-1fc1 1fcd-1fcf 1fdd-1fdf 1fed-1fef 1ffd-1ffe 2000-2064 206a-206f 207a-207e "
    "208a-208e 20a0-20b9 20d0-20f0 2100-2101 2103-2106 2108-2109 2114 2116-2118 211e-2123 "
    "2125 2127 2129 212e 213a-213b 2140-2144 214a-214d 214f 2190-23f3 2400-2426 2440-244a "
    "249c-24e9 2500-26ff 2701-2775 2794-2b4c 2b50-2b59 2ce5-2cea 2cef-2cf1 2cf9-2cfc "
    "2cfe-2cff 2d70 2d7f 2de0-2e2e 2e30-2e3b 2e80-2e99 2e9b-2ef3 2f00-2fd5 2ff0-2ffb "
    "3000-3004 3008-3020 302a-3030 3036-3037 303d-303f 3099-309c 30a0 30fb 3190-3191 "
    "3196-319f 31c0-31e3 3200-321e 322a-3247 3250 3260-327f 328a-32b0 32c0-32fe 3300-33ff "
    "4dc0-4dff a490-a4c6 a4fe-a4ff a60d-a60f a66f-a67e a69f a6f0-a6f7 a700-a716 a720-a721 "
    "a789-a78a a802 a806 a80b a823-a82b a836-a839 a874-a877 a880-a881 a8b4-a8c4 a8ce-a8cf "
    "a8e0-a8f1 a8f8-a8fa a926-a92f a947-a953 a95f a980-a983 a9b3-a9cd a9de-a9df aa29-aa36 "
    "aa43 aa4c-aa4d aa5c-aa5f aa77-aa79 aa7b aab0 aab2-aab4 aab7-aab8 aabe-aabf aac1 "
    "aade-aadf aaeb-aaf1 aaf5-aaf6 abe3-abed d800-dfff fb1e fb29 fbb2-fbc1 fd3e-fd3f "
    "fdfc-fdfd fe00-fe19 fe20-fe26 fe30-fe52 fe54-fe66 fe68-fe6b feff ff01-ff0f ff1a-ff20 "
    "ff3b-ff40 ff5b-ff65 ffe0-ffe6 ffe8-ffee fff9-ffff 10100-10102 10137-1013f 10179-10189 "
    "10190-1019b 101d0-101fd 1039f 103d0 10857 1091f 1093f 10a01-10a03 10a05-10a06 "
    "10a0c-10a0f 10a38-10a3a 10a3f 10a50-10a58 10a7f 10b39-10b3f 11000-11002 11038-1104d "
    "11080-11082 110b0-110c1 11100-11102 11127-11134 11140-11143 11180-11182 111b3-111c0 "
    "111c5-111c8 116ab-116b7 12470-12473 16f51-16f7e 16f8f-16f92 1d000-1d0f5 1d100-1d126 "
    "1d129-1d1dd 1d200-1d245 1d300-1d356 1d6c1 1d6db 1d6fb 1d715 1d735 1d74f 1d76f 1d789 "
    "1d7a9 1d7c3 1eef0-1eef1 1f000-1f02b 1f030-1f093 1f0a0-1f0ae 1f0b1-1f0be 1f0c1-1f0cf "
    "1f0d1-1f0df 1f110-1f12e 1f130-1f16b 1f170-1f19a 1f1e6-1f202 1f210-1f23a 1f240-1f248 "
    "1f250-1f251 1f300-1f320 1f330-1f335 1f337-1f37c 1f380-1f393 1f3a0-1f3c4 1f3c6-1f3ca "
    "1f3e0-1f3f0 1f400-1f43e 1f440 1f442-1f4f7 1f4f9-1f4fc 1f500-1f53d 1f540-1f543 "
    "1f550-1f567 1f5fb-1f640 1f645-1f64f 1f680-1f6c5 1f700-1f773 e0001 e0020-e007f "
    "e0100-e01ef "
)
# Letters that FTS5 does not case-fold (their case pairs are newer than its Unicode tables).
_NO_FOLD_RANGES: Final = (
    "1e1 37f 528 52a 52c 52e 13f8-13fd 1c80-1c88 1c90-1cba 1cbd-1cbf 2c2f a698 a69a a796 a798 "
    "a79a a79c a79e a7ab-a7ae a7b0-a7b4 a7b6 a7b8 a7ba a7bc a7be a7c0 a7c2 a7c4-a7c7 a7c9 "
    "a7d0 a7d6 a7d8 a7f5 ab70-abbf 104b0-104d3 10570-1057a 1057c-1058a 1058c-10592 "
    "10594-10595 10c80-10cb2 118a0-118bf 16e40-16e5f 1e900-1e921 "
)
# Combining diacritics that FTS5 counts as word characters and then drops entirely.
_DROPPED_MARKS_RANGES: Final = "300-304 306-30c 30f 311 31b 323-328 32d-32e 330-331"
# FTS5's diacritic table quirk: U+01E0 folds to U+01E1 and U+01E1 keeps its marks.
_FOLD_OVERRIDES: Final = {"\u01e0": "\u01e1"}


def _parse_ranges(spec: str) -> list[tuple[int, int]]:
    """Parse "a-b c" hex ranges into inclusive (start, end) pairs."""
    pairs = []
    for item in spec.split():
        start, _, end = item.partition("-")
        pairs.append((int(start, 16), int(end or start, 16)))
    return pairs


def _complement(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The code points 0 to 0x10FFFF not in the sorted, disjoint inclusive `ranges`."""
    out = []
    nxt = 0
    for start, end in ranges:
        if start > nxt:
            out.append((nxt, start - 1))
        nxt = end + 1
    if nxt <= 0x10FFFF:
        out.append((nxt, 0x10FFFF))
    return out


def _char_class(ranges: list[tuple[int, int]]) -> str:
    return "".join(f"\\U{start:08x}-\\U{end:08x}" for start, end in ranges)


def _intersection(
    ranges: list[tuple[int, int]], others: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The code points in both sorted, disjoint inclusive range lists."""
    out = []
    for start, end in ranges:
        for other_start, other_end in others:
            low, high = max(start, other_start), min(end, other_end)
            if low <= high:
                out.append((low, high))
    return out


def _bmp(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return [(start, min(end, 0xFFFF)) for start, end in ranges if start <= 0xFFFF]


def _without(ranges: list[tuple[int, int]], others: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The code points of the sorted, disjoint inclusive ``ranges`` not in ``others``."""
    return _intersection(ranges, _complement(sorted(others)))


# The marks storage.segment rewrites before FTS5 reads a text (Arabic harakat and tatweel,
# Hebrew points: dropped; Indic vowel signs and viramas: private-use word characters): part
# of their word here, as there.
_REWRITTEN_RANGES: Final = _parse_ranges(DROPPED_RANGES) + _parse_ranges(INDIC_MARK_RANGES)
# The modifier letter apostrophe, a letter for FTS5, is rewritten to U+2019, a word break;
# the bidi isolates and the Arabic letter mark to spaces.
_BREAK_RANGES: Final = [(ord(char), ord(char)) for char in MODIFIER_APOSTROPHE + SPACED]
_WORD_RANGES: Final = _complement(sorted(
    [*_without(_parse_ranges(_SEPARATOR_RANGES), _REWRITTEN_RANGES), *_BREAK_RANGES]
))
# The word characters of the scripts written without spaces between words (and Korean's):
# each is a token of its own, as FTS5 reads the text the index is given (storage.segment);
# their digits (Thai's, Khmer's...) are ASCII ones there, of a number's run.
_CJK_RANGES: Final = _without(_parse_ranges(CJK_RANGES), _parse_ranges(DIGIT_RANGES))
_ONE_CHAR_RANGES: Final = _intersection(_WORD_RANGES, _CJK_RANGES)
_RUN_RANGES: Final = _intersection(_WORD_RANGES, _complement(_CJK_RANGES))
# Word characters as a positive class: ``re`` tests a BMP character against one bitmap, but
# the characters outside the BMP as a list of ranges, one by one; a negated class of
# separators made every word character go through the whole list.
_TOKEN_RE: Final = re.compile(
    "[" + _char_class(_ONE_CHAR_RANGES) + "]|[" + _char_class(_RUN_RANGES) + "]+"
)
# The same for text without characters outside the BMP: one range test instead of ~100.
_TOKEN_RE_BMP: Final = re.compile(
    "[" + _char_class(_bmp(_ONE_CHAR_RANGES)) + "]|["
    + _char_class(_bmp(_RUN_RANGES)) + "\\U00010000-\\U0010ffff]+"
)
_NON_BMP_RE: Final = re.compile("[\\U00010000-\\U0010ffff]")
_NON_ASCII_RE: Final = re.compile("[^\\x00-\\x7f]")
_ASCII_TOKEN_RE: Final = re.compile("[0-9a-z]+")  # the word characters of lower-cased ASCII


def _code_points(spec: str) -> frozenset[int]:
    """Expand "a-b c" hex ranges into a set of code points."""
    return frozenset(cp for start, end in _parse_ranges(spec) for cp in range(start, end + 1))


_NO_FOLD: Final = _code_points(_NO_FOLD_RANGES)
SEPARATORS: Final = frozenset(map(chr, _code_points(_SEPARATOR_RANGES)
                                   - _code_points(DROPPED_RANGES)
                                   - _code_points(INDIC_MARK_RANGES))) | {
                                       MODIFIER_APOSTROPHE, *SPACED}
_DROPPED_MARKS: Final = _code_points(_DROPPED_MARKS_RANGES)
# What storage.segment rewrites (dropped, made a private-use character, made ASCII, made
# the letter it is a variant of, made a letter and its nukta, made an ASCII digit).
_REWRITES: Final = (_code_points(DROPPED_RANGES) | _code_points(INDIC_MARK_RANGES)
                    | _code_points(DIGIT_RANGES)
                    | frozenset(map(ord, [*LETTER_VARIANTS, *NUKTA_LETTERS])))


@functools.lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    """Fold one character the way FTS5 folds a token character ("" when it is dropped)."""
    if char in _FOLD_OVERRIDES:
        return _FOLD_OVERRIDES[char]
    if ord(char) in _REWRITES:
        return rewritten(char)
    if "\uff01" <= char <= "\uff5e":  # full width: the ASCII character, folded
        char = rewritten(char)
    if ord(char) in _DROPPED_MARKS:
        return ""
    if ord(char) in _NO_FOLD:
        return char
    # Simple (one-to-one) case folding: full casefold() would turn ß into ss.
    folded = char.casefold()
    if len(folded) != 1:
        lower = char.lower()
        folded = lower if len(lower) == 1 else folded  # İ → i + U+0307, dropped below
    out = []
    for ch in folded:
        decomposed = unicodedata.normalize("NFD", ch)
        if (
            len(decomposed) > 1
            and decomposed[0].isascii()
            and all(unicodedata.category(mark) == "Mn" for mark in decomposed[1:])
        ):
            out.append(decomposed[0])  # é → e, but й, ё, ά, أ keep their marks (as FTS5)
        elif ord(ch) not in _DROPPED_MARKS:
            out.append(ch)
    return "".join(out)


def fold_char(char: str) -> str:
    """One character folded as FTS5 folds a token character ("" when it is dropped)."""
    return _fold_char(char)


class _FoldTable(dict[int, str]):
    """Code point -> its folded string, filled as characters are met (str.translate reads
    it in C: about ten times faster than folding a text character by character)."""

    def __missing__(self, code: int) -> str:
        if len(self) >= _FOLD_TABLE_SIZE:  # bounded, whatever the texts hold
            self.clear()
        folded = self[code] = _fold_char(chr(code))
        return folded


_FOLD_TABLE_SIZE = 65_536


_FOLD_TABLE = _FoldTable()


def normalize(text: str) -> str:
    """Case-fold and strip accents exactly as FTS5 ``unicode61 remove_diacritics 2`` does."""
    if text.isascii():
        return text.lower()
    return text.translate(_FOLD_TABLE)


# Per character met in a text: (char.lower(), what the folded copy holds there), or None when
# no same-length copy can hold it (folds to nothing or to several characters, or would turn a
# word character into a separator or back).
_FAST_FOLD: dict[str, tuple[str, str] | None] = {}


def _fast_fold_entry(char: str) -> tuple[str, str] | None:
    lower = char.lower()
    if len(lower) != 1:
        return None
    if not is_word_char(char):  # separators become spaces (str.lower() must keep them apart)
        return None if is_word_char(lower) else (lower, " ")
    target = _fold_char(char)
    if len(target) != 1 or not is_word_char(target):
        return None
    return lower, target


def fold(text: str) -> str | None:
    """`text` folded in one piece: same length, each word character replaced by its FTS5 fold
    and each separator by a separator (an ASCII one: non-ASCII separators become spaces);
    None when the text has characters that fold to nothing or to several (then only
    :func:`tokenize`'s character-by-character path works).

    The tokens of the result, at the same offsets, are the tokens of `text`.
    """
    lowered = text.lower()
    if text.isascii():
        return lowered
    mapping: dict[str, str] = {}
    for char in set(_NON_ASCII_RE.findall(text)):
        if char in _FAST_FOLD:
            entry = _FAST_FOLD[char]
        else:
            entry = _FAST_FOLD[char] = _fast_fold_entry(char)
        if entry is None:
            return None
        lower, target = entry
        if mapping.setdefault(lower, target) != target or (lower.isascii() and lower != target):
            return None  # two characters lower-case alike but fold differently
        if char == "\u03a3" and mapping.setdefault("\u03c2", target) != target:
            return None  # str.lower() turns a final capital sigma into U+03C2, not U+03C3
    changes = {lower: target for lower, target in mapping.items() if lower != target}
    if not changes:
        return lowered
    if any(target in changes for target in changes.values()):
        return lowered.translate({ord(lower): target for lower, target in changes.items()})
    for lower, target in changes.items():  # a few accented letters: faster than translate
        lowered = lowered.replace(lower, target)
    return lowered


def tokenize(text: str) -> list[tuple[int, int, str]]:
    """Split text into FTS5 tokens: (start, end, normalized token) with offsets into `text`."""
    folded = fold(text)
    if folded is None:
        return _tokenize_by_char(text)
    pattern = _token_pattern(folded)
    return [(match.start(), match.end(), match.group()) for match in pattern.finditer(folded)]


def distinct_tokens(text: str) -> set[str]:
    """The normalized tokens of `text` (:func:`tokenize`'s), each once: a few times faster
    than :func:`tokenize` where no offsets are wanted."""
    folded = fold(text)
    if folded is None:
        return {token for _, _, token in _tokenize_by_char(text)}
    return set(_token_pattern(folded).findall(folded))


def _token_pattern(folded: str) -> re.Pattern[str]:
    """The fastest regular expression whose matches are the tokens of `folded` (a text
    returned by :func:`fold`)."""
    if folded.isascii():
        return _ASCII_TOKEN_RE
    return _TOKEN_RE if _NON_BMP_RE.search(folded) else _TOKEN_RE_BMP


def _tokenize_by_char(text: str) -> list[tuple[int, int, str]]:
    """:func:`tokenize` for any text: each token folded character by character."""
    tokens = []
    for match in _TOKEN_RE.finditer(text):
        token = normalize(match.group())
        if token:  # a run of dropped marks only is no token for FTS5 either
            tokens.append((match.start(), match.end(), token))
    return tokens


def is_word_char(char: str) -> bool:
    """Whether FTS5 counts `char` as part of a word."""
    return _TOKEN_RE.fullmatch(char) is not None


def cased(text: str) -> str:
    """Fold accents like :func:`normalize` but keep the case: ``Nicolás`` → ``Nicolas``."""
    if text.isascii():
        return text
    out = []
    for char in text:
        folded = _fold_char(char)
        upper = folded.upper()
        out.append(upper if char.isupper() and len(upper) == len(folded) else folded)
    return "".join(out)


def tokenize_cased(text: str) -> list[tuple[int, int, str, str]]:
    """Like :func:`tokenize`, with each token's :func:`cased` form added."""
    return [(start, end, token, cased(text[start:end])) for start, end, token in tokenize(text)]
