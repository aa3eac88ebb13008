"""What a link's anchor says: a headline, a navigation label, or nothing either way.

A link's *anchor text* is its own text; a link that wraps a teaser card (heading, summary,
picture) is read by its heading; an image link by its image's ``alt`` / ``title`` (or the
link's ``title``; an image map's ``<area>`` by its ``alt``). Then:

- **navigation**: pagination and listing labels (``Next »``, ``Page 2``, ``Older``, ``All
  news``, ``View all``, ``More news``), service labels (``Log in``, ``Subscribe``), a bare
  number, a byline (``By Jane Doe and John Smith, staff writers``);
- **headline**: several words, mostly letters, sentence-like — at least 4 words and 20
  characters, or 3 words and 24 characters; in scripts written without spaces (Chinese,
  Japanese) at least 8 such characters; not a listing label (``…一覧``, ``更多…``);
- **weak**: anything else (``World``, ``John Smith``, ``more…``, ``15 January 2008``).

A link *in a teaser's heading* sits inside ``<h1>``-``<h4>`` (three levels up at most),
wraps one, or has a class or ancestor class naming a headline or teaser (``headline``,
``teaser``, ``story-title``...). A teaser heading *has a summary* when the teaser around it
(the nearest ancestors, up to three levels, that hold no other heading) also holds at least
SUMMARY_CHARS characters of text outside links: a standfirst under a headline, which section,
tag and menu links do not have. A teaser heading is *in a teaser of its own* when its
nearest ancestor already holds no other heading and at most three links (a section's heading
over its list of links is not).
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import islice
from typing import Literal

import lxml.html

AnchorKind = Literal["headline", "weak", "navigation"]

#: Text outside links that makes a teaser heading's surroundings a summary.
SUMMARY_CHARS = 50

_HEADINGS = frozenset({"h1", "h2", "h3", "h4"})
_SPACE = re.compile(r"\s+")
_EDGE_MARKS = " \t\n\xa0»«\u203a\u2039→←|>·•-\u2013\u2014:*"
# fmt: off
_NAV_LABEL = re.compile(
    r"""^(?:
        next|previous|prev|older|newer|first|last|back|forward
      | (?:page|seite|página|pagina|страница|sayfa|strona)\s*\d+
      | suivante?|précédente?|weiter|zurück|vorherige|nächste|siguiente|anterior|successiva
      | precedente|następna|poprzednia|starsze|nowsze|далее|назад|следующая|предыдущая
      | selanjutnya|sebelumnya|volgende|vorige|seuraava|nästa|neste|次へ|前へ|下一页|上一页
      | \d+
      | (?:\d+\ )?(?:comments?|replies|reply|discuss|discussion|kommentare?|commentaires?
            |comentarios?|commenti|комментари[йяи])
      | (?:more|all|view\ all|see\ all|show\ all|browse|latest|other|further)
            \ (?:\S+\ ){0,3}(?:news|stories|articles|headlines|posts|releases|videos|photos
            |features|reviews|columns)
      | (?:more|all|view\ all|see\ all|show\ all|browse|latest|other|further)\ from\ .+
      | view\ all.*|see\ all.*|show\ all.*
      | (?:all|toute?s?|tous|alle|todas?|todos|tutte|tutti|все|wszystkie)
            \ (?:the\ |les\ |le\ |la\ )?
            (?:news|stories|articles|topics|sections|headlines|l'actualité|actualités|infos
            |nachrichten|schlagzeilen|meldungen|artikel|noticias|notizie|новости|материалы
            |wiadomości|artykuły)\b.*
      | archives?|home|homepage|front\ page|top|back\ to\ top|sitemap|rss|feeds?
      | log\ ?in|log\ ?out|sign\ ?in|sign\ ?up|sign\ ?out|register|subscribe|my\ account
      | newsletters?|contact(?:\ us)?|about(?:\ us)?|advertise.*|jobs|careers
      | weitere\ (?:nachrichten|artikel|meldungen)|alle\ (?:nachrichten|artikel|meldungen)
      | plus\ d'(?:actualités|articles)|toutes\ les\ actualités|ещё|еще|все\ новости
    )$""",
    re.I | re.X,
)
_BYLINE = re.compile(r"(?:By|BY)\s+[A-Z][\w.'-]*\s+[A-Z]")
_CJK_LISTING = ("一覧", "一览", "更多", "列表", "もっと見る", "more", "首页", "トップ")
#: Class words of a teaser's links that are not its heading: its kicker (topic pill,
#: category) and its byline; unless the same class says heading too ("post-title
#: tag-world": WordPress's).
_ASIDE_WORDS = frozenset({
    "kicker", "pill", "eyebrow", "overline", "tag", "tags", "topic", "topics", "category",
    "rubric", "byline", "author", "authors",
})
_HEADING_WORDS = frozenset({"title", "headline", "hed", "heading"})
_TEASER_WORDS = frozenset({
    "headline", "headlines", "hed", "teaser", "teasers", "title", "story", "stories", "card",
    "entry", "post", "article", "articles", "lead", "topstory",
})
# fmt: on
_CAMEL = re.compile(r"([a-z])([A-Z])")
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")


def _clean(text: str) -> str:
    return _SPACE.sub(" ", text).strip(_EDGE_MARKS)


def anchor_text(link: lxml.html.HtmlElement) -> str:
    """The text a link offers a reader: its heading, its own text, or its image's alt."""
    for heading in link.iter("h1", "h2", "h3", "h4", "h5"):
        text = _clean(heading.text_content())
        if text:
            return text
    text = _clean(link.text_content())
    if text:
        return text[:300]
    for image in link.iter("img"):
        text = _clean(image.get("alt") or image.get("title") or "")
        if text:
            return text
    return _clean(link.get("title") or link.get("alt") or link.get("aria-label") or "")


