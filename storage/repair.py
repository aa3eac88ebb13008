"""Undoing what the old URL cleaner did to stored URLs (schema migration 9).

Until schema 8, URLs were canonicalized with courlan's ``normalize_url``, which first reads
the whole URL as HTML: a parameter whose name starts with an HTML entity name that HTML
accepts without a ``;`` (``&sectionid=2``, ``&region=eu``, ``&copy=1``, ``&para=3``,
``&not=1``, ``&times=2``, ``&cent=5``...) lost its ``&`` and its first letters to one
character, and the rest of it was percent-encoded into the previous parameter's value:
``id=1&sectionid=2`` became ``id=1%C2%A7ionid%3D2``. :func:`restore_url` puts such
parameters back. What courlan dropped cannot be restored: parameters without a value
(``index.php?/site/article/4250/``), parameters it took for trackers (``cid=``, ``ref=``,
``source=``...), and the names that started with ``&amp``, ``&lt``, ``&gt`` or ``&quot``
(their characters are too common in real URLs to be read back as entities). It also wrote
internationalized host names in Unicode; they are written in IDNA (``xn--``) again.
"""

from __future__ import annotations

import re
from html.entities import html5
from urllib.parse import urlsplit, urlunsplit

from .identity import identity_key

# The HTML entities that HTML reads without a ";" and that stand for a symbol (letters such
# as &eacute; are left out: "%C3%A9" is far more often a real "é" in a URL), each as the
# percent-encoded UTF-8 that courlan wrote for it.
_ENTITIES = (
    "acute", "brvbar", "cedil", "cent", "copy", "curren", "deg", "divide", "frac12", "frac14",
    "frac34", "iexcl", "iquest", "laquo", "macr", "micro", "middot", "nbsp", "not", "ordf",
    "ordm", "para", "plusmn", "pound", "raquo", "reg", "sect", "shy", "sup1", "sup2", "sup3",
    "times", "uml", "yen",
)  # fmt: skip
_ENCODED = {
    "".join(f"%{byte:02X}" for byte in html5[name].encode("utf-8")): name for name in _ENTITIES
}
# An entity character, the rest of the parameter name, and the "=" (courlan encoded it as
# %3D inside the previous value) or the end of a valueless parameter.
_MANGLED = re.compile(
    "(" + "|".join(map(re.escape, _ENCODED)) + r")([A-Za-z0-9_.~-]*)(%3D|=|(?=&)|$)",
    re.IGNORECASE,
)


def restore_query(query: str) -> str:
    """``query`` with the parameters courlan merged into their neighbour split out again
    (``id=1%C2%A7ionid%3D2`` → ``id=1&sectionid=2``)."""

    def put_back(match: re.Match[str]) -> str:
        name = _ENCODED[match.group(1).upper()]
        equals = "=" if match.group(3) else ""
        return f"&{name}{match.group(2)}{equals}"

    return _MANGLED.sub(put_back, query).lstrip("&")


def restore_url(url: str) -> str:
    """A URL stored by the old cleaner, with its merged parameters split out again and an
    internationalized host in IDNA; any other URL is returned unchanged."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return url
    netloc = parts.netloc
    if not netloc.isascii():
        try:
            host = parts.hostname or ""
            netloc = netloc.replace(host, host.encode("idna").decode("ascii"))
        except UnicodeError:
            pass
    query = restore_query(parts.query)
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def restore_key(key: str) -> str:
    """An identity key (see storage.identity) made from an old stored URL, as the restored
    URL's identity key."""
    if "://" in key or key.startswith(("mailto:", "urn:")):  # not an http(s) identity
        return key
    return identity_key(restore_url("http://" + key))
