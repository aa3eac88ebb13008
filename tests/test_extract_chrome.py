"""Chrome that stands inside an article's body element: paragraphs of boxes a site names as
chrome (a disclosure, a related story's teaser, a newsletter prompt, an author's bio) are
dropped from the extracted text, the article's own paragraphs are kept."""

from __future__ import annotations

import json
from copy import deepcopy
from pathlib import Path

from trafilatura.utils import load_html

from crawler.extract import (
    _box_texts,
    _outermost_chrome,
    _solid,
    chrome_box_lines,
    chrome_name,
    extract_article,
    extract_pass,
    is_credit,
    is_lookalike,
    is_prompt,
    is_related_heading,
    page_text,
    picture_captions,
    text_sizes,
    trailing_italics,
    walk_page,
    without_chrome_lines,
)

FIXTURES = Path(__file__).parent / "fixtures"

URL = "https://harbour-gazette.example/2024/05/harbour-board-budget"

BODY = [
    "The harbour board met on Tuesday evening to settle next year's budget, and after four "
    "hours of debate it agreed to raise the mooring fees for visiting yachts by a tenth.",
    "Councillor Ingrid Stavanger said the increase would pay for the dredging of the inner "
    "basin, which has silted up since the storms of last winter closed two of the berths.",
    "Fishermen who use the quay every day will pay nothing more, the board decided, since "
    "their catches already bring the town more than the yachts ever spend in its shops.",
    "Visiting sailors were divided: a skipper from the north coast called the new fees fair "
    "for a sheltered berth, while a family crew on their way south said they would anchor "
    "in the bay instead and row ashore for bread and water.",
    "The board also heard a report on the slipway, whose concrete is cracking at the lower "
    "end; repairs will have to wait for the next budget unless a grant from the county "
    "comes through before the end of the summer.",
    "The dredging contract goes out to tender in June, and the works should start before the "
    "autumn regatta fills the basin with boats from the whole coast again.",
]
DISCLOSURE = (
    "This post contains references to products of our advertisers. We may receive "
    "compensation when you click on links to those products."
)
TEASER = (
    "Lighthouse keepers return to Skerry Point after thirty years of automation, and the "
    "village hopes the visitors will follow them."
)
NEWSLETTER = "Never miss the latest harbour news by signing up to our newsletter today!"
CARD = (
    "The regatta moves to September this year, after the sailing club found that the spring "
    "tides leave too little water in the basin for the larger boats."
)
BIO = (
    "Marta Quayle has covered the harbour and its boards for the Gazette since 2009 and "
    "writes a weekly column about the coast."
)


def article_page(body: list[str] = BODY) -> str:
    """A news article whose body element holds chrome boxes between its paragraphs
    (the boxes' shapes as real pages have them, which trafilatura's defaults keep)."""
    paragraphs = [f"<p>{p}</p>" for p in body]
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Harbour board raises mooring fees - Harbour Gazette</title></head><body>
<nav><a href="/">Home</a> <a href="/harbour">Harbour</a> <a href="/sport">Sport</a></nav>
<main><article class="post">
<h1>Harbour board raises mooring fees for visiting yachts</h1>
<section class="editorial-disclosure"><p>{DISCLOSURE}</p></section>
<div class="entry-content">
{paragraphs[0]}
{paragraphs[1]}
<div class="promo-box"><p>{TEASER}</p>
<p><a href="/2024/05/lighthouse-keepers">Lighthouse keepers are back at Skerry Point</a></p></div>
{"".join(paragraphs[2:])}
<a class="card" href="/2024/04/regatta-moves"><div><p>{CARD}</p></div></a>
<div class="factbox"><div class="factbox-content"><p>{NEWSLETTER}</p></div></div>
<div class="contributor-bio"><p>{BIO}</p></div>
</div></article></main>
<footer><p>Harbour Gazette, 4 Quay Street</p></footer></body></html>"""


def folded(text: str) -> str:
    return " ".join(text.split())


def test_names_of_chrome_boxes_are_read_word_by_word() -> None:
    tree = load_html(
        '<html><body><div class="relatedPost">a</div><div id="editorial-disclosure">b</div>'
        '<div class="slice-author-bio x">c</div><div class="position-relative">d</div>'
        '<div class="live-match-comment-body">e</div><div class="paywall">f</div>'
        '<div class="elementor-widget-container">g</div></body></html>'
    )
    assert tree is not None
    names = {div.text: chrome_name(div) for div in tree.iter("div")}
    assert names == {"a": True, "b": True, "c": True, "d": False, "e": False, "f": False,
                     "g": False}


def test_trafilatura_keeps_the_boxes_newswatch_drops_them() -> None:
    html = article_page()
    document = extract_pass(load_html(html), URL, "default")
    assert document is not None
    plain = folded(document.text or "")
    for chrome in (DISCLOSURE, TEASER, NEWSLETTER, BIO, CARD):
        assert folded(chrome) in plain  # the premise: single-page extraction keeps them
    extracted = extract_article(html, URL)
    assert extracted is not None
    text = folded(extracted.text)
    # The card's summary is text of a link to another story.
    for chrome in (DISCLOSURE, TEASER, NEWSLETTER, BIO, CARD):
        assert folded(chrome) not in text
    for paragraph in BODY:
        assert folded(paragraph) in text


def test_a_line_that_also_stands_outside_the_boxes_is_kept() -> None:
    """The teaser's summary repeated as a paragraph of the article itself stays."""
    html = article_page([*BODY, TEASER])
    extracted = extract_article(html, URL)
    assert extracted is not None
    assert folded(TEASER) in folded(extracted.text)
    assert folded(NEWSLETTER) not in folded(extracted.text)


