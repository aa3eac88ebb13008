"""Syntax tree → FTS5 MATCH expression, and the terms to highlight.

FTS5 is case-insensitive, so an exact-case term (``=US``) compiles to its case-insensitive
form: the FTS5 expression is then a *candidate filter* (it matches at least every article
the query matches) and :mod:`watchlist.evaluate` gives the verdict.  Under a NOT an exact
term is left out instead ("NOT us" would drop articles that only say "us"), which keeps the
candidates a superset.  So is a term that ends with a number (:func:`watchlist.evaluate
.ends_number`): FTS5 finds ``"2 000"`` in "2,000,000" too, where the number goes on; and a
term that starts with a number of three digits (:func:`watchlist.evaluate.starts_number`):
FTS5 finds ``500`` in "1,500", where it is the last group of a bigger number.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from .evaluate import ends_number, starts_number
from .syntax import BODY, And, Field, Near, Node, Not, Or, QueryError, Term

__all__ = ["HitTerm", "checks", "hit_terms", "needs_check", "positive_terms", "to_fts5"]

_NOT_ALONE = "a query or group can't consist only of excluded terms"
_NOT_ALONE_HINT = 'NOT needs a term on its left: write "Maduro NOT Trump" or "Maduro -Trump"'


def _not_column(node: Not) -> int:
    """Column of a Not for messages, falling back to its first term for hand-built trees."""
    if node.column:
        return node.column
    inner: Node = node.child
    while not isinstance(inner, Term):
        if isinstance(inner, Near):
            inner = inner.terms[0]
        elif isinstance(inner, (Not, Field)):
            inner = inner.child
        else:
            inner = inner.children[0]
    return inner.column


# FTS5 binding strength, loosest first; all three operators are left-associative.
_OR, _AND, _NOT, _ATOM = range(4)


def to_fts5(node: Node, columns: Sequence[str] | None = None) -> str:
    """Compile a syntax tree to an FTS5 MATCH expression with every term quoted.

    Without `columns`, unscoped terms match in every column of the table (the archive's
    ``(title, text)``).  With `columns` (such as ``("title", "text")`` for the percolation
    table, which also has a ``source`` column) they are restricted to those columns.
    Exact-case terms compile to a case-insensitive candidate filter (see the module doc).
    """
    _compile(node, None)  # validate the query as written: errors point at what the user typed
    relaxed = _relax(node, negative=False)
    assert relaxed is not None  # only negated subtrees relax to "nothing"
    return _compile(relaxed, tuple(columns) if columns else None)[0]


def _relax(node: Node, negative: bool) -> Node | None:
    """`node` without exact case; under an odd number of NOTs, exact terms and terms that
    end with a number or start with one of three digits match nothing."""
    if isinstance(node, Term):
        if negative and _unsure(node):
            return None
        return replace(node, exact=()) if node.exact else node
    if isinstance(node, Near):
        if negative and any(_unsure(term) for term in node.terms):
            return None
        if not any(term.exact for term in node.terms):
            return node
        return replace(node, terms=tuple(replace(term, exact=()) for term in node.terms))
    if isinstance(node, Field):
        child = _relax(node.child, negative)
        return None if child is None else replace(node, child=child)
    if isinstance(node, Not):
        child = _relax(node.child, not negative)
        return node if child is None else replace(node, child=child)  # lone NOT: invalid anyway
    if isinstance(node, Or):
        kept = [c for c in (_relax(child, negative) for child in node.children) if c is not None]
        return None if not kept else kept[0] if len(kept) == 1 else Or(tuple(kept))
    out: list[Node] = []
    for child in node.children:
        if isinstance(child, Not):
            inner = _relax(child.child, not negative)
            if inner is not None:  # NOT <nothing> excludes nothing: dropped
                out.append(replace(child, child=inner))
        else:
            relaxed = _relax(child, negative)
            if relaxed is None:
                return None
            out.append(relaxed)
    return out[0] if len(out) == 1 else And(tuple(out))


def _has_field(node: Node, name: str) -> bool:
    if isinstance(node, Field):
        return node.name == name or _has_field(node.child, name)
    if isinstance(node, Not):
        return _has_field(node.child, name)
    if isinstance(node, (And, Or)):
        return any(_has_field(child, name) for child in node.children)
    return False


def _colset(columns: tuple[str, ...]) -> str:
    return columns[0] if len(columns) == 1 else "{" + " ".join(columns) + "}"


def _phrase(term: Term) -> str:
    # Tokens never contain '"' (a separator), so no escaping is needed.
    return '"' + " ".join(term.tokens) + '"' + ("*" if term.prefix else "")


def _compile(node: Node, columns: tuple[str, ...] | None) -> tuple[str, int]:
    """FTS5 text for `node` and how tightly it binds, using as few parentheses as possible.

    Few parentheses matter: FTS5's parser has a fixed-size stack ("parser stack overflow"),
    so "a -b -c -d" must become ``"a" NOT "b" NOT "c" NOT "d"``, not nested groups.
    `columns`: restrict unscoped terms to these columns (None: no restriction).
    """
    if columns and isinstance(node, (And, Or)) and not _has_field(node, "source"):
        # One filter for the whole group: nested "title :" filters may narrow it further.
        return f"{_colset(columns)} : ({_compile(node, None)[0]})", _ATOM
    prefix = f"{_colset(columns)} : " if columns else ""
    if isinstance(node, Term):
        return prefix + _phrase(node), _ATOM
    if isinstance(node, Near):
        phrases = " ".join(_phrase(term) for term in node.terms)
        return f"{prefix}NEAR({phrases}, {node.distance})", _ATOM
    if isinstance(node, Field):
        inner, strength = _compile(node.child, None)
        if not isinstance(node.child, (Term, Near)):
            inner = f"({inner})"
        return f"{node.name} : {inner}", _ATOM
    if isinstance(node, Not):
        # FTS5's NOT is binary ("a NOT b"): there is no way to say "everything except b".
        raise QueryError(_NOT_ALONE, _not_column(node), _NOT_ALONE_HINT)
    if isinstance(node, Or):
        for child in node.children:
            if isinstance(child, Not):
                raise QueryError(
                    "an excluded term can't be an alternative of OR",
                    _not_column(child),
                    'write "(a OR b) -c" to exclude c from both',
                )
        return " OR ".join(_operand(child, _OR, columns) for child in node.children), _OR
    positives = [child for child in node.children if not isinstance(child, Not)]
    negatives = [child for child in node.children if isinstance(child, Not)]
    if not positives:
        return _compile(negatives[0], columns)  # raises
    if len(positives) == 1:
        expression, strength = _compile(positives[0], columns)
    else:
        expression = " AND ".join(_operand(child, _AND, columns) for child in positives)
        strength = _AND
    if negatives:
        expression = expression if strength >= _NOT else f"({expression})"
        for negative in negatives:
            # Right operands must bind tighter than NOT itself (left-associativity).
            expression += " NOT " + _operand(negative.child, _ATOM, columns)
        strength = _NOT
    return expression, strength


def _operand(node: Node, minimum: int, columns: tuple[str, ...] | None) -> str:
    """Compile `node`, parenthesized unless it binds at least as tightly as `minimum`."""
    expression, strength = _compile(node, columns)
    return expression if strength >= minimum else f"({expression})"


def _unsure(term: Term) -> bool:
    """Whether FTS5 may find `term` where the article does not have it."""
    return bool(term.exact) or ends_number(term.tokens, term.prefix) or starts_number(term.tokens)


def checks(node: Node) -> tuple[bool, frozenset[str], frozenset[str]]:
    """What of the query FTS5 cannot decide, for :func:`watchlist.evaluate.evaluate` to:
    whether it never can (an exact-case term: FTS5 ignores case; a term that ends with a
    number or starts with one of three digits under a NOT: left out of the FTS5 expression),
    the numbers that end its other terms (only an article where one of them goes on, the
    "2,000" of "2,000,000", needs it: most articles of a ``covid-19`` topic do not), and the
    numbers of three digits that start them (only an article where one of them is a group
    going on a number, the "500" of "1,500", needs it)."""
    numbers: set[str] = set()
    groups: set[str] = set()

    def never(current: Node, negative: bool) -> bool:
        if isinstance(current, (Term, Near)):
            found = False
            for term in (current,) if isinstance(current, Term) else current.terms:
                number = ends_number(term.tokens, term.prefix)
                if number:
                    numbers.add(term.tokens[-1])
                group = starts_number(term.tokens)
                if group:
                    groups.add(term.tokens[0])
                found = found or bool(term.exact) or ((number or group) and negative)
            return found
        if isinstance(current, Not):
            return never(current.child, not negative)
        if isinstance(current, Field):
            return never(current.child, negative)
        return any([never(child, negative) for child in current.children])  # each visited

    return never(node, False), frozenset(numbers), frozenset(groups)


def needs_check(node: Node) -> bool:
    """Whether FTS5 only finds candidates for the query (see :func:`checks`)."""
    always, numbers, groups = checks(node)
    return always or bool(numbers) or bool(groups)


@dataclass(frozen=True)
class HitTerm:
    """A term to highlight: tokens, prefix, exact-case tokens and the fields it may be in."""

    tokens: tuple[str, ...]
    prefix: bool = False
    exact: tuple[str, ...] = ()
    fields: tuple[str, ...] = BODY


def hit_terms(
    node: Node, branch: Callable[[Node, str | None], bool] | None = None
) -> tuple[HitTerm, ...]:
    """Every term not under a NOT, with the fields it applies to; deduplicated, query order.

    NEAR contributes each of its terms.  Terms only in ``source:`` are included with
    ``fields=("source",)``: callers highlighting the title or text skip them. ``branch``,
    when given, says which children of an OR count (given each and the field it is under).
    """
    found: dict[HitTerm, None] = {}

    def visit(current: Node, fields: tuple[str, ...], scope: str | None) -> None:
        if isinstance(current, Term):
            found.setdefault(HitTerm(current.tokens, current.prefix, current.exact, fields))
        elif isinstance(current, Near):
            for term in current.terms:
                visit(term, fields, scope)
        elif isinstance(current, Field):
            visit(current.child, (current.name,), current.name)
        elif isinstance(current, (And, Or)):
            for child in current.children:
                if branch is None or isinstance(current, And) or branch(child, scope):
                    visit(child, fields, scope)
        # Not: terms under a NOT are never highlighted

    visit(node, BODY, None)
    return tuple(found)


def positive_terms(node: Node) -> tuple[tuple[str, ...], ...]:
    """Token sequences of every title/text term not under a NOT, deduplicated, in query order.

    The plain form of :func:`hit_terms` (no prefix, case or field information).
    """
    found: dict[tuple[str, ...], None] = {}
    for term in hit_terms(node):
        if term.fields != ("source",):
            found.setdefault(term.tokens)
    return tuple(found)
