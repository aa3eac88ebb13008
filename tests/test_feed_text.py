"""A feed's full text of an article (content:encoded, Atom content, JSON Feed content) beside
its summary: the article's text where the page gives less (a paywall's teaser) or nothing
(unavailable, forbidden); the summary stays the summary."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from crawler.entries import _fuller
from crawler.feeds import FeedEntry, parse_feed, parse_json_feed

#: Crawls here run with page worker processes, the default (tests/conftest.py: workdir).
pytestmark = pytest.mark.page_workers

LEDE = ("Venezuelan President Nicolás Maduro left Caracas on Tuesday on a foreign trip that "
        "officials described as a search for new economic partners for the country.")
REST = ("He landed in Minsk in the evening and was met by Belarusian leader Alexander "
        "Lukashenko, who called the visit historic for Belarus and for Venezuela. The two "
        "governments signed agreements on tractors, trucks and oil, officials said, and a "
        "second visit was planned for the spring.")
EXCERPT = "Venezuelan President Nicolás Maduro left Caracas on Tuesday [&#8230;]"
BELARUS = {"name": "Maduro in Belarus", "query": "Maduro AND Belarus",
           "notify": ["desk@test.example"]}


def wordpress_feed(link: str, *, content: bool = True) -> bytes:
    """An RSS item as WordPress writes it: an excerpt, the whole post in content:encoded."""
    when = format_datetime(datetime.now(UTC) - timedelta(minutes=30), usegmt=True)
    full = html.escape(f"<p>{LEDE}</p><p>{REST}</p>")
    encoded = f"<content:encoded>{full}</content:encoded>" if content else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
            f'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
            f"<title>Lakeside Gazette</title><link>http://127.0.0.1/</link><item>"
            f"<title>Maduro leaves Caracas on foreign trip</title><link>{link}</link>"
            f"<guid>{link}</guid><pubDate>{when}</pubDate>"
            f"<description>{html.escape(EXCERPT)}</description>{encoded}</item>"
            f"</channel></rss>").encode()


def teaser_page() -> bytes:
    return ("<!doctype html><html><head><title>Maduro leaves Caracas on foreign trip</title>"
            "</head><body><header><nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
            "</header><main><article><h1>Maduro leaves Caracas on foreign trip</h1>"
            f"<p>{LEDE}</p><div class='paywall'><p>This article is for subscribers. Subscribe "
            "now for unlimited access to our journalism.</p><a href='/subscribe'>Subscribe</a>"
            "</div></article></main><footer>(c) Lakeside Gazette</footer></body></html>"
            ).encode()


def stored(workdir) -> dict[str, str]:
    [row] = [json.loads(line) for line in workdir.newswatch("export").stdout.splitlines()]
    return row


def test_the_full_text_is_kept_beside_the_summary() -> None:
    [entry] = parse_feed(wordpress_feed("http://127.0.0.1/a"), "http://127.0.0.1/feed").entries
    assert entry.summary == "Venezuelan President Nicolás Maduro left Caracas on Tuesday […]"
    assert entry.text == f"{LEDE} {REST}"
    # Without content:encoded, the summary is all there is.
    [only] = parse_feed(wordpress_feed("http://127.0.0.1/a", content=False),
                        "http://127.0.0.1/feed").entries
    assert only.content == "" and only.text == only.summary
    atom = (f'<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry><id>1</id>'
            f'<title>t</title><link href="http://127.0.0.1/a"/><summary>{EXCERPT}</summary>'
            f'<content type="html">{html.escape(f"<p>{LEDE}</p><p>{REST}</p>")}</content>'
            f"</entry></feed>").encode()
    [entry] = parse_feed(atom, "http://127.0.0.1/feed").entries
    assert entry.text == f"{LEDE} {REST}"
    jsonfeed = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [
        {"id": "1", "url": "http://127.0.0.1/a", "summary": "Maduro leaves",
         "content_html": f"<p>{LEDE}</p><p>{REST}</p>"}]}).encode()
    [entry] = parse_json_feed(jsonfeed, "http://127.0.0.1/feed.json").entries
    assert (entry.summary, entry.text) == ("Maduro leaves", f"{LEDE} {REST}")


def test_a_teaser_page_is_read_from_its_feeds_full_text(site, mail, workdir):
    # The page shows the lede above "subscribe"; the feed gives the whole article. The
    # lede was stored, and a topic on the later paragraphs never alerted, nothing said.
    site.serve("/2026/maduro-trip", teaser_page(), content_type="text/html")
    feed = site.serve("/feed.rss", wordpress_feed(site.url("/2026/maduro-trip")))
    workdir.write_config(sources=[feed], topics=[BELARUS], smtp=mail)
    out = workdir.newswatch("crawl").stdout
    assert "1 email(s) queued" in out, out
    row = stored(workdir)
    assert row["text"] == f"{LEDE} {REST}"
    assert (row["extraction"], row["extraction_note"]) == (
        "feed", "the page shows part of the article its feed gives: the feed's text kept")
    assert "Belarus" in mail.wait_for(1)[0].get_body(("plain",)).get_content()


def test_a_feeds_whole_post_is_read_as_text_only_where_the_page_may_be_a_part_of_it() -> None:
    # A third of the feeds a crawl reads give whole posts, and their pages the same text:
    # the post's HTML was made text and both texts cut into words for every such article.
    [entry] = parse_feed(wordpress_feed("http://127.0.0.1/a"), "http://127.0.0.1/feed").entries
    assert _fuller(f"{LEDE} {REST} Comments are closed.", entry) is None
    assert "text" not in vars(entry)  # the HTML was not read
    assert _fuller(LEDE, entry) == f"{LEDE} {REST}"


def test_a_page_that_gives_the_whole_article_is_read_from_the_page(site, mail, workdir):
    whole = teaser_page().replace(b"<div class='paywall'>", f"<p>{REST}</p><div>".encode())
    site.serve("/2026/maduro-trip", whole, content_type="text/html")
    feed = site.serve("/feed.rss", wordpress_feed(site.url("/2026/maduro-trip")))
    workdir.write_config(sources=[feed], topics=[BELARUS], smtp=mail)
    workdir.newswatch("crawl")
    row = stored(workdir)
    assert row["extraction"].startswith("page:") and row["extraction_note"] is None
    mail.wait_for(1)


@pytest.mark.parametrize("status", [403, 503])
def test_a_page_never_read_leaves_the_feeds_full_text(site, mail, workdir, status):
    # WordPress' excerpt ("[…]") was kept, the topic on the post's later words missed; a 503
    # is asked again at the next polls (the entry kept in the database meanwhile), then kept
    # with what the feed gave, its full text too.
    site.serve("/2026/maduro-trip", b"no", status=status, content_type="text/html")
    feed = site.serve("/feed.rss", wordpress_feed(site.url("/2026/maduro-trip")))
    workdir.write_config(sources=[feed], topics=[BELARUS], smtp=mail)
    polls = 3 if status == 503 else 1
    outputs = [workdir.newswatch("crawl").stdout for _ in range(polls)]
    assert "1 email(s) queued" in outputs[-1], outputs
    row = stored(workdir)
    assert (row["extraction"], row["text"]) == ("feed", f"{LEDE} {REST}")
    mail.wait_for(1)


def test_a_posts_embedded_scripts_and_styles_are_not_its_text() -> None:
    """An embedded post's script and a style block in a feed's HTML (WordPress writes both
    into content:encoded) hold no reader's words: a topic on "widgets" or "twttr" must not
    find the post by them, in its summary or its full text."""
    script = ('<script async src="https://platform.twitter.example/widgets.js">'
              'window.twttr = (function (d) { return d.widgets; }(document));</script>')
    style = "<style>.wp-block-embed { margin: 0 } /* widgets */</style>"
    full = html.escape(f"{style}<p>{LEDE}</p><blockquote><p>tweet</p></blockquote>{script}"
                       f"<p>{REST}</p>")
    body = (f'<?xml version="1.0"?><rss version="2.0" '
            f'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>T</title>'
            f"<item><title>Maduro leaves</title>"
            f"<link>http://127.0.0.1/a</link>"
            f"<description>{html.escape(EXCERPT + script)}</description>"
            f"<content:encoded>{full}</content:encoded></item></channel></rss>").encode()
    [entry] = parse_feed(body, "http://127.0.0.1/feed").entries
    assert entry.summary == "Venezuelan President Nicolás Maduro left Caracas on Tuesday […]"
    assert entry.text == f"{LEDE} tweet {REST}"


def test_a_feeds_title_written_in_html_names_its_source_in_words() -> None:
    """An Atom feed's title of type "html" (feedparser's test feeds, a blog's styled name)
    was the source's name markup and all: "Example <b>Atom</b>" in status and in an
    email's "Also on" line. A feed's title is read as an entry's is (crawler.feeds._text)."""
    for title in ('<title type="html">Example &lt;b&gt;Atom&lt;/b&gt;</title>',
                  '<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Example '
                  "<b>Atom</b></div></title>"):
        atom = (f'<feed xmlns="http://www.w3.org/2005/Atom">{title}<entry><id>1</id>'
                f'<title>t</title><link href="http://127.0.0.1/a"/></entry></feed>').encode()
        assert parse_feed(atom, "http://127.0.0.1/feed").title == "Example Atom"
    plain = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Vector&lt;T&gt; '
             "weekly</title><item><link>http://127.0.0.1/a</link></item></channel></rss>")
    assert parse_feed(plain.encode(), "http://127.0.0.1/feed").title == "Vector<T> weekly"


