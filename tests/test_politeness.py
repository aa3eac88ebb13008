"""Polite and efficient polling: Retry-After, permanent and temporary redirects, 410 Gone,
conditional GET on warm cycles, an identifying User-Agent; empty answers and redirect loops
said as such."""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import quote

import pytest
from newssite import STORIES_BY_SLUG


def source_row(workdir, url):
    with sqlite3.connect(workdir.database) as db:
        db.row_factory = sqlite3.Row
        return dict(db.execute("SELECT * FROM sources WHERE url = ?", [url]).fetchone())


def test_rate_limited_source_waits_for_retry_after(site, workdir):
    url = site.url("/status/429?retry_after=600")
    workdir.write_config(sources=[url])
    result = workdir.newswatch("crawl")
    assert result.returncode == 0
    assert f"failed: {url}: HTTP 429 (retry-after=600s)" in result.stdout
    # Answered once, not hammered with immediate retries.
    assert len(site.requests_for("/status/429")) == 1
    row = source_row(workdir, url)
    due = datetime.fromisoformat(row["next_due"])
    assert due >= datetime.now(UTC) + timedelta(seconds=590)
    # A crawl run again (from cron) waits too: it requested the source at every run.
    again = workdir.newswatch("crawl")
    assert again.returncode == 0, again.stderr
    assert f"waiting: {url}: it answered HTTP 429, polled from " in again.stdout, again.stdout
    assert len(site.requests_for("/status/429")) == 1


@pytest.mark.parametrize("zone", ["GMT", "-0000", ""])
def test_retry_after_as_a_date_with_any_zone_is_honoured(site, workdir, zone):
    # An HTTP date; "-0000" and no zone at all (both read as UTC) made the poll end with a
    # traceback, unrecorded: the source was polled again at every tick while the server
    # asked for two hours.
    when = datetime.now(UTC) + timedelta(hours=2)
    header = when.strftime("%a, %d %b %Y %H:%M:%S") + (f" {zone}" if zone else "")
    url = site.url(f"/status/503?retry_after={quote(header)}")
    workdir.write_config(sources=[url])
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert f"failed: {url}: HTTP 503 (retry-after=" in result.stdout, result.stdout
    row = source_row(workdir, url)
    assert datetime.fromisoformat(row["next_due"]) >= when - timedelta(seconds=5)


def test_permanent_redirects_update_the_polled_url(site, workdir):
    inner = "/redirect?to=" + quote("/feeds/world.rss", safe="")
    url = site.url("/redirect?to=" + quote(inner, safe=""))  # a chain of two 301s
    workdir.write_config(sources=[url])
    assert workdir.newswatch("crawl").returncode == 0
    row = source_row(workdir, url)
    assert row["fetch_url"] == site.url("/feeds/world.rss")
    assert "permanent redirect" in row["via"]
    redirects_before = len(site.requests_for("/redirect"))
    assert workdir.newswatch("crawl").returncode == 0
    assert len(site.requests_for("/redirect")) == redirects_before  # straight to the new URL
    assert site.requests_for("/feeds/world.rss")[-1].status == 304
    status = workdir.newswatch("status").stdout
    assert f"polled at: {site.url('/feeds/world.rss')} (permanent redirect from" in status
    # Exported at its new address (the old one, given to another feed reader, may be gone).
    exported = workdir.newswatch("sources", "export").stdout
    assert f'xmlUrl="{site.url("/feeds/world.rss")}"' in exported, exported


def test_temporary_redirect_keeps_the_configured_url(site, workdir):
    url = site.url("/redirect?to=" + quote("/feeds/world.rss", safe="") + "&status=302")
    workdir.write_config(sources=[url])
    assert workdir.newswatch("crawl").returncode == 0
    assert source_row(workdir, url)["fetch_url"] is None


