"""Tests of the test infrastructure: the local news site and the SMTP server."""

from __future__ import annotations

import gzip
import http.client
import io
import smtplib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlsplit

import feedparser
import lxml.html
import pytest
import trafilatura
from mailserver import MailServer, free_port
from newssite import CHROME_WORDS, STORIES, STORIES_BY_SLUG, NewsSite, Story, sample_story

Response = tuple[int, dict[str, str], bytes]

NEUTRAL_SLUGS = ["central-bank-holds-rates", "city-late-winner", "harbour-wind-farm-approved"]


@pytest.fixture(scope="module")
def site() -> Iterator[NewsSite]:
    """One running news site for this module (tests use their own feed names)."""
    with NewsSite() as running:
        yield running


@pytest.fixture
def mail() -> Iterator[MailServer]:
    """A fresh SMTP server per test."""
    with MailServer() as server:
        yield server


def fetch(
    site: NewsSite, path: str, headers: dict[str, str] | None = None, timeout: float = 10.0,
    method: str = "GET",
) -> Response:
    """Request ``path`` without following redirects; return status, headers and body."""
    conn = http.client.HTTPConnection(site.host, site.port, timeout=timeout)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def parse_feed(site: NewsSite, path: str) -> feedparser.FeedParserDict:
    """Fetch ``path`` and parse it the way the crawler will (bytes + response headers)."""
    status, headers, body = fetch(site, path)
    assert status == 200
    return feedparser.parse(io.BytesIO(body), response_headers=headers)


def has_chrome_word(text: str) -> list[str]:
    """The CHROME_WORDS present in ``text`` (case-insensitive)."""
    return [w for w in CHROME_WORDS if w.lower() in text.lower()]


def neutral(slug: str, minutes_ago: int) -> Story:
    """A canned chrome-free story with a new slug and date."""
    published = datetime(2026, 11, 24, 12, tzinfo=UTC) - timedelta(minutes=minutes_ago)
    return replace(STORIES_BY_SLUG["central-bank-holds-rates"], slug=slug, published=published)


# -- the HTTP site ----------------------------------------------------------------------------


def test_site_binds_loopback_on_a_free_port(site: NewsSite) -> None:
    """The site listens on 127.0.0.1 with a real port and builds URLs from it."""
    assert site.port > 0
    assert site.base_url == f"http://127.0.0.1:{site.port}"
    assert site.url("/feeds/world.rss") == site.base_url + "/feeds/world.rss"
    assert site.url("robots.txt") == site.base_url + "/robots.txt"


@pytest.mark.parametrize(
    ("ext", "version", "tracked"), [("rss", "rss20", True), ("atom", "atom10", False),
                                    ("rdf", "rss10", False)],
)
def test_feed_variants_parse(site: NewsSite, ext: str, version: str, tracked: bool) -> None:
    """All three formats parse cleanly with every field, newest item first."""
    older = STORIES_BY_SLUG["city-late-winner"]
    newer = STORIES_BY_SLUG["maduro-abandona-venezuela"]
    site.publish(older, feed="variants")
    site.publish(newer, feed="variants")
    parsed = parse_feed(site, f"/feeds/variants.{ext}")
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == version
    assert [e.title for e in parsed.entries] == [newer.title, older.title]
    entry = parsed.entries[0]
    canonical = site.url(f"/articles/{newer.slug}")
    expected_link = canonical + "?utm_source=rss&utm_medium=feed" if tracked else canonical
    assert entry.link == expected_link
    assert entry.id == canonical
    assert entry.author == newer.author
    assert entry.summary == newer.summary
    assert "Nicolás" in entry.title  # UTF-8 survives
    published = entry.get("published_parsed") or entry.get("updated_parsed")
    assert datetime(*published[:6], tzinfo=UTC) == newer.published