#: A gallery's slides whose captions are the article.
CAPTIONS = [
    f"Costume idea number {n}: a lighthouse keeper's coat, a lantern and a woollen hat "
    f"will turn you into the keeper of Skerry Point for one night of the year."
    for n in range(1, 9)
]
SLIDES = "".join(
    f'<figure><img src="/img/{n}.jpg" alt=""><figcaption class="flat-slide-caption">'
    f"{c}</figcaption></figure>" for n, c in enumerate(CAPTIONS)
)


def test_boxes_that_are_most_of_the_text_are_the_story() -> None:
    """A gallery whose slides' captions are the article: their boxes are named as captions,
    but they are most of the text, so nothing is dropped."""
    captions, slides = CAPTIONS, SLIDES
    html = (f"<html><body><article><h1>Eight costumes for the harbour parade</h1>"
            f"<p>{BODY[0]}</p>{slides}</article></body></html>")
    tree = load_html(html)
    text = "\n".join([BODY[0], *captions])
    assert chrome_box_lines(tree, text) == set()
    # The same box in a long article is chrome.
    long_text = "\n".join([*BODY, *BODY, *BODY, captions[0]])
    long_html = html.replace(f"<p>{BODY[0]}</p>",
                             "".join(f"<p>{p}</p>" for p in [*BODY, *BODY, *BODY]))
    long_html = long_html.replace(slides, slides.split("</figure>")[0] + "</figure>")
    assert chrome_box_lines(load_html(long_html), long_text) == {folded(captions[0])}


def test_prompts_of_the_site_go_but_news_about_the_same_things_stays() -> None:
    prompts = [
        "Never miss the latest news by signing up to our newsletter today!",
        "Abonnieren Sie jetzt unseren Newsletter und verpassen Sie keinen Beitrag mehr.",
        "If you enjoyed reading this post, would you consider supporting our work? Just "
        "click here. Thanks!",
        "For the latest stories and breaking news download the Gazette apps for iOS and "
        "Android.",
        "¿Ya sabías que tenemos canal de Telegram? Únete desde tu celular en este enlace.",
        "Die Harbour Gazette gibt es jetzt auch als WhatsApp-Kanal.",
        "Alle Meldungen des Tages im Telegram-Kanal der Harbour Gazette.",
        "Escucha esta nota aquí",
        "Anzeige, enthält Affiliate Links",
        "Subscribe now to our weekend edition for the full story.",
        "Czytasz właśnie nowy rodzaj materiału. Wesprzyj nas darowizną.",
        "Advertisement",
        "HAZTE MIEMBRO Y DISFRUTA DE BENEFICIOS EXCLUSIVOS",
        "Verraten Sie gerne in den Kommentaren: Was bedeutet der Preis für Sie?",
        "Alles über nachhaltige Wanderschuhe findest Du hier.",
        "Sofern nicht anders ausgewiesen, stehen Inhalte dieser Website unter CC-BY",
        "© 2024 Harbour Gazette. All rights reserved.",
        # A donation appeal and a login box's line (2000s pages, beside the article).
        "Help us continue to spread the magic of words to readers everywhere",
        "oder neu registrieren?",
    ]
    news = [
        "Zelenskyy said on Telegram that the missile struck the city of Bila Tserkva.",
        "The province sends weather alerts to residents through WhatsApp, SMS and email.",
        # The media it names, not the site's own channel (a South African news story).
        "According to the province, real-time weather alerts reach residents through "
        "WhatsApp, SMS, email and social media channels.",
        "He had used WhatsApp for years before he joined the campaign in Johannesburg.",
        "He got the tattoo after the studio advertised the design on Instagram.",
        "The campaign is investing more advertising dollars in Pennsylvania than anywhere.",
        "The grant will help us continue the dredging next year, the harbour master said.",
        "Voters who moved this year must register again before the end of May.",
        # A long paragraph about a newsletter is the article's own.
        "The council's newsletter, posted to every household in March, told residents that "
        "the harbour would close for dredging, but the notice came too late for the "
        "sailing club, which had already invited thirty boats to its spring regatta and now "
        "has to find them berths in the next town along the coast.",
    ]
    assert [is_prompt(line) for line in prompts] == [True] * len(prompts)
    assert [is_prompt(line) for line in news] == [False] * len(news)
    # A page about a licence keeps its sentences about it.
    assert not is_prompt("Mit Creative Commons können Urheber von Fotos in wenigen "
                         "Schritten festlegen, was andere mit ihren Werken tun dürfen.")
    text = "\n".join([BODY[0], prompts[0], news[0], BODY[1]])
    assert without_chrome_lines(text, set()) == "\n".join([BODY[0], news[0], BODY[1]])


