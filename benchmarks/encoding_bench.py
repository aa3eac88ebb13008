"""Which encoding newswatch reads a page in that declares none, against the one it is in.

    python -m benchmarks.encoding_bench [--mirror DIR] [--sample] [--rounds 3] [--misses 20]

Every page goes through the crawl's own reading path: Scrapy's response for its bytes, served
as ``text/html`` with no charset, through ``crawler.http.UndeclaredEncoding`` (which calls
``crawler.extracted.unmarked_utf16`` and ``undeclared_encoding``), then
``crawler.extracted.page_text`` in the response's encoding, as the page workers decode it
(``crawler.pagetask``). Two sets, built at run time from the repository snapshots of
benchmarks.corpora (nothing of them is kept in this repository; a missing snapshot skips its
set with a message):

Synthetic pages in a known code page
    fundus' test pages (``tests/resources/parser/test_data``: news sites of 2023-2025 in 40
    countries): each page's paragraphs of more than 60 characters, four at a time, written
    into a 2000s page (a table layout, ``<font>`` tags, no ``<meta>`` charset, no byte order
    mark) in each code page its language's sites used (windows-1250 and ISO-8859-2 for
    Czech and Polish, windows-1251 and KOI8 for Russian and Ukrainian, windows-1254,
    windows-1255, windows-1257, windows-1258 with Vietnamese's tones written apart as it
    writes them, windows-1252 for the Western languages, Shift_JIS and EUC-JP for Japanese,
    GB18030 for Chinese, EUC-KR for Korean). A page whose bytes are all ASCII
    is left out: it has no encoding to find. A page is right when newswatch's text is its
    bytes read in its code page. Printed: right / total per group (country x code page),
    and the misses with the encoding chosen and the first letters it read otherwise.
    Modern texts in old code pages: real words, names and punctuation of each language (the
    curly quotes and dashes that windows-125x write, character references for the few
    characters a code page lacks), but not the layouts, ads and scripts of real 2000s pages.
Real undeclared pages
    The pages of Dragnet's data set (2012) and CleanEval's (2006-2007) in the collection of
    HTML cleaning corpora, and of trafilatura's evaluation set (its entries of another
    benchmark left out; the collection's "Google news" set is never read), that declare no
    encoding and are no UTF-8: real pages as they were stored, whose true encoding nobody
    recorded. Printed: the encoding chosen, per corpus; each page not read in windows-1252
    (the web's default), with its first words beyond ASCII; the pages whose text holds a U+FFFD
    (bytes the encoding does not read); and, where the page's hand label (its cleaned text,
    or trafilatura's snippets) holds words beyond ASCII, whether newswatch's text holds as
    many of those words as the page read in any web encoding (a label saved in another
    encoding matches none: not judged).

Timed: ``UndeclaredEncoding`` alone (the detection a page costs the crawl), best of
``--rounds`` a page, mean and median over each set. ``--sample``: the built-in sample
texts below instead of fundus' pages, and no real pages (what the tests run).
"""

from __future__ import annotations

import argparse
import gzip
import html
import re
import statistics
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import lxml.html
from scrapy.http import HtmlResponse, Request

from crawler.extracted import _WEB_ENCODINGS, page_text, undeclared_encoding
from crawler.http import UndeclaredEncoding

from .corpora import (
    _CLEANEVAL_HEAD,
    _CLEANEVAL_SETS,
    _DRAGNET_DATA,
    _FUNDUS_DATA,
    MIRROR,
    CorpusMissing,
    _label_text,
    _tree,
    load,
)

