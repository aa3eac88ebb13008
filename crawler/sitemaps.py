"""Sitemaps: plain urlsets, sitemap indexes and Google News sitemaps, parsed with lxml.

Scrapy's sitemap parser drops the ``news:*`` elements (title, publication date, keywords),
hence this module. Parsing never expands entities, loads a DTD or touches the network (no
XXE, no "billion laughs"); a gzip body is decompressed up to ``MAX_SITEMAP_BYTES``. Element
names are matched by local name, so sitemaps with a missing or outdated namespace still
parse. A malformed but readable sitemap keeps what could be read and says what is wrong in
``problem``; nothing here raises on a bad body.

Which entries are worth fetching (``recent``): an entry's date is its news
``publication_date``, else its ``lastmod``; it is kept when that date is no older than
``max_age`` (dates in the future are kept: a site's clock may be ahead). An undated entry is
kept only when it carries news data (title, keywords, language or publication name): Google
News sitemaps list only the last two days' articles, whereas a plain urlset of a news site
lists its whole archive. Which children of an index are worth fetching
(``recent_sitemaps``): those whose lastmod is within ``max_age`` (newest first; one ahead of
now is undated), then at most ``UNDATED_SITEMAPS`` undated ones, "news" ones first, then
those with the largest numbers in their path (``sitemap-2026-11.xml`` before
``sitemap-2026-10.xml``).
"""

from __future__ import annotations

import codecs
import logging
import posixpath
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal
from urllib.parse import urlsplit

from lxml import etree
from w3lib.encoding import http_content_type_encoding, read_bom

from .discover import GZIP_MAGIC, SNIFF_BYTES, head_bytes, junk_before_xml, xml_from, xml_root
from .extracted import single_byte, unmarked_utf16, utf8_labelled_single_byte
from .feeddates import not_ahead
from .urls import web_url
from .xmlrepair import (
    declared_encoding,
    escape_bare_ampersands,
    misdeclared_wide,
    whole_character_references,
)
from .xmlsafe import safe_pull_parser

logger = logging.getLogger(__name__)

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
#: Decompressed size cap of a gzip body: the sitemap protocol's own limit (50 MB
#: uncompressed, a sitemap of 50,000 URLs with image tags is half of it).
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
UNDATED_SITEMAPS = 5  # child sitemaps without lastmod fetched from an index, at most
#: Child sitemaps dated within the look-back fetched from an index, at most, newest first: an
#: index of indexes of recent sitemaps (a hostile or broken site) fanned out N + N² + N³
#: requests in one poll, and held the crawl for hours.
RECENT_SITEMAPS = 10

_YEAR = re.compile(r"(\d{4})(?:-(\d{2}))?")
_NUMBERS = re.compile(r"\d+")


@dataclass(frozen=True)
class SitemapEntry:
    """One ``<url>`` of a sitemap; the news fields are None/empty outside news sitemaps."""

    url: str
    lastmod: datetime | None  # tz-aware UTC
    title: str | None  # news:title
    published: datetime | None  # news:publication_date, tz-aware UTC
    keywords: tuple[str, ...]  # news:keywords, split on commas
    language: str | None  # news:publication/news:language
    publication: str | None = None  # news:publication/news:name

    @property
    def news(self) -> bool:
        """Whether it carries a news sitemap's fields (which tell an article undated too)."""
        return bool(self.title or self.keywords or self.language or self.publication)

    @property
    def undated(self) -> bool:
        """Whether nothing tells when its page was published or changed."""
        return not (self.published or self.lastmod or self.news)


#: A Google News sitemap, a plain urlset, a sitemap index, or "" (not a sitemap).
SitemapKind = Literal["news", "urlset", "index", ""]

@dataclass(frozen=True)
class ParsedSitemap:
    """What a sitemap body holds: article entries (urlset) or child sitemaps (index)."""

    kind: SitemapKind
    entries: tuple[SitemapEntry, ...] = ()
    sitemaps: tuple[tuple[str, datetime | None], ...] = ()  # an index's children, lastmod
    problem: str | None = None


