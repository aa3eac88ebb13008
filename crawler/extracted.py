"""What extraction gives for a page (plain data: it crosses from the page workers to the crawl
process, which never needs to load trafilatura for it)."""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache
from itertools import islice
from typing import Literal

from charset_normalizer import CharsetMatch, from_bytes
from w3lib.encoding import (
    html_body_declared_encoding,
    html_to_unicode,
    read_bom,
)

#: The extraction, by name (``module:name``), as the page workers import it.
EXTRACT = "crawler.pagetask:extract_page"

#: The separator of the steps of an article container's path (crawler.extract.container_path);
#: class names hold slashes (``w-1/2``).
CONTAINER_SEP = " > "

#: How the article text was found: the pass of the cascade that gave it; or the text of a PDF,
#: or of a page served as plain text.
Method = Literal["fast", "precision", "default", "recall", "pdf", "text"]


@dataclass(frozen=True)
class Extracted:
    """The article part of a page."""

    text: str
    title: str | None
    author: str | None
    date: str | None  # as trafilatura found it (YYYY-MM-DD)
    canonical_url: str | None
    #: The site's name as the page gives it (og:site_name): an aggregator's item is named
    #: after it (crawler.feeds.site_of).
    site: str | None = None
    method: Method = "default"
    #: Where the page held the article (crawler.extract.container_path): learnt by the crawl
    #: for the site's next pages. None: nowhere but the page's body, or not known.
    container: str | None = None
    #: Extracted from that container alone (a learnt one), not from the whole page.
    cut: bool = False
    #: The page's ``<link rel="next">``, absolute: the page that continues the article, if
    #: it continues it (crawler.pagination), else the next article, a gallery's picture.
    next_url: str | None = None


#: Characters that are not seen: soft hyphens (``Bevöl&shy;kerung``), zero-width spaces and
#: joiners, byte-order marks. FTS5 and the watchlist take them for word breaks, so a topic
#: "Bevölkerung" would miss a headline that breaks the word only where a line may wrap.
_INVISIBLE = ("\u00ad", "\u200b", "\u2060", "\ufeff")


def visible(text: str) -> str:
    """``text`` as a reader sees it: without the characters not seen, and each letter written
    with its accents one character where Unicode has one (NFC). Some pages write a letter as
    its base and a combining mark (NFD: a text saved on a Mac, a Korean syllable as its
    jamo, a Japanese kana and its voicing mark), which looks the same; FTS5 and the watchlist
    drop such a mark from a Cyrillic or Greek letter (самолёт read as самолет) and read jamo
    and kana otherwise than the syllables a topic is typed in (마두로, マドゥロ never
    matched). (``str.replace`` per character: ``str.translate`` with a table looks up every
    character of the text, 1.5 ms on a 12 KB article against 0.02 ms; NFC returns a text
    already composed, nearly every one, after one pass in C.)"""
    if text.isascii():
        return text
    for invisible in _INVISIBLE:
        if invisible in text:
            text = text.replace(invisible, "")
    return unicodedata.normalize("NFC", text)


def page_text(html: str | bytes, encoding: str | None = None) -> str:
    """A page's text: ``html`` itself, or its bytes decoded as Scrapy's ``response.text``
    decodes them (``encoding`` being the response's, byte order mark first), unless they
    say the server's charset is wrong (:func:`mended_encoding`)."""
    if isinstance(html, str):
        return html
    name, text = _mended(html, encoding)
    if text is not None and name.lower() in _UTF8_NAMES:
        # The bytes were read as UTF-8 whole to mend the encoding: html_to_unicode would read
        # them again (a twentieth of a millisecond a heavy page), its byte order mark left out.
        return text.removeprefix("\ufeff")
    return html_to_unicode(f"charset={name}", html)[1]


#: The names of UTF-8 that html_to_unicode reads as UTF-8 (``charset=utf8`` as ``utf-8``).
_UTF8_NAMES = frozenset({"utf-8", "utf8"})


def mended_encoding(body: bytes, encoding: str | None) -> str:
    """The encoding to read a page's ``body`` in: ``encoding`` (the server's, else the
    page's own declaration's, as Scrapy found it), unless the bytes contradict it. A page
    whose bytes are UTF-8 served as Latin-1 (an old server's default charset: each Cyrillic
    letter was stored as two Latin-1 ones) or in another single-byte code page (a Greek or
    Russian site's server left at ISO-8859-7 or windows-1251: "αθηνα" as "Ξ±ΞΈΞ·Ξ½Ξ±"), or
    whose bytes are no UTF-8 served as UTF-8 while the page declares its own encoding
    (windows-1251, ISO-8859-1: every letter beyond ASCII a U+FFFD), is read as the bytes
    say; a topic on its words never matched."""
    return _mended(body, encoding)[0]


