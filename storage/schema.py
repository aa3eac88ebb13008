"""The database schema, as an ordered list of migrations.

``PRAGMA user_version`` records how many migrations a database has had; opening a database
applies the missing ones, each in its own transaction. A migration is an SQL script, or a
function of the connection for a step that needs Python (it must not commit).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from .identity import identity_key
from .linkshapes import LINK_SHAPES_MIGRATION
from .repair import restore_key, restore_url
from .segment import (
    DIGIT_RANGES,
    INDIC_MARK_RANGES,
    LETTER_VARIANTS,
    NUKTA_LETTERS,
    char_class,
    segment,
)
from .stories import COPY_INDEXES

Migration = str | Callable[[sqlite3.Connection], None]


def _url_identity(conn: sqlite3.Connection) -> None:
    """6: URL identity (see storage.identity) and articles updated in place.

    ``articles.identity`` is unique: the existing articles get theirs oldest first, and a
    later article whose URL has the same identity (the same page stored twice under two
    addresses) keeps none and says so in its ``extraction_note``. ``article_aliases`` holds
    the other identities that lead to an article (its feed entry's URL, an address whose
    page declared the article's URL canonical). ``articles.updated`` is the date the source
    gave the stored version (feed ``updated``, sitemap ``lastmod``); ``rematch`` queues the
    articles whose text changed in place for matching again.
    """
    for statement in (
        "ALTER TABLE articles ADD COLUMN identity TEXT",
        "ALTER TABLE articles ADD COLUMN updated TEXT",
        """
        CREATE TABLE article_aliases (
            identity TEXT PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id)
        )
        """,
        """
        CREATE TABLE rematch (
            article_id INTEGER PRIMARY KEY REFERENCES articles(id),
            queued TEXT NOT NULL
        )
        """,
    ):
        conn.execute(statement)
    rows = conn.execute("SELECT id, url, entry_url FROM articles ORDER BY id").fetchall()
    owners: dict[str, int] = {}
    for article_id, url, _entry_url in rows:
        owner = owners.setdefault(identity_key(url), article_id)
        if owner == article_id:
            conn.execute(
                "UPDATE articles SET identity = ? WHERE id = ?", [identity_key(url), article_id]
            )
        else:
            conn.execute(
                "UPDATE articles SET extraction_note = COALESCE(extraction_note || '; ', '') "
                "|| ? WHERE id = ?",
                [f"same address as article {owner}", article_id],
            )
    aliases: dict[str, int] = {}
    for _article_id, url, entry_url in rows:
        key = identity_key(entry_url)
        if key not in owners:
            aliases.setdefault(key, owners[identity_key(url)])
    conn.executemany("INSERT INTO article_aliases VALUES (?, ?)", aliases.items())
    conn.execute("CREATE UNIQUE INDEX articles_identity ON articles(identity)")


def _restored_urls(conn: sqlite3.Connection) -> None:
    """9: URLs as their pages wrote them (see storage.repair), identities recomputed.

    Article URLs, entry URLs, skipped and deferred URLs get the parameters the old cleaner
    merged into their neighbour back (``id=1%C2%A7ionid%3D2`` → ``id=1&sectionid=2``).
    Every article's identity is computed again from its restored URL (the parameters are
    now sorted inside the key, and kept in their order in the URL), oldest article first,
    as migration 6 did: a later article whose identity is already an older one's (the same
    page stored twice, once under a mangled address) keeps none and says so in its
    ``extraction_note``; an article whose restored URL is already another's keeps its stored
    URL and says so. Nothing is deleted. Alias identities are restored the same way; an
    alias that now names an article itself is dropped. What the old cleaner dropped cannot
    be restored (see storage.repair).
    """
    rows = conn.execute("SELECT id, url, entry_url, identity FROM articles ORDER BY id")
    articles = rows.fetchall()
    urls = {url for _, url, _, _ in articles}
    conn.execute("UPDATE articles SET identity = NULL")
    owners: dict[str, int] = {}
    for article_id, url, entry_url, identity in articles:
        notes = []
        restored = restore_url(url)
        key = identity_key(restored)
        if restored != url and restored in urls:
            notes.append(f"address {restored} is another article's")
            restored = url
        urls.add(restored)
        owner = owners.setdefault(key, article_id)
        if owner != article_id and identity is not None:
            notes.append(f"same address as article {owner}")
        conn.execute(
            "UPDATE articles SET url = ?, entry_url = ?, identity = ?, extraction_note ="
            " CASE WHEN ? = '' THEN extraction_note"
            " ELSE COALESCE(extraction_note || '; ', '') || ? END WHERE id = ?",
            [
                restored,
                restore_url(entry_url),
                key if owner == article_id else None,
                "; ".join(notes),
                "; ".join(notes),
                article_id,
            ],
        )
    aliases = conn.execute("SELECT identity, article_id FROM article_aliases").fetchall()
    conn.execute("DELETE FROM article_aliases")
    conn.executemany(
        "INSERT OR IGNORE INTO article_aliases (identity, article_id) VALUES (?, ?)",
        [(restore_key(key), article_id) for key, article_id in aliases],
    )
    conn.execute(
        "DELETE FROM article_aliases WHERE identity IN "
        "(SELECT identity FROM articles WHERE identity IS NOT NULL)"
    )
    for table in ("skipped_urls", "deferred_entries"):
        for (url,) in conn.execute(f"SELECT url FROM {table}").fetchall():
            if restore_url(url) != url:
                conn.execute(
                    f"UPDATE OR IGNORE {table} SET url = ? WHERE url = ?", [restore_url(url), url]
                )
                conn.execute(f"DELETE FROM {table} WHERE url = ?", [url])


#: Articles read at a time by a migration that walks them all.
_WALK = 5000


def _recanonicalized(conn: sqlite3.Connection) -> None:
    """17: addresses canonicalized anew (crawler.urls: news sites' own trackers such as
    ``?cmp=rss`` or ``?xtor=RSS-3208``, session ids such as ``;jsessionid=``).

    An article stored under an address that held one keeps its URL and identity, and gets
    the identity its address (and its entry's) has now as an alias, unless that is another
    article's: its next listing is known, not fetched and alerted again. An address with a
    fragment (a feed item without a link: its site's address and its guid) is left as it
    is. Skipped and deferred URLs are rewritten (a row already under the new one wins).
    """
    from crawler.urls import canonicalize  # storage's own step, in the crawler's terms

    _known_anew(conn, canonicalize)


#: What the URL cleaner of the first versions (before schema 9) escaped in a path that a
#: feed writes as it is: ``( ) ' * @ ;`` (``s1(1)`` stored as ``s1%281%29``).
_OLD_PATH_ESCAPES = re.compile("%(28|29|27|2[aA]|40|3[bB])")


def _old_escapes_undone(conn: sqlite3.Connection) -> None:
    """20: addresses stored by the first versions (before schema 9), whose URL cleaner
    escaped ``( ) ' * @ ;`` in paths and wrote a query's ``%20`` as ``+``: migration 9 undid
    only its damage to entities, and migration 17 canonicalized the escaped address, so the
    page, listed as it is written, was new: fetched, stored and alerted again (an upgrade
    from schema 8). Such an article is known by its address as written, as 17 does."""
    from crawler.urls import canonicalize

    def written(url: str) -> str:
        parts = urlsplit(url)
        path = _OLD_PATH_ESCAPES.sub(lambda m: chr(int(m.group(1), 16)), parts.path)
        return canonicalize(urlunsplit(parts._replace(path=path,
                                                      query=parts.query.replace("+", "%20"))))

    _known_anew(conn, written)


#: The function the archive index's triggers read a text through (storage.segment): each
#: connection registers it (:func:`register_functions`).
SEGMENT_FUNCTION = "nw_segment"


def _segment_value(value: str | None) -> str | None:
    return segment(value) if isinstance(value, str) else value


def register_functions(conn: sqlite3.Connection) -> None:
    """What the schema's triggers call: registered on every connection that writes."""
    conn.create_function(SEGMENT_FUNCTION, 1, _segment_value, deterministic=True)


def _segmented_index(conn: sqlite3.Connection) -> None:
    """21: the archive's index reads each CJK character as a word (storage.segment), as the
    matching does: it read a run of them, and a Latin word or number written against them
    (北京でNATO事務総長と, 2024年, Samsung은), as one word, so that `search` and `topics
    test` missed articles the matching alerted on. The index's content is a view of the
    articles' texts through SEGMENT_FUNCTION (so that FTS5's rebuild and integrity check
    read what it indexed), built anew."""
    f = SEGMENT_FUNCTION
    for statement in (
        "DROP TRIGGER articles_ai",
        "DROP TRIGGER articles_ad",
        "DROP TRIGGER articles_au",
        "DROP TABLE articles_fts",
        f"""CREATE VIEW articles_indexed AS
            SELECT id, {f}(title) AS title, {f}(text) AS text, {f}(source) AS source
            FROM articles""",
        """CREATE VIRTUAL TABLE articles_fts USING fts5(
            title, text, source, content='articles_indexed', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2'
        )""",
        "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')",
        f"""CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
            INSERT INTO articles_fts(rowid, title, text, source)
                VALUES (new.id, {f}(new.title), {f}(new.text), {f}(new.source));
        END""",
        f"""CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, title, text, source)
                VALUES ('delete', old.id, {f}(old.title), {f}(old.text), {f}(old.source));
        END""",
        f"""CREATE TRIGGER articles_au AFTER UPDATE OF title, text, source ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, title, text, source)
                VALUES ('delete', old.id, {f}(old.title), {f}(old.text), {f}(old.source));
            INSERT INTO articles_fts(rowid, title, text, source)
                VALUES (new.id, {f}(new.title), {f}(new.text), {f}(new.source));
        END""",
    ):
        conn.execute(statement)


def _marks_rewritten(conn: sqlite3.Connection) -> None:
    """28: the archive's index reads Arabic's harakat and tatweel and Hebrew's points as
    nothing, the Indic scripts' vowel signs as letters of their word, full-width Latin
    letters and digits as ASCII (storage.segment), as the matching does: built anew from
    the articles as they read now. (Not only the articles that hold such marks, deleted as
    schema 21 indexed them: an upgrade cut off after 21, whose rebuild read them anew
    already, left an index that such a delete damaged; a review.)"""
    conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")


def _apostrophes_rewritten(conn: sqlite3.Connection) -> None:
    """31: the archive's index reads the modifier letter apostrophe (U+02BC: DW's
    "Germany\u02bcs") as the typographic one, a word break, as the matching does
    (storage.segment): built anew, as 28."""
    conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")


#: Texts holding an Arabic-script letter written two ways or a Devanagari letter with its
#: nukta as one character (storage.segment), as a character class (49).
LETTER_VARIANTS_CHARS = "[" + "".join([*LETTER_VARIANTS, *NUKTA_LETTERS]) + "]"


def _letters_read_as_one(conn: sqlite3.Connection) -> None:
    """49: the archive's index reads an Arabic-script letter written two ways (أحمد احمد,
    the Persian keyboard's ی and ک and the Arabic one's ي and ك) as one, a Devanagari letter
    with its nukta as one character (ज़) as the letter and the nukta, and the bidi isolates
    and the Arabic letter mark as spaces, as the matching does (storage.segment): built
    anew, as 28. The story signatures of the window's texts that hold such a letter are made
    again from them (stale: the story index's next build, as migration 14's), their words
    being folded so now: a copy stored after the upgrade is compared word for word."""
    conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
    _signatures_made_again(conn, LETTER_VARIANTS_CHARS)


#: Texts holding a vowel sign, virama or other mark of an Indic script (storage.segment), as
#: a character class (50).
INDIC_MARKS_CHARS = "[" + char_class(INDIC_MARK_RANGES) + "]"


def _indic_words_whole(conn: sqlite3.Connection) -> None:
    """50: a story signature's words keep the Indic scripts' vowel signs and viramas
    (watchlist.stories: a Hindi word was its consonants apart, each a word). The story
    window's signatures of texts that hold such a mark are made again from them, as 49's: a
    copy stored after the upgrade is compared with words cut as its own are."""
    _signatures_made_again(conn, INDIC_MARKS_CHARS)


#: Texts holding a digit of another script than ASCII's (storage.segment), as a character
#: class (52).
DIGITS_CHARS = "[" + char_class(DIGIT_RANGES) + "]"


def _digits_read_as_ascii(conn: sqlite3.Connection) -> None:
    """52: the archive's index reads a digit of another script (Persian's ۲۰۲۶, Arabic's
    ٢٠٢٦, Devanagari's २०२६, Bengali's ২০২৬, Thai's...) as the ASCII digit of its value, as
    the matching does (storage.segment): built anew, as 28. The story signatures of the
    window's texts that hold such a digit are made again, as 49's."""
    conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
    _signatures_made_again(conn, DIGITS_CHARS)


def _publishers_without_markup(conn: sqlite3.Connection) -> None:
    """55: the publisher an aggregator's item named with markup (a Google News or an
    Inoreader item's <source> written as CDATA, "<![CDATA[<b>Reuters</b>]]>"; a Bing News
    item's <News:Source>), kept so by the versions that read that name as plain text, is
    named as crawler.feeds reads it now: "Reuters" in emails, `export` and `stories` (where
    it was a publisher apart from its later items'), and in the archive's index. An entry
    deferred so is named so too. Only names holding a "<" are read again."""
    from crawler.feeds import html_to_text  # the crawl's own reading of the name

    for article_id, publisher in conn.execute(
        "SELECT id, publisher FROM articles WHERE publisher LIKE '%<%'"
    ).fetchall():
        plain = html_to_text(publisher)
        conn.execute(
            "UPDATE articles SET publisher = ?, source = replace(source, ?, ?) WHERE id = ?",
            [plain or None, publisher, plain, article_id],
        )
    for url, publisher in conn.execute(
        "SELECT url, publisher FROM deferred_entries WHERE publisher LIKE '%<%'"
    ).fetchall():
        conn.execute(
            "UPDATE deferred_entries SET publisher = ? WHERE url = ?",
            [html_to_text(publisher), url],
        )


def _signatures_made_again(conn: sqlite3.Connection, chars: str) -> None:
    """The story window's signatures of the texts that hold one of ``chars`` (a character
    class) listed as stale: made again from the texts at the story index's next build (as
    migration 14's). The texts are searched by Python's regular expressions: SQLite's GLOB
    tries a class of many ranges one range at a time at each character, about 2 MB of text
    a second for the digits' (30 MB of real article texts: 16 s against 1.2 s), and an
    upgrade from 49 ran it three times over the window's texts."""
    holds = re.compile(chars).search
    stale = [(article_id,) for article_id, text in conn.execute(
        "SELECT s.article_id, a.text FROM story_signatures s"
        " JOIN articles a ON a.id = s.article_id"
    ) if text and holds(text)]
    conn.executemany("INSERT OR IGNORE INTO stale_signatures VALUES (?)", stale)


def _sessions_dropped(conn: sqlite3.Connection) -> None:
    """27: session ids canonicalized away (crawler.urls: osCommerce's ``osCsid=``, phpBB's
    ``sid=<32 hex>``, ASP.NET's ``/(S(...))/``): as 17, for the articles whose address may
    hold one (a site writing a new one into each link stored an article a poll)."""
    from crawler.urls import canonicalize

    _known_anew(conn, canonicalize, among=_MAY_HOLD_SESSION)


#: The articles whose address (or entry's) may hold a session id of migration 27.
_MAY_HOLD_SESSION = " AND (" + " OR ".join(
    f"lower({column}) LIKE '%{mark}%'" for column in ("url", "entry_url")
    for mark in ("sid", "sess", "/(", "zenid", "bv_", "s=")) + ")"


def _known_anew(
    conn: sqlite3.Connection, anew: Callable[[str], str], among: str = ""
) -> None:
    """Each article (``among``: of those an SQL condition picks) gets the identity of its
    address (and its entry's) as ``anew`` writes it, as an alias, unless that is its own or
    another article's; skipped and deferred URLs are rewritten so (a row already under the
    new one wins). An address with a fragment (a feed item without a link: its site's
    address and its guid) is left as it is."""

    def written(url: str) -> str:
        return url if "#" in url else anew(url)

    last = 0
    while rows := conn.execute(
        f"SELECT id, identity, url, entry_url FROM articles WHERE id > ?{among}"
        " ORDER BY id LIMIT ?",
        [last, _WALK],
    ).fetchall():
        last = rows[-1][0]
        for article_id, identity, url, entry_url in rows:
            for key in {identity_key(written(url)), identity_key(written(entry_url))} - {identity}:
                if not conn.execute("SELECT 1 FROM articles WHERE identity = ?", [key]).fetchone():
                    conn.execute(
                        "INSERT OR IGNORE INTO article_aliases (identity, article_id)"
                        " VALUES (?, ?)",
                        [key, article_id],
                    )
    for table in ("skipped_urls", "deferred_entries"):
        for (url,) in conn.execute(f"SELECT url FROM {table}").fetchall():
            if (new := written(url)) == url:
                continue
            if conn.execute(f"SELECT 1 FROM {table} WHERE url = ?", [new]).fetchone():
                conn.execute(f"DELETE FROM {table} WHERE url = ?", [url])
            else:
                conn.execute(f"UPDATE {table} SET url = ? WHERE url = ?", [new, url])


#: Migration 51 (the same SQL on both backends): ``sources.last_new``, filled with the last
#: fetch time of the articles each source stored or listed (article_sources).
LAST_NEW_MIGRATION = """
ALTER TABLE sources ADD COLUMN last_new TEXT;
UPDATE sources SET last_new = brought.last
FROM (SELECT source_id, MAX(fetched) AS last FROM (
          SELECT source_id, fetched FROM articles
          UNION ALL SELECT x.source_id, a.fetched
          FROM article_sources x JOIN articles a ON a.id = x.article_id) AS listed
      GROUP BY source_id) AS brought
WHERE sources.id = brought.source_id
"""


#: Migration 57 (the same SQL on both backends): ``article_sources.anew``, set on a listing
#: not decided yet (the re-match queue holds its article, ArticlesMixin.note_listed) and
#: cleared as its verdict is recorded. The listings of an article waiting in the queue as
#: listed anew are all new: which of them is cannot be told, and taken as new they make the
#: matches they made before this version.
LISTED_ANEW_MIGRATION = """
ALTER TABLE article_sources ADD COLUMN anew INTEGER NOT NULL DEFAULT 0;
UPDATE article_sources SET anew = 1
WHERE article_id IN (SELECT article_id FROM rematch WHERE relisted = 1)
"""


def _nothing(conn: sqlite3.Connection) -> None:
    """A version that changes only the PostgreSQL schema (storage.pgschema)."""


MIGRATIONS: tuple[Migration, ...] = (
    # 1: sources, articles (+ FTS5), topics, matches, outbox, state.
    """
    CREATE TABLE sources (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        name TEXT,
        every_seconds INTEGER NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        next_due TEXT,
        etag TEXT,
        last_modified TEXT,
        last_fetch TEXT,
        last_success TEXT,
        last_status INTEGER,
        last_error TEXT,
        error_count INTEGER NOT NULL DEFAULT 0,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        created TEXT NOT NULL
    );
    CREATE TABLE articles (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        entry_url TEXT NOT NULL,
        source_id INTEGER NOT NULL REFERENCES sources(id),
        title TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL DEFAULT '',
        author TEXT,
        published TEXT,
        fetched TEXT NOT NULL,
        extraction TEXT NOT NULL,
        extraction_note TEXT
    );
    CREATE INDEX articles_entry_url ON articles(entry_url);
    CREATE INDEX articles_source ON articles(source_id);
    CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, text, content='articles', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
    END;
    CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, text)
            VALUES ('delete', old.id, old.title, old.text);
    END;
    CREATE TRIGGER articles_au AFTER UPDATE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, text)
            VALUES ('delete', old.id, old.title, old.text);
        INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
    END;
    CREATE TABLE topics (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        query TEXT NOT NULL,
        compiled TEXT NOT NULL,
        notify TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE matches (
        article_id INTEGER NOT NULL REFERENCES articles(id),
        topic_id INTEGER NOT NULL REFERENCES topics(id),
        terms TEXT NOT NULL,
        title_spans TEXT NOT NULL,
        text_spans TEXT NOT NULL,
        alert INTEGER NOT NULL,
        matched TEXT NOT NULL,
        PRIMARY KEY (article_id, topic_id)
    );
    CREATE INDEX matches_topic ON matches(topic_id);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL UNIQUE,
        recipient TEXT NOT NULL,
        subject TEXT NOT NULL,
        body_text TEXT NOT NULL,
        body_html TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt TEXT NOT NULL,
        last_error TEXT,
        created TEXT NOT NULL,
        sent TEXT
    );
    CREATE INDEX outbox_due ON outbox(status, next_attempt);
    CREATE TABLE outbox_items (
        outbox_id INTEGER NOT NULL REFERENCES outbox(id),
        article_id INTEGER NOT NULL REFERENCES articles(id),
        topic_id INTEGER NOT NULL REFERENCES topics(id),
        PRIMARY KEY (outbox_id, article_id, topic_id)
    );
    CREATE TABLE state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 2: source kinds, discovery, origin (config file or CLI), health tracking.
    """
    ALTER TABLE sources ADD COLUMN kind TEXT;
    ALTER TABLE sources ADD COLUMN detected TEXT;
    ALTER TABLE sources ADD COLUMN fetch_url TEXT;
    ALTER TABLE sources ADD COLUMN via TEXT;
    ALTER TABLE sources ADD COLUMN include TEXT;
    ALTER TABLE sources ADD COLUMN exclude TEXT;
    ALTER TABLE sources ADD COLUMN origin TEXT NOT NULL DEFAULT 'config';
    ALTER TABLE sources ADD COLUMN failing_since TEXT;
    ALTER TABLE sources ADD COLUMN health_alerted TEXT;
    ALTER TABLE sources ADD COLUMN deactivated TEXT;
    ALTER TABLE articles ADD COLUMN baseline INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE skipped_urls (
        url TEXT PRIMARY KEY,
        source_id INTEGER NOT NULL REFERENCES sources(id),
        reason TEXT NOT NULL,
        seen TEXT NOT NULL
    );
    CREATE TABLE deferred_entries (
        url TEXT PRIMARY KEY,
        source_id INTEGER NOT NULL REFERENCES sources(id),
        attempts INTEGER NOT NULL,
        last_error TEXT NOT NULL,
        first_seen TEXT NOT NULL
    );
    """,
    # 3: per-topic options (sources, exclude query, alert mode) and origin (config file or CLI).
    """
    ALTER TABLE topics ADD COLUMN sources TEXT;
    ALTER TABLE topics ADD COLUMN exclude TEXT;
    ALTER TABLE topics ADD COLUMN exclude_compiled TEXT;
    ALTER TABLE topics ADD COLUMN mode TEXT NOT NULL DEFAULT 'immediate';
    ALTER TABLE topics ADD COLUMN origin TEXT NOT NULL DEFAULT 'config';
    """,
    # 4: the archive's full-text index gets the source (name and host) for `source:` queries.
    """
    DROP TRIGGER articles_ai;
    DROP TRIGGER articles_ad;
    DROP TRIGGER articles_au;
    DROP TABLE articles_fts;
    ALTER TABLE articles ADD COLUMN source TEXT NOT NULL DEFAULT '';
    -- source = "<source name> <host of the article URL>", the host taken apart step by step.
    UPDATE articles SET source = substr(url, instr(url, '://') + 3);
    UPDATE articles SET source = substr(source, 1, instr(source || '/', '/') - 1);
    UPDATE articles SET source = lower(substr(source, 1, instr(source || ':', ':') - 1));
    UPDATE articles SET source =
        (SELECT COALESCE(s.name, s.url) FROM sources s WHERE s.id = articles.source_id)
        || ' ' || source;
    CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, text, source, content='articles', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    );
    INSERT INTO articles_fts(articles_fts) VALUES ('rebuild');
    CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, text, source)
            VALUES (new.id, new.title, new.text, new.source);
    END;
    CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, text, source)
            VALUES ('delete', old.id, old.title, old.text, old.source);
    END;
    CREATE TRIGGER articles_au AFTER UPDATE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, text, source)
            VALUES ('delete', old.id, old.title, old.text, old.source);
        INSERT INTO articles_fts(rowid, title, text, source)
            VALUES (new.id, new.title, new.text, new.source);
    END;
    """,
    # 5: stories (near-duplicate articles, see watchlist.stories) and which (story, topic)
    # has alerted. A story's id is the id of its first article. An article's story_id stays
    # NULL until it is clustered; minhash / lede_minhash hold its signatures (NULL for a text
    # too short to compare).
    """
    CREATE TABLE stories (
        id INTEGER PRIMARY KEY,
        first_article INTEGER NOT NULL REFERENCES articles(id),
        created TEXT NOT NULL
    );
    ALTER TABLE articles ADD COLUMN story_id INTEGER REFERENCES stories(id);
    ALTER TABLE articles ADD COLUMN minhash BLOB;
    ALTER TABLE articles ADD COLUMN lede_minhash BLOB;
    CREATE INDEX articles_story ON articles(story_id);
    -- Clustering writes story_id and the signatures: only a change of the indexed columns
    -- needs the full-text index updated.
    DROP TRIGGER articles_au;
    CREATE TRIGGER articles_au AFTER UPDATE OF title, text, source ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, text, source)
            VALUES ('delete', old.id, old.title, old.text, old.source);
        INSERT INTO articles_fts(rowid, title, text, source)
            VALUES (new.id, new.title, new.text, new.source);
    END;
    CREATE TABLE story_alerts (
        story_id INTEGER NOT NULL REFERENCES stories(id),
        topic_id INTEGER NOT NULL REFERENCES topics(id),
        article_id INTEGER NOT NULL REFERENCES articles(id),
        alerted TEXT NOT NULL,
        PRIMARY KEY (story_id, topic_id)
    );
    """,
    # 6: URL identity, aliases, per-article updated date, the re-match queue (needs Python).
    _url_identity,
    # 7: digests. The digest queue holds alerts waiting for a recipient's digest: topics in
    # digest mode (reason 'digest'), and immediate alerts that storm control folded (reason
    # 'storm'). Items are queued in the transaction that records their matches; outbox_id
    # is set in the transaction that puts their digest in the outbox. digest_slots remembers
    # the last digest time each recipient's digest was handled for. The outbox index serves
    # storm control's count of a recipient's alerts in the last hour.
    """
    CREATE TABLE digest_queue (
        id INTEGER PRIMARY KEY,
        recipient TEXT NOT NULL,
        topic_id INTEGER NOT NULL REFERENCES topics(id),
        article_id INTEGER NOT NULL REFERENCES articles(id),
        story_id INTEGER,
        reason TEXT NOT NULL CHECK (reason IN ('digest', 'storm')),
        queued TEXT NOT NULL,
        outbox_id INTEGER REFERENCES outbox(id),
        UNIQUE (recipient, article_id, topic_id)
    );
    CREATE INDEX digest_queue_waiting ON digest_queue(recipient) WHERE outbox_id IS NULL;
    CREATE INDEX digest_queue_outbox ON digest_queue(outbox_id);
    CREATE TABLE digest_slots (
        recipient TEXT PRIMARY KEY,
        handled TEXT NOT NULL
    );
    CREATE INDEX outbox_recipient ON outbox(recipient, created);
    """,
    # 8: a digest item remembers that an edit in place caused it (the digest says "Updated").
    """
    ALTER TABLE digest_queue ADD COLUMN edited INTEGER NOT NULL DEFAULT 0;
    """,
    # 9: URLs that the old cleaner (courlan) mangled, restored; identities recomputed.
    _restored_urls,
    # 10: what each site's followed links of a URL shape turned out to be (articles or not),
    # see storage.linkshapes.
    LINK_SHAPES_MIGRATION,
    # 11: each site's memory of text blocks (watchlist.templates). A row says that the
    # normalized line hashed to ``hash`` stood in article ``article_id`` of ``site``
    # (host[:port] without www.).
    """
    CREATE TABLE site_blocks (
        site TEXT NOT NULL,
        hash INTEGER NOT NULL,
        article_id INTEGER NOT NULL REFERENCES articles(id),
        PRIMARY KEY (site, hash, article_id)
    ) WITHOUT ROWID;
    CREATE INDEX site_blocks_article ON site_blocks(article_id);
    """,
    # 12: each article's own "matched" mark, replacing the watermark (state
    # 'matched_through_article'): ``unmatched`` is 1 from the article's insert until the
    # transaction that records its matches sets it NULL. Articles are matched as soon as their
    # source's poll is complete, so the matched ones are no prefix of the ids while a crawl
    # runs (a slow source's articles wait among others already matched). The partial index
    # holds only the waiting ones.
    """
    ALTER TABLE articles ADD COLUMN unmatched INTEGER DEFAULT 1;
    UPDATE articles SET unmatched = NULL WHERE id <= COALESCE(
        (SELECT CAST(value AS INTEGER) FROM state WHERE key = 'matched_through_article'), 0);
    DELETE FROM state WHERE key = 'matched_through_article';
    CREATE INDEX articles_unmatched ON articles(id, source_id) WHERE unmatched = 1;
    """,
    # 13: PostgreSQL's alone (when a claimed outbox row's send began: storage.pg).
    _nothing,
    # 14: story signatures hash their shingles another way (watchlist.stories.HASH_VERSION
    # 2): the stored ones are not comparable with new ones. They are dropped, and the
    # articles that had them are listed to have them made again from their texts (the
    # pipeline does it for those of the story window before it next builds its index).
    """
    CREATE TABLE stale_signatures (article_id INTEGER PRIMARY KEY REFERENCES articles(id));
    INSERT INTO stale_signatures SELECT id FROM articles WHERE minhash IS NOT NULL;
    UPDATE articles SET minhash = NULL, lede_minhash = NULL WHERE minhash IS NOT NULL;
    """,
    # 15: a deferred entry keeps what its source said of it (crawler.entries: its page is
    # requested again, and its summary kept, once the source no longer lists it). A row
    # deferred before has no ``link``: it waits, as before, for its source to list it.
    """
    ALTER TABLE deferred_entries ADD COLUMN link TEXT;
    ALTER TABLE deferred_entries ADD COLUMN title TEXT NOT NULL DEFAULT '';
    ALTER TABLE deferred_entries ADD COLUMN summary TEXT NOT NULL DEFAULT '';
    ALTER TABLE deferred_entries ADD COLUMN published TEXT;
    ALTER TABLE deferred_entries ADD COLUMN author TEXT;
    ALTER TABLE deferred_entries ADD COLUMN updated TEXT;
    ALTER TABLE deferred_entries ADD COLUMN guid TEXT NOT NULL DEFAULT '';
    ALTER TABLE deferred_entries ADD COLUMN linked INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE deferred_entries ADD COLUMN baseline INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX deferred_entries_source ON deferred_entries(source_id);
    """,
    # 16: a source reported gone is remembered as such (storage.health: "gone " before the
    # time), so that a source reported failing is reported again once gone. The sources
    # deactivated and reported before were reported gone (or failing, then never again):
    # marked as reported gone, so that an upgrade sends no report twice.
    """
    UPDATE sources SET health_alerted = 'gone ' || health_alerted
    WHERE deactivated IS NOT NULL AND health_alerted IS NOT NULL;
    """,
    # 17: addresses canonicalized anew (news sites' trackers, session ids): articles stored
    # under such an address get its new identity as an alias (needs Python).
    _recanonicalized,
    # 18: the alert of articles edited in place replies to the first email that told its
    # recipient of them (its Message-ID, for the In-Reply-To and References headers).
    """
    ALTER TABLE outbox ADD COLUMN in_reply_to TEXT;
    """,
    # 19: a message whose last attempt found the mail server down (not refusing it): due
    # again as soon as a message goes through (OutboxMixin.server_back).
    """
    ALTER TABLE outbox ADD COLUMN server_down INTEGER NOT NULL DEFAULT 0;
    """,
    # 20: addresses the first versions' URL cleaner escaped (before schema 9): articles
    # stored under one get the identity of the address as written, as an alias.
    _old_escapes_undone,
    # 21: the archive's index reads each CJK character as a word, as the matching does
    # (needs Python).
    _segmented_index,
    # 22: articles found by their title: a text too short to sign joins the story of an
    # article of another site under the same headline that opens as it does
    # (StoriesMixin.titled).
    """
    CREATE INDEX articles_title ON articles(title);
    """,
    # 23: a source added from the command line without an interval of its own follows
    # crawl.every as it changes (the sources added before keep theirs: whether one was
    # given is not known).
    """
    ALTER TABLE sources ADD COLUMN every_default INTEGER NOT NULL DEFAULT 0;
    """,
    # 24: a deferred entry keeps its feed's full text besides its summary (the article's
    # text, should its page stay unavailable or show less of it).
    """
    ALTER TABLE deferred_entries ADD COLUMN content TEXT NOT NULL DEFAULT '';
    """,
    # 25: the other sources that list an article (a topic of one of them matches it too),
    # and re-matches for them, which are no edits (StoredArticle.also_from).
    """
    CREATE TABLE article_sources (
        article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        source_id INTEGER NOT NULL,
        PRIMARY KEY (article_id, source_id)
    );
    ALTER TABLE rematch ADD COLUMN relisted INTEGER NOT NULL DEFAULT 0;
    """,
    # 26: what a reader was told of, by article (StoriesMixin.told_of scanned every item).
    """
    CREATE INDEX outbox_items_article ON outbox_items(article_id);
    CREATE INDEX digest_queue_article ON digest_queue(article_id);
    """,
    # 27: session ids canonicalized away (osCsid=, sid=<32 hex>, /(S(...))/): articles
    # stored under such an address get its new identity as an alias (needs Python).
    _sessions_dropped,
    # 28: the archive's index reads Arabic's harakat, Hebrew's points, Indic vowel signs and
    # full-width letters as the matching does (needs Python).
    _marks_rewritten,
    # 29: the articles whose text is not pruned yet, by fetch time (MaintenanceMixin.prune
    # read the whole table, texts included, each hour).
    "CREATE INDEX articles_unpruned ON articles(fetched) WHERE text != ''",
    # 30: an article's (and a deferred entry's) source's poll before the one that found it:
    # published after it, it is news, however old (the daemon stopped for a long weekend).
    # An entry deferred before: since the poll that first listed it (a review of an
    # upgrade: pages down for days across it were stored and never alerted).
    """
    ALTER TABLE articles ADD COLUMN since TEXT;
    ALTER TABLE deferred_entries ADD COLUMN since TEXT;
    UPDATE deferred_entries SET since = first_seen;
    """,
    # 31: the archive's index reads U+02BC as an apostrophe, as the matching does (needs
    # Python).
    _apostrophes_rewritten,
    # 32: articles found by bands of their story signatures, whatever their age
    # (StoriesMixin.copies): an article back under a new address after the story window
    # (a site's new CMS, its archive listed again) joins its first copy's story.
    ";\n".join(COPY_INDEXES),
    # 33: the publisher an aggregator's item names (a Google News item's <source>): the
    # article's source in emails, stories and exports, where its feed is another's.
    """
    ALTER TABLE articles ADD COLUMN publisher TEXT;
    ALTER TABLE deferred_entries ADD COLUMN publisher TEXT NOT NULL DEFAULT ''
    """,
    # 34: articles by fetch time: the story window's (the story index built at start and
    # daily, its short titles) and those whose site memory is forgotten (hourly) were found
    # by reading the whole archive, texts included (a year of 30,000 articles a day: 11
    # million rows); the pending alerts alone, in their order: with the planner's
    # statistics, the delivery's pick of due alerts read every alert ever sent, bodies
    # included, at each tick; and the sent alerts whose bodies are not pruned yet, and the
    # skipped pages by when they were seen: the hourly retention read every alert sent and
    # every page skipped, holding the write lock.
    """
    CREATE INDEX articles_fetched ON articles(fetched);
    CREATE INDEX outbox_pending ON outbox(id, next_attempt) WHERE status = 'pending';
    CREATE INDEX outbox_unpruned ON outbox(sent) WHERE status = 'sent' AND body_text != '';
    CREATE INDEX skipped_urls_seen ON skipped_urls(seen)
    """,
    # 35: articles by the date the archive's search orders them by (ArticlesMixin.search):
    # a common word's newest hits were found by reading and sorting every hit, texts
    # included (400,000 articles: 2.3 to 5 s; a year's archive, over a minute), ``--since``
    # or not.
    "CREATE INDEX articles_when ON articles(COALESCE(published, fetched))",
    # 36: stories by when they started: `status` and its story counts read every story ever
    # made to count the last week's (400,000 articles: 0.35 to 0.9 s; a year's, seconds).
    "CREATE INDEX stories_created ON stories(created)",
    # 37: when each source last answered its poll in full (a 200, not a 304): its validators
    # are sent for a while only after it (crawler.spider.FULL_READ_POLLS), so that a server
    # answering 304 whatever changed is read in full again. The sources read in full at
    # their last poll count from then, not from a read at their next.
    """
    ALTER TABLE sources ADD COLUMN read_at TEXT;
    UPDATE sources SET read_at = last_success WHERE last_status = 200
    """,
    # 38: each source's article count, kept as its articles are stored (deleted, or moved
    # to another source: by hand, newswatch does neither): `status` and each scrape of
    # /metrics counted them by reading the whole index of the articles' sources (200,000
    # articles: 36 to 58 ms; a year's, 2 s a scrape). A source's count is the sum of its
    # rows (PostgreSQL's store adds a row for each article, storage.pgschema; here one row
    # a source).
    """
    CREATE TABLE article_counts (
        source_id INTEGER PRIMARY KEY,
        n INTEGER NOT NULL
    );
    INSERT INTO article_counts (source_id, n)
        SELECT source_id, COUNT(*) FROM articles GROUP BY source_id;
    CREATE TRIGGER article_counts_insert AFTER INSERT ON articles BEGIN
        INSERT INTO article_counts (source_id, n) VALUES (new.source_id, 1)
        ON CONFLICT (source_id) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER article_counts_delete AFTER DELETE ON articles BEGIN
        UPDATE article_counts SET n = n - 1 WHERE source_id = old.source_id;
    END;
    CREATE TRIGGER article_counts_move AFTER UPDATE OF source_id ON articles
    WHEN old.source_id IS NOT new.source_id BEGIN
        UPDATE article_counts SET n = n - 1 WHERE source_id = old.source_id;
        INSERT INTO article_counts (source_id, n) VALUES (new.source_id, 1)
        ON CONFLICT (source_id) DO UPDATE SET n = n + 1;
    END;
    """,
    # 39: the alerts' counts by status, kept as alerts are queued and their statuses change
    # (as the article counts of 38): `status` and each scrape of /metrics read the index of
    # their statuses, every alert ever sent (100,000 alerts sent: 23 ms a scrape).
    """
    CREATE TABLE outbox_counts (
        status TEXT PRIMARY KEY,
        n INTEGER NOT NULL
    );
    INSERT INTO outbox_counts (status, n) SELECT status, COUNT(*) FROM outbox GROUP BY status;
    CREATE TRIGGER outbox_counts_insert AFTER INSERT ON outbox BEGIN
        INSERT INTO outbox_counts (status, n) VALUES (new.status, 1)
        ON CONFLICT (status) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER outbox_counts_delete AFTER DELETE ON outbox BEGIN
        UPDATE outbox_counts SET n = n - 1 WHERE status = old.status;
    END;
    CREATE TRIGGER outbox_counts_change AFTER UPDATE OF status ON outbox
    WHEN old.status IS NOT new.status BEGIN
        UPDATE outbox_counts SET n = n - 1 WHERE status = old.status;
        INSERT INTO outbox_counts (status, n) VALUES (new.status, 1)
        ON CONFLICT (status) DO UPDATE SET n = n + 1;
    END;
    """,
    # 40: since when, and at how many polls in a row, each source has answered 410 Gone: it
    # is deactivated only once that lasts (crawler.spider.GONE_AFTER); one 410 (a CDN's
    # purge, a deploy) deactivated it for good. A source deactivated before stays so.
    """
    ALTER TABLE sources ADD COLUMN gone_since TEXT;
    ALTER TABLE sources ADD COLUMN gone_polls INTEGER NOT NULL DEFAULT 0
    """,
    # 41: each topic's matches, alerted matches and last match, kept as matches are
    # recorded (as the article counts of 38): `status` (and `topics list`) counted them by
    # reading every match ever made (1,000,000 matches: 0.7 s; they are never deleted). A
    # topic renamed or removed keeps its id, and so its counts. A match deleted or changed
    # by hand (newswatch does neither) is counted as such; the topic's last match stays.
    """
    CREATE TABLE match_counts (
        topic_id INTEGER PRIMARY KEY,
        n INTEGER NOT NULL,
        alerted INTEGER NOT NULL,
        last TEXT
    );
    INSERT INTO match_counts (topic_id, n, alerted, last)
        SELECT topic_id, COUNT(*), SUM(alert), MAX(matched) FROM matches GROUP BY topic_id;
    CREATE TRIGGER match_counts_insert AFTER INSERT ON matches BEGIN
        INSERT INTO match_counts (topic_id, n, alerted, last)
        VALUES (new.topic_id, 1, new.alert, new.matched)
        ON CONFLICT (topic_id) DO UPDATE SET n = n + 1, alerted = alerted + excluded.alerted,
            last = max(last, excluded.last);
    END;
    CREATE TRIGGER match_counts_delete AFTER DELETE ON matches BEGIN
        UPDATE match_counts SET n = n - 1, alerted = alerted - old.alert
        WHERE topic_id = old.topic_id;
    END;
    CREATE TRIGGER match_counts_change AFTER UPDATE OF topic_id, alert ON matches
    WHEN old.topic_id IS NOT new.topic_id OR old.alert IS NOT new.alert BEGIN
        UPDATE match_counts SET n = n - 1, alerted = alerted - old.alert
        WHERE topic_id = old.topic_id;
        INSERT INTO match_counts (topic_id, n, alerted, last)
        VALUES (new.topic_id, 1, new.alert, new.matched)
        ON CONFLICT (topic_id) DO UPDATE SET n = n + 1, alerted = alerted + excluded.alerted,
            last = max(last, excluded.last);
    END;
    """,
    # 42: the story window's signatures in their own table, kept by triggers as articles
    # are clustered (StoriesMixin.recent_signatures): the story index, built at start and
    # daily, read them from the articles, where they come after the text, through each
    # text's pages (400,000 articles, 225,000 of them in the window: 0.96 s, warm). A
    # covering index of them took 1.8 GB (an entry is too long for an index page: a page of
    # its own each); this table, 1.4 KB an article, holds the last two windows' alone (each
    # rebuild drops the older ones, StoriesMixin.forget_signatures). Copied: the last 30
    # days' before the newest article (the window is 7).
    """
    CREATE TABLE story_signatures (
        article_id INTEGER PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
        story_id INTEGER NOT NULL,
        fetched TEXT NOT NULL,
        url TEXT NOT NULL,
        minhash BLOB NOT NULL,
        lede_minhash BLOB NOT NULL
    );
    CREATE INDEX story_signatures_fetched ON story_signatures(fetched);
    INSERT INTO story_signatures (article_id, story_id, fetched, url, minhash, lede_minhash)
        SELECT id, story_id, fetched, url, minhash, lede_minhash FROM articles
        WHERE fetched >= (SELECT strftime('%Y-%m-%dT%H:%M:%S', MAX(fetched), '-30 days')
                          FROM articles)
          AND story_id IS NOT NULL AND minhash IS NOT NULL AND lede_minhash IS NOT NULL;
    CREATE TRIGGER story_signatures_set AFTER UPDATE OF story_id, minhash, lede_minhash
    ON articles WHEN new.story_id IS NOT NULL AND new.minhash IS NOT NULL
                     AND new.lede_minhash IS NOT NULL BEGIN
        INSERT INTO story_signatures (article_id, story_id, fetched, url, minhash, lede_minhash)
        VALUES (new.id, new.story_id, new.fetched, new.url, new.minhash, new.lede_minhash)
        ON CONFLICT (article_id) DO UPDATE SET story_id = excluded.story_id,
            minhash = excluded.minhash, lede_minhash = excluded.lede_minhash;
    END;
    CREATE TRIGGER story_signatures_unset AFTER UPDATE OF story_id, minhash, lede_minhash
    ON articles WHEN new.story_id IS NULL OR new.minhash IS NULL
                     OR new.lede_minhash IS NULL BEGIN
        DELETE FROM story_signatures WHERE article_id = new.id;
    END;
    CREATE TRIGGER story_signatures_moved AFTER UPDATE OF url, fetched ON articles BEGIN
        UPDATE story_signatures SET url = new.url, fetched = new.fetched
        WHERE article_id = new.id;
    END;
    """,
    # 43: each article's signature of its second lede, the first words after its first
    # paragraph (watchlist.stories.Signature.second): a regional copy under an opening of
    # its own is found by it from a brief of the wire's first paragraphs stored before, and
    # the other way round. Kept in the window's own table too (schema 42): its trigger is
    # made again to copy it. NULL for the articles clustered before (the story window
    # forgets them within a week) and for a text with no second paragraph.
    """
    ALTER TABLE articles ADD COLUMN second_minhash BLOB;
    ALTER TABLE story_signatures ADD COLUMN second_minhash BLOB;
    DROP TRIGGER story_signatures_set;
    CREATE TRIGGER story_signatures_set
    AFTER UPDATE OF story_id, minhash, lede_minhash, second_minhash
    ON articles WHEN new.story_id IS NOT NULL AND new.minhash IS NOT NULL
                     AND new.lede_minhash IS NOT NULL BEGIN
        INSERT INTO story_signatures (article_id, story_id, fetched, url, minhash, lede_minhash,
                                      second_minhash)
        VALUES (new.id, new.story_id, new.fetched, new.url, new.minhash, new.lede_minhash,
                new.second_minhash)
        ON CONFLICT (article_id) DO UPDATE SET story_id = excluded.story_id,
            minhash = excluded.minhash, lede_minhash = excluded.lede_minhash,
            second_minhash = excluded.second_minhash;
    END;
    """,
    # 44: an article another source lists too (article_sources, 25) is found in the archive's
    # index under that source's name, as matching finds it (source:Politics, a section feed
    # listing a story its main feed stored): `search` and `topics test` never showed it.
    """
    UPDATE articles SET source = source || (
        SELECT group_concat(' ' || COALESCE(s.name, s.url), '')
        FROM article_sources x JOIN sources s ON s.id = x.source_id
        WHERE x.article_id = articles.id)
    WHERE id IN (SELECT article_id FROM article_sources);
    """,
    # 45: the articles clustered before 43 have no second lede's signature: a brief of the
    # wire's first paragraphs arriving after the upgrade did not find the regional copy
    # under its own opening stored before (nor the other way round), a second story and a
    # second email for a week. The window's own table (schema 42: the last two windows'
    # articles, no more) lists those lacking it, to have it made from their texts before
    # the index is next built (StoriesMixin.unsigned_second_ledes): the story window's
    # alone, once. Listed too are the texts of one paragraph, which have none: made again,
    # it is none still.
    """
    CREATE TABLE unsigned_second_ledes (
        article_id INTEGER PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE
    );
    INSERT INTO unsigned_second_ledes
        SELECT article_id FROM story_signatures WHERE second_minhash IS NULL;
    """,
    # 46: until when each notification service asked us to wait (a 429 or 503 with
    # Retry-After; the latest of its waits), one row a URL: an alert queued for it while
    # the wait runs waits too (storage.outbox.insert_email), where it was tried at once and
    # answered 429 again.
    "CREATE TABLE recipient_holds (recipient TEXT PRIMARY KEY, held_until TEXT NOT NULL)",
    # 47: PostgreSQL's list of each article's words, for its search (storage.pgwords):
    # FTS5 is that list here.
    _nothing,
    # 48: the archive's index merges its segments 16 at a time as articles are stored, not
    # FTS5's 4: each poll's commit writes a segment, and merging them 4 by 4 as a crawl
    # stores them was a seventh of a stored article's CPU (0.65 -> 0.57 ms an article, 9,000
    # real texts stored 30 a commit; the index 9 % larger until the hourly checkpoint's
    # merge, storage.maintenance).
    "INSERT INTO articles_fts(articles_fts, rank) VALUES ('automerge', 16)",
    # 49: the archive's index reads an Arabic-script letter written two ways as one, and the
    # bidi isolates as spaces, as the matching does; the window's signatures of such texts
    # made again (needs Python).
    _letters_read_as_one,
    # 50: the words of a story signature keep the Indic scripts' vowel signs; the window's
    # signatures of texts that hold one made again.
    _indic_words_whole,
    # 51: when each source last brought a new article (one it stored, or one another source
    # stored that it listed since; kept by each poll's record, crawler.entries): a feed that
    # stopped changing (moved without a redirect, frozen by its CMS, a dead site's last copy
    # served by its CDN) answers 304, or the same items, at every poll, each a success, and
    # `status` said "ok" for good. Filled from the articles each source stored and listed.
    LAST_NEW_MIGRATION,
    # 52: the archive's index reads another script's digits as the ASCII ones (a topic on
    # 2026 missed BBC Persian's ۲۰۲۶, one typed on a Persian keyboard the ASCII 2026), as
    # the matching does; the window's signatures of such texts made again (needs Python).
    _digits_read_as_ascii,
    # 53: why a deferred entry's page is not read, where its item is the article
    # (crawler.feeds.unread_page): a Misskey note is told by its feed's generator, which
    # the entry does not keep, and one deferred (its host's crawl budget spent, a crawl
    # stopped) was retried, once its feed no longer listed it, by reading its page, the
    # app's "Please turn on your JavaScript" notice. An entry deferred before is judged
    # again from what it keeps (crawler.entries).
    "ALTER TABLE deferred_entries ADD COLUMN unread TEXT NOT NULL DEFAULT ''",
    # 54: the address of a deferred entry's item by its guid (crawler.entries): an entry
    # stored once its feed no longer listed it was stored without its guid's alias, which
    # an entry stored at once gets, and listed again at another link (its slug edited with
    # its headline), its guid kept, it was a new article, mailed again. An entry deferred
    # before has none, as before.
    "ALTER TABLE deferred_entries ADD COLUMN guid_address TEXT NOT NULL DEFAULT ''",
    # 55: a publisher's name stored with its <source>'s markup ("<b>Reuters</b>"), named
    # without it (see _publishers_without_markup).
    _publishers_without_markup,
    # 56: the publishers articles name, indexed (an aggregator's items only): a topic's
    # sources naming a publisher, no source's name, was warned of by `check` and `topics
    # add` as naming nothing; they look it up there (ArticlesMixin.publishers), the
    # archive's rows not read.
    "CREATE INDEX articles_publisher ON articles(publisher) WHERE publisher IS NOT NULL",
    # 57: which listings of an article by other sources are new since its last verdict: a
    # topic added since another source listed a story, limited to that source, took the
    # story as a third source's alone when that one listed it too, and mailed the day's old
    # news (watchlist.verdict.listed_anew).
    LISTED_ANEW_MIGRATION,
    # 58: how many edits an article's place in the re-match queue was written for: a verdict
    # took the article from the queue whatever was written there while it was decided (a
    # crawler on another machine, between the alerter's read and its record), and the
    # edit's alerts were lost (TopicsMixin.record_matches).
    "ALTER TABLE rematch ADD COLUMN edits INTEGER NOT NULL DEFAULT 0",
    # 59: how many listings by other sources it was written for, as 58's edits: on
    # PostgreSQL, a verdict recorded while a crawler's transaction noted a listing of its
    # story saw neither that listing nor a write of its place, took the story from the
    # queue, and the listing's topics never heard of it (ArticlesMixin.note_listed).
    "ALTER TABLE rematch ADD COLUMN listings INTEGER NOT NULL DEFAULT 0",
    # 60: which source a source added from the command line was merged into (the one
    # polling the feed its page declares, newswatch.app.one_source_a_feed): a topic limited
    # to the page, by its name or URL, got nothing more once the site's new stories came
    # from the feed's source; it follows that one now (watchlist.verdict.follow_merges).
    "ALTER TABLE sources ADD COLUMN merged_into INTEGER",
    # 61: PostgreSQL's alone (the sent journal file of the process that claimed an outbox
    # row: storage.pg).
    _nothing,
    # 62: the signatures of the ledes after an article's second and third paragraphs
    # (watchlist.stories.Signature.later) are stored after its second lede's, in its column:
    # the wire's original, arriving hours after a site stored its update (two new
    # paragraphs over the original's first ones), finds the update by the lede after its
    # second paragraph. The story window's articles signed before (a second lede's
    # signature alone: 512 bytes) are listed to have them made from their texts before the
    # index is next built, as 45 listed those lacking a second lede's.
    """
    INSERT OR IGNORE INTO unsigned_second_ledes
        SELECT article_id FROM story_signatures WHERE length(second_minhash) = 512
    """,
)
