"""Article extraction: the main text of a news page, without its navigation, related links,
comments or footer (trafilatura)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import trafilatura
import trafilatura.meta
from trafilatura.settings import Document, set_date_params

from .discover import canonical_link

logger = logging.getLogger(__name__)

MIN_TEXT_CHARS = 40


@dataclass(frozen=True)
class Extracted:
    """The article part of a page."""

    text: str
    title: str | None
    author: str | None
    date: str | None  # as trafilatura found it (YYYY-MM-DD)
    canonical_url: str | None


def extract_article(html: str, url: str) -> Extracted | None:
    """The article in ``html``, or None when the page has no recognisable article text."""
    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
        # Dates from the page's markup only: an extensive search guesses from copyright
        # years and archive links ("© 2026" became 1 January), which would hide new articles
        # behind the look-back window.
        date_extraction_params=set_date_params(extensive=False),
    )
    if not isinstance(document, Document):
        return None
    text = (document.text or "").strip()
    if len(text) < MIN_TEXT_CHARS:
        return None
    return Extracted(
        text=text,
        title=document.title or None,
        author=document.author or None,
        date=document.date or None,
        # Read from the page, not trafilatura's metadata: trafilatura normalizes the URL with
        # courlan, which decodes "&sect" in "&sectionid=" to "§" and drops parameters.
        canonical_url=canonical_link(html, url),
    )


def reset_caches() -> None:
    """Free trafilatura's caches; called after each crawl so that the daemon stays small."""
    trafilatura.meta.reset_caches()
