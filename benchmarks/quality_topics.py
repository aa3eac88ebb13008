"""Topics of the quality benchmark, drawn from labelled pages.

Per page, at most two topics, each a quoted phrase of 2 or 3 words in the watchlist language:

- an **expected** topic: a phrase of the page's labelled article text (its whole body, or its
  ``inside`` snippets) that stands once in the page's visible text, not in its title or meta
  description (which feeds and home pages repeat), and in no other page's text at all: an
  extractor that keeps the article's text alerts for it, on this page only;
- a **trap**: a phrase of the page's chrome (its ``outside`` snippets; else the text of its
  navigation, header, footer, aside or of blocks named as related links, comments, share
  bars, newsletters...) that is not in the labelled text, title or description, nor in the
  headline or labelled text of another page of its site (a sidebar's "recent posts" list
  the site's other stories, whose alerts are right), and stands in no page of another site
  (pages of the same site may share it: a site's template repeats its chrome). An alert for
  a trap is a false positive, whichever page of the site it fires on.

Words are FTS5 tokens as the watchlist folds them (``watchlist.tokens.tokenize``), so a
phrase matches exactly where its tokens stand side by side. A Chinese, Japanese or Korean
character is a token of its own (storage.segment): there a phrase is 2 or 3 characters
(a word such as 北京, 習近平), kana alone (particles, endings) left out.

Each page's topics are drawn with a random generator of its own (seeded with the seed and
the page's place), so that a change to one page's candidates leaves the other pages' draws
as they were.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import lxml.etree
import lxml.html
from trafilatura.utils import load_html

from crawler.extracted import visible
from watchlist.tokens import tokenize

from .corpora import LabelledPage

Gram = tuple[str, ...]

_CHROME_TAGS = frozenset({"nav", "footer", "aside", "header"})
_CHROME_WORDS = frozenset({
    "nav", "navbar", "navigation", "menu", "footer", "sidebar", "related", "comment",
    "comments", "share", "sharing", "social", "newsletter", "subscribe", "promo", "teaser",
    "teasers", "widget", "breadcrumb", "breadcrumbs", "tags", "popular", "recommended",
    "disclaimer", "cookie", "cookies", "banner", "copyright",
})  # fmt: skip
_WORDS = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Topic:
    """One benchmark topic: its watchlist query and the page (or site) it belongs to."""

    name: str
    query: str
    kind: str  # "expected" or "trap"
    page: int  # index of the page it was drawn from
    site: str  # the site whose pages it belongs to (a trap may fire on any of them)
    phrase: Gram


@dataclass
class PageText:
    """What topic selection needs of one page's markup."""

    # Folded tokens of the visible text, then of the title and description, in order.
    tokens: list[str]
    # The visible text with a space between any two elements' texts: words that only
    # markup separates ("<li>Eigentümer</li><li>werden</li>"), as extractors separate them.
    spaced: list[str]
    title: str
    description: str
    expected: list[Gram] = field(default_factory=list)  # candidate phrases of its labels
    traps: list[Gram] = field(default_factory=list)  # candidate phrases of its chrome
    in_chrome: dict[Gram, int] = field(default_factory=dict)  # how often each trap is there


def words(text: str) -> list[str]:
    """The folded FTS5 tokens of ``text``."""
    return [token for _, _, token in tokenize(text)]


def grams(tokens: Sequence[str], sizes: Iterable[int] = (2, 3)) -> Iterator[Gram]:
    """Every run of ``sizes`` consecutive tokens."""
    for size in sizes:
        for i in range(len(tokens) - size + 1):
            yield tuple(tokens[i : i + size])


def _class_words(element: lxml.html.HtmlElement) -> set[str]:
    names = f"{element.get('class') or ''} {element.get('id') or ''}".lower()
    return set(_WORDS.split(names)) - {""}


def _is_chrome(element: lxml.html.HtmlElement) -> bool:
    tag = element.tag if isinstance(element.tag, str) else ""
    return tag in _CHROME_TAGS or bool(_class_words(element) & _CHROME_WORDS)


def parse_page(html: bytes) -> lxml.html.HtmlElement | None:
    """The page's document, scripts and styles dropped (None when it does not parse).
    Decoded as trafilatura decodes it (lxml alone reads an undeclared UTF-8 page as
    Latin-1), so that its words are the words extractors see."""
    try:
        doc = load_html(html)
    except (ValueError, lxml.etree.ParserError):
        return None
    if not isinstance(doc, lxml.html.HtmlElement):
        return None
    for bad in doc.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    return doc


