"""End to end (`newswatch crawl`, the local news site, a real SMTP server): an article over
several pages, named by ``rel="next"`` (Nikkan Gendai's ``/367061/2``, the FAZ's ``-p2``), is
read over all of them; a ``rel="next"`` naming the next article is not followed; a page that
fails leaves the article as far as it was read."""

from __future__ import annotations

import time
from html import escape

import pytest
from test_end_to_end import export, parts
from test_url_alerts import body_of, item, rss

DREDGING = {"name": "Dredging", "query": "Tidewater", "notify": ["desk@test.example"]}
HARBOUR = {"name": "Harbour", "query": "harbour", "notify": ["port@test.example"]}
TITLE = "Harbour board weighs a deeper channel"


def page(site, number: int, words: str, following: str | None) -> bytes:
    """Page ``number`` of the long read: its headline on every page, ``words`` in it, and
    a ``rel="next"`` to ``following``."""
    link = f'<link rel="next" href="{escape(following)}">' if following else ""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{TITLE}</title>
{link}<link rel="canonical" href="{site.url('/long-read')}"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>{TITLE}</h1><p>Page {number} of the harbour long read. {escape(words)}</p>
{body_of(f"{TITLE} {number}")}</article>
<footer>Copyright The Test Gazette</footer></body></html>""".encode()


def serve(site, *, second_status: int = 200, next_article: bool = False) -> None:
    html = "text/html; charset=utf-8"
    site.serve("/long-read", page(site, 1, "The board met on Monday.", "/long-read/2"),
               content_type=html)
    site.serve("/long-read/2", page(site, 2, "The contract went to Tidewater Dredging.",
                                    "/long-read/3"), content_type=html, status=second_status)
    site.serve("/long-read/3", page(site, 3, "Work starts in spring.", None), content_type=html)
    if next_article:  # a theme's post navigation: the next article, no part of this one
        site.serve("/long-read", page(site, 1, "The board met on Monday.", "/tidewater-deal"),
                   content_type=html)
        site.serve("/tidewater-deal", page(site, 1, "Tidewater signs a deal.", None),
                   content_type=html)
    site.serve("/long.rss", rss(site, [item(TITLE, site.url("/long-read"))]))


def test_an_article_over_three_pages_is_read_whole_and_alerts_once(site, mail, workdir):
    """A topic on a word of page 2 never alerted: the first page alone was stored."""
    serve(site)
    workdir.write_config(sources=[site.url("/long.rss")], topics=[DREDGING, HARBOUR],
                         smtp=mail)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "1 new article(s)" in result.stdout
    [row] = export(workdir)
    text = row["text"]
    assert [f"Page {n} of the harbour long read" in text for n in (1, 2, 3)] == [True] * 3
    assert text.count(TITLE) <= 1 and text.count("Copyright") == 0
    messages = mail.wait_for(2)
    assert sorted(m["To"] for m in messages) == ["desk@test.example", "port@test.example"]
    dredging = next(m for m in messages if m["To"] == "desk@test.example")
    assert "*Tidewater*" in parts(dredging)[0]
    assert len(site.requests_for("/long-read/2")) == 1
    assert workdir.newswatch("crawl").returncode == 0
    time.sleep(0.5)
    assert len(mail.messages) == 2 and len(site.requests_for("/long-read/2")) == 1


def test_a_failing_second_page_leaves_the_article_as_far_as_it_was_read(site, mail, workdir):
    serve(site, second_status=500)
    workdir.write_config(sources=[site.url("/long.rss")], topics=[DREDGING, HARBOUR],
                         smtp=mail)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    [row] = export(workdir)
    assert "Page 1 of the harbour" in row["text"] and "Page 2" not in row["text"]
    [message] = mail.wait_for(1)
    assert message["To"] == "port@test.example"


def test_a_rel_next_to_another_article_is_not_followed(site, mail, workdir):
    """Most sites' ``rel="next"`` names the next article (a WordPress theme's post
    navigation): read as part of this one, its words alerted this one's readers."""
    serve(site, next_article=True)
    workdir.write_config(sources=[site.url("/long.rss")], topics=[DREDGING, HARBOUR],
                         smtp=mail)
    assert workdir.newswatch("crawl").returncode == 0
    [row] = export(workdir)
    assert "Tidewater" not in row["text"]
    assert site.requests_for("/tidewater-deal") == []
    [message] = mail.wait_for(1)
    assert message["To"] == "port@test.example"


@pytest.mark.parametrize(("current", "candidate", "page", "follows"), [
    # Real shapes: Nikkan Gendai's, the FAZ's, an old CMS's query, a blog's /2/.
    ("https://www.nikkan-gendai.com/articles/view/sports/367061",
     "https://www.nikkan-gendai.com/articles/view/sports/367061/2", 1, True),
    ("https://www.faz.net/a/streaming-16604622.html",
     "https://www.faz.net/a/streaming-16604622-p2.html", 1, True),
    ("https://www.faz.net/a/streaming-16604622-p2.html",
     "https://www.faz.net/a/streaming-16604622-p3.html", 2, True),
    ("https://x.example/story.asp?id=5", "https://x.example/story.asp?id=5&page=2", 1, True),
    ("https://x.example/post-slug/", "https://x.example/post-slug/2/", 1, True),
    # The next article (fundus's Tageszeitung, an id one more), comments, another site.
    ("https://www.tageszeitung.it/2025/04/01/unermuedlicher-einsatz-2/",
     "https://www.tageszeitung.it/2025/04/01/die-schwindler/", 1, False),
    ("https://x.example/article/12", "https://x.example/article/13", 1, False),
    ("https://x.example/post-slug/", "https://x.example/post-slug/comment-page-2/", 1, False),
    ("https://x.example/post-slug/", "https://y.example/post-slug/2/", 1, False),
    # WordPress's second post of a title, a series' next day (a review of the diff); a
    # slug's own number is no page.
    ("https://x.example/2025/04/01/polizeibericht/",
     "https://x.example/2025/04/01/polizeibericht-2/", 1, False),
    ("https://x.example/ukraine-war-day-1", "https://x.example/ukraine-war-day-2", 1, False),
    ("https://x.example/covid-19", "https://x.example/covid-19?page=2", 1, True),
    ("https://x.example/story.asp?id=5", "https://x.example/story.asp?id=6&page=2", 1, False),
])
def test_a_page_continues_an_article_only_at_its_own_address_numbered(
    current: str, candidate: str, page: int, follows: bool
) -> None:
    from crawler.pagination import continues

    assert continues(current, candidate, page) is follows
