"""Decide a query on one article in pure Python, with exactly FTS5's semantics, plus case.

FTS5 matches case-insensitively, so a topic with exact-case terms (``=US``) is matched in two
steps: FTS5 finds candidates (:func:`watchlist.query.to_fts5` makes a superset), and
:func:`evaluate` decides each candidate.  The semantics, which ``tests/test_query_differential
.py`` checks against SQLite on generated queries and articles:

* an article has columns ``title``, ``text`` and ``source``, each a token list from
  :func:`watchlist.tokens.tokenize_cased`; unscoped terms look in title and text, ``title:``
  narrows to the title, ``source:`` to the source;
* a phrase matches consecutive tokens inside one column (never across title and text); a
  prefix phrase (``"a b"*``) compares its last token with ``startswith``;
* an exact-case term additionally requires the tokens' case-kept, accent-folded form
  (:func:`watchlist.tokens.cased`) to be equal (or, for the last token of a prefix, to start
  with it): ``=US`` matches "US" and "ÚS", not "us" or "Us";
* ``NEAR(p1 ... pn, N)`` (FTS5's definition): in one column there are occurrences, one per
  phrase (they may overlap), such that between the end of each phrase and the start of the
  phrase that starts last there are at most N tokens, i.e. ``max(start) - min(end) <= N``
  with ``end`` one past the phrase's last token;
* AND, OR, NOT are boolean on the whole article.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .syntax import BODY, And, Field, Near, Node, Not, Term
from .tokens import tokenize_cased

__all__ = ["Document", "document", "evaluate", "matches_at", "starts"]


@dataclass(frozen=True)
class Document:
    """An article as token lists per column: (normalized token, cased token) pairs."""

    columns: Mapping[str, Sequence[tuple[str, str]]]


def document(title: str, text: str, source: str = "") -> Document:
    """Tokenize an article's title, text and source ("<source name> <host>") for evaluate."""
    columns = {
        name: tuple((token, exact) for _, _, token, exact in tokenize_cased(value))
        for name, value in (("title", title), ("text", text), ("source", source))
    }
    return Document(columns)


def evaluate(node: Node, doc: Document, fields: Sequence[str] | None = None) -> bool:
    """Whether `doc` matches `node`; `fields`: the columns in scope (None: not inside a field,
    unscoped terms look in title and text)."""
    if fields is None and isinstance(node, (Term, Near)):
        fields = BODY
    if isinstance(node, Term):
        return any(starts(node, doc.columns.get(name, ())) for name in fields or ())
    if isinstance(node, Near):
        return any(_near(node, doc.columns.get(name, ())) for name in fields or ())
    if isinstance(node, Field):
        # Nested filters only narrow (FTS5): a field outside `fields` matches nothing.
        narrowed = (node.name,) if fields is None else tuple(f for f in fields if f == node.name)
        return evaluate(node.child, doc, narrowed)
    if isinstance(node, Not):
        return not evaluate(node.child, doc, fields)
    if isinstance(node, And):
        return all(evaluate(child, doc, fields) for child in node.children)
    return any(evaluate(child, doc, fields) for child in node.children)


def matches_at(
    want: Sequence[str],
    prefix: bool,
    exact: Sequence[str],
    tokens: Sequence[tuple[str, str]],
    index: int,
) -> bool:
    """Whether a term (its tokens, prefix flag, exact-case tokens) occurs at `index`."""
    size = len(want)
    if index + size > len(tokens):
        return False
    last = size - 1
    for offset in range(size):
        token, cased_token = tokens[index + offset]
        if prefix and offset == last:
            if not token.startswith(want[offset]):
                return False
            if exact and not cased_token.startswith(exact[offset]):
                return False
        elif token != want[offset] or (exact and cased_token != exact[offset]):
            return False
    return True


def starts(term: Term, tokens: Sequence[tuple[str, str]]) -> list[int]:
    """Every index of `tokens` where `term` occurs."""
    if not term.tokens:
        return []
    return [
        i for i in range(len(tokens)) if matches_at(term.tokens, term.prefix, term.exact, tokens, i)
    ]


def _near(node: Near, tokens: Sequence[tuple[str, str]]) -> bool:
    occurrences = [starts(term, tokens) for term in node.terms]
    if not all(occurrences):
        return False
    sizes = [len(term.tokens) for term in node.terms]
    # Try each occurrence as the phrase starting last (at `last`): every phrase then needs an
    # occurrence starting at or before `last` and ending at most `distance` tokens before it.
    for candidates in occurrences:
        for last in candidates:
            if all(
                any(last - node.distance - size <= start <= last for start in found)
                for found, size in zip(occurrences, sizes, strict=True)
            ):
                return True
    return False