def test_the_heading_of_a_dropped_link_list_goes_with_it() -> None:
    anchors = {"Lighthouse keepers are back at Skerry Point",
               "The regatta moves to September", "Sources: the harbour board's minutes"}
    text = "\n".join([
        BODY[0],
        "Lesen Sie auch die folgenden Beiträge:",
        "Lighthouse keepers are back at Skerry Point",
        "The regatta moves to September",
        BODY[1],
        # A heading that is a sentence, or that no link line follows, stays.
        "The board will meet again in June.",
        "Lighthouse keepers are back at Skerry Point",
        "What the fees pay for:",
        BODY[2],
    ])
    assert without_chrome_lines(text, anchors).split("\n") == [
        BODY[0], BODY[1], "The board will meet again in June.", "What the fees pay for:",
        BODY[2],
    ]


def test_a_list_of_links_is_judged_whole() -> None:
    # El Mundo's related stories: each item a kicker and a headline's link. The last one's
    # kicker made it 0.77 link text, short of DROP_LINK_SHARE: "Fernando Alonso" stayed at
    # the head of an article about Verstappen, a false alert for him (and a missed one for a
    # topic excluding him).
    anchors = {"Ferrari salva el 'match ball' tras una carrera sin orden ni concierto",
               "El pulso entre McLaren y Ferrari",
               'Un viejo problema que le dejó "sin 160 CV entre una jauría"',
               "the harbour board's minutes"}
    related = [
        "- Crónica Ferrari salva el 'match ball' tras una carrera sin orden ni concierto",
        "- Mundial 2024 El pulso entre McLaren y Ferrari",
        '- Fernando Alonso Un viejo problema que le dejó "sin 160 CV entre una jauría"',
    ]
    # The article's own list, one of its items with a link, stays whole.
    own = ["- Mooring fees for visiting yachts rise by a tenth from April.",
           "- The figures are in the harbour board's minutes",
           "- Fishermen pay nothing more."]
    text = "\n".join([*related, BODY[0], *own, BODY[1]])
    assert without_chrome_lines(text, anchors).split("\n") == [BODY[0], *own, BODY[1]]


def test_headings_of_related_story_boxes_go() -> None:
    headings = ["Contenido Relacionado", "Weitere aktuelle Themen aus der Arbeitswelt",
                "RELATED STORIES", "Lesen Sie auch", "Czytaj też: Wyścig zbrojeń ruszył",
                "À lire aussi"]
    body = ["Related parties must disclose it.",
            "Weitere Themen der Sitzung waren der Hafen und die neue Slipanlage, die im "
            "Herbst gebaut werden soll, wie der Bürgermeister am Abend erklärte."]
    assert [is_related_heading(h) for h in headings] == [True] * len(headings)
    assert [is_related_heading(b) for b in body] == [False, False]


def test_paywall_membership_and_offer_prompts_go() -> None:
    for line in ("Pour accéder en illimité", "Pour lire la suite",
                 "Unterstütze RosaMag bereits mit 2,50!",
                 "Registrieren Sie sich und erhalten Sie exklusive Angebote!",
                 "Subscribe for unlimited access to every story.", "Member-only story"):
        assert is_prompt(line), line
    assert not is_prompt("The museum reopens on Monday with free access for residents.")
    assert not is_prompt("A member-only story hour opens at the library on Monday.")


def test_a_paywalls_own_lines_go_in_french_italian_and_german() -> None:
    """The lines under a paywalled article's teaser (Le Monde's, Corriere's, FAZ's kind)
    were stored as its last paragraphs; news that an offer is for a provider's subscribers
    is not a prompt."""
    for line in ("Il vous reste 78.52% de cet article à lire. La suite est réservée aux "
                 "abonnés.", "Déjà abonné ? Se connecter", "Cet article est réservé aux abonnés",
                 "Questo contenuto è riservato agli abbonati",
                 "Abbonati per continuare a leggere questo articolo", "Sei già abbonato? Accedi",
                 "Exklusiv für Abonnenten", "Sie sind bereits Abonnent? Hier anmelden"):
        assert is_prompt(line), line
    for line in ("L'offre 5G est réservée aux abonnés Freebox, a annoncé l'opérateur.",
                 "Gli abbonati Tim potranno usare il servizio da lunedì.",
                 "Die Abonnenten des Senders zahlen ab Januar mehr."):
        assert not is_prompt(line), line


