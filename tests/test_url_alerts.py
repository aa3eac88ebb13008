"""End to end (`newswatch crawl`, the local news site, a real SMTP server): articles whose
addresses differ only in a parameter old cleaners broke (``&sectionid=``, a valueless
``?/site/article/N/``) are stored, linked and alerted one by one; feed items without a link
are articles of their own; feed titles reach the subject with their entities decoded."""

from __future__ import annotations

import json
import random
import time
import unicodedata
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from functools import partial
from html import escape
from pathlib import Path
from string import Template
from urllib.parse import quote, urlsplit

import pytest
from newssite import STORIES_BY_SLUG, sample_story
from test_end_to_end import export, parts

from crawler.feeds import parse_feed
from storage import open_store

TOPIC = {"name": "Harbour", "query": "harbour", "notify": ["desk@test.example"]}
OUTAGES = {"name": "Outages", "query": "outage OR degraded", "notify": ["ops@test.example"]}


WORDS = [
    "council", "budget", "river", "bridge", "school", "ferry", "tide", "crane", "dock", "museum",
    "pilot", "shift", "timetable", "spring", "flood", "basin", "dredging", "berth", "cargo",
    "container", "storm", "wall", "lighthouse", "quay", "fishermen", "market", "tourists",
    "festival", "engineers", "contract", "tender", "union", "wages", "schedule", "passengers",
    "winter", "repairs", "salt", "channel", "survey", "mayor", "residents", "traffic", "noise",
    "warehouse", "tugboat",
]


def body_of(title: str) -> str:
    """Paragraphs of their own for each title (near-duplicate texts would be one story)."""
    rng = random.Random(title)
    return "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(40)).capitalize() + ".</p>"
        for _ in range(4)
    )


def article_page(title: str, canonical: str) -> bytes:
    """An article page declaring its canonical URL (escaped, as HTML requires)."""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(title)}</title>
<link rel="canonical" href="{escape(canonical)}"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>{escape(title)}</h1><p>The harbour authority confirmed on Monday: {escape(title.lower())}.</p>
{body_of(title)}</article>
<footer>Copyright The Test Gazette</footer></body></html>""".encode()


def rss(site, items: list[str], link: str | None = "/") -> bytes:
    channel_link = f"<link>{site.url(link)}</link>" if link else ""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>The Test Gazette</title>{channel_link}
<description>News</description>{"".join(items)}</channel></rss>""".encode()


def item(title: str, link: str | None, guid: str | None = None, description: str = "") -> str:
    when = format_datetime(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1), usegmt=True)
    link_xml = f"<link>{escape(link)}</link>" if link else ""
    guid_xml = f'<guid isPermaLink="false">{escape(guid)}</guid>' if guid else ""
    return (f"<item><title>{escape(title)}</title>{link_xml}{guid_xml}"
            f"<description>{escape(description)}</description><pubDate>{when}</pubDate></item>")


def links_in(message: EmailMessage) -> list[str]:
    _, html = parts(message)
    return [chunk.split('"', 1)[0].replace("&amp;", "&") for chunk in html.split('href="')[1:]]


def test_articles_told_apart_by_entity_like_and_valueless_parameters(site, mail, workdir):
    pages = {
        "/detail.aspx?id=1&sectionid=2": "Harbour dredging starts in the north basin",
        "/detail.aspx?id=2&sectionid=2": "Harbour pilots strike over night shifts",
        "/index.php?/site/article/1/": "Harbour museum reopens after the flood",
        "/index.php?/site/article/2/": "Harbour ferry timetable changes in spring",
    }
    for target, title in pages.items():
        site.serve(target, article_page(title, site.url(target)),
                   content_type="text/html; charset=utf-8")
    # The feed escapes "&" as XML requires; the last link also carries a tracker (which
    # the site ignores, like any site: the page is the same).
    links = [site.url(t) for t in pages]
    links[3] += "&utm_source=rss"
    last = list(pages)[3]
    site.serve(last + "&utm_source=rss", article_page(pages[last], site.url(last)),
               content_type="text/html; charset=utf-8")
    feed = site.serve("/gazette.rss", rss(site, [item(t, u) for t, u in zip(pages.values(), links, strict=True)]))
    workdir.write_config(sources=[feed], topics=[TOPIC], smtp=mail)

    first = workdir.newswatch("crawl")
    assert first.returncode == 0, first.stderr
    assert "4 new article(s)" in first.stdout
    [message] = mail.wait_for(1)
    fetched = [*list(pages)[:3], last + "&utm_source=rss"]
    for target in fetched:  # each page fetched once, at its exact address
        assert [r.status for r in site.requests_for(target)] == [200]
    stored = {a["url"]: a for a in export(workdir)}
    assert set(stored) == {site.url(t) for t in pages}
    for target, title in pages.items():
        article = stored[site.url(target)]
        assert article["title"] == title
        assert article["extraction"].startswith("page:")  # read from the page, not the feed
        assert "harbour authority confirmed" in article["text"]
        assert article["topics"] == ["Harbour"]
    # Each article is in the email, and its links open its own page.
    mailed = {link for link in links_in(message) if link.startswith(site.base_url)}
    assert mailed == {site.url(t) for t in pages}
    text, _ = parts(message)
    flat = " ".join(text.replace("*", "").split())
    assert "found 4 new stories" in flat
    for title in pages.values():
        assert flat.count(title) == 1
    again = workdir.newswatch("crawl")
    assert again.returncode == 0, again.stderr
    assert "0 new article(s)" in again.stdout and "delivered 0 email(s)" in again.stdout
    assert len(mail.messages) == 1
    for target in fetched:  # known: not fetched again
        assert len(site.requests_for(target)) == 1
    for link in mailed:
        with urllib.request.urlopen(link, timeout=10) as response:
            assert f"<h1>{escape(pages[link.removeprefix(site.base_url)])}</h1>" in response.read().decode()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("?cmp=rss", ""),  # CBC's feed, and its home page's link
        ("?ref=rss", "?xtor=RSS-3208"),  # derStandard's, Le Monde's
        ("?feedType=RSS&feedName=topNews", "?at_medium=RSS&at_campaign=KARANGA"),  # Reuters, BBC
        # A Java site's links carry a session id, another at each visit without cookies.
        (";jsessionid=51A2C4E2B1", ";jsessionid=77B1AA0244"),
        # osCommerce's, phpBB's (a review of old sites: each poll stored a copy).
        ("?osCsid=0bc715aa9e0c3b1e2f2d2a2f1c2b3a4d", "?osCsid=9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"),
        ("?sid=0bc715aa9e0c3b1e2f2d2a2f1c2b3a4d", "?sid=9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"),
    ],
)
def test_a_brief_under_two_tracking_addresses_is_one_article_and_one_email(
    site, mail, workdir, first, second
):
    # Two feeds (or two polls) link one brief with different trackers: each address was an
    # article of its own, and a brief too short to be compared as a story was mailed twice.
    page = "/news/harbour-closed.html"
    title = "Harbour closed tonight"
    brief = (f"<!DOCTYPE html><html><head><title>{title}</title></head><body><article>"
             f"<h1>{title}</h1><p>The harbour closes tonight for repairs to the north wall, "
             "the port authority said.</p></article></body></html>").encode()
    feeds = []
    for n, tracker in enumerate((first, second)):
        site.serve(page + tracker, brief, content_type="text/html; charset=utf-8")
        feeds.append(site.serve(f"/feed{n}.rss", rss(site, [item(title, site.url(page + tracker))])))
    workdir.write_config(sources=feeds, topics=[TOPIC], smtp=mail)
    for _ in range(2):
        result = workdir.newswatch("crawl")
        assert result.returncode == 0, result.stderr
    assert [a["url"] for a in export(workdir)] == [site.url(page)]
    [message] = mail.wait_for(1)
    assert site.url(page) in links_in(message)
    time.sleep(0.5)  # a second email would be on its way by now
    assert len(mail.messages) == 1


def test_an_item_dated_at_the_epoch_is_new_not_fifty_years_old(site, mail, workdir):
    # A CMS without a date for an item writes the Unix epoch (a real feed: Tails'): the item
    # was stored as published in 1970, outside alerts.lookback, and never alerted. Undated,
    # it is what the feed already had on its first poll (stored, not alerted: a whole
    # back catalogue of them did alert), and news on a later poll.
    def epoch_item(title: str, path: str) -> str:
        site.serve(path, article_page(title, site.url(path)),
                   content_type="text/html; charset=utf-8")
        written = item(title, site.url(path))
        return written.replace(written.split("<pubDate>")[1].split("</pubDate>")[0],
                               "Thu, 01 Jan 1970 00:00:00 +0000")

    old = epoch_item("Harbour pilots strike over rotas last spring", "/pilots-spring")
    feed = site.serve("/epoch.rss", rss(site, [old]))
    workdir.write_config(sources=[feed], topics=[TOPIC], smtp=mail)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert mail.messages == []  # the crawl ends once its alerts are sent
    title = "Harbour pilots strike tonight"
    site.serve("/epoch.rss", rss(site, [epoch_item(title, "/pilots"), old]))
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    [message] = mail.wait_for(1)
    assert title in message["Subject"]
    assert all(stored["published"] is None or not stored["published"].startswith("1970")
               for stored in export(workdir))


def test_a_feed_with_raw_ampersands_keeps_its_links(site, mail, workdir):
    targets = ["/news.php?id=7&copy=1&region=eu", "/news.php?id=7&copy=2&region=eu"]
    titles = ["Harbour wall repaired", "Harbour cranes replaced"]
    for target, title in zip(targets, titles, strict=True):
        site.serve(target, article_page(title, site.url(target)),
                   content_type="text/html; charset=utf-8")
    when = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    raw_items = "".join(  # not well-formed XML: "&" unescaped, as some feeds write it
        f"<item><title>{t}</title><link>{site.url(u)}</link><pubDate>{when}</pubDate></item>"
        for t, u in zip(titles, targets, strict=True)
    )
    body = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Raw</title>
<link>{site.url("/")}</link>{raw_items}</channel></rss>""".encode()
    workdir.write_config(sources=[site.serve("/raw.rss", body)], topics=[TOPIC], smtp=mail)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert {a["url"] for a in export(workdir)} == {site.url(t) for t in targets}
    [message] = mail.wait_for(1)
    assert {link for link in links_in(message) if "news.php" in link} == {
        site.url(t) for t in targets}


def test_a_feed_that_answers_a_page_declaring_the_sites_feed_keeps_its_address(
    site, mail, workdir
):
    """A section feed that answers 200 with a themed maintenance page, whose head declares
    the site's main feed as every page of a WordPress theme does: that feed became the
    source's address for good, the section's later stories never read (a review)."""
    now = datetime.now(UTC).replace(microsecond=0)
    site.create_feed("americas")
    site.publish(replace(STORIES_BY_SLUG["venezuela-opposition-leader"],
                         published=now - timedelta(hours=2)), feed="americas")
    site.publish(replace(STORIES_BY_SLUG["city-late-winner"], published=now - timedelta(hours=1)))
    topic = {"name": "Maduro", "query": "Maduro", "notify": ["desk@test.example"]}
    section = site.serve("/americas/feed/", site.render_feed("americas", "rss") or b"")
    workdir.write_config(sources=[section], topics=[topic], smtp=mail)
    assert "1 new article(s)" in workdir.newswatch("crawl").stdout
    mail.wait_for(1)
    site.serve("/americas/feed/", f"""<!DOCTYPE html><html><head><title>Briefly unavailable
