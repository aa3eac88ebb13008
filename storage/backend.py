"""Choosing the storage backend: the one place that names a concrete store.

Today there is one backend, SQLite (``storage.store.Store``, a file). A second one (say,
PostgreSQL) is a new module of ``storage/`` whose class implements ``storage.ports.Storage``;
:func:`open_store` picks it from the location it is given, and no caller changes.
"""

from __future__ import annotations

from pathlib import Path

from .ports import Storage


def open_store(location: str | Path) -> Storage:
    """The storage at ``location`` (an SQLite file, created and migrated as needed)."""
    from .store import Store  # sqlite-utils loads here, on first use

    return Store.open(location)
