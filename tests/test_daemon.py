"""`newswatch run` as a service: alerts arrive while it runs, it stops cleanly on signals,
and neither a restart, a crash nor an SMTP outage loses or duplicates an alert."""

from __future__ import annotations

import fcntl
import os
import signal
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mailserver import free_port
from newssite import STORIES_BY_SLUG, Story

#: Crawls here run with page worker processes, the default (tests/conftest.py: workdir).
pytestmark = pytest.mark.page_workers

MADURO = {
    "name": "Maduro exit",
    "query": '"Nicolas Maduro" OR (Maduro AND Belarus)',
    "notify": ["desk@test.example"],
}


def fresh(slug: str) -> Story:
    return replace(
        STORIES_BY_SLUG[slug],
        published=datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5),
    )


def config(workdir, site, mail=None):
    workdir.write_config(
        sources=[{"url": site.url("/feeds/world.rss"), "every": "1s"}],
        topics=[MADURO], smtp=mail,
    )


def polls(site) -> int:
    return len(site.requests_for("/feeds/world.rss"))


def alert_tried(workdir) -> bool:
    """Whether an alert was queued and its first attempt failed."""
    import sqlite3

    if not workdir.database.exists():
        return False
    try:
        with sqlite3.connect(f"file:{workdir.database}?mode=ro", uri=True) as db:
            return bool(db.execute("SELECT 1 FROM outbox WHERE attempts > 0").fetchone())
    except sqlite3.OperationalError:  # its tables not made yet
        return False


def test_daemon_alerts_stops_and_restarts_without_duplicates(site, mail, workdir, wait, store_location):
    if isinstance(store_location, str):  # on PostgreSQL too
        workdir.database_url = store_location
    site.publish(fresh("city-late-winner"))
    config(workdir, site, mail)
    daemon = workdir.start_daemon()
    try:
        daemon.wait_for_log("daemon started")
        assert wait(lambda: polls(site) >= 1, 20)
        # A matching article is published while the daemon runs.
        site.publish(fresh("venezuela-opposition-leader"))
        [message] = mail.wait_for(1, timeout=30)
        assert "Maduro exit" in message["Subject"]
    finally:
        code = daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.output()
    assert "daemon stopped" in daemon.output()
    assert "Traceback" not in daemon.output()

    # Restart: the same feed is polled again (several times), nothing is sent twice.
    before = polls(site)
    daemon = workdir.start_daemon()
    try:
        assert wait(lambda: polls(site) >= before + 3, 30)
        assert len(mail.messages) == 1
        # A new matching article still gets its own alert.
        site.publish(fresh("maduro-abandona-venezuela"))
        mail.wait_for(2, timeout=30)
    finally:
        assert daemon.stop(signal.SIGINT) == 0, daemon.output()
    assert len(mail.messages) == 2
    assert "abandonó" in mail.messages[1]["Subject"] or "Nicolás Maduro" in mail.messages[1]["Subject"]


def stalled_daemon(workdir, site, mail, step: str):
    """A daemon sending an alert to ``mail``, which stalls at ``step`` (tests/mailserver.py),
    once it waits there. Its SMTP timeout is 10 minutes: a stop that waited for it would not
    end within the tests' bounds."""
    site.publish(fresh("venezuela-opposition-leader"))
    workdir.write_config(
        sources=[{"url": site.url("/feeds/world.rss"), "every": "1s"}], topics=[MADURO],
        smtp={"host": mail.host, "port": mail.port, "from": "newswatch@test.example",
              "timeout": "10m"},
    )
    mail.stall = step
    daemon = workdir.start_daemon()
    if not mail.stalled.wait(60):
        daemon.stop(signal.SIGKILL)
        raise AssertionError(f"no send reached {step}:\n{daemon.output()}")
    return daemon


def test_a_stop_abandons_a_send_whose_message_the_server_does_not_have_whole(
    site, mail, workdir, wait, store_location
):
    """A mail server slow at every step held a stop for each command's timeout (up to
    14 minutes with the defaults, past the unit's TimeoutStopSec). A send whose message's
    end has not gone is abandoned at once: the server cannot deliver a message it does not
    have whole; it waits, pending, and the next start sends it once (on PostgreSQL without
    waiting the claim lease of its stopped sender: an hour and a half here)."""
    if isinstance(store_location, str):
        workdir.database_url = store_location
    daemon = stalled_daemon(workdir, site, mail, "RCPT")
    code = daemon.stop(signal.SIGTERM, timeout=60)  # well before smtp.timeout
    assert code == 0, daemon.output()
    assert "send abandoned at the stop, before the message's end" in daemon.output()
    assert "will be retried" not in daemon.output()  # no attempt counted
    assert mail.messages == []

    mail.stall = None
    mail.release.set()
    before = polls(site)
    daemon = workdir.start_daemon()
    try:
        mail.wait_for(1, timeout=30)
        assert wait(lambda: polls(site) >= before + 3, 30)
    finally:
        assert daemon.stop(signal.SIGTERM) == 0, daemon.output()
    assert len(mail.messages) == 1


