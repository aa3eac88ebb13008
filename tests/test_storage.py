"""Storage against real SQLite files: migrations, sources, articles (FTS5), topics, matches,
the outbox, exports and percolation."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from test_stories import assign_as_before

import storage.db
import storage.errors
from storage import (
    Article,
    DeferredEntry,
    Email,
    FetchOutcome,
    Match,
    NewerSchema,
    SourceSpec,
    StorageError,
    Store,
    StoredArticle,
    Topic,
    TopicSpec,
    open_store,
    percolate,
)
from storage.clock import from_iso
from storage.errors import said_stopping
from storage.outbox import insert_email
from storage.schema import MIGRATIONS
from watchlist import compile_query, follow_merges

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)

TABLES = {"sources", "articles", "articles_fts", "topics", "matches", "outbox", "outbox_items",
          "state"}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "newswatch.db"


BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests of the ``store`` fixture run on both backends; those marked ``sqlite_only``
    (they look at SQLite's own files, pragmas or FTS5 table) on SQLite alone."""
    if "backend" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("sqlite_only")
        metafunc.parametrize("backend", ("sqlite",) if only else BACKENDS)


@pytest.fixture
def location(backend: str, db_path: Path, request: pytest.FixtureRequest) -> str | Path:
    """Where the test's database is: an SQLite file, or a fresh PostgreSQL database."""
    if backend == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return db_path


@pytest.fixture
def store(location: str | Path):
    with open_store(location) as s:
        yield s


@contextmanager
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    """A second, independent connection (sees only what was committed), closed afterwards."""
    conn = sqlite3.connect(str(path))
    try:
        yield conn
    finally:
        conn.close()


def add_source(store: Store, url: str = "https://news.example/feed", every: int = 600) -> int:
    store.sync_sources([SourceSpec(url, every)], NOW)
    return next(s.id for s in store.sources() if s.url == url)


def article(source_id: int, slug: str, title: str = "A title", text: str = "Some body text.",
            entry_url: str | None = None) -> Article:
    url = f"https://news.example/articles/{slug}"
    return Article(
        url=url, entry_url=entry_url or url, source_id=source_id, title=title, text=text,
        published=NOW - timedelta(hours=1), author="Staff", fetched=NOW, extraction="page",
    )


def topic(store: Store, name: str, query: str, notify: tuple[str, ...] = ("desk@example.org",)):
    specs = [TopicSpec(t.name, t.query, t.compiled, t.notify) for t in store.topics()]
    specs.append(TopicSpec(name, query, compile_query(query), notify))
    return next(t for t in store.sync_topics(specs) if t.name == name)


def email(message_id: str, items: tuple[tuple[int, int], ...], created: datetime = NOW,
          recipient: str = "desk@example.org") -> Email:
    return Email(message_id=message_id, recipient=recipient, subject="newswatch: alert",
                 text="plain", html="<p>html</p>", created=created, items=items)


def fts(store: Store, expression: str) -> list[int]:
    rows = store.db.execute(
        "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid", [expression]
    ).fetchall()
    return [r[0] for r in rows]


# -- opening and migrations -------------------------------------------------------------------


def test_migrations_create_the_schema_and_set_user_version(db_path: Path) -> None:
    assert not db_path.exists()
    Store.open(db_path).close()
    assert db_path.exists()
    with raw(db_path) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    assert names >= TABLES
    assert {"articles_ai", "articles_ad", "articles_au"} <= names
    assert version == len(MIGRATIONS) >= 1


def test_open_creates_missing_parent_directories(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "news.db"
    with Store.open(path) as s:
        assert s.article_count() == 0
    assert path.exists()


def test_another_programs_database_is_refused_untouched(db_path: Path) -> None:
    # database.path pointed at a browser's history: even `newswatch status` added twenty
    # tables to it, switched it to WAL and set its user_version.
    with raw(db_path) as conn:
        conn.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
        conn.commit()
    before = db_path.read_bytes()
    with pytest.raises(storage.StorageError, match="not a newswatch database.*moz_places"):
        Store.open(db_path)
    assert db_path.read_bytes() == before
    with raw(db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_an_upgrade_reports_no_gone_source_again(db_path: Path, monkeypatch) -> None:
    # Migration 16: a source deactivated and reported before is remembered as reported gone;
    # left as it was, it would be taken for one reported failing, then gone, and reported
    # again at the upgrade.
    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS[:15])
    with Store.open(db_path) as s:
        source_id = add_source(s)
        s.db.execute("UPDATE sources SET deactivated = 'HTTP 410 Gone', active = 0, "
                     "health_alerted = '2026-11-01T00:00:00+00:00' WHERE id = ?", [source_id])
    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS)
    with Store.open(db_path) as s:
        # Marked reported gone (health_changes reads columns of later schemas: it is asked
        # only after the upgrade).
        assert s.db.execute("SELECT health_alerted FROM sources").fetchone()[0] == (
            "gone 2026-11-01T00:00:00+00:00")
        assert s.health_changes(NOW, timedelta(0)) == ([], [])


def test_hosts_waits_are_kept_merged_and_dropped_when_ended(store: Store) -> None:
    assert store.host_waits(NOW) == {}
    store.keep_host_waits({"a.example": NOW + timedelta(hours=1),
                           "b.example": NOW + timedelta(minutes=1)}, NOW)
    # Another process's: a later end wins, an earlier one does not shorten a wait.
    store.keep_host_waits({"a.example": NOW + timedelta(minutes=5),
                           "b.example": NOW + timedelta(minutes=10),
                           "c.example": NOW - timedelta(minutes=1)}, NOW)
    assert store.host_waits(NOW) == {"a.example": NOW + timedelta(hours=1),
                                     "b.example": NOW + timedelta(minutes=10)}
    assert store.host_waits(NOW + timedelta(minutes=30)) == {"a.example": NOW + timedelta(hours=1)}
    store.keep_host_waits({}, NOW + timedelta(hours=2))
    assert store.host_waits(NOW) == {}


def test_urls_listed_before_a_first_poll_are_known_without_an_article(store: Store) -> None:
    source_id = add_source(store)
    listed = ["https://news.example/a/1", "https://news.example/a/2"]
    store.remember_listed(listed, source_id, NOW)
    store.remember_listed([*listed, listed[0]], source_id, NOW + timedelta(days=1))  # again
    known = store.known_articles([*listed, "https://news.example/a/3"])
    assert sorted(known) == listed
    assert all(url.article_id is None for url in known.values())
    # Past database.keep too: forgotten, an undated sitemap's whole archive was fetched,
    # stored and mailed as new at its next poll (a review). A linked page that was no
    # article is forgotten (fetched once more, never alerted).
    store.skip_url("https://news.example/about", source_id, "not an article", NOW)
    store.prune(NOW + timedelta(days=400))
    assert sorted(store.known_articles([*listed, "https://news.example/about"])) == listed


def test_a_sources_feed_items_are_found_by_their_title(store: Store) -> None:
    # A feed that writes its items' guids anew at every poll: its items without a link are
    # known by their title and text, or title and date (crawler.entries), on both backends.
    source_id, other_id = add_source(store), add_source(store, "https://other.example/feed")
    items = [replace(article(source_id, slug, title, f"{title}: the basin."), url=url,
                     entry_url=url, extraction="feed")
             for slug, title, url in [("1", "Harbour closed", "https://news.example/#guid-1"),
                                      ("2", "Harbour open", "https://news.example/#guid-2")]]
    page = article(source_id, "3", "Harbour closed")  # read from its page: no item
    theirs = replace(items[0], url="https://other.example/#guid-1", source_id=other_id,
                     entry_url="https://other.example/#guid-1")
    ids = store.add_articles([*items, page, theirs])
    found = store.feed_items_titled(source_id, ["Harbour closed", "Harbour open", "Ferry"])
    assert {url: (known.article_id, text) for url, (known, text) in found.items()} == {
        "https://news.example/#guid-1": (ids[0], "Harbour closed: the basin."),
        "https://news.example/#guid-2": (ids[1], "Harbour open: the basin.")}
    assert found["https://news.example/#guid-1"][0].published == NOW - timedelta(hours=1)


def test_prune_goes_by_batches_oldest_first_and_within_a_limit(store, backend) -> None:
    """A year's backlog (database.keep lowered) was one transaction of minutes (every other
    writer refused, the write-ahead log grown by gigabytes) and each hourly prune read the
    whole table: batches, found by the index of unpruned articles (a review)."""
    import storage.maintenance

    source_id = add_source(store)
    ids = [store.add_article(replace(article(source_id, f"p{n}", text=f"Body {n}. " * 20),
                                     fetched=NOW - timedelta(days=30 - n)))
           for n in range(12)]
    old = NOW - timedelta(days=20)  # the first 10 (fetched 30 to 21 days ago)
    storage.maintenance.PRUNE_BATCH = 3
    try:
        assert store.prune(old, limit=4) == 4
        assert [i for i in ids if not store.article(i).text] == ids[:4]  # the oldest first
        assert store.prune(old) == 6 and store.prune(old) == 0
    finally:
        storage.maintenance.PRUNE_BATCH = 500
    assert [i for i in ids if store.article(i).text] == ids[10:]
    if backend == "sqlite":
        plan = store.db.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM articles WHERE fetched < ? AND text != ''"
            " ORDER BY fetched LIMIT 3", ["2026"]).fetchall()
        assert "articles_unpruned" in str(plan)


def sqlite_plans(
    store: Store, call: Callable[[], Any], table: str = "articles"
) -> tuple[Any, list[str]]:
    """What ``call`` returns, and SQLite's plan of each statement it ran that reads
    ``table`` (the steps of each, joined)."""
    ran: list[str] = []
    store.db.conn.set_trace_callback(ran.append)
    try:
        result = call()
    finally:
        store.db.conn.set_trace_callback(None)
    plans = [" | ".join(str(r[3]) for r in store.db.execute(f"EXPLAIN QUERY PLAN {sql}"))
             for sql in ran if table in sql
             and not sql.startswith(("BEGIN", "COMMIT", "--"))]  # "--": FTS5's own reads
    return result, plans


def archive_scans(plans: list[str]) -> list[str]:
    """The plans that read articles otherwise than by id (the whole archive at every cycle,
    once it holds a year of articles)."""
    return [plan for plan in plans if any(
        step.split()[1] in ("a", "articles") and "INTEGER PRIMARY KEY" not in step
        for step in plan.split(" | ") if step.startswith(("SCAN", "SEARCH")))]


def test_the_rematch_queue_and_stale_signatures_are_read_from_their_lists(store, backend):
    """The re-match queue (read twice at every cycle's end, empty almost always) and the
    list of stale signatures (at each rebuild of the story index) are read from their own
    tables, the articles by id: joined to the articles, SQLite read the whole archive to
    find them empty (a database of 400,000 articles: 0.25 s a read, 0.6 s for the
    signatures' list, in a write transaction; a year of 30,000 articles a day, seconds)."""
    source_id = add_source(store)
    other = add_source(store, "https://other.example/feed")
    ids = [store.add_article(replace(article(source_id, f"r{n}"),
                                     fetched=NOW - timedelta(days=10 - n)))
           for n in range(10)]
    with store.db.atomic():
        store.db.execute("INSERT INTO rematch (article_id, queued) VALUES (?, ?)",
                         [ids[7], "2026-11-16T09:00:00+00:00"])
        for article_id in (ids[1], ids[8]):  # fetched 9 days ago, and 2 days ago
            store.db.execute("INSERT INTO stale_signatures (article_id) VALUES (?)",
                             [article_id])
    assert store.note_listed([ids[5]], other, NOW) == 1

    def read() -> tuple[list[int], list[int], list[tuple[int, str]]]:
        return ([a.id for a in store.rematch_queue()],
                [a.id for a in store.rematch_queue(relisted=True)],
                store.stale_signatures(NOW - timedelta(days=7), 10))

    if backend == "sqlite":
        found, plans = sqlite_plans(store, read)
        assert plans and not archive_scans(plans)
    else:
        found = read()
    assert found == ([ids[7]], [ids[5]], [(ids[8], "Some body text.")])
    assert store.stale_signatures(NOW - timedelta(days=7), 10) == [(ids[8], "Some body text.")]


def sqlite_steps(store: Store, call: Callable[[], Any]) -> tuple[Any, int]:
    """What ``call`` returns, and how many steps SQLite's virtual machine took for it."""
    steps = 0

    def step() -> int:
        nonlocal steps
        steps += 1
        return 0

    store.db.conn.set_progress_handler(step, 1)
    try:
        return call(), steps
    finally:
        store.db.conn.set_progress_handler(None, 1)


def steps_do_not_grow(store: Store, backend: str, tmp_path: Path,
                      filled: Callable[[Store, int], list[Callable[[], Any]]]) -> None:
    """The reads ``filled`` gives (on a store it fills with that many older rows) take as
    many SQLite steps on 300 older rows as on 100 (PostgreSQL: their results alone)."""
    reads = filled(store, 100)
    if backend == "postgresql":
        return
    with open_store(tmp_path / "bigger.db") as bigger:
        more = filled(bigger, 300)
        # Not a step for each older article or alert sent.
        assert [sqlite_steps(bigger, read)[1] for read in more] == [
            sqlite_steps(store, read)[1] for read in reads]


def test_the_daemons_periodic_reads_do_not_grow_with_the_archive(
    store, backend, tmp_path: Path
) -> None:
    """The story index's signatures and short titles (at start and daily), the site memory
    forgotten and the retention (hourly) and the due alerts (each tick) are found without
    reading the older articles, the alerts sent or the pages skipped (schema 34): on a
    database of 400,000 articles, 175,000 of them older than the story window, the
    index's first read took 0.3 s, the short titles 1.2 s and the hourly forgetting
    0.65 s (in a write transaction, to delete nothing); the retention read every alert
    sent, bodies included, in a write transaction (10,000 alerts: 0.2 s), as did the due
    alerts, once the planner had statistics (the hourly checkpoint's PRAGMA optimize). A
    year of 30,000 articles a day is 11 million rows."""
    signature = bytes(range(256)) * 2

    def filled(store: Store, older: int) -> list[Callable[[], Any]]:
        """``store`` with ``older`` articles fetched 100 to 200 days ago (clustered, their
        site memory forgotten already, their alerts sent), then the story window's; its
        periodic reads."""
        source_id = add_source(store)
        ids = [store.add_article(replace(article(source_id, f"old{n}"),
                                         fetched=NOW - timedelta(days=200 - n / older * 100)))
               for n in range(older)]
        store.assign_stories([(i, None, signature, signature, None) for i in ids if i], NOW)
        with store.db.atomic():
            for i in ids:
                insert_email(store.db, email(f"<old{i}@nw>", ()))
            store.db.execute("UPDATE outbox SET status = 'sent', sent = created")
        for n in range(older):
            store.skip_url(f"https://news.example/tag/{n}", source_id, "no article", NOW)
        recent = [store.add_article(replace(article(source_id, f"new{n}", title=f"Short {n}"),
                                            fetched=NOW - timedelta(days=2 - n)))
                  for n in range(3)]
        store.assign_stories([(recent[0], None, signature, signature, None),
                              (recent[1], None, None, None, None)], NOW)
        store.remember_blocks([("news.example", 7, recent[2])])
        with store.db.atomic():
            waiting = insert_email(store.db, email("<due@nw>", (), created=NOW))
        expected = [[recent[0]], {"Short 1"}, 0, [waiting], 0]
        reads = [
            lambda: [row[0] for row in store.recent_signatures(NOW - timedelta(days=7))],
            lambda: store.short_titles(NOW - timedelta(days=7)),
            lambda: store.forget_blocks(NOW - timedelta(days=90)),
            lambda: [m.id for m in store.due_outbox(NOW)],
            lambda: store.prune(NOW - timedelta(days=365)),
        ]
        assert [read() for read in reads] == expected
        if backend == "sqlite":
            store.db.execute("ANALYZE")
        return reads

    steps_do_not_grow(store, backend, tmp_path, filled)


