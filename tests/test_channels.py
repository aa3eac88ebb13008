"""Notification URLs beside email (Apprise): a real local webhook receives the alerts that a
topic's ``json://`` URL asks for, through the same outbox, retries and exactly-once marks."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from test_alerts import NOW, POLICY, SmtpSink, outbox_email
from test_end_to_end import MADURO, fresh

import alerts.channels
import storage
from alerts import (
    MboxTransport,
    SmtpTransport,
    check_channel,
    deliver_due,
    is_channel,
    redact,
)
from alerts.channels import LONGEST_WAIT, asked_wait
from alerts.deliver import GIVE_UP, MailOutage
from scheduler.pipeline import Pipeline
from storage.views import Requeued

SECRET = "s3cr3t-token"


class Hook:
    """A webhook on 127.0.0.1: records each POST and answers with the next queued status."""

    def __init__(self) -> None:
        self.posts: list[dict[str, object]] = []
        self.statuses: list[int] = []  # answers to give, in order (0: none); then 200
        self.received = 0  # POSTs read whole, answered or not
        self.slow = 0.0  # seconds to wait before answering, the POST taken
        self.gets: list[str] = []  # paths asked for with GET (a redirected POST)
        self.drip = 0.0  # seconds to answer in, a byte every 0.2 s, the POST taken
        self.retry_after = ""  # the Retry-After of a 429 or 503 answer
        self.lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with hook.lock:
                    hook.received += 1
                    status = hook.statuses.pop(0) if hook.statuses else 200
                    if status == 200:
                        hook.posts.append(json.loads(body))
                if hook.slow:
                    time.sleep(hook.slow)
                if hook.drip:
                    ticks = int(hook.drip / 0.2)
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % ticks)
                    for _ in range(ticks):
                        time.sleep(0.2)
                        try:
                            self.wfile.write(b" ")
                            self.wfile.flush()
                        except OSError:  # the sender gave up
                            return
                    return
                if status == 0:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/moved")
                if status in (429, 503) and hook.retry_after:
                    self.send_header("Retry-After", hook.retry_after)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:  # a landing page, as a service's web site has
                with hook.lock:
                    hook.gets.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self) -> str:
        return f"json://newswatch:{SECRET}@127.0.0.1:{self.port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook()
    yield server
    server.close()


def test_a_topic_alerts_by_email_and_by_notification_url(site, mail, hook, workdir) -> None:
    story = fresh("venezuela-opposition-leader")
    site.publish(story)
    topic = {**MADURO, "notify": ["desk@test.example", hook.url()]}
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[topic], smtp=mail)

    crawl = workdir.newswatch("crawl")
    assert crawl.returncode == 0, crawl.stderr
    assert "delivered 2 email(s)" in crawl.stdout
    [message] = mail.wait_for(1)
    [post] = hook.posts
    assert post["title"] == message["Subject"]
    body = str(post["message"])
    assert story.title in " ".join(body.replace("*", "").split())  # wrapped at 72 columns
    assert site.article_url(story.slug) in body
    assert "*Nicolás Maduro*" in body  # the plain-text alert, highlights and all

    again = workdir.newswatch("crawl")
    assert again.returncode == 0
    assert len(hook.posts) == 1 and len(mail.messages) == 1

    # The URL's secret never shows: not in output, status, topics list or the email.
    status = workdir.newswatch("status")
    listed = workdir.newswatch("topics", "list")
    shown = crawl.stdout + crawl.stderr + status.stdout + listed.stdout + body
    assert SECRET not in shown
    assert f"json://newswatch:****@127.0.0.1:{hook.port}/hook" in listed.stdout
    assert SECRET not in workdir.newswatch("status", "--json").stdout


def test_a_failing_hook_is_retried_and_notified_once(site, mail, hook, workdir, wait) -> None:
    site.publish(fresh("venezuela-opposition-leader"))
    hook.statuses = [500, 503]
    topic = {**MADURO, "notify": ["desk@test.example", hook.url()]}
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[topic], smtp=mail)

    first = workdir.newswatch("crawl")
    assert first.returncode == 3  # one alert could not be delivered yet
    assert "Traceback" not in first.stderr and SECRET not in first.stderr
    assert "json://newswatch:****@" in first.stderr
    # The email did not wait for the hook.
    mail.wait_for(1)
    assert "alerts: 1 pending, 1 sent" in workdir.newswatch("status").stdout

    # Retried with back-off (retry_base = 1s in tests) until the hook takes it.
    assert wait(lambda: workdir.newswatch("crawl").returncode == 0 and hook.posts, 30, 0.5)
    assert workdir.newswatch("crawl").returncode == 0
    assert len(hook.posts) == 1 and len(mail.messages) == 1
    assert "alerts: 0 pending, 2 sent, 0 failed" in workdir.newswatch("status").stdout


def test_a_hook_that_takes_the_alert_but_answers_late_gets_it_three_times_at_most(
    site, mail, hook, workdir, wait
) -> None:
    """A webhook that posts the alert but answers after the read timeout: each retry posted
    it again, for ever. Sent as perhaps delivered: three attempts, then failed for good."""
    site.publish(fresh("venezuela-opposition-leader"))
    hook.slow = 1.5
    topic = {**MADURO, "notify": [hook.url() + "?rto=0.5"]}
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[topic], smtp=mail)
    assert workdir.newswatch("crawl").returncode == 3
    assert wait(lambda: workdir.newswatch("crawl").returncode in (0, 3)
                and "1 failed" in workdir.newswatch("status").stdout, 60, 0.5)
    for _ in range(3):
        workdir.newswatch("crawl")
    assert hook.received == 3, hook.received
    status = workdir.newswatch("status").stdout
    assert "perhaps delivered" in status and "not sent again after 3 attempts" in status, status


def test_secrets_of_a_url_waiting_for_a_digest_are_masked(site, mail, hook, workdir) -> None:
    """A digest topic's URL was shown whole in status's digests (text and JSON), and a
    generic webhook's token in its path everywhere (Apprise masks the tokens it knows)."""
    site.publish(fresh("venezuela-opposition-leader"))
    url = f"json://newswatch:{SECRET}@127.0.0.1:{hook.port}/services/T0/B0/PathToken123"
    topic = {**MADURO, "notify": [url], "mode": "digest"}
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[topic], smtp=mail)
    assert workdir.newswatch("crawl").returncode == 0
    shown = (workdir.newswatch("status").stdout + workdir.newswatch("status", "--json").stdout
             + workdir.newswatch("topics", "list").stdout)
    assert "1 alert(s) waiting" in shown
    assert SECRET not in shown and "PathToken123" not in shown
    assert redact(url) == f"json://newswatch:****@127.0.0.1:{hook.port}/se…/T0/B0/Pa…"


