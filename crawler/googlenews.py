"""Google News' feed items (``news.google.com/rss/search``, ``/rss/topics/...``,
``/rss/headlines/...``): each links to ``news.google.com/rss/articles/<id>``, a page that
answers a server with a script that sends a browser on (or, from Europe, with Google's
consent page), never with the article. Their page read as the article stored a script's
shell or a cookie text, or the item's snippet under Google's address: one story seen in
its publisher's feed too was mailed twice.

An id of the older form holds the publisher's address (a protobuf message: field 1 a
number, field 4 the address), read here offline; one of the newer form (``AU_yqL...``
inside) holds none, and its item is its headline alone, under Google's link (no page is
requested: Google's own interfaces to resolve it are undocumented). Google writes the
publisher after the headline ("Maduro leaves Caracas for Havana - Reuters") and as the
description's last words; a story's item lists other outlets' headlines in its
description, which are not its words.
"""

from __future__ import annotations

import base64
import binascii
from typing import Final
from urllib.parse import urlsplit

import lxml.html
from lxml.etree import ParserError

from .urls import web_url

#: The host of Google News' links.
HOST: Final = "news.google.com"
#: Paths of its article links, before the id.
_ARTICLE_PATHS: Final = ("/rss/articles/", "/articles/", "/__i/rss/rd/articles/")
#: The protobuf tags of the id's first field (a number) and of its address (field 4, bytes).
_NUMBER: Final = 0x08
_ADDRESS: Final = 0x22


def is_link(url: str) -> bool:
    """Whether ``url`` is a Google News article link (whose page is never the article)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return (parts.hostname or "").lower() == HOST and parts.path.startswith(_ARTICLE_PATHS)


def publisher_url(url: str) -> str | None:
    """The publisher's address that a Google News article link's id holds; None for a link
    of another kind, or an id of the newer form (it holds none)."""
    if not is_link(url):
        return None
    name = urlsplit(url).path.rstrip("/").rpartition("/")[2]
    try:
        message = base64.urlsafe_b64decode(name + "=" * (-len(name) % 4))
    except (binascii.Error, ValueError):
        return None
    if message[:1] != bytes([_NUMBER]):
        return None
    at = _after_varint(message, 1)
    if at is None or message[at:at + 1] != bytes([_ADDRESS]):
        return None
    start = _after_varint(message, at + 1)
    end = start + _varint(message, at + 1) if start is not None else None
    if start is None or end is None or end > len(message):
        return None
    try:
        address = message[start:end].decode("utf-8")
    except UnicodeDecodeError:
        return None
    return web_url(address) if address.startswith(("http://", "https://")) else None


def _varint(data: bytes, at: int) -> int:
    """The protobuf varint at ``at`` (its end checked by _after_varint)."""
    value = shift = 0
    for byte in data[at:at + 10]:
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return value


def _after_varint(data: bytes, at: int) -> int | None:
    """Where the protobuf varint at ``at`` ends; None when ``data`` ends first."""
    for n, byte in enumerate(data[at:at + 10]):
        if not byte & 0x80:
            return at + n + 1
    return None


#: Google News' pages that have a feed: their path, and the feed's.
_PAGE_FEEDS: Final = (("/search", "/rss/search"), ("/topics/", "/rss/topics/"))


def feed_address(url: str) -> str:
    """The feed of a Google News page given as a source (its search, a topic, its home page
    as a browser shows them: ``news.google.com/search?q=Maduro&hl=en-US``), the same query
    kept; any other address as it is. The page answers a server with a script shell (from
    Europe, with Google's consent page), whose links lead to more of them: read as a site,
    it gave no article or a cookie text."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if (parts.hostname or "").lower() != HOST:
        return url
    path = parts.path
    if path in ("", "/", "/home"):
        path = "/rss"
    else:
        for page, feed in _PAGE_FEEDS:
            if path == page or (page.endswith("/") and path.startswith(page)):
                path = feed + path[len(page):]
                break
        else:
            return url
    return parts._replace(path=path, fragment="").geturl()


def is_feed(link: str) -> bool:
    """Whether a feed's own link (its channel's ``<link>``) is Google News': its items are
    Google's, whether they link to Google or (as some do) straight to the publisher."""
    try:
        return (urlsplit(link).hostname or "").lower() == HOST
    except ValueError:
        return False


def own_title(title: str, publisher: str, own: str | None = None) -> tuple[str, str]:
    """An item's headline without the `` - Publisher`` Google writes after it, and that
    publisher: the one its ``<source>`` names, else (an item without one) the words after
    ``own``, the headline its description gives (a title of its own ending in
    " - Something" is that headline whole, and kept)."""
    tail = f" - {publisher}"
    if publisher and title.casefold().endswith(tail.casefold()) and len(title) > len(tail):
        return title[: -len(tail)].rstrip(), publisher
    if not publisher and own and title.casefold().startswith(f"{own} - ".casefold()):
        return title[: len(own)], title[len(own) + 3:].strip()
    return title, publisher


def own_summary(description: str) -> str | None:
    """The item's own words in Google's description: the text of its first link (its
    headline, before the publisher's name and other outlets' headlines); None for a
    description without a link."""
    if "<a" not in description.lower():
        return None
    try:
        root = lxml.html.fromstring(f"<div>{description}</div>")
    except (ParserError, ValueError):
        return None
    first = next(root.iter("a"), None)
    return " ".join(first.text_content().split()) if first is not None else None
