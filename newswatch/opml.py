"""OPML subscription lists (1.0 and 2.0), the format feed readers import and export.

Files come from other programs and other people, so they are parsed with the crawler's
hardened parser (crawler.xmlsafe): an XXE or "billion laughs" document reads as its literal
text or is refused, never as a local file or a huge tree.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from lxml import etree

from crawler.xmlsafe import safe_parser

MAX_BYTES = 10 * 1024 * 1024
# Characters XML 1.0 cannot carry, even escaped; a feed title may contain them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class OpmlError(Exception):
    """The file is not a readable OPML document; the message says why, in one line."""


@dataclass(frozen=True)
class Outline:
    """One subscription of an OPML file: the feed URL and its display name."""

    url: str
    name: str | None


def parse_opml(data: bytes) -> list[Outline]:
    """Every ``<outline>`` with an ``xmlUrl``, nested folders flattened, in document order."""
    if len(data) > MAX_BYTES:
        raise OpmlError(f"larger than {MAX_BYTES // (1024 * 1024)} MB: not a subscription list")
    try:
        root = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as exc:
        # exc.msg without lxml's "(<string>, line N)" suffix; it already names the line.
        raise OpmlError(f"not well-formed XML: {exc.msg}") from exc
    if root is None:
        raise OpmlError("empty document")
    tag = etree.QName(root).localname
    if tag.lower() != "opml":
        raise OpmlError(f"not an OPML file (the root element is <{tag}>, not <opml>)")
    outlines: list[Outline] = []
    for element in root.iter():
        if not isinstance(element.tag, str) or etree.QName(element).localname != "outline":
            continue
        # Attribute names are camelCase in the spec, but some exporters write xmlURL.
        attrs = {str(k).lower(): str(v) for k, v in element.attrib.items()}
        if "xmlurl" not in attrs:
            continue  # a folder, or a link to a web page (htmlUrl alone)
        name = (attrs.get("title") or attrs.get("text") or "").strip()
        # One line: XML lets a title hold line breaks and the C1 controls (U+0080-U+009F).
        name = "".join(" " if unicodedata.category(c) == "Cc" else c for c in name)
        outlines.append(Outline(attrs["xmlurl"].strip(), " ".join(name.split()) or None))
    return outlines


def render_opml(outlines: list[Outline], created: datetime, title: str) -> bytes:
    """An OPML 2.0 document (UTF-8) with one ``type="rss"`` outline per subscription."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = _xml_text(title)
    etree.SubElement(head, "dateCreated").text = format_datetime(created, usegmt=True)
    body = etree.SubElement(root, "body")
    for outline in outlines:
        name = _xml_text(outline.name or outline.url)
        etree.SubElement(
            body,
            "outline",
            {"type": "rss", "text": name, "title": name, "xmlUrl": _xml_text(outline.url)},
        )
    document: bytes = etree.tostring(
        root, xml_declaration=True, encoding="UTF-8", pretty_print=True
    )
    return document


def _xml_text(value: str) -> str:
    return _NOT_XML.sub("", value)
