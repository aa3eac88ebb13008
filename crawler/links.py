"""Article links of a page without a feed: which links of a home or section page lead to
articles of the same site.

Every link is resolved (against ``<base href>``), must be http(s) on the page's own site
(same host, ignoring ``www.``), is canonicalized, and is returned once, in page order; the
page itself (and its declared canonical URL) is never returned. Then, without ``include``,
a heuristic decides:

1. Page chrome is skipped: links inside ``<nav>``, ``<aside>`` or an element with role
   navigation/complementary; inside a ``<header>``/``<footer>`` (role banner/contentinfo)
   that is not within an ``<article>`` (a teaser's own header is content); inside an
   element (or on a link) whose class or id names a menu, nav, breadcrumb, pagination/pager,
   social/share widget, login/sign-in/account, subscribe/newsletter or cookie banner; and
   links with ``rel`` tag, author, prev, next, nav, search or feed.
2. Navigation URLs are skipped: the home page (``/``, ``/index.html``...); a path segment
   that names a listing or service page (tag(s), topic(s), author(s), category, section,
   search, login, signin, register, account, subscribe, newsletter, about, contact, privacy,
   terms, feed, rss...); pagination (``/page/2``, ``?page=2``, ``?paged=2``...) and search
   queries (``?s=``, ``?q=``); static files and feeds by extension (.jpg .png .css .js .pdf
   .xml .rss ...).
3. What is left must look like an article: a date in the path followed by a slug or id
   (``/2026/11/25/slug``, ``/2026/nov/25/slug``); a run of at least 5 digits in a segment
   (``/news/world-67512345``, ``/a/123456.html``) or a numeric ``id``/``p``/``story`` query
   parameter; a last segment that is a slug of at least 3 hyphen-separated words (two of
   them with letters); or at least 2 segments with a last one of 20 characters or more.

``include`` / ``exclude`` are URL patterns where only ``*`` is special (any characters,
``/`` included), matched case-sensitively against the whole canonical URL or the absolute
URL as written. With ``include``, a link is kept if and only if it matches an include
pattern: the heuristic no longer decides (the same-site rule still applies). ``exclude``
always removes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from itertools import pairwise
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit

import lxml.html

from .discover import base_url, parse_html
from .urls import canonicalize, same_site

logger = logging.getLogger(__name__)

_CHROME_TAGS = frozenset({"nav", "aside"})
_CHROME_ROLES = frozenset({"navigation", "complementary", "search"})
_EDGE_TAGS = frozenset({"header", "footer"})  # chrome unless inside an <article>
_EDGE_ROLES = frozenset({"banner", "contentinfo"})
# Word lists read better packed than one per line.
# fmt: off
_CHROME_WORDS = frozenset({
    "menu", "menus", "nav", "navbar", "navigation", "breadcrumb", "breadcrumbs", "pagination",
    "pager", "paging", "social", "share", "sharing", "login", "signin", "signup", "account",
    "subscribe", "newsletter", "cookie", "cookies", "consent", "skip",
})
_CHROME_RELS = frozenset({"tag", "author", "prev", "next", "nav", "search", "feed"})
_NAV_SEGMENTS = frozenset({
    "tag", "tags", "topic", "topics", "author", "authors", "category", "categories",
    "section", "sections", "search", "login", "logout", "signin", "sign-in", "signup",
    "sign-up", "register", "account", "my-account", "subscribe", "subscriptions",
    "newsletter", "newsletters", "about", "about-us", "contact", "contact-us", "privacy",
    "privacy-policy", "terms", "terms-of-use", "terms-of-service", "cookies",
    "cookie-policy", "feed", "feeds", "rss", "atom", "profile", "user", "users", "wp-admin",
    "wp-login.php", "cdn-cgi",
})
_HOME_PATHS = frozenset({"", "/", "/index.html", "/index.htm", "/index.php", "/default.aspx"})
_STATIC_EXT = (
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".ico", ".css", ".js", ".pdf", ".xml",
    ".rss", ".atom", ".json", ".txt", ".zip", ".gz", ".mp3", ".mp4", ".webm", ".woff",
    ".woff2",
)
# fmt: on
_PAGE_EXT = re.compile(r"\.(?:html?|shtml|php|aspx?|jsp|ece|cms|story)$", re.I)
_PAGE_PARAMS = frozenset({"page", "paged", "pg", "pagenum", "start", "offset"})
_SEARCH_PARAMS = frozenset({"s", "q", "query", "search"})
_ID_PARAMS = frozenset({"id", "p", "story", "article", "articleid", "story_id", "newsid"})
_MONTH = r"(?:0?[1-9]|1[0-2]|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6})"
_DATE_PATH = re.compile(
    rf"/(?:19|20)\d{{2}}/{_MONTH}/(?:(?:0?[1-9]|[12]\d|3[01])/)?(?=[^/]*[^\W_])[^/]{{3,}}",
    re.I,
)
_LONG_NUMBER = re.compile(r"\d{5,}")
_CAMEL = re.compile(r"([a-z])([A-Z])")
_WORDS = re.compile(r"[^a-z0-9]+")


def _words(value: str) -> set[str]:
    """Words of a class/id attribute: ``site-nav__item mainMenu`` → site, nav, item, main..."""
    return set(_WORDS.split(_CAMEL.sub(r"\1 \2", value).lower())) - {""}


def _in_chrome(link: lxml.html.HtmlElement) -> bool:
    """Whether a link sits in page chrome (navigation, header, footer, widgets)."""
    if set((link.get("rel") or "").lower().split()) & _CHROME_RELS:
        return True
    ancestors = list(link.iterancestors())
    tags = [el.tag if isinstance(el.tag, str) else "" for el in ancestors]
    for depth, element in enumerate([link, *ancestors]):
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in ("body", "html"):
            break  # page-wide classes (``menu-open``, ``has-nav``) say nothing about a link
        role = (element.get("role") or "").lower()
        if tag in _CHROME_TAGS or role in _CHROME_ROLES:
            return True
        if (tag in _EDGE_TAGS or role in _EDGE_ROLES) and "article" not in tags[depth:]:
            return True
        names = f"{element.get('class') or ''} {element.get('id') or ''}"
        if _words(names) & _CHROME_WORDS:
            return True
    return False


def _is_navigation(url: str) -> bool:
    """Whether a same-site URL is a listing, service, pagination or static resource."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    query = {key.lower(): value for key, value in parse_qsl(parts.query)}
    if path.lower().endswith(_STATIC_EXT) or set(query) & (_PAGE_PARAMS | _SEARCH_PARAMS):
        return True
    if path in _HOME_PATHS and not query.keys() & _ID_PARAMS:
        return True
    segments = [s.lower() for s in path.split("/") if s]
    if any(s in _NAV_SEGMENTS for s in segments):
        return True
    return any(s == "page" and n.isdigit() for s, n in pairwise(segments))


