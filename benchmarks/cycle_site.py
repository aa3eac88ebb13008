"""The crawl-cycle benchmark's workload: a local news site with many feeds and article pages.

The site is ``tests/newssite.py``'s :class:`NewsSite` (feeds with ETag / Last-Modified and
304s, article pages with heavy chrome: navigation, "most read", comments, JSON-LD), served on
127.0.0.1 with two additions for benchmarking: every byte it sends is counted, and requests
are counted by status instead of being kept one record each (a cold cycle is 30,000+
requests).

Feeds are ``/feeds/feed-NNNN.rss`` (RSS 2.0); each entry links to its own article page
whose body is a seeded multilingual article from :mod:`benchmarks.corpus` (300-800 words
in English, Spanish, German or French), so that no two pages are alike.
"""

from __future__ import annotations

import random
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO

from .corpus import ArticleGenerator

TESTS = Path(__file__).resolve().parent.parent / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from mailserver import MailServer  # noqa: E402
from newssite import NewsSite, RequestRecord, Story, _make_handler  # noqa: E402

__all__ = ["BenchSite", "MailServer", "Story", "StoryMaker", "build_site", "feed_name"]


class _CountingWriter:
    """A file-like wrapper that adds every byte written to the site's counter."""

    def __init__(self, raw: BinaryIO, site: BenchSite) -> None:
        self._raw = raw
        self._site = site

    def write(self, data: bytes) -> int:
        n = self._raw.write(data)
        self._site._add_bytes(len(data))
        return n

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class BenchSite(NewsSite):
    """NewsSite that counts bytes sent and requests by status (instead of recording each)."""

    def __init__(self) -> None:
        super().__init__()
        self.articles = {}  # only the benchmark's stories, not the canned ones
        self.bytes_sent = 0
        self.statuses: Counter[int] = Counter()
        self.paths: Counter[str] = Counter()  # "feed", "article", "other"
        self._count_lock = threading.Lock()

    def start(self) -> None:
        """Like NewsSite.start, with a handler whose output stream counts bytes."""
        if self._server is not None:
            raise RuntimeError("BenchSite already started")
        base = _make_handler(self)
        site = self

        class Handler(base):  # type: ignore[misc,valid-type]
            def setup(self) -> None:
                super().setup()
                self.wfile = _CountingWriter(self.wfile, site)  # type: ignore[assignment]

        self._stopping.clear()
        server = ThreadingHTTPServer((self.host, 0), Handler)
        server.daemon_threads = True
        server.request_queue_size = 128
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
            name=f"benchsite-{self.port}",
        )
        self._thread.start()

    def _add_bytes(self, n: int) -> None:
        with self._count_lock:
            self.bytes_sent += n

    def _record(self, record: RequestRecord) -> None:
        path = record.path
        kind = "feed" if path.startswith("/feeds/") else (
            "article" if path.startswith("/articles/") else "other")
        with self._count_lock:
            self.statuses[record.status] += 1
            self.paths[kind] += 1

    def counters(self) -> dict[str, Any]:
        """A snapshot: bytes sent, requests by status and by kind."""
        with self._count_lock:
            return {"bytes": self.bytes_sent, "statuses": dict(self.statuses),
                    "paths": dict(self.paths)}

    def feed_url(self, index: int) -> str:
        return self.url(f"/feeds/{feed_name(index)}.rss")


def feed_name(index: int) -> str:
    return f"feed-{index:04d}"


class StoryMaker:
    """Seeded stories: a corpus article's title and paragraphs, a slug, a recent date."""

    def __init__(self, seed: int = 1) -> None:
        self.generator = ArticleGenerator(seed)
        self.rng = random.Random(seed)
        self.count = 0

    def story(self, *, published: datetime | None = None, extra: str = "") -> Story:
        """The next story; ``extra`` (e.g. a probe word) is added to its title and body."""
        article = self.generator.article()
        self.count += 1
        slug = f"{article.id:06d}-" + "-".join(
            w.lower() for w in article.title.split()[:5] if w.isascii() and w.isalnum()
        )
        when = published or (
            datetime.now(UTC).replace(microsecond=0)
            - timedelta(minutes=self.rng.randint(5, 47 * 60))
        )
        body = article.text.split("\n\n")
        title = article.title
        if extra:
            title = f"{title} {extra}"
            body = [*body[:-1], f"{body[-1]} {extra}."]
        return Story(slug, title, body, when, author="Staff reporter",
                     section=("World", "Politics", "Business", "Science")[article.id % 4])


def build_site(feeds: int, entries: int, seed: int = 1) -> tuple[BenchSite, StoryMaker]:
    """A started BenchSite with ``feeds`` feeds of ``entries`` stories each (all distinct)."""
    site = BenchSite()
    maker = StoryMaker(seed)
    for index in range(feeds):
        name = feed_name(index)
        site.create_feed(name)
        stories = [maker.story() for _ in range(entries)]
        _bulk_publish(site, name, stories)
    site.start()
    return site, maker


def _bulk_publish(site: NewsSite, feed: str, stories: list[Story]) -> None:
    """Publish many stories in one step (NewsSite.publish re-sorts the feed each time)."""
    for story in stories:
        site.articles[story.slug] = story
    with site._lock:
        entry = site._feeds[feed]
        entry.stories = sorted(entry.stories + stories, key=lambda s: s.published, reverse=True)
        entry.modified = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
