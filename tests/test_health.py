"""Source health: a source failing for longer than `health_after` gets the operator one
email, its recovery another — never one per failure."""

from __future__ import annotations

import json
import sqlite3
import time


def crawl(workdir):
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_failing_source_gets_one_email_each_way(site, mail, workdir):
    flaky = site.url("/feeds/flaky.rss")
    site.create_feed("flaky")
    site.set_status("/feeds/flaky.rss", 500)
    workdir.write_config(
        sources=[flaky, site.url("/feeds/world.rss")], smtp=mail,
        alerts={"operator": ["ops@test.example"], "health_after": "3s",
                "timezone": "America/Caracas"},
    )
    crawl(workdir)
    assert mail.messages == []  # failing, but not for long yet
    time.sleep(3.2)
    crawl(workdir)
    [failing] = mail.wait_for(1)
    assert failing["To"] == "ops@test.example"
    assert "source health" in failing["Subject"] and "failing" in failing["Subject"]
    text = failing.get_body(preferencelist=("plain",)).get_content()
    assert flaky in text and "Last error: HTTP 500" in text and "2 failed polls" in text
    assert "1 source needs attention:" in text
    # On the operator's clock (alerts.timezone), as alerts are: was UTC whatever it said.
    since = next(line for line in text.splitlines() if "Failing since" in line)
    assert since.rstrip().endswith("-04 (America/Caracas) (2 failed polls in a row)."), since

    crawl(workdir)
    crawl(workdir)
    assert len(mail.messages) == 1  # still failing: no more email

    site.clear_status("/feeds/flaky.rss")
    crawl(workdir)
    [_, recovered] = mail.wait_for(2)
    assert "recovered" in recovered["Subject"]
    assert flaky in recovered.get_body(preferencelist=("plain",)).get_content()
    assert "1 source is polled normally again:" in recovered.get_body(
        preferencelist=("plain",)).get_content()
    crawl(workdir)
    assert len(mail.messages) == 2


def test_gone_source_is_reported_once(site, mail, workdir):
    site.set_status("/feeds/closed.rss", 410)
    workdir.write_config(
        sources=[site.url("/feeds/closed.rss")], smtp=mail,
        alerts={"operator": ["ops@test.example"]},
    )
    assert workdir.crawl_till_gone().returncode == 0
    [message] = mail.wait_for(1)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Deactivated: HTTP 410 Gone" in text
    crawl(workdir)
    assert len(mail.messages) == 1


def test_without_an_operator_health_changes_are_logged_only(site, mail, workdir):
    site.set_status("/feeds/closed.rss", 410)
    workdir.write_config(sources=[site.url("/feeds/closed.rss")], smtp=mail)
    assert workdir.crawl_till_gone().returncode == 0
    assert mail.messages == []
    assert "alerts: 0 pending, 0 sent" in workdir.newswatch("status").stdout


def test_an_operator_configured_later_hears_of_what_is_still_wrong(site, mail, workdir):
    # Without an operator the changes were logged and marked as reported: an operator set
    # later never heard of a source failing, or gone, since before.
    site.create_feed("flaky")
    site.set_status("/feeds/flaky.rss", 500)
    site.set_status("/feeds/closed.rss", 410)
    sources = [site.url("/feeds/flaky.rss"), site.url("/feeds/closed.rss")]
    workdir.write_config(sources=sources, smtp=mail, alerts={"health_after": "1s"})
    assert workdir.crawl_till_gone().returncode == 0
    time.sleep(1.2)
    crawl(workdir)
    assert mail.messages == []
    workdir.write_config(sources=sources, smtp=mail,
                         alerts={"operator": ["ops@test.example"], "health_after": "1s"})
    crawl(workdir)
    [report] = mail.wait_for(1)
    text = report.get_body(preferencelist=("plain",)).get_content()
    assert sources[0] in text and "Deactivated: HTTP 410 Gone" in text
    crawl(workdir)
    assert len(mail.messages) == 1
    # Its recovery is news to it now.
    site.clear_status("/feeds/flaky.rss")
    crawl(workdir)
    assert "recovered" in mail.wait_for(2)[1]["Subject"]