def test_a_url_that_failed_in_a_run_is_not_tried_again_in_it(site, mail, hook, workdir, wait):
    """A hung service cost its timeout for every message waiting for it, and the emails
    behind them waited as long: once one of its messages failed, the rest wait for the next
    run."""
    site.publish(fresh("venezuela-opposition-leader"))
    hook.statuses = [500, 500]
    topic = {**MADURO, "notify": ["desk@test.example", hook.url()]}
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[topic], smtp=mail)
    assert workdir.newswatch("crawl").returncode == 3
    assert hook.received == 1
    site.publish(fresh("maduro-abandona-venezuela"))
    time.sleep(1.2)  # the first message due again (retry_base = 1s in tests)
    assert workdir.newswatch("crawl").returncode == 3
    assert hook.received == 2  # the first, refused again; the second not tried in that run
    assert len(mail.wait_for(2)) == 2  # the emails did not wait
    assert wait(lambda: workdir.newswatch("crawl").returncode == 0 and len(hook.posts) == 2,
                30, 0.5)


def test_a_headline_cannot_call_a_whole_channel(site, mail, hook, workdir) -> None:
    """A feed title "… @channel" reached Mattermost and Discord as written: everyone in the
    channel was called. Mass mentions arrive inert (a zero-width space after the @)."""
    story = replace(fresh("venezuela-opposition-leader"),
                    title="Maduro resigns @channel @here read now")
    site.publish(story)
    topic = {**MADURO, "notify": [hook.url()]}
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[topic], smtp=mail)
    assert workdir.newswatch("crawl").returncode == 0
    [post] = hook.posts
    text = f"{post['title']} {post['message']}"
    assert "@channel" not in text and "@here" not in text
    assert "@\u200bchannel" in text and "@\u200bhere" in text


