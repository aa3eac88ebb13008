"""Every kind of source gives the same quality of articles and alerts: feeds (RSS, Atom,
JSON Feed), Google News sitemaps, sitemap indexes, pages without feeds, and a site's home
page whose feed or sitemap newswatch discovers."""

from __future__ import annotations

import html
import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from conftest import Workdir
from newssite import CHROME_WORDS, STORIES_BY_SLUG, sample_story

from crawler.spider import MAX_POLL_SITEMAPS

MADURO = {"name": "Maduro exit", "query": "Maduro", "notify": ["desk@test.example"]}


def fresh(slug, minutes_ago=30):
    when = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return replace(STORIES_BY_SLUG[slug], published=when)


def crawl(workdir):
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    return result.stdout


def exported(workdir):
    out = workdir.newswatch("export").stdout
    return {row["url"]: row for row in map(json.loads, out.splitlines())}


def source(workdir):
    with sqlite3.connect(workdir.database) as db:
        db.row_factory = sqlite3.Row
        return dict(db.execute("SELECT * FROM sources").fetchone())


def test_page_without_feed_follows_only_article_links(site, mail, workdir):
    site.create_feed("nofeed")
    site.publish(fresh("venezuela-opposition-leader"), feed="nofeed")
    site.publish(fresh("city-late-winner", 60), feed="nofeed")
    workdir.write_config(sources=[site.url("/nofeed/")], topics=[MADURO], smtp=mail)
    out = crawl(workdir)
    assert "1 ok" in out and "2 new article(s)" in out
    rows = exported(workdir)
    assert set(rows) == {site.article_url("venezuela-opposition-leader"),
                         site.article_url("city-late-winner")}
    for row in rows.values():
        assert row["extraction"] == "page:fast" and row["title"]
    fetched = {r.path for r in site.requests}
    for chrome in ("/tag/", "/author/", "/login", "/page/2", "/register", "/search"):
        assert not any(p.startswith(chrome) for p in fetched), (chrome, fetched)
    [message] = mail.wait_for(1)
    assert "Maduro exit" in message["Subject"]
    assert source(workdir)["detected"] == "page"
    # The next poll fetches only links it has not seen.
    site.publish(fresh("harbour-wind-farm-approved", 5), feed="nofeed")
    before = len([r for r in site.requests if r.path.startswith("/articles/")])
    assert "1 new article(s)" in crawl(workdir)
    after = len([r for r in site.requests if r.path.startswith("/articles/")])
    assert after == before + 1


@pytest.mark.parametrize("author", [
    "/autores/inigo_saenz_de_ugarte/", "/autor/maria-jose-lopez-diaz",
    "/auteurs/jean-baptiste-de-la-salle", "/autoren/77921134/hans-peter-von-arnim",
])
def test_a_teasers_byline_to_an_author_page_of_any_language_is_not_followed(site, workdir, author):
    """A byline naming its author as a headline is long ("Iñigo Sáenz de Ugarte", "María
    José López Díaz": two surnames) linked to the author's page under a Spanish, French or
    German segment (``/autores/``, ``/auteurs/``, ``/autoren/``) with a slug or number:
    followed as an article, the author's page of teasers was fetched at every poll, and
    stored and alerted as one where its teasers' summaries read as an article's text."""
    story = fresh("venezuela-opposition-leader")
    site.articles[story.slug] = story
    name = " ".join(author.strip("/").split("/")[-1].replace("_", "-").split("-")).title()
    cards = "".join(
        f'<article class="card"><h2><a href="/articles/{slug}">{title}</a></h2><p>{summary}'
        f'</p><p class="byline">Por <a href="{author}">{name}</a></p></article>'
        for slug, title, summary in [(story.slug, story.title, story.summary)])
    home = site.serve("/portada/", f"<html><body><main>{cards}</main></body></html>".encode(),
                      content_type="text/html; charset=utf-8")
    workdir.write_config(sources=[{"url": home, "kind": "page"}])
    crawl(workdir)
    assert set(exported(workdir)) == {site.article_url(story.slug)}
    assert site.requests_for(author.rstrip("/")) == site.requests_for(author) == []


def test_an_old_portals_pop_up_and_image_map_headlines_are_followed_and_alert(site, mail, workdir):
    """A 2000s portal without a feed opens its headlines in pop-up windows
    (``javascript:popup('story.asp?id=4711&sect=world')``) and makes its splash picture's
    hot spots headlines too (an image map's ``<area>``): neither was read as a link, so the
    source failed with "no article links" and its stories never alerted. Each is fetched
    at its address as written (``&sect=`` is no section sign), and alerts once; the other
    story's page chrome, which names Maduro too, alerts for nothing."""
    stories = {"/story.asp?id=4711&sect=world": fresh("venezuela-opposition-leader"),
               "/cgi-bin/news.pl?n=17&para=2&copy=1": fresh("city-late-winner", 60)}
    for target, story in stories.items():
        site.serve(target, site.render_article(story), content_type="text/html")
    popped, mapped = (html.escape(s.title) for s in stories.values())
    home = site.serve("/default.asp", (
        '<html><head><title>The Gazette \u2019s front page</title><base href="/news/">'
        "<script>function popup(u){window.open(u,'story','width=500')}</script></head>"
        '<body><table width="780"><tr><td width="150"><font size="2">'
        "<a href=\"javascript:popup('/section.asp?s=world')\">World</a><br>"
        "<a href=\"javascript:history.go(-1)\">Back</a></font></td><td>"
        f"<font face=\"Verdana\" size=\"3\"><b><a href=\"javascript:popup('../story.asp?id=4711"
        f"&sect=world')\">{popped}</a></b></font></td></tr></table>"
        '<img src="/img/splash.gif" usemap="#splash" border="0"><map name="splash">'
        '<area shape="rect" coords="0,0,200,20" href="/cgi-bin/news.pl?n=17&amp;para=2&amp;'
        f'copy=1" alt="{mapped}"></map></body></html>').encode("cp1252"),
        content_type="text/html")
    workdir.write_config(sources=[{"url": home, "kind": "page"}], topics=[MADURO], smtp=mail)
    out = crawl(workdir)
    assert "1 ok" in out and "2 new article(s)" in out and "1 email(s) queued" in out, out
    for target in stories:
        assert [r.status for r in site.requests_for(target)] == [200], target
    [message] = mail.wait_for(1)
    assert "Maduro exit" in message["Subject"]
    assert message.get_body(("plain",)).get_content().count("returns to Caracas") >= 1


