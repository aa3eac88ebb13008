"""Topics (from the config file or the command line), their matches, and which articles have
been matched (each article's ``unmatched`` mark)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from .clock import from_iso, to_iso
from .digests import DigestItem, queue_digest_items
from .models import Email, Match, StoredArticle, Topic, TopicSpec
from .outbox import insert_email, one_address, unwatched
from .sql import in_chunks
from .views import TopicStatus

logger = logging.getLogger(__name__)


def _topic(row: dict[str, Any]) -> Topic:
    return Topic(
        id=row["id"],
        name=row["name"],
        query=row["query"],
        compiled=row["compiled"],
        notify=tuple(json.loads(row["notify"])),
        sources=tuple(json.loads(row["sources"])) if row["sources"] else (),
        exclude=row["exclude"],
        exclude_compiled=row["exclude_compiled"],
        mode=row["mode"],
        origin=row["origin"],
    )


def one_spelling(topics: Sequence[Topic]) -> list[Topic]:
    """``topics`` with each email address in lower case: addresses are compared without case
    (as ``[[recipients]]`` are), so that a reader on two topics as "Desk@x.org" and
    "desk@x.org" gets one email for an article both match, one digest and one storm count,
    whatever topics come and go. Notification URLs are kept as written (their paths may
    tell case)."""
    kept: list[Topic] = []
    for topic in topics:
        notify = tuple(dict.fromkeys(map(one_address, topic.notify)))
        kept.append(topic if notify == topic.notify else replace(topic, notify=notify))
    return kept


class TopicsMixin:
    """Topic rows, synchronised from the configuration, and the matches they made."""

    db: Database

    def sync_topics(self, specs: Iterable[TopicSpec]) -> list[Topic]:
        """Make the config file's topics exactly ``specs`` (by name): add and update them,
        deactivate those no longer listed. Topics added from the command line are kept; for a
        name in both, the config file wins. Earlier matches are kept."""
        specs = list(specs)
        with self.db.atomic():
            wanted = {spec.name for spec in specs}
            self._follow_renames(specs, wanted)
            for spec in specs:
                self._upsert_topic(spec, "config")
            for row in self.db.query(
                "SELECT id, name FROM topics WHERE active = 1 AND origin = 'config'"
            ):
                if row["name"] not in wanted:
                    self.db.execute("UPDATE topics SET active = 0 WHERE id = ?", [row["id"]])
        return self.topics()

    def _follow_renames(self, specs: list[TopicSpec], wanted: set[str]) -> None:
        """A config topic that leaves the file as another with its query and exclude query
        comes in (under a name no topic has had) is renamed: the same topic, its id kept, so
        the stories it alerted for do not alert again and its alerts waiting for a digest
        stay queued. Another query under a new name is a new topic."""
        known = {row["name"] for row in self.db.query("SELECT name FROM topics")}
        gone: dict[tuple[str, str | None], list[tuple[int, str]]] = {}
        for row in self.db.query(
            "SELECT id, name, query, exclude FROM topics "
            "WHERE active = 1 AND origin = 'config' ORDER BY id"
        ):
            if row["name"] not in wanted:
                gone.setdefault((row["query"], row["exclude"]), []).append((row["id"], row["name"]))
        fresh: dict[tuple[str, str | None], list[TopicSpec]] = {}
        for spec in specs:
            if spec.name not in known:
                fresh.setdefault((spec.query, spec.exclude), []).append(spec)
        for key, arrivals in fresh.items():
            leavers = gone.get(key, [])
            if len(arrivals) == 1 and len(leavers) == 1:  # one way to read it, or none
                (topic_id, old_name), new_name = leavers[0], arrivals[0].name
                self.db.execute("UPDATE topics SET name = ? WHERE id = ?", [new_name, topic_id])
                logger.info("topic %r renamed %r: the same query, its alerts kept",
                            old_name, new_name)

    def _upsert_topic(self, spec: TopicSpec, origin: str) -> None:
        self.db.execute(
            """
            INSERT INTO topics (name, query, compiled, notify, sources, exclude,
                                exclude_compiled, mode, origin, active)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
            ON CONFLICT(name) DO UPDATE SET
                query = excluded.query, compiled = excluded.compiled,
                notify = excluded.notify, sources = excluded.sources,
                exclude = excluded.exclude, exclude_compiled = excluded.exclude_compiled,
                mode = excluded.mode, origin = excluded.origin, active = 1
            """,
            [
                spec.name,
                spec.query,
                spec.compiled,
                json.dumps(list(spec.notify)),
                json.dumps(list(spec.sources), ensure_ascii=False) if spec.sources else None,
                spec.exclude,
                spec.exclude_compiled,
                spec.mode,
                origin,
            ],
        )

    def add_topic(self, spec: TopicSpec) -> Topic:
        """Add (or update) a topic from the command line; a config-file topic stays one."""
        row = self.db.execute(
            "SELECT origin, active FROM topics WHERE name = ?", [spec.name]
        ).fetchone()
        # Only a topic the config file still lists (an active one) stays a config topic.
        origin = "config" if row and row[0] == "config" and row[1] else "cli"
        with self.db.atomic():
            self._upsert_topic(spec, origin)
        return _topic(next(iter(self.db.query("SELECT * FROM topics WHERE name = ?", [spec.name]))))

    def remove_topic(self, name: str) -> int | None:
        """Deactivate a topic added from the command line; None when there is none, else how
        many of its alerts still waiting go with it: those waiting for a digest, and its
        stories in the outbox's messages whose reader watches none of their other topics (the
        daemon drops them at its next digest and delivery: alerts.route, drop_unwatched)."""
        with self.db.atomic():
            row = self.db.execute(
                "SELECT id FROM topics WHERE name = ? AND origin = 'cli' AND active = 1", [name]
            ).fetchone()
            if row is None:
                return None
            before = set(unwatched(self.db, self._watching()))
            self.db.execute("UPDATE topics SET active = 0 WHERE id = ?", [row[0]])
            dropped = [m[0] for m in unwatched(self.db, self._watching()) if m not in before]
            waiting = int(self.db.execute(
                "SELECT COUNT(*) FROM digest_queue WHERE topic_id = ? AND outbox_id IS NULL",
                [row[0]],
            ).fetchone()[0])
            # An email (a digest's too) counts each of the topic's stories it holds.
            for chunk, marks in in_chunks(dropped):
                waiting += int(self.db.execute(
                    "SELECT COUNT(*) FROM outbox_items"
                    f" WHERE topic_id = ? AND outbox_id IN ({marks})",
                    [row[0], *chunk],
                ).fetchone()[0])
        return waiting

    def _watching(self) -> dict[int, set[str]]:
        """Each active topic's recipients, in one spelling."""
        return {t.id: set(t.notify) for t in self.topics()}

    def rename_topic(self, name: str, new_name: str) -> str | None:
        """Rename a topic added from the command line, its id kept: the stories it alerted
        for do not alert again, its alerts waiting for a digest stay queued (as a config
        topic's rename, _follow_renames). None when done, else why not."""
        with self.db.atomic():
            taken = self.db.execute(
                "SELECT active FROM topics WHERE name = ?", [new_name]).fetchone()
            if taken is not None:
                return ("a topic has that name" if taken[0] else
                        "a removed topic had that name (`topics add` under it brings it back)")
            cursor = self.db.execute(
                "UPDATE topics SET name = ? WHERE name = ? AND origin = 'cli' AND active = 1",
                [new_name, name],
            )
        return None if cursor.rowcount else "no such topic"

    def find_topic(self, name: str) -> Topic | None:
        """The active topic called ``name``, if any."""
        rows = list(self.db.query("SELECT * FROM topics WHERE name = ? AND active = 1", [name]))
        return _topic(rows[0]) if rows else None

    def topics(self) -> list[Topic]:
        """The active topics, each email address in one spelling (see :func:`one_spelling`)."""
        return one_spelling(
            [_topic(r) for r in self.db.query("SELECT * FROM topics WHERE active = 1 ORDER BY id")]
        )

    def watermark(self) -> int:
        """The id of the last article that, with every article before it, has been matched
        against the topics (0: none)."""
        row = self.db.execute(
            """
            SELECT COALESCE(MAX(id), 0) FROM articles
            WHERE id < COALESCE((SELECT MIN(id) FROM articles WHERE unmatched = 1), 1 << 62)
            """
        ).fetchone()
        return int(row[0])

    def record_matches(
        self,
        matches: Sequence[Match],
        emails: Sequence[Email],
        watermark: int | None,
        now: datetime,
        story_alerts: Sequence[tuple[int, int, int]] = (),
        digest: Sequence[DigestItem] = (),
        rematched: Sequence[StoredArticle] = (),
        matched: Sequence[int] = (),
        refreshed: Sequence[Match] = (),
        mailed: Sequence[tuple[str, int]] = (),
    ) -> None:
        """Write matches, their alert emails, the (story id, topic id, article id) alerts
        they make and the alerts that wait for a digest in one transaction, with the mark
        of the articles they were matched for: the ``matched`` articles, and every article
        up to id ``watermark`` (None: none), are no longer waiting to be matched; the
        ``rematched`` articles (as the re-match queue gave them, with_listing_sources
        ``anew``) leave the queue but for what was written there since, and the
        ``refreshed`` matches (of their topics that had matched them before) take their
        terms' new places (the others of those articles keep none). An alert waiting for its
        reader's digest leaves the queue when its story is ``mailed`` to them now (recipient,
        article id: the story of an immediate email): the story comes once, in that email."""
        with self.db.atomic():
            for story_id, topic_id, article_id in story_alerts:
                self.db.execute(
                    """
                    INSERT INTO story_alerts (story_id, topic_id, article_id, alerted)
                    VALUES (?, ?, ?, ?)
                    ON CONFLICT(story_id, topic_id) DO NOTHING
                    """,
                    [story_id, topic_id, article_id, to_iso(now)],
                )
            for m in matches:
                self.db.execute(
                    """
                    INSERT INTO matches (article_id, topic_id, terms, title_spans, text_spans,
                                         alert, matched)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(article_id, topic_id) DO NOTHING
                    """,
                    [m.article_id, m.topic_id, *_match_places(m), int(m.alert), to_iso(now)],
                )
            # The places of a topic's words in an article matched again: the new ones for
            # the topics that still match it, none for those that no longer do (a digest
            # entry queued before the edit would bold other words at the old places).
            self.db.conn.executemany(
                "UPDATE matches SET title_spans = '[]', text_spans = '[]' WHERE article_id = ?",
                [(a.id,) for a in rematched],
            )
            for m in refreshed:
                self.db.execute(
                    """
                    UPDATE matches SET terms = ?, title_spans = ?, text_spans = ?
                    WHERE article_id = ? AND topic_id = ?
                    """,
                    [*_match_places(m), m.article_id, m.topic_id],
                )
            for email in emails:
                insert_email(self.db, email)
            self.db.conn.executemany(
                """
                DELETE FROM digest_queue WHERE outbox_id IS NULL AND recipient = ?
                AND (article_id = ? OR article_id IN (
                    SELECT s.id FROM articles a JOIN articles s ON s.story_id = a.story_id
                    WHERE a.id = ?))
                """,
                [(recipient, article_id, article_id) for recipient, article_id in mailed],
            )
            queue_digest_items(self.db, digest, now)
            if rematched:  # (SQLite compiles a statement run for no rows: 57's-59's columns)
                # The listings by other sources the verdict read are no longer new: the next
                # source to list one of them makes only its own topics match anew
                # (ArticlesMixin.note_listed). One noted since it read them (a crawler on
                # another machine) stays new, and its article queued, for the next pass.
                self.db.conn.executemany(
                    "UPDATE article_sources SET anew = 0 WHERE article_id = ? AND anew = 1"
                    " AND source_id = (SELECT id FROM sources WHERE url = ?)",
                    [(a.id, url) for a in rematched for _name, url in a.new_from],
                )
                # An article leaves the queue unless it was edited since (its text not the
                # one decided) or another listing waits: for that one alone, as listed anew.
                # A listing is seen by its count too: one a crawler's transaction notes on
                # PostgreSQL while this runs is not seen as new here, but its count waits
                # for that transaction (ArticlesMixin.note_listed).
                self.db.conn.executemany(
                    """
                    DELETE FROM rematch WHERE article_id = ? AND edits = ? AND listings = ?
                      AND NOT EXISTS (
                        SELECT 1 FROM article_sources WHERE article_id = ? AND anew = 1)
                    """,
                    [(a.id, a.queued_edits, a.queued_listings, a.id) for a in rematched],
                )
                self.db.conn.executemany(
                    "UPDATE rematch SET relisted = 1 WHERE article_id = ? AND edits = ?"
                    " AND relisted = 0",
                    [(a.id, a.queued_edits) for a in rematched],
                )
            self.db.conn.executemany(
                "UPDATE articles SET unmatched = NULL WHERE id = ? AND unmatched = 1",
                [(i,) for i in matched],
            )
            if watermark is not None:
                self.db.execute(
                    "UPDATE articles SET unmatched = NULL WHERE unmatched = 1 AND id <= ?",
                    [watermark],
                )

    def topic_status(self) -> list[TopicStatus]:
        """Every active topic with its match counts, for ``status``: from the counts kept as
        matches are recorded (schema 41), not by reading every match ever made."""
        rows = self.db.query(
            """
            SELECT t.name, t.query, t.notify, t.sources, t.exclude, t.mode, t.origin,
                   COALESCE(SUM(c.n), 0) AS matches,
                   COALESCE(SUM(c.alerted), 0) AS alerted,
                   MAX(c.last) AS last_match
            FROM topics t LEFT JOIN match_counts c ON c.topic_id = t.id
            WHERE t.active = 1 GROUP BY t.id ORDER BY t.id
            """
        )
        return [
            TopicStatus(
                name=r["name"],
                query=r["query"],
                notify=tuple(json.loads(r["notify"])),
                sources=tuple(json.loads(r["sources"])) if r["sources"] else (),
                exclude=r["exclude"],
                mode=r["mode"],
                origin=r["origin"],
                matches=int(r["matches"]),
                alerted=int(r["alerted"]),
                last_match=from_iso(r["last_match"]),
            )
            for r in rows
        ]


def _match_places(m: Match) -> tuple[str, str, str]:
    """A match's terms, title spans and text spans, as stored (JSON)."""
    return (
        json.dumps(list(m.terms)),
        json.dumps([list(s) for s in m.title_spans]),
        json.dumps([list(s) for s in m.text_spans]),
    )
