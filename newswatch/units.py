"""Parsing the human units of the config file: durations ("10m") and sizes ("10MB")."""

from __future__ import annotations

import re

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)", re.IGNORECASE)
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$", re.IGNORECASE)
_BYTES = {
    "b": 1,
    "kb": 1000,
    "kib": 1024,
    "mb": 1000**2,
    "mib": 1024**2,
    "gb": 1000**3,
    "gib": 1024**3,
}


class OutOfRange(ValueError):
    """A duration written as one, but zero or longer than newswatch takes ("0s", "99999d")."""


def parse_duration(value: object, *, allow_zero: bool = False) -> float:
    """Seconds in a duration such as ``"90s"``, ``"10m"``, ``"1h30m"`` or ``"2d"``; raises
    ValueError with a message for the user (OutOfRange for a zero or a duration over 100
    years: a command that also takes a date says that, not "neither"). A bare number is
    refused, but a zero where one is allowed: ``lookback = 48`` (hours, its writer
    thought) read as seconds alerted nothing."""
    if isinstance(value, bool):
        raise ValueError('expected a duration such as "10m"')
    if isinstance(value, int | float):
        if value == 0 and allow_zero:
            return 0.0
        if value < 0 or value == 0:
            raise OutOfRange("must be positive")
        _bounded(float(value))
        raise ValueError(
            f'{value!r} has no unit: write it with one, e.g. "{value}s", "{value}m" or '
            f'"{value}h" (ms, s, m, h, d or w)'
        )
    if not isinstance(value, str):
        raise ValueError('expected a duration such as "10m"')
    text = value.strip().replace(" ", "")
    pos, total = 0, 0.0
    for part in _DURATION.finditer(text):
        if part.start() != pos:
            break
        if part.group(2) == "M":  # keep = "6M", six months to its writer, pruned in minutes
            raise ValueError(
                f"{value!r}: M is not a unit of durations (m: minutes; a month: 30d)")
        total += float(part.group(1)) * _SECONDS[part.group(2).lower()]
        pos = part.end()
    if not text or pos != len(text):
        raise ValueError(
            f"{value!r} is not a duration (use a number with ms, s, m, h, d or w, "
            'e.g. "10m", "1h30m")'
        )
    if total == 0 and not allow_zero:
        raise OutOfRange("must be positive")
    return _bounded(total)


#: The longest duration taken: 100 years (a longer one overflowed the dates it is added to,
#: a traceback at every poll or tick).
MAX_DURATION_SECONDS = 36_500 * 86_400


def _bounded(seconds: float) -> float:
    if not seconds <= MAX_DURATION_SECONDS:  # NaN and infinity too
        raise OutOfRange("must be at most 100 years (36500d)")
    return seconds


def parse_size(value: object) -> int:
    """Bytes in a size such as ``"10MB"``, ``"512KiB"`` or a number of bytes."""
    if isinstance(value, bool):
        raise ValueError('expected a size such as "10MB"')
    if isinstance(value, int):
        number, unit = float(value), "b"
    elif isinstance(value, str) and (m := _SIZE.match(value)):
        number, unit = float(m.group(1)), (m.group(2) or "b").lower()
    else:
        raise ValueError(f'{value!r} is not a size (e.g. "10MB", "512KiB")')
    size = int(number * _BYTES[unit])
    if size <= 0:
        raise ValueError("must be positive")
    return size


def format_duration(seconds: int) -> str:
    """``5400`` → ``"1h30m"``: an interval the way the config file writes one."""
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
