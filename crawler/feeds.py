"""Feed parsing: RSS 0.9x/1.0/2.0 and Atom bytes in, plain entries out (feedparser)."""

from __future__ import annotations

import calendar
import io
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser
import lxml.html
from lxml.etree import ParserError


@dataclass(frozen=True)
class FeedEntry:
    """One entry of a feed, as the feed describes it."""

    link: str
    title: str
    summary: str  # plain text
    published: datetime | None
    author: str | None


@dataclass(frozen=True)
class ParsedFeed:
    """What feedparser made of a response body."""

    title: str | None
    entries: tuple[FeedEntry, ...]
    problem: str | None  # set for a broken-but-readable feed (bozo) or a body that is no feed
    is_feed: bool


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (feed summaries are often HTML)."""
    if "<" not in fragment and "&" not in fragment:
        return " ".join(fragment.split())
    try:
        text = lxml.html.fromstring(f"<div>{fragment}</div>").text_content()
    except (ParserError, ValueError):
        return " ".join(fragment.split())
    return " ".join(text.split())


def _when(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value: time.struct_time | None = entry.get(key)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), UTC)
    return None


def parse_feed(body: bytes, url: str, headers: dict[str, str] | None = None) -> ParsedFeed:
    """Parse a feed body; the entries of a malformed but readable feed are kept."""
    # A BytesIO, never raw bytes or str: feedparser reads a string as a path or URL.
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    response_headers.setdefault("content-location", url)
    parsed = feedparser.parse(io.BytesIO(body), response_headers=response_headers)
    entries = []
    for entry in parsed.entries:
        link = entry.get("link") or ""
        if not link:
            # Some feeds only give the link as a permalink guid.
            guid = entry.get("id") or ""
            link = guid if guid.startswith(("http://", "https://")) else ""
        if not link:
            continue
        summary = entry.get("summary") or ""
        if not summary and entry.get("content"):
            summary = entry["content"][0].get("value", "")
        entries.append(
            FeedEntry(
                link=link,
                title=html_to_text(entry.get("title") or ""),
                summary=html_to_text(summary),
                published=_when(entry),
                author=entry.get("author") or None,
            )
        )
    version = parsed.get("version") or ""
    is_feed = bool(version) or bool(entries)
    problem = None
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        problem = f"{type(exc).__name__}: {exc}" if exc else "malformed feed"
    if not is_feed:
        problem = "not a feed" + (f" ({problem})" if problem else "")
    title = parsed.feed.get("title") if parsed.get("feed") else None
    return ParsedFeed(title=title or None, entries=tuple(entries), problem=problem, is_feed=is_feed)
