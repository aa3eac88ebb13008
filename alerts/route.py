"""When the reader hears of an alert: in an immediate email, or in a digest (digest-mode
topics, storm control); and sending the digests that are due.

In the match stage, :func:`route` turns a batch's verdict into the immediate emails and the
alerts that wait for a digest: :func:`hold_for_digest` takes an alert out of the immediate
emails when its topic is in digest mode, or when the recipient has had more than the storm
limit of immediate alerts in the last hour (storm control); both are recorded in the
transaction that records the matches. :func:`send_digests` runs every tick: for each
recipient whose digest time has come (in their time zone), or whose folded alerts have
waited their hour, it puts one digest in the outbox in the transaction that takes its items
off the queue.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from storage import (
    AlertCounts,
    DigestItem,
    DigestReason,
    DigestStore,
    Email,
    Match,
    MatchStore,
    StoredArticle,
    Topic,
)
from watchlist import follow_merges, topic_matches

from .channels import redact
from .compose import AlertItem, compose_digest
from .emails import Held, alert_item, also_on, also_on_sources, build_emails
from .schedule import STORM_WINDOW, RecipientPolicies, RecipientPolicy, plan

if TYPE_CHECKING:
    from watchlist import Verdict

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Routed:
    """Where the alerts of a batch go: one immediate email per recipient, and the alerts
    queued for a digest; ``mailed``: the (recipient, article id) of the immediate emails
    whose story, waiting for the recipient's digest from an earlier batch, leaves it."""

    emails: list[Email]
    queued: list[DigestItem]
    mailed: list[tuple[str, int]]


def route(
    store: MatchStore,
    policies: RecipientPolicies,
    articles: Sequence[StoredArticle],
    verdict: Verdict,
    topics: Sequence[Topic],
    stories: dict[int, int],
    now: datetime,
    *,
    edited: bool = False,
    told: set[tuple[str, int]] | None = None,
) -> Routed:
    """The emails and digest entries the alerts of ``verdict`` make (``stories``: article
    id → story id). ``edited``: the articles were edited in place (the re-match queue),
    which the emails and digest entries say. ``told``: (recipient, article id) not to alert
    (the recipient was mailed its story, under another topic). A story mailed to a reader
    now leaves their digest: an alert of its earlier copy waiting for it (another topic's)
    is taken off the queue with these emails; an "Updated:" email takes nothing off."""
    matches = verdict.matches
    if told:
        matches = [m for m in matches if not all(
            (recipient, m.article_id) in told for recipient in _notify(topics, m.topic_id))]
    held, queued = hold_for_digest(
        store, policies, articles, matches, topics, stories, now, edited=edited, told=told
    )
    emails = build_emails(
        articles,
        matches,
        topics,
        now,
        also_on=also_on_sources(store, articles, verdict.story_alerts),
        held=held,
        policies=policies,
        notices=storm_notices(policies, queued, now),
        edited=edited,
        told=told,
        stories=stories,
    )
    mailed = [] if edited else [(e.recipient, a) for e in emails for a in dict.fromkeys(
        article_id for article_id, _ in e.items)]
    return Routed(emails, queued, mailed)


def _notify(topics: Sequence[Topic], topic_id: int) -> tuple[str, ...]:
    return next((t.notify for t in topics if t.id == topic_id), ())


def hold_for_digest(
    store: AlertCounts,
    policies: RecipientPolicies,
    articles: Sequence[StoredArticle],
    matches: Sequence[Match],
    topics: Sequence[Topic],
    stories: dict[int, int],
    now: datetime,
    *,
    edited: bool = False,
    told: set[tuple[str, int]] | None = None,
) -> tuple[Held, list[DigestItem]]:
    """Which alerts of ``matches`` go to a digest instead of an immediate email: those of
    digest-mode topics, and each recipient's alerts beyond their storm limit (counted in
    articles over the last hour, immediate emails only). The newest articles of the batch
    (``articles``: those of ``matches``) fill what is left of the limit; the older ones are
    folded. ``edited``: the articles were edited in place (the re-match queue), which their
    digest entries will say."""
    by_topic = {t.id: t for t in topics}
    queued: list[DigestItem] = []
    immediate: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    newest = sorted(articles, key=lambda a: (a.published or a.fetched, a.id), reverse=True)
    rank = {article.id: n for n, article in enumerate(newest)}
    for m in sorted(matches, key=lambda m: (rank.get(m.article_id, len(rank)), m.topic_id)):
        if not m.alert:
            continue
        topic = by_topic[m.topic_id]
        for recipient in topic.notify:
            if told and (recipient, m.article_id) in told:
                continue
            if topic.mode == "digest":
                queued.append(_item(recipient, m, stories, "digest", edited))
            else:
                immediate[recipient][m.article_id].append(m.topic_id)
    limited = [r for r in immediate if policies.of(r).storm]
    counts = store.recent_alert_counts(limited, now - STORM_WINDOW)
    for recipient in limited:
        room = max(0, policies.of(recipient).storm - counts[recipient])
        folded = list(immediate[recipient].items())[room:]
        for article_id, topic_ids in folded:
            for topic_id in topic_ids:
                m = Match(article_id, topic_id, (), alert=True)
                queued.append(_item(recipient, m, stories, "storm", edited))
        if folded:
            logger.info(
                "storm control: %d alert(s) for %s held for a digest (limit %d an hour)",
                len(folded),
                redact(recipient),
                policies.of(recipient).storm,
            )
    # A reader's story that goes in an immediate email (another topic's, by this copy or
    # another) is not queued for a digest as well: the email names the digest topic too,
    # and the story comes once.
    def story(article_id: int) -> int:
        return stories.get(article_id, -article_id)

    stormed = {(q.recipient, q.article_id) for q in queued if q.reason == "storm"}
    told = {(r, story(a)) for r, articles in immediate.items() for a in articles
            if (r, a) not in stormed}
    queued = [q for q in queued if (q.recipient, story(q.article_id)) not in told]
    held = {(q.recipient, q.article_id, q.topic_id) for q in queued}
    return held, queued


