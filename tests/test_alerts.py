"""alerts: composing alert emails and delivering the outbox to a real SMTP server and mbox."""

from __future__ import annotations

import asyncio
import dataclasses
import email
import email.policy
import email.utils
import logging
import mailbox
import os
import random
import re
import shutil
import socket
import sqlite3
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from mailserver import MailServer, untagged

import storage
from alerts import (
    AlertItem,
    AuthenticationFailed,
    DeliveryError,
    MboxTransport,
    MessageRefused,
    RetryPolicy,
    SendAbandoned,
    SmtpSettings,
    SmtpTransport,
    TransportUnavailable,
    build_message,
    deliver_due,
    format_when,
)
from alerts.compose import compose, writing_direction
from alerts.deliver import MailOutage, list_id

HOST = "127.0.0.1"
NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
POLICY = RetryPolicy(base_seconds=60, max_seconds=3600)


# --- a real SMTP server ------------------------------------------------------------------


def free_port() -> int:
    """A loopback TCP port that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class SmtpSink:
    """aiosmtpd on 127.0.0.1 collecting what it receives; can refuse chosen recipients."""

    def __init__(self, port: int | None = None, **controller_kwargs: Any) -> None:
        # aiosmtpd 1.4.6 connects to its own port to finish starting, so port 0 cannot work.
        self.port = port or free_port()
        self.refuse: dict[str, str] = {}  # recipient -> SMTP reply, e.g. "550 no such user"
        self.drop_after_data = False  # take each message, then close without the reply
        self.refuse_mail: str | None = None  # an SMTP reply to every MAIL FROM
        self.mail_attempts = 0
        self.received: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.peers: list[Any] = []  # the client's address of each message's connection
        self._kwargs = controller_kwargs
        self._controller: Controller | None = None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        self.mail_attempts += 1
        if self.refuse_mail is not None:
            return self.refuse_mail
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.peers.append(session.peer)
        self.received.append(envelope.content)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        if self.drop_after_data:  # queued, then gone without a word (a proxy's idle timeout)
            server.transport.abort()
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        """Everything received, parsed."""
        return [
            cast(EmailMessage, email.message_from_bytes(raw, policy=email.policy.default))
            for raw in self.received
        ]

    def start(self) -> None:
        # A fresh controller each time: a stopped one has closed its event loop.
        self._controller = Controller(
            self, hostname=HOST, port=self.port, server_hostname="mail.newswatch.test",
            ready_timeout=10.0, **self._kwargs,
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def settings(self, **kwargs: Any) -> SmtpSettings:
        return SmtpSettings(host=HOST, port=self.port, sender="alerts@newswatch.test",
                            timeout=10.0, **kwargs)


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def store(store_location: str | Path) -> Iterator[storage.Store]:
    with storage.open_store(store_location) as st:
        yield st


# --- inputs --------------------------------------------------------------------------------


def item(
    article_id: int = 1, *, topics: tuple[str, ...] = ("climate",),
    title: str = "Floods in Valencia", published: datetime | None = NOW - timedelta(hours=1),
    **kwargs: Any,
) -> AlertItem:
    """An AlertItem with sensible defaults."""
    fields: dict[str, Any] = {
        "topic_ids": tuple(range(1, len(topics) + 1)),
        "url": f"https://news.example.test/articles/{article_id}",
        "source": "Example News",
        "snippet": (
            ("Heavy rain and ", False), ("climate", True), (" change, experts say.", False),
        ),
    }
    fields.update(kwargs)
    return AlertItem(article_id=article_id, topics=topics, title=title, published=published,
                     **fields)


def outbox_email(recipient: str = "reader@example.test", subject: str = "hello") -> storage.Email:
    """A composed email with no outbox_items (no article rows needed)."""
    composed = compose(recipient, [item(title=subject)], NOW)
    return dataclasses.replace(composed, items=())


def flat_text(text: str) -> str:
    """``text`` with its lines joined."""
    return " ".join(text.split())


def enqueue(store: storage.Store, *emails: storage.Email) -> list[storage.OutboxMessage]:
    """Put ``emails`` in the outbox the way the pipeline does, and return the due rows."""
    store.record_matches([], list(emails), watermark=0, now=NOW)
    return store.due_outbox(NOW)


def deliver(store: storage.Store, transport: Any, now: datetime = NOW) -> Any:
    return asyncio.run(deliver_due(store, transport, now=now, policy=POLICY))


def daemon_runs(store: storage.Store, transport: Any) -> Callable[[int], Any]:
    """A daemon's delivery runs through ``transport``, each ``seconds`` after NOW, with the
    MailOutage it keeps from one run to the next."""
    outage = MailOutage()

    def run(seconds: int) -> Any:
        return asyncio.run(deliver_due(store, transport, now=NOW + timedelta(seconds=seconds),
                                       policy=POLICY, outage=outage))

    return run


def problems(store: storage.Store) -> dict[str, storage.OutboxProblem]:
    """Outbox rows with an error, by recipient."""
    return {row.recipient: row for row in store.outbox_problems()}


# --- compose -------------------------------------------------------------------------------


def test_format_when() -> None:
    assert format_when(datetime(2026, 11, 25, 14, 5, tzinfo=UTC)) == "25 Nov 2026 14:05 UTC"
    cet = datetime(2026, 3, 1, 0, 30, tzinfo=UTC).astimezone(
        datetime.now(UTC).astimezone().tzinfo
    )
    assert format_when(cet) == "1 Mar 2026 00:30 UTC"
    assert format_when(datetime(2026, 3, 1, 0, 30)) == "1 Mar 2026 00:30 UTC"  # naive = UTC
    assert format_when(None) == "date unknown"


def test_format_when_in_the_readers_time_zone() -> None:
    when = datetime(2026, 11, 25, 14, 5, tzinfo=UTC)
    assert format_when(when, ZoneInfo("America/Caracas")) == (
        "25 Nov 2026 10:05 -04 (America/Caracas)")
    assert format_when(when, ZoneInfo("Europe/Paris")) == "25 Nov 2026 15:05 CET (Europe/Paris)"
    summer = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)
    assert format_when(summer, ZoneInfo("Europe/Paris")) == "2 Jul 2026 00:30 CEST (Europe/Paris)"
    assert format_when(when, ZoneInfo("Asia/Kolkata")) == "25 Nov 2026 19:35 IST (Asia/Kolkata)"
    assert format_when(when, ZoneInfo("Europe/London")) == "25 Nov 2026 14:05 GMT (Europe/London)"
    for utc in (UTC, ZoneInfo("UTC"), ZoneInfo("Etc/UTC")):
        assert format_when(when, utc) == "25 Nov 2026 14:05 UTC"
    assert format_when(when, timezone(timedelta(hours=-3, minutes=-30))) == (
        "25 Nov 2026 10:35 UTC-03:30")
    assert format_when(datetime(2026, 11, 25, 14, 5), ZoneInfo("Asia/Tokyo")) == (
        "25 Nov 2026 23:05 JST (Asia/Tokyo)")  # naive = UTC
    assert format_when(None, ZoneInfo("Asia/Tokyo")) == "date unknown"


def test_compose_in_the_readers_time_zone() -> None:
    late = item(1, published=datetime(2026, 11, 26, 2, 30, tzinfo=UTC))
    mail = compose("r@example.test", [late], NOW, tz=ZoneInfo("America/Caracas"))
    for body in (mail.text, mail.html):
        assert "25 Nov 2026 22:30 -04 (America/Caracas)" in body
    assert mail.created == NOW  # the Date header stays UTC: mail clients localise it
    assert "26 Nov 2026 02:30 UTC" in compose("r@example.test", [late], NOW).text


def test_compose_one_article() -> None:
    one = item(7, topics=("climate", "spain"), title="Floods in Valencia")
    one = dataclasses.replace(one, topic_ids=(3, 4))
    mail = compose("reader@example.test", [one], NOW, domain="alerts.example.test")

    assert mail.subject == "[newswatch] climate, spain — Floods in Valencia"
    assert mail.recipient == "reader@example.test"
    assert re.fullmatch(r"<[0-9a-f]{32}@alerts\.example\.test>", mail.message_id)
    assert mail.created == NOW
    assert mail.items == ((7, 3), (7, 4))
    for body in (mail.text, mail.html):
        assert "Floods in Valencia" in body
        assert "Example News" in body
        assert "25 Nov 2026 13:00 UTC" in body
        assert "https://news.example.test/articles/7" in body
        assert "climate, spain" in body
        assert "newswatch" in body
    assert "watches: climate, spain." in mail.text


def test_compose_several_articles_newest_first_unknown_last() -> None:
    old = item(1, title="Old story", published=NOW - timedelta(days=2))
    undated = item(2, title="Undated story", published=None, topics=("energy",))
    new = item(3, title="New story", published=NOW - timedelta(minutes=5))
    mail = compose("r@example.test", [old, undated, new], NOW, watched=["climate", "energy", "ai"])

    assert mail.subject == "[newswatch] climate, energy — 3 stories"
    for body in (mail.text, mail.html):
        positions = [body.index(t) for t in ("New story", "Old story", "Undated story")]
        assert positions == sorted(positions)
        assert "date unknown" in body
    assert "1. New story" in mail.text and "3. Undated story" in mail.text
    assert "watches: climate, energy, ai." in mail.text
    assert set(mail.items) == {(1, 1), (2, 1), (3, 1)}


def test_an_undated_article_says_when_it_was_found() -> None:
    """A date ahead of now (a CMS a day ahead, a UTC+14 time written as GMT) is no date: the
    alert said "date unknown" where `search` said when it was fetched (a review)."""
    found = item(1, published=None, fetched=NOW - timedelta(minutes=5))
    mail = compose("r@example.test", [found], NOW)
    for body in (mail.text, mail.html):
        assert "found 25 Nov 2026 13:55 UTC" in body and "date unknown" not in body
    assert "date unknown" in compose("r@example.test", [item(1, published=None)], NOW).text


def test_compose_subject_stays_short() -> None:
    topics = tuple(f"a rather long topic name number {n}" for n in range(12))
    mail = compose("r@example.test", [item(1, topics=topics), item(2, topics=topics)], NOW)
    assert len(mail.subject) <= 150
    assert mail.subject.startswith("[newswatch] a rather long topic name number 0, ")
    assert re.search(r" \+\d+ more — 2 stories$", mail.subject)

    title = "A headline that goes on " * 20 + "\nwith a line break"
    mail = compose("r@example.test", [item(1, title=title)], NOW)
    assert len(mail.subject) <= 150
    assert "\n" not in mail.subject
    assert mail.subject.startswith("[newswatch] climate — A headline that goes on")
    assert mail.subject.endswith("…")


def test_compose_highlights_hits() -> None:
    hit = item(
        1, title="Climate summit ends",
        title_segments=(("Climate", True), (" summit ends", False)),
        snippet=(("…the ", False), (" carbon tax ", True), (" was agreed…", False)),
    )
    mail = compose("r@example.test", [hit], NOW)
    assert "1. *Climate* summit ends" in mail.text
    assert "…the *carbon tax* was agreed…" in mail.text  # spaces stay outside the marks
    assert re.search(r"<strong[^>]*>Climate</strong> summit ends", mail.html)
    assert re.search(r"<strong[^>]*> carbon tax </strong>", mail.html)
    assert mail.html.count("<strong") == 2


def test_an_alert_shows_its_headline_once_and_its_text_s_line_breaks() -> None:
    """An audit of real alerts: on a page whose extracted text starts with its <h1>, the
    email showed the headline, then a snippet starting with the same headline; and a
    subheading ran into the sentence after it ("What changes Households will pay…")."""
    from alerts.emails import build_emails
    from watchlist import compile_query, match_articles

    title = "Carbon tax to rise from April, ministers agree"
    article = storage.StoredArticle(
        id=1, url="https://news.example.test/carbon-tax", source_id=1,
        source_name="Example News", title=f"{title} | Example News",
        text=(f"{title}\n"
              "Finance ministers agreed on Monday to raise the carbon tax on heating fuel "
              "from April.\nWhat changes\n"
              "Households will pay about 40 euros a year more, according to the Commission."),
        published=NOW - timedelta(hours=1), fetched=NOW, extraction="page", baseline=False,
    )
    topic = storage.Topic(id=1, name="climate", query="carbon tax",
                          compiled=compile_query("carbon tax"), notify=("r@example.test",))
    matches = match_articles([article], [topic], now=NOW, lookback=timedelta(days=1))
    [mail] = build_emails([article], matches, [topic], NOW)
    text = flat_text(mail.text).replace("*", "")
    assert text.count("to rise from April, ministers agree") == 1
    assert "from April. What changes · Households will pay" in text
    body = mail.html[mail.html.index("<body"):]
    assert body.count("to rise from April, ministers agree") == 1
    assert re.search(r"<p [^>]*>Finance ministers agreed on Monday to raise the <strong", body)
    assert "from April. What changes · Households will pay" in body


def test_compose_escapes_html() -> None:
    nasty = item(
        1, title="<script>alert(1)</script> & more", source="AT&T Newsroom",
        url="https://news.example.test/a?x=1&y=<2>", topics=("<b>t</b>",),
        snippet=(("<img src=x onerror=alert(1)> ", False), ("AT&T", True)),
    )
    mail = compose("r@example.test", [nasty], NOW)
    assert "<script>" not in mail.html
    assert "<img" not in mail.html
    assert "<b>t</b>" not in mail.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in mail.html
    assert "AT&amp;T Newsroom" in mail.html
    assert re.search(r"<strong[^>]*>AT&amp;T</strong>", mail.html)
    assert 'href="https://news.example.test/a?x=1&amp;y=&lt;2&gt;"' in mail.html
    # The plain-text part is not HTML: it shows the text as it is.
    assert "<script>alert(1)</script> & more" in mail.text
    assert "AT&T Newsroom" in mail.text


def test_article_and_topic_text_cannot_break_lines_or_headers(store: storage.Store) -> None:
    evil = item(
        1, title="Breaking\r\nBcc: all@example.test\u2028X-Evil: 1\x00",
        topics=("climate\nX-Topic: 1", "\r\n"), source="Wire\r\nX-Source: 1",
        url="https://news.example.test/a\nX-Url: 1", also_on=(("Other\nX-Also: 1", "https://other.example.test/a\nX-Url: 2"),),
        snippet=(("Line one\r\n\r\nX-Snippet: 1 ", False), ("hit\n", True)),
    )
    mail = compose("r@example.test", [evil], NOW, watched=["climate\nX-Topic: 1"])
    assert mail.subject == (
        "[newswatch] climate X-Topic: 1 — Breaking Bcc: all@example.test X-Evil: 1")
    for line in mail.text.splitlines():
        assert not re.match(r"\s*X-\w+:", line), line  # nothing starts a line of its own
    assert "   Topics: climate X-Topic: 1\n" in mail.text
    assert "Wire X-Source: 1 · " in mail.text
    assert "   https://news.example.test/a X-Url: 1\n" in mail.text
    assert "\x00" not in mail.text + mail.html
    assert "href" not in mail.html  # a URL with a space in it is no link

    [row] = enqueue(store, dataclasses.replace(mail, items=()))
    wire = build_message(row, "alerts@example.test").as_bytes()
    parsed = email.message_from_bytes(wire, policy=email.policy.default)
    assert parsed["Subject"] == mail.subject
    for name in ("Bcc", "X-Evil", "X-Topic", "X-Source", "X-Url", "X-Also", "X-Snippet"):
        assert name not in parsed, name


def test_an_encoded_word_in_a_title_is_shown_not_decoded_into_headers(
    store: storage.Store,
) -> None:
    """A headline carrying RFC 2047 syntax (``=?utf-8?q?=0D=0A...?=``) was decoded when the
    Subject was set: its encoded CR LF became a real one on the wire, adding a Reply-To and
    replacing the body with the headline's text (and a harmless one quoting ``=?utf-8?b?...?=``
    was shown decoded)."""
    title = "Maduro =?utf-8?q?=0D=0AReply-To:_pay@atk.example=0D=0A=0D=0AWire_funds_now?="
    mail = compose("r@example.test", [item(1, title=title)], NOW, watched=["Maduro"])
    [row] = enqueue(store, dataclasses.replace(mail, items=()))
    parsed = email.message_from_bytes(build_message(row, "alerts@example.test").as_bytes(),
                                      policy=email.policy.default)
    assert "Reply-To" not in parsed
    assert parsed.is_multipart() and parsed["Message-ID"] == row.message_id
    shown = str(parsed["Subject"])
    assert "=?utf-8?q?=0D=0AReply-To:_pay@atk.example" in shown.replace("\u200b", ""), shown


def test_a_right_to_left_headline_and_snippet_are_laid_out_from_the_right() -> None:
    """An Arabic headline in an HTML part said lang="en" and no direction: laid out left to
    right, " - Lebanon News" on the wrong side, the snippet's "…" by its first word."""
    arabic = item(1, title="الرئيس يستقبل وفد صندوق النقد الدولي - Lebanon News",
                  snippet=(("…بحث ", False), ("الإصلاحات", True), (" المالية…", False)))
    latin = item(2, title="Floods in Valencia")
    html = compose("r@example.test", [arabic, latin], NOW, watched=["climate"]).html
    assert re.search(r'<h\d dir="rtl" style="[^"]*text-align:right;[^"]*">\s*<a[^>]*>'
                     r'الرئيس', html), html
    assert re.search(r'<p dir="rtl" style="[^"]*text-align:right;[^"]*">…بحث', html)
    assert re.search(r'<h\d dir="ltr" style="[^"]*">\s*<a[^>]*>Floods', html)
    assert writing_direction("123 שלום") == "rtl" and writing_direction("") == "ltr"


