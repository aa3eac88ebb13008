"""Alert quality on labelled real pages: newswatch end to end, plain trafilatura beside it.

    python -m benchmarks.quality [--corpora trafilatura,fundus,goose3] [--limit N]
                                 [--mode feeds|home|both] [--seed 1]

The labelled pages (:mod:`benchmarks.corpora`, read from repository snapshots at run time)
are served on loopback, one address per site, each at its original path and query, with a
feed and a home page per site (:mod:`benchmarks.quality_web`). Topics are drawn from the
pages (:mod:`benchmarks.quality_topics`): per page, a phrase of its labelled article text
(an alert expected on that page) and a phrase of its chrome (a trap: an alert for it is a
false positive). newswatch then runs as a user runs it: a config file with the sites' feeds
(mode ``feeds``) or home pages (mode ``home``) and the topics, ``newswatch crawl`` once
before the sites publish and once after (a monitor's first poll sees no articles; its
second, new ones), and the alerts it decided and the texts it stored are read from its
database. Beside it, trafilatura's default extraction of the same bytes, judged by
newswatch's own matcher.

Printed per mode: alert precision (fired alerts that were expected), recall (expected
alerts that fired), trap precision (traps that did not fire), extraction precision, recall
and F1 of the stored texts against the labels (:mod:`benchmarks.scoring`: bag-of-words for
whole labelled bodies, snippets otherwise; macro averages over the pages stored), pages
stored of those served; for home pages, the article links followed of those listed and the
other links followed. Then per corpus, and the wall time.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path

from storage.segment import has_cjk

from .corpora import CORPORA, CorpusMissing, LabelledPage, load
from .quality_run import (
    ROOT,
    Figures,
    Outcome,
    figures,
    links,
    newswatch_outcome,
    trafilatura_outcome,
    write_details,
)
from .quality_topics import Topic, draw_topics
from .quality_web import LocalWeb, Prepared, build_sites, free_port, prepare, site_names

CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newswatch" / (
    "quality-trafilatura.json")
_URL_YEAR = re.compile(r"(?:/|web/)((?:19|20)\d\d)(?:/|\d{10}|[01]\d[0-3]\d)")
_MARKUP_YEAR = re.compile(
    rb"(?:datePublished|published_time|dc\.date|pubdate|date\.issued)[^0-9<>]{1,40}"
    rb"((?:19|20)\d\d)-[01]\d", re.IGNORECASE)


def page_years(pages: Sequence[LabelledPage]) -> list[int]:
    """The years pages were published, where they say (a date in the URL, a web archive's
    timestamp, a publication date in the markup)."""
    years = []
    for page in pages:
        found = _URL_YEAR.search(page.url)
        year = int(found.group(1)) if found else 0
        if not year and (stated := _MARKUP_YEAR.search(page.html, 0, 300_000)):
            year = int(stated.group(1))
        if 1995 <= year <= 2030:
            years.append(year)
    return years


def _f(value: float) -> str:
    return "  -  " if value != value else f"{value:.3f}"  # NaN: nothing to count


def row(label: str, fig: Figures) -> str:
    """One line of the results table."""
    tally = fig.extraction
    return (f"  {label:<26} {_f(fig.precision):>6} {_f(fig.recall):>6} "
            f"{_f(fig.trap_precision):>6}   {_f(tally.precision)} {_f(tally.recall)} "
            f"{_f(tally.f1)}   {fig.stored:>5}/{fig.pages:<5} "
            f"{fig.hits}/{fig.expected} hit, {fig.traps_fired}/{fig.traps} traps, "
            f"{fig.wrong} wrong")


HEADER = ("  {:<26} {:>6} {:>6} {:>6}   {:<17}   {:<11} {}".format(
    "", "prec", "recall", "traps", "extract P  R  F1", "stored", "alerts"))


def table(pages: Sequence[LabelledPage], topics: Sequence[Topic], served: set[int],
          rows: list[tuple[str, Outcome]]) -> None:
    """The results of each outcome, overall then per corpus."""
    print(HEADER)
    corpora = sorted({pages[i].corpus for i in served})
    for label, outcome in rows:
        print(row(label, figures(pages, topics, outcome, served)))
        for corpus in corpora:
            wanted = {i for i in served if pages[i].corpus == corpus}
            print(row(f"  {corpus}", figures(pages, topics, outcome, wanted)))


def prepare_all(pages: Sequence[LabelledPage], workers: int) -> list[Prepared]:
    """Every page parsed once (in ``workers`` processes, for many pages: starting them
    costs more than a few hundred pages take)."""
    if workers <= 1 or len(pages) < 400:
        return [prepare(p) for p in pages]
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        return list(pool.map(prepare, pages, chunksize=16))


def git_head() -> str:
    """The short commit of the tree being measured (with ``+`` when it has changes)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True,
                              text=True, check=False).stdout.strip()
    changed = git("status", "--porcelain", "--untracked-files=no")
    return (git("rev-parse", "--short", "HEAD") or "?") + ("+" if changed else "")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", default=",".join(CORPORA))
    parser.add_argument("--limit", type=int, default=0, help="at most N pages (a sample)")
    parser.add_argument("--mode", choices=("feeds", "home", "both"), default="both")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, help="keep newswatch's files here")
    parser.add_argument("--no-cache", action="store_true",
                        help="extract with trafilatura again instead of reusing its texts")
    parser.add_argument("--workers", type=int, default=2,
                        help="processes that parse pages and run trafilatura")
    args = parser.parse_args(argv)
    started = time.monotonic()
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)  # progress shows while it runs
    try:
        pages = load([c.strip() for c in args.corpora.split(",") if c.strip()])
    except CorpusMissing as exc:
        print(f"quality: {exc}", file=sys.stderr)
        return 1
    if args.limit and args.limit < len(pages):
        pages = [pages[i] for i in sorted(random.Random(args.seed).sample(range(len(pages)),
                                                                          args.limit))]
    names = site_names(pages)
    prepared = prepare_all(pages, args.workers)
    topics = draw_topics(pages, names, [p.text for p in prepared], args.seed)
    modes = ("feeds", "home") if args.mode == "both" else (args.mode,)
    # A local web per mode (each its own port), so that the modes run side by side: one
    # newswatch process each, on a core each.
    webs: dict[str, LocalWeb] = {}
    for mode in modes:
        sites, left_out = build_sites(pages, prepared, free_port())
        webs[mode] = LocalWeb(sites)
    del prepared
    served = {p.index for s in sites for p in s.pages}
    topics = [t for t in topics if t.page in served]
    print(f"quality benchmark: newswatch {git_head()}, trafilatura {version('trafilatura')}")
    per_corpus = Counter(p.corpus for p in pages)
    print(f"inputs: {len(pages)} labelled real pages of {len(set(names))} sites ("
          + ", ".join(f"{c} {n}" for c, n in per_corpus.items()) + f"); {len(served)} served, "
          f"{len(left_out)} left out (a site's root or a duplicate address)")
    years = page_years(pages)
    if years:
        quart = statistics.quantiles(years, n=4) if len(years) > 1 else [years[0]] * 3
        print(f"publication years ({len(years)} pages say): {min(years)}-{max(years)}, "
              f"quartiles {quart[0]:.0f} / {quart[1]:.0f} / {quart[2]:.0f}")
    kinds = Counter(t.kind for t in topics)
    print(f"topics: {kinds['expected']} expected alerts, {kinds['trap']} traps "
          f"(drawn with seed {args.seed}); prepared in {time.monotonic() - started:.0f} s")
    for web in webs.values():
        web.start()
    try:
        with tempfile.TemporaryDirectory(prefix="quality-") as tmp:
            root = args.workdir or Path(tmp)
            with ThreadPoolExecutor(len(modes)) as crawls:
                running = {mode: crawls.submit(newswatch_outcome, web, topics, mode, root / mode)
                           for mode, web in webs.items()}
                cache = None if args.no_cache else CACHE
                baseline = trafilatura_outcome(webs[modes[0]], topics, args.workers, cache)
                reused = (f" ({baseline.extraction['from cache']} pages from {cache})"
                          if cache else "")
                print(f"trafilatura {version('trafilatura')} default extraction: "
                      f"{baseline.wall:.0f} s{reused}")
                for mode, future in running.items():
                    report(mode, webs[mode], future.result(), baseline, pages, topics, served,
                           root / mode if args.workdir else None)
    finally:
        for web in webs.values():
            web.stop()
    print(f"\nwall time {time.monotonic() - started:.0f} s")
    return 0


