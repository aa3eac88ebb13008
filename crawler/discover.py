"""Finding a site's sources: the feeds a page declares, the sitemaps robots.txt lists, and a
cheap look at what a response body is (feed, JSON Feed, sitemap or HTML)."""

from __future__ import annotations

import logging
import re
import zlib
from dataclasses import dataclass

import lxml.html
from lxml.etree import ParserError

from .urls import web_url

logger = logging.getLogger(__name__)

#: How much of a body ``sniff`` looks at (after gunzipping): ample for an XML declaration,
#: a DOCTYPE, comments and the root tag.
SNIFF_BYTES = 16 * 1024
GZIP_MAGIC = b"\x1f\x8b"

# Feed MIME types declared by <link rel=alternate>, with their rank (lower comes first).
_FEED_TYPES = {
    "application/rss+xml": 0,
    "application/atom+xml": 0,
    "application/rdf+xml": 0,
    "application/feed+json": 1,
    "application/json": 1,
}
_FEED_ROOTS = frozenset({"rss", "feed", "rdf"})
_SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
#: The first line of a text sitemap (the sitemap protocol's other format): a web address.
_URL_LINE = re.compile(rb"\s*https?://\S+\s*(?:\n|$)", re.IGNORECASE)
_HTML_ROOTS = frozenset({"html", "head", "body", "meta", "title", "link", "script", "div"})
_PROLOG = re.compile(rb"<\?.*?\?>|<!--.*?-->|<!doctype(?:[^\[>]|\[[^\]]*\])*>", re.S | re.I)
_HTML_DOCTYPE = re.compile(rb"<!doctype\s+html", re.I)
_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_JSONFEED_VERSION = re.compile(rb"jsonfeed\.org\\?/version", re.I)


@dataclass(frozen=True)
class FeedLink:
    """A feed a page declares with ``<link rel="alternate">`` (or ``rel="feed"``)."""

    url: str  # absolute
    type: str  # MIME type without parameters, "" when the link gives none
    title: str | None


_UTF8 = lxml.html.HTMLParser(encoding="utf-8")


def parse_html(html: str | bytes) -> lxml.html.HtmlElement | None:
    """The lxml tree of an HTML page, or None when there is nothing to parse."""
    parser = None
    if isinstance(html, str):
        # lxml refuses a str that carries an XML encoding declaration; bytes always work,
        # read as the UTF-8 they now are (libxml2 would read them by the page's declared
        # charset, or as Latin-1 without one: the text Scrapy decoded, garbled).
        html = html.encode("utf-8")
        parser = _UTF8
    if not html.strip():
        return None
    try:
        return lxml.html.document_fromstring(html, parser=parser)
    except (ParserError, ValueError) as exc:
        logger.debug("unparsable HTML: %s", exc)
        return None


def base_url(doc: lxml.html.HtmlElement, page_url: str) -> str:
    """The URL relative links of ``doc`` resolve against (``<base href>`` if any)."""
    for base in doc.iter("base"):
        href = str(base.get("href") or "").strip()
        if href:  # (one that is no web address is passed over)
            return web_url(href, page_url) or page_url
    return page_url


def _is_comments(link: FeedLink) -> bool:
    return "comments" in (link.title or "").lower() or "comments" in link.url.lower()


def feed_links(html: str | bytes, page_url: str) -> list[FeedLink]:
    """The feeds a page declares, absolute: RSS/Atom first, then JSON Feed; comment feeds are
    dropped when the page declares other feeds."""
    doc = parse_html(html)
    if doc is None:
        return []
    base = base_url(doc, page_url)
    ranked: list[tuple[int, FeedLink]] = []
    seen: set[str] = set()
    for element in doc.iter("link"):
        rel = set((element.get("rel") or "").lower().split())
        kind = (element.get("type") or "").split(";")[0].strip().lower()
        href = (element.get("href") or "").strip()
        if not href or not rel & {"alternate", "feed"}:
            continue
        if kind not in _FEED_TYPES and not ("feed" in rel and not kind):
            continue
        # rel=alternate type=application/json is also how WordPress links its REST API.
        if kind == "application/json" and ("/wp-json/" in href or "oembed" in href):
            continue
        url = web_url(href, base)
        if url is None or url in seen:
            continue
        seen.add(url)
        title = " ".join((element.get("title") or "").split()) or None
        ranked.append((_FEED_TYPES.get(kind, 2), FeedLink(url=url, type=kind, title=title)))
    ranked.sort(key=lambda item: item[0])  # stable: page order within a rank
    links = [link for _, link in ranked]
    others = [link for link in links if not _is_comments(link)]
    return others or links


def canonical_link(html: str, page_url: str) -> str | None:
    """The absolute URL a page declares with ``<link rel="canonical">``, as written (only the
    page's head is parsed); None when it declares none."""
    end = re.search(r"</head\s*>", html, re.IGNORECASE)
    doc = parse_html(html[: end.end()] if end else html)
    return None if doc is None else declared_canonical(doc, page_url)


def declared_canonical(doc: lxml.html.HtmlElement, page_url: str) -> str | None:
    """The absolute URL a parsed page declares with ``<link rel="canonical">``, as written;
    None when it declares none."""
    return declared_links(doc, page_url)[0]


