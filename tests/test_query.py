"""Tests for the topic query language: parsing, FTS5 compilation and FTS5-exact tokenization."""

# Multilingual fixture text is the point here: ambiguous-looking letters are intended.

from __future__ import annotations

import contextlib
import re
import sqlite3
import unicodedata
from collections.abc import Iterator

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.segment import segment
from watchlist.evaluate import document
from watchlist.evaluate import evaluate as evaluate_document
from watchlist.query import (
    And,
    Field,
    Near,
    Node,
    Not,
    Or,
    QueryError,
    Term,
    needs_check,
    normalize,
    parse,
    positive_terms,
    to_fts5,
    tokenize,
)
from watchlist.tokens import distinct_tokens

TOKENIZER = "unicode61 remove_diacritics 2"


def _fts_db() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE docs USING fts5(body, tokenize='{TOKENIZER}')")
    db.execute("CREATE VIRTUAL TABLE vocab USING fts5vocab(docs, 'instance')")
    return db


@pytest.fixture(scope="module")
def fts() -> Iterator[sqlite3.Connection]:
    """A reusable FTS5 database; tests empty the table before use."""
    db = _fts_db()
    yield db
    db.close()


def fts5_tokens(db: sqlite3.Connection, texts: list[str]) -> list[list[str]]:
    """Tokens FTS5 produces for each text, in order."""
    db.execute("DELETE FROM docs")
    db.executemany("INSERT INTO docs(rowid, body) VALUES (?, ?)",
                   [(n, segment(text)) for n, text in enumerate(texts)])
    result: list[list[tuple[int, str]]] = [[] for _ in texts]
    for term, doc, offset in db.execute("SELECT term, doc, offset FROM vocab"):
        result[doc].append((offset, term))
    return [[term for _, term in sorted(pairs)] for pairs in result]


def matching(db: sqlite3.Connection, expression: str) -> set[int]:
    return {
        row[0] for row in db.execute("SELECT rowid FROM docs WHERE docs MATCH ?", (expression,))
    }


# --------------------------------------------------------------------------------------------
# Tokenization agrees with FTS5
# --------------------------------------------------------------------------------------------

TRICKY_TEXTS = [
    "AT&T and T-Mobile's e-mail; C++ and C# devs; covid-19, COVID19, user_name, snake_case_id",
    "l'État aujourd'hui don’t rock’n’roll “quoted” «guillemets» „Anführung“ ‹x›",
    "Straße STRASSE Fußball GROẞE Maß ÄÖÜ äöü Bundes\u00adtag",
    "Señor Muñoz, año 2024; Nicolás Maduro; ¿qué? ¡sí! España",
    "Ελληνικά: Αθήνα, ΟΔΟΣ οδός Σωκράτης ά έ ή ί ό ύ ώ ΐ",
    "Украинский журналист Ёжиков; Їжак, ґанок; Беларусь — Минск",
    "الرئيس أحمد الشرع في دمشق، مُحَمَّد؛ ٢٠٢٤ ﻻ",
    "שָׁלוֹם ירושלים",
    "हिन्दी समाचार भारत \u095b\u092e\u0940\u0928 \u091c\u093c\u092e\u0940\u0928 \u0929 \u0915\u093c\u0901",
    "ภาษาไทย กรุงเทพฯ",
    "习近平在北京。東京都、ひらがな カタカナ ｶﾀｶﾅ 한국어 뉴스",
    "İstanbul'da ıslak IŞIK Iğdır",
    "ﬁnancial ﬂow x² H₂O ½ 3¼ Ⅻ ① ™ © ®",
    "100₽ 50₺ ₿ 20€ $5 £3 ¥9 ₹7",
    "Trump🤔 said 👍 ok 🇺🇸 flag 🗳️ vote ⏸ pause",
    "\u2066@user\u2069 isolate \u200bzero\u200cwidth\u200djoiner\ufeffbom",
    "می\u200cخواهم فارسی، ایران و کرمان؛ الأسد إلى آمنة ٱلله نامۀ",
    "\u2067مادورو\u2069 \u061cكراكاس \u2068@user\u2069",
    "Cafe\u0301 Mu\u0308ller Nic\u0327ois A\u030a",
    "1,000.50 3.14 10:30 2024-05-01 v2.0.1 #Elecciones2024 @maduro",
    "سال ۱۴۰۳، ۱٬۵۰۰ و ٣٫٥ عام ٢٠٢٦ सन २०२६ ২০২৬ ปี๒๕๖๙ พ.ศ.๒๕๖๙ ໒໐໒໖ ၂၀၂၆ ១៩ 𝟚𝟘𝟚𝟞 ꧑꧒",
    "مُحَمَّد ปี๒๕๖๙ ກ໒໐ ၂၀က ១៩ក",  # a mark dropped: folded character by character
    "https://example.com/a_b?c=d&e=f j.doe@example.com",
    "Nguyễn Tấn Dũng, Łódź, Dvořák, Þórsdóttir, Ærø, Øresund, ș ț ş ţ, Ǆ ǅ ǆ",
    "საქართველო Հայաստան ኢትዮጵያ தமிழ்",
    "tab\there\nnewline\u00a0nbsp\u2003emspace",
]


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_tokenize_matches_fts5(fts: sqlite3.Connection, text: str) -> None:
    assert [token for _, _, token in tokenize(text)] == fts5_tokens(fts, [text])[0]


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_distinct_tokens_are_fts5s(fts: sqlite3.Connection, text: str) -> None:
    """The words PostgreSQL's search lists of an article (storage.pgwords) are FTS5's."""
    assert distinct_tokens(text) == set(fts5_tokens(fts, [text])[0])


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_tokenize_offsets_point_at_the_token(text: str) -> None:
    for start, end, token in tokenize(text):
        assert normalize(text[start:end]) == token
        assert tokenize(text[start:end]) == [(0, end - start, token)]


def test_tokenize_agrees_with_fts5_for_every_assigned_code_point(fts: sqlite3.Connection) -> None:
    """Every character Python knows, between two letters: one token or two, folded like FTS5."""
    code_points = [
        cp
        for cp in range(0x110000)
        if not 0xD800 <= cp <= 0xDFFF
        and (unicodedata.category(chr(cp)) not in ("Cn", "Co") or cp % 97 == 0)
    ]
    texts = ["x" + chr(cp) + "x" for cp in code_points]
    expected = fts5_tokens(fts, texts)
    mismatches = [
        (hex(cp), want, got)
        for cp, text, want in zip(code_points, texts, expected, strict=True)
        if (got := [token for _, _, token in tokenize(text)]) != want
    ]
    assert mismatches[:20] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nicolás MADURO", "nicolas maduro"),
        ("Straße", "straße"),  # FTS5 folds simply: ß is not ss
        ("ὈΔΥΣΣΕΎΣ οδός", "ὀδυσσεύσ οδόσ"),  # Greek keeps its accents, final sigma folds
        ("Ёлка й", "ёлка й"),  # Cyrillic keeps its diacritics in FTS5
        ("ﬁ²", "ﬁ²"),  # no compatibility decomposition
        ("İ", "i"),
        ("Cafe\u0301", "cafe"),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


