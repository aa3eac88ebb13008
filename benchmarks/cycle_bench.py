"""Crawl-cycle benchmark: cold and warm cycles, alert latency, and a soak of the daemon.

    python -m benchmarks.cycle_bench          # 1,000 sites x 30 articles, a site an address
    python -m benchmarks.cycle_bench --quick  # 200 sites x 10 articles
    python -m benchmarks.cycle_bench --feeds 100 --entries 30 --skip latency,soak \
        --baseline-budget 0 --one-host-feeds 0
    python -m benchmarks.cycle_bench --workers 1,2,4 --database postgresql://USER@HOST/DB
    python -m benchmarks.cycle_bench --workers 1,2,4 --database postgresql  # its own server

With ``--database``, the benchmark measures crawl throughput per number of crawler processes
on PostgreSQL (``newswatch run --role crawler``, one crawl job at a time each unless
``--jobs``) next to one ``newswatch crawl`` on SQLite, 100 feeds x 10 entries by default with
every answer 0.1 s late, instead of what follows;
``--workers`` is then the comma list of crawler process counts (benchmarks/cluster_bench.py).
Without it, ``--workers N`` is newswatch's ``crawl.workers`` (page processes), as before.

Everything runs on the loopback network: a local news site (``benchmarks/cycle_site.py``,
built on ``tests/newssite.py``) listening on many addresses (127.0.0.1, 127.0.0.2, ...), each
one a host of its own for the crawler's per-host politeness, and a local SMTP server
(``tests/mailserver.py``, aiosmtpd). newswatch runs as ``python -m newswatch --config FILE
crawl|run`` subprocesses, with ``tests/netguard`` on PYTHONPATH so that they cannot reach
beyond the loopback network.

1. Cold cycle: ``newswatch crawl`` over N feeds x M entries spread over H hosts (by default
   one per feed: every site on its own 127.0.x.y), each entry an article page on its feed's
   host. Pages are of realistic weight by default (``--pages heavy``,
   ``benchmarks/heavy_pages.py``: a real article text inside 50+ KB of chrome). Measured:
   wall time, articles/s, CPU per article by stage (the ``cpu:`` line of ``newswatch crawl``:
   fetch, parse, extract — in the page workers —, store, stories, templates, match, compose,
   record), the time from the start of the cycle to the first alert the SMTP server
   received, the peak memory of the whole process tree (RSS and PSS, sampled), bytes sent by
   the site, and the per-host politeness the site saw. Against: the floor measured in the
   same run (``benchmarks/cycle_floor.py``: downloading every page, plus trafilatura's
   default extraction of a sample of them, per page, times the pages, divided by the
   cores; the extraction timed before the cycle and after it, the faster of the two kept
   (the machine's speed drifts over minutes), and, by ``benchmarks/cycle_sampler.py``,
   beside it: a page every 2 s, extracted by trafilatura's default and by newswatch's
   ``extract_article``, under the load the cycle's workers meet), and, on a time budget, a
   sequential ``feedparser.parse`` + ``urlopen`` + ``trafilatura.extract`` loop extrapolated
   to every article. The same cold cycle is also
   run on a fresh database with F feeds all on one host, to show what politeness costs there.
2. Warm cycle: ``newswatch crawl`` again, nothing changed: bytes should be < 5 % of the cold
   cycle's (one 304 per feed).
3. Latency: ``newswatch run`` with a few feeds at ``every = "1m"`` and the default
   ``daemon.tick = "30s"``; articles are published at moments spread evenly over one poll
   interval (so that their median is that of a random moment), and the time until
   their alert reaches the SMTP server is measured (target: median < 35 s).
4. Soak: ``newswatch run`` with ``every = "1s"``, ``tick = "1s"`` over 20 feeds that get new
   articles every few seconds, for 200 cycles; RSS and open file descriptors are sampled every
   10 cycles (targets: memory within 10 %, no fd growth).

Latency and soak run at the same time (two daemons, two sites) to keep the run short; both
are mostly waiting. ``--sequential`` runs them one after the other.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .corpus import generate_queries
from .cycle_site import (
    MAX_HOSTS,
    TESTS,
    BenchSite,
    MailServer,
    Politeness,
    StoryMaker,
    build_site,
    feed_name,
)

ROOT = Path(__file__).resolve().parent.parent
NETGUARD = TESTS / "netguard"
CPU_LINE = re.compile(r"^cpu: (.*)$", re.MULTILINE)
CYCLE_LINE = re.compile(r"\bcycle sources=(\d+) ok=(\d+) failed=(\d+) new_articles=(\d+)")

WARM_TARGET = 0.05
LATENCY_TARGET = 35.0
MEMORY_TARGET = 0.10


# --------------------------------------------------------------------------------------------
# Running newswatch
# --------------------------------------------------------------------------------------------


def subprocess_env() -> dict[str, str]:
    """Like tests/conftest.py: loopback-only guard, no inherited NEWSWATCH_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_")}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(NETGUARD), str(ROOT), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a valid TOML basic string


def write_config(
    directory: Path,
    *,
    sources: Sequence[str | dict[str, Any]],
    topics: Sequence[dict[str, Any]] = (),
    crawl: dict[str, Any] | None = None,
    daemon: dict[str, Any] | None = None,
    alerts: dict[str, Any] | None = None,
    smtp: MailServer | None = None,
    database: dict[str, Any] | None = None,
) -> Path:
    """A newswatch config in ``directory`` (database and mbox there too; ``database``: the
    ``[database]`` table instead, e.g. a PostgreSQL ``url``)."""
    sections: list[tuple[str, dict[str, Any]]] = [
        ("[database]", database or {"path": str(directory / "newswatch.db")}),
        ("[crawl]", crawl or {}),
        ("[daemon]", daemon or {}),
        ("[alerts]", alerts or {}),
    ]
    if smtp is not None:
        sections.append(("[smtp]", {"host": smtp.host, "port": smtp.port,
                                    "from": "newswatch@bench.test", "timeout": "10s"}))
    lines: list[str] = []
    for header, values in sections:
        if values:
            lines += [header, *[f"{k} = {_toml(v)}" for k, v in values.items()]]
    for src in sources:
        spec = {"url": src} if isinstance(src, str) else src
        lines += ["[[sources]]", *[f"{k} = {_toml(v)}" for k, v in spec.items()]]
    for topic in topics:
        lines += ["[[topics]]", *[f"{k} = {_toml(v)}" for k, v in topic.items()]]
    config = directory / "newswatch.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