def test_the_story_index_reads_its_signatures_without_the_texts(store, backend) -> None:
    """The story index (built at start and daily) reads the window's signatures from their
    own table (schema 42), kept by triggers as articles are clustered, signed again, moved
    or deleted (by hand): from the articles, where each row's signatures come after its
    text, SQLite read every text of the window (400,000 articles, 225,000 of them in the
    window: 0.96 s warm, 2 GB read cold). The table holds the window's: older rows are
    dropped, the articles keep theirs."""
    source_id = add_source(store)
    long_text = "Words of a long article. " * 800  # 20 KB: pages of their own
    ids = [store.add_article(replace(article(source_id, f"s{n}", text=long_text),
                                     fetched=NOW - timedelta(days=n)))
           for n in (20, 3, 2, 1, 0)]
    assert all(ids)
    old, stale, moved, gone, unsigned = (i for i in ids if i)
    full, lede, second = b"f" * 512, b"l" * 512, b"s" * 512
    store.assign_stories([(old, None, full, lede, None), (stale, None, full, lede, None),
                          (moved, stale, full, lede, None), (gone, stale, full, lede, second),
                          (unsigned, None, None, None, None)], NOW)
    # A text too short to sign, and one with a second lede now (schema 43), made again.
    store.replace_signatures([(stale, None, None, None), (moved, full, lede, second)])
    with store.db.atomic():
        store.db.execute("UPDATE articles SET url = 'https://news.example/moved' WHERE id = ?",
                         [moved])
        store.db.execute("DELETE FROM articles WHERE id = ?", [gone])

    def read() -> list[tuple[int, int, bytes | None, str]]:
        return [(i, story, s, url) for i, story, f, l_, s, url
                in store.recent_signatures(NOW - timedelta(days=7)) if (f, l_) == (full, lede)]

    if backend == "sqlite":
        found, plans = sqlite_plans(store, read, table="")
        assert plans and not [p for p in plans if re.search(r"\b(SCAN|SEARCH) articles\b", p)]
    else:
        found = read()
    assert found == [(moved, stale, second, "https://news.example/moved")]
    assert store.forget_signatures(NOW - timedelta(days=14)) == 1  # the article of 20 days
    assert [r[0] for r in store.recent_signatures(NOW - timedelta(days=30))] == [moved]
    assert store.copies(full, lede, NOW - timedelta(days=7), lambda url: True)[0][0] == old


def test_an_upgrade_copies_the_last_months_signatures(location: str | Path, monkeypatch) -> None:
    """The upgrade to schema 42 copies to their own table the signatures of the articles
    fetched in the 30 days before the newest one (the story window is 7)."""
    import storage.pg

    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS[:41])
    monkeypatch.setattr(storage.pg, "MIGRATIONS", storage.pg.MIGRATIONS[:41])
    with open_store(location) as store:
        source_id = add_source(store)
        old, month, recent, unsigned = store.add_articles([
            replace(article(source_id, f"u{n}"), fetched=NOW - timedelta(days=n))
            for n in (40, 29, 2, 0)])
        assert old and month and recent and unsigned
        assign_as_before(store, [(old, None, b"f" * 512, b"l" * 512),
                                 (month, None, b"f" * 512, b"l" * 512),
                                 (recent, month, b"f" * 512, b"l" * 512),
                                 (unsigned, None, None, None)])
    monkeypatch.undo()
    with open_store(location) as store:
        assert [(r[0], r[1]) for r in store.recent_signatures(NOW - timedelta(days=60))] == [
            (month, month), (recent, month)]


def test_the_stories_command_reads_the_last_days_alone(store, backend, tmp_path: Path) -> None:
    """`stories` finds the stories of its last days by their first articles' fetch times
    (schema 34), not by reading every story ever made (400,000 articles: 1.6 s for the
    stories of 2 days, 0.3 s now; a year's archive, a minute)."""

    def filled(store: Store, older: int) -> list[Callable[[], list[tuple[int, int]]]]:
        source_id = add_source(store)
        ids = [store.add_article(replace(article(source_id, f"s{n}"),
                                         fetched=NOW - timedelta(days=200 - n / older * 100)))
               for n in range(older)]
        ids += [store.add_article(replace(article(source_id, f"new{n}"),
                                          fetched=NOW - timedelta(hours=n)))
                for n in range(2)]
        store.assign_stories([(i, None, None, None, None) for i in ids if i], NOW)

        def read() -> list[tuple[int, int]]:
            return [(s.id, len(s.articles)) for s in store.recent_stories(NOW - timedelta(days=2))]

        assert read() == [(ids[-1], 1), (ids[-2], 1)]
        if backend == "sqlite":
            store.db.execute("ANALYZE")
        return [read]

    steps_do_not_grow(store, backend, tmp_path, filled)


def test_the_stories_command_reads_its_stories_in_a_few_queries(store, backend) -> None:
    """`stories --since 2d` read each story's articles and alerted topics with two queries
    of their own (42,000 stories: a second): the queries do not grow with the stories."""
    wire = add_source(store)
    other = add_source(store, "https://other.example/feed")
    nato, maduro = topic(store, "NATO", "nato"), topic(store, "Maduro", "maduro")
    firsts = []
    for n in range(8):  # story n started n hours ago; the even ones also on the other source
        fetched = NOW - timedelta(hours=n)
        first = store.add_article(replace(article(wire, f"s{n}", title=f"Story {n}"),
                                          fetched=fetched, published=fetched))
        ids = [first]
        if n % 2 == 0:  # its copy published earlier, fetched later: it comes first
            ids.append(store.add_article(replace(article(other, f"c{n}"), fetched=fetched,
                                                 published=fetched - timedelta(minutes=5))))
        store.assign_stories([(i, None if i == first else first, None, None, None) for i in ids
                              if i], NOW)
        firsts.append(first)
    store.record_matches([], [], watermark=None, now=NOW, story_alerts=[
        *((first, maduro.id, first) for first in firsts[:4]), (firsts[0], nato.id, firsts[0])])

    def statements(hours: float, min_sources: int = 1) -> tuple[list[Any], int]:
        ran: list[str] = []
        if backend == "sqlite":
            store.db.conn.set_trace_callback(ran.append)
        try:
            found = store.recent_stories(NOW - timedelta(hours=hours), min_sources)
        finally:
            if backend == "sqlite":
                store.db.conn.set_trace_callback(None)
        shown = [(s.id, s.title, [(a.source, a.url.rsplit("/", 1)[1]) for a in s.articles],
                  s.alerted) for s in found]
        return shown, len(ran)

    few, few_statements = statements(1.5)
    many, many_statements = statements(7.5)
    feed, other_feed = "https://news.example/feed", "https://other.example/feed"
    assert few == [(firsts[1], "Story 1", [(feed, "s1")], ("Maduro",)),
                   (firsts[0], "Story 0", [(other_feed, "c0"), (feed, "s0")],
                    ("Maduro", "NATO"))]
    assert [s[0] for s in many] == firsts[::-1] and many[-2:] == few
    assert many[0][3] == () and many[4][3] == ("Maduro",)
    assert statements(7.5, min_sources=2)[0] == [s for s in many if len(s[2]) == 2]
    assert few_statements == many_statements


def test_the_story_counts_read_the_last_week_alone(store, backend, tmp_path: Path) -> None:
    """`status` counts the stories started in the story window by the index of their
    starts (schema 36), not by reading every story ever made (400,000 articles: 0.35 to
    0.9 s; a year's archive, seconds)."""

    def filled(store: Store, older: int) -> list[Callable[[], dict[str, int]]]:
        source_id = add_source(store)
        other = add_source(store, "https://other.example/feed")
        for n in range(older):
            started = NOW - timedelta(days=200 - n / older * 100)
            old = store.add_article(replace(article(source_id, f"s{n}"), fetched=started))
            store.assign_stories([(old, None, None, None, None)], started)
        new = [store.add_article(replace(article(source, f"new{n}"),
                                         fetched=NOW - timedelta(hours=n)))
               for n, source in enumerate((source_id, other, source_id))]
        store.assign_stories([(new[0], None, None, None, None), (new[1], new[0], None, None, None),
                              (new[2], None, None, None, None)], NOW)

        def read() -> dict[str, int]:
            return store.story_counts(NOW - timedelta(days=7))

        assert read() == {"stories": 2, "several_sources": 1}
        if backend == "sqlite":
            store.db.execute("ANALYZE")
        return [read]

    steps_do_not_grow(store, backend, tmp_path, filled)


def test_the_article_counts_do_not_read_the_archive(store, backend, tmp_path: Path) -> None:
    """`status` and each scrape of /metrics count the articles, each source's and all of
    them, from the counts kept as articles are stored (schema 38), not by reading the index
    of the articles' sources (200,000 articles: 36 to 58 ms; a year's, 2 s a scrape). The
    counts are a COUNT(*)'s: articles whose texts were pruned are counted, and an article
    deleted or moved to another source (by hand: newswatch does neither) is not counted
    where it was."""

    def counts(store: Store) -> tuple[int, dict[int, int]]:
        return store.article_count(), {s.id: s.articles for s in store.source_status()}

    def counted(store: Store) -> tuple[int, dict[int, int]]:
        """What a COUNT(*) of the articles says."""
        ids = [s.id for s in store.source_status()]
        return (int(store.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]),
                {i: int(store.db.execute("SELECT COUNT(*) FROM articles WHERE source_id = ?",
                                         [i]).fetchone()[0]) for i in ids})

    def filled(store: Store, older: int) -> list[Callable[[], Any]]:
        urls = [f"https://{site}.example/feed" for site in ("news", "other", "quiet")]
        store.sync_sources([SourceSpec(url, 600) for url in urls], NOW)
        source_id, other, quiet = (s.id for s in store.sources())
        store.add_articles([replace(article(source_id, f"old{n}"),
                                    fetched=NOW - timedelta(days=200 - n / older * 100))
                            for n in range(older)])
        store.add_articles([article(other, "new0"), article(source_id, "new1"),
                            article(other, "new2"), article(other, "new0")])  # stored once
        assert store.prune(NOW - timedelta(days=30)) == older  # texts go, articles stay
        assert counts(store) == counted(store) == (
            older + 3, {source_id: older + 1, other: 2, quiet: 0})
        if backend == "sqlite":
            store.db.execute("ANALYZE")
            # SQLite counts a whole table in one step of its machine: by the plans, then.
            plans = sqlite_plans(store, lambda: counts(store), table="article")[1]
            assert plans and not archive_scans(plans)
        return [store.article_count, lambda: counts(store)[1]]

    steps_do_not_grow(store, backend, tmp_path, filled)
    source_id, other, quiet = (s.id for s in store.source_status())
    with store.db.atomic():
        store.db.execute("DELETE FROM articles WHERE url LIKE '%/old1'")
        store.db.execute("UPDATE articles SET source_id = ? WHERE url LIKE '%/new0'", [quiet])
        store.db.execute("UPDATE articles SET title = 'Retitled' WHERE url LIKE '%/new1'")
    assert counts(store) == counted(store) == (102, {source_id: 100, other: 1, quiet: 1})
    store.checkpoint()  # PostgreSQL folds the counts of each source into one row
    assert counts(store) == counted(store)
    rows = store.db.execute("SELECT source_id FROM article_counts ORDER BY 1").fetchall()
    assert [row[0] for row in rows] == [source_id, other, quiet]


def test_the_counts_of_an_older_database_are_its_articles_and_alerts(
    location: str | Path, monkeypatch
) -> None:
    """The upgrades to schemas 38, 39 and 41 count the articles stored, the alerts queued
    and the matches recorded before them."""
    import storage.pg

    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS[:37])
    monkeypatch.setattr(storage.pg, "MIGRATIONS", storage.pg.MIGRATIONS[:37])
    with open_store(location) as store:
        store.sync_sources([SourceSpec(f"https://{site}.example/feed", 600)
                            for site in ("news", "other", "quiet")], NOW)
        source_id, other, quiet = (s.id for s in store.sources())
        a0, a1, _ = store.add_articles([article(source, f"a{n}") for n, source
                                        in enumerate((source_id, other, source_id))])
        assert a0 and a1
        with store.db.atomic():
            sent, _ = (insert_email(store.db, email(f"<{n}@nw>", ())) for n in range(2))
        store.mark_sent(sent, NOW)
        found, _ = topic(store, "found", "title"), topic(store, "quiet", "nothing")
        store.record_matches([Match(a0, found.id, ("title",), alert=True),
                              Match(a1, found.id, ("title",), alert=False)], [], None, NOW)
    monkeypatch.undo()
    with open_store(location) as store:
        assert [(t.name, t.matches, t.alerted, t.last_match) for t in store.topic_status()] == [
            ("found", 2, 1, NOW), ("quiet", 0, 0, None)]
        assert store.article_count() == 3
        assert {s.id: s.articles for s in store.source_status()} == {
            source_id: 2, other: 1, quiet: 0}
        store.add_article(article(quiet, "a3"))
        assert store.article_count() == 4
        assert store.outbox_counts() == {"pending": 1, "sent": 1, "failed": 0}


def test_an_upgrade_counts_410s_from_the_next_poll(location: str | Path, monkeypatch) -> None:
    """The upgrade to schema 40 leaves a source deactivated as gone before it so, and counts
    the 410 Gone answers of the others from their next poll (crawler.spider.GONE_AFTER)."""
    import storage.pg

    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS[:39])
    monkeypatch.setattr(storage.pg, "MIGRATIONS", storage.pg.MIGRATIONS[:39])
    with open_store(location) as store:
        store.sync_sources([SourceSpec(f"https://{site}.example/feed", 600)
                            for site in ("closed", "flaky")], NOW)
        closed, flaky = (s.id for s in store.sources())
        store.db.execute("UPDATE sources SET active = 0, deactivated = 'HTTP 410 Gone',"
                         " last_status = 410, consecutive_failures = 1 WHERE id = ?", [closed])
    monkeypatch.undo()
    with open_store(location) as store:
        assert [s.id for s in store.sources()] == [flaky]
        for n, when in enumerate((NOW, NOW + timedelta(hours=1)), 1):
            store.record_fetch(flaky, FetchOutcome(ok=False, status=410, error="HTTP 410"), when)
            assert (store.source(flaky).gone_since, store.source(flaky).gone_polls) == (NOW, n)
        store.record_fetch(flaky, FetchOutcome(ok=False, status=503, error="HTTP 503"), NOW)
        assert (store.source(flaky).gone_since, store.source(flaky).gone_polls) == (None, 0)
        assert store.source(flaky).consecutive_failures == 3


def test_an_upgrade_dates_each_sources_last_new_article(location: str | Path, monkeypatch):
    """The upgrade to schema 51 takes when each source last brought a new article from the
    articles it stored, or listed after another source stored them (`status` calls a source
    whose polls bring none for long stale); from then on each poll that brings one moves it
    (crawler.entries), never back."""
    import storage.pg

    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS[:50])
    monkeypatch.setattr(storage.pg, "MIGRATIONS", storage.pg.MIGRATIONS[:50])
    earlier, later = NOW - timedelta(days=20), NOW - timedelta(days=3)
    with open_store(location) as store:
        store.sync_sources([SourceSpec(url, 600) for url in (
            "https://news.example/feed", "https://news.example/politics.rss",
            "https://quiet.example/feed")], NOW)
        main, section, quiet = (s.id for s in store.sources())
        old, _ = store.add_articles([replace(article(main, "old"), fetched=earlier),
                                     replace(article(main, "new"), fetched=later)])
        with store.db.atomic():  # as the version before noted it
            store.db.execute("INSERT INTO article_sources (article_id, source_id) VALUES (?, ?)",
                             [old, section])
    monkeypatch.undo()
    with open_store(location) as store:
        assert {s.id: s.last_new for s in store.source_status()} == {
            main: later, section: earlier, quiet: None}
        store.record_fetch(quiet, FetchOutcome(ok=True, status=200, last_new=NOW), NOW)
        store.record_fetch(main, FetchOutcome(ok=True, status=304, not_modified=True), NOW)
        store.record_fetch(section, FetchOutcome(ok=False, status=500, last_new=NOW), NOW)
        store.record_fetch(quiet, FetchOutcome(ok=True, status=200, last_new=earlier), NOW)
        assert {s.id: s.last_new for s in store.source_status()} == {
            main: later, section: NOW, quiet: NOW}


def test_a_stale_source_is_reported_once_and_recovered_with_news(store: Store):
    """A source whose polls succeed 14 days without a new article (`status`: stale) is
    reported once, as one failing for long is; again once it fails for long too; recovered
    once it brings news."""
    store.sync_sources([SourceSpec(url, 600) for url in (
        "https://frozen.example/feed", "https://news.example/feed")], NOW)
    frozen, news = (s.id for s in store.sources())
    later = NOW + timedelta(days=15)
    store.record_fetch(frozen, FetchOutcome(ok=True, status=304, not_modified=True), later)
    store.record_fetch(news, FetchOutcome(ok=True, status=200, last_new=later), later)
    [stale], recovered = store.health_changes(later, timedelta(hours=24), mailed=False)
    assert (stale.id, stale.stale, stale.last_new, recovered) == (frozen, True, None, [])
    store.record_health([], [stale], [], later)
    assert store.health_changes(later, timedelta(hours=24), mailed=False) == ([], [])
    # Failing for long since: reported failing.
    store.record_fetch(frozen, FetchOutcome(ok=False, status=500, error="HTTP 500"), later)
    [failing], _ = store.health_changes(later + timedelta(days=2), timedelta(hours=24),
                                        mailed=False)
    assert (failing.id, failing.stale) == (frozen, False)
    store.record_health([], [failing], [], later + timedelta(days=2))
    # Polled fine again, still stale: recovered from its failure, then stale again.
    store.record_fetch(frozen, FetchOutcome(ok=True, status=304, not_modified=True),
                       later + timedelta(days=3))
    _, [back] = store.health_changes(later + timedelta(days=3), timedelta(hours=24),
                                     mailed=False)
    store.record_health([], [], [back.id], later + timedelta(days=3))
    [stale], _ = store.health_changes(later + timedelta(days=3), timedelta(hours=24),
                                      mailed=False)
    store.record_health([], [stale], [], later + timedelta(days=3))
    store.record_fetch(frozen, FetchOutcome(ok=True, status=200, last_new=later),
                       later + timedelta(days=4))
    failing, recovered = store.health_changes(later + timedelta(days=4), timedelta(hours=24),
                                              mailed=False)
    assert (failing, [(r.id, r.last_new) for r in recovered]) == ([], [(frozen, later)])