# --------------------------------------------------------------------------------------------
# Parsing and compilation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "fts5"),
    [
        ("maduro", '"maduro"'),
        ("Maduro", '"maduro"'),
        ("Nicolás", '"nicolas"'),
        ('"Nicolás Maduro"', '"nicolas maduro"'),
        ("“Nicolás Maduro”", '"nicolas maduro"'),
        ("«Emmanuel Macron»", '"emmanuel macron"'),
        ("Maduro Belarus", '"maduro" AND "belarus"'),
        ("Maduro AND Belarus", '"maduro" AND "belarus"'),
        ("Maduro OR Belarus", '"maduro" OR "belarus"'),
        ("Maduro and Belarus", '"maduro" AND "and" AND "belarus"'),
        ("maduro or belarus", '"maduro" AND "or" AND "belarus"'),
        ("not maduro", '"not" AND "maduro"'),
        ("a b OR c", '"a" AND "b" OR "c"'),
        ("a OR b c", '"a" OR "b" AND "c"'),
        ("a OR b AND c OR d", '"a" OR "b" AND "c" OR "d"'),
        ("(a OR b) c", '("a" OR "b") AND "c"'),
        ("((a))", '"a"'),
        ("a (b c) d", '"a" AND "b" AND "c" AND "d"'),
        ("a OR (b OR c)", '"a" OR "b" OR "c"'),
        ("maduro NOT belarus", '"maduro" NOT "belarus"'),
        ("maduro -belarus", '"maduro" NOT "belarus"'),
        ("maduro AND NOT belarus", '"maduro" NOT "belarus"'),
        ('maduro -"Nicolás Maduro Guerra"', '"maduro" NOT "nicolas maduro guerra"'),
        ("maduro -(a OR b)", '"maduro" NOT ("a" OR "b")'),
        ("-x maduro -y", '"maduro" NOT "x" NOT "y"'),
        ("a b -c -d", '("a" AND "b") NOT "c" NOT "d"'),
        (
            "a (b OR c) -(d e) -(f OR g)",
            '("a" AND ("b" OR "c")) NOT ("d" AND "e") NOT ("f" OR "g")',
        ),
        ("(a b -c) OR d", '("a" AND "b") NOT "c" OR "d"'),
        ("x -(a -b)", '"x" NOT ("a" NOT "b")'),
        ("NOT x OR y z", None),  # NOT directly under OR: rejected at compile time
        ("a NOT b OR c", '"a" NOT "b" OR "c"'),
        ("a OR b NOT c", '"a" OR "b" NOT "c"'),
        ("x NOT NOT y", '"x" AND "y"'),  # double negation cancels
        ("x --y", '"x" AND "y"'),
        ("x -(-y)", '"x" AND "y"'),
        ("covid-19", '"covid 19"'),
        ("AT&T", '"at t"'),
        ("e-mail", '"e mail"'),
        ("C++", '"c"'),
        ("NEAR", '"near"'),
        ("NEAR(a b)", 'NEAR("a" "b", 10)'),  # NEAR( is an operator now; NEAR alone a word
        ("^maduro*", '"maduro"*'),  # '*' ends a word: prefix
        ("l'État", '"l etat"'),
        ("Straße", '"straße"'),
        ("Украинский", '"украинский"'),
        ("دمشق", '"دمشق"'),
        ("a\nOR\tb", '"a" OR "b"'),
        # Pasted from a word processor or a phone: dashes for '-', single curly quotes.
        ("Maduro \u2013Trump", '"maduro" NOT "trump"'),
        ("Maduro \u2014Trump", '"maduro" NOT "trump"'),
        ("Maduro \u2212Trump", '"maduro" NOT "trump"'),
        ("Jean\u2013Luc", '"jean luc"'),
        ("AI -\u2018AI Act\u2019", '"ai" NOT "ai act"'),
        ("\u2018Nicolás Maduro\u2019", '"nicolas maduro"'),
        ("\u2018Venezuela\u2019s oil\u2019", '"venezuela s oil"'),
        ("O\u2019Brien", '"o brien"'),
        ("\u2039Maduro out\u203a", '"maduro out"'),
        # German and Swiss single guillemets point inwards, as their double ones do: the
        # two words were found anywhere.
        ("\u203aMaduro out\u2039", '"maduro out"'),
        ("AI -\u203aAI Act\u2039", '"ai" NOT "ai act"'),
        # Straight single quotes around words make a phrase too (as Lucene reads them);
        # inside or before a word without a closing one, an apostrophe.
        ("'AI Act' OR Maduro", '"ai act" OR "maduro"'),
        ("title:'AI Act'", 'title : "ai act"'),
        ("Maduro -'Donald Trump'", '"maduro" NOT "donald trump"'),
        ("='AI Act'", '"ai act"'),
        ("'Nicolás Mad'*", '"nicolas mad"*'),
        ("('Data Act' OR \u2018AI Act\u2019)", '"data act" OR "ai act"'),
        ("Venezuela's 'interim' leader", '"venezuela s" AND "interim" AND "leader"'),
        ("'90s music", '"90s" AND "music"'),
        ("rock 'n' roll", '"rock" AND "n" AND "roll"'),
        # What no reader sees, pasted with a word from a web page.
        ("Bevöl\u00adkerung", '"bevolkerung"'),
        ("Mad\u200buro", '"maduro"'),
        # Spanish's inverted marks before a question's or an exclamation's first word: a
        # field, an exclusion or exact case takes the word after them, as a term alone does.
        ("title:¿Maduro?", 'title : "maduro"'),
        ("title:¡Maduro dimite!", 'title : "maduro" AND "dimite"'),
        ("Maduro –¿Trump?", '"maduro" NOT "trump"'),
        ("=¡AI!", '"ai"'),
        # Letters pasted as their base and a combining mark (NFD: a Mac's file name) are
        # the composed ones articles hold (crawler.extracted.visible): the mark kept where
        # the index keeps it, the syllable and the kana whole.
        ("\u0441\u0430\u043c\u043e\u043b\u0435\u0308\u0442", '"самолёт"'),
        ("\u1106\u1161\u1103\u116e\u1105\u1169", '"마 두 로"'),
        ("\u30de\u30c8\u3099\u30a5\u30ed", '"マ ド ゥ ロ"'),
    ],
)
def test_to_fts5(query: str, fts5: str | None) -> None:
    node = parse(query)
    if fts5 is None:
        with pytest.raises(QueryError):
            to_fts5(node)
    else:
        assert to_fts5(node) == fts5


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        ("maduro", Term("maduro", ("maduro",), 1)),
        ('  "Nicolás  Maduro" ', Term("Nicolás  Maduro", ("nicolas", "maduro"), 3)),
        ("covid-19", Term("covid-19", ("covid", "19"), 1)),
        (
            "a -b OR c",
            Or((And((Term("a", ("a",), 1), Not(Term("b", ("b",), 4)))), Term("c", ("c",), 9))),
        ),
        ("NOT (a OR b)", Not(Or((Term("a", ("a",), 6), Term("b", ("b",), 11))))),
    ],
)
def test_parse_tree(query: str, tree: Node) -> None:
    assert parse(query) == tree


