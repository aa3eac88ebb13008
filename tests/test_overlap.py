"""Sources that fall due while the daemon's crawl runs are polled on their own schedule: they
join the crawl under way instead of waiting for its slowest source.

The slow source's article page is held by the test site (a gate, not a timing) until the
other sources have been polled again, and alerted, while it waits; each alert once."""

from __future__ import annotations

import re
import signal
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from newssite import STORIES_BY_SLUG, Story
from test_stream import MADURO, RATES

#: Crawls here run with page worker processes, the default (tests/conftest.py: workdir).
pytestmark = pytest.mark.page_workers

GRAIN = {"name": "Ukraine", "query": "Zelensky", "notify": ["kyiv@test.example"]}


def fresh(slug: str) -> Story:
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    return replace(STORIES_BY_SLUG[slug], published=when)


def slow_and_fast(site) -> tuple[str, threading.Event, dict[str, str], dict[str, str]]:
    """A slow source (its new article's page held by the returned gate) and a fast one (an
    empty feed polled every second): the held page's path, the gate, and both sources."""
    site.publish(fresh("venezuela-opposition-leader"), feed="world")
    slow_page = urlsplit(site.article_url("venezuela-opposition-leader")).path
    site.create_feed("markets")
    world = {"url": site.url("/feeds/world.rss"), "every": "1h"}
    markets = {"url": site.url("/feeds/markets.rss"), "every": "1s"}
    return slow_page, site.hold(slow_page), world, markets


def test_sources_due_during_a_slow_crawl_are_polled_and_alerted_before_it_ends(
    site, mail, workdir, wait
) -> None:
    slow_page, gate, world, markets = slow_and_fast(site)
    site.create_feed("ukraine")
    # The held page must not time out (the site holds it for 60 s at most).
    settings = {"crawl": {"timeout": "90s"}, "smtp": mail}
    workdir.write_config(sources=[world, markets], topics=[MADURO, RATES, GRAIN], **settings)
    daemon = workdir.start_daemon()
    try:
        assert wait(lambda: site.held == [slow_page], 30), daemon.output()
        # The fast source falls due again while the slow source's page is held: it is polled
        # on its schedule (on main it waited for the held page), and its new article alerts.
        before = len(site.requests_for("/feeds/markets.rss"))
        assert wait(lambda: len(site.requests_for("/feeds/markets.rss")) >= before + 2, 30), \
            daemon.output()
        site.publish(fresh("central-bank-holds-rates"), feed="markets")
        [first] = mail.wait_for(1, timeout=30)
        assert first["To"] == "markets@test.example"
        # A source added while the crawl runs (due at once) joins it too.
        site.publish(fresh("zelensky-grain-corridor"), feed="ukraine")
        workdir.write_config(
            sources=[world, markets, {"url": site.url("/feeds/ukraine.rss"), "every": "1h"}],
            topics=[MADURO, RATES, GRAIN], **settings,
        )
        daemon.proc.send_signal(signal.SIGHUP)
        second = mail.wait_for(2, timeout=30)[1]
        assert second["To"] == "kyiv@test.example"
        # All the while, the slow source's page was held: its poll is not over.
        assert site.held == [slow_page] and site.requests_for(slow_page) == []
        assert "more due source(s) in the crawl under way" in daemon.output()

        gate.set()  # the slow source's alert follows, once its page is served
        third = mail.wait_for(3, timeout=30)[2]
        assert third["To"] == "desk@test.example"
        assert wait(lambda: re.search(r" cycle sources=\d+ ", daemon.output()), 30)
    finally:
        gate.set()
        code = daemon.stop()
    output = daemon.output()
    assert code == 0, output
    assert "Traceback" not in output
    assert len(mail.messages) == 3
    # The long crawl's one cycle line counts every poll it made: the two it started with and
    # each one that joined it, all ok.
    polled = [(int(a), int(b)) for a, b in re.findall(r" cycle sources=(\d+) ok=(\d+) ", output)]
    assert any(sources >= 4 and ok == sources for sources, ok in polled), output