def test_a_caption_with_its_credit_goes() -> None:
    assert is_credit("Logo des Harbour Award von Gazette und Quay Verlag | © Harbour Gazette")
    assert not is_credit("The harbour board's budget | the figures for 2024 and 2025")
    assert not is_credit(BODY[0])


def test_text_sizes_count_what_text_content_holds() -> None:
    tree = load_html(
        "<html><body><div> one <b>two</b> three<!-- not text --> four "
        "<p>five  six</p>seven</div><p>eight</p></body></html>"
    )
    assert tree is not None
    sizes = text_sizes(tree)
    for element in tree.iter("div", "p", "b", "body"):
        assert sizes[element] == len("".join(element.text_content().split()))


def test_text_sizes_count_every_white_space_and_alphabet() -> None:
    """A text's size is what ``str.split`` leaves of it, whatever its white space (ASCII,
    non-breaking and other Unicode spaces) and alphabet; a comment's tail is text."""
    from lxml import etree
    from lxml import html as lxml_html

    spaces = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
    for text in ("", spaces, "plain ASCII words", "Caf\u00e9 \u201cquoted\u201d",
                 f"a{spaces}b", "tabs\tand\nlines", "\u00ad\u200bsoft and zero-width",
                 "\u3000ideographic\u00a0spaces\u2009"):
        assert _solid(text) == len("".join(text.split())), repr(text)
    printed = spaces.replace("\x1c", "").replace("\x1d", "").replace("\x1e", "").replace(
        "\x1f", "").replace("\x0b", "").replace("\x0c", "")  # control characters: not HTML
    tree = lxml_html.fromstring(
        f"<html><body><div>ASCII text\twith tabs<p>Caf\u00e9 \u201cquoted\u201d\u00a0text</p>"
        f"<!-- a comment -->its tail{printed}here<i>{printed}</i><b>x{printed}y</b>"
        f"<p>plain words</p>\u3000</div></body></html>")
    sizes = text_sizes(tree)
    assert len(sizes) == len(list(tree.iter(etree.Element)))
    for element in tree.iter(etree.Element):
        assert sizes[element] == len("".join(element.text_content().split())), element.tag


def test_the_page_walk_reads_what_each_rule_read_on_its_own() -> None:
    """The walk's shortcuts give what the rules' own reading of the page gives, on every
    fixture page: the links' texts, the page's text outside scripts and styles, the
    outermost chrome boxes under any size, and each element's text."""
    for path in sorted(FIXTURES.rglob("*.html")):
        tree = load_html(path.read_bytes())
        assert tree is not None
        walk = walk_page(tree)
        assert list(walk.links.values()) == [
            " ".join(a.text_content().split()) for a in tree.iter("a")], path
        assert walk.page_chars() == len(page_text(tree)), path
        for limit in (20, 100, 400, 2_000, 10_000, 10**9):
            chosen = (e for e, _ in walk.chrome if walk.sizes[e] < limit)
            assert _outermost_chrome(walk, limit) == _box_texts(chosen, walk, limit), path
        for element in walk.sizes:
            shown = deepcopy(element)
            for hidden in shown.xpath(".//script|.//style"):
                hidden.drop_tree()  # its tail stays
            assert walk.solid(element) == "".join(shown.text_content().split()), path


def page(inside: str) -> str:
    """A news page whose article element holds ``inside`` after the body's first paragraphs
    (the last ones follow it)."""
    body = "".join(f"<p>{p}</p>" for p in BODY[:3])
    rest = "".join(f"<p>{p}</p>" for p in BODY[3:])
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Harbour board raises mooring fees - Harbour Gazette</title></head><body>
<nav><a href="/">Home</a> <a href="/harbour">Harbour</a></nav>
<main><article><h1>Harbour board raises mooring fees for visiting yachts</h1>
<div class="entry-content">{body}{inside}{rest}</div></article></main>
<footer><p>Harbour Gazette, 4 Quay Street</p></footer></body></html>"""


CAPTION = "The inner basin at low tide, where the silt now reaches the old ferry steps."


def test_a_pictures_caption_goes_the_articles_paragraphs_stay() -> None:
    """A caption in a picture's box (named as an image's, or set in italics), beside a
    credit that trafilatura leaves out; a paragraph with a picture in it, or a step under
    its heading, is the article's."""
    boxes = [
        f'<div class="image-box"><img src="/img/basin.jpg" alt=""><p class="to-image-box">'
        f'<span class="copyright">Foto: Gazette</span> {CAPTION}</p></div>',
        f'<p><img src="/img/basin.jpg" alt=""><br><em><sub>{CAPTION}</sub></em></p>',
        f'<article class="media media-image"><img src="/img/basin.jpg" alt="">'
        f'<section class="media__description-copyright"><div class="media__description">'
        f'<p>{CAPTION}</p></div><div class="media__copyright">Foto: Gazette</div>'
        f"</section></article>",
    ]
    for box in boxes:
        html = page(box)
        tree = load_html(html)
        text = "\n".join([*BODY[:3], CAPTION, *BODY[3:]])
        assert picture_captions(tree, text) == {folded(CAPTION)}, box
        extracted = extract_article(html, URL)
        assert extracted is not None
        assert folded(CAPTION) not in folded(extracted.text), box
        assert all(folded(p) in folded(extracted.text) for p in BODY), box
    kept = [
        # A short paragraph with a picture floated in it, in plain type and no named box.
        f'<p><img src="/img/basin.jpg" alt="" class="alignleft">{CAPTION}</p>',
        # A step of a how-to: its heading and picture in the box.
        f'<div class="step-image"><h3>Step 2</h3><img src="/img/2.jpg" alt="">'
        f"<p><em>{CAPTION}</em></p></div>",
    ]
    for box in kept:
        tree = load_html(page(box))
        text = "\n".join([*BODY[:3], CAPTION, *BODY[3:]])
        assert picture_captions(tree, text) == set(), box


