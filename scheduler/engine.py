"""The task engine of a newswatch cluster (docs/scale-out.md): procrastinate on PostgreSQL.

``build_app`` makes the engine's app on a database, with the one task every cluster needs:
the periodic task that gives the jobs of dead workers back to the queue. ``run_worker`` runs a
worker on the running asyncio loop (the one of Scrapy's asyncio reactor in newswatch) until
asked to stop, and runs it again, with back-off, whenever it stops by itself: procrastinate's
worker stops when it loses PostgreSQL (a restart is enough), and a crawler must outlive that.
``host_lock`` names the lock that keeps one job per host running across the cluster.

Loaded only by a cluster set-up (the optional ``postgres`` extra); SQLite never imports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import procrastinate
import psycopg
from procrastinate.worker import Worker

from storage import pg
from storage.errors import connection_failure

logger = logging.getLogger(__name__)

RETRY_STALLED = "newswatch.retry_stalled"
#: Serialises the set-up of the engine's schema by several processes starting at once.
SCHEMA_LOCK = 0x6E77_656E  # "nwen"
#: Who each worker of procrastinate_workers is (host, pid, role): a label written once when
#: the worker registers, gone with the worker's row (its heartbeat is procrastinate's).
LABELS_DDL = """
CREATE TABLE IF NOT EXISTS newswatch_workers (
    worker_id bigint PRIMARY KEY REFERENCES procrastinate_workers(id) ON DELETE CASCADE,
    name text NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    role text NOT NULL,
    started timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class EngineSettings:
    """How quickly the cluster notices a dead worker, and how patiently it waits for
    PostgreSQL; the defaults give a dead worker's job back within about 45 s."""

    heartbeat: float = 10.0  # seconds between a worker's heartbeats
    stalled_after: float = 30.0  # a worker silent this long is dead: its jobs go back
    retry_every: int = 10  # seconds between two looks for dead workers' jobs (1-59)
    pool_timeout: float = 5.0  # a query waits this long for a connection, then fails
    backoff_min: float = 1.0  # first pause before running a stopped worker again
    backoff_max: float = 30.0  # longest pause between two runs


def build_app(conninfo: str, settings: EngineSettings) -> procrastinate.App:
    """The engine on the PostgreSQL database at ``conninfo`` (a libpq connection string or
    URL), with the periodic task that retries the jobs of dead workers."""
    if not 1 <= settings.retry_every <= 59:
        raise ValueError(f"retry_every must be 1-59 seconds, not {settings.retry_every}")
    # With storage.pg's limits on a silent server: without them, a pool connection whose
    # server vanished from the network held each query (a heartbeat, a job's end, the
    # worker's stop) for the kernel's 15 minutes and more.
    connector = procrastinate.PsycopgConnector(conninfo=pg.conninfo(conninfo),
                                               timeout=settings.pool_timeout,
                                               configure=_limit_server_silence)
    app = procrastinate.App(connector=connector)

    # A sixth cron field counts seconds; the queueing lock keeps one such job waiting.
    @app.periodic(cron=f"*/{settings.retry_every} * * * * *")
    @app.task(name=RETRY_STALLED, queueing_lock=RETRY_STALLED, pass_context=True)
    async def retry_stalled(context: procrastinate.JobContext, timestamp: int) -> None:
        """Give the jobs of workers silent for ``stalled_after`` back to the queue."""
        stalled = await app.job_manager.get_stalled_jobs(
            seconds_since_heartbeat=settings.stalled_after)
        for job in stalled:
            await give_back(app, job, settings.stalled_after)

    return app


async def _limit_server_silence(conn: psycopg.AsyncConnection[Any]) -> None:
    """storage.pg's limits on the server's side of each connection of the engine: the session
    of a machine gone from the network kept, for the kernel's 2 hours, what its transaction
    had locked (a crawl job being queued: its source's next job, queued by another
    scheduler, waited on it, and no source was polled)."""
    await conn.execute(pg.SET_SERVER_SILENCE_LIMITS, pg.SERVER_SILENCE_PARAMS)
    await conn.commit()  # the pool takes a connection left in a transaction for broken


#: procrastinate's own retry and finish, but only for a job still as ``get_stalled_jobs``
#: saw it: running, for the same worker, and that worker still silent (row-locked first).
#: Several of these tasks run at once (each second's, a late one, one of a new worker): by
#: the time one acts on its list, another may have given the job back and a live worker be
#: running it again; procrastinate's functions check the status only, and would take the
#: job from under that worker (two copies of a crawl at once, the host's lock given back).
_STILL_STALLED = """
WITH still AS MATERIALIZED (
    SELECT job.id FROM procrastinate_jobs job
     WHERE job.id = %(job_id)s AND job.status = 'doing'
       AND job.worker_id IS NOT DISTINCT FROM %(worker_id)s
       AND (job.worker_id IS NULL OR job.worker_id IN (
            SELECT id FROM procrastinate_workers
             WHERE last_heartbeat < now() - make_interval(secs => %(stalled_after)s)))
       FOR UPDATE OF job
)
"""
RETRY_IF_STALLED = _STILL_STALLED + (
    "SELECT procrastinate_retry_job_v1(id, now(), NULL, NULL, NULL) FROM still")
END_IF_STALLED = _STILL_STALLED + (
    "SELECT procrastinate_finish_job_v1(id, 'failed', false) FROM still")


async def give_back(app: procrastinate.App, job: procrastinate.jobs.Job,
                    stalled_after: float) -> bool:
    """Run ``job`` of a dead worker again, or end it where the same work (its queueing lock)
    waits already; nothing if it is no longer that dead worker's (given back meanwhile).
    Whether it was given back."""
    where = {"job_id": job.id, "worker_id": job.worker_id, "stalled_after": stalled_after}
    connector = app.connector
    try:
        done = await connector.execute_query_all_async(RETRY_IF_STALLED, **where)
    except procrastinate.exceptions.UniqueViolation:
        # A job of the same queueing lock waits already (the same work, queued again
        # meanwhile): that one runs; this one ends, giving its lock back.
        done = await connector.execute_query_all_async(END_IF_STALLED, **where)
        if done:
            logger.warning("job %s (%s, lock %s) of a dead worker: the same work is queued"
                           " already; ended this copy", job.id, job.task_name, job.lock)
        return bool(done)
    if done:
        logger.warning("job %s (%s, lock %s) of a dead worker: running it again",
                       job.id, job.task_name, job.lock)
    return bool(done)


async def ensure_schema(app: procrastinate.App, conninfo: str) -> None:
    """Apply the engine's schema (and the workers' labels) if the database at ``conninfo``
    lacks it; several processes may start at once: an advisory lock lets one do it."""
    async with await psycopg.AsyncConnection.connect(pg.conninfo(conninfo)) as conn:
        await _limit_server_silence(conn)  # a vanished process's lock goes with it
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", [SCHEMA_LOCK])
            cursor = await conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")
            row = await cursor.fetchone()
            if not (row and row[0]):
                await conn.execute(app.schema_manager.get_schema())
            await conn.execute(LABELS_DDL)


def worker_name(role: str) -> str:
    """A worker's name in logs and ``newswatch status``: role, host and pid."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}"


def host_lock(url: str, slot: int = 0) -> str:
    """The lock of requests to ``url``'s host: one job holding it runs at a time, cluster-wide
    (``slot``: one of ``crawl.per_host`` locks of the host)."""
    host = (urlsplit(url).hostname or "").rstrip(".")
    if not host:
        raise ValueError(f"no host in {url!r}")
    return f"host:{host}#{slot}"


async def run_worker(
    app: procrastinate.App,
    settings: EngineSettings,
    stop: asyncio.Event,
    *,
    name: str,
    concurrency: int = 1,
    delete_jobs: str = "never",
    stopped: Callable[[BaseException | None], object] | None = None,
    forsake: asyncio.Event | None = None,
) -> int:
    """Run a worker until ``stop`` is set (its running jobs then finish); run it again after
    a pause whenever it stops by itself or cannot start. ``delete_jobs``: procrastinate's
    (``successful``: a finished job's row goes). ``stopped``: called with the worker's error
    each time it stopped by itself, before the pause; it may set ``stop`` (the database is
    gone: the process exits, to be started again). ``forsake``, once set, ends the stop of a
    worker where it is (see :func:`_stop_worker`). Returns how many times it ran."""
    runs = 0
    pause = settings.backoff_min
    while not stop.is_set():
        runs += 1
        started = time.monotonic()
        work = asyncio.ensure_future(_work(app, settings, name, concurrency, delete_jobs))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if stopping.done():
            await _stop_worker(work, forsake, name)
            break
        stopping.cancel()
        error = work.exception()
        if stopped is not None:
            stopped(error)
            if stop.is_set():
                break
        if time.monotonic() - started > settings.backoff_max:
            pause = settings.backoff_min  # it had been running well: start over
        # Its database's error, in one line (procrastinate's own says "Database error.").
        said = " ".join(str(connection_failure(error) or error or "no error").split())
        logger.warning("task worker %s stopped by itself (%s); running it again in %.0f s",
                       name, said, pause)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)
        pause = min(pause * 2, settings.backoff_max)
    return runs


async def _stop_worker(work: asyncio.Future[Any], forsake: asyncio.Event | None,
                       name: str) -> None:
    """Stop a worker's ``work`` as procrastinate does gracefully (its running jobs finish,
    their ends are recorded, the worker unregisters), unless ``forsake`` is set meanwhile:
    the process's database is lost, and those statements wait for a connection
    (EngineSettings.pool_timeout), or on one whose server vanished from the network for the
    kernel's silence limits (storage.pg.SILENCE_LIMITS: 30 s), past a role's TimeoutStopSec.
    Then the stop ends there, as a kill would end it: the worker's jobs go back to the
    queue once its heartbeat is older than EngineSettings.stalled_after."""
    work.cancel()  # procrastinate's graceful stop: running jobs finish first
    if forsake is not None:
        given_up: asyncio.Future[Any] = asyncio.ensure_future(forsake.wait())
        await asyncio.wait({work, given_up}, return_when=asyncio.FIRST_COMPLETED)
        given_up.cancel()
        if not work.done():
            logger.warning("task worker %s: its stop is not waited for, the database being "
                           "lost (its jobs go back to the queue once it is found dead)", name)
            work.cancel()
    await asyncio.gather(work, return_exceptions=True)


async def _work(app: procrastinate.App, settings: EngineSettings, name: str,
                concurrency: int, delete_jobs: str) -> None:
    async with app.open_async():
        worker = Worker(
            app=app,
            name=name,
            concurrency=concurrency,
            delete_jobs=delete_jobs,
            install_signal_handlers=False,
            update_heartbeat_interval=settings.heartbeat,
            stalled_worker_timeout=settings.stalled_after,
        )
        running = asyncio.ensure_future(worker.run())  # type: ignore[no-untyped-call]
        try:
            await _label(app, worker, running, name)
        finally:
            # Cancelling the run is procrastinate's graceful stop: running jobs finish first.
            if not running.done():
                running.cancel()
            await asyncio.gather(running, return_exceptions=True)
        running.result()


async def _label(app: procrastinate.App, worker: Worker, running: asyncio.Future[None],
                 name: str) -> None:
    """Once ``worker`` has registered, say who it is (newswatch_workers); then wait for its
    end. A label that cannot be written only leaves the worker unnamed in ``status``."""
    while worker.worker_id is None and not running.done():
        await asyncio.sleep(0.05)
    if worker.worker_id is not None:
        role, _, _ = name.partition("@")
        try:
            await app.connector.execute_query_async(
                "INSERT INTO newswatch_workers (worker_id, name, host, pid, role)"
                " VALUES (%(id)s, %(name)s, %(host)s, %(pid)s, %(role)s)"
                " ON CONFLICT (worker_id) DO NOTHING",
                id=worker.worker_id, name=name, host=socket.gethostname(), pid=os.getpid(),
                role=role or "worker",
            )
        except Exception as exc:  # the worker runs on; status shows it unnamed
            logger.warning("worker %s: its label was not written: %s", name, exc)
    await asyncio.wait({running})
