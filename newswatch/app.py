"""Wiring: from a validated Config to the objects each stage needs."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from alerts import MboxTransport, SmtpTransport, Transport
from storage import utcnow
from storage.errors import connection_failure

from .config import Config, load_config
from .values import LogLevel

if TYPE_CHECKING:
    from alerts.transport import SmtpSettings
    from crawler import CrawlSettings
    from scheduler import Pipeline
    from storage import ConfigSync, PipelineStore, Source, Topic, TopicSpec

logger = logging.getLogger(__name__)

#: The settings a running daemon cannot take (newswatch.settings: ``restart=True``), each
#: with how to read it from a Config; SIGHUP names those that changed.
NEEDS_RESTART: dict[str, Callable[[Config], object]] = {
    "database.path": lambda config: config.database.path,
    "database.url": lambda config: config.database.url,
    # The page workers are started with the process and serve its every crawl.
    "crawl.workers": lambda config: config.crawl.workers,
    "daemon.metrics": lambda config: config.daemon.metrics,
    "daemon.jobs": lambda config: config.daemon.jobs,
    "daemon.heartbeat": lambda config: config.daemon.heartbeat_seconds,
    "daemon.stalled_after": lambda config: config.daemon.stalled_after_seconds,
    "daemon.retry_stalled": lambda config: config.daemon.retry_stalled_seconds,
}


class _UtcFormatter(logging.Formatter):
    """A line's time in UTC, ISO 8601 with its zone (``2026-12-07T22:33:56.123Z``): logging's
    default wrote the machine's local time with no zone, which an operator reading the logs
    of machines in several zones, or setting them beside journalctl's, could not place. UTC
    is what newswatch's commands print (``newswatch status``) and ``journalctl --utc``."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        when = datetime.fromtimestamp(record.created, UTC)
        return when.isoformat(timespec="milliseconds").removesuffix("+00:00") + "Z"


def configure_logging(level: LogLevel) -> None:
    """The one place logging is configured."""
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(_UtcFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[stream], force=True)
    # The HTTP library under Apprise logs each request's address at DEBUG: a notification
    # URL's token with it (Apprise's own lines never reach the log: alerts.channels).
    logging.getLogger("urllib3").setLevel(logging.WARNING)
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
    # A tick that comes while its job's last run goes on is skipped, by design (one crawl,
    # one delivery at a time): APScheduler warned of it at every tick of a long crawl.
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(f, _SkippedTicks) for f in scheduler_log.filters):
        scheduler_log.addFilter(_SkippedTicks())
    # Clearing the caches of charset_normalizer internals logs a harmless ERROR.
    logging.getLogger("htmldate.meta").setLevel(logging.CRITICAL)
    # On the handler: the task engine logs under a logger of each worker's name.
    for handler in logging.getLogger().handlers:
        handler.addFilter(_EngineConnectionErrors())


class _EngineConnectionErrors(logging.Filter):
    """What the task engine (procrastinate) logs of a lost PostgreSQL connection in one line,
    not a traceback of the library's frames: a database gone from the network gave one for
    a heartbeat, one for each running job's end, one for the worker's stop, while the
    process said in its own line that the database is lost and that it stops. (A job whose
    end could not be written is a task procrastinate never awaits: asyncio says so.)"""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and (record.name.startswith("procrastinate") or (
                record.name == "asyncio" and "procrastinate" in record.getMessage())):
            failure = connection_failure(record.exc_info[1])
            if failure is not None:
                said, why = record.getMessage(), str(failure)
                record.msg = f"{' '.join(said.split())}: {' '.join(why.split())}"
                record.args = None
                record.exc_info = None
                record.exc_text = None
        return True