def report(mode: str, web: LocalWeb, outcome: Outcome, baseline: Outcome,
           pages: Sequence[LabelledPage], topics: Sequence[Topic], served: set[int],
           details: Path | None) -> None:
    """Print one mode's figures beside trafilatura's (and write the details files)."""
    print(f"\n== {mode}: {len(web.sites)} {'feeds' if mode == 'feeds' else 'home pages'}"
          f", newswatch crawl twice (before and after publishing): "
          f"{outcome.wall:.0f} s; stored by "
          + ", ".join(f"{k} {v}" for k, v in sorted(outcome.extraction.items())))
    for error in outcome.crawl_errors:
        print(f"  ! {error}")
    if outcome.misaddressed:
        print(f"  {len(outcome.misaddressed)} pages stored under an address that does not "
              "open them (their alerts link nowhere), e.g. "
              + ", ".join(outcome.misaddressed[:3]))
    table(pages, topics, served, [(f"newswatch ({mode})", outcome), ("trafilatura", baseline)])
    # The topics in the scripts written without spaces (each character a word: storage.segment).
    cjk = [t for t in topics if has_cjk(" ".join(t.phrase))]
    if cjk:
        print("  topics in Chinese, Japanese or Korean: " + "; ".join(
            f"{name} {f.hits}/{f.expected} hit, {f.traps_fired}/{f.traps} traps"
            for name, f in ((f"newswatch ({mode})", figures(pages, cjk, outcome, served)),
                            ("trafilatura", figures(pages, cjk, baseline, served)))))
    if details is not None:
        write_details(details / "pages.tsv", web, pages, topics,
                      [(mode, outcome), ("trafilatura", baseline)])
        with (details / "requests.tsv").open("w", encoding="utf-8") as out:
            for r in web.requests:
                out.write(f"{r.phase}\t{r.status}\t{r.host}\t{r.key}\t"
                          f"{web.describe(r.host, r.key)}\n")
    if mode == "home":
        found = links(web)
        share = found.others_followed / found.followed if found.followed else 0.0
        print(f"  links: article links followed {found.articles_followed}/"
              f"{found.articles_listed}; other links followed "
              f"{found.others_followed}/{found.others_listed} "
              f"({share:.1%} of the {found.followed} followed); "
              f"requests for unlinked addresses (404) {found.broken}")
        corpora = sorted({pages[i].corpus for i in served})
        print("  article links followed by corpus: " + ", ".join(
            f"{c} {sum(1 for i in found.pages_followed if pages[i].corpus == c)}/"
            f"{sum(1 for i in served if pages[i].corpus == c)}" for c in corpora))


if __name__ == "__main__":
    sys.exit(main())
