"""Feed parsing: RSS 0.9x/1.0/2.0, Atom (feedparser) and JSON Feed 1.0/1.1 bytes in, plain
entries out."""

from __future__ import annotations

import calendar
import functools
import html
import html.entities
import io
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import feedparser
import lxml.html
from lxml.etree import ParserError, strip_elements
from w3lib.encoding import http_content_type_encoding, read_bom

from storage.identity import identity_host

from .discover import GZIP_MAGIC, SNIFF_BYTES, junk_before_xml, xml_from
from .extracted import unmarked_utf16, utf8_labelled_single_byte
from .feeddates import DateReader, day_first, misread, no_day
from .googlenews import is_feed as google_news_feed
from .googlenews import is_link, own_summary, own_title, publisher_url
from .sitemaps import gunzip, w3c_datetime
from .urls import BING_NEWS, unwrapped, web_url
from .xmlrepair import (
    declared_encoding,
    doctype_on_its_line,
    escape_bare_ampersands,
    misdeclared_wide,
    whole_character_references,
)
from .xmlsafe import CONTROLS, HALF_CHARACTER, xml_text

logger = logging.getLogger(__name__)

_Text = TypeVar("_Text", str, str | None)

JSONFEED_VERSION_PREFIXES = ("https://jsonfeed.org/version/", "http://jsonfeed.org/version/")

# feedparser (6.0) joins the document's base address with itself at every start tag of a
# feed (xml:base tracking: make_safe_absolute_uri(base, base), a urljoin and a scheme
# check): a quarter of its time on a feed of 30 items. It is a function of its two strings
# only, so the parser's reference to it gets a cache of the answers; feedparser is
# otherwise unchanged.
_MIXIN = getattr(feedparser, "mixin", None)
if _MIXIN is not None and hasattr(_MIXIN, "make_safe_absolute_uri"):
    _MIXIN.make_safe_absolute_uri = functools.lru_cache(maxsize=1024)(
        _MIXIN.make_safe_absolute_uri
    )



def _cp1252_table(mapping: dict[int, str]) -> str:
    """``mapping`` (code point → character) as a string indexed by code point, for
    ``str.translate``: each BMP character at its own place (the same character where
    ``mapping`` has none), characters beyond the BMP left out (an index past the end is
    "no mapping" to ``translate``, as a missing key is)."""
    table = [chr(code) for code in range(0x10000)]
    for code, char in mapping.items():
        table[code] = char
    return "".join(table)


# feedparser maps the C1 controls a site meant as Windows-1252 (0x80-0x9F) to their
# characters with str.translate over its 27-key dict, in every element's text: each other
# character beyond ASCII (a curly quote, an accent) is a missed key and a KeyError raised
# and cleared inside translate, a quarter of feedparser's time on feeds of whole posts. A
# table of every BMP character makes the same translation, 2.5 times faster (128 KB).
if _MIXIN is not None and isinstance(getattr(_MIXIN, "_cp1252", None), dict):
    _MIXIN._cp1252 = _cp1252_table(_MIXIN._cp1252)


@dataclass(frozen=True)
class FeedEntry:
    """One entry of a feed, as the feed describes it."""

    link: str
    title: str
    summary: str  # plain text
    published: datetime | None
    author: str | None
    # When the source last changed the entry (feed ``updated``, sitemap ``lastmod``); a
    # date later than the stored version's sends a known article's page to be read again.
    updated: datetime | None = None
    # The item's own id (RSS guid, Atom id, JSON Feed id), kept for an item whose ``link``
    # is "": an item that links nowhere is an article of its own (see crawler.urls.item_url).
    guid: str = ""
    # The item's full text, as the feed writes it (HTML), where it gives one beside its
    # summary (content:encoded, Atom content, JSON Feed content); else "". Read as plain
    # text only where it is used (``text``): 0.5 ms for an article of 11 KB.
    content: str = ""
    # Other links the feed gives for the item, which stand for the same article (a
    # redirector's or Feedburner's link around it): an article stored under one of them
    # (by a version that took it for the link) is this item.
    aliases: tuple[str, ...] = ()
    # The publisher an aggregator's item names (Google News': its <source>, or the
    # " - Publisher" after its headline); "" for a feed's own items.
    publisher: str = ""
    # Why its page is not read, where that page is an app's that the item gives whole (a
    # Mastodon post's page is the app's "please enable JavaScript" notice): the item is the
    # article. "" for a page to read.
    unread: str = ""

    @functools.cached_property
    def text(self) -> str:
        """The most the feed says of the item (plain text): its full text where that is
        longer than its summary (WordPress', Substack's, Ghost's feeds: a two-line excerpt
        beside the whole article), else its summary. Read once an entry (the page's check
        against it, the summary kept, the post's check each ask for it)."""
        full = html_to_text(self.content) if self.content else ""
        return full if len(full) > len(self.summary) else self.summary


#: What a feed body is written in; "" when the body is not a feed.
FeedFormat = Literal["rss", "atom", "rdf", "jsonfeed", ""]

@dataclass(frozen=True)
class ParsedFeed:
    """What feedparser made of a response body."""

    title: str | None
    entries: tuple[FeedEntry, ...]
    problem: str | None  # set for a broken-but-readable feed (bozo) or a body that is no feed
    is_feed: bool
    kind: FeedFormat = ""
    link: str | None = None  # the site the feed is of (RSS/Atom <link>, home_page_url)
    #: Its next page of older items: RFC 5005's rel="next" or "prev-archive", a WordPress
    #: feed's ?paged=N+1 (see _next_page), a JSON Feed's next_url.
    next_page: str | None = None


def _whole(text: _Text) -> _Text:
    return HALF_CHARACTER.sub("\ufffd", text) if text else text


