"""Site template memory (watchlist.templates, storage.siteblocks): blocks a site repeats on its
other pages are taken out of an article's text; a real SQLite file holds the memory."""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import Workdir

from alerts import MboxTransport, RetryPolicy
from scheduler.daemon import Daemon
from scheduler.pipeline import Pipeline
from scheduler.upkeep import BLOCK_MEMORY
from storage import Article, SourceSpec, Store, StoredArticle, TopicSpec, utcnow
from storage import open_store as storage_open_store
from watchlist import compile_query
from watchlist.templates import MIN_OWN_WORDS, blocks, site_of, strip_blocks, without_templates

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
DISCLAIMER = (
    "Disclaimer: our coverage of the pipeline dispute is funded in part by the Northgate "
    "Energy Trust, which has no say over what we publish."
)


def body(n: int, words: int = 40) -> str:
    """Two paragraphs of an article of its own (``words`` words each)."""
    return "\n".join(
        " ".join(f"story{n}word{i}para{p}" for i in range(words)) for p in range(2)
    )


@pytest.fixture
def store(store_location: str | Path):
    with storage_open_store(store_location) as s:
        yield s


def add(store: Store, host: str, slug: str, text: str, fetched: datetime = NOW) -> StoredArticle:
    store.sync_sources([SourceSpec(f"https://{host}/feed", 600)], NOW)
    source_id = next(s.id for s in store.sources() if s.url == f"https://{host}/feed")
    url = f"https://{host}/articles/{slug}"
    article_id = store.add_article(
        Article(url=url, entry_url=url, source_id=source_id, title=slug, text=text,
                published=fetched - timedelta(hours=1), author=None, fetched=fetched,
                extraction="page:precision")
    )
    assert article_id is not None
    return store.article(article_id)


def test_blocks_are_lines_hashed_without_case_punctuation_or_spacing() -> None:
    found = blocks("First  line, here.\n\n  first line HERE \nAnother one")
    assert [b.words for b in found] == [3, 3, 2]
    assert found[0].hash == found[1].hash != found[2].hash
    assert "First  line, here.\n\n  first line HERE \nAnother one"[found[2].start:found[2].end] == (
        "Another one"
    )


def _line_by_line(text: str) -> list[tuple[int, int, int, int]]:
    """blocks() as it was first written: each line normalized and cut by ``\\w+``."""
    found, start = [], 0
    for line in text.split("\n"):
        end = start + len(line)
        words = re.findall(r"\w+", unicodedata.normalize("NFKC", line).casefold())
        if words:
            digest = hashlib.blake2b(" ".join(words).encode(), digest_size=8).digest()
            found.append((start, end, int.from_bytes(digest, "big", signed=True), len(words)))
        start = end + 1
    return found


def test_blocks_are_the_words_of_each_line_whatever_the_characters() -> None:
    """Blocks cut from the text's bytes, chunk by chunk (watchlist.bytewords), are those of
    each line normalized and cut on its own: separators of every kind, compatibility
    characters (ligatures, superscripts, circled digits), combining marks at a line's start,
    case folds that grow (ß), other scripts."""
    rng = random.Random(12)
    alphabet = list("aZ_09 \n\t\r\x0b\x0c\x1c\x1f\x85\u2028\u00a0\u3000-.,;\u00ab\u00bb\u2014"
                    "\u00e9\u00c9\u00df\ufb01\u0301\u0308\u00b2\u2460\u01c5\u03a3\u03c2\u0130"
                    "\u0131\u0149\u00bd\u2126\u212b\uff21\u0660\u4e2d\u0915\u093f")
    alphabet += [chr(rng.randrange(0x80, 0x3000)) for _ in range(200)]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        got = [(b.start, b.end, b.hash, b.words) for b in blocks(text)]
        assert got == _line_by_line(text), repr(text)


def test_site_is_the_host_without_www_and_with_its_port() -> None:
    assert site_of("https://www.Example.com/a?b=1") == "example.com"
    assert site_of("http://127.0.0.1:8123/x") == "127.0.0.1:8123"
    # Not URLs that a crawl stores, but never an error (the templates stage ran in the daemon).
    assert site_of("http://127.0.0.1:99999/x") == "http://127.0.0.1:99999/x"
    assert site_of("http://[::1/x") == "http://[::1/x"
    assert site_of("http://127.0.0.1:8124/x") != site_of("http://127.0.0.1:8123/x")


