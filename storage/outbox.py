"""The outbox: alert emails waiting for delivery, and what happened to each.

Every write to the outbox tables is here: :func:`insert_email` (called inside the
transactions of ``record_matches``, ``record_digest`` and ``record_health``, so that an alert
and what it reports are written together), the delivery marks of :class:`OutboxMixin`, and
:func:`prune_bodies` (retention).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from .clock import from_iso, to_iso
from .journal import SentJournal, SentMark
from .models import Email, OutboxMessage
from .sql import keep_state, state_value
from .views import OutboxProblem, Requeued

logger = logging.getLogger(__name__)

#: The recipients of the outbox rows that go to a notification URL (alerts.channels), not to
#: a mailbox, as a LIKE pattern.
CHANNEL_RECIPIENT = "%://%"
#: The state row of the mail settings the senders last started or reloaded with.
_MAIL_SETTINGS = "mail_settings"
#: The state row of the database's journal identity (OutboxMixin.journal_identity).
_JOURNAL_IDENTITY = "journal_identity"


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
        in_reply_to=row.get("in_reply_to"),
        last_error=row.get("last_error"),
    )


def insert_email(db: Database, email: Email) -> int:
    """Put one email in the outbox (inside the caller's transaction); returns its row id."""
    cursor = db.execute(
        """
        INSERT INTO outbox (message_id, recipient, subject, body_text, body_html,
                            next_attempt, created, in_reply_to)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            email.message_id,
            email.recipient,
            email.subject,
            email.text,
            email.html,
            _due(db, email),
            to_iso(email.created),
            _first_about(db, email) if email.follows else None,
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


def _due(db: Database, email: Email) -> str | None:
    """When ``email`` is first due: at once, unless its notification service asked to be
    left alone until later (:meth:`OutboxMixin.hold_recipient`; emails are never held)."""
    created = to_iso(email.created)
    if "://" not in email.recipient:
        return created
    row = db.execute(
        "SELECT held_until FROM recipient_holds WHERE recipient = ? AND held_until > ?",
        [email.recipient, created],
    ).fetchone()
    return str(row[0]) if row else created


def _first_about(db: Database, email: Email) -> str | None:
    """The Message-ID of the first email that told ``email``'s recipient of one of its
    articles, if any."""
    articles = sorted({article_id for article_id, _ in email.items})
    if not articles:
        return None
    marks = ", ".join("?" * len(articles))
    row = db.execute(
        f"""
        SELECT o.message_id FROM outbox o JOIN outbox_items i ON i.outbox_id = o.id
        WHERE o.recipient = ? AND i.article_id IN ({marks}) ORDER BY o.id LIMIT 1
        """,
        [email.recipient, *articles],
    ).fetchone()
    return str(row[0]) if row else None


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


def one_address(recipient: str) -> str:
    """A recipient in the one spelling topics are read with: an email address in lower
    case, a notification URL as written (its path may tell case)."""
    return recipient if "://" in recipient else recipient.lower()


#: The error of a message not sent because its reader left its topics (not resent).
UNWATCHED = "not sent: its reader no longer watches its topics"


def unwatched(db: Database, watching: Mapping[int, Collection[str]]) -> list[tuple[int, str]]:
    """The pending messages (id, recipient) whose recipient watches none of their topics
    (``watching``: each active topic's recipients, in one spelling): those
    OutboxMixin.drop_unwatched does not send. Messages of no topic are not among them."""
    rows = db.execute(
        """
        SELECT o.id, o.recipient, oi.topic_id
        FROM outbox o JOIN outbox_items oi ON oi.outbox_id = o.id
        WHERE o.status = 'pending'
        """
    ).fetchall()
    topics: dict[tuple[int, str], set[int]] = {}
    for outbox_id, recipient, topic_id in rows:
        topics.setdefault((int(outbox_id), str(recipient)), set()).add(int(topic_id))
    return [
        (outbox_id, recipient) for (outbox_id, recipient), ids in topics.items()
        if not any(one_address(recipient) in watching.get(topic_id, ()) for topic_id in ids)
    ]


class OutboxMixin:
    """Outbox rows move pending → sent, or pending → failed on a permanent refusal.

    A sender's "sent" marks go through its sent journal (:attr:`journal`, storage.journal)
    when it has one: synced there before the database is told, and held until the database
    has them. A mark the database refuses (SQLite's write lock held by another process past
    busy_timeout, a full disk; a PostgreSQL connection lost) is written before anything
    else is handed out (:meth:`due_outbox`), so a message the mail server accepted is never
    sent again, and nothing is sent while the database cannot say what went out."""

    db: Database
    #: The sending process's sent journal; None: the marks go to the database alone.
    journal: SentJournal | None = None
    #: The Message-ID of each row handed out last (a journal mark carries it).
    _handed_out: dict[int, str] | None = None

    def due_outbox(
        self, now: datetime, limit: int = 100, *, channels: bool = False
    ) -> list[OutboxMessage]:
        """Pending messages whose next attempt is due, oldest first (the sent journal's
        marks are written first); ``channels``: the notification URLs' alone (the mail
        server is down)."""
        self._replay_journal()
        rows = self.db.query(
            """
            SELECT * FROM outbox WHERE status = 'pending' AND next_attempt <= ?
              AND recipient LIKE ? ORDER BY id LIMIT ?
            """,
            [to_iso(now), CHANNEL_RECIPIENT if channels else "%", limit],
        )
        return self._handing_out([_message(r) for r in rows])

    def _handing_out(self, messages: list[OutboxMessage]) -> list[OutboxMessage]:
        self._handed_out = {m.id: m.message_id for m in messages}
        return messages

    def sending(self, outbox_id: int) -> bool:
        """The message is about to be handed over: nothing to note in one process (the
        PostgreSQL store notes it for the other senders, and says whether the row is still
        its to send). The sending thread makes the database durable first (:meth:`durable`,
        in alerts.deliver)."""
        return True

    def not_sent(self, outbox_id: int) -> None:
        """A stop ended the send before the message's end, or the run leaves the message
        untried (the mail server down): nothing to undo in one process (the PostgreSQL store
        lets the other senders have it at once)."""

    def durable(self) -> None:
        """Make every commit so far survive a power cut or a crash of the machine (the
        PostgreSQL server does so at each commit). SQLite's write-ahead log, synced only at
        checkpoints (``synchronous = NORMAL``), lost the last second's commits to an error
        that remounted the disk read-only: its articles, stored and mailed again after the
        restart, and the "sent" marks the journal had forgotten."""

    def accepted(self, outbox_id: int, now: datetime) -> None:
        """The mail server has just accepted the message: its mark goes to the sent journal
        (synced) at once, in the thread that sent it, not when the event loop next gets to
        :meth:`mark_sent` (a digest's mark waited 30-90 ms behind a crawl's matching, and a
        kill -9 then sent the digest again). Never raises: the message went."""
        journal = self.journal
        if journal is None:
            return
        mark = SentMark(outbox_id, (self._handed_out or {}).get(outbox_id, ""), now)
        try:
            journal.record(mark)
        except OSError as exc:  # held in memory all the same; the database's mark counts
            logger.error("outbox %d: the sent journal %s cannot be written: %s",
                         outbox_id, journal.path, exc)

    def mark_sent(self, outbox_id: int, now: datetime) -> None:
        """The message was accepted by the mail server (or written to the mbox): the mark
        goes to the sent journal (synced: :meth:`accepted`, unless it was called) before
        the database, and is held until the database has it."""
        journal = self.journal
        if journal is None:
            self._write_sent(outbox_id, now)
            return
        if not journal.holds(outbox_id):
            self.accepted(outbox_id, now)
        self._write_sent(outbox_id, now)
        self.durable()  # before the journal forgets the mark
        journal.flushed([SentMark(outbox_id, "", now)])

    def _write_sent(self, outbox_id: int, now: datetime) -> None:
        self.db.execute(
            """
            UPDATE outbox SET status = 'sent', sent = ?, attempts = attempts + 1,
                              last_error = NULL
            WHERE id = ?
            """,
            [to_iso(now), outbox_id],
        )

    def journal_identity(self) -> str:
        """This database's name in its senders' sent journal files (storage.journal): 64
        random bits, kept from the first sender's start on. Two configs in one directory may
        name two databases and one journal directory; each database's senders replay its
        files alone (another database's marks match none of its rows, and the file, removed
        as replayed, was lost to its own). Kept synced: a file named for an identity the
        database lost would be replayed by no one."""
        with self.db.atomic():  # two senders starting at once keep the first's
            self.db.execute(
                "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                [_JOURNAL_IDENTITY, secrets.token_hex(8)],
            )
        self.durable()
        identity = state_value(self.db, _JOURNAL_IDENTITY)
        assert identity is not None
        return identity

    def _replay_journal(self) -> None:
        """Write the sent journal's marks the database may not have (refused, or lost with
        a connection or a process; a dead sender's of this machine), then forget them. Only
        a pending row with the same Message-ID is marked: a journal of another database
        marks nothing. The claims of the dead senders replayed are let go with them."""
        journal = self.journal
        marks = journal.unflushed() if journal is not None else []
        dead = journal.dead() if journal is not None else []
        if not marks and not dead:
            return
        assert journal is not None
        if marks:
            marked = 0
            with self.db.atomic():
                for mark in marks:
                    marked += self.db.execute(
                        """
                        UPDATE outbox SET status = 'sent', sent = ?, attempts = attempts + 1,
                                          last_error = NULL
                        WHERE id = ? AND message_id = ? AND status = 'pending'
                        """,
                        [to_iso(mark.sent), mark.id, mark.message_id],
                    ).rowcount
            self.durable()
            logger.info("sent journal: %d message(s) the mail server had accepted, %d of "
                        "them not yet marked sent in the database: marked now", len(marks),
                        marked)
        self._let_go_of_dead(dead)  # their marks written: what is left was not noted sent
        journal.flushed(marks)

    def _let_go_of_dead(self, journals: list[str]) -> None:
        """The senders of the journal files ``journals`` are dead and their marks written:
        nothing to let go in one process (the PostgreSQL store lets go of their claims)."""

    def _close_journal(self) -> None:
        if self.journal is not None:
            self.journal.close()

    def mark_retry(
        self, outbox_id: int, error: str, next_attempt: datetime, server_down: bool = False,
        counted: bool = True,
    ) -> None:
        """Delivery failed for a reason that may pass: try again at ``next_attempt``, or as
        soon as a message goes through when the mail server was down (``server_down``).
        A wait a notification service asked for is not an attempt (``counted`` False): its
        back-off does not grow with the service's rate limits."""
        self.db.execute(
            """
            UPDATE outbox SET attempts = attempts + ?, last_error = ?, next_attempt = ?,
                server_down = ?
            WHERE id = ? AND status = 'pending'
            """,
            [int(counted), error, to_iso(next_attempt), int(server_down), outbox_id],
        )

    def hold_recipient(self, recipient: str, until: datetime) -> int:
        """A notification service asked us to wait until ``until`` (its Retry-After): its
        pending messages due sooner wait until then, and so do those queued for it before
        then (insert_email). How many wait."""
        with self.db.atomic():
            self.db.execute(
                """
                INSERT INTO recipient_holds (recipient, held_until) VALUES (?, ?)
                ON CONFLICT (recipient) DO UPDATE SET held_until = excluded.held_until
                WHERE excluded.held_until > recipient_holds.held_until
                """,
                [recipient, to_iso(until)],
            )
            cursor = self.db.execute(
                """
                UPDATE outbox SET next_attempt = ?
                WHERE status = 'pending' AND next_attempt < ? AND recipient = ?
                """,
                [to_iso(until), to_iso(until), recipient],
            )
        return max(cursor.rowcount, 0)

    def forget_holds(self, now: datetime) -> int:
        """Forget the waits notification services asked for that ended by ``now``: they hold
        nothing back, and each URL ever rate-limited kept its row for good. How many went."""
        cursor = self.db.execute("DELETE FROM recipient_holds WHERE held_until <= ?",
                                 [to_iso(now)])
        return max(cursor.rowcount, 0)

    def server_back(self, now: datetime) -> int:
        """A message went through: those waiting for the mail server (mark_retry's
        ``server_down``) are due now, not at the end of their back-off. How many."""
        cursor = self.db.execute(
            """
            UPDATE outbox SET next_attempt = ?, server_down = 0
            WHERE status = 'pending' AND server_down = 1
            """,
            [to_iso(now)],
        )
        return max(cursor.rowcount, 0)

    def mail_settings(self) -> str | None:
        """The fingerprint of the mail settings a sender last started or reloaded with
        (keep_mail_settings); None before the first."""
        return state_value(self.db, _MAIL_SETTINGS)

    def keep_mail_settings(self, fingerprint: str, now: datetime | None = None) -> int:
        """Keep ``fingerprint`` as the mail settings'; with ``now`` (they changed: a port,
        host or login mended), the emails waiting for a retry after a failed attempt are due
        at ``now``, not at the end of a back-off that may last alerts.retry_max. Only the
        next attempt moves, earlier: a message sent is never pending again. How many."""
        with self.db.atomic():
            keep_state(self.db, _MAIL_SETTINGS, fingerprint)
            if now is None:
                return 0
            cursor = self.db.execute(
                """
                UPDATE outbox SET next_attempt = ?
                WHERE status = 'pending' AND next_attempt > ? AND last_error IS NOT NULL
                  AND recipient NOT LIKE ?
                """,
                [to_iso(now), to_iso(now), CHANNEL_RECIPIENT],  # not notification URLs
            )
        return max(cursor.rowcount, 0)

    def mark_failed(self, outbox_id: int, error: str) -> None:
        """The mail server refused the message for good: keep it, visibly failed."""
        self.db.execute(
            """
            UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?
            WHERE id = ?
            """,
            [error, outbox_id],
        )

    def drop_unwatched(self, watching: Mapping[int, Collection[str]]) -> list[str]:
        """Mark failed, not to be sent, the pending alerts whose recipient no longer watches
        any of their topics (``watching``: each active topic's recipients, in one spelling,
        storage.topics.one_spelling): taken off a topic while its alert waited for a mail
        server that was down, a reader was sent it anyway. Messages of no topic (the
        operator's) are left. Returns the recipients dropped for (one a message)."""
        dropped = []
        for outbox_id, recipient in unwatched(self.db, watching):
            self.db.execute(
                "UPDATE outbox SET status = 'failed', last_error = ? WHERE id = ?",
                [f"{UNWATCHED} (taken off its topics before it could be sent)", outbox_id],
            )
            dropped.append(recipient)
        return dropped

    def requeue_failed(self, since: datetime, now: datetime) -> Requeued:
        """Put the messages that failed for good and were made since ``since`` back in the
        queue, due at ``now``, their attempts counted anew (the mail configuration mended);
        those to a notification service still asking us to wait (hold_recipient) are due
        when its wait ends. Returns how many, and how many of them wait."""
        # Due at once, the first was tried at the next run and answered 429 again (a longer
        # wait, for some services), the others waiting for it anyway.
        failed = "status = 'failed' AND created >= ? AND last_error NOT LIKE ?"
        chosen = [to_iso(since), f"{UNWATCHED}%"]
        stamp = to_iso(now)
        with self.db.atomic():
            held, held_until = self.db.execute(
                f"""
                SELECT COUNT(*), MAX(h.held_until) FROM outbox
                JOIN recipient_holds h ON h.recipient = outbox.recipient AND h.held_until > ?
                WHERE {failed}
                """,
                [stamp, *chosen],
            ).fetchone()
            cursor = self.db.execute(
                f"""
                UPDATE outbox SET status = 'pending', attempts = 0, server_down = 0,
                    next_attempt = COALESCE((SELECT held_until FROM recipient_holds h
                        WHERE h.recipient = outbox.recipient AND h.held_until > ?), ?)
                WHERE {failed}
                """,
                [stamp, stamp, *chosen],
            )
        return Requeued(int(cursor.rowcount), int(held),
                        from_iso(held_until) if held_until else None)

    def outbox_counts(self) -> dict[str, int]:
        """How many messages are pending, sent and failed; and "dropped", when there are
        some: not sent on purpose, their reader taken off their topics (drop_unwatched),
        which a monitor of failed deliveries took for failures (a review)."""
        counts = {"pending": 0, "sent": 0, "failed": 0}
        # From the counts kept as statuses change (schema 39), and the failed ones' errors
        # alone: grouped by their error too, every alert ever sent was read, bodies included,
        # at each `status` and each scrape of /metrics; by the index of statuses, every
        # alert sent still was (100,000: 23 ms).
        for status, n in self.db.execute(
            "SELECT status, SUM(n) FROM outbox_counts GROUP BY status"
        ):
            counts[str(status)] = int(n)
        # INDEXED BY: where no alert ever failed, the planner's statistics have every alert
        # of one status, and it read them all, bodies included (100,000 sent: 11 ms).
        dropped = int(self.db.execute(
            "SELECT COUNT(*) FROM outbox INDEXED BY outbox_due"
            " WHERE status = 'failed' AND last_error LIKE ?",
            [f"{UNWATCHED}%"]).fetchone()[0])
        if dropped:
            counts["failed"] -= dropped
            counts["dropped"] = dropped
        return counts

    def emails_waiting(self) -> int:
        """How many emails are pending: those a mail server found down holds back. Not the
        notification URLs' messages, which go while it is down (the warning that it is down
        counted them among the alerts waiting for it)."""
        return int(self.db.execute(
            "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND recipient NOT LIKE ?",
            [CHANNEL_RECIPIENT],
        ).fetchone()[0])

    def outbox_problems(self, limit: int = 10) -> list[OutboxProblem]:
        """Pending messages that have failed at least once, and failed ones, with the error,
        the latest first (found by the index of statuses: `status` read every alert ever
        sent, bodies included). Failed ones stay in the outbox: listed oldest first, those
        of an address mistyped weeks ago hid the alerts a mail server down today holds."""
        rows = self.db.query(
            """
            SELECT id, recipient, subject, status, attempts, last_error, next_attempt
            FROM outbox WHERE last_error IS NOT NULL
              AND id IN (SELECT id FROM outbox WHERE status IN ('pending', 'failed'))
            ORDER BY id DESC LIMIT ?
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
