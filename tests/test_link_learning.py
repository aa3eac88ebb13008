"""A site without a feed: newswatch learns which of its link shapes lead to articles.

A real crawl of a local site's front page, polled twice: a URL shape whose followed links
turned out to be no articles (photo galleries without text) is not followed on the next
poll; a shape that led to articles is followed even where the anchor says little. A shape
refused is tried again FORGET_AFTER after its last followed link, and ``status`` says when.
"""

from __future__ import annotations

import html
import json
import sqlite3
from datetime import datetime, timedelta

from newssite import STORIES, STORIES_BY_SLUG, NewsSite

from storage import to_iso
from storage.linkshapes import FORGET_AFTER

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


def learned_at(workdir, shape: str) -> datetime:
    """When a learnt shape's last followed link settled."""
    with sqlite3.connect(workdir.database) as db:
        [(seen,)] = db.execute("SELECT last_seen FROM link_shapes WHERE shape = ?", [shape])
    return datetime.fromisoformat(seen)


def when(value: datetime) -> str:
    """A time as ``status`` shows it."""
    return value.strftime("%Y-%m-%d %H:%M UTC")


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
    seen = learned_at(workdir, "/gallery/*")
    assert f"/gallery/* not followed until {when(seen + FORGET_AFTER)} (0 article(s), 3 other(s))" in status
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


SECTION = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{name}</title>
</head><body><main><h1>{name}</h1><ul class="latest">{items}</ul></main></body></html>"""


def test_a_shape_refused_after_a_first_poll_of_sections_is_tried_again_and_said(site, workdir):
    # The site's first front page listed its sections only, under descriptive anchors: they
    # were followed, held no article, and their shape is its articles' (/news/politics and
    # /news/council-approves-tram-line are both /news/*).
    sections = [("/news/politics", "Politics and government news from Westminster"),
                ("/news/world", "World news from around the globe today"),
                ("/news/business", "Business news and the markets today")]
    items = "".join(f'<li class="teaser"><h3><a href="/story/{s.slug}">{html.escape(s.title)}'
                    "</a></h3></li>" for s in STORIES[:6])
    for path, name in sections:
        site.serve(path, SECTION.format(name=name, items=items).encode(),
                   content_type="text/html; charset=utf-8")
    serve_front(site, sections)
    workdir.write_config(sources=[site.url("/front/")])
    assert "0 new article(s)" in crawl(workdir)
    assert learned(workdir) == {"/news/*": (0, 3)}

    # The site's articles, of that shape, are not followed until the shape is tried again;
    # status says until when.
    story = STORIES_BY_SLUG["harbour-wind-farm-approved"]
    site.serve(f"/news/{story.slug}", site.render_article(story),
               content_type="text/html; charset=utf-8")
    serve_front(site, [(f"/news/{story.slug}", story.title)])
    crawl(workdir)
    assert site.requests_for(f"/news/{story.slug}") == []
    until = learned_at(workdir, "/news/*") + FORGET_AFTER
    status = workdir.newswatch("status").stdout
    assert f"/news/* not followed until {when(until)} (0 article(s), 3 other(s))" in status
    [row] = json.loads(workdir.newswatch("status", "--json").stdout)["sources"]
    [shape] = row["link_shapes"]
    assert shape["dropped"] is True and shape["tried_again"] == to_iso(until)

    # That time past, status says the shape is tried again (it said "not followed" still),
    # and the next poll follows the article: the shape led to one, followed from then on.
    with sqlite3.connect(workdir.database) as db:
        db.execute("UPDATE link_shapes SET last_seen = ?",
                   [to_iso(until - 2 * FORGET_AFTER - timedelta(days=1))])
    status = workdir.newswatch("status").stdout
    assert "/news/* tried again (0 article(s), 3 other(s))" in status
    [row] = json.loads(workdir.newswatch("status", "--json").stdout)["sources"]
    assert row["link_shapes"][0]["dropped"] is False
    assert "1 new article(s)" in crawl(workdir)
    assert len(site.requests_for(f"/news/{story.slug}")) == 1
    assert "/news/* followed (1 article(s), 3 other(s))" in workdir.newswatch("status").stdout
