"""The seams between storage and the rest of newswatch: one ``Protocol`` per consumer, each
with only the methods that consumer calls.

Callers name these, never the SQLite ``Store``; records cross them (``storage.models``,
``storage.views``), never rows, SQL or sqlite3 exceptions (a backend raises ``StorageError``).
A second backend is a new module whose class has the methods of :class:`Storage` (the sum of
the ports), picked by :func:`storage.open_store`; no caller changes.

=====================  ==========================================================
port                   consumer
=====================  ==========================================================
``CrawlStore``         the crawler (``crawler.crawl``, ``NewsSpider``)
``SourceSchedule``     the daemon's crawl tick, ``newswatch crawl``: what to poll
``TemplateMemory``     ``watchlist.templates``: each site's repeated text blocks
``StorySources``       an alert's "also on" line (the other sources of its story)
``AlertCounts``        storm control: immediate alerts per recipient lately
``MatchStore``         the match stage (``Pipeline.match``): batches, stories,
                       matches, their emails and digest items in one transaction
``DigestStore``        sending the digests that are due
``DeliveryStore``      the outbox sender (``alerts.deliver_due``)
``HealthStore``        source-health reports to the operator
``Upkeep``             retention, WAL checkpoint, backup (housekeeping, CLI)
``Gauges``             ``/metrics``
``StatusStore``        ``newswatch status``
``ConfigSync``         syncing the config file's sources and topics
``SourceAdmin``        ``newswatch sources``
``TopicAdmin``         ``newswatch topics``
``Archive``            ``newswatch search``, ``topics test``, ``stories``, ``export``
``PipelineStore``      the daemon's ``Pipeline``, which hands each stage its port
``Storage``            everything: what a backend implements, and ``open_store`` returns
=====================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Self

from .models import (
    Article,
    DeferredEntry,
    Email,
    FetchOutcome,
    KnownUrl,
    Match,
    OutboxMessage,
    Source,
    SourceSpec,
    StoredArticle,
    Topic,
    TopicSpec,
)
from .views import (
    DigestStatus,
    ExportedArticle,
    OutboxProblem,
    Requeued,
    SourceHealth,
    SourceStatus,
    StoryView,
    TopicStatus,
)

if TYPE_CHECKING:
    from .digests import DigestItem
    from .journal import SentJournal
    from .linkshapes import LinkShape

#: (article id, story id or None for a new story, full-text signature, lede signature,
#: second lede's signature); signatures are None for a text too short to compare (the
#: second lede's for a text with no second paragraph too).
Assignment = tuple[int, int | None, bytes | None, bytes | None, bytes | None]


class CrawlStore(Protocol):
    """What the crawler reads and writes as a poll goes: which URLs are known, each article,
    each entry put off or skipped, the poll's outcome, and what a site's links led to."""

    def known_articles(self, urls: Iterable[str]) -> dict[str, KnownUrl]:
        """The ``urls`` seen before (by identity), with the stored version of each."""
        ...

    def feed_items_titled(
        self, source_id: int, titles: Iterable[str]
    ) -> dict[str, tuple[KnownUrl, str]]:
        """The source's articles stored from its feed's items of these titles, by URL, each
        with its text."""
        ...

    def drop_deferred(self, url: str) -> None:
        """Forget a deferred entry (its item is read at another address now)."""
        ...

    def note_listed(self, article_ids: Sequence[int], source_id: int, now: datetime) -> int:
        """Note that the source lists stored articles of other sources too."""
        ...

    def add_article(self, article: Article) -> int | None:
        """Store a new article; None when one of the same identity is stored."""
        ...

    def add_articles(self, articles: Sequence[Article]) -> list[int | None]:
        """Store new articles in one transaction; each one's id (None: already stored)."""
        ...

    def update_article(self, article_id: int, version: Article, now: datetime) -> bool:
        """Store a newer version of an article; whether its title or text changed."""
        ...

    def keep_version(self, article_id: int, updated: datetime | None, entry_url: str) -> None:
        """Keep the stored version, and record ``updated`` as seen."""
        ...

    def defer_entry(
        self, entry: DeferredEntry, error: str, now: datetime, attempted: bool = True
    ) -> int:
        """Note that an entry's page was unavailable (``attempted``: its request was sent);
        returns the attempts so far."""
        ...

    def deferred_entries(self, source_id: int) -> list[DeferredEntry]:
        """The source's entries whose page is still to be fetched, oldest first."""
        ...

    def remember_listed(self, urls: Sequence[str], source_id: int, now: datetime) -> None:
        """Remember ``urls`` as known without fetching them (what an undated sitemap listed
        at its first poll), or that they are still listed."""
        ...

    def skip_url(self, url: str, source_id: int, reason: str, now: datetime) -> None:
        """Remember a linked page that is no article."""
        ...

    def name_source(self, source_id: int, title: str) -> None:
        """Name a source without a name after its feed's title."""
        ...

    def record_fetch(self, source_id: int, outcome: FetchOutcome, now: datetime) -> None:
        """Record how a poll of the source went (validators, errors, next due time)."""
        ...

    def note_link_shape(self, site: str, shape: str, *, article: bool, now: datetime) -> None:
        """Count one followed link of ``shape`` on ``site`` as an article or not."""
        ...

    def link_shapes(self, site: str, now: datetime) -> dict[str, tuple[int, int]]:
        """A site's tally: shape → (articles, non-articles)."""
        ...

    def host_waits(self, now: datetime) -> dict[str, datetime]:
        """The hosts that asked a crawl to wait (429, 503), until when: those still waiting."""
        ...

    def keep_host_waits(self, waits: dict[str, datetime], now: datetime) -> None:
        """Add ``waits`` to the kept ones (the later end of two), the ended ones dropped."""
        ...


