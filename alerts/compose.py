"""Rendering alert emails: one email per recipient per cycle, text and HTML from Jinja2."""

from __future__ import annotations

import binascii
import functools
import re
import textwrap
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, TypeVar
from urllib.parse import urlsplit

import jinja2

from storage import Email
from storage.segment import grapheme_start

from .channels import redact
from .schedule import RecipientPolicy

Segments = tuple[tuple[str, bool], ...]
#: A story's other sources: (source name, the address of its copy).
Outlets = tuple[tuple[str, str], ...]
H = TypeVar("H")  # anything hashable kept in first-seen order

MAX_SUBJECT = 150  # characters; long subjects are cut by clients anyway
MAX_SUBJECT_TITLE = 80  # a single article's title in the subject leaves room for its topics
#: An email lists at most this many stories, newest first (a digest: the newest of each
#: topic, each topic its share, at least TOPIC_STORIES, so more in all when it has more
#: than MAX_STORIES / TOPIC_STORIES topics: _shares), and says how many more there are. A
#: first crawl of hundreds of feeds held 6,447 alerts for one digest, which written out is
#: about 7 MB (1 KB a story and more with snippets), more than many mail servers take
#: (Postfix's default limit is 10 MB, and a refused message is not retried) and more than
#: anyone reads; so can an immediate alert without storm control.
MAX_STORIES = 200
#: When the HTML part would be longer than this (bytes, as sent: :func:`sent_size`), stories
#: are listed without their snippets, and only then fewer of them: Gmail shows the first
#: 102 KB of a message's HTML and hides the rest behind "View entire message" (200 stories
#: with snippets made 270 KB, 60 Arabic ones 100 KB), footer and "not listed" line
#: included. (Fewer at once, a digest of 93 stories for a reader of 60 topics listed 31 of
#: them, two per topic.)
HTML_BUDGET = 95_000
#: A story's other sources linked to their copies at most (the first ones); the rest named
#: (each link is its address and markup: 200 bytes with a tracked address).
MAX_LINKED = 3
#: A story's other sources named at most (the first ones), then "+N more": a story carried
#: by 200 sources made an "Also on" line of 60 wrapped lines. As many as `newswatch
#: stories` names on its line: who had it next, within two lines of the text part.
MAX_ALSO_ON = 8
#: An article's title in an email's body, and a source's name, at most this many characters
#: (the subject's title: MAX_SUBJECT_TITLE): a CMS that put a whole article in <title> made
#: each story of a digest hundreds of KB, and a digest of 30 of them 13 MB, refused by the
#: mail server for good; no headline is this long.
MAX_TITLE = 300
MAX_NAME = 100
TOPIC_STORIES = 10
WRAP = 72  # plain-text line width
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SPACE = re.compile(r"\s+")
# What is left of C0/C1 once spaces are collapsed; and the bidi embeddings, overrides and
# isolates (U+202A-U+202E, U+2066-U+2069), with which a title reorders what follows it
# ("Invoice \u202egnp.exe" shown as "Invoice exe.png"): right-to-left text needs none of
# them (a letter's own direction orders it).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# A no-break space: textwrap breaks lines at ASCII whitespace only. Used while wrapping to
# hold a phrase together; what is shown never contains one (text is flattened before).
_GLUE = "\u00a0"


@dataclass(frozen=True)
class AlertItem:
    """One article in an alert email, with the topics it matched and its highlighted text."""

    article_id: int
    topic_ids: tuple[int, ...]
    topics: tuple[str, ...]  # names of the topics that matched, parallel to topic_ids
    title: str
    url: str
    source: str
    published: datetime | None
    snippet: Segments  # (text, is_hit) segments of the article text around the hits
    title_segments: Segments = ()  # the title with hits flagged when the title matched
    also_on: Outlets = ()  # other sources of the same story (near-duplicates)
    # When the article was edited in place, for an alert that its edit caused (it matched a
    # topic it had not matched before); None for a new article.
    updated: datetime | None = None
    story_id: int | None = None  # its story (digests count stories, not their copies)
    #: When newswatch found it: shown where it has no date ("found 6 Dec 2026 10:10 UTC";
    #: a date ahead of now is none, and "date unknown" said nothing).
    fetched: datetime | None = None

    @property
    def story(self) -> tuple[str, int]:
        """What the article is one copy of: its story, else itself."""
        return ("story", self.story_id) if self.story_id is not None else ("article",
                                                                           self.article_id)


