"""OPML subscription lists (1.0 and 2.0), the format feed readers import and export.

Files come from other programs and other people, so they are parsed with the crawler's
hardened parser (crawler.xmlsafe): an XXE or "billion laughs" document reads as its literal
text or is refused, never as a local file or a huge tree.
"""

from __future__ import annotations

import html.entities
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime

from lxml import etree

from crawler.xmlsafe import safe_parser

MAX_BYTES = 10 * 1024 * 1024
# Characters XML 1.0 cannot carry, even escaped; a feed title may contain them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class OpmlError(Exception):
    """The file is not a readable OPML document; the message says why, in one line."""


#: The namespace of newswatch's own attributes (a source's settings), which other readers
#: ignore and another newswatch takes back, as Miniflux keeps its own.
NAMESPACE = "urn:newswatch:opml"


@dataclass(frozen=True)
class Outline:
    """One subscription of an OPML file: the feed URL, its display name, and the settings
    newswatch wrote of it (its polling interval as written, e.g. "10m", its kind, its link
    patterns), unchecked."""

    url: str
    name: str | None
    every: str | None = None
    kind: str | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class Subscriptions:
    """What an OPML file lists; ``damage`` says why a file that is not well-formed was read
    only as far as it could be (its outlines after the damage may be missing), else None."""

    outlines: list[Outline]
    damage: str | None = None
    #: Outlines of a web page only (an ``htmlUrl``, no ``xmlUrl``): not feeds, not taken.
    pages: list[str] = field(default_factory=list)


def parse_opml(data: bytes) -> Subscriptions:
    """Every ``<outline>`` with an ``xmlUrl``, nested folders flattened, in document order.
    The slips of exporters that other readers forgive (:func:`_mended`) are forgiven here,
    and a damaged file (cut short, a tag left open) is read as far as it can be, as
    listparser and Miniflux do."""
    if len(data) > MAX_BYTES:
        raise OpmlError(f"larger than {MAX_BYTES // (1024 * 1024)} MB: not a subscription list")
    damage = None
    data = _windows_1252(data)
    try:
        root = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as exc:
        mended = _mended(data)
        try:
            root = etree.fromstring(mended, safe_parser())
        except etree.XMLSyntaxError:
            # exc.msg without lxml's "(<string>, line N)" suffix; it already names the line.
            damage = f"not well-formed XML: {exc.msg}"
            try:
                root = etree.fromstring(mended, safe_parser(recover=True))
            except etree.XMLSyntaxError:
                root = None
            if root is None:
                raise OpmlError(damage) from exc
    if root is None:
        raise OpmlError("empty document")
    tag = etree.QName(root).localname
    if tag.lower() != "opml":
        raise OpmlError(f"not an OPML file (the root element is <{tag}>, not <opml>)")
    outlines: list[Outline] = []
    pages: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str) or etree.QName(element).localname.lower() != "outline":
            continue
        # Attribute names are camelCase in the spec, but some exporters write xmlURL.
        attrs = {str(k).lower(): str(v) for k, v in element.attrib.items()}
        if "xmlurl" not in attrs:
            if attrs.get("htmlurl", "").strip() and not len(element):
                pages.append(attrs["htmlurl"].strip())  # a web page, not a feed
            continue  # a folder
        url = attrs["xmlurl"].strip()
        name = (attrs.get("title") or attrs.get("text") or "").strip()
        # One line: XML lets a title hold line breaks and the C1 controls (U+0080-U+009F).
        name = " ".join("".join(" " if unicodedata.category(c) == "Cc" else c
                                for c in name).split())
        own = {key: attrs.get(f"{{{NAMESPACE}}}{key}") for key in ("every", "kind")}
        outlines.append(Outline(
            url,
            name if name and name != url else None,  # an exporter's stand-in for no name
            own["every"], own["kind"],
            _patterns(attrs.get(f"{{{NAMESPACE}}}include")),
            _patterns(attrs.get(f"{{{NAMESPACE}}}exclude")),
        ))
    return Subscriptions(outlines, damage, pages)