def declared_links(doc: lxml.html.HtmlElement, page_url: str) -> tuple[str | None, str | None]:
    """The absolute URLs a parsed page declares with its first ``<link rel="canonical">``
    and its first ``<link rel="next">`` in its head (None: none): the head's links read once,
    the rest of the page only for a canonical link written outside it."""
    canonical = following = None
    head = doc.find("head")
    for element in (head if head is not None else doc).iter("link"):
        rel = (element.get("rel") or "").lower().split()
        href = (element.get("href") or "").strip()
        if not href:
            continue
        if canonical is None and "canonical" in rel:
            canonical = web_url(href, base_url(doc, page_url))
        elif following is None and "next" in rel:
            following = web_url(href, base_url(doc, page_url))
    if canonical is None and head is not None:
        for element in doc.iter("link"):
            rel = (element.get("rel") or "").lower().split()
            href = (element.get("href") or "").strip()
            if "canonical" in rel and href:
                return web_url(href, base_url(doc, page_url)), following
    return canonical, following


def robots_sitemaps(robots_txt: str, base_url: str) -> list[str]:
    """The ``Sitemap:`` URLs of a robots.txt (any case; ``Site-map:`` too, which Google
    reads), absolute, each once, in file order."""
    found: list[str] = []
    for raw in robots_txt.splitlines():
        line = raw.split("#", 1)[0].strip()
        name, sep, value = line.partition(":")
        if not sep or name.strip().lower() not in ("sitemap", "site-map") or not value.strip():
            continue
        url = web_url(value.strip(), base_url)
        if url is not None and url not in found:
            found.append(url)
    return found


def head_bytes(body: bytes, size: int = SNIFF_BYTES) -> bytes:
    """The first ``size`` bytes of a body, gunzipped if it is gzip, as UTF-8 without BOM and
    leading whitespace. UTF-16 is known by its byte order mark, or, without one, by the
    ``<`` it begins with (a feed served as ``charset=utf-16be`` was "unknown content",
    never read)."""
    if body.startswith(GZIP_MAGIC):
        try:
            # Only enough compressed input for ``size`` bytes of output: never the whole body.
            body = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body[: size * 4], size)
        except zlib.error:
            return b""
    head = body[:size]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    elif head.startswith(b"\x00<"):  # UTF-16 without its byte order mark (XML 1.0, F.1)
        head = head.decode("utf-16-be", errors="ignore").encode("utf-8")
    elif head.startswith(b"<\x00"):
        head = head.decode("utf-16-le", errors="ignore").encode("utf-8")
    return head.removeprefix(b"\xef\xbb\xbf").lstrip()


def xml_root(head: bytes) -> str | None:
    """Lower-case local name of the root element of an XML/HTML head (prolog skipped)."""
    pos = 0
    while True:
        while pos < len(head) and head[pos : pos + 1].isspace():
            pos += 1
        match = _PROLOG.match(head, pos)
        if match is None:
            break
        pos = match.end()
    root = _ROOT.match(head, pos)
    if root is None:
        return None
    return root.group(1).decode("ascii", "replace").rpartition(":")[2].lower()


#: An XML declaration (not another processing instruction: ``<?xml-stylesheet ...?>``).
_LATE_DECLARATION = re.compile(rb"<\?xml\s")


def xml_from(head: bytes) -> bytes:
    """``head`` from its XML declaration on (see junk_before_xml)."""
    found = _LATE_DECLARATION.search(head)
    return head[found.start() :] if found else head


def junk_before_xml(head: bytes) -> bool:
    """Whether an XML declaration comes after something else in ``head`` (the start of a
    body): a server's warning printed before the document ("<br /><b>Warning</b>: Cannot
    modify header information..."), which XML parsers refuse and browsers show."""
    found = _LATE_DECLARATION.search(head, 1)
    return found is not None and not head[: found.start()].isspace()


def sniff(body: bytes, content_type: str | None) -> str:
    """What a body is, from its first KBs: "feed" (RSS/Atom/RDF), "jsonfeed", "sitemap",
    "html" or "unknown"."""
    head = head_bytes(body)
    ctype = (content_type or "").split(";")[0].strip().lower()
    if head.startswith(b"{"):
        if _JSONFEED_VERSION.search(head) or ctype == "application/feed+json":
            return "jsonfeed"
        return "unknown"
    if junk_before_xml(head):  # a PHP warning printed before the feed or sitemap
        late = xml_root(xml_from(head))
        return "feed" if late in _FEED_ROOTS else "sitemap" if late in _SITEMAP_ROOTS else "unknown"
    if head.startswith(b"<"):
        root = xml_root(head)
        if root in _FEED_ROOTS:
            return "feed"
        if root in _SITEMAP_ROOTS:
            return "sitemap"
        if root in _HTML_ROOTS or _HTML_DOCTYPE.match(head) or "html" in ctype:
            return "html"
        return "unknown"
    if "html" not in ctype and _URL_LINE.match(head):  # a text sitemap: a URL a line
        return "sitemap"
    return "html" if head and "html" in ctype else "unknown"