def test_gone_source_is_deactivated_once_its_410_lasts(site, workdir):
    """A 410 Gone deactivates the source once it has answered so at every poll for a day
    and at 3 polls at least (crawler.spider.GONE_AFTER, GONE_POLLS); any other answer
    starts the count again."""
    gone = site.url("/feeds/old.rss")
    workdir.write_config(sources=[gone, site.url("/feeds/world.rss")])

    def crawl(status):
        site.set_status("/feeds/old.rss", status)
        result = workdir.newswatch("crawl")
        assert result.returncode == 0, result.stderr
        row = source_row(workdir, gone)
        return result.stdout, row

    def a_day_ago():
        since = (datetime.now(UTC) - timedelta(hours=24)).isoformat(timespec="seconds")
        with sqlite3.connect(workdir.database) as db:
            db.execute("UPDATE sources SET gone_since = ? WHERE url = ?", [since, gone])

    for polls in (1, 2, 3):  # 3 polls within minutes: a CDN's purge
        out, row = crawl(410)
        assert f"failed: {gone}: HTTP 410 Gone (since " in out and row["active"], out
        assert row["gone_polls"] == polls and row["consecutive_failures"] == polls
    first = row["gone_since"]
    a_day_ago()
    out, row = crawl(500)  # another answer: the count starts again
    assert (row["active"], row["gone_since"], row["gone_polls"]) == (1, None, 0)
    assert row["consecutive_failures"] == 4  # a failure all the same: backing off
    out, row = crawl(410)
    assert row["active"] and row["gone_polls"] == 1 and row["gone_since"] >= first
    a_day_ago()
    out, row = crawl(410)  # a day, but at 2 polls only (a source polled twice a day)
    assert row["active"] and "2 poll(s) in a row" in out, out
    out, row = crawl(410)
    assert (row["active"], row["deactivated"]) == (0, "HTTP 410 Gone"), row
    assert f"failed: {gone}: HTTP 410 Gone\n" in out
    again = workdir.newswatch("crawl")
    assert "polled 1 source(s)" in again.stdout
    assert len(site.requests_for("/feeds/old.rss")) == 7
    status = workdir.newswatch("status").stdout
    assert "DEACTIVATED (HTTP 410 Gone)" in status


def test_warm_cycle_over_unchanged_feeds_downloads_nothing_new(site, workdir):
    now = datetime.now(UTC)
    names = [f"desk{i}" for i in range(6)]
    for i, name in enumerate(names):
        site.create_feed(name)
        story = replace(STORIES_BY_SLUG["city-late-winner"], slug=f"story-{i}",
                        published=now - timedelta(minutes=i))
        site.articles[story.slug] = story
        site.publish(story, feed=name)
    workdir.write_config(sources=[site.url(f"/feeds/{n}.rss") for n in names])
    assert "6 new article(s)" in workdir.newswatch("crawl").stdout
    pages_before = len([r for r in site.requests if r.path.startswith("/articles/")])

    warm = workdir.newswatch("crawl")
    assert "6 source(s): 6 ok, 0 failed; 0 new article(s)" in warm.stdout
    for name in names:
        last = site.requests_for(f"/feeds/{name}.rss")[-1]
        assert last.status == 304
        assert last.headers.get("If-None-Match") and last.headers.get("If-Modified-Since")
    pages_after = len([r for r in site.requests if r.path.startswith("/articles/")])
    assert pages_after == pages_before  # nothing fetched or extracted again