def test_feed_conditional_get_with_etag(site: NewsSite) -> None:
    """A matching If-None-Match gets an empty 304; a stale one gets the feed."""
    site.publish(neutral("etag-1", 5), feed="etag")
    status, headers, body = fetch(site, "/feeds/etag.rss")
    assert status == 200 and b"etag-1" in body
    etag = headers["etag"]
    status, headers304, body304 = fetch(site, "/feeds/etag.rss", {"If-None-Match": etag})
    assert (status, body304) == (304, b"")
    assert headers304["etag"] == etag
    status, _, body = fetch(site, "/feeds/etag.rss", {"If-None-Match": '"something-else"'})
    assert status == 200 and b"etag-1" in body
    # RFC 9110: If-None-Match takes precedence over If-Modified-Since.
    future = format_datetime(datetime.now(UTC) + timedelta(days=1), usegmt=True)
    status, _, _ = fetch(
        site, "/feeds/etag.rss", {"If-None-Match": '"x"', "If-Modified-Since": future}
    )
    assert status == 200


def test_feed_conditional_get_with_last_modified(site: NewsSite) -> None:
    """A not-older If-Modified-Since gets 304; an older one gets the feed."""
    site.publish(neutral("lm-1", 5), feed="lastmod")
    status, headers, _ = fetch(site, "/feeds/lastmod.atom")
    assert status == 200
    last_modified = headers["last-modified"]
    assert fetch(site, "/feeds/lastmod.atom", {"If-Modified-Since": last_modified})[0] == 304
    later = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    assert fetch(site, "/feeds/lastmod.atom", {"If-Modified-Since": later})[0] == 304
    earlier = format_datetime(datetime.now(UTC) - timedelta(days=1), usegmt=True)
    assert fetch(site, "/feeds/lastmod.atom", {"If-Modified-Since": earlier})[0] == 200
    assert fetch(site, "/feeds/lastmod.atom", {"If-Modified-Since": "garbage"})[0] == 200


def test_publish_changes_feed_and_validators(site: NewsSite) -> None:
    """Publishing invalidates both the old ETag and the old Last-Modified."""
    site.publish(neutral("pub-1", 10), feed="pub")
    _, headers, _ = fetch(site, "/feeds/pub.rss")
    site.publish(neutral("pub-2", 1), feed="pub")
    status, new_headers, body = fetch(site, "/feeds/pub.rss", {"If-None-Match": headers["etag"]})
    assert status == 200
    assert new_headers["etag"] != headers["etag"]
    assert body.index(b"pub-2") < body.index(b"pub-1")  # newest first
    status, _, _ = fetch(site, "/feeds/pub.rss", {"If-Modified-Since": headers["last-modified"]})
    assert status == 200
    assert fetch(site, "/articles/pub-2")[0] == 200  # published stories get a page


def test_republishing_a_slug_replaces_the_item(site: NewsSite) -> None:
    """Publishing the same slug twice keeps one item, with the new content."""
    story = neutral("again", 3)
    site.publish(story, feed="again")
    site.publish(replace(story, title="Updated headline"), feed="again")
    parsed = parse_feed(site, "/feeds/again.rss")
    assert [e.title for e in parsed.entries] == ["Updated headline"]


@pytest.mark.parametrize("path", ["/feeds/nosuchfeed.rss", "/feeds/world"])
def test_unknown_feed_is_404(site: NewsSite, path: str) -> None:
    """Unknown feed names and formats are 404."""
    assert fetch(site, path)[0] == 404


def test_world_feed_exists_empty_until_published() -> None:
    """A fresh site has an empty 'world' feed and pages for every canned story."""
    fresh = NewsSite()
    with fresh:
        parsed = parse_feed(fresh, "/feeds/world.rss")
        assert parsed.bozo == 0 and parsed.entries == []
        for story in STORIES:
            assert fetch(fresh, f"/articles/{story.slug}")[0] == 200
        assert fetch(fresh, "/articles/no-such-story")[0] == 404


def test_broken_feed_is_bozo_but_readable(site: NewsSite) -> None:
    """feedparser flags the malformed feed yet returns both items, linking to real pages."""
    parsed = parse_feed(site, "/feeds/broken.rss")
    assert parsed.bozo == 1
    assert len(parsed.entries) == 2
    assert "&" in parsed.entries[0].title
    for entry in parsed.entries:
        assert entry.link.startswith(site.base_url + "/articles/")
        assert fetch(site, urlsplit(entry.link).path)[0] == 200


