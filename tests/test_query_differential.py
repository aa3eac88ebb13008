"""Differential tests: the FTS5 path (compile_query + percolate) against the pure-Python
evaluator (watchlist.evaluate), on generated queries and articles — same matching articles.

Queries with exact-case terms are only a candidate filter in FTS5: there the FTS5 result must
contain the evaluator's, and match_articles (FTS5 + verification) must equal it.
"""

# Multilingual vocabulary is the point here.

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from storage import StoredArticle, Topic, percolate
from watchlist import compile_query, match_articles, parse, source_text
from watchlist.evaluate import document, evaluate
from watchlist.query import needs_check

WORDS = [
    "maduro", "Maduro", "MADURO", "madurology", "Nicolás", "nicolas", "minsk", "Minsk",
    "Straße", "straßen", "US", "us", "Us", "AI", "ai", "covid-19", "e-mail", "mail",
    "T-Mobile", "Лукашенко", "лукашенко", "Ёлка", "دمشق", "مادورو", "élysée", "Elysee",
    "l'État", "etat", "2000", "2.000", "2.000.000", "2", "000", "300", "1.500", "500",
]  # fmt: skip
SOURCES = [
    ("Reuters", "https://www.reuters.com/a"),
    ("Der Spiegel", "https://www.spiegel.de/b"),
    ("ТАСС", "https://tass.ru/c"),
    ("Le Monde", "https://www.lemonde.fr/d"),
]
SOURCE_WORDS = ["reuters", "reuters.com", "www.spiegel.de", "Spiegel", "ТАСС", "tass.ru", "monde"]
SEPARATORS = [" ", " ", " ", ", ", "-", "'", ". ", " (", ") "]
NOW = datetime(2024, 5, 1, tzinfo=UTC)


def _prefixes(word: str) -> list[str]:
    return [word[:i] + "*" for i in range(1, len(word) + 1) if word[i - 1].isalnum()]


PREFIXES = sorted({p for word in WORDS for p in _prefixes(word)})

words = st.sampled_from(WORDS)
plain_terms = st.one_of(
    words,
    st.sampled_from(PREFIXES),
    st.lists(words, min_size=2, max_size=3).map(lambda ws: '"' + " ".join(ws) + '"'),
    st.lists(words, min_size=2, max_size=2).map(lambda ws: '"' + " ".join(ws) + '"*'),
)
terms = st.one_of(plain_terms, words.map(lambda w: "=" + w))
near = st.tuples(
    st.lists(terms, min_size=2, max_size=3), st.one_of(st.none(), st.integers(0, 4))
).map(lambda t: "NEAR(" + " ".join(t[0]) + ("" if t[1] is None else f", {t[1]}") + ")")
atoms = st.one_of(
    terms,
    terms,
    near,
    st.one_of(terms, near).map(lambda t: "title:" + t),
    st.sampled_from(SOURCE_WORDS).map(lambda w: "source:" + w),
)  # fmt: skip


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    group = inner.map(lambda q: f"({q})")
    return st.one_of(
        st.lists(st.one_of(atoms, group), min_size=2, max_size=3).map(" ".join),
        st.lists(st.one_of(atoms, group), min_size=2, max_size=3).map(" OR ".join),
        st.tuples(st.one_of(atoms, group), st.one_of(atoms, group)).map(
            lambda t: f"{t[0]} -{t[1]}"
        ),
        st.tuples(st.one_of(atoms, group), st.one_of(atoms, group)).map(
            lambda t: f"{t[0]} NOT {t[1]}"
        ),
        group.map(lambda q: "title:" + q),
    )


sources = st.sampled_from(SOURCE_WORDS).map(lambda w: "source:" + w)
expressions = st.recursive(atoms, _extend, max_leaves=6)
queries = st.one_of(
    expressions,
    st.tuples(expressions, sources).map(" ".join),
    st.tuples(expressions, sources).map(lambda t: f"{t[0]} -{t[1]}"),
    st.tuples(expressions, sources).map(lambda t: f"({t[0]}) OR {t[1]}"),
)

sentences = st.lists(st.tuples(words, st.sampled_from(SEPARATORS)), min_size=0, max_size=16).map(
    lambda pairs: "".join(w + s for w, s in pairs)
)
articles = st.lists(
    st.tuples(sentences, sentences, st.sampled_from(SOURCES)), min_size=1, max_size=6
).map(
    lambda rows: [
        StoredArticle(
            id=i + 1,
            url=url,
            source_id=1,
            source_name=name,
            title=title,
            text=text,
            published=NOW,
            fetched=NOW,
            extraction="page",
        )
        for i, (title, text, (name, url)) in enumerate(rows)
    ]
)


@settings(max_examples=examples(200), deadline=None, derandomize=True)
@given(query=queries, batch=articles)
def test_fts5_and_python_agree(query: str, batch: list[StoredArticle]) -> None:
    try:
        node = parse(query)
        expression = compile_query(query)
    except ValueError:  # NOT under OR, source: in title:...: refused, nothing to compare
        return
    docs = [(a.id, a.title, a.text, source_text(a)) for a in batch]
    fts5 = set(percolate(docs, {1: expression}).get(1, []))
    python = {a.id for a in batch if evaluate(node, document(a.title, a.text, source_text(a)))}
    if not needs_check(node):
        assert fts5 == python, expression
        return
    assert fts5 >= python, expression
    topic = Topic(id=1, name="t", query=query, compiled=expression, notify=())
    matches = match_articles(batch, [topic], now=NOW, lookback=timedelta(days=1))
    assert {m.article_id for m in matches} == python


@settings(max_examples=examples(100), deadline=None, derandomize=True)
@given(words=st.lists(words, min_size=1, max_size=8), distance=st.integers(0, 5))
def test_near_distance_agrees_with_fts5(words: list[str], distance: int) -> None:
    """NEAR counts the tokens between the phrases, on a single column."""
    text = " ".join(words)
    first, last = words[0], words[-1]
    for query in (f"NEAR({first} {last}, {distance})", f'NEAR("{first} {words[0]}" {last})'):
        node = parse(query)
        fts5 = bool(percolate([(1, "", text)], {1: compile_query(query)}))
        python = evaluate(node, document("", text))
        # A number ending a term: FTS5 also finds it where the text's number goes on.
        assert fts5 >= python if needs_check(node) else fts5 == python, query
