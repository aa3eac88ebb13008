"""Loaded by every Python process the tests start (via PYTHONPATH), and by the test process
itself: refuse any connection outside the loopback network and any DNS lookup of a real
host name, so that no test can reach beyond 127.0.0.0/8.

Names under ``.localhost`` (loopback by RFC 6761) resolve to 127.0.0.1 here, without asking
any resolver: tests serve one site under several host names (``www.news.localhost``,
``m.news.localhost``...). So do names under ``.loopback.test``, which nothing in the name marks
as loopback: a name of the internet whose address is this machine's (newswatch judges such a
name by the address it answered from, crawler.http.InnerAnswers).

Names under ``.dnsdown.test`` fail as they do when this machine's resolver does not answer
(EAI_AGAIN, "Temporary failure in name resolution"), and those under ``.slowdns.test`` the
same way after SLOW_LOOKUP_SECONDS: a real resolver's outage, which tests cannot cause.

The one exception: the test hosts that a test made itself, as network namespaces on veth
pairs (tests/netns.py). Their addresses come from 198.18.0.0/15 (RFC 2544: set aside for
benchmark tests, never routed), and only those that the harness created are allowed: it names
them in ``NETGUARD_ALLOW`` for the processes it starts, and through ``allow_test_hosts`` in
the test process. An address outside 198.18.0.0/15 is never allowed that way."""

import ipaddress
import os
import socket
import time

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
#: Names that resolve to 127.0.0.1 here, whatever comes before these endings.
_LOOPBACK_ENDINGS = (".localhost", ".loopback.test")

#: Names whose lookup fails as when the resolver does not answer: at once, or after
#: SLOW_LOOKUP_SECONDS (a resolver timing out).
_RESOLVER_DOWN, _RESOLVER_SLOW = ".dnsdown.test", ".slowdns.test"
SLOW_LOOKUP_SECONDS = 3.0

#: Where the project's own test hosts live (tests/netns.py); nothing else is ever allowed.
TEST_HOSTS = ipaddress.ip_network("198.18.0.0/15")
_test_hosts: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = set()


def allow_test_hosts(addresses: object) -> None:
    """Allow connections to exactly ``addresses`` (test hosts made by this test run) from
    now on, besides loopback; an empty list allows none again."""
    wanted = {ipaddress.ip_address(str(a).strip()) for a in addresses if str(a).strip()}  # type: ignore[attr-defined]
    outside = [str(a) for a in wanted if a not in TEST_HOSTS]
    if outside:
        raise ValueError(f"not test-host addresses (outside {TEST_HOSTS}): {outside}")
    _test_hosts.clear()
    _test_hosts.update(wanted)

_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_getaddrinfo = socket.getaddrinfo
_gethostbyname = socket.gethostbyname
_gethostbyname_ex = socket.gethostbyname_ex


def _loopback(host: object) -> bool:
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name.lower() in _LOCAL_NAMES or _sub_localhost(host):
        return True
    try:
        address = ipaddress.ip_address(name.split("%")[0])
    except ValueError:
        return False
    return address.is_loopback or address in _test_hosts


def _check(sock: socket.socket, address: object) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    host = address[0] if isinstance(address, tuple) else address
    if not _loopback(host):
        raise ConnectionRefusedError(
            f"tests may only connect to loopback or their own test hosts, not {host!r}"
        )


def _guarded_connect(self: socket.socket, address: object) -> None:
    _check(self, address)
    return _connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    _check(self, address)
    return _connect_ex(self, address)


def _is_ip(host: object) -> bool:
    name = host.decode() if isinstance(host, bytes) else str(host)
    try:
        ipaddress.ip_address(name.split("%")[0])
    except ValueError:
        return False
    return True


def _refuse_lookup(host: object) -> None:
    # An IP literal needs no DNS (connect() then decides); a host name other than localhost
    # would query a resolver outside this machine.
    name = (host.decode() if isinstance(host, bytes) else str(host)).lower().rstrip(".")
    if name.endswith((_RESOLVER_DOWN, _RESOLVER_SLOW)):
        if name.endswith(_RESOLVER_SLOW):
            time.sleep(SLOW_LOOKUP_SECONDS)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
    if host is not None and host != "" and not _loopback(host) and not _is_ip(host):
        raise socket.gaierror(socket.EAI_NONAME, f"tests may not resolve {host!r}")


def _sub_localhost(host: object) -> bool:
    """Whether ``host`` is a name under ``.localhost`` (``news.localhost``) or
    ``.loopback.test`` (``metadata.loopback.test``)."""
    name = host.decode() if isinstance(host, bytes) else str(host)
    return name.lower().rstrip(".").endswith(_LOOPBACK_ENDINGS)


def _guarded_getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    _refuse_lookup(host)
    if _sub_localhost(host):
        host = "127.0.0.1"
    return _getaddrinfo(host, *args, **kwargs)


def _guarded_gethostbyname(host):  # type: ignore[no-untyped-def]
    _refuse_lookup(host)
    return "127.0.0.1" if _sub_localhost(host) else _gethostbyname(host)


def _guarded_gethostbyname_ex(host):  # type: ignore[no-untyped-def]
    _refuse_lookup(host)
    if _sub_localhost(host):
        return (str(host), [], ["127.0.0.1"])
    return _gethostbyname_ex(host)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
socket.getaddrinfo = _guarded_getaddrinfo
socket.gethostbyname = _guarded_gethostbyname
socket.gethostbyname_ex = _guarded_gethostbyname_ex


def _allow_from_environment() -> None:
    """The test hosts named in NETGUARD_ALLOW; anything outside TEST_HOSTS is refused (said
    on stderr), never allowed, and the guards above stay installed whatever it holds."""
    try:
        allow_test_hosts(os.environ.get("NETGUARD_ALLOW", "").split(","))
    except ValueError as exc:
        import sys

        print(f"netguard: NETGUARD_ALLOW ignored: {exc}", file=sys.stderr)


_allow_from_environment()
