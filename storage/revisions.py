"""Articles edited in place: their new versions, and the queue of articles to match again.

A new version is written together with its place in the ``rematch`` queue (one
transaction); the queue entry is removed together with the matches it leads to (see
``TopicsMixin.record_matches``). A crash in between leaves the article queued, never lost;
so does an edit written while its verdict is decided (``rematch.edits``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from sqlite_utils import Database

from .articles import STORED_COLUMNS, stored_article
from .clock import to_iso
from .models import Article, StoredArticle
from .sql import in_chunks


class RevisionsMixin:
    """New versions of stored articles and the re-match queue."""

    db: Database

    def update_article(self, article_id: int, version: Article, now: datetime) -> bool:
        """Store a newer version of article ``article_id`` (its source showed a later date).

        When the title or text changed, they replace the stored ones and the article is
        queued to be matched again; either way its date becomes ``version.updated``, so the
        same date does not fetch the page again. Returns whether anything changed. The
        article's URL, publication date and story stay as they are.
        """
        with self.db.atomic():
            row = self.db.execute(
                "SELECT title, text FROM articles WHERE id = ?", [article_id]
            ).fetchone()
            if row is None:
                raise KeyError(article_id)
            changed = (row[0], row[1]) != (version.title, version.text)
            if changed:
                self.db.execute(
                    """
                    UPDATE articles SET title = ?, text = ?, author = COALESCE(?, author),
                        extraction = ?, extraction_note = ?, updated = ?
                    WHERE id = ?
                    """,
                    [
                        version.title,
                        version.text,
                        version.author,
                        version.extraction,
                        version.extraction_note,
                        to_iso(version.updated),
                        article_id,
                    ],
                )
                # An edit, though it waited as listed by another source; one more, where
                # a verdict read the queue before it (see TopicsMixin.record_matches).
                self.db.execute(
                    "INSERT INTO rematch (article_id, queued) VALUES (?, ?)"
                    " ON CONFLICT (article_id) DO UPDATE SET relisted = 0,"
                    " edits = rematch.edits + 1",
                    [article_id, to_iso(now)],
                )
            else:
                self.keep_version(article_id, version.updated, version.entry_url)
            self.db.execute(
                "DELETE FROM deferred_entries WHERE url IN (?, ?)",
                [version.url, version.entry_url],
            )
        return changed

    def keep_version(self, article_id: int, updated: datetime | None, entry_url: str) -> None:
        """Keep the stored version of an article whose newer version could not be read
        (or did not differ), and record ``updated`` so that this date is not fetched again."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE articles SET updated = ? WHERE id = ?", [to_iso(updated), article_id]
            )
            self.db.execute("DELETE FROM deferred_entries WHERE url = ?", [entry_url])

    def rematch_queue(self, limit: int = 500, *, relisted: bool = False) -> list[StoredArticle]:
        """Articles whose text changed in place and wait to be matched again, oldest first;
        ``relisted``: those that another source lists now (ArticlesMixin.note_listed). Each
        with the edits and listings its place was written for (``queued_edits``,
        ``queued_listings``, in the same read)."""
        # The queue's ids first, then their rows: joined, SQLite read the whole table of
        # articles at every cycle's end to find the queue empty (a year's archive of 11
        # million articles: seconds a cycle, twice).
        rows = self.db.query(
            f"SELECT {STORED_COLUMNS}, r.edits AS queued_edits, r.listings AS queued_listings"
            " FROM articles a JOIN sources s ON s.id = a.source_id"
            " JOIN rematch r ON r.article_id = a.id"
            " WHERE a.id IN (SELECT article_id FROM rematch WHERE relisted = ?"
            " ORDER BY article_id LIMIT ?) ORDER BY a.id", [int(relisted), limit]
        )
        return [replace(stored_article(r), queued_edits=r["queued_edits"],
                        queued_listings=r["queued_listings"]) for r in rows]

    def rematch_count(self) -> int:
        """How many articles wait to be matched again."""
        return int(self.db.execute("SELECT COUNT(*) FROM rematch").fetchone()[0])

    def matched_pairs(self, article_ids: Iterable[int]) -> set[tuple[int, int]]:
        """The (article id, topic id) matches already recorded for ``article_ids``."""
        found: set[tuple[int, int]] = set()
        for chunk, marks in in_chunks(list(dict.fromkeys(article_ids))):
            found.update(
                (int(a), int(t))
                for a, t in self.db.execute(
                    f"SELECT article_id, topic_id FROM matches WHERE article_id IN ({marks})",
                    chunk,
                )
            )
        return found
