"""`newswatch sources add|list|remove|import|export`, run as a user runs them: config-file and
command-line sources side by side, OPML in and out, one-line errors, and the crawl and the
daemon polling what was added."""

from __future__ import annotations

import json
import signal
import textwrap
from email.utils import parsedate_to_datetime

import pytest
from conftest import Workdir
from lxml import etree
from newssite import sample_story

from storage import open_store

FEED = "http://127.0.0.1:9/feed"
OTHER = "http://127.0.0.1:9/other.xml"
CONFIGURED = "http://127.0.0.1:9/configured.rss"


def ok(result) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def error(result, code: int) -> str:
    """The one line a failing command prints, after checking its exit code."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("newswatch: ")
    return lines[0]


def listed(workdir: Workdir) -> dict[str, dict]:
    """``sources list --format json``, by URL."""
    rows = json.loads(ok(workdir.newswatch("sources", "list", "--format", "json")))
    return {row["url"]: row for row in rows}


def outlines(document: bytes) -> list[dict[str, str]]:
    root = etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True))
    return [dict(o.attrib) for o in root.iter("outline")]


# -- add / list / remove ----------------------------------------------------------------------


def test_listing_before_the_first_crawl_creates_no_database(workdir):
    """`sources list` and `sources export` (and `topics list`) before the first crawl, or
    run with a config whose database is elsewhere, left an empty database file and its
    directory behind, which `status` does not: they show the config file's sources and
    topics, as they would once it exists, and create nothing."""
    workdir.database = workdir.path / "data" / "newswatch.db"
    workdir.write_config(sources=[{"url": CONFIGURED, "every": "5m", "name": "Configured"}],
                         topics=[{"name": "Maduro", "query": "Maduro", "notify": ["d@x.test"]}])
    row = listed(workdir)[CONFIGURED]
    assert (row["origin"], row["name"], row["every"], row["health"]) == (
        "config", "Configured", "5m", "not polled")
    assert [o.get("xmlUrl") for o in outlines(ok(workdir.newswatch("sources", "export")).encode())
            if o.get("xmlUrl")] == [CONFIGURED]
    assert "Maduro" in ok(workdir.newswatch("topics", "list"))
    assert "no database at" in error(workdir.newswatch("status"), 1)
    assert not (workdir.path / "data").exists()
    ok(workdir.newswatch("sources", "add", FEED))  # a command that writes makes it
    assert set(listed(workdir)) == {CONFIGURED, FEED}


def test_add_list_remove(workdir):
    workdir.write_config(sources=[{"url": CONFIGURED, "every": "5m", "name": "Configured"}])
    added = ok(workdir.newswatch("sources", "add", FEED, "--every", "10m", "--name", "My feed"))
    assert FEED in added and "every 10m" in added

    rows = listed(workdir)
    assert set(rows) == {CONFIGURED, FEED}
    assert rows[FEED]["origin"] == "cli" and rows[CONFIGURED]["origin"] == "config"
    assert rows[FEED]["name"] == "My feed"
    assert (rows[FEED]["every_seconds"], rows[FEED]["every"]) == (600, "10m")
    assert rows[FEED]["health"] == "not polled"
    assert rows[CONFIGURED]["every"] == "5m"

    table = ok(workdir.newswatch("sources", "list"))
    header, *lines = table.splitlines()
    assert header.split()[:3] == ["ORIGIN", "URL", "NAME"]
    [line] = [line for line in lines if FEED in line]
    assert line.split()[0] == "cli" and "My feed" in line and "10m" in line
    assert "not polled" in line and "next tick" in line

    # Adding again updates the command-line source.
    ok(workdir.newswatch("sources", "add", FEED, "--every", "1h30m", "--kind", "feed"))
    row = listed(workdir)[FEED]
    assert (row["every"], row["kind"], row["name"]) == ("1h30m", "feed", "My feed")

    assert "removed" in ok(workdir.newswatch("sources", "remove", FEED))
    assert set(listed(workdir)) == {CONFIGURED}


def test_add_defaults_to_crawl_every_and_keeps_page_patterns(workdir):
    workdir.write_config(crawl={"every": "20m"})
    ok(workdir.newswatch("sources", "add", FEED, "--kind", "page",
                         "--include", "*/articles/*", "--include", "*/news/*",
                         "--exclude", "*/video/*"))
    row = listed(workdir)[FEED]
    assert (row["every_seconds"], row["kind"]) == (1200, "page")


def test_config_wins(workdir):
    workdir.write_config(sources=[{"url": CONFIGURED, "every": "5m"}])
    result = workdir.newswatch("sources", "add", CONFIGURED, "--every", "1m", "--name", "Mine")
    out = ok(result)
    assert "config file wins" in out and str(workdir.config) in out
    row = listed(workdir)[CONFIGURED]
    assert (row["origin"], row["every"], row["name"]) == ("config", "5m", None)


def test_cli_sources_survive_config_changes(workdir):
    workdir.write_config(sources=[CONFIGURED])
    ok(workdir.newswatch("sources", "add", FEED))
    # The URL moves into the config file: it becomes a config source.
    workdir.write_config(sources=[CONFIGURED, FEED])
    assert listed(workdir)[FEED]["origin"] == "config"
    # Both leave the config file: the config sources are deactivated...
    workdir.write_config(sources=[])
    ok(workdir.newswatch("sources", "add", OTHER))
    assert set(listed(workdir)) == {OTHER}
    # ... and one added back from the command line stays, across further syncs.
    ok(workdir.newswatch("sources", "add", CONFIGURED))
    ok(workdir.newswatch("check"))
    assert set(listed(workdir)) == {OTHER, CONFIGURED}
    assert listed(workdir)[CONFIGURED]["origin"] == "cli"


def test_list_without_sources(workdir):
    workdir.write_config()
    assert "no sources" in ok(workdir.newswatch("sources", "list"))
    assert json.loads(ok(workdir.newswatch("sources", "list", "--format", "json"))) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ftp://127.0.0.1/feed"], "'ftp://127.0.0.1/feed' is not an http(s) URL"),
        (["not a url"], "is not an http(s) URL"),
        (["http://127.0.0.1:99999/feed"], "'http://127.0.0.1:99999/feed': Port out of range"),
        (["https://exa mple.com/rss"], "'https://exa mple.com/rss': the host 'exa mple.com' has"),
        (["https://example.com/\nrss"], "a URL must not contain control characters"),
        ([FEED, "--every", "5 parsecs"], "--every: '5 parsecs' is not a duration"),
        ([FEED, "--every", "500ms"], "--every: a polling interval must be at least 1s"),
        ([FEED, "--every", "0s"], "--every: must be positive"),
        ([FEED, "--kind", "blog"], "--kind: expected one of feed, sitemap, page"),
        ([FEED, "--name", "World\nnews"], "--name: 'World\\nnews' is not one line of text"),
        ([FEED, "--include", ""], "--include: expected a list of URL patterns"),
        ([FEED, "--exclude", ""], "--exclude: expected a list of URL patterns"),
    ],
)
def test_add_refuses_bad_input(workdir, args, message):
    workdir.write_config()
    line = error(workdir.newswatch("sources", "add", *args), 2)
    assert message in line
    assert listed(workdir) == {}


def test_add_reports_a_bad_config_file(workdir):
    workdir.write_config(extra='[crawl2]\nx = 1\n')
    line = error(workdir.newswatch("sources", "add", FEED), 2)
    assert "crawl2: unknown section" in line


def test_remove_a_config_source_is_refused(workdir):
    workdir.write_config(sources=[CONFIGURED])
    line = error(workdir.newswatch("sources", "remove", CONFIGURED), 2)
    assert line == f"newswatch: {CONFIGURED}: defined in {workdir.config}: remove it there"
    assert CONFIGURED in listed(workdir)


def test_remove_unknown(workdir):
    workdir.write_config()
    line = error(workdir.newswatch("sources", "remove", FEED), 1)
    assert FEED in line and "no such source" in line
    assert not workdir.database.exists()  # nothing added yet: none made to say so
    ok(workdir.newswatch("sources", "add", FEED))
    ok(workdir.newswatch("sources", "remove", FEED))
    error(workdir.newswatch("sources", "remove", FEED), 1)  # removed once, not twice


# -- import / export --------------------------------------------------------------------------

OPML_1 = """\
<?xml version="1.0" encoding="ISO-8859-1"?>
<opml version="1.0">
  <head><title>My subscriptions</title></head>
  <body>
    <outline text="News">
      <outline text="World" title="World news" type="rss"
               xmlUrl="http://127.0.0.1:9/world.rss" htmlUrl="http://127.0.0.1:9/"/>
      <outline text="Caf\xe9 &amp; Co" type="rss" xmlUrl="http://127.0.0.1:9/cafe.rss"/>
      <outline text="Deeper">
        <outline text="Deep" xmlURL="http://127.0.0.1:9/deep.atom"/>
      </outline>
    </outline>
    <outline text="A web page, not a feed" htmlUrl="http://127.0.0.1:9/page"/>
    <outline text="Script" xmlUrl="javascript:alert(1)"/>
    <outline text="World again" xmlUrl="http://127.0.0.1:9/world.rss"/>
    <outline text="Configured" xmlUrl="http://127.0.0.1:9/configured.rss"/>
  </body>