def single_byte(name: str | None) -> bool:
    """Whether ``name`` is a single-byte code page's (ISO-8859-x, windows-125x, KOI8) or
    ASCII's."""
    try:
        codec = codecs.lookup(name or "").name
    except LookupError:
        return False
    return codec == "ascii" or codec.startswith(("iso8859-", "cp125", "koi8-"))


def utf8_labelled_single_byte(body: bytes, name: str | None) -> str | None:
    """The text of ``body`` read as UTF-8 where it is UTF-8 beyond ASCII that ``name``, a
    single-byte code page, labels (a server's charset, a page's <meta>, a feed's or a
    sitemap's XML declaration); else None. Text in such a code page is next to never UTF-8
    (its letters beyond ASCII, one byte each, would have to come in UTF-8's leading and
    continuation bytes): a real Greek page in ISO-8859-7 stays so. A browser takes a
    server's label over the bytes (the WHATWG Encoding Standard), but bytes that are UTF-8
    throughout are UTF-8: the label is a default left as it was when the site moved to
    UTF-8."""
    if body.isascii() or not single_byte(name):
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


#: The bytes whose NULs tell UTF-16 without a byte order mark (:func:`unmarked_utf16`).
_UTF16_SAMPLE = 1024


def unmarked_utf16(body: bytes, name: str | None) -> str | None:
    """UTF-16's byte order (``utf-16le``, ``utf-16be``) where ``body`` is UTF-16 with no
    byte order mark that ``name``, a single-byte code page, labels, or no label does (a
    server's charset, a feed's or a page's declaration, unreadable in UTF-16 bytes); else
    None. A Windows tool's export saved as "Unicode" without its mark, served by a server
    whose default charset is ISO-8859-1: read in that label, byte by byte, every letter came
    with a NUL, and the page or feed was garbage. Markup is mostly ASCII, which UTF-16
    writes as the letter's byte and a NUL: those NULs are every other byte, the first or the
    second of each pair, as no single-byte text has them (a NUL is no letter of it). Only a
    body whose first or second byte is a NUL (the ``<`` or the space it starts with, XML 1.0
    appendix F) is looked at further: any other pays one comparison."""
    if body[:1] != b"\x00" and body[1:2] != b"\x00":
        return None
    if (name is not None and not single_byte(name)) or read_bom(body)[0]:
        return None
    sample = body[:_UTF16_SAMPLE]
    first, second = sample[0::2].count(0), sample[1::2].count(0)
    pairs = len(sample) // 2
    if second * 4 >= pairs * 3 and first * 20 <= pairs:
        codec = "utf-16le"
    elif first * 4 >= pairs * 3 and second * 20 <= pairs:
        codec = "utf-16be"
    else:
        return None
    try:
        body[: len(body) - len(body) % 2].decode(codec)
    except UnicodeDecodeError:  # a lone half of a pair: no UTF-16
        return None
    return codec


def _mended(body: bytes, encoding: str | None) -> tuple[str, str | None]:
    """:func:`mended_encoding`, and the text of ``body`` where it was read as UTF-8 whole
    (then it is UTF-8)."""
    try:
        name = codecs.lookup(encoding or "utf-8").name
    except LookupError:
        return encoding or "utf-8", None
    text = utf8_labelled_single_byte(body, name)
    if text is not None:
        return "utf-8", text
    if name == "utf-8":
        try:
            return encoding or "utf-8", body.decode("utf-8")
        except UnicodeDecodeError:
            declared = html_body_declared_encoding(body)
            if declared:
                try:
                    if codecs.lookup(declared).name != "utf-8":
                        return declared, None
                except LookupError:
                    pass
            if not _any_utf8(body):
                return "cp1252", None
    return encoding or "utf-8", None


#: The legacy encodings browsers read web pages in (the WHATWG Encoding Standard's, less the
#: rare Mac and ISO ones whose letters a detector finds in any Western page), windows-1252,
#: the web's default for an undeclared page, first.
_WEB_ENCODINGS = (
    "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258",
    "cp874", "iso8859_2", "iso8859_5", "iso8859_7", "iso8859_8", "koi8_r", "koi8_u", "cp866",
    "shift_jis", "cp932", "euc_jp", "gb18030", "big5", "euc_kr",
)  # fmt: skip


