"""Crawler: sources in, articles out (Scrapy, feedparser, trafilatura).

Fetching goes through Scrapy; every outcome of a poll — new articles, 304, an HTTP error, a
broken feed, a network failure — is written to storage as it happens, never dropped.

The settings, the report and URL canonicalization load with the package; what needs Scrapy
loads on first use (PEP 562), so that commands that never crawl do not pay for it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from .report import CrawlReport
from .settings import CrawlSettings
from .urls import canonicalize

if TYPE_CHECKING:
    from .run import CrawlRunner, install_reactor

_LAZY = {"CrawlRunner": ".run", "install_reactor": ".run"}


def __getattr__(name: str) -> object:
    """The names of ``_LAZY``, imported when first asked for."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "CrawlReport",
    "CrawlRunner",
    "CrawlSettings",
    "canonicalize",
    "install_reactor",
]
