"""A hostile web: every kind of broken or malicious source is reported with a clear reason,
and never stops the other sources, eats unbounded memory or reads local files."""

from __future__ import annotations

import json
import re
import sqlite3
import zlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import quote

import pytest
from conftest import Workdir
from mailserver import MailServer
from newssite import STORIES_BY_SLUG, NewsSite

from benchmarks.cycle_bench import run_newswatch  # peak RSS of the run (its VmHWM)

#: Crawls here run with page worker processes, the default (tests/conftest.py: workdir).
pytestmark = pytest.mark.page_workers

GOOD_STORY = "venezuela-opposition-leader"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>&lol9;</title><link>http://127.0.0.1/x</link></item></channel></rss>
"""


# Peak memory a crawl of hostile sources may use beyond a crawl of one good feed. Every body
# is capped at crawl.max_size (1 MB in the test), so the hostile sources cost a few MB; any
# of them read or inflated in full (100 MB, 256 MB) would go far beyond.
MEMORY_ALLOWANCE_MIB = 150
BOMB_MIB = 256


def rss(items: str, encoding: str = "utf-8") -> bytes:
    head = f'<?xml version="1.0" encoding="{encoding}"?>' if encoding else ""
    return (f'{head}<rss version="2.0"><channel><title>T</title>{items}</channel></rss>'
            ).encode(encoding or "utf-8")


def gzip_bomb(mib: int) -> bytes:
    """A gzip body that inflates to ``mib`` MiB of RSS (built without holding it)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing
    spaces = b" " * (1024 * 1024)
    parts = [packer.compress(b"<rss>"), *(packer.compress(spaces) for _ in range(mib))]
    return b"".join([*parts, packer.compress(b"</rss>"), packer.flush()])


def test_an_article_page_over_the_size_limit_is_not_fetched_again(site, workdir):
    """A page larger than crawl.max_size was taken for one unavailable for now: downloaded
    again at the next two polls (and its feed read whole each time) before its entry was
    kept with the feed's summary, two polls late. It is kept so at once."""
    item = ('<item><title>Maduro speech in full</title><link>{}</link>'
            '<description>The full text of the speech.</description></item>')
    feed = site.serve("/f/big-page.rss", rss(item.format(site.url("/huge?mb=3"))))
    workdir.write_config(sources=[feed], crawl={"max_size": "1MB"})
    result = workdir.newswatch("crawl")
    assert "1 new article(s)" in result.stdout, result.stdout + result.stderr
    assert "unavailable for now" not in workdir.newswatch("status").stdout
    assert len(site.requests_for("/huge")) == 1
    workdir.newswatch("crawl")
    assert len(site.requests_for("/huge")) == 1  # not again


def test_an_article_page_over_the_size_limit_without_a_length_is_not_fetched_again(
    site, workdir
):
    """The same page sent without a Content-Length (chunked, or to the connection's end):
    Scrapy cancels it without a word, and it was taken for one unavailable for now."""
    item = ('<item><title>Maduro speech in full</title><link>{}</link>'
            '<description>The full text of the speech.</description></item>')
    page = site.serve("/endless", b"<html><body><p>" + b"word " * 500_000 + b"</p></body></html>",
                      content_type="text/html", send_length=False)
    feed = site.serve("/f/endless.rss", rss(item.format(page)))
    workdir.write_config(sources=[feed], crawl={"max_size": "1MB"})
    result = workdir.newswatch("crawl")
    assert "1 new article(s)" in result.stdout, result.stdout + result.stderr
    assert "unavailable for now" not in workdir.newswatch("status").stdout
    workdir.newswatch("crawl")
    assert len(site.requests_for("/endless")) == 1  # not again