def medium_page(title: str) -> bytes:
    """A member-only story's page as Medium serves it to a reader who is not signed in: the
    label above the headline, the first paragraphs, then the call to sign up."""
    return ("<!doctype html><html lang='en'><head><title>"
            f"{title} | by Ann Lee | Dec, 2026 | Medium</title>"
            "<meta property='og:site_name' content='Medium'></head><body><div id='root'>"
            "<a href='/m/signin'>Sign in</a><article><section><div><p>Member-only story</p>"
            f"<h1 class='pw-post-title'>{title}</h1><div><a href='/@ann'>Ann Lee</a>"
            "<span>7 min read</span><span>Dec 7, 2026</span></div>"
            f"<p class='pw-post-body-paragraph'>{LEDE}</p>"
            f"<p class='pw-post-body-paragraph'>{REST}</p></div></section></article>"
            "<div><h2>Create an account to read the full story.</h2><p>The author made this "
            "story available to Medium members only.</p><a href='/m/signin'>Continue in app"
            "</a><p>Already have an account? <a href='/m/signin'>Sign in</a></p></div>"
            "</div></body></html>").encode()


def test_a_medium_member_only_storys_label_is_no_word_of_it(site, mail, workdir):
    # Medium's tag feeds give a line of each story and "Continue reading on Medium"; the
    # page of a member-only story (most of Medium's) opens with the label "Member-only
    # story", stored as the article's first words: every alert of one began so, and a
    # topic on "member" matched each.
    title = "Maduro leaves Caracas on foreign trip"
    link = site.serve("/@ann/maduro-leaves-caracas-4f2a9c", medium_page(title),
                      content_type="text/html")
    when = format_datetime(datetime.now(UTC) - timedelta(minutes=30), usegmt=True)
    snippet = html.escape(
        f'<div class="medium-feed-item"><p class="medium-feed-snippet">{LEDE[:60]}</p>'
        f'<p class="medium-feed-link"><a href="{link}">Continue reading on Medium »</a></p>'
        "</div>")
    feed = site.serve("/feed/tag/venezuela", (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:content="http://purl.'
        'org/rss/1.0/modules/content/"><channel><title>Venezuela on Medium</title>'
        f"<link>{site.url('/tag/venezuela')}</link><item><title>{title}</title>"
        f"<link>{link}?source=rss------venezuela-5</link><guid isPermaLink=\"false\">"
        f"https://medium.com/p/4f2a9c</guid><pubDate>{when}</pubDate><content:encoded>"
        f"{snippet}</content:encoded></item></channel></rss>").encode())
    members = {"name": "Members", "query": "member", "notify": ["members@test.example"]}
    workdir.write_config(sources=[feed], topics=[BELARUS, members], smtp=mail)
    out = workdir.newswatch("crawl").stdout
    assert "1 email(s) queued" in out, out
    assert stored(workdir)["text"] == f"{LEDE}\n{REST}"
    [alert] = mail.wait_for(1)
    assert alert["To"] == "desk@test.example", alert["To"]
    assert "Member-only" not in alert.get_body(("plain",)).get_content()