def test_a_right_to_left_topic_ends_its_run_in_the_subject(store: storage.Store) -> None:
    """"[newswatch] ترامب — 2 stories" showed as "[newswatch] 2 — ترامب stories" in a
    left-to-right client: the count joined the Arabic name's run (a review). A
    left-to-right mark after the name ends it, and arrives."""
    arabic = ("ترامب", "ضرائب")
    items = [item(1, topics=arabic), item(2, topics=arabic)]
    mail = compose("r@example.test", items, NOW, watched=list(arabic))
    assert mail.subject == "[newswatch] ترامب\u200e, ضرائب\u200e — 2 stories"
    latin = compose("r@example.test", [item(1), item(2)], NOW)
    assert "\u200e" not in latin.subject
    [row] = enqueue(store, dataclasses.replace(mail, items=()))
    parsed = email.message_from_bytes(build_message(row, "alerts@example.test").as_bytes(),
                                      policy=email.policy.default)
    assert str(parsed["Subject"]) == mail.subject


@pytest.mark.parametrize("words", [
    "Мадуро назначил нового министра нефти на фоне падения добычи компании PDVSA",
    "Κυβέρνηση ανακοίνωσε νέα μέτρα για την ενέργεια και τις τιμές του πετρελαίου",
    "Bundesregierung beschließt Maßnahmenpaket für Übergangsfristen bei Gaspreisen",
    "الرئيس اللبناني يستقبل وفداً من صندوق النقد الدولي في بعبدا لبحث الإصلاحات",
    "中国 国家航天局 与 合作伙伴 签署 月球 探测 国际 合作 协议 嫦娥六号 任务",
])
def test_a_non_ascii_subject_arrives_word_for_word(store: storage.Store, words: str) -> None:
    """Folded at 78 columns, a subject's encoded words were split with a space between two of
    them on a continuation line, which readers drop (RFC 2047): "компании нефти" arrived as
    "компаниинефти" in about one subject in eight. Every arrangement of the words arrives as
    written; in encoded words of at most 75 characters, a line with them at most 76 (RFC
    2047: unfolded, a subject was one word of up to 272), bodies in lines of 76 (RFC 2045)."""
    rng = random.Random(words)
    vocabulary = words.split()
    titles = [" ".join(rng.choice(vocabulary) for _ in range(rng.randint(6, 12)))
              for _ in range(40)]
    mails = [compose("r@example.test", [item(1, title=title)], NOW, watched=["Maduro"])
             for title in titles]
    rows = enqueue(store, *[dataclasses.replace(mail, items=()) for mail in mails])
    for mail, row in zip(mails, rows, strict=True):
        wire = build_message(row, "alerts@example.test").as_bytes()
        parsed = email.message_from_bytes(wire, policy=email.policy.default)
        assert str(parsed["Subject"]) == mail.subject
        assert max(len(line) for line in wire.splitlines()) <= 998
        words_ = re.findall(rb"=\?utf-8\?[bq]\?[^?]*\?=", wire, flags=re.IGNORECASE)
        assert words_ and max(map(len, words_)) <= 75
        assert all(len(line) <= 76 for line in wire.splitlines() if b"=?" in line)
        body = wire.split(b"\n\n", 1)[1]
        assert all(len(line) <= 76 for line in body.splitlines()), wire


def test_a_domain_in_non_ascii_letters_reaches_a_server_without_smtputf8(
    store: storage.Store,
) -> None:
    """``leser@bücher.example`` (which the config takes) and a sender at an IDN domain: the
    message failed for good at a server without SMTPUTF8 (most of them), every alert of an
    IDN sender with it. The domain goes in its ASCII form (IDNA), as mail programs send it."""
    with MailServer(smtputf8=False) as server:
        transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port,
                                               sender="alertas@noticias-españa.example",
                                               timeout=5))
        enqueue(store, outbox_email("leser@bücher.example"))
        report = deliver(store, transport)
        assert (report.sent, report.failed, report.errors) == (1, 0, [])
        [(mail_from, rcpt_tos)] = server.envelopes
        assert (mail_from, rcpt_tos) == ("alertas@xn--noticias-espaa-2nb.example",
                                         ["leser@xn--bcher-kva.example"])
        [message] = server.messages
        assert message["To"] == "leser@xn--bcher-kva.example"
        assert "<alertas@xn--noticias-espaa-2nb.example>" in message["From"]