def test_a_framed_sites_headline_frames_are_read_and_their_next_story_alerts(site, mail, workdir):
    """A 2000s site whose home page is a frameset (its menu and its headlines in frames of
    their own), the headlines page holding its latest news in an ``<iframe>``: the home page
    itself links to no article, so the source failed at every poll ("no article links")
    and none of its stories alerted. Its frames on the site are read as its own page; and
    as the frameset's Last-Modified does not change when a frame does, it is asked without
    validators (its 304 would hide each new headline)."""
    older, later = fresh("city-late-winner", 120), fresh("venezuela-opposition-leader")
    pages = {"/story.asp?id=4711&sect=world": older, "/story.asp?id=4712&sect=world": later}
    for target, story in pages.items():
        site.serve(target, site.render_article(story), content_type="text/html")
    old_web = {"content_type": "text/html", "headers": {"Last-Modified": "Tue, 15 Jan 2008 09:30:00 GMT"}}
    home = site.serve("/gazette/", (
        b'<html><head><title>The Gazette</title></head><frameset cols="150,*">'
        b'<frame src="menu.htm" name="menu"><frame src="main.htm" name="main">'
        b"<noframes>Your browser does not support frames.</noframes></frameset></html>"), **old_web)
    site.serve("/gazette/menu.htm", (
        b'<html><body><a href="/section.asp?s=world" target="main">World</a><br>'
        b'<a href="/section.asp?s=sport" target="main">Sport</a></body></html>'), **old_web)

    def headlines(target: str, story) -> bytes:
        return (f'<tr><td><font size="3"><b><a href="{html.escape(target)}" target="_top">'
                f"{html.escape(story.title)}</a></b></font></td></tr>").encode()

    site.serve("/gazette/main.htm", (
        b'<html><body><table width="100%">' + headlines("/story.asp?id=4711&sect=world", older)
        + b'</table><iframe src="/gazette/latest.htm" width="300"></iframe></body></html>'),
        **old_web)
    site.serve("/gazette/latest.htm", b"<html><body><table></table></body></html>", **old_web)
    workdir.write_config(sources=[{"url": home, "kind": "page"}], topics=[MADURO], smtp=mail)
    out = crawl(workdir)
    assert "1 ok" in out and "1 new article(s)" in out, out
    site.serve("/gazette/latest.htm", b"<html><body><table>" + headlines(
        "/story.asp?id=4712&sect=world", later) + b"</table></body></html>", **old_web)
    out = crawl(workdir)
    assert "1 new article(s)" in out and "1 email(s) queued" in out, out
    for target in pages:
        assert [r.status for r in site.requests_for(target)] == [200], target
    assert not site.requests_for("/gazette/")[-1].headers.get("if-modified-since")
    [message] = mail.wait_for(1)
    assert "Maduro exit" in message["Subject"]


#: A page's headers, as its web server writes them: the date its file was last changed.
_MODIFIED = {"content_type": "text/html", "headers": {"Last-Modified": "Mon, 07 Dec 2026 06:00:00 GMT"}}


def _headlines(site, count: int) -> bytes:
    """Headlines linking to ``count`` stories served on ``site``, as a news page lists them."""
    links = b""
    for n, slug in enumerate(list(STORIES_BY_SLUG)[:count]):
        target = f"/news/2026/12/0{n + 1}/{slug}"
        site.serve(target, site.render_article(fresh(slug, 60 + n)), content_type="text/html")
        links += f'<h2><a href="{target}">{html.escape(STORIES_BY_SLUG[slug].title)}</a></h2>'.encode()
    return links


def test_a_modern_home_pages_iframe_is_not_read_and_its_304_kept(site, workdir):
    """A news home page that links to its articles holds an iframe on its own site (a poll,
    a video player): not read, as a frameset's frames are (a request more at every poll, and
    the page asked without validators, never a 304)."""
    links = _headlines(site, 6)
    home = site.serve("/front/", b"<html><body><main>" + links
                      + b'<iframe src="/widgets/poll.htm"></iframe></main></body></html>', **_MODIFIED)
    site.serve("/widgets/poll.htm", b"<html><body><form>Vote</form></body></html>", **_MODIFIED)
    workdir.write_config(sources=[{"url": home, "kind": "page"}], topics=[MADURO])
    assert "1 ok" in crawl(workdir)
    crawl(workdir)
    assert site.requests_for("/widgets/poll.htm") == []
    assert site.requests_for("/front/")[-1].headers.get("if-modified-since")


def test_a_pages_iframe_without_article_links_keeps_its_304(site, workdir):
    """A section page that links to few articles of its own (its iframes are read, as an old
    portal's headline ticker is) holds a video player on its own site: its frame brings no
    article link, so the page is no frameset whose 304 would hide a new headline. It was
    asked without validators and the player read at every poll; the page's 304 is kept."""
    links = _headlines(site, 2)
    page = b"<html><body><main>" + links + b'<iframe src="/video/embed/8841"></iframe></main></body></html>'
    section = site.serve("/video/", page, **_MODIFIED)
    site.serve("/video/embed/8841", b"<html><body><video src='/v/8841.mp4'></video></body></html>",
               **_MODIFIED)
    workdir.write_config(sources=[{"url": section, "kind": "page"}], topics=[MADURO])
    out = crawl(workdir)
    assert "1 ok" in out and "2 new article(s)" in out, out
    site.serve("/video/", b"", status=304, **_MODIFIED)
    assert "1 ok" in crawl(workdir)
    assert site.requests_for("/video/")[-1].headers.get("if-modified-since")
    assert len(site.requests_for("/video/embed/8841")) == 1