</title><link rel="alternate" type="application/rss+xml" title="Feed"
href="{site.url('/feeds/world.rss')}"></head><body><h1>Briefly unavailable for scheduled
maintenance. Check back in a minute.</h1></body></html>""".encode(),
               content_type="text/html; charset=utf-8")
    during = workdir.newswatch("crawl")
    assert during.returncode == 0, during.stderr
    status = workdir.newswatch("status").stdout
    assert "answered with a web page, not the rss it was" in status, status
    # The section's stories go on after the maintenance, at the section's address.
    site.publish(replace(STORIES_BY_SLUG["maduro-abandona-venezuela"], published=now),
                 feed="americas")
    site.serve("/americas/feed/", site.render_feed("americas", "rss") or b"")
    after = workdir.newswatch("crawl")
    assert after.returncode == 0, after.stderr
    assert "1 new article(s)" in after.stdout, after.stdout
    messages = mail.wait_for(2)
    assert "abandona" in messages[1]["Subject"] or "Maduro" in messages[1]["Subject"]
    assert site.requests_for("/americas/feed/")[-1].status == 200
    listed = workdir.newswatch("sources", "list", "--format", "json").stdout
    assert "/feeds/world.rss" not in listed, listed
    assert len(mail.messages) == 2


def test_a_feed_that_answers_a_web_page_fails_and_its_links_are_not_articles(
    site, mail, workdir
):
    """A feed that answers 200 with an HTML maintenance page: read as the site's home page,
    its links were stored and mailed as new articles, the source said 'ok' and became a
    'page' source (a review)."""
    title = "Harbour master named"
    site.serve("/master", article_page(title, site.url("/master")),
               content_type="text/html; charset=utf-8")
    feed = site.serve("/feed.rss", rss(site, [item(title, site.url("/master"))]))
    workdir.write_config(sources=[feed], topics=[TOPIC], smtp=mail)
    assert workdir.newswatch("crawl").returncode == 0
    mail.wait_for(1)
    links = "".join(f'<li><a href="/news/2026/harbour-closed-{n}.html">Harbour closed for '
                    f"maintenance, part {n}</a></li>" for n in range(6))
    site.serve("/feed.rss", f"<!DOCTYPE html><html><head><title>Maintenance</title></head>"
                            f"<body><h1>Down for maintenance</h1><ul>{links}</ul></body>"
                            "</html>".encode(), content_type="text/html; charset=utf-8")
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "answered with a web page, not the rss it was" in result.stdout + result.stderr
    assert [a["url"] for a in export(workdir)] == [site.url("/master")]
    assert len(mail.messages) == 1
    listed = workdir.newswatch("sources", "list").stdout
    assert "failing 1" in listed and "page" not in listed.replace("web page", ""), listed


def test_a_big_feed_is_read_off_the_event_loop(site, workdir, monkeypatch):
    """A feed of 36,000 items took feedparser 14 s in the event loop's thread: every other
    download in flight timed out, and good sources were said to be slow (a review). A big
    feed is read in a thread (crawler.http.BigFeeds), and its entries are those it has."""
    import asyncio
    import threading

    from scrapy import Request
    from scrapy.http import Response

    import crawler.http

    summary = "Harbour news. " * 1500  # 21 KB an item: 30 items, a 600 KB feed
    items = []
    for n in range(30):
        title = f"Harbour report {n}"
        site.serve(f"/big/{n}", article_page(title, site.url(f"/big/{n}")),
                   content_type="text/html; charset=utf-8")
        items.append(item(title, site.url(f"/big/{n}"), description=summary))
    body = rss(site, items)
    assert len(body) >= crawler.http.BIG_FEED_BYTES
    workdir.write_config(sources=[site.serve("/big.rss", body)])
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "30 new article(s)" in result.stdout, result.stdout

    threads = []

    def parse(*args):
        threads.append(threading.get_ident())
        return parse_feed(*args)

    from crawler.feeds import parse_feed

    monkeypatch.setattr(crawler.http, "parse_feed", parse)
    request = Request(site.url("/big.rss"), cb_kwargs={"source": None})
    answer = Response(site.url("/big.rss"), body=body, request=request,
                      headers={"Content-Type": "application/rss+xml"})
    asyncio.run(crawler.http.BigFeeds().process_response(request, answer))
    assert threads and threads[0] != threading.get_ident()
    assert len(request.meta["parsed_feed"].entries) == 30


def test_feed_items_without_a_link_are_stored_and_alerted_once(site, mail, workdir):
    items = [
        item("Partial outage of the payments API", None, "incident-101",
             "Investigating - Card payments fail for some customers."),
        item("Degraded performance in the EU region", None, "incident-102",
             "Monitoring - Requests are slower than usual."),
        # The same title and no guid: named by its text, still its own article.
        item("Scheduled maintenance", None, None, "Outage window: Sunday 02:00 UTC."),
    ]
    feed = site.serve("/history.rss", rss(site, items, link="/status-page"))
    workdir.write_config(sources=[feed], topics=[OUTAGES], smtp=mail)

    first = workdir.newswatch("crawl")
    assert first.returncode == 0, first.stderr
    assert "3 new article(s)" in first.stdout
    [message] = mail.wait_for(1)
    articles = sorted(export(workdir), key=lambda a: a["title"])
    assert [a["title"] for a in articles] == [
        "Degraded performance in the EU region", "Partial outage of the payments API",
        "Scheduled maintenance"]
    site_url = site.url("/status-page")
    assert articles[0]["url"] == f"{site_url}#incident-102"
    assert articles[1]["url"] == f"{site_url}#incident-101"
    assert articles[2]["url"].startswith(f"{site_url}#item-")
    for article in articles:
        assert article["extraction"] == "feed" and article["topics"] == ["Outages"]
    assert articles[1]["text"] == "Investigating - Card payments fail for some customers."
    text, _ = parts(message)
    flat = " ".join(text.replace("*", "").split())
    for article in articles:
        assert article["title"] in flat and article["url"] in flat
    # No page was fetched for them.
    assert site.requests_for("/status-page") == []

    again = workdir.newswatch("crawl")
    assert again.returncode == 0, again.stderr
    assert "0 new article(s)" in again.stdout and "delivered 0 email(s)" in again.stdout
    assert len(mail.messages) == 1 and len(export(workdir)) == 3


def test_feed_items_sharing_one_page_are_each_an_article(site, mail, workdir):
    # A blog whose posts are anchors of one day page (scripting.com: 50 posts, 7 articles
    # stored), a podcast whose episodes all link to its home page: each item was merged into
    # the first of its page, silently, and the next polls of the unchanged feed "updated" it
    # to another item's title, alerting again.
    day = site.url("/2017/06/24.html")
    items = [
        item("Harbour pilots vote to strike", f"{day}#a100601", "a100601",
             "The harbour pilots voted on Monday to strike over night shifts."),
        item("Ferry timetable for spring", f"{day}#a100602", "a100602",
             "The ferry will sail twice an hour from April."),
        item("Harbour museum reopens", f"{day}#a100603", "a100603",
             "The harbour museum reopened after the flood repairs."),
        item("Episode 62: the lighthouse", site.url("/"), "ep62",
             "We talk about the harbour lighthouse and its keepers."),
        item("Episode 61: the tugboat", site.url("/"), "ep61", "All about tugboats."),
        # One article listed twice (another guid, the same title): still one.
        item("Harbour dredging starts", site.url("/dredging"), "d1", "Dredging starts."),
        item("Harbour dredging starts", site.url("/dredging"), "d2", "Dredging starts."),
    ]
    site.serve("/dredging", article_page("Harbour dredging starts", site.url("/dredging")),
               content_type="text/html; charset=utf-8")
    feed = site.serve("/blog.rss", rss(site, items))
    workdir.write_config(sources=[feed], topics=[TOPIC], smtp=mail)

    first = workdir.newswatch("crawl")
    assert first.returncode == 0, first.stderr
    assert "6 new article(s)" in first.stdout, first.stdout
    stored = {a["title"]: a for a in export(workdir)}
    assert sorted(stored) == sorted({i.split("<title>")[1].split("<")[0] for i in items})
    assert stored["Ferry timetable for spring"]["url"] == f"{day}#a100602"
    assert stored["Ferry timetable for spring"]["text"] == (
        "The ferry will sail twice an hour from April.")
    assert stored["Episode 61: the tugboat"]["url"] == site.url("/") + "#ep61"
    assert stored["Harbour dredging starts"]["extraction"] != "feed"  # its page was read
    assert site.requests_for("/2017/06/24.html") == []
    [message] = mail.wait_for(1)
    assert "4 stories" in message["Subject"], message["Subject"]

    for _ in range(2):
        again = workdir.newswatch("crawl")
        assert again.returncode == 0, again.stderr
        assert "0 new article(s)" in again.stdout and "updated" not in again.stdout
    assert len(mail.messages) == 1 and len(export(workdir)) == 6


@pytest.mark.parametrize("order", ["grows", "shrinks"])
def test_an_item_whose_page_others_come_to_share_or_leave_alerts_once(site, mail, workdir, order):
    # A comment feed (rss2email's Disqus feed): its items link one page, each with its own
    # fragment. An item alone at its page is that page's article; with another, an item of
    # its own (items_of_shared_pages). When a second comment came, the first was stored and
    # mailed again as an item; when one of two left the feed, the other was fetched as the
    # page, new, and mailed again.
    # Every comment has the thread's title: told apart by their dates (the newer comment
    # must not be taken for the older one).
    page = site.url("/2016/who-wants-to-write-code/")
    site.serve("/2016/who-wants-to-write-code/", article_page("Who wants to write code", page),
               content_type="text/html; charset=utf-8")
    title = "Re: Who wants to write harbour code?"
    first = item(title, f"{page}#comment-1", "c1", "I would, for the harbour's tide tables.")
    second = item(title, f"{page}#comment-2", "c2", "Count me in, after the pilots' strike.")
    hour_ago = first.split("<pubDate>")[1].split("</pubDate>")[0]
    second = second.replace(hour_ago, format_datetime(datetime.now(UTC) - timedelta(minutes=5),
                                                      usegmt=True))
    polls = [[first], [second, first]] if order == "grows" else [[second, first], [second]]
    for n, items in enumerate(polls, start=1):
        feed = site.serve("/comments.rss", rss(site, items))
        if n == 1:
            workdir.write_config(sources=[feed], topics=[TOPIC], smtp=mail)
        result = workdir.newswatch("crawl")
        assert result.returncode == 0, result.stderr
    assert len(export(workdir)) == 2
    mailed = [m["Subject"] for m in mail.wait_for(2 if order == "grows" else 1)]
    time.sleep(0.5)  # a further email would be on its way by now
    assert len(mail.messages) == len(mailed), mailed


def test_items_sharing_a_guid_are_each_an_article(site, mail, workdir):
    # Miniflux's cases after its fix for entries sharing one guid: items without a link, or
    # two of three linking one page, all with one guid. All but one were collapsed into the
    # first, silently lost.
    page = site.url("/a")
    site.serve("/a", article_page("Harbour page", page), content_type="text/html; charset=utf-8")
    items = [
        item("Harbour item A", None, "dup-guid", "The harbour's first item."),
        item("Harbour item B", None, "dup-guid", "The harbour's second item."),
        item("Harbour item C", page, "same-guid", "The harbour's third item."),
        item("Harbour item D", page, "same-guid", "The harbour's fourth item."),
    ]
    workdir.write_config(sources=[site.serve("/dup.rss", rss(site, items))], topics=[TOPIC],
                         smtp=mail)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert sorted(a["title"] for a in export(workdir)) == [f"Harbour item {c}" for c in "ABCD"]
    # Polled again, with the newest of each pair gone: nothing new, nothing mailed again.
    site.serve("/dup.rss", rss(site, [items[0], items[2]]))
    again = workdir.newswatch("crawl")
    assert again.returncode == 0, again.stderr
    assert "0 new article(s)" in again.stdout, again.stdout
    assert len(export(workdir)) == 4
    mail.wait_for(1)
    time.sleep(0.5)
    assert len(mail.messages) == 1


def test_items_whose_guid_changes_at_every_poll_are_stored_and_mailed_once(site, mail, workdir):
    # A feed generator that writes each item's guid anew at every request (the request's
    # time, a session token: isPermaLink="false"). Items without a link were named by their
    # guid: each poll stored them all again, filling the archive, `stories` and exports
    # with copies. One with a link is known by its link.
    page = site.url("/notices/ferry")
    site.serve("/notices/ferry", article_page("Harbour ferry notice", page),
               content_type="text/html; charset=utf-8")
    notices = [("Harbour closed to small craft", None, "The harbour master closed the basin."),
               ("Harbour dredging resumes", None, "Dredging of the north basin resumes."),
               ("Harbour ferry notice", page, "The ferry keeps its winter timetable.")]

    items = [item(title, link, f"guid-{n}", text) for n, (title, link, text) in enumerate(notices)]

    def feed(poll: int, edited: str = "") -> bytes:  # each item dated as before
        written = [i.replace(f"guid-{n}", f"{poll}-{n}-{hash((poll, n)) & 0xffff:x}")
                   for n, i in enumerate(items)]
        if edited:
            written[0] = written[0].replace(notices[0][2], edited)
        return rss(site, written)

    source = site.serve("/notices.aspx", feed(1))
    workdir.write_config(sources=[source], topics=[TOPIC], smtp=mail)
    first = workdir.newswatch("crawl")
    assert "3 new article(s)" in first.stdout, first.stdout
    mail.wait_for(1)
    for poll in (2, 3):
        site.serve("/notices.aspx", feed(poll))
        again = workdir.newswatch("crawl")
        assert "0 new article(s)" in again.stdout, again.stdout
    assert len(export(workdir)) == 3
    # Two items of one title and date but another text stay two.
    site.serve("/notices.aspx", rss(site, [
        items[1].replace("guid-1", "stable-1"),
        items[1].replace("guid-1", "stable-2").replace(notices[1][2], "Dredging stops.")]))
    assert "1 new article(s)" in workdir.newswatch("crawl").stdout
    mail.wait_for(2)
    # Its guid written anew and its text edited: still the item that was mailed.
    site.serve("/notices.aspx", feed(5, edited="The harbour master reopened the basin."))
    edited = workdir.newswatch("crawl")
    assert "0 new article(s)" in edited.stdout, edited.stdout
    time.sleep(0.5)  # a further email would be on its way by now
    assert len(mail.messages) == 2 and len(export(workdir)) == 4


def stamped(title: str, guid: str, text: str, when: datetime | None) -> str:
    """A feed item without a link, its guid ``guid`` and its date ``when`` (None: undated)."""
    date = f"<pubDate>{format_datetime(when, usegmt=True)}</pubDate>" if when else ""
    return (f'<item><title>{escape(title)}</title><guid isPermaLink="false">{escape(guid)}'
            f"</guid><description>{escape(text)}</description>{date}</item>")


def test_items_whose_guid_and_date_change_at_every_poll_are_stored_and_mailed_once(
        site, mail, workdir):
    # A feed generator that writes each item without a link anew at every request: a guid
    # of the request's time or a session token, and the request's time as the date of an
    # item it has none for; or no date at all. Not known by its guid, nor by its title and
    # date, each was stored again at every poll, and the dated one mailed again (its copies'
    # dates differ: no story of one date joined them).
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    closed = ("Harbour closed to small craft", "The harbour master closed the basin.")
    dredging = ("Harbour dredging resumes", "Dredging of the north harbour basin resumes.")

    def feed(poll: int, *notices: tuple[str, str], dated: bool = True) -> bytes:
        when = start + timedelta(minutes=poll) if dated else None
        return rss(site, [stamped(title, f"{poll}-{n}", text, when)
                          for n, (title, text) in enumerate(notices)])

    source = site.serve("/notices.aspx", feed(1, closed))
    workdir.write_config(sources=[source], topics=[TOPIC], smtp=mail)
    assert "1 new article(s)" in workdir.newswatch("crawl").stdout
    mail.wait_for(1)
    for poll in (2, 3):
        site.serve("/notices.aspx", feed(poll, closed))
        again = workdir.newswatch("crawl")
        assert "0 new article(s)" in again.stdout, again.stdout
    # Undated: listed first after the source's first poll, it is news once.
    for poll in (4, 5, 6):
        site.serve("/notices.aspx", feed(poll, dredging, dated=False))
        assert f"{int(poll == 4)} new article(s)" in workdir.newswatch("crawl").stdout
    mail.wait_for(2)
    time.sleep(0.5)  # a further email would be on its way by now
    assert len(mail.messages) == 2 and len(export(workdir)) == 2


def test_an_item_stored_in_decomposed_letters_is_known_after_the_upgrade(site, mail, workdir):
    # A link-less item of a feed written in decomposed letters (NFD: a Mac-made feed, a
    # Cyrillic "ё" as "е" and a combining diaeresis), its guid written anew at every poll,
    # stored as versions before 5b24010 stored it, as written: read composed now, it is
    # still known by its title and text, not stored and mailed again.
    title, text = "Harbour ferry: паром отменён", "The harbour ferry (паром) is cancelled."
    nfd = [unicodedata.normalize("NFD", part) for part in (title, text)]

    def feed(poll: int) -> bytes:  # undated: its title and text are what it is known by
        return rss(site, [stamped(*nfd, f"{poll}-0", None)])

    source = site.serve("/notices.aspx", rss(site, []))
    workdir.write_config(sources=[source], topics=[TOPIC], smtp=mail)
    assert workdir.newswatch("crawl").returncode == 0
    site.serve("/notices.aspx", feed(1))
    assert "1 new article(s)" in workdir.newswatch("crawl").stdout
    mail.wait_for(1)
    with open_store(workdir.database) as store:  # as the version before stored it
        assert store.db.execute("UPDATE articles SET title = ?, text = ?", nfd).rowcount == 1
        store.db.conn.commit()
    with open_store(workdir.database) as store:
        assert [tuple(row) for row in store.db.execute("SELECT title, text FROM articles")] \
            == [tuple(nfd)]
    site.serve("/notices.aspx", feed(2))
    again = workdir.newswatch("crawl")
    assert "0 new article(s)" in again.stdout, again.stdout
    time.sleep(0.5)  # a further email would be on its way by now
    assert len(mail.messages) == 1 and len(export(workdir)) == 1


def test_an_items_new_text_under_its_title_is_news_whatever_its_guid(site, mail, workdir):
    # The same generator's daily item ("Morning briefing": one title, each day's text),
    # dated with the request's time: each day's text is stored and mailed, once. So is an
    # item's text edited under its title (one more email); two items listed together under
    # one title, each with its text, stay two.
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    days = ["Harbour: the ferries keep their winter timetable.",
            "Harbour: fog closes the north basin to small craft.",
            "Harbour: the dredger returns to the south quay."]

    def feed(poll: int, *texts: str) -> bytes:
        return rss(site, [stamped("Morning briefing", f"{poll}-{n}", text,
                                  start + timedelta(minutes=poll))
                          for n, text in enumerate(texts)])

    source = site.serve("/briefing.aspx", feed(1, days[0]))
    workdir.write_config(sources=[source], topics=[TOPIC], smtp=mail)
    for poll, texts, new in [(1, days[:1], 1), (2, days[:1], 0), (3, days[1:2], 1),
                             (4, days[1:], 1), (5, days[1:], 0)]:
        site.serve("/briefing.aspx", feed(poll, *texts))
        crawled = workdir.newswatch("crawl")
        assert f"{new} new article(s)" in crawled.stdout, (poll, crawled.stdout)
    mail.wait_for(3)
    time.sleep(0.5)  # a further email would be on its way by now
    assert len(mail.messages) == 3
    assert sorted(a["text"] for a in export(workdir)) == sorted(days)


def test_an_empty_link_is_no_link_not_the_feed_itself(site, mail, workdir):
    # <link href=""/> resolves to the feed document: the feed was fetched as the item's page
    # and its whole text (every other post's) stored as the item's.
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    post = site.url("/?p=14848")
    atom = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>One Foot</title><id>{site.url("/")}</id>
<updated>{when.isoformat()}</updated><link href="{site.url("/")}"/>
<entry><title>Link: the harbour dolphins</title><link href=""/><id>{post}</id>
<updated>{when.isoformat()}</updated><summary>The harbour dolphins are back.</summary></entry>
<entry><title>Tugboat race</title><link href="{site.url("/tugboats")}"/><id>t1</id>
<updated>{when.isoformat()}</updated><summary>A race of tugboats in the harbour.</summary>
</entry></feed>""".encode()
    feed = site.serve("/wp-atom.php", atom, content_type="application/atom+xml")
    site.serve("/?p=14848", article_page("Link: the harbour dolphins", post),
               content_type="text/html; charset=utf-8")
    site.serve("/tugboats", article_page("Tugboat race", site.url("/tugboats")),
               content_type="text/html; charset=utf-8")
    workdir.write_config(sources=[feed], topics=[TOPIC], smtp=mail)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "2 new article(s)" in result.stdout
    stored = {a["title"]: a for a in export(workdir)}
    assert stored["Link: the harbour dolphins"]["url"] == post
    assert "Tugboat" not in stored["Link: the harbour dolphins"]["text"]
    assert len(site.requests_for("/wp-atom.php")) == 1  # polled, never read as a page