def test_a_feed_answering_304_whatever_changed_is_read_in_full_again(site, mail, workdir):
    # A CDN keyed on a stale ETag (follow.it answered each If-Modified-Since with 304 and
    # that same date): the conditional polls never saw the new story, the source "ok".
    now = datetime.now(UTC).replace(microsecond=0)
    site.publish(replace(STORIES_BY_SLUG["city-late-winner"], published=now - timedelta(hours=2)))
    topic = {"name": "Maduro", "query": "Maduro", "notify": ["desk@test.example"]}
    url = site.url("/feeds/world.rss")
    workdir.write_config(sources=[url], topics=[topic], smtp=mail)
    assert "1 new article(s)" in workdir.newswatch("crawl").stdout
    site.stale_304.add("world")
    story = replace(STORIES_BY_SLUG["venezuela-opposition-leader"], published=now)
    site.publish(story)
    # Within its validators' lifetime (6 intervals since it answered in full): a 304 is
    # taken at its word.
    assert "0 new article(s)" in workdir.newswatch("crawl").stdout
    assert site.requests_for("/feeds/world.rss")[-1].status == 304
    # Once they have served 6 intervals (an hour each), a poll asks without them.
    read_at = datetime.fromisoformat(source_row(workdir, url)["read_at"])
    with sqlite3.connect(workdir.database) as db:
        db.execute("UPDATE sources SET read_at = ?",
                   [(read_at - timedelta(hours=6)).isoformat(timespec="seconds")])
    again = workdir.newswatch("crawl")
    assert "1 new article(s)" in again.stdout, again.stdout
    last = site.requests_for("/feeds/world.rss")[-1]
    assert last.status == 200 and "If-None-Match" not in last.headers
    [message] = mail.wait_for(1)
    assert "Maduro" in message["Subject"]
    # Read in full, its validators are good for 6 intervals again.
    assert "0 new article(s)" in workdir.newswatch("crawl").stdout
    assert site.requests_for("/feeds/world.rss")[-1].status == 304
    assert len(mail.messages) == 1


def test_a_304_to_a_request_without_validators_is_a_failure(site, workdir):
    # A 304 with nothing asked to compare (a CDN answering 304 to whatever it is asked, and
    # so to the polls without validators above): taken for "unchanged", the source was
    # "ok" at every poll and never read.
    url = site.url("/feeds/world.rss")
    site.set_status("/feeds/world.rss", 304)
    workdir.write_config(sources=[url])
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert f"failed: {url}: HTTP 304 Not Modified to a request without" in result.stdout, (
        result.stdout)
    assert source_row(workdir, url)["last_success"] is None
    assert "failing 1" in workdir.newswatch("sources", "list").stdout


