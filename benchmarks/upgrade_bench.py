"""The upgrade of a year's archive: each schema migration from 40 on, timed on its own.

    python -m benchmarks.upgrade_bench sqlite [--path /tmp/year.db]
    python -m benchmarks.upgrade_bench postgresql   # a throw-away server (tests/pgserver.py)
    python -m benchmarks.upgrade_bench postgresql://USER@HOST/DB   # a database made there
                                       [--articles 400000] [--matches 1000000] [--from 39]

A database at schema ``--from`` (an older newswatch's: the migrations after it cut off, as
the upgrade tests do) is filled in bulk with a year of articles (200 sources, an article
every 79 s; 6 to 12 paragraphs of Zipf-drawn words of four languages, 3 KB on average, each
with its 512-byte signatures), a quarter of them joining an earlier article's story, 10 % of
them listed by a second source, and ``--matches`` matches over 20 topics. Then each later
migration is run alone, as the daemon's start runs it (opening the store, closing it), and
the table gives its time and the database's size before and after (SQLite: the file and its
write-ahead log; PostgreSQL: ``pg_database_size``). See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import storage.db
import storage.pg
from storage import open_store
from storage.backend import is_postgres
from storage.pgschema import MIGRATIONS as PG_MIGRATIONS
from storage.schema import MIGRATIONS

from .cluster_bench import Databases, server
from .vocab import GENERAL, LANGUAGES

SOURCES, TOPICS = 200, 20
END = datetime(2026, 12, 1, tzinfo=UTC)
COLUMNS = ("id, url, entry_url, source_id, title, text, fetched, published, extraction,"
           " source, identity, minhash, lede_minhash, unmatched, story_id")


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def at_version(version: int) -> None:
    """Opening a store migrates it to ``version`` and no further."""
    storage.db.MIGRATIONS = MIGRATIONS[:version]
    storage.pg.MIGRATIONS = PG_MIGRATIONS[:version]


class Archive:
    """The rows of a year's archive, drawn from one seed."""

    def __init__(self, articles: int, matches: int) -> None:
        rng = random.Random(7)
        self.count = articles
        words = [w for lang in LANGUAGES for w in GENERAL[lang]]
        weights = [1 / (1 + rank) for lang in LANGUAGES for rank in range(len(GENERAL[lang]))]
        self.words, self.weights, self.rng = words, weights, rng
        self.paragraphs = [
            " ".join(rng.choices(words, weights, k=rng.randint(40, 90))).capitalize() + "."
            for _ in range(3000)
        ]
        self.story = {1: 1}
        for i in range(2, articles + 1):  # a story's id is its first article's
            self.story[i] = i if rng.random() < 0.75 else self.story[max(1, i - rng.randint(1, 50))]
        self.listed = sorted({(i, rng.randint(1, SOURCES))
                              for i in rng.sample(range(1, articles + 1), articles // 10)})
        pairs: set[tuple[int, int]] = set()
        while len(pairs) < matches:
            pairs.add((rng.randint(1, articles), rng.randint(1, TOPICS)))
        self.matches = [(a, t, '["w"]', "[]", "[[0,4]]", int(rng.random() < 0.3),
                         iso(self.fetched(a))) for a, t in sorted(pairs)]

    def fetched(self, i: int) -> datetime:
        return END - timedelta(seconds=(self.count - i) * 365 * 86400 / self.count)

    def articles(self) -> Iterator[tuple[Any, ...]]:
        rng = self.rng
        for i in range(1, self.count + 1):
            site = rng.randint(1, SOURCES)
            text = "\n\n".join(rng.choices(self.paragraphs, k=rng.randint(6, 12))) + f" Ref{i}."
            title = " ".join(rng.choices(self.words, self.weights, k=8)).capitalize() + f" {i}"
            url = f"https://site{site}.example/news/{i}"
            fetched = self.fetched(i)
            yield (i, url, url, site, title, text, iso(fetched),
                   iso(fetched - timedelta(hours=1)), "trafilatura", f"Source {site}",
                   f"site{site}.example/news/{i}", os.urandom(512), os.urandom(512), 0,
                   self.story[i])


def fill(location: str, archive: Archive) -> None:
    """Fill the empty store at ``location`` (at its older schema) with ``archive``'s rows:
    the stories and their articles name each other, so foreign keys are checked after the
    rows are in (SQLite) or not at all (PostgreSQL's replica role, which holds back the
    article counts' trigger too: they are counted after)."""
    with open_store(location) as store, store.db.atomic():
        conn = store.db.conn
        conn.executemany("INSERT INTO sources (id, url, name, every_seconds, created)"
                         " VALUES (?, ?, ?, 900, ?)",
                         [(s, f"https://site{s}.example/feed", f"Source {s}", iso(END))
                          for s in range(1, SOURCES + 1)])
        conn.executemany("INSERT INTO topics (id, name, query, compiled, notify)"
                         " VALUES (?, ?, ?, '{}', 'desk@example.org')",
                         [(t, f"topic {t}", f"word{t}") for t in range(1, TOPICS + 1)])
        rows = {
            "articles": (COLUMNS, archive.articles()),
            "article_sources": ("article_id, source_id", iter(archive.listed)),
            "matches": ("article_id, topic_id, terms, title_spans, text_spans, alert, matched",
                        iter(archive.matches)),
        }
        if isinstance(store, storage.pg.PgStore):
            raw = store.pg._conn
            raw.execute("SET LOCAL session_replication_role = replica")
            for table, (columns, values) in rows.items():
                with raw.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in values:
                        copy.write_row(row)
            conn.execute("INSERT INTO article_counts (source_id, n)"
                         " SELECT source_id, COUNT(*) FROM articles GROUP BY source_id")
        else:
            conn.execute("PRAGMA defer_foreign_keys = ON")
            for table, (columns, values) in rows.items():
                marks = ", ".join("?" * len(columns.split(",")))
                conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)
        conn.execute("INSERT INTO stories (id, first_article, created)"
                     " SELECT id, id, fetched FROM articles WHERE id = story_id")


def size(location: str) -> int:
    """Bytes the database takes on the disk."""
    if is_postgres(location):
        with storage.pg.connect(location) as conn:
            row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
            return int(row[0]) if row else 0
    return sum(os.path.getsize(p) for p in (location, location + "-wal") if os.path.exists(p))


def measure(location: str, args: argparse.Namespace) -> None:
    began = time.monotonic()
    at_version(args.from_)
    fill(location, Archive(args.articles, args.matches))
    print(f"built at schema {args.from_} in {time.monotonic() - began:.0f} s, "
          f"{size(location) / 1e6:,.0f} MB")
    print("| migration | time | size before | size after |\n|---|---:|---:|---:|")
    for version in range(args.from_ + 1, len(MIGRATIONS) + 1):
        at_version(version)
        before = size(location)
        began = time.monotonic()
        open_store(location).close()
        print(f"| {version} | {time.monotonic() - began:.2f} s | {before / 1e6:,.0f} MB "
              f"| {size(location) / 1e6:,.0f} MB |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("database", help="sqlite, postgresql, or a postgresql:// URL")
    parser.add_argument("--path", default="/tmp/newswatch-upgrade-bench.db",
                        help="the SQLite file (made anew)")
    parser.add_argument("--articles", type=int, default=400_000)
    parser.add_argument("--matches", type=int, default=1_000_000)
    parser.add_argument("--from", dest="from_", type=int, default=39,
                        help="the schema the archive is built at")
    args = parser.parse_args()
    if args.database == "sqlite":
        path = Path(args.path)
        for old in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            old.unlink(missing_ok=True)
        measure(str(path), args)
        return
    with server(args.database, print) as pg, Databases(pg.admin_url).fresh() as url:
        measure(url, args)


if __name__ == "__main__":
    main()
