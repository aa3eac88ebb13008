"""What a same-site URL's shape says: navigation, a listing, an article, or its learnt shape.

- :func:`is_navigation`: a page that is never an article — the home page (``/``,
  ``/index.html``... without a query), a path segment naming a service or listing (tag(s),
  topic(s), author(s) (``autor``, ``autores``, ``autoren``, ``auteurs``...), category,
  section, search, login, register, account, subscribe, newsletter, about, contact,
  privacy, terms, feed, rss, jobs, events, shop...), pagination
  (``/page/2``, ``?page=2``, ``?paged=2``...), a search query (``?s=``, ``?q=``, not a numeric
  id such as ``story.asp?s=7654321``), a static file or feed by extension (.jpg .png .css .js
  .pdf .xml .rss ...).
- :func:`is_filed_article`: a URL that is navigation only for a segment articles are filed
  under (``/themen/…``, ``/topics/…``, ``/comments/…``, ``/newsletters/…``) followed by an
  article-shaped rest (``/themen/klimaschutz/cop26-in-glasgow``) or by a segment naming one
  item's view and the item (``/themen/detail/nachricht/bischofswort.html``): an article when
  a teaser heading links to it.
- :func:`is_word_path`: every path segment one or two plain words and no query: a section
  (``/world/``, ``/news/middle-east``, ``/sport.shtml``) or a page with a short slug.
- :func:`is_listing`: the shape of a section or list page — a date archive (``/2010/03/``,
  ``/news/2019/01/14/``); the index page of a directory named by words and numbers
  (``/GB/14677/index.html``, ``/2/hi/africa/default.stm``); a list script
  (``list.asp?classid=3``, ``/news/list_12_1.html``, ``category.php?id=5``); a query of
  listing keys only (``?cat=3``, ``?section=world``) or a listing view (``view=category``,
  ``layout=blog``).
- :func:`is_article_shaped`: a date in the path followed by a slug or id
  (``/2026/11/25/slug``, ``/2026/nov/25/slug``); a run of at least 5 digits in a segment
  (``/news/world-67512345``, ``/a/123456.html``, ``/2008/01/15/stories/2008011554711900.htm``);
  a number of 3 digits or more as a page (``/news/1234.html``) or after ``id``/``article``/
  ``story``; a numeric article id in the query (``id``, ``p``, ``story``, ``*id`` keys with 3+
  digits: ``article.cfm?id=123``, ``default.aspx?ContentID=54309``; TYPO3's
  ``tx_ttnews[tt_news]=477``), a GUID under such a key (``?newsID=c3aa546f-24d3-…``) or
  any 5-digit value (``story.asp?j=242828700``); a last segment that is a slug of at least 3
  hyphen-separated words (two of them with letters); or at least 2 segments with a last one
  of 20+ characters.
- :func:`link_shape`: what a site's article (or non-article) URLs have in common, for
  learning per site which links lead to articles: in the path a number is ``0``, a slug
  (3+ words) ``*`` or ``*0`` (with digits), a short id of letters and digits ``*0``, digits
  in a name ``0`` (``article0.ece``), the last segment without extension ``*``, names kept;
  then the query's keys with numeric values as ``0``, short words kept, longer values as
  ``*``: ``/2008/01/15/stories/0.htm``, ``/story.asp?j=0&p=0``, ``/articles/*``,
  ``/india/*/articleshow/0.cms``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

# Word lists read better packed than one per line.
# fmt: off
_NAV_SEGMENTS = frozenset({
    "tag", "tags", "topic", "topics", "author", "authors", "category", "categories",
    "section", "sections", "search", "login", "logout", "signin", "sign-in", "signup",
    "sign-up", "register", "account", "my-account", "subscribe", "subscriptions",
    "newsletter", "newsletters", "about", "about-us", "contact", "contact-us", "privacy",
    "privacy-policy", "terms", "terms-of-use", "terms-of-service", "cookies",
    "cookie-policy", "feed", "feeds", "rss", "atom", "profile", "user", "users", "wp-admin",
    "wp-login.php", "cdn-cgi", "taxonomy", "label", "labels", "specials", "hub", "hubs",
    "dossier", "dossiers", "thema", "themen", "rubriques", "rubrik", "ressort",
    "journalists", "journalist", "profiles", "contributors", "staff", "comments",
    # An author's page in Spanish, Portuguese, Czech, German, French, Italian, Polish.
    "autor", "autores", "autoren", "auteur", "auteurs", "autore", "autori", "autorzy",
    "comment", "jobs", "job", "careers", "classifieds", "events", "event", "tickets", "shop",
    "store", "offers", "deals", "advertise", "advertising", "marketplace", "directory",
})
# Listing segments that articles are often filed under (``/themen/klimaschutz/cop26-in-glasgow``,
# ``/r/python/comments/1bbbwk/whats_your_opinion``): navigation unless an article follows.
_FILING_SEGMENTS = frozenset({
    "topic", "topics", "thema", "themen", "dossier", "dossiers", "hub", "hubs", "specials",
    "section", "sections", "rubriques", "rubrik", "ressort", "comments", "comment",
    "newsletter", "newsletters",
})
# A segment naming one item's view: what follows it is that item (``/themen/detail/nachricht/
# bischofswort.html``, ``/topics/climate/article/cop26``).
_ITEM_SEGMENTS = frozenset({
    "detail", "details", "article", "artikel", "story", "nachricht", "meldung", "beitrag",
    "post", "item",
})
_HOME_PATHS = frozenset({
    "", "/", "/index.html", "/index.htm", "/index.php", "/index.asp", "/index.aspx",
    "/index.jsp", "/index.cfm", "/index.shtml", "/default.asp", "/default.aspx",
})
_STATIC_EXT = (
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".ico", ".css", ".js", ".pdf", ".xml",
    ".rss", ".atom", ".json", ".txt", ".zip", ".gz", ".mp3", ".mp4", ".webm", ".woff",
    ".woff2", ".doc", ".xls", ".ppt",
)
_LISTING_SCRIPTS = frozenset({
    "list", "lista", "listing", "listings", "category", "categories", "cat", "section",
    "sections", "archive", "archives", "channel", "column", "columns", "lanmu", "sort",
    "class", "tag", "tags", "topic", "topics", "search", "results", "sitemap", "rubrik",
    "rubrique", "ressort", "kategorie", "catalog", "node_list",
})
_LISTING_KEYS = frozenset({
    "cat", "cats", "catid", "category", "categoryid", "cid", "section", "sectionid",
    "sect", "secid", "menuid", "itemid", "channel", "channelid", "classid", "class",
    "columnid", "lang", "language", "type", "sort", "order", "view", "layout", "option",
    "task", "format", "tab", "edition", "region", "date", "year", "month", "day", "limit",
    "limitstart", "show", "mode", "theme", "src", "ref", "from", "nav", "module",
})
#: Listing keys that say where on the site a link stood (?ref=hp, ?src=nav, ?from=index):
#: on a section's address a listing's, on an article's address (dated, an id, a long slug)
#: the article's (a site adding ?ref=hp to its headlines: every one read as a listing, -3,
#: its new stories not followed; a review).
_FROM_KEYS = frozenset({"src", "ref", "from", "nav", "module"})
_LISTING_VIEWS = frozenset({"category", "section", "blogcategory", "blogsection", "blog",
                            "archive", "frontpage", "featured", "list", "tag", "tags"})
_ID_PARAMS = frozenset({"id", "p", "story", "article", "articleid", "story_id", "newsid",
                        "news", "tt_news",
                        "contentid", "aid", "nid", "sid", "docid", "storyid", "postid",
                        "item", "art", "artid", "a", "n", "doc", "no", "idx", "seq"})
_ID_SEGMENTS = frozenset({"id", "article", "articles", "story", "stories", "news", "post",
                          "a", "n", "p", "content", "detail", "details", "read", "view"})
# fmt: on
_PAGE_EXT = re.compile(
    r"\.(?:html?|shtml?|php\d?|aspx?|jsp|jspx|cfm|cgi|pl|ece|cms|story|do|stm)$", re.I
)
_GUID = re.compile(r"\{?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}\}?", re.I)
_ARRAY_KEY = re.compile(r"^.*\[([^\[\]]*)\]$")  # tx_news_pi1[news] -> news
_PAGE_PARAMS = frozenset({"page", "paged", "pg", "pagenum", "start", "offset"})
_SEARCH_PARAMS = frozenset({"s", "q", "query", "search", "keyword", "keywords"})
_MONTH = r"(?:0?[1-9]|1[0-2]|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6})"
_DATE_PATH = re.compile(
    rf"/(?:19|20)\d{{2}}/{_MONTH}/(?:(?:0?[1-9]|[12]\d|3[01])/)?(?=[^/]*[^\W_])[^/]{{3,}}",
    re.I,
)
_LONG_NUMBER = re.compile(r"\d{5,}")
_PLAIN_WORDS = re.compile(r"[^\W\d_]+(?:[-_][^\W\d_]+)?")
_DIGITS = re.compile(r"\d+")
_DATE_ARCHIVE = re.compile(
    rf"(?:/[^\W\d_]+(?:[-_][^\W\d_]+)?)*/(?:19|20)\d\d(?:/{_MONTH})?(?:/\d{{1,2}})?/?"
    r"(?:index\.\w+)?",
    re.I,
)


def _query(url: str) -> dict[str, str]:
    return {k.lower(): v for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)}


def _id_name(key: str) -> bool:
    """Whether a query key names an id (a key of a plugin's array read by its last name:
    TYPO3's ``tx_ttnews[tt_news]``, ``tx_news_pi1[news]``)."""
    name = _ARRAY_KEY.sub(r"\1", key)
    return name in _ID_PARAMS or (name.endswith("id") and name not in _LISTING_KEYS)


def _id_keys(query: dict[str, str]) -> list[str]:
    """The query keys that carry an article id: numeric, 3+ digits under an id's name, 5+
    under any; or a GUID under an id's name (``newsID=c3aa546f-24d3-4b47-9c0c-…``)."""
    return [
        key
        for key, value in query.items()
        if (value.isdigit() and (len(value) >= 5 or (len(value) >= 3 and _id_name(key))))
        or (_GUID.fullmatch(value) is not None and _id_name(key))
    ]


def has_item_id(url: str) -> bool:
    """Whether a URL's query carries an article id (see :func:`is_article_shaped`)."""
    return bool(_id_keys(_query(url)))


def _segments(url: str) -> list[str]:
    return [s for s in unquote(urlsplit(url).path).split("/") if s]


@lru_cache(maxsize=4096)
def is_navigation(url: str) -> bool:
    """Whether a same-site URL is a home, listing, service, pagination or static page."""
    path = unquote(urlsplit(url).path)
    query = _query(url)
    if path.lower().endswith(_STATIC_EXT):
        return True
    if any(key in query and not query[key].isdigit() for key in _SEARCH_PARAMS):
        return True  # ?s=tram is a search, story.asp?s=7654321 an article
    if any(query.get(key, "").isdigit() for key in _PAGE_PARAMS):
        return True
    if path.lower() in _HOME_PATHS and not query:
        return True
    segments = [s.lower() for s in _segments(url)]
    if any(s in _NAV_SEGMENTS for s in segments):
        return True
    return any(s == "page" and n.isdigit() for s, n in pairwise(segments))


@lru_cache(maxsize=4096)
def is_filed_article(url: str) -> bool:
    """Whether a URL that :func:`is_navigation` calls a listing only for a segment articles
    are filed under (topic, thema, dossier, section, comments...) goes on to an article:
    what follows the last such segment is article-shaped (a long slug, a long number)."""
    segments = _segments(url)
    lower = [s.lower() for s in segments]
    if not any(s in _FILING_SEGMENTS for s in lower):
        return False
    if any(s in _NAV_SEGMENTS and s not in _FILING_SEGMENTS for s in lower):
        return False
    last = max(i for i, s in enumerate(lower) if s in _FILING_SEGMENTS)
    tail = segments[last + 1 :]
    if not tail:
        return False
    rest = urlsplit(url)._replace(path="/x/" + "/".join(tail)).geturl()
    if is_navigation(rest):
        return False
    named = [s.lower() for s in tail[:-1]]
    return is_article_shaped(rest) or any(s in _ITEM_SEGMENTS for s in named)


@lru_cache(maxsize=4096)
def is_word_path(url: str) -> bool:
    """Whether a URL's path is one or two plain words per segment, without a query: a
    section (``/world/``, ``/news/middle-east``) or a page with a short slug (``/p/mailbag``)."""
    names = [_PAGE_EXT.sub("", s).lower() for s in _segments(url)]
    return not urlsplit(url).query and bool(names) and all(_PLAIN_WORDS.fullmatch(n) for n in names)


@lru_cache(maxsize=4096)
def is_listing(url: str) -> bool:
    """Whether a same-site URL has the shape of a section or list page (word paths aside)."""
    query = _query(url)
    segments = [s.lower() for s in _segments(url)]
    if segments:
        script = _DIGITS.sub("", _PAGE_EXT.sub("", segments[-1])).strip("_-.")
        if script in _LISTING_SCRIPTS or script.startswith(("list_", "list-", "category_")):
            return True
    if query.get("view", query.get("task", query.get("layout", ""))).lower() in _LISTING_VIEWS:
        return True
    if _id_keys(query):
        return False
    if query and set(query) <= _LISTING_KEYS:
        return not (set(query) <= _FROM_KEYS and _an_article_address(url, segments))
    if query:
        return False
    names = [_PAGE_EXT.sub("", s) for s in segments]
    if (
        names
        and names[-1] in ("index", "default", "main", "home")
        and not _DATE_PATH.search(unquote(urlsplit(url).path))
    ):
        # a directory's index page under section names and section numbers: /GB/14677/
        return all(_PLAIN_WORDS.fullmatch(n) or n.isdigit() for n in names[:-1])
    return bool(_DATE_ARCHIVE.fullmatch(unquote(urlsplit(url).path)))


def _an_article_address(url: str, segments: Sequence[str]) -> bool:
    """Whether ``url`` without its query is shaped as an article's, under no navigation
    segment (``/topics/israel-hamas-war-2023?ref=nav`` is the topic's page)."""
    return (not any(s in _NAV_SEGMENTS for s in segments)
            and is_article_shaped(urlunsplit(urlsplit(url)._replace(query=""))))


@lru_cache(maxsize=4096)
def is_article_shaped(url: str) -> bool:
    """Whether a URL looks like an article (date, numeric id, long slug)."""
    path = unquote(urlsplit(url).path)
    if _DATE_PATH.search(path):
        return True
    segments = [_PAGE_EXT.sub("", s) for s in _segments(url)]
    if any(_LONG_NUMBER.search(s) for s in segments):
        return True
    if _id_keys(_query(url)):
        return True
    if not segments:
        return False
    last = segments[-1]
    if (
        last.isdigit()
        and len(last) >= 3
        and (
            last != _segments(url)[-1]
            or (len(segments) > 1 and segments[-2].lower() in _ID_SEGMENTS)
        )
    ):
        return True
    words = [w for w in re.split(r"[-_+]+", last) if w]
    if len(words) >= 3 and sum(1 for w in words if re.search(r"[^\W\d_]", w)) >= 2:
        return True
    return len(segments) >= 2 and len(last) >= 20


def _shape_segment(segment: str, last: bool) -> str:
    """One path segment's part of a link shape: ids and slugs generalised, names kept."""
    lower = segment.lower()
    match = _PAGE_EXT.search(lower)
    ext = match.group() if match else ""
    name = lower[: len(lower) - len(ext)]
    if name.isdigit():
        return "0" + ext  # 27745.shtml, 7189234.stm
    digits = len(_DIGITS.findall(name))
    if len(re.split(r"[-_+.,]+", name)) >= 3 or len(name) > 24:
        return ("*0" if digits else "*") + ext  # a slug: council-approves-tram-line
    if digits >= 2:
        return "*0" + ext  # a short id of letters and digits: k3x9, uc55a2
    if digits:
        return _DIGITS.sub("0", name) + ext  # article1234567.ece, tky200801150123
    if last and not ext:
        return "*"  # a one- or two-word slug: /p/mailbag, /on-naming/
    return lower  # a name: news, world, story.asp, index.html


@lru_cache(maxsize=4096)
def link_shape(url: str) -> str:
    """The shape of a URL that a site's links of one kind share (see the module docstring)."""
    parts = urlsplit(url)
    segments = _segments(url)
    shaped = [_shape_segment(s, i == len(segments) - 1) for i, s in enumerate(segments)]
    path = "/" + "/".join(shaped) + ("/" if parts.path.endswith("/") and segments else "")
    keys = []
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if {key.lower() for key, _ in pairs} <= _FROM_KEYS and _an_article_address(
            url, [s.lower() for s in segments]):
        pairs = []  # where the link stood: the article's shape is its address's (is_listing)
    for key, value in sorted(pairs):
        if value.isdigit():
            value = "0"
        elif len(value) > 16 or _DIGITS.search(value):
            value = "*"
        keys.append(f"{key.lower()}={value.lower()}")
    return path + ("?" + "&".join(keys) if keys else "")