def _name(title: str | None) -> str | None:
    """A feed's title as a source's name: one line, without control characters (rss2email's
    tumblr feed writes "Sarah's" and "Scribbles" on two lines; the name was shown so by
    ``status``, and the health email's subject could not be written). None for none."""
    return (CONTROLS.sub("", " ".join(title.split())) or None) if title else None


def _whole_characters(feed: ParsedFeed) -> ParsedFeed:
    """``feed`` with every half character (HALF_CHARACTER) of its text made U+FFFD."""
    texts = [feed.title, feed.link, feed.problem]
    for entry in feed.entries:
        texts += (entry.link, entry.title, entry.summary, entry.author, entry.guid,
                  entry.content)
    if not any(HALF_CHARACTER.search(text) for text in texts if text):
        return feed
    entries = tuple(
        replace(entry, link=_whole(entry.link), title=_whole(entry.title),
                summary=_whole(entry.summary), author=_whole(entry.author), guid=_whole(entry.guid),
                content=_whole(entry.content))
        for entry in feed.entries
    )
    return replace(feed, title=_whole(feed.title), link=_whole(feed.link),
                   problem=_whole(feed.problem), entries=entries)


#: Elements whose text is no reader's: an embed's script, a style sheet (feedparser's
#: sanitizer dropped them with what they hold), what an inline frame holds (lxml reads it as
#: text, markup included; browsers show the frame's page instead).
_UNSEEN = ("script", "style", "applet", "iframe")
#: Elements that end a line, whose text is a word apart from what stands around them.
_BLOCKS = frozenset({
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
    "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
})


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (feed summaries are often HTML): a heading, paragraph,
    line break or list item is a word apart from its neighbours (lxml's text_content() ran
    "<h3>Venezuela</h3><p>Nicolás<br/>Maduro" into "VenezuelaNicolásMaduro", which no topic
    matches); inline markup (links, emphasis) is not."""
    if "<" not in fragment and "&" not in fragment:
        return " ".join(fragment.split())
    fragment = xml_text(fragment)  # a control character in it stopped the feed's parsing
    try:
        root = lxml.html.fromstring(f"<div>{fragment}</div>")
    except (ParserError, ValueError):
        return " ".join(fragment.split())
    strip_elements(root, *_UNSEEN, with_tail=False)
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.lower() in _BLOCKS:
            element.text = " " + (element.text or "")
            element.tail = " " + (element.tail or "")
    return " ".join(root.text_content().split())


#: feedparser's judgement of whether text said to be plain is HTML, as it judges an RSS title:
#: a closing tag or a character reference, HTML's elements and entities only.
_FEEDPARSER_LOOKS_LIKE_HTML: Callable[[str], bool] = (
    feedparser.mixin._FeedParserMixin.looks_like_html)

#: The elements feedparser keeps of HTML it cleans (its sanitizer's), which its judgement
#: above takes for HTML's.
_HTML_ELEMENTS = frozenset[str](feedparser.sanitizer._HTMLSanitizer.acceptable_elements)

#: A tag no plain text writes: a whole one that opens the text (``<p>Text``,
#: ``<img src="x.jpg"/>Maduro left``), or one with an attribute (``<a href="/council">``).
_HTML_TAG = re.compile(r"\A\s*<\w+(?:\s[^<>]*)?>|<\w+\s+[\w:-]+\s*=\s*[\"'\w]")


def _looks_like_html(text: str) -> bool:
    """Whether ``text`` said to be plain is HTML: as feedparser judges it, or, without the
    closing tag or character reference it asks for, when HTML's elements are its only tags
    and one of them is such as only HTML writes (_HTML_TAG: a feed escaping its HTML without
    type="html", its summary an image then words, or a paragraph never closed, was stored
    with its tags as words). Plain text with angle brackets ("List<T>", "a < b", "<stdin>",
    "The <b> tag") is not."""
    if _FEEDPARSER_LOOKS_LIKE_HTML(text):
        return True
    names = re.findall(r"</?(\w+)", text)
    return (bool(names) and all(name.lower() in _HTML_ELEMENTS for name in names)
            and not any(name not in html.entities.entitydefs
                        for name in re.findall(r"&(\w+);", text))
            and _HTML_TAG.search(text) is not None)


def _text(entry: Any, key: str) -> str:
    """An entry's ``key`` (its "title", "summary") as text: feedparser says when it is HTML
    (an Atom ``type="html"``, markup it knows in an RSS title, an RSS description); a
    plain-text one (Atom's unless it says otherwise) is taken as written ("Vector<T> vs
    List<T>", "Ernst & Young <EY>", "The <script> tag", an address's "?id=7&sect=2": read as
    HTML, they lost words or became "§=2", and a topic on them never matched), unless it
    looks like HTML (_looks_like_html: an Atom feed that escapes its HTML summaries without
    saying type="html": "<p>Reported by Ann.</p>", "<img src=...>Maduro left")."""
    value = entry.get(key) or ""
    detail = entry.get(f"{key}_detail") or {}
    plain = detail.get("type") == "text/plain" and not _looks_like_html(value)
    text = xml_text(value) if plain else html_to_text(value)
    # A character reference left in the text is one written twice escaped (a CMS's fault,
    # `Ca&amp;ccedil;ador`; one escaped again inside CDATA, `It&amp;#8217;s`): the subject
    # said "Ca&ccedil;ador" and a topic on "Caçador" never matched it.
    return " ".join(_REFERENCE.sub(lambda m: html.unescape(m.group()), text).split())


#: Enclosures that are an item's text: a link-less item's page is its enclosure of these.
_DOCUMENT_TYPES = frozenset({"application/pdf"})

#: Reddit's sites: a subreddit's feed (``reddit.com/r/worldnews/.rss``) links each post to
#: its comments page there, and a post's image or video is on them too.
_REDDIT = ("reddit.com", "redd.it")


def _hostname(url: str) -> str:
    """The host of ``url``, lower case ("" for none, or an address that cannot be read)."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _on_reddit(url: str) -> bool:
    """Whether ``url`` is on one of Reddit's sites (_REDDIT), any subdomain of them."""
    host = _hostname(url)
    return any(host == site or host.endswith("." + site) for site in _REDDIT)


