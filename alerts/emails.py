"""What an alert email holds: one email per recipient, each alert with its highlighted words
and its story's other sources."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from storage import Email, Match, StoredArticle, Topic
from watchlist import highlight

from .compose import AlertItem, Outlets, compose
from .schedule import RecipientPolicies

if TYPE_CHECKING:
    from storage import StorySources

#: (recipient, article id, topic id) of an alert that is not sent on its own.
Held = set[tuple[str, int, int]]


def build_emails(
    articles: Sequence[StoredArticle],
    matches: Sequence[Match],
    topics: Sequence[Topic],
    now: datetime,
    *,
    also_on: dict[int, Outlets] | None = None,
    held: Held | None = None,
    policies: RecipientPolicies | None = None,
    notices: dict[str, str] | None = None,
    edited: bool = False,
    told: set[tuple[str, int]] | None = None,
    stories: dict[int, int] | None = None,
) -> list[Email]:
    """One email per recipient listing every alertable article matched for them, a story
    once (``stories``: article id → story id); ``also_on`` gives an article's story's other
    sources; the (recipient, article id,
    topic id) in ``held`` wait for a digest instead. Times are shown in each recipient's
    time zone (``policies``); ``notices`` gives a recipient's email a line on top.
    ``edited``: the articles were edited in place (the re-match queue), and the emails say
    when; ``told``: (recipient, article id) not to alert."""
    by_id = {a.id: a for a in articles}
    by_topic = {t.id: t for t in topics}
    wanted: dict[str, dict[int, list[Match]]] = defaultdict(lambda: defaultdict(list))
    for m in matches:
        if not m.alert:
            continue
        for recipient in by_topic[m.topic_id].notify:
            if held and (recipient, m.article_id, m.topic_id) in held:
                continue
            if told and (recipient, m.article_id) in told:
                continue  # told of its story already, under another topic
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
                    story_id=(stories or {}).get(article_id),
                )
            )
        watched = [t.name for t in topics if recipient in t.notify]
        tz = policies.of(recipient).zone if policies is not None else UTC
        notice = (notices or {}).get(recipient)
        emails.append(compose(recipient, items, now, watched=watched, tz=tz, notice=notice))
    return emails


def alert_item(
    article: StoredArticle,
    matches: Sequence[Match],
    topics: dict[int, str],
    also_on: Outlets,
    updated: datetime | None = None,
    story_id: int | None = None,
) -> AlertItem:
    """What an email shows of ``article``: the ``topics`` (id → name) it alerts for, with
    the words of ``matches`` highlighted and its story's other sources; ``updated`` when
    the alert comes from an edit of the article."""
    marked = highlight(article, matches)
    return AlertItem(
        article_id=article.id,
        topic_ids=tuple(topics),
        topics=tuple(topics.values()),
        title=article.title,
        url=article.url,
        source=article.source_name,
        published=article.published,
        snippet=marked.snippet,
        title_segments=marked.title,
        also_on=also_on,
        updated=updated,
        story_id=story_id,
        fetched=article.fetched,
    )


def also_on(store: StorySources, article: StoredArticle, story_id: int | None) -> Outlets:
    """The other sources of the article's story seen so far, each with the address of its
    first copy (a brief alerted first: the reader reaches the full story from the email)."""
    if story_id is None:
        return ()
    first: dict[str, str] = {}
    for name, url in store.story_sources(story_id):
        if name != article.source_name:
            first.setdefault(name, url)
    return tuple(first.items())


def also_on_sources(
    store: StorySources,
    articles: Sequence[StoredArticle],
    story_alerts: Sequence[tuple[int, int, int]],
) -> dict[int, Outlets]:
    """For each article that alerts first for its story: the story's other sources."""
    by_id = {a.id: a for a in articles}
    also: dict[int, Outlets] = {}
    for story_id, _topic_id, article_id in story_alerts:
        if article_id not in also:
            also[article_id] = also_on(store, by_id[article_id], story_id)
    return also