def w3c_datetime(text: str | None) -> datetime | None:
    """A W3C datetime (``2026``, ``2026-11``, ``2026-11-25``, ``2026-11-25T10:00:00+01:00``,
    also RFC 822) as tz-aware UTC; None if absent or unreadable. No offset means UTC."""
    text = (text or "").strip()
    if not text:
        return None
    partial = _YEAR.fullmatch(text)
    try:
        if partial:
            value = datetime(int(partial[1]), int(partial[2] or 1), 1, tzinfo=UTC)
        else:
            try:
                value = datetime.fromisoformat(text.upper())  # also "...t10:00z"
            except ValueError:
                value = parsedate_to_datetime(text)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def is_sitemap(body: bytes) -> bool:
    """Whether the body (plain or gzip) is a sitemap urlset or index, from its root tag."""
    return xml_root(head_bytes(body)) in ("urlset", "sitemapindex")


def gunzip(body: bytes, limit: int | None = None) -> tuple[bytes, str | None]:
    """Decompress a gzip body up to ``limit`` bytes (a feed's: crawl.max_size), else
    MAX_SITEMAP_BYTES; raises ValueError beyond it."""
    most = MAX_SITEMAP_BYTES if limit is None else limit
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, most + 1)
    except zlib.error as exc:
        raise ValueError(f"bad gzip data: {exc}") from exc
    if len(data) > most or inflater.unconsumed_tail:
        if limit is not None:
            raise ValueError(f"the body, decompressed, is larger than crawl.max_size "
                             f"({limit:,} bytes)")
        raise ValueError(f"gzip body larger than {MAX_SITEMAP_BYTES // 2**20} MB decompressed")
    return data, None if inflater.eof else "truncated gzip data"


#: The URLs a sitemap may list (the sitemap protocol's limit, for its text files too).
MAX_SITEMAP_URLS = 50_000


def _text_entries(body: bytes, charset: str | None) -> tuple[SitemapEntry, ...]:
    """The URLs of a text sitemap (one a line, full addresses), undated; () when its first
    line is no web address. It is read in its server's ``charset``, else as UTF-8 (the
    protocol's): a Russian site's list of addresses of Cyrillic words in windows-1251,
    served so, was read as UTF-8, each word's letters U+FFFDs, pages that do not exist. A
    UTF-8 list that its server labels in a single-byte code page (its default, ISO-8859-1)
    stays UTF-8, as a sitemap of XML does."""
    text = utf8_labelled_single_byte(body, charset)
    lines = (body.decode(charset or "utf-8", "replace") if text is None else text).split()
    if not lines or web_url(lines[0]) is None:
        return ()
    return tuple(SitemapEntry(web, None, None, None, (), None)
                 for line in lines[:MAX_SITEMAP_URLS] if (web := web_url(line)))


#: <url> elements read at most, those dated before the look-back included (not kept, they
#: cost 5-8 us each): a sitemap of its whole archive, oldest first, past the protocol's
#: 50,000, lists its new articles at its end.
MAX_SITEMAP_READ = 200_000
#: Bytes handed to the parser at a time: it stops reading once it has read enough.
_CHUNK = 1 << 20


def _stream(body: bytes, recover: bool, read: Callable[[etree._Element], bool],
            encoding: str | None = None) -> tuple[etree._Element | None, bool]:
    """Read ``body`` element by element: each child of the root is handed to ``read`` as
    soon as it ends, then dropped from the tree; ``read`` says when reading stops (it has
    read enough: _Collector). The root element (None when there is none), and whether
    reading stopped so; read in ``encoding``, where given, whatever it declares. Raises
    XMLSyntaxError (strict parser) at the first fault.
    (A 50 MB sitemap of a million URLs, built as one tree, took 786 MB and 46 s of the
    crawl's thread: here the tree holds one <url> at a time, and 50,000 at most are kept.)"""
    parser = safe_pull_parser(recover, encoding)
    root: etree._Element | None = None
    depth = 0

    def take(events: Iterable[tuple[str, etree._Element]]) -> bool:
        nonlocal root, depth
        for event, element in events:
            if event == "start":
                depth += 1
                root = element if root is None else root
                continue
            depth -= 1
            if depth != 1 or root is None:
                continue
            stop = read(element)
            element.clear()
            while element.getprevious() is not None:
                del root[0]
            if stop:
                return True
        return False

    for at in range(0, max(len(body), 1), _CHUNK):
        parser.feed(body[at:at + _CHUNK])
        if take(parser.read_events()):
            return root, True
    closed = parser.close()
    capped = take(parser.read_events())  # what recovery closed at the end
    return (root if root is not None else closed), capped


