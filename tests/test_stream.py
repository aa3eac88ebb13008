"""The alerts stream: a cycle matches and delivers the articles of the sources whose poll has
ended while its crawl still polls the others, each article exactly once.

The end-to-end test orders events without timings: the slow source's article page is held by
the test site until the fast source's alert is in the SMTP server's inbox (or a bound passes,
and the test fails)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import subprocess_env

from alerts import MboxTransport, RetryPolicy
from crawler import CrawlReport
from scheduler.pipeline import STREAM_AHEAD, CycleReport, Pipeline
from storage import Article, Source, SourceSpec, Store, TopicSpec, open_store
from storage.schema import MIGRATIONS
from watchlist import compile_query

#: Crawls here run with page worker processes, the default (tests/conftest.py: workdir).
pytestmark = pytest.mark.page_workers

MADURO = {
    "name": "Maduro exit",
    "query": '"Nicolas Maduro" OR (Maduro AND Belarus)',
    "notify": ["desk@test.example"],
}
RATES = {"name": "Rates", "query": '"central bank"', "notify": ["markets@test.example"]}
NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def fresh(slug: str):
    from newssite import STORIES_BY_SLUG

    when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    return replace(STORIES_BY_SLUG[slug], published=when)


def test_a_fast_sources_alert_arrives_while_a_slow_source_is_still_crawled(
    site, mail, workdir
) -> None:
    site.publish(fresh("venezuela-opposition-leader"), feed="world")
    site.create_feed("markets")
    site.publish(fresh("central-bank-holds-rates"), feed="markets")
    slow_page = urlsplit(site.article_url("central-bank-holds-rates")).path
    gate = site.hold(slow_page)
    workdir.write_config(
        sources=[site.url("/feeds/world.rss"), site.url("/feeds/markets.rss")],
        topics=[MADURO, RATES],
        smtp=mail,
        crawl={"timeout": "90s"},  # the held page must not time out
    )
    crawl = subprocess.Popen(
        [sys.executable, "-m", "newswatch", "--config", str(workdir.config), "crawl"],
        cwd=workdir.path, env=subprocess_env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    try:
        [first] = mail.wait_for(1, timeout=45)
        # The slow source's page was asked for and is still held: its poll is not over.
        held, served = list(site.held), site.requests_for(slow_page)
    finally:
        gate.set()
        out, err = crawl.communicate(timeout=90)
    assert crawl.returncode == 0, err
    assert "Maduro exit" in first["Subject"] and first["To"] == "desk@test.example"
    assert held == [slow_page] and served == []

    # Once the slow page is served, its source's alert follows; each alert once.
    messages = mail.wait_for(2)
    assert [m["To"] for m in messages] == ["desk@test.example", "markets@test.example"]
    assert "matched 2 article(s): 2 match(es), 2 email(s) queued" in out
    assert "delivered 2 email(s)" in out
    again = workdir.newswatch("crawl")
    assert again.returncode == 0, again.stderr
    assert len(mail.messages) == 2


# -- the match stage, on a real SQLite file ---------------------------------------------------


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "newswatch.db") as s:
        yield s


def add(store: Store, feed: str, slug: str, text: str) -> int:
    url = f"https://news.example/articles/{slug}"
    source_id = next(s.id for s in store.sources() if s.url == feed)
    article_id = store.add_article(
        Article(url=url, entry_url=url, source_id=source_id, title=slug, text=text,
                published=NOW - timedelta(hours=1), author=None, fetched=NOW,
                extraction="page:precision")
    )
    assert article_id is not None
    return article_id


def backlog(store: Store, count: int) -> None:
    """``count`` stored articles of one source, each matched by the topic "pipeline"."""
    feed = "https://news.example/fast.rss"
    store.sync_sources([SourceSpec(feed, 600)], NOW)
    store.sync_topics([TopicSpec("Pipeline", "pipeline", compile_query("pipeline"), ("d@x.org",))])
    for n in range(count):
        add(store, feed, f"p{n}", f"Pipeline story number {n} of the backlog, told its own way.")


class StreamedCrawl:
    """The crawl under way, as the pipeline sees it (crawler.run.CrawlRunner): its page
    workers have pages enough ahead, and no source's first poll runs."""

    def pages_ahead(self) -> tuple[int, int]:
        return 2 * STREAM_AHEAD, 2

    def unsettled(self) -> frozenset[int]:
        return frozenset()

    def store_later_polls(self) -> None:
        pass


