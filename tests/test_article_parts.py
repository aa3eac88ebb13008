"""Parts of an article that trafilatura's passes leave out or run together, kept apart and
whole: a table of data (a cell a line), a page laid out in a table (read as its blocks), the
lede under the headline, and words that a soft hyphen breaks where a line may wrap."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import replace

import pytest
from lxml.html import fromstring
from newssite import STORIES_BY_SLUG
from test_end_to_end import export, fresh, parts
from test_extract_chrome import BODY, folded

from crawler.extract import (
    extract_article,
    is_prompt,
    is_related_heading,
    lede,
    link_texts,
    table_cells,
    walk_page,
    with_left_out_lists,
)
from crawler.extracted import visible

URL = "https://harbour-gazette.example/2024/05/harbour-board-budget"

FEES = [
    ("Yacht up to 10 m", "18 euros a night", "24 euros a night"),
    ("Yacht over 10 m", "26 euros a night", "35 euros a night"),
    ("Fishing boat", "no charge", "no charge"),
]
LEDE = (
    "Visiting yachts will pay a third more to moor in the inner basin from next spring, the "
    "harbour board decided after four hours of debate."
)


def page(header: str = "", inside: str = "", after: str = "") -> str:
    """A news page: navigation, the article (``header`` under its headline, ``inside``
    after its third paragraph), ``after`` beside it, a footer."""
    body = "".join(f"<p>{p}</p>" for p in BODY[:3])
    rest = "".join(f"<p>{p}</p>" for p in BODY[3:])
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Harbour board raises mooring fees - Harbour Gazette</title></head><body>
<nav><a href="/">Home</a> <a href="/harbour">Harbour</a> <a href="/sport">Sport</a></nav>
<main><article><header><h1>Harbour board raises mooring fees for visiting yachts</h1>
{header}</header>
<div class="entry-content">{body}{inside}{rest}</div></article>{after}</main>
<footer><p>Harbour Gazette, 4 Quay Street</p></footer></body></html>"""


def fee_table() -> str:
    rows = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td></tr>" for a, b, c in FEES)
    return (f"<table><thead><tr><th>Boat</th><th>Fee now</th><th>Fee from April</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>")


def test_a_table_of_data_is_kept_a_cell_a_line() -> None:
    extracted = extract_article(page(inside=fee_table()), URL)
    assert extracted is not None
    lines = extracted.text.splitlines()
    for row in FEES:
        for cell in row:
            assert cell in lines  # on a line of its own, without the row's "|"
    assert "Fee from April" in lines
    assert not any(line.strip().startswith("|") for line in lines)
    for paragraph in BODY:
        assert paragraph in extracted.text


def test_table_rows_are_written_as_their_cells() -> None:
    text = "Intro\n| Boat | Fee |\n|---|---|\n|  |  |\n| Sail \\| motor | 18 euros |\nEnd"
    assert table_cells(text) == "Intro\nBoat\nFee\nSail | motor\n18 euros\nEnd"
    assert table_cells("No table | here") == "No table | here"


def test_a_page_laid_out_in_a_table_is_read_as_its_blocks() -> None:
    """2007-style: navigation in one cell, the article in the next, "also in the news" under
    it. Read as one table, trafilatura would write each row on one line, the navigation with
    the body; read as blocks, the body's lines stand apart and the line rules drop the link
    lines."""
    paragraphs = "<br><br>".join(BODY)
    html = f"""<html><head><title>Harbour Gazette</title></head><body>
<table width="760"><tr><td colspan="2"><a href="/"><img src="/m.gif" alt="Gazette"></a></td></tr>
<tr><td width="140"><a href="/">Home</a><br><a href="/harbour">Harbour</a><br>
<a href="/topics/skerry">Skerry Point</a><br><a href="/archive">Archive</a></td>
<td><font size="4"><b>Harbour board raises mooring fees</b></font><br>
<font size="2">{paragraphs}</font><br><br>
<font size="1"><b>Also in the news:</b> <a href="/a/1">Lighthouse keepers return to Skerry
Point</a> | <a href="/a/2">Regatta moves to September</a></font></td></tr>
<tr><td colspan="2">Copyright 2007 Harbour Gazette.</td></tr></table></body></html>"""
    extracted = extract_article(html, URL)
    assert extracted is not None
    lines = [folded(line) for line in extracted.text.splitlines()]
    for paragraph in BODY:
        assert folded(paragraph) in lines  # each paragraph a line of its own
    assert "Skerry" not in extracted.text and "Regatta" not in extracted.text


