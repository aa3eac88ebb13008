"""PostgreSQL's archive search reads only the articles holding a query's words
(storage.pgwords, schema 47), and finds exactly what SQLite's FTS5 index finds."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import storage.pg
from storage import Article, SourceSpec, Store, open_store
from storage.percolate import percolate
from storage.pgschema import MIGRATIONS as PG_MIGRATIONS
from storage.pgwords import required, vector
from watchlist import compile_query

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LONG = "ž" * 200  # 400 bytes: listed by its first 255 bytes
WAIT = 60  # seconds at most for a listing in the background (a few articles: at once)

#: Titles and texts in the forms FTS5 reads otherwise than PostgreSQL's parser would.
TEXTS = (
    ("Nicolás Maduro en Minsk", "El presidente Nicolás Maduro llegó el lunes."),
    ("NICOLAS MADURO", "Une dépêche en français: l'État répond."),
    ("北京で会談", "習近平国家主席は北京でNATO事務総長と会談した。2024年の予算。"),
    ("이재명 대통령", "삼성전자는 새 스마트폰을 공개했다. Samsung은 발표했다."),
    ("Straße gesperrt", "Die Straße bleibt bis 3.14 Uhr zu; e-mail an info@example.org."),
    ("ＮＡＴＯ summit", "Ｔｈｅ ２０２６ meeting of NATO's leaders."),
    ("मुख्यमंत्री योगी", "कि*या गि*रफ्तार: पुलिस ने बताया।"),
    ("محـمد يزور", "مُحَمَّد في القاهرة"),
    ("Re\u0301sume\u0301 of talks", "The strike goes on; strikers met the minister."),
    ("Budget talks", "Budget talks went on. " + LONG + "x and " + LONG + "y."),
    ("Weather", "Sunny. Nothing about the budget or the strike here, really: zero."),
    ("", "Untitled text about strikes and the budget."),
    ("…", "— ! —"),  # no word at all
    ("سقوط Boeing ۷۳۷", "در سال ۲۰۲۶ بهای بلیت ۱٬۵۰۰ دلار شد؛ सन २०२६ में ปี๒๕๖๙."),
    ("नया \u0958\u093e\u0928\u0942\u0928", "किसानों की \u091c\u093c\u092e\u0940\u0928 छीनी गई।"),
    ("\u2067مادورو\u2069 في كرمان", "قال وزير خارجية إيران إن أحمد الشرع زار الأسد. \u2066@AJArabic\u2069"),
)
#: The id of the last text: alef with its hamza, Arabic yeh and kaf, a tweet's isolates.
ARABIC = len(TEXTS)
#: The id of the text in other scripts' digits (BBC Persian's ۲۰۲۶, Devanagari's, Thai's).
DIGITS = 14

#: Queries of every form: words, phrases, prefixes, NEAR, fields, OR, NOT, exact case.
QUERIES = (
    "maduro", "nicolas", "Nicolás", '"nicolas maduro"', "madur*", "北京", "京", "이재명",
    "samsung", "2024", "nato", "ＮＡＴＯ", "2026", "strasse", "straße", "3.14", "e-mail",
    "info@example.org", "योगी", "गिरफ्तार", "محمد", "resume", "strike", "strike*",
    '"the strike"', "NEAR(strike minister, 3)", "NEAR(budget strike, 2)", "title:budget",
    "budget -strike", "budget NOT title:weather", "strike OR maduro", "(strike OR budget) -zero",
    "=NATO", "=Nato", "source:news", "source:news.example budget", LONG + "x", LONG + "*",
    "ž*", "zero -(budget OR strike)", "l état", "etat", "talk*",
    "احمد", "أحمد", "الاسد", "ایران", "title:کرمان", "ajarabic", "title:مادورو",
    "\u0915\u093c\u093e\u0928\u0942\u0928", "\u095b\u092e\u0940\u0928",
    '"boeing 737"', "۲۰۲۶", "1500", "२०२६", "2569", "title:٧٣٧",
)


def articles(source_id: int) -> Iterator[Article]:
    for n, (title, text) in enumerate(TEXTS):
        url = f"https://news.example/articles/{n}"
        yield Article(url=url, entry_url=url, source_id=source_id, title=title, text=text,
                      published=None if n % 4 == 3 else NOW - timedelta(hours=n),
                      author="Staff", fetched=NOW - timedelta(hours=n, minutes=30),
                      extraction="page")


def filled(location: str | Path) -> Store:
    store = open_store(location)
    store.sync_sources([SourceSpec("https://news.example/feed", 600)], NOW)
    source_id = store.sources()[0].id
    for item in articles(source_id):
        store.add_article(item)
    return store


def found(store: Store, query: str, **options: Any) -> list[int]:
    return [a.id for a in store.search(compile_query(query), **options)]


@pytest.fixture
def stores(pg_url: str, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """The same archive in SQLite and in PostgreSQL."""
    with filled(tmp_path / "newswatch.db") as lite, filled(pg_url) as pg:
        yield lite, pg


def listed(pg: Store) -> None:
    """Checkpoint ``pg`` and wait for its listing of words, in the background, to end."""
    pg.checkpoint()
    assert pg.words_filler.wait(WAIT)


def unlisted(pg: Store) -> int:
    return int(pg.db.execute(
        "SELECT COUNT(*) FROM article_words WHERE words IS NULL").fetchone()[0])


def read_by_search(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of the articles PostgreSQL's search runs through FTS5, as it reads them."""
    read: list[int] = []

    def counted(docs: Any, queries: Any) -> Any:
        docs = list(docs)
        read.extend(doc[0] for doc in docs)
        return percolate(docs, queries)

    monkeypatch.setattr(storage.pg, "percolate", counted)
    return read


