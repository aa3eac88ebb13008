"""XML bodies as their authors meant them.

Feeds and sitemaps are often written by string concatenation, with a raw ``&`` in a URL
(``detail.aspx?id=1&sectionid=2``). Such a body is not well-formed XML, and the parsers'
recovery modes damage exactly those URLs: feedparser's fallback parser reads ``&copy=4`` or
``&not=1`` as the entities © and ¬, and lxml's recovery drops ``&sectionid`` altogether.
Escaping each bare ``&`` first makes the body parse as written.
"""

from __future__ import annotations

import re

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