</opml>
"""


def test_import_opml(workdir):
    workdir.write_config(sources=[CONFIGURED])
    path = workdir.path / "subs.opml"
    path.write_bytes(OPML_1.encode("iso-8859-1"))
    out = ok(workdir.newswatch("sources", "import", str(path), "--every", "1h"))
    lines = out.splitlines()
    assert lines[0] == "imported 3, skipped 4"  # the web page's outline is said too
    assert "  skipped javascript:alert(1): invalid: 'javascript:alert(1)' is not an http(s) URL" \
        in lines
    assert "  skipped http://127.0.0.1:9/world.rss: listed twice in subs.opml" in lines
    assert any(line.startswith(f"  skipped {CONFIGURED}: already there") for line in lines)

    rows = listed(workdir)
    names = {url: row["name"] for url, row in rows.items() if row["origin"] == "cli"}
    assert names == {
        "http://127.0.0.1:9/world.rss": "World news",
        "http://127.0.0.1:9/cafe.rss": "Café & Co",
        "http://127.0.0.1:9/deep.atom": "Deep",
    }
    assert {row["every"] for row in rows.values() if row["origin"] == "cli"} == {"1h"}
    assert rows[CONFIGURED]["origin"] == "config"

    again = ok(workdir.newswatch("sources", "import", str(path)))
    assert again.splitlines()[0] == "imported 0, skipped 7"


def test_imported_names_are_one_line(workdir):
    # XML lets a title hold line breaks and C1 controls: the name is kept, on one line.
    workdir.write_config()
    path = workdir.path / "subs.opml"
    path.write_text(
        "<opml version='2.0'><body><outline type='rss' xmlUrl='http://127.0.0.1:9/a.rss'"
        " title='World&#10;news&#x85;&#x9b;daily'/></body></opml>",
        encoding="utf-8",
    )
    assert ok(workdir.newswatch("sources", "import", str(path))).splitlines() == [
        "imported 1, skipped 0"]
    assert listed(workdir)["http://127.0.0.1:9/a.rss"]["name"] == "World news daily"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "not well-formed XML"),
        ("<rss version='2.0'><channel/></rss>", "not an OPML file (the root element is <rss>"),
        ("not xml at all", "not well-formed XML"),
    ],
)
def test_import_refuses_what_is_not_opml(workdir, content, message):
    workdir.write_config()
    path = workdir.path / "subs.opml"
    path.write_text(content, encoding="utf-8")
    line = error(workdir.newswatch("sources", "import", str(path)), 2)
    assert line.startswith(f"newswatch: {path}: ") and message in line
    assert listed(workdir) == {}


def test_import_forgives_what_feed_readers_forgive(workdir):
    # Each refused the whole file before (imported 0, exit 2), though Miniflux, FreshRSS and
    # listparser read them: a raw "&" in a URL (Miniflux's own test), HTML's named entities,
    # Latin-1 bytes in a file said to be UTF-8, a blank line before the declaration; and
    # OUTLINE in capitals, feed:// addresses were skipped.
    workdir.write_config()
    path = workdir.path / "subs.opml"
    path.write_bytes(
        b"\n  <?xml version='1.0' encoding='UTF-8'?>\n<opml version='1.0'><body>"
        b"<outline text='Arch&aelig;ology' xmlUrl='http://127.0.0.1:9/a.rss?x=1&y=2'/>"
        b"<outline text='S\xfcddeutsche' xmlUrl='http://127.0.0.1:9/sz.rss'/>"
        b"<OUTLINE TEXT='Loud' XMLURL='http://127.0.0.1:9/loud.rss'/>"
        b"<outline text='Old' xmlUrl='feed://127.0.0.1:9/old.rss'/>"
        b"<outline text='Older' xmlUrl='feed:https://127.0.0.1:9/older.rss'/>"
        b"<outline text='A page' htmlUrl='http://127.0.0.1:9/news/'/>"
        b"</body></opml>"
    )
    out = ok(workdir.newswatch("sources", "import", str(path)))
    assert "imported 5, skipped 1" in out
    # An outline of a web page only was dropped without a word.
    assert ("skipped http://127.0.0.1:9/news/: a web page, not a feed (htmlUrl only): "
            "`sources add http://127.0.0.1:9/news/ --kind page` watches it") in out
    assert {url: row["name"] for url, row in listed(workdir).items()} == {
        "http://127.0.0.1:9/a.rss?x=1&y=2": "Archæology",
        "http://127.0.0.1:9/sz.rss": "Süddeutsche",
        "http://127.0.0.1:9/loud.rss": "Loud",
        "http://127.0.0.1:9/old.rss": "Old",
        "https://127.0.0.1:9/older.rss": "Older",
    }


def test_a_latin_1_file_with_windows_quotes_keeps_them(workdir):
    # Windows programs declare ISO-8859-1 and write Windows-1252's curly quotes, dash and
    # euro sign (bytes 0x80-0x9F, controls in ISO-8859-1): "Bob’s" was imported "Bob s".
    workdir.write_config()
    path = workdir.path / "subs.opml"
    path.write_bytes(
        "<?xml version='1.0' encoding='ISO-8859-1'?>\n<opml version='1.1'><body>"
        "<outline text='Bob’s “Café” – 5 €' type='rss' xmlUrl='http://127.0.0.1:9/a.rss'/>"
        "</body></opml>".encode("cp1252")
    )
    assert ok(workdir.newswatch("sources", "import", str(path))).splitlines() == [
        "imported 1, skipped 0"]
    assert listed(workdir)["http://127.0.0.1:9/a.rss"]["name"] == "Bob’s “Café” – 5 €"


def test_a_google_news_page_is_watched_as_its_feed(workdir):
    """A Google News search, topic or home page as a browser shows it, given as a source: a
    server is answered with a script shell or Google's consent page (no article; a cookie
    text as one), so it is read as the feed Google gives for it, the query kept."""
    search = "https://news.google.com/search?q=Maduro%20Venezuela&hl=en-US&gl=US&ceid=US%3Aen"
    topic = "https://news.google.com/topics/CAAqJggKIiBDQkFTEgoIL20vMDdfeTcSAmVuKAAP?hl=es-419"
    workdir.write_config(sources=[{"url": search}])
    ok(workdir.newswatch("sources", "add", topic))
    ok(workdir.newswatch("sources", "add", "https://news.google.com/home?hl=fr&gl=FR#top"))
    assert set(listed(workdir)) == {
        "https://news.google.com/rss/search?q=Maduro%20Venezuela&hl=en-US&gl=US&ceid=US%3Aen",
        "https://news.google.com/rss/topics/CAAqJggKIiBDQkFTEgoIL20vMDdfeTcSAmVuKAAP?hl=es-419",
        "https://news.google.com/rss?hl=fr&gl=FR",
    }
    # The page and its feed are one source.
    again = ok(workdir.newswatch("sources", "add", search.replace("/search", "/rss/search")))
    assert "unchanged (the config file wins)" in again
    assert len(listed(workdir)) == 3


def test_a_damaged_opml_file_is_read_as_far_as_it_can_be(workdir):
    # A file cut short (a tag left open) lost every subscription: read as feed readers do,
    # and the damage said.
    workdir.write_config()
    path = workdir.path / "subs.opml"
    path.write_text("<opml><body><outline text='A' xmlUrl='http://127.0.0.1:9/a'>",
                    encoding="utf-8")
    done = workdir.newswatch("sources", "import", str(path))
    assert done.returncode == 0 and "imported 1, skipped 0" in done.stdout
    assert done.stderr.strip().startswith(f"newswatch: {path}: not well-formed XML: ")
    assert done.stderr.strip().endswith("read as far as it could be")
    assert list(listed(workdir)) == ["http://127.0.0.1:9/a"]


def test_a_large_import_reads_the_sources_once(workdir, monkeypatch):
    # Every outline read all the sources again: a reader's export of 2,000 feeds took 20 s,
    # 10,000 feeds minutes. The sources are read as often for 60 outlines as for one.
    from storage.sources import SourcesMixin

    reads = []
    sources = SourcesMixin.sources

    def counted(self: SourcesMixin, *, active_only: bool = True) -> list:
        reads.append(active_only)
        return sources(self, active_only=active_only)

    monkeypatch.setattr(SourcesMixin, "sources", counted)
    workdir.write_config()
    ok(workdir.newswatch("sources", "add", "http://127.0.0.1:9/site/"))
    for count in (1, 60):
        path = workdir.path / f"{count}.opml"
        path.write_text(
            "<opml version='2.0'><body><outline text='News'>"
            + "".join(f"<outline type='rss' text='F{i}' xmlUrl='http://127.0.0.1:9/{count}/{i}'/>"
                      for i in range(count))
            + "</outline></body></opml>",
            encoding="utf-8",
        )
        reads.clear()
        out = ok(workdir.newswatch("sources", "import", str(path)))
        assert out.splitlines()[0] == f"imported {count}, skipped 0"
        if count == 1:
            once = len(reads)
    assert len(reads) == once
    assert len(listed(workdir)) == 62


def test_import_missing_file_and_bad_every(workdir):
    workdir.write_config()
    missing = workdir.path / "missing.opml"
    line = error(workdir.newswatch("sources", "import", str(missing)), 2)
    assert line == f"newswatch: {missing}: cannot read: No such file or directory"
    assert "is a directory" in error(workdir.newswatch("sources", "import", str(workdir.path)),
                                     2).lower()
    path = workdir.path / "subs.opml"
    path.write_bytes(OPML_1.encode("iso-8859-1"))
    error(workdir.newswatch("sources", "import", str(path), "--every", "soon"), 2)
    assert listed(workdir) == {}


def test_import_does_not_read_local_files_through_entities(workdir):
    workdir.write_config()
    secret = workdir.path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE", encoding="utf-8")
    path = workdir.path / "evil.opml"
    path.write_text(textwrap.dedent(f"""\
        <?xml version="1.0"?>
        <!DOCTYPE opml [<!ENTITY xxe SYSTEM "file://{secret}">]>
        <opml version="2.0"><head><title>&xxe;</title></head><body>
          <outline text="Feed" xmlUrl="http://127.0.0.1:9/feed"/>
        </body></opml>
        """), encoding="utf-8")
    result = workdir.newswatch("sources", "import", str(path))
    assert "TOP-SECRET-VALUE" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    export = ok(workdir.newswatch("sources", "export"))
    assert "TOP-SECRET-VALUE" not in export


def test_export_is_opml_2_for_feed_readers(workdir):
    workdir.write_config(sources=[{"url": CONFIGURED, "name": "Configured <& \"quoted\">"}])
    ok(workdir.newswatch("sources", "add", FEED + "?a=1&b=2", "--name", "Café"))
    ok(workdir.newswatch("sources", "add", OTHER))
    result = workdir.newswatch("sources", "export")
    document = ok(result).encode("utf-8")
    assert document.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = etree.fromstring(document)
    assert (root.tag, root.get("version")) == ("opml", "2.0")
    assert root.findtext("head/title") == "newswatch sources"
    assert parsedate_to_datetime(root.findtext("head/dateCreated")).tzinfo is not None
    every = "{urn:newswatch:opml}every"  # newswatch's own settings, in its namespace
    assert outlines(document) == [
        {"type": "rss", "text": 'Configured <& "quoted">', "title": 'Configured <& "quoted">',
         "xmlUrl": CONFIGURED, every: "1h"},
        # Added without --every: crawl.every's, whatever it is where it is imported.
        {"type": "rss", "text": "Café", "title": "Café", "xmlUrl": FEED + "?a=1&b=2"},
        # A source without a name has its URL as the text OPML requires, and no title.
        {"type": "rss", "text": OTHER, "xmlUrl": OTHER},
    ]
    # Removed sources are not exported.
    ok(workdir.newswatch("sources", "remove", OTHER))
    assert OTHER not in ok(workdir.newswatch("sources", "export"))


def test_sources_added_without_an_interval_follow_crawl_every(workdir, tmp_path):
    """A source added or imported without --every is polled every crawl.every as it
    changes, as the config file's sources are; one given an interval keeps it."""
    opml = tmp_path / "feeds.opml"
    opml.write_text(
        '<opml version="2.0"><body><outline type="rss" text="I" xmlUrl="http://127.0.0.1:9/i"/>'
        '</body></opml>'
    )
    workdir.write_config(crawl={"every": "15m"})
    ok(workdir.newswatch("sources", "add", FEED))
    ok(workdir.newswatch("sources", "add", OTHER, "--every", "5m"))
    ok(workdir.newswatch("sources", "import", str(opml)))

    def intervals() -> dict[str, str]:
        rows = json.loads(ok(workdir.newswatch("sources", "list", "--format", "json")))
        return {row["url"]: row["every"] for row in rows}

    assert intervals() == {FEED: "15m", OTHER: "5m", "http://127.0.0.1:9/i": "15m"}
    workdir.write_config(crawl={"every": "2m"})
    assert intervals() == {FEED: "2m", OTHER: "5m", "http://127.0.0.1:9/i": "2m"}
    # Given an interval later, it keeps it; back without one, it follows again.
    ok(workdir.newswatch("sources", "add", FEED, "--every", "1h"))
    workdir.write_config(crawl={"every": "3m"})
    assert intervals()[FEED] == "1h"
    ok(workdir.newswatch("sources", "add", FEED))
    assert intervals()[FEED] == "3m"


