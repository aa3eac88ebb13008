"""Article extraction on labelled real pages: each pass of the cascade alone, the cascade as
the crawler runs it, the alternatives tried, and each site's template memory.

    python -m benchmarks.extraction [--corpus trafilatura --corpus fundus] [--limit N]

For every page of the corpora (see benchmarks.corpora), each trafilatura pass
(crawler.extract.extract_pass: precision, default, recall; each with tables and without) is
run once and timed; a strategy is then a rule choosing among the passes' texts, and its time
per page is the time of the passes it needed (plus parsing the page and measuring its
paragraphs). The cascade is
crawler.extract.choose itself. Scores (benchmarks.scoring): token P/R/F1 against a whole
labelled body (fundus), snippet P/R/F1 (trafilatura's evaluation set, goose3). Pages are also
grouped by markup era: the year of the date the page carries (its metadata), where it has one.

Site template memory (watchlist.templates): for each page of a site with other pages in the
corpus, the lines of its cascade text that recur in at least k of those other pages are
removed, as newswatch does with the site's other articles; scored on those pages only.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from trafilatura.utils import load_html

from crawler.extract import (
    ENOUGH_OF_PARAGRAPHS,
    INCLUDE_TABLES,
    MAX_LINK_SHARE,
    MIN_TEXT_CHARS,
    Method,
    choose,
    extract_pass,
    link_share,
    paragraph_chars,
    unlinked_chars,
)
from watchlist.stories import StoryIndex, signature
from watchlist.templates import blocks, strip_blocks

from .corpora import ALL_CORPORA, CORPORA, LabelledPage, load
from .scoring import Tally, score

#: The passes with trafilatura's own settings (``fast``: without its comparison with
#: readability and jusText).
PASSES: tuple[Method, ...] = ("fast", "precision", "default", "recall")
THREE: tuple[Method, ...] = ("precision", "default", "recall")
Pass = tuple[Method, bool]  # a method, and whether tables are included


@dataclass
class Run:
    """One page's passes: their texts, their times, and the page's measures."""

    page: LabelledPage
    texts: dict[Pass, str]
    seconds: dict[Pass, float]
    setup: float  # parsing the page and measuring its paragraphs
    paragraphs: int
    unlinked: int  # the page's text outside its links (crawler.extract.choose)
    year: int | None


def run_page(page: LabelledPage) -> Run:
    """Every pass over one page, with tables and without."""
    started = time.perf_counter()
    tree = load_html(page.html)
    paragraphs = paragraph_chars(tree) if tree is not None else 0
    unlinked = unlinked_chars(tree) if tree is not None else 0
    setup = time.perf_counter() - started
    texts: dict[Pass, str] = {}
    seconds: dict[Pass, float] = {}
    year = None
    for method in PASSES:
        for tables in (False, True):
            started = time.perf_counter()
            document = extract_pass(tree, page.url, method, tables) if tree is not None else None
            seconds[method, tables] = time.perf_counter() - started
            text = (document.text or "").strip() if document is not None else ""
            linked = link_share(tree, text) if tree is not None else 0.0
            if method != "precision" and linked >= MAX_LINK_SHARE:
                text = ""  # as crawler.extract: a list of links, not an article
            texts[method, tables] = text if len(text) >= MIN_TEXT_CHARS else ""
            if document is not None and document.date and year is None:
                year = int(str(document.date)[:4])
    return Run(page, texts, seconds, setup, paragraphs, unlinked, year)


Strategy = Callable[[Run], tuple[str, float]]  # (text, seconds spent)


def single(method: Method, tables: bool) -> Strategy:
    """One pass alone."""
    return lambda run: (run.texts[method, tables], run.setup + run.seconds[method, tables])


def cascade_steps(
    run: Run, tables: bool, gate: float = ENOUGH_OF_PARAGRAPHS, fast: bool = True
) -> tuple[Method, set[Method]]:
    """crawler.extract's cascade on one page: the pass it keeps, the passes it ran."""
    used: set[Method] = set()

    def text_of(method: Method) -> str:
        used.add(method)
        return run.texts[method, tables]

    return choose(run.paragraphs, text_of, gate, run.unlinked, fast), used


