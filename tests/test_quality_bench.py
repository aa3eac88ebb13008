"""The quality benchmark's machinery (benchmarks/quality*.py) on a tiny corpus built here:
topics drawn from labels, the local web, newswatch end to end, and the counting."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.request import urlopen

import pytest

from benchmarks.corpora import LabelledPage, load
from benchmarks.quality_offline import extract_all, judge
from benchmarks.quality_run import (
    Outcome,
    figures,
    links,
    newswatch_outcome,
    trafilatura_outcome,
)
from benchmarks.quality_topics import Topic, draw_topics
from benchmarks.quality_web import (
    BYLINES,
    FEED_PATH,
    LocalWeb,
    add_cards,
    build_sites,
    free_port,
    key,
    page_url,
    prepare,
    site_names,
)

# Each page's article: three paragraphs of words no other page uses.
ARTICLES = {
    "https://www.harbourgazette.example/2011/03/04/ferry-timetable-overhaul": (
        "Ferry timetable overhaul divides harbour councillors",
        [
            "The harbour council voted on Thursday to overhaul the ferry timetable, moving the "
            "first crossing to dawn and adding a late sailing for shift workers at the cannery.",
            "Councillor Morwenna Tregarthen argued that the cannery shifts had changed twice "
            "since the pandemic, while boatmen complained that the winter tides make early "
            "departures hazardous around the breakwater lighthouse.",
            "A consultation with islanders will run until April, after which the revised "
            "schedule is expected to take effect before the summer regatta season begins.",
        ],
    ),
    "https://www.harbourgazette.example/news/story.asp?id=4417&cat=2": (
        "Lifeboat volunteers rescue stranded kayakers near the cliffs",
        [
            "Volunteers from the lifeboat station launched twice on Sunday afternoon after two "
            "kayakers were stranded beneath the granite cliffs by a rising swell.",
            "Coxswain Demelza Pascoe said the paddlers had sheltered in a sea cave for nearly "
            "three hours, wrapped in foil blankets they carried in waterproof pouches.",
            "Both were brought ashore unharmed, and the station reminded visitors to check "
            "the forecast and carry a radio before venturing beyond the sheltered bay.",
        ],
    ),
    "https://valleyrecord.example/article.cfm?id=98213": (
        "Orchard cooperative opens cider press to schoolchildren",
        [
            "The orchard cooperative in the upper valley invited pupils from three village "
            "schools to watch apples pressed into juice at its restored timber cider press.",
            "Beekeeper Ansel Whitcombe explained how pollinators decide the size of the "
            "harvest, and children labelled bottles to sell at the autumn produce fair.",
            "Proceeds will buy saplings of heritage varieties grafted from trees planted in "
            "the orchard more than a century ago by the founding families.",
        ],
    ),
    "https://valleyrecord.example/local/bridge-repairs-begin.html": (
        "Repairs begin on the medieval packhorse bridge",
        [
            "Stonemasons began repairs on the medieval packhorse bridge this week, replacing "
            "eroded voussoirs with limestone quarried from the original hillside seam.",
            "Engineer Philippa Strangways said flood debris had scoured the western pier, so "
            "a temporary cofferdam will divert the stream while the footings are grouted.",
            # The labels say this sentence is chrome, but it stands in the article itself:
            # an extractor keeps it, so its trap fires (the counting must see that).
            "Readers of the Thistlewood Almanac supplement sent dozens of photographs of the "
            "bridge taken over the past fifty years, and the parish plans to show them.",
        ],
    ),
}
PLANTED_TRAP = "Thistlewood Almanac supplement"


BRANDS = {"www.harbourgazette.example": "Quillfeather Broadsheet",
          "valleyrecord.example": "Marchbank Courier"}


def _html(url: str, title: str, paragraphs: list[str]) -> bytes:
    site = url.split("/")[2]
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | {site}</title>
<meta name="description" content="News from the {site} newsroom.">
<link rel="canonical" href="{url}"></head>
<body>
<header><nav class="main-menu"><ul>
<li><a href="/sections/politics">Politics</a></li><li><a href="/sections/weather">Weather</a></li>
<li><a href="https://{site}/login">Sign in</a></li><li><a href="/tag/tides">Tides</a></li>
</ul></nav></header>
<main><article><h1>{title}</h1>
<p class="byline">By the newsroom staff</p>
{body}
</article></main>
<aside class="related"><h3>Most read</h3><ul>
<li><a href="/about-us">About the newsroom</a></li></ul></aside>
<footer><div class="newsletter">Sign up for the {BRANDS[site]} digest every
morning.</div><p>Copyright the publisher. All rights reserved.</p>
<ul><li><a href="/contact">Contact</a></li><li><a href="/privacy">Privacy</a></li></ul>
</footer></body></html>""".encode()


