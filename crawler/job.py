"""What one crawl is given: the typed path from ``crawler.crawl`` to the Scrapy spider.

Scrapy hands a spider its arguments as untyped keyword arguments; the crawl passes exactly
one, a :class:`CrawlJob`, which the spider checks when it is built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from storage import CrawlStore, Source

from .containers import Containers
from .report import CrawlReport
from .workers import PagePool

if TYPE_CHECKING:
    from .spider import NewsSpider


@dataclass(frozen=True)
class CrawlJob:
    """The sources to poll once, the store the spider writes through as results arrive,
    the report it fills, the clock it reads, and the page workers it extracts with;
    ``poll_done`` is told the id of each source whose poll is recorded (every article it found
    is stored by then), ``opened`` the spider once its crawl is open (sources may join it from
    then on: ``NewsSpider.add``)."""

    sources: list[Source]
    store: CrawlStore
    report: CrawlReport
    clock: Callable[[], datetime]
    #: The runner's page workers; None: the spider extracts in a thread of its own.
    pages: PagePool | None = None
    poll_done: Callable[[int], None] | None = None
    #: Where sites hold their articles (the runner's, kept from crawl to crawl); None: this
    #: crawl learns them for itself.
    containers: Containers | None = None
    opened: Callable[[NewsSpider], None] | None = None
    #: The hosts' robots.txt read by earlier crawls of the runner (crawler.http.RobotsTxt:
    #: netloc -> until when, time.monotonic(), and its parser); None: read anew.
    robots: dict[str, tuple[float, Any]] | None = None