def test_the_text_part_is_wrapped_at_72_columns() -> None:
    """An article of six topics: the intro line (139 columns) and the Topics line (112) were
    not wrapped, as the README says the text part is."""
    names = ["Venezuelan opposition", "Oil & gas", "Sanctions", "Caribbean shipping",
             "Latin American elections", "Central bank"]
    mail = compose("r@example.test", [item(1, topics=tuple(names))], NOW, watched=names)
    for line in mail.text.splitlines():
        assert len(line) <= 72 or "://" in line, line
    assert "matching Venezuelan opposition, Oil & gas," in flat_text(mail.text)
    topics_at = mail.text.index("   Topics: Venezuelan opposition")
    assert mail.text[topics_at:].split("\n")[1].startswith("           ")  # under the names


def test_chinese_japanese_and_korean_lines_are_72_columns_too() -> None:
    # textwrap counts characters and breaks at spaces only: a Japanese snippet ran to 150
    # columns, a Korean one's 70 characters took 119.
    from alerts.compose import columns

    japanese = ("政府は25日、人工知能の安全性に関する新たな指針を公表した。指針は開発企業に対し、"
                "米 OpenAI 社や米グーグルなど主要企業も協議に参加しており、国内外の専門家からは"
                "一定の評価が出ている。")
    korean = "이재명 대통령은 5일 국무회의에서 내년도 예산안을 의결했다고 한국일보가 보도했다. " * 3
    mail = compose("r@example.test", [
        item(1, title="人工知能の安全性に関する新たな指針 " * 3,
             snippet=((japanese, False), ("OpenAI", True), (japanese, False))),
        item(2, snippet=((korean, False),)),
    ], NOW)
    lines = mail.text.splitlines()
    assert max(columns(line) for line in lines) <= 72
    assert max(columns(line) for line in lines) >= 66  # filled, not cut short
    assert "*OpenAI*" in mail.text
    # Nothing lost: the lines hold the whole text (wide characters joined without spaces).
    assert japanese in "".join(line.strip() for line in lines)
    assert " ".join(korean.split()) in " ".join(" ".join(lines).split())


def test_a_japanese_topic_keeps_topic_names_and_dates_whole_in_the_text_part() -> None:
    # Wrapped as wide text, the footer broke a Japanese topic's name between its characters
    # ("東京電" and "力") and the digest's line the date beside it ("25 Nov" and "2026 ...").
    from alerts import RecipientPolicy
    from alerts.compose import columns, compose_digest, format_when
    from alerts.schedule import parse_times

    policy = RecipientPolicy("Asia/Tokyo", parse_times("08:00"))
    since = NOW - timedelta(days=1)
    stamp = format_when(since, policy.zone)
    for prefix in range(40):  # the names and the date fall at each place of their lines
        names = [f"Topic{'x' * prefix}", "地震", "Stock Exchange", "東京電力"][: 3 + prefix % 2]
        items = [item(n, topics=(name,), topic_ids=(n,)) for n, name in enumerate(names, 1)]
        for mail in (compose("r@example.test", items, NOW, watched=names),
                     compose_digest("r@example.test", items, NOW, policy=policy, since=since,
                                    watched=names)):
            lines = mail.text.splitlines()
            assert max(columns(line) for line in lines) <= 72
            intro = lines[: lines.index("")]
            footer = lines[lines.index("-- "):]
            for phrase in names:
                assert any(phrase in line for line in footer), (prefix, phrase, footer)
            if "since" in mail.text:
                assert any(stamp in line for line in intro), (prefix, intro)


def test_a_bidi_override_in_a_title_cannot_reverse_what_follows() -> None:
    # The isolates (U+2066-U+2069) reorder text as well (a review found them in emails).
    title = ("Invoice \u202egnp.exe for Maduro \u202bembedded\u202c, \u2067isolated\u2069 "
             "\u2066too\u2069 \u05e9\u05dc\u05d5\u05dd")
    mail = compose("r@example.test", [item(1, title=title)], NOW, watched=["Maduro"])
    for text in (mail.subject, mail.text, mail.html):
        assert not any(c in text for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068"
                       "\u2069"), text
    assert ("Invoice gnp.exe for Maduro embedded, isolated too \u05e9\u05dc\u05d5\u05dd"
            in mail.subject)


def test_compose_links_only_web_urls() -> None:
    mail = compose("r@example.test", [item(1, url="javascript:alert(1)")], NOW)
    assert "href" not in mail.html
    assert "javascript:alert(1)" in mail.html  # shown, not clickable
    for url in ("http://[broken/a", "https:///no-host", "https://news.example.test/a b"):
        mail = compose("r@example.test", [item(1, url=url, title=" \n ")], NOW)
        assert "href" not in mail.html and url in mail.html and url in mail.text
        assert "1. (untitled)" in mail.text and "(untitled)\n</h2>" in mail.html
    mail = compose("r@example.test", [item(1, url="HTTPS://www.News.example.test/a")], NOW)
    assert 'href="HTTPS://www.News.example.test/a"' in mail.html
    assert "Read at news.example.test</a>" in mail.html


def test_compose_message_ids_are_unique_and_items_required() -> None:
    ids = {compose("r@example.test", [item()], NOW).message_id for _ in range(50)}
    assert len(ids) == 50
    with pytest.raises(ValueError, match="at least one"):
        compose("r@example.test", [], NOW)


# --- the MIME message ----------------------------------------------------------------------


def test_build_message(store: storage.Store) -> None:
    mail = compose("Zoë <zoe@example.test>", [item(title="Café ünïcode")], NOW)
    row = enqueue(store, dataclasses.replace(mail, items=()))[0]
    msg = build_message(row, "newswatch@example.test")
    assert msg["From"] == "newswatch <newswatch@example.test>"
    assert msg["To"] == "Zoë <zoe@example.test>"
    assert msg["Subject"] == "[newswatch] climate — Café ünïcode"
    assert msg["Message-ID"] == row.message_id
    assert msg["Date"] == "Wed, 25 Nov 2026 14:00:00 +0000"
    assert msg["List-Id"] == "newswatch alerts <alerts.newswatch.example.test>"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg["Precedence"] == "bulk"
    assert msg.get_content_type() == "multipart/alternative"
    plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content() == row.text
    assert html.get_content() == row.html
    assert plain.get_content_charset() == "utf-8"
    assert msg.as_bytes().isascii()  # 7-bit clean for any server


@pytest.mark.parametrize(
    ("sender", "from_name", "shown", "wire"),
    [
        ("a@example.test", "newswatch", "newswatch <a@example.test>",
         "From: newswatch <a@example.test>"),
        ("a@example.test", "Redacción, Caracas", '"Redacción, Caracas" <a@example.test>',
         "From: =?utf-8?q?Redacci=C3=B3n=2C?= Caracas <a@example.test>"),
        ("a@example.test", 'The "Desk"', '"The \\"Desk\\"" <a@example.test>',
         'From: "The \\"Desk\\"" <a@example.test>'),
        ("a@example.test", "Desk\r\nBcc: b@example.test",
         '"Desk Bcc: b@example.test" <a@example.test>',
         'From: "Desk Bcc: b@example.test" <a@example.test>'),
        ("Night Desk <a@example.test>", "newswatch", "Night Desk <a@example.test>",
         "From: Night Desk <a@example.test>"),
    ],
)
def test_from_header(sender: str, from_name: str, shown: str, wire: str) -> None:
    msg = build_message(_row(), sender, from_name)
    assert str(msg["From"]) == shown
    assert msg["From"].addresses[0].addr_spec == "a@example.test"
    head = msg.as_bytes().decode("ascii").split("\n\n")[0]
    assert wire in head.splitlines()
    parsed = email.message_from_string(head, policy=email.policy.default)
    assert "Bcc" not in parsed
    assert parsed["From"].addresses[0].display_name == " ".join(
        (email.utils.parseaddr(sender)[0] or from_name).split())


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        ("alerts@news.example.org", "alerts.newswatch.news.example.org"),
        ("Desk <Alerts@News.Example.ORG.>", "alerts.newswatch.news.example.org"),
        ("newswatch@localhost", "alerts.newswatch.localhost"),
        ("a@[127.0.0.1]", "alerts.newswatch.localhost"),
        ("a@bücher.example", "alerts.newswatch.xn--bcher-kva.example"),
        ("a@-bad-.example", "alerts.newswatch.localhost"),
    ],
)
def test_list_id_comes_from_the_from_domain(sender: str, expected: str) -> None:
    assert list_id(sender) == f"newswatch alerts <{expected}>"


def test_an_unusable_from_address_fails_the_message() -> None:
    with pytest.raises(ValueError, match="not an email address"):
        build_message(_row(), "newswatch")


# --- delivery over SMTP --------------------------------------------------------------------


def test_deliver_to_smtp_server(smtp: SmtpSink, store: storage.Store) -> None:
    # Real article and topic rows, so the outbox_items foreign keys are exercised too.
    [source] = store.sync_sources([storage.SourceSpec("https://news.example.test/rss", 600,
                                                      "Example News")], NOW)
    article_id = store.add_article(storage.Article(
        url="https://news.example.test/articles/1",
        entry_url="https://news.example.test/articles/1",
        source_id=source.id, title="Floods in Valencia", text="Heavy rain and climate change.",
        published=NOW - timedelta(hours=1), author=None, fetched=NOW, extraction="page",
    ))
    [topic] = store.sync_topics([storage.TopicSpec("climate", "climate", "climate",
                                                   ("reader@example.test",))])
    assert article_id is not None
    mail = compose("reader@example.test", [item(article_id, topic_ids=(topic.id,))], NOW)
    store.record_matches(
        [storage.Match(article_id, topic.id, ("climate",), alert=True)], [mail],
        watermark=article_id, now=NOW,
    )

    report = deliver(store, SmtpTransport(smtp.settings(from_name="Redacción, Caracas")))

    assert (report.sent, report.retrying, report.failed, report.errors) == (1, 0, 0, [])
    assert store.outbox_counts() == {"pending": 0, "sent": 1, "failed": 0}
    assert smtp.envelopes == [("alerts@newswatch.test", ["reader@example.test"])]
    [received] = smtp.messages
    assert received["Message-ID"] == mail.message_id
    assert received["From"] == '"Redacción, Caracas" <alerts@newswatch.test>'
    assert received["From"].addresses[0].display_name == "Redacción, Caracas"
    assert received["List-Id"] == "newswatch alerts <alerts.newswatch.newswatch.test>"
    assert received["Date"] == "Wed, 25 Nov 2026 14:00:00 +0000"
    assert received["To"] == "reader@example.test"
    assert received["Subject"] == mail.subject
    assert received["Auto-Submitted"] == "auto-generated"
    assert received.get_content_type() == "multipart/alternative"
    plain, html = received.get_body(("plain",)), received.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n") == mail.text
    assert html.get_content().replace("\r\n", "\n") == mail.html
    assert '<a href="https://news.example.test/articles/1"' in html.get_content()
    # Sent once: nothing is due any more.
    assert deliver(store, SmtpTransport(smtp.settings()), NOW + timedelta(days=1)).sent == 0
    assert len(smtp.received) == 1


def test_a_run_sends_every_due_message_not_one_batch(smtp: SmtpSink, store: storage.Store) -> None:
    """`newswatch crawl` sent 100 of 120 queued alerts and exited 0; the rest waited for the
    next run (a review: a cron user's alerts an hour late)."""
    enqueue(store, *(outbox_email(f"reader{n}@example.test") for n in range(7)))
    report = asyncio.run(deliver_due(store, SmtpTransport(smtp.settings()), now=NOW,
                                     policy=POLICY, limit=3))
    assert report.sent == 7 and len(smtp.received) == 7
    assert store.outbox_counts() == {"pending": 0, "sent": 7, "failed": 0}