class _CachingProxy(BaseHTTPRequestHandler):
    """A forward proxy that keeps each 200 as long as its Cache-Control max-age says and
    answers from it, unless the request says no-cache (RFC 9111), as Squid does."""

    cache: ClassVar[dict[str, tuple[float, int, dict[str, str], bytes]]] = {}

    def do_GET(self) -> None:
        kept = self.cache.get(self.path)
        if (kept is None or kept[0] < time.monotonic()
                or "no-cache" in self.headers.get("Cache-Control", "")):
            asked = urllib.request.Request(self.path, headers={
                k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")})
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            try:
                with opener.open(asked, timeout=5) as answer:
                    status, headers, body = answer.status, dict(answer.headers), answer.read()
            except urllib.error.HTTPError as refused:
                status, headers, body = refused.code, dict(refused.headers), refused.read()
            age = re.search(r"max-age=(\d+)", headers.get("Cache-Control", ""))
            kept = (time.monotonic() + int(age.group(1)) if age else 0.0, status, headers, body)
            if status == 200:
                self.cache[self.path] = kept
        self.send_response(kept[1])
        for name, value in kept[2].items():
            if name.lower() in ("content-type", "etag", "last-modified", "cache-control"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(kept[3])))
        self.end_headers()
        self.wfile.write(kept[3])

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_feed_cached_for_a_week_by_a_proxy_is_read_from_the_site(site, mail, workdir):
    # A feed served with "Cache-Control: max-age=604800" (a CMS's default for static files)
    # through the proxy of the environment (a company's Squid): the proxy answered each poll
    # with its week-old copy, the stories published meanwhile never seen.
    now = datetime.now(UTC).replace(microsecond=0)
    site.publish(replace(STORIES_BY_SLUG["city-late-winner"], published=now - timedelta(hours=2)))
    week = {"Cache-Control": "max-age=604800"}
    feed = site.serve("/weekly.rss", site.render_feed("world", "rss") or b"", headers=week)
    topic = {"name": "Maduro", "query": "Maduro", "notify": ["desk@test.example"]}
    workdir.write_config(sources=[feed], topics=[topic], smtp=mail)
    _CachingProxy.cache = {}
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _CachingProxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    through = {"http_proxy": f"http://127.0.0.1:{proxy.server_port}", "no_proxy": ""}
    try:
        assert "1 new article(s)" in workdir.newswatch("crawl", **through).stdout
        site.publish(replace(STORIES_BY_SLUG["venezuela-opposition-leader"], published=now))
        site.serve("/weekly.rss", site.render_feed("world", "rss") or b"", headers=week)
        again = workdir.newswatch("crawl", **through)
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert "1 new article(s)" in again.stdout, again.stdout
    [message] = mail.wait_for(1)
    assert "Maduro" in message["Subject"]
    assert site.requests_for("/weekly.rss")[-1].headers.get("Cache-Control") == "no-cache"


def test_requests_identify_newswatch(site, workdir):
    workdir.write_config(
        sources=[site.url("/feeds/world.rss")],
        crawl={"user_agent": "newswatch/0.1 (+https://example.org/contact)"},
    )
    assert workdir.newswatch("crawl").returncode == 0
    agent = site.requests_for("/feeds/world.rss")[0].headers.get("User-Agent")
    assert agent == "newswatch/0.1 (+https://example.org/contact)"


def test_robots_txt_is_obeyed_for_pages_not_for_subscribed_feeds(site, workdir):
    site.robots = "User-agent: *\nDisallow: /articles/\nDisallow: /feeds/\n"
    story = replace(STORIES_BY_SLUG["city-late-winner"], published=datetime.now(UTC))
    site.publish(story)
    workdir.write_config(sources=[site.url("/feeds/world.rss")])
    result = workdir.newswatch("crawl")
    assert "1 ok" in result.stdout and "1 new article(s)" in result.stdout
    assert site.requests_for(f"/articles/{story.slug}") == []  # never fetched
    rows = workdir.newswatch("export").stdout
    assert "Forbidden by robots.txt" in rows
    assert '"extraction": "feed"' in rows


def test_a_source_whose_pages_robots_txt_refuses_says_so_in_status(site, workdir):
    """A site whose robots.txt disallows its article pages: every article was kept with the
    feed's text, and ``status`` said the source "ok", nothing more; the operator thought
    topics matched the articles while they matched the feed's summaries."""
    site.robots = "User-agent: *\nDisallow: /articles/\n"
    fresh_stories(site, 2)
    feed = site.url("/feeds/world.rss")
    workdir.write_config(sources=[feed])
    assert "2 new article(s)" in workdir.newswatch("crawl").stdout
    said = ("its article pages are refused by the site's robots.txt: articles kept with the "
            "feed's text")
    status = workdir.newswatch("status").stdout
    assert "ok; last poll" in status and f"    warning: {said}\n" in status, status
    [row] = json.loads(workdir.newswatch("status", "--json").stdout)["sources"]
    assert row["last_error"] == said and row["consecutive_failures"] == 0, row


def fresh_stories(site, count: int) -> list[str]:
    """``count`` of the site's stories published now in its world feed; their slugs."""
    slugs = list(STORIES_BY_SLUG)[:count]
    for slug in slugs:
        site.publish(replace(STORIES_BY_SLUG[slug], published=datetime.now(UTC)))
    return slugs


def test_robots_txt_is_obeyed_for_every_page_of_a_poll(site, workdir):
    """Scrapy 2.19's robots.txt middleware gave the parser to the first request waiting for
    it and None ("allowed") to every other: of a poll's 8 disallowed pages, 6 were fetched."""
    site.robots = "User-agent: *\nDisallow: /articles/\n"
    slugs = fresh_stories(site, 8)
    workdir.write_config(sources=[site.url("/feeds/world.rss")])
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    fetched = [slug for slug in slugs if site.requests_for(f"/articles/{slug}")]
    assert fetched == []


@pytest.mark.parametrize("status", [503, 429])
def test_pages_wait_while_robots_txt_cannot_be_read(site, workdir, status):
    """robots.txt answering 503 (or not at all) was read as "everything allowed": a site in
    trouble got every page request. RFC 9309: unreachable, it disallows everything; the
    pages wait for the next poll, and are fetched once it answers. So too a 429 ("too many
    requests", as Google reads it): every page, disallowed ones too, was requested at once
    after it (a review)."""
    slugs = fresh_stories(site, 3)
    site.set_status("/robots.txt", status)
    workdir.write_config(sources=[site.url("/feeds/world.rss")])
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert not any(site.requests_for(f"/articles/{slug}") for slug in slugs)
    assert "3 page(s) unavailable for now" in workdir.newswatch("status").stdout
    site.set_status("/robots.txt", None)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert all(site.requests_for(f"/articles/{slug}") for slug in slugs)


def test_a_host_that_asks_to_wait_gets_no_more_page_requests(site, workdir):
    """A page answering 429 with Retry-After: 3600 deferred that page, and every other page
    of the host was still requested at once (then at the next poll again): what gets an
    address banned. The host's pages wait for the time it asked (the daemon's next polls
    too, and later processes: below), deferred to a later poll."""
    slugs = fresh_stories(site, 6)
    for slug in slugs:
        site.set_status(f"/articles/{slug}", 429, {"Retry-After": "3600"})
    workdir.write_config(sources=[site.url("/feeds/world.rss")],
                         crawl={"per_host": 1, "delay": "0s"})
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    requested = [slug for slug in slugs if site.requests_for(f"/articles/{slug}")]
    assert len(requested) <= 2, requested  # the first, and one sent as its answer came
    assert "6 page(s) unavailable for now" in workdir.newswatch("status").stdout


def test_a_sources_own_503_does_not_hold_the_pages_of_its_host(site, workdir):
    """A feed answering 503 (or 429) made its whole host wait, as a page answering so does:
    the pages of every other feed of the site were refused, their alerts a poll late. The
    feed backs off by itself (its Retry-After, its failures); a page's answer makes the
    host wait."""
    slugs = fresh_stories(site, 3)
    down = site.url("/status/503?retry_after=600")
    workdir.write_config(sources=[down, site.url("/feeds/world.rss")],
                         crawl={"per_host": 1, "delay": "0s"})
    assert workdir.newswatch("crawl").returncode == 0
    assert all(site.requests_for(f"/articles/{slug}") for slug in slugs)
    assert "unavailable for now" not in workdir.newswatch("status").stdout


def test_a_host_that_asked_to_wait_waits_across_processes(site, workdir):
    """A host's wait (429, Retry-After: 3600) was kept in the process only: the next
    `newswatch crawl` (a cron job), or the daemon after a restart, requested its pages at
    once. The wait is kept in the database: the next process waits too."""
    slugs = fresh_stories(site, 2)
    for slug in slugs:
        site.set_status(f"/articles/{slug}", 429, {"Retry-After": "3600"})
    workdir.write_config(sources=[site.url("/feeds/world.rss")],
                         crawl={"per_host": 1, "delay": "0s"})
    assert workdir.newswatch("crawl").returncode == 0
    asked = sum(len(site.requests_for(f"/articles/{slug}")) for slug in slugs)
    assert 1 <= asked <= 2  # the first, and one sent as its answer came
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert sum(len(site.requests_for(f"/articles/{slug}")) for slug in slugs) == asked
    assert "2 page(s) unavailable for now" in workdir.newswatch("status").stdout


def test_pages_refused_while_their_host_waits_are_not_given_up(site, mail, workdir, wait):
    """A page whose host asked to wait (429, Retry-After: 6) was refused unsent at each
    poll meanwhile, and each refusal counted as one of the page's three attempts: at the
    daemon's third poll the article was kept with its feed summary, and a topic its page's
    text matched never alerted. A refusal unsent is not an attempt: the page is fetched when
    the wait is over, and its text alerts."""
    slug = "venezuela-opposition-leader"  # "political prisoners": in its page, not its summary
    site.publish(replace(STORIES_BY_SLUG[slug], published=datetime.now(UTC)))
    site.set_status(f"/articles/{slug}", 429, {"Retry-After": "6"})
    workdir.write_config(
        sources=[{"url": site.url("/feeds/world.rss"), "every": "1s"}],
        topics=[{"name": "Prisoners", "query": '"political prisoners"', "notify": ["desk@test.example"]}],
        smtp=mail, crawl={"delay": "0s"},
    )
    daemon = workdir.start_daemon()
    try:
        assert wait(lambda: site.requests_for(f"/articles/{slug}"), 30)
        site.set_status(f"/articles/{slug}", None)  # it would answer now; the host waits
        [message] = mail.wait_for(1, timeout=40)
    finally:
        assert daemon.stop() == 0, daemon.output()
    assert "Prisoners" in message["Subject"]
    assert len(site.requests_for(f"/articles/{slug}")) == 2  # the 429, then after the wait
    assert len(site.requests_for("/feeds/world.rss")) >= 3  # polls during the wait


def test_robots_txt_crawl_delay_spaces_the_pages_of_its_host(site, workdir):
    """robots.txt's Crawl-delay: 2 was ignored (Scrapy parses it and never applies it): the
    pages came crawl.delay apart. They come Crawl-delay apart (at most MAX_CRAWL_DELAY)."""
    site.robots = "User-agent: *\nCrawl-delay: 2\n"
    slugs = fresh_stories(site, 3)
    workdir.write_config(sources=[site.url("/feeds/world.rss")],
                         crawl={"per_host": 1, "delay": "0s"})
    assert workdir.newswatch("crawl").returncode == 0
    arrivals = sorted(site.requests_for(f"/articles/{slug}")[0].arrived for slug in slugs)
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert min(gaps) >= 1.5, gaps


def test_the_daemon_reads_a_hosts_robots_txt_once_for_its_polls(site, mail, workdir, wait):
    """robots.txt was requested again at every poll of every source of its host (96 times a
    day for a feed polled every 15 minutes; a review): the daemon keeps it an hour (its
    Crawl-delay applied at each poll), obeyed as read."""
    site.robots = "User-agent: *\nDisallow: /articles/city-late-winner\nCrawl-delay: 1\n"
    slugs = list(STORIES_BY_SLUG)[:4]
    workdir.write_config(sources=[{"url": site.url("/feeds/world.rss"), "every": "1s"}],
                         crawl={"delay": "0s"})
    daemon = workdir.start_daemon()
    try:
        for slug in slugs:  # a new article at each of four polls
            site.publish(replace(STORIES_BY_SLUG[slug], published=datetime.now(UTC)))
            assert wait(lambda slug=slug: site.requests_for(f"/articles/{slug}")
                        or slug == "city-late-winner", 30)
            polls = len(site.requests_for("/feeds/world.rss"))
            assert wait(lambda polls=polls: len(site.requests_for("/feeds/world.rss")) > polls, 30)
    finally:
        assert daemon.stop() == 0, daemon.output()
    assert len(site.requests_for("/robots.txt")) == 1
    assert not site.requests_for("/articles/city-late-winner")


def test_many_sources_on_one_host_do_not_hammer_it(site, workdir):
    names = [f"slow{i}" for i in range(6)]
    workdir.write_config(
        sources=[site.url(f"/slow?seconds=0.4&n={n}") for n in names],
        crawl={"per_host": 2, "delay": "0s"},
    )
    result = workdir.newswatch("crawl")
    assert "6 source(s): 6 ok" in result.stdout
    assert site.max_in_flight == 2  # the per-host limit, reached but never passed


def test_polls_are_spread_by_jitter(site, workdir):
    workdir.write_config(sources=[
        {"url": site.url(f"/feeds/world.rss?copy={i}"), "every": "10m"} for i in range(8)
    ])
    assert workdir.newswatch("crawl").returncode == 0
    with sqlite3.connect(workdir.database) as db:
        rows = db.execute("SELECT next_due FROM sources").fetchall()
    dues = sorted(datetime.fromisoformat(r[0]) for r in rows)
    assert len(set(dues)) > 1  # not all in the same second
    assert dues[-1] - dues[0] <= timedelta(seconds=61)  # jitter ≤ 10 % of 10 min, at most 60 s


def test_a_proxy_that_fails_is_named(site, workdir):
    """A proxy of the environment (http_proxy) that refused the connection read as the
    site's failure: the operator checked a site that was up (a review)."""
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    feed = site.url("/feeds/world.rss")
    workdir.write_config(sources=[feed], crawl={"retries": 0})
    result = workdir.newswatch("crawl", http_proxy=f"http://user:secret@127.0.0.1:{port}",
                               no_proxy="")
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stdout.splitlines() if line.startswith("  failed:")]
    assert line.endswith(f"(through the proxy 127.0.0.1:{port})"), line
    assert "secret" not in result.stdout
    assert not site.requests_for("/feeds/world.rss")