def _item(
    recipient: str, m: Match, stories: dict[int, int], reason: DigestReason, edited: bool
) -> DigestItem:
    return DigestItem(
        recipient, m.topic_id, m.article_id, stories.get(m.article_id), reason, edited=edited
    )


#: How long after its time a digest goes out before it says it is late: a tick, a start's
#: upkeep, a restart for an upgrade, a crawl run from cron every quarter of an hour are not.
LATE_AFTER = timedelta(minutes=30)


def send_digests(
    store: DigestStore, policies: RecipientPolicies, now: datetime, running_since: datetime
) -> int:
    """Put every digest that is due at ``now`` in the outbox; returns how many.

    ``running_since``: when this process began looking for due digests. A digest due before
    it, and more than LATE_AFTER ago, was missed while newswatch was not running (the daemon
    stopped at 07:00 and back at 14:00): it says so, and what time it was due at."""
    # A topic limited to a source merged into another follows that one: its alerts waiting
    # from that one are still its, judged again (_still_matching).
    topics = follow_merges(store.topics(), store.merged_sources())
    # An alert waits for a digest while its reader still watches its topic: a topic
    # removed, or a reader taken off it, takes its waiting alerts away too.
    watching = {(t.id, r.lower()) for t in topics for r in t.notify}
    waiting: dict[str, list[DigestItem]] = defaultdict(list)
    unwatched: list[DigestItem] = []
    for item in store.waiting_digest():
        if (item.topic_id, item.recipient.lower()) in watching:
            waiting[item.recipient].append(item)
        else:
            unwatched.append(item)
    if unwatched:
        store.drop_digest_items([i.id for i in unwatched if i.id is not None])
        logger.info("%d alert(s) waiting for a digest dropped: their topic was removed, or "
                    "no longer notifies their reader", len(unwatched))
    handled = store.digest_handled()
    readers = {r for t in topics if t.mode == "digest" for r in t.notify}
    # Those with a digest time remembered too: theirs moves on while nothing waits for them
    # (a reader whose digests came of a storm, or of a topic since removed), so that their
    # next digest is not "since" a time long gone, sent at once.
    recipients = set(waiting) | readers | set(handled)
    sent = 0
    for recipient in sorted(recipients):
        policy = policies.of(recipient)
        items = waiting.get(recipient, [])
        storm = [i for i in items if i.reason == "storm"]
        due = plan(
            policy,
            now,
            handled.get(recipient),
            min((i.queued for i in items if i.queued), default=None),
            min((i.queued for i in storm if i.queued), default=None),
        )
        if due.kind is None:
            if recipient not in handled:
                store.set_digest_handled(recipient, due.since)
            continue
        if due.kind == "slot":
            chosen = _still_matching(store, topics, items, now)
        else:
            # The folded alerts that still match first: a story none of which does (its
            # topic narrowed within the hour) leaves its digest topics' alerts to their time.
            folded = _still_matching(store, topics, storm, now)
            others = [i for i in items if i.reason != "storm"]
            chosen = folded + _still_matching(
                store, topics, _with_their_stories(folded, others), now)
        slot = due.slot if due.kind == "slot" else None
        # "Nothing new" is said at a digest time only: a storm's folded alerts that all went
        # (their topic narrowed within the hour) made one at the end of the hour, at no
        # digest time, for a reader with empty_digest.
        if not chosen and not (slot is not None and policy.empty and recipient in readers):
            store.record_digest(recipient, None, [], slot)
            continue
        watched = [t.name for t in topics if recipient in t.notify]
        # When it was due: its plan's next digest (its digest time, its folded alerts' hour).
        late = (due.next if due.next < running_since and now - due.next > LATE_AFTER
                else None)
        email = compose_digest(
            recipient,
            _alert_items(store, chosen),
            now,
            policy=policy,
            since=due.since if due.kind == "slot" else None,
            notice=_storm_notice(policy) if any(i.reason == "storm" for i in chosen) else None,
            late=late,
            watched=watched,
        )
        store.record_digest(recipient, email, [i.id for i in chosen if i.id is not None], slot)
        sent += 1
        logger.info("digest for %s queued: %d alert(s) (%s)", redact(recipient), len(chosen),
                    due.kind)
    return sent