def test_notafeed_is_html_served_as_xml(site: NewsSite) -> None:
    """/notafeed claims to be XML but is an HTML page without feed entries."""
    status, headers, body = fetch(site, "/notafeed")
    assert status == 200
    assert headers["content-type"].startswith("text/xml")
    assert body.lstrip().lower().startswith(b"<!doctype html")
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    assert parsed.entries == []


# -- article pages ----------------------------------------------------------------------------


def test_article_page_metadata_and_same_site_links(site: NewsSite) -> None:
    """Article pages carry canonical/og/author/date metadata and only link to this site."""
    story = STORIES_BY_SLUG["city-late-winner"]
    tracked = f"/articles/{story.slug}?utm_source=rss&utm_medium=feed"
    status, headers, body = fetch(site, tracked)
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    tree = lxml.html.fromstring(body)
    canonical = site.url(f"/articles/{story.slug}")
    assert tree.xpath("//link[@rel='canonical']/@href") == [canonical]
    meta = {m.get("property") or m.get("name"): m.get("content") for m in tree.xpath("//meta")}
    assert meta["og:url"] == canonical
    assert meta["og:title"] == story.title
    assert meta["author"] == story.author
    assert meta["article:published_time"] == story.published.isoformat()
    assert tree.xpath("//article//h1/text()") == [story.title]
    assert tree.xpath("//article//time/@datetime") == [story.published.isoformat()]
    links = tree.xpath("//@href | //@src | //@action")
    assert len(links) > 40
    for link in links:
        assert (link.startswith("/") and not link.startswith("//")) or link.startswith(
            site.base_url
        ), link


def naive_chrome_text(page: bytes) -> str:
    """All visible text of a page outside its <article> (what a naive extractor also sees)."""
    tree = lxml.html.fromstring(page)
    for element in tree.xpath("//article | //script | //head"):
        element.getparent().remove(element)
    return " ".join(tree.text_content().split())


@pytest.mark.parametrize("slug", NEUTRAL_SLUGS)
def test_chrome_would_fool_a_naive_extractor(site: NewsSite, slug: str) -> None:
    """The chrome mentions every watch word and outweighs the article itself."""
    story = STORIES_BY_SLUG[slug]
    assert has_chrome_word(" ".join([story.title, story.summary, *story.body])) == []
    chrome = naive_chrome_text(fetch(site, f"/articles/{slug}")[2])
    assert has_chrome_word(chrome) == list(CHROME_WORDS)
    assert len(chrome.split()) >= sum(len(p.split()) for p in story.body)


@pytest.mark.parametrize("slug", NEUTRAL_SLUGS)
def test_trafilatura_extracts_body_without_chrome(site: NewsSite, slug: str) -> None:
    """trafilatura returns the body paragraphs and metadata but none of the chrome words."""
    story = STORIES_BY_SLUG[slug]
    _, _, page = fetch(site, f"/articles/{slug}")
    url = site.url(f"/articles/{slug}")
    doc = trafilatura.bare_extraction(page.decode("utf-8"), url=url, with_metadata=True)
    assert doc is not None
    assert has_chrome_word(doc.text) == []
    for paragraph in story.body:
        assert paragraph in doc.text
    assert (doc.title, doc.author, doc.url) == (story.title, story.author, url)
    assert doc.date == story.published.date().isoformat()
    # The comments are recognised as comments: trafilatura keeps them apart from .text ...
    assert "What about Venezuela?" in doc.comments
    # ... but extract() appends them to its output unless include_comments=False.
    assert has_chrome_word(trafilatura.extract(page, url=url, include_comments=False)) == []
    assert has_chrome_word(trafilatura.extract(page, url=url)) != []