def test_strip_keeps_a_text_whole_when_too_little_of_its_own_would_remain() -> None:
    text = f"{DISCLAIMER}\nA short line of its own."
    found = blocks(text)
    assert strip_blocks(text, found, {found[0].hash}) == ""
    long_text = f"{body(1)}\n{DISCLAIMER}"
    found = blocks(long_text)
    stripped = strip_blocks(long_text, found, {found[-1].hash})
    assert stripped == body(1) and len(stripped.split()) >= MIN_OWN_WORDS


def test_a_block_on_two_other_articles_of_the_site_is_removed_everywhere(store: Store) -> None:
    batch = [add(store, "news.example", f"a{n}", f"{body(n)}\n{DISCLAIMER}") for n in range(3)]
    result = without_templates(store, batch, {a.id: a.id for a in batch})
    assert [a.text for a in result] == [body(n) for n in range(3)]
    for a in batch:  # stored so, and said so
        stored = store.article(a.id)
        assert stored.text == body(a.id - batch[0].id)
        row = store.db.execute("SELECT extraction_note FROM articles WHERE id = ?", [a.id])
        assert "site template removed (1 block(s))" in row.fetchone()[0]
    # The archive's search follows the stored text.
    assert store.search("pipeline") == []


def test_a_background_paragraph_a_site_reuses_on_one_subject_stays(store: Store) -> None:
    """A wire-style background paragraph in four of a site's twelve stories was taken for
    template and cut from all four: often the only place the topic's name is (no alert,
    and search no longer found them). A long block is template when it stands in at least
    half of the site's stories, as the disclaimer does; a short one (a "Read more" line)
    when it stands in three."""
    background = ("Venezuelan President Nicolás Maduro, who has ruled the country since 2013, "
                  "denies the accusations.")
    batch = []
    for n in range(12):
        own = body(n).split("\n")
        middle = [background, "Read more"] if n < 4 else []
        batch.append(add(store, "news.example", f"a{n}",
                         "\n".join([own[0], *middle, own[1], DISCLAIMER])))
    result = without_templates(store, batch, {a.id: a.id for a in batch})
    for n, article in enumerate(result):
        assert (background in article.text) == (n < 4)
        assert "Read more" not in article.text and "Disclaimer" not in article.text
    assert len(store.search("Maduro")) == 4


def test_a_redesigns_new_box_is_template_after_recent_stories_not_half_the_memory(
    store: Store,
) -> None:
    """A site relaunched with a new box under every article, long enough to read as prose
    (Stern's 40-word partner-brand disclaimer): it was template only once it stood in half
    of all the stories the memory held, the old template's included: a false alert on every
    new article for weeks (a review, on fundus's pages). It weighs against the stories since
    it first stood in one, at least RECENT_STORIES of them."""
    box = ("Capital is a partner brand of the Gazette; both belong to Quorvath News, which "
           "runs the site and answers for what it publishes.")
    for n in range(40):  # the old template's stories, each matched in its own poll
        old = add(store, "news.example", f"old{n}", f"{body(n)}\n{DISCLAIMER}")
        without_templates(store, [old], {})
    kept = []
    for n in range(40, 62):  # the new template's, one a poll
        new = add(store, "news.example", f"new{n}", f"{body(n)}\n{box}")
        [result] = without_templates(store, [new], {})
        kept.append(box in result.text)
    # Stripped once it stands in RECENT_SHARE of RECENT_STORIES (the story and 14 others).
    assert kept == [True] * 14 + [False] * 8
    assert len(store.search("Quorvath")) == 14
    # A box the site leaves off its live blogs and videos (one story in seven) is learnt too
    # (a diff review: at 90 % of the stories since, never).
    sometimes = box.replace("Capital", "Bulletin")
    kept = []
    for n in range(62, 102):
        text = body(n) if n % 7 == 0 else f"{body(n)}\n{sometimes}"
        [result] = without_templates(store, [add(store, "news.example", f"newer{n}", text)], {})
        if n % 7:
            kept.append(sometimes in result.text)
    assert kept.count(True) <= 15 and kept[-10:] == [False] * 10


