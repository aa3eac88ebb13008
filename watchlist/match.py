"""Matching new articles against every topic, and where in each article the topic matched.

FTS5 percolation finds the matches (:func:`storage.percolate`); topics with exact-case terms
(``=US``) are then verified in Python (:mod:`watchlist.evaluate`), since FTS5 ignores case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import urlsplit

from storage import Match, StoredArticle, Topic, percolate

from .compile import HitTerm, has_exact, hit_terms, to_fts5
from .evaluate import Document, document, evaluate
from .highlight import TokenIndex, find_hits, snippet
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
class _Plan:
    node: Node
    terms: tuple[HitTerm, ...]
    verify: bool  # exact-case terms: FTS5 only found candidates


# Sized for large watchlists: a miss re-parses the query for every batch.
@lru_cache(maxsize=65536)
def _plan(query: str) -> _Plan:
    node = parse(query)
    return _Plan(node, hit_terms(node), has_exact(node))


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

    indexes: dict[tuple[int, str], TokenIndex] = {}

    def spans(
        article: StoredArticle, field: str, terms: tuple[HitTerm, ...]
    ) -> tuple[tuple[int, int], ...]:
        text = article.title if field == "title" else article.text
        key = (article.id, field)
        if key not in indexes:
            indexes[key] = TokenIndex(text)
        return tuple(find_hits(text, terms, field, indexes[key]))

    horizon = now - lookback
    matches: list[Match] = []
    for topic_id, article_ids in hits.items():
        plan = _plan(by_topic[topic_id].query)
        for article_id in article_ids:
            article = by_id[article_id]
            if plan.verify and not evaluate(plan.node, doc(article)):
                continue
            title_spans = spans(article, "title", plan.terms)
            text_spans = spans(article, "text", plan.terms)
            found = {_span_text(article.title, s) for s in title_spans}
            found |= {_span_text(article.text, s) for s in text_spans}
            when = article.published or article.fetched
            matches.append(
                Match(
                    article_id=article_id,
                    topic_id=topic_id,
                    terms=tuple(sorted(found, key=str.casefold)),
                    alert=when >= horizon and not article.baseline,
                    title_spans=title_spans,
                    text_spans=text_spans,
                )
            )
    matches.sort(key=lambda m: (m.article_id, m.topic_id))
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
