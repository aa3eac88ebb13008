"""What a crawl did, for the log, the CLI and ``status``."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from storage import FetchOutcome, Source


@dataclass
class CrawlReport:
    """Outcomes per source and counters for one crawl (``outcomes`` holds each source's last
    poll, the ``sources_*`` counters count every poll: a source may be polled again in a crawl
    it joined, ``CrawlRunner.add``)."""

    outcomes: dict[int, tuple[Source, FetchOutcome]] = field(default_factory=dict)
    counters: Counter[str] = field(default_factory=Counter)
    finish_reason: str | None = None
    #: Why the database would not take a poll's record (a full disk, a lock held too long):
    #: such a source stays due (counter "polls_unrecorded").
    storage_error: str | None = None
    #: CPU seconds by stage: "fetch" (Scrapy and the event loop), "parse" (feeds, sitemaps
    #: and pages read for links), "extract" (in the page workers), "store".
    cpu: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    in_process: set[str] = field(default_factory=set)  # stages timed in the crawl process
    _timing: list[list[Any]] = field(default_factory=list, repr=False)

    def add_cpu(self, stage: str, seconds: float, *, here: bool = True) -> None:
        """Add CPU time to a stage; ``here``: spent in the crawl process."""
        self.cpu[stage] += seconds
        if here:
            self.in_process.add(stage)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Add the CPU time the calling thread spends in the block to ``stage`` (a block
        timed inside it counts for its own stage only). No ``await`` inside the block."""
        now = time.thread_time()
        if self._timing:
            outer = self._timing[-1]
            self.add_cpu(outer[0], now - outer[1])
        self._timing.append([stage, now])
        try:
            yield
        finally:
            now = time.thread_time()
            _, start = self._timing.pop()
            self.add_cpu(stage, now - start)
            if self._timing:
                self._timing[-1][1] = now

    def own_cpu(self) -> float:
        """CPU seconds of the stages timed in the crawl process."""
        return sum(self.cpu[stage] for stage in self.in_process)

    def add_outcome(self, source: Source, outcome: FetchOutcome) -> None:
        """Record how one source's poll went."""
        self.outcomes[source.id] = (source, outcome)
        self.counters["sources_ok" if outcome.ok else "sources_failed"] += 1
        if outcome.not_modified:
            self.counters["sources_not_modified"] += 1

    def count(self, key: str, n: int = 1) -> None:
        """Add to a counter."""
        self.counters[key] += n

    @property
    def failures(self) -> list[tuple[Source, FetchOutcome]]:
        """The sources whose poll failed."""
        return [(s, o) for s, o in self.outcomes.values() if not o.ok]

    @property
    def new_articles(self) -> int:
        """How many articles were stored."""
        return self.counters["articles_new"]

    @property
    def updated_articles(self) -> int:
        """How many stored articles were edited in place (new title or text stored)."""
        return self.counters["articles_updated"]
