"""``newswatch ARGS`` whose database is full while the file that NEWSWATCH_FULL_FLAG names
exists (tests/test_recovery.py): a poll's record fails as SQLite's does on a full disk
("database or disk is full"), which this machine cannot be made to be for a test.

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


def record_fetch(self: storage.store.Store, *args: Any, **kwargs: Any) -> Any:
    flag = os.environ.get("NEWSWATCH_FULL_FLAG")
    if flag and Path(flag).exists():
        raise StorageError(f"database {self.path}: database or disk is full")
    return _record_fetch(self, *args, **kwargs)


if __name__ == "__main__":  # not in the page workers' fork server, which imports this
    storage.store.Store.record_fetch = record_fetch  # type: ignore[method-assign]
    sys.argv[0] = "newswatch"
    main()
