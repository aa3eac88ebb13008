"""Topics as users manage and tune them: per-topic options (sources, exclude, mode) in effect
during a crawl, `newswatch topics add|list|remove` beside the config file, `topics test` and
`search` over the archive, and one-line errors for wrong queries."""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import click
from conftest import Workdir
from newssite import STORIES_BY_SLUG, Story

import newswatch.cli  # noqa: F401  (first: newswatch.search builds on it)
from newswatch.search import marker

DESK = "desk@test.example"


def fresh(slug: str, hours_ago: float = 1) -> Story:
    """A canned story, published ``hours_ago`` hours ago."""
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours_ago)
    return replace(STORIES_BY_SLUG[slug], published=when)


def ok(result) -> str:
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result.stdout


def error(result, code: int) -> str:
    """The one line a failing command prints, after checking its exit code."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("newswatch: ")
    return lines[0]


def listed(workdir: Workdir) -> dict[str, dict]:
    """``topics list --format json``, by name."""
    rows = json.loads(ok(workdir.newswatch("topics", "list", "--format", "json")))
    return {row["name"]: row for row in rows}


def exported_topics(workdir: Workdir, site) -> dict[str, list[str]]:
    """The topics each stored article matched, by slug."""
    rows = [json.loads(line) for line in ok(workdir.newswatch("export")).splitlines()]
    return {row["url"].rsplit("/", 1)[1]: row["topics"] for row in rows}


# -- options in effect ------------------------------------------------------------------------


def test_sources_and_exclude_options_apply_during_a_crawl(site, mail, workdir):
    site.create_feed("business")
    site.publish(fresh("venezuela-opposition-leader"))
    site.publish(fresh("maduro-abandona-venezuela"))  # mentions Minsk
    site.publish(fresh("central-bank-holds-rates"), feed="business")
    world, business = site.url("/feeds/world.rss"), site.url("/feeds/business.rss")
    workdir.write_config(
        sources=[{"url": world, "name": "World desk"}, {"url": business, "name": "Business desk"}],
        topics=[
            {"name": "Maduro", "query": "Maduro", "notify": [DESK], "exclude": "Minsk OR Belarus"},
            {
                "name": "Markets",
                "query": "rates OR Maduro",
                "notify": ["biz@test.example"],
                "sources": ["business desk"],  # a source name, in any case
            },
            {
                "name": "World feed",
                "query": "Maduro",
                "notify": ["world@test.example"],
                "sources": [world + "/"],  # a source URL
                "mode": "immediate",
            },
            {
                "name": "Other host",
                "query": "Maduro OR rates",
                "notify": ["nobody@test.example"],
                "sources": ["reuters.com"],  # a host: none of the site's articles
            },
        ],
        smtp=mail,
    )
    out = ok(workdir.newswatch("crawl"))
    assert "3 new article(s)" in out
    messages = {m["To"]: m for m in mail.wait_for(3)}
    assert set(messages) == {DESK, "biz@test.example", "world@test.example"}

    topics = exported_topics(workdir, site)
    assert topics["venezuela-opposition-leader"] == ["Maduro", "World feed"]
    assert topics["maduro-abandona-venezuela"] == ["World feed"]  # excluded from "Maduro"
    assert topics["central-bank-holds-rates"] == ["Markets"]  # "Markets": business only
    desk = messages[DESK].get_body(preferencelist=("plain",)).get_content()
    assert "Caracas" in desk and "Minsk" not in desk

    rows = listed(workdir)
    assert rows["Maduro"]["exclude"] == "Minsk OR Belarus"
    assert rows["Markets"]["sources"] == ["business desk"]
    assert (rows["Other host"]["matches"], rows["World feed"]["matches"]) == (0, 2)
    assert {row["mode"] for row in rows.values()} == {"immediate"}


def main_and_section_feeds(site) -> tuple[Story, str]:
    """A story in the site's main feed (world), and its section feed's URL (empty yet)."""
    site.create_feed("politics")
    story = fresh("venezuela-opposition-leader")
    site.publish(story)
    return story, site.url("/feeds/politics.rss")


def write_herald_config(workdir: Workdir, site, politics: str, mail, topics: list[dict],
                        more: tuple[dict, ...] = ()) -> None:
    """A config of the site's main feed ("Herald") and its section feed ("Herald Politics"),
    and the ``more`` sources."""
    workdir.write_config(
        sources=[{"url": site.url("/feeds/world.rss"), "name": "Herald"},
                 {"url": politics, "name": "Herald Politics"}, *more],
        topics=topics,
        smtp=mail,
    )


def test_a_topic_of_a_source_that_lists_a_story_after_another_alerts_for_it(site, mail,
                                                                           workdir):
    # A site's main feed lists a story first, its section feed at the next poll: stored
    # once, under the main feed, the story never alerted the topics limited to the section
    # (by name, by URL, or with source: in the query), and nothing said why.
    story, politics = main_and_section_feeds(site)
    write_herald_config(workdir, site, politics, mail, [
        {"name": "Maduro", "query": "Maduro", "notify": [DESK]},
        {"name": "Politics desk", "query": "Maduro", "notify": ["pol@test.example"],
         "sources": ["Herald Politics"]},
        {"name": "Politics feed", "query": "Maduro", "notify": ["feed@test.example"],
         "sources": [politics]},
        {"name": "Politics field", "query": "Maduro source:Politics",
         "notify": ["field@test.example"]},
    ])
    assert "1 new article(s)" in ok(workdir.newswatch("crawl"))
    assert [m["To"] for m in mail.wait_for(1)] == [DESK]
    site.publish(story, feed="politics")
    out = ok(workdir.newswatch("crawl"))
    assert "0 new article(s)" in out and "3 email(s) queued" in out, out
    later = {m["To"] for m in mail.wait_for(4)[1:]}
    assert later == {"pol@test.example", "feed@test.example", "field@test.example"}
    assert exported_topics(workdir, site)["venezuela-opposition-leader"] == [
        "Maduro", "Politics desk", "Politics feed", "Politics field"]
    # Tried before it was saved, such a topic shows the story it alerted for.
    for argv in (("topics", "test", "Maduro", "--source", "Herald Politics"),
                 ("topics", "test", "Maduro source:Politics"),
                 ("search", "Maduro source:Politics")):
        assert "1 matching article(s)" in ok(workdir.newswatch(*argv)), argv
    # Listed by both at the next polls: nothing more.
    site.publish(fresh("central-bank-holds-rates"))
    ok(workdir.newswatch("crawl"))
    time.sleep(0.5)
    assert len(mail.messages) == 4


def only_the_section_alerts(site, mail, workdir: Workdir, story: Story, main: str,
                            section: tuple[str, str] = ("Herald Politics", "politics"),
                            listed: tuple[str, ...] = ()) -> None:
    """Topics on "Maduro" added now, of every source ("Any"), of the ``main`` feed that
    stored ``story``, of the sources that ``listed`` it since, and of the ``section`` feed
    (its name and the site's feed), which then lists it: the section's alone alerts (none
    reaches back to the story)."""
    for name, *sources in (("Any", ), ("Main feed", main),
                           *((f"Listed by {s}", s) for s in listed), ("Section", section[0])):
        ok(workdir.newswatch("topics", "add", name, "Maduro", "--notify",
                             f"{name.split()[0].lower()}@test.example",
                             *(arg for s in sources for arg in ("--source", s))))
    site.publish(story, feed=section[1])
    assert "0 new article(s)" in ok(workdir.newswatch("crawl"))
    assert [m["To"] for m in mail.wait_for(1)] == ["section@test.example"]
    time.sleep(0.5)
    assert len(mail.messages) == 1


def test_a_topic_added_later_does_not_reach_back_when_another_source_lists_a_story(
    site, mail, workdir
):
    # A story matched before these topics existed, listed then by the site's section feed:
    # the topics of every source, or of the source that stored it, alerted for it (a new
    # user adding a section feed and topics got mail for the day's old news). Only the
    # topic of the section feed, which lists it now, alerts.
    story, politics = main_and_section_feeds(site)
    write_herald_config(workdir, site, politics, mail,
                        [{"name": "Oslo", "query": "Oslo", "notify": [DESK]}])
    assert "1 new article(s)" in ok(workdir.newswatch("crawl"))
    only_the_section_alerts(site, mail, workdir, story, "Herald")
    assert exported_topics(workdir, site)["venezuela-opposition-leader"] == ["Section"]


def test_a_topic_added_later_does_not_reach_back_when_a_third_source_lists_a_story(
    site, mail, workdir, store_location
):
    # The story listed by the section feed, then by a third feed of the site: a topic added
    # between the two, limited to the section, took the story as the third feed's alone
    # and mailed the day's old news. The third feed's own topic alerts.
    if isinstance(store_location, str):  # on PostgreSQL too
        workdir.database_url = store_location
    story, politics = main_and_section_feeds(site)
    site.create_feed("americas")
    write_herald_config(workdir, site, politics, mail,
                        [{"name": "Oslo", "query": "Oslo", "notify": [DESK]}],
                        ({"url": site.url("/feeds/americas.rss"), "name": "Herald Americas"},))
    assert "1 new article(s)" in ok(workdir.newswatch("crawl"))
    site.publish(story, feed="politics")
    assert "0 new article(s)" in ok(workdir.newswatch("crawl"))
    only_the_section_alerts(site, mail, workdir, story, "Herald",
                            ("Herald Americas", "americas"), listed=("Herald Politics",))
    assert exported_topics(workdir, site)["venezuela-opposition-leader"] == ["Section"]


def test_a_topic_added_later_does_not_reach_back_to_a_gone_sources_story(site, mail, workdir):
    # The site's main feed gone (HTTP 410, deactivated: what it stored is still news its
    # reader wants, not a removed source's), its story listed then by the section feed: a
    # topic added since, of every source, took the story for the section feed's alone and
    # mailed the day's old news. The section's own topic alerts.
    story, politics = main_and_section_feeds(site)
    write_herald_config(workdir, site, politics, mail,
                        [{"name": "Oslo", "query": "Oslo", "notify": [DESK]}])
    assert "1 new article(s)" in ok(workdir.newswatch("crawl"))
    site.set_status("/feeds/world.rss", 410)
    assert workdir.crawl_till_gone().returncode == 0
    assert "deactivated: HTTP 410 Gone" in ok(workdir.newswatch("sources", "list"))
    only_the_section_alerts(site, mail, workdir, story, "Herald")


def test_a_reader_told_of_a_story_is_not_told_again_when_another_source_lists_it(
    site, mail, workdir
):
    # On a topic of every source and on one of the section's: told under the first, the
    # reader was told again under the second once the section's feed listed the story.
    story, politics = main_and_section_feeds(site)
    write_herald_config(workdir, site, politics, mail, [
        {"name": "Maduro", "query": "Maduro", "notify": [DESK]},
        {"name": "Politics desk", "query": "Maduro", "notify": [DESK, "pol@test.example"],
         "sources": ["Herald Politics"]},
    ])
    ok(workdir.newswatch("crawl"))
    assert [m["To"] for m in mail.wait_for(1)] == [DESK]
    site.publish(story, feed="politics")
    ok(workdir.newswatch("crawl"))
    assert [m["To"] for m in mail.wait_for(2)][1:] == ["pol@test.example"]
    time.sleep(0.5)
    assert len(mail.messages) == 2


def test_a_topic_renamed_from_the_command_line_keeps_its_alerts(site, mail, workdir):
    """`topics add` under a new name and `topics remove` of the old one made a new topic:
    the article it had alerted for, edited in place, alerted again ("Updated: …"), as a
    copy of the story on another site would. `topics rename` keeps the topic."""
    story = fresh("venezuela-opposition-leader")
    site.publish(story)
    workdir.write_config(sources=[site.url("/feeds/world.rss")],
                         topics=[{"name": "Config desk", "query": "Oslo", "notify": [DESK]}],
                         smtp=mail)
    ok(workdir.newswatch("topics", "add", "Maduro", "Maduro", "--notify", DESK))
    ok(workdir.newswatch("crawl"))
    [first] = mail.wait_for(1)
    assert "Maduro" in first["Subject"]
    out = ok(workdir.newswatch("topics", "rename", "Maduro", "Maduro watch"))
    assert out == "renamed topic Maduro to Maduro watch (its alerts kept)\n"
    assert set(listed(workdir)) == {"Config desk", "Maduro watch"}
    site.revise(story.slug, datetime.now(UTC).replace(microsecond=0),
                body=[*story.body, "Maduro's government did not comment on Tuesday."])
    assert "1 updated" in ok(workdir.newswatch("crawl"))
    time.sleep(0.5)
    assert len(mail.messages) == 1
    assert exported_topics(workdir, site) == {story.slug: ["Maduro watch"]}
    # One line for what cannot be renamed here.
    assert error(workdir.newswatch("topics", "rename", "Maduro", "Other"), 1) == (
        "newswatch: Maduro: no such topic (see `newswatch topics list`)")
    assert "defined in" in error(workdir.newswatch("topics", "rename", "Config desk", "X"), 2)
    assert "defined in" in error(
        workdir.newswatch("topics", "rename", "Maduro watch", "Config desk"), 2)
    ok(workdir.newswatch("topics", "add", "Old", "Oslo", "--notify", DESK))
    ok(workdir.newswatch("topics", "remove", "Old"))
    assert error(workdir.newswatch("topics", "rename", "Maduro watch", "Old"), 1) == (
        "newswatch: Old: a removed topic had that name (`topics add` under it brings it back)")


def test_a_topic_removed_says_its_waiting_alerts_are_dropped(site, mail, workdir):
    """`topics remove` said "its earlier matches are kept" of a digest topic whose alert
    then never came: the daemon drops what waits for a digest of a removed topic. The line
    says how many go with it (storage's count: tests/test_digest.py)."""
    site.publish(fresh("venezuela-opposition-leader"))
    workdir.write_config(sources=[site.url("/feeds/world.rss")], smtp=mail)
    ok(workdir.newswatch("topics", "add", "Maduro", "Maduro", "--notify", DESK,
                         "--mode", "digest"))
    ok(workdir.newswatch("topics", "add", "Oslo", "Oslo", "--notify", DESK))
    ok(workdir.newswatch("crawl"))
    assert ok(workdir.newswatch("topics", "remove", "Maduro")) == (
        "removed topic Maduro (its earlier matches are kept; its 1 alert(s) waiting to be "
        "sent are dropped)\n")
    assert ok(workdir.newswatch("topics", "remove", "Oslo")) == (
        "removed topic Oslo (its earlier matches are kept)\n")


def test_topic_options_are_validated_like_the_query(workdir):
    workdir.write_config(
        topics=[
            {"name": "a", "query": "Maduro", "notify": [DESK], "exclude": "(Minsk"},
            {"name": "b", "query": "Maduro", "notify": [DESK], "mode": "weekly"},
            {"name": "c", "query": "Maduro", "notify": [DESK], "sources": ["ok", ""]},
            {"name": "d", "query": "Maduro", "notify": [DESK], "exclude": "Minsk AND"},
        ]
    )
    result = workdir.newswatch("check")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    problems = [line.split(": ", 2)[2] for line in result.stderr.splitlines()]
    assert problems == [
        'topics[0].exclude (topic "a"): unclosed parenthesis at column 1 (here: "(Minsk"); see '
        "`newswatch topics --help` for the query syntax",
        "topics[1].mode: expected one of immediate, digest (a weekly email: mode = \"digest\", "
        'and the digest times in [alerts] or [[recipients]], e.g. digest = "Mon 08:00")',
        "topics[2].sources: expected a list of source names, URLs or hosts",
        'topics[3].exclude (topic "d"): \'AND\' needs a term after it at column 7 (here: "AND"); '
        "see `newswatch topics --help` for the query syntax",
    ]


def test_a_topic_source_that_names_no_source_is_warned_of(site, workdir):
    # A misspelt source name passed check and topics add silently: the topic never alerted.
    world = site.url("/feeds/world.rss")
    workdir.write_config(
        sources=[{"url": world, "name": "Local News"}],
        topics=[{"name": "a", "query": "Maduro", "notify": [DESK],
                 "sources": ["Locla News", "local news", "elpais.com", world + "/",
                             site.url("/feeds/other.rss")]}],
    )
    result = workdir.newswatch("check")
    assert result.returncode == 0 and "OK" in result.stdout
    warned = [line.split(": ", 3)[3] for line in result.stderr.splitlines()]
    assert [w.split(" is no source")[0] for w in warned] == [
        "'Locla News'", repr(site.url("/feeds/other.rss"))]
    assert all("alerts for none of its articles" in w for w in warned)
    # A source added from the command line is known to both, by its name or URL.
    ok(workdir.newswatch("sources", "add", site.url("/feeds/other.rss"), "--name", "Other"))
    assert "Locla" in workdir.newswatch("check").stderr
    assert "other.rss" not in workdir.newswatch("check").stderr
    added = workdir.newswatch("topics", "add", "b", "Maduro", "--notify", DESK,
                             "--source", "Othre", "--source", "other")
    assert "added topic b" in ok(added)
    assert added.stderr.startswith("warning: --source: 'Othre' is no source's name or URL")
    assert len(added.stderr.splitlines()) == 1


def test_a_topic_source_that_names_a_stored_publisher_is_not_warned_of(site, workdir):
    # A topic's source naming the publisher of an aggregator's items (an Inoreader folder's
    # <source>), no source's name, finds those items, yet `check` and `topics add` warned
    # that the topic would alert for none of its articles. A name no article has yet is
    # warned of, saying when it would alert.
    story = fresh("venezuela-opposition-leader")
    folder = site.serve("/stream/world.rss", f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>World - Inoreader</title><link>https://www.inoreader.com/</link>
<item><title>{story.title}</title><link>{site.article_url(story.slug)}</link>
<pubDate>{format_datetime(story.published)}</pubDate>
<source url="https://gazette.example/feed.rss">The Test Gazette</source></item>
</channel></rss>""".encode())
    workdir.write_config(sources=[{"url": folder, "name": "World folder"}], topics=[
        {"name": "a", "query": "Maduro", "notify": [DESK],
         "sources": ["the test gazette", "Test Gazete"]}])
    assert "1 new article(s)" in ok(workdir.newswatch("crawl"))
    result = workdir.newswatch("check")
    assert "OK" in ok(result)
    [warned] = result.stderr.splitlines()
    assert warned.split(": ", 3)[3] == (
        "'Test Gazete' is no source's name or URL, nor a stored article's publisher: the "
        "topic alerts for none of its articles until a source or an aggregator's item is so "
        "named (a source's name is its configured one, or its feed's title once polled)")
    added = workdir.newswatch("topics", "add", "b", "Maduro", "--notify", DESK,
                              "--source", "The Test Gazette")
    assert "added topic b" in ok(added) and added.stderr == ""


# -- topics add / list / remove ---------------------------------------------------------------


def test_add_list_remove_and_the_config_file_wins(workdir):
    config_topic = {"name": "Rates", "query": "rates", "notify": ["biz@test.example"]}
    workdir.write_config(topics=[config_topic])
    out = ok(
        workdir.newswatch(
            "topics", "add", "Maduro", '"Nicolás Maduro" OR Maduro', "--notify", DESK,
            "--notify", "ed@test.example", "--source", "World desk", "--exclude", "Minsk",
        )
    )
    assert out.startswith("added topic Maduro")
    rows = listed(workdir)
    assert set(rows) == {"Rates", "Maduro"}
    assert (rows["Rates"]["origin"], rows["Maduro"]["origin"]) == ("config", "cli")
    assert rows["Maduro"]["notify"] == [DESK, "ed@test.example"]
    assert (rows["Maduro"]["sources"], rows["Maduro"]["exclude"]) == (["World desk"], "Minsk")
    assert rows["Maduro"]["matches"] == 0

    header, *lines = ok(workdir.newswatch("topics", "list")).splitlines()
    assert header.split()[:4] == ["ORIGIN", "NAME", "QUERY", "NOTIFY"]
    [line] = [line for line in lines if line.startswith("cli")]
    assert "Maduro" in line and "sources: World desk; exclude: Minsk" in line

    # Adding again updates a command-line topic.
    out = ok(workdir.newswatch("topics", "add", "Maduro", "Maduro", "--notify", DESK))
    assert out.startswith("updated topic Maduro")
    row = listed(workdir)["Maduro"]
    assert (row["query"], row["notify"], row["sources"], row["exclude"]) == (
        "Maduro", [DESK], [], None,
    )

    # A name the config file defines: the config file wins, nothing changes.
    out = ok(workdir.newswatch("topics", "add", "Rates", "inflation", "--notify", DESK))
    assert "already defined in" in out and "the config file wins" in out
    assert listed(workdir)["Rates"]["query"] == "rates"
    line = error(workdir.newswatch("topics", "remove", "Rates"), 2)
    assert line == f"newswatch: Rates: defined in {workdir.config}: remove it there"

    assert "removed topic Maduro" in ok(workdir.newswatch("topics", "remove", "Maduro"))
    assert set(listed(workdir)) == {"Rates"}
    assert "no such topic" in error(workdir.newswatch("topics", "remove", "Maduro"), 1)

    # A command-line topic survives config changes; a config topic dropped from the file goes.
    ok(workdir.newswatch("topics", "add", "Belarus", "Belarus", "--notify", DESK))
    workdir.write_config(topics=[])
    assert {name: row["origin"] for name, row in listed(workdir).items()} == {"Belarus": "cli"}
    # ... and once the config file defines a name, the config file's version is the topic.
    workdir.write_config(topics=[{"name": "Belarus", "query": "Minsk", "notify": [DESK]}])
    row = listed(workdir)["Belarus"]
    assert (row["origin"], row["query"]) == ("config", "Minsk")


def test_add_refuses_bad_input_in_one_line(workdir):
    workdir.write_config()
    cases = [
        (["Maduro", "(Maduro AND Minsk", "--notify", DESK],
         "QUERY: unclosed parenthesis at column 1"),
        (["Maduro", "Maduro AND", "--notify", DESK],
         "QUERY: 'AND' needs a term after it at column 8"),
        (["Maduro", "Maduro", "--notify", DESK, "--exclude", "NOT Minsk"], "--exclude: "),
        (["Maduro", "Maduro", "--notify", "not-an-email"], "--notify: 'not-an-email' is not"),
        (["Maduro", "Maduro", "--notify", DESK, "--mode", "hourly"],
         "--mode: expected one of immediate, digest"),
        (["Maduro", "Maduro", "--notify", DESK, "--mode", "daily"],
         "--mode: expected one of immediate, digest (a daily email: mode = \"digest\", and the "
         'digest times in [alerts] or [[recipients]], e.g. digest = "08:00")'),
        ([" ", "Maduro", "--notify", DESK], "NAME: must not be empty"),
        (["Maduro\nexit", "Maduro", "--notify", DESK],
         "NAME: 'Maduro\\nexit' is not one line of text (a newline or a control character)"),
        (["Maduro\x1b[2J", "Maduro", "--notify", DESK],
         "NAME: 'Maduro\\x1b[2J' is not one line of text"),
    ]
    for args, expected in cases:
        line = error(workdir.newswatch("topics", "add", *args), 2)
        assert line.startswith(f"newswatch: {expected}"), line
    line = error(workdir.newswatch("topics", "add", "M", "Maduro AND", "--notify", DESK), 2)
    assert "column 8" in line and "newswatch topics --help" in line  # where, and a hint
    assert listed(workdir) == {}
    usage = workdir.newswatch("topics", "add", "Maduro", "Maduro")  # --notify is required
    assert usage.returncode == 2 and "--notify" in usage.stderr


def test_add_and_rename_refuse_a_name_that_looks_like_another_topics(workdir):
    """`topics add "maduro  exit"` beside the config file's "Maduro exit" made a second topic
    that `topics list` and the emails showed as the first: refused, as the config file refuses
    two such names; the same name exactly still updates (or is the config file's)."""
    workdir.write_config(topics=[{"name": "Maduro exit", "query": "Maduro", "notify": [DESK]}])
    ok(workdir.newswatch("topics", "add", "Rates", "rates", "--notify", DESK))
    assert error(workdir.newswatch("topics", "add", "maduro  exit", "x", "--notify", DESK),
                 2) == (
        "newswatch: NAME: 'maduro  exit' looks the same as the topic 'Maduro exit' of "
        f"{workdir.config} (names differing only in case or spaces are one name)")
    assert error(workdir.newswatch("topics", "add", "RATES", "x", "--notify", DESK), 2) == (
        "newswatch: NAME: 'RATES' looks the same as the topic 'Rates' (names differing only "
        "in case or spaces are one name): `topics add` under that name updates it")
    assert error(workdir.newswatch("topics", "rename", "Rates", "MADURO EXIT"), 2).startswith(
        "newswatch: NEW_NAME: 'MADURO EXIT' looks the same as the topic 'Maduro exit' of ")
    ok(workdir.newswatch("topics", "add", "Oil", "oil", "--notify", DESK))
    assert error(workdir.newswatch("topics", "rename", "Oil", " rates"), 2).startswith(
        "newswatch: NEW_NAME: 'rates' looks the same as the topic 'Rates'")
    assert {n: r["query"] for n, r in listed(workdir).items()} == {
        "Maduro exit": "Maduro", "Rates": "rates", "Oil": "oil"}
    # Its own name in another case is a rename, and the same name an update.
    ok(workdir.newswatch("topics", "rename", "Oil", "OIL"))
    assert "updated topic Rates" in ok(
        workdir.newswatch("topics", "add", "Rates", "rate*", "--notify", DESK))
    assert set(listed(workdir)) == {"Maduro exit", "Rates", "OIL"}


def test_a_query_written_on_two_lines_is_said_on_one(workdir):
    """A line break in a query is white space (a TOML multi-line string): the error's
    '(here: ...)', the confirmation of `topics add` and the row of `topics list` took two
    lines (a review)."""
    workdir.write_config()
    line = error(workdir.newswatch("topics", "test", "(Maduro\nOR Trump"), 2)
    assert '(here: "(Maduro OR Trump")' in line, line
    added = ok(workdir.newswatch("topics", "add", "NL", "Maduro\nOR Trump", "--notify", DESK))
    assert added.strip().splitlines() == [f"added topic NL: Maduro OR Trump → {DESK}"], added
    rows = ok(workdir.newswatch("topics", "list")).strip().splitlines()
    assert len(rows) == 2 and "Maduro OR Trump" in rows[1], rows


def test_a_topic_of_many_recipients_keeps_its_row_readable(workdir):
    # A desk's topic of nine recipients padded every row of its 300 topics to 480 columns.
    many = [f"reader{n}@test.example" for n in range(9)]
    workdir.write_config(topics=[{"name": "Desk", "query": "Maduro", "notify": many},
                                 {"name": "Two", "query": "Caracas", "notify": many[:2]}])
    table = ok(workdir.newswatch("topics", "list"))
    assert "reader0@test.example, reader1@test.example +7 more" in table
    assert "reader2@test.example" not in table
    assert max(len(line) for line in table.splitlines()) < 140
    listed = json.loads(ok(workdir.newswatch("topics", "list", "--format", "json")))
    assert listed[0]["notify"] == many


def test_lists_are_aligned_as_a_terminal_shows_cjk_names(workdir):
    """Padded by characters, a name in Japanese or Korean (two columns a character) pushed
    the next columns of `sources list` out of line (a review)."""
    workdir.write_config(sources=[{"url": "http://127.0.0.1:9/asahi.rss", "name": "朝日新聞デジタル"},
                                  {"url": "http://127.0.0.1:9/bbc.rss", "name": "BBC News"}])
    from alerts.compose import columns

    lines = ok(workdir.newswatch("sources", "list")).splitlines()
    starts = {columns(line[: line.index("auto" if "auto" in line else "KIND")])
              for line in lines}
    assert len(starts) == 1, lines


def test_topic_added_while_the_daemon_runs_alerts_on_its_next_cycle(site, mail, workdir, wait):
    site.publish(fresh("central-bank-holds-rates", 2))
    workdir.write_config(sources=[{"url": site.url("/feeds/world.rss"), "every": "1s"}], smtp=mail)
    daemon = workdir.start_daemon()
    try:
        daemon.wait_for_log("daemon started")
        assert wait(lambda: site.requests_for("/feeds/world.rss"), 20)
        out = ok(workdir.newswatch("topics", "add", "Maduro", "Maduro", "--notify", DESK))
        assert out.startswith("added topic Maduro")
        site.publish(fresh("venezuela-opposition-leader"))
        [message] = mail.wait_for(1, timeout=30)
        assert message["To"] == DESK and "Maduro" in message["Subject"]
        assert wait(lambda: listed(workdir)["Maduro"]["alerted"] == 1, 20)
    finally:
        code = daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.output()
    assert "Traceback" not in daemon.output()


# -- topics test and search -------------------------------------------------------------------


def archive(site, workdir: Workdir) -> None:
    """Crawl three stories of different ages into the archive (alerts go to the mbox)."""
    site.publish(fresh("venezuela-opposition-leader", 1))
    site.publish(fresh("maduro-abandona-venezuela", 72))
    site.publish(fresh("city-late-winner", 24 * 40))
    workdir.write_config(sources=[{"url": site.url("/feeds/world.rss"), "name": "Herald"}])
    assert "3 new article(s)" in ok(workdir.newswatch("crawl"))


def blocks(out: str) -> list[list[str]]:
    """The articles a text listing shows (date/source, title, snippet, URL), and its last line."""
    return [[line.strip() for line in block.splitlines()] for block in out.strip().split("\n\n")]


def test_topics_test_shows_matches_newest_first_with_highlights(site, workdir):
    archive(site, workdir)
    out = ok(workdir.newswatch("topics", "test", '"nicolas maduro"'))
    *found, [count] = blocks(out)
    assert count == "2 matching article(s) of the last 30d"
    assert [lines[-1] for lines in found] == [
        site.article_url("venezuela-opposition-leader"),
        site.article_url("maduro-abandona-venezuela"),
    ]
    first, second = found
    assert first[0].endswith("  Herald")
    datetime.strptime(first[0].split("  ")[0], "%Y-%m-%d %H:%M UTC")  # the date comes first
    # The snippet, hits marked: the article's standfirst (its lede, which the text starts with).
    assert "who called on *Nicolás Maduro* to accept" in first[2]
    assert first[1].strip() == STORIES_BY_SLUG["venezuela-opposition-leader"].title
    assert second[1].strip().startswith("*Nicolás Maduro* abandonó Venezuela")  # title marked

    assert "\x1b[" not in out  # no terminal styles when stdout is not a terminal
    assert marker(True)("Maduro") == click.style("Maduro", bold=True, underline=True)

    # --since narrows the window, --limit the list.
    *found, [count] = blocks(ok(workdir.newswatch("topics", "test", "Maduro", "--since", "2d")))
    assert len(found) == 1 and count == "1 matching article(s) of the last 2d"
    *found, [count] = blocks(ok(workdir.newswatch("topics", "test", "Maduro", "--limit", "1")))
    assert len(found) == 1 and "showing the 1 newest" in count and "raise --limit" in count
    # Out of the window: the 40-day-old story.
    assert ok(workdir.newswatch("topics", "test", "Okafor")).strip() == (
        "0 matching article(s) of the last 30d"
    )
    # The topic's options can be tried too.
    *found, _ = blocks(ok(workdir.newswatch("topics", "test", "Maduro", "--exclude", "Minsk")))
    assert [lines[-1] for lines in found] == [site.article_url("venezuela-opposition-leader")]
    tried = workdir.newswatch("topics", "test", "Maduro", "--source", "elsewhere")
    *found, _ = blocks(ok(tried))
    assert found == []
    # A typo there found nothing, and said nothing of why, as topics add does.
    assert tried.stderr == (
        "warning: --source: 'elsewhere' is no source's name or URL, nor a stored article's "
        "publisher: nothing of it is found until a source or an aggregator's item is so named "
        "(a source's name is its configured one, or its feed's title once polled)\n")
    assert workdir.newswatch("topics", "test", "Maduro", "--source", "herald").stderr == ""


def test_topics_test_finds_a_removed_sources_articles_without_a_warning(site, workdir):
    # The site's feed taken out of the config file, its articles kept in the archive:
    # `topics test --source Herald` listed them under a warning that nothing of "Herald" is
    # found.
    archive(site, workdir)
    site.create_feed("politics")
    workdir.write_config(sources=[{"url": site.url("/feeds/politics.rss"), "name": "Politics"}])
    ok(workdir.newswatch("crawl"))
    tried = workdir.newswatch("topics", "test", "Maduro", "--source", "Herald")
    *found, _ = blocks(ok(tried))
    assert [lines[0].endswith("Herald") for lines in found] == [True, True]
    assert tried.stderr == ""


def test_search_covers_the_whole_archive(site, workdir):
    archive(site, workdir)
    *found, [count] = blocks(ok(workdir.newswatch("search", "Okafor OR Maduro")))
    assert count == "3 matching article(s) in the archive"
    assert [lines[-1].rsplit("/", 1)[1] for lines in found] == [
        "venezuela-opposition-leader", "maduro-abandona-venezuela", "city-late-winner",
    ]
    assert "*Okafor*" in found[2][2]

    rows = [json.loads(line) for line in ok(
        workdir.newswatch("search", "Maduro", "--format", "jsonl", "--limit", "5")
    ).splitlines()]
    assert [r["url"] for r in rows] == [
        site.article_url("venezuela-opposition-leader"),
        site.article_url("maduro-abandona-venezuela"),
    ]
    first = rows[0]
    assert {"url", "title", "published", "source", "snippet"} <= set(first)
    assert first["source"] == "Herald" and first["title"].endswith("challenges Maduro")
    assert datetime.fromisoformat(first["published"]) > datetime.fromisoformat(rows[1]["published"])
    assert first["snippet_hits"] and all(
        first["snippet"][a:b] == "Maduro" for a, b in first["snippet_hits"]
    )
    assert "*" not in first["snippet"]
    # Cut by --limit, JSON lines say so on standard error (they stopped silently at 20).
    cut = workdir.newswatch("search", "Maduro", "--format", "jsonl", "--limit", "1")
    assert len(ok(cut).splitlines()) == 1
    assert cut.stderr.strip() == ("newswatch: showing the 1 newest matching article(s) in the "
                                  "archive; more match (raise --limit)")


def test_search_between_two_dates(site, workdir):
    """"Every article on Maduro between two dates" (stories 1 hour, 3 days and 40 days
    old): --since and --until, dates or durations; a bad one is one line."""
    archive(site, workdir)

    def slugs(*options: str) -> list[str]:
        out = ok(workdir.newswatch("search", "Okafor OR Maduro", *options))
        return [lines[-1].rsplit("/", 1)[1] for lines in blocks(out)[:-1]]

    assert slugs("--since", "2d") == ["venezuela-opposition-leader"]
    assert slugs("--until", "2d") == ["maduro-abandona-venezuela", "city-late-winner"]
    assert slugs("--since", "30d", "--until", "2d") == ["maduro-abandona-venezuela"]
    day = (datetime.now(UTC) - timedelta(days=3)).date()
    assert slugs("--since", day.isoformat(), "--until", (day + timedelta(days=1)).isoformat()
                 ) == ["maduro-abandona-venezuela"]
    bad = workdir.newswatch("search", "Maduro", "--since", "last week")
    assert bad.returncode == 2 and bad.stderr.strip() == (
        "newswatch: --since: 'last week' is neither a date (2026-12-01, 2026-12-01T08:00) nor "
        "a duration (7d, 12h)")
    # A duration out of range, or a date whose offset takes it past year 1 or 9999, was
    # "neither a date nor a duration" ('0s'), or "unexpected error: OverflowError" (exit 1).
    for option, value, said in (
            ("--since", "0s", "must be positive"),
            ("--since", "99999d", "must be at most 100 years (36500d)"),
            ("--since", "0001-01-01T00:00+05:00", "'0001-01-01T00:00+05:00' is out of range"
             " (dates run from year 1 to 9999)"),
            ("--until", "9999-12-31T23:00-05:00", "'9999-12-31T23:00-05:00' is out of range"
             " (dates run from year 1 to 9999)")):
        bad = workdir.newswatch("search", "Maduro", option, value)
        assert (bad.returncode, bad.stderr) == (2, f"newswatch: {option}: {said}\n")


def test_a_query_may_start_with_a_minus(site, workdir):
    # NOT first ('-Okafor Maduro') was click's "No such option: -O"; only `--` helped.
    archive(site, workdir)
    urls = [lines[-1] for lines in blocks(ok(workdir.newswatch("search", "Maduro -Minsk")))[:-1]]
    assert urls == [site.article_url("venezuela-opposition-leader")]
    for command in (["search", "-Minsk Maduro"], ["search", "--limit", "5", "-Minsk Maduro"],
                    ["topics", "test", "-Minsk Maduro", "--since", "30d"],
                    ["search", "--", "-Minsk Maduro"]):
        assert [lines[-1] for lines in blocks(ok(workdir.newswatch(*command)))[:-1]] == urls
    ok(workdir.newswatch("topics", "add", "Not Minsk", "-Minsk Maduro", "--notify", "d@x.org"))
    assert "-Minsk Maduro" in ok(workdir.newswatch("topics", "list"))
    # The arguments keep their order, wherever the one starting with "-" stands.
    ok(workdir.newswatch("topics", "add", "--notify", "d@x.org", "-Belarus", "Maduro -Belarus"))
    listed = ok(workdir.newswatch("topics", "list"))
    assert re.search(r"-Belarus\s+Maduro -Belarus", listed), listed
    # An option's value is its own, whatever it starts with; a mistyped option is still one.
    line = error(workdir.newswatch("topics", "test", "Maduro", "--exclude", "-Minsk"), 2)
    assert line.startswith("newswatch: --exclude: ")
    # Said in one line, as every other error (click's usage errors took three).
    line = error(workdir.newswatch("search", "Maduro", "--limt", "5"), 2)
    assert line == ("newswatch: No such option '--limt'. Did you mean '--limit'? "
                    "(see `newswatch search --help`)")
    line = error(workdir.newswatch("sources", "addd", "x"), 2)
    assert line.startswith("newswatch: No such command 'addd'. Did you mean 'add'?")


def test_a_usage_error_names_the_command_under_python_m_too(tmp_path):
    """Run as `python -m newswatch` (the program named so by click), the hint of a usage
    error was "(see `newswatch -m newswatch search --help`)": a command that does not exist."""
    import subprocess
    import sys

    from conftest import subprocess_env

    for argv, hint in ((["search", "Maduro", "--limt", "5"], "newswatch search --help"),
                       (["topics", "add", "X", "Y"], "newswatch topics add --help"),
                       (["bogus"], "newswatch --help")):
        done = subprocess.run([sys.executable, "-m", "newswatch", *argv], cwd=tmp_path,
                              env=subprocess_env(), capture_output=True, text=True,
                              timeout=60, check=False)
        line = error(done, 2)
        assert line.endswith(f"(see `{hint}`)"), line


def test_wrong_query_or_no_database_is_one_line(site, workdir):
    workdir.write_config()
    for command in (["search"], ["topics", "test"]):
        line = error(workdir.newswatch(*command, "Maduro (Belarus"), 2)
        assert "unclosed parenthesis at column 8" in line and "(here: " in line
        line = error(workdir.newswatch(*command, "Maduro"), 1)
        assert line == f"newswatch: no database at {workdir.database}: nothing crawled yet"
    line = error(workdir.newswatch("topics", "test", "Maduro", "--since", "soon"), 2)
    assert line.startswith("newswatch: --since: 'soon' is not a duration")
    line = error(workdir.newswatch("topics", "test", "Maduro", "--exclude", "-Minsk"), 2)
    assert line.startswith("newswatch: --exclude: ")
    assert not workdir.database.exists()  # looking never creates a database


def test_removing_or_renaming_an_unknown_topic_creates_no_database(workdir):
    # Run outside the service's directory, `topics remove` of a typo left an empty database
    # there (the one that later commands, a `backup` too, read instead of the daemon's).
    workdir.write_config()
    line = error(workdir.newswatch("topics", "remove", "Maduro"), 1)
    assert line == "newswatch: Maduro: no such topic (see `newswatch topics list`)"
    line = error(workdir.newswatch("topics", "rename", "Maduro", "Maduro watch"), 1)
    assert line == "newswatch: Maduro: no such topic (see `newswatch topics list`)"
    assert not workdir.database.exists()


def test_search_by_source_name_and_host(site, workdir):
    from dataclasses import replace as _replace
    from datetime import UTC as _UTC
    from datetime import datetime as _dt

    from newssite import STORIES_BY_SLUG as _STORIES

    site.publish(_replace(_STORIES["venezuela-opposition-leader"], published=_dt.now(_UTC)))
    workdir.write_config(sources=[{"url": site.url("/feeds/world.rss"), "name": "Herald Wire"}])
    assert workdir.newswatch("crawl").returncode == 0
    by_name = workdir.newswatch("search", 'source:herald Maduro')
    assert by_name.returncode == 0, by_name.stderr
    assert "Venezuelan opposition leader" in by_name.stdout
    by_host = workdir.newswatch("search", 'source:"127.0.0.1" Maduro')
    assert by_host.returncode == 0, by_host.stderr
    assert "Venezuelan opposition leader" in by_host.stdout
    other = workdir.newswatch("search", "source:reuters Maduro")
    assert other.returncode == 0 and "Venezuelan opposition leader" not in other.stdout


def test_search_finds_a_sources_first_articles_by_the_name_its_feed_gave(site, workdir):
    """A source without a configured name takes its feed's title after its first poll; the
    articles of that poll were indexed under its URL: `search source:NAME` missed them,
    while the daemon's matching (which reads the name at match time) alerted for them."""
    site.publish(fresh("venezuela-opposition-leader"))
    workdir.write_config(sources=[site.url("/feeds/world.rss")])
    assert workdir.newswatch("crawl").returncode == 0
    first = site.publication.split()[-1]  # a word of the feed's title
    found = workdir.newswatch("search", f"source:{first} Maduro")
    assert found.returncode == 0, found.stderr
    assert "Venezuelan opposition leader" in found.stdout


def test_a_sources_first_articles_are_indexed_under_its_feeds_name_once(site, workdir):
    """The feed's title names the source before the poll stores its pages: renamed at the
    poll's record instead, each article of a first poll was indexed twice (its full text
    taken out of the full-text index and put back: a tenth of a cold cycle's CPU)."""
    for slug in ("venezuela-opposition-leader", "central-bank-holds-rates"):
        site.publish(fresh(slug))
    workdir.write_config(sources=[site.url("/feeds/world.rss")])
    workdir.make_database()
    assert workdir.newswatch("sources", "list").returncode == 0  # the source, synced
    with sqlite3.connect(workdir.database) as db:
        db.executescript("""
            CREATE TABLE renamed (article_id INTEGER);
            CREATE TRIGGER renamed AFTER UPDATE OF source ON articles
            BEGIN INSERT INTO renamed VALUES (new.id); END;
        """)
    assert workdir.newswatch("crawl").returncode == 0
    with sqlite3.connect(workdir.database) as db:
        [(name,)] = db.execute("SELECT name FROM sources")
        names = [row[0] for row in db.execute("SELECT source FROM articles")]
        renamed = db.execute("SELECT count(*) FROM renamed").fetchone()[0]
    assert name.startswith(site.publication)
    assert names == [f"{name} 127.0.0.1"] * 2
    assert renamed == 0


def test_a_query_other_tools_read_otherwise_is_refused_when_added_and_warned_of_in_the_file(
    workdir,
):
    """OR beside words side by side (Google reads "Venezuela oil OR gas" as Venezuela (oil
    OR gas), newswatch as (Venezuela oil) OR gas) is refused when added from the command
    line; in the config file, where an earlier version accepted it, refusing it stopped the
    daemon at an upgrade (exit 2, left stopped by its unit: a review): it is read as before,
    and `check` and the daemon's log say what to write."""
    workdir.write_config()
    line = error(workdir.newswatch("topics", "add", "Oil", "Venezuela oil OR gas",
                                   "--notify", DESK), 2)
    assert "OR beside words without parentheses" in line
    workdir.write_config(topics=[{"name": "Oil", "query": "Venezuela oil OR gas",
                                  "notify": [DESK]}])
    checked = workdir.newswatch("check")
    assert checked.returncode == 0, checked.stderr
    [warning] = [w for w in checked.stderr.splitlines() if w.startswith("warning:")]
    assert 'topics[0].query (topic "Oil"): OR beside words without parentheses' in warning
    assert "write Venezuela (oil OR gas)" in warning
    assert warning.endswith("read as before, for now"), warning


def test_a_topic_added_later_does_not_reach_back_to_a_merged_pages_story(site, mail, workdir):
    # A site's page added with `sources add` polls the feed it declares and stores its
    # story; the feed written into the config file later, the page is merged into it. The
    # feed then lists the page's story: taken for a removed source's, it was the feed's
    # alone, and the topics added meanwhile (of every source, of the feed) mailed the day's
    # old news.
    story, politics = main_and_section_feeds(site)
    oslo = [{"name": "Oslo", "query": "Oslo", "notify": [DESK]}]
    workdir.write_config(sources=[{"url": politics, "name": "Herald Politics"}], topics=oslo,
                         smtp=mail)
    ok(workdir.newswatch("sources", "add", site.url("/withfeed/")))
    assert "1 new article(s)" in ok(workdir.newswatch("crawl"))
    write_herald_config(workdir, site, politics, mail, oslo)
    only_the_section_alerts(site, mail, workdir, story, "Herald")


def test_a_topic_limited_to_a_merged_page_follows_the_source_it_was_merged_into(
    site, mail, workdir
):
    # A site's page added with `sources add --name Herald` and a topic limited to it; the
    # feed the page declares written into the config file later ("Herald World"), the page
    # was merged into it: the site's new stories came from "Herald World", and the topics
    # limited to "Herald" (added with `topics add`, or in the config file) got nothing
    # more, and nothing said why. They follow the feed, and the merge says so.
    site.publish(fresh("venezuela-opposition-leader"))
    workdir.write_config(smtp=mail)
    page = site.url("/withfeed/")
    ok(workdir.newswatch("sources", "add", page, "--name", "Herald"))
    ok(workdir.newswatch("topics", "add", "maduro", "Maduro", "--source", "Herald",
                         "--notify", DESK))
    assert "1 new article(s)" in ok(workdir.newswatch("crawl"))
    assert [m["To"] for m in mail.wait_for(1)] == [DESK]
    workdir.write_config(
        sources=[{"url": site.url("/feeds/world.rss"), "name": "Herald World"}],
        topics=[{"name": "caracas", "query": "Maduro", "notify": ["caracas@test.example"],
                 "sources": ["herald"]}],
        smtp=mail)
    site.publish(fresh("maduro-abandona-venezuela"))
    crawl = ok(workdir.newswatch("crawl"))
    assert "merged into" in crawl and "1 new article(s)" in crawl, crawl
    assert "topic 'maduro' limited to Herald now follows Herald World" in crawl, crawl
    assert "topic 'caracas' limited to Herald now follows Herald World" in crawl, crawl
    assert sorted(m["To"] for m in mail.wait_for(3)[1:]) == [
        "caracas@test.example", DESK]
    tried = ok(workdir.newswatch("topics", "test", "Maduro", "--source", "Herald"))
    assert "2 matching article(s)" in tried, tried
    # A topic limited to it added since is not said to alert for none of its articles.
    added = workdir.newswatch("topics", "add", "later", "Maduro", "--source", "Herald",
                              "--notify", DESK)
    assert (ok(added).startswith("added topic later"), added.stderr) == (True, ""), added
    checked = workdir.newswatch("check")
    assert (checked.returncode, checked.stderr) == (0, ""), checked
    # Removed for good, the page is followed no more: the feed's stories are not its.
    assert ok(workdir.newswatch("sources", "remove", page)).startswith(f"removed {page}")
    tried = ok(workdir.newswatch("topics", "test", "Maduro", "--source", "Herald"))
    assert "1 matching article(s)" in tried, tried


def test_a_topic_that_follows_a_page_merged_in_turn_is_said_to_follow_where_it_went(
    site, mail, workdir
):
    # A site's page and the feed it declares both added from the command line (an OPML
    # import), and a topic limited to the feed ("Wire"): the crawl merged the feed into the
    # page, and said the topic follows the page. The feed written into the config file
    # later, another way (with a fragment), the page was merged into it: the topic follows
    # it too, through the page, but only the page's own topics were said to.
    workdir.write_config(smtp=mail)
    page, world = site.url("/withfeed/"), site.url("/feeds/world.rss")
    ok(workdir.newswatch("sources", "add", page, "--name", "Herald"))
    ok(workdir.newswatch("sources", "add", world, "--name", "Wire"))
    ok(workdir.newswatch("topics", "add", "wire", "Maduro", "--source", "Wire",
                         "--notify", DESK))
    crawl = ok(workdir.newswatch("crawl"))
    assert "topic 'wire' limited to Wire now follows Herald" in crawl, crawl
    workdir.write_config(sources=[{"url": f"{world}#config", "name": "Herald World"}],
                         smtp=mail)
    site.publish(fresh("maduro-abandona-venezuela"))
    crawl = ok(workdir.newswatch("crawl"))
    assert f"source {page} (added with `sources add`)" in crawl, crawl
    assert "topic 'wire', which follows Herald, now follows Herald World" in crawl, crawl
    assert [m["To"] for m in mail.wait_for(1)] == [DESK]
