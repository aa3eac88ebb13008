"""Small SQL building blocks the storage mixins share."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

CHUNK = 400  # values bound in one IN (...) list, well under SQLite's limit on variables
T = TypeVar("T")


def in_chunks(values: Iterable[T]) -> Iterator[tuple[list[T], str]]:
    """``values`` in chunks of CHUNK, each with its ``?,?,...`` placeholders for ``IN (...)``."""
    items = list(values)
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        yield chunk, ",".join("?" * len(chunk))
