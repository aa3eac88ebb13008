"""Whether topic T alerts for article A: the one verdict the daemon, ``newswatch crawl``,
``newswatch search`` and ``newswatch topics test`` all give.

A topic's query must match the article (:func:`watchlist.match.match_articles`); then its
options: the article comes from one of the topic's ``sources`` and does not match its
``exclude`` query (:func:`topic_matches`, all that a search shows). For an alert, three more
rules: an article edited in place alerts only for the topics that had not matched it before
(:func:`new_topics`), one another source lists now only for the topics that listing makes
match (:func:`listed_anew`), and a topic alerts once per story (:func:`once_per_story`).
:func:`decide` applies them all to a batch of new articles.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Protocol
from urllib.parse import urlsplit

from storage import Match, StoredArticle, Topic

from .match import match_articles, source_names
from .stories import only_headline


class AlertMemory(Protocol):
    """What the verdict needs of storage: the matches and the story alerts made before."""

    def matched_pairs(self, article_ids: Iterable[int]) -> set[tuple[int, int]]:
        """The (article id, topic id) matches already recorded for ``article_ids``."""

    def alerted_stories(
        self, topic_ids: Iterable[int], story_ids: Iterable[int]
    ) -> set[tuple[int, int]]:
        """Which (story id, topic id) pairs of ``story_ids`` and ``topic_ids`` have alerted."""


@dataclass(frozen=True)
class Verdict:
    """What a batch of articles makes of the topics: every match (``alert`` says which
    ones alert), the (story id, topic id, article id) alerts they make, and how many matches
    each rule ruled out."""

    matches: list[Match]
    story_alerts: list[tuple[int, int, int]]
    dropped: int  # matches ruled out by a topic's sources or exclude query
    repeats: int  # matches not alerted: their story had already alerted for the topic
    #: Articles edited in place: the matches of the topics that had matched them before,
    #: with their terms where they are now (a digest shows the text as edited).
    refreshed: list[Match] = field(default_factory=list)


def decide(
    memory: AlertMemory,
    articles: Sequence[StoredArticle],
    topics: Sequence[Topic],
    stories: dict[int, int],
    *,
    now: datetime,
    lookback: timedelta,
    rematch: bool = False,
    edited: bool = True,
    kept: Collection[str] = (),
) -> Verdict:
    """The verdict of every topic on ``articles`` (``stories``: article id → story id).
    ``rematch``: the articles were matched before (the re-match queue): only topics that
    had not matched them alert; ``edited``: for an edit in place (recent: see new_topics),
    else for another source that lists them now (as a new article would, for the topics
    that listing makes match: see listed_anew; ``kept``: the URLs of the sources not
    removed)."""
    found = match_articles(articles, topics, now=now, lookback=lookback)
    matches = apply_topic_options(articles, found, topics, now=now, lookback=lookback)
    dropped = len(found) - len(matches)
    refreshed = []
    if rematch:
        before = memory.matched_pairs(a.id for a in articles)
        refreshed = [m for m in matches if (m.article_id, m.topic_id) in before]
        matches = new_topics(articles, matches, before, now=now, lookback=lookback,
                             edited=edited)
        if not edited:
            matches = listed_anew(articles, matches, topics, kept, now=now,
                                  lookback=lookback)
    alerted = memory.alerted_stories(
        {m.topic_id for m in matches if m.alert},
        {stories[m.article_id] for m in matches if m.alert},
    )
    held = sum(1 for m in matches if not m.alert)
    headlines = {a.id for a in articles  # (a text about as long as its title, first)
                 if len(a.text) <= 2 * len(a.title) and only_headline(a.text, a.title)}
    matches, story_alerts = once_per_story(matches, stories, alerted, headlines)
    repeats = sum(1 for m in matches if not m.alert) - held
    return Verdict(matches, story_alerts, dropped, repeats, refreshed)


def topic_matches(
    articles: Sequence[StoredArticle],
    topics: Sequence[Topic],
    *,
    now: datetime,
    lookback: timedelta,
) -> list[Match]:
    """Every match of ``topics`` in ``articles`` that the topics' options let through."""
    found = match_articles(articles, topics, now=now, lookback=lookback)
    return apply_topic_options(articles, found, topics, now=now, lookback=lookback)


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


