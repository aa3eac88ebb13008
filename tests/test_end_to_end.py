"""`newswatch crawl` against the local news site and a real SMTP server: the whole pipeline,
from feed to inbox, as a user runs it."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import time
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from mailserver import free_port
from newssite import _FILLER, CHROME_WORDS, STORIES_BY_SLUG, NewsSite, Story, sample_story

MADURO = {
    "name": "Maduro exit",
    "query": '"Nicolas Maduro" OR (Maduro AND Belarus)',
    "notify": ["desk@test.example"],
}
# Every word of this topic appears only in the chrome of the site's pages (navigation, most
# read, related stories, comments, footer) — never in the bodies published below.
CHROME_TRAP = {
    "name": "Chrome trap",
    "query": "Zelensky OR earthquake OR Belarus",
    "notify": ["trap@test.example"],
}


def fresh(slug: str, hours_ago: float = 1) -> Story:
    """A canned story, published recently (inside the look-back window)."""
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours_ago)
    return replace(STORIES_BY_SLUG[slug], published=when)


def parts(message: EmailMessage) -> tuple[str, str]:
    """The text and HTML alternatives of an alert."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def export(workdir) -> list[dict]:
    result = workdir.newswatch("export", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_crawl_delivers_one_alert_then_nothing_new(site, mail, workdir):
    site.publish(fresh("venezuela-opposition-leader"))
    site.publish(fresh("central-bank-holds-rates"))
    site.publish(fresh("city-late-winner"))
    workdir.write_config(
        sources=[site.url("/feeds/world.rss")], topics=[MADURO, CHROME_TRAP], smtp=mail
    )

    first = workdir.newswatch("crawl")
    assert first.returncode == 0, first.stderr
    assert "3 new article(s)" in first.stdout
    assert "delivered 1 email(s)" in first.stdout

    [message] = mail.wait_for(1)
    assert message["To"] == "desk@test.example"
    assert message["From"] == "newswatch <newswatch@test.example>"
    assert message["List-Id"] == "newswatch alerts <alerts.newswatch.test.example>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert "Maduro exit" in message["Subject"]
    assert message["Message-ID"]
    text, html = parts(message)
    story = STORIES_BY_SLUG["venezuela-opposition-leader"]
    canonical = site.article_url(story.slug)
    # The title, wrapped at 72 columns like the rest of the text.
    assert story.title in " ".join(text.replace("*", "").split()) and canonical in text
    assert "utm_" not in text
    assert "*Nicolás Maduro*" in text  # the matched words, highlighted in a snippet
    assert "Nicolás Maduro</strong>" in html and f'href="{canonical}"' in html
    # Chrome words in navigation, related links and comments trigger nothing.
    assert [e[1] for e in mail.envelopes] == [["desk@test.example"]]

    second = workdir.newswatch("crawl")
    assert second.returncode == 0, second.stderr
    assert "0 new article(s)" in second.stdout
    assert "delivered 0 email(s)" in second.stdout
    assert len(mail.messages) == 1
    # The second poll was a conditional GET answered 304.
    polls = site.requests_for("/feeds/world.rss")
    assert polls[-1].status == 304
    assert polls[-1].headers.get("If-None-Match")

    articles = {a["url"]: a for a in export(workdir)}
    assert len(articles) == 3
    for slug in ("venezuela-opposition-leader", "central-bank-holds-rates", "city-late-winner"):
        article = articles[site.article_url(slug)]
        assert article["extraction"] == "page:fast"
        for paragraph in STORIES_BY_SLUG[slug].body[:2]:
            assert paragraph[:60] in article["text"]
        for word in CHROME_WORDS:
            if word not in " ".join(STORIES_BY_SLUG[slug].body):
                assert word not in article["text"], (slug, word)
    assert articles[canonical]["topics"] == ["Maduro exit"]
    assert articles[site.article_url("city-late-winner")]["topics"] == []


def test_accents_and_spanish_article(site, mail, workdir):
    site.publish(fresh("maduro-abandona-venezuela"))
    topic = {"name": "Maduro", "query": "nicolas maduro", "notify": ["es@test.example"]}
    workdir.write_config(sources=[site.url("/feeds/world.atom")], topics=[topic], smtp=mail)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    [message] = mail.wait_for(1)
    text, _ = parts(message)
    assert "abandonó" in text


def test_same_article_in_two_feeds_is_stored_and_alerted_once(site, mail, workdir):
    story = fresh("venezuela-opposition-leader")
    site.create_feed("americas")
    site.publish(story, feed="world")
    site.publish(story, feed="americas")
    workdir.write_config(
        sources=[site.url("/feeds/world.rss"), site.url("/feeds/americas.atom")],
        topics=[MADURO], smtp=mail,
    )
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "1 new article(s)" in result.stdout
    assert len(export(workdir)) == 1
    mail.wait_for(1)
    assert len(site.requests_for(f"/articles/{story.slug}")) == 1
    assert len(mail.messages) == 1


def test_several_matches_make_one_email_per_recipient(site, mail, workdir):
    site.publish(fresh("venezuela-opposition-leader", 2))
    site.publish(fresh("maduro-abandona-venezuela", 1))
    site.publish(fresh("zelensky-grain-corridor", 3))
    topics = [
        MADURO,
        {"name": "Ukraine", "query": "Zelensky", "notify": ["desk@test.example", "kyiv@test.example"]},
    ]
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=topics, smtp=mail)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    messages = mail.wait_for(2)
    by_rcpt = {m["To"]: m for m in messages}
    assert set(by_rcpt) == {"desk@test.example", "kyiv@test.example"}
    desk = by_rcpt["desk@test.example"]
    assert "3 stories" in desk["Subject"]
    assert "Maduro exit" in desk["Subject"] and "Ukraine" in desk["Subject"]
    text, _ = parts(desk)
    # Newest first.
    assert text.index("abandonó") < text.index("Venezuelan opposition") < text.index("grain")
    assert "Ukraine" in by_rcpt["kyiv@test.example"]["Subject"]
    assert len(mail.messages) == 2


def test_one_address_in_two_spellings_gets_one_email(site, mail, workdir):
    # Addresses are compared without case (as [[recipients]] are): a reader written
    # "Desk@Test.example" on one topic and "desk@test.example" on another, or twice on one,
    # is one reader, with one email for an article both topics match.
    site.publish(fresh("venezuela-opposition-leader"))
    topics = [
        {**MADURO, "notify": ["Desk@Test.example", "desk@test.example"]},
        {"name": "Caracas", "query": "Venezuelan", "notify": ["DESK@test.EXAMPLE"]},
    ]
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=topics, smtp=mail)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    (message,) = mail.wait_for(1)
    assert message["To"] == "desk@test.example"
    assert "Maduro exit" in message["Subject"] and "Caracas" in message["Subject"]
    assert len(mail.messages) == 1


def test_old_articles_are_stored_but_not_alerted(site, mail, workdir):
    site.publish(fresh("venezuela-opposition-leader", hours_ago=24 * 5))
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[MADURO], smtp=mail)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "1 match(es), 0 email(s) queued" in result.stdout
    assert mail.messages == []
    status = workdir.newswatch("status").stdout
    assert "Maduro exit: 1 match(es), 0 alerted" in status
    assert export(workdir)[0]["topics"] == ["Maduro exit"]


def test_failing_sources_are_reported_and_the_rest_still_works(site, mail, workdir):
    site.publish(fresh("venezuela-opposition-leader"))
    dead = f"http://127.0.0.1:{free_port()}/feed.xml"
    workdir.write_config(
        sources=[site.url("/feeds/world.rss"), site.url("/status/404"), dead,
                 site.url("/notafeed")],
        topics=[MADURO], smtp=mail,
    )
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "4 source(s): 1 ok, 3 failed" in result.stdout
    assert f"failed: {site.url('/status/404')}: HTTP 404" in result.stdout
    assert f"failed: {dead}: " in result.stdout and "refused" in result.stdout
    assert (f"failed: {site.url('/notafeed')}: no feed, sitemap or article links found"
            in result.stdout)
    assert "Traceback" not in result.stderr
    mail.wait_for(1)
    status = workdir.newswatch("status")
    assert status.returncode == 0
    assert "FAILING (1 in a row since " in status.stdout
    assert "last error: HTTP 404" in status.stdout


