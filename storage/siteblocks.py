"""Each site's memory of text blocks: which normalized, hashed lines of extracted text stood in
which of its articles (see watchlist.templates). It lives in SQLite, so a restart keeps what
the daemon learned of each site's template."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from sqlite_utils import Database

from .clock import to_iso
from .sql import in_chunks


class SiteBlocksMixin:
    """The ``site_blocks`` table and template stripping of stored article text."""

    db: Database

    def remember_blocks(self, rows: Iterable[tuple[str, int, int]]) -> None:
        """Record (site, block hash, article id) rows; rows already known are kept."""
        with self.db.atomic():
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO site_blocks (site, hash, article_id) VALUES (?, ?, ?)",
                list(rows),
            )

    def recurring_blocks(
        self, site: str, hashes: Collection[int], article_id: int, story_id: int, min_others: int
    ) -> dict[int, int]:
        """The ``hashes`` that stand in at least ``min_others`` other stories of ``site``
        (other than article ``article_id`` and its story ``story_id``; an article not yet
        clustered counts as a story of its own), each with how many."""
        found: dict[int, int] = {}
        for chunk, marks in in_chunks(sorted(hashes)):
            rows = self.db.execute(
                f"""
                SELECT b.hash, COUNT(DISTINCT COALESCE(a.story_id, a.id))
                FROM site_blocks b JOIN articles a ON a.id = b.article_id
                WHERE b.site = ? AND b.hash IN ({marks}) AND b.article_id != ?
                    AND COALESCE(a.story_id, a.id) != ?
                GROUP BY b.hash HAVING COUNT(DISTINCT COALESCE(a.story_id, a.id)) >= ?
                """,
                [site, *chunk, article_id, story_id, min_others],
            )
            found.update((int(r[0]), int(r[1])) for r in rows)
        return found

    def site_stories(self, site: str) -> int:
        """How many stories of ``site`` the memory holds blocks of."""
        row = self.db.execute(
            """
            SELECT COUNT(DISTINCT COALESCE(a.story_id, a.id))
            FROM site_blocks b JOIN articles a ON a.id = b.article_id WHERE b.site = ?
            """,
            [site],
        ).fetchone()
        return int(row[0])

    def stories_since(self, site: str, hashes: Collection[int]) -> dict[int, int]:
        """For each of ``hashes``: how many stories of ``site`` the memory holds from the
        first article that had the block on (that one's included)."""
        found: dict[int, int] = {}
        since: dict[int, int] = {}  # first article id: stories from it on (shared by a
        # template's lines, which its first article had all)
        for chunk, marks in in_chunks(sorted(hashes)):
            firsts = self.db.execute(
                f"SELECT hash, MIN(article_id) FROM site_blocks WHERE site = ?"
                f" AND hash IN ({marks}) GROUP BY hash",
                [site, *chunk],
            ).fetchall()
            for block, first in firsts:
                if first not in since:
                    row = self.db.execute(
                        """
                        SELECT COUNT(DISTINCT COALESCE(a.story_id, a.id))
                        FROM site_blocks b JOIN articles a ON a.id = b.article_id
                        WHERE b.site = ? AND b.article_id >= ?
                        """,
                        [site, first],
                    ).fetchone()
                    since[first] = int(row[0])
                found[int(block)] = since[first]
        return found

    def strip_texts(self, texts: Iterable[tuple[int, str, int]]) -> None:
        """Store each (article id, text without its site's template, blocks removed); the
        article's ``extraction_note`` says so (once)."""
        with self.db.atomic():
            self.db.conn.executemany(
                """
                UPDATE articles SET text = ?,
                    extraction_note = CASE
                        WHEN instr(COALESCE(extraction_note, ''), 'site template removed') THEN
                            extraction_note
                        ELSE COALESCE(extraction_note || '; ', '')
                            || 'site template removed (' || ? || ' block(s))'
                    END
                WHERE id = ?
                """,
                [(text, removed, article_id) for article_id, text, removed in texts],
            )

    def forget_blocks(self, before: datetime) -> int:
        """Forget the blocks of articles fetched before ``before`` (their text is pruned);
        returns how many rows went.

        Those fetched since the first article that still has blocks, found by the index of
        fetch times (schema 34): each hourly pass read the whole archive, texts included,
        to find the articles before ``before`` and looked each one up here, holding the
        write lock (400,000 articles: 0.65 s to delete nothing; a year's 11 million,
        seconds every hour). Articles are stored in the order they are fetched."""
        with self.db.atomic():
            row = self.db.execute(
                "SELECT fetched FROM articles WHERE id ="
                " (SELECT min(article_id) FROM site_blocks)"
            ).fetchone()
            if row is None or row[0] >= to_iso(before):
                return 0
            cursor = self.db.execute(
                """
                DELETE FROM site_blocks WHERE article_id IN
                    (SELECT id FROM articles WHERE fetched >= ? AND fetched < ?)
                """,
                [row[0], to_iso(before)],
            )
            return int(cursor.rowcount)