def test_a_run_sends_its_messages_over_one_connection(smtp: SmtpSink,
                                                       store: storage.Store) -> None:
    """A connection, STARTTLS and login per message: 189 connections for 189 alerts, which
    hosted mail services' limits on connections refuse (a review). One connection carries
    a run's messages, SESSION_MESSAGES at most, a recipient refused on the way included."""
    from alerts.transport import SESSION_MESSAGES

    smtp.refuse["nobody@example.test"] = "550 no such user"
    count = SESSION_MESSAGES + 5
    enqueue(store, *(outbox_email(f"reader{n}@example.test") for n in range(3)),
            outbox_email("nobody@example.test"),
            *(outbox_email(f"reader{n}@example.test") for n in range(3, count)))
    report = asyncio.run(deliver_due(store, SmtpTransport(smtp.settings()), now=NOW,
                                     policy=POLICY))
    assert (report.sent, report.failed) == (count, 1)
    first = smtp.peers[:SESSION_MESSAGES]
    assert len(set(first)) == 1 and len(set(smtp.peers)) == 2, smtp.peers


class CappedSink(SmtpSink):
    """A server that takes ``cap`` messages a connection and answers the next MAIL FROM with
    421 (Exim's smtp_accept_max_per_connection; a relay's idle timeout says 421 too)."""

    cap = 5

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        taken = getattr(session, "taken", 0)
        if taken >= self.cap:
            return "421 4.7.0 Too many messages in this connection, please reconnect"
        session.taken = taken + 1
        return await super().handle_MAIL(server, session, envelope, address, mail_options)


def test_a_server_that_closes_a_session_with_421_gets_the_rest_on_a_new_one(
    store: storage.Store
) -> None:
    # Reused, the session met the server's cap: its 421 was taken for the server down, and
    # 7 of 12 alerts waited for a later run (a review of the change).
    sink = CappedSink()
    sink.start()
    try:
        enqueue(store, *(outbox_email(f"reader{n}@example.test") for n in range(12)))
        report = asyncio.run(deliver_due(store, SmtpTransport(sink.settings()), now=NOW,
                                         policy=POLICY))
    finally:
        sink.stop()
    assert (report.sent, report.retrying, report.failed) == (12, 0, 0)
    assert len(set(sink.peers)) == 3


def test_a_connection_the_server_closed_meanwhile_is_made_again(smtp: SmtpSink) -> None:
    # An idle timeout, a server restarted between two messages of a run: nothing of the
    # next message was taken, which goes on a new connection.
    transport = SmtpTransport(smtp.settings())

    def message(to: str) -> EmailMessage:
        built = EmailMessage()
        built["From"], built["To"], built["Subject"] = "alerts@newswatch.test", to, "Alert"
        built["Message-ID"] = f"<{to}@newswatch.test>"
        built.set_content("Maduro left Caracas.")
        return built

    transport.send(message("a@example.test"))
    smtp.stop()
    smtp.start()
    transport.send(message("b@example.test"))
    transport.close()
    assert [m["To"] for m in smtp.messages] == ["a@example.test", "b@example.test"]
    assert len(set(smtp.peers)) == 2


def test_smtp_down_then_up_delivers_exactly_once(store: storage.Store) -> None:
    sink = SmtpSink()  # port reserved, nothing listening yet
    transport = SmtpTransport(sink.settings())
    first, second = enqueue(store, outbox_email("a@example.test"), outbox_email("b@example.test"))

    report = deliver(store, transport)

    expected_error = f"SMTP 127.0.0.1:{sink.port} unreachable: Connection refused"
    # Both wait for the next run, the one not tried too (`crawl` said "1 to retry" while 3
    # were pending: a review).
    assert (report.sent, report.retrying, report.failed) == (0, 2, 0)
    assert report.errors == [expected_error]
    row = problems(store)["a@example.test"]
    assert row.status == "pending"
    assert row.attempts == 1
    assert row.last_error == expected_error
    assert row.next_attempt == NOW + timedelta(seconds=60)
    # The run stopped at the first connection failure: the second row was not tried.
    assert [(m.id, m.attempts) for m in store.due_outbox(NOW)] == [(second.id, 0)]

    sink.start()
    try:
        # The server is back: the untried row goes, and the row that found the server down
        # is due again at once (it waited its own back-off, up to retry_max: after a long
        # outage, an hour after alerts that came later).
        assert deliver(store, transport, NOW + timedelta(seconds=30)).sent == 1
        report = deliver(store, transport, NOW + timedelta(seconds=30))
        assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
        assert deliver(store, transport, NOW + timedelta(days=1)).sent == 0
    finally:
        sink.stop()
    assert sorted(m["To"] for m in sink.messages) == ["a@example.test", "b@example.test"]
    assert {m["Message-ID"] for m in sink.messages} == {first.message_id, second.message_id}
    assert store.outbox_counts() == {"pending": 0, "sent": 2, "failed": 0}
    assert store.outbox_problems() == []


def test_a_mail_server_down_is_one_warning_a_try_not_one_a_message(
    store: storage.Store, caplog: pytest.LogCaptureFixture
) -> None:
    """Each alert had a back-off of its own: with the server down and alerts queued, every
    run found one due, tried it and logged it (with 200 queued, three lines a run, two runs
    a tick, for as long as the server was down). Now the server has the back-off: the runs
    before its next try send nothing and say nothing; each try that fails is one warning
    saying how many wait and when the next try is; the first that gets through says so."""
    sink = SmtpSink()  # port reserved, nothing listening yet
    transport = SmtpTransport(sink.settings())
    enqueue(store, *(outbox_email(f"r{i}@example.test") for i in range(5)))
    run = daemon_runs(store, transport)

    caplog.set_level(logging.INFO, logger="alerts.deliver")
    down = f"SMTP 127.0.0.1:{sink.port} unreachable: Connection refused"
    for seconds in (0, 30, 60, 90, 150):  # tries at 0, 60 (then 120 s later: 180)
        assert (run(seconds).sent, store.outbox_counts()["pending"]) == (0, 5)
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", f"{down}; 5 alert(s) waiting, next try in 60 s"),
        ("WARNING", f"{down}; 5 alert(s) waiting, next try in 120 s"),
    ]
    caplog.clear()

    sink.start()
    try:
        assert run(180).sent == 5
    finally:
        sink.stop()
    said = [r.getMessage() for r in caplog.records]
    assert f"SMTP 127.0.0.1:{sink.port} reachable again after 180 s down: 5 sent" in said
    assert store.outbox_counts() == {"pending": 0, "sent": 5, "failed": 0}


def test_a_mail_server_down_counts_the_emails_waiting_for_it(
    store: storage.Store, caplog: pytest.LogCaptureFixture
) -> None:
    """The warning that the mail server is down said how many alerts wait: every pending
    message, a notification URL's too (waiting out its service's Retry-After), which goes
    while the server is down. It counts the emails."""
    sink = SmtpSink()  # port reserved, nothing listening
    hook = "json://127.0.0.1/hook"
    store.hold_recipient(hook, NOW + timedelta(hours=1))
    enqueue(store, outbox_email("a@example.test"), outbox_email(hook),
            outbox_email("b@example.test"))
    caplog.set_level(logging.WARNING, logger="alerts.deliver")
    assert deliver(store, SmtpTransport(sink.settings())).retrying == 2
    assert store.outbox_counts()["pending"] == 3
    assert [r.getMessage() for r in caplog.records] == [
        f"SMTP 127.0.0.1:{sink.port} unreachable: Connection refused; 2 alert(s) waiting, "
        "next try in 60 s"]


def test_an_outage_that_ends_on_a_deferral_is_over(
    store: storage.Store, caplog: pytest.LogCaptureFixture
) -> None:
    """The mail server down, then back but deferring the alert (its spool full): it is back.
    The outage was forgotten only once an email went through, so the next outage, a day
    later, kept the first one's start and back-off: "reachable again after 87000 s down",
    and tried again after 120 s, not 60."""
    sink = DeferringSink()  # port reserved, nothing listening yet
    transport = SmtpTransport(sink.settings())
    enqueue(store, outbox_email("a@example.test"))
    run = daemon_runs(store, transport)

    caplog.set_level(logging.INFO, logger="alerts.deliver")
    down = f"SMTP 127.0.0.1:{sink.port} unreachable: Connection refused"
    run(0)
    sink.start()
    try:
        assert (run(60).retrying, sink.deferred) == (1, 1)
    finally:
        sink.stop()
    day = 86_400
    run(day)
    sink.deferring = False
    sink.start()
    try:
        assert run(day + 600).sent == 1
    finally:
        sink.stop()
    assert [(r.levelname, r.getMessage()) for r in caplog.records
            if "reachable" in r.getMessage()] == [
        ("WARNING", f"{down}; 1 alert(s) waiting, next try in 60 s"),
        ("INFO", f"SMTP 127.0.0.1:{sink.port} reachable again after 60 s down: 0 sent"),
        ("WARNING", f"{down}; 1 alert(s) waiting, next try in 60 s"),
        ("INFO", f"SMTP 127.0.0.1:{sink.port} reachable again after 600 s down: 1 sent"),
    ]


def test_a_mail_server_down_is_tried_again_every_five_minutes_at_most() -> None:
    """The server's own back-off stops at OUTAGE_PROBE, whatever alerts.retry_max says: with
    an hour's, a server back after a night's outage held the morning's alerts up to an hour
    more, where a message of each run had found it back within minutes."""
    outage = MailOutage()
    policy = RetryPolicy(base_seconds=60, max_seconds=3600)
    waits = [outage.failed("SMTP relay:25", NOW + timedelta(hours=i), policy).total_seconds()
             for i in range(8)]
    assert waits == [60, 120, 240, 300, 300, 300, 300, 300]


