"""Stories: near-duplicate articles (syndicated wire copies, the same text under another
headline, a trimmed or extended version, light edits) grouped as one story.

Pure logic, no SQL (see ARCHITECTURE.md §6): an article's extracted text is normalized like
the topic matcher normalizes it (lower case, accents folded), cut into words (an Indic word
with its vowel signs and viramas is one), and summarized by two MinHash signatures
(``NUM_PERM`` permutations) of its 5-word shingles — one of the whole text and one of the
lede (the first ``LEDE_WORDS`` words). :class:`StoryIndex` keeps
the signatures of recent articles in two LSH indexes (threshold ``THRESHOLD``); an article
joins the story of a candidate from either index whose estimated Jaccard similarity, on
either signature, is at least ``THRESHOLD`` (the best one when several are). The lede
signature catches copies trimmed or extended a lot (same opening, different length); the
full one catches copies whose opening was edited. A third, of the first LEDE_WORDS words
after the first paragraph (the second lede), is in the lede's index by its first
SECOND_BANDS bands: a copy under an opening of its own and a brief of the original's first
paragraphs find each other by it (the similarity check is the same). A new article is also
looked up by its ledes after its second and third paragraphs (Signature.later), and an
indexed article whose lede is one of its ledes after its first paragraphs is alike with it
in ledes: an updated wire story under two new paragraphs finds the original's copies so.
Those later ledes are stored and indexed too (their first LATER_BANDS bands, in tables of
their own, and the low LATER_BITS bits of their values): the original, arriving after a
site's copy of its update, finds it by its own lede, alike so with one of them or not at
all.

Articles with fewer than ``MIN_WORDS`` words (a feed summary, a photo caption) have no
signature: each is a story of its own, but for a copy of another site's article under the
same headline that opens as it does (:func:`opens_as`).

A signature is the NUM_PERM 32-bit values of a MinHash, as bytes (how they are stored); they
are only comparable with signatures made with the same parameters and hashing scheme, which
``SCHEME`` and ``HASH_VERSION`` pin. Each shingle is hashed by :func:`shingle_hash` (each
word's CRC-32 once, the shingle's words combined and mixed in numpy: about a twentieth of the
SHA-1 per shingle used before); the MinHash over those hash values is datasketch's
``MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32", hashfunc=shingle_hash)`` (a test
checks it), computed with numpy alone, so that the process that clusters does not load
datasketch, which brings SciPy (40 MB). Signatures stored by version 1 (SHA-1 of each
shingle) are recomputed from the articles' texts by a storage migration, as are those of
the story window's texts in an Indic script, whose words were cut at each vowel sign before
schema 50.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from array import array
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache, cached_property
from typing import Any

import numpy as np

from storage.segment import INDIC_MARK_RANGES, INDIC_SHIFT, char_class

from .bytewords import SURROGATES, UTF8, ByteWords, ascii_table
from .query import normalize
from .templates import site_of

NUM_PERM = 128
SHINGLE = 5  # words per shingle
LEDE_WORDS = 60  # the lede: this many first words of the text
MIN_WORDS = 30  # shorter texts are a story of their own
#: New articles are compared with the articles fetched this long before (the story window).
WINDOW = timedelta(days=7)
THRESHOLD = 0.5  # LSH threshold and the estimated Jaccard similarity that confirms it
#: Texts whose ledes are alike below LEDES_DIFFER are one story only when the shorter is
#: held in the longer at CONTAINED_IN_FULL or more: a closing block a site puts under every
#: article (a newsroom's tips line and related links, a company's "About" and disclaimer) as
#: long as a brief made different stories alike at half (each held at two thirds in the
#: other), one story, alerted once.
LEDES_DIFFER = 0.2
#: Two articles of one site join only when their ledes are alike at SITE_LEDES or more
#: (their first 60 words: a release's 35 words and the start of its company's "About" block
#: are alike at 0.2 to another release's; a copy of a story edited every 25th word at 0.8).
SITE_LEDES = 0.35
#: How much of the shorter text the longer one holds (:func:`_contained`) for two texts whose
#: ledes differ to be one story: a wire copy under an added opening is held at 0.9 or more,
#: even trimmed to half its length (alike at 0.5-0.65 in full only: it was a story of its
#: own, mailed again); two briefs with a long closing block in common at 0.7 at most.
CONTAINED_IN_FULL = 0.8
#: And for two texts alike in their ledes only (the lede at THRESHOLD, the full text not):
#: a brief of a wire story (its first paragraphs) is held whole in it, as the shingles the
#: ledes share tell (a feed's summary of the wire's first 80 words has 3 values of 128 in
#: common with its 1,700 words: held at 0.49 by the full texts, it was mailed again); an
#: analysis that opens by quoting the wire's lede, or a chain's two stories that open with
#: the same long note, at 0.1 (they were folded into the first story, their alerts lost).
CONTAINED_LEDE = 0.5
#: An article the story window holds no story for may be one of its site's older articles
#: back under a new address (a site's new CMS, its archive listed again after an outage, an
#: evergreen piece promoted anew, often newly dated): it joins that article's story, whatever
#: its age, when alike at COPY or more by the rules of two articles of one site. Two of a
#: site's articles weeks apart alike at half only (a daily report's wording) are two stories.
COPY = 0.8
SCHEME = "affine32"  # datasketch's hashing scheme: 32-bit hash values
#: The shingle hash of the stored signatures (1: SHA-1's first 4 bytes, datasketch's default;
#: 2: shingle_hash). Signatures of different versions are not comparable.
HASH_VERSION = 2
#: The weights datasketch's MinHashLSH gives a missed candidate and an extra one when it
#: chooses its banding. A missed one is a second email for a story; an extra one costs one
#: similarity check: 25 bands of 5 (equal weights) found a copy estimated alike at 0.53
#: two times in three, 32 bands of 4 nineteen in twenty.
LSH_WEIGHTS = (0.1, 0.9)  # (extra candidates, missed ones)
#: The LSH banding: BANDS bands of ROWS values each, what datasketch's MinHashLSH chooses
#: for THRESHOLD, NUM_PERM and LSH_WEIGHTS (its optimum, computed with SciPy; a test checks
#: it). At most 2 ** _TABLE_BITS / 2 bands.
BANDS, ROWS = 32, 4
#: The bands of a second lede (Signature.second) the index finds articles by: a copy's
#: second lede is the brief's lede word for word, or nearly (alike at 0.8, one of 8 bands
#: meets 98 times in 100); all 32 cost a cold cycle's clustering a third more.
SECOND_BANDS = 8
#: A new article is looked up by the lede after each of its first OPENING_PARAGRAPHS
#: paragraphs (Signature.openings; the first's is its second lede): the wire's story
#: updated hours later opens with two new paragraphs, then the original's.
OPENING_PARAGRAPHS = 3
#: And how alike an indexed article's lede and one of those ledes are for the two to be
#: alike in ledes: word for word, or nearly (a word edited in 60: 0.84). The wire's brief,
#: its news in one line over the wire's background paragraph ("Maduro has ruled Venezuela
#: since 2013..."), is alike at 0.68 with the lede after a different story's second
#: paragraph, that one, and held in it at 0.85: it took the story, its alert lost. An article
#: found by those ledes alone joins only so, not as a text held in the other.
OPENING_LEDES = 0.8
#: The bands of each later lede of an indexed article that a new article's lede finds it
#: by, and the low bits of its values that the index keeps to compare them with that lede
#: at OPENING_LEDES: the wire's update, two new paragraphs over the original's first ones,
#: stored first (a fast regional site), and the original hours later: its lede is the
#: update's lede after the second paragraph. 8 bands and 2 bits made the index 14 % larger
#: (30,000 articles), 4 and 1 7 %; on fundus' texts both join 212 of 234 such updates.
LATER_BANDS = 4
LATER_BITS = 1
_DTYPE = np.uint32
#: What the index keeps of each signature value: its low 16 bits (a b-bit MinHash). Two
#: different values agree on them once in 65,536, so a comparison of 128 values gains a
#: false agreement about once in 500 and an estimate moves by 1/128 at most then; the
#: stored signatures keep their 32 bits.
_KEPT = np.uint16
_SIZE = np.dtype(_DTYPE).itemsize  # bytes per stored signature value
_SEED = 1
_LEDE_SHINGLES = LEDE_WORDS - SHINGLE + 1
#: A word: letters and digits, and the private-use characters that normalize makes of the
#: Indic scripts' vowel signs, viramas and nuktas (storage.segment), letters of their word
#: (without them "समस्तीपुर" was four words, समस त प र, and के की को का कि one, क). "_", a
#: word character for ``\w``, is made a space first (:func:`words`).
_WORD = re.compile(f"[\\w{char_class(INDIC_MARK_RANGES, INDIC_SHIFT)}]+")


def site_key(url: str) -> int:
    """The site of an article's URL as the index keeps it (a positive 63-bit number): two
    feeds of one site (its World and Politics sections) are one site."""
    digest = hashlib.blake2b(site_of(url).encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> 1) or 1


def words(text: str) -> list[str]:
    """The words of ``text``, lower case and accent-folded (like topic matching sees them)."""
    return _WORD.findall(normalize(text).replace("_", " "))


#: The words of :func:`words`, as UTF-8 bytes (watchlist.bytewords).
_CHUNKS = ByteWords(ascii_table(str.isalnum), words)


def _word_bytes(text: str) -> list[bytes]:
    """:func:`words` as UTF-8 bytes, without a regular expression over the whole text."""
    return _CHUNKS(text.encode(UTF8, SURROGATES))


def shingles(tokens: Sequence[str], size: int = SHINGLE) -> set[bytes]:
    """The distinct runs of ``size`` consecutive words (the whole text when shorter)."""
    if len(tokens) <= size:
        return {" ".join(tokens).encode()} if tokens else set()
    return {" ".join(tokens[i : i + size]).encode() for i in range(len(tokens) - size + 1)}


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The permutation parameters (datasketch's for the affine32 scheme and this seed): an
    odd multiplier and an offset per permutation."""
    gen = np.random.RandomState(_SEED)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=_DTYPE) * _DTYPE(2) + _DTYPE(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=_DTYPE)
    return a, b


