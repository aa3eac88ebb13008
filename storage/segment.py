"""Words of the languages written without spaces between them, for the full-text index.

SQLite FTS5's ``unicode61`` tokenizer cuts words at spaces and punctuation only, so a run of
Chinese or Japanese (a whole clause: 習近平主席は北京で) was one word, and a topic on 北京
or 習近平 never matched an article about them. Korean spaces its words but attaches its
particles to them (이재명은, 이재명이): a topic on 이재명 matched neither. Each character of
these scripts is made a word of its own before FTS5 reads a text (:func:`segment`), as
Lucene's standard tokenizer does for Han and kana; a query's word of them is then a phrase
of its characters, found wherever they stand together (``watchlist.tokens`` splits them
alike, so that Python and FTS5 find the same words). Thai, Lao, Khmer and Burmese write a
clause without spaces too (กรุงเทพ in นายกรัฐมนตรีเดินทางถึงกรุงเทพมหานคร): their letters
likewise (their vowel signs and tone marks separate words for FTS5 already, and are left so).

FTS5 also reads as word breaks marks that belong to their word (:func:`segment` rewrites
them first, and ``watchlist.tokens`` folds them alike): Arabic's harakat (مُحَمَّد) and
tatweel (محـمد), and Hebrew's points, are dropped, as accents are (a topic typed without
them, as readers type, missed the articles that wrote them); the vowel signs, viramas and
other marks of the Indic scripts are letters of their word, made private-use characters
(word characters for FTS5; योगी was a phrase of its bare consonants, found across two
words: कि*या गि*रफ्तार), and a letter with its nukta written as one character (ज़, U+095B)
is the letter and the nukta, as a keyboard types it (a topic on ज़मीन typed so missed a text
written with U+095B, which looks the same); full-width Latin letters and digits (U+FF21 for
A, U+FF10 for 0) are the ASCII ones. The modifier letter apostrophe (U+02BC), a letter for
FTS5, is the apostrophe some sites write (DW's "Germany\u02bcs", Ukrainian's words): the
typographic one, U+2019, a word break (a topic on Germany missed every such article). The
bidi isolates (U+2066 to U+2069: the marks a tweet's text keeps around each @name and #tag,
"\u2066@AJArabic\u2069") and the Arabic letter mark (U+061C), invisible and newer than
FTS5's table of word characters, were letters of the word beside them: they are spaces.

An Arabic-script letter written two ways is one (:data:`LETTER_VARIANTS`): alef under or over
its hamza or madda (أ إ آ, and ٱ) is alef, as readers type a name (احمد for أحمد, الاسد for
الأسد) and as a hamza written as a mark after alef reads already (dropped with the
harakat), and Persian's heh with hamza (ۀ) is heh alike; Persian's yeh and kaf (ی ک, a
Persian keyboard's) are the Arabic ones (ي ك, an Arabic keyboard's, and older Persian
sites'): the same word typed on either keyboard is one word.

A digit of another script is the ASCII digit of its value (:data:`DIGITS`): Persian sites
write their numbers in Extended Arabic-Indic digits (۱۴۰۳, ۲۰۲۶), Arabic ones sometimes in
Arabic-Indic digits (٢٠٢٦), Hindi, Marathi and Bengali ones sometimes in their own (२०२६,
২০২৬): a topic on 2026 or "Boeing 737" missed them, and one typed on a Persian keyboard
(۲۰۲۶) missed the ASCII digits, where a search engine finds the number however it is
written (NFKC leaves these digits as they are). A Thai, Lao, Burmese or Khmer digit is so
too: a number, not a character of an unspaced script (๒๕๖๙ is 2569).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

#: Hiragana, Katakana (and its phonetic extensions, half-width forms), the CJK ideographs
#: (unified, extension A, compatibility, and the supplementary planes' extensions), the
#: Hangul syllables, and the Thai, Lao, Myanmar and Khmer blocks: inclusive hex ranges, in
#: order.
CJK_RANGES: Final = (
    "0e00-0eff 1000-109f 1780-17ff"
    " 3040-30ff 31f0-31ff 3400-4dbf 4e00-9fff ac00-d7a3 f900-faff ff66-ff9f 20000-2fa1f"
)


def char_class(spec: str, shift: int = 0) -> str:
    """The characters of the inclusive hex ranges ``spec``, each ``shift`` above its code
    point, as the inside of a character class: "a-b" pairs of the characters themselves,
    which a Python or PostgreSQL regular expression and an SQLite GLOB read alike."""
    parts = []
    for item in spec.split():
        start, _, end = item.partition("-")
        parts.append(f"{chr(int(start, 16) + shift)}-{chr(int(end or start, 16) + shift)}")
    return "".join(parts)


#: A character of a script written without spaces between words (CJK_RANGES).
UNSPACED: Final = re.compile("[" + char_class(CJK_RANGES) + "]")
_CJK: Final = UNSPACED

#: Marks dropped before FTS5 reads a text (see the module's docstring): Hebrew points, Arabic
#: harakat, Quranic marks and tatweel.
DROPPED_RANGES: Final = (
    "591-5bd 5bf 5c1-5c2 5c4-5c5 5c7 610-61a 640 64b-65f 670 6d6-6dc 6df-6e4 6e7-6e8 6ea-6ed"
)
#: The marks of the Indic scripts (Devanagari to Sinhala) that FTS5 reads as word breaks:
#: each made the private-use character INDIC_SHIFT above it.
INDIC_MARK_RANGES: Final = (
    "900-903 93a-93c 93e-94f 951-957 962-963 981-983 9bc 9be-9c4 9c7-9c8 9cb-9cd 9d7 9e2-9e3"
    " a01-a03 a3c a3e-a42 a47-a48 a4b-a4d a51 a70-a71 a75 a81-a83 abc abe-ac5 ac7-ac9 acb-acd"
    " ae2-ae3 b01-b03 b3c b3e-b44 b47-b48 b4b-b4d b56-b57 b62-b63 b82 bbe-bc2 bc6-bc8 bca-bcd"
    " bd7 c01-c03 c3e-c44 c46-c48 c4a-c4d c55-c56 c62-c63 c82-c83 cbc cbe-cc4 cc6-cc8 cca-ccd"
    " cd5-cd6 ce2-ce3 d02-d03 d3e-d44 d46-d48 d4a-d4d d57 d62-d63 d82-d83 dca dcf-dd4 dd6"
    " dd8-ddf df2-df3"
)
INDIC_SHIFT: Final = 0xE000 - 0x900
#: Devanagari's letters with a nukta as one character (ज़ U+095B, as converters from older
#: fonts write them), each made its letter and nukta, as keyboards type them and Unicode's
#: normal form writes most of them (the nukta then private-use as the other marks): ज़मीन
#: either way is one word (see the module's docstring).
NUKTA_LETTERS: Final = {
    chr(code): unicodedata.normalize("NFD", chr(code))[0] + chr(0x93C + INDIC_SHIFT)
    for code in (0x929, 0x931, 0x934, *range(0x958, 0x960))
}
#: Full-width ASCII (U+FF01 to U+FF5E): this far above the ASCII character.
WIDE_SHIFT: Final = 0xFEE0
#: The modifier letter apostrophe, written for U+2019 (see the module's docstring).
MODIFIER_APOSTROPHE: Final = "\u02bc"
#: The invisible marks that FTS5 reads as letters, made spaces (the Arabic letter mark, the
#: bidi isolates: see the module's docstring).
SPACED: Final = "\u061c\u2066\u2067\u2068\u2069"
#: The Arabic-script letters written two ways, each made the one it stands for (see the
#: module's docstring).
LETTER_VARIANTS: Final = {
    # alef with madda, hamza above, hamza below, wasla: alef
    "\u0622": "\u0627", "\u0623": "\u0627", "\u0625": "\u0627", "\u0671": "\u0627",
    "\u06c0": "\u0647",  # heh with yeh above (Persian's heh with hamza): heh
    "\u06cc": "\u064a",  # Farsi yeh: Arabic yeh
    "\u06a9": "\u0643",  # keheh (Persian kaf): Arabic kaf
}
#: The zero of each script's run of ten decimal digits (Unicode's category Nd, 14.0; the
#: full-width ones are full-width ASCII, above), as hex code points: fixed here, so that a
#: newer Python's Unicode database changes no word the index holds.
DIGIT_ZEROS: Final = (
    "660 6f0 7c0 966 9e6 a66 ae6 b66 be6 c66 ce6 d66 de6 e50 ed0 f20 1040 1090 17e0 1810"
    " 1946 19d0 1a80 1a90 1b50 1bb0 1c40 1c50 a620 a8d0 a900 a9d0 a9f0 aa50 abf0 104a0"
    " 10d30 11066 110f0 11136 111d0 112f0 11450 114d0 11650 116c0 11730 118e0 11950 11c50"
    " 11d50 11da0 16a60 16ac0 16b50 1d7ce 1d7d8 1d7e2 1d7ec 1d7f6 1e140 1e2f0 1e950 1fbf0"
)
#: The digits of DIGIT_ZEROS as inclusive hex ranges, as CJK_RANGES.
DIGIT_RANGES: Final = " ".join(
    f"{zero:x}-{zero + 9:x}" for zero in (int(code, 16) for code in DIGIT_ZEROS.split())
)
#: Each digit of another script, made the ASCII digit of its value (see the module's
#: docstring).
DIGITS: Final = {
    chr(int(code, 16) + value): str(value) for code in DIGIT_ZEROS.split() for value in range(10)
}
_REWRITTEN: Final = re.compile(
    "[" + char_class(DROPPED_RANGES) + char_class(INDIC_MARK_RANGES) + SPACED + "\uff01-\uff5e"
    + MODIFIER_APOSTROPHE + "".join(NUKTA_LETTERS) + "]"
)


def _bmp_class(spec: str) -> str:
    """:func:`char_class` of the ranges of ``spec`` in the BMP."""
    return char_class(" ".join(
        item for item in spec.split() if int(item.partition("-")[0], 16) <= 0xFFFF))


def _supplementary(spec: str) -> tuple[str, str]:
    """The first and the last character of the ranges of ``spec`` outside the BMP."""
    codes = [int(code, 16) for item in spec.split() for code in item.split("-")]
    return chr(min(code for code in codes if code > 0xFFFF)), chr(max(codes))


#: The stretch of the supplementary planes that holds the digits of DIGITS outside the BMP,
#: read as one range: ``re`` tests a character against each range of a class outside the BMP
#: one by one, and their 29 ranges made a Latin text's test ten times slower.
_FIRST_DIGIT, _LAST_DIGIT = _supplementary(DIGIT_RANGES)
#: A character that may be a digit of DIGITS: those of the BMP, and that stretch's.
_MAYBE_DIGIT: Final = re.compile(f"[{_bmp_class(DIGIT_RANGES)}{_FIRST_DIGIT}-{_LAST_DIGIT}]")
#: The zero of each digit of DIGITS.
_ZERO_OF: Final = {char: ord(char) - int(value) for char, value in DIGITS.items()}


#: Any character :func:`segment` changes (a text without one is read as it is, in one pass),
#: or one of the supplementary planes' stretch from the first digit there to the last CJK
#: ideograph, one range (as _MAYBE_DIGIT's).
_CHANGED: Final = re.compile(
    _REWRITTEN.pattern[:-1] + "".join(LETTER_VARIANTS) + _bmp_class(DIGIT_RANGES)
    + _bmp_class(CJK_RANGES) + f"{_FIRST_DIGIT}-{_supplementary(CJK_RANGES)[1]}]"
)


def rewritten(char: str) -> str:
    """What :func:`segment` makes of one character of _REWRITTEN, LETTER_VARIANTS or DIGITS
    ("" when dropped)."""
    if char in DIGITS:
        return DIGITS[char]
    code = ord(char)
    if code >= 0xFF01:
        return chr(code - WIDE_SHIFT)
    if char == MODIFIER_APOSTROPHE:
        return "\u2019"
    if char in LETTER_VARIANTS:
        return LETTER_VARIANTS[char]
    if char in NUKTA_LETTERS:
        return NUKTA_LETTERS[char]
    if char in SPACED:
        return " "
    return chr(code + INDIC_SHIFT) if code >= 0x900 else ""


def _rewrite(found: re.Match[str]) -> str:
    return rewritten(found.group())


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds a character that :func:`segment` makes a word of its own."""
    return not text.isascii() and _CJK.search(text) is not None


