"""Small helpers over Scrapy responses and failures, and the Scrapy components newswatch
replaces: with cheaper ones (meta refresh, stats), with mended ones (robots.txt), and with
one that holds the pages of a host that asked to wait (the HTTP handler)."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import re
import socket
import sys
import threading
import time
import zlib
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, Self
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from OpenSSL import SSL
from scrapy import Request, Spider
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler, TunnelError
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import HtmlResponse, Response
from scrapy.robotstxt import RobotParser
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.interfaces import IHostnameResolver, IHostResolution, IReactorFromThreads
from twisted.python.failure import Failure
from w3lib.encoding import http_content_type_encoding
from zope.interface import implementer

from storage.clock import http_date

from .discover import sniff
from .extracted import undeclared_encoding, unmarked_utf16
from .feeddates import CLOCK_DRIFT
from .feeds import parse_feed
from .urls import web_url

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from twisted.internet.interfaces import IAddress

# Statuses handed to our callbacks instead of being dropped by HttpErrorMiddleware, so that
# each one is recorded. Redirects are not listed: Scrapy follows them.
HANDLED_STATUSES = [304, 400, 401, 403, 404, 406, 410, 429, 451, 500, 502, 503, 504]
PERMANENT_REDIRECTS = {301, 308}
#: What Scrapy's RedirectMiddleware says when a chain of redirects outgrows REDIRECT_MAX_TIMES.
REDIRECT_LOOP = "max redirections reached"
#: A page's refusal while its site's robots.txt cannot be read (RFC 9309: then everything is
#: disallowed): it may pass at the next poll.
ROBOTS_UNREADABLE = "robots.txt could not be read"
#: What Scrapy's robots.txt middleware says of a page its site's robots.txt disallows.
ROBOTS_FORBIDDEN = "Forbidden by robots.txt"
#: A page's refusal while its host asks us to wait (it answered 429 or 503): it may pass at
#: a later poll.
HOST_WAITS = "its host asked to be left alone for a while (HTTP 429 or 503)"
#: How long a host that answered 429 or 503 without a Retry-After gets no page request; the
#: longest Retry-After honoured (as for sources).
HOST_WAIT_SECONDS = 60.0
MAX_HOST_WAIT_SECONDS = 6 * 3600.0


def retry_after(response: Response) -> float | None:
    """Seconds a server asked us to wait (Retry-After as seconds or an HTTP date; a date
    with the zone "-0000" or none is read as UTC, as HTTP dates are)."""
    value = response.headers.get(b"Retry-After")
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    when = http_date(text)
    return None if when is None else max(0.0, (when - datetime.now(UTC)).total_seconds())


#: The longest robots.txt Crawl-delay honoured (seconds). A crawl polls its sources at once
#: and takes the sources falling due for 10 minutes only (scheduler.daemon.JOIN_SECONDS):
#: a site asking 30 s between pages would hold every other source's next poll behind its
#: 30 pages (15 minutes; a first poll of 500, hours). At 5 s: 2.5 minutes for 30 pages.
MAX_CRAWL_DELAY = 5.0


def last_modified(response: Response, now: datetime) -> str | None:
    """The response's Last-Modified, to send back as If-Modified-Since: not when it lies
    ahead of ``now`` (by more than a clock's drift). Sent back, a date of 2030 (a server's
    clock once wrong) made a server that answers 304 while nothing changed after the date
    asked about answer 304 for ever: the source's new stories never seen."""
    value = header(response, "Last-Modified")
    if value is None:
        return None
    when = http_date(value)
    if when is None:
        return value  # the server's own words, which it may compare as text
    return value if when <= now + CLOCK_DRIFT else None


def went_back(before: str | None, after: str | None) -> bool:
    """Whether a source's document whose Last-Modified is ``after`` is older than the one
    its poll before read, whose Last-Modified was ``before``: a CDN node that serves a copy
    it cached earlier, beside one that serves the current copy (dates that cannot be read
    tell nothing). A publisher's own document does not go back in time."""
    then = http_date(before) if before else None
    now = http_date(after) if after else None
    return then is not None and now is not None and now < then


def transient_status(status: int) -> bool:
    """An HTTP error that may pass: a timeout (408), too early (425), too many requests
    (429), any server error (5xx, Cloudflare's 520-527 among them)."""
    return status >= 500 or status in (408, 425, 429)


def transient_failure(failure: Failure) -> bool:
    """Whether a failed request may succeed later: any failure but an answer whose status
    will not pass (404, 410...), robots.txt's refusal, a body over the size limit or a
    request filtered as offsite. A redirect loop counts as one that may pass (the site's
    misconfiguration, or a consent wall that goes)."""
    exc = failure.value
    response = getattr(exc, "response", None)
    if isinstance(exc, HttpError) and response is not None:
        return transient_status(response.status)
    if isinstance(exc, IgnoreRequest):
        return str(exc) in (REDIRECT_LOOP, ROBOTS_UNREADABLE, HOST_WAITS)
    # A body larger than crawl.max_size will be so at the next poll too.
    return not (isinstance(exc, DownloadCancelledError) and "max size" in str(exc))


