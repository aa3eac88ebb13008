"""Pages a site answers in place of the article: a bot challenge, a block page, a page that
is not the one the feed announced (not found, a region block, maintenance, a sign-in form).

Stored, such a page was an article: its words alerted ("Enable JavaScript and cookies",
"access denied"), its text made every copy of it one story, and the real article, served
later, was never read again (the URL was known). A page found to be one is asked again at
the next polls, as an unavailable one is (crawler.entries: deferred, then the feed's summary
kept after a few attempts).

Two checks. :func:`wall` reads marks that only the challenge and block pages of the big
bot-protection services carry (none of them is in any of 1,528 real article pages of the
fundus, trafilatura, newspaper and goose3 test sets; the scripts those services put on
ordinary pages, Cloudflare's ``/cdn-cgi/challenge-platform/`` or Imperva's
``_Incapsula_Resource``, are not marks), and the consent pages a reader is redirected to
(a consent service's host, or a site's own ``/zustimmung`` or ``/consent/`` page: a long
text of cookies and partners). :func:`not_the_article` compares the page with the feed's
entry: a short text whose words and title share no word of the entry's title, or a
site's consent notice served at the article's own address (the consent framework's wording
of what its partners do, "We and our partners store and/or access information on a
device...", a long text that shares no word of the entry's title either).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Final
from urllib.parse import urlsplit

#: How far into a page its <title> is looked for.
_HEAD: Final = 64 * 1024
#: Challenge and block pages are small (a few KB: their work is done by a script); the marks
#: are looked for in pages up to this size only (each look is 20 us on 64 KB: an article
#: page of 70 KB, as most are, is not looked through).
_SMALL: Final = 48 * 1024
#: (mark in the page, as the service writes it, what answered). Looked for as written: a
#: page lower-cased first cost 0.18 ms (a twentieth of the crawl's own work on a page).
_MARKS: Final = (
    (b"_cf_chl_opt", "a Cloudflare challenge"),
    (b"cf-browser-verification", "a Cloudflare challenge"),
    (b"captcha-delivery.com", "a DataDome challenge"),
    (b'id="px-captcha"', "a PerimeterX challenge"),
    (b"Incapsula incident ID", "an Imperva block page"),
    (b"errors.edgesuite.net", "an Akamai block page"),
)
#: (a page's whole <title>, lower-cased, what answered).
_TITLES: Final = {
    "just a moment...": "a Cloudflare challenge",
    "attention required! | cloudflare": "a Cloudflare block page",
    "access denied": "a block page (Access Denied)",
}
#: Hosts that only ask a reader's consent (or to sign in) before they send them on: an
#: article page that redirects there, as Google News' links do from Europe, is that page.
_CONSENT_HOSTS: Final = frozenset({
    "consent.google.com", "consent.youtube.com", "accounts.google.com", "consent.yahoo.com",
    "guce.yahoo.com", "guce.oath.com", "myprivacy.dpgmedia.nl", "myprivacy.dpgmedia.be",
    "consent.tiktok.com",
})
#: Path parts (a whole one, its extension left out) of the pages a site itself sends a reader
#: without its consent cookie to, in place of the article: ``/zustimmung?url=...``,
#: ``/sonstiges/zustimmung/auswahl.html``, ``/consent/tcf/``, ``/privacy-gate/accept``. Only
#: an address redirected to is read so: an article's own address may name the subject.
_CONSENT_PATHS: Final = frozenset({
    "consent", "cookie-consent", "cookiewall", "cookie-wall", "privacy-gate", "privacy-wall",
    "zustimmung", "einwilligung", "consentement", "consenso", "consentimiento", "toestemming",
})
#: A text this short may be a page in place of the article; a longer one is an article.
_SHORT: Final = 150
#: The IAB consent framework's wording of what a site's partners do, as its consent pages and
#: banners write it (English, German, French, Italian, Spanish, Dutch): a long text with two
#: of these is a consent page, when it has no word of the article's title either (an
#: article about cookies or the GDPR that quotes the wording has its headline's words). Each
#: phrase comes with the strings it cannot match without (one of them: a word, or a part of
#: several phrases' words, "/o" of "and/or", "et/ou", "e/o", "en/of"), looked for first in
#: the lower-cased text: an article seldom has two phrases' strings, and the phrases
#: themselves (0.8 ms on an article's text) are looked for only when it has them.
_CONSENT_WORDING: Final = tuple((pieces, re.compile(phrase)) for pieces, phrase in (
    (("partners", "vendors"), r"we and our(?: \d+)? (?:partners|vendors)"),
    (("/o",), r"store and/or access information on a device"),
    (("personali",), r"personali[sz]ed ads and content"),
    (("measurement",), r"ad and content measurement"),
    (("insights",), r"audience insights and product development"),
    (("unsere",), r"wir und unsere(?: \d+)? partner"),
    (("speichern",), r"informationen auf (?:einem|ihrem) gerät speichern"),
    (("personali",), r"personalisierte werbung und inhalte"),
    (("werbeleistung",), r"messung von werbeleistung"),
    (("partenaires",), r"nous et nos(?: \d+)? partenaires"),
    (("/o",), r"stocker et/ou accéder à des informations"),
    (("publicités",), r"publicités et contenu personnalisés"),
    (("publicités",), r"mesure de performance des publicités"),
    (("nostri",), r"noi e i nostri(?: \d+)? (?:partner|fornitori)"),
    (("/o",), r"archiviare e/o accedere a informazioni su un dispositivo"),
    (("personali",), r"annunci e contenuti personalizzati"),
    (("nunci",), r"valutazione degli annunci e del contenuto"),
    (("nuestros",), r"nosotros y nuestros(?: \d+)? (?:socios|proveedores)"),
    (("acceder",),
     r"almacenar (?:la información en un dispositivo y/)?o acceder a (?:ella|información)"),
    (("personali",), r"anuncios y contenido personalizados"),
    (("nunci",), r"medición de anuncios y contenido"),
    (("onze",), r"wij en onze(?: \d+)? partners"),
    (("/o",), r"informatie op een apparaat opslaan en/of openen"),
    (("personali",), r"gepersonaliseerde advertenties en content"),
))
#: The strings of _CONSENT_WORDING, each looked for once.
_CONSENT_PIECES: Final = frozenset(piece for pieces, _ in _CONSENT_WORDING for piece in pieces)
_WORD: Final = re.compile(r"[^\W\d_]{4,}")
_LONG_WORD: Final = re.compile(r"[^\W\d_]{5,}")
_TITLE: Final = re.compile(rb"<title[^>]*>([^<]{1,1000})</title", re.IGNORECASE)


def wall(
    body: bytes, title: str | None = None, mitigated: str | None = None, url: str = "",
    redirected: bool = False,
) -> str | None:
    """What answered instead of the article, when ``body`` (its <title> ``title``, as
    :func:`html_title` reads it) is a bot-protection service's challenge or block page (or
    its response says so: Cloudflare's ``cf-mitigated: challenge``, ``mitigated``), or the
    address it answered from (``url``, redirects followed) is a consent or sign-in service's,
    or, ``redirected`` there, a site's own consent page (a long text of cookies and partners
    that shares no word with the article); else None."""
    if mitigated is not None and mitigated.strip().lower() == "challenge":
        return "a Cloudflare challenge"
    parts = urlsplit(url) if url else None
    host = (parts.hostname or "").lower() if parts else ""
    if host in _CONSENT_HOSTS:
        return f"a consent or sign-in page ({host})"
    if redirected and parts and any(
        part.partition(".")[0].lower() in _CONSENT_PATHS for part in parts.path.split("/")
    ):
        return f"a consent page ({parts.path})"
    if title is not None and (name := _TITLES.get(" ".join(title.split()).lower())):
        return name
    if len(body) > _SMALL:
        return None
    for mark, name in _MARKS:
        if mark in body:
            return name
    return None


def _long(text: str) -> bool:
    """Whether ``text`` has _SHORT words or more (the words after them left uncut)."""
    return len(text.split(None, _SHORT - 1)) >= _SHORT


def not_the_article(
    entry_title: str | None, page_titles: Iterable[str | None], text: str
) -> bool:
    """Whether a page whose article part is ``text`` under ``page_titles`` (its <title>,
    the title extraction found) is not the article the feed announced as ``entry_title``:
    a short text that, titles included, has none of the entry title's words (of four
    letters or more; two at least, in a script written with spaces). "Page not found",
    "This content is not available in your region", a sign-in form; a brief of the article
    has its headline's words, and its page's <title> has them. A long text is one too when
    it is a consent notice (two phrases of the consent framework's wording, :func:`consent`),
    served at the article's own address in place of the article."""
    if not entry_title:
        return False
    wanted = {word.casefold() for word in _WORD.findall(entry_title)}
    if len(wanted) < 2:
        return False
    # The titles first: an article's headline or <title> has its entry's words, and its text
    # is read no further (its words cost 0.25 ms on 7 KB, the consent wording 0.1 ms).
    titles = " ".join(title for title in page_titles if title)
    if wanted & {word.casefold() for word in _WORD.findall(titles)} or _unspaced(entry_title):
        return False
    if _long(text) and not consent(text):
        return False
    return not wanted & {word.casefold() for word in _WORD.findall(text)}


def consent(text: str) -> bool:
    """Whether ``text``, lower-cased, has two phrases of the consent framework's wording
    (_CONSENT_WORDING): "We and our partners store and/or access information on a device",
    "Wir und unsere Partner", "personalised ads and content". Only the phrases whose strings
    are in the text are looked for, in it with its spaces made one."""
    lowered = text.lower()
    present = {piece for piece in _CONSENT_PIECES if piece in lowered}
    phrases = [phrase for pieces, phrase in _CONSENT_WORDING if not present.isdisjoint(pieces)]
    if len(phrases) < 2:
        return False
    flat = " ".join(lowered.split())
    return sum(1 for phrase in phrases if phrase.search(flat)) >= 2


def not_the_post(post: str, text: str) -> bool:
    """Whether a page whose article part is ``text`` is not the untitled item (a Mastodon
    post, a bridged social post) whose text is ``post``: a short text that shares none of
    the longer words (five letters or more) of the post's opening. The page's titles are
    left out: a Mastodon page's <title> is its account's name ("Lakeside Water"), which the
    post may well name; its text, an app's "enable JavaScript" shell, does not."""
    if _long(text) or _unspaced(post):
        return False
    wanted = {word.casefold() for word in _LONG_WORD.findall(" ".join(post.split()[:40]))}
    if len(wanted) < 3:
        return False
    return not wanted & {word.casefold() for word in _LONG_WORD.findall(text)}


def html_title(body: bytes, encoding: str = "utf-8") -> str | None:
    """The text of a page's <title> element (in its first 64 KB), decoded as ``encoding``
    (the response's), entities left as they are."""
    start = body.find(b"<title", 0, _HEAD)
    if start < 0:
        start = body.find(b"<TITLE", 0, _HEAD)
    found = _TITLE.match(body, start, _HEAD) if start >= 0 else _TITLE.search(body[:_HEAD])
    if not found:
        return None
    try:
        return found.group(1).decode(encoding, "replace")
    except LookupError:  # an encoding Python does not know
        return found.group(1).decode("utf-8", "replace")


def _unspaced(text: str) -> bool:
    """Whether ``text`` has characters of a script written without spaces between words
    (Chinese, Japanese, Thai...), where words cannot be compared this way."""
    return any(
        unicodedata.east_asian_width(char) in ("W", "F") or "\u0e00" <= char <= "\u109f"
        for char in text
    )