def test_a_stop_waits_for_the_verdict_on_a_message_the_server_has_whole(
    site, mail, workdir, wait
):
    """The server has the whole message and has not answered its end: it may have taken
    it, so the stop waits for its verdict (bounded by the data timeout), marks it sent, and
    the next start does not send it again."""
    daemon = stalled_daemon(workdir, site, mail, "DATA")
    try:
        daemon.proc.send_signal(signal.SIGTERM)
        daemon.wait_for_log("received SIGTERM")
        assert daemon.proc.poll() is None  # waiting for the verdict
        daemon.proc.send_signal(signal.SIGTERM)  # again: says what the stop waits for
        daemon.wait_for_log("received SIGTERM again: still stopping, waiting for the answer "
                            f"of SMTP {mail.host}:{mail.port} to a message it has whole")
        assert daemon.proc.poll() is None
        mail.release.set()
    finally:
        code = daemon.stop(signal.SIGTERM, timeout=60)
    assert code == 0, daemon.output()
    assert "abandoned" not in daemon.output()
    assert len(mail.messages) == 1

    before = polls(site)
    daemon = workdir.start_daemon()
    try:
        assert wait(lambda: polls(site) >= before + 3, 30)
    finally:
        assert daemon.stop(signal.SIGTERM) == 0, daemon.output()
    assert len(mail.messages) == 1


def test_an_article_alerts_while_its_polls_other_pages_are_still_coming(site, mail, workdir, wait):
    """A poll's articles were stored, and matched, only once its last page was settled: a
    feed bringing 600 new items at once (1 s apart on its host) had its newest article
    emailed after 8.5 minutes. Past a source's first poll (which must see its site's pages
    together: watchlist.templates), what it has stored is matched as the crawl goes."""
    from email.utils import format_datetime

    def feed(*slugs: str) -> bytes:
        when = format_datetime(datetime.now(UTC) - timedelta(minutes=5), usegmt=True)
        items = "".join(
            f"<item><title>{STORIES_BY_SLUG[s].title}</title><link>{site.article_url(s)}"
            f"</link><guid>{s}</guid><pubDate>{when}</pubDate></item>" for s in slugs)
        return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Desk</title>'
                f"<link>{site.url('/')}</link>{items}</channel></rss>").encode()

    for slug in ("city-late-winner", "central-bank-holds-rates", "venezuela-opposition-leader"):
        site.publish(fresh(slug))
    site.serve("/desk.rss", feed("city-late-winner"))
    workdir.write_config(sources=[{"url": site.url("/desk.rss"), "every": "1s"}],
                         topics=[MADURO], smtp=mail, crawl={"timeout": "50s"})
    daemon = workdir.start_daemon()
    try:
        assert wait(lambda: len(site.requests_for("/desk.rss")) >= 2, 30)  # first poll done
        held = site.hold("/articles/central-bank-holds-rates")  # a page that takes its time
        site.serve("/desk.rss", feed("central-bank-holds-rates", "venezuela-opposition-leader",
                                     "city-late-winner"))
        [message] = mail.wait_for(1, timeout=30)  # while the other page of its poll is held
        assert "Maduro exit" in message["Subject"]
        assert site.held == ["/articles/central-bank-holds-rates"]
        held.set()
    finally:
        assert daemon.stop() == 0, daemon.output()


def test_second_daemon_on_the_same_database_refuses(site, mail, workdir):
    config(workdir, site, mail)
    daemon = workdir.start_daemon()
    try:
        daemon.wait_for_log("daemon started")
        second = workdir.newswatch("run", timeout=30)
        assert second.returncode == 1
        assert "already running" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
        crawl = workdir.newswatch("crawl", timeout=30)
        assert crawl.returncode == 1 and "already running" in crawl.stderr
        # Through a symbolic link to the database (its lock was the link's name beside it:
        # a second daemon started, and every alert went out two to four times: a review),
        # or through a link to its directory.
        (workdir.path / "link.db").symlink_to(workdir.database)
        (workdir.path / "data").symlink_to(workdir.path, target_is_directory=True)
        text = workdir.config.read_text(encoding="utf-8")
        for name, linked in (("file", "link.db"), ("dir", "data/newswatch.db")):
            other = workdir.path / f"{name}.toml"
            other.write_text(text.replace(f'path = "{workdir.database}"',
                                          f'path = "{workdir.path / linked}"'), encoding="utf-8")
            assert f'path = "{workdir.path / linked}"' in other.read_text(encoding="utf-8")
            first, workdir.config = workdir.config, other
            try:
                crawl = workdir.newswatch("crawl", timeout=30)
            finally:
                workdir.config = first
            assert crawl.returncode == 1 and "already running" in crawl.stderr, crawl.stderr
    finally:
        assert daemon.stop() == 0


def test_a_lock_file_removed_under_the_daemon_is_taken_again(site, mail, workdir, wait):
    # A temporary-files cleaner, or `rm newswatch.db*` of a reset gone wrong, removed the
    # lock file: a second daemon started beside the first, and every alert went twice. The
    # daemon locks a new one at its next tick; a second `run` then refuses, as before.
    config(workdir, site, mail)
    daemon = workdir.start_daemon()
    try:
        daemon.wait_for_log("daemon started")
        lock = Path(f"{workdir.database}.lock")
        lock.unlink()
        daemon.wait_for_log("was removed or replaced: locked again")
        assert lock.exists()
        second = workdir.newswatch("run", timeout=30)
        assert second.returncode == 1 and "already running" in second.stderr
    finally:
        assert daemon.stop() == 0, daemon.output()


def test_a_daemon_whose_lock_another_took_stops(site, mail, workdir, wait):
    # The lock file removed, and a second daemon started before the first noticed: the
    # first stops (exit 1), and one daemon sends the alerts.
    config(workdir, site, mail)
    first = workdir.start_daemon()
    try:
        first.wait_for_log("daemon started")
        lock = Path(f"{workdir.database}.lock")
        lock.unlink()
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)  # as a second daemon does
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, b"4242")
        first.proc.wait(timeout=30)  # it stops by itself
        os.close(fd)
    finally:
        code = first.stop()
    assert code == 1, first.output()
    assert "was removed or replaced, and another newswatch (pid 4242) is already running" in (
        first.output())
    assert "Traceback" not in first.output()


