"""Article pages as the crawl hands them to extraction: their bytes, decoded in the page
worker as Scrapy decodes them (declared, sniffed or byte-order-marked encodings), and meta
refresh redirects still followed though pages without one are no longer scanned for it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from newssite import STORIES_BY_SLUG
from scrapy import Request, Spider
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.extracted import page_text
from crawler.http import META_REFRESH_BYTES, MetaRefresh

#: Crawls here run with page worker processes, the default (tests/conftest.py: workdir).
pytestmark = pytest.mark.page_workers

STORY = STORIES_BY_SLUG["venezuela-opposition-leader"]
MOVED = ("/h/refresh", "/h/refresh16", "/h/refreshlate")
REFRESH = '<meta http-equiv="Refresh" content="0; url={to}">'


def rss(items: str) -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T'
            f"</title>{items}</channel></rss>").encode()


def item(title: str, link: str, *, dated: bool = False) -> str:
    """An RSS item; ``dated``: published an hour ago (an undated item of a source's first
    poll is what the feed already had: stored, not alerted)."""
    when = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    date = f"<pubDate>{when}</pubDate>" if dated else ""
    return f"<item><title>{title}</title><link>{link}</link>{date}</item>"


def page(body: str, head: str = "", charset: str = "") -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    paragraphs = "".join(f"<p>{p}</p>" for p in [body, *STORY.body])
    return (f"<!DOCTYPE html><html><head>{meta}<title>{STORY.title}</title>{head}</head>"
            f"<body><article><h1>{STORY.title}</h1>{paragraphs}</article></body></html>")


def exported(workdir) -> dict[str, dict[str, str]]:
    rows = [json.loads(r) for r in workdir.newswatch("export").stdout.splitlines()]
    return {r["title"]: r for r in rows}


def crawl_pages(site, workdir, pages: dict[str, tuple[bytes, str]], feed_path: str
                ) -> dict[str, dict[str, str]]:
    """Serve each page (path: body, content type), list them in one feed, crawl it and
    return the stored articles by title (each page's title is its path)."""
    for path, (body, kind) in pages.items():
        site.serve(path, body, content_type=kind)
    feed = rss("".join(item(path, site.url(path)) for path in pages))
    workdir.write_config(sources=[site.serve(feed_path, feed)])
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stdout + result.stderr
    return exported(workdir)


def test_meta_refresh_pages_are_followed_and_other_encodings_decoded(site, workdir):
    slugs = list(STORIES_BY_SLUG)[: len(MOVED)]
    targets = {path: site.url(f"/articles/{slug}") for path, slug in zip(MOVED, slugs, strict=True)}
    # A page that sends the reader on with a meta refresh (an AMP stub, a moved article):
    # the article is read where it leads. Also in UTF-16, which does not write ASCII as
    # ASCII, and with the tag after a long head (Scrapy reads the first 4,096 characters).
    def stub(path: str, filler: str = "") -> str:
        return (f"<html><head>{filler}{REFRESH.format(to=targets[path])}</head>"
                "<body>Moved</body></html>")

    utf16 = ("\ufeff" + stub("/h/refresh16")).encode("utf-16-le")
    late = stub("/h/refreshlate", "<!-- " + "é" * 3900 + " -->")
    # Pages in other encodings: declared in the page only, by the server only, by a BOM only.
    word = "Gewährsmann Müller über Zürich"
    pages = {
        "/h/refresh": (stub("/h/refresh").encode(), "text/html"),
        "/h/refresh16": (utf16, "text/html"),
        "/h/refreshlate": (late.encode(), "text/html; charset=utf-8"),
        "/h/latin": (page(word, charset="iso-8859-1").encode("latin-1"), "text/html"),
        "/h/cp1252": (page(word).encode("cp1252"), "text/html; charset=windows-1252"),
        "/h/bom": (b"\xef\xbb\xbf" + page(word).encode(), "text/html"),
    }
    articles = crawl_pages(site, workdir, pages, "/h/pages.rss")
    for path, slug in zip(MOVED, slugs, strict=True):
        assert STORIES_BY_SLUG[slug].body[0] in articles[path]["text"], path
        assert articles[path]["extraction"].startswith("page:"), path
        assert site.requests_for(f"/articles/{slug}"), path
    for path in ("/h/latin", "/h/cp1252", "/h/bom"):
        assert word in articles[path]["text"], (path, articles[path]["text"][:200])
        assert "\ufeff" not in articles[path]["text"]


def test_a_servers_charset_the_pages_bytes_contradict_is_not_taken(site, workdir):
    """An old server's default charset: UTF-8 pages served as ISO-8859-1 (stored as
    mojibake), windows-1251 or Latin-1 pages served as UTF-8 while they declare their own
    (every letter beyond ASCII a U+FFFD): a topic on their words never matched (a review on
    trafilatura's winfuture.de page and re-encoded Russian ones)."""
    russian = "Путин встретился с премьером Казахстана в Москве"
    german = "Gebühren für die Überarbeitung der Raumfähre"
    pages = {
        "/c/utf8-as-latin": (page(russian, charset="utf-8").encode(),
                             "text/html; charset=ISO-8859-1", russian),
        "/c/cp1251-as-utf8": (page(russian, charset="windows-1251").encode("cp1251", "xmlcharrefreplace"),
                              "text/html; charset=UTF-8", russian),
        "/c/latin-as-utf8": (page(german, charset="iso-8859-1").encode("latin-1", "xmlcharrefreplace"),
                             "text/html; charset=utf-8", german),
        "/c/latin-as-latin": (page(german).encode("latin-1", "xmlcharrefreplace"), "text/html; charset=iso-8859-1",
                              german),
    }
    articles = crawl_pages(site, workdir, {path: (body, kind) for path, (body, kind, _)
                                           in pages.items()}, "/c/pages.rss")
    for path, (_, _, words) in pages.items():
        assert words in articles[path]["text"], (path, articles[path]["text"][:120])


def test_a_utf8_page_labelled_in_a_single_byte_code_page_is_read_as_utf8(site, workdir):
    """A Greek or Russian site whose Apache kept its old default charset (AddDefaultCharset
    ISO-8859-7, windows-1251) when its pages moved to UTF-8, or whose template kept its old
    <meta>: each letter was stored as two ("αθηνα" as "Ξ±ΞΈΞ·Ξ½Ξ±"), and no topic in its
    language matched. Bytes that are UTF-8 throughout are UTF-8, whatever the server or the
    <meta> says; real ISO-8859-7 and windows-1251 pages, no UTF-8, are read in their label."""
    greek = "Νέα γέφυρα στη Θεσσαλονίκη: η Αθήνα ενέκρινε το έργο"
    russian = "Путин встретился с премьером Казахстана в Москве"
    pages = {
        "/s/greek-as-8859-7": (page(greek).encode(), "text/html; charset=ISO-8859-7", greek),
        "/s/russian-as-1251": (page(russian, charset="utf-8").encode(),
                               "text/html; charset=windows-1251", russian),
        "/s/russian-meta-koi8": (page(russian, charset="koi8-r").encode(), "text/html",
                                 russian),
        "/s/greek-in-8859-7": (page(greek).encode("iso-8859-7", "xmlcharrefreplace"),
                               "text/html; charset=ISO-8859-7", greek),
        "/s/russian-in-1251": (page(russian, charset="windows-1251").encode("cp1251", "xmlcharrefreplace"),
                               "text/html", russian),
    }
    articles = crawl_pages(site, workdir, {path: (body, kind) for path, (body, kind, _)
                                           in pages.items()}, "/s/pages.rss")
    for path, (_, _, words) in pages.items():
        assert words in articles[path]["text"], (path, articles[path]["text"][:120])


def test_the_pages_author_and_date_stand_in_for_those_the_feed_lacks(site, workdir):
    # Looked for on the page only where the feed gives none (the page workers skip the dear
    # byline and date searches otherwise): each field is the feed's, else the page's.
    meta = ('<meta name="author" content="Ana Lucía Pérez">'
            '<meta property="article:published_time" content="2026-11-30T08:00:00+00:00">')
    for path in ("/h/bare", "/h/dated"):
        site.serve(path, page("A page with a byline.", head=meta).encode(), content_type="text/html")
    dated = ("<item><title>Dated</title><link>{}</link><dc:creator>Feed Writer</dc:creator>"
             "<pubDate>Tue, 01 Dec 2026 09:00:00 GMT</pubDate></item>").format(site.url("/h/dated"))
    feed = rss(item("Bare", site.url("/h/bare")) + dated).replace(
        b'<rss version="2.0">',
        b'<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">')
    workdir.write_config(sources=[site.serve("/h/authors.rss", feed)])
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stdout + result.stderr
    articles = exported(workdir)
    assert articles["Bare"]["author"] == "Ana Lucía Pérez"
    assert articles["Bare"]["published"].startswith("2026-11-30")
    assert articles["Dated"]["author"] == "Feed Writer"
    assert articles["Dated"]["published"].startswith("2026-12-01T09:00")


def test_a_press_release_dated_only_by_its_dateline_has_that_date(site, workdir):
    # A ministry's legacy CMS: no date in the feed, none in the page's markup, only the
    # release's dateline: "date unknown" in every alert, the look-back unable to judge it.
    body = ("<!DOCTYPE html><html><head><title>Ministerium - Pressemitteilung</title></head>"
            "<body><table><tr><td><b>Hochwasserschutz am Rhein wird verstärkt</b></td></tr>"
            "<tr><td><p>Mainz, 5. Dezember 2026</p><p>" + " ".join(STORY.body) + "</p>"
            "</td></tr></table></body></html>")
    site.serve("/pm.aspx", body.encode(), content_type="text/html; charset=utf-8")
    workdir.write_config(sources=[site.serve("/pm.rss", rss(item("Hochwasserschutz",
                                                                 site.url("/pm.aspx"))))])
    assert workdir.newswatch("crawl").returncode == 0
    assert exported(workdir)["Hochwasserschutz"]["published"].startswith("2026-12-05T12:00")


def test_a_page_with_a_very_long_address_is_fetched(site, workdir):
    # Over the 2,083 characters that Scrapy's UrlLengthMiddleware drops without a word to
    # the crawl (which then never settled the entry): fetched and stored like any page.
    path = "/h/" + "-".join(["harbour-plan-approved-after-a-long-debate"] * 60) + ".html"
    assert len(site.url(path)) > 2083
    site.serve(path, page("The longest address in town.").encode(), content_type="text/html")
    workdir.write_config(sources=[site.serve("/h/long.rss", rss(item("Long", site.url(path))))])
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 new article(s)" in result.stdout, result.stdout
    stored = exported(workdir)["Long"]
    assert "The longest address in town." in stored["text"]
    assert stored["extraction"].startswith("page:")
    assert site.requests_for(path)


def test_two_feed_items_that_redirect_to_one_page(site, mail, workdir):
    # Tracking links (a feed's own redirector, "?from=world") that lead to one article: each
    # is followed (Scrapy's duplicate filter dropped the second redirect without a word to
    # the crawl, so the poll never ended and the source stayed "not polled"); the article is
    # stored once and mailed once, and the poll is recorded. (Both items have its title:
    # items of other titles that reach one page are other articles, see test_identity.py.)
    site.serve("/h/story", page("Nicolas Maduro in the one story.").encode(),
               content_type="text/html")
    links = ("/redirect?to=/h/story", "/redirect?to=/h/story&from=world")
    feed = rss(item("One story", site.url(links[0]), dated=True)
               + item("One story", site.url(links[1]), dated=True))
    topic = {"name": "Maduro", "query": '"Nicolas Maduro"', "notify": ["desk@test.example"]}
    workdir.write_config(sources=[site.serve("/h/two.rss", feed)], topics=[topic], smtp=mail)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "polled 1 source(s): 1 ok" in result.stdout, result.stdout
    assert "1 new article(s)" in result.stdout, result.stdout
    assert "delivered 1 email(s)" in result.stdout, result.stdout
    assert len(site.requests_for("/h/story")) == 2
    [stored] = exported(workdir).values()
    assert stored["url"] == site.url("/h/story")
    assert "ok" in workdir.newswatch("sources", "list").stdout
    again = workdir.newswatch("crawl")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 new article(s)" in again.stdout and "delivered 0 email(s)" in again.stdout
    assert len(mail.messages) == 1


def test_a_page_whose_base_or_canonical_link_cannot_be_joined_is_read(site, workdir):
    # A broken IPv6 literal in <base href> or the canonical link, a port out of range: the
    # page's text is read and stored at the address it answered from (Python's urljoin
    # raised on the first two, and the article was kept with the feed's summary alone).
    heads = {"/h/base": '<base href="http://[::1/">',
             "/h/canonical": '<link rel="canonical" href="http://[::1/story">',
             "/h/port": '<link rel="canonical" href="http://127.0.0.1:99999/story">'}
    articles = crawl_pages(site, workdir, {
        path: (page("Read in spite of its head.", head=head).encode(), "text/html")
        for path, head in heads.items()}, "/h/heads.rss")
    for path in heads:
        assert articles[path]["extraction"].startswith("page:"), articles[path]
        assert "Read in spite of its head." in articles[path]["text"]
        assert articles[path]["url"] == site.url(path)


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"<html><head><title>x</title></head><body>" + b"x" * 50_000 + b"</body></html>", {}),
        ("<html><head><meta charset='utf-8'><title>\u00e9t\u00e9</title></head>".encode(), {}),
        ("\ufeff<html><body>\u00fcber</body></html>".encode("utf-16-le"), {}),
        ("<html><body>\u00fcber</body></html>".encode("cp1252"),
         {"Content-Type": "text/html; charset=windows-1252"}),
        ("<html><body>\u00fcber</body></html>".encode("cp1252"), {}),  # sniffed
        (b"\xef\xbb\xbf<html><body>x</body></html>", {}),
        # UTF-8 as its server says (read once for the check of its encoding and the text).
        (b"\xef\xbb\xbf<html><body>\xc3\xbcber</body></html>",
         {"Content-Type": "text/html; charset=utf-8"}),
        ("<html><body>\u00fcber \u65e5</body></html>".encode(),
         {"Content-Type": "text/html; charset=UTF8"}),
    ],
)
def test_page_text_is_what_scrapy_decodes(body, headers):
    response = HtmlResponse("http://127.0.0.1/a", body=body, headers=headers)
    assert page_text(response.body, response.encoding) == response.text
    assert page_text("already text") == "already text"