def test_hostile_sources_are_reported_in_bounded_memory(site, mail, workdir, tmp_path):
    when = datetime.now(UTC) - timedelta(minutes=10)
    site.publish(replace(STORIES_BY_SLUG[GOOD_STORY], published=when))
    good = site.url("/feeds/world.rss")
    settings = {"crawl": {"timeout": "2s", "max_size": "1MB"}}
    # What a crawl costs in memory anyway: the same crawl of the good feed alone.
    calm = Workdir(tmp_path / "calm")
    calm.path.mkdir()
    calm.write_config(sources=[good], **settings)
    calm_run = run_newswatch(calm.config, "crawl", timeout=120)
    assert calm_run.returncode == 0, calm_run.output
    bomb = gzip_bomb(BOMB_MIB)
    hostile = {
        "/h/502": site.serve("/h/502", b"bad gateway", status=502),
        "/h/drip": site.serve("/h/drip", rss("<item/>") + b" " * 20_000, drip=0.2),
        "/h/truncated": site.serve("/h/truncated", rss("<item><title>x</title>")[:60]),
        "/h/gzipbomb": site.serve("/h/gzipbomb", bomb, headers={"Content-Encoding": "gzip"}),
        "/h/huge": site.url("/big?nolength=1"),
        "/h/100mb": site.url("/huge?mb=100"),
        "/h/100mb-nolength": site.url("/huge?mb=100&nolength=1"),
        "/h/laughs": site.serve("/h/laughs", BILLION_LAUGHS),
        "/h/loop": site.serve("/h/loop", b"", status=301, headers={"Location": "/h/loop"}),
        "/h/file": site.serve("/h/file", b"", status=301,
                              headers={"Location": "file:///etc/passwd"}),
        "/h/junk": site.serve("/h/junk", bytes(range(256)) * 40,
                              content_type="application/octet-stream"),
        "/h/html": site.serve("/h/html", b"<html><body><p>hello</p></body></html>",
                              content_type="application/rss+xml"),
    }
    workdir.write_config(
        sources=[*hostile.values(), good],
        topics=[{"name": "Maduro", "query": "Maduro", "notify": ["desk@test.example"]}],
        smtp=mail, **settings,
    )
    result = run_newswatch(workdir.config, "crawl", timeout=120)
    out = result.output  # stdout and stderr
    assert result.returncode == 0, out
    peak, calm_peak = result.max_rss_kib // 1024, calm_run.max_rss_kib // 1024  # in MiB
    assert peak <= calm_peak + MEMORY_ALLOWANCE_MIB, (peak, calm_peak)
    assert "Traceback" not in out
    assert f"{len(hostile) + 1} source(s): " in out
    reasons = {path: line for path, url in hostile.items() for line in out.splitlines()
               if line.startswith(f"  failed: {url}: ")}
    assert "HTTP 502" in reasons["/h/502"]
    assert "no full answer within crawl.timeout (2s)" in reasons["/h/drip"]
    # Stopped decompressing; refused from its headers (Scrapy's words named its settings and
    # the whole request: said in newswatch's).
    assert reasons["/h/gzipbomb"].endswith(
        ": the body, decompressed, is larger than crawl.max_size (1,000,000 bytes)")
    assert "exceeded the size limit" in reasons["/h/huge"]  # no Content-Length: cut off
    assert re.search(r": the body \([\d,]+ bytes\) is larger than crawl.max_size "
                     r"\(1,000,000 bytes\)$", reasons["/h/100mb"])
    assert "exceeded the size limit" in reasons["/h/100mb-nolength"]
    assert "redirect" in reasons["/h/loop"].lower()
    assert "/h/junk" in reasons and "/h/html" in reasons
    # A feed truncated mid-way or full of entity bombs is not a feed anyone can use: it is
    # reported (failed) or at most yields nothing — never a hang, never a crash.
    for path in ("/h/truncated", "/h/laughs"):
        assert path in reasons or "0 new article(s)" not in out
    # The good feed is unaffected, and its alert arrives.
    mail.wait_for(1)
    rows = [json.loads(line) for line in workdir.newswatch("export").stdout.splitlines()]
    assert [r["url"] for r in rows] == [site.article_url(GOOD_STORY)]
    assert "lol" not in json.dumps(rows)
    status = workdir.newswatch("status").stdout
    assert status.count("FAILING (1 in a row") >= len(reasons)


def test_a_body_not_compressed_as_its_content_encoding_says_is_reported_in_words(
    site, workdir
):
    """A server that labels a plain feed ``Content-Encoding: gzip`` (or br, deflate): the
    source fails, as a browser refuses such a body; ``crawl`` and ``status`` gave the
    decoder's words alone ("BadGzipFile: Not a gzipped file (b'<?')", "error: brotli:
    decoder failed"), and now say what is wrong."""
    plain = rss("<item><title>Plain</title></item>")
    urls = {encoding: site.serve(f"/h/mislabelled-{encoding}", plain,
                                 headers={"Content-Encoding": encoding})
            for encoding in ("gzip", "br", "deflate")}
    workdir.write_config(sources=list(urls.values()))
    result = workdir.newswatch("crawl")
    assert "3 source(s): 0 ok, 3 failed" in result.stdout, result.stdout + result.stderr
    status = workdir.newswatch("status").stdout
    said = ("the body could not be decompressed as its Content-Encoding says: the server "
            "sent it uncompressed, mislabelled or damaged (")
    for url in urls.values():
        assert f"failed: {url}: {said}" in result.stdout, result.stdout
    assert status.count(f"last error: {said}") == len(urls), status


def test_entry_links_to_local_files_are_never_read(site, workdir):
    feed = rss(
        "<item><title>secrets</title><link>file:///etc/passwd</link></item>"
        "<item><title>data</title><link>data:text/html,hello</link></item>"
    )
    workdir.write_config(sources=[site.serve("/h/filelinks", feed)])
    result = workdir.newswatch("crawl")
    assert result.returncode == 0
    assert "0 new article(s)" in result.stdout
    assert "root:" not in workdir.newswatch("export").stdout


def test_wrong_or_missing_charset_still_reads_the_entries(site, workdir):
    latin = rss("<item><title>Nicolás Maduro en Minsk</title>"
                f"<link>{site.url('/articles/gone-x')}</link></item>", encoding="iso-8859-1")
    # Declared as UTF-8 by the server, ISO-8859-1 in the document.
    url = site.serve("/h/charset", latin, content_type="application/rss+xml; charset=utf-8")
    nohead = site.serve("/h/nocharset", rss("<item><title>Zürich</title>"
                                            f"<link>{site.url('/articles/gone-y')}</link>"
                                            "</item>", encoding=""), content_type="text/xml")
    workdir.write_config(sources=[url, nohead])
    result = workdir.newswatch("crawl")
    assert result.returncode == 0
    assert "2 source(s): 2 ok" in result.stdout
    workdir.newswatch("crawl")  # their pages answer 404 again: kept with their summaries
    titles = {json.loads(r)["title"] for r in workdir.newswatch("export").stdout.splitlines()}
    assert "Nicolás Maduro en Minsk" in titles and "Zürich" in titles


def zurich_read_and_mailed(sources: list[str], titles: list[str], mail: MailServer,
                           workdir: Workdir) -> None:
    """Crawl ``sources``, two feeds of one item each about Zürich: their ``titles`` and
    summary ("Œuvre of the council.") are stored as written, and a topic on "Zürich" mails
    both stories."""
    workdir.write_config(sources=sources, smtp=mail, topics=[
        {"name": "Zurich", "query": '"Zürich"', "notify": ["desk@test.example"]}])
    result = workdir.newswatch("crawl")
    assert "2 source(s): 2 ok" in result.stdout, result.stdout
    rows = [json.loads(r) for r in workdir.newswatch("export").stdout.splitlines()]
    assert sorted(row["title"] for row in rows) == sorted(titles), rows
    assert all("Œuvre of the council." in row["text"] for row in rows), rows
    assert "Zurich — 2 stories" in mail.wait_for(1)[0]["Subject"]


