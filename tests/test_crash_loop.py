"""kill -9 at random points of the daemon's cycles, many times: after the last restart every
alert that should have been sent has been sent, each article in exactly one email."""

from __future__ import annotations

import random
import re
import signal
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from newssite import sample_story

#: Crawls here run with page worker processes, the default (tests/conftest.py: workdir).
pytestmark = pytest.mark.page_workers

ROUNDS = 6
_WORDS = ("quay", "crane", "tide", "ferry", "cargo", "pier", "berth", "pilot", "dredging",
          "container", "warehouse", "tugboat", "mooring", "lighthouse", "breakwater", "vessel",
          "schedule", "inspection", "budget", "contract", "workers", "morning", "evening",
          "visitors", "repairs", "channel", "storm", "permit", "survey", "report")


def distinct_prose(seed: int, paragraph: int) -> str:
    """A paragraph of plausible words that no other seed produces (for distinct stories)."""
    rng = random.Random(f"{seed}-{paragraph}")
    return " ".join(rng.choice(_WORDS) for _ in range(60)).capitalize() + "."


def alerted(messages: list[EmailMessage]) -> set[str]:
    """The story slugs that the received alert emails link to."""
    slugs: set[str] = set()
    for message in messages:
        text = message.get_body(preferencelist=("plain",)).get_content()
        slugs.update(re.findall(r"/articles/(harbour-story-number-\d+)", text))
    return slugs


def test_random_kills_lose_nothing_and_send_nothing_twice(site, mail, workdir, wait):
    rng = random.Random(20261125)
    workdir.write_config(
        sources=[{"url": site.url("/feeds/world.rss"), "every": "1s"}],
        topics=[{"name": "Harbour", "query": "harbour", "notify": ["desk@test.example"]}],
        smtp=mail,
    )
    slugs = []
    for round_ in range(ROUNDS):
        slug = f"harbour-story-number-{round_}"
        story = sample_story(slug, f"Harbour news {round_}", ["harbour"],
                             published=datetime.now(UTC) - timedelta(minutes=1))
        # sample_story's bodies share their filler prose, so they would be near-duplicates
        # of each other: one story, alerted once. Each round gets text of its own.
        story.body = [distinct_prose(round_, i) for i in range(3)] + story.body[:1]
        site.articles[slug] = story
        site.publish(story)
        slugs.append(slug)
        daemon = workdir.start_daemon()
        try:
            daemon.wait_for_log("daemon started")
            time.sleep(rng.uniform(0.0, 2.5))  # somewhere in a crawl, a match or a delivery
        finally:
            daemon.stop(signal.SIGKILL)

    daemon = workdir.start_daemon()
    try:
        # Before it says so, the daemon has no SIGTERM handler yet: stop() would kill it.
        daemon.wait_for_log("daemon started")
        # Every story stored and its alert sent: the articles a kill left unmatched are
        # matched when this daemon's first crawl ends.
        assert wait(lambda: alerted(mail.messages) == set(slugs)
                    and "0 pending" in workdir.newswatch("status").stdout
                    and workdir.newswatch("export").stdout.count("\n") == ROUNDS, 60)
    finally:
        assert daemon.stop() == 0, daemon.output()

    by_id = {m["Message-ID"]: m for m in mail.messages}
    per_article = Counter()
    for message in by_id.values():
        text = message.get_body(preferencelist=("plain",)).get_content()
        for slug in set(re.findall(r"/articles/(harbour-story-number-\d+)", text)):
            per_article[slug] += 1
    assert per_article == Counter({slug: 1 for slug in slugs}), per_article
    # A copy could only come from a kill between the server's acceptance and the "sent"
    # mark, and would carry the same Message-ID (README: "what survives a crash").
    assert len(mail.messages) - len(by_id) <= 1
