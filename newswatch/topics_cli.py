"""``newswatch topics``: list, add, remove and test the topics of the watchlist.

Like ``newswatch sources``, the config file is the declarative source of truth and these
commands add topics to the database beside it (origin "cli"); every command that reads or
writes topics first syncs the config file's topics, so a name in both is a config topic. They
take no instance lock: they run while the daemon runs, which matches new articles against a
topic added here from its next cycle on.

newswatch.cli registers this group.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import click

import alerts
import storage
from storage import to_iso, utcnow

from .common import (
    EXIT_CONFIG,
    EXIT_RUNTIME,
    QueryCommand,
    config_file,
    config_of,
    echo_table,
    fail,
    first_names,
    format_option,
    handle_errors,
    limit_option,
    nameable_sources,
    no_database,
    open_existing,
    open_synced,
    open_to_read,
    remove_command,
    since_seconds,
    warn_unknown_sources,
)
from .search import (
    compile_or_fail,
    count_line,
    echo_found,
    find,
    query_topic,
)
from .settings import LISTS
from .units import format_duration
from .values import MODE, NAME, RECIPIENTS, SOURCES, Parser, name_key

if TYPE_CHECKING:
    from .config import Config

T = TypeVar("T")


@click.group()
def topics() -> None:
    """List, add, remove and try out topics (what to watch for).

    Topics of the config file come first and cannot be changed here; topics added here are
    kept in the database, survive config reloads, and a running daemon matches new articles
    against them from its next cycle.

    \b
    Query syntax:
      Maduro                  the word (whole word; case and accents ignored)
      "Nicolás Maduro"        the phrase
      Maduro Belarus          both words (same as Maduro AND Belarus)
      Maduro OR Guaidó        either word
      Maduro NOT Trump        Maduro but not Trump (also: Maduro -Trump)
      Maduro (Belarus OR Minsk)   parentheses group; NOT binds tightest, then AND, then OR
      sanction*               words starting with "sanction"
      NEAR(Maduro Minsk, 5)   both within 5 words of each other (default 10)
      title:Maduro            only in the headline; source:reuters only from that source
      =US                     exactly this case (not "us"); accents are still ignored
    """


def _options(row: dict[str, Any]) -> str:
    """A topic's options in a few words, for the table."""
    parts = []
    if row["sources"]:
        parts.append("sources: " + ", ".join(row["sources"]))
    if row["exclude"]:
        parts.append(f"exclude: {row['exclude']}")
    if row["mode"] != "immediate":
        parts.append(f"mode: {row['mode']}")
    return "; ".join(parts) or "-"


@topics.command("list")
@format_option("table", "json")
@click.pass_context
@handle_errors
def list_(ctx: click.Context, fmt: str) -> None:
    """Show every topic: origin, name, query, recipients, options and match counts."""
    config = config_of(ctx)
    with open_to_read(config) as store:
        rows: list[dict[str, Any]] = [
            {
                "origin": t.origin,
                "name": t.name,
                "query": t.query,
                "notify": [alerts.redact(n) for n in t.notify],
                "sources": list(t.sources),
                "exclude": t.exclude,
                "mode": t.mode,
                "matches": t.matches,
                "alerted": t.alerted,
                "last_match": to_iso(t.last_match),
            }
            for t in store.topic_status()
        ]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no topics: add one with `newswatch topics add NAME QUERY --notify ADDR`")
        return
    header = ["ORIGIN", "NAME", "QUERY", "NOTIFY", "OPTIONS", "MATCHES", "ALERTED"]
    table = [header] + [
        [
            r["origin"],
            r["name"],
            r["query"],
            first_names(r["notify"], SHOWN_RECIPIENTS),
            _options(r),
            str(r["matches"]),
            str(r["alerted"]),
        ]
        for r in rows
    ]
    echo_table(table)


#: Recipients a topic's row of `topics list` names; the rest are counted (all of them in
#: --format json): a topic of nine padded every row of a desk's 300 topics to 480 columns.
SHOWN_RECIPIENTS = 2