def test_a_407_of_a_proxy_is_the_proxys(site, workdir):
    """The site as a proxy that asks for credentials: "HTTP 407" read as the site's."""
    from urllib.parse import urlsplit

    feed = site.url("/feeds/world.rss")
    site.set_status("/feeds/world.rss", 407)
    proxy = urlsplit(site.base_url).netloc
    workdir.write_config(sources=["http://news.invalid/feeds/world.rss"])
    result = workdir.newswatch("crawl", http_proxy=f"http://{proxy}", no_proxy="")
    assert (f"failed: http://news.invalid/feeds/world.rss: HTTP 407 (through the proxy {proxy})"
            ) in result.stdout, result.stdout
    workdir.write_config(sources=[feed])  # without a proxy, the site's own 407
    assert f"failed: {feed}: HTTP 407\n" in workdir.newswatch("crawl").stdout


def test_a_source_answering_410_for_a_few_minutes_is_polled_again(site, mail, workdir):
    """A CDN's purge or a deploy had the feed answer 410 Gone for a few minutes: the source
    was deactivated at that one answer, the story it listed next never stored, never
    alerted. A 410 is a failure until it lasts (crawler.spider.GONE_AFTER)."""
    now = datetime.now(UTC).replace(microsecond=0)
    site.publish(replace(STORIES_BY_SLUG["city-late-winner"], published=now - timedelta(hours=2)))
    feed = site.url("/feeds/world.rss")
    topic = {"name": "Maduro", "query": "Maduro", "notify": ["desk@test.example"]}
    workdir.write_config(sources=[feed], topics=[topic], smtp=mail)
    assert "1 new article(s)" in workdir.newswatch("crawl").stdout
    site.set_status("/feeds/world.rss", 410)
    gone = workdir.newswatch("crawl")
    assert f"failed: {feed}: HTTP 410 Gone" in gone.stdout, gone.stdout
    status = workdir.newswatch("status").stdout
    assert "DEACTIVATED" not in status and "last error: HTTP 410 Gone" in status, status
    site.clear_status("/feeds/world.rss")
    site.publish(replace(STORIES_BY_SLUG["venezuela-opposition-leader"], published=now))
    back = workdir.newswatch("crawl")
    assert "polled 1 source(s): 1 ok, 0 failed; 1 new article(s)" in back.stdout, back.stdout
    [message] = mail.wait_for(1)
    assert "Maduro" in message["Subject"]
    row = source_row(workdir, feed)
    assert (row["active"], row["gone_since"], row["gone_polls"]) == (1, None, 0)