def test_a_table_laid_story_keeps_its_paragraphs_outside_paragraph_tags() -> None:
    """2005-style: the story's cell holds its paragraphs, a picture in a small table of its
    own with its caption, the paragraph after the picture written straight in the cell
    (``<p>`` cannot hold the table, so the parser closes it there), a paragraph in
    ``<font>`` between ``<br>``s and a closing line after the last ``</p>``. The cell read as
    a ``div``, trafilatura's own extraction left that loose text out, and topics on its words
    never alerted. The site's donation appeal, loose text of the same cell, stays out."""
    after_picture = ("Harbour master Olav Brekke showed the board photographs of the silted "
                     "berths, where the keels of two trawlers touched the mud at low tide.")
    in_font = ("The yacht club's secretary asked whether members who winter their boats in "
               "the basin would pay the new fee for the months they are ashore.")
    closing = "The board meets again on the first Tuesday of June."
    appeal = "Help us continue to report on the harbour"
    paragraphs = "".join(f"<p>{paragraph}</p>" for paragraph in BODY[:3])
    rest = "".join(f"<p>{paragraph}</p>" for paragraph in BODY[3:])
    html = f"""<html><head><title>Harbour Gazette</title></head><body>
<table width="760" border="0"><tr><td width="140" valign="top"><a href="/">Home</a><br>
<a href="/harbour">Harbour</a><br><a href="/archive">Archive</a></td>
<td valign="top"><h2>Harbour board raises mooring fees</h2>{paragraphs}
<p><table width="160" align="left"><tr><td><img src="/p/berths.jpg" alt="Berths"></td></tr>
<tr><td class="caption">The inner basin at low tide</td></tr></table><br>
{after_picture}</p>{rest}
<br><font face="Arial" size="2">{in_font}</font><br><br>
{closing}<br><br>
<hr>{appeal}<br><a href="/donate">Donate</a><br></td></tr>
<tr><td colspan="2"><a href="/contact">Contact</a> | <a href="/about">About us</a></td></tr>
</table></body></html>"""
    extracted = extract_article(html, URL)
    assert extracted is not None
    lines = [folded(line) for line in extracted.text.splitlines()]
    for paragraph in (*BODY, after_picture, in_font, closing):
        assert folded(paragraph) in lines
    assert "Archive" not in extracted.text and "Contact" not in extracted.text
    assert "Help us" not in extracted.text and "Donate" not in extracted.text


def test_an_older_pages_lists_between_its_kept_paragraphs_are_kept() -> None:
    """2004-style: the story's paragraphs straight in the body (no element trafilatura
    knows as an article's), a list announced by the paragraph before it ("three works:",
    an ``&nbsp;`` between them) and a list between two paragraphs. trafilatura's fast and default passes gathered the
    paragraphs one by one and left both lists out (topics on their words never alerted);
    each item is now a line where the list stood. The list of other stories' links and the
    navigation stay out."""
    works = ["Dredge the inner basin to four metres before the summer season",
             "Replace the pontoon walkways on the east quay",
             "Light the approach channel with solar buoys"]
    fees = ["Yachts up to ten metres: eighteen euros a night",
            "Larger yachts: twenty-six euros a night"]
    html = f"""<html><head><title>Harbour board raises mooring fees</title></head><body>
<p align="center"><a href="/">Home</a> | <a href="/harbour">Harbour</a> |
<a href="/archive">Archive</a></p>
<p><font size="5"><b>Harbour board raises mooring fees</b></font></p>
<p>{BODY[0]}</p><p>{BODY[1]} The board will spend the money on three works:</p>&nbsp;
<ul>{"".join(f"<li>{work}" for work in works)}</ul>
<p>{BODY[2]}</p>
<ol>{"".join(f"<li>{fee}</li>" for fee in fees)}</ol>
<p>{BODY[3]}</p><p>{BODY[4]}</p>
<ul><li><a href="/a/1">Lighthouse keepers return to Skerry Point</a></li>
<li><a href="/a/2">Regatta moves to September</a></li></ul>
<p>Copyright 2004 Harbour Gazette</p></body></html>"""
    extracted = extract_article(html, URL)
    assert extracted is not None
    lines = [folded(line) for line in extracted.text.splitlines()]
    announced = lines.index(folded(f"{BODY[1]} The board will spend the money on three works:"))
    assert lines[announced + 1:announced + 4] == [f"- {work}" for work in works]
    between = lines.index(folded(BODY[2]))
    assert lines[between + 1:between + 4] == [*(f"- {fee}" for fee in fees), folded(BODY[3])]
    assert "Skerry" not in extracted.text and "Archive" not in extracted.text