@pytest.mark.parametrize(
    ("slug", "phrase", "words"),
    [
        ("venezuela-opposition-leader", "stand against Nicolás Maduro", ["Maduro", "Venezuela"]),
        (
            "maduro-abandona-venezuela", "Nicolás Maduro abandonó Venezuela",
            ["Maduro", "Venezuela"],
        ),
        ("zelensky-grain-corridor", "President Volodymyr Zelensky said", ["Zelensky"]),
    ],
)
def test_watch_words_in_the_body_survive_extraction(
    site: NewsSite, slug: str, phrase: str, words: list[str]
) -> None:
    """Stories that mention watch words in their body keep them (accents intact)."""
    _, _, page = fetch(site, f"/articles/{slug}")
    doc = trafilatura.bare_extraction(page.decode("utf-8"), url=site.url(f"/articles/{slug}"))
    assert doc is not None
    assert phrase in doc.text
    assert has_chrome_word(doc.text) == words


def test_home_page_links_every_story(site: NewsSite) -> None:
    """The home page lists every known story, newest first."""
    status, _, body = fetch(site, "/")
    assert status == 200
    hrefs = lxml.html.fromstring(body).xpath("//main//a/@href")
    expected = sorted(STORIES, key=lambda s: s.published, reverse=True)
    story_links = [h for h in hrefs if h in {f"/articles/{s.slug}" for s in STORIES}]
    assert story_links == [f"/articles/{s.slug}" for s in expected]


def test_sample_story_mentions_exactly_the_requested_words() -> None:
    """sample_story weaves body_words into neutral prose and fills the summary."""
    story = sample_story("council-vote", "Council approves tram line", ["Belarus"], paragraphs=5)
    body = " ".join(story.body)
    assert len(story.body) == 5 and len(body.split()) > 150
    assert has_chrome_word(body) == ["Belarus"]
    assert has_chrome_word(" ".join(sample_story("x", "y").body)) == []
    assert story.summary and story.body[0].startswith(story.summary)
    assert story.published.tzinfo is not None
    with pytest.raises(ValueError, match="tz-aware"):
        Story("naive", "Naive", ["Text."], datetime(2026, 1, 1))


# -- special routes ---------------------------------------------------------------------------


def test_status_and_ratelimit_routes(site: NewsSite) -> None:
    """/status/<code> answers that code; /ratelimit sends 429 with Retry-After."""
    for code in (404, 410, 500, 503):
        status, _, body = fetch(site, f"/status/{code}")
        assert status == code and body.startswith(str(code).encode())
    assert fetch(site, "/status/204")[2] == b""
    status, headers, _ = fetch(site, "/ratelimit")
    assert (status, headers["retry-after"]) == (429, "1")
    status, headers, _ = fetch(site, "/status/503?retry_after=7")
    assert (status, headers["retry-after"]) == (503, "7")


def test_set_status_forces_and_clears(site: NewsSite) -> None:
    """set_status overrides a route until cleared; requests record the status sent."""
    path = "/articles/harbour-wind-farm-approved"
    site.set_status(path, 500)
    assert fetch(site, path)[0] == 500
    site.set_status("/feeds/world.rss", 429, {"Retry-After": "30"})
    status, headers, _ = fetch(site, "/feeds/world.rss")
    assert (status, headers["retry-after"]) == (429, "30")
    site.set_status(path, None)
    site.clear_status("/feeds/world.rss")
    assert fetch(site, path)[0] == 200
    assert fetch(site, "/feeds/world.rss")[0] == 200
    assert [r.status for r in site.requests_for(path)][-2:] == [500, 200]


def test_requests_are_recorded_with_headers(site: NewsSite) -> None:
    """Each request is recorded with its path, query, headers (case-insensitive) and status."""
    fetch(site, "/robots.txt?probe=1", {"User-Agent": "newswatch-test/1.0"})
    record = site.requests_for("/robots.txt?probe=1")[-1]
    assert (record.method, record.path, record.query, record.status) == (
        "GET", "/robots.txt", "probe=1", 200)
    assert record.headers["user-agent"] == record.headers["User-Agent"] == "newswatch-test/1.0"
    assert "USER-AGENT" in record.headers
    assert record in site.requests_for("/robots.txt")


