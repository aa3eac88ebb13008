"""Parsing every kind of news source: JSON Feed, (news) sitemaps, pages without a feed, feed
discovery, robots.txt sitemaps and sniffing — against the local news site."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st
from newssite import (
    ARCHIVE_UNDATED,
    STORIES,
    STORIES_BY_SLUG,
    NewsSite,
    news_keywords,
    sample_story,
)

from crawler.discover import FeedLink, feed_links, robots_sitemaps, sniff
from crawler.feeds import ParsedFeed, parse_feed
from crawler.links import article_links
from crawler.sitemaps import (
    UNDATED_SITEMAPS,
    ParsedSitemap,
    SitemapEntry,
    is_sitemap,
    parse_sitemap,
    recent,
    recent_sitemaps,
    w3c_datetime,
)
from crawler.urls import canonicalize

Response = tuple[int, dict[str, str], bytes]
SM = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
NEWS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


def get(site: NewsSite, path: str, headers: dict[str, str] | None = None) -> Response:
    """GET ``path`` with urllib; status, lower-cased headers and body (also for 304/404)."""
    request = urllib.request.Request(site.url(path), headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


# -- JSON Feed --------------------------------------------------------------------------------


def test_json_feed_entries_and_conditional_get(site: NewsSite) -> None:
    older, newer = STORIES_BY_SLUG["city-late-winner"], STORIES_BY_SLUG["maduro-abandona-venezuela"]
    site.publish(older)
    site.publish(newer)
    site.json_feeds = True
    status, headers, body = get(site, "/feeds/world.json")
    assert status == 200 and headers["content-type"].startswith("application/feed+json")
    feed = parse_feed(body, site.url("/feeds/world.json"), headers)
    assert (feed.kind, feed.is_feed, feed.problem) == ("jsonfeed", True, None)
    assert feed.title == "The Northgate Herald - World"
    assert [e.link for e in feed.entries] == [
        site.article_url(newer.slug), site.article_url(older.slug)]
    entry = feed.entries[0]
    assert (entry.title, entry.summary, entry.author) == (newer.title, newer.summary, newer.author)
    assert entry.published == newer.published and entry.published.utcoffset() == timedelta(0)
    assert get(site, "/feeds/world.json", {"If-None-Match": headers["etag"]})[0] == 304
    assert get(site, "/feeds/world.json", {"If-Modified-Since": headers["last-modified"]})[0] == 304
    site.publish(sample_story("json-feed-late-addition", "A late addition"))
    status, again, body = get(site, "/feeds/world.json", {"If-None-Match": headers["etag"]})
    assert status == 200 and again["etag"] != headers["etag"]
    assert len(parse_feed(body, site.url("/feeds/world.json"), again).entries) == 3


def test_json_feed_route_can_be_switched_off(site: NewsSite) -> None:
    assert get(site, "/feeds/world.json")[0] == 200
    site.json_feeds = False
    assert get(site, "/feeds/world.json")[0] == 404


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/feeds/world.rss", "rss"), ("/feeds/world.atom", "atom"), ("/feeds/world.rdf", "rdf"),
     ("/feeds/world.json", "jsonfeed"), ("/feeds/broken.rss", "rss"), ("/notafeed", "")],
)
def test_parse_feed_kind(site: NewsSite, path: str, kind: str) -> None:
    site.json_feeds = True
    site.publish(STORIES[0])
    _, headers, body = get(site, path)
    feed = parse_feed(body, site.url(path), headers)
    assert feed.kind == kind and feed.is_feed == bool(kind)


def test_parsed_feed_kind_defaults_for_existing_callers() -> None:
    assert ParsedFeed("t", (), None, True).kind == ""


def test_json_feed_1_0_fallbacks() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1", "title": " Old  style ",
        "author": {"name": "Feed Desk"},
        "items": [
            {"id": "1", "external_url": "/articles/relative-link-story", "title": "Relative",
             "content_html": "<p>Body <b>bold</b> &amp; more</p>",
             "date_modified": "2026-11-25T10:00:00+01:00"},
            {"id": "https://example.test/articles/guid-only", "content_text": " plain\n text ",
             "author": {"name": "Ana Ruiz"}},
            {"id": "no-url-at-all", "title": "Kept &amp; decoded"},
            "not an object",
        ],
    }
    feed = parse_feed(json.dumps(doc).encode(), "https://example.test/feed.json", {})
    assert (feed.kind, feed.title, feed.problem) == ("jsonfeed", "Old style", None)
    first, second, linkless = feed.entries
    # An item without a URL is kept with its id (stored as an article of its own).
    assert (linkless.link, linkless.guid, linkless.title) == ("", "no-url-at-all", "Kept & decoded")
    assert first.link == "https://example.test/articles/relative-link-story"
    assert first.summary == "Body bold & more" and first.author == "Feed Desk"
    assert first.published == datetime(2026, 11, 25, 9, tzinfo=UTC)
    assert (second.link, second.summary, second.author, second.published) == (
        "https://example.test/articles/guid-only", "plain text", "Ana Ruiz", None)


@pytest.mark.parametrize(
    ("body", "ctype", "is_feed", "problem"),
    [(b"{not json", None, False, "not a feed (invalid JSON"),
     (b'{"version": "1.1", "items": []}', None, False, "not a feed (JSON without"),
     (b"[1, 2]", "application/json", False, "not a feed"),
     (b'\xef\xbb\xbf {"version": "https://jsonfeed.org/version/1.1"}', None, True,
      "malformed JSON Feed")],
)
def test_json_feed_problems(body: bytes, ctype: str | None, is_feed: bool, problem: str) -> None:
    headers = {"Content-Type": ctype} if ctype else {}
    feed = parse_feed(body, "https://example.test/feed.json", headers)
    assert feed.is_feed == is_feed and feed.entries == ()
    assert feed.problem is not None and feed.problem.startswith(problem)


# -- sitemaps ---------------------------------------------------------------------------------


def test_news_sitemap_fields(site: NewsSite) -> None:
    for story in STORIES:
        site.publish(story)
    status, headers, body = get(site, "/sitemaps/news.xml")
    assert status == 200 and is_sitemap(body)
    parsed = parse_sitemap(body, site.url("/sitemaps/news.xml"))
    assert (parsed.kind, parsed.problem, parsed.sitemaps) == ("news", None, ())
    newest_first = sorted(STORIES, key=lambda s: s.published, reverse=True)
    assert [e.url for e in parsed.entries] == [site.article_url(s.slug) for s in newest_first]
    for entry, story in zip(parsed.entries, newest_first, strict=True):
        assert entry.title == story.title and entry.keywords == news_keywords(story)
        assert entry.published == story.published  # written at +01:00, read back as UTC
        assert entry.published is not None and entry.published.tzinfo == UTC
        assert (entry.language, entry.publication, entry.lastmod) == (
            story.lang, "The Northgate Herald", None)
    kept = recent(parsed.entries, at(21, 12), timedelta(days=2))
    assert {e.url for e in kept} == {
        site.article_url(s.slug) for s in STORIES if s.published >= at(19, 12)}
    assert get(site, "/sitemaps/news.xml", {"If-None-Match": headers["etag"]})[0] == 304


def test_gzip_news_sitemap_parses_like_the_plain_one(site: NewsSite) -> None:
    site.publish(STORIES[2])
    status, headers, gz = get(site, "/sitemaps/news.xml.gz")
    assert status == 200 and headers["content-type"] == "application/gzip"
    assert gz.startswith(b"\x1f\x8b") and is_sitemap(gz) and sniff(gz, None) == "sitemap"
    plain = parse_sitemap(get(site, "/sitemaps/news.xml")[2], site.url("/sitemaps/news.xml"))
    assert parse_sitemap(gz, site.url("/sitemaps/news.xml.gz")) == plain
    assert len(plain.entries) == 1


@pytest.mark.parametrize(("encoding", "content_type"), [
    ("cp1251", "text/plain; charset=windows-1251"),
    ("koi8_r", "text/plain; charset=KOI8-R"),
    ("utf-8", "text/plain; charset=iso-8859-1"),
    ("utf-8", "text/plain"),
])
def test_a_text_sitemap_is_read_in_its_servers_charset(encoding: str, content_type: str) -> None:
    """A Russian site's text sitemap (one URL a line) of addresses of Cyrillic words, in
    windows-1251 or KOI8-R and served so, was read as UTF-8: each word a row of U+FFFDs,
    pages that do not exist. It is read in its server's charset; a UTF-8 one that its server
    labels Latin-1 (a default), or does not label, stays UTF-8."""
    urls = ["http://127.0.0.1:9/новости/мост-открыт.html", "http://127.0.0.1:9/спорт/матч"]
    body = "".join(f"{url}\r\n" for url in urls).encode(encoding)
    parsed = parse_sitemap(body, "http://127.0.0.1:9/sitemap.txt", content_type=content_type)
    assert (parsed.kind, [entry.url for entry in parsed.entries]) == ("urlset", urls)


def test_sitemap_index_and_recent_sitemaps(site: NewsSite) -> None:
    site.publish(sample_story("index-fresh-story", "Fresh story"))
    _, _, body = get(site, "/sitemaps/index.xml")
    index = parse_sitemap(body, site.url("/sitemaps/index.xml"))
    assert (index.kind, index.entries, index.problem) == ("index", (), None)
    modified = site.feed_snapshot("world")[1]  # type: ignore[index]
    news, archive = site.url("/sitemaps/news.xml"), site.url("/sitemaps/archive.xml")
    assert index.sitemaps == ((news, modified), (archive, at(21)))
    assert recent_sitemaps(index, datetime.now(UTC), timedelta(days=1)) == [news]
    # Newest first; a lastmod ahead of ``now`` (beyond a clock's drift) is none: the news
    # sitemap is read after the dated ones, as an undated one (and as news).
    assert recent_sitemaps(index, at(21, 12), timedelta(days=1)) == [archive, news]
    assert recent_sitemaps(parse_sitemap(get(site, "/sitemaps/archive.xml")[2], archive),
                           datetime.now(UTC), timedelta(days=1)) == []


def test_recent_sitemaps_caps_undated_children() -> None:
    names = ["sitemap-2026-01.xml", "sitemap-2025-12.xml", "sitemap-2026-11.xml", "pages.xml",
             "sitemap-2026-10.xml", "sitemap-2024-05.xml", "news-sitemap.xml",
             "sitemap-2026-09.xml"]
    dated = ("<sitemap><loc>https://example.test/fresh.xml</loc>"
             "<lastmod>2026-11-25</lastmod></sitemap>")
    body = (f"<sitemapindex {SM}>{dated}"
            + "".join(f"<sitemap><loc>https://example.test/{n}</loc></sitemap>" for n in names)
            + "</sitemapindex>").encode()
    index = parse_sitemap(body, "https://example.test/sitemap.xml")
    chosen = recent_sitemaps(index, at(25, 12), timedelta(days=1))
    assert chosen == [f"https://example.test/{n}" for n in (
        "fresh.xml", "news-sitemap.xml", "sitemap-2026-11.xml", "sitemap-2026-10.xml",
        "sitemap-2026-09.xml", "sitemap-2026-01.xml")]
    # No undated guesses: the news sitemap all the same (read at every poll, however dated).
    assert recent_sitemaps(index, at(25, 12), timedelta(days=1), undated=0) == chosen[:2]


def test_an_indexs_sitemaps_dated_ahead_of_now_are_undated() -> None:
    """An events site's index dates each month's sitemap by its events, the coming year's
    ahead of now: those came first among the RECENT_SITEMAPS dated children at every poll,
    and twelve of them left the sitemap of its posts, dated today, unread for good. A
    lastmod ahead of now is none, as a feed's date is."""
    months = "".join(
        f"<sitemap><loc>https://example.test/events-2027-{m:02}.xml</loc>"
        f"<lastmod>2027-{m:02}-01</lastmod></sitemap>" for m in range(1, 13))
    body = (f"<sitemapindex {SM}>{months}<sitemap><loc>https://example.test/posts.xml</loc>"
            "<lastmod>2026-11-25T11:30:00+00:00</lastmod></sitemap></sitemapindex>").encode()
    index = parse_sitemap(body, "https://example.test/sitemap_index.xml")
    chosen = recent_sitemaps(index, at(25, 12), timedelta(days=1))
    assert chosen[0] == "https://example.test/posts.xml"
    assert len(chosen) == 1 + UNDATED_SITEMAPS  # the events' months as undated ones


