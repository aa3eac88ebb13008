"""Channels other than email: notification URLs (``ntfy://…``, ``slack://…``, ``json://…``)
handed to Apprise, an optional dependency (``pip install 'newswatch[apprise]'``).

A topic's ``notify`` list mixes email addresses and such URLs. An alert for a URL goes through
the same outbox as an email — queued in the match transaction, retried with back-off, marked
sent once — and carries the email's subject as its title and its plain-text part as its body.
Notification URLs hold secrets (tokens, passwords): logs and ``status`` only ever show them
masked, as :func:`redact` gives them.
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import storage
from storage.clock import http_date

from .transport import AcceptanceUnknown, AskedToWait, DeliveryError

logger = logging.getLogger(__name__)

INSTALL_HINT = (
    "notification URLs need the optional apprise package: pip install 'newswatch[apprise]'"
)


def is_channel(recipient: str) -> bool:
    """Whether ``recipient`` is a notification URL rather than an email address."""
    return "://" in recipient


def _apprise() -> Any:
    try:
        import apprise
    except ImportError:
        return None
    # Apprise's lines write notification URLs, tokens and all, and the alerts' text (its
    # debug lines: a send reads them, at DEBUG, to tell a timeout from a refusal): they go
    # to that send's capture only, never to newswatch's log, whatever its level. What a
    # send says comes back in its error, masked (redact).
    logging.getLogger("apprise").propagate = False
    # At DEBUG for good (its lines go nowhere but a capture): a capture sets the level for
    # its send and puts it back at its end, and a send left to end on its own past its
    # deadline (AppriseTransport.send) put it back under the next send's capture, whose
    # failure then lost the debug line telling a timeout from a refusal.
    logging.getLogger("apprise").setLevel(logging.DEBUG)
    _watch_answers()
    return apprise


#: The last HTTP answer a notification's thread got: (status, its Retry-After or None).
_answer = threading.local()


@cache
def _watch_answers() -> None:
    """Keep each HTTP answer's status and Retry-After in the thread that asked (see
    :func:`asked_wait`). Apprise's plugins log a refusal's status, never its headers, and
    each posts through requests' own functions: a service's "429, come back in 120 s" was
    retried on newswatch's back-off, a minute later, and every alert behind it too."""
    import requests

    send = requests.Session.send

    def watched(self: requests.Session, request: requests.PreparedRequest,
                **kwargs: Any) -> requests.Response:
        response = send(self, request, **kwargs)
        _answer.last = (response.status_code, response.headers.get("Retry-After"))
        return response

    setattr(requests.Session, "send", watched)  # noqa: B010 (mypy: no assigning a method)


@cache
def _plugin(url: str) -> Any:
    """Apprise's plugin for ``url``, or None when Apprise is missing or does not know it.

    A body longer than the service takes (Discord 2,000 characters, Telegram 4,096: an
    alert of a few stories with their snippets) is cut to its limit, where the URL does not
    choose otherwise (``?overflow=split``: several messages). Apprise's own default passes it
    on whole, the service refuses it, and the alert would be retried without end; split,
    a part that fails has the parts before it sent again with the retry."""
    apprise = _apprise()
    if apprise is None:
        return None
    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    query = parse_qs(urlsplit(url).query)
    keys = {key.lower() for key in query}
    if plugin is not None and "overflow" not in keys:
        plugin.overflow_mode = apprise.common.OverflowMode.TRUNCATE
    if plugin is not None and "redirect" not in keys:
        # A 301-303 answer to the POST was followed as a GET (requests does so): a moved
        # webhook's web page answered 200 and the alert was marked sent, posted nowhere.
        # Not followed, the redirect fails the alert (``?redirect=yes`` follows them).
        plugin.redirects = False
    return plugin


def check_channel(url: str) -> str:
    """``url`` when Apprise understands it; ValueError with a message for the user if not."""
    if _apprise() is None:
        raise ValueError(INSTALL_HINT)
    plugin = _plugin(url)
    if plugin is None:
        scheme = url.split("://", 1)[0]
        raise ValueError(
            f"{scheme}:// is not a notification URL Apprise understands "
            "(see https://github.com/caronc/apprise/wiki)"
        )
    if (targets := len(plugin)) > 1:
        # The service tells one failed target from the others only in Apprise's log: the
        # retry would send the alert again to every target that had it.
        raise ValueError(
            f"{redact(url)} sends to {targets} targets at once: if one fails, its retry "
            "would alert the others twice; give each target a URL of its own"
        )
    return url


def redact(recipient: str) -> str:
    """``recipient`` fit for logs and screens: a notification URL with its secrets masked."""
    if not is_channel(recipient):
        return recipient
    plugin = _plugin(recipient)
    if plugin is None:
        return recipient.split("://", 1)[0] + "://…"
    masked = str(plugin.url(privacy=True)).split("?", 1)[0]
    # Apprise masks the tokens it knows of (Slack's, Discord's); a generic webhook's path
    # may hold one too (json://host/services/T0/B0/XXXXXXXX, an ntfy topic): a path part
    # of eight characters or more shows its first two.
    scheme, _, rest = masked.partition("://")
    where, slash, path = rest.partition("/")
    parts = [p if len(p) < 8 else p[:2] + "…" for p in path.split("/")]
    return f"{scheme}://{where}{slash}{'/'.join(parts)}"


#: Mentions that notify a whole channel or server (Slack, Mattermost, Discord, Rocket.Chat,
#: Teams): a feed's title "… @channel" would have called everyone in it.
_MASS_MENTION = re.compile(r"(?<![\w.+-])@(channel|here|everyone|all|room)\b", re.IGNORECASE)


