"""The articles table (and its full-text index, kept in sync by triggers)."""

from __future__ import annotations

import json
import logging
import math
import re
import sqlite3
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlite_utils import Database

from .clock import from_iso, to_iso
from .errors import StorageError
from .identity import identity_key
from .models import Article, DeferredEntry, KnownUrl, StoredArticle
from .sql import in_chunks
from .views import ExportedArticle

logger = logging.getLogger(__name__)


def stored_article(row: dict[str, Any]) -> StoredArticle:
    """A row of SELECT_STORED as a StoredArticle."""
    fetched = from_iso(row["fetched"])
    assert fetched is not None
    return StoredArticle(
        id=row["id"],
        url=row["url"],
        source_id=row["source_id"],
        source_name=row["source_name"],
        title=row["title"],
        text=row["text"],
        published=from_iso(row["published"]),
        fetched=fetched,
        extraction=row["extraction"],
        baseline=bool(row["baseline"]),
        source_url=row["source_url"],
        source_label=row["source_label"],
        story_id=row.get("story_id"),
        updated=from_iso(row.get("updated")),
        since=from_iso(row.get("since")),  # schema 30
    )


#: Stored articles with their source's name and URL: add WHERE, ORDER BY and LIMIT.
#: The reason of the skipped URLs an undated sitemap listed at its source's first poll.
LISTED_BEFORE = "listed before its source's first poll"


#: How many entries of the date index (schema 35) are walked in the time an article's row is
#: read through its text's pages (200,000 articles: 0.06 µs an entry, 1.75 µs a row, cached).
WALK_PER_ROW = 20
#: How many hits go into a list to look articles up in, in the time one article is looked
#: up in the FTS5 index itself (0.12 µs a hit, 60 µs a look-up).
PROBE_PER_HIT = 500

STORED_COLUMNS = """
    a.*, COALESCE(a.publisher, s.name, s.url) AS source_name, s.url AS source_url,
    COALESCE(s.name, s.url) AS source_label
"""
SELECT_STORED = f"SELECT {STORED_COLUMNS} FROM articles a JOIN sources s ON s.id = a.source_id"


