"""An optional Prometheus text endpoint (``/metrics``) served by the daemon's own reactor.

Counters are what this process did since it started; gauges are read from the database at
each scrape, so they agree with ``newswatch status``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from storage import Gauges

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred
    from twisted.internet.interfaces import IListeningPort
    from twisted.web.server import Request

logger = logging.getLogger(__name__)

#: The counters this process keeps (the gauges are read from the database).
CounterName = Literal[
    "newswatch_cycles_total",
    "newswatch_fetches_total",
    "newswatch_articles_new_total",
    "newswatch_matches_total",
    "newswatch_emails_total",
]

_HELP = {
    "newswatch_cycles_total": ("counter", "crawl cycles run"),
    "newswatch_fetches_total": ("counter", "source polls, by outcome"),
    "newswatch_articles_new_total": ("counter", "articles stored"),
    "newswatch_matches_total": ("counter", "topic matches recorded"),
    "newswatch_emails_total": ("counter", "delivery attempts, by outcome"),
    "newswatch_job_failures_total": ("counter", "scheduler jobs that failed"),
    "newswatch_articles": ("gauge", "articles in the database"),
    "newswatch_outbox": ("gauge", "alert emails, by status"),
    "newswatch_sources": ("gauge", "active sources, by health"),
}


class Metrics:
    """The daemon's counters, and their rendering in the Prometheus text format."""

    def __init__(self) -> None:
        self.counters: Counter[tuple[str, str]] = Counter()

    def add(self, name: CounterName, value: int = 1, label: str = "") -> None:
        """Add to a counter (``label`` is the ``outcome`` label, if any)."""
        self.counters[(name, label)] += value

    def render(self, store: Gauges, job_failures: int) -> str:
        """The exposition text."""
        samples: list[tuple[str, str, float]] = [
            (name, label, value) for (name, label), value in sorted(self.counters.items())
        ]
        samples.append(("newswatch_job_failures_total", "", job_failures))
        samples.append(("newswatch_articles", "", store.article_count()))
        for status, count in store.outbox_counts().items():
            samples.append(("newswatch_outbox", status, count))
        health: Counter[str] = Counter()
        for row in store.source_status():
            if row.deactivated:
                health["deactivated"] += 1
            elif row.last_fetch is None:  # as `status` counts it: not "ok" before its poll
                health["not polled yet"] += 1
            elif row.consecutive_failures:
                health["failing"] += 1
            elif row.stale:  # as `status` counts it: polls that succeed but bring nothing
                health["stale"] += 1
            else:
                health["ok"] += 1
        for state in ("ok", "failing", "stale", "deactivated", "not polled yet"):
            samples.append(("newswatch_sources", state, health[state]))
        lines: list[str] = []
        described: set[str] = set()
        for name, label, value in samples:
            if name not in described:
                kind, text = _HELP[name]
                lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
                described.add(name)
            key = {"newswatch_outbox": "status", "newswatch_sources": "health"}.get(name, "outcome")
            labels = f'{{{key}="{label}"}}' if label else ""
            lines.append(f"{name}{labels} {value:g}")
        return "\n".join(lines) + "\n"


def serve(address: str, render: Callable[[], str]) -> Deferred[IListeningPort]:
    """Listen on ``host:port`` and answer GET /metrics with ``render()``; returns the port."""
    from twisted.internet import endpoints, reactor
    from twisted.web import resource, server

    class _Page(resource.Resource):
        isLeaf = True

        def render_GET(self, request: Request) -> bytes:
            if request.path != b"/metrics":
                request.setResponseCode(404)
                return b"not found: try /metrics\n"
            request.setHeader(  # type: ignore[no-untyped-call]
                b"Content-Type", b"text/plain; version=0.0.4; charset=utf-8"
            )
            return render().encode()

    host, _, port = address.rpartition(":")
    # Twisted's endpoint, Site and setHeader carry no type hints.
    site = server.Site(_Page())  # type: ignore[no-untyped-call]
    endpoint: Any
    if host.startswith("[") and host.endswith("]"):  # IPv6: "[::1]:9464"
        endpoint = endpoints.TCP6ServerEndpoint(  # type: ignore[no-untyped-call]
            reactor, int(port), interface=host[1:-1]
        )
    else:
        endpoint = endpoints.TCP4ServerEndpoint(  # type: ignore[no-untyped-call]
            reactor, int(port), interface=host or "127.0.0.1"
        )
    listening: Deferred[IListeningPort] = endpoint.listen(site)
    return listening