class SourceSchedule(Protocol):
    """Which sources to poll."""

    def sources(self, *, active_only: bool = True) -> list[Source]:
        """Stored sources, in the order they were added."""
        ...

    def due_sources(self, now: datetime) -> list[Source]:
        """Active sources due at ``now``, most overdue first."""
        ...


class TemplateMemory(Protocol):
    """What template stripping (``watchlist.templates``) needs: each site's text blocks."""

    def remember_blocks(self, rows: Iterable[tuple[str, int, int]]) -> None:
        """Record (site, block hash, article id) rows."""
        ...

    def recurring_blocks(
        self, site: str, hashes: Collection[int], article_id: int, story_id: int, min_others: int
    ) -> dict[int, int]:
        """The ``hashes`` found in at least ``min_others`` other stories of ``site``, each
        with how many."""
        ...

    def site_stories(self, site: str) -> int:
        """How many stories of ``site`` the memory holds blocks of."""
        ...

    def stories_since(self, site: str, hashes: Collection[int]) -> dict[int, int]:
        """For each of ``hashes``: the stories of ``site`` from the first that had it on."""
        ...

    def strip_texts(self, texts: Iterable[tuple[int, str, int]]) -> None:
        """Store (article id, text without template, blocks removed) for each article."""
        ...


class StorySources(Protocol):
    """The sources of a story, for an alert's "also on" line."""

    def story_sources(self, story_id: int) -> list[tuple[str, str]]:
        """(source name, article URL) of every article of a story, in the order they came."""
        ...


class AlertCounts(Protocol):
    """What storm control counts."""

    def recent_alert_counts(self, recipients: Iterable[str], since: datetime) -> dict[str, int]:
        """Articles each recipient was alerted about in immediate emails since ``since``."""
        ...


class MergedSources(Protocol):
    """Which sources were merged into another, for the topics limited to them to follow
    that one (watchlist.verdict.follow_merges)."""

    def merged_sources(self) -> list[tuple[str | None, str, str]]:
        """Each source merged into another and not polled again since: its name, its URL
        and the URL of the source it was merged into."""
        ...


