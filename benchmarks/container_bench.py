"""Extraction from each site's learnt article element (crawler.containers): the same article,
at what cost.

    python -m benchmarks.container_bench [--sites 20] [--pages 15] [--rounds 2]

Two inputs:

* **Real pages** (benchmarks.corpora: the labelled pages of trafilatura's evaluation set,
  fundus' test pages and goose3's test pages, read from their repository snapshots; the
  acceptance corpora are not among them). Each page is extracted in full; a page whose
  article one element holds (``Extracted.container``) is extracted again, cut to that
  element, as a site's later pages are once the element is learnt. Printed: how many cut
  pages give the same article (text, title, author, date, canonical URL, method), how many
  fall back to the whole page, and for the others the labelled article snippets the cut
  loses and the labelled chrome snippets it lets in. The corpora hold one or a few pages of
  a site, often years apart: a page is cut to its own element, the element a site's pages
  agree on when they share a template.
* **The cycle benchmark's heavy pages** (benchmarks.heavy_pages: real article texts when the
  fundus snapshot is here, in 71 KB of a site's chrome): ``--sites`` sites of ``--pages``
  pages each, extracted in turn as the crawl does, the site learnt from its first pages
  (crawler.containers.Containers): the share of pages cut, whether each gives what its full
  extraction gives, and the CPU a page of the full extraction and of the cut one.

CPU is process time in this one process, ``--rounds`` rounds.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from crawler.containers import Containers
from crawler.extract import extract_article
from crawler.extracted import Extracted, page_text

from . import heavy_pages
from .corpora import CorpusMissing, LabelledPage, load

FIELDS = ("text", "title", "author", "date", "canonical_url", "method")


def same(one: Extracted | None, other: Extracted | None) -> bool:
    """Whether two extractions give the same article."""
    if one is None or other is None:
        return one is other
    return all(getattr(one, f) == getattr(other, f) for f in FIELDS)


@dataclass
class RealFigures:
    pages: int = 0
    with_element: int = 0
    cut: int = 0
    fell_back: int = 0
    same: int = 0
    same_text: int = 0
    differ: int = 0
    inside_lost: int = 0  # labelled article snippets the full extraction has, the cut not
    outside_let_in: int = 0  # labelled chrome snippets the cut has, the full extraction not
    full_cpu: float = 0.0  # on the pages cut
    cut_cpu: float = 0.0
    differing: list[str] = field(default_factory=list)


def real_pages(pages: Sequence[LabelledPage]) -> RealFigures:
    """Each page cut to its own element, against its full extraction."""
    out = RealFigures()
    for page in pages:
        html = page_text(page.html, None)
        out.pages += 1
        start = time.process_time()
        whole = extract_article(html, page.url)
        full = time.process_time() - start
        if whole is None or whole.container is None:
            continue
        out.with_element += 1
        start = time.process_time()
        cut = extract_article(html, page.url, whole.container)
        spent = time.process_time() - start
        if cut is None or not cut.cut:
            out.fell_back += 1
            continue
        out.cut += 1
        out.full_cpu += full
        out.cut_cpu += spent
        out.same_text += cut.text == whole.text
        if same(cut, whole):
            out.same += 1
            continue
        out.differ += 1
        out.differing.append(f"{page.corpus}/{page.name}")
        out.inside_lost += sum(1 for s in page.inside if s in whole.text and s not in cut.text)
        out.outside_let_in += sum(1 for s in page.outside
                                  if s in cut.text and s not in whole.text)
    return out


@dataclass
class SiblingFigures:
    sites: int = 0  # sites with two pages or more
    pages: int = 0  # pages whose site's other pages told an element
    in_full: int = 0  # that element was not on the page once, or its cut was not kept
    cut: int = 0
    same_text: int = 0
    inside_lost: int = 0
    outside_let_in: int = 0


def real_siblings(pages: Sequence[LabelledPage]) -> SiblingFigures:
    """Each page of a site with several pages, handed the element its site's other pages
    hold their article in (the one most of them tell), as the crawl hands a learnt one. The
    corpora's pages of a site are mostly years apart, from other templates: this shows what
    the crawl does with an element a site no longer uses."""
    out = SiblingFigures()
    sites: dict[str, list[LabelledPage]] = {}
    for page in pages:
        sites.setdefault(page.site, []).append(page)
    for site_pages in sites.values():
        if len(site_pages) < 2:
            continue
        out.sites += 1
        texts = {p.name: page_text(p.html, None) for p in site_pages}
        whole = {p.name: extract_article(texts[p.name], p.url) for p in site_pages}
        for page in site_pages:
            told = Counter(e.container for name, e in whole.items()
                           if name != page.name and e is not None and e.container)
            if not told:
                continue
            out.pages += 1
            got = extract_article(texts[page.name], page.url, told.most_common(1)[0][0])
            full = whole[page.name]
            if got is None or not got.cut:
                out.in_full += 1
                continue
            out.cut += 1
            full_text = full.text if full is not None else ""
            if got.text == full_text:
                out.same_text += 1
                continue
            out.inside_lost += sum(1 for s in page.inside
                                   if s in full_text and s not in got.text)
            out.outside_let_in += sum(1 for s in page.outside
                                      if s in got.text and s not in full_text)
    return out


@dataclass
class HeavyFigures:
    pages: int = 0
    cut: int = 0
    same: int = 0
    same_text: int = 0  # the same text (another pass of the cascade named, perhaps)
    full_cpu: float = 0.0
    learnt_cpu: float = 0.0


def heavy(sites: int, per_site: int, rounds: int, seed: int = 1) -> HeavyFigures:
    """``sites`` x ``per_site`` heavy pages, extracted in full and as the crawl extracts them
    (each site's element learnt from its first pages), ``rounds`` times."""
    texts = heavy_pages.TextSource(seed)
    pool = texts.texts or tuple(texts.next() for _ in range(50))
    teasers = tuple(t.title for t in pool[:200])
    comments = heavy_pages.sentences(pool, 600)
    pages = []
    for index in range(sites):
        for n in range(per_site):
            text = texts.next()
            slug = f"{index:03d}-{n:03d}"
            url = f"http://127.0.0.{index + 1}/articles/{slug}"
            html = heavy_pages.render(
                index, slug, text, published_iso="2026-12-04T08:00:00+00:00",
                author="Staff reporter", canonical=url, teasers=teasers, comments=comments,
            ).decode()
            pages.append((f"site{index}", url, html))
    out = HeavyFigures()
    for _ in range(rounds):
        learnt = Containers()
        for site, url, html in pages:
            out.pages += 1
            start = time.process_time()
            whole = extract_article(html, url)
            full = time.process_time() - start
            out.full_cpu += full
            hint = learnt.hint(site)
            if hint is None:
                got = whole
                out.learnt_cpu += full
            else:
                start = time.process_time()
                got = extract_article(html, url, hint)
                out.learnt_cpu += time.process_time() - start
            learnt.seen(site, got)
            out.cut += bool(got is not None and got.cut)
            out.same += same(got, whole)
            out.same_text += (got.text if got else None) == (whole.text if whole else None)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=20, help="heavy sites (20)")
    parser.add_argument("--pages", type=int, default=15, help="pages of each heavy site (15)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds over the heavy pages (2)")
    parser.add_argument("--no-real", action="store_true", help="leave the real pages out")
    args = parser.parse_args(argv)
    rows: list[tuple[str, str]] = []
    if not args.no_real:
        try:
            real = real_pages(load())
        except CorpusMissing as exc:
            print(f"real pages: left out ({exc})")
        else:
            rows += [
                ("real pages (trafilatura, fundus, goose3 corpora)", f"{real.pages:,}"),
                ("  with one element holding the article", f"{real.with_element:,}"),
                ("  cut to it (others extracted in full: see crawler.extract)",
                 f"{real.cut:,} ({real.fell_back:,} in full)"),
                ("  the same article as in full; the same text",
                 f"{real.same:,}; {real.same_text:,} of {real.cut:,}"),
                ("  another article: labelled article snippets lost / chrome snippets let in",
                 f"{real.differ:,}: {real.inside_lost} / {real.outside_let_in}"),
                ("  CPU a cut page: in full / cut",
                 f"{_ms(real.full_cpu, real.cut)} / {_ms(real.cut_cpu, real.cut)}"),
            ]
            for name in real.differing:
                rows.append(("    differs", name))
            sib = real_siblings(load())
            rows += [
                ("real sites with several pages", f"{sib.sites:,}"),
                ("  pages handed the element their site's other pages tell", f"{sib.pages:,}"),
                ("  extracted in full (the element not there once, or its cut not kept)",
                 f"{sib.in_full:,}"),
                ("  cut: the same text as in full", f"{sib.same_text:,} of {sib.cut:,}"),
                ("  cut, another text: labelled article snippets lost / chrome let in",
                 f"{sib.inside_lost} / {sib.outside_let_in}"),
            ]
    h = heavy(args.sites, args.pages, args.rounds)
    kind = "real article texts" if heavy_pages.real_texts() else "GENERATED texts"
    rows += [
        (f"heavy pages ({args.sites} sites x {args.pages}, {kind}, {args.rounds} rounds)",
         f"{h.pages:,}"),
        ("  cut to their site's learnt element", f"{h.cut:,} ({h.cut / max(1, h.pages):.0%})"),
        ("  the same article as in full; the same text",
         f"{h.same:,}; {h.same_text:,} of {h.pages:,}"),
        ("  CPU a page: always in full / learning as the crawl does",
         f"{_ms(h.full_cpu, h.pages)} / {_ms(h.learnt_cpu, h.pages)}"),
    ]
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    return 0


def _ms(seconds: float, pages: int) -> str:
    return f"{seconds / max(1, pages) * 1000:.2f} ms"


if __name__ == "__main__":
    raise SystemExit(main())
