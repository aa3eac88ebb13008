"""Matching new articles against every topic, and where in each article the topic matched.

FTS5 percolation finds the matches (:func:`storage.percolate`); topics with exact-case terms
(``=US``) are then verified in Python (:mod:`watchlist.evaluate`), since FTS5 ignores case,
and so are topics with a term that ends with a number (FTS5 finds "2,000" in "2,000,000") or
starts with one of three digits (FTS5 finds "500" in "1,500"), on the articles where such a
number goes on.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import chain
from urllib.parse import urlsplit

from storage import Match, StoredArticle, Topic, percolate

from .compile import HitTerm, checks, hit_terms, to_fts5
from .evaluate import Document, document, ends_number, evaluate, goes_on, starts_number
from .highlight import (
    TermKey,
    TokenIndex,
    merge_spans,
    snippet,
    spaced_term_spans,
    spaced_token_spans,
    with_marks,
    word_tokens,
)
from .parser import parse, refuse_contradictions, refuse_other_syntax
from .syntax import BODY, And, Field, Node, Or, Term


def compile_query(query: str) -> str:
    """The FTS5 expression for a topic query; raises QueryError for an invalid query.

    Unscoped terms are restricted to the ``title`` and ``text`` columns, so the expression
    works on the percolation table (which has a ``source`` column too) and on the archive.
    """
    node = parse(query)
    refuse_contradictions(node)
    refuse_other_syntax(query)
    return to_fts5(node, BODY)


@lru_cache(maxsize=4096)
def fts_expression(query: str) -> str:
    """The FTS5 expression a stored topic's ``query`` is matched by: made again from the
    query (the expression stored with a topic is the one the version that stored it made;
    after an upgrade that reads a query better, a topic added from the command line would
    otherwise be found by its old reading and highlighted by its new one). Stored queries
    were accepted once: not refused again here (see :func:`compile_query`)."""
    return to_fts5(parse(query), BODY)


def source_text(article: StoredArticle) -> str:
    """What ``source:`` matches: the source's name (and those of the other sources that list
    the article: ``also_from``), the publisher an aggregator's item names, and the host of
    the article's URL. The source's own name stays: a topic on an Inoreader folder's name,
    as its user named the source, missed each item whose <source> names its publisher."""
    host = urlsplit(article.url).hostname or ""
    return " ".join([*source_names(article), *(name for name, _ in article.also_from), host])


def source_names(article: StoredArticle) -> list[str]:
    """The names the article's source goes by: the publisher its item names (where it names
    one), and the source's own name (``StoredArticle.source_label``)."""
    names = [article.source_name]
    if article.source_label and article.source_label != article.source_name:
        names.append(article.source_label)
    return names


@dataclass(frozen=True, slots=True)
class _Term:
    """A term to highlight, with what the fast paths of :class:`_Field` need."""

    number: int  # per-article caches are keyed by it (hashing the key again costs more)
    key: TermKey
    fast: bool  # no exact case, word tokens, no number at either end: searched in folded text
    word: str  # a fast one-word term (no prefix): its token; else ""
    first: str  # a token the term cannot occur without ("" for a one-word prefix)


@dataclass(frozen=True)
class _Terms:
    """The terms of a topic to highlight in one field, numbered like :class:`_Term`."""

    id: int
    terms: tuple[_Term, ...]
    # The tokens one of which a text must have for any term to occur in it; None when a
    # term can't be ruled out by whole tokens (a one-word prefix).
    firsts: frozenset[str] | None
    # No two terms can match the same token (so their spans never overlap, and their words
    # differ): their hits are merged by sorting alone.
    apart: bool


_numbers = itertools.count()


# A key evicted and met again gets a new number: only a cache miss, never a wrong hit.
@lru_cache(maxsize=262144)
def _number(key: object) -> int:
    return next(_numbers)


@lru_cache(maxsize=262144)
def _term(key: TermKey) -> _Term:
    tokens, prefix, exact = key
    # A term that ends with a number, or starts with one of three digits, is searched by
    # TokenIndex.search, which leaves out where the text's number goes on.
    fast = (not exact and word_tokens(tokens) and not ends_number(tokens, prefix)
            and not starts_number(tokens))
    whole = tokens[:-1] if prefix else tokens  # the tokens that occur whole
    first = whole[0] if whole and word_tokens(whole[:1]) else ""
    word = tokens[0] if fast and len(tokens) == 1 and not prefix else ""
    return _Term(_number(key), key, fast, word, first)


