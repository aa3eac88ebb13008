"""The PostgreSQL behaviour that sends each alert once from several alerters
(docs/scale-out.md, "Alerts exactly once"), pinned on a scratch outbox table: a claim is a row
lock taken with ``FOR UPDATE SKIP LOCKED`` and held while the message is sent; other
claimers skip it; a claimer that dies gives it back by ending its transaction, and one whose
machine vanishes gives it back when ``idle_in_transaction_session_timeout`` ends the orphaned
transaction on the server."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from conftest import subprocess_env
from mailserver import free_port
from netns import TestNetwork
from pgserver import running_server

psycopg = pytest.importorskip("psycopg", reason="pip install -e '.[test]' brings it")

CLAIM = """
    SELECT id, message_id FROM outbox
    WHERE status = 'pending' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
"""


def make_outbox(conninfo: str, n: int) -> None:
    with psycopg.connect(conninfo) as conn:
        conn.execute(
            "CREATE TABLE outbox (id serial PRIMARY KEY, message_id text NOT NULL UNIQUE,"
            " status text NOT NULL DEFAULT 'pending')"
        )
        for i in range(n):
            conn.execute("INSERT INTO outbox (message_id) VALUES (%s)", (f"<m{i}@test>",))


def test_claimers_skip_each_others_rows(pg_conninfo: str) -> None:
    make_outbox(pg_conninfo, 2)
    first, second = psycopg.connect(pg_conninfo), psycopg.connect(pg_conninfo)
    try:
        a = first.execute(CLAIM).fetchone()
        b = second.execute(CLAIM).fetchone()
        assert a is not None and b is not None and a[0] != b[0]  # disjoint, nobody waited
        with psycopg.connect(pg_conninfo) as third:
            assert third.execute(CLAIM).fetchone() is None  # both claimed: nothing for a third

        first.execute("UPDATE outbox SET status = 'sent' WHERE id = %s", (a[0],))
        first.commit()  # sent and recorded: never claimed again
        second.rollback()  # died before recording: its row is pending again
        with psycopg.connect(pg_conninfo) as third:
            assert third.execute(CLAIM).fetchone() == b  # same row, same Message-ID
    finally:
        first.close()
        second.close()


def test_killed_claimer_gives_its_row_back(pg_conninfo: str) -> None:
    make_outbox(pg_conninfo, 1)
    claimer = subprocess.Popen(
        [sys.executable, "-c",
         "import psycopg, sys\n"
         "conn = psycopg.connect(sys.argv[1])\n"
         f"print(conn.execute('''{CLAIM}''').fetchone()[0], flush=True)\n"
         "sys.stdin.read()  # 'sending' until killed\n",
         pg_conninfo],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=subprocess_env(),
    )
    try:
        assert claimer.stdout is not None
        assert claimer.stdout.readline().strip() == "1"
        with psycopg.connect(pg_conninfo) as other:
            assert other.execute(CLAIM).fetchone() is None
        claimer.kill()  # kill -9 mid-send
        claimer.wait()
        with psycopg.connect(pg_conninfo) as other:
            deadline = time.monotonic() + 60
            row = other.execute(CLAIM).fetchone()
            while row is None and time.monotonic() < deadline:
                other.rollback()
                time.sleep(0.05)
                row = other.execute(CLAIM).fetchone()
            assert row == (1, "<m0@test>")
    finally:
        if claimer.poll() is None:
            claimer.kill()
        claimer.wait()
        for stream in (claimer.stdin, claimer.stdout):
            if stream is not None:
                stream.close()


def test_vanished_claimer_row_comes_back_after_idle_timeout(test_network: TestNetwork) -> None:
    with running_server(listen=test_network.address, port=free_port(),
                        clients=str(test_network.subnet)) as server:
        database = server.create_database()
        make_outbox(server.conninfo(database), 1)
        machine = test_network.machine()
        claimer = machine.python(
            "-c",
            "import psycopg, sys\n"
            "conn = psycopg.connect(sys.argv[1])\n"
            "conn.execute(\"SET idle_in_transaction_session_timeout = '2s'\")\n"
            f"print(conn.execute('''{CLAIM}''').fetchone()[0], flush=True)\n"
            "sys.stdin.read()\n",
            server.tcp_conninfo(database),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert claimer.stdout is not None
        assert claimer.stdout.readline().strip() == "1"
        with psycopg.connect(server.conninfo(database)) as other:
            assert other.execute(CLAIM).fetchone() is None
            other.rollback()
            machine.disappear()  # no FIN, no RST: the server only sees silence
            vanished_at = time.monotonic()
            deadline = vanished_at + 60
            row = other.execute(CLAIM).fetchone()
            while row is None and time.monotonic() < deadline:
                other.rollback()
                time.sleep(0.1)
                row = other.execute(CLAIM).fetchone()
            assert row == (1, "<m0@test>")
            print(f"vanished claimer: row claimable again after "
                  f"{time.monotonic() - vanished_at:.1f}s (idle_in_transaction_session_timeout 2s)")
        assert claimer.poll() is None  # the cut-off process itself never noticed