def test_a_list_the_pass_took_is_not_put_back_for_its_line_breaks_or_soft_hyphens() -> None:
    """A list in a modern page's article, which trafilatura takes: its items' ``<br>`` (a
    line break in the pass, nothing in the item's text) and ``&shy;`` (a German site's long
    words; trafilatura drops them) made the list seem left out, and it was put back under
    the pass's: every item twice, "Repairs ofthe" run together, a digest's text doubled."""
    items = ["Dredging of the inner basin<br>to four metres before the summer season",
             "Re&shy;pairs of the<br>pontoon walkways on the east quay"]
    inside = (f"<p>The board will spend the money on two works:</p>"
              f"<ul>{''.join(f'<li>{item}</li>' for item in items)}</ul>")
    extracted = extract_article(page(inside=inside), URL)
    assert extracted is not None
    words = folded(extracted.text)
    assert words.count("pontoon walkways") == 1 and words.count("Dredging") == 1, words
    assert "ofthe" not in words and "\u00ad" not in words


def test_a_page_of_many_lists_is_read_once_for_their_neighbours() -> None:
    """The text before and after each list of a page the pass left out was looked for by an
    XPath that read the page again each time: 3,000 lists of text on a 3.6 MB page (a long
    reference page, an archive) took minutes of a page worker's CPU, past its 60 s."""
    lists = "".join(
        f"<p>{BODY[n % len(BODY)]} Part {n}.</p><ul>"
        + "".join(f"<li>Item {n}-{k} of the harbour works, number {k}</li>" for k in range(5))
        + "</ul><div>" + "".join(f"<span>note {k}</span>" for k in range(30)) + "</div>"
        for n in range(3000))
    tree = fromstring(f"<html><body>{lists}<p>The end.</p></body></html>")
    text = "\n".join(f"{BODY[n % len(BODY)]} Part {n}." for n in range(3000))
    assert with_left_out_lists(tree, text, walk_page(tree), link_texts(tree)) == text
    # A list announced by its paragraph is put back still.
    tree = fromstring(f"<html><body>{lists}<p>Three works:</p><ul><li>Dredge the basin</li>"
                      "</ul><p>The end.</p></body></html>")
    assert with_left_out_lists(tree, text + "\nThree works:\nThe end.", walk_page(tree),
                               link_texts(tree)).endswith("Three works:\n- Dredge the basin\nThe end.")


def test_the_lede_under_the_headline_is_kept() -> None:
    html = page(header=f'<p class="lead">{LEDE}</p>')
    extracted = extract_article(html, URL)
    assert extracted is not None
    assert extracted.text.startswith(LEDE)
    assert extracted.text.count(LEDE) == 1
    for paragraph in BODY:
        assert paragraph in extracted.text


def test_a_lede_whose_class_the_teasers_share_in_another_tag_or_written_twice_is_kept() -> None:
    """The page's lede ``<p class="lead">`` beside other stories' ``<div class="lead">``
    teasers (swr.de), or its standfirst written twice, for small and large screens
    (theguardian.com): a class repeated by other elements was taken for a teaser list's,
    and the lede left out."""
    teasers = "".join(
        f'<div class="teaser"><a href="/a/{n}">Story {n}</a><div class="lead">{text}</div></div>'
        for n, text in enumerate((
            "Lighthouse keepers return to Skerry Point after thirty years of automation, "
            "and the village hopes the visitors will follow them.",
            "The regatta moves to September this year, after the sailing club found that "
            "the spring tides leave too little water.",
        ))
    )
    swr = page(header=f'<p class="lead">{LEDE}</p>', after=f'<aside>{teasers}</aside>')
    twice = page(header=f'<div class="standfirst mobile">{LEDE}</div>'
                        f'<div class="standfirst mobile">{LEDE}</div>')
    for html in (swr, twice):
        extracted = extract_article(html, URL)
        assert extracted is not None and extracted.text.startswith(LEDE)
        assert extracted.text.count(LEDE) == 1
        assert "Lighthouse" not in extracted.text


def test_a_lede_named_by_another_word_of_the_trade_is_kept() -> None:
    """The lede under the headline as newsrooms' systems name it: German sites' "Teaser"
    (``p.article-teaser``, ``div.teaser-text``), French sites' chapô (``div.chapo``),
    American magazines' dek (``ContentHeaderDek-…``), a blog's excerpt, a summary, an
    abstract, a subtitle. trafilatura leaves it out where it stands in the header, and a
    topic on its words never alerted."""
    for tag, name in (("p", "article-teaser"), ("div", "teaser-text"), ("div", "chapo"),
                      ("div", "ContentHeaderDek-bIqFFZ fOichq"), ("p", "post__excerpt"),
                      ("p", "article-summary"), ("div", "abstract column"),
                      ("div", "blog--subtitle")):
        extracted = extract_article(page(header=f'<{tag} class="{name}">{LEDE}</{tag}>'), URL)
        assert extracted is not None and extracted.text.startswith(LEDE), name
        assert extracted.text.count(LEDE) == 1


