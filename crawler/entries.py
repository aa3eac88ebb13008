"""Entries of a polled source: fetch each new one's page, extract the article, store it.

Every entry ends in exactly one of: stored from its page, stored with the feed's summary
(the page is gone, forbidden or has no article text), skipped (a linked page that is no
article), or deferred to the next poll (the page is unavailable for now). A source's poll
is recorded — with its validators — only when all its entries are settled. A deferred entry
is kept with what the source said of it: its page is requested at the source's next polls
even once the source no longer lists it (a busy feed keeps only its last items).

An entry is new unless its URL's identity (storage.identity) is stored. A stored article
whose entry shows a later ``updated`` / ``lastmod`` date than the stored version is read
again (at most MAX_UPDATES per poll, for articles fetched within UPDATE_WINDOW): a changed
title or text replaces the stored one and queues the article to be matched again; an
unchanged or unreadable page keeps the stored version and records the date.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Literal
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from storage import (
    Article,
    CrawlStore,
    DeferredEntry,
    Extraction,
    FetchOutcome,
    KnownUrl,
    Source,
    StorageError,
    identity_host,
)
from storage.errors import said_stopping

from .containers import Containers
from .extracted import Extracted, Method, visible
from .feeddates import not_ahead, read_date
from .feeds import FeedEntry, site_of, unread_page
from .googlenews import is_link as google_news_link
from .http import (
    HANDLED_STATUSES,
    describe_failure,
    header,
    refused_unsent,
    robots_forbidden,
    transient_failure,
    transient_status,
)
from .pagination import MAX_ARTICLE_PAGES, continues
from .pdf import is_pdf
from .report import CrawlReport
from .shapes import link_shape
from .urls import canonicalize, identity_key, is_home_page, item_url, same_site, web_url
from .walls import html_title, not_the_article, not_the_post, wall
from .workers import Late, PageFailed, PagePool
from .xmlsafe import one_line, stored_text

logger = logging.getLogger(__name__)

# Article page answers that may pass: the entry waits for the next poll.
MAX_PAGE_ATTEMPTS = 3
#: Polls at which a new feed entry's page may answer 404 before its summary is kept (a feed
#: published before its pages): a page gone, or a broken link, costs one poll's wait.
NOT_THERE_YET_ATTEMPTS = 2
#: Article pages go before source polls of their host (see crawler/settings.py)...
PAGE_PRIORITY = 20
#: ...and the pages of a source that listed them earlier before those of later sources (its
#: rank, counted down from this for each source that lists pages; crawler/queues.py).
FIRST_RANK = 100_000
#: Articles edited in place are read again only when fetched this recently...
UPDATE_WINDOW = timedelta(days=7)
#: ...and at most this many per poll of a source (the most recently updated first).
MAX_UPDATES = 20
#: How many of a feed's recent items dated anew at one poll, titles unchanged, and more than
#: half of them, make its dates the feed's clock (see EntriesMixin.fresh_entries)...
REDATED_AT_ONCE = 3
#: ... dated within this of one another.
REDATED_WITHIN = timedelta(minutes=1)
#: How long a stop (of the daemon, of a site) is caught up after: what a source published
#: since its poll before, if that was at most this long ago, alerts however old (see _since).
CATCH_UP = timedelta(days=7)
#: What a deferred entry left for the next polls of its source says (see postpone).
POSTPONED = "postponed: more new pages than a poll takes"


@dataclass(frozen=True)
class Entry:
    """An entry to fetch: what the source said of it, and how to treat its page."""

    source: Source
    feed: FeedEntry
    url: str  # canonical entry URL
    linked: bool = False  # found as a link on a page (no summary to fall back on)
    baseline: bool = False  # found on a first poll: stored, not alerted, when undated
    article_id: int | None = None  # a stored article whose source shows a newer version
    #: The addresses the entry may have been stored under at another poll, where as many
    #: items did not share its page or address (see items_of_shared_pages).
    others: tuple[str, ...] = ()
    #: Of ``others``, the address of its item by its guid (crawler.urls.item_url): one
    #: stored there under its title is this item, whatever date it was given (a version
    #: that read the link before the guid, or the date, otherwise stored it there).
    guid_address: str = ""
    #: The title of the feed that lists it (its blog's name, for an untitled item).
    channel: str = ""
    #: Its source's poll before the one that listed it, when it was deferred then (see
    #: _since).
    since: datetime | None = None
    #: Listed by a copy of its source older than the one its poll before read (a CDN node
    #: serving a snapshot it cached earlier; see crawler.http.went_back): its title is what
    #: the item was called then, no edit (see _older).
    older_copy: bool = False


def items_of_shared_pages(entries: list[Entry]) -> list[Entry]:
    """``entries`` of one feed, those that link to one page with others of a different
    title or summary made items of their own (stored with their summary, at their link with
    its fragment, or with their guid as fragment: see item_url): the posts of a blog that are
    anchors of its day page, a podcast's episodes that all link to its home page. Taken for
    that page's one article, all but the first were lost, and each next poll "updated" it
    to another item. Items with the same title and summary stay one article. Items that
    still share one address (one guid, without a link or as items of one page) are told
    apart by their title and summary: all but the first were lost.

    How many items share a page or an address changes from poll to poll (a comment feed's
    second comment, an item leaving a busy feed), so each entry also names the addresses it
    has when it does not, or does (``others``): an item stored under one of them is known
    (the same title and date: see _same_item), not stored and mailed again."""
    groups: dict[str, list[Entry]] = {}
    for entry in entries:
        if entry.feed.link:
            groups.setdefault(entry.url, []).append(entry)
    shared = {url for url, group in groups.items() if _differ(group)}
    # Each entry as it is taken now, and its addresses: its page's (an item with a link),
    # its own as an item, its own told apart.
    taken: list[Entry] = []
    addresses: list[tuple[str, str, str]] = []
    for entry in entries:
        item = _item_of_its_own(entry) if entry.feed.link else entry
        taken.append(item if entry.url in shared else entry)
        page = entry.url if entry.feed.link else ""
        addresses.append((page, item.url, _told_apart(item.url, entry)))
    alike: dict[str, list[int]] = {}
    for n, entry in enumerate(taken):
        alike.setdefault(entry.url, []).append(n)
    apart = {n for places in alike.values()
             if len(places) > 1 and _differ([taken[n] for n in places]) for n in places}
    out = []
    for n, entry in enumerate(taken):
        url = addresses[n][2] if n in apart else entry.url
        found = dict.fromkeys(a for a in (*addresses[n], *entry.others) if a and a != url)
        out.append(replace(entry, url=url, others=tuple(found)))
    return out


def _differ(entries: list[Entry]) -> bool:
    """Whether ``entries`` are not all one item (one title and summary)."""
    return len({(e.feed.title.casefold(), e.feed.summary.casefold()) for e in entries}) > 1


def _item_of_its_own(entry: Entry) -> Entry:
    """A feed item whose link several items share, as an item of its own (see
    items_of_shared_pages)."""
    item = entry.feed
    name = item.link.partition("#")[2] or item.guid  # its fragment (a broken link has one too)
    url = item_url(entry.url, name, f"{item.title}\n{item.summary}")
    return replace(entry, feed=replace(item, link=""), url=url)


def _told_apart(item: str, entry: Entry) -> str:
    """The address ``item`` (an item's, with a fragment: item_url) told apart from other
    items there by a digest of ``entry``'s title and summary."""
    text = f"{entry.feed.title}\n{entry.feed.summary}".encode()
    return f"{item}~{hashlib.sha256(text).hexdigest()[:12]}"


#: An untitled item's title, from its text: this many characters at most, whole words.
OPENING_CHARS = 90


def _opening(text: str) -> str:
    """The opening of ``text`` as a title: its first line, cut at a word within
    OPENING_CHARS ("…" where cut)."""
    line = " ".join(next((line for line in text.splitlines() if line.strip()), "").split())
    if len(line) <= OPENING_CHARS:
        return line
    return line[:OPENING_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _folded(title: str) -> str:
    """A title as compared: its visible text, spaces collapsed, case folded."""
    return " ".join(visible(title).split()).casefold()


def _same_item(stored: KnownUrl, entry: Entry, *, dated: bool = True) -> bool:
    """Whether the article ``stored`` is ``entry``'s item: the same title and (``dated``)
    publication date (a comment feed titles every comment alike). Told wrong, an item would
    be lost; not told, it is stored and mailed again."""
    title = _folded(entry.feed.title)
    return (
        stored.article_id is not None
        and bool(title)
        and title == _folded(stored.title)
        and (not dated or stored.published == entry.feed.published)
    )


def _older(entry: Entry, stored: KnownUrl) -> bool:
    """Whether ``entry`` is an older copy of its item than the version ``stored``: listed by
    a document older than its source's last one (Entry.older_copy), or saying it was edited
    before that version was. A feed behind a flapping CDN alternates between its copy and
    an older snapshot, where a story still has the title it was published with: each poll
    of the old copy "updated" the story back to that title and the next one forward again,
    and a topic on the old headline alone was mailed "Updated:" for words the article no
    longer says.

    Only a date of the edit tells: an item's date that is its publication's (an RSS item's
    pubDate, which stays when its title is edited; an Atom entry never edited) is older
    than any version, and the version's date may be another source's (a sitemap's lastmod
    read since). An undated item in an undated document is as new as the stored version,
    and a title it had before may be the edit (a headline put back) as well as the stale
    one (the version seen first may be either): its new title is taken, as before."""
    edited = entry.feed.updated
    return entry.older_copy or (
        edited is not None and edited != entry.feed.published
        and stored.version is not None and edited < stored.version
    )


def _item_text(entry: Entry) -> str:
    """The text of a feed item stored as the article (no page): its description, else its
    title."""
    return entry.feed.text or entry.feed.title


def _stored(
    entry: Entry, known: dict[str, KnownUrl], shared: set[str], listed: set[int | None]
) -> KnownUrl | None:
    """The article stored for ``entry`` among ``known``: at its address, or at another of
    its addresses (see items_of_shared_pages), or its source's item of its guid and date,
    whatever its title now: a slug edited with its headline after publication (a WordPress
    post's ``?p=`` guid, /maduro-leaves become /maduro-leaves-venezuela) was a new article,
    mailed again. Not where other entries of this poll have its guid too (``shared``), nor
    an article another entry lists at its own address (``listed``): guids that number a
    feed's items by their place would make each new item an older one."""
    return known.get(entry.url) or next(
        (theirs for other in entry.others
         if (theirs := known.get(other))
         and (_same_item(theirs, entry, dated=other != entry.guid_address)
              or (other == entry.guid_address and other not in shared
                  and theirs.article_id not in listed
                  and theirs.source_id == entry.source.id
                  and entry.feed.published is not None
                  and theirs.published == entry.feed.published))),
        None,
    )


@dataclass
class _Poll:
    source: Source
    outcome: FetchOutcome
    waiting: int = 0
    deferred: bool = False
    pages: int = 0  # pages requested (all its child sitemaps' together: see MAX_POLL_PAGES)
    #: The poll's new articles, stored together (one transaction) before it is recorded.
    articles: list[Article] = field(default_factory=list)


class EntriesMixin:
    """Article-page handling for NewsSpider."""

    store: CrawlStore
    report: CrawlReport
    clock: Callable[[], datetime]
    pages: PagePool
    containers: Containers
    polls: dict[int, _Poll]
    #: When each source's poll brought its newest new article (one stored, or one another
    #: source stored that it lists): kept with the poll's record (sources.last_new).
    brought_new: dict[int, datetime]
    seen: set[str]
    ranks: dict[int, int]  # source id -> rank of its pages (see page_requests)
    crawler: Crawler
    #: New articles wait for the rest of their poll (see _add) until the crawl is asked to
    #: stop: from then on each is stored at once (store_held).
    holding: bool = True

    def _record(self, source: Source, outcome: FetchOutcome, retry: float | None = None) -> None:
        raise NotImplementedError

    def _unrecorded(self, source: Source, exc: StorageError) -> None:
        raise NotImplementedError

    def fresh_entries(self, entries: list[Entry]) -> list[Entry]:
        """The entries to fetch (web links only, once per crawl): those not stored before,
        and stored articles whose entry shows a newer version (``article_id`` set)."""
        web = [e for e in entries if web_url(e.url)]
        if len(web) < len(entries):
            logger.warning(
                "%s: ignored %d entry link(s) that are not http(s) addresses",
                entries[0].source.url,
                len(entries) - len(web),
            )
            self.report.count("links_not_web", len(entries) - len(web))
        with self.report.timed("store"):
            known = self.store.known_articles(e.url for e in web)
            others = [a for e in web if e.url not in known for a in e.others]
            if others:  # the addresses of the entries not known by their own
                known.update(self.store.known_articles(others))
        fresh: list[Entry] = []
        updates: list[Entry] = []
        redated: list[Entry] = []  # of updates, those a later date alone shows
        recent = 0  # listed entries of recent articles (whose updates are read)
        theirs_too: list[int] = []  # stored articles of other sources that this one lists
        guids = Counter(entry.guid_address for entry in web if entry.guid_address)
        shared = {address for address, count in guids.items() if count > 1}
        listed = {stored.article_id for entry in web if (stored := known.get(entry.url))}
        found = [_stored(entry, known, shared, listed) for entry in web]
        self._renamed_items(web, found)
        for entry, stored in zip(web, found, strict=True):
            key = identity_key(entry.url)
            if (stored is not None and stored.article_id is not None
                    and stored.source_id is not None and stored.source_id != entry.source.id):
                theirs_too.append(stored.article_id)
            if key in self.seen:
                continue
            if stored is None or (stored.article_id is None and entry.feed.title):
                # New; or a page some source's link found to be no article, which an entry
                # with a title of its own (a feed's) still is: stored with its summary.
                fresh.append(entry)
            elif newer := self._newer(entry, stored):
                recent += 1
                updates.append(replace(entry, article_id=stored.article_id))
                if newer == "redated":
                    redated.append(updates[-1])
            else:  # known: not taken here, so another source's entry for it still may be
                recent += self._recent(stored)
                continue
            self.seen.add(key)
        if theirs_too:
            self._listed_too(entries[0].source, theirs_too)
        dates = [e.feed.updated for e in redated if e.feed.updated is not None]
        if (len(redated) >= REDATED_AT_ONCE and 2 * len(redated) > recent
                and max(dates) - min(dates) <= REDATED_WITHIN):
            # Most of a feed's recent items dated anew at one poll to one instant, their
            # titles unchanged: the feed's clock (a feed written at each request, dated with
            # its time), not its newsroom's edits (a live blog's, minutes apart). Their
            # pages were downloaded again at every poll, for a week (a review).
            logger.info("%s: %d of its %d recent items dated anew at once, titles unchanged: "
                        "not read again", entries[0].source.url, len(redated), recent)
            self.report.count("updates_redated", len(redated))
            updates = [e for e in updates if e not in redated]
            for entry in redated:  # their dates as seen: an edit later is told by its own
                self.seen.discard(identity_key(entry.url))
            try:
                with self.report.timed("store"):
                    for entry in redated:
                        assert entry.article_id is not None
                        self.store.keep_version(entry.article_id, entry.feed.updated, entry.url)
            except StorageError as exc:  # a full disk: their dates seen again next time
                logger.warning("%s: dates not noted (%s)", entries[0].source.url, exc)
        updates.sort(key=lambda e: e.feed.updated or datetime.min.replace(tzinfo=UTC))
        return fresh + updates[-MAX_UPDATES:]

    def _renamed_items(self, entries: list[Entry], found: list[KnownUrl | None]) -> None:
        """Fill in ``found`` (the stored article of each of ``entries``) for the items
        without a link that no address of theirs names: an item of its source's feed, at the
        same site, stored with the same title and text whatever its date, or else with the
        same title and date, is that item whatever its guid is now, unless another entry of
        this poll is that article. A feed generator that writes each guid anew at every
        request (the request's time, a session token) had every such item stored again at
        every poll, and mailed again (a short text is a story of its own); one that dates an
        undated item with the request's time too had it mailed again even so (a story of
        one site's headline and text is of one date), and an undated one was stored again.
        Its text edited meanwhile under its date, it is still the item that was mailed; under
        a date written anew, or none, it is an item of its own (a daily "Morning briefing":
        each day's text is news), mailed once more, and a notice repeated word for word is no
        news again. Each stored article is one entry's, the same text first: two items of one
        title listed together stay two."""
        wanted = [n for n, (entry, stored) in enumerate(zip(entries, found, strict=True))
                  if stored is None and not entry.feed.link and entry.feed.title]
        if not wanted:
            return
        titles = [one_line(visible(entries[n].feed.title)) for n in wanted]
        with self.report.timed("store"):
            items = self.store.feed_items_titled(entries[0].source.id, titles)
        taken = {stored.article_id for stored in found if stored is not None}
        words = {n: stored_text(visible(_item_text(entries[n]))).split() for n in wanted}
        for by_text in (True, False):  # the same text first, then the same date
            for n in wanted:
                entry = entries[n]
                if found[n] is not None or not (by_text or entry.feed.published):
                    continue
                site = entry.url.partition("#")[0]
                item = next((stored for url, (stored, text) in items.items()
                             if url.partition("#")[0] == site and stored.article_id not in taken
                             and _same_item(stored, entry, dated=not by_text)
                             and (not by_text or text.split() == words[n])), None)
                if item is not None:
                    found[n] = item
                    taken.add(item.article_id)

    def _listed_too(self, source: Source, article_ids: list[int]) -> None:
        """``source`` lists articles another source stored: noted, so that a topic limited
        to it matches them too (a section feed that lists a story after the main feed did:
        its topic never alerted). Not noted (a full disk): noted at a later poll."""
        try:
            with self.report.timed("store"):
                if self.store.note_listed(article_ids, source.id, self.clock()):
                    # New to this source (a section feed listing what its site's main feed
                    # stored first): it brings news, as a feed storing its own does.
                    self.brought(source.id, self.clock())
        except StorageError as exc:
            logger.warning("%s: the articles it lists that other sources stored are not "
                           "noted (%s)", source.url, exc)

    def _recent(self, stored: KnownUrl) -> bool:
        """Whether ``stored`` is an article recent enough to be read again when updated."""
        return (stored.article_id is not None and stored.fetched is not None
                and stored.fetched >= self.clock() - UPDATE_WINDOW)

    def _newer(self, entry: Entry, stored: KnownUrl) -> Literal["retitled", "redated", None]:
        """Whether ``entry`` shows a newer version of the recent article ``stored``: another
        title (a story rewritten in place, its link and dates kept: "Maduro leaves Caracas"
        became "Maduro arrives in Minsk", never read), unless the entry is an older copy of
        the item (_older), or a later updated date."""
        if not self._recent(stored):
            return None
        # Its own source's title: two feeds of a site that title a story each its way (a
        # kicker, a curly quote) read it again at each other's polls, for days.
        if (entry.feed.title and stored.source_id == entry.source.id
                and _folded(entry.feed.title) != _folded(stored.title)
                and not _older(entry, stored)):
            return "retitled"
        if (entry.feed.updated is not None and stored.version is not None
                and entry.feed.updated > stored.version):
            return "redated"
        return None

    def with_deferred(self, source: Source, entries: list[Entry]) -> list[Entry]:
        """``entries`` and, after them, the source's deferred entries that they do not list:
        a page unavailable at an earlier poll is requested again until it is settled."""
        listed = {entry.url for entry in entries}
        aliases = {other for entry in entries for other in entry.others}
        # An item listed under its guid, once (guids numbering a feed's items by their
        # place name no item of their own), and its date.
        guids = Counter(entry.guid_address for entry in entries if entry.guid_address)
        by_guid = {(entry.guid_address, entry.feed.published): entry.url for entry in entries
                   if guids[entry.guid_address] == 1 and entry.feed.published is not None}
        with self.report.timed("store"):
            waiting = self.store.deferred_entries(source.id)
            relisted = {d.url: by_guid[key] for d in waiting if d.url not in listed
                        and (key := (d.guid_address, d.published)) in by_guid}
            # Unless that item is at an address of its own seen before, stored or deferred:
            # a feed that numbers its items by their place and dates them by the day gives
            # the number of a post that fell off it to one listed before it (the deferred
            # post was dropped unread).
            seen = set(self.store.known_articles(relisted.values()) if relisted else ())
        seen.update(d.url for d in waiting)
        moved = [d for d in waiting if d.url not in listed
                 and (d.url in aliases or (d.url in relisted and relisted[d.url] not in seen))]
        for gone in moved:
            # Deferred under an address its item is no longer read at (a redirector's,
            # Feedburner's link; a slug edited with its headline, its guid and date kept):
            # the item listed now is that entry (stored and mailed again under the old one
            # once its attempts were spent).
            try:
                with self.report.timed("store"):
                    self.store.drop_deferred(gone.url)
            except StorageError as exc:  # a full disk: left for a later poll
                logger.warning("%s: deferred %s not dropped (%s)", source.url, gone.url, exc)
        gone_urls = {d.url for d in moved}
        unlisted = [_entry(source, d) for d in waiting
                    if d.url not in listed and d.url not in gone_urls]
        # Listed again: found first at the poll it was deferred at, whose "since" it keeps.
        first = {d.url: d.since for d in waiting if d.url in listed and d.since is not None}
        if first:
            entries = [replace(e, since=first[e.url]) if e.url in first else e for e in entries]
        if unlisted:
            # Debug: `status` lists them; at every poll of a host that makes us wait, this
            # line was most of the log (320 times in half an hour for one source).
            logger.debug("%s: %d deferred page(s) no longer listed, requested again",
                        source.url, len(unlisted))
            self.report.count("deferred_unlisted", len(unlisted))
        return entries + unlisted

    def postpone(self, entries: list[Entry]) -> None:
        """New entries a poll leaves to its source's next polls (more than it takes), noted
        as deferred (no attempt counted) when published news however old (``_since``):
        taken at a later poll, they were judged against that poll's last one (minutes
        before), stored and never alerted after a long stop; and one the feed no longer
        listed by then was never fetched."""
        now = self.clock()
        kept = [e for e in entries
                if e.feed.link and e.article_id is None and _since(e, now) is not None]
        try:
            with self.report.timed("store"):
                for entry in kept:
                    self.store.defer_entry(_deferred(entry, now), POSTPONED, now,
                                           attempted=False)
        except StorageError as exc:  # a full disk: listed again, taken as before
            logger.warning("%d postponed entries not noted (%s)", len(kept), exc)

    def expect(self, source: Source, outcome: FetchOutcome, count: int) -> None:
        """``count`` more pieces of work (entries, child sitemaps) belong to this poll; with
        nothing left to wait for, the poll is recorded now."""
        poll = self.polls.setdefault(source.id, _Poll(source, outcome))
        poll.outcome = outcome
        poll.waiting += count
        if poll.waiting <= 0:
            self._finish(poll)

    def settle(self, source: Source, *, deferred: bool) -> None:
        """One piece of a poll is done; the last one records the poll."""
        poll = self.polls.get(source.id)
        if poll is None:
            return
        poll.waiting -= 1
        poll.deferred = poll.deferred or deferred
        if poll.waiting <= 0:
            self._finish(poll)

    def _finish(self, poll: _Poll) -> None:
        self.polls.pop(poll.source.id, None)
        try:
            self.store_articles(poll)
        except StorageError as exc:
            # The database refused (a nearly full disk, where the poll's small record would
            # still fit): no failure of the source, which would back off for hours after
            # the disk was freed. It stays due, as when its record is refused.
            self._unrecorded(poll.source, exc)
            return
        outcome = poll.outcome
        if poll.deferred:
            # Without validators, the next poll reads the whole source again and retries the
            # deferred pages instead of getting a 304.
            outcome = replace(outcome, etag=None, last_modified=None)
        self._record(poll.source, outcome)

    def page_requests(self, entries: list[Entry]) -> Iterator[scrapy.Request]:
        """The requests for the entries' pages; a feed item that links nowhere has no page
        and is stored as it is. Pages carry their source's rank: the sources of a crawl are
        drained in the order they listed their pages, so that their polls end early."""
        for entry in entries:
            if not entry.feed.link:
                self._store_item(entry)
                continue
            if not entry.linked and google_news_link(entry.feed.link):
                # Google News' link, whose id names no publisher's page: its page is a
                # script's or Google's consent page, never the article (crawler.googlenews).
                self._store_item(entry, "a Google News link that names no publisher's page")
                continue
            if not entry.linked and entry.feed.unread:
                # An app's page that the item gives whole (a Mastodon post's, a Bluesky
                # post's, a YouTube video's, a GitHub release's: crawler.feeds).
                self._store_item(entry, entry.feed.unread)
                continue
            yield scrapy.Request(
                entry.feed.link,
                callback=self.parse_article,
                errback=self.article_failed,
                cb_kwargs={"entry": entry},
                meta={"handle_httpstatus_list": HANDLED_STATUSES},
                priority=PAGE_PRIORITY + self._rank(entry.source.id),
            )

    def _rank(self, source_id: int) -> int:
        """The source's rank in this crawl: FIRST_RANK for the first source to list pages,
        one less for each next one (never below 0)."""
        rank = self.ranks.get(source_id)
        if rank is None:
            rank = self.ranks[source_id] = max(0, FIRST_RANK - len(self.ranks))
        return rank

    async def parse_article(self, response: Response, entry: Entry) -> None:
        """An article page answered: extract its text and store the article."""
        head_title = html_title(response.body, getattr(response, "encoding", None) or "utf-8")
        blocked = wall(response.body, head_title, header(response, "cf-mitigated"), response.url,
                       bool(response.meta.get("redirect_urls")))
        if blocked is not None:  # not the article: asked again, as an unavailable page
            self.report.count("pages_walled")
            self._defer(entry, f"{blocked} answered instead of the article "
                               f"(HTTP {response.status})")
            return
        if response.status < 300 and not response.body.strip():
            # A CDN's or server's passing fault (a page has at least its markup): again later.
            self._defer(entry, f"page answered HTTP {response.status} with nothing in it")
            return
        if response.status >= 400:
            why = f"page answered HTTP {response.status}"
            if transient_status(response.status):
                self._defer(entry, why)
            elif response.status == 404 and entry.article_id is None and entry.feed.title:
                # A feed often comes before its pages (a CMS, a CDN): a new entry's page not
                # there yet is asked again at the next poll (the summary kept then).
                self._defer(entry, why, attempts=NOT_THERE_YET_ATTEMPTS)
            else:
                self._fallback(entry, why)
            return
        pdf = is_pdf(response.body)  # a ruling, a statement: its text read (crawler.pdf)
        # A release or a filing as a .txt: its text is the article (crawler.pagetask).
        kind = (header(response, "content-type") or "").partition(";")[0].strip().lower()
        plain = kind == "text/plain" and not pdf
        if not isinstance(response, scrapy.http.TextResponse) and not pdf:
            self._fallback(entry, "page is not HTML", no_article=True)
            return
        site = identity_host(urlsplit(response.url).hostname or "")
        try:
            # The page's bytes, decoded in the worker (crawler.pagetask); where its site holds
            # its articles, as known when the page is sent to a worker (sent no earlier than
            # as a worker's next page until the site is learnt); its author and date looked
            # for only where the feed gives none (the page's would not be kept). What the
            # extraction found is learnt as soon as the worker answers, in the pool's thread:
            # the site's next pages may be sent before this coroutine resumes (measured: with
            # the crawl's thread busy, a cold cycle sent a site's next dozen pages in full).
            hint = Late(partial(self.containers.hint, site),
                        settled=partial(self.containers.is_learnt, site))
            done = await self.pages.run(response.body, response.url,
                                        getattr(response, "encoding", None), hint,
                                        entry.feed.author is None, entry.feed.published is None,
                                        plain, answered=partial(self.containers.seen, site))
        except PageFailed as exc:
            # A page that crashed or hung its worker: tried again at the next poll (and, like
            # any page that keeps failing, kept with the feed's summary after a few tries).
            logger.warning("extraction of %s lost its worker: %s", response.url, exc)
            self.report.count("pages_lost")
            self._defer(entry, f"extraction failed: {exc}")
            return
        except Exception as exc:
            logger.warning("extraction failed for %s: %s", response.url, exc)
            extracted = None
        else:
            self.report.add_cpu("extract", done.cpu_seconds, here=self.pages.size == 0)
            extracted = done.value
        if extracted is not None and extracted.cut:
            self.report.count("pages_cut")
        if extracted is None:
            self._fallback(entry, "no article text found on the page", no_article=True)
            return
        # An item without a title (a Mastodon post, a bridged social post) is told by its
        # text: its page, an app's "enable JavaScript" shell, was stored as the post.
        if not entry.linked and not pdf and (
            not_the_article(entry.feed.title, (extracted.title, head_title), extracted.text)
            if entry.feed.title else not_the_post(entry.feed.text, extracted.text)
        ):
            self.report.count("pages_walled")
            shown = " ".join((extracted.title or extracted.text[:60]).split())[:80]
            why = f"the page is not the article (it says {shown!r})"
            if entry.feed.title:
                self._defer(entry, why)
            else:  # the item's own text is the post: kept at once
                self._fallback(entry, why)
            return
        if continues(response.url, extracted.next_url):
            assert extracted.next_url is not None
            extracted = await self._read_on(entry, extracted, extracted.next_url, hint)
        self._store_page(entry, response.url, extracted, head_title)

    async def _read_on(self, entry: Entry, first: Extracted, url: str, hint: Late) -> Extracted:
        """``first``, the article's first page, with the text of the pages that continue it
        from ``url`` on (crawler.pagination: MAX_ARTICLE_PAGES in all): a topic on a word of
        page 2 never alerted. A line a page repeats (the headline, the author) is kept
        once; a page that fails ends the article where it is (nothing is lost: its first
        page is the article as before)."""
        lines = first.text.split("\n")
        seen = set(lines)
        page: int = 1
        next_url: str | None = url
        while next_url is not None and page < MAX_ARTICLE_PAGES:
            request = scrapy.Request(next_url, meta={"handle_httpstatus_list": HANDLED_STATUSES},
                                     priority=PAGE_PRIORITY + self._rank(entry.source.id))
            try:
                response = await self.crawler.engine.download_async(request)
                if response.status >= 300 or not isinstance(response, scrapy.http.TextResponse):
                    raise ValueError(f"HTTP {response.status}")
                done = await self.pages.run(response.body, response.url, response.encoding,
                                            hint, False, False)
            except Exception as exc:  # robots.txt, the network, a worker: what is read stays
                failure = Failure(exc)  # type: ignore[no-untyped-call]
                logger.info("%s: page %d of the article not read (%s)", next_url, page + 1,
                            exc if isinstance(exc, ValueError) else describe_failure(failure))
                self.report.count("article_pages_unread")
                break
            self.report.add_cpu("extract", done.cpu_seconds, here=self.pages.size == 0)
            if done.value is None:
                break
            page += 1
            self.report.count("article_pages")
            added = [line for line in done.value.text.split("\n") if line not in seen]
            lines.extend(added)
            seen.update(added)
            following = done.value.next_url
            next_url = following if continues(response.url, following, page) else None
        return replace(first, text="\n".join(lines))

    def article_failed(self, failure: Failure) -> None:
        """An article page could not be fetched."""
        entry: Entry = failure.request.cb_kwargs["entry"]  # type: ignore[attr-defined]
        why = f"page fetch failed: {describe_failure(failure)}"
        exc = failure.value
        if not getattr(self, "cancelled", False) and not str(exc).strip() and (
            "Cancel" in type(exc).__name__
        ):
            # Scrapy cancels a body that outgrows crawl.max_size, without a word when the
            # server sent no Content-Length (an endless page): as large then as with one,
            # kept with the summary at once (it was downloaded again at 3 polls, 10 MB each).
            self._fallback(entry, "page fetch failed: the body is larger than crawl.max_size")
            return
        if transient_failure(failure):
            self._defer(entry, why, attempted=not refused_unsent(failure))
            return
        if robots_forbidden(failure):
            # Feeds are fetched whatever robots.txt says, their pages not: the source was
            # "ok" while its topics matched the feed's summaries only, and nothing said so.
            kept = ("its links are not stored" if entry.linked and not entry.feed.title
                    else "articles kept with the feed's text")
            self.poll_problem(entry.source, "its article pages are refused by the site's "
                                            f"robots.txt: {kept}")
        self._fallback(entry, why)  # 404, too large: that will not pass either

    def poll_problem(self, source: Source, problem: str) -> None:
        """Say ``problem`` in the outcome of the source's poll under way, if any, once:
        ``status`` shows it as a warning of a source that is otherwise ok."""
        poll = self.polls.get(source.id)
        if poll is None:
            return
        said = poll.outcome.error
        if said and problem in said.split("; "):
            return
        poll.outcome = replace(poll.outcome, error=f"{said}; {problem}" if said else problem)

    def _defer(
        self, entry: Entry, why: str, attempts: int = MAX_PAGE_ATTEMPTS, attempted: bool = True
    ) -> None:
        """The page is unavailable for now (429, 5xx, network): try again at the next poll,
        and give up waiting after ``attempts`` polls that requested it (``attempted``; a
        page refused unsent while its host waits is not given up: the wait is bounded)."""
        try:
            with self.report.timed("store"):
                made = self.store.defer_entry(_deferred(entry, self.clock()), why, self.clock(),
                                              attempted)
        except StorageError as exc:
            # A nearly full disk: one line, not Scrapy's traceback a page. Unrecorded, the
            # poll keeps no validators: its next one lists the entry again.
            if not said_stopping(exc, f"{entry.feed.link}: noted"):
                logger.warning("%s: %s, and not noted (%s); read again at the next poll",
                               entry.feed.link, why, exc)
            self.report.count("articles_unstored")
            self.settle(entry.source, deferred=True)
            return
        if made >= attempts:
            self._fallback(entry, f"{why} (after {made} attempts)")
            return
        logger.info("%s: %s, will retry at the next poll", entry.feed.link, why)
        self.report.count("articles_deferred")
        self.settle(entry.source, deferred=True)

    def _fallback(self, entry: Entry, why: str, *, no_article: bool = False) -> None:
        """No article text from the page: keep a feed entry with its summary; forget a link
        (and, when the page answered with no article, ``no_article``, count its URL shape
        against its site); keep the stored version of an article read again."""
        if entry.article_id is not None:
            logger.info("%s: newer version not read, stored one kept (%s)", entry.feed.link, why)
            self.store.keep_version(entry.article_id, entry.feed.updated, entry.url)
            self.report.count("updates_unread")
            self.settle(entry.source, deferred=False)
            return
        if entry.linked and not entry.feed.title:
            if no_article:
                logger.info("%s: skipped, not an article (%s)", entry.feed.link, why)
            else:  # gone, forbidden, or unavailable poll after poll: said louder
                logger.warning("%s: skipped, not fetched again (%s)", entry.feed.link, why)
            self.store.skip_url(entry.url, entry.source.id, why, self.clock())
            self.report.count("links_skipped")
            if no_article:
                self._learn(entry, article=False)
            self.settle(entry.source, deferred=False)
            return
        logger.warning(
            "%s: using the feed summary for %s (%s)", entry.source.url, entry.feed.link, why
        )
        self.report.count("articles_from_summary")
        self._add(entry, self._from_feed(entry, entry.feed.text, why))

    def _learn(self, entry: Entry, *, article: bool) -> None:
        """Remember what a followed link of this URL shape led to, for the site's next polls."""
        site = identity_host(urlsplit(entry.url).hostname or "")
        self.store.note_link_shape(site, link_shape(entry.url), article=article, now=self.clock())

    def _store_item(self, entry: Entry, note: str = "the feed item links to no page") -> None:
        """A feed item without a link (or whose link is no page's, ``note``): its title and
        description are the article."""
        self.report.count("articles_from_item")
        self._add(entry, self._from_feed(entry, _item_text(entry), note))

    def _from_feed(self, entry: Entry, text: str, note: str) -> Article:
        """The article as the feed describes it (no page text): ``text`` and why; an
        untitled item (a Mastodon post) titled by its text's opening (its alert said
        "(untitled)")."""
        return Article(
            url=entry.url,
            entry_url=entry.url,
            source_id=entry.source.id,
            title=entry.feed.title or _opening(text),
            text=text,
            published=entry.feed.published,
            author=entry.feed.author,
            fetched=self.clock(),
            extraction="feed",
            extraction_note=note,
            baseline=entry.baseline and entry.feed.published is None,
            updated=entry.feed.updated,
        )

    def _store_page(
        self, entry: Entry, page_url: str, page: Extracted, head_title: str | None = None
    ) -> None:
        """Store the article ``page`` holds; its title the feed's, else the one extraction
        found, else the page's <title> (``head_title``: an entry without a title, on a page
        whose headline extraction missed, was "(no title)")."""
        if entry.linked:
            self._learn(entry, article=True)
        url = canonicalize(page_url)
        # A canonical URL on another site, or a home page (a common misconfiguration that
        # would make every article of the site one), is not the article's address. Nor is
        # one that articles of other titles reach too (a section page named canonical, a
        # consent page redirected to): storage keeps each under its entry's address.
        canonical = page.canonical_url
        if canonical and same_site(canonical, page_url) and not is_home_page(canonical):
            url = canonicalize(canonical)
        published = (entry.feed.published or _page_date(page.date, self.clock())
                     or _dateline_date(page.text, self.clock()))
        title = entry.feed.title or page.title or _shown_title(head_title)
        text = _without_title(page.text, (title, page.title or ""))
        if not entry.feed.title and not entry.linked and _folded(title) in {
            _folded(name) for name in (entry.channel, entry.source.name or "") if name
        }:
            # An untitled item (a micro-blog's post) on a page titled with its blog's name:
            # every alert of the blog said that name.
            title = _opening(text)
        extraction: Extraction = _EXTRACTION[page.method]
        note = None
        fuller = None if entry.linked else _fuller(text, entry.feed)
        if fuller is not None:
            # A paywall's teaser, a lede above "subscribe": the feed's own text of the
            # article is the article (a topic on its later paragraphs never alerted).
            self.report.count("pages_partial")
            text, extraction = fuller, "feed"
            note = "the page shows part of the article its feed gives: the feed's text kept"
        publisher = None
        if page.site and entry.feed.publisher and entry.feed.publisher == site_of(entry.feed.link):
            # An aggregator's item that names no publisher (Google Alerts', Hacker News', a
            # subreddit's post): named by the name its article's page gives its site
            # ("Reuters"), not its host.
            publisher = page.site
        self._add(
            entry,
            Article(
                url=url,
                entry_url=entry.url,
                source_id=entry.source.id,
                title=title,
                text=text,
                published=published,
                author=entry.feed.author or page.author,
                fetched=self.clock(),
                extraction=extraction,
                extraction_note=note,
                baseline=entry.baseline and published is None,
                updated=entry.feed.updated,
                summary=entry.feed.summary or None,
                publisher=publisher,
            ),
        )

    def _add(self, entry: Entry, article: Article) -> None:
        article = replace(article, title=one_line(visible(article.title)),
                          text=stored_text(visible(article.text)),
                          summary=article.summary and stored_text(visible(article.summary)),
                          author=article.author and (one_line(article.author) or None),
                          since=_since(entry, self.clock()),
                          publisher=one_line(visible(article.publisher or entry.feed.publisher))
                          or None,
                          guid_address=entry.guid_address)
        poll = self.polls.get(entry.source.id)
        if entry.article_id is None and poll is not None and self.holding:
            # Stored with the poll's other new articles when its last entry is settled,
            # before the poll is recorded (a crawl asked to stop stores what it holds, and
            # the next ones at once: store_held).
            poll.articles.append(article)
        else:
            try:
                with self.report.timed("store"):
                    self._write(entry, article)
            except StorageError as exc:
                # A nearly full disk: one line, not Scrapy's traceback a page. The poll is
                # recorded without its validators, so its next one reads the page again.
                if not said_stopping(exc, f"{article.url}: stored"):
                    logger.warning("%s: not stored (%s); read again at the next poll",
                                   article.url, exc)
                self.report.count("articles_unstored")
                self.settle(entry.source, deferred=True)
                return
        self.settle(entry.source, deferred=False)

    def store_held(self) -> None:
        """Store the articles the polls under way hold (their sources stay due), and each
        next one at once: a crawl asked to stop keeps what it has done even if its grace
        period runs out (the entries may have left their feed by the next poll)."""
        self.holding = False
        for poll in list(self.polls.values()):
            self.store_articles(poll)

    def store_later_polls(self) -> None:
        """Store the articles that the polls under way hold, but sources' first polls (the
        daemon matches them as the crawl goes: a poll bringing hundreds of new pages had its
        first article emailed when the last was fetched)."""
        for poll in list(self.polls.values()):
            if poll.source.polled:
                self.store_articles(poll)

    def store_articles(self, poll: _Poll) -> None:
        """Store the new articles the poll holds, in one transaction."""
        if not poll.articles:
            return
        with self.report.timed("store"):
            ids = self.store.add_articles(poll.articles)
        for article, article_id in zip(poll.articles, ids, strict=True):
            if article_id is not None:
                self.brought(article.source_id, article.fetched)
        poll.articles = []
        new = sum(1 for article_id in ids if article_id is not None)
        if new:
            self.report.count("articles_new", new)
        if len(ids) > new:
            self.report.count("articles_duplicate", len(ids) - new)

    def _write(self, entry: Entry, article: Article) -> None:
        if entry.article_id is not None:
            if self.store.update_article(entry.article_id, article, self.clock()):
                logger.info("%s: updated in place, to be matched again", entry.feed.link)
                self.report.count("articles_updated")
            else:
                self.report.count("articles_unchanged")
        elif self.store.add_article(article) is None:
            self.report.count("articles_duplicate")
        else:
            self.brought(article.source_id, article.fetched)
            self.report.count("articles_new")

    def brought(self, source_id: int, when: datetime) -> None:
        """The poll of ``source_id`` brought a new article at ``when``."""
        self.brought_new[source_id] = max(when, self.brought_new.get(source_id, when))


_EXTRACTION: dict[Method, Extraction] = {
    "fast": "page:fast",
    "precision": "page:precision",
    "default": "page:default",
    "recall": "page:recall",
    "pdf": "page:pdf",
    "text": "page:text",
}


def _deferred(entry: Entry, now: datetime) -> DeferredEntry:
    """What storage keeps of a deferred entry."""
    feed = entry.feed
    return DeferredEntry(
        url=entry.url,
        source_id=entry.source.id,
        link=feed.link,
        title=one_line(feed.title),
        summary=stored_text(feed.summary),
        published=feed.published,
        author=feed.author and (one_line(feed.author) or None),
        updated=feed.updated,
        guid=feed.guid and stored_text(feed.guid),
        linked=entry.linked,
        baseline=entry.baseline,
        content=feed.content and stored_text(feed.content),
        since=_since(entry, now),
        publisher=one_line(feed.publisher),
        unread=feed.unread,
        guid_address=entry.guid_address,
    )


def _since(entry: Entry, now: datetime) -> datetime | None:
    """The poll of its source before the one that listed ``entry`` (None on a first poll,
    or one longer than CATCH_UP ago: a source removed, deactivated or failing for weeks is
    new again, its back catalogue no news): an article published after it is news,
    however old (watchlist.match)."""
    since = entry.since
    if since is None and entry.source.polled:
        since = entry.source.last_success
    return since if since is not None and since >= now - CATCH_UP else None


def _entry(source: Source, deferred: DeferredEntry) -> Entry:
    """The entry a deferred one stands for (``article_id``, for a stored article's newer
    version, is found again by ``fresh_entries``)."""
    feed = FeedEntry(
        link=deferred.link,
        title=deferred.title,
        summary=deferred.summary,
        published=deferred.published,
        author=deferred.author,
        updated=deferred.updated,
        guid=deferred.guid,
        content=deferred.content,
        publisher=deferred.publisher,
        # Kept since schema 53; an entry deferred before (a YouTube video at YouTube's
        # consent page, by an earlier version) is judged again from what it keeps, its
        # feed's generator unknown here.
        unread=deferred.unread or unread_page(deferred.link, deferred.guid, deferred.title,
                                              source.poll_url, ""),
    )
    # Its guid's address: stored under it too, as an entry stored at once is, and where an
    # article of its item may be stored already (see items_of_shared_pages).
    guid = deferred.guid_address
    return Entry(source, feed, deferred.url, linked=deferred.linked, baseline=deferred.baseline,
                 since=deferred.since, others=(guid,) if guid else (), guid_address=guid)


#: When a page's text is a part of its feed's text (_part_of): the feed's has this many
#: words at least, this many times the page's, and holds this share of the page's words.
PARTIAL_MIN_WORDS = 50
PARTIAL_FULLER = 1.5
PARTIAL_SHARE = 0.8
#: ... and is this many times as long in characters: a text of 1.5 times the words is about
#: 1.5 times as long (a teaser's words are its article's), so a feed's text under 1.2 times
#: the page's is not compared word by word, nor its HTML made text where even that is shorter
#: (a feed of whole posts whose page gives the whole post: 0.9 ms an article in the crawl
#: process, the page's words and the post's read for nothing).
PARTIAL_LONGER = 1.2
_WORDS = re.compile(r"\w+")


def _fuller(page: str, feed: FeedEntry) -> str | None:
    """The feed's text of the article where the page's, ``page``, is a part of it (a
    paywall's teaser, a lede above "subscribe"), else None. An HTML fragment's text is no
    longer than the fragment: a feed whose summary and content are both too short is not
    read as text."""
    least = PARTIAL_LONGER * len(page)
    if max(len(feed.summary), len(feed.content)) < least:
        return None
    fuller = feed.text
    return fuller if len(fuller) >= least and _part_of(page, fuller) else None


def _part_of(page: str, feed: str) -> bool:
    """Whether the text extracted from a page is a part of the feed's text of the article
    (a teaser above a paywall): the feed's is much longer and holds nearly all its words."""
    fuller = _WORDS.findall(feed.casefold())
    if len(fuller) < PARTIAL_MIN_WORDS:
        return False
    words = _WORDS.findall(page.casefold())
    if len(fuller) < PARTIAL_FULLER * len(words):
        return False
    known = set(fuller)
    return sum(word in known for word in words) >= PARTIAL_SHARE * len(words)


def _without_title(text: str, titles: tuple[str, ...]) -> str:
    """The body without a first line that only repeats the headline (the page's <h1>)."""
    first, _, rest = text.partition("\n")
    if rest.strip() and " ".join(first.split()).casefold() in {
        " ".join(t.split()).casefold() for t in titles if t
    }:
        return rest.lstrip("\n")
    return text


def _shown_title(raw: str | None) -> str:
    """A page's <title> text as a headline: entities read, spaces made single."""
    return " ".join(html.unescape(raw).split()) if raw else ""


#: A press release's dateline, at a line's start near the top: a place, a comma, a day
#: ("Mainz, 5. Dezember 2026", "Brussels, 5 December 2026", "WASHINGTON, Dec. 5, 2026").
_DATELINE = re.compile(
    r"^[^\W\d_][^\n,]{1,40}, (?:le |el )?((?:\d{1,2}\.?(?: de)? ?[^\W\d_]{3,12}\.?"
    r"(?: de)? \d{4})"
    r"|(?:[^\W\d_]{3,9}\.? \d{1,2}, \d{4}))\b", re.MULTILINE)
#: How far into a page's text its dateline is looked for.
_DATELINE_CHARS = 400


def _dateline_date(text: str, now: datetime) -> datetime | None:
    """The day of a press release's dateline (_DATELINE) when the page says no date
    elsewhere (a legacy CMS: every release "date unknown", the look-back unable to judge
    it), read as its noon in UTC (see _page_date), not after ``now``."""
    found = _DATELINE.search(text[:_DATELINE_CHARS])
    if found is None:
        return None
    day = read_date(found.group(1))
    if day is None or day > now + timedelta(days=2):  # a day ahead: no date of this page
        return None
    return _noon(day, now)


def _page_date(value: str | None, now: datetime) -> datetime | None:
    """The publication time a page gives (crawler.extract.page_metadata): an instant with
    its offset, or a day alone, read as its noon in UTC (the same day from UTC-12 to UTC+11;
    its midnight in UTC was the day before in the Americas, and a day older than it is to
    the look-back window), not after ``now``. An instant ahead of ``now`` is none, as a
    feed's date is (crawler.spider): the evening of a page's day written with another
    zone's offset led every list until then, and was news on its site's first poll."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if len(value) == len("2026-12-05"):
        return _noon(parsed, now)
    return not_ahead(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC), now)


def _noon(day: datetime, now: datetime) -> datetime:
    """A day alone as its noon in UTC (see _page_date), not after ``now``."""
    return min(day.replace(hour=12, minute=0, second=0, microsecond=0, tzinfo=UTC), now)