def segment(text: str) -> str:
    """``text`` as FTS5 is to read it: each CJK character between spaces (its other words
    as they are), the marks FTS5 would break words at rewritten (see the module's
    docstring)."""
    if text.isascii() or _CHANGED.search(text) is None:
        return text
    for variant, letter in LETTER_VARIANTS.items():  # a Persian text's every other word: in C
        if variant in text:
            text = text.replace(variant, letter)
    at = 0
    while (found := _MAYBE_DIGIT.search(text, at)) is not None:  # a script's digits: in C
        at = found.start()
        if (zero := _ZERO_OF.get(found.group())) is None:
            at += 1
            continue
        for value in range(10):
            text = text.replace(chr(zero + value), str(value))
    if _REWRITTEN.search(text) is not None:
        text = _REWRITTEN.sub(_rewrite, text)
    return _CJK.sub(r" \g<0> ", text)


#: Thai's and Lao's vowels written ahead of the consonant they follow: a cut after one leaves
#: it without its consonant.
_LEADING_VOWELS: Final = frozenset("\u0e40\u0e41\u0e42\u0e43\u0e44\u0ec0\u0ec1\u0ec2\u0ec3\u0ec4")


def grapheme_start(text: str, at: int) -> int:
    """``at``, moved back to where the letter it falls in starts: not before a mark that
    belongs to the letter before it (a Thai vowel sign, an Indic vowel sign, an accent), nor
    inside an Indic conjunct (after a virama), a joined emoji, an emoji and its skin tone or
    tags, or a flag, nor after a Thai or Lao vowel written ahead of its consonant. A snippet
    or a subject cut at a code point ended "ทางสายเล…" for สายเลือด, its vowel sign left out,
    and a "👏🏽" headline's subject "👏…", its skin tone left out."""
    while 0 < at < len(text):
        char, before = text[at], text[at - 1]
        if (unicodedata.category(char)[0] == "M" or char == "\u200d" or before == "\u200d"
                or _SKIN_TONE <= char <= _SKIN_TONE_LAST or _TAG <= char <= _TAG_LAST
                or unicodedata.combining(before) == 9 or before in _LEADING_VOWELS
                or _second_of_a_flag(text, at)):
            at -= 1
        else:
            break
    return at


def _second_of_a_flag(text: str, at: int) -> bool:
    """Whether ``text[at]`` is the second regional indicator of a flag (🇺🇸: two letters)."""
    if not _REGIONAL <= text[at] <= _REGIONAL_LAST:
        return False
    run = 0
    while at - run - 1 >= 0 and _REGIONAL <= text[at - run - 1] <= _REGIONAL_LAST:
        run += 1
    return run % 2 == 1


_REGIONAL, _REGIONAL_LAST = "\U0001f1e6", "\U0001f1ff"
#: The skin tones an emoji takes after it (👏🏽), and the tags that follow a flag's black
#: flag (🏴 and the tags of "gbsct" then CANCEL TAG: Scotland's flag).
_SKIN_TONE, _SKIN_TONE_LAST = "\U0001f3fb", "\U0001f3ff"
_TAG, _TAG_LAST = "\U000e0020", "\U000e007f"
