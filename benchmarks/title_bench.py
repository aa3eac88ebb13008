"""A page's title and date, as the crawl reads them, against the corpora's labels.

    python -m benchmarks.title_bench [--corpora trafilatura,fundus,goose3] [--details FILE]

Input: the pages of benchmarks.corpora whose corpus labels their title or publication date:
trafilatura's evaluation set (its ``title`` and ``date``), fundus' test pages (``title``,
``publishing_date``) and goose3's test pages (``title``); the acceptance corpora are not
among them. Each page is read by ``crawler.extract.page_metadata`` as the crawl reads a
page no feed entry titles or dates (a sitemap's or home page's link). Printed, by corpus:
the titles equal to their label (white space folded) and the dates within a day of their
label's day, of them the ones on the label's day.

``--details FILE``: a line per labelled title or date (tab-separated: ``title`` or
``date``, ``equal`` / ``same day`` / ``within a day`` / ``wrong``, corpus, page, address,
label, what was read), the wrong ones to read by hand.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from crawler.extract import load_page, page_metadata

from .corpora import CORPORA, LabelledPage, load, trafilatura_labels

#: A date's day, as labels and ``page_metadata`` write it ("2024-08-08 08:00:00+00:00").
_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@dataclass
class Figures:
    titles: Counter[str] = field(default_factory=Counter)  # labelled, by corpus
    titles_equal: Counter[str] = field(default_factory=Counter)
    dates: Counter[str] = field(default_factory=Counter)
    dates_near: Counter[str] = field(default_factory=Counter)  # within a day
    dates_same: Counter[str] = field(default_factory=Counter)  # on the label's day
    details: list[tuple[str, ...]] = field(default_factory=list)


def _fold(text: str | None) -> str:
    return " ".join((text or "").split())


def _day(text: str | None) -> date | None:
    found = _DAY.match((text or "").strip())
    if found is None:
        return None
    try:
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None


def labels(page: LabelledPage, traf: dict[str, dict[str, str]]) -> tuple[str | None, str | None]:
    """The page's labelled title and publication date (None where its corpus has none)."""
    if page.corpus == "trafilatura":
        item = traf.get(page.name, {})
        return item.get("title") or None, item.get("date") or None
    return page.title, page.published


def measure(pages: Iterable[tuple[LabelledPage, str | None, str | None]]) -> Figures:
    """Each page's title and date read and compared with its labels."""
    out = Figures()
    for page, title, published in pages:
        if not title and not published:
            continue
        tree = load_page(page.html)
        found = page_metadata(tree, page.url) if tree is not None else None
        where = (page.corpus, page.name, page.url)
        if title:
            read = _fold(found.title if found else None)
            equal = read == _fold(title)
            out.titles[page.corpus] += 1
            out.titles_equal[page.corpus] += equal
            out.details.append(("title", "equal" if equal else "wrong", *where, _fold(title), read))
        if published:
            read = found.date if found and found.date else ""
            label_day, read_day = _day(published), _day(read)
            apart = (abs((label_day - read_day).days) if label_day and read_day else None)
            out.dates[page.corpus] += 1
            out.dates_near[page.corpus] += apart is not None and apart <= 1
            out.dates_same[page.corpus] += apart == 0
            verdict = ("wrong" if apart is None or apart > 1 else
                       "same day" if apart == 0 else "within a day")
            out.details.append(("date", verdict, *where, published, read))
    return out


def rows(figures: Figures) -> list[tuple[str, str]]:
    """The printed table: a figure over all corpora, then each corpus'."""
    def line(part: Counter[str], whole: Counter[str]) -> str:
        total, count = sum(whole.values()), sum(part.values())
        share = f" ({100 * count / total:.1f} %)" if total else ""
        by = " / ".join(f"{corpus} {part[corpus]} of {whole[corpus]}" for corpus in whole)
        return f"{count} of {total}{share}: {by}"

    return [
        ("titles equal", line(figures.titles_equal, figures.titles)),
        ("dates within a day", line(figures.dates_near, figures.dates)),
        ("  of them on the label's day", line(figures.dates_same, figures.dates)),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Run on the corpora and print the figures (and write the details)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.title_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", default=",".join(CORPORA))
    parser.add_argument("--details", type=Path, help="write each labelled field's result here")
    args = parser.parse_args(argv)
    chosen = [name for name in args.corpora.split(",") if name]
    traf = trafilatura_labels() if "trafilatura" in chosen else {}
    figures = measure((page, *labels(page, traf)) for page in load(chosen))
    for name, value in rows(figures):
        print(f"{name}: {value}")
    if args.details is not None:
        with args.details.open("w", encoding="utf-8") as out:
            for detail in figures.details:
                print("\t".join(detail), file=out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