def tiny_corpus() -> list[LabelledPage]:
    """Four labelled pages of two sites: two labelled by whole bodies, two by snippets."""
    pages = []
    for n, (url, (title, paragraphs)) in enumerate(ARTICLES.items()):
        html = _html(url, title, paragraphs)
        if n % 2 == 0:
            pages.append(LabelledPage("fundus", f"p{n}", url, html, "\n".join(paragraphs),
                                      (), (), title))
        else:
            outside = (f"{BRANDS[url.split('/')[2]]} digest",)
            if PLANTED_TRAP in paragraphs[-1]:
                outside = (PLANTED_TRAP,)
            pages.append(LabelledPage("trafilatura", f"p{n}", url, html, None,
                                      tuple(paragraphs[:2]), outside))
    return pages


@dataclass
class Bench:
    pages: list[LabelledPage]
    topics: list[Topic]
    web: LocalWeb


@pytest.fixture(scope="module")
def bench() -> Iterator[Bench]:
    pages = tiny_corpus()
    names = site_names(pages)
    prepared = [prepare(p) for p in pages]
    topics = draw_topics(pages, names, [p.text for p in prepared], seed=3)
    sites, left_out = build_sites(pages, prepared, free_port())
    assert left_out == []
    web = LocalWeb(sites, now=datetime(2026, 1, 5, 12, 0, tzinfo=UTC))
    web.start()
    try:
        yield Bench(pages, topics, web)
    finally:
        web.stop()


def test_topics_come_from_labels_and_traps_from_chrome(bench: Bench) -> None:
    expected = {t.page: t for t in bench.topics if t.kind == "expected"}
    traps = [t for t in bench.topics if t.kind == "trap"]
    assert sorted(expected) == [0, 1, 2, 3]  # every page has a phrase of its own
    for index, topic in expected.items():
        page = bench.pages[index]
        label = (page.body or " ".join(page.inside)).lower()
        assert " ".join(topic.phrase) in label
        assert topic.query.startswith('"') and topic.query.endswith('"')
        assert all(" ".join(topic.phrase) not in " ".join(ARTICLES[p.url][1]).lower()
                   for p in bench.pages if p is not page)
    # Each site's footer is on its own pages only, so its phrases may be traps; the planted
    # sentence is one too. Menus that both sites share are not.
    assert any("almanac" in t.phrase for t in traps)
    assert any("quillfeather" in t.phrase or "broadsheet" in t.phrase for t in traps)
    assert not any(set(t.phrase) & {"politics", "weather"} for t in traps)
    assert all(t.site == site_names(bench.pages)[t.page] for t in traps)


