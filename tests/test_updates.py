"""Articles updated in place: a newer version replaces the stored text, and only topics the
article did not match before alert — in storage, in the pipeline's re-match queue (crash
safety included) and end to end with `newswatch crawl` against the local site."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from newssite import Story, sample_story
from test_end_to_end import parts
from test_stories import EXTRA, WIRE, add_source, alerts, outbox, paragraphs, pipeline

from alerts.compose import AlertItem, compose
from storage import Article, Store, StoredArticle, TopicSpec
from storage import open_store as storage_open_store
from watchlist import compile_query

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def store(store_location: str | Path):
    with storage_open_store(store_location) as s:
        yield s


def stored(store: Store, source_id: int, text: str, *, published: datetime | None = None,
           slug: str = "a") -> Article:
    article = Article(
        url=f"https://a.example/articles/{slug}", entry_url=f"https://a.example/articles/{slug}",
        source_id=source_id, title="Marcano returns", text=text,
        published=published or NOW - timedelta(hours=3), author=None,
        fetched=NOW - timedelta(hours=2), extraction="page", updated=NOW - timedelta(hours=3),
    )
    assert store.add_article(article) is not None
    return article


def topics(store: Store) -> tuple[int, int]:
    maduro, barbados = store.sync_topics([
        TopicSpec("Maduro", "Maduro", compile_query("Maduro"), ("desk@x.org",)),
        TopicSpec("Barbados", "Barbados", compile_query("Barbados"), ("ed@x.org",)),
    ])
    return maduro.id, barbados.id


# -- storage ------------------------------------------------------------------------------


def test_a_changed_version_replaces_the_text_and_is_queued(store: Store) -> None:
    src = add_source(store, "https://a.example/feed", "A")
    article = stored(store, src, paragraphs(WIRE))
    [row] = store.articles_after(0)
    later = NOW - timedelta(minutes=5)
    edited = replace(article, text=article.text + "\n\n" + EXTRA, updated=later)
    assert store.update_article(row.id, edited, NOW) is True
    assert [a.id for a in store.rematch_queue()] == [row.id]
    again = store.article(row.id)
    assert (again.text, again.updated, again.published) == (edited.text, later, row.published)
    # The archive's full-text index follows the new text.
    assert [a.id for a in store.search(compile_query("Barbados"))] == [row.id]
    assert store.known_articles([article.url])[article.url].version == later


def test_an_unchanged_version_only_records_its_date(store: Store) -> None:
    src = add_source(store, "https://a.example/feed", "A")
    article = stored(store, src, paragraphs(WIRE))
    [row] = store.articles_after(0)
    later = NOW - timedelta(minutes=5)
    assert store.update_article(row.id, replace(article, updated=later), NOW) is False
    assert store.rematch_queue() == [] and store.rematch_count() == 0
    assert store.known_articles([article.url])[article.url].version == later
    with pytest.raises(KeyError):
        store.update_article(row.id + 100, article, NOW)


# -- the pipeline: re-matching -------------------------------------------------------------


def edit(store: Store, article: Article, text: str, updated: datetime) -> int:
    article_id = store.known_articles([article.url])[article.url].article_id
    assert article_id is not None
    assert store.update_article(article_id, replace(article, text=text, updated=updated), NOW)
    return article_id


def test_an_update_alerts_only_for_a_topic_it_newly_matches(store: Store) -> None:
    maduro, barbados = topics(store)
    src = add_source(store, "https://a.example/feed", "A")
    article = stored(store, src, paragraphs(WIRE))
    pipe = pipeline(store)
    assert pipe.match().emails == 1
    assert [r for r, _ in outbox(store)] == ["desk@x.org"]
    article_id = edit(store, article, paragraphs(WIRE) + "\n\n" + EXTRA, NOW - timedelta(hours=1))
    report = pipe.match()
    assert (report.rematched, report.matches, report.emails) == (1, 1, 1)
    assert [r for r, _ in outbox(store)] == ["desk@x.org", "ed@x.org"]
    assert "Barbados" in outbox(store)[-1][1]
    assert alerts(store) == [(article_id, maduro, 1), (article_id, barbados, 1)]
    # The alert says the article was updated, and when; the first one did not.
    first, update = (text for _, text in outbox(store))
    assert "Updated" not in first
    assert "newswatch found 1 new story matching Maduro." in first
    assert "newswatch found 1 updated story matching Barbados." in update
    edited_at = (NOW - timedelta(hours=1)).strftime("%H:%M")
    assert re.search(rf"\n   A · \d+ \w+ \d{{4}} \d\d:\d\d UTC · Updated (\d+ \w+ )?{edited_at}\n",
                     update), update
    [(subject, html)] = store.db.execute(
        "SELECT subject, body_html FROM outbox WHERE recipient = 'ed@x.org'"
    ).fetchall()
    assert subject == "[newswatch] Barbados — Updated: Marcano returns"
    assert re.search(rf">Updated (\d+ \w+ )?{edited_at}</span></p>", html)
    assert store.rematch_count() == 0
    # Nothing more: the queue is empty and the watermark did not move back.
    assert pipe.match().emails == 0
    assert store.watermark() == article_id


def test_an_update_alert_replies_to_the_first_alert_of_its_reader(store: Store) -> None:
    """The "Updated:" alert of an article a reader was told of before says so in its headers
    (In-Reply-To and References: the first email's Message-ID), so that mail programs show
    it under that email; one to a reader told of it for the first time does not."""
    from alerts.deliver import build_message

    store.sync_topics([
        TopicSpec("Maduro", "Maduro", compile_query("Maduro"), ("desk@x.org",)),
        TopicSpec("Barbados", "Barbados", compile_query("Barbados"), ("desk@x.org", "ed@x.org")),
    ])
    src = add_source(store, "https://a.example/feed", "A")
    article = stored(store, src, paragraphs(WIRE))
    pipe = pipeline(store)
    assert pipe.match().emails == 1
    [first] = store.due_outbox(NOW + timedelta(days=1))
    edit(store, article, paragraphs(WIRE) + "\n\n" + EXTRA, NOW - timedelta(hours=1))
    assert pipe.match().emails == 2
    first_again, *updates = store.due_outbox(NOW + timedelta(days=1))
    by_reader = {m.recipient: build_message(m, "newswatch@x.org") for m in updates}
    assert by_reader["desk@x.org"]["In-Reply-To"] == first.message_id
    assert by_reader["desk@x.org"]["References"] == first.message_id
    assert "Updated" in by_reader["desk@x.org"]["Subject"]
    assert by_reader["ed@x.org"]["In-Reply-To"] is None
    assert build_message(first_again, "newswatch@x.org")["In-Reply-To"] is None


def test_an_update_that_matches_nothing_new_sends_nothing(store: Store) -> None:
    topics(store)
    src = add_source(store, "https://a.example/feed", "A")
    article = stored(store, src, paragraphs(WIRE))
    pipe = pipeline(store)
    pipe.match()
    edit(store, article, paragraphs(WIRE).replace("Caracas", "the capital"), NOW)
    report = pipe.match()
    assert (report.rematched, report.matches, report.emails) == (1, 0, 0)
    assert len(outbox(store)) == 1 and store.rematch_count() == 0


def test_an_old_edit_is_recorded_but_not_alerted_a_recent_edit_of_an_old_article_is(
    store: Store,
) -> None:
    _, barbados = topics(store)
    src = add_source(store, "https://a.example/feed", "A")
    old = stored(store, src, paragraphs(WIRE), published=NOW - timedelta(days=30), slug="old")
    stale = stored(store, src, paragraphs(WIRE)[:900], slug="stale")
    pipe = pipeline(store)
    pipe.match()
    # The copy alerts for its story; the month-old article is out of the look-back window.
    assert [r for r, _ in outbox(store)] == ["desk@x.org"]
    old_id = edit(store, old, paragraphs(WIRE) + "\n\n" + EXTRA, NOW - timedelta(hours=1))
    stale_id = edit(store, stale, paragraphs(WIRE)[:900] + " Barbados.", NOW - timedelta(days=5))
    pipe.match()
    assert (old_id, barbados, 1) in alerts(store)  # edited an hour ago: news
    assert (stale_id, barbados, 0) in alerts(store)  # edited 5 days ago: recorded only
    assert [r for r, _ in outbox(store)] == ["desk@x.org", "ed@x.org"]


def test_an_update_respects_one_alert_per_story(store: Store) -> None:
    """A syndicated copy already alerted Barbados: the edited original does not alert it."""
    _, barbados = topics(store)
    a = add_source(store, "https://a.example/feed", "A")
    b = add_source(store, "https://b.example/feed", "B")
    original = stored(store, a, paragraphs(WIRE))
    copy = replace(original, url="https://b.example/c", entry_url="https://b.example/c",
                   source_id=b, text=paragraphs(WIRE) + "\n\n" + EXTRA)
    assert store.add_article(copy) is not None
    pipe = pipeline(store)
    pipe.match()
    sent = len(outbox(store))
    original_id = edit(store, original, paragraphs(WIRE) + "\n\n" + EXTRA, NOW)
    report = pipe.match()
    assert (report.matches, report.emails, report.repeats) == (1, 0, 1)
    assert (original_id, barbados, 0) in alerts(store)
    assert len(outbox(store)) == sent


def test_a_crash_in_the_match_stage_leaves_the_update_queued(store: Store, monkeypatch) -> None:
    topics(store)
    src = add_source(store, "https://a.example/feed", "A")
    article = stored(store, src, paragraphs(WIRE))
    pipeline(store).match()
    edit(store, article, paragraphs(WIRE) + "\n\n" + EXTRA, NOW)
    real = store.record_matches

    def crash(*args, **kwargs):
        raise RuntimeError("killed between matching and recording")

    monkeypatch.setattr(store, "record_matches", crash)
    with pytest.raises(RuntimeError):
        pipeline(store).match()
    assert store.rematch_count() == 1 and len(outbox(store)) == 1
    monkeypatch.setattr(store, "record_matches", real)
    assert pipeline(store).match().emails == 1  # a restart: the update alerts once
    assert pipeline(store).match().emails == 0
    assert [r for r, _ in outbox(store)] == ["desk@x.org", "ed@x.org"]
    assert store.rematch_count() == 0


# -- what the alert says -------------------------------------------------------------------


def updated_alert(published: datetime | None, updated: datetime | None, source: str = "A"):
    item = AlertItem(
        article_id=1, topic_ids=(1,), topics=("Barbados",), title="Marcano returns",
        url="https://a.example/articles/a", source=source, published=published,
        snippet=(("talks in ", False), ("Barbados", True)), updated=updated,
    )
    return compose("ed@x.org", [item], NOW, tz=ZoneInfo("America/Caracas"))


@pytest.mark.parametrize(("published", "label"), [
    (datetime(2026, 11, 25, 13, 5, tzinfo=UTC), "Updated 11:20"),  # the same day in Caracas
    (datetime(2026, 11, 24, 13, 5, tzinfo=UTC), "Updated 25 Nov 11:20"),
    (datetime(2025, 11, 24, 13, 5, tzinfo=UTC), "Updated 25 Nov 2026 11:20"),
    (None, "Updated 25 Nov 2026 11:20 -04 (America/Caracas)"),
])
def test_an_alert_for_an_edit_says_when_the_article_was_updated(published, label) -> None:
    mail = updated_alert(published, datetime(2026, 11, 25, 15, 20, tzinfo=UTC))
    lines = mail.text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("   A · "))
    # Beside the source and time, or on the next line when that would pass 72 columns.
    assert lines[at].endswith(f" · {label}") or lines[at + 1] == f"   {label}"
    assert all(len(line) <= 72 for line in lines[at : at + 2])
    assert f' &middot; <span style="white-space:nowrap;font-weight:bold;color:#9a5b00;">{label}</span></p>' in mail.html
    assert mail.subject == "[newswatch] Barbados — Updated: Marcano returns"


def test_a_new_article_has_no_updated_label_and_a_long_line_breaks_between_parts() -> None:
    new = updated_alert(datetime(2026, 11, 25, 13, 5, tzinfo=UTC), None)
    assert "Updated" not in new.text and "Updated" not in new.html
    assert new.subject == "[newswatch] Barbados — Marcano returns"
    long = updated_alert(datetime(2026, 11, 25, 13, 5, tzinfo=UTC),
                         datetime(2026, 11, 25, 15, 20, tzinfo=UTC), source="El Diario de Caracas")
    lines = long.text.splitlines()
    at = lines.index("   El Diario de Caracas · 25 Nov 2026 09:05 -04 (America/Caracas)")
    assert lines[at + 1] == "   Updated 11:20"  # on its own line: 72 columns at most


# -- end to end: `newswatch crawl` ------------------------------------------------------------

DESK = {"name": "Harbour", "query": "harbour", "notify": ["desk@test.example"]}
DREDGING = {"name": "Dredging", "query": "dredging", "notify": ["ed@test.example"]}


def stored_version(store: Store, url: str) -> StoredArticle:
    [article] = [a for a in store.articles_after(0) if a.url == url]
    return article


def page_fetches(site, slug: str) -> int:
    return len(site.requests_for(f"/articles/{slug}"))


@pytest.mark.parametrize("source", ["/feeds/world.atom", "/feeds/world.rss", "/sitemaps/news.xml"])
def test_an_article_edited_in_place_updates_and_alerts_once(site, mail, workdir, source) -> None:
    published = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    story: Story = sample_story(
        "harbour-works-delayed", "Harbour works delayed", ["the harbour"], published=published
    )
    site.publish(story)
    workdir.write_config(sources=[site.url(source)], topics=[DESK, DREDGING], smtp=mail)

    first = workdir.newswatch("crawl")
    assert first.returncode == 0, first.stderr
    assert "1 new article(s)" in first.stdout
    [alert] = mail.wait_for(1)
    assert alert["To"] == "desk@test.example"
    assert page_fetches(site, story.slug) == 1

    # Nothing changed: the known article is not fetched again.
    site.publish(sample_story("unrelated-note", "Unrelated", published=published))
    quiet = workdir.newswatch("crawl")
    assert quiet.returncode == 0, quiet.stderr
    assert "updated" not in quiet.stdout
    assert page_fetches(site, story.slug) == 1

    # Edited after it was fetched: a paragraph on dredging (topic Dredging), a newer date.
    with Store.open(workdir.database) as store:
        fetched = stored_version(store, site.article_url(story.slug)).fetched
    body = [*story.body, "Dredging of the outer channel will start in the spring instead."]
    site.revise(story.slug, fetched + timedelta(minutes=1), body=body)
    edited = workdir.newswatch("crawl")
    assert edited.returncode == 0, edited.stderr
    assert "0 new article(s), 1 updated" in edited.stdout
    assert "delivered 1 email(s)" in edited.stdout
    first, update = mail.wait_for(2)
    assert update["To"] == "ed@test.example" and "Dredging" in update["Subject"]
    assert update["Subject"] == "[newswatch] Dredging — Updated: Harbour works delayed"
    text, html = parts(update)
    assert site.article_url(story.slug) in text
    # Both parts say it is an update, with the time of the edit (UTC, the default zone).
    edited_at = f"{fetched + timedelta(minutes=1):%H:%M}"
    assert re.search(rf"^   (.* · )?Updated (\d+ \w+ )?{edited_at}\r?$", text, re.M), text
    assert re.search(rf">Updated (\d+ \w+ )?{edited_at}</span>", html)
    assert "Updated" not in parts(first)[0] and "Updated" not in first["Subject"]
    assert page_fetches(site, story.slug) == 2
    with Store.open(workdir.database) as store:
        article = stored_version(store, site.article_url(story.slug))
        assert "Dredging of the outer channel" in article.text
        assert (article.updated, article.fetched) == (fetched + timedelta(minutes=1), fetched)

    # A newer date without a change of text: fetched once, nothing sent.
    site.revise(story.slug, fetched + timedelta(minutes=2))
    same = workdir.newswatch("crawl")
    assert same.returncode == 0, same.stderr
    assert "updated" not in same.stdout and "delivered 0 email(s)" in same.stdout
    assert page_fetches(site, story.slug) == 3
    again = workdir.newswatch("crawl")
    assert "delivered 0 email(s)" in again.stdout
    assert page_fetches(site, story.slug) == 3
    assert len(mail.messages) == 2



FERRY = {"name": "Ferry", "query": "ferry", "notify": ["ferry@test.example"]}
ISLANDS = {"name": "Islands", "query": "islanders", "notify": ["islands@test.example"]}


def feed_copy(site, kind: str, dated: bool) -> tuple[bytes, dict[str, str]]:
    """The site's world feed as it is now, with the validators a cache keeps with it
    (``dated``: its Last-Modified too)."""
    body = site.render_feed("world", kind)
    snapshot = site.feed_snapshot("world")
    assert body is not None and snapshot is not None
    headers = {"ETag": '"' + hashlib.sha256(body).hexdigest()[:20] + '"'}
    if dated:
        headers["Last-Modified"] = format_datetime(snapshot[1], usegmt=True)
    return body, headers


@pytest.mark.parametrize(("kind", "dated"), [("rss", True), ("atom", False)])
def test_a_feed_flapping_to_an_older_copy_is_no_edit(site, mail, workdir, kind, dated) -> None:
    """A feed behind a flapping CDN: one node serves its current copy, another an older
    snapshot where the story still has the title it was published with. Each poll of the
    old copy "updated" the story back to that title and the next one forward again ("1
    updated" at every poll), and a topic on the old headline only was mailed "Updated:"
    for words the article no longer says. An older copy is told by its Last-Modified going
    backwards (an RSS feed that dates no edit) or by its entry's own date older than the
    stored version's (an Atom feed, served without Last-Modified); a real edit after it
    still updates the article and alerts once."""
    published = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    story = sample_story("ferry-suspended", "Ferry service to the islands suspended",
                         ["the harbour"], published=published)
    site.publish(story)
    if not dated:  # the old copy says when the item was edited last (before its retitle)
        site.revise(story.slug, published + timedelta(minutes=10))
    old = feed_copy(site, kind, dated)
    site.revise(story.slug, published + timedelta(minutes=30),
                title="Crossings suspended after storm damage")
    current = feed_copy(site, kind, dated)
    path = f"/feeds/flapping.{kind}"
    workdir.write_config(sources=[site.url(path)], topics=[DESK, FERRY, ISLANDS], smtp=mail)

    def poll(copy: tuple[bytes, dict[str, str]]) -> str:
        site.serve(path, copy[0], content_type="application/xml", headers=copy[1])
        done = workdir.newswatch("crawl")
        assert done.returncode == 0, done.stderr
        return done.stdout

    first = poll(current)
    assert "1 new article(s)" in first
    [alert] = mail.wait_for(1)
    assert alert["To"] == "desk@test.example"
    url = site.article_url(story.slug)
    for copy in (old, old, current, old, current, old):
        out = poll(copy)
        assert "updated" not in out and "delivered 0 email(s)" in out, out
        with Store.open(workdir.database) as store:
            assert stored_version(store, url).title == "Crossings suspended after storm damage"
    assert len(mail.messages) == 1  # no "Updated: Ferry service to the islands suspended"
    if dated:  # each poll after an old copy asked with the current copy's validators
        asked = [r.headers.get("If-None-Match") for r in site.requests_for(path)]
        assert asked[1:] == [current[1]["ETag"]] * 6

    # A real edit, newer than both copies: read, and mailed once to the topic it matches.
    site.revise(story.slug, datetime.now(UTC).replace(microsecond=0),
                title="Crossings resume, islanders relieved")
    newer = feed_copy(site, kind, dated)
    edited = poll(newer)
    assert "0 new article(s), 1 updated" in edited and "delivered 1 email(s)" in edited, edited
    update = mail.wait_for(2)[1]
    assert update["To"] == "islands@test.example"
    assert update["Subject"] == "[newswatch] Islands — Updated: Crossings resume, islanders relieved"
    for copy in (old, current, newer):
        out = poll(copy)
        assert "updated" not in out and "delivered 0 email(s)" in out, out
    with Store.open(workdir.database) as store:
        assert stored_version(store, url).title == "Crossings resume, islanders relieved"
    assert len(mail.messages) == 2


@pytest.mark.parametrize("source", ["/feeds/world.atom", "/sitemaps/news.xml"])
def test_an_edit_date_ahead_of_now_does_not_hide_the_later_edits(site, mail, workdir,
                                                                  source) -> None:
    """A sitemap whose <lastmod> was ahead of now (a typo of the year, a local time written
    as UTC): it was stored as the article's last edit, and every real edit after it was
    older than that: never read again, the topic on its new paragraph never alerted. A
    date ahead of now is none, as a feed's is."""
    published = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    story = sample_story("harbour-pilots", "Harbour pilots", ["the harbour"],
                         published=published)
    site.publish(story)
    site.revise(story.slug, datetime(2099, 1, 1, tzinfo=UTC))
    workdir.write_config(sources=[site.url(source)], topics=[DESK, DREDGING], smtp=mail)
    first = workdir.newswatch("crawl")
    assert first.returncode == 0, first.stderr
    mail.wait_for(1)
    with Store.open(workdir.database) as store:
        stored = stored_version(store, site.article_url(story.slug))
    body = [*story.body, "Dredging of the outer channel will start in the spring instead."]
    site.revise(story.slug, stored.fetched + timedelta(minutes=1), body=body)
    edited = workdir.newswatch("crawl")
    assert edited.returncode == 0, edited.stderr
    assert "0 new article(s), 1 updated" in edited.stdout, edited.stdout
    assert mail.wait_for(2)[1]["To"] == "ed@test.example"


# -- which known entries are read again ------------------------------------------------------


def test_only_recent_articles_with_a_newer_date_are_read_again(store: Store, monkeypatch) -> None:
    import crawler.entries
    from crawler.entries import Entry
    from crawler.feeds import FeedEntry
    from crawler.job import CrawlJob
    from crawler.report import CrawlReport
    from crawler.spider import NewsSpider

    src = add_source(store, "https://a.example/feed", "A")
    [source] = store.sources()
    base = NOW - timedelta(hours=3)

    def keep(slug: str, fetched: datetime) -> None:
        url = f"https://a.example/articles/{slug}"
        assert store.add_article(Article(
            url=url, entry_url=url, source_id=src, title=slug, text="text", published=base,
            author=None, fetched=fetched, extraction="page", updated=base,
        ))

    def entry(slug: str, updated: datetime | None, host: str = "a.example") -> Entry:
        link = f"https://{host}/articles/{slug}"
        return Entry(source, FeedEntry(link, slug, "", base, None, updated=updated), link)

    keep("edited", NOW - timedelta(hours=2))
    keep("same", NOW - timedelta(hours=2))
    keep("edited-long-ago", NOW - timedelta(days=8))
    keep("edited-too", NOW - timedelta(hours=2))
    spider = NewsSpider(CrawlJob([source], store, CrawlReport(), clock=lambda: NOW))
    try:
        later = base + timedelta(hours=1)
        entries = [
            entry("new", None),
            entry("edited", later),
            entry("edited", later, host="www.a.example"),  # the same article, once a crawl
            entry("same", base),
            entry("edited-long-ago", later),  # fetched before UPDATE_WINDOW
            entry("edited-too", later + timedelta(minutes=1)),
        ]
        monkeypatch.setattr(crawler.entries, "MAX_UPDATES", 1)
        fetched = spider.fresh_entries(entries)
        # The new entry, and the most recently edited known article (MAX_UPDATES of them).
        assert [(e.feed.title, e.article_id is not None) for e in fetched] == [
            ("new", False), ("edited-too", True)
        ]
        assert spider.fresh_entries(entries) == []  # each identity once per crawl
    finally:
        spider.closed("finished")


def test_a_recent_article_retitled_in_its_feed_is_read_again(store: Store) -> None:
    """A story rewritten in place, its link and dates kept ("Maduro leaves Caracas" became
    "Maduro arrives in Minsk", a new summary and page): never read again, the topic on its
    new text never alerted (a review). A new title is a new version; the same title in
    other spaces or case is none."""
    from crawler.entries import Entry
    from crawler.feeds import FeedEntry
    from crawler.job import CrawlJob
    from crawler.report import CrawlReport
    from crawler.spider import NewsSpider

    src = add_source(store, "https://a.example/feed", "A")
    [source] = store.sources()
    base = NOW - timedelta(hours=3)
    for slug, title in (("trip", "Maduro leaves Caracas"), ("same", "Harbour  works delayed")):
        url = f"https://a.example/articles/{slug}"
        assert store.add_article(Article(
            url=url, entry_url=url, source_id=src, title=title, text="text", published=base,
            author=None, fetched=NOW - timedelta(hours=2), extraction="page", updated=base))

    def entry(slug: str, title: str) -> Entry:
        link = f"https://a.example/articles/{slug}"
        return Entry(source, FeedEntry(link, title, "", base, None, updated=base), link)

    spider = NewsSpider(CrawlJob([source], store, CrawlReport(), clock=lambda: NOW))
    try:
        fetched = spider.fresh_entries([entry("trip", "Maduro arrives in Minsk"),
                                        entry("same", "harbour works delayed")])
        assert [(e.feed.title, e.article_id is not None) for e in fetched] == [
            ("Maduro arrives in Minsk", True)]
    finally:
        spider.closed("finished")
    # Another feed of the site that titles the story its own way (a kicker, a curly quote)
    # is no new version: the two read it again at each other's polls (a review).
    add_source(store, "https://a.example/world", "A world")
    other = next(s for s in store.sources() if s.url == "https://a.example/world")
    spider = NewsSpider(CrawlJob([other], store, CrawlReport(), clock=lambda: NOW))
    try:
        link = "https://a.example/articles/same"
        kicker = Entry(other, FeedEntry(link, "Harbour: works delayed", "", base, None,
                                        updated=base), link)
        assert spider.fresh_entries([kicker]) == []
    finally:
        spider.closed("finished")


def test_only_a_dated_older_copy_of_an_item_is_no_edit(store: Store) -> None:
    """An entry's title is no edit when the entry is an older copy than the version stored:
    listed by a document older than its source's last one, or saying it was edited before
    that version. A date that is the item's publication (an RSS item's pubDate, which a
    retitle keeps) tells nothing, even when the stored version is dated later (another
    source's lastmod read since); nor does it keep an older copy's new items out."""
    from crawler.entries import Entry
    from crawler.feeds import FeedEntry
    from crawler.job import CrawlJob
    from crawler.report import CrawlReport
    from crawler.spider import NewsSpider

    src = add_source(store, "https://a.example/feed", "A")
    [source] = store.sources()
    base = NOW - timedelta(hours=3)
    for slug in ("pubdate", "edited", "listed"):
        url = f"https://a.example/articles/{slug}"
        assert store.add_article(Article(
            url=url, entry_url=url, source_id=src, title="Crossings suspended", text="text",
            published=base, author=None, fetched=NOW - timedelta(hours=2), extraction="page",
            updated=base + timedelta(hours=1)))

    def entry(slug: str, updated: datetime, *, older_copy: bool = False) -> Entry:
        link = f"https://a.example/articles/{slug}"
        item = FeedEntry(link, "Ferry service suspended", "", base, None, updated=updated)
        return Entry(source, item, link, older_copy=older_copy)

    spider = NewsSpider(CrawlJob([source], store, CrawlReport(), clock=lambda: NOW))
    try:
        fetched = spider.fresh_entries([
            entry("pubdate", base),  # retitled: its date is its publication's
            entry("edited", base + timedelta(minutes=30)),  # edited before the stored version
            entry("listed", base, older_copy=True),  # in a document older than the last one
            entry("new", base, older_copy=True),
        ])
        assert [(e.url.rpartition("/")[2], e.article_id is not None) for e in fetched] == [
            ("new", False), ("pubdate", True)]
    finally:
        spider.closed("finished")


@pytest.mark.parametrize(("before", "after", "back"), [
    ("Mon, 07 Dec 2026 10:00:00 GMT", "Mon, 07 Dec 2026 09:59:59 GMT", True),
    ("Mon, 07 Dec 2026 10:00:00 GMT", "Mon, 07 Dec 2026 10:00:00 GMT", False),
    ("Mon, 07 Dec 2026 10:00:00 GMT", "Mon, 07 Dec 2026 10:00:01 GMT", False),
    (None, "Mon, 07 Dec 2026 09:00:00 GMT", False),
    ("Mon, 07 Dec 2026 10:00:00 GMT", None, False),
    ("yesterday", "Mon, 07 Dec 2026 09:00:00 GMT", False),  # words no date tells nothing
])
def test_a_document_went_back_only_by_its_readable_last_modified(before, after, back) -> None:
    from crawler.http import went_back

    assert went_back(before, after) is back


def test_an_update_whose_page_is_unavailable_is_read_at_the_next_poll(site, mail, workdir) -> None:
    published = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    story = sample_story("harbour-ferry", "Harbour ferry", ["the harbour"], published=published)
    site.publish(story)
    workdir.write_config(sources=[site.url("/feeds/world.atom")], topics=[DESK, DREDGING],
                         smtp=mail)
    assert workdir.newswatch("crawl").returncode == 0
    mail.wait_for(1)
    body = [*story.body, "Dredging of the outer channel will start in the spring instead."]
    site.revise(story.slug, published + timedelta(minutes=30), body=body)
    site.set_status(f"/articles/{story.slug}", 503)
    down = workdir.newswatch("crawl")
    assert down.returncode == 0, down.stderr
    assert "updated" not in down.stdout and "delivered 0 email(s)" in down.stdout
    with Store.open(workdir.database) as store:
        assert store.deferred_count() == 1
        assert "Dredging" not in stored_version(store, site.article_url(story.slug)).text
    site.clear_status(f"/articles/{story.slug}")
    up = workdir.newswatch("crawl")  # the feed is unchanged, but read in full again
    assert up.returncode == 0, up.stderr
    assert "0 new article(s), 1 updated" in up.stdout and "delivered 1 email(s)" in up.stdout
    assert mail.wait_for(2)[1]["To"] == "ed@test.example"
    with Store.open(workdir.database) as store:
        assert store.deferred_count() == 0


def test_a_digest_entry_caused_by_an_edit_says_updated(store: Store) -> None:
    store.sync_topics([
        TopicSpec("Maduro", "Maduro", compile_query("Maduro"), ("desk@x.org",)),
        TopicSpec("Barbados", "Barbados", compile_query("Barbados"), ("ed@x.org",),
                  mode="digest"),
    ])
    src = add_source(store, "https://a.example/feed", "A")
    article = stored(store, src, paragraphs(WIRE))
    now = [NOW]
    pipe = replace(pipeline(store), clock=lambda: now[0])
    pipe.match()
    assert pipe.digests() == 0  # the first look only starts the recipient's schedule
    edited_at = NOW - timedelta(minutes=30)
    edit(store, article, paragraphs(WIRE) + "\n\n" + EXTRA, edited_at)
    assert pipe.match().queued == 1
    [item] = store.waiting_digest("ed@x.org")
    assert item.edited
    now[0] = NOW + timedelta(days=1)  # a digest time has passed
    assert pipe.digests() == 1
    [(subject, text)] = store.db.execute(
        "SELECT subject, body_text FROM outbox WHERE recipient = 'ed@x.org'"
    ).fetchall()
    assert "Digest" in subject
    assert re.search(rf"Updated (\d+ \w+ )?{edited_at:%H:%M}", text), text


def test_a_poll_whose_callback_raised_is_recorded_as_failed(store: Store) -> None:
    # A callback that raises (newswatch's fault, on some input) leaves its source's poll
    # waiting for an entry that will never settle: the source is recorded as failing, with
    # the error, and backs off, instead of staying due, unrecorded, at every tick.
    from scrapy import Request
    from scrapy.http import HtmlResponse
    from twisted.python.failure import Failure

    from crawler.entries import Entry
    from crawler.feeds import FeedEntry
    from crawler.job import CrawlJob
    from crawler.report import CrawlReport
    from crawler.spider import NewsSpider
    from storage import FetchOutcome

    src = add_source(store, "https://a.example/feed", "A")
    [source] = store.sources()
    spider = NewsSpider(CrawlJob([source], store, CrawlReport(), clock=lambda: NOW))

    def entry(slug: str) -> Entry:
        link = f"https://a.example/articles/{slug}"
        return Entry(source, FeedEntry(link, slug, "", NOW, None), link)

    def article(slug: str) -> Article:  # not stored yet
        url = f"https://a.example/articles/{slug}"
        return Article(url=url, entry_url=url, source_id=src, title=slug, text=f"{slug} text",
                       published=NOW, author=None, fetched=NOW, extraction="page")

    def known(slug: str) -> bool:
        url = f"https://a.example/articles/{slug}"
        return url in store.known_articles([url])

    try:
        held, failing = entry("held"), entry("failing")
        spider.expect(source, FetchOutcome(ok=True, status=200, etag='"v2"'), 3)
        spider._add(held, article("held"))  # held by the poll, to be stored with it
        assert not known("held")
        request = Request(failing.url, cb_kwargs={"entry": failing})
        response = HtmlResponse(failing.url, request=request, body=b"<html></html>")
        spider.callback_failed(Failure(ValueError("boom")), response)
        [after] = store.sources()
        assert after.consecutive_failures == 1 and after.etag is None
        assert after.next_due is not None and after.next_due > NOW
        [failing_source], _ = store.health_changes(NOW + timedelta(days=1), timedelta(0))
        assert failing_source.last_error == "internal error: ValueError: boom"
        assert known("held")
        # The poll's last entry comes in, another callback raises: recorded once.
        spider._add(entry("late"), article("late"))
        spider.callback_failed(Failure(KeyError("again")), response)
        assert store.sources()[0].consecutive_failures == 1
        assert known("late")
    finally:
        spider.closed("finished")


def test_a_feed_that_dates_every_item_anew_at_each_poll_is_not_read_again(
    site, mail, workdir
) -> None:
    """A feed written at each request, every item dated with its time: each poll downloaded
    the pages of 20 of its stored articles again, for a week (a review). Most of its recent
    items dated anew at once to one instant, titles unchanged: the feed's clock, not edits.
    Edits minutes apart (a live blog's), or one among others, are read again."""
    published = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    stories = [sample_story(f"harbour-note-{n}", f"Harbour note {n}", ["the harbour"],
                            published=published) for n in range(5)]
    for story in stories:
        site.publish(story)
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[DESK], smtp=mail)
    first = workdir.newswatch("crawl")
    assert first.returncode == 0 and "5 new article(s)" in first.stdout, first.stdout
    for n in range(1, 3):
        now = published + timedelta(minutes=n)  # each poll's time, as such a feed dates
        for story in stories:
            site.revise(story.slug, now)
        again = workdir.newswatch("crawl")
        assert again.returncode == 0, again.stderr
        assert "updated" not in again.stdout, again.stdout
        assert [page_fetches(site, s.slug) for s in stories] == [1] * 5
    # Three edits at one poll, minutes apart (a live blog's): read again, each.
    edited_at = published + timedelta(minutes=30)
    for n, story in enumerate(stories[2:]):
        site.revise(story.slug, edited_at + timedelta(minutes=5 * n))
    live = workdir.newswatch("crawl")
    assert live.returncode == 0, live.stderr
    assert [page_fetches(site, s.slug) for s in stories] == [1, 1, 2, 2, 2]
    # One edit, the other items' dates left as they are: read again.
    site.revise(stories[0].slug, published + timedelta(minutes=60),
                body=[*stories[0].body, "Dredging of the outer channel starts in spring."])
    edited = workdir.newswatch("crawl")
    assert edited.returncode == 0, edited.stderr
    assert "1 updated" in edited.stdout, edited.stdout
    assert [page_fetches(site, s.slug) for s in stories] == [2, 1, 2, 2, 2]
