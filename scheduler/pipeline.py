"""One pass of the pipeline: crawl → store → match → outbox → deliver.

Each step reads its input from storage and commits its output before the next starts, so a
crash or a cancellation between two steps leaves work the next cycle picks up:
stored-but-unmatched articles sit above the match watermark, articles edited in place stay
in the re-match queue, queued emails stay pending.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from scrapy.crawler import AsyncCrawlerRunner

import crawler
from alerts import (
    DeliveryReport,
    RecipientPolicies,
    RetryPolicy,
    compose,
    compose_health,
    deliver_due,
)
from storage import Email, Match, Source, Store, StoredArticle, Topic, utcnow
from storage.topics import source_matches
from watchlist import match_articles
from watchlist.stories import WINDOW, Signature, StoryIndex, signature
from watchlist.templates import without_templates

from .digests import Held, alert_item, also_on, route, send_digests, storm_notices

logger = logging.getLogger(__name__)

MATCH_BATCH = 1000
STORY_WINDOW = WINDOW
#: The in-memory index of stories is rebuilt from storage this often (dropping old articles).
STORY_REBUILD = timedelta(days=1)
#: Each site's memory of text blocks (watchlist.templates) covers its articles of this long
#: (a template stands on every page; older pages only make the table grow).
BLOCK_MEMORY = timedelta(days=90)


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


class _Laps:
    """CPU time of this thread between one lap and the next, added up by stage."""

    def __init__(self, into: defaultdict[str, float]) -> None:
        self.into, self.last = into, time.thread_time()

    def lap(self, stage: str) -> None:
        now = time.thread_time()
        self.into[stage] += now - self.last
        self.last = now


@dataclass
class CycleReport:
    """What one full cycle did."""

    crawl: crawler.CrawlReport = field(default_factory=crawler.CrawlReport)
    matched: MatchReport = field(default_factory=MatchReport)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    digests: int = 0  # digests queued


@dataclass
class Pipeline:
    """The stages wired together, with everything they need passed in."""

    store: Store
    runner: AsyncCrawlerRunner
    transport: Any  # alerts.SmtpTransport or alerts.MboxTransport
    lookback: timedelta
    retry: RetryPolicy
    clock: Callable[[], datetime] = utcnow
    operator: tuple[str, ...] = ()
    health_after: timedelta = timedelta(hours=24)
    keep: timedelta = timedelta(days=365)
    recipients: RecipientPolicies = field(default_factory=RecipientPolicies)
    _delivery: asyncio.Future[DeliveryReport] | None = None
    _delivery_lock: asyncio.Lock | None = None
    _stories: StoryIndex | None = None
    _stories_built: datetime | None = None

    async def crawl(self, sources: Sequence[Source]) -> crawler.CrawlReport:
        """Poll ``sources`` and store their new articles."""
        report = await crawler.crawl(self.runner, self.store, list(sources), self.clock)
        for source, outcome in report.failures:
            logger.warning("source %s failed: %s", source.url, outcome.error)
        return report

    def match(self) -> MatchReport:
        """Match every article above the watermark, then those edited in place; queue one
        email per recipient."""
        report = MatchReport()
        topics = self.store.topics()
        for batch, rematch in self._batches():
            now = self.clock()
            laps = _Laps(report.cpu)
            stories = self.cluster(batch, now)
            laps.lap("stories")
            # What a site repeats on its other pages (a disclaimer, a subscribe box) is no
            # part of an article: matched, highlighted and stored without it.
            batch = without_templates(self.store, batch, stories)
            laps.lap("templates")
            found = match_articles(batch, topics, now=now, lookback=self.lookback)
            matches = apply_topic_options(batch, found, topics, now=now, lookback=self.lookback)
            report.dropped += len(found) - len(matches)
            if rematch:
                before = self.store.matched_pairs(a.id for a in batch)
                matches = new_topics(batch, matches, before, now=now, lookback=self.lookback)
                report.rematched += len(batch)
            alerted = self.store.alerted_stories(
                {m.topic_id for m in matches if m.alert},
                {stories[m.article_id] for m in matches if m.alert},
            )
            held = sum(1 for m in matches if not m.alert)
            matches, story_alerts = once_per_story(matches, stories, alerted)
            report.repeats += sum(1 for m in matches if not m.alert) - held
            also_on = self._also_on(batch, story_alerts)
            laps.lap("match")
            for_digest, queued = route(
                self.store, self.recipients, matches, topics, stories, now, edited=rematch
            )
            emails = build_emails(
                batch,
                matches,
                topics,
                now,
                also_on=also_on,
                held=for_digest,
                policies=self.recipients,
                notices=storm_notices(self.recipients, queued, now),
                edited=rematch,
            )
            laps.lap("compose")
            self.store.record_matches(
                matches,
                emails,
                watermark=None if rematch else batch[-1].id,
                now=now,
                story_alerts=story_alerts,
                digest=queued,
                rematched=[a.id for a in batch] if rematch else (),
            )
            laps.lap("record")
            report.queued += len(queued)
            report.articles += len(batch)
            report.matches += len(matches)
            report.emails += len(emails)
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
        return report

    def _batches(self) -> Iterator[tuple[list[StoredArticle], bool]]:
        """The batches to match, each with whether it is re-matched: the new articles
        (above the watermark), then the articles edited in place (the re-match queue)."""
        while batch := self.store.articles_after(self.store.watermark(), MATCH_BATCH):
            yield batch, False
        while batch := self.store.rematch_queue(MATCH_BATCH):
            yield batch, True

    def cluster(self, batch: Sequence[StoredArticle], now: datetime) -> dict[int, int]:
        """Each article's story (article id → story id): articles not clustered yet join the
        story of a near-duplicate seen in the last STORY_WINDOW, or start one. The
        assignments are stored before anything else happens to the batch."""
        index = self._story_index(now)
        stories = {a.id: a.story_id for a in batch if a.story_id is not None}
        assignments: list[tuple[int, int | None, bytes | None, bytes | None]] = []
        for article in batch:
            if article.story_id is not None:
                continue
            sig = signature(article.text)
            story_id = index.find(sig) if sig is not None else None
            if sig is not None:
                # A new story's id is its first article's id (see Store.assign_stories).
                index.add(article.id, story_id if story_id is not None else article.id, sig)
            full, lede = sig.to_bytes() if sig is not None else (None, None)
            assignments.append((article.id, story_id, full, lede))
        if assignments:
            try:
                stories.update(self.store.assign_stories(assignments, now))
            except BaseException:
                # The index now holds assignments that were not stored: rebuild it next time.
                self._stories = None
                raise
        return stories

    def _story_index(self, now: datetime) -> StoryIndex:
        """The in-memory index of recent stories, (re)built from storage when needed."""
        if (
            self._stories is None
            or self._stories_built is None
            or now - self._stories_built >= STORY_REBUILD
        ):
            index = StoryIndex()
            for article_id, story_id, full, lede in self.store.recent_signatures(
                now - STORY_WINDOW
            ):
                try:
                    index.add(article_id, story_id, Signature.from_bytes(full, lede))
                except ValueError:
                    logger.warning("article %d: unreadable story signature, ignored", article_id)
            self._stories, self._stories_built = index, now
        return self._stories

    def _also_on(
        self, batch: Sequence[StoredArticle], story_alerts: Sequence[tuple[int, int, int]]
    ) -> dict[int, tuple[str, ...]]:
        """For each article that alerts first for its story: the story's other sources."""
        by_id = {a.id: a for a in batch}
        also: dict[int, tuple[str, ...]] = {}
        for story_id, _topic_id, article_id in story_alerts:
            if article_id not in also:
                also[article_id] = also_on(self.store, by_id[article_id], story_id)
        return also

    def digests(self) -> int:
        """Queue the digests that are due (digest times, storm-folded alerts); returns how
        many."""
        return send_digests(self.store, self.recipients, self.clock())

    def check_health(self) -> int:
        """Queue one email to the operator per change of source health; returns how many
        sources were reported. Without an operator, the change is only logged."""
        now = self.clock()
        failing, recovered = self.store.health_changes(now, self.health_after)
        if not failing and not recovered:
            return 0
        for row in failing:
            logger.warning(
                "source %s %s: %s",
                row["url"],
                "deactivated" if row["deactivated"] else f"failing since {row['failing_since']}",
                row["deactivated"] or row["last_error"],
            )
        for row in recovered:
            logger.info("source %s recovered", row["url"])
        emails = [compose_health(r, failing, recovered, now) for r in self.operator]
        self.store.record_health(
            emails, [r["id"] for r in failing], [r["id"] for r in recovered], now
        )
        return len(failing) + len(recovered)

    def housekeeping(self) -> int:
        """Retention and upkeep: prune article text older than ``keep`` and the site memory
        of articles older than BLOCK_MEMORY, checkpoint the WAL."""
        pruned = self.store.prune(self.clock() - self.keep)
        self.store.forget_blocks(self.clock() - min(self.keep, BLOCK_MEMORY))
        self.store.checkpoint()
        if pruned:
            logger.info("pruned the text of %d article(s) older than %s", pruned, self.keep)
        return pruned

    async def deliver(self) -> DeliveryReport:
        """Send the due outbox messages; one delivery at a time in the process."""
        if self._delivery_lock is None:
            self._delivery_lock = asyncio.Lock()
        async with self._delivery_lock:
            self._delivery = asyncio.ensure_future(
                deliver_due(self.store, self.transport, now=self.clock(), policy=self.retry)
            )
            # Shielded: a cancelled job must not abandon a message between the server's
            # acceptance and its "sent" mark; shutdown waits for this future instead.
            report = await asyncio.shield(self._delivery)
        if report.errors:
            logger.warning(
                "delivery via %s: %s", self.transport.describe(), "; ".join(report.errors)
            )
        return report

    async def finish_delivery(self) -> None:
        """Wait for a delivery in progress (at shutdown)."""
        if self._delivery is not None and not self._delivery.done():
            await asyncio.wait([self._delivery])

    async def cycle(self, sources: Sequence[Source]) -> CycleReport:
        """Crawl ``sources``, match what is new, deliver what is due."""
        report = CycleReport()
        report.crawl = await self.crawl(sources)
        report.matched = self.match()
        report.digests = self.digests()
        self.check_health()
        report.delivery = await self.deliver()
        return report


