"""A realistic local news website for integration tests (stdlib HTTP server on 127.0.0.1:0).

Routes (all links point back to this site, never to a real host):

    /                       home page listing every known story (also /section/<name>)
    /articles/<slug>        article page with heavy "chrome" (nav, most read, comments, ...);
                            also at /articles/<slug>/ and /articles/<slug>/index.html
    /print/<slug>           the same page at another address (declaring the canonical one)
    /consent                a cookie-consent page; with ``NewsSite.consent_wall`` on, every
                            article page answers 302 to it (a site that asks first)
    /feeds/<name>.rss       RSS 2.0 (item links carry ?utm_source=rss&utm_medium=feed)
    /feeds/<name>.atom      Atom 1.0 of the same feed
    /feeds/<name>.rdf       RSS 1.0 of the same feed
    /feeds/<name>.json      JSON Feed 1.1 of the same feed (unless ``NewsSite.json_feeds`` is off)
    /feeds/broken.rss       malformed but readable RSS with two items
    /status/<code>          that status (``?retry_after=N`` adds Retry-After)
    /ratelimit              429 with ``Retry-After`` (``?retry_after=N``, default 1)
    /slow?seconds=N         sleeps N seconds (max 10), then a small feed
    /redirect?to=<path>     301 (``&status=302`` etc.) to a path on this site
    /big                    ~3 MB RSS (``?gzip=1`` gzip-encoded, ``?nolength=1`` no Content-Length)
    /huge?mb=N              an N MB RSS feed (default 100, max 1024), made while it is sent, so
                            the site never holds it (``?nolength=1``: no Content-Length)
    /robots.txt             ``NewsSite.robots``, then a ``Sitemap:`` line per ``NewsSite.sitemaps``
    /notafeed               an HTML page served as text/xml
    /sitemaps/news.xml      Google News sitemap of the 'world' feed (``.xml.gz``: gzip file)
    /sitemaps/archive.xml   plain urlset: the canned STORIES (lastmod) + old undated URLs
    /sitemaps/index.xml     sitemap index of news.xml and archive.xml, with lastmod
    /nofeed/                a front page without feeds: teasers of the 'nofeed' feed's stories
                            among nav, tag, author, login, pagination and other-host links
    /withfeed/              a front page declaring its feeds with <link rel="alternate">

Feeds and sitemaps answer conditional GETs (ETag / Last-Modified) with 304 (the feeds of
``NewsSite.stale_304``, every conditional GET, whatever changed). The site answers
whatever host name it is reached by; ``NewsSite.domain`` (e.g. ``news.localhost``, which the
tests' netguard resolves to 127.0.0.1) is the name its URLs use. ``revise`` edits a story in
place and gives it a newer updated date; ``publish(..., link=...)`` lists a story in a feed
under another address; ``retract`` drops a story from a feed (its page stays).
``NewsSite(publication, chrome=...)`` is another newsroom — its own name in feeds and pages,
its own article-page template — and several sites can serve at once, each under its own
``domain``.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import logging
import re
import string
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape as xml_escape

logger = logging.getLogger(__name__)

FIXTURES = Path(__file__).parent / "fixtures"

#: Words that appear in every article page's chrome but in no canned story body except those
#: that mention them on purpose (see ``STORIES``); an extractor must not report them.
CHROME_WORDS = ("Maduro", "Venezuela", "Belarus", "Zelensky", "earthquake")

DEFAULT_ROBOTS = "User-agent: *\nAllow: /\n"
UTM_QUERY = "utm_source=rss&utm_medium=feed"
MAX_SLOW_SECONDS = 10.0
MAX_HELD_SECONDS = 60.0  # a gate (NewsSite.hold) that is never set holds a request this long
BIG_BODY_BYTES = 3 * 1024 * 1024
MAX_HUGE_MB = 1024
PUBLICATION = "The Northgate Herald"
#: Paths of /sitemaps/archive.xml listed without a lastmod (old pages of the archive).
ARCHIVE_UNDATED = (
    "/articles/harbour-museum-opens-its-doors",
    "/articles/first-tram-line-celebrates-anniversary",
    "/articles/old-town-market-returns-after-repairs",
)


@dataclass
class Story:
    """One article on the site."""

    slug: str
    title: str
    body: list[str]  # paragraphs of the article body
    published: datetime  # tz-aware UTC
    author: str = "Staff reporter"
    summary: str = ""  # feed <description>; default: first sentence of the body
    section: str = "World"
    lang: str = "en"
    updated: datetime | None = None  # last edit (feeds' updated dates); None: never edited

    def __post_init__(self) -> None:
        """Fill in the default summary and check the date is tz-aware."""
        if self.published.tzinfo is None:
            raise ValueError(f"Story {self.slug!r}: published must be tz-aware")
        if not self.summary and self.body:
            first = self.body[0]
            end = first.find(". ")
            self.summary = first if end < 0 else first[: end + 1]


def _load_stories() -> list[Story]:
    """Read the canned stories from ``fixtures/stories.json``."""
    raw = json.loads((FIXTURES / "stories.json").read_text(encoding="utf-8"))
    return [
        Story(**{**item, "published": datetime.fromisoformat(item["published"])}) for item in raw
    ]


#: Canned stories (fixed dates in November 2026; use ``dataclasses.replace`` to move them).
#: Bodies mentioning CHROME_WORDS: venezuela-opposition-leader (Maduro, Venezuela),
#: maduro-abandona-venezuela (Spanish; Maduro, Venezuela), zelensky-grain-corridor (Zelensky).
#: central-bank-holds-rates, city-late-winner and harbour-wind-farm-approved mention none.
STORIES: list[Story] = _load_stories()
STORIES_BY_SLUG: dict[str, Story] = {story.slug: story for story in STORIES}

_FILLER = [
    "Council members spent most of the morning session on the details of the proposal, which "
    "has been revised twice since it was first presented in the spring. Officials said the "
    "latest version reflected comments from residents, local businesses and transport groups.",
    "The finance committee estimated the cost at about 14 million over five years, most of it "
    "to be covered by a regional grant. Opponents questioned whether that estimate included "
    "maintenance, and asked for an independent review before the final vote next month.",
    "Residents who attended the public meeting were divided. Some welcomed the plans as long "
    "overdue, while others said they had not been consulted properly and worried about noise, "
    "parking and the effect of months of construction on shops in the old town.",
    "A spokesperson for the mayor said the timetable remained realistic and that work could "
    "begin early next year if the remaining permits were granted. The authority has promised "
    "to publish monthly progress reports and to hold a second consultation in the summer.",
    "Independent experts said the scheme was broadly in line with what neighbouring cities had "
    "done in recent years, though they cautioned that similar projects elsewhere had run over "
    "budget when early surveys underestimated the condition of the existing infrastructure.",
]


def sample_story(
    slug: str,
    title: str,
    body_words: Sequence[str] = (),
    *,
    published: datetime | None = None,
    paragraphs: int = 4,
    author: str = "Staff reporter",
    summary: str = "",
    section: str = "World",
) -> Story:
    """Build a believable story whose body mentions exactly ``body_words`` (plus neutral prose).

    ``published`` defaults to now (UTC, whole seconds).
    """
    body = [_FILLER[i % len(_FILLER)] for i in range(max(paragraphs, 1))]
    if body_words:
        mention = ", ".join(body_words)
        body[0] = (
            f"{body[0]} The discussion repeatedly returned to {mention}, which several "
            "participants described as the most pressing question on the agenda."
        )
        body[-1] = f"{body[-1]} Further statements on {mention} are expected later this week."
    when = published or datetime.now(UTC).replace(microsecond=0)
    return Story(slug, title, body, when, author=author, summary=summary, section=section)


class Headers(dict[str, str]):
    """Request headers with case-insensitive lookup (keys are stored lower-case)."""

    def __init__(self, items: Iterator[tuple[str, str]] | Sequence[tuple[str, str]] = ()) -> None:
        """Store ``items`` under lower-cased names (later duplicates are joined with ', ')."""
        super().__init__()
        for name, value in items:
            key = name.lower()
            self[key] = f"{self[key]}, {value}" if key in self else value

    def __getitem__(self, key: str) -> str:
        """Look ``key`` up case-insensitively."""
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        """Test membership case-insensitively."""
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        """Look ``key`` up case-insensitively."""
        return super().get(key.lower(), default)


@dataclass
class RequestRecord:
    """One request the site received."""

    method: str
    target: str  # raw request target, with query string
    headers: Headers
    status: int = 0
    arrived: float = field(default_factory=time.monotonic)  # when the request came in
    answered: float = 0.0  # when its answer was ready (time.monotonic)
    client: str = ""  # the address it came from (which test machine sent it)

    @property
    def path(self) -> str:
        """The request path without the query string."""
        return urlsplit(self.target).path

    @property
    def query(self) -> str:
        """The raw query string ('' if none)."""
        return urlsplit(self.target).query


@dataclass
class _Feed:
    """A feed's stories (newest first) and its validators."""

    stories: list[Story] = field(default_factory=list)
    modified: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    links: dict[str, str] = field(default_factory=dict)  # slug -> the link the feed gives