def test_an_atom_entrys_plain_text_summary_and_content_are_taken_as_written() -> None:
    """An Atom summary or content of type "text" (Atom's default: a tracker's, a forge's
    feed) was read as HTML: what stood between angle brackets was taken for a tag and lost
    ("List<T>" as "List", a quoted address), and a query string's "&sect=2" of an address
    in it became "§=2", in the stored summary, the email and the words topics match."""
    summary = ("Dictionary&lt;K,V&gt; replaces List&lt;T&gt;, reported by "
               "&lt;ann@example.org&gt;: see http://127.0.0.1/bug?id=7&amp;sect=2&amp;copy=1")
    content = ("Dictionary&lt;K,V&gt; replaces List&lt;T&gt; in the index; reported by "
               "&lt;ann@example.org&gt; with the steps to reproduce it and a patch.")
    atom = ('<feed xmlns="http://www.w3.org/2005/Atom"><title>Tracker</title><entry>'
            '<id>tag:127.0.0.1,2026:7</id><title>Index rewrite</title>'
            f'<link href="http://127.0.0.1/bug?id=7"/><summary>{summary}</summary>'
            f'<content type="text">{content}</content></entry></feed>').encode()
    [entry] = parse_feed(atom, "http://127.0.0.1/feed").entries
    assert entry.summary == ("Dictionary<K,V> replaces List<T>, reported by "
                             "<ann@example.org>: see http://127.0.0.1/bug?id=7&sect=2&copy=1")
    assert entry.text == html.unescape(content)
    # Of type "html", it is HTML still.
    typed = atom.replace(b"<summary>", b'<summary type="html">')
    [entry] = parse_feed(typed, "http://127.0.0.1/feed").entries
    assert entry.summary.startswith("Dictionary replaces List, reported by :")
    # Nor does a feed that escapes its HTML summaries without saying so make their tags text.
    escaped = b"&lt;p&gt;Reported by &lt;b&gt;Ann&lt;/b&gt;.&lt;/p&gt;"
    untyped = atom.replace(summary.encode(), escaped)
    [entry] = parse_feed(untyped, "http://127.0.0.1/feed").entries
    assert entry.summary == "Reported by Ann."


