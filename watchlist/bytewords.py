"""Words of UTF-8 text as bytes, without a regular expression over the whole text.

An article's words are read twice after it is stored: for its site's template blocks
(watchlist.templates) and for its story signature (watchlist.stories), each folded its own
way. A regular expression over non-ASCII text costs about 60 ns a character, and folding
(NFKC, case, accents) goes character by character: most of a text is ASCII, and its non-ASCII
words come back from text to text. So the text's ASCII separators cut its bytes into chunks
(they separate words under either folding, and fold to themselves), an ASCII chunk is one
word (its letters lower-cased by a byte table), and only the chunks with other characters are
folded and cut, once for each such chunk while it is remembered.
"""

from __future__ import annotations

from collections.abc import Callable

UTF8 = "utf-8"
SURROGATES = "surrogatepass"  # a lone surrogate is a character like any other here


def ascii_table(word: Callable[[str], bool]) -> bytes:
    """A ``bytes.translate`` table: ASCII letters lower-cased, the other ASCII bytes that
    ``word`` says cannot be in a word made spaces, the bytes of other characters kept."""
    return bytes(
        c if c >= 0x80 else ord(chr(c).lower()) if word(chr(c)) else 0x20 for c in range(256)
    )


class ByteWords:
    """The words of UTF-8 text: ``table`` (:func:`ascii_table`) for its ASCII bytes,
    ``fold`` (the words of a chunk with other characters, as text) for the rest. Up to
    ``kept`` chunks' words are remembered (about 3 MB at 16,384), then forgotten at once."""

    def __init__(self, table: bytes, fold: Callable[[str], list[str]], kept: int = 16_384):
        self.table, self.fold, self.kept = table, fold, kept
        self.known: dict[bytes, tuple[bytes, ...]] = {}

    def __call__(self, raw: bytes) -> list[bytes]:
        chunks = raw.translate(self.table).split()
        if raw.isascii():
            return chunks
        found: list[bytes] = []
        known = self.known
        for chunk in chunks:
            if chunk.isascii():
                found.append(chunk)
                continue
            words = known.get(chunk)
            if words is None:
                if len(known) >= self.kept:
                    known.clear()
                folded = self.fold(chunk.decode(UTF8, SURROGATES))
                words = known[chunk] = tuple(word.encode(UTF8, SURROGATES) for word in folded)
            found.extend(words)
        return found