def test_a_pages_headline_iframe_emptied_for_a_poll_does_not_give_it_its_304(site, workdir):
    """An old portal's section page that links to one article of its own, its latest news
    in an iframe, which lists nothing at one poll (today's news, emptied at midnight): its
    frame held no article link then, so it was taken for a video player's, and the page
    asked with its Last-Modified at the next polls, which does not change when the frame
    does: its 304 hid the day's first headlines for up to FULL_READ_POLLS polls."""
    first, *today = [link + b"</h2>" for link in _headlines(site, 3).split(b"</h2>")[:3]]
    section = site.serve("/world/", b"<html><body><main>" + first
                         + b'<iframe src="/world/latest.htm"></iframe></main></body></html>',
                         **_MODIFIED)
    site.serve("/world/latest.htm", b"<html><body>" + today[0] + b"</body></html>", **_MODIFIED)
    workdir.write_config(sources=[{"url": section, "kind": "page"}], topics=[MADURO])
    out = crawl(workdir)
    assert "1 ok" in out and "2 new article(s)" in out, out
    site.serve("/world/latest.htm", b"<html><body></body></html>", **_MODIFIED)
    assert "1 ok" in crawl(workdir)
    site.serve("/world/latest.htm", b"<html><body>" + today[1] + b"</body></html>", **_MODIFIED)
    out = crawl(workdir)
    assert not site.requests_for("/world/")[-1].headers.get("if-modified-since")
    assert "1 new article(s)" in out, out


def test_page_source_include_and_exclude_patterns(site, workdir):
    site.create_feed("nofeed")
    site.publish(fresh("venezuela-opposition-leader"), feed="nofeed")
    site.publish(fresh("city-late-winner"), feed="nofeed")
    workdir.write_config(sources=[{
        "url": site.url("/nofeed/"), "kind": "page",
        "include": ["*/articles/*"], "exclude": ["*/articles/city-*"],
    }])
    crawl(workdir)
    urls = set(exported(workdir))
    # include replaces the heuristic (any /articles/ link counts, "most read" ones too) ...
    assert site.article_url("venezuela-opposition-leader") in urls
    assert all("/articles/" in url for url in urls)
    # ... and exclude always removes.
    assert site.article_url("city-late-winner") not in urls
    assert site.requests_for("/articles/city-late-winner") == []


def test_google_news_sitemap(site, mail, workdir):
    site.publish(fresh("venezuela-opposition-leader"))
    site.publish(fresh("central-bank-holds-rates"))
    workdir.write_config(sources=[site.url("/sitemaps/news.xml")], topics=[MADURO], smtp=mail)
    assert "2 new article(s)" in crawl(workdir)
    rows = exported(workdir)
    story = STORIES_BY_SLUG["venezuela-opposition-leader"]
    assert rows[site.article_url(story.slug)]["title"] == story.title
    for word in CHROME_WORDS:
        if word not in " ".join(STORIES_BY_SLUG["central-bank-holds-rates"].body):
            assert word not in rows[site.article_url("central-bank-holds-rates")]["text"]
    mail.wait_for(1)
    assert source(workdir)["detected"] == "news sitemap"
    second = crawl(workdir)
    assert "0 new article(s)" in second
    assert site.requests_for("/sitemaps/news.xml")[-1].status == 304


def test_sitemap_index_takes_only_recent_urls(site, workdir):
    site.publish(fresh("venezuela-opposition-leader"))
    workdir.write_config(sources=[site.url("/sitemaps/index.xml")])
    out = crawl(workdir)
    assert "1 ok" in out
    rows = exported(workdir)
    # The archive's canned stories are days old, its undated pages older: not fetched.
    assert list(rows) == [site.article_url("venezuela-opposition-leader")]
    assert source(workdir)["detected"] == "sitemap index"


def test_sitemap_index_of_indexes_is_followed_to_the_recent_urls(site, workdir):
    """An index listing indexes (sitemaps filed by year, then month): its recent sitemaps
    are read, levels down. Before, the inner index's sitemaps were never fetched."""
    site.publish(fresh("venezuela-opposition-leader"))
    workdir.write_config(sources=[site.url("/sitemaps/nested-index.xml")])
    assert "1 new article(s)" in crawl(workdir)
    assert list(exported(workdir)) == [site.article_url("venezuela-opposition-leader")]
    assert site.requests_for("/sitemaps/news.xml")
    assert source(workdir)["detected"] == "sitemap index"


def test_an_index_of_recent_indexes_is_read_in_bounded_requests(site, workdir):
    """An index whose 12 recent children are indexes of 12 recent indexes each, one of them
    listing itself (a broken or hostile site): 1,885 requests in one poll, a crawl of
    half an hour at the site's one request a second (a review)."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")

    def index(children: list[str]) -> bytes:
        listed = "".join(f"<sitemap><loc>{site.url(c)}</loc><lastmod>{now}</lastmod></sitemap>"
                         for c in children)
        return ('<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.'
                f'sitemaps.org/schemas/sitemap/0.9">{listed}</sitemapindex>').encode()

    for a in range(12):
        for b in range(12):
            site.serve(f"/fan/{a}/{b}.xml", index([f"/fan/{a}/{b}/{c}.xml" for c in range(12)]),
                       content_type="application/xml")
        site.serve(f"/fan/{a}.xml", index([f"/fan/{a}/{b}.xml" for b in range(12)]
                                          + ["/fan/top.xml"]), content_type="application/xml")
    top = site.serve("/fan/top.xml", index([f"/fan/{a}.xml" for a in range(12)]
                                           + ["/fan/top.xml"]), content_type="application/xml")
    workdir.write_config(sources=[top])
    crawl(workdir)
    asked = [r for r in site.requests if r.target.startswith("/fan/")]
    assert len(site.requests_for("/fan/top.xml")) == 1
    assert len(asked) == 1 + MAX_POLL_SITEMAPS, len(asked)


def test_sitemap_index_that_never_changes_is_read_whole_for_its_sitemaps(site, workdir):
    """A static index whose sitemaps carry no lastmod answers 304 while they change: it is
    polled without validators, and the new article of its news sitemap is found. So is an
    index that dates them, when it lists a news sitemap (its lastmod there is often days
    old, or a date alone, while the news changes by the minute)."""
    site.publish(fresh("venezuela-opposition-leader"))
    workdir.write_config(sources=[site.url("/sitemaps/static-index.xml"),
                                  site.url("/sitemaps/index.xml")])
    assert "2 ok" in crawl(workdir)
    site.publish(fresh("harbour-wind-farm-approved", 0.1))

    crawl(workdir)

    assert site.article_url("harbour-wind-farm-approved") in exported(workdir)
    assert [r.status for r in site.requests_for("/sitemaps/static-index.xml")] == [200, 200]
    assert not site.requests_for("/sitemaps/static-index.xml")[1].headers.get("If-None-Match")
    assert not site.requests_for("/sitemaps/static-index.xml")[1].headers.get(
        "If-Modified-Since")
    crawl(workdir)  # nothing new: the dated index of a news sitemap is read whole too
    assert site.requests_for("/sitemaps/index.xml")[-1].status == 200


def test_the_news_sitemap_of_an_index_is_read_whatever_its_lastmod(site, workdir):
    """An index whose lastmod of its news sitemap is that of a deployment days ago: the news
    sitemap was never fetched (not "recent"), the source said "ok; articles 0"."""
    site.publish(fresh("venezuela-opposition-leader"))
    stale = (datetime.now(UTC) - timedelta(days=5)).replace(microsecond=0).isoformat()
    site.serve("/stale-index.xml", (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f'<sitemap><loc>{site.url("/sitemaps/news.xml")}</loc><lastmod>{stale}</lastmod>'
        "</sitemap></sitemapindex>").encode(), content_type="application/xml")
    workdir.write_config(sources=[site.url("/stale-index.xml")])
    assert "1 new article(s)" in crawl(workdir)


def test_sitemap_of_an_index_that_answers_429_is_read_at_the_next_poll(site, workdir):
    """A child sitemap answering 429 (or any 5xx) leaves the index's validators unsaved:
    the next poll reads the index whole, and the sitemap's articles are found."""
    site.publish(fresh("venezuela-opposition-leader"))
    site.set_status("/sitemaps/news.xml", 429)
    workdir.write_config(sources=[site.url("/sitemaps/index.xml")])
    crawl(workdir)
    assert exported(workdir) == {}
    site.clear_status("/sitemaps/news.xml")

    crawl(workdir)

    assert site.requests_for("/sitemaps/index.xml")[-1].status == 200
    assert list(exported(workdir)) == [site.article_url("venezuela-opposition-leader")]