def test_broken_feed_and_unfetchable_page_keep_their_entries(site, mail, workdir):
    site.set_status("/articles/central-bank-holds-rates", 404)
    workdir.write_config(sources=[site.url("/feeds/broken.rss")], topics=[MADURO], smtp=mail)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "1 new article(s)" in result.stdout  # the page answering 404 is asked again
    result = workdir.newswatch("crawl")
    assert "1 new article(s)" in result.stdout
    rows = {r["url"]: r for r in export(workdir)}
    bank = rows[site.article_url("central-bank-holds-rates")]
    assert bank["extraction"] == "feed"
    assert bank["extraction_note"] == "page answered HTTP 404 (after 2 attempts)"
    assert bank["text"]  # the feed's own summary
    venezuela = rows[site.article_url("venezuela-opposition-leader")]
    assert venezuela["extraction"] == "page:fast"


def test_smtp_down_then_back_delivers_exactly_once(site, mail, workdir, wait):
    site.publish(fresh("venezuela-opposition-leader"))
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[MADURO], smtp=mail)
    mail.stop()
    down = workdir.newswatch("crawl")
    assert down.returncode == 3
    [line] = down.stderr.strip().splitlines()[-1:]
    assert line.startswith("newswatch: alerts not delivered")
    assert f"127.0.0.1:{mail.port}" in line
    assert "Traceback" not in down.stderr
    status = workdir.newswatch("status", NW_PW="x").stdout
    assert "alerts: 1 pending, 0 sent" in status
    assert re.search(r"\(pending, 1 attempt\(s\), next \S+ \S+ UTC\): ", status), status

    mail.start()
    # The retry is scheduled with back-off (retry_base = 1s in tests): wait until it is due.
    delivered = wait(lambda: "delivered 1 email(s)" in workdir.newswatch("crawl").stdout, 20, 0.5)
    assert delivered
    mail.wait_for(1)
    again = workdir.newswatch("crawl")
    assert again.returncode == 0
    assert len(mail.messages) == 1
    assert "alerts: 0 pending, 1 sent, 0 failed" in workdir.newswatch("status").stdout


def test_a_sent_mark_left_in_the_journal_is_written_and_not_sent_again(site, mail, workdir):
    """A crawl whose alert the mail server accepted died before the database had the mark:
    the next crawl writes the mark from the sent journal (newswatch.sent/, beside the
    database) before it sends anything, and the alert does not go out again."""
    import sqlite3

    from storage.journal import SentJournal, SentMark

    site.publish(fresh("venezuela-opposition-leader"))
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[MADURO], smtp=mail)
    mail.stop()
    assert workdir.newswatch("crawl").returncode == 3  # the alert waits in the outbox
    with sqlite3.connect(workdir.database) as db:
        [(row_id, message_id)] = db.execute("SELECT id, message_id FROM outbox").fetchall()
    journal = workdir.database.with_suffix(".sent")
    dead = SentJournal(journal)
    dead.record(SentMark(row_id, message_id, datetime.now(UTC)))
    os.close(dead._fd)  # its process killed before the database's commit
    mail.start()

    result = workdir.newswatch("crawl")

    assert result.returncode == 0, result.stderr
    assert "delivered 0 email(s)" in result.stdout
    assert "alerts: 0 pending, 1 sent, 0 failed" in workdir.newswatch("status").stdout
    assert mail.messages == []
    assert list(journal.iterdir()) == []


def test_default_install_writes_alerts_to_a_local_mbox(site, workdir):
    import mailbox

    site.publish(fresh("venezuela-opposition-leader"))
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[MADURO])
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    box = mailbox.mbox(workdir.path / "newswatch.mbox")
    try:
        [message] = list(box)
    finally:
        box.close()
    assert "Maduro exit" in message["Subject"]
    assert message["To"] == "desk@test.example"


def test_chrome_only_mentions_never_alert(site, mail, workdir):
    # A story whose body is neutral: every watch word is only in the page chrome.
    site.publish(sample_story("council-budget", "Council approves the harbour budget"))
    workdir.write_config(
        sources=[site.url("/feeds/world.rss")], topics=[MADURO, CHROME_TRAP], smtp=mail
    )
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "1 new article(s)" in result.stdout
    assert "0 match(es)" in result.stdout
    assert mail.messages == []


def test_oversized_slow_and_redirected_feeds(site, mail, workdir):
    site.publish(fresh("venezuela-opposition-leader"))
    workdir.write_config(
        sources=[site.url("/big"), site.url("/slow?seconds=4"),
                 site.url("/redirect?to=/feeds/world.rss")],
        topics=[MADURO], smtp=mail, crawl={"max_size": "1MB", "timeout": "1s"},
    )
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "3 source(s): 1 ok, 2 failed" in result.stdout
    assert "is larger than crawl.max_size (1,000,000 bytes)" in result.stdout
    assert "no full answer within crawl.timeout (1s)" in result.stdout
    mail.wait_for(1)
    assert result.stderr == ""


@pytest.mark.parametrize("status", [503, 520, 522, 524, 507, 425, "loop"])
def test_page_unavailable_for_now_is_retried_at_the_next_poll(site, mail, workdir, status):
    """Any 5xx (Cloudflare's 520-524 among them, which Scrapy hands to the errback, not to
    the callback), 408, 425, 429 and a redirect loop may pass: the page is tried again at
    the next poll. Before, the errback took every such failure for a robots.txt refusal and
    kept the feed's summary at once."""
    story = fresh("venezuela-opposition-leader")
    site.publish(story)
    page = f"/articles/{story.slug}"
    if status == "loop":
        site.set_status(page, 302, {"Location": site.url(page)})
    else:
        site.set_status(page, status)
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[MADURO], smtp=mail)
    first = workdir.newswatch("crawl")
    assert first.returncode == 0, first.stderr
    assert "0 new article(s)" in first.stdout  # not stored with a summary: it waits
    # ... and says so (before: "1 ok", nothing more, and status said "articles 0").
    assert "1 page(s) unavailable for now" in first.stdout
    assert "1 page(s) unavailable for now, requested again" in workdir.newswatch(
        "status").stdout
    site.clear_status(page)
    second = workdir.newswatch("crawl")
    assert "1 new article(s)" in second.stdout and "unavailable for now" not in second.stdout
    assert "unavailable for now" not in workdir.newswatch("status").stdout
    # The feed was read in full again (no validators saved while an entry was pending).
    assert site.requests_for("/feeds/world.rss")[1].status == 200
    [row] = export(workdir)
    assert row["extraction"] == "page:fast"
    mail.wait_for(1)


def test_page_unavailable_for_now_is_retried_after_the_feed_drops_it(site, mail, workdir):
    """A busy feed keeps only its last items: an entry whose page was unavailable may be gone
    from the feed at the next poll. Its page is requested all the same (before, nothing
    requested it again: the article was lost, its deferred row left behind)."""
    story = fresh("venezuela-opposition-leader")
    site.publish(story)
    page = f"/articles/{story.slug}"
    site.set_status(page, 503)
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[MADURO], smtp=mail)
    first = workdir.newswatch("crawl")
    assert first.returncode == 0, first.stderr
    assert "0 new article(s)" in first.stdout
    site.retract(story.slug)
    site.publish(fresh("harbour-wind-farm-approved", 0.5))
    site.clear_status(page)
    second = workdir.newswatch("crawl")
    assert "2 new article(s)" in second.stdout
    assert len(site.requests_for(page)) == 2
    rows = {row["url"]: row for row in export(workdir)}
    assert rows[site.article_url(story.slug)]["extraction"] == "page:fast"
    mail.wait_for(1)