def crawling(store: Store, tmp_path: Path, crawl: StreamedCrawl) -> Pipeline:
    """A pipeline over ``store`` while ``crawl`` runs."""
    pipe = Pipeline(store=store, crawler=crawl, transport=MboxTransport(tmp_path / "mbox"),  # type: ignore[arg-type]
                    lookback=timedelta(days=2), retry=RetryPolicy(), clock=lambda: NOW)
    pipe.crawling = True
    return pipe


def test_match_leaves_the_articles_of_sources_still_polled_and_takes_each_article_once(
    store: Store, tmp_path: Path
) -> None:
    fast, slow = "https://news.example/fast.rss", "https://news.example/slow.rss"
    store.sync_sources([SourceSpec(fast, 600), SourceSpec(slow, 600)], NOW)
    slow_id = next(s.id for s in store.sources() if s.url == slow)
    store.sync_topics([TopicSpec("Pipeline", "pipeline", compile_query("pipeline"), ("d@x.org",))])
    # Interleaved in id order: the slow source's first article comes before the fast ones.
    s1 = add(store, slow, "s1", "The pipeline dispute, as the slow source tells it.")
    f1 = add(store, fast, "f1", "A pipeline leak was found near the harbour.")
    f2 = add(store, fast, "f2", "Nothing to see here.")
    pipeline = Pipeline(store=store, crawler=None, transport=MboxTransport(tmp_path / "mbox"),  # type: ignore[arg-type]
                        lookback=timedelta(days=2), retry=RetryPolicy(), clock=lambda: NOW)

    during = pipeline.match({slow_id}, edited=False)
    assert (during.articles, during.matches, during.emails) == (2, 1, 1)
    assert [a.id for a in store.unmatched_articles()] == [s1]
    assert store.watermark() == 0  # the first unmatched article is the first one

    s2 = add(store, slow, "s2", "More on the pipeline.")
    assert pipeline.match({slow_id}, edited=False).articles == 0
    after = pipeline.match()
    assert (after.articles, after.matches) == (2, 2)
    assert store.unmatched_articles() == [] and store.watermark() == s2
    assert pipeline.match().articles == 0
    matched = store.db.execute("SELECT article_id FROM matches ORDER BY article_id").fetchall()
    assert [r[0] for r in matched] == [s1, f1, s2]
    assert f2 not in [r[0] for r in matched]


def test_a_source_removed_while_its_articles_wait_to_be_decided_alerts_no_more(
    store_location: str | Path, tmp_path: Path
) -> None:
    """A source removed (its config file reloaded on SIGHUP, or `sources remove`) between two
    slices of a pass: its article read before, and decided with the pass's end, alerted
    although the user had removed the source. It alerts no one, then or once the source is
    back; the other source's article, and the removed one's that the other lists too, do,
    each once. On both backends."""
    import asyncio

    fast, slow = "https://news.example/fast.rss", "https://news.example/slow.rss"
    with open_store(store_location) as store:
        store.sync_sources([SourceSpec(fast, 600), SourceSpec(slow, 600)], NOW)
        [topic] = store.sync_topics(
            [TopicSpec("Pipeline", "pipeline", compile_query("pipeline"), ("d@x.org",))])
        s1 = add(store, slow, "s1", "The pipeline dispute, as the slow source tells it.")
        f1 = add(store, fast, "f1", "A pipeline leak was found near the harbour.")
        s2 = add(store, slow, "s2", "A pipeline tender, which the fast source lists too.")
        store.note_listed([s2], next(s.id for s in store.sources() if s.url == fast), NOW)
        pipe = crawling(store, tmp_path, StreamedCrawl())
        slices = 0

        async def removed_after_the_first_slice() -> None:
            nonlocal slices
            slices += 1
            if slices == 2:  # the loop ran between two slices: the reload came then
                store.sync_sources([SourceSpec(fast, 600)], NOW)

        report = asyncio.run(pipe.match_soon(edited=False, before=removed_after_the_first_slice))
        assert slices == 2 and (report.articles, report.matches) == (3, 2)
        assert store.matched_pairs([s1, f1, s2]) == {(f1, topic.id), (s2, topic.id)}
        assert store.unmatched_articles() == []
        store.sync_sources([SourceSpec(fast, 600), SourceSpec(slow, 600)], NOW)
        pipe.crawling = False
        assert pipe.match().matches == 0
        assert store.matched_pairs([s1]) == set()


