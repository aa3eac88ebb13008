"""The matching benchmark on a tiny input: generators, both engines, agreement, the table.

Speed is measured by ``python -m benchmarks.match_bench``, never asserted here.
"""

from __future__ import annotations

import pytest

from benchmarks import match_bench
from benchmarks.baseline import fold, term_regex
from benchmarks.corpus import generate_articles, generate_queries
from watchlist import parse


def test_generators_are_deterministic_and_realistic() -> None:
    articles = generate_articles(50, seed=3)
    assert [a.text for a in articles] == [a.text for a in generate_articles(50, seed=3)]
    assert [a.text for a in articles] != [a.text for a in generate_articles(50, seed=4)]
    words = [len(a.text.split()) for a in articles]
    assert min(words) >= 300 and max(words) <= 1000
    assert any("á" in a.text or "é" in a.text for a in articles)  # Spanish / French accents
    assert any("ü" in a.text or "ö" in a.text for a in articles)  # German
    queries = generate_queries(200, seed=3)
    assert [q.text for q in queries[:20]] == [q.text for q in generate_queries(20, seed=3)]
    texts = " ".join(q.text for q in queries)
    for syntax in (" AND ", " OR ", "NOT ", " -", "(", '"', "covid-19"):
        assert syntax in texts
    for query in queries:
        parse(query.text)  # every generated query is valid watchlist syntax


@pytest.mark.parametrize(
    ("term", "text", "found"),
    [
        ("Nicolás Maduro", "dijo NICOLAS  maduro ayer", True),
        ("covid-19", "the Covid 19 wave", True),
        ("AT&T", "AT & T shares", True),
        ("Maduro", "maduros", False),
        ("Straße", "in der Straße", True),
    ],
)
def test_baseline_terms_are_accent_folded_whole_words(term: str, text: str, found: bool) -> None:
    assert (term_regex(term).search(fold(text)) is not None) is found


def test_newswatch_and_baseline_agree_on_generated_topics() -> None:
    articles = generate_articles(50, seed=2)
    queries = generate_queries(20, seed=2)
    ours, baseline = match_bench.compare(articles, queries, batch=25)
    assert ours == baseline
    assert ours  # the tiny run still has matches to compare


def test_main_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--articles", "50", "--topics", "5,20", "--batch", "25", "--seed", "2"]
    assert match_bench.main(argv) == 0
    out = capsys.readouterr().out
    assert "| topics | newswatch articles/s | baseline articles/s | speed-up" in out
    assert "| 20 |" in out
    assert "Machine:" in out and "SQLite" in out
    assert "all pairs agree" in out
