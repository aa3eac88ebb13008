"""Article pages of realistic weight for the crawl-cycle benchmark: a real article text inside
more than 50 KB of page chrome (head metadata and styles, scripts and a JSON state blob, a
mega-menu, share buttons, an in-text "read also" box, related and most-read lists, reader
comments, a cookie banner and a footer), the way a news site of today serves it.

The article texts are real: the whole labelled bodies of fundus' test pages (see
:mod:`benchmarks.corpora`), read at run time from the repository snapshot and never kept
here. The few hundred of them are reused across thousands of pages, so each use is lightly
varied (a seeded share of its words swapped for other words of the same text, its paragraphs
kept in order): the pages stay real text in its own language while no two are
near-duplicates to the story clustering (5-word shingles). Without the snapshot, the
benchmark's generated articles (:mod:`benchmarks.corpus`) stand in, and the run says so.

Each site (an index) has its own template: its own class names, menu, footer and script
sizes, drawn from a seed, so that a site's chrome repeats on its pages as on a real site.
"""

from __future__ import annotations

import html
import json
import random
import re
from dataclasses import dataclass
from functools import lru_cache

from .corpus import ArticleGenerator

#: The least chrome (bytes of page outside the article's paragraphs) of every page.
MIN_CHROME = 50_000
#: The share of a reused text's words swapped for others of the same text.
SWAP_SHARE = 0.2
#: Variants of a site's related lists and comment threads.
VARIANTS = 8
MIN_BODY_CHARS = 1_500

_SECTIONS = ["World", "Politics", "Business", "Markets", "Technology", "Science", "Health",
             "Climate", "Sport", "Culture", "Books", "Travel", "Opinion", "Video", "Podcasts",
             "Education", "Media", "Lifestyle", "Food", "Weather"]
_SUBSECTIONS = ["Europe", "Americas", "Asia", "Africa", "Middle East", "Analysis", "Live",
                "Explained", "In pictures", "Newsletters", "Data", "Interviews", "Reviews",
                "Local", "Briefing", "Obituaries", "Letters", "Corrections"]
_LANGS = {"us": "en", "uk": "en", "ca": "en", "za": "en", "au": "en", "in": "en", "ie": "en",
          "nz": "en", "ng": "en", "at": "de", "ch": "de", "lu": "fr", "be": "fr", "mx": "es",
          "ar": "es", "co": "es", "cl": "es", "br": "pt"}
_WORDS = ["load", "config", "banner", "track", "event", "user", "session", "consent", "layer",
          "render", "widget", "slot", "lazy", "image", "video", "player", "metric", "beacon",
          "queue", "module", "init", "ready", "state", "page", "view", "scroll", "depth",
          "share", "social", "ad", "unit", "refresh", "bid", "timeout", "region", "locale"]


@dataclass(frozen=True)
class Text:
    """An article text: a title and its paragraphs."""

    title: str
    paragraphs: tuple[str, ...]
    lang: str


@lru_cache(maxsize=1)
def real_texts() -> tuple[Text, ...]:
    """The whole labelled article bodies of fundus' test pages (at least MIN_BODY_CHARS),
    or () when the snapshot is not on this machine."""
    from .corpora import _FUNDUS_DATA, CorpusMissing, _tree, fundus_body
    from .corpora import MIRROR as mirror

    texts: list[Text] = []
    try:
        with _tree(mirror, "fundus") as tree:
            for path in tree.names(_FUNDUS_DATA):
                if not path.endswith(".json"):
                    continue
                country = path.split("/")[-2].lower()
                lang = _LANGS.get(country, country)
                for _, version in sorted(json.loads(tree.read(path)).items()):
                    body = fundus_body(version)
                    title = str(version.get("title") or "").strip()
                    if len(body) >= MIN_BODY_CHARS and title:
                        texts.append(Text(title, tuple(body.splitlines()), lang))
    except (CorpusMissing, FileNotFoundError, OSError):
        return ()
    return tuple(texts)