def meta(doc: lxml.html.HtmlElement, *names: str) -> str:
    """The first non-empty ``<meta name|property=...>`` content among ``names``."""
    for name in names:
        for element in doc.xpath(f'//meta[@name="{name}" or @property="{name}"]'):
            content = " ".join((element.get("content") or "").split())
            if content:
                return content
    return ""


def page_title(doc: lxml.html.HtmlElement | None, labelled: str | None) -> str:
    """The page's headline: its labelled title, og:title, first ``<h1>`` or ``<title>``.
    An ``<h1>`` in a ``<nav>`` heads a menu ("Sections", "Quicklink"): the ``<title>``
    it is then."""
    if labelled:
        return " ".join(labelled.split())
    if doc is None:
        return ""
    for candidate in (
        meta(doc, "og:title", "twitter:title"),
        " ".join(" ".join(h.text_content().split()) for h in doc.xpath("//h1")[:1]
                 if not any(a.tag == "nav" for a in h.iterancestors())),
        " ".join(" ".join(t.text_content().split()) for t in doc.xpath("//title")[:1]),
    ):
        if len(candidate) >= 8:
            return candidate
    return ""


def page_text(page: LabelledPage, doc: lxml.html.HtmlElement | None) -> PageText:
    """The folded visible text and chrome blocks of a page (``doc``: its parsed markup)."""
    if doc is None:
        return PageText([], [], page.title or "", "")
    body = doc.body if doc.find("body") is not None else doc
    chrome: list[list[str]] = []
    total = len(body.text_content())
    stack = list(body)
    while stack:  # the outermost chrome blocks: their insides are not searched again
        element = stack.pop()
        if not isinstance(element.tag, str):
            continue
        if not _is_chrome(element):
            stack.extend(element)
            continue
        text = element.text_content()
        if len(text) < 0.3 * total:  # a "wrapper" that holds the article is no chrome
            chrome.append(words(text))
        else:
            stack.extend(element)
    title = page_title(doc, page.title)
    description = meta(doc, "description", "og:description")
    text = PageText(
        tokens=[*words(body.text_content()), "\x00", *words(title), "\x00", *words(description)],
        spaced=words(" ".join(body.itertext())),
        title=title,
        description=description,
    )
    _options(page, text, chrome)
    return text


def _options(page: LabelledPage, text: PageText, chrome: list[list[str]]) -> None:
    """The page's candidate phrases: of its labelled text for an expected topic, of its
    chrome for a trap (neither in its title or description, traps not in its labels)."""
    label_lines = [words(line) for line in labelled_text(page)]
    label_grams = set(grams([t for line in label_lines for t in line], (2, 3)))
    for line in label_lines:
        label_grams.update(grams(line))
    shown = set(grams(words(text.title))) | set(grams(words(text.description)))
    text.expected = [g for g in _candidates(label_lines) if g not in shown]
    chrome_lines = [words(s) for s in page.outside] or chrome
    text.traps = [g for g in _candidates(chrome_lines) if g not in shown and g not in label_grams]
    counts: dict[Gram, int] = defaultdict(int)
    for line in chrome_lines:
        for gram, count in _count(line, set(text.traps)).items():
            counts[gram] += count
    text.in_chrome = dict(counts)


def labelled_text(page: LabelledPage) -> list[str]:
    """The page's labelled article text, line by line."""
    if page.body:
        return [line for line in page.body.splitlines() if line.strip()]
    return list(page.inside)


#: A CJK character of a word (kanji, hanzi, katakana, hangul), as tokens are.
_CJK_WORD = re.compile("[\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3\uf900-\ufaff]")


def _good(gram: Gram) -> bool:
    """A phrase worth a topic: letters only, words of 3+ letters, one of 5+; or a word of
    2 or 3 CJK characters (each a token), kana alone left out."""
    if all(len(w) == 1 and _CJK_WORD.fullmatch(w) for w in gram):
        return True
    return all(len(w) >= 3 and w.isalpha() for w in gram) and max(map(len, gram)) >= 5


def _candidates(lines: Iterable[list[str]]) -> list[Gram]:
    seen: dict[Gram, None] = {}
    for tokens in lines:
        for gram in grams(tokens):
            if _good(gram):
                seen.setdefault(gram, None)
    return list(seen)