def test_the_migration_marks_the_articles_up_to_the_old_watermark_matched(
    tmp_path: Path, monkeypatch
) -> None:
    path = tmp_path / "newswatch.db"
    # A database of before migration 12 (index 11), which replaced the watermark.
    watermark = next(i for i, m in enumerate(MIGRATIONS)
                     if isinstance(m, str) and "matched_through_article" in m)
    monkeypatch.setattr("storage.db.MIGRATIONS", MIGRATIONS[:watermark])
    with Store.open(path) as old:
        old.sync_sources([SourceSpec("https://news.example/feed", 600)], NOW)
        ids = [add(old, "https://news.example/feed", f"a{n}", "text") for n in range(3)]
        old.db.execute(
            "INSERT INTO state (key, value) VALUES ('matched_through_article', ?)", [ids[1]]
        )
        old.db.conn.commit()
    monkeypatch.undo()
    with Store.open(path) as store:
        assert [a.id for a in store.unmatched_articles()] == [ids[2]]
        assert store.watermark() == ids[1]
        state = store.db.execute("SELECT COUNT(*) FROM state WHERE key = 'matched_through_article'")
        assert state.fetchone()[0] == 0


def test_a_backlog_is_matched_in_slices_and_a_stop_is_heard_between_them(
    store: Store, tmp_path: Path, monkeypatch
) -> None:
    """A backlog (a new topic's, an upgrade's: 20,000 articles) was matched in one call of the
    event loop: SIGTERM was not heard until it was all done, minutes later, and systemd
    killed the daemon. Matched in slices, the loop runs between them; after a stop, what is
    left is matched at the next start, each article once."""
    import asyncio
    import os
    import signal

    import scheduler.pipeline

    monkeypatch.setattr(scheduler.pipeline, "MATCH_BATCH", 2)
    monkeypatch.setattr(scheduler.pipeline, "MATCH_SLICE", 0.0)
    backlog(store, 40)

    def pipeline() -> Pipeline:
        return Pipeline(store=store, crawler=None, transport=MboxTransport(tmp_path / "mbox"),  # type: ignore[arg-type]
                        lookback=timedelta(days=2), retry=RetryPolicy(), clock=lambda: NOW)

    stopped = pipeline()

    async def stop_asked() -> scheduler.pipeline.MatchReport:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, setattr, stopped, "stopping", True)
        try:
            os.kill(os.getpid(), signal.SIGTERM)  # heard when the loop next runs
            return await stopped.match_soon()
        finally:
            loop.remove_signal_handler(signal.SIGTERM)

    during = asyncio.run(stop_asked())
    # The signal's callback runs a few turns of the loop after it came (4 slices here).
    assert stopped.stopping and 0 < during.articles <= 10, during.articles
    assert len(store.unmatched_articles()) == 40 - during.articles
    after = asyncio.run(pipeline().match_soon())
    assert during.articles + after.articles == 40 and store.unmatched_articles() == []
    matched = store.db.execute("SELECT COUNT(*), COUNT(DISTINCT article_id) FROM matches")
    assert matched.fetchone() == (40, 40)