# Han ideographs, hiragana, katakana and hangul syllables: scripts written without spaces
# between words (hangul has them, but its syllables read like ideographs for length).
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


@lru_cache(maxsize=4096)
def anchor_kind(text: str) -> AnchorKind:
    """Whether an anchor text reads like a headline, a navigation label, or neither."""
    text = _clean(text)
    if not text or _NAV_LABEL.match(text.casefold()) or _BYLINE.match(text):
        return "navigation"
    chars = [c for c in text if not c.isspace()]
    letters = sum(1 for c in chars if c.isalpha())
    if letters < 0.6 * len(chars):
        return "weak"  # dates, scores, prices, "1 2 3"
    cjk = len(_CJK.findall(text))
    if cjk >= 0.5 * letters:
        if any(text.casefold().endswith(s) or text.startswith(s) for s in _CJK_LISTING):
            return "navigation"
        return "headline" if cjk >= 8 else "weak"
    words = [w for w in text.split() if any(c.isalpha() for c in w)]
    if (len(words) >= 4 and len(text) >= 20) or (len(words) == 3 and len(text) >= 24):
        return "headline"
    return "weak"


def class_words(element: lxml.html.HtmlElement) -> frozenset[str]:
    """The words of an element's class names and id (``site-nav__item mainMenu``: site, nav,
    item, main, menu)."""
    return _words_of(f"{element.get('class') or ''} {element.get('id') or ''}")


@lru_cache(maxsize=4096)
def _words_of(value: str) -> frozenset[str]:
    """The words of class names (or ids): split at case changes and non-alphanumerics
    (cached: a page's links share a few dozen class names)."""
    return frozenset(_WORD_SPLIT.split(_CAMEL.sub(r"\1 \2", value).lower())) - {""}


def in_heading(link: lxml.html.HtmlElement) -> bool:
    """Whether a link is a teaser's heading (inside or around <h1>-<h4>, or so classed)."""
    if any(True for _ in link.iter("h1", "h2", "h3", "h4")):
        return True
    card = None  # the outermost element so classed, two levels up at most
    for depth, element in enumerate([link, *islice(link.iterancestors(), 3)]):
        if element.tag in ("body", "html"):
            break
        if element.tag in _HEADINGS:
            return True
        if class_words(element) & _TEASER_WORDS and depth <= 2:
            card = element
    return card is not None and _card_heading(link, card)


def _card_heading(link: lxml.html.HtmlElement, card: lxml.html.HtmlElement) -> bool:
    """Whether ``link`` is the heading of the teaser ``card`` (so classed): not when the card
    has a heading element the link is not in, nor when the link, or what holds it in the
    card, is classed as the card's kicker or byline and not as a title ("Ukraine war", "By
    Jane Smith": section and author pages were followed as teasers with a summary, stored
    as articles, alerted; a review)."""
    if any(True for _ in card.iter(*_HEADINGS)):
        return False  # the link is in no heading (in_heading looked at its ancestors)
    for element in [link, *link.iterancestors()]:
        if element is card:
            return True
        words = _words_of(element.get("class") or "")
        if words & _ASIDE_WORDS and not words & _HEADING_WORDS:
            return False
    return True


def names_page(text: str, url_path: str) -> bool:
    """Whether a short anchor only repeats a segment of the URL's path: the link
    names a topic, tag, person or section page (``Leeds United`` → ``/teams/leeds-united``,
    ``Asian Cup 2019`` → ``/chu-de/asian-cup-2019-1234``, ``Counties`` →
    ``/counties/1107872-1107872-14rqq8a/index.html``)."""
    words = re.findall(r"\w+", text.casefold())
    if not 0 < len(words) <= 3:
        return False
    for segment in url_path.strip("/").split("/"):
        slug = re.findall(r"[^\W_]+", segment.split(".", 1)[0].casefold())
        if slug and slug[-1].isdigit() and slug[-1] not in words:
            slug = slug[:-1]  # /topics/asian-cup-2019-1234: the topic's id
        if slug == words:
            return True
    return False


def _teaser_box(link: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The teaser around a heading link: the largest of the heading's nearest ancestors (up
    to three levels) that holds no other heading and at most three links; None when even the
    nearest holds more (a section's heading over its list of links)."""
    start = link
    for depth, element in enumerate(link.iterancestors()):
        if depth > 2 or not isinstance(element.tag, str) or element.tag in ("body", "html"):
            break
        if element.tag in _HEADINGS:
            start = element
            break
    box = None
    for depth, element in enumerate(start.iterancestors()):
        if depth > 2 or not isinstance(element.tag, str) or element.tag in ("body", "html"):
            break
        # (Counted no further than the limits: a list of 50,000 teasers holds each of them.)
        if sum(1 for _ in islice(element.iter("h1", "h2", "h3", "h4"), 2)) > 1:
            break
        if sum(1 for _ in islice(element.iter("a"), 4)) > 3:
            break  # a list of links, not one teaser
        box = element
    return box


def in_teaser(link: lxml.html.HtmlElement) -> bool:
    """Whether a teaser heading link stands in a teaser of its own (see :func:`_teaser_box`)."""
    return _teaser_box(link) is not None


def has_summary(link: lxml.html.HtmlElement) -> bool:
    """Whether a teaser heading link has a summary beside it (see the module docstring)."""
    box = _teaser_box(link)
    if box is None:
        return False
    linked = sum(len(_clean(a.text_content())) for a in box.iter("a"))
    return len(_clean(box.text_content())) - linked >= SUMMARY_CHARS