def test_pages_of_an_index_deferred_are_requested_once_whether_still_listed_or_not(site, workdir):
    """The deferred pages of a sitemap index's source are requested at its next poll, the
    one its news sitemap no longer lists too; one still listed is requested once."""
    dropped, listed = fresh("venezuela-opposition-leader"), fresh("central-bank-holds-rates")
    for story in (dropped, listed):
        site.publish(story)
        site.set_status(f"/articles/{story.slug}", 503)
    workdir.write_config(sources=[site.url("/sitemaps/index.xml")])
    crawl(workdir)
    assert exported(workdir) == {}
    site.retract(dropped.slug)
    for story in (dropped, listed):
        site.clear_status(f"/articles/{story.slug}")

    crawl(workdir)

    rows = exported(workdir)
    assert {url: row["extraction"] for url, row in rows.items()} == {
        site.article_url(dropped.slug): "page:fast", site.article_url(listed.slug): "page:fast"
    }
    for story in (dropped, listed):
        assert len(site.requests_for(f"/articles/{story.slug}")) == 2


def test_a_link_skipped_as_no_article_is_still_a_feeds_entry(site, workdir):
    """A page source's link that had no article text (a video page) is skipped for links
    from then on; a feed listing the same address with a title and summary still stores it
    (with its summary). Before, the skip held for every source: the feed's entry was lost."""
    video = replace(STORIES_BY_SLUG["venezuela-opposition-leader"], slug="maduro-video",
                    published=datetime.now(UTC) - timedelta(minutes=20))
    site.serve("/articles/maduro-video", b"<html><head><title>Video</title></head><body>"
               b"<video src='/v.mp4'></video></body></html>", content_type="text/html")
    site.create_feed("nofeed")
    site.publish(fresh("city-late-winner", 120), feed="nofeed")
    site.publish(video, feed="nofeed")
    workdir.write_config(sources=[site.url("/nofeed/")])
    crawl(workdir)
    assert site.article_url("maduro-video") not in exported(workdir)  # skipped: no article
    site.publish(video, feed="world")
    workdir.write_config(sources=[site.url("/nofeed/"), site.url("/feeds/world.rss")])

    crawl(workdir)

    row = exported(workdir)[site.article_url("maduro-video")]
    assert (row["title"], row["extraction"]) == (video.title, "feed")
    assert row["text"].startswith(video.summary[:40])


SLUGS = ["venezuela-opposition-leader", "central-bank-holds-rates", "city-late-winner",
         "harbour-wind-farm-approved", "zelensky-grain-corridor"]


