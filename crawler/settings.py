"""Crawl settings, and the Scrapy settings they become."""

from __future__ import annotations

from dataclasses import dataclass

MIN_DELAY_SECONDS = 0.01
#: Bytes of downloaded pages that may wait for a page worker (see scrapy_settings).
PAGES_WAITING_BYTES = 10 * 1024 * 1024

#: The only Scrapy extensions a crawl runs: the stats newswatch reports (items, errors). Not
#: the rest of Scrapy's defaults, which are not even imported: the telnet console and remote
#: control (an endpoint that runs code sent to it), memory and debug reports, feed exports,
#: job state, AutoThrottle (politeness is ``crawl.delay`` and ``crawl.per_host``), close
#: conditions, periodic stats logging (newswatch reports each crawl itself).
EXTENSIONS = {
    "scrapy.extensions.corestats.CoreStats": 0,
    "scrapy.extensions.logcount.LogCount": 0,
}


@dataclass(frozen=True)
class CrawlSettings:
    """How newswatch fetches: how often, politeness, limits and identity."""

    every_seconds: int = 15 * 60  # polling interval of a source that sets none
    user_agent: str = "newswatch/0.1 (+https://github.com/newswatch/newswatch)"
    timeout_seconds: float = 30.0
    max_bytes: int = 10 * 1024 * 1024
    delay_seconds: float = 1.0
    per_host: int = 2
    concurrency: int = 16
    retries: int = 2
    obey_robots: bool = True
    #: Check the certificates of the sites crawled over HTTPS (Scrapy does not by default:
    #: anyone on the path could have served forged news, and it was alerted).
    verify_tls: bool = True
    workers: int | None = None  # page worker processes (None: one per core; 0: none)


#: Scrapy's downloader middlewares that newswatch replaces with its own (same place).
REPLACED_MIDDLEWARES = {
    # The same redirects, without decoding and scanning every page that has no meta refresh.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": "crawler.http.MetaRefresh",
    # The same redirects, but one to an address no crawl can request is not followed.
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": "crawler.http.Redirects",
    # Each waiting request gets the parser, and an unreadable robots.txt disallows.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": "crawler.http.RobotsTxt",
}


def downloader_middlewares() -> dict[str, int]:
    """Scrapy's own downloader middlewares, less the two newswatch turns off and with those
    it replaces (REPLACED_MIDDLEWARES), between newswatch's refusals of inner addresses."""
    from scrapy.settings.default_settings import DOWNLOADER_MIDDLEWARES_BASE

    unused = ("scrapy.downloadermiddlewares.cookies.CookiesMiddleware",
              "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware")
    kept = {REPLACED_MIDDLEWARES.get(path, path): order
            for path, order in DOWNLOADER_MIDDLEWARES_BASE.items() if path not in unused}
    # Before robots.txt's (100): a refused address gets no robots.txt request either. After
    # all the others (the first to see an answer): an answer from a refused address is not
    # retried, decompressed or redirected.
    # HostWaits notes a host's 429 or 503 before any other sees it (but InnerAnswers).
    # BigFeeds last of all to see an answer (as decompressed, redirected, retried).
    # UndeclaredEncoding after decompression (590), before a meta refresh's decoding (580).
    return {"crawler.http.BigFeeds": 40, "crawler.http.InnerAddresses": 50, **kept,
            "crawler.http.UndeclaredEncoding": 585,
            "crawler.http.HostWaits": 940, "crawler.http.InnerAnswers": 950}


#: Scrapy's spider middlewares that a crawl runs: the start requests', the one that drops
#: the answers a callback does not handle (handle_httpstatus_list), and the Referer header's
#: (Scrapy's redirects look for it). Not Scrapy's others, each of which wraps every
#: callback's output for nothing newswatch uses: the depth of requests (no depth limit),
#: the check of copied meta keys (a developer's warning) and the length of URLs: Scrapy
#: drops a request to a URL of over 2,083 characters without a word to its callbacks, so
#: its entry was never settled; such a page is fetched like any other. Our StopsCallbacks
#: nearest the callbacks: a callback that fails by the process's stop is no error.
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.start.StartSpiderMiddleware": 25,
    "scrapy.spidermiddlewares.httperror.HttpErrorMiddleware": 50,
    "scrapy.spidermiddlewares.referer.RefererMiddleware": 700,
    "crawler.spider.StopsCallbacks": 900,
}


