"""Matching new articles against every topic, and where in each article the topic matched."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from storage import Match, StoredArticle, Topic, percolate

from .highlight import find_hits, snippet
from .query import parse, positive_terms, to_fts5


def compile_query(query: str) -> str:
    """The FTS5 expression for a topic query; raises QueryError for an invalid query."""
    return to_fts5(parse(query))


@lru_cache(maxsize=4096)
def _terms(query: str) -> tuple[tuple[str, ...], ...]:
    return positive_terms(parse(query))


def match_articles(
    articles: Sequence[StoredArticle],
    topics: Sequence[Topic],
    *,
    now: datetime,
    lookback: timedelta,
) -> list[Match]:
    """Every (article, topic) match in ``articles``, judged on the title and extracted text.

    Articles published before ``now - lookback`` are matched but not alerted: a new source
    must not flood the inbox with its back catalogue.
    """
    if not articles or not topics:
        return []
    by_id = {a.id: a for a in articles}
    by_topic = {t.id: t for t in topics}
    hits = percolate(
        ((a.id, a.title, a.text) for a in articles), {t.id: t.compiled for t in topics}
    )
    horizon = now - lookback
    matches: list[Match] = []
    for topic_id, article_ids in hits.items():
        terms = _terms(by_topic[topic_id].query)
        for article_id in article_ids:
            article = by_id[article_id]
            title_spans = tuple(find_hits(article.title, terms))
            text_spans = tuple(find_hits(article.text, terms))
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