def small_crawl(workdir, pages: int = 3, **env: str) -> str:
    """``newswatch crawl`` with polls of at most ``pages`` new pages (tests/small_polls.py),
    ``env`` in its environment."""
    import subprocess
    import sys
    from pathlib import Path

    from conftest import subprocess_env

    script = Path(__file__).parent / "small_polls.py"
    done = subprocess.run([sys.executable, str(script), "--config", str(workdir.config),
                           "crawl"], cwd=workdir.path,
                          env=subprocess_env(SMALL_POLL_PAGES=str(pages), **env),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_poll_takes_its_newest_pages_and_leaves_the_rest_to_the_next(site, workdir):
    """A source listing more new pages than a poll takes (500; 3 here: tests/small_polls.py)
    gives its newest, and the rest at its next polls, which read it whole; before, a feed of
    its whole archive held every other source's polls until each page was fetched."""
    for age, slug in enumerate(SLUGS):  # the first the newest
        site.publish(fresh(slug, 10 + 10 * age))
    workdir.write_config(sources=[site.url("/feeds/world.rss")])
    assert "3 new article(s)" in small_crawl(workdir)
    assert sorted(exported(workdir)) == sorted(site.article_url(s) for s in SLUGS[:3])
    assert "2 new article(s)" in small_crawl(workdir)
    assert sorted(exported(workdir)) == sorted(site.article_url(s) for s in SLUGS)
    assert not site.requests_for("/feeds/world.rss")[1].headers.get("If-None-Match")
    assert "0 new article(s)" in small_crawl(workdir)
    assert site.requests_for("/feeds/world.rss")[-1].status == 304  # all taken: validators


def test_a_sitemaps_lastmod_is_no_publication_date(site, mail, workdir):
    """A plain sitemap's lastmod says when a page changed: an archive page of 2019 edited
    today (or listed with today's date, as some generators write every URL) was taken as
    published today, stored so and alerted as new. Its page's own date is read."""
    old = replace(STORIES_BY_SLUG["venezuela-opposition-leader"], slug="maduro-2019",
                  published=datetime(2019, 3, 1, 9, 0, tzinfo=UTC))
    new = fresh("central-bank-holds-rates", 30)
    site.articles[old.slug] = old
    site.articles[new.slug] = new
    now = datetime.now(UTC).replace(microsecond=0)

    def sitemap(*slugs: str) -> bytes:
        urls = "".join(f"<url><loc>{site.article_url(s)}</loc><lastmod>{now.isoformat()}"
                       f"</lastmod></url>" for s in slugs)
        return (f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
                f'sitemap/0.9">{urls}</urlset>').encode()

    feed = site.serve("/plain-sitemap.xml", sitemap(new.slug), content_type="application/xml")
    workdir.write_config(sources=[feed], topics=[MADURO], smtp=mail)
    crawl(workdir)
    site.serve("/plain-sitemap.xml", sitemap(new.slug, old.slug), content_type="application/xml")
    assert "1 new article(s)" in crawl(workdir)
    row = exported(workdir)[site.article_url(old.slug)]
    assert row["published"].startswith("2019-03-01"), row["published"]
    assert mail.messages == []


def test_a_sitemap_date_ahead_of_now_is_not_taken(site, workdir):
    """A news sitemap writing its local time without the offset (a site at +05:30): read as
    UTC, it was 5.5 hours ahead, and stored so. The page's own date is read instead."""
    story = fresh("venezuela-opposition-leader", 1)
    site.articles[story.slug] = story
    ahead = (story.published + timedelta(hours=5, minutes=30)).strftime("%Y-%m-%dT%H:%M:%S")
    site.serve("/local-news.xml", (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        f"<url><loc>{site.article_url(story.slug)}</loc><news:news><news:publication>"
        "<news:name>X</news:name><news:language>en</news:language></news:publication>"
        f"<news:publication_date>{ahead}</news:publication_date><news:title>{story.title}"
        "</news:title></news:news></url></urlset>").encode(), content_type="application/xml")
    workdir.write_config(sources=[site.url("/local-news.xml")])
    assert "1 new article(s)" in crawl(workdir)
    row = exported(workdir)[site.article_url(story.slug)]
    published = datetime.fromisoformat(row["published"])  # the page's (its day, at least)
    assert published <= datetime.now(UTC) and published.date() == story.published.date()


@pytest.mark.parametrize("before", [
    b"\n", b"\xef\xbb\xbf\r\n  ",
    # A PHP warning printed before it (a WordPress plugin's "headers already sent"): the
    # source failed as "not a feed, sitemap or web page", every poll, as a feed's did.
    b"<br />\n<b>Warning</b>:  Cannot modify header information - headers already sent by "
    b"(output started at /var/www/wp-config.php:1) in <b>/var/www/wp-content/plugins/"
    b"news-sitemap.php</b> on line <b>8</b><br />\n",
])
def test_a_sitemap_with_output_before_its_declaration_is_read_with_its_addresses(
        site, workdir, before):
    """A news sitemap printed after a blank line (a PHP template's newline, after a BOM or
    not) is malformed XML: read in lxml's recovery mode, every ``&amp;`` of its addresses
    was dropped (``story.asp?id=123&amp;sect=4`` fetched as ``story.asp?id=123sect=4``: a
    404, the article missed). What a server printed before the declaration is no part of
    the document."""
    story = fresh("venezuela-opposition-leader", 20)
    site.serve("/story.asp?id=123&sect=4", site.render_article(story),
               content_type="text/html; charset=utf-8")
    site.serve("/news-sitemap.xml", before + (
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/'
        'schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        f"<url><loc>{site.url('/story.asp?id=123&amp;sect=4')}</loc><news:news>"
        "<news:publication><news:name>X</news:name><news:language>en</news:language>"
        f"</news:publication><news:publication_date>{story.published.isoformat()}"
        f"</news:publication_date><news:title>{story.title}</news:title></news:news></url>"
        "</urlset>").encode(), content_type="text/xml; charset=UTF-8")
    workdir.write_config(sources=[site.url("/news-sitemap.xml")])
    assert "1 new article(s)" in crawl(workdir)
    assert [r.status for r in site.requests_for("/story.asp?id=123&sect=4")] == [200]
    assert source(workdir)["last_error"] is None


@pytest.mark.parametrize("sitemap", ["/sitemaps/news.xml", "/sitemaps/index.xml"])
def test_a_sitemap_poll_takes_its_newest_new_pages_and_the_rest_next(site, workdir, sitemap):
    """The cap counts new pages only, and an index's children together: a sitemap's recent
    URLs were cut to 500 before the known ones were left out (its 500 known ones kept a
    new one out for good), and an index's children each took 500."""
    for age, slug in enumerate(SLUGS):
        site.publish(fresh(slug, 10 + 10 * age))
    workdir.write_config(sources=[site.url(sitemap)])
    assert "3 new article(s)" in small_crawl(workdir)
    assert sorted(exported(workdir)) == sorted(site.article_url(s) for s in SLUGS[:3])
    assert "2 new article(s)" in small_crawl(workdir)
    assert sorted(exported(workdir)) == sorted(site.article_url(s) for s in SLUGS)


def test_a_first_polls_back_catalogue_left_for_later_is_not_alerted(site, mail, workdir):
    """A sitemap whose generator dates every URL with its build time (Docusaurus, Next.js'
    example) lists its whole archive as new at the first poll: the poll took its cap, and
    the rest, fetched at the next poll as pages found after the first, was all alerted (the
    pages carry no date). What a first poll leaves, undated, is what the site had:
    remembered, not fetched; a page listed later is new."""
    now = datetime.now(UTC).replace(microsecond=0).isoformat()

    def serve(count: int) -> None:
        for n in range(count):
            page = (f"<html><head><title>Maduro archive {n}</title></head><body><article>"
                    f"<h1>Maduro archive {n}</h1><p>{'Maduro spoke in Caracas again. ' * 20}"
                    f"Piece number {n} of the archive.</p></article></body></html>")
            site.serve(f"/archive/{n}", page.encode(), content_type="text/html; charset=utf-8")
        body = ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
                'sitemap/0.9">' + "".join(
                    f"<url><loc>{site.url(f'/archive/{n}')}</loc><lastmod>{now}</lastmod></url>"
                    for n in range(count)) + "</urlset>")
        site.serve("/built-sitemap.xml", body.encode(), content_type="application/xml")

    serve(5)
    workdir.write_config(sources=[site.url("/built-sitemap.xml")], topics=[MADURO], smtp=mail)
    assert "3 new article(s)" in small_crawl(workdir)  # the cap (3 here), stored, not alerted
    assert "0 new article(s)" in small_crawl(workdir)
    assert sum(len(site.requests_for(f"/archive/{n}")) for n in range(5)) == 3
    serve(6)
    out = small_crawl(workdir)
    assert "1 new article(s)" in out and "1 email(s) queued" in out, out
    [message] = mail.wait_for(1)
    assert "Maduro archive 5" in message["Subject"]