@pytest.mark.parametrize(
    ("codec", "title"),
    [("koi8-r", "Как пережить новогоднюю ночь в порту"),
     ("shift_jis", "港の新しいフェリーが運航を開始しました"),
     ("euc-kr", "항구의 새 페리가 운항을 시작했습니다")],
)
def test_a_feed_in_a_legacy_encoding_it_does_not_declare_is_read(site, mail, workdir, codec,
                                                                  title):
    # Without an encoding in the XML declaration or the Content-Type, such a feed was read
    # as windows-1252: mojibake titles, and no topic in its language ever matched.
    body = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Gazette</title>'
            f"<link>{site.url('/')}</link>{item(title, None, 'x1', title)}</channel></rss>")
    feed = site.serve("/legacy.rss", body.encode(codec), content_type="application/rss+xml")
    word = title.split()[1] if " " in title else title[:3]
    topic = {"name": "Legacy", "query": f'"{word}"' if " " in title else title[:5] + "*",
             "notify": ["desk@test.example"]}
    workdir.write_config(sources=[feed], topics=[topic], smtp=mail)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    [stored] = export(workdir)
    assert stored["title"] == title
    assert stored["topics"] == ["Legacy"]


def test_plain_text_titles_are_kept_as_written(site, mail, workdir):
    # Every title was read as HTML: "Ernst & Young <EY>" lost its "<EY>", "Vector<T>" its
    # "<T>", "Hot&not" became "Hot¬", and a topic on those words never matched. A title with
    # markup (feedparser tells which) is still reduced to its text.
    titles = ["Ernst & Young <EY> buys the harbour", "Vector<T> vs List<T> at the harbour",
              "Hot&not: the harbour week", "<b>Breaking:</b> harbour closed"]
    items = [item(t, None, f"g{i}", f"Item {i} about the harbour.")
             for i, t in enumerate(titles)]
    feed = site.serve("/titles.rss", rss(site, items))
    topic = {"name": "EY", "query": "title:EY", "notify": ["desk@test.example"]}
    workdir.write_config(sources=[feed], topics=[topic], smtp=mail)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    stored = sorted(a["title"] for a in export(workdir))
    assert stored == sorted([*titles[:3], "Breaking: harbour closed"])
    [message] = mail.wait_for(1)
    assert "Ernst & Young <EY> buys the harbour" in message["Subject"]


def test_a_gzip_feed_without_content_encoding_is_read(site, mail, workdir):
    # A feed.xml.gz (served as application/x-gzip, no Content-Encoding) was taken for a
    # feed by its first bytes, gunzipped, then parsed compressed: "not a feed".
    import gzip

    body = rss(site, [item("Harbour reopens", None, "g1", "The harbour reopened.")])
    feed = site.serve("/feed.xml.gz", gzip.compress(body), content_type="application/x-gzip")
    workdir.write_config(sources=[feed], topics=[TOPIC], smtp=mail)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "1 ok" in result.stdout and "1 new article(s)" in result.stdout
    assert len(mail.wait_for(1)) == 1


def test_a_gzip_feed_is_inflated_up_to_crawl_max_size(site, workdir):
    """A gzip feed without Content-Encoding was inflated up to 50 MB (a sitemap's limit)
    whatever crawl.max_size said: a 1.8 MB download became 34 MB, a minute of feedparser
    at every poll (a review)."""
    import gzip

    summary = "The harbour reopened after the storm. " * 500
    body = rss(site, [item(f"Harbour {n}", None, f"g{n}", summary) for n in range(120)])
    assert len(body) > 2 * 2**20 and len(gzip.compress(body)) < 2**20
    feed = site.serve("/big.xml.gz", gzip.compress(body), content_type="application/x-gzip")
    workdir.write_config(sources=[feed], crawl={"max_size": "1MiB"})
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "the body, decompressed, is larger than crawl.max_size (1,048,576 bytes)" in (
        result.stdout + result.stderr), result.stdout


@pytest.mark.parametrize("content_type", ["application/rss+xml", "text/html; charset=UTF-8"])
def test_a_feed_after_a_server_warning_is_read(site, mail, workdir, content_type):
    # A PHP warning printed before the feed (a WordPress plugin's "headers already sent"):
    # the source failed as "not a feed, sitemap or web page", every poll, until it was fixed.
    warning = (b"<br />\n<b>Warning</b>:  Cannot modify header information - headers already"
               b" sent by (output started at /var/www/wp-config.php:1) in <b>/var/www/"
               b"wp-includes/feed-rss2.php</b> on line <b>8</b><br />\n")
    body = warning + rss(site, [item("Harbour reopens", None, "g1", "The harbour reopened.")])
    feed = site.serve("/feed/", body, content_type=content_type)
    workdir.write_config(sources=[feed], topics=[TOPIC], smtp=mail)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "1 ok" in result.stdout and "1 new article(s)" in result.stdout
    assert len(mail.wait_for(1)) == 1


