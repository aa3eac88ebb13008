"""Benchmark: percolating batches of new articles against 100 to 10,000 topics.

    python -m benchmarks.match_bench [--articles 10000] [--topics 100,1000,10000] [--batch 200]
                                     [--seed 1] [--quick] [--profile TOPICS]

Times newswatch's engine (``watchlist.match.match_articles``: percolation of each batch in a
throwaway FTS5 table, then highlighting) and, in the same run, a straightforward baseline
(every topic compiled to regexes, tried on every article), checks that both find the same
(article, topic) pairs and prints articles/second.  Long runs are cut by a time budget per
engine and topic count: the rate is then measured on the articles processed, and the table
says on how many.  See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from storage import percolate
from storage.models import StoredArticle, Topic
from watchlist import compile_query, match_articles

try:  # newer watchlist: percolation also indexes the source's name and host
    from watchlist import source_text
except ImportError:  # pragma: no cover - older watchlist
    source_text = None

from .baseline import RegexBaseline
from .corpus import NOW, GeneratedQuery, generate_articles, generate_queries

LOOKBACK = timedelta(days=3)


# --------------------------------------------------------------------------------------------
# Engines
# --------------------------------------------------------------------------------------------


def make_topics(queries: Sequence[GeneratedQuery]) -> list[Topic]:
    """Topics as the daemon stores them, with their compiled FTS5 form."""
    return [
        Topic(
            id=number,
            name=f"topic {number}",
            query=query.text,
            compiled=compile_query(query.text),
            notify=("reader@example.org",),
        )
        for number, query in enumerate(queries, start=1)
    ]


def batches(articles: Sequence[StoredArticle], size: int) -> list[Sequence[StoredArticle]]:
    return [articles[i : i + size] for i in range(0, len(articles), size)]


@dataclass
class NewswatchRun:
    """What newswatch did on the first ``articles`` articles (all, unless the budget ran out)."""

    articles: int = 0
    batches: int = 0
    seconds: float = 0.0  # match_articles, end to end
    build_seconds: float = 0.0  # percolate with no query: FTS5 table creation and inserts
    percolate_seconds: float = 0.0  # percolate with every topic: build + queries
    matches: int = 0
    pairs: set[tuple[int, int]] = field(default_factory=set)  # on the sample articles

    @property
    def rate(self) -> float:
        return self.articles / self.seconds if self.seconds else 0.0

    @property
    def percolate_rate(self) -> float:
        return self.articles / self.percolate_seconds if self.percolate_seconds else 0.0


def _doc(article: StoredArticle) -> tuple[int, str, str] | tuple[int, str, str, str]:
    """The document percolation indexes for ``article``, as match_articles builds it."""
    if source_text is None:
        return (article.id, article.title, article.text)
    return (article.id, article.title, article.text, source_text(article))


def run_newswatch(
    articles: Sequence[StoredArticle],
    topics: Sequence[Topic],
    batch: int,
    budget: float,
    sample_ids: set[int],
) -> NewswatchRun:
    """Match batch after batch until done or ``budget`` seconds are spent; then time the
    percolation step alone (and the FTS5 table build alone) on the same batches."""
    run = NewswatchRun()
    done: list[Sequence[StoredArticle]] = []
    for chunk in batches(articles, batch):
        start = time.perf_counter()
        matches = match_articles(chunk, topics, now=NOW, lookback=LOOKBACK)
        run.seconds += time.perf_counter() - start
        run.articles += len(chunk)
        run.batches += 1
        run.matches += len(matches)
        run.pairs.update((m.article_id, m.topic_id) for m in matches if m.article_id in sample_ids)
        done.append(chunk)
        if run.seconds > budget:
            break
    compiled = {t.id: t.compiled for t in topics}
    for chunk in done:
        docs = [_doc(a) for a in chunk]
        start = time.perf_counter()
        percolate(docs, {})
        middle = time.perf_counter()
        percolate(docs, compiled)
        end = time.perf_counter()
        run.build_seconds += middle - start
        run.percolate_seconds += end - middle
    return run


@dataclass
class BaselineRun:
    articles: int = 0
    seconds: float = 0.0
    pairs: set[tuple[int, int]] = field(default_factory=set)

    @property
    def rate(self) -> float:
        return self.articles / self.seconds if self.seconds else 0.0


def run_baseline(
    articles: Sequence[StoredArticle], queries: Sequence[GeneratedQuery], budget: float
) -> BaselineRun:
    """Try every topic's regexes on article after article until done or out of budget."""
    engine = RegexBaseline([(number, q.tree) for number, q in enumerate(queries, start=1)])
    run = BaselineRun()
    for article in articles:
        start = time.perf_counter()
        found = engine.match_one(article)
        run.seconds += time.perf_counter() - start
        run.articles += 1
        run.pairs.update((article.id, topic_id) for topic_id in found)
        if run.seconds > budget:
            break
    return run


