"""match_articles over stored articles: prefix, NEAR, title:, source:, exact case, spans."""

# Multilingual fixture text is the point here.

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage import Match, StoredArticle, Topic
from watchlist import compile_query, highlight, match_articles, source_text
from watchlist.compile import HitTerm, hit_terms
from watchlist.evaluate import matches_at
from watchlist.parser import parse
from watchlist.tokens import cased, tokenize

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def article(
    id: int,
    title: str,
    text: str,
    *,
    url: str = "https://news.example/a",
    source: str = "Example News",
    age: timedelta = timedelta(hours=1),
    baseline: bool = False,
) -> StoredArticle:
    return StoredArticle(
        id=id,
        url=url,
        source_id=1,
        source_name=source,
        title=title,
        text=text,
        published=NOW - age,
        fetched=NOW,
        extraction="page",
        baseline=baseline,
    )


ARTICLES = [
    article(
        1,
        "Maduro lands in Minsk",
        "President Nicolás Maduro met Lukashenko. The US embassy said nothing.",
        url="https://www.reuters.com/world/maduro-minsk",
        source="Reuters",
    ),
    article(
        2,
        "Schools and us",
        "Teachers told us that ai tools help; the Madurology department disagrees.",
        url="https://blog.example.org/ai",
        source="Teachers Blog",
    ),
    article(
        3,
        "EU passes the AI Act",
        "The AI Act was passed. Maduro was not mentioned; Minsk was far away from Caracas "
        "and the long list of other places.",
        url="https://www.spiegel.de/ai-act",
        source="Der Spiegel",
    ),
    article(
        4,
        "Мадуро в Минске",
        "Президент Николас Мадуро встретился с Лукашенко. Die Straßensperre in Berlin.",
        url="https://tass.ru/mir/1",
        source="ТАСС",
    ),
]


def run(queries: dict[int, str], articles: list[StoredArticle] | None = None) -> list[Match]:
    topics = [
        Topic(id=i, name=f"t{i}", query=q, compiled=compile_query(q), notify=("a@example.org",))
        for i, q in queries.items()
    ]
    return match_articles(articles or ARTICLES, topics, now=NOW, lookback=DAY)


def matched(query: str) -> set[int]:
    return {m.article_id for m in run({1: query})}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Madur*", {1, 2, 3}),
        ("Мадур*", {4}),
        ("Straß*", {4}),
        ("NEAR(Maduro Lukashenko, 1)", {1}),
        ("NEAR(Maduro Minsk, 3)", {1, 3}),
        ("NEAR(Maduro Minsk, 2)", {1}),  # 3's text: "mentioned", "minsk"... 3 tokens apart
        ("NEAR(Maduro Caracas)", {3}),  # 8 tokens apart in 3
        ("NEAR(Maduro Caracas, 7)", set()),
        ("title:Maduro", {1}),
        ("title:(Minsk OR Минске)", {1, 4}),
        ("Maduro -title:Maduro", {3}),
        ("source:reuters", {1}),  # by name
        ("source:reuters.com", {1}),  # by host
        ("source:www.spiegel.de", {3}),
        ("source:spiegel.de AI", {3}),
        ("source:ТАСС", {4}),
        ("source:tass.ru", {4}),
        ("reuters", set()),  # the source is not searched by unscoped terms
        ("Maduro -source:reuters", {3}),
        ("us", {1, 2}),
        ("=US", {1}),  # not "us" in 2
        ("ai", {2, 3}),
        ("=AI", {3}),  # not "ai" in 2
        ('="AI Act"', {3}),
        ("ai -=AI", {2}),
        ("=Us", set()),
        ("title:=AI", {3}),
        ("=Nicolas", {1}),  # exact case, accent-insensitive
    ],
)
def test_match_articles_by_operator(query: str, expected: set[int]) -> None:
    assert matched(query) == expected


def spans_text(text: str, spans: tuple[tuple[int, int], ...]) -> list[str]:
    return [text[start:end] for start, end in spans]


def by_article(matches: list[Match]) -> dict[int, Match]:
    return {m.article_id: m for m in matches}


def test_prefix_highlights_the_whole_word() -> None:
    found = by_article(run({1: "Madur*"}))
    assert spans_text(ARTICLES[1].text, found[2].text_spans) == ["Madurology"]
    assert found[2].terms == ("Madurology",)
    assert spans_text(ARTICLES[0].title, found[1].title_spans) == ["Maduro"]


