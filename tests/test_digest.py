"""Digests and storm control: topics in digest mode alert at each recipient's digest times (in
their time zone), and a burst of immediate alerts folds into a digest.

The pipeline runs on a real SQLite file with an injected clock; delivery goes to a real SMTP
server (aiosmtpd) on 127.0.0.1; the config and `status` through the `newswatch` command.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from mailserver import untagged
from newssite import STORIES_BY_SLUG, sample_story

from alerts import (
    RecipientPolicies,
    RecipientPolicy,
    RetryPolicy,
    SmtpSettings,
    SmtpTransport,
    compose_digest,
    format_when,
)
from alerts.schedule import format_times, parse_times, plan
from crawler.report import CrawlReport
from scheduler import Daemon
from scheduler.pipeline import Pipeline
from storage import Article, Source, SourceSpec, Store, TopicSpec, to_iso
from storage import open_store as storage_open_store
from watchlist import compile_query

DESK = "desk@test.example"
ED = "ed@test.example"
WIRE = "\n\n".join(STORIES_BY_SLUG["venezuela-opposition-leader"].body)
# 25 Nov 2026, 10:00 UTC: 06:00 in Caracas (UTC-4 all year), 11:00 in Madrid (CET).
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


class Clock:
    """The pipeline's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def at(self, when: datetime) -> Clock:
        self.now = when
        return self


@pytest.fixture
def store(store_location: str | Path) -> Iterator[Store]:
    with storage_open_store(store_location) as s:
        yield s


def policies(default: RecipientPolicy | None = None, **per: RecipientPolicy) -> RecipientPolicies:
    overrides = tuple((f"{name}@test.example", p) for name, p in per.items())
    return RecipientPolicies(default or RecipientPolicy(), overrides)


def pipeline(store: Store, clock: Clock, recipients: RecipientPolicies, mail=None) -> Pipeline:
    transport = None
    if mail is not None:
        transport = SmtpTransport(
            SmtpSettings(host=mail.host, port=mail.port, sender="nw@test.example", timeout=5)
        )
    return Pipeline(
        store=store, crawler=None, transport=transport, lookback=timedelta(days=2),  # type: ignore[arg-type]
        retry=RetryPolicy(base_seconds=1, max_seconds=2), clock=clock, recipients=recipients,
    )


def source(store: Store, name: str) -> int:
    url = f"https://{name.lower().replace(' ', '-')}.example/feed"
    specs = [SourceSpec(s.url, s.every_seconds, s.name) for s in store.sources()]
    store.sync_sources([*specs, SourceSpec(url, 600, name)], NOW)
    return next(s.id for s in store.sources() if s.url == url)


def article(
    store: Store, source_id: int, slug: str, title: str, text: str, published: datetime
) -> int:
    url = f"https://news.example/{slug}"
    article_id = store.add_article(
        Article(url=url, entry_url=url, source_id=source_id, title=title, text=text,
                published=published, author=None, fetched=published, extraction="page")
    )
    assert article_id is not None
    return article_id


def topics(store: Store, *specs: tuple[str, str, tuple[str, ...], str]) -> dict[str, int]:
    made = store.sync_topics(
        [TopicSpec(name, query, compile_query(query), notify, mode=mode)
         for name, query, notify, mode in specs]
    )
    return {t.name: t.id for t in made}


def outbox(store: Store) -> list[dict]:
    return list(store.db.query("SELECT id, recipient, subject, body_text, body_html FROM outbox "
                               "ORDER BY id"))


def deliver(pipe: Pipeline) -> None:
    report = asyncio.run(pipe.deliver())
    assert not report.errors, report.errors


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def flat(text: str) -> str:
    """``text`` with its lines joined: what a wrapped paragraph says."""
    return " ".join(text.split())


def html_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


# -- the schedule ------------------------------------------------------------------------------


def test_digest_times_follow_the_recipient_time_zone_and_daylight_saving() -> None:
    caracas = RecipientPolicy("America/Caracas", parse_times("08:00,17:00"))
    # Caracas is UTC-4 all year: 08:00 and 17:00 there are 12:00 and 21:00 UTC.
    assert caracas.latest_slot(NOW) == datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
    assert caracas.next_slot(NOW) == datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert caracas.local(caracas.next_slot(NOW)) == "2026-11-25 08:00 -04"

    madrid = RecipientPolicy("Europe/Madrid", parse_times("08:00"))
    # Clocks go forward on 29 March 2026 (CET → CEST) and back on 25 October 2026.
    spring = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    assert madrid.next_slot(spring) == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    assert madrid.latest_slot(spring) == datetime(2026, 3, 28, 7, 0, tzinfo=UTC)
    autumn = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    assert madrid.next_slot(autumn) == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)
    assert madrid.latest_slot(autumn) == datetime(2026, 10, 24, 6, 0, tzinfo=UTC)

    # 02:30 does not exist on the day the clocks go forward: it falls at 03:30 CEST; on the
    # day they go back it happens twice and counts once.
    night = RecipientPolicy("Europe/Madrid", parse_times("02:30"))
    assert night.next_slot(spring) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    back = night.next_slot(autumn)
    assert back == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert night.next_slot(back) == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)