def test_apprise_never_writes_a_token_in_the_log(site, mail, hook, workdir) -> None:
    """At daemon.log_level = "DEBUG", Apprise's own lines wrote each URL with its token
    ("Slack POST URL: https://hooks.slack.com/services/T1/A1/TOKEN") and the alert's text."""
    site.publish(fresh("venezuela-opposition-leader"))
    hook.statuses = [500]
    topic = {**MADURO, "notify": [hook.url() + "/PathToken123"]}
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[topic], smtp=mail)
    text = workdir.config.read_text(encoding="utf-8")
    workdir.config.write_text(text.replace('[daemon]\ntick = "1s"\n',
                                           '[daemon]\ntick = "1s"\nlog_level = "DEBUG"\n'))
    failed = workdir.newswatch("crawl")
    assert failed.returncode == 3 and "DEBUG" in failed.stderr  # the log was at DEBUG
    assert "PathToken123" not in failed.stderr and SECRET not in failed.stderr
    assert "json://newswatch:****@" in failed.stderr


def test_a_url_apprise_does_not_know_is_a_config_error(workdir) -> None:
    topic = {**MADURO, "notify": ["desk@test.example", "nosuchservice://abc"]}
    workdir.write_config(topics=[topic])
    result = workdir.newswatch("check")
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "topics[0].notify" in line and "nosuchservice://" in line

    workdir.write_config(topics=[MADURO])
    added = workdir.newswatch("topics", "add", "X", "maduro", "--notify", "not-an-address")
    assert added.returncode == 2
    assert "--notify" in added.stderr and "is not an email address" in added.stderr


def test_a_url_of_several_targets_is_a_config_error(workdir) -> None:
    """Apprise sends to every target of a URL (ntfy topics, Telegram chats, Slack channels)
    and says only "failed" when one of them fails: the retry alerted the others again, at
    every back-off step while that target was down. One URL a target keeps them apart."""
    topic = {**MADURO, "notify": ["ntfy://127.0.0.1/team-up/team-down"]}
    workdir.write_config(topics=[topic])
    result = workdir.newswatch("check")
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "topics[0].notify" in line and "sends to 2 targets at once" in line
    assert "give each target a URL of its own" in line

    topic = {**MADURO, "notify": ["ntfy://127.0.0.1/team-up", "ntfy://127.0.0.1/team-down"]}
    workdir.write_config(topics=[topic])
    assert workdir.newswatch("check").returncode == 0


def test_urls_without_apprise_installed_say_how_to_get_it(monkeypatch) -> None:
    monkeypatch.setattr(alerts.channels, "_apprise", lambda: None)
    with pytest.raises(ValueError, match=r"pip install 'newswatch\[apprise\]'"):
        check_channel("ntfy://alerts")


@pytest.mark.parametrize(
    ("recipient", "masked"),
    [
        ("desk@test.example", "desk@test.example"),
        (f"json://user:{SECRET}@127.0.0.1:9/hook", "json://user:****@127.0.0.1:9/hook"),
        ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general", "slack://T...2/"),
        ("nosuchservice://abc", "nosuchservice://…"),
    ],
)
def test_redact_masks_the_secrets_of_notification_urls(recipient: str, masked: str) -> None:
    assert is_channel(recipient) == ("://" in recipient)
    assert redact(recipient).startswith(masked)
    assert SECRET not in redact(recipient) and "TIiajkdnlazkcOXrIdevi7FQ" not in redact(recipient)


