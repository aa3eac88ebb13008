"""Site templates: text blocks a site repeats on its article pages (a disclaimer, a subscribe
prompt, a "most read" box) that single-page extraction keeps as if they were body text.

Each article's extracted text is cut into blocks (its lines: paragraphs, as the extractor
writes them), normalized and hashed; storage remembers which blocks each article of a site
had (``storage.siteblocks``). A block that also stands in at least ``MIN_OTHER_STORIES``
other articles of the same site — counted by story, so that two versions of one article
count once and never strip each other — is part of the site's template: the article is
matched, highlighted and stored without it. Only the site's own pages count: a wire story
reprinted on three sites keeps its text on each.

The memory is applied when a batch is matched (after the crawl stored its pages), so a site's
first poll, whose pages are stored together, already knows its template.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from storage import StoredArticle, TemplateMemory

from .bytewords import SURROGATES, UTF8, ByteWords, ascii_table

logger = logging.getLogger(__name__)

#: A block recurring in this many other stories of the site is template (measured with
#: ``python -m benchmarks.extraction``; see docs/benchmarks.md).
MIN_OTHER_STORIES = 2
#: A block of this many words or more reads as the article's own prose (a background
#: paragraph a site reuses in its stories on one subject: "Venezuelan President Nicolás
#: Maduro, who has ruled the country since 2013, denies the accusations."), often the only
#: place a topic's name is: it is template only when it stands in at least TEMPLATE_SHARE of
#: the site's stories, as a disclaimer or a subscribe prompt does.
LONG_BLOCK_WORDS = 12
TEMPLATE_SHARE = 0.5
#: Or when it stands in RECENT_SHARE of the site's stories since the first that had it, and
#: in that share of RECENT_STORIES at least: a redesign's new box or disclaimer stands in
#: every story since (or in most: one left off the site's live blogs and videos stands in
#: 85 %), and was template only once it stood in half of all the stories the memory holds,
#: the old template's included (up to 90 days: a review counted a false alert on every new
#: article of the site until then). A background paragraph a burst of stories on one
#: subject repeats stands in some of the site's stories only (at half, 11 of 20, it was
#: stripped: its topic's alerts lost; a diff review).
RECENT_SHARE = 0.75
RECENT_STORIES = 20
#: What must remain of an article for its template blocks to be stripped: an article that
#: would keep less (a page that is all template, or a short copy of another page) is kept
#: whole. The same floor as a story's (watchlist.stories.MIN_WORDS).
MIN_OWN_WORDS = 30

_WORD = re.compile(r"\w+")
#: The words of a block (:func:`blocks`): ``\w`` is str.isalnum() and the underscore.
_BLOCK_WORDS = ByteWords(
    ascii_table(lambda char: char.isalnum() or char == "_"),
    lambda chunk: _WORD.findall(unicodedata.normalize("NFKC", chunk).casefold()),
)


@dataclass(frozen=True)
class Block:
    """One line of an article's text: where it is and its normalized hash."""

    start: int
    end: int  # the line's end, without its newline
    hash: int  # signed 64-bit (fits an integer column of any backend)
    words: int


def site_of(url: str) -> str:
    """The site an article belongs to: its URL's host (and port), without ``www.``."""
    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or "").removeprefix("www."), parts.port
    except ValueError:  # no URL (a broken IPv6 literal, a port out of range): one site of its own
        return url
    return f"{host}:{port}" if port else host


def blocks(text: str) -> list[Block]:
    """The blocks of ``text``: its lines with at least one word, each hashed over its words
    (case, accents' composition, punctuation and spacing ignored).

    The words of a line are those of ``\\w+`` in its NFKC-normalized, case-folded text, cut
    from its UTF-8 bytes (watchlist.bytewords: a regular expression over non-ASCII text
    costs about 60 ns a character, and only the chunks with non-ASCII characters are
    folded). A UTF-8 line break is the one byte, so the lines of the bytes are those of
    ``text``."""
    found: list[Block] = []
    start = 0
    for line, raw in zip(text.split("\n"), text.encode(UTF8, SURROGATES).split(b"\n"),
                         strict=True):
        end = start + len(line)
        if words := _BLOCK_WORDS(raw):
            digest = hashlib.blake2b(b" ".join(words), digest_size=8).digest()
            found.append(Block(start, end, int.from_bytes(digest, "big", signed=True), len(words)))
        start = end + 1
    return found


def strip_blocks(text: str, found: Sequence[Block], template: Collection[int]) -> str:
    """``text`` without the lines whose hash is in ``template``; "" when too little of its
    own would remain (see MIN_OWN_WORDS), in which case the caller keeps the text whole."""
    kept = [b for b in found if b.hash not in template]
    if len(kept) == len(found):
        return text
    if sum(b.words for b in kept) < MIN_OWN_WORDS:
        return ""
    return "\n".join(text[b.start : b.end].strip() for b in kept)


def without_templates(
    memory: TemplateMemory, articles: Sequence[StoredArticle], stories: dict[int, int]
) -> list[StoredArticle]:
    """``articles`` with their sites' template blocks taken out of their text (and stored
    so): every article's blocks are remembered first, so that the articles of one batch
    (a site's first poll) already count for each other. ``stories`` maps article id to
    story id (articles missing from it are a story of their own)."""
    found = {a.id: blocks(a.text) for a in articles}
    sites = {a.id: site_of(a.url) for a in articles}
    memory.remember_blocks((sites[a.id], b.hash, a.id) for a in articles for b in found[a.id])
    result: list[StoredArticle] = []
    stripped: list[tuple[int, str, int]] = []
    site_stories: dict[str, int] = {}
    spans: dict[tuple[str, int], int] = {}  # (site, long block): stories since its first
    for article in articles:
        own = found[article.id]
        if not own:
            result.append(article)
            continue
        site = sites[article.id]
        others = memory.recurring_blocks(
            site, {b.hash for b in own}, article.id, stories.get(article.id, article.id),
            MIN_OTHER_STORIES,
        )
        long_blocks = {b.hash for b in own if b.words >= LONG_BLOCK_WORDS} & others.keys()
        if long_blocks and site not in site_stories:
            site_stories[site] = memory.site_stories(site)
        template = {
            h for h, count in others.items()
            if h not in long_blocks or count + 1 >= TEMPLATE_SHARE * site_stories[site]
        }
        # Long blocks in RECENT_SHARE of RECENT_STORIES at least: how many stories since each.
        recent = {h for h in long_blocks - template
                  if others[h] + 1 >= RECENT_SHARE * RECENT_STORIES and (site, h) not in spans}
        if recent:
            spans.update(((site, h), n) for h, n in memory.stories_since(site, recent).items())
        template |= {h for h in long_blocks - template if (site, h) in spans
                     and others[h] + 1 >= RECENT_SHARE * max(spans[(site, h)], RECENT_STORIES)}
        text = strip_blocks(article.text, own, template) if template else article.text
        if not text or text == article.text:
            result.append(article)
            continue
        removed = sum(1 for b in own if b.hash in template)
        logger.debug("article %d: %d template block(s) of its site removed", article.id, removed)
        stripped.append((article.id, text, removed))
        result.append(replace(article, text=text))
    if stripped:
        memory.strip_texts(stripped)
    return result
