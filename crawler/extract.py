"""Article extraction: the main text of a news page, without its navigation, related links,
comments or footer (trafilatura).

A cascade that never keeps less than the page's article: trafilatura's fast mode first
(its default settings without the comparison with readability and jusText, which cost a
third of the default pass), then its default settings when what the fast pass found is short
for the page, then its recall mode when what the default pass found is short for the page.
"Short for the page" is judged from the page itself: the text of its paragraphs (``<p>``
elements of at least PARAGRAPH_CHARS characters), which an article's body is made of, and
for the fast pass also the page's text outside links. A pass whose
text is mostly the page's link texts found a list of links, not an article, and is not kept.
Thresholds measured with ``python -m benchmarks.extraction`` (docs/benchmarks.md).

A list of the page's whose items the kept pass left out where it kept the text around it
(trafilatura's fast and default passes leave the lists of an older page's article out when
no element of the page holds it) is put back, its items lines where the list stood.
Then, line by line (trafilatura writes one paragraph a line), lines that are mostly link
text (DROP_LINK_SHARE: "Read also: <a>another story</a>", a related story's headline) and
short photo credits and copyright lines (``© AFP / Name``, ``Foto: Name``, ``Crédits photos :
Agence``) are dropped: site chrome that single-page extraction keeps, whose words would
alert. So are the site's own prompts and notices (short lines that ask to subscribe, sign up
for a newsletter, support the site, get its app, join its channel, or declare an advertiser
or affiliate links, in the languages of the labelled pages), the headings of related-story
boxes ("Related", "Contenido relacionado", "Weitere Beiträge aus der Kolumne") and a "Read
also:" heading over dropped link lines. Then the page itself is asked where each remaining
line stands: a line whose element, or an ancestor smaller than the article, is named as
chrome (class or id words such as ``related``, ``teaser``, ``disclosure``, ``newsletter``,
``caption``, ``bio``) or is a link to another page (a teaser card's summary) is dropped,
unless the same line also stands outside such boxes or the boxes are most of the text (a
gallery whose captions are the story); boxes that are never the story (related stories, a
pop-up) go whatever their size unless they hold the text's first line, and so do boxes
named as chrome beside the body where the page marks it (``entry-content``: a blog's sidebar
widgets beside a short post). A short line in a small box around a picture, in italics or
small type or named as an image's box, is the picture's caption; italic lines after the
body (an author's bio, an editor's note, a teaser of another story) and lines in
look-alike letters (Latin words with Cyrillic letters: an advertiser's line hidden from
filters) go too. Each rule was kept only where
``python -m benchmarks.quality_offline`` (the quality benchmark's alerts on the extracted
texts) said it helps: alert precision up, recall as before (docs/benchmarks.md, "Quality").

One pass on almost every page: trafilatura's precision mode first (the cascade before) cost
2.2 times the default pass on the cycle benchmark's pages, and precision, then the default
pass's body-like paragraphs merged back, cost both; on ``python -m benchmarks.quality``'s
labelled pages the default pass with the line filters alerts as well as that merge (recall
equal) at .006 lower alert precision, and better than the precision cascade without the
filters on both (docs/benchmarks.md, "Quality").

The page is parsed once: every pass, the paragraph and link measures and the metadata read
the same tree (trafilatura works on its own copy of a tree it is given). What the chrome
rules read of its elements (text sizes, link texts, elements named as chrome, links away,
ledes) is measured in one walk of the tree (:class:`PageWalk`), not one walk a rule. The
metadata (title, author, date) is read once per page, by the steps of trafilatura's
``extract_metadata`` that give those three fields, without its categories, tags and
licence, which newswatch does not keep (a fifth of the extraction's CPU on the cycle
benchmark's pages).
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from copy import copy, deepcopy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from itertools import islice
from typing import Any
from urllib.parse import unquote, urlsplit

import trafilatura
import trafilatura.meta
from htmldate import find_date
from lxml import etree
from lxml.html import (
    HtmlComment,
    HtmlElement,
    HtmlEntity,
    HTMLParser,
    HtmlProcessingInstruction,
    fragment_fromstring,
    fromstring,
)
from trafilatura.metadata import (
    HTMLTITLE_REGEX,
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document, Extractor, set_date_params
from trafilatura.utils import (
    DOCTYPE_TAG,
    FAULTY_HTML,
    decode_file,
    is_dubious_html,
    line_processing,
    repair_faulty_html,
)

from storage.segment import UNSPACED

from .articlebody import completed, flight_markup
from .discover import declared_links
from .extracted import CONTAINER_SEP, Extracted, Method

__all__ = ["Extracted", "Method", "extract_article", "reset_caches"]

logger = logging.getLogger(__name__)

MIN_TEXT_CHARS = 40
#: A paragraph of the page counts towards its article text from this many characters.
PARAGRAPH_CHARS = 100
#: The default pass is enough when it holds at least this share of the page's paragraph
#: text; below, the recall pass is tried too and the longer text kept.
ENOUGH_OF_PARAGRAPHS = 0.3
#: The fast pass (trafilatura's default settings without its comparison with readability
#: and jusText, the costliest part of the default pass) is kept when its text is at least
#: FAST_MIN_CHARS long, FAST_ENOUGH of the page's paragraph text and FAST_OF_TEXT of the
#: page's text outside links (white space aside); else the default pass runs as before.
#: The comparison changes trafilatura's text where its own extraction is short (under its
#: MIN_EXTRACTED_SIZE, 250 characters, or under half what readability finds). On the
#: quality benchmark's 1,103 labelled pages, 826 keep the fast pass, of which 12 have
#: another text than the default pass's (docs/benchmarks.md, issue 12).
#: Nor is it kept when it is more than FAST_MOST of the paragraph text: trafilatura's fast
#: mode, where its own extraction comes out short, recovers the page's loose text with its
#: teaser blocks (other stories' summaries, whose words alerted on the quality benchmark's
#: pages), which the default pass leaves out.
FAST_MIN_CHARS = 250
FAST_ENOUGH = 0.5
FAST_OF_TEXT = 0.4
FAST_MOST = 1.3
#: A subheading's paragraph is looked for in a pass's text by its first this many characters.
SUBHEADING_PROBE = 60
#: Tables of data are kept (an article's facts, a recipe's ingredients, a comparison), each
#: cell on a line of its own (:func:`table_cells`). A table that lays out the page is read as
#: the blocks it holds (:func:`unwrap_layout_tables`): trafilatura writes a row as one line,
#: ``| cell | cell |``, which would put a table-laid page's navigation and its whole body on
#: one line, where neither the line filters nor the site's template memory
#: (watchlist.templates, line by line) could take them apart.
INCLUDE_TABLES = True
#: A table lays out the page when one of its cells holds a table, a heading, or at least this
#: many characters (white space aside): cells of data are short.
LAYOUT_CELL_CHARS = 400
_LAYOUT_TAGS = ("table", "h1", "h2", "h3")
_TABLE_PARTS = frozenset({"table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption"})
#: A later pass whose text is at least this share link text (lines that are the text of a
#: link of the page) found a list of links — a home, section or tag page — not an article.
#: On the labelled article pages the share is at most 0.37.
MAX_LINK_SHARE = 0.5
#: A line of the article text that is at least this share link text is dropped.
DROP_LINK_SHARE = 0.8
#: Anchors shorter than this (``1``, ``»``, ``PDF``) are not counted as a line's link text.
MIN_ANCHOR_CHARS = 4
#: A heading of a list of links has at most this many words.
HEADING_WORDS = 10
#: A photo credit or copyright line has at most this many words.
CREDIT_WORDS = 12
#: A caption followed by its credit (``… | © Agency``) has at most this many words.
CAPTION_WORDS = 25
_CREDIT = re.compile(
    r"©|\(c\)|^\W*(?:fotos?|fot|photos?|crédits?(?:\ photos?)?|credits?|copyright|bild(?:er)?"
    r"|quelle|source|image|imagen|getty\ images)\b\s*[:./]",
    re.I | re.X,
)


def paragraph_chars(tree: Any) -> int:
    """The page's paragraph text: the characters of its ``<p>`` elements that are at least
    PARAGRAPH_CHARS long (white space folded)."""
    total = 0
    for element in tree.iter("p"):
        size = len(_fold(_content(element)))
        if size >= PARAGRAPH_CHARS:
            total += size
    return total


def link_list(tree: Any) -> list[str]:
    """The text of each of the page's links, in order (white space folded)."""
    return [_fold(_content(a)) for a in tree.iter("a")]


def link_texts(tree: Any) -> set[str]:
    """The texts of the page's links (white space folded)."""
    return set(link_list(tree))


def unlinked_chars(tree: Any, walk: PageWalk | None = None) -> int:
    """The characters of the page's text outside its links, white space aside (``walk``:
    its :func:`walk_page`, when known)."""
    walk = walk_page(tree) if walk is None else walk
    return _outside_links(walk.page_chars(), walk.links.values())


def _outside_links(page_chars: int, anchors: Iterable[str]) -> int:
    """Of a page's ``page_chars`` characters (white space aside), those outside the texts of
    its links, ``anchors`` (white space folded)."""
    return page_chars - sum(len(anchor) - anchor.count(" ") for anchor in anchors)


def link_share(tree: Any, text: str, links: set[str] | None = None) -> float:
    """The share of ``text`` (in characters) on lines that are the text of a link of the
    page (``links``: the page's :func:`link_texts`, when already known)."""
    lines = [_fold_line(line) for line in text.split("\n")]
    total = sum(len(line) for line in lines)
    if not total:
        return 0.0
    anchors = link_texts(tree) if links is None else links
    return sum(len(line) for line in lines if line in anchors) / total


#: A line longer than this is first looked at for white space to fold (see :func:`_fold`).
FOLDED_PROBE = 40


def _fold(line: str) -> str:
    """``line`` with its white space folded: one space between words, none around them."""
    # A paragraph's or a line's text most often has no white space to fold (one space
    # between its words, its only white space: str.isprintable's one): that is seen in C,
    # where cutting it into words makes a string of each (a heavy page's lines, paragraphs
    # and links are folded 350 times). Short texts are cut at once: the look costs as much.
    if (len(line) > FOLDED_PROBE and line.isprintable() and "  " not in line
            and line[0] != " " and line[-1] != " "):
        return line
    return " ".join(line.split())


#: :func:`_fold` of a line of the article text, remembered: each line rule reads the text's
#: lines folded, and cutting a line into words costs about 15 ns a character (a line is
#: folded about seven times otherwise). Forgotten after each page (:func:`extract_article`).
_fold_line = lru_cache(maxsize=256)(_fold)


def _content(element: Any) -> str:
    """An element's ``text_content()``, read from the element itself when it has no children
    (its text is then all it holds: most links and paragraphs of a page)."""
    if len(element):
        content: str = element.text_content()
        return content
    return element.text or ""


def anchor_texts(tree: Any, links: set[str] | None = None) -> set[str]:
    """The texts of the page's links (white space folded), MIN_ANCHOR_CHARS or longer
    (``links``: the page's :func:`link_texts`, when already known)."""
    found = link_texts(tree) if links is None else links
    return {text for text in found if len(text) >= MIN_ANCHOR_CHARS}


def _words(folded: str) -> int:
    """The words of a line whose white space is folded (:func:`_fold`)."""
    return folded.count(" ") + 1 if folded else 0


def line_link_share(line: str, anchors: set[str]) -> float:
    """The share of a line (in characters) made of the page's link texts."""
    return _link_share(_fold(line), anchors)


def _link_share(folded: str, anchors: set[str]) -> float:
    if not folded:
        return 0.0
    return min(1.0, sum(len(a) for a in anchors if a in folded) / len(folded))


def is_credit(line: str) -> bool:
    """Whether a line is a photo credit or copyright notice (short, with © or a credit
    word in front: ``© AFP / Name``, ``Foto: Name``, ``Copyright: Name``)."""
    return _credit(_fold(line))


def _credit(folded: str) -> bool:
    words = _words(folded)
    if words <= CAPTION_WORDS and "|" in folded and "©" in folded:
        return True  # a caption with its credit: ``Logo of the award | © Publisher``
    return words <= CREDIT_WORDS and bool(_CREDIT.search(folded))


_RELATED_HEADING = re.compile(
    r"^\W*(?:related(?:\ (?:articles?|stories|posts|content|reading|news))?\W*$|more\ stories"
    r"|read\ (?:also|more)|see\ also|contenido\ relacionado|art[íi]culos\ relacionados"
    r"|noticias\ relacionadas|lee\ tambi[ée]n|te\ puede\ interesar|[àa]\ lire\ aussi"
    r"|sur\ le\ m[êe]me\ sujet|lesen\ sie\ auch|mehr\ zum\ thema|das\ k[öo]nnte\ sie"
    r"|weitere\ (?:artikel|beitr[äa]ge|themen|aktuelle\ themen|news|nachrichten)"
    r"|czytaj\ (?:te[żz]|tak[żz]e)|leia\ tamb[ée]m|leggi\ anche"
    r"|most\ (?:read|popular|commented|shared)\W*$|meist\ ?(?:gelesen|kommentiert)"
    r"|(?:meist\ ?)?(?:gelesene|kommentierte)\ (?:artikel|beitr[äa]ge)\W*$)\b",
    re.I | re.X,
)


def is_related_heading(line: str) -> bool:
    """Whether a line is the heading of a related-stories box ("Related", "Contenido
    relacionado", "Weitere Beiträge aus der Kolumne"): short, starting with such words."""
    return _related_heading(_fold(line))


def _related_heading(folded: str) -> bool:
    return _words(folded) <= HEADING_WORDS and bool(_RELATED_HEADING.search(folded))


def is_link_heading(line: str) -> bool:
    """Whether a line reads like the heading of a list of links ("Lesen Sie auch die
    folgenden Beiträge:", "Weitere Beiträge aus der Kolumne:"): short, ending in a colon.
    Dropped when link lines that are dropped follow it."""
    return _link_heading(_fold(line))


def _link_heading(folded: str) -> bool:
    return _words(folded) <= HEADING_WORDS and folded.endswith(":")


