"""The PostgreSQL the tests start (tests/pgserver.py): real, private to the run, one
database per test, and it survives a restart."""

from __future__ import annotations

import pytest
from pgserver import PostgresServer

psycopg = pytest.importorskip("psycopg", reason="pip install -e '.[test]' brings it")


def test_server_answers_on_its_unix_socket_only(postgres: PostgresServer, pg_conninfo: str) -> None:
    with psycopg.connect(pg_conninfo) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()
        listen = conn.execute("SHOW listen_addresses").fetchone()
    assert version is not None and int(version[0]) >= 150000
    assert listen == ("",)  # no TCP at all
    assert str(postgres.socket_dir) in pg_conninfo


def test_each_test_gets_its_own_empty_database(pg_conninfo: str, postgres: PostgresServer) -> None:
    with psycopg.connect(pg_conninfo) as conn:
        conn.execute("CREATE TABLE t (x int)")
        conn.execute("INSERT INTO t VALUES (1)")
    other = postgres.create_database()
    try:
        with psycopg.connect(postgres.conninfo(other)) as conn:
            tables = conn.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            ).fetchone()
        assert tables == (0,)
    finally:
        postgres.drop_database(other)


def test_committed_rows_survive_a_restart(pg_conninfo: str, postgres: PostgresServer) -> None:
    with psycopg.connect(pg_conninfo) as conn:
        conn.execute("CREATE TABLE t (x int)")
        conn.execute("INSERT INTO t VALUES (42)")
    held = psycopg.connect(pg_conninfo)
    postgres.restart("immediate")  # a crash, then recovery
    with pytest.raises(psycopg.OperationalError):
        held.execute("SELECT 1")  # the session did not survive: clients must reconnect
    held.close()
    with psycopg.connect(pg_conninfo) as conn:
        assert conn.execute("SELECT x FROM t").fetchall() == [(42,)]
