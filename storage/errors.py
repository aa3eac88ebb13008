"""Errors raised by storage.

StorageError      the database cannot be opened, migrated or written
NewerSchema       ... because a newer newswatch made it (an upgrade is needed, not a restart)

:func:`connection_failure` finds the lost PostgreSQL connection behind an error.

:func:`guard_methods` makes a backend's public methods raise StorageError where its driver
raised, so that no driver exception leaves a store.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

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


def connection_failure(exc: BaseException | None) -> BaseException | None:
    """The failure of a PostgreSQL connection behind ``exc``, following its causes: psycopg's
    OperationalError (a server gone, silent or refusing; the pool's PoolTimeout is one), as
    raised or as the cause of a StorageError or of the task engine's ConnectorException.
    None for any other error. Known by name: psycopg is not imported on the SQLite path."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if any(k.__name__ == "OperationalError" and k.__module__ == "psycopg"
               for k in type(exc).__mro__):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


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