def test_the_news_sitemaps_of_an_index_are_named_so_below_it() -> None:
    """A WordPress site installed under /news/ (Yoast's index at /news/sitemap_index.xml):
    every child's path says "news", and its two first (the oldest posts, months old) were
    read at every poll, the index's 304 given up. "news" counts below what the children
    share."""
    from crawler.sitemaps import news_sitemaps

    def index(*paths: str) -> ParsedSitemap:
        body = (f"<sitemapindex {SM}>" + "".join(
            f"<sitemap><loc>https://example.test{p}</loc><lastmod>2026-01-05</lastmod></sitemap>"
            for p in paths) + "</sitemapindex>").encode()
        return parse_sitemap(body, "https://example.test/news/sitemap_index.xml")

    yoast = index("/news/post-sitemap.xml", "/news/post-sitemap2.xml", "/news/page-sitemap.xml",
                  "/news/category-sitemap.xml")
    assert news_sitemaps(yoast) == []
    assert news_sitemaps(index("/news/post-sitemap.xml", "/news/news-sitemap.xml")) == [
        "https://example.test/news/news-sitemap.xml"]
    assert news_sitemaps(index("/news/sitemap.xml", "/sport/sitemap.xml")) == [
        "https://example.test/news/sitemap.xml"]


def test_an_indexs_sitemaps_of_archive_pages_are_not_read() -> None:
    """WordPress indexes (Yoast, Rank Math, WordPress's own) list sitemaps of category, tag
    and author pages, each dated by its newest post: those lists were stored as articles
    ("Category: Local"), alerted, and read again after every new post."""
    names = ["post-sitemap.xml", "category-sitemap.xml", "post_tag-sitemap.xml",
             "author-sitemap.xml", "wp-sitemap-posts-post-1.xml",
             "wp-sitemap-taxonomies-category-1.xml", "wp-sitemap-users-1.xml"]
    body = (f"<sitemapindex {SM}>" + "".join(
        f"<sitemap><loc>https://example.test/{n}</loc><lastmod>2026-11-25</lastmod></sitemap>"
        for n in names) + "</sitemapindex>").encode()
    index = parse_sitemap(body, "https://example.test/sitemap_index.xml")
    assert recent_sitemaps(index, at(25, 12), timedelta(days=1)) == [
        "https://example.test/post-sitemap.xml", "https://example.test/wp-sitemap-posts-post-1.xml"]


