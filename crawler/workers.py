"""Worker processes for the CPU work of each page (article extraction), so that a crawl uses
every core while the crawl's own process keeps the network and the database.

A pool of ``size`` processes, each driven by one thread of the crawl process that hands it
its pages, the one it extracts and the next ones (DEPTH), and reads the answers in order. So
the pool always knows which page a worker is on (the oldest one not answered), and a hostile
page costs that page alone (the page after it goes to a new worker):

* a worker that dies on a page (a crash in C code, the kernel's OOM killer) fails that page
  with :class:`WorkerDied`, and a new worker takes its place;
* a worker that takes longer than ``timeout`` on a page is killed, the page fails with
  :class:`WorkerTimeout`, and a new worker takes its place;
* a worker is retired after ``max_tasks`` pages, so that what trafilatura and lxml cache
  (per process, without bound) is dropped;
* a worker is retired after a page that leaves it ``max_growth`` bytes or more above its
  resident size when it was ready: trafilatura's comparison extractors (readability) leave a
  worker's object arenas about 33 MB larger on some pages, kept until the worker goes.

A retired worker's page is delivered first; the worker is stopped after that.

Workers are forked from a server process that has imported the task's module once
(multiprocessing's ``forkserver``), so a new worker starts in milliseconds and shares that
module's memory with its siblings (the server freezes what it loaded out of the garbage
collector's reach, see crawler.preload, so that the workers' collections do not copy it).
``size = 0`` runs the task in a thread of the crawl process instead (one at a time), as
before there was a pool.

Exceptions::

    PageFailed
    ├── WorkerDied      the worker process ended while it held the page
    └── WorkerTimeout   the page took longer than the timeout
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

logger = logging.getLogger(__name__)

#: Pages a worker extracts before it is replaced.
MAX_TASKS = 500
#: Bytes of resident memory a worker may gain over its size when it was ready (about 40 MB,
#: most of it shared with the fork server) before it is replaced, after the page that took it
#: there. Measured on the cycle benchmark's pages: 2-10 MB more after 2,000 pages (one
#: process), and jumps of about 33 MB in some workers, in trafilatura's readability fallback.
MAX_GROWTH = 24 * 1024 * 1024
#: Seconds one page may take in a worker (trafilatura takes tens of milliseconds).
TIMEOUT = 60.0
#: Seconds a new worker may take to be ready (on a loaded machine, preparing a process can
#: take seconds): not counted in a page's ``timeout``, which is the page's alone.
START_TIMEOUT = 120.0
#: Pages a worker holds at once: the one it extracts and the next two, already sent, so that
#: it goes on to the next page as soon as it is done with one. Handing it one page at a time
#: made it wait for this process's lane thread, which waits for the interpreter lock while
#: the crawl's own thread runs: 2.3 ms a page, a fifth of a worker's time (cycle benchmark,
#: 300 feeds x 30 heavy pages, with pages always waiting in the pool's queue). With two
#: pages held, the machine's cores still stood idle 0.055-0.064 s a second of the cold
#: cycle (the crawl's thread busy for longer than a page's extraction); with three,
#: 0.035-0.047 s (three pairs of runs); with four, not measurably less.
DEPTH = 3
#: A page whose late arguments are not settled yet (:class:`Late`) is sent to a worker only
#: when it holds fewer pages than this: what the arguments depend on may still change while
#: the worker extracts the pages before it. (A site's pages are cut to its article element
#: once its first ones are extracted: sent three deep, 1.5 % more of the pages of a cold
#: cycle of 1,000 new sites went in full.)
UNSETTLED_DEPTH = 2
#: How much lower a worker's CPU priority is than the crawl process's (``nice``). The crawl
#: process feeds every worker from one thread: with the same priority, it got two thirds of
#: a core beside two busy workers on two cores, and they ran dry (measured, with the next page
#: held and 20 MB of pages waiting: one core of two idle 9 % of a cold cycle at the same
#: priority, 4.5 % at this one). Lower, extraction also yields to the machine's other services.
NICE = 10
#: What a worker says once it is ready for pages.
READY = "ready"
#: What the fork server imports after the task's module.
PRELOAD = "crawler.preload"
#: Bytes in a page of memory (/proc/self/statm counts pages).
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class PageFailed(Exception):
    """The page's worker was lost: the page is to be tried again later."""


