"""What every command shares: exit codes, the error handler, the config and the database.

The command modules (``cli``, ``sources_cli``, ``topics_cli``, ``stories_cli``, ``search``)
import this one and not each other. It imports nothing heavy: storage loads when a command
opens the database.

Exit codes: 0 success, 1 runtime failure, 2 bad configuration or usage, 3 alerts could not
be delivered (queued and retried, or failed for good), 141 the reader of the output went
away.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields, is_dataclass, replace
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn, ParamSpec, TypeVar

import click

from scheduler import AlreadyRunning
from storage import NewerSchema, StorageError, from_iso, to_iso

from .units import parse_duration

if TYPE_CHECKING:
    from storage import Storage

    from .config import Config

EXIT_RUNTIME, EXIT_CONFIG, EXIT_DELIVERY = 1, 2, 3
EXIT_CLOSED_PIPE = 128 + 13  # as a shell reports a process that SIGPIPE ended

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])  # a click command, for option decorators
P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int) -> NoReturn:
    """Say ``message`` on standard error and exit with ``code``."""
    click.echo(f"newswatch: {message}", err=True)
    sys.exit(code)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn known failures into one clear line and an exit code, never a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from .config import ConfigError  # here, not at import: --help reads no config

        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(f"newswatch: {exc.source}: {problem}", err=True)
            sys.exit(EXIT_CONFIG)
        except AlreadyRunning as exc:
            fail(str(exc), EXIT_RUNTIME)
        except NewerSchema as exc:  # an upgrade is needed: a restart would fail the same
            fail(str(exc), EXIT_CONFIG)
        except StorageError as exc:
            fail(str(exc), EXIT_RUNTIME)
        except BrokenPipeError:
            closed_pipe()
        except Exception as exc:
            # A bug or an environment failure: one line for the operator, the traceback in
            # the log at DEBUG (daemon.log_level = "DEBUG").
            logger.debug("unexpected error", exc_info=True)
            fail(f"unexpected error: {type(exc).__name__}: {exc}", EXIT_RUNTIME)

    return wrapper


def closed_pipe() -> NoReturn:
    """The reader of our output went away (``newswatch status | head``): end quietly, as a
    process that SIGPIPE ended would (exit 141), without flushing into the closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(EXIT_CLOSED_PIPE)


def config_of(ctx: click.Context) -> Config:
    """The configuration of this invocation, loaded once."""
    obj: dict[str, Any] = ctx.ensure_object(dict)
    if "config" not in obj:
        from .config import load_config

        obj["config"] = load_config(obj.get("config_path"))
    config: Config = obj["config"]
    return config


def config_file(config: Config) -> str:
    """The config file's name, for messages."""
    return str(config.path) if config.path else "the config file"


def no_database(config: Config) -> bool:
    """Whether the SQLite file of ``config`` is not there yet (nothing crawled or added)."""
    return config.database.url is None and not config.database.path.exists()


def open_existing(config: Config, nothing: str = "nothing crawled yet") -> Storage:
    """The database of ``config``, which must exist already (read commands never create it)."""
    from storage import open_store

    if no_database(config):
        fail(f"no database at {config.database.path}: {nothing}", EXIT_RUNTIME)
    return open_store(config.database.location)


def open_synced(config: Config) -> Storage:
    """The database of ``config`` (created if need be), its sources and topics those of the
    config file, as the daemon syncs them at start and on SIGHUP.

    Without a config file, or with one that defines nothing, the config file's sources and
    topics stay as they are: `newswatch sources list` run without ``--config`` in the
    service's directory, or while an editor was saving the file, stopped every source and
    topic of the running daemon, which then dropped their alerts waiting for a digest or for
    the mail server ("its reader no longer watches its topics")."""
    from storage import open_store

    from .app import sync_config

    store = open_store(config.database.location)
    if config.empty:
        return store
    try:
        sync_config(config, store, say=lambda line: click.echo(f"newswatch: {line}", err=True))
    except BaseException:
        store.close()
        raise
    return store


@contextmanager
def open_to_read(config: Config) -> Iterator[Storage]:
    """:func:`open_synced` for a command that shows what is configured (``sources list``,
    ``sources export``, ``topics list``) and writes nothing: where the SQLite file does not
    exist yet, the config file's sources and topics are read from a throwaway database,
    removed after. Run before the first crawl, or with a config whose database is not on
    this machine yet, they left an empty database file and its directory behind (read
    commands never create it, as ``status`` does not)."""
    if config.database.url is not None or config.database.path.exists():
        with open_synced(config) as store:
            yield store
        return
    with tempfile.TemporaryDirectory(prefix="newswatch-") as scratch:
        throwaway = replace(config.database, path=Path(scratch) / "newswatch.db")
        with open_synced(replace(config, database=throwaway)) as store:
            yield store


