"""A real PostgreSQL for the tests (pytest plugin, loaded by conftest.py).

``postgres`` (session): one PostgreSQL server from the ``postgresql`` Debian package
(``/usr/lib/postgresql/N/bin``, 15 preferred), in a temporary directory, listening on a Unix
socket in that directory only (``listen_addresses=''``: no TCP port, so nothing can reach it
from the network and parallel runs never clash). initdb and postgres refuse to run as root, so
when the tests run as root they run as the ``postgres`` user, who owns the directory.

``pg_conninfo`` (per test): the libpq connection string of a fresh, empty database on that
server, dropped after the test: tests never see each other's rows.

Skipped, with the reason, only where PostgreSQL cannot be started here: its binaries are
missing, psycopg is not installed, or there is no unprivileged user to run it as. Under CI
(``CI`` set, as ``.ci/run`` runs) those are failures: CI installs everything and must run
these tests, never skip them.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

#: Preferred major version (the one these machines ship); any other installed one will do.
PREFERRED_MAJOR = "15"
#: Unprivileged account that owns and runs the server when the tests run as root.
SERVER_USER = "postgres"


def find_bindir() -> Path | None:
    """The ``bin`` directory of an installed PostgreSQL server (15 first), or None."""
    found = sorted(Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    for bindir in found:
        if bindir.parent.name == PREFERRED_MAJOR:
            return bindir
    return found[-1] if found else None


def unavailable() -> str | None:
    """Why a PostgreSQL server cannot be started on this machine, or None if it can."""
    try:
        import psycopg  # noqa: F401  (the client every PostgreSQL test uses)
    except ImportError:
        return "psycopg is not installed (pip install -e '.[test]' brings it)"
    if find_bindir() is None:
        return (
            "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb); "
            "install the Debian package `postgresql` (.ci/run does)"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root and there is no {SERVER_USER!r} user to run PostgreSQL as"
    return None


class PostgresServer:
    """One throw-away PostgreSQL server on a Unix socket in its own temporary directory."""

    def __init__(
        self, bindir: Path, *, listen: str = "", port: int = 5432, clients: str = ""
    ) -> None:
        """``listen``: an address to accept TCP connections on as well (the test network's,
        for machines in network namespaces: tests/netns.py), from the ``clients`` network
        only; by default none: the Unix socket alone."""
        self.bindir = bindir
        self.listen = listen
        self.port = port
        self.clients = clients
        # Under /tmp, not pytest's tmp_path: the server user must be able to enter it, and a
        # Unix socket path must stay under ~100 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="nwpg-", dir="/tmp"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        #: Directory of the server's Unix socket: libpq's ``host`` for it.
        self.socket_dir = self.root
        self._names = itertools.count(1)
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam(SERVER_USER)
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._as_user = (
                ["runuser", "-u", SERVER_USER, "--"] if shutil.which("runuser") else
                ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}",
                 "--init-groups", "--"]
            )
        os.chmod(self.root, 0o755)  # the socket must be reachable by the tests' own user

    def _run(self, *args: str, timeout: float = 120) -> None:
        command = [*self._as_user, *args]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False,
            cwd=self.root,
        )
        if result.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(
                f"{' '.join(args[:2])} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}{log[-3000:]}"
            )

    def initdb(self) -> None:
        """Create the cluster: trust authentication (only the socket reaches it), UTF-8."""
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust",
            "-U", SERVER_USER, "-E", "UTF8", "--locale=C", "--no-sync",
        )
        if self.clients:
            hba = self.data / "pg_hba.conf"
            with hba.open("a", encoding="utf-8") as file:
                file.write(f"host all all {self.clients} trust\n")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-c listen_addresses='{self.listen}' -p {self.port} -k {self.socket_dir} "
            # No flush to the disk (the machine does not crash under a test), but every commit
            # still reaches the WAL before it returns (synchronous_commit stays on): a server
            # killed mid-test (``stop("immediate")``) keeps every committed row.
            "-c fsync=off -c full_page_writes=off"
        )
        self._run(
            str(self.bindir / "pg_ctl"), "start", "-D", str(self.data), "-l", str(self.log),
            "-w", "-t", "60", "-o", options,
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: roll back sessions; ``immediate``: like a crash)."""
        self._run(str(self.bindir / "pg_ctl"), "stop", "-D", str(self.data), "-m", mode,
                  "-w", "-t", "60")

    def restart(self, mode: str = "fast") -> None:
        """Stop and start again, as an operator (or a crash and its recovery) would."""
        self.stop(mode)
        self.start()

    def conninfo(self, dbname: str = "postgres") -> str:
        """libpq connection string for ``dbname`` on this server."""
        return f"host={self.socket_dir} port={self.port} user={SERVER_USER} dbname={dbname}"

    def url(self, dbname: str = "postgres") -> str:
        """``postgresql://`` URL of ``dbname`` on this server (its Unix socket), as
        ``[database] url`` takes it."""
        return f"postgresql://{SERVER_USER}@/{dbname}?host={self.socket_dir}&port={self.port}"

    def tcp_conninfo(self, dbname: str = "postgres") -> str:
        """libpq connection string for ``dbname`` over TCP on the ``listen`` address."""
        if not self.listen:
            raise RuntimeError("this server listens on its Unix socket only")
        return f"host={self.listen} port={self.port} user={SERVER_USER} dbname={dbname}"

    def create_database(self) -> str:
        """A new empty database; its name."""
        import psycopg

        name = f"test_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return name

    def drop_database(self, name: str) -> None:
        """Drop ``name``, closing whatever connections a test left open to it."""
        import psycopg

        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def remove(self) -> None:
        """Stop the server if it runs and delete its directory."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError):  # already gone: the directory still goes
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def _unavailable_or_fail() -> None:
    reason = unavailable()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests cannot run in CI: {reason}")
    pytest.skip(reason)


@contextlib.contextmanager
def running_server(**options: Any) -> Iterator[PostgresServer]:
    """A PostgreSQL server of its own (options: see ``PostgresServer``), removed after; the
    test is skipped where none can be started (failed under CI)."""
    _unavailable_or_fail()
    bindir = find_bindir()
    assert bindir is not None
    server = PostgresServer(bindir, **options)
    try:
        server.initdb()
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A running PostgreSQL server for the whole test session, removed after it."""
    with running_server() as server:
        yield server


@pytest.fixture
def pg_conninfo(postgres: PostgresServer) -> Iterator[str]:
    """Connection string of a fresh empty database, dropped after the test."""
    name = postgres.create_database()
    try:
        yield postgres.conninfo(name)
    finally:
        postgres.drop_database(name)


@pytest.fixture
def pg_url(postgres: PostgresServer) -> Iterator[str]:
    """``postgresql://`` URL of a fresh empty database, dropped after the test."""
    name = postgres.create_database()
    try:
        yield postgres.url(name)
    finally:
        postgres.drop_database(name)
