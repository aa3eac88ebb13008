"""URL identity: one article, one canonical URL, one identity.

:func:`canonicalize` cleans a URL into the address that is stored and mailed;
:func:`identity_key` (from storage, which keys articles by it) folds the variants of one
canonical URL that serve the same article: http/https, ``www.``/``m.``/``mobile.``/``amp.``
hosts, a trailing slash, a default document such as ``index.html``.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urldefrag, urlsplit, urlunsplit

from courlan import normalize_url

from storage.identity import DEFAULT_DOCUMENTS, identity_host, identity_key

__all__ = ["canonicalize", "identity_key", "is_home_page", "same_site"]

# AMP markers in the path: a trailing /amp segment (/story/amp, /story/amp/) or a leading
# /amp/ directory (/amp/story).
_AMP_SUFFIX = re.compile(r"/amp/?$", re.IGNORECASE)
_AMP_PREFIX = re.compile(r"^/amp(?=/.)", re.IGNORECASE)


def canonicalize(url: str) -> str:
    """Canonical form of an article URL: lower-case host, no default port, no fragment,
    no tracking parameters (utm_*, fbclid, ...), query parameters sorted, and no AMP
    markers (an ``/amp`` path suffix or prefix, ``amp`` / ``outputType=amp`` parameters):
    the AMP version of a page is the same article."""
    # Before courlan too, which reads "&amp=" as an HTML entity.
    url = _drop_amp(url.strip())
    try:
        normalized = normalize_url(url)
    except ValueError:
        normalized = url
    return _drop_amp(urldefrag(normalized)[0])


def _drop_amp(url: str) -> str:
    """``url`` without its AMP markers (unchanged when it has none)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return url
    path = parts.path
    if path.lower() != "/amp" and path.lower() != "/amp/":
        path = _AMP_PREFIX.sub("", _AMP_SUFFIX.sub("", path)) or "/"
    # Query parameters are filtered as written (their encoding is left alone).
    query = "&".join(p for p in parts.query.split("&") if not _is_amp_param(p))
    if path == parts.path and query == parts.query:
        return url
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def _is_amp_param(param: str) -> bool:
    """Whether a ``key=value`` query parameter only asks for the AMP version."""
    key, _, value = param.partition("=")
    key, value = unquote_plus(key).lower(), unquote_plus(value).lower()
    return key == "amp" or (key == "outputtype" and value == "amp")


def same_site(a: str, b: str) -> bool:
    """Whether two URLs are on the same site: the same host, ignoring the ``www.``, ``m.``,
    ``mobile.`` and ``amp.`` prefixes (see storage.identity)."""

    def host(url: str) -> str:
        return identity_host(urlsplit(url).hostname or "")

    return bool(host(a)) and host(a) == host(b)


def is_home_page(url: str) -> bool:
    """Whether ``url`` is a site's home page (``/``, ``/index.html``...) without a query."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    return not parts.query and (not path or path.lstrip("/").lower() in DEFAULT_DOCUMENTS)
