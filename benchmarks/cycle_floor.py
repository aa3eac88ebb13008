"""The floor of a cold cycle on this machine: downloading every page, and trafilatura's
default extraction of them spread over every core.

Run as its own process by ``benchmarks.cycle_bench``::

    python -m benchmarks.cycle_floor FEEDS.json --sample 300 --threads 32

(``--sample-only``: the sampled pages alone are downloaded, for the extraction's figure.)

``FEEDS.json`` is a JSON list of feed URLs. Every feed is read, then every article page it
links to is downloaded by ``--threads`` threads (plain ``http.client``, no parsing: the time
the network and the server need to hand over every byte). Then ``trafilatura.extract`` with
its default settings runs on ``--sample`` of the downloaded pages, spread evenly over them,
in this one process, timing each page's CPU. It prints one JSON object: pages, bytes,
download seconds (wall), extraction CPU seconds per page, and the cores of the machine.
The floor of the cycle is then ``download + pages x per_page / cores``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import trafilatura

_LINK = re.compile(rb"<link>([^<]+)</link>")


class _Client(threading.local):
    """One keep-alive-less connection per thread and host (the bench site closes them)."""

    def get(self, url: str) -> bytes:
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
        try:
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            conn.request("GET", path)
            return conn.getresponse().read()
        finally:
            conn.close()


def article_links(client: _Client, feeds: Sequence[str]) -> list[str]:
    """The article links of every feed (RSS ``<link>``s after the channel's own)."""
    links: list[str] = []
    for feed in feeds:
        found = _LINK.findall(client.get(feed))[1:]
        links.extend(link.decode().replace("&amp;", "&") for link in found)
    return links


def measure(
    feeds: Sequence[str], sample: int, threads: int, *, sample_only: bool = False
) -> dict[str, float]:
    """Download every page of ``feeds`` (``sample_only``: the sampled ones only, no download
    time); extract ``sample`` of them."""
    client = _Client()
    links = article_links(client, feeds)
    step = max(1, len(links) // max(1, sample))
    keep = set(range(0, len(links), step)[:sample])
    kept: dict[int, bytes] = {}
    sizes = [0] * len(links)

    def one(index: int) -> None:
        body = client.get(links[index])
        sizes[index] = len(body)
        if index in keep:
            kept[index] = body

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, sorted(keep) if sample_only else range(len(links))))
    download = 0.0 if sample_only else time.perf_counter() - start
    cpu = 0.0
    for index in sorted(kept):
        before = time.process_time()
        trafilatura.extract(kept[index].decode("utf-8", "replace"))
        cpu += time.process_time() - before
    return {
        "pages": len(links),
        "bytes": sum(sizes),
        "download_seconds": download,
        "sampled": len(kept),
        "extract_cpu_per_page": cpu / len(kept) if kept else 0.0,
        "cores": os.cpu_count() or 1,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("feeds", type=Path, help="JSON list of feed URLs")
    parser.add_argument("--sample", type=int, default=300, help="pages extracted (300)")
    parser.add_argument("--threads", type=int, default=32, help="download threads (32)")
    parser.add_argument("--sample-only", action="store_true",
                        help="download the sampled pages only (the extraction's figure alone)")
    args = parser.parse_args(argv)
    urls = json.loads(args.feeds.read_text(encoding="utf-8"))
    print(json.dumps(measure(urls, args.sample, args.threads, sample_only=args.sample_only)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