def test_a_gzip_sitemap_is_read_up_to_the_protocols_50_mb() -> None:
    """A sitemap of 50,000 URLs with image tags is 25 MB (0.8 MB gzipped): within the
    sitemap protocol's 50 MB, it failed at every poll ("larger than 20 MB decompressed"),
    whatever crawl.max_size said. Beyond 50 MB it still fails, in bounded memory."""
    import gzip

    from crawler.sitemaps import gunzip

    image = ("<image:image><image:loc>https://example.test/wp-content/uploads/2026/11/"
             "photo-{}-{}-1024x768.jpg</image:loc></image:image>")
    url = ("<url><loc>https://example.test/2026/11/25/a-story-{0}/</loc><lastmod>2026-11-25"
           "</lastmod>" + "".join(image.format("{0}", k) for k in range(4)) + "</url>")
    body = (f'<urlset {SM} xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">'
            + "".join(url.format(n) for n in range(50_000)) + "</urlset>").encode()
    assert 25 * 2**20 < len(body) < 50 * 2**20
    parsed = parse_sitemap(gzip.compress(body, 1), "https://example.test/sitemap.xml.gz")
    assert (parsed.kind, parsed.problem, len(parsed.entries)) == ("urlset", None, 50_000)
    with pytest.raises(ValueError, match="larger than 50 MB"):
        gunzip(gzip.compress(b" " * (51 * 2**20), 1))


def test_a_sitemap_of_a_million_urls_is_read_for_its_first_50000_in_bounded_memory() -> None:
    """A gzip body of 2.7 MB that inflates to 49 MB of <url>s (1.1 million of them) was built
    as one tree and read whole in the crawl's thread: 786 MB and 46 s at every poll, every
    other source waiting. Read as a stream now, one <url> at a time, up to the protocol's
    50,000 URLs, and said so."""
    import subprocess
    import sys

    script = """
import gzip, resource
from crawler.sitemaps import parse_sitemap
body = (b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + b"".join(b"<url><loc>http://127.0.0.2/a/%d</loc></url>" % n for n in range(1_100_000))
        + b"</urlset>")
packed = gzip.compress(body, 1)
del body
parsed = parse_sitemap(packed, "http://127.0.0.2/sitemap.xml")
print(parsed.kind, len(parsed.entries), parsed.entries[-1].url, parsed.problem)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=True)
    said, peak = done.stdout.splitlines()
    assert said == ("urlset 50000 http://127.0.0.2/a/49999 more than 50,000 entries (the "
                    "sitemap protocol's limit): the first 50,000 read")
    assert int(peak) < 400  # MB: the body and its gzip, not a tree of a million elements


def test_a_sitemap_read_since_a_date_leaves_out_what_is_older_unread() -> None:
    # Entries dated before the cut-off are the ones ``recent`` drops: they are not read at all
    # (their addresses not even checked: 25 us each, 50,000 in an archive sitemap).
    body = (f'<urlset {SM} {NEWS}>'
            "<url><loc>http://127.0.0.1/old</loc><lastmod>2026-11-01</lastmod></url>"
            "<url><loc>http://127.0.0.1/new</loc><lastmod>2026-12-05T08:00:00Z</lastmod></url>"
            "<url><loc>http://127.0.0.1/old-news</loc><news:news><news:publication_date>"
            "2026-11-30</news:publication_date><news:title>T</news:title></news:news>"
            "<lastmod>2026-12-05</lastmod></url>"
            "<url><loc>http://127.0.0.1/undated</loc></url>"
            "<url><loc>http://[broken</loc><lastmod>2026-10-01</lastmod></url>"
            "</urlset>").encode()
    since = datetime(2026, 12, 4, tzinfo=UTC)
    parsed = parse_sitemap(body, "http://127.0.0.1/s.xml", since)
    assert [e.url for e in parsed.entries] == ["http://127.0.0.1/new", "http://127.0.0.1/undated"]
    assert parsed.kind == "news" and parsed.problem is None  # the old bad <loc> never read
    whole = parse_sitemap(body, "http://127.0.0.1/s.xml")
    assert [e.url for e in recent(whole.entries, since, timedelta(0))] == [
        e.url for e in recent(parsed.entries, since, timedelta(0))]


def test_an_archive_sitemap_past_50000_urls_oldest_first_keeps_its_new_ones() -> None:
    # A CMS's one sitemap of its whole archive, oldest first: its 50,000 first entries, all
    # old, filled the limit, and the new ones at its end were never read (every alert of the
    # site missed). Only entries kept count; those read at all stop at MAX_SITEMAP_READ.
    old = "".join(f"<url><loc>http://127.0.0.1/2020/a{n}</loc><lastmod>2020-01-01</lastmod>"
                  "</url>" for n in range(60_000))
    new = "".join(f"<url><loc>http://127.0.0.1/today/b{n}</loc><lastmod>2026-12-06T08:00:00Z"
                  "</lastmod></url>" for n in range(5))
    body = f"<urlset {SM}>{old}{new}</urlset>".encode()
    parsed = parse_sitemap(body, "http://127.0.0.1/sitemap.xml", datetime(2026, 12, 4, tzinfo=UTC))
    assert [e.url for e in parsed.entries] == [f"http://127.0.0.1/today/b{n}" for n in range(5)]
    assert parsed.problem is None


def test_archive_urlset_and_recent(site: NewsSite) -> None:
    _, _, body = get(site, "/sitemaps/archive.xml")
    parsed = parse_sitemap(body, site.url("/sitemaps/archive.xml"))
    assert (parsed.kind, parsed.problem) == ("urlset", None)
    oldest_first = sorted(STORIES, key=lambda s: s.published)
    assert [e.url for e in parsed.entries] == (
        [site.article_url(s.slug) for s in oldest_first] + [site.url(p) for p in ARCHIVE_UNDATED])
    dated = parsed.entries[: len(STORIES)]
    assert [e.lastmod for e in dated] == [s.published for s in oldest_first]
    assert all(e.lastmod is None and e.title is None for e in parsed.entries[len(STORIES):])
    kept = recent(parsed.entries, at(22), timedelta(days=2))
    assert [e.url for e in kept] == [site.article_url("zelensky-grain-corridor"),
                                     site.article_url("maduro-abandona-venezuela")]
    # However long the window, an undated entry of a plain urlset is never "recent".
    assert len(recent(parsed.entries, at(22), timedelta(days=10_000))) == len(STORIES)


def test_a_news_sitemap_that_never_declared_its_prefixes_is_read() -> None:
    """Generators forget xmlns:news or xmlns:image (nuxt sitemap 3.3.1, nikola, php-sitemap):
    lxml's recovery keeps "news:news" as the tag, which QName refused, and the whole sitemap
    failed as unreadable at every poll."""
    body = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>http://127.0.0.1/a</loc><news:news><news:publication><news:name>X</news:name>
<news:language>en</news:language></news:publication>
<news:publication_date>2026-12-05T10:00:00Z</news:publication_date>
<news:title>Harbour reopens</news:title></news:news>
<image:image><image:loc>http://127.0.0.1/i.jpg</image:loc></image:image></url>
</urlset>"""
    parsed = parse_sitemap(body, "http://127.0.0.1/sitemap.xml")
    assert parsed.kind == "news"
    [entry] = parsed.entries
    assert (entry.url, entry.title) == ("http://127.0.0.1/a", "Harbour reopens")
    assert entry.published == datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def test_recent_puts_the_newest_first_whatever_the_sitemaps_order() -> None:
    """A poll takes the 500 newest new pages (spider.MAX_POLL_PAGES): from a sitemap of 600
    recent URLs listed oldest first, it took the 500 oldest, and a URL added later (the
    newest) was never fetched."""
    oldest_first = [SitemapEntry(f"https://example.test/{i}", at(23) + timedelta(minutes=i),
                                 None, None, (), None) for i in range(600)]
    undated_news = SitemapEntry("https://example.test/news", None, "Title", None, (), "en")
    kept = recent([*oldest_first, undated_news], at(25), timedelta(days=2))
    assert kept == [undated_news, *reversed(oldest_first)]