def _from_bing(url: str) -> bool:
    """Whether ``url`` is on the host of Bing News' redirector (crawler.urls.BING_NEWS)."""
    return _hostname(url) == BING_NEWS[0]


def _from_google(url: str) -> bool:
    """Whether ``url`` is on the host of Google's redirector (crawler.urls.REDIRECTORS), which
    Google Alerts' items link through."""
    return _hostname(url) in ("www.google.com", "google.com")


def _republished_from(source: dict[str, Any], feed_address: str) -> str:
    """The publisher an item's RSS <source> names (feedparser's ``source``: its text as
    ``title``, its ``url`` as ``href``), or an Atom entry's (its feed's ``title``, its
    address the ``self`` of its ``links``), "" where it names none, or names the feed that
    lists the item (a feed that writes its own address in each of its items; a planet's
    own entry beside those it copies from its members' blogs). Its name is read as a title
    is: a CDATA one's markup ("<b>Reuters</b>") was the publisher's name in emails."""
    addresses = [source.get("href"), *(found.get("href") for found in source.get("links") or ()
                                       if found.get("rel") == "self")]
    if any(str(address or "").strip().partition("#")[0] == feed_address
           for address in addresses):
        return ""
    return _text(source, "title")


def site_of(url: str) -> str:
    """The publisher of an aggregator's item that names none (Google Alerts', Hacker News',
    a subreddit's post): the site its article is on (``reuters.com``), which the article's
    page may name (og:site_name: crawler.entries)."""
    return identity_host(_hostname(url))


def _reddit_article(link: str, description: str) -> str | None:
    """The article a Reddit post of a subreddit's feed shares: the "[link]" its description
    gives ("submitted by /u/name [link] [comments]"), where ``link`` is the post's comments
    page on Reddit; None for a post of Reddit's own (a text post, whose "[link]" is its
    comments page, an image or a video Reddit keeps) or another feed's item."""
    if "[link]" not in description or not _on_reddit(link):
        return None
    try:
        root = lxml.html.fromstring(f"<div>{description}</div>")
    except (ParserError, ValueError):
        return None
    for anchor in root.iter("a"):
        if anchor.text_content().strip() == "[link]":
            article = web_url(str(anchor.get("href") or "").strip())
            return article if article and not _on_reddit(article) else None
    return None


#: Link aggregators whose feeds give each item's discussion, a page of theirs, as its
#: <comments> (hnrss.org's Hacker News feeds, Lobsters'): the item's description is about
#: that discussion, not the article it links to.
_DISCUSSIONS = ("news.ycombinator.com", "lobste.rs")
#: hnrss's lines about the discussion, each a paragraph of an item's description.
_DISCUSSION_LINES = ("Article URL:", "Comments URL:", "Points:", "# Comments:")


#: Bluesky's web app: a post's page is its "JavaScript Required" notice, with the post, its
#: author's name, handle and DID inside; the account's feed gives the post whole.
BLUESKY = "bsky.app"
#: The title Bluesky's feeds give every post of an account: "@lakeside.bsky.social post".
_BLUESKY_TITLE = re.compile(r"@\S+ post")


def on_bluesky(url: str) -> bool:
    """Whether ``url`` is on Bluesky's web app (BLUESKY): a post's page there is no text."""
    return _hostname(url) == BLUESKY


#: A release's page on GitHub (``github.com/OWNER/REPO/releases/tag/v2.3.0``), which a
#: repository's releases feed (``releases.atom``) links each release to; its repository.
#: A tag may hold slashes (a monorepo's ``@scope/pkg@1.2.0``, ``release/1.2``).
_GITHUB_RELEASE = re.compile(r"(/[^/]+/[^/]+)/releases/tag/.+")
#: A repository's releases feed (``github.com/OWNER/REPO/releases.atom``); its repository.
_RELEASES_FEED = re.compile(r"(/[^/]+/[^/]+)/releases\.atom")


def github_release(url: str, feed: str) -> bool:
    """Whether ``url`` is a release's page on GitHub that ``feed`` is the releases feed of:
    the repository's menus, counters and breadcrumbs around its notes, which that feed gives
    whole. A news feed that links a release (a blog's, Hacker News') gives a line about it:
    its page is read, the notes are there."""
    try:
        path, listing = urlsplit(url).path, urlsplit(feed).path
    except ValueError:
        return False
    release, releases = _GITHUB_RELEASE.fullmatch(path), _RELEASES_FEED.fullmatch(listing)
    return (_hostname(url) in ("github.com", "www.github.com") and release is not None
            and releases is not None
            and release.group(1).casefold() == releases.group(1).casefold())


#: A Mastodon post's address (``/@lakeside/113572215316123456``), as its server's feeds (an
#: account's ``/@lakeside.rss``, a hashtag's) link and name each post.
_MASTODON_POST = re.compile(r"/@[^/@]+/[0-9]+")


def _mastodon_post(link: str, guid: str, generator: str) -> bool:
    """Whether a feed's item linked to ``link`` (its guid ``guid``) is a Mastodon post: a
    post's address, in a feed its ``generator`` says Mastodon wrote ("Mastodon v4.3.2"), or
    (an older server's, which names none) the item's guid too. Mastodon runs on thousands of
    servers, under any name: its feed's shape tells it, not its host."""
    try:
        path = urlsplit(link).path
    except ValueError:
        return False
    return bool(_MASTODON_POST.fullmatch(path)) and (
        generator.startswith("Mastodon") or guid == link)