def test_a_lede_whose_class_the_footer_repeats_is_kept() -> None:
    """A site that presents itself in its footer in the articles' ``p.article-teaser``
    (waldwissen.net): the class repeated there, with another text, is no list of other
    stories' intros, and the lede above the article is kept; repeated beside the article,
    it is such a list."""
    about = ('<p class="article-teaser">The Harbour Gazette has reported on the town, its '
             "harbour and its boats since 1887, and since last year on its website too.</p>")
    html = page(header=f'<p class="article-teaser">{LEDE}</p>').replace(
        "<footer>", f"<footer>{about}")
    extracted = extract_article(html, URL)
    assert extracted is not None and extracted.text.startswith(LEDE)
    assert "1887" not in extracted.text
    beside = page(header=f'<p class="article-teaser">{LEDE}</p>', after=f"<div>{about}</div>")
    extracted = extract_article(beside, URL)
    assert extracted is not None and not extracted.text.startswith(LEDE)


def test_a_lede_among_a_page_of_teasers_named_as_ledes_is_kept() -> None:
    """A page listing other stories above the article in boxes of several classes named as
    ledes (``div.teaser-list__item``, ``header.basic-teaser__header``, ``p.teaser__text``),
    each class repeated with another text: none is a lede, and the article's own
    ``p.article-teaser``, alone of its class, is."""
    teasers = "".join(
        f'<div class="teaser-list__item"><header class="basic-teaser__header">'
        f'<a href="/a/{n}">Story {n}</a></header><p class="teaser__text">The harbour '
        f"board's meeting number {n} on the fees of the inner basin, with the sailing "
        f"club's {n} objections to the new mooring rules.</p></div>"
        for n in range(12)
    )
    html = page(header=f'<p class="article-teaser">{LEDE}</p>').replace(
        "</nav>", f"</nav><div>{teasers}</div>")
    extracted = extract_article(html, URL)
    assert extracted is not None and extracted.text.startswith(LEDE)
    assert extracted.text.count(LEDE) == 1
    assert "objections" not in extracted.text


def test_a_notice_to_turn_on_javascript_is_no_lede() -> None:
    """A news site's notice for readers without JavaScript, in a box named as a teaser
    above the article (``div.c-nojs-teaser``), is neither a lede nor the article; the lede
    after it is."""
    notice = ('<div class="c-nojs-teaser"><b>Javascript deaktiviert</b> Warum sehe ich die '
              "Harbour Gazette nicht? Um unser Angebot in vollem Umfang nutzen zu können, "
              "müssen Sie JavaScript in Ihrem Browser aktivieren.</div>")
    html = page(header=f'{notice}<p class="article-teaser">{LEDE}</p>')
    extracted = extract_article(html, URL)
    assert extracted is not None and extracted.text.startswith(LEDE)
    assert "JavaScript" not in extracted.text
    for line in ("Please enable JavaScript in your browser to read the Harbour Gazette.",
                 "Bitte aktivieren Sie JavaScript, um alle Funktionen der Seite zu nutzen."):
        assert is_prompt(line), line
    assert not is_prompt("The council's new booking site needs JavaScript, which older "
                         "library computers lack.")


def test_what_is_named_like_a_lede_but_is_not_one_is_left_out() -> None:
    """Other stories' intros (the class repeats), a consent banner's intro, a picture's
    caption with its credit, a heading block: none is put before the article."""
    teasers = "".join(
        f'<div class="story"><p class="intro">{text}</p></div>'
        for text in (
            "Lighthouse keepers return to Skerry Point after thirty years of automation, "
            "and the village hopes the visitors will follow them.",
            "The regatta moves to September this year, after the sailing club found that "
            "the spring tides leave too little water.",
        )
    )
    consent = ('<div class="cookiebar__intro-copy">This website uses cookies so that we can '
               "offer it safely and reliably, measure its performance and show you content "
               "that suits you. You can change this at any time in the settings.</div>")
    caption = ('<div class="LeadFeature">The inner basin at low tide, where the silt now '
               "reaches the old ferry steps and the yachts lie aground twice a day. "
               "(AP Photo/Harbour Gazette)</div>")
    html = page(header=caption, after=f'<div class="more">{teasers}</div>{consent}')
    tree_text = extract_article(html, URL)
    assert tree_text is not None
    assert tree_text.text.startswith(BODY[0])
    for unwanted in ("Lighthouse", "September", "cookies", "low tide"):
        assert unwanted not in tree_text.text


def test_a_lede_in_a_header_block_with_the_headline_is_kept_without_it() -> None:
    """A header block named as the intro that holds the headline, a dateline and the lede
    (``<div class="intro"><h1>…</h1>…</div>``): the lede goes before the text, the
    headline is not repeated in it."""
    html = page().replace(
        "<header><h1>Harbour board raises mooring fees for visiting yachts</h1>\n</header>",
        '<div class="intro"><h1>Harbour board raises mooring fees for visiting yachts</h1>'
        f"<p><span>14 May 2024</span> (HG) Harbour Town</p><p>{LEDE}</p></div>",
    )
    assert '<div class="intro">' in html
    extracted = extract_article(html, URL)
    assert extracted is not None
    first = extracted.text.split("\n", 1)[0]
    assert LEDE in first and "raises mooring fees" not in first
    assert extracted.text.count(LEDE) == 1