def test_smtp_outage_alert_arrives_once_server_is_back(site, mail, workdir, wait):
    mail.stop()
    site.publish(fresh("venezuela-opposition-leader"))
    config(workdir, site, mail)
    daemon = workdir.start_daemon()
    try:
        daemon.wait_for_log(f"127.0.0.1:{mail.port}")  # the delivery failure is logged
        assert "1 pending" in workdir.newswatch("status").stdout
        time.sleep(1.5)  # a few retries fail while the server is down
        mail.start()
        mail.wait_for(1, timeout=30)
        # Several more ticks: still exactly one message.
        before = polls(site)
        assert wait(lambda: polls(site) >= before + 3, 30)
        assert len(mail.messages) == 1
    finally:
        assert daemon.stop() == 0, daemon.output()
    assert "alerts: 0 pending, 1 sent, 0 failed" in workdir.newswatch("status").stdout


def test_crash_with_alert_queued_delivers_after_restart(site, mail, workdir, wait, store_location):
    if isinstance(store_location, str):  # on PostgreSQL too
        workdir.database_url = store_location
    mail.stop()
    site.publish(fresh("venezuela-opposition-leader"))
    config(workdir, site, mail)
    daemon = workdir.start_daemon()
    try:
        daemon.wait_for_log(f"127.0.0.1:{mail.port}")
    finally:
        daemon.stop(signal.SIGKILL)  # a crash: no clean shutdown
    assert "1 pending" in workdir.newswatch("status").stdout

    mail.start()
    daemon = workdir.start_daemon()
    try:
        mail.wait_for(1, timeout=30)
        before = polls(site)
        assert wait(lambda: polls(site) >= before + 2, 30)
    finally:
        assert daemon.stop() == 0
    assert len(mail.messages) == 1


def test_crash_after_delivery_does_not_resend(site, mail, workdir, wait):
    site.publish(fresh("venezuela-opposition-leader"))
    config(workdir, site, mail)
    daemon = workdir.start_daemon()
    try:
        mail.wait_for(1, timeout=30)
        # The server has the message; once newswatch has recorded it as sent, it crashes.
        assert wait(lambda: "1 sent" in workdir.newswatch("status").stdout, 30)
    finally:
        daemon.stop(signal.SIGKILL)
    daemon = workdir.start_daemon()
    try:
        before = polls(site)
        assert wait(lambda: polls(site) >= before + 3, 30)
    finally:
        assert daemon.stop() == 0
    assert len(mail.messages) == 1