def _finalize(
    values: np.ndarray, kind: type[np.unsignedinteger[Any]], shifts: tuple[int, int, int],
    multipliers: tuple[int, int],
) -> np.ndarray:
    """MurmurHash3's finalizer: xor-shift, multiply, xor-shift, multiply, xor-shift."""
    values = values ^ (values >> kind(shifts[0]))
    values = values * kind(multipliers[0])
    values = values ^ (values >> kind(shifts[1]))
    values = values * kind(multipliers[1])
    mixed: np.ndarray = values ^ (values >> kind(shifts[2]))
    return mixed


def _fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (datasketch mixes every input hash with it)."""
    return _finalize(values, _DTYPE, (16, 13, 16), (0x85EBCA6B, 0xC2B2AE35))


#: Odd 64-bit multipliers, one per word of a shingle (the 64-bit golden ratio and the
#: constants of MurmurHash3's and xxHash's 64-bit mixers).
_POSITION = np.array(
    [
        0x9E3779B97F4A7C15,
        0xC2B2AE3D27D4EB4F,
        0x165667B19E3779F9,
        0xD6E8FEB86659FD93,
        0xFF51AFD7ED558CCD,
    ],
    dtype=np.uint64,
)
_U64 = np.uint64


def _fmix64(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer."""
    return _finalize(values, _U64, (33, 33, 33), (0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53))


