"""The command line: ``newswatch [--config FILE] COMMAND``.

Only the command line turns exceptions into messages and exit codes (newswatch.common, which
every command module shares): 0 success, 1 runtime failure, 2 bad configuration or usage,
3 alerts could not be delivered (queued and retried, or failed for good), 141 the reader of the
output went away. Commands import what is heavy (the pipeline, the database) when they run,
so that ``newswatch --help`` is instant.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit

import click

import alerts
from scheduler import AlreadyRunning, InstanceLock
from storage import from_iso, identity_host, to_iso, utcnow

from .common import (
    EXIT_CONFIG,
    EXIT_DELIVERY,
    EXIT_RUNTIME,
    OneLineGroup,
    closed_pipe,
    config_file,
    config_of,
    fail,
    format_option,
    handle_errors,
    nameable_sources,
    open_existing,
    output_file,
    output_option,
    plain,
    since_seconds,
    warn_unknown_sources,
    when_text,
)
from .search import search
from .sources_cli import sources
from .stories_cli import stories
from .topics_cli import topics

if TYPE_CHECKING:
    from collections.abc import Sequence

    from storage import StatusStore, Storage, TopicSpec, TopicStatus
    from storage.pg import PgStore

    from .config import Config

logger = logging.getLogger(__name__)

LINK_SHAPES_SHOWN = 5  # learnt link shapes shown per page source in ``status``
PROBLEMS_SHOWN = 10  # the latest alert problems listed in ``status`` (its counts are whole)


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="NEWSWATCH_CONFIG",
    show_envvar=True,
    help="TOML config file. Without one, defaults apply (./newswatch.db, no sources).",
)
@click.version_option(package_name="newswatch")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """newswatch — watches news sources and emails you when a topic you follow appears.

    It polls news feeds, sitemaps and sites, stores every new article (its extracted
    text, not the page around it) in SQLite, matches it against your topics and emails
    their recipients.
    """
    ctx.ensure_object(dict)["config_path"] = config_path


@cli.command()
@click.option(
    "--role",
    "roles",
    multiple=True,
    metavar="ROLE",
    help="On several machines (needs [database] url): scheduler, crawler or alerter; "
    "repeat the option or give a comma list. Default: all of it in one process.",
)
@click.pass_context
@handle_errors
def run(ctx: click.Context, roles: tuple[str, ...]) -> None:
    """Run the daemon in the foreground until SIGTERM or SIGINT.

    Polls each source when it is due, matches new articles, sends alerts and retries
    failed deliveries. SIGHUP reloads the config file: every setting applies from the next
    cycle but database.path, database.url, crawl.workers and daemon.metrics, and with --role
    the timings daemon.jobs, daemon.heartbeat, daemon.stalled_after and daemon.retry_stalled,
    which need a restart (a change to them is logged by name).
    Only one newswatch may run on a database at a time, unless it runs in roles on
    PostgreSQL (--role; see "Running on several machines" in the README).
    """
    from scheduler import Daemon
    from scheduler.daemon import held_reloads
    from storage import open_store

    from .app import (
        build_pipeline,
        configure_logging,
        one_source_a_feed,
        reload_config,
        retry_under_new_mail_settings,
        sync_config,
    )

    # A reload asked for while the daemon starts (its SMTP login check, its database's
    # migrations) killed it, SIGHUP's default: noted, and made once the daemon runs.
    held_reloads.install()
    config = config_of(ctx)
    if roles:
        _run_roles(config, roles)
        return
    configure_logging(config.daemon.log_level)
    _log_notices(config)
    _check_smtp(config)
    with InstanceLock(config.database.path) as lock, open_store(config.database.location) as store:
        _one_process(config, store)
        if config.database.url is not None:  # PostgreSQL: sent marks survive its restart
            _keep_sent_marks(config, store, journal=True)
        else:
            _sent_journal(config, store)
        sync_config(config, store)
        _warn_without_sources(store)
        retry_under_new_mail_settings(config, store)
        pipeline = build_pipeline(config, store)

        daemon = Daemon(
            pipeline,
            config.daemon.tick_seconds,
            reload=lambda: reload_config(config, store, daemon),
            metrics_address=config.daemon.metrics,
            lock=lock,
            # A page added with `sources add` whose declared feed, found by a poll, another
            # source polls is merged into that one at once, not at the next start or SIGHUP.
            moved=lambda: one_source_a_feed(store),
        )
        code = daemon.run()
    sys.exit(code)


def _run_roles(config: Config, names: tuple[str, ...]) -> None:
    """``run --role``: the roles of several machines, on PostgreSQL and the task engine."""
    from scheduler.roles import parse_roles
    from storage import open_store

    from .app import (
        build_pipeline,
        configure_logging,
        one_source_a_feed,
        reload_config,
        retry_under_new_mail_settings,
        say_unsynced,
        sync_config,
    )

    try:  # a mistyped role is said as such, on SQLite too
        roles = parse_roles(names)
    except ValueError as exc:
        fail(str(exc), EXIT_CONFIG)
    if config.database.url is None:
        fail(
            "--role needs a database shared by several machines: set [database] url = "
            '"postgresql://…" (on SQLite, run without --role: one process does everything)',
            EXIT_CONFIG,
        )
    try:
        from scheduler.cluster import Cluster, serve
    except ImportError as exc:
        fail(f"--role needs the task engine ({exc}): pip install 'newswatch[postgres]'",
             EXIT_CONFIG)
    configure_logging(config.daemon.log_level)
    _log_notices(config)
    if "alerter" in roles:
        _check_smtp(config)
    with open_store(config.database.location) as opened:
        _one_process(config, opened, roles=True)
        store = _keep_sent_marks(config, opened, journal="alerter" in roles)
        if "scheduler" in roles:
            sync_config(config, store)
            _warn_without_sources(store)
        else:
            say_unsynced(config, store)
        pipeline = build_pipeline(config, store)
        # On SIGHUP as the one-process daemon; the sources and topics are the scheduler's,
        # the mail settings the alerter's.
        cluster = Cluster(
            config, store, pipeline, roles,
            reload=lambda: reload_config(config, store, cluster, sync="scheduler" in roles,
                                         sends="alerter" in roles),
            # As the one-process daemon's cycle (see run): by the crawl job that finds it.
            moved=lambda: one_source_a_feed(store),
        )
        if "alerter" in roles:
            # Due by the database's clock, which the alerters read (the cluster's): a
            # machine whose clock was 5 minutes ahead held the retries it made due for
            # those 5 minutes.
            retry_under_new_mail_settings(config, store, pipeline.clock)
        code = serve(cluster)
    sys.exit(code)


def _log_notices(config: Config) -> None:
    """The config file's topics read as an earlier version read them (Config.notices)."""
    for notice in config.notices:
        logger.warning("%s: %s", config_file(config), notice)


