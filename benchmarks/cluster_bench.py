"""Crawl throughput by number of crawler processes on PostgreSQL, next to one process on SQLite.

    python -m benchmarks.cycle_bench --workers 1,2,4 --database postgresql://USER@HOST/DB
    python -m benchmarks.cycle_bench --workers 1,2,4 --database postgresql   # its own server

The mode of ``benchmarks.cycle_bench`` selected by ``--database`` (docs/benchmarks.md,
"Crawl throughput on several crawler processes"). One local web (``benchmarks/cycle_site.py``:
N feeds x M entries, one loopback address per feed, every answer ``--server-delay`` seconds
late, 0.1 s by default, like a remote server's round trip) is crawled from scratch:

1. by ``newswatch crawl`` on SQLite, one process (the default set-up);
2. for each count W of ``--workers``, on a fresh PostgreSQL database: W ``newswatch run
   --role crawler`` processes, started and registered with the task engine first, then one
   ``newswatch run --role scheduler``, which queues a crawl job per source. Each crawler runs
   ``--jobs`` crawl jobs at once (``daemon.jobs``; 1 by default, so that the number of
   processes is what varies; newswatch's own default is 4).

Measured, the same way for each: the time from the first feed request the site saw until
every article is in the database (counted by polling it), hence articles per second; the
wall time from the start of the processes (with their start-up); the CPU time of the
newswatch processes (their page workers included; not PostgreSQL's); and the most requests
one host had in flight at once, as the site saw it. No topics, no alerter: what is measured
is the crawl.

``--database postgresql://…`` names a server and a database its user may connect to; the
benchmark creates a database per run on that server (``CREATE DATABASE``: the user needs the
CREATEDB privilege) and drops it after. ``--database postgresql`` (no URL) starts a
throw-away server instead, from the ``postgresql`` Debian package's binaries, as the tests do
(``tests/pgserver.py``), and removes it after.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .cycle_bench import ROOT, subprocess_env, write_config
from .cycle_site import BenchSite, Politeness, build_site

#: Seconds every run may take at most, from the start of its processes.
RUN_TIMEOUT = 900.0
#: Seconds crawler processes may take to start and register with the task engine.
START_TIMEOUT = 180.0
POLL = 0.05


def parse_counts(text: str) -> list[int]:
    """``"1,2,4"`` → ``[1, 2, 4]``; ValueError unless every item is a whole number >= 1."""
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise ValueError(f"expected a comma list of crawler process counts >= 1, got {text!r}")
    return counts


# --------------------------------------------------------------------------------------------
# The PostgreSQL server and its databases
# --------------------------------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    """``url`` naming database ``name`` instead of its own (host, user, options kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@dataclass
class Server:
    admin_url: str
    pid: int | None = None  # the postmaster's, when the server was started here

    def cpu_seconds(self) -> float | None:
        """CPU time of the server so far (its processes, live and ended), when started here."""
        return None if self.pid is None else tree_cpu_seconds(self.pid)


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` and of its children, live (their own time) and reaped (the
    parent's cutime / cstime), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")

    def stat(member: int) -> list[str]:
        text = Path(f"/proc/{member}/stat").read_text()
        return text[text.rindex(")") + 2:].split()  # fields from the state on

    fields = stat(pid)
    total = sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            children = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
            for child in children:
                with contextlib.suppress(OSError, ValueError):
                    total += sum(int(v) for v in stat(int(child))[11:13])
    return total / tick


@contextlib.contextmanager
def server(database: str, log: Callable[[str], None]) -> Iterator[Server]:
    """The server to benchmark on: the one of the URL ``database``, or, for the bare word
    ``postgresql``, a throw-away server started here (tests/pgserver.py) and removed after."""
    if "://" in database:
        yield Server(database)
        return
    from pgserver import PostgresServer, find_bindir, unavailable  # tests/ (on sys.path)

    reason = unavailable()
    bindir = find_bindir()
    if reason is not None or bindir is None:
        raise SystemExit(f"cannot start a PostgreSQL server here: {reason}")
    pg = PostgresServer(bindir)
    try:
        pg.initdb()
        pg.start()
        log(f"PostgreSQL: a throw-away server from {bindir}, socket in {pg.socket_dir}")
        pid = int((pg.data / "postmaster.pid").read_text().split()[0])
        yield Server(pg.url(), pid)
    finally:
        pg.remove()


class Databases:
    """Fresh databases on the server of ``admin_url``, each dropped after its run."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self._names = itertools.count(1)

    def _execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)

    @contextlib.contextmanager
    def fresh(self) -> Iterator[str]:
        name = f"nwbench_{os.getpid()}_{next(self._names)}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        try:
            yield with_database(self.admin_url, name)
        finally:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class PgCount:
    """Answers one ``SELECT count(*)`` on ``url`` when called; 0 while its table is missing.
    One connection, opened at the first call, closed by :meth:`close`."""

    def __init__(self, url: str, sql: str) -> None:
        self.url, self.sql = url, sql
        self._conn: Any = None

    def __call__(self) -> int:
        import psycopg

        try:
            if self._conn is None:
                self._conn = psycopg.connect(self.url, autocommit=True)
            row = self._conn.execute(self.sql).fetchone()
            return int(row[0]) if row else 0
        except psycopg.Error:
            self.close()
            return 0

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def sqlite_counter(path: Path) -> Callable[[], int]:
    """Articles in the SQLite database at ``path`` (read-only); 0 until it has the table."""

    def count() -> int:
        try:
            with contextlib.closing(
                sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
            ) as conn:
                return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])
        except sqlite3.Error:
            return 0

    return count


# --------------------------------------------------------------------------------------------
# newswatch processes
# --------------------------------------------------------------------------------------------


class Process:
    """One ``newswatch --config CONFIG ARGS`` subprocess, logging to a file; its CPU time
    (with the children it reaped: page workers) from wait4() when it ends."""

    def __init__(self, config: Path, *args: str, name: str) -> None:
        self.name = name
        self.log = config.parent / f"{name}.log"
        with self.log.open("w", encoding="utf-8") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "newswatch", "--config", str(config), *args],
                cwd=config.parent, env=subprocess_env(), stdout=out, stderr=subprocess.STDOUT,
            )
        self.returncode: int | None = None
        self.cpu_seconds = 0.0

    def poll(self) -> int | None:
        """The exit code if the process ended (then reaped, its CPU time noted), else None."""
        if self.returncode is None:
            pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
                self.proc.returncode = self.returncode
                self.cpu_seconds = usage.ru_utime + usage.ru_stime
        return self.returncode

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, then SIGKILL after ``timeout`` seconds; the exit code."""
        if self.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                self.proc.kill()
                deadline = float("inf")
            time.sleep(0.05)
        assert self.returncode is not None
        return self.returncode

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def _stop_all(processes: Sequence[Process]) -> None:
    for process in processes:
        if process.poll() is None:
            process.proc.send_signal(signal.SIGTERM)
    for process in processes:
        process.stop()


def _wait_for(
    condition: Callable[[], bool], processes: Sequence[Process], what: str, timeout: float,
    *, may_end: bool = False,
) -> float:
    """Poll ``condition`` until true; the monotonic time it was first seen true. RuntimeError
    if a process ended first (unless ``may_end`` and it ended with 0) or after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return time.monotonic()
        for process in processes:
            code = process.poll()
            if code is not None and not (may_end and code == 0):
                raise RuntimeError(f"{process.name} exited with {code} before {what}:\n"
                                   f"{process.output()[-3000:]}")
        if may_end and all(p.poll() is not None for p in processes):
            if condition():
                return time.monotonic()
            raise RuntimeError(f"every process ended before {what}:\n"
                               + "\n".join(p.output()[-3000:] for p in processes))
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {what} within {timeout:.0f}s:\n"
                               + "\n".join(p.output()[-2000:] for p in processes))
        time.sleep(POLL)


# --------------------------------------------------------------------------------------------
# The runs
# --------------------------------------------------------------------------------------------


@dataclass
class Run:
    label: str
    crawlers: int | None  # crawler processes; None: one process on SQLite
    articles: int
    seconds: float  # first feed request -> every article stored
    wall_seconds: float  # start of the processes -> every article stored
    cpu_seconds: float  # newswatch processes and their page workers, not PostgreSQL
    politeness: Politeness
    server_cpu_seconds: float | None = None  # PostgreSQL's, when the benchmark started it

    @property
    def rate(self) -> float:
        return self.articles / self.seconds if self.seconds else 0.0


def _config(
    directory: Path, site: BenchSite, feeds: int, *, per_host: int, url: str | None = None,
    jobs: int | None = None, page_workers: int | None = None,
) -> Path:
    directory.mkdir()
    crawl: dict[str, Any] = {"delay": "0s", "per_host": per_host, "every": "1h"}
    if page_workers is not None:
        crawl["workers"] = page_workers
    daemon: dict[str, Any] = {"tick": "1s"}
    if jobs is not None:
        daemon["jobs"] = jobs
    return write_config(
        directory, sources=[site.feed_url(i) for i in range(feeds)], crawl=crawl,
        daemon=daemon, database=None if url is None else {"url": url},
    )


def _finish(
    label: str, crawlers: int | None, site: BenchSite, total: int, started: float, done: float,
    processes: Sequence[Process],
) -> Run:
    first = site.first_feed_request
    assert first is not None
    return Run(label, crawlers, total, done - first, done - started,
               sum(p.cpu_seconds for p in processes), site.politeness())


def sqlite_run(site: BenchSite, feeds: int, total: int, work: Path, *, per_host: int,
               page_workers: int | None) -> Run:
    """``newswatch crawl`` on SQLite, one process."""
    config = _config(work / "sqlite", site, feeds, per_host=per_host,
                     page_workers=page_workers)
    site.reset_politeness()
    site.first_feed_request = None
    started = time.monotonic()
    crawl = Process(config, "crawl", name="crawl")
    processes = [crawl]
    try:
        stored = sqlite_counter(config.parent / "newswatch.db")
        done = _wait_for(lambda: stored() >= total, processes, f"{total} articles stored",
                         RUN_TIMEOUT, may_end=True)
    finally:
        _stop_all(processes)  # it ends by itself: this waits for it
    return _finish("SQLite, one process (newswatch crawl)", None, site, total, started, done,
                   processes)


def cluster_run(site: BenchSite, feeds: int, total: int, work: Path, url: str, crawlers: int,
                *, per_host: int, jobs: int | None, page_workers: int | None) -> Run:
    """``crawlers`` crawler processes and one scheduler on the database at ``url``."""
    config = _config(work / f"pg-{crawlers}", site, feeds, per_host=per_host, url=url,
                     jobs=jobs, page_workers=page_workers)
    site.reset_politeness()
    site.first_feed_request = None
    started = time.monotonic()
    processes = [Process(config, "run", "--role", "crawler", name=f"crawler-{i}")
                 for i in range(crawlers)]
    stored = PgCount(url, "SELECT count(*) FROM articles")
    registered = PgCount(url, "SELECT count(*) FROM newswatch_workers")
    try:
        _wait_for(lambda: registered() >= crawlers, processes,
                  f"{crawlers} crawler(s) registered", START_TIMEOUT)
        processes.append(Process(config, "run", "--role", "scheduler", name="scheduler"))
        done = _wait_for(lambda: stored() >= total, processes, f"{total} articles stored",
                         RUN_TIMEOUT)
    finally:
        stored.close()
        registered.close()
        _stop_all(processes)
    noun = "crawler process" if crawlers == 1 else "crawler processes"
    return _finish(f"PostgreSQL, {crawlers} {noun} + scheduler", crawlers, site, total,
                   started, done, processes)


def run(args: Any, work: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """The SQLite run, then one run per crawler count of ``args.crawlers``."""
    feeds, entries, total = args.feeds, args.entries, args.feeds * args.entries
    load_before = os.getloadavg()
    start = time.perf_counter()
    site, _ = build_site(feeds, entries, args.seed, args.hosts, heavy=args.pages == "heavy")
    runs: list[Run] = []
    try:
        site.answer_delay = args.server_delay
        log(f"site: {feeds} feeds x {entries} entries ({args.pages} pages) on {args.hosts} "
            f"host(s), every answer after {args.server_delay:g}s; built in "
            f"{time.perf_counter() - start:.1f}s")
        options = {"per_host": args.per_host, "page_workers": args.page_workers}
        with server(args.database, log) as pg:
            databases = Databases(pg.admin_url)
            log("SQLite: newswatch crawl, one process ...")
            runs.append(sqlite_run(site, feeds, total, work, **options))
            _log_run(log, runs[-1])
            for crawlers in args.crawlers:
                log(f"PostgreSQL: {crawlers} crawler process(es), then a scheduler ...")
                with databases.fresh() as url:
                    before = pg.cpu_seconds()
                    runs.append(cluster_run(site, feeds, total, work, url, crawlers,
                                            jobs=args.jobs, **options))
                    after = pg.cpu_seconds()
                    if before is not None and after is not None:
                        runs[-1].server_cpu_seconds = after - before
                _log_run(log, runs[-1])
    finally:
        site.stop()
    return {"runs": runs, "feeds": feeds, "entries": entries, "hosts": args.hosts,
            "pages": args.pages, "server_delay": args.server_delay, "per_host": args.per_host,
            "jobs": args.jobs, "page_workers": args.page_workers,
            "load": (load_before, os.getloadavg()), "commit": _commit()}


def _log_run(log: Callable[[str], None], run: Run) -> None:
    log(f"  {run.articles} articles in {run.seconds:.1f}s from the first feed request "
        f"({run.rate:.1f}/s), {run.wall_seconds:.1f}s with start-up, {run.cpu_seconds:.1f}s "
        f"CPU" + ("" if run.server_cpu_seconds is None else
                  f" (+ {run.server_cpu_seconds:.1f}s of PostgreSQL)")
        + f"; at most {run.politeness.max_in_flight} request(s) at once to one host")


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                             capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "?"
    return out.stdout.strip() or "?"


def table(results: dict[str, Any]) -> str:
    """One line per run: articles/s, against the SQLite process and against one crawler."""
    runs: list[Run] = results["runs"]
    sqlite = next((r for r in runs if r.crawlers is None), None)
    one = next((r for r in runs if r.crawlers == 1), None)
    head = ("run", "articles", "first request -> all stored", "articles/s", "vs SQLite",
            "vs 1 crawler", "with start-up", "CPU ms / article", "+ PostgreSQL's",
            "per host at once")
    rows = [head]
    for r in runs:
        rows.append((
            r.label, f"{r.articles:,}", f"{r.seconds:.1f} s", f"{r.rate:.1f}",
            f"{r.rate / sqlite.rate:.2f}x" if sqlite and sqlite.rate else "-",
            f"{r.rate / one.rate:.2f}x" if one and one.rate and r.crawlers else "-",
            f"{r.wall_seconds:.1f} s", f"{1000 * r.cpu_seconds / r.articles:.1f}",
            "-" if r.server_cpu_seconds is None else
            f"{1000 * r.server_cpu_seconds / r.articles:.1f}",
            str(r.politeness.max_in_flight),
        ))
    width = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, width, strict=True)) + " |"
             for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in width) + "|")
    before, after = results["load"]
    jobs = results["jobs"] if results["jobs"] is not None else "newswatch's default (4)"
    lines += [
        "",
        f"{results['feeds']} feeds x {results['entries']} entries ({results['pages']} pages) "
        f"on {results['hosts']} host(s), every answer after {results['server_delay']:g} s; "
        f"crawl.per_host {results['per_host']}, delay 0 s; daemon.jobs {jobs} per crawler.",
        f"Commit {results['commit']}, {os.cpu_count()} cores; load average "
        f"{before[0]:.2f} {before[1]:.2f} {before[2]:.2f} before, "
        f"{after[0]:.2f} {after[1]:.2f} {after[2]:.2f} after.",
    ]
    return "\n".join(lines)
