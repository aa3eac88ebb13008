"""The crawl-cycle benchmark's workload: a local news site with many feeds and article pages.

The site is ``tests/newssite.py``'s :class:`NewsSite` (feeds with ETag / Last-Modified and
304s, article pages with heavy chrome: navigation, "most read", comments, JSON-LD) with three
additions for benchmarking: every byte it sends is counted; requests are counted by status
instead of being kept one record each (a cold cycle is 30,000+ requests); and it can listen
on many loopback addresses at once (127.0.0.1, 127.0.0.2, ...; Linux routes all of
127.0.0.0/8 to ``lo``), each one a separate host for the crawler's per-host politeness, as
in a real deployment that polls many sites. Every link a page or feed carries points back
to the address it was requested on, and the site notes, per host, when each request started
and how many were in flight, so that the politeness the crawler showed can be reported.

Feeds are ``/feeds/feed-NNNN.rss`` (RSS 2.0); each entry links to its own article page
whose body is a seeded multilingual article from :mod:`benchmarks.corpus` (300-800 words
in English, Spanish, German or French), so that no two pages are alike.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from . import heavy_pages
from .corpus import ArticleGenerator
from .loopback import Listeners, Server

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
        # Counted before the bytes go out: once a client has read a response, the counter
        # already includes it (counting after the write raced with the reader).
        self._site._add_bytes(len(data))
        return int(self._raw.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


MAX_HOSTS = 254 * 256


def loopback_hosts(count: int) -> list[str]:
    """``count`` loopback addresses: 127.0.0.1 ... 127.0.0.254, then 127.0.1.1 ... (at most
    MAX_HOSTS)."""
    if not 1 <= count <= MAX_HOSTS:
        raise ValueError(f"hosts must be between 1 and {MAX_HOSTS}, not {count}")
    return [f"127.0.{i // 254}.{i % 254 + 1}" for i in range(count)]


@dataclass(frozen=True)
class Politeness:
    """What the crawler did to each host, as seen by the site."""

    hosts: int  # hosts that got at least one request
    requests: int
    max_in_flight: int  # the most requests one host was answering at once
    peak_per_second: int  # the most requests one host got within one second
    busiest_host_requests: int


class BenchSite(NewsSite):
    """NewsSite that counts bytes sent and requests by status (instead of recording each),
    listening on ``hosts`` loopback addresses."""

    def __init__(self, hosts: int = 1) -> None:
        super().__init__()
        self.articles = {}  # only the benchmark's stories, not the canned ones
        self.hosts = loopback_hosts(hosts)
        self.ports: dict[str, int] = {}
        self.bytes_sent = 0
        self.statuses: Counter[int] = Counter()
        self.paths: Counter[str] = Counter()  # "feed", "article", "other"
        self._count_lock = threading.Lock()
        self._local = threading.local()  # the address the current connection came in on
        self._starts: defaultdict[str, list[float]] = defaultdict(list)
        self._host_in_flight: Counter[str] = Counter()
        self._host_max_in_flight: Counter[str] = Counter()
        self._listeners = Listeners("benchsite", self._stopping)
        self.answer_delay = 0.0  # seconds each answer waits: a remote server's round trip
        self.first_feed_request: float | None = None  # time.monotonic() of the first one
        # Pages of realistic weight (benchmarks.heavy_pages): slug -> the site (feed index)
        # whose template wraps the story; the teasers and comments the chrome draws from.
        self.heavy: dict[str, int] = {}
        self.teasers: tuple[str, ...] = ()
        self.comments: tuple[str, ...] = ()
        self.real_texts = False  # heavy pages hold real article texts (else generated ones)

    def render_article(self, story: Story) -> bytes:
        """The story's page: in a heavy site's template when it has one."""
        site = self.heavy.get(story.slug)
        if site is None:
            return super().render_article(story)
        return heavy_pages.render(
            site, story.slug,
            heavy_pages.Text(story.title, tuple(story.body), story.lang),
            published_iso=story.published.isoformat(), author=story.author,
            canonical=self.article_url(story.slug), teasers=self.teasers,
            comments=self.comments,
        )

    @property
    def base_url(self) -> str:
        """The root URL of the host the current request came to (else the first host)."""
        host = getattr(self._local, "host", None) or self.host
        if not self.ports:
            raise RuntimeError("BenchSite not started")
        return f"http://{host}:{self.ports[host]}"

    def start(self) -> None:
        """Like NewsSite.start, on every host, with a handler that counts bytes and notes
        per-host timings. One thread accepts connections for all hosts."""
        if self._listeners.servers:
            raise RuntimeError("BenchSite already started")
        base = _make_handler(self)
        site = self

        class Handler(base):  # type: ignore[misc,valid-type]
            def setup(self) -> None:
                super().setup()
                self.wfile = _CountingWriter(self.wfile, site)  # type: ignore[assignment]
                site._local.host = self.server.server_address[0]

            def _answer(self, send_body: bool) -> None:
                host = site._local.host
                site._begin(host)
                try:
                    if site.answer_delay:
                        site._stopping.wait(site.answer_delay)
                    super()._answer(send_body)
                finally:
                    site._end(host)

        port = 0
        servers = []
        for host in self.hosts:
            try:  # the same port on every address when it is free there, for readability
                server = Server((host, port), Handler)
            except OSError:
                server = Server((host, 0), Handler)
            port = port or server.server_address[1]
            self.ports[host] = server.server_address[1]
            servers.append(server)
        self.port = self.ports[self.host]
        self._listeners.name = f"benchsite-{self.port}"
        self._listeners.start(servers)

    def stop(self) -> None:
        """Stop accepting, wake sleeping handlers and close every listening socket."""
        if self._listeners.servers:
            self._listeners.stop()

    def _begin(self, host: str) -> None:
        with self._count_lock:
            self._starts[host].append(time.monotonic())
            self._host_in_flight[host] += 1
            self._host_max_in_flight[host] = max(
                self._host_max_in_flight[host], self._host_in_flight[host]
            )

    def _end(self, host: str) -> None:
        with self._count_lock:
            self._host_in_flight[host] -= 1

    def reset_politeness(self) -> None:
        """Forget the per-host timings (before a cycle)."""
        with self._count_lock:
            self._starts.clear()
            self._host_max_in_flight.clear()

    def politeness(self) -> Politeness:
        """Per-host figures since the last :meth:`reset_politeness`."""
        with self._count_lock:
            starts = {h: list(t) for h, t in self._starts.items()}
            max_in_flight = max(self._host_max_in_flight.values(), default=0)
        peak = 0
        for times in starts.values():
            first = 0
            for last, when in enumerate(times):  # a window of one second ending at each start
                while when - times[first] >= 1.0:
                    first += 1
                peak = max(peak, last - first + 1)
        return Politeness(
            hosts=len(starts),
            requests=sum(len(t) for t in starts.values()),
            max_in_flight=max_in_flight,
            peak_per_second=peak,
            busiest_host_requests=max((len(t) for t in starts.values()), default=0),
        )

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
            if kind == "feed" and self.first_feed_request is None:
                self.first_feed_request = time.monotonic()

    def counters(self) -> dict[str, Any]:
        """A snapshot: bytes sent, requests by status and by kind."""
        with self._count_lock:
            return {"bytes": self.bytes_sent, "statuses": dict(self.statuses),
                    "paths": dict(self.paths)}

    def feed_url(self, index: int, *, host: str | None = None) -> str:
        """Feed ``index``'s URL on ``host``; by default feeds take the hosts in turn."""
        host = host or self.hosts[index % len(self.hosts)]
        return f"http://{host}:{self.ports[host]}/feeds/{feed_name(index)}.rss"


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