def _word_hashes(tokens: Sequence[bytes]) -> np.ndarray:
    """Each word's CRC-32 (of its UTF-8), as 64-bit integers."""
    return np.fromiter(map(zlib.crc32, tokens), dtype=np.uint64, count=len(tokens))


def _shingle_hashes(word_hashes: np.ndarray, size: int = SHINGLE) -> np.ndarray:
    """The hash of each run of ``size`` consecutive words (of the whole text when shorter),
    from the words' hashes: the high 32 bits of MurmurHash3's 64-bit mix of the sum of each
    word's hash times its position's multiplier (modulo 2**64)."""
    count = max(len(word_hashes) - size + 1, 1 if len(word_hashes) else 0)
    combined = np.zeros(count, dtype=np.uint64)
    for k in range(min(size, len(word_hashes))):
        combined += word_hashes[k : k + count] * _POSITION[k]
    return (_fmix64(combined) >> _U64(32)).astype(_DTYPE)


def shingle_hash(shingle: bytes) -> int:
    """The 32-bit hash of one shingle (its words joined by spaces, UTF-8), as a signature
    hashes it: the reference for the vectorised hashing, and datasketch's ``hashfunc``."""
    tokens = shingle.split(b" ")
    return int(_shingle_hashes(_word_hashes(tokens), len(tokens))[0])


def _hashes32(items: Iterable[bytes]) -> np.ndarray:
    """:func:`shingle_hash` of each item, as one array."""
    return np.array([shingle_hash(item) for item in items], dtype=_DTYPE)


def minhash(items: Iterable[bytes]) -> bytes:
    """The MinHash signature of a set of shingles, as bytes."""
    return _minhash_of(_hashes32(items))


def _minhash_of(hashes: np.ndarray) -> bytes:
    """The MinHash of items already hashed (by shingle_hash), as bytes."""
    return bytes(_minimums(hashes).tobytes())


#: Items hashed NUM_PERM ways at a time: a matrix of theirs is 512 bytes an item, so a page
#: of a million words (a hostile one: crawl.max_size is 10 MB) took 1.8 GB at once.
_CHUNK = 8192


def _minimums(hashes: np.ndarray) -> np.ndarray:
    """The MinHash values (NUM_PERM) of items already hashed."""
    if not len(hashes):
        return np.full(NUM_PERM, np.iinfo(_DTYPE).max, dtype=_DTYPE)
    if len(hashes) > _CHUNK:
        hashes = np.unique(hashes)  # a repeated item changes no minimum
        minimums = _minimums(hashes[:_CHUNK])
        for start in range(_CHUNK, len(hashes), _CHUNK):
            np.minimum(minimums, _minimums(hashes[start : start + _CHUNK]), out=minimums)
        return minimums
    found: np.ndarray = _permuted(hashes).min(axis=1)
    return found


def _permuted(hashes: np.ndarray) -> np.ndarray:
    """Items already hashed, hashed by each permutation: a row per permutation, so that
    each minimum is taken along contiguous memory (a column per item took a sixth longer:
    0.09 against 0.077 ms a 900-word text)."""
    a, b = _permutations()
    values: np.ndarray = a[:, None] * _fmix32(hashes)
    values += b[:, None]
    return values


def check(data: bytes) -> bytes:
    """``data`` when it is a stored signature (NUM_PERM values); ValueError otherwise."""
    if len(data) != NUM_PERM * _SIZE:
        raise ValueError(
            f"a stored signature has {len(data) / _SIZE:g} values, not {NUM_PERM}"
        )
    return bytes(data)


def jaccard(one: bytes, other: bytes) -> float:
    """The estimated Jaccard similarity of two signatures (as datasketch's MinHash.jaccard)."""
    return float(np.count_nonzero(_values(one) == _values(other))) / NUM_PERM