def test_exact_case_highlights_only_the_right_case() -> None:
    found = by_article(run({1: "=US OR =AI"}))
    assert set(found) == {1, 3}
    assert spans_text(ARTICLES[0].text, found[1].text_spans) == ["US"]
    assert spans_text(ARTICLES[2].title, found[3].title_spans) == ["AI"]
    assert found[3].terms == ("AI",)


def test_title_scoped_terms_are_highlighted_in_the_title_only() -> None:
    found = by_article(run({1: "title:Maduro Lukashenko"}))
    assert set(found) == {1}
    m = found[1]
    assert spans_text(ARTICLES[0].title, m.title_spans) == ["Maduro"]
    assert spans_text(ARTICLES[0].text, m.text_spans) == ["Lukashenko"]  # not "Maduro"
    marked = highlight(ARTICLES[0], [m])
    assert [part for part, hit in marked.title if hit] == ["Maduro"]
    assert [part for part, hit in marked.snippet if hit] == ["Lukashenko"]


def test_source_terms_are_not_highlighted() -> None:
    found = by_article(run({1: "source:reuters Maduro"}))
    assert set(found) == {1}
    assert spans_text(ARTICLES[0].text, found[1].text_spans) == ["Maduro"]


def test_near_highlights_its_terms() -> None:
    found = by_article(run({1: "NEAR(Maduro Lukashenko, 1)"}))
    assert spans_text(ARTICLES[0].text, found[1].text_spans) == ["Maduro", "Lukashenko"]


def test_only_the_branches_an_article_satisfies_are_highlighted() -> None:
    """With ``(Trump AND Belarus) OR PDVSA``, an article matched by PDVSA alone had *Trump*
    highlighted in its title, and the word it matched for lost among the others (a review,
    on Euronews's page): the branches it does not satisfy are not highlighted; one it does
    is, whole."""
    found = by_article(run({1: "(Maduro AND Belarus) OR Lukashenko"}))
    assert set(found) == {1}
    assert spans_text(ARTICLES[0].title, found[1].title_spans) == []
    assert spans_text(ARTICLES[0].text, found[1].text_spans) == ["Lukashenko"]
    assert found[1].terms == ("Lukashenko",)
    found = by_article(run({1: "(Maduro AND Minsk) OR Caracas"}))
    assert spans_text(ARTICLES[0].title, found[1].title_spans) == ["Maduro", "Minsk"]
    both = [m for m in run({1: "(Maduro AND Minsk) OR Caracas"}) if m.article_id == 3]
    assert spans_text(ARTICLES[2].text, both[0].text_spans) == ["Maduro", "Minsk", "Caracas"]
    titled = [m for m in run({2: "title:(Lands OR (AI Act))"}) if m.article_id == 3]
    assert spans_text(ARTICLES[2].title, titled[0].title_spans) == ["AI", "Act"]


def test_several_topics_in_one_batch() -> None:
    matches = run({1: "=AI", 2: "ai", 3: "source:reuters", 4: "zzz*"})
    assert sorted((m.article_id, m.topic_id) for m in matches) == [
        (1, 3),
        (2, 2),
        (3, 1),
        (3, 2),
    ]


def test_source_text_is_name_and_host() -> None:
    assert source_text(ARTICLES[0]) == "Reuters www.reuters.com"
    assert source_text(article(9, "t", "x", url="not a url", source="S")) == "S "


def test_old_and_baseline_articles_match_without_alerting() -> None:
    articles = [
        article(10, "US news", "fresh", age=timedelta(hours=2)),
        article(11, "US news", "old", age=timedelta(days=3)),
        article(12, "US news", "baseline", baseline=True),
        article(13, "us news", "wrong case", age=timedelta(hours=2)),
    ]
    matches = by_article(run({1: "=US"}, articles))
    assert {k: m.alert for k, m in matches.items()} == {10: True, 11: False, 12: False}


def test_no_articles_or_no_topics() -> None:
    assert match_articles([], [], now=NOW, lookback=DAY) == []
    assert run({}, ARTICLES) == []


# match_articles finds spans with TokenIndex's fast search of folded text, caching per
# article and per term; here it is compared with a token-by-token reference.

