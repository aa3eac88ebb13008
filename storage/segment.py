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
"""

from __future__ import annotations

import re
from typing import Final

#: Hiragana, Katakana (and its phonetic extensions, half-width forms), the CJK ideographs
#: (unified, extension A, compatibility, and the supplementary planes' extensions), the
#: Hangul syllables, and the Thai, Lao, Myanmar and Khmer blocks: inclusive hex ranges, in
#: order.
CJK_RANGES: Final = (
    "0e00-0eff 1000-109f 1780-17ff"
    " 3040-30ff 31f0-31ff 3400-4dbf 4e00-9fff ac00-d7a3 f900-faff ff66-ff9f 20000-2fa1f"
)


def _class(spec: str) -> str:
    parts = []
    for item in spec.split():
        start, _, end = item.partition("-")
        parts.append(f"\\U{int(start, 16):08x}-\\U{int(end or start, 16):08x}")
    return "".join(parts)


_CJK: Final = re.compile("[" + _class(CJK_RANGES) + "]")


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds a character that :func:`segment` makes a word of its own."""
    return not text.isascii() and _CJK.search(text) is not None


def segment(text: str) -> str:
    """``text`` as FTS5 is to read it: each CJK character between spaces (its other words
    as they are)."""
    if text.isascii():
        return text
    return _CJK.sub(r" \g<0> ", text)