def test_export_import_round_trip(workdir, tmp_path):
    workdir.write_config(sources=[{"url": CONFIGURED, "every": "10m"}])
    ok(workdir.newswatch("sources", "add", FEED, "--name", "Feed ünïcode", "--kind", "page",
                         "--include", "*/2026/*", "--include", "*/news/*",
                         "--exclude", "*/video/*", "--every", "5m"))
    ok(workdir.newswatch("sources", "add", OTHER))
    target = workdir.path / "out" / "subs.opml"
    target.parent.mkdir()
    assert "exported 3 source(s)" in ok(workdir.newswatch("sources", "export", "-o", str(target)))
    assert not list(target.parent.glob(".*partial"))

    second = Workdir(tmp_path / "second")
    second.path.mkdir()
    second.write_config()
    out = ok(second.newswatch("sources", "import", str(target)))
    assert out.splitlines()[0] == "imported 3, skipped 0"
    assert set(listed(second)) == set(listed(workdir)) == {CONFIGURED, FEED, OTHER}
    assert listed(second)[FEED]["name"] == "Feed ünïcode"
    assert {row["origin"] for row in listed(second).values()} == {"cli"}
    # Each source's settings come back (before: every one at crawl.every, no kind, no
    # patterns; a source without a name named after its URL for good).
    def settings(where: Workdir) -> dict[str, tuple[object, ...]]:
        with open_store(where.database) as store:
            return {s.url: (s.name, s.every_seconds, s.kind, s.include, s.exclude)
                    for s in store.sources()}

    assert settings(second) == settings(workdir)
    assert settings(second)[OTHER][0] is None
    assert settings(second)[FEED] == ("Feed ünïcode", 300, "page", ("*/2026/*", "*/news/*"),
                                      ("*/video/*",))
    # --every, when given, is every imported source's.
    third = Workdir(tmp_path / "third")
    third.path.mkdir()
    third.write_config()
    ok(third.newswatch("sources", "import", str(target), "--every", "2h"))
    assert {row["every"] for row in listed(third).values()} == {"2h"}


