"""XML bodies as their authors meant them.

Feeds and sitemaps are often written by string concatenation, with a raw ``&`` in a URL
(``detail.aspx?id=1&sectionid=2``). Such a body is not well-formed XML, and the parsers'
recovery modes damage exactly those URLs: feedparser's fallback parser reads ``&copy=4`` or
``&not=1`` as the entities © and ¬, and lxml's recovery drops ``&sectionid`` altogether.
Escaping each bare ``&`` first makes the body parse as written.

Character references that name no character (half of a UTF-16 pair, a number beyond
Unicode) made feedparser's loose parser raise and lxml's recovery write bytes that are no
UTF-8: each is written as the character it was meant to be (the two halves of a pair) or as
U+FFFD.

A DOCTYPE written on the line of the XML declaration (a one-line head: ``<?xml ...?><!DOCTYPE
rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" ...>``) is moved to a line of its
own, where feedparser finds and removes it: left, its DTD, never read, made the XML parser
skip each HTML entity of the feed without a word (``&eacute;``, ``&nbsp;``), and headlines
and summaries lost those characters ("l'été" stored as "lt").

A body that says it is UTF-16 (or UTF-32) in bytes that cannot be, as an ASP.NET site writes
its feed or sitemap through a StringWriter (``encoding="utf-16"`` above UTF-8 text), is read
as UTF-8, else windows-1252: read in pairs of bytes, it was no XML at all.
"""

from __future__ import annotations

import codecs
import re

from .extracted import mended_encoding

# A "&" that starts no XML entity or character reference ("&sectionid=2", "AT&T"), and the
# CDATA sections where "&" is only text.
_BARE_AMPERSAND = re.compile(rb"&(?!#[0-9]+;|#[xX][0-9a-fA-F]+;|[A-Za-z_][A-Za-z0-9._-]*;)")
_CDATA = re.compile(rb"(<!\[CDATA\[.*?\]\]>)", re.DOTALL)


def escape_bare_ampersands(body: bytes) -> bytes:
    """``body`` with each bare ``&`` outside CDATA sections written ``&amp;`` (a well-formed
    body has none outside comments); bodies in UTF-16 or UTF-32 are left alone."""
    if b"&" not in body or b"\x00" in body[:4] or body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return body
    pieces = _CDATA.split(body)
    for i in range(0, len(pieces), 2):  # the even pieces are outside CDATA
        pieces[i] = _BARE_AMPERSAND.sub(b"&amp;", pieces[i])
    return b"".join(pieces)


#: A character reference that may name no character: a number beyond Unicode, or half of a
#: UTF-16 pair (systems that escape "😀" as "&#55357;&#56832;"). A reference of five digits
#: or more, or in hexadecimal of D800 up, and the one right after it.
_WIDE_REFERENCE = rb"&#(?:[xX]0*([dD][89a-fA-F][0-9a-fA-F]{2}|[0-9a-fA-F]{5,})|([0-9]{5,}));"
_WIDE_REFERENCES = re.compile(_WIDE_REFERENCE + b"(?:" + _WIDE_REFERENCE + b")?")


def _code_point(hexadecimal: bytes | None, decimal: bytes | None) -> int:
    return int(hexadecimal, 16) if hexadecimal else int(decimal or b"0")


def _wide_reference(match: re.Match[bytes]) -> bytes:
    """The references of ``match`` as a whole character's, or U+FFFD's: two halves of a
    UTF-16 pair make one character."""
    first = _code_point(match[1], match[2])
    second = _code_point(match[3], match[4]) if match[3] or match[4] else None
    if second is not None and 0xD800 <= first < 0xDC00 and 0xDC00 <= second < 0xE000:
        return b"&#x%X;" % (0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
    points = [first] if second is None else [first, second]
    return b"".join(b"&#x%X;" % (p if p < 0xD800 or 0xE000 <= p <= 0x10FFFF else 0xFFFD)
                    for p in points)


def whole_character_references(body: bytes) -> bytes:
    """``body`` with each character reference that names no character (above) written as
    the one character of a UTF-16 pair, else as U+FFFD's."""
    return _WIDE_REFERENCES.sub(_wide_reference, body) if b"&#" in body else body


# The DOCTYPE right after the XML declaration (or another processing instruction, or a
# comment) on its line, in a feed's prolog (before its first element): feedparser looks for
# it at the start of a line only, after a line feed (a classic Mac OS tool ended its lines
# with a carriage return alone).
_DOCTYPE_IN_LINE = re.compile(rb"(\?>|-->)[ \t\r]*<!DOCTYPE")
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")


def doctype_on_its_line(body: bytes) -> bytes:
    """``body`` with a DOCTYPE that follows the XML declaration on its line (or another
    processing instruction, or a comment) on a line of its own (see above); bodies in UTF-16
    or UTF-32 are left alone."""
    first = _FIRST_ELEMENT.search(body)
    if first is None or b"<!DOCTYPE" not in body[: first.start()]:
        return body
    head = _DOCTYPE_IN_LINE.sub(rb"\1\n<!DOCTYPE", body[: first.start()], count=1)
    return head + body[first.start():]


#: The encoding an XML declaration names (``<?xml version="1.0" encoding="utf-16"?>``).
_XML_ENCODING = re.compile(rb"""\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:-]+)""")


def declared_encoding(body: bytes) -> str | None:
    """The encoding ``body``'s XML declaration names (after a UTF-8 byte order mark), if any."""
    found = _XML_ENCODING.match(body.removeprefix(b"\xef\xbb\xbf"))
    return found.group(1).decode("ascii") if found else None


def _wide_encoding(name: str | None) -> bool:
    """Whether ``name`` is UTF-16's or UTF-32's (any byte order), whose every character
    takes two or four bytes."""
    try:
        return codecs.lookup(name or "").name.startswith(("utf-16", "utf-32"))
    except LookupError:
        return False


def _wide_bytes(body: bytes) -> bool:
    """Whether ``body`` may be UTF-16 or UTF-32: a byte order mark of theirs, or a NUL in its
    first characters (``<`` written in two or four bytes, XML 1.0 appendix F)."""
    return body.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in body[:4]


def misdeclared_wide(body: bytes, charset: str | None = None) -> str | None:
    """The encoding to read ``body`` in where its server's ``charset``, else its XML
    declaration, says it is UTF-16 or UTF-32 and its bytes cannot be (no byte order mark,
    no NUL): UTF-8, else windows-1252 (see above). None for any other body."""
    if not _wide_encoding(charset or declared_encoding(body)) or _wide_bytes(body):
        return None
    return "utf-8" if mended_encoding(body, "utf-8") == "utf-8" else "windows-1252"
