"""Shared fixtures: a local news site, a local SMTP server, a config writer and a runner for
the ``newswatch`` command — all on 127.0.0.1.

Network isolation: pytest-socket (``--allow-hosts`` in pyproject.toml) refuses non-loopback
connections in this process; the guard below also covers ``connect_ex`` (used by Twisted),
and every newswatch subprocess gets ``tests/netguard`` on its PYTHONPATH, whose
sitecustomize refuses them there.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings
from mailserver import MailServer
from netns import test_network  # noqa: F401  (fixture: test machines, tests/netns.py)
from newssite import NewsSite
from pgserver import pg_conninfo, pg_url, postgres  # noqa: F401  (fixtures: a real PostgreSQL)

NETGUARD = Path(__file__).parent / "netguard"
ROOT = Path(__file__).parent.parent

# Timing must not decide a test: a loaded machine (CI, coverage, parallel runs) is slow, so
# hypothesis gets no per-example deadline anywhere.
hypothesis_settings.register_profile("newswatch", deadline=None)
hypothesis_settings.load_profile("newswatch")

#: ``NEWSWATCH_THOROUGH=1``: the property tests try every example they name (several thousand
#: in all, about a minute of CPU more); the normal run tries a quarter of them (at least 50
#: each), enough to pass through every branch the full number reaches (coverage.py says the
#: same with either).
THOROUGH = os.environ.get("NEWSWATCH_THOROUGH", "") not in ("", "0")


def examples(full: int) -> int:
    """How many examples a property test that names ``full`` tries in this run."""
    return full if THOROUGH else min(full, max(50, full // 4))

sys.path.insert(0, str(NETGUARD))
import sitecustomize  # noqa: E402,F401  (installs the loopback-only guard in this process)

sys.path.remove(str(NETGUARD))


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: two workers per core. About half of the suite's time is waiting (for
    a crawl subprocess, a server, a daemon's tick), which a second worker per core fills."""
    return 2 * (os.cpu_count() or 1)