def compare(
    articles: Sequence[StoredArticle], queries: Sequence[GeneratedQuery], batch: int = 200
) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """Matching (article id, topic id) pairs by newswatch and by the baseline, untimed."""
    topics = make_topics(queries)
    ours = {
        (m.article_id, m.topic_id)
        for chunk in batches(articles, batch)
        for m in match_articles(chunk, topics, now=NOW, lookback=LOOKBACK)
    }
    engine = RegexBaseline([(t.id, q.tree) for t, q in zip(topics, queries, strict=True)])
    return ours, engine.match(articles)


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{cpu}; {os.cpu_count()} CPUs ({usable} usable, the benchmark uses one); "
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}; "
        f"{platform.system()} {platform.release()}"
    )


def _n(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


@dataclass
class Row:
    topics: int
    newswatch: NewswatchRun
    baseline: BaselineRun
    total_articles: int
    agreement: str = ""

    @property
    def speedup(self) -> float:
        return self.newswatch.rate / self.baseline.rate if self.baseline.rate else 0.0


def agreement(
    row: Row, ids: set[int], queries: Sequence[GeneratedQuery], limit: int = 5
) -> tuple[float, float, list[str]]:
    """On the articles ``ids`` that both engines processed: the % of all (article, topic)
    pairs judged alike, the % of matching pairs found by both (Jaccard), a few differences."""
    ours = {p for p in row.newswatch.pairs if p[0] in ids}
    theirs = {p for p in row.baseline.pairs if p[0] in ids}
    differ = sorted(ours ^ theirs)
    judged = len(ids) * row.topics
    alike = 100.0 * (1 - len(differ) / judged) if judged else 100.0
    union = len(ours | theirs)
    jaccard = 100.0 * len(ours & theirs) / union if union else 100.0
    notes = [
        f"article {a}, topic {t} {queries[t - 1].text!r}: "
        + ("newswatch only" if (a, t) in ours else "baseline only")
        for a, t in differ[:limit]
    ]
    return alike, jaccard, notes


def table(rows: Sequence[Row], batch: int) -> str:
    head = (
        "| topics | newswatch articles/s | baseline articles/s | speed-up "
        "| percolation alone articles/s | agreement (matching pairs) |\n"
        "|---:|---:|---:|---:|---:|---:|\n"
    )
    lines = []
    for row in rows:
        nw, bl = row.newswatch, row.baseline
        nw_note = "" if nw.articles == row.total_articles else f" ({nw.articles:,} art.)"
        bl_note = f" ({bl.articles:,} art.)"
        lines.append(
            f"| {row.topics:,} | {_n(nw.rate)}{nw_note} | {_n(bl.rate)}{bl_note} "
            f"| {row.speedup:,.0f}x | {_n(nw.percolate_rate)} | {row.agreement} |"
        )
    detail = (
        f"\nPer batch of {batch} articles (seconds):\n\n"
        "| topics | FTS5 table build | FTS5 queries | highlighting and rest | total "
        "| matches/article |\n|---:|---:|---:|---:|---:|---:|\n"
    )
    for row in rows:
        nw = row.newswatch
        per = 1 / nw.batches if nw.batches else 0.0
        build = nw.build_seconds * per
        queries = (nw.percolate_seconds - nw.build_seconds) * per
        rest = (nw.seconds - nw.percolate_seconds) * per
        ratio = nw.matches / nw.articles if nw.articles else 0.0
        detail += (
            f"| {row.topics:,} | {build:.3f} | {queries:.3f} | {rest:.3f} "
            f"| {nw.seconds * per:.3f} | {ratio:.1f} |\n"
        )
    return head + "\n".join(lines) + "\n" + detail


def profile(articles: Sequence[StoredArticle], topics: Sequence[Topic], batch: int) -> str:
    """cProfile of match_articles over up to 5 batches: the top functions by own time."""
    profiler = cProfile.Profile()
    chunks = batches(articles, batch)[:5]
    profiler.enable()
    for chunk in chunks:
        match_articles(chunk, topics, now=NOW, lookback=LOOKBACK)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumulative").print_stats(12)
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# Command
# --------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.match_bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--topics", default="100,1000,10000", help="comma-separated counts")
    parser.add_argument("--batch", type=int, default=200, help="articles per percolation")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--budget",
        type=float,
        default=45.0,
        help="seconds of newswatch matching per topic count before the run is cut short",
    )
    parser.add_argument(
        "--baseline-budget",
        type=float,
        default=15.0,
        help="seconds of baseline matching per topic count (it runs on a prefix sample)",
    )
    parser.add_argument("--quick", action="store_true", help="1,000 articles, 100 and 1,000 topics")
    parser.add_argument(
        "--profile",
        type=int,
        metavar="TOPICS",
        help="only profile match_articles with this many topics (cProfile, 5 batches)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.articles, args.topics = 1000, "100,1000"
        args.budget, args.baseline_budget = min(args.budget, 15.0), min(args.baseline_budget, 5.0)
    args.topic_counts = [int(n) for n in args.topics.split(",") if n.strip()]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    print(f"Machine: {machine()}")
    articles = generate_articles(args.articles, args.seed)
    queries = generate_queries(max([*args.topic_counts, args.profile or 0]), args.seed)
    words = sum(len(a.text.split()) for a in articles) / max(len(articles), 1)
    print(
        f"Corpus: {len(articles):,} articles (seed {args.seed}, {words:.0f} words on average), "
        f"generated in {time.perf_counter() - started:.1f} s; batches of {args.batch}."
    )
    if args.profile:
        topics = make_topics(queries[: args.profile])
        print(f"\ncProfile of match_articles, {args.profile:,} topics:\n")
        print(profile(articles, topics, args.batch))
        return 0

    rows: list[Row] = []
    notes: list[str] = []
    for count in args.topic_counts:
        subset = queries[:count]
        topics = make_topics(subset)
        baseline = run_baseline(articles, subset, args.baseline_budget)
        sample_ids = {a.id for a in articles[: baseline.articles]}
        newswatch = run_newswatch(articles, topics, args.batch, args.budget, sample_ids)
        row = Row(count, newswatch, baseline, len(articles))
        both = articles[: min(baseline.articles, newswatch.articles)]
        alike, jaccard, differ = agreement(row, {a.id for a in both}, subset)
        row.agreement = f"{jaccard:.2f} % ({alike:.3f} % of all pairs)"
        rows.append(row)
        matched = sum(1 for p in baseline.pairs if p[0] <= both[-1].id) if both else 0
        notes.append(
            f"{count:,} topics: both engines on {len(both):,} articles "
            f"({matched:,} matching pairs); "
            + ("all pairs agree." if not differ else "disagreements: " + "; ".join(differ))
        )
        print(
            f"  {count:,} topics: newswatch {newswatch.rate:,.0f} articles/s "
            f"on {newswatch.articles:,}, baseline {baseline.rate:,.1f} articles/s "
            f"on {baseline.articles:,}",
            flush=True,
        )

    print()
    print(table(rows, args.batch))
    cut = [r for r in rows if r.newswatch.articles < r.total_articles]
    print(
        "Baseline rates are measured on a prefix of the articles (count in brackets) and "
        "extrapolated: its cost per article does not depend on the batch."
    )
    if cut:
        print(
            "newswatch rates with an article count were cut short by --budget "
            f"({args.budget:g} s) and measured on those articles only."
        )
    print("\nAgreement on the baseline's articles:")
    for note in notes:
        print(f"  {note}")
    print("\nTargets (issue 4): >= 2,000 articles/s with 1,000 topics, >= 20x baseline at 10,000.")
    for row in rows:
        if row.topics == 1000:
            ok = row.newswatch.rate >= 2000
            print(
                f"  1,000 topics: {_n(row.newswatch.rate)} articles/s: {'met' if ok else 'MISSED'}"
            )
        if row.topics == 10_000:
            ok = row.speedup >= 20
            print(f"  10,000 topics: {row.speedup:,.0f}x the baseline: {'met' if ok else 'MISSED'}")
    print(f"\nTotal time {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