class WorkerDied(PageFailed):
    """The worker process ended while it held the page."""


class WorkerTimeout(PageFailed):
    """The page took longer than the pool's timeout; its worker was killed."""


@dataclass(frozen=True)
class Done:
    """A task's result and the CPU time it took in its worker (seconds)."""

    value: Any
    cpu_seconds: float


def default_size() -> int:
    """One worker per core."""
    return os.cpu_count() or 1


def resident() -> int:
    """This process's resident memory (bytes; 0 where /proc cannot tell)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0


def _serve(conn: Connection, module: str, name: str, nice: int = 0) -> None:
    """A worker's loop: run ``module.name(*args)`` for each message until told to stop (None)
    or until the crawl process goes away (end of file). Each answer carries the task's
    outcome, its CPU time and how far the worker's resident memory is above its size when it
    was ready. The worker runs ``nice`` steps below the crawl process's priority. Messages
    are read as they come, by a thread of their own: the crawl process sends the next page
    while this one is extracted, and reads the answer once that page is sent, so a page and
    an answer each larger than the pipe holds would otherwise block both processes."""
    # Ctrl-C at a terminal reaches every process of its group, and `systemctl stop` sends
    # SIGTERM to every process of the service (systemd's KillMode=control-group): the crawl
    # process stops its workers itself (end of file), after the page each one holds.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    task = getattr(importlib.import_module(module), name)
    with contextlib.suppress(OSError):
        os.nice(nice)
    start_size = resident()
    inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
    threading.Thread(target=_read, args=(conn, inbox), daemon=True).start()
    conn.send(READY)
    while True:
        args = inbox.get()
        if args is None:
            return
        start = time.process_time()
        try:
            outcome: tuple[str, Any] = ("ok", task(*args))
        except Exception as exc:  # reported to the caller, the worker goes on
            outcome = ("error", f"{type(exc).__name__}: {exc}")
        cpu = time.process_time() - start
        conn.send((outcome, cpu, resident() - start_size))


def _read(conn: Connection, inbox: queue.SimpleQueue[Any]) -> None:
    """Put each message from ``conn`` in ``inbox``; None at the end."""
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            message = None
        inbox.put(message)
        if message is None:
            return


@dataclass
class _Worker:
    process: Any  # multiprocessing.Process of the forkserver context
    conn: Connection
    tasks: int = 0  # pages answered
    sent: int = 0  # pages sent
    retiring: bool = False  # sent its last page

    @property
    def holding(self) -> int:
        """Pages sent and not answered yet."""
        return self.sent - self.tasks

    def stop(self, *, kill: bool = False) -> int | None:
        """End the process (politely, or with SIGKILL) and reap it; its exit code."""
        if kill:
            self.process.kill()
        else:
            with contextlib.suppress(OSError):
                self.conn.send(None)
        self.process.join(timeout=None if kill else 5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()
        code: int | None = self.process.exitcode
        self.process.close()
        return code


#: A page: its task's arguments, the future its outcome settles, that future's loop, and what
#: to call with the task's value in the lane's thread (PagePool.run's ``answered``).
_Job = tuple[tuple[Any, ...], "asyncio.Future[Done]", asyncio.AbstractEventLoop,
             "Callable[[Any], None] | None"]


class Late:
    """An argument of a page's task worked out when the page is sent to a worker, not when it
    is queued: what the crawl knows by then can have changed (crawler.containers).
    ``settled``, when given, says whether the value is already what it will stay (a false
    answer: the page is sent only as its worker's next page, UNSETTLED_DEPTH). Both are
    called in the pool's threads."""

    __slots__ = ("settled", "value")

    def __init__(self, value: Callable[[], Any], settled: Callable[[], bool] | None = None
                 ) -> None:
        self.value = value
        self.settled = settled


def _bound(args: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(arg.value() if isinstance(arg, Late) else arg for arg in args)


def _settled(args: tuple[Any, ...]) -> bool:
    return all(arg.settled() for arg in args
               if isinstance(arg, Late) and arg.settled is not None)


class PagePool:
    """``size`` worker processes running ``task`` (a module-level function, or its
    ``module:name``, which a worker imports) on one page at a time each."""

    def __init__(
        self,
        task: Callable[..., Any] | str,
        size: int | None = None,
        *,
        timeout: float = TIMEOUT,
        max_tasks: int = MAX_TASKS,
        max_growth: int = MAX_GROWTH,
        nice: int = NICE,
    ) -> None:
        if isinstance(task, str):  # "module:name", imported only where it runs
            self._module, _, self._name = task.partition(":")
        else:
            self._module, self._name = task.__module__, task.__qualname__
        self.size = default_size() if size is None else max(0, size)
        self.timeout = timeout
        self.max_tasks = max(1, max_tasks)
        self.max_growth = max_growth
        self.nice = nice
        self.started = 0  # worker processes started so far
        self.lost = 0  # pages whose worker died or was killed
        self.outgrown = 0  # workers retired for the memory a page left them with
        self.pending = 0  # pages sent (or waiting to be) whose answer has not come yet
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lanes: list[threading.Thread] = []
        self._workers: list[_Worker | None] = []
        self._lock = threading.Lock()
        self._closed = False
        self._inline: ThreadPoolExecutor | None = None
        self._context: Any = None

    async def run(self, *args: Any, answered: Callable[[Any], None] | None = None) -> Done:
        """``task(*args)`` in a worker; raises PageFailed when the worker is lost, and
        RuntimeError with the task's error when the task raised. ``answered``, when given, is
        called with the task's value in the pool's thread as soon as the worker answers, before
        the worker is sent another page (which :class:`Late` arguments may depend on), where
        this coroutine resumes only once the crawl's thread gets to it."""
        if self._closed:
            raise RuntimeError("the page pool is closed")
        self.pending += 1
        try:
            return await self._run(args, answered)
        finally:
            self.pending -= 1

    async def _run(self, args: tuple[Any, ...], answered: Callable[[Any], None] | None) -> Done:
        loop = asyncio.get_running_loop()
        if self.size == 0:
            if self._inline is None:
                self._inline = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract")
            task = getattr(importlib.import_module(self._module), self._name)

            def inline() -> Done:
                done = _timed(task, _bound(args))
                _tell(answered, done)
                return done

            return await loop.run_in_executor(self._inline, inline)
        self._start_lanes()
        future: asyncio.Future[Done] = loop.create_future()
        self._jobs.put((args, future, loop, answered))
        return await future

    def _start_lanes(self) -> None:
        with self._lock:
            if self._lanes:
                return
            self._workers = [None] * self.size
            for lane in range(self.size):
                thread = threading.Thread(
                    target=self._drive, args=(lane,), name=f"page-worker-{lane}", daemon=True
                )
                self._lanes.append(thread)
                thread.start()

    def _spawn(self) -> _Worker:
        if self._context is None:
            self._context = multiprocessing.get_context("forkserver")
            # The server imports the task's module (trafilatura, lxml) once; workers are
            # forked from it with everything loaded, and frozen (crawler.preload) so that
            # they keep sharing it.
            self._context.set_forkserver_preload([self._module, PRELOAD])
        ours, theirs = self._context.Pipe()
        process = self._context.Process(
            target=_serve,
            args=(theirs, self._module, self._name, self.nice),
            daemon=True,
            name="newswatch-page-worker",
        )
        process.start()
        theirs.close()
        self.started += 1
        worker = _Worker(process, ours)
        try:
            ready = ours.poll(START_TIMEOUT) and ours.recv() == READY
        except (EOFError, OSError):
            ready = False
        if not ready:
            code = worker.stop(kill=True)
            raise RuntimeError(f"page worker not ready in {START_TIMEOUT:g} s (exit code {code})")
        return worker

    def _drive(self, lane: int) -> None:
        """One lane: keep its worker DEPTH pages ahead, deliver each page's outcome in the order
        the pages were taken, replace the worker as needed."""
        held: deque[_Job] = deque()  # taken, not answered; the first ones are in the worker
        stopping = False
        while not self._closed:
            while not stopping and len(held) < DEPTH:
                try:
                    job = self._jobs.get(block=not held)
                except queue.Empty:
                    break
                if job is None:
                    stopping = True
                elif not job[1].cancelled():
                    held.append(job)
            if not held:
                if stopping:
                    break
                continue
            worker = self._workers[lane]
            if worker is None:
                try:
                    worker = self._workers[lane] = self._spawn()
                except Exception as exc:  # starting a worker failed: its pages fail, not the lane
                    logger.exception("page worker could not be started")
                    while held:
                        _deliver(held.popleft(), PageFailed(f"no worker: {exc}"))
                    continue
            self._send(worker, held)
            if not held:  # every page taken failed on its own arguments
                continue
            result, lost = self._answer(lane, worker)
            job = held.popleft()
            _tell(job[3], result)
            _deliver(job, result)
            if lost:  # the pages after it go to a new worker
                continue
            # Retired once its last page is on its way, so that stopping it delays no page.
            if worker.retiring and worker.holding == 0:
                self._workers[lane] = None
                worker.stop()
        worker = self._workers[lane]
        if worker is not None:
            self._workers[lane] = None
            worker.stop()

    def _send(self, worker: _Worker, held: deque[_Job]) -> None:
        """Send ``worker`` the held pages it does not have yet, up to DEPTH (UNSETTLED_DEPTH
        for a page whose late arguments are not settled) and to the last page it may take. A
        page whose arguments cannot be worked out or sent fails alone; a worker that is gone
        is found out by waiting for its answer (_answer)."""
        while worker.holding < min(len(held), DEPTH) and not worker.retiring:
            job = held[worker.holding]
            try:
                if worker.holding >= UNSETTLED_DEPTH and not _settled(job[0]):
                    break  # sent once the worker is nearer to it
                worker.conn.send(_bound(job[0]))
            except OSError:
                break
            except Exception as exc:  # the page's own arguments: it fails, the lane goes on
                del held[worker.holding]
                _deliver(job, RuntimeError(f"page not sent to a worker: {exc}"))
                continue
            worker.sent += 1
            worker.retiring = worker.sent >= self.max_tasks

    def _answer(self, lane: int, worker: _Worker) -> tuple[Done | BaseException, bool]:
        """The outcome of the oldest page ``worker`` holds, and whether the worker was lost
        (died or killed) on it."""
        try:
            if worker.conn.poll(self.timeout):
                (status, value), cpu, growth = worker.conn.recv()
            else:
                self._lose(lane, worker, kill=True)
                timeout = WorkerTimeout(f"extraction took over {self.timeout:g} s; worker killed")
                return timeout, True
        except (EOFError, OSError):
            code = self._lose(lane, worker, kill=False)
            return WorkerDied(f"worker process died (exit code {code})"), True
        worker.tasks += 1
        if growth >= self.max_growth:
            self.outgrown += 1
            worker.retiring = True
            logger.debug("page worker retired after %d page(s): %d MB above its start",
                         worker.tasks, growth >> 20)
        if status == "error":
            return RuntimeError(value), False
        return Done(value, cpu), False

    def _lose(self, lane: int, worker: _Worker, *, kill: bool) -> int | None:
        self.lost += 1
        self._workers[lane] = None
        return worker.stop(kill=kill)

    def close(self) -> None:
        """Stop the lanes and their workers; pages still queued are dropped, a worker still
        busy after a few seconds is killed."""
        self._closed = True
        for _ in self._lanes:
            self._jobs.put(None)
        for thread in self._lanes:
            thread.join(timeout=5)
        for worker in self._workers:
            if worker is not None and worker.process.is_alive():
                worker.process.kill()
        self._lanes = []
        if self._inline is not None:
            self._inline.shutdown(wait=True)
            self._inline = None


def _timed(task: Callable[..., Any], args: tuple[Any, ...]) -> Done:
    start = time.thread_time()
    return Done(task(*args), time.thread_time() - start)


def _tell(answered: Callable[[Any], None] | None, result: Done | BaseException) -> None:
    """Call ``answered`` with the task's value, when it returned one (not when it raised or
    its worker was lost): an error in ``answered`` is logged, the page's outcome is not
    changed by it."""
    if answered is None or not isinstance(result, Done):
        return
    try:
        answered(result.value)
    except Exception:
        logger.exception("a page's answered callback failed")


def _deliver(job: _Job, result: Done | BaseException) -> None:
    """Hand ``result`` to the loop that waits for the job."""
    _args, future, loop, _answered = job
    # A closed loop: nobody waits for this page any more.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(_settle, future, result)


def _settle(future: asyncio.Future[Done], result: Done | BaseException) -> None:
    if future.cancelled():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)