def test_lines_in_look_alike_letters_go() -> None:
    # "Advertise with the most visited news site" with Cyrillic а, е, і, о, ѕ, у in it.
    hidden = ("\u0410dv\u0435rt\u0456\u0455\u0435 w\u0456th th\u0435 most visited news "
              "site ~ W\u0435 \u043eff\u0435r full\u0443 \u0441u\u0455t\u043em\u0456z"
              "\u0430bl\u0435 p\u0430\u0441k\u0430g\u0435\u0455")
    assert is_lookalike(hidden)
    assert without_chrome_lines("\n".join([BODY[0], hidden, BODY[1]]), set()) == "\n".join(
        [BODY[0], BODY[1]])
    # Russian news, one word with a mistyped Latin letter; a brand name in Latin letters.
    assert not is_lookalike("\u0421\u043e\u0432\u0435\u0442 \u043f\u0440\u0438\u043d"
                            "\u044f\u043b \u0431\u044e\u0434\u0436\u0435\u0442 "
                            "\u043f\u043e\u0440\u0442a \u0432 \u0432\u0442\u043e\u0440"
                            "\u043d\u0438\u043a, \u0441\u043e\u043e\u0431\u0449\u0438"
                            "\u043b Reuters")
    assert not is_lookalike(BODY[0])


BIO_NOTE = ("Marta Quayle is the founder of a harbour consultancy and writes about the coast; "
            "follow her on the Gazette's pages.")
FOOTNOTE = ("*The survey asked 1,200 berth holders by telephone in March; the results reflect "
            "their view of the harbour.")


def test_italic_lines_after_the_body_go_footnotes_stay() -> None:
    html = page("") .replace("</div></article>", f"<p><em>{BIO_NOTE}</em></p></div></article>")
    tree = load_html(html)
    text = "\n".join([*BODY, BIO_NOTE])
    assert trailing_italics(tree, text) == {folded(BIO_NOTE)}
    extracted = extract_article(html, URL)
    assert extracted is not None
    assert folded(BIO_NOTE) not in folded(extracted.text)
    assert folded(BODY[-1]) in folded(extracted.text)
    # A footnote in italics, and an italic paragraph inside the body, are the article's.
    html = page(f"<p><i>{BIO_NOTE}</i></p>").replace(
        "</div></article>", f"<p><em>{FOOTNOTE}</em></p></div></article>")
    text = "\n".join([*BODY[:3], BIO_NOTE, *BODY[3:], FOOTNOTE])
    assert trailing_italics(load_html(html), text) == set()


SUMMARY = (
    "\"The harbour board of Skerry Point voted on Tuesday to put its mooring bookings "
    "online, ending sixty years of a ledger kept in the harbourmaster's office. 'Visiting "
    "sailors phoned ahead, or simply turned up and hoped,' the harbourmaster told the local "
    "paper. The new system opens in June and will show the free berths by the hour; the "
    "board hopes it will also end the quarrels on the quay on regatta weekends, when the "
    "basin fills with boats from the whole coast and berths are promised twice. The code "
    "behind it was written by two pupils of the village school, who will maintain it for "
    "a small fee paid from the mooring charges.\""
)


def test_a_story_quoted_in_italics_under_its_byline_is_kept() -> None:
    # A news aggregator's story: the byline and department over one paragraph, "X writes"
    # and the submitted summary quoted in italics. The italics are the story, not a note.
    html = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Harbour Bookings Go Online - Tidewire</title></head><body>