def test_a_body_longer_than_the_service_takes_is_cut_to_its_limit() -> None:
    # Discord takes 2,000 characters, Telegram 4,096: an alert of a few stories with their
    # snippets is longer. Apprise's own default hands it on whole and the service refuses it
    # (retried without end); here it is cut to the limit unless the URL says otherwise.
    from datetime import UTC, datetime

    from alerts.compose import AlertItem, compose

    items = [
        AlertItem(article_id=n, topic_ids=(1,), topics=("Venezuela",), title=f"Story {n}",
                  url=f"https://news.example/{n}", source="Wire", published=None,
                  snippet=((" ".join(["Maduro spoke in Caracas about the oil sector."] * 6),
                            False),))
        for n in range(12)
    ]
    body = compose("desk@test.example", items, datetime(2026, 12, 5, tzinfo=UTC)).text
    for url, limit in (("discord://1234567/abcdefgh", 2000),
                       ("tgram://123456789:abcdefg_hijklmnop/12315544/", 4096)):
        assert len(body) > limit
        plugin = alerts.channels._plugin(url)
        assert plugin.body_maxlen == limit
        [part] = plugin._apply_overflow(body=body, title="[newswatch] Venezuela")
        assert len(part["body"]) <= limit and "newswatch found 12 new stories" in part["body"]
        split = alerts.channels._plugin(url + "?overflow=split")
        parts = split._apply_overflow(body=body, title="[newswatch] Venezuela")
        assert len(parts) > 1 and all(len(p["body"]) <= limit for p in parts)


@pytest.mark.parametrize("status", [400, 401, 404, 413])
def test_a_hook_that_refuses_for_good_fails_once_with_its_reason(
    site, mail, hook, workdir, status
) -> None:
    """A deleted webhook (404), a revoked token (401), an alert the service will not take
    (400, 413) got the same answer at every back-off step, for ever, the alert "pending" in
    `status`. A 4xx other than 408/425/429 fails the alert for good at once, its HTTP status
    in the log and in `status` (`resend` queues it again once the URL is mended)."""
    site.publish(fresh("venezuela-opposition-leader"))
    hook.statuses = [status] * 5
    topic = {**MADURO, "notify": ["desk@test.example", hook.url()]}
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[topic], smtp=mail)
    first = workdir.newswatch("crawl")
    assert first.returncode == 3 and hook.received == 1
    assert "failed for good" in first.stderr and f"error={status}" in first.stderr
    assert "refused for good" in first.stderr and SECRET not in first.stderr
    mail.wait_for(1)  # the email went all the same
    time.sleep(2.2)  # past any back-off (retry_max = 2s in tests)
    workdir.newswatch("crawl")
    assert hook.received == 1  # not asked again
    status_text = workdir.newswatch("status").stdout
    assert "alerts: 0 pending, 1 sent, 1 failed" in status_text, status_text
    assert f"error={status}" in status_text

    hook.statuses = []
    assert workdir.newswatch("resend").returncode == 0
    assert workdir.newswatch("crawl").returncode == 0
    assert len(hook.posts) == 1 and len(mail.messages) == 1


def test_resend_says_when_an_alert_waits_for_its_service(site, mail, hook, workdir) -> None:
    """An alert refused for good (a deleted webhook, mended since), resent while the service
    asks to wait (a 429 to the next alert): queued, not tried before the wait ends, and the
    output says so (it said "queued again", and the alert seemed lost)."""
    site.publish(fresh("venezuela-opposition-leader"))
    hook.statuses, hook.retry_after = [404, 429], "3600"
    topic = {**MADURO, "notify": [hook.url()]}
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[topic], smtp=mail)
    assert workdir.newswatch("crawl").returncode == 3 and hook.received == 1
    site.publish(fresh("maduro-abandona-venezuela"))
    workdir.newswatch("crawl")
    assert hook.received == 2
    assert "alerts: 1 pending, 0 sent, 1 failed" in workdir.newswatch("status").stdout
    resend = workdir.newswatch("resend")
    assert resend.returncode == 0, resend.stderr
    assert resend.stdout.startswith("queued again 1 alert(s) that had failed"), resend.stdout
    assert "1 of them due after the service's wait" in resend.stdout, resend.stdout
    workdir.newswatch("crawl")
    assert hook.received == 2 and hook.posts == []
    assert "alerts: 2 pending, 0 sent, 0 failed" in workdir.newswatch("status").stdout


