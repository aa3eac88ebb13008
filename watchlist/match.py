"""Matching new articles against every topic, and where in each article the topic matched.

FTS5 percolation finds the matches (:func:`storage.percolate`); topics with exact-case terms
(``=US``) are then verified in Python (:mod:`watchlist.evaluate`), since FTS5 ignores case.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from operator import attrgetter
from urllib.parse import urlsplit

from storage import Match, StoredArticle, Topic, percolate

from .compile import HitTerm, has_exact, hit_terms, to_fts5
from .evaluate import Document, document, evaluate
from .highlight import TermKey, TokenIndex, merge_spans, snippet
from .parser import parse
from .syntax import BODY, Node


def compile_query(query: str) -> str:
    """The FTS5 expression for a topic query; raises QueryError for an invalid query.

    Unscoped terms are restricted to the ``title`` and ``text`` columns, so the expression
    works on the percolation table (which has a ``source`` column too) and on the archive.
    """
    return to_fts5(parse(query), BODY)


def source_text(article: StoredArticle) -> str:
    """What ``source:`` matches: the source's name and the host of the article's URL."""
    host = urlsplit(article.url).hostname or ""
    return f"{article.source_name} {host}"


@dataclass(frozen=True)
class _Terms:
    """The terms of a topic to highlight in one field, numbered: per-article caches are
    keyed by these numbers (hashing the term tuples again for every match costs more)."""

    id: int
    keys: tuple[tuple[int, TermKey], ...]


_numbers = itertools.count()


# A key evicted and met again gets a new number: only a cache miss, never a wrong hit.
@lru_cache(maxsize=262144)
def _number(key: object) -> int:
    return next(_numbers)


@dataclass(frozen=True)
class _Plan:
    node: Node
    terms: tuple[HitTerm, ...]
    verify: bool  # exact-case terms: FTS5 only found candidates
    title: _Terms  # the terms to highlight in the title
    text: _Terms  # and in the text


# Sized for large watchlists: a miss re-parses the query for every batch.
@lru_cache(maxsize=65536)
def _plan(query: str) -> _Plan:
    node = parse(query)
    terms = hit_terms(node)

    def field_terms(field: str) -> _Terms:
        keys = tuple(
            (term.tokens, term.prefix, term.exact)
            for term in terms
            if term.tokens and field in term.fields
        )
        return _Terms(_number(keys), tuple((_number(key), key) for key in keys))

    return _Plan(node, terms, has_exact(node), field_terms("title"), field_terms("text"))


_Hits = tuple[tuple[tuple[int, int], ...], tuple[str, ...]]  # merged spans, their words
_NO_HITS: _Hits = ((), ())


class _Field:
    """One field of one article, searched for the terms of every topic that matched it."""

    __slots__ = ("by_term", "by_terms", "index", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.index = TokenIndex(text)
        self.by_term: dict[int, _Hits] = {}  # term number → its hits
        self.by_terms: dict[int, _Hits] = {}  # _Terms.id → the hits of them all

    def hits(self, terms: _Terms) -> _Hits:
        """The spans of `terms` (as find_hits) and their words; cached by ``terms.id``."""
        cached = self.by_terms.get(terms.id)
        if cached is None:
            cached = self.by_terms[terms.id] = self._hits(terms)
        return cached

    def _hits(self, terms: _Terms) -> _Hits:
        by_term = self.by_term
        parts = []
        for number, key in terms.keys:
            part = by_term.get(number)
            if part is None:
                found = self.index.search(*key)
                if not found:
                    part = by_term[number] = _NO_HITS
                    continue
                part = by_term[number] = self._words(merge_spans(found))
            if part[0]:
                parts.append(part)
        if len(parts) <= 1:
            return parts[0] if parts else _NO_HITS
        spans = [span for part in parts for span in part[0]]
        spans.sort()
        merged = merge_spans(spans)
        if len(merged) < len(spans):  # hits of different terms overlap: words change
            return self._words(merged)
        return tuple(merged), tuple({word for part in parts for word in part[1]})

    def _words(self, spans: list[tuple[int, int]]) -> _Hits:
        text = self.text
        pieces = {text[start:end] for start, end in spans}
        return tuple(spans), tuple({" ".join(piece.split()) for piece in pieces})


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
        {t.id: t.compiled for t in topics},
    )
    documents: dict[int, Document] = {}

    def doc(article: StoredArticle) -> Document:
        if article.id not in documents:
            documents[article.id] = document(article.title, article.text, source_text(article))
        return documents[article.id]

    horizon = now - lookback
    # Per article with a hit: its title and text fields, and whether its matches alert.
    fields: dict[int, tuple[_Field, _Field, bool]] = {}
    matches: list[Match] = []
    for topic_id, article_ids in hits.items():
        plan = _plan(by_topic[topic_id].query)
        for article_id in article_ids:
            if plan.verify and not evaluate(plan.node, doc(by_id[article_id])):
                continue
            entry = fields.get(article_id)
            if entry is None:
                article = by_id[article_id]
                when = article.published or article.fetched
                entry = fields[article_id] = (
                    _Field(article.title),
                    _Field(article.text),
                    when >= horizon and not article.baseline,
                )
            title, text, alert = entry
            title_hits = title.by_terms.get(plan.title.id) or title.hits(plan.title)
            text_hits = text.by_terms.get(plan.text.id) or text.hits(plan.text)
            if title_hits[1] and text_hits[1]:
                words: Iterable[str] = {*title_hits[1], *text_hits[1]}
            else:
                words = title_hits[1] or text_hits[1]  # each is duplicate-free
            matches.append(
                Match(
                    article_id=article_id,
                    topic_id=topic_id,
                    terms=tuple(sorted(words, key=str.casefold)),
                    alert=alert,
                    title_spans=title_hits[0],
                    text_spans=text_hits[0],
                )
            )
    matches.sort(key=attrgetter("article_id", "topic_id"))
    return matches


def _span_text(text: str, span: tuple[int, int]) -> str:
    return " ".join(text[span[0] : span[1]].split())


@dataclass(frozen=True)
class Highlighted:
    """An article's title and a snippet of its text, split into (text, is_hit) segments."""

    title: tuple[tuple[str, bool], ...]
    snippet: tuple[tuple[str, bool], ...]


def highlight(article: StoredArticle, matches: Sequence[Match], width: int = 280) -> Highlighted:
    """The title and a snippet of ``article`` with the words of all ``matches`` marked."""
    title_spans = _merge(s for m in matches for s in m.title_spans)
    text_spans = _merge(s for m in matches for s in m.text_spans)
    title = _segments(article.title, title_spans) if title_spans else ()
    return Highlighted(title=title, snippet=snippet(article.text, text_spans, width))


def _merge(spans: object) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):  # type: ignore[call-overload]
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


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