def test_a_missed_digest_time_is_caught_up_once() -> None:
    policy = RecipientPolicy("UTC", parse_times("08:00,17:00"))
    handled = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    # Down from before 17:00 yesterday until 18:00 today: three digest times missed, one due.
    due = plan(policy, datetime(2026, 11, 25, 18, 0, tzinfo=UTC), handled, None, None)
    assert (due.kind, due.slot) == ("slot", datetime(2026, 11, 25, 17, 0, tzinfo=UTC))
    after = plan(policy, datetime(2026, 11, 25, 18, 5, tzinfo=UTC), due.slot, None, None)
    assert after.kind is None
    assert after.next == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def test_the_next_digest_follows_a_digest_time_dealt_with_ahead_of_the_clock() -> None:
    """The clock set back (the daemon not started yet): the last digest time dealt with,
    by the clock ahead, lies after now. The next digest is the first time after it (that
    one was dealt with), which `status` says, not the first time after now."""
    policy = RecipientPolicy("UTC", parse_times("08:00,17:00"))
    handled = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)  # dealt with by a clock a day ahead
    due = plan(policy, NOW, handled, None, None)
    assert (due.kind, due.next) == (None, datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
    assert plan(policy, due.next, handled, None, None).kind == "slot"
    assert plan(policy, handled, handled, None, None).kind is None


def test_weekly_and_weekday_digest_times() -> None:
    """Google Alerts' "once a week": "Mon 08:00"; and a desk's "Mon-Fri 07:30"."""
    weekly = RecipientPolicy("Europe/Madrid", parse_times("mon 08:00"))
    assert format_times(weekly.times) == "Mon 08:00"
    wednesday = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert weekly.next_slot(wednesday) == datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    assert weekly.latest_slot(wednesday) == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    # The Monday after the clocks go back (Sunday 25 October 2026): 08:00 CET, 07:00 UTC;
    # the Monday before it 08:00 CEST, 06:00 UTC.
    assert weekly.next_slot(datetime(2026, 10, 24, 12, 0, tzinfo=UTC)) == datetime(
        2026, 10, 26, 7, 0, tzinfo=UTC
    )
    assert weekly.latest_slot(datetime(2026, 10, 24, 12, 0, tzinfo=UTC)) == datetime(
        2026, 10, 19, 6, 0, tzinfo=UTC
    )
    # Down for three weeks: one digest when started again, then next Monday's.
    handled = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
    due = plan(weekly, wednesday, handled, None, None)
    assert (due.kind, due.slot) == ("slot", datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    after = plan(weekly, wednesday + timedelta(minutes=5), due.slot, None, None)
    assert (after.kind, after.next) == (None, datetime(2026, 11, 30, 7, 0, tzinfo=UTC))

    desk = RecipientPolicy("UTC", parse_times("Mon-Fri 07:30, Sat 10:00"))
    assert format_times(desk.times) == "Mon-Fri 07:30, Sat 10:00"
    friday = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert desk.next_slot(friday) == datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    assert desk.next_slot(datetime(2026, 11, 28, 10, 0, tzinfo=UTC)) == datetime(
        2026, 11, 30, 7, 30, tzinfo=UTC
    )  # nothing on Sunday
    weekend = RecipientPolicy("UTC", parse_times("Sat-Sun 09:00"))
    assert format_times(weekend.times) == "Sat-Sun 09:00"
    assert format_times(parse_times("Sun-Mon 09:00")) == "Sun-Mon 09:00"
    # Each item stands alone: 17:00 every day.
    assert format_times(parse_times("Thursday 08:00, 17:00")) == "Thu 08:00, 17:00"

    for bad, message in [
        ("Mondy 08:00", "'Mondy' is not a day of the week"),
        ("T 08:00", "'T' is not a day of the week"),
        ("Mon, Thu 08:00", "'Mon' is not a time of day"),
        ("Mon 8am", "'Mon 8am' is not a time of day"),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)):
            parse_times(bad)


def test_a_renamed_topic_keeps_its_waiting_alerts_and_its_history(store: Store, mail) -> None:
    """A topic renamed in the config file (same query) is the same topic: what waited for its
    digest goes out under the new name, and the stories it alerted for are known to it.
    Another query under a new name is a new topic; two leaving with one query, ambiguous."""
    ids = topics(store, ("Lithium", "lithium", (DESK,), "digest"),
                 ("Quakes", "earthquake", (DESK,), "immediate"))
    src = source(store, "Mining Weekly")
    article(store, src, "a", "Lithium mine approved", "The lithium mine was approved.",
            NOW - timedelta(hours=1))
    clock = Clock(NOW)
    pipe = pipeline(store, clock, policies(RecipientPolicy("UTC", parse_times("12:00"))), mail)
    assert pipe.match().queued == 1
    renamed = topics(store, ("Lithium mines", "lithium", (DESK,), "digest"),
                     ("Seismic", "earthquake OR quake", (DESK,), "immediate"))
    assert renamed["Lithium mines"] == ids["Lithium"]
    assert renamed["Seismic"] != ids["Quakes"]
    assert [i.topic_id for i in store.waiting_digest()] == [ids["Lithium"]]
    clock.at(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    assert pipe.digests() == 1
    deliver(pipe)
    [message] = mail.wait_for(1)
    assert message["Subject"] == "[newswatch] Digest — 1 story: Lithium mines"

    # Renamed back, and a topic that comes back under its old name: its own row again.
    again = topics(store, ("Lithium", "lithium", (DESK,), "digest"),
                   ("Seismic", "earthquake OR quake", (DESK,), "immediate"))
    assert again["Lithium"] == ids["Lithium"]
    # Two topics with one query leave, one arrives: which one it is cannot be told.
    twins = topics(store, ("A", "cobalt", (DESK,), "digest"), ("B", "cobalt", (ED,), "digest"))
    merged = topics(store, ("C", "cobalt", (DESK, ED), "digest"))
    assert merged["C"] not in twins.values()


def test_a_command_line_topic_renamed_keeps_its_waiting_alerts(store: Store) -> None:
    """`topics rename`: the topic's row keeps its id (its alert waiting for a digest stays
    queued), on either database; a name any topic has or had is refused, and so is a
    topic of the config file."""
    store.add_topic(TopicSpec("Lithium", "lithium", compile_query("lithium"), (DESK,),
                              mode="digest"))
    synced = store.sync_topics([TopicSpec("Quakes", "quake", compile_query("quake"), (DESK,))])
    config = next(t for t in synced if t.name == "Quakes")
    store.add_topic(TopicSpec("Gone", "cobalt", compile_query("cobalt"), (DESK,)))
    assert store.remove_topic("Gone") == 0
    src = source(store, "Mining Weekly")
    article(store, src, "a", "Lithium mine approved", "The lithium mine was approved.",
            NOW - timedelta(hours=1))
    pipe = pipeline(store, Clock(NOW), policies(RecipientPolicy("UTC", parse_times("12:00"))))
    assert pipe.match().queued == 1
    [lithium] = [t.id for t in store.topics() if t.name == "Lithium"]
    assert store.rename_topic("Lithium", "Lithium mines") is None
    assert {t.name: t.id for t in store.topics()} == {"Lithium mines": lithium,
                                                      "Quakes": config.id}
    assert [i.topic_id for i in store.waiting_digest()] == [lithium]
    assert store.rename_topic("Lithium mines", "Quakes") == "a topic has that name"
    assert store.rename_topic("Lithium mines", "Gone").startswith("a removed topic had")
    assert store.rename_topic("Quakes", "Seismic") == "no such topic"
    assert store.rename_topic("Lithium", "Lithium again") == "no such topic"


def test_a_reader_taken_off_a_topic_is_not_sent_its_waiting_alert(store: Store, mail) -> None:
    """An alert waiting (a mail server down) for a reader then taken off its topic went to
    them once the server was back: not sent, said so, and not sent again by resend."""
    topics(store, ("Lithium", "lithium", (DESK, ED), "immediate"))
    src = source(store, "Mining Weekly")
    article(store, src, "a", "Lithium mine approved", "The lithium mine was approved.",
            NOW - timedelta(hours=1))
    pipe = pipeline(store, Clock(NOW), policies(), mail)
    assert pipe.match().emails == 2  # queued, not yet sent
    topics(store, ("Lithium", "lithium", (DESK,), "immediate"))  # ED leaves the topic
    deliver(pipe)
    [message] = mail.wait_for(1)
    assert message["To"] == DESK
    failed = store.db.execute(
        "SELECT recipient, last_error FROM outbox WHERE status = 'failed'").fetchall()
    assert [(r, e.split(" (")[0]) for r, e in failed] == [
        (ED, "not sent: its reader no longer watches its topics")]
    assert store.requeue_failed(NOW - timedelta(days=1), NOW).queued == 0
    # Counted apart from failed deliveries: a monitor of those took it for one (a review).
    assert store.outbox_counts() == {"pending": 0, "sent": 1, "failed": 0, "dropped": 1}


def test_a_command_line_topic_removed_says_how_many_waiting_alerts_go_with_it(
    store: Store, mail
) -> None:
    """`topics remove` said only that the topic's earlier matches are kept, while its alerts
    waiting for a digest, or for a mail server that was down, were then dropped by the
    daemon. It counts them: those of a digest, and the email of a reader who watches none of
    its other topics (a reader another of whose topics the story matched still gets it)."""
    for name, query, notify, mode in (("Lithium", "lithium", (DESK,), "digest"),
                                      ("Quakes", "quake", (DESK, ED), "immediate"),
                                      ("Seismic", "quake", (DESK,), "immediate")):
        store.add_topic(TopicSpec(name, query, compile_query(query), notify, mode=mode))
    src = source(store, "Mining Weekly")
    article(store, src, "a", "Lithium mine approved", "The lithium mine was approved.",
            NOW - timedelta(hours=1))
    article(store, src, "b", "A quake hits the mine", "A quake hit the mine at dawn.",
            NOW - timedelta(hours=1))
    pipe = pipeline(store, Clock(NOW), policies(RecipientPolicy("UTC", parse_times("12:00"))),
                    mail)
    assert pipe.match().queued == 1
    assert store.remove_topic("Quakes") == 1  # ED's email; DESK's stays (Seismic)
    assert store.remove_topic("Lithium") == 1
    assert store.remove_topic("Lithium") is None
    assert store.remove_topic("Seismic") == 1
    assert store.remove_topic("Unknown") is None
    # What the daemon then does.
    assert pipe.digests() == 0
    assert store.waiting_digest() == []
    deliver(pipe)
    assert store.outbox_counts()["dropped"] == 2


def test_an_alert_waiting_for_a_weekly_digest_keeps_its_text_through_a_prune(
    store: Store,
) -> None:
    """A weekly digest and a short `database.keep`: the hourly prune emptied the text of an
    article waiting for the digest, which then no longer matched its topic: the alert was
    dropped, as if the topic had changed, and no digest came. Its text stays until it is
    sent."""
    topics(store, ("Lithium", "lithium", (DESK,), "digest"))
    src = source(store, "Mining Weekly")
    clock = Clock(NOW)  # a Wednesday
    pipe = pipeline(store, clock, policies(RecipientPolicy("UTC", parse_times("Mon 08:00"))))
    article(store, src, "a", "Output rises in Atacama", "The lithium mine's output rose.", NOW)
    article(store, src, "b", "Copper prices", "Copper rose.", NOW)
    assert pipe.match().queued == 1
    store.prune(NOW + timedelta(days=3))  # keep = "3d", on Saturday
    clock.at(datetime(2026, 11, 30, 8, 0, tzinfo=UTC))
    assert pipe.digests() == 1
    [digest] = outbox(store)
    assert "Output rises in Atacama" in digest["body_text"]
    assert "The *lithium* mine's output rose." in digest["body_text"]
    # Copper's text went on Saturday; Lithium's goes at the next prune, its digest made.
    assert store.prune(NOW + timedelta(days=3)) == 1


def test_a_weekly_digest_goes_out_on_its_day_only(store: Store, mail) -> None:
    topics(store, ("Lithium", "lithium", (DESK,), "digest"))
    src = source(store, "Mining Weekly")
    clock = Clock(NOW)  # Wednesday 25 November
    pipe = pipeline(store, clock, policies(RecipientPolicy("UTC", parse_times("Mon 08:00"))),
                    mail)
    for day in range(5):  # an article a day, Wednesday to Sunday
        clock.at(NOW + timedelta(days=day))
        article(store, src, f"a{day}", f"Lithium news {day}", "lithium", clock.now)
        assert pipe.match().queued == 1
        assert pipe.digests() == 0
    clock.at(datetime(2026, 11, 30, 7, 59, tzinfo=UTC))
    assert pipe.digests() == 0
    clock.at(datetime(2026, 11, 30, 8, 0, tzinfo=UTC))  # Monday 08:00
    assert pipe.digests() == 1
    deliver(pipe)
    [message] = mail.wait_for(1)
    assert message["Subject"] == "[newswatch] Digest — 5 stories: Lithium"
    assert "Digests come at Mon 08:00 UTC." in text_of(message)
    clock.at(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))  # Tuesday: nothing
    assert pipe.digests() == 0


# -- digest mode ------------------------------------------------------------------------------


def test_a_digest_goes_out_at_its_local_time_and_not_before(store: Store, mail) -> None:
    ids = topics(store, ("Lithium", "lithium", (DESK,), "digest"))
    src = source(store, "Mining Weekly")
    article(store, src, "a", "Lithium mine approved", "The lithium mine was approved.",
            NOW - timedelta(hours=1))
    clock = Clock(NOW)
    caracas = RecipientPolicy("America/Caracas", parse_times("08:00,17:00"))
    pipe = pipeline(store, clock, policies(caracas), mail)

    report = pipe.match()
    assert (report.matches, report.emails, report.queued) == (1, 0, 1)
    assert [(i.recipient, i.topic_id, i.reason) for i in store.waiting_digest()] == [
        (DESK, ids["Lithium"], "digest")
    ]
    assert pipe.digests() == 0  # 06:00 in Caracas
    clock.at(datetime(2026, 11, 25, 11, 59, 59, tzinfo=UTC))
    assert pipe.digests() == 0
    clock.at(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))  # 08:00 in Caracas
    assert pipe.digests() == 1
    assert pipe.digests() == 0
    assert store.waiting_digest() == []
    deliver(pipe)
    [message] = mail.wait_for(1)
    assert message["To"] == DESK
    assert message["Subject"] == "[newswatch] Digest — 1 story: Lithium"
    text = text_of(message)
    assert "1. *Lithium* mine approved" in text and "== Lithium ==" in text
    assert "Mining Weekly · 25 Nov 2026 05:00 -04" in text  # the reader's clock
    assert "since 24 Nov 2026 17:00 -04" in flat(text)
    assert "Digests come at 08:00, 17:00 America/Caracas." in text
    assert "*lithium*" in text
    assert "<strong" in html_of(message) and "Lithium</h2>" in html_of(message)
    clock.at(datetime(2026, 11, 25, 21, 0, tzinfo=UTC))  # 17:00: nothing new, nothing sent
    assert pipe.digests() == 0


MADURO_TEXT = "President Maduro met his ministers in Caracas on Monday to discuss oil output."


def edited_after_its_match(
    store: Store, title: str, new_title: str, new_text: str
) -> tuple[Pipeline, Clock]:
    """A digest topic's article, matched at NOW, then edited in place (not matched again)."""
    topics(store, ("Maduro", "maduro", (DESK,), "digest"))
    src = source(store, "Caracas Daily")
    article_id = article(store, src, "a", title, MADURO_TEXT, NOW - timedelta(hours=3))
    clock = Clock(NOW)
    pipe = pipeline(store, clock, policies(RecipientPolicy("UTC", parse_times("08:00"))))
    assert pipe.match().queued == 1
    stored = store.article(article_id)
    later = NOW + timedelta(minutes=10)
    clock.at(later)
    assert store.update_article(article_id, Article(
        url=stored.url, entry_url=stored.url, source_id=src, title=new_title, text=new_text,
        published=stored.published, author=None, fetched=later, extraction="page",
        updated=later), later)
    return pipe, clock


