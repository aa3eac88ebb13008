"""The floor's extraction timed while the cold cycle runs, beside it: trafilatura's default
extraction and newswatch's ``extract_article``, on the same pages, under the same load.

Run as its own process by ``benchmarks.cycle_bench`` around the cold cycle::

    python -m benchmarks.cycle_sampler FEEDS.json --sample 300 --every 2

``--sample`` pages, spread evenly over every article page of ``FEEDS.json`` (a JSON list of
feed URLs), are downloaded one after the other; then the process prints ``ready`` and, every
``--every`` seconds until its standard input is closed, takes the next page (round robin)
and extracts it twice: with ``trafilatura.extract`` (default settings) and with
``crawler.extract.extract_article``, in turn first, timing each one's CPU. Then it prints one
JSON object: the pages extracted, and the CPU per page of each.

Why beside the crawl: this machine's speed drifts by a third from one minute to the next
(the same code, timed in two rounds a minute apart: 14.4 and 20.4 ms a page), so a floor
timed after a 12-minute crawl measures another machine than the crawl ran on. Timed beside
it, page by page, both extractions meet the load the crawl's page workers meet. The sampler
takes about 2 % of one core (one page pair, ~45 ms, every 2 s).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import trafilatura

from benchmarks.cycle_floor import _Client, article_links
from crawler.extract import extract_article


def pages(feeds: Sequence[str], sample: int) -> list[tuple[str, str]]:
    """``sample`` article pages of ``feeds`` (URL, text), spread evenly over them."""
    client = _Client()
    links = article_links(client, feeds)
    step = max(1, len(links) // max(1, sample))
    return [(url, client.get(url).decode("utf-8", "replace")) for url in links[::step][:sample]]


def sample_while_open(chosen: Sequence[tuple[str, str]], every: float, fd: int) -> dict[str, float]:
    """Extract the next page both ways every ``every`` seconds until ``fd`` ends (each byte
    read from ``fd`` takes a page at once)."""
    traf = ours = 0.0
    done = 0
    while chosen:
        readable, _, _ = select.select([fd], [], [], every)
        if readable and not os.read(fd, 1):
            break  # standard input closed: the cycle is over
        url, html = chosen[done % len(chosen)]
        for which in ((0, 1) if done % 2 else (1, 0)):
            start = time.process_time()
            if which == 0:
                trafilatura.extract(html)
            else:
                extract_article(html, url)
            spent = time.process_time() - start
            if which == 0:
                traf += spent
            else:
                ours += spent
        done += 1
    return {
        "sampled": done,
        "trafilatura_cpu_per_page": traf / done if done else 0.0,
        "newswatch_cpu_per_page": ours / done if done else 0.0,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("feeds", type=Path, help="JSON list of feed URLs")
    parser.add_argument("--sample", type=int, default=300, help="pages to take turns on (300)")
    parser.add_argument("--every", type=float, default=2.0, help="seconds between pages (2)")
    args = parser.parse_args(argv)
    chosen = pages(json.loads(args.feeds.read_text(encoding="utf-8")), args.sample)
    for url, html in chosen[:3]:  # first calls compile and cache: not timed
        trafilatura.extract(html)
        extract_article(html, url)
    print("ready", flush=True)
    print(json.dumps(sample_while_open(chosen, args.every, sys.stdin.fileno())), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