def apply_topic_options(
    articles: Sequence[StoredArticle],
    matches: Sequence[Match],
    topics: Sequence[Topic],
    *,
    now: datetime,
    lookback: timedelta,
) -> list[Match]:
    """The ``matches`` each topic's options let through: the article comes from one of the
    topic's ``sources`` (when it has some) and does not match its ``exclude`` query."""
    by_id = {a.id: a for a in articles}
    by_topic = {t.id: t for t in topics}
    kept = [m for m in matches if source_matches(by_topic[m.topic_id].sources, by_id[m.article_id])]
    # Each exclude query is judged like a topic of its own (same engine, same verdict), on
    # the articles its topic matched.
    excluders = {
        m.topic_id: Topic(
            id=t.id,
            name=t.name,
            query=t.exclude,
            compiled=t.exclude_compiled,
            notify=(),
        )
        for m in kept
        if (t := by_topic[m.topic_id]).exclude and t.exclude_compiled
    }
    if not excluders:
        return kept
    candidates = sorted({m.article_id for m in kept if m.topic_id in excluders})
    excluded = {
        (x.article_id, x.topic_id)
        for x in match_articles(
            [by_id[i] for i in candidates], list(excluders.values()), now=now, lookback=lookback
        )
    }
    return [m for m in kept if (m.article_id, m.topic_id) not in excluded]