@dataclass
class _Response:
    """What the handler should send."""

    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    send_length: bool = True  # False: no Content-Length, the body ends when the connection does
    drip: float = 0.0  # seconds between 1 KiB chunks of the body (a slow-drip server)
    chunks: Iterator[bytes] | None = None  # sent after ``body``, as they come (never counted)


def _template(name: str) -> string.Template:
    """Load a fixture page template."""
    return string.Template((FIXTURES / name).read_text(encoding="utf-8"))


class NewsSite:
    """A local news website serving feeds and article pages; see the module docstring."""

    def __init__(self, publication: str = PUBLICATION, chrome: str = "article.html") -> None:
        """Prepare the site (the canned STORIES have pages, feed 'world' exists but is empty).

        ``publication`` names the site in its feeds and pages; ``chrome`` is the fixture
        template of its article pages: ``article.html`` (a newspaper), ``article-blog.html``
        (a WordPress blog) or ``article-portal.html`` (a portal of ``div``s, ads and a
        consent wall), each with its own navigation, related links and comments, or
        ``article-table.html`` (a page of 2007: a table layout, paragraphs broken by ``<br>``),
        or ``article-inline-chrome.html`` (the newspaper with a photo credit and a "Read
        also" link inside the article's body element).
        ``disclaimer`` (an attribute) is a note the site adds at the end of every article body.
        """
        self.publication = publication
        self.host = "127.0.0.1"
        self.domain: str | None = None  # the host name in the site's URLs (default: host)
        self.port = 0
        self.robots = DEFAULT_ROBOTS
        self.undated: set[str] = set()  # slugs whose pages carry no date at all
        self.sitemaps: list[str] = []  # robots.txt ``Sitemap:`` lines (paths or absolute URLs)
        self.json_feeds = True  # serve /feeds/<name>.json
        # A note the site appends to every article's body (a disclaimer), or None.
        self.disclaimer: str | None = None
        #: Feeds whose RSS items carry each story's whole text in content:encoded, as
        #: WordPress writes them by default (with an embedded post's script).
        self.full_text_feeds: set[str] = set()
        # slug -> the path its page declares canonical instead of its own address (a CMS
        # template that names the section page, say).
        self.canonicals: dict[str, str] = {}
        self.consent_wall = False  # article pages redirect (302) to /consent
        #: Feeds that answer every conditional request with 304, without validators, whatever
        #: changed (a CDN keyed on a stale ETag); a request without validators gets the feed.
        self.stale_304: set[str] = set()
        self.requests: list[RequestRecord] = []
        self.articles: dict[str, Story] = dict(STORIES_BY_SLUG)
        self._feeds: dict[str, _Feed] = {"world": _Feed()}
        self._forced: dict[str, tuple[int, dict[str, str]]] = {}
        self._delays: dict[str, float] = {}
        self._gates: dict[str, threading.Event] = {}
        self.held: list[str] = []  # paths of the requests a gate holds right now
        self.holding: list[RequestRecord] = []  # those requests, with who sent them
        self._custom: dict[str, _Response] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.in_flight = 0  # requests being answered right now
        self.max_in_flight = 0  # the most ever answered at once
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._article_tpl = _template(chrome)
        self._home_tpl = _template("home.html")
        self._broken_tpl = _template("broken.rss")
        self._notafeed = (FIXTURES / "notafeed.html").read_bytes()
        self._consent = (FIXTURES / "consent.html").read_bytes()

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The site's root URL, e.g. ``http://127.0.0.1:40123``."""
        if not self.port:
            raise RuntimeError("NewsSite not started")
        return f"http://{self.domain or self.host}:{self.port}"

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this site."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def start(self) -> None:
        """Bind 127.0.0.1 on a free port and serve from a daemon thread."""
        if self._server is not None:
            raise RuntimeError("NewsSite already started")
        self._stopping.clear()
        server = ThreadingHTTPServer((self.host, 0), _make_handler(self))
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
            name=f"newssite-{self.port}",
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, wake sleeping /slow handlers and close the socket."""
        if self._server is None:
            return
        self._stopping.set()
        with self._lock:
            for gate in self._gates.values():
                gate.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> NewsSite:
        """Start the site."""
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the site."""
        self.stop()

    # -- test controls ---------------------------------------------------------------------

    def publish(self, story: Story, feed: str = "world", link: str | None = None) -> None:
        """Add (or replace, by slug) ``story`` in ``feed`` and change the feed's validators;
        ``link`` (an absolute URL) is the address the feed gives instead of the canonical."""
        with self._lock:
            now = datetime.now(UTC).replace(microsecond=0)
            entry = self._feeds.setdefault(feed, _Feed(modified=now - timedelta(seconds=1)))
            entry.stories = [s for s in entry.stories if s.slug != story.slug] + [story]
            entry.stories.sort(key=lambda s: s.published, reverse=True)
            if link is not None:
                entry.links[story.slug] = link
            # HTTP dates have 1 s resolution: always move Last-Modified forward by at least 1 s.
            entry.modified = max(now, entry.modified + timedelta(seconds=1))
            self.articles[story.slug] = story

    def revise(
        self,
        slug: str,
        updated: datetime,
        *,
        title: str | None = None,
        body: list[str] | None = None,
    ) -> Story:
        """Edit story ``slug`` in place (same address): new ``title`` / ``body`` if given, and
        ``updated`` as its last edit, in its page and in every feed that lists it."""
        with self._lock:
            old = self.articles[slug]
            story = replace(
                old, title=title or old.title, body=body or old.body, updated=updated
            )
            self.articles[slug] = story
            now = datetime.now(UTC).replace(microsecond=0)
            for entry in self._feeds.values():
                if any(s.slug == slug for s in entry.stories):
                    entry.stories = [story if s.slug == slug else s for s in entry.stories]
                    entry.modified = max(now, entry.modified + timedelta(seconds=1))
            return story

    def retract(self, slug: str, feed: str = "world") -> None:
        """Drop story ``slug`` from ``feed`` (a busy feed keeps only its last items) and
        change the feed's validators; its page stays where it was."""
        with self._lock:
            entry = self._feeds[feed]
            entry.stories = [s for s in entry.stories if s.slug != slug]
            now = datetime.now(UTC).replace(microsecond=0)
            entry.modified = max(now, entry.modified + timedelta(seconds=1))

    def create_feed(self, name: str) -> None:
        """Make an empty feed ``name`` exist (unknown feeds answer 404)."""
        with self._lock:
            self._feeds.setdefault(name, _Feed())

    def remove_feed(self, name: str) -> None:
        """Make feed ``name`` disappear (it then answers 404)."""
        with self._lock:
            self._feeds.pop(name, None)

    def set_status(
        self, path: str, status: int | None, headers: dict[str, str] | None = None
    ) -> None:
        """Force ``status`` (and extra ``headers``) for ``path``; ``None`` restores the route."""
        with self._lock:
            if status is None:
                self._forced.pop(path, None)
            else:
                self._forced[path] = (status, dict(headers or {}))

    def set_delay(self, path: str, seconds: float | None) -> None:
        """Answer ``path`` only after ``seconds`` (capped like /slow); ``None`` removes it."""
        with self._lock:
            if seconds is None:
                self._delays.pop(path, None)
            else:
                self._delays[path] = min(seconds, MAX_SLOW_SECONDS)

    def hold(self, path: str) -> threading.Event:
        """Answer ``path`` only once the returned gate is set (or after MAX_HELD_SECONDS): a
        test orders events against the page being served without relying on timings."""
        gate = threading.Event()
        with self._lock:
            self._gates[path] = gate
        return gate

    def serve(
        self,
        path: str,
        body: bytes,
        *,
        status: int = 200,
        content_type: str = "application/rss+xml",
        headers: dict[str, str] | None = None,
        drip: float = 0.0,
        send_length: bool = True,
    ) -> str:
        """Answer ``path`` with exactly this response (hostile-input tests); returns its URL."""
        with self._lock:
            self._custom[path] = _Response(
                status, body, content_type, dict(headers or {}), send_length, drip
            )
        return self.url(path)

    def clear_status(self, path: str) -> None:
        """Undo ``set_status`` for ``path``."""
        self.set_status(path, None)

    def requests_for(self, path: str) -> list[RequestRecord]:
        """Requests for ``path`` (exact target if it has a query string, else any query)."""
        with self._lock:
            records = list(self.requests)
        if "?" in path:
            return [r for r in records if r.target == path]
        return [r for r in records if r.path == path]

    def _record(self, record: RequestRecord) -> None:
        """Append a request record under the lock."""
        with self._lock:
            self.requests.append(record)

    # -- rendering -------------------------------------------------------------------------

    def article_url(self, slug: str) -> str:
        """The canonical absolute URL of an article."""
        return self.url(f"/articles/{slug}")

    def entry_link(self, feed: str, slug: str) -> str:
        """The address feed ``feed`` gives story ``slug`` (see ``publish``)."""
        with self._lock:
            entry = self._feeds.get(feed)
            link = entry.links.get(slug) if entry is not None else None
        return link or self.article_url(slug)

    def render_article(self, story: Story) -> bytes:
        """The full HTML page of ``story``."""
        declared = self.canonicals.get(story.slug)
        canonical = self.url(declared) if declared else self.article_url(story.slug)
        jsonld = json.dumps(
            {
                "@context": "https://schema.org", "@type": "NewsArticle",
                "headline": story.title, "datePublished": story.published.isoformat(),
                "author": {"@type": "Person", "name": story.author},
                "mainEntityOfPage": canonical,
                "publisher": {"@type": "Organization", "name": self.publication},
            },
            ensure_ascii=False,
        ).replace("</", "<\\/")
        esc = html.escape
        body_html = "\n".join(f"        <p>{esc(p, quote=False)}</p>" for p in story.body)
        if self.disclaimer:
            body_html += f'\n        <p class="story__note">{esc(self.disclaimer, quote=False)}</p>'
        # Paragraphs as an old page wrote them: text broken by <br> (article-table.html).
        body_lines = "<br><br>\n".join(esc(p, quote=False) for p in story.body)
        if story.slug in self.undated:
            jsonld = jsonld.replace(f'"datePublished": "{story.published.isoformat()}", ', "")
        page = self._article_tpl.substitute(
            lang=esc(story.lang), locale="es_ES" if story.lang == "es" else "en_GB",
            title=esc(story.title), canonical=esc(canonical), summary=esc(story.summary),
            author=esc(story.author), published_iso=story.published.isoformat(),
            modified_iso=(story.updated or story.published).isoformat(),
            published_human=story.published.strftime("%d %B %Y, %H:%M UTC"),
            section=esc(story.section), section_slug=esc(story.section.lower()),
            slug=esc(story.slug), jsonld=jsonld, body_html=body_html, body_lines=body_lines,
            publication=esc(self.publication),
        )
        if story.slug in self.undated:
            page = re.sub(r'\s*<meta property="article:(published|modified)_time"[^>]*>', "", page)
            page = re.sub(r"<time [^>]*>[^<]*</time>", "", page)
        return page.encode("utf-8")

    def render_home(self, heading: str = "Latest news") -> bytes:
        """The home page listing every known story, newest first."""
        with self._lock:
            stories = sorted(self.articles.values(), key=lambda s: s.published, reverse=True)
        items = "\n".join(
            f'      <li><a href="/articles/{html.escape(s.slug)}">{html.escape(s.title)}</a>'
            f' <time datetime="{s.published.isoformat()}">{s.published:%d %b %Y}</time></li>'
            for s in stories
        )
        page = self._home_tpl.substitute(
            heading=html.escape(heading), canonical=self.url("/"), items=items
        )
        return page.encode("utf-8")

    def feed_snapshot(self, name: str) -> tuple[list[Story], datetime] | None:
        """The stories and Last-Modified of feed ``name`` (None if unknown)."""
        with self._lock:
            entry = self._feeds.get(name)
            return None if entry is None else (list(entry.stories), entry.modified)

    def render_feed(self, name: str, kind: str) -> bytes | None:
        """Feed ``name`` as 'rss', 'atom', 'rdf' or 'json' (None if the feed does not exist)."""
        snapshot = self.feed_snapshot(name)
        if snapshot is None:
            return None
        stories, modified = snapshot
        render = {"rss": _render_rss, "atom": _render_atom, "rdf": _render_rdf,
                  "json": _render_json}[kind]
        return render(self, name, stories, modified).encode("utf-8")

    def render_big(self) -> bytes:
        """A valid RSS document of at least ``BIG_BODY_BYTES`` bytes."""
        story = STORIES[0]
        item = (
            "<item><title>{n}: " + xml_escape(story.title) + "</title>"
            "<link>" + self.article_url(story.slug) + "?copy={n}</link>"
            "<description>" + xml_escape(" ".join(story.body)) + "</description></item>\n"
        )
        head = (
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            "<title>Oversized feed</title><link>" + self.url("/") + "</link>"
            "<description>A feed far larger than any size cap</description>\n"
        )
        parts = [head]
        size = len(head)
        n = 0
        while size < BIG_BODY_BYTES:
            chunk = item.format(n=n)
            parts.append(chunk)
            size += len(chunk.encode("utf-8"))
            n += 1
        parts.append("</channel></rss>\n")
        return "".join(parts).encode("utf-8")

    def robots_txt(self) -> str:
        """``robots`` followed by one ``Sitemap:`` line per entry of ``sitemaps``."""
        lines = [f"Sitemap: {u if '://' in u else self.url(u)}\n" for u in self.sitemaps]
        robots = self.robots if self.robots.endswith("\n") or not lines else self.robots + "\n"
        return robots + "".join(lines)

    def render_sitemap(self, name: str) -> tuple[bytes, datetime] | None:
        """Sitemap ``name`` (news.xml[.gz], archive.xml, index.xml, static-index.xml,
        nested-index.xml) and its Last-Modified."""
        stories, news_modified = self.feed_snapshot("world") or ([], _now())
        archive_modified = max(s.published for s in STORIES)
        if name in ("news.xml", "news.xml.gz"):
            text, modified = _render_news_sitemap(self, stories), news_modified
        elif name == "archive.xml":
            text, modified = _render_archive_sitemap(self), archive_modified
        elif name == "index.xml":
            text = _render_sitemap_index(self, news_modified, archive_modified)
            modified = max(news_modified, archive_modified)
        elif name == "static-index.xml":  # a file that never changes: its sitemaps undated
            text = _render_static_index(self)
            modified = archive_modified
        elif name == "nested-index.xml":  # an index of indexes: index.xml, dated
            modified = max(news_modified, archive_modified)
            text = _render_nested_index(self, modified)
        else:
            return None
        body = text.encode("utf-8")
        return (gzip.compress(body, mtime=0) if name.endswith(".gz") else body), modified

    def render_front(self, name: str) -> bytes:
        """The /nofeed/ or /withfeed/ front page (teasers of feed 'nofeed' or 'world')."""
        stories = (self.feed_snapshot("nofeed" if name == "nofeed" else "world") or ([],))[0]
        render = _render_nofeed if name == "nofeed" else _render_withfeed
        return render(self, stories).encode("utf-8")