def test_robots_default_and_override(site: NewsSite) -> None:
    """robots.txt allows everything unless NewsSite.robots is changed."""
    status, _, body = fetch(site, "/robots.txt")
    assert status == 200 and b"Allow: /" in body
    site.robots = "User-agent: *\nDisallow: /articles/\n"
    try:
        assert b"Disallow: /articles/" in fetch(site, "/robots.txt")[2]
    finally:
        site.robots = "User-agent: *\nAllow: /\n"


def test_redirect_stays_on_site(site: NewsSite) -> None:
    """/redirect sends 301 (or the requested 3xx) to a path on this site, never elsewhere."""
    status, headers, _ = fetch(site, "/redirect?to=/feeds/world.rss")
    assert (status, headers["location"]) == (301, site.url("/feeds/world.rss"))
    assert fetch(site, "/redirect?to=/&status=302")[0] == 302
    assert fetch(site, "/redirect?to=http://example.com/")[0] == 400
    assert fetch(site, "/redirect?to=//example.com/")[0] == 400


def test_slow_route_delays_and_times_out_clients(site: NewsSite) -> None:
    """/slow answers after the delay; a client with a shorter timeout gives up."""
    started = time.monotonic()
    status, _, body = fetch(site, "/slow?seconds=0.4")
    assert status == 200 and b"<rss" in body
    assert time.monotonic() - started >= 0.4
    with pytest.raises(TimeoutError):
        fetch(site, "/slow?seconds=2", timeout=0.2)


def test_big_body_variants(site: NewsSite) -> None:
    """/big is over 3 MB, announced by Content-Length unless ?nolength=1; ?gzip=1 compresses."""
    status, headers, body = fetch(site, "/big")
    assert status == 200 and int(headers["content-length"]) == len(body) >= 3 * 1024 * 1024
    assert body.rstrip().endswith(b"</rss>")
    status, headers, unsized = fetch(site, "/big?nolength=1")
    assert "content-length" not in headers and unsized == body
    status, headers, packed = fetch(site, "/big?gzip=1")
    assert headers["content-encoding"] == "gzip" and len(packed) < len(body) // 10
    assert gzip.decompress(packed) == body


