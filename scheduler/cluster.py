"""The roles of newswatch on several machines (docs/scale-out.md): ``newswatch run --role``.

Every role works on one PostgreSQL database (``[database] url``); the task engine
(``scheduler.engine``: procrastinate) spreads the crawls.

- ``scheduler``: every ``daemon.tick``, defers one crawl job (``CRAWL_TASK``) per due source,
  locked by the source's host (``crawl.per_host`` lock slots per host: one job per slot runs at
  a time, cluster-wide) and queued at most once per source (``queueing_lock``); queues the due
  digests and health reports and runs the hourly housekeeping (these under an advisory lock:
  several schedulers may run).
- ``crawler``: a procrastinate worker on the asyncio loop of Scrapy's reactor, running crawl
  jobs: poll one source through the crawler (``crawler.CrawlRunner``) into the store, then
  hold the host's lock for ``crawl.delay`` more, so that the next job of the host cannot send
  its first request sooner. A job whose source was polled since it was deferred does nothing
  (a crawl retried after a dead worker, or queued behind a running one); one whose poll
  moved its source to another address calls ``moved``, as the one-process daemon's cycle.
- ``alerter``: matches the new articles (one process at a time: an advisory lock; the sources
  whose crawl job is running are left for later) and delivers the due outbox messages
  (claims with ``SKIP LOCKED``, ``storage.pg``; its "sent" marks go through a local journal
  first, ``storage.journal``, so that a database gone before their commit loses none).

SIGHUP reloads the config file as it does for the one-process daemon (``reload_now`` and the
``reload`` callback given: ``newswatch.app.reload_config``).

Every effect of a crawl job is idempotent (articles are upserted by their URL identity), so
a job that runs twice (a worker thought dead that was only slow) stores nothing twice.
Loaded only by ``newswatch run --role`` (the optional ``postgres`` extra).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued

from storage import to_iso, utcnow
from storage.errors import connection_failure, said_stopping

from .daemon import (
    held_reloads,
    installed_reactor,
    reload_now,
    report_slow_stop,
    spawn_background,
    stop_waits_on_signals,
    stop_within_grace,
)
from .engine import EngineSettings, build_app, ensure_schema, host_lock, run_worker, worker_name

if TYPE_CHECKING:
    from crawler import CrawlSettings
    from newswatch.config import Config
    from storage.pg import PgStore

    from .pipeline import Pipeline

logger = logging.getLogger(__name__)

CRAWL_TASK = "newswatch.crawl_source"
#: Advisory locks: one process matches at a time; one queues digests and health reports.
MATCH_LOCK = 0x6E776D61  # "nwma"
SCHEDULE_LOCK = 0x6E777363  # "nwsc"
HOUSEKEEPING_EVERY = timedelta(hours=1)
#: How long the task worker's stop is waited for once the database is found lost: the ends of
#: its jobs and its unregistering, each waiting EngineSettings.pool_timeout (5 s) at most for a
#: connection (reachable, they are recorded: its jobs are not run again).
FORSAKE_SECONDS = 10.0
#: Finished jobs stay this long in procrastinate_jobs (for ``status`` and inquiries).
KEEP_JOBS_HOURS = 24


def engine_settings(config: Config) -> EngineSettings:
    """The engine's timings from ``[daemon]`` (in the ranges it takes: the config file's
    loader refuses others)."""
    daemon = config.daemon
    return EngineSettings(
        heartbeat=daemon.heartbeat_seconds,
        stalled_after=daemon.stalled_after_seconds,
        retry_every=round(daemon.retry_stalled_seconds),
    )


class DatabaseClock:
    """The time of the database server, read on this machine's clock and the offset between
    the two, measured again every few minutes: the machines of a cluster schedule by it (a
    crawler whose clock was 5 minutes behind stamped every source due again in the past,
    and the scheduler queued it at every tick; one ahead held every source 5 minutes)."""

    MEASURE_EVERY = 300.0  # seconds of the monotonic clock
    TOLD = 30.0  # an offset said in the log from this many seconds

    def __init__(self, store: PgStore) -> None:
        self.store = store
        self.offset = timedelta(0)
        self._measured: float | None = None

    def measure(self) -> None:
        """Read the database's time now (a query); say a large offset once it changes."""
        before = time.monotonic()
        local = utcnow()
        remote = self.store.database_now()
        trip = timedelta(seconds=time.monotonic() - before)
        offset = remote - (local + trip / 2)
        told = abs(self.offset.total_seconds()) >= self.TOLD
        if abs(offset.total_seconds()) >= self.TOLD and (
            not told or abs((offset - self.offset).total_seconds()) >= self.TOLD
        ):
            logger.warning("this machine's clock is %+.0fs off the database server's: "
                           "newswatch schedules by the database's", -offset.total_seconds())
        self.offset = offset
        self._measured = time.monotonic()

    def __call__(self) -> datetime:
        if self._measured is None or time.monotonic() - self._measured >= self.MEASURE_EVERY:
            try:
                self.measure()
            except Exception:  # the connection's failure is the caller's to see
                logger.debug("the database's time could not be read", exc_info=True)
        return utcnow() + self.offset