def _warn_without_sources(store: Storage) -> None:
    """Nothing to poll, neither in the config file nor added with ``sources add`` (the
    config file's alone were looked at: the warning came before a poll of the others)."""
    if not store.sources():
        logger.warning("no sources configured: nothing will be polled (see --help for the "
                       "config, or newswatch sources add)")


def _one_process(config: Config, store: Storage, *, roles: bool = False) -> None:
    """On PostgreSQL, where the lock file beside a SQLite database covers nothing: refuse a
    one-process newswatch (``run``, ``crawl``) beside another, or beside the roles of a
    cluster (each fetched every page again, and spaced its requests to a host by its own
    delay only); the roles share the lock."""
    if config.database.url is None:
        return
    from storage.pg import INSTANCE_LOCK, PgStore

    assert isinstance(store, PgStore)
    if roles and not store.try_lock_shared(INSTANCE_LOCK):
        raise AlreadyRunning(
            f"a one-process newswatch (run without --role, or crawl) is running on "
            f"{config.database.shown}: stop it before starting the roles"
        )
    if not roles and not store.try_lock(INSTANCE_LOCK):
        raise AlreadyRunning(
            f"another newswatch is running on {config.database.shown}: a daemon, a crawl or "
            "the roles of a cluster (newswatch status lists its crawlers)"
        )


def _keep_sent_marks(config: Config, store: Storage, *, journal: bool) -> PgStore:
    """On PostgreSQL: another sender takes a cut-off send only after the claim lease (the
    longer of daemon.stalled_after and the longest send), and (``journal``: this process
    sends) the "sent" marks go through the sent journal first."""
    from storage.pg import PgStore

    assert isinstance(store, PgStore)  # [database] url
    # Another sender may take a row whose send was cut off only once that send is over: the
    # lease outlasts the longest send.
    longest_send = config.smtp.longest_send if config.smtp is not None else 0.0
    store.claim_lease = max(config.daemon.stalled_after_seconds, longest_send)
    if journal:
        _sent_journal(config, store)
    return store


