"""Stories: which articles are near-duplicates of each other (decided by
:mod:`watchlist.stories`), their stored signatures, and which (story, topic) has alerted."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime

from sqlite_utils import Database

from .clock import from_iso, to_iso
from .ports import Assignment
from .sql import in_chunks
from .views import StoryArticle, StoryView

#: Stored signatures read at a time when the index of stories is rebuilt.
SIGNATURE_ROWS = 2000
#: Texts read at a time to make the signatures of the ledes after their first paragraphs
#: that the articles clustered before schema 43 (62 for the later ones) lack
#: (StoriesMixin.unsigned_second_ledes).
UNSIGNED_ROWS = 500
#: Articles under one title read (the newest), and how much of each one's text.
TITLED_ROWS = 20
TITLED_CHARS = 1500
#: The bands of each stored signature that an index finds articles by, whatever their age
#: (schema 32): the first COPY_BANDS of watchlist.stories' bands (ROWS values of 4 bytes,
#: BAND_BYTES), of the full text's signature and of the lede's. A copy of an article alike
#: at 0.8 in both shares one of the eight 98 times in 100; at 0.9, all but twice in 10,000.
COPY_BANDS = 4
BAND_BYTES = 16
#: Articles found at most for one article's copies (the newest first), before those of its
#: site are kept: a wire text carried by more than a hundred monitored sites left its own
#: site's older copy out at 100. Their addresses alone are read, the signatures of its
#: site's only.
COPY_ROWS = 1000


def band(column: str, number: int) -> str:
    """The SQL of band ``number`` of the signature in ``column``, as its index has it."""
    return f"substr({column}, {number * BAND_BYTES + 1}, {BAND_BYTES})"


#: The indexes of COPY_BANDS bands of both signatures (only articles with signatures), with
#: when each article was fetched: the articles of the story window are not read to be left
#: out (a wire text on 27 sites of a cold cycle: 87 -> 21 us a lookup, all of them in it).
COPY_INDEXES = tuple(
    f"CREATE INDEX articles_{column}_{number} ON articles({band(column, number)}, fetched)"
    f" WHERE {column} IS NOT NULL"
    for column in ("minhash", "lede_minhash") for number in range(COPY_BANDS)
)


class StoriesMixin:
    """Story rows and article → story assignments."""

    db: Database

    def assign_stories(self, assignments: Sequence[Assignment], now: datetime) -> dict[int, int]:
        """Record each article's story and signatures, in one transaction, in order.

        A story id of None starts a new story whose id is the article's own id (so that a
        later assignment in the same call can already name it). Returns article id → story id.
        """
        assigned: dict[int, int] = {}
        with self.db.atomic():
            for article_id, story_id, full, lede, second in assignments:
                if story_id is None:
                    story_id = article_id
                    self.db.execute(
                        "INSERT OR IGNORE INTO stories (id, first_article, created) "
                        "VALUES (?, ?, ?)",
                        [story_id, article_id, to_iso(now)],
                    )
                self.db.execute(
                    "UPDATE articles SET story_id = ?, minhash = ?, lede_minhash = ?,"
                    " second_minhash = ? WHERE id = ?",
                    [story_id, full, lede, second, article_id],
                )
                assigned[article_id] = story_id
        return assigned

    def recent_signatures(
        self, since: datetime
    ) -> Iterator[tuple[int, int, bytes, bytes, bytes | None, str]]:
        """(article id, story id, full signature, lede signature, the signatures of the ledes
        after its first paragraphs or None (Signature.to_bytes), URL) of every clustered
        article fetched since ``since`` that has signatures, oldest first: what the
        in-memory index of stories is rebuilt from. Read from their own table (schema 42),
        not from the articles, where each row's signatures come after its text (SQLite read
        every text of the window to reach them), from the window's first article on (found
        by the index of fetch times). Read SIGNATURE_ROWS at a time (the window's signatures
        are not all in memory twice: rows and index)."""
        # min(article_id + 0): min(article_id) walked the table by id, the older rows first.
        first = self.db.execute(
            "SELECT min(article_id + 0) FROM story_signatures WHERE fetched >= ?",
            [to_iso(since)],
        ).fetchone()[0]
        if first is None:
            return
        after = int(first) - 1
        while True:
            rows = self.db.execute(
                """
                SELECT article_id, story_id, minhash, lede_minhash, second_minhash, url
                FROM story_signatures
                WHERE fetched >= ? AND article_id > ? ORDER BY article_id LIMIT ?
                """,
                [to_iso(since), after, SIGNATURE_ROWS],
            ).fetchall()
            for r in rows:
                second = None if r[4] is None else bytes(r[4])
                yield (int(r[0]), int(r[1]), bytes(r[2]), bytes(r[3]), second, str(r[5]))
            if len(rows) < SIGNATURE_ROWS:
                return
            after = int(rows[-1][0])

    def forget_signatures(self, before: datetime) -> int:
        """Drop the rows of the signatures' own table (schema 42) of articles fetched before
        ``before``, older than any story index reads: it holds the story window's alone.
        The articles keep theirs (the copies of older articles are found by them)."""
        with self.db.atomic():
            cursor = self.db.execute(
                "DELETE FROM story_signatures WHERE fetched < ?", [to_iso(before)])
        return int(cursor.rowcount)

    def stored_before(self, before: datetime) -> bool:
        """Whether an article fetched before ``before`` is stored (the index of fetch times
        answers it)."""
        return self.db.execute(
            "SELECT 1 FROM articles WHERE fetched < ? LIMIT 1", [to_iso(before)]
        ).fetchone() is not None

    def copies(
        self, full: bytes, lede: bytes, before: datetime, keep: Callable[[str], bool]
    ) -> list[tuple[int, int, bytes, bytes, str]]:
        """(article id, story id, full signature, lede signature, URL) of the clustered
        articles fetched before ``before`` (the story window's start: the window's own are
        in the in-memory index) one of whose first COPY_BANDS bands is that band of ``full``
        or of ``lede`` (their indexes find them), of the newest COPY_ROWS of them those
        whose URL ``keep`` takes (its site's): the candidates for an article that is a copy
        of one older than the story window. The signatures are read for those only: a wire
        story's copies on other sites shared its bands, 1 KB of signatures read for each."""
        parts: list[str] = []
        params: list[bytes | int | str | None] = []
        start = to_iso(before)
        for column, values in (("minhash", full), ("lede_minhash", lede)):
            for number in range(COPY_BANDS):
                parts.append(
                    f"SELECT id FROM articles WHERE {band(column, number)} = ?"
                    f" AND {column} IS NOT NULL AND fetched < ?"
                )
                params += [values[number * BAND_BYTES : (number + 1) * BAND_BYTES], start]
        # The ids first, then their rows: PostgreSQL read the table back from its newest row
        # down to the oldest found (20,000 rows for a copy of an old article, 10 ms).
        found = self.db.execute(
            f"""
            SELECT a.id, a.url
            FROM ({" UNION ".join(parts)} ORDER BY id DESC LIMIT ?) AS found
            JOIN articles a ON a.id = found.id
            """,
            [*params, COPY_ROWS],
        ).fetchall()
        kept = [int(r[0]) for r in found if keep(str(r[1]))]
        if not kept:
            return []
        rows = self.db.execute(
            f"""
            SELECT id, story_id, minhash, lede_minhash, url FROM articles
            WHERE id IN ({", ".join("?" * len(kept))}) AND story_id IS NOT NULL
              AND minhash IS NOT NULL AND lede_minhash IS NOT NULL
            ORDER BY id DESC
            """,
            kept,
        ).fetchall()
        return [(int(r[0]), int(r[1]), bytes(r[2]), bytes(r[3]), str(r[4])) for r in rows]

    def stale_signatures(self, since: datetime, limit: int) -> list[tuple[int, str]]:
        """(article id, text) of the first ``limit`` articles fetched since ``since`` whose
        stored signatures were made by an older hashing (see migration 14) and are to be
        made again; stale signatures of articles fetched before ``since`` are dropped (the
        index never reads them)."""
        with self.db.atomic():
            # Each listed article's date looked up (the join read the whole table of
            # articles, in a write transaction).
            self.db.execute(
                "DELETE FROM stale_signatures WHERE"
                " (SELECT a.fetched FROM articles a WHERE a.id = article_id) < ?",
                [to_iso(since)],
            )
        # The list's ids first (as RevisionsMixin.rematch_queue): joined, the whole table
        # of articles was read to find the list empty.
        rows = self.db.execute(
            "SELECT id, text FROM articles WHERE id IN"
            " (SELECT article_id FROM stale_signatures ORDER BY article_id LIMIT ?) ORDER BY id",
            [limit],
        ).fetchall()
        return [(int(r[0]), str(r[1])) for r in rows]

    def replace_signatures(
        self, signatures: Sequence[tuple[int, bytes | None, bytes | None, bytes | None]]
    ) -> None:
        """Store the signatures made again for stale ones (article id, full, lede, second
        lede; None for a text too short to compare), in one transaction; they are stale no
        more."""
        with self.db.atomic():
            for article_id, full, lede, second in signatures:
                self.db.execute(
                    "UPDATE articles SET minhash = ?, lede_minhash = ?, second_minhash = ?"
                    " WHERE id = ?",
                    [full, lede, second, article_id],
                )
                self.db.execute("DELETE FROM stale_signatures WHERE article_id = ?", [article_id])

    def unsigned_second_ledes(self, since: datetime) -> Iterator[tuple[int, str]]:
        """(article id, text) of the articles fetched since ``since`` listed as lacking the
        signatures of the ledes after their first paragraphs (clustered before schema 43,
        see migration 45; the later ledes' before 62), by id, read
        UNSIGNED_ROWS at a time. The list's others (fetched before, or no longer signed)
        are dropped from it first, once: the window's signatures' own table tells their
        dates (an article's date comes after its text)."""
        with self.db.atomic():
            self.db.execute(
                "DELETE FROM unsigned_second_ledes WHERE NOT EXISTS (SELECT 1 FROM"
                " story_signatures s WHERE s.article_id = unsigned_second_ledes.article_id"
                " AND s.fetched >= ?)",
                [to_iso(since)],
            )
        after = 0
        while True:
            rows = self.db.execute(
                "SELECT id, text FROM articles WHERE id IN (SELECT article_id FROM"
                " unsigned_second_ledes WHERE article_id > ? ORDER BY article_id LIMIT ?)"
                " ORDER BY id",
                [after, UNSIGNED_ROWS],
            ).fetchall()
            for r in rows:
                yield int(r[0]), str(r[1])
            if len(rows) < UNSIGNED_ROWS:
                return
            after = int(rows[-1][0])

    def sign_second_ledes(
        self, signatures: Sequence[tuple[int, str, bytes | None]]
    ) -> None:
        """Store the signatures of the ledes after their first paragraphs made for the
        articles listed as lacking them (article id, the text they were made from, theirs;
        None: its text has none, or was pruned), in one transaction; they are listed no
        more. An article whose text is another now (edited in place meanwhile) keeps what
        its new text makes. The text tells, not the full signature: that is the text's
        before its site's template blocks were taken out (watchlist.templates), and an
        article of such a site never had its later ledes made."""
        with self.db.atomic():
            for article_id, text, ledes in signatures:
                if ledes is not None:
                    self.db.execute(
                        "UPDATE articles SET second_minhash = ? WHERE id = ? AND text = ?",
                        [ledes, article_id, text],
                    )
                self.db.execute(
                    "DELETE FROM unsigned_second_ledes WHERE article_id = ?", [article_id])

    def short_titles(self, since: datetime) -> set[str]:
        """The titles of the clustered articles fetched since ``since`` whose texts were too
        short to sign (found by the index of fetch times, schema 34: DISTINCT made SQLite
        read the whole archive in the order of its titles)."""
        rows = self.db.execute(
            "SELECT title FROM articles WHERE story_id IS NOT NULL"
            " AND minhash IS NULL AND fetched >= ? AND title != ''",
            [to_iso(since)],
        ).fetchall()
        return {str(r[0]) for r in rows}

    def titled(
        self, title: str, since: datetime, article_id: int
    ) -> list[tuple[int, str, bool, str, datetime | None]]:
        """(story id, URL, whether it has signatures, its text's first TITLED_CHARS
        characters, its publication date) of the clustered articles titled ``title``
        fetched since ``since``, other than ``article_id``, the newest TITLED_ROWS first."""
        rows = self.db.execute(
            """
            SELECT story_id, url, minhash IS NOT NULL, substr(text, 1, ?), published
            FROM articles
            WHERE title = ? AND fetched >= ? AND story_id IS NOT NULL AND id != ?
            ORDER BY id DESC LIMIT ?
            """,
            [TITLED_CHARS, title, to_iso(since), article_id, TITLED_ROWS],
        ).fetchall()
        return [(int(r[0]), str(r[1]), bool(r[2]), str(r[3]), from_iso(r[4])) for r in rows]

    def told_of(self, article_ids: Sequence[int]) -> set[tuple[str, int]]:
        """(recipient, article id) of ``article_ids`` whose story a recipient was mailed
        already: in an immediate email or a digest (sent or waiting in the outbox: not one
        refused for good). An alert still waiting for their digest is not told: an email
        about the story takes it off the queue (``record_matches``' ``mailed``)."""
        told: set[tuple[str, int]] = set()
        for chunk, marks in in_chunks(list(dict.fromkeys(article_ids))):
            told.update((str(r[0]), int(r[1])) for r in self.db.execute(
                f"""
                SELECT DISTINCT o.recipient, a.id FROM articles a
                JOIN articles s ON s.story_id = a.story_id
                JOIN outbox_items i ON i.article_id = s.id JOIN outbox o ON o.id = i.outbox_id
                WHERE a.id IN ({marks}) AND o.status != 'failed'
                """, chunk))
        return told

    def story_sources(self, story_id: int) -> list[tuple[str, str]]:
        """(source name, article URL) of every article of a story, in the order they came."""
        rows = self.db.execute(
            """
            SELECT COALESCE(a.publisher, s.name, s.url), a.url
            FROM articles a JOIN sources s ON s.id = a.source_id
            WHERE a.story_id = ? ORDER BY a.id
            """,
            [story_id],
        ).fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]

    def alerted_stories(
        self, topic_ids: Iterable[int], story_ids: Iterable[int]
    ) -> set[tuple[int, int]]:
        """Which (story id, topic id) pairs of ``story_ids`` and ``topic_ids`` have alerted."""
        stories = sorted(set(story_ids))
        topics = set(topic_ids)
        found: set[tuple[int, int]] = set()
        if not topics:
            return found
        for chunk, marks in in_chunks(stories):
            for story_id, topic_id in self.db.execute(
                f"SELECT story_id, topic_id FROM story_alerts WHERE story_id IN ({marks})", chunk
            ):
                if topic_id in topics:
                    found.add((int(story_id), int(topic_id)))
        return found

    def recent_stories(self, since: datetime, min_sources: int = 1) -> list[StoryView]:
        """Stories whose first article was fetched since ``since``, newest first: id, first
        title and URL, when it started, and each of its articles' source, URL, fetch and
        publication times (the first published first: who had it first, not who was polled
        first), with the topics that alerted for it. Only stories with at least
        ``min_sources`` distinct sources."""
        # The stories by their first articles, found by the index of fetch times (schema
        # 34; a story's id is its first article's): SQLite read every story ever made and
        # looked up its first article, to keep the last days' (400,000 articles: 1.6 s for
        # those of 2 days; a year's, a minute).
        stories = self.db.execute(
            """
            SELECT st.id, st.created, a.title, a.url
            FROM stories st JOIN articles a ON a.id = st.first_article
            WHERE st.id IN (SELECT id FROM articles WHERE fetched >= ?) AND a.fetched >= ?
            ORDER BY st.id DESC
            """,
            [to_iso(since), to_iso(since)],
        ).fetchall()
        # Their articles and alerted topics read for CHUNK stories a query: two queries a
        # story took a second for the stories of 2 days (42,000 stories).
        articles: dict[int, list[StoryArticle]] = {int(r[0]): [] for r in stories}
        alerted: dict[int, list[str]] = {story_id: [] for story_id in articles}
        for chunk, marks in in_chunks(articles):
            for r in self.db.execute(
                f"""
                SELECT a.story_id, COALESCE(a.publisher, s.name, s.url), a.url, a.fetched,
                       a.published
                FROM articles a JOIN sources s ON s.id = a.source_id
                WHERE a.story_id IN ({marks}) ORDER BY COALESCE(a.published, a.fetched), a.id
                """,
                chunk,
            ):
                articles[int(r[0])].append(
                    StoryArticle(str(r[1]), str(r[2]), from_iso(r[3]), from_iso(r[4])))
            for story_id, name in self.db.execute(
                "SELECT sa.story_id, t.name FROM story_alerts sa JOIN topics t "
                f"ON t.id = sa.topic_id WHERE sa.story_id IN ({marks}) ORDER BY t.name",
                chunk,
            ):
                alerted[int(story_id)].append(str(name))
        return [
            StoryView(
                id=int(story_id),
                title=str(title),
                url=str(url),
                started=from_iso(created),
                articles=tuple(articles[int(story_id)]),
                alerted=tuple(alerted[int(story_id)]),
            )
            for story_id, created, title, url in stories
            if len({a.source for a in articles[int(story_id)]}) >= min_sources
        ]

    def story_counts(self, since: datetime) -> dict[str, int]:
        """How many stories started since ``since``, and how many of them several sources
        carry (an aggregator's items: the publishers they name, as `stories` shows them)."""
        # The stories by the index of their starts (schema 36): grouped by st.id, SQLite
        # read every story ever made in its order rather than sort the week's (+st.id).
        row = self.db.execute(
            """
            SELECT COUNT(*), COALESCE(SUM(n > 1), 0) FROM (
                SELECT COUNT(DISTINCT COALESCE(a.publisher, CAST(a.source_id AS TEXT))) AS n
                FROM stories st JOIN articles a ON a.story_id = st.id
                WHERE st.created >= ? GROUP BY +st.id
            )
            """,
            [to_iso(since)],
        ).fetchone()
        return {"stories": int(row[0]), "several_sources": int(row[1])}
