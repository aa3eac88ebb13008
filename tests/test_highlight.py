"""Tests for finding query hits in article text and cutting alert snippets around them."""

# Multilingual fixture text is the point here.

from __future__ import annotations

import itertools
import sqlite3
import unicodedata
from collections.abc import Iterator

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.segment import segment
from watchlist.evaluate import matches_at
from watchlist.highlight import LINE_MARK, TokenIndex, _spaced, find_hits, snippet
from watchlist.query import hit_terms, parse, positive_terms, to_fts5
from watchlist.tokens import _tokenize_by_char, fold, tokenize


@pytest.fixture(scope="module")
def fts() -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(body, tokenize='unicode61 remove_diacritics 2')"
    )
    yield db
    db.close()


def hits_text(text: str, query: str) -> list[str]:
    return [text[start:end] for start, end in find_hits(text, positive_terms(parse(query)))]


@pytest.mark.parametrize(
    ("text", "query", "expected"),
    [
        ("President Nicolás Maduro met Lukashenko.", "maduro", ["Maduro"]),
        ("President Nicolás Maduro met Lukashenko.", '"nicolas maduro"', ["Nicolás Maduro"]),
        ("Nicolás  \n Maduro", '"Nicolás Maduro"', ["Nicolás  \n Maduro"]),
        ("The Madurology department", "maduro", []),
        ("MADURO, maduro; Maduro's", "maduro", ["MADURO", "maduro", "Maduro"]),
        ("Maduro and Belarus", "maduro OR belarus", ["Maduro", "Belarus"]),
        ("Maduro Belarus", "maduro -belarus", ["Maduro"]),  # excluded terms are not shown
        ("a b c", '"a b" OR "b c"', ["a b c"]),  # overlapping hits merge
        ("AT&T cut prices", "AT&T", ["AT&T"]),
        ("covid-19 cases", "covid-19", ["covid-19"]),
        ("covid 19 cases", "covid-19", ["covid 19"]),
        ("Die Straße ist gesperrt", "STRASSE", []),
        ("Die Straße ist gesperrt", "straße", ["Straße"]),
        ("Украинский журналист", "украинский", ["Украинский"]),
        ("الرئيس مادورو", "مادورو", ["مادورو"]),
        ("Cafe\u0301 Mu\u0308ller", "muller", ["Mu\u0308ller"]),
        ("", "maduro", []),
    ],
)
def test_find_hits(text: str, query: str, expected: list[str]) -> None:
    assert hits_text(text, query) == expected


@pytest.mark.parametrize(
    ("text", "query", "field", "expected"),
    [
        ("Madurology and Maduro, not Amaduro", "madur*", "text", ["Madurology", "Maduro"]),
        ("Nicolás Madurov met", '"nicolas madur"*', "text", ["Nicolás Madurov"]),
        ("Straßensperre in der Straße", "straß*", "text", ["Straßensperre", "Straße"]),
        ("Мадуро и Лукашенко", "мадур*", "text", ["Мадуро"]),
        ("the US and us and Us", "=US", "text", ["US"]),
        ("AI, ai and Ai", "=AI OR x", "text", ["AI"]),
        ("the EU AI Act, the ai act", '="AI Act"', "text", ["AI Act"]),
        ("l'Élysée, ELYSEE", "=Elysee", "text", ["Élysée"]),
        ("Maduro in Minsk", "title:Maduro Minsk", "text", ["Minsk"]),
        ("Maduro in Minsk", "title:Maduro Minsk", "title", ["Maduro", "Minsk"]),
        ("Reuters says", "source:reuters", "text", []),
        ("Reuters says", "source:reuters", "title", []),
        ("Maduro met Lukashenko", "NEAR(maduro lukashenko, 3)", "text", ["Maduro", "Lukashenko"]),
        ("Maduro met Lukashenko", "maduro -lukash*", "text", ["Maduro"]),
    ],
)
def test_find_hits_with_prefix_case_and_fields(
    text: str, query: str, field: str, expected: list[str]
) -> None:
    spans = find_hits(text, hit_terms(parse(query)), field)
    assert [text[start:end] for start, end in spans] == expected