VOCABULARY = [
    "Maduro", "MADURO", "Nicolás", "nicolas", "Madurology", "US", "us", "AI", "ai", "Act",
    "Straße", "STRASSE", "ΟΔΟΣ", "οδός", "Мадуро", "Café", "Cafe\u0301", "covid-19", "AT&T",
    "a", "b", "c", "Minsk", "Lukashenko", "e-mail",
]  # fmt: skip
GAPS = [" ", ", ", "-", "'", "’", "\n\n", " — ", "\u00a0", "; "]
QUERIES = [
    "maduro", '"nicolas maduro"', "madur*", '"nicolas madur"*', "us OR ai", "=US", '="AI Act"',
    "title:maduro", '"a b" OR "b c"', '"a a"', "a b c", "straße OR οδοσ", "мадуро", "cafe",
    "covid-19 OR at&t", "NEAR(maduro minsk, 3)", "maduro -lukashenko", "e-mail", "mad*",
]  # fmt: skip


def reference_spans(text: str, terms: tuple[HitTerm, ...], field: str) -> list[tuple[int, int]]:
    found = tokenize(text)
    pairs = [(token, cased(text[a:b])) for a, b, token in found]
    spans = sorted(
        (found[i][0], found[i + len(term.tokens) - 1][1])
        for term in terms
        if term.tokens and field in term.fields
        for i in range(len(found))
        if matches_at(term.tokens, term.prefix, term.exact, pairs, i)
    )
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(
        st.tuples(
            st.lists(st.sampled_from(VOCABULARY), max_size=4),
            st.lists(st.sampled_from(VOCABULARY), max_size=40),
            st.lists(st.sampled_from(GAPS), min_size=40, max_size=40),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_spans_and_terms_agree_with_a_token_by_token_reference(
    texts: list[tuple[list[str], list[str], list[str]]],
) -> None:
    articles = [
        article(
            number,
            " ".join(title),
            "".join(word + gap for word, gap in zip(words, gaps, strict=False)),
        )
        for number, (title, words, gaps) in enumerate(texts, start=1)
    ]
    by_id = {a.id: a for a in articles}
    queries = dict(enumerate(QUERIES, start=1))
    for match in run(queries, articles):
        item = by_id[match.article_id]
        terms = hit_terms(parse(queries[match.topic_id]))
        assert list(match.title_spans) == reference_spans(item.title, terms, "title")
        assert list(match.text_spans) == reference_spans(item.text, terms, "text")
        words = {
            " ".join(value[start:end].split())
            for value, spans in ((item.title, match.title_spans), (item.text, match.text_spans))
            for start, end in spans
        }
        assert sorted(match.terms) == sorted(words)  # no duplicates, and in casefold order:
        assert [term.casefold() for term in match.terms] == sorted(w.casefold() for w in words)


# Topics whose terms can match the same words (a prefix and a word it starts, a phrase and
# one of its words, the same word twice): spans merge and words are listed once.  Topics
# whose terms can't are merged by sorting alone; both must agree with the reference.
SHARED_WORDS = [
    "madur* OR maduro",
    '"nicolas maduro" OR maduro',
    "mad* OR madu*",
    "us OR =US",
    "title:maduro maduro",
    "nicolas OR maduro OR madurology",
    '"a b" OR "b c" OR c',
]
SHARED_TEXT = "Nicolás Maduro, nicolas MADURO and a b c; US us. Madurology: a b."


@pytest.mark.parametrize("query", SHARED_WORDS)
def test_terms_matching_the_same_words(query: str) -> None:
    item = article(1, "Maduro and MADURO: a b c", SHARED_TEXT)
    (match,) = run({1: query}, [item])
    terms = hit_terms(parse(query))
    assert list(match.title_spans) == reference_spans(item.title, terms, "title")
    assert list(match.text_spans) == reference_spans(item.text, terms, "text")
    pieces = [item.title[a:b] for a, b in match.title_spans]
    pieces += [" ".join(item.text[a:b].split()) for a, b in match.text_spans]
    assert sorted(match.terms) == sorted(set(pieces))
    assert [term.casefold() for term in match.terms] == sorted(w.casefold() for w in set(pieces))


CJK = [
    article(11, "習近平主席、北京で会談", "習近平国家主席は25日、北京の人民大会堂で会談した。",
            source="NHK"),
    article(12, "人工知能の安全性に関する新たな指針", "政府は人工知能の安全性に関する指針を公表した。",
            source="NHK"),
    article(13, "이재명 대통령, 예산안 의결", "이재명은 5일 국무회의에서 예산안을 의결했다고 밝혔다.",
            source="한국일보"),
    article(14, "中国北京市发布新规", "北京市政府今天发布了新的规定。", source="新华社"),
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # A run of Chinese or Japanese was one word: 北京 matched none of these, 習近平 only
        # an article that wrote nothing else around it (a review: 0 alerts on real pages).
        ("北京", {11, 14}),
        ("習近平", {11}),
        ("人工知能 AND 指針", {12}),
        ("title:北京", {11, 14}),
        ('"北京 会談"', set()),  # a phrase of its words: 北京 then 会談, side by side
        ("北京*", {11, 14}),
        ("NEAR(北京 会談, 3)", {11}),
        ("北京 -習近平", {14}),
        # Korean spaces its words, but attaches particles: 이재명 matched neither 이재명은
        # nor, before, anything but the title's bare word.
        ("이재명", {13}),
        ("예산", {13}),
        ("市政府", {14}),
    ],
)
def test_chinese_japanese_and_korean_words_match_inside_their_runs(
    query: str, expected: set[int]
) -> None:
    assert {m.article_id for m in run({1: query}, CJK)} == expected


SOUTH_EAST_ASIAN = [
    article(21, "นายกรัฐมนตรีเดินทางถึงกรุงเทพมหานคร",
            "นายกรัฐมนตรีเดินทางถึงกรุงเทพมหานครเมื่อวันจันทร์เพื่อประชุมคณะรัฐมนตรี",
            source="ไทยรัฐ"),
    article(22, "ນາຍົກລັດຖະມົນຕີຢ້ຽມຢາມວຽງຈັນ", "ນາຍົກລັດຖະມົນຕີໄດ້ຢ້ຽມຢາມນະຄອນຫຼວງວຽງຈັນໃນມື້ນີ້",
            source="ວິທະຍຸ"),
    article(23, "រដ្ឋមន្ត្រីមកដល់ភ្នំពេញ", "លោករដ្ឋមន្ត្រីបានមកដល់រាជធានីភ្នំពេញកាលពីថ្ងៃច័ន្ទ",
            source="ភ្នំពេញប៉ុស្តិ៍"),
    article(24, "ရန်ကုန်မြို့တွင်အစည်းအဝေး", "ဝန်ကြီးချုပ်သည်ရန်ကုန်မြို့သို့ရောက်ရှိခဲ့သည်",
            source="မြဝတီ"),
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Thai, Lao, Khmer and Burmese write a clause without spaces: a query word matched
        # only a whole run (กรุงเทพ matched no article about กรุงเทพมหานคร).
        ("กรุงเทพ", {21}),
        ("คณะรัฐมนตรี", {21}),
        ("title:กรุงเทพ", {21}),
        ("วียงจัน", set()),
        ("ວຽງຈັນ", {22}),
        ("ភ្នំពេញ", {23}),
        ("ရန်ကုန်", {24}),
        ("กรุงเทพ -ประชุม", set()),
    ],
)
def test_thai_lao_khmer_and_burmese_words_match_inside_their_runs(
    query: str, expected: set[int]
) -> None:
    assert {m.article_id for m in run({1: query}, SOUTH_EAST_ASIAN)} == expected