def test_recent_keeps_undated_news_entries() -> None:
    news = SitemapEntry("https://example.test/a", None, "Title", None, (), "en")
    plain = SitemapEntry("https://example.test/b", None, None, None, (), None)
    old = replace(plain, lastmod=at(1))
    published_wins = replace(news, published=at(1), lastmod=at(25))
    assert recent([news, plain, old, published_wins], at(25), timedelta(days=2)) == [news]
    assert recent([old], datetime(2026, 11, 2), timedelta(days=2)) == [old]  # naive now = UTC


@pytest.mark.parametrize(
    ("body", "kind", "urls", "problem"),
    [
        (b"", "", 0, "not a sitemap"),
        (b"this is not XML", "", 0, "not a sitemap"),
        (b"<html><body><p>Hello</p></body></html>", "", 0, "not a sitemap (root element <html>)"),
        (b'<rss version="2.0"><channel><title>x</title></channel></rss>', "", 0, "not a sitemap"),
        (b"\x1f\x8bnot really gzip", "", 0, "not a sitemap (bad gzip data"),
        (gzip.compress(b" " * (51 * 2**20), mtime=0), "", 0, "not a sitemap (gzip body larger than 50 MB"),
        (gzip.compress(f"<urlset {SM}></urlset>".encode(), mtime=0)[:-8], "urlset", 0, "truncated gzip"),
        (f"<urlset {SM}><url><loc>https://example.test/one-two-three</loc></url>"
         "<url><loc>https://example.test/four-fi".encode(), "urlset", 1, "malformed XML"),
        (f"<urlset {SM}><url><lastmod>2026-11-25</lastmod></url><url><loc>mailto:x@y</loc></url>"
         "<url><loc>https://example.test/ok</loc></url></urlset>".encode(), "urlset", 1,
         "2 <url> without a usable <loc> skipped"),
    ],
)
def test_bad_sitemaps_say_what_is_wrong(body: bytes, kind: str, urls: int, problem: str) -> None:
    parsed = parse_sitemap(body, "https://example.test/sitemap.xml")
    assert parsed.kind == kind and len(parsed.entries) == urls
    assert parsed.problem is not None and problem in parsed.problem


def test_notafeed_page_is_not_a_sitemap(site: NewsSite) -> None:
    body = get(site, "/notafeed")[2]
    assert not is_sitemap(body)
    assert parse_sitemap(body, site.url("/notafeed")).kind == ""


def test_xxe_is_not_expanded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-CONTENT")
    body = f"""<?xml version="1.0"?>
<!DOCTYPE urlset [
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
  <!ENTITY local SYSTEM "{secret.as_uri()}">
  <!ENTITY lol "lollollollollollollollollollol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
]>
<urlset {SM} {NEWS}>
  <url><loc>https://example.test/&xxe;</loc></url>
  <url><loc>https://example.test/safe-story-here</loc>
    <news:news><news:title>&local; &lol2;</news:title>
      <news:publication_date>2026-11-25</news:publication_date></news:news></url>
</urlset>""".encode()
    parsed = parse_sitemap(body, "https://example.test/sitemap.xml")
    assert "root:" not in repr(parsed) and "TOPSECRET" not in repr(parsed)
    assert "lollol" not in repr(parsed)
    assert [e.url for e in parsed.entries] == ["https://example.test/safe-story-here"]
    assert parsed.entries[0].title is None and parsed.entries[0].published == at(25)
    assert parsed.problem is not None and "entity" in parsed.problem
    assert is_sitemap(body)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026", datetime(2026, 1, 1, tzinfo=UTC)), ("2026-11", at(1)), ("2026-11-25", at(25)),
     ("2026-11-25T10:00+01:00", at(25, 9)),
     ("2026-11-25T09:00:00.5Z", at(25, 9) + timedelta(seconds=0.5)),
     ("2026-11-25t09:00:00z", at(25, 9)), (" 2026-11-25T09:00:00 ", at(25, 9)),
     ("Wed, 25 Nov 2026 09:00:00 GMT", at(25, 9)), ("yesterday", None), ("", None), (None, None),
     ("2026-13-45", None)],
)
def test_w3c_datetime(text: str | None, expected: datetime | None) -> None:
    assert w3c_datetime(text) == expected


# -- pages without a feed ---------------------------------------------------------------------


def publish_nofeed(site: NewsSite) -> list[str]:
    """Three stories in the 'nofeed' list; their canonical URLs, newest first."""
    now = datetime.now(UTC).replace(microsecond=0)
    slugs = ["council-approves-tram-line", "harbour-ferry-timetable-changes",
             "library-extends-opening-hours"]
    for age, slug in enumerate(slugs):
        site.publish(sample_story(slug, slug.replace("-", " ").title(),
                                  published=now - timedelta(hours=age)), feed="nofeed")
    return [site.article_url(slug) for slug in slugs]


def test_article_links_on_a_page_without_feed(site: NewsSite) -> None:
    expected = publish_nofeed(site)
    status, _, body = get(site, "/nofeed/")
    assert status == 200
    assert article_links(body, site.url("/nofeed/")) == expected
    assert article_links(body.decode("utf-8"), site.url("/nofeed/")) == expected
    assert article_links(body, site.url("/nofeed")) == expected  # declared canonical = itself


