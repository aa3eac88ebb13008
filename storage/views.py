"""Read-only records for reports: what ``status``, ``sources list``, ``topics list``,
``stories``, ``export``, ``/metrics`` and the operator's health emails show.

Each is a frozen dataclass whose fields are in the order the commands print them; times are
datetimes (UTC), JSON columns are tuples. Storage builds them; nothing outside storage reads
a database row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class SourceStatus:
    """A source's health and article count (an active source, or one deactivated as gone)."""

    id: int
    url: str
    name: str | None
    last_fetch: datetime | None
    last_success: datetime | None
    last_status: int | None
    last_error: str | None
    error_count: int
    consecutive_failures: int
    next_due: datetime | None
    kind: str | None
    detected: str | None
    fetch_url: str | None
    via: str | None
    origin: str
    failing_since: datetime | None
    active: bool
    deactivated: str | None  # why the source was deactivated for good (HTTP 410)
    articles: int
    waiting: int = 0  # entries whose page was unavailable, requested again at the next polls
    postponed: int = 0  # new entries a poll left to the next ones (crawler.entries.postpone)
    #: When it last brought a new article (stored, or listed after another source stored
    #: it: schema 51; None: never), and when it was added: a feed that stopped changing
    #: answers every poll, each a success.
    last_new: datetime | None = None
    created: datetime | None = None

    @property
    def stale(self) -> bool:
        """Whether its polls bring no new article any more (is_stale)."""
        return is_stale(self.active, self.last_success, self.last_new, self.created)


#: How long a source's polls succeed without a new article before it is stale: a feed that
#: stopped changing (moved without a redirect, frozen by its CMS, a dead site's last copy
#: served by its CDN) answers 304, or the same items, each poll a success. Two weeks: a
#: weekly column is not stale; a source slower than that is said to be.
STALE_AFTER = timedelta(days=14)


def is_stale(
    active: bool,
    last_success: datetime | None,
    last_new: datetime | None,
    created: datetime | None,
) -> bool:
    """Whether a source is stale: polled successfully STALE_AFTER or longer after its last
    new article (or, without one, after it was added). Measured to its last success, not to
    now: a source failing since says so, and a daemon stopped for weeks does not make every
    source stale until it polls them again. What ``status``, ``/metrics`` and the operator's
    health emails all call stale."""
    since = last_new or created
    return (active and last_success is not None and since is not None
            and last_success - since >= STALE_AFTER)


@dataclass(frozen=True)
class SourceHealth:
    """A source the operator hears about: failing for long, gone, stale, or recovered."""

    id: int
    url: str
    name: str | None
    last_error: str | None
    last_status: int | None
    consecutive_failures: int
    failing_since: datetime | None
    last_success: datetime | None
    deactivated: str | None
    fetch_url: str | None
    told: bool = True  # recovered: whether the operator heard of its failure
    #: Reported stale (see is_stale), with when it last brought a new article (None: never).
    stale: bool = False
    last_new: datetime | None = None


@dataclass(frozen=True)
class TopicStatus:
    """An active topic with its match counts."""

    name: str
    query: str
    notify: tuple[str, ...]
    sources: tuple[str, ...]
    exclude: str | None
    mode: str
    origin: str
    matches: int
    alerted: int
    last_match: datetime | None


@dataclass(frozen=True)
class OutboxProblem:
    """An outbox message that failed at least once and is not sent (pending or failed)."""

    id: int
    recipient: str
    subject: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt: datetime | None


@dataclass(frozen=True)
class Requeued:
    """Failed messages queued again (``resend``): how many, and how many of them wait for
    their notification service's wait to end (a 429's Retry-After), the last at
    ``held_until``."""

    queued: int
    held: int
    held_until: datetime | None


@dataclass(frozen=True)
class DigestStatus:
    """A recipient's digest queue: items waiting (and how many storm control folded), the
    oldest waiting, and the last digest time handled."""

    recipient: str
    waiting: int
    storm: int
    oldest: datetime | None
    oldest_storm: datetime | None
    handled: datetime | None


@dataclass(frozen=True)
class StoryArticle:
    """One article of a story: its source's name, its URL, when it was fetched and when it
    was published (if said)."""

    source: str
    url: str
    fetched: datetime | None
    published: datetime | None = None


@dataclass(frozen=True)
class StoryView:
    """A recent story: its first article's title and URL, when it started, its articles in
    the order they came and the topics that alerted for it."""

    id: int
    title: str
    url: str
    started: datetime | None
    articles: tuple[StoryArticle, ...]
    alerted: tuple[str, ...]


@dataclass(frozen=True)
class ExportedArticle:
    """A stored article as ``export`` writes it: with its source and the topics it matched."""

    id: int
    url: str
    title: str
    text: str
    author: str | None
    published: datetime | None
    fetched: datetime | None
    extraction: str
    extraction_note: str | None
    story: int | None
    source: str
    source_url: str
    topics: tuple[str, ...]