def new_topics(
    articles: Sequence[StoredArticle],
    matches: Sequence[Match],
    before: set[tuple[int, int]],
    *,
    now: datetime,
    lookback: timedelta,
) -> list[Match]:
    """The ``matches`` of articles edited in place with topics that had not matched them
    ``before``: a topic alerts once per article. Such a match alerts when the edit is
    recent (the article's updated date within ``lookback``), whatever its publication date."""
    by_id = {a.id: a for a in articles}
    horizon = now - lookback
    kept = []
    for m in matches:
        if (m.article_id, m.topic_id) in before:
            continue
        updated = by_id[m.article_id].updated
        kept.append(m if updated is None else replace(m, alert=updated >= horizon))
    return kept


def once_per_story(
    matches: Sequence[Match], stories: dict[int, int], alerted: set[tuple[int, int]]
) -> tuple[list[Match], list[tuple[int, int, int]]]:
    """A topic alerts once per story: ``matches`` with ``alert`` turned off where the
    (story, topic) has already alerted — in ``alerted``, or for an earlier article of the
    same story among ``matches`` — and the (story id, topic id, article id) alerts the
    others make."""
    seen = set(alerted)
    kept: list[Match] = []
    story_alerts: list[tuple[int, int, int]] = []
    for m in sorted(matches, key=lambda m: (m.article_id, m.topic_id)):
        story_id = stories.get(m.article_id)
        if m.alert and story_id is not None:
            if (story_id, m.topic_id) in seen:
                m = replace(m, alert=False)
            else:
                seen.add((story_id, m.topic_id))
                story_alerts.append((story_id, m.topic_id, m.article_id))
        kept.append(m)
    return kept, story_alerts


def build_emails(
    articles: Sequence[StoredArticle],
    matches: Sequence[Match],
    topics: Sequence[Topic],
    now: datetime,
    *,
    also_on: dict[int, tuple[str, ...]] | None = None,
    held: Held | None = None,
    policies: RecipientPolicies | None = None,
    notices: dict[str, str] | None = None,
    edited: bool = False,
) -> list[Email]:
    """One email per recipient listing every alertable article matched for them;
    ``also_on`` gives an article's story's other sources; the (recipient, article id,
    topic id) in ``held`` wait for a digest instead. Times are shown in each recipient's
    time zone (``policies``); ``notices`` gives a recipient's email a line on top.
    ``edited``: the articles were edited in place (the re-match queue), and the emails say
    when."""
    by_id = {a.id: a for a in articles}
    by_topic = {t.id: t for t in topics}
    wanted: dict[str, dict[int, list[Match]]] = defaultdict(lambda: defaultdict(list))
    for m in matches:
        if not m.alert:
            continue
        for recipient in by_topic[m.topic_id].notify:
            if held and (recipient, m.article_id, m.topic_id) in held:
                continue
            wanted[recipient][m.article_id].append(m)
    emails = []
    for recipient, per_article in sorted(wanted.items()):
        items = []
        for article_id, article_matches in per_article.items():
            items.append(
                alert_item(
                    by_id[article_id],
                    article_matches,
                    {m.topic_id: by_topic[m.topic_id].name for m in article_matches},
                    (also_on or {}).get(article_id, ()),
                    # An edit of unknown date was noticed now.
                    updated=(by_id[article_id].updated or now) if edited else None,
                )
            )
        watched = [t.name for t in topics if recipient in t.notify]
        tz = policies.of(recipient).zone if policies is not None else UTC
        notice = (notices or {}).get(recipient)
        emails.append(compose(recipient, items, now, watched=watched, tz=tz, notice=notice))
    return emails