#: The code pages a country's sites wrote their pages in before UTF-8 (fundus' folders).
CODE_PAGES: dict[str, tuple[str, ...]] = {
    "tr": ("cp1254",), "isl": ("cp1252",), "cz": ("cp1250", "iso8859_2"),
    "pl": ("cp1250", "iso8859_2"), "lt": ("cp1257",), "ru": ("cp1251", "koi8_r"),
    "ua": ("cp1251", "koi8_u"), "vn": ("cp1258",), "il": ("cp1255",),
    "jp": ("cp932", "euc_jp"), "cn": ("gb18030",), "kr": ("euc_kr",),
    **{country: ("cp1252",) for country in (
        "de", "fr", "es", "it", "pt", "dk", "no", "se", "at", "ch", "be", "lu", "mx", "py",
        "li", "us", "uk")},
}  # fmt: skip
#: A paragraph of an article, as fundus' pages hold them (shorter ones are captions, links).
_MIN_PARAGRAPH = 60
#: Paragraphs a synthetic page holds.
_PER_PAGE = 4
_URL = "http://127.0.0.1/article"
_REQUEST = Request(_URL)
_MIDDLEWARE = UndeclaredEncoding()

#: What ``--sample`` builds its pages from: (country, name, title, paragraphs).
SAMPLE: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("cz", "sample", "Přístav otevře novou halu", (
        "Městská rada ve čtvrtek schválila rozpočet přístavu, řekl starosta novinářům.",
        "Práce začnou na podzim a nádraží zůstane otevřené po celou zimu, kdy je provoz slabý.",
        "Podle náměstka pro finance dosáhnou náklady čtyř milionů eur, polovinu zaplatí kraj.",
    )),
    ("ru", "sample", "Порт откроет новый терминал", (
        "Городской совет в четверг утвердил бюджет порта, сообщил журналистам мэр города.",
        "Работы начнутся осенью, а вокзал останется открытым всю зиму, когда пассажиров мало.",
        "По словам заместителя по финансам, стоимость составит четыре миллиона евро.",
    )),
    ("tr", "sample", "Liman yeni terminalini açıyor", (
        "Belediye meclisi perşembe günü limanın bütçesini onayladı, dedi belediye başkanı.",
        "Çalışmalar sonbaharda başlayacak ve istasyon kış boyunca açık kalacak, yolcu az.",
        "Mali işlerden sorumlu yardımcıya göre maliyet dört milyon avroya ulaşacak, yarısı il.",
    )),
    ("fr", "sample", "Le port ouvrira un nouveau terminal", (
        "Le conseil municipal a voté jeudi le budget du port : « C’est un choix de raison ».",
        "Les travaux commenceront à l’automne, et la gare maritime restera ouverte l’hiver.",
        "Selon l’adjoint chargé des finances, le coût atteindra 4 millions d’euros, déjà réunis.",
    )),
)  # fmt: skip


def read(body: bytes, content_type: str = "text/html") -> tuple[str, str]:
    """The encoding newswatch reads a page's ``body`` in, served with ``content_type``, and
    the text it extracts the article from: the crawl's path (Scrapy's response, then
    ``UndeclaredEncoding``, then ``page_text`` in the response's encoding)."""
    served = HtmlResponse(_URL, body=body, headers={"Content-Type": content_type})
    response = _MIDDLEWARE.process_response(_REQUEST, served)
    assert isinstance(response, HtmlResponse)
    return response.encoding, page_text(body, response.encoding)


def detection_us(body: bytes, rounds: int) -> float:
    """What ``UndeclaredEncoding`` costs a page served as ``text/html``: microseconds, the
    best of ``rounds``."""
    response = HtmlResponse(_URL, body=body, headers={"Content-Type": "text/html"})
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        _MIDDLEWARE.process_response(_REQUEST, response)
        best = min(best, time.perf_counter() - start)
    return best * 1e6


def legacy_page(title: str, paragraphs: Sequence[str]) -> str:
    """A 2000s news page: a table layout, ``<font>`` tags and nothing that names its
    encoding."""
    title = html.escape(title)
    body = "".join(f"<p>{html.escape(p)}</p>\n" for p in paragraphs)
    return (f"<html><head><title>{title}</title></head><body>"
            f'<table width="760"><tr><td><font face="Verdana" size="2"><b>{title}</b><br>\n'
            f"{body}</font></td></tr></table></body></html>")