def test_a_utf8_feed_its_server_labels_windows_1252_is_read_as_utf8(site, mail, workdir):
    """An old server's default charset on a UTF-8 feed (as an XML feed, or as a PHP page's
    text/html): feedparser takes the server's word over the feed's declaration and mends
    Latin-1's mojibake, not windows-1252's: a feed whose text held a "€" or a dash had each
    headline garbled ("Zürich" as "ZÃ¼rich"), and a topic on "Zürich" never alerted."""
    titles = ["Zürich raises its parking fee to 5 €", "Zürich’s tram line opens — at last"]
    kinds = ["application/rss+xml; charset=windows-1252", "text/html; charset=windows-1252"]
    dated = format_datetime(datetime.now(UTC) - timedelta(minutes=5), usegmt=True)
    sources = [site.serve(f"/h/cp1252-{n}", rss(f"<item><title>{title}</title><pubDate>{dated}"
                                                 "</pubDate><description>Œuvre of the council."
                                                 "</description></item>"), content_type=kind)
               for n, (title, kind) in enumerate(zip(titles, kinds, strict=True))]
    zurich_read_and_mailed(sources, titles, mail, workdir)
    status = workdir.newswatch("status").stdout
    assert "text/html; charset=windows-1252 is not an XML media type" in status, status


def test_a_utf8_feed_labelled_in_a_single_byte_code_page_is_read_as_utf8(site, workdir):
    """A Greek, Russian or Czech CMS left at its old charset when its database moved to
    UTF-8: its feed's declaration (ISO-8859-7) or its server (windows-1251, ISO-8859-2) names
    a single-byte code page above UTF-8 text. feedparser read it in that code page, each
    letter as two ("αθηνα" as "Ξ±ΞΈΞ·Ξ½Ξ±"): a topic on its words never matched. A real
    ISO-8859-7 feed, whose Greek bytes are no UTF-8, is still read in ISO-8859-7."""
    dated = format_datetime(datetime.now(UTC) - timedelta(minutes=5), usegmt=True)
    feeds = [  # title, the declaration's encoding, the server's content type, the bytes'
        ("Νέα γέφυρα στη Θεσσαλονίκη", "ISO-8859-7", "application/rss+xml", "utf-8"),
        ("Москва: новый мост открыт", "utf-8", "text/xml; charset=windows-1251", "utf-8"),
        ("Praha: nový most přes Vltavu", "", "application/rss+xml; charset=iso-8859-2", "utf-8"),
        ("Νέο μετρό στην Αθηνα", "ISO-8859-7", "application/rss+xml", "iso-8859-7"),
    ]
    sources = []
    for n, (title, declared, content_type, encoding) in enumerate(feeds):
        head = f'<?xml version="1.0" encoding="{declared}"?>' if declared else ""
        body = (f'{head}<rss version="2.0"><channel><title>Ειδήσεις</title><item><title>{title}'
                f"</title><pubDate>{dated}</pubDate></item></channel></rss>").encode(encoding)
        sources.append(site.serve(f"/h/single-byte-{n}", body, content_type=content_type))
    workdir.write_config(sources=sources)
    result = workdir.newswatch("crawl")
    assert "4 source(s): 4 ok" in result.stdout, result.stdout
    rows = [json.loads(r) for r in workdir.newswatch("export").stdout.splitlines()]
    assert sorted(row["title"] for row in rows) == sorted(title for title, *_ in feeds), rows


def test_a_feed_that_says_it_is_utf16_in_utf8_bytes_is_read(site, mail, workdir):
    """An ASP.NET site's feed, written through a StringWriter: its declaration says
    encoding="utf-16" above UTF-8 text (or, from an older page, windows-1252 text), and its
    server names no charset. feedparser read the bytes in pairs: "not a feed", every item
    lost, poll after poll. A feed with no byte order mark and no NUL is no UTF-16."""
    dated = format_datetime(datetime.now(UTC) - timedelta(minutes=5), usegmt=True)
    titles = ["Zürich raises its parking fee to 5 €", "Zürich’s tram line opens — at last"]
    sources = []
    for n, (title, encoding) in enumerate(zip(titles, ["utf-8", "cp1252"], strict=True)):
        body = (f'<?xml version="1.0" encoding="utf-16"?><rss version="2.0"><channel><title>'
                f"Gemeinde Zürich</title><item><title>{title}</title><pubDate>{dated}</pubDate>"
                f"<description>Œuvre of the council.</description></item></channel></rss>"
                ).encode(encoding)
        sources.append(site.serve(f"/h/dotnet-{n}", body, content_type="application/rss+xml"))
    zurich_read_and_mailed(sources, titles, mail, workdir)


