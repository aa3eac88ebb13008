"""``newswatch stories``: recent stories (near-duplicate articles grouped) and their sources."""

from __future__ import annotations

import json
from datetime import timedelta

import click

from storage import utcnow

from .common import (
    config_of,
    first_names,
    handle_errors,
    open_existing,
    plain,
    since_seconds,
    when_text,
)

#: Sources a story's text lines name, who had it first first; the others are counted (all
#: of them in --json): a wire story carried by 41 sources printed 41 names on one line, one
#: of 200 a line of thousands of characters in a terminal or a log. Eight names of a
#: typical length ("Reuters - World") keep the line within two rows of a terminal and still
#: show who had it first and the next outlets to run it.
SOURCES_SHOWN = 8


@click.command()
@click.option(
    "--since",
    default="2d",
    show_default=True,
    help="Only stories that started this recently, e.g. 12h or 7d.",
)
@click.option("--several", is_flag=True, help="Only stories carried by two or more sources.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output for scripts.")
@click.pass_context
@handle_errors
def stories(ctx: click.Context, since: str, several: bool, as_json: bool) -> None:
    """List recent stories, newest first: each with its first headline, the sources that
    carried it (syndicated copies, the same text under another headline: the first 8 named,
    the others counted; --json lists them all) and the topics that alerted for it — once
    per story."""
    config = config_of(ctx)
    seconds = since_seconds(since)
    with open_existing(config) as store:
        found = store.recent_stories(
            utcnow() - timedelta(seconds=seconds), min_sources=2 if several else 1
        )
    if as_json:
        click.echo(json.dumps(plain(found), indent=2, ensure_ascii=False))
        return
    for story in found:
        sources = list(dict.fromkeys(a.source for a in story.articles))
        click.echo(f"#{story.id} {story.title or '(untitled)'}")
        click.echo(
            f"    started {when_text(story.started)}; {len(story.articles)} article(s) on "
            f"{len(sources)} source(s): {first_names(sources, SOURCES_SHOWN)}"
        )
        first = story.articles[0] if story.articles else None
        if first is not None and first.published is not None and len(sources) > 1:
            click.echo(f"    first published by {first.source}, {when_text(first.published)}")
        if story.alerted:
            click.echo(f"    alerted: {', '.join(story.alerted)}")
        click.echo(f"    {story.url}")
    click.echo(f"{len(found)} stor{'y' if len(found) == 1 else 'ies'}")