def test_the_local_web_serves_pages_at_their_addresses(bench: Bench) -> None:
    site = next(s for s in bench.web.sites.values() if s.name == "harbourgazette.example")
    story = next(p for p in site.pages if "story.asp" in p.url)
    assert story.url == f"{site.base}/news/story.asp?id=4417&cat=2"
    with urlopen(f"{site.base}/news/story.asp?cat=2&id=4417") as response:  # any order
        body = response.read()
    assert b"stranded beneath the granite cliffs" in body
    assert f'href="{site.base}/login"'.encode() in body  # own-host links stay on loopback
    assert key("/news/story.asp", "id=4417&sect=2") != key("/news/story.asp", "id=4417§=2")
    assert key("/a", "utm_source=rss&id=1") == key("/a/", "id=1")
    assert key("/index.ssf", "/base/1.xml&coll=3") != key("/index.ssf", "coll=3")
    bench.web.published = False
    with urlopen(f"{site.base}{FEED_PATH}") as response:
        assert b"<item>" not in response.read()
    with urlopen(f"{site.base}/") as response:
        home = response.read()
    assert b"/sections/politics" in home and b"story.asp" not in home
    bench.web.published = True
    try:
        with urlopen(f"{site.base}/") as response:
            home = response.read()
    finally:
        bench.web.published = False
    assert b"story.asp?id=4417&amp;cat=2" in home
    assert b"Lifeboat volunteers rescue stranded kayakers" in home


def test_a_card_sites_home_page_links_topics_and_authors_beside_its_headlines() -> None:
    """One site in three lists its headlines as today's cards: a topic pill linking to a
    section and a byline to an author's page, both served as listing pages (a review: home
    pages of headings and descriptions only could not show that a card's pill and byline
    were followed as articles)."""
    pages = tiny_corpus()
    sites, _ = build_sites(pages, [prepare(p) for p in pages], free_port())
    site = next(s for s in sites if s.name == "harbourgazette.example")
    assert not site.pills  # its name's CRC-32 says headings
    add_cards(site)
    web = LocalWeb(sites, now=datetime(2026, 1, 5, 12, 0, tzinfo=UTC))
    web.published = True
    status, _, home = web.answer(site.host, "/")
    assert status == 200 and home.count(b'<article class="story-card">') == len(site.pages) + 1
    assert b'class="story-card__kicker"' in home and b"By <a href=" in home
    for url, anchor in [*site.pills, *site.bylines]:
        status, _, body = web.answer(site.host, url.removeprefix(site.base))
        assert status == 200 and f"<h1>{anchor}</h1>".encode() in body, url
    assert [a for _, a in site.bylines] == list(BYLINES)


def test_counting_of_alerts_and_extraction() -> None:
    pages = tiny_corpus()
    topics = [
        Topic("e0", '"x y"', "expected", 0, "a", ("x", "y")),
        Topic("e1", '"x z"', "expected", 1, "a", ("x", "z")),
        Topic("t0", '"q r"', "trap", 0, "a", ("q", "r")),
        Topic("t1", '"q s"', "trap", 1, "a", ("q", "s")),
    ]
    body = pages[0].body or ""
    outcome = Outcome(texts={0: body, 1: ""}, fired={("e0", 0), ("e1", 0), ("t1", 1)})
    result = figures(pages, topics, outcome, {0, 1})
    assert (result.hits, result.wrong, result.traps_fired) == (1, 1, 1)
    assert result.precision == pytest.approx(1 / 3)
    assert result.recall == pytest.approx(0.5)
    assert result.trap_precision == pytest.approx(0.5)
    assert result.stored == 2
    assert result.extraction.f1s[0] == pytest.approx(1.0)  # page 0: its whole body
    assert result.extraction.recalls[1] == 0.0  # page 1: none of its snippets


def test_newswatch_end_to_end_and_trafilatura_beside_it(bench: Bench, tmp_path: Path) -> None:
    served = {p.index for s in bench.web.sites.values() for p in s.pages}
    planted = next(t for t in bench.topics if t.kind == "trap" and "almanac" in t.phrase)
    clean_traps = [t for t in bench.topics if t.kind == "trap" and t is not planted]
    for mode in ("feeds", "home"):
        bench.web.requests.clear()
        outcome = newswatch_outcome(bench.web, bench.topics, mode, tmp_path / mode,
                                    timeout=100)
        assert outcome.crawl_errors == []
        result = figures(bench.pages, bench.topics, outcome, served)
        assert result.stored == 4, mode
        assert result.recall == 1.0, mode  # every page's own phrase alerted
        fired = {name for name, _ in outcome.fired}
        assert planted.name in fired  # the chrome phrase inside the article is kept
        assert not fired & {t.name for t in clean_traps}  # footer and menus are not
        assert result.traps_fired == 1
        assert result.trap_precision == pytest.approx(1 - 1 / result.traps)
        assert result.precision == pytest.approx(4 / 5)
        assert result.extraction.recall > 0.9
        if mode == "home":
            found = links(bench.web)
            assert (found.articles_followed, found.articles_listed) == (4, 4)
            assert found.others_listed >= 6  # politics, weather, sign-in, tides, about...
            assert found.broken == 0
    baseline = trafilatura_outcome(bench.web, bench.topics, workers=1)
    result = figures(bench.pages, bench.topics, baseline, served)
    assert result.recall == 1.0
    assert result.traps_fired >= 1


