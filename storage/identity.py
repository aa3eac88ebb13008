"""URL identity: the key under which an article is stored once, whatever address it came by.

A canonical URL (``crawler.urls.canonicalize``: no trackers, no AMP markers, no fragment,
sorted query) still has variants that serve the same article: ``http`` and ``https``, the
``www.``, ``m.``, ``mobile.`` and ``amp.`` hosts, a trailing slash, a default document
(``/story/index.html``). :func:`identity_key` folds them all into one key. The key is not a
URL to visit: the stored ``articles.url`` (the link mailed to users) is left as found.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

#: Host prefixes that name another rendering of the same site (desktop, mobile, AMP).
HOST_PREFIXES = ("www.", "m.", "mobile.", "amp.")
#: Last path segments a web server answers for the directory itself.
DEFAULT_DOCUMENTS = frozenset(
    {"index.html", "index.htm", "index.shtml", "index.php", "default.htm", "default.aspx"}
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def identity_host(host: str) -> str:
    """A host name without the prefixes in HOST_PREFIXES (``www.m.example.com`` →
    ``example.com``), lower case; a prefix is kept when what follows is a bare top-level
    name (``m.com``), and IP addresses are left alone."""
    host = host.lower().rstrip(".")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return host
    stripped = True
    while stripped:
        stripped = False
        for prefix in HOST_PREFIXES:
            rest = host[len(prefix) :]
            if host.startswith(prefix) and "." in rest:
                host, stripped = rest, True
                break
    return host


def identity_key(url: str) -> str:
    """The identity of a canonical article URL: host (see :func:`identity_host`) with a
    non-default port, path without a trailing slash or default document, and query, with
    no scheme. A URL that is not http(s) is its own identity."""
    url = url.strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return url
    host = identity_host(parts.hostname)
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host += f":{port}"
    head, _, last = parts.path.rpartition("/")
    path = head if last.lower() in DEFAULT_DOCUMENTS else parts.path
    key = host + path.rstrip("/")
    return f"{key}?{parts.query}" if parts.query else key
