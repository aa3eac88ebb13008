"""The quality benchmark's alerts without crawling: newswatch's extraction of each served
page's bytes, judged by the watchlist matcher, as feeds mode judges them.

    python -m benchmarks.quality_offline [--corpora ...] [--limit N] [--seed 1]
                                         [--details FILE] [--no-cache]

The pages, sites and topics are those of ``python -m benchmarks.quality`` (same corpora,
sample and seed); each served page's bytes (links made local, as the local web serves them)
go through :func:`crawler.extract.extract_article` and the texts, with the feed's headline as
title, through :func:`watchlist.match_articles`. No site template memory (most sites have one
page), no feed or home page: it measures extraction's share of the alerts in a minute or two
where the end-to-end run takes ten. trafilatura's passes are cached by page bytes, the tree
trafilatura is given, address, method and trafilatura version (``--no-cache``: run them all
again).

``--details FILE``: per page, the traps and expected topics that went wrong, with the line of
the stored text that fired the trap.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import pickle
import random
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

from lxml import etree

from crawler.extracted import visible

from .corpora import CORPORA, LabelledPage, load
from .quality import HEADER, prepare_all, row
from .quality_run import NOTIFY, Fired, Outcome, figures
from .quality_topics import Topic, draw_topics, words
from .quality_web import ServedPage, build_sites, site_names

CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newswatch" / (
    "quality-passes.pickle")
_PORT = 8  # any fixed port: the served bytes (and so the cache keys) stay the same

_passes: dict[str, str | None] = {}


def _cached_pass(tree: Any, url: str, method: str, tables: bool | None = None) -> Any:
    """crawler.extract.extract_pass, its text taken from the cache where it is known
    (``tables``: extract_pass's default where the caller gives none)."""
    from trafilatura.settings import Document

    from crawler import extract

    if tables is None:
        tables = extract.INCLUDE_TABLES

    # Keyed by the tree as trafilatura is given it, not by the page's bytes alone: a change
    # to what newswatch does to the tree first (layout cells unwrapped, a page cut to its
    # element) gave the passes of the tree before it, and figures that were not the code's.
    given = hashlib.sha256(etree.tostring(tree, encoding="unicode").encode()).hexdigest()
    digest = hashlib.sha256(
        f"{_current[0]}\x00{given}\x00{url}\x00{method}\x00{tables}".encode()).hexdigest()
    if digest not in _passes:
        assert _original_pass is not None
        document = _original_pass(tree, url, method, tables)
        _passes[digest] = None if document is None else (document.text or "")
        _fresh[digest] = _passes[digest]
        if document is not None:
            return document
    text = _passes[digest]
    if text is None:
        return None
    document = Document()
    document.text = text
    return document


_current: list[str] = [""]
_fresh: dict[str, str | None] = {}
_original_pass: Callable[..., Any] | None = None


def _extract(item: tuple[bytes, str, bool]) -> tuple[str, str, dict[str, str | None]]:
    """One page through newswatch's extraction: its text, how, and the passes run afresh
    (with ``cached``, trafilatura's passes are read from the cache where known)."""
    global _original_pass
    from crawler import extract

    html, url, cached = item
    _current[0] = hashlib.sha256(html).hexdigest()
    _fresh.clear()
    _original_pass = extract.extract_pass
    if cached:
        extract.extract_pass = _cached_pass
    try:
        result = extract.extract_article(html, url)
    finally:
        extract.extract_pass = _original_pass
    fresh = dict(_fresh)
    if result is None:
        return "", "none", fresh
    return visible(result.text), result.method, fresh  # as the crawl stores it


def _init(known: dict[str, str | None]) -> None:
    _passes.update(known)


def extract_all(served: Sequence[ServedPage], workers: int, cache: Path | None
                ) -> list[tuple[str, str]]:
    """newswatch's text of every served page (and the pass it kept)."""
    known: dict[str, str | None] = {}
    tag = f"trafilatura {version('trafilatura')}"
    if cache is not None and cache.exists():
        stored = pickle.loads(cache.read_bytes())
        known = stored["passes"] if stored.get("extractor") == tag else {}
    items = [(p.html, p.url, cache is not None) for p in served]
    if workers > 1:
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init,
                                 initargs=(known,)) as pool:
            results = list(pool.map(_extract, items, chunksize=8))
    else:
        _init(known)
        results = [_extract(item) for item in items]
    fresh = {k: v for _, _, f in results for k, v in f.items()}
    if cache is not None and fresh:
        known.update(fresh)
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps({"extractor": tag, "passes": known}))
    return [(text, how) for text, how, _ in results]