@dataclass(frozen=True)
class Signature:
    """What clustering knows of one article's text: its signatures, as bytes."""

    full: bytes  # of every shingle of the text
    lede: bytes  # of the shingles of the first LEDE_WORDS words
    #: Of the shingles of the first LEDE_WORDS words after the first paragraph (None for a
    #: text of one paragraph, or fewer than MIN_WORDS words after it): a regional copy
    #: under an opening of its own starts there as the wire does (see _ledes_after).
    second: bytes | None = None
    #: Of the first LEDE_WORDS words after its second and third paragraphs (those with
    #: MIN_WORDS words after them; see OPENING_PARAGRAPHS).
    later: tuple[bytes, ...] = field(default=(), repr=False)

    def to_bytes(self) -> tuple[bytes, bytes, bytes | None]:
        """(full, lede, ledes) as bytes: the ledes after its first paragraphs one after the
        other, the second lede's first (None without one)."""
        if self.second is None:
            return self.full, self.lede, None
        return self.full, self.lede, self.second + b"".join(self.later)

    @classmethod
    def from_bytes(cls, full: bytes, lede: bytes, ledes: bytes | None = None) -> Signature:
        """A signature stored by :meth:`to_bytes` (ValueError when it is not one); stored
        before schema 62, ``ledes`` is the second lede's alone."""
        if ledes is None:
            return cls(check(full), check(lede))
        size = NUM_PERM * _SIZE
        if not ledes or len(ledes) % size or len(ledes) > OPENING_PARAGRAPHS * size:
            raise ValueError(f"stored ledes of {len(ledes) / size:g} signatures")
        return cls(check(full), check(lede), ledes[:size],
                   tuple(ledes[at : at + size] for at in range(size, len(ledes), size)))

    @cached_property
    def indexed(self) -> tuple[np.ndarray, np.ndarray, float]:
        """What StoryIndex looks it up and keeps it by: its band keys, the low bits of its
        values (_kept) and its text's shingles as the full signature tells. Computed once:
        an article is looked up, then added (0.017 ms an article)."""
        keys = self._band_keys
        return (keys[: len(keys) - (LATER_BANDS + SECOND_BANDS * len(self.later))], _kept(self),
                _shingles(self.full))

    @cached_property
    def _band_keys(self) -> np.ndarray:
        """The band keys of its signatures, its later ledes' included (_band_keys)."""
        return _band_keys(self)

    @cached_property
    def openings(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What StoryIndex looks a new article up by besides :attr:`indexed`: the band keys
        of its later ledes (the first SECOND_BANDS bands of each, in the lede's tables),
        those of its lede in the later ledes' tables (where an indexed article's later
        ledes are), and what the index would keep of its second and later ledes, a row
        each (none for a text of one paragraph): where the paragraphs of a text's own
        opening end, another text's lede may start."""
        keys = self._band_keys
        later = len(keys) - SECOND_BANDS * len(self.later)
        lede = keys[later - LATER_BANDS : later]
        if self.second is None:
            return keys[later:], lede, np.zeros((0, NUM_PERM), dtype=_KEPT)
        ledes = np.frombuffer(self.second + b"".join(self.later), dtype=_DTYPE)
        return keys[later:], lede, ledes.reshape(-1, NUM_PERM).astype(_KEPT)

    @cached_property
    def later_bits(self) -> np.ndarray:
        """What the index keeps of its later ledes (_later_bits)."""
        return _later_bits(self.later)


#: A text too short to sign (a feed's summary where the page could not be read, a
#: breaking line) joins the story of an article of another site under the same headline
#: whose first 2 * LEDE_WORDS words hold its first OPENING_WORDS words in a row (all of them
#: when it has fewer, at least MIN_OPENING): three sites that answered 403 each kept the
#: wire's first paragraph under the wire's headline, three stories, mailed again.
OPENING_WORDS = 12
MIN_OPENING = 8


#: A text that is only its headline (a Google News item whose link names no publisher's page,
#: a feed item without a description) joins another site's article under the same headline
#: when the headline has HEADLINE_WORDS words or more: shorter ones ("Live updates", "Weather
#: forecast") are many sites' at once.
HEADLINE_WORDS = 6


def only_headline(text: str, title: str) -> bool:
    """Whether ``text`` is ``title`` alone, a headline of HEADLINE_WORDS words or more."""
    words = _word_bytes(text)
    return len(words) >= HEADLINE_WORDS and words == _word_bytes(title)


def opens_as(short: str, other: str) -> bool:
    """Whether ``short`` opens as ``other`` does (see OPENING_WORDS)."""
    mine = _word_bytes(short)[:OPENING_WORDS]
    if len(mine) < MIN_OPENING:
        return False
    theirs = _word_bytes(other)[: 2 * LEDE_WORDS]
    return any(theirs[i : i + len(mine)] == mine for i in range(len(theirs) - len(mine) + 1))


def signature(text: str) -> Signature | None:
    """The signature of an article's extracted text; None when it is too short to tell
    (fewer than MIN_WORDS words): such an article is a story of its own."""
    tokens = _word_bytes(text)
    if len(tokens) < MIN_WORDS:
        return None
    # The ledes' shingles are runs of the text's: each shingle is hashed once, and each
    # MinHash is the minimums over its run.
    hashes = _shingle_hashes(_word_hashes(tokens))
    lede = min(len(tokens), LEDE_WORDS) - SHINGLE + 1
    full, lede_values, *rest = _run_minimums(
        hashes, [(0, len(hashes)), (0, lede), *_ledes_after(text, len(tokens))])
    return Signature(bytes(full.tobytes()), bytes(lede_values.tobytes()),
                     bytes(rest[0].tobytes()) if rest else None,
                     tuple(bytes(values.tobytes()) for values in rest[1:]))


def _ledes_after(text: str, count: int) -> list[tuple[int, int]]:
    """Which of the shingles of ``text`` (of ``count`` words) are those of the first
    LEDE_WORDS words after each of its first OPENING_PARAGRAPHS paragraphs (lines, blank
    ones passed over), as (start, end), while MIN_WORDS words or more follow: the first is
    its second lede, the others its later ones (Signature.later). One walk over those
    lines alone (the whole text split into lines cost a long article 30 us).

    A regional copy under its own opening ("HOUSTON - Oil executives ...", then the wire's
    paragraphs) holds a brief of the wire's first paragraphs whole, yet alike at a quarter
    in full and with ledes apart their bands did not meet: a brief mailed in one batch and
    the copy in the next were two stories, two emails. This lede of the copy is the brief's
    lede. The wire's story updated hours later opens with two new paragraphs: a site's copy
    of it cut to its first seven paragraphs was alike with the original's copies at 0.45
    (held at 0.7 in them), its lede and second lede the new paragraphs', a story of its own
    mailed again; its lede after the second paragraph is the original's lede."""
    runs: list[tuple[int, int]] = []
    skipped = 0
    rest = text.lstrip()
    for _ in range(OPENING_PARAGRAPHS):
        line, cut, rest = rest.partition("\n")
        if not cut:
            break
        skipped += len(_word_bytes(line))
        if count - skipped < MIN_WORDS:
            break
        runs.append((skipped, skipped + min(count - skipped, LEDE_WORDS) - SHINGLE + 1))
        rest = rest.lstrip()
    return runs


def _run_minimums(hashes: np.ndarray, runs: Sequence[tuple[int, int]]) -> list[np.ndarray]:
    """The MinHash values of each run (start, end) of items already hashed, none empty:
    the items hashed NUM_PERM ways once for every run when they fit in one matrix (_CHUNK
    items; a text's three signatures each made its own cost a cold cycle's clustering 0.02
    ms an article)."""
    if len(hashes) > _CHUNK:
        return [_minimums(hashes[start:end]) for start, end in runs]
    values = _permuted(hashes)
    return [values[:, start:end].min(axis=1) for start, end in runs]


#: Articles whose signatures, and band keys, are kept in one block of the index.
_BLOCK = 4096
#: Articles added to the index before their band entries are merged into their block's
#: sorted arrays.
_PENDING = 512
#: The top bits of a band key: which of the 2 * BANDS + LATER_BANDS tables it is in.
_TABLE_BITS = 7
_HASH_MASK = np.uint64((1 << (32 - _TABLE_BITS)) - 1)
_TABLES = (np.arange(2 * BANDS, dtype=np.uint64) << np.uint64(32 - _TABLE_BITS))
#: The tables of an indexed article's later ledes: the first LATER_BANDS bands of each,
#: where a new article's lede meets them (in tables of their own, so that what is found by
#: them is known: a brief over the wire's background paragraph meets the later lede of
#: every story that has that paragraph third).
_TABLES_LATER = (np.arange(2 * BANDS, 2 * BANDS + LATER_BANDS, dtype=np.uint64)
                 << np.uint64(32 - _TABLE_BITS))
_LEDE_TABLES = _TABLES[BANDS : BANDS + SECOND_BANDS]
#: The tables of the keys of a signature (_band_keys), by how many ledes after paragraphs it
#: has: the first SECOND_BANDS bands of the second and later ledes in the lede's tables,
#: where the other text's lede meets them, and the first LATER_BANDS of the later ledes and
#: of the lede in the later ledes' tables.
_TABLES_LEDES = [
    np.concatenate([_TABLES, *[_LEDE_TABLES] * min(count, 1), *[_TABLES_LATER] * (count - 1),
                    _TABLES_LATER, *[_LEDE_TABLES] * (count - 1)])
    for count in range(OPENING_PARAGRAPHS + 1)]
_KEY = np.uint32  # a band key
_OFFSET = np.uint16  # a row's place in its block (so _BLOCK is at most 65,536)


def _band_keys(sig: Signature) -> np.ndarray:
    """The key of each band of the signatures: the full text's bands, the lede's, the
    second lede's first SECOND_BANDS in the lede's tables, each later lede's first
    LATER_BANDS in the later ledes' tables (what the index keeps: Signature.indexed); then
    what a new article is looked up by besides (Signature.openings): the lede's first
    LATER_BANDS in the later ledes' tables and each later lede's first SECOND_BANDS in the
    lede's. A key is a 32-bit hash of the band's values, with the table's number in its top
    bits. Two equal bands have the same key; two different ones, rarely (one in 33 million
    within a table: it only adds a candidate, which the similarity check rules out). In one
    pass: one for the later ledes apart cost a lookup 15 us more."""
    data = sig.full + sig.lede + (sig.second or b"") + b"".join(sig.later)
    signatures = np.frombuffer(data, dtype=_DTYPE).reshape(-1, NUM_PERM)
    bands = signatures[:, : BANDS * ROWS].reshape(len(signatures), BANDS, ROWS)
    return _keys(np.concatenate([bands[:2].reshape(-1, ROWS),
                                 bands[2:3, :SECOND_BANDS].reshape(-1, ROWS),
                                 bands[3:, :LATER_BANDS].reshape(-1, ROWS),
                                 bands[1, :LATER_BANDS],
                                 bands[3:, :SECOND_BANDS].reshape(-1, ROWS)]),
                 _TABLES_LEDES[len(bands) - 2])


_PER_BYTE = 8 // LATER_BITS  # values' low bits in one byte
_LOW = np.uint8((1 << LATER_BITS) - 1)
_SHIFTS = np.arange(0, 8, LATER_BITS, dtype=np.uint8)
_PACK = (np.uint8(1) << _SHIFTS).astype(np.uint8)


def _later_bits(later: Sequence[bytes]) -> np.ndarray:
    """What the index keeps of later ledes: the low LATER_BITS bits of each value (the low
    byte of each, little-endian), _PER_BYTE values a byte (LATER_BITS * NUM_PERM / 8 bytes
    a lede)."""
    low = np.frombuffer(b"".join(later), dtype=np.uint8)[:: _SIZE] & _LOW
    return low.reshape(len(later), -1, _PER_BYTE) @ _PACK


def _keys(bands: np.ndarray, tables: np.ndarray) -> np.ndarray:
    """The key of each band (a row of ROWS values) in its table of ``tables`` (see
    _band_keys)."""
    values = bands.astype(np.uint64)
    key = np.zeros(len(tables), dtype=np.uint64)
    for column in range(ROWS):
        key = (key ^ values[:, column]) * np.uint64(0x100000001B3)  # FNV-1a over the values
        key ^= key >> np.uint64(29)
    keys: np.ndarray = (((key ^ (key >> np.uint64(32))) & _HASH_MASK) | tables).astype(_KEY)
    return keys


class StoryIndex:
    """The signatures of recent articles and their stories, indexed for near-duplicates.

    The index holds every article of the story window, so it is kept compact: the signatures as
    the low 16 bits of their values (see _KEPT) in numpy blocks of _BLOCK articles, the articles
    and stories in typed arrays, and the LSH bands (the banding of datasketch's MinHashLSH for
    the threshold and LSH_WEIGHTS, one table per band of each signature) as a sorted array of
    32-bit band keys per block, with the place of each key's row in the block (16 bits). That is
    about 1.1 KB an article (30,000 articles of a large first crawl: about 33 MB; 1.0 KB and 31
    MB with 25 bands), against 6 KB with a dict of band hashes per band and 20 KB with MinHash
    objects and two MinHashLSH indexes; the later ledes' bands and bits add 80 bytes (fundus'
    texts: 34.9 -> 37.4 MB at 30,000). The newest articles' bands wait in a small dict until
    there are _PENDING of them, then are merged into their block's arrays: a merge copies one
    block's keys (at most 1.2 MB), never the whole index's (18 MB at 30,000 articles with 64-bit
    keys and 32-bit rows, twice over while both copies lived).
    """

    def __init__(self, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold
        self._rows: dict[int, int] = {}  # article id -> its row
        self._articles = array("q")  # row -> article id
        self._stories = array("q")  # row -> story id
        self._sources = array("q")  # row -> source id (0: unknown)
        self._sizes = array("d")  # row -> its text's shingles, as its signature tells
        self._blocks: list[np.ndarray] = []  # _BLOCK rows each: full then lede values
        self._later: list[np.ndarray] = []  # _BLOCK rows each: its later ledes' bits
        self._laters = array("B")  # row -> how many later ledes it has
        self._keys: list[np.ndarray] = []  # per block: the band keys of its rows, sorted
        self._keyrows: list[np.ndarray] = []  # and the row of each
        self._pending: dict[int, int | list[int]] = {}  # band key -> row(s), not merged yet
        self._pending_rows = 0

    def __len__(self) -> int:
        return len(self._articles)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._rows

    def add(self, article_id: int, story_id: int, sig: Signature, source: int = 0) -> None:
        """Index ``article_id`` (a member of ``story_id``, from ``source``); an article
        already indexed is left as it is."""
        if article_id in self._rows:
            return
        row = len(self._articles)
        block, offset = divmod(row, _BLOCK)
        if block == len(self._blocks):
            self._blocks.append(np.empty((_BLOCK, 2 * NUM_PERM), dtype=_KEPT))
            self._later.append(np.empty(
                (_BLOCK, OPENING_PARAGRAPHS - 1, NUM_PERM // _PER_BYTE), dtype=np.uint8))
            self._keys.append(np.zeros(0, dtype=_KEY))
            self._keyrows.append(np.zeros(0, dtype=_OFFSET))
        keys, kept, size = sig.indexed
        self._blocks[block][offset] = kept
        if sig.later:
            self._later[block][offset, : len(sig.later)] = sig.later_bits
        self._laters.append(len(sig.later))
        self._rows[article_id] = row
        self._articles.append(article_id)
        self._stories.append(story_id)
        self._sources.append(source)
        self._sizes.append(size)
        for key in keys.tolist():
            bucket = self._pending.get(key)
            if bucket is None:
                self._pending[key] = row
            elif isinstance(bucket, int):
                self._pending[key] = [bucket, row]
            else:
                bucket.append(row)
        self._pending_rows += 1
        if self._pending_rows >= _PENDING:
            self._merge()

    def update(self, article_id: int, story_id: int, sig: Signature, source: int = 0) -> None:
        """Index the new text of ``article_id``, edited in place (a brief rewritten into the
        full story): its later copies are compared with what it says now. Its old signature
        stays in the index under the same story, which it can only still find."""
        self._rows.pop(article_id, None)
        self.add(article_id, story_id, sig, source)

    def _merge(self) -> None:
        """Move the pending band entries into their blocks' sorted arrays."""
        keys: list[int] = []
        rows: list[int] = []
        for key, bucket in self._pending.items():
            for row in [bucket] if isinstance(bucket, int) else bucket:
                keys.append(key)
                rows.append(row)
        all_keys = np.array(keys, dtype=_KEY)
        all_rows = np.array(rows, dtype=np.int64)
        blocks = all_rows // _BLOCK
        for block in np.unique(blocks).tolist():
            mine = blocks == block
            new_keys, new_rows = all_keys[mine], (all_rows[mine] % _BLOCK).astype(_OFFSET)
            order = np.argsort(new_keys, kind="stable")
            new_keys, new_rows = new_keys[order], new_rows[order]
            at = np.searchsorted(self._keys[block], new_keys, side="right")
            self._keys[block] = np.insert(self._keys[block], at, new_keys)
            self._keyrows[block] = np.insert(self._keyrows[block], at, new_rows)
        self._pending.clear()
        self._pending_rows = 0

    def _candidates(self, *groups: np.ndarray) -> list[set[int]]:
        """The rows that share a band key with each group of keys (all searched at once:
        each block's two binary searches are most of a lookup's time once its keys are out
        of the processor's cache)."""
        keys = np.concatenate(groups)
        group = np.repeat(np.arange(len(groups)), [len(some) for some in groups])
        found: list[set[int]] = [set() for _ in groups]
        for block, (block_keys, offsets) in enumerate(zip(self._keys, self._keyrows, strict=True)):
            left = np.searchsorted(block_keys, keys, side="left")
            right = np.searchsorted(block_keys, keys, side="right")
            (hit,) = np.nonzero(left < right)
            base = block * _BLOCK
            for at, start, end in zip(group[hit].tolist(), left[hit].tolist(),
                                      right[hit].tolist(), strict=True):
                found[at].update(base + offset for offset in offsets[start:end].tolist())
        for into, some in zip(found, groups, strict=True):
            for key in some.tolist():
                bucket = self._pending.get(key)
                if isinstance(bucket, int):
                    into.add(bucket)
                elif bucket is not None:
                    into.update(bucket)
        return found

    def find(self, sig: Signature, source: int = 0) -> int | None:
        """The story of the indexed article most similar to ``sig``, when one is similar
        enough (estimated Jaccard similarity of the full text or of the lede at least the
        threshold; when the ledes differ, the shorter text held at CONTAINED_IN_FULL in the
        longer; alike by the lede alone, held at CONTAINED_LEDE); None when
        the article starts a new story. The lede alone does not join two articles of one
        ``source``, a site (site_key; 0: unknown): a site that opens its articles with the
        same note (an editor's note, "listen to this article") would make all of them one
        story, alerted once, whichever of its feeds they came through; its own copies of a
        story are alike in full. Nor does the rest of the text join two articles of one site
        whose ledes are alike below SITE_LEDES: what a site puts under each article is its
        own, and a copy of a story on its own site opens as the story does."""
        found = self.matches(sig, source)
        return found[0] if found else None

    def matches(self, sig: Signature, source: int = 0) -> list[int]:
        """Every story an indexed article of which is similar enough to ``sig`` (by the
        rules of :meth:`find`), the most similar first."""
        keys, kept, size = sig.indexed
        later, lede, openings = sig.openings
        found, by_later, by_theirs = self._candidates(
            keys[: len(keys) - LATER_BANDS * len(sig.later)], later, lede)
        rows = sorted(found | by_later | by_theirs)
        return self._alike(kept, size, source, rows, openings, (by_later | by_theirs) - found,
                           by_theirs) if rows else []

    def _alike(
        self, mine: np.ndarray, size: float, source: int, rows: list[int],
        openings: np.ndarray | None = None, by_later: Collection[int] = (),
        by_theirs: Collection[int] = (),
    ) -> list[int]:
        """The stories of ``rows`` whose articles are similar enough to the text of ``mine``
        (what the index keeps of its signature) of ``size`` shingles, the most similar first
        (of equally similar articles, the first indexed). Their ledes are compared with the
        text's own and with ``openings``, what the index would keep of its ledes after its
        first paragraphs (Signature.openings): alike with one at OPENING_LEDES, they are alike
        in ledes; and those of ``by_theirs``, whose later ledes' bands met its lede's, so
        when one of those is alike with its lede. Those of ``by_later``, found by its ledes
        after its second and third paragraphs or by their later ledes alone, are alike so or
        not at all."""
        theirs = np.stack([self._blocks[row // _BLOCK][row % _BLOCK] for row in rows])
        same = theirs == mine
        lede = np.count_nonzero(same[:, NUM_PERM:], axis=1)
        alike_ledes = lede.copy()
        unaligned = np.array([row in by_later for row in rows])
        if openings is not None and len(openings):
            # A regional copy under a lede of its own, the wire's update under two new
            # paragraphs: the other's lede is where those end.
            opening = np.count_nonzero(
                theirs[:, None, NUM_PERM:] == openings[None, :, :], axis=2).max(axis=1)
            opening[opening < OPENING_LEDES * NUM_PERM] = 0
            lede = np.maximum(lede, opening)
            unaligned &= opening == 0
        # And the other way round: the update stored first, the original's lede is where
        # the update's two new paragraphs end.
        if by_theirs:
            later = self._opened_by(mine[NUM_PERM:], rows, by_theirs)
            lede = np.maximum(lede, later)
            unaligned &= later == 0
        full = np.count_nonzero(same[:, :NUM_PERM], axis=1)
        sizes = np.array([self._sizes[row] for row in rows])
        held = _contained(full / NUM_PERM, size, sizes)
        # The shorter text's shingles that the ledes share are held in the other text: of a
        # brief of the wire's first sentences (a feed's summary kept when the page failed),
        # most, where the full signatures of a long text and a short one tell little.
        common = _common(lede / NUM_PERM, np.minimum(size, _LEDE_SHINGLES),
                         np.minimum(sizes, _LEDE_SHINGLES))
        held = np.maximum(held, np.minimum(1.0, common / np.minimum(size, sizes)))
        full[(lede < LEDES_DIFFER * NUM_PERM) & (held < CONTAINED_IN_FULL)] = 0
        lede[held < CONTAINED_LEDE] = 0
        # What the ledes after its first paragraphs alone found shares a paragraph with the
        # text, which may be most of a short text: one story only where the text's own
        # paragraphs end and the other's lede starts (OPENING_LEDES).
        full[unaligned] = lede[unaligned] = 0
        held[unaligned] = 0
        if source:
            same = np.array([self._sources[row] == source for row in rows])
            lede[same] = 0
            # Two articles of one site that open differently are two stories however much
            # of the rest they share: that rest is the site's own closing block (a
            # company's "About", disclaimer and contacts five times as long as each of its
            # releases: held at 0.84, one story, the layoffs never alerted).
            other_opening = same & (alike_ledes < SITE_LEDES * NUM_PERM)
            full[other_opening] = 0
            held[other_opening] = 0
        scores = np.maximum(full, lede) / NUM_PERM
        # A copy held whole in the other text is one of it, however trimmed (the band keys
        # found it: alike at about half or more).
        scores = np.where(held >= CONTAINED_IN_FULL, np.maximum(scores, held), scores)
        best: dict[int, tuple[float, int]] = {}  # story -> (-score, article id)
        # By article id, so that the first of equally similar articles wins.
        for article, row, score in zip(
            (self._articles[r] for r in rows), rows, scores.tolist(), strict=True
        ):
            story = self._stories[row]
            if score >= self.threshold and (story not in best or -score < best[story][0]):
                best[story] = (-score, article)
        return sorted(best, key=best.__getitem__)

    def _opened_by(self, lede: np.ndarray, rows: list[int], among: Collection[int]) -> np.ndarray:
        """For each of ``rows``, how alike its later ledes are with ``lede`` (what the index
        keeps of a lede), as values in common of NUM_PERM, the best of them: 0 unless alike
        at OPENING_LEDES (the low LATER_BITS bits of two values of different texts agree
        once in 2 ** LATER_BITS, which the comparison allows for), or not ``among`` those
        whose later ledes' bands met the lede's."""
        counts = np.array([self._laters[row] if row in among else 0 for row in rows])
        alike = np.zeros(len(rows), dtype=np.int64)
        (some,) = np.nonzero(counts)
        if not len(some):
            return alike
        packed = np.stack([self._later[rows[at] // _BLOCK][rows[at] % _BLOCK] for at in some])
        theirs = (packed[..., None] >> _SHIFTS) & _LOW
        agree = np.count_nonzero(
            theirs.reshape(len(some), -1, NUM_PERM) == (lede & _LOW), axis=2)
        agree[np.arange(OPENING_PARAGRAPHS - 1) >= counts[some][:, None]] = 0
        chance = 1.0 / (1 << LATER_BITS)
        best = (agree.max(axis=1) - chance * NUM_PERM) / (1.0 - chance)
        alike[some] = np.where(best >= OPENING_LEDES * NUM_PERM, np.rint(best), 0)
        return alike

    def one_story(self, story: int, other: int) -> bool:
        """Whether an indexed article of ``other`` is similar enough to one of ``story``
        (by the rules of :meth:`find`), compared without the LSH bands. A brief of the
        wire's first paragraphs and a regional copy under its own opening are alike at a
        quarter, and their bands rarely meet: found before the wire's text, they were two
        stories, and the wire joined one of them (two alerts for one story)."""
        stories = np.frombuffer(self._stories, dtype=np.int64)
        mine = np.flatnonzero(stories == story).tolist()
        for row in np.flatnonzero(stories == other).tolist():
            kept = self._blocks[row // _BLOCK][row % _BLOCK]
            if mine and self._alike(kept, self._sizes[row], self._sources[row], mine):
                return True
        return False

    def merge(self, story: int, into: int) -> None:
        """Make the indexed articles of ``story`` members of ``into``."""
        for row in np.flatnonzero(np.frombuffer(self._stories, dtype=np.int64) == story):
            self._stories[int(row)] = into

    def stories(self) -> dict[int, int]:
        """Every indexed article's story (article id → story id)."""
        return dict(zip(self._articles, self._stories, strict=True))


def copy_story(
    sig: Signature, site: int, candidates: Sequence[tuple[int, int, bytes, bytes, str]]
) -> int | None:
    """The story of the article of ``site`` (site_key) that ``sig`` is a copy of (alike at
    COPY, by the rules of two articles of one site, see StoryIndex.find), among
    ``candidates`` (article id, story id, full and lede signature, URL: older articles of
    that site that share a band with it); None when there is none."""
    if not candidates:
        return None
    index = StoryIndex(COPY)
    for article_id, story_id, full, lede, _ in sorted(candidates):
        try:
            index.add(article_id, story_id, Signature.from_bytes(full, lede), site)
        except ValueError:  # an unreadable stored signature: no copy of anything
            continue
    return index.find(sig, site) if len(index) else None


def _shingles(full: bytes) -> float:
    """How many different shingles the text of the full signature ``full`` has, as its
    minimums tell (datasketch's MinHash.count(): each of NUM_PERM minimums of n uniform
    values is about 1 / (n + 1) of their range; within a tenth)."""
    values = _values(full).astype(np.float64) / float(np.iinfo(_DTYPE).max)
    return max(1.0, NUM_PERM / max(float(values.sum()), 1e-12) - 1.0)


def _contained(alike: np.ndarray, mine: float, theirs: np.ndarray) -> np.ndarray:
    """How much of the shorter text of each pair the longer one holds (its shingles'
    share), from their Jaccard similarity ``alike`` and their sizes: the common shingles
    are alike * (size + size) / (1 + alike). A trimmed copy is held whole in its original
    (alike at its length's share); an analysis that quotes a wire's lede holds little of
    it."""
    held: np.ndarray = np.minimum(1.0, _common(alike, mine, theirs) / np.minimum(mine, theirs))
    return held


def _common(alike: np.ndarray, mine: Any, theirs: np.ndarray) -> np.ndarray:
    """How many shingles two sets alike at ``alike`` of ``mine`` and ``theirs`` shingles
    share: alike * (mine + theirs) / (1 + alike)."""
    common: np.ndarray = alike * (mine + theirs) / (1.0 + alike)
    return common


def _kept(sig: Signature) -> np.ndarray:
    """What the index keeps of a signature: the low bits of its values, full then lede."""
    return np.frombuffer(sig.full + sig.lede, dtype=_DTYPE).astype(_KEPT)


def _values(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=_DTYPE)