def test_pages_without_a_real_url_are_served_where_they_say_they_live() -> None:
    declared = b'<html><head><link rel="canonical" href="https://news.example/a/2022/story">'
    named = LabelledPage("trafilatura", "x", "hard::news.example-story.html", declared, None,
                         ("text",), ())
    assert page_url(named) == "https://news.example/a/2022/story"
    bare = LabelledPage("trafilatura", "y", "hard::news.example-story.html", b"<html></html>",
                        None, ("text",), ())
    assert page_url(bare) == "http://news.example/story.html"
    assert site_names([named, bare]) == ["news.example", "news.example"]


def test_a_pages_links_resolve_against_its_base_href() -> None:
    """A page's links resolve against its ``<base href>`` (itself relative to the page), as
    a browser resolves them (a review: bundespraesident.de's menu, ``DE/Home/…`` under
    ``<base href="https://www.bundespraesident.de/">``, was listed under the speech's own
    folder, ``/SharedDocs/Reden/…/2003/03/DE/Home/…``)."""
    html = b"""<html><head><base href="/portal/"><title>Speech</title></head><body>
<nav><a href="DE/Home/home_node.html">Startseite</a>
<a href="/DE/Service/kontakt.html">Kontakt</a></nav>
<article><p>The president spoke to the convention of the regional parliaments.</p></article>
</body></html>"""
    url = "https://www.praesident.example/Reden/2003/03/rede.html"
    page = LabelledPage("trafilatura", "b", url, html, None,
                        ("The president spoke to the convention",), ())
    paths = [link.path for link in prepare(page).links]
    assert paths == ["/portal/DE/Home/home_node.html", "/DE/Service/kontakt.html"]
    plain = LabelledPage("trafilatura", "c", url, html.replace(b'<base href="/portal/">', b""),
                         None, page.inside, ())
    paths = [link.path for link in prepare(plain).links]
    assert paths == ["/Reden/2003/03/DE/Home/home_node.html", "/DE/Service/kontakt.html"]


def _blog_post(title: str, paragraphs: list[str], recent: list[str]) -> bytes:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    items = "\n".join(f'<li><a href="/posts/{n}">{r}</a></li>' for n, r in enumerate(recent))
    return (f"<html><head><title>{title}</title></head><body>\n<article><h1>{title}</h1>\n"
            f"{body}</article>\n<aside class='sidebar'><h3>More</h3>\n<ul>{items}</ul></aside>"
            "\n<footer>Subscribe to the Kittiwake Journal weekly</footer></body></html>").encode()


