"""Google News' feeds as sources: their items link to news.google.com, whose page is a
script that sends a browser on (or Google's consent page), never the article."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from newssite import Story, sample_story

from crawler.feeds import parse_feed
from crawler.googlenews import publisher_url

#: Ids as Google News' feeds write them: the older form holds the publisher's address
#: (mashable.com's), the newer (``AU_yqL...`` inside) holds none.
OLD_ID = ("CBMiSWh0dHBzOi8vbWFzaGFibGUuY29tL2FydGljbGUvamFtZXMtd2ViYi1zcGFjZS10ZWxlc2NvcGUtZ2F"
          "sYXhpZXMtdW5pdmVyc2XSAQA")
NEW_ID = ("CBMiWkFVX3lxTE5XLTQ0aVRhMjJ5d0phTVdKR1ZjYnFvcUtZQWYyRnp3ck4wRFkyRkxJSUhoLWdhM2RwcnRt"
          "M3ZyUGxVUFF4Wkl1VEhlTzJKQllPWjhpRl90eVUwUdIBX0FVX3lxTE5XZ2dRWnlwSmZieHo5aHdNeFFoc3F1c"
          "HpJdWUwcUw3d2ZEUTR2b3RETm9scVB0NDVpd1BEQTBxd3dkT0lBT2NGOFE3U2xiYWEzQTlJX3gxVzJjOVJVWm"
          "xF")


def google_id(url: str) -> str:
    """An id of the older form holding ``url`` (a protobuf: field 1 = 19, field 4 = url)."""
    raw = b'\x08\x13"' + bytes([len(url)]) + url.encode() + b"\xd2\x01\x00"
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def on_site(site, slug: str, title: str, words: list[str], *, published: bool) -> Story:
    """A story of ``site``, published in its feed or not."""
    story = sample_story(slug, title, words)
    site.articles[story.slug] = story
    if published:
        site.publish(story)
    return story


def twenty_minutes_ago() -> str:
    """The pubDate of a Google item 20 minutes old."""
    return (datetime.now(UTC) - timedelta(minutes=20)).strftime("%a, %d %b %Y %H:%M:%S GMT")


def item(link: str, title: str, publisher: str, others: tuple[tuple[str, str], ...] = (),
         when: str = "Sun, 06 Dec 2026 09:00:00 GMT") -> str:
    """A Google News item: a story's lists other outlets' headlines in its description."""
    def entry(headline: str, outlet: str) -> str:
        return (f'&lt;a href="{link}" target="_blank"&gt;{headline}&lt;/a&gt;&amp;nbsp;&amp;nbsp;'
                f'&lt;font color="#6f6f6f"&gt;{outlet}&lt;/font&gt;')
    own = title.rsplit(" - ", 1)[0]
    description = entry(own, publisher)
    if others:
        description = "&lt;ol&gt;" + "".join(
            f"&lt;li&gt;{entry(h, o)}&lt;/li&gt;" for h, o in ((own, publisher), *others)
        ) + "&lt;/ol&gt;"
    guid = link.rpartition("/")[2].partition("?")[0]
    return (f"<item><title>{title}</title><link>{link}</link>"
            f'<guid isPermaLink="false">{guid}</guid><pubDate>{when}</pubDate>'
            f"<description>{description}</description>"
            f'<source url="https://publisher.example">{publisher}</source></item>')


def feed(*items: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><rss version="2.0" '
            'xmlns:media="http://search.yahoo.com/mrss/"><channel><generator>NFE/5.0</generator>'
            '<title>"Maduro" - Google News</title><link>https://news.google.com/search?q=Maduro'
            f"&amp;hl=en-US&amp;gl=US&amp;ceid=US:en</link>{''.join(items)}</channel></rss>"
            ).encode()


def test_a_google_news_item_is_its_publishers_article_under_its_own_headline() -> None:
    # The headline came with " - Mashable" glued on, the description with the publisher's
    # name and, for a story, other outlets' headlines (a topic on one of them alerted for
    # this article); the link was Google's, whose page is a script or a consent wall.
    old = f"https://news.google.com/rss/articles/{OLD_ID}?oc=5"
    new = f"https://news.google.com/rss/articles/{NEW_ID}?oc=5"
    single, story = parse_feed(feed(
        item(old, "Webb photo reveals how the universe turned its lights on - Mashable",
             "Mashable"),
        item(new, "Harbour wind farm approved - The Northgate Herald", "The Northgate Herald",
             others=(("Belarus blamed for turbine delays", "Minsk Daily"),)),
    ), "https://news.google.com/rss/search?q=Maduro").entries
    assert single.link == ("https://mashable.com/article/"
                           "james-webb-space-telescope-galaxies-universe")
    assert single.aliases == (old,)
    assert single.title == "Webb photo reveals how the universe turned its lights on"
    assert single.summary == single.title
    assert (story.link, story.title) == (new, "Harbour wind farm approved")
    assert story.summary == "Harbour wind farm approved"
    assert publisher_url(new) is None
    assert publisher_url("https://news.example/rss/articles/" + OLD_ID) is None


def test_google_news_items_alert_once_on_their_own_words(site, mail, workdir) -> None:
    # Through `crawl`: a story in a Google News feed and in its publisher's feed was two
    # articles, two alerts (Google's snippet under Google's address, the page); the
    # snippet said "Reuters", which a topic matched; a story's item alerted on another
    # outlet's headline; a link naming no page had Google's page read as the article.
    story = on_site(site, "maduro-havana", "Maduro leaves Caracas for Havana",
                    ["Maduro", "Caracas"], published=True)
    when = twenty_minutes_ago()
    old = f"https://news.google.com/rss/articles/{google_id(site.article_url(story.slug))}?oc=5"
    new = f"https://news.google.com/rss/articles/{NEW_ID}?oc=5"
    google = site.serve("/rss/search", feed(
        item(old, "Maduro leaves Caracas for Havana - Reuters", "Reuters", when=when),
        item(new, "Harbour wind farm approved - The Northgate Herald", "The Northgate Herald",
             others=(("Belarus blamed for turbine delays", "Minsk Daily"),), when=when),
    ))
    workdir.write_config(sources=[google, site.url("/feeds/world.rss")], smtp=mail, topics=[
        {"name": "Maduro", "query": "Maduro", "notify": ["maduro@test.example"]},
        {"name": "Wind", "query": "wind", "notify": ["wind@test.example"]},
        {"name": "Publisher", "query": "Reuters OR Belarus", "notify": ["other@test.example"]},
    ])
    out = workdir.newswatch("crawl").stdout
    assert "2 new article(s)" in out and "delivered 2 email(s)" in out, out
    rows = {row["title"]: row for row in map(json.loads,
                                             workdir.newswatch("export").stdout.splitlines())}
    assert set(rows) == {"Maduro leaves Caracas for Havana", "Harbour wind farm approved"}
    maduro = rows["Maduro leaves Caracas for Havana"]
    assert maduro["url"] == site.article_url(story.slug)
    assert maduro["extraction"].startswith("page:") and "Caracas" in maduro["text"]
    wind = rows["Harbour wind farm approved"]
    assert (wind["url"], wind["text"], wind["extraction"]) == (
        new, "Harbour wind farm approved", "feed")
    messages = mail.wait_for(2)
    assert sorted(m["To"] for m in messages) == ["maduro@test.example", "wind@test.example"]
    [alert] = [m for m in messages if m["To"] == "maduro@test.example"]
    assert site.article_url(story.slug) in alert.get_body(("plain",)).get_content()
    assert "news.google.com" not in alert.get_body(("plain",)).get_content()
    assert not [r for r in site.requests if "/rss/articles/" in r.path]


def test_a_google_news_items_publisher_loses_the_markup_of_its_source(site, workdir) -> None:
    # Through `crawl`: a <source> written as CDATA with markup inside named the publisher
    # "<b>Reuters</b>" in emails and `export`, and the headline kept its " - Reuters".
    story = on_site(site, "maduro-havana", "Maduro leaves Caracas for Havana",
                    ["Maduro", "Caracas"], published=False)
    sourced = item(site.article_url(story.slug), "Maduro leaves Caracas for Havana - Reuters",
                   "Reuters", when=twenty_minutes_ago())
    google = site.serve("/rss/search", feed(sourced.replace(
        ">Reuters</source>", "><![CDATA[<b>Reuters</b>]]></source>")))
    workdir.write_config(sources=[google], topics=[
        {"name": "Maduro", "query": "Maduro", "notify": ["maduro@test.example"]}])
    workdir.newswatch("crawl")
    [row] = map(json.loads, workdir.newswatch("export").stdout.splitlines())
    assert (row["source"], row["title"]) == ("Reuters", "Maduro leaves Caracas for Havana"), row


def test_google_news_titles_lose_their_publisher_without_source_or_google_link(
    site, mail, workdir,
) -> None:
    # Through `crawl`: an item without <source> kept " - AP News" in its headline, and one
    # Google links straight to its publisher's page kept " - Reuters": both reached the
    # inbox so titled, and a topic on the publisher's name alerted for them.
    story = on_site(site, "maduro-havana", "Maduro leaves Caracas for Havana",
                    ["Maduro", "Caracas"], published=False)
    when = twenty_minutes_ago()
    unsourced = item(f"https://news.google.com/rss/articles/{NEW_ID}?oc=5",
                     "Maduro says talks with envoys will go on - AP News", "AP News", when=when)
    unsourced = unsourced.replace('<source url="https://publisher.example">AP News</source>', "")
    google = site.serve("/rss/search", feed(
        unsourced,
        item(site.article_url(story.slug), "Maduro leaves Caracas for Havana - Reuters",
             "Reuters", others=(("Belarus blamed for turbine delays", "Minsk Daily"),),
             when=when),
    ))
    workdir.write_config(sources=[google], smtp=mail, topics=[
        {"name": "Maduro", "query": "Maduro", "notify": ["maduro@test.example"]},
        {"name": "Publisher", "query": 'Reuters OR "AP News"', "notify": ["other@test.example"]},
    ])
    workdir.newswatch("crawl")
    titles = {json.loads(row)["title"] for row in workdir.newswatch("export").stdout.splitlines()}
    assert titles == {"Maduro says talks with envoys will go on",
                      "Maduro leaves Caracas for Havana"}
    [alert] = mail.wait_for(1)
    assert alert["To"] == "maduro@test.example"
    body = alert.get_body(("plain",)).get_content()
    assert " - AP News" not in body and " - Reuters" not in body, body


def test_a_story_from_google_news_and_its_publisher_is_mailed_as_the_publishers_page(
    site, mail, workdir,
) -> None:
    # Through `crawl`: a Google News item whose link names no page, and its publisher's own
    # article, came in one poll; the alert was Google's headline under Google's link, the
    # publisher's page (its words, its address) only an "Also on" line.
    story = on_site(site, "maduro-oil", "Maduro signs oil deal with Chinese firms in Caracas",
                    ["Maduro", "oil"], published=True)
    when = twenty_minutes_ago()
    google = site.serve("/rss/search", feed(item(
        f"https://news.google.com/rss/articles/{NEW_ID}?oc=5",
        "Maduro signs oil deal with Chinese firms in Caracas - The Northgate Herald",
        "The Northgate Herald", when=when)))
    workdir.write_config(sources=[google, site.url("/feeds/world.rss")], smtp=mail, topics=[
        {"name": "Maduro", "query": "Maduro", "notify": ["maduro@test.example"]},
    ])
    out = workdir.newswatch("crawl").stdout
    assert "2 new article(s)" in out and "delivered 1 email(s)" in out, out
    [alert] = mail.wait_for(1)
    body = alert.get_body(("plain",)).get_content()
    assert site.article_url(story.slug) in body, body
    assert "news.google.com" not in body, body


def test_a_google_news_item_is_its_publishers_in_emails_and_exports(
    site, mail, workdir,
) -> None:
    # Through `crawl`: every Google News item was named after the feed it came through
    # ('"Maduro" - Google News') in its email, `export` and `stories`, where Google Alerts
    # name the outlet; the item's <source> (else the " - Publisher" after its headline)
    # is its source.
    when = twenty_minutes_ago()
    sourced = item(f"https://news.google.com/rss/articles/{NEW_ID}?oc=5",
                   "Maduro names a new oil minister in Caracas - The Northgate Herald",
                   "The Northgate Herald", when=when)
    unsourced = item(f"https://news.google.com/rss/articles/{NEW_ID}x?oc=5",
                     "Maduro says talks with envoys will go on - AP News", "AP News", when=when)
    unsourced = unsourced.replace('<source url="https://publisher.example">AP News</source>', "")
    google = site.serve("/rss/search", feed(sourced, unsourced))
    workdir.write_config(sources=[google], smtp=mail, topics=[
        {"name": "Maduro", "query": "Maduro", "notify": ["maduro@test.example"]},
    ])
    workdir.newswatch("crawl")
    exported = {json.loads(row)["title"]: json.loads(row)["source"]
                for row in workdir.newswatch("export").stdout.splitlines()}
    assert exported == {"Maduro names a new oil minister in Caracas": "The Northgate Herald",
                        "Maduro says talks with envoys will go on": "AP News"}
    [alert] = mail.wait_for(1)
    body = alert.get_body(("plain",)).get_content()
    assert "The Northgate Herald" in body and "AP News" in body, body
    assert "Google News" not in body, body


def test_a_google_news_items_publisher_is_kept_while_its_page_is_unavailable(
    site, mail, workdir,
) -> None:
    # Through `crawl`: a Google item naming its publisher's page, the page unavailable at
    # the first poll (503) and read at the next, the feed no longer listing it: it was
    # stored as the feed's ('"Maduro" - Google News'), its deferred entry without the
    # publisher its item named.
    story = on_site(site, "maduro-havana", "Maduro leaves Caracas for Havana",
                    ["Maduro", "Caracas"], published=False)
    page = f"/articles/{story.slug}"
    old = f"https://news.google.com/rss/articles/{google_id(site.article_url(story.slug))}?oc=5"
    google = site.serve("/rss/search", feed(item(
        old, "Maduro leaves Caracas for Havana - The Northgate Herald", "The Northgate Herald",
        when=twenty_minutes_ago())))
    workdir.write_config(sources=[google], smtp=mail, topics=[
        {"name": "Maduro", "query": "Maduro", "notify": ["maduro@test.example"]},
    ])
    site.set_status(page, 503)
    workdir.newswatch("crawl")
    assert not workdir.newswatch("export").stdout.strip()
    site.set_status(page, None)
    site.serve("/rss/search", feed())
    workdir.newswatch("crawl")
    [row] = [json.loads(line) for line in workdir.newswatch("export").stdout.splitlines()]
    assert (row["url"], row["source"]) == (site.article_url(story.slug), "The Northgate Herald")
