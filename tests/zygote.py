"""Start ``newswatch`` processes in a fraction of a second: a process that has imported what
``newswatch crawl`` and ``newswatch run`` import, once, and forks a fresh process for each
command a test runs (the way Android's zygote or multiprocessing's forkserver do).

A test's ``newswatch crawl`` spends about a second of CPU importing Scrapy, Twisted,
trafilatura and the project before it does anything; the suite starts a few hundred of them.
A process forked from here is still a process of its own, as the command a user types is: its
own pid, working directory, environment, standard streams, signal handlers, exit code, kill -9.
What it skips is the interpreter start-up and the imports, which tests/test_imports.py and the
tests that run the console script itself still exercise.

Protocol, one Unix-socket connection per command: the test sends one JSON line
``{"argv", "cwd", "env", "stdout", "stderr"}`` (paths of files for the two streams; and
``"netns"``, a network namespace of tests/netns.py to run the command in, if any); the
zygote forks a watcher, which forks the command and answers with two lines: the command's pid,
then, when it ends, its return code as :mod:`subprocess` reports it (negative: killed by that
signal) and the CPU seconds it used (with its own children).

Run as ``python tests/zygote.py SOCKET`` with the environment of the tests' subprocesses
(``conftest.subprocess_env``: the loopback-only guard is on ``PYTHONPATH``)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys

#: What a crawl and a daemon import, heaviest first (each pulls in its dependencies). Nothing
#: here may install Twisted's reactor: the command installs the asyncio reactor itself.
PRELOAD = (
    "scrapy.crawler",
    "scrapy.http",
    "scrapy.spiders",
    "twisted.internet.asyncioreactor",
    "trafilatura",
    "lxml.html",
    "feedparser",
    "sqlite_utils",
    "jinja2",
    "apscheduler.schedulers.base",  # not .twisted: it imports the reactor
    "apscheduler.schedulers.asyncio",
    "newswatch.cli",
    "newswatch.app",
    "scheduler.daemon",
    "scheduler.pipeline",
    "crawler.run",
    "crawler.spider",
    "crawler.extract",
    "crawler.workers",
    "crawler.queues",
    "storage.store",
    # What Scrapy loads by name when a crawl starts (crawler/settings.py lists them).
    "scrapy.statscollectors",
    "scrapy.logformatter",
    "scrapy.extensions.corestats",
    "scrapy.extensions.logcount",
    "scrapy.core.downloader",
    "scrapy.core.downloader.handlers.http11",
    "scrapy.downloadermiddlewares.offsite",
    "scrapy.downloadermiddlewares.robotstxt",
    "scrapy.downloadermiddlewares.httpauth",
    "scrapy.downloadermiddlewares.downloadtimeout",
    "scrapy.downloadermiddlewares.defaultheaders",
    "scrapy.downloadermiddlewares.useragent",
    "scrapy.downloadermiddlewares.retry",
    "scrapy.downloadermiddlewares.redirect",
    "scrapy.downloadermiddlewares.httpcompression",
    "scrapy.downloadermiddlewares.httpproxy",
    "scrapy.downloadermiddlewares.stats",
    "scrapy.spidermiddlewares.start",
    "scrapy.spidermiddlewares.httperror",
    "scrapy.spidermiddlewares.referer",
    "scrapy.spidermiddlewares.urllength",
    "scrapy.spidermiddlewares.depth",
    "scrapy.spidermiddlewares.metacopy",
    "scrapy.robotstxt",
    "scrapy.dupefilters",
    "scrapy.squeues",
    "scrapy.pqueues",
    "twisted.web.client",
)


def preload() -> None:
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional part missing: the command imports it (or fails) itself
            continue
    if "twisted.internet.reactor" in sys.modules:
        raise SystemExit("zygote: a preloaded module installed Twisted's reactor")


def _exit_code(exc: BaseException) -> int:
    """The exit status the interpreter would give for ``exc`` ending the program."""
    if isinstance(exc, SystemExit):
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code & 0xFF
        print(code, file=sys.stderr)
        return 1
    sys.excepthook(type(exc), exc, exc.__traceback__)
    return 1


def enter_network_namespace(name: str) -> None:
    """Move this (single-threaded) process into the network namespace ``ip netns`` calls
    ``name``: a test machine of tests/netns.py, as ``ip netns exec NAME`` would run it."""
    import ctypes

    clone_newnet = 0x40000000
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/var/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, clone_newnet) != 0:
            raise OSError(ctypes.get_errno(), f"setns into {name}")
    finally:
        os.close(fd)


def run_command(request: dict[str, object]) -> None:
    """In the forked child: become ``python -m newswatch ARGV`` and never return."""
    code = 1
    try:
        if request.get("netns"):
            enter_network_namespace(str(request["netns"]))
        os.chdir(str(request["cwd"]))
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in dict(request["env"]).items()})  # type: ignore[call-overload]
        import time

        time.tzset()
        import sitecustomize  # the loopback guard: its allowed test hosts come from the env

        sitecustomize._allow_from_environment()
        stdin = os.open(os.devnull, os.O_RDONLY)
        os.dup2(stdin, 0)
        out = os.open(str(request["stdout"]), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        err = (out if request["stderr"] == request["stdout"]
               else os.open(str(request["stderr"]), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644))
        os.dup2(out, 1)
        os.dup2(err, 2)
        import runpy

        sys.path[0] = os.getcwd()  # as ``python -m`` has it (here: this file's folder)

        sys.argv = ["newswatch", *[str(a) for a in request["argv"]]]  # type: ignore[attr-defined]
        try:
            runpy.run_module("newswatch", run_name="__main__", alter_sys=True)
            code = 0
        except KeyboardInterrupt:
            # As the interpreter does: end by the signal itself.
            sys.stdout.flush()
            sys.stderr.flush()
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        except BaseException as exc:  # the program's end, as Python reports it
            code = _exit_code(exc)
        # The interpreter's own shutdown: non-daemon threads joined, then atexit handlers.
        import atexit
        import threading

        threading._shutdown()  # type: ignore[attr-defined]
        atexit._run_exitfuncs()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def watch(conn: socket.socket, request: dict[str, object]) -> None:
    """In the watcher: fork the command, report its pid and then its return code. The
    watcher is the subreaper of what the command leaves behind (a page worker outliving a
    killed crawl), and waits for it: so the CPU of the whole tree is counted where a
    subprocess's would be, in the test process's children."""
    import ctypes

    pr_set_child_subreaper = 36
    ctypes.CDLL(None).prctl(pr_set_child_subreaper, 1)
    pid = os.fork()
    if pid == 0:
        conn.close()
        run_command(request)
    try:
        conn.sendall(f"{pid}\n".encode())
        _, status, usage = os.wait4(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        conn.sendall(f"{code} {usage.ru_utime + usage.ru_stime:.3f}\n".encode())
        conn.close()
        with contextlib.suppress(ChildProcessError):
            while True:
                os.wait()
    finally:
        os._exit(0)


def serve(path: str) -> None:
    parent = os.getppid()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    listener.settimeout(0.5)
    print("ready", flush=True)
    while os.getppid() == parent:  # the test process is gone: so is its zygote
        # Reap the watchers that ended (waited for, not ignored: their CPU time, and their
        # commands', then counts in this process's children, as a subprocess's would).
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        conn.settimeout(None)
        with conn:
            data = b""
            while not data.endswith(b"\n"):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            if not data.endswith(b"\n"):
                continue
            request = json.loads(data)
            if os.fork() == 0:
                listener.close()
                watch(conn, request)


if __name__ == "__main__":
    preload()
    serve(sys.argv[1])
