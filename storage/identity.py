"""URL identity: the key under which an article is stored once, whatever address it came by.

A canonical URL (``crawler.urls.canonicalize``: no trackers, no AMP markers, no fragment,
every other query parameter as written) still has variants that serve the same article:
``http`` and ``https``, the ``www.``, ``m.``, ``mobile.`` and ``amp.`` hosts, a trailing
slash, a default document (``/story/index.html``), the order of the query parameters, the
case of a percent-escape (``%c3`` / ``%C3``). :func:`identity_key` folds them all into one
key, and nothing else: every parameter, valueless ones included, stays in it. The key is not
a URL to visit: the stored ``articles.url`` (the link mailed to users) is left as found.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import urlsplit

#: Host prefixes that name another rendering of the same site (desktop, mobile, AMP).
HOST_PREFIXES = ("www.", "m.", "mobile.", "amp.")
#: Last path segments a web server answers for the directory itself.
DEFAULT_DOCUMENTS = frozenset(
    {"index.html", "index.htm", "index.shtml", "index.php", "default.htm", "default.aspx"}
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")


#: Cached: a page's links are compared with its address one by one (crawler.urls.same_site),
#: a few hosts thousands of times, and telling an IP address costs 8 us.
@lru_cache(maxsize=1024)
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


#: A crawl asks for the identity of one article's addresses over and over (its entry's
#: link and its page's address when the feed is read, when the page is stored, for its
#: alias): seven times an article of a cold cycle, 8 us each.
@lru_cache(maxsize=4096)
def identity_key(url: str) -> str:
    """The identity of a canonical article URL: host (see :func:`identity_host`) with a
    non-default port, path without a trailing slash or default document, and the query's
    parameters sorted, with no scheme. A fragment is kept: canonical URLs have none, but
    a feed item without a link is its feed's site with the item's guid as fragment. A URL
    that is not http(s) is its own identity."""
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
    key = host + _upper_escapes(path.rstrip("/"))
    params = sorted(p for p in _upper_escapes(parts.query).split("&") if p)
    if params:
        key += "?" + "&".join(params)
    return f"{key}#{parts.fragment}" if parts.fragment else key


def _upper_escapes(text: str) -> str:
    """``text`` with its percent-escapes in upper case (``%c3%a9`` → ``%C3%A9``)."""
    return _ESCAPE.sub(lambda m: m.group(0).upper(), text)