def test_export_writes_each_address_as_it_is_requested(workdir):
    # An international host and a space or letter beyond ASCII in a path were exported as
    # written: not a URI, which readers that take only one (NetNewsWire) left out; and the
    # export imported back beside them was two sources more, each polled twice.
    idn, spaced = "http://bücher.example/feed", "http://127.0.0.1:9/Welt Nachrichten/ü.rss"
    workdir.write_config(sources=[idn])
    ok(workdir.newswatch("sources", "add", spaced))
    target = workdir.path / "subs.opml"
    ok(workdir.newswatch("sources", "export", "-o", str(target)))
    assert [o["xmlUrl"] for o in outlines(target.read_bytes())] == [
        "http://xn--bcher-kva.example/feed",
        "http://127.0.0.1:9/Welt%20Nachrichten/%C3%BC.rss",
    ]
    out = ok(workdir.newswatch("sources", "import", str(target))).splitlines()
    assert out[0] == "imported 0, skipped 2"
    assert set(listed(workdir)) == {idn, spaced}


def test_two_writers_of_one_output_file_both_end_well(tmp_path):
    # Both wrote `.NAME.partial`: one renamed the other's away, which then failed ("cannot
    # write: No such file or directory", exit 1: a review, 2 runs in 5).
    from newswatch.common import output_file

    target = tmp_path / "out.jsonl"
    first, second = output_file(target), output_file(target)
    one, other = first.__enter__(), second.__enter__()
    one.write(b"first\n")
    other.write(b"second\n")
    first.__exit__(None, None, None)
    second.__exit__(None, None, None)
    assert target.read_bytes() == b"second\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_export_to_an_unwritable_place(workdir):
    workdir.write_config(sources=[CONFIGURED])
    line = error(workdir.newswatch("sources", "export", "-o", str(workdir.path / "no" / "x")), 1)
    assert "cannot write" in line