def test_article_links_include_and_exclude(site: NewsSite) -> None:
    expected = publish_nofeed(site)
    body, page = get(site, "/nofeed/")[2], site.url("/nofeed/")
    most_read = [site.article_url(s.slug) for s in STORIES[:3]]
    # include replaces the heuristic: the "most read" links in the <aside> now count too.
    assert article_links(body, page, include=["*/articles/*"]) == expected + most_read
    assert article_links(body, page, include=["*/tag/*", "*/author/*"]) == [
        site.url("/author/jane-doe"), site.url("/tag/politics")]
    assert article_links(body, page, include=["*harbour-ferry*"]) == [expected[1]]
    assert article_links(body, page, include=["http://localhost:*"]) == []  # still same-site
    assert article_links(body, page, exclude=["*/articles/harbour-*"]) == [expected[0], expected[2]]
    both = article_links(body, page, include=["*/articles/*"], exclude=[site.url("/articles/c*")])
    assert both == [expected[1], expected[2], most_read[2]]  # council-, central-, city- excluded
    # Only * is a wildcard: ? and [ are literal characters of a URL.
    assert article_links(body, page, include=["*/nofeed/?page=*"]) == [site.url("/nofeed/?page=2"),
                                                                      site.url("/nofeed/?page=3")]


def test_article_links_without_stories_and_on_garbage(site: NewsSite) -> None:
    assert article_links(get(site, "/nofeed/")[2], site.url("/nofeed/")) == []
    assert article_links(b"", "https://example.test/") == []
    assert article_links("   ", "https://example.test/") == []
    assert article_links(b"\x00\xff binary", "https://example.test/") == []


def test_article_link_heuristic() -> None:
    html = """<html><head><base href="https://www.example.test/news/"></head><body>
    <div class="mainMenu"><a href="/2026/11/25/menu-story-about-things">menu</a></div>
    <ol class="breadcrumbs"><a href="/world/long-breadcrumb-story-here">crumb</a></ol>
    <main>
      <article><header><h3><a href="/2026/11/25/council-vote">dated</a></h3></header></article>
      <a href="/2026/nov/25/guardian-style">month name</a>
      <a href="/2026/11/">month archive</a> <a href="/2026/11/25/">day archive</a>
      <a href="world-europe-67512345">numeric id (relative to base)</a>
      <a href="/story.php?id=48213">query id</a> <a href="/?p=123">wordpress post</a>
      <a href="/a/b1c2d3e4f5g6h7i8j9k0l1">long last segment</a>
      <a href="/jane-doe">two-word slug</a> <a href="/politics">section</a>
      <a href="https://example.test/three-word-slug">bare host, same site</a>
      <a href="https://other.example.test/five-word-slug-elsewhere-here">other host</a>
      <a href="/category/local-news-and-events">category</a> <a href="/page/3">page</a>
      <a href="/search-results-page-here?q=tram">search</a> <a href="/photo-of-the-day.jpg">jpg</a>
      <a href="/news/world-news-today/feed">feed</a> <a href="/about">about</a>
      <a href="/index.html">home</a> <a href="https://example.test/three-word-slug?utm_source=x#comments">dupe</a>
      <a rel="next" href="/next-page-of-stories">next</a>
      <div role="navigation"><a href="/role-navigation-story-link">role</a></div>
    </main>
    <footer><a href="/2026/11/25/footer-story">footer</a></footer>
    </body></html>"""
    assert article_links(html, "https://www.example.test/news/") == [
        "https://www.example.test/2026/11/25/council-vote",
        "https://www.example.test/2026/nov/25/guardian-style",
        "https://www.example.test/news/world-europe-67512345",
        "https://www.example.test/story.php?id=48213",
        "https://www.example.test/?p=123",
        "https://www.example.test/a/b1c2d3e4f5g6h7i8j9k0l1",
        "https://example.test/three-word-slug",
    ]


# -- feed discovery, robots.txt, sniffing -----------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "href", "headline"),
    [
        ("", "/новости/2026/putin-vstretilsya.html", "Путин встретился с премьером Казахстана"),
        ('<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">',
         "/новости/2026/putin-vstretilsya.html", "Путин встретился с премьером Казахстана"),
        ('<meta charset="iso-8859-1">', "/notícias/2026/prefeito-são-paulo.html",
         "Prefeito de São Paulo anuncia novo plano de transporte"),
        ('<meta charset="Shift_JIS">', "/地震/2026/miyazaki-shindo.html",
         "宮崎県で震度5弱の地震　津波の心配なし"),
        ('<meta charset="euc-kr">', "/뉴스/2026/daetongnyeong.html",
         "이재명 대통령 국무회의에서 예산안 의결"),
    ],
)
def test_links_of_a_page_decoded_from_a_legacy_encoding(declared, href, headline) -> None:
    """A home page's text as Scrapy decoded it (from windows-1251, Latin-1, Shift_JIS,
    EUC-KR) was encoded to UTF-8 and parsed again by the page's own declared charset (or
    Latin-1 without one): its addresses garbled (a 404 for each) or no link found at all,
    'no feed, sitemap or article links found on the page'."""
    page = (f"<html><head>{declared}<link rel='alternate' type='application/rss+xml' "
            f"title='{headline}' href='/rss{href}.xml'></head><body><h1>News</h1>"
            f"<h2><a href='{href}'>{headline}</a></h2></body></html>")
    home = "http://127.0.0.1:8000/"
    [feed] = feed_links(page, home)
    assert feed.url == f"http://127.0.0.1:8000/rss{href}.xml"
    assert feed.title == " ".join(headline.split())
    assert article_links(page, home) == [canonicalize(f"http://127.0.0.1:8000{href}")]


@pytest.mark.parametrize(
    ("guid", "encoding", "codec", "link"),
    [
        ("http://127.0.0.1:9/новости/putin.html", "windows-1251", "cp1251",
         "http://127.0.0.1:9/новости/putin.html"),
        ("http://127.0.0.1:9/新聞/asahi.html", "Shift_JIS", "shift_jis",
         "http://127.0.0.1:9/新聞/asahi.html"),
        ("http://127.0.0.1:9/notícias/a.html", "ISO-8859-1", "latin-1",
         "http://127.0.0.1:9/notícias/a.html"),
        ("http://127.0.0.1:9/not&#237;cias/a.html", "utf-8", "utf-8",
         "http://127.0.0.1:9/notícias/a.html"),
    ],
)
def test_a_permalink_guid_in_a_legacy_encoding_or_with_a_reference_is_the_link(
    guid: str, encoding: str, codec: str, link: str
) -> None:
    """An item whose only address is its permalink guid: judged written as an address by
    its UTF-8 bytes in the feed's bytes, it was not in a feed in Shift_JIS or windows-1251
    or one writing a character reference: no page fetched, stored at the site's home page
    with its summary (a review on Asahi's, re-encoded)."""
    body = (f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel>'
            "<title>t</title><link>http://127.0.0.1:9/</link><description>d</description>"
            f'<item><title>x</title><guid isPermaLink="true">{guid}</guid>'
            "<description>summary</description></item></channel></rss>").encode(codec)
    [entry] = parse_feed(body, "http://127.0.0.1:9/rss.xml").entries
    assert entry.link == link