def test_a_burst_of_stories_on_one_subject_keeps_its_background_paragraph(
    store: Store,
) -> None:
    """Eleven of a site's twenty latest stories on one subject, each with the same long
    background paragraph, the only place the topic's name is: weighed against the stories
    since it first stood in one, at half, it was stripped from the tenth on (the topic's
    alerts lost; a diff review). It is the article's own text: a redesign's box stands in
    every story since, a subject's paragraph in some."""
    background = ("Venezuelan President Nicolás Maduro, who has ruled the country since 2013, "
                  "denies the accusations and calls them a pretext for sanctions.")
    for n in range(40):
        without_templates(store, [add(store, "news.example", f"old{n}", body(n))], {})
    kept = []
    for n in range(40, 60):
        subject = n % 2 == 0 or n == 59
        text = f"{body(n)}\n{background}" if subject else body(n)
        [result] = without_templates(store, [add(store, "news.example", f"new{n}", text)], {})
        if subject:
            kept.append(background in result.text)
    assert kept == [True] * 11
    assert len(store.search("Maduro")) == 11


def test_a_block_on_one_other_article_only_stays(store: Store) -> None:
    batch = [add(store, "news.example", f"a{n}", f"{body(n)}\n{DISCLAIMER}") for n in range(2)]
    result = without_templates(store, batch, {})
    assert [a.text for a in result] == [a.text for a in batch]


def test_the_memory_survives_a_restart_and_serves_later_articles(tmp_path: Path) -> None:
    path = tmp_path / "newswatch.db"
    with Store.open(path) as store:
        first = [add(store, "news.example", f"a{n}", f"{body(n)}\n{DISCLAIMER}") for n in range(2)]
        without_templates(store, first, {})
    with Store.open(path) as store:
        later = add(store, "news.example", "a9", f"{DISCLAIMER}\n{body(9)}")
        [result] = without_templates(store, [later], {})
        assert result.text == body(9)


def test_other_sites_and_the_same_story_do_not_count(store: Store) -> None:
    # A wire story on three sites: each site has seen it once.
    wire = [add(store, f"site{n}.example", "wire", f"{body(0)}\n{DISCLAIMER}") for n in range(3)]
    assert [a.text for a in without_templates(store, wire, {})] == [a.text for a in wire]
    # Three versions of one story on one site (one story id): they never strip each other.
    versions = [add(store, "one.example", f"v{n}", body(0)) for n in range(3)]
    story = {a.id: versions[0].id for a in versions}
    store.assign_stories([(a.id, None if i == 0 else versions[0].id, None, None, None)
                          for i, a in enumerate(versions)], NOW)
    assert [a.text for a in without_templates(store, versions, story)] == [body(0)] * 3


def test_a_sentence_quoted_inside_a_paragraph_is_not_the_block(store: Store) -> None:
    others = [add(store, "news.example", f"a{n}", f"{body(n)}\n{DISCLAIMER}") for n in range(3)]
    quoting = add(store, "news.example", "q",
                  f"{body(5)}\nThe paper's note reads: {DISCLAIMER} Critics disagree.")
    result = {a.id: a for a in without_templates(store, [*others, quoting], {})}
    assert "pipeline dispute" in result[quoting.id].text
    assert "pipeline" not in result[others[0].id].text


def test_forgetting_old_articles_forgets_their_blocks(store: Store) -> None:
    batch = [add(store, "news.example", f"a{n}", f"{body(n)}\n{DISCLAIMER}") for n in range(2)]
    without_templates(store, batch, {})
    assert store.forget_blocks(NOW - timedelta(days=1)) == 0
    assert store.forget_blocks(NOW + timedelta(seconds=1)) > 0
    later = replace(add(store, "news.example", "a9", f"{body(9)}\n{DISCLAIMER}"))
    assert [a.text for a in without_templates(store, [later], {})] == [later.text]


