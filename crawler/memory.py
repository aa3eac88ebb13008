"""The crawl process's memory while a crawl runs: freed memory given back to the system,
and the cyclic garbage collector run less often.

A cold crawl of many sources passes tens of thousands of pages, feed entries and articles
through the crawl process. What Python frees of them goes back to the C library's allocator
(glibc's malloc), which keeps the free space between the blocks still in use and reuses it:
the process's resident size only grows over the crawl (measured: 110 to 165 MB at 300
sources x 30 heavy pages, while Python's own live objects grew by 3 MB). glibc's
``malloc_trim`` returns the whole free pages inside that space to the system. Called every
TRIM_EVERY seconds while a crawl runs, and once at its end: about 5 ms each time; the
crawl's peak about 10 MB lower at 300 sources (154 against 161-165 MB). At 1,000 sources the
peak is Python's object arenas and live data, which a trim does not reach
(docs/benchmarks.md).

Where the C library has no ``malloc_trim`` (not glibc), nothing is done.

Python's collector runs its youngest generation every 700 allocations more than frees, and
the older ones every 10 of the younger: in a cold crawl, whose live objects (queued
requests, sources, caches) number in the hundreds of thousands, that is thousands of
collections and dozens of full ones (each about 0.1 s at 1,000 sources), 7-8 % of the crawl
process's CPU (measured with ``gc.callbacks``: 11.4 s of 142 s at 1,000 sources x 30
pages). While a crawl runs the thresholds are CRAWL_THRESHOLDS: the collector still runs,
and frees cyclic garbage, but about 14 times less often (0.7 s at 300 sources, 3.1 s with
the defaults); the process's peak is unchanged. The process's own thresholds come back when
its last crawl ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
from collections.abc import AsyncIterator, Callable, Iterator

#: Seconds between two trims while a crawl runs.
TRIM_EVERY = 5.0


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError, TypeError):  # no such function, or no C library to ask
        return None
    return trim


_MALLOC_TRIM = _malloc_trim()
#: How many times this process's free memory was returned to the system.
trims = 0


def trim() -> bool:
    """Return the allocator's free pages to the system; False where that cannot be done."""
    global trims
    if _MALLOC_TRIM is None:
        return False
    _MALLOC_TRIM(0)
    trims += 1
    return True


async def trim_every(seconds: float = TRIM_EVERY) -> None:
    """:func:`trim` every ``seconds``, until cancelled."""
    while True:
        await asyncio.sleep(seconds)
        trim()


#: The garbage collector's thresholds while a crawl runs (Python's defaults: 700, 10, 10).
CRAWL_THRESHOLDS = (10_000, 10, 10)
_crawling = 0
_outside: tuple[int, int, int] | None = None


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the collector with CRAWL_THRESHOLDS inside; crawls of the process may overlap,
    the thresholds it had before come back when the last one leaves."""
    global _crawling, _outside
    if _crawling == 0:
        _outside = gc.get_threshold()
        gc.set_threshold(*CRAWL_THRESHOLDS)
    _crawling += 1
    try:
        yield
    finally:
        _crawling -= 1
        if _crawling == 0 and _outside is not None:
            gc.set_threshold(*_outside)
            _outside = None


@contextlib.asynccontextmanager
async def while_crawling() -> AsyncIterator[None]:
    """The crawl process's memory around one crawl: the collector run less often
    (:func:`fewer_collections`), freed memory given back every TRIM_EVERY seconds and once
    when the crawl, and whatever it closes inside, is done."""
    trimming = asyncio.ensure_future(trim_every())
    try:
        with fewer_collections():
            yield
    finally:
        trimming.cancel()
        trim()
