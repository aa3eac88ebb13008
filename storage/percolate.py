"""Percolation: run many stored queries against a small batch of new documents.

The batch goes into a throwaway in-memory FTS5 table with the same tokenizer as the archive;
each query then costs one small FTS5 lookup, whatever the size of the archive.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping

from .errors import StorageError

TOKENIZER = "unicode61 remove_diacritics 2"


def percolate(
    docs: Iterable[tuple[int, str, str]], queries: Mapping[int, str]
) -> dict[int, list[int]]:
    """For each query id, the ids of the documents ``(id, title, text)`` it matches."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f"CREATE VIRTUAL TABLE batch USING fts5(title, text, tokenize='{TOKENIZER}')")
        conn.executemany("INSERT INTO batch (rowid, title, text) VALUES (?, ?, ?)", docs)
        hits: dict[int, list[int]] = {}
        for query_id, expression in queries.items():
            try:
                rows = conn.execute(
                    "SELECT rowid FROM batch WHERE batch MATCH ? ORDER BY rowid", [expression]
                ).fetchall()
            except sqlite3.OperationalError as exc:
                raise StorageError(f"query {query_id} rejected by FTS5: {exc}") from exc
            if rows:
                hits[query_id] = [r[0] for r in rows]
        return hits
    finally:
        conn.close()
