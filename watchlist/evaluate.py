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
* a term that ends with a number (not a prefix) does not match where the text's number goes
  on with another group of three digits (:func:`goes_on`): ``2000`` (``"2 000"`` among its
  forms) matches "2,000", not "2,000,000", which FTS5 cuts into the tokens 2, 000, 000;
  and a term that starts with a number of three digits does not match where that token is
  such a group, after an earlier part of the text's number: ``500`` matches "500 jobs", not
  "1,500 jobs" (the tokens 1, 500) nor "11.500 Stellen";
* ``NEAR(p1 ... pn, N)`` (FTS5's definition): in one column there are occurrences, one per
  phrase (they may overlap), such that between the end of each phrase and the start of the
  phrase that starts last there are at most N tokens, i.e. ``max(start) - min(end) <= N``
  with ``end`` one past the phrase's last token;
* AND, OR, NOT are boolean on the whole article.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from storage.segment import DIGITS

from .syntax import BODY, And, Field, Near, Node, Not, Term
from .tokens import is_word_char, tokenize_cased

__all__ = [
    "Document",
    "document",
    "ends_number",
    "evaluate",
    "goes_on",
    "matches_at",
    "starts",
    "starts_number",
]

#: What writes a number's groups of three digits apart: 2,000,000, 2.000.000, 2 000 000 (or
#: with a no-break, narrow no-break or thin space, as French typesetting does), 2'000'000
#: (Switzerland; the typographic apostrophe, U+2019, too), and the Arabic thousands and
#: decimal separators (U+066C, U+066B) Persian and Arabic sites write between their digits.
GROUP_SEPARATORS: Final = frozenset(",. '\u00a0\u2009\u202f\u2019\u066b\u066c")
#: A run of digits written with group separators between (2,000,000 or 3.5), full-width
#: digits and other scripts' (Persian's, Devanagari's: folded to ASCII as they are tokens
#: of an index, storage.segment) included, as ``\d`` reads them (a class of their ranges,
#: 29 of them outside the BMP, tried one by one, read a text three times slower); and one
#: of its pieces.
_DIGITS: Final = r"\d+"
_SEPARATOR: Final = f"[{re.escape(''.join(sorted(GROUP_SEPARATORS)))}]"
_RUN: Final = re.compile(f"{_DIGITS}(?:{_SEPARATOR}{_DIGITS})+")
_PIECE: Final = re.compile(f"({_DIGITS})({_SEPARATOR}?)")
_ASCII_DIGITS: Final = str.maketrans(
    {0xFF10 + digit: str(digit) for digit in range(10)} | {ord(c): d for c, d in DIGITS.items()}
)
_LEAD: Final = re.compile(r"[0-9]{1,3}")
_GROUP: Final = re.compile(r"[0-9]{3}")
#: The group separator that is as often a space between two numbers: an ordinary space (a
#: no-break, thin or narrow no-break one between digits is typesetting's thousands mark).
_SPACES: Final = frozenset(" ")


@dataclass(frozen=True)
class Document:
    """An article as token lists per column: (normalized token, cased token) pairs, and per
    column the numbers of the tokens after which the text's number goes on (:func:`goes_on`)
    and of those that are a group going on an earlier part of it (`groups`)."""

    columns: Mapping[str, Sequence[tuple[str, str]]]
    numbers: Mapping[str, frozenset[int]] = field(default_factory=dict)
    groups: Mapping[str, frozenset[int]] = field(default_factory=dict)


def document(title: str, text: str, source: str = "") -> Document:
    """Tokenize an article's title, text and source ("<source name> <host>") for evaluate."""
    columns, numbers, groups = {}, {}, {}
    for name, value in (("title", title), ("text", text), ("source", source)):
        found = tokenize_cased(value)
        columns[name] = tuple((token, exact) for _, _, token, exact in found)
        ends, grouped = goes_on(value)
        numbers[name] = frozenset(
            number for number, (_, end, _, _) in enumerate(found) if end in ends
        ) if ends else frozenset()
        groups[name] = frozenset(
            number for number, (start, _, _, _) in enumerate(found) if start in grouped
        ) if grouped else frozenset()
    return Document(columns, numbers, groups)


def goes_on(text: str) -> tuple[dict[int, str], dict[int, str]]:
    """Where in `text` a number's token ends that its number goes on after, and that token
    (ASCII digits): a number of up to three digits, then one group separator and a group of
    three digits (the "2" and the first "000" of "2,000,000"); and where each such group
    starts, and its digits (the two "000" of "2,000,000", the "500" of "1,500"). A group
    written apart otherwise than the one before it is not the same number's: "2,000 000",
    "2,000.000" (a decimal part). Neither is one after a number of four digits or more ("in
    2000, 300 people", "2000 000"), after a separator and a space ("2,000, 300 people"), in a
    word ("covid19,000"), or after an ordinary space with no third group ("COVID-19 100
    patients"; "2 000 000" is one number, and so is "1\u202f500", a narrow no-break space
    between)."""
    ends: dict[int, str] = {}
    grouped: dict[int, str] = {}
    for run in _RUN.finditer(text):
        start, end = run.span()
        pieces = _PIECE.findall(run.group())
        if len(pieces) == 2 and pieces[0][1] in _SPACES:
            # A number, a space and three digits is as often two numbers ("COVID-19 100
            # patients", "Article 5 100 days later") as one ("5 100" typed in French): a
            # number is read as going on after an ordinary space only before a third group
            # ("2 000 000"); after a no-break or thin one, as French typesetting writes
            # "1\u202f500 emplois", always.
            continue
        last = len(pieces) - 1
        offset, before = start, ""  # `before`: the separator of the group the piece ends
        for number, (digits, separator) in enumerate(pieces[:-1]):
            offset += len(digits)
            if (len(digits) <= 3 and len(pieces[number + 1][0]) == 3
                    and before in ("", separator)
                    and (number > 0 or start == 0 or not is_word_char(text[start - 1]))
                    and (number + 1 < last or end == len(text) or not is_word_char(text[end]))):
                ends[offset] = digits.translate(_ASCII_DIGITS)
                grouped[offset + 1] = pieces[number + 1][0].translate(_ASCII_DIGITS)
                before = separator
            else:
                before = ""
            offset += 1
    return ends, grouped


def ends_number(tokens: Sequence[str], prefix: bool) -> bool:
    """Whether a term ends with a number that a group of three digits could go on after in
    an article (``500``, ``"2,000"`` and ``2000``'s form ``"2 000"`` do; ``"500 people"``,
    ``2000`` as written and ``500*`` do not): it matches only where the number ends
    (:func:`goes_on`)."""
    return not prefix and bool(tokens) and _LEAD.fullmatch(tokens[-1]) is not None


def starts_number(tokens: Sequence[str]) -> bool:
    """Whether a term starts with a number of three digits, which in an article may be a
    group going on an earlier part of its number (``500``, ``"500 jobs"``, ``500*`` and
    500000's form ``"500 000"`` do; ``"1,500"`` and ``2500`` do not): it matches only where
    the number starts (:func:`goes_on`)."""
    return bool(tokens) and _GROUP.fullmatch(tokens[0]) is not None


def evaluate(node: Node, doc: Document, fields: Sequence[str] | None = None) -> bool:
    """Whether `doc` matches `node`; `fields`: the columns in scope (None: not inside a field,
    unscoped terms look in title and text)."""
    if fields is None and isinstance(node, (Term, Near)):
        fields = BODY
    if isinstance(node, Term):
        return any(starts(node, doc.columns.get(name, ()), doc.numbers.get(name, frozenset()),
                          doc.groups.get(name, frozenset()))
                   for name in fields or ())
    if isinstance(node, Near):
        return any(_near(node, doc.columns.get(name, ()), doc.numbers.get(name, frozenset()),
                         doc.groups.get(name, frozenset()))
                   for name in fields or ())
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


def starts(
    term: Term,
    tokens: Sequence[tuple[str, str]],
    numbers: frozenset[int] = frozenset(),
    groups: frozenset[int] = frozenset(),
) -> list[int]:
    """Every index of `tokens` where `term` occurs; `numbers`: the indexes after which the
    text's number goes on (:func:`goes_on`), where a term ending with a number does not;
    `groups`: those of the groups that go on a number, where a term starting with a number
    of three digits does not."""
    if not term.tokens:
        return []
    last = len(term.tokens) - 1
    whole = numbers if numbers and ends_number(term.tokens, term.prefix) else frozenset()
    inside = groups if groups and starts_number(term.tokens) else frozenset()
    return [
        i for i in range(len(tokens))
        if matches_at(term.tokens, term.prefix, term.exact, tokens, i)
        and i + last not in whole and i not in inside
    ]


def _near(
    node: Near,
    tokens: Sequence[tuple[str, str]],
    numbers: frozenset[int],
    groups: frozenset[int],
) -> bool:
    occurrences = [starts(term, tokens, numbers, groups) for term in node.terms]
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