<nav><a href="/">Stories</a> <a href="/recent">Recent</a> <a href="/ask">Ask Tidewire</a></nav>
<article class="story"><header><h2><a href="{URL}">Harbour Bookings Go Online</a></h2>
<div class="details">Posted by <a href="/~keeper">keeper</a>
<time datetime="2012-07-24">on Tuesday July 24, @07:29AM</time>
<br>from the no-more-ledgers dept.</div></header>
<div class="body"><div class="p"><a href="/~quaywatcher">quaywatcher</a> writes
<i>{SUMMARY}</i></div></div>
<aside><a href="#comments">524 comments</a></aside></article>
<footer><a href="/about">About</a> <a href="/privacy">Privacy</a></footer></body></html>"""
    extracted = extract_article(html, URL)
    assert extracted is not None
    assert folded(SUMMARY) in folded(extracted.text)
    lines = [line for line in extracted.text.split("\n") if line.strip()]
    text = "\n".join(lines)
    assert trailing_italics(load_html(html), text) == set()


def test_video_and_player_notices_are_prompts() -> None:
    for line in ("Video verfügbar bis 28.02.2021",
                 "Mit diesem Button kannst Du diese Episode zu deiner Liste hinzufügen.",
                 "Click the button below to listen to the whole interview."):
        assert is_prompt(line), line
    for line in ("Workers at the button factory went on strike on Monday.",
                 "The video was available on the council's website for a week."):
        assert not is_prompt(line), line


RELATED = [
    ("Lighthouse keepers return to Skerry Point",
     ["After thirty years of automation the keepers are back, and the village hopes the "
      "visitors will follow them up the cliff path.",
      "The first of them arrived on Monday with a van of books."]),
    ("The regatta moves to September",
     ["The sailing club found that the spring tides leave too little water in the basin "
      "for the larger boats, and moved the race.",
      "Entries close at the end of August."]),
    ("A new ferry for the islands",
     ["The county has ordered a larger ferry for the island route, which should carry "
      "twice as many cars as the old one from next spring.",
      "The old ferry will be sold."]),
]


def test_a_related_stories_box_larger_than_the_article_goes() -> None:
    """A related-stories list whose excerpts (cut into lines at ``<br>``) are more text than
    the article is still chrome; a wrapper named so that holds the article is not."""
    items = "".join(
        f'<div class="item"><a href="/2024/{n}">{title}</a> <p><small>{"<br>".join(lines)}'
        f"</small></p></div>" for n, (title, lines) in enumerate(RELATED))
    short = BODY[:2]
    html = (f"<html><body><article><h1>Harbour board raises mooring fees</h1>"
            f"{''.join(f'<p>{p}</p>' for p in short)}"
            f'<div class="related_post wp_rp">{items}</div></article></body></html>')
    excerpt = [line for _, lines in RELATED for line in lines]
    text = "\n".join([*short, *[t for t, _ in RELATED], *excerpt])
    assert {folded(line) for line in excerpt} <= chrome_box_lines(load_html(html), text)
    extracted = extract_article(html, URL)
    assert extracted is not None
    assert not any(folded(line) in folded(extracted.text) for line in excerpt)
    assert all(folded(p) in folded(extracted.text) for p in short)
    # The same words naming the article's own wrapper (it holds the text's first line).
    wrapped = (f'<html><body><div class="post has-related-posts"><h1>Harbour board</h1>'
               f"{''.join(f'<p>{p}</p>' for p in BODY)}</div></body></html>")
    assert chrome_box_lines(load_html(wrapped), "\n".join(BODY)) == set()


def test_a_sponsored_label_goes_an_articles_sentence_about_sponsors_stays() -> None:
    """A footnote of an article (CleanEval's page final/486: "*Panels that are sponsored by
    various AHA bodies…") was taken for the site's "Sponsored" label and dropped, and the
    alert for its words was missed; the label and a short note on the sponsor still go."""
    footnote = ("*Regattas that are sponsored by the harbour board and thus guaranteed a "
                "berth in the inner basin are counted among the visiting yachts.")
    for line in ("Sponsored", "Sponsored content", "Sponsored by Quay Chandlers Ltd",
                 "Autor: Marta Quayle (Sponsored Post), Harbour Gazette",
                 "Parallel viewing is sponsored by Common English Bible. To choose a "
                 "different translation, use the dropdown menu below."):
        assert is_prompt(line), line
    assert not is_prompt(footnote)
    text = extract_article(page(f"<p>Sponsored</p><p>{footnote}</p>").encode(), URL)
    assert text is not None
    lines = text.text.split("\n")
    assert footnote in lines
    assert "Sponsored" not in lines



PROFILE = (
    "Marta Quayle is the harbour master of Skerry Point, where she has looked after the "
    "basin and its boats for twenty years, and she is also one of the volunteers on the "
    "lifeboat crew that the town has kept since the storms of 1953."
)


def test_an_authors_profile_box_after_the_story_goes() -> None:
    """A writer's profile box under the story (a picture, the name, "Follow", a bio in a
    ``<div class="profile-info">``, as web-serial and blog platforms show it) is the site's
    chrome, not the story: trafilatura's default pass kept its paragraph, and topics on the
    author's offices fired on every story of that author."""
    paragraphs = "".join(f"<p>{p}</p>" for p in BODY)
    html = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Harbour board raises mooring fees - Harbour Gazette</title></head><body>