def test_the_postgresql_search_finds_what_sqlite_finds(stores) -> None:
    """Accents, case, CJK, marks, full width, prefixes, phrases, NEAR, fields, NOT: the
    articles read by their list of words are those FTS5 matches, before the lists are made
    (every article read) and after."""
    lite, pg = stores
    for made in (False, True):
        if made:
            listed(pg)
            assert unlisted(pg) == 0
        for query in QUERIES:
            assert found(pg, query) == found(lite, query), query
            since = NOW - timedelta(hours=6)
            assert found(pg, query, since=since) == found(lite, query, since=since), query
            assert found(pg, query, limit=2, offset=1) == found(lite, query, limit=2,
                                                                 offset=1), query


def test_every_article_fts5_matches_holds_the_words_its_query_requires(pg_url) -> None:
    """The list of words is a superset filter: for each query, every article FTS5 matches
    holds the words :func:`storage.pgwords.required` asks for (asked of PostgreSQL)."""
    docs = [(n, title, text, "Desk news.example") for n, (title, text) in enumerate(TEXTS)]
    with storage.pg.connect(pg_url) as conn:
        for query in QUERIES:
            compiled = compile_query(query)
            wanted = required(compiled)
            assert wanted is not None, query
            matched = set(percolate(docs, {0: compiled}).get(0, ()))
            held = {n for n, title, text, source in docs if conn.execute(
                "SELECT %s::tsvector @@ %s::tsquery", [vector(title, text, source), wanted]
            ).fetchone()[0]}
            assert matched <= held, query


def test_an_expression_not_of_the_querys_forms_reads_the_whole_archive() -> None:
    """A hand-made FTS5 expression (a bare word, implicit AND, a column excluded) is not read
    for words: the search reads every article, as before."""
    for expression in ("strike", '"strike" "budget"', '- title : "strike"', '"strike" +',
                       '"a""b"', '"北京"', "NEAR(\"a\" \"b\", x)"):
        assert required(expression) is None, expression
    assert required('{title text} : ("strike" AND "budget"*)') == (
        "(('strike' & 'budget':*)) | '!'"
    )
    assert vector("…", "— ! —") == ""


def test_a_rare_words_search_reads_only_the_articles_holding_it(stores, monkeypatch) -> None:
    """The articles a search reads are those listed with its words, and those not listed
    yet: a rare word's search read the whole archive (a year's: minutes)."""
    lite, pg = stores
    listed(pg)
    read = read_by_search(monkeypatch)
    assert found(pg, "strike") == found(lite, "strike") != []
    assert sorted(read) == sorted(found(lite, "strike"))  # not "strikes", "strikers"
    read.clear()
    assert found(pg, "zzyzx") == []
    assert read == []
    stored = pg.add_article(replace(next(articles(pg.sources()[0].id)), url="https://news"
                                    ".example/late", entry_url="https://news.example/late"))
    assert found(pg, "zzyzx") == []
    assert read == [stored]  # not listed yet: read