def _now() -> datetime:
    """Now, UTC, whole seconds."""
    return datetime.now(UTC).replace(microsecond=0)


def news_keywords(story: Story) -> tuple[str, ...]:
    """The news:keywords /sitemaps/news.xml gives ``story``."""
    return (story.section, "Northgate")


def _http_date(when: datetime) -> str:
    """Format ``when`` as an RFC 7231 date."""
    return format_datetime(when.astimezone(UTC), usegmt=True)


def _render_rss(site: NewsSite, name: str, stories: list[Story], modified: datetime) -> str:
    """RSS 2.0; item links carry tracking parameters, guids are canonical URLs; the feeds of
    ``site.full_text_feeds`` give each story's whole text (content:encoded)."""
    full = name in site.full_text_feeds
    items = "".join(
        f"""
    <item>
      <title>{xml_escape(s.title)}</title>
      <link>{xml_escape(_tracked(site.entry_link(name, s.slug)))}</link>
      <guid isPermaLink="true">{xml_escape(site.article_url(s.slug))}</guid>
      <pubDate>{_http_date(s.published)}</pubDate>{_atom_updated(s)}
      <description>{xml_escape(s.summary)}</description>{_full_text(s) if full else ""}
      <dc:creator>{xml_escape(s.author)}</dc:creator>
      <category>{xml_escape(s.section)}</category>
    </item>"""
        for s in stories
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" \
xmlns:atom="http://www.w3.org/2005/Atom" \
xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel>
    <title>{xml_escape(site.publication)} - {xml_escape(name.title())}</title>
    <link>{site.url("/")}</link>
    <description>Latest {xml_escape(name)} news from {xml_escape(site.publication)}</description>
    <language>en-gb</language>
    <lastBuildDate>{_http_date(modified)}</lastBuildDate>
    <ttl>15</ttl>
    <atom:link href="{site.url(f"/feeds/{name}.rss")}" rel="self" \
type="application/rss+xml"/>{items}
  </channel>
</rss>
"""


def _full_text(story: Story) -> str:
    """An RSS item's ``<content:encoded>``: the story's paragraphs, an embedded post and its
    script after the first, as WordPress writes a post."""
    paragraphs = [f"<p>{html.escape(p, quote=False)}</p>" for p in story.body]
    embed = ('<blockquote class="twitter-tweet"><p>Statement to follow.</p></blockquote>'
             '<script async src="/embed/widgets.js" charset="utf-8"></script>')
    post = "".join([*paragraphs[:1], embed, *paragraphs[1:]])
    return f"\n      <content:encoded><![CDATA[{post}]]></content:encoded>"


def _tracked(link: str) -> str:
    """``link`` with the feed's tracking parameters."""
    return link + ("&" if "?" in link else "?") + UTM_QUERY


def _atom_updated(story: Story) -> str:
    """An RSS item's ``<atom:updated>`` for an edited story (nothing otherwise)."""
    return f"\n      <atom:updated>{story.updated.isoformat()}</atom:updated>" if story.updated else ""


def _lastmod(story: Story) -> str:
    """A sitemap ``<lastmod>`` for an edited story (nothing otherwise)."""
    return f"\n    <lastmod>{story.updated.isoformat()}</lastmod>" if story.updated else ""


def _render_atom(site: NewsSite, name: str, stories: list[Story], modified: datetime) -> str:
    """Atom 1.0 with canonical links."""
    entries = "".join(
        f"""
  <entry>
    <title>{xml_escape(s.title)}</title>
    <link rel="alternate" type="text/html" href="{xml_escape(site.entry_link(name, s.slug))}"/>
    <id>{xml_escape(site.article_url(s.slug))}</id>
    <published>{s.published.isoformat()}</published>
    <updated>{(s.updated or s.published).isoformat()}</updated>
    <summary>{xml_escape(s.summary)}</summary>
    <author><name>{xml_escape(s.author)}</name></author>
  </entry>"""
        for s in stories
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <title>{xml_escape(site.publication)} - {xml_escape(name.title())}</title>
  <id>{site.url(f"/feeds/{name}")}</id>
  <link rel="self" type="application/atom+xml" href="{site.url(f"/feeds/{name}.atom")}"/>
  <link rel="alternate" type="text/html" href="{site.url("/")}"/>
  <updated>{modified.isoformat()}</updated>{entries}
</feed>
"""


def _render_rdf(site: NewsSite, name: str, stories: list[Story], modified: datetime) -> str:
    """RSS 1.0 (RDF) with canonical links."""
    seq = "".join(
        f'\n        <rdf:li rdf:resource="{xml_escape(site.article_url(s.slug))}"/>'
        for s in stories
    )
    items = "".join(
        f"""
  <item rdf:about="{xml_escape(site.article_url(s.slug))}">
    <title>{xml_escape(s.title)}</title>
    <link>{xml_escape(site.article_url(s.slug))}</link>
    <description>{xml_escape(s.summary)}</description>
    <dc:date>{s.published.isoformat()}</dc:date>
    <dc:creator>{xml_escape(s.author)}</dc:creator>
  </item>"""
        for s in stories
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" \
xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="{site.url(f"/feeds/{name}.rdf")}">
    <title>{xml_escape(site.publication)} - {xml_escape(name.title())}</title>
    <link>{site.url("/")}</link>
    <description>Latest {xml_escape(name)} news from {xml_escape(site.publication)}</description>
    <dc:date>{modified.isoformat()}</dc:date>
    <items>
      <rdf:Seq>{seq}
      </rdf:Seq>
    </items>
  </channel>{items}
</rdf:RDF>
"""


def _render_json(site: NewsSite, name: str, stories: list[Story], modified: datetime) -> str:
    """JSON Feed 1.1 with canonical URLs (body as content_html, summary as summary)."""
    items = [
        {
            "id": site.article_url(s.slug), "url": site.entry_link(name, s.slug), "title": s.title,
            "summary": s.summary,
            "content_html": "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in s.body),
            "date_published": s.published.isoformat(), "authors": [{"name": s.author}],
            "tags": [s.section], "language": s.lang,
            **({"date_modified": s.updated.isoformat()} if s.updated else {}),
        }
        for s in stories
    ]
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": f"{site.publication} - {name.title()}",
        "home_page_url": site.url("/"), "feed_url": site.url(f"/feeds/{name}.json"),
        "description": f"Latest {name} news from {site.publication}", "language": "en-GB",
        "items": items,
    }
    return json.dumps(feed, ensure_ascii=False, indent=1) + "\n"


_SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
_NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
_CET = timezone(timedelta(hours=1))


def _render_news_sitemap(site: NewsSite, stories: list[Story]) -> str:
    """Google News sitemap; publication dates in the newsroom's time zone (+01:00)."""
    urls = "".join(
        f"""
  <url>
    <loc>{xml_escape(site.article_url(s.slug))}</loc>{_lastmod(s)}
    <news:news>
      <news:publication>
        <news:name>{xml_escape(site.publication)}</news:name>
        <news:language>{xml_escape(s.lang)}</news:language>
      </news:publication>
      <news:publication_date>{s.published.astimezone(_CET).isoformat()}</news:publication_date>
      <news:title>{xml_escape(s.title)}</news:title>
      <news:keywords>{xml_escape(", ".join(news_keywords(s)))}</news:keywords>
    </news:news>
  </url>"""
        for s in stories
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="{_SITEMAP_NS}" xmlns:news="{_NEWS_NS}">{urls}
</urlset>
"""


def _render_archive_sitemap(site: NewsSite) -> str:
    """Plain urlset: the canned STORIES with lastmod (oldest first), then undated old pages."""
    dated = "".join(
        f"\n  <url><loc>{xml_escape(site.article_url(s.slug))}</loc>"
        f"<lastmod>{s.published:%Y-%m-%dT%H:%M:%SZ}</lastmod><changefreq>never</changefreq></url>"
        for s in sorted(STORIES, key=lambda s: s.published)
    )
    undated = "".join(f"\n  <url><loc>{site.url(p)}</loc></url>" for p in ARCHIVE_UNDATED)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="{_SITEMAP_NS}">{dated}{undated}
</urlset>
"""


def _render_sitemap_index(site: NewsSite, news: datetime, archive: datetime) -> str:
    """Sitemap index: news.xml (lastmod with time) and archive.xml (lastmod, date only)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="{_SITEMAP_NS}">
  <sitemap><loc>{site.url("/sitemaps/news.xml")}</loc><lastmod>{news.isoformat()}</lastmod></sitemap>
  <sitemap><loc>{site.url("/sitemaps/archive.xml")}</loc><lastmod>{archive:%Y-%m-%d}</lastmod></sitemap>
</sitemapindex>
"""


def _render_static_index(site: NewsSite) -> str:
    """Sitemap index as a static file: news.xml without a lastmod (its bytes never change)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="{_SITEMAP_NS}">
  <sitemap><loc>{site.url("/sitemaps/news.xml")}</loc></sitemap>
</sitemapindex>
"""


def _render_nested_index(site: NewsSite, modified: datetime) -> str:
    """Sitemap index of indexes: index.xml (lastmod with time)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="{_SITEMAP_NS}">
  <sitemap><loc>{site.url("/sitemaps/index.xml")}</loc><lastmod>{modified.isoformat()}</lastmod></sitemap>
</sitemapindex>
"""


def _teaser(story: Story) -> str:
    """A front-page teaser: headline link, byline with author and tag links, comments link."""
    slug, esc = html.escape(story.slug), html.escape
    return f"""
      <article class="teaser">
        <header><h2><a href="/articles/{slug}">{esc(story.title)}</a></h2></header>
        <p class="byline">By <a href="/author/jane-doe">Jane Doe</a> in
          <a href="/tag/politics" rel="tag">Politics</a></p>
        <p>{esc(story.summary)}</p>
        <footer><a href="/articles/{slug}?utm_source=frontpage#comments">Comments</a></footer>
      </article>"""


def _render_nofeed(site: NewsSite, stories: list[Story]) -> str:
    """A front page with no <link rel=alternate>; only the teasers' links are articles."""
    featured = f'<a href="/articles/{html.escape(stories[0].slug)}">Featured</a>' if stories else ""
    aside = "".join(
        f'<li><a href="/articles/{html.escape(s.slug)}">{html.escape(s.title)}</a></li>'
        for s in STORIES[:3]
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Local news | {PUBLICATION}</title>
  <link rel="canonical" href="{site.url("/nofeed/")}">
  <link rel="stylesheet" href="/static/site.css">
</head>
<body class="front menu-closed">
  <a class="skip-link" href="#content">Skip to content</a>
  <header class="masthead">
    <a href="/"><img src="/static/logo.png" alt="{PUBLICATION}"></a>
    <nav class="main-nav"><a href="/">Home</a> <a href="/section/world">World</a>
      <a href="/section/politics">Politics</a> <a href="/local-news-and-events">Local</a>
      {featured}</nav>
    <div class="account-links"><a href="/login">Log in</a> <a href="/register">Register</a></div>
  </header>
  <div class="breadcrumb"><a href="/">Home</a> &rsaquo; <a href="/nofeed/">Local</a></div>
  <main id="content">
    <h1>Local news</h1>
    <section class="stories">{"".join(_teaser(s) for s in stories)}
    </section>
    <p><a href="/section/business">More business news</a> &middot;
      <a href="/topics/climate-and-energy-policy">Climate and energy</a> &middot;
      <a href="/subscribe">Subscribe</a> &middot; <a href="/nofeed/">Local news</a> &middot;
      <a href="/">Front page</a> &middot; <a href="#top">Top</a></p>
    <p><a href="http://localhost:{site.port}/articles/partner-story-about-harbour-ferries">From
      our partner site</a> &middot; <a href="/search?q=harbour+ferry+timetable">Search</a>
      &middot; <a href="/static/annual-budget-summary-2026.pdf">Budget (PDF)</a> &middot;
      <a href="mailto:desk@northgate.invalid">Email the desk</a> &middot;
      <a href="javascript:void(0)">Print</a></p>
    <div class="pagination"><a href="/nofeed/?page=2">Next page</a></div>
    <p><a href="/page/2">Older stories</a> &middot; <a href="/nofeed/?page=3">Even older</a></p>
  </main>
  <aside class="most-read"><h2>Most read</h2><ol>{aside}</ol></aside>
  <footer class="site-footer">
    <a href="/about">About us</a> &middot; <a href="/contact">Contact</a> &middot;
    <a href="/privacy">Privacy</a> &middot; <a href="/terms">Terms</a>
    <div class="social"><a href="/share/facebook-page-of-the-herald">Facebook</a></div>
  </footer>
</body>
</html>
"""


def _render_withfeed(site: NewsSite, stories: list[Story]) -> str:
    """A front page declaring a comments feed, a WordPress API link, JSON Feed and RSS."""
    items = "".join(
        f'\n      <li><a href="/articles/{html.escape(s.slug)}">{html.escape(s.title)}</a></li>'
        for s in stories
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>World news | {PUBLICATION}</title>
  <link rel="alternate" type="application/atom+xml" title="Comments on all stories"
        href="/feeds/comments.atom">
  <link rel="alternate" type="application/json" href="/wp-json/wp/v2/pages/7">
  <link rel="alternate" type="application/feed+json" title="World news (JSON Feed)"
        href="/feeds/world.json">
  <link rel="alternate" type="application/rss+xml" title="World news" href="/feeds/world.rss">
  <link rel="alternate" hreflang="es" href="/es/withfeed/">
</head>
<body>
  <main><h1>World news</h1><ul>{items}
    </ul></main>
</body>
</html>
"""


_FEED_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "rdf": "application/rdf+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}


def _etag(body: bytes) -> str:
    """A strong ETag derived from the representation."""
    return '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


def _not_modified(headers: Headers, etag: str, modified: datetime) -> bool:
    """RFC 9110 evaluation: If-None-Match wins over If-Modified-Since."""
    inm = headers.get("If-None-Match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or etag in tags
    ims = headers.get("If-Modified-Since")
    if ims is None:
        return False
    try:
        since = parsedate_to_datetime(ims)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return modified <= since


def _conditional(headers: Headers, body: bytes, modified: datetime, ctype: str) -> _Response:
    """200 with ETag / Last-Modified, or 304 when the request's validators match."""
    etag = _etag(body)
    validators = {"ETag": etag, "Last-Modified": _http_date(modified),
                  "Cache-Control": "max-age=60"}
    if _not_modified(headers, etag, modified):
        return _Response(304, headers=validators)
    return _Response(200, body, ctype, validators)


def _text(status: int, message: str = "") -> _Response:
    """A small plain-text response."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Status"
    return _Response(status, f"{status} {message or phrase}\n".encode())


def _make_handler(site: NewsSite) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to ``site``."""

    class Handler(BaseHTTPRequestHandler):
        """Routes requests to the site."""

        protocol_version = "HTTP/1.1"
        server_version = "NorthgateHerald/1.0"
        sys_version = ""
        timeout = 5  # idle keep-alive connections are dropped after this

        def do_GET(self) -> None:
            """Answer a GET."""
            self._answer(send_body=True)

        def do_HEAD(self) -> None:
            """Answer a HEAD."""
            self._answer(send_body=False)

        def _answer(self, send_body: bool) -> None:
            """Route, send and record one request."""
            record = RequestRecord(self.command, self.path, Headers(self.headers.items()),
                                   client=self.client_address[0])
            with site._lock:
                site.in_flight += 1
                site.max_in_flight = max(site.max_in_flight, site.in_flight)
            try:
                response = self._route(record)
            except Exception:
                logger.exception("newssite: error while handling %s", self.path)
                response = _text(500)
            finally:
                with site._lock:
                    site.in_flight -= 1
                record.answered = time.monotonic()
            record.status = response.status
            site._record(record)
            no_body = response.status in (204, 304) or 100 <= response.status < 200
            body = b"" if no_body else response.body
            try:
                self.send_response(response.status)
                if not no_body:
                    self.send_header("Content-Type", response.content_type)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                if response.send_length and not no_body:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if send_body and body and response.drip:
                    for start in range(0, len(body), 1024):
                        if site._stopping.wait(response.drip):
                            break
                        self.wfile.write(body[start : start + 1024])
                        self.wfile.flush()
                elif send_body and body:
                    self.wfile.write(body)
                if send_body and response.chunks is not None:
                    for chunk in response.chunks:
                        if site._stopping.is_set():
                            break
                        self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (e.g. a timeout test)

        def _route(self, record: RequestRecord) -> _Response:
            """Pick the response for ``record``."""
            path, query = record.path, parse_qs(record.query)
            with site._lock:
                delay = site._delays.get(path)
            if delay:
                site._stopping.wait(delay)
            with site._lock:
                gate = site._gates.get(path)
                if gate is not None:
                    site.held.append(path)
                    site.holding.append(record)
            if gate is not None:
                gate.wait(MAX_HELD_SECONDS)
                with site._lock:
                    site.held.remove(path)
                    site.holding = [held for held in site.holding if held is not record]
            with site._lock:
                custom = site._custom.get(record.target) or site._custom.get(path)
            if custom is not None:
                return custom
            with site._lock:
                forced = site._forced.get(path) or site._forced.get(record.target)
            if forced is not None:
                response = _text(forced[0])
                response.headers.update(forced[1])
                return response
            if path.startswith("/feeds/"):
                return self._feed(path.removeprefix("/feeds/"), record.headers)
            if path.startswith(("/articles/", "/print/")):
                slug = path.split("/")[2]
                rest = path.split("/")[3:]
                story = site.articles.get(slug)
                if story is None or rest not in ([], [""], ["index.html"]):
                    return _text(404, "Article not found")
                if site.consent_wall:
                    return _Response(302, b"Found\n", headers={"Location": site.url("/consent")})
                return _Response(200, site.render_article(story), "text/html; charset=utf-8")
            if path == "/" or path.startswith("/section/"):
                heading = path.removeprefix("/section/").title() if path != "/" else "Latest news"
                return _Response(200, site.render_home(heading), "text/html; charset=utf-8")
            if path.startswith("/sitemaps/"):
                return self._sitemap(path.removeprefix("/sitemaps/"), record.headers)
            if path.rstrip("/") in ("/nofeed", "/withfeed"):
                page = site.render_front(path.strip("/"))
                return _Response(200, page, "text/html; charset=utf-8")
            if path.startswith("/status/"):
                return self._status(path.removeprefix("/status/"), query)
            simple = {
                "/ratelimit": lambda: self._status("429", {"retry_after": ["1"], **query}),
                "/slow": lambda: self._slow(query),
                "/redirect": lambda: self._redirect(query),
                "/big": lambda: self._big(query, record.headers),
                "/huge": lambda: self._huge(query),
                "/robots.txt": lambda: _Response(200, site.robots_txt().encode()),
                "/notafeed": lambda: _Response(200, site._notafeed, "text/xml; charset=utf-8"),
                "/consent": lambda: _Response(200, site._consent, "text/html; charset=utf-8"),
            }
            if path in simple:
                return simple[path]()
            return _text(404)

        def _feed(self, filename: str, headers: Headers) -> _Response:
            """A feed in one of its three formats, honouring conditional requests."""
            if filename == "broken.rss":
                body = site._broken_tpl.substitute(base=site.base_url).encode("utf-8")
                return _Response(200, body, _FEED_TYPES["rss"])
            name, _, kind = filename.rpartition(".")
            known = kind in _FEED_TYPES and (kind != "json" or site.json_feeds)
            snapshot = site.feed_snapshot(name) if known else None
            body = site.render_feed(name, kind) if snapshot is not None else None
            if snapshot is None or body is None:
                return _text(404, "Feed not found")
            if name in site.stale_304 and (
                "If-None-Match" in headers or "If-Modified-Since" in headers
            ):
                return _Response(304)
            return _conditional(headers, body, snapshot[1], _FEED_TYPES[kind])

        def _sitemap(self, name: str, headers: Headers) -> _Response:
            """A sitemap (gzip file for .gz), honouring conditional requests."""
            rendered = site.render_sitemap(name)
            if rendered is None:
                return _text(404, "Sitemap not found")
            ctype = "application/gzip" if name.endswith(".gz") else "application/xml"
            return _conditional(headers, rendered[0], rendered[1], ctype)

        def _status(self, code: str, query: dict[str, list[str]]) -> _Response:
            """Answer the status ``code`` with a small body."""
            if not code.isdigit() or not 100 <= int(code) <= 599:
                return _text(400, "Bad status code")
            response = _text(int(code))
            if "retry_after" in query:
                response.headers["Retry-After"] = query["retry_after"][0]
            return response

        def _slow(self, query: dict[str, list[str]]) -> _Response:
            """Sleep (interruptible by stop()), then send a small feed."""
            try:
                seconds = min(float(query.get("seconds", ["1"])[0]), MAX_SLOW_SECONDS)
            except ValueError:
                return _text(400, "Bad seconds")
            site._stopping.wait(max(seconds, 0.0))
            body = _render_rss(site, "slow", STORIES[:1], STORIES[0].published).encode("utf-8")
            return _Response(200, body, _FEED_TYPES["rss"])

        def _redirect(self, query: dict[str, list[str]]) -> _Response:
            """Redirect to a path on this site."""
            target = query.get("to", ["/"])[0]
            if not target.startswith("/") or target.startswith("//"):
                return _text(400, "Redirects only go to paths on this site")
            status = int(query.get("status", ["301"])[0])
            return _Response(status, b"Moved\n", headers={"Location": site.url(target)})

        def _big(self, query: dict[str, list[str]], headers: Headers) -> _Response:
            """An oversized RSS body, optionally gzip-encoded or without Content-Length."""
            body = site.render_big()
            extra: dict[str, str] = {}
            if query.get("gzip") == ["1"]:
                body = gzip.compress(body, compresslevel=6)
                extra["Content-Encoding"] = "gzip"
            length = query.get("nolength") != ["1"]
            if not length:
                self.close_connection = True
                extra["Connection"] = "close"
            return _Response(200, body, _FEED_TYPES["rss"], extra, send_length=length)

        def _huge(self, query: dict[str, list[str]]) -> _Response:
            """An RSS feed of ``mb`` MB made of one repeated item, generated while sent."""
            try:
                size = min(int(query.get("mb", ["100"])[0]), MAX_HUGE_MB) * 1024 * 1024
            except ValueError:
                return _text(400, "Bad mb")
            head = (
                '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
                "<title>Huge feed</title><link>" + site.url("/") + "</link>\n"
            ).encode()
            tail = b"</channel></rss>\n"
            item = (
                "<item><title>Filler</title><link>" + site.url("/articles/filler") + "</link>"
                "<description>" + "filler " * 1000 + "</description></item>\n"
            ).encode()
            count = max(0, (size - len(head) - len(tail)) // len(item))
            per_chunk = max(1, 65536 // len(item))

            def chunks() -> Iterator[bytes]:
                for start in range(0, count, per_chunk):
                    yield item * min(per_chunk, count - start)
                yield tail

            headers: dict[str, str] = {}
            if query.get("nolength") == ["1"]:
                self.close_connection = True
                headers["Connection"] = "close"
            else:
                headers["Content-Length"] = str(len(head) + count * len(item) + len(tail))
            return _Response(200, head, _FEED_TYPES["rss"], headers, send_length=False,
                             chunks=chunks())

        def log_message(self, format: str, *args: Any) -> None:
            """Route the access log to logging instead of stderr."""
            logger.debug("newssite: " + format, *args)  # noqa: G003

    return Handler