@pytest.mark.parametrize("kind", [None, "feed", "sitemap", "page"])
def test_an_empty_answer_is_said_to_be_one(site, workdir, kind):
    """A server answering 200 with nothing in it (a CMS's cache emptied, a PHP error that
    printed nothing): the source failed with "not a feed, sitemap or web page (unknown
    content)", which sent its owner looking at what the feed holds."""
    empty = site.serve("/feeds/empty.rss", b"")
    workdir.write_config(sources=[{"url": empty, "kind": kind} if kind else empty])
    result = workdir.newswatch("crawl")
    line = f"failed: {empty}: HTTP 200 with an empty body: the server sent nothing to read"
    assert line in result.stdout, result.stdout
    status = workdir.newswatch("status").stdout
    assert "last error: HTTP 200 with an empty body" in status, status


def test_a_redirect_loop_is_said_to_be_one(site, workdir):
    """A source redirecting to itself (a CDN rule sending http to https and back), or on and
    on: its error was Scrapy's "IgnoreRequest: max redirections reached"."""
    loop = site.serve("/feeds/loop.rss", b"", status=301, headers={"Location": "/feeds/loop.rss"})
    for n in range(1, 8):  # a chain of 7 redirects, to a feed
        site.serve(f"/r/{n}", b"", status=302,
                   headers={"Location": f"/r/{n + 1}" if n < 7 else "/feeds/world.rss"})
    chain = site.url("/r/1")
    workdir.write_config(sources=[loop, chain])
    result = workdir.newswatch("crawl")
    said = {url: f"failed: {url}: {why}" for url, why in (
        (loop, f"it redirects in a loop (back to {loop} after 5 redirects)"),
        (chain, f"it redirects more than 5 times (the last from {site.url('/r/6')})"),
    )}
    for line in said.values():
        assert line in result.stdout, result.stdout
    status = workdir.newswatch("status").stdout
    assert f"last error: it redirects in a loop (back to {loop}" in status, status