#: A site's own prompt (subscribe, sign up for the newsletter, support us, help us continue,
#: register now, get the app, listen to this article, turn on JavaScript, an advertiser's or
#: affiliate notice) has at most this many words. "Sponsored" is a prompt only in the line's
#: first sentence of at most eight words: the label ("Sponsored", "Sponsored by Acme
#: Insurance", "Autor: Ann Berg (Sponsored Post)") or a note on the sponsor ("Parallel
#: viewing is sponsored by Common English Bible."), not an article's sentence ("Panels that
#: are sponsored by various AHA bodies and thus guaranteed a place on the program"). "Help us
#: continue" and "help us keep" open a donation appeal's line ("Help us continue to spread
#: the magic of words to readers everywhere"), not a quote's ("The grant will help us
#: continue the dredging").
PROMPT_WORDS = 30
_PROMPT = re.compile(
    r"newsletter|\bsubscri(?:be|ption)|\bsign(?:ing)?\ up\b|abonnier|\babonnez|suscr[ií]b"
    r"|subskrypc|\bunterst[üu]tze?n?\ (?:sie\ )?(?:uns|unsere)|support\ (?:our|us)\b"
    r"|wesprzyj|apoya\ (?:a|nuestro)|soutenez|\baffiliate|\banzeige\b"
    r"|^(?=[^.!?]*\bsponsored\b)[^\s.!?]*(?:\ [^\s.!?]+){0,7}(?:[.!?]|$)"
    r"|\badvertisement\b|\badvertisers?\b|\badvertise\ with|download\ the\ .{0,40}\bapps?\b"
    r"|(?:follow|folg|join|[úu]nete|siga|s[íi]gue|channel|kanal|canal)\w*\b.{0,60}"
    r"\b(?:telegram|whatsapp)|(?:telegram|whatsapp)\b.{0,40}\b(?:channel|kanals?|canal|join)\b"
    r"|escucha\ esta\ nota|listen\ to\ this\ (?:article|story)|artikel\ anh[öo]ren"
    r"|hier\ klicken|click\ here|klicken\ sie\ hier|haz\ clic|cliquez\ ici"
    r"|acc[ée]der\ en\ illimit[ée]|acceso\ ilimitado|unlimited\ access|pour\ lire\ la\ suite"
    r"|(?:to\ )?continue\ reading\ (?:this|the)|jetzt\ weiterlesen|weiterlesen\ mit"
    r"|(?:suite|article|contenu)\ (?:est\ )?r[ée]serv[ée]e?\ aux\ abonn"
    r"|d[ée]j[àa]\ abonn[ée]e?\ ?\?|il\ vous\ reste\ [\d.,]+\ ?%\ de\ cet\ article"
    r"|(?:contenuto|articolo)\ (?:[èe]\ )?riservat[oa]\ agli\ abbonati"
    r"|abbonati\ per\ continuare|gi[àa]\ abbonat[oa]\ ?\?"
    r"|(?:^|artikel\ (?:ist\ )?)exklusiv\ f[üu]r\ abonnent|bereits\ abonnent(?:in)?\ ?\?"
    r"|unterst[üu]tze\ \w+\ (?:bereits|schon|jetzt|mit)|exklusive\ angebote|exclusive\ offers"
    r"|ofertas\ exclusivas|offres\ exclusives"
    r"|hazte\ (?:miembro|socio)|become\ a\ (?:member|subscriber|patron)|devenez\ membre"
    r"|^(?:please\ )?help\ us\ (?:continue|keep)\b"
    r"|\b(?:neu|jetzt|kostenlos)\ registrieren\b|\bregister\ (?:now|here|for\ free)\b"
    r"|^member-only\ story$"  # Medium's label above a story its members alone read whole
    r"|werden?\ sie\ (?:jetzt\ )?mitglied|werde\ (?:jetzt\ )?mitglied"
    r"|(?:verraten|schreib|sagt|let\ us\ know|tell\ us)\b.{0,40}\b(?:kommentar|comment)"
    r"|(?:lesen\ sie|findest\ du|finden\ sie|read\ more|learn\ more|find\ out\ more"
    r"|lee\ m[áa]s|en\ savoir\ plus)\b.{0,20}\b(?:hier|here|aqu[íi]|ici)\b"
    r"|\bcc[-\ ]by\b|all\ rights\ reserved|alle\ rechte\ vorbehalten"
    r"|todos\ los\ derechos\ reservados|tous\ droits\ r[ée]serv[ée]s"
    r"|verf[üu]gbar\ bis|available\ (?:until|till)\ \d|disponible\ hasta|disponible\ jusqu"
    r"|(?:mit\ diesem|mit\ dem|[üu]ber\ diesen|click(?:\ on)?\ (?:this|the)|press\ (?:this|the)"
    r"|use\ this)\ button\b"
    r"|\bjavascript\b.{0,60}\b(?:aktivier|enable|activ|habilit)"
    r"|\b(?:enable|aktivieren(?:\ sie)?|activez|activa|habilita)\ javascript",
    re.I | re.X,
)


#: A piece of text that every match of _PROMPT holds (lowered): lines without any are not
#: searched (the pattern's many alternatives cost about 0.1 ms a line).
_PROMPT_PIECES = (
    "newsletter", "subscri", "sign", "abonnier", "abonnez", "suscr", "subskrypc", "unterst",
    "support ", "wesprzyj", "apoya ", "soutenez", "affiliate", "sponsored", "anzeige",
    "advertis", "download the ", "telegram", "whatsapp", "escucha esta nota",
    "listen to this ", "artikel anh", "hier klicken", "click here", "klicken sie hier",
    "haz clic", "cliquez ici", "der en illimit", "acceso ilimitado", "unlimited access",
    "pour lire la suite", "continue reading ", "jetzt weiterlesen", "weiterlesen mit",
    "abonn", "il vous reste", "abbonat",
    "exklusive angebote", "exclusive offers", "ofertas exclusivas", "offres exclusives",
    "hazte ", "become a ", "devenez membre", "help us ", "registrieren", "register ",
    "member-only", "mitglied", "kommentar", "comment",
    "lesen sie", "findest du", "finden sie", "read more", "learn more", "find out more",
    "lee m", "en savoir plus", "cc-by", "cc by", "all rights reserved",
    "alle rechte vorbehalten", "todos los derechos reservados", "tous droits r", "gbar bis",
    "available ", "disponible ", " button", "javascript",
)
#: Letters that the pattern's case-blind matching takes for Latin ones (dotless and dotted
#: i, long s) where ``str.lower`` does not: lines with them are always searched.
_CASE_SPECIAL = re.compile("[\u0130\u0131\u017f]")


def is_prompt(line: str) -> bool:
    """Whether a line is a site's own prompt or notice (short, with a cue of one)."""
    return _prompt(_fold(line))


def _prompt(folded: str) -> bool:
    if _words(folded) > PROMPT_WORDS:
        return False
    lowered = folded.lower()
    if not any(piece in lowered for piece in _PROMPT_PIECES) and not _CASE_SPECIAL.search(
            folded):
        return False
    return bool(_PROMPT.search(folded))


def without_chrome_lines(text: str, anchors: set[str]) -> str:
    """``text`` without its link lines and their headings, photo credits and the site's
    prompts (kept whole when too little would remain)."""
    lines = text.split("\n")
    # Each line folded once (the tests below read the folded line as they read the line).
    folded = [_fold_line(line) for line in lines]
    # Only the anchors found somewhere in the text can be in one of its lines.
    joined = "\n".join(folded)
    anchors = {anchor for anchor in anchors if anchor in joined}
    shares = [_link_share(line, anchors) for line in folded]
    links = [share >= DROP_LINK_SHARE for share in shares]
    _link_lists(folded, shares, links)
    dropped = [
        link or _credit(line) or _prompt(line) or _related_heading(line)
        or is_lookalike(line)
        or (n + 1 < len(lines) and links[n + 1] and _link_heading(line))
        for n, (line, link) in enumerate(zip(folded, links, strict=True))
    ]
    if not any(dropped):
        return text
    cleaned = "\n".join(line for line, gone in zip(lines, dropped, strict=True) if not gone)
    cleaned = cleaned.strip()
    return cleaned if len(cleaned) >= MIN_TEXT_CHARS else text


def _link_lists(folded: list[str], shares: list[float], links: list[bool]) -> None:
    """Mark in ``links`` the items of lists of links: a list of related stories whose items
    are each a headline's link after a short kicker ("Fernando Alonso" + the headline: El
    Mundo's) has items short of DROP_LINK_SHARE one by one (0.68-0.77 there). A list
    (consecutive ``- `` lines, as items are written) of which every item is mostly link
    text (MAX_LINK_SHARE) is a list of links; an article's own list, some of its items with
    a link, is not."""
    start = 0
    while start < len(folded):
        end = start
        while end < len(folded) and folded[end].startswith("- "):
            end += 1
        if end - start >= 2 and min(shares[start:end]) >= MAX_LINK_SHARE:
            links[start:end] = [True] * (end - start)
        start = end + 1


#: Words of the class and id names of a site's chrome boxes that stand inside the article
#: element: a related story, a teaser, a caption, an advertiser's disclosure, a newsletter or
#: subscription prompt, a fact box, an author's bio or profile box (Blogger's ``widget
#: Profile``, a writer's ``profile-info`` under the story), a pop-up, the page's footer or
#: copyright notice (an older site's ``table#FOOTER``, ``td.footer``, ``p.copyright`` after
#: the article, which a pass that takes the whole layout table keeps). Names are cut into
#: words at ``-``, ``_``, white space and lower-to-upper case changes (``relatedPost``,
#: ``slice-author-bio``, ``editorial-disclosure``).
CHROME_NAME_WORDS = frozenset({
    "related", "relatedpost", "relatedposts", "teaser", "teasers", "newsletter",
    "subscribe", "subscription", "abonnement", "promo", "promotion", "disclosure",
    "disclaimer", "affiliate", "sponsor", "sponsored", "advert", "advertisement",
    "anzeige", "comments", "caption", "sidebar", "breadcrumb", "breadcrumbs", "crumbs",
    "linklist", "linkbox", "popup", "pum", "modal", "factbox", "bio", "authorbio",
    "profile", "recommended", "rss", "footer", "copyright",
})  # fmt: skip
#: Words of class and id names of boxes that are never the story, whatever their size.
STRONG_NAME_WORDS = frozenset({
    "related", "relatedpost", "relatedposts", "popup", "pum", "modal",
})  # fmt: skip
_NAME_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
#: An ancestor holding this share of the article text is the article (or a wrapper around
#: it): its class names, and its ancestors', say nothing of one of its paragraphs.
ARTICLE_SHARE = 0.5
#: Chrome boxes are a small part of an article: when the lines in boxes named as chrome are
#: more than this share of the text, the names mean something else (a gallery whose
#: captions are the story) and the lines are kept.
MAX_BOXED_SHARE = 0.3
#: The class (or id) by which a page marks its article's body: hAtom's ``entry-content``,
#: which blog platforms' themes write (Blogger's ``post-body entry-content``, WordPress's).
#: Chrome boxes beside a marked body go whatever their size (:func:`chrome_box_lines`).
MARKED_BODY = "entry-content"


def chrome_name(element: Any) -> bool:
    """Whether an element's class or id names it as a chrome box (CHROME_NAME_WORDS)."""
    return bool(_name_words(element, CHROME_NAME_WORDS, _CHROME_CUE))


def is_link_away(element: Any) -> bool:
    """Whether an element is a link to another page (a teaser card: a paragraph inside a
    link is the link's text)."""
    if element.tag != "a":
        return False
    href = (element.get("href") or "").strip().lower()
    return bool(href) and not href.startswith(("#", "javascript:", "mailto:", "tel:"))


#: The white space of ASCII (``str.split``'s, as bytes).
_ASCII_SPACE = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"


def _solid(text: str | None) -> int:
    """The characters of ``text`` that are not white space."""
    if not text:
        return 0
    # Counted in C where the text's white space is known without cutting it into words (a
    # long text: several times faster than the words' lengths).
    if text.isascii():
        return len(text.encode().translate(None, _ASCII_SPACE))
    if text.isprintable():  # its only white space is the space
        return len(text) - text.count(" ")
    if text.isspace():  # the markup's indentation between elements
        return 0
    # Lines of text (a pass's text, a paragraph of the markup's source): spaces once its
    # line breaks are.
    spaced = text.replace("\n", " ")
    if spaced.isprintable():
        return len(spaced) - spaced.count(" ")
    return len("".join(text.split()))


def _unspaced(text: str) -> str:
    """``text`` without its white space."""
    # Removed in C where the text's white space is known to be spaces, or spaces and line
    # breaks (most elements' texts: a heavy page's chrome rules read 340 of them), without
    # cutting it into words.
    if text.isprintable():
        return text.replace(" ", "")
    spaced = text.replace("\n", " ")
    if spaced.isprintable():
        return spaced.replace(" ", "")
    return "".join(text.split())


def text_sizes(tree: Any) -> dict[Any, int]:
    """Each element's text size (characters that are not white space, descendants
    included), leaves first (:attr:`PageWalk.sizes`)."""
    return walk_page(tree).sizes


@dataclass
class PageWalk:
    """What the chrome rules read of the page's elements, measured in one walk of its tree
    (:func:`walk_page`) instead of one walk a rule: a heavy page has about 900 elements, and
    the Python work per element is most of the rules' cost."""

    #: Each element's text size (characters that are not white space, descendants
    #: included), the tree's elements in reverse document order (leaves first).
    sizes: dict[Any, int]
    #: Each link element's text (white space folded), in document order.
    links: dict[Any, str]
    #: The elements with text named as chrome (CHROME_NAME_WORDS in their class or id
    #: names) or that are links to another page (:func:`is_link_away`), in document order,
    #: with their chrome name words.
    chrome: list[tuple[Any, frozenset[str]]]
    #: The nearest of :attr:`chrome` above each of them (none: not in the dictionary).
    nearest: dict[Any, Any]
    #: The elements with text named as a lede (LEDE_NAME_WORDS), in document order.
    ledes: list[Any]
    #: The elements with text marked as an article's body (MARKED_BODY), in document order.
    bodies: list[Any]
    #: The tree walked.
    tree: Any
    #: The text size of the text right inside scripts and styles (not the page's text).
    hidden: int
    #: The whole page, where the tree walked is a copy of its article element (_Whole).
    whole: Any = None
    _by_size: dict[int, list[int]] | None = None
    _elements: list[Any] | None = None
    _page: str | None = None

    def page(self) -> str:
        """The page's :func:`page_text` (read when first needed)."""
        if self._page is None:
            self._page = page_text(self.tree) if self.whole is None else self.whole.text
        return self._page

    def page_chars(self) -> int:
        """The length of :meth:`page`: the text size of the walk's tree less the scripts'
        and styles' text, when the tree is its document's (the page's text is the
        document's)."""
        if self.tree.getroottree().getroot() is self.tree:
            return self.sizes[self.tree] - self.hidden
        return len(self.page())

    def solid(self, element: Any) -> str:
        """An element's text, white space removed, its scripts' and styles' left out as
        :meth:`page` leaves them out (a page's ``div#footer-scripts`` holds the article's
        paragraphs in a script's data: its box is not where the line stands)."""
        link = self.links.get(element)
        if link is not None:
            return link.replace(" ", "")
        if len(element):
            return _unspaced("".join(_SHOWN_TEXTS(element)))
        return _unspaced(element.text or "")

    def elements(self) -> list[Any]:
        """The elements of :attr:`sizes`, in its order (read by position: :meth:`by_size`)."""
        if self._elements is None:
            self._elements = list(self.sizes)
        return self._elements

    def by_size(self) -> dict[int, list[int]]:
        """The positions in :attr:`sizes` of the elements of each text size."""
        if self._by_size is None:
            by_size: dict[int, list[int]] = {}
            for n, size in enumerate(self.sizes.values()):
                by_size.setdefault(size, []).append(n)
            self._by_size = by_size
        return self._by_size


