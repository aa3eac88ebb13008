"""The task engine as newswatch would use it across machines (procrastinate on PostgreSQL),
reduced to what tests/test_task_engine.py pins: a job per page fetch, locked by host; the
periodic task that gives a dead worker's jobs back; a worker process.

Run as a worker: ``python engine_app.py`` with ``ENGINE_CONNINFO`` (libpq connection string),
``ENGINE_CONCURRENCY`` (jobs at once, default 1), ``ENGINE_HEARTBEAT`` (seconds between
heartbeats, default 1) and ``ENGINE_STALLED_AFTER`` (seconds without a heartbeat after which
a worker's jobs are given back, default 3). Each job start and end is printed to stdout.
"""

from __future__ import annotations

import os
import sys
import time
import urllib.request
from typing import Any

import procrastinate

HEARTBEAT = float(os.environ.get("ENGINE_HEARTBEAT", "1"))
STALLED_AFTER = float(os.environ.get("ENGINE_STALLED_AFTER", "3"))

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def build(conninfo: str) -> procrastinate.App:
    """The app on the database at ``conninfo``, with its tasks (built once per process)."""
    # A database that does not answer fails a query after 5 s (the pool's default: 30 s).
    connector = procrastinate.PsycopgConnector(conninfo=conninfo, timeout=5)
    app = procrastinate.App(connector=connector)

    @app.task(name="fetch", pass_context=True)
    def fetch(context: procrastinate.JobContext, url: str, delay: float = 0.0) -> int:
        """Fetch one page (a crawl step): the job of a crawler. ``delay``: the politeness
        pause, slept after the response while the job (and so its host's lock) is held."""
        job = context.job
        print("start", job.id, job.lock, url, flush=True)
        with _opener.open(url, timeout=120) as response:
            size = len(response.read())
        time.sleep(delay)
        print("end", job.id, job.lock, url, flush=True)
        return size

    @app.periodic(cron="* * * * * *")  # every second: the recovery bound in these tests
    @app.task(name="retry_stalled", queueing_lock="retry_stalled", pass_context=True)
    async def retry_stalled(context: procrastinate.JobContext, timestamp: int) -> None:
        """Give the jobs of workers that stopped beating back to the queue."""
        stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER)
        for job in stalled:
            print("retry", job.id, job.lock, flush=True)
            await app.job_manager.retry_job(job)

    return app


def main() -> None:
    """Run one worker until SIGTERM/SIGINT."""
    options: dict[str, Any] = {
        "concurrency": int(os.environ.get("ENGINE_CONCURRENCY", "1")),
        "update_heartbeat_interval": HEARTBEAT,
        "stalled_worker_timeout": STALLED_AFTER,
        "name": os.environ.get("ENGINE_NAME", f"worker-{os.getpid()}"),
    }
    print("worker", os.getpid(), flush=True)
    build(os.environ["ENGINE_CONNINFO"]).run_worker(**options)


if __name__ == "__main__":
    sys.exit(main())