def test_find_hits_ignores_empty_terms() -> None:
    assert find_hits("a b", ((), ("b",))) == [(2, 3)]


WORDS = ["maduro", "Maduro", "madurology", "Nicolás", "nicolas", "AT&T", "at", "t", "x-y", "é"]
SEPARATORS = [" ", ", ", "-", "_", "'", "\n", "&", "🤔", "\u0301", "²"]


@settings(max_examples=examples(300), deadline=None)
@given(
    words=st.lists(st.sampled_from(WORDS), max_size=8),
    separators=st.lists(st.sampled_from(SEPARATORS), min_size=8, max_size=8),
    query=st.sampled_from([*WORDS, '"nicolas maduro"', '"at t"', "x", "e"]),
)
def test_find_hits_agrees_with_fts5(
    fts: sqlite3.Connection, words: list[str], separators: list[str], query: str
) -> None:
    text = "".join(word + separator for word, separator in zip(words, separators, strict=False))
    fts.execute("DELETE FROM docs")
    fts.execute("INSERT INTO docs(rowid, body) VALUES (1, ?)", (segment(text),))
    node = parse(query)
    matched = bool(
        fts.execute("SELECT 1 FROM docs WHERE docs MATCH ?", (to_fts5(node),)).fetchall()
    )
    assert bool(find_hits(text, positive_terms(node))) == matched


# --------------------------------------------------------------------------------------------
# Snippets
# --------------------------------------------------------------------------------------------

LONG = (
    "Caracas.  Officials   gathered on Monday for a long meeting about many things.\n\n"
    + "Filler sentence number one goes here. " * 12
    + "President Nicolás Maduro met Belarus officials; later Maduro spoke again. "
    + "Trailing words follow the news item. " * 12
)


def joined(parts: tuple[tuple[str, bool], ...]) -> str:
    return "".join(text for text, _ in parts)


def test_short_text_is_returned_whole_with_whitespace_collapsed() -> None:
    text = "  Nicolás\n\n Maduro   met\tBelarus  "
    parts = snippet(text, find_hits(text, (("maduro",),)))
    # The line break is a mark a reader sees (test_a_line_break_shows_in_a_snippet...).
    assert parts == (("Nicolás · ", False), ("Maduro", True), (" met Belarus", False))


def test_snippet_centers_on_first_hit() -> None:
    hits = find_hits(LONG, positive_terms(parse("maduro OR belarus")))
    parts = snippet(LONG, hits, width=120)
    excerpt = joined(parts)
    assert excerpt.startswith("…") and excerpt.endswith("…")
    assert len(excerpt) <= 120
    assert [text for text, is_hit in parts if is_hit] == ["Maduro", "Belarus", "Maduro"]
    assert "  " not in excerpt and "\n" not in excerpt


def test_snippet_shows_the_passage_with_the_most_matched_words() -> None:
    # NEAR(Ayuso "Miguel Ángel", 5) on La Vanguardia's article: the snippet was cut around
    # the first "Ayuso", near the top, and never showed why the article matched.
    text = ("Isabel Díaz Ayuso habló en la Asamblea. " + "Texto de relleno sin nada. " * 30
            + "El jefe de gabinete de Díaz Ayuso, Miguel Ángel Rodríguez, lo negó. "
            + "Más relleno aquí. " * 20)
    hits = find_hits(text, positive_terms(parse('NEAR(Ayuso "Miguel Ángel", 5)')))
    parts = snippet(text, hits, width=200)
    assert [part for part, is_hit in parts if is_hit] == ["Ayuso", "Miguel Ángel"]
    assert "gabinete de Díaz" in joined(parts)
    # One word only: the first hit, as before.
    hits = find_hits(text, (("ayuso",),))
    assert joined(snippet(text, hits, width=200)).startswith("Isabel Díaz Ayuso habló")