def test_page_that_stays_unavailable_after_the_feed_drops_it(site, mail, workdir):
    """An entry the feed no longer lists whose page keeps failing is kept with the feed's
    summary after MAX_PAGE_ATTEMPTS polls, as a listed one; until then each poll reads the
    feed in full (no validators saved while its page is pending)."""
    story = fresh("venezuela-opposition-leader")
    site.publish(story)
    site.set_status(f"/articles/{story.slug}", 500)
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[MADURO], smtp=mail)
    first = workdir.newswatch("crawl")
    assert "0 new article(s)" in first.stdout
    site.retract(story.slug)
    outputs = [workdir.newswatch("crawl").stdout for _ in range(2)]
    assert ["1 new article(s)" in out for out in outputs] == [False, True]
    assert [r.status for r in site.requests_for("/feeds/world.rss")] == [200, 200, 200]
    [row] = export(workdir)
    assert row["url"] == site.article_url(story.slug)
    assert row["extraction"] == "feed"
    assert row["extraction_note"] == "page answered HTTP 500 (after 3 attempts)"
    assert row["title"] == story.title
    assert row["published"] is not None
    mail.wait_for(1)
    # Settled: the next poll sends the feed's validators again and requests no page.
    workdir.newswatch("crawl")
    assert site.requests_for("/feeds/world.rss")[-1].status == 304
    assert len(site.requests_for(f"/articles/{story.slug}")) == 3


def test_a_page_not_there_yet_when_its_entry_comes_is_read_at_the_next_poll(site, mail,
                                                                          workdir):
    """A feed often comes before its pages (a CMS, a CDN): the page answered 404 at the
    first poll, the entry was kept with the feed's summary for good, and a topic only the
    page's text matches never alerted. A new entry's 404 is asked again at the next poll;
    one still 404 is kept with the summary then."""
    story = fresh("venezuela-opposition-leader")
    body_only = {"name": "Rally", "query": '"roof of a car"', "notify": ["desk@test.example"]}
    assert "roof of a car" not in f"{story.title} {story.summary}"
    site.publish(story)
    site.set_status(f"/articles/{story.slug}", 404)
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[body_only],
                         smtp=mail)
    assert "0 new article(s)" in workdir.newswatch("crawl").stdout
    site.set_status(f"/articles/{story.slug}", None)
    out = workdir.newswatch("crawl").stdout
    assert "1 new article(s)" in out and "1 email(s) queued" in out, out
    [row] = export(workdir)
    assert row["extraction"].startswith("page")
    mail.wait_for(1)
    # A page that is not there at the second poll either: the summary, then.
    other = fresh("harbour-wind-farm-approved")
    site.publish(other)
    site.set_status(f"/articles/{other.slug}", 404)
    outputs = [workdir.newswatch("crawl").stdout for _ in range(2)]
    assert ["1 new article(s)" in out for out in outputs] == [False, True]
    assert {row["extraction"] for row in export(workdir)
            if row["url"] == site.article_url(other.slug)} == {"feed"}


def test_page_that_stays_unavailable_falls_back_to_the_summary(site, mail, workdir):
    story = fresh("venezuela-opposition-leader")
    site.publish(story)
    site.set_status(f"/articles/{story.slug}", 500)
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[MADURO], smtp=mail)
    outputs = [workdir.newswatch("crawl").stdout for _ in range(3)]
    assert ["1 new article(s)" in out for out in outputs] == [False, False, True]
    [row] = export(workdir)
    assert row["extraction"] == "feed"
    assert row["extraction_note"] == "page answered HTTP 500 (after 3 attempts)"
    mail.wait_for(1)


def test_an_interrupted_crawl_stops_soon_says_so_and_loses_nothing(site, mail, workdir, wait):
    # Ctrl-C (SIGINT) or SIGTERM while a page hangs: `crawl` waited for the request's timeout
    # (30 s), then said "1 ok" and exited 0. It now stops within its grace period, exits 130
    # (143 for SIGTERM), and the source whose page hung is polled whole at the next run.
    from conftest import newswatch_process, subprocess_env

    site.publish(fresh("venezuela-opposition-leader"))
    page = urlsplit(site.article_url("venezuela-opposition-leader")).path
    gate = site.hold(page)
    workdir.write_config(
        sources=[site.url("/feeds/world.rss")], topics=[MADURO], smtp=mail,
        crawl={"timeout": "60s"},
    )
    log = workdir.path / "crawl.log"
    proc = newswatch_process(["--config", str(workdir.config), "crawl"], workdir.path,
                             subprocess_env(), log, log)
    try:
        assert wait(lambda: site.held == [page], 30), log.read_text()
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130, log.read_text()
        assert time.monotonic() - started < 20
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out = log.read_text()
    assert "interrupted" in out and "Traceback" not in out, out
    assert mail.messages == []
    gate.set()
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "1 new article(s)" in result.stdout
    assert len(mail.wait_for(1)) == 1


def test_ctrl_c_again_on_crawl_says_what_the_stop_waits_for(site, mail, workdir, wait):
    # Ctrl-C pressed again while `crawl` stopped was ignored without a word, for as long as
    # a mail server took to answer a message it had whole (up to 10 minutes): the stop
    # waits for that answer, or the message would go again. Each signal is now said on
    # standard error, the second with what the stop waits for; the message goes once.
    from conftest import newswatch_process, subprocess_env

    site.publish(fresh("venezuela-opposition-leader"))
    workdir.write_config(
        sources=[site.url("/feeds/world.rss")], topics=[MADURO],
        smtp={"host": mail.host, "port": mail.port, "from": "newswatch@test.example",
              "timeout": "10m"},
    )
    mail.stall = "DATA"  # the message's end sent, its answer held
    log = workdir.path / "crawl.log"
    proc = newswatch_process(["--config", str(workdir.config), "crawl"], workdir.path,
                             subprocess_env(), log, log)
    try:
        assert mail.stalled.wait(60), log.read_text()
        proc.send_signal(signal.SIGINT)
        assert wait(lambda: "received SIGINT, stopping" in log.read_text(), 30), \
            log.read_text()
        proc.send_signal(signal.SIGINT)
        assert wait(lambda: "again: still stopping" in log.read_text(), 30), log.read_text()
        assert proc.poll() is None  # still waiting for the answer
        mail.release.set()
        assert proc.wait(timeout=60) == 130, log.read_text()
    finally:
        mail.release.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out = log.read_text()
    assert (f"newswatch: received SIGINT again: still stopping, waiting for the answer of "
            f"SMTP {mail.host}:{mail.port} to a message it has whole (up to 600 s)") in out, out
    assert "Traceback" not in out, out
    assert len(mail.messages) == 1
    mail.stall = None
    again = workdir.newswatch("crawl")
    assert again.returncode == 0, again.stderr
    assert len(mail.messages) == 1  # marked sent: not sent again


def test_a_refused_smtp_login_fails_crawl_as_a_config_error(site, workdir):
    # `run` refuses to start on it (exit 2); `crawl` said "retried on the next run" (exit 3),
    # which no later run would do better. It crawls, keeps the alert queued, and says why.
    from mailserver import MailServer

    site.publish(fresh("venezuela-opposition-leader"))
    with MailServer(auth=("newswatch", "right")) as server:
        workdir.write_config(
            sources=[site.url("/feeds/world.rss")], topics=[MADURO],
            smtp={"host": server.host, "port": server.port, "username": "newswatch",
                  "password_env": "NW_PW", "timeout": "5s"},
        )
        refused = workdir.newswatch("crawl", NW_PW="wrong")
        assert refused.returncode == 2, refused.stderr
        assert "1 new article(s)" in refused.stdout
        [line] = refused.stderr.strip().splitlines()
        assert line.startswith("newswatch: smtp: ") and "login failed for newswatch" in line
        assert server.messages == []
    assert "alerts: 1 pending, 0 sent" in workdir.newswatch("status", NW_PW="x").stdout


