"""Delivering the outbox: each due message is sent once, then marked sent, retried or failed."""

from __future__ import annotations

import asyncio
import base64
import email.policy
import functools
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address, BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import cast

import storage

from .channels import AppriseTransport, is_channel, redact
from .transport import (
    DEFAULT_FROM_NAME,
    AcceptanceUnknown,
    AskedToWait,
    AuthenticationFailed,
    DeliveryError,
    MessageRefused,
    SendAbandoned,
    Transport,
    TransportUnavailable,
    ascii_domain,
)

logger = logging.getLogger(__name__)

_MAX_EXPONENT = 32  # 2**32 back-off steps is already far past any sane cap
_DOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off between delivery attempts, with a ceiling."""

    base_seconds: float = 60
    max_seconds: float = 3600

    def __post_init__(self) -> None:
        if self.base_seconds <= 0 or self.max_seconds < self.base_seconds:
            raise ValueError("retry policy needs 0 < base_seconds <= max_seconds")

    def delay(self, attempts: int) -> timedelta:
        """How long to wait after ``attempts`` earlier failed attempts: base * 2**attempts."""
        exponent = min(max(attempts, 0), _MAX_EXPONENT)
        return timedelta(seconds=min(self.base_seconds * 2**exponent, self.max_seconds))

    def next_attempt(self, now: datetime, attempts: int) -> datetime:
        """When to try again, given the attempts made before this failure."""
        return now + self.delay(attempts)


#: Sends that end with the connection lost after the message's end (AcceptanceUnknown)
#: before a message is given up as perhaps delivered: at most this many copies.
UNCERTAIN_ATTEMPTS = 3
#: How a message's error counts its sends that may have delivered it, carried from one
#: failure to the next (the failures between them, a 500 or a server down, send nothing).
_PERHAPS = re.compile(r"; perhaps delivered (\d+) times? so far$")


def perhaps_delivered(error: str | None) -> int:
    """How many sends of a message may have delivered it, as its last ``error`` counts."""
    found = _PERHAPS.search(error or "")
    return int(found.group(1)) if found else 0
#: A message a server keeps deferring (4xx for it alone), or a notification service keeps
#: asking to wait for (429 or 503 with Retry-After), is given up this long after it was made.
GIVE_UP = timedelta(days=5)
#: Emails deferred one after the other (4xx) in a run, after which the server is taken to
#: defer everything for now (or the reader's mailbox all its messages): the rest wait for
#: the next run (a server answering 451 to all got every queued message at each run, each a
#: warning: 800 lines a minute).
DEFERRED_IN_A_ROW = 3


#: The longest wait between two tries of a mail server found down (MailOutage): one warning
#: every five minutes at most, and alerts out within five minutes of the server's return
#: (with alerts.retry_max's hour, a server back after a night's outage held the morning's
#: alerts up to an hour more).
OUTAGE_PROBE = timedelta(minutes=5)


@dataclass
class MailOutage:
    """The mail server a delivery run found down, remembered by the runs after it (the
    daemon's pipeline keeps one): until :attr:`next_try` its emails wait without a send;
    each run that finds it still down doubles the wait, as one message's back-off does
    (alerts.retry_base up to alerts.retry_max, OUTAGE_PROBE at most). Each alert kept a
    back-off of its own: with 200 queued, every run found one due, tried it against the
    server still down and said so, three lines a run, two runs a tick, for as long as the
    server was down."""

    where: str = ""  # the server found down (Transport.describe)
    since: datetime | None = None  # the first run that found it down
    failures: int = 0  # runs in a row that found it down
    next_try: datetime | None = None

    def waiting(self, where: str, now: datetime) -> bool:
        """Whether the emails of a run at ``now`` through ``where`` wait for the next try (not
        once the clock went back before the outage began: they would wait that long)."""
        return (self.where == where and self.since is not None and self.next_try is not None
                and self.since <= now < self.next_try)

    def failed(
        self, where: str, now: datetime, policy: RetryPolicy, *, login: bool = False
    ) -> timedelta:
        """A run at ``now`` found ``where`` down: how long until the next try (OUTAGE_PROBE
        at most: the server's return is found within minutes, not at the end of an hour's
        back-off, and its alerts go then). ``login``: it refused newswatch's login, which
        no wait mends (the password changed on the server): the whole back-off, up to
        alerts.retry_max (a refused login every five minutes, 288 a day, locks the account
        or bans the address on servers that count them: fail2ban, Microsoft 365); mended
        settings, reloaded, are tried at once (a reload forgets the outage)."""
        if self.where != where or self.since is None:
            self.where, self.since, self.failures = where, now, 0
        delay = policy.delay(self.failures)
        if not login:
            delay = min(delay, OUTAGE_PROBE)
        self.failures += 1
        self.next_try = now + delay
        return delay

    def over(self, now: datetime) -> timedelta | None:
        """The server answered a message at ``now`` (took it, or refused it): how long it
        had been found down (None: it had not); forgotten."""
        since = self.since
        self.where, self.since, self.failures, self.next_try = "", None, 0, None
        return None if since is None else max(now - since, timedelta(0))


@dataclass
class DeliveryReport:
    """What one delivery run did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)  # distinct one-line error texts

    def note(self, error: str) -> None:
        """Remember an error text once."""
        if error not in self.errors:
            self.errors.append(error)


