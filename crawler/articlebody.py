"""The article's text as the page's JSON-LD gives it (``articleBody``), or its Next.js
data (``__NEXT_DATA__``), where the page's markup holds part of it: the body in several
elements between rows of ads (The New Yorker's three ``div.body__inner-container``,
Rzeczpospolita's ``div.articleBody`` after an ad row), of which extraction keeps the first;
a teaser, the article in the data the page's scripts render; a live blog showing its latest
entries, its JSON-LD ``liveBlogUpdate`` all of them. A topic on the rest never alerted.

The script's text is used only when it holds the extracted text (lines that make half its
words at least) and has BODY_MORE times its words at least: the same article, the page's markup
having lost part of it. Its paragraphs are its lines; a line of the extracted text that it
does not hold (a standfirst, a subheading written only in the markup) is kept where it
stood, before the paragraph that followed it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from lxml.html import fragment_fromstring

from storage.segment import UNSPACED

from .xmlsafe import xml_text

#: The JSON-LD text replaces the extracted text when it has this many times its words.
BODY_MORE = 1.3
#: And holds lines of the extracted text that make this share of its words (a headline, a
#: "read the full story in our app" are lines it lacks).
BODY_HOLDS = 0.5
#: A live blog's entries (see _entries) need hold this share only: the page shows its latest
#: entries, which its JSON-LD, written earlier, may not have yet (The Mirror's: 0.48).
LIVE_HOLDS = 0.25
#: A string of the page's Next.js data is a candidate text with this many words or more.
NEXT_DATA_WORDS = 60
#: Types of the JSON-LD objects whose ``articleBody`` is the page's article.
_TYPES = frozenset({
    "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle",
    "opinionnewsarticle", "backgroundnewsarticle", "reviewnewsarticle", "blogposting",
    "report", "scholarlyarticle", "techarticle",
})
#: The type of a live blog, whose entries are its ``liveBlogUpdate`` objects.
_LIVE_BLOG = "liveblogposting"
_WORD = re.compile(r"\w+")
_MARKUP = re.compile(r"<[a-zA-Z/!][^>]*>")
#: A CMS's layout directives left in the text (The New Yorker's "+++dropcap", "[#image:
#: /photos/…]", "{: legacyType=…}"; markdown's images): no reader sees them.
_DIRECTIVE = re.compile(r"\+{2,}|\{:|\[#|!\[")
_LINK = re.compile(r"\[([^\]\n]+)\]\([^)\s]+\)")
_ATTRIBUTES = re.compile(r"\{:[^}\n]*\}")
_EMPHASIS = re.compile(r"(?<![\w*])\*{1,2}([^*\n]+?)\*{1,2}(?![\w*])")


def json_ld_bodies(tree: Any) -> Iterator[str]:
    """The ``articleBody`` texts of the page's JSON-LD articles (in ``@graph`` too), then the
    long texts of its Next.js data (``script#__NEXT_DATA__``: a page that shows a teaser and
    carries its article in the data its scripts render; the App Router's payload, as
    :func:`flight_rows` reads it: its texts of markup, its data's long strings)."""
    pushing: list[str] = []
    for script in tree.iter("script"):
        # Each script's text read once: lxml makes a new string of it at each reading (a
        # heavy page's 50 KB of scripts were read five times here and in flight_rows).
        text = script.text
        if not text:
            continue
        if _FLIGHT in text:
            pushing.append(text)  # read whole below
            continue
        if (script.get("type") or "").lower() == "application/ld+json":
            if "articleBody" not in text:
                continue
            try:
                yield from _bodies(json.loads(text))
            except ValueError:
                continue
        elif script.get("id") == "__NEXT_DATA__":
            try:
                data = json.loads(text)
            except ValueError:
                continue
            yield from (_plain(string) for string in _long_strings(data))
    for row in _rows(pushing):
        if isinstance(row, str):
            if _markup_text(row):
                yield _plain(row)
        else:
            yield from (_plain(text) for text in _long_strings(row))


def flight_markup(tree: Any) -> list[str]:
    """The texts of markup of NEXT_DATA_WORDS words or more in the page's App Router payload
    (:func:`flight_rows`): where such a page renders its article from its scripts."""
    return [row for row in flight_rows(tree) if isinstance(row, str) and _markup_text(row)]


def _markup_text(row: str) -> bool:
    return row.lstrip().startswith("<") and _wordy(row)


def _words(text: str) -> int:
    """The words of ``text``: those between spaces, and in a script written without spaces
    two characters a word (a Japanese line of 40 characters counted as one word: two short
    credit lines made half a page's text, and a related story's body holding them was taken
    for the page's; a diff review)."""
    return text.count(" ") + 1 + len(UNSPACED.findall(text)) // 2


def _wordy(text: str) -> bool:
    """Whether ``text`` has NEXT_DATA_WORDS words or more (in a script written without
    spaces, two characters a word: a Japanese or Thai body was never long enough)."""
    return (text.count(" ") >= NEXT_DATA_WORDS
            or len(UNSPACED.findall(text)) >= 2 * NEXT_DATA_WORDS)


#: What a Next.js App Router page's scripts push its payload with (React's "flight" data).
_FLIGHT = "self.__next_f.push("
_DECODER = json.JSONDecoder()
#: A row of the payload: its id (none for a hint: ":HL[…]"), then a text of a given length
#: (T, the length in UTF-8 bytes, in hexadecimal) or a line of JSON.
_ROW = re.compile(rb"([0-9a-fA-F]*):(?:T([0-9a-fA-F]+),)?")


def _pushed(script: str) -> Iterator[str]:
    """The payload's strings a script pushes (``self.__next_f.push([1, "…"])``, one or
    several), each array read once from where it starts: a push that cannot be read ends the
    script's (a page cut short, or hostile: thousands of unclosed pushes were read again to
    the script's end from each, minutes for a few megabytes)."""
    at = script.find(_FLIGHT)
    while at >= 0:
        try:
            pushed, end = _DECODER.raw_decode(script, at + len(_FLIGHT))
        except (ValueError, RecursionError):  # nested too deep: a hostile page's
            return
        if (isinstance(pushed, list) and len(pushed) > 1 and pushed[0] == 1
                and isinstance(pushed[1], str)):
            yield pushed[1]
        at = script.find(_FLIGHT, end)


def flight_rows(tree: Any) -> Iterator[Any]:
    """The rows of a Next.js App Router page's payload (``self.__next_f.push([1, "…"])``
    scripts, in order): each text row (an article's markup where the page renders it from
    its scripts: Hankook Ilbo's body is only there) as a string, each JSON row as its data.
    Rows that cannot be read are skipped."""
    texts = (script.text for script in tree.iter("script"))
    return _rows([text for text in texts if text and _FLIGHT in text])


def _rows(scripts: list[str]) -> Iterator[Any]:
    """The rows of the payload the texts of ``scripts`` push (see :func:`flight_rows`)."""
    parts = [pushed for script in scripts for pushed in _pushed(script)]
    payload = "".join(parts).encode("utf-8", "surrogatepass")
    at = 0
    while (row := _ROW.match(payload, at)) is not None:
        if row.group(2) is not None:
            end = row.end() + int(row.group(2), 16)
            yield payload[row.end():end].decode("utf-8", "replace")
            at = end
            continue
        end = payload.find(b"\n", row.end())
        end = len(payload) if end < 0 else end
        line = payload[row.end():end]
        at = end + 1
        if line[:1] in (b"[", b"{"):
            try:
                yield json.loads(line)
            except (ValueError, RecursionError):
                continue


def _long_strings(data: Any) -> Iterator[str]:
    """The texts of ``data`` (JSON) of NEXT_DATA_WORDS words or more: its strings, and each
    of its arrays read as paragraphs (its strings, and the strings of its objects of a few
    words or more: ``[{"type": "paragraph", "text": …}, …]``), one a line."""
    if isinstance(data, str):
        if _wordy(data):
            yield data
    elif isinstance(data, list):
        paragraphs = [item for item in data if isinstance(item, str)] + [
            value for item in data if isinstance(item, dict)
            for value in item.values() if isinstance(value, str) and value.count(" ") >= 3
        ]
        joined = "\n".join(paragraphs)
        if len(paragraphs) > 1 and _wordy(joined):
            yield joined
        for item in data:
            yield from _long_strings(item)
    elif isinstance(data, dict):
        for item in data.values():
            yield from _long_strings(item)


def _bodies(data: Any) -> Iterator[str]:
    if isinstance(data, list):
        for item in data:
            yield from _bodies(item)
    elif isinstance(data, dict):
        kinds = data.get("@type")
        names = {k.lower() for k in (kinds if isinstance(kinds, list) else [kinds])
                 if isinstance(k, str)}
        body = data.get("articleBody")
        if _LIVE_BLOG in names and isinstance(updates := data.get("liveBlogUpdate"), list):
            yield _entries(body, updates)
        elif isinstance(body, str) and names & _TYPES:
            yield _plain(body)
        yield from _bodies(data.get("@graph"))


class _LiveBlog(str):
    """A live blog's text (see _entries)."""

    __slots__ = ()


def _entries(body: Any, updates: list[Any]) -> _LiveBlog:
    """A live blog's text: its own body, then each entry's headline and body, as its
    JSON-LD lists them. The page shows its latest entries only (The Mirror's 30 of 410): a
    topic on an earlier one never alerted (a review, on fundus's pages)."""
    parts = [_plain(body)] if isinstance(body, str) else []
    for update in updates:
        if not isinstance(update, dict) or not isinstance(update.get("articleBody"), str):
            continue
        if isinstance(headline := update.get("headline"), str) and headline.strip():
            parts.append(" ".join(headline.split()))
        parts.append(_plain(update["articleBody"]))
    return _LiveBlog("\n".join(part for part in parts if part))


def _plain(body: str) -> str:
    """An ``articleBody`` as lines of text: markup some sites leave in it read as text."""
    if _MARKUP.search(body):
        try:
            # A control character in it (JSON may escape one) made setting a tail raise.
            element = fragment_fromstring(xml_text(body), create_parent="div")
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


def _folded(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def completed(text: str, tree: Any) -> str | None:
    """The article's text from the page's scripts when one holds ``text`` and says more
    (see the module); None when none does."""
    try:
        bodies = list(json_ld_bodies(tree))
    except RecursionError:  # a script's data nested deeper than Python reads: none
        return None
    if not bodies:  # most pages: the text is not folded (0.7 ms a page cut to its element)
        return None
    lines = [(_folded(line), _words(line)) for line in text.split("\n") if line.strip()]
    words = sum(n for _, n in lines)
    if not words:
        return None
    for body in bodies:
        held = _folded(body)
        if _words(held) < BODY_MORE * words:
            continue
        holds = LIVE_HOLDS if isinstance(body, _LiveBlog) else BODY_HOLDS
        if sum(n for line, n in lines if line and line in held) < holds * words:
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
