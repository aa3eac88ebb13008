"""One pass of the pipeline: crawl → store → match → route → outbox → deliver.

The stages are the other packages' (``crawler``, ``watchlist``, ``alerts``); this module only
runs them in order, and :meth:`Pipeline.cycle` is the one order: ``newswatch crawl`` runs one
cycle, the daemon's crawl job one per tick (the sources that fall due while it crawls join
its crawl: :meth:`Pipeline.add_to_crawl`). Matching and delivery do not wait for the end of
the crawl: every STREAM_SECONDS (sooner when STREAM_SOURCES polls have ended) the articles
stored so far are matched, routed and delivered while the crawl goes on (but those of a
source's first poll, matched once it is complete: CrawlRunner.unsettled), clustered batch by
batch and decided together, one email a reader a pass; what is left is matched when the
crawl ends.

Each step reads its input from storage and commits its output before the next starts, so a
crash or a cancellation between two steps leaves work the next cycle picks up: stored
articles stay marked unmatched until the transaction that records their matches and alerts,
articles edited in place stay in the re-match queue, queued emails stay pending.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from alerts import (
    DeliveryReport,
    MailOutage,
    RecipientPolicies,
    RetryPolicy,
    Transport,
    compose_health,
    deliver_due,
    redact,
)
from alerts.route import Routed, route, send_digests
from crawler import CrawlReport
from crawler.googlenews import is_link as google_news_link
from storage import PipelineStore, Source, StorageError, StoredArticle, Topic, to_iso, utcnow
from storage.errors import said_stopping
from storage.ports import Assignment
from storage.stories import TITLED_CHARS
from watchlist import Verdict, decide, follow_merges
from watchlist.stories import (
    WINDOW,
    Signature,
    StoryIndex,
    copy_story,
    only_headline,
    opens_as,
    signature,
    site_key,
)
from watchlist.templates import without_templates

from .upkeep import upkeep

if TYPE_CHECKING:
    from crawler import CrawlRunner

logger = logging.getLogger(__name__)

MATCH_BATCH = 1000
#: The daemon matches a backlog in slices of about this many seconds (whole batches), the
#: event loop let run between them (Pipeline.match_soon).
MATCH_SLICE = 0.5
#: While a crawl runs, the articles it has stored (but those of first polls under way) are
#: matched and their alerts delivered this often (seconds)...
STREAM_SECONDS = 2.0
#: ...or as soon as this many more polls have ended.
STREAM_SOURCES = 20
#: ...STREAM_BATCH articles at a time, each once the crawl's page workers have STREAM_AHEAD
#: pages each in hand or waiting for them (or after STREAM_WAIT seconds). The pages the crawl
#: fetched wait for the workers only as long as crawler.settings.PAGES_WAITING_BYTES of
#: them last, and while a batch is matched the event loop fetches no more: passes matching
#: the 300-600 articles of 20 polls at once held the loop 0.1-0.7 s every 3 s, both workers
#: waiting for pages meanwhile (without streaming, they never waited). Matched while the
#: workers have pages enough, a batch takes the time the crawl's process would spend
#: waiting for them: in a cold cycle of 300 sites, the workers waited 3.8 s for pages
#: instead of 10.2, the cores stood idle 3.1 s instead of 6.2 (batches of 50 once 16
#: pages a worker were ahead: 7.6 and 4.6 s).
STREAM_BATCH = 30
STREAM_AHEAD = 24
STREAM_WAIT = 0.5
#: The new articles of a pass are clustered batch by batch, and decided, routed and recorded
#: together, up to this many at a time: an email a reader for each batch (a busy day's later
#: polls, 683 new articles, sent a reader 23 emails in 6 s where a pass had sent one). Their
#: decision holds the event loop about 0.25 ms an article (matching, composing, recording).
STREAM_MERGE = 300
STORY_WINDOW = WINDOW
#: The in-memory index of stories is rebuilt from storage this often (dropping old articles).
STORY_REBUILD = timedelta(days=1)
#: Stale signatures (see Pipeline._resign) made again and stored at a time.
RESIGN_ROWS = 500
#: Articles the daemon's hourly housekeeping prunes at most (about 10 s of its event loop).
PRUNE_PER_TICK = 20_000


@dataclass
class MatchReport:
    """What one matching pass found and queued."""

    articles: int = 0
    matches: int = 0
    emails: int = 0
    dropped: int = 0  # matches ruled out by a topic's sources or exclude query
    repeats: int = 0  # matches not alerted: their story had already alerted for the topic
    queued: int = 0  # alerts held for a digest (digest-mode topics, storm control)
    rematched: int = 0  # articles edited in place, matched again (counted in articles too)
    #: CPU seconds by stage: "stories", "templates", "match", "compose", "record".
    cpu: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))

    def count(self, articles: int, rematch: bool, verdict: Verdict, routed: Routed) -> None:
        """Add a batch of ``articles`` (``rematch``: edited in place) and what it made."""
        self.articles += articles
        self.rematched += articles if rematch else 0
        self.matches += len(verdict.matches)
        self.dropped += verdict.dropped
        self.repeats += verdict.repeats
        self.emails += len(routed.emails)
        self.queued += len(routed.queued)

    def add(self, other: MatchReport) -> None:
        """Add what another pass (of the same cycle) did."""
        self.articles += other.articles
        self.matches += other.matches
        self.emails += other.emails
        self.dropped += other.dropped
        self.repeats += other.repeats
        self.queued += other.queued
        self.rematched += other.rematched
        for stage, seconds in other.cpu.items():
            self.cpu[stage] += seconds


class _Laps:
    """CPU time of this thread between one lap and the next, added up by stage."""

    def __init__(self, into: defaultdict[str, float]) -> None:
        self.into, self.last = into, time.thread_time()

    def lap(self, stage: str) -> None:
        now = time.thread_time()
        self.into[stage] += now - self.last
        self.last = now


@dataclass
class _Pending:
    """The new articles of a pass while a crawl runs, clustered and waiting to be decided
    with its later batches (Pipeline._match): each with its story; ``last``, the highest
    id among them (the next batch is read after it: they are still stored unmatched);
    ``through``, the last article stored when the pass began (those stored since are the
    next pass's: a busy crawl stored articles as fast as a pass took them, and the alerts
    of its first batches waited for STREAM_MERGE articles or for the crawl to pause)."""

    through: int
    articles: list[StoredArticle] = field(default_factory=list)
    stories: dict[int, int] = field(default_factory=dict)
    last: int = 0

    def add(self, batch: Sequence[StoredArticle], stories: dict[int, int]) -> None:
        self.articles.extend(batch)
        self.stories.update(stories)
        self.last = max([self.last, *(article.id for article in batch)])

    def take(self) -> tuple[list[StoredArticle], dict[int, int]]:
        """The articles and their stories, the holder emptied (``last`` kept)."""
        taken = self.articles, self.stories
        self.articles, self.stories = [], {}
        return taken


@dataclass
class CycleReport:
    """What one full cycle did."""

    crawl: CrawlReport = field(default_factory=CrawlReport)
    matched: MatchReport = field(default_factory=MatchReport)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    digests: int = 0  # digests queued
    health: int = 0  # sources whose health change was reported


@dataclass
class Pipeline:
    """The stages wired together, with everything they need passed in."""

    store: PipelineStore
    crawler: CrawlRunner
    transport: Transport
    lookback: timedelta
    retry: RetryPolicy
    clock: Callable[[], datetime] = utcnow
    operator: tuple[str, ...] = ()
    health_after: timedelta = timedelta(hours=24)
    keep: timedelta = timedelta(days=365)
    recipients: RecipientPolicies = field(default_factory=RecipientPolicies)
    #: A crawl is storing pages: the cycle matches the sources whose poll has ended as it
    #: goes (a source's poll must be stored whole before any of its pages is matched, so
    #: that a site's first poll knows its template, see watchlist.templates).
    crawling: bool = False
    #: A pass matches while a crawl runs (stream): its articles, clustered, wait there stored
    #: unmatched to be decided with its later batches, and no other match may take them (the
    #: crawl may end meanwhile: see Daemon._match_and_deliver).
    streaming: bool = False
    #: How often a cycle matches and delivers while its crawl runs (seconds; 0: only once
    #: the crawl has ended, so that every copy of a story it brings is in the first alert).
    stream_seconds: float = STREAM_SECONDS
    #: Shutting down: a cycle ends with its crawl; what it stored is matched at the next start.
    stopping: bool = False
    #: Seconds after which a delivery run sends no more (the rest wait for the next run), or
    #: None: every due message (`newswatch crawl`). The daemon sets it: a mail server that
    #: takes its time to answer (up to 10 minutes a message, see SmtpSettings.data_timeout)
    #: must not hold the cycle, and with it the next polls, for a whole batch.
    delivery_budget: float | None = None
    #: The mail server the delivery runs found down, and when they try it again (a reload
    #: forgets it: its settings may have been mended).
    outage: MailOutage = field(default_factory=MailOutage)
    _delivery: asyncio.Future[DeliveryReport] | None = None
    _delivery_lock: asyncio.Lock | None = None
    #: The transport of the delivery run under way (a reload may have replaced
    #: :attr:`transport` since it began).
    _delivering: Transport | None = None
    _again: bool = False  # a delivery was asked for while one ran: run again after it
    _stories: StoryIndex | None = None
    #: The titles of the story window's articles too short to sign, with the index.
    _short_titles: set[str] = field(default_factory=set)
    _stories_built: datetime | None = None
    #: An article older than the story window is stored: an older copy may be looked for
    #: (set once seen; a new install's first week has none to find).
    _older: bool = False
    #: When this process began its first cycle or first looked for due digests: one due
    #: before was missed while no newswatch ran, and says it is late
    #: (alerts.route.send_digests). A crawl from cron that ran past a digest time was running
    #: at it.
    _looking_since: datetime | None = None

    async def cycle(
        self, sources: Sequence[Source], crawled: Callable[[CrawlReport], None] | None = None
    ) -> CycleReport:
        """One pass of every stage: crawl ``sources`` (none: skip the crawl), match what is
        new and route its alerts to the outbox, queue the digests and health reports that
        are due, deliver. ``crawled`` is called with the crawl's report as soon as it ends
        (whatever the next stages do: on a full disk, they fail too)."""
        report = CycleReport()
        self._running_since()
        if sources:
            report.crawl = await self._crawl_streaming(sources, report)
            if crawled is not None:
                crawled(report.crawl)
        if self.stopping:
            return report
        report.matched.add(await self.match_soon())
        report.digests = self.digests()
        report.health = self.check_health()
        _add_delivery(report.delivery, await self.deliver_unless_busy())
        return report

    async def _crawl_streaming(self, sources: Sequence[Source], report: CycleReport) -> CrawlReport:
        """The crawl, with matching and delivery of what it has stored every
        ``stream_seconds`` (or STREAM_SOURCES polls) while it runs (stream); what they did
        is added to ``report``."""
        if self.stream_seconds <= 0:
            return await self.crawl(sources)
        crawl = asyncio.ensure_future(self.crawl(sources))
        streaming = True
        streamed = sum(report.matched.cpu.values())
        try:
            while not crawl.done():
                pause = asyncio.ensure_future(
                    self.crawler.wait_polls(STREAM_SOURCES, self.stream_seconds)
                )
                try:
                    await asyncio.wait([crawl, pause], return_when=asyncio.FIRST_COMPLETED)
                finally:
                    pause.cancel()
                if crawl.done() or self.stopping or not streaming:
                    continue
                try:
                    await self.stream(report)
                except StorageError as exc:  # a full disk, a lock held: said in one line
                    # Its statement cut short by the process's stop: the stop's, said so.
                    if not said_stopping(exc, "matching during the crawl"):
                        logger.warning("matching during the crawl failed (%s); waiting for "
                                       "its end", exc)
                    streaming = False
                except Exception:
                    # The crawl goes on; its end matches (and reports) again.
                    logger.exception("matching during the crawl failed; waiting for its end")
                    streaming = False
        except BaseException:
            crawl.cancel()
            raise
        result = crawl.result()
        # The crawl's "fetch" time is its process's CPU beyond its own stages: take out the
        # matching done meanwhile (counted in report.matched.cpu).
        streamed = sum(report.matched.cpu.values()) - streamed
        if "fetch" in result.cpu:
            result.cpu["fetch"] = max(0.0, result.cpu["fetch"] - streamed)
        return result

    async def stream(self, report: CycleReport) -> None:
        """One pass while a crawl runs: match the new articles stored so far (but those of
        sources' first polls under way), and deliver the alerts they queued."""
        self.crawler.store_later_polls()
        self.streaming = True
        try:
            matched = await self.match_soon(edited=False, size=STREAM_BATCH,
                                            before=self._pages_ahead)
        finally:
            self.streaming = False
        report.matched.add(matched)
        if matched.emails:
            _add_delivery(report.delivery, await self.deliver_unless_busy())

    async def crawl(self, sources: Sequence[Source]) -> CrawlReport:
        """Poll ``sources`` and store their new articles."""
        self.crawling = True
        try:
            report = await self.crawler.crawl(self.store, list(sources), self.clock)
        finally:
            self.crawling = False
        for source, outcome in report.failures:
            logger.warning("source %s failed: %s", source.url, outcome.error)
        return report

    def add_to_crawl(self, sources: Sequence[Source]) -> list[Source]:
        """Have the crawl under way poll ``sources`` too (the daemon's ticks while its cycle
        crawls): a source that falls due then does not wait for the slowest poll of that
        crawl; its poll is matched and alerts as it ends, as the crawl's others do. Returns
        the sources the crawl took (none without a crawl, or one that takes no more; never a
        source it is polling: CrawlRunner.add)."""
        if not self.crawling or self.stopping:
            return []
        return self.crawler.add(sources)

    def match(self, waiting: Collection[int] = (), *, edited: bool = True) -> MatchReport:
        """Match every article not matched yet but those of the ``waiting`` sources (source
        ids: polls under way), then (``edited``) those edited in place; queue one email per
        recipient."""
        report = MatchReport()
        self._match(report, waiting, edited)
        self._log_matched(report)
        return report

    async def match_soon(
        self, waiting: Callable[[], Collection[int]] = tuple, *, edited: bool = True,
        size: int | None = None, before: Callable[[], Awaitable[None]] | None = None,
    ) -> MatchReport:
        """``match``, in slices of MATCH_SLICE seconds (whole batches of ``size`` articles,
        MATCH_BATCH by default), the event loop let run between them; none after a stop is
        asked for. A backlog (a new topic's, an upgrade's: 20,000 articles) was matched in
        one call: SIGTERM was not heard until it was all done, minutes later, and systemd
        killed the daemon after 90 s. The sources whose articles wait (``waiting()``, and the
        first polls of a crawl that started meanwhile) are asked for at each slice. With
        ``before``, a slice is one batch, matched once ``before()`` returns (while a crawl
        runs: _pages_ahead)."""
        report = MatchReport()
        # A pass's new articles, once clustered, wait to be decided with its later batches
        # (STREAM_MERGE): one email a reader a pass (see _Pending).
        # (A pass cut short by an error leaves them unmatched, to the next one.)
        pending = _Pending(self.store.last_article_id()) if before is not None else None
        while True:
            if before is not None:
                await before()
            held = {*waiting(), *(self.crawler.unsettled() if self.crawling else ())}
            until = time.monotonic() + (0.0 if before is not None else MATCH_SLICE)
            if not self._match(report, held, edited, until, size, pending):
                break
            if self.stopping:
                break
            await asyncio.sleep(0)
        if pending is not None and pending.articles:
            self._decide(report, pending.take(), self._topics(), kind="new")
        self._log_matched(report)
        return report

    async def _pages_ahead(self) -> None:
        """Return once the crawl's page workers have STREAM_AHEAD pages each in hand or
        waiting for them (none runs, or it extracts its pages in this process: at once), or
        after STREAM_WAIT seconds."""
        deadline = time.monotonic() + STREAM_WAIT
        while self.crawling and time.monotonic() < deadline:
            pages, workers = self.crawler.pages_ahead()
            if not workers or pages >= STREAM_AHEAD * workers:
                return
            await asyncio.sleep(0.005)

    def _match(self, report: MatchReport, waiting: Collection[int], edited: bool,
               until: float | None = None, size: int | None = None,
               pending: _Pending | None = None) -> bool:
        """Match batches of ``size`` into ``report`` (see match) until none is left (False)
        or, after one at least, ``until`` (time.monotonic()) has passed (True). With
        ``pending``, the new articles are clustered batch by batch and wait there to be
        decided with the pass's later batches, STREAM_MERGE at a time (the caller decides
        what is left at the pass's end): stored unmatched until then, a crash between two
        batches leaves them to the next pass, clustered already."""
        topics = self._topics()
        for batch, kind in self._batches(waiting, edited, size, pending):
            laps = _Laps(report.cpu)
            # Re-matched: edited in place, or listed by another source now (for the topics
            # limited to it: no edit, its alerts are new ones).
            rematch, edit = kind != "new", kind == "edited"
            # The listings new to its verdict: an edit's too, which it decides as well.
            batch = self.store.with_listing_sources(batch, anew=rematch)
            if rematch:  # the poll before the one that found it says nothing of it now
                batch = [replace(a, since=None) for a in batch]
            stories = self.cluster(batch, self.clock(), edited=edit)
            laps.lap("stories")
            # What a site repeats on its other pages (a disclaimer, a subscribe box) is no
            # part of an article: matched, highlighted and stored without it.
            batch = without_templates(self.store, batch, stories)
            laps.lap("templates")
            if pending is not None and kind == "new":
                pending.add(batch, stories)
                if len(pending.articles) >= STREAM_MERGE:
                    self._decide(report, pending.take(), topics, kind=kind)
            else:
                self._decide(report, (batch, stories), topics, kind=kind)
            if until is not None and time.monotonic() >= until:
                return True
        return False

    def _topics(self) -> list[Topic]:
        """The active topics as matching reads them, once for a run of batches: a topic
        limited to a source merged into another follows that one (follow_merges)."""
        return follow_merges(self.store.topics(), self.store.merged_sources())

    def _decide(
        self, report: MatchReport, clustered: tuple[list[StoredArticle], dict[int, int]],
        topics: Sequence[Topic], *, kind: str,
    ) -> None:
        """Decide, route and record a batch of articles already clustered (``clustered``:
        the articles, their templates taken out, and each one's story) of ``kind`` (see
        _batches), in one transaction: their matches, alerts and emails, and the articles
        marked matched."""
        batch, stories = clustered
        now = self.clock()
        laps = _Laps(report.cpu)
        rematch, edit = kind != "new", kind == "edited"
        # A source removed while its articles were crawled or waited to be matched (its page
        # in flight, its first poll not over): the reader expects nothing more from it. They
        # are marked matched, without a match, as they stay stored (sources remove keeps
        # them); checked now, as the ones pending were read before the removal.
        removed = self.store.of_removed_sources(a.id for a in batch)
        alive = [a for a in batch if a.id not in removed]
        # Listed by another source now: the sources not removed tell whose topics it is new
        # to (see watchlist.verdict.listed_anew). One deactivated as gone (HTTP 410) is none:
        # its story, listed then by the site's new feed, went to every topic added since.
        kept = ({s.url for s in self.store.sources(active_only=False) if s.active or s.deactivated}
                if kind == "relisted" else ())
        verdict = decide(self.store, alive, topics, stories, now=now, lookback=self.lookback,
                         rematch=rematch, edited=edit, kept=kept)
        laps.lap("match")
        # A reader mailed a story already (under a topic of every source) is not mailed
        # it again under another topic: not when another source lists its article now,
        # nor for a later copy of it (on a source another of their topics is limited
        # to). An edit in place keeps its own rule (an "Updated:" email).
        told = None if edit else self.store.told_of(
            [m.article_id for m in verdict.matches if m.alert])
        routed = route(self.store, self.recipients, alive, verdict, topics, stories, now,
                       edited=edit, told=told)
        laps.lap("compose")
        self.store.record_matches(
            verdict.matches,
            routed.emails,
            watermark=None,
            now=now,
            story_alerts=verdict.story_alerts,
            digest=routed.queued,
            rematched=batch if rematch else (),
            matched=() if rematch else [a.id for a in batch],
            refreshed=verdict.refreshed,
            mailed=routed.mailed,
        )
        laps.lap("record")
        report.count(len(batch), rematch, verdict, routed)

    @staticmethod
    def _log_matched(report: MatchReport) -> None:
        if report.matches or report.dropped:
            logger.info(
                "matched %d articles: %d matches, %d emails queued; "
                "%d matches ruled out by topic sources or exclude queries; "
                "%d not alerted again for a story that already alerted",
                report.articles,
                report.matches,
                report.emails,
                report.dropped,
                report.repeats,
            )

    def _batches(
        self, waiting: Collection[int], edited: bool, size: int | None = None,
        pending: _Pending | None = None,
    ) -> Iterator[tuple[list[StoredArticle], str]]:
        """The batches to match, each with its kind: the "new" articles (not matched yet,
        except those of the ``waiting`` sources, those ``pending`` holds and those stored
        since its pass began), then
        (``edited``) the re-match queue's: articles "edited" in place, and those another
        source lists now ("relisted")."""
        size = MATCH_BATCH if size is None else size
        while batch := self.store.unmatched_articles(
            size, waiting, after=pending.last if pending is not None else 0,
            through=pending.through if pending is not None else None,
        ):
            yield batch, "new"
        while edited and (batch := self.store.rematch_queue(size)):
            yield batch, "edited"
        while edited and (batch := self.store.rematch_queue(size, relisted=True)):
            yield batch, "relisted"

    def cluster(
        self, batch: Sequence[StoredArticle], now: datetime, *, edited: bool = False
    ) -> dict[int, int]:
        """Each article's story (article id → story id): articles not clustered yet join the
        story of a near-duplicate seen in the last STORY_WINDOW, or of an older article of
        their site they are a copy of (watchlist.stories.COPY), or start one. The
        assignments are stored before anything else happens to the batch. Articles
        ``edited`` in place keep their story, and their signatures are made again from their
        new text: a brief rewritten into the full story kept the brief's, and the full
        story's copies on other sites were a story of their own, mailed again."""
        index = self._story_index(now)
        stories = {a.id: a.story_id for a in batch if a.story_id is not None}
        assignments: list[Assignment] = []
        resigned: list[tuple[int, bytes | None, bytes | None, bytes | None]] = []
        titled: dict[str, list[tuple[int, str, bool, str, datetime | None]]] = {}  # by title
        started: set[int] = set()  # the stories this batch started
        for article in batch:
            if article.story_id is not None:
                if edited:
                    sig = signature(article.text)
                    resigned.append((article.id, *_stored(sig)))
                    if sig is not None:
                        index.update(article.id, article.story_id, sig, site_key(article.url))
                continue
            sig = signature(article.text)
            site = site_key(article.url)
            found = index.matches(sig, site) if sig is not None else []
            story_id = found[0] if found else None
            if len(found) > 1:
                story_id = self._fold(index, found, started, assignments, titled)
            if story_id is None and sig is not None and self._older_stored(now):
                # An older article of its site back under a new address (only where the
                # window has nothing: one indexed query for each new story).
                story_id = copy_story(sig, site, self.store.copies(
                    sig.full, sig.lede, now - STORY_WINDOW, partial(_of_site, site)))
            if story_id is None and article.title.strip() and (
                # A signed text looks for a short one under its headline: only where there
                # is one (a query for each new story cost 0.2 ms an article in a cold cycle).
                sig is None or article.title in self._short_titles
                or any(not signed for _, _, signed, _, _ in titled.get(article.title, ()))
            ):
                story_id = self._same_headline(article, sig is not None, titled, now)
            if sig is None and article.title.strip():
                self._short_titles.add(article.title)
            if article.title.strip():
                story = story_id if story_id is not None else article.id
                titled.setdefault(article.title, []).append(
                    (story, article.url, sig is not None, article.text, article.published))
            if sig is not None:
                # A new story's id is its first article's id (see MatchStore.assign_stories).
                story = story_id if story_id is not None else article.id
                index.add(article.id, story, sig, site)
            if story_id is None:
                started.add(article.id)
            assignments.append((article.id, story_id, *_stored(sig)))
        if resigned:
            try:
                self.store.replace_signatures(resigned)
            except BaseException:
                self._stories = None
                raise
        if assignments:
            try:
                stories.update(self.store.assign_stories(assignments, now))
            except BaseException:
                # The index now holds assignments that were not stored: rebuild it next time.
                self._stories = None
                raise
        return stories

    def _older_stored(self, now: datetime) -> bool:
        """Whether an article fetched before the story window is stored, which an older copy
        could be (asked until one is: in a new install's first crawls, the lookup of an
        older copy for each new story found nothing, 0.1 ms an article of a cold cycle)."""
        if not self._older:
            self._older = self.store.stored_before(now - STORY_WINDOW)
        return self._older

    @staticmethod
    def _fold(
        index: StoryIndex, found: list[int], started: set[int],
        assignments: list[Assignment],
        titled: dict[str, list[tuple[int, str, bool, str, datetime | None]]],
    ) -> int:
        """The story of an article alike with articles of several stories (``found``, the
        most alike first), after the stories of them this batch started are folded into
        it when their articles are alike with its own (StoryIndex.one_story): the copies
        the index could not tell alike, a brief of the wire's first paragraphs and a
        regional copy under its own opening, found before the wire's text, were two
        stories in one email, or two emails. The story is the first of ``found`` that the
        batch did not start, when one is alike with the most alike (it may have alerted
        already); else the first the batch started. Stories of earlier batches are never
        folded: they may have alerted, each for its own topics. Nor are those not alike
        with the story: a roundup that holds two wire briefs is alike with both, two
        stories."""
        story = found[0]
        if story in started:
            story = next((s for s in found[1:] if s not in started
                          and index.one_story(s, found[0])), story)
        folded = {s for s in found if s != story and s in started and index.one_story(story, s)}
        if not folded:
            return story
        if story in started:  # the first started: its row is stored before the others'
            folded.add(story)
            story = min(folded)
            folded.discard(story)
        for other in folded:
            index.merge(other, story)
            started.discard(other)
        for i, (article_id, story_id, full, lede, second) in enumerate(assignments):
            if (story_id if story_id is not None else article_id) in folded:
                assignments[i] = (article_id, story, full, lede, second)
        for title, items in titled.items():
            titled[title] = [(story if item[0] in folded else item[0], *item[1:])
                             for item in items]
        return story

    def _same_headline(
        self, article: StoredArticle, signed: bool,
        titled: dict[str, list[tuple[int, str, bool, str, datetime | None]]], now: datetime,
    ) -> int | None:
        """The story of an article of another site under the same headline, one of the two
        texts too short to sign and opening as the other does (watchlist.stories.opens_as)
        or being the headline alone (only_headline: a Google News item whose link names no
        page, under its publisher's headline); or of one of the same site under the same
        headline, text and publication date: the same item at another address (a CMS that
        moved its articles, a section's path, a tracking parameter; a brief, or a page kept
        with its feed's summary, was mailed again; a daily brief's text under its daily
        headline is each day's item). None when there is none. The batch's own articles come
        first."""
        # A Google News link names no site: its items of two publishers are two sites' (the
        # same wire story carried by several outlets is one story, mailed once).
        site = None if google_news_link(article.url) else site_key(article.url)
        found = titled.get(article.title, []) + self.store.titled(
            article.title, now - STORY_WINDOW, article.id)
        words = article.text[:TITLED_CHARS].split()  # as much as storage gives of the others
        for story_id, url, other_signed, text, published in found:
            if signed and other_signed:
                continue
            if site is not None and site_key(url) == site:
                if published == article.published and text[:TITLED_CHARS].split() == words:
                    return story_id
                continue
            if signed:  # the other is the short one
                same = opens_as(text, article.text) or only_headline(text, article.title)
            else:
                same = (opens_as(article.text, text)
                        or only_headline(article.text, article.title)
                        or (not other_signed and (opens_as(text, article.text)
                                                  or only_headline(text, article.title))))
            if same:
                return story_id
        return None

    def forget_stories(self) -> None:
        """Rebuild the in-memory index of stories from storage before the next match (another
        process has clustered articles since this one last did)."""
        self._stories = None

    def _story_index(self, now: datetime) -> StoryIndex:
        """The in-memory index of recent stories, (re)built from storage when needed."""
        if (
            self._stories is None
            or self._stories_built is None
            or now - self._stories_built >= STORY_REBUILD
        ):
            self._stories = None  # the old index goes before the new one is built
            # The signatures' own table keeps a second window: a clock set back by as much
            # still finds every article of its window there.
            self.store.forget_signatures(now - 2 * STORY_WINDOW)
            self._resign(now - STORY_WINDOW)
            self._sign_second_ledes(now - STORY_WINDOW)
            index = StoryIndex()
            for article_id, story_id, full, lede, second, url in self.store.recent_signatures(
                now - STORY_WINDOW
            ):
                try:
                    index.add(article_id, story_id, Signature.from_bytes(full, lede, second),
                              site_key(url))
                except ValueError:
                    logger.warning("article %d: unreadable story signature, ignored", article_id)
            self._short_titles = self.store.short_titles(now - STORY_WINDOW)
            self._stories, self._stories_built = index, now
        return self._stories

    def _resign(self, since: datetime) -> None:
        """Make again the signatures an older hashing made (stale: see storage migration
        14) for the articles of the story window, from their texts, RESIGN_ROWS at a time."""
        while stale := self.store.stale_signatures(since, RESIGN_ROWS):
            made = []
            for article_id, text in stale:
                made.append((article_id, *_stored(signature(text))))
            self.store.replace_signatures(made)

    def _sign_second_ledes(self, since: datetime) -> None:
        """Make the signatures of the ledes after their first paragraphs that the articles
        of the story window clustered before schema 43 lack (see storage migration 45; the
        later ledes', before 62), from their texts, RESIGN_ROWS at a time: a brief of the
        wire's first paragraphs arriving after the upgrade finds a regional copy under its
        own opening stored before by it, and the wire's original the update a site stored
        first, as they would have."""
        made: list[tuple[int, str, bytes | None]] = []
        for article_id, text in self.store.unsigned_second_ledes(since):
            made.append((article_id, text, _stored(signature(text))[2]))
            if len(made) >= RESIGN_ROWS:
                self.store.sign_second_ledes(made)
                made = []
        if made:
            self.store.sign_second_ledes(made)

    def digests(self) -> int:
        """Queue the digests that are due (digest times, storm-folded alerts); returns how
        many."""
        running_since = self._running_since()
        return send_digests(self.store, self.recipients, self.clock(), running_since)

    def _running_since(self) -> datetime:
        """When this process began its first cycle or first looked for due digests (see
        _looking_since)."""
        if self._looking_since is None:
            self._looking_since = self.clock()
        return self._looking_since

    def check_health(self) -> int:
        """Queue one email to the operator per change of source health; returns how many
        sources were reported. Without an operator, the change is only logged."""
        now = self.clock()
        failing, recovered = self.store.health_changes(
            now, self.health_after, mailed=bool(self.operator)
        )
        if not failing and not recovered:
            return 0
        for row in failing:
            if row.stale:
                logger.warning("source %s stale: its polls succeed, but its last new article "
                               "came %s", row.url, to_iso(row.last_new) or "never")
                continue
            logger.warning(
                "source %s %s: %s",
                row.url,
                "deactivated" if row.deactivated else f"failing since {to_iso(row.failing_since)}",
                row.deactivated or row.last_error,
            )
        for row in recovered:
            logger.info("source %s recovered", row.url)
        news = [r for r in recovered if r.told]  # not a failure the operator never heard of
        emails = [compose_health(r, failing, news, now, tz=self.recipients.of(r).zone)
                  for r in self.operator]
        if not failing and not news:
            emails = []
        self.store.record_health(emails, failing, [r.id for r in recovered], now)
        return len(failing) + len(recovered)

    def housekeeping(self) -> int:
        """Retention and upkeep (scheduler.upkeep, as ``newswatch prune`` does): prune
        article text older than ``keep``, forget the site memory of old articles and the
        notification services' waits that ended, checkpoint."""
        # PRUNE_PER_TICK at most: the event loop waits for it (a backlog, database.keep
        # lowered, is pruned over the next hours).
        pruned = upkeep(self.store, self.clock(), self.keep, limit=PRUNE_PER_TICK)
        if pruned:
            logger.info("pruned the text of %d article(s) older than %s", pruned, self.keep)
        return pruned

    async def deliver(self) -> DeliveryReport:
        """Send the due outbox messages; one delivery at a time in the process (and again
        when :meth:`deliver_unless_busy` asked meanwhile)."""
        if self._delivery_lock is None:
            self._delivery_lock = asyncio.Lock()
        report = DeliveryReport()
        async with self._delivery_lock:
            watching = {t.id: set(t.notify) for t in self.store.topics()}
            for reader in self.store.drop_unwatched(watching):
                logger.info("an alert for %s not sent: taken off its topics before it could be",
                            redact(reader))
            while True:
                self._again = False
                self._delivering = self.transport
                self._delivery = asyncio.ensure_future(
                    deliver_due(self.store, self._delivering, now=self.clock(),
                                policy=self.retry, stopping=self._delivery_over(),
                                outage=self.outage)
                )
                # Shielded: a cancelled job must not abandon a message between the server's
                # acceptance and its "sent" mark; shutdown waits for this future instead.
                _add_delivery(report, await asyncio.shield(self._delivery))
                if not self._again or self.stopping:
                    break
        if report.errors:  # each message's own line, or its run's, said it (alerts.deliver)
            logger.debug(
                "delivery via %s: %s", self.transport.describe(), "; ".join(report.errors)
            )
        return report

    async def deliver_unless_busy(self) -> DeliveryReport:
        """:meth:`deliver`, unless a delivery runs (another job's: a digest sent to a slow
        mail server): that run then goes on with what is due after it, and this returns at
        once, so that a crawl's cycle, and the polls after it, do not wait for that server
        (a source added meanwhile waited for a digest's 20-second send)."""
        if self._delivery_lock is not None and self._delivery_lock.locked():
            self._again = True
            return DeliveryReport()
        return await self.deliver()

    def _delivery_over(self) -> Callable[[], bool]:
        """Whether a delivery run starting now is to end after its send under way: at a stop,
        or past its budget."""
        if self.delivery_budget is None:
            return lambda: self.stopping
        deadline = time.monotonic() + self.delivery_budget
        return lambda: self.stopping or time.monotonic() > deadline

    def stop(self) -> None:
        """Shut down (:attr:`stopping`), and end at once the send under way whose message
        the mail server does not have whole yet (its end not sent): it cannot deliver it, and
        the message waits for the next start. One awaiting the server's verdict on its end
        is finished (:meth:`finish_delivery`): the server may have taken it. A stop waited
        for each command's timeout of a server slow at every step (14 minutes with the
        defaults), past systemd's TimeoutStopSec."""
        self.stopping = True
        self.transport.stop()
        if self._delivering is not None and self._delivering is not self.transport:
            self._delivering.stop()  # the server of before a reload

    def stop_waits_for(self, crawl_grace: str) -> str:
        """What a stop under way waits for, in words (``crawl_grace``: how long the crawl
        may take), said when the signal comes again: Ctrl-C pressed again while the stop
        waited (for a mail server's verdict: up to 10 minutes) got no word."""
        if self.crawling:
            return f"the crawl under way to end ({crawl_grace})"
        if self._delivery is None or self._delivery.done():
            return "its last steps"
        transport = self._delivering or self.transport
        awaited = getattr(transport, "verdict_awaited", None)  # SMTP's: a verdict to await
        if awaited is not None and (seconds := awaited()) is not None:
            return (f"the answer of {transport.describe()} to a message it has whole (up to "
                    f"{seconds:g} s): stopping without it could send the message again")
        return "the send under way to end"

    async def finish_delivery(self) -> None:
        """Wait for a delivery in progress (at shutdown)."""
        if self._delivery is not None and not self._delivery.done():
            await asyncio.wait([self._delivery])


def _stored(sig: Signature | None) -> tuple[bytes | None, bytes | None, bytes | None]:
    """The signatures of a text as storage keeps them (None: too short to compare)."""
    return sig.to_bytes() if sig is not None else (None, None, None)


def _of_site(site: int, url: str) -> bool:
    """Whether ``url`` is of ``site`` (watchlist.stories.site_key)."""
    return site_key(url) == site


def _add_delivery(total: DeliveryReport, more: DeliveryReport) -> None:
    """Add what another delivery run (of the same cycle) did to ``total``."""
    total.sent += more.sent
    total.retrying += more.retrying
    total.failed += more.failed
    for error in more.errors:
        total.note(error)