def test_a_refused_login_is_tried_again_on_the_whole_back_off_not_every_five_minutes(
    store: storage.Store, caplog: pytest.LogCaptureFixture
) -> None:
    """A password changed on the mail server: its login refused (535) was tried every five
    minutes, as a server down is, 288 times a day, enough for fail2ban or an account lockout
    on servers that count them. No wait mends it: the outage and the alert wait the whole
    back-off (up to alerts.retry_max), as before the five-minute probe."""
    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                      data: Any) -> AuthResult:
        return AuthResult(success=False, handled=False)

    sink = SmtpSink(authenticator=authenticator, auth_require_tls=False)
    sink.start()
    caplog.set_level(logging.WARNING, logger="alerts.deliver")
    try:
        enqueue(store, outbox_email("lone@example.test"))
        transport = SmtpTransport(sink.settings(username="watcher", password="old-pw"))
        outage = MailOutage()
        policy = RetryPolicy(base_seconds=60, max_seconds=3600)
        at, waits = NOW, []
        for _ in range(8):
            run = asyncio.run(deliver_due(store, transport, now=at, policy=policy,
                                          outage=outage))
            assert (run.sent, run.retrying) == (0, 1)
            row = problems(store)["lone@example.test"]
            assert outage.next_try is not None and row.next_attempt is not None
            assert row.next_attempt >= outage.next_try
            waits.append((outage.next_try - at).total_seconds())
            at = outage.next_try
    finally:
        sink.stop()
    assert waits == [60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert all("login failed for watcher: 535" in r.getMessage() for r in caplog.records)


def test_a_lone_alert_that_found_the_server_down_is_tried_within_five_minutes(
    store: storage.Store,
) -> None:
    """Its own back-off grew to alerts.retry_max (an hour) while the server was down: back,
    the server got it up to an hour later, where 200 queued alerts went within minutes."""
    sink = SmtpSink()  # port reserved, nothing listening yet
    enqueue(store, outbox_email("lone@example.test"))
    transport = SmtpTransport(sink.settings())
    at = NOW
    for _ in range(8):  # eight runs of cron's `newswatch crawl`, each finding it down
        assert asyncio.run(deliver_due(store, transport, now=at, policy=POLICY)).sent == 0
        row = problems(store)["lone@example.test"]
        assert row.next_attempt is not None and row.next_attempt - at <= timedelta(minutes=5)
        at = row.next_attempt
    assert row.attempts == 8
    sink.start()
    try:
        assert asyncio.run(deliver_due(store, transport, now=at, policy=POLICY)).sent == 1
    finally:
        sink.stop()


def test_permanent_refusal_fails_without_retry(smtp: SmtpSink, store: storage.Store) -> None:
    smtp.refuse["nobody@example.test"] = "550 no such user"
    enqueue(store, outbox_email("nobody@example.test"), outbox_email("reader@example.test"))

    report = deliver(store, SmtpTransport(smtp.settings()))

    assert (report.sent, report.retrying, report.failed) == (1, 0, 1)
    [error] = report.errors
    assert error.startswith(f"SMTP 127.0.0.1:{smtp.port} refused recipient nobody@example.test")
    assert error.endswith("550 no such user")
    row = problems(store)["nobody@example.test"]
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, error)
    assert deliver(store, SmtpTransport(smtp.settings()), NOW + timedelta(days=1)).sent == 0
    assert [m["To"] for m in smtp.messages] == ["reader@example.test"]
    assert store.outbox_counts() == {"pending": 0, "sent": 1, "failed": 1}


def test_a_connection_lost_after_the_message_sends_it_again_three_times_at_most(
    smtp: SmtpSink, store: storage.Store
) -> None:
    """A server (or a proxy before it) that takes the message, then closes the connection
    without its reply: the message was sent again at every retry, a copy an hour for ever
    (a review). It may have been delivered: sent again, three attempts at most, then
    failed saying so."""
    smtp.drop_after_data = True
    [row] = enqueue(store, outbox_email("reader@example.test"))
    transport = SmtpTransport(smtp.settings())
    when = NOW
    for attempt in (1, 2, 3):
        report = deliver(store, transport, when)
        assert (report.sent, report.failed) == (0, int(attempt == 3)), attempt
        when += timedelta(days=1)
    [error] = report.errors
    assert "closed the connection after the message's end, before saying whether it took " \
        "it (it may have been delivered)" in error
    assert error.endswith("; not sent again after 3 attempts (the server may have delivered it "
                          "each time)")
    assert (problems(store)["reader@example.test"].status, len(smtp.received)) == ("failed", 3)
    assert deliver(store, transport, when).sent == 0 and len(smtp.received) == 3
    assert {m["Message-ID"] for m in smtp.messages} == {row.message_id}


@pytest.mark.parametrize("reply", [
    "554 5.7.1 <reader@example.test>: Relay access denied",
    "530 5.7.0 Authentication required",
    "550 5.7.26 Unauthenticated email from newswatch.test is not accepted due to domain's "
    "DMARC policy",
    # Postfix refuses the sender at RCPT TO (smtpd_delay_reject, its default): a From
    # the login may not use (reject_sender_login_mismatch), a From domain that does not
    # resolve (reject_unknown_sender_domain).
    "553 5.7.1 <alerts@newswatch.test>: Sender address rejected: not owned by user watcher",
    "550 5.1.8 <alerts@newswatch.test>: Sender address rejected: Domain not found",
])
def test_a_server_that_will_not_relay_for_us_keeps_the_alerts(
    smtp: SmtpSink, store: storage.Store, reply: str
) -> None:
    """A relay that wants a login (Postfix's "Relay access denied"): every alert was failed
    for good, one by one, and none could be sent again once the login was mended (a
    review). The server refuses newswatch as configured: the alerts wait, and go then."""
    smtp.refuse["reader@example.test"] = reply
    enqueue(store, outbox_email("reader@example.test"), outbox_email("other@example.test"))
    transport = SmtpTransport(smtp.settings())
    report = deliver(store, transport)
    assert (report.sent, report.failed) == (0, 0)
    [error] = report.errors
    assert "will not take mail from newswatch as configured (check smtp.username, " \
        "smtp.password and smtp.from)" in error and reply.split()[-1] in error
    assert store.outbox_counts()["pending"] == 2
    del smtp.refuse["reader@example.test"]
    assert deliver(store, transport, NOW + timedelta(hours=2)).sent == 2


def test_a_refusal_that_only_mentions_such_words_is_the_messages(
    smtp: SmtpSink, store: storage.Store
) -> None:
    """Only a security or policy refusal (5.7.x) counts as the server refusing newswatch: a
    mailbox refused for good whose text says "authenticated" fails as any other."""
    smtp.refuse["gone@example.test"] = "550 5.1.1 User unknown (sender authenticated)"
    enqueue(store, outbox_email("gone@example.test"))
    assert deliver(store, SmtpTransport(smtp.settings())).failed == 1


def test_a_server_deferring_newswatchs_mail_stops_the_run(
    smtp: SmtpSink, store: storage.Store
) -> None:
    """A rate limit given at MAIL FROM ("450 4.7.0 too many messages"): every message of the
    run was tried, one refusal after another, each backing off on its own (a review). It
    defers newswatch, not a message: the run stops, the messages wait, and go together."""
    smtp.refuse_mail = "450 4.7.0 Too many messages, slow down"
    enqueue(store, *(outbox_email(f"r{i}@example.test") for i in range(3)))
    transport = SmtpTransport(smtp.settings())
    report = deliver(store, transport)
    assert (report.sent, report.retrying, smtp.mail_attempts) == (0, 3, 1)
    assert report.errors[0].endswith("deferred mail from newswatch: 450 4.7.0 Too many "
                                     "messages, slow down")
    smtp.refuse_mail = None
    assert deliver(store, transport, NOW + timedelta(hours=2)).sent == 3


@pytest.mark.parametrize("at", ["MAIL", "RCPT"])
def test_a_server_that_wants_starttls_first_says_what_to_set(
    smtp: SmtpSink, store: storage.Store, at: str
) -> None:
    """Postfix with smtpd_tls_security_level = encrypt answers plain SMTP's MAIL FROM (or
    RCPT TO) with "530 5.7.0 Must issue a STARTTLS command first": the alerts wait, and the
    line said "refused sender" and no more, where the login's refusal names the setting."""
    reply = "530 5.7.0 Must issue a STARTTLS command first"
    if at == "MAIL":
        smtp.refuse_mail = reply
    else:
        smtp.refuse["reader@example.test"] = reply
    enqueue(store, outbox_email("reader@example.test"))
    report = deliver(store, SmtpTransport(smtp.settings()))
    assert (report.sent, report.failed) == (0, 0)
    [error] = report.errors
    assert error.endswith(f"{reply} (it wants STARTTLS first: set smtp.starttls = true)")
    assert store.outbox_counts()["pending"] == 1


def test_a_server_deferring_newswatchs_sender_at_rcpt_stops_the_run(
    smtp: SmtpSink, store: storage.Store
) -> None:
    """Postfix defers the sender at RCPT TO, not at MAIL FROM (smtpd_delay_reject: "450 4.1.8
    Sender address rejected: Domain not found" while the From domain's DNS is broken): each
    message was deferred as its recipient's, and given up after 5 days, every alert of the
    outage failed. It defers newswatch: the run stops and the messages wait, as for a 4xx to
    MAIL FROM."""
    reply = "450 4.1.8 <alerts@newswatch.test>: Sender address rejected: Domain not found"
    for i in range(4):
        smtp.refuse[f"r{i}@example.test"] = reply
    enqueue(store, *(outbox_email(f"r{i}@example.test") for i in range(4)))
    transport = SmtpTransport(smtp.settings())
    report = deliver(store, transport)
    assert (report.sent, report.retrying, smtp.mail_attempts) == (0, 4, 1)
    assert report.errors == [f"SMTP 127.0.0.1:{smtp.port} deferred mail from newswatch: "
                             f"r0@example.test: {reply}"]
    assert deliver(store, transport, NOW + timedelta(days=6)).failed == 0
    assert store.outbox_counts()["pending"] == 4
    smtp.refuse.clear()
    assert deliver(store, transport, NOW + timedelta(days=6, hours=2)).sent == 4


class QuotaSink(SmtpSink):
    """A server over its sending quota, answering every message's end with ``reply`` while
    it is set (Gmail: "550 5.4.5 Daily user sending limit exceeded")."""

    def __init__(self, reply: str | None) -> None:
        super().__init__()
        self.reply = reply
        self.refused = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply is not None:
            self.refused += 1
            return self.reply
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.parametrize("where", ["DATA", "RCPT"])
@pytest.mark.parametrize("reply", [
    "550 5.4.5 Daily user sending limit exceeded. "
    "https://support.google.com/mail/?p=DailyLimitExceeded",
    "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to "
    "process message due to a permanent exception with message Cannot submit message.",
])
def test_a_server_over_its_sending_quota_keeps_the_alerts(store: storage.Store,
                                                           where: str, reply: str) -> None:
    """Gmail answers an account past its daily sending limit (500 recipients a day, a rolling
    24 hours) with a 5xx, "550 5.4.5 Daily user sending limit exceeded", to every message:
    each alert of the rest of the day was failed for good. RFC 3463's X.4.5, mail system
    congestion, is "useful only as a persistent transient error": the server defers
    newswatch's mail, the run stops, and the alerts go once the quota allows. Microsoft 365
    says it in words (SubmissionQuotaExceededException)."""
    sink = QuotaSink(reply if where == "DATA" else None)
    if where == "RCPT":
        sink.refuse.update({f"r{i}@example.test": reply for i in range(3)})
    sink.start()
    try:
        enqueue(store, *(outbox_email(f"r{i}@example.test") for i in range(3)))
        transport = SmtpTransport(sink.settings())
        report = deliver(store, transport)
        assert (report.sent, report.retrying, report.failed) == (0, 3, 0)
        assert (sink.mail_attempts, len(report.errors)) == (1, 1)
        assert "deferred mail from newswatch" in report.errors[0]
        assert report.errors[0].endswith(reply)
        assert deliver(store, transport, NOW + timedelta(days=6)).failed == 0
        sink.reply = None
        sink.refuse.clear()
        assert deliver(store, transport, NOW + timedelta(days=6, hours=2)).sent == 3
    finally:
        sink.stop()