_NO_WORDS: frozenset[str] = frozenset()
#: Elements whose text is not the page's (:func:`page_text`).
_HIDDEN = ("script", "style")


def walk_page(tree: Any) -> PageWalk:
    """The page's :class:`PageWalk`, in one pass over its elements from the leaves up: each
    element hands its text size (with its tail's) and the chrome elements below it to its
    parent, which is cheaper than a look at each element's children."""
    sizes: dict[Any, int] = {}
    # The text size of each element's children and their tails, handed up so far.
    inner: dict[Any, int] = {}
    links: list[tuple[Any, str]] = []
    chrome: list[tuple[Any, frozenset[str]]] = []
    ledes: list[Any] = []
    bodies: list[Any] = []
    facts: dict[str, tuple[frozenset[str], bool, bool]] = {}  # a page repeats its names
    hidden = 0
    # The chrome elements below an element with no chrome element between them, handed up.
    pending: dict[Any, list[Any]] = {}
    nearest: dict[Any, Any] = {}
    for element in reversed(list(tree.iter())):
        tag = element.tag
        if isinstance(tag, str):
            text = element.text
            size = inner.pop(element, 0)
            if text:
                size += _solid(text)
            if tag == "a":
                links.append((element, _fold(_content(element))))
            elif tag in _HIDDEN:
                hidden += _solid(text) + sum(_solid(child.tail) for child in element)
            sizes[element] = size
            below = pending.pop(element, None)
            if size:
                words = _NO_WORDS
                name = element.get("class")
                ident = element.get("id")
                if name is not None or ident is not None:
                    names = f"{name or ''} {ident or ''}"
                    found = facts.get(names)
                    if found is None:
                        found = facts[names] = _name_facts(names)
                    words, named_lede, marked_body = found
                    if named_lede:
                        ledes.append(element)
                    if marked_body:
                        bodies.append(element)
                if words or (tag == "a" and is_link_away(element)):
                    chrome.append((element, words))
                    if below is not None:
                        for box in below:
                            nearest[box] = element
                    below = [element]
        else:  # a comment: its text is not the page's (its tail is)
            size = 0
            below = None
        if element is tree:
            break
        tail = element.tail
        handed = size + _solid(tail) if tail else size
        if handed or below is not None:
            parent = element.getparent()
            if handed:
                inner[parent] = inner.get(parent, 0) + handed
            if below is not None:
                above = pending.get(parent)
                if above is None:
                    pending[parent] = below
                else:
                    above.extend(below)
    links.reverse()
    chrome.reverse()
    ledes.reverse()
    bodies.reverse()
    return PageWalk(sizes=sizes, links=dict(links), chrome=chrome, nearest=nearest,
                    ledes=ledes, bodies=bodies, tree=tree, hidden=hidden)


def chrome_box_lines(tree: Any, text: str, walk: PageWalk | None = None) -> set[str]:
    """The lines of ``text`` (white space folded) that stand only in chrome boxes inside the
    article: elements smaller than the article that are named as chrome
    (:func:`chrome_name`) or are links to another page. A line stands in a box when it is
    part of the box's text (white space aside: a box's paragraph that trafilatura cut in two
    lines at a ``<br>``, an excerpt under a related story's headline); a line that also
    stands outside such boxes (a headline repeated in a related-stories box) is kept, and so
    are all when the boxes are most of the text (MAX_BOXED_SHARE), except those of boxes
    that are never the story (STRONG_NAME_WORDS) or stand beside the page's marked body
    (MARKED_BODY). ``walk``: the page's :func:`walk_page`, when already known."""
    lines = {_fold_line(line) for line in text.split("\n")}
    lines.discard("")
    if not lines:
        return set()
    walk = walk_page(tree) if walk is None else walk
    article = ARTICLE_SHARE * _solid(text)
    boxes = _outermost_chrome(walk, article)
    found = {line for line in lines if _in_box(line, boxes, walk)}
    folded = [_fold_line(line) for line in text.split("\n")]
    whole = " ".join(line for line in folded if line)  # _fold(text)
    share = sum(len(line) for line in folded if line in found) / max(1, len(whole))
    if share > MAX_BOXED_SHARE:
        found = set()
    # Boxes that are never the story (related stories, a pop-up) whatever their size,
    # unless they hold the text's first line (then they wrap the article).
    first = folded[0].replace(" ", "") if folded else ""
    strong = _box_texts((e for e, words in walk.chrome if words & STRONG_NAME_WORDS), walk)
    strong = "\x00".join(box for box in strong.split("\x00") if first not in box)
    # Boxes beside the article's body where the page marks it (a blog's sidebar and its
    # author's profile widget beside a short post) are never the story either.
    beside = _beside_marked_body(walk, lines)
    return found | {line for line in lines if _in_box(line, strong, walk)
                    or _in_box(line, beside, walk)}


def _beside_marked_body(walk: PageWalk, lines: set[str]) -> str:
    """:func:`_box_texts` of the elements named as chrome that neither hold nor stand in the
    article's body, where the page marks one body (a listing page marks each post's) and it
    holds lines of the text (``lines``, white space folded); else nothing. The names say
    what the boxes are whatever their size: a short post's text is mostly its sidebar's
    widgets where trafilatura took the sidebar for part of the article."""
    if not walk.bodies:
        return ""
    inner = set(walk.bodies)
    bodies = [body for body in walk.bodies
              if not any(above in inner for above in body.iterancestors())]
    if len(bodies) != 1:
        return ""
    body = bodies[0]
    held = walk.solid(body)
    if not any(line.replace(" ", "") in held for line in lines):
        return ""
    holders = {body, *body.iterancestors()}
    return _box_texts((element for element, words in walk.chrome if words
                       and element not in holders and body not in element.iterancestors()),
                      walk)


def _in_box(line: str, boxes: str, walk: PageWalk) -> bool:
    """Whether a line (white space folded) stands in the boxes' texts and nowhere else on
    the page (each text white space removed)."""
    solid = line.replace(" ", "")
    if not boxes or solid not in boxes:
        return False
    return walk.page().count(solid) <= boxes.count(solid)


_PAGE_TEXTS = etree.XPath("//text()[not(parent::script) and not(parent::style)]",
                          smart_strings=False)
_SHOWN_TEXTS = etree.XPath("descendant::text()[not(parent::script) and not(parent::style)]",
                           smart_strings=False)


def page_text(tree: Any) -> str:
    """The page's text, scripts and styles left out, white space removed."""
    return "".join("".join(_PAGE_TEXTS(tree)).split())


def _outermost_chrome(walk: PageWalk, limit: float) -> str:
    """:func:`_box_texts` of the walk's chrome elements smaller than ``limit``: an element
    is outermost when the nearest chrome element above it is ``limit`` or larger (text
    sizes grow upwards), or there is none."""
    sizes = walk.sizes
    nearest = walk.nearest
    texts = []
    for element, _ in walk.chrome:
        if sizes[element] < limit:
            above = nearest.get(element)
            if above is None or sizes[above] >= limit:
                texts.append(walk.solid(element))
    return "\x00".join(texts)


def _box_texts(elements: Iterable[Any], walk: PageWalk, limit: float | None = None) -> str:
    """The texts (white space removed) of the outermost of ``elements``, ``\\x00`` between
    them; ``limit``: none of them is this large (an ancestor that is cannot hold one)."""
    sizes = walk.sizes
    chosen = list(elements)
    inside = set(chosen)
    # Ancestors known to have none of ``elements`` above them (up to ``limit``): the walk up
    # from an element stops at one (the links of a menu share their ancestors).
    clear: set[Any] = set()
    texts = []
    for element in chosen:
        path = []
        for ancestor in element.iterancestors():
            if ancestor in inside:
                break
            if ancestor in clear or (limit is not None and sizes.get(ancestor, 0) >= limit):
                ancestor = None
                break
            path.append(ancestor)
        else:
            ancestor = None
        if ancestor is None:
            clear.update(path)
            texts.append(walk.solid(element))
    return "\x00".join(texts)


def line_elements(text: str, walk: PageWalk, extra: int = 0) -> dict[str, Any]:
    """The innermost element whose text holds each line of ``text`` (lines white space
    folded) and at most ``extra`` characters more (white space aside: 0, the element whose
    whole text the line is); lines in no such element are left out. ``walk``: the page's
    :func:`walk_page`."""
    lines = {_fold_line(line) for line in text.split("\n")}
    lines.discard("")
    if not lines:
        return {}
    elements = walk.elements()
    by_size = walk.by_size()
    found: dict[str, Any] = {}
    for line in lines:
        solid = line.replace(" ", "")
        near = sorted(n for size in range(len(solid), len(solid) + extra + 1)
                      for n in by_size.get(size, ()))
        for n in near:  # leaves first
            element = elements[n]
            if element.tag in ("script", "style"):
                continue
            if solid in walk.solid(element):
                found[line] = element
                break
    return found


#: Elements that show a picture.
_PICTURES = ("img", "picture", "video", "svg", "iframe")
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
#: Words of class and id names of an image's box or of a caption's own element.
PICTURE_NAME_WORDS = frozenset({
    "image", "img", "media", "photo", "picture", "figure", "bild", "foto", "caption",
    "credit", "copyright",
})  # fmt: skip
#: A caption has at most this many words.
PICTURE_CAPTION_WORDS = 45
#: An image's box holds its caption and at most this many characters besides (a credit).
CAPTION_BOX_EXTRA = 60
#: How far up from a caption's element its image's box is looked for.
CAPTION_LEVELS = 3


#: Words of the class and id names of an article's lede, the paragraph under its headline
#: (``p.lead``, ``div.c-page-intro__copy``, ``standfirst``), which trafilatura leaves out
#: where it stands in the article's header rather than its body. Newsrooms' systems name it
#: in their trade's words: the "Teaser" of German sites (``p.article-teaser``,
#: ``div.teaser-text``: TYPO3's news, DW, FAZ, Kicker, Nature's ``c-article-teaser-text``),
#: the chapô of French ones (``div.chapo``), the dek of American magazines
#: (``ContentHeaderDek-…``, ``c-dek``), a blog's excerpt, a summary, an abstract, a
#: subtitle. Other stories' teasers repeat their class (:meth:`_Classes.repeated`) or stand in
#: links, lists or after the article's first paragraph, and are no lede.
LEDE_NAME_WORDS = frozenset({
    "lead", "lede", "leadtext", "intro", "introtext", "standfirst", "teaser", "chapo", "dek",
    "excerpt", "summary", "abstract", "subtitle",
})  # fmt: skip
#: A lede has at least this many characters (white space aside), and at most this share of
#: it is link text.
LEDE_MIN_CHARS = 80
LEDE_LINK_SHARE = 0.2
#: Elements a lede is never inside, and elements it never holds.
_NOT_LEDE = frozenset({"nav", "aside", "footer", "a", "li", "figcaption", "blockquote", "figure"})
_NOT_IN_LEDE = frozenset({
    "h2", "h3", "h4", "h5", "h6", "figure", "img", "picture", "video", "iframe",
    "script", "style", "noscript", "form", "button", "ul", "ol", "table", "time",
})  # fmt: skip
#: A lede is sentences: it ends as one does, or is long (a site that leaves out the last
#: full stop).
_SENTENCE_END = re.compile(r"[.!?…:\"'“”»«)]$")
LEDE_UNENDED_CHARS = 150
#: A picture's caption ends with its credit: ``(AP Photo/Marco Ugarte)``.
_PHOTO_CREDIT = re.compile(r"\([^()]*\b(?:photo|foto|image|bild|picture)s?\b[^()]*\)\W*$", re.I)
#: Names of a consent banner's boxes (``cookiebar__intro-copy``).
_CONSENT = re.compile(r"cookie|consent|gdpr|privacy|datenschutz", re.I)


def lede(tree: Any, text: str, walk: PageWalk | None = None, page: Any = None) -> str | None:
    """The page's lede when ``text`` (the article text) leaves it out: the first element
    named as one (LEDE_NAME_WORDS) of article size whose tag and class no element with
    another text has (a list of other stories' intros repeats them; a page may hold its
    standfirst twice, for small and large screens), outside navigation, links, lists and
    chrome boxes, and before the text's first line on the page. ``walk``: the page's
    :func:`walk_page`, when already known; ``page``: the whole page, where ``tree`` is a
    part of it (the elements that repeat a class are looked for there)."""
    candidates = (walk_page(tree) if walk is None else walk).ledes
    classes = _Classes(tree if page is None else page)
    for element in candidates:
        if element.get("class") and classes.repeated(element):
            continue
        names = f"{element.get('class') or ''} {element.get('id') or ''}"
        if any(a.tag in _NOT_LEDE or chrome_name(a) or _names(a) & PICTURE_NAME_WORDS
               for a in element.iterancestors()) or element.tag in _NOT_LEDE:
            continue
        if _names(element) & PICTURE_NAME_WORDS or _CONSENT.search(names) or any(
                isinstance(e.tag, str) and e.tag in _NOT_IN_LEDE for e in element.iter()):
            continue
        lede_text = _text_besides_headline(element)
        size = _solid(lede_text)
        if (size < LEDE_MIN_CHARS
                or not (_SENTENCE_END.search(lede_text) or size >= LEDE_UNENDED_CHARS)
                or is_prompt(lede_text) or is_credit(lede_text)
                or _PHOTO_CREDIT.search(lede_text)):
            continue
        linked = sum(_solid(a.text_content()) for a in element.iter("a"))
        if linked > LEDE_LINK_SHARE * _solid(lede_text):
            continue
        if lede_text[:SUBHEADING_PROBE] in " ".join(text.split()):
            return None  # the text has it
        return lede_text if _before_text(tree, element, text) else None
    return None