def refused_unsent(failure: Failure) -> bool:
    """Whether a page's request was refused before it was sent, as its host asked to wait
    (HOST_WAITS): the page was not tried. (A page that robots.txt, unreadable, keeps from
    being fetched counts as tried: a robots.txt that keeps answering 5xx must not keep the
    site's articles waiting for ever.)"""
    return isinstance(failure.value, IgnoreRequest) and str(failure.value) == HOST_WAITS


def robots_forbidden(failure: Failure) -> bool:
    """Whether a page's request was refused as its site's robots.txt disallows it."""
    return isinstance(failure.value, IgnoreRequest) and str(failure.value) == ROBOTS_FORBIDDEN


def permanent_redirect(response: Response) -> str | None:
    """The final URL when every redirect that led to ``response`` was permanent."""
    reasons = response.meta.get("redirect_reasons") or []
    if reasons and all(reason in PERMANENT_REDIRECTS for reason in reasons):
        return str(response.url)
    return None


def header(response: Response, name: str) -> str | None:
    """A response header as text."""
    value = response.headers.get(name.encode())
    return value.decode("latin-1") if value else None


def headers_dict(response: Response) -> dict[str, str]:
    """The response headers as a plain dict (first value of each)."""
    return {k.decode("latin-1"): v[0].decode("latin-1") for k, v in response.headers.items() if v}


def proxy_of(request: Request | None) -> str:
    """The proxy a request went through (http_proxy, https_proxy of the environment), its
    host and port: "" when none."""
    proxy = (request.meta.get("proxy") if request is not None else None) or ""
    return urlsplit(proxy).netloc.rpartition("@")[2] if proxy else ""


def describe_failure(failure: Failure) -> str:
    """One line saying why a request failed; through which proxy, when one was used (its
    refusal read as the site's: an operator checked a site that was up)."""
    said = _described(failure)
    proxy = proxy_of(getattr(failure, "request", None))
    return f"{said} (through the proxy {proxy})" if proxy else said


def _described(failure: Failure) -> str:
    exc = failure.value
    response = getattr(exc, "response", None)
    if isinstance(exc, HttpError) and response is not None:
        location = header(response, "Location")
        if 300 <= response.status < 400 and location:
            return f"HTTP {response.status}: redirect to {location} not followed"
        return f"HTTP {response.status}"
    request = getattr(failure, "request", None)
    if isinstance(exc, IgnoreRequest) and str(exc) == REDIRECT_LOOP and request is not None:
        # Scrapy's words name neither the loop nor where it was: the request refused is
        # the last of the chain, which lists the addresses it came through.
        times = request.meta.get("redirect_times", 0)
        if request.url in request.meta.get("redirect_urls", ()):
            return f"it redirects in a loop (back to {request.url} after {times} redirects)"
        return f"it redirects more than {times} times (the last from {request.url})"
    if not str(exc).strip() and "Cancel" in type(exc).__name__:
        # Scrapy cancels a body that outgrows DOWNLOAD_MAXSIZE without saying so when the
        # server sent no Content-Length.
        return (
            f"{type(exc).__name__}: download cancelled — the body exceeded the size limit "
            "(crawl.max_size), or newswatch was stopping"
        )
    if (lookup := _lookup_failure(exc, request)) is not None:
        return lookup
    if isinstance(exc, TunnelError) and (refused := _TUNNEL_STATUS.search(str(exc))):
        # A proxy's refusal of the tunnel to an https:// site, as its refusal of a plain
        # http:// request reads (describe_failure names the proxy): Scrapy's words were the
        # repr of a dict, the proxy named twice.
        return f"HTTP {refused.group(1)}"
    if (underlying := _transport_failure(exc)) is not None:
        return underlying
    text = str(exc).strip() or type(exc).__name__
    if _undecodable(exc):
        # A server that labels a plain feed "Content-Encoding: gzip" (or br, deflate): the
        # source failed with the decoder's words alone, "BadGzipFile: Not a gzipped file
        # (b'<?')" or "error: brotli: decoder failed" (a browser refuses such a body too).
        return (f"the body could not be decompressed as its Content-Encoding says: the server "
                f"sent it uncompressed, mislabelled or damaged ({type(exc).__name__}: {text})")
    # Scrapy's own words name its setting and the whole request or response: "Expected to
    # receive 12582923 bytes which is larger than download max size (5000000) in request
    # <GET …>", "Ignored response <200 …> because its body (…) exceeded DOWNLOAD_MAXSIZE
    # (1048576 B) during decompression."
    if (size := _CANCELLED_SIZE.search(text)) is not None:
        return (f"the body ({int(size.group(1)):,} bytes) is larger than crawl.max_size "
                f"({int(size.group(2)):,} bytes)")
    if (size := _DECOMPRESSED_SIZE.search(text)) is not None:
        return (f"the body, decompressed, is larger than crawl.max_size "
                f"({int(size.group(1)):,} bytes)")
    if isinstance(exc, DownloadTimeoutError) and (waited := _TIMED_OUT.search(text)):
        # "DownloadTimeoutError: Getting <url> took longer than 2.0 seconds." named neither
        # the setting nor that the site had not answered (or not whole: a body that came
        # too slowly is cut off at the same time).
        return f"no full answer within crawl.timeout ({float(waited.group(1)):g}s)"
    return f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text