def encode(text: str, code_page: str) -> bytes:
    """``text`` in ``code_page``, a character it lacks as a character reference. Vietnamese's
    windows-1258 holds the letters with one mark (â ơ ư) and writes the tones apart, as the
    combining marks that follow the letter: "ế" is "ê" and an acute."""
    if code_page != "cp1258":
        return text.encode(code_page, "xmlcharrefreplace")
    out = []
    for char in text:
        try:
            out.append(char.encode(code_page))
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", char)
        base, marks = decomposed[0], list(decomposed[1:])
        for mark in marks:
            composed = unicodedata.normalize("NFC", base + mark)
            if len(composed) == 1 and composed.encode(code_page, "ignore"):
                base = composed
                marks.remove(mark)
                break
        out.append((base + "".join(marks)).encode(code_page, "xmlcharrefreplace"))
    return b"".join(out)


@dataclass(frozen=True)
class Page:
    """A synthetic page and the code page it is in."""

    group: str  # country/code page
    name: str
    body: bytes
    code_page: str


def synthetic(articles: Iterable[tuple[str, str, str, Sequence[str]]]) -> list[Page]:
    """The pages of ``articles`` ((country, name, title, paragraphs)) in their countries'
    code pages, a page for each run of paragraphs (the title on the first), none of bytes
    all ASCII."""
    pages = []
    for country, name, title, paragraphs in articles:
        for start in range(0, len(paragraphs), _PER_PAGE):
            text = legacy_page(title if start == 0 else "", paragraphs[start:start + _PER_PAGE])
            for code_page in CODE_PAGES.get(country, ()):
                body = encode(text, code_page)
                if not body.isascii():
                    pages.append(Page(f"{country}/{code_page}", f"{name}#{start}", body,
                                      code_page))
    return pages


def fundus_articles(mirror: Path) -> Iterator[tuple[str, str, str, list[str]]]:
    """Each fundus test page of a country in :data:`CODE_PAGES` with three paragraphs or
    more: (country, name, title, paragraphs), white space folded."""
    with _tree(mirror, "fundus") as tree:
        for path in tree.names(_FUNDUS_DATA):
            folder, _, file = path.rpartition("/")
            country = folder.rsplit("/", 1)[-1]
            if not file.endswith(".html.gz") or country not in CODE_PAGES:
                continue
            doc = lxml.html.document_fromstring(
                gzip.decompress(tree.read(path)).decode("utf-8", "replace"))
            paragraphs = [" ".join(p.text_content().split()) for p in doc.iter("p")]
            paragraphs = [p for p in paragraphs if len(p) > _MIN_PARAGRAPH]
            if len(paragraphs) >= 3:
                title = " ".join((doc.findtext(".//title") or "").split())
                yield country, file.removesuffix(".html.gz"), title, paragraphs


@dataclass
class Synthetic:
    """The synthetic set's figures."""

    right: Counter[str] = field(default_factory=Counter)  # by group
    total: Counter[str] = field(default_factory=Counter)
    #: (group, page, encoding chosen, the first letters read otherwise: "ě→ì")
    misses: list[tuple[str, str, str, str]] = field(default_factory=list)
    micros: list[float] = field(default_factory=list)  # detection, a page
    size: int = 0  # bytes, all pages


def measure_synthetic(pages: Iterable[Page], rounds: int = 3) -> Synthetic:
    """Read each page as the crawl does and compare with its bytes read in its code page."""
    out = Synthetic()
    for page in pages:
        chosen, text = read(page.body)
        expected = page.body.decode(page.code_page)
        out.total[page.group] += 1
        if text == expected:
            out.right[page.group] += 1
        else:
            wrong = dict.fromkeys(f"{a}→{b}" for a, b in zip(expected, text, strict=False)
                                  if a != b)
            out.misses.append((page.group, page.name, chosen, " ".join(list(wrong)[:6])))
        out.micros.append(detection_us(page.body, rounds))
        out.size += len(page.body)
    return out


