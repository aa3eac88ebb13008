"""Find a topic's words in an article and cut a short excerpt around them for alerts.

Hits are found exactly as :func:`watchlist.query.tokenize` tokenizes, which is how the FTS5
index that matched the article tokenizes, so the words shown in bold are the words that
matched (:class:`TokenIndex` searches a folded copy of the text; it finds the same spans).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
import unicodedata
from collections.abc import Sequence
from typing import Final

from storage.segment import grapheme_start, has_cjk

from .compile import HitTerm
from .evaluate import ends_number, goes_on, matches_at, starts_number
from .tokens import SEPARATORS, cased, fold, fold_char, tokenize

__all__ = [
    "TermKey",
    "TokenIndex",
    "find_hits",
    "merge_spans",
    "snippet",
    "spaced_term_spans",
    "spaced_token_spans",
    "with_marks",
    "word_tokens",
]

_ELLIPSIS: Final = "…"
_WORDS_RE: Final = re.compile(r"\S+")

#: What a snippet shows where the text goes on to a new line that does not carry on the line
#: before: a subheading, a dateline or a list item without a full stop ran into the next
#: sentence ("Background The minister said…"). The snippet is shown on one line in both
#: parts of an email, as a reader's preview is; "…" there would say words were left out,
#: and a comma or a dash would read as the article's own punctuation.
LINE_MARK: Final = " · "
#: A run of white space with a line break in it (the breaks ``str.splitlines`` knows).
_LINE_BREAK_RE: Final = re.compile(r"\s*[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]\s*")
#: The marks that end a sentence or clause, in the scripts that write their own: a line
#: ending with one needs no mark after it.
_CLAUSE_ENDS: Final = frozenset(".!?:;,…。\uff01\uff1f\uff1a\uff1b\uff0c、؟،؛\u06d4।॥")
#: What may close a line after its last mark: quotes and brackets ('He said "no."').
_CLOSERS: Final = "\"')]}\u2019”»\u203a」』\uff09】》〉"
#: A list's bullets and dashes: a line starting with one is marked off already.
_BULLETS: Final = frozenset("•‣◦▪●■*-\u2013\u2014")


TermKey = tuple[tuple[str, ...], bool, tuple[str, ...]]
"""A term as (tokens, prefix, exact-case tokens): what :meth:`TokenIndex.spans` takes."""


class TokenIndex:
    """Where terms occur in one text: built once per article field, then searched for the
    terms of every topic that matched (:meth:`spans` caches each term's spans).

    Tokenizing a whole article in Python costs about a millisecond, so most terms are found
    without it.  Most texts have a same-length folded copy (:func:`watchlist.tokens.fold`);
    with every separator made a space, a token occurs where " token " does, which
    ``str.find`` finds in microseconds (phrases and prefixes: the first token, then a small
    regular expression there).  Exact-case terms, and texts without such a copy (characters
    that fold to nothing or to several), use the token list, built on first need.
    """

    __slots__ = (
        "_cased",
        "_found",
        "_numbers",
        "_pairs",
        "_positions",
        "_spaced",
        "_spans",
        "_text",
        "_words",
    )

    def __init__(self, text: str) -> None:
        self._text = text
        self._spaced: str | None = None  # _spaced_text(text), when needed ("": none)
        self._words: frozenset[str] | None = None  # the tokens of a short text
        self._found: list[tuple[int, int, str]] | None = None
        self._numbers: tuple[frozenset[int], frozenset[int]] | None = None
        self._positions: dict[str, list[int]] | None = None
        self._pairs: list[tuple[str, str]] | None = None
        self._cased: list[tuple[str, str]] | None = None
        self._spans: dict[TermKey, list[tuple[int, int]]] = {}

    @property
    def found(self) -> list[tuple[int, int, str]]:
        """The text's tokens: (start, end, normalized token)."""
        if self._found is None:
            self._found = tokenize(self._text)
        return self._found

    @property
    def positions(self) -> dict[str, list[int]]:
        """Token → the numbers of the tokens equal to it, in order."""
        if self._positions is None:
            self._positions = {}
            for number, (_, _, token) in enumerate(self.found):
                self._positions.setdefault(token, []).append(number)
        return self._positions

    def pairs(self, exact: bool) -> list[tuple[str, str]]:
        """(token, cased form) for every token; the cased form only when ``exact`` needs it."""
        if exact:
            if self._cased is None:
                self._cased = [(token, cased(self._text[a:b])) for a, b, token in self.found]
            return self._cased
        if self._pairs is None:
            self._pairs = [(token, token) for _, _, token in self.found]
        return self._pairs

    def spans(
        self, tokens: tuple[str, ...], prefix: bool = False, exact: tuple[str, ...] = ()
    ) -> list[tuple[int, int]]:
        """Sorted character spans where the term occurs (its tokens consecutively); cached."""
        key = (tokens, prefix, exact)
        found = self._spans.get(key)
        if found is None:
            found = self._spans[key] = self.search(tokens, prefix, exact)
        return found

    @property
    def spaced(self) -> str:
        """The folded text with every separator a space, framed by spaces (see
        :func:`_spaced`); "" when the text has no folded copy."""
        spaced = self._spaced
        if spaced is None:
            spaced = self._spaced = _spaced_text(self._text)
        return spaced

    @property
    def words(self) -> frozenset[str] | None:
        """The set of the text's tokens (plus ""), for a short text with a folded copy; else
        None (building it would cost more than the searches it saves)."""
        words = self._words
        if words is None:
            spaced = self.spaced
            if spaced and len(spaced) <= _SHORT:
                words = self._words = frozenset(spaced.split(" "))
        return words

    @property
    def numbers(self) -> tuple[frozenset[int], frozenset[int]]:
        """Where a token ends that the text's number goes on after (the "2,000" of
        "2,000,000"), and where a group starts that goes on a number (the "500" of "1,500"):
        :func:`watchlist.evaluate.goes_on`."""
        if self._numbers is None:
            ends, groups = goes_on(self._text)
            self._numbers = frozenset(ends), frozenset(groups)
        return self._numbers

    def search(
        self, tokens: tuple[str, ...], prefix: bool = False, exact: tuple[str, ...] = ()
    ) -> list[tuple[int, int]]:
        """:meth:`spans`, not cached (for callers with a cache of their own). A term that
        ends with a number is not found where the text's number goes on, nor one that
        starts with a number of three digits where that is a group going on a number, as
        they do not match there (:mod:`watchlist.evaluate`)."""
        found = self._search(tokens, prefix, exact)
        if not found:
            return found
        if ends_number(tokens, prefix) and (ends := self.numbers[0]):
            found = [span for span in found if span[1] not in ends]
        if starts_number(tokens) and (groups := self.numbers[1]):
            found = [span for span in found if span[0] not in groups]
        return found

    def _search(
        self, tokens: tuple[str, ...], prefix: bool, exact: tuple[str, ...]
    ) -> list[tuple[int, int]]:
        spaced = self.spaced
        if spaced and not exact and word_tokens(tokens):
            if len(spaced) <= _SHORT:  # a title: most terms are not in it, a set says so
                words = self.words
                if not prefix and words is not None and tokens[0] not in words:
                    return []
            if len(tokens) == 1 and not prefix:
                return spaced_token_spans(spaced, tokens[0])
            return spaced_term_spans(spaced, tokens, prefix)
        if not tokens:
            return []
        pairs = self.pairs(bool(exact))
        found = self.found
        size = len(tokens)
        candidates: Sequence[int]
        if prefix and size == 1:
            candidates = range(len(pairs))
        else:
            candidates = self.positions.get(tokens[0], ())
        return [
            (found[number][0], found[number + size - 1][1])
            for number in candidates
            if matches_at(tokens, prefix, exact, pairs, number)
        ]


@functools.lru_cache(maxsize=65536)
def word_tokens(tokens: tuple[str, ...]) -> bool:
    """Whether every token is made of word characters only (so it can occur in folded text
    as a token): true of every token :func:`tokenize` returns."""
    return bool(tokens) and all(token and not SEPARATORS.intersection(token) for token in tokens)


# Latin-1 text → the same with every separator a space, one byte per character.
_SPACES: Final = bytes(0x20 if chr(byte) in SEPARATORS else byte for byte in range(256))
_SHORT: Final = 400  # characters: a text this short gets a set of its tokens
_ASCII_SEPARATORS_RE: Final = re.compile(
    "[\\x00-\\x1f\\x21-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7f]"
)


# Latin-1 text → its folded copy with every separator a space, in one bytes.translate:
# what fold() and then _spaced() give, one byte per character.  µ folds to Greek μ, which
# is not Latin-1: text with it takes the general path.
_LATIN1_FOLDS: Final = [fold_char(chr(byte)) for byte in range(256)]
_LATIN1_DECLINED: Final = tuple(
    bytes([byte]) for byte, char in enumerate(_LATIN1_FOLDS) if len(char) != 1 or ord(char) > 0xFF
)
_LATIN1_SPACED: Final = bytes(
    0x20 if chr(byte) in SEPARATORS else byte if bytes([byte]) in _LATIN1_DECLINED else ord(char)
    for byte, char in enumerate(_LATIN1_FOLDS)
)


def _spaced_text(text: str) -> str:
    """:func:`_spaced` of ``fold(text)``; "" when `text` has no folded copy."""
    try:
        data = text.encode("latin-1")
    except UnicodeEncodeError:
        pass
    else:
        if not any(map(data.__contains__, _LATIN1_DECLINED)):
            return " " + data.translate(_LATIN1_SPACED).decode("latin-1") + " "
    folded = fold(text)
    # A CJK character is a token of its own, with no space around it (storage.segment).
    return "" if folded is None or has_cjk(folded) else _spaced(folded)


def _spaced(folded: str) -> str:
    """ " <folded text> " with every separator a space: the text :class:`TokenIndex` searches.

    `folded` comes from :func:`watchlist.tokens.fold`, whose only non-ASCII separator is the
    space.  A token then occurs where " token " does, and index i of the result is index
    i - 1 of the text.
    """
    try:
        data = folded.encode("latin-1")
    except UnicodeEncodeError:  # Greek, Cyrillic, Arabic, CJK...: slower, still one pass
        return " " + _ASCII_SEPARATORS_RE.sub(" ", folded) + " "
    return " " + data.translate(_SPACES).decode("latin-1") + " "


def spaced_token_spans(spaced: str, token: str) -> list[tuple[int, int]]:
    """Where `token` occurs as a whole token in :func:`_spaced` text (the most common search:
    a one-word term)."""
    needle = " " + token  # no space at the end: str.find skips faster ending on a letter
    find = spaced.find
    start = find(needle)
    if start < 0:
        return []
    size = len(token)
    spans = []
    while start >= 0:
        end = start + size  # in the text; spaced[end + 1] follows the candidate
        if spaced[end + 1] == " ":
            spans.append((start, end))
        start = find(needle, end + 1)
    return spans


@functools.lru_cache(maxsize=65536)
def _spaced_pattern(tokens: tuple[str, ...], prefix: bool) -> re.Pattern[str]:
    """A term of several tokens in :func:`_spaced` text: from the space before it to its end."""
    pattern = " " + " +".join(re.escape(token) for token in tokens)
    return re.compile(pattern + ("[^ ]*" if prefix else "(?= )"))


def spaced_term_spans(spaced: str, tokens: tuple[str, ...], prefix: bool) -> list[tuple[int, int]]:
    """:func:`spaced_token_spans` for a prefix or a phrase.  ``str.find`` finds the first
    token (several times faster than a regular expression's search), then the rest of the
    phrase is matched there."""
    find = spaced.find
    spans = []
    if len(tokens) == 1:  # a one-word prefix: the word it starts
        needle = " " + tokens[0]
        start = find(needle)
        while start >= 0:
            end = find(" ", start + len(needle))  # `spaced` ends with a space
            spans.append((start, end - 1))
            start = find(needle, end)
        return spans
    needle = " " + tokens[0]  # then a space: checked, not searched (see above)
    after = len(needle)
    start = find(needle)
    if start < 0:
        return spans
    match = _spaced_pattern(tokens, prefix).match
    while start >= 0:
        if spaced[start + after] == " ":
            found = match(spaced, start)
            if found is not None:
                spans.append((start, found.end() - 1))
        start = find(needle, start + after)  # phrases may overlap ("a a" in "a a a")
    return spans


def with_marks(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` each taken on over the combining marks after its last letter, to show: in
    Thai, Khmer or Devanagari a vowel sign or tone mark may end a word (คณะรัฐมนตรี), and
    FTS5 reads such a mark as a separator, so a hit stops before it."""
    if text.isascii():
        return spans
    size = len(text)
    out = []
    for start, end in spans:
        while end < size and unicodedata.category(text[end])[0] == "M":
            end += 1
        out.append((start, end))
    return out


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
    if len(wanted) == 1:
        term = wanted[0]
        return merge_spans(index.spans(term.tokens, term.prefix, term.exact))
    spans: list[tuple[int, int]] = []
    for term in wanted:
        spans += index.spans(term.tokens, term.prefix, term.exact)
    spans.sort()
    return merge_spans(spans)


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted `spans` with the overlapping ones merged (a new list)."""
    merged: list[tuple[int, int]] = []
    last_end = -1
    for start, end in spans:
        if start <= last_end:
            if end > last_end:
                merged[-1] = (merged[-1][0], end)
                last_end = end
        else:
            merged.append((start, end))
            last_end = end
    return merged


def _collapse(text: str, hits: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
    """Collapse whitespace runs to single spaces (to LINE_MARK where :func:`_joins` says so)
    and map hit spans onto the collapsed text."""
    words = list(_WORDS_RE.finditer(text))
    starts = [word.start() for word in words]
    joins = _joins(text, starts, words, hits)
    offsets = []  # where each word starts in the collapsed text
    position = 0
    for word, join in zip(words, joins, strict=True):
        offsets.append(position)
        position += len(word.group()) + len(join)

    def to_collapsed(offset: int, is_end: bool) -> int:
        # A hit starts and ends inside words (token characters are never whitespace); the
        # character before `end` belongs to the hit's last word.
        probe = offset - 1 if is_end else offset
        index = max(bisect.bisect_right(starts, probe) - 1, 0)
        inside = min(max(offset - starts[index], 0), len(words[index].group()))
        return offsets[index] + inside

    collapsed = "".join(word.group() + join for word, join in zip(words, joins, strict=True))
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


def _joins(
    text: str, starts: list[int], words: list[re.Match[str]], hits: list[tuple[int, int]]
) -> list[str]:
    """What follows each of the ``words`` of ``text`` (``starts``: where they start) in a
    snippet: a space, LINE_MARK where a line break comes between it and the next word
    that nothing else marks, nothing after the last word.

    A line that ends with a mark of its own (``_CLAUSE_ENDS``, a quote or bracket after
    it), or is followed by a bullet, needs none. Nor does a line followed by one starting
    in lower case: a sentence that goes on (a PDF's text keeps the lines of its page). Nor
    a break inside a hit: a name the text breaks over two lines reads whole.
    """
    joins = [" "] * len(words)
    if joins:
        joins[-1] = ""
    ordered = sorted(hits)
    hit_starts = [start for start, _ in ordered]
    reach = list(itertools.accumulate((end for _, end in ordered), max))  # furthest end yet
    for found in _LINE_BREAK_RE.finditer(text):
        before = bisect.bisect_left(starts, found.start()) - 1
        if before < 0 or before + 1 >= len(words):
            continue  # white space before the first word or after the last
        line_end = words[before].group().rstrip(_CLOSERS)
        following = words[before + 1].group()[0]
        if (
            (line_end and line_end[-1] in _CLAUSE_ENDS)
            or following in _BULLETS
            or unicodedata.category(following) == "Ll"
        ):
            continue
        spanning = bisect.bisect_left(hit_starts, found.start())
        if spanning and reach[spanning - 1] > found.end():
            continue
        joins[before] = LINE_MARK
    return joins


#: How far a snippet's cut may move to fall on a space (longer than most words).
SNAP = 24


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
    # A cut moves to the nearest space within SNAP characters: in text without spaces
    # between words (Chinese, Japanese, Thai) it stays where it is, keeping its context.
    if start > 0 and text[start - 1] != " ":
        space = text.find(" ", start, min(first[0], start + SNAP))
        start = space + 1 if space >= 0 else start
    for hit_start, hit_end in later:  # never cut a later hit in two: stop before it instead
        if hit_start < end < hit_end:
            end = hit_start
    if end < len(text) and text[end] != " " and text[end - 1] != " ":
        space = text.rfind(" ", max(first[1], end - SNAP), end)
        end = space if space >= 0 else end
    # A cut's edge holds no stray mark: not the dash or closing quote of the sentence before
    # ("…- «Nous avons"), nor an opening quote or dash whose words it left out ("dans le
    # quotidien «…").
    while 0 < start < first[0] and text[start - 1] == " ":
        space = text.find(" ", start, first[0])
        if space < 0 or not _stray(text[start:space], opening=False):
            break
        start = space + 1
    while start < first[0] and grapheme_start(text, start) != start:  # no letter cut in two
        start += 1
    end = max(first[1], grapheme_start(text, end))
    while end > first[1] and text[end - 1] == " ":
        end -= 1
    while first[1] < end < len(text):
        space = text.rfind(" ", first[1], end)
        if space < 0 or not _stray(text[space + 1 : end], opening=True):
            break
        end = space
    return start, end


def _stray(word: str, *, opening: bool) -> bool:
    """Whether ``word`` is punctuation alone that a snippet's edge leaves without its words:
    at the end (``opening``) an opening quote or bracket or a dash, at the start any mark
    but an opening one (a quotation that the snippet shows from its start). A symbol is
    none: "$" before "5 million" is the amount's."""
    if word == LINE_MARK.strip():  # a line's end: the words on either side are not its
        return True
    kinds = {unicodedata.category(char) for char in word}
    if not word or any(kind[0] != "P" for kind in kinds):
        return False
    leading = {"Ps", "Pi"}
    return kinds <= leading | {"Pd"} if opening else not kinds & leading


def _richest(text: str, spans: list[tuple[int, int]], budget: int) -> int:
    """The index of the hit whose window (as :func:`_window` cuts one around it) shows the
    most different words of ``spans``; the first of those. A query's words together say why
    it matched: ``NEAR(Ayuso "Miguel Ángel", 5)`` showed the first "Ayuso", at the top of
    the article, never the passage where the two names stand together."""
    words = [" ".join(text[a:b].casefold().split()) for a, b in spans]
    if len(set(words)) < 2:
        return 0
    before = budget // 4
    counts: dict[str, int] = {}
    best, most, low, high = 0, 0, 0, 0
    for at, (start, _) in enumerate(spans):
        window_start, window_end = start - min(start, before), start - min(start, before) + budget
        while high < len(spans) and spans[high][1] <= window_end:
            counts[words[high]] = counts.get(words[high], 0) + 1
            high += 1
        while low < high and spans[low][0] < window_start:
            counts[words[low]] -= 1
            if not counts[words[low]]:
                del counts[words[low]]
            low += 1
        if len(counts) > most:
            best, most = at, len(counts)
    return best


#: The most characters of a site's name after a headline: a few words.
_SITE_SUFFIX_CHARS: Final = 40
#: A site's name after a headline, as :func:`_plain` writes both: after a bar, a dash or a
#: middle dot between spaces ("… | Reuters", "… - BBC News"), a full-width bar or colon
#: (Asahi's before its name).
_SITE_SUFFIX: Final = re.compile(
    rf"(?: [|\-·] |\s?[\uff5c\uff1a]\s?)\S.{{0,{_SITE_SUFFIX_CHARS - 1}}}"
)


def _plain(line: str) -> str:
    """``line`` as a headline is compared: spaces single, case folded, every quote and
    apostrophe one straight quote, every dash a hyphen, "…" three full stops (a page's
    heading typesets what its meta title types, or the other way round)."""
    plain = []
    for char in " ".join(line.split()).casefold():
        kind = unicodedata.category(char)
        if kind == "Pd":
            char = "-"
        elif kind in ("Pi", "Pf") or char in "'\"\u201a\u201e":
            char = '"'
        plain.append(char)
    return "".join(plain).replace("…", "...")


def _is_headline(line: str, title: str) -> bool:
    """Whether ``line`` says the headline ``title``, either of them perhaps with the site's
    name after it (:data:`_SITE_SUFFIX`). A first line much longer than the title, a
    paragraph, is none: not compared character by character."""
    if len(line) > 2 * len(title) + _SITE_SUFFIX_CHARS:
        return False
    line, title = _plain(line), _plain(title)
    if not line or not title:
        return False
    if line == title:
        return True
    shorter, longer = sorted((line, title), key=len)
    return longer.startswith(shorter) and bool(_SITE_SUFFIX.fullmatch(longer, len(shorter)))


def _headline_end(
    text: str, title: str, hits: list[tuple[int, int]], title_hits: Sequence[tuple[int, int]]
) -> int:
    """Where ``text`` goes on after a first line that repeats its article's ``title`` (the
    page's <h1>, which extraction keeps as the text's first line on some sites: the email
    showed the headline, then a snippet that started with it again); 0 where it has no such
    line, or where a hit in that line is of words that neither the rest of the text nor the
    title's hits (``title_hits``, shown in bold above the snippet) show: an exact-case
    word of a topic that a feed's title in capitals does not hold is shown in its place."""
    if not title:
        return 0
    lead = len(text) - len(text.lstrip())
    found = _LINE_BREAK_RE.search(text, lead)
    if found is None or not _is_headline(text[lead : found.start()], title):
        return 0
    shown = {_hit_words(title, span) for span in title_hits}
    shown.update(_hit_words(text, span) for span in hits if span[0] >= found.start())
    in_line = {_hit_words(text, span) for span in hits if span[0] < found.start()}
    return found.end() if in_line <= shown else 0


def _hit_words(text: str, span: tuple[int, int]) -> str:
    """The words of a hit as compared: spaces single, case folded."""
    return " ".join(text[span[0] : span[1]].casefold().split())


def snippet(
    text: str,
    hits: list[tuple[int, int]],
    width: int = 240,
    title: str = "",
    title_hits: Sequence[tuple[int, int]] = (),
) -> tuple[tuple[str, bool], ...]:
    """An excerpt of at most ~`width` characters, as (text, is_hit) parts: around the first
    hit of the passage that shows the most different matched words (:func:`_richest`).
    The text's first line is left out where it repeats the article's ``title`` (hits in the
    title: ``title_hits``; see :func:`_headline_end`): the email shows the headline above
    the snippet."""
    if skip := _headline_end(text, title, hits, title_hits):
        text = text[skip:]
        hits = [(start - skip, end - skip) for start, end in hits if start >= skip]
    collapsed, spans = _collapse(text, hits)
    if not collapsed:
        return ()
    if len(collapsed) <= width:
        start, end = 0, len(collapsed)
    else:
        at = _richest(collapsed, spans, max(width - 2, 1)) if spans else 0
        first = spans[at] if spans else (0, 0)
        start, end = _window(collapsed, first, spans[at + 1 :], width)
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