class DeferringSink(SmtpSink):
    """A server deferring every message at its end (451) while ``deferring``."""

    def __init__(self) -> None:
        super().__init__()
        self.deferring = True
        self.deferred = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.deferring:
            self.deferred += 1
            return "451 4.3.0 Temporary local problem, try again later"
        return await super().handle_DATA(server, session, envelope)


def test_a_server_deferring_every_message_stops_the_run_after_three(tmp_path: Path) -> None:
    """A server answering 451 to every message's end (a full spool, a content filter down)
    got every queued message at each run, each a warning (800 lines a minute in a review
    of a daemon left running): after three deferred in a row, to three recipients, the
    others wait for the next run (one recipient's as well: its mailbox defers them all)."""
    from alerts.deliver import DEFERRED_IN_A_ROW

    sink = DeferringSink()
    sink.start()
    try:
        with storage.Store.open(tmp_path / "one.db") as store:
            enqueue(store, *(outbox_email(f"r{i}@example.test") for i in range(6)))
            transport = SmtpTransport(sink.settings())
            report = deliver(store, transport)
            assert (report.sent, report.retrying, sink.deferred) == (0, 6, DEFERRED_IN_A_ROW)
            assert [row.attempts for row in store.due_outbox(NOW)] == [0, 0, 0]
            sink.deferring = False
            assert deliver(store, transport, NOW + timedelta(hours=2)).sent == 6
            assert len(sink.received) == 6
        with storage.Store.open(tmp_path / "other.db") as store:
            sink.deferring, sink.deferred = True, 0
            enqueue(store, *(outbox_email("full@example.test", f"s{i}") for i in range(4)))
            assert deliver(store, SmtpTransport(sink.settings())).retrying == 4
            assert sink.deferred == DEFERRED_IN_A_ROW
    finally:
        sink.stop()


def test_a_message_deferred_for_five_days_is_given_up(
    smtp: SmtpSink, store: storage.Store
) -> None:
    """A mailbox full for good was tried every hour, for ever; RFC 5321 gives a message up
    after 4-5 days of deferrals."""
    smtp.refuse["full@example.test"] = "452 4.2.2 Mailbox full"
    enqueue(store, outbox_email("full@example.test"))
    transport = SmtpTransport(smtp.settings())
    assert deliver(store, transport, NOW + timedelta(days=4)).retrying == 1
    report = deliver(store, transport, NOW + timedelta(days=5))
    assert report.failed == 1
    assert report.errors[0].endswith("452 4.2.2 Mailbox full; given up after 5 days of "
                                     "deferrals")


def test_temporary_refusal_is_retried_and_run_goes_on(smtp: SmtpSink, store: storage.Store) -> None:
    smtp.refuse["busy@example.test"] = "450 mailbox busy"
    enqueue(store, outbox_email("busy@example.test"), outbox_email("reader@example.test"))

    report = deliver(store, SmtpTransport(smtp.settings()))

    assert (report.sent, report.retrying, report.failed) == (1, 1, 0)
    row = problems(store)["busy@example.test"]
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error is not None and row.last_error.endswith("450 mailbox busy")

    del smtp.refuse["busy@example.test"]
    assert deliver(store, SmtpTransport(smtp.settings()), NOW + timedelta(seconds=61)).sent == 1
    assert sorted(m["To"] for m in smtp.messages) == ["busy@example.test", "reader@example.test"]


def test_smtp_login(store: storage.Store, caplog: pytest.LogCaptureFixture) -> None:
    logins: list[tuple[str, str]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                      data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login.decode(), data.password.decode()))
        # handled=False: aiosmtpd sends the 235/535 reply itself.
        return AuthResult(success=data.password == b"s3cret-pw", handled=False)

    sink = SmtpSink(authenticator=authenticator, auth_require_tls=False)
    sink.start()
    caplog.set_level(logging.DEBUG)
    try:
        enqueue(store, outbox_email())
        wrong = SmtpTransport(sink.settings(username="watcher", password="wrong-pw"))
        report = deliver(store, wrong)
        assert report.retrying == 1
        assert report.errors[0].startswith(
            f"SMTP 127.0.0.1:{sink.port} login failed for watcher: 535"
        )
        good = SmtpTransport(sink.settings(username="watcher", password="s3cret-pw"))
        assert deliver(store, good, NOW + timedelta(minutes=5)).sent == 1
    finally:
        sink.stop()
    # smtplib tries each offered mechanism (PLAIN, then LOGIN) before giving up.
    assert {pw for _, pw in logins[:-1]} == {"wrong-pw"}
    assert logins[-1] == ("watcher", "s3cret-pw")
    assert len(sink.received) == 1
    assert "s3cret-pw" not in caplog.text and "wrong-pw" not in caplog.text
    assert "s3cret-pw" not in repr(good.settings)


def test_a_login_deferred_for_now_is_no_refused_login(store: storage.Store) -> None:
    """A 454 to AUTH (Postfix whose SASL service is down: "Temporary authentication
    failure"; Gmail's "Too many login attempts, please try again later") was taken for a
    refused login: the daemon, starting, exited 2 as for a wrong password, which systemd
    does not restart (RestartPreventExitStatus=2), and crawled and alerted no more. It
    passes: the alerts wait for it, as for a server down."""
    reply = "454 4.7.0 Temporary authentication failure"

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                      data: Any) -> AuthResult:
        return AuthResult(success=False, handled=False, message=reply)

    sink = SmtpSink(authenticator=authenticator, auth_require_tls=False)
    sink.start()
    try:
        transport = SmtpTransport(sink.settings(username="watcher", password="s3cret-pw"))
        with pytest.raises(TransportUnavailable) as raised:
            transport.check()
        assert not isinstance(raised.value, AuthenticationFailed)
        assert str(raised.value) == f"SMTP 127.0.0.1:{sink.port} login deferred for watcher: {reply}"
        enqueue(store, outbox_email())
        assert deliver(store, transport).retrying == 1
        assert store.outbox_counts()["pending"] == 1
    finally:
        sink.stop()


def test_starttls_is_required_when_configured(smtp: SmtpSink) -> None:
    transport = SmtpTransport(smtp.settings(starttls=True))
    with pytest.raises(TransportUnavailable, match="STARTTLS"):
        transport.send(build_message(_row(), transport.sender))
    assert smtp.received == []


