"""A site without a feed: newswatch learns which of its link shapes lead to articles.

A real crawl of a local site's front page, polled twice: a URL shape whose followed links
turned out to be no articles (photo galleries without text) is not followed on the next
poll; a shape that led to articles is followed even where the anchor says little.
"""

from __future__ import annotations

import html
import json
import sqlite3

from newssite import STORIES_BY_SLUG, NewsSite

GALLERY = b"""<!DOCTYPE html><html><head><title>Gallery</title></head>
<body><h1>In pictures</h1><img src="/static/1.jpg" alt=""><p>Photos: staff</p></body></html>"""


def front(items: list[tuple[str, str]]) -> bytes:
    """A front page without feeds listing ``(path, anchor)`` teasers among navigation."""
    teasers = "".join(
        f'<li class="teaser"><a href="{path}">{html.escape(anchor)}</a></li>'
        for path, anchor in items
    )
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Front</title></head>
<body><header><nav><a href="/">Home</a> <a href="/section/world">World</a></nav></header>
<main><h1>Latest</h1><ul class="latest">{teasers}</ul>
<p><a href="/login">Log in</a> <a href="/front/?page=2">Next page</a></p></main>
<footer><a href="/about">About us</a></footer></body></html>""".encode()


def serve_front(site: NewsSite, items: list[tuple[str, str]]) -> None:
    site.serve("/front/", front(items), content_type="text/html; charset=utf-8")


def crawl(workdir) -> str:
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    return result.stdout


def learned(workdir) -> dict[str, tuple[int, int]]:
    with sqlite3.connect(workdir.database) as db:
        rows = db.execute("SELECT shape, articles, others FROM link_shapes").fetchall()
    return {shape: (articles, others) for shape, articles, others in rows}


def test_a_link_shape_that_led_to_non_articles_is_no_longer_followed(site, workdir):
    galleries = ["sunset-over-the-bay", "harbour-lights-at-night", "first-snow-on-the-hills"]
    for slug in [*galleries, "storm-damage-along-the-coast", "spring-flowers-in-the-park"]:
        site.serve(f"/gallery/{slug}", GALLERY, content_type="text/html; charset=utf-8")
    story = STORIES_BY_SLUG["venezuela-opposition-leader"]
    serve_front(
        site,
        [
            *[(f"/gallery/{slug}", f"In pictures: {slug.replace('-', ' ')}") for slug in galleries],
            (f"/articles/{story.slug}", story.title),
        ],
    )
    workdir.write_config(sources=[site.url("/front/")])
    out = crawl(workdir)
    assert "1 new article(s)" in out
    for slug in galleries:  # headline anchors, article-like URLs: followed the first time
        assert len(site.requests_for(f"/gallery/{slug}")) == 1
    assert learned(workdir)["/gallery/*"] == (0, 3)
    assert learned(workdir)["/articles/*"] == (1, 0)

    # Next poll: two new galleries and a new story; the galleries' shape is not followed.
    later = STORIES_BY_SLUG["harbour-wind-farm-approved"]
    serve_front(
        site,
        [
            ("/gallery/storm-damage-along-the-coast", "In pictures: storm damage along the coast"),
            ("/gallery/spring-flowers-in-the-park", "In pictures: spring flowers in the park"),
            (f"/articles/{later.slug}", later.title),
        ],
    )
    assert "1 new article(s)" in crawl(workdir)
    assert site.requests_for("/gallery/storm-damage-along-the-coast") == []
    assert site.requests_for("/gallery/spring-flowers-in-the-park") == []
    assert len(site.requests_for(f"/articles/{later.slug}")) == 1
    assert learned(workdir)["/articles/*"] == (2, 0)
    status = workdir.newswatch("status").stdout
    assert "links learnt: " in status
    assert "/articles/* followed (2 article(s), 0 other(s))" in status
    assert "/gallery/* not followed (0 article(s), 3 other(s))" in status
    [row] = json.loads(workdir.newswatch("status", "--json").stdout)["sources"]
    shapes = {s["shape"]: (s["articles"], s["others"], s["dropped"]) for s in row["link_shapes"]}
    assert shapes == {"/gallery/*": (0, 3, True), "/articles/*": (2, 0, False)}


def test_a_weak_anchor_is_followed_once_its_link_shape_led_to_articles(site, workdir):
    stories = [
        STORIES_BY_SLUG[s]
        for s in (
            "central-bank-holds-rates",
            "zelensky-grain-corridor",
            "harbour-wind-farm-approved",
        )
    ]
    tokens = ["k3x9", "z8w4", "m5n6"]
    for token, story in zip(tokens, stories, strict=True):
        site.serve(
            f"/s/{token}", site.render_article(story), content_type="text/html; charset=utf-8"
        )
    first = [("/s/k3x9", stories[0].title), ("/s/z8w4", "Photos")]
    serve_front(site, first)
    workdir.write_config(sources=[site.url("/front/")])
    assert "1 new article(s)" in crawl(workdir)
    # Short ids say nothing and "Photos" says little: not an article link yet.
    assert site.requests_for("/s/z8w4") == []
    assert learned(workdir)["/s/*0"] == (1, 0)

    # The shape led to articles: its links are followed now, whatever their anchors.
    serve_front(site, [*first, ("/s/m5n6", "Video")])
    assert "2 new article(s)" in crawl(workdir)
    assert len(site.requests_for("/s/z8w4")) == 1
    assert len(site.requests_for("/s/m5n6")) == 1
    assert learned(workdir)["/s/*0"] == (3, 0)
    assert site.requests_for("/login") == [] and site.requests_for("/about") == []
