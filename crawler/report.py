"""What a crawl did, for the log, the CLI and ``status``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from storage import FetchOutcome, Source


@dataclass
class CrawlReport:
    """Outcomes per source and counters for one crawl."""

    outcomes: dict[int, tuple[Source, FetchOutcome]] = field(default_factory=dict)
    counters: Counter[str] = field(default_factory=Counter)
    finish_reason: str | None = None

    def add_outcome(self, source: Source, outcome: FetchOutcome) -> None:
        """Record how one source's poll went."""
        self.outcomes[source.id] = (source, outcome)
        self.counters["sources_ok" if outcome.ok else "sources_failed"] += 1

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
