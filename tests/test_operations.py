"""Running newswatch for months: CLI commands while the daemon writes, and clear errors for a
database that cannot be used."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import Workdir, subprocess_env
from newssite import STORIES_BY_SLUG

from storage.schema import register_functions

# Root bypasses file modes through CAP_DAC_OVERRIDE (and CAP_DAC_READ_SEARCH): a process
# started without them sees a read-only file or directory as any user would, while it can
# still read the interpreter under /root.
WITHOUT_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]


def test_cli_reads_while_the_daemon_writes(site, workdir, wait):
    names = [f"desk{i}" for i in range(5)]
    for i, name in enumerate(names):
        site.create_feed(name)
        story = replace(STORIES_BY_SLUG["city-late-winner"], slug=f"story-number-{i}",
                        published=datetime.now(UTC) - timedelta(minutes=i))
        site.articles[story.slug] = story
        site.publish(story, feed=name)
    workdir.write_config(sources=[{"url": site.url(f"/feeds/{n}.rss"), "every": "1s"}
                                  for n in names])
    daemon = workdir.start_daemon()
    try:
        daemon.wait_for_log("daemon started")
        for _ in range(2):
            for command in (["status"], ["export"], ["sources", "list"]):
                result = workdir.newswatch(*command)
                assert result.returncode == 0, (command, result.stderr)
        assert wait(lambda: workdir.newswatch("export").stdout.count("\n") == 5, 30)
    finally:
        assert daemon.stop() == 0, daemon.output()


def test_corrupted_database_gives_one_clear_line(workdir):
    workdir.write_config()
    workdir.database.write_bytes(b"this is not a database" * 100)
    for command in ("status", "crawl", "export"):
        result = workdir.newswatch(command)
        assert result.returncode == 1, command
        [line] = result.stderr.strip().splitlines()
        assert line.startswith("newswatch: cannot open database")
        assert "not a database" in line
        assert "Traceback" not in result.stderr


def test_a_database_of_a_newer_newswatch_exits_2_which_systemd_leaves_stopped(workdir):
    """A downgrade: the refusal exited 1, and the units' restart policy started the daemon
    every 10 s for ever. It exits 2 (as a bad config file), which the units do not restart."""
    import sqlite3

    from storage import open_store

    workdir.write_config()
    open_store(workdir.database).close()
    with sqlite3.connect(workdir.database) as db:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        db.execute(f"PRAGMA user_version = {version + 1}")
    for command in ("status", "crawl", "run"):
        result = workdir.newswatch(command)
        assert result.returncode == 2, (command, result.stderr)
        line = result.stderr.strip().splitlines()[-1]
        assert "is newer than this newswatch" in line and "upgrade newswatch" in line, line
        assert "Traceback" not in result.stderr
    for unit in (Path(__file__).parent.parent / "deploy").glob("*.service"):
        assert "\nRestartPreventExitStatus=2\n" in unit.read_text(), unit


def test_database_path_that_is_a_directory(workdir):
    workdir.write_config()
    workdir.database.mkdir()
    result = workdir.newswatch("crawl")
    assert result.returncode == 2  # a config error, which check reports too
    assert result.stderr.splitlines() == [
        f"newswatch: {workdir.config}: database.path: {workdir.database} is a directory"]


def test_export_to_a_file_or_to_standard_output(workdir):
    from storage import open_store

    workdir.write_config()
    open_store(workdir.database).close()  # a database with no article
    header = ("url,title,text,published,author,source,source_url,topics,story,extraction,"
              "extraction_note")
    nowhere = workdir.path / "no" / "articles.csv"
    result = workdir.newswatch("export", "--format", "csv", "-o", str(nowhere))
    # Was "unexpected error: FileNotFoundError: ...", where sources export said this.
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"newswatch: {nowhere}: cannot write: No such file or directory"]
    # -o - is standard output, not a file named "-".
    dash = workdir.newswatch("export", "--format", "csv", "-o", "-")
    assert (dash.returncode, dash.stdout.splitlines()) == (0, [header]), dash.stderr
    assert not (workdir.path / "-").exists()
    target = workdir.path / "articles.csv"
    assert workdir.newswatch("export", "--format", "csv", "-o", str(target)).returncode == 0
    assert target.read_text(encoding="utf-8").splitlines() == [header]
    assert not list(workdir.path.glob(".*partial"))


def _crawl_titles(site, workdir, titles: list[str]) -> None:
    """Crawl a feed of ``titles`` (its pages gone: each article is its feed item)."""
    items = "".join(
        f"<item><title>{html.escape(title)}</title><link>{site.url(f'/a/{n}')}</link>"
        f"<description>Text {n}.</description></item>" for n, title in enumerate(titles))
    feed = site.serve("/titles.rss", f'<rss version="2.0"><channel><title>T</title>{items}'
                      "</channel></rss>".encode())
    for n in range(len(titles)):
        site.serve(f"/a/{n}", b"", status=410, content_type="text/html")
    workdir.write_config(sources=[feed])
    assert workdir.newswatch("crawl").returncode == 0


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_text(site, workdir):
    """A feed's title "=HYPERLINK(...)" went into the CSV as a live formula, and a headline
    starting "- " (Dagbladet: "- Angsten vil øke") showed as #NAME? in Excel."""
    import csv
    import io

    titles = ['=HYPERLINK("http://127.0.0.1:9/?x="&A1,"Click")', "- Angsten vil øke",
              "@channel news", "Plain headline"]
    _crawl_titles(site, workdir, titles)
    rows = list(csv.DictReader(io.StringIO(workdir.newswatch("export", "--format", "csv").stdout)))
    assert sorted(row["title"] for row in rows) == sorted(
        ["'" + titles[0], "'" + titles[1], "'" + titles[2], titles[3]])
    # JSON lines keep the titles as they are.
    jsonl = [json.loads(line) for line in workdir.newswatch("export").stdout.splitlines()]
    assert sorted(row["title"] for row in jsonl) == sorted(titles)