def undeclared_encoding(body: bytes, charset: str | None) -> str | None:
    """The encoding to read a page in that neither its server (its ``charset``) nor its
    markup (``<meta>``, a byte order mark) declares and whose bytes are no UTF-8; None for
    any other page (read as declared, or as UTF-8 / ASCII). Most 2000s pages declared none:
    Scrapy's detector chose among every code page it knows, and a quarter of CleanEval's
    and Dragnet's such pages were read in a Baltic, DOS or Japanese one (an English page's
    "première" stored as "premičre", its curly apostrophe as "ĺ"). A browser reads such a page in
    windows-1252 unless a detector finds another web encoding: so it is read here, in
    windows-1252 where that reads it with no more mess than the detector's best (the
    Latin code pages differ in a few letters, which tell a Polish "ł" from a Western "³",
    not an English page's one "è" from a Baltic "č": the detector's letter frequencies
    chose the Baltic one on such a page). Among the code pages that read it with as little
    mess, the one that reads its letters as one language's alphabet is chosen
    (:func:`_foreign_letters`), a Latin one before any of another script, windows-1252
    where it does as well as any. A Turkish page is
    told by its letters first (:func:`_turkish`): windows-1252 reads it with no more mess.
    A Chinese, Japanese or Korean code page is chosen over windows-1252, where that reads the
    page, only where it reads text of its script (:func:`_may_read`), not a Western name's
    letter or two; or where it reads the page's bytes beyond ASCII as Western punctuation,
    as an English page of a Japanese site writes its curly quotes
    (:func:`_east_asian_punctuated`): that one, or the detector's choice among those that
    do."""
    if body.isascii() or charset or read_bom(body)[0]:
        return None
    if html_body_declared_encoding(body):
        return None
    try:
        body.decode("utf-8")
        return None
    except UnicodeDecodeError:
        pass
    if _turkish(body):
        return "cp1254"
    punctuated = _east_asian_punctuated(body)
    if len(punctuated) == 1:
        return punctuated[0]
    matches = from_bytes(body, cp_isolation=list(punctuated or _WEB_ENCODINGS))
    western = any("cp1252" in match.could_be_from_charset for match in matches)
    best = next((match for match in matches if _may_read(match, western)), None)
    if best is None:
        return punctuated[0] if punctuated else "cp1252"
    # A match stands for the code pages that read the bytes as the same text
    # (``could_be_from_charset``): an English page whose one letter beyond ASCII is the "á" of
    # "Sánchez" is one match for windows-1250, windows-1252 and others, which reads it no
    # messier than windows-1257's "Sįnchez". Where the best is a Latin code page, every
    # Latin one the detector accepts ties with it: the Latin code pages differ in a few
    # letters, which the detector's mess (a share of odd-looking characters) barely tells
    # apart, as their alphabets do (below). It found windows-1252's "à" and "ð" odder than
    # windows-1257's "ą" and "š" (a French page's mess 1.1 % against none, an Icelandic
    # one's 0.6 %): they were read in windows-1257, "voilà" as "voilą", "það" as "žaš".
    latin = best.encoding in _LATIN
    tied = sorted(dict.fromkeys(name for m in matches
                                if (m.chaos <= best.chaos or (latin and m.encoding in _LATIN))
                                and _may_read(m, western)
                                for name in m.could_be_from_charset),
                  key=lambda name: name != "cp1252")
    if len(tied) > 1 and _SINGLE_BYTE.issuperset(tied):
        # A code page of another script is no rival of a Latin one that reads the page as
        # well: a Western page's few letters beyond ASCII, of several languages (a designer's
        # "Alaïa", a menu's "Österreich", "España", "YORÙBÁ"), are all one script's in it,
        # Cyrillic, Arabic or Thai, where no Latin alphabet holds them all: an English page
        # was read in windows-1251, "Alaïa" as "Alaпa".
        tied = [name for name in tied if name in _LATIN] or tied
        counts = Counter(body.translate(None, _ASCII))
        return min(tied, key=lambda name: (_foreign_letters(counts, name),
                                           _uncapitalised(counts, name)))
    return tied[0]


