"""The extraction benchmark on pages of the local news site (labelled by their stories):
passes, strategies, eras and the site memory's scores. Speed is never asserted here."""

from __future__ import annotations

import urllib.request

from newssite import STORIES_BY_SLUG, NewsSite

from benchmarks import extraction
from benchmarks.corpora import LabelledPage

SLUGS = ("central-bank-holds-rates", "city-late-winner", "harbour-wind-farm-approved")
NOTE = "Editor's note: this newspaper is funded by the Northgate Readers' Trust."


def pages(chrome: str, disclaimer: str | None = None) -> list[LabelledPage]:
    """The site's article pages, each labelled with its story's body."""
    found = []
    with NewsSite("Northgate Evening Post", chrome=chrome) as site:
        site.disclaimer = disclaimer
        for slug in SLUGS:
            with urllib.request.urlopen(site.url(f"/articles/{slug}"), timeout=10) as response:
                html = response.read()
            found.append(LabelledPage(
                corpus="local", name=slug, url=f"https://post.example/articles/{slug}",
                html=html, body="\n".join(STORIES_BY_SLUG[slug].body), inside=(), outside=(),
            ))
    return found


def test_every_strategy_scores_every_page_and_the_cascade_reads_old_layouts() -> None:
    runs = [extraction.run_page(page) for page in pages("article-table.html")]
    for run in runs:
        assert set(run.texts) == {(m, t) for m in extraction.PASSES for t in (False, True)}
        assert run.year == 2026 or run.year is None
        assert extraction.era(run) in {"2021-", "undated"}
        assert not run.texts["precision", False]  # discarded by precision mode alone
        text, seconds = extraction.STRATEGIES["precision only (before)"](run)
        assert text == "" and seconds > 0
        text, _ = extraction.CHOSEN(run)
        assert STORIES_BY_SLUG[run.page.name].body[-1][:60] in text
        chosen, used = extraction.cascade_steps(run, extraction.INCLUDE_TABLES)
        assert chosen == "default" and used == {"fast", "default"}  # no paragraphs
        chosen, used = extraction.cascade_steps(run, extraction.INCLUDE_TABLES, fast=False)
        assert chosen == "default" and used == {"default"}


def test_the_site_memory_removes_a_note_on_every_page_and_scores_the_gain() -> None:
    runs = [extraction.run_page(page) for page in pages("article.html", NOTE)]
    texts = [extraction.CHOSEN(run)[0] for run in runs]
    assert all("Readers' Trust" in text for text in texts)
    before, after, changed = extraction.template_memory(runs, texts, 2)
    assert changed == 3 and before.pages == after.pages == 3
    assert after.tally.precision > before.tally.precision
    assert after.tally.recall == before.tally.recall