<nav><a href="/">Home</a> <a href="/harbour">Harbour</a> <a href="/sport">Sport</a></nav>
<div class="page-content"><div class="chapter-inner chapter-content">
<h1>Harbour board raises mooring fees for visiting yachts</h1>{paragraphs}</div>
<div class="portlet light"><div class="row">
<div class="col-md-2"><img src="/avatars/7.jpg" alt="Marta Quayle">
<a href="/profile/7/posts" class="btn">12 Posts</a></div>
<div class="col-md-10"><div class="col-md-8 profile-info">
<h3><a href="/profile/7">Marta Quayle</a> <button type="button">Follow Author</button></h3>
<p><strong>About:</strong> {PROFILE}</p></div></div></div></div></div>
<footer><p>Harbour Gazette, 4 Quay Street</p></footer></body></html>"""
    document = extract_pass(load_html(html), URL, "default")
    assert document is not None
    assert folded(PROFILE) in folded(document.text or "")  # the premise
    extracted = extract_article(html, URL)
    assert extracted is not None
    text = folded(extracted.text)
    assert folded(PROFILE) not in text
    for paragraph in BODY:
        assert folded(paragraph) in text


SHORT_POST = [
    "The harbour board has put back the dredging of the inner basin until March, two months "
    "later than it promised, as the contractor's barge is still at work up the coast. Too "
    "little, too late for the yachts that winter here?",
    "Read more at the Coast Courier: Dredging delayed again",
]
ABOUT_ME = [
    "Before I started this blog I spent twenty years as a pilot on the estuary, bringing "
    "grain ships and ferries into the basin in every weather, and I wrote a weekly column "
    "on tides and moorings for three papers of the coast.",
    "The blog was named among the best maritime blogs by the Coastal Review (2009 and 2011) "
    "and by the Sailing Almanac, and my pieces on the lifeboat service have been quoted in "
    "the county council and in the national press.",
]

TAGLINE = (
    "Boat owners often overlook the harbour board's minutes, and it is the job of this blog "
    "to read them, looking for the fees, the works and the berths that will change."
)


def blog_post_page(entries: int = 1) -> str:
    """A short blog post whose sidebar's author profile widget is more text than the post,
    as blog platforms' themes lay it out: the post's body marked ``entry-content`` (hAtom),
    the profile, the archive and the labels in widgets of a sidebar beside it."""
    # The post as the platform's editor writes it: styled <div>s, no paragraphs.
    first, more = SHORT_POST
    post = f"""<div class="separator"><a href="/img/basin.jpg"><img src="/img/basin-s.jpg">
</a></div><div style="text-align: justify;"><span style="font-family: Arial;"><b>The harbour board</b>
{first.removeprefix("The harbour board ")}</span></div>
<div style="text-align: justify;"><span><br></span></div>
<div style="text-align: justify;"><b><span>{more.split(": ")[0]}:&nbsp;</span><span><a
href="https://coast-courier.example/dredging">{more.split(": ")[1]}</a></span></b></div>"""
    entry = f"""<div class="post hentry">
<h3 class="post-title entry-title"><a href="{URL}">Dredging put back to March</a></h3>
<div class="post-body entry-content">{post}</div>
<div class="post-footer">Posted by <span class="fn">Marta Quayle</span> at 9:12 AM</div>
</div><div class="comments" id="comments"><h4>No comments:</h4>
<p class="comment-footer"><a href="/comment?post=1">Post a Comment</a></p></div>"""
    about = "<br><br>".join(ABOUT_ME)
    archive = "".join(f'<li><a href="/{year}/{month:02d}/">{month:02d}/{year}</a> ({month})</li>'
                      for year in range(2019, 2025) for month in range(1, 13))
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Harbour Notes: Dredging put back to March</title></head><body>
<div id="header-wrapper"><h1 class="title"><a href="/">Harbour Notes</a></h1>
<p class="description"><span>{TAGLINE}</span></p></div>
<div id="content-wrapper"><div id="main-wrapper"><div class="main section" id="main">
<div class="widget Blog" id="Blog1"><div class="blog-posts hfeed">
<h2 class="date-header"><span>Sunday, May 12, 2024</span></h2>{entry * entries}
</div></div></div></div>
<div id="sidebar-wrapper"><div class="sidebar section" id="sidebar">
<div class="widget Profile" id="Profile1"><h2>About Me</h2><div class="widget-content">
<dl class="profile-datablock"><dt class="profile-data"><a href="/profile/7">Marta Quayle</a>
</dt><dd class="profile-textblock">{about}</dd></dl></div></div>
<div class="widget BlogArchive" id="BlogArchive1"><h2>Blog Archive</h2><ul>{archive}</ul></div>
<div class="widget Label" id="Label1"><h2>Labels</h2><ul><li><a href="/l/tides">tides</a>
</li><li><a href="/l/dredging">dredging</a></li></ul></div></div></div></div>
<div id="footer-wrapper"><p>Powered by a blog platform</p></div></body></html>"""