#: The parts of a page around its articles, where a class of the article's says nothing.
_SITE_PARTS = frozenset({"nav", "aside", "footer"})
#: The elements of the page with exactly this class attribute.
_SAME_CLASS = etree.XPath("//*[@class = $name]")
#: The elements of the page with a class attribute.
_CLASSED = etree.XPath("//*[@class]")


class _Classes:
    """The elements of the page ``page`` by tag and class, read once for all of a page's
    candidate ledes (a research institute's page of 158 teasers named as ledes, of 34
    classes, asked the whole page for each teaser's class, and read every teaser's
    ancestors and text for each: 2.3 s a page)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        #: The page's elements of each class asked; all of its classed elements, by class,
        #: from the second class asked (most pages name one lede: one look for its class).
        self._found: dict[str, list[Any]] = {}
        self._by_class: dict[str, list[Any]] | None = None
        #: (tag, class): the elements of that class, as a set, and those of them of that
        #: tag outside the page's navigation, asides and footer.
        self._groups: dict[tuple[Any, str], tuple[set[Any], list[Any]]] = {}
        self._texts: dict[Any, str] = {}

    def repeated(self, element: Any) -> bool:
        """Whether another element of the page has the tag and class of ``element`` and
        another text, outside the page's navigation, asides and footer (a site's footer that
        presents the site in its articles' ``p.article-teaser`` says nothing of the lede
        above the article)."""
        key = (element.tag, element.get("class"))
        if key not in self._groups:
            of_class = self._of_class(key[1])
            self._groups[key] = (set(of_class), [
                e for e in of_class if e.tag == key[0]
                and not any(a.tag in _SITE_PARTS for a in e.iterancestors())])
        found, same = self._groups[key]
        # The element itself counts wherever it stands.
        count = len(same) + (element in found and element not in same)
        if count < 2:
            return False
        own = self._text(element)
        return any(self._text(e) != own for e in same)

    def _of_class(self, name: str) -> list[Any]:
        if name in self._found:
            return self._found[name]
        if self._by_class is None and self._found:
            self._by_class = {}
            for e in _CLASSED(self.page):
                self._by_class.setdefault(e.get("class"), []).append(e)
        if self._by_class is not None:
            found = self._by_class.get(name, [])
        else:
            found = _SAME_CLASS(self.page, name=name)
        self._found[name] = found
        return found

    def _text(self, element: Any) -> str:
        if element not in self._texts:
            self._texts[element] = " ".join(element.text_content().split())
        return self._texts[element]


def _text_besides_headline(element: Any) -> str:
    """An element's text, white space folded, without its ``h1`` (a header block named as
    the intro holds the headline above the lede)."""
    headlines = list(element.iter("h1"))
    if not headlines:
        return " ".join(element.text_content().split())
    inside = {part for headline in headlines for part in headline.iter()}
    pieces = []
    for part in element.iter():
        if part not in inside and isinstance(part.tag, str) and part.text:
            pieces.append(part.text)
        # A headline's own tail follows it, outside it; the tails of its parts are its text.
        if part is not element and part.tail and (part in headlines or part not in inside):
            pieces.append(part.tail)
    return " ".join("".join(pieces).split())


#: The text's first line is found on the page by its first this many characters.
LEDE_PROBE = 20
_UNSEEN = frozenset({"script", "style", "noscript", "template", "title", "meta"})


def _before_text(tree: Any, element: Any, text: str) -> bool:
    """Whether ``element`` comes before the piece of the page that starts the first
    paragraph of ``text`` (a line of LEDE_MIN_CHARS or more: lines before it are headline,
    kicker, byline); True when the page has no such piece."""
    first = next((line for line in text.split("\n") if _solid(line) >= LEDE_MIN_CHARS), "")
    probe = " ".join(first.split())[:LEDE_PROBE]
    if not probe:
        return True
    seen = False
    for other in tree.iter():
        if other is element:
            seen = True
            continue
        if not isinstance(other.tag, str) or other.tag in _UNSEEN:
            continue  # a script's JSON may hold the article's text, before the page does
        for piece in (other.text, other.tail):
            if piece and probe in " ".join(piece.split()):
                return seen
    return True


def _names(element: Any) -> set[str]:
    names = f"{element.get('class') or ''} {element.get('id') or ''}"
    return {w.lower() for w in _NAME_WORD.findall(names)}


def _cue(words: frozenset[str]) -> re.Pattern[str]:
    """A pattern found in the lowered class and id names of every element that has one of
    ``words`` among its name words (each word is a piece of the names, lowered)."""
    return re.compile("|".join(sorted(words, key=len, reverse=True)))


_CHROME_CUE = _cue(CHROME_NAME_WORDS)
_LEDE_CUE_PATTERN = _cue(LEDE_NAME_WORDS)


def _name_facts(names: str) -> tuple[frozenset[str], bool, bool]:
    """The chrome words (CHROME_NAME_WORDS) of an element's class and id ``names``, whether
    they name a lede (LEDE_NAME_WORDS) and whether they mark an article's body
    (MARKED_BODY)."""
    lowered = names.lower()
    chrome = _CHROME_CUE.search(lowered) is not None
    lede = _LEDE_CUE_PATTERN.search(lowered) is not None
    body = MARKED_BODY in lowered and MARKED_BODY in lowered.split()
    if not (chrome or lede):
        return _NO_WORDS, False, body
    words = {w.lower() for w in _NAME_WORD.findall(names)}
    return (frozenset(words & CHROME_NAME_WORDS) if chrome else _NO_WORDS,
            lede and bool(words & LEDE_NAME_WORDS), body)


def _name_words(element: Any, words: frozenset[str], cue: re.Pattern[str]) -> set[str]:
    """``_names(element) & words``, cut into words only where ``cue`` (:func:`_cue` of
    ``words``) is in the names: most elements of a page have none of them."""
    names = f"{element.get('class') or ''} {element.get('id') or ''}"
    if cue.search(names.lower()) is None:
        return set()
    return {w.lower() for w in _NAME_WORD.findall(names)} & words


def _styled(element: Any, tags: tuple[str, ...], sizes: dict[Any, int]) -> bool:
    """Whether most of an element's text (four fifths) is inside ``tags`` (itself, an
    ancestor up to two levels, or descendants)."""
    node = element
    for _ in range(3):
        if node is None:
            break
        if node.tag in tags:
            return True
        node = node.getparent()
    size = sizes.get(element, 0)
    inside = sum(sizes.get(e, 0) for e in element.iter(*tags)
                 if not any(a.tag in tags for a in e.iterancestors() if a is not element
                            and element in a.iterancestors()))
    return size > 0 and inside >= 0.8 * size


def picture_captions(tree: Any, text: str, walk: PageWalk | None = None) -> set[str]:
    """The lines of ``text`` (white space folded) that are captions of a picture: short, in
    a box of a few levels that holds a picture and no other text than the line and a
    credit, the line set in italics or small type or the box or the line's element named
    as an image's (PICTURE_NAME_WORDS: ``image-box``, ``media__description``)."""
    walk = walk_page(tree) if walk is None else walk
    sizes = walk.sizes
    short = [line for line in text.split("\n")
             if 0 < _words(_fold_line(line)) <= PICTURE_CAPTION_WORDS]
    if not short:
        return set()
    # Only lines that stand in a small box around a picture can be its caption.
    limit = max(_solid(line) for line in short) + CAPTION_BOX_EXTRA
    boxes = set()
    for picture in tree.iter(*_PICTURES):
        node = picture.getparent()
        while node is not None and sizes.get(node, 0) <= limit:
            boxes.add(node)
            node = node.getparent()
    around = _box_texts(boxes, walk, limit + 1)
    short = [line for line in short if _fold_line(line).replace(" ", "") in around]
    found: set[str] = set()
    for line, element in line_elements("\n".join(short), walk, CAPTION_BOX_EXTRA).items():
        if len(line.split()) > PICTURE_CAPTION_WORDS:
            continue
        size = _solid(line)
        named = bool(_names(element) & PICTURE_NAME_WORDS) or element.tag == "figcaption"
        styled = _styled(element, ("em", "i", "small", "sub", "figcaption"), sizes)
        node = element
        for _ in range(CAPTION_LEVELS):
            node = node.getparent()
            if node is None or sizes.get(node, 0) > size + CAPTION_BOX_EXTRA:
                break
            named = named or bool(_names(node) & PICTURE_NAME_WORDS) or node.tag == "figure"
            if next(node.iter(*_HEADINGS), None) is not None:
                break  # a heading over a picture and its text: a teaser, a step
            if next(node.iter(*_PICTURES), None) is not None:
                if named or styled:
                    found.add(line)
                break
    return found


#: Italic lines at the end of the text dropped at most (an author's bio, an editor's note, a
#: teaser of another story, an advertiser's line).
TRAILING_ITALIC_LINES = 2
#: …and only when they are at most this share of the text's characters: a note is shorter
#: than the article it follows, while a story whose summary is quoted in italics (a news
#: aggregator's "X writes" and the submitted summary under its byline) is all italics.
TRAILING_ITALIC_SHARE = 0.5
_FOOTNOTE = re.compile(r"\W*(?:[*†‡¹²³⁴⁵⁶⁷⁸⁹]|\[\d+\]|\(\d+\))")


def trailing_italics(tree: Any, text: str, walk: PageWalk | None = None) -> set[str]:
    """The last lines of ``text`` (white space folded) set in italics (four fifths of the
    line's element in ``<em>``/``<i>``), when other lines precede them and hold most of the
    text (TRAILING_ITALIC_SHARE): after the article's last paragraph, a paragraph in italics
    is a note about the article, its author or another story, not the story; but when the
    lines before it are only a byline and a dateline, the italics are the story."""
    lines = [_fold_line(line) for line in text.split("\n") if line.strip()]
    if len(lines) <= TRAILING_ITALIC_LINES:
        return set()
    walk = walk_page(tree) if walk is None else walk
    elements = line_elements("\n".join(lines[-TRAILING_ITALIC_LINES:]), walk,
                             CAPTION_BOX_EXTRA)
    found: set[str] = set()
    for line in reversed(lines[-TRAILING_ITALIC_LINES:]):
        element = elements.get(line)
        if element is None or _FOOTNOTE.match(line) or not _styled(element, ("em", "i"),
                                                                      walk.sizes):
            break  # a footnote (``*``, ``¹``, ``[1]``) belongs to the article
        found.add(line)
    if sum(map(len, found)) > TRAILING_ITALIC_SHARE * sum(map(len, lines)):
        return set()
    return found


#: A word that mixes Latin and Cyrillic letters: look-alike letters that hide an
#: advertising line from filters ("Advertise" with a Cyrillic A, e, i and s).
_MIXED = re.compile(r"\b(?=\w*[a-zA-Z])(?=\w*[\u0400-\u04ff])\w+\b")
_CYRILLIC = re.compile("[\u0400-\u04ff]")
#: A line is look-alike text when this many of its words mix the alphabets…
MIXED_WORDS = 3
#: …and they are at least this share of its words.
MIXED_SHARE = 0.2


def is_lookalike(line: str) -> bool:
    """Whether a line is written in look-alike letters (Latin words with Cyrillic letters
    in them), as advertising that hides from filters is; a Cyrillic text with a mistyped
    Latin letter here and there is not."""
    if _CYRILLIC.search(line) is None:
        return False  # no word mixes the alphabets
    mixed = len(_MIXED.findall(line))
    return mixed >= MIXED_WORDS and mixed >= MIXED_SHARE * len(line.split())


def without_lines(text: str, dropped: set[str]) -> str:
    """``text`` without the lines whose folded text is in ``dropped`` (kept whole when too
    little would remain)."""
    if not dropped:
        return text
    kept = "\n".join(line for line in text.split("\n") if _fold_line(line) not in dropped)
    return kept.strip() if len(kept.strip()) >= MIN_TEXT_CHARS else text


#: trafilatura's parser (``trafilatura.utils.HTML_PARSER``, the same options) with its
#: element classes looked up in C. lxml.html's own lookup is a call of Python code for each
#: element object made (about 1,700 on a heavy page, by newswatch's rules and by
#: trafilatura's passes on their copy of the tree alike), to give form elements classes of
#: their own (their fields and values), which neither reads; here every element is an
#: ``HtmlElement``.
PARSER = HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8",
                    remove_comments=True, remove_pis=True)
PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(
    element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity))
#: The characters that trafilatura's ``repair_faulty_html`` removes (its INVALID_XML_CHARS).
_INVALID_CHARS = (*(chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)),
                  "\ufffe", "\uffff")


def load_page(html: str | bytes) -> Any:
    """The page's tree, as trafilatura's ``load_html`` gives it (the same steps, the same
    tree), parsed by PARSER; None when it is not HTML. trafilatura's search of the whole
    page for the characters libxml2 rejects costs a third of the parse: the page is first
    looked at for each of them (a search for one character costs much less), and searched
    only when it has one."""
    text = decode_file(html)
    beginning = text[:50].lower()
    if any(char in text for char in _INVALID_CHARS):
        text = repair_faulty_html(text, beginning)
    else:
        text = _repair_start(text, beginning)
    tree = None
    fallback = False
    try:
        tree = fromstring(text, parser=PARSER)
    except ValueError:  # a declaration of the encoding in a str
        tree = _from_bytes(text)
        fallback = True
    except Exception as exc:  # as trafilatura: "Document is empty"
        logger.debug("page not parsed: %s", exc)
    if (tree is None or len(tree) < 1) and not fallback:
        tree = _from_bytes(text)
    if tree is not None and is_dubious_html(beginning) and len(tree) < 2:
        return None  # as trafilatura: not HTML
    return tree


def _repair_start(text: str, beginning: str) -> str:
    """trafilatura's ``repair_faulty_html`` of a page without characters to remove: a
    doctype with a slash on the first line goes, a self-closed ``<html/>`` is opened."""
    if "doctype" in beginning:
        # The page is copied only where its first line changes (most doctypes have no slash).
        end = text.find("\n")
        if end < 0:
            text = DOCTYPE_TAG.sub("", text, count=1) + "\n"
        elif (first := DOCTYPE_TAG.sub("", text[:end], count=1)) != text[:end]:
            text = first + text[end:]
    for line in text[:4096].splitlines()[:4]:
        if "<html" in line and line.endswith("/>"):
            return FAULTY_HTML.sub(r"\1>", text, count=1)
    return text