@dataclass(frozen=True)
class RealPage:
    """A real page that declares no encoding and is no UTF-8, with its hand label."""

    corpus: str
    name: str
    body: bytes
    label: str  # "" where the corpus labels none


def real_pages(mirror: Path) -> Iterator[RealPage]:
    """The pages of Dragnet's, CleanEval's and trafilatura's sets that declare no encoding
    and are no UTF-8 (raises CorpusMissing where a snapshot is missing)."""
    with _tree(mirror, "dragnet") as tree:
        for corpus, folders in (("dragnet", (_DRAGNET_DATA,)), ("cleaneval", _CLEANEVAL_SETS)):
            for folder in folders:
                for path in tree.names(f"{folder}/input"):
                    if not path.endswith(".html"):
                        continue  # a folder's .DS_Store
                    name = path.rsplit("/", 1)[-1].removesuffix(".html")
                    data = tree.read(path)
                    # CleanEval's page, as it was fetched, is inside its <text id=URL> wrapper.
                    head = _CLEANEVAL_HEAD.match(data)
                    if head is not None:
                        data = data[head.end():].rstrip().removesuffix(b"</text>").rstrip()
                    if undeclared_encoding(data, None) is None:
                        continue
                    try:
                        label = _label_text(tree.read(f"{folder}/GoldStandard/{name}.txt"))
                    except FileNotFoundError:
                        label = ""
                    yield RealPage(corpus, f"{folder}/{name}", data, label)
    for page in load(["trafilatura"], mirror):
        if undeclared_encoding(page.html, None) is not None:
            yield RealPage("trafilatura", page.name, page.html,
                           "\n".join(page.inside + page.outside))


_WORD = re.compile(r"\w+")
_BEYOND_ASCII = re.compile(r"\S{0,12}[^\x00-\x7f]\S{0,12}")


@dataclass
class Real:
    """The real pages' figures."""

    pages: Counter[str] = field(default_factory=Counter)  # by corpus
    chosen: defaultdict[str, Counter[str]] = field(  # by corpus, then encoding
        default_factory=lambda: defaultdict(Counter))
    #: (corpus, page, encoding, its first words beyond ASCII) of a page not read in
    #: windows-1252, the web's default: to read by hand
    others: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: (corpus, page, encoding) of a text holding U+FFFD
    replaced: list[tuple[str, str, str]] = field(default_factory=list)
    agree: Counter[str] = field(default_factory=Counter)  # by corpus
    judged: Counter[str] = field(default_factory=Counter)
    #: (corpus, page, encoding chosen, the encoding whose reading holds the most label words)
    disagree: list[tuple[str, str, str, str]] = field(default_factory=list)
    micros: list[float] = field(default_factory=list)
    size: int = 0


def measure_real(pages: Iterable[RealPage], rounds: int = 3) -> Real:
    """Read each page as the crawl does; judge its text by its label's words beyond ASCII."""
    out = Real()
    for page in pages:
        chosen, text = read(page.body)
        out.pages[page.corpus] += 1
        out.chosen[page.corpus][chosen] += 1
        if chosen != "cp1252":
            words = " ".join(_BEYOND_ASCII.findall(text)[:3])
            out.others.append((page.corpus, page.name, chosen, words))
        if "\ufffd" in text:
            out.replaced.append((page.corpus, page.name, chosen))
        words = {w for w in _WORD.findall(page.label) if not w.isascii()}
        found = {name: sum(w in page.body.decode(name, "replace") for w in words)
                 for name in _WEB_ENCODINGS}
        best = max(found, key=lambda name: found[name])
        if found[best]:
            out.judged[page.corpus] += 1
            if sum(w in text for w in words) >= found[best]:
                out.agree[page.corpus] += 1
            else:
                out.disagree.append((page.corpus, page.name, chosen, best))
        out.micros.append(detection_us(page.body, rounds))
        out.size += len(page.body)
    return out