def _sent_journal(config: Config, store: Storage) -> None:
    """This process sends: its "sent" marks go through the sent journal next to the database
    file first, so that a mark the database refuses or loses sends nothing twice
    (storage.journal, docs/scale-out.md). Its files are named for the database: another
    config of the directory, on another database, shares the journal directory."""
    from storage.journal import SentJournal

    directory = config.database.path.with_suffix(".sent")
    database = store.journal_identity()
    try:
        store.journal = SentJournal(directory, database)
    except OSError as exc:
        fail(f"the sent journal {directory} cannot be written: {exc}", EXIT_CONFIG)


def _check_smtp(config: Config) -> None:
    """A refused login is a configuration error, said at start-up; a server that is down,
    or defers the login (a 4xx), is not: alerts queue and are retried."""
    if config.smtp is None or not config.smtp.username:
        return
    try:
        alerts.SmtpTransport(config.smtp).check()
    except alerts.AuthenticationFailed as exc:
        fail(f"smtp: {exc} (check smtp.username and the password)", EXIT_CONFIG)
    except alerts.DeliveryError as exc:
        logger.warning("%s; alerts will wait in the outbox and be retried", exc)


@cli.command()
@click.pass_context
@handle_errors
def crawl(ctx: click.Context) -> None:
    """Run one full cycle now, then exit.

    Polls every source regardless of its schedule (but those that answered 429 or 503 with
    a Retry-After not over yet), stores and matches new articles and
    delivers the alerts. Exits 0 when the cycle ran, even if some sources failed (they are
    listed); 1 when the database would not take a poll (a full disk: its source stays due);
    2 when the mail server refused the login; 3 when alerts could not be delivered
    otherwise (they stay queued for the next run); 130 (143)
    when Ctrl-C (SIGTERM) stopped it.
    """
    from scheduler import Interrupted, run_once
    from scheduler.daemon import due_if_set_back
    from storage import open_store

    from .app import (
        build_pipeline,
        configure_logging,
        one_source_a_feed,
        retry_under_new_mail_settings,
        sync_config,
    )

    config = config_of(ctx)
    # The command prints its own report of failed sources; the log keeps to real errors.
    configure_logging(
        "ERROR" if config.daemon.log_level in ("INFO", "WARNING") else config.daemon.log_level
    )
    with InstanceLock(config.database.path), open_store(config.database.location) as store:
        _one_process(config, store)
        _sent_journal(config, store)
        sync_config(config, store, say=click.echo)
        pipeline = build_pipeline(config, store)
        # A clock set back since the last run (from cron): the digest time dealt with by
        # the clock ahead was the next real one, skipped, and the emails to retry waited.
        due_if_set_back(store, pipeline.clock())
        # The mail settings mended since the last run: the alerts that failed under the old
        # ones go now, not at the end of their back-off.
        retry_under_new_mail_settings(config, store)
        # Every source, but those that asked to wait (429 or 503 with Retry-After): a
        # crawl run from cron requested them again at every run (a review).
        now = datetime.now(UTC)
        polled = []
        for source in store.sources():
            if source.asked_to_wait and source.next_due is not None and source.next_due > now:
                click.echo(f"  waiting: {source.url}: it answered HTTP {source.last_status}, "
                           f"polled from {source.next_due:%Y-%m-%d %H:%M} UTC")
            else:
                polled.append(source)
        try:
            # The log shows errors only: a stop, and Ctrl-C pressed again (what the stop
            # still waits for), are said on standard error.
            report = run_once(lambda: pipeline.cycle(polled), pipeline,
                              say=lambda line: click.echo(f"newswatch: {line}", err=True))
        except Interrupted as exc:
            fail(
                f"interrupted ({exc}): the sources not polled whole are polled at the next "
                "run, the articles stored are matched then",
                128 + exc.signum,
            )
        crawl_report = report.crawl
        ok = len(crawl_report.outcomes) - len(crawl_report.failures)
        click.echo(
            f"polled {len(crawl_report.outcomes)} source(s): {ok} ok, "
            f"{len(crawl_report.failures)} failed; {crawl_report.new_articles} new article(s)"
            + (f", {n} updated" if (n := crawl_report.updated_articles) else "")
            + (f"; {n} page(s) read from their site's learnt article element"
               if (n := crawl_report.counters["pages_cut"]) else "")
        )
        for source, outcome in crawl_report.failures:
            click.echo(f"  failed: {source.url}: {outcome.error}")
        # A page added with `sources add` whose declared feed, found by this poll, another
        # source polls: said now, not by whichever command came next.
        one_source_a_feed(store, say=lambda line: click.echo(f"  {line}"))
        if waiting := crawl_report.counters["articles_deferred"]:
            click.echo(
                f"  {waiting} page(s) unavailable for now (a 5xx, 429, a timeout...): "
                "requested again at the next runs (newswatch status tells which sources)"
            )
        if lost := crawl_report.counters["pages_lost"]:
            click.echo(
                f"  {lost} page(s) crashed or hung their extraction worker: "
                "retried at the next poll"
            )
        if unstored := crawl_report.counters["articles_unstored"]:
            click.echo(
                f"  {unstored} page(s) the database refused (the disk nearly full?): "
                "read again at the next poll"
            )
        m = report.matched
        click.echo(
            f"matched {m.articles} article(s): {m.matches} match(es), {m.emails} email(s) queued"
            + (f", {m.queued} alert(s) held for digests" if m.queued else "")
            + (f"; {report.digests} digest(s) queued" if report.digests else "")
        )
        d = report.delivery
        via = pipeline.transport.describe()
        # What this run did not try: an alert waiting for its retry (the mail server's port
        # mended since, the run said "delivered 0" and no more), storm control's digest.
        later = store.outbox_counts()["pending"] - d.retrying
        click.echo(
            f"delivered {d.sent} email(s) via {via}"
            + (f"; {d.retrying} to retry, {d.failed} failed" if d.retrying or d.failed else "")
            + (f"; {later} more queued for later (`newswatch status` says when)"
               if later > 0 else "")
        )
        stages = {**crawl_report.cpu, **m.cpu}
        click.echo("cpu: " + ", ".join(f"{k} {v:.2f} s" for k, v in stages.items() if v > 0))
        # PostgreSQL: the counts this cycle added as rows are folded (the daemon does it
        # hourly; a crawl run from cron alone piled them up until a prune).
        store.fold_counts()
        if unrecorded := crawl_report.counters["polls_unrecorded"]:
            fail(
                f"{unrecorded} poll(s) could not be recorded ({crawl_report.storage_error}); "
                "their sources are polled again at the next run",
                EXIT_RUNTIME,
            )
        if d.errors:
            _check_smtp(config)  # a refused login is the config's error (exit 2), as for run
            # Said as it is: a message refused for good (552, an address the server cannot
            # take) is not retried, and was said to be.
            fates = []
            if d.retrying or not d.failed:
                fates.append(f"{d.retrying or 'they'} stay queued and are retried on the next run")
            if d.failed:
                fates.append(f"{d.failed} failed for good (`newswatch status` lists them)")
            fail(f"alerts not delivered ({'; '.join(d.errors)}); {', '.join(fates)}",
                 EXIT_DELIVERY)