def test_json_feed(site, mail, workdir):
    site.publish(fresh("venezuela-opposition-leader"))
    workdir.write_config(sources=[site.url("/feeds/world.json")], topics=[MADURO], smtp=mail)
    assert "1 new article(s)" in crawl(workdir)
    assert source(workdir)["detected"] == "jsonfeed"
    mail.wait_for(1)
    crawl(workdir)
    assert site.requests_for("/feeds/world.json")[-1].status == 304


def test_home_page_with_a_declared_feed_uses_the_feed(site, mail, workdir):
    site.publish(fresh("venezuela-opposition-leader"))
    workdir.write_config(sources=[site.url("/withfeed/")], topics=[MADURO], smtp=mail)
    assert "1 new article(s)" in crawl(workdir)
    row = source(workdir)
    assert row["fetch_url"] == site.url("/feeds/world.rss")
    assert row["via"] == f"feed declared on {site.url('/withfeed/')}"
    mail.wait_for(1)
    home_polls = len(site.requests_for("/withfeed/"))
    crawl(workdir)
    assert len(site.requests_for("/withfeed/")) == home_polls  # straight to the feed now
    assert site.requests_for("/feeds/world.rss")[-1].status == 304
    status = workdir.newswatch("status").stdout
    assert f"polled at: {site.url('/feeds/world.rss')} (feed declared on" in status


def test_a_feed_a_home_page_source_polls_is_not_added_again(site, workdir):
    """A site added by its home page polls the feed the page declares: that feed given
    again (an OPML import from a feed reader, `sources add`) is already there; added
    before the home page found it, the later source stops (each poll fetched it twice)."""
    site.publish(fresh("venezuela-opposition-leader"))
    feed = site.url("/feeds/world.rss")
    workdir.write_config()
    assert workdir.newswatch("sources", "add", site.url("/withfeed/")).returncode == 0
    crawl(workdir)
    opml = workdir.path / "reader.opml"
    opml.write_text(f'<opml version="2.0"><body><outline type="rss" text="World" '
                    f'xmlUrl="{feed}"/></body></opml>')
    imported = workdir.newswatch("sources", "import", str(opml))
    assert imported.stdout.splitlines() == [
        "imported 0, skipped 1",
        f"  skipped {feed}: already polled: {site.url('/withfeed/')} leads to it",
    ]
    added = workdir.newswatch("sources", "add", feed)
    assert added.returncode == 0
    assert added.stdout.strip() == f"already polled: {site.url('/withfeed/')} leads to it"
    listed = json.loads(workdir.newswatch("sources", "list", "--format", "json").stdout)
    assert [row["url"] for row in listed] == [site.url("/withfeed/")]

    # The other way round: the feed first, then its home page, which finds the feed.
    other = workdir.path / "other"
    other.mkdir()
    second = Workdir(other)
    second.write_config()
    assert second.newswatch("sources", "add", feed).returncode == 0
    assert second.newswatch("sources", "add", site.url("/withfeed/")).returncode == 0
    crawl(second)
    listed = json.loads(second.newswatch("sources", "list", "--format", "json").stdout)
    assert [row["url"] for row in listed] == [feed]


def test_home_page_without_feed_uses_the_sitemap_of_robots_txt(site, workdir):
    site.create_feed("nofeed")
    site.publish(fresh("venezuela-opposition-leader"))
    site.sitemaps = ["/sitemaps/news.xml"]
    workdir.write_config(sources=[site.url("/nofeed/")])
    assert "1 new article(s)" in crawl(workdir)
    row = source(workdir)
    assert row["fetch_url"] == site.url("/sitemaps/news.xml")
    assert row["via"] == f"sitemap listed in {site.url('/robots.txt')}"
    assert row["detected"] == "news sitemap"


@pytest.mark.parametrize("status", [404, 410])
def test_a_home_pages_sitemap_that_fails_leaves_its_own_links(site, workdir, status):
    """robots.txt lists a sitemap that answers 404 (a stale line) or 410: the home page
    source failed at every poll with the sitemap's status (410 deactivated it for good), its
    own article links never read."""
    site.create_feed("nofeed")
    site.publish(fresh("venezuela-opposition-leader"), feed="nofeed")
    site.set_status("/sitemaps/gone.xml", status)
    site.sitemaps = ["/sitemaps/gone.xml"]
    workdir.write_config(sources=[site.url("/nofeed/")])
    assert "1 new article(s)" in crawl(workdir)
    row = source(workdir)
    assert row["detected"] == "page" and row["active"] and row["deactivated"] is None, row


def test_of_several_sitemaps_of_robots_txt_the_news_one_is_polled(site, workdir):
    """A robots.txt listing the site's pages sitemap first and its news sitemap second (the
    usual order of generators): the first was polled, the news never read."""
    site.create_feed("nofeed")
    site.publish(fresh("venezuela-opposition-leader"))
    site.serve("/page-sitemap.xml", b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps'
               b'.org/schemas/sitemap/0.9"><url><loc>/about</loc></url></urlset>',
               content_type="application/xml")
    site.robots += "\nSitemap: /page-sitemap.xml\n"
    site.sitemaps = ["/sitemaps/news.xml"]
    workdir.write_config(sources=[site.url("/nofeed/")])
    assert "1 new article(s)" in crawl(workdir)
    assert source(workdir)["fetch_url"] == site.url("/sitemaps/news.xml")


def test_a_sitemap_of_an_index_that_cannot_be_read_is_said(site, workdir):
    """A child sitemap answering 404, or a page that is no sitemap: the index's source said
    "ok; articles 0", with nothing telling why its news never came."""
    site.publish(fresh("venezuela-opposition-leader"))
    site.set_status("/sitemaps/news.xml", 404)
    workdir.write_config(sources=[site.url("/sitemaps/index.xml")])
    crawl(workdir)
    status = workdir.newswatch("status").stdout
    assert f"warning: sitemap {site.url('/sitemaps/news.xml')} answered HTTP 404" in status