def test_a_utf16_feed_with_a_byte_order_mark_is_read_whatever_its_label(site, workdir):
    """A UTF-16 feed (a byte order mark first) that its server calls ISO-8859-1 or
    windows-1252 (an old server's default charset), or whose own declaration says
    ISO-8859-1: feedparser read it byte by byte, a NUL between each two letters, and the
    feed was "not a feed", every item lost, poll after poll. The byte order mark says what
    the bytes are, as a browser takes it to."""
    dated = format_datetime(datetime.now(UTC) - timedelta(minutes=5), usegmt=True)
    feeds = [  # title, the declaration's encoding, the server's content type, the bytes'
        ("Zürich’s tram line opens — at last", "utf-16", "text/xml; charset=iso-8859-1",
         "utf-16-le"),
        ("Zürich raises its parking fee to 5 €", "utf-16", "application/rss+xml; "
         "charset=windows-1252", "utf-16-be"),
        ("Zürich: Œuvre of the council", "ISO-8859-1", "application/rss+xml", "utf-16-le"),
        # Big-endian, its server's charset=UTF-16: it too was "not a feed" (invalid token).
        ("Zürich’s budget passes", "utf-16", "application/rss+xml; charset=UTF-16", "utf-16-be"),
    ]
    sources = []
    for n, (title, declared, content_type, encoding) in enumerate(feeds):
        body = (f'<?xml version="1.0" encoding="{declared}"?><rss version="2.0"><channel>'
                f"<title>Gemeinde Zürich</title><item><title>{title}</title><pubDate>{dated}"
                "</pubDate></item></channel></rss>")
        sources.append(site.serve(f"/h/utf16-bom-{n}", ("\ufeff" + body).encode(encoding),
                                  content_type=content_type))
    workdir.write_config(sources=sources)
    result = workdir.newswatch("crawl")
    assert "4 source(s): 4 ok" in result.stdout, result.stdout
    rows = [json.loads(r) for r in workdir.newswatch("export").stdout.splitlines()]
    assert sorted(row["title"] for row in rows) == sorted(title for title, *_ in feeds), rows


def test_utf16_without_a_byte_order_mark_under_a_single_byte_label_is_read(site, workdir):
    """A Windows tool's export saved as "Unicode" without its byte order mark, served by a
    server whose default charset is ISO-8859-1 (or windows-1252): its feeds, its sitemap
    and its article pages were read in that label, byte by byte, a NUL between each two
    letters: "not a feed", "not a sitemap", a page of garbage. The NULs of its ASCII markup,
    every other byte, say it is UTF-16, little- or big-endian; a page whose server names no
    charset is read so too."""
    now = datetime.now(UTC)
    dated = format_datetime(now - timedelta(minutes=5), usegmt=True)
    story = STORIES_BY_SLUG["harbour-wind-farm-approved"]
    pages = [  # the page's title, its bytes' encoding, its server's charset
        ("Zürich: Gemeinderat tagt", "utf-16-le", "ISO-8859-1"),
        ("Zürich’s tram line opens — at last", "utf-16-be", "windows-1252"),
        ("Zürich raises its parking fee to 5 €", "utf-16-le", None),
    ]
    items = ""
    for n, (title, encoding, charset) in enumerate(pages):
        text = "".join(f"<p>{title}: {p}</p>" for p in story.body)
        body = (f'<!DOCTYPE html><html><head><meta charset="iso-8859-1"><title>{title}</title>'
                f"</head><body><article><h1>{title}</h1>{text}</article></body></html>")
        link = site.serve(f"/h/unmarked-page-{n}.html", body.encode(encoding),
                          content_type=f"text/html; charset={charset}" if charset else "text/html")
        items += f"<item><title>{title}</title><link>{link}</link><pubDate>{dated}</pubDate></item>"
    feeds = [  # the bytes' encoding, the server's content type
        ("utf-16-le", "text/xml; charset=iso-8859-1"),
        ("utf-16-be", "application/rss+xml; charset=windows-1252"),
    ]
    sources = [
        site.serve(f"/h/unmarked-{n}.rss", (f'<?xml version="1.0" encoding="utf-16"?>'
                                          f'<rss version="2.0"><channel><title>Gemeinde Zürich'
                                          f"</title>{items}</channel></rss>").encode(encoding),
                   content_type=content_type)
        for n, (encoding, content_type) in enumerate(feeds)
    ]
    workdir.write_config(sources=sources)
    result = workdir.newswatch("crawl")
    assert "2 source(s): 2 ok" in result.stdout, result.stdout + workdir.newswatch("status").stdout
    rows = [json.loads(r) for r in workdir.newswatch("export").stdout.splitlines()]
    assert sorted(row["title"] for row in rows) == sorted(title for title, *_ in pages), rows
    assert all(f"{row['title']}: {story.body[0]}" in row["text"] for row in rows), rows


def test_a_sitemap_in_utf16_without_a_byte_order_mark_under_a_single_byte_label_is_read(
        site, workdir):
    """The same export's news sitemap, served as ISO-8859-1 or windows-1252: lxml read it in
    that label, "not a sitemap", every article of the source lost (above)."""
    news_sitemaps_of_words_read(site, workdir, [  # the words, declared, the bytes', charset
        ("Москва новый мост открыт", "utf-16", "utf-16-le", "ISO-8859-1"),
        ("Νέο μετρό στην Αθήνα", "utf-16", "utf-16-be", "windows-1252"),
    ])


def serve_news_sitemap(site: NewsSite, path: str, declared: str | None, encoding: str, loc: str,
                       name: str, language: str, title: str, published: datetime,
                       charset: str | None = None) -> str:
    """Serve at ``path`` a Google News sitemap of one article, in ``encoding``, its XML
    declaration saying ``declared`` (none where None), its server ``charset`` (where given);
    returns its URL."""
    declaration = f'<?xml version="1.0" encoding="{declared}"?>' if declared else ""
    body = (f'{declaration}<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
            f"<url><loc>{loc}</loc><news:news><news:publication><news:name>{name}</news:name>"
            f"<news:language>{language}</news:language></news:publication>"
            f"<news:publication_date>{published.isoformat()}</news:publication_date>"
            f"<news:title>{title}</news:title></news:news></url></urlset>")
    content_type = f"application/xml; charset={charset}" if charset else "application/xml"
    return site.serve(path, body.encode(encoding), content_type=content_type)