#: A Pleroma post's address, as its server's feeds (an account's ``/users/lakeside/feed.atom``,
#: ``.rss``) link each: its object's (``/objects/<uuid>``), or its notice's
#: (``/notice/AqL3xQ8uY1lNk2fV7E``); Akkoma's, its fork's, too.
_PLEROMA_POST = re.compile(r"/objects/[0-9a-fA-F-]{36}|/notice/[0-9A-Za-z]+")
#: The ActivityStreams type Pleroma's feeds give each post (``<activity:object-type>``).
_NOTE = "http://activitystrea.ms/schema/1.0/note"


def _pleroma_post(link: str, kind: str) -> bool:
    """Whether a feed's item linked to ``link`` is a Pleroma (or Akkoma) post: a post's
    address, in an item that says it is an ActivityStreams note (``kind``: no feed of
    theirs names its generator). They run on thousands of servers, under any name: its
    feed's shape tells it, not its host."""
    try:
        path = urlsplit(link).path
    except ValueError:
        return False
    return kind == _NOTE and bool(_PLEROMA_POST.fullmatch(path))


#: A Misskey note's address (``/notes/9gkasnzglmi07rpa``), as a Misskey server's feeds (an
#: account's ``/@lakeside.atom``, ``.rss``) link each note; its forks' (Sharkey, Firefish) too.
_MISSKEY_NOTE = re.compile(r"/notes/[0-9A-Za-z]+")
#: The title Misskey's feeds give every note: "New note by Lakeside Water".
_MISSKEY_TITLE = re.compile(r"New note by .+")


def _content_warning(description: str) -> tuple[str, str]:
    """A Mastodon post's content warning and its text (HTML), from its item's description:
    Mastodon 4 writes a post with a warning as a paragraph of the warning after its label,
    in the post's language ("<p><strong>Content warning:</strong> Spoilers</p><hr />"),
    then the post; ("", ``description``) for a post without one."""
    try:
        root = lxml.html.fromstring(f"<div>{description}</div>")
    except (ParserError, ValueError):
        return "", description
    parts = list(root)
    if (len(parts) < 2 or (root.text or "").strip() or parts[0].tag != "p"
            or parts[1].tag != "hr" or (parts[0].tail or "").strip()
            or not len(parts[0]) or parts[0][0].tag != "strong"
            or (parts[0].text or "").strip()):
        return "", description
    label, warning = parts[0][0].text_content(), " ".join(parts[0].text_content().split())
    text = (parts[1].tail or "") + "".join(
        lxml.html.tostring(part, encoding="unicode") for part in parts[2:])
    return warning.removeprefix(" ".join(label.split())).strip(), text


def _misskey_note(link: str, generator: str) -> bool:
    """Whether a feed's item linked to ``link`` is a Misskey note: a note's address, in a
    feed its ``generator`` says Misskey wrote (its forks keep the name). Misskey runs on
    thousands of servers, under any name: its feed's shape tells it, not its host."""
    try:
        path = urlsplit(link).path
    except ValueError:
        return False
    return generator.startswith("Misskey") and bool(_MISSKEY_NOTE.fullmatch(path))


#: YouTube's hosts: a channel's or playlist's feed (``/feeds/videos.xml?channel_id=...``)
#: links each video to its page there; YouTube Music's pages are its videos' too.
_YOUTUBE = ("www.youtube.com", "youtube.com", "m.youtube.com", "music.youtube.com")
#: A Short's page (``/shorts/dQw4w9WgXcQ``), as a channel's feed links its Shorts, or a live
#: stream's (``/live/dQw4w9WgXcQ``), as YouTube's share button names it.
_YOUTUBE_SHORT = re.compile(r"/(?:shorts|live)/[\w-]+/?")
#: A video's short link (``youtu.be/dQw4w9WgXcQ``), as YouTube's share button gives it and
#: a subreddit's or Hacker News' item, a blog's, links to it: it redirects to its page.
_YOUTU_BE = re.compile(r"/[\w-]+/?")