def _from_bytes(text: str) -> Any:
    """The page's tree from its UTF-8 bytes (trafilatura's ``fromstring_bytes``)."""
    try:
        return fromstring(text.encode("utf8", "surrogatepass"), parser=PARSER)
    except Exception as exc:  # as trafilatura
        logger.debug("page not parsed: %s", exc)
    return None


def extract_pass(
    tree: Any, url: str, method: Method, tables: bool = INCLUDE_TABLES
) -> Document | None:
    """One trafilatura pass over the parsed page, text only (see :func:`page_metadata`);
    trafilatura works on a copy of ``tree`` and leaves it as it was. ``fast``: the default
    settings without the comparison with readability and jusText."""
    document = trafilatura.bare_extraction(tree, url=url, options=_options(method, tables, url))
    return document if isinstance(document, Document) else None


def _options(method: Method, tables: bool, url: str) -> Extractor:
    """trafilatura's settings of a pass (those ``bare_extraction`` makes of its arguments),
    for ``url``: a copy of the method's, made once (making them reads trafilatura's
    configuration, about 0.04 ms a pass)."""
    options = copy(_method_options(method, tables))
    options.url = options.source = url
    return options


@lru_cache(maxsize=16)
def _method_options(method: Method, tables: bool) -> Extractor:
    return Extractor(
        output_format="python",
        fast=method == "fast",
        precision=method == "precision",
        recall=method == "recall",
        comments=False,
        tables=tables,
        with_metadata=False,
    )


@dataclass(frozen=True)
class Metadata:
    """What the page says of its article, besides the text."""

    title: str | None
    author: str | None
    date: str | None
    #: The site's name as its page gives it (og:site_name).
    site: str | None = None


#: A page's og:site_name, the name its site gives itself ("Reuters", "The Guardian"): in its
#: head, or among the children of its body, where the parser puts the meta tags that
#: follow an element of a body the head holds (a tag manager's <div>, a pixel's <img>, a
#: stray text: the head closed there). The whole tree's search was 100 us on a page of
#: 50 KB, at every page of a crawl; the head's and the body's children, a few.
_SITE_NAME = etree.XPath("/html/head/meta[@property = 'og:site_name']/@content"
                         " | /html/body/meta[@property = 'og:site_name']/@content")


#: The og:site_name a platform's theme writes on every blog it hosts, whatever the blog's
#: name (casefolded): an aggregator's item named after it told nothing of its publisher.
_PLATFORM_NAMES = frozenset({"wordpress", "blogger", "blogspot", "tumblr"})
#: An og:site_name that is an address ("https://harbour.example/", "www.harbour.example"):
#: the site's host says it better.
_ADDRESS = re.compile(r"(?:[a-z][a-z0-9+.-]*:)?//\S*|www\.\S+|\S+\.\S+/\S*", re.IGNORECASE)


def _site_name(value: str) -> str | None:
    """The name an og:site_name gives its site; None for one that names none: a platform's
    ("WordPress", "Blogger"), an address, a lone character or mark ("-", "|"), nothing (an
    aggregator's item, Google Alerts', Hacker News', was named so; its host names it)."""
    name = " ".join(value.split())
    if (len(name) < 2 or not any(character.isalnum() for character in name)
            or name.casefold() in _PLATFORM_NAMES or _ADDRESS.fullmatch(name)):
        return None
    return name


#: The furthest ahead of UTC a place's clock is (Kiribati's +14:00): its day is the latest
#: any page can be dated today.
_LATEST_OFFSET = timedelta(hours=14)


def page_metadata(tree: Any, url: str, *, author: bool = True, date: bool = True,
                  now: datetime | None = None) -> Metadata:
    """The title, author and date of the page, as trafilatura's ``extract_metadata`` finds
    them (the same steps in the same order), without the fields newswatch does not keep.
    ``now``: the time of the fetch (default: the clock's).

    ``author`` / ``date`` False: that field is not looked for (None), where the crawl has it
    from the feed already. Their searches are the dear part on real pages: the byline search
    through the page's markup, run where the page's meta tags and JSON-LD name no author
    (45 % of the corpora's pages, 6.5 ms each), the JSON-LD (1.3 ms; read for the title
    too where the meta tags give none) and the date search (0.9 ms);
    ``python -m benchmarks.metadata_bench``."""
    found = examine_meta(tree)
    found.title = _not_a_section(found.title, tree)
    if found.author and " " not in found.author:
        found.author = None  # as trafilatura: a one-word author is a user name
    # The JSON-LD gives the author, and a title only where the meta tags gave none (nothing
    # else of it is kept): read when either is wanted (1.3 ms on the corpora's real pages).
    if author or not found.title:
        try:
            found = extract_meta_json(tree, found)
        except Exception as exc:  # as trafilatura: its JSON-LD reader has bugs
            logger.debug("JSON-LD metadata of %s unreadable: %s", url, exc)
    found.title = _uncut_title(found.title, tree) or _as_addressed(_headline(tree), tree, url)
    found.author = (found.author or extract_author(tree)) if author else None
    if date:
        found.url = found.url or extract_url(tree, url)
        # Dates from the page's markup only: an extensive search guesses from copyright
        # years and archive links ("© 2026" became 1 January), which would hide new
        # articles behind the look-back window.
        # No day after the latest one a clock shows now (trafilatura's limit, this machine's
        # local day, refused a page of Sydney's or Tokyo's morning, already the next day
        # there, and htmldate dated it by an older date of its markup: a week old, never
        # alerted); a page ahead of the fetch is told by its instant (crawler.entries).
        latest = (now or datetime.now(UTC)).astimezone(UTC) + _LATEST_OFFSET
        params = {**set_date_params(extensive=False), "max_date": f"{latest:%Y-%m-%d}"}
        found.date = find_date(tree, **params, url=found.url)
        if found.date:
            found.date = (_article_published(tree, found.date)
                          or timestamp_of_day(tree, found.date)
                          or _day_as_shown(tree, found.date))
    else:
        found.date = None
    found.clean_and_trim()  # as trafilatura: entities, spaces and control characters
    sitename = _value(found.sitename)
    title = _typeset_as_shown(_as_shown(_without_site_part(
        _without_site_name(_value(found.title), sitename), url, sitename), tree), tree)
    site = next((name for value in _SITE_NAME(tree) if (name := _site_name(str(value)))), None)
    return Metadata(title=title, author=_value(found.author), date=_value(found.date), site=site)


#: The meta tags (property, name or itemprop) that give a page's publication time, most
#: trusted first.
_PUBLISHED_META = (
    "article:published_time", "og:article:published_time", "datepublished",
    "article.published", "published_time", "pubdate", "publishdate", "publish-date",
    "parsely-pub-date", "sailthru.date", "dc.date.issued", "dcterms.created", "dc.date",
)
_META_TIMES = etree.XPath(
    "//meta[@content][@property or @name or @itemprop]"
    "|//*[@itemprop][@datetime]|//time[@datetime]"
)
_JSONLD_PUBLISHED = re.compile(r'"datePublished"\s*:\s*"([^"]{10,40})"')


def timestamp_of_day(tree: Any, day: str) -> str | None:
    """The page's publication time on ``day`` (the ``YYYY-MM-DD`` htmldate gives, which
    drops the time), with its offset, as ISO 8601: from its meta tags, JSON-LD or
    ``<time datetime>``; None when the page gives none of that day, or none with an offset
    (a local time without one says no instant)."""
    if (first := _head_published(tree)) is not None:
        when = _instant(first)
        if when is not None and when.date().isoformat() == day:
            return when.isoformat()  # the most trusted: the page's other elements can wait
    named: dict[str, str] = {}
    times: list[str] = []
    for element in _META_TIMES(tree):
        if element.tag == "meta":
            key = (element.get("property") or element.get("name") or element.get("itemprop")
                   or "").strip().lower()
            named.setdefault(key, element.get("content") or "")
        else:
            key = (element.get("itemprop") or "").strip().lower()
            if key == "datepublished":
                named.setdefault(key, element.get("datetime") or "")
            else:
                times.append(element.get("datetime") or "")
    candidates = [named[key] for key in _PUBLISHED_META if key in named]
    for script in tree.iter("script"):
        if (script.get("type") or "").lower() == "application/ld+json" and script.text:
            candidates += _JSONLD_PUBLISHED.findall(script.text)
    for value in (*candidates, *times):
        when = _instant(value)
        if when is not None and when.date().isoformat() == day:
            return when.isoformat()
    return None


def _article_published(tree: Any, day: str) -> str | None:
    """The article's ``datePublished`` in the page's JSON-LD, as ISO 8601, where ``day`` is
    the day of another object's that the JSON-LD writes first: CBC's NewsArticle lists its
    pictures, each with its own ``datePublished``, before its own, and htmldate, which
    reads the first, dated the article by its lead picture's (12 hours early: a page
    fetched a day and a half late fell outside the alerts' look-back). Looked at only where
    a JSON-LD script names more than one ``datePublished``, the first of that day (2 % of
    the corpora's pages); None where the article's is that one, or not an instant."""
    for script in tree.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
            continue
        values = _JSONLD_PUBLISHED.findall(script.text)
        if len(set(values)) < 2 or not values[0].startswith(day):
            continue
        try:
            data = json.loads(script.text)
        except ValueError:
            return None
        published = _article_date(data)
        if published is None or published == values[0]:
            return None
        when = _instant(published)
        return when.isoformat() if when is not None else None
    return None


def _article_date(data: object) -> str | None:
    """The ``datePublished`` of the first object of JSON-LD ``data`` whose type is an
    article's ("NewsArticle", "ReportageNewsArticle", "BlogPosting"), outer objects first."""
    level = [data]
    while level:
        deeper: list[object] = []
        for item in level:
            if isinstance(item, list):
                deeper.extend(item)
            elif isinstance(item, dict):
                kinds = item.get("@type")
                kinds = kinds if isinstance(kinds, list) else [kinds]
                published = item.get("datePublished")
                if isinstance(published, str) and any(
                        isinstance(kind, str) and kind.endswith(("Article", "BlogPosting"))
                        for kind in kinds):
                    return published
                deeper.extend(item.values())
        level = deeper
    return None


#: A numeric date with slashes opening a meta tag's content ("11/01/2023 12:43:42").
_SLASHED = re.compile(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})(?!\d)")
#: The head's meta tags whose content has a slash for its second or third character.
_SLASHED_METAS = etree.XPath("meta[contains(substring(normalize-space(@content), 2, 2), '/')]")


def _day_as_shown(tree: Any, day: str) -> str:
    """``day`` (htmldate's ``YYYY-MM-DD``) read the other way round where it is a meta tag's
    numeric date with slashes, which htmldate reads day first, and the page's text shows
    the other reading and not this one: <meta name="date" content="11/01/2023 12:43:42">
    (an ASP.NET CMS's invariant format, month first) on a Swiss page whose text says
    "Erstellt am: 01.11.2023" dated its article the 11th of January, ten months old, never
    alerted. The text is the witness: a page that shows neither reading keeps htmldate's
    (day first, as the world outside the United States writes such dates). Looked at where
    no instant of the page gives the day (:func:`timestamp_of_day`) and the day reads two
    ways; the text is read only where a meta tag holds the date (0.003 ms a page on the
    corpora's pages)."""
    first, second, year = int(day[8:10]), int(day[5:7]), int(day[:4])
    head = tree.find("head")
    if first > 12 or first == second or head is None:
        return day  # one reading only
    if not any((found := _SLASHED.match(element.get("content") or "")) is not None
               and (int(found[1]), int(found[2]), int(found[3])) == (first, second, year)
               for element in _SLASHED_METAS(head)):
        return day
    text = tree.text_content()
    other = f"{year}-{first:02d}-{second:02d}"
    if _shows(text, second, first, year) and not _shows(text, first, second, year):
        return other
    return day


def _shows(text: str, day: int, month: int, year: int) -> bool:
    """Whether ``text`` writes that day in a way of one reading: dotted, day first
    ("01.11.2023", "1. 11. 2023"), or ISO 8601."""
    return (re.search(rf"(?<![\d.])0?{day}\.\s?0?{month}\.\s?{year}(?!\d)", text) is not None
            or f"{year}-{month:02d}-{day:02d}" in text)


def _head_published(tree: Any) -> str | None:
    """The time of the page's first ``article:published_time`` meta tag, when its head holds
    one: the first of :func:`timestamp_of_day`'s candidates, read from the head's few tags
    (the look for the others through the whole page cost 0.25 ms a heavy page)."""
    head = tree.find("head") if tree.getparent() is None else None
    if head is None or any(isinstance(e.tag, str) for e in head.itersiblings(preceding=True)):
        return None  # an element before the head might hold the first
    for element in head.iter("meta"):
        key = (element.get("property") or element.get("name") or element.get("itemprop")
               or "").strip().lower()
        if key == _PUBLISHED_META[0] and (element.get("content") is not None or (
                element.get("itemprop") is not None and element.get("datetime") is not None)):
            return element.get("content") or ""  # as _META_TIMES selects it
    return None


def _instant(value: str) -> datetime | None:
    value = value.strip()
    if len(value) < 16 or not value[:4].isdigit():
        return None
    try:
        when = datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


#: A domain name as a page's title, or a part of it ("example.com").
_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)+")
#: What stands around a <title>'s part besides its words ("mediaarchitecture.de //").
_TITLE_MARKS = " /|-\u2013\u2014\u00bb\u00ab:\u00b7"