def test_snippet_cuts_at_word_boundaries() -> None:
    hits = find_hits(LONG, (("maduro",),))
    for width in range(20, 200, 7):
        excerpt = joined(snippet(LONG, hits, width=width)).strip("…")
        collapsed = " ".join(LONG.split())
        start = collapsed.index(excerpt)
        assert start == 0 or collapsed[start - 1] == " "
        end = start + len(excerpt)
        assert end == len(collapsed) or collapsed[end] == " "
        assert len(excerpt) <= width


def test_snippet_without_hits_starts_at_the_beginning() -> None:
    parts = snippet(LONG, [], width=60)
    assert all(not is_hit for _, is_hit in parts)
    excerpt = joined(parts)
    assert excerpt.startswith("Caracas. Officials gathered")
    assert excerpt.endswith("…") and len(excerpt) <= 60


def test_snippet_near_the_end_uses_more_context_before() -> None:
    text = "word " * 100 + "the end mentions Maduro"
    parts = snippet(text, find_hits(text, (("maduro",),)), width=60)
    excerpt = joined(parts)
    assert excerpt.startswith("…") and excerpt.endswith("Maduro")
    assert len(excerpt) >= 50


def test_snippet_never_cuts_a_hit_in_two() -> None:
    text = "x " * 30 + "Nicolás Maduro Moros " + "y " * 30
    hits = find_hits(text, (("nicolas", "maduro", "moros"),))
    for width in range(10, 80):
        flagged = [part for part, is_hit in snippet(text, hits, width=width) if is_hit]
        assert flagged == ["Nicolás Maduro Moros"]


def test_snippet_of_text_without_spaces_keeps_its_context() -> None:
    """Japanese and Chinese write no spaces between words: the cuts, which looked for a space
    between them and the hit, moved onto the hit itself, and the snippet of a 400-character
    article was "…OpenAI…"."""
    before = "政府は25日、人工知能の安全性に関する新たな指針を公表した。指針は開発企業に対し、" * 2
    after = "社や米グーグルなど主要企業も協議に参加しており、国内外の専門家からは一定の評価が出ている。" * 3
    for text in (before + "米 OpenAI " + after, before + "（米 OpenAI）" + after):
        parts = snippet(text, find_hits(text, (("openai",),)), width=120)
        excerpt = joined(parts)
        assert [part for part, is_hit in parts if is_hit] == ["OpenAI"]
        lead, _, rest = excerpt.partition("OpenAI")
        assert len(lead) >= 20 and len(rest) >= 60, excerpt
        assert len(excerpt) <= 120
    # An accent written as a combining mark stays with its letter.
    text = "Cafe\u0301 " * 40 + "Maduro " + "cafe\u0301 " * 40
    for width in range(20, 90):
        excerpt = joined(snippet(text, find_hits(text, (("maduro",),)), width=width)).strip("…")
        assert not unicodedata.combining(excerpt[0])


def test_snippet_of_empty_text() -> None:
    assert snippet("", []) == ()
    assert snippet(" \n ", []) == ()


@settings(max_examples=examples(300), deadline=None)
@given(
    words=st.lists(st.sampled_from(["maduro", "Belarus", "a", "bb", "cccccc", "é"]), max_size=60),
    spaces=st.sampled_from([" ", "  ", "\n", " \t "]),
    width=st.integers(min_value=10, max_value=300),
)
def test_snippet_segments_reassemble(words: list[str], spaces: str, width: int) -> None:
    text = spaces.join(words)
    hits = find_hits(text, (("maduro",), ("belarus",)))
    parts = snippet(text, hits, width=width)
    excerpt = joined(parts)
    collapsed = " ".join(text.split())
    # A line break may show as LINE_MARK between two words, never at an end.
    assert excerpt.strip("…").replace(LINE_MARK, " ") in collapsed
    assert "\n" in spaces or LINE_MARK not in excerpt
    assert all(part for part, _ in parts)
    assert all(a[1] != b[1] for a, b in itertools.pairwise(parts))  # adjacent parts alternate
    assert all(part.lower() in ("maduro", "belarus") for part, is_hit in parts if is_hit)
    if hits:
        assert any(is_hit for _, is_hit in parts)
    assert len(excerpt) <= max(width, len("maduro") + 2)