def _youtube_video(url: str) -> bool:
    """Whether ``url`` is a video's page on YouTube (``/watch?v=...``, a Short's, a live
    stream's, its ``youtu.be`` short link): its player and app, built by scripts, or from
    Europe a redirect to YouTube's consent page."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if _hostname(url) == "youtu.be":
        return bool(_YOUTU_BE.fullmatch(parts.path))
    return _hostname(url) in _YOUTUBE and (
        (parts.path == "/watch" and "v" in dict(parse_qsl(parts.query)))
        or bool(_YOUTUBE_SHORT.fullmatch(parts.path)))


def unread_page(link: str, guid: str, title: str, feed: str, generator: str,
                kind: str = "") -> str:
    """Why the page of an item linked to ``link`` (its guid ``guid``, its headline
    ``title``, its ActivityStreams type ``kind``) of the feed at ``feed`` (its
    ``generator`` says what wrote it) is not read, where that page is an app's that the
    item gives whole: the item is the article (FeedEntry.unread); "" for a page to read.
    Judged of an item as its feed lists it, and of a deferred entry from what it keeps (its
    feed's generator, its type not among it), retried after its feed no longer lists it:
    its page read then was the app's notice, or YouTube's consent page again at every poll
    until it expired."""
    if _youtube_video(link):
        # A YouTube video's page (a channel's feed's, or one a subreddit or Hacker News
        # shares) is its player, built by scripts; from Europe, a redirect to YouTube's
        # consent page: the video waited as unavailable, poll after poll. Its title and
        # description (media:description) are the item's.
        return "a YouTube video's page is its player's scripts"
    if on_bluesky(link):
        # A Bluesky post's page is the app's "JavaScript is required" notice around it
        # (stored as the post: a topic on "JavaScript" matched every one); the feed gives
        # the post whole.
        return "a Bluesky post's page is its app's notice"
    if github_release(link, feed):
        # A GitHub release's page holds its notes among the repository's menus and
        # counters: short notes ("Fixes the berth overlap.") were extracted with them
        # ("Product", "/", "Public", "Fork 12", "Star 345" a line each). Its releases feed
        # gives the notes whole.
        return "a GitHub release's page is its repository's menus"
    if not title and _mastodon_post(link, guid, generator):
        # A Mastodon post's page is the app's "please enable JavaScript" notice, the post
        # only in its head: a post that shared a word with the notice ("Mastodon",
        # "platform") was stored as the notice. The item gives the post whole.
        return "a Mastodon post's page is its app's notice"
    if _misskey_note(link, generator):
        # A Misskey note's page is the app's "Please turn on your JavaScript" notice, the
        # note only in its head; the item gives the note whole.
        return "a Misskey note's page is its app's notice"
    if _pleroma_post(link, kind):
        # A Pleroma post's page (its object's sends a browser on to its notice's) is its
        # front end's "please enable JavaScript" notice, the post only in its head (their
        # server-written pages are off unless their admin turns them on); the item gives
        # the post whole. (GoToSocial writes its posts' pages on the server: read.)
        return "a Pleroma post's page is its app's notice"
    return ""


def _plain_lines(text: str) -> str:
    """A plain text's lines (a YouTube video's description), each with its spaces made one,
    the empty ones left out: nothing in it is markup ("Vector<T>" is so written)."""
    return "\n".join(line for line in (" ".join(part.split()) for part in text.splitlines())
                     if line)


def _posted_text(description: str, comments: str) -> str:
    """The words of its own that an aggregator's item gives (an "Ask HN" question, a
    Lobsters submitter's note; "" for a shared link's item): its description without the
    paragraphs about its discussion at ``comments`` (hnrss' "Article URL: ... Comments URL:
    ... Points: 123 # Comments: 45", Lobsters' "Comments" link)."""
    try:
        root = lxml.html.fromstring(f"<div>{description}</div>")
    except (ParserError, ValueError):
        return ""
    for part in [*root.iter("p", "hr")]:
        if part.tag == "hr" or part.text_content().strip().startswith(_DISCUSSION_LINES) or any(
            str(anchor.get("href") or "").strip() == comments for anchor in part.iter("a")
        ):
            part.drop_tree()
    return html_to_text(lxml.html.tostring(root, encoding="unicode"))


#: A character reference, with its semicolon (``&ccedil;``, ``&#146;``, ``&#x2019;``).
_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


#: Dates before this are placeholders (the Unix epoch, 0001-01-01 from a CMS that has no
#: date for an item), not when an item was written: such an item is undated, not
#: decades old (it was stored as published in 1970, outside alerts.lookback, never alerted).
EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)


def _dated(when: datetime | None) -> datetime | None:
    """``when``, unless it is a placeholder (before EARLIEST)."""
    return when if when is None or when >= EARLIEST else None


def _when(entry: Any, keys: tuple[str, ...], dates: DateReader) -> datetime | None:
    """The first of the ``keys`` (feedparser's ``*_parsed`` dates) that ``entry`` has (a
    placeholder date is none); where feedparser read none from the date as written, or
    reads it wrong (crawler.feeddates), as ``dates`` reads it."""
    for key in keys:
        # dict.get: feedparser's own get() maps a missing "updated" to "published", with
        # a deprecation warning.
        value: time.struct_time | None = dict.get(entry, key)
        raw = dict.get(entry, key.removesuffix("_parsed"))
        if isinstance(raw, str) and no_day(raw):
            continue
        if isinstance(raw, str) and raw.strip() and (not value or misread(raw)):
            read = dates.read(raw.strip())
            if read is not None and (when := _dated(read)):
                return when
        if value and (when := _dated(_instant(value))):
            return when
    return None


def _instant(value: time.struct_time) -> datetime | None:
    """feedparser's reading as a datetime; None for a year Python cannot hold (0000-00-00
    of a MySQL draft, .NET's 0001-01-01 west of it or 9999-12-31 east: the whole feed's poll
    failed with "year -1 is out of range", all its new items unread)."""
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _kind(version: str) -> FeedFormat:
    """Our feed kind from feedparser's version (rss090..rss20, rss10, atom03, atom10...)."""
    if version.startswith("atom"):
        return "atom"
    return "rdf" if version == "rss10" else "rss"


def _looks_like_json(body: bytes, headers: dict[str, str]) -> bool:
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start == b"{":
        return True
    return start != b"<" and "json" in headers.get("content-type", "").lower()


def parse_feed(
    body: bytes, url: str, headers: dict[str, str] | None = None, max_size: int | None = None
) -> ParsedFeed:
    """Parse a feed body; the entries of a malformed but readable feed are kept. A gzip
    body that no Content-Encoding announced (a feed.xml.gz, a server that says
    application/x-gzip) is read decompressed, as a sitemap's is, up to ``max_size`` bytes
    (crawl.max_size: a 1.8 MB download inflated to 34 MB, a minute of feedparser)."""
    if body.startswith(GZIP_MAGIC):
        try:
            body, _truncated = gunzip(body, max_size)
        except ValueError as exc:
            return ParsedFeed(None, (), f"not a feed ({exc})", is_feed=False)
        # The type said what was sent (gzip), not what it holds.
        headers = {k: v for k, v in (headers or {}).items() if k.lower() != "content-type"}
        headers["content-type"] = "application/xml"
    head = body[:SNIFF_BYTES].lstrip()
    if junk_before_xml(head):
        body = xml_from(head) + body[SNIFF_BYTES:]
    if _looks_like_json(body, {k.lower(): v for k, v in (headers or {}).items()}):
        return _whole_characters(parse_json_feed(body, url))
    return _whole_characters(_parse_xml_feed(body, url, headers))


#: "&" written as a character reference (WordPress writes links ``?p=1&#038;lang=en``), which
#: feedparser's loose parser leaves in an Atom link's href (in a URL it would start a
#: fragment) and, as "&amp;", in the text of a guid or a Feedburner origLink (a query
#: parameter "amp;lang": another address than the same item's in the feed well-formed);
#: once or more (a link escaped twice, ``&amp;#038;``).
_AMPERSAND_REFERENCE = re.compile(r"&(?:(?:amp|#0*38|#[xX]0*26);)+")


