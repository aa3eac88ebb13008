"""The straightforward baseline: every topic compiled to regexes, tried on every article.

Each term becomes one regex over accent-folded, lower-cased text, with ``\\b`` for whole
words and ``[\\W_]+`` between the words of a phrase; AND / OR / NOT are evaluated in Python
with short-circuiting.  Nothing is shared between topics except Python's compiled patterns:
the cost is topics x articles regex searches, which is what percolation avoids.

Known differences from FTS5's ``unicode61 remove_diacritics 2`` tokenizer (none of them occur
in the generated corpus, so the two engines agree on it):

* Accents: the baseline strips every combining mark after NFD decomposition, FTS5 only from
  letters whose base letter is ASCII, so Cyrillic ``й``/``ё`` or Greek ``ά`` lose their
  marks here but keep them in FTS5.
* Word characters: ``\\w`` is Python's Unicode notion; FTS5 uses its own Unicode 6.1 table
  (``₽``, emoji newer than 2012, private-use characters are word characters there; Indic
  vowel signs, Hebrew points and Arabic harakat split words there).  ``_`` is a separator in
  both (the baseline's ``[\\W_]``) but ``\\b`` still sees it as a word character, so
  ``covid_19`` contains the word "covid" for FTS5 and not for the baseline.
* Case: ``str.lower`` is used (``ß`` stays ``ß`` as in FTS5); compatibility characters
  (``ﬁ``, ``²``) are not decomposed by either.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Final

from storage.models import StoredArticle

from .corpus import QAnd, QNode, QNot, QOr, QTerm

_MARKS: Final = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_SPLIT: Final = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """Lower-case and strip accents: NFD, then drop combining marks."""
    if text.isascii():
        return text.lower()
    return _MARKS.sub("", unicodedata.normalize("NFD", text)).lower()


def term_regex(text: str) -> re.Pattern[str]:
    """The regex for one word or phrase: whole folded words, any separators between them."""
    words = [w for w in _SPLIT.split(fold(text)) if w]
    if not words:
        raise ValueError(f"term {text!r} has no letters or digits")
    return re.compile(r"\b" + r"[\W_]+".join(re.escape(w) for w in words) + r"\b")


# A compiled topic: a function of (folded title, folded text) -> matches?
Compiled = Callable[[str, str], bool]


def compile_tree(node: QNode, cache: dict[str, re.Pattern[str]] | None = None) -> Compiled:
    """Compile a query tree to a predicate over the folded title and text."""
    cache = {} if cache is None else cache
    if isinstance(node, QTerm):
        pattern = cache.get(node.text)
        if pattern is None:
            pattern = cache[node.text] = term_regex(node.text)
        search = pattern.search
        return lambda title, text: search(title) is not None or search(text) is not None
    if isinstance(node, QNot):
        inner = compile_tree(node.child, cache)
        return lambda title, text: not inner(title, text)
    children = [compile_tree(child, cache) for child in node.children]
    if isinstance(node, QAnd):
        return lambda title, text: all(child(title, text) for child in children)
    if isinstance(node, QOr):
        return lambda title, text: any(child(title, text) for child in children)
    raise TypeError(f"unknown query node {node!r}")


class RegexBaseline:
    """Topics as regex predicates; :meth:`match` tries every topic on every article."""

    def __init__(self, topics: Sequence[tuple[int, QNode]]) -> None:
        cache: dict[str, re.Pattern[str]] = {}
        self.topics = [(topic_id, compile_tree(tree, cache)) for topic_id, tree in topics]

    def match_one(self, article: StoredArticle) -> list[int]:
        """Ids of the topics that match ``article``."""
        title, text = fold(article.title), fold(article.text)
        return [topic_id for topic_id, matches in self.topics if matches(title, text)]

    def match(self, articles: Sequence[StoredArticle]) -> set[tuple[int, int]]:
        """Every matching (article id, topic id) pair."""
        return {(a.id, t) for a in articles for t in self.match_one(a)}
