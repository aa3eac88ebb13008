"""Files newswatch creates are private, and secrets never show in logs or status."""

from __future__ import annotations

import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from mailserver import MailServer
from netns import TestNetwork
from newssite import STORIES_BY_SLUG, NewsSite


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_database_and_mbox_are_owner_only(site, workdir):
    site.publish(replace(STORIES_BY_SLUG["venezuela-opposition-leader"],
                         published=datetime.now(UTC) - timedelta(minutes=5)))
    workdir.write_config(
        sources=[site.url("/feeds/world.rss")],
        topics=[{"name": "M", "query": "Maduro", "notify": ["a@test.example"]}],
    )
    assert workdir.newswatch("crawl").returncode == 0
    assert mode(workdir.database) == 0o600
    assert mode(workdir.path / "newswatch.mbox") == 0o600
    for suffix in ("-wal", "-shm"):
        extra = workdir.path / f"newswatch.db{suffix}"
        if extra.exists():
            assert mode(extra) & 0o077 == 0


def test_smtp_password_never_appears_in_output(site, workdir):
    secret = "s3cr3t-Pa55word"
    server = MailServer(auth=("newswatch", "wrong-on-purpose"))
    server.start()
    try:
        site.publish(replace(STORIES_BY_SLUG["venezuela-opposition-leader"],
                             published=datetime.now(UTC) - timedelta(minutes=5)))
        workdir.write_config(
            sources=[site.url("/feeds/world.rss")],
            topics=[{"name": "M", "query": "Maduro", "notify": ["a@test.example"]}],
            smtp={"host": server.host, "port": server.port, "username": "newswatch",
                  "password_env": "NW_TEST_PASSWORD", "timeout": "5s"},
        )
        crawl = workdir.newswatch("crawl", NW_TEST_PASSWORD=secret)
        assert crawl.returncode == 2  # login refused: a config error; alerts stay queued
        assert "login failed for newswatch" in crawl.stderr
        status = workdir.newswatch("status", NW_TEST_PASSWORD=secret)
        check = workdir.newswatch("check", NW_TEST_PASSWORD=secret)
        for result in (crawl, status, check):
            assert secret not in result.stdout + result.stderr
        assert secret not in workdir.database.read_bytes().decode("latin-1")
    finally:
        server.stop()


def test_article_text_cannot_inject_headers_or_markup(site, mail, workdir):
    evil = replace(
        STORIES_BY_SLUG["venezuela-opposition-leader"],
        slug="evil-maduro-story-here",
        title='Maduro <script>alert(1)</script>\r\nBcc: victim@evil.example',
        published=datetime.now(UTC) - timedelta(minutes=5),
    )
    site.articles[evil.slug] = evil
    site.publish(evil)
    workdir.write_config(
        sources=[site.url("/feeds/world.rss")],
        topics=[{"name": "M", "query": "Maduro", "notify": ["a@test.example"]}],
        smtp=mail,
    )
    assert workdir.newswatch("crawl").returncode == 0
    [message] = mail.wait_for(1)
    assert message["Bcc"] is None
    assert [rcpts for _, rcpts in mail.envelopes] == [["a@test.example"]]
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<script" not in html  # markup in feed titles is reduced to its text
    assert "alert(1)" in html


def test_one_recipient_refused_the_others_still_get_their_alert(site, mail, workdir):
    site.publish(replace(STORIES_BY_SLUG["venezuela-opposition-leader"],
                         published=datetime.now(UTC) - timedelta(minutes=5)))
    workdir.write_config(
        sources=[site.url("/feeds/world.rss")],
        topics=[{"name": "M", "query": "Maduro",
                 "notify": ["a@test.example", "gone@test.example", "b@test.example"]}],
        smtp=mail,
    )
    original = mail._receive

    def receive(envelope):
        if "gone@test.example" in envelope.rcpt_tos:
            return "550 5.1.1 mailbox unavailable"
        return original(envelope)

    mail._receive = receive
    result = workdir.newswatch("crawl")
    assert {m["To"] for m in mail.wait_for(2)} == {"a@test.example", "b@test.example"}
    assert result.returncode == 3  # reported: one alert failed for good
    status = workdir.newswatch("status").stdout
    assert "alerts: 0 pending, 2 sent, 1 failed" in status
    assert "to gone@test.example (failed" in status and "550" in status
    again = workdir.newswatch("crawl")
    assert len(mail.messages) == 2  # a permanent refusal is not retried
    assert again.returncode == 0