@pytest.mark.parametrize("status", [408, 429])
def test_a_hook_that_says_later_is_retried(site, mail, hook, workdir, wait, status) -> None:
    site.publish(fresh("venezuela-opposition-leader"))
    hook.statuses = [status]
    topic = {**MADURO, "notify": [hook.url()]}
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[topic], smtp=mail)
    assert workdir.newswatch("crawl").returncode == 3
    assert wait(lambda: workdir.newswatch("crawl").returncode == 0 and hook.posts, 30, 0.5)
    assert "0 pending, 1 sent, 0 failed" in workdir.newswatch("status").stdout


@pytest.mark.parametrize("status", [429, 503])
def test_a_service_that_says_when_to_come_back_is_not_asked_sooner(
    hook, store_location, tmp_path, status
) -> None:
    """A service rate-limiting us (ntfy's, Discord's 429) or in maintenance (503) says when
    to come back in its Retry-After, which Apprise does not pass on: the alert was retried
    on newswatch's back-off (a minute, not the two asked), and the URL's other alert at the
    next run, each answered 429 again. They wait as asked."""
    hook.statuses, hook.retry_after = [status], "120"
    mbox = MboxTransport(tmp_path / "mbox")
    with storage.open_store(store_location) as store:
        store.record_matches([], [outbox_email(hook.url(), "first"),
                                  outbox_email(hook.url(), "second")], watermark=0, now=NOW)

        def deliver(seconds: float) -> alerts.DeliveryReport:
            when = NOW + timedelta(seconds=seconds)
            return asyncio.run(deliver_due(store, mbox, now=when, policy=POLICY))

        first = deliver(0)
        assert (first.sent, first.retrying, first.failed) == (0, 2, 0)
        assert "asked to wait 120 s" in first.errors[0], first.errors
        assert deliver(119).sent == 0 and hook.received == 1
        assert deliver(120).sent == 2 and len(hook.posts) == 2
        assert store.outbox_counts() == {"pending": 0, "sent": 2, "failed": 0}


def _delivering(store: storage.Store, tmp_path: Path) -> Callable[[float], alerts.DeliveryReport]:
    """A delivery run at NOW plus so many seconds (the emails to an mbox)."""
    mbox = MboxTransport(tmp_path / "mbox")

    def deliver(seconds: float) -> alerts.DeliveryReport:
        when = NOW + timedelta(seconds=seconds)
        return asyncio.run(deliver_due(store, mbox, now=when, policy=POLICY))

    return deliver


def test_a_wait_asked_is_not_a_failed_attempt(hook, store_location, tmp_path) -> None:
    """A rate limit honoured is no failure: each 429 counted as an attempt, and the back-off
    (a minute, doubling to an hour) outgrew the five seconds asked, the alert later at each
    answer. Asked again and again, it waits as long as asked each time, attempts uncounted."""
    hook.statuses, hook.retry_after = [429] * 4, "5"
    with storage.open_store(store_location) as store:
        store.record_matches([], [outbox_email(hook.url(), "first")], watermark=0, now=NOW)
        deliver = _delivering(store, tmp_path)
        for seconds in (0, 5, 10, 15):
            assert deliver(seconds).retrying == 1 and hook.received == seconds // 5 + 1
            [waiting] = store.outbox_problems()
            assert waiting.attempts == 0, waiting
            assert waiting.next_attempt == NOW + timedelta(seconds=seconds + 5)
        assert deliver(20).sent == 1 and len(hook.posts) == 1