def test_not_remembers_its_column() -> None:
    node = parse("a  -b")
    assert isinstance(node, And)
    negation = node.children[1]
    assert isinstance(negation, Not) and negation.column == 4


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("maduro", (("maduro",),)),
        ('"Nicolás Maduro" OR maduro -belarus', (("nicolas", "maduro"), ("maduro",))),
        ("a b a (b OR c)", (("a",), ("b",), ("c",))),
        ("x -(y OR z) NOT w", (("x",),)),
        ("x NOT NOT y", (("x",), ("y",))),
    ],
)
def test_positive_terms(query: str, expected: tuple[tuple[str, ...], ...]) -> None:
    assert positive_terms(parse(query)) == expected


# Each: query, message, column (1-based).
MALFORMED = [
    ("", "empty query", 1),
    ("   ", "empty query", 1),
    ("(maduro", "unclosed parenthesis", 1),
    ("a (b OR (c)", "unclosed parenthesis", 3),
    ("a OR (", "unclosed parenthesis", 6),
    ("maduro)", "unexpected ')'", 7),
    (")", "unexpected ')'", 1),
    ("(a) b) c", "unexpected ')'", 6),
    ('"Nicolás Maduro', "unterminated quote", 1),
    ('maduro "belarus', "unterminated quote", 8),
    ("AND maduro", "'AND' needs a term before it", 1),
    ("OR", "'OR' needs a term before it", 1),
    ("(OR a)", "'OR' needs a term before it", 2),
    ("maduro OR", "'OR' needs a term after it", 8),
    ("maduro AND", "'AND' needs a term after it", 8),
    ("a AND AND b", "'AND' needs a term after it", 3),
    ("a OR OR b", "'OR' needs a term after it", 3),
    ("a AND OR b", "'AND' needs a term after it", 3),
    ("(a OR) b", "'OR' needs a term after it", 4),
    ("NOT", "'NOT' needs a term after it", 1),
    ("maduro NOT", "'NOT' needs a term after it", 8),
    ("-AND x", "'-' needs a term after it", 1),
    ("()", "empty parentheses", 1),
    ("a ( ) b", "empty parentheses", 3),
    ("&&", "'&&' has no letters or digits", 1),
    ("maduro &&", "'&&' has no letters or digits", 8),
    ('a ""', '"" has no letters or digits', 3),
    ('" ! "', '" ! " has no letters or digits', 1),
    ("-", "'-' must be directly followed by a word, phrase or '('", 1),
    ("maduro - belarus", "'-' must be directly followed by a word, phrase or '('", 8),
    ("(a -)", "'-' must be directly followed by a word, phrase or '('", 4),
    ("(" * 40 + "a" + ")" * 40, "too many nested parentheses", 17),
]


@pytest.mark.parametrize(
    ("query", "message", "column"),
    [("Maduro -Maduro", "'Maduro' is asked for and excluded: this can never match", 8),
     ("=US -US", "'US' is asked for and excluded: this can never match", 5),
     ("a OR (Minsk NOT minsk)", "'minsk' is asked for and excluded: this can never match", 13),
     ("Venezuela -Venezuel*", "'Venezuel*' leaves out 'Venezuela', asked for: this can never "
      "match", 11)],
)
def test_a_term_asked_for_and_excluded_is_refused(query: str, message: str, column: int) -> None:
    from watchlist import compile_query

    with pytest.raises(QueryError) as caught:
        compile_query(query)
    assert (caught.value.message, caught.value.column) == (message, column)
    parse(query)  # a topic stored before this was refused is still read (matching parses it)
    compile_query("ai -=AI")  # the exact-case word only: it may match


