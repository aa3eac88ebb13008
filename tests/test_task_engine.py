"""What newswatch relies on in its task engine across machines (procrastinate on PostgreSQL,
docs/scale-out.md), pinned against a real PostgreSQL and real worker processes:

- a job locked by its host never runs while another job of that host runs, on any worker,
  while other hosts' jobs run meanwhile (politeness across the cluster);
- a queueing lock keeps at most one job of a key waiting, and admits the next one while the
  current one runs (the scheduler may defer each due crawl without piling them up);
- the job of a worker killed with kill -9 mid-page is given back by the periodic stalled-job
  task of the surviving workers once the dead one's heartbeat is older than the limit, and
  runs again (at least once: the page is fetched a second time); a later job of the same host
  waits for it;
- the same for a worker whose machine vanishes from the network (its namespace unplugged):
  its process still runs, but neither its heartbeat nor its page arrive;
- a worker stops by itself while PostgreSQL is down (it does not hang), and one started
  again once it is back takes the jobs deferred meanwhile.

The workers are ``tests/engine_app.py`` processes; the pages come from a local HTTP server
that counts, per host, the requests it answers at once.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import subprocess_env
from mailserver import free_port
from netns import TestNetwork
from newssite import STORIES, NewsSite
from pgproxy import SilentProxy
from pgserver import PostgresServer, running_server

psycopg = pytest.importorskip("psycopg", reason="pip install -e '.[test]' brings it")
procrastinate = pytest.importorskip("procrastinate", reason="pip install -e '.[test]' brings it")

import engine_app  # noqa: E402  (needs procrastinate: checked above)
from engine_app import SETTINGS  # noqa: E402

from scheduler.engine import RETRY_STALLED, ensure_schema  # noqa: E402

TESTS = Path(__file__).parent
WAIT = 90.0  # bound of every wait below (seconds); nothing asserts on how fast


class PageServer:
    """Pages ``/<host>/<page>`` on a local address; ``?hold`` pages wait for ``release``,
    ``?meet`` pages wait until a page of another host is being answered too."""

    def __init__(self, address: str = "127.0.0.1") -> None:
        self.lock = threading.Condition()
        self.in_flight: collections.Counter[str] = collections.Counter()
        self.max_in_flight: collections.Counter[str] = collections.Counter()
        self.hits: list[str] = []  # paths, in the order their requests arrived
        self.arrivals: dict[str, list[float]] = collections.defaultdict(list)  # host -> times
        self.met: dict[str, bool] = {}
        self.released = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.answer(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer((address, 0), Handler)
        self._http.daemon_threads = True
        self.base = f"http://{address}:{self._http.server_address[1]}"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    def url(self, host: str, page: str, how: str = "") -> str:
        """URL of ``page`` of ``host`` (``how``: ``hold`` or ``meet``)."""
        return f"{self.base}/{host}/{page}" + (f"?{how}" if how else "")

    def answer(self, request: BaseHTTPRequestHandler) -> None:
        path, _, how = request.path.partition("?")
        host = path.split("/")[1]
        with self.lock:
            self.hits.append(path)
            self.arrivals[host].append(time.monotonic())
            self.in_flight[host] += 1
            self.max_in_flight[host] = max(self.max_in_flight[host], self.in_flight[host])
            self.lock.notify_all()
        try:
            if how == "hold":
                self.released.wait(WAIT)
            elif how == "meet":
                with self.lock:
                    self.met[path] = self.lock.wait_for(
                        lambda: any(n for h, n in self.in_flight.items() if h != host), WAIT
                    )
            else:
                time.sleep(0.05)  # a page takes a moment: overlaps would show
            body = b"<html><body>page</body></html>"
            request.send_response(200)
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)
        except OSError:
            pass  # the client went away (killed, or its machine vanished)
        finally:
            with self.lock:
                self.in_flight[host] -= 1
                self.lock.notify_all()

    def wait_for(self, condition: Callable[[], bool]) -> None:
        """Block until ``condition`` (checked under the server's lock) holds."""
        with self.lock:
            assert self.lock.wait_for(condition, WAIT), "the page server never saw it"

    def count(self, path: str) -> int:
        """How many requests for ``path`` arrived."""
        with self.lock:
            return self.hits.count(path)

    def close(self) -> None:
        """Stop serving."""
        self.released.set()
        self._http.shutdown()
        self._http.server_close()


@pytest.fixture
def pages() -> Iterator[PageServer]:
    server = PageServer()
    try:
        yield server
    finally:
        server.close()


class Engine:
    """The engine's database (schema applied) and the worker processes on it."""

    def __init__(self, conninfo: str, workdir: Path) -> None:
        self.conninfo = conninfo
        self.workdir = workdir
        self.workers: list[subprocess.Popen[str]] = []
        self._logs: list[Path] = []
        asyncio.run(self._apply_schema())

    def _app(self) -> procrastinate.App:
        return engine_app.build(self.conninfo)

    async def _apply_schema(self) -> None:
        await ensure_schema(self._app(), self.conninfo)

    def defer(self, url: str, *, lock: str | None = None, queueing_lock: str | None = None,
              task_name: str = "fetch", **arguments: Any) -> int:
        """Defer a fetch of ``url`` (or another task taking a ``url``); its job id."""

        async def go() -> int:
            async with self._app().open_async() as app:
                task = app.configure_task(task_name, lock=lock, queueing_lock=queueing_lock)
                return await task.defer_async(url=url, **arguments)

        return asyncio.run(go())

    def start_worker(self, *, concurrency: int = 1, machine: Any = None,
                     conninfo: str | None = None, script: str = "engine_app.py",
                     raw: bool = False) -> subprocess.Popen[str]:
        """Start a worker process (inside ``machine``, a test machine, if given; ``raw``:
        procrastinate's worker without newswatch's restart loop)."""
        log = self.workdir / f"worker-{len(self.workers)}.log"
        self._logs.append(log)
        env = {"ENGINE_CONNINFO": conninfo or self.conninfo,
               "ENGINE_CONCURRENCY": str(concurrency),
               "ENGINE_NAME": f"worker-{len(self.workers)}"}
        if raw:
            env["ENGINE_RAW"] = "1"
        argv = [sys.executable, str(TESTS / script)]
        with log.open("w") as out:
            if machine is not None:
                process = machine.popen(argv, env=machine.env(**env), cwd=TESTS, stdout=out,
                                        stderr=subprocess.STDOUT, text=True)
            else:
                process = subprocess.Popen(argv, env=subprocess_env(**env), cwd=TESTS,
                                           stdout=out, stderr=subprocess.STDOUT, text=True)
        self.workers.append(process)
        return process

    def log(self, index: int) -> str:
        """What worker ``index`` printed so far."""
        return self._logs[index].read_text()

    def jobs(self) -> dict[int, tuple[str, int, str | None]]:
        """Every job but the periodic retry task's: id -> (status, attempts, lock)."""
        with psycopg.connect(self.conninfo) as conn:
            rows = conn.execute(
                "SELECT id, status, attempts, lock FROM procrastinate_jobs"
                " WHERE task_name != %s", (RETRY_STALLED,)
            ).fetchall()
        return {row[0]: (row[1], row[2], row[3]) for row in rows}

    def wait_all_succeeded(self) -> dict[int, tuple[str, int, str | None]]:
        """Block until every fetch job succeeded; the jobs."""
        deadline = time.monotonic() + WAIT
        while True:
            jobs = self.jobs()
            if jobs and all(status == "succeeded" for status, _, _ in jobs.values()):
                return jobs
            if time.monotonic() > deadline:
                raise AssertionError(f"jobs not done: {jobs}\n" + "\n".join(
                    self.log(i)[-2000:] for i in range(len(self.workers))))
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop every worker still running (SIGTERM, then SIGKILL)."""
        for process in self.workers:
            if process.poll() is None:
                process.terminate()
        for process in self.workers:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def engine(pg_conninfo: str, tmp_path: Path) -> Iterator[Engine]:
    running = Engine(pg_conninfo, tmp_path)
    try:
        yield running
    finally:
        running.stop()


def test_one_job_per_host_at_a_time_across_workers(engine: Engine, pages: PageServer) -> None:
    hosts = ["a.test", "b.test", "c.test"]
    # The first page of a.test is answered only once another host's page is in flight: the
    # per-host lock must not serialise the hosts between them.
    engine.defer(pages.url("a.test", "0", "meet"), lock="a.test")
    for n in range(1, 4):
        for host in hosts:
            engine.defer(pages.url(host, str(n)), lock=host)
    engine.start_worker(concurrency=2)
    engine.start_worker(concurrency=2)

    jobs = engine.wait_all_succeeded()

    assert len(jobs) == 10
    assert all(attempts == 1 for _, attempts, _ in jobs.values())
    assert dict(pages.max_in_flight) == {host: 1 for host in hosts}
    assert sorted(pages.hits) == sorted(
        ["/a.test/0"] + [f"/{h}/{n}" for n in range(1, 4) for h in hosts]
    )  # each page fetched exactly once
    assert pages.met == {"/a.test/0": True}


def test_delay_held_under_the_lock_spaces_a_hosts_requests(
    engine: Engine, pages: PageServer
) -> None:
    """``crawl.delay`` across the cluster: a job keeps its host's lock for the delay after
    its last response, so no worker can send the host's next request sooner."""
    delay = 0.3
    for n in range(5):
        engine.defer(pages.url("a.test", str(n)), lock="a.test", delay=delay)
    engine.defer(pages.url("b.test", "0"), lock="b.test", delay=delay)
    engine.start_worker(concurrency=2)
    engine.start_worker(concurrency=2)

    engine.wait_all_succeeded()

    arrivals = pages.arrivals["a.test"]
    assert len(arrivals) == 5
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert min(gaps) >= delay, gaps  # measured at the server
    assert pages.max_in_flight["a.test"] == 1


def test_queueing_lock_keeps_one_crawl_waiting_per_host(engine: Engine, pages: PageServer) -> None:
    held = pages.url("a.test", "feed", "hold")
    engine.defer(held, lock="a.test", queueing_lock="crawl:a.test")
    with pytest.raises(procrastinate.exceptions.AlreadyEnqueued):
        engine.defer(held, lock="a.test", queueing_lock="crawl:a.test")
    engine.defer(pages.url("b.test", "feed"), lock="b.test", queueing_lock="crawl:b.test")

    engine.start_worker(concurrency=2)
    pages.wait_for(lambda: pages.in_flight["a.test"] == 1)  # the first crawl runs
    # ... so the next one may wait behind it (same lock), but only one.
    engine.defer(pages.url("a.test", "next"), lock="a.test", queueing_lock="crawl:a.test")
    with pytest.raises(procrastinate.exceptions.AlreadyEnqueued):
        engine.defer(pages.url("a.test", "next"), lock="a.test", queueing_lock="crawl:a.test")
    pages.released.set()

    engine.wait_all_succeeded()
    assert pages.max_in_flight["a.test"] == 1
    assert pages.hits.index("/a.test/feed") < pages.hits.index("/a.test/next")


def _worker_of(engine: Engine, job_id: int) -> int:
    """Index of the worker running ``job_id`` (from the workers' logs)."""
    for index in range(len(engine.workers)):
        if any(line.startswith(f"start {job_id} ") for line in engine.log(index).splitlines()):
            return index
    raise AssertionError(f"no worker started job {job_id}")


def test_job_of_a_worker_killed_mid_page_runs_again(engine: Engine, pages: PageServer) -> None:
    first = engine.defer(pages.url("a.test", "page", "hold"), lock="a.test")
    engine.start_worker()
    pages.wait_for(lambda: pages.in_flight["a.test"] == 1)  # mid-page
    second = engine.defer(pages.url("a.test", "next"), lock="a.test")
    engine.start_worker()  # the survivor: free, but a.test is locked by the dead one's job

    victim = engine.workers[_worker_of(engine, first)]
    victim.kill()  # kill -9
    killed_at = time.monotonic()
    victim.wait()
    pages.released.set()  # the dead worker's connection is gone: let its handler end
    pages.wait_for(lambda: pages.in_flight["a.test"] == 0)

    pages.wait_for(lambda: pages.hits.count("/a.test/page") == 2)  # fetched again
    recovered_after = time.monotonic() - killed_at
    jobs = engine.wait_all_succeeded()

    assert jobs[first][:2] == ("succeeded", 2)  # retried once, by the survivor
    assert jobs[second][:2] == ("succeeded", 1)
    assert pages.hits == ["/a.test/page", "/a.test/page", "/a.test/next"]
    assert pages.max_in_flight["a.test"] == 1
    assert f"job {first} (fetch, lock a.test) of a dead worker" in engine.log(1)
    print(f"kill -9 mid-page: job running again after {recovered_after:.1f}s ({SETTINGS})")


def test_job_of_a_machine_that_vanishes_runs_elsewhere(
    test_network: TestNetwork, tmp_path: Path
) -> None:
    pages = PageServer(test_network.address)
    with running_server(listen=test_network.address, port=free_port(),
                        clients=str(test_network.subnet)) as server:
        database = server.create_database()
        engine = Engine(server.conninfo(database), tmp_path)
        try:
            doomed, survivor = test_network.machine(), test_network.machine()
            job = engine.defer(pages.url("a.test", "page", "hold"), lock="a.test")
            engine.start_worker(machine=doomed, conninfo=server.tcp_conninfo(database))
            pages.wait_for(lambda: pages.in_flight["a.test"] == 1)
            engine.start_worker(machine=survivor, conninfo=server.tcp_conninfo(database))

            doomed.disappear()
            vanished_at = time.monotonic()
            pages.released.set()  # the answer to the vanished machine goes nowhere
            pages.wait_for(lambda: pages.hits.count("/a.test/page") == 2)
            recovered_after = time.monotonic() - vanished_at
            jobs = engine.wait_all_succeeded()

            assert jobs[job][:2] == ("succeeded", 2)
            assert engine.workers[0].poll() is None  # still running, cut off
            assert f"job {job} (fetch, lock a.test) of a dead worker" in engine.log(1)
            print(f"machine vanished mid-page: job running again after {recovered_after:.1f}s")
        finally:
            # The vanished machine's worker cannot even say goodbye to the database.
            engine.workers[0].kill()
            engine.stop()
            pages.close()


def test_worker_stops_while_postgresql_is_down_and_a_new_one_resumes(
    engine: Engine, pages: PageServer, postgres: PostgresServer
) -> None:
    engine.defer(pages.url("a.test", "before"), lock="a.test")
    worker = engine.start_worker(raw=True)
    engine.wait_all_succeeded()

    postgres.stop("fast")
    stopped_at = time.monotonic()
    try:
        # procrastinate 3.x does not wait for the database to come back: its listener fails
        # to reconnect and the worker stops by itself (whatever its exit code), so what runs
        # it must start it again (newswatch's crawler role, or systemd's Restart=always).
        code = worker.wait(timeout=WAIT)
        print(f"worker exited with {code}, {time.monotonic() - stopped_at:.1f}s after "
              "PostgreSQL stopped")
    finally:
        postgres.start()
    engine.defer(pages.url("a.test", "after"), lock="a.test")
    engine.start_worker(raw=True)

    jobs = engine.wait_all_succeeded()
    assert len(jobs) == 2
    assert pages.hits == ["/a.test/before", "/a.test/after"]


def test_newswatch_worker_rides_out_postgresql_restarts(
    engine: Engine, pages: PageServer, postgres: PostgresServer
) -> None:
    """scheduler.engine.run_worker runs the worker again once PostgreSQL is back."""
    engine.defer(pages.url("a.test", "before"), lock="a.test")
    worker = engine.start_worker()
    engine.wait_all_succeeded()

    postgres.stop("fast")
    try:
        # Bounded wait for the worker to notice, as its log says.
        deadline = time.monotonic() + WAIT
        while "stopped by itself" not in engine.log(0) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        postgres.start()
    engine.defer(pages.url("a.test", "after"), lock="a.test")

    jobs = engine.wait_all_succeeded()
    assert len(jobs) == 2
    assert pages.hits == ["/a.test/before", "/a.test/after"]
    assert worker.poll() is None  # the same process all along
    assert "stopped by itself" in engine.log(0)
    postgres_restart_log = engine.log(0)
    worker.terminate()
    assert worker.wait(timeout=60) == 0
    assert "stopped after" in engine.log(0), postgres_restart_log


def test_worker_on_the_crawler_reactor_runs_scrapy_crawls(engine: Engine, site: NewsSite) -> None:
    """The crawler role's shape: the worker on the asyncio loop of Twisted's asyncio reactor,
    each job a Scrapy crawl from one runner (up to two at once); SIGTERM stops it cleanly."""
    urls = [site.article_url(story.slug) for story in STORIES[:3]]
    for url in urls:
        engine.defer(url, lock=url, task_name="crawl")
    worker = engine.start_worker(script="engine_reactor_worker.py")

    jobs = engine.wait_all_succeeded()

    assert len(jobs) == 3
    crawled = [line.split() for line in engine.log(0).splitlines() if line.startswith("crawled")]
    assert sorted(fields[2] for fields in crawled) == sorted(urls)
    assert all(fields[3] == "200" and int(fields[4]) > 0 for fields in crawled)
    worker.terminate()
    assert worker.wait(timeout=60) == 0
    assert engine.log(0).rstrip().endswith("stopped")


def test_host_lock_names_the_host_and_slot() -> None:
    from scheduler.engine import host_lock

    assert host_lock("https://www.Example.org:8443/feed.xml") == "host:www.example.org#0"
    assert host_lock("http://news.test./a", slot=1) == "host:news.test#1"
    assert host_lock("http://[::1]:80/") == "host:::1#0"
    with pytest.raises(ValueError, match="no host"):
        host_lock("/relative/path")


def test_retry_period_must_fit_the_seconds_field() -> None:
    from scheduler.engine import EngineSettings, build_app

    for bad in (0, 60):
        with pytest.raises(ValueError, match="retry_every"):
            build_app("dbname=none", EngineSettings(retry_every=bad))
    app = build_app("dbname=none", EngineSettings(retry_every=10))  # nothing connects yet
    assert RETRY_STALLED in app.tasks


def test_a_stale_list_of_stalled_jobs_takes_no_job_from_a_live_worker(pg_conninfo: str) -> None:
    """Several stalled-job tasks run at once (each second's, late ones, a new worker's): one
    may act on its list after another has given the same job back and a live worker has
    taken it. That copy must not be retried nor ended again (procrastinate's retry_job and
    finish_job check the status only: the live worker's job would run twice at once, or its
    host's lock be given back while it runs)."""
    import psycopg

    from scheduler.engine import EngineSettings, build_app, ensure_schema, give_back

    settings = EngineSettings(heartbeat=1, stalled_after=1, retry_every=1)
    app = build_app(pg_conninfo, settings)

    @app.task(name="crawl", lock="a.test", queueing_lock="crawl:a")
    def crawl() -> None:
        """A crawl of host a.test."""

    async def scenario() -> list[tuple[str, int | None]]:
        async with app.open_async():
            await ensure_schema(app, pg_conninfo)
            await crawl.defer_async()
            manager = app.job_manager
            dead = await manager.register_worker()
            job = await manager.fetch_job(queues=None, worker_id=dead)
            assert job is not None and job.worker_id == dead
            with psycopg.connect(pg_conninfo, autocommit=True) as conn:
                conn.execute("UPDATE procrastinate_workers SET last_heartbeat ="
                             " now() - interval '1 minute' WHERE id = %s", [dead])
            # Two tasks list the dead worker's job; the first gives it back, a live worker
            # takes it; then the second acts on its list.
            first = list(await manager.get_stalled_jobs(seconds_since_heartbeat=1))
            second = list(await manager.get_stalled_jobs(seconds_since_heartbeat=1))
            assert [j.id for j in first] == [j.id for j in second] == [job.id]
            assert await give_back(app, first[0], settings.stalled_after)
            live = await manager.register_worker()
            again = await manager.fetch_job(queues=None, worker_id=live)
            assert again is not None and again.id == job.id
            assert not await give_back(app, second[0], settings.stalled_after)
            # The same with the same work queued again meanwhile (the path that ends the
            # dead copy instead of retrying it).
            await crawl.defer_async()
            assert not await give_back(app, second[0], settings.stalled_after)
            with psycopg.connect(pg_conninfo) as conn:
                return [(str(status), worker) for status, worker in conn.execute(
                    "SELECT status::text, worker_id FROM procrastinate_jobs"
                    " WHERE task_name = 'crawl' ORDER BY id").fetchall()]

    assert asyncio.run(scenario()) == [("doing", 2), ("todo", None)]


def test_the_engines_connections_give_up_on_a_silent_server(pg_conninfo: str) -> None:
    """Each connection of the task engine has storage.pg's limits on a silent server, on
    both sides: libpq's (a heartbeat, a job's end, the worker's stop waited on a vanished
    server for the kernel's 15 minutes and more, and the role never exited) and the
    server's (a vanished machine's session kept what its transaction had locked for 2
    hours: the crawl job it was queueing held up the next one, and no source was polled)."""
    import asyncio

    from scheduler.engine import EngineSettings, build_app
    from storage.pg import SERVER_SILENCE_LIMITS, SILENCE_LIMITS

    app = build_app(pg_conninfo, EngineSettings())

    async def limits() -> tuple[dict[str, str], dict[str, str]]:
        async with app.open_async(), app.connector.pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT name, source FROM pg_settings WHERE name = ANY(%s)",
                [list(SERVER_SILENCE_LIMITS)])
            server = {name: source for name, source in await cursor.fetchall()}
            return conn.info.get_parameters(), server

    client, server = asyncio.run(limits())
    assert {k: client.get(k) for k in SILENCE_LIMITS} == SILENCE_LIMITS
    assert server == dict.fromkeys(SERVER_SILENCE_LIMITS, "session")