def test_a_sitemap_that_says_it_is_utf16_in_utf8_bytes_is_read(site, workdir):
    """An ASP.NET site's news sitemap, written through a StringWriter as its feed is: its
    declaration says encoding="utf-16" above UTF-8 (or windows-1252) text. lxml read the
    bytes in pairs: "not a sitemap (malformed XML…)", every article of the source lost, poll
    after poll. It is read as a feed declared so is."""
    now = datetime.now(UTC)
    slugs = ["central-bank-holds-rates", "harbour-wind-farm-approved"]
    sources = []
    for n, (slug, encoding) in enumerate(zip(slugs, ["utf-8", "cp1252"], strict=True)):
        site.publish(replace(STORIES_BY_SLUG[slug], published=now - timedelta(minutes=5)))
        sources.append(serve_news_sitemap(
            site, f"/h/dotnet-sitemap-{n}.xml", "utf-16", encoding, site.article_url(slug),
            "Gemeinde Zürich", "de", "Zürich: Gemeinderat tagt", now))
    workdir.write_config(sources=sources)
    result = workdir.newswatch("crawl")
    assert "2 source(s): 2 ok" in result.stdout, result.stdout + workdir.newswatch("status").stdout
    rows = [json.loads(r) for r in workdir.newswatch("export").stdout.splitlines()]
    assert sorted((row["source_url"], row["url"]) for row in rows) == [
        (source, site.article_url(slug)) for source, slug in zip(sources, slugs, strict=True)
    ], rows


def news_sitemaps_of_words_read(site: NewsSite, workdir: Workdir,
                                sitemaps: list[tuple[str, str | None, str, str | None]]) -> None:
    """Serve for each of ``sitemaps`` (a page's words, its sitemap's declared encoding, the
    sitemap's bytes' encoding, its server's charset) a page of those words at an address of
    them, and a Google News sitemap titling it so (its publication named by their first);
    a crawl must store each page under its words (an address read in the wrong code page
    is a page that does not exist)."""
    now = datetime.now(UTC)
    sources = []
    for n, (words, declared, encoding, charset) in enumerate(sitemaps):
        path = f"/h/{words.replace(' ', '-')}.html"
        story = STORIES_BY_SLUG["harbour-wind-farm-approved"]
        text = "".join(f"<p>{words}: {n}. {p}</p>" for p in story.body)
        site.serve(quote(path), (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{words}'
                                 f"</title></head><body><article><h1>{words}</h1>{text}</article>"
                                 "</body></html>").encode(), content_type="text/html")
        sources.append(serve_news_sitemap(
            site, f"/h/single-byte-sitemap-{n}.xml", declared, encoding, site.url(path),
            words.split()[0], "el", words, now, charset))
    workdir.write_config(sources=sources)
    result = workdir.newswatch("crawl")
    assert f"{len(sitemaps)} source(s): {len(sitemaps)} ok" in result.stdout, (
        result.stdout + workdir.newswatch("status").stdout)
    rows = [json.loads(r) for r in workdir.newswatch("export").stdout.splitlines()]
    assert sorted(row["title"] for row in rows) == sorted(words for words, *_ in sitemaps), rows
    assert all(row["title"] in row["text"] for row in rows), rows


def test_a_utf8_sitemap_that_says_it_is_in_a_single_byte_code_page_is_read(site, workdir):
    """A Greek or Russian CMS left at its old charset when its database moved to UTF-8: its
    news sitemap declares ISO-8859-7 or windows-1251 above UTF-8 text. lxml read it in that
    code page, each letter as two: its addresses of Greek words ("/αθηνα-γεφυρα.html") were
    fetched as pages that do not exist, and its articles lost. A real ISO-8859-7 sitemap,
    whose Greek bytes are no UTF-8, is still read in ISO-8859-7."""
    news_sitemaps_of_words_read(site, workdir, [
        ("Νέα γέφυρα στη Θεσσαλονίκη", "ISO-8859-7", "utf-8", None),
        ("Москва новый мост открыт", "windows-1251", "utf-8", None),
        ("Νέο μετρό στην Αθήνα", "ISO-8859-7", "iso-8859-7", None),
    ])


def test_a_sitemap_without_a_declaration_is_read_in_its_servers_charset(site, workdir):
    """A Russian or Greek site's news sitemap that declares no encoding, written in
    windows-1251, KOI8-R or ISO-8859-7 and served so (charset=windows-1251). lxml read it
    as UTF-8, XML's default: its addresses of Cyrillic or Greek words came out garbled
    (pages that do not exist) and its titles as mojibake, the articles lost. The server's
    charset is read as XML says, over the default; a UTF-8 sitemap its server labels in a
    single-byte code page stays UTF-8, and a byte order mark wins over the label."""
    news_sitemaps_of_words_read(site, workdir, [  # the words, declared, the bytes', charset
        ("Москва новый мост открыт", None, "windows-1251", "windows-1251"),
        ("Петербург новая линия метро", None, "koi8-r", "KOI8-R"),
        ("Νέο μετρό στην Αθήνα", None, "iso-8859-7", "ISO-8859-7"),
        ("Казань новый стадион", None, "utf-8", "windows-1251"),
        ("Νέα γέφυρα στη Θεσσαλονίκη", None, "utf-16", "windows-1251"),
    ])


def test_a_sitemap_whose_server_contradicts_its_declaration_is_read_as_its_bytes_are(
        site, workdir):
    """A Russian CMS's template declares UTF-8 above its windows-1251 database's text, served
    as windows-1251: lxml read the declaration, stopped at the first Cyrillic letter
    ("malformed XML") and recovered its addresses as U+FFFDs, pages that do not exist. The
    bytes cannot be UTF-8: the server's charset is read. Otherwise the declaration wins (the
    generator wrote it with the bytes; the charset is often the server's default): a Greek
    sitemap that says ISO-8859-7 under Apache's ISO-8859-1 stays Greek."""
    news_sitemaps_of_words_read(site, workdir, [  # the words, declared, the bytes', charset
        ("Москва новый мост открыт", "UTF-8", "windows-1251", "windows-1251"),
        ("Νέο μετρό στην Αθήνα", "ISO-8859-7", "iso-8859-7", "ISO-8859-1"),
    ])


