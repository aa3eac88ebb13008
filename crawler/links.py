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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import lxml.html

from storage.linkshapes import DROP_AFTER

from .anchors import anchor_kind, anchor_text, has_summary, in_heading, in_teaser, names_page
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
        names = _words(f"{element.get('class') or ''} {element.get('id') or ''}")
        if depth == 0:
            names -= _OWN_CLASS_WORDS
        if names & _CHROME_WORDS:
            return True
    return False


def _matcher(patterns: Sequence[str]) -> re.Pattern[str] | None:
    """One regex for ``*``-wildcard URL patterns (None when there are none)."""
    alternatives = [".*".join(map(re.escape, p.strip().split("*"))) for p in patterns if p]
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.S) if alternatives else None


def _signature(link: lxml.html.HtmlElement) -> tuple[str, ...]:
    """Where a link sits: the tags and first class names of its three nearest ancestors."""
    parts = []
    for element in [link, *link.iterancestors()][:4]:
        names = (element.get("class") or "").split()
        parts.append(f"{element.tag}.{names[0] if names else ''}")
    return tuple(parts)


@dataclass
class _Context:
    """What the scoring of one link knows of its page and site."""

    learned: Mapping[str, tuple[int, int]]
    teasers: set[tuple[str, ...]] = field(default_factory=set)
    menus: set[tuple[tuple[str, ...], str]] = field(default_factory=set)
    confident: dict[str, set[str]] = field(default_factory=dict)  # shape -> URLs
    # Where the page's sure article links sit (signature -> URLs): its main lists' slots.
    placed: dict[tuple[str, ...], set[str]] = field(default_factory=dict)


def _score_link(link: lxml.html.HtmlElement, url: str, context: _Context) -> tuple[int, list[str]]:
    """The score of a link that passed the chrome and navigation rules, with its reasons."""
    reasons: list[str] = []
    score = 0
    shape = link_shape(url)
    articles, others = context.learned.get(shape, (0, 0))
    heading = in_heading(link)
    card = heading and has_summary(link)
    if others >= BAD_SHAPE_AFTER and not articles and not card:
        return -99, [f"shape led to {others} non-articles"]
    text = anchor_text(link)
    kind = anchor_kind(text)
    signature = _signature(link)
    # A slot of the page's main list: a teaser heading placed as the page's sure articles are.
    slot = heading and bool(context.placed.get(signature, set()) - {url})
    if is_listing(url):
        score -= 3
        reasons.append("listing URL -3")
    elif is_word_path(url):
        if not card and not (heading and (kind == "headline" or slot) and in_teaser(link)):
            score -= 2
            reasons.append("section-like URL -2")
    elif is_article_shaped(url):
        score += 2
        reasons.append("article URL +2")
    if articles:
        score += 3
        reasons.append(f"shape led to {articles} article(s) +3")
    elif len(context.confident.get(shape, set()) - {url}) >= 2:
        score += 1
        reasons.append("shape of other article links of the page +1")
    if (
        kind != "headline"
        and not card
        and not has_item_id(url)  # medienmitteilungen.html?newsID=…: one of them
        and names_page(text, unquote(urlsplit(url).path))
    ):
        score -= 2
        reasons.append("anchor names the page -2")
    if kind == "headline":
        score += 2
        reasons.append("headline anchor +2")
    elif kind == "navigation":
        score -= 3
        reasons.append("navigation anchor -3")
    if heading:
        score += 1
        reasons.append("teaser heading +1")
    if card:
        score += 2
        reasons.append("teaser with a summary +2")
    if signature in context.teasers:
        score += 1
        reasons.append("teaser list +1")
    elif (signature, shape) in context.menus:
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
    base = base_url(doc, page_url)
    wanted, unwanted = _matcher(include), _matcher(exclude)
    itself = {canonicalize(page_url)}
    for element in doc.iter("link"):
        if "canonical" in (element.get("rel") or "").lower().split() and element.get("href"):
            canonical = web_url(element.get("href").strip(), base)
            if canonical is not None:
                itself.add(canonicalize(canonical))
    candidates: list[tuple[lxml.html.HtmlElement, str, str]] = []
    for link in doc.iter("a"):
        href = (link.get("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        absolute = web_url(href, base)
        if absolute is None:
            continue  # mailto:, javascript:, tel:, data: ...
        url = canonicalize(absolute)
        if url in itself or not same_site(url, page_url):
            continue
        if unwanted and (unwanted.fullmatch(url) or unwanted.fullmatch(absolute)):
            continue
        candidates.append((link, url, absolute))
    found: dict[str, None] = {}
    if wanted:
        for _link, url, absolute in candidates:
            if wanted.fullmatch(url) or wanted.fullmatch(absolute):
                found[url] = None
        return list(found)
    content = [
        (link, url)
        for link, url, _ in candidates
        if not _in_chrome(link)
        and (
            not is_navigation(url)
            or (is_filed_article(url) and in_heading(link) and has_summary(link))
        )
    ]
    context = _Context(learned or {}, *_lists(content))
    for _pass in range(2):  # the second pass knows the shapes of the page's sure articles
        scores: dict[str, int] = {}
        placed: dict[tuple[str, ...], set[str]] = {}
        for link, url in content:
            score, reasons = _score_link(link, url, context)
            if score > scores.get(url, -100):
                scores[url] = score
            if score >= SURE_SCORE and not _pass:
                placed.setdefault(_signature(link), set()).add(url)
            if _pass:
                logger.debug("%s: %d (%s)", url, score, ", ".join(reasons))
        if not _pass:
            context.placed = placed
        for url, score in scores.items():
            if score >= SURE_SCORE:
                context.confident.setdefault(link_shape(url), set()).add(url)
    # Page order of first appearance; a URL counts when its best link scores enough.
    for _link, url in content:
        if scores[url] >= KEEP_SCORE:
            found[url] = None
    logger.debug("%d article links on %s", len(found), page_url)
    return list(found)


def _lists(
    content: list[tuple[lxml.html.HtmlElement, str]],
) -> tuple[set[tuple[str, ...]], set[tuple[tuple[str, ...], str]]]:
    """Signatures of repeated teaser lists (3+ links, most with headline anchors), and the
    (signature, URL shape) of menus: 4+ links side by side with 4+ different anchors, three
    in four of them short labels, leading to URLs of one shape."""
    grouped: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    for link, url in content:
        grouped.setdefault(_signature(link), []).append((anchor_text(link), link_shape(url)))
    teasers, menus = set(), set()
    for signature, items in grouped.items():
        texts = [text for text, _shape in items]
        headlines = sum(anchor_kind(t) == "headline" for t in texts)
        if len(items) >= 3 and headlines * 2 > len(items):
            teasers.add(signature)
        for shape in {shape for _text, shape in items}:
            labels = [text for text, other in items if other == shape]
            short = sum(anchor_kind(t) != "headline" and len(t.split()) <= 3 for t in labels)
            if len(set(labels)) >= 4 and short * 4 >= len(labels) * 3:
                menus.add((signature, shape))
    return teasers, menus