def test_an_atom_title_escaped_twice_is_read_once() -> None:
    """A CMS that escapes a title twice (`Ca&amp;ccedil;ador`): in an Atom title of type
    text the subject said "Ca&ccedil;ador de &#146;fake news&#146;" and a topic on Caçador
    never matched (RSS titles are read as HTML already); markup written as text stays."""
    body = (b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            b"<title>t</title><id>x</id>"
            b"<entry><title>Ca&amp;ccedil;ador de &amp;#146;fake news&amp;#146; em S&#227;o "
            b'Jos&#233;</title><link href="http://127.0.0.1:9/a"/><id>1</id>'
            b"<updated>2026-12-01T00:00:00Z</updated></entry>"
            b"<entry><title>Vector&lt;T&gt; vs List&lt;T&gt; at AT&amp;T &amp; R&amp;D</title>"
            b'<link href="http://127.0.0.1:9/b"/><id>2</id>'
            b"<updated>2026-12-01T00:00:00Z</updated></entry></feed>")
    titles = [e.title for e in parse_feed(body, "http://127.0.0.1:9/atom").entries]
    assert titles == ["Caçador de \u2019fake news\u2019 em São José",
                      "Vector<T> vs List<T> at AT&T & R&D"]


def test_feed_links_on_pages_with_and_without_feeds(site: NewsSite) -> None:
    links = feed_links(get(site, "/withfeed/")[2], site.url("/withfeed/"))
    assert links == [
        FeedLink(site.url("/feeds/world.rss"), "application/rss+xml", "World news"),
        FeedLink(site.url("/feeds/world.json"), "application/feed+json", "World news (JSON Feed)"),
    ]  # the comments feed, the WordPress API link and the hreflang alternate are left out
    assert feed_links(get(site, "/nofeed/")[2], site.url("/nofeed/")) == []
    assert [link.url for link in feed_links(get(site, "/")[2], site.url("/"))] == [
        site.url("/feeds/world.rss"), site.url("/feeds/world.atom")]


def test_feed_links_edge_cases() -> None:
    only_comments = '<link rel="alternate" type="application/atom+xml" href="/comments/feed">'
    assert [f.url for f in feed_links(only_comments, "https://example.test/x")] == [
        "https://example.test/comments/feed"]
    html = """<html><head><base href="https://cdn.example.test/">
      <link rel="feed" href="untyped">
      <link rel="alternate" type="application/json" href="/feed.json">
      <link rel="Alternate" type="application/atom+xml; charset=utf-8" href="atom.xml">
      <link rel="alternate" type="application/rss+xml" href="atom.xml">
      <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
      <link rel="alternate" type="application/json+oembed" href="/oembed">
      <link rel="stylesheet" type="application/rss+xml" href="/nope"></head></html>"""
    assert feed_links(html, "https://example.test/") == [
        FeedLink("https://cdn.example.test/atom.xml", "application/atom+xml", None),
        FeedLink("https://cdn.example.test/feed.json", "application/json", None),
        FeedLink("https://cdn.example.test/untyped", "", None),
    ]
    assert feed_links(b"", "https://example.test/") == []


def test_robots_sitemaps(site: NewsSite) -> None:
    assert robots_sitemaps(get(site, "/robots.txt")[2].decode(), site.url("/robots.txt")) == []
    site.sitemaps = ["/sitemaps/index.xml", site.url("/sitemaps/news.xml")]
    robots = get(site, "/robots.txt")[2].decode()
    assert "Allow: /" in robots
    assert robots_sitemaps(robots, site.url("/robots.txt")) == [
        site.url("/sitemaps/index.xml"), site.url("/sitemaps/news.xml")]
    text = ("User-agent: *\nsitemap: /a.xml # comment\nSITEMAP :https://example.test/b.xml\n"
            "Sitemap:\nSitemap: /a.xml\n# Sitemap: /commented.xml\nSitemap: ftp://x/c.xml\n")
    assert robots_sitemaps(text, "https://example.test/robots.txt") == [
        "https://example.test/a.xml", "https://example.test/b.xml"]
    # The spelling Google takes too.
    assert robots_sitemaps("Site-map: /news.xml\n", "https://example.test/robots.txt") == [
        "https://example.test/news.xml"]


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/feeds/world.rss", "feed"), ("/feeds/world.atom", "feed"), ("/feeds/world.rdf", "feed"),
     ("/feeds/broken.rss", "feed"), ("/feeds/world.json", "jsonfeed"),
     ("/sitemaps/news.xml", "sitemap"), ("/sitemaps/news.xml.gz", "sitemap"),
     ("/sitemaps/index.xml", "sitemap"), ("/sitemaps/archive.xml", "sitemap"), ("/", "html"),
     ("/nofeed/", "html"), ("/withfeed/", "html"), ("/articles/city-late-winner", "html"),
     ("/notafeed", "html"), ("/robots.txt", "unknown")],
)
def test_sniff_site_routes(site: NewsSite, path: str, kind: str) -> None:
    site.json_feeds = True
    _, headers, body = get(site, path)
    assert sniff(body, headers.get("content-type")) == kind


@pytest.mark.parametrize(
    ("body", "ctype", "kind"),
    [(b"", None, "unknown"), (b"", "text/html", "unknown"),
     (b'{"a": 1}', "application/json", "unknown"),
     (b'{"version":"https:\\/\\/jsonfeed.org\\/version\\/1.1"}', None, "jsonfeed"),
     (b'{"items": []}', "application/feed+json; charset=utf-8", "jsonfeed"),
     ('<?xml version="1.0" encoding="utf-16"?><rss version="2.0"/>'.encode("utf-16"), None,
      "feed"),
     (b'\xef\xbb\xbf\n<?xml version="1.0"?>\n<?xml-stylesheet href="s.xsl"?>\n<!-- <html> -->\n'
      b'<!DOCTYPE rdf:RDF [<!ENTITY x "y">]>\n<rdf:RDF xmlns:rdf="x"/>', None, "feed"),
     (b"<feed xmlns='http://www.w3.org/2005/Atom'/>", "text/plain", "feed"),
     (b"<sitemapindex/>", None, "sitemap"), (b"<!doctype html><title>x</title>", None, "html"),
     (b"<foo/>", "application/xml", "unknown"), (b"<foo/>", "text/html", "html"),
     (b"Hello there", "text/html", "html"), (b"Hello there", None, "unknown"),
     (b"\x1f\x8b broken gzip", None, "unknown"),
     # Yoast's (and Rank Math's) sitemaps: a stylesheet instruction is no late declaration.
     (b'<?xml version="1.0" encoding="UTF-8"?><?xml-stylesheet type="text/xsl" '
      b'href="//example.com/main-sitemap.xsl"?>\n<sitemapindex/>', "text/xml", "sitemap"),
     # A PHP warning printed before the feed.
     (b"<br />\n<b>Warning</b>: headers already sent<br />\n<?xml version=\"1.0\"?>"
      b'<rss version="2.0"/>', "text/html", "feed"),
     (b"<br />\n<b>Warning</b>: headers already sent<br />\n<?xml version=\"1.0\"?>"
      b"<urlset/>", "text/html", "sitemap")],
)
def test_sniff_bodies(body: bytes, ctype: str | None, kind: str) -> None:
    assert sniff(body, ctype) == kind


def test_sitemap_defaults_build_plain_values() -> None:
    assert ParsedSitemap("").entries == () and ParsedSitemap("").problem is None


