"""``newswatch sources``: list, add, remove, import and export the sources to poll.

The config file is the declarative source of truth; these commands add sources to the
database beside it (origin "cli"). Every command first syncs the config file's sources into
the database, as the daemon does at start and on SIGHUP, so a URL in both is a config source.
They take no instance lock: they run while the daemon runs (SQLite WAL and a busy timeout let
a second writer through for short transactions), and the daemon polls what they add at its
next tick.

newswatch.cli registers this group.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click

import storage
from storage import to_iso, utcnow

from .common import (
    EXIT_CONFIG,
    EXIT_RUNTIME,
    config_file,
    config_of,
    echo_table,
    fail,
    format_option,
    handle_errors,
    open_synced,
    open_to_read,
    output_file,
    output_option,
    remove_command,
    when_text,
)
from .units import format_duration, parse_duration
from .values import NAME, PATTERNS, SOURCE_KIND, SOURCE_KINDS, URL, Parser

if TYPE_CHECKING:
    from storage import Source, SourceAdmin, SourceSpec, SourceStatus

    from .config import Config


T = TypeVar("T")


class _Invalid(ValueError):
    """A source given on the command line or in an OPML file cannot be used."""


@dataclass(frozen=True)
class _Added:
    """What adding one source did, and the line that says it."""

    status: Literal["added", "updated", "config", "exists", "deactivated"]
    message: str


def _every(value: str | None, default: int) -> int:
    """A polling interval in whole seconds (at least 1), as the config file reads one."""
    if value is None:
        return default
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise _Invalid(f"--every: {exc}") from None
    if seconds < 1:
        raise _Invalid("--every: a polling interval must be at least 1s")
    return round(seconds)


def _spec(
    url: str,
    every: int,
    name: str | None = None,
    kind: str | None = None,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    every_default: bool = False,
) -> SourceSpec:
    """A validated SourceSpec; raises _Invalid with a one-line reason, which names the option
    at fault (the URL names itself). ``every_default``: ``every`` is crawl.every's, and the
    source follows it."""
    source_kind = None
    if kind is not None:
        source_kind = _valid(SOURCE_KIND, "--kind", kind)
    return storage.SourceSpec(
        _valid(URL, None, url),
        every,
        (_valid(NAME, "--name", name).strip() or None) if name is not None else None,
        source_kind,
        _valid(PATTERNS, "--include", list(include)),
        _valid(PATTERNS, "--exclude", list(exclude)),
        every_default,
    )


def _valid(parser: Parser[T], option: str | None, value: object) -> T:
    """``value`` read by ``parser``; _Invalid, with ``option`` in front, when it cannot be."""
    try:
        return parser.parse(value)
    except ValueError as exc:
        raise _Invalid(f"{option}: {exc}" if option else str(exc)) from None


def _known(store: SourceAdmin, config: Config) -> dict[str, str]:
    """The URLs of the sources there are (the config file's first), by their loose key: a
    URL written another way (``HTTP://``, a host in capitals or in IDNA, a ``#fragment``, a
    trailing slash) is the same source."""
    from watchlist import url_key  # not for --help

    known = {url_key(s.url): s.url for s in store.sources(active_only=False)}
    return known | {url_key(s.url): s.url for s in config.sources}


def _polled(store: SourceAdmin) -> dict[str, str]:
    """The addresses the active sources are polled at (their own, or the feed a home page
    declares, a permanent redirect's target), by loose key, each with its source's URL."""
    from watchlist import url_key  # not for --help

    return {url_key(address): s.url for s in store.sources() for address in (s.url, s.poll_url)}


def _add(
    store: SourceAdmin,
    config: Config,
    spec: SourceSpec,
    known: dict[str, str],
    polled: dict[str, str],
    *,
    update: bool,
) -> _Added:
    """Add ``spec`` as a command-line source, unless the config file defines it (it wins);
    a URL ``known`` (_known) under another spelling is that source, and one ``polled``
    (_polled) is polled already, as is a source removed that another source polls now, or
    whose earlier polls went to an address polled now. ``update`` (``sources add``): also
    update a source added before, and poll again one deactivated because its site said it
    is gone; an import leaves both as they are."""
    from watchlist import url_key

    key = url_key(spec.url)
    if key not in known and (through := polled.get(key)) is not None:
        return _Added("exists", f"already polled: {through} leads to it")
    spec = replace(spec, url=known.setdefault(key, spec.url))
    gone = store.revive_source(spec.url) if update else None
    again = f" (deactivated before: {gone}; polled again)" if gone else ""
    if spec.url in {s.url for s in config.sources}:
        return _Added("config", f"already defined in {config_file(config)}: unchanged{again}")
    existing = store.find_source(spec.url)
    if existing is not None and existing.active and not update:
        return _Added("exists", "already there")
    reason = None
    if existing is not None and not existing.active:  # removed, or gone (HTTP 410)
        reason = next((s.deactivated for s in store.source_status() if s.url == spec.url), None)
    if reason is not None:
        return _Added(
            "deactivated",
            f"deactivated ({reason}): not polled again; `newswatch sources add {spec.url}` "
            "polls it again",
        )
    if existing is not None and not existing.active and (
        through := polled.get(key)
    ) is not None:
        # A feed merged into the page added before it that declares it (an OPML import of
        # both): added again, it said "added" and was merged again by the next command.
        return _Added("exists", f"already polled: {through} leads to it")
    if existing is not None and not existing.active and existing.fetch_url is not None and (
        other := polled.get(url_key(existing.fetch_url))
    ) is not None:
        # A page whose declared feed another source polls, merged into it (or removed, and
        # its feed added since): added again, it said "added" and was merged again at the
        # next crawl, its address kept from its earlier polls.
        return _Added("exists", f"already polled as {other}: polled at {existing.fetch_url}, "
                      "as found by its earlier polls: nothing added")
    source = store.add_source(spec, utcnow())
    verb: Literal["updated", "added"] = (
        "updated" if existing is not None and existing.active and not gone else "added"
    )
    return _Added(verb, f"{verb} {_describe(source)}{again}")


def _describe(source: Source) -> str:
    kind = source.kind or "kind detected"
    name = f" ({source.name})" if source.name else ""
    return f"{source.url}{name}: every {format_duration(source.every_seconds)}, {kind}"


@click.group()
def sources() -> None:
    """List, add, remove, import (OPML) and export (OPML) the sources to poll.

    The config file's sources come first and cannot be changed here; sources added here are
    kept in the database, survive config reloads, and are polled by a running daemon at its
    next tick.
    """


@sources.command("list")
@format_option("table", "json")
@click.pass_context
@handle_errors
def list_(ctx: click.Context, fmt: str) -> None:
    """Show every source: origin, URL, name, kind, interval, health, last success, next poll."""
    config = config_of(ctx)
    with open_to_read(config) as store:
        every = {s.id: s.every_seconds for s in store.sources(active_only=False)}
        rows = [_row(s, every[s.id]) for s in store.source_status()]
    if fmt == "json":
        # The table's display columns are left out: JSON readers get the plain values.
        plain = [
            {k: v for k, v in r.items() if k not in ("kind_detected", "next_poll")} for r in rows
        ]
        click.echo(json.dumps(plain, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no sources: add one with `newswatch sources add URL` or in the config file")
        return
    columns = {
        "ORIGIN": "origin",
        "URL": "url",
        "NAME": "name",
        "KIND": "kind_detected",
        "EVERY": "every",
        "HEALTH": "health",
        "LAST SUCCESS": "last_success",
        "NEXT POLL": "next_poll",
    }
    table = [list(columns)] + [[_cell(row, key) for key in columns.values()] for row in rows]
    echo_table(table)


def _row(status: SourceStatus, every_seconds: int) -> dict[str, Any]:
    """One source for ``sources list``, from its SourceStatus."""
    if status.deactivated and not status.active:
        health = f"deactivated: {status.deactivated}"
    elif status.last_fetch is None:
        health = "not polled"
    elif status.consecutive_failures:
        health = f"failing {status.consecutive_failures}"
    else:
        health = "ok"
    kind = status.kind or (f"auto: {status.detected}" if status.detected else "auto")
    next_due = to_iso(status.next_due)
    return {
        "origin": status.origin,
        "url": status.url,
        "name": status.name,
        "kind": status.kind,
        "detected": status.detected,
        "kind_detected": kind,
        "every_seconds": every_seconds,
        "every": format_duration(every_seconds),
        "health": health,
        "consecutive_failures": status.consecutive_failures,
        "last_error": status.last_error,
        "last_success": to_iso(status.last_success),
        "next_due": next_due if status.active else None,
        "next_poll": (next_due or "next tick") if status.active else "-",
        "articles": status.articles,
    }


def _cell(row: dict[str, Any], key: str) -> str:
    value = row[key]
    if value is None:
        return "-"
    if key in ("last_success", "next_poll") and value not in ("-", "next tick"):
        return when_text(value)
    return str(value)


@sources.command()
@click.argument("url")
@click.option("--every", help='Polling interval, e.g. "10m" or "1h30m" (default: crawl.every).')
@click.option("--name", help="Display name (default: the feed's title).")
@click.option("--kind", help="feed, sitemap or page (default: detected from what the URL serves).")
@click.option(
    "--include", multiple=True, help="URL pattern (* wildcards) article links must match; repeat."
)
@click.option(
    "--exclude", multiple=True, help="URL pattern (* wildcards) that rules a link out; repeat."
)
@click.pass_context
@handle_errors
def add(
    ctx: click.Context,
    url: str,
    every: str | None,
    name: str | None,
    kind: str | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
) -> None:
    """Add a source to poll (or update one added here before).

    A running daemon polls it at its next tick. A URL the config file defines is left as the
    config file says.
    """
    config = config_of(ctx)
    if kind is not None and kind not in SOURCE_KINDS:
        fail(f"--kind: expected one of {', '.join(SOURCE_KINDS)}, got {kind!r}", EXIT_CONFIG)
    try:
        spec = _spec(url, _every(every, config.crawl.every_seconds), name, kind, include, exclude,
                     every_default=every is None)
    except _Invalid as exc:
        fail(str(exc), EXIT_CONFIG)
    with open_synced(config) as store:
        result = _add(store, config, spec, _known(store, config), _polled(store), update=True)
    if result.status == "deactivated":
        fail(f"{spec.url}: {result.message}", EXIT_RUNTIME)
    if result.status == "config":
        click.echo(f"{spec.url}: {result.message} (the config file wins)")
    else:
        click.echo(result.message)


sources.add_command(
    remove_command(
        "source",
        "url",
        "Stop polling a source added with `sources add` or `sources import`.\n\n"
        "Its stored articles are kept, and alert no one from then on. A page merged into the"
        " source polling its feed is removed for good: the topics limited to it no longer"
        " follow that one. Sources of the config file are removed there.",
        in_config=lambda config: {s.url for s in config.sources},
        remove=lambda store, url: (
            f"removed {url} (its stored articles are kept)" if store.remove_source(url) else None
        ),
    )
)


@sources.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--every", help="Polling interval of every imported source (default: crawl.every).")
@click.pass_context
@handle_errors
def import_(ctx: click.Context, file: Path, every: str | None) -> None:
    """Add every feed of an OPML file (1.0 or 2.0; folders are flattened)."""
    from .opml import MAX_BYTES, OpmlError, parse_opml  # lxml: not for --help

    config = config_of(ctx)
    try:
        seconds = _every(every, config.crawl.every_seconds)
    except _Invalid as exc:
        fail(str(exc), EXIT_CONFIG)
    try:
        with file.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        fail(f"{file}: cannot read: {exc.strerror or exc}", EXIT_CONFIG)
    try:
        subscriptions = parse_opml(data)
    except OpmlError as exc:
        fail(f"{file}: {exc}", EXIT_CONFIG)
    if subscriptions.damage:
        click.echo(f"newswatch: {file}: {subscriptions.damage}: read as far as it could be",
                   err=True)
    from watchlist import url_key

    imported, skipped = 0, []
    listed: set[str] = set()  # this file's feeds so far (a repeat was "already there")
    with open_synced(config) as store:
        # Read once: a source imported is polled at its own address, so only ``known``
        # changes, as _add adds to it. Reading every source again for each outline made an
        # import take the square of its size: 20 s for a reader's export of 2,000 feeds.
        known, polled = _known(store, config), _polled(store)
        for outline in subscriptions.outlines:
            try:
                spec = _spec(
                    outline.url,
                    # What --every says, else what the file says (written by a newswatch).
                    _every(outline.every, seconds) if every is None else seconds,
                    outline.name, outline.kind, outline.include, outline.exclude,
                    every_default=every is None and outline.every is None,
                )
            except _Invalid as exc:
                skipped.append(f"{outline.url or '(empty xmlUrl)'}: invalid: {exc}")
                continue
            if (key := url_key(spec.url)) in listed:
                skipped.append(f"{spec.url}: listed twice in {file.name}")
                continue
            listed.add(key)
            result = _add(store, config, spec, known, polled, update=False)
            if result.status == "added":
                imported += 1
            elif result.status == "config":
                skipped.append(f"{spec.url}: already there (in {config_file(config)})")
            else:
                skipped.append(f"{spec.url}: {result.message}")
    skipped += [f"{page}: a web page, not a feed (htmlUrl only): `sources add {page} "
                "--kind page` watches it" for page in subscriptions.pages]
    click.echo(f"imported {imported}, skipped {len(skipped)}")
    for line in skipped:
        click.echo(f"  skipped {line}")


@sources.command("export")
@output_option
@click.pass_context
@handle_errors
def export_(ctx: click.Context, output: Path | None) -> None:
    """Write every active source (config file and command line) as OPML 2.0, each at the
    address newswatch polls (a feed's new one after a permanent redirect)."""
    from w3lib.url import safe_url_string

    from .opml import Outline, render_opml

    config = config_of(ctx)
    with open_to_read(config) as store:
        # The address polled: where a feed moved for good (a 301), or the feed a home page
        # declares (the address as added answered 404 elsewhere, or a web page); written as
        # it is requested, in ASCII, as readers that take only a URI read it (NetNewsWire
        # left out a feed at "bücher.example", or with a space in its path).
        outlines = [
            Outline(safe_url_string(s.poll_url), s.name,
                    None if s.every_default else format_duration(s.every_seconds),
                    s.kind, s.include, s.exclude)
            for s in store.sources()
        ]
    document = render_opml(outlines, utcnow(), "newswatch sources")
    if output is None:
        click.get_binary_stream("stdout").write(document)
        return
    with output_file(output) as fh:
        fh.write(document)
    click.echo(f"exported {len(outlines)} source(s) to {output}")
