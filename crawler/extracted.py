"""What extraction gives for a page (plain data: it crosses from the page workers to the crawl
process, which never needs to load trafilatura for it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: The extraction, by name (``module:name``), as the page workers import it.
EXTRACT = "crawler.extract:extract_article"

#: How the article text was found: the pass of the cascade that gave it.
Method = Literal["fast", "precision", "default", "recall"]


@dataclass(frozen=True)
class Extracted:
    """The article part of a page."""

    text: str
    title: str | None
    author: str | None
    date: str | None  # as trafilatura found it (YYYY-MM-DD)
    canonical_url: str | None
    method: Method = "default"