def test_json_feed_titles_and_linkless_items_reach_the_inbox_decoded(site, mail, workdir):
    now = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0).isoformat()
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Release notes &amp; incidents",
        "items": [
            {"id": "rel-8216", "title": "Releasing &#8216;Jokes&#8217; &amp; an outage fix",
             "content_text": "The outage fix ships today.", "date_published": now},
        ],
    }
    feed = site.serve("/notes.json", json.dumps(doc).encode(), content_type="application/feed+json")
    workdir.write_config(sources=[feed], topics=[OUTAGES], smtp=mail)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    [message] = mail.wait_for(1)
    assert "Releasing \u2018Jokes\u2019 & an outage fix" in message["Subject"]
    assert "&#8216;" not in message["Subject"] and "&amp;" not in message["Subject"]
    [article] = export(workdir)
    # No home_page_url: the item is at the feed's site.
    assert article["url"] == site.url("/") + "#rel-8216"
    assert article["title"] == "Releasing \u2018Jokes\u2019 & an outage fix"


def test_an_item_read_with_its_link_at_last_is_not_stored_and_mailed_again(site, mail, workdir):
    # Entries whose id came before their link (YouTube's, GitHub's, Reddit's) were stored as
    # items without a link (the feed's site + #id); read with their link now, each would be
    # a new article, mailed again. An item stored at its guid's address with the same title
    # and date is that item.
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    page = site.url("/watch?v=dQw4w9WgXcQ")
    site.serve("/watch?v=dQw4w9WgXcQ", article_page("Harbour video", page),
               content_type="text/html; charset=utf-8")

    def feed(link: str) -> bytes:
        return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Channel</title><link href="{site.url("/")}"/>
<entry><id>yt:video:dQw4w9WgXcQ</id><title>Harbour video</title>{link}
<published>{when.isoformat()}</published><summary>The harbour at dawn.</summary></entry>
</feed>""".encode()

    source = site.serve("/videos.xml", feed(""), content_type="application/atom+xml")
    workdir.write_config(sources=[source], topics=[TOPIC], smtp=mail)
    assert "1 new article(s)" in workdir.newswatch("crawl").stdout
    [first] = export(workdir)
    assert first["url"] == site.url("/#yt:video:dQw4w9WgXcQ")
    mail.wait_for(1)
    site.serve("/videos.xml", feed(f'<link rel="alternate" href="{page}"/>'),
               content_type="application/atom+xml")
    again = workdir.newswatch("crawl")
    assert "0 new article(s)" in again.stdout, again.stdout
    assert len(export(workdir)) == 1 and site.requests_for("/watch") == []
    time.sleep(0.5)
    assert len(mail.messages) == 1


def test_an_item_stored_by_its_guid_is_known_by_it_whatever_date_it_had(site, mail, workdir):
    # Stored by its guid when its link was not read (a version that took the guid before the
    # link for the link), dated as that version read "2026-12-06 09:34:00 UTC" (midnight):
    # read now with its link and its real time, the alias by title and date missed it, and
    # it was mailed again. Its guid's address with its title is enough.
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    page = site.url("/posts/1")
    site.serve("/posts/1", article_page("Harbour vote", page), content_type="text/html")

    def feed(link: str, date: datetime) -> bytes:
        return rss(site, [f"<item><guid isPermaLink=\"false\">post-1</guid><title>Harbour vote"
                          f"</title>{link}<pubDate>{format_datetime(date)}</pubDate>"
                          "<description>The harbour vote.</description></item>"])

    source = site.serve("/blog.rss", feed("", when - timedelta(hours=5)))
    workdir.write_config(sources=[source], topics=[TOPIC], smtp=mail)
    assert "1 new article(s)" in workdir.newswatch("crawl").stdout
    mail.wait_for(1)
    site.serve("/blog.rss", feed(f"<link>{page}</link>", when))
    again = workdir.newswatch("crawl")
    assert "0 new article(s)" in again.stdout, again.stdout
    time.sleep(0.5)
    assert len(export(workdir)) == 1 and len(mail.messages) == 1


def wordpress_post(title: str, link: str, guid: str = "https://gazette.example/?p=14848", *,
                   when: datetime) -> str:
    """An item of a WordPress feed: its guid the post's ``?p=`` address, not its link."""
    return (f"<item><title>{escape(title)}</title><link>{link}</link>"
            f'<guid isPermaLink="false">{guid}</guid><pubDate>{format_datetime(when)}'
            f"</pubDate><description>{escape(title)}.</description></item>")


def test_an_item_whose_slug_is_edited_with_its_headline_is_updated_not_mailed_again(
        site, mail, workdir):
    # A WordPress post (guid ?p=14848, isPermaLink="false") published as a breaking line
    # under /harbour-closed, then rewritten with its headline, and its slug with it: its old
    # address redirects to the new one, its guid and date stay. The new address was a new
    # article of another text, another story: mailed again.
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    old, new = site.url("/2026/12/07/harbour-closed"), site.url("/2026/12/07/ferry-collision")
    versions = [("BREAKING: Harbour closed", old), ("Ferry and cargo ship collide in harbour", new)]

    post = partial(wordpress_post, when=when)

    site.serve(urlsplit(old).path, article_page(*versions[0]), content_type="text/html")
    source = site.serve("/feed.rss", rss(site, [post(*versions[0])]))
    workdir.write_config(sources=[source], topics=[TOPIC], smtp=mail)
    assert "1 new article(s)" in workdir.newswatch("crawl").stdout
    mail.wait_for(1)
    site.serve(urlsplit(new).path, article_page(*versions[1]), content_type="text/html")
    site.serve(urlsplit(old).path, b"", status=301, headers={"Location": new})
    site.serve("/feed.rss", rss(site, [post(*versions[1])]))
    edited = workdir.newswatch("crawl")
    assert "0 new article(s), 1 updated" in edited.stdout, edited.stdout
    assert "0 email(s) queued" in edited.stdout, edited.stdout
    assert [(a["title"], a["url"]) for a in export(workdir)] == [(versions[1][0], old)]
    # Listed so from then on: known. Another post of that date is news.
    site.serve("/feed.rss", rss(site, [post(*versions[1]),
                                       post("Harbour tugboats strike", site.url("/tugs"), "p2")]))
    site.serve("/tugs", article_page("Harbour tugboats strike", site.url("/tugs")),
               content_type="text/html")
    later = workdir.newswatch("crawl")
    assert "1 new article(s)" in later.stdout and "1 email(s) queued" in later.stdout, later.stdout
    assert len(mail.wait_for(2)) == 2


def test_guids_numbering_a_feeds_items_by_their_place_name_no_stored_article(
        site, mail, workdir):
    # A CMS that numbers its items' guids by their place in the list (1, 2, 3...) and dates
    # them all with the day: a new item on top takes the guid and date of the item before
    # it, still listed below. It is news, not that item retitled.
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    titles = ["Harbour ferry timetable changes", "Harbour dredging resumes",
              "Harbour tugboats strike"]
    for n, title in enumerate(titles):
        site.serve(f"/n/{n}", article_page(title, site.url(f"/n/{n}")), content_type="text/html")

    def feed(*numbers: int) -> bytes:
        return rss(site, [f"<item><title>{titles[n]}</title><link>{site.url(f'/n/{n}')}</link>"
                          f'<guid isPermaLink="false">{place}</guid><pubDate>'
                          f"{format_datetime(day)}</pubDate></item>"
                          for place, n in enumerate(numbers, 1)])

    source = site.serve("/news.rss", feed(1, 0))
    workdir.write_config(sources=[source], topics=[TOPIC], smtp=mail)
    assert "2 new article(s)" in workdir.newswatch("crawl").stdout
    site.serve("/news.rss", feed(2, 1, 0))
    later = workdir.newswatch("crawl")
    assert "1 new article(s)" in later.stdout and "1 email(s) queued" in later.stdout, later.stdout
    assert sorted(a["title"] for a in export(workdir)) == sorted(titles)
    assert len(mail.wait_for(2)) == 2


def test_a_page_deferred_under_feedburners_link_is_not_read_again_under_it(site, mail, workdir):
    # Deferred under its proxy link (feedproxy.google.com, gone since 2022), the item was
    # then read at its origLink and mailed; the deferred entry, asked again until its
    # attempts were spent, was kept with its summary and mailed a second time.
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    page, proxy = site.url("/fb/story.html"), site.url("/~r/Blog/~3/abc1/story.html")
    site.serve("/fb/story.html", article_page("Harbour ferry", page), content_type="text/html")
    site.serve("/~r/Blog/~3/abc1/story.html", b"busy", status=503, content_type="text/html")

    def feed(origin: str) -> bytes:
        body = rss(site, [f"<item><title>Harbour ferry</title><link>{proxy}</link>{origin}"
                          f"<guid>{proxy}</guid><pubDate>{format_datetime(when)}</pubDate>"
                          "<description>The harbour ferry.</description></item>"])
        return body.replace(b'<rss version="2.0">', b'<rss version="2.0" xmlns:feedburner='
                            b'"http://rssnamespace.org/feedburner/ext/1.0">')

    source = site.serve("/feed.rss", feed(""))
    workdir.write_config(sources=[source], topics=[TOPIC], smtp=mail)
    assert "0 new article(s)" in workdir.newswatch("crawl").stdout  # deferred: 503
    site.serve("/feed.rss", feed(f"<feedburner:origLink>{page}</feedburner:origLink>"))
    outputs = [workdir.newswatch("crawl").stdout for _ in range(4)]
    assert "1 new article(s)" in outputs[0], outputs
    assert [row["url"] for row in export(workdir)] == [page]
    time.sleep(0.5)
    assert len(mail.wait_for(1)) == 1
    assert "unavailable" not in workdir.newswatch("status").stdout


def reddit_post(comments: str, shared: str, title: str, when: datetime) -> str:
    """An entry of a subreddit's Atom feed as Reddit writes it: linked to its comments page,
    the page it shares named "[link]" in its description."""
    description = escape(
        '<table> <tr><td> &#32; submitted by &#32; <a href="https://www.reddit.com/user/'
        f'lakewatcher"> /u/lakewatcher </a> <br/> <span><a href="{shared}">[link]</a></span>'
        f' &#32; <span><a href="{comments}">[comments]</a></span> </td></tr></table>')
    return (f"<entry><author><name>/u/lakewatcher</name></author>"
            f'<content type="html">{description}</content><id>t3_{comments.split("/")[6]}</id>'
            f'<link href="{comments}" /><updated>{when.isoformat()}</updated>'
            f"<published>{when.isoformat()}</published><title>{escape(title)}</title></entry>")


def test_a_reddit_post_is_the_article_it_shares_not_its_comments_page(site, mail, workdir):
    # Through `crawl`: a subreddit's post links to its comments page, read as the article
    # (the commenters' words, or Reddit's 403 to servers) with "submitted by /u/... [link]
    # [comments]" as its text; the article it shares, in its publisher's feed too, was a
    # second story in the email. A text post is its comments page.
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    page = site.url("/world/harbour-ferry")
    site.serve("/world/harbour-ferry", article_page("Harbour ferry sinks at berth", page),
               content_type="text/html")
    comments = "https://www.reddit.com/r/worldnews/comments/1hy2abc/harbour_ferry_sinks/"
    own = "https://www.reddit.com/r/worldnews/comments/1hy2abd/harbour_question/"
    reddit = ('<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
              '<link rel="alternate" href="https://www.reddit.com/r/worldnews/"/>'
              "<id>/r/worldnews/.rss</id><title>World News</title>"
              f"{reddit_post(comments, page, 'Harbour ferry sinks at berth', when)}</feed>")
    [text_post] = parse_feed(reddit.replace(comments, own).replace(page, own).encode(),
                             site.url("/r.rss")).entries
    assert text_post.link == own
    source = site.serve("/r/worldnews/.rss", reddit.encode(), content_type="application/atom+xml")
    workdir.write_config(sources=[source, site.serve("/feed.rss", rss(site, [item(
        "Harbour ferry sinks at berth", page, description="The harbour ferry sank.")]))],
        topics=[TOPIC], smtp=mail)
    out = workdir.newswatch("crawl").stdout
    assert "1 new article(s)" in out and "delivered 1 email(s)" in out, out
    # Reddit's pages answer servers 403 (here, no answer): asked again at the next polls,
    # then kept with the feed's words, the comments page was mailed apart.
    outputs = [workdir.newswatch("crawl").stdout for _ in range(3)]
    [row] = export(workdir)
    assert row["url"] == page and row["extraction"].startswith("page:"), (row, outputs)
    time.sleep(0.5)
    [alert] = mail.wait_for(1)
    body = alert.get_body(("plain",)).get_content()
    assert "reddit.com" not in body and "submitted by" not in body, body