def test_no_trap_is_another_pages_story_on_the_same_site() -> None:
    """A blog's sidebar lists its other posts ("recent posts", related stories): a phrase of
    one page's sidebar that is another page's headline or labelled text fires rightly on
    that page, so it is no trap (a review: 26 of the 40 traps that fired on Dragnet's blogs
    were such phrases). The site's footer still gives traps."""
    first = ("Lighthouse keepers restore Fresnel lantern",
             ["Volunteers polished the brass housing of the old lamp on Saturday.",
              "Its prisms were shipped from Paris in eighteen ninety, said the curator, and "
              "every one of them was cleaned by hand before the lamp was lit again.",
              "The trust hopes to open the tower to visitors on summer weekends once the "
              "handrails on the spiral staircase have been replaced."])
    second = ("Harbour seals return to the estuary",
              ["Wardens counted forty pups on the sandbanks below the railway viaduct.",
               "Walkers are asked to keep their dogs on leads until late September, when "
               "the pups are strong enough to swim out with the rest of the colony.",
               "A camera on the old pier streams the sandbanks to the visitor centre, where "
               "volunteers answer questions at weekends."])
    pages = [
        LabelledPage("dragnet", str(n), f"http://kittiwake.example/posts/{n}",
                     _blog_post(title, paragraphs, [other_title, other[0]]),
                     "\n".join(paragraphs), (), ())
        for n, ((title, paragraphs), (other_title, other)) in enumerate(
            [(first, second), (second, first)])
    ]
    texts = [prepare(p).text for p in pages]
    topics = draw_topics(pages, site_names(pages), texts)
    lines = [line.lower() for title, paragraphs in (first, second) for line in (title, *paragraphs)]
    traps = [" ".join(t.phrase) for t in topics if t.kind == "trap"]
    assert traps and not any(trap in line for trap in traps for line in lines)


def test_a_menus_h1_is_no_headline() -> None:
    """A page's headline is its labelled title, else og:title, else its first ``<h1>``
    unless that heads a menu in a ``<nav>``, else its ``<title>`` (a review: "Quicklink",
    the heading of a press release's menu, was listed as its headline)."""
    html = b"""<html><head><title>Norddeutschland findet seine Meister - Verband</title></head>
<body><div class="top"><nav class="customnav"><h1>Quicklink</h1><a href="/a">Termine</a></nav>
</div><article><p>Die norddeutschen Meisterschaften fanden in Hamburg statt.</p></article>
</body></html>"""
    page = LabelledPage("trafilatura", "q", "https://verband.example/reader/meister.html",
                        html, None, ("Die norddeutschen Meisterschaften",), ())
    assert prepare(page).text.title == "Norddeutschland findet seine Meister - Verband"
    labelled = LabelledPage("fundus", "l", page.url, html, None, page.inside, (),
                            "Meister  des Nordens")
    assert prepare(labelled).text.title == "Meister des Nordens"
    outside = html.replace(b"<h1>Quicklink</h1>", b"").replace(
        b"<article>", b"<article><h1>Norddeutsche Meisterschaften</h1>")
    headed = LabelledPage("trafilatura", "h", page.url, outside, None, page.inside, ())
    assert prepare(headed).text.title == "Norddeutsche Meisterschaften"


def test_the_offline_run_judges_extraction_as_feeds_mode_does(bench: Bench,
                                                              tmp_path: Path) -> None:
    """``benchmarks.quality_offline``: the served pages through newswatch's extraction and
    matcher, without crawling: every page's own phrase fires, the footer and menu traps do
    not, the planted chrome sentence inside the body does; a second run reads trafilatura's
    passes from its cache and gives the same texts."""
    import crawler.extract

    served = [p for s in bench.web.sites.values() for p in s.pages]
    indexes = {p.index for p in served}
    cache = tmp_path / "passes.pickle"
    before = crawler.extract.extract_pass
    first = extract_all(served, workers=1, cache=cache)
    assert crawler.extract.extract_pass is before  # the cache's stand-in is taken away
    assert cache.exists() and [how for _, how in first] == ["fast"] * 4
    texts = [text for text, _ in first]
    fired = judge(served, texts, bench.topics)
    outcome = Outcome({p.index: t for p, t in zip(served, texts, strict=True)}, fired)
    result = figures(bench.pages, bench.topics, outcome, indexes)
    assert result.recall == 1.0 and result.traps_fired == 1
    assert result.precision == pytest.approx(4 / 5)
    assert [text for text, _ in extract_all(served, workers=1, cache=cache)] == texts