@cli.command()
@format_option("jsonl", "csv")
@output_option
@click.pass_context
@handle_errors
def export(ctx: click.Context, fmt: str, output: Path | None) -> None:
    """Export every stored article: url, title, text, published, author, source, source_url,
    topics, story, extraction, extraction_note.

    ``story`` is the id of the article's story: near-duplicates (the same wire copy on
    several sites) share it.
    """
    config = config_of(ctx)
    fields = [
        "url",
        "title",
        "text",
        "published",
        "author",
        "source",
        "source_url",
        "topics",
        "story",
        "extraction",
        "extraction_note",
    ]
    with open_existing(config) as store:
        if output is None:
            # UTF-8 bytes, as -o FILE writes them, whatever the locale: written in its
            # encoding (Latin-1), an export stopped at the first title beyond it.
            out = io.TextIOWrapper(click.get_binary_stream("stdout"), "utf-8", newline="")
            try:
                _export(store, fmt, fields, out)
                out.flush()
            finally:
                out.detach()  # standard output stays open for what follows
            return
        with output_file(output) as fh, io.TextIOWrapper(fh, "utf-8", newline="") as out:
            _export(store, fmt, fields, out)


#: What a spreadsheet reads as a formula at the start of a cell (OWASP, "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """A CSV cell: a text a spreadsheet would take for a formula (a feed's title
    ``=HYPERLINK(...)``, a headline starting "- ") gets a leading apostrophe, which
    spreadsheets show as text and do not display."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _export(store: Storage, fmt: str, fields: list[str], out: TextIO) -> None:
    """Every stored article to ``out``, as ``fmt`` (jsonl or csv) with ``fields``."""
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for row in store.export_rows():
            record = {**plain(row), "topics": "; ".join(row.topics)}
            writer.writerow({k: _cell(v) for k, v in record.items()})
    else:
        for row in store.export_rows():
            record = plain(row)
            out.write(json.dumps({k: record[k] for k in fields}, ensure_ascii=False) + "\n")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output for scripts.")