#: A news report as extraction stores it, a line a paragraph: its subheadings, a dateline
#: and a list's items end with no full stop.
SUBHEADED = (
    "BRUSSELS, 7 December 2026\n"
    "Finance ministers agreed on Monday to raise the carbon tax on heating fuel from April.\n"
    "What changes\n"
    "Households will pay about 40 euros a year more, according to the Commission.\n"
    "Reaction\n"
    "Opposition parties said the carbon tax would hit poorer families hardest.\n"
    "Key dates:\n"
    "• 12 January: Parliament votes\n"
    "• 1 April: the carbon tax rises"
)


def test_a_line_break_shows_in_a_snippet_where_no_mark_ends_the_line() -> None:
    """Lines were joined with a space: "What changes Households will pay…", "Reaction
    Opposition parties said…" read as one sentence (an audit of real alerts)."""
    shown = joined(snippet(SUBHEADED, find_hits(SUBHEADED, (("carbon", "tax"),)), width=400))
    assert shown.startswith("BRUSSELS, 7 December 2026 · Finance ministers agreed")
    assert "from April. What changes · Households will pay" in shown
    assert "the Commission. Reaction · Opposition parties" in shown
    # A colon, or a bullet, marks the break already.
    assert "hardest. Key dates: • 12 January: Parliament votes • 1 April" in shown


def test_a_sentence_that_goes_on_over_a_line_break_is_joined_with_a_space() -> None:
    # A PDF's text keeps its page's lines: a sentence goes on in lower case.
    text = ("The Treasury expects the carbon tax to raise 2.1 billion euros in its first\n"
            "year, most of it from heating fuel, and to fall as households switch to heat\n"
            "pumps.\nThe Commission agreed.")
    shown = joined(snippet(text, find_hits(text, (("carbon", "tax"),)), width=400))
    assert LINE_MARK not in shown
    assert "in its first year, most of it" in shown and "pumps. The Commission" in shown


def test_a_hit_over_a_line_break_shows_whole() -> None:
    text = "Talks in Minsk with President Nicolás\nMaduro ended on Monday."
    parts = snippet(text, find_hits(text, (("nicolas", "maduro"),)))
    assert [part for part, hit in parts if hit] == ["Nicolás Maduro"]


@pytest.mark.parametrize(
    ("text", "word"),
    [
        (SUBHEADED, "carbon tax"),
        # Al Jazeera's subheading line, then its paragraph: right to left.
        ("خلفية\nقال وزير الخارجية اللبناني إن الإصلاحات المالية ضرورية.\nردود الفعل\n"
         "رحبت الأحزاب بالإصلاحات المالية", "الإصلاحات"),
        # Xinhua's: a Chinese subheading, paragraphs ending with 。.
        ("背景\n中国外交部发言人毛宁表示，双方将继续沟通。\n各方反应\n毛宁说，会谈富有成果。", "毛宁"),
    ],
    ids=["english", "arabic", "chinese"],
)
def test_hits_stay_exact_beside_a_line_mark(text: str, word: str) -> None:
    hits = find_hits(text, (tuple(tokenize_words(word)),))
    for width in (30, 60, 400):
        parts = snippet(text, hits, width=width)
        assert all(part == word for part, hit in parts if hit), (width, parts)
        assert sum(hit for _, hit in parts) >= 1
        shown = joined(parts).strip("…")
        assert not shown.startswith(LINE_MARK.strip()) and not shown.endswith(LINE_MARK.strip())
    assert LINE_MARK in joined(snippet(text, hits, width=400))


def tokenize_words(word: str) -> list[str]:
    return [token for _, _, token in tokenize(word)]


#: An article whose stored text starts with the page's <h1>, typeset as the page shows it
#: (its feed's title typed: straight apostrophe, hyphen).
HEADLINED = (
    "UK’s inflation rate falls to 2.3% – its lowest in three years\n"
    "The UK’s inflation rate fell to 2.3% in April, down from 3.2% in March, as energy bills "
    "dropped, the Office for National Statistics said on Wednesday.\n"
    "It is the lowest rate of inflation since July 2021 and close to the Bank of England’s "
    "target of 2%."
)
HEADLINE = "UK's inflation rate falls to 2.3% - its lowest in three years"