@pytest.mark.parametrize(
    ("reference", "text"),
    [
        ("&#8217;", "\u2019"),  # references below five digits are left to the parsers
        ("&#00000065;", "A"),
        ("&#128512;", "\U0001F600"),
        ("&#x1F600;", "\U0001F600"),
        ("&#55357;&#56832;", "\U0001F600"),  # both halves of a UTF-16 pair: one character
        ("&#xd83d;&#56832;", "\U0001F600"),
        ("&#55357;", "\ufffd"),  # half of one
        ("&#56832;&#55357;", "\ufffd\ufffd"),  # in the wrong order
        ("&#55357;&#8217;", "\ufffd\u2019"),
        ("&#1114112;", "\ufffd"),  # beyond Unicode
        ("&#x110000;", "\ufffd"),
        ("&#99999999999;", "\ufffd"),
    ],
)
@pytest.mark.parametrize("malformed", [False, True])
def test_character_references_feedparser_cannot_make_a_character_of(
    reference: str, text: str, malformed: bool
) -> None:
    # A malformed feed (the unclosed <b>) goes to feedparser's loose parser, whose chr()
    # raised on these; a well-formed one to the XML parser, which refuses half a pair.
    summary = "wait <b>" if malformed else "wait"
    body = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T'
            f"</title><item><title>Port {reference} reopens</title><guid>p1</guid>"
            f"<description>{summary}</description></item></channel></rss>").encode()
    [entry] = parse_feed(body, "http://127.0.0.1/feed.rss").entries
    assert entry.title == f"Port {text} reopens"


@pytest.mark.parametrize("doctype", [
    '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
    '"http://my.netscape.com/publish/formats/rss-0.91.dtd">',
    '<!DOCTYPE rss SYSTEM "http://my.netscape.com/publish/formats/rss-0.91.dtd">',
])
@pytest.mark.parametrize("newline", ["", "\n", "\r"])
def test_html_entities_of_a_feed_with_a_doctype_on_its_first_line(doctype: str, newline: str) -> None:
    """An RSS 0.91 feed whose head is one line, its DOCTYPE right after the XML declaration
    (the Netscape DTD defines the HTML entities, and such feeds use them): the XML parser,
    which does not read the DTD, skipped each entity without a word, and the headline
    "Canicule : l'été le plus chaud" was stored as "Canicule: lt le plus chaud", no topic
    on "été" or "Météo-France" matching it. Its DOCTYPE on a line of its own, it was read.
    So was a classic Mac OS tool's feed, its lines ended by a carriage return alone, which
    is no line's end to feedparser."""
    body = (f'<?xml version="1.0" encoding="ISO-8859-1"?>{newline}{doctype}\n'
            '<rss version="0.91"><channel><title>La Gazette du Lac</title>'
            "<link>http://127.0.0.1/</link><description>Actualit&eacute;s</description>"
            "<language>fr</language><item><title>Canicule&nbsp;: l&rsquo;&eacute;t&eacute; "
            "le plus chaud</title><link>http://127.0.0.1/article.php?id=12&amp;rub=3</link>"
            "<description>M&eacute;t&eacute;o-France pr&eacute;voit 40&nbsp;&deg;C "
            "&agrave; Lyon.</description></item></channel></rss>").encode("latin-1")
    parsed = parse_feed(body, "http://127.0.0.1/rss.xml", {"Content-Type": "text/xml"})
    [entry] = parsed.entries
    assert entry.title == "Canicule : l\u2019\u00e9t\u00e9 le plus chaud"
    assert entry.summary == "M\u00e9t\u00e9o-France pr\u00e9voit 40 \u00b0C \u00e0 Lyon."
    assert entry.link == "http://127.0.0.1/article.php?id=12&rub=3"


def test_sitemap_character_references_that_name_no_character() -> None:
    # lxml's recovery wrote such a reference as bytes that are no UTF-8, and reading the
    # sitemap raised: the source's poll ended with a traceback, poll after poll.
    body = (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url>'
            b"<loc>http://127.0.0.1/a-&#55357;</loc><news:news><news:title>Ferry &#55357;&#56832; "
            b"&#1114112; back &amp; soon</news:title><news:publication_date>2026-12-05"
            b"</news:publication_date></news:news></url></urlset>")
    parsed = parse_sitemap(body, "http://127.0.0.1/s.xml")
    [entry] = parsed.entries
    assert entry.url == "http://127.0.0.1/a-\ufffd"
    assert entry.title == "Ferry \U0001F600 \ufffd back & soon"
    assert parsed.problem and "malformed XML" in parsed.problem


#: Garbled bodies (found by mutating good feeds and sitemaps byte by byte) on which
#: feedparser or lxml's recovery raised, ending the source's poll with a traceback.
GARBLED_FEEDS = [
    b'<?xml version="1.0" encoding="ut\x96-8"?><rss version="2.0"><channel><title>T</title>'
    b"</channel></rss>",  # an encoding name that is no text
    b'<?xml version="1.0" encoding="ut\x00"?><rss version="2.0"><channel><title>T</title>'
    b"</channel></rss>",  # a NUL in it
]
GARBLED_SITEMAPS = [
    b'<ttp://www.w3/2005/Atom"><entry><title>x</</item>></enry',  # a name lxml cannot name
    b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><u://127'
    b"</url></urlset>",
]


@pytest.mark.parametrize("body", GARBLED_FEEDS)
def test_a_garbled_feed_is_not_a_feed(body: bytes) -> None:
    parsed = parse_feed(body, "http://127.0.0.1/feed.rss")
    assert not parsed.is_feed and parsed.entries == ()
    assert parsed.problem and parsed.problem.startswith("not a feed (unreadable: ")


@pytest.mark.parametrize("body", GARBLED_SITEMAPS)
def test_a_garbled_sitemap_is_not_a_sitemap(body: bytes) -> None:
    parsed = parse_sitemap(body, "http://127.0.0.1/s.xml")
    assert parsed.entries == () and parsed.problem
    # A urlset whose one child has a name lxml cannot read is a urlset that says so.
    assert (parsed.kind == "" and parsed.problem.startswith("not a sitemap")) or (
        parsed.kind == "urlset" and parsed.problem.startswith("malformed XML"))


#: Good bodies of each kind, and what the byte-by-byte changes below insert into them.
WELL_FORMED = [
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title><item>'
    b"<title>A</title><link>http://127.0.0.1/a</link><guid>g</guid></item></channel></rss>",
    b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>x</title><link href="/a"/>'
    b"</entry></feed>",
    b'{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"1","url":"/a","title":"t"}]}',
    b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url>'
    b"<loc>http://127.0.0.1/a</loc><lastmod>2026-12-05</lastmod></url></urlset>",
]
INSERTS = [b"&#55357;", b"&#1114112;", b"\xff\xfe", b"\x00", b"&a;", b"<![CDATA[", b"\xed\xa0\x80",
           b"\x1f\x8b", b'encoding="x-bogus"', b"\x96", b"</item>", b"<", b"http://[::1", b":99999",
           b"\\ud800", b"null", b"1e999"]


def test_a_feed_feedparser_trips_over_is_not_a_feed_with_its_reason() -> None:
    # Found by the test below: a stray end tag inside <link> made feedparser raise KeyError.
    body = (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T'
            b'</title><item><title>A</title><link</item>>http://127.0.0.1/a</link><guid>g</guid>'
            b'</item></channel></rss>')
    parsed = parse_feed(body, "http://127.0.0.1/feed")
    assert not parsed.is_feed
    assert parsed.problem == "not a feed (feedparser failed on its markup: KeyError: 'links')"