def named_after_their_sites(site, mail, workdir, path: str, feed: Callable[[str, str], str],
                            aggregator: str, content_type: str) -> None:
    """Crawl an aggregator's feed served at ``path`` (``feed`` of the addresses of the two
    articles it shares: a page whose site names itself "The Test Gazette" in og:site_name,
    and one that answers 403): each is named after its site, by its page's name, else its
    host, in `export` and the email, never after the aggregator (``aggregator``)."""
    site.domain = "news.localhost"  # resolved to 127.0.0.1 by the tests' netguard
    page = site.url("/world/harbour-ferry")
    site.serve("/world/harbour-ferry", article_page("Harbour ferry sinks at berth", page).replace(
        b"<title>", b'<meta property="og:site_name" content="The Test Gazette"><title>'),
        content_type="text/html")
    blocked = site.serve("/world/harbour-crane", b"<html><body>Forbidden</body></html>",
                         status=403, content_type="text/html")
    source = site.serve(path, feed(page, blocked).encode(), content_type=content_type)
    workdir.write_config(sources=[source], topics=[TOPIC], smtp=mail)
    workdir.newswatch("crawl")
    assert {row["url"]: row["source"] for row in export(workdir)} == {
        page: "The Test Gazette", blocked: "news.localhost"}
    [alert] = mail.wait_for(1)
    body = alert.get_body(("plain",)).get_content()
    assert "The Test Gazette" in body and "news.localhost" in body, body
    assert aggregator not in body, body


def test_a_reddit_post_is_its_shared_articles_publishers_in_emails_and_exports(
        site, mail, workdir):
    # Through `crawl`: a subreddit's post sharing an article was named after the subreddit's
    # feed ("r/worldnews") in its email and `export`: it is its publisher's, as a Hacker News
    # item's is.
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    comments = "https://www.reddit.com/r/worldnews/comments/1hy2abc/harbour_ferry_sinks/"
    crane = "https://www.reddit.com/r/worldnews/comments/1hy2abe/harbour_crane_toppled/"
    named_after_their_sites(site, mail, workdir, "/r/worldnews/.rss", lambda page, blocked: (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:media="http://search.yahoo.com/mrss/">'
        '<category term="worldnews" label="r/worldnews"/><id>/r/worldnews/.rss</id>'
        '<link rel="self" href="https://www.reddit.com/r/worldnews/.rss" '
        'type="application/atom+xml"/><link rel="alternate" '
        'href="https://www.reddit.com/r/worldnews/" type="text/html"/>'
        "<subtitle>A place for major news from around the world.</subtitle>"
        "<title>r/worldnews</title>"
        f"{reddit_post(comments, page, 'Harbour ferry sinks at berth', when)}"
        f"{reddit_post(crane, blocked, 'Harbour crane toppled by gale', when)}"
        "</feed>"), "worldnews", "application/atom+xml")


def hnrss_item(title: str, link: str, number: int, question: str = "") -> str:
    """An item of an hnrss.org Hacker News feed as hnrss writes it: a shared link's
    description is its discussion's address and numbers; an "Ask HN" post links to its
    discussion, its question above the numbers."""
    thread = f"https://news.ycombinator.com/item?id={number}"
    own = (f"<p>{question}</p>\n<hr>" if question
           else f'<p>Article URL: <a href="{link}">{link}</a></p>')
    description = (f'\n{own}\n<p>Comments URL: <a href="{thread}">{thread}</a></p>\n'
                   "<p>Points: 123</p>\n<p># Comments: 45</p>\n")
    when = format_datetime(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))
    return (f"<item><title><![CDATA[{title}]]></title><description><![CDATA[{description}]]>"
            f"</description><pubDate>{when}</pubDate><link>{link}</link><dc:creator>lakewatcher"
            f"</dc:creator><comments>{thread}</comments><guid isPermaLink=\"false\">{thread}"
            "</guid></item>")


#: An "Ask HN" post's page as Hacker News writes it: the question above its comments.
HN_THREAD = b"""<html lang="en" op="item"><head><title>Ask HN: Which harbour tugboat logs do
you keep? | Hacker News</title></head><body><center><table id="hnmain" width="85%">
<tr><td bgcolor="#ff6600"><span class="pagetop"><b class="hnname"><a href="news">Hacker News
</a></b><a href="newest">new</a> | <a href="front">past</a> | <a href="newcomments">comments</a>
| <a href="ask">ask</a> | <a href="submit">submit</a></span></td></tr>
<tr id="bigbox"><td><table class="fatitem"><tr class="athing submission" id="42345690"><td
class="title"><span class="titleline"><a href="item?id=42345690">Ask HN: Which harbour tugboat
logs do you keep?</a></span></td></tr><tr><td class="subtext"><span class="subline"><span
class="score">123 points</span> by <a href="user?id=lakewatcher" class="hnuser">lakewatcher</a>
<span class="age"><a href="item?id=42345690">1 hour ago</a></span> | <a href="item?id=42345690">
45&nbsp;comments</a></span></td></tr><tr><td><div class="toptext">We log every tugboat shift by
hand.<p>Is there a better way?</p></div></td></tr></table><br>
<table class="comment-tree"><tr class="athing comtr" id="42345700"><td><span class="comhead"><a
class="hnuser">bo</a> <span class="age">50 minutes ago</span></span><div class="comment"><div
class="commtext c00">Our harbour master moved the tugboat logs to a spreadsheet years ago, and
the comments column of it is where the real notes about each shift and each berth go.<p>The
points system we use for crews came later, from the pilots' union, and it still works well.
</p></div></div></td></tr><tr class="athing comtr" id="42345710"><td><span class="comhead"><a
class="hnuser">cy</a></span><div class="comment"><div class="commtext c00">We keep paper logs on
board and scan them weekly; the scans are searchable and nobody misses the old binders.</div>
</div></td></tr></table></td></tr></table></center></body></html>"""


def test_a_hacker_news_item_is_its_article_or_its_post_never_its_threads_numbers(
    site, mail, workdir
):
    # Through `crawl`: an hnrss item whose article's page answered 403 (a paywalled or
    # bot-shy site) was stored with its description, "Article URL: ... Comments URL: ...
    # Points: 123 # Comments: 45", as the article's words: a topic on "comments" was mailed
    # every such item. An "Ask HN" post links to its thread, whose page is read as no
    # article (its comments left out): its text is the question, not the numbers.
    blocked = site.serve("/world/harbour-ferry", b"<html><body>Forbidden</body></html>",
                         status=403, content_type="text/html")
    # The site is the crawl's proxy: it answers for news.ycombinator.com too.
    ask = "http://news.ycombinator.com/item?id=42345690"
    site.serve("/item", HN_THREAD, content_type="text/html")
    source = site.serve("/frontpage", f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>Hacker News: Front Page</title><link>https://news.ycombinator.com/</link>
<description>Hacker News RSS</description><generator>hnrss v2.1.1</generator>
{hnrss_item("Harbour ferry sinks at berth", blocked, 42345678)}
{hnrss_item("Ask HN: Which harbour tugboat logs do you keep?", ask, 42345690,
            "We log every tugboat shift by hand.<p>Is there a better way?")}
</channel></rss>""".encode())
    lobsters = ('<rss version="2.0"><channel><title>Lobsters</title><link>https://lobste.rs/'
                f"</link><item><title>Harbour ferry sinks</title><link>{blocked}</link>"
                "<comments>https://lobste.rs/s/abc123/harbour_ferry_sinks</comments>"
                "<description>&lt;p&gt;&lt;a href=\"https://lobste.rs/s/abc123/harbour_ferry_"
                "sinks\"&gt;Comments&lt;/a&gt;&lt;/p&gt;</description></item></channel></rss>")
    [shared] = parse_feed(lobsters.encode(), site.url("/rss")).entries
    assert shared.text == "Harbour ferry sinks"
    threads = {"name": "Threads", "query": "comments OR points", "notify": ["hn@test.example"]}
    workdir.write_config(sources=[source], topics=[TOPIC, threads], smtp=mail)
    out = workdir.newswatch("crawl", http_proxy=f"http://{urlsplit(site.base_url).netloc}",
                            no_proxy="").stdout
    assert "2 new article(s)" in out, out
    rows = {row["url"]: row for row in export(workdir)}
    assert rows[blocked]["text"] == "Harbour ferry sinks at berth", rows
    assert rows[ask]["text"] == "We log every tugboat shift by hand. Is there a better way?", rows
    [alert] = mail.wait_for(1)
    assert alert["To"] == "desk@test.example", alert["To"]
    body = alert.get_body(("plain",)).get_content()
    assert "Points" not in body and "Comments URL" not in body, body


def test_a_bing_news_item_is_its_publishers_in_emails_and_exports(site, mail, workdir):
    # Through `crawl`: a Bing News item, its link through Bing's redirector, was named after
    # the Bing feed ("Harbour - BingNews") in its email and `export`, where its
    # <News:Source> names the publisher (as a Google News item's <source> does).
    when = format_datetime(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))
    page = site.url("/world/harbour-ferry")
    site.serve("/world/harbour-ferry", article_page("Harbour ferry sinks at berth", page),
               content_type="text/html")
    link = ("http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=6752E0B9&url="
            f"{quote(page, safe='').lower()}&c=5863&mkt=en-us")
    source = site.serve("/news/search", f"""<?xml version="1.0" encoding="utf-8" ?>
<rss version="2.0" xmlns:News="https://www.bing.com:443/news/search?q=harbour&amp;format=rss">
<channel><title>Harbour - BingNews</title>
<link>https://www.bing.com:443/news/search?q=harbour&amp;format=rss</link>
<item><title>Harbour ferry sinks at berth</title><link>{escape(link)}</link>
<description>The harbour ferry sank at its berth.</description><pubDate>{when}</pubDate>
<News:Source>The Test Gazette</News:Source></item></channel></rss>""".encode())
    workdir.write_config(sources=[source], topics=[TOPIC], smtp=mail)
    workdir.newswatch("crawl")
    [row] = export(workdir)
    assert (row["url"], row["source"]) == (page, "The Test Gazette"), row
    [alert] = mail.wait_for(1)
    body = alert.get_body(("plain",)).get_content()
    assert "The Test Gazette" in body and "BingNews" not in body, body


def test_a_bing_news_items_publisher_is_read_without_its_markup_and_entities(site, workdir):
    # Through `crawl`, a feed shaped as Bing News writes it (tests/fixtures/bing-news.rss):
    # a <News:Source> written as CDATA with markup inside, escaped twice, or as escaped
    # markup named the publisher "<b>Harbour</b> Herald", "Quay &amp; Coast Review" and
    # '<span class="src">Tide&nbsp;Times</span>' in emails and `export`; it is read as an
    # RSS <source>'s name is.
    when = format_datetime(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))
    pages = {"ferry": "Harbour ferry sinks at berth", "crane": "Harbour crane collapses in storm",
             "dredging": "Harbour dredging contract signed",
             "lighthouse": "Harbour lighthouse reopens to tourists"}
    for slug, title in pages.items():
        site.serve(f"/world/harbour-{slug}", article_page(title, site.url(f"/world/harbour-{slug}")),
                   content_type="text/html")
    bing = Template((Path(__file__).parent / "fixtures" / "bing-news.rss").read_text("utf-8"))
    source = site.serve("/news/search", bing.substitute(
        when=when, **{slug: quote(site.url(f"/world/harbour-{slug}"), safe="").lower()
                      for slug in pages}).encode())
    workdir.write_config(sources=[source], topics=[TOPIC])
    workdir.newswatch("crawl")
    named = {row["url"].rpartition("-")[2]: row["source"] for row in export(workdir)}
    assert named == {"ferry": "The Test Gazette", "crane": "Harbour Herald",
                     "dredging": "Quay & Coast Review", "lighthouse": "Tide Times"}, named


def test_an_aggregators_item_is_named_after_its_rss_source(site, mail, workdir):
    # Through `crawl`: a feed an aggregator re-exports (an Inoreader folder, a Feedly board, a
    # NewsBlur blurblog) names each item's publisher in its RSS <source> (its name, its
    # feed's address): the item was named after the aggregator's feed ("Harbour - Inoreader")
    # in its email and `export`. An item whose <source> is the feed itself is the feed's.
    when = format_datetime(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))
    pages = {"/world/harbour-ferry": "Harbour ferry sinks at berth",
             "/world/harbour-crane": "Harbour crane collapses in storm"}
    for target, title in pages.items():
        site.serve(target, article_page(title, site.url(target)), content_type="text/html")
    own = site.url("/stream/harbour.rss")
    # The publisher's name written as CDATA with markup inside is read as a title is: it
    # was "<b>The Test Gazette</b>" in emails and `export`.
    sources = ['<source url="https://gazette.example/feed.rss">'
               "<![CDATA[<b>The Test Gazette</b>]]></source>",
               f'<source url="{own}">Harbour - Inoreader</source>']
    items = "".join(
        f"<item><title>{title}</title><link>{site.url(target)}</link>"
        f'<guid isPermaLink="false">{target}</guid><description>{title}.</description>'
        f"<pubDate>{when}</pubDate>{named}</item>"
        for (target, title), named in zip(pages.items(), sources, strict=True))
    source = site.serve("/stream/harbour.rss", f"""<?xml version="1.0" encoding="utf-8" ?>
<rss version="2.0"><channel><title>Harbour - Inoreader</title><link>https://www.inoreader.com/</link>
<description>Harbour</description>{items}</channel></rss>""".encode())
    workdir.write_config(sources=[{"url": source, "name": "Harbour - Inoreader"}],
                         topics=[TOPIC], smtp=mail)
    workdir.newswatch("crawl")
    named = {row["url"]: row["source"] for row in export(workdir)}
    assert named == {site.url("/world/harbour-ferry"): "The Test Gazette",
                     site.url("/world/harbour-crane"): "Harbour - Inoreader"}, named
    [alert] = mail.wait_for(1)
    assert "The Test Gazette" in alert.get_body(("plain",)).get_content()


def test_an_atom_entrys_source_names_its_publisher_unless_it_is_the_feed(site, workdir):
    # A planet's Atom feed copies its members' entries, each with an Atom <source> (their
    # blog's title, its self link): named after that blog. An entry the planet writes itself
    # carries a <source> too, whose self link is the planet's feed: it was named after the
    # feed's title, not after the source as its user named it.
    when = (datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)).isoformat()
    pages = {"/ann/harbour-ferry": "Harbour ferry sinks at berth",
             "/planet/harbour-meetup": "Harbour planet meetup on Friday"}
    for target, title in pages.items():
        site.serve(target, article_page(title, site.url(target)), content_type="text/html")
    own = site.url("/planet/atom.xml")
    sources = [f'<source><id>tag:ann</id><title>Ann\'s Harbour Blog</title><link rel="self" '
               f'href="{site.url("/ann/feed.atom")}"/></source>',
               f'<source><id>urn:planet</id><title>Planet Harbour</title><link rel="self" '
               f'href="{own}"/></source>']
    entries = "".join(
        f'<entry><title>{title}</title><link href="{site.url(target)}"/><id>{target}</id>'
        f"<updated>{when}</updated><summary>{title}.</summary>{named}</entry>"
        for (target, title), named in zip(pages.items(), sources, strict=True))
    source = site.serve("/planet/atom.xml", f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Planet Harbour</title><id>urn:planet</id>
<link rel="self" href="{own}"/><updated>{when}</updated>{entries}</feed>""".encode(),
                        content_type="application/atom+xml")
    workdir.write_config(sources=[{"url": source, "name": "Harbour bloggers"}], topics=[TOPIC])
    workdir.newswatch("crawl")
    named = {row["url"]: row["source"] for row in export(workdir)}
    assert named == {site.url("/ann/harbour-ferry"): "Ann's Harbour Blog",
                     site.url("/planet/harbour-meetup"): "Harbour bloggers"}, named