@pytest.mark.parametrize(
    "head",
    [
        REFRESH.format(to="/b"),
        '<META HTTP-EQUIV="REFRESH" CONTENT="0;URL=/b">',
        "<!-- " + "\u00e9" * 3990 + " -->" + REFRESH.format(to="/b"),  # 8 KB in: 4,060 chars
    ],
    ids=["plain", "capitals", "late"],
)
def test_meta_refresh_redirects_as_scrapy_does(head):
    """Where Scrapy's middleware redirects, newswatch's does; a page without "refresh" in
    its first bytes is passed on untouched (not decoded)."""
    middleware = MetaRefresh.from_crawler(get_crawler(Spider))
    request = Request("http://127.0.0.1/a")
    body = f"<html><head>{head}</head><body>x</body></html>".encode()
    redirected = middleware.process_response(request, HtmlResponse(request.url, body=body))
    assert isinstance(redirected, Request)
    assert redirected.url == "http://127.0.0.1/b"
    plain = HtmlResponse(
        request.url,
        body=b'<html><head><meta http-equiv="X-UA-Compatible" content="IE=edge; refresh">'
        b"<style>.refresh{margin:0}</style></head><body>" + b"y" * 90_000
        + b'<meta http-equiv="refresh" content="0; url=/far">refresh</body></html>',
    )
    assert len(plain.body) > META_REFRESH_BYTES
    assert middleware.process_response(request, plain) is plain
    assert plain._cached_ubody is None  # never decoded