class Cluster:
    """The roles of one process, on the store and pipeline it was given."""

    def __init__(
        self,
        config: Config,
        store: PgStore,
        pipeline: Pipeline,
        roles: frozenset[str],
        reload: Callable[[], Sequence[str]] | None = None,
        moved: Callable[[], None] | None = None,
    ) -> None:
        """``reload``: applies the config file again on SIGHUP (newswatch.app.reload_config),
        returning the changed settings that need a restart. ``moved``: called after a crawl
        job whose poll moved its source to another address, as the one-process daemon calls
        it after such a cycle (newswatch merges a source that now polls what another polls)."""
        assert config.database.url is not None
        self.url = config.database.url
        self.config = config
        self.store = store
        self.pipeline = pipeline
        self.roles = roles
        self.settings = engine_settings(config)
        self.reload = reload
        self.moved = moved
        self.tick = config.daemon.tick_seconds
        self.stop = asyncio.Event()
        # Set when a stop's grace period ran out on crawls still busy (a request in flight,
        # or waiting for its host's crawl.delay): their jobs end at once, see _crawl.
        self._abandoned = asyncio.Event()
        # Set FORSAKE_SECONDS after the database was found lost: the task worker's stop ends
        # where it is (scheduler.engine._stop_worker).
        self._forsake = asyncio.Event()
        self._clustered: int | None = None  # clustered_mark after this process last matched
        self.failed = False  # the store's connection was lost: the process exits 1
        self.worker = build_app(self.url, self.settings)  # the crawler role's worker
        self.worker.task(name=CRAWL_TASK, pass_context=True)(self._crawl_job)
        self.set_crawl(config.crawl)
        self.pipeline.clock = DatabaseClock(store)

    def set_crawl(self, crawl: CrawlSettings) -> None:
        """The crawl settings from now on (at start, and on a reload): the lock slots of a
        host (``per_host``) for the jobs deferred next, the delay held under a host's lock,
        and the crawl of the jobs started next."""
        self.delay = crawl.delay_seconds
        self.per_host = max(1, crawl.per_host)
        if "crawler" in self.roles:
            # Each job sends one request at a time to its host (the cluster-wide limit is
            # the number of lock slots, crawl.per_host), spaced by crawl.delay.
            self.pipeline.crawler.reconfigure(replace(crawl, per_host=1))

    def set_tick(self, seconds: float) -> None:
        """Look for due sources, digests and mail every ``seconds`` from now on."""
        if seconds != self.tick:
            self.tick = seconds
            logger.info("tick is now %.0fs", seconds)

    # -- the process ------------------------------------------------------------------------

    async def main(self) -> None:
        """Run the roles until :meth:`request_stop`."""
        await ensure_schema(self.worker, self.url)
        logger.info("newswatch %s started on %s", "+".join(sorted(self.roles)),
                    self.config.database.shown)
        roles: list[Awaitable[None]] = []
        if "scheduler" in self.roles:
            roles.append(self._scheduler())
        if "crawler" in self.roles:
            roles.append(self._crawler())
        if "alerter" in self.roles:
            roles.append(self._alerter())
        await asyncio.gather(*roles)
        logger.info("newswatch %s stopped", "+".join(sorted(self.roles)))

    def request_stop(self, signum: int) -> None:
        """A stop signal: running crawls end early (their sources stay due), a delivery in
        progress finishes."""
        if self.stop.is_set():
            return
        if not self.failed:
            logger.info("received %s, stopping", signal.Signals(signum).name)
        self.stop.set()
        self.pipeline.stop()
        report_slow_stop()
        if "crawler" in self.roles:
            spawn_background(self._stop_crawls())

    async def _stop_crawls(self) -> None:
        """Stop the crawls as the one-process daemon does (``stop_within_grace``); past the
        grace period, the crawl jobs still running end without their crawl (its requests
        abandoned, the source left due): procrastinate's stop waits for its jobs, and a
        crawl waiting for its host's delay (minutes, for a site that asks so) or for a
        request to a server gone silent held the process past the unit's TimeoutStopSec."""
        if not await stop_within_grace(self.pipeline.crawler):
            self._abandoned.set()

    def _check_store(self) -> None:
        """After a failure: if the store's connection is gone, stop the process (exit 1), for
        systemd (``Restart=always``) to start it again on a new connection. If this
        process's stop shut it (its statement abandoned, said already: said_stopping), the
        stop goes on as when it is lost, but exits as any stop does."""
        if self.store.lost and not self.failed:
            logger.error("the connection to %s is lost: stopping, to be started again",
                         self.config.database.shown)
            self._lost()
        elif self.store.abandoned and not self._abandoned.is_set():
            self._give_up()

    def _lost(self) -> None:
        """The database is lost (said already): the process stops, exit 1 (_give_up)."""
        self.failed = True
        self._give_up()

    def _give_up(self) -> None:
        """The store's connection is gone: the process stops. Its crawls are abandoned at
        once (their pages could not be stored: their sources stay due), and the task
        worker's stop is given FORSAKE_SECONDS: the end of the jobs and the worker's
        unregistering each wait for a connection (pool_timeout), or on one whose server
        vanished from the network for the kernel's 30 s, and a process whose database
        vanished while systemd stopped it was killed past TimeoutStopSec."""
        self.request_stop(signal.SIGTERM)  # nothing more when stopping already
        self._abandoned.set()
        asyncio.get_event_loop().call_later(FORSAKE_SECONDS, self._forsake.set)

    def _tick_failed(self, role: str, exc: Exception) -> None:
        """A tick of ``role`` failed (``exc``, being handled). Its statement cancelled by the
        process's stop is no failure (said_stopping). The store's connection gone is one
        line, the process stopping (a traceback of each role's statement said nothing more);
        the task engine's connection failing, one line too; another failure is logged with
        its traceback. Each but the first is tried again next tick."""
        if said_stopping(exc, f"the {role} tick"):
            self._check_store()  # its connection abandoned by the stop: see there
            return
        if self.store.lost:
            self._check_store()
        elif (failure := connection_failure(exc)) is not None:
            logger.error("%s tick failed, trying again next tick: %s", role,
                         " ".join(str(failure).split()))
        else:
            logger.exception("%s tick failed; trying again next tick", role)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), seconds)

    # -- scheduler --------------------------------------------------------------------------

    async def _scheduler(self) -> None:
        app = build_app(self.url, self.settings)  # for deferring: the worker's is its own
        housekeeping = self.pipeline.clock() + timedelta(minutes=1)
        async with app.open_async():
            while not self.stop.is_set():
                try:
                    await self.defer_due(app)
                    if self.pipeline.clock() >= housekeeping:
                        housekeeping = self.pipeline.clock() + HOUSEKEEPING_EVERY
                        await app.job_manager.delete_old_jobs(nb_hours=KEEP_JOBS_HOURS)
                        with self._locked(SCHEDULE_LOCK) as mine:
                            if mine:
                                self.pipeline.housekeeping()
                    with self._locked(SCHEDULE_LOCK) as mine:
                        if mine:
                            self.pipeline.digests()
                            self.pipeline.check_health()
                except Exception as exc:
                    self._tick_failed("scheduler", exc)
                await self._pause(self.tick)

    async def defer_due(self, app: procrastinate.App) -> int:
        """Defer a crawl job for each source due before the next tick; how many were new
        (a source already waiting is not queued twice)."""
        horizon = self.pipeline.clock() + timedelta(seconds=self.tick)
        deferred = 0
        for source in self.store.due_sources(horizon):
            task = app.configure_task(
                CRAWL_TASK,
                lock=host_lock(source.poll_url, source.id % self.per_host),
                queueing_lock=f"crawl:{source.id}",
            )
            try:
                await task.defer_async(source_id=source.id, due=to_iso(source.next_due) or "")
            except AlreadyEnqueued:
                continue
            deferred += 1
        if deferred:
            logger.info("queued the crawl of %d due source(s)", deferred)
        return deferred

    # -- crawler ----------------------------------------------------------------------------

    async def _crawler(self) -> None:
        # Scrapy builds its parts on a process's first crawl, seconds of work on the event
        # loop of a loaded machine: done before the worker registers, not in its first job,
        # where it would hold up the worker's heartbeat until the cluster took the crawler
        # for dead and ran its crawl a second time at once (found by tests/test_cluster.py).
        try:
            await self.pipeline.crawler.warm_up(self.store, self.pipeline.clock)
        except Exception:
            logger.exception("the crawler could not be prepared; its first crawl will")
        await run_worker(self.worker, self.settings, self.stop, name=worker_name("crawler"),
                         concurrency=self.config.daemon.jobs, stopped=self._probe_store,
                         forsake=self._forsake)

    def _probe_store(self, error: BaseException | None) -> None:
        """The crawler's task worker stopped by itself (``error``): when it lost its
        connections to PostgreSQL, or this process's own connection is gone too, stop the
        process (exit 1). Its connection is used by crawl jobs alone: a crawler whose
        database vanished from the network ran no more job to find that out, and started
        its worker again and again, for as long as the database was gone (a restarted
        PostgreSQL is found by the next job). Asked on a connection whose server vanished,
        a probe waits for the kernel's timeouts (30 s: storage.pg.SILENCE_LIMITS), past the
        minute such a crawler is given to stop; the worker's own connection failure says as
        much at once."""
        if (failure := connection_failure(error)) is not None and not self.failed:
            logger.error("the connection to %s is lost: stopping, to be started again (the "
                         "task engine's: %s)", self.config.database.shown,
                         " ".join(str(failure).split()))
            self._lost()
            return
        try:
            self.store.database_now()
        except Exception as exc:
            if not self.store.lost:
                logger.warning("the database did not answer: %s", exc)
        self._check_store()

    async def _crawl_job(self, context: procrastinate.JobContext, source_id: int,
                         due: str) -> str:
        """Poll one source (a crawl job); holds its host's lock ``crawl.delay`` past the last
        response. What it did, for the job's log."""
        try:
            return await self._crawl(context, source_id, due)
        except Exception as exc:
            self._check_store()
            # A job the worker took as the process stops, its statement cancelled or its
            # connection abandoned by the stop: no failure (its source stays due).
            if said_stopping(exc, f"the crawl of source {source_id}"):
                return "abandoned at a stop"
            raise

    async def _crawl(self, context: procrastinate.JobContext, source_id: int, due: str) -> str:
        try:
            source = self.store.source(source_id)
        except KeyError:
            return "source gone"
        if not source.active or (to_iso(source.next_due) or "") != due:
            return "polled already"  # since this job was deferred: nothing to do
        crawl = asyncio.ensure_future(
            self.pipeline.crawler.crawl(self.store, [source], self.pipeline.clock))
        abandoned = asyncio.ensure_future(self._abandoned.wait())
        await asyncio.wait({crawl, abandoned}, return_when=asyncio.FIRST_COMPLETED)
        abandoned.cancel()
        if not crawl.done():  # see _stop_crawls: the process ends with the crawl unfinished
            spawn_background(crawl)
            logger.warning("crawl of %s (job %s) abandoned by the stop: polled again later",
                           source.url, context.job.id)
            return "abandoned at a stop"
        report = crawl.result()
        if report.counters["polls_unrecorded"]:
            self._check_store()  # the poll could not be recorded: the connection may be gone
        for failed, outcome in report.failures:
            logger.warning("source %s failed: %s", failed.url, outcome.error)
        logger.info("crawled %s (job %s): %d new article(s), %d updated", source.url,
                    context.job.id, report.new_articles, report.updated_articles)
        if self.moved is not None and any(
            outcome.fetch_url is not None for _, outcome in report.outcomes.values()
        ):
            # A page whose declared feed (or a permanent redirect's target) this poll found
            # may be what another source polls: the scheduler merged it at its next start or
            # SIGHUP only, and queued the feed's crawl for both until then. Here, as only
            # the crawler sees where a poll went: a poll of a source whose address stays,
            # nearly every one, costs nothing more.
            self.moved()
        if self.delay > 0:
            # Politeness, under the host's lock; cut short by a stop (the job must end for
            # the process to: the next job of the host may then come that much sooner).
            await self._pause(self.delay)
        return f"{report.new_articles} new"

    # -- alerter ----------------------------------------------------------------------------

    async def _alerter(self) -> None:
        while not self.stop.is_set():
            try:
                await self.match()
                await self.pipeline.deliver()
            except Exception as exc:
                self._tick_failed("alerter", exc)
            await self._pause(self.tick)
        await self.pipeline.finish_delivery()

    async def match(self) -> int:
        """Match what is new, unless another process is matching; how many articles."""
        with self._locked(MATCH_LOCK) as mine:
            if not mine:
                return 0
            if self.store.clustered_mark() != self._clustered:
                self.pipeline.forget_stories()  # another process clustered meanwhile
            report = await self.pipeline.match_soon(
                lambda: self.store.crawling_sources(CRAWL_TASK))
            self._clustered = self.store.clustered_mark()
            return report.articles

    @contextlib.contextmanager
    def _locked(self, key: int) -> Iterator[bool]:
        mine = self.store.try_lock(key)
        try:
            yield mine
        finally:
            if mine:
                self.store.unlock(key)


def serve(cluster: Cluster) -> int:
    """Run the roles of ``cluster`` in this process on Scrapy's asyncio reactor until
    SIGTERM/SIGINT (SIGHUP reloads the config); the exit code (1 when a role failed for
    good)."""
    from twisted.internet.defer import Deferred

    reactor = installed_reactor()
    outcome: list[Any] = []

    def start() -> None:
        loop = asyncio.get_event_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, cluster.request_stop, signum)
        stop_waits_on_signals()
        loop.add_signal_handler(signal.SIGHUP, reload_now, cluster.reload)
        held_reloads.replay(loop, cluster.reload)
        running = Deferred.fromFuture(asyncio.ensure_future(cluster.main()))

        def done(result: Any) -> None:
            outcome.append(result)
            reactor.stop()

        running.addBoth(done)

    reactor.callWhenRunning(start)
    reactor.run(installSignalHandlers=False)
    failure = outcome[0] if outcome else None
    if failure is not None:
        logger.error("newswatch stopped: %s", getattr(failure, "value", failure))
        return 1
    return 1 if cluster.failed else 0
