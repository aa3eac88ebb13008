"""URL identity: one article, one canonical URL, one identity.

:func:`canonicalize` cleans a URL into the address that is stored and mailed, and never
changes which page it opens: the URL is made safe as Scrapy fetches it (w3lib's
``safe_url_string``: non-ASCII characters and spaces percent-encoded, existing escapes left
as written), the scheme and host are lower-cased, the default port and the fragment dropped,
and from the query only the parameters in TRACKING_PARAMS (and AMP markers) are removed.
Every other parameter stays as written and in its order — valueless ones
(``index.php?/site/article/4250/``), entity-like names (``&sectionid=``, ``&region=``,
``&copy=``), ids that look like trackers to generic cleaners (``cid=``).

:func:`identity_key` (from storage, which keys articles by it) folds the variants of one
canonical URL that serve the same article: http/https, ``www.``/``m.``/``mobile.``/``amp.``
hosts, a trailing slash, a default document such as ``index.html``, the order of the query
parameters.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from urllib.parse import parse_qs, quote, unquote_plus, urljoin, urlsplit, urlunsplit

from w3lib.url import safe_url_string

from storage.identity import DEFAULT_DOCUMENTS, identity_host, identity_key

__all__ = [
    "TRACKING_PARAMS",
    "TRACKING_PREFIXES",
    "canonicalize",
    "identity_key",
    "is_home_page",
    "item_url",
    "same_site",
    "unwrapped",
    "web_url",
]

#: Query parameters that only say where a click came from (compared in lower case). Ids of
#: any kind are never here: a parameter is listed only when no site uses the name for content.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",  # Facebook
        "gclid", "gclsrc", "dclid", "gbraid", "wbraid",  # Google Ads / DoubleClick
        "msclkid",  # Microsoft Ads
        "yclid",  # Yandex
        "twclid",  # X / Twitter
        "ttclid",  # TikTok
        "igshid",  # Instagram share
        "mc_cid", "mc_eid",  # Mailchimp
        "_ga", "_gl",  # Google Analytics cross-domain linking
        "_hsenc", "_hsmi",  # HubSpot
        "mkt_tok",  # Marketo
        "oly_anon_id", "oly_enc_id",  # Omeda
        "vero_id", "vero_conv",  # Vero
        # News sites' own analytics on the links of their feeds, newsletters and pages:
        "xtor",  # AT Internet (Le Monde, Le Figaro: ?xtor=RSS-3208)
        "at_medium", "at_campaign", "at_custom1", "at_custom2", "at_custom3", "at_custom4",
        "ns_campaign", "ns_mchannel", "ns_source", "ns_linkname", "ns_fee",  # BBC, comScore
        "feedtype", "feedname",  # Reuters
        "cmp", "intcmp", "cmpid",  # CBC (?cmp=rss), the Guardian (?CMP=share_btn_tw)
        "itid", "icid", "s_cid", "wt.mc_id",  # internal and Adobe / Webtrends campaigns
        "ocid", "ncid", "smid",  # MSN, Yahoo / HuffPost, NYT shares
        # Session ids (a server that gets no cookie writes one into every link it serves).
        "jsessionid", "phpsessid", "cfid", "cftoken", "oscsid", "zenid", "bv_sessionid",
        "bv_engineid", "aspsessionid",
    }
)  # fmt: skip
#: Prefixes of tracking parameters: Google Analytics campaign tags (utm_source, utm_medium...).
TRACKING_PREFIXES = ("utm_",)
#: Parameters that name where a click came from only when their value is a feed's
#: (``?ref=rss``, ``?partner=rss``, ``?source=rss_feed``): ``?ref=4512`` or
#: ``?source=reuters`` may choose content, and stay.
FEED_REFERRALS = frozenset({"ref", "eref", "src", "source", "from", "via", "partner", "emc"})
_FEED_VALUE = re.compile(r"(?:rss|atom|feed)", re.IGNORECASE)
#: Parameters that hold a session id when their value looks like one: phpBB's and
#: vBulletin's ``sid=`` / ``s=`` of 32 hexadecimal digits (an MD5: ``?t=5&sid=<32 hex>``;
#: ``?sid=5`` may choose a section, and an image's or a PDF's ``s=`` of 40 is its
#: signature, and stay), and those named so of 20 to 64 letters and digits mixed.
_MD5 = re.compile(r"[0-9a-f]{32}")
_TOKEN = re.compile(r"(?=[A-Za-z]*[0-9])(?=[0-9]*[A-Za-z])[0-9A-Za-z]{20,64}")
SESSION_NAMED = {"sid": _MD5, "s": _MD5, "sessionid": _TOKEN, "session_id": _TOKEN,
                 "sessid": _TOKEN}
#: A Java servlet's session id, in the path (``/story.html;jsessionid=51A2...``, or
#: ``;sessionid=``) or after a parameter (``?id=5;jsessionid=51A2...``); ASP.NET's cookieless
#: session in the path (``/(S(lit3py55t21z5v55vlm25s55))/article.aspx``, ``/(X(1)S(...))/``).
_SESSION = re.compile(r";(?:jsessionid|sessionid)=[^;/?&]*|/\((?:[A-Z]\([^()/]*\))+\)(?=/)",
                      re.IGNORECASE)

# AMP markers in the path: a trailing /amp segment (/story/amp, /story/amp/) or a leading
# /amp/ directory (/amp/story).
_AMP_SUFFIX = re.compile(r"/amp/?$", re.IGNORECASE)
_AMP_PREFIX = re.compile(r"^/amp(?=/.)", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# What a fragment may hold without escaping (RFC 3986 pchar, "/" and "?").
_FRAGMENT_SAFE = "/?:@!$&'()*+,;=-._~"


@lru_cache(maxsize=4096)
def canonicalize(url: str) -> str:
    """Canonical form of an article URL: the page it opens is the page ``url`` opens.

    Safe-encoded as Scrapy requests it, lower-case scheme and host, no default port, no
    fragment, no session id, no tracking parameters (TRACKING_PARAMS, TRACKING_PREFIXES,
    FEED_REFERRALS with a feed's name), no AMP markers
    (an ``/amp`` path suffix or prefix, ``amp`` / ``outputType=amp`` parameters: the AMP
    version of a page is the same article); every other query parameter kept as written,
    in its order. (Cached: an article's link is canonicalized when its feed is read, and
    again as the address its page answered from, and as the page's canonical URL.)"""
    url = url.strip()
    try:
        if urlsplit(url).scheme.lower() not in _DEFAULT_PORTS:
            return url
        parts = urlsplit(safe_url_string(url))
    except ValueError:  # not a URL (a broken IPv6 literal, a bad port...): left as it is
        return url
    scheme = parts.scheme.lower()
    netloc = _netloc(parts.netloc, scheme)
    path = _drop_amp_path(_SESSION.sub("", parts.path)) or "/"
    query = "&".join(
        p for p in _SESSION.sub("", parts.query).split("&") if not _is_dropped_param(p)
    )
    return urlunsplit((scheme, netloc, path, query, ""))


#: An absolute http(s) address in plain ASCII, with a path, that every check of web_url
#: passes unchanged (a host of letters, digits and inner hyphens, a port below 10,000, no
#: fragment, no ";" and no empty query, which joining would drop): most links of feeds and
#: sitemaps. Taken as it is, without those checks' 25 us (a sitemap of 50,000 URLs spent 1.3
#: of its 1.9 s of the crawl's thread in them). tests/test_urls.py compares the two on
#: real and generated links.
_PLAIN_URL = re.compile(
    r"https?://(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?::[0-9]{1,4})?"
    r"/[A-Za-z0-9\-._~/%+,=&:@!$*'()]*(?:\?[A-Za-z0-9\-._~/%+,=&:@!$*'()?]+)?\Z"
)


def web_url(href: str, base: str = "") -> str | None:
    """``href``, made absolute against ``base``, when it is an http(s) address a crawl can
    request; else None: another scheme (mailto:, javascript:), or a link that Python cannot
    join or Scrapy refuses to request (a broken IPv6 literal, a port out of range or not a
    number). Feeds and pages do hold such links, and one of them must cost itself alone, not
    its source's poll."""
    if _PLAIN_URL.match(href):
        return href
    return _checked_web_url(href, base)


def _checked_web_url(href: str, base: str = "") -> str | None:
    """web_url without its shortcut for plain addresses."""
    try:
        url = urljoin(base, href) if base else href
        urlsplit(url)  # as the crawl's later steps read it, besides as Scrapy does
        return url if urlsplit(safe_url_string(url)).scheme in _DEFAULT_PORTS else None
    except ValueError:
        return None


def _netloc(netloc: str, scheme: str) -> str:
    """``netloc`` with a lower-case host and without the scheme's default port (user
    information, if any, is left as written)."""
    userinfo, at, hostport = netloc.rpartition("@")
    host, colon, port = hostport.rpartition(":")
    if not colon or "]" in port:  # no port (a colon inside an IPv6 literal is not one)
        host, port = hostport, ""
    if port == "" or (port.isdigit() and int(port) == _DEFAULT_PORTS[scheme]):
        hostport = host.lower()
    else:
        hostport = f"{host.lower()}:{port}"
    return f"{userinfo}{at}{hostport}"


def _drop_amp_path(path: str) -> str:
    """``path`` without an AMP suffix or prefix (a page called ``/amp`` stays)."""
    while path.lower() not in ("/amp", "/amp/"):
        shorter = _AMP_PREFIX.sub("", _AMP_SUFFIX.sub("", path))
        if shorter == path:
            break
        path = shorter
    return path


def _is_dropped_param(param: str) -> bool:
    """Whether a query parameter (``key=value`` as written) is a tracker or only asks for
    the AMP version."""
    key, _, value = param.partition("=")
    key = unquote_plus(key).lower()
    if key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES):
        return True
    if key in FEED_REFERRALS:
        return bool(_FEED_VALUE.match(unquote_plus(value)))
    if (session := SESSION_NAMED.get(key)) is not None:
        return session.fullmatch(unquote_plus(value)) is not None
    return key == "amp" or (key == "outputtype" and unquote_plus(value).lower() == "amp")


#: Addresses that only send a reader on to the one in a parameter of theirs: (host, path):
#: parameter. Google Alerts' feeds link every item through www.google.com/url?url=...,
#: Bing News' through /news/apiclick.aspx?url=..., a page that needs Google's cookies (or
#: consent, in Europe) before it redirects.
BING_NEWS = ("www.bing.com", "/news/apiclick.aspx")
REDIRECTORS = {
    ("www.google.com", "/url"): ("url", "q"),
    ("google.com", "/url"): ("url", "q"),
    BING_NEWS: ("url",),
}


def unwrapped(url: str) -> str:
    """The address a redirector's link (REDIRECTORS) sends its reader to; ``url`` itself
    when it is none, or names no web address."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    names = REDIRECTORS.get(((parts.hostname or "").lower(), parts.path))
    if not names:
        return url
    values = parse_qs(parts.query)
    for name in names:
        for value in values.get(name, ()):
            if target := web_url(value.strip()):
                return target
    return url


def item_url(site: str, guid: str, text: str = "") -> str:
    """The address of a feed item that links nowhere: the feed's site, with the item's guid
    as fragment (so that each item has its own identity); an item without a guid is named
    by a digest of ``text`` (its title and description)."""
    name = guid.strip() or "item-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]
    return f"{canonicalize(site)}#{quote(name, safe=_FRAGMENT_SAFE)}"


def same_site(a: str, b: str) -> bool:
    """Whether two URLs are on the same site: the same host, ignoring the ``www.``, ``m.``,
    ``mobile.`` and ``amp.`` prefixes (see storage.identity)."""

    host = identity_host(urlsplit(a).hostname or "")
    return bool(host) and host == identity_host(urlsplit(b).hostname or "")


def is_home_page(url: str) -> bool:
    """Whether ``url`` is a site's home page (``/``, ``/index.html``...) without a query."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    return not parts.query and (not path or path.lstrip("/").lower() in DEFAULT_DOCUMENTS)