def test_a_new_version_of_an_article_loses_the_template_again_noted_once(store: Store) -> None:
    batch = [add(store, "news.example", f"a{n}", f"{body(n)}\n{DISCLAIMER}") for n in range(3)]
    without_templates(store, batch, {})
    first = batch[0]
    edited = f"{body(0)} A sentence added by an edit.\n{DISCLAIMER}"
    version = Article(url=first.url, entry_url=first.url, source_id=first.source_id,
                      title=first.title, text=edited, published=first.published, author=None,
                      fetched=NOW, extraction="page:precision", updated=NOW)
    assert store.update_article(first.id, version, NOW)
    [queued] = store.rematch_queue()
    [again] = without_templates(store, [queued], {})
    assert again.text == f"{body(0)} A sentence added by an edit."
    assert store.article(first.id).text == again.text
    note = store.db.execute("SELECT extraction_note FROM articles WHERE id = ?", [first.id])
    assert note.fetchone()[0].count("site template removed") == 1


def test_the_daemon_matches_nothing_while_a_crawl_stores_a_sites_pages(
    store: Store, tmp_path: Path
) -> None:
    """The outbox job delivers but leaves matching to the crawl's end: matched mid-crawl, a
    site's first pages would not know its template yet."""
    batch = [add(store, "news.example", f"a{n}", f"{body(n)}\n{DISCLAIMER}") for n in range(3)]
    store.sync_topics([TopicSpec("Pipeline", "pipeline", compile_query("pipeline"), ("d@x.org",))])
    pipeline = Pipeline(store=store, crawler=None, transport=MboxTransport(tmp_path / "mbox"),  # type: ignore[arg-type]
                        lookback=timedelta(days=2), retry=RetryPolicy(), clock=lambda: NOW)
    daemon = Daemon(pipeline, tick_seconds=30)
    pipeline.crawling = True
    asyncio.run(daemon.outbox_tick())
    assert store.watermark() == 0 and store.article(batch[0].id).text == batch[0].text
    pipeline.crawling = False
    asyncio.run(daemon.outbox_tick())
    assert store.watermark() == batch[-1].id
    assert store.db.execute("SELECT COUNT(*) FROM matches").fetchone()[0] == 0
    assert store.article(batch[0].id).text == body(0)


def test_housekeeping_forgets_the_blocks_of_articles_older_than_the_memory(
    store: Store, tmp_path: Path
) -> None:
    batch = [add(store, "news.example", f"a{n}", f"{body(n)}\n{DISCLAIMER}") for n in range(3)]
    without_templates(store, batch, {})

    def rows() -> int:
        return int(store.db.execute("SELECT COUNT(*) FROM site_blocks").fetchone()[0])

    assert rows() == 9  # two paragraphs and the note, three articles
    for days, left in ((BLOCK_MEMORY.days - 1, 9), (BLOCK_MEMORY.days + 1, 0)):
        pipeline = Pipeline(store=store, crawler=None, transport=None,  # type: ignore[arg-type]
                            lookback=timedelta(days=2), retry=RetryPolicy(),
                            clock=lambda days=days: NOW + timedelta(days=days))
        pipeline.housekeeping()
        assert rows() == left


def test_prune_forgets_the_blocks_of_articles_older_than_the_memory(
    store_location: str | Path, workdir: Workdir
) -> None:
    """Run from cron beside `crawl` (no daemon, no hourly housekeeping), `prune` left the site
    memory of every article ever stored, three rows and more an article: it forgets that of
    the articles older than BLOCK_MEMORY as the housekeeping does (their text kept: the
    default database.keep is longer)."""
    if isinstance(store_location, str):  # on PostgreSQL too
        workdir.database_url = store_location
    workdir.write_config()
    now = utcnow()
    with storage_open_store(store_location) as store:
        old = [add(store, "news.example", f"old{n}", f"{body(n)}\n{DISCLAIMER}",
                   fetched=now - BLOCK_MEMORY - timedelta(days=1)) for n in range(3)]
        recent = [add(store, "news.example", f"new{n}", f"{body(n + 3)}\n{DISCLAIMER}",
                      fetched=now - timedelta(days=1)) for n in range(3)]
        without_templates(store, [*old, *recent], {})
    pruned = workdir.newswatch("prune")
    assert pruned.returncode == 0, pruned.stderr
    assert "pruned the text of 0 article(s)" in pruned.stdout
    with storage_open_store(store_location) as store:
        left = store.db.execute("SELECT DISTINCT article_id FROM site_blocks").fetchall()
        assert sorted(int(r[0]) for r in left) == [a.id for a in recent]
        assert store.article(old[0].id).text
