"""CPU of the crawl's request queue (crawler.queues.SourceOrderQueue) a request, against the
queue it replaced (Scrapy's downloader-aware queue with newswatch's tie-break by priority,
which looked at every queued host for each request), in a replay of a cold crawl's queue:
one feed request per site, each feed's pages queued (30, at its source's rank) when its
poll comes back, up to 16 requests in flight, one ``len`` and one ``pop`` a request::

    python -m benchmarks.queue_bench --sites 100,1000

The same replay, with requests in flight coming and going at random, checks that both
queues hand out the same requests in the same order (tests/test_crawler_units.py).
"""

from __future__ import annotations

import argparse
import random
import time
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.pqueues import DownloaderAwarePriorityQueue
from scrapy.settings import Settings
from scrapy.squeues import FifoMemoryQueue

from crawler.queues import SourceOrderQueue, _next_priority

IN_FLIGHT = 16


class FakeDownloader:
    """What the request queue sees of Scrapy's downloader: the requests in flight, by host."""

    def __init__(self) -> None:
        self.active: set[Any] = set()
        self.slots: dict[str, SimpleNamespace] = {}

    def get_slot_key(self, request: Any) -> str:
        return str(urlsplit(request.url).hostname)

    def start(self, request: Any) -> None:
        self.active.add(request)
        key = self.get_slot_key(request)
        self.slots.setdefault(key, SimpleNamespace(active=set())).active.add(request)

    def finish(self, request: Any) -> None:
        self.active.discard(request)
        self.slots[self.get_slot_key(request)].active.discard(request)


class Reference(DownloaderAwarePriorityQueue):
    """The queue as it was: Scrapy's, ties between hosts broken by priority, looking at every
    queued host for each request."""

    def _next_slot(self, stats: list[tuple[int, str]], *, update_state: bool) -> str:
        fewest = min(active for active, _ in stats)
        ready = [(active, slot) for active, slot in stats if active == fewest]
        first = min(_next_priority(self.pqueues[slot]) for _, slot in ready)
        ready = [(a, s) for a, s in ready if _next_priority(self.pqueues[s]) == first]
        return super()._next_slot(ready, update_state=update_state)


def queues(downloader: FakeDownloader) -> tuple[Any, Any]:
    """newswatch's queue and the reference, over ``downloader``."""
    crawler = SimpleNamespace(settings=Settings(), engine=SimpleNamespace(downloader=downloader))
    return (SourceOrderQueue(crawler, FifoMemoryQueue, ""),  # type: ignore[arg-type]
            Reference(crawler, FifoMemoryQueue, ""))  # type: ignore[arg-type]


def replay(which: str, sites: int, pages: int = 30, seed: int = 1) -> tuple[int, float]:
    """Requests handed out, and the CPU seconds their ``len`` and ``pop`` took."""
    rng = random.Random(seed)
    downloader = FakeDownloader()
    queue = queues(downloader)[0 if which == "new" else 1]
    for site in range(sites):
        queue.push(scrapy.Request(f"http://site{site:04d}.test/feed", priority=10))
    flight: list[Any] = []
    handed, spent, rank = 0, 0.0, 100_000
    while True:
        start = time.process_time()
        request = queue.pop() if len(queue) else None
        spent += time.process_time() - start
        if request is None and not flight:
            return handed, spent
        if request is not None:
            handed += 1
            downloader.start(request)
            flight.append(request)
        if len(flight) >= IN_FLIGHT or request is None:
            done = flight.pop(rng.randrange(len(flight)))
            downloader.finish(done)
            if done.url.endswith("/feed"):
                host = urlsplit(done.url).netloc
                for page in range(pages):
                    queue.push(scrapy.Request(f"http://{host}/{page}", priority=20 + rank))
                rank -= 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.queue_bench")
    parser.add_argument("--sites", default="100,1000")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    for sites in (int(s) for s in args.sites.split(",")):
        for _ in range(args.rounds):
            for which in ("before", "new"):
                handed, spent = replay(which, sites)
                print(f"{sites} sites, {which:6s}: {handed} requests, "
                      f"{1000 * spent / handed:.3f} ms CPU a request (len + pop)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