#: Why the lookup of a host name failed, while it fails (a later lookup that succeeds drops
#: it): Twisted's resolver keeps no reason, and each failure was "DNS lookup failed: no
#: results for hostname lookup", a name the DNS does not know like a resolver that is down.
_lookup_failures: dict[str, socket.gaierror] = {}
#: The host names being looked up now, or waiting for a thread to be, and by how many
#: lookups (one for each kind of address asked for).
_looking_up: dict[str, int] = {}

#: Threads that look host names up, at most. A lookup the DNS does not answer (a dead
#: domain's name servers, a firewall dropping the queries of one zone) holds its thread
#: until this machine's resolver gives up, whatever crawl.timeout: glibc's defaults, 5 s a
#: try and 2 tries for each of up to 3 name servers, make 30 s. A name is looked up once at
#: a time (Resolver), so the threads are held by the lookups of the requests in flight
#: (crawl.concurrency, 16 by default) and by distinct names that hang, which a crawl of
#: several hundred sources meets by the dozen; more than that at once is this machine's
#: resolver failing, when every source fails alike. A thread costs its stack: 8 MiB of
#: address space reserved, of which getaddrinfo touches some tens of KiB, so 64 cost a few
#: MiB at worst. Twisted's pool, 10 threads that the lookups shared, was held whole by ten
#: names that hang: every other lookup waited behind them (an address like 127.0.0.1 too,
#: which Twisted looks up as well) and its source failed as a site too slow to answer.
LOOKUP_THREADS = 64
#: Seconds a thread of the resolver waits for the next lookup before it ends: a cold cycle's
#: lookups (one for each connection a host's requests open) reuse the threads of the ones
#: before, where a thread started for each lookup cost 70 us of CPU more than a hand-over,
#: and blocked the reactor's thread until the new thread ran (2.7 ms on average, measured in
#: a cold cycle with the page workers busy).
LOOKUP_LINGER = 10.0

_ADDRESS_FAMILIES = {frozenset([IPv4Address]): socket.AF_INET,
                     frozenset([IPv6Address]): socket.AF_INET6}
_SOCKET_TYPES = {"TCP": socket.SOCK_STREAM, "UDP": socket.SOCK_DGRAM}
#: What a lookup waits for: the host name, the family and the socket type of its addresses.
_Lookup = tuple[str, int, int]
#: A request's IResolutionReceiver (zope's interfaces are no types to mypy).
_Receiver = Any
_Answer = Sequence[tuple[socket.AddressFamily, socket.SocketKind, int, str,
                         tuple[str, int] | tuple[str, int, int, int] | tuple[int, bytes]]
                   ] | Exception


@implementer(IHostResolution)
class _Resolution:
    """One request's lookup of ``name``, as Twisted's resolvers hand it back."""

    def __init__(self, name: str) -> None:
        self.name = name

    def cancel(self) -> None:
        # As Twisted's own: getaddrinfo, once running in its thread, cannot be stopped.
        raise NotImplementedError


class _Idle:
    """A thread of Resolver waiting for a lookup to be handed to it."""

    def __init__(self) -> None:
        self.told = threading.Event()
        self.lookup: _Lookup | None = None


