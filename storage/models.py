"""Plain records that cross package boundaries: what the crawler produces and storage keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .kinds import Extraction, Origin, SourceKind, TopicMode


@dataclass(frozen=True)
class SourceSpec:
    """A source as configured: where it is, what it is and how often to poll it."""

    url: str
    every_seconds: int
    name: str | None = None
    kind: SourceKind | None = None  # None: detected from what the URL serves
    include: tuple[str, ...] = ()  # URL patterns an article link must match (page sources)
    exclude: tuple[str, ...] = ()  # URL patterns that rule a link out (page sources)
    # Added without an interval of its own: polled every crawl.every, as it is now
    # (sync_sources keeps it so when crawl.every changes).
    every_default: bool = False


@dataclass(frozen=True)
class Source:
    """A source as stored, with its polling state."""

    id: int
    url: str
    name: str | None
    every_seconds: int
    active: bool
    etag: str | None
    last_modified: str | None
    next_due: datetime | None
    consecutive_failures: int
    kind: SourceKind | None = None
    detected: str | None = None
    fetch_url: str | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    origin: Origin = "config"
    polled: bool = False  # polled successfully at least once
    # Its last poll was answered (HTTP 2xx), though the poll may have failed: a page source
    # whose page listed no article links has been read, and what it lists later is new.
    answered: bool = False
    every_default: bool = False  # polled every crawl.every, whatever it becomes
    last_success: datetime | None = None  # its last poll answered (None: never)
    last_status: int | None = None  # the HTTP status its last poll got
    #: When its poll was last answered in full (a 200, not a 304; None: never, or before
    #: schema 37).
    read_at: datetime | None = None
    #: Its last poll's answer asked it to wait (a 429 or 503 with Retry-After) until next_due.
    asked_to_wait: bool = False
    #: Since when it has answered 410 Gone at every poll, and at how many (None and 0: its
    #: last poll got another answer; crawler.spider.GONE_AFTER).
    gone_since: datetime | None = None
    gone_polls: int = 0
    #: Why a poll deactivated it (its site said it is gone: HTTP 410); None otherwise. Such a
    #: source is not removed: what it stored is still news its reader wants.
    deactivated: str | None = None

    @property
    def label(self) -> str:
        """A human name: the configured or discovered name, else the URL."""
        return self.name or self.url

    @property
    def poll_url(self) -> str:
        """The URL to poll: a discovered feed or a permanent redirect's target, else ``url``."""
        return self.fetch_url or self.url


@dataclass(frozen=True)
class FetchOutcome:
    """What one poll of a source found; storage turns it into the source's state."""

    ok: bool
    status: int | None = None
    error: str | None = None
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    entries: int = 0
    new_articles: int = 0
    # Back-off / schedule decided by the caller.
    next_due: datetime | None = None
    detected: str | None = None  # what the URL serves: rss, atom, jsonfeed, sitemap, page...
    fetch_url: str | None = None  # poll this URL from now on (discovered feed, 301/308 target)
    via: str | None = None  # how fetch_url was found, in words
    #: When the poll brought its newest new article (one stored, or one another source
    #: stored that it lists); None: none.
    last_new: datetime | None = None
    gone: str | None = None  # set when the source is gone for good (410): it is deactivated


@dataclass(frozen=True)
class Article:
    """A new article ready to be stored: the extracted text, never the page chrome."""

    url: str  # canonical URL: the article's identity
    entry_url: str  # canonicalized link as the feed gave it
    source_id: int
    title: str
    text: str
    published: datetime | None
    author: str | None
    fetched: datetime
    extraction: Extraction
    extraction_note: str | None = None  # why the page text could not be used
    # Found on the first poll of a site or sitemap without a date of its own: part of what
    # was already there when the source was added, so it is stored but never alerted.
    baseline: bool = False
    # When the source last changed this version (feed entry ``updated``, sitemap
    # ``lastmod``): a later date seen for the same URL means the article was edited.
    updated: datetime | None = None
    # The feed's summary of a page's article: its text instead, should the page prove to be
    # another article's too (an interstitial, such as a consent page, that both reached).
    summary: str | None = None
    # The publisher an aggregator's item names (a Google News item's <source>): the
    # article's source where the feed it came through is the aggregator's.
    publisher: str | None = None
    # Its source's poll before the one that found it: published after it, it is news, even
    # older than alerts.lookback (the daemon stopped for a long weekend, a site down).
    since: datetime | None = None
    # Its feed item's address by its guid (crawler.urls.item_url), for an item with a link:
    # the item is known by it once its link changes (a slug edited with its headline).
    guid_address: str = ""