def test_an_alert_queued_while_its_service_waits_waits_too(
    hook, store_location, tmp_path
) -> None:
    """The wait asked is the service's: an alert queued for its URL while it runs was tried
    at its first delivery run, and earned another 429 (a longer wait, for some services)."""
    hook.statuses, hook.retry_after = [429], "120"
    with storage.open_store(store_location) as store:
        store.record_matches([], [outbox_email(hook.url(), "first")], watermark=0, now=NOW)
        deliver = _delivering(store, tmp_path)
        assert deliver(0).retrying == 1 and hook.received == 1
        later = NOW + timedelta(seconds=30)
        second = replace(outbox_email(hook.url(), "second"), created=later)
        store.record_matches([], [second], watermark=0, now=later)
        assert deliver(30).retrying == 0 and hook.received == 1
        assert deliver(120).sent == 2 and hook.received == 3
        assert store.outbox_counts() == {"pending": 0, "sent": 2, "failed": 0}


def test_a_service_that_asks_to_wait_for_ever_fails_the_alert_after_five_days(
    hook, store_location, tmp_path
) -> None:
    """Waits asked are not counted as attempts, but a service that never stops asking (a
    revoked plan answering 429 to all) fails its alerts as a mail server deferring them does:
    five days after they were made, with the reason in `status`, for `resend`."""
    hook.statuses, hook.retry_after = [429, 429], "3600"
    with storage.open_store(store_location) as store:
        store.record_matches([], [outbox_email(hook.url(), "first")], watermark=0, now=NOW)
        deliver = _delivering(store, tmp_path)
        assert deliver(0).retrying == 1
        assert deliver(GIVE_UP.total_seconds()).failed == 1 and hook.received == 2
        [failed] = store.outbox_problems()
        assert failed.status == "failed" and failed.last_error is not None
        assert "asked to wait 3600 s" in failed.last_error
        assert "given up after 5 days" in failed.last_error


def test_an_alert_resent_while_its_service_waits_is_due_when_the_wait_ends(
    hook, store_location, tmp_path
) -> None:
    """`resend` queued the alerts failed as due at once, the wait their service had asked
    for still running: the first was tried at the next run and answered 429 again. Those
    wait for its end, as alerts queued meanwhile do, and `resend` says until when."""
    hook.statuses, hook.retry_after = [429, 429], "3600"
    with storage.open_store(store_location) as store:
        store.record_matches([], [outbox_email(hook.url(), "first")], watermark=0, now=NOW)
        deliver = _delivering(store, tmp_path)
        assert deliver(0).retrying == 1
        given_up = GIVE_UP.total_seconds()
        assert deliver(given_up).failed == 1 and hook.received == 2
        resent = NOW + GIVE_UP + timedelta(minutes=1)
        assert store.requeue_failed(NOW, resent) == Requeued(
            1, 1, NOW + GIVE_UP + timedelta(hours=1))
        assert deliver(given_up + 60).retrying == 0 and hook.received == 2
        assert deliver(given_up + 3600).sent == 1 and len(hook.posts) == 1


def test_housekeeping_forgets_the_waits_that_ended(hook, store_location, tmp_path) -> None:
    """A wait that ended holds nothing back, yet each URL ever rate-limited kept its row
    for good: the hourly housekeeping forgets it, not one still running."""
    hook.statuses, hook.retry_after = [429], "120"
    with storage.open_store(store_location) as store:
        store.record_matches([], [outbox_email(hook.url(), "first")], watermark=0, now=NOW)
        assert _delivering(store, tmp_path)(0).retrying == 1

        def holds() -> list[str]:
            return [str(r[0]) for r in store.db.execute("SELECT recipient FROM recipient_holds")]

        for seconds, left in ((119, [hook.url()]), (120, [])):
            pipeline = Pipeline(store=store, crawler=None, transport=None,  # type: ignore[arg-type]
                                lookback=timedelta(days=2), retry=POLICY,
                                clock=lambda seconds=seconds: NOW + timedelta(seconds=seconds))
            pipeline.housekeeping()
            assert holds() == left


