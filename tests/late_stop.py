"""A stop that comes as a crawl is starting (tests/test_daemon.py): the crawler role of a
cluster may be handed a crawl job as SIGTERM arrives, after its CrawlRunner was told to stop.

    python tests/late_stop.py DATABASE FEED_URL WHEN

WHEN is ``before`` (the stop comes before the crawl is asked for) or ``opening`` (while
Scrapy opens the crawl, before its engine runs). Prints ``ended <polls recorded>`` once the
crawl has returned; a crawl that ran on despite the stop is ended by the test's timeout.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

from crawler.run import install_reactor  # the project root is on PYTHONPATH

install_reactor()

from twisted.internet import reactor  # noqa: E402
from twisted.internet.defer import Deferred  # noqa: E402

import crawler.spider  # noqa: E402
from crawler.run import CrawlRunner  # noqa: E402
from crawler.settings import CrawlSettings  # noqa: E402
from storage.backend import open_store  # noqa: E402
from storage.models import SourceSpec  # noqa: E402


def main(database: str, feed: str, when: str) -> None:
    store = open_store(database)
    now = datetime.now(UTC)
    sources = store.sync_sources([SourceSpec(feed, 60)], now)
    runner = CrawlRunner(CrawlSettings(workers=0, delay_seconds=0.0))
    stopping: list[asyncio.Future[None]] = []
    if when == "opening":
        opened = crawler.spider.NewsSpider.spider_opened

        def spider_opened(spider: crawler.spider.NewsSpider) -> None:
            # Runs while Scrapy's engine is not running yet.
            stopping.append(asyncio.ensure_future(runner.stop()))
            opened(spider)

        crawler.spider.NewsSpider.spider_opened = spider_opened  # type: ignore[method-assign]

    async def run() -> None:
        if when == "before":
            await runner.stop()
        report = await runner.crawl(store, sources, lambda: datetime.now(UTC))
        print("ended", len(report.outcomes), flush=True)

    def start() -> None:
        Deferred.fromFuture(asyncio.ensure_future(run())).addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(start)
    reactor.run(installSignalHandlers=False)


if __name__ == "__main__":
    main(*sys.argv[1:])