def _terms(keys: tuple[TermKey, ...]) -> _Terms:
    terms = tuple(_term(key) for key in keys)
    firsts = frozenset(term.first for term in terms)
    return _Terms(_number(keys), terms, None if "" in firsts else firsts, _all_apart(keys))


def _all_apart(keys: tuple[TermKey, ...]) -> bool:
    """Whether no token can be matched by two of the terms (:func:`_apart` of every pair),
    with the tokens sorted once: every pair was compared, and a topic of 2,000 names OR'ed
    took 7.7 s to plan (4,000: 30 s) in every process that matched or searched it."""
    tokens: list[tuple[str, int]] = []
    prefixes: list[tuple[str, int]] = []
    for owner, (term_tokens, is_prefix, _) in enumerate(keys):
        for i, token in enumerate(term_tokens):
            tokens.append((token, owner))
            if is_prefix and i == len(term_tokens) - 1:
                prefixes.append((token, owner))
    tokens.sort()
    for (word, owner), (following, other) in itertools.pairwise(tokens):
        if word == following and owner != other:
            return False
    sorted_tokens = [token for token, _ in tokens]
    for start_of, owner in prefixes:
        # Every token that starts with the prefix (a prefix token of another term included:
        # one of the two starts with the other, and this range holds the longer).
        start = bisect_left(sorted_tokens, start_of)
        for token, other in itertools.islice(tokens, start, None):
            if not token.startswith(start_of):
                break
            if other != owner:
                return False
    return True


def _apart(one: TermKey, other: TermKey) -> bool:
    """Whether no token can be matched by both terms (prefix tokens match the words they
    start): what :func:`_all_apart` answers for every pair at once (its test's oracle)."""

    def can_match(token: str, prefix: bool, word: str, word_prefix: bool) -> bool:
        if prefix and word_prefix:
            return token.startswith(word) or word.startswith(token)
        if prefix:
            return word.startswith(token)
        if word_prefix:
            return token.startswith(word)
        return token == word

    last_one, last_other = len(one[0]) - 1, len(other[0]) - 1
    return not any(
        can_match(token, one[1] and i == last_one, word, other[1] and j == last_other)
        for i, token in enumerate(one[0])
        for j, word in enumerate(other[0])
    )


@dataclass(frozen=True)
class _Plan:
    node: Node
    terms: tuple[HitTerm, ...]
    verify: bool  # exact-case terms, a number under a NOT: FTS5 only found candidates
    numbers: frozenset[str]  # numbers that end terms: candidates where one goes on
    groups: frozenset[str]  # numbers of three digits that start terms: candidates where one
    # is a group going on a number (the 500 of 1,500)
    title: _Terms  # the terms to highlight in the title
    text: _Terms  # and in the text
    #: An OR with a branch that may be false while its words are there (an AND, a NEAR, a
    #: field): only the branches an article satisfies are highlighted (see _satisfied).
    branchy: bool = False


# Sized for large watchlists: a miss re-parses the query for every batch.
@lru_cache(maxsize=65536)
def _plan(query: str) -> _Plan:
    node = parse(query)
    terms = hit_terms(node)
    return _Plan(node, terms, *checks(node), _field_terms(terms, "title"),
                 _field_terms(terms, "text"), _branchy(node))


@lru_cache(maxsize=65536)
def _field_terms(terms: tuple[HitTerm, ...], field: str) -> _Terms:
    return _terms(tuple((term.tokens, term.prefix, term.exact)
                        for term in terms if term.tokens and field in term.fields))


def _branchy(node: Node) -> bool:
    if isinstance(node, Or) and not all(isinstance(child, Term) for child in node.children):
        return True
    if isinstance(node, And | Or):
        return any(_branchy(child) for child in node.children)
    return isinstance(node, Field) and _branchy(node.child)


def _satisfied(node: Node, doc: Document) -> tuple[HitTerm, ...]:
    """The terms of the branches of ``node`` (a query that matched) that the article
    satisfies: with ``(Trump AND Belarus) OR PDVSA``, an article matched by PDVSA alone had
    *Trump* highlighted, and the word it matched for hidden among others (a review)."""
    return hit_terms(node, lambda child, scope: isinstance(child, Term) or evaluate(
        Field(scope, child) if scope else child, doc))