def test_a_digest_highlights_the_words_of_the_article_as_edited(store: Store) -> None:
    """A digest shows an article's text as it is at digest time; an article edited after
    its match (a new first paragraph) is matched again, and the highlights follow the new
    text. Before, the spans of the first match were kept and fell on other words."""
    pipe, clock = edited_after_its_match(
        store, "Oil talks", "Oil talks", "Update: officials in Bogotá reacted within the hour. "
        + MADURO_TEXT)
    pipe.match()
    clock.at(NOW + timedelta(days=1))
    assert pipe.digests() == 1
    [row] = outbox(store)
    assert "*Maduro*" in flat(row["body_text"])
    assert "<strong" in row["body_html"] and ">Maduro</strong>" in row["body_html"]
    assert "*" not in flat(row["body_text"]).split("Bogot")[1][:3]  # "Bogotá" untouched


@pytest.mark.parametrize("rematched", [True, False])
def test_a_digest_bolds_no_stale_places_of_an_edited_article(store: Store, rematched) -> None:
    """An edit that took the topic's words out of the article (matched again: the topic no
    longer matches), or one not matched again yet (the digest job runs while a crawl that
    stored it goes on): the places of the first match fell on other words ("*Venezu*ela",
    "of*ficial*s"). The entry is shown without them."""
    pipe, clock = edited_after_its_match(
        store, "Maduro oil talks", "Venezuela oil talks",
        "Officials in Bogota reacted within the hour to the talks on oil output in Caracas.")
    if rematched:
        pipe.match()
    clock.at(NOW + timedelta(days=1))
    assert pipe.digests() == 1
    [row] = outbox(store)
    assert "Venezuela oil talks" in row["body_text"]
    assert "*" not in row["body_text"].split("1. ", 1)[1].split("https://")[0]
    assert "<strong" not in row["body_html"].split("Venezuela oil talks")[0][-200:]
    assert "</strong>" not in row["body_html"]


def test_madrid_digest_across_the_change_to_summer_time(store: Store) -> None:
    topics(store, ("Lithium", "lithium", (DESK,), "digest"))
    src = source(store, "Mining Weekly")
    madrid = RecipientPolicy("Europe/Madrid", parse_times("08:00"))
    clock = Clock(datetime(2026, 3, 27, 12, 0, tzinfo=UTC))
    pipe = pipeline(store, clock, policies(madrid))
    news = {
        datetime(2026, 3, 27, 12, 0, tzinfo=UTC): "Mine news on Friday",
        datetime(2026, 3, 28, 12, 0, tzinfo=UTC): "Mine news on Saturday",
        datetime(2026, 3, 29, 0, 15, tzinfo=UTC): "Mine news at night",
    }
    sent = []
    # Every 15 minutes for two and a half days: the digest goes out at 08:00 Madrid time
    # each day, 07:00 UTC before the change to summer time and 06:00 UTC after it.
    while clock.now < datetime(2026, 3, 30, 0, 0, tzinfo=UTC):
        if clock.now in news:
            article(store, src, f"{clock.now:%d%H}", news[clock.now], "lithium", clock.now)
            assert pipe.match().queued == 1
        if pipe.digests():
            sent.append(clock.now)
        clock.at(clock.now + timedelta(minutes=15))
    assert sent == [
        datetime(2026, 3, 28, 7, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 6, 0, tzinfo=UTC),
    ]
    first, second = (row["body_text"] for row in outbox(store))
    assert "Mine news on Friday" in first and "Saturday" not in first
    assert "since 27 Mar 2026 08:00 CET" in flat(first)
    assert "Mine news on Saturday" in second and "Mine news at night" in second
    assert "since 28 Mar 2026 08:00 CET" in flat(second)
    assert "Mine news at night\n   Mining Weekly · 29 Mar 2026 01:15 CET" in second


def test_restart_after_missed_digest_times_sends_one_digest(store: Store) -> None:
    topics(store, ("Lithium", "lithium", (DESK,), "digest"))
    src = source(store, "Mining Weekly")
    twice = policies(RecipientPolicy("UTC", parse_times("08:00,17:00")))
    article(store, src, "a", "Mine one", "lithium", NOW - timedelta(minutes=30))
    first = pipeline(store, Clock(NOW), twice)
    first.match()
    assert first.digests() == 0  # 10:00: waits for 17:00
    # The daemon stops here and comes back the next day at 18:00: 17:00, 08:00 and 17:00
    # were missed; one digest goes out, with everything, and then nothing until 08:00.
    later = Clock(datetime(2026, 11, 26, 18, 0, tzinfo=UTC))
    article(store, src, "b", "Mine two", "lithium", later.now - timedelta(hours=1))
    restarted = pipeline(store, later, twice)
    restarted.match()
    assert restarted.digests() == 1
    assert restarted.digests() == 0
    again = pipeline(store, later.at(later.now + timedelta(minutes=5)), twice)
    assert again.digests() == 0
    [digest] = outbox(store)
    assert "Mine one" in digest["body_text"] and "Mine two" in digest["body_text"]
    assert "since 25 Nov 2026 08:00 UTC" in flat(digest["body_text"])
    assert store.digest_handled() == {DESK: datetime(2026, 11, 26, 17, 0, tzinfo=UTC)}


def test_a_digest_sent_late_because_newswatch_was_not_running_says_so(store: Store, mail) -> None:
    """A daily 08:00 digest whose daemon was down from before 08:00 to 14:00 went at 14:00
    like any other: its reader could not tell a late digest from one the schedule moved.
    It says when it was due and why it is late; one sent on time, or by a daemon started
    again minutes after its time, does not."""
    late = "This digest was due at 08:00 UTC; it is sent late because newswatch was not running."
    topics(store, ("Lithium", "lithium", (DESK,), "digest"))
    src = source(store, "Mining Weekly")
    daily = policies(RecipientPolicy("UTC", parse_times("08:00")))
    article(store, src, "a", "Mine one", "lithium", NOW - timedelta(hours=1))
    clock = Clock(NOW)
    running = pipeline(store, clock, daily, mail)
    running.match()
    assert running.digests() == 0  # 10:00: waits for 08:00 tomorrow
    clock.at(datetime(2026, 11, 26, 8, 0, 30, tzinfo=UTC))
    assert running.digests() == 1
    deliver(running)
    # Stopped at 09:00 after an article for the next digest; started again the next day at
    # 14:00, six hours past its 08:00.
    article(store, src, "b", "Mine two", "lithium", clock.at(clock.now + timedelta(hours=1))())
    running.match()
    restarted = pipeline(store, Clock(datetime(2026, 11, 27, 14, 0, tzinfo=UTC)), daily, mail)
    assert restarted.digests() == 1
    deliver(restarted)
    # Stopped at 14:00 after one more, started again ten minutes after the next 08:00 (an
    # upgrade): on time.
    article(store, src, "c", "Mine three", "lithium", restarted.clock() - timedelta(minutes=30))
    restarted.match()
    soon = pipeline(store, Clock(datetime(2026, 11, 28, 8, 10, tzinfo=UTC)), daily, mail)
    assert soon.digests() == 1
    deliver(soon)
    on_time, sent_late, restarted_soon = mail.wait_for(3)
    assert "Mine two" in text_of(sent_late)
    assert late in flat(text_of(sent_late)) and late in html_of(sent_late)
    for message in (on_time, restarted_soon):
        assert "sent late" not in text_of(message) and "sent late" not in html_of(message)


class LongCrawl:
    """A crawl that takes ``minutes`` on the pipeline's clock (a cron job's crawl of many
    sources, some slow): it moves the clock, and polls nothing."""

    def __init__(self, clock: Clock, minutes: int) -> None:
        self.clock, self.minutes = clock, minutes

    async def crawl(self, store: Store, sources: list[Source], clock: Clock) -> CrawlReport:
        self.clock.at(self.clock.now + timedelta(minutes=self.minutes))
        return CrawlReport()


def test_a_digest_due_while_a_crawl_from_cron_ran_does_not_say_newswatch_was_not_running(
    store: Store, mail
) -> None:
    """`newswatch crawl` from cron at 07:50 crawls for 45 minutes and queues the 08:00
    digest at 08:35: newswatch ran at 08:00, yet the digest said it was late because
    newswatch was not running (the process's first look for due digests, at the crawl's
    end, was taken for its start)."""
    topics(store, ("Lithium", "lithium", (DESK,), "digest"))
    src = source(store, "Mining Weekly")
    daily = policies(RecipientPolicy("UTC", parse_times("08:00")))
    article(store, src, "a", "Mine one", "lithium", NOW - timedelta(hours=1))
    clock = Clock(NOW)
    pipeline(store, clock, daily).match()
    clock.at(datetime(2026, 11, 26, 7, 50, tzinfo=UTC))
    cron = pipeline(store, clock, daily, mail)
    cron.crawler, cron.stream_seconds = LongCrawl(clock, 45), 0  # type: ignore[assignment]
    report = asyncio.run(cron.cycle([store.sources()[0]]))
    assert report.digests == 1 and clock.now.hour == 8 and clock.now.minute == 35
    (message,) = mail.wait_for(1)
    assert "Mine one" in text_of(message)
    assert "sent late" not in text_of(message) and "sent late" not in html_of(message)


def test_a_late_digest_due_another_day_on_its_readers_clock_says_that_day() -> None:
    """Due at 17:00 in Caracas (21:00 UTC) and sent the next morning: its time alone would
    read as today's."""
    caracas = RecipientPolicy("America/Caracas", parse_times("17:00"))
    email = compose_digest(DESK, [], NOW, policy=caracas,
                           late=datetime(2026, 11, 24, 21, 0, tzinfo=UTC))
    assert ("This digest was due on 24 Nov 2026 17:00 -04 (America/Caracas); it is sent late "
            "because newswatch was not running.") in flat(email.text)