@pytest.mark.parametrize(
    ("query", "message", "column", "hint"),
    [("maduro or machado", "'or' is read as the word \"or\": operators are written in capitals",
      8, 'write OR, or quote the words: "Maduro or Machado"'),
     ("Maduro Not Trump", "'Not' is read as the word \"not\": operators are written in "
      "capitals", 8, 'write NOT, or quote the words: "Maduro Not Machado"'),
     ("Maduro !Trump", "'!' does not leave words out here", 8, "write -Trump"),
     ("Maduro,Machado", "a ',' joins nothing here", 7,
      'write Maduro OR Machado for either, Maduro Machado for both, or quote a phrase: '
      '"Washington, D.C."'),
     ("Maduro, Machado", "a ',' joins nothing here", 7, None),
     ("Maduro|Machado", "'|' is not OR here", 7, None),
     ("/Madur[oa]/", "'/Madur[oa]/': regular expressions are not read here", 1,
      "write Madur* for every word that begins so, or Maduro OR Madura"),
     ("Madur[oa] Venezuela", "'Madur[oa]': regular expressions are not read here", 1, None),
     ("(?i)maduro", "'?i': regular expressions are not read here", 2, None),
     ("Maduro NEAR/5 exile", "'NEAR/5' is read as words here, not as a distance", 8,
      'write NEAR(Maduro Lukashenko, 10) or NEAR("Nicolás Maduro" Minsk)'),
     ("Maduro w/5 exile", "'w/5' is read as words here, not as a distance", 8, None),
     ("Maduro AROUND(5) exile", "'AROUND' is read as words here, not as a distance", 8, None),
     ('"Maduro exile"~5', "'~5' is read as words here, not as a distance", 15, None),
     ("C++ jobs", "'C++' is read as the single letter 'c' (symbols are not part of words): it "
      "would match every lone one", 1, 'write it in a phrase with a word it comes with: '
      '"C++ compiler"'),
     ("C#", "'C#' is read as the single letter 'c' (symbols are not part of words): it would "
      "match every lone one", 1, None),
     ('jobs "C++"', '"C++" is read as the single letter \'c\' (symbols are not part of words): '
      "it would match every lone one", 6, None),
     ("site:reuters.com Maduro", "unknown field 'site'", 1, "write source:reuters.com"),
     ("intitle:Maduro", "unknown field 'intitle'", 1, "write title:Maduro"),
     ("Marks & Spencer", "'&' has no letters or digits", 7,
      'quote the name it is part of: "Marks & Spencer"'),
     ("Maduro OR Machado -Trump",
      "'-' beside OR: it would leave words out of one side of the OR only", 19,
      "write (Maduro OR Machado) -Trump for the whole query, or Maduro OR (Machado -Trump) "
      "for one side"),
     ("Maduro NOT Trump OR Machado",
      "'NOT' beside OR: it would leave words out of one side of the OR only", 8, None),
     # A review's: a distance without its comma was a word to find (no article matched),
     # Lucene's signs ended the word ("Madur?" is "madur"), a word processor's " – " and
     # C's "&&" were words without letters, told to quote a name.
     # Google's reading of OR beside words is the other one: every article on gas alerted.
     ("Venezuela oil OR gas", "OR beside words without parentheses: the words beside it go "
      "together first (a b OR c is (a b) OR c)", 15,
      "write Venezuela (oil OR gas) for either with Venezuela, or (Venezuela oil) OR gas"),
     ('"Nicolás Maduro" OR Maduro Belarus', "OR beside words without parentheses: the words "
      "beside it go together first (a b OR c is (a b) OR c)", 18, None),
     ("NEAR(Maduro captured 5)", "'5' is a word to find here, not the distance", 22,
      "write NEAR(Maduro captured, 5) for a distance, or quote the number to find it"),
     ("NEAR(ハマス 停戦 5)", "'5' is a word to find here, not the distance", 13, None),
     ("Madur~", "'~' does not make a word fuzzy here", 6,
      "write Madur* for every word that begins so, or Maduro OR Madura"),
     ("Maduro^2 Venezuela", "'^' weighs nothing here", 7, "remove it: every word counts alike"),
     ("Maduro – Trump", "'–' has no letters or digits", 8,
      "write -Trump, without a space, to leave Trump out"),
     ("Maduro && Trump", "'&&' has no letters or digits", 8,
      "write AND, or nothing: words side by side must all be there"),
     ("Maduro || Machado", "'||' has no letters or digits", 8, "write OR"),
     ("warming 1.5 °C", "'°C' is read as the single letter 'c' (symbols are not part of "
      "words): it would match every lone one", 13,
      'write it in a phrase with a word it comes with: "1.5 °C"')],
)
def test_other_tools_syntax_is_refused_with_what_to_write(
    query: str, message: str, column: int, hint: str | None
) -> None:
    """What users of Google, Lucene, Miniflux or LexisNexis type was accepted and read as
    something else: `maduro or machado` required the word "or" (no Spanish article
    matched), `!Trump` required Trump, `Maduro|Machado` and `/Madur[oa]/` were phrases,
    `NEAR/5` two words, `C++` the letter c in every "D.C.", and `Maduro OR Machado -Trump`
    left Trump out of Machado's side only, where Google leaves it out of the whole query
    (a review, on fundus pages).
    Refused when given, with what to write; a topic stored before is still read."""
    from watchlist import compile_query

    with pytest.raises(QueryError) as caught:
        compile_query(query)
    assert (caught.value.message, caught.value.column) == (message, column)
    if hint is not None:
        assert caught.value.hint == hint
    if not query.startswith(("site:", "intitle:", "Marks")) and "–" not in query and (
        "&&" not in query and "||" not in query
    ):
        parse(query)  # stored before this was refused: still read


@pytest.mark.parametrize("query", [
    "Maduro OR Machado", '"black or white"', "2,000 jobs", "Yahoo!", "U.S. sanctions",
    "Maduro's", "covid-19", "AT&T", "NEAR(Maduro exile, 5)", '"Washington, D.C."', "x y",
    "=US", "title:Maduro", "A.I.", "€5bn", "e-mail", "(Maduro OR Machado) -Trump",
    "Maduro OR (Machado -Trump)", "(a OR b) (c -d)", "NEAR(a b) -c", "$100 million",
    "US$5bn", "5% tariff", "#1 seed", 'NEAR(Apollo "11" moon)', "NEAR(Boeing 737 MAX)",
    "NEAR(Maduro captured, 5)", '"1.5 °C"', "Venezuel* -Venezuela", "Venezuela (oil OR gas)",
    "(Venezuela oil) OR gas", "Maduro AND Belarus OR Lukashenko", "(a b) (c OR d)",
    "Will Maduro resign?", "example.edu/~smith",
    "title:(Minsk OR Lukashenko) Maduro",
])
def test_what_reads_as_written_is_accepted(query: str) -> None:
    from watchlist import compile_query

    compile_query(query)


@pytest.mark.parametrize(("query", "message", "column"), MALFORMED)
def test_malformed_queries(query: str, message: str, column: int) -> None:
    with pytest.raises(QueryError) as caught:
        parse(query)
    assert (caught.value.message, caught.value.column) == (message, column)
    hint = caught.value.hint
    assert str(caught.value) == f"{message} at column {column}" + (f" ({hint})" if hint else "")
    assert "\n" not in str(caught.value)


# Parse fine, but FTS5 cannot express them (its NOT is binary).
UNCOMPILABLE = [
    ("NOT maduro", "a query or group can't consist only of excluded terms", 1),
    ("-maduro", "a query or group can't consist only of excluded terms", 1),
    ("-a -b", "a query or group can't consist only of excluded terms", 1),
    ("x OR (NOT a -b)", "a query or group can't consist only of excluded terms", 7),
    ("a OR NOT b", "an excluded term can't be an alternative of OR", 6),
    ("a OR -b", "an excluded term can't be an alternative of OR", 6),
    ("(NOT a) OR b", "an excluded term can't be an alternative of OR", 2),
    ("x -(a OR -b)", "an excluded term can't be an alternative of OR", 10),
]


@pytest.mark.parametrize(("query", "message", "column"), UNCOMPILABLE)
def test_uncompilable_queries(query: str, message: str, column: int) -> None:
    with pytest.raises(QueryError) as caught:
        to_fts5(parse(query))
    assert (caught.value.message, caught.value.column) == (message, column)


def test_hand_built_not_reports_its_term_column() -> None:
    with pytest.raises(QueryError) as caught:
        to_fts5(Not(Term("x", ("x",), 7)))
    assert caught.value.column == 7


def test_query_error_is_a_value_error() -> None:
    assert issubclass(QueryError, ValueError)


# --------------------------------------------------------------------------------------------
# Compiled expressions actually run in FTS5
# --------------------------------------------------------------------------------------------