def test_a_sidebar_beside_the_marked_body_goes_whatever_its_size() -> None:
    """A short post beside its blog's sidebar (Blogger's ``widget Profile``, WordPress's
    ``textwidget``s): the author's "About Me" is more text than the post, so trafilatura
    takes it for part of the article, and the size guards (a box holding half the text is
    the article; boxes that are most of the text are a gallery's captions) kept it: a topic
    on the author's old trade fired on every post of the blog. The page marks the post's
    body (``entry-content``), and the widgets stand beside it, not in it: they go."""
    html = blog_post_page()
    document = extract_pass(load_html(html), URL, "default")
    assert document is not None
    assert all(folded(p) in folded(document.text or "") for p in ABOUT_ME)  # the premise
    extracted = extract_article(html, URL)
    assert extracted is not None
    text = folded(extracted.text)
    for line in ABOUT_ME:
        assert folded(line) not in text
    assert folded(SHORT_POST[0]) in text
    # A page that marks no body, or several (a listing of posts), says nothing of what
    # stands beside the article: the size guards stand as before.
    for other in (html.replace("entry-content", "story"), blog_post_page(entries=2)):
        tree = load_html(other)
        assert chrome_box_lines(tree, "\n".join([*SHORT_POST, *ABOUT_ME])) == set()


def test_boxes_inside_the_marked_body_keep_the_gallery_guard() -> None:
    """A gallery in a marked body: its caption boxes are most of the text, so they stay;
    the sidebar beside the body goes."""
    html = (f'<html><body><div class="post"><div class="entry-content"><p>{BODY[0]}</p>'
            f'{SLIDES}</div></div><div class="sidebar"><p>{BIO}</p></div></body></html>')
    text = "\n".join([BODY[0], *CAPTIONS, BIO])
    assert chrome_box_lines(load_html(html), text) == {folded(BIO)}


def table_layout_page(notice: str) -> str:
    """An article of an older site laid out in tables, whose footer row holds the site's
    links and a notice (a copyright, a contact line), named only by its class or id."""
    paragraphs = "".join(f"<p>{p}</p>" for p in BODY)
    return f"""<html><head><title>Harbour board raises mooring fees</title></head><body>
<table width="760"><tr><td class="leftNav"><a href="/">Home</a><br><a href="/news">News</a>
</td><td><h1>Harbour board raises mooring fees</h1>{paragraphs}</td></tr>
<tr><td colspan="2" class="rule"></td></tr></table>
<table align="center" id="FOOTER"><tr><td><font class="redtext"><a href="/">Home</a> |
<a href="/about">About Us</a> | <a href="/contact">Contact Us</a></font><br>{notice}</td></tr>
</table><p align="center" class="copyright">Copyright &copy; 2006 Harbour Gazette Ltd.
All rights reserved. Reproduction in whole or in part without permission is prohibited.
</p></body></html>"""


def test_a_footer_or_copyright_box_goes() -> None:
    """CleanEval's pages of 2006-2007 keep their footer in a layout table's row or cell
    (``table#FOOTER``, ``td.footer``) or a ``p.copyright``: trafilatura keeps its contact and
    licence lines after the article (a topic on "inquiries" fired on a shop's phone line);
    the names say what the boxes are."""
    notice = ("Please e-mail or call the harbour office if you have any questions regarding "
              "your subscription or the mooring register.")
    tree = load_html(table_layout_page(notice))
    footer = [f"Home | About Us | Contact Us {notice}",
              "Copyright © 2006 Harbour Gazette Ltd. All rights reserved. Reproduction in "
              "whole or in part without permission is prohibited."]
    # The lines as a pass that took the whole table writes them, after the article.
    text = "\n".join([*BODY, *footer])
    assert chrome_box_lines(tree, text) == {folded(line) for line in footer}


def test_a_line_in_a_scripts_data_stands_where_the_page_shows_it() -> None:
    """A page's ``div#footer-scripts`` whose script carries the article's first paragraph
    in its data (twice): the box's text is what the page shows of it, without the script's,
    so the paragraph is not taken for the footer's."""
    data = json.dumps({"lede": BODY[0], "share": {"text": BODY[0]}})
    html = (f"<html><body><div class='story'>{''.join(f'<p>{p}</p>' for p in BODY)}</div>"
            f"<div class='pin related'><p>{BODY[0]}</p></div>"
            f"<div id='footer-scripts'><script>var story = {data};</script></div>"
            f"</body></html>")
    assert chrome_box_lines(load_html(html), "\n".join(BODY)) == set()