@click.pass_context
@handle_errors
def status(ctx: click.Context, as_json: bool) -> None:
    """Show sources (last poll, health, articles), topics (matches), digests and the outbox."""
    from watchlist.stories import WINDOW as STORY_WINDOW

    config = config_of(ctx)
    with open_existing(config) as store:
        digests = _digests(config, store)
        workers = _workers(store)
        for worker in workers or ():
            # Silent past stalled_after: taken for dead (its crawl runs again elsewhere), but
            # listed until a worker starts (the task engine prunes them then).
            worker["stalled"] = (
                worker["seconds_since_heartbeat"] > config.daemon.stalled_after_seconds
            )
        sources = _sources(store)
        if as_json:
            topics = [_topic_json(t) for t in store.topic_status()]
            report = {
                "database": config.database.shown,
                "articles": store.article_count(),
                "stories": store.story_counts(utcnow() - STORY_WINDOW),
                "source_health": _health_counts(sources),
                "sources": sources,
                "topics": topics,
                "alerts": store.outbox_counts(),
                "alert_problems": [
                    {**plain(p), "recipient": alerts.redact(p.recipient)}
                    for p in store.outbox_problems()
                ],
                "digests": digests,
            }
            if workers is not None:
                report["workers"] = workers
            click.echo(json.dumps(report, indent=2, ensure_ascii=False))
            return
        click.echo(f"database: {config.database.shown} ({store.article_count()} articles)")
        stories = store.story_counts(utcnow() - STORY_WINDOW)
        click.echo(
            f"stories of the last {STORY_WINDOW.days} days: {stories['stories']}, "
            f"{stories['several_sources']} carried by several sources"
        )
        healths = ", ".join(f"{n} {health}" for health, n in _health_counts(sources).items() if n)
        click.echo(f"\nsources: {len(sources)}" + (f" ({healths})" if healths else ""))
        # Those that need attention first: at 200 sources, the failing ones were a few
        # blocks among hundreds of lines of "ok", in the order the sources were added.
        for s in sorted(sources, key=lambda s: _HEALTHS.index(_health(s))):
            _echo_source(s)
        click.echo("\ntopics:")
        for t in store.topic_status():
            click.echo(
                f"  {t.name}: {t.matches} match(es), {t.alerted} alerted; "
                f"last {when_text(t.last_match)}; "
                f"notify {', '.join(map(alerts.redact, t.notify))}"
            )
        if digests:
            click.echo("\ndigests:")
        for d in digests:
            folded = f" ({d['storm']} folded by storm control)" if d["storm"] else ""
            # In UTC too only where the recipient's clock is not UTC ("11:01 UTC (11:01 UTC)").
            utc = when_text(d["next"])
            at = d["next_local"] if d["next_local"] == utc else f"{d['next_local']} ({utc})"
            click.echo(
                f"  {d['recipient']}: {d['waiting']} alert(s) waiting{folded}; "
                f"next digest {at}; times {d['schedule']}"
            )
        if workers is not None:
            _echo_workers(workers)
        counts = store.outbox_counts()
        dropped = counts.get("dropped", 0)
        click.echo(
            f"\nalerts: {counts['pending']} pending, {counts['sent']} sent, "
            f"{counts['failed']} failed"
            + (f", {dropped} not sent (their reader left their topics)" if dropped else "")
        )
        problems = store.outbox_problems(PROBLEMS_SHOWN + 1)
        for p in problems[:PROBLEMS_SHOWN]:
            # A message refused for good has no next attempt (its last one was shown).
            then = f", next {when_text(p.next_attempt)}" if p.status == "pending" else ""
            click.echo(
                f"  #{p.id} to {alerts.redact(p.recipient)} ({p.status}, {p.attempts} "
                f"attempt(s){then}): {p.last_error}"
            )
        if len(problems) > PROBLEMS_SHOWN:
            # The list is cut, the latest kept: say so (the counts are whole).
            click.echo("  (older alert problems not listed: the counts above give them all)")
        if counts["failed"]:
            # Nothing sends them again of itself: status listed them, and an operator who
            # mended the mail server's configuration was not told how to send them.
            click.echo("  failed for good: once what refused them is mended, `newswatch resend`"
                       " queues them again (those of the last 7 days; `--since 30d`: older)")