def remove_command(
    noun: str,
    argument: str,
    help: str,
    *,
    in_config: Callable[[Config], set[str]],
    remove: Callable[[Storage, str], str | None],
) -> click.Command:
    """``sources remove`` and ``topics remove``: what the config file defines is removed
    there; what the command line added is removed from the database (``remove``: the line
    that says so, None when there is no such thing), or exit 1."""

    @click.command("remove", help=help)
    @click.argument(argument)
    @click.pass_context
    @handle_errors
    def command(ctx: click.Context, /, **given: str) -> None:
        config = config_of(ctx)
        key = given[argument].strip()
        if key in in_config(config):
            fail(f"{key}: defined in {config_file(config)}: remove it there", EXIT_CONFIG)
        # Without a database nothing was added here: none is made to say so (run outside
        # the service's directory, it was the one later commands read).
        done = None
        if not no_database(config):
            with open_synced(config) as store:
                done = remove(store, key)
        if done is None:
            fail(f"{key}: no such {noun} (see `newswatch {noun}s list`)", EXIT_RUNTIME)
        click.echo(done)

    return command


def format_option(*choices: str, help: str = "Output format.") -> Callable[[F], F]:
    """``--format``, the first of ``choices`` by default."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default=choices[0],
        show_default=True,
        help=help,
    )


def limit_option(func: F) -> F:
    """``--limit N``: show at most N (20 by default)."""
    return click.option(
        "--limit",
        type=click.IntRange(min=1),
        default=20,
        show_default=True,
        help="Show at most this many.",
    )(func)


def output_option(func: F) -> F:
    """``--output/-o FILE``: write there instead of standard output (None; also for ``-``)."""
    return click.option(
        "--output",
        "-o",
        type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
        callback=lambda _ctx, _param, value: None if value == Path("-") else value,
        help="Write to this file instead of standard output (-: standard output).",
    )(func)


@contextmanager
def output_file(output: Path) -> Iterator[BinaryIO]:
    """The file an ``--output`` is written to: beside it first, then renamed, so that a
    reader never sees half a file; one line and exit 1 when it cannot be written. Each
    writer has its own partial file: two exports to one file at once both end well (with
    one name, one renamed the other's away and failed), the last one's file kept. What is
    not a file (``-o /dev/null``, a named pipe) is written to as it is: renamed over, the
    device was replaced by a file (as root, /dev/null for the whole machine). A symbolic
    link's file is written, the link kept."""
    if output.exists() and not output.is_file():  # a device, a pipe (links followed)
        try:
            with output.open("wb") as fh:
                yield fh
        except OSError as exc:
            fail(f"{output}: cannot write: {exc.strerror or exc}", EXIT_RUNTIME)
        return
    output = Path(os.path.realpath(output))
    partial = output.with_name(f".{output.name}.{os.getpid()}-{secrets.token_hex(4)}.partial")
    try:
        try:
            with partial.open("wb") as fh:
                yield fh
            os.replace(partial, output)
        finally:
            partial.unlink(missing_ok=True)  # what was not renamed
    except OSError as exc:
        fail(f"{output}: cannot write: {exc.strerror or exc}", EXIT_RUNTIME)


def plain(value: Any) -> Any:
    """A record as JSON-ready values: a dataclass becomes a dict (fields in order), a
    datetime its ISO 8601 text (as stored), a tuple a list."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, datetime):
        return to_iso(value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def since_seconds(since: str) -> float:
    """A ``--since`` option's duration in seconds; exit 2 with one line when it is not one."""
    try:
        return parse_duration(since)
    except ValueError as exc:
        fail(f"--since: {exc}", EXIT_CONFIG)


def when_text(value: datetime | str | None, none: str = "-") -> str:
    """A time as every command's text shows it: '2026-12-06 04:45 UTC' (``none`` for no
    time). Text output was written four ways (ISO 8601 in ``status``, no zone at all in
    ``sources list``); JSON keeps ISO 8601 and emails the recipient's clock."""
    text = to_iso(from_iso(value) if isinstance(value, str) else value)
    return f"{text[:10]} {text[11:16]} UTC" if text else none


def first_names(names: Sequence[str], shown: int) -> str:
    """The first ``shown`` names and how many more ('a@x, b@x +7 more'): a list a text line
    holds whatever its length (a topic's recipients, a story's sources); JSON gives them all."""
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" +{more} more" if more > 0 else "")