@dataclass
class ProcessResult:
    returncode: int
    seconds: float
    max_rss_kib: int  # the process's own peak RSS (its VmHWM, see TreeSampler)
    output: str
    cpu_seconds: float  # user + system time of the subprocess (and of children it reaped)
    started: float = 0.0  # time.monotonic() when the subprocess was started
    tree_peak_rss_kib: int = 0  # the most the whole process tree held at once (RSS, summed)
    tree_peak_pss_kib: int = 0  # the same, shared pages divided among their processes
    tree_parts: str = ""  # the peaks of each part of the tree (TreeSampler.parts)
    idle_seconds: float | None = None  # the machine's idle core-seconds meanwhile (/proc/stat)


def idle_seconds() -> float | None:
    """The machine's idle core-seconds since boot (idle and iowait, /proc/stat); None where
    /proc cannot tell."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = stat.readline().split()
        return (int(fields[4]) + int(fields[5])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _tree(pid: int) -> list[int]:
    """``pid`` and every descendant of it (from /proc/PID/task/*/children)."""
    return [member for member, _ in _tree_parents(pid)]


def _tree_parents(pid: int) -> list[tuple[int, int | None]]:
    """``pid`` and every descendant of it, each with its parent (None for ``pid``)."""
    out: list[tuple[int, int | None]] = []
    todo: list[tuple[int, int | None]] = [(pid, None)]
    while todo:
        current, parent = todo.pop()
        out.append((current, parent))
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as fh:
                    todo.extend((int(c), current) for c in fh.read().split())
    return out


def _tree_memory(pid: int) -> tuple[int, int]:
    """RSS and PSS (KiB) of ``pid``'s whole process tree."""
    rss = pss = 0
    for _, (member_rss, member_pss) in _tree_members(pid).items():
        rss, pss = rss + member_rss, pss + member_pss
    return rss, pss


#: The parts of a crawl's process tree, as the sampler reports them.
ROLES = ("crawl", "fork server", "workers")


def _tree_members(pid: int) -> dict[str, tuple[int, int]]:
    """RSS and PSS (KiB) of each part of ``pid``'s process tree: ``pid`` itself ("crawl"),
    multiprocessing's fork server, and the rest ("workers", summed: the page workers, and
    multiprocessing's resource tracker, about 14 MiB RSS, 8 MiB PSS)."""
    parts = dict.fromkeys(ROLES, (0, 0))
    for member, parent in _tree_parents(pid):
        rss = pss = 0
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        role = "workers"
        if member == pid:
            role = "crawl"
        elif parent == pid:  # the fork server's children (forked) share its command line
            with contextlib.suppress(OSError):
                if b"forkserver" in Path(f"/proc/{member}/cmdline").read_bytes():
                    role = "fork server"
        old = parts[role]
        parts[role] = (old[0] + rss, old[1] + pss)
    return parts


class TreeSampler:
    """Samples a process tree's memory every ``every`` seconds; keeps the peaks (of the
    tree, and of each of its parts, see ROLES), and the root process's own high-water mark
    (VmHWM, read every ``every / HWM_READS`` seconds: it only misses what the process did in
    its last such interval).

    The root's peak is not ``wait4``'s ``ru_maxrss``: a child started by ``subprocess``
    (fork or vfork, then exec) begins as an image of its parent, and Linux records that
    image's high-water mark in the child's ``ru_maxrss`` at exec. So ``ru_maxrss`` of
    ``newswatch crawl`` was this benchmark's own peak (its web of sites: 383 MiB at 1,000 x
    30) whenever that was larger than the crawl's."""

    HWM_READS = 10

    def __init__(self, pid: int, every: float = 0.5) -> None:
        self.pid, self.every = pid, every
        self.peak_rss = self.peak_pss = 0
        self.part_peaks: dict[str, tuple[int, int]] = dict.fromkeys(ROLES, (0, 0))
        self.at_peak: dict[str, tuple[int, int]] = {}  # the parts when the tree's PSS peaked
        self.crawl_hwm = 0  # the root process's own high-water mark (VmHWM, KiB): its spikes
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        reads = 0
        while not self._stop.wait(self.every / self.HWM_READS):
            with contextlib.suppress(OSError, ValueError, IndexError):
                for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        self.crawl_hwm = max(self.crawl_hwm, int(line.split()[1]))
            reads += 1
            if reads % self.HWM_READS:
                continue
            parts = _tree_members(self.pid)
            rss = sum(r for r, _ in parts.values())
            pss = sum(p for _, p in parts.values())
            if pss > self.peak_pss:
                self.at_peak = parts
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            for role, (r, p) in parts.items():
                old = self.part_peaks[role]
                self.part_peaks[role] = (max(old[0], r), max(old[1], p))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def parts(self) -> str:
        """Each part's peak RSS / PSS (MiB), and the parts at the tree's peak."""
        def mib(pair: tuple[int, int]) -> str:
            return f"{pair[0] / 1024:.0f} / {pair[1] / 1024:.0f}"
        peaks = ", ".join(f"{role} {mib(v)}" for role, v in self.part_peaks.items())
        then = ", ".join(f"{role} {mib(v)}" for role, v in self.at_peak.items())
        return (f"peaks RSS / PSS MiB: {peaks}; at the tree's PSS peak: {then}; "
                f"crawl VmHWM {self.crawl_hwm / 1024:.0f} MiB")


def run_newswatch(config: Path, *args: str, timeout: float = 3600) -> ProcessResult:
    """Run ``newswatch --config CONFIG ARGS`` to completion; its peak RSS is its own
    high-water mark (VmHWM, sampled; ``ru_maxrss`` where /proc could not tell)."""
    log = config.parent / f"{args[0]}-{time.monotonic_ns()}.log"
    with log.open("w", encoding="utf-8") as out:
        start, started, idle = time.perf_counter(), time.monotonic(), idle_seconds()
        proc = subprocess.Popen(
            [sys.executable, "-m", "newswatch", "--config", str(config), *args],
            cwd=config.parent, env=subprocess_env(), stdout=out, stderr=subprocess.STDOUT,
        )
        sampler = TreeSampler(proc.pid)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            sampler.stop()
        seconds = time.perf_counter() - start
        idle_after = idle_seconds()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return ProcessResult(proc.returncode, seconds, sampler.crawl_hwm or usage.ru_maxrss,
                         log.read_text(encoding="utf-8"), usage.ru_utime + usage.ru_stime,
                         started, sampler.peak_rss, sampler.peak_pss, sampler.parts(),
                         None if idle is None or idle_after is None else idle_after - idle)


class Daemon:
    """A ``newswatch run`` subprocess with its log in a file."""

    def __init__(self, config: Path) -> None:
        self.log = config.parent / "daemon.log"
        self._out = self.log.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "newswatch", "--config", str(config), "run"],
            cwd=config.parent, env=subprocess_env(), stdout=self._out, stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def cycles(self) -> int:
        """Cycles that polled sources so far (the daemon's ``cycle sources=`` lines)."""
        return len(CYCLE_LINE.findall(self.output()))

    def wait_cycles(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.cycles() >= count:
                return True
            if self.proc.poll() is not None:
                raise RuntimeError(f"newswatch run exited:\n{self.output()[-3000:]}")
            time.sleep(0.05)
        return False

    def rss_kib(self) -> int:
        return _proc_status(self.proc.pid, "VmRSS")

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()
        finally:
            self._out.close()


def _proc_status(pid: int, key: str) -> int:
    """A ``kB`` field of /proc/PID/status, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


class TimedMailServer(MailServer):
    """MailServer that notes when each message arrived (monotonic clock) and for whom."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[tuple[float, list[str]]] = []

    def _receive(self, envelope: Any) -> str:
        arrived = time.monotonic()
        answer = super()._receive(envelope)
        with self._cond:
            self.arrivals.append((arrived, list(envelope.rcpt_tos)))
        return answer

    def arrival_for(self, rcpt: str) -> float | None:
        with self._cond:
            return next((t for t, rcpts in self.arrivals if rcpt in rcpts), None)


@contextlib.contextmanager
def _site(
    feeds: int, entries: int, seed: int, hosts: int = 1, *, heavy: bool = False
) -> Iterator[tuple[BenchSite, StoryMaker]]:
    site, maker = build_site(feeds, entries, seed, hosts, heavy=heavy)
    try:
        yield site, maker
    finally:
        site.stop()


@contextlib.contextmanager
def _mail() -> Iterator[TimedMailServer]:
    mail = TimedMailServer()
    mail.start()
    try:
        yield mail
    finally:
        mail.stop()


# --------------------------------------------------------------------------------------------
# 1 + 2: cold and warm cycles
# --------------------------------------------------------------------------------------------


@dataclass
class Cycle:
    seconds: float
    articles: int
    max_rss_mib: float
    bytes: int
    requests: dict[int, int]
    returncode: int
    summary: str
    politeness: Politeness
    cpu_seconds: float
    stages: dict[str, float] = field(default_factory=dict)  # CPU seconds by stage
    first_alert: float | None = None  # seconds from the start of the process
    first_alert_from_poll: float | None = None  # seconds from the first feed request
    tree_rss_mib: float = 0.0
    tree_pss_mib: float = 0.0
    tree_parts: str = ""
    cut: int = 0  # pages extracted from their site's learnt article element
    idle_seconds: float | None = None  # the machine's idle core-seconds while it ran

    @property
    def stage_cpu(self) -> float:
        """CPU seconds of every stage (the crawl process and its page workers)."""
        return sum(self.stages.values())


@dataclass
class Floor:
    """What this machine needs at least for the cycle's pages."""

    pages: int
    bytes: int
    download_seconds: float
    sampled: int
    extract_cpu_per_page: float  # the floor's: the faster of the timings before and after
    cores: int
    extract_cpu_before: float | None = None  # timed before the cycle
    extract_cpu_after: float | None = None  # timed after it

    @property
    def seconds(self) -> float:
        return self.download_seconds + self.pages * self.extract_cpu_per_page / self.cores


@dataclass
class Baseline:
    feeds: int
    articles: int
    seconds: float  # the whole process, with interpreter start and imports
    loop_seconds: float  # the loop alone
    bytes: int
    max_rss_mib: float
    extrapolated_seconds: float
    loop_cpu_seconds: float

    @property
    def rate(self) -> float:
        return self.articles / self.loop_seconds if self.loop_seconds else 0.0


def _stages(output: str) -> dict[str, float]:
    """The ``cpu:`` line of ``newswatch crawl``: CPU seconds by stage."""
    found = CPU_LINE.search(output)
    if not found:
        return {}
    return {name: float(value) for name, value in
            re.findall(r"([\w ]+?) ([\d.]+) s(?:, |$)", found.group(1))}


def _crawl_cycle(site: BenchSite, config: Path, mail: TimedMailServer | None = None) -> Cycle:
    site.reset_politeness()
    site.first_feed_request = None
    arrived = len(mail.arrivals) if mail is not None else 0
    before = site.counters()
    result = run_newswatch(config, "crawl")
    after = site.counters()
    if result.returncode != 0 and "polled" not in result.output:
        raise RuntimeError(
            f"newswatch crawl failed ({result.returncode}):\n{result.output[-3000:]}")
    match = re.search(r"(\d+) new article\(s\)", result.output)
    cut = re.search(r"(\d+) page\(s\) read from their site's learnt article element",
                    result.output)
    statuses = {k: v - before["statuses"].get(k, 0) for k, v in after["statuses"].items()}
    summary = " / ".join(
        line.strip() for line in result.output.splitlines()
        if line.startswith(("polled", "matched", "delivered", "newswatch:"))
    )
    if result.returncode != 0:  # e.g. delivery failed after the crawl: figures still count
        summary = f"exit code {result.returncode}: {summary}"
    first = None
    if mail is not None:
        with mail._cond:
            new = [t for t, _ in mail.arrivals[arrived:]]
        first = min(new) if new else None
    poll = site.first_feed_request
    return Cycle(result.seconds, int(match.group(1)) if match else 0, result.max_rss_kib / 1024,
                 after["bytes"] - before["bytes"], {k: v for k, v in statuses.items() if v},
                 result.returncode, summary, site.politeness(), result.cpu_seconds,
                 _stages(result.output),
                 None if first is None else first - result.started,
                 None if first is None or poll is None else first - poll,
                 result.tree_peak_rss_kib / 1024, result.tree_peak_pss_kib / 1024,
                 result.tree_parts, int(cut.group(1)) if cut else 0, result.idle_seconds)


def run_floor(
    site: BenchSite, feeds: int, sample: int, work: Path, *, sample_only: bool = False
) -> Floor:
    """benchmarks.cycle_floor in its own process: download every page (``sample_only``: the
    sampled ones), extract a sample."""
    urls = work / "floor-feeds.json"
    urls.write_text(json.dumps([site.feed_url(i) for i in range(feeds)]), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.cycle_floor", str(urls), "--sample", str(sample),
         *(["--sample-only"] if sample_only else [])],
        cwd=ROOT, env=subprocess_env(), capture_output=True, check=True, timeout=3600,
    ).stdout
    data = json.loads(out)
    return Floor(data["pages"], data["bytes"], data["download_seconds"], data["sampled"],
                 data["extract_cpu_per_page"], data["cores"])


@dataclass
class Beside:
    """The floor's extraction timed beside the cold cycle (benchmarks.cycle_sampler)."""

    sampled: int
    trafilatura_cpu_per_page: float
    newswatch_cpu_per_page: float


class Sampler:
    """benchmarks.cycle_sampler in its own process, ready when started; :meth:`stop` ends it."""

    def __init__(self, site: BenchSite, feeds: int, sample: int, work: Path) -> None:
        urls = work / "sampler-feeds.json"
        urls.write_text(json.dumps([site.feed_url(i) for i in range(feeds)]), encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.cycle_sampler", str(urls), "--sample",
             str(sample), "--every", str(SAMPLE_EVERY)],
            cwd=ROOT, env=subprocess_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            self.proc.kill()
            raise RuntimeError("the extraction sampler did not start")

    def stop(self) -> Beside:
        out, _ = self.proc.communicate(timeout=600)  # closes its standard input
        if self.proc.returncode != 0:
            raise RuntimeError("the extraction sampler failed")
        data = json.loads(out)
        return Beside(data["sampled"], data["trafilatura_cpu_per_page"],
                      data["newswatch_cpu_per_page"])


def run_baseline(site: BenchSite, feeds: int, entries: int, budget: float, work: Path) -> Baseline:
    """The sequential loop in its own process, on a budget; extrapolated to every article."""
    urls = work / "baseline-feeds.json"
    urls.write_text(json.dumps([site.feed_url(i) for i in range(feeds)]), encoding="utf-8")
    before = site.counters()["bytes"]
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.cycle_baseline", str(urls), "--budget", str(budget)],
        cwd=ROOT, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.stdout.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError("the baseline failed")
    data = json.loads(out)
    elapsed = time.perf_counter() - start  # includes interpreter start and imports
    rate = data["articles"] / data["seconds"] if data["seconds"] else 0.0
    startup = elapsed - data["seconds"]
    total = feeds * entries
    extrapolated = startup + (total / rate if rate else float("inf"))
    return Baseline(data["feeds"], data["articles"], elapsed, data["seconds"],
                    site.counters()["bytes"] - before,
                    usage.ru_maxrss / 1024, extrapolated, data["cpu_seconds"])


def text_queries(site: BenchSite, count: int, seed: int) -> list[str]:
    """``count`` one-word topics drawn from the words of the site's article texts that
    stand in 0.5-3 % of them (heavy pages hold real texts, which the generated queries of
    benchmarks.corpus would hardly match)."""
    stories = list(site.articles.values())
    frequency: Counter[str] = Counter()
    for story in stories:
        frequency.update({w.lower() for w in re.findall(r"[^\W\d_]{7,}", " ".join(story.body))})
    low, high = 0.005 * len(stories), 0.03 * len(stories)
    words = sorted(w for w, n in frequency.items() if low <= n <= high)
    return random.Random(seed).sample(words, min(count, len(words)))


def _cycle_config(
    directory: Path, sources: list[str], topics: int, per_host: int, seed: int,
    *, queries: list[str] | None = None, mail: MailServer | None = None,
    workers: int | None = None,
) -> Path:
    directory.mkdir()
    texts = queries if queries is not None else [
        q.text for q in generate_queries(topics, seed=seed)]
    crawl: dict[str, Any] = {"delay": "0s", "per_host": per_host, "every": "1h"}
    if workers is not None:
        crawl["workers"] = workers
    return write_config(
        directory,
        sources=sources,
        topics=[{"name": f"topic {i}", "query": q, "notify": ["desk@bench.test"]}
                for i, q in enumerate(texts)],
        crawl=crawl,
        smtp=mail,
    )


def _log_cycle(log: Callable[[str], None], cycle: Cycle) -> None:
    p = cycle.politeness
    log(f"  {cycle.seconds:.1f}s ({cycle.cpu_seconds:.1f}s CPU of the crawl process, "
        f"{cycle.stage_cpu:.1f}s by stage with its workers), {cycle.articles} articles, "
        f"{cycle.bytes:,} bytes, "
        f"requests {cycle.requests}; per host at most {p.max_in_flight} in flight and "
        f"{p.peak_per_second} requests in a second; {cycle.summary}")
    if cycle.stages:
        log("  CPU by stage: " + ", ".join(f"{k} {v:.2f}s" for k, v in cycle.stages.items()))
    if cycle.first_alert is not None:
        log(f"  first alert {cycle.first_alert:.1f}s after the start of the process")
    log(f"  process tree at its peak: {cycle.tree_rss_mib:.0f} MiB RSS, "
        f"{cycle.tree_pss_mib:.0f} MiB PSS; {cycle.tree_parts}")


def cold_and_warm(
    feeds: int, entries: int, topics: int, per_host: int, budget: float, seed: int, work: Path,
    log: Callable[[str], None], *, hosts: int = 1, one_host_feeds: int = 0,
    server_delay: float = 0.0, heavy: bool = False, floor_sample: int = 300,
    workers: int | None = None,
) -> dict[str, Any]:
    """Build the site on ``hosts`` addresses, answering after ``server_delay`` seconds; run
    the cold cycle, the warm cycle, the cold cycle of ``one_host_feeds`` feeds all on one host
    (fresh database), then the baseline."""
    start = time.perf_counter()
    with _site(feeds, entries, seed, hosts, heavy=heavy) as (site, _), _mail() as mail:
        site.answer_delay = server_delay
        pages = ("heavy pages, " + ("real article texts" if site.real_texts else
                 "GENERATED texts (the corpus snapshot is missing)")) if heavy else "light pages"
        log(f"site: {feeds} feeds x {entries} entries on {hosts} host(s) "
            f"({site.hosts[0]}..{site.hosts[-1]}, port {site.port}), {pages}, built in "
            f"{time.perf_counter() - start:.1f}s; every answer after {server_delay:g}s")
        queries = text_queries(site, topics, seed) if heavy else None
        config = _cycle_config(work / "cycle", [site.feed_url(i) for i in range(feeds)],
                               topics, per_host, seed, queries=queries, mail=mail,
                               workers=workers)
        log(f"cold cycle: newswatch crawl, {hosts} host(s), per_host = {per_host}, "
            f"delay = 0s, workers = {'one per core' if workers is None else workers} ...")
        # The floor's extraction is timed before the cycle too: this machine's speed drifts
        # by a third over minutes, and the faster of the two timings is the floor.
        before = run_floor(site, feeds, floor_sample, work, sample_only=True)
        log(f"  floor's extraction before the cycle: "
            f"{1000 * before.extract_cpu_per_page:.1f} ms a page")
        sampler = Sampler(site, feeds, floor_sample, work)
        try:
            cold = _crawl_cycle(site, config, mail)
        finally:
            beside = sampler.stop()
        _log_cycle(log, cold)
        log(f"  beside it, {beside.sampled} pages each extracted by trafilatura's default "
            f"({1000 * beside.trafilatura_cpu_per_page:.1f} ms a page) and by newswatch "
            f"({1000 * beside.newswatch_cpu_per_page:.1f} ms), one every {SAMPLE_EVERY:g} s")
        log("warm cycle: newswatch crawl again, nothing changed ...")
        warm = _crawl_cycle(site, config)
        _log_cycle(log, warm)
        one_host = None
        if one_host_feeds:
            config = _cycle_config(
                work / "one-host",
                [site.feed_url(i, host=site.hosts[0]) for i in range(one_host_feeds)],
                topics, per_host, seed, queries=queries, workers=workers)
            log(f"cold cycle on one host: {one_host_feeds} feeds on {site.hosts[0]}, "
                "fresh database ...")
            one_host = _crawl_cycle(site, config)
            _log_cycle(log, one_host)
        log(f"floor: download every page ({feeds * entries:,}), trafilatura's default "
            f"extraction of {floor_sample} of them ...")
        after = run_floor(site, feeds, floor_sample, work)
        floor = replace(after, extract_cpu_before=before.extract_cpu_per_page,
                        extract_cpu_after=after.extract_cpu_per_page,
                        extract_cpu_per_page=min(before.extract_cpu_per_page,
                                                 after.extract_cpu_per_page))
        log(f"  download {floor.download_seconds:.1f}s, extraction "
            f"{1000 * after.extract_cpu_per_page:.1f} ms a page (before the cycle "
            f"{1000 * before.extract_cpu_per_page:.1f}), {floor.cores} cores: "
            f"floor {floor.seconds:.1f}s")
        base = None
        if budget > 0:
            log(f"baseline: sequential feedparser + urlopen + trafilatura, budget "
                f"{budget:.0f}s ...")
            base = run_baseline(site, feeds, entries, budget, work)
            log(f"  {base.articles} articles from {base.feeds} feeds in {base.seconds:.1f}s "
                f"(loop: {base.loop_seconds:.1f}s, {base.loop_cpu_seconds:.1f}s CPU)")
    return {"cold": cold, "warm": warm, "baseline": base, "one_host": one_host, "floor": floor,
            "beside": beside,
            "feeds": feeds, "entries": entries, "topics": topics, "per_host": per_host,
            "hosts": hosts, "one_host_feeds": one_host_feeds, "server_delay": server_delay,
            "pages": "heavy" if heavy else "light"}


# --------------------------------------------------------------------------------------------
# 3: latency
# --------------------------------------------------------------------------------------------


def latency(
    trials: int, every: str, every_seconds: float, tick: str, seed: int, work: Path,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Publish ``trials`` probe articles spread over one poll interval; time until each
    alert arrives."""
    directory = work / "latency"
    directory.mkdir()
    feeds = max(trials, 3)
    probes = [f"quellprobe{i}zed" for i in range(trials)]
    with _site(feeds, 10, seed + 1) as (site, maker), _mail() as mail:
        config = write_config(
            directory,
            sources=[{"url": site.feed_url(i), "every": every} for i in range(feeds)],
            topics=[{"name": f"probe {i}", "query": word, "notify": [f"probe{i}@bench.test"]}
                    for i, word in enumerate(probes)],
            crawl={"delay": "0s", "per_host": 4},
            daemon={"tick": tick},
            alerts={"retry_base": "5s", "retry_max": "10s"},
            smtp=mail,
        )
        daemon = Daemon(config)
        try:
            if not daemon.wait_cycles(1, timeout=120):
                raise RuntimeError(f"no first cycle:\n{daemon.output()[-3000:]}")
            log(f"latency: daemon up (every = {every}, tick = {tick}); {trials} probes ...")
            # Probe i is published at (i + 0.5) / trials of a poll interval after a poll (the
            # site saw the first one; the daemon polls every interval from there): the
            # probes meet every phase of the poll cycle evenly, so their median is that of
            # an article published at a random moment. Random moments, or moments counted
            # from an arbitrary start, would meet a few phases only, differently each run.
            assert site.first_feed_request is not None
            slots = [(i + 0.5) * every_seconds / trials for i in range(trials)]
            # The first poll from which the first slot is still a second or more away.
            late = time.monotonic() + 1 - site.first_feed_request - slots[0]
            t0 = site.first_feed_request + every_seconds * max(0, math.ceil(late / every_seconds))
            published: list[float] = []
            for i, offset in enumerate(slots):
                time.sleep(max(0.0, t0 + offset - time.monotonic()))
                story = maker.story(published=datetime.now(UTC).replace(microsecond=0),
                                    extra=probes[i])
                site.publish(story, feed=feed_name(i % feeds))
                published.append(time.monotonic())
            deadline = time.monotonic() + 3 * every_seconds + 60
            latencies: list[float | None] = [None] * trials
            while time.monotonic() < deadline and None in latencies:
                for i in range(trials):
                    arrived = mail.arrival_for(f"probe{i}@bench.test")
                    if latencies[i] is None and arrived is not None:
                        latencies[i] = arrived - published[i]
                time.sleep(0.1)
            if daemon.proc.poll() is not None:
                raise RuntimeError(f"newswatch run exited:\n{daemon.output()[-3000:]}")
        finally:
            daemon.stop()
    got = [x for x in latencies if x is not None]
    log("  latencies: " + ", ".join("lost" if x is None else f"{x:.1f}s" for x in latencies))
    return {"every": every, "tick": tick, "latencies": latencies,
            "median": statistics.median(got) if got else float("inf"),
            "max": max(got) if len(got) == trials else float("inf")}


# --------------------------------------------------------------------------------------------
# 4: soak
# --------------------------------------------------------------------------------------------


@dataclass
class Sample:
    cycle: int
    seconds: float
    rss_kib: int
    fds: int


@dataclass
class Soak:
    cycles: int
    seconds: float
    samples: list[Sample] = field(default_factory=list)
    published: int = 0
    stored: int = 0
    alerts: int = 0

    @property
    def steady(self) -> list[Sample]:
        """Samples after warm-up (the first sample is taken at the end of warm-up)."""
        return self.samples

    @property
    def rss_growth(self) -> float:
        first, last = self.samples[0].rss_kib, self.samples[-1].rss_kib
        return (last - first) / first

    @property
    def fd_growth(self) -> int:
        return self.samples[-1].fds - self.samples[0].fds


def soak(
    cycles: int, feeds: int, every_n: int, seed: int, work: Path, log: Callable[[str], None],
) -> Soak:
    """Run the daemon for ``cycles`` cycles at 1 s while new articles keep appearing."""
    directory = work / "soak"
    directory.mkdir()
    queries = generate_queries(20, seed=seed)
    warmup = every_n
    stop = threading.Event()
    with _site(feeds, 5, seed + 2) as (site, maker), _mail() as mail:
        config = write_config(
            directory,
            sources=[{"url": site.feed_url(i), "every": "1s"} for i in range(feeds)],
            topics=[{"name": f"topic {i}", "query": q.text, "notify": [f"desk{i % 3}@bench.test"]}
                    for i, q in enumerate(queries)],
            crawl={"delay": "0s", "per_host": 4},
            daemon={"tick": "1s"},
            alerts={"retry_base": "5s", "retry_max": "10s"},
            smtp=mail,
        )
        published = 0

        def publisher() -> None:
            nonlocal published
            rng = random.Random(seed)
            while not stop.wait(3.0):  # a few new articles every 3 seconds
                for _ in range(rng.randint(1, 3)):
                    story = maker.story(published=datetime.now(UTC).replace(microsecond=0))
                    site.publish(story, feed=feed_name(rng.randrange(feeds)))
                    published += 1
                    # Bounded: keep each feed at its 30 newest entries, like a real feed.
                    with site._lock:
                        for entry in site._feeds.values():
                            del entry.stories[30:]

        daemon = Daemon(config)
        thread = threading.Thread(target=publisher, daemon=True)
        start = time.monotonic()
        result = Soak(cycles, 0.0)
        try:
            if not daemon.wait_cycles(1, timeout=120):
                raise RuntimeError(f"no first cycle:\n{daemon.output()[-3000:]}")
            thread.start()
            log(f"soak: {feeds} feeds at every = 1s, tick = 1s, {cycles} cycles, "
                f"sampling every {every_n} after {warmup} cycles of warm-up ...")
            for target in range(warmup, cycles + 1, every_n):
                if not daemon.wait_cycles(target, timeout=max(120, every_n * 10)):
                    raise RuntimeError(f"soak stalled before cycle {target}")
                result.samples.append(
                    Sample(daemon.cycles(), time.monotonic() - start, daemon.rss_kib(),
                           daemon.fds()))
            result.seconds = time.monotonic() - start
        finally:
            stop.set()
            thread.join(timeout=10)
            daemon.stop()
        output = daemon.output()
        result.cycles = len(CYCLE_LINE.findall(output))
        result.stored = sum(int(m[3]) for m in CYCLE_LINE.findall(output))
        result.published = published
        result.alerts = len(mail.messages)
    s = result.samples
    log(f"  RSS {s[0].rss_kib / 1024:.1f} -> {s[-1].rss_kib / 1024:.1f} MiB, "
        f"fds {s[0].fds} -> {s[-1].fds} over {result.cycles} cycles in {result.seconds:.0f}s")
    return result


# --------------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _rate(cycle: Cycle) -> float:
    return cycle.articles / cycle.seconds if cycle.seconds else 0.0


def _cpu_ms(cpu_seconds: float, articles: int) -> str:
    return f"{1000 * cpu_seconds / articles:.1f}" if articles else "-"


def _politeness(p: Politeness) -> str:
    return (f"<= {p.max_in_flight} in flight, <= {p.peak_per_second} requests in 1 s "
            f"(busiest host: {p.busiest_host_requests:,} requests)")


STAGES = ("fetch", "parse", "extract", "store", "stories", "templates", "match", "compose",
          "record")
FLOOR_TARGET = 1.3
#: Seconds between the pages the sampler extracts beside the cold cycle.
SAMPLE_EVERY = 2.0
FIRST_ALERT_TARGET = 60.0
OVERHEAD_TARGET = 0.25
TREE_TARGET_MIB = 300


def _stage_rows(cold: Cycle) -> list[tuple[str, str, str, str]]:
    if not cold.stages or not cold.articles:
        return []
    rows = []
    names = [*STAGES, *(k for k in cold.stages if k not in STAGES)]
    for name in names:
        if name in cold.stages:
            rows.append((f"cold: CPU per article, {name}",
                         f"{1000 * cold.stages[name] / cold.articles:.2f} ms", "-", "-"))
    extract = cold.stages.get("extract", 0.0)
    other = cold.stage_cpu - extract
    if extract:
        ratio = other / extract
        rows.append(("cold: CPU outside extraction / extraction", f"{ratio:.0%}",
                     f"<= {OVERHEAD_TARGET:.0%}", _verdict(ratio <= OVERHEAD_TARGET)))
    return rows


def _busy_rows(cold: Cycle, cores: int) -> list[tuple[str, str, str, str]]:
    """How busy the cores were during the cold cycle: newswatch's CPU by stage over the wall
    time, and the machine's (everything that ran, the benchmark's own site server too)."""
    if not cold.seconds:
        return []
    rows = [("cold: cores used by newswatch (CPU by stage / wall time)",
             f"{cold.stage_cpu / cold.seconds:.2f} of {cores}", "-", "-")]
    if cold.idle_seconds is not None:
        busy = cores - cold.idle_seconds / cold.seconds
        rows.append(("cold: cores busy on the machine (/proc/stat), idle core-seconds",
                     f"{busy:.2f} of {cores}, {cold.idle_seconds:.1f} s idle", "-", "-"))
    return rows


def _cycle_rows(cw: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    cold, warm, base, one = cw["cold"], cw["warm"], cw["baseline"], cw["one_host"]
    floor: Floor = cw["floor"]
    total = cw["feeds"] * cw["entries"]
    limits = f"limit: per_host {cw['per_host']}, delay 0.01 s"
    rows = [
        (f"cold: wall time ({cw['feeds']:,} feeds x {cw['entries']} entries on "
         f"{cw['hosts']} host(s), per_host {cw['per_host']}, {cw['pages']} pages"
         + (f", answers after {cw['server_delay']:g} s" if cw["server_delay"] else "") + ")",
         f"{cold.seconds:.1f} s", "-", "-"),
        ("cold: articles stored", f"{cold.articles:,} of {total:,}", f"{total:,}",
         _verdict(cold.articles == total)),
        ("cold: articles/s (newswatch crawl)", f"{_rate(cold):.1f}", "-", "-"),
        ("cold: pages extracted from their site's learnt article element",
         f"{cold.cut:,} ({cold.cut / max(1, cold.articles):.0%})", "-", "-"),
        ("cold: per host, as the site saw it", _politeness(cold.politeness), limits, "-"),
        ("cold / warm: newswatch crawl exit codes", f"{cold.returncode} / {warm.returncode}",
         "0 / 0", _verdict(cold.returncode == warm.returncode == 0)),
        (f"floor: download of every page ({floor.pages:,}, {floor.bytes / 1e6:,.1f} MB)",
         f"{floor.download_seconds:.1f} s", "-", "-"),
        (f"floor: trafilatura default extraction, CPU per page ({floor.sampled} sampled; "
         "the faster of before and after the cycles)",
         f"{1000 * floor.extract_cpu_per_page:.1f} ms"
         + (f" (before {1000 * floor.extract_cpu_before:.1f}, after "
            f"{1000 * floor.extract_cpu_after:.1f})"
            if floor.extract_cpu_before is not None and floor.extract_cpu_after is not None
            else ""), "-", "-"),
        (f"floor: download + extraction of every page / {floor.cores} cores",
         f"{floor.seconds:.1f} s", "-", "-"),
        ("cold: wall time / floor", f"{cold.seconds / floor.seconds:.2f}x",
         f"<= {FLOOR_TARGET}x", _verdict(cold.seconds <= FLOOR_TARGET * floor.seconds)),
    ]
    beside: Beside | None = cw.get("beside")
    if beside is not None and beside.sampled:
        timed = replace(floor, sampled=beside.sampled,
                        extract_cpu_per_page=beside.trafilatura_cpu_per_page)
        rows += [
            (f"beside the cold cycle: trafilatura default extraction, CPU per page "
             f"({beside.sampled} pages, one every {SAMPLE_EVERY:g} s)",
             f"{1000 * beside.trafilatura_cpu_per_page:.1f} ms", "-", "-"),
            ("beside the cold cycle: newswatch's extract_article on the same pages, one process",
             f"{1000 * beside.newswatch_cpu_per_page:.1f} ms "
             f"({beside.newswatch_cpu_per_page / beside.trafilatura_cpu_per_page:.2f}x)",
             "-", "-"),
            ("floor with the extraction timed beside the cycle",
             f"{timed.seconds:.1f} s", "-", "-"),
            ("cold: wall time / floor timed beside the cycle",
             f"{cold.seconds / timed.seconds:.2f}x",
             f"<= {FLOOR_TARGET}x", _verdict(cold.seconds <= FLOOR_TARGET * timed.seconds)),
        ]
    rows += [
        ("cold: CPU per article, crawl process and workers (by stage) / floor's extraction",
         f"{_cpu_ms(cold.stage_cpu, cold.articles)} / "
         f"{1000 * floor.extract_cpu_per_page:.1f} ms", "-", "-"),
        ("cold: CPU per article, the crawl process alone (rusage)",
         f"{_cpu_ms(cold.cpu_seconds, cold.articles)} ms", "-", "-"),
        *_busy_rows(cold, floor.cores),
        *_stage_rows(cold),
        ("cold: first alert sent, from the start of newswatch crawl",
         "none" if cold.first_alert is None else f"{cold.first_alert:.1f} s",
         f"<= {FIRST_ALERT_TARGET:.0f} s",
         _verdict(cold.first_alert is not None and cold.first_alert <= FIRST_ALERT_TARGET)),
        ("cold: first alert sent, from the first feed request",
         "none" if cold.first_alert_from_poll is None else f"{cold.first_alert_from_poll:.1f} s",
         "-", "-"),
        ("cold: process tree at its peak, RSS / PSS (sampled every 0.5 s)",
         f"{cold.tree_rss_mib:.0f} / {cold.tree_pss_mib:.0f} MiB",
         f"<= {TREE_TARGET_MIB} MB at 1,000 x 30", "-"),
        ("cold: peak RSS of the crawl process (its VmHWM)", f"{cold.max_rss_mib:.0f} MiB",
         "-", "-"),
        ("cold: bytes downloaded", f"{cold.bytes / 1e6:,.1f} MB", "-", "-"),
    ]
    if base is not None:
        rows += [
            (f"cold: articles/s (sequential baseline, {base.articles:,} articles sampled)",
             f"{base.rate:.1f}", "-", "-"),
            ("cold: baseline wall time for every article"
             + (" (extrapolated)" if base.articles < total else ""),
             f"{base.extrapolated_seconds:.1f} s", "-", "-"),
            ("cold: speed-up vs baseline",
             f"{base.extrapolated_seconds / cold.seconds:.1f}x", "-", "-"),
            ("cold: CPU ms per article of the baseline loop",
             _cpu_ms(base.loop_cpu_seconds, base.articles), "-", "-"),
        ]
    if one is not None:
        one_total = cw["one_host_feeds"] * cw["entries"]
        rows += [
            (f"one host: cold wall time ({cw['one_host_feeds']:,} feeds x {cw['entries']} "
             "entries, all on 127.0.0.1)", f"{one.seconds:.1f} s", "-", "-"),
            ("one host: articles stored", f"{one.articles:,} of {one_total:,}",
             f"{one_total:,}", _verdict(one.articles == one_total)),
            ("one host: articles/s (newswatch crawl)", f"{_rate(one):.1f}", "-", "-"),
            ("one host: as the site saw it", _politeness(one.politeness), limits, "-"),
            ("one host: CPU ms per article (by stage)", _cpu_ms(one.stage_cpu, one.articles),
             "-", "-"),
        ]
    rows += [
        ("warm: wall time", f"{warm.seconds:.1f} s", "-", "-"),
        ("warm: CPU of the crawl process per source",
         f"{1000 * warm.cpu_seconds / cw['feeds']:.1f} ms", "-", "-"),
        ("warm: bytes downloaded", f"{warm.bytes:,} B", "-", "-"),
        ("warm: bytes / cold bytes", f"{warm.bytes / cold.bytes:.3%}",
         f"< {WARM_TARGET:.0%}", _verdict(warm.bytes < WARM_TARGET * cold.bytes)),
    ]
    return rows


def summary(results: dict[str, Any]) -> str:
    """The table of every figure, its target and PASS / FAIL (or a dash if it has none)."""
    if "cluster" in results:
        from .cluster_bench import table

        return table(results["cluster"])
    rows: list[tuple[str, str, str, str]] = []
    cw = results.get("cycles")
    if cw:
        rows += _cycle_rows(cw)
    lat = results.get("latency")
    if lat:
        label = f"every {lat['every']}, tick {lat['tick']}, {len(lat['latencies'])} probes"
        rows += [
            (f"latency: median ({label})", f"{lat['median']:.1f} s",
             f"< {LATENCY_TARGET:.0f} s", _verdict(lat["median"] < LATENCY_TARGET)),
            ("latency: max", f"{lat['max']:.1f} s", "-", "-"),
        ]
    sk: Soak | None = results.get("soak")
    if sk:
        first, last = sk.samples[0], sk.samples[-1]
        rows += [
            (f"soak: RSS growth, cycle {first.cycle} -> {last.cycle}",
             f"{first.rss_kib / 1024:.1f} -> {last.rss_kib / 1024:.1f} MiB ({sk.rss_growth:+.1%})",
             f"within {MEMORY_TARGET:.0%}", _verdict(abs(sk.rss_growth) <= MEMORY_TARGET)),
            ("soak: open fds", f"{first.fds} -> {last.fds} (max {max(s.fds for s in sk.samples)})",
             "no growth", _verdict(sk.fd_growth <= 0)),
        ]
    width = [max(len(r[i]) for r in rows) if rows else 0 for i in range(4)]
    head = ("figure", "measured", "target", "result")
    width = [max(w, len(h)) for w, h in zip(width, head, strict=True)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, width, strict=True)) + " |",
             "|" + "|".join("-" * (w + 2) for w in width) + "|"]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, width, strict=True)) + " |"
              for r in rows]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.cycle_bench",
        description="Cold/warm crawl cycles, alert latency and a soak, on 127.0.0.1.",
    )
    parser.add_argument("--feeds", type=int, help="feeds of the cold/warm cycles (1000)")
    parser.add_argument("--entries", type=int, help="entries per feed (30)")
    parser.add_argument("--topics", type=int, default=20, help="topics of the cold cycle")
    parser.add_argument("--hosts", type=int,
                        help="loopback addresses the feeds are spread over (one per feed: "
                             "every site on its own 127.0.x.y)")
    parser.add_argument("--pages", choices=("heavy", "light"),
                        help="heavy: real article texts in 50+ KB of chrome, a template per "
                             "site (benchmarks/heavy_pages.py); light: the test site's pages "
                             "(default: heavy; light with --database)")
    parser.add_argument("--workers",
                        help="without --database: newswatch's crawl.workers, the processes "
                             "that parse and extract pages (default: its own, one per core); "
                             "with --database: a comma list of crawler process counts to "
                             "compare (1,2,4)")
    parser.add_argument("--page-workers", type=int,
                        help="newswatch's crawl.workers in either mode (default: its own)")
    parser.add_argument("--database",
                        help="postgresql://... (a server whose user may create databases), "
                             "or the word postgresql (a throw-away server started here): "
                             "measure crawl throughput per number of crawler processes "
                             "(--workers) on PostgreSQL next to one process on SQLite, "
                             "instead of the cycles, latency and soak "
                             "(benchmarks/cluster_bench.py)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="with --database: daemon.jobs, crawl jobs each crawler runs at "
                             "once (1: the crawler processes are what is compared; "
                             "newswatch's default is 4)")
    parser.add_argument("--floor-sample", type=int, default=300,
                        help="pages the floor's extraction is timed on (300)")
    parser.add_argument("--per-host", type=int, default=2,
                        help="crawl.per_host of the cold and warm cycles (newswatch's default)")
    parser.add_argument("--one-host-feeds", type=int,
                        help="feeds of the extra cold cycle with every feed on 127.0.0.1 "
                             "(100; 0 skips it)")
    parser.add_argument("--server-delay", type=float,
                        help="seconds the site waits before each answer of the cold/warm "
                             "cycles and the baseline, like a remote server's round trip "
                             "(0; 0.1 with --database)")
    parser.add_argument("--baseline-budget", type=float,
                        help="seconds of sequential baseline (60; 0 skips it)")
    parser.add_argument("--trials", type=int,
                        help="latency probes, all within one poll interval (10)")
    parser.add_argument("--cycles", type=int, help="soak cycles (200)")
    parser.add_argument("--soak-feeds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip", default="", help="comma-separated: cycles,latency,soak")
    parser.add_argument("--sequential", action="store_true",
                        help="run latency and soak one after the other")
    parser.add_argument("--quick", action="store_true",
                        help="200 feeds x 10 entries on 50 hosts, 100 feeds on one host, "
                             "20 s of baseline, 5 latency probes, 30 soak cycles")
    args = parser.parse_args(argv)
    quick = args.quick
    cluster = args.database is not None
    args.crawlers = []
    if cluster and "://" not in args.database and args.database not in ("postgresql",
                                                                         "postgres"):
        parser.error(f"--database: expected a postgresql:// URL or the word postgresql, "
                     f"got {args.database!r}")
    if cluster:
        from .cluster_bench import parse_counts

        try:
            args.crawlers = parse_counts(args.workers or "1,2,4")
        except ValueError as exc:
            parser.error(f"--workers: {exc}")
        args.workers = args.page_workers
        args.feeds = args.feeds or 100
        args.entries = args.entries or 10
    else:
        try:
            args.workers = None if args.workers is None else int(args.workers)
        except ValueError:
            parser.error(f"--workers: expected one number of page workers (a comma list of "
                         f"crawler processes needs --database), got {args.workers!r}")
        if args.page_workers is not None:
            args.workers = args.page_workers
        args.page_workers = args.workers
    if args.pages is None:
        args.pages = "light" if cluster else "heavy"
    if args.server_delay is None:
        args.server_delay = 0.1 if cluster else 0.0
    for name, full, small in (("feeds", 1000, 200), ("entries", 30, 10),
                              ("one_host_feeds", 100, 100),
                              ("baseline_budget", 60.0, 20.0), ("trials", 10, 5),
                              ("cycles", 200, 30)):
        if getattr(args, name) is None:
            setattr(args, name, small if quick else full)
    # The target is for sources polled every minute with the default tick, quick or not.
    args.every, args.every_seconds, args.tick = "1m", 60.0, "30s"
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    args.hosts = max(1, min(args.hosts or args.feeds, args.feeds, MAX_HOSTS))
    args.one_host_feeds = min(args.one_host_feeds, args.feeds)
    return args


def run(args: argparse.Namespace, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the selected parts; returns their results (see :func:`summary`)."""
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="cycle-bench-") as tmp:
        work = Path(tmp)
        if args.database is not None:
            from . import cluster_bench

            results["cluster"] = cluster_bench.run(args, work, log)
            return results
        if "cycles" not in args.skip:
            results["cycles"] = cold_and_warm(
                args.feeds, args.entries, args.topics, args.per_host, args.baseline_budget,
                args.seed, work, log, hosts=args.hosts, one_host_feeds=args.one_host_feeds,
                server_delay=args.server_delay, heavy=args.pages == "heavy",
                floor_sample=args.floor_sample, workers=args.workers)
        jobs: list[tuple[str, Callable[[], Any]]] = []
        if "latency" not in args.skip:
            jobs.append(("latency", lambda: latency(
                args.trials, args.every, args.every_seconds, args.tick, args.seed, work, log)))
        if "soak" not in args.skip:
            every_n = max(1, min(10, args.cycles // 3))
            jobs.append(("soak", lambda: soak(
                args.cycles, args.soak_feeds, every_n, args.seed, work, log)))
        if args.sequential or len(jobs) < 2:
            for name, job in jobs:
                results[name] = job()
        else:
            errors: list[BaseException] = []

            def runner(name: str, job: Callable[[], Any]) -> None:
                try:
                    results[name] = job()
                except BaseException as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=runner, args=job) for job in jobs]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if errors:
                raise errors[0]
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    results = run(args)
    print()
    print(summary(results))
    print(f"\ntotal run time {time.perf_counter() - start:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
