"""Site chrome learned from a site's own pages, end to end: `newswatch crawl` against local news
sites whose article pages repeat a disclaimer (or a whole old-style layout) on every page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from newssite import STORIES_BY_SLUG, NewsSite, Story

#: A note the site appends to every article body; its topic word is in no story.
DISCLAIMER = (
    "Editor's note: our coverage of the Fjordline pipeline is supported by a grant from the "
    "Northgate Energy Trust, which has no say over what we publish."
)
FJORDLINE = {"name": "Fjordline", "query": "Fjordline", "notify": ["energy@test.example"]}
NEUTRAL = ("central-bank-holds-rates", "city-late-winner", "harbour-wind-farm-approved")


def fresh(slug: str, hours_ago: float = 1) -> Story:
    """A canned story, published recently."""
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours_ago)
    return replace(STORIES_BY_SLUG[slug], published=when)


def export(workdir) -> dict[str, dict]:
    result = workdir.newswatch("export", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    return {row["url"]: row for row in rows}


def crawl(workdir) -> str:
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    return result.stdout


def quoting_story() -> Story:
    """A story whose body quotes the site's disclaimer inside one of its paragraphs."""
    story = fresh("harbour-wind-farm-approved", hours_ago=0.5)
    quote = (
        "At Monday's hearing the trust's director read out the paper's own words — "
        f"{DISCLAIMER} — and said the grant had ended in October."
    )
    return replace(story, slug="trust-director-questions-grant",
                   title="Trust director questions newspaper grant",
                   body=[*story.body[:2], quote, *story.body[2:]])


def test_a_disclaimer_on_every_page_alerts_nobody_from_the_first_poll_on(
    site: NewsSite, mail, workdir
) -> None:
    site.disclaimer = DISCLAIMER
    for slug in NEUTRAL:
        site.publish(fresh(slug))
    quoting = quoting_story()
    site.publish(quoting)
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[FJORDLINE], smtp=mail)

    output = crawl(workdir)
    assert "4 new article(s)" in output and "delivered 1 email(s)" in output
    [message] = mail.wait_for(1)
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    # Only the article that quotes the note in its own words alerts, its quote highlighted.
    assert site.article_url(quoting.slug) in text
    assert "*Fjordline*" in text and "Fjordline</strong>" in html
    assert "read out the paper's own words" in " ".join(text.split())

    articles = export(workdir)
    for slug in NEUTRAL:
        row = articles[site.article_url(slug)]
        assert "Fjordline" not in row["text"] and "Editor's note" not in row["text"]
        assert STORIES_BY_SLUG[slug].body[0][:60] in row["text"]
        assert row["topics"] == [] and "site template removed" in row["extraction_note"]
    quoted = articles[site.article_url(quoting.slug)]
    assert quoted["topics"] == ["Fjordline"]
    assert quoted["text"].count("Fjordline") == 1  # the quote stays, the note itself went

    # A restart (a new process): the memory is in the database; a new article of the site,
    # fetched on its own, loses the note too and alerts nobody.
    site.publish(fresh("zelensky-grain-corridor", hours_ago=0.2))
    output = crawl(workdir)
    assert "1 new article(s)" in output and "delivered 0 email(s)" in output
    row = export(workdir)[site.article_url("zelensky-grain-corridor")]
    assert "Fjordline" not in row["text"] and row["topics"] == []
    assert len(mail.messages) == 1


#: Three newsrooms, each on its own host, with its own chrome.
NEWSROOMS = {
    "herald": ("The Northgate Herald", "article.html", "herald.localhost"),
    "wire": ("The Caribbean Wire", "article-blog.html", "caribbeanwire.localhost"),
    "andes": ("Andes Hoy", "article-portal.html", "andeshoy.localhost"),
}


@pytest.fixture
def newsrooms() -> Iterator[dict[str, NewsSite]]:
    """The NEWSROOMS' sites, serving at once on 127.0.0.1 under their own host names."""
    with ExitStack() as stack:
        sites = {}
        for key, (publication, chrome, domain) in NEWSROOMS.items():
            site = NewsSite(publication, chrome=chrome)
            site.domain = domain
            sites[key] = stack.enter_context(site)
        yield sites


def test_a_wire_story_on_three_sites_keeps_its_text_on_each(newsrooms, mail, workdir) -> None:
    """The wire story's paragraphs stand on three sites, once on each: no site's memory
    takes them for its template; each site's own note (on all its pages) goes."""
    wire = replace(fresh("venezuela-opposition-leader"), slug="wire-story")
    topic = {"name": "Marcano", "query": "Marcano", "notify": ["desk@test.example"]}
    for site in newsrooms.values():
        site.disclaimer = f"{site.publication} is funded by its readers."
        site.publish(wire)
        for slug in NEUTRAL[:2]:
            site.publish(fresh(slug, hours_ago=2))
    workdir.write_config(
        sources=[site.url("/feeds/world.rss") for site in newsrooms.values()],
        topics=[topic], smtp=mail,
    )
    output = crawl(workdir)
    assert "9 new article(s)" in output and "delivered 1 email(s)" in output
    articles = export(workdir)
    for key, site in newsrooms.items():
        row = articles[site.article_url("wire-story")]
        for paragraph in wire.body:
            assert paragraph[:60] in row["text"], key
        assert row["topics"] == ["Marcano"]  # matched on each site's text
        assert "funded by its readers" not in row["text"]
    # One story: one email, naming the other two sites.
    [message] = mail.wait_for(1)
    assert "Also on" in message.get_body(preferencelist=("plain",)).get_content()


#: Words of the old layout's navigation and "also in the news" line, in none of its bodies.
CHROME_TRAP = {
    "name": "Chrome trap",
    "query": "Belarus OR earthquake OR Zelensky",
    "notify": ["trap@test.example"],
}
MADURO = {"name": "Maduro", "query": "Maduro", "notify": ["desk@test.example"]}


def test_an_old_table_layout_is_read_whole_and_its_navigation_learned(mail, workdir) -> None:
    """Pages of 2007 (a table layout, paragraphs broken by <br>) that trafilatura's precision
    mode discards: the cascade reads them with the default pass, which keeps the navigation
    too; the site's memory removes it, so its words alert nobody."""
    with NewsSite("Northgate Evening Post", chrome="article-table.html") as site:
        for slug in NEUTRAL:
            site.publish(fresh(slug))
        site.publish(fresh("venezuela-opposition-leader"))
        workdir.write_config(
            sources=[site.url("/feeds/world.rss")], topics=[MADURO, CHROME_TRAP], smtp=mail
        )
        output = crawl(workdir)
        assert "4 new article(s)" in output and "delivered 1 email(s)" in output
        [message] = mail.wait_for(1)
        assert message["To"] == "desk@test.example"
        for url, row in export(workdir).items():
            assert row["extraction"] == "page:default", url
            slug = url.rsplit("/", 1)[-1]
            for paragraph in STORIES_BY_SLUG[slug].body:
                assert paragraph[:60] in row["text"], slug
            assert "Belarus" not in row["text"] and "Also in the news" not in row["text"]