@settings(deadline=None, max_examples=examples(400))
@given(body=st.sampled_from(WELL_FORMED),
       changes=st.lists(st.tuples(st.integers(0, 300), st.integers(0, 8),
                                  st.sampled_from(INSERTS) | st.binary(max_size=4)), max_size=6))
def test_the_parsers_never_raise_on_a_garbled_body(body: bytes,
                                                    changes: list[tuple[int, int, bytes]]) -> None:
    # Whatever a source answers, its poll ends with its entries or a reason, never an error.
    garbled = bytearray(body)
    for at, cut, insert in changes:
        at %= len(garbled) + 1
        garbled[at:at + cut] = insert
    data = bytes(garbled)
    for headers in ({}, {"Content-Type": "application/json"}):
        parsed = parse_feed(data, "http://127.0.0.1/feed", headers)
        assert parsed.is_feed or parsed.problem
    parse_sitemap(data, "http://127.0.0.1/s.xml")
    feed_links(data, "http://127.0.0.1/")
    article_links(data.decode("utf-8", "replace"), "http://127.0.0.1/")


@pytest.mark.parametrize(("body", "url", "following"), [
    (b'<rss version="2.0"><channel><title>x</title><generator>https://wordpress.org/?v=6.4.2'
     b'</generator><item><title>a</title><link>https://x.example/a</link></item></channel></rss>',
     "https://x.example/feed/", "https://x.example/feed/?paged=2"),
    (b'<rss version="2.0"><channel><title>x</title><generator>https://wordpress.org/?v=6.4.2'
     b'</generator><item><title>a</title><link>https://x.example/a</link></item></channel></rss>',
     "https://x.example/feed/?paged=2", "https://x.example/feed/?paged=3"),
    (b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><link rel="prev-archive" '
     b'href="/archive/2026-11"/><entry><title>a</title><link href="https://x.example/a"/>'
     b"<id>1</id><updated>2026-12-01T00:00:00Z</updated></entry></feed>",
     "https://x.example/feed", "https://x.example/archive/2026-11"),
    (b'<rss version="2.0"><channel><title>x</title><item><title>a</title>'
     b"<link>https://x.example/a</link></item></channel></rss>", "https://x.example/rss", None),
    (b'{"version": "https://jsonfeed.org/version/1.1", "title": "x", "next_url": '
     b'"/feed.json?page=2", "items": [{"id": "1", "url": "https://x.example/a"}]}',
     "https://x.example/feed.json", "https://x.example/feed.json?page=2"),
])
def test_a_feeds_older_page_is_read_from_its_links_or_its_generator(
    body: bytes, url: str, following: str | None
) -> None:
    """RFC 5005's rel="next" / "prev-archive", and WordPress's ?paged=N for its feeds: where
    a gap between two polls is filled from (crawler.spider.GAP_PAGES)."""
    assert parse_feed(body, url).next_page == following


@pytest.mark.parametrize("video", [
    "https://youtu.be/dQw4w9WgXcQ", "https://youtu.be/dQw4w9WgXcQ?si=Xy7_kQ2pL0aBcDeF",
    "https://www.youtube.com/live/dQw4w9WgXcQ?si=Xy7_kQ2pL0aBcDeF",
    "https://music.youtube.com/watch?v=dQw4w9WgXcQ&feature=share",
])
def test_a_youtube_video_shared_by_its_short_link_is_its_items_text(video: str) -> None:
    """A blog's or a subreddit's item linking to a video as YouTube's share button names it
    (``youtu.be``, a live stream's ``/live/``, YouTube Music's page): its page, reached by a
    redirect or not, is the player's scripts, or from Europe YouTube's consent page, and the
    video waited as unavailable, poll after poll. It is its item's text, as a video's
    ``/watch?v=`` link is; the blog's own article beside it is read."""
    body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            "<title>Harbour Notes</title><link>http://127.0.0.1/</link>"
            f"<item><title>The new ferry's first crossing</title><link>{video}</link>"
            "<description>Our video of the crossing.</description></item>"
            "<item><title>Ferry timetable</title><link>http://127.0.0.1/timetable.html</link>"
            "<description>The winter timetable.</description></item></channel></rss>").encode()
    parsed = parse_feed(body, "http://127.0.0.1/rss.xml", {"Content-Type": "text/xml"})
    assert [bool(entry.unread) for entry in parsed.entries] == [True, False]


@pytest.mark.parametrize(("body", "url", "unread"), [
    # A micro-blog's JSON Feed (Micro.blog's feed.json) sharing a video: its page was read,
    # YouTube's player or, from Europe, its consent page, waited for poll after poll.
    (b'{"version": "https://jsonfeed.org/version/1.1", "title": "Harbour Notes", "items": '
     b'[{"id": "http://127.0.0.1/2026/12/07/ferry.html", "url": '
     b'"https://www.youtube.com/watch?v=dQw4w9WgXcQ", "content_html": "<p>Our video of the '
     b'new ferry\'s first crossing.</p>"}, {"id": "2", "url": '
     b'"http://127.0.0.1/timetable.html", "title": "Ferry timetable"}]}',
     "http://127.0.0.1/feed.json",
     ["a YouTube video's page is its player's scripts", ""]),
    # A Bluesky account's feed, and a repository's releases feed: their items, as every
    # app's the item gives whole, say so (kept with a deferred entry, the same whichever
    # feed gives them: a JSON Feed's Bluesky post too).
    (b'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>@lakeside'
     b'.bsky.social - Lakeside Water</title><link>https://bsky.app/profile/lakeside.bsky'
     b'.social</link><item><title>@lakeside.bsky.social post</title><link>https://bsky.app'
     b"/profile/lakeside.bsky.social/post/3lcxkzb2wt22s</link><description>The survey found "
     b"zebrafish.</description><guid>at://did:plc:4zq6ahkd2cbl7stvo2jbwfzk/app.bsky.feed"
     b".post/3lcxkzb2wt22s</guid></item></channel></rss>",
     "https://bsky.app/profile/did:plc:4zq6ahkd2cbl7stvo2jbwfzk/rss",
     ["a Bluesky post's page is its app's notice"]),
    (b'<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
     b"<id>tag:github.com,2008:https://github.com/lakeside/harbourd/releases</id><title>"
     b"Release notes from harbourd</title><entry><id>tag:github.com,2008:Repository/123456/"
     b'v2.3.0</id><updated>2026-12-07T10:00:00Z</updated><link rel="alternate" type="text/'
     b'html" href="https://github.com/lakeside/harbourd/releases/tag/v2.3.0"/><title>v2.3.0'
     b'</title><content type="html">&lt;p&gt;Fixes the berth overlap.&lt;/p&gt;</content>'
     b"</entry></feed>",
     "https://github.com/lakeside/harbourd/releases.atom",
     ["a GitHub release's page is its repository's menus"]),
])
def test_an_apps_page_that_its_item_gives_whole_is_not_read_from_any_feed(
    body: bytes, url: str, unread: list[str]
) -> None:
    """An item whose page is an app's that the item gives whole says why its page is not
    read (FeedEntry.unread), whatever kind of feed lists it."""
    assert [entry.unread for entry in parse_feed(body, url).entries] == unread