def test_an_article_changed_is_searched_by_its_new_words(stores, monkeypatch) -> None:
    """An edit in place, a text pruned, a source renamed: the article's list is emptied
    (read by every search) and made again; a list made of the text read before an edit
    that commits meanwhile is not written."""
    lite, pg = stores
    listed(pg)
    weather = found(pg, "weather")[0]
    edited = replace(next(a for a in articles(1) if a.title == "Weather"),
                     text="A blizzard closed the roads.", updated=NOW)
    for store in (lite, pg):
        assert store.update_article(weather, edited, NOW)
    assert found(pg, "blizzard") == found(lite, "blizzard") == [weather]
    assert found(pg, "sunny") == found(lite, "sunny") == []

    import storage.pgwords

    made = storage.pgwords.vector
    calls = 0

    def edited_meanwhile(*texts: str) -> str:
        nonlocal calls
        calls += 1
        if calls == 1:  # another process edits the article as its list is being made
            with storage.pg.connect(pg.url) as other:
                other.execute("UPDATE articles SET text = 'Hail fell.' WHERE id = %s",
                              [weather])
        return made(*texts)

    monkeypatch.setattr(storage.pgwords, "vector", edited_meanwhile)
    listed(pg)
    monkeypatch.undo()
    assert found(pg, "hail") == [weather]
    assert found(pg, "blizzard") == []
    listed(pg)
    read = read_by_search(monkeypatch)
    assert found(pg, "hail") == [weather]
    assert read == [weather]


def upgraded(pg_url: str) -> Store:
    """The archive of TEXTS stored at schema 46, opened (upgraded to 47)."""
    with pytest.MonkeyPatch.context() as at_46:
        at_46.setattr(storage.pg, "MIGRATIONS", PG_MIGRATIONS[:46])
        filled(pg_url).close()
    return open_store(pg_url)


def test_an_upgrade_adds_the_archive_unlisted_then_lists_it(pg_url, monkeypatch) -> None:
    """Schema 47 lists no article's words (a year's archive took minutes of downtime): each
    stored article is added unlisted, read by every search (the same hits), and the first
    checkpoint lists them: a search then reads only those holding its words."""
    with upgraded(pg_url) as pg:
        assert unlisted(pg) == len(TEXTS)
        read = read_by_search(monkeypatch)
        assert found(pg, "maduro") == [1, 2]
        assert sorted(read) == list(range(1, len(TEXTS) + 1))
        read.clear()
        listed(pg)
        assert unlisted(pg) == 0
        assert found(pg, "maduro") == [1, 2]
        assert sorted(read) == [1, 2]


def test_an_upgrade_lists_anew_the_words_of_letters_written_two_ways(pg_url) -> None:
    """Schema 49 reads alef with its hamza as alef, a Persian keyboard's ی and ک as ي and
    ك, a tweet's isolates as spaces (storage.segment): the lists made before hold such a
    letter's word as it was written (أحمد), and a search of احمد read only the articles
    listing it, none. The lists holding such a letter are made anew: read by every search
    until the filler lists them again."""
    with pytest.MonkeyPatch.context() as at_48:
        at_48.setattr(storage.pg, "MIGRATIONS", PG_MIGRATIONS[:48])
        with filled(pg_url) as pg:
            listed(pg)
            title, text = TEXTS[-1]
            as_listed = "'" + "' '".join(sorted(set((title + " " + text).split()))) + "'"
            pg.db.execute("UPDATE article_words SET words = ?::tsvector WHERE article_id = ?",
                          [as_listed, ARABIC])
            assert found(pg, "احمد") == []
    with open_store(pg_url) as pg:
        assert unlisted(pg) == 1
        assert found(pg, "احمد") == [ARABIC]
        listed(pg)
        assert unlisted(pg) == 0
        assert found(pg, "احمد") == found(pg, "ایران") == [ARABIC]


def test_an_upgrade_lists_anew_the_words_of_other_scripts_digits(pg_url) -> None:
    """Schema 52 reads a digit of another script as the ASCII one (storage.segment): the
    lists made before hold BBC Persian's ۲۰۲۶ as it was written, and a search of 2026 read
    only the articles listing 2026. The lists holding such a digit are made anew: read by
    every search until the filler lists them again."""
    with pytest.MonkeyPatch.context() as at_51:
        at_51.setattr(storage.pg, "MIGRATIONS", PG_MIGRATIONS[:51])
        with filled(pg_url) as pg:
            listed(pg)
            title, text = TEXTS[DIGITS - 1]
            as_listed = "'" + "' '".join(sorted(set((title + " " + text).split()))) + "'"
            pg.db.execute("UPDATE article_words SET words = ?::tsvector WHERE article_id = ?",
                          [as_listed, DIGITS])
            assert DIGITS not in found(pg, "2026")
    with open_store(pg_url) as pg:
        assert unlisted(pg) == 1
        assert DIGITS in found(pg, "2026")
        listed(pg)
        assert unlisted(pg) == 0
        assert found(pg, '"Boeing 737"') == found(pg, "۷۳۷") == [DIGITS]


