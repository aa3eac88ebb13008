"""Article extraction: the main text of a news page, without its navigation, related links,
comments or footer (trafilatura).

A cascade that never keeps less than the page's article: trafilatura's default settings
first, then its recall mode when what the default pass found is short for the page. "Short
for the page" is judged from the page itself: the text of its paragraphs (``<p>`` elements
of at least PARAGRAPH_CHARS characters), which an article's body is made of. A pass whose
text is mostly the page's link texts found a list of links, not an article, and is not kept.
Thresholds measured with ``python -m benchmarks.extraction`` (docs/benchmarks.md).

Then, line by line (trafilatura writes one paragraph a line), lines that are mostly link
text (DROP_LINK_SHARE: "Read also: <a>another story</a>", a related story's headline) and
short photo credits and copyright lines (``© AFP / Name``, ``Foto: Name``, ``Crédits photos :
Agence``) are dropped: site chrome that single-page extraction keeps, whose words would
alert.

One pass on almost every page: trafilatura's precision mode first (the cascade before) cost
2.2 times the default pass on the cycle benchmark's pages, and precision, then the default
pass's body-like paragraphs merged back, cost both; on ``python -m benchmarks.quality``'s
labelled pages the default pass with the line filters alerts as well as that merge (recall
equal) at .006 lower alert precision, and better than the precision cascade without the
filters on both (docs/benchmarks.md, "Quality").

The page is parsed once: every pass, the paragraph and link measures and the metadata read
the same tree (trafilatura works on its own copy of a tree it is given). The metadata (title,
author, date) is read once per page, by the steps of trafilatura's ``extract_metadata`` that
give those three fields, without its categories, tags and licence, which newswatch does not
keep (a fifth of the extraction's CPU on the cycle benchmark's pages).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import trafilatura
import trafilatura.meta
from htmldate import find_date
from trafilatura.metadata import (
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document, set_date_params
from trafilatura.utils import load_html

from .discover import declared_canonical
from .extracted import Extracted, Method

__all__ = ["Extracted", "Method", "extract_article", "reset_caches"]

logger = logging.getLogger(__name__)

MIN_TEXT_CHARS = 40
#: A paragraph of the page counts towards its article text from this many characters.
PARAGRAPH_CHARS = 100
#: The default pass is enough when it holds at least this share of the page's paragraph
#: text; below, the recall pass is tried too and the longer text kept.
ENOUGH_OF_PARAGRAPHS = 0.3
#: Tables are left out. Kept, they raised the cascade's snippet recall by .008 on
#: trafilatura's evaluation set (precision -.002), but an old page laid out in a table comes
#: out as one line holding the navigation with the body, which the site's template memory
#: (watchlist.templates, line by line) can no longer take apart: its words alerted.
INCLUDE_TABLES = False
#: A later pass whose text is at least this share link text (lines that are the text of a
#: link of the page) found a list of links — a home, section or tag page — not an article.
#: On the labelled article pages the share is at most 0.37.
MAX_LINK_SHARE = 0.5
#: A line of the article text that is at least this share link text is dropped.
DROP_LINK_SHARE = 0.8
#: Anchors shorter than this (``1``, ``»``, ``PDF``) are not counted as a line's link text.
MIN_ANCHOR_CHARS = 4
#: A photo credit or copyright line has at most this many words.
CREDIT_WORDS = 12
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
        size = len(" ".join(element.text_content().split()))
        if size >= PARAGRAPH_CHARS:
            total += size
    return total


def link_texts(tree: Any) -> set[str]:
    """The texts of the page's links (white space folded)."""
    return {" ".join(a.text_content().split()) for a in tree.iter("a")}


def link_share(tree: Any, text: str, links: set[str] | None = None) -> float:
    """The share of ``text`` (in characters) on lines that are the text of a link of the
    page (``links``: the page's :func:`link_texts`, when already known)."""
    lines = [" ".join(line.split()) for line in text.split("\n")]
    total = sum(len(line) for line in lines)
    if not total:
        return 0.0
    anchors = link_texts(tree) if links is None else links
    return sum(len(line) for line in lines if line in anchors) / total


def _fold(line: str) -> str:
    return " ".join(line.split())


def anchor_texts(tree: Any, links: set[str] | None = None) -> set[str]:
    """The texts of the page's links (white space folded), MIN_ANCHOR_CHARS or longer
    (``links``: the page's :func:`link_texts`, when already known)."""
    found = link_texts(tree) if links is None else links
    return {text for text in found if len(text) >= MIN_ANCHOR_CHARS}


def line_link_share(line: str, anchors: set[str]) -> float:
    """The share of a line (in characters) made of the page's link texts."""
    folded = _fold(line)
    if not folded:
        return 0.0
    return min(1.0, sum(len(a) for a in anchors if a in folded) / len(folded))