@pytest.fixture
def self_signed(tmp_path: Path) -> ssl.SSLContext:
    """A server TLS context with a self-signed certificate for 127.0.0.1."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def test_implicit_tls_verifies_the_certificate(self_signed: ssl.SSLContext) -> None:
    sink = SmtpSink(ssl_context=self_signed)
    sink.start()
    try:
        transport = SmtpTransport(sink.settings(tls=True))
        with pytest.raises(TransportUnavailable, match="TLS failed: certificate verify failed"):
            transport.send(build_message(_row(), transport.sender))
    finally:
        sink.stop()
    assert sink.received == []


def _row() -> storage.OutboxMessage:
    mail = outbox_email()
    return storage.OutboxMessage(1, mail.message_id, mail.recipient, mail.subject, mail.text,
                                 mail.html, mail.created, 0)


# --- delivery to an mbox -------------------------------------------------------------------


def test_mbox_transport(tmp_path: Path, store: storage.Store) -> None:
    path = tmp_path / "spool" / "alerts.mbox"
    transport = MboxTransport(path, sender="alerts@newswatch.test")
    assert transport.describe() == f"mbox {path}"
    first, second = enqueue(store, outbox_email("a@example.test"), outbox_email("b@example.test"))

    assert deliver(store, transport).sent == 2

    box = mailbox.mbox(path, create=False)
    try:
        messages = list(box)
    finally:
        box.close()
    assert [m["Message-ID"] for m in messages] == [first.message_id, second.message_id]
    assert messages[0].get_from().startswith("alerts@newswatch.test ")
    assert messages[0]["From"] == "newswatch <alerts@newswatch.test>"
    assert messages[0]["List-Id"] == "newswatch alerts <alerts.newswatch.newswatch.test>"
    parsed = email.message_from_bytes(messages[0].as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    plain, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content() == first.text
    assert html.get_content() == first.html
    assert store.outbox_counts()["sent"] == 2
    assert not path.with_name("alerts.mbox.lock").exists()


def test_mbox_unwritable_is_transient(tmp_path: Path, store: storage.Store) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    enqueue(store, outbox_email())
    report = deliver(store, MboxTransport(blocker / "alerts.mbox"))
    assert (report.sent, report.retrying, report.failed) == (0, 1, 0)
    assert report.errors[0].startswith(f"mbox {blocker / 'alerts.mbox'} not writable:")


# --- the delivery loop's guarantees --------------------------------------------------------


class FakeTransport:
    """What delivery asks of a transport besides send(): its sender, a name to show; and
    what was sent (``sent``)."""

    sender = "newswatch@localhost"
    from_name = "newswatch"
    name = "fake"

    def __init__(self) -> None:
        self.sent: list[str] = []

    def describe(self) -> str:
        return self.name

    def close(self) -> None:
        pass

    def stop(self) -> None:
        pass


class BrokenTransport(FakeTransport):
    """A transport with a bug in it, for messages to ``broken_for``."""

    name = "broken"

    def __init__(self, broken_for: str) -> None:
        super().__init__()
        self.broken_for = broken_for
        self.tries = 0

    def send(self, message: EmailMessage) -> None:
        if message["To"] == self.broken_for:
            self.tries += 1
            raise RuntimeError("bug")
        self.sent.append(str(message["To"]))


def test_a_transport_bug_on_one_message_backs_off_and_the_others_go(
    store: storage.Store, caplog: pytest.LogCaptureFixture
) -> None:
    """Before, a send that raised anything but DeliveryError left its row untouched and
    stopped the run: every later run tried that row first, again, and no message behind it
    ever went."""
    enqueue(store, outbox_email("a@example.test"), outbox_email("b@example.test"))
    transport = BrokenTransport(broken_for="a@example.test")

    report = deliver(store, transport)

    assert (report.sent, report.retrying, report.failed) == (1, 1, 0)
    assert transport.sent == ["b@example.test"]
    error = "internal error (a bug; its traceback is in the log): RuntimeError: bug"
    assert report.errors == [error]
    row = problems(store)["a@example.test"]
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, error)
    assert row.next_attempt == NOW + timedelta(seconds=60)  # backs off like any failure
    [logged] = [r for r in caplog.records if r.exc_info]
    assert "outbox" in logged.getMessage() and "a@example.test" in logged.getMessage()
    assert deliver(store, transport, NOW + timedelta(seconds=30)).retrying == 0
    assert transport.tries == 1


class GatedTransport(FakeTransport):
    """Blocks in send() until released, like a slow server."""

    name = "gated"

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def send(self, message: EmailMessage) -> None:
        self.entered.set()
        assert self.release.wait(10)
        self.sent.append(str(message["Message-ID"]))


def test_cancelled_mid_send_still_records_the_delivery(store: storage.Store) -> None:
    enqueue(store, outbox_email("a@example.test"), outbox_email("b@example.test"))
    transport = GatedTransport()

    async def scenario() -> None:
        task = asyncio.create_task(deliver_due(store, transport, now=NOW, policy=POLICY))
        await asyncio.to_thread(transport.entered.wait, 10)
        task.cancel()
        await asyncio.sleep(0.05)
        transport.release.set()  # the server accepts the message after all
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert len(transport.sent) == 1
    assert store.outbox_counts() == {"pending": 1, "sent": 1, "failed": 0}


def test_a_stop_ends_the_run_after_the_send_under_way(store: storage.Store) -> None:
    """SIGTERM during a run: the message being sent is finished and marked, the others wait
    for the next start (before, the whole batch went first, past systemd's stop timeout)."""
    enqueue(store, *(outbox_email(f"{n}@example.test") for n in "abc"))
    transport = GatedTransport()
    stopping = False

    async def scenario() -> Any:
        nonlocal stopping
        task = asyncio.create_task(
            deliver_due(store, transport, now=NOW, policy=POLICY, stopping=lambda: stopping)
        )
        await asyncio.to_thread(transport.entered.wait, 10)
        stopping = True
        transport.release.set()
        return await task

    report = asyncio.run(scenario())
    assert (report.sent, report.retrying) == (1, 0)
    assert len(transport.sent) == 1
    assert store.outbox_counts() == {"pending": 2, "sent": 1, "failed": 0}


class SlowTransport(FakeTransport):
    """Takes ``seconds`` to send each message (a server slow to answer its end)."""

    name = "slow"

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def send(self, message: EmailMessage) -> None:
        time.sleep(self.seconds)
        self.sent.append(str(message["To"]))


def test_a_daemons_delivery_run_ends_past_its_budget(store: storage.Store) -> None:
    """A mail server that takes its time to answer each message (up to 10 minutes, RFC
    5321) held the daemon's cycle, and its next polls, for a whole batch; a run now starts
    no send past its budget, and the rest go at the next runs."""
    from scheduler.pipeline import Pipeline

    enqueue(store, *(outbox_email(f"{n}@example.test") for n in "abcd"))
    transport = SlowTransport(0.2)
    pipe = Pipeline(store=store, crawler=None, transport=transport,  # type: ignore[arg-type]
                    lookback=timedelta(days=2), retry=POLICY, clock=lambda: NOW,
                    delivery_budget=0.1)
    assert asyncio.run(pipe.deliver()).sent == 1
    assert asyncio.run(pipe.deliver()).sent == 1
    pipe.delivery_budget = None  # `newswatch crawl`: every due message
    assert asyncio.run(pipe.deliver()).sent == 2
    assert transport.sent == [f"{n}@example.test" for n in "abcd"]


def test_bad_header_fails_the_row(store: storage.Store) -> None:
    enqueue(store, outbox_email("evil@example.test\nBcc: all@example.test"), outbox_email())
    transport = GatedTransport()
    transport.release.set()
    report = deliver(store, transport)
    assert (report.sent, report.failed) == (1, 1)
    assert store.outbox_counts() == {"pending": 0, "sent": 1, "failed": 1}


# --- policies and settings -----------------------------------------------------------------


def test_retry_policy_backs_off_and_caps() -> None:
    delays = [(POLICY.next_attempt(NOW, n) - NOW).total_seconds() for n in range(9)]
    assert delays == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    assert POLICY.next_attempt(NOW, 10_000) == NOW + timedelta(hours=1)
    assert RetryPolicy(base_seconds=1.5, max_seconds=5).next_attempt(NOW, 1) == NOW + timedelta(
        seconds=3
    )
    with pytest.raises(ValueError):
        RetryPolicy(base_seconds=0)
    with pytest.raises(ValueError):
        RetryPolicy(base_seconds=100, max_seconds=10)


def test_smtp_settings() -> None:
    settings = SmtpSettings(host="mail.example.test", username="u", password="hunter2")
    assert "hunter2" not in repr(settings)
    assert SmtpTransport(SmtpSettings(host="::1", port=25)).describe() == "SMTP [::1]:25"
    assert SmtpTransport(SmtpSettings(host=HOST, port=2525)).describe() == "SMTP 127.0.0.1:2525"
    with pytest.raises(ValueError):
        SmtpSettings(host="h", tls=True, starttls=True)
    assert issubclass(TransportUnavailable, DeliveryError)
    assert issubclass(MessageRefused, DeliveryError)
    assert not TransportUnavailable("x").permanent


class StallingSink(SmtpSink):
    """A server that stalls in DATA (never answering) the first ``stalls`` times."""

    def __init__(self, stalls: int) -> None:
        super().__init__()
        self.stalls = stalls

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.stalls > 0:
            self.stalls -= 1
            await asyncio.sleep(3)  # longer than the client's timeout: it gives up first
            return "451 4.3.0 stalled"
        return await super().handle_DATA(server, session, envelope)


def test_timeout_mid_data_is_retried_and_delivered_once(store: storage.Store) -> None:
    sink = StallingSink(stalls=1)
    sink.start()
    try:
        enqueue(store, outbox_email())
        transport = SmtpTransport(
            dataclasses.replace(sink.settings(), timeout=1.0, data_timeout=1.0)
        )
        first = deliver(store, transport)
        assert first.sent == 0 and first.retrying == 1
        assert first.errors == [f"SMTP {HOST}:{sink.port} did not answer within 1 s after "
                                "the message's end (it may have been delivered); perhaps "
                                "delivered 1 time so far"]
        assert sink.received == []
        later = NOW + timedelta(hours=2)
        second = deliver(store, transport, now=later)
        assert second.sent == 1
        assert len(sink.received) == 1
        assert deliver(store, transport, now=later + timedelta(hours=2)).sent == 0
        assert len(sink.received) == 1
    finally:
        sink.stop()


class StallingRcptSink(SmtpSink):
    """A server that never answers RCPT TO (a greylisting or DNS lookup that hangs)."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        await asyncio.sleep(3)  # longer than the client's timeout: it gives up first
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


def test_a_server_that_does_not_answer_a_command_is_said_so(store: storage.Store) -> None:
    """A timeout awaiting a reply was "connection lost: Connection unexpectedly closed: timed
    out" (smtplib's words), of a server that was there and silent: it says which command
    went unanswered, and for how long."""
    sink = StallingRcptSink()
    sink.start()
    try:
        enqueue(store, outbox_email())
        transport = SmtpTransport(dataclasses.replace(sink.settings(), timeout=1.0))
        report = deliver(store, transport)
    finally:
        sink.stop()
    assert report.retrying == 1 and sink.received == []
    assert report.errors == [f"SMTP {HOST}:{sink.port} did not answer within 1 s after RCPT TO"]


class HeldRcptSink(SmtpSink):
    """A server that answers RCPT TO only once ``release`` is set; ``held`` says a client
    waits for it."""

    def __init__(self) -> None:
        super().__init__()
        self.held = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        self.held.set()
        while not self.release.is_set():
            await asyncio.sleep(0.05)
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


def test_a_stop_abandons_a_send_before_the_message_end(store: storage.Store) -> None:
    """A stop during a send the server does not have whole (stalled at RCPT TO, with a
    10-minute timeout) ends it at once: the message stays pending with no attempt counted,
    and no send begins after the stop; a later run sends it once."""
    sink = HeldRcptSink()
    sink.start()
    try:
        enqueue(store, outbox_email())
        settings = dataclasses.replace(sink.settings(), timeout=600.0)
        transport = SmtpTransport(settings)

        async def scenario() -> Any:
            run = asyncio.create_task(deliver_due(store, transport, now=NOW, policy=POLICY))
            assert await asyncio.to_thread(sink.held.wait, 30)
            transport.stop()
            return await asyncio.wait_for(run, 30)  # well before the timeout

        report = asyncio.run(scenario())
        assert (report.sent, report.retrying, report.failed) == (0, 0, 0)
        [row] = store.due_outbox(NOW)
        assert (row.attempts, row.last_error) == (0, None)
        with pytest.raises(SendAbandoned):
            transport.send(build_message(row, transport.sender))
        sink.release.set()
        assert deliver(store, SmtpTransport(settings)).sent == 1
        assert len(sink.received) == 1
    finally:
        sink.release.set()
        sink.stop()


class SlowAcceptingSink(SmtpSink):
    """A server that queues each message, then answers its end only after ``delay``
    seconds (a slow content filter before the queue)."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(self.delay)
        return reply


def test_a_slow_reply_to_the_message_end_is_waited_for_not_sent_again(
    store: storage.Store,
) -> None:
    """The server queued the message and answers its end after more than the commands'
    timeout: the client waits for it (data_timeout) and the message goes once. Before, the
    client gave up after `timeout`, and each retry queued another copy."""
    sink = SlowAcceptingSink(delay=1.5)
    sink.start()
    try:
        enqueue(store, outbox_email())
        settings = dataclasses.replace(sink.settings(), timeout=0.5, data_timeout=10.0)
        report = deliver(store, SmtpTransport(settings))
        assert (report.sent, report.retrying, report.errors) == (1, 0, [])
        assert deliver(store, SmtpTransport(settings), NOW + timedelta(hours=2)).sent == 0
        assert len(sink.received) == 1
        assert SmtpSettings(host=HOST).data_timeout == 600  # RFC 5321's 10 minutes
    finally:
        sink.stop()


def test_a_sent_mark_the_database_refuses_is_held_never_resent(
    smtp: SmtpSink, tmp_path: Path
) -> None:
    """The mail server accepted a message, then the database would not take its "sent" mark
    (another process held SQLite's write lock past busy_timeout; a full disk fails the same
    way). Before, the row stayed pending and every later run sent it again. Now the mark is
    held (and synced to the sent journal): no run sends anything until the database has it,
    and the message went out once."""
    from storage.journal import SentJournal

    path = tmp_path / "newswatch.db"
    transport = SmtpTransport(smtp.settings())
    with storage.open_store(path) as store:
        store.journal = SentJournal(tmp_path / "newswatch.sent")
        [first, second] = enqueue(store, outbox_email("a@example.test"),
                                  outbox_email("b@example.test"))
        store.db.execute("PRAGMA busy_timeout = 100")
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another writer, holding the lock
        try:
            with pytest.raises(storage.StorageError, match="locked"):
                deliver(store, transport)
            assert len(smtp.received) == 1  # accepted before the mark was refused
            for later in (1, 2):  # the lock still held: nothing is sent
                with pytest.raises(storage.StorageError, match="locked"):
                    deliver(store, transport, NOW + timedelta(minutes=later))
            assert len(smtp.received) == 1
        finally:
            other.execute("ROLLBACK")
            other.close()
        report = deliver(store, transport, NOW + timedelta(minutes=3))
        assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
        assert deliver(store, transport, NOW + timedelta(days=1)).sent == 0
        assert store.outbox_counts() == {"pending": 0, "sent": 2, "failed": 0}
        assert [m["Message-ID"] for m in smtp.messages] == [first.message_id, second.message_id]


def test_a_process_killed_while_its_loop_is_busy_after_an_acceptance_sends_nothing_again(
    smtp: SmtpSink, tmp_path: Path
) -> None:
    """The sent mark went to the journal only when the event loop got back to the send's
    result: a digest accepted while the loop matched a crawl's batch (30-90 ms) was sent
    again after a kill -9 in between (a review, 3 times in 4). The sending thread writes
    it at once."""
    import subprocess
    import sys

    from conftest import subprocess_env

    from storage.journal import SentJournal

    path = tmp_path / "newswatch.db"
    with storage.open_store(path) as store:
        enqueue(store, outbox_email("a@example.test"))
    script = Path(__file__).parent / "kill_after_accept.py"
    done = subprocess.run([sys.executable, str(script), str(path), str(smtp.port)],
                          capture_output=True, text=True, timeout=60, env=subprocess_env())
    assert done.returncode == 9, done.stderr
    assert len(smtp.received) == 1
    with storage.open_store(path) as store:
        store.journal = SentJournal(tmp_path / "newswatch.sent")
        assert deliver(store, SmtpTransport(smtp.settings()), NOW + timedelta(days=1)).sent == 0
        assert store.outbox_counts() == {"pending": 0, "sent": 1, "failed": 0}
        store.journal.close()
    assert len(smtp.received) == 1


def test_a_sent_mark_lost_with_the_process_is_written_from_the_journal(
    smtp: SmtpSink, tmp_path: Path
) -> None:
    """The process died between the journal's sync and the database's mark: the next one
    marks the row sent from the journal before it sends anything, and it goes out once."""
    from storage.journal import SentJournal, SentMark

    path = tmp_path / "newswatch.db"
    with storage.open_store(path) as store:
        [row] = enqueue(store, outbox_email("a@example.test"))
    dead = SentJournal(tmp_path / "newswatch.sent")
    dead.record(SentMark(row.id, row.message_id, NOW))
    os.close(dead._fd)  # killed: its file stays, unlocked, with the mark
    with storage.open_store(path) as store:
        store.journal = SentJournal(tmp_path / "newswatch.sent")
        assert deliver(store, SmtpTransport(smtp.settings())).sent == 0
        assert store.outbox_counts() == {"pending": 0, "sent": 1, "failed": 0}
        store.journal.close()
    assert smtp.received == []
    assert list((tmp_path / "newswatch.sent").iterdir()) == []


def test_a_whole_article_in_a_title_keeps_the_email_small() -> None:
    """A CMS that put an article's whole text in <title> (200 KB) and a feed titled as
    long: each story of a digest was hundreds of KB, a digest of 30 of them 13 MB, refused
    by the mail server (552) for good and lost whole (a review). A title shows at most
    MAX_TITLE characters, a source's name MAX_NAME, hits kept highlighted."""
    from alerts import RecipientPolicy
    from alerts.compose import MAX_NAME, MAX_TITLE, compose_digest
    from alerts.schedule import parse_times

    words = " ".join(f"word{i}" for i in range(40_000))
    big = item(title=f"Floods {words}", source=f"Feed {words}",
               also_on=((f"Other {words}", "https://other.example.test/a"),),
               title_segments=(("Floods ", False), ("climate", True), (f" {words}", False)))
    policy = RecipientPolicy("UTC", parse_times("08:00"))
    for mail in (compose("r@example.test", [big], NOW),
                 compose_digest("r@example.test", [big] * 30, NOW, policy=policy)):
        assert len(mail.text) + len(mail.html) < 200_000
        assert "word1000 " not in mail.text and "word1000 " not in mail.html
        assert "*climate*" in mail.text and "climate</strong>" in mail.html
    text = flat_text(compose("r@example.test", [big], NOW).text)
    shown = text[text.index("Floods"):text.index("…", text.index("Floods")) + 1]
    assert MAX_TITLE // 2 < len(shown.replace("*", "")) <= MAX_TITLE
    source = text[text.index("Feed word0"):text.index("…", text.index("Feed word0")) + 1]
    assert MAX_NAME // 2 < len(source) <= MAX_NAME


def test_other_sources_links_never_cost_a_story_its_snippet() -> None:
    """Each of a story's other sources linked to its copy cost 200 bytes with a tracked
    address: a digest of 40 stories carried by 10 sources each passed HTML_BUDGET and lost
    every snippet and "Also on" line (a review). The first MAX_LINKED sources are linked,
    the others named; an email still over the budget drops the links before the snippets."""
    from alerts import RecipientPolicy
    from alerts.compose import HTML_BUDGET, MAX_LINKED, compose_digest
    from alerts.schedule import parse_times

    tracked = "?utm_source=rss&utm_medium=feed&utm_campaign=world-news-" + "x" * 80

    def carried(n: int, sources: int) -> AlertItem:
        return item(n, title=f"Floods in Valencia, day {n}", also_on=tuple(
            (f"Wire {k}", f"https://wire{k}.example.test/world/floods-day-{n}{tracked}")
            for k in range(sources)))

    policy = RecipientPolicy("UTC", parse_times("08:00"))
    digest = compose_digest("r@example.test", [carried(n, 10) for n in range(40)], NOW,
                            policy=policy)
    assert len(digest.html.encode()) <= HTML_BUDGET
    assert digest.html.count("climate</strong>") == 40  # every snippet
    assert untagged(digest.html).count("Also on: Wire 0, Wire 1, Wire 2, Wire 3") == 40
    assert digest.html.count('<a href="https://wire') == 40 * MAX_LINKED
    # The first MAX_LINKED sources with a web address (a diff review: one without one
    # counted, two linked).
    alert = compose("r@example.test", [item(1, also_on=(
        ("Energy Wire", "urn:energy-wire:1"),
        *((f"Wire {k}", f"https://wire{k}.example.test/a") for k in range(5))))], NOW)
    assert alert.html.count('<a href="https://wire') == MAX_LINKED
    # Addresses of 1,500 characters: the links alone would pass the budget; the sources
    # are named, not linked, and the snippets stay.
    tracked += "y" * 1500
    digest = compose_digest("r@example.test", [carried(n, 10) for n in range(40)], NOW,
                            policy=policy)
    assert len(digest.html.encode()) <= HTML_BUDGET
    assert digest.html.count("climate</strong>") == 40
    assert untagged(digest.html).count("Also on: Wire 0, Wire 1, Wire 2, Wire 3") == 40
    assert '<a href="https://wire' not in digest.html


def test_a_story_on_hundreds_of_sources_names_the_first_few() -> None:
    """A story carried by 200 sources named every one of them: its "Also on" line ran to 60
    wrapped lines of the text part. Both parts name the first MAX_ALSO_ON and say how many
    more, as a subject says of its topics ("+2 more")."""
    from alerts.compose import MAX_ALSO_ON, MAX_LINKED

    alert = compose("r@example.test", [item(1, also_on=tuple(
        (f"Wire {k}", f"https://wire{k}.example.test/a") for k in range(200)))], NOW)
    named = ", ".join(f"Wire {k}" for k in range(MAX_ALSO_ON))
    more = f"+{200 - MAX_ALSO_ON} more"
    assert f"Also on: {named} {more}" in flat_text(alert.text)
    assert f"Also on: {named} {more}" in untagged(alert.html)
    assert f"Wire {MAX_ALSO_ON}" not in alert.text + alert.html
    assert alert.html.count('<a href="https://wire') == MAX_LINKED
    lines = alert.text.splitlines()
    first = next(n for n, line in enumerate(lines) if "Also on:" in line)
    assert more in lines[first] + lines[first + 1]  # two lines, "+192 more" on one


def raw_smtp_server(lines: list[bytes]) -> tuple[int, threading.Event]:
    """A server on 127.0.0.1 that sends ``lines`` (the first at once, each next one after a
    line from the client) and then listens until the returned event is set."""
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(1)
    done = threading.Event()

    def serve() -> None:
        connection, _ = listener.accept()
        with connection, listener:
            reader = connection.makefile("rb")
            for i, line in enumerate(lines):
                if i:
                    reader.readline()
                connection.sendall(line)
            done.wait(10)

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1], done