#: The BBC's report as stored from its page: the <h1> first, typeset ("UK’s", "–") where
#: the feed's title is typed.
HEADLINED = article(
    41,
    "UK's inflation rate falls to 2.3% - its lowest in three years",
    "UK’s inflation rate falls to 2.3% – its lowest in three years\n"
    "The UK’s inflation rate fell to 2.3% in April, down from 3.2% in March, as energy bills "
    "dropped, the Office for National Statistics said on Wednesday.",
    source="BBC News",
)


@pytest.mark.parametrize(
    ("title", "query", "title_hits", "snippet_hits", "opening"),
    [
        # In the headline and the text: the title shows it, the snippet the text's.
        (HEADLINED.title, "inflation", ["inflation"], ["inflation"], "The UK’s inflation"),
        # In the headline only: the title shows it in bold above the snippet.
        (HEADLINED.title, "lowest", ["lowest"], [], "The UK’s inflation rate fell"),
        (HEADLINED.title, "NEAR(lowest fell, 12)", ["lowest"], ["fell"], "The UK’s"),
        # A feed's title in capitals, an exact-case word only the headline's line holds:
        # the snippet is the one place it shows, and keeps that line.
        (HEADLINED.title.upper(), "=lowest", [], ["lowest"], "UK’s inflation rate falls"),
    ],
    ids=["in both", "in the headline", "near", "exact case"],
)
def test_a_snippet_leaves_out_the_headline_the_title_shows(
    title: str, query: str, title_hits: list[str], snippet_hits: list[str], opening: str
) -> None:
    headlined = replace(HEADLINED, title=title)
    [found] = run({1: query}, [headlined])
    marked = highlight(headlined, [found])
    assert [part for part, hit in marked.title if hit] == title_hits
    assert [part for part, hit in marked.snippet if hit] == snippet_hits
    assert "".join(part for part, _ in marked.snippet).startswith(opening)