def test_a_write_lock_another_process_holds_is_said_and_does_not_hold_the_stop(
    site, mail, workdir, wait
):
    """A sqlite3 shell in BEGIN IMMEDIATE on the daemon's database: nothing was logged for
    30 s, and SIGTERM was acted on only once the shell let go (45 s). The daemon says that
    another process holds its database, stops at once on SIGTERM all the same, and the
    article published meanwhile is mailed once, after a restart."""
    import sqlite3

    config(workdir, site, mail)
    daemon = workdir.start_daemon()
    holder = None
    try:
        assert wait(lambda: polls(site) >= 2, 30)  # its first poll stored
        holder = sqlite3.connect(workdir.database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        site.publish(fresh("venezuela-opposition-leader"))
        daemon.wait_for_log(f"database {workdir.database}: another process holds its write "
                            "lock", timeout=20)
        # Before the lock is let go (TimeoutExpired: the stop waited for the lock).
        assert daemon.stop(signal.SIGTERM, timeout=15) == 0, daemon.output()
    finally:
        if holder is not None:
            holder.execute("ROLLBACK")
            holder.close()
    assert "daemon stopped" in daemon.output()
    assert "Traceback" not in daemon.output()
    assert mail.messages == []

    daemon = workdir.start_daemon()
    try:
        [message] = mail.wait_for(1, timeout=30)
        assert "Maduro exit" in message["Subject"]
        before = polls(site)
        assert wait(lambda: polls(site) >= before + 2, 30)
    finally:
        assert daemon.stop() == 0, daemon.output()
    assert len(mail.messages) == 1


def test_daemon_survives_failing_sources(site, mail, workdir, wait):
    site.publish(fresh("venezuela-opposition-leader"))
    workdir.write_config(
        sources=[
            {"url": site.url("/status/500"), "every": "1s"},
            {"url": site.url("/notafeed"), "every": "1s"},
            {"url": site.url("/feeds/world.rss"), "every": "1s"},
        ],
        topics=[MADURO], smtp=mail,
    )
    daemon = workdir.start_daemon()
    try:
        mail.wait_for(1, timeout=30)
        assert wait(lambda: len(site.requests_for("/status/500")) >= 2, 30)
    finally:
        assert daemon.stop() == 0, daemon.output()
    status = workdir.newswatch("status").stdout
    assert "last error: HTTP 500" in status
    assert "last error: no feed, sitemap or article links found" in status
    assert len(mail.messages) == 1


def test_sighup_reloads_sources_and_topics(site, mail, workdir):
    config(workdir, site, mail)
    daemon = workdir.start_daemon()
    try:
        daemon.wait_for_log("daemon started")
        # A broken config is refused and the daemon keeps its current one.
        good = workdir.config.read_text()
        workdir.config.write_text(good + "\n[[topics]]\nname = 'x'\nquery = '(('\nnotify = []\n")
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for_log("configuration not reloaded")
        # A valid new topic takes effect without a restart.
        workdir.write_config(
            sources=[{"url": site.url("/feeds/world.rss"), "every": "1s"},
                     {"url": site.url("/feeds/markets.rss"), "every": "1s"}],
            topics=[MADURO, {"name": "Ukraine", "query": "Zelensky", "notify": ["kyiv@test.example"]}],
            smtp=mail,
        )
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for_log("configuration reloaded")
        # What changed in the sources is said (a reload that dropped one said nothing).
        assert f"sources of the config file added: {site.url('/feeds/markets.rss')}" \
            in daemon.output()
        assert "topics of the config file added: Ukraine" in daemon.output()
        site.publish(fresh("zelensky-grain-corridor"))
        [message] = mail.wait_for(1, timeout=30)
        assert message["To"] == "kyiv@test.example"
        # A rename (same query) and a changed query are said too.
        workdir.write_config(
            sources=[{"url": site.url("/feeds/world.rss"), "every": "1s"}],
            topics=[{**MADURO, "name": "Maduro leaving"},
                    {"name": "Ukraine", "query": "Zelensky OR Zelenskyy",
                     "notify": ["kyiv@test.example"]}],
            smtp=mail,
        )
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for_log("topics of the config file changed: Ukraine")
        assert "topic 'Maduro exit' renamed 'Maduro leaving'" in daemon.output()
        assert "topics of the config file added" not in daemon.output().rsplit(
            "renamed", 1)[1]
    finally:
        assert daemon.stop() == 0, daemon.output()


def test_a_page_added_whose_feed_another_source_polls_is_merged_by_the_running_daemon(
    site, mail, workdir, wait
):
    """`sources add` of a site's page whose declared feed a configured source polls, while
    the daemon runs: the poll that found the feed left the page's source active, and the
    daemon polled the feed for both at every tick until its next start or SIGHUP. The
    cycle of that poll merges it, and logs so once."""
    import sqlite3

    world, page = site.url("/feeds/world.rss"), site.url("/withfeed/")
    config(workdir, site, mail)
    daemon = workdir.start_daemon()
    try:
        daemon.wait_for_log("daemon started")
        added = workdir.newswatch("sources", "add", page, "--every", "1s")
        assert added.returncode == 0 and added.stdout.startswith(f"added {page}"), added
        line = (f"WARNING newswatch.app: source {page} (added with `sources add`) is polled at "
                f"{world}, as {world} is: merged into {world}, no longer listed (its stored "
                "articles are kept)")
        daemon.wait_for_log(line)
        with sqlite3.connect(f"file:{workdir.database}?mode=ro", uri=True) as db:
            assert db.execute("SELECT active FROM sources WHERE url = ?", [page]).fetchone() \
                == (0,)
        # Polled on, without being merged again.
        polled = polls(site)
        assert wait(lambda: polls(site) >= polled + 2, 20)
        status = workdir.newswatch("status")
        assert page not in status.stdout + status.stderr, status
    finally:
        assert daemon.stop() == 0, daemon.output()
    assert daemon.output().count(f"source {page} (added with `sources add`)") == 1, \
        daemon.output()


def test_sighup_on_a_config_file_being_written_keeps_the_running_one(site, mail, workdir, wait):
    """An editor that saves in place (nano, `cat > newswatch.toml`) empties the file before
    it writes it: a reload in that instant read a valid config defining nothing, stopped
    every source and topic, and sent mail to the local mbox. The alert waiting for the mail
    server was dropped ("its reader no longer watches its topics") and never reached it."""
    mail.stop()
    site.publish(fresh("venezuela-opposition-leader"))
    config(workdir, site, mail)
    daemon = workdir.start_daemon()
    try:
        assert wait(lambda: alert_tried(workdir), 30)
        good = workdir.config.read_text(encoding="utf-8")
        workdir.config.write_text("# newswatch\n\n", encoding="utf-8")
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for_log("configuration not reloaded")
        assert "defines nothing" in daemon.output()
        workdir.config.write_text(good, encoding="utf-8")
        mail.start()
        [message] = mail.wait_for(1, timeout=30)
        assert "Maduro exit" in message["Subject"]
    finally:
        assert daemon.stop() == 0, daemon.output()
    assert not (workdir.path / "newswatch.mbox").exists()
    assert "no longer watches" not in workdir.newswatch("status").stdout


def test_sighup_with_the_mail_port_mended_sends_the_alert_waiting_for_its_retry(
    site, mail, workdir, wait
):
    """The mail server's port mended and the config file reloaded, the alert that had found
    the old port closed waited out its back-off (an hour here, alerts.retry_max) all the
    same: it goes at the next delivery."""
    site.publish(fresh("venezuela-opposition-leader"))
    sources = [{"url": site.url("/feeds/world.rss"), "every": "1s"}]
    later = {"retry_base": "1h", "retry_max": "1h"}
    workdir.write_config(sources=sources, topics=[MADURO], alerts=later,
                         smtp={"host": "127.0.0.1", "port": free_port(), "timeout": "5s"})
    daemon = workdir.start_daemon()
    try:
        assert wait(lambda: alert_tried(workdir), 30)
        workdir.write_config(sources=sources, topics=[MADURO], alerts=later, smtp=mail)
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for_log("the mail settings changed: 1 alert(s) waiting for a retry are due now")
        [message] = mail.wait_for(1, timeout=30)
        assert "Maduro exit" in message["Subject"]
    finally:
        assert daemon.stop() == 0, daemon.output()


def test_sighup_applies_mail_crawl_and_lookback_settings_and_names_the_rest(
    site, mail, workdir, wait
):
    from mailserver import MailServer

    config(workdir, site, mail)
    moved = MailServer()  # where the mail server moves to
    moved.start()
    daemon = workdir.start_daemon()
    try:
        daemon.wait_for_log("daemon started")
        # New SMTP port, User-Agent and look-back: a running daemon takes them all.
        workdir.write_config(
            sources=[{"url": site.url("/feeds/world.rss"), "every": "1s"}],
            topics=[MADURO], smtp=moved,
            crawl={"user_agent": "newswatch-reloaded/2.0 (+https://test.example/)"},
            alerts={"lookback": "30d"},
        )
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for_log("configuration reloaded")
        # Ten days old: only the reloaded look-back lets it alert.
        site.publish(replace(
            STORIES_BY_SLUG["venezuela-opposition-leader"],
            published=datetime.now(UTC).replace(microsecond=0) - timedelta(days=10),
        ))
        [message] = moved.wait_for(1, timeout=30)
        assert "Maduro exit" in message["Subject"]
        assert mail.messages == []
        assert wait(lambda: any(
            r.headers.get("User-Agent", "").startswith("newswatch-reloaded/2.0")
            for r in site.requests_for("/feeds/world.rss")
        ), 30)
        # A new database path needs a restart: said by name, the daemon carries on; the new
        # tick is taken. So does a number of page workers (those of the start extract every
        # crawl's pages): it was said "configuration reloaded", and not taken.
        text = workdir.config.read_text().replace('tick = "1s"', 'tick = "2s"')
        text = text.replace("[crawl]", "[crawl]\nworkers = 1")
        workdir.config.write_text(text.replace(
            str(workdir.database), str(workdir.database.with_name("elsewhere.db"))))
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for_log("needs a restart: database.path, crawl.workers (")
        daemon.wait_for_log("tick is now 2s")
        before = polls(site)
        assert wait(lambda: polls(site) >= before + 2, 30)  # the rescheduled jobs run
        assert not workdir.database.with_name("elsewhere.db").exists()
    finally:
        code = daemon.stop()
        moved.stop()
    assert code == 0, daemon.output()
    assert "Traceback" not in daemon.output()


def test_a_reload_that_moves_the_database_keeps_alerts_in_the_running_ones_mbox(
    site, workdir, wait
):
    """database.path needs a restart and keeps its start-up value, and so does the mbox
    next to it that alerts go to without [smtp]: after such a reload, they went to a new
    file next to the database named for the next start, which nothing used yet."""
    workdir.write_config(sources=[{"url": site.url("/feeds/world.rss"), "every": "1s"}],
                         topics=[MADURO])
    mbox = workdir.database.with_suffix(".mbox")
    elsewhere = workdir.database.with_name("elsewhere.db")
    daemon = workdir.start_daemon()
    try:
        daemon.wait_for_log("daemon started")
        workdir.config.write_text(workdir.config.read_text().replace(
            str(workdir.database), str(elsewhere)))
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for_log("needs a restart: database.path")
        site.publish(fresh("venezuela-opposition-leader"))
        assert wait(lambda: mbox.exists() and "Maduro exit" in mbox.read_text(), 30)
    finally:
        assert daemon.stop() == 0, daemon.output()
    assert not elsewhere.with_suffix(".mbox").exists()
    assert not elsewhere.exists()


def test_each_cycle_logs_one_summary_line(site, mail, workdir):
    site.publish(fresh("venezuela-opposition-leader"))
    config(workdir, site, mail)
    daemon = workdir.start_daemon()
    try:
        mail.wait_for(1, timeout=30)
        daemon.wait_for_log(" sent=1 ")
    finally:
        assert daemon.stop() == 0
    lines = [line for line in daemon.output().splitlines() if " cycle sources=" in line]
    assert any("new_articles=1" in line for line in lines)
    # The outbox job may match and send an article while the crawl that stored it is still
    # running: then its own line, not the cycle's, counts the email.
    summaries = [line for line in daemon.output().splitlines()
                 if " cycle sources=" in line or " outbox matched_articles=" in line]
    assert sum(" emails_queued=1 " in line for line in summaries) == 1
    assert sum(" sent=1 " in line for line in summaries) == 1


def test_a_mail_server_down_is_said_at_each_try_not_at_each_tick(site, mail, workdir, wait):
    """The mail server down with an alert queued: each try that fails is one warning (how
    many wait, when the next try is), the try that gets through says the server is back,
    and no cycle or outbox line says only "retrying=1" (a mail server down for an hour gave
    every tick a "cycle sources=0" line and an "outbox" line that said nothing else)."""
    mail.stop()
    site.publish(fresh("venezuela-opposition-leader"))
    workdir.write_config(sources=[{"url": site.url("/feeds/world.rss"), "every": "1h"}],
                         topics=[MADURO], smtp=mail)
    daemon = workdir.start_daemon()
    down = f"SMTP 127.0.0.1:{mail.port} unreachable: "
    try:
        assert wait(lambda: daemon.output().count(down) >= 3, 30), daemon.output()
        mail.start()
        mail.wait_for(1, timeout=30)
        daemon.wait_for_log(f"SMTP 127.0.0.1:{mail.port} reachable again after ")
    finally:
        assert daemon.stop() == 0, daemon.output()
    lines = daemon.output().splitlines()
    tries = [line for line in lines if down in line]
    assert all(" WARNING " in line and "; 1 alert(s) waiting, next try in " in line
               for line in tries), tries
    summaries = [line for line in lines
                 if " cycle sources=" in line or " outbox matched_articles=" in line]
    assert not [line for line in summaries
                if " sources=0 " in line or " outbox matched_articles=" in line
                if "matched_articles=0 " in line and " sent=0 " in line], summaries
    assert sum(" sent=1 " in line for line in summaries) == 1


def test_refused_smtp_login_stops_the_daemon_at_start_up(site, workdir):
    from mailserver import MailServer

    server = MailServer(auth=("newswatch", "right"))
    server.start()
    try:
        workdir.write_config(
            sources=[site.url("/feeds/world.rss")],
            smtp={"host": server.host, "port": server.port, "username": "newswatch",
                  "password_env": "NW_PW", "timeout": "5s"},
        )
        refused = workdir.newswatch("run", NW_PW="wrong", timeout=30)
        assert refused.returncode == 2
        [line] = refused.stderr.strip().splitlines()[-1:]
        assert line.startswith("newswatch: smtp: ") and "login failed for newswatch" in line
        assert "Traceback" not in refused.stderr
    finally:
        server.stop()
    # A server that is merely down does not stop the daemon: alerts wait and are retried.
    daemon = workdir.start_daemon(NW_PW="right")
    try:
        daemon.wait_for_log("daemon started")
        assert "alerts will wait in the outbox" in daemon.output()
    finally:
        assert daemon.stop() == 0


def test_skipped_ticks_are_not_logged_as_warnings() -> None:
    """A tick that comes while its job's last run goes on is skipped by design (one crawl at
    a time): APScheduler's warning of it came at every tick of a long crawl."""
    import subprocess
    import sys

    script = (
        "import logging\n"
        "from newswatch.app import configure_logging\n"
        "configure_logging('INFO')\n"
        "configure_logging('INFO')\n"  # a reload: the filter is not added twice
        "log = logging.getLogger('apscheduler.scheduler')\n"
        "log.warning('Execution of job \"%s\" skipped: maximum number of running instances "
        "reached (%d)', 'crawl', 1)\n"
        "log.warning('Run time of job %s was missed by %s', 'digest', '0:00:03')\n"
        "print(len(log.filters))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=True)
    assert "maximum number of running instances" not in done.stderr
    assert "was missed by" in done.stderr
    assert done.stdout.strip() == "1"


def test_a_log_line_says_its_time_in_utc() -> None:
    """A log line's time is UTC and says so: it was the machine's local time with no zone,
    which logs of machines in several zones, or journalctl's, could not be set beside."""
    import os
    import re
    import subprocess
    import sys
    from datetime import UTC, datetime

    script = (
        "import logging\n"
        "from datetime import UTC, datetime\n"
        "from newswatch.app import configure_logging\n"
        "configure_logging('INFO')\n"
        "print(datetime.now(UTC).isoformat(timespec='milliseconds'))\n"
        "logging.getLogger('newswatch.daemon').warning('a line')\n"
        "print(datetime.now(UTC).isoformat(timespec='milliseconds'))\n"
    )
    # A machine whose clock is not UTC: Caracas, four hours behind all year.
    env = {**os.environ, "TZ": "America/Caracas"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=True, env=env)
    line = re.fullmatch(
        r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z WARNING newswatch.daemon: a line\n",
        done.stderr)
    assert line, done.stderr
    before, after = (datetime.fromisoformat(t) for t in done.stdout.split())
    assert before <= datetime.fromisoformat(line[1]).replace(tzinfo=UTC) <= after


def test_a_stop_that_takes_long_says_what_it_waits_for(caplog) -> None:
    """A stop still running after a while logs each task's chain of awaits down to what it
    waits on, and the other threads' stacks: a stop that hung in a CI run said nothing."""
    import asyncio
    import threading

    from scheduler.daemon import report_slow_stop

    release = threading.Event()
    thread = threading.Thread(target=release.wait, name="slow-send", daemon=True)
    thread.start()

    async def job_that_hangs(never: asyncio.Future[None]) -> None:
        await never

    async def main() -> None:
        never = asyncio.get_running_loop().create_future()
        hanging = asyncio.ensure_future(job_that_hangs(never))
        report_slow_stop(after=0.05)
        await asyncio.sleep(0.3)
        hanging.cancel()

    with caplog.at_level("WARNING", logger="scheduler.daemon"):
        asyncio.run(main())
    release.set()
    reports = [r.getMessage() for r in caplog.records if "still stopping after" in r.getMessage()]
    assert len(reports) >= 2, reports  # again while it goes on
    assert "test_daemon.py" in reports[0]
    assert "job_that_hangs: await never" in reports[0]
    assert "thread slow-send" in reports[0] and "in wait" in reports[0]


def test_a_step_back_of_the_wall_clock_is_told_from_time_passing() -> None:
    from scheduler.daemon import ClockWatch

    watch = ClockWatch()
    assert watch.stepped_back(1_000_000.0, 50.0) == 0  # the first look
    assert watch.stepped_back(1_000_030.0, 80.0) == 0  # 30 s on both clocks
    assert watch.stepped_back(1_000_030.5, 110.0) == 0  # NTP's slew: under a minute
    assert watch.stepped_back(996_460.5, 140.0) == 3600  # an hour back
    assert watch.stepped_back(1_996_460.5, 170.0) == 0  # forward: everything is due anyway


def test_after_the_clock_went_back_what_was_due_is_due_now(store_location) -> None:
    """A step back of an hour left every next poll and next attempt an hour (and a poll
    interval) away: no polls, no retries, for as long as the clock went back."""
    from test_alerts import outbox_email

    from storage import FetchOutcome, SourceSpec, open_store

    now = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    with open_store(store_location) as store:
        a, b = store.sync_sources([SourceSpec("https://a.example/f", 600),
                                   SourceSpec("https://b.example/f", 600)], now)
        store.record_fetch(a.id, FetchOutcome(ok=True, status=200,
                                              next_due=now + timedelta(minutes=70)), now)
        store.record_fetch(b.id, FetchOutcome(ok=True, status=200,
                                              next_due=now - timedelta(minutes=1)), now)
        store.record_matches([], [outbox_email()], watermark=0, now=now)
        [row] = store.due_outbox(now)
        store.mark_retry(row.id, "SMTP down", now + timedelta(minutes=65))
        assert [s.id for s in store.due_sources(now)] == [b.id] and store.due_outbox(now) == []

        assert store.due_now(now) == 2

        assert {s.id for s in store.due_sources(now)} == {a.id, b.id}
        assert [m.id for m in store.due_outbox(now)] == [row.id]
        assert store.source(b.id).next_due == now - timedelta(minutes=1)  # already due: kept


def test_a_database_file_removed_under_the_daemon_stops_it(site, workdir, wait) -> None:
    """Before, the daemon went on writing to the removed file (still open), `status` and
    `sources add` used a new one it never read, and a restart lost all it had written. It
    stops with exit code 2, which the units in deploy/ do not restart: started again by
    systemd, it made a new, empty database and mailed again the alerts of the look-back its
    feeds still listed (a review)."""
    workdir.write_config(sources=[{"url": site.url("/feeds/world.rss"), "every": "1s"}])
    daemon = workdir.start_daemon()
    try:
        assert wait(lambda: site.requests_for("/feeds/world.rss"), 30)
        workdir.database.rename(workdir.path / "moved-away.db")
        daemon.proc.wait(timeout=30)  # it stops by itself
    finally:
        code = daemon.stop()
    assert code == 2, daemon.output()
    assert (f"the database file {workdir.database} was removed: stopping, not to be started "
            "again on a new, empty one (it would mail again the alerts of alerts.lookback): "
            "restore it (newswatch restore FILE), or start newswatch again to begin afresh"
            ) in daemon.output()
    assert "Traceback" not in daemon.output()
    assert not workdir.database.exists()
    units = Path(__file__).parent.parent / "deploy"
    for unit in ("newswatch.service", "newswatch-crawler.service"):
        assert "RestartPreventExitStatus=2" in (units / unit).read_text()


def test_a_database_file_replaced_under_the_daemon_stops_it_to_be_started_again(
    site, workdir, wait
) -> None:
    """A backup moved in its place: the daemon stops with exit code 1, and systemd starts it
    again on the file now there."""
    workdir.write_config(sources=[{"url": site.url("/feeds/world.rss"), "every": "1s"}])
    daemon = workdir.start_daemon()
    try:
        assert wait(lambda: site.requests_for("/feeds/world.rss"), 30)
        copy = workdir.path / "copy.db"
        copy.write_bytes(workdir.database.read_bytes())
        copy.replace(workdir.database)
        daemon.proc.wait(timeout=30)  # it stops by itself
    finally:
        code = daemon.stop()
    assert code == 1, daemon.output()
    assert ("the database is lost (its connection closed, or its file removed, replaced or "
            f"damaged): {workdir.database}: stopping") in daemon.output()


def test_its_write_ahead_log_removed_under_the_daemon_stops_it(site, workdir, wait) -> None:
    """`rm newswatch.db-wal newswatch.db-shm` under a running daemon: it went on writing to
    the removed log, `status` showed an empty database, and a topic added from the command
    line was reported added, then lost when the daemon's log was written back (a review)."""
    workdir.write_config(sources=[{"url": site.url("/feeds/world.rss"), "every": "1s"}])
    daemon = workdir.start_daemon()
    try:
        assert wait(lambda: len(site.requests_for("/feeds/world.rss")) >= 2, 30)
        for side in ("-wal", "-shm"):
            Path(f"{workdir.database}{side}").unlink()
        daemon.proc.wait(timeout=30)  # it stops by itself
    finally:
        code = daemon.stop()
    assert code == 1, daemon.output()
    assert "the database is lost (its connection closed, or its file removed, replaced or " \
        "damaged)" in daemon.output()


@pytest.mark.parametrize("when", ["before", "opening"])
def test_a_crawl_asked_for_as_the_stop_comes_polls_nothing(site, tmp_path, when) -> None:
    """A cluster's crawler may be handed a crawl job just as SIGTERM comes: the crawl started
    after CrawlRunner.stop (or while Scrapy was opening it, its engine not running yet, which
    Scrapy's own stop leaves running) polled its source whole, holding the exit of the
    process (a CI run: the crawler role not gone 60 s after SIGTERM). It polls nothing; its
    source stays due."""
    import subprocess
    import sys
    from pathlib import Path

    from conftest import subprocess_env

    from storage import open_store

    site.publish(fresh("city-late-winner"))
    database = tmp_path / "late.db"
    script = Path(__file__).parent / "late_stop.py"
    done = subprocess.run(
        [sys.executable, str(script), str(database), site.url("/feeds/world.rss"), when],
        capture_output=True, text=True, timeout=120, env=subprocess_env(),
    )
    assert done.stdout.split() == ["ended", "0"], done.stdout + done.stderr
    assert polls(site) == 0
    store = open_store(database)
    assert [source.url for source in store.due_sources(datetime.now(UTC))] == [
        site.url("/feeds/world.rss")]


def test_the_reactors_timers_go_by_the_monotonic_clock() -> None:
    """Twisted's timers went by the wall clock: set back a day, the clock held a request's
    timeout (Scrapy's reactor.callLater) for that day, the crawl never ended and the daemon
    polled nothing more; set forward, every request in flight timed out at once (a review,
    with libfaketime). Twisted's wall clock is set back a day here just after a timer of
    0.2 s is set: it still fires in 0.2 s."""
    import subprocess
    import sys

    script = """
import os, threading, time
from crawler.run import install_reactor
install_reactor()
from twisted.internet import reactor
from twisted.internet.base import ReactorBase
back = [0.0]
ReactorBase.seconds = staticmethod(lambda: time.time() - back[0])  # Twisted's wall clock
threading.Timer(5, lambda: os._exit(3)).start()  # still waiting: the timer went by it
start = time.monotonic()
reactor.callLater(0.2, reactor.stop)
back[0] = 86400.0  # the clock set back a day
reactor.run(installSignalHandlers=False)
print(round(time.monotonic() - start, 1), reactor.seconds is time.monotonic)
os._exit(0)
"""
    root = Path(__file__).parent.parent
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    elapsed, monotonic = done.stdout.split()
    assert float(elapsed) < 5 and monotonic == "True", done.stdout


def test_a_clock_set_back_while_the_daemon_was_stopped_leaves_nothing_waiting(
    site, workdir, wait
) -> None:
    """The daemon ran with the clock a day ahead, then the machine started again with the
    right time: the source's next poll (and the digest times) stayed a day away, no polls
    and no alerts for that day (a review, with libfaketime). At start, a clock behind the
    last poll the database holds makes what was due due now."""
    import sqlite3

    feed = site.url("/feeds/world.rss")
    workdir.write_config(sources=[{"url": feed, "every": "1h"}])
    assert workdir.newswatch("crawl").returncode == 0
    ahead = datetime.now(UTC) + timedelta(days=1)
    with sqlite3.connect(workdir.database) as db:  # as the clock a day ahead left them
        db.execute("UPDATE sources SET last_fetch = ?, next_due = ?",
                   [ahead.isoformat(), (ahead + timedelta(hours=1)).isoformat()])
    polls = len(site.requests_for("/feeds/world.rss"))
    daemon = workdir.start_daemon()
    try:
        assert wait(lambda: len(site.requests_for("/feeds/world.rss")) > polls, 30)
    finally:
        assert daemon.stop() == 0, daemon.output()
    assert "the clock is " in daemon.output() and "behind the last poll the database holds" \
        in daemon.output()


def test_a_reload_asked_for_while_the_daemon_starts_is_made_once_it_runs(site, workdir):
    """SIGHUP while the daemon started (its SMTP login check waiting on a mail server that
    does not answer yet) was ignored: a topic added then was not matched until the next
    reload, and ``systemctl reload`` said it had worked (a review of a daemon left running).
    It is made as soon as the daemon runs. And the sources added with ``sources add`` are
    sources: "no sources configured" was said of them."""
    import socket

    silent = socket.socket()  # accepts, never greets: the login check waits its timeout
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    smtp = {"host": "127.0.0.1", "port": silent.getsockname()[1], "username": "u",
            "password_env": "NW_TEST_PASSWORD", "timeout": "4s"}
    workdir.write_config(topics=[MADURO])
    added = workdir.newswatch("sources", "add", site.url("/feeds/world.rss"))
    assert added.returncode == 0, added.stderr
    workdir.write_config(topics=[MADURO], smtp=smtp)
    daemon = workdir.start_daemon(NW_TEST_PASSWORD="x")
    try:
        time.sleep(1.5)  # in the login check (4 s)
        workdir.write_config(topics=[MADURO, {"name": "Ukraine", "query": "Zelensky",
                                              "notify": ["kyiv@test.example"]}], smtp=smtp)
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for_log("daemon started")
        daemon.wait_for_log("topics of the config file added: Ukraine")
        assert "a reload was asked for while starting" in daemon.output()
    finally:
        assert daemon.stop() == 0, daemon.output()
        silent.close()
    assert "no sources configured" not in daemon.output()


def test_a_feed_due_again_is_polled_before_the_pages_another_source_queued(
    site, workdir, wait
):
    """A busy feed due again while another source of its host had a hundred pages queued
    waited for all of them (article pages go before polls, host by host): 85 of its items
    scrolled off meanwhile (a review). A poll that joins a crawl under way goes first."""
    count = 16
    site.create_feed("big")
    for n in range(count):
        site.publish(replace(fresh("venezuela-opposition-leader"), slug=f"big-{n}",
                             title=f"Harbour story number {n}"), feed="big")
        site.set_delay(f"/articles/big-{n}", 0.5)
    workdir.write_config(
        sources=[{"url": site.url("/feeds/big.rss"), "every": "1h"},
                 {"url": site.url("/feeds/world.rss"), "every": "1s"}],
        crawl={"per_host": 1},
    )
    daemon = workdir.start_daemon()
    try:
        assert wait(lambda: len(site.requests_for("/feeds/world.rss")) >= 2, 30)
        pages = [r for r in site.requests if r.path.startswith("/articles/big-")]
    finally:
        assert daemon.stop() == 0, daemon.output()
    assert len(pages) < count - 4, len(pages)