def test_requests_to_a_host_are_crawl_delay_apart_not_half_of_it():
    """Scrapy spreads its download delay over 0.5-1.5 times by default: requests to a host
    came half of crawl.delay apart in the one-process daemon (its cluster roles turned it
    off, with a test of the gaps measured at the site: tests/test_cluster.py)."""
    from crawler.settings import CrawlSettings, scrapy_settings

    settings = scrapy_settings(CrawlSettings(delay_seconds=1.0))
    assert (settings["DOWNLOAD_DELAY"], settings["DOWNLOAD_DELAY_JITTER"]) == (1.0, 0)


def test_the_spider_middlewares_take_no_spider_argument():
    """Scrapy 2.19 deprecates a middleware method requiring ``spider`` (a future Scrapy no
    longer passes it): StopsCallbacks' did, and every crawler and daemon said so on stderr at
    its start, a ScrapyDeprecationWarning in the journal, and would fail on each callback's
    exception in that Scrapy. Its spider is the crawler's."""
    import warnings

    from scrapy.core.spidermw import SpiderMiddlewareManager

    from crawler.settings import CrawlSettings, scrapy_settings
    from crawler.spider import StopsCallbacks

    crawler = get_crawler(Spider, scrapy_settings(CrawlSettings()))
    crawler.spider = Spider("news")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        manager = SpiderMiddlewareManager.from_crawler(crawler)
    assert any(isinstance(mw, StopsCallbacks) for mw in manager.middlewares)


def test_scrapy_stats_are_counted_by_newswatchs_collector():
    from scrapy.utils.test import get_crawler

    from crawler.http import Stats
    from crawler.settings import CrawlSettings, scrapy_settings

    crawler = get_crawler(Spider, scrapy_settings(CrawlSettings()))
    stats = crawler.stats
    assert isinstance(stats, Stats)
    stats.inc_value("downloader/request_count")
    stats.inc_value("downloader/request_count", 2)
    stats.max_value("max", 3)
    stats.max_value("max", 1)
    stats.min_value("min", 3)
    stats.min_value("min", 1)
    assert stats.get_stats() == {"downloader/request_count": 3, "max": 3, "min": 1}
    assert stats.get_value("missing", 7) == 7