def _workers(store: StatusStore) -> list[dict[str, Any]] | None:
    """The crawl workers of several machines (PostgreSQL's task engine): who, where, last
    heartbeat, what each is crawling; None on SQLite (one process, no workers)."""
    if not hasattr(store, "cluster_workers"):
        return None
    workers: list[dict[str, Any]] = store.cluster_workers()
    return workers


def _echo_workers(workers: list[dict[str, Any]]) -> None:
    """The ``workers:`` part of ``status``."""
    click.echo(f"\nworkers: {len(workers) or 'none running'}")
    for w in workers:
        who = w["name"] or f"worker {w['id']} (unnamed)"
        click.echo(
            f"  {who}: host {w['host'] or '-'}, pid {w['pid'] or '-'}; last heartbeat "
            f"{when_text(w['last_heartbeat'])} ({w['seconds_since_heartbeat']:.0f}s ago)"
        )
        if w.get("stalled"):
            click.echo("    stalled: no heartbeat for longer than daemon.stalled_after (dead, or"
                       " its machine cut off: its crawls run again elsewhere)")
        elif not w["jobs"]:
            click.echo("    idle")
        for job in w["jobs"]:
            what = job["source_url"] or job["task"]
            retry = f", attempt {job['attempts']}" if job["attempts"] > 1 else ""
            click.echo(f"    crawling {what} (job {job['id']}, lock {job['lock']}{retry})")


def _topic_json(t: TopicStatus) -> dict[str, Any]:
    """A topic in ``status --json``: its recipients redacted, its sources as stored (JSON
    text, or null)."""
    sources = json.dumps(list(t.sources), ensure_ascii=False) if t.sources else None
    return {**plain(t), "notify": [alerts.redact(n) for n in t.notify], "sources": sources}


def _digests(config: Config, store: StatusStore) -> list[dict[str, Any]]:
    """Each recipient with alerts waiting for a digest or a topic in digest mode: how many
    wait (and how many storm control folded), and when their next digest goes out."""
    now = utcnow()
    rows = {row.recipient: row for row in store.digest_status()}
    wanted = {r for t in store.topics() if t.mode == "digest" for r in t.notify}
    wanted |= {r for r, row in rows.items() if row.waiting}
    report = []
    for recipient in sorted(wanted):
        row = rows.get(recipient)
        policy = config.recipients.of(recipient)
        due = alerts.plan(
            policy,
            now,
            row.handled if row else None,
            row.oldest if row else None,
            row.oldest_storm if row else None,
        )
        when = now if due.kind else due.next
        report.append(
            {
                "recipient": alerts.redact(recipient),
                "waiting": row.waiting if row else 0,
                "storm": row.storm if row else 0,
                "next": when.isoformat(),
                "next_local": "now" if due.kind else policy.local(when),
                "schedule": policy.describe(),
            }
        )
    return report


def _sources(store: StatusStore) -> list[dict[str, Any]]:
    """store.source_status() as ``status`` shows it, each page source with the link shapes
    learnt on its site."""
    now = utcnow()
    rows = []
    for status in store.source_status():
        row = {**plain(status), "active": int(status.active), "stale": status.stale}
        rows.append(row)
        if status.detected != "page":
            continue
        site = identity_host(urlsplit(status.fetch_url or status.url).hostname or "")
        # A shape learnt as no articles is not followed until its links are tried again
        # (storage.linkshapes.FORGET_AFTER): from then on status said "not followed" while
        # the crawl followed them, and never said for how long (a site whose first poll
        # listed only its sections: its articles' shape refused for 30 days, unsaid).
        row["link_shapes"] = [
            {
                "shape": shape.shape,
                "articles": shape.articles,
                "others": shape.others,
                "dropped": shape.tried_again is not None and shape.tried_again >= now,
                "tried_again": to_iso(shape.tried_again),
                "last_seen": to_iso(shape.last_seen),
            }
            for shape in store.learned_link_shapes(site)
        ]
    return rows


#: A source's health as ``status`` counts it, in the order it lists the sources: those that
#: need attention first.
_HEALTHS = ("failing", "deactivated", "stale", "ok", "not polled yet")