def _written_as_address(link: str, body: bytes, text: Callable[[], str]) -> bool:
    """Whether ``link`` (a permalink guid, as feedparser resolved it) is a web address as
    the feed wrote it: its address up to the query stands in the feed (taken as read in a
    feed in UTF-16 or UTF-32), as bytes or, where it is not ASCII, in the feed's ``text``
    (decoded, its character references read: a path in Shift_JIS or windows-1251, or
    written ``not&#237;cias``, never stood in the bytes as UTF-8, and the item lost its
    page)."""
    if not link.startswith(("http://", "https://")):
        return False
    address = link.partition("?")[0]
    if b"\x00" in body[:4] or address.encode() in body:
        return True
    return not address.isascii() and address in text()


def _encoding(body: bytes, charset: str | None) -> str | None:
    """The encoding to read a feed's ``body`` in where the bytes contradict its server's
    ``charset``, else its XML declaration, which feedparser would read it in; None where
    they do not."""
    # A byte order mark says what the bytes are, whatever the server or the declaration
    # says (as a browser reads one: the WHATWG Encoding Standard's BOM sniffing): a UTF-16
    # feed that its server calls ISO-8859-1 (an old server's default), or whose declaration
    # does, was read byte by byte, a NUL between each two letters: "not a feed".
    marked, _ = read_bom(body)
    if marked and marked != "utf-8":  # UTF-16's or UTF-32's (feedparser reads UTF-8's)
        return marked
    # So do the NULs of UTF-16 with no byte order mark, where the server names a single-byte
    # code page (feedparser took the label: every item lost as "not a feed").
    if wide := unmarked_utf16(body, charset):
        return wide
    # A UTF-8 feed that a single-byte code page labels: its server (an old server's default
    # charset, Latin-1 or windows-1252), which feedparser takes over the feed's own
    # declaration, or that declaration (a Greek or Russian CMS left at ISO-8859-7 or
    # windows-1251 when its database moved to UTF-8). feedparser mends Latin-1's mojibake
    # but no other's: a feed whose text held a "€" or a dash had every headline and summary
    # garbled ("Zürich" as "ZÃ¼rich"), a Greek one each letter as two ("αθηνα" as
    # "Ξ±ΞΈΞ·Ξ½Ξ±"), and a topic on their words never matched. Read as the bytes say, as a
    # page or a sitemap is.
    if utf8_labelled_single_byte(body, charset or declared_encoding(body)) is not None:
        return "utf-8"
    # A feed that says it is UTF-16 (or UTF-32) in bytes that cannot be (an ASP.NET site's):
    # feedparser read the bytes in pairs and the whole feed was "not a feed", every item
    # lost, poll after poll.
    return misdeclared_wide(body, charset)


