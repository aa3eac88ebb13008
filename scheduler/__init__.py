"""Scheduler: the service around the pipeline — APScheduler jobs on Scrapy's asyncio reactor,
the single-instance lock, signals.

Errors::

    AlreadyRunning    another newswatch process holds the database's lock

The daemon (APScheduler) and the pipeline (every stage) load on first use (PEP 562): commands
that only take the lock do not pay for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage.lazy import lazy_exports

from .lock import AlreadyRunning, InstanceLock

if TYPE_CHECKING:
    from .daemon import Daemon, Interrupted, run_once
    from .pipeline import CycleReport, MatchReport, Pipeline

_LAZY = {
    "Daemon": ".daemon",
    "Interrupted": ".daemon",
    "run_once": ".daemon",
    "CycleReport": ".pipeline",
    "MatchReport": ".pipeline",
    "Pipeline": ".pipeline",
}

__getattr__ = lazy_exports(__name__, _LAZY)

__all__ = [
    "AlreadyRunning",
    "CycleReport",
    "Daemon",
    "InstanceLock",
    "Interrupted",
    "MatchReport",
    "Pipeline",
    "run_once",
]
