"""The order in which the crawl's requests leave Scrapy's scheduler.

Scrapy's ``DownloaderAwarePriorityQueue`` takes each request from the host with the fewest
requests in flight, and among hosts with as few, in turn (round robin). With many sites, one
host each, every source then advances a page at a time alongside all the others, and every
source's poll ends near the end of the crawl: nothing can be matched and alerted before (the
first alert of a 100-site cycle came after 280 of its 390 s).

:class:`SourceOrderQueue` keeps the fewest-in-flight rule (politeness, and the memory bound:
pages are fetched while other feeds wait) but breaks its ties by priority: the host whose
next request has the highest priority goes first. Article pages carry their source's rank
(``crawler.entries``: the earlier a source listed its entries, the higher its pages), so the
sources are drained a few at a time, in order, and their polls end, are matched and alert
while the crawl goes on.

Scrapy's queue looks at every host with queued requests for each request it hands out (and
counts them all for each ``len``): with 1,000 sites queued, about 1.5 ms a request. This one
keeps its hosts by next priority, and only the few hosts with requests in flight (at most the
crawl's concurrency) are looked up in the downloader: the same choice, in a few microseconds.
"""

from __future__ import annotations

from bisect import bisect_right, insort

from scrapy import Request
from scrapy.pqueues import DownloaderAwarePriorityQueue, ScrapyPriorityQueue


def _next_priority(queue: ScrapyPriorityQueue) -> float:
    """The next request's priority in Scrapy's inner order (lower goes first)."""
    return float("inf") if queue.curprio is None else queue.curprio


class SourceOrderQueue(DownloaderAwarePriorityQueue):
    """Scrapy's downloader-aware queue, ties between hosts broken by priority."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._count = sum(len(queue) for queue in self.pqueues.values())
        #: Next priority (Scrapy's order, lower first) -> the hosts queued at it, sorted;
        #: and those priorities, sorted.
        self._hosts: dict[float, list[str]] = {}
        self._priorities: list[float] = []
        self._at: dict[str, float] = {}  # host -> its place in _hosts
        for slot in self.pqueues:
            self._place(slot)

    def _place(self, slot: str) -> None:
        """File ``slot`` under its queue's next priority (none: take it out)."""
        queue = self.pqueues.get(slot)
        now = _next_priority(queue) if queue is not None and len(queue) else None
        before = self._at.get(slot)
        if before == now:
            return
        if before is not None:
            hosts = self._hosts[before]
            del hosts[bisect_right(hosts, slot) - 1]
            if not hosts:
                del self._hosts[before]
                del self._priorities[bisect_right(self._priorities, before) - 1]
            del self._at[slot]
        if now is not None:
            if now not in self._hosts:
                self._hosts[now] = []
                insort(self._priorities, now)
            insort(self._hosts[now], slot)
            self._at[slot] = now

    def push(self, request: Request) -> None:
        super().push(request)
        self._count += 1
        self._place(self._downloader_interface.get_slot_key(request))

    def pop(self) -> Request | None:
        slot = self._choose(update_state=True)
        if slot is None:
            return None
        queue = self.pqueues[slot]
        request = queue.pop()
        if request is not None:
            self._count -= 1
        if len(queue) == 0:
            del self.pqueues[slot]
            queue.close()
        self._place(slot)
        return request

    def peek(self) -> Request | None:
        slot = self._choose(update_state=False)
        return None if slot is None else self.pqueues[slot].peek()

    def __len__(self) -> int:
        return self._count

    def _busy(self) -> dict[str, int]:
        """The queued hosts that have requests in flight, and how many (every request a
        host has in flight is one of the downloader's, a few at most)."""
        downloader = self._downloader_interface.downloader
        busy: dict[str, int] = {}
        for request in downloader.active:
            key = downloader.get_slot_key(request)
            if key in self._at and key not in busy and key in downloader.slots:
                busy[key] = len(downloader.slots[key].active)
        return {key: count for key, count in busy.items() if count}

    def _choose(self, *, update_state: bool) -> str | None:
        """The host to take the next request from: the fewest in flight, then the highest
        priority, then Scrapy's turn (the first host name after the last one chosen)."""
        if not self._at:
            return None
        busy = self._busy()
        if len(busy) < len(self._at):  # some queued host has none in flight: the fewest
            slot = next(
                found
                for found in (self._turn(self._hosts[p], busy) for p in self._priorities)
                if found is not None
            )
        else:  # every queued host has requests in flight (a few hosts): as Scrapy does
            stats = [(busy[slot], slot) for slot in self._at]
            fewest = min(active for active, _ in stats)
            ready = [(active, slot) for active, slot in stats if active == fewest]
            first = min(self._at[slot] for _, slot in ready)
            ready = [(a, slot) for a, slot in ready if self._at[slot] == first]
            slot = super()._next_slot(ready, update_state=False)
        if update_state:
            self._last_selected_slot = slot
        return slot

    def _turn(self, hosts: list[str], busy: dict[str, int]) -> str | None:
        """Scrapy's round robin among the ``hosts`` (sorted) not ``busy``: the first after
        the last one chosen, else the first; None when all are busy."""
        last = self._last_selected_slot
        start = 0 if last is None else bisect_right(hosts, last)
        count = len(hosts)
        for step in range(count):
            host = hosts[(start + step) % count]
            if host not in busy:
                return host
        return None