def test_an_aggregators_item_is_found_by_its_sources_name_and_its_publisher(
    site, mail, workdir, store_location
):
    # Through `crawl`, on both backends: an item of an Inoreader folder whose RSS <source>
    # names its publisher was found by `source:` and a topic's `sources` under that
    # publisher alone, no longer under the name its user gave the source (a topic on the
    # folder missed every such item, in alerts, `topics test` and `search`).
    if isinstance(store_location, str):  # on PostgreSQL too
        workdir.database_url = store_location
    when = format_datetime(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))
    target = "/world/harbour-ferry"
    site.serve(target, article_page("Harbour ferry sinks at berth", site.url(target)),
               content_type="text/html")
    source = site.serve("/stream/harbour.rss", f"""<?xml version="1.0" encoding="utf-8" ?>
<rss version="2.0"><channel><title>Harbour - Inoreader</title><link>https://www.inoreader.com/</link>
<description>Harbour</description><item><title>Harbour ferry sinks at berth</title>
<link>{site.url(target)}</link><guid isPermaLink="false">{target}</guid>
<description>Harbour ferry sinks at berth.</description><pubDate>{when}</pubDate>
<source url="https://gazette.example/feed.rss">The Test Gazette</source></item>
</channel></rss>""".encode())
    folder = 'harbour source:"My harbour folder"'
    workdir.write_config(sources=[{"url": source, "name": "My harbour folder"}], smtp=mail,
                         topics=[{**TOPIC, "name": "Folder", "query": folder},
                                 {**TOPIC, "name": "Gazette", "query": "harbour source:gazette",
                                  "notify": ["gazette@test.example"]},
                                 {**TOPIC, "name": "Folder desk", "notify": ["folder@test.example"],
                                  "sources": ["My harbour folder"]}])
    workdir.newswatch("crawl")
    [row] = export(workdir)
    assert row["source"] == "The Test Gazette", row
    assert sorted(m["To"] for m in mail.wait_for(3)) == [
        "desk@test.example", "folder@test.example", "gazette@test.example"]
    for argv in (("topics", "test", folder), ("topics", "test", "harbour source:gazette"),
                 ("topics", "test", "harbour", "--source", "My harbour folder"),
                 ("search", folder)):
        result = workdir.newswatch(*argv)
        assert "1 matching article(s)" in result.stdout, (argv, result.stdout, result.stderr)


def google_alert(site, story, feed_name: str = "Google Alert - maduro") -> bytes:
    """A Google Alerts Atom feed whose one entry links to ``story``'s page through Google's
    redirector (www.google.com/url?...&url=...), as Google writes it."""
    when = (datetime.now(UTC) - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    link = (f"https://www.google.com/url?rct=j&sa=t&url={quote(site.article_url(story.slug))}"
            "&ct=ga&cd=CAIyGjgxNzYz&usg=AOvVaw1Xq")
    return f"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"
xmlns:idx="urn:atom-extension:indexing"><id>tag:google.com,2005:reader/user/0/state/com.google/alerts/1</id>
<title>{feed_name}</title><link href="https://www.google.com/alerts/feeds/0/1" rel="self"/>
<updated>{when}</updated><entry><id>tag:google.com,2013:googlealerts/feed:1135745</id>
<title type="html">&lt;b&gt;Maduro&lt;/b&gt; leaves Caracas for Havana</title>
<link href="{escape(link)}"/><published>{when}</published><updated>{when}</updated>
<content type="html">President &lt;b&gt;Maduro&lt;/b&gt; left Caracas on Monday ...</content>
<author><name></name></author></entry></feed>""".encode()


def test_a_google_alert_is_its_publishers_article_in_emails_and_exports(site, mail, workdir):
    # Through `crawl`: a Google Alerts item, linked through www.google.com/url to its
    # publisher's page, was named after the alert ("Google Alert - maduro") in its email and
    # `export`: it is its publisher's (the name its page gives its site). The same article
    # in the publisher's own feed, polled after, is the same article, not mailed again.
    story = sample_story("maduro-havana", "Maduro leaves Caracas for Havana",
                         ["Maduro", "Caracas"])
    site.articles[story.slug] = story
    alerts = site.serve("/alerts/feeds/0/1", google_alert(site, story),
                        content_type="application/atom+xml")
    topic = {"name": "Maduro", "query": "Maduro", "notify": ["maduro@test.example"]}
    workdir.write_config(sources=[alerts], smtp=mail, topics=[topic])
    workdir.newswatch("crawl")
    [row] = export(workdir)
    assert (row["url"], row["source"]) == (site.article_url(story.slug), "The Northgate Herald")
    [alert] = mail.wait_for(1)
    body = alert.get_body(("plain",)).get_content()
    assert "The Northgate Herald" in body, body
    assert "Google Alert" not in body and "google.com" not in body, body
    site.publish(story)
    workdir.write_config(sources=[alerts, site.url("/feeds/world.rss")], smtp=mail,
                         topics=[topic])
    out = workdir.newswatch("crawl").stdout
    assert "0 new article(s)" in out and "0 email(s) queued" in out, out
    assert [row["url"] for row in export(workdir)] == [site.article_url(story.slug)]
    assert len(mail.messages) == 1


def test_a_hacker_news_link_is_its_publishers_in_emails_and_exports(site, mail, workdir):
    # Through `crawl`: an hnrss item sharing an article was named after the feed ("Hacker
    # News: Front Page") in its email and `export`: it is its publisher's, the name its page
    # gives its site, else (its page unreadable) the site's host.
    def frontpage(page: str, blocked: str) -> str:
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>Hacker News: Front Page</title><link>https://news.ycombinator.com/</link>
<description>Hacker News RSS</description><generator>hnrss v2.1.1</generator>
{hnrss_item("Harbour ferry sinks at berth", page, 42345678)}
{hnrss_item("Harbour crane toppled by gale", blocked, 42345679)}
</channel></rss>"""
    named_after_their_sites(site, mail, workdir, "/frontpage", frontpage, "Hacker News",
                            "application/rss+xml")


def test_a_hacker_news_link_is_named_by_a_site_name_its_head_lets_slip(site, workdir):
    # A page whose head holds an element of a body before its meta tags (a tag manager's
    # <div>, a tracking pixel's <img>, a CMS's stray text): the parser closes the head there,
    # and the meta tags after it land in the body. Its og:site_name was not read, the item
    # named after its host ("news.localhost"), not its site's name.
    site.domain = "news.localhost"  # resolved to 127.0.0.1 by the tests' netguard
    page = site.url("/world/harbour-ferry")
    site.serve("/world/harbour-ferry", article_page("Harbour ferry sinks at berth", page).replace(
        b"</head>", b'<div id="tag-manager"></div><meta property="og:site_name"'
        b' content="The Test Gazette"></head>'), content_type="text/html")
    source = site.serve("/frontpage", f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>Hacker News: Front Page</title><link>https://news.ycombinator.com/</link>
<description>Hacker News RSS</description><generator>hnrss v2.1.1</generator>
{hnrss_item("Harbour ferry sinks at berth", page, 42345678)}
</channel></rss>""".encode())
    workdir.write_config(sources=[source], topics=[TOPIC])
    workdir.newswatch("crawl")
    assert {row["url"]: row["source"] for row in export(workdir)} == {
        page: "The Test Gazette"}


def test_a_hacker_news_link_is_named_by_its_host_where_its_site_name_names_none(site, workdir):
    # A blog's theme writes its platform's name as every blog's og:site_name ("WordPress",
    # "Blogger"), a CMS left its address or a mark there, or nothing: each shared article
    # was named so in its email and `export` ("WordPress", "-", ""). Its host names it.
    site.domain = "news.localhost"  # resolved to 127.0.0.1 by the tests' netguard
    names = {"/2026/12/harbour-ferry": "WordPress", "/2026/12/harbour-crane": "Blogger",
             "/2026/12/harbour-pilot": "https://news.localhost/", "/2026/12/harbour-tug": "-",
             "/2026/12/harbour-dredge": " "}
    items = []
    for number, (path, name) in enumerate(names.items()):
        page = site.url(path)
        headline = f"Harbour story {number}: the {path.rpartition('-')[2]} at berth"
        site.serve(path, article_page(headline, page).replace(
            b"<title>", f'<meta property="og:site_name" content="{name}"><title>'.encode()),
            content_type="text/html")
        items.append(hnrss_item(headline, page, 42345678 + number))
    source = site.serve("/frontpage", f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>Hacker News: Front Page</title><link>https://news.ycombinator.com/</link>
<description>Hacker News RSS</description><generator>hnrss v2.1.1</generator>
{"".join(items)}
</channel></rss>""".encode())
    workdir.write_config(sources=[source], topics=[TOPIC])
    workdir.newswatch("crawl")
    assert {row["url"]: row["source"] for row in export(workdir)} == {
        site.url(path): "news.localhost" for path in names}


def test_links_with_an_escaped_ampersand_in_a_malformed_feed_are_the_same_links(
        site, mail, workdir):
    # A feed is read by feedparser's loose parser once one item is not well-formed XML (an
    # "&nbsp;" in a description, at the second poll here), which leaves "&amp;" as written
    # in the text of a guid and of a Feedburner origLink: the items' links became
    # ?id=7&amp;lang=en (a query parameter "amp;lang"), other addresses than at the poll
    # before, and both items were fetched, stored and mailed a second time.
    when = format_datetime(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))
    pages = {"/harbour-ferry": "Harbour ferry timetable changes", "/harbour-crane":
             "Harbour crane contract signed"}
    for path, title in pages.items():
        # No canonical address: the page is known by the address its feed gives.
        site.serve(path, article_page(title, site.url(path)).replace(
            f'<link rel="canonical" href="{escape(site.url(path))}">'.encode(), b""),
            content_type="text/html; charset=utf-8")
    ferry, crane = (escape(site.url(path)) for path in pages)
    items = [f"<item><title>Harbour ferry timetable changes</title><guid>{ferry}?id=7&amp;"
             f"lang=en</guid><pubDate>{when}</pubDate><description>The harbour ferry."
             "</description></item>",
             "<item><title>Harbour crane contract signed</title><link>"
             f"{escape(site.url('/~r/Blog/~3/abc2/'))}</link><feedburner:origLink>{crane}?id=8"
             f"&amp;lang=en</feedburner:origLink><pubDate>{when}</pubDate><description>The "
             "harbour crane.</description></item>"]

    def feed(extra: str) -> bytes:
        return rss(site, [*items, extra]).replace(
            b'<rss version="2.0">',
            b'<rss version="2.0" xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0">')

    source = site.serve("/feed.rss", feed(""))
    workdir.write_config(sources=[source], topics=[TOPIC], smtp=mail)
    assert "2 new article(s)" in workdir.newswatch("crawl").stdout
    mail.wait_for(1)
    site.serve("/feed.rss", feed(item("Harbour dredging starts", None, "dredging-1",
                                      "Dredging&nbsp;of the harbour basin.").replace(
                                          "&amp;nbsp;", "&nbsp;")))
    again = workdir.newswatch("crawl")
    assert "1 new article(s)" in again.stdout, again.stdout
    assert sorted(row["url"] for row in export(workdir) if "dredging" not in row["title"]) == [
        site.url("/harbour-crane?id=8&lang=en"), site.url("/harbour-ferry?id=7&lang=en")]
    assert {r.query for path in pages for r in site.requests_for(path)} == {
        "id=7&lang=en", "id=8&lang=en"}
    # `crawl` delivers before it exits: every email it sent is in.
    [_, second] = mail.messages
    assert second["Subject"] == "[newswatch] Harbour — Harbour dredging starts"


