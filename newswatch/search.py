"""``newswatch search``, and the archive look-up it shares with ``newswatch topics test``.

Candidates come from the archive's FTS5 index; the watchlist engine then gives the verdict
and the spans, exactly as it does for alerts, so what is shown here is what would alert.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import click

import storage
from storage import to_iso, utcnow

from .common import (
    EXIT_CONFIG,
    QueryCommand,
    config_of,
    fail,
    format_option,
    handle_errors,
    limit_option,
    open_existing,
    when_text,
)
from .units import OutOfRange, parse_duration

if TYPE_CHECKING:
    from storage import Archive, StoredArticle, Topic
    from watchlist import Highlighted, QueryError

PAGE = 200  # candidates verified per round
SYNTAX_HINT = "see `newswatch topics --help` for the query syntax"

Segments = tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class Found:
    """An archived article a query matches, with its title and a snippet marked up."""

    article: StoredArticle
    marked: Highlighted
    terms: tuple[str, ...]


def query_problem(label: str, query: str, exc: QueryError) -> str:
    """One line for a wrong query: what is wrong, at which column, and a hint."""
    column = getattr(exc, "column", 0)
    # A line break in the query (a TOML multi-line string) is white space: one line here.
    context = " ".join(query[column - 1 : column + 23].split()) if column > 0 else ""
    where = f' (here: "{context}{"…" if column + 23 < len(query) else ""}")' if context else ""
    return f"{label}: {exc}{where}; {SYNTAX_HINT}"


def compile_or_fail(label: str, query: str) -> str:
    """The FTS5 form of ``query``; exit 2 with one line when it is invalid."""
    from watchlist import QueryError, compile_query  # the query language: not for --help

    try:
        return compile_query(query)
    except QueryError as exc:
        fail(query_problem(label, query, exc), EXIT_CONFIG)


def find(
    store: Archive,
    topic: Topic,
    *,
    since: datetime | None,
    limit: int,
    now: datetime,
    until: datetime | None = None,
) -> tuple[list[Found], bool]:
    """The ``limit`` newest archived articles ``topic`` matches, and whether more match:
    the verdict the daemon gives (watchlist.verdict), its options included."""
    from watchlist import follow_merges, highlight, topic_matches
    from watchlist.match import fts_expression

    # Limited to a source merged into another, it follows that one, as the daemon's does.
    [topic] = follow_merges([topic], store.merged_sources())
    found: list[Found] = []
    offset = 0
    while len(found) <= limit:
        batch = store.search(fts_expression(topic.query), since, PAGE, offset, until)
        offset += len(batch)
        # The look-back only decides which matches alert; every match is shown here.
        matches = topic_matches(batch, [topic], now=now, lookback=timedelta(0))
        by_article = {m.article_id: m for m in matches}
        for article in batch:  # newest first, as the archive gave them
            if (m := by_article.get(article.id)) is not None:
                found.append(Found(article, highlight(article, [m]), m.terms))
        if len(batch) < PAGE:
            break
    return found[:limit], len(found) > limit


def marker(fmt_bold: bool) -> Callable[[str], str]:
    """How a hit is shown: bold and underlined on a terminal, ``*word*`` otherwise."""
    if fmt_bold:
        return lambda text: click.style(text, bold=True, underline=True)
    return lambda text: f"*{text}*"


def use_styles() -> bool:
    """Whether standard output is a terminal that wants styles (NO_COLOR unset)."""
    return click.get_text_stream("stdout").isatty() and not os.environ.get("NO_COLOR")


def render(segments: Segments, mark: Callable[[str], str]) -> str:
    """Segments as text, hits marked."""
    return "".join(mark(text) if hit else text for text, hit in segments)


def echo_found(items: Sequence[Found]) -> None:
    """Each article: date, source, title (hits marked), snippet, URL; a blank line apart."""
    mark = marker(use_styles())
    for item in items:
        a = item.article
        when = a.published or a.fetched
        date = when_text(when) + ("" if a.published else " (fetched)")
        title = render(item.marked.title, mark) if item.marked.title else a.title
        click.echo(f"{date}  {a.source_name}")
        click.echo(f"  {title or '(no title)'}")
        if item.marked.snippet:
            click.echo(f"  {render(item.marked.snippet, mark)}")
        click.echo(f"  {a.url}")
        click.echo()


def json_line(item: Found) -> str:
    """One article as a JSON line: url, title, published, source, snippet and its hits."""
    snippet, hits, position = "", [], 0
    for text, hit in item.marked.snippet:
        if hit:
            hits.append([position, position + len(text)])
        snippet += text
        position += len(text)
    a = item.article
    row = {
        "url": a.url,
        "title": a.title,
        "published": to_iso(a.published),
        "source": a.source_name,
        "snippet": snippet,
        "snippet_hits": hits,
        "terms": list(item.terms),
    }
    return json.dumps(row, ensure_ascii=False)


def query_topic(
    query: str,
    compiled: str,
    sources: tuple[str, ...] = (),
    exclude: str | None = None,
    exclude_compiled: str | None = None,
) -> Topic:
    """A throwaway topic for a query tried on the command line."""
    return storage.Topic(
        id=0,
        name="query",
        query=query,
        compiled=compiled,
        notify=(),
        sources=sources,
        exclude=exclude,
        exclude_compiled=exclude_compiled,
    )


@click.command(cls=QueryCommand)
@click.argument("query")
@limit_option
@format_option(
    "text",
    "jsonl",
    help="text: for reading (hits highlighted); jsonl: url, title, published, source, "
    "snippet, snippet_hits (the highlights' offsets in it), terms.",
)
@click.option("--since", help="Only articles published from then: a date (2026-12-01, "
              "2026-12-01T08:00, UTC) or how long ago (7d).")
@click.option("--until", help="Only articles published before then: a date or how long ago.")
@click.pass_context
@handle_errors
def search(ctx: click.Context, query: str, limit: int, fmt: str, since: str | None,
           until: str | None) -> None:
    """Search the whole archive with a topic query, newest first.

    The query language is the topics' (see `newswatch topics --help`); matched words are
    highlighted in the title and in a snippet of the article text.
    """
    config = config_of(ctx)
    compiled = compile_or_fail("query", query)
    now = utcnow()
    start = _moment("--since", since, now)
    end = _moment("--until", until, now)
    with open_existing(config) as store:
        found, more = find(
            store, query_topic(query, compiled), since=start, limit=limit, now=now, until=end
        )
    if fmt == "jsonl":
        for item in found:
            click.echo(json_line(item))
        if more:  # said where a script's reader sees it, not in its data (it stopped silently)
            click.echo(f"newswatch: {count_line(found, more, limit, 'in the archive')}", err=True)
        return
    echo_found(found)
    click.echo(count_line(found, more, limit, "in the archive"))


def _moment(option: str, value: str | None, now: datetime) -> datetime | None:
    """A --since or --until: a date or date and time (UTC unless it says another offset),
    or how long before ``now``; exit 2 with one line when it is neither."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        try:
            return now - timedelta(seconds=parse_duration(value))
        except OutOfRange as exc:  # "0s", "99999d": a duration, said why it is refused
            fail(f"{option}: {exc}", EXIT_CONFIG)
        except ValueError:
            fail(f"{option}: {value!r} is neither a date (2026-12-01, 2026-12-01T08:00) nor "
                 "a duration (7d, 12h)", EXIT_CONFIG)
    try:  # in UTC, as the archive's dates are: an offset may take it past year 1 or 9999
        return (when if when.tzinfo is not None else when.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        fail(f"{option}: {value!r} is out of range (dates run from year 1 to 9999)", EXIT_CONFIG)


def count_line(found: Sequence[Found], more: bool, limit: int, scope: str) -> str:
    """The closing line: how many articles matched, and whether --limit cut the list."""
    if more:
        return f"showing the {limit} newest matching article(s) {scope}; more match (raise --limit)"
    return f"{len(found)} matching article(s) {scope}"
