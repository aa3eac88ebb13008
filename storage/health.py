"""Source health: which sources the operator should hear about, and recording that they did."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from .clock import from_iso, to_iso
from .models import Email
from .outbox import insert_email
from .views import SourceHealth, is_stale


def _health(row: dict[str, Any]) -> SourceHealth:
    return SourceHealth(
        id=row["id"],
        url=row["url"],
        name=row["name"],
        last_error=row["last_error"],
        last_status=row["last_status"],
        consecutive_failures=row["consecutive_failures"],
        failing_since=from_iso(row["failing_since"]),
        last_success=from_iso(row["last_success"]),
        deactivated=row["deactivated"],
        fetch_url=row["fetch_url"],
        last_new=from_iso(row["last_new"]),
    )


def _stale(row: dict[str, Any]) -> bool:
    """Whether ``row``'s source is stale (is_stale), as its report and its recovery say."""
    return is_stale(bool(row["active"]), from_iso(row["last_success"]),
                    from_iso(row["last_new"]), from_iso(row["created"]))


#: How a source's report is remembered (``sources.health_alerted``): the time it was
#: reported, after "logged " when no operator was told (only the log said it), "gone "
#: when it was reported gone (deactivated) and "stale " when it was reported stale (its
#: polls succeed, but bring no new article: is_stale).
LOGGED, GONE, STALE = "logged ", "gone ", "stale "


class HealthMixin:
    """Failing-for-long, stale, recovered and deactivated sources, each reported once (and
    again to an operator configured after it was only logged)."""

    db: Database

    def health_changes(
        self, now: datetime, failing_for: timedelta, *, mailed: bool = True
    ) -> tuple[list[SourceHealth], list[SourceHealth]]:
        """Sources to report as failing (for longer than ``failing_for``, or gone: a source
        reported failing is reported again once gone; or stale, polled fine without a new
        article for STALE_AFTER: a source reported stale is reported again once failing)
        and as recovered (reported failing or stale earlier, polled fine since, and bringing
        news again). ``mailed``: an operator hears of them, and of those only logged before;
        a recovered source whose report was only logged is ``told`` False."""
        columns = """id, url, name, last_error, last_status, consecutive_failures,
                     failing_since, last_success, deactivated, fetch_url, health_alerted,
                     active, last_new, created"""
        unheard = f"(? AND health_alerted LIKE '{LOGGED}%')"
        failing = [
            _health(r)
            for r in self.db.query(
                f"""
                SELECT {columns} FROM sources
                WHERE (active = 1 AND failing_since IS NOT NULL AND failing_since <= ?
                       AND (health_alerted IS NULL OR health_alerted LIKE '%{STALE}%'
                            OR {unheard}))
                   OR (deactivated IS NOT NULL
                       AND (health_alerted IS NULL OR health_alerted NOT LIKE '%{GONE}%'
                            OR {unheard}))
                ORDER BY id
                """,
                [to_iso(now - failing_for), mailed, mailed],
            )
        ]
        # Stale as `status` says it (is_stale), of the sources polled fine and not reported.
        failing += [
            replace(_health(r), stale=True)
            for r in self.db.query(
                f"""
                SELECT {columns} FROM sources
                WHERE active = 1 AND deactivated IS NULL AND consecutive_failures = 0
                  AND last_success IS NOT NULL
                  AND (health_alerted IS NULL
                       OR (? AND health_alerted LIKE '{LOGGED}{STALE}%'))
                ORDER BY id
                """,
                [mailed],
            )
            if _stale(r)
        ]
        recovered = [
            replace(_health(r), told=not (mailed and r["health_alerted"].startswith(LOGGED)))
            for r in self.db.query(
                f"""
                SELECT {columns} FROM sources
                WHERE health_alerted IS NOT NULL AND active = 1 AND failing_since IS NULL
                  AND deactivated IS NULL
                ORDER BY id
                """
            )
            # Reported stale: recovered once it brings news again.
            if STALE not in r["health_alerted"] or not _stale(r)
        ]
        return failing, recovered

    def record_health(
        self,
        emails: Sequence[Email],
        failing: Sequence[SourceHealth],
        recovered_ids: Sequence[int],
        now: datetime,
    ) -> None:
        """Queue the health emails and remember who was reported, in one transaction (as
        only logged when there is no email)."""
        how = "" if emails else LOGGED
        with self.db.atomic():
            for email in emails:
                insert_email(self.db, email)
            for row in failing:
                what = GONE if row.deactivated else STALE if row.stale else ""
                self.db.execute(
                    "UPDATE sources SET health_alerted = ? WHERE id = ?",
                    [f"{how}{what}{to_iso(now)}", row.id],
                )
            for source_id in recovered_ids:
                self.db.execute(
                    "UPDATE sources SET health_alerted = NULL WHERE id = ?", [source_id]
                )
