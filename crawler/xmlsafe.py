"""The one XML parser for documents from strangers (sitemaps, OPML files).

It does not expand entities, load a DTD or touch the network: an XXE or "billion laughs"
document reads as its literal text or is refused, never as a local file or a huge tree.
"""

from __future__ import annotations

import re

from lxml import etree

_HARDENED = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}


def safe_parser(recover: bool = False) -> etree.XMLParser:
    """A new hardened parser (lxml parsers must not be shared between threads); ``recover``
    reads what it can of a malformed document."""
    return etree.XMLParser(**_HARDENED, recover=recover)


def safe_pull_parser(recover: bool = False, encoding: str | None = None) -> etree.XMLPullParser:
    """safe_parser's kind, fed a document piece by piece, its elements read as they end
    ("start" and "end" events); in ``encoding``, where given, whatever the document
    declares."""
    return etree.XMLPullParser(events=("start", "end"), **_HARDENED, recover=recover,
                               encoding=encoding)


#: Characters no XML text may hold (lxml refuses to set them), and the two spaces among them.
_UNFIT = re.compile("[\x00-\x08\x0e-\x1f\ufffe\uffff]")
_UNFIT_SPACE = re.compile("[\x0b\x0c]")
#: Half of a UTF-16 pair, alone: JSON may escape one ("\\ud83d": a title cut inside an emoji
#: by a script that counts UTF-16 units), and feedparser's loose parser makes one of a
#: character reference. No text can hold it (UTF-8, SQLite, mail; lxml ends the text at
#: one: "a\ud83db" read as "a"): it becomes U+FFFD.
HALF_CHARACTER = re.compile("[\ud800-\udfff]")
_ANY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_text(text: str) -> str:
    """``text`` as lxml can hold it: without control characters (vertical tab and form feed
    become spaces), a lone half of a UTF-16 pair U+FFFD. Text from strangers (a feed's HTML
    summary, a page's JSON-LD ``articleBody``) passes here before lxml reads it as markup
    and its text is set again: a control character in it made that raise."""
    if not _ANY.search(text):  # nearly every text: one pass, nothing to change
        return text
    return HALF_CHARACTER.sub("\ufffd", _UNFIT.sub("", _UNFIT_SPACE.sub(" ", text)))


#: What one line of text shown to a reader never holds: C0 and C1 controls (line breaks
#: among them) and the bidi embeddings, overrides and isolates (what alerts.compose drops).
CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def stored_text(text: str) -> str:
    """``text`` as an article's text is kept: :func:`xml_text`. PostgreSQL refuses a NUL in
    a text field (a feed's summary holding one made its whole poll unrecordable, at every
    poll), SQLite a half character (the string cannot be encoded), and the other control
    characters are no reader's."""
    return xml_text(text) if text else text


def one_line(text: str) -> str:
    """``text`` as a title, an author or a publisher is kept: :func:`stored_text` on one
    line, without control characters. A feed's plain-text title holding a NUL or an escape
    sequence ("\\x1b[2J") was stored as it came, and ``newswatch stories`` wrote it to the
    terminal; a line break in a title is no heading's."""
    return CONTROLS.sub("", " ".join(xml_text(text).split())) if text else text