def test_thai_hits_are_highlighted_whole() -> None:
    # FTS5 reads a vowel sign as a separator: the hit of คณะรัฐมนตรี ended before its last
    # vowel (คณะรัฐมนตร in bold, ี after it), the word broken in the email.
    [found] = run({1: "กรุงเทพ AND คณะรัฐมนตรี"}, SOUTH_EAST_ASIAN[:1])
    marked = highlight(SOUTH_EAST_ASIAN[0], [found])
    assert [piece for piece, hit in marked.snippet if hit] == ["กรุงเทพ", "คณะรัฐมนตรี"]
    assert [piece for piece, hit in marked.title if hit] == ["กรุงเทพ"]


MARKED = [
    article(31, "شعر وردي يُشعل السخرية", "استقبل مُحَمَّد بن سلمان الوفد، وقال محـمد إن الزيارة مهمة.",
            source="LBCI"),
    article(32, "震度５弱の地震", "ＮＡＴＯ首脳会議は２０２６年に開かれる。", source="中日新聞"),
    article(33, "समस्तीपुर में चोरी", "पुलिस ने आरोपी को गिरफ्तार किया गिरफ्तार बताया कि मुद्दा गंभीर है।",
            source="भास्कर"),
    article(34, "\u2067مادورو\u2069 يصل إلى موسكو",
            "قال وزير خارجية إيران إن الرئيس أحمد الشرع زار كرمان على أثر سقوط الأسد. \u2066@AJArabic\u2069",
            source="الجزيرة"),
    article(35, "नया \u0958\u093e\u0928\u0942\u0928 लागू",
            "किसानों की \u091c\u093c\u092e\u0940\u0928 छीनी गई, पुलिस ने बताया।", source="भास्कर"),
    article(36, "سقوط Boeing ۷۳۷ در سال ۱۴۰۳",
            "در سال ۲۰۲۶ بهای بلیت ۱٬۵۰۰ دلار شد؛ सन २०२६ में, ২০২৬ সালে, عام ٢٠٢٦, ปี ๒๕๖๙.",
            source="BBC Persian"),
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Arabic written with harakat or tatweel: a query typed without them missed it.
        ("يشعل", {31}), ("يُشعل", {31}), ('"محمد بن سلمان"', {31}), ("محمد", {31}),
        # Full-width Latin letters and digits are the ASCII ones.
        ("NATO", {32}), ("ＮＡＴＯ", {32}), ("2026", {32, 36}), ("震度5弱", {32}),
        # An Indic word is its letters and vowel signs, not a phrase of its consonants (योगी
        # matched "किया गिरफ्तार" across two words, मोदी matched मुद्दा).
        ("गिरफ्तार", {33}), ("योगी", set()), ("मोदी", set()), ("मुद्दा", {33}),
        # Alef typed without its hamza (أحمد, الأسد: Al Jazeera's spelling), a Persian
        # keyboard's ی and ک (ایران, کرمان) for the Arabic article's ي and ك: one word.
        ("احمد", {34}), ("الاسد", {34}), ("ایران", {34}), ("کرمان", {34}), ("أحمد", {34}),
        # Ta marbuta and alef maksura are letters of their own (على "on" is not علي "Ali").
        ("علي", set()),
        # A tweet's bidi isolates (⁦@AJArabic⁩) were letters of the word beside them.
        ("AJArabic", {34}), ("title:مادورو", {34}),
        # A letter and its nukta as a keyboard types them (ज़) or as one character (U+095B):
        # they look the same and were two words.
        ("\u095b\u092e\u0940\u0928", {35}), ("\u0915\u093c\u093e\u0928\u0942\u0928", {35}),
        # Another script's digits (BBC Persian's ۲۰۲۶, Arabic's ٢٠٢٦, Devanagari's २०२६,
        # Bengali's ২০২৬, Thai's ๒๕๖๙) are the ASCII ones, and a Persian keyboard's the
        # ASCII ones too: a topic on 2026 or "Boeing 737" missed them.
        ('"Boeing 737"', {36}), ("1403", {36}), ("2569", {36}),
        ("۲۰۲۶", {32, 36}), ("२०२६", {32, 36}), ("١٥٠٠", {36}), ("1500", {36}),
        # The Arabic thousands separator writes one number: 500 is not in ۱٬۵۰۰.
        ("500", set()), ("۵۰۰", set()), ('"1,500"', {36}),
    ],
)
def test_marked_and_full_width_words_match_as_readers_type_them(
    query: str, expected: set[int]
) -> None:
    assert {m.article_id for m in run({1: query}, MARKED)} == expected