def test_a_crawl_opens_no_control_endpoint_and_writes_nothing_in_home(site, workdir, tmp_path):
    """Scrapy 2.19 starts a "remote control" HTTP endpoint that runs code sent to it, and
    records its port and token in the user's home, unless told not to: newswatch tells it."""
    site.publish(STORIES_BY_SLUG["venezuela-opposition-leader"])
    workdir.write_config(sources=[site.url("/feeds/world.rss")])
    home = tmp_path / "home"
    home.mkdir()
    result = workdir.newswatch("crawl", HOME=str(home), XDG_STATE_HOME=str(home / "state"),
                               XDG_DATA_HOME=str(home / "data"))
    assert result.returncode == 0, result.stderr
    assert "1 new article(s)" in result.stdout
    assert list(home.rglob("*")) == []
    assert "remote control" not in (result.stdout + result.stderr).lower()


def test_a_feed_cannot_send_the_crawler_inside_its_network(site, workdir):
    """A feed on another network than the links it lists: a page at a cloud's instance
    metadata address (169.254.169.254, in any of its spellings) or on a private network is
    not fetched (its entry is kept with the feed's summary, with the reason); before, its
    text was fetched, stored, searchable and mailed. The feed here is on 127.0.0.1, so a
    link to 127.0.0.1 is of its own kind and goes (what every other test does)."""
    inner = ["http://169.254.169.254/latest/meta-data/iam/", "http://2852039166/latest/",
             "http://[::ffff:169.254.169.254]/x", "http://10.0.0.1/admin"]
    workdir.write_config(sources=[serve_feed(site, "/h/inner.rss", inner)])
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    rows = exported(workdir)
    assert len(rows) == 4, rows
    assert {r["extraction"] for r in rows.values()} == {"feed"}  # the summaries
    notes = [r["extraction_note"] for r in rows.values()]
    assert sum("is a link-local address" in n for n in notes) == 3, notes
    assert sum("10.0.0.1 is a private-network address" in n for n in notes) == 1, notes
    assert all(r["text"].startswith("Summary") for r in rows.values())


def serve_feed(site: NewsSite, path: str, links: list[str]) -> str:
    """Serve at ``path`` an RSS feed of one item per link ("Item N", "Summary N of the
    item."); returns its URL."""
    when = "Mon, 30 Nov 2026 10:00:00 GMT"
    items = "".join(
        f"<item><title>Item {n}</title><link>{link}</link><description>Summary {n} of the "
        f"item.</description><pubDate>{when}</pubDate></item>" for n, link in enumerate(links))
    return site.serve(path, f'<?xml version="1.0"?><rss version="2.0"><channel>'
                      f"<title>Feed</title><link>{site.url('/')}</link>{items}</channel>"
                      f"</rss>".encode())


def exported(workdir) -> dict[str, dict]:
    """The stored articles (``newswatch export``) by URL."""
    import json

    return {r["url"]: r for r in map(json.loads, workdir.newswatch("export").stdout.splitlines())}


def test_a_feed_cannot_send_the_crawler_inside_its_network_by_a_host_name(
    site: NewsSite, workdir, test_network: TestNetwork
) -> None:
    """A host name is judged by the address its page answered from: a feed on a network
    (a test machine's, 198.18.x: a private one) linking to a name whose address is this
    machine's (metadata.loopback.test: 127.0.0.1) gets no page from there (its entry is kept
    with the feed's summary, with the reason), and a redirect answered from there is not
    followed; before, a host name counted as the internet's and the page was stored. The
    feed's pages on its own address go."""
    outer = NewsSite()
    outer.host = test_network.address
    with outer:
        inner = f"http://metadata.loopback.test:{site.port}"
        site.serve("/h/hop", b"", status=302,
                   headers={"Location": "/articles/city-late-winner"})
        links = [f"{inner}/articles/central-bank-holds-rates", f"{inner}/h/hop",
                 outer.url("/articles/harbour-wind-farm-approved")]
        workdir.write_config(sources=[serve_feed(outer, "/h/names.rss", links)])
        result = workdir.newswatch("crawl", NETGUARD_ALLOW=",".join(test_network.addresses))
    assert result.returncode == 0, result.stderr
    rows = exported(workdir)
    assert len(rows) == 3, rows
    for link in links[:2]:
        assert rows[link]["extraction"] == "feed", rows[link]  # the feed's summary
        assert rows[link]["text"].startswith("Summary"), rows[link]
        assert ("refused: metadata.loopback.test answered from 127.0.0.1, a loopback "
                f"address, which {test_network.address} (the source)") in \
            rows[link]["extraction_note"], rows[link]
    assert site.requests_for("/h/hop")  # asked, then its answer refused ...
    assert not site.requests_for("/articles/city-late-winner")  # ... and not followed
    own = rows[links[2]]
    assert own["extraction"] != "feed" and "wind farm" in own["text"], own


