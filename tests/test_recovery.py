"""Crashes between two steps of the pipeline: whatever was committed is picked up by the
next cycle, and nothing is alerted twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import subprocess_env
from newssite import STORIES_BY_SLUG

#: Crawls here run with page worker processes, the default (tests/conftest.py: workdir).
pytestmark = pytest.mark.page_workers

MADURO = {"name": "Maduro exit", "query": "Maduro", "notify": ["desk@test.example"]}


def publish_fresh(site, slug):
    story = replace(STORIES_BY_SLUG[slug], published=datetime.now(UTC) - timedelta(hours=1))
    site.publish(story)


def test_articles_stored_but_not_matched_are_matched_next_cycle(site, mail, workdir):
    publish_fresh(site, "venezuela-opposition-leader")
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[MADURO], smtp=mail)
    assert workdir.newswatch("crawl").returncode == 0
    mail.wait_for(1)
    # Put the database back in the state of a crash right after the crawl step: the article
    # is stored, nothing was matched, queued or sent.
    with sqlite3.connect(workdir.database) as db:
        db.execute("DELETE FROM outbox_items")
        db.execute("DELETE FROM outbox")
        db.execute("DELETE FROM matches")
        db.execute("DELETE FROM story_alerts")  # written with the matches
        db.execute("UPDATE articles SET unmatched = 1")  # the mark written with the matches
    mail.clear()
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "0 new article(s)" in result.stdout  # not fetched again...
    assert "matched 1 article(s): 1 match(es), 1 email(s) queued" in result.stdout  # ...but matched
    mail.wait_for(1)
    assert workdir.newswatch("crawl").returncode == 0
    assert len(mail.messages) == 1


def test_daemon_killed_during_a_crawl_polls_the_source_again(site, mail, workdir, wait):
    workdir.write_config(
        sources=[{"url": site.url("/slow?seconds=5"), "every": "1s"}],
        topics=[MADURO], smtp=mail,
    )
    daemon = workdir.start_daemon()
    try:
        daemon.wait_for_log("polling 1 due source(s)")
        time.sleep(0.5)  # the request is in flight (the server answers after 5 s)
    finally:
        daemon.stop(signal.SIGKILL)
    assert site.requests_for("/slow") == [] or site.requests_for("/slow")[0].status == 200
    with sqlite3.connect(workdir.database) as db:
        [(last_fetch, next_due)] = db.execute("SELECT last_fetch, next_due FROM sources")
    assert last_fetch is None and next_due is None  # the interrupted poll left it due

    daemon = workdir.start_daemon()
    try:
        assert wait(lambda: len(site.requests_for("/slow")) >= 2, 30)
    finally:
        assert daemon.stop() == 0, daemon.output()
    assert "received SIGTERM" in daemon.output()


def test_sigterm_during_a_slow_crawl_stops_promptly(site, workdir, wait):
    workdir.write_config(
        sources=[{"url": site.url("/slow?seconds=8"), "every": "1s"}], crawl={"timeout": "30s"}
    )
    daemon = workdir.start_daemon()
    try:
        daemon.wait_for_log("polling 1 due source(s)")
        time.sleep(0.5)
    finally:
        started = time.monotonic()
        code = daemon.stop(signal.SIGTERM)
        elapsed = time.monotonic() - started
    assert code == 0, daemon.output()
    assert elapsed < 7.5, daemon.output()  # the crawl gets a 5 s grace, not its 8 s


def test_sigterm_while_a_page_hangs_keeps_the_polls_other_articles(site, workdir, wait):
    """A poll holds its new articles until its last page is settled; SIGTERM came while one
    page hung past the stop's grace period, and the articles already extracted were lost
    with the process (their entries may have left the feed by the next poll). Now they are
    stored at the stop, and the source stays due."""
    site.publish(replace(STORIES_BY_SLUG["venezuela-opposition-leader"],
                         published=datetime.now(UTC) - timedelta(minutes=30)))
    hung = replace(STORIES_BY_SLUG["harbour-wind-farm-approved"],
                   published=datetime.now(UTC) - timedelta(minutes=5))
    site.publish(hung)
    gate = site.hold(f"/articles/{hung.slug}")
    workdir.write_config(sources=[{"url": site.url("/feeds/world.rss"), "every": "1h"}],
                         crawl={"timeout": "60s"})
    daemon = workdir.start_daemon()
    try:
        assert wait(lambda: site.requests_for("/articles/venezuela-opposition-leader"), 30)
        assert wait(lambda: site.held, 30)
    finally:
        code = daemon.stop(signal.SIGTERM)
        gate.set()
    assert code == 0, daemon.output()
    assert "abandoning its requests" in daemon.output()  # the grace period ran out
    with sqlite3.connect(workdir.database) as db:
        urls = [url for (url,) in db.execute("SELECT url FROM articles")]
        [(etag, last_fetch)] = db.execute("SELECT etag, last_fetch FROM sources").fetchall()
    assert urls == [site.article_url("venezuela-opposition-leader")]
    assert (etag, last_fetch) == (None, None)  # not recorded: polled again at the next start


def test_crash_while_article_pages_are_fetched_loses_no_entry(site, mail, workdir, wait):
    story = replace(STORIES_BY_SLUG["venezuela-opposition-leader"],
                    published=datetime.now(UTC) - timedelta(hours=1))
    site.publish(story)
    site.set_delay(f"/articles/{story.slug}", 8)
    workdir.write_config(
        sources=[{"url": site.url("/feeds/world.rss"), "every": "1s"}],
        topics=[MADURO], smtp=mail, crawl={"timeout": "30s"},
    )
    daemon = workdir.start_daemon()
    try:
        # The feed was read; the article page is still in flight when the daemon dies.
        assert wait(lambda: len(site.requests_for("/feeds/world.rss")) >= 1, 30)
        time.sleep(0.5)
    finally:
        daemon.stop(signal.SIGKILL)
    site.set_delay(f"/articles/{story.slug}", None)

    # The feed's validators were not saved with the entry unstored: the next poll is a full
    # GET (not a 304 that would hide the entry), and the article arrives.
    daemon = workdir.start_daemon()
    try:
        mail.wait_for(1, timeout=30)
    finally:
        assert daemon.stop() == 0, daemon.output()
    second_poll = site.requests_for("/feeds/world.rss")[1]
    assert second_poll.status == 200
    assert "If-None-Match" not in second_poll.headers
    assert len(mail.messages) == 1


def test_a_poll_whose_callback_raised_is_recorded_and_backs_off(site, workdir):
    # A fault of newswatch's on one source's input (planted: tests/faulty_crawl.py) is that
    # source's failure, with the error, and it backs off: not a poll left unrecorded, the
    # source "not polled" and fetched again at every tick. The other sources are unaffected.
    publish_fresh(site, "venezuela-opposition-leader")
    faulty = site.serve("/h/faulty.rss", b'<?xml version="1.0"?><rss version="2.0"><channel>'
                                         b"<title>F</title></channel></rss>")
    workdir.write_config(sources=[site.url("/feeds/world.rss"), faulty])
    script = Path(__file__).parent / "faulty_crawl.py"
    argv = [sys.executable, str(script), "--config", str(workdir.config), "crawl"]
    first = subprocess.run(argv, cwd=workdir.path, env=subprocess_env(), capture_output=True,
                           text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "polled 2 source(s): 1 ok, 1 failed; 1 new article(s)" in first.stdout, first.stdout
    assert f"failed: {faulty}: internal error: RuntimeError: a planted fault" in first.stdout
    listed = workdir.newswatch("sources", "list").stdout
    assert "not polled" not in listed, listed
    with sqlite3.connect(workdir.database) as db:
        failures, due = db.execute("SELECT consecutive_failures, next_due FROM sources "
                                   "WHERE url = ?", [faulty]).fetchone()
    assert failures == 1
    # Backing off (every = 1h in the tests' config: an hour after one failure, not at the
    # next tick as a source "not polled" would be).
    assert datetime.fromisoformat(due) >= datetime.now(UTC) + timedelta(minutes=55)


def full_disk(site, workdir, flag: str, every: str) -> tuple[Path, dict[str, str]]:
    """One feed with a new story, polled ``every``; a database full (tests/full_disk.py)
    while the returned file exists, ``flag`` saying how; the environment to run it with."""
    publish_fresh(site, "venezuela-opposition-leader")
    workdir.write_config(sources=[{"url": site.url("/feeds/world.rss"), "every": every}])
    full = workdir.path / "full"
    full.touch()
    return full, subprocess_env(**{flag: str(full)})


def run_full_disk(workdir, env: dict[str, str], command: str) -> subprocess.CompletedProcess[str]:
    """``newswatch COMMAND`` through tests/full_disk.py, to its end."""
    script = Path(__file__).parent / "full_disk.py"
    return subprocess.run([sys.executable, str(script), "--config", str(workdir.config),
                           command], cwd=workdir.path, env=env, capture_output=True, text=True,
                          timeout=120)


def start_full_disk_daemon(workdir, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], Path]:
    """``newswatch run`` through tests/full_disk.py, and the file its log goes to."""
    script = Path(__file__).parent / "full_disk.py"
    log = workdir.path / "daemon.log"
    with log.open("w") as out:
        daemon = subprocess.Popen([sys.executable, str(script), "--config", str(workdir.config),
                                   "run"], cwd=workdir.path, env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
    return daemon, log


def test_articles_a_nearly_full_disk_refuses_are_no_failure_of_their_source(site, workdir):
    """A nearly full disk: a poll's articles are refused while its small record still fits.
    The source was recorded as failing ("internal error: StorageError"), backing off for up
    to 6 hours after the disk was freed. It stays due, unrecorded, as when its record is
    refused (the daemon pauses the polls), and its articles come once there is space."""
    full, env = full_disk(site, workdir, "NEWSWATCH_NEARLY_FULL_FLAG", every="1h")

    def crawl() -> subprocess.CompletedProcess[str]:
        return run_full_disk(workdir, env, "crawl")

    refused = crawl()
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "poll(s) could not be recorded" in refused.stderr
    with sqlite3.connect(workdir.database) as db:
        failures, error, due = db.execute(
            "SELECT consecutive_failures, last_error, next_due FROM sources").fetchone()
    assert (failures, error) == (0, None)
    assert due is None or datetime.fromisoformat(due) <= datetime.now(UTC)  # due still
    full.unlink()
    stored = crawl()
    assert stored.returncode == 0 and "1 new article(s)" in stored.stdout, stored.stderr


def test_an_edit_a_nearly_full_disk_refuses_is_one_line_and_read_again(site, workdir):
    """An article edited in place whose new version the database refused: Scrapy logged its
    40-line traceback ("Spider error processing"), a page at a time (a review: 20 in 10 s),
    and `crawl` said nothing else of it. One line says it (the daemon's log, the crawl's
    report), and the next poll reads the page again."""
    full, env = full_disk(site, workdir, "NEWSWATCH_NEARLY_FULL_FLAG", every="1h")
    full.unlink()
    first = run_full_disk(workdir, env, "crawl")
    assert first.returncode == 0 and "1 new article(s)" in first.stdout, first.stderr
    site.revise("venezuela-opposition-leader",
                datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1),
                title="Opposition leader returns, crowds gather")
    full.touch()
    refused = run_full_disk(workdir, env, "crawl")
    assert "Traceback" not in refused.stderr and "Spider error" not in refused.stderr
    assert ("  1 page(s) the database refused (the disk nearly full?): read again at the "
            "next poll") in refused.stdout, refused.stdout + refused.stderr
    full.unlink()
    again = run_full_disk(workdir, env, "crawl")
    assert again.returncode == 0 and "1 updated" in again.stdout, again.stdout + again.stderr
    with sqlite3.connect(workdir.database) as db:
        assert db.execute("SELECT title FROM articles").fetchall() == [
            ("Opposition leader returns, crowds gather",)]


def test_a_page_unavailable_for_now_on_a_nearly_full_disk_is_one_line_and_asked_again(
    site, workdir
):
    # The note that a page is to be asked again failed, and Scrapy logged its traceback
    # ("Spider error processing"), a page at a time (a review: 10 in a minute).
    full, env = full_disk(site, workdir, "NEWSWATCH_NEARLY_FULL_FLAG", every="1h")
    site.set_status("/articles/venezuela-opposition-leader", 503)
    refused = run_full_disk(workdir, env, "crawl")
    assert "Traceback" not in refused.stderr and "Spider error" not in refused.stderr
    assert ("  1 page(s) the database refused (the disk nearly full?): read again at the "
            "next poll") in refused.stdout, refused.stdout + refused.stderr
    full.unlink()
    site.set_status("/articles/venezuela-opposition-leader", None)
    again = run_full_disk(workdir, env, "crawl")
    assert again.returncode == 0 and "1 new article(s)" in again.stdout, again.stderr


def on_a_tmpfs(tmp_path: Path, script: str, size: str
               ) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """Run ``script`` with the path of a tmpfs of ``size`` (its own mount namespace, so the
    machine's mounts are left alone) as its argument; skipped where that cannot be made."""
    disk = tmp_path / "disk"
    disk.mkdir()
    program = tmp_path / "on_tmpfs.py"
    program.write_text(script, encoding="utf-8")
    command = f"mount -t tmpfs -o size={size} tmpfs {disk} && {sys.executable} {program} {disk}"
    try:
        result = subprocess.run(["unshare", "--mount", "sh", "-c", command], env=subprocess_env(),
                                capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        pytest.skip("no unshare(1) here")
    if "mount" in result.stderr and ("permission" in result.stderr.lower()
                                     or "not permitted" in result.stderr):
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    return disk, result


#: Run in a mount namespace of its own, on a tmpfs filled up: the database opened there.
FULL_OPEN = """
import os, sys
from pathlib import Path
from storage import StorageError
from storage.db import open_database
disk = Path(sys.argv[1])
filler = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
try:
    while True:
        os.write(filler, b"x" * 4096)
except OSError:
    pass
try:
    open_database(disk / "newswatch.db")
except StorageError as exc:
    print(exc)
"""


def test_a_database_on_a_full_disk_says_the_disk_is_full(tmp_path):
    # SQLite cannot make its -shm file: "disk I/O error", which reads as failing hardware;
    # every command (status, backup to another disk) said so.
    disk, result = on_a_tmpfs(tmp_path, FULL_OPEN, "256k")
    assert result.stdout.strip() == (
        f"cannot open database {disk}/newswatch.db: the disk holding {disk} is full (0 bytes "
        "free): newswatch needs room for its database and its write-ahead log (free some "
        "space there)"), result.stdout + result.stderr


def test_polls_the_database_will_not_take_pause_the_crawl_and_say_why(site, workdir, wait):
    """A full disk: a poll cannot be recorded, so its source stays due. Before, it was
    polled again at every tick (its feed and pages fetched again, each failure logged with
    a traceback) and `crawl` said nothing. Now `crawl` fails with the reason, and the daemon
    pauses its polls, longer each time, until the database takes them again."""
    full, env = full_disk(site, workdir, "NEWSWATCH_FULL_FLAG", every="1s")
    crawl = run_full_disk(workdir, env, "crawl")
    assert crawl.returncode == 1, crawl.stdout + crawl.stderr
    [line] = crawl.stderr.strip().splitlines()[-1:]
    assert line.startswith("newswatch: ") and "database or disk is full" in line
    assert "Traceback" not in crawl.stderr

    daemon, log = start_full_disk_daemon(workdir, env)
    try:
        assert wait(lambda: "no polls for 4 s" in log.read_text(), 60), log.read_text()
        polls = len(site.requests_for("/feeds/world.rss"))
        time.sleep(2)  # within the second pause (4 s from its line): no poll
        assert len(site.requests_for("/feeds/world.rss")) == polls
        full.unlink()  # space again: the next poll is recorded
        assert wait(lambda: "ok=1" in log.read_text(), 60), log.read_text()
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0, log.read_text()
    said = log.read_text()
    assert "no polls for 2 s" in said and "Traceback" not in said


def test_polls_the_database_will_not_take_are_counted_in_the_cycle_line(site, workdir, wait):
    """A disk full as the polls are recorded, the reads going on: the cycle line said
    "sources=1 ok=0 failed=0", the poll counted nowhere. It says "unrecorded=1", and the
    error says why."""
    _, env = full_disk(site, workdir, "NEWSWATCH_POLLS_FULL_FLAG", every="1s")
    daemon, log = start_full_disk_daemon(workdir, env)
    try:
        assert wait(lambda: " cycle sources=" in log.read_text(), 60), log.read_text()
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0, log.read_text()
    said = log.read_text()
    [cycle] = [line for line in said.splitlines() if " cycle sources=" in line][:1]
    assert " sources=1 ok=0 failed=0 unrecorded=1 " in cycle, said
    assert f"ERROR crawler.spider: source {site.url('/feeds/world.rss')}: its poll cannot be " \
        "recorded: " in said, said


#: Run in a mount namespace of its own on a 1 MB tmpfs: a sent journal made, the disk
#: filled, then the marks of 100 accepted messages recorded and the process gone.
FULL_JOURNAL = """
import os, sys
from datetime import UTC, datetime
from pathlib import Path
from storage.journal import SentJournal, SentMark, _read
disk = Path(sys.argv[1])
journal = SentJournal(disk / "newswatch.sent")
filler = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
try:
    while True:
        os.write(filler, b"x" * 4096)
except OSError as exc:
    print("disk full:", exc.strerror)
for i in range(100):
    journal.record(SentMark(i, f"<{i}@newswatch.test>", datetime.now(UTC)))
journal.close()
fd = os.open(journal.path, os.O_RDONLY)
print("marks kept:", len(_read(fd)))
# A journal made once the disk is full has no reserve: its mark cannot be kept, and its
# process says so as it ends.
import logging
logging.basicConfig(level=logging.ERROR, format="%(message)s")
late = SentJournal(disk / "newswatch.sent")
try:
    late.record(SentMark(100, "<100@newswatch.test>", datetime.now(UTC)))
except OSError as exc:
    print("late mark:", exc.strerror)
late.close()
"""


def test_a_full_disk_leaves_the_sent_journal_its_reserve(tmp_path):
    """The disk filled while the mail server accepted a message: the sent journal could not
    take its mark, nor the database; the daemon stopped and started again sent it a second
    time (a review). A journal file keeps bytes reserved for its marks; a real full disk
    (tmpfs in a mount namespace of its own)."""
    _, result = on_a_tmpfs(tmp_path, FULL_JOURNAL, "1m")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["disk full: No space left on device",
                                          "marks kept: 100",
                                          "late mark: No space left on device"]
    assert ("1 message(s) the mail server accepted are marked sent neither in the database "
            "nor in the sent journal") in result.stderr
    assert "they will be sent again (outbox 100)" in result.stderr


def test_the_database_is_on_the_disk_before_a_message_goes_and_before_its_mark_is_forgotten(
    tmp_path, monkeypatch
):
    """SQLite syncs its write-ahead log only at checkpoints (synchronous = NORMAL): an error
    that remounted the disk read-only a second after a send lost that second's commits,
    the articles and their outbox rows (stored and mailed again after fsck and a restart),
    and the "sent" mark the journal had already forgotten. The log is synced before each
    message goes, and before the journal forgets a mark. (A power cut cannot be made here:
    the syncs are watched instead.)"""
    from datetime import UTC, datetime

    from storage import Store
    from storage.journal import SentJournal

    events: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        events.append("sync " + Path(os.readlink(f"/proc/self/fd/{fd}")).name)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    now = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    with Store.open(tmp_path / "newswatch.db") as store:
        store.journal = SentJournal(tmp_path / "newswatch.sent")
        flushed = store.journal.flushed
        monkeypatch.setattr(store.journal, "flushed",
                            lambda marks: (events.append("forget"), flushed(marks)))
        events.clear()
        from alerts.deliver import _noted

        _noted(lambda: events.append("send"), store, 1, now)
        [journal] = events[2:]  # the mark, synced in the journal before the database has it
        assert events[:2] == ["sync newswatch.db-wal", "send"] and journal.endswith(".journal")
        events.clear()
        store.mark_sent(1, now)
        assert events == ["sync newswatch.db-wal", "forget"], events