def test_marked_words_are_highlighted_whole() -> None:
    [arabic] = run({1: '"محمد بن سلمان"'}, MARKED[:1])
    assert spans_text(MARKED[0].text, arabic.text_spans) == ["مُحَمَّد بن سلمان"]
    [hindi] = run({1: "मुद्दा"}, MARKED[2:])
    assert spans_text(MARKED[2].text, hindi.text_spans) == ["मुद्दा"]
    [wide] = run({1: "NATO"}, MARKED[1:2])
    assert spans_text(MARKED[1].text, wide.text_spans) == ["ＮＡＴＯ"]
    [persian] = run({1: '"ایران" OR "احمد" OR title:مادورو'}, MARKED[3:])
    assert spans_text(MARKED[3].text, persian.text_spans) == ["إيران", "أحمد"]
    assert spans_text(MARKED[3].title, persian.title_spans) == ["مادورو"]
    [nukta] = run({1: "\u095b\u092e\u0940\u0928 \u0915\u093c\u093e\u0928\u0942\u0928"}, MARKED[4:])
    assert spans_text(MARKED[4].text, nukta.text_spans) == ["\u091c\u093c\u092e\u0940\u0928"]
    assert spans_text(MARKED[4].title, nukta.title_spans) == ["\u0958\u093e\u0928\u0942\u0928"]
    [digits] = run({1: '2026 OR "Boeing 737" OR 1500'}, MARKED[5:])
    assert spans_text(MARKED[5].title, digits.title_spans) == ["Boeing ۷۳۷"]
    assert spans_text(MARKED[5].text, digits.text_spans) == [
        "۲۰۲۶", "۱٬۵۰۰", "२०२६", "২০২৬", "٢٠٢٦"]


def test_cjk_hits_are_highlighted_where_they_stand() -> None:
    [found] = run({1: "習近平 AND 北京"}, CJK[:1])
    assert spans_text(CJK[0].text, found.text_spans) == ["習近平", "北京"]
    assert spans_text(CJK[0].title, found.title_spans) == ["習近平", "北京"]


def test_terms_apart_is_the_pairwise_check_done_once() -> None:
    """Whether two terms of a topic can match one token was checked pair by pair: a topic of
    2,000 names OR'ed took 7.7 s to plan in every process that matched it (a review). The
    sorted check answers as every pair does (random short tokens, prefixes among them)."""
    import itertools
    import random

    from watchlist.match import _all_apart, _apart

    rng = random.Random(3)

    def key() -> tuple[tuple[str, ...], bool, tuple[str, ...]]:
        words = tuple("".join(rng.choice("abc") for _ in range(rng.randint(1, 3)))
                      for _ in range(rng.randint(1, 3)))
        return words, rng.random() < 0.4, ()

    seen = set()
    for _ in range(5000):
        keys = tuple(key() for _ in range(rng.randint(1, 4)))
        expected = all(_apart(a, b) for a, b in itertools.combinations(keys, 2))
        assert _all_apart(keys) == expected, keys
        seen.add(expected)
    assert seen == {True, False}