def test_export_to_dash_is_standard_output(workdir):
    workdir.write_config(sources=[CONFIGURED])
    document = ok(workdir.newswatch("sources", "export", "-o", "-"))
    assert outlines(document.encode("utf-8"))[0]["xmlUrl"] == CONFIGURED
    assert not (workdir.path / "-").exists()


# -- polling what was added -------------------------------------------------------------------


def test_crawl_polls_a_source_added_from_the_command_line(site, workdir):
    story = sample_story("cli-added-story", "Harbour ferry timetable changes")
    site.publish(story)
    workdir.write_config()
    ok(workdir.newswatch("sources", "add", site.url("/feeds/world.rss")))
    crawl = ok(workdir.newswatch("crawl"))
    assert "polled 1 source(s): 1 ok" in crawl
    exported = [json.loads(line) for line in ok(workdir.newswatch("export")).splitlines()]
    assert [row["url"] for row in exported] == [site.article_url(story.slug)]
    assert exported[0]["source_url"] == site.url("/feeds/world.rss")
    row = listed(workdir)[site.url("/feeds/world.rss")]
    assert row["health"] == "ok" and row["last_success"] and row["articles"] == 1


def test_sources_commands_work_while_the_daemon_runs(site, workdir, wait):
    story = sample_story("while-running", "Library opening hours extended")
    site.publish(story)
    workdir.write_config()
    daemon = workdir.start_daemon()
    try:
        daemon.wait_for_log("daemon started")
        ok(workdir.newswatch("sources", "add", site.url("/feeds/world.rss"), "--every", "1h"))
        # The daemon polls it at its next tick (tick = 1s in tests).
        assert wait(lambda: site.requests_for("/feeds/world.rss"), 20)
        assert wait(lambda: listed(workdir)[site.url("/feeds/world.rss")]["health"] == "ok", 20)
        ok(workdir.newswatch("sources", "remove", site.url("/feeds/world.rss")))
        assert listed(workdir) == {}
    finally:
        code = daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.output()
    assert "Traceback" not in daemon.output()
    exported = [json.loads(line) for line in ok(workdir.newswatch("export")).splitlines()]
    assert site.article_url(story.slug) in [row["url"] for row in exported]


