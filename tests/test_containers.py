"""Pages extracted from the element their site holds its articles in (crawler.containers): the
path of that element as a full extraction finds it, the cut page's extraction (the same
article as the whole page's), the crawl's learning of it site by site, and a real crawl whose
later pages are cut and stored exactly as in full."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html
from newssite import STORIES, NewsSite

from crawler.containers import LEARN_AFTER, Containers
from crawler.extract import container_path, extract_article, find_container, load_page
from crawler.extracted import Extracted
from crawler.pagetask import extract_page

FIXTURES = Path(__file__).parent / "fixtures"
URL = "http://127.0.0.1/articles/a"


#: The test site's chromes (tests/fixtures/article*.html), each around every canned story.
CHROMES = [p.name for p in sorted(FIXTURES.glob("article*.html"))]
PAGES = [(chrome, story.slug) for chrome in CHROMES for story in STORIES]


def render(chrome: str, slug: str) -> str:
    """The story's page in the chrome, as the test site serves it."""
    site = NewsSite(chrome=chrome)
    site.start()
    try:
        return site.render_article(next(s for s in STORIES if s.slug == slug)).decode()
    finally:
        site.stop()


@pytest.mark.parametrize(("chrome", "slug"), PAGES)
def test_a_page_cut_to_its_article_element_gives_the_same_article(chrome, slug):
    page = render(chrome, slug)
    whole = extract_article(page, URL)
    assert whole is not None and not whole.cut
    if whole.container is None:
        pytest.skip(f"{chrome}: no element holds the article alone")
    cut = extract_article(page, URL, whole.container)
    assert cut is not None and cut.cut, (chrome, slug)
    assert cut.container == whole.container
    for field in ("text", "title", "author", "date", "canonical_url", "method"):
        assert getattr(cut, field) == getattr(whole, field), (chrome, slug, field)


@pytest.mark.parametrize(
    "chrome", [c for c in CHROMES if "__standfirst" in (FIXTURES / c).read_text()]
)
def test_a_page_cut_to_the_body_element_other_pages_taught_keeps_its_standfirst(chrome):
    # A page whose standfirst repeats its first sentence (a brief), or that has none, holds
    # its article in the body's element: cut to it, a page with a standfirst of its own
    # lost that standfirst (its names, its news), in whichever order the site's pages came.
    with_lede = render(chrome, "venezuela-opposition-leader")
    whole = extract_article(with_lede, URL)
    lede = next(s for s in STORIES if s.slug == "venezuela-opposition-leader").summary
    assert whole is not None and whole.text.startswith(lede)
    taught = extract_article(render(chrome, "maduro-abandona-venezuela"), URL)
    if taught is None or not taught.container or taught.container == whole.container:
        pytest.skip(f"{chrome}: the pages' articles stand in one element")
    cut = extract_article(with_lede, URL, taught.container)
    assert cut is not None and cut.cut
    assert cut.text == whole.text


def test_most_pages_have_an_article_element():
    found = [extract_article(render(chrome, slug), URL) for chrome, slug in PAGES]
    assert sum(1 for e in found if e is not None and e.container) >= 0.8 * len(found)


ARTICLE = "<p>" + "The council approved the new harbour plan after a long debate. " * 8 + "</p>"
NAV = "<nav><ul>" + "".join(f'<li><a href="/s/{n}">Section {n}</a></li>' for n in range(12)) + "</ul></nav>"


def page_with(*articles: str) -> str:
    return (f"<html><head><title>Harbour plan approved</title></head><body>{NAV}"
            f"{''.join(articles)}<footer><p>Contact us. All rights reserved.</p></footer>"
            "</body></html>")