class ArticlesMixin:
    """Article rows, identified by canonical URL."""

    db: Database

    def known_urls(self, urls: Iterable[str]) -> set[str]:
        """Which of ``urls`` are already stored (by identity, see :meth:`known_articles`)."""
        return set(self.known_articles(urls))

    def known_articles(self, urls: Iterable[str]) -> dict[str, KnownUrl]:
        """The canonical ``urls`` seen before: stored under the same identity (as an
        article's URL, or as an alias such as its feed entry's URL), or skipped as no
        article."""
        wanted = list(dict.fromkeys(urls))
        keys = {url: identity_key(url) for url in wanted}
        by_key: dict[str, KnownUrl] = {}
        for chunk, marks in in_chunks(list(dict.fromkeys(keys.values()))):
            for key, article_id, updated, fetched, title, published, source in self.db.execute(
                f"""
                SELECT identity, id, updated, fetched, title, published, source_id FROM articles
                WHERE identity IN ({marks})
                UNION ALL
                SELECT al.identity, a.id, a.updated, a.fetched, a.title, a.published,
                       a.source_id
                FROM article_aliases al JOIN articles a ON a.id = al.article_id
                WHERE al.identity IN ({marks})
                """,
                chunk + chunk,
            ):
                when = from_iso(fetched)
                by_key[key] = KnownUrl(
                    article_id, from_iso(updated) or when, when, title, from_iso(published),
                    source
                )
        skipped: set[str] = set()
        for chunk, marks in in_chunks(wanted):
            skipped.update(
                row[0]
                for row in self.db.execute(
                    f"SELECT url FROM skipped_urls WHERE url IN ({marks})", chunk
                )
            )
        known = {url: by_key[keys[url]] for url in wanted if keys[url] in by_key}
        known.update({url: KnownUrl() for url in skipped if url not in known})
        return known

    def feed_items_titled(
        self, source_id: int, titles: Iterable[str]
    ) -> dict[str, tuple[KnownUrl, str]]:
        """The articles the source ``source_id`` stored from its feed's items with one of
        ``titles`` (exactly as stored), by URL, each with its text: an item without a link
        is known by its title and text, or its title and date, where its guid is written
        anew at every poll (see crawler.entries)."""
        found: dict[str, tuple[KnownUrl, str]] = {}
        for chunk, marks in in_chunks(list(dict.fromkeys(titles))):
            for url, article_id, updated, fetched, title, published, text in self.db.execute(
                f"""
                SELECT url, id, updated, fetched, title, published, text FROM articles
                WHERE title IN ({marks}) AND source_id = ? AND extraction = 'feed'
                """,
                [*chunk, source_id],
            ):
                when = from_iso(fetched)
                found[url] = (KnownUrl(article_id, from_iso(updated) or when, when, title,
                                       from_iso(published), source_id), text)
        return found

    def note_listed(self, article_ids: Sequence[int], source_id: int, now: datetime) -> int:
        """Note that the source ``source_id`` lists the stored articles ``article_ids`` too
        (each stored by another source): one not noted before is matched again for the
        topics limited to it (the re-match queue, as no edit; the listing ``anew`` until
        that verdict is recorded), and found by ``source:`` and that source's name in the
        archive's index; how many were new."""
        # In the order of their ids, as a verdict takes them from the re-match queue: each
        # waits for the other's place in the queue in one order (PostgreSQL).
        wanted = sorted(set(article_ids))
        for chunk, marks in in_chunks(wanted):  # read first: at most polls, nothing new
            done = {row[0] for row in self.db.execute(
                f"SELECT article_id FROM article_sources WHERE source_id = ?"
                f" AND article_id IN ({marks})", [source_id, *chunk])}
            wanted = [i for i in wanted if i not in done]
        noted = 0
        if not wanted:
            return 0
        with self.db.atomic():
            for article_id in wanted:
                added = self.db.execute(
                    "INSERT INTO article_sources (article_id, source_id, anew) VALUES (?, ?, 1)"
                    " ON CONFLICT DO NOTHING", [article_id, source_id]).rowcount
                if added:
                    noted += 1
                    # Queued already: counted (rematch.listings), for a verdict read before
                    # it to leave the story queued (TopicsMixin.record_matches).
                    self.db.execute(
                        "INSERT INTO rematch (article_id, queued, relisted) VALUES (?, ?, 1)"
                        " ON CONFLICT (article_id) DO UPDATE SET listings = rematch.listings + 1",
                        [article_id, to_iso(now)])
                    # Searched under that source's name too, as matching finds it (schema 44).
                    self.db.execute(
                        "UPDATE articles SET source = source || ' ' ||"
                        " (SELECT COALESCE(name, url) FROM sources WHERE id = ?) WHERE id = ?",
                        [source_id, article_id])
        return noted

    def with_listing_sources(
        self, articles: Sequence[StoredArticle], *, anew: bool = False
    ) -> list[StoredArticle]:
        """``articles`` with the other sources that list them (``also_from``: name, URL),
        where any do: a topic of such a source matches the article too, so whatever judges
        it again (`search`, `topics test`, a digest) reads it with them. ``anew``: with
        those of them whose listing no verdict has seen yet too (``new_from``, see
        note_listed), for the re-match of the articles listed anew."""
        found: dict[int, list[tuple[str, str]]] = {}
        new_from: dict[int, list[tuple[str, str]]] = {}
        for chunk, marks in in_chunks(list(dict.fromkeys(a.id for a in articles))):
            for article_id, name, url, new in self.db.execute(
                f"""
                SELECT x.article_id, COALESCE(s.name, s.url), s.url, {"x.anew" if anew else 0}
                FROM article_sources x JOIN sources s ON s.id = x.source_id
                WHERE x.article_id IN ({marks}) ORDER BY x.article_id, s.id
                """,
                chunk,
            ):
                found.setdefault(article_id, []).append((name, url))
                if new:
                    new_from.setdefault(article_id, []).append((name, url))
        return [replace(a, also_from=tuple(found[a.id]), new_from=tuple(new_from.get(a.id, ())))
                if a.id in found else a for a in articles]

    def of_removed_sources(self, article_ids: Iterable[int]) -> set[int]:
        """Which of ``article_ids`` only removed sources list: the source that stored each
        one was removed (``sources remove``, or taken out of the config file) and no source
        still polled lists it too. A source deactivated as gone (HTTP 410) was not removed:
        what it stored before is news its reader still wants."""
        found: set[int] = set()
        for chunk, marks in in_chunks(list(dict.fromkeys(article_ids))):
            found.update(row[0] for row in self.db.execute(
                f"""
                SELECT a.id FROM articles a JOIN sources s ON s.id = a.source_id
                WHERE a.id IN ({marks}) AND s.active = 0 AND s.deactivated IS NULL
                AND NOT EXISTS (
                    SELECT 1 FROM article_sources x JOIN sources o ON o.id = x.source_id
                    WHERE x.article_id = a.id AND (o.active = 1 OR o.deactivated IS NOT NULL)
                )
                """,
                chunk,
            ))
        return found

    def add_article(self, article: Article) -> int | None:
        """Store a new article; None when an article of the same identity is stored (one of
        another entry and title there makes it stored under its entry's address instead)."""
        with self.db.atomic():
            return self._insert_article(article)

    def add_articles(self, articles: Sequence[Article]) -> list[int | None]:
        """Store new articles, in order, in one transaction (one commit and one flush of the
        full-text index for all of them); each one's id, None where an article of the same
        identity is stored (or came earlier in ``articles``)."""
        with self.db.atomic():
            return [self._insert_article(article) for article in articles]

    def _insert_article(self, article: Article) -> int | None:
        identity = identity_key(article.url)
        existing = self._article_by_identity(identity)
        if existing is not None and identity_key(article.entry_url) != identity:
            moved = self._own_address(existing, article)
            if moved is not article:
                article, identity = moved, identity_key(moved.url)
                existing = self._article_by_identity(identity)
        new_id = None
        if existing is None:
            # since (schema 30) only when known: the tests' databases of older schemas
            # take today's articles.
            since = ", since" if article.since is not None else ""
            # publisher (schema 33) likewise.
            publisher = ", publisher" if article.publisher else ""
            cursor = self.db.execute(
                f"""
                INSERT INTO articles (url, entry_url, source_id, title, text, author,
                                      published, fetched, extraction, extraction_note,
                                      baseline, source, identity, updated{since}{publisher})
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
                        (SELECT COALESCE(name, url) FROM sources WHERE id = ?) || ' ' || ?,
                        ?, ?{", ?" if since else ""}{", ?" if publisher else ""})
                ON CONFLICT DO NOTHING
                """,
                [
                    article.url,
                    article.entry_url,
                    article.source_id,
                    article.title,
                    article.text,
                    article.author,
                    to_iso(article.published),
                    to_iso(article.fetched),
                    article.extraction,
                    article.extraction_note,
                    int(article.baseline),
                    article.source_id,
                    " ".join(filter(None, (urlsplit(article.url).hostname, article.publisher))),
                    identity,
                    to_iso(article.updated),
                    *([to_iso(article.since)] if since else []),
                    *([article.publisher] if publisher else []),
                ],
            )
            new_id = cursor.lastrowid if cursor.rowcount else None
            existing = new_id
        if existing is not None:
            # The entry's own address leads to this article from now on (never fetched again),
            # and so does its item's guid, the first article's that had it (see
            # crawler.entries: an item whose link changed is known by it).
            for address in filter(None, (article.entry_url, article.guid_address)):
                self.db.execute(
                    """
                    INSERT INTO article_aliases (identity, article_id)
                    SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM articles WHERE identity = ?)
                    ON CONFLICT DO NOTHING
                    """,
                    [identity_key(address), existing, identity_key(address)],
                )
        self.db.execute(
            "DELETE FROM deferred_entries WHERE url IN (?, ?)", [article.url, article.entry_url]
        )
        return new_id

    def _own_address(self, existing: int, article: Article) -> Article:
        """``article`` under its entry's address when the page it reached is stored as
        ``existing``, a different article (another entry, another title): a page that many
        articles name canonical (a section page) or redirect to (a consent page). Otherwise
        ``article`` as it is: the same article, reached by another of its addresses."""
        shared, their_entry, their_title, their_text = self.db.execute(
            "SELECT url, entry_url, title, text FROM articles WHERE id = ?", [existing]
        ).fetchone()
        address, entry, theirs = (
            identity_key(article.url), identity_key(article.entry_url), identity_key(their_entry)
        )
        title, other_title = _words(article.title), _words(their_title)
        if theirs == entry or not title or not other_title or title == other_title:
            return article
        logger.info(
            "%s: its page %s is also article %d's (%r): kept under its own address",
            article.entry_url, article.url, existing, their_title,
        )
        note = f"page {article.url} shared with other articles"
        if identity_key(shared) == address != theirs and self._article_by_identity(theirs) in (
            None, existing
        ):
            # The first article there took the shared address: it moves to its own entry's,
            # and the shared one stays its alias, so the next article there is told apart too.
            self.db.execute("DELETE FROM article_aliases WHERE identity = ?", [theirs])
            self.db.execute(
                "UPDATE articles SET url = ?, identity = ?,"
                " extraction_note = COALESCE(extraction_note || '; ', '') || ? WHERE id = ?",
                [their_entry, theirs, note, existing],
            )
            self.db.execute(
                "INSERT INTO article_aliases (identity, article_id) VALUES (?, ?)"
                " ON CONFLICT DO NOTHING",
                [address, existing],
            )
        if article.text == their_text and article.summary:
            # One text for two articles is the page's own (an interstitial's), not theirs.
            return replace(article, url=article.entry_url, text=article.summary,
                           extraction="feed", extraction_note=f"{note}, whose text is theirs too")
        return replace(article, url=article.entry_url, extraction_note=note)

    def _article_by_identity(self, identity: str) -> int | None:
        """The article stored under ``identity`` (its own or an alias), if any."""
        row = self.db.execute(
            """
            SELECT id FROM articles WHERE identity = ?
            UNION ALL SELECT article_id FROM article_aliases WHERE identity = ?
            """,
            [identity, identity],
        ).fetchone()
        return int(row[0]) if row else None

    def defer_entry(
        self, entry: DeferredEntry, error: str, now: datetime, attempted: bool = True
    ) -> int:
        """Note that an entry's page was unavailable for now, with what its source said of
        it; returns the attempts so far (this one counted if ``attempted``: not for a page
        refused unsent). The row belongs to the source that deferred it last, whose next poll
        requests it again (that poll saved no validators)."""
        self.db.execute(
            """
            INSERT INTO deferred_entries (url, source_id, attempts, last_error, first_seen,
                                          link, title, summary, published, author, updated,
                                          guid, linked, baseline, content, since, publisher,
                                          unread, guid_address)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(url) DO UPDATE SET
                attempts = attempts + excluded.attempts,
                -- Postponed (a poll of more new pages than it takes), a page unavailable
                -- keeps its error: status said it was waiting its turn.
                last_error = CASE WHEN excluded.last_error LIKE 'postponed:%'
                                  THEN deferred_entries.last_error
                                  ELSE excluded.last_error END,
                source_id = excluded.source_id, link = excluded.link, title = excluded.title,
                summary = excluded.summary, published = excluded.published,
                author = excluded.author, updated = excluded.updated, guid = excluded.guid,
                linked = excluded.linked, baseline = excluded.baseline,
                content = excluded.content, publisher = excluded.publisher,
                unread = excluded.unread, guid_address = excluded.guid_address,
                since = CASE WHEN deferred_entries.since IS NULL
                                  OR excluded.since < deferred_entries.since
                             THEN excluded.since ELSE deferred_entries.since END
            """,
            [
                entry.url,
                entry.source_id,
                int(attempted),
                error,
                to_iso(now),
                entry.link,
                entry.title,
                entry.summary,
                to_iso(entry.published),
                entry.author,
                to_iso(entry.updated),
                entry.guid,
                int(entry.linked),
                int(entry.baseline),
                entry.content,
                to_iso(entry.since),
                entry.publisher,
                entry.unread,
                entry.guid_address,
            ],
        )
        row = self.db.execute(
            "SELECT attempts FROM deferred_entries WHERE url = ?", [entry.url]
        ).fetchone()
        return int(row[0])

    def deferred_entries(self, source_id: int) -> list[DeferredEntry]:
        """The source's entries whose page is still to be fetched, oldest first (a row
        deferred before migration 15 holds no entry: it waits for its source to list it)."""
        rows = self.db.query(
            """
            SELECT url, source_id, link, title, summary, published, author, updated, guid,
                   linked, baseline, content, since, publisher, unread, guid_address
            FROM deferred_entries WHERE source_id = ? AND link IS NOT NULL
            ORDER BY first_seen, url
            """,
            [source_id],
        )
        return [
            DeferredEntry(
                url=row["url"],
                source_id=row["source_id"],
                link=row["link"],
                title=row["title"],
                summary=row["summary"],
                published=from_iso(row["published"]),
                author=row["author"],
                updated=from_iso(row["updated"]),
                guid=row["guid"],
                linked=bool(row["linked"]),
                baseline=bool(row["baseline"]),
                content=row["content"],
                since=from_iso(row["since"]),
                publisher=row["publisher"],
                unread=row["unread"],
                guid_address=row["guid_address"],
            )
            for row in rows
        ]

    def remember_listed(self, urls: Sequence[str], source_id: int, now: datetime) -> None:
        """Remember ``urls`` as pages not to fetch, listed before they could be told new (an
        undated sitemap's at its source's first poll; pruned after database.keep, as other
        skipped URLs); one remembered so already is seen again now. An article's URL is not
        touched."""
        with self.db.atomic():
            self.db.conn.executemany(
                """
                INSERT INTO skipped_urls (url, source_id, reason, seen) VALUES (?, ?, ?, ?)
                ON CONFLICT(url) DO UPDATE SET seen = excluded.seen
                WHERE skipped_urls.reason = excluded.reason
                """,
                [(url, source_id, LISTED_BEFORE, to_iso(now)) for url in dict.fromkeys(urls)],
            )

    def skip_url(self, url: str, source_id: int, reason: str, now: datetime) -> None:
        """Remember a linked page that is no article, so that it is not fetched again."""
        with self.db.atomic():
            self.db.execute(
                """
                INSERT INTO skipped_urls (url, source_id, reason, seen) VALUES (?, ?, ?, ?)
                ON CONFLICT(url) DO NOTHING
                """,
                [url, source_id, reason, to_iso(now)],
            )
            self.db.execute("DELETE FROM deferred_entries WHERE url = ?", [url])

    def drop_deferred(self, url: str) -> None:
        """Forget the deferred entry at ``url`` (its item is read at another address now)."""
        self.db.execute("DELETE FROM deferred_entries WHERE url = ?", [url])

    def deferred_count(self, source_id: int | None = None) -> int:
        """How many entries wait for their page to become available."""
        if source_id is None:
            return int(self.db.execute("SELECT COUNT(*) FROM deferred_entries").fetchone()[0])
        return int(
            self.db.execute(
                "SELECT COUNT(*) FROM deferred_entries WHERE source_id = ?", [source_id]
            ).fetchone()[0]
        )

    def articles_after(self, article_id: int, limit: int = 500) -> list[StoredArticle]:
        """Articles stored after row ``article_id``, oldest first."""
        rows = self.db.query(
            SELECT_STORED + " WHERE a.id > ? ORDER BY a.id LIMIT ?", [article_id, limit]
        )
        return [stored_article(r) for r in rows]

    def last_article_id(self) -> int:
        """The id of the article stored last (0: none)."""
        return int(self.db.execute("SELECT COALESCE(MAX(id), 0) FROM articles").fetchone()[0])

    def unmatched_articles(
        self, limit: int = 500, waiting: Collection[int] = (), after: int = 0,
        through: int | None = None,
    ) -> list[StoredArticle]:
        """Articles not matched yet, oldest first, except those of the ``waiting`` sources
        (source ids: their poll is still in progress); ``after``: those of higher ids only
        (the ones up to it are being matched); ``through``: those up to that id only (the
        ones stored when a pass began: see last_article_id)."""
        sql = SELECT_STORED + " WHERE a.unmatched = 1"
        params: list[Any] = []
        if after:
            sql += " AND a.id > ?"
            params.append(after)
        if through is not None:
            sql += " AND a.id <= ?"
            params.append(through)
        if waiting:  # one parameter, however many sources
            sql += " AND a.source_id NOT IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(sorted(waiting)))
        rows = self.db.query(sql + " ORDER BY a.id LIMIT ?", [*params, limit])
        return [stored_article(r) for r in rows]

    def search(
        self, compiled: str, since: datetime | None = None, limit: int = 100, offset: int = 0,
        until: datetime | None = None,
    ) -> list[StoredArticle]:
        """Archived articles the FTS5 expression ``compiled`` matches, newest first.

        "Newest" is by publication date, or fetch date for undated articles; ``since`` keeps
        those of that date or later, ``until`` those before it. Raises StorageError when
        FTS5 rejects the expression. The index has each CJK character a word, as the
        matching reads a text (storage.segment; schema 21).

        A common word's hits are found by walking the archive newest first by that date
        (schema 35) until enough of them are seen; a rarer one's are sorted by it alone
        (not with their rows, texts included), the page's rows read after. Joining every
        hit to its article and sorting them all, each row read through its text's pages,
        took 2.3 to 5 s for a common word in 400,000 articles (a year: 11 million),
        ``since`` or not.
        """
        when = "COALESCE(a.published, a.fetched)"
        bounds, params = "", []
        if since is not None:
            bounds += f" AND {when} >= ?"
            params.append(to_iso(since))
        if until is not None:
            bounds += f" AND {when} < ?"
            params.append(to_iso(until))
        order = f" ORDER BY {when} DESC, a.id DESC"
        try:
            how = self._search_plan(compiled, limit + offset, bounds, params)
            if how == "rows":
                # The page's rows by id: SQLite walked the whole date index not to sort them.
                sql = SELECT_STORED.replace("FROM articles a", "FROM articles a NOT INDEXED") + (
                    " WHERE a.id IN (SELECT a.id FROM articles_fts f CROSS JOIN articles a"
                    " ON a.id = f.rowid WHERE articles_fts MATCH ?"
                    f"{bounds}{order} LIMIT ? OFFSET ?)"
                )
                rows = self.db.query(sql + order, [compiled, *params, limit, offset])
            else:
                hit = ("EXISTS (SELECT 1 FROM articles_fts WHERE articles_fts MATCH ?"
                       " AND rowid = a.id)" if how == "probe" else
                       "a.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)")
                sql = SELECT_STORED.replace(
                    "FROM articles a", "FROM articles a INDEXED BY articles_when"
                ) + f" WHERE {hit}{bounds}{order} LIMIT ? OFFSET ?"
                rows = self.db.query(sql, [compiled, *params, limit, offset])
            return self.with_listing_sources([stored_article(r) for r in rows])
        except sqlite3.OperationalError as exc:
            raise StorageError(f"search rejected by FTS5: {exc}") from exc

    def _search_plan(self, compiled: str, wanted: int, bounds: str, params: list[Any]) -> str:
        """How the ``wanted`` newest articles ``compiled`` matches (between ``bounds``) are
        found soonest: "rows", every hit's row read for its date and the hits sorted (a
        rare word); "list", the archive's date index walked newest first, each article
        looked up in the list of hits (a common word); "probe", the same walk asking the
        index of each article (a word of most articles: no list of millions of hits).
        The hits are taken as spread evenly over the archive, counted in the index's lists
        of rowids up to as many as decide (a phrase's are read with their positions)."""
        span = self.db.execute(  # articles are never deleted (their texts are pruned)
            "SELECT (SELECT MAX(id) FROM articles) - (SELECT MIN(id) FROM articles) + 1"
        ).fetchone()[0] or 0
        plenty = math.isqrt(wanted * span * PROBE_PER_HIT) + 1
        hits = self.db.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM articles_fts WHERE articles_fts MATCH ?"
            " LIMIT ?)", [compiled, plenty]
        ).fetchone()[0]
        if hits >= plenty:
            return "probe"
        # The walk reads wanted * span / hits entries of the date index, or fewer between
        # two dates: as many as the rows of the hits, WALK_PER_ROW entries a row.
        budget = WALK_PER_ROW * hits
        if not hits or wanted * span <= budget * hits:
            return "list" if hits else "rows"
        if not bounds:
            return "rows"
        window = self.db.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM articles a INDEXED BY articles_when"
            f" WHERE 1{bounds} LIMIT ?)", [*params, budget + 1]
        ).fetchone()[0]
        return "list" if window <= budget else "rows"

    def article(self, article_id: int) -> StoredArticle:
        """One article by id."""
        rows = list(self.db.query(SELECT_STORED + " WHERE a.id = ?", [article_id]))
        if not rows:
            raise KeyError(article_id)
        return self.with_listing_sources([stored_article(rows[0])])[0]

    def export_rows(self) -> Iterator[ExportedArticle]:
        """Every stored article with its source and the topics it matched, oldest first."""
        rows = self.db.query(
            """
            SELECT a.id, a.url, a.title, a.text, a.author, a.published, a.fetched,
                   a.extraction, a.extraction_note, a.story_id AS story,
                   COALESCE(a.publisher, s.name, s.url) AS source, s.url AS source_url,
                   (SELECT json_group_array(t.name) FROM matches m
                      JOIN topics t ON t.id = m.topic_id
                     WHERE m.article_id = a.id) AS topics
            FROM articles a JOIN sources s ON s.id = a.source_id
            ORDER BY a.id
            """
        )
        for row in rows:
            yield ExportedArticle(
                id=row["id"],
                url=row["url"],
                title=row["title"],
                text=row["text"],
                author=row["author"],
                published=from_iso(row["published"]),
                fetched=from_iso(row["fetched"]),
                extraction=row["extraction"],
                extraction_note=row["extraction_note"],
                story=row["story"],
                source=row["source"],
                source_url=row["source_url"],
                topics=tuple(sorted(json.loads(row["topics"] or "[]"))),
            )

    def publishers(self) -> list[str]:
        """The publishers stored articles name (an aggregator's items: a Google News item's
        <source>), each once: a topic's ``sources`` may name one (watchlist.source_matches),
        which is no source's name. Read from their index (schema 56), not the articles."""
        return [row[0] for row in self.db.execute(
            "SELECT DISTINCT publisher FROM articles WHERE publisher IS NOT NULL").fetchall()]

    def article_count(self) -> int:
        """How many articles are stored: the sum of the sources' counts (schema 38), each
        scrape of /metrics read the whole archive's index."""
        return int(self.db.execute("SELECT COALESCE(SUM(n), 0) FROM article_counts")
                   .fetchone()[0])


def _words(title: str) -> str:
    """A title's words, in lower case, without punctuation: how two titles are compared."""
    return " ".join(re.findall(r"\w+", title.casefold()))