def nameable_sources(store: Storage) -> list[tuple[str | None, str]]:
    """The (name, URL) of the sources a topic's sources may name: those polled, and those
    merged into one of them (a topic limited to one follows it, watchlist.follow_merges)."""
    return [*((s.name, s.url) for s in store.sources()),
            *((name, url) for name, url, _into in store.merged_sources())]


def warn_unknown_sources(
    where: str,
    wanted: Sequence[str],
    known: Iterable[tuple[str | None, str]],
    publishers: Iterable[str],
    outcome: str = "the topic alerts for none of its articles",
) -> None:
    """Warn (standard error) of each of a topic's ``wanted`` sources that names none of the
    ``known`` ones (name, URL), nor any of the ``publishers`` stored articles name (a topic
    on Reuters' items of a Google News source): such a topic never alerts for the source
    meant, unless a name is that of a publisher an aggregator's item names later
    (``outcome`` says what it does instead: ``topics test`` finds nothing of it)."""
    from watchlist import unknown_sources

    named = {name.casefold() for name in publishers}
    for entry in unknown_sources(wanted, known):
        if "://" in entry:
            nor, until = "", ""
        elif entry.casefold() in named:
            continue  # the publisher an aggregator's items name: those are the ones meant
        else:
            nor = ", nor a stored article's publisher"
            until = " until a source or an aggregator's item is so named"
        click.echo(
            f"warning: {where}: {entry!r} is no source's name or URL{nor}: {outcome}{until} "
            "(a source's name is its configured one, or its feed's title once polled)",
            err=True,
        )


class QueryCommand(click.Command):
    """A command whose last argument is a topic query, which may start with "-" (NOT:
    ``newswatch search '-Trump Meloni'``): a word that starts with one "-" and is none of the
    command's options, nor an option's value, is that argument, not an unknown option
    (click said "No such option: -T", and only ``--`` helped). ``--word`` is an option."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            return super().parse_args(ctx, args)
        takes_value = {
            name: not param.is_flag
            for param in self.get_params(ctx)
            if isinstance(param, click.Option)
            for name in (*param.opts, *param.secondary_opts)
        }
        options: list[str] = []
        arguments: list[str] = []
        dashed = False
        words = iter(args)
        for word in words:
            if word in takes_value or word.split("=", 1)[0] in takes_value or word[:2] == "--":
                options.append(word)  # an option (an unknown "--word" is said so by click)
                value = next(words, None) if takes_value.get(word) else None
                if value is not None:  # the option's value, whatever it starts with
                    options.append(value)
            else:
                dashed = dashed or (word[:1] == "-" and len(word) > 1)
                arguments.append(word)
        # The arguments in their order after "--", where a "-" starts no option.
        return super().parse_args(ctx, [*options, "--", *arguments] if dashed else args)


class UsageLine(click.UsageError):
    """A usage error said in one line, as newswatch's other errors are (click's three: the
    usage, a hint and the error): ``newswatch: No such option '--limt'. Did you mean
    '--limit'? (see `newswatch search --help`)``."""

    def show(self, file: Any = None) -> None:
        # The command as typed, whatever the program is called: its subcommands' names,
        # not the program's ("python -m newswatch" is three words).
        command: list[str] = []
        ctx = self.ctx
        while ctx is not None and ctx.parent is not None:
            command.insert(0, ctx.info_name or "")
            ctx = ctx.parent
        where = f" (see `{' '.join(['newswatch', *command, '--help'])}`)"
        click.echo(f"newswatch: {self.format_message()}{where}", file=file, err=file is None)


class OneLineGroup(click.Group):
    """The command group whose usage errors, and its commands', are :class:`UsageLine`."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise _one_line(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _one_line(exc) from None


def _one_line(exc: click.UsageError) -> click.UsageError:
    if isinstance(exc, UsageLine | click.exceptions.NoArgsIsHelpError):  # the help: shown
        return exc
    line = UsageLine(exc.format_message(), exc.ctx)
    line.exit_code = exc.exit_code
    return line


def echo_table(table: Sequence[Sequence[str]]) -> None:
    """Print ``table`` (its header first) in columns two spaces apart, each as wide as its
    widest cell on a terminal (a CJK character takes two columns: padded by characters,
    names in Chinese or Korean pushed the next columns out of line); white space in a cell
    (a query written on two lines) is one space."""
    from alerts.compose import columns

    rows = [[" ".join(cell.split()) for cell in row] for row in table]
    widths = [max(columns(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell + " " * (width - columns(cell))
                             for cell, width in zip(row, widths, strict=True)).rstrip())