def test_a_command_without_the_config_file_leaves_the_daemons_sources_and_topics(
    site, workdir, wait
):
    """`newswatch sources list` run in the service's directory without `--config`, or while
    an editor saving the file in place had emptied it, read a configuration of no sources
    and no topics and applied it: the running daemon stopped polling, and dropped the alert
    waiting for its reader's digest, without a word anywhere."""
    from datetime import UTC, datetime, timedelta

    from conftest import run_in_process

    feed = site.url("/feeds/world.rss")
    site.publish(sample_story("harbour-vote", "Harbour plan put to a vote", ["harbour"]))
    later = (datetime.now(UTC) + timedelta(hours=12)).strftime("%H:%M")  # no digest goes
    workdir.write_config(
        sources=[{"url": feed, "every": "1s"}],
        topics=[{"name": "Harbour", "query": "harbour", "notify": ["desk@test.example"],
                 "mode": "digest"}],
        alerts={"digest": later},
    )

    def waiting() -> int:
        status = json.loads(ok(workdir.newswatch("status", "--json")))
        return sum(d["waiting"] for d in status["digests"])

    daemon = workdir.start_daemon()
    try:
        daemon.wait_for_log("daemon started")
        assert wait(lambda: waiting() == 1, 30), daemon.output()
        # The service's database is the default one of its directory: no --config.
        out = ok(run_in_process(["sources", "list", "--format", "json"], workdir.path, {}))
        assert [row["url"] for row in json.loads(out)] == [feed]
        good = workdir.config.read_text(encoding="utf-8")
        workdir.config.write_text("", encoding="utf-8")
        assert "Harbour" in ok(workdir.newswatch("topics", "list"))
        workdir.config.write_text(good, encoding="utf-8")
        # The daemon goes on polling the source, and keeps the alert for the digest.
        polled = len(site.requests_for("/feeds/world.rss"))
        assert wait(lambda: len(site.requests_for("/feeds/world.rss")) > polled + 1, 20)
        assert waiting() == 1
    finally:
        code = daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.output()
    assert "no longer" not in daemon.output() and "dropped" not in daemon.output()


def test_help_texts(workdir):
    workdir.write_config()
    out = ok(workdir.newswatch("sources", "--help"))
    for command in ("add", "list", "remove", "import", "export"):
        assert command in out
        assert ok(workdir.newswatch("sources", command, "--help"))