def test_export_to_standard_output_is_utf8_whatever_the_locale(site, workdir):
    """``newswatch export > articles.csv`` under a Latin-1 locale stopped at the first
    Czech or Japanese title ("unexpected error: UnicodeEncodeError", half a file, exit 1),
    and a Latin-1 title came out in Latin-1: ``-o FILE`` and ``sources export`` write
    UTF-8, whatever the locale."""
    titles = ["Fialova vláda podá demisi", "東京で地震訓練", "Zürich café"]
    _crawl_titles(site, workdir, titles)
    for fmt in ("jsonl", "csv"):
        target = workdir.path / f"articles.{fmt}"
        assert workdir.newswatch("export", "--format", fmt, "-o", str(target)).returncode == 0
        # A process of its own: the locale's encoding is set when Python starts.
        result = subprocess.run(
            [sys.executable, "-m", "newswatch", "--config", str(workdir.config), "export",
             "--format", fmt], cwd=workdir.path, capture_output=True, timeout=60,
            env=subprocess_env(PYTHONIOENCODING="latin-1"), check=False)
        assert (result.returncode, result.stderr) == (0, b"")
        assert result.stdout == target.read_bytes()
        assert sorted(t for t in titles if t in result.stdout.decode("utf-8")) == sorted(titles)


