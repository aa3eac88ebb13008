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
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: Seconds of dateparser a feed may take in one poll.
DATE_BUDGET = 1.0

#: The zone names feedparser's RFC 822 reader knows (feedparser.datetimes.rfc822), and the
#: military letters.
_KNOWN_ZONES = frozenset((
    "ut", "utc", "gmt", "z", "adt", "ast", "at", "edt", "est", "et", "cdt", "cst", "ct",
    "mdt", "mst", "mt", "pdt", "pst", "pt", *"abcdefghiklmnopqrstuvwxyz",
))
_TRAILING_WORD = re.compile(r"([A-Za-z]+)\s*(?:[+-]\d{1,4})?\s*$")
_TWELVE_HOUR = re.compile(r"\d\s*[AaPp]\.?[Mm]\b\.?")
_IANA = re.compile(r"\s([A-Z][A-Za-z_]+(?:/[A-Za-z_+\-0-9]+){1,2})\s*$")
_DIGITS = re.compile(r"\d+")

_SETTINGS = {"RETURN_AS_TIMEZONE_AWARE": True, "TO_TIMEZONE": "UTC", "PREFER_DATES_FROM": "past"}
_LOCAL = {"RETURN_AS_TIMEZONE_AWARE": False, "PREFER_DATES_FROM": "past"}


def misread(raw: str) -> bool:
    """Whether feedparser reads ``raw`` wrong although it reads a date from it: a 12-hour
    time, or a zone named in words it does not know (it takes UTC)."""
    if _TWELVE_HOUR.search(raw) or _IANA.search(raw):
        return True
    word = _TRAILING_WORD.search(raw)
    return word is not None and word.group(1).lower() not in _KNOWN_ZONES


#: Strings read so far, and what they gave (a feed's polls repeat its items' dates).
_READ: dict[str, datetime | None] = {}
_READ_MAX = 8192


def read_date(raw: str) -> datetime | None:
    """``raw`` read by dateparser, in UTC; None when it is no date it can read (or holds
    fewer than two numbers: no date of a feed is written without)."""
    if len(_DIGITS.findall(raw)) < 2 or len(raw) > 100:
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
    found: datetime | None = dateparser.parse(raw, settings=_SETTINGS)
    return found.astimezone(UTC) if found is not None else None


class DateReader:
    """:func:`read_date` within one feed's budget (DATE_BUDGET seconds of CPU); a string
    read before (by any feed) costs nothing."""

    def __init__(self, budget: float = DATE_BUDGET) -> None:
        self.budget = budget
        self.spent = 0.0

    def read(self, raw: str) -> datetime | None:
        """``raw`` read, or None (unread, or the budget spent)."""
        if raw in _READ:
            return _READ[raw]
        if self.spent >= self.budget:
            return None
        start = time.process_time()
        try:
            found = read_date(raw)
        finally:
            self.spent += time.process_time() - start
        if len(_READ) >= _READ_MAX:
            _READ.clear()
        _READ[raw] = found
        return found