def test_prune_forgets_the_waits_that_ended(hook, store_location, workdir) -> None:
    """Run from cron beside `crawl` (no daemon, no hourly housekeeping), `prune` left each
    URL ever rate-limited its row for good: it forgets the waits that ended too."""
    if isinstance(store_location, str):  # on PostgreSQL too
        workdir.database_url = store_location
    workdir.write_config(topics=[{**MADURO, "notify": [hook.url()]}])
    ended, running = hook.url(), hook.url().replace("/hook", "/other")
    with storage.open_store(workdir.database_url or workdir.database) as store:
        store.hold_recipient(ended, storage.utcnow() - timedelta(minutes=1))
        store.hold_recipient(running, storage.utcnow() + timedelta(hours=1))
    pruned = workdir.newswatch("prune")
    assert pruned.returncode == 0, pruned.stderr
    with storage.open_store(workdir.database_url or workdir.database) as store:
        held = store.db.execute("SELECT recipient FROM recipient_holds").fetchall()
    assert [str(r[0]) for r in held] == [running]


def test_a_wait_asked_while_the_clock_was_ahead_ends_when_it_is_set_back(
    hook, store_location, tmp_path
) -> None:
    """A service's wait recorded while the clock was a day ahead ends a day and an hour
    later by the mended clock: the alert it held is due at once (due_now), but a new alert
    to its URL waited a day for it. None waits once the clock is set back (the service
    asks again if its wait still runs)."""
    hook.statuses, hook.retry_after = [429], "3600"
    ahead = NOW + timedelta(days=1)
    with storage.open_store(store_location) as store:
        store.record_matches([], [replace(outbox_email(hook.url(), "first"), created=ahead)],
                             watermark=0, now=ahead)
        deliver = _delivering(store, tmp_path)
        assert deliver(timedelta(days=1).total_seconds()).retrying == 1
        store.due_now(NOW)
        store.record_matches([], [outbox_email(hook.url(), "second")], watermark=0, now=NOW)
        assert deliver(0).sent == 2 and len(hook.posts) == 2
        assert store.db.execute("SELECT COUNT(*) FROM recipient_holds").fetchone()[0] == 0


def test_a_wait_asked_is_read_as_seconds_or_a_date_and_capped() -> None:
    assert asked_wait(429, "120", NOW) == 120
    assert asked_wait(503, "Wed, 25 Nov 2026 14:05:00 GMT", NOW) == 300
    assert asked_wait(503, "Wed, 25 Nov 2026 13:05:00 GMT", NOW) == 0
    assert asked_wait(429, "864000", NOW) == LONGEST_WAIT  # ten days: six hours at most
    assert asked_wait(429, None, NOW) is None and asked_wait(429, "soon", NOW) is None
    assert asked_wait(500, "120", NOW) is None  # a Retry-After only says so with 429, 503


def test_a_hook_down_then_slow_is_not_given_up_after_one_perhaps_delivered_copy(
    site, mail, hook, workdir, wait
) -> None:
    """The three copies at most counted every attempt: a service that answered 500 twice
    (nothing posted), then timed out once while it came back, had the alert failed for good
    as "perhaps delivered" three times, after one copy at most: lost when that one was not
    posted either. Only the sends that may have delivered it count."""
    site.publish(fresh("venezuela-opposition-leader"))
    hook.statuses = [500, 500]
    topic = {**MADURO, "notify": [hook.url() + "?rto=0.5"]}
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[topic], smtp=mail)
    assert workdir.newswatch("crawl").returncode == 3
    assert wait(lambda: workdir.newswatch("crawl").returncode == 3 and hook.received == 2, 30, 0.5)
    hook.slow = 1.5
    assert wait(lambda: workdir.newswatch("crawl").returncode == 3 and hook.received == 3, 30, 0.5)
    assert "0 failed" in workdir.newswatch("status").stdout
    hook.slow = 0
    assert wait(lambda: workdir.newswatch("crawl").returncode == 0 and hook.received == 4, 30, 0.5)
    assert "0 pending, 1 sent, 0 failed" in workdir.newswatch("status").stdout


