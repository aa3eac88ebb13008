"""The outbox: alert emails waiting for delivery, and what happened to each.

Every write to the outbox tables is here: :func:`insert_email` (called inside the
transactions of ``record_matches``, ``record_digest`` and ``record_health``, so that an alert
and what it reports are written together), the delivery marks of :class:`OutboxMixin`, and
:func:`prune_bodies` (retention).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlite_utils import Database

from .clock import from_iso, to_iso
from .models import Email, OutboxMessage
from .views import OutboxProblem


def _message(row: dict[str, Any]) -> OutboxMessage:
    created = from_iso(row["created"])
    assert created is not None
    return OutboxMessage(
        id=row["id"],
        message_id=row["message_id"],
        recipient=row["recipient"],
        subject=row["subject"],
        text=row["body_text"],
        html=row["body_html"],
        created=created,
        attempts=row["attempts"],
    )


def insert_email(db: Database, email: Email) -> int:
    """Put one email in the outbox (inside the caller's transaction); returns its row id."""
    cursor = db.execute(
        """
        INSERT INTO outbox (message_id, recipient, subject, body_text, body_html,
                            next_attempt, created)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        """,
        [
            email.message_id,
            email.recipient,
            email.subject,
            email.text,
            email.html,
            to_iso(email.created),
            to_iso(email.created),
        ],
    )
    outbox_id = cursor.lastrowid
    assert outbox_id is not None
    for article_id, topic_id in email.items:
        db.execute(
            "INSERT OR IGNORE INTO outbox_items VALUES (?, ?, ?)",
            [outbox_id, article_id, topic_id],
        )
    return outbox_id


def prune_bodies(db: Database, before: datetime) -> None:
    """Drop the bodies of messages sent before ``before`` (inside the caller's transaction):
    the rows stay, so "already alerted" and storm counts are kept."""
    db.execute(
        """
        UPDATE outbox SET body_text = '', body_html = ''
        WHERE status = 'sent' AND sent < ? AND body_text != ''
        """,
        [to_iso(before)],
    )


class OutboxMixin:
    """Outbox rows move pending → sent, or pending → failed on a permanent refusal."""

    db: Database

    def due_outbox(self, now: datetime, limit: int = 100) -> list[OutboxMessage]:
        """Pending messages whose next attempt is due, oldest first."""
        rows = self.db.query(
            """
            SELECT * FROM outbox WHERE status = 'pending' AND next_attempt <= ?
            ORDER BY id LIMIT ?
            """,
            [to_iso(now), limit],
        )
        return [_message(r) for r in rows]

    def sending(self, outbox_id: int) -> None:
        """The message is about to be handed over: nothing to note in one process (the
        PostgreSQL store notes it for the other senders)."""

    def mark_sent(self, outbox_id: int, now: datetime) -> None:
        """The message was accepted by the mail server (or written to the mbox)."""
        self.db.execute(
            """
            UPDATE outbox SET status = 'sent', sent = ?, attempts = attempts + 1,
                              last_error = NULL
            WHERE id = ?
            """,
            [to_iso(now), outbox_id],
        )

    def mark_retry(self, outbox_id: int, error: str, next_attempt: datetime) -> None:
        """Delivery failed for a reason that may pass: try again at ``next_attempt``."""
        self.db.execute(
            """
            UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt = ?
            WHERE id = ? AND status = 'pending'
            """,
            [error, to_iso(next_attempt), outbox_id],
        )

    def mark_failed(self, outbox_id: int, error: str) -> None:
        """The mail server refused the message for good: keep it, visibly failed."""
        self.db.execute(
            """
            UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?
            WHERE id = ?
            """,
            [error, outbox_id],
        )

    def outbox_counts(self) -> dict[str, int]:
        """How many messages are pending, sent and failed."""
        counts = {"pending": 0, "sent": 0, "failed": 0}
        for row in self.db.query("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status"):
            counts[row["status"]] = row["n"]
        return counts

    def outbox_problems(self, limit: int = 10) -> list[OutboxProblem]:
        """Pending messages that have failed at least once, and failed ones, with the error."""
        rows = self.db.query(
            """
            SELECT id, recipient, subject, status, attempts, last_error, next_attempt
            FROM outbox WHERE last_error IS NOT NULL AND status != 'sent'
            ORDER BY id LIMIT ?
            """,
            [limit],
        )
        return [
            OutboxProblem(
                id=r["id"],
                recipient=r["recipient"],
                subject=r["subject"],
                status=r["status"],
                attempts=r["attempts"],
                last_error=r["last_error"],
                next_attempt=from_iso(r["next_attempt"]),
            )
            for r in rows
        ]
