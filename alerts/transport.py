"""Handing a message over: to an SMTP server, or to a local mbox file when none is configured."""

from __future__ import annotations

import contextlib
import copy
import ipaddress
import logging
import mailbox
import os
import re
import smtplib
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

logger = logging.getLogger(__name__)

DEFAULT_FROM_NAME = "newswatch"  # the display name in From: newswatch <newswatch@localhost>


class DeliveryError(Exception):
    """A message could not be handed over; ``permanent`` when it never will be."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class TransportUnavailable(DeliveryError):
    """The server cannot be reached or will not talk to us: affects every message, may pass."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=False)


class AuthenticationFailed(TransportUnavailable):
    """The server refused newswatch's login: a configuration problem, not a passing one."""


class MessageRefused(DeliveryError):
    """The server refused this message: for good on a 5xx reply, for now on a 4xx."""


class AcceptanceUnknown(DeliveryError):
    """The connection was lost after the message's end was sent, before the server's reply:
    it may have been delivered. Sent again (not a loss), a few times at most (a server that
    always drops the connection there sent a copy at every retry, for ever)."""


class SendAbandoned(DeliveryError):
    """A stop ended the send before the message's end went to the server: the server never
    had the whole message, so it cannot deliver it; the message waits for the next start
    as if its send had not begun."""


class AskedToWait(DeliveryError):
    """The service is busy or rate-limits us (HTTP 429 or 503) and said for how long, in
    ``seconds`` (its Retry-After): the next attempt waits at least that long."""

    def __init__(self, message: str, *, seconds: float) -> None:
        super().__init__(message)
        self.seconds = seconds