@dataclass(frozen=True)
class DeferredEntry:
    """An entry whose page was unavailable for now, as its source listed it: enough to
    request the page again, and to keep the summary, once the source no longer lists it."""

    url: str  # canonical entry URL
    source_id: int
    link: str  # the page's address, as the source gave it
    title: str
    summary: str
    published: datetime | None
    author: str | None
    updated: datetime | None = None
    guid: str = ""
    linked: bool = False  # found as a link on a page (no summary to fall back on)
    baseline: bool = False  # found on a first poll: stored, not alerted, when undated
    content: str = ""  # the feed's full text of it (HTML), beside the summary
    since: datetime | None = None  # its source's poll before the one that listed it
    publisher: str = ""  # the publisher an aggregator's item names (FeedEntry.publisher)
    unread: str = ""  # why its page is not read, its item the article (FeedEntry.unread)
    #: The address of its item by its guid (crawler.entries.Entry.guid_address).
    guid_address: str = ""


@dataclass(frozen=True)
class StoredArticle:
    """An article as stored, with its row id."""

    id: int
    url: str
    source_id: int
    source_name: str  # the publisher an aggregator's item names, else source_label
    title: str
    text: str
    published: datetime | None
    fetched: datetime
    extraction: str
    baseline: bool = False
    source_url: str = ""  # the URL of the source it came from, as configured
    # That source's own name (else its URL), as its user knows it: source_name is the
    # publisher an aggregator's item names where it names one. ``source:`` and a topic's
    # ``sources`` find the article by either.
    source_label: str = ""
    story_id: int | None = None  # its story (near-duplicates); None until it is clustered
    updated: datetime | None = None  # when the source last changed the stored version
    # The other sources that listed it (name, URL), where matching needs them: a topic
    # limited to one of them matches it too (storage: article_sources).
    also_from: tuple[tuple[str, str], ...] = ()
    # Those of them listing it since its last verdict (see watchlist.verdict.listed_anew).
    new_from: tuple[tuple[str, str], ...] = ()
    since: datetime | None = None  # its source's poll before the one that found it
    # How many edits its place in the re-match queue was read for (storage: rematch.edits):
    # its verdict leaves it there when another was written since.
    queued_edits: int = 0
    # And how many listings by other sources (rematch.listings), for the same reason.
    queued_listings: int = 0


@dataclass(frozen=True)
class KnownUrl:
    """A URL seen before (by its identity, see storage.identity): the article stored for it,
    or None for a linked page that is no article."""

    article_id: int | None = None
    # The stored version's date: the source's updated date, else when it was fetched.
    version: datetime | None = None
    fetched: datetime | None = None
    title: str = ""  # the stored article's title and publication date
    published: datetime | None = None
    source_id: int | None = None  # the source that stored it


@dataclass(frozen=True)
class TopicSpec:
    """A topic as configured, with its query already compiled for FTS5."""

    name: str
    query: str
    compiled: str
    notify: tuple[str, ...]
    sources: tuple[str, ...] = ()  # source names, URLs or hosts it applies to; () = all
    exclude: str | None = None  # articles matching this query never alert for the topic
    exclude_compiled: str | None = None
    mode: TopicMode = "immediate"


@dataclass(frozen=True)
class Topic:
    """A stored topic."""

    id: int
    name: str
    query: str
    compiled: str
    notify: tuple[str, ...]
    sources: tuple[str, ...] = ()
    exclude: str | None = None
    exclude_compiled: str | None = None
    mode: TopicMode = "immediate"
    origin: Origin = "config"


@dataclass(frozen=True)
class Match:
    """A topic that matched an article, with the matched terms and where they are."""

    article_id: int
    topic_id: int
    terms: tuple[str, ...]
    alert: bool  # False for articles older than the look-back window: recorded, not mailed
    title_spans: tuple[tuple[int, int], ...] = ()
    text_spans: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Email:
    """A rendered alert email for one recipient, waiting in the outbox."""

    message_id: str
    recipient: str
    subject: str
    text: str
    html: str
    created: datetime
    # (article_id, topic_id) pairs the email reports.
    items: tuple[tuple[int, int], ...] = field(default=())
    #: Its articles were all edited in place: it replies to the first email that told the
    #: recipient of one of them, if any (In-Reply-To), as mail programs thread replies.
    follows: bool = False


@dataclass(frozen=True)
class OutboxMessage:
    """An outbox row due for delivery."""

    id: int
    message_id: str
    recipient: str
    subject: str
    text: str
    html: str
    created: datetime
    attempts: int
    in_reply_to: str | None = None  # the Message-ID of the email it follows (Email.follows)
    last_error: str | None = None  # why its last attempt failed, None before any
