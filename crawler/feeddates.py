"""Feed dates feedparser cannot read, or reads wrong.

feedparser reads RFC 822 and ISO 8601 dates and a few others. Real feeds write more
(Miniflux's date tests hold dozens): dates in other languages (``mar. 01 déc. 2026``,
``Di, 23 Jan 2018``), ordinals (``16th Nov``), 12-hour times (``1:55 PM EST``, whose
afternoon and zone feedparser dropped), zone names it does not know (``JST``, ``MSK``,
``CEST``, ``GMT+2``: read as UTC) and IANA zones (``America/Los_Angeles``). An item whose
date was not read was undated (alerted whatever its age on a first poll); one whose zone
was dropped was hours off (9 hours ahead for a Japanese feed: at the top of every list).

Such a date is read by dateparser (a dependency of trafilatura's htmldate), which knows
those languages and zones. It is slow (milliseconds a date; a second for a string that is
no date, as it tries every language), so: only where feedparser fails or is known to
misread, only for strings that hold digits, each distinct string once
(a feed's polls repeat its items' dates), and at most DATE_BUDGET
seconds a feed (:class:`DateReader`): past it, the feed's other such items are undated.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: Seconds of dateparser a feed may take in one poll.
DATE_BUDGET = 1.0
#: How far ahead of ours a server's clock may be (a Last-Modified, a sitemap's date).
CLOCK_DRIFT = timedelta(minutes=10)

#: The zone names feedparser's RFC 822 reader knows (feedparser.datetimes.rfc822), and the
#: military letters.
_KNOWN_ZONES = frozenset((
    "ut", "utc", "gmt", "z", "adt", "ast", "at", "edt", "est", "et", "cdt", "cst", "ct",
    "mdt", "mst", "mt", "pdt", "pst", "pt", *"abcdefghiklmnopqrstuvwxyz",
))
# The patterns ending in "\s*$" are written so that a run of letters or spaces is tried
# in one way only: a date of a hostile or broken feed holding a few thousand spaces or
# letters ("2026.12.06", 2,000 spaces, "1") took a minute of the crawl's CPU an item.
_TRAILING_WORD = re.compile(r"(?<![A-Za-z])([A-Za-z]+)\s*(?:[+-]\d{1,4}\s*)?$")
_TWELVE_HOUR = re.compile(r"\d\s*[AaPp]\.?[Mm]\b\.?")
_IANA = re.compile(r"\s([A-Z][A-Za-z_]+(?:/[A-Za-z_+\-0-9]+){1,2})\s*$")
_DIGITS = re.compile(r"\d+")

_SETTINGS = {"RETURN_AS_TIMEZONE_AWARE": True, "TO_TIMEZONE": "UTC", "PREFER_DATES_FROM": "past"}
_LOCAL = {"RETURN_AS_TIMEZONE_AWARE": False, "PREFER_DATES_FROM": "past"}

# Shapes feedparser's loose ISO 8601 reader takes a wrong date from, without a word:
#: a year first, then a separator other than "-" (2026/12/06, 2026.12.06, 2026年12月06日,
#: 2026년 12월 06일; a dot after the day too, as Korean and Hungarian write it: 2026. 12. 6.):
#: the month taken from today's clock, the day 1, the time 00:00 (from the 3rd of a month on,
#: never alerted). Read here: dateparser takes 2 s for its first CJK.
_YEAR_FIRST = re.compile(
    r"\s*(\d{4})\s*[./年년]\s*(\d{1,2})\s*[./月월]\s*(\d{1,2})(?:\s*[日일]|\.)?"
    r"(?:\s*(?:T\s*)?(\d{1,2})\s*[:時시]\s*(\d{2})(?:\s*[:分분]\s*(\d{2}))?(?:\s*[分분秒초])?)?"
    r"(?:\s*(Z|[+-]\d{2}:?\d{2}|UTC|GMT|JST|KST))?\s*$", re.IGNORECASE)
#: An ISO date whose time a zone word follows (Rails' "2026-12-06 09:34:00 UTC", "… CST",
#: "… GMT+0100"): the time dropped. A zone after "UTC" ("UTC+2", "UTC-05:00"): dropped too.
_ISO_ZONE_WORD = re.compile(
    r"\s*\d{4}-\d{1,2}-\d{1,2}[ T]\d{1,2}:\d{2}.*(?<![A-Za-z])[A-Za-z]{2,}"
    r"(?:\s*[+-]\d{1,2}(?::?\d{2})?)?\s*$")
#: A year first, then the month in words (PHP's date("Y-M-d"): "2026-Dec-06"; a Hungarian
#: blog's "2026-december-06"): the month taken from today's clock, the day 1.
_WORD_MONTH = re.compile(r"\s*\d{4}-[^\W\d_]")
#: Unix date(1)'s output ("Sun Dec  6 09:34:00 CET 2026", a shell script's feed): the zone,
#: before the year, dropped where feedparser does not know it (read as UTC: an hour ahead).
_ASCTIME_ZONE = re.compile(
    r"\s*[A-Za-z]{3}\s+[A-Za-z]{3}\s+\d{1,2}\s+\d{1,2}:\d{2}(?::\d{2})?"
    r"\s+([A-Za-z]{2,5})\s+\d{4}\s*$")
#: A year first and a 12-hour time in Korean, Japanese or Chinese (a Korean ASP.NET site's
#: "2026-12-06 오후 6:41:00", a Taiwanese one's "2026/12/6 下午 05:41:00"; ICU's and browsers'
#: Korean "2026. 12. 6. 오후 6:41:00"): the time dropped, or the month taken from the clock.
_MERIDIEM = re.compile(
    r"\s*(\d{4})\s*[-./年년]\s*(\d{1,2})\s*[-./月월]\s*(\d{1,2})(?:\s*[日일]|\.)?"
    r"\s*(오전|오후|午前|午後|上午|下午)\s*(\d{1,2})\s*[:時시]\s*(\d{2})"
    r"(?:\s*[:分분]\s*(\d{2}))?(?:\s*[分분秒초])?"
    r"(?:\s*(Z|[+-]\d{2}:?\d{2}|UTC|GMT|JST|KST))?\s*$", re.IGNORECASE)
#: Each such word: the hours it adds to a 12-hour clock's, and its country's UTC offset in
#: hours (Korea's and Japan's 9, China's and Taiwan's 8), the time where none is said.
_MERIDIEMS = {"오전": (0, 9), "오후": (12, 9), "午前": (0, 9), "午後": (12, 9),
              "上午": (0, 8), "下午": (12, 8)}
_UTC_OFFSET = re.compile(r"\bUTC?\s*[+-]\s*\d", re.IGNORECASE)
#: Basic ISO 8601 (20261206T094100Z): the time dropped.
_BASIC_ISO = re.compile(r"\s*(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})?(Z|[+-]\d{2}:?\d{2})?\s*$")
#: A Unix timestamp, in seconds or milliseconds: read as the year 1796.
_UNIX = re.compile(r"\s*(\d{10}|\d{13})\s*$")
#: A numeric date, day and month in an order of the feed's (06.12.2026, 06/12/2026,
#: 6-12-26): dateparser took every one month first (a German date, 6 December, was June).
_NUMERIC = re.compile(r"\s*(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?!\d)")
_ZONES = {"jst": 9 * 60, "kst": 9 * 60}
#: An RFC 822 date's day, English month, year and time ("Sun, 31 Nov 2026 10:00:00 GMT"):
#: one feedparser did not read is no date when that day or time cannot be (_impossible).
_RFC822 = re.compile(
    r"\s*(?:[A-Za-z]{3,9}\.?,?\s+)?(\d{1,2})\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})"
    r"(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?(?!\d)")
#: The same, month first, as American feeds write it ("November 31, 2026 10:00 AM").
_RFC822_MONTH_FIRST = re.compile(
    r"\s*(?:[A-Za-z]{3,9}\.?,?\s+)?([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})"
    r"(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?(?!\d)")
_MONTHS = {name: n for n, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
#: India's IST, last or before the year (date(1)'s "Sat Jan  3 15:11:00 IST 2026").
_IST = re.compile(r"\s+IST(\s+\d{4})?\s*$")


#: A year alone ("2026"), or a time of day alone ("12:30", "9:05 PM CET"): no day, which
#: feedparser filled in (1 January; today): an item of December dated "2026" was stored as
#: published in January, outside alerts.lookback, and never alerted.
_NO_DAY = re.compile(
    r"\s*(?:\d{4}|\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?:\s*[AaPp]\.?[Mm]\.?)?(?:\s*[A-Za-z]{1,5})?)\s*$"
)


def no_day(raw: str) -> bool:
    """Whether ``raw`` names no day (_NO_DAY): the item is undated."""
    return _NO_DAY.match(raw) is not None


def misread(raw: str) -> bool:
    """Whether feedparser reads ``raw`` wrong although it reads a date from it: a 12-hour
    time, a zone named in words it does not know (it takes UTC), or one of the shapes its
    loose reader fills in from today's clock (_YEAR_FIRST and those below it)."""
    if _TWELVE_HOUR.search(raw) or _IANA.search(raw):
        return True
    if any(shape.match(raw) for shape in (_YEAR_FIRST, _ISO_ZONE_WORD, _WORD_MONTH, _MERIDIEM,
                                          _BASIC_ISO, _UNIX, _NUMERIC)) or _UTC_OFFSET.search(raw):
        return True
    if (found := _ASCTIME_ZONE.match(raw)) and found.group(1).lower() not in _KNOWN_ZONES:
        return True
    word = _TRAILING_WORD.search(raw)
    return word is not None and word.group(1).lower() not in _KNOWN_ZONES