def test_status_shows_no_next_attempt_for_a_message_refused_for_good(site, mail, workdir):
    # "(failed, 1 attempt(s), next 00:53:54)": a time that never comes (a review).
    site.publish(fresh("venezuela-opposition-leader"))
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[MADURO], smtp=mail)
    mail.reject = "550 5.1.1 Mailbox unavailable"
    crawl = workdir.newswatch("crawl")
    # It said "they stay queued and are retried on the next run" (a review).
    assert crawl.returncode == 3
    [line] = crawl.stderr.strip().splitlines()[-1:]
    assert line.endswith("); 1 failed for good (`newswatch status` lists them)"), line
    status = workdir.newswatch("status").stdout
    assert "alerts: 0 pending, 0 sent, 1 failed" in status
    assert re.search(r"\(failed, 1 attempt\(s\)\): ", status), status
    # And what to do once the cause is mended (status did not say, a review).
    assert "once what refused them is mended, `newswatch resend` queues them again" in status
    # The mail server mended: `resend` queues it again (nothing could, before: a review).
    mail.reject = None
    resend = workdir.newswatch("resend")
    assert resend.returncode == 0 and resend.stdout.startswith(
        "queued again 1 alert(s) that had failed, made since "), resend.stdout
    assert "delivered 1 email(s)" in workdir.newswatch("crawl").stdout
    mail.wait_for(1)
    status = workdir.newswatch("status").stdout
    assert "alerts: 0 pending, 1 sent, 0 failed" in status and "resend" not in status
    assert workdir.newswatch("resend").stdout.startswith("queued again 0 alert(s)")


def test_crawl_says_the_alerts_queued_for_a_later_attempt(site, mail, workdir):
    # The next `crawl` said "delivered 0 email(s)" and exited 0: the alert that had found
    # the mail server's port closed waited for its retry, and nothing said so.
    site.publish(fresh("venezuela-opposition-leader"))
    later = {"retry_base": "1h", "retry_max": "1h"}
    closed = {"host": "127.0.0.1", "port": free_port(), "timeout": "5s"}
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[MADURO], alerts=later,
                         smtp=closed)
    assert workdir.newswatch("crawl").returncode == 3
    crawl = workdir.newswatch("crawl")
    assert crawl.returncode == 0, crawl.stderr
    assert (f"delivered 0 email(s) via SMTP 127.0.0.1:{closed['port']}; 1 more queued for "
            "later (`newswatch status` says when)\n") in crawl.stdout, crawl.stdout


def test_mended_mail_settings_send_the_alert_waiting_for_its_retry_at_once(site, mail, workdir):
    """The mail server's port mended in the config file, the alert that had found the old
    port closed waited out its back-off (up to alerts.retry_max) all the same: a mail
    client retries when its account is fixed. Sent once: a later run sends nothing."""
    site.publish(fresh("venezuela-opposition-leader"))
    later = {"retry_base": "1h", "retry_max": "1h"}
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[MADURO], alerts=later,
                         smtp={"host": "127.0.0.1", "port": free_port(), "timeout": "5s"})
    assert workdir.newswatch("crawl").returncode == 3
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[MADURO], alerts=later,
                         smtp=mail)
    crawl = workdir.newswatch("crawl")
    assert crawl.returncode == 0, crawl.stderr
    assert f"delivered 1 email(s) via SMTP {mail.host}:{mail.port}\n" in crawl.stdout, \
        crawl.stdout
    [message] = mail.messages
    assert "Maduro exit" in message["Subject"]
    again = workdir.newswatch("crawl")
    assert again.returncode == 0, again.stderr
    assert len(mail.messages) == 1


def test_every_command_writes_times_one_way(site, mail, workdir):
    """`status`, `sources list`, `search` and `stories` write a time as '2026-12-06 04:45
    UTC' (they wrote ISO 8601, or a time without its zone): a reader compares them at a
    glance. JSON keeps ISO 8601."""
    site.publish(fresh("venezuela-opposition-leader"))
    dead = f"http://127.0.0.1:{free_port()}/feed.xml"
    workdir.write_config(sources=[site.url("/feeds/world.rss"), dead], topics=[MADURO],
                         smtp=mail)
    assert workdir.newswatch("crawl").returncode == 0
    mail.wait_for(1)
    shown = re.compile(r"\b\d{4}-\d\d-\d\d \d\d:\d\d UTC\b")
    other = re.compile(r"\d{4}-\d\d-\d\dT|\d\d:\d\d:\d\d|\d\d:\d\d(?! UTC)")
    outputs = {}
    for command in (("status",), ("sources", "list"), ("search", "Maduro"), ("stories",)):
        result = workdir.newswatch(*command)
        assert result.returncode == 0, result.stderr
        outputs[command[0]] = result.stdout
        assert shown.search(result.stdout), result.stdout
        assert not other.search(result.stdout), result.stdout
    # Each kind of time is there: a poll, a success, a failure's start, a match, a story.
    assert re.search(r"last poll \S+ \S+ UTC \(HTTP 200\); last success \S+ \S+ UTC",
                     outputs["status"])
    assert re.search(r"FAILING \(1 in a row since \S+ \S+ UTC\)", outputs["status"])
    assert re.search(r"Maduro exit: 1 match\(es\), 1 alerted; last \S+ \S+ UTC",
                     outputs["status"])
    assert re.search(r"started \S+ \S+ UTC", outputs["stories"])
    report = json.loads(workdir.newswatch("status", "--json").stdout)
    assert all("T" in s["last_fetch"] for s in report["sources"])


def test_control_characters_in_a_feed_reach_neither_storage_nor_screen(site, mail, workdir,
                                                                       store_location):
    """A feed's plain-text title, author and summary holding a NUL, an escape sequence or a
    line break: PostgreSQL refused the NUL, and the whole poll was never recorded (none of
    the feed's articles stored, at any poll); SQLite kept them, and `stories` wrote the
    escape sequence to the terminal. Each article is stored and alerted once, on one line."""
    if isinstance(store_location, str):  # on PostgreSQL too
        workdir.database_url = store_location
    now = datetime.now(UTC) - timedelta(hours=1)
    site.publish(sample_story("quokka-zoo", "Quokka zoo", ["quokka"], published=now))
    pub = now.strftime("%a, %d %b %Y %H:%M:%S +0000")
    feed = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Coast\x00 news</title><link>{site.url('/')}</link>"
            f"<item><title>Quokka\x00 sighting \x1b[2J\x07on the coast</title><guid>q1</guid>"
            f"<description>A quokka\x00 was seen\x01 on the beach.</description>"
            f"<author>desk\x00@coast.example</author><pubDate>{pub}</pubDate></item>"
            f"<item><title>Quokka zoo\r\nBcc: someone@test.example</title>"
            f"<link>{site.article_url('quokka-zoo')}</link><pubDate>{pub}</pubDate></item>"
            "</channel></rss>")
    url = site.serve("/coast.rss", feed.encode())
    topic = {"name": "Quokkas", "query": "quokka", "notify": ["desk@test.example"]}
    workdir.write_config(sources=[url], topics=[topic], smtp=mail)

    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "1 ok, 0 failed; 2 new article(s)" in result.stdout, result.stdout + result.stderr
    [message] = mail.wait_for(1)
    assert message["Bcc"] is None
    text = " ".join(parts(message)[0].replace("*", "").split())
    assert "Quokka sighting [2Jon the coast" in text and "Quokka zoo Bcc:" in text, text
    rows = {row["title"]: row for row in export(workdir)}
    assert set(rows) == {"Quokka sighting [2Jon the coast",
                         "Quokka zoo Bcc: someone@test.example"}, list(rows)
    assert rows["Quokka sighting [2Jon the coast"]["author"] == "desk@coast.example"
    assert "A quokka was seen on the beach." in rows["Quokka sighting [2Jon the coast"]["text"]
    shown = workdir.newswatch("stories").stdout
    assert "Quokka sighting [2Jon the coast" in shown, shown
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", shown), repr(shown)

    again = workdir.newswatch("crawl")
    assert "0 new article(s)" in again.stdout, again.stdout + again.stderr
    time.sleep(0.5)
    assert len(mail.messages) == 1


def test_a_nul_in_a_feeds_etag_does_not_stop_its_polls_being_recorded(site, workdir,
                                                                      store_location):
    """A server's ETag holding a NUL: PostgreSQL cannot hold it, and every poll of the feed
    was unrecorded (its articles never stored, "polled again at the next run" for ever)."""
    if isinstance(store_location, str):
        workdir.database_url = store_location
    site.publish(fresh("city-late-winner"))
    feed = site.render_feed("world", "rss")
    assert feed is not None
    url = site.serve("/etag.rss", feed, headers={"ETag": '"v1\x00"'})
    workdir.write_config(sources=[url])
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "1 ok, 0 failed; 1 new article(s)" in result.stdout, result.stdout + result.stderr
    again = workdir.newswatch("crawl")
    assert "1 ok, 0 failed; 0 new article(s)" in again.stdout, again.stdout + again.stderr
    assert [row["title"] for row in export(workdir)] == [STORIES_BY_SLUG["city-late-winner"].title]


