"""What one crawl is given: the typed path from ``crawler.crawl`` to the Scrapy spider.

Scrapy hands a spider its arguments as untyped keyword arguments; the crawl passes exactly
one, a :class:`CrawlJob`, which the spider checks when it is built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from storage import CrawlStore, Source

from .report import CrawlReport


@dataclass(frozen=True)
class CrawlJob:
    """The sources to poll once, the store the spider writes through as results arrive,
    the report it fills, and the clock it reads; ``polled`` is told the id of each source
    whose poll is recorded (every article it found is stored by then)."""

    sources: list[Source]
    store: CrawlStore
    report: CrawlReport
    clock: Callable[[], datetime]
    polled: Callable[[int], None] | None = None
