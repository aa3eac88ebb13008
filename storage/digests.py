"""The digest queue: alerts waiting for a recipient's digest, and when each recipient's digest
was last handled.

Nothing is lost and nothing is sent twice: items enter the queue in the transaction that
records their matches (:func:`queue_digest_items`, called by ``record_matches``), and leave
it in the transaction that puts their digest in the outbox (:meth:`DigestsMixin.record_digest`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args

from sqlite_utils import Database

from .clock import from_iso, to_iso
from .errors import StorageError
from .kinds import DigestReason
from .models import Email, Match
from .outbox import insert_email
from .sql import in_chunks
from .views import DigestStatus

REASONS: tuple[DigestReason, ...] = get_args(DigestReason)


@dataclass(frozen=True)
class DigestItem:
    """An alert for a recipient that goes out in a digest rather than on its own."""

    recipient: str
    topic_id: int
    article_id: int
    story_id: int | None
    reason: DigestReason
    id: int | None = None  # set when read back from the queue
    queued: datetime | None = None  # likewise
    edited: bool = False  # an edit in place of the article caused the alert


def queue_digest_items(db: Database, items: Iterable[DigestItem], now: datetime) -> None:
    """Queue ``items`` (inside the caller's transaction); an item already queued stays."""
    for item in items:
        if item.reason not in REASONS:
            raise ValueError(f"unknown digest reason {item.reason!r}")
        db.execute(
            """
            INSERT INTO digest_queue (recipient, topic_id, article_id, story_id, reason, queued,
                                      edited)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(recipient, article_id, topic_id) DO NOTHING
            """,
            [
                item.recipient,
                item.topic_id,
                item.article_id,
                item.story_id,
                item.reason,
                to_iso(now),
                int(item.edited),
            ],
        )


def _item(row: dict[str, Any]) -> DigestItem:
    return DigestItem(
        recipient=row["recipient"],
        topic_id=row["topic_id"],
        article_id=row["article_id"],
        story_id=row["story_id"],
        reason=row["reason"],
        id=row["id"],
        queued=from_iso(row["queued"]),
        edited=bool(row["edited"]),
    )


class DigestsMixin:
    """Queued digest items, the per-recipient digest state, and the storm count."""

    db: Database

    def waiting_digest(self, recipient: str | None = None) -> list[DigestItem]:
        """Items not in any digest yet (of one recipient, or all), oldest first."""
        where, params = "outbox_id IS NULL", []
        if recipient is not None:
            where, params = where + " AND recipient = ?", [recipient]
        rows = self.db.query(f"SELECT * FROM digest_queue WHERE {where} ORDER BY id", params)
        return [_item(r) for r in rows]

    def digest_handled(self) -> dict[str, datetime]:
        """Each recipient's last digest time dealt with (sent, or found with nothing to send)."""
        handled: dict[str, datetime] = {}
        for recipient, value in self.db.execute("SELECT recipient, handled FROM digest_slots"):
            when = from_iso(value)
            assert when is not None
            handled[recipient] = when
        return handled

    def set_digest_handled(self, recipient: str, slot: datetime) -> None:
        """Remember that ``recipient``'s digest up to ``slot`` has been dealt with."""
        with self.db.atomic():
            self._set_handled(recipient, slot)

    def _set_handled(self, recipient: str, slot: datetime) -> None:
        self.db.execute(
            """
            INSERT INTO digest_slots (recipient, handled) VALUES (?, ?)
            ON CONFLICT(recipient) DO UPDATE SET handled = excluded.handled
            """,
            [recipient, to_iso(slot)],
        )

    def record_digest(
        self,
        recipient: str,
        email: Email | None,
        item_ids: Sequence[int],
        handled: datetime | None,
    ) -> None:
        """In one transaction: put ``email`` (the digest of ``item_ids``) in the outbox, mark
        the items as sent in it, and remember the digest time ``handled`` (None: leave it).
        An item already in another digest makes the whole transaction fail."""
        if item_ids and email is None:
            raise ValueError("queued items need a digest email")
        with self.db.atomic():
            outbox_id = None
            if email is not None:
                outbox_id = insert_email(self.db, email)
            for chunk, marks in in_chunks(item_ids):
                cursor = self.db.execute(
                    f"UPDATE digest_queue SET outbox_id = ? "
                    f"WHERE id IN ({marks}) AND outbox_id IS NULL AND recipient = ?",
                    [outbox_id, *chunk, recipient],
                )
                if cursor.rowcount != len(chunk):
                    raise StorageError(f"digest items of {recipient} were already sent")
            if handled is not None:
                self._set_handled(recipient, handled)

    def drop_digest_items(self, item_ids: Sequence[int]) -> None:
        """Take the waiting items ``item_ids`` off the queue (their topic was removed, or no
        longer notifies their reader); an item already in a digest stays."""
        with self.db.atomic():
            for chunk, marks in in_chunks(item_ids):
                self.db.execute(
                    f"DELETE FROM digest_queue WHERE id IN ({marks}) AND outbox_id IS NULL", chunk
                )

    def stored_matches(self, items: Iterable[DigestItem]) -> dict[tuple[int, int], Match]:
        """The recorded match of each item's (article id, topic id), for its highlights:
        without its places while the article waits to be matched again (edited since: they
        may fall on other words)."""
        found: dict[tuple[int, int], Match] = {}
        for key in dict.fromkeys((i.article_id, i.topic_id) for i in items):
            row = self.db.execute(
                "SELECT terms, title_spans, text_spans, alert,"
                " EXISTS (SELECT 1 FROM rematch r WHERE r.article_id = m.article_id)"
                " FROM matches m WHERE article_id = ? AND topic_id = ?",
                list(key),
            ).fetchone()
            if row is not None:
                stale = bool(row[4])
                found[key] = Match(
                    *key,
                    terms=tuple(json.loads(row[0])),
                    alert=bool(row[3]),
                    title_spans=() if stale else tuple((a, b) for a, b in json.loads(row[1])),
                    text_spans=() if stale else tuple((a, b) for a, b in json.loads(row[2])),
                )
        return found

    def topic_names(self, topic_ids: Iterable[int]) -> dict[int, str]:
        """The names of topics by id, inactive ones included."""
        ids = sorted(set(topic_ids))
        names: dict[int, str] = {}
        for chunk, marks in in_chunks(ids):
            for topic_id, name in self.db.execute(
                f"SELECT id, name FROM topics WHERE id IN ({marks})", chunk
            ):
                names[int(topic_id)] = str(name)
        return names

    def recent_alert_counts(self, recipients: Iterable[str], since: datetime) -> dict[str, int]:
        """How many articles each of ``recipients`` was alerted about on their own (in
        immediate alert emails, not digests) since ``since``: what storm control counts."""
        counts = dict.fromkeys(recipients, 0)
        for recipient in counts:
            row = self.db.execute(
                """
                SELECT COUNT(DISTINCT i.article_id)
                FROM outbox o JOIN outbox_items i ON i.outbox_id = o.id
                WHERE o.recipient = ? AND o.created > ?
                  AND NOT EXISTS (SELECT 1 FROM digest_queue d WHERE d.outbox_id = o.id)
                """,
                [recipient, to_iso(since)],
            ).fetchone()
            counts[recipient] = int(row[0])
        return counts

    def digest_status(self) -> list[DigestStatus]:
        """Per recipient with a queue or a digest state: items waiting (all, and folded by
        storm control), the oldest waiting, and the last digest time handled."""
        rows = self.db.query(
            """
            SELECT r.recipient,
                   COUNT(q.id) AS waiting,
                   COALESCE(SUM(q.reason = 'storm'), 0) AS storm,
                   MIN(q.queued) AS oldest,
                   MIN(CASE WHEN q.reason = 'storm' THEN q.queued END) AS oldest_storm,
                   s.handled
            FROM (SELECT recipient FROM digest_queue WHERE outbox_id IS NULL
                  UNION SELECT recipient FROM digest_slots) r
            LEFT JOIN digest_queue q ON q.recipient = r.recipient AND q.outbox_id IS NULL
            LEFT JOIN digest_slots s ON s.recipient = r.recipient
            GROUP BY r.recipient ORDER BY r.recipient
            """
        )
        return [
            DigestStatus(
                recipient=r["recipient"],
                waiting=r["waiting"],
                storm=r["storm"],
                oldest=from_iso(r["oldest"]),
                oldest_storm=from_iso(r["oldest_storm"]),
                handled=from_iso(r["handled"]),
            )
            for r in rows
        ]