def cascade(tables: bool, gate: float = ENOUGH_OF_PARAGRAPHS, fast: bool = True) -> Strategy:
    """crawler.extract's cascade (``gate``: its share of the paragraph text; ``fast``: the
    fast pass first)."""

    def strategy(run: Run) -> tuple[str, float]:
        chosen, used = cascade_steps(run, tables, gate, fast)
        return run.texts[chosen, tables], run.setup + sum(run.seconds[m, tables] for m in used)

    return strategy


def precision_else_default(tables: bool) -> Strategy:
    """The default pass only when the precision pass finds nothing."""

    def strategy(run: Run) -> tuple[str, float]:
        seconds = run.setup + run.seconds["precision", tables]
        if run.texts["precision", tables]:
            return run.texts["precision", tables], seconds
        return run.texts["default", tables], seconds + run.seconds["default", tables]

    return strategy


#: The share of the default pass's text the precision pass must hold to be kept over it (the
#: cascade the crawler ran before it went default-first).
ENOUGH_OF_DEFAULT = 0.9


def against_default(tables: bool) -> Strategy:
    """Both passes on every page, precision kept when it holds ENOUGH_OF_DEFAULT of the
    default's text (no paragraph gate)."""

    def strategy(run: Run) -> tuple[str, float]:
        precise, default = run.texts["precision", tables], run.texts["default", tables]
        enough = precise and len(precise) >= ENOUGH_OF_DEFAULT * len(default)
        seconds = run.setup + run.seconds["precision", tables] + run.seconds["default", tables]
        return (precise if enough else default), seconds

    return strategy


def longest(tables: bool) -> Strategy:
    """All three passes, the longest text kept."""

    def strategy(run: Run) -> tuple[str, float]:
        texts = [run.texts[m, tables] for m in THREE]
        return max(texts, key=len), run.setup + sum(run.seconds[m, tables] for m in THREE)

    return strategy


BEFORE = "precision only (before)"
STRATEGIES: dict[str, Strategy] = {
    BEFORE: single("precision", False),
    "default only": single("default", False),
    "fast only": single("fast", False),
    "recall only": single("recall", False),
    "precision, else default if empty": precision_else_default(False),
    "precision vs default, every page": against_default(False),
    "longest of three": longest(False),
    "precision only, tables": single("precision", True),
    "default only, tables": single("default", True),
    "recall only, tables": single("recall", True),
    "precision vs default, every page, tables": against_default(True),
    "cascade, tables": cascade(True),
    "cascade, paragraph gate 0.6": cascade(INCLUDE_TABLES, 0.6),
    "cascade, paragraph gate 1.0": cascade(INCLUDE_TABLES, 1.0),
    "cascade from the default pass (before)": cascade(INCLUDE_TABLES, fast=False),
}
CHOSEN = cascade(INCLUDE_TABLES)
STRATEGIES[f"cascade{', tables' if INCLUDE_TABLES else ''} (chosen)"] = CHOSEN


def era(run: Run) -> str:
    """The page's markup era, from the year of its date."""
    if run.year is None or not 1990 < run.year < 2100:
        return "undated"
    if run.year <= 2012:
        return "-2012"
    if run.year <= 2016:
        return "2013-2016"
    if run.year <= 2020:
        return "2017-2020"
    return "2021-"


@dataclass
class Line:
    """Scores of one strategy over a group of pages."""

    tally: Tally = field(default_factory=Tally)
    seconds: float = 0.0
    pages: int = 0

    def add(self, text: str, page: LabelledPage, seconds: float) -> None:
        """Count one page."""
        self.tally.add(score(text, page))
        self.seconds += seconds
        self.pages += 1

    def row(self) -> str:
        """Scores and milliseconds per page."""
        return f"{self.tally.row()}  {1000 * self.seconds / max(1, self.pages):6.1f} ms/page"


def stories_of(texts: list[str]) -> list[int]:
    """Each text's story, as the pipeline clusters them (watchlist.stories): the index of
    the first near-duplicate before it, else its own."""
    index, stories = StoryIndex(), []
    for i, text in enumerate(texts):
        sig = signature(text)
        story = index.find(sig) if sig is not None else None
        stories.append(i if story is None else story)
        if sig is not None:
            index.add(i, stories[-1], sig)
    return stories