def _headline(tree: Any) -> str | None:
    """trafilatura's ``extract_title`` (a page's one <h1>, a headline's class, then the
    parts of its <title>, first part first), a part of the <title> skipped only when it is
    a domain name, not whenever it holds a full stop: an old page's alerts (no <h1>, no
    og:title) were titled with the site's name after a headline with "Co." or "U.S."
    ("Napa Co. enters agreement - Lokalnachrichten Online")."""
    head = tree.find(".//head//title")
    whole = " ".join(head.text_content().split()) if head is not None else ""
    found = HTMLTITLE_REGEX.match(whole)
    title = extract_title(tree)
    if title and not whole and (stray := tree.find(".//h1//title")) is not None:
        # A page's <title> written inside its <h1> (an old CMS's template: the page has no
        # other), which a browser does not show: the headline is the rest of the <h1>, not
        # the two said in a row ("Coastside annex ... court order Coastside annex ...
        # court order (August 11, 2004)").
        heading = next(stray.iterancestors("h1"))
        shown = " ".join(" ".join(heading.xpath(".//text()[not(ancestor::title)]")).split())
        if shown and " ".join(stray.text_content().split()) in " ".join(title.split()):
            title = shown
    if title and whole and title.casefold() not in whole.casefold():
        if len(whole.split()) > 3 and title.casefold().endswith(whole.casefold()):
            # The <title> is what the <h1> ends with, after a kicker ("Medienmitteilung der
            # …:") or the text of a style sheet inside it (CSS-in-JS <style> elements).
            return whole
        # A heading of the page's menu (the first of its <h1>s, "Navigation und Service",
        # a skip link's; an <h2 class="block-title"> "Hauptmenü"), where one of its <h1>s is
        # in the <title>: that one, the headline, when longer than the menu's heading and
        # not the site's name (linked to its home page, as a blog theme's <h1 id=site-title>
        # beside the post's <h2 class="entry-title">).
        texts = ((" ".join(h.text_content().split()), h) for h in islice(tree.iter("h1"), 20))
        held = max((text for text, h in texts
                    if text and text.casefold() in whole.casefold() and not _links_home(h)),
                   key=len, default="")
        if len(held) > len(title):
            return held
    parts = (found[1], found[2], whole) if found is not None else ()
    if not parts or title != next((part for part in parts if part and "." not in part), whole):
        return title  # a headline of the page's markup (its one <h1>), or none here
    # The part an <h1> of the page says ("BMJV | Transparenz bei Preisanpassungen", the
    # headline in one of three; an <h2> is as often the site's name): the site's name comes
    # first as often as after.
    headings = [" ".join(h.text_content().split()).casefold()
                for h in tree.iterfind(".//h1")][:20]
    said = [part.strip() for part in parts[:2] if part and part.strip()
            and any(part.strip().casefold() in heading for heading in headings)]
    if len(said) == 1:
        return said[0]
    for part in parts:
        if part and part.strip() and not _DOMAIN.fullmatch(part.strip(_TITLE_MARKS)):
            return part.strip()
    return title


#: The last segment of a page's address when it spells a headline: three words or more
#: between hyphens or underscores, a file's extension after them
#: ("/2014/05/18/alles-neue-mach-der-mai/", "malaga-die-quirlige-metropole-in-andalusien.html").
_SLUG = re.compile(r"([^\W_]+(?:[-_]+[^\W_]+){2,})(?:\.[a-z]{2,5})?")


def _as_addressed(title: str | None, tree: Any, url: str) -> str | None:
    """The page's heading its address spells, where the headline its markup gives does not:
    a page without a meta title nor an <h1> of its article titled by its first heading or
    one whose class says "title", a comment form's ("Write a Reply or Comment"), a post's
    category ("Allgemein") or a contact box's ("Ansprechpartner"), or by its one <h1>, the
    blog's name above its posts' <h2>s ("Four Years Remaining"): the alerts of such a
    site's pages that no feed titles were all so titled (10 of the corpora's 1,058 labelled
    titles, 5 of CleanEval's pages). The heading (<h1> to <h3>) holding three words in four
    of the address's last segment, where the headline holds fewer than half of them, and
    that the page's <title> holds where it has one (an <h2> standfirst below the <h1> the
    <title> says spells the address as well); only looked at for a page without a meta
    title whose address has such a segment (0.003 ms a page on average)."""
    segment = unquote(urlsplit(url).path).rstrip("/").rpartition("/")[2]
    slug = _SLUG.fullmatch(segment)
    if slug is None:
        return title
    words = _folded_words(slug[1].replace("_", " "))
    if len(words) < 3 or len(words & _folded_words(title or "")) * 2 >= len(words):
        return title
    head = tree.find(".//head//title")
    whole = " ".join(head.text_content().split()).casefold() if head is not None else ""
    best, held = title, 0
    for heading in islice(tree.iter("h1", "h2", "h3"), 40):
        text = " ".join(heading.text_content().split())
        count = len(words & _folded_words(text))
        if count * 4 >= len(words) * 3 and count > held and (
                not whole or text.casefold() in whole):
            best, held = text, count
    return best


def _folded_words(text: str) -> set[str]:
    """The words of ``text`` as an address spells them: lower case, accents dropped, a
    German umlaut either way ("Löwe" is "lowe" and "loewe")."""
    folded = text.casefold()
    spelt = folded.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    plain = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    return set(re.findall(r"\w+", spelt)) | set(re.findall(r"\w+", plain))


#: A link to a site's home page ("/", "https://example.org/").
_HOME = re.compile(r"(?:https?://[^/?#]+)?/?")


def _links_home(heading: Any) -> bool:
    """Whether ``heading`` holds a link to its site's home page: the site's name."""
    return any(_HOME.fullmatch((link.get("href") or "#").strip()) for link in heading.iter("a"))


#: The marks between a page's headline and the site's name after it: " | Site", " - Site",
#: a full-width colon.
_SITE_MARKS = "|-\u2013\u2014:\uff1a\u00b7\u00bb"


def _without_site_name(title: str | None, site: str | None) -> str | None:
    """``title`` without the site's name the page appends to its headline ("… | 한국일보",
    Asahi's after a full-width colon; from og:site_name): where a feed gives no title, and for every
    article of a page source, it was the article's title in alerts and their subjects (a
    review of the emails). The name is compared, in any case, where it would end the title,
    spaces aside, after a mark: an expression of the whole suffix compiled for each site's
    name cost 0.13 ms a site in every page worker."""
    if not title or not site or len(site) >= len(title):
        return title
    for start in range(max(0, len(title.rstrip()) - len(site)), len(title) - len(site) + 1):
        before = title[:start].rstrip()
        if (before and before[-1] in _SITE_MARKS and re.fullmatch(
                re.escape(site), title[start:start + len(site)], flags=re.IGNORECASE)):
            return before[:-1].rstrip() or title
    return title


#: One word, a section's name rather than a headline ("Pressemitteilungen", "Aktuelles").
_ONE_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def _not_a_section(title: str | None, tree: Any) -> str | None:
    """None where the page's meta title names its section, not its article: one word the
    page's <title> of several words does not say (og:title "Pressemitteilungen" where the
    <title> is "BDZV: Olafur Eliasson gestaltet Titelseite …"; TYPO3's news pages give the
    section's og:title after the article's, "Aktuelles"; 4 of the corpora's 1,058 labelled
    titles): the alerts of the site's pages that no feed titles were so titled. The
    JSON-LD's headline, or the page's <h1> or <title>, is then the title (one regular
    expression a page; the <title> looked at for a title of one word)."""
    if not title or _ONE_WORD.fullmatch(title.strip()) is None:
        return title
    head = tree.find("head")
    element = head.find("title") if head is not None else None
    whole = " ".join(element.text_content().split()) if element is not None else ""
    if len(whole.split()) > 1 and title.strip().casefold() not in whole.casefold():
        return None
    return title


def _uncut_title(title: str | None, tree: Any) -> str | None:
    """``title`` whole where an unescaped quote of its meta tag cut it: the page's <title>
    when it goes on from the cut with a quote ('content="Senador ... de "incapacitado""' is
    read "Senador ... de ": the subject of the alert of El Universal's page, and of
    Hamburger Abendblatt's, two of the corpora's 1,058 labelled titles). The cut leaves the
    space before the quote: a title that does not end with one is whole."""
    if not title or not title[-1].isspace():
        return title
    head = tree.find("head")
    element = head.find("title") if head is not None else None
    if element is None:
        return title
    cut, whole = " ".join(title.split()), " ".join(element.text_content().split())
    if whole.startswith(cut) and whole[len(cut):].lstrip().startswith('"'):
        return whole
    return title


#: A mark between a headline and what a page's title adds to it (the site's name, its
#: section, a date), spaces around it; a full-width bar or colon needs none.
_TITLE_PARTS = re.compile(r"\s+[|\-\u2013\u2014\u00b7\u00bb\u203a\u22c6*]\s+|\s*[\uff5c\uff1a]\s*")


#: :data:`_TITLE_PARTS`, or a colon with spaces around it ("… : 31.10.2023, 10.19 Uhr",
#: "Pétition : …"); a colon written as in a sentence ("Kenia: Nairobi von unten") ends the
#: kicker the publishers' own titles keep.
_SHOWN_PARTS = re.compile(_TITLE_PARTS.pattern + r"|\s+:\s+")


def _as_shown(title: str | None, tree: Any) -> str | None:
    """``title`` as the page's <h1> shows it, where the title adds to it after or before a
    mark (:data:`_SHOWN_PARTS`) what the page's headline does not say: "… - WELT" beside
    og:site_name "DIE WELT", "… - Golem.de" beside the editors' handle, "… | DW | 28.04.2023",
    "Tageblatt.lu | Sport | …" (56 of the corpora's 1,058 labelled titles; the alerts of
    such a site's pages that no feed titles were all so titled), a date after " : ". The
    part an <h1> says whole, longer than the rest; the title itself where an <h1> says it,
    unless the <h1> shows the part in an element of its own beside a kicker's ("<span
    class=kicker>Corona-Pandemie</span> <span>„Es kommt …“</span>", "<span
    class=subtitle>…</span> Getränke per Schiff …": 8 more of the corpora's labelled
    titles). The page's headings are looked at only for a title with a mark (a fifth of
    real pages' titles, 0.13 ms each)."""
    if not title or _SHOWN_PARTS.search(title) is None:
        return title
    headings: set[str] = set()
    pieces: set[str] = set()
    for heading in islice(tree.iter("h1"), 20):
        headings.add(" ".join(heading.text_content().split()).casefold())
        if any(isinstance(child.tag, str) for child in heading):
            pieces.update(piece.casefold() for piece in _pieces(heading))
    whole = " ".join(title.split()).casefold() in headings
    for mark in _SHOWN_PARTS.finditer(title):
        before, after = title[:mark.start()].strip(), title[mark.end():].strip()
        for part, rest in ((before, after), (after, before)):
            folded = " ".join(part.split()).casefold()
            if len(part) > len(rest) and (folded in pieces or (
                    not whole and folded in headings)):
                return part
    return title


def _pieces(heading: Any) -> Iterator[str]:
    """What the elements of an <h1> with a kicker of its own show: each one's text whole,
    and its own (the text not inside its children: the headline after a kicker's <span>
    or <div>), spaces folded."""
    for element in heading.iter():
        if not isinstance(element.tag, str):
            continue
        yield " ".join(element.text_content().split())
        own = [element.text or ""] + [child.tail or "" for child in element]
        yield " ".join(" ".join(own).split())


#: A typesetter's quotes, apostrophes, dashes and ellipsis as a typewriter writes them.
_TYPEWRITTEN = str.maketrans({**dict.fromkeys("\u2018\u2019\u201a\u201b\u2039\u203a", "'"),
                              **dict.fromkeys("\u201c\u201d\u201e\u201f\u00ab\u00bb", '"'),
                              **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
                              "\u2026": "..."})
#: The typewriter's marks a title's template may write for the headline's typeset ones: an
#: apostrophe, a straight quote, a hyphen between spaces (a hyphen in a word is one in the
#: headline too), three full stops.
_TYPEWRITER_MARKS = re.compile(r"['\"]|\s-\s|\.\.\.")


def _typeset_as_shown(title: str | None, tree: Any) -> str | None:
    """``title`` with the quotes, apostrophes, dashes and ellipsis the page's <h1> shows it
    with, where the page's meta title or <title> writes them as a typewriter does
    ("Warum ich lieber "Bauchgeburt" statt …" beside the <h1>'s „Bauchgeburt“, "Energy
    Rising - 33 Tage …" beside the <h1>'s en dash, "Editor's Letter" beside its typeset
    apostrophe: 16 of title_bench's 1,032 labelled titles; the alert showed the headline
    as the page does not, its text, as the page does, beside it). An <h1>, or an
    element of an <h1> with a kicker of its own, whose text is the title but for those
    marks, and has fewer of the typewriter's; looked at only for a title with one of them
    (0.02 ms a page then, on a page of 80 KB)."""
    if not title or _TYPEWRITER_MARKS.search(title) is None:
        return title
    typewritten, marks = title.translate(_TYPEWRITTEN), len(_TYPEWRITER_MARKS.findall(title))
    for heading in islice(tree.iter("h1"), 20):
        shown = (_pieces(heading) if any(isinstance(child.tag, str) for child in heading)
                 else (heading.text_content(),))
        for text in shown:
            text = line_processing(text) or ""
            if (text.translate(_TYPEWRITTEN) == typewritten
                    and len(_TYPEWRITER_MARKS.findall(text)) < marks):
                return text
    return title


#: A mark left at the end of a title whose template's slot for the site's name is empty
#: ("Pferdesport definitiv bei Olympia 2028 dabei -").
_DANGLING_MARK = re.compile(r"\s+[|\-\u2013\u2014\u00b7]$")


def _without_site_part(title: str | None, url: str, site: str | None) -> str | None:
    """``title`` without the part between marks (:data:`_TITLE_PARTS`) that names the site
    in a form :func:`_without_site_name` does not match: its host's name ("… - La Stampa"
    on lastampa.it, whose og:site_name is "lastampa.it"; "… | MDR.DE", "… -
    www.AussenGedanken.de", "INDUSTRIEMAGAZIN | …" without a headline in an <h1>), or
    og:site_name with more after it ("… | The Gateway Pundit | by Cristina Laila", "… |
    petri-heil.ch | Dein Schweizer Fischereimagazin"): where a feed gives no title, the
    alerts of such a site's pages all said it in their subject. The part names the site
    when its letters and digits are the host's (without "www.", with its domain's suffix or
    without: one name of four characters or more) or og:site_name's, whole; the title is
    then what stands before it, or after it where it comes first. A dangling mark at the
    end (an empty slot for the site's name) goes too."""
    if not title:
        return title
    title = _DANGLING_MARK.sub("", title.rstrip()) or title
    marks = list(_TITLE_PARTS.finditer(title))
    if not marks:
        return title
    names = _site_names(url, site)
    starts = [0] + [mark.end() for mark in marks]
    ends = [mark.start() for mark in marks] + [len(title)]
    for index in (*range(1, len(starts)), 0):
        if _letters(title[starts[index]:ends[index]]) in names:
            kept = title[:marks[index - 1].start()] if index else title[marks[0].end():]
            return kept.strip() or title
    return title