def test_while_a_crawl_runs_each_batch_waits_until_the_page_workers_have_pages_enough(
    store: Store, tmp_path: Path, monkeypatch
) -> None:
    """A pass while the crawl ran matched the 300-600 articles of 20 polls at once: the
    event loop, held up to 0.7 s, fetched no page meanwhile, and both page workers waited
    for pages (a tenth of a cold cycle's cores idle). A batch of STREAM_BATCH is matched
    once the workers have STREAM_AHEAD pages each in hand or waiting for them."""
    import asyncio

    import scheduler.pipeline

    monkeypatch.setattr(scheduler.pipeline, "STREAM_BATCH", 2)
    backlog(store, 5)
    # What the crawl's two workers hold or wait for, each time the pass asks: the crawl
    # fetches pages while the pass waits.
    ahead = iter([0, 0, 2 * STREAM_AHEAD, 3, 2 * STREAM_AHEAD, 0, 5, 3 * STREAM_AHEAD]
                 + [2 * STREAM_AHEAD] * 10)
    # (pages ahead, articles not taken yet when asked: not clustered, as a batch is first)
    asked: list[tuple[int, int]] = []

    class Crawl:
        """The crawl under way, as the pipeline sees it (crawler.run.CrawlRunner)."""

        def pages_ahead(self) -> tuple[int, int]:
            pages = next(ahead)
            left = [a for a in store.unmatched_articles() if a.story_id is None]
            asked.append((pages, len(left)))
            return pages, 2

        def unsettled(self) -> frozenset[int]:
            return frozenset()

        def store_later_polls(self) -> None:
            pass

    pipe = Pipeline(store=store, crawler=Crawl(), transport=MboxTransport(tmp_path / "mbox"),  # type: ignore[arg-type]
                    lookback=timedelta(days=2), retry=RetryPolicy(), clock=lambda: NOW)
    pipe.crawling = True
    report = CycleReport()
    asyncio.run(pipe.stream(report))
    assert report.matched.articles == 5 and store.unmatched_articles() == []
    # Each batch of two was matched only after the workers had pages enough.
    unmatched = [left for _, left in asked]
    assert [pages >= 2 * STREAM_AHEAD for pages, _ in asked][:8] == [
        False, False, True, False, True, False, False, True]
    assert unmatched[:8] == [5, 5, 5, 3, 3, 1, 1, 1]


def test_a_pass_while_a_crawl_runs_mails_a_reader_once_for_its_batches(
    store: Store, tmp_path: Path, monkeypatch
) -> None:
    """A pass while the crawl ran queued an email for each batch of STREAM_BATCH articles: a
    busy day's later polls (683 new articles, a reader's topic on 400 of them) sent that
    reader 23 emails in 6 s, where a pass had sent one. The batches of a pass are decided
    and mailed together, STREAM_MERGE articles at most: one email a pass, every article
    matched once."""
    import asyncio

    import scheduler.pipeline

    monkeypatch.setattr(scheduler.pipeline, "STREAM_BATCH", 2)
    monkeypatch.setattr(scheduler.pipeline, "STREAM_MERGE", 6)
    backlog(store, 13)
    pipe = crawling(store, tmp_path, StreamedCrawl())
    report = CycleReport()
    asyncio.run(pipe.stream(report))
    # Seven batches: an email for each STREAM_MERGE articles (the event loop is held while
    # they are decided), the last one of what is left; each article matched once.
    assert (report.matched.articles, report.matched.emails) == (13, 3)
    emails = store.db.execute(
        "SELECT COUNT(*) FROM outbox_items GROUP BY outbox_id ORDER BY outbox_id").fetchall()
    assert [count for (count,) in emails] == [6, 6, 1]
    assert store.unmatched_articles() == []
    matched = store.db.execute("SELECT COUNT(*), COUNT(DISTINCT article_id) FROM matches")
    assert matched.fetchone() == (13, 13)


