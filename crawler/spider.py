"""The Scrapy spider: polls feeds, fetches the pages of entries not seen before, stores them.

The spider writes through the Store as results arrive, so that a crawl cut short (shutdown,
crash) keeps everything it finished and loses nothing it did not: a source whose poll did
not complete stays due, an entry whose page was not stored is still new next time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure

from storage import Article, FetchOutcome, Source, Store

from .extract import Extracted, extract_article
from .feeds import FeedEntry, parse_feed
from .report import CrawlReport
from .schedule import next_due
from .urls import canonicalize, same_site

logger = logging.getLogger(__name__)

# Statuses handed to our callbacks instead of being dropped by HttpErrorMiddleware, so that
# each one is recorded. Redirects are not listed: Scrapy follows them.
HANDLED_STATUSES = [304, 400, 401, 403, 404, 406, 410, 429, 451, 500, 502, 503, 504]
# Article page answers that may pass: the entry waits for the next poll.
TRANSIENT_STATUSES = {408, 429, 500, 502, 503, 504}
MAX_PAGE_ATTEMPTS = 3
PERMANENT_REDIRECTS = {301, 308}


def _retry_after(response: Response) -> float | None:
    value = response.headers.get(b"Retry-After")
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _permanent_redirect(response: Response) -> str | None:
    """The final URL when every redirect that led to ``response`` was permanent."""
    reasons = response.meta.get("redirect_reasons") or []
    if reasons and all(reason in PERMANENT_REDIRECTS for reason in reasons):
        return str(response.url)
    return None


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name.encode())
    return value.decode("latin-1") if value else None


def _describe_failure(failure: Failure) -> str:
    exc = failure.value
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text


class NewsSpider(scrapy.Spider):
    """Polls the given sources once and stores every new article it finds."""

    name = "newswatch"

    def __init__(
        self,
        sources: list[Source],
        store: Store,
        report: CrawlReport,
        clock: Callable[[], datetime],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sources = sources
        self.store = store
        self.report = report
        self.clock = clock
        self.seen: set[str] = set()
        # A feed's poll is recorded (with its new ETag / Last-Modified) only once every new
        # entry it listed is stored: a crawl cut short leaves the source due, and the next
        # poll gets the full feed again instead of a 304 that would hide the unstored entries.
        self.pending: dict[int, tuple[Source, FetchOutcome, int, bool]] = {}
        # One extraction at a time, off the event loop: bounded CPU, no shared-state races.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract")

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """One conditional GET per source."""
        for source in self.sources:
            headers = {
                "Accept": "application/rss+xml, application/atom+xml, application/xml;"
                "q=0.9, text/xml;q=0.8, */*;q=0.5"
            }
            if source.etag:
                headers["If-None-Match"] = source.etag
            if source.last_modified:
                headers["If-Modified-Since"] = source.last_modified
            yield scrapy.Request(
                source.poll_url,
                headers=headers,
                callback=self.parse_feed,
                errback=self.feed_failed,
                cb_kwargs={"source": source},
                # A feed the user subscribed to is fetched even where robots.txt is meant for
                # crawlers; the article pages it links to obey robots.txt.
                meta={"handle_httpstatus_list": HANDLED_STATUSES, "dont_obey_robotstxt": True},
                dont_filter=True,
                priority=10,
            )

    def _record(
        self, source: Source, outcome: FetchOutcome, retry_after: float | None = None
    ) -> None:
        failures = 0 if outcome.ok else source.consecutive_failures + 1
        now = self.clock()
        due = next_due(now, source.every_seconds, failures, retry_after)
        outcome = replace(outcome, next_due=due)
        self.store.record_fetch(source.id, outcome, now)
        self.report.add_outcome(source, outcome)

    def parse_feed(self, response: Response, source: Source) -> Any:
        """A feed answered: store its validators, queue the pages of its new entries."""
        if response.status == 304:
            self._record(source, FetchOutcome(ok=True, status=304, not_modified=True))
            return
        if response.status == 410:
            logger.warning("source %s is gone (HTTP 410): deactivated", source.url)
            gone = "HTTP 410 Gone"
            self._record(source, FetchOutcome(ok=False, status=410, error=gone, gone=gone))
            return
        if response.status >= 400:
            error = f"HTTP {response.status}"
            retry_after = _retry_after(response)
            if retry_after is not None:
                error += f" (retry-after={retry_after:.0f}s)"
            self._record(
                source, FetchOutcome(ok=False, status=response.status, error=error), retry_after
            )
            return
        headers = {
            k.decode("latin-1"): v[0].decode("latin-1") for k, v in response.headers.items() if v
        }
        feed = parse_feed(response.body, response.url, headers)
        if not feed.is_feed:
            self._record(source, FetchOutcome(ok=False, status=response.status, error=feed.problem))
            return
        if feed.problem:
            logger.warning(
                "feed %s is malformed, keeping its entries: %s", source.url, feed.problem
            )
            self.report.count("feeds_malformed")
        by_url: dict[str, FeedEntry] = {}
        for entry in feed.entries:
            by_url.setdefault(canonicalize(entry.link), entry)
        known = self.store.known_urls(by_url)
        fresh = [(url, e) for url, e in by_url.items() if url not in known and url not in self.seen]
        self.seen.update(url for url, _ in fresh)
        moved = _permanent_redirect(response)
        if moved:
            logger.info("source %s moved permanently to %s", source.poll_url, moved)
        outcome = FetchOutcome(
            ok=True,
            status=response.status,
            fetch_url=moved,
            via=f"permanent redirect from {source.poll_url}" if moved else None,
            detected=getattr(feed, "kind", "") or None,
            etag=_header(response, "ETag"),
            last_modified=_header(response, "Last-Modified"),
            title=feed.title,
            entries=len(feed.entries),
            new_articles=len(fresh),
            error=feed.problem,
        )
        if not fresh:
            self._record(source, outcome)
            return
        self.pending[source.id] = (source, outcome, len(fresh), False)
        for url, entry in fresh:
            yield scrapy.Request(
                entry.link,
                callback=self.parse_article,
                errback=self.article_failed,
                cb_kwargs={"source": source, "entry": entry, "entry_url": url},
                meta={"handle_httpstatus_list": HANDLED_STATUSES},
            )

    def feed_failed(self, failure: Failure) -> None:
        """A feed could not be fetched at all (DNS, refused, timeout, too large, robots)."""
        source: Source = failure.request.cb_kwargs["source"]  # type: ignore[attr-defined]
        self._record(source, FetchOutcome(ok=False, error=_describe_failure(failure)))

    async def parse_article(
        self, response: Response, source: Source, entry: FeedEntry, entry_url: str
    ) -> None:
        """An article page answered: extract its text and store the article."""
        if response.status >= 400:
            why = f"page answered HTTP {response.status}"
            if response.status in TRANSIENT_STATUSES:
                self._defer(source, entry, entry_url, why)
            else:
                self._store_summary(source, entry, entry_url, why)
            return
        if not isinstance(response, scrapy.http.TextResponse):
            self._store_summary(source, entry, entry_url, "page is not HTML")
            return
        loop = asyncio.get_running_loop()
        try:
            extracted = await loop.run_in_executor(
                self.executor, extract_article, response.text, response.url
            )
        except Exception as exc:
            logger.warning("extraction failed for %s: %s", response.url, exc)
            extracted = None
        if extracted is None:
            self._store_summary(source, entry, entry_url, "no article text found on the page")
            return
        self._store_page(source, entry, entry_url, response.url, extracted)

    def article_failed(self, failure: Failure) -> None:
        """An article page could not be fetched: keep the entry with the feed's summary."""
        kwargs = failure.request.cb_kwargs  # type: ignore[attr-defined]
        why = f"page fetch failed: {_describe_failure(failure)}"
        if isinstance(failure.value, IgnoreRequest):  # robots.txt forbids it: that will not pass
            self._store_summary(kwargs["source"], kwargs["entry"], kwargs["entry_url"], why)
        else:
            self._defer(kwargs["source"], kwargs["entry"], kwargs["entry_url"], why)

    def _defer(self, source: Source, entry: FeedEntry, entry_url: str, why: str) -> None:
        """The page is unavailable for now (429, 5xx, network): try again at the next poll,
        and fall back to the feed's summary after MAX_PAGE_ATTEMPTS polls."""
        attempts = self.store.defer_entry(entry_url, source.id, why, self.clock())
        if attempts >= MAX_PAGE_ATTEMPTS:
            self._store_summary(source, entry, entry_url, f"{why} (after {attempts} attempts)")
            return
        logger.info("%s: %s, will retry at the next poll", entry.link, why)
        self.report.count("articles_deferred")
        self._entry_done(source, deferred=True)

    def _store_page(
        self, source: Source, entry: FeedEntry, entry_url: str, page_url: str, page: Extracted
    ) -> None:
        url = canonicalize(page_url)
        if page.canonical_url and same_site(page.canonical_url, page_url):
            url = canonicalize(page.canonical_url)
        published = entry.published or _date_only(page.date)
        title = entry.title or page.title or ""
        self._add(
            source,
            Article(
                url=url,
                entry_url=entry_url,
                source_id=source.id,
                title=title,
                text=_without_title(page.text, (title, page.title or "")),
                published=published,
                author=entry.author or page.author,
                fetched=self.clock(),
                extraction="page",
            ),
        )

    def _store_summary(self, source: Source, entry: FeedEntry, entry_url: str, why: str) -> None:
        logger.warning("%s: using the feed summary for %s (%s)", source.url, entry.link, why)
        self.report.count("articles_from_summary")
        self._add(
            source,
            Article(
                url=entry_url,
                entry_url=entry_url,
                source_id=source.id,
                title=entry.title,
                text=entry.summary,
                published=entry.published,
                author=entry.author,
                fetched=self.clock(),
                extraction="feed",
                extraction_note=why,
            ),
        )

    def _add(self, source: Source, article: Article) -> None:
        if self.store.add_article(article) is None:
            self.report.count("articles_duplicate")
        else:
            self.report.count("articles_new")
        self._entry_done(source, deferred=False)

    def _entry_done(self, source: Source, *, deferred: bool) -> None:
        """One entry of a polled feed is settled; the last one records the poll."""
        waiting = self.pending.pop(source.id, None)
        if waiting is None:
            return
        _, outcome, left, any_deferred = waiting
        any_deferred = any_deferred or deferred
        if left > 1:
            self.pending[source.id] = (source, outcome, left - 1, any_deferred)
            return
        if any_deferred:
            # Without validators, the next poll reads the whole feed again and retries the
            # deferred pages instead of getting a 304.
            outcome = replace(outcome, etag=None, last_modified=None)
        self._record(source, outcome)

    def closed(self, reason: str) -> None:
        """Release the extraction thread."""
        self.executor.shutdown(wait=True)


def _without_title(text: str, titles: tuple[str, ...]) -> str:
    """The body without a first line that only repeats the headline (the page's <h1>)."""
    first, _, rest = text.partition("\n")
    if rest.strip() and " ".join(first.split()).casefold() in {
        " ".join(t.split()).casefold() for t in titles if t
    }:
        return rest.lstrip("\n")
    return text


def _date_only(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