def test_the_archive_is_listed_in_the_background(pg_url, monkeypatch) -> None:
    """The checkpoint (the daemon's event loop) does not wait for the listing: it returns
    with the archive unlisted while a thread of its own lists it, searches finding what
    they found meanwhile, and the planner's statistics are taken again after; the store's
    close ends that thread after its batch."""
    import storage.pgwords

    made = storage.pgwords.vector
    entered, release = threading.Event(), threading.Event()

    def held(*texts: str) -> str:
        if not entered.is_set():  # the batch's first article: held until released
            entered.set()
            release.wait(WAIT)
        return made(*texts)

    monkeypatch.setattr(storage.pgwords, "BATCH", 2)
    with upgraded(pg_url) as pg:
        monkeypatch.setattr(storage.pgwords, "vector", held)
        pg.checkpoint()
        assert entered.wait(WAIT)
        assert unlisted(pg) == len(TEXTS)  # its first batch is being made
        assert found(pg, "maduro") == [1, 2]
        release.set()
        assert pg.words_filler.wait(WAIT)
        assert unlisted(pg) == 0
        # The planner's statistics taken again (the checkpoint's: every list missing).
        assert pg.db.execute("SELECT null_frac FROM pg_stats WHERE tablename = 'article_words'"
                             " AND attname = 'words'").fetchone()[0] == 0

        release.clear()
        entered.clear()
        pg.db.execute("UPDATE article_words SET words = NULL")
        pg.checkpoint()
        assert entered.wait(WAIT)
        closing = threading.Thread(target=pg.close)
        closing.start()
        for _ in range(WAIT * 100):
            if pg.words_filler._stop.is_set():
                break
            time.sleep(0.01)
        release.set()
        closing.join(WAIT)
        assert not closing.is_alive()
    with storage.pg.connect(pg_url) as conn:
        assert conn.execute("SELECT COUNT(*) FROM article_words WHERE words IS NULL"
                            ).fetchone()[0] == len(TEXTS) - 2  # the batch being made, no more


def test_a_listing_cancelled_by_a_stop_says_it_resumes_at_the_next_checkpoint(
    pg_url, monkeypatch, caplog
) -> None:
    """SIGTERM cancels the filler's statement, which waits for a lock another session holds
    (storage.pg.stop_waiting): no failure but the stop's, said at INFO (its WARNING, in
    the journal just before the process's "stopped", told an operator of an error)."""
    monkeypatch.setattr(storage.pg, "_stopping", threading.Event())
    with upgraded(pg_url) as pg, storage.pg.connect(pg_url) as holder, \
            storage.pg.connect(pg_url) as watch:
        with holder.transaction():
            holder.execute("LOCK TABLE article_words IN ACCESS EXCLUSIVE MODE")
            assert pg.words_filler.start()
            for _ in range(WAIT * 100):  # the filler waiting for the lock
                if watch.execute("SELECT count(*) FROM pg_locks WHERE NOT granted"
                                 ).fetchone()[0]:
                    break
                time.sleep(0.01)
            else:
                pytest.fail("the filler never waited for the lock")
            caplog.set_level("INFO", logger="storage.pgwords")
            storage.pg.stop_waiting()
            assert pg.words_filler.wait(WAIT)
        assert unlisted(pg) == len(TEXTS)
    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "storage.pgwords"]
    assert said == [("INFO", "listing the articles' words for the search stopped after 0, the "
                     "process stopping: it resumes at the next checkpoint")], said


def test_a_crawl_lists_a_bounded_number_unless_another_filler_lists(pg_url,
                                                                   monkeypatch) -> None:
    """``newswatch crawl`` (cron: no daemon's checkpoint) lists CRAWL_WORDS articles at most
    as it ends, in its own time, and none while another process's filler holds the lock (the
    rest are that one's)."""
    import storage.pgwords

    monkeypatch.setattr(storage.pg, "CRAWL_WORDS", 3)
    with upgraded(pg_url) as pg, storage.pg.connect(pg_url) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [storage.pgwords.WORDS_LOCK])
        pg.fold_counts()
        assert unlisted(pg) == len(TEXTS)
        other.execute("SELECT pg_advisory_unlock(%s)", [storage.pgwords.WORDS_LOCK])
        pg.fold_counts()
        assert unlisted(pg) == len(TEXTS) - 3
        assert found(pg, "maduro") == [1, 2]


def test_an_article_of_too_many_words_is_read_by_every_search(stores, monkeypatch) -> None:
    """An article whose words would not fit in a ``tsvector`` (1 MB) is listed as read by
    every search, and found by its words as any other."""
    import storage.pgwords

    lite, pg = stores
    monkeypatch.setattr(storage.pgwords, "LIST_BYTES", 300)  # the long words of Budget talks
    listed(pg)
    talks = found(lite, "talks")
    assert found(pg, "talks") == talks and found(pg, LONG + "y") == found(lite, LONG + "y")
    read = read_by_search(monkeypatch)
    assert found(pg, "zzyzx") == []
    assert read == found(lite, LONG + "*")