DOCS = {
    1: "El presidente Nicolás Maduro viajó a Minsk para reunirse con Lukashenko.",
    2: "Die Straße nach Berlin war gesperrt; der Bürgermeister äußerte sich nicht.",
    3: "Le président français a rencontré Nicolas Maduro à l'Élysée aujourd'hui.",
    4: "Президент Беларуси Александр Лукашенко встретился с Николасом Мадуро в Минске.",
    5: "التقى الرئيس الفنزويلي نيكولاس مادورو بنظيره في دمشق.",
    6: "The Madurology department published a study on Madurai temples.",
    7: "AT&T and T-Mobile cut prices; covid-19 cases fell; e-mail outage in C++ shop.",
    8: "Maduro's government and the opposition (Belarus-style) talks.",
    9: "Украинский журналист; Ёлка на площади.",
    10: "The guide to Germany\u02bcs capital (the modifier letter apostrophe, as DW writes).",
    11: "قال وزير خارجية إيران إن الرئيس أحمد الشرع زار كرمان بعد سقوط الأسد.",
    12: "\u2066@AJArabic\u2069 \u2067مادورو\u2069 في \u061cكراكاس (a tweet's isolates, as embedded)",
    13: "किसानों की \u095b\u092e\u0940\u0928 और नया \u0915\u093c\u093e\u0928\u0942\u0928",
    14: "سقوط Boeing ۷۳۷ در سال ۲۰۲۶ (BBC Persian's digits)",
    15: "पुलिस ने सन २०२६ में ১٬৫০০ ... ปี๒๕๖๙ (Devanagari, Bengali and Thai digits)",
}


@pytest.fixture
def news(fts: sqlite3.Connection) -> sqlite3.Connection:
    fts.execute("DELETE FROM docs")
    fts.executemany("INSERT INTO docs(rowid, body) VALUES (?, ?)",
                    [(n, segment(doc)) for n, doc in DOCS.items()])
    return fts


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Maduro", {1, 3, 8}),  # whole words: not Madurology
        ("maduro", {1, 3, 8}),
        ("MADURO", {1, 3, 8}),
        ("Nicolás", {1, 3}),  # accent-insensitive both ways
        ("Nicolas", {1, 3}),
        ('"Nicolas Maduro"', {1, 3}),
        ('"Maduro Nicolas"', set()),
        ("Maduro Minsk", {1}),
        ("Maduro OR Lukashenko", {1, 3, 8}),
        ("Maduro -Minsk", {3, 8}),
        ("Germany", {10}),  # "Germanyʼs" (U+02BC) was one word
        # Alef typed without its hamza, a Persian keyboard's ی and ک for the Arabic ي and ك.
        ("احمد", {11}), ("أحمد", {11}), ("الاسد", {11}), ("ایران", {11}), ("کرمان", {11}),
        # A tweet's bidi isolates (and the Arabic letter mark) around a word were part of it.
        ("AJArabic", {12}), ("كراكاس", {12}),
        # A letter and its nukta typed (ज़) or written as one character (U+095B, U+0958).
        ("\u091c\u093c\u092e\u0940\u0928", {13}), ("\u0958\u093e\u0928\u0942\u0928", {13}),
        # Another script's digits are the ASCII ones, typed or written (BBC Persian's ۲۰۲۶).
        ("2026", {14, 15}), ('"Boeing 737"', {14}), ("۲۰۲۶", {14, 15}), ("2569", {15}),
        ('"1 500"', {15}), ("٧٣٧", {14}),
        ('"Germany\u2019s capital"', {10}),
        # A phone's or word processor's hyphens exclude too (U+2010, U+2011, U+FE63,
        # full-width): they required Minsk; full-width operators and parentheses are ASCII.
        ("Maduro \u2010Minsk", {3, 8}),
        ("Maduro \u2011Minsk", {3, 8}),
        ("Maduro \ufe63Minsk", {3, 8}),
        ("Maduro \uff0dMinsk", {3, 8}),
        ("Minsk ＯＲ Elysee", {1, 3}),
        ("（Madurology ＯＲ Minsk） Lukashenko", {1}),
        ("Maduro NOT (Minsk OR Elysee)", {8}),
        ("Maduro Belarus", {8}),
        ("Madurology", {6}),
        ("Madura", set()),
        ("strasse", set()),  # FTS5 does not fold ß to ss
        ("Straße", {2}),
        ("STRASSE OR straße", {2}),
        ("Bürgermeister", {2}),
        ("burgermeister", {2}),
        ("ausserte", set()),
        ("äußerte", {2}),
        ("élysée", {3}),
        ("Elysee", {3}),
        ("Мадуро", {4}),
        ("мадуро OR Лукашенко", {4}),
        ("Украинский", {9}),  # й is not stripped to и
        ("Ёлка", {9}),
        ("елка", set()),  # nor ё to е: FTS5 keeps Cyrillic diacritics
        ("مادورو", {5, 12}),
        ("دمشق مادورو", {5}),
        ("AT&T", {7}),
        ("at&t", {7}),
        ('"at t"', {7}),
        ("covid-19", {7}),
        ('"covid 19"', {7}),
        ("e-mail", {7}),
        ("C++", {7}),
        ("t-mobile -c++", set()),
        ("maduro's", {8}),
        ("NEAR OR maduro", {1, 3, 8}),
        ("president OR presidente OR президент", {1, 3, 4}),
    ],
)
def test_compiled_queries_match_the_right_documents(
    news: sqlite3.Connection, query: str, expected: set[int]
) -> None:
    assert matching(news, to_fts5(parse(query))) == expected


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

QUERY_CHARS = "abcAB éÉßй\"“”()-&+*:^_.,'!?NOTAND OR 19 ١ 語\t=,"
FRAGMENTS = [
    "AND", "OR", "NOT", "NEAR", "NEAR(", ", 1)", "-", "(", ")", '"', "a", "b", "c", "é", "AT&T",
    "x-y", "*", "=", "=A", "b*", "2000", '"2,000"', "000", "500",
]  # fmt: skip

queries = st.one_of(
    st.text(alphabet=QUERY_CHARS, max_size=30),
    st.lists(
        st.one_of(st.sampled_from(FRAGMENTS), st.text(QUERY_CHARS, max_size=3)), max_size=12
    ).map(" ".join),
    st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join),
)


def evaluate(node: Node, text: str) -> bool:
    """Reference semantics (watchlist.evaluate): does a one-column document match?"""
    return evaluate_document(node, document("", text))


PROPERTY_DOCS = [
    "a b c",
    "A B",
    "É c",
    "c b a",
    "a",
    "b é",
    "E b",
    "at t x y",
    "near a",
    "and or not",
    "19 c",
    "١ 語",
    "z",
    "2,000 c",
    "2,000,000 c",
    "2000, 300 a",
    "1,500 c",
    "1999, 500 b",
]


