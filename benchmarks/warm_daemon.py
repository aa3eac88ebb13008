"""The warm cycle in the running daemon: CPU per source whose feed is unchanged (HTTP 304).

``python -m benchmarks.warm_daemon [--feeds 100] [--cycles 25]`` starts the benchmark's site
(``benchmarks.cycle_site``, light pages) with ``--feeds`` feeds of 3 entries and
``newswatch run`` on them at ``every = "1s"`` and ``daemon.tick = "1s"``. Once every feed
has answered 304 WARM_UP - 1 times on average (after the first, cold, poll), it reads the
daemon process's CPU time (user + system, from /proc) and the site's count of 304 answers,
waits for ``--cycles`` times ``--feeds`` more, and prints the CPU per poll answered 304.
Polls are counted at the site: with sources due every second the daemon's crawl never ends
(each tick's due sources join the crawl under way), so it logs no ``cycle sources=`` line
to count by. Everything the daemon does meanwhile (its other jobs, the event loop) is
counted; the start-up is not.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from .cycle_bench import Daemon, _site, write_config

WARM_UP = 4  # cycles before the measurement (the first one is the cold cycle)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(feeds: int, cycles: int, seed: int = 7) -> dict[str, float]:
    """Run the daemon on ``feeds`` unchanged feeds for ``cycles`` measured cycles."""
    with tempfile.TemporaryDirectory() as tmp, _site(feeds, 3, seed) as (site, _):
        config = write_config(
            Path(tmp),
            sources=[{"url": site.feed_url(i), "every": "1s"} for i in range(feeds)],
            crawl={"delay": "0s", "per_host": 4},
            daemon={"tick": "1s"},
        )
        daemon = Daemon(config)

        def unchanged() -> int:
            return int(site.counters()["statuses"].get(304, 0))

        def wait(count: int, timeout: float) -> bool:
            deadline = time.monotonic() + timeout
            while unchanged() < count:
                if daemon.proc.poll() is not None:
                    raise RuntimeError(f"newswatch run exited:\n{daemon.output()[-3000:]}")
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.05)
            return True

        try:
            if not wait((WARM_UP - 1) * feeds, timeout=600):
                raise RuntimeError(f"no warm polls:\n{daemon.output()[-3000:]}")
            cpu, done, start = _cpu_seconds(daemon.proc.pid), unchanged(), time.monotonic()
            if not wait(done + cycles * feeds, timeout=60 + 10 * cycles):
                raise RuntimeError("the daemon stalled")
            cpu = _cpu_seconds(daemon.proc.pid) - cpu
            polls, seconds = unchanged() - done, time.monotonic() - start
            rss = daemon.rss_kib() / 1024
        finally:
            daemon.stop()
    return {
        "cycles": polls / feeds,
        "polls": polls,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "ms_per_source": 1000 * cpu / polls,
        "rss_mib": rss,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Print the daemon's CPU per unchanged source."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.warm_daemon", description=__doc__)
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--cycles", type=int, default=25)
    args = parser.parse_args(argv)
    r = measure(args.feeds, args.cycles)
    print(
        f"{r['polls']:.0f} polls answered 304 ({r['cycles']:.1f} of each of {args.feeds} "
        f"sources) in {r['seconds']:.1f} s: "
        f"daemon CPU {r['cpu_seconds']:.2f} s, {r['ms_per_source']:.2f} ms per source; "
        f"RSS {r['rss_mib']:.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
