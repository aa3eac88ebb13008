"""Watchlist: the topic query language, and matching new articles against every topic.

Errors::

    QueryError (ValueError)    a topic query that cannot be parsed; carries the column and a hint
"""

from .match import Highlighted, compile_query, highlight, match_articles, source_text
from .query import QueryError, parse

__all__ = [
    "Highlighted",
    "QueryError",
    "compile_query",
    "highlight",
    "match_articles",
    "parse",
    "source_text",
]
