"""When digests go out: each recipient's digest times in their own time zone, and the storm
limit that folds a burst of immediate alerts into a digest.

A digest *slot* is a configured time of day on a day of the recipient's calendar, as a UTC
instant. Time zones come from :mod:`zoneinfo`, so daylight saving is followed: "08:00" in
Europe/Madrid is 07:00 UTC in winter and 06:00 UTC in summer. A time that does not exist on
the day the clocks go forward (02:30 in Madrid) falls one hour later; a time that happens
twice when they go back counts once, at its first occurrence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: The window storm control counts immediate alerts in, and the longest a folded alert waits.
STORM_WINDOW = timedelta(hours=1)

_SECOND = timedelta(seconds=1)
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")

Time = tuple[int, int]  # (hour, minute)


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; ValueError with a message for people when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(
            f'unknown time zone {name!r} (use an IANA name such as "America/Caracas" or "UTC")'
        ) from None


def parse_times(value: str | Iterable[str]) -> tuple[Time, ...]:
    """Times of day from ``"08:00,17:00"`` (or a list of "HH:MM"), sorted, each once."""
    items = value.split(",") if isinstance(value, str) else list(value)
    times: set[Time] = set()
    for item in items:
        match = _TIME.match(item) if isinstance(item, str) else None
        hour, minute = (int(match.group(1)), int(match.group(2))) if match else (-1, -1)
        if not (0 <= hour <= 23 and 0 <= minute <= 59):
            raise ValueError(
                f'{str(item).strip()!r} is not a time of day (use HH:MM, e.g. "08:00,17:00")'
            )
        times.add((hour, minute))
    if not times:
        raise ValueError('expected at least one time of day, e.g. "08:00"')
    return tuple(sorted(times))


def format_times(times: Iterable[Time]) -> str:
    """``"08:00, 17:00"``."""
    return ", ".join(f"{h:02d}:{m:02d}" for h, m in times)


@dataclass(frozen=True)
class RecipientPolicy:
    """How one recipient gets digests: at which local times, in which time zone, whether an
    empty digest is sent, and how many immediate alerts an hour before storm control folds
    the rest into a digest (0: never)."""

    timezone: str = "UTC"
    times: tuple[Time, ...] = ((8, 0),)
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
        slots = {
            _instant(today + timedelta(days=offset), hour, minute, tz)
            for offset in days
            for hour, minute in self.times
        }
        return sorted(slots)

    def latest_slot(self, now: datetime) -> datetime:
        """The last digest time at or before ``now`` (UTC)."""
        return max(s for s in self._slots(now, range(-2, 1)) if s <= now)

    def next_slot(self, now: datetime) -> datetime:
        """The first digest time after ``now`` (UTC)."""
        return min(s for s in self._slots(now, range(0, 3)) if s > now)

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
    nxt = policy.next_slot(now)
    if oldest_storm is not None:
        storm_due = oldest_storm + STORM_WINDOW
        if storm_due <= now:
            return DigestPlan("storm", slot, since, storm_due)
        nxt = min(nxt, storm_due)
    return DigestPlan(None, slot, since, nxt)