def _patterns(value: str | None) -> tuple[str, ...]:
    """Link patterns as :func:`render_opml` writes them: one a line."""
    return tuple(line for line in (value or "").split("\n") if line.strip())


#: An ampersand that starts no reference XML knows (a raw "&" in a query string), or a
#: named reference (HTML's "&aelig;", "&nbsp;" as well as XML's own five).
_AMPERSAND = re.compile(r"&(?:(#[0-9]+;|#[xX][0-9a-fA-F]+;)|([A-Za-z][A-Za-z0-9]*);)?")
_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_DECLARED = re.compile(rb"^\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)")
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
_C1_BYTES = re.compile(rb"[\x80-\x9f]")


#: The names of ISO-8859-1 that a declaration gives (WHATWG's labels of it, lower case).
_LATIN_1 = frozenset({"iso-8859-1", "iso8859-1", "iso88591", "iso_8859-1", "latin1", "l1",
                      "cp819", "ibm819", "csisolatin1", "iso-ir-100"})


def _windows_1252(data: bytes) -> bytes:
    """``data`` declared Windows-1252 where it says ISO-8859-1 but has bytes 0x80-0x9F:
    control characters in ISO-8859-1, they are the curly quotes, dashes and euro sign of a
    Windows program's text (a name's apostrophe came out a space), as browsers read them (the WHATWG
    Encoding standard's ISO-8859-1 is Windows-1252). Any other document as it is."""
    declared = _DECLARED.match(data)
    if (declared is None or declared.group(1).decode().lower() not in _LATIN_1
            or not _C1_BYTES.search(data)):
        return data
    return data[: declared.start(1)] + b"windows-1252" + data[declared.end(1) :]


def _mended(data: bytes) -> bytes:
    """``data`` with the slips of exporters that Miniflux, FreshRSS and listparser forgive:
    bytes in another encoding than the one declared (Latin-1 or Windows-1252 text in a file
    said or taken to be UTF-8), blank lines before the XML declaration, a raw "&" in a URL,
    HTML's named entities. UTF-8, without its declaration."""
    declared = _DECLARED.match(data)
    text = None
    for encoding in dict.fromkeys((declared.group(1).decode() if declared else "utf-8", "utf-8")):
        try:
            text = data.decode(encoding)
            break
        except (LookupError, UnicodeDecodeError):
            continue
    if text is None:
        text = data.decode("cp1252", errors="replace")
    text = _DECLARATION.sub("", text.lstrip("\ufeff"))

    def reference(match: re.Match[str]) -> str:
        numeric, name = match.groups()
        if numeric or name in _XML_ENTITIES:
            return match.group()
        if name is not None and name in html.entities.name2codepoint:
            return f"&#{html.entities.name2codepoint[name]};"
        return "&amp;" + match.group()[1:]

    return _AMPERSAND.sub(reference, text).encode()


def render_opml(outlines: list[Outline], created: datetime, title: str) -> bytes:
    """An OPML 2.0 document (UTF-8) with one ``type="rss"`` outline per subscription; its
    settings in newswatch's namespace (:data:`NAMESPACE`)."""
    root = etree.Element("opml", version="2.0", nsmap={"newswatch": NAMESPACE})
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = _xml_text(title)
    etree.SubElement(head, "dateCreated").text = format_datetime(created, usegmt=True)
    body = etree.SubElement(root, "body")
    for outline in outlines:
        # OPML requires a text; a source without a name has its URL, and no title.
        attributes = {"type": "rss", "text": _xml_text(outline.name or outline.url)}
        if outline.name:
            attributes["title"] = _xml_text(outline.name)
        attributes["xmlUrl"] = _xml_text(outline.url)
        own = {"every": outline.every, "kind": outline.kind,
               "include": "\n".join(outline.include), "exclude": "\n".join(outline.exclude)}
        for key, value in own.items():
            if value:
                attributes[f"{{{NAMESPACE}}}{key}"] = _xml_text(value)
        etree.SubElement(body, "outline", attributes)
    document: bytes = etree.tostring(
        root, xml_declaration=True, encoding="UTF-8", pretty_print=True
    )
    return document


def _xml_text(value: str) -> str:
    return _NOT_XML.sub("", value)