@settings(max_examples=examples(400), deadline=None)
@given(query=queries)
def test_any_parseable_query_compiles_to_valid_fts5(fts: sqlite3.Connection, query: str) -> None:
    try:
        node = parse(query)
    except QueryError as exc:
        assert exc.column >= 1 and "\n" not in exc.message
        return
    try:
        expression = to_fts5(node)
    except QueryError as exc:
        assert exc.column >= 1
        return
    fts.execute("DELETE FROM docs")
    fts.executemany("INSERT INTO docs(rowid, body) VALUES (?, ?)",
                    [(n, segment(doc)) for n, doc in enumerate(PROPERTY_DOCS)])
    got = matching(fts, expression)  # raises sqlite3.OperationalError if FTS5 rejects it
    expected = {i for i, doc in enumerate(PROPERTY_DOCS) if evaluate(node, doc)}
    if needs_check(node):
        assert expected <= got  # FTS5 ignores case: a candidate filter
    else:
        assert got == expected


@given(query=st.text(max_size=40))
def test_parse_raises_only_query_error(query: str) -> None:
    try:
        node = parse(query)
    except QueryError:
        return
    with contextlib.suppress(QueryError):
        to_fts5(node)


LEFT_NESTED = (" OR b{i}) -c{i}", " b{i}) -c{i}")


@pytest.mark.parametrize(
    "query",
    [
        "x " + "".join(f"-(a{i} OR (b{i} " for i in range(8)) + "c" + "))" * 8,
        "x " + "".join(f"-(y{i} " for i in range(16)) + "z" + ")" * 16,
        "".join(f"a{i} OR (b{i} " for i in range(16)) + "c" + ")" * 16,
        "(" * 16 + "a" + "".join(LEFT_NESTED[i % 2].format(i=i) for i in range(16)),
        "a " + " ".join(f"-b{i}" for i in range(500)),
        " OR ".join(f"a{i} -b{i}" for i in range(500)),
    ],
)
def test_deepest_and_widest_queries_run_in_fts5(fts: sqlite3.Connection, query: str) -> None:
    """FTS5's parser has a fixed stack: the nesting limit and the compiler keep below it."""
    fts.execute("DELETE FROM docs")
    fts.execute("INSERT INTO docs(rowid, body) VALUES (1, 'x a a0 b0 c z')")
    matching(fts, to_fts5(parse(query)))  # raises sqlite3.OperationalError on overflow


# --------------------------------------------------------------------------------------------
# Prefix, NEAR, fields and exact case
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "fts5"),
    [
        ("Madur*", '"madur"*'),
        ("Nicolás*", '"nicolas"*'),
        ('"Nicolás Mad"*', '"nicolas mad"*'),
        ('"Nicolás Mad*"', '"nicolas mad"'),  # inside quotes '*' is punctuation
        ("covid-1*", '"covid 1"*'),
        ("Straß*", '"straß"*'),
        ("Мадур*", '"мадур"*'),
        ("مادور*", '"مادور"*'),
        ("-x* y", '"y" NOT "x"*'),
        ("NEAR(a b, 5)", 'NEAR("a" "b", 5)'),
        ("NEAR(a b,0)", 'NEAR("a" "b", 0)'),
        ('NEAR("a b" c* =D)', 'NEAR("a b" "c"* "d", 10)'),
        ("NEAR(Maduro Лукашенко, 100) OR x", 'NEAR("maduro" "лукашенко", 100) OR "x"'),
        ("x -NEAR(a b)", '"x" NOT NEAR("a" "b", 10)'),
        ("NEAR (a b)", '"near" AND "a" AND "b"'),  # NEAR is an operator only directly before (
        ("near(a b)", '"near" AND "a" AND "b"'),
        ("NEAR", '"near"'),
        ("title:Maduro", 'title : "maduro"'),
        ("Title:Maduro", 'title : "maduro"'),
        ('title:"Nicolás Maduro"', 'title : "nicolas maduro"'),
        ("title:(a OR b)", 'title : ("a" OR "b")'),
        ("title:(a -b)", 'title : ("a" NOT "b")'),
        ("title:(a title:b)", 'title : ("a" AND "b")'),  # the same field nested: redundant
        ("title:Madur* -title:=US", 'title : "madur"*'),
        ("title:NEAR(a b, 3)", 'title : NEAR("a" "b", 3)'),
        ("a -title:b", '"a" NOT title : "b"'),
        ("source:reuters", 'source : "reuters"'),
        ("source:reuters.com", 'source : "reuters com"'),
        ("source:www.spiegel.de Berlin", 'source : "spiegel de" AND "berlin"'),
        ("10:30", '"10 30"'),  # not an identifier before ':': an ordinary word
        ("https://x.org", '"https x org"'),  # ':' not followed by a term: an ordinary word
        ('"https://x.org"', '"https x org"'),
        ("Straße:Berlin", '"straße berlin"'),  # field names are ASCII identifiers
        # A number of four digits or more, however it is written (the punctuation cuts it
        # into tokens in the index as in the query); not under exact case, nor as a prefix.
        ("1,000", '"1 000" OR "1000"'),
        ("2000", '"2000" OR "2 000"'),
        ('"2,000 troops"', '"2 000 troops" OR "2000 troops"'),
        ("2.000 Soldaten", '("2 000" OR "2000") AND "soldaten"'),
        ("1500000", '"1500000" OR "1 500 000"'),
        ("title:2000", 'title : ("2000" OR "2 000")'),
        ("=2000", '"2000"'),
        ("2000*", '"2000"*'),
        ("NEAR(2000 troops)", 'NEAR("2000" "troops", 10)'),
        ("Boeing 737", '"boeing" AND "737"'),
        ("1.5 billion", '"1 5" AND "billion"'),
        ("0800 number", '"0800" AND "number"'),
        ("=US", '"us"'),  # case is checked in Python (watchlist.evaluate)
        ('="AI Act"', '"ai act"'),
        ("=Élysée", '"elysee"'),
        ("x -=US", '"x"'),  # under NOT an exact term is left out: candidates stay a superset
        ("x -(=US OR uk)", '"x" NOT "uk"'),
        ("x -(=US uk)", '"x"'),
        ("x -(a -=US)", '"x" NOT ("a" NOT "us")'),
        ("x -NEAR(=US a)", '"x"'),
    ],
)
def test_to_fts5_new_operators(query: str, fts5: str) -> None:
    assert to_fts5(parse(query)) == fts5


