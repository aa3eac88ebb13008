"""The one XML parser for documents from strangers (sitemaps, OPML files).

It does not expand entities, load a DTD or touch the network: an XXE or "billion laughs"
document reads as its literal text or is refused, never as a local file or a huge tree.
"""

from __future__ import annotations

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


def safe_pull_parser(recover: bool = False) -> etree.XMLPullParser:
    """safe_parser's kind, fed a document piece by piece, its elements read as they end
    ("start" and "end" events)."""
    return etree.XMLPullParser(events=("start", "end"), **_HARDENED, recover=recover)