# Merged spans, and their words without duplicates in casefold order (Match.terms).
_Hits = tuple[tuple[tuple[int, int], ...], tuple[str, ...]]
_NO_HITS: _Hits = ((), ())
_casefold = str.casefold


class _Field:
    """One field of one article, searched for the terms of every topic that matched it."""

    __slots__ = ("by_term", "by_terms", "index", "spaced", "text", "words")

    def __init__(self, text: str) -> None:
        self.text = text
        self.index = TokenIndex(text)
        self.spaced = self.index.spaced
        self.words = self.index.words  # a short text's tokens, else None
        self.by_term: dict[int, _Hits] = {}  # term number → its hits
        self.by_terms: dict[int, _Hits] = {}  # _Terms.id → the hits of them all

    def hits(self, terms: _Terms) -> _Hits:
        """The spans of `terms` (as find_hits) and their words, searched for and stored in
        ``by_terms[terms.id]`` (callers look there first)."""
        found = self.by_terms[terms.id] = self._hits(terms)
        return found

    def _hits(self, terms: _Terms) -> _Hits:
        tokens = self.words
        if tokens is not None and terms.firsts is not None and tokens.isdisjoint(terms.firsts):
            return _NO_HITS  # most terms are not in a title
        by_term = self.by_term
        parts = []
        for term in terms.terms:
            part = by_term.get(term.number)
            if part is None:
                part = by_term[term.number] = self._term_hits(term)
            if part[0]:
                parts.append(part)
        if len(parts) <= 1:
            return parts[0] if parts else _NO_HITS
        spans = sorted(chain.from_iterable([part[0] for part in parts]))
        if not terms.apart:
            merged = merge_spans(spans)
            if len(merged) < len(spans):  # hits of different terms overlap: words change
                return self._words(merged)
        words = chain.from_iterable([part[1] for part in parts])  # distinct if apart
        return tuple(spans), tuple(sorted(words if terms.apart else set(words), key=_casefold))

    def _term_hits(self, term: _Term) -> _Hits:
        tokens = self.words
        if tokens is not None and term.first and term.first not in tokens:
            return _NO_HITS
        spaced = self.spaced
        if term.word and spaced:
            found = spaced_token_spans(spaced, term.word)
            if not found:
                return _NO_HITS
            text = self.text  # a token has no whitespace: its text is its word
            pieces = {text[start:end] for start, end in found}
            return tuple(found), tuple(sorted(pieces, key=_casefold))
        if term.fast and spaced:
            found = spaced_term_spans(spaced, *term.key[:2])
        else:
            found = self.index.search(*term.key)
        return self._words(merge_spans(found)) if found else _NO_HITS

    def _words(self, spans: list[tuple[int, int]]) -> _Hits:
        text = self.text
        pieces = {text[start:end] for start, end in spans}
        words = {" ".join(piece.split()) for piece in pieces}
        return tuple(spans), tuple(sorted(words, key=_casefold))


#: How long before its source's previous poll an article found now may have been published
#: and still be news (a feed that lists an item late): see match_articles.
SINCE_MARGIN = timedelta(hours=1)