def test_an_empty_digest_is_sent_only_when_configured(store: Store) -> None:
    topics(store, ("Lithium", "lithium", (DESK, ED), "digest"))
    quiet = RecipientPolicy("UTC", parse_times("08:00"))
    chatty = RecipientPolicy("UTC", parse_times("08:00"), empty=True)
    clock = Clock(NOW)
    pipe = pipeline(store, clock, policies(quiet, ed=chatty))
    assert pipe.digests() == 0
    clock.at(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
    assert pipe.digests() == 1
    assert pipe.digests() == 0
    [empty] = outbox(store)
    assert empty["recipient"] == ED
    assert empty["subject"] == "[newswatch] Digest — nothing new"
    assert "Nothing new matched your topics since 25 Nov 2026 08:00 UTC." in flat(
        empty["body_text"]
    )
    assert "watches: Lithium." in empty["body_text"]
    # The quiet recipient's digest time was dealt with all the same.
    assert set(store.digest_handled()) == {DESK, ED}


def test_a_digest_groups_by_topic_one_entry_per_story_newest_first(store: Store, mail) -> None:
    ids = topics(
        store,
        ("Venezuela", "Maduro OR Marcano", (DESK,), "digest"),
        ("Lithium", "lithium", (DESK,), "digest"),
        ("Urgent", "earthquake", (DESK,), "immediate"),
    )
    wire_a, wire_b, wire_c = (source(store, f"Wire {x}") for x in "ABC")
    mining = source(store, "Mining Weekly")
    clock = Clock(NOW)
    pipe = pipeline(store, clock, policies(), mail)
    article(store, wire_a, "wire-a", "Opposition leader returns", WIRE, NOW - timedelta(hours=3))
    article(store, mining, "old", "Older mine story", "lithium", NOW - timedelta(hours=5))
    article(store, mining, "new", "Newer mine story", "lithium", NOW - timedelta(hours=2))
    article(store, mining, "quake", "Earthquake in Chile", "An earthquake.", NOW)
    pipe.match()
    # A copy of the wire story on another site, later: recorded, not alerted again, but the
    # digest lists it (and one found after that) as "also on".
    article(store, wire_b, "wire-b", "Opposition leader back home", WIRE, NOW)
    clock.at(NOW + timedelta(hours=1))
    article(store, wire_c, "wire-c", "Marcano is back", WIRE, clock.now)
    pipe.match()
    assert len(store.waiting_digest()) == 3
    assert [r["subject"] for r in outbox(store)] == [
        "[newswatch] Urgent — Earthquake in Chile"
    ]
    clock.at(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
    assert pipe.digests() == 1
    deliver(pipe)
    [_, digest] = mail.wait_for(2)
    assert digest["Subject"] == "[newswatch] Digest — 3 stories: Venezuela, Lithium"
    text = text_of(digest)
    venezuela, lithium = text.index("== Venezuela =="), text.index("== Lithium ==")
    assert venezuela < text.index("Opposition leader returns") < lithium
    assert lithium < text.index("Newer mine") < text.index("Older mine")
    assert text.count("Opposition leader returns") == 1
    assert "back home" not in text and "Marcano is back" not in text
    assert "Also on: Wire B, Wire C" in text
    assert "Also on: Wire B, Wire C" in untagged(html_of(digest))
    assert "Earthquake" not in text  # immediate topic: already sent on its own
    assert "watches: Venezuela, Lithium, Urgent." in flat(text)
    rows = store.db.execute(
        "SELECT article_id, topic_id FROM outbox_items WHERE outbox_id = ? ORDER BY 1",
        [outbox(store)[1]["id"]],
    ).fetchall()
    assert {t for _, t in rows} == {ids["Venezuela"], ids["Lithium"]}


def test_a_digest_of_hundreds_of_stories_lists_each_topics_newest_and_counts_the_rest(
    store: Store, mail
) -> None:
    # A first crawl of many feeds can hold thousands of alerts for one digest: written out,
    # more than mail servers take (a refused message is not retried) and than anyone reads.
    # Each topic lists its newest stories (its share of MAX_STORIES, fewer when the HTML
    # would pass what Gmail shows whole) and says how many older ones there are; the digest
    # still reports every one of them (none comes again).
    from alerts.compose import HTML_BUDGET, MAX_STORIES

    ids = topics(store, ("Lithium", "lithium", (DESK,), "digest"),
                 ("Venezuela", "Maduro", (DESK,), "digest"))
    mining, wire = source(store, "Mining Weekly"), source(store, "Wire A")
    many = MAX_STORIES + 250
    for n in range(many):
        article(store, mining, f"mine-{n}", f"Mine story {n:03d}",
                f"Lithium output report number {n} from the northern region.",
                NOW - timedelta(minutes=n))
    for n in range(3):
        article(store, wire, f"wire-{n}", f"Wire story {n}", f"Maduro spoke about plan {n}.",
                NOW - timedelta(hours=n))
    clock = Clock(NOW)
    pipe = pipeline(store, clock, policies(), mail)
    pipe.match()
    assert len(store.waiting_digest()) == many + 3
    clock.at(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
    assert pipe.digests() == 1
    deliver(pipe)
    [digest] = mail.wait_for(1)
    assert digest["Subject"].startswith(f"[newswatch] Digest — {many + 3} stories: ")
    text, html = text_of(digest), html_of(digest)
    assert len(html.encode("utf-8")) <= HTML_BUDGET
    # The newest, in a row; at most MAX_STORIES less Venezuela's 3; many at 1 KB a story.
    shown = len(re.findall(r"Mine story \d{3}", html))
    assert 60 <= shown <= MAX_STORIES - 3
    assert all(f"Mine story {n:03d}" in text for n in range(shown))
    assert f"Mine story {shown:03d}" not in text and f"Mine story {shown:03d}" not in html
    more = f"… and {many - shown} older stories about Lithium, not listed here"
    assert more in flat(text) and more in html
    assert all(f"Wire story {n}" in text for n in range(3))
    assert text.count("older stories about") == 1
    assert len(digest.as_bytes()) < 400_000
    reported = store.db.execute(
        "SELECT count(*) FROM outbox_items WHERE outbox_id = ?", [outbox(store)[0]["id"]]
    ).fetchone()[0]
    assert reported == many + 3
    assert store.waiting_digest() == []
    assert pipe.digests() == 0 and len(outbox(store)) == 1
    rows = store.db.execute("SELECT DISTINCT topic_id FROM outbox_items").fetchall()
    assert {t for (t,) in rows} == {ids["Lithium"], ids["Venezuela"]}


def test_a_digest_of_many_topics_lists_every_story_once(store: Store, mail) -> None:
    # A desk reader of 60 topics, 93 stories waiting: each story was listed under each of
    # its topics, and the 95 KB budget then cut every topic to two stories: 31 of 93 listed,
    # the rest reported as sent, in no email. Each story is listed once now (its topics
    # named), and over the budget without its snippet before any is left out.
    from alerts.compose import HTML_BUDGET

    names = [f"Desk {n:02d}" for n in range(40)]
    topics(store, *((name, f"desk{n:02d}", (DESK,), "digest") for n, name in enumerate(names)))
    wire = source(store, "Wire A")
    vocabulary = ["harbour", "budget", "tram", "school", "council", "river", "bridge",
                  "election", "court", "hospital", "strike", "museum", "farm", "port", "rail",
                  "airport", "tax", "police", "water", "energy"]
    pick = random.Random(5)
    for n in range(90):
        words = " ".join(f"desk{(n + k) % 40:02d}" for k in range(3))
        text = f"Report {n} for {words}. " + " ".join(pick.choice(vocabulary) for _ in range(80))
        article(store, wire, f"s-{n}", f"Story number {n:03d}", text, NOW - timedelta(minutes=n))
    clock = Clock(NOW)
    pipe = pipeline(store, clock, policies(), mail)
    pipe.match()
    clock.at(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
    assert pipe.digests() == 1
    deliver(pipe)
    [digest] = mail.wait_for(1)
    text, html = text_of(digest), html_of(digest)
    assert digest["Subject"].startswith("[newswatch] Digest — 90 stories: ")
    assert len(html.encode("utf-8")) <= HTML_BUDGET
    assert sorted(set(re.findall(r"Story number (\d{3})", text))) == [f"{n:03d}" for n in range(90)]
    assert len(re.findall(r"Story number \d{3}", text)) == 90  # once each
    assert "not listed here" not in text
    assert "Topics: Desk 00, Desk 38, Desk 39" in flat(text)


def test_a_small_topics_stories_cut_from_a_busy_topics_share_are_listed_under_it() -> None:
    # Placed under their first topic (Venezuela, 230 stories) whatever its share, the four
    # stories of "Caracas desk", among Venezuela's oldest, were listed nowhere, and its group
    # said "4 stories, 4 listed above" (a review of the change).
    from alerts.compose import AlertItem, compose_digest

    items = []
    for n in range(230):
        when = NOW - timedelta(minutes=n)
        for topic_id, name in ((1, "Venezuela"), (2, "Caracas desk")):
            if topic_id == 1 or n >= 226:
                items.append(AlertItem(n, (topic_id,), (name,), f"Story {n:03d}",
                                       f"https://x.example/{n}", "Wire", when,
                                       (("Maduro spoke.", False),), story_id=n))
    email = compose_digest("desk@example.org", items, NOW, policy=RecipientPolicy(),
                           watched=("Venezuela", "Caracas desk"))
    listed = re.findall(r"Story (\d{3})", email.text)
    assert len(listed) == len(set(listed))  # once each
    assert {"226", "227", "228", "229"} <= set(listed)
    assert "listed above" not in email.html
    # Venezuela's count says where its four are: listed, below, and the rest counted.
    venezuela = email.text.split("== Venezuela ==")[1].split("== Caracas desk ==")[0]
    shown = len(re.findall(r"Story \d{3}", venezuela))
    more = int(re.search(r"… and (\d+) older stories about Venezuela", flat(venezuela))[1])
    assert shown + 4 + more == 230
    assert "230 stories, 4 listed below" in email.html


def test_an_immediate_alert_without_storm_control_lists_the_newest_and_counts_the_rest(
    store: Store, mail
) -> None:
    # A recipient who turned storm control off gets every match of a batch in one email: a
    # first crawl's batch can hold hundreds, listed up to MAX_STORIES like a digest's (fewer
    # when the HTML would pass what Gmail shows whole).
    from alerts.compose import HTML_BUDGET, MAX_STORIES

    topics(store, ("Lithium", "lithium", (DESK,), "immediate"))
    mining = source(store, "Mining Weekly")
    many = MAX_STORIES + 40
    for n in range(many):
        article(store, mining, f"mine-{n}", f"Mine story {n:03d}",
                f"Lithium output report number {n} from the northern region.",
                NOW - timedelta(minutes=n))
    pipe = pipeline(store, Clock(NOW), policies(RecipientPolicy(storm=0)), mail)
    pipe.match()
    deliver(pipe)
    [alert] = mail.wait_for(1)
    text, html = text_of(alert), html_of(alert)
    assert f"{many} new stories" in text
    assert len(html.encode("utf-8")) <= HTML_BUDGET
    shown = len(re.findall(r"Mine story \d{3}", html))
    assert 60 <= shown <= MAX_STORIES
    assert all(f"Mine story {n:03d}" in text for n in range(shown))
    assert f"Mine story {shown:03d}" not in text and f"Mine story {shown:03d}" not in html
    more = f"… and {many - shown} older stories, not listed here: all are in the archive"
    assert more in flat(text) and more in html
    reported = store.db.execute("SELECT count(*) FROM outbox_items").fetchone()[0]
    assert reported == many



def test_an_arabic_alert_fits_what_gmail_shows_whole_as_it_is_sent(store: Store, mail) -> None:
    # The budget was measured on the HTML as composed: quoted-printable writes each byte of
    # an Arabic letter as "=D8" (3 bytes for 1) and each "=" of the markup as "=3D", so 200
    # Arabic stories of 90 KB arrived as an HTML part of 140 KB: Gmail showed the first
    # 102 KB of it, hiding the last stories, the "not listed" line and the footer behind
    # "[Message clipped] View entire message".
    from alerts.compose import HTML_BUDGET, MAX_STORIES

    topics(store, ("النفط", "النفط", (DESK,), "immediate"))
    wire = source(store, "الجزيرة")
    lede = "الحكومة تعلن خطة جديدة لمواجهة ارتفاع أسعار النفط في المنطقة"
    many = MAX_STORIES + 40
    for n in range(many):
        article(store, wire, f"ar-{n}", f"{lede} {n:03d}", f"{lede}. {lede} {n}.",
                NOW - timedelta(minutes=n))
    pipe = pipeline(store, Clock(NOW), policies(RecipientPolicy(storm=0)), mail)
    pipe.match()
    deliver(pipe)
    [alert] = mail.wait_for(1)
    part = alert.get_body(preferencelist=("html",))
    assert part["Content-Transfer-Encoding"] == "quoted-printable"
    assert len(part.get_payload().encode("ascii")) <= HTML_BUDGET  # as it came over the wire
    html = html_of(alert)
    shown = len(set(re.findall(r'href="https://news\.example/(ar-\d+)"', html)))
    assert 30 <= shown < MAX_STORIES
    assert f"… and {many - shown} older stories, not listed here" in html
    assert "Sent by newswatch." in html
def test_each_topic_of_a_long_digest_gets_its_share_and_the_small_ones_leave_theirs() -> None:
    from alerts.compose import MAX_STORIES, TOPIC_STORIES, _shares

    assert _shares({"a": 1, "b": 500}) == {"a": 1, "b": MAX_STORIES - 1}
    assert _shares({"a": 50, "b": 50, "c": 500}) == {"a": 50, "b": 50, "c": MAX_STORIES - 100}
    many = _shares({f"t{n}": 100 for n in range(40)})
    assert set(many.values()) == {TOPIC_STORIES}
    assert _shares({"a": 3}) == {"a": 3}


def test_digest_html_escapes_what_it_shows(store: Store) -> None:
    topics(store, ("Tags", "tags", (DESK,), "digest"))
    src = source(store, 'Evil <b>"Source"</b>')
    article(store, src, "x", "<script>alert(1)</script> tags", "Some <script> tags </p>",
            NOW - timedelta(hours=1))
    clock = Clock(NOW)
    pipe = pipeline(store, clock, policies())
    pipe.match()
    clock.at(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
    assert pipe.digests() == 1
    [digest] = outbox(store)
    html = digest["body_html"]
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "Evil &lt;b&gt;" in html
    assert "&lt;/p&gt;</p>" in html  # the text's tag is shown, the template's closes
    assert "<script>alert(1)</script> *tags*" in digest["body_text"]


# -- storm control ----------------------------------------------------------------------------


def burst(store: Store, src: int, count: int, start: datetime, prefix: str = "Quake") -> None:
    for i in range(count):
        article(store, src, f"{prefix.lower()}-{start:%H%M}-{i}", f"{prefix} report {i}",
                f"Earthquake report number {i}.", start - timedelta(minutes=count - i))


def test_storm_control_folds_a_burst_into_one_digest(store: Store, mail) -> None:
    topics(store, ("Quakes", "earthquake", (DESK, ED), "immediate"))
    src = source(store, "Seismo")
    clock = Clock(NOW)
    limit3 = RecipientPolicy("America/Caracas", parse_times("08:00"), storm=3)
    pipe = pipeline(store, clock, policies(limit3, ed=RecipientPolicy(storm=0)), mail)
    burst(store, src, 5, NOW)
    report = pipe.match()
    assert (report.emails, report.queued) == (2, 2)
    assert [(i.recipient, i.reason) for i in store.waiting_digest()] == [(DESK, "storm")] * 2
    deliver(pipe)
    desk, ed = sorted(mail.wait_for(2), key=lambda m: m["To"])
    assert desk["Subject"] == "[newswatch] Quakes — 3 stories"
    assert ed["Subject"] == "[newswatch] Quakes — 5 stories"  # storm = 0: no limit
    # The newest articles go now, the older ones are folded (before, the batch's first
    # stored: a back-catalogue item went out and the news of the hour waited for the digest).
    assert [line for line in text_of(desk).splitlines() if re.match(r"\d+\. ", line)] == [
        "1. Quake report 4", "2. Quake report 3", "3. Quake report 2",
    ]
    # The immediate email says where the rest went: one digest within the hour (Caracas).
    local_end = (NOW + timedelta(hours=1)).astimezone(ZoneInfo("America/Caracas"))
    assert (
        "More than 3 alerts in an hour: the rest of this hour's alerts come in one digest by "
        f"{local_end:%H:%M} -04." in " ".join(text_of(desk).split())
    )
    assert "More than 3 alerts in an hour" in html_of(desk)
    assert "More than" not in text_of(ed)
    # The storm goes on: later alerts in the hour fold too, into the same digest.
    clock.at(NOW + timedelta(minutes=20))
    burst(store, src, 1, clock.now, "Aftershock")
    assert pipe.match().queued == 1
    clock.at(NOW + timedelta(minutes=59))
    assert pipe.digests() == 0
    clock.at(NOW + timedelta(hours=1))  # the hour is over: the folded alerts go out
    assert pipe.digests() == 1
    assert pipe.digests() == 0
    deliver(pipe)
    digest = mail.wait_for(4)[3]
    assert digest["To"] == DESK
    assert digest["Subject"] == "[newswatch] Digest — 3 stories: Quakes"
    text = text_of(digest)
    assert text.count("More than 3 alerts in an hour:") == 1
    assert "More than 3 alerts in an hour:" in html_of(digest)
    assert [line for line in text.splitlines() if re.match(r"\d+\. ", line)] == [
        "1. Aftershock report 0", "2. Quake report 1", "3. Quake report 0",
    ]
    # The storm is over: the next alert comes on its own again.
    clock.at(NOW + timedelta(hours=2))
    burst(store, src, 1, clock.now, "Calm")
    report = pipe.match()
    assert (report.emails, report.queued) == (2, 0)


def test_folded_alerts_go_with_a_digest_time_that_comes_first(store: Store) -> None:
    topics(store, ("Quakes", "earthquake", (DESK,), "immediate"))
    src = source(store, "Seismo")
    clock = Clock(datetime(2026, 11, 25, 7, 40, tzinfo=UTC))
    pipe = pipeline(store, clock, policies(RecipientPolicy(storm=2)))
    burst(store, src, 4, clock.now)
    assert pipe.match().queued == 2
    clock.at(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))  # the 08:00 digest, before 08:40
    assert pipe.digests() == 1
    clock.at(datetime(2026, 11, 25, 8, 40, tzinfo=UTC))
    assert pipe.digests() == 0
    immediate, digest = outbox(store)
    assert "2 stories" in immediate["subject"]
    assert "Digest — 2 stories" in digest["subject"]
    assert "More than 2 alerts in an hour" in digest["body_text"]


def test_a_storm_days_after_the_last_one_waits_its_hour(store: Store) -> None:
    """The last digest time dealt with was remembered from a storm days before: a digest
    time since then made the next storm's folded alerts go out at once (two emails in 30 s),
    as a digest "since" that old storm."""
    topics(store, ("Quakes", "earthquake", (DESK,), "immediate"))
    src = source(store, "Seismo")
    clock = Clock(NOW)
    pipe = pipeline(store, clock, policies(RecipientPolicy(storm=2)))
    burst(store, src, 4, NOW)
    assert pipe.match().queued == 2
    assert pipe.digests() == 0
    clock.at(NOW + timedelta(hours=1))
    assert pipe.digests() == 1
    later = NOW + timedelta(days=2)
    clock.at(later)  # no digest job ran in between (newswatch crawl from cron)
    burst(store, src, 4, later, "Aftershock")
    assert pipe.match().queued == 2
    clock.at(later + timedelta(seconds=30))
    assert pipe.digests() == 0
    clock.at(later + timedelta(hours=1))
    assert pipe.digests() == 1
    assert "Digest — 2 stories" in outbox(store)[-1]["subject"]


def test_folded_alerts_that_all_went_make_no_empty_digest_at_the_end_of_their_hour(
    store: Store,
) -> None:
    """A reader of a digest topic, with empty_digest, whose folded alerts all went before
    their hour was over (their topic narrowed): a "nothing new" digest came at the end of
    the hour, at no digest time. It comes at the digest time only."""
    topics(store, ("Quakes", "earthquake", (DESK,), "immediate"),
           ("Lithium", "lithium", (DESK,), "digest"))
    src = source(store, "Seismo")
    clock = Clock(NOW)
    pipe = pipeline(store, clock, policies(RecipientPolicy(storm=2, empty=True)))
    assert pipe.digests() == 0
    burst(store, src, 4, NOW)
    assert pipe.match().queued == 2
    store.sync_topics([
        TopicSpec("Quakes", "earthquake", compile_query("earthquake"), (DESK,),
                  exclude="report", exclude_compiled=compile_query("report")),
        TopicSpec("Lithium", "lithium", compile_query("lithium"), (DESK,), mode="digest"),
    ])
    clock.at(NOW + timedelta(hours=1))
    assert pipe.digests() == 0
    assert store.waiting_digest() == []
    clock.at(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))  # the digest time: "nothing new"
    assert pipe.digests() == 1
    assert [row["subject"] for row in outbox(store)] == [
        "[newswatch] Quakes — 2 stories", "[newswatch] Digest — nothing new",
    ]


def test_a_folded_story_of_a_digest_topic_too_comes_in_one_digest(store: Store, mail) -> None:
    """A reader's "Quakes" immediate and "Chile" in a daily digest: a quake in Chile folded
    by storm control came in the digest at the end of the hour, under Quakes, and again the
    next morning, under Chile. It comes once, at the end of the hour, with both topics."""
    topics(store, ("Quakes", "earthquake", (DESK,), "immediate"),
           ("Chile", "chile", (DESK,), "digest"))
    src = source(store, "Seismo")
    clock = Clock(NOW)
    pipe = pipeline(store, clock, policies(RecipientPolicy("UTC", parse_times("08:00"),
                                                           storm=2)), mail)
    for i in range(4):
        article(store, src, f"q{i}", f"Quake {i} shakes Chile", "An earthquake in Chile.",
                NOW - timedelta(minutes=10 - i))
    assert pipe.match().emails == 1  # Quake 3 and 2; Quake 1 and 0 folded
    clock.at(NOW + timedelta(hours=1))
    assert pipe.digests() == 1
    assert store.waiting_digest() == []
    clock.at(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
    assert pipe.digests() == 0
    deliver(pipe)
    [folded] = [m for m in mail.wait_for(2) if "Digest" in m["Subject"]]
    assert folded["Subject"] == "[newswatch] Digest — 2 stories: Quakes, Chile"
    text = flat(text_of(folded))
    assert text.count("Quake 1 shakes") == 1 and text.count("Quake 0 shakes") == 1
    assert "Topics: Quakes, Chile" in text
    assert "More than 2 alerts in an hour" in text


def test_a_folded_story_whose_topic_no_longer_matches_leaves_its_digest_topics_alerts_waiting(
    store: Store,
) -> None:
    """The folded quakes in Chile, their "Quakes" then narrowed within the hour (an exclude
    query): they went, as they should, but their "Chile" alerts went at the end of the hour
    all the same, in a digest at no digest time without a word of storm control. They wait
    for the morning's digest, as the story no longer goes at the end of the hour."""
    topics(store, ("Quakes", "earthquake", (DESK,), "immediate"),
           ("Chile", "chile", (DESK,), "digest"))
    src = source(store, "Seismo")
    clock = Clock(NOW)
    pipe = pipeline(store, clock, policies(RecipientPolicy("UTC", parse_times("08:00"),
                                                           storm=2)))
    for i in range(4):
        article(store, src, f"q{i}", f"Quake {i} shakes Chile", "An earthquake in Chile.",
                NOW - timedelta(minutes=10 - i))
    assert pipe.match().emails == 1  # Quake 3 and 2; Quake 1 and 0 folded
    store.sync_topics([
        TopicSpec("Quakes", "earthquake", compile_query("earthquake"), (DESK,),
                  exclude="chile", exclude_compiled=compile_query("chile")),
        TopicSpec("Chile", "chile", compile_query("chile"), (DESK,), mode="digest"),
    ])
    clock.at(NOW + timedelta(hours=1))
    assert pipe.digests() == 0
    assert sorted(i.reason for i in store.waiting_digest()) == ["digest", "digest"]
    clock.at(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
    assert pipe.digests() == 1
    [_, digest] = outbox(store)
    assert digest["subject"] == "[newswatch] Digest — 2 stories: Chile"


def test_a_new_digest_topic_of_a_reader_who_had_one_starts_at_the_next_digest_time(
    store: Store,
) -> None:
    """A reader's digest topic removed, and weeks later another added: its first digest (an
    empty one, with empty_digest) went out at once, "since" the old topic's last digest."""
    topics(store, ("Lithium", "lithium", (DESK,), "digest"))
    clock = Clock(NOW)
    pipe = pipeline(store, clock, policies(RecipientPolicy(empty=True)))
    assert pipe.digests() == 0
    topics(store)
    for day in range(1, 20):
        clock.at(NOW + timedelta(days=day))
        assert pipe.digests() == 0
    clock.at(datetime(2026, 12, 14, 14, 0, tzinfo=UTC))
    topics(store, ("Cobalt", "cobalt", (DESK,), "digest"))
    assert pipe.digests() == 0
    clock.at(datetime(2026, 12, 15, 8, 0, tzinfo=UTC))
    assert pipe.digests() == 1
    assert "since" in outbox(store)[-1]["body_text"]
    assert "14 Dec" in outbox(store)[-1]["body_text"], outbox(store)[-1]["body_text"]


def test_alerts_waiting_for_a_digest_go_with_their_topic_or_reader(store: Store) -> None:
    """A digest topic removed, or a reader taken off a topic: its alerts already queued
    still came in the reader's next digest (the reader had said no more of it). They go;
    those of the topics the reader still watches come, and the storm's of a topic kept."""
    topics(store, ("Lithium", "lithium", (DESK, ED), "digest"),
           ("Cobalt", "cobalt", (DESK,), "digest"), ("Nickel", "nickel", (ED,), "digest"))
    src = source(store, "Mining Weekly")
    for slug, title in (("li", "Lithium prices fall"), ("co", "Cobalt mine reopens"),
                        ("ni", "Nickel output rises")):
        article(store, src, slug, title, title + ".", NOW - timedelta(minutes=5))
    clock = Clock(NOW)
    pipe = pipeline(store, clock, policies(RecipientPolicy("UTC", parse_times("08:00"))))
    assert pipe.match().queued == 4
    # Lithium removed; Ed taken off Nickel (and put on Cobalt): Ed had said no more of both.
    topics(store, ("Cobalt", "cobalt", (DESK, ED), "digest"), ("Nickel", "nickel", (DESK,),
                                                                "digest"))
    clock.at(NOW + timedelta(days=1))
    assert pipe.digests() == 1
    [digest] = outbox(store)
    assert digest["recipient"] == DESK
    assert "mine reopens" in digest["body_text"]
    assert "Lithium" not in digest["body_text"] and "Nickel output" not in digest["body_text"]
    assert store.waiting_digest() == []  # nothing left to come later either


def test_alerts_waiting_for_a_digest_go_only_where_the_topic_as_changed_still_matches(
    store: Store,
) -> None:
    """A reader narrowed a digest topic, or gave it an exclude query, for the noise it
    brought: the alerts already waiting came in the next digest all the same (a weekly
    digest of a week of baseball under "Venezuela"). They are matched again as the digest
    is made: what the topic no longer matches is dropped, the rest goes."""
    topics(store, ("Venezuela", "Venezuela", (DESK,), "digest"),
           ("Lithium", "lithium", (DESK,), "digest"))
    src = source(store, "Wire")
    for slug, title in (("oil", "Venezuela oil output rises"),
                        ("ball", "Venezuela wins the baseball final"),
                        ("mine", "Lithium mine approved in Chile"),
                        ("price", "Lithium price falls again")):
        article(store, src, slug, title, title + ".", NOW - timedelta(minutes=5))
    clock = Clock(NOW)
    pipe = pipeline(store, clock, policies(RecipientPolicy("UTC", parse_times("08:00"))))
    assert pipe.match().queued == 4
    store.sync_topics([
        TopicSpec("Venezuela", "Venezuela", compile_query("Venezuela"), (DESK,),
                  exclude="baseball", exclude_compiled=compile_query("baseball"),
                  mode="digest"),
        TopicSpec("Lithium", '"lithium mine"', compile_query('"lithium mine"'), (DESK,),
                  mode="digest"),
    ])
    clock.at(NOW + timedelta(days=1))
    assert pipe.digests() == 1
    [digest] = outbox(store)
    assert "oil output rises" in digest["body_text"]
    assert "mine approved" in digest["body_text"]
    assert "baseball" not in digest["body_text"] and "price falls" not in digest["body_text"]
    assert store.waiting_digest() == []


def test_an_alert_of_a_topic_limited_to_a_merged_page_goes_in_its_digest(store: Store) -> None:
    """A digest topic limited to a site's page added from the command line ("Herald"), the
    page merged since into the config file's source of the feed it declares ("Herald
    World"): the site's stories come from that one, which the topic follows, and they go
    in its digest (judged again as the digest is made, they are still the topic's)."""
    world = source(store, "Herald World")
    page = store.add_source(SourceSpec("https://herald-world.example/", 600, "Herald"), NOW)
    assert store.remove_source(page.url, into=store.source(world).url)
    store.sync_topics([TopicSpec("Maduro", "Maduro", compile_query("Maduro"), (DESK,),
                                 sources=("Herald",), mode="digest")])
    article(store, world, "maduro", "Maduro leaves Caracas", "Maduro left.",
            NOW - timedelta(minutes=5))
    clock = Clock(NOW)
    pipe = pipeline(store, clock, policies(RecipientPolicy("UTC", parse_times("08:00"))))
    assert pipe.match().queued == 1
    clock.at(NOW + timedelta(days=1))
    assert pipe.digests() == 1
    [digest] = outbox(store)
    assert "leaves Caracas" in digest["body_text"]


def test_a_reader_written_two_ways_stays_one_reader_when_topics_change(store: Store) -> None:
    """"Desk@" on one topic and "desk@" on another: the reader's alerts were counted under
    the first topic's spelling, so removing that topic in the middle of a storm started the
    count again (three more immediate emails past the limit)."""
    shouting = DESK.replace("desk", "Desk").replace("test", "TEST")
    topics(store, ("Volcanoes", "volcano", (shouting,), "immediate"),
           ("Quakes", "earthquake", (DESK,), "immediate"))
    src = source(store, "Seismo")
    clock = Clock(NOW)
    pipe = pipeline(store, clock, policies(RecipientPolicy(storm=3)))
    burst(store, src, 3, NOW)
    assert (pipe.match().emails, store.waiting_digest()) == (1, [])
    topics(store, ("Quakes", "earthquake", (DESK,), "immediate"))
    clock.at(NOW + timedelta(minutes=10))
    burst(store, src, 3, clock.now, "Aftershock")
    report = pipe.match()
    assert (report.emails, report.queued) == (0, 3)
    assert {row["recipient"] for row in outbox(store)} == {DESK}


def test_an_article_of_an_immediate_and_a_digest_topic_reaches_a_reader_once(
    store: Store,
) -> None:
    """One reader, "Maduro" immediate and "Venezuela" in a digest: an article both match came
    in the immediate email and again in the next digest. It comes once, at once, with both
    topics."""
    topics(store, ("Maduro", "maduro", (DESK,), "immediate"),
           ("Venezuela", "venezuela", (DESK,), "digest"), ("Oil", "oil", (ED,), "digest"))
    src = source(store, "Caracas Daily")
    article(store, src, "a", "Maduro visits Venezuela's oil fields",
            "Maduro toured Venezuela's oil fields.", NOW - timedelta(minutes=10))
    clock = Clock(NOW)
    pipe = pipeline(store, clock, policies(RecipientPolicy("UTC", parse_times("08:00"))))
    report = pipe.match()
    assert (report.emails, report.queued) == (1, 1)  # Ed's digest still has it
    [immediate] = outbox(store)
    assert immediate["recipient"] == DESK
    assert "Maduro" in immediate["subject"] and "Venezuela" in immediate["subject"]
    clock.at(NOW + timedelta(days=1))
    assert pipe.digests() == 1
    assert [row["recipient"] for row in outbox(store)] == [DESK, ED]


def next_morning(store: Store, *, queued: int, digests: int) -> list[dict]:
    """Match what is stored at NOW (``queued``: the alerts it queues for digests at 08:00
    UTC), then send the digests due a day later (``digests`` of them): the outbox."""
    clock = Clock(NOW)
    pipe = pipeline(store, clock, policies(RecipientPolicy("UTC", parse_times("08:00"))))
    assert pipe.match().queued == queued
    clock.at(NOW + timedelta(days=1))
    assert pipe.digests() == digests
    return outbox(store)


def test_an_article_of_two_digest_topics_is_one_story_of_the_digest(store: Store) -> None:
    topics(store, ("Maduro", "maduro", (DESK,), "digest"),
           ("Venezuela", "venezuela", (DESK,), "digest"))
    src = source(store, "Caracas Daily")
    article(store, src, "a", "Maduro visits Venezuela's oil fields",
            "Maduro toured Venezuela's oil fields.", NOW - timedelta(minutes=10))
    [digest] = next_morning(store, queued=2, digests=1)
    assert digest["subject"] == "[newswatch] Digest — 1 story: Maduro, Venezuela"


def test_one_story_alerted_by_two_topics_on_two_sources_counts_once(store: Store) -> None:
    """One wire story carried by two sources, each copy matched by another topic (each
    topic reads one source): the digest counted two stories of it. Listed once, under its
    first topic, its topics named; counted under the other."""
    topics(store, ("Wire A", "opposition source:Reuters", (DESK,), "digest"),
           ("Wire B", "opposition source:AP", (DESK,), "digest"),
           ("Lithium", "lithium", (DESK,), "digest"))
    story = STORIES_BY_SLUG["venezuela-opposition-leader"]
    for name in ("Reuters", "AP"):
        article(store, source(store, name), name.lower(), story.title, WIRE,
                NOW - timedelta(minutes=10))
    article(store, source(store, "Mining Weekly"), "li", "Lithium prices fall",
            "Lithium prices fell.", NOW - timedelta(minutes=5))
    [digest] = next_morning(store, queued=3, digests=1)
    assert digest["subject"].startswith("[newswatch] Digest — 2 stories: "), digest["subject"]
    text = flat(digest["body_text"])
    assert text.count("returns to Caracas and challenges") == 1, text
    assert "Topics: Wire A, Wire B" in text
    assert "1 story, 1 listed above" in digest["body_html"]


def test_after_the_clock_went_back_digests_keep_their_times(store: Store) -> None:
    """The clock ran a day ahead, then was stepped back (the daemon's ClockWatch calls
    store.due_now): the digest time dealt with "tomorrow" skipped the next real one, and the
    alerts storm control folded "tomorrow" waited a day and an hour."""
    topics(store, ("Lithium", "lithium", (DESK,), "digest"),
           ("Quakes", "earthquake", (ED,), "immediate"))
    src = source(store, "Mining Weekly")
    ahead = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # the true time is 25 Nov 10:00
    clock = Clock(ahead)
    pipe = pipeline(store, clock, policies(RecipientPolicy("UTC", parse_times("08:00"),
                                                           storm=1)))
    for i in range(3):
        article(store, src, f"q{i}", f"Quake {i}", "earthquake", ahead - timedelta(minutes=5 - i))
    assert pipe.match().queued == 2
    pipe.digests()
    back = datetime(2026, 11, 25, 10, 5, tzinfo=UTC)
    clock.at(back)
    store.due_now(back)
    article(store, src, "l", "Lithium mine", "lithium", back)
    assert pipe.match().queued == 1
    sent = []
    when = back
    while when < datetime(2026, 11, 27, 9, 0, tzinfo=UTC):
        clock.at(when)
        if pipe.digests():
            sent.append(when)
        when += timedelta(minutes=5)
    assert sent == [back + timedelta(hours=1), datetime(2026, 11, 26, 8, 0, tzinfo=UTC)]


def one_digest_alert(store: Store, mail=None) -> tuple[Pipeline, Clock]:
    """A digest topic with one article to match, and a pipeline at NOW (digests at 08:00)."""
    topics(store, ("Lithium", "lithium", (DESK,), "digest"))
    article(store, source(store, "Mining Weekly"), "a", "Mine one", "lithium",
            NOW - timedelta(hours=1))
    clock = Clock(NOW)
    return pipeline(store, clock, policies(), mail), clock


# -- nothing lost, nothing sent twice ------------------------------------------------------------


def test_a_crash_while_queueing_or_composing_loses_nothing_and_sends_once(
    store: Store, monkeypatch
) -> None:
    pipe, clock = one_digest_alert(store)
    real_execute = store.db.execute

    def crash_on(prefix: str):
        def execute(sql, *args, **kwargs):
            if sql.lstrip().startswith(prefix):
                raise RuntimeError("power cut")
            return real_execute(sql, *args, **kwargs)
        return execute

    # Crash while recording the matches: nothing of the batch is kept, it is matched again.
    monkeypatch.setattr(store.db, "execute", crash_on("INSERT INTO digest_queue"))
    with pytest.raises(RuntimeError):
        pipe.match()
    monkeypatch.setattr(store.db, "execute", real_execute)
    assert store.watermark() == 0 and store.waiting_digest() == []
    assert store.db.execute("SELECT COUNT(*) FROM matches").fetchone()[0] == 0
    assert pipe.match().queued == 1

    # Crash between putting the digest in the outbox and taking its items off the queue.
    clock.at(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
    monkeypatch.setattr(store.db, "execute", crash_on("UPDATE digest_queue"))
    with pytest.raises(RuntimeError):
        pipe.digests()
    monkeypatch.setattr(store.db, "execute", real_execute)
    assert outbox(store) == [] and len(store.waiting_digest()) == 1
    assert store.digest_handled() == {}

    # Restarted: the digest is made once, with the item.
    restarted = pipeline(store, clock, policies())
    assert restarted.digests() == 1
    assert restarted.digests() == 0
    assert pipeline(store, clock, policies()).digests() == 0
    [digest] = outbox(store)
    assert "Mine one" in digest["body_text"]
    assert store.waiting_digest() == []
    assert store.db.execute(
        "SELECT COUNT(*) FROM digest_queue WHERE outbox_id = ?", [digest["id"]]
    ).fetchone()[0] == 1


def test_a_digest_in_the_outbox_survives_a_restart_and_is_delivered_once(
    store: Store, mail
) -> None:
    pipe, clock = one_digest_alert(store, mail)
    pipe.match()
    clock.at(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
    assert pipe.digests() == 1
    mail.stop()  # the mail server is down: the digest waits in the outbox
    assert asyncio.run(pipe.deliver()).retrying == 1
    mail.start()
    restarted = pipeline(store, clock.at(clock.now + timedelta(minutes=5)), policies(), mail)
    assert restarted.digests() == 0  # not composed again
    deliver(restarted)
    deliver(restarted)
    assert len(mail.wait_for(1)) == 1
    assert store.outbox_counts() == {"pending": 0, "sent": 1, "failed": 0}


def test_a_cycle_does_not_wait_for_another_jobs_delivery_to_a_slow_server(
    store: Store, mail
) -> None:
    """A crawl's cycle waited for the delivery lock while the digest job sent to a slow
    mail server (a source added meanwhile was polled only once that send ended: a review,
    20 s). The cycle leaves its alerts to that delivery run, which sends them after its own,
    and returns."""
    import threading

    topics(store, ("Quakes", "earthquake", (DESK,), "immediate"))
    src = source(store, "Seismo")
    clock = Clock(NOW)
    pipe = pipeline(store, clock, policies(RecipientPolicy(storm=0)), mail)
    burst(store, src, 1, NOW, "First")
    pipe.match()
    release = threading.Event()
    mail.on_accept = lambda message: release.wait(30)  # the server takes its time

    async def main() -> None:
        slow = asyncio.ensure_future(pipe.deliver())  # another job's (the digests')
        while not mail.messages:
            await asyncio.sleep(0.01)
        burst(store, src, 1, NOW + timedelta(minutes=1), "Second")
        cycle = await asyncio.wait_for(pipe.cycle([]), 20)  # not held by the slow send
        assert not release.is_set() and cycle.matched.emails == 1
        release.set()
        assert (await slow).sent == 2  # its own message, then the cycle's

    asyncio.run(main())
    first, second = mail.wait_for(2)
    assert "First report 0" in first["Subject"] and "Second report 0" in second["Subject"]
    assert store.outbox_counts() == {"pending": 0, "sent": 2, "failed": 0}


def test_the_daemon_digest_job_queues_and_delivers(store: Store, mail, monkeypatch) -> None:
    pipe, clock = one_digest_alert(store, mail)
    pipe.match()
    daemon = Daemon(pipe, tick_seconds=1)
    asyncio.run(daemon.digest_tick())
    clock.at(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
    asyncio.run(daemon.digest_tick())
    [message] = mail.wait_for(1)
    assert message["Subject"] == "[newswatch] Digest — 1 story: Lithium"
    assert store.outbox_counts()["sent"] == 1
    # A failing digest job is logged and counted; the next tick tries again.
    monkeypatch.setattr(store, "topics", lambda: 1 / 0)
    asyncio.run(daemon.digest_tick())
    assert daemon.failures == 1


# -- config, topics add and status through the command -------------------------------------------


def test_config_errors_for_time_zones_times_modes_and_recipients(workdir) -> None:
    workdir.write_config(
        alerts={"timezone": "Mars/Olympus_Mons", "digest": "08:00,25:00", "storm": -1},
        topics=[{"name": "a", "query": "x", "notify": [DESK], "mode": "weekly"}],
        extra="""
        [[recipients]]
        email = "not-an-address"
        [[recipients]]
        email = "ed@test.example"
        timezone = "Europe/Nowhere"
        digest = ["8am"]
        [[recipients]]
        email = "ED@test.example"
        """,
    )
    result = workdir.newswatch("check")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    problems = [line.split(": ", 2)[2] for line in result.stderr.splitlines()]
    assert problems == [
        "alerts.timezone: unknown time zone 'Mars/Olympus_Mons' "
        '(use an IANA name such as "America/Caracas" or "UTC")',
        "alerts.digest: '25:00' is not a time of day "
        '(use HH:MM, e.g. "08:00,17:00", or "Mon 08:00" for one day a week)',
        "alerts.storm: must not be negative",
        "topics[0].mode: expected one of immediate, digest (a weekly email: mode = \"digest\", "
        'and the digest times in [alerts] or [[recipients]], e.g. digest = "Mon 08:00")',
        "recipients[0].email: 'not-an-address' is not an email address",
        "recipients[1].timezone: unknown time zone 'Europe/Nowhere' "
        '(use an IANA name such as "America/Caracas" or "UTC")',
        "recipients[1].digest: '8am' is not a time of day "
        '(use HH:MM, e.g. "08:00,17:00", or "Mon 08:00" for one day a week)',
        "recipients[2].email: same address as recipients[1]",
    ]


def test_topics_add_digest_mode_and_status_shows_the_queue(workdir) -> None:
    workdir.write_config(
        alerts={"timezone": "America/Caracas", "digest": "08:00,17:00"},
        topics=[{"name": "Lithium", "query": "lithium", "notify": [DESK], "mode": "digest"}],
        extra="""
        [[recipients]]
        email = "ed@test.example"
        timezone = "Europe/Madrid"
        digest = "07:30"
        storm = 5
        """,
    )
    added = workdir.newswatch("topics", "add", "Quakes", "earthquake", "--notify", ED,
                              "--mode", "digest")
    assert added.returncode == 0, added.stderr
    assert "mode: digest" in added.stdout
    listed = json.loads(workdir.newswatch("topics", "list", "--format", "json").stdout)
    assert {t["name"]: t["mode"] for t in listed} == {"Lithium": "digest", "Quakes": "digest"}

    now = datetime.now(UTC).replace(microsecond=0)
    with Store.open(workdir.database) as store:
        ids = {t.name: t.id for t in store.topics()}
        src = source(store, "Mining Weekly")
        a1 = article(store, src, "a", "Mine one", "lithium", now)
        a2 = article(store, src, "b", "Mine two", "lithium", now)
        store.record_matches([], [], watermark=0, now=now, digest=[
            storage_item(DESK, ids["Lithium"], a1, "digest"),
            storage_item(DESK, ids["Lithium"], a2, "storm"),
        ])
    result = workdir.newswatch("status")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split("\ndigests:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert lines[0].startswith(
        f"  {DESK}: 2 alert(s) waiting (1 folded by storm control); next digest "
    )
    assert lines[0].endswith("times 08:00, 17:00 America/Caracas")
    assert lines[1].startswith(f"  {ED}: 0 alert(s) waiting; next digest ")
    assert lines[1].endswith("times 07:30 Europe/Madrid")
    # On the recipient's clock, then in UTC.
    assert re.search(r"next digest \S+ 07:30 CES?T \(\S+ 0[56]:30 UTC\);", lines[1]), lines
    report = json.loads(workdir.newswatch("status", "--json").stdout)
    desk, ed = report["digests"]
    assert (desk["recipient"], desk["waiting"], desk["storm"]) == (DESK, 2, 1)
    assert (ed["recipient"], ed["waiting"]) == (ED, 0)
    # The next digest: the next digest time in Caracas, or the end of the storm's hour if
    # that comes first (a few seconds of leeway: `status` reads the real clock).
    policy = RecipientPolicy("America/Caracas", parse_times("08:00,17:00"))
    expected = min(policy.next_slot(now), now + timedelta(hours=1))
    assert abs(datetime.fromisoformat(desk["next"]) - expected) < timedelta(seconds=30)
    assert desk["next_local"] == "now" or desk["next_local"].endswith(" -04")
    assert datetime.fromisoformat(ed["next"]) > now
    assert ed["next_local"].endswith((" CET", " CEST"))


def test_status_shows_a_utc_recipients_next_digest_once(workdir) -> None:
    """A recipient whose clock is UTC had the same time twice: "next digest 2026-12-07
    08:00 UTC (2026-12-07 08:00 UTC)" (one on another clock keeps both: above)."""
    workdir.write_config(alerts={"timezone": "UTC", "digest": "08:00"})
    added = workdir.newswatch("topics", "add", "Quakes", "earthquake", "--notify", DESK,
                              "--mode", "digest")
    assert added.returncode == 0, added.stderr
    lines = workdir.newswatch("status").stdout.split("\ndigests:\n", 1)[1].splitlines()
    assert re.fullmatch(rf"  {DESK}: 0 alert\(s\) waiting; next digest \d{{4}}-\d\d-\d\d "
                        r"08:00 UTC; times 08:00 UTC", lines[0]), lines


# -- end to end: `newswatch crawl` ------------------------------------------------------------


def test_crawl_sends_a_digest_when_it_is_due_once(site, mail, workdir) -> None:
    """As users run it: the first crawl holds the alert, a crawl after the digest time sends
    one digest listing the article, the next one sends nothing."""
    madrid = ZoneInfo("Europe/Madrid")
    # A digest time twelve hours away: none comes during the test, whatever the time of day.
    digest_time = f"{datetime.now(madrid) + timedelta(hours=12):%H:%M}"
    workdir.write_config(
        sources=[site.url("/feeds/world.rss")],
        topics=[{"name": "Harbour", "query": "harbour", "notify": [DESK], "mode": "digest"}],
        alerts={"timezone": "Europe/Madrid", "digest": digest_time},
        smtp=mail,
    )
    story = sample_story("harbour-dredging-plan", "Dredging plan approved", ["the harbour"])
    site.publish(story)

    first = workdir.newswatch("crawl")
    assert first.returncode == 0, first.stderr
    assert "1 new article(s)" in first.stdout
    assert "0 email(s) queued, 1 alert(s) held for digests" in first.stdout
    assert "digest(s) queued" not in first.stdout and "delivered 0 email(s)" in first.stdout
    with Store.open(workdir.database) as store:
        assert [i.recipient for i in store.waiting_digest()] == [DESK]
        handled = store.digest_handled()[DESK]  # the last digest time, some 12 hours ago
        assert timedelta(hours=11) < datetime.now(UTC) - handled < timedelta(hours=13)
        # As if that digest time had come after the alert was queued (the daemon was
        # stopped over it, say): the last one dealt with is the day before's, and the alert
        # was queued before that digest time.
        store.set_digest_handled(DESK, handled - timedelta(days=1))
        store.db.execute("UPDATE digest_queue SET queued = ?",
                         [to_iso(handled - timedelta(hours=1))])
        store.db.conn.commit()
    assert mail.messages == []

    second = workdir.newswatch("crawl")
    assert second.returncode == 0, second.stderr
    assert "0 new article(s)" in second.stdout
    assert "1 digest(s) queued" in second.stdout and "delivered 1 email(s)" in second.stdout
    [digest] = mail.wait_for(1)
    assert digest["To"] == DESK
    assert digest["Subject"] == "[newswatch] Digest — 1 story: Harbour"
    text, html = text_of(digest), html_of(digest)
    assert "1. Dredging plan approved" in text and site.article_url(story.slug) in text
    assert "*harbour*" in text and ">harbour</strong>" in html
    assert f"since {format_when(handled - timedelta(days=1), madrid)}." in flat(text)
    assert f"Digests come at {digest_time} Europe/Madrid." in text
    assert ">Harbour</h2>" in html and ">Dredging plan approved</a>" in html

    third = workdir.newswatch("crawl")
    assert third.returncode == 0, third.stderr
    assert "digest(s) queued" not in third.stdout and "delivered 0 email(s)" in third.stdout
    assert len(mail.messages) == 1
    with Store.open(workdir.database) as store:
        assert store.waiting_digest() == []
        assert store.digest_handled()[DESK] == handled


def test_a_crawl_after_the_clock_was_set_back_keeps_the_next_digest_time(site, workdir) -> None:
    """`newswatch crawl` from cron with the clock a day ahead, then the right time again:
    the digest time dealt with by the clock ahead was the next real one, which was skipped
    (that day's digest never came). As the daemon at its start, a crawl whose clock is
    behind the last poll the database holds makes what was due by the old clock due now."""
    import sqlite3

    # A digest time twelve hours away: none comes during the test, whatever the time of day.
    digest_time = f"{datetime.now(UTC) + timedelta(hours=12):%H:%M}"
    workdir.write_config(
        sources=[site.url("/feeds/world.rss")],
        topics=[{"name": "Harbour", "query": "harbour", "notify": [DESK], "mode": "digest"}],
        alerts={"digest": digest_time, "empty_digest": True},
    )
    assert workdir.newswatch("crawl").returncode == 0
    now = datetime.now(UTC)
    policy = RecipientPolicy("UTC", parse_times(digest_time), empty=True)
    ahead = now + timedelta(days=1)
    with sqlite3.connect(workdir.database) as db:  # as the clock a day ahead left them
        db.execute("UPDATE sources SET last_fetch = ?", [to_iso(ahead)])
        db.execute("UPDATE digest_slots SET handled = ?", [to_iso(policy.latest_slot(ahead))])
    crawled = workdir.newswatch("crawl")
    assert crawled.returncode == 0, crawled.stderr
    [digest] = json.loads(workdir.newswatch("status", "--json").stdout)["digests"]
    assert datetime.fromisoformat(digest["next"]) == policy.next_slot(now)
    with Store.open(workdir.database) as store:  # that time come: its digest goes
        assert pipeline(store, Clock(policy.next_slot(now)), policies(policy)).digests() == 1


def storage_item(recipient: str, topic_id: int, article_id: int, reason: str):
    from storage import DigestItem

    return DigestItem(recipient, topic_id, article_id, None, reason)


@pytest.mark.parametrize("name", ["America", "Europe", "Europe/" + "Berlin" * 60],
                         ids=["America", "Europe", "too-long"])
def test_a_region_alone_or_a_name_too_long_is_an_unknown_time_zone(workdir, name) -> None:
    """``timezone = "America"`` (a region without its city: a folder of the zone files) was
    "unexpected error: IsADirectoryError", exit code 1, which systemd restarts; a name too
    long for a file name, an OSError the same way. Both are config errors like any other."""
    workdir.write_config(alerts={"timezone": name},
                         topics=[{"name": "a", "query": "x", "notify": [DESK]}])
    result = workdir.newswatch("check")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"newswatch: {workdir.config}: alerts.timezone: unknown time zone {name!r} "
        '(use an IANA name such as "America/Caracas" or "UTC")']


def test_an_alert_for_a_source_that_lists_the_article_after_another_goes_in_the_digest(
    store: Store,
) -> None:
    """A section feed lists a story its site's main feed stored: its digest topics (limited
    to the section by their sources, or with source: in the query) queued it, and the digest
    matched it again without the section, dropped it, and never told the reader."""
    main, section = source(store, "Herald"), source(store, "Herald Politics")
    store.sync_topics([
        TopicSpec("Politics desk", "Maduro", compile_query("Maduro"), (DESK,),
                  sources=("Herald Politics",), mode="digest"),
        TopicSpec("Politics field", "Maduro source:Politics",
                  compile_query("Maduro source:Politics"), (DESK,), mode="digest"),
    ])
    story = article(store, main, "maduro", "Maduro meets the opposition",
                    "Maduro met the opposition in Caracas.", NOW - timedelta(minutes=5))
    clock = Clock(NOW)
    pipe = pipeline(store, clock, policies(RecipientPolicy("UTC", parse_times("08:00"))))
    assert pipe.match().queued == 0
    assert store.note_listed([story], section, NOW) == 1
    assert pipe.match().queued == 2
    clock.at(NOW + timedelta(days=1))
    assert pipe.digests() == 1
    [digest] = outbox(store)
    assert "Maduro meets the opposition" in digest["body_text"]
    assert "Politics desk" in digest["body_text"] and "Politics field" in digest["body_text"]
    assert store.waiting_digest() == []