def _read_only_runner(tmp_path: Path) -> list[str]:
    """The command prefix under which file modes apply to newswatch (skips if none works)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: file modes cannot be enforced")
    probe = tmp_path / "probe"
    probe.write_bytes(b"")
    probe.chmod(0o444)
    result = subprocess.run(
        [*WITHOUT_DAC, sys.executable, "-c", f"open({str(probe)!r}, 'r+b')"],
        capture_output=True, text=True, timeout=30, check=False,
    )
    probe.unlink()
    if result.returncode == 0 or "PermissionError" not in result.stderr:
        pytest.skip(f"cannot drop CAP_DAC_OVERRIDE here: {result.stderr.strip()[-200:]}")
    return WITHOUT_DAC


@pytest.mark.parametrize("read_only", ["file", "directory", "both"])
def test_read_only_database_gives_one_clear_line(workdir: Workdir, tmp_path, read_only):
    prefix = _read_only_runner(tmp_path)
    workdir.write_config(sources=["http://127.0.0.1:9/feed.rss"])  # refused: nothing to read
    assert workdir.newswatch("crawl").returncode == 0  # the database exists, in WAL mode
    assert not Path(f"{workdir.database}-wal").exists()  # SQLite removed it on close
    lock = Path(f"{workdir.database}.lock")
    if read_only != "file":
        lock.unlink()  # crawl must create it: the lock's own error path
    before = workdir.database.read_bytes()
    if read_only in ("file", "both"):
        workdir.database.chmod(0o444)
    if read_only in ("directory", "both"):
        workdir.path.chmod(0o555)
    try:
        for command in ("crawl", "status", "run"):
            result = subprocess.run(
                [*prefix, sys.executable, "-m", "newswatch", "--config", str(workdir.config),
                 command],
                cwd=workdir.path, env=subprocess_env(), capture_output=True, text=True,
                timeout=60, check=False,
            )
            assert result.returncode == 1, (command, result.stdout, result.stderr)
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1, (command, result.stderr)
            [line] = lines
            assert line.startswith("newswatch: cannot ")
            assert f"database {workdir.database}: " in line
            if read_only == "file":
                assert "the file is read-only for this user" in line
            elif read_only == "directory":
                assert f"its directory {workdir.path} is read-only for this user" in line
                assert "newswatch.db-wal" in line
            else:
                assert f"the file and its directory {workdir.path} are read-only" in line
    finally:
        workdir.path.chmod(0o755)
        workdir.database.chmod(0o600)
    assert workdir.database.read_bytes() == before


def test_a_backup_is_restored_by_restore_and_never_under_a_running_newswatch(
    site, workdir, tmp_path
):
    """The README's restore was `cp`: over a running daemon's file it damaged both, and with
    the daemon stopped after a crash the stale -wal was replayed onto the copy (malformed).
    `restore` refuses while a newswatch runs on the database, checks the backup is a
    newswatch database, removes -wal and -shm, and moves the backup in whole."""
    import sqlite3

    from scheduler import InstanceLock

    site.publish(replace(STORIES_BY_SLUG["city-late-winner"],
                         published=datetime.now(UTC) - timedelta(minutes=5)))
    workdir.write_config(sources=[site.url("/feeds/world.rss")])
    assert workdir.newswatch("crawl").returncode == 0
    copy = tmp_path / "backup.db"
    assert workdir.newswatch("backup", str(copy)).returncode == 0
    site.publish(replace(STORIES_BY_SLUG["venezuela-opposition-leader"],
                         published=datetime.now(UTC) - timedelta(minutes=5)))
    assert "1 new article(s)" in workdir.newswatch("crawl").stdout
    # A stale -wal beside the database, as a newswatch killed with kill -9 leaves it.
    live = sqlite3.connect(workdir.database)
    register_functions(live)  # what the archive index's triggers call, as newswatch has
    live.execute("PRAGMA wal_autocheckpoint = 0")
    live.execute("UPDATE articles SET title = 'from the wal'")
    live.commit()
    wal = Path(f"{workdir.database}-wal")
    assert wal.stat().st_size > 0
    with InstanceLock(workdir.database):  # a newswatch running on it
        busy = workdir.newswatch("restore", str(copy))
    assert busy.returncode == 1 and "already running" in busy.stderr, busy.stderr
    not_ours = tmp_path / "other.db"
    sqlite3.connect(not_ours).execute("CREATE TABLE moz_places (url TEXT)").connection.close()
    refused = workdir.newswatch("restore", str(not_ours))
    assert refused.returncode == 1 and "not a newswatch database" in refused.stderr
    restored = workdir.newswatch("restore", str(copy))
    live.close()
    assert restored.returncode == 0, restored.stderr
    assert not wal.exists() or wal.stat().st_size == 0
    with sqlite3.connect(workdir.database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert [r[0] for r in db.execute("SELECT title FROM articles")] == [
            STORIES_BY_SLUG["city-late-winner"].title]
    assert workdir.newswatch("status").returncode == 0


def test_restore_writes_nothing_beside_the_backup(site, workdir, tmp_path):
    """A backup is a WAL database: `restore` opened it read-only in place, and SQLite left
    backup.db-wal and backup.db-shm beside the user's file. A backup with a -wal of its own
    (the live database's files copied as they were) is restored with the commits in it, and
    its files are left as they were."""
    import hashlib
    import shutil
    import sqlite3

    site.publish(replace(STORIES_BY_SLUG["city-late-winner"],
                         published=datetime.now(UTC) - timedelta(minutes=5)))
    workdir.write_config(sources=[site.url("/feeds/world.rss")])
    assert workdir.newswatch("crawl").returncode == 0
    kept = tmp_path / "bk"
    kept.mkdir()
    assert workdir.newswatch("backup", str(kept / "backup.db")).returncode == 0
    restored = workdir.newswatch("restore", str(kept / "backup.db"))
    assert restored.returncode == 0, restored.stderr
    assert sorted(p.name for p in kept.iterdir()) == ["backup.db"]

    live = sqlite3.connect(workdir.database)
    register_functions(live)  # what the archive index's triggers call, as newswatch has
    live.execute("PRAGMA wal_autocheckpoint = 0")
    live.execute("UPDATE articles SET title = 'from the wal'")
    live.commit()
    copied = tmp_path / "copied"
    copied.mkdir()
    for side in ("", "-wal"):
        shutil.copyfile(f"{workdir.database}{side}", copied / f"newswatch.db{side}")
    live.close()
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in copied.iterdir()}
    restored = workdir.newswatch("restore", str(copied / "newswatch.db"))
    assert restored.returncode == 0, restored.stderr
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in copied.iterdir()} == files
    with sqlite3.connect(workdir.database) as db:
        assert [r[0] for r in db.execute("SELECT title FROM articles")] == ["from the wal"]
    assert sorted(p.name for p in workdir.database.parent.iterdir()
                  if p.name.startswith(workdir.database.name + ".restoring")) == []


def test_restore_refuses_a_database_written_while_it_is_read(tmp_path, monkeypatch):
    """A database restored from with its -wal (another newswatch's, still running) is
    copied file by file: its writer folding its log into the file between the two copies
    left the copy without its last commits, and the restore said nothing. A database
    written while it is read is refused, and the database restored to is left as it was."""
    import sqlite3

    from storage import Store
    from storage.errors import StorageError
    from storage.maintenance import restore

    live, database = tmp_path / "other" / "live.db", tmp_path / "newswatch.db"
    live.parent.mkdir()
    for path in (live, database):
        Store.open(path).close()
    before = database.read_bytes()
    writer = sqlite3.connect(live)
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("CREATE TABLE probe (x)")
    writer.commit()
    copy = shutil.copyfile

    def written_meanwhile(original: str | Path, duplicate: str | Path) -> object:
        done = copy(original, duplicate)
        if Path(original) == live:  # its writer commits and folds the log in, the -wal next
            writer.execute("INSERT INTO probe VALUES (1)")
            writer.commit()
            writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return done

    monkeypatch.setattr(shutil, "copyfile", written_meanwhile)
    with pytest.raises(StorageError, match="changed while it was read"):
        restore(live, database)
    writer.close()
    assert database.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["newswatch.db", "other"]


def test_status_json_backup_and_prune(site, workdir, tmp_path):
    import json
    import sqlite3
    import stat

    site.publish(replace(STORIES_BY_SLUG["city-late-winner"],
                         published=datetime.now(UTC) - timedelta(minutes=5)))
    workdir.write_config(sources=[site.url("/feeds/world.rss")])
    assert workdir.newswatch("crawl").returncode == 0

    report = json.loads(workdir.newswatch("status", "--json").stdout)
    assert report["articles"] == 1
    assert report["sources"][0]["url"] == site.url("/feeds/world.rss")
    assert report["alerts"] == {"pending": 0, "sent": 0, "failed": 0}

    copy = tmp_path / "backup.db"
    result = workdir.newswatch("backup", str(copy))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    with sqlite3.connect(copy) as db:
        assert db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 1
    again = workdir.newswatch("backup", str(copy))
    assert again.returncode == 1 and "exists" in again.stderr

    # Nothing is old enough yet; with a zero-ish retention the text goes, the row stays.
    assert "pruned the text of 0 article(s)" in workdir.newswatch("prune").stdout
    text = workdir.config.read_text().replace('[database]\n', '[database]\nkeep = "1s"\n')
    workdir.config.write_text(text)
    import time
    # Times are kept to the second: an article fetched at 12:00:00.9 is older than a 1 s
    # retention only from 12:00:02 on, which 2.1 s after the crawl ended always is.
    time.sleep(2.1)
    assert "pruned the text of 1 article(s)" in workdir.newswatch("prune").stdout
    [row] = [json.loads(line) for line in workdir.newswatch("export").stdout.splitlines()]
    assert row["text"] == "" and "text pruned" in row["extraction_note"]
    assert "0 new article(s)" in workdir.newswatch("crawl").stdout  # still known: not refetched


def test_metrics_endpoint(site, mail, workdir, wait):
    import re
    import urllib.request

    site.publish(replace(STORIES_BY_SLUG["venezuela-opposition-leader"],
                         published=datetime.now(UTC) - timedelta(minutes=5)))
    workdir.write_config(
        sources=[{"url": site.url("/feeds/world.rss"), "every": "1s"}],
        topics=[{"name": "M", "query": "Maduro", "notify": ["a@test.example"]}],
        smtp=mail, extra="",
    )
    text = workdir.config.read_text().replace('[daemon]\n', '[daemon]\nmetrics = "127.0.0.1:0"\n')
    workdir.config.write_text(text)
    daemon = workdir.start_daemon()
    try:
        daemon.wait_for_log("metrics on http://")
        port = re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", daemon.output())[1]
        mail.wait_for(1, timeout=30)

        def scrape():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                return r.read().decode()

        body = wait(lambda: (b := scrape()) and 'newswatch_emails_total{outcome="sent"} 1' in b
                    and b, 30)
        assert body, scrape()
        assert "# TYPE newswatch_cycles_total counter" in body
        assert 'newswatch_fetches_total{outcome="ok"}' in body
        assert "newswatch_articles 1" in body
        assert 'newswatch_outbox{status="sent"} 1' in body
        assert 'newswatch_sources{health="ok"} 1' in body
    finally:
        assert daemon.stop() == 0, daemon.output()


def source_healths(workdir) -> tuple[dict[str, int], str]:
    """The sources by health as `status --json` counts them, and /metrics' text."""
    from scheduler.metrics import Metrics
    from storage import open_store

    health = json.loads(workdir.newswatch("status", "--json").stdout)["source_health"]
    store = open_store(workdir.database)
    try:
        return health, Metrics().render(store, 0)
    finally:
        store.close()


def test_metrics_count_stale_sources_as_status_does(site, workdir):
    """`status` calls a source stale whose polls succeed without a new article for 14 days;
    /metrics counted it "ok", and a dashboard never saw a feed that stopped changing."""
    from test_health import frozen_and_desk, twenty_days_later

    workdir.write_config(sources=list(frozen_and_desk(site)))
    assert workdir.newswatch("crawl").returncode == 0
    twenty_days_later(site, workdir)
    assert workdir.newswatch("crawl").returncode == 0
    health, body = source_healths(workdir)
    assert (health["stale"], health["ok"]) == (1, 1), health
    assert 'newswatch_sources{health="stale"} 1' in body, body
    assert 'newswatch_sources{health="ok"} 1' in body, body
    assert 'newswatch_sources{health="failing"} 0' in body, body


def test_metrics_count_sources_not_polled_yet_as_status_does(workdir):
    """A source added and not polled yet (a daemon starting, a feed added from the command
    line) was counted "ok" by /metrics, which `status` counts apart ("not polled yet"): a
    dashboard of a new installation showed every source healthy before any poll."""
    workdir.write_config(sources=["http://127.0.0.1:9/feed.xml"])
    assert workdir.newswatch("sources", "add", "http://127.0.0.1:9/b.xml").returncode == 0
    health, body = source_healths(workdir)
    assert (health["not polled yet"], health["ok"]) == (2, 0), health
    assert 'newswatch_sources{health="not polled yet"} 2' in body, body
    assert 'newswatch_sources{health="ok"} 0' in body, body


def test_metrics_on_an_ipv6_address(workdir):
    """"[::1]:9464" passed check, and the daemon stopped: "cannot listen on [::1]:9464: ...
    Name or service not known" (the brackets taken for a host name)."""
    workdir.write_config()
    text = workdir.config.read_text().replace('[daemon]\n', '[daemon]\nmetrics = "[::1]:0"\n')
    workdir.config.write_text(text)
    assert workdir.newswatch("check").returncode == 0
    daemon = workdir.start_daemon()
    try:
        daemon.wait_for_log("metrics on http://")
        assert re.search(r"metrics on http://\[::1\]:\d+/metrics", daemon.output())
    finally:
        assert daemon.stop() == 0, daemon.output()


def test_a_metrics_port_in_use_stops_the_daemon_with_its_reason(site, workdir):
    """Before, the daemon logged the error, ran on without the metrics asked for, and
    exited 0 when stopped."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        workdir.write_config(sources=[site.url("/feeds/world.rss")])
        text = workdir.config.read_text().replace(
            "[daemon]\n", f'[daemon]\nmetrics = "127.0.0.1:{port}"\n')
        workdir.config.write_text(text)
        daemon = workdir.start_daemon()
        daemon.proc.wait(timeout=30)  # it stops by itself
        code = daemon.stop()
    assert code == 1, daemon.output()
    assert f"daemon.metrics: cannot listen on 127.0.0.1:{port}" in daemon.output()
    assert "Traceback" not in daemon.output()


def test_a_closed_pipe_ends_a_command_quietly(site, workdir):
    """``newswatch status | head``: the reader goes away before the output is written."""
    workdir.write_config(sources=[site.url(f"/feeds/f{n}.rss") for n in range(40)])
    workdir.make_database()
    assert workdir.newswatch("sources", "list").returncode == 0  # the sources are synced
    read, write = os.pipe()
    os.close(read)  # no reader: the first write fails with EPIPE
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "newswatch", "--config", str(workdir.config), "status"],
            cwd=workdir.path, env=subprocess_env(), stdout=write, stderr=subprocess.PIPE,
            text=True, timeout=60,
        )
    finally:
        os.close(write)
    assert proc.returncode == 141
    assert proc.stderr == ""


def test_restore_refuses_an_empty_or_interrupted_backup_and_keeps_links_and_modes(
    site, workdir, tmp_path
):
    """An empty file, or a backup killed while it was written (its -journal beside it,
    which SQLite rolls back to nothing when the file is opened for writing), was restored:
    the database replaced by an empty one, every source, topic and alert history gone. A
    database reached through a symbolic link lost its link (the file moved off the disk it
    chose), and the restored file was readable by every user (a review)."""
    import sqlite3
    import stat

    site.publish(replace(STORIES_BY_SLUG["city-late-winner"],
                         published=datetime.now(UTC) - timedelta(minutes=5)))
    real = tmp_path / "disk" / "newswatch.db"
    real.parent.mkdir()
    workdir.write_config(sources=[site.url("/feeds/world.rss")])
    workdir.database.unlink(missing_ok=True)
    workdir.database.symlink_to(real)  # the config's path, a link to another disk
    assert workdir.newswatch("crawl").returncode == 0
    copy = tmp_path / "backup.db"
    assert workdir.newswatch("backup", str(copy)).returncode == 0

    empty = tmp_path / "empty.db"
    empty.touch()
    blank = tmp_path / "blank.db"
    with sqlite3.connect(blank) as db:  # a SQLite file with nothing in it
        db.execute("CREATE TABLE gone (x)")
        db.execute("DROP TABLE gone")
    assert blank.stat().st_size
    cut = tmp_path / "cut.db"
    cut.write_bytes(copy.read_bytes()[:4096])
    Path(f"{cut}-journal").write_bytes(b"\0" * 512)
    for bad, why in ((empty, "not a newswatch database (no newswatch schema in it: the file "
                             "is empty)"),
                     (blank, "not a newswatch database (no newswatch schema in it)"),
                     (cut, "it was being written when its writer stopped")):
        refused = workdir.newswatch("restore", str(bad))
        assert refused.returncode == 1, refused.stdout
        [line] = refused.stderr.strip().splitlines()
        assert why in line, line
        assert "Traceback" not in refused.stderr
    assert json.loads(workdir.newswatch("status", "--json").stdout)["articles"] == 1

    assert workdir.newswatch("restore", str(copy)).returncode == 0
    assert workdir.database.is_symlink() and workdir.database.resolve() == real.resolve()
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert json.loads(workdir.newswatch("status", "--json").stdout)["articles"] == 1


def test_a_database_another_process_holds_says_so(workdir, monkeypatch):
    """A sqlite3 shell holding the write lock: a command waited out the busy timeout and
    said only "database is locked" (a review). It says another process holds it."""
    import sqlite3

    import storage.db

    workdir.write_config(sources=[])
    assert workdir.newswatch("topics", "list").returncode == 0  # the database made
    monkeypatch.setattr(storage.db, "BUSY_TIMEOUT_MS", 300)
    holder = sqlite3.connect(workdir.database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        added = workdir.newswatch("topics", "add", "Lithium", "lithium", "--notify",
                                  "desk@test.example")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert added.returncode == 1, added.stdout
    [line] = added.stderr.strip().splitlines()
    assert line.endswith("database is locked: another process has held its write lock for "
                         "0.3 s (a sqlite3 shell, a backup program, a newswatch writing at "
                         "length); try again once it is done"), line


def test_export_to_a_device_a_pipe_or_a_link_writes_through_it(workdir):
    """``export -o /dev/null`` (a user's check that an export runs) renamed a file over the
    device: as root, /dev/null became a plain file for the whole machine. A named pipe
    stands for the device here (no root needed); a symbolic link to a file stays a link."""
    import threading

    from storage import open_store

    workdir.write_config()
    open_store(workdir.database).close()
    pipe = workdir.path / "pipe"
    os.mkfifo(pipe)
    read: list[bytes] = []
    reader = threading.Thread(target=lambda: read.append(pipe.read_bytes()), daemon=True)
    reader.start()
    result = workdir.newswatch("sources", "export", "-o", str(pipe))
    reader.join(timeout=60)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(pipe.lstat().st_mode)
    assert b"<opml" in read[0]
    assert not list(workdir.path.glob(".*partial"))
    target = workdir.path / "articles.jsonl"
    target.write_text("old\n")
    link = workdir.path / "latest.jsonl"
    link.symlink_to(target)
    assert workdir.newswatch("export", "-o", str(link)).returncode == 0
    assert link.is_symlink() and target.read_text() == ""