def _offset(zone: str | None) -> timezone:
    """The offset of ``zone`` (Z, ±HH:MM, ±HHMM, UTC, GMT, JST, KST; none: UTC)."""
    if not zone or zone.upper() in ("Z", "UTC", "GMT"):
        return UTC
    if zone.lower() in _ZONES:
        return timezone(timedelta(minutes=_ZONES[zone.lower()]))
    digits = zone[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:] or 0)
    return timezone(timedelta(minutes=-minutes if zone[0] == "-" else minutes))


def read_plain(raw: str) -> datetime | None:
    """``raw`` when it is one of the plain shapes read here (a year first with any
    separator, a Korean, Japanese or Chinese 12-hour time, basic ISO 8601, a Unix
    timestamp), in UTC; else None."""
    try:
        if found := _MERIDIEM.match(raw):
            year, month, day, word, hour, minute, second, zone = found.groups()
            added, home = _MERIDIEMS[word]
            return datetime(int(year), int(month), int(day), int(hour) % 12 + added,
                            int(minute), int(second or 0),
                            tzinfo=_offset(zone) if zone else timezone(timedelta(hours=home))
                            ).astimezone(UTC)
        if found := _YEAR_FIRST.match(raw):
            year, month, day, hour, minute, second, zone = found.groups()
            if zone is None and ("年" in raw or "년" in raw):
                # East Asian time, unsaid: Japan's and Korea's +09:00 (China's +08:00 read
                # so is an hour old; read as UTC, 8 or 9 hours ahead, it was no date at all).
                zone = "JST"
            return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                            int(second or 0), tzinfo=_offset(zone)).astimezone(UTC)
        if found := _BASIC_ISO.match(raw):
            year, month, day, hour, minute, second, zone = found.groups()
            return datetime(int(year), int(month), int(day), int(hour), int(minute),
                            int(second or 0), tzinfo=_offset(zone)).astimezone(UTC)
        if found := _UNIX.match(raw):
            number = int(found.group(1))
            return datetime.fromtimestamp(number / 1000 if number > 10**11 else number, UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def day_first(raws: list[str], language: str | None, now: datetime | None = None) -> bool:
    """Whether a feed writes its numeric dates (_NUMERIC) day first: as one of them shows
    (a first number above 12: day first; a second: month first), else as dotted dates
    always are, else month first with a 12-hour time or in American English (the feed's
    language, en-US); in English that says no country ("en": American feeds say so too), as
    the reading that makes the feed news of now (none ahead of ``now``, the newest nearest
    to it); else day first (as most of the world writes them), unless the feed says no
    language and month first alone makes its newest item news of the last RECENT (a feed
    without <language>, American: yesterday's article, read day first, was seven months old,
    never alerted)."""
    dotted = twelve_hour = False
    numeric: list[tuple[int, int, int]] = []
    for raw in raws:
        if found := _NUMERIC.match(raw):
            first, second = int(found.group(1)), int(found.group(3))
            if first > 12 >= second:
                return True
            if second > 12 >= first:
                return False
            dotted = dotted or found.group(2) == "."
            twelve_hour = twelve_hour or bool(_TWELVE_HOUR.search(raw))
            year = int(found.group(4))
            numeric.append((first, second, year + 2000 if year < 100 else year))
    tag = (language or "").strip().lower().replace("_", "-")
    if dotted:
        return True
    if twelve_hour or tag in ("en-us", "us"):
        return False
    if tag == "en" and numeric:
        return _reading(numeric, now, True) <= _reading(numeric, now, False)
    if not tag and numeric:
        return not (_recent(_reading(numeric, now, False))
                    and not _recent(_reading(numeric, now, True)))
    return True


#: How old a feed's newest item may be for a reading of its numeric dates to make it news.
RECENT = timedelta(days=7)


def _reading(numeric: list[tuple[int, int, int]], now: datetime | None,
             day_first: bool) -> tuple[int, float]:
    """How likely a news feed's the day-first (or month-first) reading of ``numeric``
    (first, second, year) dates is, the lower the likelier: how many of them it puts ahead
    of ``now`` (default: the clock's), then the seconds its newest is older than ``now``."""
    now = now or datetime.now(UTC)
    ahead, newest = 0, None
    for first, second, year in numeric:
        day, month = (first, second) if day_first else (second, first)
        try:
            when = datetime(year, month, day, tzinfo=UTC)
        except ValueError:
            continue
        if when > now + timedelta(days=1):
            ahead += 1
        elif newest is None or when > newest:
            newest = when
    return ahead, (now - newest).total_seconds() if newest else float("inf")


def _recent(score: tuple[int, float]) -> bool:
    """Whether a reading scored so (_reading) puts no date ahead and its newest in RECENT."""
    return score[0] == 0 and score[1] <= RECENT.total_seconds()


#: Strings read so far, and what they gave (a feed's polls repeat its items' dates).
_READ: dict[tuple[str, bool], datetime | None] = {}
_READ_MAX = 8192


def _impossible(raw: str) -> bool:
    """Whether ``raw`` is an English date of a day or time no calendar has (31 November, 30
    February, 25:00; day or month first): dateparser tried every language on it, up to 2 s of CPU,
    the feed's whole DATE_BUDGET, and the feed's other dates it had to read ("10:00 CEST")
    were taken as feedparser read them (as UTC: 2 hours ahead) or not at all."""
    if found := _RFC822.match(raw):
        day, name, year, hour, minute, second = found.groups()
    elif found := _RFC822_MONTH_FIRST.match(raw):
        name, day, year, hour, minute, second = found.groups()
    else:
        return False
    if (month := _MONTHS.get(name[:3].lower())) is None:
        return False
    try:
        datetime(int(year), month, int(day), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        return True
    return False


def read_date(raw: str, day_first: bool = False) -> datetime | None:
    """``raw`` read by dateparser, in UTC; None when it is no date it can read (or holds
    fewer than two numbers: no date of a feed is written without). ``day_first``: a
    numeric date (_NUMERIC) is read day first."""
    if len(_DIGITS.findall(raw)) < 2 or len(raw) > 100 or _impossible(raw):
        return None
    import dateparser  # a heavy import, for the feeds that need it

    zone = _IANA.search(raw)
    if zone is not None:
        try:
            tz = ZoneInfo(zone.group(1))
        except (ZoneInfoNotFoundError, ValueError):
            tz = None
        if tz is not None:
            local: datetime | None = dateparser.parse(raw[: zone.start()], settings=_LOCAL)
            if local is None:
                return None
            return local.replace(tzinfo=tz).astimezone(UTC)
    # India's IST (+05:30: the Times of India's feeds), which dateparser takes for Israel's;
    # written after the year, where dateparser reads an offset.
    raw = _IST.sub(r"\1 +0530", raw)
    settings = _SETTINGS
    if _NUMERIC.match(raw):
        settings = {**_SETTINGS, "DATE_ORDER": "DMY" if day_first else "MDY"}
    found: datetime | None = dateparser.parse(raw, settings=settings)
    return found.astimezone(UTC) if found is not None else None


class DateReader:
    """:func:`read_date` within one feed's budget (DATE_BUDGET seconds of CPU); a string
    read before (by any feed) costs nothing."""

    def __init__(self, budget: float = DATE_BUDGET, day_first: bool = False) -> None:
        self.budget = budget
        self.spent = 0.0
        self.day_first = day_first  # the feed's numeric dates: see day_first()

    def read(self, raw: str) -> datetime | None:
        """``raw`` read, or None (unread, or the budget spent)."""
        if (plain := read_plain(raw)) is not None:
            return plain
        key = (raw, self.day_first)
        if key in _READ:
            return _READ[key]
        if self.spent >= self.budget:
            return None
        start = time.process_time()
        try:
            found = read_date(raw, self.day_first)
        except (ValueError, OverflowError, OSError):  # a date beyond what Python holds
            found = None
        finally:
            self.spent += time.process_time() - start
        if len(_READ) >= _READ_MAX:
            _READ.clear()
        _READ[key] = found
        return found


def not_ahead(when: datetime | None, now: datetime) -> datetime | None:
    """``when``, unless it is ahead of ``now`` (by more than a clock's drift)."""
    return when if when is None or when <= now + CLOCK_DRIFT else None