def _checked(parser: Parser[T], label: str, value: object) -> T:
    """A value checked as the config file checks it; exit 2 with one line otherwise."""
    try:
        return parser.parse(value)
    except ValueError as exc:
        fail(f"{label}: {exc}", EXIT_CONFIG)


def _refuse_lookalike(label: str, name: str, config: Config, stored: Iterable[str]) -> None:
    """Exit 2 when ``name`` looks like another topic's name (case and spaces aside: see
    name_key), of the config file or ``stored``: `topics add "maduro  exit"` beside "Maduro
    exit" made a second topic that `topics list` and the emails showed as the first."""
    key = name_key(name)
    for other in (t.name for t in config.topics):
        if other != name and name_key(other) == key:
            fail(f"{label}: {name!r} looks the same as the topic {other!r} of "
                 f"{config_file(config)} (names differing only in case or spaces are one name)",
                 EXIT_CONFIG)
    for other in stored:
        if other != name and name_key(other) == key:
            fail(f"{label}: {name!r} looks the same as the topic {other!r} (names differing "
                 "only in case or spaces are one name): `topics add` under that name updates it",
                 EXIT_CONFIG)


@topics.command(cls=QueryCommand)
@click.argument("name")
@click.argument("query")
@click.option(
    "--notify", multiple=True, required=True,
    help="Email address, or notification URL (ntfy://, slack://…: Apprise), to alert; repeat "
    "for several.",
)
@click.option(
    "--source",
    "sources",
    multiple=True,
    help="Only articles of this source (name, URL or host); repeat. Default: every source.",
)
@click.option("--exclude", help="A query: articles that match it never alert for this topic.")
@click.option(
    "--mode",
    default=LISTS["topics"]["mode"].default,
    show_default=True,
    help="immediate (an email each crawl cycle) or digest (at the [alerts] digest times).",
)
@click.pass_context
@handle_errors
def add(
    ctx: click.Context,
    name: str,
    query: str,
    notify: tuple[str, ...],
    sources: tuple[str, ...],
    exclude: str | None,
    mode: str,
) -> None:
    """Add a topic (or update one added here before).

    A running daemon matches the articles it stores from now on against it. A name the config
    file defines is left as the config file says.
    """
    config = config_of(ctx)
    name = _checked(NAME, "NAME", name).strip()
    if not name:
        fail("NAME: must not be empty", EXIT_CONFIG)
    compiled = compile_or_fail("QUERY", query)
    exclude_compiled = compile_or_fail("--exclude", exclude) if exclude is not None else None
    spec = storage.TopicSpec(
        name,
        query,
        compiled,
        _checked(RECIPIENTS, "--notify", list(notify)),
        sources=_checked(SOURCES, "--source", list(sources)) if sources else (),
        exclude=exclude,
        exclude_compiled=exclude_compiled,
        mode=_checked(MODE, "--mode", mode),
    )
    if name in {t.name for t in config.topics}:
        click.echo(
            f"{name}: already defined in {config_file(config)}: unchanged (the config file wins)"
        )
        return
    with open_synced(config) as store:
        _refuse_lookalike("NAME", name, config, (t.name for t in store.topics()))
        existing = store.find_topic(name)
        topic = store.add_topic(spec)
        warn_unknown_sources("--source", topic.sources, nameable_sources(store),
                             store.publishers())
    verb = "updated" if existing is not None else "added"
    options = f"; sources: {', '.join(topic.sources)}" if topic.sources else ""
    options += f"; exclude: {topic.exclude}" if topic.exclude else ""
    options += f"; mode: {topic.mode}" if topic.mode != "immediate" else ""
    notified = ", ".join(map(alerts.redact, topic.notify))
    query = " ".join(topic.query.split())  # one line, however the query was written
    click.echo(f"{verb} topic {topic.name}: {query} → {notified}{options}")


topics.add_command(
    remove_command(
        "topic",
        "name",
        "Stop watching a topic added with `topics add`.\n\n"
        "Its earlier matches are kept; its alerts still waiting (for a digest, or for the "
        "mail server) are dropped. Topics of the config file are removed there.",
        in_config=lambda config: {t.name for t in config.topics},
        remove=lambda store, name: _removed(name, store.remove_topic(name)),
    )
)


