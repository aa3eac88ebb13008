"""Find a topic's words in an article and cut a short excerpt around them for alerts.

Hits are found with :func:`watchlist.query.tokenize`, which tokenizes exactly like the FTS5
index that matched the article, so the words shown in bold are the words that matched.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from typing import Final

from .compile import HitTerm
from .evaluate import matches_at
from .tokens import cased, tokenize

__all__ = ["TokenIndex", "find_hits", "snippet"]

_ELLIPSIS: Final = "…"
_WORDS_RE: Final = re.compile(r"\S+")


class TokenIndex:
    """The tokens of one text and where each occurs: built once per article field, then
    searched for the terms of every topic that matched (tokenizing is the costly part)."""

    __slots__ = ("_cased", "_pairs", "_text", "found", "positions")

    def __init__(self, text: str) -> None:
        self.found = tokenize(text)
        self.positions: dict[str, list[int]] = {}
        for number, (_, _, token) in enumerate(self.found):
            self.positions.setdefault(token, []).append(number)
        self._pairs: list[tuple[str, str]] | None = None
        self._cased: list[tuple[str, str]] | None = None
        self._text = text

    def pairs(self, exact: bool) -> list[tuple[str, str]]:
        """(token, cased form) for every token; the cased form only when ``exact`` needs it."""
        if exact:
            if self._cased is None:
                self._cased = [(token, cased(self._text[a:b])) for a, b, token in self.found]
            return self._cased
        if self._pairs is None:
            self._pairs = [(token, token) for _, _, token in self.found]
        return self._pairs


def find_hits(
    text: str,
    terms: Sequence[tuple[str, ...] | HitTerm],
    field: str | None = None,
    index: TokenIndex | None = None,
) -> list[tuple[int, int]]:
    """Character spans of `text` where a term's tokens occur consecutively; sorted, merged.

    `terms` are token tuples (whole words, any case) or :class:`HitTerm` (prefix, exact case,
    fields).  With `field` ("title" or "text"), a HitTerm scoped to other fields is skipped.
    A prefix term's span covers the whole matched word.  Pass the text's `index` when the
    same text is searched for many terms.
    """
    wanted = [term if isinstance(term, HitTerm) else HitTerm(term) for term in terms]
    wanted = [t for t in wanted if t.tokens and (field is None or field in t.fields)]
    if not wanted:
        return []
    if index is None:
        index = TokenIndex(text)
    tokens = index.pairs(any(term.exact for term in wanted))
    found = index.found
    spans = []
    for term in wanted:
        size = len(term.tokens)
        if term.prefix and size == 1:
            candidates: Sequence[int] = range(len(tokens))
        else:
            candidates = index.positions.get(term.tokens[0], ())
        for number in candidates:
            if matches_at(term.tokens, term.prefix, term.exact, tokens, number):
                spans.append((found[number][0], found[number + size - 1][1]))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _collapse(text: str, hits: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
    """Collapse whitespace runs to single spaces and map hit spans onto the collapsed text."""
    words = list(_WORDS_RE.finditer(text))
    starts = [word.start() for word in words]
    offsets = []  # where each word starts in the collapsed text
    position = 0
    for word in words:
        offsets.append(position)
        position += len(word.group()) + 1

    def to_collapsed(offset: int, is_end: bool) -> int:
        # A hit starts and ends inside words (token characters are never whitespace); the
        # character before `end` belongs to the hit's last word.
        probe = offset - 1 if is_end else offset
        index = max(bisect.bisect_right(starts, probe) - 1, 0)
        inside = min(max(offset - starts[index], 0), len(words[index].group()))
        return offsets[index] + inside

    collapsed = " ".join(word.group() for word in words)
    mapped = [
        (to_collapsed(start, False), to_collapsed(end, True))
        for start, end in hits
        if start < end <= len(text)
    ]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(mapped):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        elif start < end:
            merged.append((start, end))
    return collapsed, merged


def _window(
    text: str, first: tuple[int, int], later: list[tuple[int, int]], width: int
) -> tuple[int, int]:
    """Pick [start, end) of `text` around the first hit, cut at spaces, leaving room for '…'."""
    budget = max(width - 2, 1)  # a "…" at each cut end
    start = first[0] - min(first[0], budget // 4)
    end = min(start + budget, len(text))
    start = max(0, min(start, end - budget))  # near the end of the text: more context before
    end = max(end, first[1])
    start = max(start, min(first[0], end - budget))  # a long first hit eats the context before
    if start > 0 and text[start - 1] != " ":
        space = text.find(" ", start, first[0])
        start = space + 1 if space >= 0 else first[0]
    for hit_start, hit_end in later:  # never cut a later hit in two: stop before it instead
        if hit_start < end < hit_end:
            end = hit_start
    if end < len(text) and text[end] != " " and text[end - 1] != " ":
        space = text.rfind(" ", first[1], end)
        end = space if space >= 0 else end
    while end > first[1] and text[end - 1] == " ":
        end -= 1
    return start, end


def snippet(
    text: str, hits: list[tuple[int, int]], width: int = 240
) -> tuple[tuple[str, bool], ...]:
    """An excerpt of at most ~`width` characters around the first hit, as (text, is_hit) parts."""
    collapsed, spans = _collapse(text, hits)
    if not collapsed:
        return ()
    if len(collapsed) <= width:
        start, end = 0, len(collapsed)
    else:
        first = spans[0] if spans else (0, 0)
        start, end = _window(collapsed, first, spans[1:], width)
    parts: list[tuple[str, bool]] = []
    if start > 0:
        parts.append((_ELLIPSIS, False))
    cursor = start
    for hit_start, hit_end in spans:
        hit_start, hit_end = max(hit_start, start), min(hit_end, end)
        if hit_start >= hit_end or hit_start < cursor:
            continue
        if hit_start > cursor:
            parts.append((collapsed[cursor:hit_start], False))
        parts.append((collapsed[hit_start:hit_end], True))
        cursor = hit_end
    if end > cursor:
        parts.append((collapsed[cursor:end], False))
    if end < len(collapsed):
        parts.append((_ELLIPSIS, False))
    merged: list[tuple[str, bool]] = []
    for part, is_hit in parts:
        if merged and merged[-1][1] == is_hit:
            merged[-1] = (merged[-1][0] + part, is_hit)
        else:
            merged.append((part, is_hit))
    return tuple(merged)