@implementer(IHostnameResolver)
class Resolver:
    """The reactor's name resolver: getaddrinfo in threads of its own (LOOKUP_THREADS at
    most, started as lookups come, each ending when none came for LOOKUP_LINGER), and one
    lookup of a name at a time, whose answer every request for the name gets. A name the
    DNS does not answer for holds one thread, and only the requests for that name: they
    fail at crawl.timeout as a lookup that did not answer (_lookup_failure), and the next
    poll of their sources waits for the same lookup if it still runs, or starts a new one."""

    def __init__(self, reactor: IReactorFromThreads) -> None:
        self._reactor = reactor
        #: The requests waiting for each lookup under way: their receivers and ports.
        self._waiting: dict[_Lookup, list[tuple[_Receiver, int]]] = {}
        self._lock = threading.Lock()  # over the three below, which the threads share
        self._running = 0
        self._queued: deque[_Lookup] = deque()
        #: The threads waiting for a lookup to run (LOOKUP_LINGER at most), newest last.
        self._idle: list[_Idle] = []

    def resolveHostName(
        self, resolutionReceiver: _Receiver, hostName: str, portNumber: int = 0,
        addressTypes: Sequence[type[IAddress]] | None = None, transportSemantics: str = "TCP",
    ) -> _Resolution:
        """See Twisted's IHostnameResolver; called in the reactor's thread."""
        resolution = _Resolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)
        family = _ADDRESS_FAMILIES.get(frozenset(addressTypes or ()), socket.AF_UNSPEC)
        lookup = (hostName, family, _SOCKET_TYPES[transportSemantics])
        if (waiting := self._waiting.get(lookup)) is not None:
            waiting.append((resolutionReceiver, portNumber))
            return resolution
        self._waiting[lookup] = [(resolutionReceiver, portNumber)]
        _looking_up[hostName] = _looking_up.get(hostName, 0) + 1
        with self._lock:
            if self._idle:
                idle = self._idle.pop()
                idle.lookup = lookup
                idle.told.set()
                return resolution
            if self._running == LOOKUP_THREADS:
                self._queued.append(lookup)
                return resolution
            self._running += 1
        thread = threading.Thread(target=self._look_up, args=(lookup,), name="newswatch-dns",
                                  daemon=True)  # daemon: a hung lookup never holds the exit
        try:
            thread.start()
        except RuntimeError as exc:
            # No thread to be had (the machine at its limit of tasks, a service's TasksMax,
            # or out of memory): the lookup ends now, as one that found nothing, rather
            # than stay under way for good, every later request for the name waiting for it.
            with self._lock:
                self._running -= 1
            self._answered(lookup, exc)
        return resolution

    def _look_up(self, lookup: _Lookup | None) -> None:
        """Run ``lookup``, then each one queued meanwhile or handed to this thread while it
        waited LOOKUP_LINGER for one (in a thread of this resolver)."""
        while lookup is not None:
            host, family, socket_type = lookup
            try:
                answer: _Answer = socket.getaddrinfo(host, 0, family, socket_type)
            except Exception as exc:  # a name IDNA cannot encode too: no thread lost to it
                answer = exc
            # Waiting before its answer is told, so that the lookup its answer leads to (the
            # next request of a crawl) finds it.
            with self._lock:
                lookup = self._queued.popleft() if self._queued else None
                idle = _Idle() if lookup is None else None
                if idle is not None:
                    self._idle.append(idle)
            self._reactor.callFromThread(self._answered, (host, family, socket_type), answer)
            if idle is not None:
                lookup = self._handed(idle)

    def _handed(self, idle: _Idle) -> _Lookup | None:
        """The lookup handed to this thread within LOOKUP_LINGER; None when none was (the
        thread ends)."""
        idle.told.wait(LOOKUP_LINGER)
        with self._lock:
            if idle.lookup is None:  # none handed to it (a hand-over sets both at once)
                self._idle.remove(idle)
                self._running -= 1
            return idle.lookup

    def _answered(self, lookup: _Lookup, answer: _Answer) -> None:
        """Give ``answer`` to every request waiting for ``lookup`` (in the reactor's thread)."""
        host = lookup[0]
        if (left := _looking_up.pop(host) - 1) > 0:
            _looking_up[host] = left
        if isinstance(answer, Exception):
            if isinstance(answer, socket.gaierror):
                _lookup_failures[host] = answer
            answer = []
        else:
            _lookup_failures.pop(host, None)
        for receiver, port in self._waiting.pop(lookup):
            for family, socket_type, _proto, _canonical, address in answer:
                transport: Literal["TCP", "UDP"] = (
                    "UDP" if socket_type == socket.SOCK_DGRAM else "TCP")
                if family == socket.AF_INET:
                    receiver.addressResolved(IPv4Address(transport, str(address[0]), port))
                elif family == socket.AF_INET6 and len(address) == 4:
                    receiver.addressResolved(IPv6Address(
                        transport, str(address[0]), port, address[2], address[3]))
            receiver.resolutionComplete()


def install_resolver() -> None:
    """Have the reactor look host names up through Resolver."""
    from twisted.internet import reactor

    reactor.installNameResolver(Resolver(reactor))


def _lookup_failure(exc: BaseException | None, request: Request | None) -> str | None:
    """What a failure of the DNS lookup of the request's host says: a name the DNS does not
    know (the source's address is wrong, or the domain is gone), one it could not look up
    now (this machine's resolver down: every source on a name fails), or a lookup that
    outlasted crawl.timeout, which Scrapy said as a download that took longer."""
    if request is None or not isinstance(exc, CannotResolveHostError | DownloadTimeoutError):
        return None
    host = urlparse_cached(request).hostname or ""
    if isinstance(exc, DownloadTimeoutError):
        if host not in _looking_up:
            return None
        return (f"the DNS lookup of {host} took longer than crawl.timeout (this machine's "
                "resolver, or the domain's name servers, did not answer in time)")
    failure = _lookup_failures.get(host)
    if failure is None:
        return None
    if failure.errno in _UNKNOWN_NAME:
        return f"no such host: the DNS does not know {host} ({failure.strerror})"
    said = f"the DNS lookup of {host} failed: {failure.strerror}"
    if failure.errno == socket.EAI_AGAIN:
        return f"{said} (this machine's resolver, or the domain's name servers, did not answer)"
    return said


#: getaddrinfo's answers for a name the DNS does not know, or that has no address.
_UNKNOWN_NAME = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


def _transport_failure(exc: BaseException | None) -> str | None:
    """What a failure of TLS or of the connection under an HTTP request (Twisted's reasons,
    which Scrapy's DownloadFailedError gives as the repr of a list of Failures) says, in
    words: "[<twisted.python.failure.Failure OpenSSL.SSL.Error: [('SSL routines', '',
    'certificate verify failed')]>]" was the whole of a source's last error."""
    if exc is None:
        return None
    reasons = getattr(exc.__cause__, "reasons", None) or getattr(exc, "reasons", None)
    for reason in reasons or ():
        value = getattr(reason, "value", reason)
        if isinstance(value, SSL.Error):
            said = "; ".join(str(part[-1]) for part in (value.args[0] if value.args else ())
                             if isinstance(part, tuple) and part and part[-1]) or str(value)
            return f"TLS failed: {said}{_TLS_HINTS.get(said, '')}"
        if type(value).__name__ == "VerificationError":  # service_identity: another name
            return f"TLS failed: the certificate is for another name ({value})"
        if isinstance(value, ConnectionLost | ConnectionDone):
            return "the connection was closed before the whole answer came"
    return None