def _is_article(url: str) -> bool:
    """Whether a URL looks like an article (date, numeric id, long slug)."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    if _DATE_PATH.search(path):
        return True
    segments = [_PAGE_EXT.sub("", s) for s in path.split("/") if s]
    if any(_LONG_NUMBER.search(s) for s in segments):
        return True
    query = dict(parse_qsl(parts.query))
    if any(k.lower() in _ID_PARAMS and v.isdigit() and len(v) >= 3 for k, v in query.items()):
        return True
    if not segments:
        return False
    last = segments[-1]
    words = [w for w in re.split(r"[-_+]+", last) if w]
    if len(words) >= 3 and sum(1 for w in words if re.search(r"[^\W\d_]", w)) >= 2:
        return True
    return len(segments) >= 2 and len(last) >= 20


def _matcher(patterns: Sequence[str]) -> re.Pattern[str] | None:
    """One regex for ``*``-wildcard URL patterns (None when there are none)."""
    alternatives = [".*".join(map(re.escape, p.strip().split("*"))) for p in patterns if p]
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.S) if alternatives else None


def article_links(
    html: str | bytes,
    page_url: str,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> list[str]:
    """Canonical URLs of the same-site article links of a page, in page order (see the module
    docstring for the heuristic and for ``include`` / ``exclude``)."""
    doc = parse_html(html)
    if doc is None:
        return []
    base = base_url(doc, page_url)
    wanted, unwanted = _matcher(include), _matcher(exclude)
    itself = {canonicalize(page_url)}
    for element in doc.iter("link"):
        if "canonical" in (element.get("rel") or "").lower().split() and element.get("href"):
            itself.add(canonicalize(urljoin(base, element.get("href").strip())))
    found: dict[str, None] = {}
    for link in doc.iter("a"):
        href = (link.get("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        absolute = urljoin(base, href)
        if urlsplit(absolute).scheme not in ("http", "https"):
            continue  # mailto:, javascript:, tel:, data: ...
        url = canonicalize(absolute)
        if url in found or url in itself or not same_site(url, page_url):
            continue
        if unwanted and (unwanted.fullmatch(url) or unwanted.fullmatch(absolute)):
            continue
        if wanted:
            keep = bool(wanted.fullmatch(url) or wanted.fullmatch(absolute))
        else:
            keep = not _in_chrome(link) and not _is_navigation(url) and _is_article(url)
        if keep:
            found[url] = None
    logger.debug("%d article links on %s", len(found), page_url)
    return list(found)