def test_an_intro_after_the_article_is_no_lede() -> None:
    """One other story's intro, below the article: named like a lede, alone of its class,
    but after the article's first line, so not put before it."""
    other = ('<div class="more"><div class="story"><p class="intro">Lighthouse keepers return '
             "to Skerry Point after thirty years of automation, and the village hopes the "
             "visitors will follow them.</p></div></div>")
    extracted = extract_article(page(after=other), URL)
    assert extracted is not None and extracted.text.startswith(BODY[0])
    assert "Lighthouse" not in extracted.text


def test_a_lede_the_text_already_has_is_not_repeated() -> None:
    from trafilatura.utils import load_html

    tree = load_html(page(header=f'<p class="lead">{LEDE}</p>'))
    assert lede(tree, f"{LEDE}\n{BODY[0]}") is None
    assert lede(tree, BODY[0]) == LEDE


def test_most_read_box_headings_are_related_headings() -> None:
    for heading in ("Most read", "Most popular", "Meistgelesen", "Kommentierte\xa0Artikel"):
        assert is_related_heading(heading), heading
    assert not is_related_heading("Most popular stories in the world today are short")


def test_invisible_characters_are_dropped() -> None:
    assert visible("Bevöl\xadkerung und Zentral\u200bbank\ufeff") == "Bevölkerung und Zentralbank"
    assert visible("plain ascii") == "plain ascii"
    assert visible("\u2060Wort\u2060\u2060 über\xad\xadall\u200b") == "Wort überall"


def test_a_word_broken_by_soft_hyphens_still_alerts(site, mail, workdir) -> None:
    """German sites break long words with &shy; where a line may wrap; a topic names the word
    as a reader sees it, and the stored title and text hold it so."""
    story = fresh("central-bank-holds-rates")
    story = replace(
        story, slug="zentralbank-soft-hyphens", title="Zentral\xadbank hält die Zinsen",
        body=[p.replace("benchmark", "bench\xadmark") for p in story.body],
    )
    site.publish(story)
    topics = [
        {"name": "Zentralbank", "query": "Zentralbank", "notify": ["desk@test.example"]},
        {"name": "Benchmark rate", "query": '"benchmark interest rate"',
         "notify": ["rates@test.example"]},
    ]
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=topics, smtp=mail)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "delivered 2 email(s)" in result.stdout
    mail.wait_for(2)
    assert sorted(r for e in mail.envelopes for r in e[1]) == [
        "desk@test.example", "rates@test.example"]
    [row] = export(workdir)
    assert row["title"] == "Zentralbank hält die Zinsen"
    assert "benchmark interest rate" in row["text"] and "\xad" not in row["text"]


def test_letters_written_as_a_base_and_its_marks_are_composed() -> None:
    """NFD text (a Mac's, a Korean syllable as its jamo) is kept as its composed form."""
    decomposed = unicodedata.normalize("NFD", "Самолёт, Μαδούρο, 마두로, マドゥロ, São\xad Paulo")
    assert visible(decomposed) == "Самолёт, Μαδούρο, 마두로, マドゥロ, São Paulo"


def test_a_page_written_in_decomposed_letters_alerts(site, mail, workdir) -> None:
    """A page that writes its letters as a base and combining marks (NFD) looks as any
    other; a topic typed as readers type (composed) alerts for it, with its word in bold,
    whatever the script: a Korean syllable as its jamo, a Japanese kana and its voicing
    mark, a Cyrillic or Greek letter and its accent, which the index otherwise drops."""
    story = fresh("central-bank-holds-rates")
    story = replace(
        story, slug="maduro-nfd",
        title=unicodedata.normalize("NFD", "마두로 대통령, マドゥロ大統領"),
        body=[unicodedata.normalize("NFD", "Самолёт Мадуро приземлился; ο Μαδούρο έφυγε. ")
              + p for p in story.body],
    )
    site.publish(story)
    topics = [{"name": name, "query": name, "notify": [f"{n}@test.example"]}
              for n, name in enumerate(["마두로", "マドゥロ", "самолёт", "Μαδούρο"])]
    workdir.write_config(sources=[site.url("/feeds/world.rss")], topics=topics, smtp=mail)
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert "delivered 4 email(s)" in result.stdout
    messages = mail.wait_for(4)
    bold = {word for message in messages
            for word in re.findall(r"<strong[^>]*>([^<]*)</strong>", parts(message)[1])}
    assert bold >= {"마두로", "マドゥロ", "Самолёт", "Μαδούρο"}
    [row] = export(workdir)
    assert row["title"] == "마두로 대통령, マドゥロ大統領"
    assert unicodedata.is_normalized("NFC", row["text"])


