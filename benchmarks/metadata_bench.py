"""What a page's title, author and date cost to read, on real pages, and what the crawl saves
by not looking for the author and date a feed entry gives already.

    python -m benchmarks.metadata_bench [--rounds 2]

Input: the real pages of benchmarks.corpora (the labelled pages of trafilatura's evaluation
set, fundus' test pages and goose3's test pages, read from their repository snapshots; the
acceptance corpora are not among them): pages of hundreds of news sites and blogs, many of
them years old, as they were served. Printed, CPU a page in this one process, ``--rounds``
rounds:

* each step of ``crawler.extract.page_metadata`` (trafilatura's own steps): the meta tags,
  the JSON-LD, the title and URL fallbacks (where the meta tags and JSON-LD give none), the
  byline search through the page's markup (where they name no author) and the date search;
* ``extract_article`` whole, looking for every field (a sitemap's or home page's link, an
  entry without author and date) and with ``author=False, date=False`` (an entry whose feed
  gives both, as most feeds give their dates), and whether the two give the same text and
  title on every page (they must).
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from htmldate import find_date
from trafilatura.metadata import (
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_title,
    extract_url,
)
from trafilatura.settings import set_date_params

from crawler.extract import extract_article, load_page
from crawler.extracted import page_text

from .corpora import CorpusMissing, load

STEPS = ("meta tags", "JSON-LD", "title fallback", "byline search", "URL fallback", "date search")


@dataclass
class Figures:
    pages: int = 0
    step_cpu: defaultdict[str, float] = field(  # seconds, all rounds
        default_factory=lambda: defaultdict(float))
    step_pages: Counter[str] = field(default_factory=Counter)  # pages a step ran on, a round
    full_cpu: float = 0.0  # extract_article looking for every field
    lean_cpu: float = 0.0  # author and date from the feed
    same: int = 0  # pages whose text and title are the same both ways
    rounds: int = 1


def _steps(tree: object, url: str, out: Figures, first: bool) -> None:
    def timed(step: str, call):  # type: ignore[no-untyped-def]
        start = time.process_time()
        try:
            return call()
        finally:
            out.step_cpu[step] += time.process_time() - start
            if first:
                out.step_pages[step] += 1

    found = timed("meta tags", lambda: examine_meta(tree))
    if found.author and " " not in found.author:
        found.author = None
    with contextlib.suppress(Exception):  # as page_metadata: trafilatura's JSON-LD reader
        found = timed("JSON-LD", lambda: extract_meta_json(tree, found))
    if not found.title:
        timed("title fallback", lambda: extract_title(tree))
    if not found.author:
        timed("byline search", lambda: extract_author(tree))
    if not found.url:
        found.url = timed("URL fallback", lambda: extract_url(tree, url))
    params = set_date_params(extensive=False)
    timed("date search", lambda: find_date(tree, **params, url=found.url))


def measure(pages: Sequence[tuple[str, bytes]], rounds: int = 2) -> Figures:
    """The figures for ``pages`` (URL, bytes as served)."""
    out = Figures(rounds=rounds)
    for round_ in range(rounds):
        for url, html in pages:
            text = page_text(html, None)
            tree = load_page(text)
            if tree is None:
                continue
            if round_ == 0:
                out.pages += 1
            _steps(tree, url, out, round_ == 0)
            start = time.process_time()
            full = extract_article(text, url)
            out.full_cpu += time.process_time() - start
            start = time.process_time()
            lean = extract_article(text, url, author=False, date=False)
            out.lean_cpu += time.process_time() - start
            if round_ == 0:
                out.same += (full.text, full.title) == (lean.text, lean.title) if (
                    full is not None and lean is not None) else full is lean
    return out


def rows(figures: Figures) -> list[tuple[str, str]]:
    """The printed table's rows."""
    n = max(1, figures.pages)
    per_page = n * figures.rounds

    def ms(seconds: float, count: int) -> str:
        return f"{seconds / max(1, count) * 1000:.2f} ms"

    found = [(f"real pages (trafilatura, fundus, goose3 corpora), {figures.rounds} rounds",
              f"{figures.pages:,}")]
    for step in STEPS:
        ran = figures.step_pages[step]
        found.append((f"  {step}: pages it runs on; CPU each / a page",
                      f"{ran:,} ({ran / n:.0%}); {ms(figures.step_cpu[step], ran * figures.rounds)}"
                      f" / {ms(figures.step_cpu[step], per_page)}"))
    found += [
        ("extract_article, every field looked for", ms(figures.full_cpu, per_page)),
        ("extract_article, author and date from the feed", ms(figures.lean_cpu, per_page)),
        ("  the same text and title both ways", f"{figures.same:,} of {figures.pages:,}"),
    ]
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="rounds over the pages (2)")
    args = parser.parse_args(argv)
    try:
        pages = [(p.url, p.html) for p in load()]
    except CorpusMissing as exc:
        print(f"real pages missing: {exc}")
        return 1
    table = rows(measure(pages, args.rounds))
    width = max(len(label) for label, _ in table)
    for label, value in table:
        print(f"{label:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
