"""URL identity: one article, one canonical URL."""

from __future__ import annotations

from urllib.parse import urldefrag, urlsplit

from courlan import normalize_url


def canonicalize(url: str) -> str:
    """Canonical form of an article URL: lower-case host, no default port, no fragment,
    no tracking parameters (utm_*, fbclid, ...), query parameters sorted."""
    url = url.strip()
    try:
        normalized = normalize_url(url)
    except ValueError:
        normalized = url
    return urldefrag(normalized)[0]


def same_site(a: str, b: str) -> bool:
    """Whether two URLs are on the same host (ignoring a leading ``www.``)."""

    def host(url: str) -> str:
        name = (urlsplit(url).hostname or "").lower()
        return name[4:] if name.startswith("www.") else name

    return bool(host(a)) and host(a) == host(b)
