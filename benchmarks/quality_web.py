"""The quality benchmark's local web: labelled pages served on loopback, one host per site.

Each site gets its own loopback address (127.1.x.y: Linux routes all of 127.0.0.0/8 to
``lo``), so that the crawler sees as many hosts as there are sites. On it:

- every labelled page of the site at its original path and query (real URL shapes), and
  at the addresses it declares as its own on the site (``<link rel=canonical>``,
  ``og:url``: where the publisher serves it too, e.g. an AMP page's canonical version); the
  bytes as published except that absolute links to the site's own host point to the
  loopback host (so those declarations stay on the site);
- ``/__bench__/feed.rss``: an RSS 2.0 feed of the site's pages (title, link, guid,
  pubDate, and the page's meta description where it has one);
- ``/``: a home page listing the pages by headline (with their descriptions), between the
  site's own navigation, section, tag and footer links, taken from its pages' markup (each
  block with the tag, class and id it had there) and rewritten to the loopback host;
  each such link serves a listing page (its anchor as heading, the site's headlines). On
  one site in three (by its name's CRC-32, ``Site.cards``) the headlines are today's cards:
  a topic pill linking to one of the site's sections, the headline, the description and a
  byline linking to an author's page (both served as listing pages), as a relaunched site
  writes them; on the others a heading and its description each.
  Links of the pages that look like articles of the site (a headline for an anchor, an id
  or a date in the address) are not among them: the benchmark cannot serve them as the
  articles they are. One of them (or a made-up archive link where a site has none)
  is the home page's older story, listed from the first poll on and served as a short
  archive page, so that a monitor's first poll finds the site's back catalogue;
- anything else: 404 (``/robots.txt`` included: no rules, no sitemaps).

Until ``LocalWeb.published`` is set, the feeds list nothing and the home pages only
their older stories: a monitor's first poll sees the site before the labelled articles
appear. Query parameters are matched in any order (as real servers do) but otherwise
exactly: a URL whose parameters were dropped or decoded differently is a 404, as it would
be on the real site.
"""

from __future__ import annotations

import html
import re
import socket
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import cached_property
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, quote, unquote, urljoin, urlsplit

import lxml.etree
import lxml.html

from .corpora import LabelledPage, declared_urls
from .loopback import Listeners, Server
from .quality_topics import PageText, labelled_text, page_text, parse_page

Key = tuple[str, tuple[tuple[str, str], ...]]
FEED_PATH = "/__bench__/feed.rss"
_CONTAINERS = frozenset({"nav", "header", "footer", "aside", "ul", "ol", "div", "section"})
_PATH_SAFE = "/:@!$&'()*+,;=~-._%"
_QUERY_SAFE = _PATH_SAFE + "?"
MAX_NAV_LINKS = 60
MAX_OLDER = 1