@pytest.mark.parametrize("title", [HEADLINE, f"{HEADLINE} | Example News", HEADLINE.upper()])
def test_a_snippet_does_not_repeat_the_headline_the_text_starts_with(title: str) -> None:
    """The email showed the headline, then a snippet starting with the same headline."""
    for hits in ([], find_hits(HEADLINED, (("inflation",),))):
        shown = joined(snippet(HEADLINED, hits, width=280, title=title))
        assert shown.startswith("The UK’s inflation rate fell to 2.3% in April"), shown
    assert HEADLINED.startswith("UK’s inflation rate falls")  # the stored text is kept


def test_a_first_line_that_only_resembles_the_headline_stays() -> None:
    # The title a prefix of the first line, but what follows is no site's name: the line
    # says more than the headline.
    for title in ("UK’s inflation rate falls", "Inflation in the UK"):
        shown = joined(snippet(HEADLINED, [], width=280, title=title))
        assert shown.startswith("UK’s inflation rate falls to 2.3% – its lowest"), title


def test_a_hit_only_the_headline_line_shows_keeps_it() -> None:
    # "lowest" only in the headline's line, and no hit in the title (an exact-case word, the
    # feed's title in capitals): the snippet is the one place it shows.
    lowest = HEADLINED.index("lowest")
    fell = HEADLINED.index("fell")
    hits = [(lowest, lowest + 6), (fell, fell + 4)]
    parts = snippet(HEADLINED, hits, width=280, title=HEADLINE)
    assert joined(parts).startswith("UK’s inflation rate falls to 2.3% – its lowest")
    assert [part for part, hit in parts if hit] == ["lowest", "fell"]
    # Where the title shows it in bold, the snippet need not.
    in_title = [(HEADLINE.index("lowest"), HEADLINE.index("lowest") + 6)]
    parts = snippet(HEADLINED, hits, width=280, title=HEADLINE, title_hits=in_title)
    assert joined(parts).startswith("The UK’s inflation rate fell")
    assert [part for part, hit in parts if hit] == ["fell"]


# --------------------------------------------------------------------------------------------
# Fast paths: fold() + tokenize, and TokenIndex's search of folded text, against the
# character-by-character tokenizer and a token-by-token search
# --------------------------------------------------------------------------------------------

MULTILINGUAL = [
    "President Nicolás Maduro met Lukashenko; AT&T, covid-19 and e-mail.",
    "Die Straßensperre in Baden-Württemberg: ẞ, Größe, STRASSE, „Zitat“ – Ende…",
    "L'Élysée et l'Île-de-France — « Jean-Luc Mélenchon » a dit: «non».",
    "ΟΔΥΣΣΕΥΣ ΟΔΟΣ Σ ΑΣ οδός Ἀθῆναι; Ελληνικά: Αθήνα",
    "Украинский журналист Ёлка й ЙОД; Мадуро в Минске",
    "الرئيس مادورو أُعلن و العربية",
    "Nguyễn Tấn Dũng, Łódź, Dvořák, Þórsdóttir, Ærø, Øresund, ș ț ş ţ, Ǆ ǅ ǆ, İstanbul, ı",
    "Cafe\u0301 Mu\u0308ller Nic\u0327ois A\u030a and \u01e0\u01e1",
    "Trump🤔 said 👍 ok 🇺🇸 flag ₽ ₿ \u2066isolate\u2069 zero\u200bwidth nbsp\u00a0here",
    "Kelvin \u212a, Ohm \u2126, Angstrom \u212b, ﬁ², ½, Ⅻ, ＡＢＣ ａｂｃ, Ꭰ ꭰ, \u13f8",
    "tab\there\nnewline\r\n\x0bvt \x1c fs नमस्ते தமிழ் 中文 日本語 한국어",
]