def test_a_stop_while_sources_joined_the_crawl_loses_and_repeats_nothing(
    site, mail, workdir, wait
) -> None:
    slow_page, gate, world, markets = slow_and_fast(site)
    workdir.write_config(sources=[world, markets], topics=[MADURO, RATES],
                         crawl={"timeout": "90s"}, smtp=mail)
    daemon = workdir.start_daemon()
    try:
        assert wait(lambda: site.held == [slow_page], 30), daemon.output()
        site.publish(fresh("central-bank-holds-rates"), feed="markets")
        [first] = mail.wait_for(1, timeout=30)
        assert first["To"] == "markets@test.example"
        # SIGTERM while the slow page is held and the fast source keeps joining the crawl.
        code = daemon.stop(signal.SIGTERM)
    finally:
        gate.set()
        daemon.stop()
    assert code == 0, daemon.output()
    assert "daemon stopped" in daemon.output() and "Traceback" not in daemon.output()

    # The slow source stayed due: polled at the next start, its alert sent once; nothing else.
    daemon = workdir.start_daemon()
    try:
        second = mail.wait_for(2, timeout=30)[1]
        assert second["To"] == "desk@test.example"
        before = len(site.requests_for("/feeds/markets.rss"))
        assert wait(lambda: len(site.requests_for("/feeds/markets.rss")) >= before + 3, 30)
    finally:
        assert daemon.stop() == 0, daemon.output()
    assert len(mail.messages) == 2


# -- which sources a crawl takes --------------------------------------------------------------


class Engine:
    """Scrapy's engine as the spider's ``add`` uses it: the requests it schedules."""

    def __init__(self) -> None:
        self.requests: list[Any] = []

    def crawl(self, request: Any) -> None:
        self.requests.append(request)


def test_a_crawl_takes_each_source_while_it_is_open_and_never_twice_at_once(
    store_location
) -> None:
    from scrapy import Request
    from scrapy.http import HtmlResponse, Response
    from twisted.python.failure import Failure

    from crawler.job import CrawlJob
    from crawler.report import CrawlReport
    from crawler.spider import NewsSpider
    from storage import SourceSpec, open_store

    now = datetime.now(UTC).replace(microsecond=0)
    with open_store(store_location) as store:
        a, b, c = store.sync_sources([SourceSpec(f"https://{n}.example/feed", 60) for n in "abc"],
                                     now)
        spider = NewsSpider(CrawlJob([a], store, CrawlReport(), clock=lambda: now))
        engine = Engine()
        spider.crawler = SimpleNamespace(engine=engine)  # type: ignore[assignment]
        try:
            assert spider.add([b]) == []  # the crawl is not open yet
            spider.spider_opened()
            # a's poll is under way: not started again; b once.
            assert spider.add([a, b, b]) == [b]
            assert [r.url for r in engine.requests] == [b.url]
            assert spider.polling == {a.id, b.id}

            # b's poll ends (a 304): recorded, and b may be polled again when it is due again.
            answer = Request(b.url, headers={"If-None-Match": '"v1"'},
                             cb_kwargs={"source": b, "via": None})
            list(spider.parse_source(Response(b.url, status=304, request=answer), b, None))
            assert spider.polling == {a.id}
            assert spider.report.counters["sources_not_modified"] == 1
            assert spider.add([b]) == [b] and len(engine.requests) == 2

            # A callback's error cut b's poll short (requests of it may still answer): it is
            # recorded as failed, and not polled again in this crawl.
            page = HtmlResponse(b.url, request=answer, body=b"<html></html>")
            spider.callback_failed(Failure(ValueError("boom")), page)
            assert spider.polling == {a.id}
            assert spider.add([b]) == []

            # Idle (Scrapy closes the crawl now), or asked to stop: no more sources.
            spider.spider_idle()
            assert spider.add([c]) == []
            spider.spider_opened()
            spider.store_held()
            assert spider.add([c]) == [] and len(engine.requests) == 2
        finally:
            spider.closed("finished")