@pytest.mark.parametrize("home", [None, "2009-08-16", "today", "text"])
def test_an_undated_sitemap_alerts_on_what_it_lists_after_its_first_poll(
    site, mail, workdir, home
):
    """A plain sitemap without lastmod (an older CMS): none of its URLs could be told new,
    so none was ever taken (its status said so). What it lists at the first poll is what the
    site had (remembered, not fetched); a URL it lists later is new: fetched, alerted. So
    too where the sitemap dates only its home page (Scrapy's test sitemap: the articles'
    lastmod empty): one dated URL made every undated one dropped, for good; and for a text
    sitemap, one URL a line (the protocol's other format), which was "not a feed, sitemap or
    web page"."""
    dated = "" if home in (None, "text") else (
        f"<url><loc>{site.url('/')}</loc><lastmod>"
        f"{datetime.now(UTC).date() if home == 'today' else home}</lastmod></url>")

    def serve_sitemap(*slugs: str) -> None:
        if home == "text":
            body = "".join(f"{site.article_url(slug)}\n" for slug in slugs)
            site.serve("/undated-sitemap.xml", body.encode(), content_type="text/plain")
            return
        body = ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
                'sitemap/0.9">' + dated + "".join(
                    f"<url><loc>{site.article_url(slug)}</loc><lastmod /></url>"
                    for slug in slugs) + "</urlset>")
        site.serve("/undated-sitemap.xml", body.encode(), content_type="application/xml")

    had = sample_story("maduro-archive-piece", "An archive piece on Maduro", ["Maduro"])
    site.articles[had.slug] = had
    serve_sitemap(had.slug)
    workdir.write_config(sources=[site.url("/undated-sitemap.xml")], topics=[MADURO],
                         smtp=mail)
    assert "0 new article(s)" in crawl(workdir)
    assert "warning" not in workdir.newswatch("status").stdout
    assert "sitemap" in source(workdir)["detected"]
    new = sample_story("later-news-about-maduro", "Later Maduro news", ["Maduro"])
    site.articles[new.slug] = new
    serve_sitemap(had.slug, new.slug)
    out = crawl(workdir)
    assert "1 new article(s)" in out and "1 email(s) queued" in out, out
    [message] = mail.wait_for(1)
    assert "Later Maduro news" in message["Subject"]
    assert not site.requests_for(f"/articles/{had.slug}")  # never fetched


def sitemaps_alert(site, mail, workdir, slug: str, page: bytes):
    """The one alert of article ``slug``, served as ``page`` and listed by a sitemap after
    the sitemap's first poll: its title and date are the page's (a sitemap names no title)."""
    site.serve(site.article_url(slug).removeprefix(site.base_url), page, content_type="text/html")

    def serve_sitemap(*slugs: str) -> None:
        urls = "".join(f"<url><loc>{site.article_url(listed)}</loc></url>" for listed in slugs)
        site.serve("/sitemap.xml", ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.'
                                    f'org/schemas/sitemap/0.9">{urls}</urlset>').encode(),
                   content_type="application/xml")

    serve_sitemap()
    workdir.write_config(sources=[site.url("/sitemap.xml")], topics=[MADURO], smtp=mail)
    crawl(workdir)
    serve_sitemap(slug)
    out = crawl(workdir)
    assert "1 new article(s)" in out and "1 email(s) queued" in out, out
    [message] = mail.wait_for(1)
    return message


def test_a_sitemaps_alert_is_titled_with_the_headline_its_page_shows(site, mail, workdir):
    """A page's og:title "<headline> - Northgate Herald" beside og:site_name "The Northgate
    Herald" (WELT's "… - WELT" beside "DIE WELT", Golem's "… - Golem.de"): a sitemap names
    no title, and every alert of the site's pages said the site's name in its subject and
    its title. The headline the page's <h1> shows is the article's title."""
    new = replace(sample_story("later-news-about-maduro", "Later Maduro news", ["Maduro"]),
                  published=datetime.now(UTC) - timedelta(minutes=30))
    site.articles[new.slug] = new
    page = site.render_article(new).replace(
        f'content="{new.title}"'.encode(), f'content="{new.title} - Northgate Herald"'.encode())
    message = sitemaps_alert(site, mail, workdir, new.slug, page)
    assert exported(workdir)[site.article_url(new.slug)]["title"] == "Later Maduro news"
    assert "Later Maduro news" in message["Subject"]
    assert "Northgate" not in message["Subject"]


def test_a_sitemaps_page_dated_month_first_as_its_text_shows_the_day_alerts(site, mail, workdir):
    """A German page dated only by <meta name="date" content="12/07/2026 09:30:00"> (an
    ASP.NET CMS's invariant format, month first) whose text says "Erstellt am: 07.12.2026":
    htmldate read the date day first, the 12th of July, months old, and the sitemap's new
    article was never alerted. (The day of a run decides whether its date reads two ways:
    after the 12th of a month, or on the 12th of December, both readings are one day.)"""
    today = datetime.now(UTC)
    new = replace(sample_story("later-news-about-maduro", "Later Maduro news", ["Maduro"]),
                  published=today - timedelta(minutes=30), lang="de")
    site.articles[new.slug] = new
    site.undated.add(new.slug)
    page = site.render_article(new).replace(
        b"</title>", f'</title><meta name="date" content="{today:%m/%d/%Y} 09:30:00">'.encode(),
    ).replace(b"</body>", f"<p>Erstellt am: {today:%d.%m.%Y}</p></body>".encode())
    message = sitemaps_alert(site, mail, workdir, new.slug, page)
    assert exported(workdir)[site.article_url(new.slug)]["published"].startswith(
        f"{today:%Y-%m-%d}")
    assert "Later Maduro news" in message["Subject"]


def test_undated_pages_found_on_a_first_poll_do_not_alert(site, mail, workdir):
    # A page source's first poll finds what the site already had: undated articles there
    # are a baseline (stored, matched, not mailed); those appearing later do alert.
    site.create_feed("nofeed")
    old = sample_story("council-debates-maduro-affair", "Council debates the Maduro affair",
                       ["Maduro"])
    site.articles[old.slug] = old
    site.publish(old, feed="nofeed")
    site.undated = {old.slug}
    workdir.write_config(sources=[site.url("/nofeed/")], topics=[MADURO], smtp=mail)
    out = crawl(workdir)
    assert "1 new article(s)" in out and "1 match(es), 0 email(s) queued" in out
    new = sample_story("later-news-about-maduro", "Later Maduro news", ["Maduro"])
    site.articles[new.slug] = new
    site.publish(new, feed="nofeed")
    site.undated.add(new.slug)
    out = crawl(workdir)
    assert "1 email(s) queued" in out
    [message] = mail.wait_for(1)
    assert "Later Maduro news" in message["Subject"]


