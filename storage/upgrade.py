"""What an upgrade of a database's schema says as it goes (both backends).

The daemon migrates its database before it does anything else, under the migration lock:
a year's archive (400,000 articles) upgraded from schema 39 to 44 took 9 s on SQLite and
24-42 s on PostgreSQL without a word in the log, the daemon looking hung (and stopped as
such: the next start began again at the version cut off). A new database, its schema made
at once on no rows, says nothing.
"""

from __future__ import annotations

import logging
import time

logger = logging.getLogger(__name__)


class UpgradeLog:
    """The log lines of one database's upgrade from schema ``version`` to ``total``: one as
    it begins, one as each version is done (each is committed on its own: a stop keeps the
    versions done, and the next start goes on from there)."""

    def __init__(self, where: str, version: int, total: int) -> None:
        self.where = where
        self.total = total
        self.quiet = version == 0 or version >= total
        self.began = self.step_began = time.monotonic()
        if not self.quiet:
            logger.info(
                "%s: upgrading its schema from version %d to %d before starting (on a large "
                "archive this can take minutes; each version is kept as it is done)",
                where, version, total,
            )

    def done(self, number: int) -> None:
        """Version ``number`` is committed."""
        if self.quiet:
            return
        now = time.monotonic()
        logger.info("%s: schema version %d of %d done (%.1f s)%s", self.where, number,
                    self.total, now - self.step_began,
                    f": upgraded in {now - self.began:.1f} s" if number == self.total else "")
        self.step_began = now
