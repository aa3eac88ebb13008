"""Opening the SQLite database: pragmas and migrations."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from .errors import NewerSchema, NotWaited, StorageError
from .schema import MIGRATIONS, register_functions
from .upgrade import UpgradeLog

BUSY_TIMEOUT_MS = 30_000
#: A statement waits for another process's write lock this long at a time (SQLite's own
#: busy_timeout), BUSY_TIMEOUT_MS in all: between two waits it says that it waits, and gives
#: up once the process is stopping (stop_waiting).
WAIT_SLICE_MS = 500

logger = logging.getLogger(__name__)

#: Set when the process is stopping (SIGTERM, SIGINT): a statement that finds the write lock
#: held by another process gives up instead of waiting on (_Connection).
_stopping = threading.Event()


def stop_waiting() -> None:
    """The process is stopping: statements no longer wait for the write lock another
    process holds (each fails, as it would at the end of the busy timeout: what it was to
    write is written at the next start). Safe to call from a signal handler."""
    _stopping.set()


class _Connection(sqlite3.Connection):
    """A connection whose statements wait for another process's write lock in slices of
    WAIT_SLICE_MS, BUSY_TIMEOUT_MS in all. A wait SQLite makes in one piece held the
    daemon's event loop for the whole busy timeout with no word, and its stop signal
    waited for the lock (45 s of a sqlite3 shell's BEGIN IMMEDIATE: SIGTERM acted on 45 s
    late). Between slices, the wait is logged once (and the lock's release), and given up
    when the process is stopping. Only a statement run outside a transaction, or the one
    that begins it, waits again: inside one, the write lock is held already
    (``BEGIN IMMEDIATE``), and SQLite's snapshot could not be carried on."""

    where: str = "database"
    held_since: float | None = None  # time.monotonic() when another process was found holding it

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        if self.in_transaction:
            return super().execute(sql, parameters)
        return self._patiently(super().execute, sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        if self.in_transaction:
            return super().executemany(sql, parameters)
        rows = list(parameters)  # run again whole after a wait
        return self._patiently(super().executemany, sql, rows)

    def _patiently(self, run: Callable[[str, Any], sqlite3.Cursor], sql: str,
                   parameters: Any) -> sqlite3.Cursor:
        began, waited = time.monotonic(), False
        while True:
            try:
                cursor = run(sql, parameters)
            except sqlite3.OperationalError as exc:
                if getattr(exc, "sqlite_errorcode", 0) != sqlite3.SQLITE_BUSY:
                    raise
                if self.in_transaction:
                    self.rollback()  # the one it opened (sqlite3's implicit BEGIN): afresh
                if _stopping.is_set():
                    raise NotWaited(
                        "database is locked: another process holds its write lock, "
                        "not waited for while stopping") from exc
                if time.monotonic() - began >= BUSY_TIMEOUT_MS / 1000 - WAIT_SLICE_MS / 1000:
                    raise
                self._waiting()
                waited = True
                continue
            # A read goes on while another process writes: a write tells the lock is free.
            if self.held_since is not None and (waited or sql == "BEGIN IMMEDIATE"):
                logger.info("%s: free again, after %.0f s held by another process",
                            self.where, time.monotonic() - self.held_since)
                self.held_since = None
            return cursor

    def _waiting(self) -> None:
        if self.held_since is None:
            self.held_since = time.monotonic() - WAIT_SLICE_MS / 1000
            logger.warning(
                "%s: another process holds its write lock (a sqlite3 shell, a backup program, "
                "a newswatch writing at length): waiting for it, up to %g s a statement",
                self.where, BUSY_TIMEOUT_MS / 1000)


class _Database(Database):
    """sqlite-utils' Database whose transactions take the write lock as they begin (BEGIN
    IMMEDIATE, waiting busy_timeout for it). A deferred transaction that read first could not
    become a writer once another process had written since its read: its first write failed
    at once with "database is locked", whatever the timeout (SQLite keeps its snapshot)."""

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Database]:
        if self.conn.in_transaction:
            with super().atomic():  # a savepoint inside the transaction
                yield self
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            self.rollback()
            raise


def open_database(path: str | Path) -> Database:
    """Open (creating if needed) the database at ``path``, migrated to the current schema."""
    path = Path(path)
    try:
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        # Owner-only from the first byte; SQLite gives its -wal and -shm files the same mode.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        slice_ms = min(WAIT_SLICE_MS, BUSY_TIMEOUT_MS)
        conn = sqlite3.connect(str(path), timeout=slice_ms / 1000, factory=_Connection)
        conn.where = f"database {path}"
        register_functions(conn)
        db = _Database(conn)
        db.execute(f"PRAGMA busy_timeout = {slice_ms}")
        db.execute("PRAGMA foreign_keys = ON")
        refuse_foreign(db, path)
        if db.journal_mode != "wal":
            db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")
        refuse_upgrade_under(db, path)
        migrate(db)
    except sqlite3.Error as exc:
        code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
        # Room on the disk is looked at only where SQLite's error may be its want.
        space = code in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN)
        problem = write_problem(path, space=space) or busy_words(exc)
        raise StorageError(f"cannot open database {path}: {problem}") from exc
    except OSError as exc:
        why = write_problem(path) or exc.strerror or exc
        raise StorageError(f"cannot open database {path}: {why}") from exc
    return db


