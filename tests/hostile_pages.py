"""A page-worker task for tests: a page holding KILL_MARK kills the worker process that
extracts it, a page holding HANG_MARK hangs it, a page holding GROW_MARK leaves it GROWTH
bytes larger (as trafilatura's readability fallback does on some pages), a page holding
SLOW_MARK takes SLOW_SECONDS; every other page is extracted as newswatch does. ``python tests/hostile_pages.py CONFIG`` runs ``newswatch --config CONFIG crawl`` with
this task in its page workers (2 of them, TIMEOUT for each page)."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from crawler.extract import Extracted, extract_article
from crawler.extracted import page_text

KILL_MARK = "kill-the-extraction-worker"
HANG_MARK = "hang-the-extraction-worker"
GROW_MARK = "grow-the-extraction-worker"
SLOW_MARK = "slow-the-extraction-worker"
GROWTH = 40 * 1024 * 1024
#: Seconds a SLOW_MARK page takes (more than a stop's grace period, scheduler.daemon).
SLOW_SECONDS = 8.0
#: Seconds a page may take; HOSTILE_TIMEOUT in the environment sets it.
TIMEOUT = float(os.environ.get("HOSTILE_TIMEOUT", "3"))

#: What a GROW_MARK page leaves behind in the worker.
_kept: list[bytes] = []


def extract(
    html: str | bytes, url: str, encoding: str | None = None, container: str | None = None,
    author: bool = True, date: bool = True, plain: bool = False,
) -> Extracted | None:
    """extract_article, except for the marked pages (the arguments as crawler.pagetask
    takes them)."""
    html = page_text(html, encoding)
    if KILL_MARK in html:
        os._exit(70)  # as a crash in C code would: no exception, no clean-up
    if HANG_MARK in html:
        time.sleep(3600)
    if SLOW_MARK in html:
        time.sleep(SLOW_SECONDS)
    if GROW_MARK in html:
        _kept.append(b"\x01" * GROWTH)  # written, so resident
    return extract_article(html, url, container, author=author, date=date)


def pause_and_join(first: str, second: str, pause: float = 0.0) -> str:
    """``first + second``, after ``pause`` seconds (a page that keeps its worker busy)."""
    time.sleep(pause)
    return first + second


def main(config: str) -> None:
    """``newswatch crawl`` with :func:`extract` in the page workers."""
    import crawler.run
    from newswatch.cli import cli

    original = crawler.run.make_runner

    def make_runner(settings: Any) -> Any:
        # The task by its importable name (this file runs as __main__ here).
        return original(settings, "hostile_pages:extract", TIMEOUT)

    crawler.run.make_runner = make_runner  # type: ignore[assignment]  # CrawlRunner builds it
    cli(["--config", config, "crawl"], obj={})


if __name__ == "__main__":
    main(sys.argv[1])