def test_the_path_reads_numbers_as_zero_and_keeps_no_positions():
    tree = load_page(page_with(f'<div class="wrap w-1/2"><article id="post-1105">{ARTICLE}</article></div>'))
    element = tree.xpath("//article")[0]
    assert container_path(element) == "div.wrap w-0/0# > article.#post-0"
    other = load_page(page_with(f'<div class="wrap w-1/2"><article id="post-77">{ARTICLE}</article></div>'))
    assert find_container(other, container_path(element)) is other.xpath("//article")[0]
    # Tags keep their digits (an h1 is not an h0).
    heading = load_page(page_with(f'<section class="col-12"><h1 class="t1">Harbour</h1>{ARTICLE}</section>'))
    h1 = heading.xpath("//h1")[0]
    assert container_path(h1) == "section.col-0# > h1.t0#"
    assert find_container(heading, container_path(h1)) is h1


def test_a_page_without_the_element_or_with_two_is_extracted_in_full():
    path = "div.story# > article.#"
    lacking = page_with(f'<section class="story">{ARTICLE}</section>')
    twice = page_with(*(f'<div class="story"><article>{ARTICLE}</article></div>',) * 2)
    assert find_container(load_page(lacking), path) is None
    assert find_container(load_page(twice), path) is None
    for page in (lacking, twice):
        hinted = extract_article(page, URL, path)
        assert hinted == extract_article(page, URL)
        assert hinted is not None and not hinted.cut


def test_a_cut_that_the_fast_pass_does_not_take_is_redone_in_full():
    # The element holds only a short caption: the fast pass gives no article from it.
    page = page_with(f'<div class="story"><article>{ARTICLE}</article>'
                     '<figure class="pic"><figcaption>A harbour crane.</figcaption></figure></div>')
    hinted = extract_article(page, URL, "div.story# > figure.pic#")
    whole = extract_article(page, URL)
    assert hinted == whole and whole is not None and not whole.cut
    assert "harbour plan" in whole.text


def test_a_cut_whose_text_is_enough_for_the_whole_page_is_kept():
    # Short lines (a list of facts as paragraphs) make the element's text long for the
    # element's own paragraph text; the whole page's (its comments besides) takes it, as the
    # whole page's extraction does: the cut is kept, with the same article.
    story = "The council approved the new harbour plan after a long debate in the town hall. " * 4
    facts = "".join(f"<p>Berth {n} gets a new crane and a longer quay wall.</p>" for n in range(14))
    comment = "<p>" + "I have lived by the harbour for forty years and this plan worries me. " * 4 + "</p>"
    page = page_with(f'<div class="story"><article><p>{story}</p><h2>What changes</h2>{facts}'
                     f'<p>{story}</p></article></div><section class="comments">{comment * 3}</section>')
    whole = extract_article(page, URL)
    assert whole is not None and whole.method == "fast"
    assert whole.container == "div.story# > article.#"
    hinted = extract_article(page, URL, whole.container)
    assert hinted is not None and hinted.cut
    assert replace(hinted, cut=False) == whole
    assert "Berth 13" in hinted.text and "forty years" not in hinted.text


def test_a_page_whose_paragraphs_stand_outside_the_element_is_extracted_in_full():
    # Where the site's other pages hold their article, this one holds a summary (a live
    # page, a gallery): its paragraphs are elsewhere, and the cut would keep the summary.
    summary = "<p>" + "A summary of the harbour decision for the readers of the front page. " * 6 + "</p>"
    page = page_with(f'<div class="story"><div class="body">{summary}</div></div>'
                     f'<div class="live">{ARTICLE * 5}</div>')
    hinted = extract_article(page, URL, "div.story# > div.body#")
    whole = extract_article(page, URL)
    assert hinted == whole and whole is not None and not whole.cut
    assert whole.text.count("The council approved") >= 8