def _undecodable(exc: BaseException | None) -> bool:
    """Whether ``exc`` is a decoder's refusal of a body (gzip, deflate, br): raised, in a
    crawl, by Scrapy's decompression of a body by its Content-Encoding."""
    if isinstance(exc, (gzip.BadGzipFile, zlib.error)):
        return True
    brotli = sys.modules.get("brotli")  # loaded by Scrapy for a body in br
    return brotli is not None and isinstance(exc, brotli.error)


#: What a TLS failure means, where OpenSSL's words do not say it.
_TLS_HINTS = {
    "certificate verify failed": (
        " (expired, not yet valid, self-signed, for another name or from an authority this "
        "machine does not trust; crawl.verify_tls = false fetches such sites anyway)"),
    "wrong version number": " (the server does not speak TLS there: plain HTTP on an https:// "
                            "address?)",
    "tlsv1 alert protocol version": " (the server speaks only a TLS version too old to use)",
    "unsupported protocol": " (the server speaks only a TLS version too old to use)",
    "tlsv1 unrecognized name": " (the server does not know the name asked for)",
}


#: The status of a proxy's answer to a CONNECT, in Scrapy's TunnelError.
_TUNNEL_STATUS = re.compile(r"'status': (\d{3})")
#: Scrapy's message for a body whose announced size exceeds DOWNLOAD_MAXSIZE.
_CANCELLED_SIZE = re.compile(r"(\d+) bytes which is larger than download max size \((\d+)\)")
#: And for a compressed body whose decompressed size does.
_DECOMPRESSED_SIZE = re.compile(r"exceeded DOWNLOAD_MAXSIZE \((\d+) B\) during decompression")
#: And for a request whose answer did not come whole within DOWNLOAD_TIMEOUT.
_TIMED_OUT = re.compile(r"took longer than ([\d.]+) seconds")


#: How far into a page Scrapy looks for a ``<meta http-equiv="refresh">``: its first 4,096
#: characters, at most 4 bytes each in an encoding that writes ASCII as ASCII.
META_REFRESH_BYTES = 4 * 4096
#: What every meta refresh holds: an ``http-equiv`` attribute whose value says "refresh"
#: (w3lib.html.get_meta_refresh, which Scrapy uses, needs both).
#: (Searched in lower-cased bytes: a search that ignores case is ten times slower.)
_HTTP_EQUIV_REFRESH = re.compile(
    rb"""http-equiv\s*=\s*(?:"[^"]*refresh|'[^']*refresh|[^\s"'>]*refresh)"""
)


#: How far inside a network an address lies: the internet, a private network (RFC 1918,
#: unique local, carrier-grade NAT), this machine (loopback, 0.0.0.0), or its link (link-local,
#: where clouds serve their instance metadata and credentials; reserved and multicast too).
PUBLIC, PRIVATE, LOOPBACK, LINK = 0, 1, 2, 3
_KIND_NAMES = {PRIVATE: "private-network", LOOPBACK: "loopback", LINK: "link-local"}
_NUMERIC_HOST = re.compile(r"[0-9a-fx.]+")  # IPv4 as inet_aton reads it: 2852039166, 0xa9.254…


def address_kind(host: str | None) -> int:
    """The kind of address ``host`` names when it is one (IPv4 in any of the forms a resolver
    reads, IPv6, ``localhost``); PUBLIC for a host name (not resolved here: see
    InnerAnswers)."""
    name = (host or "").strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return LOOPBACK
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(name)
    except ValueError:
        if not _NUMERIC_HOST.fullmatch(name):
            return PUBLIC
        try:
            ip = ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return PUBLIC
    return ip_kind(ip)


