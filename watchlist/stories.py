"""Stories: near-duplicate articles (syndicated wire copies, the same text under another
headline, a trimmed or extended version, light edits) grouped as one story.

Pure logic, no SQL (see ARCHITECTURE.md §6): an article's extracted text is normalized like
the topic matcher normalizes it (lower case, accents folded), cut into words, and summarized
by two MinHash signatures (``NUM_PERM`` permutations) of its 5-word shingles — one of the
whole text and one of the lede (the first ``LEDE_WORDS`` words). :class:`StoryIndex` keeps
the signatures of recent articles in two LSH indexes (threshold ``THRESHOLD``); an article
joins the story of a candidate from either index whose estimated Jaccard similarity, on
either signature, is at least ``THRESHOLD`` (the best one when several are). The lede
signature catches copies trimmed or extended a lot (same opening, different length); the
full one catches copies whose opening was edited.

Articles with fewer than ``MIN_WORDS`` words (a feed summary, a photo caption) have no
signature: each is a story of its own.

Signatures are stored as bytes (:func:`to_bytes` / :func:`from_bytes`); they are only
comparable with signatures made with the same parameters and hashing scheme, which
``SCHEME`` pins.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from .query import normalize

if TYPE_CHECKING:
    # datasketch pulls in scipy (half a second): it loads where a signature is made.
    from datasketch import MinHash

NUM_PERM = 128
SHINGLE = 5  # words per shingle
LEDE_WORDS = 60  # the lede: this many first words of the text
MIN_WORDS = 30  # shorter texts are a story of their own
#: New articles are compared with the articles fetched this long before (the story window).
WINDOW = timedelta(days=7)
THRESHOLD = 0.5  # LSH threshold and the estimated Jaccard similarity that confirms it
SCHEME = "affine32"  # datasketch's hashing scheme: 32-bit hash values
_DTYPE = np.uint32
_SIZE = np.dtype(_DTYPE).itemsize  # bytes per stored signature value
_SEED = 1
_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The words of ``text``, lower case and accent-folded (like topic matching sees them)."""
    return _WORD.findall(normalize(text))


def shingles(tokens: Sequence[str], size: int = SHINGLE) -> set[bytes]:
    """The distinct runs of ``size`` consecutive words (the whole text when shorter)."""
    if len(tokens) <= size:
        return {" ".join(tokens).encode()} if tokens else set()
    return {" ".join(tokens[i : i + size]).encode() for i in range(len(tokens) - size + 1)}


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The permutation parameters, made once (every signature shares them)."""
    from datasketch import MinHash

    template = MinHash(num_perm=NUM_PERM, seed=_SEED, scheme=SCHEME)
    a, b = template.permutations
    return (a, b)


def minhash(items: Iterable[bytes]) -> MinHash:
    """The MinHash signature of a set of shingles."""
    from datasketch import MinHash

    signature = MinHash(num_perm=NUM_PERM, seed=_SEED, scheme=SCHEME, permutations=_permutations())
    signature.update_batch(list(items))
    return signature


def to_bytes(signature: MinHash) -> bytes:
    """A signature as bytes, to store it."""
    return bytes(np.asarray(signature.hashvalues, dtype=_DTYPE).tobytes())


def from_bytes(data: bytes) -> MinHash:
    """A signature stored by :func:`to_bytes`."""
    from datasketch import MinHash

    values = np.frombuffer(data, dtype=_DTYPE)
    if len(values) != NUM_PERM:
        raise ValueError(f"a stored signature has {len(values)} values, not {NUM_PERM}")
    return MinHash(
        num_perm=NUM_PERM,
        seed=_SEED,
        scheme=SCHEME,
        hashvalues=values.copy(),
        permutations=_permutations(),
    )


@dataclass(frozen=True)
class Signature:
    """What clustering knows of one article's text."""

    full: MinHash  # of every shingle of the text
    lede: MinHash  # of the shingles of the first LEDE_WORDS words

    def to_bytes(self) -> tuple[bytes, bytes]:
        """(full, lede) as bytes."""
        return to_bytes(self.full), to_bytes(self.lede)

    @classmethod
    def from_bytes(cls, full: bytes, lede: bytes) -> Signature:
        """A signature stored by :meth:`to_bytes`."""
        return cls(from_bytes(full), from_bytes(lede))


