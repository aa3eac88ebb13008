"""``newswatch ARGS`` whose database is full while the file that NEWSWATCH_FULL_FLAG names
exists (tests/test_recovery.py): a poll's record fails as SQLite's does on a full disk
("database or disk is full"), which this machine cannot be made to be for a test. While the
file NEWSWATCH_NEARLY_FULL_FLAG names exists, only the articles are refused: a nearly full
disk, where a poll's small record still fits (and articles edited in place, and pages
unavailable for now). While the file NEWSWATCH_POLLS_FULL_FLAG names exists, only the polls'
records are refused: the disk full as they are written, the reads (the outbox's) going on.

    NEWSWATCH_FULL_FLAG=/tmp/full python tests/full_disk.py --config FILE run
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import storage.store  # the project root is on PYTHONPATH
from newswatch.cli import main
from storage import StorageError

_record_fetch = storage.store.Store.record_fetch
_add_articles = storage.store.Store.add_articles
_update_article = storage.store.Store.update_article
_due_outbox = storage.store.Store.due_outbox
_defer_entry = storage.store.Store.defer_entry


def _refuse_while(variable: str, store: storage.store.Store) -> None:
    flag = os.environ.get(variable)
    if flag and Path(flag).exists():
        raise StorageError(f"database {store.path}: database or disk is full")


def record_fetch(self: storage.store.Store, *args: Any, **kwargs: Any) -> Any:
    _refuse_while("NEWSWATCH_FULL_FLAG", self)
    _refuse_while("NEWSWATCH_POLLS_FULL_FLAG", self)
    return _record_fetch(self, *args, **kwargs)


def due_outbox(self: storage.store.Store, *args: Any, **kwargs: Any) -> Any:
    # Its sent journal's marks are written first (storage.outbox): on a full disk, a mark
    # left by a send the database could not record makes every delivery fail.
    _refuse_while("NEWSWATCH_FULL_FLAG", self)
    return _due_outbox(self, *args, **kwargs)


def add_articles(self: storage.store.Store, *args: Any, **kwargs: Any) -> Any:
    _refuse_while("NEWSWATCH_FULL_FLAG", self)
    _refuse_while("NEWSWATCH_NEARLY_FULL_FLAG", self)
    return _add_articles(self, *args, **kwargs)


def update_article(self: storage.store.Store, *args: Any, **kwargs: Any) -> Any:
    _refuse_while("NEWSWATCH_FULL_FLAG", self)
    _refuse_while("NEWSWATCH_NEARLY_FULL_FLAG", self)
    return _update_article(self, *args, **kwargs)


def defer_entry(self: storage.store.Store, *args: Any, **kwargs: Any) -> Any:
    _refuse_while("NEWSWATCH_FULL_FLAG", self)
    _refuse_while("NEWSWATCH_NEARLY_FULL_FLAG", self)
    return _defer_entry(self, *args, **kwargs)


if __name__ == "__main__":  # not in the page workers' fork server, which imports this
    storage.store.Store.record_fetch = record_fetch  # type: ignore[method-assign]
    storage.store.Store.add_articles = add_articles  # type: ignore[method-assign]
    storage.store.Store.update_article = update_article  # type: ignore[method-assign]
    storage.store.Store.due_outbox = due_outbox  # type: ignore[method-assign]
    storage.store.Store.defer_entry = defer_entry  # type: ignore[method-assign]
    sys.argv[0] = "newswatch"
    main()
