"""A crawler worker as newswatch's crawler role would run one: a procrastinate worker on the
asyncio loop of Twisted's asyncio reactor (the one newswatch installs), whose jobs are Scrapy
crawls run by one ``AsyncCrawlerRunner`` for the life of the process. SIGTERM stops it: the
running crawls finish, then the worker and the reactor stop (exit 0).

Environment: ``ENGINE_CONNINFO``, ``ENGINE_CONCURRENCY`` (default 2). Each finished crawl is
printed as ``crawled <job id> <url> <status> <bytes>``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any

from crawler.run import REACTOR, install_reactor  # the project root is on PYTHONPATH

install_reactor()

import procrastinate  # noqa: E402
from scrapy import Request, Spider  # noqa: E402
from scrapy.crawler import AsyncCrawlerRunner  # noqa: E402
from scrapy.http import Response  # noqa: E402
from twisted.internet import reactor  # noqa: E402
from twisted.internet.defer import Deferred  # noqa: E402


class PageSpider(Spider):
    """Fetch one page and report it."""

    name = "page"
    custom_settings = {"ROBOTSTXT_OBEY": False}  # noqa: RUF012

    def __init__(self, url: str, result: list[tuple[int, int]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url = url
        self.result = result

    async def start(self) -> AsyncIterator[Request]:
        yield Request(self.url, dont_filter=True)

    def parse(self, response: Response) -> None:
        self.result.append((response.status, len(response.body)))


def main() -> int:
    runner = AsyncCrawlerRunner({"TWISTED_REACTOR": REACTOR, "LOG_ENABLED": False,
                                 "TELNETCONSOLE_ENABLED": False})
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=os.environ["ENGINE_CONNINFO"], timeout=5)
    )

    @app.task(name="crawl", pass_context=True)
    async def crawl(context: procrastinate.JobContext, url: str) -> None:
        result: list[tuple[int, int]] = []
        await runner.crawl(PageSpider, url=url, result=result)
        status, size = result[0] if result else (0, 0)
        print("crawled", context.job.id, url, status, size, flush=True)

    async def work() -> None:
        async with app.open_async():
            await app.run_worker_async(
                concurrency=int(os.environ.get("ENGINE_CONCURRENCY", "2")),
                install_signal_handlers=False, update_heartbeat_interval=1,
            )

    def start() -> None:
        task = asyncio.ensure_future(work())
        asyncio.get_event_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        print("worker", os.getpid(), flush=True)
        Deferred.fromFuture(task).addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(start)
    reactor.run(installSignalHandlers=False)
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
