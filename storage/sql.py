"""Small SQL building blocks the storage mixins share."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

CHUNK = 400  # values bound in one IN (...) list, well under SQLite's limit on variables
T = TypeVar("T")


def in_chunks(values: Iterable[T]) -> Iterator[tuple[list[T], str]]:
    """``values`` in chunks of CHUNK, each with its ``?,?,...`` placeholders for ``IN (...)``."""
    items = list(values)
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        yield chunk, ",".join("?" * len(chunk))


def state_value(db: Any, key: str) -> str | None:
    """The value the ``state`` table keeps under ``key``; None when it keeps none."""
    row = db.execute("SELECT value FROM state WHERE key = ?", [key]).fetchone()
    return str(row[0]) if row else None


def keep_state(db: Any, key: str, value: str) -> None:
    """Keep ``value`` under ``key`` in the ``state`` table (replacing the one kept)."""
    db.execute(
        "INSERT INTO state (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )
