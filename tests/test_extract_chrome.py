"""Chrome that stands inside an article's body element: paragraphs of boxes a site names as
chrome (a disclosure, a related story's teaser, a newsletter prompt, an author's bio) are
dropped from the extracted text, the article's own paragraphs are kept."""

from __future__ import annotations

from trafilatura.utils import load_html

from crawler.extract import (
    chrome_box_lines,
    chrome_name,
    extract_article,
    extract_pass,
    is_credit,
    is_prompt,
    is_related_heading,
    text_sizes,
    without_chrome_lines,
)

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


def test_boxes_that_are_most_of_the_text_are_the_story() -> None:
    """A gallery whose slides' captions are the article: their boxes are named as captions,
    but they are most of the text, so nothing is dropped."""
    captions = [
        f"Costume idea number {n}: a lighthouse keeper's coat, a lantern and a woollen hat "
        f"will turn you into the keeper of Skerry Point for one night of the year."
        for n in range(1, 9)
    ]
    slides = "".join(
        f'<figure><img src="/img/{n}.jpg" alt=""><figcaption class="flat-slide-caption">'
        f"{c}</figcaption></figure>" for n, c in enumerate(captions)
    )
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
    ]
    news = [
        "Zelenskyy said on Telegram that the missile struck the city of Bila Tserkva.",
        "The province sends weather alerts to residents through WhatsApp, SMS and email.",
        "He got the tattoo after the studio advertised the design on Instagram.",
        "The campaign is investing more advertising dollars in Pennsylvania than anywhere.",
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
                 "Subscribe for unlimited access to every story."):
        assert is_prompt(line), line
    assert not is_prompt("The museum reopens on Monday with free access for residents.")


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
