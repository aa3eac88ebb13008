"""When to poll a source next: its interval after a success, back-off after failures."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

MAX_BACKOFF_SECONDS = 6 * 3600


def next_due(
    now: datetime,
    every_seconds: int,
    consecutive_failures: int = 0,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """The next poll time: ``every`` after a success; after failures, exponential back-off
    from ``every`` up to 6 h (never giving up): ``every`` after one (a blip costs one
    interval, not two), twice it after two...; a server's Retry-After is honoured.

    A small jitter (up to 10 % of the interval, at most 60 s) keeps many sources with the
    same interval from being fetched in the same second.
    """
    delay = float(every_seconds)
    if consecutive_failures:
        delay = min(every_seconds * 2 ** min(consecutive_failures - 1, 16), MAX_BACKOFF_SECONDS)
        delay = max(delay, float(every_seconds))
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_BACKOFF_SECONDS))
    jitter = (rng or random).uniform(0, min(delay * 0.1, 60.0))
    return now + timedelta(seconds=delay + jitter)
