"""Percolation: run many stored queries against a small batch of new documents.

The batch goes into a throwaway in-memory FTS5 table with the same tokenizer as the archive;
each query then costs one small FTS5 lookup, whatever the size of the archive.  The table's
columns are ``title``, ``text`` and ``source`` (the source's name and host, for ``source:``
queries); queries restrict their unscoped terms to title and text themselves (see
``watchlist.compile_query``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping

from .errors import StorageError
from .segment import segment

TOKENIZER = "unicode61 remove_diacritics 2"

Doc = tuple[int, str, str] | tuple[int, str, str, str]


def _rows(docs: Iterable[Doc]) -> Iterator[tuple[int, str, str, str]]:
    """The documents as FTS5 reads them: each CJK character a word (storage.segment)."""
    for doc in docs:
        yield (doc[0], segment(doc[1]), segment(doc[2]), segment(doc[3] if len(doc) > 3 else ""))


def percolate(docs: Iterable[Doc], queries: Mapping[int, str]) -> dict[int, list[int]]:
    """For each query id, the ids of the documents it matches.

    A document is ``(id, title, text, source)``, source being ``"<source name> <host>"``;
    ``(id, title, text)`` is accepted too (no source).
    """
    conn = sqlite3.connect(":memory:")
    try:
        # Contentless, without column sizes: only the index is written (percolation reads
        # rowids, never the text, and does not rank).
        conn.execute(
            "CREATE VIRTUAL TABLE batch USING fts5(title, text, source, "
            f"tokenize='{TOKENIZER}', content='', columnsize=0)"
        )
        conn.executemany(
            "INSERT INTO batch (rowid, title, text, source) VALUES (?, ?, ?, ?)", _rows(docs)
        )
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