def _site_names(url: str, site: str | None) -> set[str]:
    """The site's names as :func:`_letters` spells them: its host's ("www.lastampa.it":
    "lastampait", "lastampa"; "www.mdr.de": "mdrde"; names of four characters or more, not
    an address's numbers), and og:site_name's."""
    try:
        host = (urlsplit(url).hostname or "").removeprefix("www.")
    except ValueError:  # an address the crawl kept as it was given ("http://[::1")
        host = ""
    labels = host.split(".") if not host.replace(".", "").isdigit() else []
    names = {_letters(".".join(labels[i:])) for i in range(len(labels) - 1)}
    names |= {_letters(label) for label in labels[:-1]}
    if site:
        names.add(_letters(site))
    return {name for name in names if len(name) >= 4}


def _letters(text: str) -> str:
    """The letters and digits of ``text``, lower case, without a leading "www"
    ("www.AussenGedanken.de": "aussengedankende")."""
    return "".join(re.findall(r"[^\W_]", text.casefold())).removeprefix("www")


def _value(value: object) -> str | None:
    return str(value) if value else None


def unwrap_layout_tables(tree: Any) -> None:
    """Turn each table that lays out the page (LAYOUT_CELL_CHARS) into the blocks it holds:
    its rows and cells become ``div`` elements, in place, each run of a cell's loose text
    between its blocks a paragraph (:func:`_loose_paragraphs`). Tables of data stay
    tables."""
    layout = []
    for table in tree.iter("table"):
        for row in table.iter("tr"):
            if _owner(row) is not table:
                continue
            if any(cell.tag in ("td", "th") and _lays_out(cell) for cell in row):
                layout.append(table)
                break
    parts = [e for table in layout for e in table.iter(*_TABLE_PARTS)
             if e is table or _owner(e) is table]  # all found before any is renamed
    for element in parts:
        if element.tag in ("td", "th"):
            _loose_paragraphs(element)
        element.tag = "div"
        for name in ("colspan", "rowspan"):
            element.attrib.pop(name, None)


#: Elements that stand inside a line of text: a layout cell's loose text is its own text,
#: these elements and the tails between its blocks.
_INLINE = frozenset({
    "a", "abbr", "acronym", "b", "big", "br", "cite", "code", "em", "font", "i", "img", "nobr",
    "q", "s", "small", "span", "strike", "strong", "sub", "sup", "tt", "u", "wbr",
})


def _loose_paragraphs(cell: Any) -> None:
    """Put each run of loose text (text and inline elements) between the blocks of a layout
    cell in a paragraph of its own, in place. A table-laid page of the 2000s writes some of
    its story so, among its ``<p>`` and ``<font>`` blocks: text and ``<br>`` after a
    picture's table, after a subheading, after the last ``</p>``. Once the table is
    unwrapped the cell is a ``div``, whose loose text trafilatura's own extraction leaves
    out: those paragraphs were lost from otherwise kept articles (topics on their words never
    alerted). The runs then go through the line rules as any paragraph does (a donation or
    registration prompt among them is a prompt, :func:`is_prompt`)."""
    children = list(cell)
    inline = [_inline(child) for child in children]
    if all(inline):
        return  # a cell of loose text alone (a menu, a footer, a story in ``<font>``)
    run: list[Any] = []
    before: Any = None  # the block the run follows (None: the cell's start)
    for child, is_inline in zip([*children, None], [*inline, False], strict=True):
        if is_inline:
            run.append(child)
            continue
        text = cell.text if before is None else before.tail
        # A run of white space, breaks or spacer images is left as it stood.
        if _solid(text) or any(_solid(e.tail) or (isinstance(e.tag, str) and _solid(
                e.text_content())) for e in run):
            paragraph = etree.Element("p")
            paragraph.text = text
            paragraph.extend(run)
            if before is None:
                cell.text = None
                cell.insert(0, paragraph)
            else:
                before.tail = None
                before.addnext(paragraph)
        run, before = [], child


def _inline(element: Any) -> bool:
    """Whether ``element`` stands inside a line of text (a comment, or inline elements)."""
    return not isinstance(element.tag, str) or all(
        not isinstance(e.tag, str) or e.tag in _INLINE for e in element.iter())


def _owner(element: Any) -> Any:
    """The table an element of a table belongs to (its nearest ``table`` ancestor)."""
    return next(element.iterancestors("table"), None)


def _lays_out(cell: Any) -> bool:
    if next(cell.iter(*_LAYOUT_TAGS), None) is not None:
        return True
    return _solid(cell.text_content()) >= LAYOUT_CELL_CHARS


def _text(document: Document | None) -> str:
    return table_cells((document.text or "").strip()) if document is not None else ""


_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def table_cells(text: str) -> str:
    """``text`` with each of its table rows (``| cell | cell |``, a cell's own ``|`` written
    ``\\|``) written as its cells, one a line; separator rows and empty cells dropped."""
    if "|" not in text:
        return text
    lines = []
    for line in text.split("\n"):
        row = line.strip()
        if not (len(row) > 1 and row.startswith("|") and row.endswith("|")):
            lines.append(line)
            continue
        for cell in _CELL_SPLIT.split(row[1:-1]):
            cell = cell.strip().replace("\\|", "|")
            if cell and any(c.isalnum() for c in cell):
                lines.append(cell)
    return "\n".join(lines).strip()


def extract_article(
    html: str | bytes, url: str, container: str | None = None, *, author: bool = True,
    date: bool = True,
) -> Extracted | None:
    """The article in ``html``, or None when the page has no recognisable article text.

    ``container``: the :func:`container_path` that the site's articles were found in (learnt
    by the crawl from the site's earlier pages, :mod:`crawler.containers`). When the page
    has exactly one element of that path, holding CONTAINER_PARAGRAPH_SHARE of its paragraph
    text at least, the article is extracted from that element alone (the title, author, date
    and canonical URL from the whole page), which costs about half of the whole page's
    extraction, and kept when the fast pass's text is enough for the element or for the
    whole page (weighed as the whole page's extraction weighs it); else it is extracted from
    the whole page (the cut runs no other pass). The result says which
    (:attr:`Extracted.cut`) and, from the whole page, which element held the article
    (:attr:`Extracted.container`). ``author`` / ``date`` False: the page's are not looked
    for (:func:`page_metadata`), where the feed gives them."""
    read_meta = partial(page_metadata, author=author, date=date)
    try:
        tree = _parsed(html)
        if tree is None:
            return None
        box = find_container(tree, container) if container is not None else None
        if box is not None and container is not None:
            found = _extract_cut(tree, box, url, container, read_meta)
            if found is not None:
                return found
            if tree.getparent() is not None:  # cut in place (_cut): parsed again
                tree = _parsed(html)
        found = _extract_tree(tree, url, read_meta=read_meta)
        if found is None and (rendered := _rendered(html)) is not None:
            found = _extract_tree(rendered, url, read_meta=read_meta)
            if found is not None and not _headlined(found.title, found.text):
                return None  # the payload's markup is another story's (a related card)
        return found
    finally:
        _fold_line.cache_clear()


#: A run of a script written without spaces between its words (Thai, Lao, Burmese, Khmer,
#: Chinese, Japanese; Hangul's syllables too): read two characters at a time.
_SYLLABIC = re.compile(UNSPACED.pattern + "+")


def _headline_marks(text: str) -> set[str]:
    """What a headline and its text share when one heads the other: the first five letters
    of each word of four or more (Bundestagswahl / Bundestag, leaving / leaves), and each
    two characters in a row of a script written without spaces (Japanese, Chinese)."""
    marks = {word.casefold()[:5] for word in re.findall(r"[^\W\d_]{4,}", _SYLLABIC.sub(" ", text))}
    for run in _SYLLABIC.findall(text):
        marks.update(run[i : i + 2] for i in range(len(run) - 1))
    return marks


def _headlined(title: str | None, text: str) -> bool:
    """Whether ``text`` holds two of the marks of the page's ``title`` (:func:`_headline_marks`;
    its only one when it has one; a title without any says nothing against it): the markup
    a page's scripts render is its article, not a related story's card (a video page whose
    payload holds another story's text stored that text as its own; a diff review)."""
    wanted = _headline_marks(title or "")
    if not wanted:
        return True
    return len(wanted & _headline_marks(text)) >= min(2, len(wanted))


def _rendered(html: str | bytes) -> Any:
    """The page with its body made of the markup its Next.js App Router payload holds
    (:func:`crawler.articlebody.flight_markup`), its head kept; None when it holds none. A
    page that renders its article from its scripts (Hankook Ilbo's) has no article text
    in its markup: its body was lost, a topic on it never alerted (a review)."""
    tree = _parsed(html)
    if tree is None or (body := tree.find("body")) is None:
        return None
    markup = flight_markup(tree)
    if not markup:
        return None
    for child in list(body):
        body.remove(child)
    article = etree.SubElement(body, "article")
    for text in markup:
        try:
            article.append(fragment_fromstring(text, create_parent="div"))
        except (ValueError, TypeError, etree.ParserError):
            continue
    return tree


def _parsed(html: str | bytes) -> Any:
    """The page's tree, its layout tables unwrapped; None when it is not HTML."""
    tree = load_page(html)
    if tree is not None:
        unwrap_layout_tables(tree)
    return tree


def _extract_cut(
    tree: Any, box: Any, url: str, container: str, read_meta: Callable[[Any, str], Metadata]
) -> Extracted | None:
    """The article of the page ``tree`` cut to ``box``, its ``container``, with what the
    rules read of the whole page (its metadata by ``read_meta``)."""
    whole = _Whole(tree, url, read_meta)
    return _extract_tree(_cut(tree, box), url, whole, container)


class _Whole:
    """What the rules read of the whole page when the article is extracted from its
    container: the metadata, the canonical URL, the texts of its links (a line that is a
    link's text elsewhere on the page is chrome), and the sizes the fast pass's text is
    weighed against, as for the whole page: its paragraph text and its text outside links.
    The page's text (white space removed: a line that stands outside a chrome box elsewhere
    is kept), and so its text outside links, is read only when a rule needs it: most cuts
    are settled by the element's own sizes, and no line of theirs stands in a chrome box."""

    def __init__(self, tree: Any, url: str, read_meta: Callable[[Any, str], Metadata]
                 ) -> None:
        self.tree = tree
        self._anchors = link_list(tree)
        self.links = set(self._anchors)
        self.meta = read_meta(tree, url)
        self.canonical, self.next_url = declared_links(tree, url)
        self.paragraphs = paragraph_chars(tree)
        # A tree that is not its document's root is cut in place (_cut): its text first.
        self._text = page_text(tree) if tree.getparent() is not None else None

    @property
    def text(self) -> str:
        """The page's :func:`page_text`."""
        if self._text is None:
            self._text = page_text(self.tree)
        return self._text

    @property
    def unlinked(self) -> int:
        """The page's :func:`unlinked_chars`, from what is read here."""
        return _outside_links(len(self.text), self._anchors)


def _extract_tree(tree: Any, url: str, whole: _Whole | None = None,
                  container: str | None = None,
                  read_meta: Callable[[Any, str], Metadata] = page_metadata) -> Extracted | None:
    """The article of the page ``tree`` (its metadata by ``read_meta``), or of the part of a
    page cut to its ``container`` with what the rules read of the ``whole`` page."""
    tried: dict[Method, Document | None] = {}
    walk = walk_page(tree)
    links = set(walk.links.values())
    if whole is not None:
        links |= whole.links
        walk.whole = whole
    paragraphs = paragraph_chars(tree)
    if whole is not None and paragraphs < CONTAINER_PARAGRAPH_SHARE * whole.paragraphs:
        return None  # the page's paragraphs are elsewhere: not the site's usual article

    def run(method: Method) -> str:
        if method not in tried:
            document = extract_pass(tree, url, method)
            if link_share(tree, _text(document), links) >= MAX_LINK_SHARE:
                document = None
            tried[method] = document
        return _text(tried[method])

    headings = subheadings(tree)
    unlinked = unlinked_chars(tree, walk)
    if whole is None:
        chosen = choose(paragraphs, run, unlinked=unlinked, headings=headings)
    elif fast_taken(run("fast"), paragraphs, unlinked, headings) or fast_taken(
        run("fast"), whole.paragraphs, whole.unlinked, headings
    ):
        # Enough for the element, or for the whole page as its full extraction weighs the
        # same text (the page's paragraphs and text outside links around the element).
        chosen = "fast"
    else:
        return None  # only the fast pass's text is kept from a cut: the page goes in full
    document = tried[chosen]
    text = _text(document)
    if document is None or len(text) < MIN_TEXT_CHARS:
        return None
    text = with_left_out_lists(tree, text, walk, links)
    text = without_chrome_lines(text, anchor_texts(tree, links))
    text = without_lines(text, chrome_box_lines(tree, text, walk))
    text = without_lines(text, picture_captions(tree, text, walk))
    text = without_lines(text, trailing_italics(tree, text, walk))
    text = completed(text, tree if whole is None else whole.tree) or text
    intro = lede(tree, text, walk, None if whole is None else whole.tree)
    if intro is not None:
        text = f"{intro}\n{text}"
    if whole is None:
        meta = read_meta(tree, url)
        # Read from the page, not trafilatura's metadata: trafilatura normalizes the URL
        # with courlan, which decodes "&sect" in "&sectionid=" to "§" and drops parameters.
        canonical, next_url = declared_links(tree, url)
    else:
        meta, canonical, next_url = whole.meta, whole.canonical, whole.next_url
    return Extracted(
        text=text,
        title=meta.title,
        author=meta.author,
        date=meta.date,
        canonical_url=canonical,
        site=meta.site,
        method=chosen,
        container=container if container is not None else (
            article_container(text, walk) if chosen == "fast" else None),
        cut=container is not None,
        next_url=next_url,
    )


#: A page cut to a learnt container keeps at least this share of the page's paragraph text
#: (paragraph_chars), or it is extracted in full: the site's element holds a summary or a
#: teaser on this page, its article stands elsewhere. (Cut to the element of their own
#: article, the corpora's real pages and the cycle's heavy pages keep at least half.)
CONTAINER_PARAGRAPH_SHARE = 0.4
#: One step of a :func:`container_path`: ``tag.class#id``; the steps, root first, joined by
#: CONTAINER_SEP.
_STEP = "{}.{}#{}"
_SEP = CONTAINER_SEP


_DIGITS = re.compile(r"\d+")


