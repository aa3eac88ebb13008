"""Running the quality benchmark: newswatch end to end, plain trafilatura beside it, and the
counting of alerts, extraction and links (see :mod:`benchmarks.quality`)."""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
import sqlite3
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

from .corpora import LabelledPage
from .quality_topics import Topic
from .quality_web import FEED_PATH, LocalWeb, Site, key
from .scoring import Tally, score

ROOT = Path(__file__).resolve().parent.parent
NETGUARD = ROOT / "tests" / "netguard"
NOTIFY = "desk@quality.test"
LONG_AGO = "36500d"  # look-back and retention: pages of 2010 are news to this monitor
Fired = set[tuple[str, int | None]]  # (topic name, page index; None: a page not served)


@dataclass
class Outcome:
    """What one extractor made of the pages: their texts and the topics that fired."""

    texts: dict[int, str]  # page index -> stored (extracted) text
    fired: Fired
    extraction: dict[str, int] = field(default_factory=dict)  # how texts were extracted
    # Pages stored under an address that does not open them (found by their title instead).
    misaddressed: list[str] = field(default_factory=list)
    wall: float = 0.0
    crawl_errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Figures:
    """Alert and extraction figures of one outcome on a set of pages."""

    pages: int
    stored: int
    expected: int
    traps: int
    hits: int  # expected topics that fired on their page
    wrong: int  # expected topics that fired on another page
    traps_fired: int
    extraction: Tally

    @property
    def precision(self) -> float:
        """Share of fired alerts that were expected."""
        fired = self.hits + self.wrong + self.traps_fired
        return self.hits / fired if fired else math.nan

    @property
    def recall(self) -> float:
        """Share of expected alerts that fired."""
        return self.hits / self.expected if self.expected else math.nan

    @property
    def trap_precision(self) -> float:
        """Share of traps that did not fire."""
        return 1 - self.traps_fired / self.traps if self.traps else math.nan


def figures(pages: Sequence[LabelledPage], topics: Sequence[Topic], outcome: Outcome,
            wanted: set[int]) -> Figures:
    """The figures of ``outcome`` over the pages ``wanted`` (indexes) and their topics."""
    fired_on: dict[str, set[int | None]] = defaultdict(set)
    for name, page in outcome.fired:
        fired_on[name].add(page)
    mine = [t for t in topics if t.page in wanted]
    hits = wrong = traps_fired = 0
    for topic in mine:
        where = fired_on.get(topic.name, set())
        if topic.kind == "trap":
            traps_fired += bool(where)
        else:
            # A page not served under its URL that holds the phrase can only be this page.
            hits += bool(where & {topic.page, None})
            wrong += len(where - {topic.page, None})
    tally = Tally()
    for index in sorted(wanted & outcome.texts.keys()):
        tally.add(score(outcome.texts[index], pages[index]))
    return Figures(
        pages=len(wanted), stored=len(wanted & outcome.texts.keys()),
        expected=sum(1 for t in mine if t.kind == "expected"),
        traps=sum(1 for t in mine if t.kind == "trap"),
        hits=hits, wrong=wrong, traps_fired=traps_fired, extraction=tally,
    )


# --- plain trafilatura -------------------------------------------------------------------


def _extract(item: tuple[bytes, str]) -> str:
    import trafilatura

    return trafilatura.extract(item[0], url=item[1]) or ""


