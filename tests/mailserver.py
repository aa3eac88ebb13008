"""A real SMTP server (aiosmtpd) on 127.0.0.1 that records what it receives, for tests.

aiosmtpd's ``Controller`` cannot bind port 0: after binding it opens a trigger connection to
``self.port``. So a free port is reserved first and kept for the server's lifetime, which
also lets a test stop the server (an SMTP outage) and start it again on the same port. The
controller closes its event loop on stop, so every ``start()`` builds a fresh one.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import socket
import threading
from collections.abc import Callable
from email.message import EmailMessage
from types import TracebackType
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"


def untagged(html: str) -> str:
    """An HTML part's text as read: its tags taken out."""
    return re.sub(r"<[^>]*>", "", html)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class _Handler:
    """aiosmtpd handler that hands each message to the MailServer."""

    def __init__(self, server: MailServer) -> None:
        """Remember the owning server."""
        self._server = server

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str,
        rcpt_options: list[str],
    ) -> str:
        """Take a recipient (after a stall, when the server stalls there)."""
        await self._server._hold("RCPT")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        """Store (or reject) one message; answer its end (after a stall, when the server
        stalls there: the message is queued, the client awaits the verdict)."""
        reply = self._server._receive(envelope)
        await self._server._hold("DATA")
        return reply


class MailServer:
    """An SMTP server on 127.0.0.1 collecting messages (optionally requiring AUTH)."""

    def __init__(self, port: int = 0, *, auth: tuple[str, str] | None = None,
                 smtputf8: bool = True) -> None:
        """Reserve ``port`` (0: a free one); with ``auth`` = (user, password), accept AUTH;
        ``smtputf8``: offer SMTPUTF8 (non-ASCII addresses), as most servers do not."""
        self.host = HOST
        self.port = port or free_port()
        self.auth = auth
        self.smtputf8 = smtputf8
        #: When set (e.g. "550 5.1.1 Mailbox unavailable"), DATA is answered with it and dropped.
        self.reject: str | None = None
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.logins: list[tuple[str, bool]] = []  # (user, accepted)
        #: Called with each message accepted, after it is recorded and before the server's
        #: "250" goes out (on the server's thread: the client waits for it meanwhile).
        self.on_accept: Callable[[EmailMessage], None] | None = None
        #: Where the server stalls, silent, until ``release`` is set: "RCPT" (before answering
        #: RCPT TO) or "DATA" (the message taken, before answering its end); ``stalled`` is
        #: set once a client waits there.
        self.stall: str | None = None
        self.stalled = threading.Event()
        self.release = threading.Event()
        self._cond = threading.Condition()
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        """Whether the server is accepting connections."""
        return self._controller is not None

    def start(self) -> None:
        """Start listening on ``host:port`` (a fresh controller and event loop each time)."""
        if self._controller is not None:
            raise RuntimeError("MailServer already running")
        kwargs: dict[str, Any] = {}
        if self.auth is not None:
            # Plain-text AUTH on loopback only; aiosmtpd otherwise refuses AUTH without TLS.
            kwargs.update(auth_require_tls=False, authenticator=self._authenticate)
        controller = Controller(
            _Handler(self), hostname=self.host, port=self.port,
            server_hostname="mail.newswatch.test", ready_timeout=10.0,
            enable_SMTPUTF8=self.smtputf8, **kwargs,
        )
        try:
            controller.start()
        except BaseException:
            controller.stop(no_assert=True)
            if not controller.loop.is_closed():
                controller.loop.close()
            raise
        self._controller = controller

    def stop(self) -> None:
        """Stop listening and join the server thread (the port stays ours for a restart)."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> MailServer:
        """Start the server."""
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        """Accept exactly the configured user and password."""
        assert self.auth is not None
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8", "replace")
        ok = (user, auth_data.password.decode("utf-8", "replace")) == self.auth
        with self._cond:
            self.logins.append((user, ok))
        return AuthResult(success=ok, handled=False)

    def _receive(self, envelope: Envelope) -> str:
        """Parse and store one message; called on the server's event loop."""
        if self.reject is not None:
            return self.reject
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8")
        message = cast(EmailMessage, email.message_from_bytes(data, policy=email.policy.default))
        with self._cond:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from or "", list(envelope.rcpt_tos)))
            self._cond.notify_all()
        if self.on_accept is not None:
            self.on_accept(message)
        return "250 Message accepted for delivery"

    async def _hold(self, step: str) -> None:
        """Stall at ``step`` if the server is to (see ``stall``)."""
        if self.stall != step:
            return
        self.stalled.set()
        while not self.release.is_set():
            await asyncio.sleep(0.05)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[EmailMessage]:
        """Block until at least ``count`` messages arrived; AssertionError if they do not."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.messages) >= count, timeout):
                got = [(m["Subject"], m["To"]) for m in self.messages]
                raise AssertionError(
                    f"expected {count} message(s) within {timeout}s, got {len(got)}: {got!r}"
                )
            return list(self.messages)

    def clear(self) -> None:
        """Forget every received message, envelope and login."""
        with self._cond:
            self.messages.clear()
            self.envelopes.clear()
            self.logins.clear()
