"""The sources table: what to poll, when, and how each poll went."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from .models import FetchOutcome, Source, SourceSpec, from_iso, to_iso


def _source(row: dict[str, Any]) -> Source:
    return Source(
        id=row["id"],
        url=row["url"],
        name=row["name"],
        every_seconds=row["every_seconds"],
        active=bool(row["active"]),
        etag=row["etag"],
        last_modified=row["last_modified"],
        next_due=from_iso(row["next_due"]),
        consecutive_failures=row["consecutive_failures"],
    )


class SourcesMixin:
    """Source rows: synchronised from the configuration, updated after every poll."""

    db: Database

    def sync_sources(self, specs: Iterable[SourceSpec], now: datetime) -> list[Source]:
        """Make the active sources exactly ``specs``: add new ones, update, deactivate the rest."""
        specs = list(specs)
        with self.db.atomic():
            wanted = {spec.url for spec in specs}
            for spec in specs:
                self.db.execute(
                    """
                    INSERT INTO sources (url, name, every_seconds, active, created)
                    VALUES (?, ?, ?, 1, ?)
                    ON CONFLICT(url) DO UPDATE SET
                        name = COALESCE(excluded.name, sources.name),
                        every_seconds = excluded.every_seconds,
                        active = 1
                    """,
                    [spec.url, spec.name, spec.every_seconds, to_iso(now)],
                )
            for row in self.db.query("SELECT id, url FROM sources WHERE active = 1"):
                if row["url"] not in wanted:
                    self.db.execute("UPDATE sources SET active = 0 WHERE id = ?", [row["id"]])
        return self.sources()

    def sources(self, *, active_only: bool = True) -> list[Source]:
        """Stored sources, in the order they were added."""
        where = "WHERE active = 1" if active_only else ""
        return [_source(r) for r in self.db.query(f"SELECT * FROM sources {where} ORDER BY id")]

    def source(self, source_id: int) -> Source:
        """One source by id."""
        rows = list(self.db.query("SELECT * FROM sources WHERE id = ?", [source_id]))
        if not rows:
            raise KeyError(source_id)
        return _source(rows[0])

    def due_sources(self, now: datetime) -> list[Source]:
        """Active sources whose next poll is due at ``now``, most overdue first."""
        rows = self.db.query(
            """
            SELECT * FROM sources
            WHERE active = 1 AND (next_due IS NULL OR next_due <= ?)
            ORDER BY COALESCE(next_due, ''), id
            """,
            [to_iso(now)],
        )
        return [_source(r) for r in rows]

    def record_fetch(self, source_id: int, outcome: FetchOutcome, now: datetime) -> None:
        """Record how a poll went: validators, status, error counters and the next due time."""
        stamp = to_iso(now)
        with self.db.atomic():
            if outcome.ok:
                self.db.execute(
                    """
                    UPDATE sources SET
                        last_fetch = ?, last_success = ?, last_status = ?, last_error = NULL,
                        consecutive_failures = 0, next_due = ?,
                        etag = CASE WHEN ? THEN etag ELSE ? END,
                        last_modified = CASE WHEN ? THEN last_modified ELSE ? END,
                        name = COALESCE(name, ?)
                    WHERE id = ?
                    """,
                    [
                        stamp,
                        stamp,
                        outcome.status,
                        to_iso(outcome.next_due),
                        outcome.not_modified,
                        outcome.etag,
                        outcome.not_modified,
                        outcome.last_modified,
                        outcome.title,
                        source_id,
                    ],
                )
            else:
                self.db.execute(
                    """
                    UPDATE sources SET
                        last_fetch = ?, last_status = ?, last_error = ?,
                        error_count = error_count + 1,
                        consecutive_failures = consecutive_failures + 1,
                        next_due = ?
                    WHERE id = ?
                    """,
                    [stamp, outcome.status, outcome.error, to_iso(outcome.next_due), source_id],
                )

    def source_status(self) -> list[dict[str, Any]]:
        """Every active source with its health and article count, for ``status``."""
        return list(
            self.db.query(
                """
                SELECT s.id, s.url, s.name, s.last_fetch, s.last_success, s.last_status,
                       s.last_error, s.error_count, s.consecutive_failures, s.next_due,
                       (SELECT COUNT(*) FROM articles a WHERE a.source_id = s.id) AS articles
                FROM sources s WHERE s.active = 1 ORDER BY s.id
                """
            )
        )
