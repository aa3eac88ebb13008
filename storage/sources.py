"""The sources table: what to poll, when, and how each poll went."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from .clock import from_iso, to_iso
from .models import FetchOutcome, Source, SourceSpec
from .sql import keep_state, state_value
from .views import SourceStatus

#: The state row of the hosts' waits (keep_host_waits).
_HOST_WAITS = "host_waits"


def _patterns(value: str | None) -> tuple[str, ...]:
    return tuple(json.loads(value)) if value else ()


def _source(row: dict[str, Any]) -> Source:
    return Source(
        id=row["id"],
        url=row["url"],
        name=row["name"],
        every_seconds=row["every_seconds"],
        active=bool(row["active"]),
        etag=row["etag"],
        last_modified=row["last_modified"],
        next_due=from_iso(row["next_due"]),
        consecutive_failures=row["consecutive_failures"],
        kind=row["kind"],
        detected=row["detected"],
        fetch_url=row["fetch_url"],
        include=_patterns(row["include"]),
        exclude=_patterns(row["exclude"]),
        origin=row["origin"],
        polled=row["last_success"] is not None,
        answered=row["last_status"] is not None and 200 <= row["last_status"] < 300,
        every_default=bool(row.get("every_default")),  # schema 23
        last_success=from_iso(row["last_success"]),
        last_status=row["last_status"],
        read_at=from_iso(row.get("read_at")),  # schema 37
        asked_to_wait=row["last_status"] in (429, 503)
        and "retry-after=" in (row["last_error"] or ""),
        gone_since=from_iso(row.get("gone_since")),  # schema 40
        gone_polls=row.get("gone_polls") or 0,
        deactivated=row.get("deactivated"),
    )


class SourcesMixin:
    """Source rows: synchronised from the configuration, updated after every poll."""

    db: Database

    def sync_sources(
        self, specs: Iterable[SourceSpec], now: datetime, every: int | None = None
    ) -> list[Source]:
        """Make the config file's sources exactly ``specs``: add new ones, update changed ones,
        deactivate those no longer listed. Sources added from the command line are kept; for a
        URL in both, the config file wins (it becomes a config source). ``every``: the
        interval of crawl.every, which the sources added from the command line without one
        of their own take."""
        specs = list(specs)
        with self.db.atomic():
            wanted = {spec.url for spec in specs}
            for spec in specs:
                self._upsert(spec, "config", now)
            for row in self.db.query(
                "SELECT id, url FROM sources WHERE active = 1 AND origin = 'config'"
            ):
                if row["url"] not in wanted:
                    self.db.execute("UPDATE sources SET active = 0 WHERE id = ?", [row["id"]])
            if every is not None:
                for url, *before in self.db.execute(
                    "SELECT url, every_seconds, next_due, last_success, consecutive_failures"
                    " FROM sources WHERE every_default = 1 AND origin = 'cli'"
                    " AND every_seconds != ?", [every]
                ).fetchall():
                    self.db.execute("UPDATE sources SET every_seconds = ? WHERE url = ?",
                                    [every, url])
                    self._sooner(url, every, before)
        return self.sources()

    def _upsert(self, spec: SourceSpec, origin: str, now: datetime) -> None:
        """Add or update the source of ``spec`` (inside the caller's transaction)."""
        before = self.db.execute(
            "SELECT every_seconds, next_due, last_success, consecutive_failures,"
            " id, COALESCE(name, url) FROM sources WHERE url = ?",
            [spec.url],
        ).fetchone()
        # A source deactivated because it is gone (410) stays inactive until removed.
        self.db.execute(
            """
            INSERT INTO sources (url, name, every_seconds, kind, include, exclude, origin,
                                 active, created)
            VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)
            ON CONFLICT(url) DO UPDATE SET
                name = COALESCE(excluded.name, sources.name),
                every_seconds = excluded.every_seconds,
                kind = excluded.kind,
                include = excluded.include,
                exclude = excluded.exclude,
                origin = excluded.origin,
                active = CASE WHEN sources.deactivated IS NULL THEN 1 ELSE 0 END
            """,
            [
                spec.url,
                spec.name,
                spec.every_seconds,
                spec.kind,
                json.dumps(list(spec.include)) if spec.include else None,
                json.dumps(list(spec.exclude)) if spec.exclude else None,
                origin,
                to_iso(now),
            ],
        )
        if origin == "cli":  # only they follow crawl.every (a config source is synced)
            self.db.execute(
                "UPDATE sources SET every_default = ? WHERE url = ?",
                [int(spec.every_default), spec.url],
            )
        if before is not None:
            # Merged into another before (remove_source ``into``), polled again: the topics
            # limited to it no longer follow that one, whose stories are not its.
            self.db.execute("UPDATE sources SET merged_into = NULL"
                            " WHERE id = ? AND merged_into IS NOT NULL", [before[4]])
            self._sooner(spec.url, spec.every_seconds, before)
            if spec.name is not None and spec.name != before[5]:  # renamed
                self._relabel(before[4], before[5], spec.name)

    def _sooner(self, url: str, every: int, before: Sequence[Any]) -> None:
        """A shorter interval counts from the last poll, not after the next one (an hour away
        when it was 1h): the poll it makes due comes at once. ``before``: the source's
        every_seconds, next_due, last_success and consecutive_failures before the change."""
        if every >= before[0] or before[3]:
            return
        due, polled = from_iso(before[1]), from_iso(before[2])
        sooner = polled + timedelta(seconds=every) if polled else None
        if due is not None and sooner is not None and sooner < due:
            self.db.execute("UPDATE sources SET next_due = ? WHERE url = ?", [to_iso(sooner), url])

    def name_source(self, source_id: int, title: str) -> None:
        """A source without a name takes its feed's title as soon as the feed is read, before
        the poll stores its pages: they are indexed under the name once (renamed at the
        poll's record, each of a first poll's articles was indexed twice: a tenth of the
        crawl process's CPU in a cold cycle)."""
        with self.db.atomic():
            self._name_from_feed(source_id, title)
            self.db.execute("UPDATE sources SET name = ? WHERE id = ? AND name IS NULL",
                            [title, source_id])

    def _name_from_feed(self, source_id: int, title: str) -> None:
        """A source without a name takes its feed's title (record_fetch): the articles it
        stored under its URL (those of the poll that found the title, stored before it is
        recorded) are searched by the name from now on, as matching finds them."""
        row = self.db.execute(
            "SELECT url FROM sources WHERE id = ? AND name IS NULL", [source_id]
        ).fetchone()
        if row is not None:
            self._relabel(source_id, str(row[0]), title)

    def _relabel(self, source_id: int, old: str, new: str) -> None:
        """The articles the source stored under its name (or URL) ``old`` are searched by
        ``new`` from now on, as matching finds them (the archive's index held the name they
        were stored under: renamed in the config file, a source's articles were found by
        ``source:`` under neither name)."""
        self.db.execute(
            "UPDATE articles SET source = ? || substr(source, ?)"
            " WHERE source_id = ? AND substr(source, 1, ?) = ?",
            [new, len(old) + 1, source_id, len(old), old],
        )
        self._relabel_listed(source_id, old, new)

    def _relabel_listed(self, source_id: int, old: str, new: str) -> None:
        """The articles other sources stored that the source lists too (article_sources)
        are searched by its name ``new`` from now on: each one's index ends with the names of
        the sources that list it (ArticlesMixin.note_listed), which are written again, the
        source's own and the other listing sources' text kept (a section feed renamed in the
        config file: the stories it listed stayed under its old name, `search` and `topics
        test` with the new one missed them). Only that source's listed articles are read."""
        listed: dict[int, tuple[str, list[tuple[int, str]]]] = {}
        for article_id, text, lister, name in self.db.execute(
            "SELECT x.article_id, a.source, y.source_id, COALESCE(s.name, s.url)"
            " FROM article_sources x JOIN articles a ON a.id = x.article_id"
            " JOIN article_sources y ON y.article_id = x.article_id"
            " JOIN sources s ON s.id = y.source_id"
            " WHERE x.source_id = ? ORDER BY x.article_id, y.source_id",
            [source_id],
        ).fetchall():
            listed.setdefault(article_id, (str(text), []))[1].append((lister, str(name)))
        changes = []
        for article_id, (text, names) in listed.items():
            before = [old if lister == source_id else name for lister, name in names]
            names_now = [new if lister == source_id else name for lister, name in names]
            length = sum(1 + len(name) for name in before)
            tail = text[len(text) - length:]
            if length < len(text) and tail.startswith(" ") and f" {old}" in tail:
                changes.append((text[: len(text) - length] + "".join(
                    f" {name}" for name in names_now), article_id))
            else:  # indexed otherwise (renamed by an older version): found by the new name too
                changes.append((f"{text} {new}", article_id))
        if changes:
            self.db.conn.executemany("UPDATE articles SET source = ? WHERE id = ?", changes)

    def add_source(self, spec: SourceSpec, now: datetime) -> Source:
        """Add (or update) a source from the command line; a config-file source stays one."""
        row = self.db.execute(
            "SELECT origin, active FROM sources WHERE url = ?", [spec.url]
        ).fetchone()
        # Only a source the config file still lists (an active one) stays a config source.
        origin = "config" if row and row[0] == "config" and row[1] else "cli"
        with self.db.atomic():
            self._upsert(spec, origin, now)
        found = list(self.db.query("SELECT * FROM sources WHERE url = ?", [spec.url]))
        return _source(found[0])

    def remove_source(self, url: str, into: str | None = None) -> bool:
        """Deactivate a source added from the command line (one deactivated as gone too: it
        is no longer listed); False when there is none. ``into``: the source it is merged
        into, which polls the same feed (newswatch.app.one_source_a_feed): the articles it
        stored or listed are listed by that one too, in the same transaction, as seen already
        (not anew: no re-match, see ArticlesMixin.note_listed). That source's next poll of
        them is no news: taken for a removed source's, a story the merged page had stored
        was the feed's alone, and every topic added since mailed the day's old news. The
        topics limited to it follow that source from then on (merged_sources). Without
        ``into``, one merged before is removed for good: they no longer follow it."""
        # Merged already, it is merged again by none: another process that read the sources
        # before the merge (two crawler machines, the daemon and a command's sync) said
        # "merged into" a second time, or moved it to another source.
        merged = " OR merged_into IS NOT NULL" if into is None else ""
        with self.db.atomic():
            cursor = self.db.execute(
                "UPDATE sources SET active = 0, deactivated = NULL,"
                " merged_into = (SELECT id FROM sources WHERE url = ?)"
                " WHERE url = ? AND origin = 'cli'"
                f" AND (active = 1 OR deactivated IS NOT NULL{merged})",
                [into, url],
            )
            if not cursor.rowcount:
                return False
            if into is not None:
                self._listed_as(url, into)
        return True

    def merged_sources(self) -> list[tuple[str | None, str, str]]:
        """The sources merged into another (remove_source ``into``) that are not polled
        again since: each one's name, URL, and the URL of the source it was merged into.
        A topic limited to one follows that source (watchlist.verdict.follow_merges)."""
        return [(name, url, into) for name, url, into in self.db.execute(
            "SELECT m.name, m.url, i.url FROM sources m JOIN sources i ON i.id = m.merged_into"
            " WHERE m.active = 0 ORDER BY m.id").fetchall()]

    def _listed_as(self, merged: str, into: str) -> None:
        """The articles the source ``merged`` stored or listed, listed by the source ``into``
        (not anew) and found under its name in the archive's index, as note_listed does."""
        (merged_id,), (into_id,) = (
            self.db.execute("SELECT id FROM sources WHERE url = ?", [url]).fetchone()
            for url in (merged, into))
        articles = [(row[0], into_id) for row in self.db.execute(
            """
            SELECT id FROM articles WHERE source_id = ?
            UNION SELECT x.article_id FROM article_sources x JOIN articles a
                ON a.id = x.article_id WHERE x.source_id = ? AND a.source_id <> ?
            EXCEPT SELECT article_id FROM article_sources WHERE source_id = ?
            """,
            [merged_id, merged_id, into_id, into_id],
        ).fetchall()]
        # Many at once: a source an older version took twice (``http://host:80/feed``) may
        # have stored months of articles.
        self.db.conn.executemany(
            "INSERT INTO article_sources (article_id, source_id, anew) VALUES (?, ?, 0)",
            articles)
        self.db.conn.executemany(
            "UPDATE articles SET source = source || ' ' ||"
            " (SELECT COALESCE(name, url) FROM sources WHERE id = ?) WHERE id = ?",
            [(source_id, article_id) for article_id, source_id in articles])

    def revive_source(self, url: str) -> str | None:
        """Poll again, at the next tick, a source deactivated because its site said it is
        gone (410): the reason it was deactivated for, None when it was not."""
        with self.db.atomic():
            row = self.db.execute(
                "SELECT deactivated FROM sources WHERE url = ? AND deactivated IS NOT NULL", [url]
            ).fetchone()
            if row is not None:
                self.db.execute(
                    "UPDATE sources SET active = 1, deactivated = NULL, next_due = NULL,"
                    " consecutive_failures = 0, gone_since = NULL, gone_polls = 0"
                    " WHERE url = ?",
                    [url],
                )
        return None if row is None else str(row[0])

    def find_source(self, url: str) -> Source | None:
        """The source with this URL (active or not), if any."""
        rows = list(self.db.query("SELECT * FROM sources WHERE url = ?", [url]))
        return _source(rows[0]) if rows else None

    def sources(self, *, active_only: bool = True) -> list[Source]:
        """Stored sources, in the order they were added."""
        where = "WHERE active = 1" if active_only else ""
        return [_source(r) for r in self.db.query(f"SELECT * FROM sources {where} ORDER BY id")]

    def source(self, source_id: int) -> Source:
        """One source by id."""
        rows = list(self.db.query("SELECT * FROM sources WHERE id = ?", [source_id]))
        if not rows:
            raise KeyError(source_id)
        return _source(rows[0])

    def due_sources(self, now: datetime) -> list[Source]:
        """Active sources whose next poll is due at ``now``, most overdue first."""
        rows = self.db.query(
            """
            SELECT * FROM sources
            WHERE active = 1 AND (next_due IS NULL OR next_due <= ?)
            ORDER BY COALESCE(next_due, ''), id
            """,
            [to_iso(now)],
        )
        return [_source(r) for r in rows]

    def record_fetch(self, source_id: int, outcome: FetchOutcome, now: datetime) -> None:
        """Record how a poll went: validators, status, error counters and the next due time."""
        stamp = to_iso(now)
        with self.db.atomic():
            if outcome.ok and outcome.title:
                self._name_from_feed(source_id, outcome.title)
            if outcome.ok:
                self.db.execute(
                    """
                    UPDATE sources SET
                        last_fetch = ?, last_success = ?, last_status = ?, last_error = ?,
                        consecutive_failures = 0, failing_since = NULL, next_due = ?,
                        gone_since = NULL, gone_polls = 0,
                        etag = CASE WHEN ? THEN etag ELSE ? END,
                        last_modified = CASE WHEN ? THEN last_modified ELSE ? END,
                        read_at = CASE WHEN ? THEN read_at ELSE ? END,
                        name = COALESCE(name, ?),
                        detected = COALESCE(?, detected)
                    WHERE id = ?
                    """,
                    [
                        stamp,
                        stamp,
                        outcome.status,
                        outcome.error,
                        to_iso(outcome.next_due),
                        outcome.not_modified,
                        outcome.etag,
                        outcome.not_modified,
                        outcome.last_modified,
                        outcome.not_modified,
                        stamp,
                        outcome.title,
                        outcome.detected,
                        source_id,
                    ],
                )
            else:
                self.db.execute(
                    """
                    UPDATE sources SET
                        last_fetch = ?, last_status = ?, last_error = ?,
                        error_count = error_count + 1,
                        consecutive_failures = consecutive_failures + 1,
                        failing_since = COALESCE(failing_since, ?),
                        next_due = ?,
                        gone_since = CASE WHEN ? THEN COALESCE(gone_since, ?) END,
                        gone_polls = CASE WHEN ? THEN gone_polls + 1 ELSE 0 END
                    WHERE id = ?
                    """,
                    [
                        stamp,
                        outcome.status,
                        outcome.error,
                        stamp,
                        to_iso(outcome.next_due),
                        outcome.status == 410,
                        stamp,
                        outcome.status == 410,
                        source_id,
                    ],
                )
            if outcome.last_new is not None:
                # When it last brought news: a feed that stopped changing answers every
                # poll, each a success (schema 51).
                self.db.execute(
                    "UPDATE sources SET last_new = ? WHERE id = ?"
                    " AND (last_new IS NULL OR last_new < ?)",
                    [to_iso(outcome.last_new), source_id, to_iso(outcome.last_new)],
                )
            if outcome.fetch_url is not None:
                # A discovered feed or a permanent redirect: poll there from now on (the
                # validators just saved came from that URL).
                self.db.execute(
                    "UPDATE sources SET fetch_url = ?, via = ? WHERE id = ?",
                    [outcome.fetch_url, outcome.via, source_id],
                )
            if outcome.gone is not None:
                self.db.execute(
                    "UPDATE sources SET active = 0, deactivated = ? WHERE id = ?",
                    [outcome.gone, source_id],
                )

    def host_waits(self, now: datetime) -> dict[str, datetime]:
        """The hosts that asked a crawl to wait (429, 503, crawler.http.HostWaits), until
        when: those still waiting at ``now``."""
        kept = state_value(self.db, _HOST_WAITS)
        waits = {host: from_iso(until) for host, until in json.loads(kept).items()} if kept else {}
        return {host: until for host, until in waits.items() if until and until > now}

    def keep_host_waits(self, waits: dict[str, datetime], now: datetime) -> None:
        """Add ``waits`` to the kept ones (the later end where both have a host), dropping
        those ended at ``now`` (several crawler processes keep theirs)."""
        with self.db.atomic():
            kept = self.host_waits(now)
            for host, until in waits.items():
                if until > max(now, kept.get(host, now)):
                    kept[host] = until
            keep_state(self.db, _HOST_WAITS,
                       json.dumps({host: to_iso(until) for host, until in kept.items()}))

    def source_status(self) -> list[SourceStatus]:
        """Every active source with its health and article count, for ``status`` (and each
        scrape of /metrics): the count kept as articles are stored (schema 38)."""
        rows = self.db.query(
            """
            SELECT s.id, s.url, s.name, s.last_fetch, s.last_success, s.last_status,
                   s.last_error, s.error_count, s.consecutive_failures, s.next_due,
                   s.kind, s.detected, s.fetch_url, s.via, s.origin, s.failing_since,
                   s.active, s.deactivated, s.last_new, s.created,
                   (SELECT COALESCE(SUM(c.n), 0) FROM article_counts c
                    WHERE c.source_id = s.id) AS articles,
                   (SELECT COUNT(*) FROM deferred_entries d WHERE d.source_id = s.id
                    AND d.last_error NOT LIKE 'postponed:%') AS waiting,
                   (SELECT COUNT(*) FROM deferred_entries d WHERE d.source_id = s.id
                    AND d.last_error LIKE 'postponed:%') AS postponed
            FROM sources s WHERE s.active = 1 OR s.deactivated IS NOT NULL
            ORDER BY s.id
            """
        )
        return [
            SourceStatus(
                id=r["id"],
                url=r["url"],
                name=r["name"],
                last_fetch=from_iso(r["last_fetch"]),
                last_success=from_iso(r["last_success"]),
                last_status=r["last_status"],
                last_error=r["last_error"],
                error_count=r["error_count"],
                consecutive_failures=r["consecutive_failures"],
                next_due=from_iso(r["next_due"]),
                kind=r["kind"],
                detected=r["detected"],
                fetch_url=r["fetch_url"],
                via=r["via"],
                origin=r["origin"],
                failing_since=from_iso(r["failing_since"]),
                active=bool(r["active"]),
                deactivated=r["deactivated"],
                articles=r["articles"],
                waiting=r["waiting"],
                postponed=r["postponed"],
                last_new=from_iso(r["last_new"]),
                created=from_iso(r["created"]),
            )
            for r in rows
        ]