_SLASHES = re.compile(r"/{2,}")
_LABEL_PREFIX = re.compile(r"^[a-z]+::")
_TRACKERS = frozenset({"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "_ga"})


def key(path: str, query: str) -> Key:
    """What a request path names: the unquoted path (no trailing slash, runs of slashes as
    one, as web servers merge them) and the query's parameters in any order, valueless ones
    kept, tracking ones (``utm_*``, ``fbclid``...) ignored, as the sites' servers ignore
    them."""
    params = [(k, v) for k, v in parse_qsl(query, True)
              if not k.lower().startswith("utm_") and k.lower() not in _TRACKERS]
    return (_SLASHES.sub("/", unquote(path)).rstrip("/") or "/", tuple(sorted(params)))


def origin(url: str) -> tuple[str, str, str]:
    """(host without ``www.``, path, query) of a URL, path and query quoted as sent."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    return host, quote(parts.path or "/", safe=_PATH_SAFE), quote(parts.query, safe=_QUERY_SAFE)


def page_url(page: LabelledPage) -> str:
    """The address a page was published at: its URL; for trafilatura's entries named
    ``hard::site.com-name.html``, the address the page declares (canonical link, og:url),
    else ``http://site.com/name.html``."""
    prefix = _LABEL_PREFIX.match(page.url)
    if prefix is None:
        return page.url
    for url in declared_urls(page.html, ""):
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.hostname:
            return url
    host, _, rest = page.url[prefix.end():].partition("-")
    return f"http://{host.lower()}/{rest}"


@dataclass
class ServedPage:
    """A labelled page as the local web serves it."""

    index: int  # into the benchmark's page list
    url: str  # its loopback URL
    key: Key
    declared: tuple[Key, ...]  # where it says it lives on its site (canonical, og:url)
    headline: str
    description: str
    original: bytes  # as published
    host: str = ""  # the site's original host, and its loopback origin
    base: str = ""

    @cached_property
    def html(self) -> bytes:
        """The bytes served: as published, links to the site's own host made local."""
        return _rewrite(self.original, self.host, self.base)


@dataclass
class NavBlock:
    """A block of a site's own chrome links, as its pages had it."""

    top: bool  # before the article text on its page
    tag: str
    attrs: str  # ' class="..." id="..."', escaped
    links: list[tuple[str, str]] = field(default_factory=list)  # (loopback URL, anchor)


@dataclass
class Site:
    """One site of the local web."""

    name: str  # the original host, without www.
    host: str  # its loopback address
    port: int = 0
    pages: list[ServedPage] = field(default_factory=list)
    blocks: list[NavBlock] = field(default_factory=list)
    listings: dict[Key, str] = field(default_factory=dict)  # key -> anchor text
    # The back catalogue the home page lists from the first poll on: links to articles of
    # the site that the benchmark has no text of (key -> (URL, headline)).
    older: dict[Key, tuple[str, str]] = field(default_factory=dict)
    # Headlines as cards with a topic pill and a byline (see the module docstring): each
    # card's pill and byline, (URL, anchor) both, in turn.
    pills: list[tuple[str, str]] = field(default_factory=list)
    bylines: list[tuple[str, str]] = field(default_factory=list)

    @property
    def base(self) -> str:
        """``http://host:port``."""
        return f"http://{self.host}:{self.port}"


def site_names(pages: Sequence[LabelledPage]) -> list[str]:
    """The site that serves each page (its original host without ``www.``)."""
    return [origin(page_url(p))[0] or "unknown" for p in pages]


def _rewrite(data: bytes, host: str, base: str) -> bytes:
    """``data`` with absolute links to ``host`` (and www.host) pointing to ``base``."""
    name = re.escape(host.encode()) + rb"(?![\w.-])"
    # Two patterns that each start with a literal: a regular expression finds those fast.
    for pattern in (rb"https?://(?:www\.)?" + name, rb"//(?:www\.)?" + name):
        data = re.sub(pattern, base.encode(), data, flags=re.IGNORECASE)
    return data


def _declared(page: LabelledPage, name: str) -> tuple[Key, ...]:
    """The addresses on its own site that the page declares as its own (canonical link,
    og:url): the publisher serves the article there too."""
    found: list[Key] = []
    for url in declared_urls(page.html, page_url(page)):
        try:
            parts = urlsplit(url)
        except ValueError:
            continue
        if (parts.hostname or "").lower().removeprefix("www.") != name:
            continue
        address = key(quote(parts.path or "/", safe=_PATH_SAFE),
                      quote(parts.query, safe=_QUERY_SAFE))
        if address != ("/", ()) and address not in found:
            found.append(address)
    return tuple(found)


def _attrs(element: lxml.html.HtmlElement) -> str:
    out = ""
    for name in ("class", "id", "role"):
        if element.get(name):
            out += f' {name}="{html.escape(element.get(name), quote=True)}"'
    return out


def _text_positions(doc: lxml.html.HtmlElement) -> tuple[str, dict[int, int]]:
    """The page's text in document order (white space folded, lower case), and where in it
    each ``<a>`` starts (by the element's id())."""
    parts: list[str] = []
    size = 0
    where: dict[int, int] = {}
    for event, element in lxml.etree.iterwalk(doc, events=("start", "end")):
        if event == "start" and element.tag == "a":
            where[id(element)] = size
        piece = element.text if event == "start" else element.tail
        if piece and piece.strip():
            folded = " ".join(piece.split()).lower() + " "
            parts.append(folded)
            size += len(folded)
    return "".join(parts), where


def _article_span(text: str, lines: Sequence[str]) -> tuple[int, int]:
    """Where the labelled lines start and end in the page's folded text (the middle of the
    page when none is found)."""
    found = []
    for line in lines:
        probe = " ".join(line.split()).lower()[:40]
        at = text.find(probe) if len(probe) >= 15 else -1
        if at >= 0:
            found.append((at, at + len(probe)))
    if not found:
        return len(text) // 2, len(text) // 2
    return min(a for a, _ in found), max(b for _, b in found)


def _looks_like_article(url: str, anchor: str) -> bool:
    """A link the site's real server would answer with an article (a headline-like anchor,
    a long slug, an id or a date in the address): the local web cannot serve it as the
    article it is."""
    parts = urlsplit(url)
    slug = re.split(r"[-_]+", parts.path.rstrip("/").rsplit("/", 1)[-1])
    numeric_id = any(v.isdigit() and len(v) >= 3 for _, v in parse_qsl(parts.query))
    return (len(anchor.split()) >= 5 or len(slug) >= 5 or numeric_id
            or bool(_ARTICLE_URL.search(parts.path)))


_ARTICLE_URL = re.compile(r"\d{5,}|/(?:19|20)\d\d[-/][01]?\d[-/]")


@dataclass(frozen=True)
class PageLink:
    """A same-site link of a page, outside its article text."""

    path: str  # quoted, as the home page writes it
    query: str
    anchor: str
    article: bool  # looks like a link to another article of the site
    block: int  # its container, numbered within the page (-1: none)
    top: bool  # before the article text
    tag: str  # the container's tag and attributes
    attrs: str


def document_base(doc: lxml.html.HtmlElement, address: str) -> str:
    """What the links of ``doc`` (the page at ``address``) resolve against, as a browser
    has it: the first ``<base href>``, itself resolved against ``address``; else
    ``address``."""
    for base in doc.iter("base"):
        href = (base.get("href") or "").strip()
        if href:
            try:
                resolved = urljoin(address, href)
                scheme = urlsplit(resolved).scheme
            except ValueError:  # a malformed address ("http://[menu]/")
                return address
            return resolved if scheme in ("http", "https") else address
    return address


def page_links(page: LabelledPage, doc: lxml.html.HtmlElement | None) -> list[PageLink]:
    """The page's links to its own site that stand outside its labelled article text
    (resolved against the document's base)."""
    if doc is None:
        return []
    address = page_url(page)
    name = origin(address)[0]
    base = document_base(doc, address)
    text, where = _text_positions(doc)
    begin, end = _article_span(text, labelled_text(page))
    containers: dict[int, int] = {}
    found = []
    for element in doc.iter("a"):
        at = where.get(id(element), 0)
        if begin <= at <= end or not element.get("href"):
            continue
        anchor = " ".join(element.text_content().split())
        try:
            absolute = urljoin(base, element.get("href").strip())
            parts = urlsplit(absolute)
        except ValueError:  # a malformed address ("http://[menu]/")
            continue
        if (not 2 <= len(anchor) <= 200 or parts.scheme not in ("http", "https")
                or (parts.hostname or "").lower().removeprefix("www.") != name):
            continue
        container = next((a for a in element.iterancestors() if a.tag in _CONTAINERS), None)
        block = -1 if container is None else containers.setdefault(id(container),
                                                                    len(containers))
        found.append(PageLink(
            quote(parts.path or "/", safe=_PATH_SAFE), quote(parts.query, safe=_QUERY_SAFE),
            anchor, _looks_like_article(absolute, anchor), block, at < begin,
            "" if container is None else str(container.tag),
            "" if container is None else _attrs(container),
        ))
    return found


def _add_links(site: Site, links: Sequence[PageLink], own: set[Key], seen: set[Key]) -> None:
    """Add a page's navigation links to the site's blocks, and article links (up to
    MAX_OLDER) to its older stories."""
    blocks: dict[int, NavBlock] = {}
    for link in links:
        link_key = key(link.path, link.query)
        if link_key in own or link_key in seen or link_key == ("/", ()):
            continue
        url = site.base + link.path + (f"?{link.query}" if link.query else "")
        if link.article:
            if len(site.older) < MAX_OLDER and len(link.anchor.split()) >= 3:
                site.older[link_key] = (url, link.anchor)
            continue
        if len(link.anchor) > 60 or link.block < 0 or len(seen) >= MAX_NAV_LINKS:
            continue
        block = blocks.get(link.block)
        if block is None:
            block = blocks[link.block] = NavBlock(link.top, link.tag, link.attrs)
            site.blocks.append(block)
        seen.add(link_key)
        block.links.append((url, link.anchor))
        site.listings[link_key] = link.anchor


@dataclass(frozen=True)
class Prepared:
    """What the benchmark takes from a page's markup (see :func:`prepare`)."""

    text: PageText
    links: list[PageLink]


def prepare(page: LabelledPage) -> Prepared:
    """Parse a page once: its text for topics, its links for the home page."""
    doc = parse_page(page.html)
    return Prepared(page_text(page, doc), page_links(page, doc))


def build_sites(pages: Sequence[LabelledPage], prepared: Sequence[Prepared], port: int
                ) -> tuple[list[Site], list[int]]:
    """The sites serving ``pages`` on loopback port ``port``, and the pages left out (a
    page at a site's root: the home page is there)."""
    by_name: dict[str, Site] = {}
    left_out: list[int] = []
    for index, page in enumerate(pages):
        name, path, query = origin(page_url(page))
        name = name or "unknown"
        if name not in by_name:
            n = len(by_name)
            by_name[name] = Site(name, f"127.1.{n // 250}.{n % 250 + 1}", port)
        site = by_name[name]
        page_key = key(path, query)
        if page_key == ("/", ()) or any(p.key == page_key for p in site.pages):
            left_out.append(index)
            continue
        url = site.base + path + (f"?{query}" if query else "")
        site.pages.append(ServedPage(
            index, url, page_key, _declared(page, name), prepared[index].text.title or name,
            prepared[index].text.description, page.html, name, site.base,
        ))
    for site in by_name.values():
        own = {p.key for p in site.pages} | {k for p in site.pages for k in p.declared}
        seen: set[Key] = set()
        for served in site.pages:
            _add_links(site, prepared[served.index].links, own, seen)
        for n in range(len(site.older), MAX_OLDER):  # a site that linked to none of its own
            path = f"/archive/older-story-number-{n + 1}"
            headline = f"An older story from the archive, {n + 1}"
            site.older[key(path, "")] = (site.base + path, headline)
        if zlib.crc32(site.name.encode()) % 3 == 1:
            add_cards(site)
    return list(by_name.values()), left_out


#: The authors of a card site's bylines (their pages: listing pages of the site).
BYLINES = ("Ana Ruiz", "Tom Baker", "Lena Vogel")


def add_cards(site: Site) -> None:
    """Make ``site`` list its headlines as cards: pills linking to up to three of its
    sections (made up where its pages link to none) and bylines to its authors' pages."""
    sections = [(site.base + k[0], a) for k, a in site.listings.items()
                if not k[1] and 3 <= len(a) <= 25][:3]
    if not sections:
        for name in ("World", "Politics", "Business"):
            path = f"/section/{name.lower()}"
            site.listings[key(path, "")] = name
            sections.append((site.base + path, name))
    site.pills = sections
    for author in BYLINES:
        path = "/people/" + author.lower().replace(" ", "-")
        site.listings[key(path, "")] = author
        site.bylines.append((site.base + path, author))


def _block_html(block: NavBlock) -> str:
    items = "".join(f'<li><a href="{html.escape(u)}">{html.escape(a)}</a></li>'
                    for u, a in block.links)
    if block.tag in ("ul", "ol"):
        return f"<{block.tag}{block.attrs}>{items}</{block.tag}>\n"
    return f"<{block.tag}{block.attrs}><ul>{items}</ul></{block.tag}>\n"


def _teasers(site: Site, published: bool) -> str:
    items = [(p.url, p.headline, p.description) for p in site.pages] if published else []
    items += [(url, headline, "") for url, headline in site.older.values()]
    out = []
    for n, (url, headline, description) in enumerate(items):
        summary = f"<p>{html.escape(description)}</p>" if description else ""
        if site.pills:
            (pill, topic), (page, author) = (site.pills[n % len(site.pills)],
                                             site.bylines[n % len(site.bylines)])
            out.append(
                f'<article class="story-card"><a class="story-card__kicker" '
                f'href="{html.escape(pill)}">{html.escape(topic)}</a><a class="story-card__link"'
                f' href="{html.escape(url)}"><h3>{html.escape(headline)}</h3></a>'
                f'{summary.replace("<p>", "<p class=story-card__summary>")}'
                f'<span class="story-card__byline">By <a href="{html.escape(page)}">'
                f"{html.escape(author)}</a></span></article>\n")
            continue
        out.append(f'<div class="teaser"><h2><a href="{html.escape(url)}">'
                   f"{html.escape(headline)}</a></h2>{summary}</div>\n")
    return "".join(out)


def render_home(site: Site, published: bool, heading: str = "", story: bool = False) -> bytes:
    """The site's home page (or a listing page under ``heading``; with ``story``, an
    older article of that headline, whose text the benchmark does not have)."""
    top = "".join(_block_html(b) for b in site.blocks if b.top)
    bottom = "".join(_block_html(b) for b in site.blocks if not b.top)
    title = html.escape(heading or site.name)
    h1 = f"<h1>{title}</h1>" if heading else ""
    teasers = _teasers(site, published)
    if story:
        h1 = f"<article><h1>{title}</h1><p>This story is from the archive.</p></article>"
        teasers = ""
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{title}</title>'
            f'</head>\n<body>\n{top}<div class="main">{h1}\n{teasers}</div>\n{bottom}'
            "</body></html>\n").encode()


def render_feed(site: Site, published: bool, now: datetime) -> bytes:
    """The site's RSS 2.0 feed."""
    items = []
    for n, page in enumerate(site.pages if published else []):
        when = format_datetime(now - timedelta(minutes=5 + n), usegmt=True)
        summary = (f"<description>{html.escape(page.description)}</description>"
                   if page.description else "")
        items.append(f"<item><title>{html.escape(page.headline)}</title>"
                     f"<link>{html.escape(page.url)}</link>"
                     f'<guid isPermaLink="true">{html.escape(page.url)}</guid>'
                     f"<pubDate>{when}</pubDate>{summary}</item>\n")
    return ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            f"<title>{html.escape(site.name)}</title><link>{site.base}/</link>"
            f"<description>{html.escape(site.name)}</description>\n"
            + "".join(items) + "</channel></rss>\n").encode()