def _timing(micros: Sequence[float], size: int) -> str:
    return (f"detection (UndeclaredEncoding) {statistics.fmean(micros):.0f} µs a page on "
            f"average, median {statistics.median(micros):.0f} µs "
            f"({size / len(micros) / 1000:.1f} KB a page on average)")


def report_synthetic(figures: Synthetic, misses: int) -> list[str]:
    """The synthetic set's table, its misses (the first ``misses``) and its timing."""
    right, total = sum(figures.right.values()), sum(figures.total.values())
    lines = [f"Synthetic pages in a known code page: {right} of {total} read right", "",
             "| group | right / pages |", "|---|---|"]
    lines += [f"| {group} | {figures.right[group]} / {figures.total[group]} |"
              for group in sorted(figures.total)]
    by_choice = Counter((group, chosen) for group, _, chosen, _ in figures.misses)
    if not by_choice:
        lines.append("misses: none")
    lines += [f"misses: {group} read as {chosen}: {n}" for (group, chosen), n in
              by_choice.most_common()]
    lines += [f"  {group} {name}: {chosen} ({wrong})"
              for group, name, chosen, wrong in figures.misses[:misses]]
    if figures.micros:
        lines.append(_timing(figures.micros, figures.size))
    return lines


def report_real(figures: Real, misses: int) -> list[str]:
    """The real pages' encodings, U+FFFDs, label verdicts and timing."""
    lines = [f"Real undeclared pages: {sum(figures.pages.values())}"]
    for corpus in sorted(figures.pages):
        chosen = ", ".join(f"{name} {n}" for name, n in figures.chosen[corpus].most_common())
        lines.append(f"  {corpus}: {figures.pages[corpus]} pages: {chosen}; label words "
                     f"agree {figures.agree[corpus]} of {figures.judged[corpus]} judged")
    lines += [f"  not windows-1252: {corpus} {name}: {chosen} ({words})"
              for corpus, name, chosen, words in figures.others[:misses]]
    lines.append(f"  texts holding U+FFFD: {len(figures.replaced)}")
    lines += [f"    {corpus} {name}: {chosen}" for corpus, name, chosen in
              figures.replaced[:misses]]
    lines += [f"  label disagrees: {corpus} {name}: read in {chosen}, the label's words in {best}"
              for corpus, name, chosen, best in figures.disagree[:misses]]
    if figures.micros:
        lines.append("  " + _timing(figures.micros, figures.size))
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Build both sets, read them, print the figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.encoding_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirror", type=Path, default=MIRROR,
                        help="where the repository snapshots are")
    parser.add_argument("--sample", action="store_true",
                        help="the built-in sample texts only (no snapshot read)")
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds a page (3)")
    parser.add_argument("--misses", type=int, default=20, help="misses listed (20)")
    args = parser.parse_args(argv)
    articles: Iterable[tuple[str, str, str, Sequence[str]]] = SAMPLE
    if not args.sample:
        try:
            articles = list(fundus_articles(args.mirror))
        except CorpusMissing as exc:
            print(f"Synthetic pages skipped: fundus' snapshot is missing ({exc})")
            articles = ()
    if articles:
        for line in report_synthetic(measure_synthetic(synthetic(articles), args.rounds),
                                     args.misses):
            print(line)
    if args.sample:
        return 0
    print()
    try:
        real = list(real_pages(args.mirror))
    except CorpusMissing as exc:
        print(f"Real undeclared pages skipped: a snapshot is missing ({exc})")
        return 0
    for line in report_real(measure_real(real, args.rounds), args.misses):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