def test_a_title_or_summary_escaped_twice_inside_cdata_is_read_in_its_characters() -> None:
    """A CMS that escapes a title its editor already wrote with character references and
    wraps it in CDATA ("It&amp;#8217;s Caf&amp;eacute; week"): the headline of the email
    and of `stories` read "It&#8217;s Caf&eacute; week", and a topic on "Café" missed it;
    so did its summary. A reference left in the text is read, as in a plain-text title."""
    rss = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item>'
           b"<title><![CDATA[It&amp;#8217;s Caf&amp;eacute; week &amp; more]]></title>"
           b"<description><![CDATA[<p>Caf&amp;eacute; prices rise&amp;nbsp;again.</p>]]>"
           b"</description><link>http://127.0.0.1/a</link></item></channel></rss>")
    [entry] = parse_feed(rss, "http://127.0.0.1/feed").entries
    assert entry.title == "It\u2019s Café week & more"
    assert entry.summary == "Café prices rise again."


def test_an_atom_entrys_escaped_html_content_said_nothing_of_is_read_as_html() -> None:
    """An Atom feed that escapes its entries' HTML without saying type="html" (the type is
    then "text") wrote its full text so as well as its summary: the summary was read as
    HTML, as it looks like HTML, but the content was kept as the text it says, so the
    article's text from the feed (a paywall's page, an unavailable one) was its markup:
    "<p>The <a href=...>council</a> voted...", mailed and matched with its tags."""
    content = ("&lt;p&gt;The &lt;a href=&quot;http://127.0.0.1/council&quot;&gt;council"
               "&lt;/a&gt; voted on Tuesday to close the old bridge to lorries.&lt;/p&gt;"
               "&lt;p&gt;Repairs start in the spring and take a year.&lt;/p&gt;")
    atom = ('<feed xmlns="http://www.w3.org/2005/Atom"><title>Council</title><entry>'
            '<id>tag:127.0.0.1,2026:8</id><title>Bridge closed</title>'
            '<link href="http://127.0.0.1/bridge"/><summary>&lt;p&gt;The council voted.'
            f'&lt;/p&gt;</summary><content>{content}</content></entry></feed>').encode()
    [entry] = parse_feed(atom, "http://127.0.0.1/feed").entries
    assert entry.summary == "The council voted."
    assert entry.text == ("The council voted on Tuesday to close the old bridge to lorries. "
                          "Repairs start in the spring and take a year.")


def test_an_atom_entrys_escaped_html_without_a_closing_tag_is_read_as_html() -> None:
    """An Atom feed escaping its HTML without type="html" whose summary is an image then
    words, or a paragraph never closed, has neither the closing tag nor the character
    reference feedparser's judgement asks for: it was stored, mailed and matched with its
    tags as words ('<img src="x.jpg"/>Maduro left Caracas today'). Plain text holding angle
    brackets is taken as written still."""
    def entry(summary: str, content: str) -> FeedEntry:
        atom = ('<feed xmlns="http://www.w3.org/2005/Atom"><title>Desk</title><entry>'
                '<id>tag:127.0.0.1,2026:9</id><title>Maduro</title>'
                f'<link href="http://127.0.0.1/maduro"/><summary>{html.escape(summary)}'
                f'</summary><content type="text">{html.escape(content)}</content></entry>'
                "</feed>").encode()
        [parsed] = parse_feed(atom, "http://127.0.0.1/feed").entries
        return parsed

    read = entry('<img src="x.jpg"/>Maduro left Caracas today',
                 "<p>Maduro left Caracas today for a summit abroad.<br>He returns on Friday.")
    assert read.summary == "Maduro left Caracas today"
    assert read.text == "Maduro left Caracas today for a summit abroad. He returns on Friday."
    for plain in ("List<T> is a < b in <stdin>", "The <b> tag, and <br> too",
                  "<ann@example.org> wrote: use <T> here"):
        kept = entry(plain, plain + " in the content as well.")
        assert kept.summary == plain
        assert kept.text == plain + " in the content as well."