@functools.cache
def templates() -> jinja2.Environment:
    """The template environment: autoescape for HTML, none for plain text."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("alerts", "templates"),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), disabled_extensions=("txt.j2",), default=True
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["isolation"] = isolation
    return environment


def format_when(value: datetime | None, tz: tzinfo = UTC) -> str:
    """A publication time for people, in ``tz``: '25 Nov 2026 14:05 UTC',
    '25 Nov 2026 10:05 -04 (America/Caracas)', or 'date unknown'.

    Naive values are taken to be UTC. The zone's own abbreviation comes first (what the
    reader's clock says), then its tz database name when it has one.
    """
    if value is None:
        return "date unknown"
    local = _utc(value).astimezone(tz)
    when = f"{local.day} {_MONTHS[local.month - 1]} {local.year} {local:%H:%M}"
    return f"{when} {_zone_label(local, tz)}"


def _zone_label(local: datetime, tz: tzinfo) -> str:
    """'UTC', '-04 (America/Caracas)', 'CET (Europe/Paris)', or 'UTC+02:00' for a fixed offset."""
    offset = local.utcoffset() or timedelta(0)
    abbreviation = local.tzname()
    if not abbreviation:
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        abbreviation = f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    if abbreviation == "UTC" and not offset:
        return "UTC"  # whatever the zone is called (UTC, Etc/UTC, Zulu…)
    key = getattr(tz, "key", None)  # zoneinfo.ZoneInfo's name
    if isinstance(key, str) and key and key != abbreviation:
        return f"{abbreviation} ({key})"
    return abbreviation


def compose(
    recipient: str,
    items: Sequence[AlertItem],
    now: datetime,
    domain: str = "newswatch.local",
    *,
    watched: Sequence[str] = (),
    tz: tzinfo = UTC,
    message_id: str | None = None,
    notice: str | None = None,
) -> Email:
    """Render the alert email telling ``recipient`` about every article in ``items``.

    ``watched`` names the topics the recipient follows, for the footer; by default the
    topics that matched. Publication times are shown in ``tz``, the recipient's time zone
    (a ``zoneinfo.ZoneInfo``). ``message_id`` replaces the random Message-ID (tests, golden
    files). ``notice`` is a line shown above the articles (storm control saying that the
    rest of the hour's alerts come in a digest).
    """
    if not items:
        raise ValueError("an alert email needs at least one article")
    ordered = sorted(_one_per_story(items), key=_newest_first)
    topics = _names(t for item in ordered for t in item.topics)
    subject = _subject(topics, ordered)
    count = len(ordered)
    updated = sum(item.updated is not None for item in ordered)
    stories = " and ".join(
        f"{n} {kind} stor{'ies' if n != 1 else 'y'}"
        for n, kind in ((count - updated, "new"), (updated, "updated")) if n
    )
    full = [_view(item, tz, number) for number, item in enumerate(ordered[:MAX_STORIES], 1)]
    message_id = message_id or f"<{uuid.uuid4().hex}@{domain}>"
    pairs = [(item.article_id, topic_id) for item in items for topic_id in item.topic_ids]

    def rendered(limit: int, fit: int) -> Email:
        views = [_fitted(view, fit) for view in full]
        context: dict[str, Any] = {
            "subject": subject,
            **_why("this", recipient, _names(watched) or topics),
            "heading": f"{stories} for {', '.join(topics)}",
            "intro_lines": _wrap(f"newswatch found {stories} matching {', '.join(topics)}.",
                                 "", ""),
            "items": views[:limit],
            **_more(count - limit),
            "notice": one_line(notice or ""),
            "notice_lines": _wrap(one_line(notice or ""), "", ""),
        }
        return _rendered("alert", recipient, context, now, message_id, pairs)

    email = _within_budget(rendered, min(count, MAX_STORIES))
    return replace(email, follows=all(item.updated is not None for item in ordered))


def _one_per_story(items: Sequence[AlertItem]) -> list[AlertItem]:
    """One item per story, its first copy naming the topics of all: a reader's two topics
    that alerted for two copies of one story (a topic of every source, and one of the
    second copy's source) make one story of the email, as of a digest."""
    first: dict[tuple[str, int], AlertItem] = {}
    for item in items:
        kept = first.setdefault(item.story, item)
        added = [(i, name) for i, name in zip(item.topic_ids, item.topics, strict=True)
                 if i not in kept.topic_ids]
        if kept is not item and added:
            first[item.story] = replace(kept,
                                        topic_ids=kept.topic_ids + tuple(i for i, _ in added),
                                        topics=kept.topics + tuple(name for _, name in added))
    return list(first.values())


#: How a story's view is cut to fit HTML_BUDGET (:func:`_fitted`).
WHOLE, UNLINKED, COMPACT = 0, 1, 2


def _within_budget(rendered: Callable[[int, int], Email], listed: int) -> Email:
    """The email ``rendered`` lists at most ``listed`` stories in; when its HTML passes
    HTML_BUDGET, the stories without their other sources' links (UNLINKED), then without
    their snippets (COMPACT), and then fewer of them (the stories left out counted in its
    "not listed here" line); at least one."""
    email = rendered(listed, WHOLE)
    for fit in (UNLINKED, COMPACT):
        if sent_size(email.html) <= HTML_BUDGET:
            return email
        email = rendered(listed, fit)
    while (size := sent_size(email.html)) > HTML_BUDGET and listed > 1:
        # Stories make nearly all of the size: as many as fit at the size they had, less 5 %.
        listed = max(1, min(listed - 1, int(listed * HTML_BUDGET / size * 0.95)))
        email = rendered(listed, COMPACT)
    return email


def sent_size(html: str) -> int:
    """The bytes of an HTML part as mail clients receive it: in quoted-printable, as
    alerts.deliver sends it, in lines of 76 ending in CRLF. Each byte of a letter beyond
    ASCII takes three ("=D8"), and so does each "=" of the markup ("=3D"): 200 Arabic
    stories measured at 90 KB as composed arrived as 140 KB, past what Gmail shows."""
    encoded = binascii.b2a_qp(html.encode("utf-8"))
    return len(encoded) + encoded.count(b"\n")


def _topics(names: Iterable[str], indent: str) -> dict[str, Any]:
    """A story's topics as its view shows them, its text lines behind ``indent``;
    ``shared``: more than one."""
    shown = _names(names)
    return {
        "topics": ", ".join(shown),
        "shared": len(shown) > 1,
        "topics_lines": _wrap(f"Topics: {', '.join(shown)}", indent,
                              indent + " " * len("Topics: ")),
    }


def _indent(number: int) -> str:
    """The indent of the text lines of a list's ``number``-th story: as wide as its "N. ",
    so that from the tenth story on its lines stand under its headline's first letter, not
    one column left of it."""
    return " " * len(f"{number}. ")


def _fitted(view: dict[str, Any], fit: int) -> dict[str, Any]:
    """A story's view as an email over HTML_BUDGET shows it: its other sources' names not
    linked (UNLINKED), and its snippet left out as well (COMPACT)."""
    if fit == WHOLE:
        return view
    unlinked = {**view, "also_on_links": [(name, None) for name, _ in view["also_on_links"]]}
    if fit == UNLINKED:
        return unlinked
    return {**unlinked, "snippet": (), "snippet_lines": [], "compact": True}


def _view(item: AlertItem, tz: tzinfo, number: int) -> dict[str, Any]:
    """What the templates show of one article, the ``number``-th of its list."""
    title_segments = _flat_segments(item.title_segments or ((item.title, False),), MAX_TITLE)
    if not "".join(text for text, _ in title_segments).strip():
        title_segments = (("(untitled)", False),)
    url = one_line(item.url)
    host = _web_host(url)
    outlets = _outlets(item.also_on)
    links = outlets[:MAX_ALSO_ON]
    more = f" +{len(outlets) - len(links)} more" if len(outlets) > len(links) else ""
    also_on = ", ".join(_isolated(name) for name, _ in links) + more
    source = shorten(one_line(item.source), MAX_NAME)
    published = format_when(item.published, tz)
    if item.published is None and item.fetched is not None:
        published = f"found {format_when(item.fetched, tz)}"
    updated = _updated(item, tz)
    indent = _indent(number)
    return {
        "title_segments": title_segments,
        "title_dir": writing_direction("".join(text for text, _ in title_segments)),
        "snippet_dir": writing_direction("".join(text for text, _ in item.snippet)),
        "title_lines": _wrap(_marked(title_segments), f"{number}. ", indent),
        "indent": indent,
        "url": url,
        # Only web links become clickable; anything else is shown as text.
        "href": url if host else None,
        "host": host,
        "source": source,
        "also_on": also_on,
        # Each other source's name, linked to its copy when that is a web address.
        "also_on_links": links,
        "also_on_more": more,
        "also_on_lines": (_wrap(f"Also on: {also_on}", indent, indent, keep=[more.strip()])
                          if also_on else []),
        "published": published,
        "updated": updated,
        "meta_lines": _joined_lines([_isolated(source), published, updated], indent),
        **_topics(item.topics, indent),
        "compact": False,
        "snippet": _flat_segments(item.snippet),
        "snippet_lines": _wrap(_marked(item.snippet), indent, indent),
    }


def writing_direction(text: str) -> str:
    """"rtl" for a text whose first letter is of a script written right to left (Arabic,
    Hebrew, Persian: the Unicode bidi classes R and AL), else "ltr": an Arabic headline and
    snippet are laid out from the right, its closing "…" at their end (Unicode's rule P2;
    mail clients do not all read dir="auto")."""
    for char in text:
        direction = unicodedata.bidirectional(char)
        if direction in ("R", "AL"):
            return "rtl"
        if direction == "L":
            return "ltr"
    return "ltr"


def isolation(name: str) -> str:
    """The direction to isolate a source's ``name`` in ("rtl", "ltr"), or "" for a name with
    no letter written right to left, which needs none. Beside the time that follows it, an
    Arabic name took the time's day for an Arabic number and the dot between them for its
    own: "الأخبار · 7 Dec 2026" read "7 · الأخبار Dec 2026" (Unicode's rules W2 and N1)."""
    if any(unicodedata.bidirectional(char) in ("R", "AL") for char in name):
        return writing_direction(name)
    return ""


def _isolated(name: str) -> str:
    """A source's ``name`` for the text part, between a first-strong isolate and its pop
    where it needs isolating (:func:`isolation`), which plain-text readers lay out too."""
    return f"\u2068{name}\u2069" if isolation(name) else name


def _updated(item: AlertItem, tz: tzinfo) -> str:
    """'Updated 11:20' for an article edited in place ('Updated 26 Nov 11:20' on another day
    than its publication, the full time when that is unknown), '' for a new one."""
    if item.updated is None:
        return ""
    edited = _utc(item.updated).astimezone(tz)
    if item.published is None:
        return f"Updated {format_when(item.updated, tz)}"
    published = _utc(item.published).astimezone(tz)
    if edited.date() == published.date():
        return f"Updated {edited:%H:%M}"
    if edited.year == published.year:
        return f"Updated {edited.day} {_MONTHS[edited.month - 1]} {edited:%H:%M}"
    return f"Updated {edited.day} {_MONTHS[edited.month - 1]} {edited.year} {edited:%H:%M}"


def _joined_lines(parts: Iterable[str], indent: str) -> list[str]:
    """The non-empty ``parts`` joined with ' · ', a new line (not a separator) where the next
    part would pass WRAP columns: parts are never cut."""
    lines: list[str] = []
    line = ""
    for part in (p for p in parts if p):
        if line and len(line) + 3 + len(part) > WRAP:
            lines.append(line)
            line = ""
        line = f"{line} · {part}" if line else f"{indent}{part}"
    return [*lines, line] if line else lines


def _web_host(url: str) -> str:
    """The host of an http(s) URL fit to be a link ('www.' dropped), else ''.

    A URL with a space in it is broken (or a trick): it is shown, not linked.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return ""
    if parts.scheme.lower() not in ("http", "https") or not host or " " in url:
        return ""
    return host.removeprefix("www.")


def _marked(segments: Segments) -> str:
    """Plain text with hits written as ``*word*``, the spaces around a hit left outside."""
    parts = []
    for text, hit in segments:
        core = text.strip()
        if hit and core:
            lead = text[: len(text) - len(text.lstrip())]
            trail = text[len(text.rstrip()) :]
            parts.append(f"{lead}*{core}*{trail}")
        else:
            parts.append(text)
    return one_line("".join(parts))


def _wrap(text: str, first: str, rest: str, keep: Iterable[str] = ()) -> list[str]:
    """Wrap ``text`` for the plain-text body without ever breaking a word, nor one of the
    phrases in ``keep`` (a date: '25 Nov 2026 08:00 CET' on one line)."""
    if not text:
        return []
    glued = [phrase.replace(" ", _GLUE) for phrase in keep if phrase]
    for phrase in glued:
        text = text.replace(phrase.replace(_GLUE, " "), phrase)
    if any(unicodedata.east_asian_width(c) in "WF" for c in text):
        lines = _wrap_wide(text, first, rest, glued)
        return [line.replace(_GLUE, " ") for line in lines]
    lines = textwrap.wrap(
        text,
        width=WRAP,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return [line.replace(_GLUE, " ") for line in lines]


#: A character a line may break before and after (Chinese and Japanese, which put no
#: spaces between words; Korean does, and its words are kept whole), a run of white space
#: but _GLUE, or a run of other characters (a word, _GLUE holding it to the next).
_BREAKS_AROUND = (r"\u2e80-\u303f\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
                  r"\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\U00020000-\U0003fffd")
_WRAP_PIECE = rf"[{_BREAKS_AROUND}]|[^\S{_GLUE}]+|(?:[^\s{_BREAKS_AROUND}]|{_GLUE})+"


def columns(text: str) -> int:
    """The columns ``text`` takes on a terminal: two for a wide character, none for a
    combining mark."""
    return sum(
        2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1
        for c in text
    )


def _wrap_wide(text: str, first: str, rest: str, keep: Sequence[str] = ()) -> list[str]:
    """:func:`_wrap` for text with wide characters: textwrap counts characters and breaks
    only at spaces, so a line of Chinese or Japanese ran to 150 columns (Korean's 70
    characters took 119). Lines of at most WRAP columns, broken at spaces or beside a
    Chinese or Japanese character; a word is never broken, nor a phrase of ``keep`` (its
    spaces _GLUE already): a Japanese topic's name, or a date beside one, was broken as
    any text ("東京電" and "力", "25 Nov" and "2026 08:00 CET")."""
    kept = "".join(f"{re.escape(phrase)}|" for phrase in sorted(keep, key=len, reverse=True))
    lines: list[str] = []
    line, used, empty, space = first, columns(first), True, False
    for piece in re.findall(kept + _WRAP_PIECE, text):
        if piece.isspace():
            space = not empty
            continue
        width = columns(piece) + (1 if space else 0)
        if not empty and used + width > WRAP:
            lines.append(line)
            line, used, space = rest, columns(rest), False
            width = columns(piece)
        line += (" " if space else "") + piece
        used += width
        empty, space = False, False
    if not empty:
        lines.append(line)
    return lines


#: Letters of the right-to-left scripts (Hebrew, Arabic, Syriac, Thaana, N'Ko and their
#: presentation forms).
_RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")


def _subject(topics: list[str], ordered: list[AlertItem]) -> str:
    """``[newswatch] <topics> — <title, or N stories>``, kept under MAX_SUBJECT characters.

    ``topics`` are already one line each; the title is made so: a subject never spans lines.
    """
    if len(ordered) == 1:
        tail = shorten(one_line(ordered[0].title) or "(untitled)", MAX_SUBJECT_TITLE)
        if ordered[0].updated is not None:
            tail = f"Updated: {tail}"
    else:
        tail = f"{len(ordered)} stories"
    # A right-to-left name ends its run (a left-to-right mark after it): "— 2 stories" after
    # an Arabic topic joined the run and showed as "[newswatch] 2 — ترامب stories".
    names = [f"{name}\u200e" if _RIGHT_TO_LEFT.search(name) else name for name in topics]
    subject = ""
    for shown in range(len(names), 0, -1):
        listed = ", ".join(names[:shown])
        if shown < len(names):
            listed += f" +{len(names) - shown} more"
        subject = f"[newswatch] {listed} — {tail}"
        if len(subject) <= MAX_SUBJECT:
            return subject
    return shorten(subject, MAX_SUBJECT)


def shorten(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters at a word boundary when possible, with '…'."""
    if len(text) <= limit:
        return text
    cut = text[: grapheme_start(text, limit - 1)]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def one_line(text: str) -> str:
    """Collapse all whitespace (CR, LF and Unicode line breaks included) to single spaces and
    drop other control characters: what comes from an article or a config never spans lines."""
    return _flat(text).strip()


def _flat(text: str) -> str:
    """``one_line`` without the strip: for segments, whose edge spaces separate words."""
    return _CONTROL.sub("", _SPACE.sub(" ", text))


def _flat_segments(segments: Segments, limit: int | None = None) -> Segments:
    """Highlight segments on one line, without control characters; with a ``limit``, at
    most that many characters of them (cut as :func:`shorten` cuts, with '…')."""
    flat = tuple((_flat(text), hit) for text, hit in segments)
    if limit is None or sum(len(text) for text, _ in flat) <= limit:
        return flat
    kept = len(shorten("".join(text for text, _ in flat), limit)) - 1  # without its '…'
    cut: list[tuple[str, bool]] = []
    for text, hit in flat:
        if kept <= 0:
            break
        cut.append((text[:kept], hit))
        kept -= len(text)
    return (*cut, ("…", False))


def _outlets(outlets: Outlets) -> list[tuple[str, str | None]]:
    """The story's other sources as shown: each name once (shortened, on one line), the
    first MAX_LINKED with their copy's address where that is a web link."""
    shown: dict[str, str | None] = {}
    linked = 0
    for name, url in outlets:
        if (name := one_line(name)) and name not in shown:
            address = one_line(url)
            link = bool(_web_host(address)) and linked < MAX_LINKED
            linked += link
            shown[name] = address if link else None
    return [(shorten(name, MAX_NAME), url) for name, url in shown.items()]


def _names(values: Iterable[str]) -> list[str]:
    """Distinct non-empty names, each on one line, in their first-seen order."""
    return _unique(n for n in (one_line(v) for v in values) if n)


def _unique(values: Iterable[H]) -> list[H]:
    """The distinct values in their first-seen order."""
    return list(dict.fromkeys(values))


def _utc(value: datetime) -> datetime:
    """An aware UTC datetime; naive values are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _newest_first(item: AlertItem) -> tuple[bool, float]:
    """Sort key: newest publication first, unknown dates last."""
    if item.published is None:
        return (True, 0.0)
    return (False, -_utc(item.published).timestamp())


def compose_digest(
    recipient: str,
    items: Sequence[AlertItem],
    now: datetime,
    *,
    policy: RecipientPolicy,
    since: datetime | None = None,
    notice: str | None = None,
    late: datetime | None = None,
    watched: Sequence[str] = (),
    domain: str = "newswatch.local",
    message_id: str | None = None,
) -> Email:
    """Render the digest of ``items`` for ``recipient``: grouped by topic (in the order
    ``watched`` names them), newest first in each, times on the recipient's clock.

    The caller gives one item per story and topic. With no items it is the "nothing new
    since ``since``" digest. ``notice`` is a line saying why the digest came (storm control);
    ``late``, the time it was due at when it goes out late, newswatch not running then.
    """
    tz = policy.zone
    message_id = message_id or f"<{uuid.uuid4().hex}@{domain}>"
    groups: dict[str, dict[int, AlertItem]] = {name: {} for name in _unique(watched)}
    pairs = []
    for item in items:
        for topic_id, name in zip(item.topic_ids, item.topics, strict=True):
            groups.setdefault(name, {}).setdefault(item.article_id, item)
            pairs.append((item.article_id, topic_id))
    topics = _names(name for name, entries in groups.items() if entries)
    # A story is listed once, under the first of its topics that lists it (its topics named
    # above it), and counted under each: an article under two topics, or two copies of a
    # story (two sources) that two topics alerted for, is one story (_placed).
    newest: dict[str, list[AlertItem]] = {}
    named: dict[tuple[str, int], list[str]] = {}
    for name, entries in groups.items():
        if not entries:
            continue
        stories = {item.story: item for item in sorted(entries.values(), key=_newest_first,
                                                          reverse=True)}
        newest[name] = sorted(stories.values(), key=_newest_first)  # one item a story
        for story in stories:
            named.setdefault(story, []).append(name)
    totals = {name: len(entries) for name, entries in newest.items()}
    count = len(named)
    views: dict[tuple[int, int], dict[str, Any]] = {}

    def view(item: AlertItem, number: int) -> dict[str, Any]:
        key = (item.article_id, number)
        if key not in views:
            views[key] = {**_view(item, tz, number), **_topics(named[item.story], _indent(number))}
        return views[key]

    stamp = format_when(since, tz) if since is not None else ""
    when = f" since {stamp}" if stamp else ""
    if count:
        listed = ", ".join(topics)
        subject = shorten(f"[newswatch] Digest — {plural(count, 'story')}: {listed}", MAX_SUBJECT)
        heading = f"{plural(count, 'story')} for {listed}"
        intro = f"Your newswatch digest: {plural(count, 'story')} about {listed}{when}."
    else:
        subject = "[newswatch] Digest — nothing new"
        heading = "Nothing new"
        intro = f"Nothing new matched your topics{when}."
    notices = [line for line in (_late_notice(late, now, tz) if late else "", notice) if line]

    def rendered(limit: int, fit: int) -> Email:
        shown = []
        for name, (listed, above, below, left) in _placed(newest, limit).items():
            views = [view(item, number) for number, item in enumerate(listed, 1)]
            shown.append({
                "topic": one_line(name),
                "count": _counted(totals[name], above, below),
                "items": [_fitted(v, fit) for v in views],
                **_more(left, name),
            })
        context: dict[str, Any] = {
            "subject": subject,
            **_why("this digest", recipient, _names(watched) or topics or ["no topics"]),
            "heading": heading,
            # An empty digest says "since" in its one line of text instead.
            "sub": f"Since {stamp}" if stamp and count else "",
            "intro": intro,
            "intro_lines": _wrap(intro, "", "", keep=(stamp,)),
            "notices": notices,
            "notices_lines": [_wrap(line, "", "") for line in notices],
            "groups": shown,
            "schedule": policy.describe(),
        }
        return _rendered("digest", recipient, context, now, message_id, pairs)

    return _within_budget(rendered, min(count, sum(_shares(totals).values())))


def _late_notice(due: datetime, now: datetime, tz: tzinfo) -> str:
    """The line of a digest that goes out late, at ``now``, as newswatch was not running at
    the time it was due (``due``): its reader, who expected it at 08:00, is told why it
    came at 14:00. A time of another day than ``now`` has its date."""
    local = _utc(due).astimezone(tz)
    if local.date() == _utc(now).astimezone(tz).date():
        when = f"at {local:%H:%M} {_zone_label(local, tz)}"
    else:
        when = f"on {format_when(due, tz)}"
    return f"This digest was due {when}; it is sent late because newswatch was not running."


def _placed(
    newest: dict[str, list[AlertItem]], limit: int
) -> dict[str, tuple[list[AlertItem], int, int, int]]:
    """Where a digest of at most about ``limit`` stories lists each: per topic (in order),
    the stories it lists (its share: _shares), how many of its stories an earlier topic
    lists, how many a later one, and how many no topic lists. A story goes under the first
    of its topics whose share it is in: one cut from a busy topic's share is listed under a
    later one (placed under the first whatever the share, a small topic's stories were
    listed nowhere)."""
    quota = _shares({name: len(entries) for name, entries in newest.items()}, limit)
    listed: dict[str, list[AlertItem]] = {}
    where: dict[tuple[str, int], int] = {}  # story: the place of the topic that lists it
    for place, (name, entries) in enumerate(newest.items()):
        listed[name] = [item for item in entries if item.story not in where][: quota[name]]
        where.update((item.story, place) for item in listed[name])
    # Room left (stories cut from every topic's share while the digest has room): under the
    # first of their topics, newest first.
    room = limit - len(where)
    for place, (name, entries) in enumerate(newest.items()):
        added = [item for item in entries if item.story not in where][: max(room, 0)]
        where.update((item.story, place) for item in added)
        room -= len(added)
        listed[name] = sorted(listed[name] + added, key=_newest_first)
    return {name: (listed[name],
                   sum(where.get(item.story, place) < place for item in newest[name]),
                   sum(where.get(item.story, place) > place for item in newest[name]),
                   sum(item.story not in where for item in newest[name]))
            for place, name in enumerate(newest)}


def _counted(total: int, above: int, below: int = 0) -> str:
    """A digest topic's count: "12 stories", "12 stories, 3 listed above, 1 below" (under
    an earlier or a later topic of theirs: the listed, those and the "not listed" line's
    make the total)."""
    elsewhere = [f"{above} listed above"] if above else []
    elsewhere += [f"{below} {'listed ' if not above else ''}below"] if below else []
    return ", ".join([plural(total, "story"), *elsewhere])


def _shares(sizes: dict[str, int], limit: int = MAX_STORIES) -> dict[str, int]:
    """How many stories a digest lists of each topic (``sizes``: how many it has): shares of
    ``limit``, at least TOPIC_STORIES each (or, when ``limit`` is below what that makes,
    its part of it, one at least), what a smaller topic leaves of its share going to the
    larger ones."""
    shares: dict[str, int] = {}
    least = (TOPIC_STORIES if limit >= MAX_STORIES
             else max(1, min(TOPIC_STORIES, limit // max(1, len(sizes)))))
    left = limit
    for n, name in enumerate(sorted(sizes, key=sizes.__getitem__)):
        share = max(least, left // (len(sizes) - n))
        shares[name] = min(sizes[name], share)
        left = max(0, left - shares[name])
    return shares


def _more(count: int, topic: str | None = None) -> dict[str, Any]:
    """The line under the stories of an email (or of a digest's ``topic``) that lists only
    the newest ones, when ``count`` more are left out: ``more``, and wrapped, ``more_lines``."""
    if count <= 0:
        return {"more": "", "more_lines": []}
    about = f" about {one_line(topic)}" if topic is not None else ""
    line = (f"… and {plural(count, 'older story')}{about}, not listed here: all are in the"
            " archive (newswatch search).")
    keep = [one_line(topic)] if topic is not None else []
    return {"more": line, "more_lines": _wrap(line, "", "", keep=keep)}


def _why(what: str, recipient: str, watched: list[str]) -> dict[str, Any]:
    """The footer's reason for the email: "You receive ``what`` because ``recipient``
    watches: ``watched``." (``recipient`` and ``watched`` apart for the HTML, and the
    sentence wrapped for the text, never inside a topic's name)."""
    shown = one_line(redact(recipient))
    listed = ", ".join(watched)
    sentence = f"You receive {what} because {shown} watches: {listed}."
    return {
        "recipient": shown,
        "watched": listed,
        "why_lines": _wrap(sentence, "", "", keep=watched),
    }


def _rendered(
    template: str,
    recipient: str,
    context: dict[str, Any],
    now: datetime,
    message_id: str,
    pairs: Iterable[tuple[int, int]],
) -> Email:
    """The email of ``context`` rendered with ``<template>.txt.j2`` and ``.html.j2``, for the
    (article id, topic id) ``pairs`` it tells about."""
    env = templates()
    return Email(
        message_id=message_id,
        recipient=recipient,
        subject=context["subject"],
        text=env.get_template(f"{template}.txt.j2").render(context),
        html=env.get_template(f"{template}.html.j2").render(context),
        created=_utc(now),
        items=tuple(_unique(pairs)),
    )


def plural(count: int, noun: str) -> str:
    """'1 story', '3 stories'."""
    if count == 1:
        return f"1 {noun}"
    return f"{count} {noun[:-1]}ies" if noun.endswith("y") else f"{count} {noun}s"