def test_the_cut_keeps_the_elements_ancestors_and_the_head():
    page = page_with(f'<main class="layout"><article class="story">{ARTICLE}</article>'
                     '<aside class="related"><a href="/x">Other story</a></aside></main>')
    tree = load_page(page)
    from crawler.extract import _cut

    before = lxml_html.tostring(tree, encoding="unicode")
    cut = _cut(tree, tree.xpath("//article")[0])
    kept = lxml_html.tostring(cut, encoding="unicode")
    assert "<title>Harbour plan approved</title>" in kept
    assert '<main class="layout"><article class="story">' in kept
    assert "Section 3" not in kept and "Other story" not in kept and "rights reserved" not in kept
    # A copy, in a document of its own: the page is left whole for the rules that read it.
    assert lxml_html.tostring(tree, encoding="unicode") == before
    assert cut.getroottree().getroot() is cut


def _nodes(tree: Any) -> list[tuple[Any, ...]]:
    return [(type(node), node.tag, list(node.attrib.items()) if isinstance(node.tag, str)
             else None, node.text, node.tail) for node in tree.iter()]


#: A fragment: lxml gives its element, whose parent is the body lxml put it in.
FRAGMENT = (f'<div class="a">before<article class="s">{ARTICLE}<!-- note --></article>'
            'after<aside>Other story</aside></div>')


@pytest.mark.parametrize("chrome", [*CHROMES, "fragment"])
def test_the_cut_copy_is_the_page_cut_in_place(chrome: str) -> None:
    # The copy holds the same nodes as the page cut in place (_keep_only: the page's tree
    # changed): element classes, tags, names, texts and tails, comments, the html element's
    # other children; the page is left as it was. A fragment is cut in place.
    from crawler.extract import _cut, _keep_only, _parsed

    body = FRAGMENT if chrome == "fragment" else render(chrome, STORIES[0].slug)
    paths = [container_path(e) for e in _parsed(body).iter("article", "main", "div", "p")
             if len(e)]
    tried = 0
    for path in paths:
        page = _parsed(body)
        box = find_container(page, path)
        if box is None:
            continue
        whole = _nodes(page)
        copied = _cut(page, box)
        in_place = _parsed(body)
        _keep_only(in_place, find_container(in_place, path))
        assert _nodes(copied) == _nodes(in_place), path
        if copied is not page:
            assert _nodes(page) == whole and copied.getroottree().getroot() is copied
        tried += 1
    assert tried


def test_what_is_read_of_the_whole_page_is_the_page_before_the_cut() -> None:
    # The page's text is read when a rule first needs it: of the page left whole, and,
    # where the tree is cut in place (a fragment), before the cut.
    from crawler.extract import _cut, _parsed, _Whole, page_metadata, page_text

    for body in (page_with(FRAGMENT), FRAGMENT):
        tree = _parsed(body)
        before = page_text(tree)
        whole = _Whole(tree, URL, page_metadata)
        cut = _cut(tree, tree.xpath("//article")[0])
        assert "Other story" not in page_text(cut)
        assert whole.text == before and "Otherstory" in whole.text


def page(container: str | None, *, cut: bool = False) -> Extracted:
    return Extracted(text="t", title=None, author=None, date=None, canonical_url=None,
                     method="fast", container=container, cut=cut)


def test_a_site_is_learnt_after_pages_agree_and_checked_now_and_then():
    sites = Containers(learn_after=3, check_every=4)
    for _ in range(2):
        sites.seen("a.example", page("main# > article#"))
        assert sites.hint("a.example") is None
    sites.seen("a.example", page("main# > article#"))
    assert sites.learnt("a.example") == "main# > article#"
    hints = [sites.hint("a.example") for _ in range(8)]
    assert hints == ["main# > article#"] * 3 + [None] + ["main# > article#"] * 3 + [None]
    sites.seen("a.example", page("main# > article#", cut=True))
    assert sites.learnt("a.example") == "main# > article#"
    assert sites.hint("b.example") is None


def test_a_page_found_elsewhere_makes_the_site_learn_again():
    sites = Containers(learn_after=2)
    for _ in range(2):
        sites.seen("a.example", page("main# > article#"))
    sites.seen("a.example", page("div.live#"))  # a full extraction found it elsewhere
    assert sites.learnt("a.example") is None
    sites.seen("a.example", page("div.live#"))
    assert sites.learnt("a.example") == "div.live#"