# Characters worth mixing: cases, accents, combining marks, sigma, dotted I, separators of
# several kinds, characters beyond Latin-1 and beyond the BMP.
TRICKY = (
    "aAzZ09 ,.-'’&_éÉñÑüÜßẞΣσςİıIiKkǅǄǆ\u0301\u0308\u212a\u2126ÅåΩωﬁ²й🤔₽\u200b\u05b0אＡａ\u00a0\n"
)
texts = st.text(
    alphabet=st.one_of(st.sampled_from(TRICKY), st.characters(blacklist_categories=("Cs",))),
    max_size=40,
)


def token_path_spans(text: str, tokens: tuple[str, ...], prefix: bool,
                     found: list[tuple[int, int, str]] | None = None) -> list[tuple[int, int]]:
    """Reference: a term's spans found token by token (the way the token path does);
    ``found``: the text's tokens, when the caller has them already."""
    found = tokenize(text) if found is None else found
    pairs = [(token, token) for _, _, token in found]
    return [
        (found[number][0], found[number + len(tokens) - 1][1])
        for number in range(len(found))
        if matches_at(tokens, prefix, (), pairs, number)
    ]


@pytest.mark.parametrize("text", MULTILINGUAL)
def test_fast_tokenize_agrees_with_the_general_one(text: str) -> None:
    assert tokenize(text) == _tokenize_by_char(text)
    folded = fold(text)
    if folded is not None:
        assert len(folded) == len(text)


@settings(max_examples=examples(1000), deadline=None)
@given(text=texts)
def test_fast_tokenize_agrees_with_the_general_one_on_generated_text(text: str) -> None:
    assert tokenize(text) == _tokenize_by_char(text)


def test_fold_declines_text_that_changes_length() -> None:
    assert fold("Cafe\u0301") is None  # the combining accent vanishes
    assert fold("İ") is None  # lower-cases to two characters
    assert fold("Nicolás MADURO’s") == "nicolas maduro s"  # non-ASCII separators: spaces
    assert fold("ΟΔΟΣ") == "οδοσ"  # str.lower() would give a final sigma


def terms_of(text: str, rng_seed: int) -> list[tuple[tuple[str, ...], bool]]:
    """Terms that occur in `text` (runs of its tokens, some cut into prefixes) and some not."""
    tokens = [token for _, _, token in tokenize(text)]
    terms: list[tuple[tuple[str, ...], bool]] = [(("maduro",), False), (("nic",), True)]
    for start in range(len(tokens)):
        for size in (1, 2, 3):
            run = tuple(tokens[start : start + size])
            if len(run) == size:
                terms.append((run, False))
                cut = 1 + (rng_seed + start) % len(run[-1])
                terms.append(((*run[:-1], run[-1][:cut]), True))
    return terms


@pytest.mark.parametrize("text", [*MULTILINGUAL, "a a a", "a, a a;a", "x" * 500 + " a b a b a"])
def test_index_search_agrees_with_the_token_path(text: str) -> None:
    for tokens, prefix in terms_of(text, 7):
        assert TokenIndex(text).search(tokens, prefix) == token_path_spans(text, tokens, prefix)


@settings(max_examples=examples(500), deadline=None)
@given(
    words=st.lists(
        st.sampled_from([*WORDS, "a", "A", "ΟΔΟΣ", "οδός", "Мадуро", "x_y"]), max_size=10
    ),
    separators=st.lists(
        st.sampled_from([*SEPARATORS, "’", "\u00a0", "—", "; "]), min_size=10, max_size=10
    ),
    seed=st.integers(0, 100),
    pad=st.booleans(),
)
def test_index_search_agrees_with_the_token_path_on_generated_text(
    words: list[str], separators: list[str], seed: int, pad: bool
) -> None:
    text = "".join(word + separator for word, separator in zip(words, separators, strict=False))
    if pad:  # a long text: no token set, as for an article's text
        text = "filler " * 80 + text
    index = TokenIndex(text)
    found = tokenize(text)
    for tokens, prefix in dict.fromkeys(terms_of(text, seed)):  # each distinct term once
        assert index.search(tokens, prefix) == token_path_spans(text, tokens, prefix, found)