def _removed(name: str, waiting: int | None) -> str | None:
    """``topics remove``'s line: the topic removed, and its alerts still waiting (for a
    digest, or for the mail server) that are dropped with it, if any."""
    if waiting is None:
        return None
    dropped = f"; its {waiting} alert(s) waiting to be sent are dropped" if waiting else ""
    return f"removed topic {name} (its earlier matches are kept{dropped})"


@topics.command()
@click.argument("name")
@click.argument("new_name", metavar="NEW_NAME")
@click.pass_context
@handle_errors
def rename(ctx: click.Context, name: str, new_name: str) -> None:
    """Rename a topic added with `topics add`, its alerts kept.

    The stories it alerted for do not alert again under the new name, and its alerts waiting
    for a digest stay queued (`topics add` under the new name and `topics remove` of the
    old one make a new topic instead). A config file's topic is renamed there: under its
    query, a new name is the same topic.
    """
    config = config_of(ctx)
    name = name.strip()
    new_name = _checked(NAME, "NEW_NAME", new_name).strip()
    if not new_name:
        fail("NEW_NAME: must not be empty", EXIT_CONFIG)
    defined = {t.name for t in config.topics}
    if name in defined:
        fail(f"{name}: defined in {config_file(config)}: rename it there (the same query "
             "under a new name is the same topic)", EXIT_CONFIG)
    if new_name in defined:
        fail(f"{new_name}: defined in {config_file(config)}", EXIT_CONFIG)
    if no_database(config):  # nothing added here yet (see remove_command)
        fail(f"{name}: no such topic (see `newswatch topics list`)", EXIT_RUNTIME)
    with open_synced(config) as store:
        # The topic itself in another case ("oil" to "Oil") is renamed.
        _refuse_lookalike("NEW_NAME", new_name, config,
                          (t.name for t in store.topics() if t.name != name))
        problem = store.rename_topic(name, new_name)
    if problem is not None:
        fail(f"{name}: {problem} (see `newswatch topics list`)"
             if problem == "no such topic" else f"{new_name}: {problem}", EXIT_RUNTIME)
    click.echo(f"renamed topic {name} to {new_name} (its alerts kept)")


@topics.command("test", cls=QueryCommand)
@click.argument("query")
@click.option(
    "--since",
    default="30d",
    show_default=True,
    help="Only articles published (undated: fetched) this recently, e.g. 7d or 12h.",
)
@limit_option
@click.option("--source", "sources", multiple=True, help="As topics add --source; repeat.")
@click.option("--exclude", help="As topics add --exclude.")
@click.pass_context
@handle_errors
def test(
    ctx: click.Context,
    query: str,
    since: str,
    limit: int,
    sources: tuple[str, ...],
    exclude: str | None,
) -> None:
    """Show which stored articles QUERY would have matched, newest first.

    Each with its date, source, title and a snippet with the matched words highlighted: tune a
    topic here before adding it, without waiting for news.
    """
    config = config_of(ctx)
    compiled = compile_or_fail("query", query)
    exclude_compiled = compile_or_fail("--exclude", exclude) if exclude is not None else None
    seconds = since_seconds(since)
    topic = query_topic(
        query,
        compiled,
        _checked(SOURCES, "--source", list(sources)) if sources else (),
        exclude,
        exclude_compiled,
    )
    now = utcnow()
    with open_existing(config) as store:
        # A typo there finds nothing, which says nothing of why (as topics add warns). The
        # archive keeps a removed source's articles: its name finds them.
        warn_unknown_sources("--source", topic.sources, [
            *((s.name, s.url) for s in config.sources),
            *((s.name, s.url) for s in store.sources(active_only=False)),
        ], store.publishers(), "nothing of it is found")
        found, more = find(
            store, topic, since=now - timedelta(seconds=seconds), limit=limit, now=now
        )
    echo_found(found)
    click.echo(
        count_line(found, more, limit, f"of the last {format_duration(max(round(seconds), 1))}")
    )