#: The multi-byte web encodings that write their characters in two bytes of 0xA1-0xFE
#: (Big5 its punctuation and most of its characters).
_PAIRED = ("euc_jp", "gb18030", "euc_kr", "big5")
#: The bytes such pairs are of.
_PAIR_BYTES = bytes(range(0xA1, 0x100))
_ASCII_RUN = re.compile(rb"[\x00-\x7f]+")
#: The punctuation of Western text: dashes, curly quotes, the ellipsis; a closing double
#: quote alone is none (the "¡É" of a Spanish "¡Él" in windows-1252 is EUC-JP's ”).
_WESTERN_PUNCTUATION = re.compile("[\u2010-\u201c\u201e-\u2027]")
#: That punctuation and the characters of Chinese, Japanese and Korean text (their symbols
#: and punctuation, kana, ideographs, Hangul, the full-width and compatibility forms), the
#: runs of them parted by line breaks.
_EAST_ASIAN_OR_PUNCTUATION = re.compile(
    "[\n\u2010-\u2027\u3000-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]*")


def _east_asian_punctuated(body: bytes) -> tuple[str, ...]:
    """The multi-byte web encodings (:data:`_PAIRED`) that read ``body``'s runs of bytes
    beyond ASCII as Western punctuation (curly quotes, dashes, an ellipsis), with Chinese,
    Japanese or Korean text at most, the first of those that read the same text; none for
    any other page. An English page of a Japanese site in EUC-JP, its curly quotes the
    Japanese code page's (“ is 0xA1 0xC8), has no other bytes beyond ASCII, or a name or a
    word in kanji: every single-byte code page reads those pairs too ("¡Èharbour plan¡É" in
    windows-1252), and neither they nor Big5, which reads them as low lines of its
    compatibility forms (U+FE4D, U+FE4E), are messier to the detector. Such a page was read
    in windows-1250, windows-1252 or Big5, its quotes as "ˇČ", "¡È" or a low line, and a
    topic quoting it never matched. Each encoding writes its quotes at its own bytes, but
    Chinese's GB18030 and Korean's EUC-KR at the same: a page they read as two texts
    (Korean's Hangul, or Chinese characters) is left to the detector's choice between
    them. The runs are read apart, a line break between two (no byte of a pair). A page
    with an odd number of bytes beyond ASCII, or one of 0x80-0xA0 (windows-1252's curly
    quotes and dashes), is no such page; a Western page's letter alone between ASCII ones
    (its "é") is no pair, and ends each decoding at the first."""
    beyond = body.translate(None, _ASCII)
    if len(beyond) % 2 or beyond.translate(None, _PAIR_BYTES):
        return ()
    runs = _ASCII_RUN.sub(b"\n", body)
    found: dict[str, str] = {}  # the first encoding of each text read
    for encoding in _PAIRED:
        try:
            text = runs.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _WESTERN_PUNCTUATION.search(text) and _EAST_ASIAN_OR_PUNCTUATION.fullmatch(text):
            found.setdefault(text, encoding)
    return tuple(found.values())


#: The web encodings of one byte a character.
_SINGLE_BYTE = frozenset(_WEB_ENCODINGS[:_WEB_ENCODINGS.index("shift_jis")])


def _may_read(match: CharsetMatch, western: bool) -> bool:
    """Whether the detector's ``match`` may be the page's encoding: a single-byte one, or a
    Chinese, Japanese or Korean one that reads text of its script (:func:`_cjk_text`) or
    reads a page windows-1252 does not (``western`` False). An English page whose only
    letters beyond ASCII were the "ö" of "Cöster" and the "ý" of "Rudstrýom", each with the
    ASCII letter after it one Chinese character, was read in GB18030 ("C鰏ter"), the
    detector finding those two characters less messy than the page in windows-1252. An
    English page of a Japanese site, its curly quotes Shift_JIS's, is no page windows-1252
    reads (its 0x81 is none of windows-1252's characters): it stays Shift_JIS's. Only the
    matches that could be chosen are asked (the best, and those as little messy): the check
    reads the page's text."""
    return match.encoding in _SINGLE_BYTE or not western or _cjk_text(str(match))


#: The characters a multi-byte web encoding reads from two bytes or more (all beyond ASCII
#: but the half-width katakana Shift_JIS writes in one), standing apart from ASCII letters.
_CJK_APART = re.compile(r"[^\x00-\x7f\uff61-\uff9f](?<![A-Za-z].)(?![A-Za-z])")
#: The fewest such characters that make a page's text Chinese, Japanese or Korean.
_CJK_EVIDENCE = 4


