"""Lexer and recursive-descent parser for topic queries: query text → syntax tree.

Grammar (operators only in upper case; NOT binds tightest, then AND, then OR)::

    query   := or
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*               adjacent terms: implicit AND
    unary   := ("NOT" | "-")* primary
    primary := FIELD? (term | "(" or ")" | near)    FIELD: title: or source:
    near    := "NEAR(" term term+ ["," N] ")"       N: 0 to 100, default 10
    term    := ["="] (WORD | "PHRASE") ["*"]        =: exact case, *: prefix

A field is an ASCII identifier directly followed by ``:`` and a word, quote, ``(`` or ``=``;
anything else with a colon (``10:30``, ``https://x``) is an ordinary word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Final, Literal
from urllib.parse import urlsplit

from .syntax import FIELDS, AmbiguousQuery, And, Field, Near, Node, Not, Or, QueryError, Term
from .tokens import cased, is_word_char, tokenize

__all__ = ["parse", "refuse_contradictions", "refuse_other_syntax"]

# Typographic quotes are accepted too: users paste “Nicolás Maduro” from word processors.
_QUOTES: Final = frozenset('"“”„«»')
#: Single quotes that open a phrase (U+2018, U+201A, U+2039: 'AI Act' typed with curly
#: quotes; U+203A, closed by U+2039: German and Swiss typing point them inwards, as they do
#: their double ones), closed by one of _SINGLE_CLOSING followed by a space, ")", "*" or the
#: end: inside a word, U+2019 is an apostrophe (Venezuela's, O'Brien).
_SINGLE_OPENING: Final = frozenset("\u2018\u201a\u2039\u203a")
_SINGLE_CLOSING: Final = frozenset("\u2019\u2018\u203a\u2039")
#: A straight single quote opens a phrase where a term starts ('AI Act', as Lucene and many
#: users write it) when another one closes it, followed by a space, ")", "*" or the end;
#: elsewhere it is an apostrophe (O'Brien, '90s).
_STRAIGHT: Final = "'"
#: Dashes a word processor or phone keyboard puts for '-' (en dash, em dash, minus sign,
#: the hyphen and non-breaking hyphen of U+2010/U+2011, the small hyphen-minus; the
#: full-width one is '-' by _FULL_WIDTH): "Maduro \u2010Trump" required Trump.
_DASHES: Final = frozenset("-\u2010\u2011\u2013\u2014\u2212\ufe63")
#: Full-width ASCII, as a Japanese or Chinese input method types it, is ASCII in a query as
#: in an article's text (storage.segment): a full-width OR (U+FF2F U+FF32) required the word
#: "or", and full-width parentheses grouped nothing. One character for one: columns stay right.
_FULL_WIDTH: Final = str.maketrans({code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)})
#: Spanish's inverted marks, written before the first word of a question or an exclamation:
#: a term starts there (title:¿Maduro? was refused, "title: must be followed by a word").
_INVERTED: Final = "¿¡"
#: What no reader sees (see crawler.extracted.visible: articles lose the same).
_INVISIBLE: Final = ("\u00ad", "\u200b", "\u2060", "\ufeff")
#: What a lexeme is: a term, an operator, a field name, punctuation, or the end of the query.
LexemeKind = Literal[
    "WORD", "PHRASE", "AND", "OR", "NOT", "NEG", "EXACT", "FIELD", "NEAR", "COMMA", "(", ")", "END"
]
_OPERATORS: Final[dict[str, LexemeKind]] = {"AND": "AND", "OR": "OR", "NOT": "NOT"}
# FTS5's parser stack overflows at about 31 nested groups; stay well clear of it.
_MAX_NESTING: Final = 16
_MAX_DISTANCE: Final = 100
_DEFAULT_DISTANCE: Final = 10
_FIELD_RE: Final = re.compile(r"([A-Za-z][A-Za-z0-9_]*):")
_NUMBER_RE: Final = re.compile(r"[0-9]+")
_NEAR_EXAMPLE: Final = 'write NEAR(Maduro Lukashenko, 10) or NEAR("Nicolás Maduro" Minsk)'
#: Other tools' field names, and the field that does what they do.
_FIELD_MEANT: Final = {"site": "source", "inurl": "source", "from": "source",
                       "intitle": "title", "allintitle": "title", "headline": "title"}


@dataclass(frozen=True)
class _Lexeme:
    kind: LexemeKind
    text: str
    column: int
    prefix: bool = False  # WORD / PHRASE followed by '*'


def _starts_term(char: str) -> bool:
    return (char in _QUOTES or char in _SINGLE_OPENING or char in "(='"
            or char in _INVERTED or is_word_char(char))


def _source_host(word: str) -> str:
    """A ``source:`` word as a source's text has it: the host of a URL
    (``https://www.reuters.com/world`` is ``reuters.com``), without ``www.``, which an
    article's host may not have."""
    if "://" in word:
        word = urlsplit(word).hostname or word
    return word[4:] if word.lower().startswith("www.") and "." in word[4:] else word


def _single_closing(query: str, start: int) -> int:
    """Where the single quote that closes the one at ``start`` is (-1: none)."""
    closing = _STRAIGHT if query[start] == _STRAIGHT else _SINGLE_CLOSING
    for j in range(start + 1, len(query)):
        if query[j] in closing and (
            j + 1 == len(query) or query[j + 1].isspace() or query[j + 1] in ")*"
        ):
            return j
    return -1


def _word(word: str, column: int) -> _Lexeme:
    """A WORD lexeme, with a trailing '*' turned into the prefix flag (checked)."""
    star = word.find("*")
    if star < 0:
        return _Lexeme("WORD", word, column)
    if word == "*":
        raise QueryError("'*' must directly follow a word", column, "write Madur* for Maduro…")
    if star == 0:
        raise QueryError("'*' goes at the end of a word", column, f"write {word[1:]}*")
    if star != len(word) - 1:
        raise QueryError("'*' can only end a word", column + star, "write Madur* for Maduro…")
    if not is_word_char(word[star - 1]):
        raise QueryError("'*' must directly follow a letter or digit", column + star)
    return _Lexeme("WORD", word[:-1], column, prefix=True)


def _lex(query: str) -> Iterator[_Lexeme]:
    """Split a query into lexemes, raising QueryError for quotes, stray '-', '=' and '*'."""
    query = query.translate(_FULL_WIDTH)
    i, n = 0, len(query)
    in_near = False  # between "NEAR(" and ")": ',' separates the distance
    while i < n:
        char = query[i]
        if char.isspace():
            i += 1
        elif char in "()":
            in_near = in_near and char == "("
            yield _Lexeme("(" if char == "(" else ")", char, i + 1)
            i += 1
        elif char == "," and in_near:
            yield _Lexeme("COMMA", char, i + 1)
            i += 1
        elif char in _QUOTES:
            end = next((j for j in range(i + 1, n) if query[j] in _QUOTES), -1)
            if end < 0:
                raise QueryError("unterminated quote", i + 1, 'add a closing "')
            prefix = end + 1 < n and query[end + 1] == "*"
            yield _Lexeme("PHRASE", query[i + 1 : end], i + 1, prefix)
            i = end + 1 + prefix
        elif (
            char in _SINGLE_OPENING
            or (char == _STRAIGHT and (i == 0 or not is_word_char(query[i - 1])))
        ) and (end := _single_closing(query, i)) > i + 1:
            prefix = end + 1 < n and query[end + 1] == "*"
            yield _Lexeme("PHRASE", query[i + 1 : end], i + 1, prefix)
            i = end + 1 + prefix
        elif char in _DASHES and (char == "-" or (i + 1 < n and _starts_term(query[i + 1]))):
            if i + 1 == n or query[i + 1].isspace() or query[i + 1] == ")":
                raise QueryError(
                    "'-' must be directly followed by a word, phrase or '('",
                    i + 1,
                    "write -Trump, without a space",
                )
            yield _Lexeme("NEG", "-", i + 1)
            i += 1
        elif char == "=":
            if i + 1 == n or not (query[i + 1] in _QUOTES or query[i + 1] in _SINGLE_OPENING
                                  or query[i + 1] == _STRAIGHT or query[i + 1] in _INVERTED
                                  or is_word_char(query[i + 1])):
                raise QueryError(
                    "'=' must be directly followed by a word or phrase",
                    i + 1,
                    'exact case: write =US or ="AI Act"',
                )
            yield _Lexeme("EXACT", "=", i + 1)
            i += 1
        elif (found := _FIELD_RE.match(query, i)) and (
            found.group(1).lower() in FIELDS
            or (found.end() < n and _starts_term(query[found.end()]))
        ):
            name = found.group(1)
            if name.lower() not in FIELDS:
                meant = _FIELD_MEANT.get(name.lower())
                value = query[found.end():].split()[0]
                raise QueryError(f"unknown field '{name}'", i + 1,
                                 f"write {meant}:{value}" if meant else "use title: or source:")
            if found.end() == n or not _starts_term(query[found.end()]):
                raise QueryError(
                    f"'{name}:' must be directly followed by a word, phrase or '('",
                    i + 1,
                    f'write {name}:Maduro or {name}:"Nicolás Maduro"',
                )
            yield _Lexeme("FIELD", name.lower(), i + 1)
            i = found.end()
        else:
            j = i
            while j < n and not (
                query[j].isspace()
                or query[j] in "()"
                or query[j] in _QUOTES
                or (in_near and query[j] == ",")
            ):
                j += 1
            word = query[i:j]
            if word == "NEAR" and j < n and query[j] == "(":
                in_near = True
                yield _Lexeme("NEAR", word, i + 1)
            elif word in _OPERATORS:
                yield _Lexeme(_OPERATORS[word], word, i + 1)
            else:
                yield _word(word, i + 1)
            i = j
    yield _Lexeme("END", "", n + 1)


_OPERAND_START: Final[frozenset[LexemeKind]] = frozenset(
    {"WORD", "PHRASE", "EXACT", "FIELD", "NEAR", "(", "NOT", "NEG"}
)


def _shown(text: str, limit: int = 40) -> str:
    """Render user text on one short line for an error message."""
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Parser:
    """Recursive-descent parser; one instance per query."""

    def __init__(self, query: str) -> None:
        self.lexemes = list(_lex(query))
        self.pos = 0
        self.depth = 0
        self.field: str | None = None  # the field being parsed inside, if any

    @property
    def current(self) -> _Lexeme:
        return self.lexemes[self.pos]

    def advance(self) -> _Lexeme:
        lexeme = self.lexemes[self.pos]
        self.pos += 1
        return lexeme

    def parse(self) -> Node:
        node = self.or_expr(None)
        if self.current.kind == ")":
            raise QueryError("unexpected ')'", self.current.column, "remove it or add a '('")
        if self.current.kind == "COMMA":  # only lexed inside NEAR(...), which ends at ')'
            raise QueryError("unexpected ','", self.current.column)
        return node

    def or_expr(self, before: _Lexeme | None) -> Node:
        children = [self.and_expr(before)]
        while self.current.kind == "OR":
            operator = self.advance()
            children.append(self.and_expr(operator))
        return _combine(Or, children)

    def and_expr(self, before: _Lexeme | None) -> Node:
        children = [self.unary(before)]
        while True:
            if self.current.kind == "AND":
                operator = self.advance()
                children.append(self.unary(operator))
            elif self.current.kind in _OPERAND_START:
                children.append(self.unary(None))  # implicit AND
            else:
                return _combine(And, children)

    def unary(self, before: _Lexeme | None) -> Node:
        negations = []
        while self.current.kind in ("NOT", "NEG"):
            negations.append(self.advance())
            before = negations[-1]
        node = self.primary(before)
        for negation in reversed(negations):
            # Double negation cancels out: NOT NOT x, NOT -x and -(-x) all mean x.
            node = node.child if isinstance(node, Not) else Not(node, negation.column)
        return node

    def primary(self, before: _Lexeme | None) -> Node:
        lexeme = self.current
        if lexeme.kind in ("WORD", "PHRASE", "EXACT"):
            term = self.term()
            return term if term.exact or self.field == "source" else _number_forms(term)
        if lexeme.kind == "(":
            return self.group()
        if lexeme.kind == "NEAR":
            return self.near()
        if lexeme.kind == "FIELD":
            return self.field_scope()
        if before is not None and before.kind not in ("(", "FIELD"):
            raise QueryError(f"'{before.text}' needs a term after it", before.column)
        if before is not None and before.kind == "FIELD":
            raise QueryError(f"'{before.text}:' needs a term after it", before.column)
        if lexeme.kind in ("AND", "OR"):
            raise QueryError(
                f"'{lexeme.text}' needs a term before it",
                lexeme.column,
                f"write a {lexeme.text} b",
            )
        if lexeme.kind == ")":
            raise QueryError("unexpected ')'", lexeme.column, "remove it or add a '('")
        if lexeme.kind == "COMMA":
            raise QueryError("unexpected ','", lexeme.column)
        raise QueryError("empty query", 1, 'type a word or a "quoted phrase"')

    def term(self) -> Term:
        exact = self.current.kind == "EXACT"
        if exact:
            sign = self.advance()
            if self.current.kind not in ("WORD", "PHRASE"):
                raise QueryError(
                    "'=' must be directly followed by a word or phrase",
                    sign.column,
                    'exact case: write =US or ="AI Act"',
                )
        lexeme = self.advance()
        if self.field == "source" and lexeme.kind == "WORD":
            lexeme = replace(lexeme, text=_source_host(lexeme.text))
        return _term(lexeme, exact)

    def group(self) -> Node:
        opening = self.advance()
        if self.current.kind == ")":
            raise QueryError("empty parentheses", opening.column, "put terms inside or remove them")
        if self.current.kind == "END":
            raise QueryError("unclosed parenthesis", opening.column)
        self.depth += 1
        if self.depth > _MAX_NESTING:
            raise QueryError("too many nested parentheses", opening.column, "at most 16 levels")
        node = self.or_expr(opening)
        self.depth -= 1
        closing = self.current  # a fresh read: mypy keeps the narrowing above across the call
        if closing.kind != ")":
            # The README's configuration example quotes this message verbatim: no hint.
            raise QueryError("unclosed parenthesis", opening.column)
        self.advance()
        return node

    def field_scope(self) -> Node:
        lexeme = self.advance()
        if self.field is not None and self.field != lexeme.text:
            raise QueryError(
                f"'{lexeme.text}:' inside '{self.field}:' can never match",
                lexeme.column,
                "a word is in the title or the source name, not both",
            )
        outer, self.field = self.field, lexeme.text
        child = self.primary(lexeme)
        self.field = outer
        return child if outer == lexeme.text else Field(lexeme.text, child, lexeme.column)

    def near(self) -> Near:
        keyword = self.advance()
        opening = self.advance()  # the lexer only makes NEAR when '(' follows
        terms: list[Term] = []
        while self.current.kind in ("WORD", "PHRASE", "EXACT"):
            terms.append(self.term())
        distance = _DEFAULT_DISTANCE
        distance_given = self.current.kind == "COMMA"
        if distance_given:
            comma = self.advance()
            value = self.current
            if value.kind != "WORD" or value.prefix or not _NUMBER_RE.fullmatch(value.text):
                column = value.column if value.kind not in (")", "END") else comma.column
                raise QueryError(
                    "NEAR distance must be a whole number from 0 to 100", column, _NEAR_EXAMPLE
                )
            distance = int(value.text)
            if distance > _MAX_DISTANCE:
                raise QueryError("NEAR distance must be a whole number from 0 to 100", value.column)
            self.advance()
        lexeme = self.current
        if lexeme.kind == "END":
            raise QueryError("unclosed NEAR(", opening.column, "add ')'")
        if lexeme.kind == "FIELD":
            raise QueryError(
                "a field can't go inside NEAR", lexeme.column, f"write {lexeme.text}:NEAR(a b)"
            )
        if lexeme.kind != ")" and distance_given:
            raise QueryError("expected ')' after the NEAR distance", lexeme.column)
        if lexeme.kind != ")":
            raise QueryError(
                f"only words and phrases can go inside NEAR, not {_describe(lexeme)}",
                lexeme.column,
                _NEAR_EXAMPLE,
            )
        self.advance()
        if len(terms) < 2:
            raise QueryError(
                "NEAR needs at least two words or phrases", keyword.column, _NEAR_EXAMPLE
            )
        return Near(tuple(terms), distance, keyword.column)


def _describe(lexeme: _Lexeme) -> str:
    if lexeme.kind in ("(", ")", "COMMA"):
        return f"'{lexeme.text}'"
    return f"'{_shown(lexeme.text, 20)}'"


def _term(lexeme: _Lexeme, exact: bool) -> Term:
    """Build a Term, rejecting words and phrases without letters or digits. Characters no
    reader sees (a soft hyphen or zero-width space pasted with a word from a web page) are
    not in it, and its letters are composed (NFC: самолёт pasted from a file name on a Mac
    has its ё as two characters, the letter and a combining diaeresis): articles are so too
    (crawler.extracted.visible)."""
    text = lexeme.text
    for invisible in _INVISIBLE:
        text = text.replace(invisible, "")
    text = unicodedata.normalize("NFC", text)
    lexeme = replace(lexeme, text=text)
    found = tokenize(lexeme.text)
    if not found:
        quote = '"' if lexeme.kind == "PHRASE" else "'"
        shown = quote + _shown(lexeme.text) + quote
        raise QueryError(f"{shown} has no letters or digits", lexeme.column,
                         _no_letters_hint(lexeme.text) if lexeme.kind == "WORD" else "")
    tokens = tuple(token for _, _, token in found)
    exact_tokens = tuple(cased(lexeme.text[start:end]) for start, end, _ in found) if exact else ()
    column = lexeme.column - 1 if exact else lexeme.column
    return Term(lexeme.text, tokens, column, lexeme.prefix, exact_tokens)


def _no_letters_hint(word: str) -> str:
    r"""What to write instead of a word of symbols alone: "Maduro \u2013 Trump" (a word
    processor's " - "), "Maduro && Trump", "Maduro || Machado"."""
    if all(char in _DASHES for char in word):
        return "write -Trump, without a space, to leave Trump out"
    if word == "&&":
        return "write AND, or nothing: words side by side must all be there"
    if set(word) <= set("|"):
        return "write OR"
    return 'quote the name it is part of: "Marks & Spencer"'


_DIGITS: Final = re.compile(r"[0-9]+")
_GROUP: Final = re.compile(r"[0-9]{3}")
_LEAD: Final = re.compile(r"[1-9][0-9]{0,2}")


def _grouped(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """Numbers of four digits or more split in groups of three, as "2,000", "2.000" and
    "2 000" are tokens of an article's text: 2000 → 2 000, 1500000 → 1 500 000."""
    out: list[str] = []
    for token in tokens:
        if len(token) >= 4 and _DIGITS.fullmatch(token) and token[0] != "0":
            head = len(token) % 3 or 3
            out.append(token[:head])
            out.extend(token[i : i + 3] for i in range(head, len(token), 3))
        else:
            out.append(token)
    return tuple(out)


def _joined(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """Groups of three digits joined to the number before them: 2 000 → 2000."""
    out: list[str] = []
    run = False  # the last token out is a number that groups of three can follow
    for token in tokens:
        if run and _GROUP.fullmatch(token):
            out[-1] += token
        else:
            out.append(token)
            run = _LEAD.fullmatch(token) is not None
    return tuple(out)


def _number_forms(term: Term) -> Node:
    """A term with a number of four digits or more, matched however the number is written:
    ``2000`` or ``"2,000 troops"`` find 2000, 2,000, 2.000 and 2 000 (the punctuation cuts
    a number into tokens, in the index as in the query)."""
    if term.prefix or not any(token[:1].isdigit() for token in term.tokens):
        return term  # 2000* is any number its digits start
    forms = dict.fromkeys((term.tokens, _grouped(term.tokens), _joined(term.tokens)))
    forms.pop((), None)
    if len(forms) == 1:
        return term
    return Or(tuple(replace(term, tokens=tokens) for tokens in forms))


def _as_term(node: Node) -> Term | None:
    """The term a node stands for: itself, or the first of a number's forms."""
    if isinstance(node, Term):
        return node
    if not isinstance(node, Or):
        return None
    forms = [c for c in node.children if isinstance(c, Term)]
    same = len(forms) == len(node.children) and len({c.text for c in forms}) == 1
    return forms[0] if same else None


def refuse_contradictions(node: Node) -> None:
    """A QueryError for a term that a group asks for and excludes ("Maduro -Maduro",
    "=US -US"): it can never match, which check would otherwise accept in silence. Asked
    of a query as it is given (compile_query), not of one stored before this was refused:
    matching parses those again, and must not fail on them."""
    if isinstance(node, And):
        wanted = [term for c in node.children if (term := _as_term(c)) is not None]
        for child in node.children:
            if not isinstance(child, Not) or (unwanted := _as_term(child.child)) is None:
                continue
            for term in wanted:
                same = _joined(term.tokens) == _joined(unwanted.tokens)  # 2000 is 2,000
                covered = (unwanted.prefix and not unwanted.exact and not term.prefix
                           and len(term.tokens) == len(unwanted.tokens) == 1
                           and term.tokens[0].startswith(unwanted.tokens[0]))  # -Venezuel*
                if covered or (same and term.prefix == unwanted.prefix and (
                    not unwanted.exact or unwanted.exact == term.exact
                )):
                    raise QueryError(
                        f"'{unwanted.text}*' leaves out '{term.text}', asked for: this can "
                        "never match" if covered and not same else
                        f"'{unwanted.text}' is asked for and excluded: this can never match",
                        child.column,
                        "remove one of them",
                    )
    for part in getattr(node, "children", ()):
        refuse_contradictions(part)
    if isinstance(node, Not | Field):
        refuse_contradictions(node.child)


#: Other tools' syntax that reads here as something else (a word, a phrase), each with what
#: to write instead: Lucene's "!" and "~5", Miniflux's regular expressions, Google's
#: AROUND(5), LexisNexis' w/5.
_PROXIMITY: Final = re.compile(r"(?i)(?:near|w)/[0-9]+")
_REGEX: Final = re.compile(r"[\[\]\\]|^/.+/$|^\?")
_ONE_OF: Final = "write Maduro OR Machado for either, Maduro Machado for both"
_PREFIX_HINT: Final = "write Madur* for every word that begins so, or Maduro OR Madura"
#: Lucene's fuzzy and boost signs inside a word, read here as its end ("?", its wildcard,
#: ends questions too: "Will Maduro resign?").
_LUCENE: Final = {"~": "does not make a word fuzzy", "^": "weighs nothing"}


def refuse_other_syntax(query: str) -> None:
    """A QueryError for what other search tools' users type and newswatch would read as
    something else, silently: ``maduro or machado`` (the word "or" required: no match in a
    Spanish article), ``!Trump`` (Trump required), ``Maduro,Machado`` or ``Maduro|Machado``
    (a phrase), ``/Madur[oa]/`` (a phrase), ``NEAR/5`` or ``"…"~5`` (words), ``C++`` (the
    letter c). Asked of a query as it is given, as refuse_contradictions is."""
    lexemes = list(_lex(query))
    _refuse_mixed_exclusion(lexemes)
    _refuse_or_beside_words(lexemes)
    _refuse_distance_as_word(query, lexemes)
    for lexeme, after in pairwise(lexemes):
        if lexeme.kind == "PHRASE":  # "C++" in quotes is the letter c as well
            _refuse_single_letter(lexeme.text.strip(), lexeme.column, quoted=True)
        if lexeme.kind != "WORD":
            continue
        word, column = lexeme.text, lexeme.column
        if word.upper() in _OPERATORS and word != word.upper():
            raise QueryError(
                f"'{word}' is read as the word \"{word.lower()}\": operators are written in "
                "capitals", column,
                f"write {word.upper()}, or quote the words: \"Maduro {word} Machado\"")
        if word.startswith("!") and len(word) > 1:
            raise QueryError("'!' does not leave words out here", column,
                             f"write -{word.lstrip('!')}")
        if word.startswith("~") or _PROXIMITY.fullmatch(word) or (
            word.upper() == "AROUND" and after.kind == "("
        ):
            raise QueryError(f"'{word}' is read as words here, not as a distance", column,
                             _NEAR_EXAMPLE)
        if "|" in word:
            raise QueryError("'|' is not OR here", column + word.index("|"), _ONE_OF)
        for sign, what in _LUCENE.items():  # Madur~ Maduro^2: the word "madur"
            if sign in word[1:] and not ("/" in word or "." in word):  # not in an address
                raise AmbiguousQuery(f"'{sign}' {what} here", column + word.index(sign, 1),
                                     _PREFIX_HINT if sign != "^" else "remove it: every word "
                                     "counts alike")
        if _REGEX.search(word):
            raise QueryError(
                f"'{_shown(word, 20)}': regular expressions are not read here", column,
                _PREFIX_HINT)
        comma = word.find(",")
        if comma >= 0 and not (
            0 < comma < len(word) - 1 and word[comma - 1].isdigit() and word[comma + 1].isdigit()
        ):
            raise QueryError("a ',' joins nothing here", column + comma,
                             f"{_ONE_OF}, or quote a phrase: \"Washington, D.C.\"")
        _refuse_single_letter(word, column, quoted=False)


#: Signs that open a unit written after a number (°C, °F, ℃ is a letter of its own).
_UNITS: Final = "°º"


def _refuse_single_letter(word: str, column: int, *, quoted: bool) -> None:
    """A QueryError for ``C++``, ``C#``, ``"F#"``: the one letter, which symbols are not part
    of, would match every lone one ("Filecoder.C", "Xuejun C.")."""
    found = tokenize(word)
    if (len(found) == 1 and len(found[0][2]) == 1 and found[0][2].isascii()
            and found[0][2].isalpha() and len(word.rstrip(".")) > 1):
        shown = f'"{word}"' if quoted else f"'{word}'"
        example = f"1.5 {word}" if word[0] in _UNITS else f"{word} compiler"
        raise QueryError(
            f"{shown} is read as the single letter '{found[0][2]}' (symbols are not part of "
            "words): it would match every lone one", column,
            f"write it in a phrase with a word it comes with: \"{example}\"")


_OPERAND_END: Final[frozenset[LexemeKind]] = frozenset({"WORD", "PHRASE", ")"})
_NEXT_OPERAND: Final[frozenset[LexemeKind]] = frozenset(
    {"WORD", "PHRASE", "EXACT", "FIELD", "NEAR", "("}
)


def _refuse_or_beside_words(lexemes: list[_Lexeme]) -> None:
    """A QueryError for OR and words side by side, outside parentheses: ``Venezuela oil OR
    gas`` is (Venezuela oil) OR gas here (AND binds tighter), where Google reads Venezuela
    (oil OR gas): every article on gas alerted (a review). As for an exclusion beside OR
    (_refuse_mixed_exclusion), the query says which."""
    found = _beside_or(lexemes, lambda before, lexeme: before.kind in _OPERAND_END
                       and lexeme.kind in _NEXT_OPERAND)
    if found is not None:
        raise AmbiguousQuery(
            "OR beside words without parentheses: the words beside it go together first "
            "(a b OR c is (a b) OR c)", found[0].column,
            "write Venezuela (oil OR gas) for either with Venezuela, or (Venezuela oil) OR gas")


def _beside_or(
    lexemes: list[_Lexeme], marks: Callable[[_Lexeme, _Lexeme], bool]
) -> tuple[_Lexeme, _Lexeme] | None:
    """The first OR and the first lexeme that ``marks`` (given the lexeme before it) found at
    one level of parentheses, once both are there; None when no level has both."""
    depth = 0
    operators: dict[int, _Lexeme] = {}
    marked: dict[int, _Lexeme] = {}
    for before, lexeme in pairwise([_Lexeme("(", "", 0), *lexemes]):
        if marks(before, lexeme):  # at the level it stands at ("a (b" is a mark of a's)
            marked.setdefault(depth, lexeme)
        if lexeme.kind == "(":
            depth += 1
        elif lexeme.kind == ")":  # the group closed: its own OR and marks with it
            operators.pop(depth, None)
            marked.pop(depth, None)
            depth -= 1
        elif lexeme.kind == "OR":
            operators.setdefault(depth, lexeme)
        if depth in operators and depth in marked:
            return operators[depth], marked[depth]
    return None


def _refuse_distance_as_word(query: str, lexemes: list[_Lexeme]) -> None:
    """A QueryError for ``NEAR(Maduro captured 5)``: the comma forgotten, 5 was a third word
    to find (no article matched); a number from 0 to 100 ending three terms or more."""
    for i, lexeme in enumerate(lexemes):
        if lexeme.kind != "NEAR":
            continue
        end = next(j for j in range(i, len(lexemes)) if lexemes[j].kind in (")", "END"))
        inside = lexemes[i + 2 : end]
        last = inside[-1] if inside else None
        if (last is not None and len(inside) >= 3 and last.kind == "WORD" and not last.prefix
                and inside[-2].kind != "EXACT" and _NUMBER_RE.fullmatch(last.text)
                and int(last.text) <= _MAX_DISTANCE
                and all(x.kind in ("WORD", "PHRASE", "EXACT") for x in inside)):
            terms = query[inside[0].column - 1 : last.column - 1].strip()
            raise QueryError(
                f"'{last.text}' is a word to find here, not the distance", last.column,
                f"write NEAR({terms}, {last.text}) for a distance, or quote the number to "
                "find it")


def _refuse_mixed_exclusion(lexemes: list[_Lexeme]) -> None:
    """A QueryError for OR and an exclusion side by side, outside parentheses:
    ``Maduro OR Machado -Trump`` leaves Trump out of Machado's articles only (NOT binds
    tightest), where Google and Bing leave it out of the whole query; each reader means one
    of the two, so the query says which."""
    found = _beside_or(lexemes, lambda _, lexeme: lexeme.kind in ("NOT", "NEG"))
    if found is not None:
        word = found[1]
        raise QueryError(
            f"'{word.text}' beside OR: it would leave words out of one side of the OR only",
            word.column,
            "write (Maduro OR Machado) -Trump for the whole query, or Maduro OR (Machado "
            "-Trump) for one side")


def _combine(kind: type[And] | type[Or], children: list[Node]) -> Node:
    """Build an And/Or, flattening nested nodes of the same kind; one child stands alone."""
    flat: list[Node] = []
    for child in children:
        flat.extend(child.children if isinstance(child, kind) else (child,))
    return flat[0] if len(flat) == 1 else kind(tuple(flat))


def parse(query: str) -> Node:
    """Parse a topic query into a syntax tree; raise QueryError with a column if malformed."""
    return _Parser(query).parse()