def _git_snapshot(root: Path, files: dict[str, bytes]) -> None:
    """A bare repository at ``root`` whose HEAD holds ``files``, as the mirrors are."""
    work = root.with_name(root.name + "-work")
    for path, data in files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_bytes(data)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@127.0.0.1"]
    subprocess.run([*git, "init", "-q", str(work)], check=True)
    subprocess.run([*git, "-C", str(work), "add", "."], check=True)
    subprocess.run([*git, "-C", str(work), "commit", "-q", "-m", "corpora"], check=True)
    subprocess.run([*git, "clone", "-q", "--bare", str(work), str(root)], check=True)


def _cleaning_page(head: str, paragraphs: list[str], tail: str = "") -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<html><head><title>A page</title>{head}</head><body><nav>Home | Archive</nav>"
            f"<div class='post'>{body}</div>{tail}</body></html>").encode()


def test_dragnet_and_cleaneval_pages_are_read_with_their_comments_as_chrome(
        tmp_path: Path) -> None:
    """The collection of HTML cleaning corpora: Dragnet's main text is the body and its
    comments (after the typed mark) the chrome snippets; CleanEval's page is read from
    inside its <text id=URL> wrapper and its marked paragraphs are the body's lines. Pages
    without an address of their own, or whose labels are not in them, are left out, and
    the "Google news" set is never read."""
    story = ["The tramway depot flooded after the canal burst its banks on Tuesday night.",
             "Engineers pumped the sheds dry by morning and the first trams left at noon."]
    comment = "Great reporting, the depot floods every single spring without fail."
    cleaned = ["Our choir rehearses every Thursday evening in the old chapel hall.",
               "New singers are welcome, no audition needed for the autumn concert."]
    canonical = '<link rel="canonical" href="http://tramnews.example/2012/07/depot-flood">'
    _git_snapshot(tmp_path / "j-szulc+html-cleaning-dataset-merged" / "repo", {
        "dragnet_data/input/7.html": _cleaning_page(
            canonical, story, f"<div class='comments'><p>{comment}</p></div>"),
        "dragnet_data/GoldStandard/7.txt": (
            "\n\n".join(story) + "\n\n!@ $%^&*()  COMMENTS\n\n" + comment + "\n").encode(),
        # No address of its own: left out.
        "dragnet_data/input/8.html": _cleaning_page("", story),
        "dragnet_data/GoldStandard/8.txt": "\n".join(story).encode(),
        # A label of another page: left out.
        "dragnet_data/input/9.html": _cleaning_page(canonical.replace("flood", "fire"), story),
        "dragnet_data/GoldStandard/9.txt": "\n".join(cleaned).encode("utf-16"),
        "cleaneval-final/input/3.html": b'<text id="http://choir.example/join.html" '
            + b'title="A page" encoding="utf8">\n' + _cleaning_page("", cleaned)
            + b"\n</text>\n",
        "cleaneval-final/GoldStandard/3.txt": (  # with a byte order mark, as many are
            "\ufeffURL: http://choir.example/join.html\n\n<p>  Our choir rehearses every Thursday\n"
            "   evening in the old chapel hall.\n<l> New singers are welcome, no audition "
            "needed for the autumn concert.\n").encode(),
        "page-signal-master/input/1.html": b"never read",
        "page-signal-master/GoldStandard/1.txt": b"never read",
    })
    dragnet, cleaneval = load(["dragnet"], tmp_path), load(["cleaneval"], tmp_path)
    assert [(p.name, p.url, p.body, p.outside) for p in dragnet] == [
        ("7", "http://tramnews.example/2012/07/depot-flood", "\n".join(story), (comment,))]
    assert [(p.name, p.url, p.body) for p in cleaneval] == [
        ("final/3", "http://choir.example/join.html", "\n".join(cleaned))]
    assert cleaneval[0].html.startswith(b"<html>") and cleaneval[0].html.endswith(b"</html>")
    # The comment is the page's trap; the expected topic is the article's.
    pages = dragnet + cleaneval
    texts = [prepare(p).text for p in pages]
    topics = draw_topics(pages, site_names(pages), texts)
    trap = next(t for t in topics if t.kind == "trap" and t.page == 0)
    assert " ".join(trap.phrase) in comment.lower()
    assert {t.page for t in topics if t.kind == "expected"} == {0, 1}
