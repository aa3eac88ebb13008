"""Running crawls inside the daemon's event loop: one runner for the process, one Crawler
per crawl (a Twisted reactor cannot be restarted), and one pool of page workers for the
runner's life. :class:`CrawlRunner` is the facade the scheduler holds: outside
``crawler/``, nothing touches a Scrapy object."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scrapy.crawler import AsyncCrawlerRunner

from storage import CrawlStore, Source, StorageError

from .containers import Containers
from .extracted import EXTRACT
from .http import install_resolver
from .job import CrawlJob
from .memory import while_crawling
from .report import CrawlReport
from .settings import CrawlSettings, scrapy_settings
from .spider import NewsSpider
from .workers import TIMEOUT, PagePool

logger = logging.getLogger(__name__)

REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"


def install_reactor() -> None:
    """Install Twisted's asyncio reactor; call before anything imports the reactor.

    Its timers go by the monotonic clock, as asyncio's do: Twisted's go by the wall clock,
    so a clock set back a day (an NTP correction, a hand-set clock) held a request's
    timeout (Scrapy's, a reactor.callLater) for that day, its crawl never ending and the
    daemon polling nothing more; set forward (a VM resumed), every request in flight timed
    out at once (a review)."""
    from scrapy.utils.reactor import install_reactor as _install

    _install(REACTOR)
    from twisted.internet import reactor

    reactor.seconds = time.monotonic  # type: ignore[method-assign, misc]


@dataclass(eq=False)
class _Crawl:
    """A crawl in progress: the sources it started with, the report it fills, the settings
    it runs with, and its spider once the crawl is open."""

    sources: list[Source]
    report: CrawlReport
    settings: CrawlSettings
    spider: NewsSpider | None = None

    def opened(self, spider: NewsSpider) -> None:
        self.spider = spider

    def polling(self) -> Iterable[int]:
        """The ids of the sources whose poll is under way in this crawl."""
        if self.spider is None:  # not open yet: none of its polls has ended
            return (source.id for source in self.sources)
        return self.spider.polling

    def unsettled(self) -> Iterable[int]:
        """The ids of the sources whose articles wait to be matched: those whose first poll
        is under way (see CrawlRunner.unsettled)."""
        if self.spider is None:
            return (source.id for source in self.sources)
        return self.spider.first_polls & self.spider.polling


class CrawlRunner:
    """The crawls of the process, behind the few methods the scheduler needs; it also says
    which sources are still being polled, so that the articles of the others can be matched
    while a crawl runs, and lets sources join a crawl in progress."""

    def __init__(self, settings: CrawlSettings) -> None:
        # The asyncio reactor must be installed first (install_reactor).
        self._runner = make_runner(settings)
        self._settings = settings
        self._crawls: list[_Crawl] = []
        self._polled = 0  # polls recorded by this process's crawls
        self._progress: asyncio.Event | None = None
        self._stopping = False  # stop was asked: no crawl polls anything from then on

    async def crawl(
        self, store: CrawlStore, sources: list[Source], clock: Callable[[], datetime]
    ) -> CrawlReport:
        """Poll ``sources`` once, and the sources that join this crawl (``add``); new
        articles are in the store when this returns. None once the process is stopping
        (:meth:`stop`): their sources stay due."""
        report = CrawlReport()
        if self._stopping:
            return report
        running = _Crawl(sources, report, self._settings)
        self._crawls.append(running)

        def opened(spider: NewsSpider) -> None:
            running.opened(spider)
            if self._stopping:  # came while Scrapy opened the crawl: see stop
                spider.cancel()

        try:
            return await crawl(self._runner, store, sources, clock, report, self._on_polled,
                               opened=opened)
        finally:
            self._crawls.remove(running)
            self._wake()

    def add(self, sources: Iterable[Source]) -> list[Source]:
        """Have the crawl in progress poll ``sources`` too (they fell due while it runs):
        each poll ends, is recorded and may be matched on its own, like the crawl's others,
        in the same Scrapy crawl (its per-host politeness, concurrency and memory bounds).
        Returns the sources it took: never one whose poll is under way in a crawl of this
        process; none when no crawl takes more: none runs, it is ending (idle, or asked to
        stop), the database would not take one of its polls (the daemon pauses the polls at
        its end), or the settings changed since it started (a config reload: they are for the
        crawls started from then on)."""
        busy = self.polling()
        fresh = [source for source in sources if source.id not in busy]
        for running in self._crawls:
            if (
                running.spider is not None
                and running.settings == self._settings
                and not running.report.counters["polls_unrecorded"]
            ):
                return running.spider.add(fresh)
        return []

    async def warm_up(self, store: CrawlStore, clock: Callable[[], datetime]) -> None:
        """Run a crawl of no source. A process's first crawl has Scrapy load and build its
        components, all of it on the event loop (about a second of CPU, several seconds on a
        loaded machine); a process whose loop must answer in time from its first crawl on (a
        crawler of a cluster, whose heartbeat runs on that loop) does this before."""
        await crawl(self._runner, store, [], clock, warm=True)

    def polling(self) -> frozenset[int]:
        """The ids of the sources whose poll is under way in a crawl of this process: some
        of their articles may be stored, others not yet. (Every other source's articles are
        all stored: its poll is recorded, or it is not being polled.)"""
        return frozenset(source_id for running in self._crawls for source_id in running.polling())

    def store_later_polls(self) -> None:
        """Store what the polls under way hold, but sources' first polls: a later poll's
        articles are matched as the crawl goes, its other pages still coming."""
        for running in self._crawls:
            if running.spider is not None:
                running.spider.store_later_polls()

    def unsettled(self) -> frozenset[int]:
        """The ids of the sources whose articles must wait to be matched: those whose first
        poll is under way (it is matched whole: watchlist.templates learns the site from
        it)."""
        return frozenset(source_id for running in self._crawls for source_id in running.unsettled())

    def pages_ahead(self) -> tuple[int, int]:
        """(the pages this process's crawls have fetched that its page workers hold or that
        wait for them, how many workers it has: 0 where pages are extracted in this
        process)."""
        pages = self._runner.pages
        return pages.pending, pages.size

    async def wait_polls(self, count: int, timeout: float) -> None:
        """Return once ``count`` more polls are recorded, no crawl runs any more, or after
        ``timeout`` seconds, whichever comes first."""
        loop = asyncio.get_running_loop()
        target, deadline = self._polled + count, loop.time() + timeout
        while self._polled < target and self._crawls:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            if self._progress is None:
                self._progress = asyncio.Event()
            try:
                await asyncio.wait_for(self._progress.wait(), remaining)
            except TimeoutError:
                return

    def _on_polled(self, source_id: int) -> None:
        self._polled += 1
        self._wake()

    def _wake(self) -> None:
        if self._progress is not None:
            self._progress.set()
            self._progress = None

    def reconfigure(self, settings: CrawlSettings) -> None:
        """Crawls started from now on use ``settings`` (a config reload); a crawl in
        progress keeps the copy it started with (and, if it differs, takes no more sources)."""
        self._settings = settings
        reconfigure(self._runner, settings)

    async def stop(self) -> None:
        """Ask the crawls in progress to stop; the sources they did not poll stay due. The
        articles their polls hold are stored first: a page still in flight when the grace
        period runs out must not cost the others (their entries may have left the feed by
        the next poll). A crawl still being opened (its engine not running yet, which
        Scrapy's stop leaves to run on) polls nothing, nor does a crawl asked for later."""
        self._stopping = True
        for running in self._crawls:
            if running.spider is not None:
                running.spider.cancel()
        try:
            for crawler in list(self._runner.crawlers):
                if isinstance(crawler.spider, NewsSpider):
                    crawler.spider.store_held()
        except StorageError as exc:  # the database is gone (the reason of the stop, often)
            logger.warning("articles held by the crawls not stored: %s", exc)
        finally:
            # Not Scrapy's stop for a crawl whose engine is not running yet: it would mark the
            # crawl stopped and leave it to run, and then never end it (its engine's close
            # asks the crawl to stop, which it already is). Cancelled (above, or as it opens),
            # such a crawl polls nothing and ends by itself.
            stops = [asyncio.ensure_future(crawler.stop_async())
                     for crawler in self._runner.crawlers
                     if crawler.crawling and crawler.engine.running]
            if stops:
                await asyncio.wait(stops)

    async def join(self) -> None:
        """Wait until every crawl in progress has ended."""
        await self._runner.join()

    async def finish_pages(self, seconds: float) -> int:
        """Wait, ``seconds`` at most, for the pages already fetched to be extracted (and
        stored: a stopping crawl holds no article, see stop); returns how many were not.
        Called when a stop's grace period ran out on a request still in flight: a page
        fetched before it was being extracted (the page workers starting, on a busy
        machine), and its article was lost with the process, its entry maybe gone from the
        feed by the next poll."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while self._runner.pages.pending and loop.time() < deadline:
            await asyncio.sleep(0.05)
        return self._runner.pages.pending


class Runner(AsyncCrawlerRunner):
    """Scrapy's runner, with the pool of processes that extract the pages of its crawls
    (started at the first page, stopped when the process ends) and the elements that sites
    hold their articles in (crawler.containers), learnt from crawl to crawl."""

    def __init__(self, settings: dict[str, Any], pages: PagePool) -> None:
        super().__init__(settings)
        install_resolver()
        self.pages = pages
        self.containers = Containers()
        self.robots: dict[str, tuple[float, Any]] = {}  # see crawler.http.RobotsTxt
        weakref.finalize(self, pages.close)


def make_runner(
    settings: CrawlSettings,
    task: Callable[..., Any] | str = EXTRACT,
    timeout: float = TIMEOUT,
) -> Runner:
    """The crawler runner for the life of the process; its page workers run ``task`` (the
    article extraction, or its ``module:name``) with ``timeout`` seconds for each page."""
    pool = PagePool(task, settings.workers, timeout=timeout)
    return Runner(scrapy_settings(settings), pool)


def reconfigure(runner: AsyncCrawlerRunner, settings: CrawlSettings) -> None:
    """Crawls that ``runner`` starts from now on use ``settings`` (a config reload); a crawl
    in progress keeps the copy it started with."""
    runner.settings.update(scrapy_settings(settings))


async def crawl(
    runner: AsyncCrawlerRunner,
    store: CrawlStore,
    sources: list[Source],
    clock: Callable[[], datetime],
    report: CrawlReport | None = None,
    poll_done: Callable[[int], None] | None = None,
    *,
    warm: bool = False,
    opened: Callable[[NewsSpider], None] | None = None,
) -> CrawlReport:
    """Poll ``sources`` once, filling ``report`` (default: a new one) and telling ``poll_done``
    each source whose poll is recorded; new articles are in the store when this returns.
    ``warm``: run Scrapy even for no source (it loads its components: CrawlRunner.warm_up).
    ``opened`` is given the spider once the crawl is open (more sources may join it)."""
    report = report if report is not None else CrawlReport()
    if not sources and not warm:
        return report
    pages = runner.pages if isinstance(runner, Runner) else PagePool(EXTRACT, 0)
    crawler = runner.create_crawler(NewsSpider)
    cpu = time.process_time()
    async with while_crawling():
        try:
            containers = runner.containers if isinstance(runner, Runner) else None
            robots = runner.robots if isinstance(runner, Runner) else None
            await runner.crawl(crawler, job=CrawlJob(sources, store, report, clock, pages,
                                                     poll_done, containers, opened, robots))
        finally:
            if pages.size == 0:  # the workers' caches go with the workers (recycled)
                from .extract import reset_caches

                reset_caches()
            if pages is not getattr(runner, "pages", None):
                pages.close()
    # What the crawl cost the crawl process beyond the stages it times: Scrapy, Twisted and
    # the event loop (requests, responses, middlewares, callbacks), handing pages over.
    report.add_cpu("fetch", time.process_time() - cpu - report.own_cpu())
    stats = crawler.stats.get_stats() if crawler.stats else {}
    report.finish_reason = stats.get("finish_reason")
    for key in (
        "downloader/request_count",
        "downloader/response_bytes",
        "retry/count",
        "robotstxt/forbidden",
        "log_count/ERROR",
    ):
        if key in stats:
            report.count(key, int(stats[key]))
    return report