def without_mentions(text: str) -> str:
    """``text`` with its mass mentions made inert: a zero-width space after the ``@``,
    which the services do not read as a mention (and readers do not see)."""
    return _MASS_MENTION.sub("@\u200b\\1", text)


#: What Apprise's debug log says (requests' words) when a request was sent and its answer
#: never came.
_SENT_UNANSWERED = ("Read timed out", "RemoteDisconnected", "Connection aborted")

#: A notification's time in all, its answer read whole, in its connect and read timeouts
#: (Apprise's ``cto`` and ``rto``, 4 s each by default: 32 s).
LONGEST_SEND = 4

#: The HTTP status in Apprise's line about a refused notification ("…, error=404.").
_HTTP_STATUS = re.compile(r"\berror=(\d{3})\b")
#: 4xx answers that ask for the same request later (a timeout, too early, a rate limit).
_LATER = {408, 425, 429}


#: Answers that may say when to come back (RFC 9110: Retry-After): a rate limit, a service
#: overloaded or in maintenance.
_BUSY = {429, 503}
#: The longest Retry-After honoured, as for a crawled host (crawler.http's
#: MAX_HOST_WAIT_SECONDS): a service's alerts wait no longer, whatever it asked.
LONGEST_WAIT = 6 * 3600.0


def asked_wait(status: int, retry_after: str | None, now: datetime) -> float | None:
    """Seconds a busy service's answer asks us to wait (its Retry-After in seconds or as an
    HTTP date, a date without a zone read as UTC), LONGEST_WAIT at most; None when it does
    not say."""
    if status not in _BUSY or not retry_after:
        return None
    text = retry_after.strip()
    if text.isdigit():
        return min(float(text), LONGEST_WAIT)
    when = http_date(text)
    if when is None:
        return None
    return min(max(0.0, (when - now).total_seconds()), LONGEST_WAIT)


def refused_for_good(status: int) -> bool:
    """Whether an HTTP answer refuses the notification whatever the retry: a 4xx other than
    "later". A deleted webhook (404, 410), a revoked token (401, 403), an alert the service
    will not take (400, 413, 422) gave the same answer at every back-off step, for ever,
    the alert "pending" all along; failed, it shows in `status` and ``resend`` sends it
    again once the URL is mended."""
    return 400 <= status < 500 and status not in _LATER


class AppriseTransport:
    """Sends outbox rows addressed to notification URLs, one Apprise notification each."""

    def send(self, message: storage.OutboxMessage) -> None:
        """Notify ``message.recipient``; DeliveryError (to be retried) when it fails."""
        apprise = _apprise()
        shown = redact(message.recipient)
        if apprise is None:
            raise DeliveryError(f"{shown}: {INSTALL_HINT}")
        plugin = _plugin(message.recipient)
        if plugin is None:
            raise DeliveryError(f"{shown}: not a notification URL", permanent=True)
        outcome: dict[str, Any] = {}

        def notify() -> None:
            try:
                with apprise.LogCapture(level=logging.DEBUG) as captured:
                    outcome["ok"] = plugin.notify(
                        body=without_mentions(message.text),
                        title=without_mentions(message.subject),
                        body_format=apprise.NotifyFormat.TEXT,
                    )
                    outcome["said"] = str(captured.getvalue())
                    outcome["answer"] = getattr(_answer, "last", None)
            except BaseException as exc:  # raised again in the sending thread, below
                outcome["raised"] = exc

        # Requests' timeouts bound each read, not the answer: a service (or a proxy before
        # it) dripping its answer held the delivery run, and every email behind it, as long
        # as it went on. Past its deadline the notification is left to end on its own.
        deadline = LONGEST_SEND * (plugin.socket_connect_timeout + plugin.socket_read_timeout)
        sending = threading.Thread(target=notify, name="notification", daemon=True)
        sending.start()
        sending.join(deadline)
        if sending.is_alive():
            raise AcceptanceUnknown(f"{shown}: no whole answer within {deadline:g} s of "
                                    "sending (perhaps delivered)")
        if "raised" in outcome:
            raise outcome["raised"]
        ok, said = outcome["ok"], outcome["said"]
        if not ok:
            lines = [line.strip() for line in said.splitlines() if " - WARNING - " in line
                     or " - ERROR - " in line]
            why = lines[-1].split(" - ", 2)[-1] if lines else "the service refused or was down"
            why = why.replace(message.recipient, shown)
            if any(mark in said for mark in _SENT_UNANSWERED):
                # The request went out whole and no answer came: the service may have posted
                # it (a slow webhook got a copy at every retry, for ever): a few times at most.
                raise AcceptanceUnknown(f"{shown}: {why} (no answer after the request was "
                                        "sent: perhaps delivered)")
            status = _HTTP_STATUS.search(why)
            if status is not None and 300 <= int(status.group(1)) < 400:
                raise DeliveryError(f"{shown}: {why} (a redirect, not followed: write the "
                                    "address the service moved to in the URL)", permanent=True)
            answer: tuple[int, str | None] | None = outcome["answer"]
            wait = None if answer is None else asked_wait(answer[0], answer[1],
                                                          datetime.now(UTC))
            if wait is not None:
                raise AskedToWait(f"{shown}: {why} (it asked to wait {wait:g} s)", seconds=wait)
            if status is not None and refused_for_good(int(status.group(1))):
                raise DeliveryError(f"{shown}: {why} (refused for good: check the URL)",
                                    permanent=True)
            raise DeliveryError(f"{shown}: {why}")

    def describe(self) -> str:
        """Where messages go, for logs."""
        return "notification URLs (Apprise)"