def test_a_page_without_an_element_of_its_own_teaches_nothing():
    # No article (an index page), or a text that the fast pass did not give in one element
    # (the default pass's): the site's element is neither confirmed nor denied.
    sites = Containers(learn_after=3)
    sites.seen("a.example", page("main# > article#"))
    sites.seen("a.example", None)
    sites.seen("a.example", page(None))
    sites.seen("a.example", page("main# > article#"))
    assert sites.learnt("a.example") is None
    sites.seen("a.example", page("main# > article#"))
    assert sites.learnt("a.example") == "main# > article#"
    sites.seen("a.example", page(None))
    assert sites.learnt("a.example") == "main# > article#"


def test_an_element_inside_the_learnt_one_agrees_and_the_outer_one_is_kept():
    # A page whose lede stands in the article's header holds its article in the article
    # element; one without, in the body below it: the outer element holds both.
    sites = Containers(learn_after=3)
    sites.seen("a.example", page("main# > article.story#"))
    sites.seen("a.example", page("main# > article.story# > div.body#"))
    sites.seen("a.example", page("main# > article.story# > div.body#"))
    assert sites.learnt("a.example") == "main# > article.story#"
    sites.seen("a.example", page("main# > article.story#x"))  # a sibling, not inside
    assert sites.learnt("a.example") is None


def test_sites_are_forgotten_least_recently_seen_first():
    sites = Containers(learn_after=1, max_sites=2)
    for site in ("a", "b", "a", "c"):
        sites.seen(site, page(f"{site}#"))
    assert sites.learnt("a") == "a#" and sites.learnt("c") == "c#"
    assert sites.learnt("b") is None
    sites.seen("a", page("a#", cut=True))  # a page cut counts as seen
    sites.seen("d", page("d#"))
    assert sites.learnt("a") == "a#" and sites.learnt("c") is None


#: Crawls here run with page worker processes, as the daemon does.
@pytest.mark.page_workers
def test_a_crawl_reads_a_sites_later_pages_from_its_article_element(site, workdir):
    stories = [*STORIES, *(replace(s, slug=f"{s.slug}-2", title=f"{s.title} (update)") for s in STORIES)]
    for story in stories:
        site.publish(story, "world")
    workdir.write_config(sources=[site.url("/feeds/world.rss")])
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(stories)} new article(s)" in result.stdout
    cut = result.stdout.split("; ")[2] if result.stdout.count("; ") > 1 else ""
    assert "page(s) read from their site's learnt article element" in cut, result.stdout
    assert int(cut.split()[0]) >= 1
    rows = [json.loads(r) for r in workdir.newswatch("export").stdout.splitlines()]
    stored = {r["url"].rsplit("/", 1)[-1]: r for r in rows}
    assert len(stored) == len(stories)
    for story in stories:
        whole = extract_page(site.render_article(story), site.article_url(story.slug), "utf-8")
        assert whole is not None
        assert stored[story.slug]["text"] == whole.text, story.slug
        assert stored[story.slug]["extraction"].startswith("page:"), story.slug


def test_the_benchmark_cuts_a_sites_later_heavy_pages(capsys):
    from benchmarks import container_bench

    figures = container_bench.heavy(sites=2, per_site=6, rounds=1)
    assert figures.pages == 12
    # Each site learnt from its first two pages, then its pages cut (none checked in full
    # so soon), each giving its full extraction's article (the headline line aside).
    assert figures.cut == 2 * (6 - LEARN_AFTER)
    assert figures.same >= figures.pages - 2
    assert container_bench.main(["--sites", "1", "--pages", "4", "--rounds", "1", "--no-real"]) == 0
    out = capsys.readouterr().out
    assert "cut to their site's learnt element" in out and "2 (50%)" in out
    assert "the same text" in out