def split_page(article_body: str | None) -> str:
    """A page whose body is split in two elements of one class by a row of ads and a
    "Most read" box, the extraction keeping the first (as The New Yorker's three
    ``div.body__inner-container``, the second here outside the ``article``);
    ``article_body``: its JSON-LD's articleBody."""
    first = "".join(f"<p>{p}</p>" for p in BODY[:3])
    second = "".join(f"<p>{p}</p>" for p in BODY[3:])
    ads = "".join(f'<div class="ad"><a href="/ad/{i}">Sponsored offer number {i} for '
                  f'boat owners</a></div>' for i in range(6))
    most = "".join(f'<li><a href="/news/{i}">Most read story number {i} about the town '
                   f'council and the ferry</a></li>' for i in range(12))
    ld = "" if article_body is None else (
        '<script type="application/ld+json">' + json.dumps({
            "@context": "https://schema.org", "@graph": [
                {"@type": "WebPage", "name": "Harbour Gazette"},
                {"@type": "NewsArticle", "headline": "Harbour board raises mooring fees",
                 "articleBody": article_body}]}) + "</script>")
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Harbour board raises mooring fees - Harbour Gazette</title>{ld}</head><body>
<nav><a href="/">Home</a> <a href="/harbour">Harbour</a></nav><main><article>
<h1>Harbour board raises mooring fees for visiting yachts</h1>
<div class="body__inner">{first}</div></article><div class="ads-row">{ads}</div>
<aside><h3>Most read</h3><ul>{most}</ul></aside>
<section class="body__inner">{second}</section></main>
<footer><p>Harbour Gazette, 4 Quay Street</p></footer></body></html>"""


def test_a_body_split_by_ads_is_read_whole_from_its_json_ld() -> None:
    """The New Yorker's and Rzeczpospolita's bodies stand in several elements between rows
    of ads: extraction kept the first, half of the article (a topic on the rest never
    alerted: a review, on fundus's pages). The page's JSON-LD articleBody, holding that
    text and saying more, is the text; its CMS's directives and markdown read as text."""
    whole = extract_article(split_page(None), URL)
    assert whole is not None
    assert [p in whole.text for p in BODY] == [True] * 3 + [False] * (len(BODY) - 3)
    marked = "\n".join(["+++dropcap", BODY[0], "+++", *BODY[1:3],
                        "[#image: /photos/6442ac41a765749b63ab2787]",
                        "{: legacyType=\"feature-small\"}",
                        BODY[3].replace("dredging", "[dredging](https://x.example/d){: .small}"),
                        *("*" + p + "*" if i == 0 else p for i, p in enumerate(BODY[4:]))])
    found = extract_article(split_page(marked), URL)
    assert found is not None
    # The headline the extraction kept (taken off where it is stored), then the body.
    assert found.text.split("\n") == [whole.text.split("\n")[0], *BODY]
    # A JSON-LD body that does not hold the page's text (another article), or no longer
    # than it, is not read.
    other = "\n".join(STORIES_BY_SLUG["city-late-winner"].body * 3)
    assert extract_article(split_page(other), URL).text == whole.text
    assert extract_article(split_page("\n".join(BODY[:3])), URL).text == whole.text


def test_a_json_ld_body_in_markup_with_a_control_character_is_read() -> None:
    """An articleBody written in markup with a control character in it (JSON escapes one,
    "\\u0001"): setting its paragraphs' line breaks raised, and the page was never stored."""
    marked = "".join(f"<p>{p}</p>" for p in BODY).replace("mooring", "moor\x01ing", 1)
    assert "\x01" in marked
    found = extract_article(split_page(marked), URL)
    assert found is not None
    assert found.text.split("\n")[1:] == BODY


@pytest.mark.parametrize("shape", ["html", "paragraphs"])
def test_a_teaser_page_is_read_whole_from_its_next_js_data(shape: str) -> None:
    """A Next.js page that shows a teaser and carries its article in ``__NEXT_DATA__``:
    the teaser alone was stored, as an article like any other (a review: 29 of 1,461
    words of an AP story). The data's text that holds the teaser and says more is the text
    (an HTML string, or an array of paragraphs); other long texts of the data (a related
    story's) are not."""
    related = " ".join(STORIES_BY_SLUG["city-late-winner"].body)
    data = {"props": {"pageProps": {
        "article": {"headline": "Harbour board raises mooring fees",
                    "body": "".join(f"<p>{p}</p>" for p in BODY) if shape == "html" else
                    [{"type": "paragraph", "text": p} for p in BODY]},
        "related": [{"title": "Late winner", "summary": related}]}}}
    html = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Harbour board raises mooring fees - Harbour Gazette</title></head><body>
<nav><a href="/">Home</a> <a href="/harbour">Harbour</a></nav><div id="__next"><main><article>
<h1>Harbour board raises mooring fees for visiting yachts</h1><p>{BODY[0]}</p>
<p class="more">Read the full story in our app.</p></article></main></div>
<footer><p>Harbour Gazette, 4 Quay Street</p></footer>
<script id="__NEXT_DATA__" type="application/json">{json.dumps(data)}</script></body></html>"""
    found = extract_article(html, URL)
    assert found is not None
    for paragraph in BODY:
        assert paragraph in found.text
    assert "late winner" not in found.text.lower() and related[:40] not in found.text


def app_router_page(teaser: str, body_html: str) -> str:
    """A Next.js App Router page: its markup shows ``teaser`` (or nothing), its scripts push
    the payload React renders from, the article's markup (``body_html``) a text row of it
    (``id:T<length in UTF-8 bytes, hex>,<text>``) among rows of data and hints."""
    body = body_html.encode()
    payload = (
        '1:"$Sreact.fragment"\n3:I[13578,[],""]\n'
        ':HL["/_next/static/media/font.woff2","font",{"crossOrigin":""}]\n'
        '2:["$","html",null,{"lang":"en","children":["$","main",null,{"children":"$L5"}]}]\n'
        f'5:T{len(body):x},' + body_html
        + '6:["$","aside",null,{"children":"Most read: Late winner at the harbour derby"}]\n'
    )
    cut = len(payload) // 3  # the payload comes in several pushes, split anywhere
    pushes = "".join(
        f"<script>self.__next_f.push({json.dumps([1, part])})</script>"
        for part in (payload[:cut], payload[cut : 2 * cut], payload[2 * cut :]))
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Harbour board raises mooring fees - Harbour Gazette</title></head><body>
<script>(self.__next_f=self.__next_f||[]).push([0])</script>
<nav><a href="/">Home</a> <a href="/harbour">Harbour</a> <a href="/sport">Sport</a></nav>
<main>{teaser}</main><footer><p>Harbour Gazette, 4 Quay Street</p></footer>
{pushes}</body></html>"""


@pytest.mark.parametrize("teaser", ["", f"<article><h1>Harbour board raises mooring fees</h1>"
                                        f"<p>{BODY[0]}</p></article>"])
def test_an_app_router_page_is_read_from_the_markup_its_scripts_render(teaser: str) -> None:
    """A Next.js App Router page whose markup holds no article, or a teaser, and whose
    scripts push the article's markup (Hankook Ilbo 2026): its body was lost, the page
    stored from its feed's summary or as a teaser (a review, on fundus's pages). The
    payload's markup is read, its data is not."""
    body_html = ('<div class="editor-img-box"><img src="/photo.jpg"></div>'
                 + "".join(f'<p class="editor-p">{p}</p>' for p in BODY)
                 + "<p>한국어 문단도 있습니다.</p>")
    found = extract_article(app_router_page(teaser, body_html), URL)
    assert found is not None
    for paragraph in [*BODY, "한국어 문단도 있습니다."]:
        assert paragraph in found.text
    assert "Most read" not in found.text and "Quay Street" not in found.text
    assert found.title is not None and "Harbour board raises mooring fees" in found.title


def test_an_app_router_pages_payload_of_another_story_is_not_its_article() -> None:
    """A video page whose markup holds no text and whose payload holds a related story's
    card: the card's text was stored as the page's article, under its headline (a
    diff review). The payload's markup is the article only when it holds the headline's
    words."""
    card = ('<section class="related"><h2>More on this</h2>'
            + "".join(f"<p>{p}</p>" for p in STORIES_BY_SLUG["city-late-winner"].body)
            + "</section>")
    html = app_router_page("", card).replace(
        "Harbour board raises mooring fees - Harbour Gazette", "Video: storm surge at the quay")
    found = extract_article(html, URL)
    assert found is None or not any(
        p[:40] in found.text for p in STORIES_BY_SLUG["city-late-winner"].body)


def test_an_app_router_payload_is_read_however_its_pushes_are_written() -> None:
    """Several pushes in one script are each read; a push that cannot be read (a page cut
    short) ends its own script's, not the others' (read from each unclosed push to the end
    of its script, a hostile page of a few megabytes took minutes)."""
    body_html = "".join(f"<p>{p}</p>" for p in BODY)
    html = app_router_page("", body_html)
    joined = re.sub(r"</script><script>self\.__next_f", ";self.__next_f", html)
    assert joined.count("<script>self.__next_f.push") == 1
    broken = html.replace("</body>", '<script>self.__next_f.push([1,"9:T10,</script></body>')
    hostile = html.replace("</body>", "<script>" + 'self.__next_f.push([1,"x' * 5000
                           + "</script></body>")
    # Nested deeper than Python reads (RecursionError, not a ValueError: the page's whole
    # article was lost, its feed's summary stored; a diff review).
    deep = html.replace("</body>", "<script>self.__next_f.push(" + "[" * 5000 + "</script></body>")
    for page in (joined, broken, hostile, deep):
        found = extract_article(page, URL)
        assert found is not None and all(p in found.text for p in BODY)


def test_an_app_router_page_in_a_script_written_without_spaces_is_read() -> None:
    """A Japanese page whose body is only in its payload: the payload's markup counted its
    words by spaces, and the headline's words whole, so a body in Japanese was never read
    (a diff review: the titles and bodies of 8 of fundus's 9 Japanese articles)."""
    title = "宮崎県で震度5弱、高知と宮崎に1メートルの津波注意報"
    paragraphs = [
        "気象庁によると、宮崎県で最大震度5弱の揺れを観測する地震があった。震源は日向灘で、"
        "地震の規模を示すマグニチュードは6.6と推定される。",
        "気象庁は高知県と宮崎県の沿岸に津波注意報を出し、海岸から離れるよう呼びかけている。"
        "予想される津波の高さは最大1メートル。",
        "宮崎市内では停電が発生し、九州電力が復旧作業を進めている。けが人の情報は入っていない。",
    ]
    html = app_router_page("", "".join(f"<p>{p}</p>" for p in paragraphs)).replace(
        "Harbour board raises mooring fees - Harbour Gazette", title)
    found = extract_article(html, URL)
    assert found is not None and all(p in found.text for p in paragraphs)


def test_a_related_story_in_japanese_script_data_is_not_the_pages_text() -> None:
    """A Japanese page whose Next.js data holds a related story's body with the page's two
    short lines (a photo credit, a subheading): each line counted as one word, as words
    were counted by spaces, so those two made half the page's text and the related story
    became its text (a diff review). Unspaced characters count two a word."""
    from crawler.articlebody import completed

    first = "政府は十六日、来年度の予算案の概要を発表した。防衛費は過去最大となり、社会保障費も増加する見通しだ。"
    second = ("財務省によると、歳出の総額は百十兆円を超える。野党は国債の増発に強く反発しており、"
              "国会での論戦が予想される。")
    related = ("<p>写真：ロイター</p><p>東京株式市場で日経平均株価が大幅に反落した。米国の利上げ観測が"
               "強まり、ハイテク株を中心に売りが広がった。市場関係者は、当面は値動きの荒い展開が続くと"
               "みている。</p><p>■今後の見通し</p><p>円相場は一ドル＝百五十円台で推移し、輸出関連株には"
               "買いも入った。日銀の次の会合を前に、様子見の姿勢も強い。</p>")
    data = {"props": {"pageProps": {"related": [{"title": "日経平均が反落", "body": related}]}}}
    tree = fromstring(f'<html><body><p>x</p><script id="__NEXT_DATA__" type="application/json">'
                      f"{json.dumps(data, ensure_ascii=False)}</script></body></html>")
    assert completed("\n".join(["写真：ロイター", first, "■今後の見通し", second]), tree) is None


def test_a_live_blogs_entries_are_read_from_its_json_ld() -> None:
    """A live blog's page shows its latest entries, its JSON-LD ``liveBlogUpdate`` all of
    them (The Mirror's riots blog: 30 of 410): a topic on an earlier one never alerted (a
    review, on fundus's pages). Its entries, each headline and body, are the text, with
    those the page shows that its JSON-LD, written earlier, does not have yet."""
    entries = [(f"{when}: {title}", paragraph) for when, title, paragraph in zip(
        ["18.05", "17.40", "17.10", "16.45", "16.20", "15.55"],
        ["Ferry services resume", "Crane inspection finished", "Quay reopened to traffic",
         "Tugboat crews on standby", "Lighthouse keeper interviewed", "Storm warning issued"],
        BODY, strict=False)]
    shown = "".join(f'<div class="entry"><h2>{t}</h2><p>{p}</p></div>' for t, p in entries[:2])
    ld = json.dumps({"@context": "https://schema.org", "@type": "LiveBlogPosting",
                     "headline": "Harbour storm live",
                     "liveBlogUpdate": [{"@type": "BlogPosting", "headline": t,
                                         "articleBody": p} for t, p in entries[1:]]})
    html = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Harbour storm live - Harbour Gazette</title>
<script type="application/ld+json">{ld}</script></head><body>
<nav><a href="/">Home</a> <a href="/harbour">Harbour</a></nav><main><article>
<h1>Harbour storm live: ferries, cranes and the quay</h1>{shown}
<p><a href="?page=2">Load earlier entries</a></p></article></main>
<footer><p>Harbour Gazette, 4 Quay Street</p></footer></body></html>"""
    found = extract_article(html, URL)
    assert found is not None
    for title, paragraph in entries:
        assert title in found.text and paragraph in found.text, title
    assert "Load earlier" not in found.text