def test_a_feed_in_utf16_without_a_byte_order_mark_is_read(site, workdir):
    """UTF-16 that its Content-Type names (``charset=utf-16be``) and no byte order mark
    marks: the feed was "not a feed, sitemap or web page", its articles never read."""
    site.publish(fresh("city-late-winner"))
    feed = site.render_feed("world", "rss")
    assert feed is not None
    feed = feed.decode().replace('encoding="utf-8"', 'encoding="utf-16be"')
    url = site.serve("/utf16.rss", feed.encode("utf-16-be"),
                     content_type="application/rss+xml; charset=utf-16be")
    workdir.write_config(sources=[url])
    result = workdir.newswatch("crawl")
    assert "1 ok, 0 failed; 1 new article(s)" in result.stdout, result.stdout + result.stderr
    assert [row["title"] for row in export(workdir)] == [STORIES_BY_SLUG["city-late-winner"].title]


def test_a_page_in_windows_1252_that_says_it_is_utf8_is_read_as_written(site, mail, workdir):
    """An old CMS's page: windows-1252 bytes under ``<meta charset="utf-8">``. Read as
    UTF-8, every accented letter and curly quote was a U+FFFD, and a topic on "café"
    never matched its text."""
    body = "".join(
        f"<p>Le café «Quokka» de la rue {n} était très apprécié des habitants du quartier, "
        "qui s’y retrouvaient chaque matin avant le travail pour lire le journal.</p>"
        for n in range(1, 6))
    page = (f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
            f"<title>Fermeture du café</title></head><body><article>"
            f"<h1>Fermeture du café</h1>{body}</article></body></html>")
    link = site.serve("/cafe.html", page.encode("cp1252"), content_type="text/html")
    pub = (datetime.now(UTC) - timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    feed = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Q'
            f"</title><item><title>Fermeture</title><link>{link}</link>"
            f"<pubDate>{pub}</pubDate></item></channel></rss>")
    url = site.serve("/cafe.rss", feed.encode())
    topic = {"name": "Cafés", "query": '"café Quokka"', "notify": ["desk@test.example"]}
    workdir.write_config(sources=[url], topics=[topic], smtp=mail)
    result = workdir.newswatch("crawl")
    assert "1 new article(s)" in result.stdout, result.stdout + result.stderr
    [row] = export(workdir)
    assert "Le café «Quokka» de la rue 1 était très apprécié" in row["text"], row["text"]
    assert "\ufffd" not in row["text"]
    [message] = mail.wait_for(1)
    assert "Cafés" in message["Subject"]