def _count(tokens: Sequence[str], wanted: set[Gram],
           firsts: set[str] | None = None) -> dict[Gram, int]:
    """How often each of ``wanted`` (2 or 3 tokens) stands in ``tokens`` (``firsts``: their
    first tokens, when the caller has them)."""
    counts: dict[Gram, int] = defaultdict(int)
    if firsts is None:
        firsts = {g[0] for g in wanted}
    for i, token in enumerate(tokens):
        if token in firsts:
            for gram in (tuple(tokens[i : i + 2]), tuple(tokens[i : i + 3])):
                if gram in wanted:
                    counts[gram] += 1
    return counts


def _quote(gram: Gram) -> str:
    return '"' + " ".join(gram) + '"'


def draw_topics(
    pages: Sequence[LabelledPage], sites: Sequence[str], texts: Sequence[PageText],
    seed: int = 1,
) -> list[Topic]:
    """An expected topic and a trap per page where the page allows (see the module
    docstring); ``sites[i]`` is the site that serves ``pages[i]``, ``texts[i]`` its text."""
    wanted = {g for text in texts for g in (*text.expected, *text.traps)}
    # Where each candidate stands: how often in each page's visible text (and title/meta).
    pages_of: dict[Gram, dict[int, int]] = defaultdict(dict)
    firsts = {g[0] for g in wanted}
    for index, text in enumerate(texts):
        for gram, count in _count(text.tokens, wanted, firsts).items():
            pages_of[gram][index] = count
        for gram in _count(text.spaced, wanted, firsts):  # elsewhere only between elements
            pages_of[gram].setdefault(index, 0)
    # The phrases of each site's headlines and labelled texts: a trap fires rightly on the
    # page whose story it is, so none of them is a trap on that site's other pages either.
    chrome = {g for text in texts for g in text.traps}
    chrome_firsts = {g[0] for g in chrome}
    stories: dict[str, set[Gram]] = defaultdict(set)
    for index, text in enumerate(texts):
        label = [t for line in labelled_text(pages[index]) for t in words(line)]
        for tokens in (words(text.title), label):
            stories[sites[index]].update(_count(tokens, chrome, chrome_firsts))
    topics: list[Topic] = []
    taken: set[Gram] = set()
    for index in range(len(pages)):
        rng = random.Random(f"{seed}:{index}")  # the page's own: see the module docstring
        expected = [g for g in texts[index].expected if pages_of[g] == {index: 1}]
        if expected:
            gram = _pick(rng, expected)
            taken.add(gram)
            topics.append(Topic(f"e{index:04d}", _quote(gram), "expected", index,
                                sites[index], gram))
        traps = [
            g for g in texts[index].traps
            if g not in taken and g not in stories[sites[index]]
            and 0 < pages_of[g].get(index, 0) <= texts[index].in_chrome[g]
            and all(sites[other] == sites[index] for other in pages_of[g])
        ]  # fmt: skip
        if traps:
            gram = _pick(rng, traps)
            taken.add(gram)
            topics.append(Topic(f"t{index:04d}", _quote(gram), "trap", index,
                                sites[index], gram))
    # Left out after the draw (the other pages' topics stay as drawn): a phrase that stands
    # only where a soft hyphen (``of&shy;fen&shy;bar``) breaks a word, which no reader sees
    # and newswatch drops as it stores a page.
    return [t for t in topics if not _phantom(pages[t.page], t)]


def _phantom(page: LabelledPage, topic: Topic) -> bool:
    """Whether ``topic`` stands in its page's labels only inside a word that a soft hyphen
    or another invisible character breaks."""
    if topic.kind == "expected":
        lines = labelled_text(page)
    elif page.outside:
        lines = list(page.outside)
    else:
        return False
    tokens = words(visible(" \n ".join(lines)))
    return topic.phrase not in set(grams(tokens, (len(topic.phrase),)))


def _pick(rng: random.Random, options: list[Gram]) -> Gram:
    """A two-word phrase where there is one, else three, among the third with the longest
    words (``"three women"`` is unique in a corpus by chance, not by nature)."""
    pairs = [g for g in options if len(g) == 2] or options
    pairs.sort(key=lambda g: (-min(map(len, g)), g))
    return rng.choice(pairs[: max(1, len(pairs) // 3)])