def dated_item(site, title: str, path: str, ago: timedelta) -> str:
    """An item published ``ago``, its page served at ``path``."""
    site.serve(path, article_page(title, site.url(path)),
               content_type="text/html; charset=utf-8")
    written = item(title, site.url(path))
    when = format_datetime(datetime.now(UTC).replace(microsecond=0) - ago, usegmt=True)
    return written.replace(written.split("<pubDate>")[1].split("</pubDate>")[0], when)


def test_the_news_of_a_long_stop_alerts_when_the_daemon_is_back(site, mail, workdir):
    """The daemon stopped for a long weekend (or the site down for days): what its sources
    published meanwhile was older than alerts.lookback when they were polled again, stored
    and never alerted. Published after its source's poll before the one that found it, it
    is news however old; what it had before stays out of the inbox."""
    import sqlite3

    dated = partial(dated_item, site)
    older = dated("Harbour pilots strike over rotas last week", "/pilots-week", timedelta(days=5))
    feed = site.serve("/weekend.rss", rss(site, [older]))
    workdir.write_config(sources=[feed], topics=[TOPIC], smtp=mail)
    assert workdir.newswatch("crawl").returncode == 0
    # That poll was three days ago: the daemon stopped since.
    with sqlite3.connect(workdir.database) as db:
        stopped = (datetime.now(UTC) - timedelta(days=3)).isoformat()
        db.execute("UPDATE sources SET last_fetch = ?, last_success = ?", [stopped, stopped])
    meanwhile = dated("Harbour closed by the storm on Saturday", "/storm", timedelta(days=2.5))
    before = dated("Harbour dues raised before the weekend", "/dues", timedelta(days=4))
    site.serve("/weekend.rss", rss(site, [meanwhile, before, older]))
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "2 new article(s)" in result.stdout, result.stdout
    [message] = mail.wait_for(1)
    assert "Harbour closed by the storm on Saturday" in message["Subject"]
    time.sleep(0.5)
    assert len(mail.messages) == 1  # not the one published before the stop


def _dated_item(site, title: str, path: str, ago: timedelta) -> str:
    site.serve(path, article_page(title, site.url(path)), content_type="text/html; charset=utf-8")
    written = item(title, site.url(path))
    when = format_datetime(datetime.now(UTC).replace(microsecond=0) - ago, usegmt=True)
    return written.replace(written.split("<pubDate>")[1].split("</pubDate>")[0], when)


def test_a_source_back_after_weeks_alerts_no_back_catalogue(site, mail, workdir):
    """A source removed, deactivated or failing for weeks, back now: what it published in
    those weeks is no news (it flooded the inbox with two months of a feed): caught up only
    after a stop of a week at most (CATCH_UP); alerts.lookback still applies."""
    import sqlite3

    feed = site.serve("/back.rss", rss(site, []))
    workdir.write_config(sources=[feed], topics=[TOPIC], smtp=mail)
    assert workdir.newswatch("crawl").returncode == 0
    with sqlite3.connect(workdir.database) as db:
        gone = (datetime.now(UTC) - timedelta(days=60)).isoformat()
        db.execute("UPDATE sources SET last_fetch = ?, last_success = ?", [gone, gone])
    site.serve("/back.rss", rss(site, [
        _dated_item(site, "Harbour reopened this morning", "/reopened", timedelta(hours=3)),
        _dated_item(site, "Harbour dredging began last month", "/dredging", timedelta(days=30)),
    ]))
    assert workdir.newswatch("crawl").returncode == 0
    [message] = mail.wait_for(1)
    assert "Harbour reopened this morning" in message["Subject"]


def test_an_old_article_another_source_lists_now_does_not_alert_as_news(site, mail, workdir):
    """An article a source stored a month ago, listed now by another source (a section's
    feed): matched again for that source's topics, it alerted as news, older than
    alerts.lookback (the poll before the first source's held no more: a review)."""
    import sqlite3

    title = "Harbour pilots agree new rota after long dispute"
    main = site.serve("/main.rss", rss(site, []))
    desk = site.serve("/desk.rss", rss(site, []))
    workdir.write_config(
        sources=[{"url": main, "name": "Main"}, {"url": desk, "name": "Harbour desk"}],
        topics=[{"name": "Desk", "query": "harbour", "notify": ["desk@test.example"],
                 "sources": ["Harbour desk"]}], smtp=mail)
    assert workdir.newswatch("crawl").returncode == 0
    story = _dated_item(site, title, "/pilots-rota", timedelta(minutes=30))
    site.serve("/main.rss", rss(site, [story]))
    assert workdir.newswatch("crawl").returncode == 0
    with sqlite3.connect(workdir.database) as db:  # a month passes
        for column in ("published", "fetched", "since"):
            db.execute(f"UPDATE articles SET {column} = ?",
                       [(datetime.now(UTC) - timedelta(days=30)).isoformat()])
    site.serve("/desk.rss", rss(site, [story.replace(story.split("<pubDate>")[1].split(
        "</pubDate>")[0], format_datetime(datetime.now(UTC) - timedelta(days=30), usegmt=True))]))
    assert workdir.newswatch("crawl").returncode == 0
    time.sleep(1)
    assert mail.messages == []


def test_the_news_of_a_long_stop_beyond_one_poll_alerts_at_the_next_polls(site, mail, workdir):
    """More news after a stop than a poll takes (500; 3 here: tests/small_polls.py): the
    newest were alerted, the rest, taken at the next poll, were judged against that poll
    (minutes ago) and stored without an alert; one the feed no longer listed by then was
    never fetched. They keep the poll before the stop."""
    import sqlite3

    from test_source_kinds import small_crawl

    dated = partial(dated_item, site)
    older = dated("Harbour pilots strike over rotas last week", "/pilots-week", timedelta(days=5))
    site.serve("/weekend.rss", rss(site, [older]))
    workdir.write_config(sources=[site.url("/weekend.rss")], topics=[TOPIC], smtp=mail)
    assert "1 new article(s)" in small_crawl(workdir)
    with sqlite3.connect(workdir.database) as db:  # that poll was three days ago
        stopped = (datetime.now(UTC) - timedelta(days=3)).isoformat()
        db.execute("UPDATE sources SET last_fetch = ?, last_success = ?", [stopped, stopped])
    titles = ["Harbour closed by the storm on Sunday", "Harbour ferry cancelled on Sunday",
              "Harbour crane toppled on Saturday", "Harbour lighthouse dark on Saturday",
              "Harbour quay flooded on Friday"]
    meanwhile = [dated(title, f"/stop-{n}", timedelta(days=2.1 + n * 0.1))  # past lookback
                 for n, title in enumerate(titles)]  # the newest first
    site.serve("/weekend.rss", rss(site, [*meanwhile, older]))
    assert "3 new article(s)" in small_crawl(workdir)
    first = mail.wait_for(1)
    said = [title.removeprefix("Harbour ") for title in titles]  # "*Harbour*" highlighted
    assert all(words in parts(first[0])[0] for words in said[:3]), parts(first[0])[0]
    status = workdir.newswatch("status").stdout
    assert "2 new page(s) left for the next polls" in status and "unavailable" not in status
    site.serve("/weekend.rss", rss(site, [*meanwhile[:4], older]))  # the oldest gone by now
    assert "2 new article(s)" in small_crawl(workdir)
    mailed = mail.wait_for(len(first) + 1)
    texts = " ".join(parts(m)[0] for m in mailed)
    assert all(words in texts for words in said), texts
    assert said[0] not in " ".join(parts(m)[0] for m in mailed[len(first):])
    assert "0 new article(s)" in small_crawl(workdir)
    time.sleep(0.5)
    assert len(mail.messages) == len(mailed)


def wire_polled(site, mail, workdir, render) -> list[str]:
    """A feed of six items of the last hours (``render``: its body), polled once (every
    hour); its items."""
    first = [dated_item(site, f"Harbour report {n}", f"/first-{n}", timedelta(hours=1 + n))
             for n in range(6)]
    site.serve("/wire.rss", render(first))
    workdir.write_config(sources=[{"url": site.url("/wire.rss"), "every": "1h"}],
                         topics=[TOPIC], smtp=mail)
    assert workdir.newswatch("crawl").returncode == 0
    return first


def test_a_feed_that_moved_past_its_whole_list_says_so_and_is_polled_sooner(
    site, mail, workdir
):
    """A busy feed lists its latest items only: one publishing more between two polls than
    it lists lost the rest, without a word (a wire feed of 20 items, 120 an hour, polled
    every 15 minutes: 37 % never seen, the source "ok"; a review). A poll that knows none
    of the items listed, all published since the poll before, says so, and the feed is
    polled again sooner; a feed whose list fills within its interval is polled in half the
    time its list spans."""
    import sqlite3

    dated = partial(dated_item, site)
    wire_polled(site, mail, workdir, partial(rss, site))

    def next_due_in() -> float:
        with sqlite3.connect(workdir.database) as db:
            due, = db.execute("SELECT next_due FROM sources").fetchone()
        return (datetime.fromisoformat(due) - datetime.now(UTC)).total_seconds()

    assert next_due_in() > 50 * 60  # its items span five hours: every hour
    assert "none of the" not in workdir.newswatch("status").stdout
    with sqlite3.connect(workdir.database) as db:  # that poll was 25 minutes ago
        before = (datetime.now(UTC) - timedelta(minutes=25)).isoformat()
        db.execute("UPDATE sources SET last_fetch = ?, last_success = ?", [before, before])
    # Six new items in the 20 minutes since (none of the first six listed any more).
    later = [dated(f"Harbour bulletin {n}", f"/later-{n}", timedelta(minutes=4 * n + 1))
             for n in range(6)]
    site.serve("/wire.rss", rss(site, later))
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "6 new article(s)" in result.stdout
    status = workdir.newswatch("status").stdout
    assert "warning: none of the 6 items it lists was known" in status, status
    assert 5 * 60 < next_due_in() < 16 * 60  # half of the 20 minutes its list spans
    # Polled again with one new item among the known ones: no gap, no warning.
    site.serve("/wire.rss", rss(site, [dated("Harbour bulletin 6", "/later-6",
                                             timedelta(minutes=0)), *later]))
    assert workdir.newswatch("crawl").returncode == 0
    assert "none of the" not in workdir.newswatch("status").stdout


