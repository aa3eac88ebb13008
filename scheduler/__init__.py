"""Scheduler: the service around the pipeline — APScheduler jobs on Scrapy's asyncio reactor,
the single-instance lock, signals.

Errors::

    AlreadyRunning    another newswatch process holds the database's lock
"""

from .daemon import Daemon, run_once
from .lock import AlreadyRunning, InstanceLock
from .pipeline import CycleReport, MatchReport, Pipeline, build_emails

__all__ = [
    "AlreadyRunning",
    "CycleReport",
    "Daemon",
    "InstanceLock",
    "MatchReport",
    "Pipeline",
    "build_emails",
    "run_once",
]