def build_message(
    message: storage.OutboxMessage, sender: str, from_name: str = DEFAULT_FROM_NAME
) -> EmailMessage:
    """The MIME message for an outbox row: text and HTML alternatives, its stored Message-ID.

    Raises ValueError when a header cannot be written safely (a line break in an address).
    """
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = from_header(sender, from_name)
    msg["To"] = ascii_domain(message.recipient)
    msg["Subject"] = shown_as_written(message.subject)
    # RFC 5322: when the message was complete, i.e. composed; every retry carries the same.
    msg["Date"] = format_datetime(message.created)
    msg["Message-ID"] = message.message_id
    if message.in_reply_to:  # an "Updated:" alert, under the first email of its articles
        msg["In-Reply-To"] = message.in_reply_to
        msg["References"] = message.in_reply_to
    # RFC 2919: one stable list identifier, for mail clients' "filter messages like these".
    msg["List-Id"] = list_id(sender)
    # RFC 3834: tells vacation responders and list servers not to answer an alert; Exchange
    # and Outlook only listen to X-Auto-Response-Suppress, older responders to Precedence.
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg["Precedence"] = "bulk"
    # Quoted-printable keeps every line short and 7-bit, whatever the server supports.
    msg.set_content(message.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(message.html, subtype="html", charset="utf-8", cte="quoted-printable")
    # Headers unfolded (up to RFC 5322's 998 octets; a subject is at most 150 characters):
    # folded at 78 columns, Python put a space between two encoded words of a subject on a
    # continuation line, which readers drop (RFC 2047), gluing two words of a non-ASCII
    # headline; a non-ASCII subject is written by _Subject. The bodies are encoded already,
    # in lines of 76 (RFC 2045).
    msg.policy = msg.policy.clone(max_line_length=998)
    return msg


#: Bytes of UTF-8 in one encoded word of a subject: base64 makes 52 characters of them, 64
#: with "=?utf-8?b?" and "?=" (RFC 2047: at most 75; a line holding one at most 76).
_WORD_BYTES = 39
_LINE = 76
_SPACES = re.compile(r"( +)")


def _encoded_words(text: str) -> list[str]:
    """``text`` as RFC 2047 encoded words, each holding whole characters."""
    chunks, chunk = [], b""
    for char in text:
        encoded = char.encode("utf-8", "surrogateescape")
        if chunk and len(chunk) + len(encoded) > _WORD_BYTES:
            chunks.append(chunk)
            chunk = b""
        chunk += encoded
    chunks.append(chunk)
    return [f"=?utf-8?b?{base64.b64encode(c).decode('ascii')}?=" for c in chunks]


def fold_subject(name: str, text: str, linesep: str) -> str:
    """A header of ``text`` written as RFC 2047 asks: its ASCII words as they are, each run
    of words with other characters as encoded words of at most 75 characters, folded where
    lines pass 76. Readers drop the space between two adjacent encoded words, so a run's
    own spaces go inside its words; a space beside an ordinary word is kept, so folding
    there keeps it."""
    pieces = _SPACES.split(text)  # words at even places, the spaces between at odd ones
    # (separator before, element): the separator "" between two words of one run.
    elements: list[tuple[str, str]] = []
    i = 0
    while i < len(pieces):
        if pieces[i].isascii():
            elements.append((pieces[i - 1] if i else "", pieces[i]))
            i += 2
            continue
        end = i
        while end + 2 < len(pieces) and not pieces[end + 2].isascii():
            end += 2
        words = _encoded_words("".join(pieces[i : end + 1]))
        elements.append((pieces[i - 1] if i else "", words[0]))
        elements.extend(("", word) for word in words[1:])
        i = end + 2
    line = f"{name}:"
    lines = []
    for separator, element in elements:
        gap = separator or " "  # between two encoded words: any space, dropped when read
        if len(line) + len(gap) + len(element) > _LINE and line != f"{name}:":
            lines.append(line)
            line = gap + element
        else:
            line += gap + element
    lines.append(line)
    return linesep.join(lines) + linesep


class _Subject(UnstructuredHeader):
    """A Subject written by :func:`fold_subject` when it is not ASCII (Python's folder wrote
    encoded words of up to 272 characters unfolded, or, folding at 78 columns, put a space
    between two of them where readers drop it)."""

    def fold(self, *, policy: email.policy.Policy) -> str:
        text = str(self)
        if text.isascii():
            return cast(str, super().fold(policy=policy))  # type: ignore[misc]
        return fold_subject(cast(str, self.name), text, policy.linesep)  # type: ignore[attr-defined]


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("subject", cast(type[BaseHeader], _Subject))
#: Lines of 76 for the bodies' quoted-printable (RFC 2045; Python's default is 78).
_POLICY = email.policy.default.clone(max_line_length=76, header_factory=_HEADERS)


#: RFC 2047 encoded words begin so: in a header's text, one is decoded when the header is
#: set. A headline written with one (``=?utf-8?q?=0D=0AReply-To:...?=``) would become its
#: decoded text, line breaks included: headers and a body of the headline's choosing.
ENCODED_WORD_START = "=?"
ENCODED_WORD_BROKEN = "=\u200b?"  # with a zero-width space: shown as written, not decoded


def shown_as_written(text: str) -> str:
    """``text`` for a header, read by mail programs as it is written (never decoded)."""
    return text.replace(ENCODED_WORD_START, ENCODED_WORD_BROKEN)


def from_header(sender: str, from_name: str = DEFAULT_FROM_NAME) -> Address:
    """The From header: ``from_name`` as the display name of ``sender``.

    Built as an Address so that the name is quoted or RFC 2047-encoded as it needs (commas,
    quotes, non-ASCII). A ``sender`` that already carries a name (``Desk <desk@example.org>``)
    keeps it.
    """
    name, address = parseaddr(sender)
    if not address or "@" not in address:
        raise ValueError(f"not an email address: {sender!r}")
    shown = " ".join((name or from_name).split())  # a display name is one line
    return Address(display_name=shown, addr_spec=ascii_domain(address))


def list_id(sender: str) -> str:
    """``newswatch alerts <alerts.newswatch.DOMAIN>``, DOMAIN that of the From address.

    RFC 2919 wants the identifier under a domain the sender controls; an address without a
    usable domain (``newswatch@localhost``, an IP literal) falls back to ``localhost``, the
    namespace the RFC reserves for such lists.
    """
    domain = parseaddr(sender)[1].rpartition("@")[2].strip().rstrip(".").lower()
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        domain = ""
    if not _DOMAIN.fullmatch(domain):
        domain = "localhost"
    return f"newswatch alerts <alerts.newswatch.{domain}>"


async def deliver_due(
    store: storage.DeliveryStore,
    transport: Transport,
    *,
    now: datetime,
    policy: RetryPolicy,
    limit: int = 100,
    channels: AppriseTransport | None = None,
    stopping: Callable[[], bool] | None = None,
    outage: MailOutage | None = None,
) -> DeliveryReport:
    """Send the outbox messages due at ``now``: emails through ``transport``, notification
    URLs through ``channels``. When the mail transport is down, the remaining emails wait for
    the next run (notifications still go). Once ``stopping`` says so (a SIGTERM), the send
    under way ends and the rest wait for the next start: a stop that sent a whole batch to a
    slow server outlasted systemd's patience, and a send killed midway may be a copy. An
    email whose end had not gone to the server when the stop came (``transport.stop``) is
    abandoned at once and waits, untouched, for the next start (SendAbandoned).

    A run that finds the mail server down says so in one warning, with the messages waiting
    and when it tries again (``outage``, kept from one run to the next: until then, the
    emails wait without a send); the first run whose email the server answers (takes, or
    refuses: a deferral) says the server is back."""
    report = DeliveryReport()
    where = transport.describe()
    outage = outage if outage is not None else MailOutage()
    mail_down = outage.waiting(where, now)  # found down by an earlier run: its next try is later
    down: str | None = None  # why this run found it down
    login = False  # it refused newswatch's login (AuthenticationFailed)
    mail_up = False  # an email went through in this run
    answered = False  # the mail server answered an email (took it, or refused it)
    deferred = 0  # emails deferred in a row
    # Notification URLs that failed in this run: their other messages wait for the next (a
    # service that hung cost its timeout a message, and held every email behind them).
    failed_urls: set[str] = set()

    def due() -> Iterator[storage.OutboxMessage]:
        # ``limit`` rows a read, read again until none is due: a run that took one batch
        # left the rest to the next (`crawl` sent 100 of 120 alerts and exited). The mail
        # server down, only the notification URLs' are read on: the emails waiting for it
        # filled the first batch at every run of the outage, and a notification queued
        # behind them waited as long as the mail server was down.
        seen: set[int] = set()
        while True:
            batch = store.due_outbox(now, limit, channels=mail_down)
            fresh = [row for row in batch if row.id not in seen]
            for row in fresh:
                seen.add(row.id)
                yield row
            if len(batch) < limit or not fresh:
                return

    try:
        for row in due():
            if stopping is not None and stopping():
                break
            send: Callable[[], None]
            if is_channel(row.recipient):
                if row.recipient in failed_urls:
                    report.retrying += 1
                    continue
                channels = channels or AppriseTransport()
                send = functools.partial(channels.send, row)
            elif mail_down:
                report.retrying += 1  # waits for the next run, as the one that found it down
                # Let go, for another alerter whose machine reaches the server: on
                # PostgreSQL, this run's claim held it as long as this machine's outage.
                store.not_sent(row.id)
                continue
            else:
                try:
                    send = functools.partial(
                        transport.send, build_message(row, transport.sender, transport.from_name)
                    )
                except (ValueError, TypeError) as exc:  # e.g. a line break in an address
                    error = f"cannot build message {row.message_id}: {exc}"
                    store.mark_failed(row.id, error)
                    report.failed += 1
                    report.note(error)
                    logger.error("outbox %d to %s failed: %s", row.id, redact(row.recipient), error)
                    continue
            # The send runs in a worker thread; the store is only touched here, in the loop's
            # thread. If this task is cancelled mid-send the thread cannot be stopped, so we wait
            # for its verdict (bounded by the transport's timeouts) and record it before leaving:
            # a message the server took must be marked sent, or it would go out twice.
            if not store.sending(row.id):
                # Another sender's now (PostgreSQL: its claim let go meanwhile): it sends it.
                logger.warning("outbox %d to %s: claimed by another sender meanwhile, left to "
                               "it", row.id, redact(row.recipient))
                continue
            sending = asyncio.ensure_future(asyncio.to_thread(_noted, send, store, row.id, now))
            cancelled = False
            try:  # wait() leaves the send alone when this task is cancelled, and never raises
                await asyncio.wait([sending])  # what it raised: that is recorded below
            except asyncio.CancelledError:
                cancelled = True
                await asyncio.wait([sending])
            failure = sending.exception()
            if _record(store, row, failure, now, policy, report):
                mail_down, down = True, str(failure)
                login = isinstance(failure, AuthenticationFailed)
            if is_channel(row.recipient):
                if failure is not None:
                    failed_urls.add(row.recipient)
            else:
                answered = answered or failure is None or isinstance(failure, MessageRefused)
                if isinstance(failure, MessageRefused) and not failure.permanent:
                    deferred += 1
                else:
                    deferred = 0
                if deferred >= DEFERRED_IN_A_ROW and not mail_down:
                    logger.warning("%s deferred %d messages in a row: the others wait for the "
                                   "next run", where, deferred)
                    mail_down = True
                if not mail_up and failure is None:
                    # The server is back: what found it down goes at the next run, not at
                    # the end of its own back-off (an hour, after a long outage: after later
                    # alerts).
                    mail_up = True
                    store.server_back(now)
            if cancelled:
                raise asyncio.CancelledError
    finally:
        transport.close()  # the run's connection (SmtpTransport keeps one for its messages)
    # Over once the server answers, whatever it said: an outage that ended on a deferral (the
    # server back, its spool full) kept its start, and the next outage's "reachable again"
    # counted from the one before, hours earlier.
    if answered and (lasted := outage.over(now)) is not None:
        logger.info("%s reachable again after %.0f s down: %d sent", where,
                    lasted.total_seconds(), report.sent)
    if down is not None:
        # One line a run, not one a message: journalctl showed the same failure for each of
        # 200 alerts queued, each at the end of its own back-off.
        wait = outage.failed(where, now, policy, login=login)
        logger.warning("%s; %d alert(s) waiting, next try in %.0f s", down,
                       store.emails_waiting(), wait.total_seconds())
    # The emails that waited for the mail server are in its warning (or in the one before,
    # which said when it would be tried again): only what else the run did has a line.
    if report.sent or report.failed or (report.retrying and not mail_down):
        logger.info(
            "outbox via %s: %d sent, %d to retry, %d failed",
            where,
            report.sent,
            report.retrying,
            report.failed,
        )
    return report


def _noted(
    send: Callable[[], None], store: storage.DeliveryStore, outbox_id: int, now: datetime
) -> None:
    """``send``, and the store told at once, in the sending thread, when it went; what the
    database holds (the message's row, its articles) made durable first, here rather than
    in the event loop's thread (a disk's sync there held the crawl)."""
    store.durable()
    send()
    store.accepted(outbox_id, now)


def _record(
    store: storage.DeliveryStore,
    row: storage.OutboxMessage,
    exc: BaseException | None,
    now: datetime,
    policy: RetryPolicy,
    report: DeliveryReport,
) -> bool:
    """Write the outcome of one send to the outbox; True when the mail transport is down."""
    shown = redact(row.recipient)
    if exc is None:
        store.mark_sent(row.id, now)
        report.sent += 1
        logger.debug("outbox %d sent to %s", row.id, shown)
        return False
    if isinstance(exc, SendAbandoned):
        # The server never had the whole message: as if its send had not begun (no attempt
        # counted, due as it was), as the messages a stop leaves before their send.
        store.not_sent(row.id)
        logger.info("outbox %d to %s: %s; sent at the next start", row.id, shown, exc)
        return False
    if not isinstance(exc, DeliveryError):
        # A bug in a transport (or in a notification service's plugin): retried with
        # back-off like any failure, with its traceback in the log; the messages behind it
        # go on (left untouched, it would come first in every run and hold them all back).
        error = f"internal error (a bug; its traceback is in the log): {type(exc).__name__}: {exc}"
        logger.error("outbox %d to %s: %s", row.id, shown, error, exc_info=exc)
    else:
        error = str(exc)
    # Only the sends that may have delivered it count toward the copies at most: all its
    # attempts counted, a service that answered 500 twice, then timed out once as it came
    # back, had the alert given up after one copy at most (lost, when that one was too).
    copies = perhaps_delivered(row.last_error) + isinstance(exc, AcceptanceUnknown)
    if isinstance(exc, AcceptanceUnknown) and copies >= UNCERTAIN_ATTEMPTS:
        error += (f"; not sent again after {copies} attempts (the server may have "
                  "delivered it each time)")
        exc.permanent = True
    elif isinstance(exc, (MessageRefused, AskedToWait)) and now - row.created >= GIVE_UP:
        # RFC 5321 (4.5.4.1): a message a server keeps deferring is given up after 4-5 days
        # (a full mailbox): it was tried every hour, for ever. A server down, or refusing us
        # as a whole, is ours to mend: those wait. A notification service asking us to wait,
        # again and again (a plan whose quota is gone), likewise: its waits count no
        # attempts.
        error += f"; given up after {GIVE_UP.days} days of deferrals"
        exc.permanent = True
    elif copies:
        error += f"; perhaps delivered {copies} time{'s' if copies > 1 else ''} so far"
    report.note(error)
    if isinstance(exc, AskedToWait):
        # Not before the service asked (a rate limit answered sooner is answered 429 again,
        # and may last longer for it), and neither its other messages nor those queued for
        # it meanwhile (each went at its first run, and was answered 429). Not later either:
        # a wait honoured is no failure, the back-off of failures does not grow with it.
        # The others wait even when this message is given up: the wait is the service's.
        retry_at = now + timedelta(seconds=exc.seconds)
        store.hold_recipient(row.recipient, retry_at)
    else:
        retry_at = policy.next_attempt(now, row.attempts)
    # Down or refusing us as a whole: the run says it once, for all its messages
    # (deliver_due); the other due rows wait for the next run.
    down = isinstance(exc, TransportUnavailable)
    if down and not isinstance(exc, AuthenticationFailed):
        # The server down, not this message: tried again as the server is (OUTAGE_PROBE at
        # most). A lone alert that found it down waited out its own back-off, an hour, after
        # the server came back; the runs of a daemon before the outage's next try send
        # nothing whatever is due (MailOutage). Not a refused login: its own back-off,
        # which mended settings cut short (OutboxMixin.keep_mail_settings).
        retry_at = min(retry_at, now + OUTAGE_PROBE)
    if isinstance(exc, DeliveryError) and exc.permanent:
        store.mark_failed(row.id, error)
        report.failed += 1
        logger.error("outbox %d to %s failed for good: %s", row.id, shown, error)
        return False
    store.mark_retry(row.id, error, retry_at, server_down=down,
                     counted=not isinstance(exc, AskedToWait))
    report.retrying += 1
    logger.log(
        logging.DEBUG if down else logging.WARNING,
        "outbox %d to %s will be retried at %s: %s",
        row.id,
        shown,
        storage.to_iso(retry_at),
        error,
    )
    return down