#: The project's packages: compiled once per run, below.
PACKAGES = (
    "newswatch", "crawler", "storage", "watchlist", "alerts", "scheduler", "benchmarks", "tests"
)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the project's modules to ``__pycache__`` once, in the process that starts the
    run. An editable install leaves them uncompiled, and where ``PYTHONDONTWRITEBYTECODE``
    is set (as in many container images) every process the tests start would compile them
    again from source (all of them: about 0.2 s of CPU)."""
    if hasattr(session.config, "workerinput"):  # an xdist worker: its controller did it
        return
    import compileall

    for package in PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=2, workers=1)


@pytest.fixture
def site() -> Iterator[NewsSite]:
    """A realistic news site on 127.0.0.1 (fresh for each test)."""
    with NewsSite() as s:
        yield s


@pytest.fixture
def mail() -> Iterator[MailServer]:
    """A real SMTP server on 127.0.0.1 (fresh for each test)."""
    server = MailServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for newswatch subprocesses: loopback-only guard, no inherited config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_")}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(NETGUARD), str(ROOT), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


#: Commands that need a process of their own: a crawl runs Scrapy's reactor, which cannot be
#: started twice in one process, and ``run`` is the daemon. Every other command runs in the
#: test process (click's CliRunner): the same code, without a second of interpreter start-up.
SUBPROCESS_COMMANDS = frozenset({"crawl", "run"})


#: CPU seconds used so far by the commands this test process had the zygote fork (ended ones).
forked_cpu = 0.0


class ForkedProcess:
    """A ``newswatch`` process forked by the zygote (tests/zygote.py), driven like a
    :class:`subprocess.Popen`: pid, poll, wait, signals, return code."""

    def __init__(self, conn: socket.socket, args: list[str]) -> None:
        self.args = args
        self.returncode: int | None = None
        self._conn = conn
        self._buffer = b""
        self._lock = threading.Lock()  # poll() from one thread, wait() from another
        line = self._line(timeout=60)
        if line is None:
            raise RuntimeError("the zygote did not start the command")
        self.pid = int(line)

    def _line(self, timeout: float | None) -> str | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self._conn], [], [], left)
            if not ready:
                return None
            chunk = self._conn.recv(4096)
            if not chunk:
                raise RuntimeError("the zygote's watcher went away")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode()

    def poll(self) -> int | None:
        with self._lock:
            if self.returncode is None:
                line = self._line(timeout=0)
                if line is not None:
                    self._ended(line)
            return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        # In short slices, so that another thread may poll meanwhile (as with Popen).
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                if self.returncode is not None:
                    return self.returncode
                left = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
                line = self._line(max(0.0, left))
                if line is not None:
                    return self._ended(line)
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)

    def _ended(self, line: str) -> int:
        global forked_cpu
        code, cpu = line.split()
        self.returncode = int(code)
        forked_cpu += float(cpu)
        self._conn.close()
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Zygote:
    """This test process's zygote: forks ``newswatch`` commands with their imports done."""

    def __init__(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="nwz-"))
        self.socket = self._dir / "zygote.sock"
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).parent / "zygote.py"), str(self.socket)],
            env=subprocess_env(), stdout=subprocess.PIPE, text=True,
        )
        assert self.process.stdout is not None
        ready = self.process.stdout.readline().strip()
        self.process.stdout.close()
        if ready != "ready":
            raise RuntimeError("the zygote did not start")

    def spawn(self, argv: list[str], cwd: Path, env: dict[str, str],
              stdout: Path, stderr: Path, netns: str | None = None) -> ForkedProcess:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(str(self.socket))
        request = {"argv": argv, "cwd": str(cwd), "env": env,
                   "stdout": str(stdout), "stderr": str(stderr), "netns": netns}
        conn.sendall(json.dumps(request).encode() + b"\n")
        return ForkedProcess(conn, [sys.executable, "-m", "newswatch", *argv])

    def close(self) -> None:
        self.process.terminate()
        self.process.wait()
        shutil.rmtree(self._dir, ignore_errors=True)


_zygote: Zygote | None = None

#: A ``newswatch`` process a test started: forked by the zygote, or started from scratch.
Process = ForkedProcess | subprocess.Popen[str]


def newswatch_process(argv: list[str], cwd: Path, env: dict[str, str], stdout: Path,
                      stderr: Path, netns: str | None = None) -> Process:
    """Start ``python -m newswatch ARGV`` writing to ``stdout`` and ``stderr`` (files), in
    the network namespace ``netns`` if given: forked from the zygote, or started from scratch
    when ``NEWSWATCH_TEST_ZYGOTE=0``."""
    global _zygote
    if os.environ.get("NEWSWATCH_TEST_ZYGOTE", "1") == "0":
        prefix = ["ip", "netns", "exec", netns] if netns else []
        with stdout.open("a") as out, stderr.open("a") as err:
            return subprocess.Popen([*prefix, sys.executable, "-m", "newswatch", *argv],
                                    cwd=cwd, env=env,
                                    stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=out if stderr == stdout else err, text=True)
    if _zygote is None or _zygote.process.poll() is not None:
        _zygote = Zygote()
        atexit.register(_zygote.close)
    return _zygote.spawn(argv, cwd, env, stdout, stderr, netns)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def run_newswatch(argv: list[str], cwd: Path, env: dict[str, str],
                  timeout: float) -> subprocess.CompletedProcess[str]:
    """``newswatch ARGV`` in a process of its own, to completion (as :func:`subprocess.run`
    with ``capture_output=True, text=True``)."""
    streams = Path(tempfile.mkdtemp(prefix="nwout-"))
    out, err = streams / "stdout", streams / "stderr"
    try:
        process = newswatch_process(argv, cwd, env, out, err)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        return subprocess.CompletedProcess(
            [sys.executable, "-m", "newswatch", *argv], code, _read(out), _read(err))
    finally:
        shutil.rmtree(streams, ignore_errors=True)


