"""Choosing the storage backend: the one place that names a concrete store.

Two backends implement ``storage.ports.Storage``: SQLite (``storage.store.Store``, a file,
the default) and PostgreSQL (``storage.pg.PgStore``, a shared database for several machines,
docs/scale-out.md). :func:`open_store` picks one from the location it is given; no caller
changes. psycopg loads only when a PostgreSQL URL is opened.
"""

from __future__ import annotations

from pathlib import Path

from .ports import Storage

#: What a PostgreSQL location starts with (libpq's URI schemes).
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(location: str | Path) -> bool:
    """Whether ``location`` names a PostgreSQL database (a URL) rather than an SQLite file."""
    return isinstance(location, str) and location.startswith(POSTGRES_SCHEMES)


def open_store(location: str | Path) -> Storage:
    """The storage at ``location``: a ``postgresql://`` URL, or an SQLite file (created and
    migrated as needed)."""
    if is_postgres(location):
        from .pg import PgStore  # psycopg loads here, only for PostgreSQL

        return PgStore.open(str(location))
    from .store import Store  # sqlite-utils loads here, on first use

    return Store.open(location)