def test_a_topic_is_matched_by_its_query_as_read_now_not_as_stored() -> None:
    """A topic added from the command line keeps the FTS5 expression its version made:
    after an upgrade that reads the query better ('AI Act' in straight quotes became a
    phrase), matching reads the query again, as highlighting does."""
    stale = Topic(id=1, name="AI Act", query="'AI Act' OR Madurology",
                  compiled='"ai" AND "act" OR "madurology"', notify=("a@example.org",))
    apart = article(1, "AI rules", "The act on AI was voted.")
    phrase = article(2, "Rules", "The AI Act was voted.")
    found = match_articles([apart, phrase], [stale], now=NOW, lookback=DAY)
    assert [(m.article_id, m.terms) for m in found] == [(2, ("AI Act",))]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("2000 troops", {1, 2, 3, 4}),
        ('"2,000 troops"', {1, 2, 3, 4}),
        ("2.000", {1, 2, 3, 4}),
        ("20000", set()),
        ("1500000", {5}),
        ('"1,500,000"', {5}),
        ("2000 -2,000", None),  # asked for and excluded, however it is written
    ],
)
def test_numbers_match_however_they_are_written(query: str, expected: set[int] | None) -> None:
    texts = [
        "The army sent 2000 troops to the border.",
        "The army sent 2,000 troops to the border.",
        "Die Armee schickte 2.000 troops an die Grenze.",
        "L'armée a envoyé 2 000 troops à la frontière.",
        "The fund holds 1,500,000 euros, or 1.5m.",
    ]
    articles = [article(n, "Border", text) for n, text in enumerate(texts, 1)]
    if expected is None:
        with pytest.raises(ValueError, match="asked for and excluded"):
            compile_query(query)
        return
    found = run({1: query}, articles)
    assert {m.article_id for m in found} == expected
    for m in found:  # the number is highlighted as the article writes it
        assert any(term[0].isdigit() for term in m.terms), m



#: A number that goes on with another group of three digits, written every way it is, and
#: numbers that end where a topic's does.
BIGGER = [
    "The census counted 2,000,000 people and 1,000,000 homes.",
    "Die Zählung ergab 2.000.000 Einwohner und 1.000.000 Wohnungen.",
    "Le recensement compte 2\u202f000\u202f000 habitants et 1 000 000 logements.",
    "Die Zählung ergab 2'000'000 Einwohner und 1’000’000 Wohnungen.",
    "Some 500,000 people marched.",
    "In 2000, 300 people died.",  # a year, then another number
    "It was 2,000. 300 more came, then 2,000, 500 after.",
    "The army sent 2,000 troops, and 1,000,000 more waited.",
    "Version 3.5.1 of the tool.",  # not a group: 3.5 is there
    "It rose to 2,000 000 in a table.",  # a group written otherwise: another number
    "COVID-19 100 patients were admitted; Article 5 100 days later.",  # two numbers
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("2000", {6, 7, 8, 10}),
        ('"2,000"', {6, 7, 8, 10}),
        ("2.000", {6, 7, 8, 10}),
        ("1000", set()),
        ('"1,000"', set()),
        ('"1 000"', set()),
        ("500", {7}),
        # The phrase 2 000 000 is in the last one too (separators are not in the index).
        ('"2,000,000"', {1, 2, 3, 4, 10}),
        ("2000000", {1, 2, 3, 4, 10}),
        ('"2,000 troops"', {8}),
        ('"1,000,000 more"', {8}),
        ('NEAR("2,000" people)', set()),
        ("3.5", {9}),
        ("census -1000", {1}),  # 1,000,000 is not 1,000: the census stays
        ("2000*", {6}),  # a prefix is any number its digits start: 2000 as written only
        ("covid-19", {11}),
        ('"Article 5"', {11}),
    ],
)
def test_a_number_does_not_match_a_bigger_number_it_starts(
    query: str, expected: set[int]
) -> None:
    """``2000`` matched "2,000,000" (its form "2 000" is a phrase, and the number's groups are
    tokens: 2, 000, 000) and ``1,000`` "1,000,000": a topic on 2,000 troops alerted on every
    article of a 2 million budget. A number matches where the text's number ends."""
    articles = [article(n, "Numbers", text) for n, text in enumerate(BIGGER, 1)]
    assert {m.article_id for m in run({1: query}, articles)} == expected


