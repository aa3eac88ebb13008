"""Source health: which sources the operator should hear about, and recording that they did."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from .clock import from_iso, to_iso
from .models import Email
from .outbox import insert_email
from .views import SourceHealth


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
    )


class HealthMixin:
    """Failing-for-long, recovered and deactivated sources, each reported once."""

    db: Database

    def health_changes(
        self, now: datetime, failing_for: timedelta
    ) -> tuple[list[SourceHealth], list[SourceHealth]]:
        """Sources to report as failing (for longer than ``failing_for``, or gone) and as
        recovered (reported failing earlier, polled fine since)."""
        columns = """id, url, name, last_error, last_status, consecutive_failures,
                     failing_since, last_success, deactivated, fetch_url"""
        failing = [
            _health(r)
            for r in self.db.query(
                f"""
                SELECT {columns} FROM sources
                WHERE health_alerted IS NULL AND (
                    (active = 1 AND failing_since IS NOT NULL AND failing_since <= ?)
                    OR deactivated IS NOT NULL)
                ORDER BY id
                """,
                [to_iso(now - failing_for)],
            )
        ]
        recovered = [
            _health(r)
            for r in self.db.query(
                f"""
                SELECT {columns} FROM sources
                WHERE health_alerted IS NOT NULL AND active = 1 AND failing_since IS NULL
                  AND deactivated IS NULL
                ORDER BY id
                """
            )
        ]
        return failing, recovered

    def record_health(
        self,
        emails: Sequence[Email],
        failing_ids: Sequence[int],
        recovered_ids: Sequence[int],
        now: datetime,
    ) -> None:
        """Queue the health emails and remember who was reported, in one transaction."""
        with self.db.atomic():
            for email in emails:
                insert_email(self.db, email)
            for source_id in failing_ids:
                self.db.execute(
                    "UPDATE sources SET health_alerted = ? WHERE id = ?", [to_iso(now), source_id]
                )
            for source_id in recovered_ids:
                self.db.execute(
                    "UPDATE sources SET health_alerted = NULL WHERE id = ?", [source_id]
                )
