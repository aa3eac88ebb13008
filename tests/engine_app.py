"""The task engine as newswatch runs it across machines (``scheduler.engine``: procrastinate
on PostgreSQL), with a test job: a page fetch, locked by its host. Used by
tests/test_task_engine.py in the test process (to defer jobs) and as a worker process.

Run as a worker: ``python engine_app.py`` with ``ENGINE_CONNINFO`` (libpq connection string),
``ENGINE_CONCURRENCY`` (jobs at once, default 1) and ``ENGINE_RAW=1`` to run procrastinate's
worker bare, without newswatch's restart loop. Heartbeat every second, a worker silent for
3 s is dead, its jobs are looked for every second. Job starts and ends go to stdout, the
engine's warnings to stderr.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
import urllib.request

import procrastinate

from scheduler.engine import EngineSettings, build_app, run_worker

SETTINGS = EngineSettings(heartbeat=1, stalled_after=3, retry_every=1)
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def build(conninfo: str) -> procrastinate.App:
    """newswatch's engine on ``conninfo``, with the test's fetch task."""
    app = build_app(conninfo, SETTINGS)

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

    return app


def main() -> int:
    """Run one worker until SIGTERM."""
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    app = build(os.environ["ENGINE_CONNINFO"])
    name = os.environ.get("ENGINE_NAME", f"worker-{os.getpid()}")
    concurrency = int(os.environ.get("ENGINE_CONCURRENCY", "1"))
    print("worker", os.getpid(), flush=True)
    if os.environ.get("ENGINE_RAW"):
        app.run_worker(name=name, concurrency=concurrency,
                       update_heartbeat_interval=SETTINGS.heartbeat,
                       stalled_worker_timeout=SETTINGS.stalled_after)
        return 0

    async def serve() -> int:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        return await run_worker(app, SETTINGS, stop, name=name, concurrency=concurrency)

    runs = asyncio.run(serve())
    print("stopped after", runs, "runs", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