def source_matches(wanted: Sequence[str], article: StoredArticle) -> bool:
    """Whether ``article`` comes from one of the ``wanted`` sources (all when empty): the
    source that stored it (by its own name or the publisher its item names), or another
    that lists it too (``also_from``).

    Each entry is a source's name (case-insensitive), its URL, or a host name, which also
    covers its subdomains and is compared with both the source's and the article's host.
    """
    if not wanted:
        return True
    listing = [*((name, article.source_url) for name in source_names(article)),
               *article.also_from]
    hosts = ({_host(url) for _, url in listing} | {_host(article.url)}) - {""}
    for entry in wanted:
        entry = entry.strip()
        if "://" in entry:
            if any(url and url_key(entry) == url_key(url) for _, url in listing):
                return True
            continue
        if any(entry.casefold() == name.casefold() for name, _ in listing):
            return True
        host = entry.lower().rstrip(".")
        if any(h == host or h.endswith("." + host) for h in hosts):
            return True
    return False


def follow_merges(
    topics: Sequence[Topic], merged: Sequence[tuple[str | None, str, str]]
) -> list[Topic]:
    """``topics``, each limited to a source merged into another (``merged``: its name, URL
    and the URL of the one it was merged into, storage's merged_sources) limited to that one
    too: a site's page added from the command line is merged into the source polling the
    feed it declares, which brings the site's new stories from then on, and a topic limited
    to the page (by its name or URL) got nothing more. Resolved once for the topics of a
    pass, not for each article (source_matches compares them with every one)."""
    if not merged:
        return list(topics)
    return [replace(t, sources=(*t.sources, *more)) if (more := followed(t.sources, merged))
            else t for t in topics]


def followed(wanted: Sequence[str], merged: Sequence[tuple[str | None, str, str]]) -> list[str]:
    """The URLs of the sources that the ``wanted`` sources (names, URLs) were merged into
    (``merged``: as follow_merges), and those that one was merged into in turn (a page
    merged into the feed it declares, added from the command line before it; the feed
    merged since into the config file's source of the address it moved to)."""
    names = {entry.strip().casefold() for entry in wanted}
    urls = {url_key(entry) for entry in wanted if "://" in entry}
    found: list[str] = []
    while more := [into for name, url, into in merged if into not in found and (
            url_key(url) in urls or (name is not None and name.casefold() in names))]:
        for into in dict.fromkeys(more):
            found.append(into)
            urls.add(url_key(into))
    return found


def unknown_sources(wanted: Sequence[str], known: Iterable[tuple[str | None, str]]) -> list[str]:
    """The entries of a topic's ``wanted`` sources that can match no article of the ``known``
    sources (name, URL): a name that is none of theirs (case-insensitive), a URL that is
    none of theirs (a typo: the topic would never alert). A host (``reuters.com``) is not
    judged: it is compared with each article's own host too."""
    known = list(known)
    names = {name.casefold() for name, _url in known if name}
    urls = {url_key(url) for _name, url in known}
    unknown = []
    for entry in (e.strip() for e in wanted):
        if "://" in entry:
            if url_key(entry) not in urls:
                unknown.append(entry)
        elif entry.casefold() not in names and not _HOST.fullmatch(entry):
            unknown.append(entry)
    return unknown


#: What a host written as a topic's source looks like: no spaces, at least one dot.
_HOST = re.compile(r"[^\s/]+\.[^\s/]+")