def _parse_xml_feed(body: bytes, url: str, headers: dict[str, str] | None) -> ParsedFeed:
    """An RSS, Atom or RDF body, by feedparser."""
    # A BytesIO, never raw bytes or str: feedparser reads a string as a path or URL.
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    # Relative links are joined to the feed's own address, as a browser joins them, never
    # to the server's Content-Location (HTTP no longer makes it a base, RFC 7231 B): Apache's
    # content negotiation names the file it chose ("feed.rss.en"), which left each relative
    # link relative, the item dropped as "not an http(s) address"; a proxy names its
    # backend (http://backend:8080/export/rss.php), a host no reader reaches.
    response_headers["content-location"] = url
    content_type = response_headers.get("content-type", "")
    if encoding := _encoding(body, http_content_type_encoding(content_type)):
        response_headers["content-type"] = (
            f"{content_type.partition(';')[0] or 'application/xml'}; charset={encoding}")
    # Relative addresses inside the entries' HTML are not resolved, nor is that HTML made
    # safe to show: only its text is kept (html_to_text, which leaves out what scripts and
    # styles hold, as feedparser's sanitizer did). Resolving was an eighth of feedparser's
    # time; sanitizing took 58 % of it on a WordPress feed of 30 posts in content:encoded
    # (24 -> 10 ms), 9 % on one of one-line summaries. The entries' own links are resolved.
    try:
        parsed = feedparser.parse(
            io.BytesIO(escape_bare_ampersands(
                whole_character_references(doctype_on_its_line(body)))),
            response_headers=response_headers,
            resolve_relative_uris=False,
            sanitize_html=False,
        )
    except ValueError as unreadable:  # garbled bytes (an encoding name that is none, a NUL)
        return ParsedFeed(None, (), f"not a feed (unreadable: {unreadable})", is_feed=False)
    except (LookupError, AttributeError, TypeError) as failed:
        # feedparser's loose parser trips over some broken markup (a stray end tag inside
        # <link>: KeyError 'links'); the poll fails with the reason, not an internal error.
        return ParsedFeed(None, (), f"not a feed (feedparser failed on its markup: "
                          f"{type(failed).__name__}: {failed})", is_feed=False)
    entries = []
    raws = [raw for entry in parsed.entries for key in ("published", "updated", "created")
            if isinstance(raw := dict.get(entry, key), str)]
    dates = DateReader(day_first=day_first(raws, parsed.feed.get("language")))

    @functools.cache
    def text() -> str:
        return html.unescape(body.decode(parsed.get("encoding") or "utf-8", "replace"))
    feed_address = url.partition("#")[0]
    google = google_news_feed(str(parsed.feed.get("link") or "")) if parsed.get("feed") else False
    generator = str(parsed.feed.get("generator") or "") if parsed.get("feed") else ""
    for entry in parsed.entries:
        # A link that is the guid (a permalink, as RSS has it unless isPermaLink="false")
        # is judged as a guid, below. feedparser says so of every entry whose <id> or <guid>
        # comes before its <link> (YouTube's, GitHub's, Reddit's, Blogger's, Google Alerts'
        # Atom; RSS written guid first): the link it then read from <link> is the item's.
        link = entry.get("link") or ""
        if entry.get("guidislink") and not any(
            found.get("href") == link for found in entry.get("links") or ()
        ):
            link = ""
        guid = entry.get("id") or ""
        if link.partition("#")[0] == feed_address:
            link = ""  # <link href=""/>, resolved against the feed: the item has none
        if not link and _written_as_address(guid, body, text):
            # Some feeds only give the link as a guid. One that is no web address (tag:,
            # urn:, a bare id, which feedparser resolved against the feed's address: a page
            # that is not there) is no link.
            link = guid
        if not link:
            # An item that is a document (an annual report, a ruling): its PDF enclosure is
            # its page (crawler.pdf reads it).
            link = next((href for part in entry.get("enclosures") or ()
                         if str(part.get("type") or "").lower() in _DOCUMENT_TYPES
                         and (href := web_url(str(part.get("href") or "").strip(), url))), "")
        link = _AMPERSAND_REFERENCE.sub("&", link)
        # Feedburner's own link (feedproxy.google.com, gone since 2022) stands in for the
        # article's, which it keeps as origLink; Google Alerts' and Bing News' go through a
        # redirector (urls.unwrapped). The article's address is the link.
        written = link
        original = web_url(_AMPERSAND_REFERENCE.sub(
            "&", str(entry.get("feedburner_origlink") or "").strip()))
        link = unwrapped(original or link)
        headline = _text(entry, "title")
        summary = _text(entry, "summary")
        publisher = ""
        if google or is_link(link):
            # Google News: the publisher's address where the link's id holds it, the
            # headline without " - Publisher" (the publisher named so where the item has
            # no <source>), the item's own words without the other outlets' headlines a
            # story lists (see crawler.googlenews).
            own = own_summary(entry.get("summary") or "")
            named = _text(entry.get("source") or {}, "title")
            headline, publisher = own_title(headline, named, own)
            summary = own or summary
            link = publisher_url(link) or link
        elif article := _reddit_article(link, entry.get("summary") or ""):
            # A subreddit's post links to its comments page (read as the article, its words
            # were the commenters', or Reddit's 403 to servers; the article itself, from
            # its publisher's feed too, was a second story, a second email). The article
            # is the "[link]" it shares, and Reddit's "submitted by" line none of its words.
            # Its publisher is that article's site (the post was named after the subreddit's
            # feed, "r/worldnews", in its email, `export` and `stories`).
            link, summary, publisher = article, headline, site_of(article)
        elif _hostname(comments := str(entry.get("comments") or "").strip()) in _DISCUSSIONS:
            # A link aggregator's item (Hacker News through hnrss, Lobsters): its
            # description is its discussion's address and numbers, stored and mailed as the
            # article's words where its page could not be read ("Points: 123 # Comments:
            # 45": a topic on "comments" matched every such item). Its words are what its
            # submitter wrote, else its headline. A shared link's publisher is its site (the
            # item was named after the feed, "Hacker News: Front Page", in its email).
            summary = _posted_text(entry.get("summary") or "", comments) or headline
            if _hostname(link) != _hostname(comments):
                publisher = site_of(link)
        elif _BLUESKY_TITLE.fullmatch(headline) and on_bluesky(link):
            # Each post of a Bluesky account's feed is titled "@handle post": every alert
            # of the account said so. An untitled post, it is titled by its opening.
            headline = ""
        elif written != link and _from_bing(written):
            # Bing News' item, through its redirector: the publisher is its <News:Source>
            # (the item was named after the Bing feed it came through, in emails, `export`
            # and `stories`, where a Google News item names its publisher). Its name is read
            # as a <source>'s is: written as CDATA with markup inside, or escaped twice
            # ("Quay &amp;amp; Coast"), its tags and entities were the publisher's name.
            publisher = html_to_text(str(entry.get("news_source") or ""))
        elif written != link and _from_google(written):
            # Google Alerts' item, through Google's redirector, names no publisher: it is
            # the article's site (the item was named after the alert, "Google Alert -
            # maduro", in its email, `export` and `stories`).
            publisher = site_of(link)
        if not publisher:
            # An item an aggregator re-exports (an Inoreader folder, a Feedly board, a
            # NewsBlur blurblog) names the feed it came from in its RSS <source>: its
            # publisher (the item was named after the aggregator's feed in its email,
            # `export` and `stories`).
            publisher = _republished_from(entry.get("source") or {}, feed_address)
        unread = unread_page(link, guid, headline, url, generator,
                             str(entry.get("activity_object-type") or "").strip())
        if not headline and _mastodon_post(link, guid, generator):
            # A post behind a content warning: the item gives the warning, then the post.
            # Stored as one, the post's alert was titled "Content warning: Spoilers The
            # survey found..."; the warning is its title, as the app shows it above the
            # post, and its text the post's.
            headline, posted = _content_warning(entry.get("summary") or "")
            if headline:
                summary = html_to_text(posted)
        if _MISSKEY_TITLE.fullmatch(headline) and _misskey_note(link, generator):
            # Each Misskey note is titled "New note by <name>" (every alert of the account
            # said so): it is titled by its opening.
            headline = ""
        if unread and entry.get("yt_videoid"):
            # YouTube's own feed writes a video's description as plain text, its lines kept.
            summary = _plain_lines(entry.get("summary") or "")
        aliases = (written,) if written and written != link else ()
        # A plain-text one (Atom's type="text") is kept as the HTML that says it, unless it
        # looks like HTML, as a summary is judged (_text: a feed that escapes its HTML
        # without saying type="html" does so in its content too).
        content = max((html.escape(value) if part.get("type") == "text/plain"
                       and not _looks_like_html(value) else value
                       for part in entry.get("content") or ()
                       if (value := part.get("value") or "") != entry.get("summary")),
                      key=len, default="")
        if not summary:
            summary, content = html_to_text(content), ""
        entries.append(
            FeedEntry(
                link=link,
                title=headline,
                summary=summary,
                published=_when(
                    entry, ("published_parsed", "updated_parsed", "created_parsed"), dates
                ),
                author=entry.get("author") or None,
                # An item without a modification date was last changed when published.
                updated=_when(entry, ("updated_parsed", "published_parsed"), dates),
                guid=guid,
                content=content,
                aliases=aliases,
                publisher=publisher,
                unread=unread,
            )
        )
    version = parsed.get("version") or ""
    is_feed = bool(version) or bool(entries)
    problem = None
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        problem = f"{type(exc).__name__}: {exc}" if exc else "malformed feed"
        # The server's own Content-Type named, not the one given to feedparser (above).
        problem = problem.replace(response_headers.get("content-type", ""), content_type)
    if not is_feed:
        problem = "not a feed" + (f" ({problem})" if problem else "")
    title = _text(parsed.feed, "title") if parsed.get("feed") else None
    site = parsed.feed.get("link") if parsed.get("feed") else None
    return ParsedFeed(
        title=_name(title),
        entries=tuple(entries),
        problem=problem,
        is_feed=is_feed,
        kind=_kind(version) if is_feed else "",
        link=web_url(site, url) if site else None,
        next_page=_next_page(parsed.feed, url) if is_feed and parsed.get("feed") else None,
    )