def _with_their_stories(
    folded: Sequence[DigestItem], items: Sequence[DigestItem]
) -> list[DigestItem]:
    """Of ``items``, those of the stories of the ``folded`` ones: a story storm control
    folded goes in the digest at the end of its hour with its alerts of the reader's digest
    topics as well (a quake in Chile folded under "Quakes" came again the next morning,
    under "Chile"), as an immediate email takes them off the queue."""
    stories = {_story(i) for i in folded}
    return [i for i in items if _story(i) in stories]


def _story(item: DigestItem) -> int:
    """The story of ``item`` (an article without one is a story of its own)."""
    return item.story_id if item.story_id is not None else -item.article_id


def storm_notices(
    policies: RecipientPolicies, queued: Sequence[DigestItem], now: datetime
) -> dict[str, str]:
    """For each recipient whose alerts storm control folded at ``now``: the line their
    immediate email (if they get one in this batch) shows, saying when the rest will come."""
    notices = {}
    for recipient in sorted({q.recipient for q in queued if q.reason == "storm"}):
        policy = policies.of(recipient)
        by = min(now + STORM_WINDOW, policy.next_slot(now))
        notices[recipient] = (
            f"More than {policy.storm} alerts in an hour: the rest of this hour's alerts "
            f"come in one digest by {policy.local(by, '%H:%M')}."
        )
    return notices


def _storm_notice(policy: RecipientPolicy) -> str:
    """The line that tells a recipient why alerts came in a digest."""
    limit = f"More than {policy.storm}" if policy.storm else "Too many"
    return (
        f"{limit} alerts in an hour: storm control held the rest of that hour's alerts "
        "for this digest."
    )


#: How far back a waiting alert's article is matched again (any age: it was new when queued).
_ANY_AGE = timedelta(days=36500)


def _still_matching(
    store: DigestStore, topics: Sequence[Topic], items: list[DigestItem], now: datetime
) -> list[DigestItem]:
    """The ``items`` whose topic, as it is now, still matches their article; the others are
    taken off the queue, said in the log. A reader who narrowed a topic, or gave it an
    exclude query, for the noise it brought (a weekly digest full of baseball under
    "Venezuela") got that noise in the next digest all the same. An article edited since
    its item was queued is not judged again here: an edit does not take back an alert, as
    an email already sent cannot be."""
    if not items:
        return items
    by_id = {t.id: t for t in topics}
    articles = {i.article_id: store.article(i.article_id) for i in items}
    judged = [i for i in items if i.queued is None or not _edited_since(articles[i.article_id],
                                                                          i.queued)]
    matched = {
        (m.article_id, m.topic_id)
        for m in topic_matches([articles[a] for a in {i.article_id for i in judged}],
                               [by_id[t] for t in {i.topic_id for i in judged}],
                               now=now, lookback=_ANY_AGE)
    }
    kept = [i for i in items if i not in judged or (i.article_id, i.topic_id) in matched]
    if len(kept) < len(items):
        store.drop_digest_items([i.id for i in items if i not in kept and i.id is not None])
        logger.info("%d alert(s) waiting for a digest dropped: their topic, changed since, "
                    "no longer matches their article", len(items) - len(kept))
    return kept


def _edited_since(article: StoredArticle, queued: datetime) -> bool:
    """Whether ``article`` was stored again, edited, after ``queued`` (by its source's date
    of the edit, which storage keeps as ``updated``)."""
    return article.updated is not None and article.updated > queued


def _alert_items(store: DigestStore, items: Sequence[DigestItem]) -> list[AlertItem]:
    """What the digest shows: for each topic, one entry per story (its first queued
    article), with the story's other sources and the matched words highlighted."""
    names = store.topic_names(i.topic_id for i in items)
    found = store.stored_matches(items)
    seen: set[tuple[int, int]] = set()
    shown: list[AlertItem] = []
    for item in sorted(items, key=lambda i: (i.topic_id, i.article_id)):
        story = _story(item)
        if (item.topic_id, story) in seen:
            continue
        seen.add((item.topic_id, story))
        article = store.article(item.article_id)
        match = found.get((item.article_id, item.topic_id))
        shown.append(
            alert_item(
                article,
                [match] if match else [],
                {item.topic_id: names.get(item.topic_id, f"topic {item.topic_id}")},
                also_on(store, article, item.story_id),
                updated=(article.updated or item.queued) if item.edited else None,
                story_id=item.story_id,
            )
        )
    return shown