def trafilatura_outcome(web: LocalWeb, topics: Sequence[Topic], workers: int = 2,
                        cache: Path | None = None) -> Outcome:
    """trafilatura's default extraction of every served page (the same bytes newswatch
    gets), judged by newswatch's own matcher. With ``cache`` (a JSON file), texts extracted
    by a run before from the same bytes with the same trafilatura are taken from there."""
    from storage import StoredArticle
    from storage import Topic as StoredTopic
    from watchlist import compile_query, match_articles

    started = datetime.now(UTC)
    served = [(site, p) for site in web.sites.values() for p in site.pages]
    # The page as published and its address: what the served bytes are made of, whatever
    # the local web's port (which changes from run to run).
    digests = [hashlib.sha256(p.original + p.url.removeprefix(site.base).encode()).hexdigest()
               for site, p in served]
    known: dict[str, str] = {}
    tag = f"trafilatura {version('trafilatura')} extract()"
    if cache is not None and cache.exists():
        stored = json.loads(cache.read_text(encoding="utf-8"))
        known = stored.get("texts", {}) if stored.get("extractor") == tag else {}
    todo = [(p.html, p.url) for (_, p), d in zip(served, digests, strict=True) if d not in known]
    if workers > 1 and len(todo) > 1:  # forkserver: this process runs the local web's thread
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            fresh = iter(list(pool.map(_extract, todo, chunksize=8)))
    else:
        fresh = iter([_extract(item) for item in todo])
    texts = [known[d] if d in known else next(fresh) for d in digests]
    if cache is not None and todo:
        known.update(zip(digests, texts, strict=True))
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"extractor": tag, "texts": known}), encoding="utf-8")
    served_pages = [p for _, p in served]
    now = datetime.now(UTC)
    articles = [
        StoredArticle(id=n + 1, url=p.url, source_id=1, source_name="", title=p.headline,
                      text=text, published=None, fetched=now, extraction="trafilatura")
        for n, (p, text) in enumerate(zip(served_pages, texts, strict=True))
    ]
    stored_topics = [
        StoredTopic(id=n + 1, name=t.name, query=t.query, compiled=compile_query(t.query),
                    notify=(NOTIFY,))
        for n, t in enumerate(topics)
    ]
    matches = match_articles(articles, stored_topics, now=now, lookback=timedelta(days=36500))
    fired: Fired = {(topics[m.topic_id - 1].name, served_pages[m.article_id - 1].index)
                    for m in matches if m.alert}
    return Outcome(
        texts={p.index: text for p, text in zip(served_pages, texts, strict=True) if text},
        fired=fired, extraction={"trafilatura": sum(1 for t in texts if t),
                                 "from cache": len(served) - len(todo)},
        wall=(datetime.now(UTC) - started).total_seconds(),
    )


# --- newswatch end to end ----------------------------------------------------------------


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def write_config(path: Path, sources: Iterable[str], topics: Sequence[Topic]) -> Path:
    """A newswatch config for the local web: its sources, the topics, no look-back limit."""
    sections: list[tuple[str, dict[str, object]]] = [
        ("[database]", {"path": str(path / "newswatch.db"), "keep": LONG_AGO}),
        ("[crawl]", {"every": "1h", "delay": "0s", "timeout": "20s", "retries": 0}),
        ("[alerts]", {"lookback": LONG_AGO, "storm": 0, "mbox": str(path / "alerts.mbox")}),
        ("[daemon]", {"log_level": "WARNING"}),
    ]
    sections += [("[[sources]]", {"url": url}) for url in sources]
    sections += [("[[topics]]", {"name": t.name, "query": t.query, "notify": [NOTIFY]})
                 for t in topics]
    lines = []
    for header, values in sections:
        lines.append(header)
        lines += [f"{k} = {_toml(v)}" for k, v in values.items()]
    config = path / "newswatch.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


_OWN_FILES = ("newswatch.db", "newswatch.db-wal", "newswatch.db-shm", "newswatch.db.lock",
              "alerts.mbox", "newswatch.toml", "requests.tsv", "pages.tsv")