class _SkippedTicks(logging.Filter):
    """Drops APScheduler's notice that a job's run was skipped as its last one still runs."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances" not in str(record.msg)


def sync_config(
    config: Config, store: ConfigSync, say: Callable[[str], None] = logger.warning
) -> None:
    """Make the stored sources and topics those of the config file (``say``: the line of
    each source added from the command line that is merged into another, one_source_a_feed,
    which names the topics of the config file limited to it too)."""
    store.sync_sources(config.sources, utcnow(), config.crawl.every_seconds)
    store.sync_topics(config.topics)
    one_source_a_feed(store, say)


def unsynced(config: Config, store: ConfigSync) -> list[str]:
    """What sync_config would change to make the stored sources and topics those of
    ``config``, read without writing: each topic (by name) and source (by URL) it would add,
    change or stop. A crawler or alerter of several machines reads its config file but does
    not sync it (the scheduler alone does): a topic added there, reloaded, did nothing, and
    the reload said only "configuration reloaded"."""
    from storage.outbox import one_address

    stored = {s.url: s for s in store.sources(active_only=False)}
    differ = [f"source {spec.url}" for spec in config.sources if not (
        (s := stored.get(spec.url)) is not None and s.origin == "config"
        # A source its site said is gone stays inactive (SourcesMixin._upsert).
        and (s.active or s.deactivated is not None)
        and (s.every_seconds, s.kind, s.include, s.exclude)
        == (spec.every_seconds, spec.kind, spec.include, spec.exclude)
        and spec.name in (None, s.name))]
    listed = {spec.url for spec in config.sources}
    differ += [f"source {s.url}" for s in stored.values() if s.active and (
        (s.origin == "config" and s.url not in listed)
        or (s.origin == "cli" and s.every_default
            and s.every_seconds != config.crawl.every_seconds))]
    topics = {t.name: t for t in store.topics()}

    def kept(t: Topic | TopicSpec) -> tuple[object, ...]:
        notify = tuple(dict.fromkeys(map(one_address, t.notify)))  # as stored (one_spelling)
        return (t.query, t.compiled, notify, t.sources, t.exclude, t.exclude_compiled, t.mode)

    differ += [f"topic {spec.name}" for spec in config.topics if not (
        (t := topics.get(spec.name)) is not None and t.origin == "config"
        and kept(t) == kept(spec))]
    named = {spec.name for spec in config.topics}
    differ += [f"topic {t.name}" for t in topics.values()
               if t.origin == "config" and t.name not in named]
    return differ


def say_unsynced(config: Config, store: ConfigSync) -> None:
    """Warn, in one line, when the sources or topics of ``config`` are not the database's
    (:func:`unsynced`): on a machine without the scheduler role, where they take effect
    only once the scheduler starts or reloads. A file that lists neither (a crawler's
    machine given only its database and crawl settings) is not one that stops them all, nor
    one that lists only sources one that stops every topic (or the reverse): each kind is
    judged where the file lists it (a crawler's file of sources alone warned at every start
    and reload)."""
    listed = {"source"} if config.sources else set()
    listed |= {"topic"} if config.topics else set()
    if not listed:
        return
    differ = [what for what in unsynced(config, store) if what.partition(" ")[0] in listed]
    if differ:
        logger.warning(
            "%s: its sources and topics are not the database's (%s): they take effect when "
            "the scheduler starts or reloads (SIGHUP to `newswatch run --role scheduler`), "
            "which alone syncs them", config.path or "the config file", ", ".join(differ))


def one_source_a_feed(store: ConfigSync, say: Callable[[str], None] = logger.warning) -> None:
    """Stop polling a source added from the command line that is another active source
    written another way (watchlist.url_key): older versions took ``http://host:80/feed``
    beside the config file's ``http://host/feed``, and the feed was polled twice at every
    tick after an upgrade; or one whose address another source polls (a site added by its
    home page polls the feed the page declares; an OPML import of that feed beside it
    polled it twice). The config file's source, else the first added, stays; ``say`` says
    which was merged into which (known only once its page was polled: `sources add` of
    that page said "added", and it then vanished from `sources list`), and which topics
    limited to the one merged follow the other from then on (watchlist.verdict.follow_merges:
    they got nothing more, and nothing said why)."""
    from watchlist import url_key
    from watchlist.verdict import followed

    first: dict[str, Source] = {}
    for source in sorted(store.sources(), key=lambda s: (s.origin != "config", s.id)):
        keys = {url_key(source.url), url_key(source.poll_url)}
        taken = next((first[key] for key in keys if key in first), None)
        if taken is None:
            first.update(dict.fromkeys(keys, source))
        elif source.origin == "cli" and store.remove_source(source.url, into=taken.url):
            if url_key(source.url) == url_key(taken.url):
                how = f"is {taken.url} written another way"
            elif url_key(source.url) == url_key(taken.poll_url):
                # The feed added beside the page that declares it (both imported from an
                # OPML file): it is no spelling of the page.
                how = (f"is where {taken.url} is polled (the feed it declares, or its "
                       "permanent redirect's target)")
            else:
                how = f"is polled at {source.poll_url}, as {taken.url} is"
            say(f"source {source.url} (added with `sources add`) {how}: merged into "
                f"{taken.url}, no longer listed (its stored articles are kept)")
            merge = [(source.name, source.url, taken.url)]
            merged = store.merged_sources()
            for topic in store.topics():
                if followed(topic.sources, merge):
                    say(f"topic '{topic.name}' limited to {source.name or source.url} now "
                        f"follows {taken.name or taken.url}")
                elif source.url in followed(topic.sources, merged):
                    # Limited to a feed merged before into this page (an OPML import of
                    # both): it follows the page's source too from now on.
                    say(f"topic '{topic.name}', which follows {source.name or source.url}, "
                        f"now follows {taken.name or taken.url}")


#: PBKDF2 rounds of the mail settings' fingerprint (it covers the SMTP password).
MAIL_FINGERPRINT_ROUNDS = 100_000


def retry_under_new_mail_settings(
    config: Config, store: ConfigSync, clock: Callable[[], datetime] = utcnow
) -> None:
    """A sender starts or reloads: if its mail settings differ from those it last ran with
    (a port, host or login mended), the emails waiting for a retry are due now by ``clock``
    (the sender's: the database's for the alerter of several machines), as a mail client
    retries when its account is fixed; they waited out their back-off (up to
    alerts.retry_max) against a server that would have taken them. The first run keeps the
    settings and moves nothing."""
    kept = store.mail_settings()
    try:
        salt = bytes.fromhex(kept.partition(":")[0]) if kept else b""
    except ValueError:
        salt = b""
    fingerprint = _mail_fingerprint(config.smtp, salt or os.urandom(16))
    if fingerprint == kept:
        return
    due = store.keep_mail_settings(fingerprint, clock() if kept else None)
    if due:
        logger.info("the mail settings changed: %d alert(s) waiting for a retry are due now",
                    due)


def _mail_fingerprint(smtp: SmtpSettings | None, salt: bytes) -> str:
    """The salt and a slow hash of ``smtp`` (None: the mbox), as "salt:hash" in hex: the
    password is in the settings, and the database (its backups) must not give it away to
    a quick guess."""
    settings = json.dumps(asdict(smtp) if smtp is not None else None, sort_keys=True)
    digest = hashlib.pbkdf2_hmac("sha256", settings.encode(), salt, MAIL_FINGERPRINT_ROUNDS)
    return f"{salt.hex()}:{digest.hex()}"


def transport_for(config: Config) -> Transport:
    """SMTP when configured, else the local mbox file."""
    if config.smtp is not None:
        return SmtpTransport(config.smtp)
    return MboxTransport(config.alerts.mbox)


def needs_restart(running: Config, fresh: Config) -> list[str]:
    """The settings that differ between the ``running`` config and a ``fresh`` one but that
    only a restart applies."""
    return [name for name, read in NEEDS_RESTART.items() if read(running) != read(fresh)]


class Reloadable(Protocol):
    """A running service a reload reconfigures: the daemon, or the roles of a process on
    several machines (scheduler.cluster)."""

    pipeline: Pipeline

    def set_tick(self, seconds: float) -> None:
        """Look for work every ``seconds`` from now on."""
        ...

    def set_crawl(self, crawl: CrawlSettings) -> None:
        """Crawls started from now on use ``crawl``."""
        ...


def reload_config(
    running: Config, store: ConfigSync, service: Reloadable, *, sync: bool = True,
    sends: bool = True,
) -> list[str]:
    """Read the config file of ``running`` again and apply it to ``service``: its sources and
    topics (``sync``: the process that keeps them, the scheduler of several machines; the
    others say when the file's are not the database's, say_unsynced), and
    every setting a running process can take (mail, crawl, look-back, retries, retention,
    health, recipients, tick, log level), from the next cycle or delivery on; mail settings
    that changed make the emails waiting for a retry due now (``sends``: the process sends
    alerts, the alerter of several machines). Returns the
    changed settings that need a restart. A file with problems changes nothing
    (ConfigError), and so does one that defines nothing: a file an editor has emptied to
    write it again."""
    fresh = load_config(running.path, empty=False)
    for notice in fresh.notices:
        logger.warning("%s: %s", running.path, notice)
    if fresh.alerts.mbox == fresh.database.path.with_suffix(".mbox"):
        # The default mailbox lies next to the database: the running one, as database.path
        # keeps its start-up value (a new path wrote the alerts next to a database not in
        # use, where nobody looked for them).
        fresh = replace(fresh, alerts=replace(fresh.alerts,
                                              mbox=running.database.path.with_suffix(".mbox")))
    if sync:
        before = {s.url for s in store.sources() if s.origin == "config"}
        topics_before = {t.id: t for t in store.topics() if t.origin == "config"}
        sync_config(fresh, store)
        after = {s.url for s in store.sources() if s.origin == "config"}
        # A reload that drops a source said only "configuration reloaded" (a review).
        for change, urls in (("added", after - before), ("no longer polled", before - after)):
            if urls:
                logger.info("sources of the config file %s: %s", change, ", ".join(sorted(urls)))
        _log_topic_changes(topics_before, {t.id: t for t in store.topics() if t.origin == "config"})
    else:
        say_unsynced(fresh, store)
    apply_config(service.pipeline, fresh)
    if sends:
        retry_under_new_mail_settings(fresh, store, service.pipeline.clock)
    service.set_crawl(fresh.crawl)
    service.set_tick(fresh.daemon.tick_seconds)
    configure_logging(fresh.daemon.log_level)
    return needs_restart(running, fresh)


def _log_topic_changes(before: dict[int, Topic], after: dict[int, Topic]) -> None:
    """Say which topics a reload added, removed or changed (a rename is said by storage)."""
    def what(topic: Topic) -> tuple[object, ...]:
        return topic.query, topic.exclude, topic.notify, topic.sources, topic.mode

    changes = {
        "added": [after[i].name for i in after.keys() - before.keys()],
        "removed (their alerts waiting for a digest are dropped)": [
            before[i].name for i in before.keys() - after.keys()],
        "changed": [t.name for i, t in after.items() if i in before and what(before[i]) != what(t)],
    }
    for change, names in changes.items():
        if names:
            logger.info("topics of the config file %s: %s", change, ", ".join(sorted(names)))


def apply_config(pipeline: Pipeline, config: Config) -> None:
    """Give a running ``pipeline`` the settings of ``config`` but its crawl's (a reload): the
    next match and delivery use them."""
    from alerts import MailOutage, RetryPolicy

    pipeline.transport = transport_for(config)
    pipeline.outage = MailOutage()  # the mail server tried at the next run
    pipeline.lookback = timedelta(seconds=config.alerts.lookback_seconds)
    pipeline.retry = RetryPolicy(
        base_seconds=config.alerts.retry_base, max_seconds=config.alerts.retry_max
    )
    pipeline.operator = config.alerts.operator
    pipeline.health_after = timedelta(seconds=config.alerts.health_after)
    pipeline.stream_seconds = config.alerts.stream_seconds
    pipeline.keep = timedelta(seconds=config.database.keep_seconds)
    pipeline.recipients = config.recipients


def build_pipeline(config: Config, store: PipelineStore) -> Pipeline:
    """The pipeline for ``config``; installs the asyncio reactor first."""
    # Scrapy, APScheduler and the rest of the pipeline load only for a crawl.
    import crawler
    from alerts import RetryPolicy
    from scheduler import Pipeline

    crawler.install_reactor()
    return Pipeline(
        store=store,
        crawler=crawler.CrawlRunner(config.crawl),
        transport=transport_for(config),
        lookback=timedelta(seconds=config.alerts.lookback_seconds),
        retry=RetryPolicy(
            base_seconds=config.alerts.retry_base, max_seconds=config.alerts.retry_max
        ),
        operator=config.alerts.operator,
        health_after=timedelta(seconds=config.alerts.health_after),
        stream_seconds=config.alerts.stream_seconds,
        keep=timedelta(seconds=config.database.keep_seconds),
        recipients=config.recipients,
    )
