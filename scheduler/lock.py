"""The single-instance lock: one writer (daemon or one-off crawl) per database."""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from types import TracebackType

from storage import StorageError

logger = logging.getLogger(__name__)


class AlreadyRunning(Exception):
    """Another newswatch process holds the lock on this database."""


class InstanceLock:
    """An exclusive, non-blocking ``flock`` on ``<database>.lock``, released on exit
    (the kernel releases it too if the process dies). The lock is beside the file the path
    leads to, symbolic links followed: a config naming the database through a link (to the
    file or a directory) took a lock of its own, and two daemons sent every alert twice."""

    def __init__(self, database: Path) -> None:
        self.database = database
        from storage import lock_path  # with sqlite-utils: not for `newswatch --help`

        self.path = lock_path(database)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise AlreadyRunning naming the holder's pid (StorageError when
        the lock file cannot be created or opened)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            from storage import write_problem  # with sqlite-utils: only on this failure

            why = write_problem(self.database) or exc.strerror or exc
            raise StorageError(f"cannot lock database {self.database}: {why}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise AlreadyRunning(
                f"another newswatch (pid {holder}) is already running on this database "
                f"(lock {self.path})"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def kept(self) -> str | None:
        """None while the lock file at the path is the one this process locked. One removed
        or replaced under it (a temporary-files cleaner, ``rm newswatch.db*`` of a mistaken
        reset) let a second newswatch start beside this one, and each alert went twice: the
        lock is taken again on the new file (None), or, when another process has taken it
        already, what to say before stopping."""
        if self._fd is None:
            return None
        mine = os.fstat(self._fd)
        try:
            there = os.stat(self.path)
        except OSError:
            there = None
        if there is not None and (there.st_dev, there.st_ino) == (mine.st_dev, mine.st_ino):
            return None
        old, self._fd = self._fd, None
        try:
            self.acquire()
        except (AlreadyRunning, StorageError) as exc:
            return f"the lock file {self.path} was removed or replaced, and {exc}"
        finally:
            os.close(old)
        logger.warning("the lock file %s was removed or replaced: locked again", self.path)
        return None

    def release(self) -> None:
        """Give the lock back."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