def busy_words(exc: sqlite3.Error) -> str:
    """SQLite's message, and for "database is locked" what it means here."""
    if (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF != sqlite3.SQLITE_BUSY:
        return str(exc)
    return (f"{exc}: another process has held its write lock for "
            f"{BUSY_TIMEOUT_MS / 1000:g} s (a sqlite3 shell, a backup program, a newswatch "
            "writing at length); try again once it is done")


#: Bytes free under which the disk holding the database counts as full (SQLite's -shm file
#: alone takes 32 KB, a page of the write-ahead log 4 KB).
FULL_BELOW = 1024 * 1024


def _free_bytes(directory: Path) -> int | None:
    """Bytes this process may still write on the file system of ``directory``."""
    try:
        found = os.statvfs(directory)
    except OSError:
        return None
    # The blocks kept for root are root's to write (a daemon run as root has them).
    blocks = found.f_bfree if os.geteuid() == 0 else found.f_bavail
    return blocks * found.f_frsize


def write_problem(path: Path, *, space: bool = True) -> str | None:
    """What keeps this process from writing the database at ``path`` and the files SQLite
    and newswatch keep beside it (a read-only file, directory or file system; ``space``: a
    full disk), or None."""
    directory = path.parent
    try:
        read_only_fs = bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
    except OSError:
        return None  # no such directory: the caller's own error says so
    if read_only_fs:
        return f"{directory} is on a read-only file system (newswatch writes to its database)"
    free = _free_bytes(directory) if space else None
    if free is not None and free < FULL_BELOW:
        # SQLite says "disk I/O error" when it cannot make its -shm file on a full disk.
        return (f"the disk holding {directory} is full ({free:,} bytes free): newswatch needs "
                "room for its database and its write-ahead log (free some space there)")
    # os.access asks the kernel with this process's credentials, capabilities included.
    file_ro = path.exists() and not os.access(path, os.W_OK)
    directory_ro = not os.access(directory, os.W_OK | os.X_OK)
    side_files = f"{path.name}-wal, {path.name}-shm and {path.name}.lock"
    if file_ro and directory_ro:
        return (
            f"the file and its directory {directory} are read-only for this user; newswatch "
            f"writes to the file and creates {side_files} beside it (check their owner and mode)"
        )
    if file_ro:
        return (
            "the file is read-only for this user; newswatch writes to it "
            "(check its owner and mode)"
        )
    if directory_ro:
        return (
            f"its directory {directory} is read-only for this user; newswatch creates "
            f"{side_files} there (check the directory's owner and mode)"
        )
    return None


def refuse_foreign(db: Database, path: Path) -> None:
    """Refuse, before anything is written to it, a database file of another program (a
    path pointing at the wrong file): tables, and no migration of newswatch's."""
    if schema_version(db):
        return
    tables = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name LIMIT 4"
    )]
    if tables:
        db.conn.close()
        shown = ", ".join(tables[:3]) + (", …" if len(tables) > 3 else "")
        raise StorageError(
            f"cannot open database {path}: not a newswatch database: it holds other tables "
            f"({shown}) and no newswatch schema version; check database.path"
        )


def refuse_upgrade_under(db: Database, path: Path) -> None:
    """Refuse to upgrade a database another newswatch process runs on (its instance lock,
    ``<database>.lock``, held by another pid): a command of a newer newswatch, run before
    the daemon was restarted, migrated the schema under the older daemon, which went on
    writing its own way (its articles indexed as the older version reads them: `search`
    missed them, the index damaged; a review of an upgrade)."""
    version = schema_version(db)
    if not version or version >= len(MIGRATIONS):
        return
    holder = _lock_holder(lock_path(path))
    if holder is None:
        return
    db.conn.close()
    raise StorageError(
        f"cannot open database {path}: it needs an upgrade (schema {version} to "
        f"{len(MIGRATIONS)}), and another newswatch (pid {holder}) runs on it: restart that "
        "daemon with this version (it upgrades the database), then run this again"
    )


def lock_path(database: Path) -> Path:
    """The single-instance lock of the database file at ``database``: beside the file the
    path leads to, symbolic links followed (scheduler.lock.InstanceLock)."""
    real = database.resolve()
    return real.with_name(real.name + ".lock")


def _lock_holder(lock: Path) -> str | None:
    """The pid written in ``lock`` while another process holds it (None: nobody, or this
    process: the daemon upgrades the database it locked)."""
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            return None if holder == str(os.getpid()) else holder
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def schema_version(db: Database) -> int:
    """The number of migrations this database has had."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: Database) -> None:
    """Apply every migration the database has not had yet, each atomically (an upgrade
    says so as it goes: storage.upgrade)."""
    version = schema_version(db)
    if version > len(MIGRATIONS):
        raise NewerSchema(
            f"database schema version {version} is newer than this newswatch "
            f"({len(MIGRATIONS)}): upgrade newswatch"
        )
    said = UpgradeLog(getattr(db.conn, "where", "database"), version, len(MIGRATIONS))
    for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
        with db.atomic():
            if callable(migration):
                migration(db.conn)
            else:
                for statement in _statements(migration):
                    db.conn.execute(statement)
            db.conn.execute(f"PRAGMA user_version = {number}")
        said.done(number)


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (trigger bodies kept whole)."""
    statements: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements
