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
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import procrastinate

logger = logging.getLogger(__name__)

RETRY_STALLED = "newswatch.retry_stalled"


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
    connector = procrastinate.PsycopgConnector(conninfo=conninfo, timeout=settings.pool_timeout)
    app = procrastinate.App(connector=connector)

    # A sixth cron field counts seconds; the queueing lock keeps one such job waiting.
    @app.periodic(cron=f"*/{settings.retry_every} * * * * *")
    @app.task(name=RETRY_STALLED, queueing_lock=RETRY_STALLED, pass_context=True)
    async def retry_stalled(context: procrastinate.JobContext, timestamp: int) -> None:
        """Give the jobs of workers silent for ``stalled_after`` back to the queue."""
        manager = app.job_manager
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=settings.stalled_after):
            logger.warning("job %s (%s, lock %s) of a dead worker: running it again",
                           job.id, job.task_name, job.lock)
            await manager.retry_job(job)

    return app


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
) -> int:
    """Run a worker until ``stop`` is set (its running jobs then finish); run it again after
    a pause whenever it stops by itself or cannot start. Returns how many times it ran."""
    runs = 0
    pause = settings.backoff_min
    while not stop.is_set():
        runs += 1
        started = time.monotonic()
        work = asyncio.ensure_future(_work(app, settings, name, concurrency))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if stopping.done():
            work.cancel()  # procrastinate's graceful stop: running jobs finish first
            await asyncio.gather(work, return_exceptions=True)
            break
        stopping.cancel()
        error = work.exception()
        if time.monotonic() - started > settings.backoff_max:
            pause = settings.backoff_min  # it had been running well: start over
        logger.warning("task worker %s stopped by itself (%s); running it again in %.0f s",
                       name, error or "no error", pause)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)
        pause = min(pause * 2, settings.backoff_max)
    return runs


async def _work(app: procrastinate.App, settings: EngineSettings, name: str,
                concurrency: int) -> None:
    async with app.open_async():
        await app.run_worker_async(
            name=name,
            concurrency=concurrency,
            install_signal_handlers=False,
            update_heartbeat_interval=settings.heartbeat,
            stalled_worker_timeout=settings.stalled_after,
        )