def test_the_alert_counts_do_not_grow_with_the_alerts_sent(store, backend, tmp_path: Path):
    """`status` and each scrape of /metrics count the alerts by status from the counts kept
    as their statuses change (schema 38), not by reading the index of their statuses, every
    alert ever sent (100,000 alerts sent: 23 ms a scrape). The counts are a COUNT(*)'s,
    through sends, failures, a resend and an alert deleted (by hand)."""

    def filled(store: Store, older: int) -> list[Callable[[], Any]]:
        with store.db.atomic():
            for n in range(older):
                insert_email(store.db, email(f"<sent{n}@nw>", ()))
            store.db.execute("UPDATE outbox SET status = 'sent', sent = created")
            late, refused, dropped, gone = (insert_email(store.db, email(f"<{name}@nw>", ()))
                                            for name in ("late", "refused", "dropped", "gone"))
        store.mark_retry(late, "421 try later", NOW)
        store.mark_failed(refused, "550 no such user")
        store.mark_failed(dropped, "not sent: its reader no longer watches its topics")
        store.mark_failed(gone, "550 no such user")
        assert store.outbox_counts() == {"pending": 1, "sent": older, "failed": 2, "dropped": 1}
        assert store.requeue_failed(NOW - timedelta(days=1), NOW).queued == 2
        store.mark_sent(refused, NOW)
        store.db.execute("DELETE FROM outbox WHERE id = ?", [gone])
        expected = {"pending": 1, "sent": older + 1, "failed": 0, "dropped": 1}
        assert store.outbox_counts() == expected
        assert {status: int(n) for status, n in store.db.execute(
            "SELECT status, COUNT(*) FROM outbox GROUP BY status")} == {
            "pending": 1, "sent": older + 1, "failed": 1}
        if backend == "sqlite":
            store.db.execute("ANALYZE")
        return [store.outbox_counts]

    steps_do_not_grow(store, backend, tmp_path, filled)
    store.checkpoint()  # PostgreSQL folds the counts of each status into one row
    assert store.outbox_counts() == {"pending": 1, "sent": 101, "failed": 0, "dropped": 1}
    assert sorted(row[0] for row in store.db.execute("SELECT status FROM outbox_counts")) == [
        "failed", "pending", "sent"]