def _cjk_text(text: str) -> bool:
    """Whether ``text``, a page read in a multi-byte web encoding, holds Chinese, Japanese or
    Korean text: :data:`_CJK_EVIDENCE` characters of two bytes or more that stand apart
    from ASCII letters. Such text runs on in characters of its script and is written beside
    Latin words now and then; a Western page's letters beyond ASCII read as characters of
    two bytes take an ASCII letter in (the "ös" of "Cöster", which the multi-byte encodings
    read as one character: GB18030's "C鰏ter"), so that every one of them is glued to the
    letters of its word. The search stops at the last character it needs: a Chinese page
    is told in its first words."""
    return next(islice(_CJK_APART.finditer(text), _CJK_EVIDENCE - 1, None), None) is not None


#: The single-byte web encodings of the Latin script.
_LATIN = frozenset({"cp1252", "cp1250", "cp1254", "cp1257", "cp1258", "iso8859_2"})
_ASCII = bytes(range(0x80))
#: The letters beyond ASCII of the languages the single-byte web encodings write: French,
#: German, Spanish, Portuguese, Italian, Catalan, Dutch, Danish and Norwegian, Swedish,
#: Finnish, Icelandic; Czech, Slovak, Polish, Hungarian, Slovene, Croatian, Romanian,
#: Albanian; Lithuanian, Latvian, Estonian; Turkish; Vietnamese (its precomposed letters);
#: then the Greek, Cyrillic, Hebrew, Arabic and Thai scripts whole.
_ALPHABETS = tuple(frozenset(letters) for letters in (
    "àâæçèéêëîïôœùûüÿ", "äöüß", "áéíñóúü", "àáâãçéêíóôõú", "àèéìíòóù", "àçèéíïòóúü", "áéëïóöü",
    "åæøé", "åäöé", "äöå", "áæðéíóöúýþ",
    "áčďéěíňóřšťúůýž", "áäčďéíĺľňóôŕšťúýž", "ąćęłńóśźż", "áéíóöőúüű", "čšž", "čćđšž", "ăâîşţșț",
    "çë",
    "ąčęėįšųūž", "āčēģīķļņšūž", "äöõüšž",
    "âçğıîöşüû",
    "àáâãèéêìíòóôõùúýăđĩũơư",
    *("".join(map(chr, range(start, end))) for start, end in (
        (0x370, 0x400), (0x400, 0x530), (0x590, 0x600), (0x600, 0x700), (0xE00, 0xE80))),
))  # fmt: skip
#: Vietnamese's alphabet, the one that writes "ơ".
_VIETNAMESE = next(i for i, alphabet in enumerate(_ALPHABETS) if "ơ" in alphabet)


def _foreign_letters(counts: Counter[int], encoding: str) -> int:
    """How many of the letters ``encoding`` reads in a page (``counts``: its bytes beyond
    ASCII) are foreign to the language whose alphabet holds the most of them. Where code
    pages read a page with as little mess, the one that reads its letters as one language's
    is the page's: Czech's "ě ř č" are "ì ø è" in windows-1252, its "š ž" in ISO-8859-2
    "ą ľ" in windows-1250, and Lithuanian's "ė ų š" "ë ø ð" in windows-1252, letters no
    language writes together (the detector found no more mess, and no Czech topic matched)."""
    letters = 0
    in_alphabet = [0] * len(_ALPHABETS)
    table = _alphabets_of(encoding)
    for byte, count in counts.items():
        alphabets = table[byte - 0x80]
        if alphabets is not None:
            letters += count
            for alphabet in alphabets:
                in_alphabet[alphabet] += count
    return letters - max(in_alphabet)


@cache
def _alphabets_of(encoding: str) -> tuple[tuple[int, ...] | None, ...]:
    """For each byte 0x80-0xFF, the alphabets (their indexes in :data:`_ALPHABETS`) that hold
    the letter the single-byte ``encoding`` reads it as; None where it reads no letter of
    words: a sign, a modifier ("ˇ"), the ordinals of "1º" and "2ª"."""
    table: list[tuple[int, ...] | None] = []
    for byte in range(0x80, 0x100):
        char = bytes((byte,)).decode(encoding, "ignore").lower()
        if len(char) == 1 and unicodedata.category(char) == "Mn":
            # A tone mark windows-1258 writes apart, Vietnamese's only. Read as no letter,
            # a Spanish page's "ò" (a Catalan "però") left the count, and the page was read
            # in windows-1258: "però" as "peṛ", "Órfão" as "Órfăo".
            table.append((_VIETNAMESE,))
        elif len(char) == 1 and unicodedata.category(char) in ("Ll", "Lu", "Lo") and \
                char not in "ªº":
            table.append(tuple(i for i, alphabet in enumerate(_ALPHABETS) if char in alphabet))
        else:
            table.append(None)
    return tuple(table)