class MatchStore(TemplateMemory, StorySources, AlertCounts, MergedSources, Protocol):
    """The match stage: the batches to match (articles not matched yet, except those of
    sources still being polled; then the re-match queue), stories, and one transaction for
    what a batch decided, with the batch's articles marked matched."""

    def topics(self) -> list[Topic]:
        """The active topics."""
        ...

    def last_article_id(self) -> int:
        """The id of the article stored last (0: none)."""
        ...

    def unmatched_articles(
        self, limit: int = 500, waiting: Collection[int] = (), after: int = 0,
        through: int | None = None,
    ) -> list[StoredArticle]:
        """Articles not matched yet, oldest first, except those of the ``waiting`` source
        ids; ``after``: those of higher ids only; ``through``: those up to that id only."""
        ...

    def rematch_queue(self, limit: int = 500, *, relisted: bool = False) -> list[StoredArticle]:
        """Articles edited in place that wait to be matched again, oldest first
        (``relisted``: those another source lists now)."""
        ...

    def told_of(self, article_ids: Sequence[int]) -> set[tuple[str, int]]:
        """(recipient, article id) whose story the recipient was mailed already (in an
        immediate email or a digest)."""
        ...

    def with_listing_sources(
        self, articles: Sequence[StoredArticle], *, anew: bool = False
    ) -> list[StoredArticle]:
        """``articles`` with the other sources that list them (``also_from``; ``anew``:
        and those listing them since their last verdict, ``new_from``)."""
        ...

    def matched_pairs(self, article_ids: Iterable[int]) -> set[tuple[int, int]]:
        """The (article id, topic id) matches already recorded for ``article_ids``."""
        ...

    def of_removed_sources(self, article_ids: Iterable[int]) -> set[int]:
        """Which of ``article_ids`` only removed sources list (no alert is due for them)."""
        ...

    def alerted_stories(
        self, topic_ids: Iterable[int], story_ids: Iterable[int]
    ) -> set[tuple[int, int]]:
        """Which (story id, topic id) pairs have alerted."""
        ...

    def assign_stories(self, assignments: Sequence[Assignment], now: datetime) -> dict[int, int]:
        """Record each article's story and signatures; returns article id → story id."""
        ...

    def recent_signatures(
        self, since: datetime
    ) -> Iterator[tuple[int, int, bytes, bytes, bytes | None, str]]:
        """(article id, story id, full, lede, the ledes' after its first paragraphs or None,
        URL) of
        articles fetched since ``since``, oldest first, read as they are used."""
        ...

    def copies(
        self, full: bytes, lede: bytes, before: datetime, keep: Callable[[str], bool]
    ) -> list[tuple[int, int, bytes, bytes, str]]:
        """(article id, story id, full, lede signature, URL) of clustered articles fetched
        before ``before`` that share an indexed band with ``full`` or ``lede`` and whose URL
        ``keep`` takes, the newest first."""
        ...

    def stored_before(self, before: datetime) -> bool:
        """Whether an article fetched before ``before`` is stored."""
        ...

    def forget_signatures(self, before: datetime) -> int:
        """Drop the window's own copies of signatures of articles fetched before ``before``."""
        ...

    def stale_signatures(self, since: datetime, limit: int) -> list[tuple[int, str]]:
        """(article id, text) of up to ``limit`` articles fetched since ``since`` whose
        signatures an older hashing made; older ones' are dropped."""
        ...

    def replace_signatures(
        self, signatures: Sequence[tuple[int, bytes | None, bytes | None, bytes | None]]
    ) -> None:
        """Store signatures made again (article id, full, lede, second lede) for stale
        ones."""
        ...

    def unsigned_second_ledes(self, since: datetime) -> Iterator[tuple[int, str]]:
        """(article id, text) of the articles fetched since ``since`` lacking the signatures
        of the ledes after their first paragraphs (clustered before schema 43, or 62 for
        the later ones), read as they are used."""
        ...

    def sign_second_ledes(
        self, signatures: Sequence[tuple[int, str, bytes | None]]
    ) -> None:
        """Store those made for them (article id, the text they were made from, theirs or
        None) where the article still has that text."""
        ...

    def titled(
        self, title: str, since: datetime, article_id: int
    ) -> list[tuple[int, str, bool, str, datetime | None]]:
        """(story id, URL, signed, text's opening, publication date) of recent clustered
        articles so titled."""
        ...

    def short_titles(self, since: datetime) -> set[str]:
        """Titles of recent clustered articles too short to sign."""
        ...

    def record_matches(
        self,
        matches: Sequence[Match],
        emails: Sequence[Email],
        watermark: int | None,
        now: datetime,
        story_alerts: Sequence[tuple[int, int, int]] = (),
        digest: Sequence[DigestItem] = (),
        rematched: Sequence[StoredArticle] = (),
        matched: Sequence[int] = (),
        refreshed: Sequence[Match] = (),
        mailed: Sequence[tuple[str, int]] = (),
    ) -> None:
        """Matches, their emails, story alerts, digest items, the re-match queue (the
        ``rematched`` articles as it gave them leave it, but for what was written there
        since) and the mark of the articles matched (the ``matched`` ids; every article up to id
        ``watermark``, None: none), in one transaction; the alerts waiting for a digest of
        the stories of the ``mailed`` (recipient, article id) leave the queue."""
        ...


