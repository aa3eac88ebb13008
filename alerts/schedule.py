"""When digests go out: each recipient's digest times in their own time zone, and the storm
limit that folds a burst of immediate alerts into a digest.

A digest *slot* is a configured time of day on a day of the recipient's calendar, as a UTC
instant: every day ("08:00"), or on some days of the week only ("Mon 08:00" once a week,
"Mon-Fri 07:30" on weekdays). Time zones come from :mod:`zoneinfo`, so daylight saving is
followed: "08:00" in Europe/Madrid is 07:00 UTC in winter and 06:00 UTC in summer. A time
that does not exist on the day the clocks go forward (02:30 in Madrid) falls one hour later;
a time that happens twice when they go back counts once, at its first occurrence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: The window storm control counts immediate alerts in, and the longest a folded alert waits.
STORM_WINDOW = timedelta(hours=1)

_SECOND = timedelta(seconds=1)
_TIME = re.compile(r"^\s*(?:([A-Za-z]+)(?:\s*-\s*([A-Za-z]+))?\s+)?(\d{1,2}):(\d{2})\s*$")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_ABBREVIATIONS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
EVERY_DAY = tuple(range(7))


class Time(NamedTuple):
    """A digest time: hour and minute on the recipient's clock, on the days of the week
    ``days`` (0 is Monday; all seven: every day)."""

    hour: int
    minute: int
    days: tuple[int, ...] = EVERY_DAY


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; ValueError with a message for people when unknown.

    OSError too: a region's name alone ("America", "Europe": a folder of the zone files)
    or a name too long for a file name was an "unexpected error", exit code 1, which the
    units in deploy/ restart again and again, not the config error it is."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise ValueError(
            f'unknown time zone {name!r} (use an IANA name such as "America/Caracas" or "UTC")'
        ) from None


def parse_times(value: str | Iterable[str]) -> tuple[Time, ...]:
    """Digest times from ``"08:00,17:00"``, ``"Mon 08:00"``, ``"Mon-Fri 07:30, Sat 10:00"``
    (or a list of such items), sorted, each once."""
    items = value.split(",") if isinstance(value, str) else list(value)
    times: set[Time] = set()
    for item in items:
        match = _TIME.match(item) if isinstance(item, str) else None
        hour, minute = (int(match.group(3)), int(match.group(4))) if match else (-1, -1)
        if not (0 <= hour <= 23 and 0 <= minute <= 59):
            raise ValueError(
                f'{str(item).strip()!r} is not a time of day '
                '(use HH:MM, e.g. "08:00,17:00", or "Mon 08:00" for one day a week)'
            )
        assert match is not None
        days = EVERY_DAY if match.group(1) is None else _days(match.group(1), match.group(2))
        times.add(Time(hour, minute, days))
    if not times:
        raise ValueError('expected at least one time of day, e.g. "08:00"')
    return tuple(sorted(times))


def _day(name: str) -> int:
    """Monday is 0: "Mon", "monday", "Tues" (any start of a day's English name, 2 letters or
    more, that names one day)."""
    folded = name.casefold()
    found = [n for n, day in enumerate(_DAY_NAMES) if len(folded) >= 2 and day.startswith(folded)]
    if len(found) != 1:
        raise ValueError(
            f"{name!r} is not a day of the week (use Mon, Tue, Wed, Thu, Fri, Sat or Sun)"
        )
    return found[0]


def _days(first: str, last: str | None) -> tuple[int, ...]:
    """The days from ``first`` to ``last`` (wrapping past Sunday: "Sat-Mon")."""
    start = _day(first)
    end = start if last is None else _day(last)
    return tuple(sorted((start + n) % 7 for n in range((end - start) % 7 + 1)))


def _format_days(days: tuple[int, ...]) -> str:
    """"" for every day, "Mon", "Mon-Fri", "Sat-Mon"."""
    if len(days) == 7:
        return ""
    starts = [d for d in days if (d - 1) % 7 not in days]
    if len(starts) == 1:
        start = starts[0]
        end = (start + len(days) - 1) % 7
        if end == start:
            return _DAY_ABBREVIATIONS[start] + " "
        return f"{_DAY_ABBREVIATIONS[start]}-{_DAY_ABBREVIATIONS[end]} "
    return "/".join(_DAY_ABBREVIATIONS[d] for d in days) + " "


def format_times(times: Iterable[Time]) -> str:
    """``"08:00, 17:00"``, ``"Mon 08:00"``, ``"Mon-Fri 07:30"``."""
    return ", ".join(f"{_format_days(t.days)}{t.hour:02d}:{t.minute:02d}" for t in times)


@dataclass(frozen=True)
class RecipientPolicy:
    """How one recipient gets digests: at which local times, in which time zone, whether an
    empty digest is sent, and how many immediate alerts an hour before storm control folds
    the rest into a digest (0: never)."""

    timezone: str = "UTC"
    times: tuple[Time, ...] = (Time(8, 0),)
    empty: bool = False
    storm: int = 20

    @property
    def zone(self) -> ZoneInfo:
        """The recipient's time zone."""
        return zone(self.timezone)

    def _slots(self, around: datetime, days: range) -> list[datetime]:
        """The slots (UTC) of the local days ``days`` away from the local day of ``around``."""
        tz = self.zone
        today = around.astimezone(tz).date()
        slots: set[datetime] = set()
        for offset in days:
            day = today + timedelta(days=offset)
            weekday = day.weekday()
            slots.update(
                _instant(day, t.hour, t.minute, tz) for t in self.times if weekday in t.days
            )
        return sorted(slots)

    @property
    def _span(self) -> int:
        """How many days apart two slots can be, at most (and a day for the clock changes)."""
        return 2 if all(len(t.days) == 7 for t in self.times) else 8

    def latest_slot(self, now: datetime) -> datetime:
        """The last digest time at or before ``now`` (UTC)."""
        return max(s for s in self._slots(now, range(-self._span, 1)) if s <= now)

    def next_slot(self, now: datetime) -> datetime:
        """The first digest time after ``now`` (UTC)."""
        return min(s for s in self._slots(now, range(0, self._span + 1)) if s > now)

    def local(self, when: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
        """``when`` on the recipient's clock, with the zone's abbreviation: '2026-11-26 08:00
        -04', or with ``fmt="%H:%M"`` '08:00 -04'."""
        local = when.astimezone(self.zone)
        return f"{local.strftime(fmt)} {local.tzname()}"

    def describe(self) -> str:
        """The schedule in words: '08:00, 17:00 America/Caracas'."""
        return f"{format_times(self.times)} {self.timezone}"


def _instant(day: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on ``day`` in ``tz`` (fold 0: see the module)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class RecipientPolicies:
    """The default policy (``[alerts]``) and per-recipient ones (``[[recipients]]``)."""

    default: RecipientPolicy = field(default_factory=RecipientPolicy)
    overrides: tuple[tuple[str, RecipientPolicy], ...] = ()

    def of(self, recipient: str) -> RecipientPolicy:
        """The policy of ``recipient`` (addresses compared without regard to case)."""
        wanted = recipient.strip().casefold()
        for address, policy in self.overrides:
            if address.casefold() == wanted:
                return policy
        return self.default


@dataclass(frozen=True)
class DigestPlan:
    """What a recipient's digest queue calls for at some instant."""

    kind: Literal["slot", "storm"] | None  # a digest time has come; folded alerts are due
    slot: datetime  # the latest digest time at that instant (what "handled" becomes)
    since: datetime  # the last digest time dealt with (derived when none is recorded)
    next: datetime  # when the next digest goes out if nothing else happens


def plan(
    policy: RecipientPolicy,
    now: datetime,
    handled: datetime | None,
    oldest: datetime | None,
    oldest_storm: datetime | None,
) -> DigestPlan:
    """Whether a digest is due for a recipient at ``now``.

    ``handled`` is the last digest time already dealt with (None: never); ``oldest`` the
    queue time of the oldest waiting item and ``oldest_storm`` that of the oldest item
    storm control folded. A digest time after ``handled`` and after the oldest item was
    queued makes a full digest, once however many times were missed;
    folded items otherwise go out when their hour is over, unless a digest time comes first.
    """
    slot = policy.latest_slot(now)
    since = handled
    if oldest is not None:
        # An item queued at the very instant of a digest time belongs to that digest; a
        # digest time before the oldest item has nothing to send (however long ago the last
        # one dealt with was: the folded alerts of a storm days later wait for their hour).
        first = policy.latest_slot(oldest - _SECOND)
        since = first if since is None else max(since, first)
    elif since is None:
        since = slot
    if slot > since:
        return DigestPlan("slot", slot, since, slot)
    # A digest time dealt with lies ahead of now when the clock was set back (before the
    # daemon, or a crawl, brings it back): the next digest is the first time after it.
    nxt = policy.next_slot(max(now, since))
    if oldest_storm is not None:
        storm_due = oldest_storm + STORM_WINDOW
        if storm_due <= now:
            return DigestPlan("storm", slot, since, storm_due)
        nxt = min(nxt, storm_due)
    return DigestPlan(None, slot, since, nxt)