@lru_cache(maxsize=4096)  # a topic's sources are compared with each article's
def url_key(url: str) -> str:
    """A URL compared loosely: as the crawl requests it (an international host in IDNA,
    "bücher.example" as "xn--bcher-kva.example"; a space or a non-ASCII letter of its path
    percent-encoded), scheme and host in lower case, without the scheme's default port, no
    fragment, no trailing slash (a source written two ways is one source)."""
    from w3lib.url import safe_url_string  # as Scrapy requests it

    url = url.strip()
    # A port no crawl could request, a broken IPv6 literal: as written.
    with contextlib.suppress(ValueError):
        url = safe_url_string(url)
    parts = urlsplit(url)
    rest = url[len(parts.scheme) + 3 + len(parts.netloc) :].partition("#")[0]
    scheme, netloc = parts.scheme.lower(), parts.netloc.lower()
    netloc = netloc.removesuffix({"http": ":80", "https": ":443"}.get(scheme, ":"))
    return f"{scheme}://{netloc}{rest}".rstrip("/")


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def new_topics(
    articles: Sequence[StoredArticle],
    matches: Sequence[Match],
    before: set[tuple[int, int]],
    *,
    now: datetime,
    lookback: timedelta,
    edited: bool = True,
) -> list[Match]:
    """The ``matches`` of articles edited in place with topics that had not matched them
    ``before``: a topic alerts once per article. Such a match alerts when the edit is
    recent (the article's updated date within ``lookback``), whatever its publication date;
    not ``edited`` (another source lists the article now), as a new article's would."""
    by_id = {a.id: a for a in articles}
    horizon = now - lookback
    kept = []
    for m in matches:
        if (m.article_id, m.topic_id) in before:
            continue
        if not edited:
            kept.append(m)
            continue
        updated = by_id[m.article_id].updated
        kept.append(m if updated is None else replace(m, alert=updated >= horizon))
    return kept


def listed_anew(
    articles: Sequence[StoredArticle],
    matches: Sequence[Match],
    topics: Sequence[Topic],
    kept: Collection[str],
    *,
    now: datetime,
    lookback: timedelta,
) -> list[Match]:
    """The ``matches`` of articles another source lists now that the new listings make
    (``new_from``): a topic limited to one of those sources, or asking for it with
    ``source:``. A topic that matches the article as it was listed before (its own
    source's, and the other sources' that listed it already) could have matched it then:
    one added or edited since does not reach back to it (a new topic alerted for the day's
    old news as a section feed added beside it listed them; one limited to a section feed
    that listed a story already, as a third feed listed it too). An article whose source is
    not ``kept`` (removed: its articles alert for none) is the listing source's now, for
    every topic, unless a source kept listed it before (the feed a page was merged into:
    the page's story was that feed's, see SourcesMixin.remove_source); one deactivated as
    gone (HTTP 410) is kept: what it stored is still its reader's news."""
    listed = [replace(a, also_from=tuple(s for s in a.also_from if s not in a.new_from))
              for a in articles]
    alone = topic_matches(
        [a for a in listed if a.source_url in kept or any(url in kept for _, url in a.also_from)],
        topics, now=now, lookback=lookback)
    own = {(m.article_id, m.topic_id) for m in alone}
    return [m for m in matches if (m.article_id, m.topic_id) not in own]


def once_per_story(
    matches: Sequence[Match], stories: dict[int, int], alerted: set[tuple[int, int]],
    headlines: frozenset[int] | set[int] = frozenset(),
) -> tuple[list[Match], list[tuple[int, int, int]]]:
    """A topic alerts once per story: ``matches`` with ``alert`` turned off where the
    (story, topic) has already alerted — in ``alerted``, or for an earlier article of the
    same story among ``matches`` — and the (story id, topic id, article id) alerts the
    others make. An article that is its headline alone (``headlines``: a Google News item
    whose link names no publisher's page) alerts only when no other article of its story
    among ``matches`` does: the publisher's page, with its words, is the one mailed."""
    seen = set(alerted)
    story_alerts: list[tuple[int, int, int]] = []
    quiet: set[tuple[int, int]] = set()
    for m in sorted(matches, key=lambda m: (m.article_id in headlines, m.article_id,
                                            m.topic_id)):
        story_id = stories.get(m.article_id)
        if m.alert and story_id is not None:
            if (story_id, m.topic_id) in seen:
                quiet.add((m.article_id, m.topic_id))
            else:
                seen.add((story_id, m.topic_id))
                story_alerts.append((story_id, m.topic_id, m.article_id))
    kept = [replace(m, alert=False) if (m.article_id, m.topic_id) in quiet else m
            for m in sorted(matches, key=lambda m: (m.article_id, m.topic_id))]
    return kept, story_alerts