def judge(served: Sequence[ServedPage], texts: Sequence[str], topics: Sequence[Topic]
          ) -> Fired:
    """The topics that fire on each page's text (``watchlist.match_articles``)."""
    from storage import StoredArticle
    from storage import Topic as StoredTopic
    from watchlist import compile_query, match_articles

    now = datetime.now(UTC)
    articles = [
        StoredArticle(id=n + 1, url=p.url, source_id=1, source_name="", title=p.headline,
                      text=text, published=None, fetched=now, extraction="newswatch")
        for n, (p, text) in enumerate(zip(served, texts, strict=True))
    ]
    stored_topics = [
        StoredTopic(id=n + 1, name=t.name, query=t.query, compiled=compile_query(t.query),
                    notify=(NOTIFY,))
        for n, t in enumerate(topics)
    ]
    matches = match_articles(articles, stored_topics, now=now, lookback=timedelta(days=36500))
    return {(topics[m.topic_id - 1].name, served[m.article_id - 1].index)
            for m in matches if m.alert}


def _line_with(text: str, phrase: Sequence[str]) -> str:
    for line in text.split("\n"):
        tokens = words(line)
        n = len(phrase)
        if any(tuple(tokens[i:i + n]) == tuple(phrase) for i in range(len(tokens) - n + 1)):
            return line
    return "?"


def write_details(path: Path, pages: Sequence[LabelledPage], served: Sequence[ServedPage],
                  texts: Sequence[str], topics: Sequence[Topic], fired: Fired) -> None:
    """The traps that fired (with their line) and the expected topics that did not."""
    text_of = {p.index: t for p, t in zip(served, texts, strict=True)}
    url_of = {p.index: p.url for p in served}
    lines = []
    for topic in topics:
        hit = (topic.name, topic.page) in fired
        if topic.kind == "trap" and any(name == topic.name for name, _ in fired):
            page = pages[topic.page]
            lines.append(f"TRAP\t{page.corpus}:{page.name}\t{topic.query}\t"
                         f"{_line_with(text_of.get(topic.page, ''), topic.phrase)[:400]}")
        elif topic.kind == "expected" and not hit:
            page = pages[topic.page]
            lines.append(f"MISS\t{page.corpus}:{page.name}\t{topic.query}\t"
                         f"{url_of.get(topic.page, '')}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the offline benchmark and print its figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality_offline",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", default=",".join(CORPORA))
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--details", type=Path)
    parser.add_argument("--texts", type=Path, help="write each page's text here (pickle)")
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--setup-cache", action="store_true",
                        help="keep the pages, sites and topics between runs (a pickle)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    setup = CACHE.with_name(f"quality-setup-{args.corpora}-{args.limit}-{args.seed}.pickle")
    if args.setup_cache and setup.exists():
        pages, topics, served = pickle.loads(setup.read_bytes())
    else:
        pages = load([c.strip() for c in args.corpora.split(",") if c.strip()])
        if args.limit and args.limit < len(pages):
            sample = random.Random(args.seed).sample(range(len(pages)), args.limit)
            pages = [pages[i] for i in sorted(sample)]
        names = site_names(pages)
        prepared = prepare_all(pages, args.workers)
        topics = draw_topics(pages, names, [p.text for p in prepared], args.seed)
        sites, _ = build_sites(pages, prepared, _PORT)
        del prepared
        served = [p for s in sites for p in s.pages]
        if args.setup_cache:
            setup.write_bytes(pickle.dumps((pages, topics, served)))
    indexes = {p.index for p in served}
    topics = [t for t in topics if t.page in indexes]
    prepared_at = time.monotonic()
    extracted = extract_all(served, args.workers, None if args.no_cache else CACHE)
    texts = [text for text, _ in extracted]
    extracted_at = time.monotonic()
    fired = judge(served, texts, topics)
    outcome = Outcome({p.index: t for p, t in zip(served, texts, strict=True) if t}, fired)
    print(f"offline quality: {len(served)} pages, {len(topics)} topics (seed {args.seed}); "
          f"prepared {prepared_at - started:.0f} s, extracted {extracted_at - prepared_at:.0f} s")
    print(HEADER)
    print(row("newswatch (extraction)", figures(pages, topics, outcome, indexes)))
    for corpus in sorted({pages[i].corpus for i in indexes}):
        wanted = {i for i in indexes if pages[i].corpus == corpus}
        print(row(f"  {corpus}", figures(pages, topics, outcome, wanted)))
    if args.details:
        write_details(args.details, pages, served, texts, topics, fired)
    if args.texts:
        args.texts.write_bytes(pickle.dumps(
            {p.index: (p.url, t) for p, t in zip(served, texts, strict=True)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
