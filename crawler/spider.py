"""The Scrapy spider: polls sources of every kind and hands their new entries on.

A source is a feed (RSS, Atom, RDF, JSON Feed), a sitemap (Google News, plain, or an index),
or a web page without a feed whose article links are followed. Its kind is configured, or
detected from what the URL serves; for a site's HTML page newswatch first looks for the
feeds the page declares, then for the sitemaps its robots.txt lists, and reads the page's
own article links only when it has neither. What was found is remembered in the source's
row (``fetch_url`` / ``via``), so later polls go straight to it.

The spider writes through the store as results arrive, so that a crawl cut short (shutdown,
crash) keeps everything it finished and loses nothing it did not: a source whose poll did
not complete stays due, an entry whose page was not stored is still new next time.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Self
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from storage import FetchOutcome, Source, StorageError, identity_host
from storage.errors import cancelled_by_stop, said_stopping

from .containers import Containers
from .discover import feed_links, parse_html, robots_sitemaps, sniff
from .downloader import JUMP
from .entries import (
    FIRST_RANK,
    PAGE_PRIORITY,
    EntriesMixin,
    Entry,
    _Poll,
    items_of_shared_pages,
)
from .extracted import EXTRACT
from .feeddates import not_ahead
from .feeds import FeedEntry, ParsedFeed, parse_feed
from .http import (
    HANDLED_STATUSES,
    describe_failure,
    header,
    headers_dict,
    host_waits,
    last_modified,
    permanent_redirect,
    retry_after,
    transient_status,
    wait_for_hosts,
    went_back,
)
from .job import CrawlJob
from .links import MAX_FRAMES, article_links_of, frame_sources
from .schedule import next_due
from .sitemaps import news_sitemaps, parse_sitemap, recent, recent_sitemaps
from .urls import canonicalize, is_home_page, item_url
from .workers import PagePool

logger = logging.getLogger(__name__)

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
    "text/xml;q=0.8, text/html;q=0.7, */*;q=0.5"
)
#: What a poll's requests (a source, its feed's older pages, an index's sitemaps) carry for
#: the caches on the way: a proxy of the environment (a company's Squid) answered from its
#: copy of a feed served with "max-age=604800" (a week, a CMS's default for static files),
#: each poll of that week, and the stories published meanwhile were never seen. Asked not to
#: (RFC 9111, 5.2.1.4), it checks with the site: a 304 still costs the site nothing.
NO_CACHE = {"Cache-Control": "no-cache"}
MAX_LINKS = 100  # article links followed from one page poll
MAX_SITEMAP_DEPTH = 3  # levels of sitemap indexes followed below a source's index
#: Sitemaps an index leads one poll to (its recent ones, levels down), at most: an index of
#: indexes of recent indexes asked for 1,885 in one poll (hours at a request a second).
MAX_POLL_SITEMAPS = 50
MAX_POLL_PAGES = 500  # new entries' pages requested in one poll of a source (see _entries)
SITEMAP_MAX_AGE = timedelta(days=2)  # how recent a sitemap URL must be to be fetched
SITEMAP_KINDS = {"news": "news sitemap", "urlset": "sitemap", "index": "sitemap index"}
#: A feed listing this many items or more, none of them known, all published since its poll
#: before (or undated), has moved past its whole list since: what it published in between
#: may be more than it lists, and lost (a wire feed of 20 items, 120 an hour, polled every
#: 15 minutes: 37 % never seen, the source "ok"). Said, and the feed polled sooner.
GAP_ITEMS = 5
#: A feed whose listed items were published within less than its interval is polled again
#: in half that time (its list fills in that time), not sooner than this (or its interval,
#: if shorter): Miniflux's entry-frequency scheduler, bounded as its minimum interval is.
SOONEST = timedelta(minutes=2)
#: ... and the gap is filled from the feed's older pages, if it has any (RFC 5005's
#: rel="next", a WordPress feed's ?paged=2), this many at most, while each brings new items,
#: all published since the poll before.
GAP_PAGES = 3
#: A source's validators (ETag, Last-Modified) are sent back for this many of its intervals
#: after it last answered in full (an hour at least, a day at most); then a poll asks
#: without them. A server that answers 304 whatever changed (a CDN keyed on a stale ETag;
#: follow.it answering each If-Modified-Since with 304 and that same date, FreshRSS's
#: "Der Postillon" feed) hid every new item for good: the source said "ok" at each poll.
FULL_READ_POLLS = 6
FULL_READ_MIN = timedelta(hours=1)
FULL_READ_MAX = timedelta(days=1)
#: What a source's refusal means and where to look, after its status ("HTTP 404" alone, where
#: a DNS, TLS or redirect failure says what it means). 5xx: _SERVER_FAILED.
_REFUSALS = {
    404: "nothing at this address (the feed moved, or was removed: the site's pages tell its "
         "new address)",
    403: "the site, or a proxy on the way, refuses newswatch's requests (a bot wall, a login, "
         "a block of this machine's addresses: the address opened in a browser from here "
         "tells which)",
}
_SERVER_FAILED = "the site's server failed (on its side: polled again, less often while it lasts)"
#: A source answering 410 Gone is deactivated once it has answered so at every poll for this
#: long, and at this many polls at least (the first counted); before, each 410 is a failure
#: like another (backing off), and any other answer starts the count again. A CDN's purge,
#: a deploy or a misconfigured rule answers 410 for a few minutes: deactivated at that one
#: answer, the source was never polled again, its alerts stopped without a word.
GONE_AFTER = timedelta(hours=24)
GONE_POLLS = 3
#: A poll that joins a crawl under way goes before every page queued (see add).
JOINED_PRIORITY = PAGE_PRIORITY + FIRST_RANK + 1
#: Items dated within this of one another are dated by the feed's clock, not their news (a
#: minute took a feed publishing five items a minute for one: a review).
_ONE_INSTANT = timedelta(seconds=2)


class NewsSpider(EntriesMixin, scrapy.Spider):
    """Polls the given sources, and those that join its crawl (``add``), once each, and
    stores every new article it finds."""

    name = "newswatch"

    def __init__(self, job: CrawlJob, **kwargs: Any) -> None:
        if not isinstance(job, CrawlJob):  # Scrapy passes spider arguments untyped
            raise TypeError(f"NewsSpider needs a CrawlJob, not {type(job).__name__}")
        super().__init__(**kwargs)
        self.sources = job.sources
        self.store = job.store
        self.report = job.report
        self.clock = job.clock
        self.poll_done = job.poll_done
        self.recorded: set[int] = set()  # the sources whose poll is recorded
        #: The sitemaps asked for in each source's poll (a source polled again in this
        #: crawl asks for them again: reset when its poll starts).
        self.sitemaps_asked: dict[int, set[str]] = {}
        #: The sources whose poll is under way: started, not recorded (one the database would
        #: not take stays here until the crawl ends, and its source due).
        self.polling: set[int] = {source.id for source in job.sources}
        #: The sources whose poll under way is their first: their articles are matched
        #: together, once it is recorded (watchlist.templates learns their site from them).
        self.first_polls: set[int] = {source.id for source in job.sources if not source.polled}
        #: The sources whose poll an error of a callback cut short (some of its requests may
        #: still answer): not polled again in this crawl.
        self.spoiled: set[int] = set()
        #: Whether more sources may join the crawl (add): from its opening until it is idle
        #: (Scrapy then closes it) or asked to stop.
        self.joinable = False
        self.cancelled = False  # the process is stopping: no poll starts (cancel)
        self.opened = job.opened
        self.seen: set[str] = set()
        self.ranks: dict[int, int] = {}
        # A source's poll is recorded (with its new ETag / Last-Modified) only once every new
        # entry it listed is settled: a crawl cut short leaves the source due, and the next
        # poll reads it in full instead of getting a 304 that would hide unstored entries.
        self.polls: dict[int, _Poll] = {}
        self.brought_new: dict[int, datetime] = {}
        # Extraction runs off the event loop, in the runner's worker processes (or, without
        # a runner's pool, in a thread of this process).
        self.own_pool = job.pages is None
        self.pages = job.pages if job.pages is not None else PagePool(EXTRACT, 0)
        self.containers = job.containers if job.containers is not None else Containers()
        #: The hosts' robots.txt read at earlier polls of the process (crawler.http.RobotsTxt).
        self.robots_kept = job.robots if job.robots is not None else {}
        #: When each source answered its poll under way: its next poll is counted from then
        #: (counted from the poll's end, after its pages, a busy feed's interval was its
        #: setting plus the time its pages took: 29 s for 10).
        self.answered: dict[int, datetime] = {}
        #: A feed's next poll sooner than its interval, in seconds (see _sooner).
        self.sooner: dict[int, float] = {}

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """One conditional GET per source (none once the crawl is cancelled)."""
        for source in self.sources:
            if self.cancelled:
                return
            request = self._first_request(source)
            if request is not None:
                yield request

    def add(self, sources: Iterable[Source]) -> list[Source]:
        """Poll ``sources`` too, in this crawl (they fell due while it runs); returns those
        it takes. None once the crawl is ending (idle, or asked to stop); never a source whose
        poll is under way in it, or was cut short by an error. A source whose poll it has
        recorded is polled again (a source polled every minute, in a crawl of ten)."""
        if not self.joinable or not self.holding:
            return []
        taken = []
        for source in sources:
            if source.id in self.polling or source.id in self.spoiled:
                continue
            taken.append(source)
            self.polling.add(source.id)
            if not source.polled:
                self.first_polls.add(source.id)
            self.recorded.discard(source.id)
            request = self._first_request(source)
            if request is not None:
                # Before the pages queued for its host: a busy feed due again waited for
                # every page another source of its host had queued (100 at a second each:
                # 85 of its items scrolled off meanwhile; a review). One request, whose
                # pages then queue as any poll's.
                self.crawler.engine.crawl(request.replace(
                    priority=JOINED_PRIORITY, meta={**request.meta, JUMP: True}))
        return taken

    def _first_request(self, source: Source) -> scrapy.Request | None:
        """The conditional GET that starts a poll of ``source`` (None: it cannot be made,
        and the poll is recorded as failed)."""
        self.sitemaps_asked.pop(source.id, None)
        headers = {"Accept": ACCEPT, **NO_CACHE}
        if _validators_fresh(source, self.clock()):
            if source.etag:
                headers["If-None-Match"] = source.etag
            if source.last_modified:
                headers["If-Modified-Since"] = source.last_modified
        try:
            return self._poll(source, source.poll_url, headers=headers)
        except ValueError as exc:  # stored before such addresses were refused (values.URL)
            self._fail(source, f"not a URL a crawl can request: {exc}")
            return None

    def _poll(
        self,
        source: Source,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        via: str | None = None,
        page: Response | None = None,
        instead: bool = False,
    ) -> scrapy.Request:
        """The request of a poll of ``source`` at ``url`` (``via``: found on the page
        ``page``, whose own links are read if it cannot be; ``instead``: for this poll only,
        see _discover)."""
        kwargs: dict[str, Any] = {"source": source, "via": via, "page": page}
        if instead:
            kwargs["instead"] = True
        return scrapy.Request(
            url,
            headers=headers or {"Accept": ACCEPT, **NO_CACHE},
            callback=self.parse_source,
            errback=self.source_failed,
            cb_kwargs=kwargs,
            # A source the user subscribed to is fetched even where robots.txt is meant for
            # crawlers; the article pages it leads to obey robots.txt.
            meta={"handle_httpstatus_list": HANDLED_STATUSES, "dont_obey_robotstxt": True},
            dont_filter=True,
            priority=10,
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.callback_failed, signal=signals.spider_error)
        crawler.signals.connect(spider.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(spider.spider_idle, signal=signals.spider_idle)
        return spider

    def spider_opened(self) -> None:
        """The crawl is open: Scrapy's engine takes requests from now on (add). The hosts
        that asked an earlier process to wait are waited for."""
        try:
            wait_for_hosts(self.store.host_waits(self.clock()), self.clock())
        except StorageError as exc:
            logger.warning("hosts' waits not read: %s", exc)
        self.joinable = True
        if self.opened is not None:
            self.opened(self)

    def cancel(self) -> None:
        """The process is stopping: the polls not started are not (their sources stay
        due), and no source joins."""
        self.cancelled = True
        self.joinable = False

    def spider_idle(self) -> None:
        """Nothing is left to fetch: Scrapy closes the crawl now (none of these handlers asks
        it not to), so a source that falls due from now on waits for the next crawl."""
        self.joinable = False

    def callback_failed(self, failure: Failure, response: Response | Failure) -> None:
        """A callback or errback of this crawl raised (newswatch's fault, on some input): the
        source's poll cannot end by itself any more. It is recorded now, as failed with the
        error, and backs off like any failing source, instead of staying due, unrecorded, and
        being polled again at every tick. What the poll holds is stored; its entries not
        stored are new at its next poll (the feed has changed since its validators)."""
        request = getattr(response, "request", None)
        kwargs = request.cb_kwargs if isinstance(request, scrapy.Request) else {}
        entry = kwargs.get("entry")
        source = kwargs.get("source") or getattr(entry, "source", None)
        if not isinstance(source, Source) or source.id in self.recorded:
            return
        poll = self.polls.pop(source.id, None)
        self.spoiled.add(source.id)
        try:
            if poll is not None:
                self.store_articles(poll)
        except StorageError as exc:  # said once here; the source stays due (see _record)
            if not said_stopping(exc, f"source {source.url}: its articles stored"):
                logger.error("source %s: its articles cannot be stored: %s", source.url, exc)
        finally:
            if isinstance(failure.value, StorageError):  # the database refused: see _finish
                self._unrecorded(source, failure.value)
            else:
                error = f"internal error: {type(failure.value).__name__}: {failure.value}"
                self._fail(source, error)

    def _record(self, source: Source, outcome: FetchOutcome, retry: float | None = None) -> None:
        self.recorded.add(source.id)
        failures = 0 if outcome.ok else source.consecutive_failures + 1
        now = self.clock()
        answered = min(self.answered.pop(source.id, now), now)
        every = self.sooner.pop(source.id, source.every_seconds)
        outcome = replace(outcome, next_due=next_due(
            answered if outcome.ok else now, int(every), failures, retry),
            last_new=self.brought_new.pop(source.id, None))
        try:
            with self.report.timed("store"):
                # A success is the feed as it answered: the next poll's "since its poll
                # before" (a gap, the catch-up) starts there, not when the poll's last page
                # came (a busy feed's items published between the two went unnoticed).
                self.store.record_fetch(source.id, outcome, answered if outcome.ok else now)
        except StorageError as exc:
            self._unrecorded(source, exc)
        else:
            self.polling.discard(source.id)
            self.first_polls.discard(source.id)
            self.report.add_outcome(source, outcome)
            if self.poll_done is not None:
                self.poll_done(source.id)

    def _unrecorded(self, source: Source, exc: StorageError) -> None:
        """The database refused the poll of ``source``: the source stays due, and the daemon
        pauses its polls (a poll it cannot record would be made again at every tick)."""
        self.recorded.add(source.id)
        if not said_stopping(exc, f"source {source.url}: its poll recorded"):
            logger.error("source %s: its poll cannot be recorded: %s", source.url, exc)
        self.report.count("polls_unrecorded")
        self.report.storage_error = str(exc)
        if self.poll_done is not None:
            self.poll_done(source.id)

    def _fail(self, source: Source, error: str, status: int | None = None) -> None:
        self._record(source, FetchOutcome(ok=False, status=status, error=error))

    def _gone(self, source: Source) -> None:
        """``source`` answered 410 Gone: deactivated when it has at every poll for
        GONE_AFTER and GONE_POLLS polls (this one counted), a failure until then."""
        now = self.clock()
        since = source.gone_since or now
        polls = source.gone_polls + 1
        gone = "HTTP 410 Gone"
        if polls >= GONE_POLLS and now - since >= GONE_AFTER:
            logger.warning("source %s is gone (HTTP 410 at its %d polls since %s UTC): "
                           "deactivated", source.url, polls, f"{since:%Y-%m-%d %H:%M}")
            self._record(source, FetchOutcome(ok=False, status=410, error=gone, gone=gone))
            return
        self._fail(source, f"{gone} (since {since:%Y-%m-%d %H:%M} UTC, {polls} poll(s) in a "
                   f"row; deactivated once it lasts {GONE_AFTER.total_seconds() / 3600:.0f} h "
                   f"and {GONE_POLLS} polls)", 410)

    def source_failed(self, failure: Failure) -> Iterator[Any]:
        """A source could not be fetched at all (DNS, refused, timeout, too large)."""
        kwargs = failure.request.cb_kwargs  # type: ignore[attr-defined]
        source: Source = kwargs["source"]
        if kwargs.get("page") is not None:  # a feed or sitemap its page led to
            yield from self._own_links(kwargs["page"], source, describe_failure(failure))
            return
        self._fail(source, describe_failure(failure))

    def parse_source(
        self, response: Response, source: Source, via: str | None, page: Response | None = None,
        instead: bool = False,
    ) -> Any:
        """A source answered: dispatch on its kind (configured, remembered, or sniffed)."""
        status = response.status
        self.answered[source.id] = self.clock()
        if instead:
            yield from self._instead(response, source, via or "")
            return
        if page is not None and status >= 400 and status != 304:
            yield from self._own_links(page, source, f"{response.url} answered HTTP {status}")
            return
        if status == 304 and not _conditional(response):
            # Nothing to compare with, nothing read: taken for "unchanged", such a server
            # (a CDN answering 304 to whatever it is asked) had the source "ok" at every
            # poll, never read, and no one told.
            self._fail(source, "HTTP 304 Not Modified to a request without ETag or date to "
                       "compare: the server sent no feed", status)
            return
        if status == 304:
            self._record(source, FetchOutcome(ok=True, status=304, not_modified=True))
            return
        if status == 410:
            self._gone(source)
            return
        if status >= 400:
            wait = retry_after(response)
            error = f"HTTP {status}" + (f" (retry-after={wait:.0f}s)" if wait is not None else "")
            if (meaning := _REFUSALS.get(status, _SERVER_FAILED if status >= 500 else "")):
                error = f"{error}: {meaning}"
            self._record(source, FetchOutcome(ok=False, status=status, error=error), wait)
            return
        if not response.body.strip():
            # A CMS's cache emptied, a PHP error that printed nothing: said as such, not as
            # "unknown content". No status kept: the page was not read (Source.answered).
            self._fail(source, f"HTTP {status} with an empty body: the server sent nothing "
                       "to read")
            return
        moved = permanent_redirect(response)
        base = FetchOutcome(
            ok=True,
            status=status,
            etag=header(response, "ETag"),
            last_modified=last_modified(response, self.clock()),
        )
        if via is not None:
            base = replace(base, fetch_url=response.url, via=via)
        elif moved and moved.startswith("http:") and source.poll_url.startswith("https:"):
            # From HTTPS to plain HTTP: followed, not kept (one forged answer on the path
            # made every later poll plain, without a word; a review).
            logger.warning("source %s redirects permanently to plain HTTP (%s): polled at "
                           "its https:// address still", source.poll_url, moved)
        elif moved:
            logger.info("source %s moved permanently to %s", source.poll_url, moved)
            base = replace(base, fetch_url=moved, via=f"permanent redirect from {source.poll_url}")
        sniffed = sniff(response.body, header(response, "Content-Type"))
        kind = source.kind or {"feed": "feed", "jsonfeed": "feed", "sitemap": "sitemap"}.get(
            sniffed
        )
        if kind is None and sniffed == "html":
            kind = "page" if source.detected == "page" or via is not None else "discover"
        if kind == "feed":
            yield from self._feed(response, source, base)
        elif kind == "sitemap":
            yield from self._sitemap(response, source, base)
        elif kind == "page":
            yield from self._page(response, source, base)
        elif kind == "discover":
            yield from self._discover(response, source)
        else:
            self._fail(source, f"not a feed, sitemap or web page ({sniffed} content)", status)

    # Feeds ----------------------------------------------------------------------------------

    def _instead(self, response: Response, source: Source, via: str) -> Iterator[Any]:
        """The feed that the web page a feed or sitemap answered with declares (see
        _discover), read for this poll: not kept as the source's address, nor its validators
        (sent to the source's own address, its Last-Modified would have its 304 hide what
        the source published before that date); a failure, or a web page again, is the
        source's failure, not a reason to read a page's links as articles."""
        status = response.status
        if status >= 400 or status == 304:
            self._fail(source, f"answered with a web page, not the {source.detected} it was, "
                       f"and the feed it declares, {response.url}, answered HTTP {status}",
                       status)
            return
        kind = {"feed": "feed", "jsonfeed": "feed"}.get(
            sniff(response.body, header(response, "Content-Type")) or "")
        if kind is None:
            self._fail(source, f"answered with a web page, not the {source.detected} it was "
                       f"(the site down for maintenance, or the feed moved?), and so did the "
                       f"feed it declares, {response.url}", status)
            return
        note = (f"answered with a web page, not the {source.detected} it was (the site down "
                f"for maintenance, or the feed moved?): read the feed it declares, "
                f"{response.url} ({via}), for this poll")
        yield from self._feed(response, source, FetchOutcome(ok=True, status=status, error=note))

    def _feed(self, response: Response, source: Source, base: FetchOutcome) -> Iterator[Any]:
        feed: ParsedFeed | None = response.meta.get("parsed_feed")  # a big one (BigFeeds)
        if feed is not None:
            self.report.add_cpu("parse", response.meta.get("parsed_cpu", 0.0))
        else:
            with self.report.timed("parse"):
                feed = parse_feed(response.body, response.url, headers_dict(response),
                                  self.settings.getint("DOWNLOAD_MAXSIZE") or None)
        if not feed.is_feed:
            self._fail(source, feed.problem or "not a feed", response.status)
            return
        if feed.problem:
            logger.warning(
                "feed %s is malformed, keeping its entries: %s", source.url, feed.problem
            )
            self.report.count("feeds_malformed")
        if feed.title and source.name is None:
            self._name(source, feed.title)
        with self.report.timed("parse"):
            entries = self._feed_entries(source, feed, response.url)
        if (sooner := _sooner(source, entries, self.clock())) is not None:
            self.sooner[source.id] = sooner
        yield from self._entries(
            source,
            replace(
                base,
                title=feed.title,
                detected=feed.kind or "feed",
                error="; ".join(filter(None, [base.error, feed.problem])) or None,
                entries=len(entries),
            ),
            entries,
            listed=True,
            more=feed.next_page,
        )

    def _name(self, source: Source, title: str) -> None:
        """Name a source without a name after its feed's title before its pages are stored
        (their `source` column, searched, is the name). Refused, the poll's record names it
        and renames what was stored (record_fetch)."""
        try:
            with self.report.timed("store"):
                self.store.name_source(source.id, title)
        except StorageError as exc:
            logger.debug("source %s: not named %r before its pages: %s", source.url, title, exc)

    def _feed_entries(self, source: Source, feed: ParsedFeed, feed_url: str) -> list[Entry]:
        """The entries of a parsed feed (or of one of its older pages)."""
        found = (self._feed_entry(source, e, feed, feed_url) for e in feed.entries)
        return items_of_shared_pages([e for e in found if e is not None])

    def _feed_entry(
        self, source: Source, item: FeedEntry, feed: ParsedFeed, feed_url: str
    ) -> Entry | None:
        """The entry of a feed item: its link's page; or, for an item that links nowhere (a
        status page's incident), the item itself, at its feed's site (see item_url). A date
        ahead of now is none (a zone misread, a typo: 2030 stayed at the top of every list
        for good); an undated item of a first poll is what the feed already had: stored,
        not alerted (its page's date, if any, decides instead), as for sitemaps and pages
        (a feed whose dates could not be read alerted its whole back catalogue)."""
        now = self.clock()
        item = replace(item, published=not_ahead(item.published, now),
                       updated=not_ahead(item.updated, now))
        baseline = not source.polled
        site = feed.link or urljoin(feed_url, "/")  # feed.link: a web address (parse_feed)
        if item.link:
            # Where else it may be stored: under a link around the article's (a redirector's,
            # Feedburner's); as an item without a link, which an item whose guid came before
            # its link was taken for before (see _same_item: the same title and date).
            others = tuple(canonicalize(alias) for alias in item.aliases)
            by_guid = item_url(site, item.guid, "") if item.guid else ""
            # As an item without a link, which it was for a version that did not read its
            # link (or its PDF enclosure): by its guid, else its title and summary.
            others += (by_guid or item_url(site, "", f"{item.title}\n{item.summary}"),)
            return Entry(source, item, canonicalize(item.link), baseline=baseline, others=others,
                         guid_address=by_guid, channel=feed.title or "")
        if not (item.guid or item.title or item.summary):
            self.report.count("items_empty")
            return None
        return Entry(source, item, item_url(site, item.guid, f"{item.title}\n{item.summary}"),
                     baseline=baseline)

    def _entries(
        self, source: Source, outcome: FetchOutcome, entries: list[Entry], listed: bool = False,
        more: str | None = None,
    ) -> Iterator[scrapy.Request]:
        """Request the pages of the new ``entries`` (a feed's, when ``listed``: its list is
        checked for a gap, see GAP_ITEMS, filled from its next page ``more``, if any). A
        document older than the one the source's poll before read (see went_back) lists
        its items as they were then: their titles are no edits (Entry.older_copy), and the
        source keeps the newer document's validators: a node serving the old copy again is
        told by them again (recorded, its own Last-Modified was the one compared next, and
        the copy's titles edits at its second poll), and the current copy, unchanged,
        answers 304."""
        if went_back(source.last_modified, outcome.last_modified):
            logger.info("source %s: an older copy than at its poll before (Last-Modified %s, "
                        "then %s): its titles are not taken as edits", source.url,
                        outcome.last_modified, source.last_modified)
            self.report.count("older_copies")
            entries = [replace(entry, older_copy=True) for entry in entries]
            outcome = replace(outcome, etag=source.etag, last_modified=source.last_modified)
        known = self.fresh_entries(self.with_deferred(source, entries))
        gap = listed and self._gap(source, entries, known)
        if gap:
            outcome = replace(outcome, error="; ".join(filter(None, [outcome.error, gap])))
        fresh, postponed = self._newest(source, known, 0)
        if postponed:
            outcome = replace(outcome, etag=None, last_modified=None)
        self.expect(source, replace(outcome, new_articles=_new(fresh)),
                    len(fresh) + bool(gap and more and not postponed))
        if (poll := self.polls.get(source.id)) is not None:  # not recorded yet: pages to come
            poll.pages += len(fresh)
        if gap and more and not postponed:
            yield self._feed_page(source, more, 2)
        yield from self.page_requests(fresh)

    def _feed_page(self, source: Source, url: str, number: int) -> scrapy.Request:
        # Before the article pages queued for its host: a feed paged by position shifts as
        # it publishes (page 3, fetched after the pages of pages 1 and 2, overlapped page 2
        # by 13 items, and the reading stopped there; a review).
        return scrapy.Request(url, headers=NO_CACHE,
                              callback=self.parse_feed_page, errback=self.feed_page_failed,
                              cb_kwargs={"source": source, "number": number},
                              meta={"handle_httpstatus_list": HANDLED_STATUSES, JUMP: True},
                              priority=JOINED_PRIORITY)

    def parse_feed_page(self, response: Response, source: Source, number: int) -> Iterator[Any]:
        """A feed's older page, asked for to fill a gap (see GAP_PAGES): its new items join
        the poll; the page after it is asked for while this one brings new items, all
        published since the poll before."""
        poll = self.polls.get(source.id)
        if poll is not None and response.status < 300:
            with self.report.timed("parse"):
                feed = parse_feed(response.body, response.url, headers_dict(response),
                                  self.settings.getint("DOWNLOAD_MAXSIZE") or None)
                entries = self._feed_entries(source, feed, response.url)
            known = self.fresh_entries(entries)
            on = (number < GAP_PAGES + 1 and feed.next_page is not None
                  and feed.next_page != response.url and _after_the_poll_before(source, entries)
                  and any(e.article_id is None for e in known))
            fresh, postponed = self._newest(source, known, poll.pages)
            poll.pages += len(fresh)
            poll.outcome = replace(poll.outcome,
                                   new_articles=poll.outcome.new_articles + _new(fresh))
            if postponed:  # read whole at the next poll, as in _entries
                poll.outcome = replace(poll.outcome, etag=None, last_modified=None)
            self.report.count("feed_pages")
            self.expect(source, poll.outcome, len(fresh) + on)
            if on:
                assert feed.next_page is not None
                yield self._feed_page(source, feed.next_page, number + 1)
            yield from self.page_requests(fresh)
        self.settle(source, deferred=False)

    def feed_page_failed(self, failure: Failure) -> None:
        """A feed's older page could not be fetched: the gap stays (said already)."""
        source: Source = failure.request.cb_kwargs["source"]  # type: ignore[attr-defined]
        logger.info("feed %s: its page %s failed: %s", source.url,
                    failure.request.url, describe_failure(failure))  # type: ignore[attr-defined]
        self.settle(source, deferred=False)

    def _gap(self, source: Source, entries: list[Entry], fresh: list[Entry]) -> str | None:
        """What a feed's poll says when it lists GAP_ITEMS items or more, none known before
        (``fresh``: those to fetch), all published since its poll before: the feed may have
        published more since than it lists (see GAP_ITEMS). It is polled again sooner."""
        if len(entries) < GAP_ITEMS or not _all_new(source, entries, fresh):
            return None
        every = self.sooner.get(source.id, source.every_seconds)
        self.sooner[source.id] = sooner = min(every, max(source.every_seconds / 4,
                                                         SOONEST.total_seconds()))
        why = (f"none of the {len(entries)} items it lists was known: it may have published "
               f"more since its poll before than it lists (its older pages read, if it has "
               f"some; polled again in {_duration(sooner)}, not "
               f"{_duration(source.every_seconds)})")
        logger.warning("feed %s: %s", source.url, why)
        self.report.count("feeds_with_gaps")
        return why

    def _newest(self, source: Source, fresh: list[Entry], taken: int) -> tuple[list[Entry], bool]:
        """The entries a poll that requested ``taken`` pages still takes, and whether some
        are left for its next polls. A source listing more new pages than a poll takes (a
        feed of its whole archive, an index of busy sitemaps) would hold every other
        source's polls until they are all fetched: its newest now, the others at its next
        polls, which read it whole (no validators saved)."""
        room = max(0, MAX_POLL_PAGES - taken)
        if len(fresh) <= room:
            return fresh, False
        logger.info("%s: %d new entries, the newest %d now, the rest at the next polls",
                    source.url, taken + len(fresh), MAX_POLL_PAGES)
        ordered = sorted(fresh, key=_age)
        now, rest = ordered[:room], ordered[room:]
        if not source.polled:
            # What a first poll leaves that its source does not date is what the site had
            # (a sitemap dating its whole archive with its build time): remembered, not
            # fetched (at the next poll it would be taken for pages found since, alerted).
            undated = [e.url for e in rest if e.feed.published is None and e.article_id is None]
            if undated:
                with self.report.timed("store"):
                    self.store.remember_listed(undated, source.id, self.clock())
                rest = [e for e in rest if e.feed.published or e.article_id is not None]
        self.postpone(rest)
        self.report.count("entries_postponed", len(rest))
        return now, bool(rest)

    # Sitemaps -------------------------------------------------------------------------------

    def _sitemap(self, response: Response, source: Source, base: FetchOutcome) -> Iterator[Any]:
        parsed = parse_sitemap(response.body, response.url, self.clock() - SITEMAP_MAX_AGE,
                               header(response, "Content-Type"))
        if not parsed.kind:
            self._fail(source, f"not a sitemap: {parsed.problem}", response.status)
            return
        outcome = replace(base, detected=SITEMAP_KINDS[parsed.kind], error=parsed.problem)
        if parsed.kind == "index":
            if any(lastmod is None for _, lastmod in parsed.sitemaps) or news_sitemaps(parsed):
                # An index that does not date its sitemaps (often a static file), or whose
                # news sitemap changes by the minute, does not change when they do: its 304
                # would hide them. Read it whole every poll.
                outcome = replace(outcome, etag=None, last_modified=None)
            children = self._unasked(source, recent_sitemaps(parsed, self.clock(),
                                                              SITEMAP_MAX_AGE), response.url)
            # The source's deferred entries go first: a child that lists one again finds
            # it requested already (fresh_entries).
            deferred = self.fresh_entries(self.with_deferred(source, []))
            outcome = replace(outcome, new_articles=_new(deferred))
            self.expect(source, outcome, len(children) + len(deferred))
            yield from self.page_requests(deferred)
            yield from self._child_sitemaps(source, children, depth=1)
            return
        yield from self._sitemap_entries(response, source, outcome, parsed.entries)

    def _sitemap_entries(
        self, response: Response, source: Source, outcome: FetchOutcome, items: Any
    ) -> Iterator[scrapy.Request]:
        # The home page is no article (a sitemap lists it, dated by its newest story).
        items = [i for i in items if not is_home_page(i.url)]
        undated = [i for i in items if i.undated]
        if undated and not source.polled:
            # Nothing dates these URLs (a whole sitemap of an older CMS, or all but its home
            # page): what it lists at the source's first poll is what the site had
            # (remembered, not fetched), and a URL it lists later is new (taken as a page
            # source's links are).
            with self.report.timed("store"):
                self.store.remember_listed([canonicalize(i.url) for i in undated], source.id,
                                           self.clock())
            logger.info("%s: sitemap %s dates %d of its %d URL(s) nowhere: those listed now "
                        "are what the site had; new ones are taken from the next poll on",
                        source.url, response.url, len(undated), len(items))
            undated = []
        entries = [
            Entry(
                source,
                FeedEntry(
                    link=item.url,
                    title=item.title or "",
                    summary="",
                    # A news sitemap's publication date; lastmod says when the page
                    # changed (an archive page edited today): the page's own date is read.
                    # So it is for a date ahead of now (a local time written without its
                    # offset, taken as UTC: 5.5 hours ahead for a site at +05:30).
                    published=not_ahead(item.published, self.clock()),
                    author=None,
                    # A lastmod ahead of now is no date either (a feed's is none: see
                    # _feed_entry): kept as the article's last edit, 2099 left every real
                    # edit after it older, never read again.
                    updated=not_ahead(item.lastmod, self.clock()),
                ),
                canonicalize(item.url),
                linked=True,
                baseline=not source.polled,
            )
            # Known ones are left out before the poll's cap is applied (_entries): taken
            # first, a sitemap's 500 oldest known URLs kept its new ones out for good.
            for item in undated + recent(items, self.clock(), SITEMAP_MAX_AGE)
        ]
        poll = self.polls.get(source.id)
        if poll is not None:  # a child of an index: add to the poll already under way
            fresh, postponed = self._newest(source, self.fresh_entries(entries), poll.pages)
            poll.pages += len(fresh)
            poll.outcome = replace(
                poll.outcome, new_articles=poll.outcome.new_articles + _new(fresh)
            )
            if postponed:
                poll.outcome = replace(poll.outcome, etag=None, last_modified=None)
            self.expect(source, poll.outcome, len(fresh))
            yield from self.page_requests(fresh)
        else:
            yield from self._entries(source, replace(outcome, entries=len(entries)), entries)

    def _unasked(self, source: Source, urls: list[str], index: str) -> list[str]:
        """The sitemaps of ``urls`` not asked for yet in this poll of ``source`` (nor the
        ``index`` that lists them), MAX_POLL_SITEMAPS in all: an index that lists itself,
        or sitemaps that list each other, were fetched again at each level."""
        asked = self.sitemaps_asked.setdefault(source.id, set())
        room = MAX_POLL_SITEMAPS - len(asked)
        own = {source.poll_url, source.url, index}
        fresh = [url for url in dict.fromkeys(urls) if url not in asked and url not in own]
        asked.update(fresh[: max(room, 0)])
        return fresh[: max(room, 0)]

    def _child_sitemaps(
        self, source: Source, urls: list[str], depth: int
    ) -> Iterator[scrapy.Request]:
        for url in urls:
            yield scrapy.Request(
                url,
                headers=NO_CACHE,
                callback=self.parse_child_sitemap,
                errback=self.child_sitemap_failed,
                cb_kwargs={"source": source, "depth": depth},
                meta={"handle_httpstatus_list": HANDLED_STATUSES, "dont_obey_robotstxt": True},
            )

    def parse_child_sitemap(
        self, response: Response, source: Source, depth: int = 1
    ) -> Iterator[Any]:
        """A sitemap listed by an index answered: its entries; or, an index itself (a site
        that files its sitemaps by year, then month), its recent sitemaps, MAX_SITEMAP_DEPTH
        levels down at most."""
        if response.status < 400:
            parsed = parse_sitemap(response.body, response.url, self.clock() - SITEMAP_MAX_AGE,
                               header(response, "Content-Type"))
            poll = self.polls.get(source.id)
            if parsed.problem:  # not a sitemap (a soft 404, a feed), or read with a fault
                self._sitemap_problem(source, f"sitemap {response.url}: {parsed.problem}")
            if parsed.kind == "index" and depth < MAX_SITEMAP_DEPTH and poll is not None:
                children = self._unasked(
                    source, recent_sitemaps(parsed, self.clock(), SITEMAP_MAX_AGE), response.url
                )
                # The top index does not change when a sitemap filed below it does.
                poll.outcome = replace(poll.outcome, etag=None, last_modified=None)
                self.expect(source, poll.outcome, len(children))
                yield from self._child_sitemaps(source, children, depth + 1)
            else:
                yield from self._sitemap_entries(
                    response, source, FetchOutcome(ok=True), parsed.entries
                )
        else:
            self._sitemap_problem(source, f"sitemap {response.url} answered HTTP {response.status}")
        self.settle(source, deferred=transient_status(response.status))

    def child_sitemap_failed(self, failure: Failure) -> None:
        """A sitemap listed by an index could not be fetched: retried at the next poll."""
        source: Source = failure.request.cb_kwargs["source"]  # type: ignore[attr-defined]
        url = failure.request.url  # type: ignore[attr-defined]
        self._sitemap_problem(source, f"sitemap {url} failed: {describe_failure(failure)}")
        self.settle(source, deferred=True)

    def _sitemap_problem(self, source: Source, problem: str) -> None:
        """A sitemap that could not be read, or that dates none of its URLs: logged, and
        said by the source's poll under way, if any (``status`` shows it as a warning of a
        source that is otherwise ok; a sitemap polled on its own says it in its outcome)."""
        logger.warning("%s", problem)
        self.poll_problem(source, problem)

    # Pages without feeds --------------------------------------------------------------------

    def _page(self, response: Response, source: Source, base: FetchOutcome) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            self._fail(source, "not a web page", response.status)
            return
        links, frames = self._links(response, source)
        if not frames:
            yield from self._page_entries(response, source, base, links)
            return
        # Its frames held article links at its poll before, which kept no validators for it
        # though its server sends them: a headlines frame that lists nothing for a while
        # (today's news, emptied at midnight) is no video player's, and the page's 304 would
        # hide its next headline.
        held = (source.polled and not (source.etag or source.last_modified)
                and bool(base.etag or base.last_modified))
        framed = _Framed(response, base, links, frames, asked={canonicalize(response.url)},
                         carry=held)
        yield from self._next_frame(source, framed)

    def _links(self, response: TextResponse, source: Source) -> tuple[list[str], list[str]]:
        """A page's article links and the addresses of its frames on the site."""
        doc = parse_html(response.text)
        if doc is None:
            return [], []
        site = identity_host(urlsplit(response.url).hostname or "")
        links = article_links_of(
            doc,
            response.url,
            source.include,
            source.exclude,
            learned=self.store.link_shapes(site, self.clock()),
        )
        # A modern page's iframes (a video player, a poll, an ad slot on the site) are not
        # read: each would cost a request at every poll, and the page's 304 (its frames are
        # read whole at every poll); only a frameset's and those of a page that links to
        # few articles of its own (an old portal's headline ticker) are.
        if len(links) >= FEW_OWN_LINKS and next(doc.iter("frameset"), None) is None:
            return links, []
        return links, frame_sources(doc, response.url)

    def _next_frame(self, source: Source, framed: _Framed) -> Iterator[Any]:
        """The request for a page's next frame not asked yet (one at a time: the page's
        entries are made once all are read); after the last, the page's entries."""
        while framed.frames and len(framed.asked) <= MAX_FRAMES:  # the page is among them
            url = framed.frames.pop(0)
            if canonicalize(url) in framed.asked:
                continue
            framed.asked.add(canonicalize(url))
            yield scrapy.Request(
                url, headers=NO_CACHE, callback=self.parse_frame, errback=self.frame_failed,
                cb_kwargs={"source": source, "framed": framed},
                meta={"handle_httpstatus_list": HANDLED_STATUSES}, dont_filter=True,
            )
            return
        links = [link for link in dict.fromkeys(framed.links) if link not in framed.asked]
        base = framed.base
        if framed.carry:
            # A frameset does not change when its frames do (an old site's Last-Modified is
            # the file's): its 304 would hide each new headline, so it is read whole at the
            # next poll. Frames that hold no article link (a video player, a comments
            # widget, a menu) leave it its 304: read at every poll, they cost a request each
            # and the page's own, for nothing (a full read still comes: FULL_READ_POLLS).
            base = replace(base, etag=None, last_modified=None)
        yield from self._page_entries(framed.page, source, base, links)

    def parse_frame(self, response: Response, source: Source, framed: _Framed) -> Iterator[Any]:
        """A frame of a page source answered: its article links (and its own frames) are
        the page's."""
        if response.status < 300 and isinstance(response, TextResponse):
            links, frames = self._links(response, source)
            framed.links += links
            framed.frames += frames
            framed.carry = framed.carry or bool(links)
        else:
            logger.info("source %s: its frame %s answered HTTP %d", source.url, response.url,
                        response.status)
            framed.carry = True
        yield from self._next_frame(source, framed)

    def frame_failed(self, failure: Failure) -> Iterator[Any]:
        """A frame of a page source could not be fetched: the page's other frames are read."""
        kwargs = failure.request.cb_kwargs  # type: ignore[attr-defined]
        logger.info("source %s: its frame %s failed: %s", kwargs["source"].url,
                    failure.request.url, describe_failure(failure))  # type: ignore[attr-defined]
        kwargs["framed"].carry = True
        yield from self._next_frame(kwargs["source"], kwargs["framed"])

    def _page_entries(
        self, response: TextResponse, source: Source, base: FetchOutcome, links: list[str]
    ) -> Iterator[Any]:
        """The poll of a page source whose article ``links`` were read."""
        # The first poll's links are what the site already had (undated ones: a baseline),
        # unless an earlier poll read the page and it listed no article links: then what it
        # lists now is new.
        baseline = not source.polled and not source.answered
        entries = [
            Entry(
                source,
                FeedEntry(link=link, title="", summary="", published=None, author=None),
                canonicalize(link),
                linked=True,
                baseline=baseline,
            )
            for link in links[:MAX_LINKS]
        ]
        if not entries:
            # Most likely not what the user meant to subscribe to: say so, loudly.
            error = "no feed, sitemap or article links found on the page"
            if any(mark in response.body for mark in _RENDERED_MARKS):
                # Its links are in the data its scripts render (a review: a site relaunched
                # on Next.js failed each poll with no word of why or what to do).
                error += (" (its scripts render its links: add the site's feed or sitemap as"
                          " the source instead)")
            self._fail(source, error, response.status)
            return
        outcome = replace(base, detected="page", entries=len(entries))
        yield from self._entries(source, outcome, entries)

    def _own_links(self, page: Response, source: Source, why: str) -> Iterator[Any]:
        """The feed or sitemap a page led to cannot be read (a stale robots.txt line, a
        declared feed gone): the page's own article links, this poll."""
        logger.info("source %s: %s; reading the page's own links", source.url, why)
        yield from self._page(page, source, self._page_outcome(page))

    def _discover(self, response: Response, source: Source) -> Iterator[Any]:
        """An HTML page given as a source: use the feed it declares, else a sitemap from its
        robots.txt, else its own article links."""
        if not isinstance(response, TextResponse):
            self._fail(source, "not a web page", response.status)
            return
        feeds = feed_links(response.text, response.url)
        was = source.detected if source.detected != "page" else None
        if feeds and was:
            # A feed (or sitemap) that answers with a web page declaring a feed: a themed
            # maintenance or error page, whose head declares the site's main feed as every
            # page of a WordPress theme does. Kept as the source's address, that feed replaced
            # the section feed for good: the section's new stories never read again, the
            # whole site's mailed. Read for this poll, the source's own address kept.
            found = feeds[0]
            logger.warning("source %s answered with a web page, not the %s it was: reading "
                           "the feed it declares, %s, for this poll", source.url, was, found.url)
            yield self._poll(source, found.url, via=f"feed declared on {response.url}",
                             instead=True)
            return
        if feeds:
            found = feeds[0]
            logger.info("source %s: using the feed it declares, %s", source.url, found.url)
            yield self._poll(source, found.url, via=f"feed declared on {response.url}",
                             page=response)
            return
        if was:
            # A feed (or sitemap) that answers with a web page declaring none: a maintenance
            # or error page, a parked domain. Read as the site's home page, its links were
            # stored and mailed as articles, and the source said "ok".
            self._fail(source, f"answered with a web page, not the {source.detected} it was "
                       "(the site down for maintenance, or the feed moved?)", response.status)
            return
        yield scrapy.Request(
            urljoin(response.url, "/robots.txt"),
            callback=self.parse_robots,
            errback=self.robots_failed,
            cb_kwargs={"source": source, "page": response},
            meta={"handle_httpstatus_list": HANDLED_STATUSES, "dont_obey_robotstxt": True},
            dont_filter=True,
        )

    def parse_robots(self, response: Response, source: Source, page: Response) -> Iterator[Any]:
        """The site's robots.txt: a sitemap it lists (its news sitemap, of several), else the
        page's own links."""
        sitemaps = []
        if response.status < 400 and isinstance(response, TextResponse):
            sitemaps = robots_sitemaps(response.text, response.url)
        if sitemaps:
            # Generators list the pages' sitemap first and the news one after it.
            chosen = next((u for u in sitemaps if "news" in urlsplit(u).path.lower()),
                          sitemaps[0])
            logger.info("source %s: using the sitemap of robots.txt, %s", source.url, chosen)
            yield self._poll(source, chosen, via=f"sitemap listed in {response.url}", page=page)
            return
        yield from self._page(page, source, self._page_outcome(page))

    def robots_failed(self, failure: Failure) -> Iterator[Any]:
        """No robots.txt: read the page's own links."""
        kwargs = failure.request.cb_kwargs  # type: ignore[attr-defined]
        page: Response = kwargs["page"]
        yield from self._page(page, kwargs["source"], self._page_outcome(page))

    def _page_outcome(self, page: Response) -> FetchOutcome:
        return FetchOutcome(
            ok=True,
            status=page.status,
            etag=header(page, "ETag"),
            last_modified=last_modified(page, self.clock()),
        )

    def closed(self, reason: str) -> None:
        """Store the articles of polls cut short (their sources stay due); release a page
        pool of the spider's own; keep the hosts' waits for the next process."""
        self.joinable = False
        try:
            self.store_held()
        finally:
            if self.own_pool:
                self.pages.close()
            try:
                self.store.keep_host_waits(host_waits(self.clock()), self.clock())
            except StorageError as exc:
                if not said_stopping(exc, "the hosts' waits kept"):
                    logger.warning("hosts' waits not kept: %s", exc)


class StopsCallbacks:
    """Scrapy spider middleware: a callback whose statement the process's stop cancelled or
    abandoned (storage.errors.cancelled_by_stop: a batch of articles being stored, waiting
    for another session's lock) ends its poll as the stop's, said once (said_stopping),
    not as Scrapy's "Spider error processing" ERROR and its traceback: nothing failed, its
    source stays due and the batch is stored at the next start. Its spider is the
    crawler's: a method requiring Scrapy's ``spider`` argument is deprecated (a warning on
    stderr at each crawler's start; a future Scrapy passes none)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_spider_exception(
        self, response: Response, exception: Exception, spider: scrapy.Spider | None = None
    ) -> Iterable[Any] | None:
        spider = self.crawler.spider
        if not isinstance(spider, NewsSpider) or not cancelled_by_stop(exception):
            return None
        spider.callback_failed(Failure(exception), response)  # type: ignore[no-untyped-call]
        return []


def _conditional(response: Response) -> bool:
    """Whether the request ``response`` answers sent validators (If-None-Match,
    If-Modified-Since)."""
    request = response.request
    return request is not None and bool(
        request.headers.get(b"If-None-Match") or request.headers.get(b"If-Modified-Since"))


def _validators_fresh(source: Source, now: datetime) -> bool:
    """Whether a poll of ``source`` sends its validators back: not once FULL_READ_POLLS of
    its intervals have passed since it last answered in full (see FULL_READ_POLLS), nor when
    it never did (a source stored before newswatch noted it)."""
    if source.read_at is None:
        return False
    every = timedelta(seconds=source.every_seconds) * FULL_READ_POLLS
    return now - source.read_at < min(max(every, FULL_READ_MIN), FULL_READ_MAX)


def _age(entry: Entry) -> tuple[bool, float]:
    """Sort key of entries, newest first (by the date their source gives), undated last."""
    when = entry.feed.published or entry.feed.updated
    return (when is None, -when.timestamp() if when is not None else 0.0)


def _new(entries: list[Entry]) -> int:
    """How many of ``entries`` are new articles (the others are stored ones read again)."""
    return sum(1 for e in entries if e.article_id is None)


def _sooner(source: Source, entries: list[Entry], now: datetime) -> float | None:
    """The seconds before a feed's next poll, when its listed items were all published
    within less than its interval before ``now`` (see SOONEST): half that time; None when
    they were not (a burst of items days ago is no busy feed: it was polled every 2 minutes
    for good; a review), or when they are dated by the feed's clock (all alike, see
    _ONE_INSTANT) or undated."""
    dates = sorted(e.feed.published for e in entries if e.feed.published is not None)
    if len(dates) < GAP_ITEMS or dates[-1] - dates[0] <= _ONE_INSTANT:
        return None  # the feed's clock, not its news (every item dated alike)
    span = (now - dates[0]).total_seconds()
    if span >= source.every_seconds:
        return None
    return float(min(source.every_seconds, max(span / 2, SOONEST.total_seconds())))


#: A page source whose page links to fewer articles than this has its iframes read too.
FEW_OWN_LINKS = 5


@dataclass
class _Framed:
    """A page source whose frames are being read: its page, its poll's outcome, the article
    links read so far, the frames still to ask for and the pages asked (canonical URLs, the
    page's own first: a frame of a frame that is the frameset again is not)."""

    page: TextResponse
    base: FetchOutcome
    links: list[str]
    frames: list[str]
    asked: set[str] = field(default_factory=set)
    #: Whether a frame brought article links (at this poll, or at the page's poll before),
    #: or could not be read: the page is read whole at the next poll (see _next_frame).
    carry: bool = False


#: What a page that its scripts render carries its data in (Next.js, its App Router, Nuxt).
_RENDERED_MARKS = (b"__NEXT_DATA__", b"self.__next_f", b"window.__NUXT__")


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def _after_the_poll_before(source: Source, entries: list[Entry]) -> bool:
    """Whether a polled source's dated ``entries`` were all published since its poll before
    (undated ones: whether there are any): an older page that reaches back past it ends a
    gap's reading; items read already in this crawl (a page paged by position shifts as the
    feed publishes) do not."""
    dates = [e.feed.published for e in entries if e.feed.published is not None]
    if not source.polled or source.last_success is None or not entries:
        return False
    return not dates or min(dates) > source.last_success


def _all_new(source: Source, entries: list[Entry], fresh: list[Entry]) -> bool:
    """Whether a polled source's ``entries`` are all new (``fresh``: those to fetch) and, as
    far as they are dated, all published since its poll before: a gap may lie behind them."""
    new = {e.url for e in fresh if e.article_id is None}
    return _after_the_poll_before(source, entries) and all(e.url in new for e in entries)