class DigestStore(StorySources, MergedSources, Protocol):
    """Sending digests: the queue, each recipient's last digest time, and what an item
    shows (its article, its topic's name, its recorded match)."""

    def topics(self) -> list[Topic]:
        """The active topics."""
        ...

    def waiting_digest(self, recipient: str | None = None) -> list[DigestItem]:
        """Items not in any digest yet, oldest first."""
        ...

    def digest_handled(self) -> dict[str, datetime]:
        """Each recipient's last digest time dealt with."""
        ...

    def set_digest_handled(self, recipient: str, slot: datetime) -> None:
        """Remember that ``recipient``'s digest up to ``slot`` has been dealt with."""
        ...

    def record_digest(
        self,
        recipient: str,
        email: Email | None,
        item_ids: Sequence[int],
        handled: datetime | None,
    ) -> None:
        """The digest email, its items marked as sent and the digest time, in one
        transaction."""
        ...

    def drop_digest_items(self, item_ids: Sequence[int]) -> None:
        """Take waiting items off the queue (their topic or reader gone)."""
        ...

    def topic_names(self, topic_ids: Iterable[int]) -> dict[int, str]:
        """The names of topics by id, inactive ones included."""
        ...

    def stored_matches(self, items: Iterable[DigestItem]) -> dict[tuple[int, int], Match]:
        """The recorded match of each item's (article id, topic id)."""
        ...

    def article(self, article_id: int) -> StoredArticle:
        """One article by id, with the other sources that list it (KeyError when there is
        none)."""
        ...


class DeliveryStore(Protocol):
    """The outbox as the sender sees it: what is due, and each message's fate."""

    #: The sending process's sent journal ("sent" marks go there first), or None.
    journal: SentJournal | None

    def due_outbox(
        self, now: datetime, limit: int = 100, *, channels: bool = False
    ) -> list[OutboxMessage]:
        """Pending messages whose next attempt is due, oldest first; ``channels``: the
        notification URLs' alone (the mail server is down)."""
        ...

    def journal_identity(self) -> str:
        """This database's name in its senders' sent journal files: a file is replayed by
        the senders of its own database alone."""
        ...

    def sending(self, outbox_id: int) -> bool:
        """The message is about to be handed over (its fate is unknown until a mark); False
        when it is no longer this sender's to send (another sender claimed it)."""
        ...

    def durable(self) -> None:
        """Make every commit so far survive a crash of the machine (called in the sending
        thread, before a message goes)."""
        ...

    def accepted(self, outbox_id: int, now: datetime) -> None:
        """The server has just accepted the message (called in the sending thread, before
        :meth:`mark_sent`): a mark that must outlive the process is kept now."""
        ...

    def mark_sent(self, outbox_id: int, now: datetime) -> None:
        """The message was handed over."""
        ...

    def not_sent(self, outbox_id: int) -> None:
        """A stop ended the send before the message's end went to the server, or the run
        leaves the message untried (the mail server down): the message is as it was before
        :meth:`sending`, due for any sender at once."""
        ...

    def mark_retry(
        self, outbox_id: int, error: str, next_attempt: datetime, server_down: bool = False,
        counted: bool = True,
    ) -> None:
        """Delivery failed for a reason that may pass: try again at ``next_attempt`` (or
        once a message goes through, when the mail server was down: ``server_down``); not
        counted as an attempt when the service asked us to wait (``counted`` False)."""
        ...

    def hold_recipient(self, recipient: str, until: datetime) -> int:
        """The recipient's service asked us to wait: its pending messages, and those queued
        for it before ``until``, wait until then."""
        ...

    def server_back(self, now: datetime) -> int:
        """A message went through: those that found the mail server down are due now."""
        ...

    def mark_failed(self, outbox_id: int, error: str) -> None:
        """The message was refused for good."""
        ...

    def emails_waiting(self) -> int:
        """How many emails are pending (a run that finds the mail server down says how many
        wait for it)."""
        ...


