"""Crawler: sources in, articles out (Scrapy, feedparser, trafilatura).

Fetching goes through Scrapy; every outcome of a poll — new articles, 304, an HTTP error, a
broken feed, a network failure — is written to storage as it happens, never dropped.
"""

from .report import CrawlReport
from .run import crawl, install_reactor, make_runner
from .settings import CrawlSettings
from .urls import canonicalize

__all__ = [
    "CrawlReport",
    "CrawlSettings",
    "canonicalize",
    "crawl",
    "install_reactor",
    "make_runner",
]