@dataclass(frozen=True)
class Request:
    """One request the local web answered."""

    phase: str  # what was published then: "empty" or "published"
    host: str
    key: Key
    status: int


def free_port() -> int:
    """A TCP port free on the first site address right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.1.0.1", 0))
        return int(sock.getsockname()[1])


class LocalWeb:
    """The benchmark's sites, served on loopback (see the module docstring)."""

    def __init__(self, sites: Sequence[Site], now: datetime | None = None) -> None:
        self.sites = {s.host: s for s in sites}
        # Each page at its address, and where it says it lives when nothing else is there.
        self.pages: dict[str, dict[Key, ServedPage]] = {}
        for site in sites:
            pages = self.pages[site.host] = {p.key: p for p in site.pages}
            for page in site.pages:
                for address in page.declared:
                    pages.setdefault(address, page)
        self.now = now or datetime.now(UTC).replace(microsecond=0)
        self.published = False
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._listeners = Listeners("quality-web", threading.Event())

    def start(self) -> None:
        """Listen on every site's address and port (OSError when one is taken)."""
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                address = self.server.server_address
                host = str(address[0]) if isinstance(address, tuple) else ""
                status, ctype, body = web.answer(host, self.path)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        servers: list[Server] = []
        try:
            for host, site in self.sites.items():
                servers.append(Server((host, site.port), Handler))
        except OSError:
            for server in servers:
                server.server_close()
            raise
        self._listeners.start(servers)

    def stop(self) -> None:
        """Stop listening."""
        self._listeners.stop()

    def describe(self, host: str, wanted: Key) -> str:
        """What an address serves: ``page``, ``home``, ``feed``, ``listing: anchor``, ``-``."""
        site = self.sites.get(host)
        if site is None:
            return "-"
        if wanted in self.pages[host]:
            return "page"
        if wanted in site.listings:
            return f"listing: {site.listings[wanted]}"
        if wanted in site.older:
            return f"older: {site.older[wanted][1]}"
        special: dict[Key, str] = {("/", ()): "home", (FEED_PATH, ()): "feed"}
        return special.get(wanted, "-")

    def answer(self, host: str, target: str) -> tuple[int, str, bytes]:
        """Status, content type and body for a request of ``target`` on ``host``."""
        path, _, query = target.partition("?")
        path = path.split("#", 1)[0]
        wanted = key(path, query)
        site = self.sites.get(host)
        status, ctype, body = 404, "text/plain", b"not found\n"
        if site is not None:
            page = self.pages[host].get(wanted)
            if page is not None:
                status, ctype, body = 200, "text/html", page.html
            elif wanted == ("/", ()):
                status, ctype, body = 200, "text/html; charset=utf-8", render_home(
                    site, self.published)
            elif wanted == (FEED_PATH, ()):
                status, ctype, body = 200, "application/rss+xml", render_feed(
                    site, self.published, self.now)
            elif wanted in site.older:
                status, ctype, body = 200, "text/html; charset=utf-8", render_home(
                    site, self.published, site.older[wanted][1], story=True)
            elif wanted in site.listings:
                status, ctype, body = 200, "text/html; charset=utf-8", render_home(
                    site, self.published, site.listings[wanted])
        with self._lock:
            self.requests.append(
                Request("published" if self.published else "empty", host, wanted, status))
        return status, ctype, body
