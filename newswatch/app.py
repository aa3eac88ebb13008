"""Wiring: from a validated Config to the objects each stage needs."""

from __future__ import annotations

import logging
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from alerts import MboxTransport, SmtpTransport
from storage import utcnow

from .config import Config

if TYPE_CHECKING:
    from scheduler import Pipeline
    from storage import ConfigSync, PipelineStore


def configure_logging(level: str) -> None:
    """The one place logging is configured."""
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    if level != "DEBUG":
        # Scrapy's own INFO lines (stats dumps, middleware lists) are noise in a daemon log.
        for name in ("scrapy", "twisted", "trafilatura", "htmldate", "courlan", "apscheduler"):
            logging.getLogger(name).setLevel(logging.WARNING)
        # The spider records and reports every failed fetch itself.
        logging.getLogger("scrapy.downloadermiddlewares.retry").setLevel(logging.CRITICAL)
        logging.getLogger("scrapy.core.downloader").setLevel(logging.ERROR)
        # An unreachable robots.txt lets the page through (and the page's own failure is
        # recorded): Scrapy's traceback for it is noise.
        logging.getLogger("scrapy.downloadermiddlewares.robotstxt").setLevel(logging.CRITICAL)
    # Our jobs log their own failures; what reaches APScheduler's executor is only the
    # cancellation of a running job at shutdown, which is expected.
    logging.getLogger("apscheduler.executors").setLevel(logging.CRITICAL)
    # Clearing the caches of charset_normalizer internals logs a harmless ERROR.
    logging.getLogger("htmldate.meta").setLevel(logging.CRITICAL)


def sync_config(config: Config, store: ConfigSync) -> None:
    """Make the stored sources and topics those of the config file."""
    store.sync_sources(config.sources, utcnow())
    store.sync_topics(config.topics)


def transport_for(config: Config) -> Any:
    """SMTP when configured, else the local mbox file."""
    if config.smtp is not None:
        return SmtpTransport(config.smtp)
    return MboxTransport(config.mbox)


def build_pipeline(config: Config, store: PipelineStore) -> Pipeline:
    """The pipeline for ``config``; installs the asyncio reactor first."""
    # Scrapy, APScheduler and the rest of the pipeline load only for a crawl.
    import crawler
    from alerts import RetryPolicy
    from scheduler import Pipeline

    crawler.install_reactor()
    return Pipeline(
        store=store,
        runner=crawler.make_runner(config.crawl),
        transport=transport_for(config),
        lookback=timedelta(seconds=config.lookback_seconds),
        retry=RetryPolicy(base_seconds=config.retry_base, max_seconds=config.retry_max),
        operator=config.operator,
        health_after=timedelta(seconds=config.health_after),
        keep=timedelta(seconds=config.keep_seconds),
        recipients=config.recipients,
    )
