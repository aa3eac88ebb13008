"""The article's text as the page's JSON-LD gives it (``articleBody``), where the page's
markup splits it: the body in several elements between rows of ads (The New Yorker's three
``div.body__inner-container``, Rzeczpospolita's ``div.articleBody`` after an ad row), of
which extraction keeps the first. A topic on the rest never alerted.

The JSON-LD text is used only when it holds the extracted text (most of its word trigrams)
and has BODY_MORE times its words at least: the same article, the page's markup having
lost part of it. Its paragraphs are its lines; a line of the extracted text that it does
not hold (a standfirst, a subheading written only in the markup) is kept where it stood,
before the paragraph that followed it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from lxml.html import fragment_fromstring

#: The JSON-LD text replaces the extracted text when it has this many times its words.
BODY_MORE = 1.3
#: And holds this share of the extracted text's word trigrams.
BODY_HOLDS = 0.8
#: Types of the JSON-LD objects whose ``articleBody`` is the page's article.
_TYPES = frozenset({
    "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle",
    "opinionnewsarticle", "backgroundnewsarticle", "reviewnewsarticle", "blogposting",
    "report", "scholarlyarticle", "techarticle",
})
_WORD = re.compile(r"\w+")
_MARKUP = re.compile(r"<[a-zA-Z/!][^>]*>")
#: A CMS's layout directives left in the text (The New Yorker's "+++dropcap", "[#image:
#: /photos/…]", "{: legacyType=…}"; markdown's images): no reader sees them.
_DIRECTIVE = re.compile(r"\+{2,}|\{:|\[#|!\[")
_LINK = re.compile(r"\[([^\]\n]+)\]\([^)\s]+\)")
_ATTRIBUTES = re.compile(r"\{:[^}\n]*\}")
_EMPHASIS = re.compile(r"(?<![\w*])\*{1,2}([^*\n]+?)\*{1,2}(?![\w*])")


def json_ld_bodies(tree: Any) -> Iterator[str]:
    """The ``articleBody`` texts of the page's JSON-LD articles (in ``@graph`` too)."""
    for script in tree.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
            continue
        if "articleBody" not in script.text:
            continue
        try:
            data = json.loads(script.text)
        except ValueError:
            continue
        yield from _bodies(data)


def _bodies(data: Any) -> Iterator[str]:
    if isinstance(data, list):
        for item in data:
            yield from _bodies(item)
    elif isinstance(data, dict):
        kinds = data.get("@type")
        names = kinds if isinstance(kinds, list) else [kinds]
        body = data.get("articleBody")
        if isinstance(body, str) and any(
            isinstance(k, str) and k.lower() in _TYPES for k in names
        ):
            yield _plain(body)
        yield from _bodies(data.get("@graph"))


def _plain(body: str) -> str:
    """An ``articleBody`` as lines of text: markup some sites leave in it read as text."""
    if _MARKUP.search(body):
        try:
            element = fragment_fromstring(body, create_parent="div")
        except (ValueError, TypeError):
            pass
        else:
            for block in element.iter("p", "br", "h2", "h3", "h4", "li", "div"):
                block.tail = "\n" + (block.tail or "")
            body = element.text_content()
    if "](" in body or "{:" in body:  # markdown (The New Yorker's): its text alone
        body = _LINK.sub(r"\1", _ATTRIBUTES.sub("", body))
        body = _EMPHASIS.sub(r"\1", body)
    lines = (" ".join(line.split()) for line in body.splitlines())
    return "\n".join(line for line in lines if line and not _DIRECTIVE.match(line))


def _trigrams(words: list[str]) -> set[tuple[str, str, str]]:
    return set(zip(words, words[1:], words[2:], strict=False))


def completed(text: str, tree: Any) -> str | None:
    """The article's text from the page's JSON-LD when it holds ``text`` and says more
    (see the module); None when it does not."""
    words = _WORD.findall(text.lower())
    if len(words) < 3:
        return None
    mine = _trigrams(words)
    for body in json_ld_bodies(tree):
        theirs = _WORD.findall(body.lower())
        if len(theirs) < BODY_MORE * len(words):
            continue
        if len(mine & _trigrams(theirs)) < BODY_HOLDS * len(mine):
            continue
        return _merged(text, body)
    return None


def _merged(text: str, body: str) -> str:
    """``body``'s lines, with the lines of ``text`` it does not hold kept before the line
    that followed them in ``text`` (or at the end)."""
    held = " ".join(_WORD.findall(body.lower()))
    pending: list[str] = []
    placed: dict[str, list[str]] = {}
    for line in text.split("\n"):
        folded = " ".join(_WORD.findall(line.lower()))
        if not folded:
            continue
        if folded in held:
            if pending:
                placed.setdefault(folded, []).extend(pending)
                pending = []
        else:
            pending.append(line)
    lines: list[str] = []
    for line in body.split("\n"):
        folded = " ".join(_WORD.findall(line.lower()))
        for key in [k for k in placed if k and k in folded]:
            lines.extend(placed.pop(key))
        lines.append(line)
    for rest in placed.values():
        lines.extend(rest)
    return "\n".join([*lines, *pending])