def test_the_topic_counts_do_not_grow_with_the_matches(store, backend, tmp_path: Path) -> None:
    """`status` and `topics list` take each topic's matches, alerted matches and last match
    from the counts kept as matches are recorded (schema 41), not by reading every match
    ever made (1,000,000 matches: 0.7 s). A topic renamed keeps its counts, one removed and
    added again gets them back; the counts are a COUNT(*)'s, through a match deleted and one
    moved to another topic (by hand: newswatch does neither)."""

    def counts(store: Store) -> dict[str, tuple[int, int, datetime | None]]:
        return {t.name: (t.matches, t.alerted, t.last_match) for t in store.topic_status()}

    def counted(store: Store) -> dict[str, tuple[int, int, datetime | None]]:
        """What reading every match says."""
        rows = store.db.execute(
            "SELECT t.name, COUNT(m.article_id), COALESCE(SUM(m.alert), 0), MAX(m.matched)"
            " FROM topics t LEFT JOIN matches m ON m.topic_id = t.id"
            " WHERE t.active = 1 GROUP BY t.id, t.name")
        return {str(name): (int(n), int(alerted), from_iso(last))
                for name, n, alerted, last in rows}

    def specs(store: Store, **renamed: str) -> list[TopicSpec]:
        return [TopicSpec(renamed.get(t.name, t.name), t.query, t.compiled, t.notify)
                for t in store.topics()]

    def filled(store: Store, older: int) -> list[Callable[[], Any]]:
        source_id = add_source(store)
        old, quiet = topic(store, "old", "title"), topic(store, "quiet", "body")
        ids = [store.add_article(replace(article(source_id, f"old{n}"),
                                         fetched=NOW - timedelta(days=200 - n / older * 100)))
               for n in range(older)]
        store.record_matches([Match(i, old.id, ("title",), alert=n % 2 == 0)
                              for n, i in enumerate(ids) if i], [], None,
                             NOW - timedelta(days=100))
        new = [store.add_article(article(source_id, f"new{n}")) for n in range(2)]
        store.record_matches([Match(new[0], old.id, ("title",), alert=True),
                              Match(new[1], quiet.id, ("body",), alert=False)], [], None, NOW)
        assert counts(store) == counted(store) == {
            "old": (older + 1, older // 2 + 1, NOW), "quiet": (1, 0, NOW)}
        if backend == "sqlite":
            store.db.execute("ANALYZE")
        return [store.topic_status]

    steps_do_not_grow(store, backend, tmp_path, filled)
    store.sync_topics(specs(store, old="renamed"))  # the same query under another name
    assert counts(store) == counted(store) == {"renamed": (101, 51, NOW), "quiet": (1, 0, NOW)}
    quiet = [spec for spec in specs(store) if spec.name == "quiet"]
    store.sync_topics([spec for spec in specs(store) if spec.name != "quiet"])
    assert counts(store) == counted(store) == {"renamed": (101, 51, NOW)}
    store.sync_topics([*specs(store), *quiet])
    assert counts(store) == counted(store) == {"renamed": (101, 51, NOW), "quiet": (1, 0, NOW)}
    with store.db.atomic():
        store.db.execute("DELETE FROM matches WHERE article_id ="
                         " (SELECT id FROM articles WHERE url LIKE '%/old0')")
        store.db.execute("UPDATE matches SET topic_id = (SELECT id FROM topics WHERE name ="
                         " 'quiet') WHERE article_id = (SELECT id FROM articles"
                         " WHERE url LIKE '%/old2')")
    assert counts(store) == counted(store) == {"renamed": (99, 49, NOW), "quiet": (2, 1, NOW)}
    store.checkpoint()  # PostgreSQL folds the counts of each topic into one row
    assert counts(store) == counted(store)
    assert len(store.db.execute("SELECT topic_id FROM match_counts").fetchall()) == 2


def test_the_alerts_not_sent_on_purpose_are_counted_by_the_index_of_statuses(
    store, backend
) -> None:
    """The alerts not sent on purpose ("dropped") are counted among the failed ones by the
    index of statuses, even where no alert ever failed: the planner's statistics then had
    every alert sent, and it read them all, bodies included, at each scrape of /metrics
    (100,000 alerts sent: 11 ms)."""
    with store.db.atomic():  # 1,000: below, the planner read the index
        for n in range(1000):
            insert_email(store.db, email(f"<sent{n}@nw>", ()))
        store.db.execute("UPDATE outbox SET status = 'sent', sent = created")
    if backend == "sqlite":
        store.db.execute("ANALYZE")
        found, plans = sqlite_plans(store, store.outbox_counts, table="outbox")
        assert plans and not [p for p in plans
                              if re.search(r"SCAN outbox\b", p) and "COVERING" not in p]
    else:
        found = store.outbox_counts()
    assert found == {"pending": 0, "sent": 1000, "failed": 0}


def test_the_alert_counts_and_problems_do_not_read_the_alerts_sent(store, backend) -> None:
    """`status` and /metrics count the alerts by the index of their statuses, and list the
    problems among the pending and failed ones alone: they read every alert ever sent,
    its bodies included (each scrape of /metrics; a year of alerts)."""
    with store.db.atomic():
        for n in range(50):
            insert_email(store.db, email(f"<sent{n}@nw>", ()))
        store.db.execute("UPDATE outbox SET status = 'sent', sent = created")
        late = insert_email(store.db, email("<late@nw>", ()))
        refused = insert_email(store.db, email("<refused@nw>", ()))
        dropped = insert_email(store.db, email("<dropped@nw>", ()))
    store.mark_retry(late, "421 try later", NOW)
    store.mark_failed(refused, "550 no such user")
    store.mark_failed(dropped, "not sent: its reader no longer watches its topics")

    def read() -> tuple[dict[str, int], list[int]]:
        return store.outbox_counts(), [p.id for p in store.outbox_problems()]

    if backend == "sqlite":
        store.db.execute("ANALYZE")
        found, plans = sqlite_plans(store, read, table="outbox")
        # (Not the alerts' counts, outbox_counts: a row a status.)
        assert plans and not [p for p in plans
                              if re.search(r"SCAN outbox\b", p) and "COVERING" not in p]
    else:
        found = read()
    assert found == ({"pending": 1, "sent": 50, "failed": 1, "dropped": 1},
                     [dropped, refused, late])


def test_the_alert_problems_listed_are_the_latest(store) -> None:
    """`status` lists 10 alert problems: the 10 oldest, and alerts failed for good stay in
    the outbox. A reader's address mistyped for a few weeks (550, one alert a story) filled
    the list for good: the mail server down today, its alerts pending with "Connection
    refused", was never listed. The latest come first."""
    with store.db.atomic():
        refused = [insert_email(store.db, email(f"<refused{n}@nw>", ())) for n in range(12)]
        late = insert_email(store.db, email("<late@nw>", ()))
    for n in refused:
        store.mark_failed(n, "550 no such user")
    store.mark_retry(late, "SMTP smtp.example.org:587 unreachable: Connection refused", NOW)
    assert [p.id for p in store.outbox_problems()] == [late, *reversed(refused[-9:])]


@pytest.mark.parametrize("code", ["ENOENT", "ESTALE", "EIO", "EACCES"])
def test_a_database_file_is_removed_only_when_nothing_is_at_its_path(
    db_path: Path, monkeypatch, code: str
) -> None:
    """A removed file stops the daemon for good (exit 2, not restarted: it would start on an
    empty database); a path that cannot be looked at (a stale NFS handle, an I/O error, a
    permission) was taken for one, and the daemon stayed down where a restart could find
    its file (a review)."""
    import errno
    import os

    import storage.store

    real = os.stat

    def failing(path, *args, **kwargs):
        if str(path) == str(db_path):
            number = getattr(errno, code)
            raise (FileNotFoundError if code == "ENOENT" else OSError)(
                number, os.strerror(number), str(path))
        return real(path, *args, **kwargs)

    with Store.open(db_path) as store:
        assert not store.removed
        monkeypatch.setattr(storage.store.os, "stat", failing)
        assert store.lost and store.removed == (code == "ENOENT")


def test_the_archive_index_gives_back_what_a_prune_took(db_path: Path) -> None:
    """A prune deletes its articles' words from the index by adding delete marks: the index
    grew by a quarter over a prune of 190,000 articles (a review). The hourly checkpoint
    merges it."""
    import random

    rnd = random.Random(1)
    with Store.open(db_path) as store:
        source_id = add_source(store)
        store.add_articles([replace(article(source_id, f"p{n}", text=" ".join(
            f"w{rnd.randrange(5000)}" for _ in range(300))), fetched=NOW - timedelta(days=400))
            for n in range(300)])

        def index() -> int:
            return store.db.execute("SELECT sum(length(block)) FROM articles_fts_data").fetchone()[0]

        full = index()
        assert store.prune(NOW) == 300 and index() > full  # the delete marks
        store.checkpoint()
        assert index() < full / 10
        store.db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")


def test_a_database_another_newswatch_runs_on_is_not_upgraded_under_it(
    db_path: Path, monkeypatch
) -> None:
    """An upgraded package's `newswatch status`, run before the daemon was restarted,
    migrated the schema under the older daemon, which went on indexing its own way: `search`
    missed its articles, the index damaged (a review of an upgrade). Refused, said; the
    daemon that holds the lock upgrades it; nobody holding it, any command does."""
    import fcntl
    import os

    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS[:29])
    Store.open(db_path).close()
    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS)
    lock = db_path.with_name(db_path.name + ".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, b"4242")  # another process's, as far as the store can tell
        with pytest.raises(StorageError) as refused:
            Store.open(db_path)
        assert str(refused.value) == (
            f"cannot open database {db_path}: it needs an upgrade (schema 29 to "
            f"{len(MIGRATIONS)}), and another newswatch (pid 4242) runs on it: restart that "
            "daemon with this version (it upgrades the database), then run this again")
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)  # this process's lock: the daemon's
        Store.open(db_path).close()
    finally:
        os.close(fd)
    with Store.open(db_path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_the_latest_poll_is_an_active_sources(store: Store) -> None:
    """An inactive source polled once while the clock was a year ahead made every later
    start of the daemon take the clock for set back, and poll everything at once."""
    active, gone = (s.id for s in store.sync_sources(
        [SourceSpec("https://a.example/feed", 600), SourceSpec("https://b.example/feed", 600)], NOW))
    store.record_fetch(active, FetchOutcome(ok=True, status=200), NOW)
    store.record_fetch(gone, FetchOutcome(ok=True, status=200), NOW + timedelta(days=365))
    store.db.execute("UPDATE sources SET active = 0 WHERE id = ?", [gone])
    assert store.latest_poll() == NOW


def test_a_damaged_file_is_a_lost_database(db_path: Path) -> None:
    """A backup copied (cp) over the file of a running daemon: same file, other pages. Its
    queries failed with "database disk image is malformed" at every tick, and it ran on; the
    store now counts as lost (the daemon stops, exit 1, and says so)."""
    with Store.open(db_path) as store:
        source_id = add_source(store)
        store.add_articles([article(source_id, f"a{n}", text="Some body text. " * 150)
                            for n in range(200)])
    size = db_path.stat().st_size
    with db_path.open("r+b") as damaged:  # the schema's pages stay, the articles' do not
        # Whole pages (SQLite's 4096 bytes), their headers too: an article's row fits in
        # one, so no page is the last of a row spilt over several, whose garbage SQLite
        # reads as the row's end (undecodable text, a date that is none) where another
        # error tells it malformed (which page is damaged depends on those the schema takes).
        damaged.seek(size // 2 // 4096 * 4096)
        damaged.write(b"\xab" * (size // 3))
    with Store.open(db_path) as store:
        assert not store.lost
        with pytest.raises(StorageError, match="malformed"):
            for article_id in range(1, 201):
                store.article(article_id)
        assert store.lost


def test_reopening_is_idempotent_and_keeps_data(backend: str, location: str | Path) -> None:
    from storage import pgschema

    version = "SELECT version FROM schema_version" if backend == "postgresql" else (
        "PRAGMA user_version")
    assert len(pgschema.MIGRATIONS) == len(MIGRATIONS)  # the same versions on both backends
    with open_store(location) as s:
        source_id = add_source(s)
        assert s.add_article(article(source_id, "one")) is not None
    for _ in range(2):
        with open_store(location) as s:
            assert s.article_count() == 1
            assert [src.url for src in s.sources()] == ["https://news.example/feed"]
            assert s.db.execute(version).fetchone()[0] == len(MIGRATIONS)


def test_missing_migrations_are_applied_on_open(db_path: Path, monkeypatch) -> None:
    Store.open(db_path).close()
    extra = "CREATE TABLE extra (x INTEGER);\nINSERT INTO extra VALUES (42);\n"
    monkeypatch.setattr(storage.db, "MIGRATIONS", (*MIGRATIONS, extra))
    with Store.open(db_path) as s:
        assert s.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) + 1
        assert s.db.execute("SELECT x FROM extra").fetchall() == [(42,)]


def test_a_failing_migration_is_rolled_back_whole(db_path: Path, monkeypatch) -> None:
    Store.open(db_path).close()
    broken = "CREATE TABLE extra (x INTEGER);\nINSERT INTO extra VALUES (1);\nCREATE TABLE bad (;\n"
    monkeypatch.setattr(storage.db, "MIGRATIONS", (*MIGRATIONS, broken))
    with pytest.raises(StorageError, match="cannot open database"):
        Store.open(db_path)
    with raw(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'extra'").fetchall() == []


def test_newer_schema_is_refused(db_path: Path) -> None:
    Store.open(db_path).close()
    with raw(db_path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
        conn.commit()
    with pytest.raises(NewerSchema, match="newer"):
        Store.open(db_path)
    with raw(db_path) as conn:  # left untouched
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) + 1


def test_a_file_that_is_not_a_database_is_a_storage_error(db_path: Path) -> None:
    db_path.write_bytes(b"definitely not SQLite\n" * 200)
    with pytest.raises(StorageError, match="not a database"):
        Store.open(db_path)


def test_a_directory_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        Store.open(tmp_path)


@pytest.mark.sqlite_only
def test_a_transaction_that_reads_first_still_writes_beside_another_process(
    db_path: Path,
) -> None:
    """Another process (the daemon, a `sources add`) wrote between a transaction's first
    read and its first write: SQLite refused the write at once, "database is locked",
    whatever busy_timeout. Transactions now take the write lock as they begin: the other
    process waits for it instead (busy_timeout), and both writes are made."""
    with Store.open(db_path) as store:
        other = sqlite3.connect(db_path, isolation_level=None, timeout=0.1)
        with store.db.atomic():
            store.db.execute("SELECT COUNT(*) FROM sources").fetchone()
            with pytest.raises(sqlite3.OperationalError, match="locked"):  # it would wait
                other.execute("INSERT INTO sources (url, every_seconds, active, created, origin)"
                              " VALUES ('https://b.example/f', 60, 1, '2026-11-16', 'cli')")
            store.sync_sources([SourceSpec("https://a.example/f", 60)], NOW)  # a savepoint
        other.execute("INSERT INTO sources (url, every_seconds, active, created, origin)"
                      " VALUES ('https://b.example/f', 60, 1, '2026-11-16', 'cli')")
        other.close()
        assert {s.url for s in store.sources()} == {"https://a.example/f", "https://b.example/f"}


@pytest.mark.sqlite_only
def test_a_write_lock_another_process_holds_is_waited_for_in_slices_and_said(
    db_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    """A sqlite3 shell in BEGIN IMMEDIATE: a statement waited the whole busy timeout in one
    piece, saying nothing (the daemon's event loop held meanwhile). It waits in slices,
    says once that another process holds the database, and when it is free again."""
    import threading

    monkeypatch.setattr(storage.db, "WAIT_SLICE_MS", 100)
    with Store.open(db_path) as store:
        holder = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        release = threading.Timer(1.0, holder.execute, ["ROLLBACK"])
        release.start()
        try:
            with caplog.at_level("INFO", logger="storage.db"):
                store.sync_sources([SourceSpec("https://a.example/f", 60)], NOW)
                store.sync_sources([SourceSpec("https://a.example/f", 60)], NOW)
        finally:
            release.join()
            holder.close()
        assert [s.url for s in store.sources()] == ["https://a.example/f"]
    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "storage.db"]
    assert [level for level, _ in said] == ["WARNING", "INFO"], said
    assert said[0][1].startswith(f"database {db_path}: another process holds its write lock")
    assert said[1][1].startswith(f"database {db_path}: free again, after 1 s")


@pytest.mark.sqlite_only
def test_a_process_stopping_does_not_wait_for_another_processs_write_lock(
    db_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    """SIGTERM to the daemon while a sqlite3 shell held the write lock: the stop waited for
    the lock (45 s: as long as the shell held it). Once the process is stopping, a
    statement that finds the lock held gives up (what it was to write waits for the next
    start), and the stop goes on."""
    import threading
    import time

    monkeypatch.setattr(storage.db, "WAIT_SLICE_MS", 100)
    monkeypatch.setattr(storage.db, "_stopping", threading.Event())
    monkeypatch.setattr(storage.errors, "_stop_said", threading.Event())
    with Store.open(db_path) as store:
        holder = sqlite3.connect(db_path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            threading.Timer(0.5, storage.db.stop_waiting).start()
            began = time.monotonic()
            with pytest.raises(StorageError, match="not waited for while stopping") as raised:
                store.sync_sources([SourceSpec("https://a.example/f", 60)], NOW)
            assert time.monotonic() - began < 5  # not the busy timeout's 30 s
            # Said as the stop it is, once at INFO, as a statement a PostgreSQL stop cancels:
            # its "database is locked" read as an error just before "stopped".
            with caplog.at_level(logging.DEBUG, logger="storage.errors"):
                assert said_stopping(raised.value, "sources synced")
            assert [r.levelname for r in caplog.records if r.name == "storage.errors"] == ["INFO"]
            assert store.sources() == []  # a read goes on
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        store.sync_sources([SourceSpec("https://a.example/f", 60)], NOW)  # nothing left open
        assert [s.url for s in store.sources()] == ["https://a.example/f"]


@pytest.mark.sqlite_only
def test_wal_mode_and_foreign_keys_are_on(db_path: Path, store: Store) -> None:
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    # WAL is persistent: another connection sees it too.
    with raw(db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# -- sources ----------------------------------------------------------------------------------


def test_sync_sources_adds_updates_and_deactivates(store: Store) -> None:
    a, b = "https://a.example/feed", "https://b.example/feed"
    first = store.sync_sources([SourceSpec(a, 600, "A news"), SourceSpec(b, 900)], NOW)
    assert [(s.url, s.name, s.every_seconds, s.active) for s in first] == [
        (a, "A news", 600, True), (b, None, 900, True),
    ]
    ids = {s.url: s.id for s in first}

    # b is dropped, a changes interval and keeps its name when none is configured.
    second = store.sync_sources([SourceSpec(a, 300)], NOW)
    assert [(s.url, s.name, s.every_seconds) for s in second] == [(a, "A news", 300)]
    every = {s.url: (s.active, s.id) for s in store.sources(active_only=False)}
    assert every == {a: (True, ids[a]), b: (False, ids[b])}
    assert store.due_sources(NOW) == second  # an inactive source is never due

    # b comes back with the same row (its history is kept) and a new name.
    third = store.sync_sources([SourceSpec(a, 300), SourceSpec(b, 900, "B news")], NOW)
    assert [(s.id, s.name, s.active) for s in third] == [(ids[a], "A news", True),
                                                         (ids[b], "B news", True)]


def test_the_articles_only_removed_sources_list_are_told_apart(store: Store) -> None:
    # What a source removed from the config file or by `sources remove` stored (its page in
    # flight as it was removed, its first poll not matched yet) alerts no one; what another
    # source still polled lists too, or a source deactivated as gone (410) stored, still do.
    urls = {name: f"https://{name}.example/feed" for name in ("kept", "config", "cli", "gone")}
    store.sync_sources([SourceSpec(urls[n], 600) for n in ("kept", "config", "gone")], NOW)
    store.add_source(SourceSpec(urls["cli"], 600), NOW)
    ids = {s.url: s.id for s in store.sources()}
    stored = {name: store.add_article(article(ids[url], name)) for name, url in urls.items()}
    relisted = store.add_article(article(ids[urls["cli"]], "relisted"))
    assert None not in stored.values() and relisted is not None
    store.note_listed([relisted], ids[urls["kept"]], NOW)
    every = [*stored.values(), relisted]
    assert store.of_removed_sources(every) == set()

    store.sync_sources([SourceSpec(urls[n], 600) for n in ("kept", "gone")], NOW)
    assert store.remove_source(urls["cli"])
    store.record_fetch(ids[urls["gone"]], FetchOutcome(ok=False, status=410, error="HTTP 410",
                                                       gone="HTTP 410"), NOW)
    assert [s.url for s in store.sources()] == [urls["kept"]]
    assert store.of_removed_sources(every) == {stored["config"], stored["cli"]}


def test_a_shorter_interval_counts_from_the_last_poll(store: Store) -> None:
    """Before, a source's next poll kept the time its old interval gave (an hour away when
    it was 1h and is now 2s, whether from the config file, a reload or `sources add`)."""
    a, b = "https://a.example/feed", "https://b.example/feed"
    ids = {s.url: s.id for s in store.sync_sources([SourceSpec(a, 3600), SourceSpec(b, 3600)],
                                                    NOW)}
    for url in (a, b):
        store.record_fetch(ids[url], FetchOutcome(ok=True, status=200,
                                                  next_due=NOW + timedelta(hours=1)), NOW)
    store.record_fetch(ids[b], FetchOutcome(ok=False, error="HTTP 503",
                                            next_due=NOW + timedelta(hours=2)), NOW)
    store.sync_sources([SourceSpec(a, 60), SourceSpec(b, 60)], NOW + timedelta(minutes=5))
    assert store.source(ids[a]).next_due == NOW + timedelta(seconds=60)
    assert store.source(ids[b]).next_due == NOW + timedelta(hours=2)  # its back-off stays
    store.sync_sources([SourceSpec(a, 7200), SourceSpec(b, 60)], NOW)  # longer: after it
    assert store.source(ids[a]).next_due == NOW + timedelta(seconds=60)


def test_due_sources_order_and_next_due(store: Store) -> None:
    urls = [f"https://s{i}.example/feed" for i in range(5)]
    sources = store.sync_sources([SourceSpec(u, 600) for u in urls], NOW)
    sid = [s.id for s in sources]
    due_at = {
        sid[0]: NOW - timedelta(minutes=1),   # a little overdue
        sid[1]: NOW + timedelta(minutes=5),   # not due yet
        sid[2]: NOW - timedelta(hours=2),     # most overdue
        sid[4]: NOW,                          # due exactly now
    }  # sid[3]: never polled
    for source_id, when in due_at.items():
        store.record_fetch(source_id, FetchOutcome(ok=True, status=200, next_due=when), NOW)
    assert store.source(sid[2]).next_due == NOW - timedelta(hours=2)
    assert store.source(sid[3]).next_due is None

    due = store.due_sources(NOW)
    assert [s.id for s in due] == [sid[3], sid[2], sid[0], sid[4]]
    later = store.due_sources(NOW + timedelta(minutes=5))
    assert [s.id for s in later] == [sid[3], sid[2], sid[0], sid[4], sid[1]]
    # A non-UTC "now" means the same instant.
    paris = NOW.astimezone(timezone(timedelta(hours=1)))
    assert [s.id for s in store.due_sources(paris)] == [s.id for s in due]


def test_record_fetch_success_keeps_validators_on_304(store: Store) -> None:
    source_id = add_source(store)
    store.record_fetch(
        source_id,
        FetchOutcome(ok=True, status=200, etag='"v1"', last_modified="Mon, 16 Nov 2026 08:00:00 GMT",
                     title="Example News", next_due=NOW + timedelta(minutes=10)),
        NOW,
    )
    s = store.source(source_id)
    assert (s.etag, s.last_modified, s.name) == ('"v1"', "Mon, 16 Nov 2026 08:00:00 GMT",
                                                 "Example News")

    later = NOW + timedelta(minutes=10)
    store.record_fetch(
        source_id,
        FetchOutcome(ok=True, status=304, not_modified=True, next_due=later + timedelta(minutes=10)),
        later,
    )
    s = store.source(source_id)
    assert s.etag == '"v1"'
    assert s.last_modified == "Mon, 16 Nov 2026 08:00:00 GMT"
    assert s.next_due == later + timedelta(minutes=10)
    row = store.source_status()[0]
    assert row.last_status == 304 and row.last_success == later

    # A 200 with new validators replaces them; one without validators clears them.
    store.record_fetch(source_id, FetchOutcome(ok=True, status=200, etag='"v2"'), later)
    assert (store.source(source_id).etag, store.source(source_id).last_modified) == ('"v2"', None)
    store.record_fetch(source_id, FetchOutcome(ok=True, status=200), later)
    assert store.source(source_id).etag is None


def test_record_fetch_feed_title_does_not_override_configured_name(store: Store) -> None:
    store.sync_sources([SourceSpec("https://a.example/feed", 600, "Configured")], NOW)
    source_id = store.sources()[0].id
    store.record_fetch(source_id, FetchOutcome(ok=True, status=200, title="Feed title"), NOW)
    assert store.source(source_id).name == "Configured"
    assert store.source(source_id).label == "Configured"


def test_a_source_named_after_its_feed_keeps_its_articles_searchable_by_the_name(
    store: Store,
) -> None:
    """name_source (the feed read, before its pages are stored) names a source without a
    name and renames what it stored under its URL; it leaves a name given alone."""
    source_id = add_source(store)
    before = store.add_article(article(source_id, "before", text="Maduro left."))
    store.name_source(source_id, "Northgate Herald")
    after = store.add_article(article(source_id, "after", text="Maduro spoke."))
    store.name_source(source_id, "Another title")
    assert store.source(source_id).name == "Northgate Herald"
    found = store.search(compile_query('source:"Northgate Herald" Maduro'))
    assert sorted(a.id for a in found) == sorted([before, after])
    store.record_fetch(source_id, FetchOutcome(ok=True, status=200, title="Third"), NOW)
    assert store.source(source_id).name == "Northgate Herald"


def test_an_upgrade_finds_the_articles_other_sources_list_under_their_names(
    location: str | Path, monkeypatch
) -> None:
    """The upgrade to schema 44 indexes the articles that other sources list (noted by an
    older version) under those sources' names, as the matching reads them."""
    import storage.pg

    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS[:43])
    monkeypatch.setattr(storage.pg, "MIGRATIONS", storage.pg.MIGRATIONS[:43])
    with open_store(location) as store:
        main = add_source(store)
        section = add_source(store, "https://news.example/politics.rss")
        store.name_source(section, "Herald Politics")
        story = store.add_article(article(main, "maduro", text="Maduro met the opposition."))
        store.add_article(article(main, "budget", text="Maduro presented the budget."))
        with store.db.atomic():  # as the version before noted it
            store.db.execute("INSERT INTO article_sources (article_id, source_id) VALUES (?, ?)",
                             [story, section])
    monkeypatch.undo()
    with open_store(location) as store:
        assert [a.id for a in store.search(compile_query("Maduro source:Politics"))] == [story]


def test_an_upgrade_takes_the_listings_of_a_story_waiting_to_be_matched_again_as_new(
    location: str | Path, monkeypatch
) -> None:
    """Migration 57 tells which listings of an article by other sources are new since its
    last verdict. Those noted by an older version are not, but for an article still waiting
    in the re-match queue as listed anew: which of its listings is new cannot be told, and
    all of them are, as the older version read them (no alert it was to send is lost)."""
    import storage.pg

    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS[:56])
    monkeypatch.setattr(storage.pg, "MIGRATIONS", storage.pg.MIGRATIONS[:56])
    with open_store(location) as store:
        main = add_source(store)
        section = add_source(store, "https://news.example/politics.rss")
        decided = store.add_article(article(main, "decided", text="Maduro met them."))
        waiting = store.add_article(article(main, "waiting", text="Maduro spoke."))
        assert decided is not None and waiting is not None
        with store.db.atomic():  # as the version before noted them, one matched since
            for listed in (decided, waiting):
                store.db.execute("INSERT INTO article_sources (article_id, source_id)"
                                 " VALUES (?, ?)", [listed, section])
            store.db.execute("INSERT INTO rematch (article_id, queued, relisted)"
                             " VALUES (?, ?, 1)", [waiting, NOW.isoformat()])
    monkeypatch.undo()
    with open_store(location) as store:
        read = store.with_listing_sources([store.article(decided), store.article(waiting)],
                                          anew=True)
        unnamed = ("https://news.example/politics.rss", "https://news.example/politics.rss")
        assert {a.id: a.new_from for a in read} == {decided: (), waiting: (unnamed,)}


def test_an_upgrade_says_it_upgrades_and_how_far_it_is(
    location: str | Path, monkeypatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The daemon migrates its database before anything else: a year's archive upgraded from
    schema 39 took 9 s (SQLite) to 42 s (PostgreSQL) with not a word in the log (the daemon
    looked hung). An upgrade says it begins, and each version as it is done; a new database
    says nothing."""
    import storage.pg

    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS[:39])
    monkeypatch.setattr(storage.pg, "MIGRATIONS", storage.pg.MIGRATIONS[:39])
    with caplog.at_level("INFO", logger="storage.upgrade"), open_store(location):
        pass  # a new database, as an older version made it
    assert [r for r in caplog.records if r.name == "storage.upgrade"] == []
    monkeypatch.undo()
    caplog.clear()
    with caplog.at_level("INFO", logger="storage.upgrade"), open_store(location):
        pass
    said = [re.sub(r"[\d.]+ s\b", "N s", r.getMessage().split(": ", 1)[1])
            for r in caplog.records if r.name == "storage.upgrade"]
    last = len(MIGRATIONS)
    assert said == [
        f"upgrading its schema from version 39 to {last} before starting (on a large archive "
        "this can take minutes; each version is kept as it is done)",
        *[f"schema version {n} of {last} done (N s)" for n in range(40, last)],
        f"schema version {last} of {last} done (N s): upgraded in N s",
    ]


def test_an_article_another_source_lists_is_searched_and_read_as_that_sources_too(
    store: Store,
) -> None:
    """A section feed lists a story its site's main feed stored: the story matched the
    section's topics (source: in the query, or the topic's sources), but `search` and
    `topics test` never showed it for them, and a digest dropped it as no longer matching
    (its article read back without the section)."""
    main = add_source(store)
    store.name_source(main, "Herald")
    section = add_source(store, "https://news.example/politics.rss")
    store.name_source(section, "Herald Politics")
    story = store.add_article(article(main, "maduro", text="Maduro met the opposition."))
    other = store.add_article(article(main, "budget", text="Maduro presented the budget."))
    assert story is not None and other is not None
    assert store.search(compile_query("Maduro source:Politics")) == []
    store.note_listed([story], section, NOW)
    listed = [("Herald Politics", "https://news.example/politics.rss")]
    [found] = store.search(compile_query("Maduro source:Politics"))
    assert (found.id, found.also_from) == (story, tuple(listed))
    by_id = {a.id: a.also_from for a in store.search(compile_query("Maduro"))}
    assert by_id == {story: tuple(listed), other: ()}
    assert store.article(story).also_from == tuple(listed)


def a_story_and_its_sections(store: Store) -> tuple[int, int, int]:
    """A story stored by a site's main feed, and the ids of two section feeds of the site
    (Herald Politics, Herald Americas) that list nothing yet."""
    main = add_source(store)
    politics = add_source(store, "https://news.example/politics.rss")
    americas = add_source(store, "https://news.example/americas.rss")
    store.name_source(politics, "Herald Politics")
    store.name_source(americas, "Herald Americas")
    story = store.add_article(article(main, "maduro", text="Maduro met the opposition."))
    assert story is not None
    return story, politics, americas


def read_pass(store: Store, relisted: bool) -> list[StoredArticle]:
    """The re-match queue's articles as a matching pass reads them (Pipeline._batches):
    ``relisted``, those another source lists now, else those edited in place."""
    return store.with_listing_sources(store.rematch_queue(relisted=relisted), anew=True)


def test_a_source_merged_into_another_has_what_it_stored_or_listed_listed_by_that_one(
    store: Store,
) -> None:
    """A page added from the command line merged into the source polling the feed it
    declares (remove_source ``into``): what the page stored or listed is listed by that
    source, seen already (not new, queued for nothing: that source's polls of them are no
    news) and found under its name, in the merge's transaction."""
    feed = add_source(store, "https://news.example/world.rss")
    store.name_source(feed, "Herald")
    page = store.add_source(SourceSpec("https://news.example/", 600), NOW).id
    politics = store.add_source(SourceSpec("https://news.example/politics.rss", 600), NOW).id
    stored = store.add_article(article(page, "stored", text="Maduro met them."))
    listed = store.add_article(article(politics, "listed", text="Maduro spoke."))
    assert stored is not None and listed is not None
    assert store.note_listed([listed], page, NOW) == 1
    assert store.remove_source("https://news.example/", into="https://news.example/world.rss")
    read = store.with_listing_sources([store.article(stored), store.article(listed)], anew=True)
    by_page = ("https://news.example/", "https://news.example/")
    by_feed = ("Herald", "https://news.example/world.rss")
    assert {a.id: (a.also_from, a.new_from) for a in read} == {
        stored: ((by_feed,), ()), listed: ((by_feed, by_page), (by_page,))}
    assert store.note_listed([stored, listed], feed, NOW) == 0
    assert {a.id for a in store.search(compile_query("Maduro source:Herald"))} == {stored, listed}


def test_a_source_merged_into_another_is_followed_until_polled_again_or_removed(
    store: Store,
) -> None:
    """A page merged into the source polling the feed it declares (remove_source ``into``)
    is said merged into it, for the topics limited to the page to follow that one; added
    again (the feed's source gone), or removed for good with ``sources remove``, it is no
    longer: a topic limited to it would take the feed's stories for the page's."""
    feed = add_source(store, "https://news.example/world.rss")
    store.name_source(feed, "Herald World")
    page = store.add_source(SourceSpec("https://news.example/", 600, name="Herald"), NOW)
    assert store.merged_sources() == []
    assert store.remove_source(page.url, into="https://news.example/world.rss")
    assert store.merged_sources() == [("Herald", page.url, "https://news.example/world.rss")]
    store.add_source(SourceSpec(page.url, 600, name="Herald"), NOW)
    assert store.merged_sources() == []
    assert store.remove_source(page.url, into="https://news.example/world.rss")
    assert store.remove_source(page.url)
    assert store.merged_sources() == []
    assert not store.remove_source(page.url)
    assert not store.find_source(page.url).active


def test_a_page_merged_already_is_not_merged_again(store: Store) -> None:
    """Two processes merging the same page (the daemon after a crawl, a command's sync of
    the config file; two crawler machines) read the sources before either merged it: the
    second finds it merged already, says nothing (no second "merged into" line) and leaves
    it merged into the first one's source, whichever source it names."""
    add_source(store, "https://news.example/world.rss")
    add_source(store, "https://news.example/world.xml")
    page = store.add_source(SourceSpec("https://news.example/", 600, name="Herald"), NOW)
    assert store.remove_source(page.url, into="https://news.example/world.rss")
    assert not store.remove_source(page.url, into="https://news.example/world.rss")
    assert not store.remove_source(page.url, into="https://news.example/world.xml")
    assert store.merged_sources() == [("Herald", page.url, "https://news.example/world.rss")]


def test_a_topic_limited_to_a_merged_source_follows_the_one_that_was_merged_in_turn(
    store: Store,
) -> None:
    """A page merged into the feed it declares, added from the command line before it; the
    feed moved since (a permanent redirect) to the config file's source, and merged into
    that one: a topic limited to the page, by its name or its URL written another way,
    follows both (the config file's brings the site's new stories); one limited to the
    feed's host, or to another source, is as it was."""
    add_source(store, "https://news.example/world.xml")
    feed = store.add_source(SourceSpec("https://news.example/world.rss", 600), NOW)
    page = store.add_source(SourceSpec("https://news.example/", 600, name="Herald"), NOW)
    assert store.remove_source(page.url, into=feed.url)
    assert store.remove_source(feed.url, into="https://news.example/world.xml")
    topics = [Topic(id=i, name=f"t{i}", query="Maduro", compiled=compile_query("Maduro"),
                    notify=("desk@news.example",), sources=sources)
              for i, sources in enumerate(
                  [(" herald",), ("HTTPS://NEWS.EXAMPLE",), ("news.example",), ("Oslo",), ()])]
    assert [t.sources for t in follow_merges(topics, store.merged_sources())] == [
        (" herald", feed.url, "https://news.example/world.xml"),
        ("HTTPS://NEWS.EXAMPLE", feed.url, "https://news.example/world.xml"),
        ("news.example",), ("Oslo",), ()]


def test_a_listing_is_new_until_the_verdict_on_it_is_recorded(store: Store) -> None:
    """Each listing of an article by another source is new (``new_from``) until the
    verdict of its re-match is recorded, in the same transaction as its matches and alerts:
    a crash before leaves it new (its alert is neither lost nor sent twice), and a third
    source listing the story later is the only new one (watchlist.verdict.listed_anew)."""
    story, politics, americas = a_story_and_its_sections(store)
    by_politics = ("Herald Politics", "https://news.example/politics.rss")
    by_americas = ("Herald Americas", "https://news.example/americas.rss")

    def queued() -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
        [waiting] = store.rematch_queue(relisted=True)
        [read] = store.with_listing_sources([waiting], anew=True)
        return read.also_from, read.new_from

    store.note_listed([story], politics, NOW)
    assert queued() == ((by_politics,), (by_politics,))
    assert queued() == ((by_politics,), (by_politics,))  # read again: no verdict yet
    store.record_matches([], [], watermark=None, now=NOW, rematched=read_pass(store, True))
    assert store.rematch_queue(relisted=True) == []
    assert store.with_listing_sources([store.article(story)], anew=True)[0].new_from == ()
    store.note_listed([story], americas, NOW)
    assert queued() == ((by_politics, by_americas), (by_americas,))


def test_a_listing_noted_while_a_verdict_is_decided_waits_for_the_next_one(
    store: Store,
) -> None:
    """A verdict clears only the listings it read: a source that lists the story while the
    verdict is decided (a crawler on another machine, the alerter between its read of the
    re-match queue and its record) is new at the next pass; the verdict took the story from
    the queue and the listing's flag with it, and that source's topics never heard of it."""
    story, politics, americas = a_story_and_its_sections(store)
    by_americas = ("Herald Americas", "https://news.example/americas.rss")

    store.note_listed([story], politics, NOW)
    read = read_pass(store, True)
    store.note_listed([story], americas, NOW)
    store.record_matches([], [], watermark=None, now=NOW, rematched=read)
    assert [(a.id, a.new_from) for a in read_pass(store, True)] == [(story, (by_americas,))]
    store.record_matches([], [], watermark=None, now=NOW, rematched=read_pass(store, True))
    assert read_pass(store, True) == read_pass(store, False) == []


def test_an_edit_or_a_listing_while_an_edit_is_decided_waits_for_the_next_pass(
    store: Store,
) -> None:
    """A verdict takes from the re-match queue only what it read: an article edited again
    while the verdict on its last edit is decided is matched again (its new text's alerts
    were lost), one listed by another source then is matched again as listed anew, and one
    edited while the verdict on a new listing is decided is matched again as edited."""
    main = add_source(store)
    world = add_source(store, "https://news.example/world.rss")
    story = store.add_article(article(main, "maduro", text="Maduro met the opposition."))
    assert story is not None

    def edit(n: int) -> None:
        version = replace(article(main, "maduro", text=f"Maduro met the opposition {n}."),
                          updated=NOW + timedelta(minutes=n))
        assert store.update_article(story, version, NOW + timedelta(minutes=n))

    def record(read: list[StoredArticle]) -> None:
        store.record_matches([], [], watermark=None, now=NOW, rematched=read)

    edit(1)
    read = read_pass(store, False)
    edit(2)
    record(read)
    assert [a.text for a in read_pass(store, False)] == ["Maduro met the opposition 2."]
    read = read_pass(store, False)
    store.note_listed([story], world, NOW)
    record(read)
    assert read_pass(store, False) == []
    world_rss = ("https://news.example/world.rss", "https://news.example/world.rss")
    assert [(a.id, a.new_from) for a in read_pass(store, True)] == [(story, (world_rss,))]
    read = read_pass(store, True)
    edit(3)
    record(read)
    assert read_pass(store, True) == []
    assert [a.text for a in read_pass(store, False)] == ["Maduro met the opposition 3."]
    record(read_pass(store, False))
    assert read_pass(store, True) == read_pass(store, False) == []


def test_a_source_renamed_keeps_its_articles_searchable_by_its_name(store: Store) -> None:
    """A source renamed in the config file (or with `sources add` again): its articles
    were searched under the old name, which matching no longer gives them, so `search` and
    `topics test` with source: found none of them under either name."""
    store.sync_sources([SourceSpec("https://news.example/feed", 600, "Northgate Daily")], NOW)
    source_id = store.sources()[0].id
    before = store.add_article(article(source_id, "before", text="Maduro left."))
    store.sync_sources([SourceSpec("https://news.example/feed", 600, "Northgate Herald")], NOW)
    after = store.add_article(article(source_id, "after", text="Maduro spoke."))
    found = store.search(compile_query("source:Herald Maduro"))
    assert sorted(a.id for a in found) == sorted([before, after])
    assert store.search(compile_query("source:Daily Maduro")) == []


def test_a_source_renamed_keeps_the_articles_it_lists_searchable_by_its_name(
    store: Store,
) -> None:
    """A section feed renamed in the config file: the stories it lists that the main feed
    stored were still indexed under its old name, while matching reads them under the new
    one (`search 'source:NewName …'` and `topics test --source` missed them). Only its
    listed articles are indexed again: the main feed's own name and the other listing
    sources' stay as they are."""
    main, politics, world = (
        SourceSpec("https://news.example/feed", 600, "Herald"),
        SourceSpec("https://news.example/politics.rss", 600, "Herald Politics"),
        SourceSpec("https://news.example/world.rss", 600, "Herald World"),
    )
    store.sync_sources([main, politics, world], NOW)
    ids = {s.url: s.id for s in store.sources()}
    story = store.add_article(article(ids[main.url], "maduro", text="Maduro met them."))
    other = store.add_article(article(ids[main.url], "budget", text="Maduro's budget."))
    assert story is not None and other is not None
    store.note_listed([story], ids[politics.url], NOW)
    store.note_listed([story, other], ids[world.url], NOW)
    renamed = replace(politics, name="Herald Government")
    store.sync_sources([main, renamed, world], NOW)
    [found] = store.search(compile_query('source:"Herald Government" Maduro'))
    assert found.also_from[0] == ("Herald Government", politics.url)
    assert store.search(compile_query("source:Politics Maduro")) == []
    by_world = store.search(compile_query('source:"Herald World" Maduro'))
    assert sorted(a.id for a in by_world) == sorted([story, other])
    assert len(store.search(compile_query("source:Herald Maduro"))) == 2
    [[text]] = store.db.execute("SELECT source FROM articles WHERE id = ?", [story]).fetchall()
    assert text == "Herald news.example Herald Government Herald World"
    # Renamed by a version before this one (the old name still indexed): found by the new.
    with store.db.atomic():
        store.db.execute("UPDATE sources SET name = 'Herald Affairs' WHERE id = ?",
                         [ids[politics.url]])
    store.sync_sources([main, replace(politics, name="Herald State"), world], NOW)
    assert [a.id for a in store.search(compile_query('source:"Herald State"'))] == [story]
    # Named after its feed (a listing source without a name) goes the same way.
    unnamed = add_source(store, "https://news.example/sport.rss")
    store.note_listed([other], unnamed, NOW)
    store.name_source(unnamed, "Herald Sport")
    assert [a.id for a in store.search(compile_query('source:"Herald Sport" Maduro'))] == [other]
    assert store.search(compile_query("source:sport.rss Maduro")) == []


def test_record_fetch_failure_counters(store: Store) -> None:
    source_id = add_source(store)
    store.record_fetch(source_id, FetchOutcome(ok=True, status=200, etag='"e"'), NOW)
    for n, (status, error) in enumerate([(500, "HTTP 500"), (None, "TimeoutError: timed out")], 1):
        retry_at = NOW + timedelta(minutes=20 * n)
        store.record_fetch(
            source_id, FetchOutcome(ok=False, status=status, error=error, next_due=retry_at), NOW
        )
        s = store.source(source_id)
        assert s.consecutive_failures == n
        assert s.next_due == retry_at
        assert s.etag == '"e"'  # a failure does not touch the validators
    row = store.source_status()[0]
    assert row.error_count == 2
    assert row.consecutive_failures == 2
    assert row.last_error == "TimeoutError: timed out"
    assert row.last_status is None
    assert row.last_success == NOW

    later = NOW + timedelta(hours=1)
    store.record_fetch(source_id, FetchOutcome(ok=True, status=200), later)
    row = store.source_status()[0]
    assert row.consecutive_failures == 0  # reset by a success
    assert row.error_count == 2  # the history is kept
    assert row.last_error is None
    assert row.last_success == later


# -- articles ---------------------------------------------------------------------------------


def test_add_article_dedupes_by_canonical_url(store: Store) -> None:
    a = add_source(store, "https://a.example/feed")
    b = add_source(store, "https://b.example/feed")
    first = store.add_article(article(a, "story", title="First copy"))
    assert isinstance(first, int)
    # The same article reached through another feed is not stored twice.
    assert store.add_article(article(b, "story", title="Second copy")) is None
    assert store.article_count() == 1
    stored = store.article(first)
    assert (stored.title, stored.source_id) == ("First copy", a)
    assert stored.published == NOW - timedelta(hours=1)
    assert stored.fetched == NOW
    second = store.add_article(article(a, "other"))
    assert second is not None and second > first
    assert [x.id for x in store.articles_after(0)] == [first, second]
    assert [x.id for x in store.articles_after(first)] == [second]
    with pytest.raises(KeyError):
        store.article(9999)


def test_known_urls_finds_by_url_and_entry_url(store: Store) -> None:
    source_id = add_source(store)
    entry = "https://news.example/r/123"  # e.g. a feed link that redirected to the article
    store.add_article(article(source_id, "story", entry_url=entry))
    wanted = ["https://news.example/articles/story", entry, "https://news.example/articles/new"]
    assert store.known_urls(wanted) == {"https://news.example/articles/story", entry}
    assert store.known_urls([entry]) == {entry}
    assert store.known_urls([]) == set()


def test_known_urls_handles_more_urls_than_one_query_chunk(store: Store) -> None:
    source_id = add_source(store)
    with store.db.atomic():
        for i in range(450):
            store.add_article(article(source_id, f"s{i}"))
    urls = [f"https://news.example/articles/s{i}" for i in range(0, 900, 2)]
    assert store.known_urls(urls) == {u for u in urls if int(u.rsplit("s", 1)[1]) < 450}


def deferred(source_id: int, slug: str, **fields) -> DeferredEntry:
    url = f"https://news.example/articles/{slug}"
    return DeferredEntry(url=url, source_id=source_id, link=f"{url}?utm_source=rss",
                         title=f"Title of {slug}", summary="The summary.",
                         published=NOW - timedelta(hours=1), author="Staff", **fields)


def test_a_deferred_entry_keeps_the_poll_before_the_one_that_first_listed_it(store) -> None:
    """Its source's poll before the one that listed it (schema 30): an article published
    after it is news however old; deferred again at a later poll, the first is kept."""
    source_id = add_source(store)
    first = deferred(source_id, "storm", since=NOW - timedelta(days=3))
    store.defer_entry(first, "page answered HTTP 503", NOW)
    store.defer_entry(replace(first, since=NOW - timedelta(minutes=15)), "HTTP 503", NOW)
    [kept] = store.deferred_entries(source_id)
    assert kept.since == NOW - timedelta(days=3)
    found = store.add_article(replace(article(source_id, "storm"), since=kept.since))
    assert store.article(found).since == NOW - timedelta(days=3)


def test_a_page_unavailable_then_postponed_keeps_its_error(store) -> None:
    """A page deferred for a 503, then left by a poll of more new pages than it takes
    (crawler.entries.postpone): its error was replaced, and status said it waited its turn;
    a postponed one that fails then says why."""
    from crawler.entries import POSTPONED

    source_id = add_source(store)
    entry = deferred(source_id, "storm")
    store.defer_entry(entry, "page answered HTTP 503", NOW)
    store.defer_entry(entry, POSTPONED, NOW, attempted=False)
    [row] = store.source_status()
    assert (row.waiting, row.postponed) == (1, 0)
    other = deferred(source_id, "flood")
    store.defer_entry(other, POSTPONED, NOW, attempted=False)
    assert store.source_status()[0].postponed == 1
    store.defer_entry(other, "page answered HTTP 502", NOW)
    assert (store.source_status()[0].waiting, store.source_status()[0].postponed) == (2, 0)


def test_an_entry_deferred_before_schema_30_is_news_since_its_first_listing(
    db_path: Path, monkeypatch
) -> None:
    """Pages down for days across the upgrade: their entries had no "since", and the catch
    up did not reach them (a review of an upgrade). Since the poll that first listed them."""
    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS[:29])
    with Store.open(db_path) as old:
        source_id = add_source(old)
        old.db.execute(
            "INSERT INTO deferred_entries (url, source_id, attempts, last_error, first_seen,"
            " link, title, summary, published, author, updated, guid, linked, baseline,"
            " content) VALUES (?, ?, 1, 'HTTP 503', ?, ?, 'T', 'S', ?, NULL, NULL, '', 0, 0, '')",
            ["https://news.example/a", source_id, (NOW - timedelta(days=3)).isoformat(),
             "https://news.example/a", (NOW - timedelta(days=3, minutes=20)).isoformat()])
    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS)
    with Store.open(db_path) as store:
        [entry] = store.deferred_entries(source_id)
        assert entry.since == NOW - timedelta(days=3)


def _deferred_before(location: str | Path, monkeypatch, schema: int) -> int:
    """A store of ``schema`` migrations holding an entry deferred as a version of then noted
    it (the columns it knew); its source's id."""
    import storage.pg
    from crawler.entries import POSTPONED

    with monkeypatch.context() as then:
        then.setattr(storage.db, "MIGRATIONS", MIGRATIONS[:schema])
        then.setattr(storage.pg, "MIGRATIONS", storage.pg.MIGRATIONS[:schema])
        with open_store(location) as old:
            source_id = add_source(old)
            with old.db.atomic():
                old.db.execute(
                    "INSERT INTO deferred_entries (url, source_id, attempts, last_error,"
                    " first_seen, link, title, summary) VALUES (?, ?, 0, ?, ?, ?, 'T', 'S')",
                    ["https://news.example/a", source_id, POSTPONED, NOW.isoformat(),
                     "https://news.example/a"])
    return source_id


def test_a_deferred_entry_keeps_why_its_page_is_not_read_from_schema_53(
    location: str | Path, monkeypatch
) -> None:
    """Why its page is not read, where its item is the article (a Misskey note's, told by
    its feed's generator, which the entry does not keep): kept since schema 53; an entry
    deferred before says none (crawler.entries judges it again from what it keeps)."""
    from crawler.entries import POSTPONED

    source_id = _deferred_before(location, monkeypatch, 52)
    with open_store(location) as store:
        assert [e.unread for e in store.deferred_entries(source_id)] == [""]
        note = replace(deferred(source_id, "note"), link="https://notes.example/notes/9zq4ab",
                       unread="a Misskey note's page is its app's notice")
        store.defer_entry(note, POSTPONED, NOW, attempted=False)
        assert {e.url: e for e in store.deferred_entries(source_id)}[note.url] == note


def test_a_deferred_entry_keeps_its_guids_address_from_schema_54(
    location: str | Path, monkeypatch
) -> None:
    """The address of its item by its guid (an article stored from it is aliased there, as
    one stored at once is): kept since schema 54; an entry deferred before has none."""
    from crawler.entries import POSTPONED

    source_id = _deferred_before(location, monkeypatch, 53)
    with open_store(location) as store:
        assert [e.guid_address for e in store.deferred_entries(source_id)] == [""]
        post = replace(deferred(source_id, "post"), guid="https://news.example/?p=7",
                       guid_address="https://news.example/#https://news.example/?p=7")
        store.defer_entry(post, POSTPONED, NOW, attempted=False)
        assert {e.url: e for e in store.deferred_entries(source_id)}[post.url] == post


def test_a_publishers_name_stored_with_markup_is_read_without_it_from_schema_55(
    location: str | Path, monkeypatch
) -> None:
    """A publisher's name kept with its <source>'s markup by the versions before (a CDATA
    "<strong>Reuters</strong>") is named without it from schema 55, in what the article
    shows, in the archive's index (``source:strong`` found it) and in a deferred entry. A
    name of markup alone names none (the source's own name shows); one whose "<" is no
    markup ("I <3 Cats") and one without are kept."""
    import storage.pg
    from crawler.entries import POSTPONED

    with monkeypatch.context() as then:
        then.setattr(storage.db, "MIGRATIONS", MIGRATIONS[:54])
        then.setattr(storage.pg, "MIGRATIONS", storage.pg.MIGRATIONS[:54])
        with open_store(location) as old:
            source_id = add_source(old)
            named = {publisher: old.add_article(replace(
                article(source_id, slug, f"Harbour {slug}"), publisher=publisher))
                for slug, publisher in (("a", "<strong>Reuters</strong>"), ("b", "<b></b>"),
                                        ("c", "I <3 Cats"), ("d", "AP News"))}
            old.defer_entry(deferred(source_id, "e", publisher="<span>Harbour</span> Herald"),
                            POSTPONED, NOW, attempted=False)
            assert [a.id for a in old.search(compile_query("source:strong"))] == [
                named["<strong>Reuters</strong>"]]
    with open_store(location) as store:
        shown = {publisher: store.article(article_id).source_name
                 for publisher, article_id in named.items() if article_id is not None}
        assert shown == {"<strong>Reuters</strong>": "Reuters",
                         "<b></b>": "https://news.example/feed", "I <3 Cats": "I <3 Cats",
                         "AP News": "AP News"}
        assert store.search(compile_query("source:strong")) == []
        assert [a.id for a in store.search(compile_query("source:Reuters"))] == [
            named["<strong>Reuters</strong>"]]
        assert [e.publisher for e in store.deferred_entries(source_id)] == ["Harbour Herald"]


def test_the_publishers_articles_name_are_listed_from_their_index(store, backend) -> None:
    """The publishers stored articles name, each once, not the sources' own names (a topic's
    sources may name one: `check` and `topics add` look it up): read from their index
    (schema 56), not through the archive's rows (`check` read a year's articles)."""
    source_id = add_source(store)
    for slug, publisher in (("a", "Reuters"), ("b", "Reuters"), ("c", "AP News"), ("d", None)):
        store.add_article(replace(article(source_id, slug, f"Harbour {slug}"),
                                  publisher=publisher))
    if backend == "sqlite":
        listed, plans = sqlite_plans(store, store.publishers)
        assert plans and all("COVERING INDEX articles_publisher" in plan for plan in plans), plans
    else:
        listed = store.publishers()
    assert sorted(listed) == ["AP News", "Reuters"]


def test_deferred_entries_keep_what_their_source_said(store: Store) -> None:
    a = add_source(store, "https://a.example/feed")
    b = add_source(store, "https://b.example/feed")
    first = deferred(a, "one", updated=NOW, guid="tag:one")
    assert store.defer_entry(first, "page answered HTTP 503", NOW) == 1
    linked = deferred(a, "two", linked=True, baseline=True)
    assert store.defer_entry(linked, "page answered HTTP 500", NOW + timedelta(1)) == 1
    assert store.deferred_entries(a) == [first, linked]
    assert store.deferred_entries(b) == []
    # Deferred again, by another source that lists it now: the row is that source's, with
    # what that source said of the entry.
    again = replace(first, source_id=b, title="A new title", updated=None)
    assert store.defer_entry(again, "page fetch failed", NOW + timedelta(2)) == 2
    # A page refused unsent (its host asked to wait) is not an attempt; it is still deferred.
    assert store.defer_entry(again, "its host asked to wait", NOW, attempted=False) == 2
    unsent = deferred(b, "three")
    assert store.defer_entry(unsent, "its host asked to wait", NOW, attempted=False) == 0
    assert store.defer_entry(unsent, "page answered HTTP 503", NOW) == 1
    store.add_article(article(b, "three"))
    assert store.deferred_entries(a) == [linked]
    assert store.deferred_entries(b) == [again]
    assert store.deferred_count() == 2
    # Stored at last: no longer deferred.
    store.add_article(article(b, "one"))
    assert store.deferred_entries(b) == []
    assert store.deferred_count() == 1


@pytest.mark.sqlite_only
def test_entries_deferred_before_migration_15_wait_to_be_listed(
    db_path: Path, monkeypatch
) -> None:
    """A row deferred before its entry was kept has no link: it is not requested unless its
    source lists the entry again (as before); deferred again, it gets the entry."""
    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS[:14])
    with Store.open(db_path) as old:
        source_id = add_source(old)
        old.db.execute(
            "INSERT INTO deferred_entries (url, source_id, attempts, last_error, first_seen)"
            " VALUES (?, ?, 1, 'page answered HTTP 503', ?)",
            ["https://news.example/articles/old", source_id, NOW.isoformat()],
        )
        old.db.conn.commit()
    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS)
    with Store.open(db_path) as new:
        assert new.deferred_count(source_id) == 1
        assert new.deferred_entries(source_id) == []
        entry = deferred(source_id, "old")
        assert new.defer_entry(entry, "page answered HTTP 503", NOW) == 2
        # News since it was first listed (migration 30: its first_seen).
        assert new.deferred_entries(source_id) == [replace(entry, since=NOW)]


@pytest.mark.sqlite_only
def test_the_archives_index_merges_its_segments_sixteen_at_a_time(store: Store) -> None:
    # Each poll's commit writes a segment of the index; merged four at a time (FTS5's
    # default) as a crawl stored them, they cost a seventh of a stored article's CPU.
    [(value,)] = store.db.execute(
        "SELECT v FROM articles_fts_config WHERE k = 'automerge'").fetchall()
    assert value == 16


@pytest.mark.sqlite_only
def test_fts_ignores_accents_and_stays_in_sync(store: Store) -> None:
    source_id = add_source(store)
    first = store.add_article(
        article(source_id, "maduro", title="Nicolás Maduro leaves Caracas",
                text="The president's plane took off before dawn.")
    )
    other = store.add_article(article(source_id, "rates", title="Central bank holds rates"))
    assert fts(store, "nicolas") == [first]
    assert fts(store, '"nicolas maduro"') == [first]
    assert fts(store, "NICOLÁS") == [first]
    assert fts(store, "dawn") == [first]
    assert fts(store, "bank") == [other]

    store.db.execute(
        "UPDATE articles SET title = ?, text = ? WHERE id = ?",
        ["Election monitors arrive", "Observers from Belarus landed on Friday.", first],
    )
    assert fts(store, "nicolas") == []
    assert fts(store, "dawn") == []
    assert fts(store, "belarus") == [first]
    assert fts(store, "monitors") == [first]

    store.db.execute("DELETE FROM articles WHERE id = ?", [first])
    assert fts(store, "belarus") == []
    assert fts(store, "bank") == [other]
    # The index agrees with its content table.
    store.db.execute("INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)")


# -- topics, matches, watermark ---------------------------------------------------------------


def test_sync_topics_and_record_matches(location: str | Path, store: Store) -> None:
    source_id = add_source(store)
    a1 = store.add_article(article(source_id, "one", title="Maduro in Minsk"))
    a2 = store.add_article(article(source_id, "two", title="Maduro and Belarus"))
    t = topic(store, "Maduro", "Maduro", ("desk@example.org", "ed@example.org"))
    assert t.notify == ("desk@example.org", "ed@example.org")
    assert store.watermark() == 0
    matches = [
        Match(a1, t.id, ("maduro",), alert=True, title_spans=((0, 6),)),
        Match(a2, t.id, ("maduro",), alert=False, title_spans=((0, 6),)),
    ]
    emails = [email("<m1@newswatch>", ((a1, t.id),)),
              email("<m2@newswatch>", ((a1, t.id),), recipient="ed@example.org")]
    store.record_matches(matches, emails, watermark=a2, now=NOW)

    with open_store(location) as other:  # committed, visible to another connection
        conn = other.db
        assert conn.execute("SELECT article_id, alert FROM matches ORDER BY article_id"
                            ).fetchall() == [(a1, 1), (a2, 0)]
        assert conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 2
        assert conn.execute("SELECT article_id, topic_id FROM outbox_items").fetchall() == [
            (a1, t.id), (a1, t.id)]
    assert store.watermark() == a2
    status = store.topic_status()
    assert [(s.name, s.matches, s.alerted) for s in status] == [("Maduro", 2, 1)]


def test_record_matches_is_atomic(location: str | Path, store: Store) -> None:
    source_id = add_source(store)
    a1 = store.add_article(article(source_id, "one", title="Maduro in Minsk"))
    a2 = store.add_article(article(source_id, "two", title="Maduro again"))
    t = topic(store, "Maduro", "Maduro")
    store.record_matches([Match(a1, t.id, ("maduro",), alert=True)],
                         [email("<first@newswatch>", ((a1, t.id),))], watermark=a1, now=NOW)

    good = email("<good@newswatch>", ((a2, t.id),))
    bad = email("<bad@newswatch>", ((a2, t.id), (424242, t.id)))  # no such article
    with pytest.raises((sqlite3.IntegrityError, StorageError)):
        store.record_matches([Match(a2, t.id, ("maduro",), alert=True)], [good, bad],
                             watermark=a2, now=NOW)

    with open_store(location) as other:
        for conn in (store.db.conn, other.db):
            assert conn.execute("SELECT article_id FROM matches").fetchall() == [(a1,)]
            assert conn.execute("SELECT message_id FROM outbox").fetchall() == [
                ("<first@newswatch>",)]
            assert conn.execute("SELECT COUNT(*) FROM outbox_items").fetchone()[0] == 1
    assert not store.db.conn.in_transaction
    assert store.watermark() == a1
    # The store is still usable: the same work succeeds once the bad email is gone.
    store.record_matches([Match(a2, t.id, ("maduro",), alert=True)], [good], watermark=a2, now=NOW)
    assert store.watermark() == a2
    assert store.outbox_counts()["pending"] == 2


def test_record_matches_ignores_a_repeated_match(store: Store) -> None:
    source_id = add_source(store)
    a1 = store.add_article(article(source_id, "one"))
    t = topic(store, "T", "title")
    m = Match(a1, t.id, ("title",), alert=True)
    store.record_matches([m], [], watermark=a1, now=NOW)
    store.record_matches([m], [], watermark=a1, now=NOW)
    assert store.db.execute("SELECT COUNT(*) FROM matches").fetchone()[0] == 1


def test_unmatched_articles_between_ids_but_those_of_sources_still_polled(store: Store) -> None:
    """A pass while a crawl runs reads the articles stored when it began (``through``: the
    last article's id then), after those it holds (``after``), but the polls under way."""
    assert store.last_article_id() == 0
    fast, slow = add_source(store), add_source(store, "https://news.example/slow")
    ids = [store.add_article(article(source_id, f"a{n}"))
           for n, source_id in enumerate([fast, slow, fast, fast, fast])]
    assert store.last_article_id() == ids[-1]
    unmatched = store.unmatched_articles(10, {slow}, after=ids[0], through=ids[3])
    assert [a.id for a in unmatched] == ids[2:4]
    assert [a.id for a in store.unmatched_articles(10, through=ids[1])] == ids[:2]


def test_export_rows_carry_topics(store: Store) -> None:
    source_id = add_source(store)
    store.db.execute("UPDATE sources SET name = 'Example News' WHERE id = ?", [source_id])
    a1 = store.add_article(article(source_id, "one", title="Maduro and Belarus"))
    a2 = store.add_article(article(source_id, "two", title="Nothing to see"))
    t_b = topic(store, "Zeta Belarus", "Belarus")
    t_m = topic(store, "Alpha Maduro", "Maduro")
    store.record_matches(
        [Match(a1, t_b.id, ("belarus",), alert=True), Match(a1, t_m.id, ("maduro",), alert=True)],
        [], watermark=a2, now=NOW,
    )
    rows = list(store.export_rows())
    assert [r.url for r in rows] == ["https://news.example/articles/one",
                                     "https://news.example/articles/two"]
    assert rows[0].topics == ("Alpha Maduro", "Zeta Belarus")
    assert rows[1].topics == ()
    assert rows[0].source == "Example News"
    assert rows[0].source_url == "https://news.example/feed"
    assert rows[0].extraction == "page" and rows[0].extraction_note is None
    assert rows[0].published == NOW - timedelta(hours=1)


# -- outbox -----------------------------------------------------------------------------------


def test_outbox_transitions(store: Store) -> None:
    source_id = add_source(store)
    a1 = store.add_article(article(source_id, "one"))
    t = topic(store, "T", "title")
    emails = [email(f"<{i}@newswatch>", ((a1, t.id),), created=NOW + timedelta(seconds=i))
              for i in range(3)]
    store.record_matches([Match(a1, t.id, ("title",), alert=True)], emails, a1, NOW)
    assert store.outbox_counts() == {"pending": 3, "sent": 0, "failed": 0}

    # Due from its creation time on, oldest first (on PostgreSQL, claimed by this store's
    # session: another sender would skip them, see tests/test_pgstore.py).
    assert store.due_outbox(NOW - timedelta(seconds=1)) == []
    assert [m.message_id for m in store.due_outbox(NOW)] == ["<0@newswatch>"]
    due = store.due_outbox(NOW + timedelta(seconds=5))
    assert [m.message_id for m in due] == ["<0@newswatch>", "<1@newswatch>", "<2@newswatch>"]
    assert [m.attempts for m in due] == [0, 0, 0]
    assert due[0].text == "plain" and due[0].html == "<p>html</p>"
    assert [m.message_id for m in store.due_outbox(NOW + timedelta(seconds=5), limit=2)] == [
        "<0@newswatch>", "<1@newswatch>"]
    first, second, third = due

    later = NOW + timedelta(minutes=1)
    store.mark_sent(first.id, later)
    store.mark_retry(second.id, "421 try again later", later + timedelta(minutes=5))
    store.mark_failed(third.id, "550 no such user")
    assert store.outbox_counts() == {"pending": 1, "sent": 1, "failed": 1}
    assert store.due_outbox(later) == []  # the retry is not due yet
    assert store.server_back(later) == 0  # the server refused it: its back-off holds
    retry = store.due_outbox(later + timedelta(minutes=5))
    assert [(m.id, m.attempts) for m in retry] == [(second.id, 1)]
    problems = {p.id: (p.status, p.last_error, p.attempts) for p in store.outbox_problems()}
    assert problems == {second.id: ("pending", "421 try again later", 1),
                        third.id: ("failed", "550 no such user", 1)}

    # A retry that then succeeds is sent, with its error cleared.
    store.mark_sent(second.id, later + timedelta(minutes=5))
    assert store.outbox_counts() == {"pending": 0, "sent": 2, "failed": 1}
    assert [p.id for p in store.outbox_problems()] == [third.id]
    assert store.due_outbox(later + timedelta(days=1)) == []
    row = store.db.execute("SELECT attempts, sent, last_error FROM outbox WHERE id = ?",
                           [second.id]).fetchone()
    assert row == (2, (later + timedelta(minutes=5)).isoformat(), None)

    # mark_retry never brings a sent message back.
    store.mark_retry(first.id, "late error", later)
    assert store.outbox_counts() == {"pending": 0, "sent": 2, "failed": 1}

    # The failed one, queued again (`resend`), when it was made since the time given.
    assert store.requeue_failed(NOW + timedelta(seconds=3), later).queued == 0
    assert store.requeue_failed(NOW, later).queued == 1
    assert [(m.id, m.attempts) for m in store.due_outbox(later)] == [(third.id, 0)]
    assert store.outbox_counts() == {"pending": 1, "sent": 2, "failed": 0}


def test_messages_that_found_the_server_down_are_due_once_it_is_back(store: Store) -> None:
    source_id = add_source(store)
    a1 = store.add_article(article(source_id, "one"))
    t = topic(store, "T", "title")
    emails = [Email(f"<{i}@newswatch>", f"r{i}@example.org", "S", "plain", "<p>html</p>", NOW,
                    items=((a1, t.id),)) for i in range(2)]
    store.record_matches([Match(a1, t.id, ("title",), alert=True)], emails, a1, NOW)
    down, refused = store.due_outbox(NOW)
    store.mark_retry(down.id, "SMTP unreachable", NOW + timedelta(hours=1), server_down=True)
    store.mark_retry(refused.id, "452 mailbox full", NOW + timedelta(hours=1))
    assert store.due_outbox(NOW + timedelta(minutes=1)) == []
    assert store.server_back(NOW + timedelta(minutes=1)) == 1
    assert [m.id for m in store.due_outbox(NOW + timedelta(minutes=1))] == [down.id]
    assert store.server_back(NOW + timedelta(minutes=2)) == 0  # once


def test_changed_mail_settings_make_the_emails_waiting_for_a_retry_due(store: Store) -> None:
    """The mail settings mended (newswatch.app.retry_under_new_mail_settings): the emails
    waiting for a retry are due now; not those not tried yet, nor those to a notification
    service, nor any sent; and a retry due already stays as it is."""
    source_id = add_source(store)
    a1 = store.add_article(article(source_id, "one"))
    t = topic(store, "T", "title")
    recipients = ["wait@example.org", "soon@example.org", "sent@example.org",
                  "json://127.0.0.1/hook", "new@example.org"]
    emails = [Email(f"<{i}@newswatch>", r, "S", "plain", "<p>html</p>", NOW,
                    items=((a1, t.id),)) for i, r in enumerate(recipients[:4])]
    emails.append(Email("<4@newswatch>", recipients[4], "S", "plain", "<p>html</p>",
                        NOW + timedelta(hours=2), items=((a1, t.id),)))
    store.record_matches([Match(a1, t.id, ("title",), alert=True)], emails, a1, NOW)
    waiting, soon, sent, channel = store.due_outbox(NOW)
    store.mark_retry(waiting.id, "SMTP unreachable", NOW + timedelta(hours=1))
    store.mark_retry(soon.id, "SMTP unreachable", NOW + timedelta(seconds=30))
    store.mark_sent(sent.id, NOW)
    store.mark_retry(channel.id, "HTTP 500", NOW + timedelta(hours=1))
    assert store.mail_settings() is None
    assert store.keep_mail_settings("first") == 0  # kept; nothing moves
    assert store.mail_settings() == "first"
    later = NOW + timedelta(minutes=1)
    assert [m.id for m in store.due_outbox(later)] == [soon.id]
    assert store.keep_mail_settings("mended", later) == 1
    assert store.mail_settings() == "mended"
    assert [m.id for m in store.due_outbox(later)] == [waiting.id, soon.id]
    assert store.outbox_counts()["sent"] == 1


def test_duplicate_message_id_is_refused(store: Store) -> None:
    source_id = add_source(store)
    a1 = store.add_article(article(source_id, "one"))
    t = topic(store, "T", "title")
    store.record_matches([], [email("<same@newswatch>", ((a1, t.id),))], a1, NOW)
    with pytest.raises((sqlite3.IntegrityError, StorageError)):
        store.record_matches([], [email("<same@newswatch>", ((a1, t.id),))], a1, NOW)
    assert store.outbox_counts()["pending"] == 1


# -- percolation ------------------------------------------------------------------------------


def test_percolate_runs_many_queries_over_a_batch() -> None:
    docs = [
        (1, "Nicolás Maduro leaves Caracas", "The plane landed in Minsk, Belarus."),
        (2, "Central bank holds rates", "The ECB kept rates unchanged; crypto markets fell."),
        (3, "Maduro speaks", "He spoke about oil and Trump."),
        (4, "COVID-19 cases fall", "Hospitals report fewer cases."),
        (5, "Madurology conference", "Nothing about the president."),
    ]
    queries = {
        10: compile_query('"Nicolas Maduro"'),
        11: compile_query("Maduro AND (Belarus OR Minsk)"),
        12: compile_query("Maduro NOT Trump"),
        13: compile_query("Maduro"),
        14: compile_query('("central bank" OR ECB) AND rates NOT crypto'),
        15: compile_query("covid-19"),
        16: compile_query("Guaidó"),
        17: compile_query("ecb OR covid-19"),
    }
    hits = percolate(docs, queries)
    assert hits == {10: [1], 11: [1], 12: [1], 13: [1, 3], 15: [4], 17: [2, 4]}


def test_percolate_with_no_queries_or_no_docs() -> None:
    assert percolate([(1, "a", "b")], {}) == {}
    assert percolate([], {1: '"maduro"'}) == {}


def test_percolate_reports_an_expression_fts5_rejects() -> None:
    with pytest.raises(StorageError, match="query 7"):
        percolate([(1, "a", "b")], {7: '"unbalanced'})


def test_link_shapes_are_counted_per_site_and_survive_a_restart(location: str | Path) -> None:
    from storage.linkshapes import DROP_AFTER, FORGET_AFTER, LINK_SHAPES_MIGRATION

    assert LINK_SHAPES_MIGRATION in MIGRATIONS
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    with open_store(location) as s:
        for _ in range(DROP_AFTER):
            s.note_link_shape("news.test", "/gallery/*", article=False, now=now)
        s.note_link_shape("news.test", "/articles/*", article=True, now=now)
        s.note_link_shape("news.test", "/articles/*", article=False, now=now + timedelta(1))
        s.note_link_shape("other.test", "/gallery/*", article=True, now=now)
    with open_store(location) as s:  # a restart
        tally = s.link_shapes("news.test", now)
        assert tally == {"/gallery/*": (0, DROP_AFTER), "/articles/*": (1, 1)}
        assert s.link_shapes("other.test", now) == {"/gallery/*": (1, 0)}
        assert s.link_shapes("nowhere.test", now) == {}
        # A shape that never led to an article is tried again after a while.
        later = now + FORGET_AFTER + timedelta(days=1)
        assert s.link_shapes("news.test", later) == {"/articles/*": (1, 1)}
        shapes = s.learned_link_shapes("news.test")
        assert [(x.shape, x.dropped) for x in shapes] == [("/gallery/*", True),
                                                          ("/articles/*", False)]
        assert shapes[1].last_seen == now + timedelta(1)
        assert len(s.learned_link_shapes()) == 3


def test_the_archive_search_between_two_dates(store) -> None:
    from dataclasses import replace

    from watchlist import compile_query

    source_id = add_source(store)
    ids = [store.add_article(replace(article(source_id, f"d{n}", title=f"Budget day {n}"),
                                     published=NOW - timedelta(days=n))) for n in range(4)]
    found = store.search(compile_query("budget"), since=NOW - timedelta(days=2, hours=1),
                         until=NOW - timedelta(hours=12))
    assert [a.id for a in found] == [ids[1], ids[2]]
    assert [a.id for a in store.search(compile_query("budget"), until=NOW - timedelta(days=2))
            ] == [ids[3]]


def filled_archive(store: Store) -> tuple[list[int], dict[int, datetime]]:
    """40 articles about the budget, three of them about a strike: two published at the
    same minute, some undated (by their fetch time, between the others); their dates."""
    source_id = add_source(store)
    ids, dates = [], {}
    for n in range(40):
        published = None if n % 7 == 3 else NOW - timedelta(hours=n // 2 * 3)
        fetched = NOW - timedelta(hours=n * 1.5 + 0.5)
        text = "Budget talks." + (" The strike goes on." if n in (4, 5, 30) else "")
        ids.append(store.add_article(replace(article(source_id, f"b{n}", title=f"Day {n}",
                                                     text=text),
                                             published=published, fetched=fetched)))
        dates[ids[-1]] = published or fetched
    return ids, dates


@pytest.mark.parametrize("probe_per_hit", [500, 1, 10**6])
def test_the_archive_search_gives_the_same_order_whichever_way_it_reads(
    store, monkeypatch, probe_per_hit: int
) -> None:
    """Newest first by publication date (fetch date when undated), then by id, between
    the two dates, page after page: a rare word's hits sorted, a common word's found along
    the date index, with a list of its hits or looking each article up (schema 35)."""
    import storage.articles

    monkeypatch.setattr(storage.articles, "PROBE_PER_HIT", probe_per_hit)
    ids, dates = filled_archive(store)
    since, until = NOW - timedelta(days=2), NOW - timedelta(hours=7)
    for word, hits in (("budget", ids), ("strike", [ids[4], ids[5], ids[30]])):
        newest = sorted(hits, key=lambda i: (dates[i], i), reverse=True)
        between = [i for i in newest if since <= dates[i] < until]
        for offset in (0, 1, 5, 38):
            assert [a.id for a in store.search(word, limit=3, offset=offset)
                    ] == newest[offset:offset + 3]
            assert [a.id for a in store.search(word, since, 3, offset, until)
                    ] == between[offset:offset + 3]


def test_the_archive_search_walks_a_common_words_hits_by_date(store, backend) -> None:
    """A common word's newest hits are found along the index of the articles' dates (schema
    35), its rare hits by the FTS5 index alone: every hit's row was read, text included,
    and all of them sorted for the first 200 (400,000 articles: 2.3 to 5 s for a common
    word, `--since 2d` or not; a year's archive, over a minute)."""
    filled_archive(store)
    if backend != "sqlite":
        return
    store.db.execute("ANALYZE")
    since = NOW - timedelta(hours=10)
    for word, args, walk in (("budget", (None, 5), "SCAN a USING INDEX articles_when"),
                             ("budget", (since, 5), "SEARCH a USING INDEX articles_when"),
                             ("strike", (None, 5), None)):
        found, plans = sqlite_plans(store, partial(store.search, word, *args))
        assert found
        read = [p for p in plans if " a " in p]  # the statement that reads the articles
        if walk is not None:
            assert len(read) == 1 and walk in read[0] and "TEMP B-TREE" not in read[0]
        else:
            assert archive_scans(read) == []


def test_the_postgresql_search_reads_each_page_once_along_the_date_index(
    store, backend, monkeypatch
) -> None:
    """PostgreSQL's search reads the archive page after page along the index of the dates
    (schema 35), each page from where the last ended: each page was the whole archive
    sorted, the pages before it read again to be skipped (OFFSET), so a rare word's search
    read the archive as many times as it has pages."""
    if backend != "postgresql":
        return
    import storage.pg

    monkeypatch.setattr(storage.pg, "SEARCH_PAGE", 6)
    ids, dates = filled_archive(store)
    pages: list[tuple[str, list[Any]]] = []
    query = store.db.query

    def recorded(sql: str, params: Any = None) -> Any:
        if "ORDER BY" in sql:
            pages.append((sql, list(params or ())))
        return query(sql, params)

    monkeypatch.setattr(store.db, "query", recorded)
    found = store.search("strike", limit=5)
    assert [a.id for a in found] == sorted([ids[4], ids[5], ids[30]],
                                           key=lambda i: (dates[i], i), reverse=True)
    assert len(pages) == 7  # 40 articles, 6 a page
    monkeypatch.undo()
    store.db.execute("SET enable_seqscan = off")
    for sql, params in pages:
        plan = "\n".join(str(next(iter(r.values()))) for r in store.db.query(
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + sql, params))
        assert "Sort" not in plan and "articles_when" in plan
        scanned = re.search(r"Index Scan Backward using articles_when .*actual rows=(\d+)",
                            plan)
        assert scanned and int(scanned[1]) <= 6, plan


def test_the_archive_search_finds_latin_words_written_against_cjk(store, backend) -> None:
    """A Latin word or number written against CJK characters (北京でNATO事務総長と, 2024年,
    Samsung은) was no word of the archive's index, which read the run as one: the matching
    alerted on NATO, `search` and `topics test` never listed the article (a review)."""
    from watchlist import compile_query

    source_id = add_source(store)
    nato = store.add_article(article(source_id, "nato", title="北京で会談",
                                     text="習近平国家主席は北京でNATO事務総長と会談した。2024年の予算。"))
    samsung = store.add_article(article(source_id, "samsung", title="Samsung은 발표했다",
                                        text="삼성전자는 새 스마트폰을 공개했다."))
    for query, expected in (("NATO", [nato]), ("2024", [nato]), ("Samsung", [samsung]),
                            ("Sam*", [samsung]), ("北京 AND NATO", [nato])):
        assert [a.id for a in store.search(compile_query(query))] == expected, query
    # Edited and emptied (the retention) as the index was filled: nothing stale is left.
    store.db.execute("UPDATE articles SET text = '' WHERE id = ?", [nato])
    assert store.search(compile_query("NATO")) == []
    if backend == "sqlite":
        store.db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")


def test_the_archive_search_finds_a_number_not_the_bigger_number_it_starts(store) -> None:
    """`search` judges as the alerts do: ``2000`` is not in "2,000,000" (the index finds its
    form "2 000" there; the number's groups are tokens), and is marked only where it ends."""
    from newswatch.search import find
    from watchlist import compile_query

    source_id = add_source(store)
    bigger = store.add_article(article(source_id, "bigger", text="A 2,000,000 euro budget."))
    both = store.add_article(article(source_id, "both", text="Of 2.000.000 voters, 2.000 left."))
    topic = Topic(id=1, name="2000", query="2000", compiled=compile_query("2000"), notify=())
    found, more = find(store, topic, since=None, limit=10, now=NOW)
    assert [(item.article.id, item.marked.snippet) for item in found] == [
        (both, (("Of 2.000.000 voters, ", False), ("2.000", True), (" left.", False))),
    ]
    assert bigger != both and not more


def test_the_archive_search_finds_a_number_not_the_bigger_number_it_ends(store) -> None:
    """`search` judges as the alerts do: ``500 jobs`` is not in "1,500 jobs" nor in "11.500
    jobs" (the number's groups are tokens: 1, 500), and is marked only where it starts."""
    from newswatch.search import find
    from watchlist import compile_query

    source_id = add_source(store)
    bigger = store.add_article(article(source_id, "bigger", text="Ford cuts 1,500 jobs."))
    both = store.add_article(article(source_id, "both", text="Of 11.500 jobs, 500 jobs left."))
    query = '"500 jobs"'
    topic = Topic(id=1, name="jobs", query=query, compiled=compile_query(query), notify=())
    found, more = find(store, topic, since=None, limit=10, now=NOW)
    assert [(item.article.id, item.marked.snippet) for item in found] == [
        (both, (("Of 11.500 jobs, ", False), ("500 jobs", True), (" left.", False))),
    ]
    assert bigger != both and not more


def test_an_upgrade_indexes_the_archives_cjk_texts_as_the_matching_reads_them(
    db_path: Path, monkeypatch
) -> None:
    from watchlist import compile_query

    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS[:20])
    with Store.open(db_path) as s:
        source_id = add_source(s)
        cjk = s.add_article(article(source_id, "nato", title="北京で会談",
                                    text="習近平国家主席は北京でNATO事務総長と会談した。"))
        latin = s.add_article(article(source_id, "maduro", title="Maduro in Minsk"))
    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS)
    with Store.open(db_path) as s:
        assert [a.id for a in s.search(compile_query("NATO"))] == [cjk]
        assert [a.id for a in s.search(compile_query("北京"))] == [cjk]
        assert [a.id for a in s.search(compile_query("Maduro"))] == [latin]
        s.db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")


