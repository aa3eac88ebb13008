"""Keeping a long-running database healthy: retention, consistent backups, checkpoints."""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from .articles import LISTED_BEFORE
from .clock import from_iso, to_iso
from .errors import StorageError
from .outbox import prune_bodies

#: Articles pruned a transaction (see MaintenanceMixin.prune).
PRUNE_BATCH = 500
#: Pages of the archive's index merged at each checkpoint (the daemon's: hourly).
FTS5_MERGE_PAGES = 2000


#: Not an article whose alert waits for a digest: a weekly digest with a short
#: ``database.keep`` found its text gone, its topic no longer matching it, and dropped the
#: alert (a match queued since the articles were read, PostgreSQL, is seen by the update).
_UNQUEUED = ("NOT EXISTS (SELECT 1 FROM digest_queue d"
             " WHERE d.article_id = articles.id AND d.outbox_id IS NULL)")


class MaintenanceMixin:
    """Housekeeping on the Store."""

    db: Database

    def prune(self, before: datetime, limit: int | None = None) -> int:
        """Drop the extracted text of articles fetched before ``before`` (``limit``: of that
        many at most, the oldest; and the bodies of alerts sent before it); the rows stay,
        so matches, alerts and "already seen" are kept. An article whose alert waits for a
        digest keeps its text until the digest is made (_UNQUEUED). Returns how many
        articles were pruned.

        PRUNE_BATCH articles a transaction, found by their index of unpruned articles (schema
        29): a year's backlog (database.keep lowered) was one transaction of minutes, every
        other writer refused ("database is locked") and the write-ahead log grown by
        gigabytes; and each hourly prune read the whole table, texts included."""
        stamp = to_iso(before)
        pruned = 0
        while limit is None or pruned < limit:
            size = PRUNE_BATCH if limit is None else min(PRUNE_BATCH, limit - pruned)
            with self.db.atomic():
                ids = [row[0] for row in self.db.execute(
                    f"SELECT id FROM articles WHERE fetched < ? AND text != '' AND {_UNQUEUED}"
                    " ORDER BY fetched LIMIT ?", [stamp, size])]
                done = 0
                if ids:
                    marks = ", ".join("?" * len(ids))
                    # text != '' again: another process's prune (PostgreSQL) may have taken
                    # some since they were read.
                    done = self.db.execute(
                        f"""
                        UPDATE articles SET text = '', extraction_note =
                            COALESCE(extraction_note || '; ', '') || 'text pruned'
                        WHERE id IN ({marks}) AND text != '' AND {_UNQUEUED}
                        """,
                        ids,
                    ).rowcount
            pruned += done
            if len(ids) < size:
                break
        with self.db.atomic():
            prune_bodies(self.db, before)
            # Not the pages a source listed before its first poll (an undated sitemap's
            # archive): forgotten, its next poll fetched, stored and mailed them all as new
            # (a review). They are what its first poll listed, no more.
            self.db.execute("DELETE FROM skipped_urls WHERE seen < ? AND reason != ?",
                            [stamp, LISTED_BEFORE])
        return pruned

    def latest_poll(self) -> datetime | None:
        """When the last poll of any source was made, as the clock then said (a clock set
        back while newswatch was stopped leaves it ahead of now: see scheduler.daemon)."""
        # The active sources': an inactive one polled once while the clock was ahead made
        # every later start take the clock for set back (a review).
        row = self.db.execute("SELECT max(last_fetch) FROM sources WHERE active = 1").fetchone()
        return from_iso(row[0]) if row and row[0] else None

    def due_now(self, now: datetime) -> int:
        """The clock went back: every source whose next poll, and every email whose next
        attempt, lies after ``now`` is due at ``now`` (else they would wait as long as the
        clock went back). Returns how many rows moved. The times the digests go by are
        brought back to ``now`` too: a digest time dealt with, an alert queued for a digest,
        an email queued "later" (storm control counts them by that time); else the next
        digest time would be skipped, and folded alerts wait as long as the clock went back.
        The waits notification services asked for (hold_recipient) that have not ended by
        ``now`` are forgotten, as the sends they held are due now: one recorded while the
        clock was a day ahead held the alerts queued for its URL a day longer (a service
        whose wait still runs answers the next one with a 429 and a new wait)."""
        stamp = to_iso(now)
        with self.db.atomic():
            polls = self.db.execute(
                "UPDATE sources SET next_due = ? WHERE next_due > ?", [stamp, stamp]
            ).rowcount
            sends = self.db.execute(
                "UPDATE outbox SET next_attempt = ? WHERE status = 'pending' AND next_attempt > ?",
                [stamp, stamp],
            ).rowcount
            self.db.execute("DELETE FROM recipient_holds WHERE held_until > ?", [stamp])
            for table, column in (("digest_slots", "handled"), ("digest_queue", "queued"),
                                  ("outbox", "created")):
                self.db.execute(
                    f"UPDATE {table} SET {column} = ? WHERE {column} > ?", [stamp, stamp]
                )
        return int(polls) + int(sends)

    def checkpoint(self) -> None:
        """Fold the write-ahead log back into the database file and refresh the planner;
        merge some of the archive's index (FTS5_MERGE_PAGES: what its segments hold of the
        articles pruned or rewritten goes with a merge; the index grew by a quarter over a
        prune of 190,000 articles, a review)."""
        with self.db.atomic():
            self.db.execute("INSERT INTO articles_fts(articles_fts, rank) VALUES ('merge', ?)",
                            [-FTS5_MERGE_PAGES])
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.execute("PRAGMA optimize")

    def fold_counts(self) -> None:
        """Nothing to fold: SQLite keeps one row of counts a key, updated by its triggers
        (schema 38, 39 and 41; one writer at a time)."""

    def backup(self, destination: Path) -> None:
        """A consistent copy of the live database (safe while the daemon writes)."""
        destination = Path(destination)
        try:
            os.close(os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            raise StorageError(f"{destination} exists: choose a new file for the backup") from None
        except OSError as exc:
            raise StorageError(f"cannot create {destination}: {exc.strerror}") from exc
        try:
            target = sqlite3.connect(destination)
            try:
                self.db.conn.backup(target)
            finally:
                target.close()
        except sqlite3.Error as exc:
            destination.unlink(missing_ok=True)
            raise StorageError(f"backup to {destination} failed: {exc}") from exc


def _read_only(backup: Path, copy: Path) -> sqlite3.Connection:
    """The backup, opened to be read without a write beside it: a backup is a WAL database
    (newswatch's, copied page for page), and SQLite reading one in place made its ``-wal``
    and ``-shm`` next to the user's file, left there. Opened immutable, SQLite keeps no
    lock and no log for it. But a backup with a ``-wal`` of its own (the live database's
    files copied as they were) has its last commits in it, which an immutable open leaves
    out: both are copied to ``copy`` (beside the database) and read from there."""
    wal = Path(f"{backup}-wal")
    if wal.exists() and wal.stat().st_size:
        for original, duplicate in ((backup, copy), (wal, Path(f"{copy}-wal"))):
            # Only the owner reads them, as the database.
            os.close(os.open(duplicate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            shutil.copyfile(original, duplicate)
        return sqlite3.connect(copy)
    return sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro&immutable=1", uri=True)


def _as_found(backup: Path) -> list[tuple[int, int] | None]:
    """The size and modification time of ``backup`` and of its ``-wal`` (None: none): read
    without SQLite's locks (immutable, or copied file by file), a file another program
    writes meanwhile (the database of a newswatch still running, a backup still being
    copied) is read torn, and that is seen from these."""
    found: list[tuple[int, int] | None] = []
    for path in (backup, Path(f"{backup}-wal")):
        try:
            status = path.stat()
        except FileNotFoundError:
            found.append(None)
        else:
            found.append((status.st_size, status.st_mtime_ns))
    return found


def restore(backup: Path, database: Path) -> None:
    """Put the SQLite database ``backup`` at ``database``, no newswatch running on it (the
    caller holds its lock): read whole into a new file beside it (SQLite's backup; a file
    that changed while it was read is refused: _as_found), opened as newswatch opens its
    database (another program's file, a newer newswatch's or a damaged one refused; an
    older one migrated), then the database's ``-wal`` and ``-shm`` removed (a stale ``-wal``
    would be replayed onto it: both damaged) and the new file renamed over the database.
    What newswatch did after the backup was made is undone with it (see the README)."""
    from .store import Store

    # The file a symbolic link leads to is replaced, not the link (the database moved off
    # the disk the link chose, its old copy left there).
    backup, database = Path(backup), Path(database).resolve()
    if not backup.is_file():
        raise StorageError(f"no backup at {backup}")
    if Path(f"{backup}-journal").exists():
        # A backup killed while SQLite wrote it: SQLite rolls the file back to nothing the
        # first time it is opened for writing (then it was "restored": an empty database).
        raise StorageError(
            f"cannot restore {backup}: it was being written when its writer stopped "
            f"({backup.name}-journal is beside it): it is incomplete; use another backup"
        )
    staged = database.with_name(database.name + ".restoring")
    copied = database.with_name(database.name + ".restoring-backup")
    scratch = [path for file in (staged, copied)
               for path in (file, Path(f"{file}-wal"), Path(f"{file}-shm"))]
    for leftover in scratch:
        leftover.unlink(missing_ok=True)
    try:
        found = _as_found(backup)
        source = _read_only(backup, copied)
        try:
            # Only the owner reads it, as newswatch's own database (0644 by the umask).
            os.close(os.open(staged, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
            target = sqlite3.connect(staged)
            try:
                source.backup(target)
                version = int(target.execute("PRAGMA user_version").fetchone()[0])
            finally:
                target.close()
        finally:
            source.close()
        if _as_found(backup) != found:
            # Its writer's log folded into the file between the copies of the two: the
            # copy was a database without its last commits, restored without a word.
            raise StorageError(
                f"cannot restore {backup}: it changed while it was read (a program writes "
                "it: a newswatch running on it, a copy under way); stop that program, or "
                "restore a backup made by `newswatch backup`"
            )
        if not version:  # an empty file, or an empty SQLite database, would become one
            raise StorageError(
                f"cannot restore {backup}: not a newswatch database (no newswatch schema "
                f"in it{': the file is empty' if not backup.stat().st_size else ''})"
            )
        Store.open(staged).close()  # what newswatch opens, or refused as it would be
    except sqlite3.Error as exc:
        staged.unlink(missing_ok=True)
        raise StorageError(f"cannot restore {backup}: {exc}") from exc
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    finally:
        for leftover in scratch[3:]:  # the copy of a backup with its -wal, if one was made
            leftover.unlink(missing_ok=True)
    for side in ("-wal", "-shm"):
        Path(f"{database}{side}").unlink(missing_ok=True)
        Path(f"{staged}{side}").unlink(missing_ok=True)
    os.replace(staged, database)
    directory = os.open(database.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
