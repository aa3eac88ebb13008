"""Home-page links: how many article links ``crawler.links.article_links`` finds, and how many
links it would follow that are no articles, over the labelled home pages of
tests/fixtures/homepages (``python -m benchmarks.homepage_links``).

Each fixture page starts with ``<!-- page: URL -->`` (the address it is read as) and labels
its links: ``data-label="article"`` an article link in the page's main lists (must be found),
``data-label="chrome"`` an article link in navigation, a sidebar or a footer (may be found,
need not be); any other link is no article (must not be followed).

``--links-at COMMIT`` runs the ``crawler/links.py`` of an earlier commit instead (read with
``git show``; its relative imports resolved against today's ``crawler`` package), to compare.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import lxml.html

from crawler.links import article_links
from crawler.urls import canonicalize

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "homepages"
_PAGE = re.compile(r"<!--\s*page:\s*(\S+)\s*-->")


@dataclass(frozen=True)
class PageResult:
    """What article_links found on one labelled page."""

    name: str
    articles: frozenset[str]  # labelled article links in the main lists
    found: tuple[str, ...]
    missed: frozenset[str]
    false: frozenset[str]  # found, but not labelled as an article link


def labelled(path: Path) -> tuple[str, str, set[str], set[str]]:
    """A fixture's text, address, article links and article links in chrome."""
    text = path.read_text(encoding="utf-8")
    match = _PAGE.search(text)
    if match is None:
        raise ValueError(f"{path.name}: no <!-- page: URL --> line")
    page = match.group(1)
    doc = lxml.html.document_fromstring(text.encode("utf-8"))
    base = page
    for element in doc.iter("base"):
        if element.get("href"):
            base = urljoin(page, element.get("href"))
            break
    labels: dict[str, set[str]] = {"article": set(), "chrome": set()}
    for link in doc.iter("a"):
        label = link.get("data-label")
        if label is not None:
            labels[label].add(canonicalize(urljoin(base, link.get("href", "").strip())))
    return text, page, labels["article"], labels["chrome"]


def links_at(commit: str) -> Callable[[bytes, str], list[str]]:
    """The ``article_links`` of ``crawler/links.py`` as it was at ``commit``."""
    source = subprocess.run(
        ["git", "show", f"{commit}:crawler/links.py"],
        cwd=FIXTURES.parent,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType(f"links_at_{commit}")
    module.__dict__["__package__"] = "crawler"
    exec(compile(source, f"{commit}:crawler/links.py", "exec"), module.__dict__)
    return module.__dict__["article_links"]  # type: ignore[no-any-return]


def run(
    fixtures: Path = FIXTURES, links: Callable[[bytes, str], list[str]] = article_links
) -> list[PageResult]:
    """article_links (or ``links``) over every labelled page."""
    results = []
    for path in sorted(fixtures.glob("*.html")):
        text, page, articles, chrome = labelled(path)
        found = links(text.encode("utf-8"), page)
        results.append(
            PageResult(
                name=path.stem,
                articles=frozenset(articles),
                found=tuple(found),
                missed=frozenset(articles - set(found)),
                false=frozenset(set(found) - articles - chrome),
            )
        )
    return results


def summary(results: list[PageResult]) -> dict[str, float]:
    """Aggregate figures: pages, article links, found share, false share of followed links."""
    articles = sum(len(r.articles) for r in results)
    missed = sum(len(r.missed) for r in results)
    followed = sum(len(r.found) for r in results)
    false = sum(len(r.false) for r in results)
    return {
        "pages": len(results),
        "article_links": articles,
        "found": (articles - missed) / articles if articles else 1.0,
        "followed": followed,
        "false": false / followed if followed else 0.0,
    }


def report(results: list[PageResult]) -> str:
    """Per-page misses and false links, then the aggregate figures."""
    lines = []
    for r in results:
        for url in sorted(r.missed):
            lines.append(f"{r.name}: missed {url}")
        for url in sorted(r.false):
            lines.append(f"{r.name}: false  {url}")
    s = summary(results)
    lines.append(
        f"{s['pages']} pages, {s['article_links']} article links: "
        f"{s['found']:.1%} found; {s['followed']} links followed, {s['false']:.1%} not articles"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Print the per-page misses and false links, then the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--links-at", metavar="COMMIT", help="measure crawler/links.py of COMMIT")
    args = parser.parse_args(argv)
    links = links_at(args.links_at) if args.links_at else article_links
    sys.stdout.write(report(run(links=links)) + "\n")


if __name__ == "__main__":
    main()