def test_a_pass_while_a_crawl_runs_mails_what_was_stored_when_it_began_without_waiting_for_more(
    store: Store, tmp_path: Path, monkeypatch
) -> None:
    """A busy crawl stores articles as fast as a pass matches them: a pass that took those
    too went on as long as the crawl did, and the alerts of its first batches, decided with
    its later ones, waited for STREAM_MERGE articles or the crawl's pause (the daemon's
    outbox job had nothing to deliver meanwhile). A pass takes the articles stored when it
    begins, in one email a reader; those stored meanwhile are the next pass's."""
    import asyncio

    import scheduler.pipeline

    monkeypatch.setattr(scheduler.pipeline, "STREAM_BATCH", 2)
    backlog(store, 3)
    feed = "https://news.example/fast.rss"
    queued: list[int] = []  # emails in the outbox as the crawl stores each later article

    class Busy(StreamedCrawl):
        """A crawl storing an article each time the pipeline looks (30 in all)."""

        def pages_ahead(self) -> tuple[int, int]:
            if len(queued) < 30:
                queued.append(store.db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
                add(store, feed, f"later{len(queued)}",
                    f"Pipeline story {len(queued)} of the busy crawl, told its own way.")
            return super().pages_ahead()

    pipe = crawling(store, tmp_path, Busy())
    report = CycleReport()

    async def passes() -> None:
        for _ in range(40):
            await pipe.stream(report)
            if len(queued) == 30 and not store.unmatched_articles():
                return

    asyncio.run(passes())
    # The first pass's email (its two batches, the articles there when it began) was queued
    # as it ended, once the crawl had stored three more articles (one a look), not 30.
    assert queued[:4] == [0, 0, 0, 1], queued
    assert report.matched.articles == 33 and store.unmatched_articles() == []
    matched = store.db.execute("SELECT COUNT(*), COUNT(DISTINCT article_id) FROM matches")
    assert matched.fetchone() == (33, 33)


def test_the_outbox_job_leaves_a_pass_its_articles_when_the_crawl_ends_during_it(
    store: Store, tmp_path: Path, monkeypatch, caplog
) -> None:
    """The daemon's outbox job matches once no crawl runs (Pipeline.crawling). A crawl that
    ended while a pass of its cycle held clustered articles, to be decided with its later
    batches, had that job match them as well, and the pass again: the story alerted once,
    but each such article was matched twice and counted twice in the log and the metrics."""
    import asyncio
    import logging

    import scheduler.pipeline
    from scheduler.daemon import Daemon

    monkeypatch.setattr(scheduler.pipeline, "STREAM_BATCH", 2)
    backlog(store, 5)
    ticks: list[asyncio.Future[None]] = []

    class Ending(StreamedCrawl):
        """A crawl that ends as the pass takes its first batch, when the outbox job comes."""

        def pages_ahead(self) -> tuple[int, int]:
            pipe.crawling = False
            ticks.append(asyncio.ensure_future(daemon.outbox_tick()))
            return super().pages_ahead()

    pipe = crawling(store, tmp_path, Ending())
    daemon = Daemon(pipe, tick_seconds=30)
    report = CycleReport()

    async def cycle_and_tick() -> None:
        await pipe.stream(report)
        await asyncio.gather(*ticks)

    caplog.set_level(logging.INFO, logger="scheduler.pipeline")
    asyncio.run(cycle_and_tick())
    assert ticks and report.matched.articles == 5 and store.unmatched_articles() == []
    logged = [r.args[0] for r in caplog.records
              if isinstance(r.args, tuple) and r.getMessage().startswith("matched ")]
    assert logged == [5]
    emails = store.db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    assert emails == 1


class StoppedCrawl(StreamedCrawl):
    """A crawl under way as the process stops: its polls end at once, and it ends itself
    once the pipeline has streamed (matched, or tried to) twice."""

    def __init__(self) -> None:
        self.waits = 0
        self.ended = asyncio.Event()

    async def wait_polls(self, count: int, timeout: float) -> None:
        self.waits += 1
        if self.waits > 2:
            self.ended.set()

    async def crawl(
        self, store: Store, sources: list[Source], clock: Callable[[], datetime]
    ) -> CrawlReport:
        await self.ended.wait()
        return CrawlReport()


def test_matching_during_the_crawl_cut_short_by_the_stop_is_said_as_the_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    """SIGTERM while a crawl's ended polls were being matched, their alerts queued (the database
    another process's to write: SQLite's write lock; PostgreSQL's statement cancelled, or
    abandoned when the server did not take the cancel): the stop's doing, said once at INFO
    as everywhere else, not "WARNING matching during the crawl failed" in the log of a
    process stopped as asked. The articles are matched at the next start."""
    import logging
    import sqlite3
    import threading

    import storage.db
    import storage.errors

    monkeypatch.setattr(storage.db, "WAIT_SLICE_MS", 100)
    monkeypatch.setattr(storage.db, "_stopping", threading.Event())
    monkeypatch.setattr(storage.errors, "_stop_said", threading.Event())
    path = tmp_path / "newswatch.db"
    with Store.open(path) as store:
        backlog(store, 1)
        crawl = StoppedCrawl()
        pipe = crawling(store, tmp_path, crawl)
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        storage.db.stop_waiting()
        try:
            with caplog.at_level(logging.INFO):
                asyncio.run(pipe._crawl_streaming(store.sources(), CycleReport()))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    said = [(r.levelname, r.name) for r in caplog.records if r.levelno >= logging.INFO]
    assert said == [("INFO", "storage.errors")], caplog.text