@pytest.mark.timeout(120)
def test_a_worker_whose_database_is_lost_ends_its_stop_when_forsaken(
    postgres: PostgresServer, pg_conninfo: str
) -> None:
    """scheduler.engine.run_worker's ``forsake``: a worker stopped while its database is lost
    (no answer comes: a server vanished from the network) ends its stop when told to,
    without the job ends and the unregistering that wait on that server (past a role's
    TimeoutStopSec: systemd killed it)."""
    from scheduler.engine import EngineSettings, build_app, run_worker

    database = pg_conninfo.rsplit("dbname=", 1)[1]
    proxy = SilentProxy(f"{postgres.socket_dir}/.s.PGSQL.{postgres.port}")
    settings = EngineSettings(heartbeat=1, stalled_after=3, retry_every=1)
    app = build_app(f"host=127.0.0.1 port={proxy.port} user={postgres_user(pg_conninfo)} "
                    f"dbname={database}", settings)

    async def stopped() -> bool:
        """Whether the worker's stop ended within 40 s, the database silent."""
        stop, forsake = asyncio.Event(), asyncio.Event()
        running = asyncio.ensure_future(run_worker(app, settings, stop, name="w",
                                                   forsake=forsake))
        with psycopg.connect(pg_conninfo, autocommit=True) as conn:
            for _ in range(int(WAIT * 10)):
                if conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone()[0]:
                    break
                await asyncio.sleep(0.1)
            else:
                pytest.fail("the worker never registered")
        await asyncio.sleep(0.3)
        proxy.silence()
        stop.set()
        await asyncio.sleep(0.5)
        forsake.set()
        # psycopg's own bounds then: its cancel request (5 s), the statement's end after it
        # (5 s), the pool's close (5 s).
        done, _ = await asyncio.wait({running}, timeout=40)
        if not done:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
        return bool(done)

    asyncio.run(ensure_schema(build_app(pg_conninfo, settings), pg_conninfo))
    try:
        assert asyncio.run(stopped())
    finally:
        proxy.close()


def postgres_user(conninfo: str) -> str:
    """The user of a test server's ``conninfo``."""
    return conninfo.split("user=", 1)[1].split()[0]
