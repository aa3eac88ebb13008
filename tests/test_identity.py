"""One article, one identity: the addresses of one page (http/https, www./m./amp. hosts,
trailing slash, default document, a declared rel=canonical) are stored, fetched and alerted
once — in the identity function, in storage, in the schema migration and end to end."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from newssite import Story
from test_end_to_end import MADURO, export, fresh

from crawler.urls import canonicalize, identity_key, is_home_page, same_site
from storage import Article, SourceSpec, Store, open_store

NOW = datetime.now(UTC).replace(microsecond=0)
STORY = "https://news.example/world/2026/11/story-1"


# -- the identity function --------------------------------------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        "http://news.example/world/2026/11/story-1",
        "https://www.news.example/world/2026/11/story-1",
        "https://m.news.example/world/2026/11/story-1/",
        "http://mobile.news.example/world/2026/11/story-1",
        "https://amp.news.example/world/2026/11/story-1",
        "https://www.m.news.example/world/2026/11/story-1",
        "https://news.example/world/2026/11/story-1/index.html",
        "https://NEWS.example:443/world/2026/11/story-1/",
        "http://news.example:80/world/2026/11/story-1/index.htm",
    ],
)
def test_variants_of_one_address_have_one_identity(variant: str) -> None:
    assert identity_key(variant) == identity_key(STORY) == "news.example/world/2026/11/story-1"
    assert identity_key(canonicalize(variant)) == identity_key(STORY)


@pytest.mark.parametrize(
    "other",
    [
        "https://news.example/world/2026/11/story-2",
        "https://news.example/world/2026/11/Story-1",  # paths are case-sensitive
        "https://news.example/world/2026/11/story-1?page=2",
        "https://news.example:8443/world/2026/11/story-1",
        "https://sport.news.example/world/2026/11/story-1",
        "https://news.example/world/2026/11/story-1/index.php/comments",
    ],
)
def test_other_addresses_keep_their_own_identity(other: str) -> None:
    assert identity_key(other) != identity_key(STORY)


def test_identity_edge_cases() -> None:
    # A prefix that is the whole registrable name stays; IP addresses are left alone.
    assert identity_key("https://m.com/a") == "m.com/a"
    assert identity_key("https://amp.dev/about/") == "amp.dev/about"
    assert identity_key("http://127.0.0.1:8080/a/") == "127.0.0.1:8080/a"
    assert identity_key("http://[::1]:8080/a") == "[::1]:8080/a"
    # The query is part of the identity; http and https share a non-default port.
    assert identity_key("https://x.example/?id=4") == "x.example?id=4"
    assert identity_key("http://x.example:81/a") == identity_key("https://x.example:81/a")
    # The home page, however written.
    for home in ("https://www.x.example/", "http://x.example/index.html", "https://x.example"):
        assert identity_key(home) == "x.example"
    assert identity_key("mailto:desk@x.example") == "mailto:desk@x.example"


def test_same_site_and_home_page() -> None:
    assert same_site("https://amp.news.example/a", "https://www.news.example/b")
    assert same_site("http://m.news.example/a", "https://news.example/b")
    assert not same_site("https://news.example/a", "https://sport.news.example/a")
    assert not same_site("https://localhost/a", "https://127.0.0.1/a")
    for home in ("https://x.example", "https://x.example/", "https://x.example/index.php"):
        assert is_home_page(home)
    for page in ("https://x.example/a", "https://x.example/?p=123", "https://x.example/a/"):
        assert not is_home_page(page)


# -- storage ------------------------------------------------------------------------------


@pytest.fixture
def store(store_location: str | Path):
    with open_store(store_location) as s:
        yield s


def source(store: Store) -> int:
    store.sync_sources([SourceSpec("https://news.example/feed", 600, "News")], NOW)
    return store.sources()[0].id


def article(source_id: int, url: str, entry_url: str | None = None, title: str = "T") -> Article:
    return Article(
        url=url, entry_url=entry_url or url, source_id=source_id, title=title,
        text="Some text long enough.", published=NOW, author=None, fetched=NOW,
        extraction="page",
    )


def test_a_variant_of_a_stored_address_is_known_and_not_stored_again(store: Store) -> None:
    src = source(store)
    first = store.add_article(article(src, STORY))
    assert first is not None
    variants = ["http://www.news.example/world/2026/11/story-1/", f"{STORY}/index.html"]
    assert store.known_urls([*variants, STORY + "-2"]) == set(variants)
    for variant in variants:
        assert store.add_article(article(src, variant, title="copy")) is None
    assert store.article_count() == 1
    known = store.known_articles(variants)
    assert {k.article_id for k in known.values()} == {first}
    assert store.article(first).url == STORY  # the address found first is the one kept


def test_the_entry_address_of_a_duplicate_is_remembered(store: Store) -> None:
    """A page at /print/1 declaring the stored article canonical: its address is known
    from then on, so it is never fetched again."""
    src = source(store)
    first = store.add_article(article(src, STORY))
    printed = "https://news.example/print/1"
    assert store.known_urls([printed]) == set()
    assert store.add_article(article(src, STORY, entry_url=printed)) is None
    assert store.known_articles(["http://www.news.example/print/1/"]) == {
        "http://www.news.example/print/1/": store.known_articles([STORY])[STORY]
    }
    assert store.known_articles([printed])[printed].article_id == first
    # An article cannot be stored under an address that is another one's alias.
    assert store.add_article(article(src, printed)) is None
    assert store.article_count() == 1


def test_different_articles_at_one_address_keep_their_own(store: Store, caplog) -> None:
    """Entries of other titles whose pages share one address (a section page they name
    canonical, a consent page they redirect to) are other articles: each is stored under its
    entry's address, the first one moved there too; another address of one of them (same
    title, punctuation aside) is still that article."""
    src = source(store)
    section = "https://news.example/section/world"
    caplog.set_level("INFO", logger="storage.articles")
    first, second = store.add_articles([
        article(src, section, entry_url=STORY, title="Storm hits the coast"),
        article(src, section, entry_url=STORY + "-2", title="Rates held"),
    ])
    assert first is not None and second is not None and first != second
    assert (store.article(first).url, store.article(second).url) == (STORY, STORY + "-2")
    assert store.known_articles([section])[section].article_id == first
    third = store.add_article(Article(**{
        **article(src, section, entry_url=STORY + "-3", title="Strike called").__dict__,
        "summary": "Unions call a strike.",
    }))
    assert third is not None
    stored = store.article(third)
    assert (stored.url, stored.text, stored.extraction) == (
        STORY + "-3", "Unions call a strike.", "feed"  # the page's text was the others' too
    )
    old_slug = "https://news.example/r/9"
    assert store.add_article(article(src, section, old_slug, title="Storm hits the coast!")) is None
    assert store.known_articles([old_slug])[old_slug].article_id == first
    assert store.article_count() == 3
    said = [r.getMessage() for r in caplog.records if r.name == "storage.articles"]
    assert len(said) == 2 and "kept under its own address" in said[0]  # once each


def test_a_stored_article_keeps_its_version_date(store: Store) -> None:
    src = source(store)
    updated = NOW - timedelta(hours=2)
    with_date = store.add_article(
        Article(**{**article(src, STORY).__dict__, "updated": updated})
    )
    without = store.add_article(article(src, STORY + "-2"))
    known = store.known_articles([STORY, STORY + "-2"])
    assert (known[STORY].article_id, known[STORY].version) == (with_date, updated)
    # Without a date from the source, the version is when it was fetched.
    assert (known[STORY + "-2"].article_id, known[STORY + "-2"].version) == (without, NOW)
    assert store.article(with_date).updated == updated


def test_a_version_5_database_gains_identities(tmp_path: Path, monkeypatch) -> None:
    """Existing rows get their identity oldest first; a later row for the same page keeps
    none and says so; feed entry addresses become aliases."""
    import storage.db
    from storage.schema import MIGRATIONS

    path = tmp_path / "old.db"
    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS[:5])
    with Store.open(path) as old:
        src = source(old)
        rows = [
            (STORY, "https://news.example/r/1"),
            ("https://www.news.example/world/2026/11/story-1/", "https://feeds.example/x"),
            (STORY + "-2", STORY + "-2"),
        ]
        ids = [
            old.db.execute(
                "INSERT INTO articles (url, entry_url, source_id, title, text, fetched,"
                " extraction) VALUES (?, ?, ?, 't', 'x', ?, 'page')",
                [url, entry, src, NOW.isoformat()],
            ).lastrowid
            for url, entry in rows
        ]
        old.db.conn.commit()
    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS)
    with Store.open(path) as new:
        identities = dict(new.db.execute("SELECT id, identity FROM articles").fetchall())
        assert identities == {
            ids[0]: identity_key(STORY), ids[1]: None, ids[2]: identity_key(STORY + "-2")
        }
        note = new.db.execute(
            "SELECT extraction_note FROM articles WHERE id = ?", [ids[1]]
        ).fetchone()[0]
        assert note == f"same address as article {ids[0]}"
        known = new.known_articles(
            ["https://news.example/r/1", "https://feeds.example/x", rows[1][0]]
        )
        assert {url: k.article_id for url, k in known.items()} == {
            "https://news.example/r/1": ids[0],
            "https://feeds.example/x": ids[0],
            rows[1][0]: ids[0],
        }
        assert new.add_article(article(src, "http://m.news.example/world/2026/11/story-1-2")) is None
        with pytest.raises(sqlite3.IntegrityError):
            new.db.execute(
                "UPDATE articles SET identity = ? WHERE id = ?", [identity_key(STORY), ids[2]]
            )


# -- end to end: `newswatch crawl` ------------------------------------------------------------


def page_requests(site, slug: str) -> int:
    return sum(
        1 for r in site.requests if r.path.split("/")[1:3] in (["articles", slug], ["print", slug])
    )


def test_addresses_of_one_article_across_feeds_make_one_article_and_one_email(
    site, mail, workdir
) -> None:
    site.domain = "news.localhost"  # resolved to 127.0.0.1 by the tests' netguard
    story: Story = fresh("venezuela-opposition-leader")
    port, path = site.port, f"/articles/{story.slug}"
    links = {
        "world": None,  # the canonical address
        "mobile": f"http://m.news.localhost:{port}{path}/",
        "amp": f"http://amp.news.localhost:{port}{path}/index.html",
        "www": f"http://www.news.localhost:{port}{path}?utm_source=partner",
        "print": f"http://news.localhost:{port}/print/{story.slug}",  # declares the canonical
    }
    for feed, link in links.items():
        site.create_feed(feed)
        site.publish(story, feed=feed, link=link)
    site.publish(fresh("city-late-winner"), feed="world")
    workdir.write_config(
        sources=[{"url": site.url(f"/feeds/{feed}.atom"), "name": feed} for feed in links],
        topics=[MADURO], smtp=mail,
    )

    first = workdir.newswatch("crawl")
    assert first.returncode == 0, first.stderr
    assert "2 new article(s)" in first.stdout
    [message] = mail.wait_for(1)
    canonical = site.article_url(story.slug)
    assert canonical.startswith("http://news.localhost:")
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert canonical in text and "2. " not in text
    assert sorted(a["url"] for a in export(workdir)) == sorted(
        [canonical, site.article_url("city-late-winner")]
    )
    # One fetch for the addresses that share an identity, one for the /print/ page; or the
    # /print/ page alone, where it was read first: stored under the canonical address it
    # declares, the other feeds' addresses of that identity were known by their turn.
    fetched = page_requests(site, story.slug)
    assert fetched in (1, 2), fetched

    # Later: an https address in a new feed, the print feed again (changed, so read in full),
    # and the www. address for a new article. Nothing is fetched or stored twice.
    site.create_feed("secure")
    site.publish(story, feed="secure", link=f"https://news.localhost:{port}{path}/")
    site.publish(story, feed="print")
    site.publish(fresh("central-bank-holds-rates"), feed="www")
    workdir.write_config(
        sources=[{"url": site.url(f"/feeds/{feed}.atom"), "name": feed}
                 for feed in [*links, "secure"]],
        topics=[MADURO], smtp=mail,
    )
    second = workdir.newswatch("crawl")
    assert second.returncode == 0, second.stderr
    assert "6 ok, 0 failed; 1 new article(s)" in second.stdout
    assert "delivered 0 email(s)" in second.stdout
    assert page_requests(site, story.slug) == fetched
    with Store.open(workdir.database) as store:
        assert store.article_count() == 3
        assert store.deferred_count() == 0
    assert len(mail.messages) == 1


def test_a_canonical_pointing_at_the_home_page_is_ignored(site, mail, workdir) -> None:
    """A site whose pages all declare the home page canonical still has many articles."""
    stories = [fresh("venezuela-opposition-leader"), fresh("city-late-winner")]
    for story in stories:
        site.publish(story)
    original = site.render_article

    def home_canonical(story: Story) -> bytes:
        return original(story).replace(
            site.article_url(story.slug).encode(), site.url("/").encode()
        )

    site.render_article = home_canonical  # type: ignore[method-assign]
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[MADURO], smtp=mail)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "2 new article(s)" in result.stdout
    assert sorted(a["url"] for a in export(workdir)) == sorted(
        site.article_url(s.slug) for s in stories
    )


def crawled_twice(site, workdir, stories: list) -> dict[str, dict]:
    """Publish all but the last of ``stories`` and crawl (all new), then the last and crawl
    again (one new); the exported articles by URL."""
    workdir.write_config(sources=[site.url("/feeds/world.rss")])
    for published, new in ((stories[:-1], len(stories) - 1), (stories[-1:], 1)):
        for story in published:
            site.publish(story)
        result = workdir.newswatch("crawl")
        assert result.returncode == 0, result.stderr
        assert f"{new} new article(s)" in result.stdout
    return {a["url"]: a for a in export(workdir)}


def test_articles_declaring_their_section_page_canonical_are_each_stored(site, workdir) -> None:
    """A template that names the section page canonical on every article: each article is
    still stored, with its own text, under its own address, in one crawl and the next."""
    stories = [fresh("venezuela-opposition-leader"), fresh("city-late-winner", 2),
               fresh("central-bank-holds-rates", 0.5)]
    for story in stories:
        site.canonicals[story.slug] = "/section/world"
    articles = crawled_twice(site, workdir, stories)
    assert sorted(articles) == sorted(site.article_url(s.slug) for s in stories)
    for story in stories:
        stored = articles[site.article_url(story.slug)]
        assert stored["title"] == story.title
        assert story.body[-1] in stored["text"] and stored["extraction"].startswith("page")


def test_articles_redirected_to_one_consent_page_are_each_kept(site, workdir) -> None:
    """A site that sends every article page to its consent page (302 to /consent): that
    page is no article (crawler.walls: a site's own consent page redirected to), so each
    entry's page is asked again at the next polls, then each entry is kept under its own
    address with its summary; none has the consent page's text, as the first one had."""
    from crawler.entries import MAX_PAGE_ATTEMPTS

    site.consent_wall = True
    everything = [fresh("venezuela-opposition-leader"), fresh("city-late-winner", 2),
                  fresh("central-bank-holds-rates", 0.5)]
    for story in everything:
        site.publish(story)
    workdir.write_config(sources=[site.url("/feeds/world.rss")])
    for attempt in range(1, MAX_PAGE_ATTEMPTS + 1):
        result = workdir.newswatch("crawl")
        assert result.returncode == 0, result.stderr
        kept = len(everything) if attempt == MAX_PAGE_ATTEMPTS else 0
        assert f"{kept} new article(s)" in result.stdout, result.stdout
    articles = {a["url"]: a for a in export(workdir)}
    assert sorted(articles) == sorted(site.article_url(s.slug) for s in everything)
    for story in everything:
        stored = articles[site.article_url(story.slug)]
        assert (stored["title"], stored["text"], stored["extraction"]) == (
            story.title, story.summary, "feed")
