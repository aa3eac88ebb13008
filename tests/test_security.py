"""Files newswatch creates are private, and secrets never show in logs or status."""

from __future__ import annotations

import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from mailserver import MailServer
from newssite import STORIES_BY_SLUG


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_database_and_mbox_are_owner_only(site, workdir):
    site.publish(replace(STORIES_BY_SLUG["venezuela-opposition-leader"],
                         published=datetime.now(UTC) - timedelta(minutes=5)))
    workdir.write_config(
        sources=[site.url("/feeds/world.rss")],
        topics=[{"name": "M", "query": "Maduro", "notify": ["a@test.example"]}],
    )
    assert workdir.newswatch("crawl").returncode == 0
    assert mode(workdir.database) == 0o600
    assert mode(workdir.path / "newswatch.mbox") == 0o600
    for suffix in ("-wal", "-shm"):
        extra = workdir.path / f"newswatch.db{suffix}"
        if extra.exists():
            assert mode(extra) & 0o077 == 0


def test_smtp_password_never_appears_in_output(site, workdir):
    secret = "s3cr3t-Pa55word"
    server = MailServer(auth=("newswatch", "wrong-on-purpose"))
    server.start()
    try:
        site.publish(replace(STORIES_BY_SLUG["venezuela-opposition-leader"],
                             published=datetime.now(UTC) - timedelta(minutes=5)))
        workdir.write_config(
            sources=[site.url("/feeds/world.rss")],
            topics=[{"name": "M", "query": "Maduro", "notify": ["a@test.example"]}],
            smtp={"host": server.host, "port": server.port, "username": "newswatch",
                  "password_env": "NW_TEST_PASSWORD", "timeout": "5s"},
        )
        crawl = workdir.newswatch("crawl", NW_TEST_PASSWORD=secret)
        assert crawl.returncode == 3  # login refused: alerts stay queued
        assert "login failed for newswatch" in crawl.stderr
        status = workdir.newswatch("status", NW_TEST_PASSWORD=secret)
        check = workdir.newswatch("check", NW_TEST_PASSWORD=secret)
        for result in (crawl, status, check):
            assert secret not in result.stdout + result.stderr
        assert secret not in workdir.database.read_bytes().decode("latin-1")
    finally:
        server.stop()


def test_article_text_cannot_inject_headers_or_markup(site, mail, workdir):
    evil = replace(
        STORIES_BY_SLUG["venezuela-opposition-leader"],
        slug="evil-maduro-story-here",
        title='Maduro <script>alert(1)</script>\r\nBcc: victim@evil.example',
        published=datetime.now(UTC) - timedelta(minutes=5),
    )
    site.articles[evil.slug] = evil
    site.publish(evil)
    workdir.write_config(
        sources=[site.url("/feeds/world.rss")],
        topics=[{"name": "M", "query": "Maduro", "notify": ["a@test.example"]}],
        smtp=mail,
    )
    assert workdir.newswatch("crawl").returncode == 0
    [message] = mail.wait_for(1)
    assert message["Bcc"] is None
    assert [rcpts for _, rcpts in mail.envelopes] == [["a@test.example"]]
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<script" not in html  # markup in feed titles is reduced to its text
    assert "alert(1)" in html


def test_one_recipient_refused_the_others_still_get_their_alert(site, mail, workdir):
    site.publish(replace(STORIES_BY_SLUG["venezuela-opposition-leader"],
                         published=datetime.now(UTC) - timedelta(minutes=5)))
    workdir.write_config(
        sources=[site.url("/feeds/world.rss")],
        topics=[{"name": "M", "query": "Maduro",
                 "notify": ["a@test.example", "gone@test.example", "b@test.example"]}],
        smtp=mail,
    )
    original = mail._receive

    def receive(envelope):
        if "gone@test.example" in envelope.rcpt_tos:
            return "550 5.1.1 mailbox unavailable"
        return original(envelope)

    mail._receive = receive
    result = workdir.newswatch("crawl")
    assert {m["To"] for m in mail.wait_for(2)} == {"a@test.example", "b@test.example"}
    assert result.returncode == 3  # reported: one alert failed for good
    status = workdir.newswatch("status").stdout
    assert "alerts: 0 pending, 2 sent, 1 failed" in status
    assert "to gone@test.example (failed" in status and "550" in status
    again = workdir.newswatch("crawl")
    assert len(mail.messages) == 2  # a permanent refusal is not retried
    assert again.returncode == 0


def test_a_crawl_opens_no_control_endpoint_and_writes_nothing_in_home(site, workdir, tmp_path):
    """Scrapy 2.19 starts a "remote control" HTTP endpoint that runs code sent to it, and
    records its port and token in the user's home, unless told not to: newswatch tells it."""
    site.publish(STORIES_BY_SLUG["venezuela-opposition-leader"])
    workdir.write_config(sources=[site.url("/feeds/world.rss")])
    home = tmp_path / "home"
    home.mkdir()
    result = workdir.newswatch("crawl", HOME=str(home), XDG_STATE_HOME=str(home / "state"),
                               XDG_DATA_HOME=str(home / "data"))
    assert result.returncode == 0, result.stderr
    assert "1 new article(s)" in result.stdout
    assert list(home.rglob("*")) == []
    assert "remote control" not in (result.stdout + result.stderr).lower()


def test_a_feed_cannot_send_the_crawler_inside_its_network(site, workdir):
    """A feed on another network than the links it lists: a page at a cloud's instance
    metadata address (169.254.169.254, in any of its spellings) or on a private network is
    not fetched (its entry is kept with the feed's summary, with the reason); before, its
    text was fetched, stored, searchable and mailed. The feed here is on 127.0.0.1, so a
    link to 127.0.0.1 is of its own kind and goes (what every other test does)."""
    import json

    inner = ["http://169.254.169.254/latest/meta-data/iam/", "http://2852039166/latest/",
             "http://[::ffff:169.254.169.254]/x", "http://10.0.0.1/admin"]
    when = "Mon, 30 Nov 2026 10:00:00 GMT"
    items = "".join(
        f"<item><title>Item {n}</title><link>{link}</link><description>Summary {n} of the "
        f"item.</description><pubDate>{when}</pubDate></item>" for n, link in enumerate(inner))
    feed = site.serve("/h/inner.rss", f'<?xml version="1.0"?><rss version="2.0"><channel>'
                      f"<title>Inner</title><link>{site.url('/')}</link>{items}</channel>"
                      f"</rss>".encode())
    workdir.write_config(sources=[feed])
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    rows = {r["url"]: r for r in map(json.loads, workdir.newswatch("export").stdout.splitlines())}
    assert len(rows) == 4, rows
    assert {r["extraction"] for r in rows.values()} == {"feed"}  # the summaries
    notes = [r["extraction_note"] for r in rows.values()]
    assert sum("is a link-local address" in n for n in notes) == 3, notes
    assert sum("10.0.0.1 is a private-network address" in n for n in notes) == 1, notes
    assert all(r["text"].startswith("Summary") for r in rows.values())
