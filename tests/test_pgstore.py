"""The PostgreSQL backend (storage.pg) beyond the storage tests it shares with SQLite:
`newswatch crawl` end to end on a PostgreSQL URL, outbox claims by several senders, and
the config's choice of backend."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import subprocess_env
from test_alerts import POLICY, SmtpSink, outbox_email
from test_end_to_end import CHROME_TRAP, MADURO, export, fresh

from alerts.deliver import MailOutage, deliver_due
from alerts.transport import SmtpTransport
from newswatch.config import ConfigError, load_config
from storage import (
    Email,
    Match,
    OutboxMessage,
    SourceSpec,
    StorageError,
    TopicSpec,
    open_store,
)
from storage.journal import SentJournal, SentMark
from storage.pg import COUNTS_LOCK, MIGRATION_LOCK, schema_version
from storage.pgschema import MIGRATIONS as PG_MIGRATIONS
from watchlist import compile_query

psycopg = pytest.importorskip("psycopg", reason="pip install -e '.[test]' brings it")

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def test_crawl_on_postgresql_delivers_one_alert_then_nothing_new(site, mail, workdir, pg_url):
    site.publish(fresh("venezuela-opposition-leader"))
    site.publish(fresh("central-bank-holds-rates"))
    site.publish(fresh("city-late-winner"))
    workdir.database_url = pg_url
    workdir.write_config(
        sources=[site.url("/feeds/world.rss")], topics=[MADURO, CHROME_TRAP], smtp=mail
    )

    first = workdir.newswatch("crawl")
    assert first.returncode == 0, first.stderr
    assert "3 new article(s)" in first.stdout
    assert "delivered 1 email(s)" in first.stdout
    [message] = mail.wait_for(1)
    assert message["To"] == "desk@test.example"
    assert "Maduro exit" in message["Subject"]

    second = workdir.newswatch("crawl")
    assert second.returncode == 0, second.stderr
    assert "0 new article(s)" in second.stdout
    assert "delivered 0 email(s)" in second.stdout
    assert len(mail.messages) == 1
    assert site.requests_for("/feeds/world.rss")[-1].status == 304

    articles = {a["url"]: a for a in export(workdir)}
    assert len(articles) == 3
    assert articles[site.article_url("venezuela-opposition-leader")]["topics"] == ["Maduro exit"]
    found = workdir.newswatch("search", "Maduro")
    assert found.returncode == 0, found.stderr
    assert site.article_url("venezuela-opposition-leader") in found.stdout
    status = workdir.newswatch("status", "--json")
    assert status.returncode == 0, status.stderr
    assert '"articles": 3' in status.stdout and "postgresql://postgres@/" in status.stdout
    backup = workdir.newswatch("backup", str(workdir.path / "copy.db"))
    assert backup.returncode != 0 and "pg_dump" in backup.stdout + backup.stderr
    assert not workdir.database.exists()  # nothing went to an SQLite file
    with open_store(pg_url) as store:
        assert store.outbox_problems() == []
        assert store.outbox_counts() == {"pending": 0, "sent": 1, "failed": 0}
        row = store.db.execute("SELECT message_id FROM outbox").fetchone()
        assert row[0] == message["Message-ID"]  # the stored Message-ID is the one sent


def test_a_crawl_folds_the_counts_it_added_unless_a_fold_runs(site, mail, workdir, pg_url):
    """The counts kept as rows added (schema 38, 39, 41: a row for each article stored, each
    alert's change of status, each match) were folded by the daemon's hourly housekeeping
    and `newswatch prune` alone: where cron runs `newswatch crawl` alone, they piled up, and
    each `status` and scrape of /metrics summed them all. A crawl folds them as it ends,
    but not while another fold runs (a prune's): it does not wait for it."""
    for slug in ("venezuela-opposition-leader", "central-bank-holds-rates", "city-late-winner"):
        site.publish(fresh(slug))
    workdir.database_url = pg_url
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=[MADURO], smtp=mail)

    def rows() -> dict[str, int]:
        with psycopg.connect(pg_url) as conn:
            return {table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                    for table in ("article_counts", "outbox_counts", "match_counts")}

    with psycopg.connect(pg_url, autocommit=True) as folding:
        folding.execute("SELECT pg_advisory_lock(%s)", [COUNTS_LOCK])
        first = workdir.newswatch("crawl")
        assert first.returncode == 0, first.stderr
        assert "3 new article(s)" in first.stdout and "delivered 1 email(s)" in first.stdout
        # A row for each article, and for the alert queued then sent: left to the fold.
        assert rows() == {"article_counts": 3, "outbox_counts": 3, "match_counts": 1}
    site.publish(fresh("harbour-wind-farm-approved"))
    second = workdir.newswatch("crawl")
    assert second.returncode == 0, second.stderr
    assert "1 new article(s)" in second.stdout
    assert rows() == {"article_counts": 1, "outbox_counts": 1, "match_counts": 1}
    with open_store(pg_url) as store:
        assert store.article_count() == 4
        assert store.outbox_counts() == {"pending": 0, "sent": 1, "failed": 0}
        assert [(t.matches, t.alerted) for t in store.topic_status()] == [(1, 1)]


def _queue(store, n: int) -> None:
    store.sync_sources([SourceSpec("https://news.example/feed", 600)], NOW)
    [source] = store.sources()
    from storage import Article

    article_id = store.add_article(Article(
        url="https://news.example/a", entry_url="https://news.example/a", source_id=source.id,
        title="A title", text="Body.", published=NOW, author=None, fetched=NOW,
        extraction="page"))
    [topic] = store.sync_topics([TopicSpec("T", "title", compile_query("title"), ("d@x.test",))])
    emails = [Email(message_id=f"<{i}@newswatch>", recipient="d@x.test", subject="s",
                    text="t", html="h", created=NOW, items=((article_id, topic.id),))
              for i in range(n)]
    store.record_matches([Match(article_id, topic.id, ("title",), alert=True)], emails,
                         article_id, NOW)


def test_two_senders_never_claim_the_same_message(pg_url: str) -> None:
    with open_store(pg_url) as first, open_store(pg_url) as second:
        _queue(first, 5)
        a = first.due_outbox(NOW, limit=3)
        b = second.due_outbox(NOW, limit=3)
        assert [m.message_id for m in a] == ["<0@newswatch>", "<1@newswatch>", "<2@newswatch>"]
        assert [m.message_id for m in b] == ["<3@newswatch>", "<4@newswatch>"]
        # Each sender gets its own claims again, never the other's.
        assert [m.id for m in first.due_outbox(NOW)] == [m.id for m in a]
        assert [m.id for m in second.due_outbox(NOW)] == [m.id for m in b]
        first.mark_sent(a[0].id, NOW)
        second.mark_retry(b[0].id, "421 later", NOW)  # a retry is anyone's
        assert [m.message_id for m in first.due_outbox(NOW)] == [
            "<1@newswatch>", "<2@newswatch>", "<3@newswatch>"]
    # Both senders gone (their sessions closed): what they left unsent is due again at
    # once, with the same Message-ID.
    with open_store(pg_url) as third:
        again = third.due_outbox(NOW)
        assert [m.message_id for m in again] == [
            "<1@newswatch>", "<2@newswatch>", "<3@newswatch>", "<4@newswatch>"]


def test_a_send_cut_off_by_the_database_is_marked_from_the_journal_never_resent(
    pg_url: str, tmp_path: Path
) -> None:
    """The mail server accepted a message and the sender's connection is gone before its
    "sent" mark: the mark was synced to the sender's journal first, and the next sender of
    the machine writes it to the database before claiming anything. A sender elsewhere waits
    ``claim_lease`` for it; the messages whose send had not begun are due at once."""
    journal = tmp_path / "newswatch.sent"
    first = open_store(pg_url)
    first.journal = SentJournal(journal)
    _queue(first, 3)
    a, b, c = first.due_outbox(NOW)
    first.sending(a.id)
    with open_store(pg_url) as admin:  # the server ends the sender's session
        admin.db.execute("SELECT pg_terminate_backend(?)", [first.pg.execute(
            "SELECT pg_backend_pid()").fetchone()[0]])
    with pytest.raises(StorageError):
        first.mark_sent(a.id, NOW)  # accepted by the mail server, not by the database
    assert first.lost
    first.close()  # a dead process: its journal file stays, unlocked
    assert [p.name.endswith(".journal") for p in journal.iterdir()] == [True]

    with open_store(pg_url) as elsewhere:  # another machine: no journal of its own
        assert [m.id for m in elsewhere.due_outbox(NOW)] == [b.id, c.id]
        elsewhere.mark_retry(b.id, "421 later", NOW)
        elsewhere.mark_retry(c.id, "421 later", NOW)
    with open_store(pg_url) as again:
        again.journal = SentJournal(journal)
        assert [m.id for m in again.due_outbox(NOW)] == [b.id, c.id]
        assert again.outbox_counts() == {"pending": 2, "sent": 1, "failed": 0}
        row = again.db.execute("SELECT sent, attempts FROM outbox WHERE id = ?", [a.id])
        assert row.fetchone() == ("2026-11-16T09:00:00+00:00", 1)
    assert list(journal.iterdir()) == []  # every mark in the database


def test_a_send_cut_off_waits_for_the_claim_lease_elsewhere(pg_url: str) -> None:
    """Without a journal (another machine's sender, or its journal lost with the machine),
    a row whose send began in a session that ended is taken after ``claim_lease``."""
    with open_store(pg_url) as first:
        _queue(first, 1)
        [a] = first.due_outbox(NOW)
        first.sending(a.id)
    with open_store(pg_url) as other:
        assert other.due_outbox(NOW) == []
        other.claim_lease = 0.5
        deadline = time.monotonic() + 30
        while not (again := other.due_outbox(NOW)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [m.message_id for m in again] == [a.message_id]


#: A sender of the tests' outbox (``_queue``) killed (kill -9) mid-send: it claims the three
#: due rows, has the first accepted by the mail server (its mark in the journal alone: killed
#: before the database's), begins the second's send, and waits to be killed.
KILLED_MID_SEND = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from storage import open_store
from storage.journal import SentJournal
now = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
store = open_store(sys.argv[1])
store.journal = SentJournal(Path(sys.argv[2]))
a, b, c = store.due_outbox(now)
store.sending(a.id)
store.accepted(a.id, now)
store.sending(b.id)
print(a.id, b.id, c.id, flush=True)
sys.stdin.read()
"""


def test_an_alerter_killed_mid_send_takes_its_rows_back_once_started_again(
    pg_url: str, tmp_path: Path
) -> None:
    """An alerter killed (kill -9) mid-send, started again on its machine (systemd, 10 s
    later) with its sent journal: the dead process's file replayed, it knows which of its
    sends the mail server accepted (marked sent) and that the one under way was not, and
    takes that row back at once. It waited the claim lease, 14 minutes, as on another
    machine, which still waits for it."""
    journal = tmp_path / "newswatch.sent"
    with open_store(pg_url) as setup:
        _queue(setup, 3)
    sender = subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_SEND, pg_url, str(journal)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=subprocess_env(),
    )
    try:
        assert sender.stdout is not None
        a, b, c = map(int, sender.stdout.readline().split())
    finally:
        sender.kill()
        sender.wait()
        for stream in (sender.stdin, sender.stdout):
            if stream is not None:
                stream.close()

    with open_store(pg_url) as elsewhere:  # another machine: the lease for a and b
        elsewhere.claim_lease = 3600
        assert [m.id for m in elsewhere.due_outbox(NOW)] == [c]
    with open_store(pg_url) as again:
        again.claim_lease = 3600
        again.journal = SentJournal(journal)
        assert [m.id for m in again.due_outbox(NOW)] == [b, c]
        assert again.outbox_counts() == {"pending": 2, "sent": 1, "failed": 0}
        row = again.db.execute("SELECT status, attempts FROM outbox WHERE id = ?", [a])
        assert row.fetchone() == ("sent", 1)
        assert [p.name for p in journal.iterdir()] == [again.journal.path.name]


def _cut_off_mid_send(pg_url: str, journal: Path) -> tuple[Any, OutboxMessage]:
    """A sender with the sent journal ``journal``, and the one message queued, whose
    session the server ended as it sent that message (its process lives on)."""
    store = open_store(pg_url)
    store.journal = SentJournal(journal)
    _queue(store, 1)
    [row] = store.due_outbox(NOW)
    store.sending(row.id)
    with open_store(pg_url) as admin:
        admin.db.execute("SELECT pg_terminate_backend(?)", [store.pg.execute(
            "SELECT pg_backend_pid()").fetchone()[0]])
    return store, row


def test_an_alerter_that_lost_its_database_mid_send_leaves_its_row_to_the_next_start(
    pg_url: str, tmp_path: Path
) -> None:
    """PostgreSQL restarted as a send was under way, which the mail server refused: the
    alerter cannot let go of its claim, says the database is lost and exits, leaving its
    journal file, empty; started again, it lets go of the row at once (its file was
    removed, and the row waited the claim lease)."""
    journal = tmp_path / "newswatch.sent"
    first, a = _cut_off_mid_send(pg_url, journal)
    with pytest.raises(StorageError):
        first.mark_retry(a.id, "421 later", NOW)
    assert first.lost
    first.close()
    with open_store(pg_url) as again:
        again.claim_lease = 3600
        again.journal = SentJournal(journal)
        assert [m.id for m in again.due_outbox(NOW)] == [a.id]


def test_a_live_sender_of_the_same_machine_keeps_its_send_under_way(pg_url: str,
                                                                    tmp_path: Path) -> None:
    """A sender whose session ended while its process lives (PostgreSQL restarted, its
    send still waiting for the mail server's answer) holds its journal file: another sender
    of its machine, with the same journal directory, waits the claim lease for its row as
    another machine's does (taken at once, the message would go twice if the server
    accepted the first send)."""
    journal = tmp_path / "newswatch.sent"
    first, _ = _cut_off_mid_send(pg_url, journal)
    try:
        with open_store(pg_url) as neighbour:
            neighbour.claim_lease = 3600
            neighbour.journal = SentJournal(journal)
            assert neighbour.due_outbox(NOW) == []
    finally:
        first.close()


def test_a_copy_of_a_live_senders_journal_lets_go_of_none_of_its_claims(
    pg_url: str, tmp_path: Path
) -> None:
    """A machine cloned from a running alerter's (its disk image, or its /etc/newswatch
    copied to add a worker) holds a copy of that alerter's journal file, which no process
    there locks: its alerter replays it as a dead sender's. The marks in it are written (the
    mail server accepted those messages), but the rows the live alerter claimed, the one it
    is sending and the one after it, stay its own while its session lives: let go at once,
    each went twice, from both machines."""
    journal, cloned = tmp_path / "a" / "newswatch.sent", tmp_path / "b" / "newswatch.sent"
    first = open_store(pg_url)
    try:
        first.journal = SentJournal(journal)
        _queue(first, 3)
        a, b, c = first.due_outbox(NOW)
        first.sending(a.id)
        first.accepted(a.id, NOW)  # its database mark refused: in the journal alone
        first.sending(b.id)
        cloned.mkdir(parents=True)
        shutil.copy(first.journal.path, cloned / first.journal.path.name)
        with open_store(pg_url) as clone:
            clone.claim_lease = 3600
            clone.journal = SentJournal(cloned)
            assert clone.due_outbox(NOW) == []
            assert clone.outbox_counts() == {"pending": 2, "sent": 1, "failed": 0}
        assert [m.id for m in first.due_outbox(NOW)] == [b.id, c.id]
    finally:
        first.close()


def test_a_row_let_go_mid_run_is_not_sent_by_the_sender_that_had_claimed_it(
    pg_url: str
) -> None:
    """Whatever lets a live sender's claim go while its run is under way (a copy of its
    journal replayed as a dead sender's, a lease misjudged), the row is another sender's
    then: the first no longer sends it when its turn comes. Both sent it: two copies of the
    alert, from two machines."""
    sink = SmtpSink()
    sink.start()
    try:
        with open_store(pg_url) as first, open_store(pg_url) as other:
            _queue(first, 2)
            taken: list[int] = []

            class Released(SmtpTransport):
                def send(self, message: Any) -> None:
                    super().send(message)
                    if not taken:  # as the first message goes, the second is let go
                        other.db.execute("UPDATE outbox SET claimed_by = NULL"
                                         " WHERE message_id = '<1@newswatch>'")
                        taken.extend(m.id for m in other.due_outbox(NOW))

            report = asyncio.run(deliver_due(first, Released(sink.settings()), now=NOW,
                                             policy=POLICY))
            assert report.sent == 1 and len(taken) == 1
            assert asyncio.run(deliver_due(other, SmtpTransport(sink.settings()), now=NOW,
                                           policy=POLICY)).sent == 1
            assert first.outbox_counts() == {"pending": 0, "sent": 2, "failed": 0}
    finally:
        sink.stop()
    assert sorted(m["Message-ID"] for m in sink.messages) == ["<0@newswatch>", "<1@newswatch>"]


def test_an_alerter_cut_off_from_the_mail_server_leaves_its_alerts_to_another(
    pg_url: str
) -> None:
    """Two alerters, the mail server out of reach from one machine alone (its route
    broken): the run that finds it down lets go of every email it read, the one it tried and
    those it left for the server's return, and the other alerter sends them. Those it left
    stayed claimed by its live session, and waited as long as its outage lasted."""
    down = SmtpSink()  # nothing listens there: the broken route
    up = SmtpSink()
    up.start()
    try:
        with open_store(pg_url) as cut_off, open_store(pg_url) as healthy:
            emails = [outbox_email(f"r{i}@example.test") for i in range(3)]
            now = emails[0].created
            cut_off.record_matches([], emails, watermark=0, now=now)
            report = asyncio.run(deliver_due(cut_off, SmtpTransport(down.settings()), now=now,
                                             policy=POLICY, outage=MailOutage()))
            assert (report.sent, report.retrying) == (0, 3)
            # The two left go at once; the one tried is due again with them (server_back).
            assert asyncio.run(deliver_due(healthy, SmtpTransport(up.settings()), now=now,
                                           policy=POLICY)).sent == 2
            assert asyncio.run(deliver_due(healthy, SmtpTransport(up.settings()), now=now,
                                           policy=POLICY)).sent == 1
            assert healthy.outbox_counts() == {"pending": 0, "sent": 3, "failed": 0}
    finally:
        up.stop()
    assert sorted(m["Message-ID"] for m in up.messages) == sorted(e.message_id for e in emails)


def test_the_claim_lease_outlasts_the_longest_send(pg_url: str, tmp_path: Path) -> None:
    """A row whose sender's session ended mid-send is taken by another sender only once that
    send is over: a send waits up to 10 minutes for the reply to its end (RFC 5321), so the
    lease is not daemon.stalled_after alone (30 s: the cut-off sender, still sending, and
    the next one both had the message accepted)."""
    from newswatch.cli import _keep_sent_marks
    from newswatch.config import load_config

    path = tmp_path / "newswatch.toml"
    for smtp, stalled_after, lease in (
        ("", "30s", 30.0),
        ('[smtp]\nhost = "127.0.0.1"\ntimeout = "30s"\n', "30s", 8 * 30 + 600.0),
        ('[smtp]\nhost = "127.0.0.1"\ntimeout = "30s"\n', "20m", 1200.0),
    ):
        path.write_text(f'[database]\nurl = "{pg_url}"\n[daemon]\n'
                        f'stalled_after = "{stalled_after}"\n{smtp}', encoding="utf-8")
        with open_store(pg_url) as store:
            assert _keep_sent_marks(load_config(path), store, journal=False).claim_lease == lease


def test_a_journal_of_another_database_marks_nothing(pg_url: str, tmp_path: Path) -> None:
    journal = SentJournal(tmp_path / "j")
    journal.record(SentMark(1, "<elsewhere@newswatch>", NOW))
    journal.close()
    with open_store(pg_url) as store:
        store.journal = SentJournal(tmp_path / "j")
        _queue(store, 1)
        assert [m.id for m in store.due_outbox(NOW)] == [1]
    assert list((tmp_path / "j").iterdir()) == []


def _sender(config: Path, url: str) -> Any:
    """A sender started as ``newswatch run --role alerter`` starts with ``config`` (its
    ``[database] url`` is ``url``): its sent journal chosen and opened by the CLI, in the
    working directory."""
    from newswatch.cli import _keep_sent_marks

    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    store = open_store(url)
    _keep_sent_marks(load_config(config), store, journal=True)
    store.claim_lease = 3600
    return store


def test_a_journal_of_another_database_in_the_same_directory_is_left_to_its_senders(
    postgres: Any, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two configs in one directory, prod.toml and staging.toml, each with its own
    PostgreSQL database, run from it (systemd's WorkingDirectory) share one journal
    directory, newswatch.sent/ there. Prod's alerter
    is killed between the mail server's "250" and its "sent" mark: the mark is in its file
    alone. Staging's alerter replayed that file as a dead sender's of its own: the mark
    matched none of staging's rows, and the file was removed; prod's alerter, started again,
    found no mark, and its row went again after the claim lease (a second copy of the
    alert). A file is replayed by the senders of its database alone."""
    monkeypatch.chdir(tmp_path)
    staging_name = postgres.create_database()
    try:
        prod = _sender(tmp_path / "prod.toml", pg_url)
        _queue(prod, 1)
        [a] = prod.due_outbox(NOW)
        prod.sending(a.id)
        prod.accepted(a.id, NOW)  # killed before the database's mark: in the journal alone
        prod.close()
        with _sender(tmp_path / "staging.toml", postgres.url(staging_name)) as staging:
            assert staging.due_outbox(NOW) == []
        with _sender(tmp_path / "prod.toml", pg_url) as again:
            assert again.due_outbox(NOW) == []
            assert again.outbox_counts() == {"pending": 0, "sent": 1, "failed": 0}
            row = again.db.execute("SELECT message_id, attempts FROM outbox WHERE id = ?",
                                   [a.id])
            assert row.fetchone() == (a.message_id, 1)
            assert [p.name for p in (tmp_path / "newswatch.sent").iterdir()] == [
                again.journal.path.name]
    finally:
        postgres.drop_database(staging_name)