class Transport(Protocol):
    """What the outbox sender needs of a transport."""

    sender: str  # the From address, also the envelope sender
    from_name: str  # the display name in From

    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` over, or raise DeliveryError."""

    def describe(self) -> str:
        """Where messages go, for logs and status."""

    def close(self) -> None:
        """End what the sends of a delivery run kept open (a connection)."""

    def stop(self) -> None:
        """The process stops (called from the event loop's thread, while a send may run in
        another): a send whose message the server does not have whole yet ends at once
        (SendAbandoned), and none begins after; one awaiting the verdict on its message's
        end goes on to that verdict."""


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the SMTP server."""

    host: str
    port: int = 587
    sender: str = "newswatch@localhost"
    from_name: str = DEFAULT_FROM_NAME
    starttls: bool = False  # upgrade the connection with STARTTLS (usually port 587)
    tls: bool = False  # implicit TLS from the first byte (usually port 465)
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never shown in logs or reprs
    timeout: float = 30.0  # seconds, for the connection and every command
    #: Seconds to wait for the reply to a message's end (the "." after DATA), at least
    #: ``timeout``: a server may take its time there (content filters), and RFC 5321
    #: (4.5.3.2.6) asks a client to wait 10 minutes; a client that gives up sooner retries
    #: a message the server has already queued, and the reader gets it twice.
    data_timeout: float = 600.0

    @property
    def longest_send(self) -> float:
        """Seconds one send can take at most: the connection, the greeting, EHLO, STARTTLS,
        EHLO again, login, MAIL and RCPT within ``timeout`` each, DATA within
        ``data_timeout``."""
        return 8 * self.timeout + max(self.timeout, self.data_timeout)

    def __post_init__(self) -> None:
        if self.tls and self.starttls:
            raise ValueError("choose either tls (implicit, port 465) or starttls, not both")
        if not 0 < self.port < 65536:
            raise ValueError(f"port {self.port} is not a TCP port")
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")


def _reply(code: int, text: bytes | str) -> str:
    """An SMTP reply as one line: '550 no such user'."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(f"{code} {text}".split())


def _reason(exc: BaseException) -> str:
    """The short reason of an OS or TLS error: 'Connection refused', 'timed out'."""
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        return f"certificate verify failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return " ".join(str(exc).split()) or type(exc).__name__


#: Refusals that say the server will not take mail from newswatch as configured (a relay
#: that wants a login, a sender domain whose SPF, DKIM or DMARC policy fails): every message
#: gets them, and they pass once the configuration is mended, so the messages wait. They
#: were failed for good, one by one: every alert of the time lost.
_REFUSES_US = re.compile(r"relay|authenticat|dmarc|\bspf\b|dkim", re.IGNORECASE)
#: The enhanced status of a security or policy refusal (RFC 3463: 5.7.x); a reply that only
#: mentions those words elsewhere ("user unknown") is about its message.
_POLICY = re.compile(r"\b5\.7\.\d{1,3}\b")


#: A refusal of newswatch's envelope sender that comes at RCPT TO: Postfix checks the sender
#: there (smtpd_delay_reject, its default) and says "Sender address rejected" (a From the
#: login may not use, a From domain that does not resolve); RFC 3463's X.1.7 and X.1.8 are
#: a bad sender address. Taken for the recipient's, every alert failed for good, one by
#: one (a 4xx: deferred, then given up after 5 days).
_REFUSES_SENDER = re.compile(r"sender address rejected|\b[45]\.1\.[78]\b", re.IGNORECASE)


def _refuses_us(code: int, reply: str) -> bool:
    if code == 530:
        return True
    if not 500 <= code < 600:
        return False
    policy = bool(_POLICY.search(reply)) and bool(_REFUSES_US.search(reply))
    return policy or bool(_REFUSES_SENDER.search(reply))


#: RFC 3463's X.4.5, mail system congestion, "useful only as a persistent transient error":
#: Gmail's "550 5.4.5 Daily user sending limit exceeded" to every message of an account past
#: its 500 recipients a day. A 5xx, every alert of the rest of the day was failed for good.
#: Microsoft 365 says so in words: "554 5.2.0 STOREDRV.Submission.Exception:
#: SubmissionQuotaExceededException" (its 10,000 recipients a day).
_CONGESTED = re.compile(r"\b[45]\.4\.5\b|SubmissionQuotaExceeded")


def _defers_us(code: int, reply: str) -> bool:
    """A refusal that defers newswatch's mail, not the message's: a 4xx for its sender given
    at RCPT TO (as a 4xx to MAIL FROM), the mail system congested (a sending quota)."""
    if 400 <= code < 500 and _REFUSES_SENDER.search(reply):
        return True
    return 400 <= code < 600 and bool(_CONGESTED.search(reply))


def _unanswered(client: smtplib.SMTP, exc: BaseException) -> str | None:
    """A timeout awaiting the server's reply, said plainly ("did not answer within 30 s
    after RCPT TO"); None for any other failure. smtplib says it "Connection unexpectedly
    closed: timed out", and the log said "connection lost" of a server that was there."""
    if not isinstance(exc, TimeoutError) and not isinstance(exc.__context__, TimeoutError):
        return None
    if getattr(client, "awaiting_verdict", False):
        after, seconds = "the message's end", getattr(client, "data_timeout", client.timeout)
    else:
        after = getattr(client, "last_command", "") or "connecting"
        seconds = getattr(client, "data_timeout", client.timeout) if after == "DATA" \
            else client.timeout
    return f"did not answer within {seconds:g} s after {after}"


def _is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses, where plain-text login is harmless."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _closing(exc: BaseException | None) -> bool:
    """Whether ``exc`` is a session's end that a new connection gets past: the connection
    closed, or the server's 421 ("closing transmission channel") to a command."""
    if isinstance(exc, smtplib.SMTPServerDisconnected | ConnectionError):
        return True
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code == 421
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return any(code == 421 for code, _ in exc.recipients.values())
    return False


class _Stop:
    """A transport's stop, between the thread that sends and the one the stop comes from.

    A send may take minutes at a slow server (each command's timeout, then up to
    data_timeout for the verdict on the message's end): a stop that waited for it outlasted
    systemd's TimeoutStopSec (11 min) and was killed. Until the message's end is sent, the
    server cannot deliver the message: the stop closes the connection (a shutdown of the
    socket ends the sending thread's wait for a reply at once) and the message waits for the
    next start. Once the end is on its way, the verdict is waited for: the server may have
    taken the message, and only its answer says whether to mark it sent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: A stop came while no verdict was awaited: nothing more is sent.
        self.asked = False
        #: The end of the message being sent went (or is going) to the server.
        self.sent_end = False
        #: The server's verdict on that end is awaited: a stop waits for it.
        self._awaiting = False
        self._client: smtplib.SMTP | None = None
        self._sock: socket.socket | None = None  # a duplicate of the client's: ours to close

    def begin(self) -> None:
        """A message's send begins (in the sending thread)."""
        with self._lock:
            self._check()
            self.sent_end = False

    def watch(self, client: smtplib.SMTP, sock: socket.socket) -> None:
        """``client`` connected with ``sock`` (before any TLS: the same socket under it)."""
        with self._lock:
            if self.asked:
                sock.close()
            self._check()
            self._forget()
            self._client, self._sock = client, sock.dup()

    def ending(self) -> None:
        """The message's end is about to be sent: from now on a stop waits for the verdict;
        if the stop came first, it is never sent."""
        with self._lock:
            self._check()
            self.sent_end = self._awaiting = True

    def settled(self) -> None:
        """The server answered the message's end (or the connection failed awaiting it)."""
        with self._lock:
            self._awaiting = False

    @property
    def awaiting(self) -> bool:
        """Whether the server's verdict on a message's end is awaited."""
        return self._awaiting

    def closed(self, client: smtplib.SMTP) -> None:
        """``client``'s connection is closed."""
        with self._lock:
            if self._client is client:
                self._forget()

    def abandon(self) -> None:
        """The process stops: unless a verdict on a message's end is awaited, the
        connection is shut down and nothing more is sent."""
        with self._lock:
            if self._awaiting:
                return
            self.asked = True
            if self._sock is not None:
                with contextlib.suppress(OSError):  # already closed by the server
                    self._sock.shutdown(socket.SHUT_RDWR)

    def _check(self) -> None:
        if self.asked:
            raise smtplib.SMTPServerDisconnected("abandoned at a stop")

    def _forget(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._client, self._sock = None, None


class _PatientData(smtplib.SMTP):
    """smtplib's client, waiting ``data_timeout`` for the replies of DATA (see
    SmtpSettings.data_timeout), its other commands' timeout for the rest; a stop
    (:class:`_Stop`) ends it at once until the message's end is sent."""

    data_timeout = 600.0
    #: Set once the message's end was sent: only the server's verdict is missing.
    awaiting_verdict = False
    #: The last command sent, as a log names it ("MAIL FROM", "RCPT TO", "DATA").
    last_command = ""
    _in_data = False
    _body_next = False

    def __init__(self, *args: Any, stop: _Stop, **kwargs: Any) -> None:
        self.stop = stop  # before connecting: the stop may come while the greeting is awaited
        super().__init__(*args, **kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        """smtplib's (which its type stubs omit), the connection known to the stop before
        the greeting, and for implicit TLS before the handshake."""
        sock: socket.socket = smtplib.SMTP._get_socket(  # type: ignore[attr-defined]
            self, host, port, timeout)
        self.stop.watch(self, sock)
        if isinstance(self, smtplib.SMTP_SSL):
            try:
                return self.context.wrap_socket(
                    sock, server_hostname=self._host)  # type: ignore[attr-defined]
            except BaseException:  # the handshake failed: no client to close it
                self.stop.closed(self)
                raise
        return sock

    def close(self) -> None:
        self.stop.closed(self)
        super().close()

    def putcmd(self, cmd: str, args: str = "") -> None:
        verb = cmd.upper()
        if verb in ("MAIL", "RCPT"):  # "FROM:<address> SIZE=…", "TO:<address>"
            verb += " " + args.split(":", 1)[0].upper()
        self.last_command = verb  # never its arguments: AUTH's carry the password
        super().putcmd(cmd, args)

    def data(self, msg: Any) -> tuple[int, bytes]:
        sock = self.sock
        if sock is not None:
            sock.settimeout(self.data_timeout)
        self._in_data, self.awaiting_verdict = True, False
        try:
            return super().data(msg)
        finally:
            self.stop.settled()
            self._in_data = self._body_next = False
            if sock is not None and self.sock is sock:
                sock.settimeout(self.timeout)

    def getreply(self) -> tuple[int, bytes]:
        reply = super().getreply()
        self._body_next = self._in_data and reply[0] == 354  # DATA's "go ahead"
        return reply

    def send(self, s: Any) -> None:
        if not self._body_next:
            super().send(s)
            return
        # The message (smtplib's data() sends it in one piece, its end ".\r\n" last): its
        # end goes only if no stop came meanwhile, and from then on a stop waits.
        super().send(s[:-3])
        self.stop.ending()
        super().send(s[-3:])
        self._body_next, self.awaiting_verdict = False, True


class _PatientDataSsl(_PatientData, smtplib.SMTP_SSL):
    """The same over implicit TLS."""


#: Messages sent over one SMTP connection before it is closed and another opened (servers
#: cap them per session: Gmail's 100, Exchange Online's 30 recipients a message...).
SESSION_MESSAGES = 30


class SmtpTransport:
    """Delivers messages with smtplib, over one connection for the messages of a delivery
    run (up to SESSION_MESSAGES; :meth:`close` ends it): a connection, STARTTLS and login
    per message made 189 connections for 189 alerts, which hosted mail services' limits on
    connections per minute refuse."""

    def __init__(self, settings: SmtpSettings) -> None:
        self._stop = _Stop()
        self._session: smtplib.SMTP | None = None
        self._session_sent = 0
        self.settings = settings
        self.sender = settings.sender
        self.from_name = settings.from_name
        # Built once; certificate and host-name checks stay on, always.
        self._context = ssl.create_default_context()
        plain = not (settings.tls or settings.starttls)
        if settings.username and plain and not _is_loopback(settings.host):
            logger.warning("%s: login without TLS sends the password in clear", self.describe())

    def describe(self) -> str:
        """'SMTP host:port'."""
        host = self.settings.host
        if ":" in host:  # an IPv6 address
            host = f"[{host}]"
        return f"SMTP {host}:{self.settings.port}"

    def send(self, message: EmailMessage) -> None:
        """Send ``message`` to its To address; raises DeliveryError (never smtplib errors).
        The message accepted, it returns at once (marked sent without waiting for anything
        more: the shorter that window, the smaller the chance that a crash right now sends
        it again); the connection stays for the next message. After :meth:`stop`, nothing
        is sent (SendAbandoned)."""
        where = self.describe()
        try:
            self._stop.begin()
            self._send(message, where)
        except DeliveryError as exc:
            if self._stop.asked and not self._stop.sent_end:
                raise SendAbandoned(
                    f"{where} send abandoned at the stop, before the message's end: "
                    "not sent") from exc
            raise
        except smtplib.SMTPServerDisconnected as exc:  # begin(): the stop came first
            raise SendAbandoned(f"{where} not sent: stopping") from exc

    def stop(self) -> None:
        """See :meth:`Transport.stop`: the connection is shut down unless the message's end
        was sent (:class:`_Stop`)."""
        self._stop.abandon()

    def verdict_awaited(self) -> float | None:
        """How long the server's verdict on a message it has whole may still be awaited
        (its data timeout, seconds: a stop waits for it), or None when none is awaited."""
        return self.settings.data_timeout if self._stop.awaiting else None

    def _send(self, message: EmailMessage, where: str) -> None:
        reused = self._session is not None
        client = self._session or self._open(where)
        try:
            self._transmit(client, message, where)
        except MessageRefused:
            raise  # this message's own refusal: the session goes on (smtplib sent RSET)
        except TransportUnavailable as exc:
            self._drop()
            if not (reused and _closing(exc.__cause__)
                    and not getattr(client, "awaiting_verdict", False)):
                raise
            # The server closed the connection while it waited (an idle timeout, silent or
            # with its 421), or after as many messages as it takes on one (Exim's
            # smtp_accept_max_per_connection: 421 to the next MAIL FROM): nothing of this
            # message was taken; once more on a new connection.
            client = self._open(where)
            try:
                self._transmit(client, message, where)
            except MessageRefused:
                raise
            except BaseException:
                self._drop()
                raise
        except BaseException:
            self._drop()  # no polite QUIT on a broken or timed-out session
            raise
        self._session_sent += 1
        if self._session_sent >= SESSION_MESSAGES:
            self.close()

    def close(self) -> None:
        """End the connection, if any (QUIT sent, its reply not awaited)."""
        client, self._session, self._session_sent = self._session, None, 0
        if client is None:
            return
        try:
            client.putcmd("quit")
        except (smtplib.SMTPException, OSError) as exc:
            logger.debug("%s: QUIT failed: %s", self.describe(), _reason(exc))
        finally:
            client.close()

    def _open(self, where: str) -> smtplib.SMTP:
        """A new connection, STARTTLS and login done: this run's session."""
        client = self._connect(where)
        try:
            self._handshake(client, where)
        except BaseException:
            client.close()
            raise
        self._session, self._session_sent = client, 0
        return client

    def _drop(self) -> None:
        client, self._session, self._session_sent = self._session, None, 0
        if client is not None:
            client.close()

    def check(self) -> None:
        """Connect and log in without sending anything; raises DeliveryError."""
        where = self.describe()
        client = self._connect(where)
        try:
            self._handshake(client, where)
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()

    def _connect(self, where: str) -> smtplib.SMTP:
        """Open the connection (TLS from the start when configured)."""
        s = self.settings
        try:
            if s.tls:
                client: _PatientData = _PatientDataSsl(
                    s.host, s.port, timeout=s.timeout, context=self._context, stop=self._stop
                )
            else:
                client = _PatientData(s.host, s.port, timeout=s.timeout, stop=self._stop)
            client.data_timeout = max(s.timeout, s.data_timeout)
            return client
        except ssl.SSLError as exc:
            hint = ""
            if "WRONG_VERSION_NUMBER" in str(exc):
                hint = (" (the server does not speak TLS from the first byte here: for a "
                        "port such as 587 or 25, set smtp.starttls = true, not smtp.tls)")
            raise TransportUnavailable(f"{where} TLS failed: {_reason(exc)}{hint}") from exc
        except smtplib.SMTPConnectError as exc:
            raise TransportUnavailable(
                f"{where} refused the connection: {_reply(exc.smtp_code, exc.smtp_error)}"
            ) from exc
        except smtplib.SMTPServerDisconnected as exc:
            if "timed out" not in str(exc):
                raise TransportUnavailable(f"{where} unreachable: {_reason(exc)}") from exc
            # Connected, but no greeting: it was said "unreachable".
            hint = ("; port 465 expects TLS from the first byte: set smtp.tls = true"
                    if s.port == 465 and not s.tls else
                    "; a server that delays its greeting (up to 5 minutes, RFC 5321) needs a "
                    "longer smtp.timeout")
            raise TransportUnavailable(
                f"{where} took the connection but sent no greeting within "
                f"{s.timeout:g} s{hint}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportUnavailable(f"{where} unreachable: {_reason(exc)}") from exc

    def _handshake(self, client: smtplib.SMTP, where: str) -> None:
        """STARTTLS and login: failures here concern every message, not this one."""
        s = self.settings
        try:
            if s.starttls:
                client.starttls(context=self._context)
            if s.username:
                client.login(s.username, s.password or "")
        except ssl.SSLError as exc:
            raise TransportUnavailable(f"{where} TLS failed: {_reason(exc)}") from exc
        except smtplib.SMTPAuthenticationError as exc:
            if 400 <= exc.smtp_code < 500:
                # "454 4.7.0 Temporary authentication failure" (Postfix whose SASL service
                # is down), "too many login attempts": the login may pass later. Taken for a
                # refused one, it stopped the daemon at start-up for good (exit 2).
                raise TransportUnavailable(
                    f"{where} login deferred for {s.username}: "
                    f"{_reply(exc.smtp_code, exc.smtp_error)}"
                ) from exc
            raise AuthenticationFailed(
                f"{where} login failed for {s.username}: {_reply(exc.smtp_code, exc.smtp_error)}"
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise TransportUnavailable(
                f"{where} {'STARTTLS' if s.starttls else 'login'} refused: "
                f"{_reply(exc.smtp_code, exc.smtp_error)}"
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            hint = ""
            if not s.starttls and client.has_extn("starttls"):
                hint = " (it offers login after STARTTLS: set smtp.starttls = true)"
            elif s.starttls and not client.has_extn("starttls"):
                # A port of plain relay (a local Postfix on 25, a test sink) under a config
                # written for a provider's 587.
                hint = (" (it offers no STARTTLS on this port: check smtp.port, or set "
                        "smtp.starttls = false for a relay without TLS)")
            raise TransportUnavailable(f"{where} session failed: {_reason(exc)}{hint}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            said = _unanswered(client, exc) or f"session failed: {_reason(exc)}"
            raise TransportUnavailable(f"{where} {said}") from exc

    def _tls_hint(self, reply: str) -> str:
        """What to set when the server wants STARTTLS before mail ("530 5.7.0 Must issue a
        STARTTLS command first", Postfix's smtpd_tls_security_level = encrypt) and
        newswatch speaks plain SMTP: the line said "refused sender", and no more."""
        if self.settings.tls or self.settings.starttls or "starttls" not in reply.lower():
            return ""
        return " (it wants STARTTLS first: set smtp.starttls = true)"

    def _transmit(self, client: smtplib.SMTP, message: EmailMessage, where: str) -> None:
        """MAIL, RCPT, DATA: classify the server's refusal as per-message or server-wide."""
        if isinstance(client, _PatientData):
            client.awaiting_verdict = False  # a session's earlier message was answered
        try:
            refused = client.send_message(message, from_addr=ascii_domain(self.sender))
        except smtplib.SMTPRecipientsRefused as exc:
            replies = exc.recipients.values()
            text = "; ".join(f"{rcpt}: {_reply(c, m)}" for rcpt, (c, m) in exc.recipients.items())
            if any(code == 421 for code, _ in replies):
                raise TransportUnavailable(f"{where} closing: {text}") from exc
            if any(_refuses_us(code, _reply(code, m)) for code, m in replies):
                raise TransportUnavailable(
                    f"{where} will not take mail from newswatch as configured (check "
                    f"smtp.username, smtp.password and smtp.from): {text}"
                    f"{self._tls_hint(text)}") from exc
            if any(_defers_us(code, _reply(code, m)) for code, m in replies):
                raise TransportUnavailable(f"{where} deferred mail from newswatch: {text}") from exc
            permanent = all(500 <= code < 600 for code, _ in replies)
            raise MessageRefused(f"{where} refused recipient {text}", permanent=permanent) from exc
        except smtplib.SMTPSenderRefused as exc:
            reply = _reply(exc.smtp_code, exc.smtp_error)
            if exc.smtp_code == 552:  # this message is too large
                raise MessageRefused(
                    f"{where} refused the message: {reply}", permanent=True
                ) from exc
            if exc.smtp_code == 421:  # closing: nothing said of the sender
                raise TransportUnavailable(f"{where} closing: {reply}") from exc
            if 400 <= exc.smtp_code < 500:
                # Before any recipient: the server defers newswatch's mail, not this
                # message ("too many messages, slow down", no room): the others wait too
                # (each was tried, one refusal after another, at every run).
                raise TransportUnavailable(
                    f"{where} deferred mail from newswatch: {reply}") from exc
            # A refused From address is a configuration problem shared by every message:
            # keep them pending rather than failing them all.
            raise TransportUnavailable(
                f"{where} refused sender {exc.sender}: {reply}{self._tls_hint(reply)}"
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:  # e.g. a non-ASCII address, no SMTPUTF8
            raise MessageRefused(f"{where} cannot take the message: {exc}", permanent=True) from exc
        except smtplib.SMTPResponseException as exc:  # SMTPDataError and the like
            reply = _reply(exc.smtp_code, exc.smtp_error)
            if exc.smtp_code == 421 or exc.smtp_code < 400:
                raise TransportUnavailable(f"{where} failed: {reply}") from exc
            if _refuses_us(exc.smtp_code, reply):
                raise TransportUnavailable(
                    f"{where} will not take mail from newswatch as configured (check "
                    f"smtp.username, smtp.password and smtp.from): {reply}") from exc
            if _defers_us(exc.smtp_code, reply):
                raise TransportUnavailable(
                    f"{where} deferred mail from newswatch: {reply}") from exc
            permanent = 500 <= exc.smtp_code < 600
            verb = "refused" if permanent else "deferred"
            raise MessageRefused(
                f"{where} {verb} the message: {reply}", permanent=permanent
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            unanswered = _unanswered(client, exc)
            if getattr(client, "awaiting_verdict", False):
                said = (f"{unanswered} (it may have been delivered)" if unanswered else
                        "closed the connection after the message's end, before saying whether "
                        f"it took it (it may have been delivered): {_reason(exc)}")
                raise AcceptanceUnknown(f"{where} {said}") from exc
            said = unanswered or f"connection lost: {_reason(exc)}"
            raise TransportUnavailable(f"{where} {said}") from exc
        if refused:
            # Accepted for some recipients: retrying would send it to them twice.
            logger.warning(
                "%s refused some recipients of %s: %s", where, message["Message-ID"], refused
            )
        logger.debug("%s accepted %s for %s", where, message["Message-ID"], message["To"])


def ascii_domain(address: str) -> str:
    """``address`` with its domain in ASCII (IDNA: ``bücher.example`` is
    ``xn--bcher-kva.example``), as mail programs send it: a server takes a non-ASCII domain
    only with SMTPUTF8, which most do not offer. A local part in other letters stays (it
    needs SMTPUTF8 whatever is done)."""
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:  # not a name IDNA can write: the server says what it makes of it
        return address


class MboxTransport:
    """Appends each message to a local mbox file (the default when no SMTP server is set)."""

    def __init__(
        self, path: Path, sender: str = "newswatch@localhost", from_name: str = DEFAULT_FROM_NAME
    ) -> None:
        self.path = Path(path)
        self.sender = sender
        self.from_name = from_name

    def describe(self) -> str:
        """'mbox /path/to/file'."""
        return f"mbox {self.path}"

    def close(self) -> None:
        """Nothing is kept open between messages."""

    def stop(self) -> None:
        """A local file's append is not waited for long: it goes to its end."""

    def send(self, message: EmailMessage) -> None:
        """Append ``message`` under the mbox lock; raises DeliveryError."""
        entry = copy.copy(message)  # the From_ line is set on a copy, not the caller's message
        envelope = self.sender if self.sender.isascii() and " " not in self.sender else "newswatch"
        entry.set_unixfrom(f"From {envelope} {time.asctime(time.gmtime())}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Alerts may quote private topics and recipients: owner-only from the start.
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
            box = mailbox.mbox(self.path, create=True)
            try:
                box.lock()
                try:
                    box.add(entry)
                    box.flush()
                finally:
                    box.unlock()
            finally:
                box.close()
        except (OSError, mailbox.Error) as exc:
            raise TransportUnavailable(f"{self.describe()} not writable: {_reason(exc)}") from exc
        logger.debug("%s: appended %s", self.describe(), message["Message-ID"])