def test_a_source_gone_for_good_is_listed_as_deactivated(site, workdir):
    gone = site.url("/status/410")
    workdir.write_config()
    ok(workdir.newswatch("sources", "add", gone))
    ok(workdir.crawl_till_gone())
    row = listed(workdir)[gone]
    assert row["health"].startswith("deactivated: ") and row["next_due"] is None
    assert "deactivated" in ok(workdir.newswatch("sources", "list"))
    # An import does not bring it back (nor renames it): the site said it is gone.
    opml = workdir.path / "feeds.opml"
    opml.write_text(
        f'<opml version="2.0"><body><outline text="Renamed" xmlUrl="{gone}"/></body></opml>'
    )
    assert "sources add" in ok(workdir.newswatch("sources", "import", str(opml)))
    assert gone not in ok(workdir.newswatch("sources", "export"))
    assert listed(workdir)[gone]["name"] != "Renamed"
    # Adding it by hand does: a site may answer 410 by mistake for a while.
    assert "polled again" in ok(workdir.newswatch("sources", "add", gone))
    row = listed(workdir)[gone]
    assert not row["health"].startswith("deactivated") and row["next_due"] is None, row
    assert gone in ok(workdir.newswatch("sources", "export"))
    # Its 410s are counted from its next poll again: one more does not deactivate it.
    ok(workdir.newswatch("crawl"))
    assert not listed(workdir)[gone]["health"].startswith("deactivated")


def test_a_source_gone_for_good_can_be_removed(site, workdir):
    gone = site.url("/status/410")
    workdir.write_config()
    ok(workdir.newswatch("sources", "add", gone))
    ok(workdir.crawl_till_gone())
    assert "removed" in ok(workdir.newswatch("sources", "remove", gone))
    assert gone not in listed(workdir)


def test_a_config_source_gone_for_good_is_polled_again_once_added(site, workdir):
    gone = site.url("/status/410")
    workdir.write_config(sources=[gone])
    ok(workdir.crawl_till_gone())
    assert listed(workdir)[gone]["health"].startswith("deactivated: ")
    out = ok(workdir.newswatch("sources", "add", gone))
    assert "polled again" in out and "config" in out
    row = listed(workdir)[gone]
    assert not row["health"].startswith("deactivated") and row["origin"] == "config", row


def test_a_url_written_another_way_is_the_same_source(site, workdir):
    # "HTTP://", a host in capitals, a #fragment, a trailing slash: each was added as one
    # more source, polled as often as the first.
    world = site.url("/feeds/world.rss")
    workdir.write_config(sources=[world])
    shouting = world.replace("http://", "HTTP://")
    assert "already defined" in ok(workdir.newswatch("sources", "add", shouting + "#top"))
    other = site.url("/feeds/other.rss")
    ok(workdir.newswatch("sources", "add", other))
    assert "updated" in ok(workdir.newswatch("sources", "add", other + "/", "--name", "Other"))
    opml = workdir.path / "feeds.opml"
    opml.write_text(
        f'<opml version="2.0"><body><outline xmlUrl="{shouting}"/>'
        f'<outline xmlUrl="{other}#a"/><outline xmlUrl="{site.url("/feeds/new.rss")}"/>'
        f'<outline xmlUrl="{site.url("/feeds/new.rss")}/"/></body></opml>'
    )
    assert "imported 1, skipped 3" in ok(workdir.newswatch("sources", "import", str(opml)))
    assert sorted(listed(workdir)) == sorted([world, other, site.url("/feeds/new.rss")])
    assert listed(workdir)[other]["name"] == "Other"


def test_a_source_an_older_version_took_twice_is_polled_once(workdir):
    # Before 5120a92, `sources add http://host:80/feed` beside the config file's
    # http://host/feed was a second source: after an upgrade the feed was polled twice at
    # every tick (a review). The command line's copy is no longer polled.
    from datetime import UTC, datetime

    from storage import SourceSpec

    workdir.write_config(sources=[CONFIGURED])
    workdir.make_database()
    ok(workdir.newswatch("sources", "list"))
    with open_store(workdir.database) as store:  # as the older version stored it
        store.add_source(SourceSpec(CONFIGURED.replace("http://", "HTTP://") + "#x", 600),
                         datetime.now(UTC))
        store.add_source(SourceSpec(OTHER, 600), datetime.now(UTC))
        store.add_source(SourceSpec(OTHER + "/", 600), datetime.now(UTC))
        assert len(store.sources()) == 4
    said = workdir.newswatch("sources", "list").stderr.splitlines()
    assert said == [
        f"newswatch: source {url} (added with `sources add`) is {taken} written another way: "
        f"merged into {taken}, no longer listed (its stored articles are kept)"
        for url, taken in ((CONFIGURED.replace("http://", "HTTP://") + "#x", CONFIGURED),
                           (OTHER + "/", OTHER))], said
    assert sorted(listed(workdir)) == sorted([CONFIGURED, OTHER])
    with open_store(workdir.database) as store:
        assert sorted(s.url for s in store.sources()) == sorted([CONFIGURED, OTHER])