def _uncapitalised(counts: Counter[int], encoding: str) -> bool:
    """Whether ``encoding``, a code page of another script than Latin, reads the letters of
    a page beyond ASCII (``counts``: its bytes beyond ASCII) as letters of a script with
    capitals, none of them a capital. Greek and
    Russian text, all of whose letters are beyond ASCII, begins its sentences and names
    with capitals; Hebrew, Arabic and Thai have none, and windows-1251 and windows-1253
    read Hebrew's letters as lower-case Cyrillic or Greek ones (each reads a whole alphabet:
    no letter foreign to it). A German page quoting Hebrew words in windows-1255 was read
    in windows-1251, "שלום" as "щмен". (A Latin page's letters beyond ASCII are its accented
    ones, most often all lower case.)"""
    if encoding in _LATIN:
        return False
    lower, upper = _cases_of(encoding)
    return upper.isdisjoint(counts) and not lower.isdisjoint(counts)


@cache
def _cases_of(encoding: str) -> tuple[frozenset[int], frozenset[int]]:
    """The bytes 0x80-0xFF the single-byte ``encoding`` reads as lower-case letters, and
    those it reads as capitals."""
    letters = [(byte, bytes((byte,)).decode(encoding, "ignore")) for byte in range(0x80, 0x100)]
    return (frozenset(byte for byte, char in letters if char.islower()),
            frozenset(byte for byte, char in letters if char.isupper()))


#: The bytes windows-1254 (and ISO-8859-9) reads as the letters only Turkish writes, ğ Ğ ş Ş
#: İ and the dotless i, where windows-1252 has Icelandic ð Ð þ Þ Ý ý; then Turkish's other
#: letters (ç ö ü, â î û), the same in both.
_TURKISH_ONLY = b"\xd0\xdd\xde\xf0\xfd\xfe"
_TURKISH = _TURKISH_ONLY + b"\xc2\xc7\xce\xd6\xdb\xdc\xe2\xe7\xee\xf6\xfb\xfc"
#: Every byte but those of the Latin code pages' letters (0xC0-0xFF, less the multiplication
#: and division signs).
_NOT_LATIN_LETTERS = bytes(range(0xC0)) + b"\xd7\xf7"


def _turkish(body: bytes) -> bool:
    """Whether ``body``, in a single-byte code page, is Turkish text: its letters beyond
    ASCII are those of Turkish, at least two of them those only windows-1254 reads as
    Turkish (ş ğ, the dotless i), and other letters (a name's é) a quarter of those at
    most. Read in windows-1252, whose mess is no greater, or in windows-1257, "Erdoğan"
    was stored as "Erdoðan" or "Erdošan", "İstanbul" as "Ýstanbul" or "Żstanbul", and no
    topic in Turkish matched. An Icelandic page writes ð þ ý too, among as many á é í ó ú
    æ; a Lithuanian one its š ž (the same bytes in windows-1257) among more ą č ė ų; a
    Greek, Cyrillic, Hebrew or Arabic one has its letters all over the range: none is
    taken for Turkish."""
    letters = body.translate(None, _NOT_LATIN_LETTERS)
    turkish_only = len(letters) - len(letters.translate(None, _TURKISH_ONLY))
    others = len(letters.translate(None, _TURKISH))
    if turkish_only < 2 or others * 4 > turkish_only:
        return False
    try:
        body.decode("cp1254")
    except UnicodeDecodeError:
        return False
    return True


#: A character of two to four bytes, as UTF-8 writes it.
_UTF8_CHARACTER = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _any_utf8(body: bytes) -> bool:
    """Whether ``body``, no UTF-8, holds one character beyond ASCII as UTF-8 writes it. A
    page of windows-1252 bytes that says it is UTF-8 (an old CMS's template, a <meta> copied
    from another site) holds none: read as UTF-8, every "é" and curly quote of it was a
    U+FFFD, and a topic on "café" never matched. One that holds some is UTF-8 with a stray
    byte, and stays so (as windows-1252, each of its letters would be two)."""
    return _UTF8_CHARACTER.search(body) is not None