#: Words written with marks FTS5 reads as word breaks, or in full width (storage.segment).
MARKED = {
    "arabic": ("شعر وردي يُشعل السخرية", "استقبل مُحَمَّد بن سلمان الوفد، وقال محـمد إن الزيارة مهمة."),
    "wide": ("震度５弱の地震", "ＮＡＴＯ首脳会議は２０２６年に開かれる。"),
    "hindi": ("समस्तीपुर में चोरी", "पुलिस ने आरोपी को गिरफ्तार किया गिरफ्तार बताया कि मुद्दा गंभीर है।"),
    # DW's apostrophe, the modifier letter (U+02BC): "Germanyʼs" was one word.
    "apostrophe": ("The tourist guide for Germany\u02bcs capital",
                   "Kyiv\u02bcs mayor and Côte d\u02bcIvoire\u02bcs envoy met."),
    # Alef with its hamza (أحمد, الأسد), Arabic yeh and kaf (إيران, كرمان), a tweet's
    # isolates (⁦@AJArabic⁩): read as one with alef, the Persian keyboard's ی and ک, spaces.
    "letters": ("\u2067مادورو\u2069 يصل إلى موسكو",
                "قال وزير خارجية إيران إن أحمد الشرع زار كرمان بعد سقوط الأسد. \u2066@AJArabic\u2069"),
    # A letter with its nukta as one character (U+0958) and as typed (क + U+093C).
    "nukta": ("नया \u0958\u093e\u0928\u0942\u0928 लागू", "किसानों की \u095b\u092e\u0940\u0928 छीनी गई।"),
    # Another script's digits (BBC Persian's, Devanagari's, Bengali's): the ASCII ones.
    "digits": ("سقوط Boeing ۷۳۷ در سال ۲۰۲۶", "बहाई ۱٬۵۰۰ दलार सन २०२६ में ২০২৬ সালে"),
}
#: Queries typed as readers type them, and the articles they find.
MARKED_QUERIES = (("يشعل", ["arabic"]), ('"محمد بن سلمان"', ["arabic"]), ("NATO", ["wide"]),
                  ("2026", ["digits", "wide"]), ('"震度5弱"', ["wide"]), ("गिरफ्तार", ["hindi"]),
                  ("योगी", []), ("मोदी", []), ("Germany", ["apostrophe"]),
                  ('"Côte d\'Ivoire"', ["apostrophe"]), ("Kyiv\u2019s", ["apostrophe"]),
                  ("احمد", ["letters"]), ("الاسد", ["letters"]), ("ایران", ["letters"]),
                  ("کرمان", ["letters"]), ("AJArabic", ["letters"]), ("title:مادورو", ["letters"]),
                  ("\u0915\u093c\u093e\u0928\u0942\u0928", ["nukta"]),
                  ("\u091c\u093c\u092e\u0940\u0928", ["nukta"]), ('"Boeing 737"', ["digits"]),
                  ("۲۰۲۶", ["digits", "wide"]), ("1500", ["digits"]))


