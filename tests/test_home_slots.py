"""A site without a feed whose front page lists articles in teaser slots: newswatch follows
what stands in the main list's slots, whatever the anchor or the URL, and still not sections,
topics, service or pagination links.

Real crawls of a local site's front page (tests/newssite.py); the requests the site answered
say which links were followed.
"""

from __future__ import annotations

import html

from newssite import STORIES_BY_SLUG, NewsSite

HTML = "text/html; charset=utf-8"
SUMMARY = "<p>{}</p>"


def teaser(path: str, anchor: str, summary: str = "") -> str:
    """One card of the front page's main list."""
    text = SUMMARY.format(html.escape(summary)) if summary else ""
    return f'<div class="teaser"><h2><a href="{path}">{html.escape(anchor)}</a></h2>{text}</div>\n'


def front(cards: str, extra: str = "") -> bytes:
    """A front page without feeds: navigation, the main list's cards, a section box, footer."""
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Front</title>
</head><body><header><nav><a href="/">Home</a> <a href="/section/world">World</a></nav></header>
<div class="main"><h1>Latest</h1>
{cards}
{extra}
<p><a href="/login">Log in</a> <a href="/front/?page=2">Next page</a></p></div>
<footer><a href="/about">About us</a></footer></body></html>""".encode()


def poll(site: NewsSite, workdir, cards: str, extra: str = "") -> str:
    """Serve the front page and poll it once: newswatch's report."""
    site.serve("/front/", front(cards, extra), content_type=HTML)
    workdir.write_config(sources=[site.url("/front/")])
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    return result.stdout


def not_followed(site: NewsSite, *paths: str) -> bool:
    """Whether none of ``paths`` was asked for."""
    return all(site.requests_for(path) == [] for path in paths)


def serve_story(site: NewsSite, path: str, slug: str) -> None:
    site.serve(path, site.render_article(STORIES_BY_SLUG[slug]), content_type=HTML)


def test_a_weak_anchor_in_the_main_lists_slot_is_followed(site, workdir):
    """A card placed as the page's sure articles is one of them: "Stadtfest 2026" on
    /stadtfest.html (a short anchor on a section-like path) is followed; a card naming its
    own page ("Harbour" on /harbour: a topic), a section's heading over its list of links,
    navigation, login and pagination links are not."""
    serve_story(site, "/2026/11/20/central-bank-holds-rates", "central-bank-holds-rates")
    serve_story(site, "/2026/11/21/harbour-wind-farm-approved", "harbour-wind-farm-approved")
    serve_story(site, "/stadtfest.html", "city-late-winner")
    cards = (
        teaser(
            "/2026/11/20/central-bank-holds-rates",
            STORIES_BY_SLUG["central-bank-holds-rates"].title,
        )
        + teaser(
            "/2026/11/21/harbour-wind-farm-approved",
            STORIES_BY_SLUG["harbour-wind-farm-approved"].title,
        )
        + teaser("/stadtfest.html", "Stadtfest 2026")
        + teaser("/harbour", "Harbour")
    )
    section = (
        '<div class="box"><h2><a href="/sport/">Sport</a></h2><ul><li><a href="/sport/football">'
        'Football</a></li><li><a href="/sport/tennis">Tennis</a></li><li><a href="/sport/golf">'
        "Golf</a></li></ul></div>"
    )
    assert "3 new article(s)" in poll(site, workdir, cards, section)
    assert len(site.requests_for("/stadtfest.html")) == 1
    assert not_followed(site, "/harbour", "/sport/", "/sport/football", "/login", "/about")
    assert not [r for r in site.requests if r.path == "/front/" and "page=2" in r.query]


def test_a_weak_anchor_without_sure_articles_beside_it_is_not_followed(site, workdir):
    """The same card among cards that are no sure articles says nothing: not followed."""
    serve_story(site, "/stadtfest.html", "city-late-winner")
    serve_story(site, "/2026/11/20/central-bank-holds-rates", "central-bank-holds-rates")
    cards = teaser("/stadtfest.html", "Stadtfest 2026") + teaser("/programm.html", "Programm")
    extra = (
        '<p><a href="/2026/11/20/central-bank-holds-rates">'
        f"{STORIES_BY_SLUG['central-bank-holds-rates'].title}</a></p>"
    )
    assert "1 new article(s)" in poll(site, workdir, cards, extra)
    assert len(site.requests_for("/2026/11/20/central-bank-holds-rates")) == 1
    assert not_followed(site, "/stadtfest.html", "/programm.html")


def test_articles_filed_under_a_topic_by_item_view_and_newsletter_issues(site, workdir):
    """A card with a summary linking to one item under a topic (``/themen/detail/nachricht/
    …``) or to a newsletter's issue is an article; the topic page and the newsletters' sign-up
    page are not."""
    serve_story(site, "/themen/detail/nachricht/bischofswort.html", "central-bank-holds-rates")
    serve_story(
        site,
        "/newsletters/morning-briefing-harbour-wind-farm-approved",
        "harbour-wind-farm-approved",
    )
    cards = teaser(
        "/themen/detail/nachricht/bischofswort.html",
        "Wort des Bischofs zur Synode",
        "Der Bischof sprach auf der Landessynode über Reichtum, Armut und die Kirche.",
    ) + teaser(
        "/newsletters/morning-briefing-harbour-wind-farm-approved",
        "Morning briefing: the harbour wind farm is approved",
        "What the council decided last night, and what it means for the harbour.",
    )
    extra = (
        '<p><a href="/themen/kirche">Kirche</a> <a href="/newsletters/">Newsletters</a> '
        '<a href="/newsletters/sign-up">Sign up for our newsletters</a></p>'
    )
    assert "2 new article(s)" in poll(site, workdir, cards, extra)
    assert len(site.requests_for("/themen/detail/nachricht/bischofswort.html")) == 1
    assert len(site.requests_for("/newsletters/morning-briefing-harbour-wind-farm-approved")) == 1
    assert not_followed(site, "/themen/kirche", "/newsletters/", "/newsletters/sign-up")