def crawl(config: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """``newswatch crawl`` in a subprocess that can reach loopback only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_")}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(NETGUARD), str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.run(
        [sys.executable, "-m", "newswatch", "--config", str(config), "crawl"],
        cwd=config.parent, env=env, capture_output=True, text=True, timeout=timeout,
        check=False,
    )


def source_urls(sites: Iterable[Site], mode: str) -> list[str]:
    """Each site's feed (mode ``feeds``) or home page (mode ``home``)."""
    return [s.base + (FEED_PATH if mode == "feeds" else "/") for s in sites]


def newswatch_outcome(web: LocalWeb, topics: Sequence[Topic], mode: str, workdir: Path,
                      timeout: float = 1200) -> Outcome:
    """Two ``newswatch crawl`` runs: before the sites publish anything, then after."""
    started = datetime.now(UTC)
    workdir.mkdir(parents=True, exist_ok=True)
    for name in _OWN_FILES:  # a kept working directory starts afresh
        (workdir / name).unlink(missing_ok=True)
    config = write_config(workdir, source_urls(web.sites.values(), mode), topics)
    errors: list[str] = []
    for published in (False, True):
        web.published = published
        result = crawl(config, timeout)
        if result.returncode not in (0, 3):
            errors.append(f"crawl exit {result.returncode}: {result.stderr[-2000:]}")
    web.published = False
    outcome = read_database(web, workdir / "newswatch.db")
    outcome.crawl_errors = errors
    outcome.wall = (datetime.now(UTC) - started).total_seconds()
    return outcome


def page_of(web: LocalWeb, *urls: str) -> int | None:
    """The served page one of ``urls`` names (None: none)."""
    for url in urls:
        parts = urlsplit(url)
        pages = web.pages.get(parts.hostname or "")
        if pages is not None and (page := pages.get(key(parts.path, parts.query))):
            return page.index
    return None


def read_database(web: LocalWeb, database: Path) -> Outcome:
    """The articles newswatch stored and the alerts it decided, by page. An article whose
    address opens none of the pages is matched to a page of its site by its title (the
    feed's headline) and listed as misaddressed: its alert would link to nowhere."""
    if not database.exists():
        return Outcome({}, set())
    titles = {(s.host, p.headline): p.index for s in web.sites.values() for p in s.pages}
    conn = sqlite3.connect(database)
    try:
        by_article: dict[int, int | None] = {}
        texts: dict[int, str] = {}
        extraction: dict[str, int] = defaultdict(int)
        misaddressed = []
        rows = conn.execute("SELECT id, url, entry_url, title, text, extraction FROM articles")
        for article_id, url, entry_url, title, text, how in rows:
            page = page_of(web, url)
            if page is None:
                host = urlsplit(url).hostname or ""
                page = page_of(web, entry_url)
                if page is None:
                    page = titles.get((host, " ".join((title or "").split())))
                if page is not None:
                    misaddressed.append(url)
            by_article[article_id] = page
            extraction[how] += 1
            if page is not None:
                texts[page] = text or ""
        fired = {
            (name, by_article.get(article_id))
            for article_id, name in conn.execute(
                "SELECT m.article_id, t.name FROM matches m JOIN topics t ON t.id = m.topic_id"
                " WHERE m.alert = 1")
        }
    finally:
        conn.close()
    return Outcome(texts, fired, dict(extraction), misaddressed=misaddressed)


@dataclass(frozen=True)
class Links:
    """What newswatch followed of the home pages' links."""

    articles_listed: int
    articles_followed: int
    others_listed: int
    others_followed: int
    broken: int  # requests for addresses the sites never linked (404)
    pages_followed: frozenset[int] = frozenset()  # labelled pages fetched by their links

    @property
    def followed(self) -> int:
        """Links followed."""
        return self.articles_followed + self.others_followed


def links(web: LocalWeb) -> Links:
    """Which of the home pages' links were requested (both polls)."""
    asked = {(r.host, r.key) for r in web.requests}
    listed = {(s.host, p.key) for s in web.sites.values() for p in s.pages}
    addresses = {(h, k) for h, pages in web.pages.items() for k in pages}
    others = {(s.host, k) for s in web.sites.values() for k in s.listings}
    # Links to older stories are neither: articles, but not the benchmark's.
    broken = {(r.host, r.key) for r in web.requests
              if r.status == 404 and r.key[0] != "/robots.txt"}
    followed = {(h, web.pages[h][k].index) for h, k in asked & addresses}
    return Links(len(listed), len(followed), len(others), len(asked & others), len(broken),
                 frozenset(index for _, index in followed))


def write_details(path: Path, web: LocalWeb, pages: Sequence[LabelledPage],
                  topics: Sequence[Topic], runs: Sequence[tuple[str, Outcome]]) -> None:
    """One line per served page: its address and topics, and per outcome whether it was
    stored, its extraction F1 and the topics that fired on it (``+`` its expected topic,
    ``!`` a trap, ``?`` another page's expected topic)."""
    by_name = {t.name: t for t in topics}
    of_page: dict[int, list[Topic]] = defaultdict(list)
    for topic in topics:
        of_page[topic.page].append(topic)
    header = ["page", "corpus", "name", "url", "topics"]
    for label, _ in runs:
        header += [f"{label} stored", f"{label} F1", f"{label} fired"]
    fired_on: list[dict[int | None, list[str]]] = []
    for _, outcome in runs:
        here: dict[int | None, list[str]] = defaultdict(list)
        for name, page in sorted(outcome.fired, key=lambda f: (f[0], f[1] or -1)):
            known = by_name.get(name)
            mark = "!" if known is None or known.kind == "trap" else (
                "+" if known.page == page else "?")
            here[page].append(mark + name)
        fired_on.append(here)
    lines = ["\t".join(header)]
    for site in web.sites.values():
        for served in site.pages:
            cells = [str(served.index), pages[served.index].corpus, pages[served.index].name,
                     served.url,
                     " ".join(f"{t.kind[0]}:{t.query}" for t in of_page.get(served.index, []))]
            for (_, outcome), here in zip(runs, fired_on, strict=True):
                text = outcome.texts.get(served.index)
                f1 = score(text, pages[served.index]).f1 if text is not None else None
                cells += ["yes" if text is not None else "no",
                          "" if f1 is None else f"{f1:.3f}", " ".join(here.get(served.index, []))]
            lines.append("\t".join(cells))
    unplaced = [" ".join(here.get(None, [])) for here in fired_on]
    if any(unplaced):
        lines.append("\t".join(["-", "", "", "(not a served page)", "", *[
            c for u in unplaced for c in ("", "", u)]]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