def test_an_old_page_that_declares_no_encoding_is_read_as_a_browser_reads_it(site, mail, workdir):
    """A 2000s page of windows-1252 bytes whose server and markup declare no charset, as a
    quarter of CleanEval's and Dragnet's non-UTF-8 pages: Scrapy's detector chose among
    all the code pages it knows (Baltic, DOS Central European), "première" was stored as
    "premičre", and a topic on the word never matched. Such a page is read as browsers
    read it, in windows-1252 unless another web encoding reads it better: an undeclared
    windows-1251 page stays Russian."""
    english = [f"The council’s budget committee met on Tuesday – the {n}th meeting this year – "
               "to weigh the £4m harbour plan… Members said the town’s ferry link would stay open."
               for n in range(10)]
    english.insert(5, "Tickets for the première of the harbour pageant at the Café Royal sold out "
                      "within the hour.")
    russian = ["Городской совет обсудил план реконструкции порта и пообещал сохранить "
               f"паромную переправу зимой, сообщил депутат на заседании номер {n}." for n in range(6)]
    pub = (datetime.now(UTC) - timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    items = ""
    for path, title, paragraphs, codec in (("/harbour.htm", "Harbour plan", english, "cp1252"),
                                           ("/port.htm", "Port", russian, "cp1251")):
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        link = site.serve(path, (
            f'<html><head><title>{title}</title></head><body><table width="600"><tr><td>'
            f'<font size="2">{body}</font></td></tr></table></body></html>').encode(codec),
            content_type="text/html")
        items += f"<item><title>{title}</title><link>{link}</link><pubDate>{pub}</pubDate></item>"
    url = site.serve("/old.rss", (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0">'
                                  f"<channel><title>Old</title>{items}</channel></rss>").encode())
    topics = [{"name": "Pageant", "query": '"première of the harbour pageant"',
               "notify": ["desk@test.example"]},
              {"name": "Ferry", "query": '"паромную переправу"', "notify": ["desk@test.example"]}]
    workdir.write_config(sources=[url], topics=topics, smtp=mail)
    result = workdir.newswatch("crawl")
    assert "2 new article(s)" in result.stdout, result.stdout + result.stderr
    texts = {row["title"]: row["text"] for row in export(workdir)}
    assert "the première of the harbour pageant at the Café Royal" in texts["Harbour plan"]
    assert "the council’s budget committee" in texts["Harbour plan"].lower()
    assert russian[0] in texts["Port"]
    [message] = mail.wait_for(1)
    assert "Pageant" in message["Subject"] and "Ferry" in message["Subject"]


def test_an_old_turkish_page_that_declares_no_encoding_is_read_in_turkish(site, mail, workdir):
    """A 2000s Turkish regional site's page: windows-1254 bytes, no charset from its server
    nor its markup. windows-1252 reads it with no more mess ("Erdoðan", "Ýstanbul"), and the
    detector's letter frequencies chose windows-1257: "Erdoğan" was stored as "Erdošan",
    "İstanbul" as "Żstanbul", and no topic in Turkish matched. Its letters only
    Turkish writes (ş ğ, the dotless i: Icelandic ð þ ý in windows-1252, among no other
    letter Turkish does not write) tell it."""
    paragraphs = [
        f"Cumhurbaşkanı Erdoğan, İstanbul'daki kongrede {n}. gün belediye başkanlarıyla bir "
        "araya geldi ve şehrin ulaşım projelerini değerlendirdi. Toplantıda Boğaz köprüsünün "
        "bakım çalışmaları ile yeni metro hattının açılış tarihi de görüşüldü."
        for n in range(1, 7)]
    topic = {"name": "Erdoğan", "query": '"Erdoğan" "İstanbul"', "notify": ["desk@test.example"]}
    subject = crawl_an_undeclared_page(site, mail, workdir, "Erdoğan İstanbul'da", paragraphs,
                                       "cp1254", topic)
    assert "Erdoğan" in subject


def test_an_undeclared_english_page_with_a_spanish_name_is_read_in_windows_1252(
        site, mail, workdir):
    """A 2000s English page without a charset whose only letter beyond ASCII is the "á" of
    a Spanish name. windows-1250, windows-1252 and others read it as the same text, which the
    detector gives as one windows-1250 match no messier than its windows-1257 one: the page
    was read in windows-1257, "Sánchez" stored as "Sįnchez", and the topic on him never
    matched."""
    paragraphs = [
        "The Spanish prime minister Pedro Sánchez told the summit in Brussels on Thursday that "
        "the bloc had to agree on its budget before the end of the year, and that Madrid would "
        "not accept further cuts to the cohesion funds.",
        "Officials from the Commission said the talks with Sánchez had been constructive, and "
        "that a compromise could be reached at the next meeting of the heads of government.",
        "The Irish and Dutch delegations asked for more time to study the figures, a diplomat "
        "said after the session closed late in the evening."]
    topic = {"name": "Sánchez", "query": '"Pedro Sánchez"', "notify": ["desk@test.example"]}
    subject = crawl_an_undeclared_page(site, mail, workdir, "Sánchez in Brussels", paragraphs,
                                       "cp1252", topic)
    assert "Sánchez" in subject


@pytest.mark.parametrize(("paragraphs", "codec", "query"), [
    ([  # French: the detector found windows-1252's "à" odder than windows-1257's "ą"
        "Le conseil municipal a voté jeudi le budget du port : « C’est un choix de raison », "
        "a déclaré le maire à la presse.",
        "Les travaux commenceront à l’automne, et la gare maritime restera ouverte pendant "
        "l’hiver, où la fréquentation est faible.",
        "Selon l’adjoint chargé des finances, le coût total atteindra 4 millions d’euros, déjà "
        "financés à moitié par la région."], "cp1252", '"déclaré le maire à la presse"'),
    ([  # A German-language page from Israel quoting Hebrew, in windows-1255
        "Der Stadtrat von Jerusalem hat am Dienstag den Plan gebilligt: „שלום לכולם“, sagte "
        "der Sprecher – auf Hebraeisch.",
        "Die Bewohner der Altstadt nannten das Projekt „חדשות טובות“ – gute Nachrichten fuer "
        "die ganze Stadt.",
        "Die Arbeiten sollen im Herbst beginnen und zwei Jahre dauern, so die Verwaltung."],
     "cp1255", '"שלום לכולם"'),
])
def test_an_old_french_or_hebrew_page_that_declares_no_encoding_is_read_in_its_own(
        site, mail, workdir, paragraphs, codec, query):
    """A 2000s French page in windows-1252, and a page quoting Hebrew in windows-1255, with
    no charset from their server nor their markup. The detector found the French page's
    "à" odder in windows-1252 than as windows-1257's "ą" ("voilà" stored as "voilą"), and
    the Hebrew letters no odder as windows-1251's lower-case Cyrillic ("שלום" as "щмен"): a
    topic on their words never matched. Every Latin code page the detector accepts competes
    by the alphabet it reads the letters in, and Hebrew read as Cyrillic without one
    capital is no Russian."""
    topic = {"name": "Quote", "query": query, "notify": ["desk@test.example"]}
    subject = crawl_an_undeclared_page(site, mail, workdir, "Le port", paragraphs, codec, topic)
    assert "Quote" in subject


@pytest.mark.parametrize("codec", ["iso8859_2", "cp1250"])
def test_an_old_czech_page_that_declares_no_encoding_is_read_in_czech(site, mail, workdir, codec):
    """A 2000s Czech site's page, in ISO-8859-2 or windows-1250, with no charset from its
    server nor its markup. The detector found other code pages no messier: the ISO-8859-2
    page was read in windows-1250 ("vyšetřuje" as "vyąetřuje", "služby" as "sluľby"), the
    windows-1250 one in windows-1252 ("pondělí večer" as "pondìlí veèer"), and no topic in
    Czech matched. The code page that reads its letters as one language's alphabet is the
    page's."""
    paragraphs = [
        "Policie v pondělí večer zadržela v Brně muže, který podle svědků napadl dva lidi na "
        f"zastávce tramvaje. Případ vyšetřuje {n}. oddělení kriminální služby."
        for n in range(1, 5)]
    topic = {"name": "Brno", "query": '"pondělí večer zadržela"', "notify": ["desk@test.example"]}
    subject = crawl_an_undeclared_page(site, mail, workdir, "Zadržený muž", paragraphs, codec,
                                       topic)
    assert "Brno" in subject



def test_an_undeclared_english_page_naming_other_editions_is_not_read_in_cyrillic(
        site, mail, workdir):
    """An English page without a charset whose few letters beyond ASCII are a designer's
    name and its menu of other editions ("Österreich", "España", "México"): letters of
    several languages, no one of which writes them all. windows-1251 reads them no messier,
    every one a Cyrillic letter: the page was read in windows-1251, "Alaïa" stored as
    "Alaпa", and the topic on her never matched."""
    paragraphs = [
        *(f"The {n} designers at the Paris show said the fittings took three weeks of work, "
          "and the actress arrived at the premiere in a custom gown." for n in range(1, 40)),
        "Wearing Alaïa again, the actress spoke to reporters about the film.",
        "Tickets for the screening cost £25.",
        "Editions: Deutschland &amp; Österreich, España, México"]
    topic = {"name": "Alaïa", "query": '"Alaïa"', "notify": ["desk@test.example"]}
    subject = crawl_an_undeclared_page(site, mail, workdir, "Premiere", paragraphs, "cp1252",
                                       topic)
    assert "Alaïa" in subject



def test_an_undeclared_spanish_page_quoting_catalan_is_not_read_in_vietnamese(
        site, mail, workdir):
    """A Spanish page without a charset, by an author of a Portuguese name ("Órfão"),
    quoting a Catalan slogan ("València", "però"). windows-1258 reads it no messier, and
    reads the "ò" as a Vietnamese tone mark, no letter: it had fewer letters foreign to
    Spanish than windows-1252, and the page was read in windows-1258, "Órfão" stored as
    "Órfăo", "però" as "peṛ" (its dot below the "r"), and the topic on the slogan never
    matched."""
    paragraphs = [
        *(f"Miles de personas vuelven a salir a la calle por {n} vez para pedir la dimisión del "
          "presidente de la Generalitat este año en España, según los organizadores."
          for n in range(1, 20)),
        *["Más artículos de Alberto Órfão"] * 4,
        *["Milers de persones tornen a clamar a València: «Som aquí, però no ens salven»."] * 3]
    topic = {"name": "València", "query": '"però no ens salven"', "notify": ["desk@test.example"]}
    subject = crawl_an_undeclared_page(site, mail, workdir, "Manifestación en València",
                                       paragraphs, "cp1252", topic)
    assert "València" in subject


def test_an_undeclared_english_page_with_two_swedish_names_is_not_read_in_chinese(
        site, mail, workdir):
    """A 2000s research group's page without a charset, its markup never closed, whose only
    letters beyond ASCII are those of two Swedish names ("Cöster", "Rudstrýom"). GB18030
    reads each of them with the ASCII letter after it as one Chinese character, and the
    detector found those two characters less messy than the page's short last sample in
    windows-1252: the page was read in GB18030, "Cöster" stored as "C鰏ter", and the topic
    on him never matched. Pages in Chinese, Japanese and a Japanese site's English page
    (Shift_JIS's curly quotes, no windows-1252 characters) stay in their code pages."""
    projects = [f"The {n}th project of the lab studies how people choose recipes, films and "
                "books from the choices of others." for n in range(1, 26)]
    projects.insert(22, "The principal researchers are Asa Rudstrýom, Rickard Cöster and "
                        "Tomas Olsson.")
    chinese = ["市政府周四批准了港口改造计划的预算，市长对记者表示，渡轮在冬季将继续运营。"] * 4
    japanese = ["東京都議会は木曜日、港湾整備計画の予算案を可決した。知事は記者団に対し、"
                "冬の間もフェリーの運航を続けると述べた。"] * 4
    english = ["The governor told reporters on Thursday that the “harbour plan” would keep the "
               "city’s ferry running through the winter, whatever the cost."] * 4
    pub = (datetime.now(UTC) - timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    items = ""
    for path, title, paragraphs, codec in (("/cocofire.htm", "Filtering", projects, "cp1252"),
                                           ("/gang.htm", "Gang", chinese, "gb18030"),
                                           ("/kowan.htm", "Kowan", japanese, "cp932"),
                                           ("/harbour.htm", "Harbour", english, "cp932")):
        link = site.serve(path, (f"<html><head><title>{title}</title></head><body>\n<h1>"
                                 f"{title}</h1>\n" + "\n<p>\n".join(paragraphs)).encode(codec),
                          content_type="text/html")
        items += f"<item><title>{title}</title><link>{link}</link><pubDate>{pub}</pubDate></item>"
    url = site.serve("/old.rss", (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0">'
                                  f"<channel><title>Old</title>{items}</channel></rss>").encode())
    topic = {"name": "Cöster", "query": '"Rickard Cöster"', "notify": ["desk@test.example"]}
    workdir.write_config(sources=[url], topics=[topic], smtp=mail)
    result = workdir.newswatch("crawl")
    assert "4 new article(s)" in result.stdout, result.stdout + result.stderr
    texts = {row["title"]: row["text"] for row in export(workdir)}
    assert "Asa Rudstrýom, Rickard Cöster and Tomas Olsson" in texts["Filtering"]
    assert chinese[0] in texts["Gang"]
    assert japanese[0] in texts["Kowan"]
    assert english[0] in texts["Harbour"]
    [message] = mail.wait_for(1)
    assert "Cöster" in message["Subject"]


#: An English-edition article of a Japanese newspaper: curly quotes, and one Japanese word.
EAST_ASIAN_EDITION = [
    "The Tokyo Metropolitan Assembly on Thursday approved the “harbour plan,” which the "
    "governor said would keep the city’s ferries running to the islands through the winter.",
    "“We will not let the islands be cut off,” the governor told reporters, calling last "
    "year’s suspension of the service “残念” (regrettable).",
    "The assembly’s budget committee will review the costs in August, officials said."]


@pytest.mark.parametrize(("paragraphs", "codec", "query"), [
    (EAST_ASIAN_EDITION, "euc_jp", '"keep the city’s ferries running"'),
    (EAST_ASIAN_EDITION, "gb18030", '"keep the city’s ferries running"'),
    ([  # A Spanish exclamation: the same bytes as EUC-JP's closing quote
        "The Madrid daily ran the interview under the headline ¡Él no se va! on Sunday morning.",
        "The minister had told the paper that he would stand again at the next election."],
     "cp1252", '"headline ¡Él"'),
])
def test_an_undeclared_english_page_of_an_east_asian_site_is_read_in_its_code_page(
        site, mail, workdir, paragraphs, codec, query):
    """An English-edition page of a Japanese newspaper in EUC-JP without a charset: its
    curly quotes are EUC-JP's (“ is 0xA1 0xC8) and its only Japanese a quoted word. Every
    single-byte code page reads those pairs too ("¡È" in windows-1252, "ˇČ" in
    windows-1250), as Big5 does (a low line, U+FE4D), with no more mess to the detector:
    the page was read in Big5, its quotes and apostrophes stored as low lines, "残念" as
    "酸ゴ", and the topic on the governor's words never matched. So was a Chinese site's
    English page in GB18030, its quotes read as "¡°" or "※". The encoding that reads the
    pairs as the quotes is the page's; a closing quote alone is none, as a Spanish page
    whose only letters beyond ASCII are the "¡É" of "¡Él" stays in windows-1252."""
    topic = {"name": "Quote", "query": query, "notify": ["desk@test.example"]}
    subject = crawl_an_undeclared_page(site, mail, workdir, "Harbour plan", paragraphs, codec,
                                       topic)
    assert "Quote" in subject


def crawl_an_undeclared_page(site: NewsSite, mail, workdir, title: str, paragraphs: list[str],
                             codec: str, topic: dict) -> str:
    """Crawls a feed of one 2000s page, its ``paragraphs`` in a table layout, in ``codec``
    with no charset from its server nor its markup; checks that its text was read whole and
    gives the subject of the one alert ``topic`` sent."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    link = site.serve("/page.htm", (
        f'<html><head><title>{title}</title></head><body><table width="600"><tr><td>'
        f'<font face="Verdana" size="2">{body}</font></td></tr></table></body></html>'
    ).encode(codec), content_type="text/html")
    pub = (datetime.now(UTC) - timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    url = site.serve("/page.rss", (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>News'
        f"</title><item><title>Item</title><link>{link}</link><pubDate>{pub}</pubDate>"
        "</item></channel></rss>").encode())
    workdir.write_config(sources=[url], topics=[topic], smtp=mail)
    result = workdir.newswatch("crawl")
    assert "1 new article(s)" in result.stdout, result.stdout + result.stderr
    [row] = export(workdir)
    assert paragraphs[0] in row["text"], row["text"]
    [message] = mail.wait_for(1)
    return str(message["Subject"])


def one_article_feed(site: NewsSite, name: str, title: str, paragraphs: tuple[str, ...],
                     lang: str) -> str:
    """The address of a feed of one article published an hour ago, its page in ``lang``."""
    direction = ' dir="rtl"' if lang in ("ar", "fa", "he") else ""
    page = (f'<!DOCTYPE html><html lang="{lang}"{direction}><head><meta charset="utf-8">'
            f"<title>{title}</title></head><body><article><h1>{title}</h1>"
            + "".join(f"<p>{p}</p>" for p in paragraphs) + "</article></body></html>")
    link = site.serve(f"/{name}.html", page.encode(), content_type="text/html")
    pub = (datetime.now(UTC) - timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    feed = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{name}'
            f"</title><item><title>{title}</title><link>{link}</link>"
            f"<pubDate>{pub}</pubDate></item></channel></rss>")
    return site.serve(f"/{name}.rss", feed.encode())

def one_article_alert(site: NewsSite, mail, workdir, slug: str, title: str,
                      paragraphs: tuple[str, ...], lang: str, query: str) -> EmailMessage:
    """The alert of a topic on ``query`` for the one article of a feed (:func:`one_article_feed`)."""
    url = one_article_feed(site, slug, title, paragraphs, lang)
    topic = {"name": "Watched", "query": query, "notify": [f"{lang}@test.example"]}
    workdir.write_config(sources=[url], topics=[topic], smtp=mail)
    result = workdir.newswatch("crawl")
    assert "1 new article(s)" in result.stdout, result.stdout + result.stderr
    [message] = mail.wait_for(1)
    return message


def test_an_arabic_name_typed_without_its_hamza_or_on_a_persian_keyboard_alerts(
    site, mail, workdir
):
    """LBCI writes إيفانكا, alef with its hamza, and the Arabic keyboard's yeh and kaf; a
    reader types ايفانكا, or on a Persian keyboard ایفانکا (its own yeh and kaf): the
    topic never matched. The alert shows the article's own spelling, right to left."""
    paragraphs = (
        "وكانت إيفانكا ترامب قد صرّحت سابقًا بأن والدها يستخدم منتج Just for Men لإخفاء "
        "الشعر الرمادي، وهو ما أعاد إلى الواجهة تفسيرات قديمة حول تسريحة ولون شعره المميزين.",
        "أثار ظهور دونالد ترامب بشعرٍ مائل إلى اللون الوردي خلال خطاب ألقاه في واشنطن العاصمة "
        "موجة واسعة من الجدل والسخرية على مواقع التواصل الاجتماعي، وفق ما نقل موقع دايلي ميل.",
        "وأشار فوشيه إلى أن الإضاءة قد تكون عاملًا حاسمًا أيضًا، موضحًا أن أضواء المسرح "
        "الدافئة أو الإضاءة العلوية يمكن أن تعكس مسحة وردية على الشعر الفاتح أو الفضي.",
    )
    title = "شعر وردي يُشعل السخرية… لغز لون شعر دونالد ترامب"
    url = one_article_feed(site, "lbci", title, paragraphs, "ar")
    topics = [{"name": "Ivanka", "query": '"ايفانكا ترامب"', "notify": ["ar@test.example"]},
              {"name": "Ivanka fa", "query": "ایفانکا", "notify": ["fa@test.example"]}]
    workdir.write_config(sources=[url], topics=topics, smtp=mail)
    result = workdir.newswatch("crawl")
    assert "1 new article(s)" in result.stdout, result.stdout + result.stderr
    messages = mail.wait_for(2)
    assert sorted(m["To"] for m in messages) == ["ar@test.example", "fa@test.example"]
    for message in messages:
        text, html = parts(message)
        assert "إيفانكا" in text
        assert re.search(r'<p dir="rtl"[^>]*>[^<]*<strong[^>]*>إيفانكا', html), html


def test_a_hindi_word_with_a_nukta_alerts_however_the_nukta_is_encoded(site, mail, workdir):
    """Bhaskar's report, as a site converted from an older font stores it: ड़ (U+095C) as one
    character; a reader's keyboard types ड and the nukta (U+093C). They look the same, and
    the topic on the village never matched."""
    paragraphs = (
        "समस्तीपुर के बंगरा थाना क्षेत्र के रहीमाबाद गांव में 2 दिन पहले हुए मोहम्मद तबरेज के घर "
        "चोरी मामले का पुलिस ने बुधवार को खुलासा कर लिया है। पुलिस ने इस मामले में ताजपुर "
        "भेरोख\u095c\u093e गांव में छापेमारी कर चोरी का गहना आदि के साथ 2 बदमाशों को गिरफ्तार किया।",
        "गिरफ्तार बदमाश की पहचान ताजपुर थाना क्षेत्र के भेरोख\u095c\u093e गांव निवासी विद्यानंद तिवारी "
        "का बेटा संजीत कुमार और मोहम्मद इजराइल का बेटा मोहम्मद मुराद के रूप में की गई है।",
    )
    title = "समस्तीपुर पुलिस ने 2 बदमाशों को पक\u095c\u093e"
    message = one_article_alert(site, mail, workdir, "bhaskar", title, paragraphs, "hi",
                                "भेरोख\u0921\u093c\u093e")
    _, html = parts(message)
    # The page's ड़ is stored in its canonical form (NFC: U+095C is one of the letters
    # Unicode keeps decomposed, ड and the nukta), which looks the same.
    word = unicodedata.normalize("NFC", "भेरोख\u095c\u093e")
    assert word == "भेरोख\u0921\u093c\u093e"
    assert "<strong" in html and f"{word}</strong>" in html, html


def test_a_number_written_in_persian_digits_alerts_a_topic_typed_in_ascii(site, mail, workdir):
    """BBC Persian writes its numbers in Persian digits (Boeing ۷۳۷, ۲۰۲۶, and 1,500 with the
    Arabic thousands mark, U+066C): a topic on "Boeing 737" never alerted; a topic on 500
    stays quiet, the article's number being 1,500. The alert marks the article's own
    digits."""
    paragraphs = (
        "یک فروند هواپیمای Boeing ۷۳۷ متعلق به یک شرکت هواپیمایی داخلی صبح امروز در فرودگاه "
        "مشهد به دلیل نقص فنی فرود اضطراری انجام داد و هیچ یک از مسافران آسیب ندیدند.",
        "به گفته مقام‌های سازمان هواپیمایی کشوری، این هواپیما ۱٬۵۰۰ ساعت پرواز پس از آخرین "
        "بازرسی فنی داشت و قرار بود تا پایان سال ۲۰۲۶ از ناوگان خارج شود.",
    )
    title = "فرود اضطراری Boeing ۷۳۷ در مشهد"
    url = one_article_feed(site, "bbcpersian", title, paragraphs, "fa")
    topics = [{"name": "737", "query": '"Boeing 737"', "notify": ["737@test.example"]},
              {"name": "500", "query": "500", "notify": ["500@test.example"]}]
    workdir.write_config(sources=[url], topics=topics, smtp=mail)
    result = workdir.newswatch("crawl")
    assert "1 new article(s)" in result.stdout, result.stdout + result.stderr
    [message] = mail.wait_for(1)
    assert message["To"] == "737@test.example"
    _, html = parts(message)
    assert re.search(r"<strong[^>]*>Boeing ۷۳۷</strong>", html), html


def test_the_tenth_story_of_an_alert_keeps_its_lines_under_its_headline(site, mail, workdir):
    # Ten stories of one batch: "10. " is a column wider than "1. ", and the tenth story's
    # source, address and snippet stood a column left of its headline's first letter.
    words = " ".join(_FILLER).replace(",", "").replace(".", "").split()
    now = datetime.now(UTC).replace(microsecond=0)
    for number in range(10):
        body = [" ".join(random.Random(number * 10 + p).sample(words, 40)) + "."
                for p in range(4)]
        body[0] += " The lighthouse keepers met again."
        site.publish(Story(f"lighthouse-{number}", f"Lighthouse news number {number}", body,
                           now - timedelta(minutes=number)))
    workdir.write_config(
        sources=[site.url("/feeds/world.rss")],
        topics=[{"name": "Lighthouses", "query": "lighthouse", "notify": ["desk@test.example"]}],
        smtp=mail, alerts={"stream": "0s"},
    )
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    [message] = mail.wait_for(1)
    text = parts(message)[0].replace("\r\n", "\n")
    tenth = text[text.index("\n10. "):text.index("\n-- \n")].strip("\n").splitlines()
    assert tenth[0].startswith("10. ") and site.article_url("lighthouse-9") in text
    for line in tenth[1:]:
        assert not line or (line.startswith("    ") and not line.startswith("     ")), line


def test_an_arabic_source_name_is_isolated_from_the_time_and_names_beside_it(
    site, mail, workdir
):
    """Two Lebanese sites named in Arabic carry one story. Beside the time that followed it,
    an Arabic name took the time's day for an Arabic number and the dot between them for its
    own: "الأخبار · 7 Dec 2026" read "7 · الأخبار Dec 2026"; so too a name before another
    in "Also on". Each name is isolated: dir on its own span, Unicode's isolates in text."""
    paragraphs = (
        "أثار ظهور دونالد ترامب بشعرٍ مائل إلى اللون الوردي خلال خطاب ألقاه في واشنطن العاصمة "
        "موجة واسعة من الجدل والسخرية على مواقع التواصل الاجتماعي، وفق ما نقل موقع دايلي ميل.",
        "وأشار فوشيه إلى أن الإضاءة قد تكون عاملًا حاسمًا أيضًا، موضحًا أن أضواء المسرح "
        "الدافئة أو الإضاءة العلوية يمكن أن تعكس مسحة وردية على الشعر الفاتح أو الفضي.",
    )
    title = "شعر وردي يُشعل السخرية… لغز لون شعر دونالد ترامب"
    names = {"lbci": "الأخبار", "annahar": "النهار"}
    sources = [{"url": one_article_feed(site, slug, title, paragraphs, "ar"), "name": name}
               for slug, name in names.items()]
    topic = {"name": "Trump", "query": "ترامب", "notify": ["ar@test.example"]}
    workdir.write_config(sources=sources, topics=[topic], smtp=mail, alerts={"stream": "0s"})
    result = workdir.newswatch("crawl")
    assert "2 new article(s)" in result.stdout, result.stdout + result.stderr
    [message] = mail.wait_for(1)
    text, html = parts(message)
    shown, other = re.findall(r"\u2068(\S+)\u2069", text)
    assert {shown, other} == set(names.values())
    assert f"\u2068{shown}\u2069 · " in text and f"Also on: \u2068{other}\u2069" in text
    assert f'<span dir="rtl">{shown}</span> &middot;' in html
    assert re.search(rf'Also on: <a [^>]*><span dir="rtl">{other}</span></a>', html), html


def test_a_snippet_cut_leaves_no_stray_dash_or_opening_quote_at_its_ends(site, mail, workdir):
    """Le Figaro's report, cut around "2025": the cut before it fell on the dash of a
    quotation ("…- «Nous avons"), the cut after it on an opening guillemet whose words it
    left out ("dans le quotidien «…")."""
    quote = ("Le ministre a déclaré - «Nous avons pratiquement fait échouer toute leur campagne "
             "pour 2025»")
    after = " a affirmé le ministre russe de la Défense selon une vidéo diffusée hier par l’armée"
    # The cuts fall 69 characters before the hit and 278 after that (a 280-character
    # snippet less its two "…"): inside the dash's word, and on the word after the guillemet.
    start = quote.index("2025") - 69
    assert quote[start - 1] != " " and quote.index(" ", start) == quote.index(" - ")
    gap = start + 278 - len(quote) - len(after) - len(" dans le quotidien « ")
    words = []
    while gap > 9:
        words.append("ensuite")
        gap -= 8
    words.append("certainement"[: gap - 1])
    closing = f"{after} {' '.join(words)} dans le quotidien « Le Monde » hier soir."
    paragraphs = (
        "La Russie a affirmé vendredi avoir fait échouer la campagne militaire ukrainienne, au "
        "lendemain du tir d’un nouveau missile balistique de portée intermédiaire.",
        quote + closing,
        "Cette poussée intervient alors que Kiev craint une baisse du soutien de ses alliés, "
        "et que le front se déplace lentement vers l’ouest depuis le début de l’automne.",
    )
    title = "La Russie affirme avoir fait échouer la campagne militaire ukrainienne"
    message = one_article_alert(site, mail, workdir, "figaro", title, paragraphs, "fr", "2025")
    text, _ = parts(message)
    shown = " ".join(text[text.index("…"):text.rindex("…") + 1].split())
    assert shown.startswith("…«Nous avons pratiquement") and "*2025*»" in shown
    assert shown.endswith(" dans le quotidien…"), shown