def test_a_failing_source_that_is_then_gone_is_reported_gone(site, mail, workdir):
    site.create_feed("flaky")
    site.set_status("/feeds/flaky.rss", 500)
    workdir.write_config(sources=[site.url("/feeds/flaky.rss")], smtp=mail,
                         alerts={"operator": ["ops@test.example"], "health_after": "1s"})
    crawl(workdir)
    time.sleep(1.2)
    crawl(workdir)
    [failing] = mail.wait_for(1)
    assert "failing" in failing["Subject"]
    site.set_status("/feeds/flaky.rss", 410)
    assert workdir.crawl_till_gone().returncode == 0
    [_, gone] = mail.wait_for(2)
    assert "Deactivated: HTTP 410 Gone" in gone.get_body(preferencelist=("plain",)).get_content()
    crawl(workdir)
    assert len(mail.messages) == 2


def test_a_failing_source_is_reported_while_a_long_crawl_runs(tmp_path, mail):
    """The health check ran at a cycle's end only: a crawl that slow sites kept open (other
    sources joining it) held the report of a failing source for up to 10 minutes (a
    review: 399 s with health_after = 5s). Each tick checks."""
    import asyncio
    from datetime import UTC, datetime, timedelta

    from alerts import SmtpSettings, SmtpTransport
    from alerts.deliver import RetryPolicy
    from scheduler import Pipeline
    from scheduler.daemon import Daemon
    from storage import FetchOutcome, SourceSpec, open_store

    now = datetime.now(UTC)
    with open_store(tmp_path / "newswatch.db") as store:
        store.sync_sources([SourceSpec("http://127.0.0.1:9/feed", 60)], now)
        [source] = store.sources()
        for minutes in (2, 1):
            store.record_fetch(source.id, FetchOutcome(ok=False, status=500, error="HTTP 500"),
                               now - timedelta(minutes=minutes))
        pipe = Pipeline(
            store=store, crawler=None,  # type: ignore[arg-type]
            transport=SmtpTransport(SmtpSettings(host=mail.host, port=mail.port,
                                                 sender="nw@test.example", timeout=5)),
            lookback=timedelta(days=2), retry=RetryPolicy(), clock=lambda: now,
            operator=("ops@test.example",), health_after=timedelta(seconds=30),
        )
        pipe.crawling = True  # a crawl of slow sites is under way: its cycle has not ended
        asyncio.run(Daemon(pipe, tick_seconds=1).outbox_tick())
        [report] = mail.wait_for(1)
        assert report["To"] == "ops@test.example" and "failing" in report["Subject"]


