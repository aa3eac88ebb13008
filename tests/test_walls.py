"""Pages sites answer in place of the article (crawler.walls): a bot challenge, a block page,
a page that is not the article. Stored, each was an article that alerted on the wall's words
("Enable JavaScript and cookies"), and the real article served later was never read."""

from __future__ import annotations

import html
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from newssite import STORIES_BY_SLUG
from test_source_kinds import small_crawl

from crawler.entries import POSTPONED
from crawler.feeds import github_release
from crawler.walls import consent, html_title, not_the_article, wall
from storage import DeferredEntry, Store

FIXTURES = Path(__file__).parent / "fixtures"

#: A social post on the reservoir's zebrafish, as the apps' tests post it.
SURVEY = ("The Marlow reservoir survey found zebrafish in the intake channels this week, "
          "and the water authority will hold a public meeting on the delay next Tuesday.")

CLOUDFLARE = b"""<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<meta name="robots" content="noindex,nofollow"></head><body><div class="main-wrapper">
<h1 class="zone-name-title h1">news.example</h1><h2 class="h2" id="challenge-running">
Checking if the site connection is secure</h2><noscript><div class="h2">Enable JavaScript
and cookies to continue</div></noscript><p>news.example needs to review the security of
your connection before proceeding. Please enable cookies and JavaScript in your browser
settings and reload this page to continue reading the security check results.</p></div>
<script>(function(){window._cf_chl_opt={cvId: '2',cZone: 'news.example',cType:
'managed'};})();</script></body></html>"""

DATADOME = b"""<html lang="en"><head><title>news.example</title></head><body
style="margin:0"><p id="cmsg">Please enable JS and disable any ad blocker</p>
<script>var dd={'rt':'c','cid':'AHrlqAAAAAMA','hsh':'2211F522B61E269B869FA6EAFFB5E1',
't':'fe','host':'geo.captcha-delivery.com'}</script><script
src="https://ct.captcha-delivery.com/c.js"></script></body></html>"""

NOT_FOUND = b"""<!DOCTYPE html><html lang="en"><head><title>Page not found | The Daily
Example</title></head><body><header><nav><a href="/">Home</a> <a href="/world">World</a>
</nav></header><main><article><h1>Sorry, we could not find that page</h1><p>The page you
requested may have been moved, renamed or deleted. Please check the address, or use the
search box above to look for what you wanted. You can also return to our home page to read
the latest stories from our newsroom.</p></article></main><footer>(c) The Daily Example
</footer></body></html>"""


def fresh(slug: str):
    return replace(STORIES_BY_SLUG[slug], published=datetime.now(UTC) - timedelta(minutes=20))


def nothing_at_first(site, mail, workdir, walls: str) -> None:
    """Crawl the site's feed, whose four articles' pages are walls: nothing is stored, no
    topic alerts (``walls``: a query on the walls' words), the pages wait for the next poll."""
    workdir.write_config(
        sources=[site.url("/feeds/world.rss")],
        topics=[{"name": "Walls", "query": walls, "notify": ["walls@test.example"]},
                {"name": "News", "query": "Maduro OR rates OR Zelensky OR wind",
                 "notify": ["desk@test.example"]}],
        smtp=mail,
    )
    first = workdir.newswatch("crawl")
    assert first.returncode == 0, first.stderr
    assert "0 new article(s)" in first.stdout
    status = workdir.newswatch("status").stdout
    assert "4 page(s) unavailable for now" in status, status
    assert mail.messages == []


def served_at_the_next_poll(site, mail, workdir, slugs: list[str]) -> list[dict]:
    """Serve the articles ``slugs`` and crawl: each is stored with its own title, all alert
    the news desk in one email; the stored articles."""
    for slug in slugs:
        path = site.article_url(slug).removeprefix(site.base_url)
        site.serve(path, site.render_article(fresh(slug)), content_type="text/html")
    second = workdir.newswatch("crawl")
    assert second.returncode == 0, second.stderr
    assert f"{len(slugs)} new article(s)" in second.stdout
    [message] = mail.wait_for(1)
    assert message["To"] == "desk@test.example"
    exported = [json.loads(row) for row in workdir.newswatch("export").stdout.splitlines()]
    assert {a["title"] for a in exported} == {STORIES_BY_SLUG[s].title for s in slugs}
    return exported


def test_challenge_and_block_pages_are_known_by_their_marks() -> None:
    assert wall(CLOUDFLARE) == "a Cloudflare challenge"
    assert wall(CLOUDFLARE.replace(b"_cf_chl_opt", b"x"), title=html_title(CLOUDFLARE)) == (
        "a Cloudflare challenge")
    assert wall(DATADOME) == "a DataDome challenge"
    assert wall(b"<html>x</html>", mitigated="challenge") == "a Cloudflare challenge"
    denied = b"<html><head><title>Access Denied</title></head>Reference #18.5a3c"
    assert wall(denied, title=html_title(denied)) is not None
    assert html_title(b"<html><head><TITLE lang=en>Page not found</TITLE>") == "Page not found"
    assert html_title("<title>Qué pasó</title>".encode("cp1252"), "cp1252") == "Qué pasó"
    # The scripts these services put on ordinary pages are not marks.
    ordinary = (b'<html><head><title>Budget passed</title><script src="/cdn-cgi/challenge-'
                b'platform/scripts/jsd/main.js"></script><script src="/_Incapsula_Resource?'
                b'SWJIYLWA=719d34"></script><script src="https://js.datadome.co/tags.js">'
                b"</script></head><body><p>The budget passed.</p></body></html>")
    assert wall(ordinary) is None
    # Nor is any page of the fixtures (articles of many sites and ages).
    for page in FIXTURES.rglob("*.htm*"):
        body = page.read_bytes()
        assert wall(body, title=html_title(body)) is None, page


@pytest.mark.parametrize(("entry", "title", "text", "expected"), [
    ("Budget talks stall over pensions", "Page not found", "Sorry, we could not find it.",
     True),
    # A blog whose headline is not its <title> (the quality benchmark's chadim.net page).
    ("der Schreibstil - chadim.net - Webdesign", "der Schreibstil - chadim.net - Webdesign",
     "Schreiben Sie Informationen für Ihre Zielgruppe.", False),
    ("Budget talks stall over pensions", "Budget talks stall | Daily", "Short brief.", False),
    ("Budget talks stall over pensions", None, "Ministers said the pensions deal...", False),
    ("Budget talks stall over pensions", "Sign in", "word " * 200, False),  # long: an article
    ("Brexit", "Not found", "Nothing here.", False),  # one word: too little to compare
    ("北京 预算 谈判 陷入 僵局", "页面不存在", "抱歉", False),  # words not cut by spaces
    (None, "Page not found", "Nothing here.", False),
])
def test_a_page_is_not_the_article_when_it_shares_no_word_of_its_title(
    entry: str | None, title: str | None, text: str, expected: bool
) -> None:
    assert not_the_article(entry, (title, None), text) is expected


def test_a_wall_is_asked_again_and_the_article_alerts_when_it_comes(site, mail, workdir):
    """Served a Cloudflare challenge (200), a DataDome challenge (403), a soft 404 (200) and
    nothing (200) for four articles: nothing stored, nothing alerted; served the articles at
    the next poll, each stored with its text and alerted once."""
    slugs = ["venezuela-opposition-leader", "central-bank-holds-rates", "zelensky-grain-corridor",
             "harbour-wind-farm-approved"]
    walls = [(CLOUDFLARE, 200), (DATADOME, 403), (NOT_FOUND, 200), (b"", 200)]
    for slug, (body, status) in zip(slugs, walls, strict=True):
        site.publish(fresh(slug))
        path = site.article_url(slug).removeprefix(site.base_url)
        site.serve(path, body, status=status, content_type="text/html")
    nothing_at_first(site, mail, workdir, "cookies OR JavaScript OR security OR moved")
    exported = served_at_the_next_poll(site, mail, workdir, slugs)
    assert all("cookies" not in a["text"] and "could not find" not in a["text"]
               for a in exported)


