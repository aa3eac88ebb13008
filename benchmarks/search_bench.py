"""PostgreSQL's archive search over a year's archive, with and without the list of words.

    python -m benchmarks.search_bench postgresql   # a throw-away server (tests/pgserver.py)
    python -m benchmarks.search_bench postgresql://USER@HOST/DB   # a database made there
                                      [--articles 400000] [--walk]

The archive of benchmarks.upgrade_bench (200 sources, an article every 79 s over a year, 3 KB
of Zipf-drawn words of four languages, each ending "Ref<id>.") is built at schema 46, then
migrated to the newest (47 adds every article unlisted: timed), and the first checkpoint
lists their words in the background (timed: its thread waited for, a common word searched
meanwhile). Each query is then searched for its 100 newest hits, over the whole archive and
over its last 30 days: a common word, a word of one article, one in none, a phrase, an OR, a
prefix and NOTs. ``--walk`` times the
first three the way the search read the archive before schema 47 too (every article, newest
first, until 100 hits). See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

import storage.pg
from storage import open_store
from storage.pgschema import MIGRATIONS
from storage.ports import Storage
from watchlist import compile_query

from .cluster_bench import Databases, server
from .upgrade_bench import END, Archive, at_version, fill


def queries(articles: int) -> list[tuple[str, str]]:
    """(what, query): the words of the archive are benchmarks.vocab's, and each article's
    own "Ref<id>"."""
    one, other = f"Ref{articles // 3}", f"Ref{articles // 2}"
    return [
        ("common word", "the"),
        ("word of one article", one),
        ("word of none", "zzyzx"),
        ("less common word", "gobierno"),
        ("phrase of common words", '"the of"'),
        ("OR of two rare words", f"{one} OR {other}"),
        ("prefix", f"{one}*"),
        ("common NOT common", "the -gobierno"),
        ("rare NOT absent", f"{one} -zzyzx"),
    ]


def timed(store: Storage, query: str, since_days: int | None) -> tuple[int, float]:
    """How many of the 100 newest hits of ``query`` (within ``since_days``) are found, and
    how long that takes."""
    since = END - timedelta(days=since_days) if since_days else None
    began = time.monotonic()
    found = store.search(compile_query(query), since=since, limit=100)
    return len(found), time.monotonic() - began


def measure(location: str, args: argparse.Namespace) -> None:
    began = time.monotonic()
    at_version(46)
    fill(location, Archive(args.articles, 1000))
    print(f"built at schema 46 in {time.monotonic() - began:.0f} s")
    at_version(len(MIGRATIONS))
    began = time.monotonic()
    open_store(location).close()
    print(f"migrated to {len(MIGRATIONS)} in {time.monotonic() - began:.1f} s")
    with open_store(location) as store:
        assert isinstance(store, storage.pg.PgStore)
        began = time.monotonic()
        store.checkpoint()
        print(f"checkpoint returned in {time.monotonic() - began:.1f} s, listing in the "
              "background", flush=True)
        hits, searched = timed(store, "the", None)
        print(f"meanwhile: {hits} hits of `the` in {searched:.2f} s", flush=True)
        store.words_filler.wait(24 * 3600)
        took = time.monotonic() - began
        print(f"listed {args.articles} articles in {took:.0f} s "
              f"({args.articles / took:,.0f} a second)")
        print("| query | since | hits | time |\n|---|---|---:|---:|")
        for what, query in queries(args.articles):
            for days in (None, 30):
                hits, took = timed(store, query, days)
                print(f"| {what} `{query}` | {f'{days} days' if days else '-'} | {hits} "
                      f"| {took:.2f} s |", flush=True)
        if args.walk:
            candidates = storage.pg.SEARCH_CANDIDATES
            storage.pg.SEARCH_CANDIDATES = -1  # every article read, whatever the words
            try:
                for what, query in queries(args.articles)[:3]:
                    for days in (None, 30):
                        hits, took = timed(store, query, days)
                        print(f"| (every article) {what} `{query}` "
                              f"| {f'{days} days' if days else '-'} | {hits} | {took:.2f} s |",
                              flush=True)
            finally:
                storage.pg.SEARCH_CANDIDATES = candidates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("database", help="postgresql, or a postgresql:// URL")
    parser.add_argument("--articles", type=int, default=400_000)
    parser.add_argument("--walk", action="store_true",
                        help="time the first queries reading every article too")
    args = parser.parse_args()
    with server(args.database, print) as pg, Databases(pg.admin_url).fresh() as url:
        measure(url, args)


if __name__ == "__main__":
    main()