def test_a_number_is_highlighted_where_it_ends_not_inside_a_bigger_one() -> None:
    """The same article may have both: only the number itself is marked."""
    text = "Of 2,000,000 voters, 2,000 were turned away; 2 000 000 had voted."
    found = run({1: "2000"}, [article(1, "2,000,000 voters, 2,000 turned away", text)])
    assert [(m.terms, m.title_spans, m.text_spans) for m in found] == [
        (("2,000",), ((18, 23),), ((21, 26),)),
    ]


#: A group of three digits that goes on an earlier part of its number, written every way it
#: is, and numbers of three digits that stand alone.
ENDINGS = [
    "The carmaker will cut 1,500 jobs in Ohio.",
    "Der Konzern streicht 11.500 Stellen in Bayern.",
    "Die Post baut 2'500 Stellen ab, die Bank 12’500.",
    "Le plan coûte 1\u202f500\u202f000 euros.",
    "L'usine supprime 1\u202f500 emplois.",  # a narrow no-break space: one number
    "The network counts 1,000,500 users.",
    "COVID-19 100 patients were admitted; Top 10 500 companies hired.",  # two numbers
    "In 2000, 500 people lost their jobs.",  # a year, then another number
    "Entries 2000,500 and 501 were void.",  # four digits before: not a group
    "The lab logged covid19,500 samples.",  # in a word
    "The plant will hire 500 workers and 1,500 contractors.",
    "Le site garde 1 500 emplois.",  # an ordinary space and no third group: two numbers
    "بهای بلیت به ۱٬۵۰۰ دلار و بودجه به ۲٬۵۰۰٬۰۰۰ دلار رسید.",  # the Arabic thousands mark
    "ارتفع السعر إلى ٣٫٥٠٠ دولار.",  # the Arabic decimal mark: 3.5
    "पुलिस ने १,५०० लोगों को हिरासत में लिया।",
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("500", {7, 8, 9, 10, 11, 12}),
        ('"500 jobs"', set()),
        ('"500 Stellen"', set()),
        ('"500 emplois"', {12}),
        ("NEAR(500 jobs)", {8}),
        ("NEAR(500 workers, 0)", {11}),
        ("NEAR(Stellen 500)", set()),
        ('"1,500"', {1, 5, 11, 12, 13, 15}),
        ('"1,500 jobs"', {1}),
        ("11.500", {2}),
        ("2500", {3}),
        ("12500", {3}),
        ("500000", set()),  # its form "500 000" is inside 1 500 000
        ("1500000", {4}),
        ("1000500", {6}),
        ("jobs -500", {1}),  # 1,500 is not 500: the layoffs stay
        ("Stellen NOT 500", {2, 3}),
        ("100", {7}),
        ("500*", {7, 8, 9, 10, 11, 12}),  # a prefix is any number its digits start
        # Another script's digits are the ASCII ones, and their number is one as 1,500 is.
        ("۵۰۰", {7, 8, 9, 10, 11, 12}),
        ("١٥٠٠", {1, 5, 11, 12, 13, 15}),
        ("۲۵۰۰۰۰۰", {13}),
        ("3.500", {14}),
    ],
)
def test_a_number_does_not_match_where_a_bigger_number_ends(
    query: str, expected: set[int]
) -> None:
    """``500`` matched "1,500 jobs" and "11.500 Stellen" (the number's groups are tokens: 1,
    500): a topic on 500 jobs alerted on every article of bigger layoffs. A number of three
    digits matches where the text's number starts, as any number matches where it ends."""
    articles = [article(n, "Numbers", text) for n, text in enumerate(ENDINGS, 1)]
    assert {m.article_id for m in run({1: query}, articles)} == expected


def test_a_number_is_highlighted_where_it_starts_not_inside_a_bigger_one() -> None:
    """The same article may have both: only the number itself is marked."""
    text = "Of 1,500 applicants, 500 were hired; 11.500 applied."
    found = run({1: "500"}, [article(1, "1,500 applicants, 500 hired", text)])
    assert [(m.terms, m.title_spans, m.text_spans) for m in found] == [
        (("500",), ((18, 21),), ((21, 24),)),
    ]