def _health(s: dict[str, Any]) -> str:
    """A source's health, one of _HEALTHS (a row of _sources)."""
    if s["deactivated"]:
        return "deactivated"
    if s["last_fetch"] is None:
        return "not polled yet"
    if s["consecutive_failures"]:
        return "failing"
    return "stale" if s["stale"] else "ok"


def _health_counts(sources: list[dict[str, Any]]) -> dict[str, int]:
    """How many of ``sources`` (rows of _sources) are of each health, in _HEALTHS order."""
    healths = [_health(s) for s in sources]
    return {health: healths.count(health) for health in _HEALTHS}


def _echo_source(s: dict[str, Any]) -> None:
    """A source's lines in ``status``: what it is, where it is polled, its health."""
    health = {
        "deactivated": f"DEACTIVATED ({s['deactivated']})",
        "failing": (f"FAILING ({s['consecutive_failures']} in a row since "
                    f"{when_text(s['failing_since'])})"),
        "stale": "STALE (its polls succeed, but bring no new article)",
    }.get(_health(s), _health(s))
    click.echo(f"  {s['name'] or s['url']}")
    kind = s["detected"] or s["kind"] or "not detected yet"
    origin = "config file" if s["origin"] == "config" else "command line"
    click.echo(f"    url: {s['url']} ({kind}; added in the {origin})")
    if s["fetch_url"]:
        click.echo(f"    polled at: {s['fetch_url']} ({s['via']})")
    click.echo(
        f"    {health}; last poll {when_text(s['last_fetch'])} "
        f"(HTTP {s['last_status'] or '-'}); last success {when_text(s['last_success'])}; "
        f"errors {s['error_count']}; articles {s['articles']}; "
        f"last new article {_ago(s['last_new'])}; "
        + (f"{s['waiting']} page(s) unavailable for now, requested again; "
           if s.get("waiting") else "")
        + (f"{s['postponed']} new page(s) left for the next polls; "
           if s.get("postponed") else "")
        + f"next {'never' if s['deactivated'] else when_text(s['next_due'], 'now')}"
    )
    if s["last_error"]:
        label = "last error" if s["consecutive_failures"] or s["deactivated"] else "warning"
        click.echo(f"    {label}: {s['last_error']}")
    shapes = s.get("link_shapes") or []
    if shapes:
        learned = "; ".join(
            f"{x['shape']} {_shape_state(x)} "
            f"({x['articles']} article(s), {x['others']} other(s))"
            for x in shapes[:LINK_SHAPES_SHOWN]
        )
        more = len(shapes) - LINK_SHAPES_SHOWN
        click.echo(f"    links learnt: {learned}{f'; {more} more' if more > 0 else ''}")


def _ago(when: str | None) -> str:
    """How long ago ``when`` (ISO 8601) was, in days, as ``status`` says a source's last new
    article: "20 days ago", "today", "never"."""
    then = from_iso(when)
    if then is None:
        return "never"
    days = (utcnow() - then).days
    return "today" if days < 1 else f"{days} day{'s' if days > 1 else ''} ago"


def _shape_state(shape: dict[str, Any]) -> str:
    """Whether a learnt link shape's links are followed, as ``status`` says it: a shape learnt
    as no articles is not followed until when, and once that is past, tried again."""
    if shape["dropped"]:
        return f"not followed until {when_text(shape['tried_again'])}"
    return "tried again" if shape["tried_again"] else "followed"


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
@handle_errors
def backup(ctx: click.Context, file: Path) -> None:
    """Write a consistent copy of the database to FILE (safe while the daemon runs)."""
    config = config_of(ctx)
    with open_existing(config, "nothing to back up") as store:
        store.backup(file)
    click.echo(f"backed up {config.database.shown} to {file}")


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
@handle_errors
def restore(ctx: click.Context, file: Path) -> None:
    """Put the backup FILE in place of the database (the daemon stopped: refused while a
    newswatch runs on it)."""
    from storage.maintenance import restore as restore_file

    config = config_of(ctx)
    if config.database.url is not None:
        fail("newswatch restore is not supported by the PostgreSQL backend: use pg_restore",
             EXIT_CONFIG)
    with InstanceLock(config.database.path):
        restore_file(file, config.database.path)
    click.echo(f"restored {file} as {config.database.shown}")