def test_relative_links_of_a_negotiated_feed_are_joined_to_its_address(site, workdir):
    """Apache's content negotiation (MultiViews) answers /feeds/world with the file it chose
    and names it in Content-Location ("world.rss.en", relative). feedparser joined the
    feed's relative links to that, which left them relative: each item was dropped as "not
    an http(s) address", poll after poll. Links are joined to the feed's own address."""
    now = datetime.now(UTC)
    slugs = ("venezuela-opposition-leader", "central-bank-holds-rates")
    for slug in slugs:
        site.publish(replace(STORIES_BY_SLUG[slug], published=now - timedelta(minutes=5)))
    feed = rss(f"<link>/</link><item><title>Opposition</title><link>/articles/{slugs[0]}</link>"
               f"</item><item><title>Rates</title><link>../articles/{slugs[1]}</link></item>")
    url = site.serve("/feeds/world", feed, headers={"Content-Location": "world.rss.en"})
    workdir.write_config(sources=[url])
    result = workdir.newswatch("crawl")
    assert "1 source(s): 1 ok" in result.stdout, result.stdout
    rows = [json.loads(r) for r in workdir.newswatch("export").stdout.splitlines()]
    assert sorted(row["url"] for row in rows) == sorted(site.url(f"/articles/{s}") for s in slugs)


#: Links that Python cannot join or Scrapy refuses to request: a broken IPv6 literal, a port
#: out of range, a port that is not a number.
UNREQUESTABLE = ("http://[::1/news/a", "http://127.0.0.1:99999/news/b",
                 "http://127.0.0.1:notaport/news/c")


def test_links_that_cannot_be_requested_cost_themselves_alone(site, workdir):
    # Each such link in a feed (RSS, JSON Feed, the channel's own link), a page's declared
    # feeds, robots.txt's sitemaps or a sitemap index is passed over: the source's other
    # links are read and its poll is recorded (one of them used to end the poll with a
    # traceback, poll after poll, and none of the source's articles was ever stored).
    now = datetime.now(UTC)
    for slug in ("venezuela-opposition-leader", "central-bank-holds-rates"):
        site.publish(replace(STORIES_BY_SLUG[slug], published=now - timedelta(minutes=5)))
    good = site.url("/articles/venezuela-opposition-leader")
    items = "".join(f"<item><title>Broken {n}</title><link>{url}</link></item>"
                    for n, url in enumerate(UNREQUESTABLE))
    feed = rss(f"<link>{UNREQUESTABLE[0]}</link>{items}<item><title>Good</title>"
               f"<link>{good}</link></item>")
    json_feed = json.dumps({
        "version": "https://jsonfeed.org/version/1.1", "title": "J",
        "home_page_url": UNREQUESTABLE[1],
        "items": [*({"id": url, "url": url, "title": "Broken"} for url in UNREQUESTABLE),
                  {"id": "g", "url": site.url("/articles/central-bank-holds-rates"),
                   "title": "Good JSON"}],
    }).encode()
    declared = "".join(f'<link rel="alternate" type="application/rss+xml" href="{url}">'
                       for url in (*UNREQUESTABLE, site.url("/h/links.rss")))
    home = f"<html><head>{declared}</head><body><p>Home</p></body></html>".encode()
    children = "".join(f"<sitemap><loc>{url}</loc><lastmod>{now.isoformat()}</lastmod></sitemap>"
                       for url in (*UNREQUESTABLE, site.url("/sitemaps/news.xml")))
    index = ('<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns='
             f'"http://www.sitemaps.org/schemas/sitemap/0.9">{children}</sitemapindex>').encode()
    site.create_feed("nofeed")
    site.sitemaps = [*UNREQUESTABLE, "/sitemaps/news.xml"]
    sources = [site.serve("/h/links.rss", feed),
               site.serve("/h/links.json", json_feed, content_type="application/feed+json"),
               site.serve("/h/home/", home, content_type="text/html"),
               site.url("/nofeed/"),
               site.serve("/h/index.xml", index, content_type="application/xml")]
    workdir.write_config(sources=sources)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "polled 5 source(s): 5 ok, 0 failed" in result.stdout, result.stdout
    rows = [json.loads(r) for r in workdir.newswatch("export").stdout.splitlines()]
    by_source = {}
    for row in rows:
        by_source.setdefault(row["source_url"], set()).add(row["url"])
    # (feedparser reads the broken IPv6 link as no link: that item is kept as its own text)
    assert good in by_source[sources[0]], rows
    assert site.article_url("central-bank-holds-rates") in by_source[sources[1]], rows
    assert not any("99999" in r["url"] or "notaport" in r["url"] or "[::1" in r["url"]
                   for r in rows)
    listed = workdir.newswatch("sources", "list").stdout
    assert "not polled" not in listed and listed.count(" ok ") == 5, listed