def run_in_process(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``newswatch ARGV`` in this process, as a subprocess would have run it (working
    directory, environment without inherited NEWSWATCH_ variables, exit code, both streams).
    An exception that the command did not turn into an exit code fails the test."""
    from click.testing import CliRunner

    from newswatch.cli import cli

    environment: dict[str, str | None] = {k: None for k in os.environ if k.startswith("NEWSWATCH_")}
    environment.update(env)
    before = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, argv, obj={}, env=environment, catch_exceptions=True)
    finally:
        os.chdir(before)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(
        ["newswatch", *argv], result.exit_code, result.stdout, result.stderr
    )


class Workdir:
    """A temporary directory holding a config file, its database and mbox."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.config = path / "newswatch.toml"
        self.database = path / "newswatch.db"
        self.database_url: str | None = None  # a PostgreSQL database instead of the file
        #: ``crawl.workers`` of the configs written here. Extraction runs in the crawl's own
        #: process (0), unless a test is marked ``page_workers``: then the default, worker
        #: processes, which cost their start-up (a fresh interpreter importing trafilatura,
        #: over a second of CPU) in every crawl.
        self.page_workers: int | None = 0

    def write_config(
        self,
        *,
        sources: list[str | dict[str, Any]] = (),  # type: ignore[assignment]
        topics: list[dict[str, Any]] = (),  # type: ignore[assignment]
        smtp: MailServer | dict[str, Any] | None = None,
        crawl: dict[str, Any] | None = None,
        alerts: dict[str, Any] | None = None,
        extra: str = "",
    ) -> Path:
        """Write a config for the local servers, with fast test timings."""
        crawl_settings = {"delay": "0s", "timeout": "5s", "retries": 0, "every": "1h"}
        if self.page_workers is not None:
            crawl_settings["workers"] = self.page_workers
        crawl_settings.update(crawl or {})
        alert_settings: dict[str, Any] = {"retry_base": "1s", "retry_max": "2s"}
        alert_settings.update(alerts or {})
        lines = [
            "[database]",
            f'url = "{self.database_url}"' if self.database_url else f'path = "{self.database}"',
            "[crawl]", *[f"{k} = {_toml(v)}" for k, v in crawl_settings.items()],
            "[alerts]", *[f"{k} = {_toml(v)}" for k, v in alert_settings.items()],
            "[daemon]", 'tick = "1s"',
        ]
        if isinstance(smtp, MailServer):
            lines += ["[smtp]", f'host = "{smtp.host}"', f"port = {smtp.port}",
                      'from = "newswatch@test.example"', 'timeout = "5s"']
        elif smtp:
            lines += ["[smtp]"] + [f"{k} = {_toml(v)}" for k, v in smtp.items()]
        for src in sources:
            spec = {"url": src} if isinstance(src, str) else src
            lines += ["[[sources]]"] + [f"{k} = {_toml(v)}" for k, v in spec.items()]
        for topic in topics:
            lines += ["[[topics]]"] + [f"{k} = {_toml(v)}" for k, v in topic.items()]
        text = "\n".join(lines) + "\n" + textwrap.dedent(extra)
        self.config.write_text(text, encoding="utf-8")
        return self.config

    def make_database(self) -> None:
        """Create the (empty) database, as a first crawl or `sources add` does: read commands
        (`sources list`) create none, and sync the config file into one that exists."""
        from storage import open_store

        open_store(self.database_url or self.database).close()

    def newswatch(self, *args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
        """Run ``newswatch --config <config> ARGS`` to completion: in this process through
        click's test runner, or in a subprocess for the commands that need one."""
        argv = ["--config", str(self.config), *args]
        if SUBPROCESS_COMMANDS & set(args):
            return run_newswatch(argv, self.path, subprocess_env(**env), timeout)
        return run_in_process(argv, self.path, env)

    def crawl_till_gone(self) -> subprocess.CompletedProcess[str]:
        """``newswatch crawl`` twice, the sources answering 410 Gone at the first taken, before
        the second, for answering so since crawler.spider.GONE_AFTER ago, at all but one of
        GONE_POLLS polls: their 410 at the second deactivates them. The second's result."""
        import sqlite3
        from datetime import UTC, datetime

        from crawler.spider import GONE_AFTER, GONE_POLLS

        first = self.newswatch("crawl")
        assert first.returncode == 0, first.stderr
        since = (datetime.now(UTC) - GONE_AFTER).isoformat(timespec="seconds")
        with contextlib.closing(sqlite3.connect(self.database)) as db, db:
            db.execute("UPDATE sources SET gone_since = ?, gone_polls = ? WHERE gone_polls > 0",
                       [since, GONE_POLLS - 1])
        return self.newswatch("crawl")

    def start_daemon(self, **env: str) -> Daemon:
        """Start ``newswatch run`` in the background."""
        return Daemon(self, env)


class Daemon:
    """A ``newswatch run`` subprocess, with its log captured to a file."""

    def __init__(self, workdir: Workdir, env: dict[str, str]) -> None:
        self.log = workdir.path / f"daemon-{time.monotonic_ns()}.log"
        self._log = self.log.open("w", encoding="utf-8")
        self.proc = newswatch_process(
            ["--config", str(workdir.config), "run"], workdir.path, subprocess_env(**env),
            self.log, self.log,
        )

    def output(self) -> str:
        """What the daemon logged so far."""
        return self.log.read_text(encoding="utf-8")

    def wait_for_log(self, needle: str, timeout: float = 30) -> None:
        """Block until the daemon logged ``needle``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.output():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"daemon never logged {needle!r}:\n{self.output()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Send ``sig`` and wait for the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._log.close()
        return code


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


@pytest.fixture
def workdir(request: pytest.FixtureRequest, tmp_path: Path) -> Workdir:
    """A temporary working directory for one newswatch installation."""
    workdir = Workdir(tmp_path)
    if request.node.get_closest_marker("page_workers") is not None:
        workdir.page_workers = None
    return workdir


@pytest.fixture(params=("sqlite", "postgresql"))
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Where a test's store is, once per backend: an SQLite file, and a fresh PostgreSQL
    database (``storage.open_store`` opens either)."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return tmp_path / "newswatch.db"


@pytest.fixture
def wait() -> Callable[..., Any]:
    """Poll a condition until it holds (bounded), returning its last value."""

    def _wait(condition: Callable[[], Any], timeout: float = 30, interval: float = 0.1) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value or time.monotonic() > deadline:
                return value
            time.sleep(interval)

    return _wait


#: ``NEWSWATCH_TEST_CPU=FILE``: each test appends a line to FILE: CPU seconds of this process,
#: of its finished subprocesses, of the commands the zygote forked for it, and the test's id
#: (``sort -n -k4`` of the sum finds where the suite's CPU goes; docs/testing.md).
_CPU_LOG = os.environ.get("NEWSWATCH_TEST_CPU")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    if not _CPU_LOG:
        yield
        return
    import resource

    def cpu(who: int) -> float:
        usage = resource.getrusage(who)
        return usage.ru_utime + usage.ru_stime

    before = (cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN), forked_cpu)
    yield
    own, children, forked = (cpu(resource.RUSAGE_SELF) - before[0],
                             cpu(resource.RUSAGE_CHILDREN) - before[1], forked_cpu - before[2])
    with open(_CPU_LOG, "a", encoding="utf-8") as log:
        log.write(f"{own:.2f} {children:.2f} {forked:.2f} {own + children + forked:.2f} "
                  f"{item.nodeid}\n")
