"""The sent journal of a sending process: the messages the mail server accepted whose
"sent" mark may not be in the database yet (docs/scale-out.md, "Alerts exactly once").

Between the mail server's acceptance of a message and the commit of its "sent" mark, the
database may fail: a PostgreSQL connection lost (restarted, the network cut), SQLite's write
lock held by another process past busy_timeout, a full disk. The mark is lost, and the row
would be sent again. So :meth:`SentJournal.record` holds the mark in memory and writes it to
a local file, synced to the disk, before the database is told; once the database has it,
:meth:`SentJournal.flushed` forgets it. Before a sender hands out anything, the marks still
in a journal are written to the database (``OutboxMixin.due_outbox``).

A journal is a directory (next to the database file: ``newswatch.sent/``) with one file per
sending process, locked (``flock``) while the process lives. A sender replays its own marks
and those of every file nobody holds: a dead sender's of the same machine. A line is one
mark: ``{"id": …, "message_id": …, "sent": …}``. A file's name (its database's journal
identity, the process's pid and 64 random bits) names the process's outbox claims on
PostgreSQL: once a dead process's file is replayed, the rows it was sending without a mark
are let go at once, as the claim lease lets them go after its wait (``PgStore.due_outbox``).

Two configs in one directory may name two databases and one journal directory (prod.toml
and staging.toml, each with its ``[database] url``, run from one working directory): a
dead sender's file is replayed, and removed, by the senders of its own database alone
(``OutboxMixin.journal_identity``). Replayed by another database's, its marks matched no
row there, and the message went again from its own after the claim lease. The files of
the previous version name no database: the first sender that finds them replays them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .clock import from_iso, to_iso

SUFFIX = ".journal"
#: Bytes each journal file takes on the disk when it is made, and keeps: a mark is written
#: into them, so that a disk filled meanwhile (by the mail server's spool, a log) does not
#: refuse it. The mark was then only in memory, the database full too: the daemon stopped
#: and started again sent the message a second time. About 600 marks.
RESERVE = 64 * 1024

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SentMark:
    """One message the mail server accepted: its outbox row, Message-ID and when."""

    id: int
    message_id: str
    sent: datetime


class SentJournal:
    """This process's file in the journal directory ``directory``, and the files of dead
    processes found there that are the database ``database``'s (its journal identity) or
    no database's (the previous version's; a journal without ``database`` writes such
    files)."""

    def __init__(self, directory: Path, database: str | None = None) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.database = database
        name = f"{os.getpid()}-{secrets.token_hex(8)}"
        if database is not None:
            name = f"{database}.{name}"
        # Locked before it has its name: another alerter never sees it unlocked (and empty).
        hidden = directory / f".{name}"
        self._fd = os.open(hidden, os.O_WRONLY | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        with contextlib.suppress(OSError):  # a disk full already: the file grows as it can
            os.posix_fallocate(self._fd, 0, RESERVE)
        self.path = directory / (name + SUFFIX)
        os.rename(hidden, self.path)
        _sync_directory(directory)
        self._end = 0  # where the next mark is written; NUL bytes after it
        self._pending: dict[int, SentMark] = {}
        self._unwritten: set[int] = set()  # marks the file could not take
        self._orphans: dict[Path, int] = {}  # files of dead processes being replayed

    def record(self, mark: SentMark) -> None:
        """Write ``mark`` and sync it to the disk (before the database is told), into the
        file's reserved bytes while they last. Held in memory first: a mark the file cannot
        take (a full disk past the reserve) still counts in this process."""
        self._pending[mark.id] = mark
        self._unwritten.add(mark.id)
        line = json.dumps({"id": mark.id, "message_id": mark.message_id,
                           "sent": to_iso(mark.sent)}).encode() + b"\n"
        os.pwrite(self._fd, line, self._end)
        os.fsync(self._fd)
        self._end += len(line)
        self._unwritten.discard(mark.id)

    def holds(self, outbox_id: int) -> bool:
        """Whether this process's journal has the mark of row ``outbox_id``, not yet
        flushed."""
        return outbox_id in self._pending

    def unflushed(self) -> list[SentMark]:
        """The marks the database may not have: this process's, and those of the files of
        dead processes (held until :meth:`flushed`)."""
        marks = list(self._pending.values())
        for path in sorted(self.directory.glob("*" + SUFFIX)):
            if path == self.path or path in self._orphans:
                continue
            if _database_of(path) not in (self.database, None):
                continue  # another database's, in a directory two configs share
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:
                continue  # replayed meanwhile by another process
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)  # its process lives
                continue
            self._orphans[path] = fd
        for fd in self._orphans.values():
            marks.extend(_read(fd))
        return marks

    def dead(self) -> list[str]:
        """The names of the files of dead processes that :meth:`unflushed` read, held until
        :meth:`flushed`: once the database has their marks, the rows those processes were
        sending without a mark are anyone's (no process of theirs sends any more, and no
        acceptance they noted is missing)."""
        return sorted(path.name for path in self._orphans)

    def flushed(self, marks: list[SentMark]) -> None:
        """The database has ``marks``: forget them (the files of dead processes are
        removed)."""
        for mark in marks:
            self._pending.pop(mark.id, None)
            self._unwritten.discard(mark.id)
        if not self._pending and self._end:
            # Not synced: a mark that comes back after a crash is written again, harmlessly.
            # Written over, not truncated: the file keeps its bytes on the disk.
            os.pwrite(self._fd, bytes(self._end), 0)
            self._end = 0
        for path, fd in self._orphans.items():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            os.close(fd)
        self._orphans.clear()

    def close(self, *, keep: bool = False) -> None:
        """Release the file; it is removed when the database has every mark, unless ``keep``
        (the process's claims could not be let go: the next sender of the machine lets go
        of them as it replays the file)."""
        if self._fd < 0:
            return
        if not self._pending and not keep:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        elif lost := self._unwritten & self._pending.keys():
            logger.error(
                "%d message(s) the mail server accepted are marked sent neither in the "
                "database nor in the sent journal %s (it could not be written): they will be "
                "sent again (outbox %s)", len(lost), self.path, ", ".join(map(str, sorted(lost))))
        for fd in self._orphans.values():
            os.close(fd)
        self._orphans.clear()
        os.close(self._fd)
        self._fd = -1


def _database_of(path: Path) -> str | None:
    """The journal identity of the database a journal file was written for (the part of
    its name before the first dot); None for a file of the previous version, which named
    none (``1234-0123456789abcdef.journal``)."""
    database, dot, _ = path.name.removesuffix(SUFFIX).partition(".")
    return database if dot else None


def _read(fd: int) -> list[SentMark]:
    """The marks of an open journal file. A torn last line (its process died while writing
    it) is skipped: that message's mark was never synced."""
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    marks = []
    text = b"".join(chunks).replace(b"\0", b"")  # the reserve's bytes not written yet
    for line in text.decode(errors="replace").splitlines():
        try:
            data = json.loads(line)
            sent = from_iso(data["sent"])
            mark = SentMark(int(data["id"]), str(data["message_id"]), sent) if sent else None
        except (ValueError, KeyError, TypeError):
            mark = None
        if mark is not None:
            marks.append(mark)
    return marks


def _sync_directory(directory: Path) -> None:
    """Make the entries of ``directory`` (a new file's name) durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