@pytest.mark.parametrize(
    ("query", "fts5"),
    [
        ("maduro", '{title text} : "maduro"'),
        ("a b", '{title text} : ("a" AND "b")'),
        ("a -b", '{title text} : ("a" NOT "b")'),
        ("title:a", 'title : "a"'),
        ("title:a b", '{title text} : (title : "a" AND "b")'),
        ("NEAR(a b)", '{title text} : NEAR("a" "b", 10)'),
        ("a source:b", '{title text} : "a" AND source : "b"'),
        ("a -source:b", '{title text} : "a" NOT source : "b"'),
        ("(a OR b) -source:c", '{title text} : ("a" OR "b") NOT source : "c"'),
        ("source:a OR b c", 'source : "a" OR {title text} : ("b" AND "c")'),
        # A source's text has its articles' host: a URL is its host, "www." not needed.
        ("a source:https://www.reuters.com/world", '{title text} : "a" AND source : "reuters com"'),
        ("a source:www.reuters.com", '{title text} : "a" AND source : "reuters com"'),
        ("a source:www", '{title text} : "a" AND source : "www"'),
    ],
)
def test_to_fts5_restricted_to_columns(query: str, fts5: str) -> None:
    assert to_fts5(parse(query), ("title", "text")) == fts5


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        ("madur*", Term("madur", ("madur",), 1, prefix=True)),
        ('x "a b"*', And((Term("x", ("x",), 1), Term("a b", ("a", "b"), 3, prefix=True)))),
        ("=US", Term("US", ("us",), 1, exact=("US",))),
        (
            '="Élysée Palace"',
            Term("Élysée Palace", ("elysee", "palace"), 1, exact=("Elysee", "Palace")),
        ),
        ("NEAR(a b)", Near((Term("a", ("a",), 6), Term("b", ("b",), 8)), 10)),
        ("NEAR(a =B*, 3)", Near((Term("a", ("a",), 6), Term("B", ("b",), 8, True, ("B",))), 3)),
        ("title:x", Field("title", Term("x", ("x",), 7))),
        ("SOURCE:x", Field("source", Term("x", ("x",), 8))),
        ("-title:(a OR b)", Not(Field("title", Or((Term("a", ("a",), 9), Term("b", ("b",), 14)))))),
    ],
)  # fmt: skip
def test_parse_tree_new_operators(query: str, tree: Node) -> None:
    assert parse(query) == tree


# Each: query, message, column, a fragment of the hint ("" for none).
MALFORMED_NEW = [
    ("*", "'*' must directly follow a word", 1, "Madur*"),
    ("*maduro", "'*' goes at the end of a word", 1, "write maduro*"),
    ("ma*duro", "'*' can only end a word", 3, "Madur*"),
    ("maduro**", "'*' can only end a word", 7, ""),
    ("C++*", "'*' must directly follow a letter or digit", 4, ""),
    ("NEAR()", "NEAR needs at least two words or phrases", 1, "NEAR(Maduro Lukashenko, 10)"),
    ("NEAR(a)", "NEAR needs at least two words or phrases", 1, "NEAR("),
    ("x NEAR(a, 3)", "NEAR needs at least two words or phrases", 3, ""),
    ("NEAR(a b, x)", "NEAR distance must be a whole number from 0 to 100", 11, "NEAR("),
    ("NEAR(a b, 101)", "NEAR distance must be a whole number from 0 to 100", 11, ""),
    ("NEAR(a b, -1)", "NEAR distance must be a whole number from 0 to 100", 11, ""),
    ("NEAR(a b, 2.5)", "NEAR distance must be a whole number from 0 to 100", 11, ""),
    ("NEAR(a b, 5*)", "NEAR distance must be a whole number from 0 to 100", 11, ""),
    ("NEAR(a b,)", "NEAR distance must be a whole number from 0 to 100", 9, ""),
    ("NEAR(a b, 10 c)", "expected ')' after the NEAR distance", 14, ""),
    ("NEAR(a b", "unclosed NEAR(", 5, "add ')'"),
    ("NEAR(a b, 3", "unclosed NEAR(", 5, ""),
    ("NEAR(a OR b)", "only words and phrases can go inside NEAR, not 'OR'", 8, "NEAR("),
    ("NEAR(a (b))", "only words and phrases can go inside NEAR, not '('", 8, ""),
    ("NEAR(a -b)", "only words and phrases can go inside NEAR, not '-'", 8, ""),
    ("NEAR(a title:b)", "a field can't go inside NEAR", 8, "title:NEAR(a b)"),
    ("foo:bar", "unknown field 'foo'", 1, "use title: or source:"),
    ("maduro body:x", "unknown field 'body'", 8, "use title: or source:"),
    ('x url:"a b"', "unknown field 'url'", 3, ""),
    ("title: maduro", "'title:' must be directly followed by a word, phrase or '('", 1, ""),
    ("x source:", "'source:' must be directly followed by a word, phrase or '('", 3, ""),
    ("source:-x", "'source:' must be directly followed by a word, phrase or '('", 1, ""),
    ("title:(source:x)", "'source:' inside 'title:' can never match", 8, ""),
    ("title:AND x", "'title:' needs a term after it", 1, ""),
    ("= US", "'=' must be directly followed by a word or phrase", 1, "=US"),
    ("x =", "'=' must be directly followed by a word or phrase", 3, ""),
    ("=(a b)", "'=' must be directly followed by a word or phrase", 1, ""),
    ("=AND", "'=' must be directly followed by a word or phrase", 1, ""),
    ("=title:x", "'=' must be directly followed by a word or phrase", 1, ""),
    ("maduro)", "unexpected ')'", 7, "remove it"),
    ('"Nicolás Maduro', "unterminated quote", 1, 'add a closing "'),
    ("maduro - belarus", "'-' must be directly followed by a word, phrase or '('", 8, "-Trump"),
]