def test_text_with_half_a_character_is_stored(site, workdir):
    # JSON may escape half of a UTF-16 pair alone ("\ud83d": a title cut between the two
    # halves of an emoji by a script that counts UTF-16 units); XML feeds hold character
    # references to such halves (often both, for one emoji) and to numbers beyond Unicode,
    # on which feedparser's loose parser raised. Each feed's poll ended with a traceback,
    # poll after poll, and none of its articles was stored. A pair is one character; half a
    # character, or none, is U+FFFD (no text can hold it: UTF-8, SQLite, mail).
    now = datetime.now(UTC).isoformat()
    json_feed = json.dumps({
        "version": "https://jsonfeed.org/version/1.1", "title": "J \ud83d",
        "items": [{"id": "cut-\ud83d", "title": "Harbour plan \ud83d", "date_published": now,
                   "content_text": "Approved \udc00 after a long debate"},
                  {"id": "whole", "title": "Harbour plan \U0001F600", "date_published": now,
                   "content_text": "Approved whole"}],
    }).encode()
    assert b"\\ud83d" in json_feed
    # Malformed (the unclosed <b>): read by feedparser's loose parser.
    references = rss("<item><title>Port &#55357; reopens</title><guid>p1</guid>"
                     "<description>Ships &#xDC00; wait <b></description></item>"
                     "<item><title>Ferry &#55357;&#56832; &#1114112;</title><guid>p2</guid>"
                     "<description>Back &#xD83D;&#xDE00; soon</description></item>")
    sources = [site.serve("/h/cut.json", json_feed, content_type="application/feed+json"),
               site.serve("/h/cut.rss", references)]
    workdir.write_config(sources=sources)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "polled 2 source(s): 2 ok, 0 failed" in result.stdout, result.stdout
    workdir.newswatch("crawl")  # their pages answer 404 again: kept with their summaries
    rows = {json.loads(r)["title"]: json.loads(r) for r in
            workdir.newswatch("export").stdout.splitlines()}
    assert "Harbour plan \ufffd" in rows and "Harbour plan \U0001F600" in rows, list(rows)
    assert "Approved \ufffd after a long debate" in rows["Harbour plan \ufffd"]["text"]
    assert "Port \ufffd reopens" in rows, list(rows)
    assert "Ships \ufffd wait" in rows["Port \ufffd reopens"]["text"]
    assert "Ferry \U0001F600 \ufffd" in rows, list(rows)
    assert "Back \U0001F600 soon" in rows["Ferry \U0001F600 \ufffd"]["text"]


def test_a_stored_source_a_crawl_cannot_request_fails_alone(site, workdir):
    # Sources added before such addresses were refused (the config, `sources add` and OPML
    # import now say what is wrong with them) may hold one: Scrapy refused to make its
    # request, and the crawl's start ended there, every source after it never polled.
    from storage import SourceSpec, open_store

    now = datetime.now(UTC)
    site.publish(replace(STORIES_BY_SLUG[GOOD_STORY], published=now - timedelta(minutes=5)))
    workdir.write_config(sources=[site.url("/feeds/world.rss")])
    assert workdir.newswatch("sources", "add", "http://127.0.0.1:99999/feed").returncode != 0
    with open_store(workdir.database) as store:
        store.add_source(SourceSpec("http://127.0.0.1:99999/feed", 600, None), now)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "polled 2 source(s): 1 ok, 1 failed; 1 new article(s)" in result.stdout, result.stdout
    assert ("failed: http://127.0.0.1:99999/feed: not a URL a crawl can request: "
            "Port out of range 0-65535") in result.stdout


def test_a_source_or_page_that_does_not_answer_in_time_names_crawl_timeout(site, workdir):
    """A feed, or an article page, whose server kept the request past crawl.timeout read
    "DownloadTimeoutError: Getting <url> took longer than 1.0 seconds.": Scrapy's words,
    naming no setting. Each says it in newswatch's."""
    story = replace(STORIES_BY_SLUG[GOOD_STORY], published=datetime.now(UTC))
    site.publish(story)
    slow = site.url("/slow.rss")
    site.serve("/slow.rss", site.render_feed("world", "rss") or b"")
    gates = [site.hold("/slow.rss"), site.hold(f"/articles/{story.slug}")]
    workdir.write_config(sources=[slow, site.url("/feeds/world.rss")], crawl={"timeout": "1s"})
    try:
        result = workdir.newswatch("crawl")
    finally:
        for gate in gates:
            gate.set()
    assert result.returncode == 0, result.stderr
    said = "no full answer within crawl.timeout (1s)"
    assert f"  failed: {slow}: {said}\n" in result.stdout, result.stdout
    assert f"last error: {said}\n" in workdir.newswatch("status").stdout
    with sqlite3.connect(workdir.database) as db:
        [(why,)] = db.execute("SELECT last_error FROM deferred_entries").fetchall()
    assert why == f"page fetch failed: {said}", why


def test_a_host_name_that_does_not_resolve_is_told_from_a_resolver_that_fails(site, workdir):
    """A source whose name the DNS does not know, and one this machine's resolver could not
    look up (down, or slower than crawl.timeout), all read "CannotResolveHostError: DNS
    lookup failed: no results for hostname lookup: …", or "DownloadTimeoutError: Getting …
    took longer than 1.0 seconds" as if the site were slow: the operator fixed a config that
    was right, or waited for a site while the machine's DNS was down. Each says which. The
    other sources of the crawl are read meanwhile (the lookups run in threads)."""
    feed = site.url("/feeds/world.rss")
    gone, down, slow = ("http://news.invalid/feed", "http://news.dnsdown.test/feed",
                        "http://news.slowdns.test/feed")
    workdir.write_config(sources=[gone, down, slow, feed], crawl={"timeout": "1s"})
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "polled 4 source(s): 1 ok, 3 failed" in result.stdout, result.stdout
    failed = dict(line.strip().removeprefix("failed: ").split(": ", 1)
                  for line in result.stdout.splitlines() if line.startswith("  failed: "))
    assert failed[gone].startswith("no such host: the DNS does not know news.invalid ("), failed
    assert failed[down] == (
        "the DNS lookup of news.dnsdown.test failed: Temporary failure in name resolution "
        "(this machine's resolver, or the domain's name servers, did not answer)")
    assert failed[slow] == (
        "the DNS lookup of news.slowdns.test took longer than crawl.timeout (this machine's "
        "resolver, or the domain's name servers, did not answer in time)")
    status = workdir.newswatch("status").stdout
    assert "last error: the DNS lookup of news.dnsdown.test failed" in status


