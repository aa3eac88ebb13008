"""Article links of a page without a feed: which links of a home or section page lead to
articles of the same site.

Every link (``<a>``, an image map's ``<area>``; a script link by the address its script
opens, see ``_SCRIPT_STRING``) is resolved (against ``<base href>``), must be http(s) on the
page's own site (same host, ignoring ``www.``), is canonicalized, and is returned once, in
page order; the page itself (and its declared canonical URL) is never returned. Only the
page's first ``MAX_ANCHORS`` (5,000) links are read: the crawl follows its first 100 article
links, and an archive page of 50,000 links must not hold the crawl for seconds. Then, without
``include``, a heuristic decides:

1. Page chrome is skipped: links inside ``<nav>``, ``<aside>`` or an element with role
   navigation/complementary; inside a ``<header>``/``<footer>`` (role banner/contentinfo)
   that is not within an ``<article>`` (a teaser's own header is content); inside an
   element (or on a link) whose class or id names a menu, nav, breadcrumb, pagination/pager,
   social/share widget, login/sign-in/account, subscribe/newsletter, cookie banner, footer
   or sidebar (a link's own ``newsletter`` class aside: a newsletter's posts); and links
   with ``rel`` tag, author, prev, next, nav, search or feed.
2. Navigation URLs are skipped (crawler.shapes.is_navigation): the home page, a segment
   naming a service or listing (tag, topic, author, category, section, search, login...),
   pagination, search queries, static files and feeds — except, for a teaser heading with
   a summary (see below), an article filed under a topic (crawler.shapes.is_filed_article:
   ``/themen/klimaschutz/cop26-in-glasgow``).
3. Each remaining link gets a small score; it is an article link from ``KEEP_SCORE`` (2)
   up, and a URL counts with the best score of its links:

   ==================================================================  =====
   the anchor reads like a headline (crawler.anchors.anchor_kind),        +2
   including an image's alt / title or a teaser card's heading
   the URL has an article shape (date + slug, long number, numeric        +2
   id in the query, long slug: crawler.shapes.is_article_shaped)
   the site's links of this URL shape led to articles before (learnt)     +3
   ... else 2+ other links of this shape on the page score 4 or more      +1
   the link is a teaser's heading (in/around ``<h1>``-``<h4>``, or a      +1
   ``headline``/``teaser``/``story``... class)
   ... with a summary beside it (crawler.anchors.has_summary); then       +2
   neither the section-like URL nor the anchor naming the page counts
   the link is in a repeated teaser list (3+ links placed alike, most     +1
   with headline anchors)
   ... else a teaser heading placed as the page's sure articles are       +1
   (score 4+, the same tags and classes around it: a slot of the main
   list); then its word path is not taken for a section either, in a
   teaser of its own (not a section's heading over its list of links)
   the anchor is a navigation label (``Next »``, ``Page 2``, ``Log in``,  -3
   ``More news``, a byline)
   the link sits in a menu (4+ links placed alike, different short        -2
   labels, to URLs of one shape: ``/2008/01/15/02hdline.htm``...)
   a short anchor only names the page (``Leeds United`` →                -2
   ``/teams/leeds-united``; not with an article id in the query)
   the URL is a section-like word path (``/world/``, ``/news/politics``)  -2
   ... except for a headline (or a slot of the main list, above) in a
   teaser heading of its own (crawler.anchors.in_teaser: not a
   section's heading over its list of links)
   the URL has a listing shape (date archive, list script, listing        -3
   query, directory index: crawler.shapes.is_listing)
   ==================================================================  =====

   So a headline anchor in the page's main lists makes an article link whatever its URL
   looks like (``story.asp?j=242828700&p=1``, ``article.cfm?id=98``,
   ``index.ssf?/base/news-4/1199182521267330.xml``) unless the URL is a listing, and so
   does any anchor in a teaser slot of the list that holds the page's sure articles
   (``On naming things`` → ``/on-naming/``) unless it only names its page (a topic's card:
   ``Harbour`` → ``/harbour``); an article-shaped URL is enough without a telling anchor,
   but not in a menu or with a navigation label; a section, tag, author, login or
   pagination link has neither.

``learned`` is what the site's followed links turned out to be, per URL shape
(crawler.shapes.link_shape → (articles, non-articles), kept in storage.linkshapes): a shape
that led to articles adds to its links' score; a shape that led to ``BAD_SHAPE_AFTER`` (3)
or more non-articles and never to an article is no longer followed (storage forgets it 30
days after its last followed link, and its links are tried again) — except from a teaser
heading with a summary: sites give their service pages and their posts one URL shape
(``/impressum/``, ``/unstillbares-heimweh/``), and a page's teaser says more than the shape.

``include`` / ``exclude`` are URL patterns where only ``*`` is special (any characters,
``/`` included), matched case-sensitively against the whole canonical URL or the absolute
URL as written. With ``include``, a link is kept if and only if it matches an include
pattern: the heuristic no longer decides (the same-site rule still applies). ``exclude``
always removes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from urllib.parse import unquote, urlsplit

import lxml.html

from storage.linkshapes import DROP_AFTER

from .anchors import (
    AnchorKind,
    anchor_kind,
    anchor_text,
    class_words,
    has_summary,
    in_heading,
    in_teaser,
    names_page,
)
from .discover import base_url, parse_html
from .shapes import (
    has_item_id,
    is_article_shaped,
    is_filed_article,
    is_listing,
    is_navigation,
    is_word_path,
    link_shape,
)
from .urls import canonicalize, same_site, web_url

logger = logging.getLogger(__name__)

#: A link is an article link from this score up (see the module docstring).
KEEP_SCORE = 2
#: ... and a sure one from this score up: other links of its URL shape get the benefit.
SURE_SCORE = 4
#: A learnt shape that led to this many non-articles, and no article, is no longer followed.
BAD_SHAPE_AFTER = DROP_AFTER
#: Links read of one page, in page order: the largest real pages measured hold 2,200 (a
#: news home page some 500), a link read costs 30 to 120 us of the crawl's event loop (5,000:
#: under a second), and the crawl follows a page's first 100 article links
#: (crawler.spider.MAX_LINKS) anyway; an archive page of 50,000 links held the loop for
#: seconds at every poll.
MAX_ANCHORS = 5_000

_CHROME_TAGS = frozenset({"nav", "aside"})
_CHROME_ROLES = frozenset({"navigation", "complementary", "search"})
_EDGE_TAGS = frozenset({"header", "footer"})  # chrome unless inside an <article>
_EDGE_ROLES = frozenset({"banner", "contentinfo"})
# Word lists read better packed than one per line.
# fmt: off
_CHROME_WORDS = frozenset({
    "menu", "menus", "nav", "navbar", "navigation", "breadcrumb", "breadcrumbs", "pagination",
    "pager", "paging", "social", "share", "sharing", "login", "signin", "signup", "account",
    "subscribe", "newsletter", "cookie", "cookies", "consent", "skip", "footer", "sidebar",
})
# A link's own class naming a newsletter says what the link is from (a newsletter's posts).
_OWN_CLASS_WORDS = frozenset({"newsletter", "subscribe"})
_CHROME_RELS = frozenset({"tag", "author", "prev", "next", "nav", "search", "feed"})
# fmt: on
# A 2000s portal's headline opening in a pop-up window names its article in a script, as the
# script's first quoted string: ``javascript:popup('story.asp?id=4711')``,
# ``javascript:void(window.open('/cgi-bin/news.pl?n=17','story','width=500'))``, or an
# ``onclick="location.href='…'"`` on a link to ``#`` (an onclick that opens a window or a
# location: others count clicks, ``ga('send','event')``). Such a string is an address when
# it holds a path, a dot or a query and neither spaces nor commas: ``history.go(-1)`` opens
# none, and a window's features (``'width=500,height=400'``) are no address.
_SCRIPT_STRING = re.compile(r"""(['"])(.*?)\1""")
_OPENS = re.compile(r"open|location|popup", re.IGNORECASE)
_SCRIPT_ADDRESS = re.compile(r"""(?!javascript:)[^\s,'"<>]*[./?][^\s,'"<>]*""", re.IGNORECASE)


class _Chrome:
    """Which links of one page sit in page chrome (navigation, header, footer, widgets).

    A link is chrome for its ``rel``, its own tag, role, class or id, or those of an
    ancestor below ``<body>``; an ancestor's verdict is the same for every link it holds,
    so each element of the page is judged once (a page's thousands of links share a few
    hundred ancestors: walking them all again for each link was most of the page's time).
    """

    def __init__(self) -> None:
        # element -> whether it or an ancestor of it below <body> is chrome
        self._held: dict[lxml.html.HtmlElement, bool] = {}
        # element -> whether it is, or is inside, an <article>
        self._article: dict[lxml.html.HtmlElement, bool] = {}

    def __call__(self, link: lxml.html.HtmlElement) -> bool:
        """Whether ``link`` sits in page chrome."""
        if set((link.get("rel") or "").lower().split()) & _CHROME_RELS:
            return True
        if _tag(link) in ("body", "html"):
            return False  # page-wide classes (``menu-open``, ``has-nav``) say nothing
        return self._is_chrome(link, own=True) or self._in_chrome(link.getparent())

    def _in_chrome(self, element: lxml.html.HtmlElement | None) -> bool:
        """Whether ``element`` or an ancestor of it below ``<body>`` is chrome."""
        return _upwards(
            element, self._held, lambda e: self._is_chrome(e, own=False), ("body", "html")
        )

    def _is_chrome(self, element: lxml.html.HtmlElement, own: bool) -> bool:
        """Whether ``element`` itself is chrome (``own``: it is the link)."""
        tag = _tag(element)
        role = (element.get("role") or "").lower()
        if tag in _CHROME_TAGS or role in _CHROME_ROLES:
            return True
        if (tag in _EDGE_TAGS or role in _EDGE_ROLES) and not self._inside_article(
            element.getparent()
        ):
            return True
        names = class_words(element)
        if own:
            names -= _OWN_CLASS_WORDS
        return bool(names & _CHROME_WORDS)

    def _inside_article(self, element: lxml.html.HtmlElement | None) -> bool:
        """Whether ``element`` is, or is inside, an ``<article>``."""
        return _upwards(element, self._article, lambda e: _tag(e) == "article")


def _upwards(
    element: lxml.html.HtmlElement | None,
    verdicts: dict[lxml.html.HtmlElement, bool],
    judge: Callable[[lxml.html.HtmlElement], bool],
    stop: tuple[str, ...] = (),
) -> bool:
    """Whether ``judge`` holds for ``element`` or one of its ancestors (up to one tagged as
    in ``stop``); the answer for each element on the way is kept in ``verdicts``, so that
    the next walk stops at the first element already answered."""
    path = []  # the elements not answered yet, nearest first
    held = False
    while element is not None and _tag(element) not in stop:
        known = verdicts.get(element)
        if known is not None:
            held = known
            break
        path.append(element)
        element = element.getparent()
    for element in reversed(path):
        held = held or judge(element)
        verdicts[element] = held
    return held


def _tag(element: lxml.html.HtmlElement) -> str:
    return element.tag if isinstance(element.tag, str) else ""


def _matcher(patterns: Sequence[str]) -> re.Pattern[str] | None:
    """One regex for ``*``-wildcard URL patterns (None when there are none)."""
    alternatives = [".*".join(map(re.escape, p.strip().split("*"))) for p in patterns if p]
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.S) if alternatives else None


def _signature(link: lxml.html.HtmlElement) -> tuple[str, ...]:
    """Where a link sits: the tags and first class names of its three nearest ancestors."""
    parts = []
    for element in [link, *islice(link.iterancestors(), 3)]:
        names = (element.get("class") or "").split()
        parts.append(f"{element.tag}.{names[0] if names else ''}")
    return tuple(parts)


@dataclass(frozen=True)
class _Url:
    """What the scoring reads of a link's URL: its shape, and which URL rule applies."""

    shape: str
    form: str  # "listing", "word path", "article" or "" (the first of them that applies)
    item_id: bool  # the query carries an article id

    @classmethod
    def of(cls, url: str) -> _Url:
        """The facts of ``url`` (read once per URL of the page)."""
        if is_listing(url):
            form = "listing"
        elif is_word_path(url):
            form = "word path"
        elif is_article_shaped(url):
            form = "article"
        else:
            form = ""
        return cls(link_shape(url), form, has_item_id(url))


@dataclass(frozen=True)
class _Link:
    """A content link as both scoring passes read it (each read once: the anchor's text,
    the ancestor walks of the heading, summary and teaser rules, the URL's rules)."""

    url: str
    facts: _Url
    text: str
    kind: AnchorKind
    signature: tuple[str, ...]
    heading: bool
    card: bool  # a teaser heading with a summary
    teaser: bool  # a teaser heading in a teaser of its own, read for a word path only
    names_page: bool  # a short anchor that only names the page (not a headline, a card)

    @classmethod
    def of(cls, link: lxml.html.HtmlElement, url: str, facts: _Url) -> _Link:
        """What the scoring reads of ``link`` to ``url``."""
        text = anchor_text(link)
        kind = anchor_kind(text)
        heading = in_heading(link)
        card = heading and has_summary(link)
        return cls(
            url=url,
            facts=facts,
            text=text,
            kind=kind,
            signature=_signature(link),
            heading=heading,
            card=card,
            teaser=heading and not card and facts.form == "word path" and in_teaser(link),
            names_page=(
                kind != "headline"
                and not card
                and not facts.item_id  # medienmitteilungen.html?newsID=…: one of them
                and names_page(text, unquote(urlsplit(url).path))
            ),
        )


@dataclass
class _Context:
    """What the scoring of one link knows of its page and site."""

    learned: Mapping[str, tuple[int, int]]
    teasers: set[tuple[str, ...]] = field(default_factory=set)
    menus: set[tuple[tuple[str, ...], str]] = field(default_factory=set)
    confident: dict[str, set[str]] = field(default_factory=dict)  # shape -> URLs
    # Where the page's sure article links sit (signature -> URLs): its main lists' slots.
    placed: dict[tuple[str, ...], set[str]] = field(default_factory=dict)


def _others(urls: set[str] | None, url: str) -> int:
    """How many URLs of ``urls`` are not ``url`` (without copying a set per link)."""
    return len(urls) - (url in urls) if urls else 0


def _score_link(link: _Link, context: _Context) -> tuple[int, list[str]]:
    """The score of a link that passed the chrome and navigation rules, with its reasons."""
    reasons: list[str] = []
    score = 0
    url, shape, kind = link.url, link.facts.shape, link.kind
    articles, others = context.learned.get(shape, (0, 0))
    if others >= BAD_SHAPE_AFTER and not articles and not link.card:
        return -99, [f"shape led to {others} non-articles"]
    # A slot of the page's main list: a teaser heading placed as the page's sure articles are.
    slot = link.heading and _others(context.placed.get(link.signature), url) > 0
    if link.facts.form == "listing":
        score -= 3
        reasons.append("listing URL -3")
    elif link.facts.form == "word path":
        if not link.card and not (link.heading and (kind == "headline" or slot) and link.teaser):
            score -= 2
            reasons.append("section-like URL -2")
    elif link.facts.form == "article":
        score += 2
        reasons.append("article URL +2")
    if articles:
        score += 3
        reasons.append(f"shape led to {articles} article(s) +3")
    elif _others(context.confident.get(shape), url) >= 2:
        score += 1
        reasons.append("shape of other article links of the page +1")
    if link.names_page:
        score -= 2
        reasons.append("anchor names the page -2")
    if kind == "headline":
        score += 2
        reasons.append("headline anchor +2")
    elif kind == "navigation":
        score -= 3
        reasons.append("navigation anchor -3")
    if link.heading:
        score += 1
        reasons.append("teaser heading +1")
    if link.card:
        score += 2
        reasons.append("teaser with a summary +2")
    if link.signature in context.teasers:
        score += 1
        reasons.append("teaser list +1")
    elif (link.signature, shape) in context.menus:
        score -= 2
        reasons.append("menu -2")
    elif slot:
        score += 1
        reasons.append("placed as the page's sure articles +1")
    return score, reasons


def article_links(
    html: str | bytes,
    page_url: str,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    learned: Mapping[str, tuple[int, int]] | None = None,
) -> list[str]:
    """Canonical URLs of the same-site article links of a page, in page order (see the module
    docstring for the heuristic, ``include`` / ``exclude`` and ``learned``)."""
    doc = parse_html(html)
    if doc is None:
        return []
    return article_links_of(doc, page_url, include, exclude, learned)


def article_links_of(
    doc: lxml.html.HtmlElement,
    page_url: str,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    learned: Mapping[str, tuple[int, int]] | None = None,
) -> list[str]:
    """:func:`article_links` of a page already parsed."""
    base = base_url(doc, page_url)
    wanted, unwanted = _matcher(include), _matcher(exclude)
    itself = {canonicalize(page_url)}
    for element in doc.iter("link"):
        if "canonical" in (element.get("rel") or "").lower().split() and element.get("href"):
            canonical = web_url(element.get("href").strip(), base)
            if canonical is not None:
                itself.add(canonicalize(canonical))
    # A page links to one address several times (picture, headline, "more"): each href is
    # resolved and checked once, to (canonical URL, absolute URL), or None when left out.
    resolved: dict[str, tuple[str, str] | None] = {}
    candidates: list[tuple[lxml.html.HtmlElement, str, str]] = []
    anchors = doc.iter("a", "area")
    for link in islice(anchors, MAX_ANCHORS):
        href = (link.get("href") or "").strip()
        if not href or href.startswith("#") or href[:11].lower() == "javascript:":
            href = _script_target(link, href)
            if not href:
                continue
        if href not in resolved:
            resolved[href] = _resolve(href, base, page_url, itself, unwanted)
        if (hit := resolved[href]) is not None:
            candidates.append((link, *hit))
    if next(anchors, None) is not None:
        logger.info("%s: only its first %d links were read", page_url, MAX_ANCHORS)
    found: dict[str, None] = {}
    if wanted:
        for _link, url, absolute in candidates:
            if wanted.fullmatch(url) or wanted.fullmatch(absolute):
                found[url] = None
        return list(found)
    in_chrome = _Chrome()
    facts: dict[str, _Url] = {}
    content: list[_Link] = []
    for link, url, _ in candidates:
        if in_chrome(link) or (
            is_navigation(url)
            and not (is_filed_article(url) and in_heading(link) and has_summary(link))
        ):
            continue
        if url not in facts:
            facts[url] = _Url.of(url)
        content.append(_Link.of(link, url, facts[url]))
    context = _Context(learned or {}, *_lists(content))
    debug = logger.isEnabledFor(logging.DEBUG)
    for _pass in range(2):  # the second pass knows the shapes of the page's sure articles
        scores: dict[str, int] = {}
        placed: dict[tuple[str, ...], set[str]] = {}
        for item in content:
            score, reasons = _score_link(item, context)
            if score > scores.get(item.url, -100):
                scores[item.url] = score
            if score >= SURE_SCORE and not _pass:
                placed.setdefault(item.signature, set()).add(item.url)
            if _pass and debug:
                logger.debug("%s: %d (%s)", item.url, score, ", ".join(reasons))
        if not _pass:
            context.placed = placed
            for url, score in scores.items():
                if score >= SURE_SCORE:
                    context.confident.setdefault(facts[url].shape, set()).add(url)
    # Page order of first appearance; a URL counts when its best link scores enough.
    for item in content:
        if scores[item.url] >= KEEP_SCORE:
            found[item.url] = None
    logger.debug("%d article links on %s", len(found), page_url)
    return list(found)


#: Frames of a page read as part of it, nested ones included: a frameset's menu and headlines
#: and an iframe of the latest news are a few.
MAX_FRAMES = 4


def frame_sources(doc: lxml.html.HtmlElement, page_url: str) -> list[str]:
    """The addresses of a page's frames and iframes on its own site, in page order: a 2000s
    site's home page is a frameset whose frames hold its menu and its headlines (the page
    itself links to no article), or holds its latest news in an ``<iframe>``."""
    base = base_url(doc, page_url)
    itself = canonicalize(page_url)
    found: dict[str, None] = {}
    for frame in doc.iter("frame", "iframe"):
        url = web_url((frame.get("src") or "").strip(), base)
        if url is not None and canonicalize(url) != itself and same_site(url, page_url):
            found[url] = None
    return list(found)


def _script_target(link: lxml.html.HtmlElement, href: str) -> str:
    """The address a script link opens (its ``javascript:`` href's script, else its
    ``onclick``): the script's first quoted string where it reads as one; "" for none."""
    script = href[11:] if href[:11].lower() == "javascript:" else ""
    onclick = link.get("onclick") or ""
    for code in (script, onclick if _OPENS.search(onclick) else ""):
        quoted = _SCRIPT_STRING.search(code)
        if quoted is not None and _SCRIPT_ADDRESS.fullmatch(quoted.group(2)):
            return quoted.group(2)
    return ""


def _resolve(
    href: str,
    base: str,
    page_url: str,
    itself: set[str],
    unwanted: re.Pattern[str] | None,
) -> tuple[str, str] | None:
    """A link's canonical and absolute URL; None for no web address, the page itself, another
    site's page or an excluded one."""
    absolute = web_url(href, base)
    if absolute is None:
        return None  # mailto:, javascript:, tel:, data: ...
    url = canonicalize(absolute)
    if url in itself or not same_site(url, page_url):
        return None
    if unwanted and (unwanted.fullmatch(url) or unwanted.fullmatch(absolute)):
        return None
    return url, absolute


def _lists(
    content: list[_Link],
) -> tuple[set[tuple[str, ...]], set[tuple[tuple[str, ...], str]]]:
    """Signatures of repeated teaser lists (3+ links, most with headline anchors), and the
    (signature, URL shape) of menus: 4+ links side by side with 4+ different anchors, three
    in four of them short labels, leading to URLs of one shape."""
    grouped: dict[tuple[str, ...], list[_Link]] = {}
    for link in content:
        grouped.setdefault(link.signature, []).append(link)
    teasers, menus = set(), set()
    for signature, links in grouped.items():
        headlines = sum(link.kind == "headline" for link in links)
        if len(links) >= 3 and headlines * 2 > len(links):
            teasers.add(signature)
        by_shape: dict[str, list[_Link]] = {}
        for link in links:
            by_shape.setdefault(link.facts.shape, []).append(link)
        for shape, labels in by_shape.items():
            short = sum(link.kind != "headline" and len(link.text.split()) <= 3 for link in labels)
            if len({link.text for link in labels}) >= 4 and short * 4 >= len(labels) * 3:
                menus.add((signature, shape))
    return teasers, menus