def test_a_page_dated_ahead_of_now_is_undated_on_a_first_poll(site, mail, workdir):
    # A page whose template writes the evening of its local day with another zone's offset
    # (23:59 at -12:00: the next day's noon in UTC, half a day ahead at least). Kept, it
    # led every list by its date until then, and a first poll of its site mailed it as
    # news. A date ahead of now is none, as a feed's is. (A day ahead, 2099, is never read:
    # the page's day is looked for up to today.)
    site.create_feed("nofeed")
    old = sample_story("council-debates-maduro-affair", "Council debates the Maduro affair",
                       ["Maduro"])
    evening = datetime.now(UTC).replace(hour=23, minute=59, second=0, microsecond=0)
    old = replace(old, published=evening.replace(tzinfo=timezone(timedelta(hours=-12))))
    site.articles[old.slug] = old
    site.publish(old, feed="nofeed")
    workdir.write_config(sources=[site.url("/nofeed/")], topics=[MADURO], smtp=mail)
    out = crawl(workdir)
    assert "1 new article(s)" in out and "1 match(es), 0 email(s) queued" in out, out
    [row] = exported(workdir).values()
    assert not row["published"], row["published"]

def test_a_page_its_scripts_render_says_what_to_add_instead(site, workdir):
    """A site relaunched on Next.js lists its stories in the data its scripts render, its
    markup has none of their links: each poll failed with "no article links found" and no
    word of why or what to do (a review). The error says so."""
    data = {"props": {"pageProps": {"stories": [
        {"href": f"/2026/05/06/{slug}", "title": title} for slug, title in (
            ("minister-resigns", "Minister resigns over the housing scandal"),
            ("tram-line-approved", "Council approves the new tram line"))]}}}
    url = site.serve("/home/", (
        '<!DOCTYPE html><html><head><title>The Courier</title></head><body>'
        '<div id="__next"><nav><a href="/">Home</a></nav></div>'
        f'<script id="__NEXT_DATA__" type="application/json">{json.dumps(data)}</script>'
        "</body></html>").encode(), content_type="text/html; charset=utf-8")
    workdir.write_config(sources=[{"url": url, "kind": "page"}])
    out = crawl(workdir)
    assert ("no feed, sitemap or article links found on the page (its scripts render its "
            "links: add the site's feed or sitemap as the source instead)") in out


def test_a_page_that_listed_no_articles_at_first_alerts_on_what_it_lists_next(site, mail, workdir):
    # A page source whose page answered but listed no article links (a new site, an empty
    # news page) has no baseline: what it lists on a later poll is new, and alerts.
    site.create_feed("nofeed")
    workdir.write_config(sources=[site.url("/nofeed/")], topics=[MADURO], smtp=mail)
    assert "no feed, sitemap or article links found" in crawl(workdir)  # still said loudly
    new = sample_story("first-maduro-story", "Maduro story on an empty page", ["Maduro"])
    site.articles[new.slug] = new
    site.publish(new, feed="nofeed")
    site.undated = {new.slug}
    out = crawl(workdir)
    assert "1 new article(s)" in out and "1 email(s) queued" in out
    [message] = mail.wait_for(1)
    assert "Maduro story on an empty page" in message["Subject"]


def test_a_page_that_did_not_answer_at_first_still_takes_its_baseline(site, mail, workdir):
    # A first poll that never read the page (HTTP 503) says nothing of what the site had.
    site.create_feed("nofeed")
    old = sample_story("earlier-maduro-story", "An earlier Maduro story", ["Maduro"])
    site.articles[old.slug] = old
    site.publish(old, feed="nofeed")
    site.undated = {old.slug}
    site.set_status("/nofeed/", 503)
    workdir.write_config(sources=[site.url("/nofeed/")], topics=[MADURO], smtp=mail)
    assert "HTTP 503" in crawl(workdir)
    site.clear_status("/nofeed/")
    out = crawl(workdir)
    assert "1 new article(s)" in out and "1 match(es), 0 email(s) queued" in out


def test_a_page_that_answered_empty_at_first_still_takes_its_baseline(site, mail, workdir):
    # A home page whose first poll answered 200 with nothing in it (a CMS's cache emptied)
    # was not read: had the poll kept its status, the page counted as answered with no
    # article links, and its next real poll took the site's whole front page for news,
    # alerting on every story on it.
    site.create_feed("nofeed")
    slugs = ("earlier-maduro-story", "maduro-meets-the-unions", "maduro-visits-the-port")
    for slug in slugs:
        story = sample_story(slug, f"An earlier story: {slug}", ["Maduro"])
        site.articles[story.slug] = story
        site.publish(story, feed="nofeed")
    site.undated = set(slugs)
    html = "text/html; charset=utf-8"
    home = site.serve("/nofeed/", b"", content_type=html)
    workdir.write_config(sources=[home], topics=[MADURO], smtp=mail)
    assert "HTTP 200 with an empty body: the server sent nothing to read" in crawl(workdir)
    site.serve("/nofeed/", site.render_front("nofeed"), content_type=html)
    out = crawl(workdir)
    assert "3 new article(s)" in out and "3 match(es), 0 email(s) queued" in out, out
    assert set(exported(workdir)) == {site.article_url(slug) for slug in slugs}
    assert mail.messages == []


def test_each_article_records_the_pass_of_the_cascade_that_gave_its_text(site, mail, workdir):
    """An article page is read by trafilatura's fast pass alone; a brief (one paragraph
    under reader comments longer than it) is short for its page in the fast pass, so the
    default pass reads it: the stored ``extraction`` says which."""
    story = STORIES_BY_SLUG["city-late-winner"]
    brief = replace(fresh("city-late-winner", 60), slug="city-brief", body=story.body[:1])
    site.publish(fresh("venezuela-opposition-leader"))
    site.publish(brief)
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[MADURO], smtp=mail)
    assert "2 new article(s)" in crawl(workdir)
    rows = exported(workdir)
    assert rows[site.article_url("venezuela-opposition-leader")]["extraction"] == "page:fast"
    kept = rows[site.article_url("city-brief")]
    assert kept["extraction"] == "page:default"
    assert story.body[0][:60] in kept["text"]