#: With heavy pages, one feed in FULL_TEXT_EVERY gives its stories' whole text
#: (content:encoded), as WordPress's feeds do by default; the others a one-line summary.
FULL_TEXT_EVERY = 3


def build_site(
    feeds: int, entries: int, seed: int = 1, hosts: int = 1, *, heavy: bool = False
) -> tuple[BenchSite, StoryMaker]:
    """A started BenchSite on ``hosts`` addresses with ``feeds`` feeds of ``entries`` stories
    each (all distinct); ``heavy``: real article texts in pages of realistic weight, each
    feed a site with its own template (benchmarks.heavy_pages), a third of the feeds with
    their stories' whole text (FULL_TEXT_EVERY)."""
    site = BenchSite(hosts)
    maker = StoryMaker(seed)
    texts = heavy_pages.TextSource(seed) if heavy else None
    if texts is not None:
        pool = texts.texts or tuple(texts.next() for _ in range(50))
        site.teasers = tuple(t.title for t in pool[:200])
        site.comments = heavy_pages.sentences(pool, 600)
    for index in range(feeds):
        name = feed_name(index)
        site.create_feed(name)
        if texts is None:
            stories = [maker.story() for _ in range(entries)]
        else:
            stories = [_heavy_story(maker, texts.next()) for _ in range(entries)]
            site.heavy.update((story.slug, index) for story in stories)
            if index % FULL_TEXT_EVERY == 0:
                site.full_text_feeds.add(name)
        _bulk_publish(site, name, stories)
    site.real_texts = bool(texts is not None and texts.real)
    site.start()
    return site, maker


def _heavy_story(maker: StoryMaker, text: heavy_pages.Text) -> Story:
    maker.count += 1
    slug = f"{maker.count:06d}-" + "-".join(
        w.lower() for w in text.title.split()[:5] if w.isascii() and w.isalnum()
    )
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(
        minutes=maker.rng.randint(5, 47 * 60))
    return Story(slug, text.title, list(text.paragraphs), when, author="Staff reporter",
                 section=("World", "Politics", "Business", "Science")[maker.count % 4],
                 lang=text.lang)


def _bulk_publish(site: NewsSite, feed: str, stories: list[Story]) -> None:
    """Publish many stories in one step (NewsSite.publish re-sorts the feed each time)."""
    for story in stories:
        site.articles[story.slug] = story
    with site._lock:
        entry = site._feeds[feed]
        entry.stories = sorted(entry.stories + stories, key=lambda s: s.published, reverse=True)
        entry.modified = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
