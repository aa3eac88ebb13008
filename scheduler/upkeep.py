"""The database's upkeep: what the daemon's hourly housekeeping and ``newswatch prune`` (run
from cron beside ``crawl``, no daemon) both do. One function for both: written twice, the
two drifted apart, and a cron setup's site memory and notification services' waits grew for
ever (only the housekeeping forgot them)."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.ports import Upkeep

#: Each site's memory of text blocks (watchlist.templates) covers its articles of this long
#: (a template stands on every page; older pages only make the table grow).
BLOCK_MEMORY = timedelta(days=90)


def upkeep(store: Upkeep, now: datetime, keep: timedelta, limit: int | None = None) -> int:
    """Prune the text of articles older than ``keep`` (``limit``: of that many at most), forget
    the site memory of articles older than ``keep`` or BLOCK_MEMORY (their text is gone, or
    too old to say what a site repeats) and the notification services' waits that ended by
    ``now``, and checkpoint. Returns how many articles were pruned."""
    pruned = store.prune(now - keep, limit=limit)
    store.forget_blocks(now - min(keep, BLOCK_MEMORY))
    store.forget_holds(now)
    store.checkpoint()
    return pruned