def test_a_source_named_on_two_lines_is_reported(site, mail, workdir):
    """A source whose name spans lines (a feed's title written on two lines, as rss2email's
    tumblr feed has it, stored as its name before names were flattened) made the health
    email's subject a header that cannot be written: the email failed for good, with every
    other source's report in it. Each value is one line in the email."""
    site.create_feed("closed")
    workdir.write_config(
        sources=[site.url("/feeds/closed.rss"), site.url("/feeds/gone.rss")],
        smtp=mail, alerts={"operator": ["ops@test.example"]},
    )
    site.set_status("/feeds/gone.rss", 410)
    assert workdir.crawl_till_gone().returncode == 0
    mail.wait_for(1)  # gone.rss: gone
    with sqlite3.connect(workdir.database) as db:
        db.execute("UPDATE sources SET name = ? WHERE url LIKE '%closed.rss'",
                   ["Sarah's\n  Scribbles\u202e"])
    site.set_status("/feeds/closed.rss", 410)
    assert workdir.crawl_till_gone().returncode == 0
    [_, message] = mail.wait_for(2)
    assert "Sarah's Scribbles" in message["Subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Sarah's Scribbles" in text and "\u202e" not in text + message["Subject"]


def test_a_feeds_title_on_two_lines_names_its_source_on_one(site, workdir):
    """The name a source takes from its feed's title is one line, without control
    characters: `status` showed it over two lines."""
    url = site.serve("/feeds/lines.rss", (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Sarah\'s\n   Scribbles'
        '&#x202E;</title><link>' + site.url("/") + '</link><item><title>One</title>'
        '<link>' + site.url("/articles/one") + '</link></item></channel></rss>'
    ).encode())
    workdir.write_config(sources=[url])
    crawl(workdir)
    listed = workdir.newswatch("sources", "list", "--format", "json")
    assert [s["name"] for s in json.loads(listed.stdout)] == ["Sarah's Scribbles"]


def test_status_lists_the_sources_that_need_attention_first(site, workdir):
    """Sources were listed in the order they were added: at 200 sources, the 3 failing ones
    were 3 blocks among 600 lines of "ok", found only by grepping for FAILING, and nothing
    said how many there were. A count by health comes first, then the sources that need
    attention (failing, gone), then the others, each in the order they were added; `status
    --json` has the same counts."""
    healthy = [f"desk{i}" for i in range(3)]
    for name in [*healthy, "flaky"]:
        site.create_feed(name)
    site.set_status("/feeds/flaky.rss", 500)
    site.set_status("/feeds/closed.rss", 410)
    feeds = [site.url(f"/feeds/{n}.rss") for n in ("desk0", "flaky", "desk1", "closed", "desk2")]
    workdir.write_config(sources=feeds)
    assert workdir.crawl_till_gone().returncode == 0
    listed = workdir.newswatch("sources", "add", site.url("/feeds/world.rss"))
    assert listed.returncode == 0, listed.stderr
    status = workdir.newswatch("status").stdout
    assert ("sources: 6 (1 failing, 1 deactivated, 3 ok, 1 not polled yet)"
            in status.splitlines()), status
    shown = [line.strip() for line in status.splitlines() if line.startswith("    url: ")]
    assert [line.split()[1] for line in shown] == [
        feeds[1], feeds[3], feeds[0], feeds[2], feeds[4], site.url("/feeds/world.rss")]
    report = json.loads(workdir.newswatch("status", "--json").stdout)
    assert report["source_health"] == {
        "failing": 1, "deactivated": 1, "stale": 0, "ok": 3, "not polled yet": 1}


def test_a_source_refused_or_missing_says_what_to_look_at(site, workdir):
    """A source answering 404, 403 or 5xx said "last error: HTTP 404" and no more, where a
    DNS, TLS, redirect or feed-turned-page failure says what it means and where to look:
    404 the feed moved or was removed, 403 the site refuses the crawler (a bot wall), 5xx
    the site's own server failing (nothing to change here: it is polled again)."""
    for path, code in (("/feeds/missing.rss", 404), ("/feeds/walled.rss", 403),
                       ("/feeds/down.rss", 503)):
        site.set_status(path, code)
    workdir.write_config(sources=[site.url(p) for p in (
        "/feeds/missing.rss", "/feeds/walled.rss", "/feeds/down.rss")])
    crawl(workdir)
    errors = [line.strip() for line in workdir.newswatch("status").stdout.splitlines()
              if line.startswith("    last error: ")]
    assert errors == [
        "last error: HTTP 404: nothing at this address (the feed moved, or was removed: the "
        "site's pages tell its new address)",
        "last error: HTTP 403: the site, or a proxy on the way, refuses newswatch's requests "
        "(a bot wall, a login, a block of this machine's addresses: the address opened in a "
        "browser from here tells which)",
        "last error: HTTP 503: the site's server failed (on its side: polled again, less "
        "often while it lasts)",
    ]


def frozen_and_desk(site):
    """Two feeds with an article each: the site's world feed, which will stop changing, and
    a desk feed, which goes on publishing; returns their URLs."""
    from newssite import sample_story

    site.create_feed("desk")
    site.publish(sample_story("frozen-first", "Harbour reopens after storm"))
    site.publish(sample_story("desk-first", "Council approves budget"), feed="desk")
    return site.url("/feeds/world.rss"), site.url("/feeds/desk.rss")


def twenty_days_later(site, workdir):
    """The database aged twenty days of polls since the sources' last new articles (and
    since they were added), and the desk feed publishing again now: at the next poll the
    world feed is stale, the desk ok. Returns when they last brought news (ISO 8601)."""
    from datetime import UTC, datetime, timedelta

    from newssite import sample_story

    then = (datetime.now(UTC) - timedelta(days=20)).isoformat(timespec="seconds")
    with sqlite3.connect(workdir.database) as db:
        db.execute("UPDATE sources SET created = ?, last_new = ?", [then, then])
        db.execute("UPDATE articles SET fetched = ?", [then])
    site.publish(sample_story("desk-second", "Library extends its hours"), feed="desk")
    return then


def test_status_says_which_sources_bring_no_new_article_any_more(site, workdir):
    """A feed that stopped changing (moved without a redirect, frozen by its CMS, a dead
    site's last copy served by its CDN) answers 304, or the same items, at every poll: each
    a success, and `status` said "ok" for good. It says when each source last brought a new
    article, and calls one stale whose polls have succeeded for 14 days without one; a new
    article makes it ok again."""
    from newssite import sample_story

    frozen, desk = frozen_and_desk(site)
    workdir.write_config(sources=[desk, frozen])
    crawl(workdir)
    status = workdir.newswatch("status").stdout
    assert "sources: 2 (2 ok)" in status.splitlines(), status
    assert status.count("last new article today;") == 2, status
    then = twenty_days_later(site, workdir)
    crawl(workdir)
    status = workdir.newswatch("status").stdout
    assert "sources: 2 (1 stale, 1 ok)" in status.splitlines(), status
    lines = status.splitlines()
    shown = [line.split()[1] for line in lines if line.startswith("    url: ")]
    assert shown == [frozen, desk]  # the stale one first, as it needs attention
    first = lines.index(f"    url: {frozen} (rss; added in the config file)")
    assert lines[first + 1].startswith(
        "    STALE (its polls succeed, but bring no new article); last poll "), status
    assert "; last new article 20 days ago;" in lines[first + 1], status
    assert "; last new article today;" in lines[lines.index(
        f"    url: {desk} (rss; added in the config file)") + 1], status
    report = json.loads(workdir.newswatch("status", "--json").stdout)
    assert report["source_health"] == {
        "failing": 0, "deactivated": 0, "stale": 1, "ok": 1, "not polled yet": 0}
    assert {s["url"]: (s["stale"], s["last_new"]) for s in report["sources"]} == {
        frozen: (True, then), desk: (False, report["sources"][0]["last_new"])}
    assert report["sources"][0]["url"] == desk and report["sources"][0]["last_new"] > then

    site.publish(sample_story("frozen-second", "Ferry timetable changes"))
    crawl(workdir)
    status = workdir.newswatch("status").stdout
    assert "sources: 2 (2 ok)" in status.splitlines(), status
    assert status.count("last new article today;") == 2, status


def test_a_stale_source_gets_one_email_each_way(site, mail, workdir):
    """A feed that stopped changing answered every poll with a success: `status` called it
    stale, but the operator, who hears of a source failing or gone, never did. Once its
    polls have succeeded for 14 days without a new article, one email says so; its next
    article, another."""
    from newssite import sample_story

    frozen, desk = frozen_and_desk(site)
    workdir.write_config(sources=[desk, frozen], smtp=mail,
                         alerts={"operator": ["ops@test.example"]})
    crawl(workdir)
    assert mail.messages == []
    twenty_days_later(site, workdir)
    crawl(workdir)
    [stale] = mail.wait_for(1)
    assert stale["To"] == "ops@test.example"
    assert "source health" in stale["Subject"] and "stale:" in stale["Subject"], stale["Subject"]
    assert "failing" not in stale["Subject"], stale["Subject"]
    text = stale.get_body(preferencelist=("plain",)).get_content()
    assert frozen in text and desk not in text, text
    assert "Stale: its polls succeed, but bring no new article" in text, text
    assert "Stale" in stale.get_body(preferencelist=("html",)).get_content()

    crawl(workdir)
    crawl(workdir)
    assert len(mail.messages) == 1  # still stale: no more email

    site.publish(sample_story("frozen-second", "Ferry timetable changes"))
    crawl(workdir)
    [_, recovered] = mail.wait_for(2)
    assert "recovered" in recovered["Subject"], recovered["Subject"]
    text = recovered.get_body(preferencelist=("plain",)).get_content()
    assert frozen in text and "1 source is polled normally again:" in text, text
    crawl(workdir)
    assert len(mail.messages) == 2


def test_status_says_when_older_alert_problems_are_not_listed(workdir) -> None:
    """`status` lists the 10 latest alert problems: a twelfth, older, went unsaid (the
    counts above it gave the totals, not that the list was cut)."""
    from datetime import UTC, datetime

    from alerts.emails import Email
    from storage import Store
    from storage.outbox import insert_email

    workdir.write_config()
    now = datetime.now(UTC)
    with Store.open(workdir.database) as store:
        with store.db.atomic():
            ids = [insert_email(store.db, Email(
                message_id=f"<refused{n}@nw>", recipient="desk@test.example",
                subject="newswatch: alert", text="plain", html="<p>html</p>", created=now,
                items=())) for n in range(11)]
        for n in ids:
            store.mark_failed(n, "550 no such user")
    out = workdir.newswatch("status").stdout
    listed = [line for line in out.splitlines() if "550 no such user" in line]
    assert len(listed) == 10 and f"#{ids[0]} " not in out, out
    assert "  (older alert problems not listed: the counts above give them all)" in out, out