def test_a_source_removed_while_its_page_is_crawled_mails_nothing_more(
    site, mail, workdir, wait
) -> None:
    # `sources remove` while the crawl had asked for the source's article page: the page,
    # answered after, was matched and its alert mailed, after the user had removed the
    # source. It is stored (a removed source's articles are kept) but alerts no one, then
    # or later; the other source's alert goes as ever.
    from urllib.parse import urlsplit

    from conftest import newswatch_process, subprocess_env
    from test_end_to_end import MADURO, export, fresh

    rates = {"name": "Rates", "query": '"central bank"', "notify": ["markets@test.example"]}
    site.publish(fresh("venezuela-opposition-leader"), feed="world")
    site.create_feed("markets")
    site.publish(fresh("central-bank-holds-rates"), feed="markets")
    page = urlsplit(site.article_url("central-bank-holds-rates")).path
    gate = site.hold(page)
    markets = site.url("/feeds/markets.rss")
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[MADURO, rates],
                         smtp=mail, crawl={"timeout": "90s"})  # the held page must not time out
    ok(workdir.newswatch("sources", "add", markets))
    log = workdir.path / "crawl.log"
    proc = newswatch_process(["--config", str(workdir.config), "crawl"], workdir.path,
                             subprocess_env(), log, log)
    try:
        assert wait(lambda: site.held == [page], 60), log.read_text()
        assert "removed" in ok(workdir.newswatch("sources", "remove", markets))
    finally:
        gate.set()
        if proc.wait(timeout=120) != 0:
            raise AssertionError(log.read_text())
    assert [m["To"] for m in mail.wait_for(1)] == ["desk@test.example"]
    assert {row["title"] for row in export(workdir)} == {
        fresh("venezuela-opposition-leader").title, fresh("central-bank-holds-rates").title}
    # Nothing left to match for it at the next run, nor once it is added again.
    ok(workdir.newswatch("crawl"))
    ok(workdir.newswatch("sources", "add", markets))
    ok(workdir.newswatch("crawl"))
    assert [m["To"] for m in mail.messages] == ["desk@test.example"]


def test_a_page_whose_feed_another_source_polls_is_said_merged_by_the_poll_that_finds_it(
    site, workdir
):
    """`sources add` of a site's page whose declared feed a configured source polls said
    "added"; the poll found the feed, and the next command removed the page's source with
    "source … is polled as …: polled once, as the latter" (or `crawl`, logging errors only,
    said nothing): it vanished from `sources list`. The crawl that finds the feed says the
    page's source was merged into the other, and that it is no longer listed."""
    world = site.url("/feeds/world.rss")
    page = site.url("/withfeed/")
    workdir.write_config(sources=[world])
    assert ok(workdir.newswatch("sources", "add", page)).startswith(f"added {page}")
    crawl = ok(workdir.newswatch("crawl"))
    assert (f"  source {page} (added with `sources add`) is polled at {world}, as {world} "
            f"is: merged into {world}, no longer listed (its stored articles are kept)\n"
            ) in crawl, crawl
    assert sorted(listed(workdir)) == [world]
    status = workdir.newswatch("status")
    assert page not in status.stdout + status.stderr
    again = ok(workdir.newswatch("crawl"))
    assert "merged" not in again and "polled 1 source(s)" in again, again


def test_a_page_merged_into_the_source_polling_its_feed_is_not_added_again(site, workdir):
    """`sources add` of a page merged before into the source polling its declared feed said
    "added" again, and the next crawl merged it again. Its earlier polls are known: it is
    said polled already, and nothing is added."""
    world = site.url("/feeds/world.rss")
    page = site.url("/withfeed/")
    workdir.write_config(sources=[world])
    ok(workdir.newswatch("sources", "add", page))
    assert "merged into" in ok(workdir.newswatch("crawl"))
    again = workdir.newswatch("sources", "add", page)
    assert (ok(again), again.stderr) == (
        f"already polled as {world}: polled at {world}, as found by its earlier polls: "
        "nothing added\n", ""), again
    assert sorted(listed(workdir)) == [world]
    crawl = ok(workdir.newswatch("crawl"))
    assert "merged into" not in crawl and "polled 1 source(s)" in crawl, crawl


def test_a_feed_added_beside_the_page_that_declares_it_is_said_as_that_page_s_feed(
    site, workdir
):
    """A site's page and its feed both added from the command line (an OPML import of
    both) before a crawl: the crawl finds the page polled at the feed, and the feed's source
    was said "… is PAGE written another way", which it is not; added again, the feed said
    "added", and the next command merged it again. It is said polled by the page's source,
    and, added again, polled already."""
    world = site.url("/feeds/world.rss")
    page = site.url("/withfeed/")
    workdir.write_config(sources=[])
    ok(workdir.newswatch("sources", "add", page))
    ok(workdir.newswatch("sources", "add", world))
    crawl = ok(workdir.newswatch("crawl"))
    assert (f"  source {world} (added with `sources add`) is where {page} is polled (the feed "
            f"it declares, or its permanent redirect's target): merged into {page}, no longer "
            "listed (its stored articles are kept)\n") in crawl, crawl
    assert sorted(listed(workdir)) == [page]
    again = workdir.newswatch("sources", "add", world)
    assert (ok(again), again.stderr) == (f"already polled: {page} leads to it\n", ""), again
    assert sorted(listed(workdir)) == [page]