def test_a_redirect_to_an_address_no_crawl_can_request_is_said_and_not_followed(site, workdir):
    """A redirect to another scheme that Scrapy makes no request of (``mailto:``,
    ``javascript:``) or to an address it cannot make one of (a broken IPv6 literal, a port
    out of range): the source's error was Scrapy's "ValueError: Missing scheme in request
    url", and an article page so redirected was unavailable for now, asked again at three
    polls before its feed's summary was kept."""
    mailto = site.serve("/feeds/mailto.rss", b"", status=302,
                        headers={"Location": "mailto:desk@example.org"})
    port = site.serve("/feeds/port.rss", b"", status=301,
                      headers={"Location": "http://127.0.0.1:99999/feed"})
    site.serve("/articles/scripted", b"", status=302, headers={"Location": "javascript:void(0)"})
    feed = site.serve("/feeds/scripted.rss", (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        f'<item><title>Maduro speaks</title><link>{site.url("/articles/scripted")}</link>'
        "<description>The speech in brief.</description></item></channel></rss>").encode())
    workdir.write_config(sources=[mailto, port, feed])
    result = workdir.newswatch("crawl")
    for url, said in ((mailto, "HTTP 302: redirect to mailto:desk@example.org"),
                      (port, "HTTP 301: redirect to http://127.0.0.1:99999/feed")):
        assert f"failed: {url}: {said} not followed" in result.stdout, result.stdout
    assert "unavailable for now" not in result.stdout, result.stdout
    assert "1 new article(s)" in result.stdout, result.stdout
    assert "redirect to javascript:void(0) not followed" in workdir.newswatch("export").stdout