@pytest.mark.parametrize("status", [301, 302, 303])
def test_a_hook_that_redirects_is_a_clear_error_not_a_lost_alert(
    site, mail, hook, workdir, status
) -> None:
    """A webhook moved (an http:// URL answered 301 to https://, as a self-hosted ntfy
    behind nginx does): the POST was followed as a GET (requests does so for 301-303), the
    service's web page answered 200, and the alert was marked sent, posted nowhere.
    Redirects are not followed: the alert fails for good, saying so, and is sent again by
    `resend` once the URL is the new one."""
    site.publish(fresh("venezuela-opposition-leader"))
    hook.statuses = [status]
    topic = {**MADURO, "notify": [hook.url()]}
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[topic], smtp=mail)
    first = workdir.newswatch("crawl")
    assert first.returncode == 3, first.stderr
    assert hook.gets == [] and hook.received == 1
    status_text = workdir.newswatch("status").stdout
    assert "0 sent, 1 failed" in status_text and "redirect" in status_text, status_text
    assert workdir.newswatch("resend").returncode == 0
    assert workdir.newswatch("crawl").returncode == 0
    assert len(hook.posts) == 1


def test_a_hook_that_drops_the_connection_after_the_post_counts_as_perhaps_delivered(
    site, mail, hook, workdir, wait
) -> None:
    """The connection closed after the POST was read, before any answer: it may have been
    posted. Sent again, the three copies at most counting it and not the 500 before it
    (given up after a 500 and two drops, the alert was lost when neither was posted)."""
    site.publish(fresh("venezuela-opposition-leader"))
    hook.statuses = [500, 0, 0]  # 0: the request read whole, the connection closed unanswered
    topic = {**MADURO, "notify": [hook.url()]}
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[topic], smtp=mail)
    assert workdir.newswatch("crawl").returncode == 3
    assert wait(lambda: "perhaps delivered" in workdir.newswatch("crawl").stderr, 30, 0.5)
    assert wait(lambda: workdir.newswatch("crawl").returncode == 0 and hook.posts, 30, 0.5)
    assert hook.received == 4
    assert "0 pending, 1 sent, 0 failed" in workdir.newswatch("status").stdout


def test_a_hook_that_answers_a_byte_at_a_time_does_not_hold_the_emails(
    site, mail, hook, workdir
) -> None:
    """The read timeout bounds each read, not the answer: a service (or a proxy before it)
    dripping its answer held the delivery run, and every email behind it, for as
    long as it went on. A notification has four times its connect and read timeouts in all,
    then is perhaps delivered (sent again, three times at most)."""
    site.publish(fresh("venezuela-opposition-leader"))
    hook.drip = 30.0
    topic = {**MADURO, "notify": [hook.url() + "?rto=0.5&cto=0.5", "desk@test.example"]}
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[topic], smtp=mail)
    started = time.monotonic()
    crawl = workdir.newswatch("crawl")
    assert time.monotonic() - started < 15, crawl.stderr
    assert crawl.returncode == 3 and "perhaps delivered" in crawl.stderr, crawl.stderr
    assert len(mail.wait_for(1)) == 1


def test_a_notification_queued_behind_emails_goes_while_the_mail_server_is_down(
    hook, store_location
) -> None:
    """Found down, the mail server has its own back-off (MailOutage), and the emails due
    wait for its next try. A run read the outbox's first batch alone once the server was
    down, and the emails filled it at every run of the outage: a notification queued
    behind them (more than a batch of alerts waiting) waited as long as the mail server
    was down, where a notification URL's messages go whatever the mail server does."""
    sink = SmtpSink()  # port reserved, nothing listening: the mail server down
    transport = SmtpTransport(sink.settings())
    outage = MailOutage()
    with storage.open_store(store_location) as store:
        emails = [outbox_email(f"r{i}@example.test", f"email {i}") for i in range(3)]
        store.record_matches([], [*emails, outbox_email(hook.url(), "the notification")],
                             watermark=0, now=NOW)
        sent = [asyncio.run(deliver_due(store, transport, now=NOW + timedelta(seconds=seconds),
                                        policy=POLICY, limit=2, outage=outage)).sent
                for seconds in (0, 30, 60)]  # a try, a run before the next, the next try
        assert sent == [1, 0, 0]
        [post] = hook.posts
        assert str(post["title"]).endswith("the notification")
        assert store.outbox_counts() == {"pending": 3, "sent": 1, "failed": 0}