def signature(text: str) -> Signature | None:
    """The signature of an article's extracted text; None when it is too short to tell
    (fewer than MIN_WORDS words): such an article is a story of its own."""
    tokens = words(text)
    if len(tokens) < MIN_WORDS:
        return None
    # The lede's shingles are the text's first ones: each shingle is hashed once, for both
    # signatures (a MinHash is a minimum, so a repeated shingle changes nothing).
    sha1, whole = hashlib.sha1, int.from_bytes
    hashes = [
        # datasketch's default hash (sha1_hash32): SHA-1's first 4 bytes, little-endian.
        whole(sha1(" ".join(tokens[i : i + SHINGLE]).encode()).digest()[:4], "little")
        for i in range(len(tokens) - SHINGLE + 1)
    ]
    lede = min(len(tokens), LEDE_WORDS) - SHINGLE + 1
    return Signature(_minhash_of(hashes), _minhash_of(hashes[:lede]))


def _minhash_of(hashes: list[int]) -> MinHash:
    """The MinHash of items already hashed (as datasketch's sha1_hash32 does)."""
    from datasketch import MinHash

    signature = MinHash(
        num_perm=NUM_PERM, seed=_SEED, scheme=SCHEME, permutations=_permutations(),
        hashfunc=_same,
    )
    signature.update_batch(hashes)
    return signature


def _same(value: int) -> int:
    return value


class StoryIndex:
    """The signatures of recent articles and their stories, indexed for near-duplicates.

    The index holds every article of the story window, so it is kept compact: each
    signature as its 32-bit values in bytes, and each LSH band (the banding datasketch's
    MinHashLSH chooses for the threshold) as a dict from the band's hash to the article (a
    list when several share it). That is about 5 KB per article, against 20 KB with a
    MinHash object per signature and two MinHashLSH indexes (a set per band and article):
    600 MB for the 30,000 articles of a large first crawl. A band-hash collision only adds
    a candidate, which the similarity check then rules out.
    """

    def __init__(self, threshold: float = THRESHOLD) -> None:
        from datasketch import MinHashLSH

        self.threshold = threshold
        self._bands = MinHashLSH(threshold=threshold, num_perm=NUM_PERM).hashranges
        # One table per band, for the full text's signature then the lede's.
        self._tables: list[dict[int, int | list[int]]] = [{} for _ in range(2 * len(self._bands))]
        self._articles: dict[int, tuple[int, bytes, bytes]] = {}

    def __len__(self) -> int:
        return len(self._articles)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._articles

    def _keys(self, full: bytes, lede: bytes) -> Iterator[tuple[dict[int, int | list[int]], int]]:
        """Each band table with the signature's key in it."""
        tables = iter(self._tables)
        for values in (full, lede):
            for start, end in self._bands:
                yield next(tables), hash(values[start * _SIZE : end * _SIZE])

    def add(self, article_id: int, story_id: int, sig: Signature) -> None:
        """Index ``article_id`` (a member of ``story_id``); an article already indexed is
        left as it is."""
        if article_id in self._articles:
            return
        full, lede = sig.to_bytes()
        self._articles[article_id] = (story_id, full, lede)
        for table, key in self._keys(full, lede):
            bucket = table.get(key)
            if bucket is None:
                table[key] = article_id
            elif isinstance(bucket, int):
                table[key] = [bucket, article_id]
            else:
                bucket.append(article_id)

    def find(self, sig: Signature) -> int | None:
        """The story of the indexed article most similar to ``sig``, when one is similar
        enough (estimated Jaccard similarity of the full text or of the lede at least the
        threshold); None when the article starts a new story."""
        full, lede = sig.to_bytes()
        candidates: set[int] = set()
        for table, key in self._keys(full, lede):
            bucket = table.get(key)
            if isinstance(bucket, int):
                candidates.add(bucket)
            elif bucket is not None:
                candidates.update(bucket)
        mine = (_values(full), _values(lede))
        best: tuple[float, int] | None = None
        for article_id in sorted(candidates):
            story_id, other_full, other_lede = self._articles[article_id]
            score = max(_jaccard(mine[0], other_full), _jaccard(mine[1], other_lede))
            if score >= self.threshold and (best is None or score > best[0]):
                best = (score, story_id)
        return best[1] if best else None

    def stories(self) -> dict[int, int]:
        """Every indexed article's story (article id → story id)."""
        return {article_id: story for article_id, (story, _, _) in self._articles.items()}


def _values(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=_DTYPE)


def _jaccard(values: np.ndarray, other: bytes) -> float:
    """The estimated Jaccard similarity of two signatures (as MinHash.jaccard)."""
    return float(np.count_nonzero(values == _values(other))) / NUM_PERM