class TextSource:
    """Article texts for pages: real ones varied per use, else generated ones."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.texts = real_texts()
        self.real = bool(self.texts)
        self._generator = None if self.real else ArticleGenerator(seed)
        self.count = 0

    def next(self) -> Text:
        """The next text (real texts in turn, each use varied)."""
        self.count += 1
        if self._generator is not None:
            article = self._generator.article()
            return Text(article.title, tuple(article.text.split("\n\n")), "en")
        text = self.texts[(self.count - 1) % len(self.texts)]
        if self.count <= len(self.texts):
            return text
        return vary(text, self.rng)


def vary(text: Text, rng: random.Random) -> Text:
    """``text`` with SWAP_SHARE of its words swapped for other words of the same text."""
    words = [w for p in text.paragraphs for w in p.split()]
    out = []
    for paragraph in text.paragraphs:
        swapped = [rng.choice(words) if rng.random() < SWAP_SHARE else w
                   for w in paragraph.split()]
        out.append(" ".join(swapped))
    title = text.title.split()
    title = [rng.choice(words) if rng.random() < SWAP_SHARE else w for w in title]
    return Text(" ".join(title), tuple(out), text.lang)


class SiteTemplate:
    """One site's chrome: drawn from the site's index, the same on all its pages."""

    def __init__(self, index: int, teasers: list[str], comments: list[str]) -> None:
        rng = random.Random(1_000_003 * (index + 1))
        self.rng = rng
        self.name = f"The {rng.choice(['Daily', 'Evening', 'Morning', 'Weekly'])} " \
                    f"{rng.choice(['Courier', 'Herald', 'Tribune', 'Post', 'Observer'])} {index}"
        p = f"{rng.choice(['c', 'nw', 'x', 'site', 'ui'])}{index % 97}"
        self.p = p
        self.teasers = teasers
        menu = []
        for section in rng.sample(_SECTIONS, k=len(_SECTIONS)):
            slug = section.lower().replace(" ", "-")
            subs = "".join(
                f'<li class="{p}-menu__sub"><a href="/{slug}/{s.lower().replace(" ", "-")}" '
                f'data-track="menu-{slug}-{i}">{s}</a></li>'
                for i, s in enumerate(rng.sample(_SUBSECTIONS, k=rng.randint(8, 14))))
            menu.append(f'<li class="{p}-menu__item"><a class="{p}-menu__link" '
                        f'href="/{slug}">{section}</a><ul class="{p}-menu__subs">{subs}</ul></li>')
        self.head = (
            f'<link rel="stylesheet" href="/static/{p}.css"><style>'
            + "".join(f".{p}-{w}{{margin:{i % 7}px;padding:{i % 5}px;display:flex;"
                      f"color:#{(i * 4099) % 0xFFFFFF:06x}}}"
                      for i, w in enumerate(_WORDS * 3))
            + "</style>"
        )
        state = {"menu": [[s, rng.sample(_SUBSECTIONS, k=6)] for s in _SECTIONS],
                 "ab": {w: rng.random() for w in _WORDS},
                 "slots": [{"id": f"{p}-slot-{i}", "sizes": [[300, 250], [728, 90]],
                            "targeting": {"sec": rng.choice(_SECTIONS), "pos": i}}
                           for i in range(40)]}
        self.scripts = (
            '<script>window.dataLayer=window.dataLayer||[];'
            + "".join(f"function {w}{i}(a,b){{var c=a||{{}};c.{w}=b;"
                      f"return dataLayer.push({{event:'{w}',v:c}})}}"
                      for i, w in enumerate(_WORDS * 4))
            + "</script>"
            + f'<script id="__STATE__" type="application/json">{json.dumps(state)}</script>'
            + f'<script async src="/static/{p}-bundle.js"></script>'
        )
        self.header = (
            f'<header class="{p}-header"><a class="{p}-logo" href="/">{self.name}</a>'
            f'<nav class="{p}-menu" aria-label="Sections"><ul>{"".join(menu)}</ul></nav>'
            f'<form class="{p}-search" action="/search"><input name="q" placeholder="Search">'
            f'</form><a href="/subscribe" class="{p}-cta">Subscribe from 1 a month</a>'
            f'<a href="/login">Sign in</a></header>'
        )
        footer_links = "".join(
            f'<li><a href="/{s.lower().replace(" ", "-")}">{s}</a></li>'
            for s in _SECTIONS + _SUBSECTIONS)
        self.footer = (
            f'<footer class="{p}-footer"><ul>{footer_links}</ul>'
            f'<p>© 2026 {self.name}. All rights reserved. Registered in England No. '
            f'{rng.randint(100000, 999999)}.</p><ul><li><a href="/terms">Terms</a></li>'
            f'<li><a href="/privacy">Privacy policy</a></li><li><a href="/cookies">Cookie '
            f'settings</a></li><li><a href="/contact">Contact us</a></li></ul></footer>'
            f'<div class="{p}-consent" role="dialog"><p>We and our 842 partners use cookies '
            f'and similar technologies to store and access information on your device, for '
            f'personalised advertising and content, measurement and audience research.</p>'
            f'<button>Accept all</button><button>Manage preferences</button></div>'
        )

        # Blocks that vary from page to page, drawn from a few variants rendered once (the
        # benchmark's server must not spend the crawler's CPU on rendering).
        self.variants = [
            (self.related(3, k * 5), self.related(12, k * 7 + 3), self.related(10, k * 3 + 31),
             self.comments(comments, k * 13))
            for k in range(VARIANTS)
        ]

    def comments(self, comments: list[str], offset: int) -> str:
        """A thread of 12 reader comments."""
        p, esc = self.p, html.escape
        return "".join(
            f'<li class="{p}-comment"><div class="{p}-comment__author">reader{(offset + i) % 997}'
            f'</div><time>{i + 1} hours ago</time><p>{esc(comments[(offset + i) % len(comments)])}'
            f'</p><button>Reply</button><button>Report</button><span>{(offset * i) % 57} likes'
            f'</span></li>'
            for i in range(12))

    def related(self, n: int, offset: int) -> str:
        """A list of ``n`` teasers starting at ``offset``."""
        items = []
        for i in range(n):
            title = self.teasers[(offset + i) % len(self.teasers)]
            items.append(
                f'<li class="{self.p}-card"><a href="/articles/teaser-{offset + i}">'
                f'<img src="/img/{offset + i}.jpg" alt="" loading="lazy" width="320" '
                f'height="180"><h3 class="{self.p}-card__title">{html.escape(title)}</h3></a>'
                f'<span class="{self.p}-card__meta">{_SECTIONS[(offset + i) % 20]} · '
                f'{(offset + i) % 23 + 1}h ago</span></li>')
        return "".join(items)


@lru_cache(maxsize=2048)
def _template(index: int, teasers: tuple[str, ...], comments: tuple[str, ...]) -> SiteTemplate:
    return SiteTemplate(index, list(teasers), list(comments))


def render(
    site: int, slug: str, text: Text, *, published_iso: str, author: str, canonical: str,
    teasers: tuple[str, ...], comments: tuple[str, ...],
) -> bytes:
    """The page of ``text`` on site ``site``."""
    tpl = _template(site, teasers, comments)
    p = tpl.p
    esc = html.escape
    seed = sum(map(ord, slug))
    readalso, related, mostread, thread = tpl.variants[seed % VARIANTS]
    paragraphs = [f'<p class="{p}-text">{esc(x, quote=False)}</p>' for x in text.paragraphs]
    box = (f'<aside class="{p}-readalso"><h4>Read also</h4><ul>{readalso}</ul>'
           f'</aside>')
    paragraphs.insert(min(3, len(paragraphs)), box)
    jsonld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle",
                         "headline": text.title, "datePublished": published_iso,
                         "author": {"@type": "Person", "name": author},
                         "mainEntityOfPage": canonical,
                         "publisher": {"@type": "Organization", "name": tpl.name}},
                        ensure_ascii=False).replace("</", "<\\/")
    page = (
        f'<!DOCTYPE html><html lang="{esc(text.lang)}"><head><meta charset="utf-8">'
        f'<title>{esc(text.title)} | {tpl.name}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="canonical" href="{esc(canonical)}">'
        f'<meta property="og:title" content="{esc(text.title)}">'
        f'<meta property="og:type" content="article">'
        f'<meta property="article:published_time" content="{published_iso}">'
        f'<meta name="author" content="{esc(author)}">'
        f'<script type="application/ld+json">{jsonld}</script>{tpl.head}</head>'
        f'<body class="{p}-article">{tpl.header}'
        f'<div class="{p}-breadcrumb"><a href="/">Home</a> &gt; <a href="/world">World</a></div>'
        f'<main class="{p}-main"><article class="{p}-story"><h1>{esc(text.title)}</h1>'
        f'<div class="{p}-byline">By <a rel="author" href="/authors/{seed % 50}">'
        f'{esc(author)}</a> <time datetime="{published_iso}">{published_iso[:10]}</time></div>'
        f'<ul class="{p}-share"><li><a href="/share/fb">Share on Facebook</a></li>'
        f'<li><a href="/share/x">Share on X</a></li><li><a href="/share/mail">Email</a></li>'
        f'</ul><figure><img src="/img/{slug}.jpg" alt="">'
        f'<figcaption>Photograph: agency</figcaption></figure>'
        f'<div class="{p}-body">{"".join(paragraphs)}</div>'
        f'<div class="{p}-newsletter"><h4>Get the morning briefing</h4><p>The news you need '
        f'to start your day, in your inbox every weekday.</p><button>Sign up</button></div>'
        f'</article><section class="{p}-related"><h2>More on this story</h2>'
        f'<ul>{related}</ul></section>'
        f'<section class="{p}-comments"><h2>Comments (12)</h2><ul>{thread}</ul></section>'
        f'</main><aside class="{p}-mostread"><h2>Most read</h2>'
        f'<ol>{mostread}</ol></aside>{tpl.footer}{tpl.scripts}'
    )
    chrome = len(page) - sum(len(x) for x in text.paragraphs)  # characters: at most bytes
    if chrome < MIN_CHROME:  # pad with more of the site's tracking code, as sites do
        calls = range((MIN_CHROME - chrome) // 12 + 1)
        page += "<script>" + "".join(f"/*{i}*/{_WORDS[i % len(_WORDS)]}{i}();" for i in calls)
        page += "</script>"
    return (page + "</body></html>").encode("utf-8")


def sentences(texts: tuple[Text, ...] | list[Text], limit: int) -> tuple[str, ...]:
    """Up to ``limit`` sentences of ``texts`` (reader comments and teasers are drawn from
    these)."""
    out: list[str] = []
    for text in texts:
        for paragraph in text.paragraphs:
            out.extend(s for s in re.split(r"(?<=[.!?])\s+", paragraph) if 30 <= len(s) <= 200)
            if len(out) >= limit:
                return tuple(out[:limit])
    return tuple(out)