class HealthStore(Protocol):
    """Source-health reports: who to report, and recording that they were."""

    def health_changes(
        self, now: datetime, failing_for: timedelta, *, mailed: bool = True
    ) -> tuple[list[SourceHealth], list[SourceHealth]]:
        """Sources to report as failing (or gone, or stale), and as recovered."""
        ...

    def record_health(
        self,
        emails: Sequence[Email],
        failing: Sequence[SourceHealth],
        recovered_ids: Sequence[int],
        now: datetime,
    ) -> None:
        """Queue the health emails and remember who was reported, in one transaction."""
        ...


class Upkeep(Protocol):
    """Housekeeping: retention, the write-ahead log, backups."""

    def prune(self, before: datetime, limit: int | None = None) -> int:
        """Drop the text of articles fetched before ``before`` (``limit``: of that many at
        most); returns how many."""
        ...

    def forget_blocks(self, before: datetime) -> int:
        """Forget the site blocks of articles fetched before ``before``."""
        ...

    def forget_holds(self, now: datetime) -> int:
        """Forget the waits notification services asked for that ended by ``now``."""
        ...

    def due_now(self, now: datetime) -> int:
        """The clock went back: the polls and sends scheduled after ``now`` are due now."""
        ...

    def latest_poll(self) -> datetime | None:
        """When the last poll of any source was made, as the clock then said."""
        ...

    def checkpoint(self) -> None:
        """Fold the write-ahead log back and refresh the planner."""
        ...

    def fold_counts(self) -> None:
        """Fold the counts kept as rows added, unless a fold runs already (a crawl's end)."""
        ...

    def drop_unwatched(self, watching: Mapping[int, Collection[str]]) -> list[str]:
        """Mark failed the pending alerts whose recipient left all their topics."""
        ...

    def requeue_failed(self, since: datetime, now: datetime) -> Requeued:
        """Messages failed for good, made since ``since``, queued again: due at ``now``, or
        when their notification service's wait ends; how many, and how many wait."""
        ...

    def backup(self, destination: Path) -> None:
        """A consistent copy of the live database at ``destination`` (a new file)."""
        ...


class Gauges(Protocol):
    """What ``/metrics`` reads at each scrape."""

    def article_count(self) -> int:
        """How many articles are stored."""
        ...

    def outbox_counts(self) -> dict[str, int]:
        """How many messages are pending, sent and failed."""
        ...

    def source_status(self) -> list[SourceStatus]:
        """Every active (or gone) source with its health and article count."""
        ...


class StatusStore(Gauges, Protocol):
    """What ``newswatch status`` shows."""

    def topics(self) -> list[Topic]:
        """The active topics."""
        ...

    def topic_status(self) -> list[TopicStatus]:
        """Every active topic with its match counts."""
        ...

    def story_counts(self, since: datetime) -> dict[str, int]:
        """Stories started since ``since`` (``stories``), and those of several sources
        (``several_sources``)."""
        ...

    def outbox_problems(self, limit: int = 10) -> list[OutboxProblem]:
        """Messages that failed at least once and are not sent."""
        ...

    def digest_status(self) -> list[DigestStatus]:
        """Each recipient's digest queue and last digest time."""
        ...

    def learned_link_shapes(self, site: str | None = None) -> list[LinkShape]:
        """Every learnt link shape (of one site, or of all), most followed first."""
        ...