def test_an_sqlite_sender_beside_leaves_the_postgresql_journal_to_its_senders(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An SQLite config run from the directory of an alerter's (newswatch.toml, its
    database newswatch.db there) keeps its journal where the PostgreSQL config's is,
    newswatch.sent/: its senders leave the dead alerter's file alone as well."""
    from newswatch.cli import _sent_journal

    monkeypatch.chdir(tmp_path)
    prod = _sender(tmp_path / "prod.toml", pg_url)
    _queue(prod, 1)
    [a] = prod.due_outbox(NOW)
    prod.sending(a.id)
    prod.accepted(a.id, NOW)
    prod.close()
    (tmp_path / "newswatch.toml").write_text("", encoding="utf-8")
    config = load_config(tmp_path / "newswatch.toml")
    with open_store(config.database.path) as local:
        _sent_journal(config, local)
        assert local.due_outbox(NOW) == []
    with _sender(tmp_path / "prod.toml", pg_url) as again:
        assert again.due_outbox(NOW) == []
        assert again.outbox_counts() == {"pending": 0, "sent": 1, "failed": 0}


def test_a_journal_file_of_the_previous_version_is_replayed_by_the_next_sender(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file written before journal files named their database (by a sender killed, then
    newswatch upgraded) is replayed by the first sender that finds it, as before."""
    monkeypatch.chdir(tmp_path)
    old = SentJournal(tmp_path / "newswatch.sent")
    with open_store(pg_url) as store:
        _queue(store, 1)
        [a] = store.due_outbox(NOW)
    old.record(SentMark(a.id, a.message_id, NOW))
    old.close()
    with _sender(tmp_path / "newswatch.toml", pg_url) as again:
        assert again.due_outbox(NOW) == []
        assert again.outbox_counts() == {"pending": 0, "sent": 1, "failed": 0}
        assert [p.name for p in (tmp_path / "newswatch.sent").iterdir()] == [
            again.journal.path.name]


def test_a_journal_replays_the_files_of_dead_processes_only(tmp_path: Path) -> None:
    """A live alerter's file is its own (locked); a dead one's is replayed by the next, its
    torn last line (the process died writing it) skipped, and removed once flushed."""
    live, dead = SentJournal(tmp_path), SentJournal(tmp_path)
    live.record(SentMark(1, "<1@newswatch>", NOW))
    dead.record(SentMark(2, "<2@newswatch>", NOW))
    with dead.path.open("a", encoding="utf-8") as file:
        file.write('{"id": 3, "message_')
    dead.close()  # its mark not flushed: the file stays
    dead_file = dead.path
    assert dead_file.exists()
    nxt = SentJournal(tmp_path)
    marks = nxt.unflushed()
    assert marks == [SentMark(2, "<2@newswatch>", NOW)]
    assert live.unflushed() == [SentMark(1, "<1@newswatch>", NOW)]  # nxt holds the dead file
    nxt.flushed(marks)
    assert not dead_file.exists()
    live.flushed([SentMark(1, "<1@newswatch>", NOW)])
    assert live.path.read_bytes().strip(b"\0") == b""  # written over, its reserve kept
    live.close()
    nxt.close()
    assert list(tmp_path.iterdir()) == []


def test_unsupported_operations_say_so(pg_url: str, tmp_path: Path) -> None:
    with open_store(pg_url) as store:
        with pytest.raises(StorageError, match="search rejected by FTS5"):
            store.search('"unclosed')
        with pytest.raises(StorageError, match="pg_dump"):
            store.backup(tmp_path / "copy.db")
        store.checkpoint()
        assert store.prune(NOW + timedelta(days=1)) == 0


def test_processes_starting_at_once_on_a_new_database_migrate_it_once(pg_url: str) -> None:
    """Two crawlers and an alerter start together on an empty database: the version table
    is created under the migration lock, so none of them fails on the table's row type."""
    holder = psycopg.connect(pg_url, autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK])
    opened: list[int] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            with open_store(pg_url) as store:
                opened.append(schema_version(store.pg))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        waiting = holder.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ).fetchone()
        if waiting == (6,):
            break
        time.sleep(0.02)
    assert waiting == (6,), "every process waits for the migration lock"
    # Nothing was created before the lock: not even the version table.
    assert holder.execute("SELECT to_regclass('schema_version')").fetchone() == (None,)
    holder.close()  # its session lock goes with it
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert opened == [len(PG_MIGRATIONS)] * 6