def match_articles(
    articles: Sequence[StoredArticle],
    topics: Sequence[Topic],
    *,
    now: datetime,
    lookback: timedelta,
) -> list[Match]:
    """Every (article, topic) match in ``articles``, judged on the title and extracted text.

    ``source:`` terms look at the source name and host instead.  Articles published before
    ``now - lookback`` are matched but not alerted: a new source must not flood the inbox
    with its back catalogue.
    """
    if not articles or not topics:
        return []
    by_id = {a.id: a for a in articles}
    by_topic = {t.id: t for t in topics}
    hits = percolate(
        ((a.id, a.title, a.text, source_text(a)) for a in articles),
        {t.id: fts_expression(t.query) for t in topics},
    )
    documents: dict[int, Document] = {}

    def doc(article: StoredArticle) -> Document:
        if article.id not in documents:
            documents[article.id] = document(article.title, article.text, source_text(article))
        return documents[article.id]

    going_on: dict[int, tuple[frozenset[str], frozenset[str]]] = {}

    def goes_on_in(article: StoredArticle) -> tuple[frozenset[str], frozenset[str]]:
        """The numbers the article's number goes on after (the 2 and 000 of 2,000,000), and
        the groups that go on a number (the 000s of 2,000,000, the 500 of 1,500)."""
        if article.id not in going_on:
            ends: set[str] = set()
            groups: set[str] = set()
            for value in (article.title, article.text, source_text(article)):
                after, grouped = goes_on(value)
                ends.update(after.values())
                groups.update(grouped.values())
            going_on[article.id] = frozenset(ends), frozenset(groups)
        return going_on[article.id]

    def unsure(plan: _Plan, article: StoredArticle) -> bool:
        """Whether FTS5's verdict on `article` needs :func:`evaluate`'s: the topic has an
        exact-case term, or one of its numbers goes on in the article."""
        if plan.verify:
            return True
        if not plan.numbers and not plan.groups:
            return False
        ends, groups = goes_on_in(article)
        return not (plan.numbers.isdisjoint(ends) and plan.groups.isdisjoint(groups))

    horizon = now - lookback
    # Article by article, topics in order: matches come out sorted, and each article's
    # fields (with their caches of hits) are built once and dropped when it is done.
    plans = {topic_id: _plan(by_topic[topic_id].query) for topic_id in hits}
    topics_of: dict[int, list[int]] = defaultdict(list)
    for topic_id in sorted(hits):
        for article_id in hits[topic_id]:
            topics_of[article_id].append(topic_id)
    matches: list[Match] = []
    append = matches.append
    for article_id in sorted(topics_of):
        article = by_id[article_id]
        when = article.published or article.fetched
        # Published after its source's poll before the one that found it: news, however old
        # (the daemon stopped for a long weekend, the site down for days: its articles of
        # those days were stored and never alerted). An hour's margin for a feed's lag.
        since = article.since - SINCE_MARGIN if article.since is not None else horizon
        alert = when >= min(horizon, since) and not article.baseline
        title, text = _Field(article.title), _Field(article.text)
        title_cache, text_cache = title.by_terms, text.by_terms
        for topic_id in topics_of[article_id]:
            plan = plans[topic_id]
            if unsure(plan, article) and not evaluate(plan.node, doc(article)):
                continue
            title_terms, text_terms = plan.title, plan.text
            if plan.branchy and len(live := _satisfied(plan.node, doc(article))) < len(
                plan.terms
            ) and live:
                title_terms, text_terms = _field_terms(live, "title"), _field_terms(live, "text")
            # Cached hits first: most topics' terms have been searched for other topics.
            title_spans, title_words = title_cache.get(title_terms.id) or title.hits(title_terms)
            text_spans, text_words = text_cache.get(text_terms.id) or text.hits(text_terms)
            if title_words and text_words:
                words = tuple(sorted({*title_words, *text_words}, key=_casefold))
            else:
                words = title_words or text_words
            append(Match(article_id, topic_id, words, alert, title_spans, text_spans))
    return matches


@dataclass(frozen=True)
class Highlighted:
    """An article's title and a snippet of its text, split into (text, is_hit) segments."""

    title: tuple[tuple[str, bool], ...]
    snippet: tuple[tuple[str, bool], ...]


def highlight(article: StoredArticle, matches: Sequence[Match], width: int = 280) -> Highlighted:
    """The title and a snippet of ``article`` with the words of all ``matches`` marked."""
    title_spans = with_marks(
        article.title, merge_spans(sorted(s for m in matches for s in m.title_spans))
    )
    text_spans = with_marks(
        article.text, merge_spans(sorted(s for m in matches for s in m.text_spans))
    )
    title = _segments(article.title, title_spans) if title_spans else ()
    return Highlighted(
        title=title, snippet=snippet(article.text, text_spans, width, article.title, title_spans)
    )


def _segments(text: str, spans: list[tuple[int, int]]) -> tuple[tuple[str, bool], ...]:
    out: list[tuple[str, bool]] = []
    pos = 0
    for start, end in spans:
        if start > pos:
            out.append((text[pos:start], False))
        out.append((text[start:end], True))
        pos = end
    if pos < len(text):
        out.append((text[pos:], False))
    return tuple(out)