def test_a_login_the_server_does_not_answer_is_said_so() -> None:
    # "session failed: Connection unexpectedly closed: timed out": the server was there.
    port, done = raw_smtp_server([b"220 mail.test ESMTP\r\n",
                                  b"250-mail.test\r\n250 AUTH PLAIN LOGIN\r\n"])
    transport = SmtpTransport(SmtpSettings(host=HOST, port=port, sender="a@newswatch.test",
                                           timeout=0.5, username="desk", password="pw"))
    try:
        with pytest.raises(TransportUnavailable) as caught:
            transport.check()
    finally:
        done.set()
    assert str(caught.value) == f"SMTP {HOST}:{port} did not answer within 0.5 s after AUTH"


class SilentQuitSink(SmtpSink):
    """A server that takes QUIT and never answers it, until ``answer`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.quit = threading.Event()
        self.answer = threading.Event()

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        self.quit.set()
        while not self.answer.is_set():
            await asyncio.sleep(0.05)
        return "221 Bye"


def test_closing_a_session_does_not_wait_for_the_answer_to_quit(store: storage.Store) -> None:
    """The run's session ends in the event loop's thread (deliver_due's close): QUIT is sent
    and its answer not awaited, or a server that never answers it held the loop (the crawl,
    the schedule) for the command timeout."""
    sink = SilentQuitSink()
    sink.start()
    try:
        enqueue(store, outbox_email())
        transport = SmtpTransport(dataclasses.replace(sink.settings(), timeout=60.0))
        assert deliver(store, transport).sent == 1  # the run closed its session on its way out
        assert sink.quit.wait(10)
        assert not sink.answer.is_set()  # the run ended with QUIT still unanswered
    finally:
        sink.answer.set()
        sink.stop()


@pytest.mark.parametrize(("lines", "settings", "expected"), [
    ([], {}, "took the connection but sent no greeting within 0.5 s; a server that delays "
             "its greeting (up to 5 minutes, RFC 5321) needs a longer smtp.timeout"),
    ([b"220 mail.test ESMTP\r\n", b"250-mail.test\r\n250 STARTTLS\r\n"],
     {"username": "desk", "password": "pw"},
     "session failed: SMTP AUTH extension not supported by server. (it offers login after "
     "STARTTLS: set smtp.starttls = true)"),
    ([b"220 mail.test ESMTP\r\n"], {"tls": True},
     "(the server does not speak TLS from the first byte here: for a port such as 587 or 25, "
     "set smtp.starttls = true, not smtp.tls)"),
    ([b"220 mail.test ESMTP\r\n", b"250-mail.test\r\n250 8BITMIME\r\n"], {"starttls": True},
     "session failed: STARTTLS extension not supported by server. (it offers no STARTTLS on "
     "this port: check smtp.port, or set smtp.starttls = false for a relay without TLS)"),
])
def test_a_mismatched_server_says_what_to_set(
    lines: list[bytes], settings: dict[str, Any], expected: str
) -> None:
    """A server that delays its greeting, one that offers login only after STARTTLS, TLS
    configured against a plain port and STARTTLS against a server without it were
    "unreachable: … timed out", "SMTP AUTH extension not supported", "WRONG_VERSION_NUMBER"
    and "STARTTLS extension not supported" (a review): each says what to set."""
    port, done = raw_smtp_server(lines)
    transport = SmtpTransport(SmtpSettings(host=HOST, port=port, sender="a@newswatch.test",
                                           timeout=0.5, **settings))
    try:
        with pytest.raises(TransportUnavailable) as caught:
            transport.check()
    finally:
        done.set()
    assert str(caught.value).endswith(expected), str(caught.value)