def test_an_entry_without_a_title_takes_its_pages_title_when_extraction_finds_none(
    site, workdir
):
    """A 2010 uCoz page opens with markup before <html> (what its scripts wrote): the parser
    puts <title> in the body, where extraction does not look; the article was "(no title)"."""
    words = "Ein langer Brief über das Leben in der Stadt und die Menschen dort. " * 30
    page = ("<div></div><div></div><html><head><title>Briefe - 26 Oktober 2010 - Blog - "
            "Bilder, News &amp; Schleifen!</title></head><body><div><p>" + words
            + "</p></div></body></html>").encode()
    site.serve("/blog/briefe", page, content_type="text/html")
    feed = site.serve("/blog.rss", (
        '<rss version="2.0"><channel><title>Blog</title><item><link>'
        + site.url("/blog/briefe") + "</link><description>Ein Brief.</description></item>"
        "</channel></rss>").encode())
    workdir.write_config(sources=[feed])
    assert workdir.newswatch("crawl").returncode == 0
    [row] = [json.loads(line) for line in workdir.newswatch("export").stdout.splitlines()]
    assert row["title"] == "Briefe - 26 Oktober 2010 - Blog - Bilder, News & Schleifen!"
    assert row["text"].startswith("Ein langer Brief")


def test_a_consent_or_sign_in_page_redirected_to_is_a_wall() -> None:
    # Google News' links, followed from Europe, end at Google's consent page: its cookie
    # text was stored as every item's (more than 150 words: no short page), each alerted a
    # topic on "cookies", and unrelated items made one story.
    consent = b"<html><head><title>Before you continue</title></head><body>We use cookies</body>"
    assert wall(consent, "Before you continue", None,
                "https://consent.google.com/ml?continue=https://news.google.com/rss/articles/"
                "CBMi&gl=DE&hl=de") == "a consent or sign-in page (consent.google.com)"
    assert wall(consent, None, None, "https://guce.yahoo.com/consent?brandType=nonEu") == (
        "a consent or sign-in page (guce.yahoo.com)")
    assert wall(consent, None, None, "https://news.example/consent/article") is None


#: A news site's own consent page, as German and Austrian sites send a reader without their
#: consent cookie to (``/zustimmung?url=...``): the choice of tracking or a paid plan, and the
#: IAB framework's wording of what the partners do (more than 150 words: no short page).
ZUSTIMMUNG = """<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Lesen Sie
news.example mit Werbung oder im PUR-Abo. Sie haben die Wahl.</title><meta name="robots"
content="noindex,follow"></head><body class="consent"><main class="option"><h1
class="option__title">Lesen Sie news.example mit Werbung oder im PUR-Abo. Sie haben die
Wahl.</h1><section class="option__item"><h2>Mit Werbung</h2><p>Besuchen Sie news.example wie
gewohnt mit Werbung und Tracking. Details zum Tracking finden Sie im Privacy Center.</p><p>Wir
und unsere 231 Partner verarbeiten personenbezogene Daten, indem wir mittels Cookies und
ähnlicher Technologien Informationen auf Ihrem Gerät speichern und/oder abrufen. Mit Ihrer
Zustimmung verarbeiten wir Ihre Daten zu folgenden Zwecken: Informationen auf einem Gerät
speichern und/oder abrufen, personalisierte Werbung und Inhalte, Messung von Werbeleistung und
der Performance von Inhalten, Zielgruppenforschung sowie Entwicklung und Verbesserung von
Angeboten. Ihre Daten werden dabei auch an Partner in Drittländern übermittelt, in denen kein
der EU vergleichbares Datenschutzniveau besteht.</p><p>Ihre Einwilligung ist freiwillig und
kann jederzeit über den Link „Datenschutz-Einstellungen“ am Ende jeder Seite widerrufen werden.
Weitere Informationen zur Verarbeitung Ihrer Daten, zu den einzelnen Partnern und zu Ihren
Rechten finden Sie in unserer Datenschutzerklärung und in den Einstellungen. Dort können Sie
auch der Verarbeitung auf Grundlage berechtigter Interessen widersprechen.</p><button
class="option__accept" type="submit">Zustimmen und weiter</button></section><section
class="option__item"><h2>PUR-Abo</h2><p>Nutzen Sie news.example nahezu werbefrei und ohne
Werbetracking für 1,20 € pro Woche. Bereits PUR-Abonnent? Hier anmelden. Ihr Abo können Sie
jederzeit monatlich kündigen.</p><a href="/abo/pur">Jetzt abonnieren</a></section></main>
</body></html>""".encode()


def test_a_sites_own_consent_page_redirected_to_is_a_wall(site, mail, workdir):
    """Four articles' links redirect to the site's own consent page (its address: 303 to
    /zustimmung?url=...): stored, its cookie text was each article's (a topic on "Daten"
    alerted, the four were one story) and the articles, served later, were never read.
    Asked again instead: served at the next poll, each is stored with its text and alerts."""
    slugs = ["venezuela-opposition-leader", "central-bank-holds-rates", "zelensky-grain-corridor",
             "harbour-wind-farm-approved"]
    site.serve("/zustimmung", ZUSTIMMUNG, content_type="text/html; charset=utf-8")
    for slug in slugs:
        site.publish(fresh(slug))
        path = site.article_url(slug).removeprefix(site.base_url)
        site.serve(path, b"", status=303, content_type="text/html",
                   headers={"Location": f"/zustimmung?url={site.article_url(slug)}"})
    nothing_at_first(site, mail, workdir, "Daten OR Partner OR Cookies")
    exported = served_at_the_next_poll(site, mail, workdir, slugs)
    assert not any("Partner" in a["text"] for a in exported)
    # An article's own address may name the subject: only an address redirected to is one.
    assert wall(ZUSTIMMUNG, None, None, site.url("/zustimmung?url=x"), redirected=True)
    assert wall(ZUSTIMMUNG, None, None, "https://news.example/consent/article") is None