def template_memory(runs: list[Run], texts: list[str], min_others: int) -> tuple[Line, Line, int]:
    """Scores (before, after) over the pages that have another page of their site, when
    lines recurring in ``min_others`` other stories of the site are removed (as
    watchlist.templates does: a near-duplicate of the page counts as the page itself); and
    how many pages lost at least one line."""
    by_site: dict[str, list[int]] = defaultdict(list)
    for i, run in enumerate(runs):
        by_site[run.page.site].append(i)
    found = [blocks(text) for text in texts]
    before, after, changed = Line(), Line(), 0
    for members in by_site.values():
        if len(members) < 2:
            continue
        story = dict(zip(members, stories_of([texts[i] for i in members]), strict=True))
        for i in members:
            seen: dict[int, set[int]] = defaultdict(set)  # block hash -> other stories
            for j in members:
                if story[j] != story[i]:
                    for b in found[j]:
                        seen[b.hash].add(story[j])
            template = {h for h, others in seen.items() if len(others) >= min_others}
            stripped = strip_blocks(texts[i], found[i], template) or texts[i]
            changed += stripped != texts[i]
            before.add(texts[i], runs[i].page, 0.0)
            after.add(stripped, runs[i].page, 0.0)
    return before, after, changed


def report(corpus: str, runs: list[Run]) -> None:
    """Print one corpus' figures."""
    sites = len({r.page.site for r in runs})
    print(f"\n## {corpus}: {len(runs)} pages, {sites} sites")
    cascade_texts: list[str] = []
    by_era: dict[str, dict[str, Line]] = {}
    for name, strategy in STRATEGIES.items():
        line, eras = Line(), defaultdict(Line)
        for run in runs:
            text, seconds = strategy(run)
            line.add(text, run.page, seconds)
            eras[era(run)].add(text, run.page, seconds)
            if strategy is CHOSEN:
                cascade_texts.append(text)
        print(f"{name:42} {line.row()}")
        by_era[name] = eras
    before, cascaded = by_era[BEFORE], by_era[next(reversed(by_era))]
    print("by markup era (the year of the page's date): before -> cascade")
    for key in sorted(cascaded):
        print(
            f"  {key:>9} ({cascaded[key].pages:4} pages)  {before[key].tally.row()}"
            f"  ->  {cascaded[key].tally.row()}"
        )
    used: Counter[str] = Counter()
    for run in runs:
        chosen, steps = cascade_steps(run, INCLUDE_TABLES)
        used[f"{chosen} ({len(steps)} passes)"] += 1
    print("cascade kept:", ", ".join(f"{k}: {v}" for k, v in sorted(used.items())))
    for gate in (ENOUGH_OF_PARAGRAPHS, 0.6, 1.0):
        more = sum(1 for run in runs if len(cascade_steps(run, INCLUDE_TABLES, gate)[1]) > 1)
        print(f"  paragraph gate {gate}: the default pass ran on {more} pages")
    per_site = Counter(run.page.site for run in runs)
    print(
        "sites with 2 pages:",
        sum(1 for n in per_site.values() if n == 2),
        "with 3 or more:",
        sum(1 for n in per_site.values() if n >= 3),
    )
    for k in (1, 2):
        before, after, changed = template_memory(runs, cascade_texts, k)
        if before.pages:
            print(
                f"site memory, lines on >= {k} other page(s) of the site removed, over the "
                f"{before.pages} pages with other pages of their site ({changed} changed):\n"
                f"  before {before.tally.row()}\n  after  {after.tally.row()}"
            )


def main(argv: Iterable[str] | None = None) -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", action="append", choices=ALL_CORPORA)
    parser.add_argument("--limit", type=int, default=0, help="pages per corpus (0: all)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    logging.disable(logging.WARNING)  # trafilatura's "discarding data" on every hard page
    for corpus in args.corpus or CORPORA:
        pages = load([corpus])
        if args.limit:
            pages = pages[: args.limit]
        report(corpus, [run_page(page) for page in pages])


if __name__ == "__main__":
    main()