def _next_page(feed: Any, url: str) -> str | None:
    """The address of a feed's next page of older items: its ``rel="next"`` or
    ``rel="prev-archive"`` link (RFC 5005), else, for a WordPress feed (its generator
    says so), the same address with ``paged`` one more (WordPress pages every feed so)."""
    for link in feed.get("links") or ():
        if link.get("rel") in ("next", "prev-archive") and link.get("href"):
            return web_url(link["href"], url)
    generator = " ".join(str(feed.get(key) or "") for key in ("generator", "generator_detail"))
    if "wordpress.org" not in generator.lower():
        return None
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "paged"]
    page = next((int(v) for k, v in parse_qsl(parts.query) if k == "paged" and v.isdigit()), 1)
    return urlunsplit(parts._replace(query=urlencode([*query, ("paged", str(page + 1))])))


def _json_author(obj: dict[str, Any]) -> str | None:
    """The first author's name of a JSON Feed object (1.1 ``authors``, 1.0 ``author``)."""
    authors = obj.get("authors")
    candidates = authors if isinstance(authors, list) else []
    candidates = [*candidates, obj.get("author")]
    for author in candidates:
        if isinstance(author, dict) and isinstance(author.get("name"), str):
            name = " ".join(author["name"].split())
            if name:
                return name
    return None


def _json_str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else ""


def _json_text(obj: dict[str, Any], key: str) -> str:
    """A plain-text field with its HTML entities decoded (``&#8216;``, ``&amp;``), as feed
    readers show it: JSON Feed titles are plain text, but many carry HTML-escaped text."""
    return " ".join(html.unescape(_json_str(obj, key)).split())


def parse_json_feed(body: bytes, url: str) -> ParsedFeed:
    """Parse a JSON Feed 1.0/1.1 body; an item without a URL (nor a PDF attached) is kept
    with ``link`` "" and its ``id`` as guid."""
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        return ParsedFeed(None, (), f"not a feed (invalid JSON: {exc})", is_feed=False)
    version = _json_str(doc, "version") if isinstance(doc, dict) else ""
    if not version.startswith(JSONFEED_VERSION_PREFIXES):
        return ParsedFeed(None, (), "not a feed (JSON without a JSON Feed version)", False)
    items = doc.get("items")
    problem = None if isinstance(items, list) else "malformed JSON Feed: no items list"
    feed_author = _json_author(doc)
    entries = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        link = _json_str(item, "url") or _json_str(item, "external_url")
        # JSON Feed 1.0 allowed a number as id.
        guid = str(item["id"]) if isinstance(item.get("id"), str | int) else ""
        if not link:
            link = guid if guid.startswith(("http://", "https://")) else ""
        attachments = item.get("attachments")
        if not link and isinstance(attachments, list):
            # JSON Feed's enclosures: a document attached (a report) is the item's page, as
            # an RSS item's PDF enclosure is.
            link = next((href for part in attachments if isinstance(part, dict)
                         and _json_str(part, "mime_type").lower() in _DOCUMENT_TYPES
                         and (href := _json_str(part, "url").strip())), "")
        summary = _json_text(item, "summary")
        content = _json_str(item, "content_html") or html.escape(_json_text(item, "content_text"))
        if not summary:
            summary, content = _json_text(item, "content_text"), ""
        modified = _dated(w3c_datetime(_json_str(item, "date_modified")))
        published = _dated(w3c_datetime(_json_str(item, "date_published"))) or modified
        link = (web_url(link.strip(), url) or link.strip()) if link.strip() else ""
        headline = _json_text(item, "title")
        entries.append(
            FeedEntry(
                # Left as written when it is not a web address: the crawl says so.
                link=link,
                title=headline,
                summary=summary or html_to_text(_json_str(item, "content_html")),
                content=content,
                published=published,
                author=_json_author(item) or feed_author,
                updated=modified,
                guid=guid,
                # A micro-blog's JSON Feed that shares a video, a post: as an RSS item's.
                unread=unread_page(link, guid, headline, url, ""),
            )
        )
    title = _name(_json_text(doc, "title"))
    site = _json_str(doc, "home_page_url").strip()
    following = _json_str(doc, "next_url").strip()  # JSON Feed's page of older items
    return ParsedFeed(
        title,
        tuple(entries),
        problem,
        is_feed=True,
        kind="jsonfeed",
        link=web_url(site, url) if site else None,
        next_page=web_url(following, url) if following else None,
    )