def test_a_feeds_next_poll_is_counted_from_its_answer_not_from_its_last_page(
    site, mail, workdir
):
    """The next poll was counted from the poll's end, after its pages: a busy feed's
    interval was its setting plus the time its pages took (29 s for 10 in a review), and
    the busier the feed, the longer."""
    import sqlite3

    page = article_page("Harbour dredging resumes", site.url("/slow"))
    site.serve("/slow", page, content_type="text/html; charset=utf-8",
               drip=5.0 / (len(page) // 1024 + 1))  # five seconds at least
    site.serve("/slow.rss", rss(site, [item("Harbour dredging resumes", site.url("/slow"))]))
    workdir.write_config(sources=[{"url": site.url("/slow.rss"), "every": "20s"}],
                         topics=[TOPIC], smtp=mail, crawl={"timeout": "30s"})
    assert workdir.newswatch("crawl").returncode == 0
    with sqlite3.connect(workdir.database) as db:
        polled, due = db.execute("SELECT last_fetch, next_due FROM sources").fetchone()
        page, = db.execute("SELECT fetched FROM articles").fetchone()  # the poll's end
    # 20 s (and up to 2 s of jitter) from the feed's answer, 5 s before the poll's end (the
    # times are stored to the second): 18 s at most; from the end, 19 at least. The poll
    # is recorded at the feed's answer too: the next one's "since its poll before".
    end = datetime.fromisoformat(page)
    assert (datetime.fromisoformat(due) - end).total_seconds() < 19
    assert (end - datetime.fromisoformat(polled)).total_seconds() >= 4


def test_a_gap_in_a_feed_is_filled_from_its_older_pages(site, mail, workdir):
    """What a busy feed published between two polls beyond its list is on its older pages,
    where it has some (RFC 5005's rel="next", WordPress's ?paged=2): read while each page's
    items are all new, all published since the poll before; not once a page lists known
    items."""
    import sqlite3

    dated = partial(dated_item, site)

    def paged(items: list[str], following: str | None) -> bytes:
        link = (f'<atom:link rel="next" href="{site.url(following)}"/>' if following else "")
        return rss(site, items).replace(
            b'<rss version="2.0">',
            b'<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">').replace(
            b"<description>News</description>", f"<description>News</description>{link}"
            .encode())

    first = wire_polled(site, mail, workdir, partial(paged, following=None))
    with sqlite3.connect(workdir.database) as db:  # that poll was 90 minutes ago
        before = (datetime.now(UTC) - timedelta(minutes=90)).isoformat()
        db.execute("UPDATE sources SET last_fetch = ?, last_success = ?", [before, before])
    newest = [dated(f"Harbour bulletin {n}", f"/new-{n}", timedelta(minutes=1 + 5 * n))
              for n in range(6)]
    older = [dated(f"Harbour notice {n}", f"/older-{n}", timedelta(minutes=40 + 5 * n))
             for n in range(6)]
    site.serve("/wire.rss", paged(newest, "/wire.rss?page=2"))
    site.serve("/wire.rss?page=2", paged(older, "/wire.rss?page=3"))
    site.serve("/wire.rss?page=3", paged(first, "/wire.rss?page=4"))
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "12 new article(s)" in result.stdout, result.stdout
    assert len(site.requests_for("/wire.rss?page=3")) == 1  # page 2's were all new
    assert site.requests_for("/wire.rss?page=4") == []  # page 3 lists known items
    texts = " ".join(parts(m)[0] for m in mail.wait_for(1))
    assert all(f"notice {n}" in texts and f"bulletin {n}" in texts for n in range(6)), texts


def test_a_burst_of_items_long_ago_is_no_busy_feed(site, mail, workdir):
    """Ten items published 30 seconds apart three days ago (a morning edition, a batch
    import): the feed was polled every 2 minutes for good, every poll finding nothing new
    (a review of the diff). Its list covers three days: polled every hour, as set."""
    import sqlite3

    items = [dated_item(site, f"Harbour archive {n}", f"/archive-{n}",
                        timedelta(days=3, seconds=30 * n)) for n in range(10)]
    site.serve("/edition.rss", rss(site, items))
    workdir.write_config(sources=[{"url": site.url("/edition.rss"), "every": "1h"}],
                         topics=[TOPIC], smtp=mail)
    for _ in range(2):
        assert workdir.newswatch("crawl").returncode == 0
        with sqlite3.connect(workdir.database) as db:
            due, = db.execute("SELECT next_due FROM sources").fetchone()
        assert (datetime.fromisoformat(due) - datetime.now(UTC)).total_seconds() > 50 * 60


def test_a_gap_filled_beyond_what_a_poll_takes_leaves_the_feed_to_be_read_whole(
    site, mail, workdir
):
    """The older pages read to fill a gap brought more new items than a poll takes (500; 7
    here: tests/small_polls.py): the poll kept the feed's validators, and its next poll, a
    304, never listed the rest."""
    import sqlite3

    from test_source_kinds import small_crawl

    dated = partial(dated_item, site)
    first = [dated(f"Harbour report {n}", f"/first-{n}", timedelta(hours=2 + n))
             for n in range(6)]
    site.serve("/wire.rss", rss(site, first), headers={"ETag": '"v1"'})
    workdir.write_config(sources=[{"url": site.url("/wire.rss"), "every": "1h"}],
                         topics=[TOPIC], smtp=mail)
    assert "6 new article(s)" in small_crawl(workdir, 7)
    with sqlite3.connect(workdir.database) as db:  # that poll was 90 minutes ago
        before = (datetime.now(UTC) - timedelta(minutes=90)).isoformat()
        db.execute("UPDATE sources SET last_fetch = ?, last_success = ?", [before, before])
    newest = [dated(f"Harbour bulletin {n}", f"/new-{n}", timedelta(minutes=1 + n))
              for n in range(5)]
    older = [dated(f"Harbour notice {n}", f"/older-{n}", timedelta(minutes=40 + n))
             for n in range(5)]
    link = f'<atom:link rel="next" href="{site.url("/wire.rss?page=2")}"/>'
    body = rss(site, newest).replace(
        b'<rss version="2.0">', b'<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">'
    ).replace(b"<description>News</description>", f"<description>News</description>{link}"
              .encode())
    site.serve("/wire.rss", body, headers={"ETag": '"v2"'})
    site.serve("/wire.rss?page=2", rss(site, older))
    assert "7 new article(s)" in small_crawl(workdir, 7)
    with sqlite3.connect(workdir.database) as db:
        etag, = db.execute("SELECT etag FROM sources").fetchone()
    assert etag is None  # the next poll reads the feed whole


def test_a_feed_publishing_items_seconds_apart_is_polled_sooner(site, mail, workdir):
    """Items published seconds apart (a wire in breaking news): a list spanning less than a
    minute was taken for one dated by the feed's clock, and the feed waited its interval (a
    review: 145 items lost). Only items dated alike are."""
    import sqlite3

    items = [dated_item(site, f"Harbour flash {n}", f"/flash-{n}", timedelta(seconds=1 + 3 * n))
             for n in range(8)]
    site.serve("/flash.rss", rss(site, items))
    workdir.write_config(sources=[{"url": site.url("/flash.rss"), "every": "1h"}],
                         topics=[TOPIC], smtp=mail)
    assert workdir.newswatch("crawl").returncode == 0
    with sqlite3.connect(workdir.database) as db:
        due, = db.execute("SELECT next_due FROM sources").fetchone()
    assert (datetime.fromisoformat(due) - datetime.now(UTC)).total_seconds() < 3 * 60


def test_a_post_stored_after_its_feed_dropped_it_is_known_by_its_guid(site, mail, workdir):
    # A WordPress post whose page was unavailable at the poll that listed it (a 503), then
    # read once the busy feed no longer listed it: stored without its guid's alias, which an
    # entry stored at once gets. Listed again with its headline and slug edited, its guid and
    # date kept, it was a new article, mailed again.
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    old, new = site.url("/2026/12/07/harbour-closed"), site.url("/2026/12/07/ferry-collision")
    versions = [("BREAKING: Harbour closed", old), ("Ferry and cargo ship collide in harbour", new)]

    post = partial(wordpress_post, when=when)

    other = post("Harbour tugboats strike", site.url("/tugs"), "https://gazette.example/?p=2")
    site.serve("/tugs", article_page("Harbour tugboats strike", site.url("/tugs")),
               content_type="text/html")
    site.serve(urlsplit(old).path, b"busy", status=503, content_type="text/html")
    source = site.serve("/feed.rss", rss(site, [post(*versions[0])]))
    workdir.write_config(sources=[source], topics=[TOPIC], smtp=mail)
    assert "0 new article(s)" in workdir.newswatch("crawl").stdout  # deferred: 503
    site.serve(urlsplit(old).path, article_page(*versions[0]), content_type="text/html")
    site.serve("/feed.rss", rss(site, [other]))
    dropped = workdir.newswatch("crawl")
    assert "2 new article(s)" in dropped.stdout, dropped.stdout
    mail.wait_for(1)
    site.serve(urlsplit(new).path, article_page(*versions[1]), content_type="text/html")
    site.serve(urlsplit(old).path, b"", status=301, headers={"Location": new})
    site.serve("/feed.rss", rss(site, [post(*versions[1]), other]))
    edited = workdir.newswatch("crawl")
    assert "0 new article(s), 1 updated" in edited.stdout, edited.stdout
    assert "0 email(s) queued" in edited.stdout, edited.stdout
    assert sorted(a["url"] for a in export(workdir)) == [old, site.url("/tugs")]


def test_a_post_deferred_then_listed_at_another_link_is_read_there_only(site, mail, workdir):
    # Its page unavailable at the poll that listed it (a 503), the post is listed at the next
    # one at its new address, its slug edited with its headline, its guid and date kept: read
    # there and mailed, the entry deferred under the old address was asked again until its
    # attempts were spent, then kept with its summary and mailed a second time.
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    old, new = site.url("/2026/12/07/harbour-closed"), site.url("/2026/12/07/ferry-collision")

    post = partial(wordpress_post, when=when)

    site.serve(urlsplit(old).path, b"busy", status=503, content_type="text/html")
    source = site.serve("/feed.rss", rss(site, [post("BREAKING: Harbour closed", old)]))
    workdir.write_config(sources=[source], topics=[TOPIC], smtp=mail)
    assert "0 new article(s)" in workdir.newswatch("crawl").stdout  # deferred: 503
    title = "Ferry and cargo ship collide in harbour"
    site.serve(urlsplit(new).path, article_page(title, new), content_type="text/html")
    site.serve("/feed.rss", rss(site, [post(title, new)]))
    outputs = [workdir.newswatch("crawl").stdout for _ in range(3)]
    assert "1 new article(s)" in outputs[0], outputs
    assert [(a["title"], a["url"]) for a in export(workdir)] == [(title, new)]
    assert site.requests_for(urlsplit(old).path) and len(site.requests_for(urlsplit(old).path)) == 1
    time.sleep(0.5)
    assert len(mail.wait_for(1)) == 1


def test_a_deferred_post_is_read_when_its_numbered_guid_is_another_listed_post(
        site, mail, workdir):
    # A feed that numbers its items by their place (guid "1", "2", isPermaLink="false") and
    # dates them by the day: a post deferred at a 503 as item 2 falls off the feed at the
    # next poll, when the post listed before it is item 2 now, of the same day. That post
    # is no new address of the deferred one (it was listed at its own before): the deferred
    # post was dropped unread, lost.
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    titles = {"/ferry": "Ferry timetable for the harbour", "/tugs": "Harbour tugboats strike",
              "/crane": "Harbour crane repaired"}

    def post(path: str, number: int) -> str:
        return wordpress_post(titles[path], site.url(path), str(number), when=day)

    for path in ("/ferry", "/tugs"):
        site.serve(path, article_page(titles[path], site.url(path)), content_type="text/html")
    site.serve("/crane", b"busy", status=503, content_type="text/html")
    source = site.serve("/feed.rss", rss(site, [post("/tugs", 1), post("/crane", 2)]))
    workdir.write_config(sources=[source], topics=[TOPIC], smtp=mail)
    assert "1 new article(s)" in workdir.newswatch("crawl").stdout  # /crane deferred: 503
    site.serve("/crane", article_page(titles["/crane"], site.url("/crane")),
               content_type="text/html")
    site.serve("/feed.rss", rss(site, [post("/ferry", 1), post("/tugs", 2)]))
    later = workdir.newswatch("crawl")
    assert "2 new article(s)" in later.stdout, later.stdout
    assert sorted(a["url"] for a in export(workdir)) == [
        site.url(path) for path in ("/crane", "/ferry", "/tugs")]