def test_the_archive_search_reads_marks_and_full_width_as_the_reader_types(store, backend):
    """Arabic's harakat and tatweel (مُحَمَّد, محـمد), full-width Latin letters and digits
    (NATO, 2026 in full width) and Indic vowel signs: a topic typed as readers type missed them, and
    योगी matched across two words (कि*या गि*रफ्तार: a police report alerted a topic on Yogi;
    a review of pages in many languages)."""
    from watchlist import compile_query

    source_id = add_source(store)
    ids = {name: store.add_article(article(source_id, name, title=title, text=text))
           for name, (title, text) in MARKED.items()}
    for query, expected in MARKED_QUERIES:
        assert [a.id for a in store.search(compile_query(query))] == [ids[n] for n in expected], query
    if backend == "sqlite":
        store.db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")


@pytest.mark.parametrize("before", [20, 22, 27, 30, "cut off at 22"])
def test_an_upgrade_indexes_marked_words_as_the_matching_reads_them(
    db_path: Path, monkeypatch, before: int | str
) -> None:
    """Migration 28 builds the archive's index anew, whatever the way there: from schemas
    that indexed the marks as word breaks (CJK spacing alone), and from an upgrade cut off
    after 21 (whose rebuild read them as today already): a delete of the marked articles
    as schema 21 indexed them damaged that index ("database disk image is malformed" at
    every prune and update; a review)."""
    import storage.schema
    from storage.segment import _CJK
    from watchlist import compile_query

    def cjk_spacing_alone(text: str) -> str:
        return text if text.isascii() else _CJK.sub(r" \g<0> ", text)

    monkeypatch.setattr(storage.schema, "segment", cjk_spacing_alone)  # as schema 21-27 read
    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS[:20 if isinstance(before, str)
                                                           else before])
    with Store.open(db_path) as s:
        source_id = add_source(s)
        ids = {name: s.add_article(article(source_id, name, title=title, text=text))
               for name, (title, text) in MARKED.items()}
        plain = s.add_article(article(source_id, "maduro", title="Maduro in Minsk"))
    monkeypatch.undo()
    if isinstance(before, str):  # today's code, stopped after migration 22
        monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS[:22])
        Store.open(db_path).close()
        monkeypatch.undo()
    with Store.open(db_path) as s:
        for query, expected in MARKED_QUERIES:
            assert [a.id for a in s.search(compile_query(query))] == [ids[n] for n in expected]
        assert [a.id for a in s.search(compile_query("Maduro"))] == [plain]
        s.db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
        s.prune(NOW + timedelta(days=1))  # updates every article, as indexed
        s.db.execute("DELETE FROM articles WHERE id = ?", [ids["arabic"]])
        s.db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")


