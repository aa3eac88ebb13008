"""Crawler: sources in, articles out (Scrapy, feedparser, trafilatura).

Fetching goes through Scrapy; every outcome of a poll — new articles, 304, an HTTP error, a
broken feed, a network failure — is written to storage as it happens, never dropped.

The settings and the report load with the package; what needs Scrapy (and URL
canonicalization, which needs w3lib) loads on first use (PEP 562), so that commands that never
crawl do not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage.lazy import lazy_exports

from .report import CrawlReport
from .settings import CrawlSettings

if TYPE_CHECKING:
    from .run import CrawlRunner, install_reactor
    from .urls import canonicalize

_LAZY = {"CrawlRunner": ".run", "canonicalize": ".urls", "install_reactor": ".run"}

__getattr__ = lazy_exports(__name__, _LAZY)

__all__ = [
    "CrawlReport",
    "CrawlRunner",
    "CrawlSettings",
    "canonicalize",
    "install_reactor",
]