def test_head_requests_get_headers_only(site: NewsSite) -> None:
    """HEAD answers with the GET headers and no body."""
    status, headers, body = fetch(site, "/feeds/broken.rss", method="HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0


def test_site_stop_releases_thread_and_port() -> None:
    """stop() ends the server thread and closes the listening socket."""
    before = set(threading.enumerate())
    temp = NewsSite()
    temp.start()
    port = temp.port
    assert fetch(temp, "/robots.txt")[0] == 200
    temp.stop()
    # The request's handler thread (a daemon, not joined by the server) may still be closing
    # its connection for a moment after stop() returns, on a loaded machine.
    deadline = time.monotonic() + 5
    while set(threading.enumerate()) - before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert set(threading.enumerate()) - before == set()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


# -- the SMTP server --------------------------------------------------------------------------


def alert_message(to: str = "reader@example.test", subject: str = "Alert: Maduro") -> EmailMessage:
    """A two-part alert-like message."""
    msg = EmailMessage()
    msg["From"] = "newswatch@example.test"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content("Nicolás Maduro abandonó Venezuela\nhttp://127.0.0.1/articles/x\n")
    msg.add_alternative(
        '<p><a href="http://127.0.0.1/articles/x">Nicolás Maduro abandonó Venezuela</a></p>',
        subtype="html",
    )
    return msg


def send(server: MailServer, msg: EmailMessage, rcpts: list[str] | None = None) -> None:
    """Deliver ``msg`` to ``server`` with smtplib."""
    with smtplib.SMTP(server.host, server.port, local_hostname="client.test", timeout=5) as smtp:
        smtp.send_message(msg, to_addrs=rcpts)


def test_free_port_is_bindable() -> None:
    """free_port returns a loopback port nobody is listening on."""
    port = free_port()
    assert 0 < port < 65536
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_mail_server_receives_multipart_message(mail: MailServer) -> None:
    """A message sent with smtplib arrives parsed, with its envelope."""
    assert mail.host == "127.0.0.1" and mail.port > 0
    send(mail, alert_message(), rcpts=["reader@example.test", "bcc@example.test"])
    [msg] = mail.wait_for(1, timeout=5)
    assert msg["Subject"] == "Alert: Maduro"
    assert msg["To"] == "reader@example.test"
    assert "Nicolás Maduro" in msg.get_body(("plain",)).get_content()
    assert 'href="http://127.0.0.1/articles/x"' in msg.get_body(("html",)).get_content()
    assert mail.envelopes == [
        ("newswatch@example.test", ["reader@example.test", "bcc@example.test"])
    ]
    mail.clear()
    assert mail.messages == [] and mail.envelopes == []


def test_wait_for_reports_what_arrived(mail: MailServer) -> None:
    """wait_for raises AssertionError naming the messages that did arrive."""
    send(mail, alert_message(subject="Only one"))
    with pytest.raises(AssertionError, match="expected 2 message.*got 1.*Only one"):
        mail.wait_for(2, timeout=0.3)


def test_mail_server_restarts_on_the_same_port(mail: MailServer) -> None:
    """stop() makes delivery fail (an outage); start() serves again on the same port."""
    port = mail.port
    send(mail, alert_message(subject="before"))
    mail.stop()
    assert not mail.running
    with pytest.raises(ConnectionRefusedError):
        send(mail, alert_message(subject="during"))
    mail.start()
    assert mail.port == port
    send(mail, alert_message(subject="after"))
    assert [m["Subject"] for m in mail.wait_for(2, timeout=5)] == ["before", "after"]


def test_mail_server_port_known_before_start_and_threads_cleaned() -> None:
    """The port is reserved at construction; stop() leaves no thread behind."""
    before = set(threading.enumerate())
    server = MailServer()
    assert server.port > 0 and not server.running
    server.start()
    send(server, alert_message())
    server.wait_for(1, timeout=5)
    server.stop()
    server.stop()  # idempotent
    assert set(threading.enumerate()) - before == set()


def test_mail_server_auth_and_reject() -> None:
    """With auth set, only the right password logs in; reject makes DATA fail."""
    with MailServer(auth=("alerts", "s3cret")) as server:
        with smtplib.SMTP(server.host, server.port, local_hostname="c.test", timeout=5) as smtp:
            with pytest.raises(smtplib.SMTPAuthenticationError):
                smtp.login("alerts", "wrong")
            smtp.login("alerts", "s3cret")
            smtp.send_message(alert_message())
        # smtplib tries PLAIN then LOGIN before giving up on the wrong password.
        assert ("alerts", False) in server.logins
        assert server.logins[-1] == ("alerts", True)
        server.wait_for(1, timeout=5)
        server.reject = "550 5.1.1 Mailbox unavailable"
        with pytest.raises(smtplib.SMTPDataError):
            send(server, alert_message(subject="rejected"))
        assert len(server.messages) == 1


# -- network isolation in the test process -----------------------------------------------------


def test_test_process_refuses_hosts_beyond_loopback(request: pytest.FixtureRequest) -> None:
    """Both guards hold in the process running the tests — an xdist worker when the suite
    runs in parallel: pytest-socket's allow-list, and the netguard (``connect_ex`` too). The
    address is TEST-NET-1 (RFC 5737): nothing would answer even if a guard failed."""
    from pytest_socket import SocketConnectBlockedError

    assert request.config.getoption("allow_hosts") == "127.0.0.0/8,::1,localhost"
    with (
        socket.socket() as sock,
        pytest.raises(SocketConnectBlockedError),
        pytest.warns(UserWarning, match="192.0.2.1"),  # pytest-socket warns, then raises
    ):
        sock.connect(("192.0.2.1", 9))
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError, match="only connect to loopback"):
        sock.connect_ex(("192.0.2.1", 9))
    with pytest.raises(OSError):
        socket.getaddrinfo("example.com", 80)
