"""The crawl-cycle baseline: a sequential feedparser + urllib + trafilatura loop.

Run as its own process by ``benchmarks.cycle_bench`` (so that it does not share a core or the
GIL with the benchmark's HTTP server, like newswatch's ``crawl`` subprocess)::

    python -m benchmarks.cycle_baseline FEEDS.json --budget 60

``FEEDS.json`` is a JSON list of feed URLs. For each feed in turn: ``feedparser.parse(url)``,
then for each entry ``urllib.request.urlopen(link).read()`` and ``trafilatura.extract(html)``.
No storage, no matching, no conditional requests, no concurrency. It stops after the feed
during which ``--budget`` seconds ran out and prints one JSON object: feeds, articles,
seconds (wall and CPU time of the loop), extracted characters and failures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import feedparser
import trafilatura


def crawl(urls: Sequence[str], budget: float, timeout: float = 30.0) -> dict[str, float]:
    """The sequential loop over ``urls`` for at most about ``budget`` seconds."""
    start, cpu_start = time.perf_counter(), time.process_time()
    feeds = articles = chars = failures = 0
    for url in urls:
        if time.perf_counter() - start > budget:
            break
        parsed = feedparser.parse(url)
        feeds += 1
        for entry in parsed.entries:
            link = entry.get("link")
            if not link:
                continue
            try:
                with urllib.request.urlopen(link, timeout=timeout) as response:
                    page = response.read()
            except OSError:
                failures += 1
                continue
            text = trafilatura.extract(page.decode("utf-8", "replace"))
            articles += 1
            chars += len(text or "")
    return {"feeds": feeds, "articles": articles, "seconds": time.perf_counter() - start,
            "cpu_seconds": time.process_time() - cpu_start, "chars": chars,
            "failures": failures}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("feeds", type=Path, help="JSON list of feed URLs")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds (checked per feed)")
    args = parser.parse_args(argv)
    urls = json.loads(args.feeds.read_text(encoding="utf-8"))
    print(json.dumps(crawl(urls, args.budget)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