def test_crawlers_storing_articles_of_the_same_sources_at_once_never_deadlock(
    pg_url: str,
) -> None:
    """Two crawlers each store, in one transaction, articles of the same two sources in
    opposite orders: each article's count is a row of its own (schema 38), not an update of
    its source's (each transaction would hold one source's and wait for the other's:
    PostgreSQL kills one as a deadlock). Both commit, and the counts are a COUNT(*)'s."""
    from storage import Article

    with open_store(pg_url) as first, open_store(pg_url) as second:
        first.sync_sources([SourceSpec(f"https://{site}.example/feed", 600)
                            for site in ("one", "two")], NOW)
        one, two = (s.id for s in first.sources())
        both = threading.Barrier(2, timeout=10)
        errors: list[BaseException] = []

        def store_articles(store, order: tuple[int, ...], name: str) -> None:
            try:
                with store.db.atomic():
                    for n, source_id in enumerate(order):
                        url = f"https://news.example/{name}-{n}"
                        store.add_article(Article(
                            url=url, entry_url=url, source_id=source_id, title=f"{name} {n}",
                            text="Body.", published=NOW, author=None, fetched=NOW,
                            extraction="page"))
                        if not n:
                            both.wait()  # each holds what its first article took
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=store_articles, args=(first, (one, two), "a")),
                   threading.Thread(target=store_articles, args=(second, (two, one), "b"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert errors == []
        assert first.article_count() == 4
        assert {s.id: s.articles for s in second.source_status()} == {one: 2, two: 2}


def test_a_database_that_cannot_be_reached_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot open database"):
        open_store(f"postgresql://nobody:secret@/none?host={tmp_path}&connect_timeout=2")
    # libpq's hint came on a line of its own: the error is one line.
    with pytest.raises(StorageError) as refused:
        open_store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert "\n" not in str(refused.value) and "connection refused" in str(refused.value).lower()


def test_a_database_newswatch_may_not_create_tables_in_says_what_to_grant(pg_url) -> None:
    """PostgreSQL 15: a database the administrator created, owned by another role, has no
    CREATE on schema public for newswatch's user: three lines with the statement quoted."""
    import psycopg

    url = urlsplit(pg_url)
    with psycopg.connect(pg_url.replace(url.path, "/postgres"), autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS nw_limited")
        admin.execute("CREATE ROLE nw_limited LOGIN")
    try:
        limited = pg_url.replace(f"//{url.username}@", "//nw_limited@")
        with pytest.raises(StorageError) as refused:
            open_store(limited)
        said = str(refused.value)
        assert "\n" not in said and "LINE 1" not in said
        assert "permission denied for schema public" in said
        assert "make its user the database's owner" in said
    finally:
        with psycopg.connect(pg_url.replace(url.path, "/postgres"), autocommit=True) as admin:
            admin.execute("DROP OWNED BY nw_limited")
            admin.execute("DROP ROLE nw_limited")


def test_config_takes_a_url_or_a_path_not_both(tmp_path: Path) -> None:
    both = tmp_path / "both.toml"
    both.write_text('[database]\npath = "a.db"\nurl = "postgresql://u@h/db"\n')
    with pytest.raises(ConfigError, match="set path .SQLite. or url .PostgreSQL., not both"):
        load_config(both)
    url = tmp_path / "url.toml"
    url.write_text('[database]\nurl = "postgresql://u:pw@h/db"\n')
    database = load_config(url).database
    assert database.location == "postgresql://u:pw@h/db"
    assert database.shown == "postgresql://u:***@h/db"
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[database]\nurl = "mysql://h/db"\n')
    with pytest.raises(ConfigError, match="expected a postgresql:// URL"):
        load_config(wrong)
    # A password as a parameter, or in a libpq key=value string, is hidden too.
    url.write_text('[database]\nurl = "postgresql://u@h/db?sslmode=require&password=pw1"\n')
    assert load_config(url).database.shown == "postgresql://u@h/db?sslmode=require&password=***"
    wrong.write_text('[database]\nurl = "host=h password=pw1 dbname=db"\n')
    with pytest.raises(ConfigError) as refused:
        load_config(wrong)
    assert "pw1" not in str(refused.value) and "password=***" in str(refused.value)
    with pytest.raises(StorageError) as failed:
        open_store(f"postgresql://nobody@/none?host={tmp_path}&connect_timeout=2&password=pw1")
    assert "pw1" not in str(failed.value)


def test_the_machines_of_a_cluster_schedule_by_the_database_clock(pg_url, monkeypatch, caplog):
    """A crawler whose clock was 5 minutes behind stamped every source due again in the
    past (the scheduler queued it at every tick): the roles read the database's time."""
    import scheduler.cluster as cluster

    real = cluster.utcnow
    monkeypatch.setattr(cluster, "utcnow", lambda: real() - timedelta(minutes=5))
    with open_store(pg_url) as store, caplog.at_level("WARNING", logger="scheduler.cluster"):
        clock = cluster.DatabaseClock(store)
        assert abs(clock() - real()) < timedelta(seconds=5)
        assert re.search(r"this machine's clock is -(299|300|301)s off the database server's",
                         caplog.text)
        warned = caplog.text.count("off the database server's")
        clock.measure()  # the same offset again: said once
        assert caplog.text.count("off the database server's") == warned


def test_a_listing_noted_while_another_machine_records_its_verdict_is_not_lost(
    pg_url: str,
) -> None:
    """A crawler notes a third feed listing a story (its listing new, the story's place in
    the re-match queue kept) while the alerter records the verdict on the listing it read:
    the crawler's transaction, not yet committed, was unseen by the verdict, which took the
    story from the queue; the crawler then committed a listing new to no queued story, and
    that feed's topics never heard of it. The verdict waits for the crawler's transaction
    and leaves the story queued for the new listing."""
    from storage import Article

    feeds = [f"https://news.example/{name}.rss" for name in ("main", "politics", "americas")]
    with open_store(pg_url) as crawler, open_store(pg_url) as alerter:
        crawler.sync_sources([SourceSpec(url, 600) for url in feeds], NOW)
        main, politics, americas = ({s.url: s.id for s in crawler.sources()}[u] for u in feeds)
        url = "https://news.example/articles/maduro"
        story = crawler.add_article(Article(
            url=url, entry_url=url, source_id=main, title="Maduro", text="Maduro met them.",
            published=NOW, author=None, fetched=NOW, extraction="page"))
        assert story is not None
        crawler.note_listed([story], politics, NOW)

        def read() -> list[tuple[int, tuple[tuple[str, str], ...]]]:
            return [(a.id, a.new_from) for a in alerter.with_listing_sources(
                alerter.rematch_queue(relisted=True), anew=True)]

        verdict = alerter.with_listing_sources(alerter.rematch_queue(relisted=True), anew=True)
        recorded = threading.Event()
        errors: list[BaseException] = []

        def record() -> None:
            try:
                alerter.record_matches([], [], watermark=None, now=NOW, rematched=verdict)
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)
            recorded.set()

        with psycopg.connect(pg_url, autocommit=True) as watcher:
            with crawler.db.atomic():
                crawler.note_listed([story], americas, NOW)
                thread = threading.Thread(target=record)
                thread.start()
                deadline = time.monotonic() + 30
                # The verdict recorded, or waiting for this transaction's lock.
                while not recorded.is_set() and time.monotonic() < deadline and not (
                    watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE"
                                    " wait_event_type = 'Lock' AND datname = current_database()"
                                    ).fetchone() or (0,))[0]:
                    time.sleep(0.01)
            thread.join(30)
        assert errors == []
        assert read() == [(story, ((feeds[2], feeds[2]),))]
