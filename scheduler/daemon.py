"""The service: one asyncio reactor shared by Scrapy and APScheduler, fixed jobs, signals.

The schedule of each source lives in the database (``sources.next_due``); the scheduler only
runs a few fixed jobs: a crawl tick that runs one cycle (``Pipeline.cycle``, the same as
``newswatch crawl``) over the due sources (a tick that comes while a cycle crawls adds the
sources due then to its crawl, so that a slow site does not hold the others), an outbox job
that retries deliveries, a digest job that queues the digests that are due even while a long
crawl runs, and hourly housekeeping.
SIGTERM/SIGINT stop crawls cleanly and wait for a delivery in progress; SIGHUP reloads the
configuration (the ``reload`` callback applies it and names the settings that need a restart).
A cycle whose polls moved a source to another address calls ``moved`` (newswatch merges a
source that now polls what another polls).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar, cast

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from storage import PipelineStore, StorageError
from storage.db import stop_waiting
from storage.errors import said_stopping

from .metrics import Metrics
from .metrics import serve as serve_metrics
from .pipeline import MatchReport, Pipeline

if TYPE_CHECKING:
    from alerts import DeliveryReport
    from crawler import CrawlReport, CrawlRunner, CrawlSettings
    from storage import Source

    from .lock import InstanceLock

R = TypeVar("R")

logger = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 5
#: After it, how long pages already fetched may take to be extracted and stored.
PAGES_GRACE_SECONDS = 20
HOUSEKEEPING_EVERY = timedelta(hours=1)
HOUSEKEEPING_DELAY = timedelta(minutes=1)  # not in the way of the first crawl
#: The wall clock going back by more than this against the monotonic one is a clock step.
CLOCK_STEP_SECONDS = 60.0
MAX_POLL_PAUSE_SECONDS = 1800.0
#: A delivery run of the daemon starts no send after this many seconds (Pipeline.delivery_budget).
DELIVERY_BUDGET_SECONDS = 60.0
#: The sources that fall due while a cycle crawls join its crawl for this long from its start
#: (Daemon._join_crawl); later ones wait for the next cycle: a crawl that new polls kept
#: joining would never end, nor would its cycle (its log line and counters, the re-match of
#: edited articles, the health reports).
JOIN_SECONDS = 600.0
TICK_JOBS = ("crawl", "outbox", "digest")


class ClockWatch:
    """Tells a step back of the wall clock (a VM restored from a snapshot, a clock set by
    hand, NTP stepping it) from the passing of time, by the monotonic clock."""

    def __init__(self) -> None:
        self._mark: tuple[float, float] | None = None

    def stepped_back(self, wall: float, monotonic: float) -> float:
        """Seconds the wall clock went back since the last call (0: none, or less than
        CLOCK_STEP_SECONDS)."""
        mark, self._mark = self._mark, (wall, monotonic)
        if mark is None:
            return 0.0
        back = (monotonic - mark[1]) - (wall - mark[0])
        return back if back > CLOCK_STEP_SECONDS else 0.0


def due_if_set_back(store: PipelineStore, now: datetime) -> None:
    """At start (the daemon's, a crawl's): a clock ``now`` behind the last poll the database
    holds was set back while newswatch was stopped (a reboot that mended a clock ahead):
    what was due by the old clock is made due now (store.due_now)."""
    latest = store.latest_poll()
    if latest is None or (latest - now).total_seconds() <= CLOCK_STEP_SECONDS:
        return
    logger.warning("the clock is %.0f s behind the last poll the database holds (%s): "
                   "what was due is due now",
                   (latest - now).total_seconds(), latest.isoformat(timespec="seconds"))
    store.due_now(now)


class Daemon:
    """Runs the pipeline on a schedule until a signal stops it."""

    def __init__(
        self,
        pipeline: Pipeline,
        tick_seconds: float,
        reload: Callable[[], Sequence[str]] | None = None,
        metrics_address: str | None = None,
        lock: InstanceLock | None = None,
        moved: Callable[[], None] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.moved = moved  # after a cycle that changed where a source is polled
        self.lock = lock  # the database's single-instance lock, checked with the database
        self.metrics = Metrics()
        self.metrics_address = metrics_address
        self.tick_seconds = tick_seconds
        self.reload = reload
        self.failures = 0
        self.failed = False  # the database connection was lost: the process exits 1
        self.code = 1  # ... or this (2: its file removed, see _check_store)
        if pipeline.delivery_budget is None:  # a slow mail server must not hold the polls
            pipeline.delivery_budget = DELIVERY_BUDGET_SECONDS
        self._clock = ClockWatch()
        self._polls_paused_until = 0.0  # time.monotonic(): see _pause_polls
        self._pause_steps = 0
        self._cycle_began: float | None = None  # time.monotonic() of the cycle under way
        self._joined = 0  # polls that joined its crawl
        self.scheduler: AsyncIOScheduler | None = None

    @property
    def stopping(self) -> bool:
        """A stop signal came: the service is shutting down."""
        return self.pipeline.stopping

    async def crawl_tick(self) -> None:
        """One cycle over the sources that are due: poll, match, route, deliver. While the
        cycle of an earlier tick crawls, the sources due now join its crawl instead (one
        crawl at a time: a source is never polled by two)."""
        self._check_store()
        if self.stopping:
            return
        if self._cycle_began is not None:
            await self._guard("crawl", self._join_crawl(self._cycle_began))
            return
        self._cycle_began, self._joined = time.monotonic(), 0
        try:
            await self._guard("crawl", self._crawl_due())
        finally:
            self._cycle_began = None

    async def outbox_tick(self) -> None:
        """Match anything left unmatched and deliver the due outbox messages."""
        self._check_store()
        if self.stopping:
            return
        await self._guard("outbox", self._match_and_deliver())

    async def digest_tick(self) -> None:
        """Queue the digests whose time has come (each recipient's clock) and deliver them."""

        async def run() -> None:
            if self.pipeline.digests():
                self._count_delivery(0, await self.pipeline.deliver())

        await self._guard("digest", run())

    async def housekeeping_tick(self) -> None:
        """Retention and database upkeep, hourly."""

        async def run() -> None:
            self.pipeline.housekeeping()

        await self._guard("housekeeping", run())

    def _due(self) -> list[Source]:
        """The sources to poll now (none while the polls are paused: _pause_polls)."""
        if time.monotonic() < self._polls_paused_until:
            return []
        # A source that falls due before the next tick is polled now: waiting for that tick
        # would add up to a whole tick to every poll (measured: a 1-minute source was polled
        # every 90 s with the default 30 s tick).
        horizon = self.pipeline.clock() + timedelta(seconds=self.tick_seconds)
        return self.pipeline.store.due_sources(horizon)

    async def _join_crawl(self, began: float) -> None:
        """The sources due now join the crawl of the cycle under way: a slow site in it (a
        feed of many new pages, each slow to come) does not hold the polls of the others.
        Not once that crawl is JOIN_SECONDS old, nor after it (while its cycle matches and
        delivers): they are then polled at the first tick after its cycle."""
        if not self.pipeline.crawling or time.monotonic() - began > JOIN_SECONDS:
            return
        joined = self.pipeline.add_to_crawl(self._due())
        if joined:
            self._joined += len(joined)
            logger.info("polling %d more due source(s) in the crawl under way", len(joined))

    async def _crawl_due(self) -> None:
        due = self._due()
        if due:
            logger.info("polling %d due source(s)", len(due))
        cycle = await self.pipeline.cycle(due, self._pause_polls)
        if self.stopping:
            return
        crawled = cycle.crawl if due else None
        matched, delivered = cycle.matched, cycle.delivery
        if crawled is None and not (matched.articles or delivered.sent or delivered.retrying):
            return
        counters = crawled.counters if crawled is not None else {}
        self._count(crawled, matched.matches, delivered)
        if _did_something(crawled, matched, delivered):
            # One line per cycle that did something: greppable, key=value. Its sources are
            # the polls of its crawl: those it started with and those that joined it; those
            # the database would not take (a full disk) are neither ok nor failed.
            logger.info(
                "cycle sources=%d ok=%d failed=%d unrecorded=%d new_articles=%d "
                "updated_articles=%d deferred=%d %s health_reports=%d",
                len(due) + self._joined,
                counters.get("sources_ok", 0),
                counters.get("sources_failed", 0),
                counters.get("polls_unrecorded", 0),
                counters.get("articles_new", 0),
                counters.get("articles_updated", 0),
                counters.get("articles_deferred", 0),
                _summary(matched, delivered),
                cycle.health,
            )
        if self.moved is not None and crawled is not None and any(
            outcome.fetch_url is not None for _, outcome in crawled.outcomes.values()
        ):
            # A page whose declared feed (or a permanent redirect's target) this crawl found
            # may be what another source polls: before, the daemon polled that feed for both
            # at every tick until its next start or SIGHUP. Only then: a warm cycle of 304s
            # changes no address and costs nothing more.
            self.moved()

    def _count(
        self, crawled: CrawlReport | None, matches: int, delivered: DeliveryReport
    ) -> None:
        """Feed the /metrics counters with what a cycle did."""
        add = self.metrics.add
        add("newswatch_cycles_total")
        if crawled is not None:  # every poll (a source may have been polled again: add_to_crawl)
            counted = crawled.counters
            unchanged = counted["sources_not_modified"]
            fetches = {"ok": counted["sources_ok"] - unchanged, "not_modified": unchanged,
                       "failed": counted["sources_failed"]}
            for kind, polls in fetches.items():
                if polls:
                    add("newswatch_fetches_total", polls, kind)
            add("newswatch_articles_new_total", counted.get("articles_new", 0))
        self._count_delivery(matches, delivered)

    def _count_delivery(self, matches: int, delivered: DeliveryReport) -> None:
        """Feed the match and delivery counters (every job that matches or delivers)."""
        add = self.metrics.add
        add("newswatch_matches_total", matches)
        add("newswatch_emails_total", delivered.sent, "sent")
        add("newswatch_emails_total", delivered.retrying, "retrying")
        add("newswatch_emails_total", delivered.failed, "failed")

    async def _match_and_deliver(self) -> None:
        # While a crawl runs, its cycle matches as it goes (but a source's first poll, which
        # must be stored whole before any of its pages is matched, so that the site's
        # template is known, see watchlist.templates).
        # This job then only delivers, and until the pass under way ends (its articles wait
        # in it unmatched: taken here too when its crawl ended meanwhile, they were matched
        # twice and counted twice).
        busy = self.pipeline.crawling or self.pipeline.streaming
        matched = MatchReport() if busy else await self.pipeline.match_soon()
        # Each tick, not only at a cycle's end: a crawl that slow sites keep open (sources
        # joining it for up to JOIN_SECONDS) held the operator's report of a failing source
        # for up to 10 minutes, whatever alerts.health_after said.
        self.pipeline.check_health()
        delivered = await self.pipeline.deliver()
        self._count_delivery(matched.matches, delivered)
        if _did_something(None, matched, delivered):
            # What this job did is not in any crawl's cycle line: it gets a line of its own.
            logger.info("outbox %s", _summary(matched, delivered))

    async def _guard(self, name: str, job: Awaitable[None]) -> None:
        """Run a job; a failing job never stops the service: log, count, retry next tick. Its
        statement cancelled by the process's stop is no failure (said_stopping)."""
        try:
            await job
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if said_stopping(exc, f"the {name} tick"):
                return
            self.failures += 1
            if isinstance(exc, StorageError):  # its own words say it all (a full disk)
                logger.error("%s tick failed (%d failures so far): %s", name, self.failures,
                             exc)
            else:
                logger.exception("%s tick failed (%d failures so far)", name, self.failures)
            self._check_store()

    def _check_store(self) -> None:
        """After a failure, and before each crawl and delivery: if the database is gone for
        good (its PostgreSQL connection lost; its SQLite file replaced), stop the process
        with exit code 1, for systemd (``Restart=always``) to start it again on a new
        connection or file, as the roles of several machines do (exit code 2, not started
        again, when its SQLite file was removed). Its sent marks wait in the
        sent journal. So too when its lock file was removed and another process took the
        lock of a new one (InstanceLock.kept)."""
        store = self.pipeline.store
        if store.lost and not self.failed and getattr(store, "removed", False):
            # Started again by systemd, it made a new, empty database there, and mailed again
            # the articles of the look-back its feeds still list (a review: a temporary-files
            # cleaner). Exit code 2: the units in deploy/ do not restart it.
            logger.error("the database file %s was removed: stopping, not to be started "
                         "again on a new, empty one (it would mail again the alerts of "
                         "alerts.lookback): restore it (newswatch restore FILE), or start "
                         "newswatch again to begin afresh", getattr(store, "path", ""))
            self.code = 2
            self._stop(failed=True)
        elif store.lost and not self.failed:
            where = getattr(store, "path", None)
            logger.error("the database is lost (its connection closed, or its file removed, "
                         "replaced or damaged)%s: stopping, to be started again",
                         f": {where}" if where else "")
            self._stop(failed=True)
        elif self.lock is not None and not self.failed and (problem := self.lock.kept()):
            logger.error("%s: stopping", problem)
            self._stop(failed=True)

    def run(self) -> int:
        """Run until SIGTERM/SIGINT; returns the exit code."""
        reactor = installed_reactor()
        reactor.callWhenRunning(self._start)
        reactor.run(installSignalHandlers=False)
        return self.code if self.failed else 0

    def _start(self) -> None:
        loop = asyncio.get_event_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._on_stop_signal, signum)
        stop_waits_on_signals()
        loop.add_signal_handler(signal.SIGHUP, self._on_reload_signal)
        held_reloads.replay(loop, self.reload)
        scheduler = AsyncIOScheduler(event_loop=loop, timezone="UTC")
        now = datetime.now(scheduler.timezone)
        options: dict[str, object] = {
            "trigger": "interval",
            "seconds": self.tick_seconds,
            "max_instances": 1,
            "coalesce": True,
            "replace_existing": True,
            "misfire_grace_time": None,
        }
        # Two at once: a tick that comes while the cycle of an earlier one crawls adds the
        # sources due to that crawl (crawl_tick); a third is skipped, as the other jobs' are.
        scheduler.add_job(self.crawl_tick, id="crawl", next_run_time=now,
                          **{**options, "max_instances": 2})
        scheduler.add_job(self.outbox_tick, id="outbox", **options)
        scheduler.add_job(self.digest_tick, id="digest", next_run_time=now, **options)
        scheduler.add_job(
            self.housekeeping_tick,
            id="housekeeping",
            next_run_time=now + HOUSEKEEPING_DELAY,
            **{**options, "seconds": HOUSEKEEPING_EVERY.total_seconds()},
        )
        self._behind_the_database()
        scheduler.start()
        self.scheduler = scheduler
        self._watch_clock()
        if self.metrics_address:
            listening = serve_metrics(
                self.metrics_address,
                lambda: self.metrics.render(self.pipeline.store, self.failures),
            )
            listening.addCallbacks(
                lambda port: logger.info(
                    "metrics on http://%s:%d/metrics",
                    f"[{host}]" if ":" in (host := port.getHost().host) else host,
                    port.getHost().port,
                ),
                self._metrics_failed,
            )
        logger.info("newswatch daemon started (tick %.0fs)", self.tick_seconds)

    def _pause_polls(self, crawled: CrawlReport) -> None:
        """After a crawl whose polls the database would not take (a full disk): no polls for
        a while, doubling while it lasts (2 ticks, then 4..., 30 minutes at most). Before,
        those sources stayed due and were polled again at every tick, their pages fetched
        again, each failure logged with its traceback."""
        unrecorded = crawled.counters.get("polls_unrecorded", 0)
        if not unrecorded:
            self._pause_steps = 0
            return
        pause = min(self.tick_seconds * 2 ** (self._pause_steps + 1), MAX_POLL_PAUSE_SECONDS)
        self._pause_steps += 1
        self._polls_paused_until = time.monotonic() + pause
        logger.error(
            "%d poll(s) could not be recorded (%s): no polls for %.0f s", unrecorded,
            crawled.storage_error, pause,
        )

    def _behind_the_database(self) -> None:
        """At start: a clock behind the last poll the database holds was set back while the
        daemon was stopped (a reboot that mended a clock ahead): what was due by the old
        clock is due now, as after a step seen while running (_watch_clock). Before, the
        sources' next polls and the digest times waited as long as the clock went back: no
        polls for a day after a day's step, that day's digest skipped (a review)."""
        try:
            due_if_set_back(self.pipeline.store, self.pipeline.clock())
        except Exception:
            self.failures += 1
            logger.exception("rescheduling after the clock went back failed")

    def _watch_clock(self) -> None:
        """Every tick, by the monotonic clock: after a step back of the wall clock, what was
        due by the old clock is due now. Before, the ticks (APScheduler's interval jobs) and
        the sources' next polls, kept in the database, waited as long as the clock went
        back: an hour of no polls and no alerts for an hour's step, and the same after a
        restart."""
        if self.stopping:
            return
        back = self._clock.stepped_back(time.time(), time.monotonic())
        if back:
            logger.warning("the clock went back %.0f s: what was due is due now", back)
            try:
                self.pipeline.store.due_now(self.pipeline.clock())
                if self.scheduler is not None:
                    for job in TICK_JOBS:
                        self.scheduler.modify_job(job, next_run_time=datetime.now(UTC))
            except Exception:
                self.failures += 1
                logger.exception("rescheduling after the clock went back failed")
        loop = asyncio.get_event_loop()
        loop.call_later(self.tick_seconds, self._watch_clock)

    def _metrics_failed(self, failure: Any) -> None:
        """The metrics endpoint asked for cannot listen (its port taken): said, and the
        daemon stops with exit code 1, rather than run on without what was asked for."""
        logger.error("daemon.metrics: cannot listen on %s: %s; stopping",
                     self.metrics_address, failure.value)
        self._stop(failed=True)

    def set_tick(self, seconds: float) -> None:
        """Look for due sources, mail and digests every ``seconds`` from now on."""
        if seconds == self.tick_seconds:
            return
        self.tick_seconds = seconds
        if self.scheduler is not None:
            for job in TICK_JOBS:
                self.scheduler.reschedule_job(job, trigger="interval", seconds=seconds)
        logger.info("tick is now %.0fs", seconds)

    def set_crawl(self, crawl: CrawlSettings) -> None:
        """Crawls started from now on use ``crawl`` (a reload)."""
        self.pipeline.crawler.reconfigure(crawl)

    def _on_stop_signal(self, signum: int) -> None:
        if self.pipeline.stopping:
            logger.warning("%s", stopping_again(self.pipeline, signum))
            return
        logger.info("received %s, stopping", signal.Signals(signum).name)
        self._stop(failed=False)

    def _stop(self, *, failed: bool) -> None:
        """Shut down (once), with exit code 1 when ``failed``."""
        self.failed = self.failed or failed
        if not self.pipeline.stopping:
            self.pipeline.stop()
            report_slow_stop()
            spawn_background(self._shutdown())

    def _on_reload_signal(self) -> None:
        reload_now(self.reload)

    async def _shutdown(self) -> None:
        reactor = installed_reactor()
        try:
            if self.scheduler is not None:
                self.scheduler.shutdown(wait=False)
            # Crawls get a grace period to stop; requests still in flight after it are
            # abandoned — their sources stay due and are polled again at the next start.
            await stop_within_grace(self.pipeline.crawler)
            await self.pipeline.finish_delivery()
        except Exception:
            logger.exception("error while stopping")
        finally:
            logger.info("newswatch daemon stopped")
            reactor.stop()