class ConfigSync(MergedSources, Protocol):
    """Making the stored sources and topics those of the config file."""

    def sync_sources(
        self, specs: Iterable[SourceSpec], now: datetime, every: int | None = None
    ) -> list[Source]:
        """The config file's sources become exactly ``specs``; the sources added from the
        command line without an interval take ``every``."""
        ...

    def sync_topics(self, specs: Iterable[TopicSpec]) -> list[Topic]:
        """The config file's topics become exactly ``specs``."""
        ...

    def sources(self, *, active_only: bool = True) -> list[Source]:
        """Stored sources, in the order they were added."""
        ...

    def remove_source(self, url: str, into: str | None = None) -> bool:
        """Stop polling a source added from the command line; False when there is none.
        ``into``: the source it is merged into, which lists its articles from then on."""
        ...

    def topics(self) -> list[Topic]:
        """The active topics."""
        ...

    def mail_settings(self) -> str | None:
        """The fingerprint of the mail settings a sender last ran with, if one did."""
        ...

    def keep_mail_settings(self, fingerprint: str, now: datetime | None = None) -> int:
        """Keep the mail settings' fingerprint; with ``now``: the emails waiting for a retry
        are due then (the settings changed). How many."""
        ...


class SourceAdmin(Protocol):
    """``newswatch sources``: the sources added from the command line."""

    def sources(self, *, active_only: bool = True) -> list[Source]:
        """Stored sources, in the order they were added."""
        ...

    def find_source(self, url: str) -> Source | None:
        """The source with this URL (active or not), if any."""
        ...

    def add_source(self, spec: SourceSpec, now: datetime) -> Source:
        """Add (or update) a source from the command line."""
        ...

    def remove_source(self, url: str) -> bool:
        """Deactivate a source added from the command line (one merged into another: for
        good); False when there is none."""
        ...

    def revive_source(self, url: str) -> str | None:
        """Poll again a source deactivated as gone: why it was, None when it was not."""
        ...

    def source_status(self) -> list[SourceStatus]:
        """Every active (or gone) source with its health and article count."""
        ...


class TopicAdmin(Protocol):
    """``newswatch topics``: the topics added from the command line."""

    def topic_status(self) -> list[TopicStatus]:
        """Every active topic with its match counts."""
        ...

    def find_topic(self, name: str) -> Topic | None:
        """The active topic called ``name``, if any."""
        ...

    def add_topic(self, spec: TopicSpec) -> Topic:
        """Add (or update) a topic from the command line."""
        ...

    def remove_topic(self, name: str) -> int | None:
        """Deactivate a topic added from the command line; None when there is none, else how
        many of its alerts still waiting go with it."""
        ...

    def rename_topic(self, name: str, new_name: str) -> str | None:
        """Rename a topic added from the command line, its alerts kept; None when done, else
        why not."""
        ...

    def publishers(self) -> list[str]:
        """The publishers stored articles name, each once (a topic's sources may name one)."""
        ...


class Archive(MergedSources, Protocol):
    """Reading the archive: search it with a compiled topic query, list recent stories,
    export every article."""

    def search(
        self, compiled: str, since: datetime | None = None, limit: int = 100, offset: int = 0,
        until: datetime | None = None,
    ) -> list[StoredArticle]:
        """Archived articles the compiled query matches, newest first, published (or
        fetched) from ``since`` and before ``until``, each with the other sources that list
        it (StorageError when the query is rejected)."""
        ...

    def recent_stories(self, since: datetime, min_sources: int = 1) -> list[StoryView]:
        """Stories started since ``since``, newest first."""
        ...

    def export_rows(self) -> Iterator[ExportedArticle]:
        """Every stored article with its source and topics, oldest first."""
        ...


class PipelineStore(
    CrawlStore,
    SourceSchedule,
    MatchStore,
    DigestStore,
    DeliveryStore,
    HealthStore,
    Upkeep,
    Gauges,
    Protocol,
):
    """What the daemon's pipeline holds: it hands each stage its own port."""

    @property
    def lost(self) -> bool:
        """Whether the database is gone for good (a PostgreSQL connection lost, but not one
        the process's stop shut; an SQLite file removed or replaced): the process stops, to
        be started again."""
        ...


class Storage(
    PipelineStore,
    StatusStore,
    ConfigSync,
    SourceAdmin,
    TopicAdmin,
    Archive,
    Protocol,
):
    """Every port, and closing: what a storage backend implements."""

    def close(self) -> None:
        """Release the connection."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...