def test_an_upgrade_indexes_letters_written_two_ways_as_the_matching_reads_them(
    db_path: Path, monkeypatch
) -> None:
    """Migration 49 builds the archive's index anew, reading alef with its hamza as alef, a
    Persian keyboard's ی and ک as ي and ك, a Devanagari letter with its nukta as one
    character as the letter and the nukta (storage.segment), as the matching does now:
    `search` of احمد found no article written أحمد. The story window's
    signatures of such texts are listed to be made again (folded so, a copy stored after
    the upgrade was compared with words it no longer has); the others are not."""
    import storage.segment
    from storage.segment import NUKTA_LETTERS
    from watchlist import compile_query

    monkeypatch.setattr(storage.segment, "LETTER_VARIANTS", {})  # as schema 48 read texts
    nukta_kept = storage.segment._REWRITTEN.pattern.replace("".join(NUKTA_LETTERS), "")
    monkeypatch.setattr(storage.segment, "_REWRITTEN", re.compile(nukta_kept))
    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS[:48])
    with Store.open(db_path) as s:
        source_id = add_source(s)
        arabic = s.add_article(article(source_id, "ar", title="زيارة",
                                       text="قال وزير خارجية إيران إن أحمد الشرع زار كرمان."))
        hindi = s.add_article(article(source_id, "hi", title="नया \u0958\u093e\u0928\u0942\u0928"))
        plain = s.add_article(article(source_id, "maduro", title="Maduro in Minsk"))
        assert s.search(compile_query("احمد")) == []
        s.assign_stories([(arabic, None, b"full", b"lede", None),
                          (plain, None, b"full", b"lede", None)], NOW)
    monkeypatch.undo()
    with Store.open(db_path) as s:
        for query in ("احمد", "ایران", "کرمان", "أحمد"):
            assert [a.id for a in s.search(compile_query(query))] == [arabic], query
        assert [a.id for a in s.search(compile_query("\u0915\u093c\u093e\u0928\u0942\u0928"))] \
            == [hindi]
        assert [a.id for a in s.search(compile_query("Maduro"))] == [plain]
        s.db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
        assert [i for i, _ in s.stale_signatures(NOW - timedelta(days=7), 10)] == [arabic]


