"""The Store: the SQLite backend, the one object that implements every port of
:mod:`storage.ports` (callers get it from :func:`storage.open_store` and name only ports).

No sqlite3 exception leaves it: a failure of the database in any public method is raised
as StorageError, whose message names the file.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

from sqlite_utils import Database

from .articles import ArticlesMixin
from .db import busy_words, open_database
from .digests import DigestsMixin
from .errors import StorageError, guard_methods
from .health import HealthMixin
from .linkshapes import LinkShapesMixin
from .maintenance import MaintenanceMixin
from .outbox import OutboxMixin
from .revisions import RevisionsMixin
from .siteblocks import SiteBlocksMixin
from .sources import SourcesMixin
from .stories import StoriesMixin
from .topics import TopicsMixin

logger = logging.getLogger(__name__)


class Store(
    SourcesMixin,
    ArticlesMixin,
    RevisionsMixin,
    TopicsMixin,
    StoriesMixin,
    OutboxMixin,
    DigestsMixin,
    HealthMixin,
    MaintenanceMixin,
    LinkShapesMixin,
    SiteBlocksMixin,
):
    """All persistent state of newswatch, in one SQLite file."""

    def __init__(self, db: Database, path: Path | None = None) -> None:
        self.db = db
        self.path = path
        self._file = _identity(path)  # the file opened (see lost)
        self._wal = _identity(_wal_of(path))  # and its write-ahead log, once there is one
        self.damaged = False  # SQLite found the file malformed (see lost)

    @classmethod
    def open(cls, path: str | Path) -> Store:
        """Open the database file at ``path``, creating and migrating it as needed."""
        return cls(open_database(path), Path(path))

    @property
    def lost(self) -> bool:
        """Whether the file opened is no longer at its path (removed, or replaced by a
        restored backup): this process would go on writing to a file nobody reads, and
        everything it wrote since would be lost at its next start (storage.ports). Or
        whether SQLite found it malformed (a backup copied over it while open: same file,
        other pages): every query may fail or read garbage from then on. Or whether its
        ``-wal`` file was removed (or replaced) under it: SQLite goes on writing to the one
        it holds, which nobody else reads, while other processes write to a new one (a
        topic added from the command line was reported added, then lost)."""
        if self.damaged or (self._file is not None and _identity(self.path) != self._file):
            return True
        if self._file is None:
            return False
        # SQLite keeps the -wal file while this process has the database open (it is
        # removed when the last connection closes): it is this process's from when it
        # first exists.
        wal = _identity(_wal_of(self.path))
        if self._wal is None:
            self._wal = wal
            return False
        return wal != self._wal

    @property
    def removed(self) -> bool:
        """Whether nothing is at the path of the file opened any more (removed or moved away,
        not replaced): started again, newswatch would make a new, empty database there. Not
        a path that cannot be looked at (a stale NFS handle, an I/O error, a permission):
        started again, newswatch may find its file there."""
        if self._file is None or self.path is None:
            return False
        try:
            os.stat(self.path)
        except FileNotFoundError:
            return True
        except OSError:
            return False
        return False

    def durable(self) -> None:
        """Sync the write-ahead log (it holds every commit since the last checkpoint), or the
        file when there is none yet (see OutboxMixin.durable). A disk that refuses is said,
        not raised: the message goes, as it would have."""
        for path in (_wal_of(self.path), self.path):
            if path is None:
                continue
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            except OSError as exc:
                logger.warning("cannot sync %s to the disk: %s", path, exc.strerror or exc)
                return
            try:
                os.fsync(fd)
            except OSError as exc:
                logger.warning("cannot sync %s to the disk: %s", path, exc.strerror or exc)
            finally:
                os.close(fd)
            return

    def close(self) -> None:
        """Close the connection (and the sent journal)."""
        self._close_journal()
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _wal_of(path: Path | None) -> Path | None:
    return path.with_name(path.name + "-wal") if path is not None else None


def _identity(path: Path | None) -> tuple[int, int] | None:
    """The device and inode of the file at ``path`` (None: none there, or no path)."""
    if path is None:
        return None
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


#: SQLite's codes for a file that is not (or no longer) a sound database.
_DAMAGED = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def _failure(store: Store, exc: sqlite3.Error) -> StorageError:
    if (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF in _DAMAGED:  # extended codes too
        store.damaged = True
    where = f"database {store.path}" if store.path is not None else "database"
    return StorageError(f"{where}: {busy_words(exc)}")


guard_methods(Store, Store.__mro__[1:-1], sqlite3.Error, _failure)
