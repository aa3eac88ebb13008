"""Topic query language: parse user queries, compile them to SQLite FTS5, tokenize like FTS5.

A topic query is words, "quoted phrases", ``AND``, ``OR``, ``NOT`` (operators only in upper
case), parentheses and implicit AND between adjacent terms.  ``NOT`` binds tightest, then AND,
then OR; ``-word``, ``-"phrase"`` and ``-(group)`` are shorthand for NOT.  Matching is
case-insensitive, accent-insensitive and on whole words only, except for:

* ``word*`` and ``"a phrase"*``: prefix of the (last) word;
* ``NEAR(a "b c", 5)``: terms within 5 tokens of each other (10 by default), any order;
* ``title:word``, ``title:"a phrase"``, ``title:(a OR b)``: only in the title;
  ``source:reuters``, ``source:reuters.com``: the article's source name or host;
* ``=US``, ``="AI Act"``: exact case (accents still ignored).

This module gathers the public names; the work is done in :mod:`watchlist.tokens` (FTS5-exact
tokenizer), :mod:`watchlist.syntax` (tree, errors), :mod:`watchlist.parser` and
:mod:`watchlist.compile`; :mod:`watchlist.evaluate` decides a query on one article in Python.

Errors (the only exception this module raises on bad input)::

    ValueError
     └── QueryError        message + 1-based column into the query text (+ hint)
"""

from __future__ import annotations

from .compile import HitTerm, hit_terms, needs_check, positive_terms, to_fts5
from .parser import parse
from .syntax import BODY, FIELDS, AmbiguousQuery, And, Field, Near, Node, Not, Or, QueryError, Term
from .tokens import cased, normalize, tokenize, tokenize_cased

__all__ = [
    "BODY",
    "FIELDS",
    "AmbiguousQuery",
    "And",
    "Field",
    "HitTerm",
    "Near",
    "Node",
    "Not",
    "Or",
    "QueryError",
    "Term",
    "cased",
    "hit_terms",
    "needs_check",
    "normalize",
    "parse",
    "positive_terms",
    "to_fts5",
    "tokenize",
    "tokenize_cased",
]
