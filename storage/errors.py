"""Errors raised by storage.

StorageError      the database cannot be opened, migrated or written
NewerSchema       ... because a newer newswatch made it (an upgrade is needed, not a restart)

:func:`connection_failure` finds the lost PostgreSQL connection behind an error;
:func:`cancelled_by_stop` tells a statement that the process's stop cancelled, and
:func:`said_stopping` says so instead of an error.

:func:`guard_methods` makes a backend's public methods raise StorageError where its driver
raised, so that no driver exception leaves a store.
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

logger = logging.getLogger(__name__)

_USER_PASSWORD = re.compile(r"(://[^:/@]*):[^@]*@")
_PASSWORD_PARAMETER = re.compile(r"(?i)\b(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^&\s]*)")


def without_password(url: str) -> str:
    """A database URL (or libpq key=value string) for messages: ``user:***@``, and
    ``password=***`` as a query parameter or a key."""
    return _PASSWORD_PARAMETER.sub(r"\1***", _USER_PASSWORD.sub(r"\1:***@", url))


class StorageError(Exception):
    """The database cannot be opened, migrated or written."""


class NewerSchema(StorageError):
    """The database's schema is newer than this newswatch's: starting again cannot help, only
    an upgrade of newswatch (the command exits 2, which the systemd units do not restart)."""


class NotWaited(sqlite3.OperationalError):
    """A SQLite statement that found another process's write lock while this process is
    stopping, and gave up instead of waiting for it (storage.db.stop_waiting)."""


def connection_failure(exc: BaseException | None) -> BaseException | None:
    """The failure of a PostgreSQL connection behind ``exc``, following its causes: psycopg's
    OperationalError (a server gone, silent or refusing; the pool's PoolTimeout is one), as
    raised or as the cause of a StorageError or of the task engine's ConnectorException.
    None for any other error. Known by name: psycopg is not imported on the SQLite path."""
    return next((e for e in _causes(exc) if _psycopg(e, "OperationalError")), None)


#: Set once said_stopping has said so at INFO: each later statement of the stop is DEBUG.
_stop_said = threading.Event()
#: The same for the statements that failed on a connection the stop shut (AbandonedAtStop).
_abandon_said = threading.Event()


def cancelled_by_stop(exc: BaseException | None) -> bool:
    """Whether ``exc`` is (or was caused by) a PostgreSQL statement that the process's stop
    cancelled, or whose wait for another session's lock it cut short (storage.pg.stop_waiting:
    psycopg's QueryCanceled, LockNotAvailable), the process stopping; one that failed because
    the stop shut its connection, the database not taking the cancel in time
    (storage.pg.AbandonedAtStop); or a SQLite statement that did not wait for another
    process's write lock at a stop (NotWaited). Nothing failed: what the statement was to
    write is written at the next start, as after any stop."""
    if any(isinstance(e, NotWaited) for e in _causes(exc)):
        return True
    if not any(_psycopg(e, "QueryCanceled") or _psycopg(e, "LockNotAvailable")
               or _abandoned(e) for e in _causes(exc)):
        return False
    from .pg import stopping  # psycopg is there: it raised

    return stopping()


def said_stopping(exc: BaseException | None, what: str) -> bool:
    """Whether ``exc`` is cancelled_by_stop; if so it is said instead of an error: once at
    INFO, then at DEBUG with ``what`` the statement was to do. An ERROR (and its "trying
    again") in the journal just before the process's "stopped" told an operator of a
    failure where there was none: nothing is tried again, the process is stopping. A
    statement abandoned is said once too, in its own line (what the stop abandoned)."""
    if not cancelled_by_stop(exc):
        return False
    abandoned = next((e for e in _causes(exc) if _abandoned(e)), None)
    said = _abandon_said if abandoned is not None else _stop_said
    if said.is_set():
        logger.debug("stopping: %s not done (%s)", what, " ".join(str(exc).split()))
    elif abandoned is not None:
        said.set()
        logger.info("stopping: %s; its work is redone at the next start", abandoned)
    else:
        said.set()
        logger.info("stopping: the statement under way was cancelled (what it was to record "
                    "is done at the next start)")
    return True


def _causes(exc: BaseException | None) -> Iterator[BaseException]:
    """``exc`` and its causes (or the exceptions it was raised while handling)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _abandoned(exc: BaseException) -> bool:
    """Whether ``exc`` is storage.pg.AbandonedAtStop (known by name, as psycopg's)."""
    return any(k.__name__ == "AbandonedAtStop" and k.__module__ == "storage.pg"
               for k in type(exc).__mro__)


def _psycopg(exc: BaseException, name: str) -> bool:
    """Whether ``exc`` is psycopg's exception ``name`` (or a subclass of it)."""
    return any(k.__name__ == name and k.__module__.partition(".")[0] == "psycopg"
               for k in type(exc).__mro__)


def guard_methods(
    store: type,
    classes: Iterable[type],
    error: type[Exception],
    failure: Callable[[Any, Any], StorageError],
    skip: frozenset[str] = frozenset(),
) -> None:
    """Wrap every public method that ``classes`` define on ``store`` (but ``skip``) so that
    ``error`` becomes ``failure(store_instance, exc)`` (a generator: as it is read)."""
    for name in sorted({n for klass in classes for n in vars(klass)}):
        attr = inspect.getattr_static(store, name)
        if not name.startswith("_") and name not in skip and inspect.isfunction(attr):
            setattr(store, name, _guarded(attr, error, failure))


def _guarded(
    method: Callable[..., Any],
    error: type[Exception],
    failure: Callable[[Any, Any], StorageError],
) -> Callable[..., Any]:
    if inspect.isgeneratorfunction(method):

        @functools.wraps(method)
        def read(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from method(self, *args, **kwargs)
            except error as exc:
                raise failure(self, exc) from exc

        return read

    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except error as exc:
            raise failure(self, exc) from exc

    return call
