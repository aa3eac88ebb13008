"""Watchlist: the topic query language, matching new articles against every topic, and the
verdict: whether a topic alerts for an article (``verdict.py``).

Errors::

    QueryError (ValueError)    a topic query that cannot be parsed; carries the column and a hint
"""

from .match import (
    Highlighted,
    compile_query,
    fts_expression,
    highlight,
    match_articles,
    source_text,
)
from .query import AmbiguousQuery, QueryError, parse
from .verdict import Verdict, decide, follow_merges, topic_matches, unknown_sources, url_key

__all__ = [
    "AmbiguousQuery",
    "Highlighted",
    "QueryError",
    "Verdict",
    "compile_query",
    "decide",
    "follow_merges",
    "fts_expression",
    "highlight",
    "match_articles",
    "parse",
    "source_text",
    "topic_matches",
    "unknown_sources",
    "url_key",
]