def _not_utf8(body: bytes, declared: str) -> bool:
    """Whether ``declared`` names UTF-8 and ``body`` is no UTF-8."""
    try:
        if codecs.lookup(declared).name != "utf-8":
            return False
    except LookupError:
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _encoding(body: bytes, charset: str | None) -> str | None:
    """The encoding to read ``body`` in, its server's ``charset`` given; None where lxml's
    own reading (a byte order mark, else the XML declaration, else UTF-8) is right. A
    sitemap that says it is UTF-16 in UTF-8 bytes (an ASP.NET site's) is read as UTF-8: read
    in pairs of bytes, it was "not a sitemap", every article of the source lost, poll after
    poll. So is one that says it is in a single-byte code page above UTF-8 text (a Greek or
    Russian CMS left at ISO-8859-7 or windows-1251 when its database moved to UTF-8): its
    news titles were stored as mojibake ("αθηνα" as "Ξ±ΞΈΞ·Ξ½Ξ±") and its addresses of Greek
    or Cyrillic words fetched as such, pages that do not exist."""
    declared = declared_encoding(body)
    # Where its server's charset and its declaration differ, the declaration is read, as an
    # XML parser reads it: the sitemap's generator wrote both it and the bytes, while the
    # charset is often the server's default (Apache's AddDefaultCharset ISO-8859-1 above a
    # windows-1251 sitemap that says so), though RFC 7303 and browsers take the charset
    # (feedparser too, falling back on the declaration where the bytes are no text in it).
    # Unless the bytes cannot be in the declaration: a CMS's template that declares UTF-8
    # above its windows-1251 database, served as windows-1251, had lxml stop at the first
    # Cyrillic letter ("malformed XML") and recover its addresses as U+FFFDs, pages that
    # do not exist. It is read in its server's charset.
    if declared and single_byte(charset) and _not_utf8(body, declared):
        declared = None
    # One that declares no encoding is in its server's charset, as XML says (RFC 7303: the
    # label over the default, a byte order mark over both): a Russian site's sitemap in
    # windows-1251 (or KOI8-R, a Greek one's in ISO-8859-7) served so, read as UTF-8, had
    # its addresses of Cyrillic words garbled, pages that do not exist, its articles lost.
    label = declared or (None if read_bom(body)[0] else charset)
    if utf8_labelled_single_byte(body, label) is not None:
        return "utf-8"
    # UTF-16 with no byte order mark (its declaration unread, in bytes of two) that its
    # server calls a single-byte code page: lxml read it in that code page, a NUL between
    # each two letters, "not a sitemap".
    if wide := unmarked_utf16(body, label) or misdeclared_wide(body, label):
        return wide
    if declared or not label:
        return None
    try:
        safe_pull_parser(False, label)
    except LookupError:  # a charset lxml has no codec of ("none", "latin_1", "utf-8-sig")
        return None
    return label


def _parse_xml(
    body: bytes, reader: Callable[[], Callable[[etree._Element], bool]], charset: str | None
) -> tuple[etree._Element | None, bool, str | None]:
    """The document read by a new ``reader()`` for each pass, and a problem; a malformed
    document is read again repaired, then in recovery mode; in the encoding
    :func:`_encoding` finds, its server's ``charset`` given."""
    encoding = _encoding(body, charset)
    try:
        return *_stream(body, False, reader(), encoding), None
    except etree.XMLSyntaxError as exc:
        problem = f"malformed XML: {exc}"
    # Raw "&" in URLs is the usual fault, and lxml's recovery would drop "&sectionid=2".
    body = escape_bare_ampersands(whole_character_references(body))
    try:
        return *_stream(body, False, reader(), encoding), problem
    except etree.XMLSyntaxError:
        pass
    try:
        return *_stream(body, True, reader(), encoding), problem
    except etree.XMLSyntaxError:
        return None, False, problem