@lru_cache(maxsize=4096)
def ip_kind(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> int:
    """The kind of address ``ip`` is (cached: a crawl meets the same few addresses again and
    again, and each test of ``ipaddress`` walks its lists of networks)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback or ip.is_unspecified:
        return LOOPBACK
    if ip.is_link_local or ip.is_reserved or ip.is_multicast:
        return LINK
    return PUBLIC if ip.is_global else PRIVATE


@lru_cache(maxsize=4096)
def _host(url: str) -> str | None:
    """The host of a source's URL (a few hundred of them, asked for at each answer)."""
    return urlsplit(url).hostname


def _own_hosts(source: Any) -> tuple[str | None, str | None]:
    """The hosts of a source's URL and of the URL it is polled at (a feed it declares, a
    sitemap its robots.txt lists, where a permanent redirect sent it)."""
    return _host(source.url), _host(getattr(source, "poll_url", None) or source.url)


def _source(request: Request) -> Any:
    """The source a request is made for: its own, or the one of the entry whose page it is
    (None for Scrapy's own requests: robots.txt)."""
    kwargs = request.cb_kwargs
    entry = kwargs.get("entry")
    source = kwargs.get("source") or getattr(entry, "source", None)
    return source if isinstance(getattr(source, "url", None), str) else None


#: The kinds of address that the sources' own hosts answered from, one dict per crawl, which
#: the crawl's InnerAddresses and InnerAnswers share.
_ANSWERED: WeakKeyDictionary[Crawler, dict[str, int]] = WeakKeyDictionary()


class _SourceKinds:
    """The kind of address each source is on: the kind of the address its URL names (a
    private or loopback address, ``localhost``); for a host name, the kind of the address
    that its own host (the host of its URL, or of the feed or sitemap it is polled at)
    answered from first in this crawl; PUBLIC for a name that has not answered yet."""

    def __init__(self, answered: dict[str, int] | None = None) -> None:
        self.answered: dict[str, int] = {} if answered is None else answered

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(_ANSWERED.setdefault(crawler, {}))

    def kind(self, source: Any) -> int:
        host, polled = _own_hosts(source)
        kind = address_kind(host)
        if kind != PUBLIC:
            return kind
        answered = self.answered.get(host or "")
        return self.answered.get(polled or "", PUBLIC) if answered is None else answered

    def refusal(self, host: str | None, source: Any, kind: int, at: str = "") -> IgnoreRequest:
        where = f"answered from {at}, a" if at else "is a"
        return IgnoreRequest(
            f"refused: {host} {where} {_KIND_NAMES[kind]} address, which {_host(source.url)} "
            "(the source) may not send this machine to"
        )


class InnerAddresses(_SourceKinds):
    """Refuses a request, for a source, to an address further inside a network than the
    source's own (see _SourceKinds): a feed, sitemap or page on the internet that links to (or
    redirects to) 169.254.169.254 (a cloud's instance credentials), 127.0.0.1 or 10.x would
    have this machine fetch it and keep, search and mail what it says. A source the user put
    on such an address, or on a host name whose address is one, reaches addresses of its
    kind. This judges the addresses written in URLs, before anything is sent (robots.txt
    included); a host name is judged by the address it answered from (InnerAnswers)."""

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        host = urlsplit(request.url).hostname
        kind = address_kind(host)
        if kind == PUBLIC:
            return
        source = _source(request)
        if source is not None and self.kind(source) != kind:
            raise self.refusal(host, source, kind)


class InnerAnswers(_SourceKinds):
    """Refuses an answer, to a request for a source, from an address further inside a
    network than the source's own: a host name whose address (what Scrapy connected to,
    ``Response.ip_address``) is 169.254.169.254, 127.0.0.1 or 10.x. The request was sent,
    but its answer goes no further: no redirect followed, no retry, nothing decompressed,
    extracted, stored or mailed (the first of the downloader middlewares to see an answer:
    crawler.settings). The first answer of a source's own host says its kind (_SourceKinds).
    No lookup of its own: the address is the one Scrapy resolved and connected to. Not
    judged: an answer through a proxy (its address is the proxy's), or one without an address
    (Scrapy's HTTP/1.1 handler, which newswatch uses, gives every answer its address)."""

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        ip = response.ip_address
        if ip is None or request.meta.get("proxy"):
            return response
        source = _source(request)
        if source is None:
            return response
        kind = ip_kind(ip)
        host = urlparse_cached(request).hostname
        if host in _own_hosts(source) and self.answered.setdefault(host or "", kind) == kind:
            return response
        if kind == PUBLIC or self.kind(source) == kind:
            return response
        raise self.refusal(host, source, kind, at=str(ip))


#: Host -> time.monotonic() until which its pages wait (HostWaits), for the crawls of the
#: process: the daemon's next polls too. Kept in the database between processes (a crawl
#: takes the waits at its start and keeps them at its end: host_waits, wait_for_hosts).
_host_waits: dict[str, float] = {}


def host_waits(now: datetime) -> dict[str, datetime]:
    """The hosts whose pages wait for more than HOST_WAIT_SECONDS yet (a Retry-After that
    a later process must honour too: the next `newswatch crawl`, a restarted daemon), and
    until when on the clock of ``now``."""
    ticks = time.monotonic()
    return {host: now + timedelta(seconds=until - ticks)
            for host, until in _host_waits.items() if until - ticks > HOST_WAIT_SECONDS}


def wait_for_hosts(waits: dict[str, datetime], now: datetime) -> None:
    """Make the pages of these hosts wait as long as ``waits`` says (noted by an earlier
    process; MAX_HOST_WAIT_SECONDS at most, whatever a clock did meanwhile)."""
    ticks = time.monotonic()
    for host, until in waits.items():
        left = min((until - now).total_seconds(), MAX_HOST_WAIT_SECONDS)
        if left > 0:
            _host_waits[host] = max(_host_waits.get(host, 0.0), ticks + left)


class HostWaits:
    """Notes a host that answered 429 (too many requests) or 503 (overloaded): it gets no
    more page requests until the Retry-After it gave (HOST_WAIT_SECONDS without one,
    MAX_HOST_WAIT_SECONDS at most; see WaitingHttp), in this process's crawls and, kept in
    the database, in later processes'. Its pages were all requested at once after the first
    429, and again at the next poll: what gets a crawler's address banned."""

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        # A page's answer: a source's own poll backs off by itself (its Retry-After, its
        # failures), and the site's other feeds' pages are no reason to wait for it.
        if response.status in (429, 503) and "entry" in request.cb_kwargs:
            wait = retry_after(response)
            wait = HOST_WAIT_SECONDS if wait is None else min(wait, MAX_HOST_WAIT_SECONDS)
            host = urlparse_cached(request).hostname or ""
            _host_waits[host] = max(_host_waits.get(host, 0.0), time.monotonic() + wait)
        return response


#: A source's answer of this many bytes or more is read as a feed in a thread of its own.
BIG_FEED_BYTES = 512 * 1024


class BigFeeds:
    """Reads a big feed (BIG_FEED_BYTES or more: 36,000 items took feedparser 14 s) in a
    thread, as its answer comes in, and hands the parsed feed to the spider with the
    answer (``meta["parsed_feed"]``, and its CPU seconds, ``meta["parsed_cpu"]``). Read in
    the event loop's thread, it held every other download: those in flight timed out, and
    a good source was said to be slow (a review). A small feed is read where it is used
    (a thread costs more than it)."""

    def __init__(self, max_size: int | None = None) -> None:
        self.max_size = max_size

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.settings.getint("DOWNLOAD_MAXSIZE") or None)

    async def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        if (
            "source" in request.cb_kwargs
            and response.status == 200
            and len(response.body) >= BIG_FEED_BYTES
            and sniff(response.body, _content_type(response)) in ("feed", "jsonfeed")
        ):
            request.meta["parsed_feed"], request.meta["parsed_cpu"] = await asyncio.to_thread(
                _parsed_feed, response.body, response.url, headers_dict(response), self.max_size
            )
        return response