def test_a_source_on_a_host_name_of_an_inner_address_reaches_its_kind(site: NewsSite, workdir):
    """A source the user put on a host name whose address is inside (an intranet's feed; here
    news.loopback.test, 127.0.0.1) is of the kind of the address it answered from: its pages
    go, on its name and on addresses of that kind written out (127.0.0.1); before, a source's
    host name counted as the internet's and its pages at 127.0.0.1 were refused."""
    site.domain = "news.loopback.test"
    links = [site.url("/articles/central-bank-holds-rates"),
             f"http://127.0.0.1:{site.port}/articles/harbour-wind-farm-approved"]
    workdir.write_config(sources=[serve_feed(site, "/h/intranet.rss", links)])
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    rows = exported(workdir)
    assert len(rows) == 2, rows
    for link, words in zip(links, ("benchmark interest rate", "wind farm"), strict=True):
        assert rows[link]["extraction"] != "feed", rows[link]
        assert words in rows[link]["text"], rows[link]


def test_a_source_on_the_internet_gets_no_answer_from_inside_by_a_host_name() -> None:
    """The judgement of answers by the address Scrapy connected to (``Response.ip_address``,
    which its HTTP handler sets), for sources on the internet: the tests' network has no
    public address to crawl one from (the two tests above crawl from a private one and a
    loopback one). A page, or a redirect, answered from link-local, private or loopback by
    a host name is refused; from the internet, or through a proxy, it goes. A source on a
    host name whose address is private reaches private addresses, by name and written out."""
    import ipaddress
    import re

    import pytest
    import scrapy
    from scrapy.exceptions import IgnoreRequest
    from scrapy.http import Response

    from crawler.http import InnerAddresses, InnerAnswers
    from storage import Source

    answered: dict[str, int] = {}  # one crawl's: its two middlewares share it
    answers, addresses = InnerAnswers(answered), InnerAddresses(answered)

    def source(url: str) -> Source:
        return Source(1, url, None, 600, True, None, None, None, 0)

    def answer(of: Source, url: str, ip: str, status: int = 200, **meta: str) -> None:
        request = scrapy.Request(url, cb_kwargs={"source": of}, meta=meta)
        response = Response(url, status=status, request=request,
                            ip_address=ipaddress.ip_address(ip))
        assert answers.process_response(request, response) is response

    news = source("https://news.example/feed.xml")
    answer(news, news.url, "93.184.216.34")  # its own answer: the source is on the internet
    answer(news, "https://cdn.example/story", "151.101.1.1")
    answer(news, "http://metadata.example/", "169.254.169.254", proxy="http://10.0.0.1:3128")
    for url, ip, kind in [("http://metadata.example/latest/", "169.254.169.254", "link-local"),
                          ("http://wiki.example/", "10.0.0.5", "private-network"),
                          ("http://evil.example/hop", "127.0.0.1", "loopback"),
                          ("http://v6.example/", "::1", "loopback"),
                          ("https://news.example/late", "127.0.0.1", "loopback")]:
        said = f"answered from {ip}, a {kind} address, which news.example (the source)"
        with pytest.raises(IgnoreRequest, match=re.escape(said)):
            answer(news, url, ip, status=302 if url.endswith("hop") else 200)

    intranet = source("http://intranet-news.example/feed")
    answer(intranet, intranet.url, "10.0.0.5")
    answer(intranet, "http://wiki.intranet.example/page", "10.0.0.9")
    assert addresses.process_request(scrapy.Request("http://10.0.0.6/page",
                                                    cb_kwargs={"source": intranet})) is None
    with pytest.raises(IgnoreRequest, match="127.0.0.1 is a loopback address"):
        addresses.process_request(scrapy.Request("http://127.0.0.1/",
                                                 cb_kwargs={"source": intranet}))
    with pytest.raises(IgnoreRequest, match="answered from 169.254.169.254"):
        answer(intranet, "http://metadata.example/", "169.254.169.254")