def _local(element: etree._Element) -> str:
    """An element's local name; ``news`` for a ``news:news`` whose prefix the sitemap never
    declared (generators forget ``xmlns:news``, ``xmlns:image``: read in recovery mode, the
    tag keeps its prefix, which lxml's QName refuses)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    try:
        return str(etree.QName(tag).localname)
    except ValueError:
        return tag.rpartition(":")[2]


def _google_news(element: etree._Element) -> bool:
    """Whether a ``<news>`` element is Google News sitemaps' (by its namespace; by its
    ``news:`` prefix when the sitemap never declared it)."""
    tag = str(element.tag)
    try:
        return "sitemap-news" in (etree.QName(tag).namespace or "")
    except ValueError:
        return tag.startswith("news:")


def _children(element: etree._Element) -> dict[str, etree._Element]:
    """Child elements by local name (the first of each name)."""
    found: dict[str, etree._Element] = {}
    for child in element:
        found.setdefault(_local(child), child)
    return found


def _text(element: etree._Element | None) -> str | None:
    """Whitespace-normalized text; None when absent, empty or holding an entity reference."""
    if element is None or any(child.tag is etree.Entity for child in element):
        return None  # an unexpanded entity (e.g. an XXE attempt): the value is unusable
    text = " ".join("".join(element.itertext()).split())
    return text or None


def _url(element: etree._Element | None, sitemap_url: str) -> str | None:
    text = _text(element)
    return web_url(text, sitemap_url) if text else None


#: What _entry says of a <url> dated before the cut-off: not read further.
OLD: Literal["old"] = "old"


def _entry(
    node: etree._Element, sitemap_url: str, since: datetime | None = None
) -> tuple[SitemapEntry | Literal["old"] | None, bool]:
    """The entry of a ``<url>`` element (None without a usable loc; OLD when it is dated
    before ``since``: its address is not even read), and whether it has news."""
    fields = _children(node)
    news = fields.get("news")
    if news is not None and not _google_news(news):
        news = None  # a <news> element of some other vocabulary
    parts = _children(news) if news is not None else {}
    published = w3c_datetime(_text(parts.get("publication_date"))) if parts else None
    lastmod = w3c_datetime(_text(fields.get("lastmod")))
    when = published or lastmod
    if since is not None and when is not None and when < since:
        return OLD, news is not None
    url = _url(fields.get("loc"), sitemap_url)
    if url is None:
        return None, news is not None
    title = language = publication = None
    keywords: tuple[str, ...] = ()
    if news is not None:
        pub = _children(parts["publication"]) if "publication" in parts else {}
        title = _text(parts.get("title"))
        keywords = tuple(k.strip() for k in (_text(parts.get("keywords")) or "").split(","))
        keywords = tuple(k for k in keywords if k)
        language = _text(pub.get("language"))
        publication = _text(pub.get("name"))
    entry = SitemapEntry(url, lastmod, title, published, keywords, language, publication)
    return entry, news is not None


class _Collector:
    """What one reading of a sitemap collects, child by child of its root (_stream)."""

    def __init__(self, url: str, since: datetime | None) -> None:
        self.url, self.since = url, since
        self.entries: list[SitemapEntry] = []
        self.sitemaps: list[tuple[str, datetime | None]] = []
        self.unusable = self.older = 0
        self.has_news = self.last_kept = False

    def __call__(self, node: etree._Element) -> bool:
        """Collect ``node``; whether reading stops (at the one past MAX_SITEMAP_URLS kept, or
        past MAX_SITEMAP_READ read, which is not collected)."""
        name = _local(node)
        if name not in ("url", "sitemap"):
            return False
        kept = len(self.entries) + len(self.sitemaps) + self.unusable
        if kept >= MAX_SITEMAP_URLS or kept + self.older >= MAX_SITEMAP_READ:
            return True
        if name == "sitemap":
            fields = _children(node)
            loc = _url(fields.get("loc"), self.url)
            if loc is not None:
                self.sitemaps.append((loc, w3c_datetime(_text(fields.get("lastmod")))))
            return False
        entry, news = _entry(node, self.url, self.since)
        self.has_news = self.has_news or news
        self.last_kept = isinstance(entry, SitemapEntry)
        if isinstance(entry, SitemapEntry):
            self.entries.append(entry)
        elif entry is None:
            self.unusable += 1
        else:
            self.older += 1
        return False


def parse_sitemap(body: bytes, url: str, since: datetime | None = None,
                  content_type: str | None = None) -> ParsedSitemap:
    """Parse a sitemap body (plain or gzip): a urlset, a Google News sitemap or an index. A
    body that even lxml's recovery reads as nonsense is not a sitemap (on garbled bytes it
    raised: element names it cannot name, bytes that are no UTF-8). ``since``: a urlset's
    entries dated before it are left out, unread (``recent`` would drop them); an index's
    children are all kept. MAX_SITEMAP_URLS entries or children at most, as the protocol
    says (a problem names the cut). ``content_type``: its server's, whose charset a sitemap
    that declares no encoding is read in."""
    try:
        return _parse_sitemap(body, url, since, http_content_type_encoding(content_type or ""))
    except ValueError as exc:
        return ParsedSitemap("", problem=f"not a sitemap (unreadable: {exc})")


def _parse_sitemap(body: bytes, url: str, since: datetime | None, charset: str | None
                   ) -> ParsedSitemap:
    problems: list[str] = []
    if body.startswith(GZIP_MAGIC):
        try:
            body, gzip_problem = gunzip(body)
        except ValueError as exc:
            return ParsedSitemap("", problem=f"not a sitemap ({exc})")
        problems += [gzip_problem] if gzip_problem else []
    body = _from_declaration(body)
    if body.lstrip()[:1] != b"<" and (listed := _text_entries(body, charset)):
        return ParsedSitemap("urlset", entries=listed, problem="; ".join(problems) or None)
    since = _aware(since) if since is not None else None
    read = _Collector(url, since)

    def reader() -> _Collector:
        nonlocal read
        read = _Collector(url, since)
        return read

    root, capped, xml_problem = _parse_xml(body, reader, charset)
    if root is None:
        return ParsedSitemap("", problem=f"not a sitemap ({xml_problem or 'empty document'})")
    problems += [xml_problem] if xml_problem else []
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        problems.append("entity declarations ignored")
    if capped:
        problems.append(f"more than {MAX_SITEMAP_URLS:,} entries (the sitemap protocol's "
                        f"limit): the first {MAX_SITEMAP_URLS:,} read"
                        if read.older + MAX_SITEMAP_URLS < MAX_SITEMAP_READ else
                        f"more than {MAX_SITEMAP_READ:,} entries: the first "
                        f"{MAX_SITEMAP_READ:,} read")
    name = _local(root)
    if name == "sitemapindex":
        return ParsedSitemap("index", sitemaps=tuple(read.sitemaps), problem=_join(problems))
    if name != "urlset":
        problems.insert(0, f"not a sitemap (root element <{name}>)")
        return ParsedSitemap("", problem=_join(problems))
    entries = read.entries
    if read.unusable:
        problems.append(f"{read.unusable} <url> without a usable <loc> skipped")
    if xml_problem and read.last_kept and not body.rstrip().endswith(b">"):
        entries.pop()  # the body was cut short: the last <loc> may be cut too
        problems.append("last <url> of a truncated document dropped")
    kind: SitemapKind = "news" if read.has_news else "urlset"
    return ParsedSitemap(kind, entries=tuple(entries), problem=_join(problems))


_BOM = b"\xef\xbb\xbf"


def _from_declaration(body: bytes) -> bytes:
    """``body`` from its XML declaration (after its UTF-8 byte order mark, if any): without
    what a server printed before it, a template's blank line or a PHP warning (see
    crawler.discover.junk_before_xml), which makes the document malformed. Read in lxml's
    recovery mode, such a sitemap lost every ``&amp;`` of its addresses
    (``story.asp?id=123&amp;sect=4`` fetched as ``story.asp?id=123sect=4``)."""
    bom = _BOM if body.startswith(_BOM) else b""
    head = body[len(bom):SNIFF_BYTES]
    start = head.lstrip()
    if (start != head and start.startswith(b"<?xml")) or junk_before_xml(start):
        return bom + xml_from(start) + body[SNIFF_BYTES:]
    return body  # (not copied: a sitemap may be 50 MB)


def _join(problems: list[str]) -> str | None:
    return "; ".join(problems) or None


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


def recent(
    entries: Iterable[SitemapEntry], now: datetime, max_age: timedelta
) -> list[SitemapEntry]:
    """The entries worth fetching, newest first (so that a cap on their number drops the
    oldest, whatever the sitemap's order): dated within ``max_age`` of ``now``, or undated
    news entries (see the module docstring), which come first, in sitemap order."""
    since = _aware(now) - max_age
    undated: list[SitemapEntry] = []
    dated: list[tuple[datetime, SitemapEntry]] = []
    for entry in entries:
        when = entry.published or entry.lastmod
        if when is None:
            if entry.news:
                undated.append(entry)
        elif when >= since:
            dated.append((when, entry))
    dated.sort(key=lambda item: item[0], reverse=True)
    return undated + [entry for _, entry in dated]


def _freshness_hint(url: str) -> tuple[bool, tuple[int, ...]]:
    """Sort key guessing how fresh an undated child sitemap is: news ones, then the largest
    numbers in the path (``sitemap-2026-11.xml`` after ``sitemap-2026-10.xml``)."""
    path = urlsplit(url).path.lower()
    return "news" in path, tuple(int(n) for n in _NUMBERS.findall(path))


#: How many news sitemaps of an index are read at every poll (news_sitemaps).
NEWS_SITEMAPS = 2


def recent_sitemaps(
    index: ParsedSitemap, now: datetime, max_age: timedelta, undated: int = UNDATED_SITEMAPS
) -> list[str]:
    """Child sitemaps of an index worth fetching: those whose lastmod is within ``max_age``
    (newest first, RECENT_SITEMAPS at most), then at most ``undated`` undated ones (news /
    highest-numbered first), then the news sitemaps (see news_sitemaps) whatever their
    lastmod says. A lastmod ahead of ``now`` is none, as a feed's date is: an events site
    dates each month's sitemap by its events, and the coming year's months came first at
    every poll, leaving its posts' sitemap, dated today, out of RECENT_SITEMAPS."""
    if index.kind != "index":
        return []
    now = _aware(now)
    since = now - max_age
    children = [(loc, not_ahead(when, now)) for loc, when in index.sitemaps
                if not _of_archive_pages(loc)]
    dated = sorted(
        ((when, loc) for loc, when in children if when is not None and when >= since),
        key=lambda item: item[0],
        reverse=True,
    )
    guessed = [loc for loc, when in children if when is None]
    guessed.sort(key=_freshness_hint, reverse=True)
    return list(dict.fromkeys(
        [loc for _, loc in dated[:RECENT_SITEMAPS]] + guessed[: max(undated, 0)]
        + news_sitemaps(index)
    ))


#: WordPress's sitemaps of archive pages (Yoast's and Rank Math's, and WordPress's own):
#: lists of a category's, a tag's or an author's posts, dated by the newest; no articles.
_ARCHIVE_PAGES = re.compile(
    r"(?:^|/)(?:(?:category|post_tag|tag|author|product_cat|product_tag)-sitemap\d*"
    r"|wp-sitemap-(?:taxonomies|users)-[\w-]*)\.xml(?:\.gz)?$"
)


def _of_archive_pages(url: str) -> bool:
    """Whether a child sitemap lists archive pages (_ARCHIVE_PAGES), not articles."""
    return bool(_ARCHIVE_PAGES.search(urlsplit(url).path.lower()))


def news_sitemaps(index: ParsedSitemap) -> list[str]:
    """The children of an index whose path says "news" below the folder they all share (at
    most NEWS_SITEMAPS): read at every poll, as an index's lastmod of them is often that of
    its last deployment (days old while the news sitemap changes by the minute), or a date
    alone. (A site installed under /news/ has every child there: none of them is news.)"""
    paths = [urlsplit(loc).path.lower() for loc, _ in index.sitemaps]
    if len(paths) < 2:
        return [loc for (loc, _), path in zip(index.sitemaps, paths, strict=True) if "news" in path]
    below = len(posixpath.commonpath([posixpath.dirname(path) or "/" for path in paths]))
    news = [loc for (loc, _), path in zip(index.sitemaps, paths, strict=True)
            if "news" in path[below:]]
    return news[:NEWS_SITEMAPS]
