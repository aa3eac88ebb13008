"""The syntax tree of a topic query, and the one exception raised for a malformed query.

Errors::

    ValueError
     └── QueryError        message + 1-based column into the query text (+ an optional hint)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

__all__ = ["BODY", "FIELDS", "And", "Field", "Near", "Node", "Not", "Or", "QueryError", "Term"]

# Columns an unscoped term is matched in, and the fields a query can name.
BODY: Final = ("title", "text")
FIELDS: Final = ("title", "source")


class QueryError(ValueError):
    """A topic query that cannot be parsed; `column` is 1-based into the query text.

    ``str()`` is one line: ``<message> at column <column>``, followed by `` (<hint>)`` when
    there is a hint.
    """

    def __init__(self, message: str, column: int, hint: str = "") -> None:
        text = f"{message} at column {column}"
        super().__init__(f"{text} ({hint})" if hint else text)
        self.message = message
        self.column = column
        self.hint = hint


class AmbiguousQuery(QueryError):
    """A query newswatch reads one way and other tools' users another (OR beside words
    side by side, Lucene's ``~`` and ``^``), which an earlier version accepted: refused when
    given from the command line; from a config file, where an upgrade would stop the
    daemon, read as before with a warning (newswatch.config)."""


@dataclass(frozen=True)
class Term:
    """A bare word or a quoted phrase, with its normalized tokens.

    `prefix`: the last token is a prefix (``word*``).  `exact`: for an exact-case term
    (``=US``), the tokens with accents folded but case kept; empty for ordinary terms.
    """

    text: str
    tokens: tuple[str, ...]
    column: int
    prefix: bool = False
    exact: tuple[str, ...] = ()


@dataclass(frozen=True)
class And:
    """All children must match."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """At least one child must match."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """The child must not match; `column` (of the NOT or '-') is for error messages only."""

    child: Node
    column: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Near:
    """All terms within `distance` tokens of each other (FTS5 NEAR), in any order."""

    terms: tuple[Term, ...]
    distance: int = 10
    column: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Field:
    """The child matched only in one field: ``title`` or ``source``."""

    name: str
    child: Node
    column: int = field(default=0, compare=False)


Node = Term | And | Or | Not | Near | Field
