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
"""

from __future__ import annotations

from scrapy.pqueues import DownloaderAwarePriorityQueue, ScrapyPriorityQueue


def _next_priority(queue: ScrapyPriorityQueue) -> float:
    """The next request's priority in Scrapy's inner order (lower goes first)."""
    return float("inf") if queue.curprio is None else queue.curprio


class SourceOrderQueue(DownloaderAwarePriorityQueue):
    """Scrapy's downloader-aware queue, ties between hosts broken by priority."""

    def _next_slot(self, stats: list[tuple[int, str]], *, update_state: bool) -> str:
        fewest = min(active for active, _ in stats)
        ready = [(active, slot) for active, slot in stats if active == fewest]
        first = min(_next_priority(self.pqueues[slot]) for _, slot in ready)
        ready = [(a, slot) for a, slot in ready if _next_priority(self.pqueues[slot]) == first]
        return super()._next_slot(ready, update_state=update_state)