def scrapy_settings(settings: CrawlSettings) -> dict[str, object]:
    """The Scrapy settings for ``settings``."""
    return {
        "USER_AGENT": settings.user_agent,
        "ROBOTSTXT_OBEY": settings.obey_robots,
        "DOWNLOAD_VERIFY_CERTIFICATES": settings.verify_tls,
        "DOWNLOAD_TIMEOUT": settings.timeout_seconds,
        # Scrapy's default cap is 1 GiB; a news page or feed is far smaller.
        "DOWNLOAD_MAXSIZE": settings.max_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        # Never exactly 0: with no delay, Scrapy 2.19's downloader starts every queued
        # request of a host at once and CONCURRENT_REQUESTS_PER_DOMAIN is not honoured
        # (measured: 4 in flight with a limit of 1); any delay restores the limit.
        "DOWNLOAD_DELAY": max(settings.delay_seconds, MIN_DELAY_SECONDS),
        # crawl.delay apart, as said: Scrapy's default spreads it over 0.5-1.5 times (half
        # the delay between two requests to a host, measured).
        "DOWNLOAD_DELAY_JITTER": 0,
        "CONCURRENT_REQUESTS": settings.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": settings.per_host,
        "RETRY_ENABLED": settings.retries > 0,
        "RETRY_TIMES": settings.retries,
        # 429 and 503 are not retried at once: the source backs off, honouring Retry-After.
        "RETRY_HTTP_CODES": [500, 502, 504, 522, 524, 408],
        "REDIRECT_MAX_TIMES": 5,
        # http(s) only: a feed entry linking to file:///etc/passwd (or ftp:, s3:, data:) must
        # never be read, let alone mailed out as an article.
        "DOWNLOAD_HANDLERS": {"file": None, "s3": None, "ftp": None, "data": None,
                              # no page request to a host that asked to wait (HostWaits)
                              "http": "crawler.http.WaitingHttp",
                              "https": "crawler.http.WaitingHttp"},
        "COOKIES_ENABLED": False,
        # ... so the cookies middleware, and the HTTP cache's (off below), are left out of
        # Scrapy's list: a middleware listed there is imported even when it is off (the
        # cookies one pulls in tldextract and requests).
        "DOWNLOADER_MIDDLEWARES_BASE": downloader_middlewares(),
        "SPIDER_MIDDLEWARES_BASE": SPIDER_MIDDLEWARES,
        "TELNETCONSOLE_ENABLED": False,
        # Scrapy's remote control (on by default since 2.19) serves an HTTP endpoint that runs
        # Python code sent to it, and writes its port and token to a file in the user's home
        # for every crawl (left behind when a crawl is killed). A daemon has no use for it.
        "REMOTE_CONTROL_ENABLED": False,
        # Scrapy's own list (EXTENSIONS_BASE) replaced: each extension listed there is
        # imported even when disabled, aiohttp and Twisted's conch among them.
        "EXTENSIONS_BASE": EXTENSIONS,
        # Conditional GET is done by hand (ETag / Last-Modified per source): an HTTP cache
        # that answers from heuristic freshness would miss new articles.
        "HTTPCACHE_ENABLED": False,
        # No duplicate filter: the crawl takes each article URL once itself (by its identity,
        # crawler.entries), and Scrapy's filter also dropped a request that a redirect led to
        # a page fetched before, without a word to its callbacks: two feed items whose links
        # redirect to one article left their poll unfinished, never recorded.
        "DUPEFILTER_CLASS": "scrapy.dupefilters.BaseDupeFilter",
        # Each request is taken from the host with the fewest in flight, and within a host
        # article pages (priority 20 and up) go before source polls (10): the pages of a parsed
        # feed are fetched while other feeds are read, instead of every page of every feed
        # waiting in memory until all feeds are parsed (measured: 8,700 requests queued at
        # once for 300 feeds x 30 entries).
        # Among hosts with as few in flight, the one whose next request has the highest
        # priority goes first (crawler/queues.py): sources are drained in the order they
        # listed their pages, so their polls end, and alert, while the crawl goes on.
        "SCHEDULER_PRIORITY_QUEUE": "crawler.queues.SourceOrderQueue",
        # A poll that joins a crawl under way goes before the pages its host has queued in
        # the downloader (crawler/downloader.py).
        "DOWNLOADER": "crawler.downloader.NewsDownloader",
        # What a callback yields goes through the spider middlewares this many at a time.
        # Scrapy starts that many asyncio tasks for every response (default 100: 100 tasks
        # and a queue for each article page, which yields nothing; measured as a third of
        # the crawl process's CPU per article). Newswatch yields requests only, handled
        # synchronously, so one at a time is all it needs.
        "CONCURRENT_ITEMS": 1,
        # Bytes of pages downloaded and waiting for extraction (Scrapy stops downloading
        # above it; its default is 5 MB). Enough that the page workers go on while the crawl
        # process matches a batch or parses a feed: at 5 MB (about 70 pages of 70 KB) they ran
        # out of pages every few seconds of a cold cycle. 10 MB, with each worker holding
        # three pages (crawler.workers.DEPTH): as few idle core-seconds as at 20 MB, and 15
        # MB less at the crawl process's peak (1,000 sources x 30 heavy pages).
        "SCRAPER_SLOT_MAX_ACTIVE_SIZE": PAGES_WAITING_BYTES,
        # Scrapy reads the source of a generator callback (inspect.getsource, then ast.parse)
        # to warn about a "return value" in it, and caches the answer per bound method, which
        # is new with each request: every source poll paid for it again (measured: 45 % of a
        # running daemon's CPU on polls answered 304). ruff and mypy check newswatch's code.
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "LOGSTATS_INTERVAL": 0,
        # Scrapy's in-memory stats, read as plain attributes (crawler.http.Stats).
        "STATS_CLASS": "crawler.http.Stats",
        "LOG_LEVEL": "INFO",
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    }
