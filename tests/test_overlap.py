"""Sources that fall due while a crawl runs join it (``NewsSpider.add``, for the daemon's
ticks): each one while the crawl is open, never one whose poll is under way in it."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

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
            answer = Request(b.url, cb_kwargs={"source": b, "via": None})
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
