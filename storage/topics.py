"""Topics, their matches, and the watermark of matched articles."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from .models import Email, Match, Topic, TopicSpec, to_iso

WATERMARK_KEY = "matched_through_article"


def _topic(row: dict[str, Any]) -> Topic:
    return Topic(
        id=row["id"],
        name=row["name"],
        query=row["query"],
        compiled=row["compiled"],
        notify=tuple(json.loads(row["notify"])),
    )


def insert_email(db: Database, email: Email) -> None:
    """Put one email in the outbox (inside the caller's transaction)."""
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
    for article_id, topic_id in email.items:
        db.execute(
            "INSERT OR IGNORE INTO outbox_items VALUES (?, ?, ?)",
            [cursor.lastrowid, article_id, topic_id],
        )


class TopicsMixin:
    """Topic rows, synchronised from the configuration, and the matches they made."""

    db: Database

    def sync_topics(self, specs: Iterable[TopicSpec]) -> list[Topic]:
        """Make the active topics exactly ``specs`` (by name); earlier matches are kept."""
        specs = list(specs)
        with self.db.atomic():
            self.db.execute("UPDATE topics SET active = 0")
            for spec in specs:
                self.db.execute(
                    """
                    INSERT INTO topics (name, query, compiled, notify, active)
                    VALUES (?, ?, ?, ?, 1)
                    ON CONFLICT(name) DO UPDATE SET
                        query = excluded.query, compiled = excluded.compiled,
                        notify = excluded.notify, active = 1
                    """,
                    [spec.name, spec.query, spec.compiled, json.dumps(list(spec.notify))],
                )
        return self.topics()

    def topics(self) -> list[Topic]:
        """The active topics."""
        return [
            _topic(r) for r in self.db.query("SELECT * FROM topics WHERE active = 1 ORDER BY id")
        ]

    def watermark(self) -> int:
        """The id of the last article that has been matched against the topics."""
        row = self.db.execute("SELECT value FROM state WHERE key = ?", [WATERMARK_KEY]).fetchone()
        return int(row[0]) if row else 0

    def record_matches(
        self, matches: Sequence[Match], emails: Sequence[Email], watermark: int, now: datetime
    ) -> None:
        """Write matches, their alert emails and the new watermark in one transaction."""
        with self.db.atomic():
            for m in matches:
                self.db.execute(
                    """
                    INSERT INTO matches (article_id, topic_id, terms, title_spans, text_spans,
                                         alert, matched)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(article_id, topic_id) DO NOTHING
                    """,
                    [
                        m.article_id,
                        m.topic_id,
                        json.dumps(list(m.terms)),
                        json.dumps([list(s) for s in m.title_spans]),
                        json.dumps([list(s) for s in m.text_spans]),
                        int(m.alert),
                        to_iso(now),
                    ],
                )
            for email in emails:
                insert_email(self.db, email)
            self.db.execute(
                """
                INSERT INTO state (key, value) VALUES (?, ?)
                ON CONFLICT(key) DO UPDATE SET value = excluded.value
                """,
                [WATERMARK_KEY, str(watermark)],
            )

    def topic_status(self) -> list[dict[str, Any]]:
        """Every active topic with its match counts, for ``status``."""
        return list(
            self.db.query(
                """
                SELECT t.name, t.query, t.notify,
                       COUNT(m.article_id) AS matches,
                       COALESCE(SUM(m.alert), 0) AS alerted,
                       MAX(m.matched) AS last_match
                FROM topics t LEFT JOIN matches m ON m.topic_id = t.id
                WHERE t.active = 1 GROUP BY t.id ORDER BY t.id
                """
            )
        )