@pytest.mark.parametrize(("query", "message", "column", "hint"), MALFORMED_NEW)
def test_malformed_new_operators(query: str, message: str, column: int, hint: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(query)
    assert (caught.value.message, caught.value.column) == (message, column)
    assert hint in caught.value.hint
    assert str(caught.value).startswith(f"{message} at column {column}")
    assert "\n" not in str(caught.value)


def test_uncompilable_queries_carry_a_hint() -> None:
    with pytest.raises(QueryError) as caught:
        to_fts5(parse("NOT Trump"))
    assert str(caught.value) == (
        "a query or group can't consist only of excluded terms at column 1 "
        '(NOT needs a term on its left: write "Maduro NOT Trump" or "Maduro -Trump")'
    )
    with pytest.raises(QueryError) as caught:
        to_fts5(parse("a OR -b"))
    assert "(a OR b) -c" in str(caught.value)


ARTICLES = {  # id: (title, text, source name + host)
    1: (
        "Maduro en Minsk",
        "El presidente Nicolás Maduro viajó a Minsk para reunirse con Lukashenko.",
        "El País elpais.com",
    ),
    2: (
        "Straßensperre in Berlin",
        "Die Straße nach Berlin war gesperrt; der Bürgermeister äußerte sich nicht. "
        "Die US-Regierung schwieg.",
        "Der Spiegel www.spiegel.de",
    ),
    3: (
        "Le président à l'Élysée",
        "Le président français a rencontré Nicolas Maduro à l'Élysée aujourd'hui. "
        "Les États-Unis (US) ont réagi.",
        "Le Monde www.lemonde.fr",
    ),
    4: (
        "Лукашенко и Мадуро",
        "Президент Беларуси Александр Лукашенко встретился с Николасом Мадуро в Минске.",
        "ТАСС tass.ru",
    ),
    5: (
        "مادورو في دمشق",
        "التقى الرئيس الفنزويلي نيكولاس مادورو بنظيره في دمشق.",
        "الجزيرة www.aljazeera.net",
    ),
    6: (
        "AI Act vote",
        "The EU AI Act passed; us users and the US government react. Reuters reports.",
        "Reuters www.reuters.com",
    ),
    7: ("ai in us schools", "teachers in us schools use ai tools", "Local Blog blog.example.org"),
    8: (
        "Madurology",
        "The Madurology department published a study on Madurai temples.",
        "Campus News news.uni.example",
    ),
    9: ("Budget", "The budget sets 2,000,000 euros for 1.000.000 pupils.", "Finance finance.example"),
    10: ("Census", "In 2000, 300 towns had 2 000 schools.", "Census Daily census.example"),
    11: ("Layoffs", "The carmaker cuts 1,500 jobs; 11.500 Stellen in Bayern.", "Wire wire.example"),
    12: ("Hiring", "In 1999, 500 jobs were added; Top 10 500 firms hired.", "Jobs jobs.example"),
}


@pytest.fixture(scope="module")
def articles() -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE a USING fts5(title, text, source, tokenize='{TOKENIZER}')")
    db.executemany(
        "INSERT INTO a(rowid, title, text, source) VALUES (?, ?, ?, ?)",
        [(key, *map(segment, value)) for key, value in ARTICLES.items()],
    )
    yield db
    db.close()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Madur*", {1, 3, 8}),  # maduro, madurology, madurai; not Мадуро
        ("Мадур*", {4}),
        ("Straß*", {2}),  # straßensperre, straße
        ("bürger*", {2}),
        ("élys*", {3}),
        ("مادور*", {5}),
        ('"Nicolás Mad"*', {1, 3}),
        ("Madur* -Madurai*", {1, 3}),
        ("NEAR(Maduro Minsk, 3)", {1}),
        ("NEAR(Maduro Minsk, 1)", {1}),  # the title: "Maduro en Minsk"
        ("NEAR(Maduro Minsk, 0)", set()),
        ("NEAR(Minsk Maduro, 1)", {1}),  # any order
        ("NEAR(Лукашенко Мадуро)", {4}),
        ('NEAR("Nicolas Maduro" Élysée, 2)', {3}),  # à, l between the phrase and Élysée
        ('NEAR("Nicolas Maduro" Élysée, 1)', set()),
        ("NEAR(Straße Bürgermeister, 4)", set()),  # 5 tokens between
        ("NEAR(Straße Bürgermeister, 5)", {2}),
        ("NEAR(دمشق مادورو, 1)", {5}),
        ("NEAR(Madur* temples, 3)", {8}),
        ("title:Maduro", {1}),
        ("Maduro -title:Maduro", {3}),
        ('title:"AI Act"', {6}),
        ("title:(Minsk OR Berlin)", {1, 2}),
        ("title:Лукашенко", {4}),
        ("title:دمشق", {5}),
        ("title:Élysée président", {3}),
        ("source:reuters", {6}),
        ("source:reuters.com", {6}),
        ("source:www.spiegel.de", {2}),
        ("source:Spiegel", {2}),
        ("spiegel", set()),  # unscoped terms never look at the source
        ("reuters", {6}),  # ... but find it in the text
        ("source:ТАСС", {4}),
        ("source:الجزيرة", {5}),
        ("source:lemonde.fr président", {3}),
        ("Maduro -source:elpais.com", {3}),
        ("source:(reuters OR tass)", {4, 6}),
        ("US", {2, 3, 6, 7}),
        ("=US", {2, 3, 6}),  # not "us" in 7 (nor the lower-case "us users" of 6 alone)
        ("=AI", {6}),
        ('="AI Act"', {6}),
        ("ai -=AI", {7}),
        ("=Us", set()),
        ("title:=AI", {6}),
        ("title:=ai", {7}),
        ("=Elysee", {3}),  # exact case, still accent-insensitive
        ("=élysée", set()),
        ("=Mad*", {1, 3, 8}),
        ("=mad*", set()),
        ("NEAR(=US government, 1)", {6}),
        # A number matches where the text's number ends, not inside a bigger one.
        ("2000", {10}),
        ('"1,000"', set()),
        ("1000000", {9}),
        ('"2,000,000 euros"', {9}),
        ('NEAR("2 000" schools)', {10}),
        ("budget -2000", {9}),
        ("=2000", {10}),
        # And where it starts, not as the last group of a bigger one.
        ("500", {12}),
        ('"500 jobs"', {12}),
        ("NEAR(500 Stellen)", set()),
        ('"1,500 jobs"', {11}),
        ("jobs -500", {11}),
        ("=500", {12}),
    ],
)
def test_new_operators_match_the_right_articles(
    articles: sqlite3.Connection, query: str, expected: set[int]
) -> None:
    node = parse(query)
    expression = to_fts5(node, ("title", "text"))
    candidates = {
        row[0] for row in articles.execute("SELECT rowid FROM a WHERE a MATCH ?", (expression,))
    }
    verdicts = {key for key, value in ARTICLES.items() if evaluate_document(node, document(*value))}
    assert verdicts == expected
    if needs_check(node):
        assert candidates >= expected  # FTS5 gives candidates, Python decides the case
    else:
        assert candidates == expected


def test_readme_topic_query_examples_compile() -> None:
    """Every query in the README's "Topic queries" table is valid."""
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Topic queries", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    examples = [code for row in rows for code in re.findall(r"`([^`]+)`", row)]
    assert len(examples) >= 15
    for example in examples:
        assert to_fts5(parse(example), ("title", "text"))
    with pytest.raises(QueryError) as caught:
        parse("foo:bar")
    assert str(caught.value) == "unknown field 'foo' at column 1 (use title: or source:)"
    with pytest.raises(QueryError) as caught:
        parse("NEAR(a b, 500)")
    assert str(caught.value) == "NEAR distance must be a whole number from 0 to 100 at column 11"