MASTODON_SHELL = b"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Lakeside Water (@lakeside@mastodon.example)</title>
<meta content="Toot about the reservoir and its zebrafish" property="og:description">
</head><body class="app-body"><div class="notranslate app-holder" id="mastodon">
<noscript><img alt="Mastodon" src="/avatars/original/missing.png"><div>To use the Mastodon
web application, please enable JavaScript. Alternatively, try one of the native apps for
Mastodon for your platform.</div></noscript></div></body></html>"""


def kept_from_its_item(mail, workdir, feed: str, post: str, shell: str, **env: str) -> None:
    """Crawl ``feed`` (one post, on the reservoir's zebrafish) with a topic on the post and
    one on the words of its page's app shell (``shell``), ``env`` in the crawl's
    environment: the post is stored as its item gives it, titled by its opening, and mailed
    to the first topic alone."""
    workdir.write_config(
        sources=[feed], smtp=mail,
        topics=[{"name": "Zebrafish", "query": "zebrafish", "notify": ["desk@test.example"]},
                {"name": "Shell", "query": shell, "notify": ["shell@test.example"]}])
    out = workdir.newswatch("crawl", **env).stdout
    assert "1 new article(s)" in out, out
    [row] = [json.loads(line) for line in workdir.newswatch("export").stdout.splitlines()]
    assert (row["text"], row["extraction"]) == (post, "feed")
    assert row["title"] == ("The Marlow reservoir survey found zebrafish in the intake "
                            "channels this week, and the…")
    [message] = mail.wait_for(1)
    assert message["To"] == "desk@test.example"
    assert "The Marlow reservoir survey found zebrafish" in message["Subject"]


def test_an_untitled_post_whose_page_is_an_apps_shell_keeps_its_own_text(site, mail, workdir):
    # A Mastodon account's feed has no <title> per item: the page (an app's "enable
    # JavaScript" shell) was stored as the post, a topic on the post's words missed and one
    # on "JavaScript" alerted. The item's own text is the post, kept at once.
    when = (datetime.now(UTC) - timedelta(minutes=20)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    post = ("The Marlow reservoir survey found zebrafish in the intake channels this week, "
            "and the water authority will hold a public meeting on the delay next Tuesday.")
    site.serve("/@lakeside/1135", MASTODON_SHELL, content_type="text/html")
    feed = site.serve("/@lakeside.rss", (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Lakeside Water</title>'
        f"<item><guid>{site.url('/@lakeside/1135')}</guid><link>{site.url('/@lakeside/1135')}"
        f"</link><pubDate>{when}</pubDate><description>&lt;p&gt;{post}&lt;/p&gt;</description>"
        "</item></channel></rss>").encode())
    # Titled by its opening (the alert said "(untitled)").
    kept_from_its_item(mail, workdir, feed, post, "JavaScript OR Mastodon")


def bluesky_post_page(handle: str, post: str) -> bytes:
    """A post's page as Bluesky's web server writes it: the app's "JavaScript Required"
    notice, the post inside it with its author's name, handle and DID."""
    return f"""<!DOCTYPE html>
<html><head><meta charset="UTF-8"><title>@{handle} on Bluesky</title>
<meta property="og:site_name" content="Bluesky Social" /><meta property="og:type" content="article">
<meta property="og:title" content="Lakeside Water (@{handle})">
<meta name="description" content="{post}"><meta property="og:description" content="{post}">
</head><body>
	<div id="root"></div>
    <noscript>
      <h1 lang="en">JavaScript Required</h1>
      <p lang="en">This is a heavily interactive web application, and JavaScript is required. Simple HTML interfaces are possible, but that is not what this is.
      <p lang="en">Learn more about Bluesky at <a href="https://bsky.social">bsky.social</a> and <a href="https://atproto.com">atproto.com</a>.
<div id="bsky_post_summary">
  <h3>Post</h3>
  <p id="bsky_display_name">Lakeside Water</p>
  <p id="bsky_handle">{handle}</p>
  <p id="bsky_did">did:plc:4zq6ahkd2cbl7stvo2jbwfzk</p>
  <p id="bsky_post_text">{post}</p>
  <p id="bsky_post_indexedat">2026-12-06T10:15:00.000Z</p>
</div>
    </noscript>
</body></html>""".encode()


def test_a_bluesky_post_is_its_feeds_text_not_the_apps_notice(site, mail, workdir):
    # A Bluesky account's feed titles each post "@handle post", and its page is the app's
    # "JavaScript is required" notice with the post inside (so no wall): each post was
    # stored as that notice, a topic on "JavaScript" was mailed every post, and every alert
    # was titled "@lakeside.bsky.social post". The feed gives the post whole. (The site is
    # the crawl's proxy: it answers for bsky.app.)
    handle = "lakeside.bsky.social"
    post = ("The Marlow reservoir survey found zebrafish in the intake channels this week, "
            "and the water authority will hold a public meeting on the delay next Tuesday.")
    link = f"http://bsky.app/profile/{handle}/post/3lcxkzb2wt22s"
    site.serve(urlsplit(link).path, bluesky_post_page(handle, post), content_type="text/html")
    when = (datetime.now(UTC) - timedelta(minutes=20)).isoformat()
    feed = site.serve("/profile/did:plc:4zq6ahkd2cbl7stvo2jbwfzk/rss", (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><description>'
        f"Reservoir news</description><link>https://bsky.app/profile/{handle}</link><title>"
        f"@{handle} - Lakeside Water</title><item><title>@{handle} post</title><link>{link}"
        f"</link><description>{post}</description><pubDate>{when}</pubDate><guid>"
        "at://did:plc:4zq6ahkd2cbl7stvo2jbwfzk/app.bsky.feed.post/3lcxkzb2wt22s</guid></item>"
        "</channel></rss>").encode())
    kept_from_its_item(mail, workdir, feed, post, "JavaScript OR Bluesky OR did",
                       http_proxy=f"http://{urlsplit(site.base_url).netloc}", no_proxy="")


def mastodon_post_page(host: str, post: str, number: str) -> bytes:
    """A post's page as a Mastodon server writes it (4.x): the post only in its head's meta
    tags and the app's script state, its body the app's "please enable JavaScript" notice."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta content="width=device-width, initial-scale=1" name="viewport">
<link href="/favicon.ico" rel="icon" type="image/x-icon">
<title>Lakeside Water: &quot;{post[:48]}…&quot; - Mastodon</title>
<link href="/manifest" rel="manifest">
<meta content="#191b22" name="theme-color">
<link href="http://{host}/api/oembed?format=json&amp;url=http%3A%2F%2F{host}%2F%40lakeside%2F{number}" rel="alternate" type="application/json+oembed">
<link href="http://{host}/users/lakeside/statuses/{number}" rel="alternate" type="application/activity+json">
<meta content="Mastodon" property="og:site_name">
<meta content="article" property="og:type">
<meta content="Lakeside Water (@lakeside@{host})" property="og:title">
<meta content="http://{host}/@lakeside/{number}" property="og:url">
<meta content="2026-12-07T10:15:00Z" property="og:published_time">
<meta content="lakeside@{host}" property="profile:username">
<meta content="{post}" name="description">
<meta content="{post}" property="og:description">
<meta content="summary" property="twitter:card">
<script id="initial-state" type="application/json">{{"meta":{{"access_token":null,"domain":"{host}","locale":"en","mascot":null,"title":"Mastodon"}}}}</script>
<script src="/packs/js/common-2e7ae4a3d1c2.js" crossorigin="anonymous"></script>
</head>
<body class="app-body theme-default no-reduce-motion">
<div class="notranslate app-holder" data-props="{{&quot;locale&quot;:&quot;en&quot;}}" id="mastodon">
<noscript>
<img alt="Mastodon" src="/avatars/original/missing.png">
<div>
To use the Mastodon web application, please enable JavaScript. Alternatively, try one of the <a href="/apps">native apps</a> for Mastodon for your platform.
</div>
</noscript>
</div>
<div aria-hidden="true" class="logo-resources" inert tabindex="-1"><svg viewBox="0 0 79 79"><symbol id="logo-symbol-icon"><path d="M74.7135 16.6043C73.6199"></path></symbol></svg></div>
<div id="modal-container"></div>
</body>
</html>""".encode()


def crawled_app_posts(site, mail, workdir, feed: str) -> list[dict]:
    """The articles exported after a crawl of ``feed``, an account's feed of two posts (one
    on zebrafish) on a social app's server that the site answers for as the crawl's proxy:
    the topic on "zebrafish" mailed once, the one on "JavaScript" (the app's notice) never."""
    workdir.write_config(
        sources=[feed], smtp=mail,
        topics=[{"name": "Zebrafish", "query": "zebrafish", "notify": ["desk@test.example"]},
                {"name": "Shell", "query": "JavaScript", "notify": ["shell@test.example"]}])
    out = workdir.newswatch("crawl", http_proxy=f"http://{urlsplit(site.base_url).netloc}",
                            no_proxy="").stdout
    assert "2 new article(s)" in out, out
    [message] = mail.wait_for(1)
    assert message["To"] == "desk@test.example"
    return [json.loads(line) for line in workdir.newswatch("export").stdout.splitlines()]


def serve_mastodon_feed(site, host: str, posts: dict[str, str]) -> str:
    """Serve ``posts`` (number: the item's description, HTML), each at its page
    (``mastodon_post_page``), and the account's feed of them as a Mastodon server writes it
    (4.x: no <title> per item, the post as its description); the feed's address."""
    when = (datetime.now(UTC) - timedelta(minutes=20)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    items = []
    for number, post in posts.items():
        site.serve(f"/@lakeside/{number}", mastodon_post_page(host, post, number),
                   content_type="text/html; charset=utf-8")
        link = f"http://{host}/@lakeside/{number}"
        items.append(f"""<item>
      <guid isPermaLink="true">{link}</guid>
      <link>{link}</link>
      <pubDate>{when}</pubDate>
      <description>{html.escape(post, quote=False)}</description>
      <media:content url="http://{host}/system/media_attachments/files/113/572/original/a1b2.jpeg" type="image/jpeg" fileSize="184203" medium="image">
        <media:rating scheme="urn:simple">nonadult</media:rating>
        <media:description type="plain">The intake channel at Marlow</media:description>
      </media:content>
      <category>reservoir</category>
    </item>""")
    return site.serve("/@lakeside.rss", f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:webfeeds="http://webfeeds.org/rss/1.0" xmlns:media="http://search.yahoo.com/mrss/">
  <channel>
    <title>Lakeside Water</title>
    <description>Public posts from @lakeside@{host}</description>
    <link>http://{host}/@lakeside</link>
    <image><url>http://{host}/avatars/original/missing.png</url><title>Lakeside Water</title><link>http://{host}/@lakeside</link></image>
    <lastBuildDate>{when}</lastBuildDate>
    <webfeeds:icon>http://{host}/avatars/original/missing.png</webfeeds:icon>
    <generator>Mastodon v4.3.2</generator>
    {"".join(items)}
  </channel>
</rss>""".encode(), content_type="application/rss+xml; charset=utf-8")


def test_a_mastodon_post_is_its_feeds_text_not_the_apps_notice(site, mail, workdir):
    # A Mastodon account's feed (@user.rss, on any of its thousands of servers) has no
    # <title> per item, and each post's page is the app's "please enable JavaScript" notice,
    # the post only in its head. A post that shared a word with the notice ("Mastodon",
    # "platform") was stored as the notice, a topic on "JavaScript" mailed it and one on
    # its own words missed it. The feed gives the post whole: the page is not read. (The
    # site is the crawl's proxy: it answers for the Mastodon server, found by its feed's
    # shape, not its name.)
    host = "social.lakeside.example"
    posts = {"113572215316123456": SURVEY,
             "113572215316123457": "Welcome to the water authority's account on Mastodon, "
             "the new platform for our reservoir notices: zebrafish survey results follow."}
    feed = serve_mastodon_feed(site, host, {
        number: f'<p>{post} <a href="http://{host}/tags/reservoir" class="mention hashtag" '
        'rel="tag">#<span>reservoir</span></a></p>' for number, post in posts.items()})
    rows = crawled_app_posts(site, mail, workdir, feed)
    assert {(row["text"], row["extraction"]) for row in rows} == {
        (f"{post} #reservoir", "feed") for post in posts.values()}, rows
    assert {row["title"] for row in rows} == {
        "The Marlow reservoir survey found zebrafish in the intake channels this week, and "
        "the…", "Welcome to the water authority's account on Mastodon, the new platform for "
        "our reservoir…"}, rows
    assert not [r for r in site.requests if "/@lakeside/" in r.target]  # no page read


def test_a_mastodon_post_behind_a_content_warning_is_titled_by_it(site, mail, workdir):
    # Mastodon's feed writes a post behind a content warning as the warning after its label
    # (in the post's language; glued to it since 4.3), a rule, then the post. Stored as
    # one, its alert was titled "Content warning: Marlow survey: dead fish photos The
    # Marlow...", and the label and the warning were its text's opening. The warning is its
    # title, as the app shows it above the post; its text is the post.
    host = "social.lakeside.example"
    feed = serve_mastodon_feed(site, host, {
        "113572215316123456": "<p><strong>Content warning:</strong>Marlow survey: dead fish "
        f"photos</p><hr /><p>{SURVEY}</p>",
        "113572215316123457": "<p><strong>Inhaltswarnung:</strong> Tote Fische</p><hr />"
        "<p>Die Zebrafische im Marlow-Stausee: Fotos der Untersuchung.</p>"})
    rows = crawled_app_posts(site, mail, workdir, feed)
    assert {(row["title"], row["text"]) for row in rows} == {
        ("Marlow survey: dead fish photos", SURVEY),
        ("Tote Fische", "Die Zebrafische im Marlow-Stausee: Fotos der Untersuchung.")}, rows


def misskey_note_page(host: str, note: str, ident: str) -> bytes:
    """A note's page as a Misskey server writes it (2024.x): the note only in its head's
    meta tags, its body the app's splash and its "Please turn on your JavaScript" notice."""
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="application-name" content="Misskey">
<meta name="referrer" content="origin">
<meta name="theme-color" content="#86b300">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="/favicon.ico">
<link rel="manifest" href="/manifest.json">
<link rel="search" type="application/opensearchdescription+xml" title="Lakeside Notes" href="/opensearch.xml">
<link rel="prefetch" href="/assets/locales/en-US.json">
<title>Lakeside Water | Lakeside Notes</title>
<meta name="description" content="{note}">
<meta property="og:type" content="article">
<meta property="og:title" content="Lakeside Water">
<meta property="og:description" content="{note}">
<meta property="og:url" content="http://{host}/notes/{ident}">
<meta property="og:site_name" content="Lakeside Notes">
<meta name="misskey:user-username" content="lakeside">
<meta name="misskey:note-id" content="{ident}">
<link rel="alternate" href="http://{host}/notes/{ident}" type="application/activity+json">
<script>const VERSION = "2024.11.0"; const CLIENT_ENTRY = "app-xK3d9.js";</script>
<script type="application/json" id="misskey_meta" data-generated-at="1733561700000">{{"name":"Lakeside Notes"}}</script>
<script src="/client-assets/boot.js"></script>
</head>
<body>
<noscript><p>JavaScriptを有効にしてください<br>Please turn on your JavaScript</p></noscript>
<div id="splash"><img id="splashIcon" src="/static-assets/splash.png"><div id="splashSpinner"></div></div>
</body>
</html>""".encode()


def serve_misskey_feed(site, host: str, notes: dict[str, str], posted: datetime) -> str:
    """Serve ``notes`` (id: text, the newest first), each at its page
    (``misskey_note_page``), and the account's feed of them as a Misskey server writes it,
    the first posted at ``posted``, each next a minute before; the feed's address on
    ``host``."""
    entries = []
    for age, (ident, note) in enumerate(notes.items()):
        when = (posted - timedelta(minutes=age)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        site.serve(f"/notes/{ident}", misskey_note_page(host, note, ident),
                   content_type="text/html; charset=utf-8")
        link = f"http://{host}/notes/{ident}"
        entries.append(f"""<entry>
        <title type="html"><![CDATA[New note by Lakeside Water]]></title>
        <id>{link}</id>
        <link href="{link}"/>
        <updated>{when}</updated>
        <content type="html"><![CDATA[<p><span>{note}</span></p>]]></content>
    </entry>""")
    site.serve("/@lakeside.atom", f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
    <id>http://{host}/@lakeside</id>
    <title>Lakeside Water (@lakeside@{host})</title>
    <generator>Misskey</generator>
    <author>
        <name>Lakeside Water</name>
        <email>lakeside@{host}</email>
        <uri>http://{host}/@lakeside</uri>
    </author>
    <link rel="alternate" href="http://{host}/@lakeside"/>
    <link rel="alternate" type="application/atom+xml" href="http://{host}/@lakeside.atom"/>
    <subtitle>412 Notes, 35 Following, 980 Followers · The water authority of the Marlow valley</subtitle>
    <logo>http://{host}/identicon/lakeside@{host}</logo>
    <rights>Lakeside Water</rights>
    {"".join(entries)}
</feed>""".encode(), content_type="application/atom+xml; charset=utf-8")
    return f"http://{host}/@lakeside.atom"


def test_a_misskey_note_is_its_feeds_text_not_the_apps_notice(site, mail, workdir):
    # A Misskey account's feed (@user.atom, on any of its thousands of servers, Sharkey's
    # and Firefish's too) titles every note "New note by <name>", and each note's page is
    # the app's "Please turn on your JavaScript" notice, the note only in its head. The
    # feed gives the note whole: the page is not read, and the note is titled by its
    # opening. (The site is the crawl's proxy: it answers for the Misskey server, found by
    # its feed's shape, not its name.)
    host = "notes.lakeside.example"
    notes = {"9zq4ab12cd": SURVEY,
             "9zq4ab12ce": "Our reservoir notices now come from this account too: follow it "
             "for the zebrafish survey results."}
    feed = serve_misskey_feed(site, host, notes, datetime.now(UTC) - timedelta(minutes=20))
    rows = crawled_app_posts(site, mail, workdir, feed)
    assert {(row["text"], row["extraction"]) for row in rows} == {
        (note, "feed") for note in notes.values()}, rows
    assert {row["title"] for row in rows} == {
        "The Marlow reservoir survey found zebrafish in the intake channels this week, and "
        "the…", "Our reservoir notices now come from this account too: follow it for the "
        "zebrafish survey…"}, rows
    assert not [r for r in site.requests if "/notes/" in r.target]  # no page read


def pleroma_notice_page(host: str, post: str, notice: str) -> bytes:
    """A post's page as a Pleroma server writes it (Akkoma's alike): its front end's page,
    the post only in the meta tags put in its head, its body the app's "please enable
    JavaScript" notice (its static pages are off unless its admin turns them on)."""
    return (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><meta name=viewport "
            'content="width=device-width,initial-scale=1,user-scalable=no"><title>Pleroma'
            f'</title><meta content="lakeside" property="og:title"><meta content="http://'
            f'{host}/notice/{notice}" property="og:url"><meta content="{post}" '
            f'property="og:description"><meta content="summary" property="twitter:card">'
            f'<link href="http://{host}/notice/{notice}" rel="alternate" '
            'type="application/activity+json"><title>Lakeside Notes</title><link rel=icon '
            "type=image/png href=/favicon.png><link href=/static/css/app.9a4c5ede.css "
            "rel=stylesheet></head><body class=hidden><noscript>To use Pleroma, please enable "
            "JavaScript.</noscript><div id=app></div><script type=text/javascript "
            "src=/static/js/app.45547c05.js></script></body></html>").encode()


def test_a_pleroma_post_is_its_feeds_text_not_the_apps_notice(site, mail, workdir):
    # A Pleroma account's feed (/users/NAME/feed.atom, Akkoma's too, on any of their
    # servers) links each post to its object (/objects/<uuid>), which a browser is sent on
    # to its notice's page (/notice/<id>): the front end's "please enable JavaScript"
    # notice, the post only in its head. It was stored as the notice (a topic on
    # "JavaScript" mailed every post), or left for the next poll as a wall. The item
    # gives the post whole, and every item says it is an ActivityStreams note in a
    # conversation: its page is not read. (The site is the crawl's proxy: it answers for
    # the Pleroma server, found by its feed's shape, not its name.)
    host = "pleroma.lakeside.example"
    posts = {("0d7c1bd4-3e1b-4a3f-9a53-2c1a5f6e7b80", "AqL3xQ8uY1lNk2fV7E"): SURVEY,
             ("5b2e9c61-7a4d-4f0e-8c3b-1e6d2f9a0c47", "AqL3wZ2mT9pRk1eU6D"): "Our reservoir "
             "notices now come from this account too: follow it for the zebrafish survey "
             "results."}
    when = (datetime.now(UTC) - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    entries = []
    for (uuid, notice), post in posts.items():
        site.serve(f"/objects/{uuid}", b"", status=302, content_type="text/html",
                   headers={"Location": f"http://{host}/notice/{notice}"})
        site.serve(f"/notice/{notice}", pleroma_notice_page(host, post, notice),
                   content_type="text/html; charset=utf-8")
        link = f"http://{host}/objects/{uuid}"
        entries.append(f"""<entry>
  <activity:object-type>http://activitystrea.ms/schema/1.0/note</activity:object-type>
  <activity:verb>http://activitystrea.ms/schema/1.0/post</activity:verb>
  <id>{link}</id>
  <title>{post[:100]}...</title>
  <content type="html">{html.escape(f"<p>{post}</p>")}</content>
  <published>{when}</published>
  <updated>{when}</updated>
  <ostatus:conversation ref="http://{host}/contexts/{uuid}">
    http://{host}/contexts/{uuid}
  </ostatus:conversation>
  <link href="http://{host}/contexts/{uuid}" rel="ostatus:conversation"/>
  <link type="application/atom+xml" href='{link}' rel="self"/>
  <link type="text/html" href='{link}' rel="alternate"/>
  <link rel="mentioned" ostatus:object-type="http://activitystrea.ms/schema/1.0/collection" href="http://activityschema.org/collection/public"/>
</entry>""")
    site.serve("/users/lakeside/feed.atom", f"""<?xml version="1.0" encoding="UTF-8"?>
<feed
  xmlns="http://www.w3.org/2005/Atom"
  xmlns:thr="http://purl.org/syndication/thread/1.0"
  xmlns:activity="http://activitystrea.ms/spec/1.0/"
  xmlns:poco="http://portablecontacts.net/spec/1.0"
  xmlns:ostatus="http://ostatus.org/schema/1.0">

  <id>http://{host}/users/lakeside/feed.atom</id>
  <title>lakeside's timeline</title>
  <updated>{when}</updated>
  <logo>http://{host}/images/avi.png</logo>
  <link rel="self" href="http://{host}/users/lakeside/feed.atom" type="application/atom+xml"/>
  <author>
    <id>http://{host}/users/lakeside</id>
    <activity:object>http://activitystrea.ms/schema/1.0/person</activity:object>
    <uri>http://{host}/users/lakeside</uri>
    <poco:preferredUsername>lakeside</poco:preferredUsername>
    <poco:displayName>Lakeside Water</poco:displayName>
    <name>lakeside</name>
  </author>
  {"".join(entries)}
</feed>""".encode(), content_type="application/atom+xml; charset=utf-8")
    rows = crawled_app_posts(site, mail, workdir, f"http://{host}/users/lakeside/feed.atom")
    assert {(row["text"], row["extraction"]) for row in rows} == {
        (post, "feed") for post in posts.values()}, rows
    assert not [r for r in site.requests if "/objects/" in r.target]  # no page read


def test_a_github_release_is_its_feeds_notes_not_its_pages_menus(site, mail, workdir):
    # A repository's releases feed (github.com/OWNER/REPO/releases.atom) links each release
    # to its page, where short notes stand among the repository's menus and counters: the
    # release was stored as "Product", "Solutions", "/", "Public", "Fork", "12"... a line
    # each above its notes. The feed gives the notes whole. (The site is the crawl's proxy:
    # it answers for github.com.)
    notes = "Fixes the berth booking overlap when a ferry is moved by the harbour master."
    link = "http://github.com/lakeside/harbourd/releases/tag/v2.3.0"
    page = (FIXTURES / "github-release.html").read_bytes()
    assert notes.encode() in page
    site.serve(urlsplit(link).path, page, content_type="text/html; charset=utf-8")
    when = (datetime.now(UTC) - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    feed = site.serve("/lakeside/harbourd/releases.atom", f"""<?xml version="1.0"
encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-US">
<id>tag:github.com,2008:https://github.com/lakeside/harbourd/releases</id>
<link type="text/html" rel="alternate" href="http://github.com/lakeside/harbourd/releases"/>
<title>Release notes from harbourd</title><updated>{when}</updated><entry>
<id>tag:github.com,2008:Repository/123456/v2.3.0</id><updated>{when}</updated>
<link rel="alternate" type="text/html" href="{link}"/><title>v2.3.0</title>
<content type="html">&lt;p&gt;{notes}&lt;/p&gt;</content><author><name>mkoster</name></author>
</entry></feed>""".encode(), content_type="application/atom+xml; charset=utf-8")
    workdir.write_config(sources=[feed], smtp=mail, topics=[
        {"name": "Harbour", "query": "harbour", "notify": ["desk@test.example"]},
        {"name": "Menus", "query": "Public OR Fork OR Star", "notify": ["menus@test.example"]}])
    out = workdir.newswatch("crawl", http_proxy=f"http://{urlsplit(site.base_url).netloc}",
                            no_proxy="").stdout
    assert "1 new article(s)" in out, out
    [row] = [json.loads(line) for line in workdir.newswatch("export").stdout.splitlines()]
    assert (row["url"], row["title"], row["text"]) == (link, "v2.3.0", notes), row
    [message] = mail.wait_for(1)
    assert message["To"] == "desk@test.example"


def test_a_news_feeds_item_linking_a_github_release_reads_its_page(site, mail, workdir):
    # A news feed (a blog's, a newsletter's, an aggregator's) links a release of a
    # repository whose feed it is not: its item's text is a line about it, not the notes,
    # which only the page gives ("Tide tables ... berth booking overlap"): not read, the
    # release was stored as its headline, and a topic on its notes never alerted.
    link = "http://github.com/lakeside/harbourd/releases/tag/v2.3.0"
    site.serve(urlsplit(link).path, (FIXTURES / "github-release.html").read_bytes(),
               content_type="text/html; charset=utf-8")
    when = (datetime.now(UTC) - timedelta(minutes=20)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    feed = site.serve("/news.rss", f"""<?xml version="1.0" encoding="UTF-8"?><rss
version="2.0"><channel><title>Harbour software news</title><link>{site.base_url}</link>
<item><title>harbourd 2.3 is out</title><link>{link}</link><pubDate>{when}</pubDate>
<description>A new harbourd.</description></item></channel></rss>""".encode(),
                      content_type="application/rss+xml; charset=utf-8")
    workdir.write_config(sources=[feed], smtp=mail, topics=[
        {"name": "Berths", "query": "berth", "notify": ["desk@test.example"]}])
    out = workdir.newswatch("crawl", http_proxy=f"http://{urlsplit(site.base_url).netloc}",
                            no_proxy="").stdout
    assert "1 new article(s)" in out, out
    [row] = [json.loads(line) for line in workdir.newswatch("export").stdout.splitlines()]
    assert "berth booking overlap" in row["text"], row
    [message] = mail.wait_for(1)
    assert message["To"] == "desk@test.example"


@pytest.mark.parametrize(("link", "feed", "skipped"), [
    # A monorepo's tags hold its package's scope ("@harbourd/cli@2.3.0"), or a branch-like
    # name: their pages were read, the notes stored among the menus.
    ("https://github.com/lakeside/harbourd/releases/tag/%40harbourd/cli%402.3.0",
     "https://github.com/lakeside/harbourd/releases.atom", True),
    ("https://github.com/lakeside/harbourd/releases/tag/release/2.3",
     "https://github.com/Lakeside/Harbourd/releases.atom", True),
    ("https://github.com/lakeside/harbourd/releases/tag/v2.3.0",
     "https://github.com/lakeside/harbourd/releases.atom", True),
    # Another repository's release, or one a news feed links: its page is read.
    ("https://github.com/lakeside/tides/releases/tag/v1.0",
     "https://github.com/lakeside/harbourd/releases.atom", False),
    ("https://github.com/lakeside/harbourd/releases/tag/v2.3.0",
     "https://hnrss.org/frontpage", False),
    ("https://github.com/lakeside/harbourd/releases",
     "https://github.com/lakeside/harbourd/releases.atom", False),
])
def test_a_github_release_of_its_own_releases_feed(link, feed, skipped):
    assert github_release(link, feed) is skipped

def serve_youtube_consent(site, video: str) -> None:
    """A video's watch page as YouTube answers it from Europe (the site being the crawl's
    proxy): a redirect to its consent page, and that page."""
    consent = (f"http://consent.youtube.com/m?continue=http%3A%2F%2Fwww.youtube.com%2Fwatch"
               f"%3Fv%3D{video}%26cbrd%3D1&gl=DE&m=0&pc=yt&cm=2&hl=de&src=1")
    site.serve("/watch", b"", status=302, content_type="text/html; charset=utf-8",
               headers={"Location": consent})
    site.serve("/m", b"<!DOCTYPE html><html lang='de'><head><title>Bevor Sie zu YouTube "
               b"weitergehen</title></head><body><h1>Bevor Sie zu YouTube weitergehen</h1>"
               b"<p>Wir verwenden Cookies und Daten, um Dienste von Google bereitzustellen "
               b"und zu betreiben.</p><form action='/save'><button>Alle ablehnen</button>"
               b"<button>Alle akzeptieren</button></form></body></html>",
               content_type="text/html; charset=utf-8")


def youtube_watch_page(video: str, title: str, description: str) -> bytes:
    """A video's watch page as YouTube's server writes it: the player and the app built by
    scripts from their JSON (the description in it, and cut short in the head's meta tags),
    the page's own text its footer's links."""
    state = json.dumps({"videoDetails": {"videoId": video, "title": title,
                                         "shortDescription": description}})
    return f"""<!DOCTYPE html><html style="font-size: 10px;font-family: Roboto, Arial, sans-serif;" lang="en" system-icons typography typography-spacing><head><script data-id="_gd" nonce="x1">window.WIZ_global_data = {{"MUE6Ne":"youtube_web"}};</script><meta http-equiv="origin-trial" content="AymqwRC7u88Y4JPvfIF2F37QKylC04248hLCdJAsh8xgOfe"/><script nonce="x1">var ytcfg={{d:function(){{return window.yt&&yt.config_||ytcfg.data_||(ytcfg.data_={{}})}}}};</script><link rel="shortcut icon" href="/s/desktop/fe6e1f4b/img/logos/favicon.ico" type="image/x-icon"><title>{title} - YouTube</title><meta name="title" content="{title}"><meta name="description" content="{description[:60]}..."><meta name="keywords" content="video, sharing"><link rel="canonical" href="http://www.youtube.com/watch?v={video}"><meta property="og:site_name" content="YouTube"><meta property="og:url" content="http://www.youtube.com/watch?v={video}"><meta property="og:title" content="{title}"><meta property="og:type" content="video.other"><meta property="og:description" content="{description[:60]}..."><meta itemprop="datePublished" content="2026-12-07T03:00:12-08:00"></head><body dir="ltr" no-y-overflow><div id="watch7-content" class="watch-main-col" itemscope itemid="" itemtype="http://schema.org/VideoObject"><link itemprop="url" href="http://www.youtube.com/watch?v={video}"><meta itemprop="name" content="{title}"><meta itemprop="description" content="{description[:60]}..."><meta itemprop="duration" content="PT4M12S"></div><script nonce="x1">var ytInitialPlayerResponse = {state};var meta = document.createElement('meta');</script><ytd-app><div id="content" class="style-scope ytd-app"></div></ytd-app><script nonce="x1">var ytInitialData = {{"contents":{{}}}};</script><div id="footer"><a href="/about/">About</a><a href="/about/press/">Press</a><a href="/about/copyright/">Copyright</a><a href="/t/contact_us/">Contact us</a><a href="/creators/">Creators</a><a href="/ads/">Advertise</a><a href="/t/terms">Terms</a><a href="/t/privacy">Privacy</a><a href="/about/policies/">Policy &amp; Safety</a><a href="/howyoutubeworks">How YouTube works</a><a href="/new">Test new features</a></div></body></html>""".encode()


def youtube_entry(channel: str, video: str, title: str, description: str, page: str) -> str:
    """An entry of a YouTube channel's feed as YouTube writes it: the video's page at
    ``page`` and its id (``watch?v=``, ``shorts/``), its description in its media:group,
    published 20 minutes ago."""
    when = (datetime.now(UTC) - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return f"""<entry>
  <id>yt:video:{video}</id>
  <yt:videoId>{video}</yt:videoId>
  <yt:channelId>{channel}</yt:channelId>
  <title>{title}</title>
  <link rel="alternate" href="http://www.youtube.com/{page}{video}"/>
  <author>
   <name>Lakeside Water</name>
   <uri>http://www.youtube.com/channel/{channel}</uri>
  </author>
  <published>{when}</published>
  <updated>{when}</updated>
  <media:group>
   <media:title>{title}</media:title>
   <media:content url="http://www.youtube.com/v/{video}?version=3" type="application/x-shockwave-flash" width="640" height="390"/>
   <media:thumbnail url="http://i1.ytimg.com/vi/{video}/hqdefault.jpg" width="480" height="360"/>
   <media:description>{description}</media:description>
   <media:community>
    <media:starRating count="42" average="5.00" min="1" max="5"/>
    <media:statistics views="1234"/>
   </media:community>
  </media:group>
 </entry>"""


def test_a_youtube_video_is_its_feeds_title_and_description_not_its_page(site, mail, workdir):
    # A YouTube channel's feed (youtube.com/feeds/videos.xml?channel_id=...) links each
    # video to its page, the player and app its scripts build, or, from Europe, a redirect
    # to YouTube's consent page: the video waited as unavailable, poll after poll. The feed
    # gives the video's title and its description (media:description, plain text: its lines
    # were run into one), which are the article. (The site is the crawl's proxy: it answers
    # for www.youtube.com.)
    video, title = "dQw4w9WgXcQ", "Marlow reservoir: what the survey found"
    description = ("The water authority's survey found zebrafish in the intake channels "
                   "of the Marlow reservoir.\nThe public meeting on the delay is next Tuesday.")
    serve_youtube_consent(site, video)
    short, heading = "Zb4kLq9WmXs", "Zebrafish in the intake channels"
    site.serve(f"/shorts/{short}", youtube_watch_page(short, heading, heading),
               content_type="text/html; charset=utf-8")
    channel = "UCx3T8cQ1ZbGl2xE2Z4v0p1A"
    site.serve("/feeds/videos.xml", f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns:media="http://search.yahoo.com/mrss/" xmlns="http://www.w3.org/2005/Atom">
 <link rel="self" href="http://www.youtube.com/feeds/videos.xml?channel_id={channel}"/>
 <id>yt:channel:x3T8cQ1ZbGl2xE2Z4v0p1A</id>
 <yt:channelId>x3T8cQ1ZbGl2xE2Z4v0p1A</yt:channelId>
 <title>Lakeside Water</title>
 <link rel="alternate" href="http://www.youtube.com/channel/{channel}"/>
 <author>
  <name>Lakeside Water</name>
  <uri>http://www.youtube.com/channel/{channel}</uri>
 </author>
 <published>2019-03-02T10:11:12+00:00</published>
{youtube_entry(channel, video, title, description, "watch?v=")}
{youtube_entry(channel, short, heading, heading, "shorts/")}
</feed>""".encode(), content_type="text/xml; charset=UTF-8")
    workdir.write_config(
        sources=[site.url("/feeds/videos.xml?channel_id=" + channel)], smtp=mail,
        topics=[{"name": "Zebrafish", "query": "zebrafish", "notify": ["desk@test.example"]},
                {"name": "Page", "query": "YouTube OR Advertise OR Creators",
                 "notify": ["page@test.example"]}])
    out = workdir.newswatch("crawl", http_proxy=f"http://{urlsplit(site.base_url).netloc}",
                            no_proxy="").stdout
    assert "2 new article(s)" in out, out
    rows = [json.loads(line) for line in workdir.newswatch("export").stdout.splitlines()]
    assert {(row["url"], row["title"], row["text"], row["extraction"]) for row in rows} == {
        (f"http://www.youtube.com/watch?v={video}", title, description, "feed"),
        (f"http://www.youtube.com/shorts/{short}", heading, heading, "feed")}, rows
    [message] = mail.wait_for(1)
    assert message["To"] == "desk@test.example"
    assert not [r for r in site.requests if "youtube.com/" in r.target.partition("?")[0]
                and "/feeds/" not in r.target]  # no video's page read


def test_a_deferred_video_or_post_is_its_items_text_when_retried(site, mail, workdir):
    # A YouTube video deferred by an earlier version (its page redirected to YouTube's
    # consent page, "unavailable for now"), a Mastodon post deferred when its host's crawl
    # budget was spent or the crawl stopped: retried once their feeds no longer list them,
    # their pages were read (the video's waited again, poll after poll until it expired;
    # the post was stored as the app's notice). A deferred entry keeps its item: it is the
    # article, as when it was listed. (The site is the crawl's proxy.)
    video, title = "dQw4w9WgXcQ", "Marlow reservoir: what the survey found"
    description = "The water authority's survey found zebrafish in the intake channels."
    serve_youtube_consent(site, video)
    host, number = "social.lakeside.example", "113572215316123456"
    post = ("Welcome to the water authority's account on Mastodon, the new platform for our "
            "reservoir notices: zebrafish survey results follow.")
    site.serve(f"/@lakeside/{number}", mastodon_post_page(host, post, number),
               content_type="text/html; charset=utf-8")
    # Their feeds list newer items now, of other topics.
    when = datetime.now(UTC) - timedelta(minutes=20)
    channel = "UCx3T8cQ1ZbGl2xE2Z4v0p1A"
    site.serve("/feeds/videos.xml", f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns:media="http://search.yahoo.com/mrss/" xmlns="http://www.w3.org/2005/Atom">
 <title>Lakeside Water</title>
 <link rel="alternate" href="http://www.youtube.com/channel/{channel}"/>
{youtube_entry(channel, "Hq2kLw8VmXt", "Opening hours", "Opening hours.", "shorts/")}
</feed>""".encode(), content_type="text/xml; charset=UTF-8")
    site.serve("/@lakeside.rss", f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Lakeside Water</title><link>http://{host}/@lakeside</link>
<generator>Mastodon v4.3.2</generator></channel></rss>""".encode(),
               content_type="application/rss+xml; charset=utf-8")
    youtube = f"http://www.youtube.com/feeds/videos.xml?channel_id={channel}"
    mastodon = f"http://{host}/@lakeside.rss"
    workdir.write_config(
        sources=[youtube, mastodon], smtp=mail,
        topics=[{"name": "Zebrafish", "query": "zebrafish", "notify": ["desk@test.example"]},
                {"name": "Page", "query": "JavaScript OR Cookies",
                 "notify": ["page@test.example"]}])
    proxy = {"http_proxy": f"http://{urlsplit(site.base_url).netloc}", "no_proxy": ""}
    assert workdir.newswatch("crawl", **proxy).returncode == 0
    # What the store kept of them, as it was left.
    with Store.open(workdir.database) as store:
        ids = {source.url: source.id for source in store.sources()}
        watch = f"http://www.youtube.com/watch?v={video}"
        status = f"http://{host}/@lakeside/{number}"
        for entry in (
            DeferredEntry(url=watch, source_id=ids[youtube], link=watch, title=title,
                          summary=description, published=when, author="Lakeside Water",
                          guid=f"yt:video:{video}", since=when - timedelta(hours=1)),
            DeferredEntry(url=status, source_id=ids[mastodon], link=status, title="",
                          summary=post, published=when, author=None, guid=status,
                          since=when - timedelta(hours=1)),
        ):
            store.defer_entry(entry, POSTPONED, when, attempted=False)
    out = workdir.newswatch("crawl", **proxy).stdout
    assert "2 new article(s)" in out, out
    rows = {row["url"]: row for row in
            (json.loads(line) for line in workdir.newswatch("export").stdout.splitlines())}
    assert {(url, rows[url]["text"], rows[url]["extraction"]) for url in (watch, status)} == {
        (watch, description, "feed"), (status, post, "feed")}, rows
    [message] = mail.wait_for(1)
    assert message["To"] == "desk@test.example"
    assert not [r for r in site.requests if "/watch" in r.target or "/@lakeside/" in r.target]


def test_a_misskey_note_left_to_the_next_poll_is_its_items_text(site, mail, workdir):
    # A Misskey note is told by its feed's generator. One left to the next polls (more new
    # entries than a poll takes, its host's budget spent, a crawl stopped) was retried,
    # once its feed no longer listed it, by reading its page: the app's "Please turn on
    # your JavaScript" notice, stored as the note and mailed to a topic on "JavaScript".
    # (One new entry a poll here: tests/small_polls.py; the site is the crawl's proxy.)
    host = "notes.lakeside.example"
    older, newer, newest = "9zq4ab12cc", "9zq4ab12cd", "9zq4ab12ce"
    note = ("The Marlow reservoir survey found zebrafish in the intake channels this week, "
            "and the water authority will hold a public meeting on the delay next Tuesday.")
    others = {older: "Our office is closed on Monday for the holiday.",
              newest: "The reservoir's path reopens to walkers on Saturday morning."}
    now = datetime.now(UTC)
    feed = serve_misskey_feed(site, host, {older: others[older]}, now - timedelta(hours=1))
    workdir.write_config(
        sources=[feed], smtp=mail,
        topics=[{"name": "Zebrafish", "query": "zebrafish", "notify": ["desk@test.example"]},
                {"name": "Shell", "query": "JavaScript", "notify": ["shell@test.example"]}])
    proxy = {"http_proxy": f"http://{urlsplit(site.base_url).netloc}", "no_proxy": ""}
    assert "1 new article(s)" in small_crawl(workdir, 1, **proxy)
    # Two new notes: the note on zebrafish, the older, is left to the next poll.
    serve_misskey_feed(site, host, {newest: others[newest], newer: note},
                       now - timedelta(minutes=20))
    assert "1 new article(s)" in small_crawl(workdir, 1, **proxy)
    assert "1 new page(s) left for the next polls" in workdir.newswatch("status").stdout
    # Its feed lists it no longer.
    serve_misskey_feed(site, host, {newest: others[newest]}, now - timedelta(minutes=20))
    out = small_crawl(workdir, 1, **proxy)
    assert "1 new article(s)" in out, out
    [row] = [row for line in workdir.newswatch("export").stdout.splitlines()
             if (row := json.loads(line))["url"] == f"http://{host}/notes/{newer}"]
    assert (row["text"], row["extraction"]) == (note, "feed"), row
    [message] = mail.wait_for(1)
    assert message["To"] == "desk@test.example"
    assert not [r for r in site.requests if "/notes/" in r.target]  # no page read


MICROBLOG_POST = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Lakeside Notes</title><meta property="og:site_name" content="Lakeside Notes">
<meta property="og:title" content="Lakeside Notes"></head><body>
<header><h1><a href="/">Lakeside Notes</a></h1><nav><a href="/archive/">Archive</a>
<a href="/about/">About</a></nav></header>
<main><article class="h-entry"><div class="e-content">
<p>{post}</p><p>Minutes of the last meeting are on the parish noticeboard.</p></div><a class="u-url" href="/2026/12/06/101500.html">
<time class="dt-published" datetime="2026-12-06T10:15:00+00:00">Dec 6, 2026</time></a>
</article></main><footer><p>Lakeside Notes is powered by Micro.blog.</p></footer>
</body></html>"""


def test_an_untitled_post_on_a_page_titled_with_the_blogs_name_is_titled_by_its_opening(
    site, mail, workdir
):
    # A micro-blog's JSON Feed has no title per item, and each post's page is titled with the
    # blog's name: every alert was "Lakeside Notes", whatever the post said.
    when = (datetime.now(UTC) - timedelta(minutes=20)).isoformat()
    post = ("The Marlow reservoir survey found zebrafish in the intake channels this week, "
            "and the water authority will hold a public meeting on the delay next Tuesday "
            "evening in the village hall, where the engineers will answer questions.")
    page = site.serve("/2026/12/06/101500.html", MICROBLOG_POST.format(post=post).encode(),
                      content_type="text/html")
    feed = site.serve("/feed.json", json.dumps({
        "version": "https://jsonfeed.org/version/1.1", "title": "Lakeside Notes",
        "home_page_url": site.url("/"),
        "items": [{"id": page, "url": page, "content_html": f"<p>{post}</p>",
                   "date_published": when}],
    }).encode(), content_type="application/feed+json")
    workdir.write_config(
        sources=[feed], smtp=mail,
        topics=[{"name": "Zebrafish", "query": "zebrafish", "notify": ["desk@test.example"]}])
    out = workdir.newswatch("crawl").stdout
    assert "1 new article(s)" in out, out
    [row] = [json.loads(line) for line in workdir.newswatch("export").stdout.splitlines()]
    assert row["title"] == ("The Marlow reservoir survey found zebrafish in the intake "
                            "channels this week, and the…")
    assert row["text"].startswith(post)  # the post whole, its opening too
    [message] = mail.wait_for(1)
    assert "The Marlow reservoir survey found zebrafish" in message["Subject"]


#: A news site's cookie-consent page, served at the article's own address (200, no redirect)
#: to a reader without its consent cookie: the IAB framework's wording of what the partners
#: do, the purposes and the vendors (more than 150 words: no short page).
TCF_CONSENT = b"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>The Daily
Example</title></head><body><main class="consent"><h1>We value your privacy</h1><p>We and our
partners store and/or access information on a device, such as cookies and process personal
data, such as unique identifiers and standard information sent by a device for personalised
ads and content, ad and content measurement, and audience insights, as well as to develop and
improve products. With your permission we and our partners may use precise geolocation data
and identification by device scanning. You may click to consent to our and our 842
partners' processing as described above. Alternatively you may access more detailed
information and change your preferences before consenting or to refuse consenting. Please
note that some processing of your personal data may not require your consent, but you have a
right to object to such processing. Your preferences apply to this website only. You can
change your preferences or withdraw your consent at any time by returning to this site and
clicking the "Privacy" button at the bottom of the webpage.</p><h2>Purposes</h2><ul><li>Store
and/or access information on a device</li><li>Personalised advertising and content,
advertising and content measurement, audience research and services development</li><li>Use
limited data to select advertising</li><li>Create profiles for personalised advertising</li>
<li>Understand audiences by statistics or combinations of data from different sources
</li><li>Develop and improve services</li></ul><p>List of partners (vendors): the vendors
we work with process data on the basis of consent or legitimate interest, as each of them
declares in the framework's global vendor list.</p><button>Accept all</button>
<button>Manage options</button><button>Reject all</button></main></body></html>"""


def test_a_consent_page_served_at_the_articles_address_is_a_wall(site, mail, workdir):
    """Four articles' own addresses answer 200 with the site's long cookie-consent page:
    stored, its text was each article's (a topic on "partners" alerted, the four were one
    story) and the articles, served later, were never read. Asked again instead: served at
    the next poll, each is stored with its text and alerts once."""
    slugs = ["venezuela-opposition-leader", "central-bank-holds-rates", "zelensky-grain-corridor",
             "harbour-wind-farm-approved"]
    for slug in slugs:
        site.publish(fresh(slug))
        path = site.article_url(slug).removeprefix(site.base_url)
        site.serve(path, TCF_CONSENT, content_type="text/html; charset=utf-8")
    nothing_at_first(site, mail, workdir, "partners OR cookies OR data")
    exported = served_at_the_next_poll(site, mail, workdir, slugs)
    assert not any("partners" in a["text"] for a in exported)


@pytest.mark.parametrize("text", [
    # The framework's wording as German, Italian, Spanish, French and Dutch consent pages
    # write it.
    "Wir und unsere 312 Partner... Informationen auf einem Gerät speichern und/oder abrufen. "
    "Personalisierte Werbung und Inhalte, Messung von Werbeleistung und der Performance von "
    "Inhalten",
    "Noi e i nostri fornitori archiviamo... Archiviare e/o accedere a informazioni su un "
    "dispositivo. Annunci e contenuti personalizzati, valutazione degli annunci e del contenuto",
    "Nosotros y nuestros 231 socios almacenamos... Anuncios y contenido personalizados, "
    "medición de anuncios y contenido",
    "Nous et nos partenaires... Publicités et contenu personnalisés, mesure de performance des "
    "publicités et du contenu",
    "Wij en onze partners... Informatie op een apparaat opslaan en/of openen",
])
def test_a_long_consent_notice_in_other_languages_is_not_the_article(text: str) -> None:
    padding = " Datenschutz privacy privacidad confidentialité" * 40
    assert not_the_article("Budget talks stall over pensions", ("Privacy", None), text + padding)


def test_the_consent_wording_is_read_in_any_case_across_lines() -> None:
    """A banner's text as some pages give it: upper-cased, its lines broken mid-phrase. One
    phrase alone is an article's ("we and our partners" in a company's statement)."""
    assert consent("WE AND OUR\n  PARTNERS STORE AND/OR ACCESS\nINFORMATION ON A DEVICE")
    assert not consent("We and our partners at the port will store grain for the winter.")


def test_an_article_about_cookie_consent_is_stored(site, mail, workdir):
    """An article on consent banners quotes the framework's wording at length: its headline's
    words are in its text, so it is the article, stored and alerted at once."""
    title = "Regulator fines publishers over cookie consent banners"
    text = ("The data protection regulator fined four news publishers on Tuesday over cookie "
            "consent banners that, it said, pushed readers into accepting tracking. The "
            "banners opened with the industry framework's standard sentence: " + " ".join(
                TCF_CONSENT.decode().split("<p>")[1].split("</p>")[0].split()) + " The "
            "regulator said the publishers' banners made refusing harder than accepting, and "
            "ordered a button to reject all cookies on the first layer within three months.")
    page = site.serve("/tech/consent-fines", (
        f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1><p>{text}"
        "</p></article></body></html>").encode(), content_type="text/html; charset=utf-8")
    when = (datetime.now(UTC) - timedelta(minutes=20)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    feed = site.serve("/tech.rss", (
        '<rss version="2.0"><channel><title>Tech</title><item><title>' + title + "</title>"
        f"<link>{page}</link><pubDate>{when}</pubDate><description>Four publishers fined."
        "</description></item></channel></rss>").encode())
    workdir.write_config(sources=[feed], smtp=mail, topics=[
        {"name": "Consent", "query": "regulator AND cookies", "notify": ["desk@test.example"]}])
    out = workdir.newswatch("crawl").stdout
    assert "1 new article(s)" in out, out
    [row] = [json.loads(line) for line in workdir.newswatch("export").stdout.splitlines()]
    assert row["title"] == title and "We and our partners store" in row["text"]
    [message] = mail.wait_for(1)
    assert message["To"] == "desk@test.example"