@settings(max_examples=examples(300), deadline=None)
@given(text=texts, seed=st.integers(0, 100))
def test_index_search_agrees_with_the_token_path_on_any_characters(text: str, seed: int) -> None:
    index = TokenIndex(text)
    found = tokenize(text)
    for tokens, prefix in dict.fromkeys(terms_of(text, seed)):  # each distinct term once
        assert index.search(tokens, prefix) == token_path_spans(text, tokens, prefix, found)


def test_latin1_text_is_folded_in_one_pass_like_the_general_path() -> None:
    # Latin-1 text takes a bytes.translate shortcut; every character must come out as the
    # general path (fold, then separators made spaces) makes it, µ included (it folds to μ).
    for byte in range(256):
        text = f"x{chr(byte)}Y {chr(byte).upper()}é"
        folded = fold(text)
        general = "" if folded is None else _spaced(folded)
        assert TokenIndex(text).spaced == general, hex(byte)


#: Real sentences of scripts whose letters take marks after them (Thai, Devanagari) or a
#: vowel before its consonant (Thai): a snippet cut at a code point split a letter from its
#: vowel sign ("ทางสายเล…" for สายเลือด; a review of Prachatai's and Bhaskar's pages).
MARKED_TEXTS = [
    "ความเกี่ยวพันทางสายเลือดของผู้ต้องหาทั้งสองคนถูกตรวจสอบโดยเจ้าหน้าที่ตำรวจที่พักอยู่ใกล้เคียง",
    "पुलिस ने आरोपी को गिरफ्तार किया और बताया कि चोरी का मुद्दा गंभीर है क्योंकि कई घरों में सेंध लगी",
]


@pytest.mark.parametrize("text", MARKED_TEXTS)
def test_a_snippet_never_cuts_a_letter_from_its_marks(text: str) -> None:
    hit = (text.index("ตำรวจ"), text.index("ตำรวจ") + 5) if "ตำรวจ" in text else (
        text.index("मुद्दा"), text.index("मुद्दा") + 6)
    leading = "\u0e40\u0e41\u0e42\u0e43\u0e44"
    for width in range(12, len(text)):
        shown = "".join(piece for piece, _ in snippet(text, [hit], width)).strip("…")
        assert shown in text
        end = text.index(shown) + len(shown)
        assert unicodedata.category(shown[0])[0] != "M", (width, shown)
        if end < len(text):
            assert unicodedata.category(text[end])[0] != "M", (width, shown)
            assert shown[-1] not in leading and shown[-1] != "\u094d", (width, shown)


def test_a_subject_cut_keeps_whole_letters() -> None:
    from alerts.compose import shorten

    flags = "\U0001f1fa\U0001f1f8\U0001f1ec\U0001f1e7\U0001f1eb\U0001f1f7 three flags"
    for limit in range(2, 8):  # a flag is two letters: never one of them alone
        assert len(shorten(flags, limit).removesuffix("…")) % 2 == 0

    thai = MARKED_TEXTS[0]
    for limit in range(3, len(thai)):
        cut = shorten(thai, limit).removesuffix("…")
        assert thai.startswith(cut) and len(cut) < limit
        assert unicodedata.category(thai[len(cut)])[0] != "M" and cut[-1:] not in "\u0e40\u0e41"


def test_a_subject_cut_keeps_an_emoji_with_its_skin_tone_and_a_flag_with_its_tags() -> None:
    # A headline "👏🏽 ..." cut after its emoji made a subject "👏…", its skin tone dropped.
    from alerts.compose import shorten

    clap = "\U0001f44f\U0001f3fd"
    scotland = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    for emoji in (clap, scotland):
        title = f"{emoji}{emoji}{emoji} Applaus im Landtag"
        for limit in range(2, 3 * len(emoji) + 2):
            cut = shorten(title, limit).removesuffix("…")
            assert cut == emoji * (len(cut) // len(emoji)), (limit, cut)