def test_an_upgrade_indexes_other_scripts_digits_as_the_matching_reads_them(
    location: str | Path, monkeypatch
) -> None:
    """Migration 52 builds the archive's index anew, reading a digit of another script
    (BBC Persian's ۲۰۲۶, Devanagari's २०२६) as the ASCII digit of its value (storage
    .segment), as the matching does now: `search` of 2026 found no article written ۲۰۲۶
    (PostgreSQL's word lists: test_pgsearch). The story window's signatures of such texts
    are listed to be made again; the others are not."""
    import storage.pg
    import storage.segment
    from watchlist import compile_query

    monkeypatch.setattr(storage.segment, "_ZERO_OF", {}, raising=False)  # as 51 read texts
    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS[:51])
    monkeypatch.setattr(storage.pg, "MIGRATIONS", storage.pg.MIGRATIONS[:51])
    with open_store(location) as s:
        source_id = add_source(s)
        persian = s.add_article(article(source_id, "fa", title="سقوط Boeing ۷۳۷",
                                        text="در سال ۲۰۲۶ بهای بلیت ۱٬۵۰۰ دلار شد."))
        hindi = s.add_article(article(source_id, "hi", text="पुलिस ने सन २०२६ में बताया।"))
        plain = s.add_article(article(source_id, "en", title="Boeing 737 in 2026"))
        assert persian and hindi and plain
        s.assign_stories([(persian, None, b"full", b"lede", None),
                          (hindi, None, b"full", b"lede", None),
                          (plain, None, b"full", b"lede", None)], NOW)
        assert [a.id for a in s.search(compile_query("2026"))] == [plain]
    monkeypatch.undo()
    with open_store(location) as s:
        assert sorted(a.id for a in s.search(compile_query("2026"))) == [persian, hindi, plain]
        assert sorted(a.id for a in s.search(compile_query('"Boeing 737"'))) == [persian, plain]
        assert [a.id for a in s.search(compile_query("۱۵۰۰"))] == [persian]
        assert [i for i, _ in s.stale_signatures(NOW - timedelta(days=7), 10)] == [persian, hindi]
        if not isinstance(location, str):
            s.db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")


def test_an_upgrade_makes_the_story_signatures_of_indic_texts_again(
    location: str | Path, monkeypatch
) -> None:
    """Migration 50: a story signature's words keep the Indic scripts' vowel signs and
    viramas (watchlist.stories; a Hindi word was its consonants apart). The story window's
    signatures of texts holding such a mark are listed to be made again (a copy stored
    after the upgrade was compared with words cut another way); the others are not."""
    import storage.pg

    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS[:49])
    monkeypatch.setattr(storage.pg, "MIGRATIONS", storage.pg.MIGRATIONS[:49])
    with open_store(location) as s:
        source_id = add_source(s)
        hindi = s.add_article(article(source_id, "hi", title="गिरफ्तार",
                                      text="पुलिस ने दो बदमाशों को गिरफ्तार किया।"))
        tamil = s.add_article(article(source_id, "ta", text="தமிழ்நாடு அரசு அறிவிப்பு"))
        plain = s.add_article(article(source_id, "en", title="गिरफ्तार", text="Maduro in Minsk"))
        short = s.add_article(article(source_id, "short", text="बदमाश गिरफ्तार"))
        assert hindi and tamil and plain and short
        s.assign_stories([(hindi, None, b"full", b"lede", None),
                          (tamil, None, b"full", b"lede", None),
                          (plain, None, b"full", b"lede", None),
                          (short, None, None, None, None)], NOW)
    monkeypatch.undo()
    with open_store(location) as s:
        assert [i for i, _ in s.stale_signatures(NOW - timedelta(days=7), 10)] == [hindi, tamil]


def test_the_archive_search_finds_words_inside_chinese_japanese_and_korean_runs(store) -> None:
    """The archive's index has a run of Chinese or Japanese as one word (as FTS5 reads the
    text it is given): `search` and `topics test` of 北京 found nothing, while the matching
    alerts on it (storage.segment). Such a query reads the archive as the matching does, on
    SQLite as on PostgreSQL; the others keep the index."""
    from watchlist import compile_query

    source_id = add_source(store)
    first = store.add_article(article(source_id, "one", title="習近平主席、北京で会談",
                                      text="習近平国家主席は北京の人民大会堂で会談した。"))
    second = store.add_article(article(source_id, "two", title="이재명 대통령",
                                       text="이재명은 5일 예산안을 의결했다."))
    third = store.add_article(article(source_id, "three", title="Maduro in Minsk"))
    fourth = store.add_article(article(source_id, "four", title="ข่าวการเมือง",
                                       text="นายกรัฐมนตรีเดินทางถึงกรุงเทพมหานครเมื่อวันจันทร์"))
    assert [a.id for a in store.search(compile_query("北京"))] == [first]
    assert [a.id for a in store.search(compile_query("이재명"))] == [second]
    assert [a.id for a in store.search(compile_query("กรุงเทพ"))] == [fourth]
    assert [a.id for a in store.search(compile_query("Maduro"))] == [third]
    assert store.search(compile_query("北京 AND Maduro")) == []
    assert [a.id for a in store.search(compile_query("北京"), since=NOW - timedelta(days=1))] \
        == [first]
    with pytest.raises(StorageError, match="search rejected by FTS5"):
        store.search('"北京')