def _step(element: Any) -> str:
    """An element's step of a :func:`container_path`; numbers in its names read as 0 (a
    site names its articles' elements ``post-1105``, ``ts-article#25784520``)."""
    name = _DIGITS.sub("0", " ".join((element.get("class") or "").split()))
    ident = _DIGITS.sub("0", (element.get("id") or "").strip())
    return _STEP.format(element.tag, name, ident)


def container_path(element: Any) -> str:
    """The path of ``element`` from the page's ``body``: each ancestor's and its own tag,
    class and id (``div.main# > article.story#``), without positions or numbers."""
    steps = []
    while element is not None and element.tag not in ("body", "html"):
        steps.append(_step(element))
        element = element.getparent()
    return _SEP.join(reversed(steps))


def article_container(text: str, walk: PageWalk) -> str | None:
    """The :func:`container_path` of the innermost element of the page that holds every
    line of the article ``text`` (its lede and headline included); None when it is the
    page's body, or when a line is not the whole text of an element of the page
    (:func:`line_elements`: trafilatura joined or cut it)."""
    found = line_elements(text, walk)
    if not found or len(found) < len({_fold_line(line) for line in text.split("\n")} - {""}):
        return None
    common: list[Any] | None = None
    for element in found.values():
        chain = [element, *element.iterancestors()]
        chain.reverse()  # the root first
        if common is None:
            common = chain
            continue
        size = 0
        for mine, theirs in zip(common, chain, strict=False):
            if mine is not theirs:
                break
            size += 1
        del common[size:]
    if not common or common[-1].tag in ("body", "html"):
        return None
    return container_path(common[-1])


def find_container(tree: Any, path: str) -> Any:
    """The one element of the page ``tree`` at ``path`` (:func:`container_path`); None when
    the page has none or several."""
    steps = path.split(_SEP)
    tag = steps[-1].split(".", 1)[0]
    match = None
    for element in tree.iter(tag):
        if _step(element) == steps[-1] and container_path(element) == path:
            if match is not None:
                return None
            match = element
    return match


def _cut(tree: Any, box: Any) -> Any:
    """The page ``tree`` cut to ``box``: each of its ancestors below the root keeps only the
    child that leads to it (their tags and names stay: trafilatura's passes look for the
    article by them), the head stays. A copy in a document of its own, where ``tree`` is its
    document's root (it is left whole, and the copy costs an eighth of reading the whole
    page's text); else ``tree`` itself, cut in place."""
    if tree.getparent() is not None:
        _keep_only(tree, box)
        return tree
    if box is tree:
        cut = deepcopy(box)
        cut.tail = None
        return cut
    chain = [box, *box.iterancestors()]  # from the box up to the root, ``tree``
    # The ancestors from the first html element up are copied whole but for the path to
    # the box (_keep_only stops there); those below keep the path alone.
    whole = next((n for n, element in enumerate(chain) if n and element.tag == "html"),
                 len(chain))
    cut = node = PARSER.makeelement(tree.tag, tree.attrib)
    cut.tail = tree.tail
    for n in range(len(chain) - 1, 0, -1):
        element, below = chain[n], chain[n - 1]
        if n >= whole:
            node.text = element.text
            for child in element:
                if child is below:
                    path = _path_copy(node, below, box=n == 1)
                else:
                    node.append(deepcopy(child))
        else:
            if n <= LEDE_LEVELS:
                for holder in _lede_holders(element, below):
                    node.append(deepcopy(holder))
            path = _path_copy(node, below, box=n == 1)
            path.tail = None
        node = path
    return cut


#: The cut keeps the standfirst before the article's element: the elements before the box,
#: or before its ancestors up to this many levels above it, that hold an element named as a
#: lede (LEDE_NAME_WORDS; an article's header: headline, standfirst, byline). A site's pages
#: without a standfirst teach it the body's element; cut to it, a page with one lost it.
#: (Higher up, what stands before is the page's header and menus: a look through them cost
#: a tenth of the cut page's extraction.)
LEDE_LEVELS = 1


def _lede_holders(element: Any, below: Any) -> list[Any]:
    """The children of ``element`` before ``below`` that hold an element named as a lede."""
    holders = []
    for child in element:
        if child is below:
            break
        if isinstance(child.tag, str) and any(
            _names_lede(part) for part in child.iter() if isinstance(part.tag, str)
        ):
            holders.append(child)
    return holders


def _names_lede(element: Any) -> bool:
    name, ident = element.get("class"), element.get("id")
    if name is None and ident is None:
        return False
    return _name_facts(f"{name or ''} {ident or ''}")[1]


def _path_copy(parent: Any, element: Any, *, box: bool) -> Any:
    """A copy of ``element`` appended to ``parent``: with what it holds when it is the box
    (its tail left out), else without (its tail kept)."""
    if box:
        copied = deepcopy(element)
        copied.tail = None
        parent.append(copied)
        return copied
    copied = etree.SubElement(parent, element.tag, element.attrib)
    copied.tail = element.tail
    return copied


def _keep_only(tree: Any, box: Any) -> None:
    """:func:`_cut` in place."""
    box.tail = None
    child = box
    for level, ancestor in enumerate(box.iterancestors(), 1):
        if ancestor.tag == "html":
            break
        ancestor.text = None
        kept = _lede_holders(ancestor, child) if level <= LEDE_LEVELS else []
        for other in list(ancestor):
            if other is not child and not any(other is k for k in kept):
                ancestor.remove(other)
        child.tail = None
        child = ancestor


def choose(
    paragraphs: int, run: Callable[[Method], str], gate: float = ENOUGH_OF_PARAGRAPHS,
    unlinked: int = 0, fast: bool = True, headings: Sequence[tuple[str, str]] = (),
) -> Method:
    """The pass of the cascade whose text to keep, for a page with ``paragraphs`` characters
    of paragraph text and ``unlinked`` characters of text outside its links (white space
    aside); ``run(method)`` gives a pass's text. The fast pass (when ``fast``) is kept when
    it is not short for the page (:func:`fast_enough`); else the default pass is run, and
    the recall pass only when the default pass is short for the page (``gate``: the share of
    the paragraph text that is enough). Nor is the fast pass kept when it leaves out one of
    the page's ``headings`` (:func:`subheadings`) whose paragraph it kept: trafilatura's
    own extraction drops the subheadings of some articles, which the default pass's
    comparison with readability keeps."""
    if fast and fast_taken(run("fast"), paragraphs, unlinked, headings):
        return "fast"
    default = len(run("default"))
    if default >= MIN_TEXT_CHARS and default >= gate * paragraphs:
        return "default"
    recall = len(run("recall"))
    return "recall" if recall > default else "default"


def fast_taken(
    text: str, paragraphs: int, unlinked: int, headings: Sequence[tuple[str, str]]
) -> bool:
    """Whether the fast pass's ``text`` is kept (see :func:`choose`)."""
    return fast_enough(text, paragraphs, unlinked) and not dropped_subheading(text, headings)


def fast_enough(text: str, paragraphs: int, unlinked: int) -> bool:
    """Whether the fast pass's ``text`` is enough for a page with ``paragraphs`` characters of
    paragraph text and ``unlinked`` of text outside links: at least FAST_MIN_CHARS long,
    FAST_ENOUGH of the paragraph text (and at most FAST_MOST of it) and FAST_OF_TEXT of the
    text outside links."""
    size = len(text)
    return (size >= FAST_MIN_CHARS and FAST_ENOUGH * paragraphs <= size <= FAST_MOST * paragraphs
            and _solid(text) >= FAST_OF_TEXT * unlinked)


def subheadings(tree: Any) -> list[tuple[str, str]]:
    """The page's subheadings that open a paragraph of article size: (the heading's text, the
    start of the paragraph after it), white space folded."""
    found = []
    for heading in tree.iter("h2", "h3", "h4", "h5", "h6"):
        after = heading.getnext()
        if after is None or after.tag != "p":
            continue
        paragraph = " ".join(after.text_content().split())
        title = " ".join(heading.text_content().split())
        if len(paragraph) >= PARAGRAPH_CHARS and title:
            found.append((title, paragraph[:SUBHEADING_PROBE]))
    return found


def dropped_subheading(text: str, headings: Sequence[tuple[str, str]]) -> bool:
    """Whether ``text`` keeps the paragraph after one of ``headings`` but not the heading."""
    if not headings:
        return False
    folded = " ".join(text.split())
    return any(start in folded and title not in folded for title, start in headings)


#: A list's neighbours are looked for in a pass's lines by this many characters: the end of
#: the text before the list, the start of the text after it.
LIST_PROBE = 40
#: What a list's text and a pass's lines are compared without: white space (a ``<br>`` in an
#: item is a line break in the pass, nothing in the item's text), soft hyphens and other
#: invisible breaks (a German site's ``&shy;`` in its long words, which trafilatura drops).
_UNSEEN_BREAKS = "\u00ad\u200b\u2060\ufeff"
_BARE = re.compile(rf"[\s{_UNSEEN_BREAKS}]+")
_INVISIBLE = re.compile(f"[{_UNSEEN_BREAKS}]+")


def _bare(text: str) -> str:
    """``text`` as a list's and a pass's lines are compared (_UNSEEN_BREAKS)."""
    return _BARE.sub("", text)


def _item_line(item: Any) -> str:
    """A list item's text as a line: a ``<br>`` a space (its text_content ran "First
    point<br>continued" into "First pointcontinued"), without invisible breaks."""
    parts: list[str] = []
    for event, node in etree.iterwalk(item, events=("start", "end")):
        if event == "start":
            if node.tag == "br":
                parts.append(" ")
            elif isinstance(node.tag, str) and node.text:
                parts.append(node.text)
        elif node is not item and node.tail:
            parts.append(node.tail)
    return _fold(_INVISIBLE.sub("", "".join(parts)))


def _showing_texts(tree: Any) -> tuple[list[str], dict[Any, tuple[int, int]]]:
    """The page's texts that show something (not white space alone, an older page's
    ``&nbsp;`` between its blocks among it; not a script's or a style's), in the page's
    order, and for each list (``ul``, ``ol``) how many of them stand before it and before its
    end. Read in one pass: an XPath ``preceding::text()`` a list read the page again for each
    (a page of 1,000 lists of text, 1.2 MB: 22 s)."""
    texts: list[str] = []
    places: dict[Any, tuple[int, int]] = {}
    for event, node in etree.iterwalk(tree, events=("start", "end")):
        if event == "start":
            if node.tag in ("ul", "ol"):
                places[node] = (len(texts), len(texts))
            if isinstance(node.tag, str) and node.tag not in ("script", "style") and (
                    node.text and node.text.strip(" \t\r\n\u00a0")):
                texts.append(node.text)
        else:
            if node.tag in ("ul", "ol"):
                places[node] = (places[node][0], len(texts))
            if node.tail and node.tail.strip(" \t\r\n\u00a0"):
                texts.append(node.tail)
    return texts, places


def with_left_out_lists(tree: Any, text: str, walk: PageWalk, links: set[str]) -> str:
    """``text`` with the items of the page's lists that it left out after one of its lines:
    a list (``ul``, ``ol``) of lines of text (its items hold no blocks, most of its text
    outside links: MAX_LINK_SHARE), none of whose items ``text`` holds, where a line of
    ``text`` ends with the text right before the list and either announces it (ends with a
    colon) or is followed by the line that starts with the text right after the list. Its
    items are put after that line, one a line (``- item``, as trafilatura writes a list).
    trafilatura's fast and default passes, on a page whose article stands in no element they
    know (an older page's paragraphs straight in the body or in a layout table's cell),
    gather the paragraphs one by one and leave the lists out (only the recall pass takes
    them): the paragraph that announced a list ("The aims of the research were to:") and the
    one after it were kept, the items lost, and topics on their words never alerted. The
    items then go through the line rules as any line does; readers' comments (items holding
    blocks), menus (links) and lists in boxes named as chrome (:func:`chrome_name`) are
    left out as they were. Texts are compared without white space and invisible breaks
    (_bare): a list the pass took, its items' ``<br>`` or ``&shy;`` written otherwise, was
    put back again.
    ``walk``: the page's :func:`walk_page`; ``links``: the texts of its links
    (:func:`link_texts`: most lists of a page are menus, whose first item is one).
    """
    bare: str | None = None
    lines: list[str] = []
    bare_lines: list[str] = []
    showing: tuple[list[str], dict[Any, tuple[int, int]]] | None = None
    for element in tree.iter("ul", "ol"):
        first = element.find("li")
        parent = element.getparent()
        if first is None or (parent is not None and parent.tag == "li"):
            continue  # not a list of items, or a nested list (read with its outermost one)
        if not all(_inline(child) for child in first) or _fold(first.text_content()) in links:
            continue  # items of blocks (cards, comments, a menu's sections), or of links
        size = walk.sizes.get(element, 0)
        if not size or sum(walk.sizes.get(a, 0) for a in element.iter("a")) >= (
                MAX_LINK_SHARE * size):
            continue  # mostly links: a list of stories
        listed = list(element.iterchildren("li"))
        items = [line for line in map(_item_line, listed) if line]
        if not items:
            continue
        if bare is None:
            bare = _bare(text)
            lines = text.split("\n")
            bare_lines = [_bare(line) for line in lines]
        if _bare(items[0][:LIST_PROBE]) in bare or _bare(items[-1][:LIST_PROBE]) in bare:
            continue  # the pass took the list
        if not all(_inline(child) for item in listed for child in item):
            continue  # items of blocks (readers' comments, teaser cards, a nested list)
        if any(chrome_name(box) for box in (element, *element.iterancestors())):
            continue  # a list in a chrome box (a comment counter: "Comments", "5,544")
        if showing is None:
            showing = _showing_texts(tree)
        texts, places = showing
        opening, closing = places[element]
        end = _bare(_fold(texts[opening - 1])[-LIST_PROBE:]) if opening else ""
        start = _bare(_fold(texts[closing])[:LIST_PROBE]) if closing < len(texts) else ""
        if not end:
            continue
        for n, line in enumerate(bare_lines):
            if line.endswith(end) and (line.endswith(":") or (
                    start and n + 1 < len(lines) and bare_lines[n + 1].startswith(start))):
                put = [f"- {item}" for item in items]
                lines[n + 1:n + 1] = put
                bare_lines[n + 1:n + 1] = [_bare(line) for line in put]
                bare += "".join(bare_lines[n + 1:n + 1 + len(put)])
                break
    return "\n".join(lines) if lines else text


def reset_caches() -> None:
    """Free trafilatura's caches; called after each crawl so that the daemon stays small."""
    trafilatura.meta.reset_caches()