def _content_type(response: Response) -> str | None:
    value = response.headers.get("Content-Type")
    return value.decode("latin-1") if value else None


def _parsed_feed(
    body: bytes, url: str, headers: dict[str, str], max_size: int | None
) -> tuple[Any, float]:
    start = time.thread_time()
    parsed = parse_feed(body, url, headers, max_size)
    return parsed, time.thread_time() - start


class WaitingHttp(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler, which sends no page request to a host that asked to wait
    (HostWaits): the page is refused unsent (HOST_WAITS) and deferred to a later poll. Here,
    where a request is sent, not where it enters the downloader (all of a poll's pages
    enter at once, before the first answer). A source's own poll is sent: it has its own
    back-off, which honours its Retry-After."""

    async def download_request(self, request: Request) -> Response:
        if "entry" in request.cb_kwargs:  # an article page
            host = urlparse_cached(request).hostname or ""
            until = _host_waits.get(host)
            if until is not None and time.monotonic() < until:
                raise IgnoreRequest(HOST_WAITS)
            _host_waits.pop(host, None)
        return await super().download_request(request)


class RobotsTxt(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, mended in two ways:

    - every request that waits for a host's robots.txt gets its parser: Scrapy 2.19's waiters
      shared one Deferred, whose result the first took (``Deferred.asFuture``), and each other
      got None, "allowed" (6 of a poll's 8 disallowed pages were fetched);
    - a robots.txt that answers 5xx or 429, or not at all, disallows everything for the
      crawl (RFC 9309, 2.3.1.4), its pages waiting for the next poll (ROBOTS_UNREADABLE): it
      was read as "everything allowed", a site in trouble getting every page request. Any
      other 4xx still allows everything.

    A robots.txt read serves the runner's later crawls for ROBOTS_KEEP_SECONDS (one that
    could not be read is asked for again at the next)."""

    async def robot_parser(self, request: Request) -> Any:
        netloc = urlparse_cached(request).netloc
        robots = self._kept()
        if netloc not in self._parsers and (kept := robots.get(netloc)) is not None:
            if time.monotonic() < kept[0]:  # read at an earlier poll of this process
                self._parsers[netloc] = kept[1]
                self._crawl_delay(kept[1], request)
            else:
                del robots[netloc]
        parser: Any = self._parsers.get(netloc)
        if isinstance(parser, Deferred):
            waiter: Deferred[Any] = Deferred()

            def tell(result: Any) -> Any:
                waiter.callback(result)
                return result  # for the next waiter

            parser.addBoth(tell)
            parser = await maybe_deferred_to_future(waiter)
        else:
            parser = await super().robot_parser(request)
        if parser is UNREADABLE:
            raise IgnoreRequest(ROBOTS_UNREADABLE)
        return parser

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        # A 429 too, as Google reads it: "everything allowed" sent every page, disallowed
        # ones too, to a host that had just asked for fewer requests.
        if response.status >= 500 or response.status == 429:
            self._settle(netloc, UNREADABLE)
            return
        await super()._parse_robots(response, netloc, request)
        parser = self._parsers[netloc]
        if (parser is not None and parser is not UNREADABLE
                and len(response.body) <= ROBOTS_KEPT_BYTES):
            robots = self._kept()
            now = time.monotonic()
            if len(robots) >= ROBOTS_KEPT_HOSTS:  # the expired first, then all
                for host in [h for h, (until, _) in robots.items() if until <= now]:
                    del robots[host]
                if len(robots) >= ROBOTS_KEPT_HOSTS:
                    robots.clear()
            robots[netloc] = (now + ROBOTS_KEEP_SECONDS, parser)
        self._crawl_delay(parser, request)

    def _kept(self) -> dict[str, tuple[float, Any]]:
        """The robots.txt kept from the runner's earlier crawls (the spider's; none: {})."""
        kept = getattr(self.crawler.spider, "robots_kept", None)
        return kept if isinstance(kept, dict) else {}

    def _crawl_delay(self, parser: Any, request: Request) -> None:
        """The host's Crawl-delay, which Scrapy reads and never applies: its requests are
        that far apart in this crawl (crawl.delay if longer; MAX_CRAWL_DELAY at most)."""
        agent = (self._robotstxt_useragent
                 or request.headers.get(b"User-Agent", self._default_useragent) or "")
        wanted = parser.crawl_delay(agent) if isinstance(parser, RobotParser) else None
        if not wanted:
            return
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        delay = max(min(float(wanted), MAX_CRAWL_DELAY),
                    self.crawler.settings.getfloat("DOWNLOAD_DELAY"))
        downloader.per_slot_settings.setdefault(key, {})["delay"] = delay  # a slot to come
        slot = downloader.slots.get(key)
        if slot is not None:
            slot.delay = delay

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        if isinstance(exc, IgnoreRequest):  # refused before it was sent (an inner address)
            super()._robots_error(exc, netloc)
            return
        self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
        self._settle(netloc, UNREADABLE)

    def _settle(self, netloc: str, parser: Any) -> None:
        waiting = self._parsers[netloc]
        self._parsers[netloc] = parser
        if isinstance(waiting, Deferred):
            waiting.callback(parser)


#: What a host's robots.txt that could not be read stands for (see RobotsTxt).
UNREADABLE = object()
#: How long a host's robots.txt, once read, serves the later crawls of the runner (a
#: daemon's, crawler.run.Runner.robots): it was requested again at every poll of every
#: source of the host (96 times a day for a feed polled every 15 minutes). RFC 9309 allows
#: a day.
ROBOTS_KEEP_SECONDS = 3600.0
#: Hosts whose robots.txt the process keeps at most (the expired forgotten then, or all),
#: and the largest robots.txt kept: a parsed one takes about 19 kB, a 500 kB one megabytes
#: (4,231 real ones measured by a review).
ROBOTS_KEPT_HOSTS = 2_000
ROBOTS_KEPT_BYTES = 64 * 1024


class Redirects(RedirectMiddleware):
    """Scrapy's redirects, but for one to an address no crawl can request: another scheme
    Scrapy makes no request of (``mailto:``, ``javascript:``, ``tel:``) or an address it
    cannot make one of (a broken IPv6 literal, a port out of range). Scrapy raised a
    ValueError there ("Missing scheme in request url: mailto:…" was a source's last
    error), and an article page so redirected was taken for one unavailable for now: asked
    again at three polls before its feed's summary was kept. The redirect is not followed,
    as Scrapy does not follow one to ``file:``: "redirect to … not followed"."""

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        if (300 <= response.status < 400
                and (location := response.headers.get(b"Location")) is not None
                and web_url(location.decode("utf-8", "replace").strip(), request.url) is None):
            return response
        return super().process_response(request, response)


class UndeclaredEncoding:
    """Reads a web page that declares no encoding, and whose bytes are no UTF-8, as a browser
    does (crawler.extracted.undeclared_encoding), not in whichever code page Scrapy's
    detector finds; and one in UTF-16 without a byte order mark that its server calls a
    single-byte code page, or nothing, as UTF-16 (crawler.extracted.unmarked_utf16), not
    as that code page's letters and NULs: its text, its links' anchors and its title alike."""

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        if isinstance(response, HtmlResponse):
            charset = http_content_type_encoding(
                (response.headers.get(b"Content-Type") or b"").decode("latin-1"))
            # A page its server says is UTF-8, most, is not looked at for UTF-16's NULs.
            wide = unmarked_utf16(response.body, charset) if charset != "utf-8" else None
            encoding = wide or undeclared_encoding(response.body, charset)
            if encoding is not None:
                return response.replace(encoding=encoding)
        return response


class MetaRefresh(MetaRefreshMiddleware):
    """Scrapy's meta refresh redirects, for the pages that may have one: a page whose first
    bytes hold no ``http-equiv`` attribute saying "refresh" is passed on as it is, without
    the decoding of its whole text, the search for its ``<base>`` and the scan of its tags
    that Scrapy does for every page (0.14 ms of a 70 KB page). Every other page gets
    Scrapy's check, which decides: a page in an encoding that does not write ASCII as ASCII
    (UTF-16, UTF-32: NUL bytes), and one whose attribute is in its first bytes but not in
    its first 4,096 characters. (Not followed any more: an attribute name or value spelled
    with character references, ``http&#45;equiv``, which browsers do not read as one.)"""

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        if isinstance(response, HtmlResponse):
            head = response.body[:META_REFRESH_BYTES].lower()
            if b"\x00" not in head and (
                b"http-equiv" not in head or not _HTTP_EQUIV_REFRESH.search(head)
            ):
                return response
        return super().process_response(request, response)


class Stats(MemoryStatsCollector):
    """Scrapy's stats, without the attribute hook its collector has in Scrapy 2.19 (every
    attribute read goes through Python code that builds a name and catches an
    AttributeError, to warn about a ``spider`` argument newswatch never passes): Scrapy
    counts a dozen stats for each request."""

    __getattribute__ = object.__getattribute__