def is_credit(line: str) -> bool:
    """Whether a line is a photo credit or copyright notice (short, with © or a credit
    word in front: ``© AFP / Name``, ``Foto: Name``, ``Copyright: Name``)."""
    return len(line.split()) <= CREDIT_WORDS and bool(_CREDIT.search(_fold(line)))


def without_chrome_lines(text: str, anchors: set[str]) -> str:
    """``text`` without its link lines and photo credits (kept whole when too little would
    remain)."""
    lines = text.split("\n")
    kept = [
        line
        for line in lines
        if line_link_share(line, anchors) < DROP_LINK_SHARE and not is_credit(line)
    ]
    if len(kept) == len(lines):
        return text
    cleaned = "\n".join(kept).strip()
    return cleaned if len(cleaned) >= MIN_TEXT_CHARS else text


def extract_pass(
    tree: Any, url: str, method: Method, tables: bool = INCLUDE_TABLES
) -> Document | None:
    """One trafilatura pass over the parsed page, text only (see :func:`page_metadata`);
    trafilatura works on a copy of ``tree`` and leaves it as it was."""
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=False,
        include_comments=False,
        include_tables=tables,
        favor_precision=method == "precision",
        favor_recall=method == "recall",
    )
    return document if isinstance(document, Document) else None


@dataclass(frozen=True)
class Metadata:
    """What the page says of its article, besides the text."""

    title: str | None
    author: str | None
    date: str | None


def page_metadata(tree: Any, url: str) -> Metadata:
    """The title, author and date of the page, as trafilatura's ``extract_metadata`` finds
    them (the same steps in the same order), without the fields newswatch does not keep."""
    found = examine_meta(tree)
    if found.author and " " not in found.author:
        found.author = None  # as trafilatura: a one-word author is a user name
    try:
        found = extract_meta_json(tree, found)
    except Exception as exc:  # as trafilatura: its JSON-LD reader has bugs
        logger.debug("JSON-LD metadata of %s unreadable: %s", url, exc)
    found.title = found.title or extract_title(tree)
    found.author = found.author or extract_author(tree)
    found.url = found.url or extract_url(tree, url)
    # Dates from the page's markup only: an extensive search guesses from copyright years
    # and archive links ("© 2026" became 1 January), which would hide new articles behind
    # the look-back window.
    params = set_date_params(extensive=False)
    found.date = find_date(tree, **params, url=found.url)
    found.clean_and_trim()  # as trafilatura: entities, spaces and control characters
    return Metadata(title=_value(found.title), author=_value(found.author), date=_value(found.date))


def _value(value: object) -> str | None:
    return str(value) if value else None


def _text(document: Document | None) -> str:
    return (document.text or "").strip() if document is not None else ""


def extract_article(html: str | bytes, url: str) -> Extracted | None:
    """The article in ``html``, or None when the page has no recognisable article text."""
    tree = load_html(html)
    if tree is None:
        return None
    tried: dict[Method, Document | None] = {}
    links = link_texts(tree)

    def run(method: Method) -> str:
        if method not in tried:
            document = extract_pass(tree, url, method)
            if link_share(tree, _text(document), links) >= MAX_LINK_SHARE:
                document = None
            tried[method] = document
        return _text(tried[method])

    chosen = choose(paragraph_chars(tree), run)
    document = tried[chosen]
    text = _text(document)
    if document is None or len(text) < MIN_TEXT_CHARS:
        return None
    text = without_chrome_lines(text, anchor_texts(tree, links))
    meta = page_metadata(tree, url)
    return Extracted(
        text=text,
        title=meta.title,
        author=meta.author,
        date=meta.date,
        # Read from the page, not trafilatura's metadata: trafilatura normalizes the URL with
        # courlan, which decodes "&sect" in "&sectionid=" to "§" and drops parameters.
        canonical_url=declared_canonical(tree, url),
        method=chosen,
    )


def choose(
    paragraphs: int, run: Callable[[Method], str], gate: float = ENOUGH_OF_PARAGRAPHS
) -> Method:
    """The pass of the cascade whose text to keep, for a page with ``paragraphs`` characters
    of paragraph text; ``run(method)`` gives a pass's text (the recall pass is run only when
    the default pass is short for the page); ``gate`` is the share of the paragraph text that
    is enough."""
    default = len(run("default"))
    if default >= MIN_TEXT_CHARS and default >= gate * paragraphs:
        return "default"
    recall = len(run("recall"))
    return "recall" if recall > default else "default"


def reset_caches() -> None:
    """Free trafilatura's caches; called after each crawl so that the daemon stays small."""
    trafilatura.meta.reset_caches()