def test_host_names_whose_lookups_hang_hold_only_their_own_sources(site, workdir):
    """More than ten sources whose names the DNS does not answer for (a dead domain's name
    servers, a firewall dropping the queries of one zone) held every thread of Twisted's
    pool, which the lookups shared: every other lookup waited behind them, even that of an
    address like 127.0.0.1, and the healthy sources failed as "no full answer within
    crawl.timeout", as did the hung ones whose lookup had not started. Each hung name holds
    only its own sources (two on one name wait for the same lookup), which fail as a lookup
    that did not answer and back off as any failing source; the others are read."""
    site.publish(replace(STORIES_BY_SLUG[GOOD_STORY], published=datetime.now(UTC)))
    feed = site.url("/feeds/world.rss")
    hung = [f"http://news{n}.slowdns.test/feed" for n in range(12)]
    hung.append("http://news0.slowdns.test/other-feed")
    workdir.write_config(sources=[*hung, feed], crawl={"timeout": "1s"})
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "polled 14 source(s): 1 ok, 13 failed; 1 new article(s)" in result.stdout, (
        result.stdout)
    with sqlite3.connect(workdir.database) as db:
        rows = db.execute("SELECT url, last_error, consecutive_failures, next_due "
                          "FROM sources WHERE url != ?", [feed]).fetchall()
    assert sorted(url for url, *_ in rows) == sorted(hung)
    for url, error, failures, due in rows:
        host = url.split("/")[2]
        assert error == (
            f"the DNS lookup of {host} took longer than crawl.timeout (this machine's "
            "resolver, or the domain's name servers, did not answer in time)"), error
        # Backing off (every = 1h in the tests' config), to be polled again then.
        assert failures == 1
        assert datetime.fromisoformat(due) >= datetime.now(UTC) + timedelta(minutes=55)


#: A script's start that connects to a local server through newswatch's resolver
#: (``connect(name)`` notes "connected" or the error's name in ``said``), in Twisted's
#: reactor as the crawl installs it.
_RESOLVER_SCRIPT = """
import threading
from crawler.run import install_reactor
install_reactor()
from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.internet.endpoints import HostnameEndpoint
from twisted.internet.protocol import Factory, Protocol
from crawler.http import install_resolver
install_resolver()
port = reactor.listenTCP(0, Factory.forProtocol(Protocol), interface="127.0.0.1")
said = []

@inlineCallbacks
def connect(name="news.localhost"):
    endpoint = HostnameEndpoint(reactor, name, port.getHost().port)
    bound = None
    try:
        attempt = endpoint.connect(Factory.forProtocol(Protocol))
        bound = reactor.callLater(10, attempt.cancel)  # a lookup that never answers
        connection = yield attempt
        said.append("connected")
        connection.transport.loseConnection()
    except Exception as exc:
        said.append(type(exc).__name__)
    if bound is not None and bound.active():
        bound.cancel()

"""


def test_a_lookup_whose_thread_could_not_start_leaves_its_name_to_be_looked_up_again():
    """A lookup whose thread could not be started (the machine at its limit of tasks, a
    service's TasksMax, or out of memory) stayed under way for good: every later request
    for its name waited for it and failed as a lookup that took longer than crawl.timeout,
    until newswatch was restarted, and it held one of the resolver's threads for good (64
    such, and no name was looked up any more). It fails that request alone, as a lookup
    that found nothing; the next one looks the name up. The thread is refused here for
    real: a stack of 1 TiB, which the kernel will not map."""
    import subprocess
    import sys
    import threading

    from conftest import subprocess_env

    threading.stack_size(2**40)
    try:
        probe = threading.Thread(target=lambda: None)
        probe.start()
        probe.join()
        pytest.skip("this machine maps a thread stack of 1 TiB (vm.overcommit_memory = 1)")
    except RuntimeError:
        pass
    finally:
        threading.stack_size(0)
    script = _RESOLVER_SCRIPT + """
@inlineCallbacks
def main():
    threading.stack_size(2**40)  # no thread can start
    try:
        yield connect()
    finally:
        threading.stack_size(0)
    yield connect()
    print(" ".join(said))
    reactor.stop()

reactor.callWhenRunning(main)
reactor.run(installSignalHandlers=False)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, env=subprocess_env())
    assert done.stdout.split() == ["DNSLookupError", "connected"], done.stdout + done.stderr


def test_lookups_one_after_another_run_in_one_thread_of_the_resolver():
    """Each lookup started a thread of its own when none was running (one for each
    connection a cold cycle opens): 70 us of CPU more than handing it to a thread, and the
    reactor's thread blocked until the new one ran (2.7 ms on average with the page workers
    busy). A thread waits LOOKUP_LINGER for the next lookup: names looked up one after
    another are looked up by one thread."""
    import subprocess
    import sys

    from conftest import subprocess_env

    script = _RESOLVER_SCRIPT + """
import socket
threads = set()
plain = socket.getaddrinfo
def noted(*args, **kwargs):
    threads.add(threading.current_thread())  # held: no two threads alike
    return plain(*args, **kwargs)
socket.getaddrinfo = noted

@inlineCallbacks
def main():
    for n in range(6):
        yield connect(f"news{n}.localhost")
    print(" ".join(said), len(threads))
    reactor.stop()

reactor.callWhenRunning(main)
reactor.run(installSignalHandlers=False)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, env=subprocess_env())
    assert done.stdout.split() == ["connected"] * 6 + ["1"], done.stdout + done.stderr