def stop_waits_on_signals() -> None:
    """SIGTERM and SIGINT (handled by the event loop: loop.add_signal_handler) also end at
    once a statement's wait for the write lock of another process (storage.db.stop_waiting),
    or on PostgreSQL for a lock another session holds (storage.pg.stop_waiting). The loop
    handles a signal only once the statement under way returns: while it waited for the
    lock, in the loop's thread, the stop waited with it (45 s of a sqlite3 shell's BEGIN
    IMMEDIATE: SIGTERM acted on 45 s late; a psql session's open transaction: never, until
    systemd killed the process). Python runs this handler between two of the statement's
    waits; the loop's handler stays (the signal's wakeup byte)."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda signum, frame: _stop_waiting())


def _stop_waiting() -> None:
    stop_waiting()
    # Loaded only with a PostgreSQL database (the optional psycopg).
    if (pg := sys.modules.get("storage.pg")) is not None:
        pg.stop_waiting()


class HeldReloads:
    """SIGHUP while the process starts (its SMTP login check, its database's migrations),
    before the event loop handles it: noted, and the configuration reloaded as soon as the
    loop runs (ignored, a topic added then was not matched until the next reload, with
    ``systemctl reload`` said to have worked; SIGHUP's default killed the process)."""

    def __init__(self) -> None:
        self.asked = False

    def install(self) -> None:
        signal.signal(signal.SIGHUP, self._note)

    def _note(self, signum: int, frame: object) -> None:
        self.asked = True

    def replay(self, loop: asyncio.AbstractEventLoop,
               reload: Callable[[], Sequence[str]] | None) -> None:
        """Once the loop handles SIGHUP: the reload asked for before, if one was."""
        if self.asked:
            self.asked = False
            logger.info("a reload was asked for while starting")
            loop.call_soon(reload_now, reload)


#: The process's (newswatch.cli installs it first thing; the daemon and the roles replay it).
held_reloads = HeldReloads()


def reload_now(reload: Callable[[], Sequence[str]] | None) -> None:
    """Reload the configuration (SIGHUP, for the daemon and the roles of several machines)
    and say how it went: kept as it was (a file with problems), reloaded, or reloaded but for
    the settings ``reload`` names, which need a restart."""
    if reload is None:
        return
    try:
        restart = reload()
    except Exception as exc:
        logger.error("configuration not reloaded, keeping the current one: %s", exc)
        return
    if restart:
        logger.warning(
            "configuration reloaded; needs a restart: %s (these keep their start-up values)",
            ", ".join(restart),
        )
    else:
        logger.info("configuration reloaded")


def installed_reactor() -> Any:  # Twisted's reactor module object carries no usable type
    """The installed Twisted reactor (imported late: the asyncio one must be installed first)."""
    from twisted.internet import reactor

    return reactor


_background: set[asyncio.Future[Any]] = set()


#: A stop that takes longer than this is abnormal (a send under way is abandoned, unless the
#: server has its message whole: then its verdict is awaited; crawls are abandoned after
#: STOP_GRACE_SECONDS): what it waits for is logged.
STOP_REPORT_SECONDS = 30.0


def report_slow_stop(after: float = STOP_REPORT_SECONDS) -> None:
    """Log what the process still waits for (its tasks' awaits, its threads' stacks) if it
    is still running ``after`` seconds from now, and again every ``after`` seconds: a stop
    that never ends leaves systemd nothing to restart, and this says where it hangs."""
    loop = asyncio.get_event_loop()
    started = loop.time()

    def report() -> None:
        logger.warning("still stopping after %.0f s, waiting for:\n%s",
                       loop.time() - started, waiting_for(loop))
        loop.call_later(after, report)

    loop.call_later(after, report)


def waiting_for(loop: asyncio.AbstractEventLoop) -> str:
    """The chain of awaits of each pending task of ``loop`` and the stack of each other
    thread, one block each."""
    import linecache
    import sys
    import threading
    import traceback

    blocks = []
    for task in asyncio.all_tasks(loop):
        chain = [f"task {task.get_name()}"]
        awaited: Any = task.get_coro()
        while awaited is not None:
            frame = next((getattr(awaited, name) for name in ("cr_frame", "gi_frame", "ag_frame")
                          if getattr(awaited, name, None) is not None), None)
            if frame is None:  # a future, or a coroutine of C (its awaiting line says which)
                if isinstance(awaited, asyncio.Future):
                    chain.append(f"  {awaited!r}"[:300])
                break
            code, line = frame.f_code, frame.f_lineno
            chain.append(f"  {code.co_filename}:{line} {code.co_qualname}: "
                         f"{linecache.getline(code.co_filename, line).strip()}")
            awaited = next((getattr(awaited, name) for name in ("cr_await", "gi_yieldfrom",
                                                                 "ag_await")
                            if getattr(awaited, name, None) is not None), None)
        blocks.append("\n".join(chain))
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    for ident, frame in sys._current_frames().items():
        if ident != threading.get_ident():
            stack = "".join(traceback.format_stack(frame, limit=8))
            blocks.append(f"thread {names.get(ident, ident)}\n{stack.rstrip()}")
    return "\n".join(blocks)


def spawn_background(coro: Awaitable[Any]) -> None:
    """Run ``coro`` (or let a future already running go on) in the background, kept
    referenced until it ends."""
    task = asyncio.ensure_future(coro)
    _background.add(task)
    task.add_done_callback(_background.discard)


class Interrupted(Exception):
    """A stop signal ended a one-off command (run_once) before its work was done."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def stopping_again(pipeline: Pipeline, signum: int) -> str:
    """What to say when a stop signal comes while the process stops (Ctrl-C pressed again):
    what the stop still waits for. It was ignored without a word, up to the 10 minutes a
    mail server may take to answer a message it has whole."""
    grace = (f"its requests are abandoned {STOP_GRACE_SECONDS} s after the stop, the pages it "
             f"fetched stored within {PAGES_GRACE_SECONDS} s more")
    return (f"received {signal.Signals(signum).name} again: still stopping, waiting for "
            f"{pipeline.stop_waits_for(grace)}")


async def stop_within_grace(crawls: CrawlRunner) -> bool:
    """Stop the crawls (:func:`stop_crawls`) within STOP_GRACE_SECONDS; past it, their
    requests still in flight are abandoned (their sources stay due), once the pages already
    fetched are extracted and stored (PAGES_GRACE_SECONDS at most). Whether they ended in
    time."""
    try:
        await asyncio.wait_for(stop_crawls(crawls), STOP_GRACE_SECONDS)
    except TimeoutError:
        logger.warning("crawl still busy after %ds, abandoning its requests", STOP_GRACE_SECONDS)
        left = await crawls.finish_pages(PAGES_GRACE_SECONDS)
        if left:
            logger.warning("%d fetched page(s) not extracted in %ds: read again at the next "
                           "poll", left, PAGES_GRACE_SECONDS)
        return False
    return True


async def stop_crawls(crawls: CrawlRunner) -> None:
    """Ask the crawls in progress to stop (the articles they hold are stored) and wait for
    their end."""
    await crawls.stop()
    await crawls.join()


def run_once(
    main: Callable[[], Awaitable[R]], pipeline: Pipeline | None = None,
    say: Callable[[str], None] | None = None,
) -> R:
    """Run one coroutine in the reactor (for one-off commands). With ``pipeline``, SIGINT
    and SIGTERM stop it as they stop the daemon: no matching or delivery starts any more, a
    send under way ends, the crawls stop (the articles they hold are stored; requests still
    in flight after STOP_GRACE_SECONDS are abandoned, their sources stay due); then
    :class:`Interrupted` is raised; the signal again says what the stop waits for
    (:func:`stopping_again`), through ``say`` (default: the log). Without a pipeline, the
    signals keep their usual effect."""
    tell = say if say is not None else partial(logger.warning, "%s")
    from twisted.internet.defer import Deferred
    from twisted.python.failure import Failure

    reactor = installed_reactor()
    outcome: list[object] = []
    stopped: list[int] = []

    def stop(signum: int) -> None:
        assert pipeline is not None  # the handlers are set only with it
        if stopped:
            tell(stopping_again(pipeline, signum))
            return
        stopped.append(signum)
        tell(f"received {signal.Signals(signum).name}, stopping")
        pipeline.stop()
        spawn_background(abandon(pipeline))

    async def abandon(pipeline: Pipeline) -> None:
        if not await stop_within_grace(pipeline.crawler):
            await pipeline.finish_delivery()
            if not outcome:
                reactor.stop()

    def start() -> None:
        if pipeline is not None:
            loop = asyncio.get_event_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop, signum)
            stop_waits_on_signals()
        d = Deferred.fromFuture(asyncio.ensure_future(main()))

        def done(result: object) -> None:
            outcome.append(result)
            reactor.stop()

        d.addBoth(done)

    reactor.callWhenRunning(start)
    reactor.run(installSignalHandlers=False)
    if stopped:
        raise Interrupted(stopped[0])
    result = outcome[0] if outcome else None
    if isinstance(result, Failure):
        result.raiseException()
    return cast("R", result)


def _did_something(
    crawled: CrawlReport | None, matched: MatchReport, delivered: DeliveryReport
) -> bool:
    """Whether a cycle or an outbox job has a summary line to write: it polled, matched or
    sent, or failed an email for good. Emails that only wait for their retry are no news
    (the delivery run's warning said why): a mail server down for an hour gave every tick
    a "cycle sources=0" and an "outbox" line that said only "retrying=200"."""
    return (crawled is not None or bool(matched.articles) or bool(delivered.sent)
            or bool(delivered.failed))


def _summary(matched: MatchReport, delivered: DeliveryReport) -> str:
    """The key=value fields of a summary line that say what was matched and delivered."""
    return (
        f"matched_articles={matched.articles} matches={matched.matches} "
        f"emails_queued={matched.emails} sent={delivered.sent} "
        f"retrying={delivered.retrying} failed_emails={delivered.failed}"
    )