@cli.command()
@click.pass_context
@handle_errors
def prune(ctx: click.Context) -> None:
    """Apply the retention now: drop the text of articles older than database.keep.

    Titles, URLs, matches and alert records stay (the daemon does this every hour). The
    rest of the daemon's hourly upkeep is done too: the site memory of old articles and the
    waits notification services asked for that ended are forgotten.
    """
    from scheduler.upkeep import upkeep

    config = config_of(ctx)
    with open_existing(config) as store:
        now = _senders_now(config, store)
        keep = timedelta(seconds=config.database.keep_seconds)
        cutoff = now - keep
        # The daemon's own upkeep: run from cron beside `crawl`, with no daemon, each URL
        # ever rate-limited kept its row for good, and the site memory its rows of every
        # article ever stored.
        pruned = upkeep(store, now, keep)
    click.echo(f"pruned the text of {pruned} article(s) fetched before {cutoff:%Y-%m-%d %H:%M} UTC")


@cli.command()
@click.option("--since", default="7d", show_default=True,
              help='Only alerts made this long ago or later, e.g. "2d".')
@click.pass_context
@handle_errors
def resend(ctx: click.Context, since: str) -> None:
    """Queue again the alerts that failed for good (`status` lists them): once the mail
    configuration that refused them is mended. Each is sent at the next delivery run, or
    when its notification service's wait ends (a 429's Retry-After) if it still runs."""
    config = config_of(ctx)
    seconds = since_seconds(since)
    with open_existing(config) as store:
        now = _senders_now(config, store)
        requeued = store.requeue_failed(now - timedelta(seconds=seconds), now)
    click.echo(f"queued again {requeued.queued} alert(s) that had failed, made since "
               f"{when_text(now - timedelta(seconds=seconds))}")
    if requeued.held:
        click.echo(f"{requeued.held} of them due after the service's wait (its Retry-After),"
                   f" at {when_text(requeued.held_until)} at the latest")


def _senders_now(config: Config, store: Storage) -> datetime:
    """The time a command stamps what the senders read by: on PostgreSQL the database
    server's, which the alerters of several machines deliver by (scheduler.cluster's
    DatabaseClock: `resend` on a machine whose clock was 5 minutes ahead made the alerts due
    5 minutes late, and `prune` forgot a notification service's wait 5 minutes before it
    ended); on SQLite this machine's, the daemon's."""
    if config.database.url is None:
        return utcnow()
    from storage.pg import PgStore

    assert isinstance(store, PgStore)  # [database] url
    return store.database_now()


@cli.command()
@click.pass_context
@handle_errors
def check(ctx: click.Context) -> None:
    """Validate the config file and print what it defines (and warn of a topic's source
    that names none of the sources, and of a topic query read as earlier versions read it,
    which other tools read another way)."""
    config = config_of(ctx)
    _warn_unknown_sources(config, config.topics)
    for notice in config.notices:
        click.echo(f"warning: {config_file(config)}: {notice}", err=True)
    click.echo(
        f"{config.path or 'defaults'}: OK — {len(config.sources)} source(s), "
        f"{len(config.topics)} topic(s); database {config.database.shown}; alerts via "
        + (
            f"SMTP {config.smtp.host}:{config.smtp.port}"
            if config.smtp
            else f"mbox {config.alerts.mbox}"
        )
    )
    if config.daemon.metrics:  # its form is checked; listening there, only run tries
        click.echo(
            f"metrics at {config.daemon.metrics}: not tried; a port in use, or an address "
            "this machine does not have, stops run at start (exit code 1)"
        )


def _warn_unknown_sources(config: Config, topics: Sequence[TopicSpec]) -> None:
    """Warn (standard error) of each source of ``topics`` that names none of the config
    file's sources, nor of the database's when it exists, nor a publisher its articles name
    (a topic on Reuters' items of a Google News source): such a topic never alerts."""
    from storage import StorageError, open_store

    known = [(s.name, s.url) for s in config.sources]
    publishers: list[str] = []
    path = config.database.path
    if config.database.url is not None or path.exists():
        try:
            with open_store(config.database.location) as store:
                known += nameable_sources(store)
                publishers = store.publishers()
        except StorageError:
            pass  # the commands that need the database say what is wrong with it
    for i, topic in enumerate(topics):
        warn_unknown_sources(f"{config_file(config)}: topics[{i}].sources", topic.sources, known,
                             publishers)


cli.add_command(sources)
cli.add_command(topics)
cli.add_command(search)
cli.add_command(stories)


def main() -> None:
    """Console-script entry point."""
    try:
        cli(obj={})
    except BrokenPipeError:  # raised outside a command (help text, click's own output)
        closed_pipe()
